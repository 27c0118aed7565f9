/* DNS stub resolver (RFC 1035, AAAA records of RFC 3596), in the style of
 * libuv's uv_getaddrinfo: oasis_dns_resolve() starts a request and returns
 * its handle; the callback runs exactly once, later, from
 * oasis_stack_input() / oasis_stack_poll() (never from inside the call that
 * started it), unless the request is cancelled first.
 *
 * A resolver sits on one stack (borrowed; destroy the resolver before the
 * stack) and asks the configured servers (oasis_dns_set_servers) over UDP
 * from a random source port with a random ID (RFC 5452), both drawn from
 * a keyed PRF (SipHash under a key from the stack's secrets; never the
 * stack's PRNG, whose outputs give its state away), over IPv4 or IPv6 as
 * the server's address says. A reply
 * counts only when its source address and port, ID
 * and question all match and it was not sent to a broadcast or multicast
 * address (RFC 5452 9.1); anything else is counted and ignored. Each server
 * is tried in turn with a timeout on the stack's clock, for cfg.attempts
 * rounds (the timeout doubles each round). Queries carry an EDNS(0) OPT
 * record (RFC 6891) advertising cfg.edns_udp_size, so UDP answers up to
 * that size need no TCP; a UDP answer longer than the query allowed (that
 * size, or 512 without OPT: RFC 1035 4.2.1) is counted and ignored. A
 * server that answers an EDNS query with FORMERR or NOTIMP and no OPT does
 * not speak EDNS (RFC 6891 7): it is asked again at once without OPT, and
 * for the rest of that request (RFC 6891 6.2.2; other requests try EDNS
 * again). A truncated reply (TC=1) is asked
 * again over TCP (the stack's own TCP) from the same server; a TCP reply
 * that still says TC=1 is ignored (RFC 2181 9) and the next try goes on,
 * as it does at once when the TCP connection fails (refused by a RST, an
 * ICMP error): that try counts as unreachable, like a port unreachable
 * over UDP, and a request whose tries all end so says OASIS_DNS_ENETWORK;
 * a server that takes the TCP query and closes or resets the connection
 * with no answer failed that try (counted in servfail, OASIS_DNS_ESERVFAIL).
 * A referral (no answer, NS records and no SOA: a server that does not
 * recurse) is no NODATA (RFC 2308 2.2): the next server is asked. CNAME
 * chains are followed up to cfg.max_cname links (a loop ends sooner). Answers are cached for their TTL
 * (RFC 2181 section 8: at most 2^31-1 s, capped at cfg.max_ttl_s), negative
 * answers (NXDOMAIN, no data) for the SOA's TTL/MINIMUM (RFC 2308), at most
 * cfg.max_neg_ttl_s: no data for the type asked, a name error for the name
 * (RFC 2308 5: it answers A and AAAA requests alike); the cache holds at
 * most cfg.cache_entries names.
 *
 * With a TSIG key configured (cfg.tsig, RFC 8945; off by default), every
 * query, over UDP and TCP, is signed with HMAC-SHA256, and a reply is used
 * only after its TSIG verified: present, last, our key and algorithm, a
 * MAC of 16 to 32 octets that matches, Time Signed within Fudge of our
 * time. A reply that fails (unsigned, badly signed, a server's unsigned
 * BADKEY/BADSIG error) is counted and dropped and the try keeps waiting,
 * as for a forged reply (RFC 8945 5.4: such a reply is no acceptable
 * response; wait for a signed one until the request times out); a request
 * that got only such replies ends with OASIS_DNS_ETSIG. TSIG needs the
 * wall-clock time, which the stack's clock does not have: see
 * oasis_dns_set_time.
 *
 * Names are text ("files.test" or "files.test."), with RFC 1035 5.1's
 * escapes: "\." is a dot inside a label and "\DDD" the octet DDD, as
 * res->canonical writes them, so a canonical name can be asked again as
 * it is. With a search list
 * (oasis_dns_set_search, e.g. from DHCP option 119 or an RA's DNSSL), a
 * name without the final dot is also tried with each domain of the list
 * appended, as resolv.conf(5) does: a name with at least cfg.ndots dots
 * (1) is asked as given first, then with each domain; one with fewer, with
 * each domain first and as given last. The next candidate is asked only
 * when this one does not exist (NXDOMAIN), has no address of the family
 * (no data) or its servers failed (SERVFAIL); any other outcome (an
 * answer, a timeout, REFUSED...) ends the request. A request that found
 * no address ends as glibc's res_search says: with the outcome of the name
 * as given when that was asked first, else with no data if any candidate
 * had the name, else SERVFAIL if one failed so, else with the last
 * candidate's outcome (NXDOMAIN, a timeout...). A name ending in a dot
 * (not an escaped one) is asked as given only; the root (".") in the list
 * stands for the name as given, which is asked once, at its first place. res->name is the name as given, res->canonical
 * the full name that answered (or its CNAME target).
 * A name that is a dotted quad resolves to itself at once (on the next poll);
 * asked for OASIS_DNS_INET6 it ends then with OASIS_DNS_ENODATA, no server
 * asked (RFC 1123 2.1: it is checked for before any lookup).
 */
#ifndef OASIS_DNS_H
#define OASIS_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "oasis/addr.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oasis_stack oasis_stack;
typedef struct oasis_dns oasis_dns;         /* a resolver */
typedef struct oasis_dns_req oasis_dns_req; /* one pending resolution */

/* What a callback's status says. 0 is success; the errors are distinct from
 * the stack's oasis_err values (oasis_dns_strerror knows both). */
typedef enum oasis_dns_err {
    OASIS_DNS_OK = 0,
    OASIS_DNS_ENXDOMAIN = -100, /* the name does not exist (RCODE 3) */
    OASIS_DNS_ENODATA = -101,   /* the name exists but has no record of that type */
    OASIS_DNS_ESERVFAIL = -102, /* every server failed (RCODE 2, or another error RCODE, or
                                 * a TCP query taken and the connection closed or reset
                                 * with no answer) */
    OASIS_DNS_EREFUSED = -103,  /* every server refused (RCODE 5) or only referred */
    OASIS_DNS_ETIMEDOUT = -104, /* no server answered in time */
    OASIS_DNS_EMALFORMED = -105,/* the answer could not be parsed */
    OASIS_DNS_ECNAME = -106,    /* CNAME chain longer than cfg.max_cname (or a loop) */
    OASIS_DNS_ENOSERVERS = -107,/* no server configured */
    OASIS_DNS_EBADNAME = -108,  /* the name is not a valid domain name */
    OASIS_DNS_ECANCELED = -109, /* the resolver was destroyed first */
    OASIS_DNS_ENOMEM = -110,    /* out of memory */
    OASIS_DNS_ENETWORK = -111,  /* no server could be reached (no route, port unreachable,
                                 * TCP connection after TC=1 refused, ...) */
    OASIS_DNS_ETSIG = -112,     /* replies came, but none with a TSIG that verified (RFC 8945) */
    OASIS_DNS_ENOTIME = -113    /* a TSIG key and no wall-clock time yet (oasis_dns_set_time) */
} oasis_dns_err;

/* Text for an OASIS_DNS_E* value (or any oasis_err); static, never NULL. */
const char *oasis_dns_strerror(int err);

/* Address families a resolution asks for. */
typedef enum oasis_dns_family {
    OASIS_DNS_INET = 4, /* A records */
    OASIS_DNS_INET6 = 6 /* AAAA records (RFC 3596) */
} oasis_dns_family;

#define OASIS_DNS_MAX_ADDRS 16     /* addresses handed to a callback */
#define OASIS_DNS_MAX_SERVERS 8
#define OASIS_DNS_MAX_SEARCH 6     /* search domains (resolv.conf's limit) */
#define OASIS_DNS_NAME_STRLEN 1025 /* a name as text, \DDD escapes and NUL included */
/* The default EDNS(0) UDP payload size: DNS Flag Day 2020's value, which
 * avoids IP fragmentation on most paths (an IPv6 minimum MTU of 1280 less
 * the IPv6 and UDP headers, with room to spare). */
#define OASIS_DNS_EDNS_UDP_SIZE 1232

typedef struct oasis_dns_result {
    const char *name;      /* the name asked for, as given */
    const char *canonical; /* the end of the CNAME chain (the name itself without one) */
    oasis_dns_family family;
    size_t count;          /* 1..OASIS_DNS_MAX_ADDRS */
    uint32_t addr[OASIS_DNS_MAX_ADDRS];     /* INET: host order (10.0.0.1 == 0x0a000001) */
    uint8_t addr6[OASIS_DNS_MAX_ADDRS][16]; /* INET6: network order */
    uint32_t ttl_s;        /* seconds the answer stays valid (remaining, if cached) */
    int from_cache;
} oasis_dns_result;

/* status 0: res holds at least one address. Otherwise res is NULL. res and
 * everything it points to are valid only during the callback. The handle is
 * gone once the callback returns. */
typedef void (*oasis_dns_cb)(oasis_dns_req *req, int status, const oasis_dns_result *res,
                             void *ud);

/* A TSIG key (RFC 8945) shared with the servers, e.g. from BIND's
 * `tsig-keygen -a hmac-sha256 NAME`. */
#define OASIS_DNS_TSIG_SECRET_MAX 128
typedef struct oasis_dns_tsig {
    const char *key_name;   /* the key's name, as the server knows it ("oasis-key.") */
    const char *algorithm;  /* "hmac-sha256" (NULL: the same), the only one taken */
    const uint8_t *secret;  /* the shared secret, decoded (not base64) */
    size_t secret_len;      /* 1..OASIS_DNS_TSIG_SECRET_MAX */
    uint16_t fudge_s;       /* the Fudge of our queries (0: 300 s, RFC 8945's advice) */
} oasis_dns_tsig;

typedef struct oasis_dns_config {
    uint16_t port;           /* servers' port (53) */
    uint64_t timeout_ns;     /* first try's wait per server (1 s), doubled each round */
    uint32_t attempts;       /* rounds over the server list (2) */
    uint64_t tcp_timeout_ns; /* whole TCP exchange after TC=1 (5 s) */
    uint32_t max_cname;      /* CNAME links followed (8) */
    uint32_t cache_entries;  /* names cached, positive and negative (64; 0: no cache) */
    uint32_t max_ttl_s;      /* cap on cached TTLs (86400) */
    uint32_t max_neg_ttl_s;  /* cap on negative answers' TTL (300) */
    /* EDNS(0) (RFC 6891): the requestor's UDP payload size put in each
     * query's OPT record (6.2.3), and the longest UDP answer accepted
     * (OASIS_DNS_EDNS_UDP_SIZE, 1232). 0 turns EDNS off: plain RFC 1035
     * queries, UDP answers of at most 512 octets. 1..511 are refused by
     * oasis_dns_create (OASIS_EINVAL) rather than sent: RFC 6891 6.2.5
     * has a responder read them as 512, so asking for less is a mistake. */
    uint16_t edns_udp_size;
    /* Ports never used as a query's source port (RFC 5452 9.2: "means to
     * avoid usage of certain ports"), e.g. ones the application will bind
     * later; copied by oasis_dns_create. At most OASIS_DNS_MAX_AVOID_PORTS
     * (else OASIS_EINVAL); NULL / 0: none. Ports the stack has bound are
     * skipped anyway. */
    const uint16_t *avoid_ports;
    size_t navoid_ports;
    /* TSIG (RFC 8945): NULL, the default, signs nothing; else every query
     * is signed with this key and only verified replies count. Copied by
     * oasis_dns_create (the secret too); OASIS_EINVAL for a bad key name,
     * another algorithm, or an empty or too long secret. */
    const oasis_dns_tsig *tsig;
    /* The search list's threshold (resolv.conf's ndots): a name with at
     * least this many dots is asked as given before the search domains
     * are tried (1; at most 15, else OASIS_EINVAL; 0: always as given
     * first). */
    uint32_t ndots;
} oasis_dns_config;

#define OASIS_DNS_MAX_AVOID_PORTS 1024

/* Fills cfg with the defaults above (NULL is ignored). */
void oasis_dns_config_init(oasis_dns_config *cfg);

/* Counters (metrics source "dns", see oasis_dns_add_metrics). */
typedef struct oasis_dns_counters {
    uint64_t requests;       /* oasis_dns_resolve calls accepted */
    uint64_t completed_ok;   /* callbacks with addresses */
    uint64_t failed;         /* callbacks with an error */
    uint64_t canceled;       /* requests cancelled by the application */
    uint64_t cache_hits;     /* answered from the cache (negative hits included) */
    uint64_t cache_misses;
    uint64_t cache_evictions;/* entries pushed out by the size bound */
    uint64_t cache_entries;  /* gauge */
    uint64_t udp_queries;    /* queries sent over UDP (retries included) */
    uint64_t tcp_queries;    /* queries sent over TCP (after TC=1) */
    uint64_t responses;      /* replies that matched a query */
    uint64_t mismatched;     /* replies ignored: wrong source, destination, ID or question */
    uint64_t malformed;      /* replies that did not parse, or TC=1 over TCP */
    uint64_t timeouts;       /* tries that got no answer in time */
    uint64_t truncated;      /* UDP replies with TC=1 */
    uint64_t nxdomain, nodata, servfail, refused; /* by RCODE; servfail also counts
                              * TCP connections closed with no answer */
    uint64_t cname_followed; /* CNAME links followed */
    uint64_t send_errors;    /* a query could not be sent (no route, no memory) */
    uint64_t referrals;      /* NOERROR, no answer, NS and no SOA: a server that does not
                              * recurse (RFC 2308 2.2); the next server is asked */
    uint64_t unreachable;    /* tries ended by an ICMP destination unreachable about the
                              * query (port closed, no route), or by a TCP connection
                              * after TC=1 that failed (RST, ICMP error): the next
                              * server is asked at once; if none answers,
                              * OASIS_DNS_ENETWORK */
    uint64_t oversized;      /* UDP replies with the query's ID longer than it allowed
                              * (edns_udp_size with OPT, 512 without): ignored */
    uint64_t edns_fallbacks; /* FORMERR or NOTIMP without OPT to an EDNS query (RFC 6891
                              * 7): the server asked again without OPT */
    uint64_t coalesced;      /* requests that joined the same question (name in any case,
                              * family) already being asked, instead of a second query
                              * (RFC 5452 5); they end with it */
    uint64_t search_next;    /* names the search list tried after the first one failed;
                              * each is counted in requests too, so requests less this
                              * is what the application asked */
    /* TSIG (RFC 8945 5.4), with cfg.tsig only. Every refused reply is
     * dropped; over UDP the try waits on, over TCP it ends. */
    uint64_t tsig_verified;  /* replies whose TSIG verified */
    uint64_t tsig_unsigned;  /* replies without a TSIG, or with an empty MAC (a server's
                              * unsigned BADKEY or BADSIG error, 5.3.2) */
    uint64_t tsig_badkey;    /* signed with another key name or algorithm */
    uint64_t tsig_badsig;    /* a MAC that does not verify */
    uint64_t tsig_badtime;   /* Time Signed more than Fudge away from our time */
    uint64_t tsig_badtrunc;  /* a MAC longer than 32 or shorter than 16 octets (5.2.2.1) */
    uint64_t tsig_errors;    /* verified replies whose TSIG Error is set (e.g. the server's
                              * BADTIME): this server failed, the next one is asked */
} oasis_dns_counters;

/* Creates a resolver on s; cfg NULL means the defaults. Returns 0,
 * OASIS_EINVAL (port, timeout_ns, attempts or tcp_timeout_ns 0;
 * timeout_ns or tcp_timeout_ns over an hour, attempts over 16,
 * cache_entries over 65536, edns_udp_size 1..511) or OASIS_ENOMEM. */
int oasis_dns_create(oasis_stack *s, const oasis_dns_config *cfg, oasis_dns **out);

/* Ends every pending request (callbacks with OASIS_DNS_ECANCELED, from
 * inside this call; oasis_dns_resolve from them is refused with
 * OASIS_EBUSY) and frees the resolver. Returns 0 (NULL is accepted),
 * or OASIS_EBUSY, freeing nothing, from inside one of its callbacks (this
 * call's own included): destroy it once the callback returned. */
int oasis_dns_destroy(oasis_dns *r);

/* The wall-clock time now, in seconds since 1970-01-01 UTC (at most
 * 2^48 - 1), which TSIG signs and checks (RFC 8945 4.2 Time Signed, 5.2.3).
 * The stack's clock only counts from an arbitrary origin (oasis/clock.h;
 * it may be virtual), so the application, which knows the date (time(),
 * an RTC, NTP), tells it here: the resolver keeps the offset and reads the
 * time later as unix_s plus the stack's clock since this call. Call it
 * before the first oasis_dns_resolve of a resolver with a TSIG key (which
 * refuses a name it must ask a server about with OASIS_DNS_ENOTIME until
 * then; literals and cached answers need no time), and again whenever the
 * wall clock is set. Returns 0 or OASIS_EINVAL. */
int oasis_dns_set_time(oasis_dns *r, uint64_t unix_s);

/* Replaces the server list (IPv4 or IPv6 addresses, mixed as wanted, at
 * most OASIS_DNS_MAX_SERVERS; copied). A server is asked over its own
 * family; the record type asked (A or AAAA) does not depend on it.
 * Requests in flight keep their list. Returns 0 or OASIS_EINVAL
 * (unspecified, multicast or limited broadcast address: no reply from
 * one is ever believed, RFC 5452 9.1; no family), the list then left as
 * it was. n == 0 clears it. */
int oasis_dns_set_servers_addr(oasis_dns *r, const oasis_ipaddr *addrs, size_t n);
/* 1 when a may be a server of oasis_dns_set_servers_addr: an IPv4 or IPv6
 * unicast address (not unspecified, multicast or 255.255.255.255); else
 * 0 (a NULL a too). For a configuration front end that checks before it
 * builds the list. */
int oasis_dns_server_addr_ok(const oasis_ipaddr *a);
/* Copies up to max servers; returns how many there are (0 for a NULL
 * resolver). */
size_t oasis_dns_servers_addr(const oasis_dns *r, oasis_ipaddr *addrs, size_t max);

/* The same with host-order IPv4 addresses; oasis_dns_servers copies and
 * counts the IPv4 servers only. */
int oasis_dns_set_servers(oasis_dns *r, const uint32_t *addrs, size_t n);
size_t oasis_dns_servers(const oasis_dns *r, uint32_t *addrs, size_t max);

/* Sets the search list (see the top): up to OASIS_DNS_MAX_SEARCH domains,
 * in the order they are tried, copied. n == 0 clears it. Requests in
 * flight keep the list they started with. Returns 0, OASIS_EINVAL (NULL
 * resolver, n over the limit, a NULL domain) or OASIS_DNS_EBADNAME (a
 * domain that is no DNS name; "." is the root, allowed). */
int oasis_dns_set_search(oasis_dns *r, const char *const *domains, size_t n);
/* The search list's length; copies up to max domains as text (no final
 * dot) into out. */
size_t oasis_dns_search(const oasis_dns *r, char (*out)[OASIS_DNS_NAME_STRLEN], size_t max);

/* Starts resolving name. Returns 0 and sets *req (may be NULL) to the
 * handle, or refuses (the callback never runs) with OASIS_EINVAL (NULL
 * name or callback, bad family), OASIS_DNS_EBADNAME, OASIS_DNS_ENOSERVERS,
 * OASIS_DNS_ENOTIME (a TSIG key, no oasis_dns_set_time yet, a server to
 * ask), OASIS_ENOMEM,
 * OASIS_EBUSY (from a callback of oasis_dns_destroy). The same question
 * (the name in any case, the same family) already being asked is not
 * asked again (RFC 5452 5: equivalent
 * queries out at once make a forger's odds that many times better): the
 * new request joins it, with its servers, and ends with it (counted in
 * coalesced). */
int oasis_dns_resolve(oasis_dns *r, const char *name, oasis_dns_family family, oasis_dns_cb cb,
                      void *ud, oasis_dns_req **req);

/* Cancels a pending request: its callback will not run, the handle is freed
 * now (one that others joined goes on asking for them, out of sight, until
 * the last of them is canceled too). Safe
 * from any callback. Returns 0; OASIS_EINVAL for NULL; OASIS_EBUSY from
 * inside the request's own callback (it is over: the handle goes when the
 * callback returns). After that callback returned the handle is gone:
 * using it is as using freed memory. */
int oasis_dns_cancel(oasis_dns_req *req);

/* Drops every cached answer. */
void oasis_dns_cache_flush(oasis_dns *r);

/* NULL for a NULL resolver. */
const oasis_dns_counters *oasis_dns_get_counters(const oasis_dns *r);
oasis_stack *oasis_dns_stack(const oasis_dns *r);

/* A metrics source "dns" reading r's counters (field names: Requests,
 * CompletedOk, Failed, ..., see dns_metrics.c); its ud is r. Returns 0,
 * OASIS_EINVAL or OASIS_ENOMEM. */
struct oasis_metrics;
struct oasis_metric_tag;
int oasis_dns_add_metrics(struct oasis_metrics *m, oasis_dns *r,
                          const struct oasis_metric_tag *tags, size_t ntags);

#ifdef __cplusplus
}
#endif
#endif
