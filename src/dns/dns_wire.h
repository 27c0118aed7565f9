/* DNS messages on the wire (RFC 1035 section 4): building a query, parsing
 * a response (header, question, resource records), reading compressed names,
 * the EDNS(0) OPT pseudo-RR (RFC 6891 6.1).
 * No I/O, no allocation; every function is safe on hostile input. */
#ifndef OASIS_DNS_WIRE_H
#define OASIS_DNS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define OASIS_DNS_HLEN 12
#define OASIS_DNS_MAX_NAME 255  /* wire length, length octets included (RFC 1035 2.3.4) */
#define OASIS_DNS_MAX_LABEL 63
#define OASIS_DNS_MAX_JUMPS 128 /* compression pointers followed in one name */
#define OASIS_DNS_MAX_UDP 512   /* no EDNS: a UDP answer is at most this long */
/* An OPT RR without options: root owner (1), TYPE, CLASS, TTL, RDLEN. */
#define OASIS_DNS_OPT_LEN 11
#define OASIS_DNS_MAX_RR 64     /* records of a section kept by the parser */

#define OASIS_DNS_TYPE_A 1
#define OASIS_DNS_TYPE_NS 2
#define OASIS_DNS_TYPE_CNAME 5
#define OASIS_DNS_TYPE_SOA 6
#define OASIS_DNS_TYPE_AAAA 28
#define OASIS_DNS_TYPE_OPT 41   /* RFC 6891 6.1.1 */
#define OASIS_DNS_TYPE_TSIG 250 /* RFC 8945 4.2 */
#define OASIS_DNS_CLASS_IN 1
#define OASIS_DNS_CLASS_ANY 255

#define OASIS_DNS_RCODE_NOERROR 0
#define OASIS_DNS_RCODE_FORMERR 1
#define OASIS_DNS_RCODE_SERVFAIL 2
#define OASIS_DNS_RCODE_NXDOMAIN 3
#define OASIS_DNS_RCODE_NOTIMP 4
#define OASIS_DNS_RCODE_REFUSED 5
#define OASIS_DNS_RCODE_NOTAUTH 9  /* with a TSIG error (RFC 8945 5.2) */
#define OASIS_DNS_RCODE_BADVERS 16 /* needs the OPT's extended RCODE (RFC 6891 6.1.3) */

/* Flag bits of the header's second 16-bit word. */
#define OASIS_DNS_F_QR 0x8000u
#define OASIS_DNS_F_AA 0x0400u
#define OASIS_DNS_F_TC 0x0200u
#define OASIS_DNS_F_RD 0x0100u
#define OASIS_DNS_F_RA 0x0080u

/* A name in uncompressed wire form: length-prefixed labels ending in the
 * root's zero octet; len counts every octet (1..255). */
typedef struct oasis_dns_name {
    uint8_t b[OASIS_DNS_MAX_NAME];
    size_t len;
} oasis_dns_name;

typedef struct oasis_dns_rr {
    size_t name_off;   /* where the owner name starts in the message */
    uint16_t type, rclass;
    uint32_t ttl;      /* RFC 2181 8: a value with the top bit set reads as 0 */
    size_t rdata_off;  /* rdata: msg[rdata_off .. rdata_off + rdlen) */
    uint16_t rdlen;
} oasis_dns_rr;

typedef struct oasis_dns_msg {
    uint16_t id, flags;
    /* 12 bits (RFC 6891 6.1.3): the OPT's EXTENDED-RCODE above the
     * header's 4; just the header's without an OPT or with TC set. */
    uint16_t rcode;
    uint16_t qdcount, ancount, nscount, arcount;
    /* The first question (qdcount >= 1). */
    oasis_dns_name qname;
    uint16_t qtype, qclass;
    /* Answer and authority records, at most OASIS_DNS_MAX_RR of each kept
     * (the rest are still checked). */
    oasis_dns_rr an[OASIS_DNS_MAX_RR];
    size_t nan;
    oasis_dns_rr ns[OASIS_DNS_MAX_RR];
    size_t nns;
    /* The OPT RR of the additional section (RFC 6891 6.1), if any. */
    int has_opt;
    uint16_t opt_udp_size; /* the responder's payload size (its CLASS, 6.2.4) */
    uint8_t opt_version;   /* EDNS version (6.1.3) */
    uint16_t opt_flags;    /* DO and Z: the TTL's low 16 bits */
    /* A TSIG RR (RFC 8945 4.2), always the last record (read by
     * dns_tsig_wire.c); the message it signs ends at tsig_off. */
    int has_tsig;
    size_t tsig_off;
} oasis_dns_msg;

/* Text ("a.b.c" or "a.b.c.") to wire form, with RFC 1035 5.1's escapes:
 * "\DDD" (three decimal digits, 0-255) is that octet and "\X" is X, so
 * "a\.b" and "a\046b" are one label holding a dot, and what
 * oasis_dns_name_to_text writes reads back the same. Refuses (OASIS_EINVAL)
 * an empty label, a label over 63 octets, a name over 255 octets, an empty
 * string, a lone backslash, a "\DDD" over 255. "." alone is the root. */
int oasis_dns_name_from_text(const char *text, oasis_dns_name *out);

/* Whether text ends in a dot that is not escaped ("a.b." yes, "a\." no):
 * a fully qualified name, which the search list leaves alone. */
int oasis_dns_text_is_absolute(const char *text);

/* Wire form to text without the final dot ("" for the root); octets other
 * than letters, digits, '-' and '_' become \DDD, so a label holding a dot
 * cannot pass for two. buf needs OASIS_DNS_NAME_STRLEN (dns.h) bytes. */
void oasis_dns_name_to_text(const oasis_dns_name *n, char *buf, size_t cap);

/* Case-insensitive equality (RFC 1035 2.3.3: ASCII letters only). */
int oasis_dns_name_equal(const oasis_dns_name *a, const oasis_dns_name *b);
/* Lowercases ASCII letters in place (for cache keys). */
void oasis_dns_name_lower(oasis_dns_name *n);

/* Reads the (possibly compressed) name at msg[off]. *next (may be NULL)
 * gets the offset just past the name as it sits at off (past the first
 * pointer when there is one). Hardened (RFC 1035 4.1.4): a pointer must
 * point strictly backwards from where it sits and past the header, which
 * rules out loops and forward references; at most OASIS_DNS_MAX_JUMPS
 * pointers (a chain of pointers to pointers adds no octet); length octets
 * with the top bits 01 or 10 (labels over 63, obsolete extended labels)
 * are refused; the expanded name must fit in 255 octets; nothing may run
 * past len.
 * Returns 0, OASIS_ETRUNCATED or OASIS_EMALFORMED. */
int oasis_dns_name_read(const uint8_t *msg, size_t len, size_t off, oasis_dns_name *out,
                        size_t *next);

/* The same with pointers allowed down to msg[floor] instead of past the
 * header: for names outside a DNS message, e.g. DHCP's domain search
 * option (RFC 3397 2), whose pointers count from the option data's start
 * (floor 0). */
int oasis_dns_name_read_above(const uint8_t *msg, size_t len, size_t off, size_t floor,
                              oasis_dns_name *out, size_t *next);

/* out = rel's labels followed by dom ("host" + "lan.test" is
 * "host.lan.test"); out may be rel or dom. OASIS_EINVAL when the result
 * would pass 255 octets. */
int oasis_dns_name_concat(const oasis_dns_name *rel, const oasis_dns_name *dom,
                          oasis_dns_name *out);

/* Builds a standard query (RD set, one question, class IN) into buf.
 * edns_size non-zero adds an OPT RR to the additional section (RFC 6891
 * 6.1.2: root owner, CLASS = edns_size as the requestor's UDP payload size
 * (6.2.3), TTL 0 = EXTENDED-RCODE 0, VERSION 0, DO 0, no options);
 * 0 builds a plain RFC 1035 query. Returns 0 with *out_len set, or
 * OASIS_EMSGSIZE. */
int oasis_dns_query_build(uint8_t *buf, size_t cap, uint16_t id, const oasis_dns_name *qname,
                          uint16_t qtype, uint16_t edns_size, size_t *out_len);

/* Parses a whole message. With TC set only the header and the question need
 * to be there (the rest may be cut off and is not read). Every record of
 * the answer, authority and additional sections is checked with read_rr
 * (names, rdata bounds); only the first two sections' records are kept.
 * An OPT RR (RFC 6891 6.1) is read into has_opt/opt_* and its extended
 * RCODE joins rcode. Returns 0, OASIS_ETRUNCATED or OASIS_EMALFORMED (not
 * a response, no question, a bad name, a record's rdata running past the
 * message, an A not 4 or AAAA not 16 octets, a CNAME whose rdata is not
 * exactly one name; an OPT outside the additional section or not owned by
 * the root, a second OPT (6.1.1), options that do not fill its rdata
 * exactly (6.1.2); a TSIG RR anywhere but last in the additional section,
 * RFC 8945 5.2). */
int oasis_dns_msg_parse(const uint8_t *msg, size_t len, oasis_dns_msg *out);

/* SOA rdata: the MINIMUM field (the last 32 bits). Returns 0 or
 * OASIS_EMALFORMED. */
int oasis_dns_soa_minimum(const uint8_t *msg, size_t len, const oasis_dns_rr *rr,
                          uint32_t *minimum);

/* What an answer says about (qname, qtype), following CNAMEs inside it. */
typedef struct oasis_dns_answer {
    oasis_dns_name canonical;  /* end of the chain followed */
    size_t naddr;              /* addresses found for canonical (bounded by max_addr) */
    uint32_t ttl;              /* min TTL over the chain and the addresses used */
    unsigned cnames;           /* links followed */
    int neg_ttl_known;         /* negative answer with an SOA in authority */
    uint32_t neg_ttl;          /* min(SOA TTL, SOA MINIMUM) (RFC 2308 5) */
    int referral;              /* NS in authority and no SOA: without an answer this
                                * is a referral, not NODATA (RFC 2308 2.2) */
} oasis_dns_answer;

/* Follows the CNAME chain in the answer section from m->qname (class IN
 * only) and collects the addresses of type qtype owned by the chain's end
 * into addrs (4 or 16 octets each, up to max_addr). Returns 0, 1 when the
 * chain has more than max_cname links or more links than the answer has
 * records (a loop, whatever max_cname), or OASIS_EMALFORMED. */
int oasis_dns_answer_extract(const uint8_t *msg, size_t len, const oasis_dns_msg *m,
                             uint16_t qtype, unsigned max_cname, uint8_t *addrs, size_t max_addr,
                             oasis_dns_answer *out);

#endif
