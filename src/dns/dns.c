/* The stub resolver: requests, UDP tries with failover, EDNS(0) and its
 * fallback, TCP after TC=1, CNAME chains, the answer cache, TSIG's
 * signing and its verdicts. The wire format is in dns_wire.c and
 * dns_tsig_wire.c, TSIG's checks of a response in dns_tsig.c. */
#include "oasis/dns.h"

#include "core/bytes.h"
#include "core/mem.h"
#include "core/prng.h"
#include "core/siphash.h"
#include "core/stack_impl.h"
#include "core/timer.h"
#include "dns/dns_tsig.h"
#include "dns/dns_wire.h"
#include "icmp/icmp_wire.h"
#include "ip/ipv4.h"
#include "ipv6/icmp6_wire.h"
#include "tcp/tcp.h"
#include "oasis/error.h"
#include "oasis/ip.h"
#include "oasis/tcp.h"
#include "oasis/udp.h"

#include <string.h>

#define DNS_TCP_MAX (2 + 65535)
/* A query at its longest: header, question, OPT, TSIG. */
#define DNS_QUERY_MAX (OASIS_DNS_HLEN + OASIS_DNS_MAX_NAME + 4 + OASIS_DNS_OPT_LEN + \
                       OASIS_DNS_TSIG_RR_MAX)
/* RFC 8945's recommended Fudge. */
#define DNS_TSIG_FUDGE 300

/* A request with a search list: the names it tries in turn (resolv.conf's
 * order, see dns.h), each asked by an ordinary request of its own. */
typedef struct dns_search {
    oasis_dns_req *inner;     /* the candidate being asked */
    oasis_dns_name rel;       /* the name as given */
    oasis_dns_name dom[OASIS_DNS_MAX_SEARCH]; /* the list when the request began */
    unsigned ndom;
    unsigned next;            /* the next candidate, 0..ndom */
    int as_given_first;       /* the name has cfg.ndots dots or more */
    int rel_asked;            /* the name as given has had its turn */
    int first_status;         /* how the name as given failed, when asked first */
    int saw_nodata, saw_servfail;
} dns_search;

typedef struct dns_cache_entry {
    int used;
    oasis_dns_name key; /* lowercased question name */
    uint16_t qtype;
    int status;         /* 0, OASIS_DNS_ENXDOMAIN or OASIS_DNS_ENODATA */
    uint64_t expires, last_used;
    oasis_dns_name canonical;
    size_t naddr;
    uint8_t addrs[OASIS_DNS_MAX_ADDRS][16];
} dns_cache_entry;

struct oasis_dns_req {
    oasis_dns *r;
    oasis_dns_req *prev, *next; /* the resolver's pending list */
    oasis_dns_cb cb;            /* NULL: canceled, still asking for its followers */
    void *ud;
    char *name;                 /* as the application gave it */
    /* RFC 5452 5: an equivalent question (same name, any case, same type)
     * asked while this one is out does not go on the wire again; it
     * follows this request and hears its outcome. */
    int asks;                   /* not a literal nor a cache hit: it queries */
    oasis_dns_req *leader;      /* the request it follows (a follower) */
    oasis_dns_req *followers;   /* the ones following it (a leader) */
    oasis_dns_req *fnext;
    oasis_dns_name qname;       /* the question asked by the application */
    oasis_dns_name cur;         /* the name asked now (a CNAME target after a re-query) */
    uint16_t qtype;
    oasis_dns_family family;
    unsigned cnames;            /* CNAME links followed so far */
    uint32_t chain_ttl;         /* least TTL of those links */
    /* The names asked in turn (qname, then each CNAME target re-queried)
     * looked at for a loop across answers, Brent's way: a mark, moved
     * to the latest name each time the steps since reach a power of two,
     * is met again within twice the loop's length and its start. */
    oasis_dns_name loop_mark;
    unsigned loop_steps, loop_power;
    oasis_ipaddr servers[OASIS_DNS_MAX_SERVERS];
    size_t nservers;
    unsigned try_idx;           /* tries made: server try_idx % nservers, round / nservers */
    int last_err;               /* the most telling failure so far (0: only timeouts) */
    oasis_ipaddr server;        /* server of the current try (either family) */
    unsigned srv_idx;           /* its index in servers[] */
    unsigned noedns;            /* bit i: servers[i] answered EDNS with FORMERR/NOTIMP and
                                 * no OPT; asked without OPT for the rest of this request */
    int edns_sent;              /* the query in flight carries an OPT */
    uint8_t req_mac[OASIS_DNS_TSIG_MAC_LEN]; /* the TSIG MAC of the query in flight: the
                                 * response's MAC covers it (RFC 8945 4.3.2) */
    uint16_t id, port;          /* query ID and bound UDP port (0: none) */
    oasis_timer tmo;            /* the current try's deadline */
    oasis_timer defer;          /* start, or a completion known at once */
    int started;
    int defer_status;
    oasis_dns_result res;       /* a completion made ready in advance */
    char canon_text[OASIS_DNS_NAME_STRLEN];
    /* TCP after TC=1 */
    oasis_flow *flow;
    int tcp_up;                 /* flow's connection was established */
    uint8_t tq[2 + DNS_QUERY_MAX];
    uint8_t *tbuf;
    size_t tlen;
    int in_cb;                  /* its callback runs: cancel has nothing to do */
    dns_search *srch;           /* non-NULL: it only runs the search, inner asks */
};

struct oasis_dns {
    oasis_stack *s;
    oasis_dns_config cfg;
    oasis_ipaddr servers[OASIS_DNS_MAX_SERVERS];
    size_t nservers;
    oasis_dns_req *pending;
    dns_cache_entry *cache;
    oasis_dns_counters ctr;
    uint8_t id_key[16];     /* keys the IDs and ports (unpredictable_draw) */
    uint16_t *avoid;        /* cfg.avoid_ports, copied (cfg's pointer cleared) */
    uint64_t draws;
    uint32_t in_cb;         /* callbacks running: destroy is refused */
    int closing;            /* destroy runs: no new request may start */
    oasis_dns_tsig_key *tsig; /* cfg.tsig, copied (NULL: queries go unsigned) */
    int wall_set;           /* oasis_dns_set_time was called */
    uint64_t wall_s;        /* the wall-clock time it gave... */
    uint64_t wall_at_ns;    /* ...and the stack's clock then */
    oasis_dns_name search[OASIS_DNS_MAX_SEARCH]; /* oasis_dns_set_search */
    size_t nsearch;
};

static const char *const dns_errs[] = {
    "name does not exist (NXDOMAIN)",
    "the name has no address of that family",
    "the DNS server failed (SERVFAIL)",
    "the DNS server refused the query",
    "no DNS server answered in time",
    "malformed DNS answer",
    "CNAME chain too long or looping",
    "no DNS server configured",
    "not a valid domain name",
    "resolution canceled",
    "out of memory",
    "no DNS server could be reached",
    "no DNS answer with a valid TSIG signature",
    "TSIG needs the wall-clock time (oasis_dns_set_time)",
};

const char *oasis_dns_strerror(int err)
{
    if (err == 0)
        return "success";
    if (err <= OASIS_DNS_ENXDOMAIN && err >= OASIS_DNS_ENOTIME)
        return dns_errs[OASIS_DNS_ENXDOMAIN - err];
    return oasis_strerror(err);
}

/* RFC 5452 9.2: query IDs and source ports must be unpredictable. Not
 * from the stack's PRNG, whose state its outputs give away (core/prng.h),
 * but SipHash of a counter under a key of this resolver: SipHash, under the
 * stack's ISN secret (from the OS, or from a fixed seed in tests and the
 * simulator), of a label, a half number and a nonce from the PRNG (public,
 * but it keeps two resolvers of one stack from drawing the same sequence).
 * 24 bytes: a length no other use of that key has (ISN 12 or 36, the flow
 * hash key 9). */
static void derive_id_key(oasis_dns *r)
{
    uint8_t in[24] = "oasis dns ids";
    uint64_t nonce = oasis_prng_next(&r->s->prng);
    memcpy(in + 16, &nonce, sizeof nonce);
    for (int i = 0; i < 2; i++) {
        in[15] = (uint8_t)i;
        uint64_t k = oasis_siphash24(r->s->secrets.isn_key, in, sizeof in);
        memcpy(r->id_key + 8 * i, &k, sizeof k);
    }
}

static uint64_t unpredictable_draw(oasis_dns *r)
{
    uint64_t n = r->draws++;
    return oasis_siphash24(r->id_key, &n, sizeof n);
}

void oasis_dns_config_init(oasis_dns_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->port = 53;
    cfg->timeout_ns = OASIS_NS_PER_SEC;
    cfg->attempts = 2;
    cfg->tcp_timeout_ns = 5 * OASIS_NS_PER_SEC;
    cfg->max_cname = 8;
    cfg->cache_entries = 64;
    cfg->max_ttl_s = 86400;
    cfg->max_neg_ttl_s = 300;
    cfg->edns_udp_size = OASIS_DNS_EDNS_UDP_SIZE;
    cfg->ndots = 1;
}

static int copy_tsig_key(oasis_dns *r, const oasis_dns_tsig *t)
{
    oasis_dns_tsig_key *k = oasis_malloc(r->s, sizeof *k);
    if (!k)
        return OASIS_ENOMEM;
    int err = oasis_dns_tsig_key_init(k, t->key_name, t->algorithm, t->secret, t->secret_len,
                                      t->fudge_s ? t->fudge_s : DNS_TSIG_FUDGE);
    if (err) {
        oasis_free(r->s, k);
        return err;
    }
    r->tsig = k;
    return OASIS_OK;
}

int oasis_dns_create(oasis_stack *s, const oasis_dns_config *cfg, oasis_dns **out)
{
    if (!s || !out)
        return OASIS_EINVAL;
    *out = NULL;
    oasis_dns_config c;
    if (cfg)
        c = *cfg;
    else
        oasis_dns_config_init(&c);
    if (c.port == 0 || c.timeout_ns == 0 || c.attempts == 0 || c.tcp_timeout_ns == 0 ||
        c.timeout_ns > 3600 * OASIS_NS_PER_SEC || c.tcp_timeout_ns > 3600 * OASIS_NS_PER_SEC ||
        c.attempts > 16 || c.cache_entries > 65536 ||
        (c.edns_udp_size != 0 && c.edns_udp_size < OASIS_DNS_MAX_UDP) ||
        c.navoid_ports > OASIS_DNS_MAX_AVOID_PORTS || (c.navoid_ports && !c.avoid_ports) ||
        c.ndots > 15)
        return OASIS_EINVAL;
    oasis_dns *r = oasis_calloc(s, 1, sizeof *r);
    if (!r)
        return OASIS_ENOMEM;
    r->s = s;
    r->cfg = c;
    r->cfg.avoid_ports = NULL;
    if (c.navoid_ports) {
        r->avoid = oasis_malloc(s, c.navoid_ports * sizeof *r->avoid);
        if (!r->avoid) {
            oasis_free(s, r);
            return OASIS_ENOMEM;
        }
        memcpy(r->avoid, c.avoid_ports, c.navoid_ports * sizeof *r->avoid);
    }
    derive_id_key(r);
    int err = OASIS_OK;
    if (c.cache_entries) {
        r->cache = oasis_calloc(s, c.cache_entries, sizeof *r->cache);
        if (!r->cache)
            err = OASIS_ENOMEM;
    }
    if (!err && c.tsig)
        err = copy_tsig_key(r, c.tsig);
    r->cfg.tsig = NULL;
    if (err) {
        oasis_free(s, r->cache);
        oasis_free(s, r->avoid);
        oasis_free(s, r);
        return err;
    }
    oasis_stack_client_add(s);
    *out = r;
    return OASIS_OK;
}

int oasis_dns_set_time(oasis_dns *r, uint64_t unix_s)
{
    if (!r || unix_s >> 48)
        return OASIS_EINVAL; /* Time Signed has 48 bits (RFC 8945 4.2) */
    r->wall_s = unix_s;
    r->wall_at_ns = oasis_now(r->s);
    r->wall_set = 1;
    return OASIS_OK;
}

/* The wall-clock time: the application's last word plus the stack's clock
 * since (which never goes back). */
static uint64_t wall_now_s(const oasis_dns *r)
{
    return r->wall_s + (oasis_now(r->s) - r->wall_at_ns) / OASIS_NS_PER_SEC;
}

/* A reply counts only from the address asked and not to a group or
 * broadcast (RFC 5452 9.1): a group or the limited broadcast as a server
 * would send every query to the whole link and hear nothing it may
 * believe. */
int oasis_dns_server_addr_ok(const oasis_ipaddr *a)
{
    return a && (a->family == OASIS_AF_INET || a->family == OASIS_AF_INET6) &&
           !oasis_ipaddr_is_unspecified(a) && !oasis_ipaddr_is_multicast(a) &&
           !(a->family == OASIS_AF_INET && oasis_ipaddr_to_v4(a) == 0xffffffffu);
}

int oasis_dns_set_servers_addr(oasis_dns *r, const oasis_ipaddr *addrs, size_t n)
{
    if (!r || n > OASIS_DNS_MAX_SERVERS || (n && !addrs))
        return OASIS_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!oasis_dns_server_addr_ok(&addrs[i]))
            return OASIS_EINVAL;
    for (size_t i = 0; i < n; i++)
        r->servers[i] = addrs[i];
    r->nservers = n;
    return OASIS_OK;
}

size_t oasis_dns_servers_addr(const oasis_dns *r, oasis_ipaddr *addrs, size_t max)
{
    if (!r)
        return 0;
    for (size_t i = 0; i < r->nservers && i < max; i++)
        addrs[i] = r->servers[i];
    return r->nservers;
}

int oasis_dns_set_servers(oasis_dns *r, const uint32_t *addrs, size_t n)
{
    if (!r || n > OASIS_DNS_MAX_SERVERS || (n && !addrs))
        return OASIS_EINVAL;
    oasis_ipaddr a[OASIS_DNS_MAX_SERVERS];
    for (size_t i = 0; i < n; i++)
        a[i] = oasis_ipaddr_v4(addrs[i]);
    return oasis_dns_set_servers_addr(r, a, n);
}

int oasis_dns_set_search(oasis_dns *r, const char *const *domains, size_t n)
{
    oasis_dns_name d[OASIS_DNS_MAX_SEARCH];
    if (!r || n > OASIS_DNS_MAX_SEARCH || (n && !domains))
        return OASIS_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!domains[i])
            return OASIS_EINVAL;
        if (oasis_dns_name_from_text(domains[i], &d[i]) != OASIS_OK)
            return OASIS_DNS_EBADNAME;
    }
    memcpy(r->search, d, n * sizeof d[0]);
    r->nsearch = n;
    return OASIS_OK;
}

size_t oasis_dns_search(const oasis_dns *r, char (*out)[OASIS_DNS_NAME_STRLEN], size_t max)
{
    if (!r)
        return 0;
    for (size_t i = 0; out && i < r->nsearch && i < max; i++)
        oasis_dns_name_to_text(&r->search[i], out[i], OASIS_DNS_NAME_STRLEN);
    return r->nsearch;
}

size_t oasis_dns_servers(const oasis_dns *r, uint32_t *addrs, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; r && i < r->nservers; i++) {
        if (r->servers[i].family != OASIS_AF_INET)
            continue;
        if (k < max)
            addrs[k] = oasis_ipaddr_to_v4(&r->servers[i]);
        k++;
    }
    return k;
}

/* No resolver: nothing (as the DHCP clients' getters), not a crash. */
const oasis_dns_counters *oasis_dns_get_counters(const oasis_dns *r) { return r ? &r->ctr : NULL; }
oasis_stack *oasis_dns_stack(const oasis_dns *r) { return r ? r->s : NULL; }

/* ---- cache ---------------------------------------------------------------- */

static uint64_t now_ns(const oasis_dns *r) { return oasis_now(r->s); }

static void count_entries(oasis_dns *r)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < r->cfg.cache_entries; i++)
        n += r->cache[i].used != 0;
    r->ctr.cache_entries = n;
}

/* RFC 2308 5: a name error is cached against <QNAME, QCLASS>, no data
 * against <QNAME, QTYPE, QCLASS>. An NXDOMAIN entry has this qtype and
 * answers a question of any type about its name. */
#define DNS_CACHE_ANY_TYPE 0

static int cache_matches(const dns_cache_entry *e, const oasis_dns_name *key, uint16_t qtype)
{
    return e->used && (e->qtype == qtype || e->qtype == DNS_CACHE_ANY_TYPE) &&
           oasis_dns_name_equal(&e->key, key);
}

static dns_cache_entry *cache_find(oasis_dns *r, const oasis_dns_name *key, uint16_t qtype)
{
    uint64_t now = now_ns(r);
    for (uint32_t i = 0; i < r->cfg.cache_entries; i++) {
        dns_cache_entry *e = &r->cache[i];
        if (!cache_matches(e, key, qtype))
            continue;
        if (now >= e->expires) {
            e->used = 0; /* expired: the TTL is over (RFC 1035 3.2.1) */
            count_entries(r);
            continue;
        }
        return e;
    }
    return NULL;
}

/* Drops the entries about key that a new answer of type qtype replaces:
 * a name error replaces every type's (the name is gone), an answer or no
 * data the name error (the name exists after all) and its own type's. */
static void cache_drop_stale(oasis_dns *r, const oasis_dns_name *key, uint16_t qtype)
{
    for (uint32_t i = 0; i < r->cfg.cache_entries; i++) {
        dns_cache_entry *e = &r->cache[i];
        if (e->used && oasis_dns_name_equal(&e->key, key) &&
            (qtype == DNS_CACHE_ANY_TYPE || cache_matches(e, key, qtype)))
            e->used = 0;
    }
}

/* A slot for a new entry (cache_drop_stale ran): a free or expired one,
 * else the least recently used goes (the size bound). */
static dns_cache_entry *cache_slot(oasis_dns *r)
{
    uint64_t now = now_ns(r);
    dns_cache_entry *victim = NULL;
    for (uint32_t i = 0; i < r->cfg.cache_entries; i++) {
        dns_cache_entry *e = &r->cache[i];
        if (!e->used || now >= e->expires)
            return e;
        if (!victim || e->last_used < victim->last_used)
            victim = e;
    }
    if (victim)
        r->ctr.cache_evictions++;
    return victim;
}

static void cache_put(oasis_dns *r, const oasis_dns_name *qname, uint16_t qtype, int status,
                      uint32_t ttl_s, const oasis_dns_name *canonical, const uint8_t *addrs,
                      size_t naddr, size_t alen)
{
    if (!r->cache || ttl_s == 0)
        return; /* TTL 0: use once, never cache (RFC 1035 3.2.1) */
    oasis_dns_name key = *qname;
    oasis_dns_name_lower(&key);
    if (status == OASIS_DNS_ENXDOMAIN)
        qtype = DNS_CACHE_ANY_TYPE;
    cache_drop_stale(r, &key, qtype);
    dns_cache_entry *e = cache_slot(r);
    if (!e)
        return;
    memset(e, 0, sizeof *e);
    e->used = 1;
    e->key = key;
    e->qtype = qtype;
    e->status = status;
    e->expires = now_ns(r) + (uint64_t)ttl_s * OASIS_NS_PER_SEC;
    e->last_used = now_ns(r);
    if (canonical)
        e->canonical = *canonical;
    e->naddr = naddr;
    for (size_t i = 0; i < naddr; i++)
        memcpy(e->addrs[i], addrs + i * alen, alen);
    count_entries(r);
}

void oasis_dns_cache_flush(oasis_dns *r)
{
    if (!r || !r->cache)
        return;
    memset(r->cache, 0, r->cfg.cache_entries * sizeof *r->cache);
    count_entries(r);
}

/* ---- request life --------------------------------------------------------- */

static void udp_release(oasis_dns_req *q)
{
    if (q->port) {
        oasis_udp_unbind(q->r->s, q->port);
        q->port = 0;
    }
}

/* Ends the TCP exchange. graceful: the answer is in, close and forget;
 * else abort (its callbacks see q->flow cleared and do nothing). */
static void tcp_release(oasis_dns_req *q, int graceful)
{
    oasis_flow *f = q->flow;
    if (!f)
        return;
    q->flow = NULL;
    if (graceful) {
        oasis_tcp_close(f, NULL, NULL);
    } else {
        oasis_tcp_abort(f);
        oasis_tcp_release(f);
    }
}

static void unlink_req(oasis_dns_req *q)
{
    oasis_dns *r = q->r;
    if (q->prev)
        q->prev->next = q->next;
    else
        r->pending = q->next;
    if (q->next)
        q->next->prev = q->prev;
    q->prev = q->next = NULL;
}

static void free_req(oasis_dns_req *q)
{
    oasis_stack *s = q->r->s;
    oasis_timer_stop(s, &q->tmo);
    oasis_timer_stop(s, &q->defer);
    udp_release(q);
    tcp_release(q, 0);
    oasis_free(s, q->tbuf);
    oasis_free(s, q->name);
    oasis_free(s, q->srch);
    oasis_free(s, q);
}

static void search_step(oasis_dns_req *inner, int status, const oasis_dns_result *res,
                        void *ud);

/* Outcomes are counted per application request: a search candidate's
 * (cb == search_step) is counted when its search ends. */
static void count_outcome(const oasis_dns_req *q, int status)
{
    oasis_dns *r = q->r;
    if (q->cb == search_step)
        return;
    if (status == 0)
        r->ctr.completed_ok++;
    else
        r->ctr.failed++;
}

/* Runs the application's callback once and frees the request; then the
 * same outcome for each follower, with its own name. A callback may cancel
 * a follower not yet told: it is taken off the list as it goes. */
static void finish(oasis_dns_req *q, int status, const oasis_dns_result *res)
{
    oasis_dns *r = q->r;
    unlink_req(q);
    oasis_timer_stop(r->s, &q->tmo);
    oasis_timer_stop(r->s, &q->defer);
    udp_release(q);
    tcp_release(q, status == 0 || status == OASIS_DNS_ENXDOMAIN || status == OASIS_DNS_ENODATA);
    /* The callbacks may resolve, cancel other requests (a follower not yet
     * told is taken off the list as it goes) or destroy the stack (refused:
     * this runs inside one of its calls); destroying the resolver or
     * canceling q or the follower being told is refused (OASIS_EBUSY). */
    q->in_cb = 1;
    r->in_cb++;
    if (q->cb) {
        count_outcome(q, status);
        q->cb(q, status, status == 0 ? res : NULL, q->ud);
    }
    oasis_dns_req *f;
    while ((f = q->followers) != NULL) {
        q->followers = f->fnext;
        f->leader = NULL;
        if (status == 0) {
            f->res = *res;
            memcpy(f->canon_text, res->canonical, strlen(res->canonical) + 1);
            f->res.name = f->name;
            f->res.canonical = f->canon_text;
        }
        count_outcome(f, status);
        f->in_cb = 1;
        f->cb(f, status, status == 0 ? &f->res : NULL, f->ud);
        free_req(f);
    }
    r->in_cb--;
    free_req(q);
}

static void fill_result(oasis_dns_req *q, const oasis_dns_name *canonical, const uint8_t *addrs,
                        size_t naddr, size_t alen, uint32_t ttl, int from_cache)
{
    oasis_dns_result *res = &q->res;
    memset(res, 0, sizeof *res);
    res->name = q->name;
    oasis_dns_name_to_text(canonical, q->canon_text, sizeof q->canon_text);
    res->canonical = q->canon_text;
    res->family = q->family;
    res->count = naddr < OASIS_DNS_MAX_ADDRS ? naddr : OASIS_DNS_MAX_ADDRS;
    for (size_t i = 0; i < res->count; i++) {
        if (alen == 4)
            res->addr[i] = oasis_get32(addrs + i * alen);
        else
            memcpy(res->addr6[i], addrs + i * alen, 16);
    }
    res->ttl_s = ttl;
    res->from_cache = from_cache;
}

static void start_try(oasis_dns_req *q);

/* Ends the try in progress and starts try q->try_idx. */
static void restart_try(oasis_dns_req *q)
{
    oasis_timer_stop(q->r->s, &q->tmo);
    udp_release(q);
    tcp_release(q, 0);
    start_try(q);
}

/* The try in progress failed at once (SERVFAIL, REFUSED, TCP trouble...):
 * the next server gets its turn without waiting out the timeout. */
static void next_try(oasis_dns_req *q)
{
    q->try_idx++;
    restart_try(q);
}

/* The size of the OPT for a query to the current server: 0 (no OPT) with
 * EDNS off or after that server showed it has none. */
static uint16_t edns_size(const oasis_dns_req *q)
{
    if (q->noedns & (1u << q->srv_idx))
        return 0;
    return q->r->cfg.edns_udp_size;
}

static uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }

static uint32_t cap_ttl(const oasis_dns *r, uint32_t ttl, uint32_t cap)
{
    return min32(ttl, cap);
}

/* Is next, the name about to be asked after a CNAME, one asked before in
 * this request? (Brent: every loop is found, at the latest after twice
 * the names up to and around it; a chain of new names never is.) */
static int requery_loops(oasis_dns_req *q, const oasis_dns_name *next)
{
    if (oasis_dns_name_equal(next, &q->loop_mark))
        return 1;
    if (++q->loop_steps == q->loop_power) {
        q->loop_mark = *next;
        q->loop_power *= 2;
        q->loop_steps = 0;
    }
    return 0;
}

/* A reply that matched our question (over UDP without TC, or over TCP). */
static void handle_response(oasis_dns_req *q, const uint8_t *msg, size_t len,
                            const oasis_dns_msg *m)
{
    oasis_dns *r = q->r;
    size_t alen = q->family == OASIS_DNS_INET6 ? 16 : 4;
    uint8_t addrs[OASIS_DNS_MAX_ADDRS * 16];
    oasis_dns_answer a;

    /* RFC 6891 7: a query without OPT says the requestor "does not
     * implement any part of this specification", and the responder "MUST
     * NOT include an OPT record in its response". One that does anyway is
     * read as RFC 1035 reads it: an unknown record of the additional
     * section; its EXTENDED-RCODE does not change the header's RCODE. */
    uint16_t rcode = q->edns_sent ? m->rcode : (uint16_t)(m->flags & 0xf);

    r->ctr.responses++;
    if (q->edns_sent && !m->has_opt &&
        (rcode == OASIS_DNS_RCODE_FORMERR || rcode == OASIS_DNS_RCODE_NOTIMP)) {
        /* RFC 6891 7: a responder without EDNS "MUST respond with ...
         * FORMERR to messages containing an OPT record ... and MUST NOT
         * include an OPT record in the response" (a FORMERR with an OPT is
         * about our OPT, and no reason to drop it; older servers say
         * NOTIMP instead). 6.2.2: the requestor "MAY issue queries without
         * an OPT record": the same server is asked again at once without
         * it, for the rest of this request only (no state outlives it,
         * so a server that gains EDNS is not held back). Once per server:
         * the query without OPT cannot come back here. */
        r->ctr.edns_fallbacks++;
        q->noedns |= 1u << q->srv_idx;
        restart_try(q);
        return;
    }
    /* The 12-bit RCODE (RFC 6891 6.1.3): an extended one, BADVERS (16)
     * included, is the server failing this try. BADVERS cannot be about
     * us (we only send VERSION 0, which every EDNS server implements), so
     * no retry at a lower version: the next server is asked. */
    if (rcode != OASIS_DNS_RCODE_NOERROR && rcode != OASIS_DNS_RCODE_NXDOMAIN) {
        if (rcode == OASIS_DNS_RCODE_REFUSED) {
            r->ctr.refused++;
            q->last_err = OASIS_DNS_EREFUSED;
        } else {
            r->ctr.servfail++;
            q->last_err = OASIS_DNS_ESERVFAIL;
        }
        next_try(q);
        return;
    }
    int rc = oasis_dns_answer_extract(msg, len, m, q->qtype, r->cfg.max_cname - q->cnames, addrs,
                                      OASIS_DNS_MAX_ADDRS, &a);
    if (rc < 0) {
        r->ctr.malformed++;
        q->last_err = OASIS_DNS_EMALFORMED;
        next_try(q);
        return;
    }
    r->ctr.cname_followed += a.cnames;
    if (rc == 1) {
        finish(q, OASIS_DNS_ECNAME, NULL);
        return;
    }
    /* A name error "may include CNAME RRs" to a name that does not exist
     * (RFC 1034 4.3.1), about the chain's last name (RFC 6604 2.1); an
     * address for that name beside it contradicts the RCODE, which is
     * believed (so do glibc's and musl's stub resolvers). */
    if (rcode == OASIS_DNS_RCODE_NXDOMAIN)
        a.naddr = 0;
    q->cnames += a.cnames;
    if (a.cnames)
        q->chain_ttl = min32(q->chain_ttl, a.ttl);
    if (a.naddr > 0) {
        uint32_t ttl = cap_ttl(r, min32(q->chain_ttl, a.ttl), r->cfg.max_ttl_s);
        cache_put(r, &q->qname, q->qtype, 0, ttl, &a.canonical, addrs, a.naddr, alen);
        fill_result(q, &a.canonical, addrs, a.naddr, alen, ttl, 0);
        finish(q, 0, &q->res);
        return;
    }
    int status = rcode == OASIS_DNS_RCODE_NXDOMAIN ? OASIS_DNS_ENXDOMAIN : OASIS_DNS_ENODATA;
    if (status == OASIS_DNS_ENODATA && a.cnames > 0 && !a.neg_ttl_known) {
        /* The chain leaves this answer without the target's records and
         * without saying there are none: ask for the target itself,
         * unless it was asked before: a loop across answers, to be
         * "caught and an error condition passed back" (RFC 1034 5.2.2),
         * which cfg.max_cname alone may let run for ever. */
        if (requery_loops(q, &a.canonical)) {
            finish(q, OASIS_DNS_ECNAME, NULL);
            return;
        }
        q->cur = a.canonical;
        q->try_idx = 0;
        q->last_err = 0;
        oasis_timer_stop(r->s, &q->tmo);
        udp_release(q);
        tcp_release(q, 1);
        start_try(q);
        return;
    }
    if (status == OASIS_DNS_ENODATA && a.referral) {
        /* Not NODATA (RFC 2308 2.2) but a server that does not recurse for
         * us and points elsewhere: another server may answer. */
        r->ctr.referrals++;
        q->last_err = OASIS_DNS_EREFUSED;
        next_try(q);
        return;
    }
    if (status == OASIS_DNS_ENXDOMAIN)
        r->ctr.nxdomain++;
    else
        r->ctr.nodata++;
    /* RFC 2308 5: cache a negative answer only with the SOA that says for
     * how long; kept short (max_neg_ttl_s). */
    if (a.neg_ttl_known) {
        uint32_t ttl = cap_ttl(r, a.neg_ttl, r->cfg.max_neg_ttl_s);
        if (q->cnames)
            ttl = min32(ttl, q->chain_ttl);
        cache_put(r, &q->qname, q->qtype, status, ttl, NULL, NULL, 0, alen);
    }
    finish(q, status, NULL);
}

/* Does this parsed reply answer the query in flight (RFC 5452 9.1: ID,
 * question; the caller checked the source)? */
static int matches(const oasis_dns_req *q, const oasis_dns_msg *m)
{
    return m->id == q->id && m->qtype == q->qtype && m->qclass == OASIS_DNS_CLASS_IN &&
           oasis_dns_name_equal(&m->qname, &q->cur);
}

static void start_tcp(oasis_dns_req *q);

/* RFC 8945 5.4, with a key: may this reply (ours by source, ID and
 * question) be used? Anything but OK is counted and dropped, and the
 * request, if it ends without an answer, says OASIS_DNS_ETSIG. */
static oasis_dns_tsig_verdict tsig_verdict(oasis_dns_req *q, const uint8_t *msg, size_t len,
                                           const oasis_dns_msg *m)
{
    oasis_dns *r = q->r;
    if (!r->tsig)
        return OASIS_DNS_TSIG_OK;
    oasis_dns_tsig_verdict v = oasis_dns_tsig_check(r->tsig, wall_now_s(r), q->req_mac, msg, len, m);
    uint64_t *c[] = {
        [OASIS_DNS_TSIG_OK] = &r->ctr.tsig_verified,
        [OASIS_DNS_TSIG_UNSIGNED] = &r->ctr.tsig_unsigned,
        [OASIS_DNS_TSIG_BADKEY] = &r->ctr.tsig_badkey,
        [OASIS_DNS_TSIG_BADTRUNC] = &r->ctr.tsig_badtrunc,
        [OASIS_DNS_TSIG_BADSIG] = &r->ctr.tsig_badsig,
        [OASIS_DNS_TSIG_BADTIME] = &r->ctr.tsig_badtime,
        [OASIS_DNS_TSIG_ERROR] = &r->ctr.tsig_errors,
        [OASIS_DNS_TSIG_MALFORMED] = &r->ctr.malformed,
    };
    (*c[v])++;
    if (v != OASIS_DNS_TSIG_OK)
        q->last_err = OASIS_DNS_ETSIG;
    return v;
}

/* A reply we cannot use. With our ID it counts as this server's answer
 * being bad (*ctr); either way the try keeps waiting: a forger must not end
 * the request. */
static void bad_reply(oasis_dns_req *q, const uint8_t *data, size_t len, uint64_t *ctr)
{
    if (len >= 2 && oasis_get16(data) == q->id) {
        (*ctr)++;
        q->last_err = OASIS_DNS_EMALFORMED;
    } else {
        q->r->ctr.mismatched++;
    }
}

static void on_udp(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport,
                   const oasis_ipaddr *dst, uint16_t dport, const uint8_t *data, size_t len,
                   void *ud)
{
    oasis_dns_req *q = ud;
    oasis_dns *r = q->r;
    oasis_dns_msg m;

    /* RFC 5452 9.1: from the server's address and port, to the query's
     * source: never to a broadcast or multicast address. */
    if (!oasis_ipaddr_eq(src, &q->server) || sport != r->cfg.port ||
        oasis_ipaddr_is_multicast(dst) ||
        (oasis_ipaddr_is_v4(dst) && oasis_ipv4_is_broadcast(s, oasis_ipaddr_to_v4(dst)))) {
        r->ctr.mismatched++;
        return;
    }
    /* No longer than the query allowed: 512 octets without an OPT (RFC
     * 1035 4.2.1, and RFC 6891 7: no OPT in the request means the
     * requestor implements none of EDNS), else the payload size it
     * advertised (6.2.3). A longer one is a broken or forged server;
     * like garbage, it does not end the try. */
    size_t limit = q->edns_sent ? r->cfg.edns_udp_size : OASIS_DNS_MAX_UDP;
    if (len > limit) {
        bad_reply(q, data, len, &r->ctr.oversized);
        return;
    }
    if (oasis_dns_msg_parse(data, len, &m)) {
        bad_reply(q, data, len, &r->ctr.malformed);
        return;
    }
    if (!matches(q, &m)) {
        r->ctr.mismatched++;
        return;
    }
    if (m.flags & OASIS_DNS_F_TC) {
        /* Not checked for a TSIG: the parse read no further than the
         * question, and all it makes us do is ask over TCP, whose answer
         * is checked. */
        r->ctr.truncated++;
        start_tcp(q);
        return;
    }
    oasis_dns_tsig_verdict v = tsig_verdict(q, data, len, &m);
    if (v == OASIS_DNS_TSIG_ERROR) {
        next_try(q); /* the server itself says it failed */
        return;
    }
    if (v != OASIS_DNS_TSIG_OK)
        return; /* RFC 8945 5.4: wait on for a signed answer */
    handle_response(q, data, len, &m);
}

/* An ICMP destination unreachable about our query (the UDP layer matched
 * its quoted source port, random per try): the server's port is closed or
 * the way to it is gone, so the next server is asked at once, as glibc's
 * resolver does on ECONNREFUSED, instead of after the whole timeout. Only
 * a report about the server and port asked counts; fragmentation needed
 * says nothing about the server (a query is never that large). */
static void on_udp_error(oasis_stack *s, const oasis_udp_error *e, void *ud)
{
    (void)s;
    oasis_dns_req *q = ud;
    oasis_dns *r = q->r;
    int unreach = e->family == OASIS_AF_INET6 ? e->type == OASIS_ICMP6_DEST_UNREACH
                                              : e->type == OASIS_ICMP_DEST_UNREACH;
    if (!unreach || e->err == OASIS_EMSGSIZE || e->src_port != q->port ||
        e->dst_port != r->cfg.port || !oasis_ipaddr_eq(&e->dst, &q->server))
        return;
    r->ctr.unreachable++;
    q->last_err = OASIS_DNS_ENETWORK;
    next_try(q);
}

static int avoided(const oasis_dns *r, uint16_t port)
{
    for (size_t i = 0; i < r->cfg.navoid_ports; i++)
        if (r->avoid[i] == port)
            return 1;
    return 0;
}

/* Binds a random port (RFC 5452 9.2: from 1024 up, as wide as possible,
 * none of cfg.avoid_ports). */
static int bind_random_port(oasis_dns_req *q)
{
    oasis_stack *s = q->r->s;
    for (int i = 0; i < 64; i++) {
        /* The modulo's bias, under 64512 / 2^64, is nil. */
        uint16_t port = (uint16_t)(1024 + unpredictable_draw(q->r) % (65536 - 1024));
        if (avoided(q->r, port))
            continue;
        int err = oasis_udp_bind(s, port, on_udp, q);
        if (err == OASIS_OK) {
            q->port = port;
            return oasis_udp_set_error_cb(s, port, on_udp_error);
        }
        if (err != OASIS_EADDRINUSE)
            return err;
    }
    return OASIS_EADDRINUSE;
}

/* RFC 8945 5.1: with a key, the query is signed last (after the OPT) and
 * its MAC kept for the response's check. The buffers have room for it. */
static void sign_query(oasis_dns_req *q, uint8_t *buf, size_t *n, size_t cap)
{
    oasis_dns *r = q->r;
    if (r->tsig)
        oasis_dns_tsig_sign(buf, n, cap, r->tsig, wall_now_s(r), q->req_mac);
}

static int send_udp(oasis_dns_req *q)
{
    oasis_dns *r = q->r;
    uint8_t buf[DNS_QUERY_MAX];
    size_t n;

    int err = bind_random_port(q);
    if (err)
        return err;
    q->id = (uint16_t)unpredictable_draw(r);
    uint16_t edns = edns_size(q);
    q->edns_sent = edns != 0;
    oasis_dns_query_build(buf, sizeof buf, q->id, &q->cur, q->qtype, edns, &n);
    sign_query(q, buf, &n, sizeof buf);
    err = oasis_udp_send(r->s, q->port, &q->server, r->cfg.port, buf, n);
    if (err) {
        udp_release(q);
        return err;
    }
    r->ctr.udp_queries++;
    return OASIS_OK;
}

static void start_try(oasis_dns_req *q)
{
    oasis_dns *r = q->r;
    unsigned total = (unsigned)(r->cfg.attempts * q->nservers);
    while (q->try_idx < total) {
        unsigned round = q->try_idx / (unsigned)q->nservers;
        q->srv_idx = q->try_idx % (unsigned)q->nservers;
        q->server = q->servers[q->srv_idx];
        int err = send_udp(q);
        if (err == OASIS_OK) {
            oasis_timer_start(r->s, &q->tmo, now_ns(r) + (r->cfg.timeout_ns << round));
            return;
        }
        r->ctr.send_errors++;
        if (!q->last_err)
            q->last_err = err == OASIS_ENOMEM ? OASIS_DNS_ENOMEM : OASIS_DNS_ENETWORK;
        q->try_idx++;
    }
    finish(q, q->last_err ? q->last_err : OASIS_DNS_ETIMEDOUT, NULL);
}

static void on_timeout(oasis_stack *s, oasis_timer *t)
{
    oasis_dns_req *q = oasis_container_of(t, oasis_dns_req, tmo);
    q->r->ctr.timeouts++;
    next_try(q);
}

/* ---- TCP after truncation (RFC 1035 4.2.2: two-octet length prefix) ------- */

static void tcp_unreachable(oasis_dns_req *q);

static void on_tcp_read(oasis_flow *flow, int err, const uint8_t *data, size_t len, void *ud)
{
    oasis_dns_req *q = ud;
    oasis_dns *r = q->r;
    if (q->flow != flow)
        return; /* torn down */
    if (err) {
        /* The server closed or reset before a whole answer; part of one is
         * a truncated message (RFC 1035 4.2.2: the prefix gives its length). */
        if (q->tlen > 0) {
            r->ctr.malformed++;
            q->last_err = OASIS_DNS_EMALFORMED;
        } else if (!q->tcp_up) {
            tcp_unreachable(q); /* the connection failed (on_tcp_connect) */
            return;
        } else {
            /* It took the question and hung up with no answer at all:
             * this server failed, it did not time out. */
            r->ctr.servfail++;
            q->last_err = OASIS_DNS_ESERVFAIL;
        }
        next_try(q);
        return;
    }
    size_t room = DNS_TCP_MAX - q->tlen;
    if (len > room)
        len = room;
    memcpy(q->tbuf + q->tlen, data, len);
    q->tlen += len;
    if (q->tlen < 2 || q->tlen < 2 + (size_t)oasis_get16(q->tbuf)) {
        if (oasis_tcp_read(flow, on_tcp_read, q) != OASIS_OK)
            next_try(q);
        return;
    }
    size_t mlen = oasis_get16(q->tbuf);
    oasis_dns_msg m;
    if (oasis_dns_msg_parse(q->tbuf + 2, mlen, &m) != OASIS_OK) {
        r->ctr.malformed++;
        q->last_err = OASIS_DNS_EMALFORMED;
        next_try(q);
        return;
    }
    if (!matches(q, &m)) {
        r->ctr.mismatched++;
        next_try(q);
        return;
    }
    if (m.flags & OASIS_DNS_F_TC) {
        /* RFC 2181 9: a reply with TC set is to be ignored (it may hold a
         * partial RRSet; parse did not even read its records), and over
         * TCP there is no larger channel to ask on: this try failed. */
        r->ctr.malformed++;
        q->last_err = OASIS_DNS_EMALFORMED;
        next_try(q);
        return;
    }
    /* One answer per connection: a refused one ends the try. */
    if (tsig_verdict(q, q->tbuf + 2, mlen, &m) != OASIS_DNS_TSIG_OK) {
        next_try(q);
        return;
    }
    handle_response(q, q->tbuf + 2, mlen, &m);
}

/* The TCP connection after TC=1 failed (refused by a RST, an ICMP error,
 * no answer to the SYN): the server cannot be reached over TCP, as a port
 * unreachable says over UDP (on_udp_error), and the next server is asked
 * at once; if none answers, the request says OASIS_DNS_ENETWORK. */
static void tcp_unreachable(oasis_dns_req *q)
{
    q->r->ctr.unreachable++;
    q->last_err = OASIS_DNS_ENETWORK;
    next_try(q);
}

static void on_tcp_connect(oasis_stack *s, oasis_flow *flow, int err, void *ud)
{
    oasis_dns_req *q = ud;
    if (q->flow != flow)
        return;
    if (!err)
        q->tcp_up = 1;
    else
        tcp_unreachable(q);
}

static void start_tcp(oasis_dns_req *q)
{
    oasis_dns *r = q->r;
    oasis_stack *s = r->s;
    size_t n;

    oasis_timer_stop(s, &q->tmo);
    udp_release(q);
    if (!q->tbuf) {
        q->tbuf = oasis_malloc(s, DNS_TCP_MAX);
        if (!q->tbuf) {
            q->last_err = OASIS_DNS_ENOMEM;
            q->try_idx++;
            start_try(q);
            return;
        }
    }
    q->tlen = 0;
    q->tcp_up = 0;
    q->id = (uint16_t)unpredictable_draw(r);
    /* The TCP query carries the OPT too when the UDP one did: its payload
     * size means nothing over TCP, but it still says we speak EDNS, so the
     * server may send its OPT (and an extended RCODE) back. */
    uint16_t edns = edns_size(q);
    q->edns_sent = edns != 0;
    oasis_dns_query_build(q->tq + 2, sizeof q->tq - 2, q->id, &q->cur, q->qtype, edns, &n);
    sign_query(q, q->tq + 2, &n, sizeof q->tq - 2);
    oasis_put16(q->tq, (uint16_t)n);
    oasis_flow *f = NULL;
    int err = oasis_tcp_connect_flow(s, &q->server, r->cfg.port, NULL, on_tcp_connect, q, &f);
    if (err == OASIS_OK) {
        q->flow = f;
        err = oasis_tcp_set_lib_owned(f);
        if (err == OASIS_OK)
            err = oasis_tcp_write(f, q->tq, n + 2, NULL, NULL);
        if (err == OASIS_OK)
            err = oasis_tcp_read(f, on_tcp_read, q);
    }
    if (err) {
        r->ctr.send_errors++;
        next_try(q);
        return;
    }
    r->ctr.tcp_queries++;
    oasis_timer_start(s, &q->tmo, now_ns(r) + r->cfg.tcp_timeout_ns);
}

/* ---- the API -------------------------------------------------------------- */

static void on_defer(oasis_stack *s, oasis_timer *t)
{
    oasis_dns_req *q = oasis_container_of(t, oasis_dns_req, defer);
    if (q->started) {
        finish(q, q->defer_status, &q->res);
        return;
    }
    q->started = 1;
    start_try(q);
}

/* A request handle holding a copy of name; NULL without memory. */
static oasis_dns_req *new_req(oasis_dns *r, const char *name, oasis_dns_family family,
                              oasis_dns_cb cb, void *ud)
{
    oasis_dns_req *q = oasis_calloc(r->s, 1, sizeof *q);
    if (!q)
        return NULL;
    size_t nl = strlen(name);
    q->name = oasis_malloc(r->s, nl + 1);
    if (!q->name) {
        oasis_free(r->s, q);
        return NULL;
    }
    memcpy(q->name, name, nl + 1);
    q->r = r;
    q->cb = cb;
    q->ud = ud;
    q->family = family;
    oasis_timer_init(&q->tmo, on_timeout);
    oasis_timer_init(&q->defer, on_defer);
    return q;
}

/* One name, one question: a literal, a cache hit, a follower of the same
 * question, or a request that asks. A search candidate (cb search_step)
 * is not counted as the application's request. */
static int resolve_one(oasis_dns *r, const char *name, const oasis_dns_name *qn, int literal,
                       uint32_t lit, oasis_dns_family family, oasis_dns_cb cb, void *ud,
                       oasis_dns_req **req)
{
    oasis_dns_name qname = *qn;
    uint16_t qtype = family == OASIS_DNS_INET6 ? OASIS_DNS_TYPE_AAAA : OASIS_DNS_TYPE_A;

    oasis_dns_name key = qname;
    oasis_dns_name_lower(&key);
    dns_cache_entry *hit = literal || !r->cache ? NULL : cache_find(r, &key, qtype);
    if (!literal && !hit && r->nservers == 0)
        return OASIS_DNS_ENOSERVERS;
    /* Only a query is signed: a literal or a cache hit needs no time. */
    if (r->tsig && !r->wall_set && !literal && !hit)
        return OASIS_DNS_ENOTIME;

    /* RFC 5452 5: a forger gains "if it can force the target resolver to
     * have multiple equivalent (identical QNAME, QTYPE, and QCLASS)
     * outstanding queries at any one time": any of them may take his
     * answer. The same question already being asked is followed. */
    oasis_dns_req *lead = NULL;
    if (!literal && !hit)
        for (oasis_dns_req *p = r->pending; p && !lead; p = p->next)
            if (p->asks && p->qtype == qtype && oasis_dns_name_equal(&p->qname, &qname))
                lead = p;

    oasis_dns_req *q = new_req(r, name, family, cb, ud);
    if (!q)
        return OASIS_ENOMEM;
    q->qname = qname;
    q->cur = qname;
    q->qtype = qtype;
    q->chain_ttl = UINT32_MAX;
    q->loop_mark = qname;
    q->loop_power = 1;
    q->nservers = r->nservers;
    memcpy(q->servers, r->servers, sizeof q->servers);

    if (cb != search_step)
        r->ctr.requests++;
    if (lead) {
        /* Not in the pending list: the leader's end (or the resolver's
         * destruction through it) ends this one too. */
        r->ctr.coalesced++;
        if (r->cache)
            r->ctr.cache_misses++;
        q->leader = lead;
        q->fnext = lead->followers;
        lead->followers = q;
        if (req)
            *req = q;
        return OASIS_OK;
    }
    q->asks = !literal && !hit;
    if (literal && family == OASIS_DNS_INET6) {
        /* A dotted quad is an IPv4 address, never a name to look up (RFC
         * 1123 2.1): no address of this family. */
        q->started = 1;
        q->defer_status = OASIS_DNS_ENODATA;
    } else if (literal) {
        uint8_t b[4];
        oasis_put32(b, lit);
        oasis_dns_name self;
        oasis_dns_name_from_text(name, &self);
        fill_result(q, &self, b, 1, 4, 0, 0);
        q->started = 1;
    } else if (hit) {
        uint64_t left = (hit->expires - now_ns(r)) / OASIS_NS_PER_SEC;
        r->ctr.cache_hits++;
        hit->last_used = now_ns(r);
        q->started = 1;
        q->defer_status = hit->status;
        if (hit->status == 0) {
            uint8_t flat[OASIS_DNS_MAX_ADDRS * 16];
            size_t alen = qtype == OASIS_DNS_TYPE_AAAA ? 16 : 4;
            for (size_t i = 0; i < hit->naddr; i++)
                memcpy(flat + i * alen, hit->addrs[i], alen);
            fill_result(q, &hit->canonical, flat, hit->naddr, alen, (uint32_t)left, 1);
        }
    } else if (r->cache) {
        r->ctr.cache_misses++;
    }
    /* Everything, even a cache hit, goes on from the next poll: the callback
     * never runs inside this call. */
    q->next = r->pending;
    if (q->next)
        q->next->prev = q;
    r->pending = q;
    oasis_timer_start(r->s, &q->defer, now_ns(r));
    if (req)
        *req = q;
    return OASIS_OK;
}

/* ---- the search list (dns.h: resolv.conf's order and rules) ------------- */

/* Starts the search's next candidate that makes a name of at most 255
 * octets. Returns 0, SEARCH_DONE when none is left, or resolve_one's
 * error. */
#define SEARCH_DONE 1
static int search_next(oasis_dns_req *q)
{
    dns_search *sr = q->srch;
    while (sr->next <= sr->ndom) {
        unsigned k = sr->next++;
        int as_given = sr->as_given_first ? k == 0 : k == sr->ndom;
        unsigned d = sr->as_given_first ? k - 1 : k;
        oasis_dns_name cand = sr->rel;
        if (!as_given && oasis_dns_name_concat(&sr->rel, &sr->dom[d], &cand) != OASIS_OK)
            continue; /* too long with this domain */
        /* The root in the list makes the name as given: asked once, at
         * the first of its places (glibc's res_search does the same). */
        int is_rel = as_given || cand.len == sr->rel.len;
        if (is_rel && sr->rel_asked)
            continue;
        sr->rel_asked |= is_rel;
        char text[OASIS_DNS_NAME_STRLEN];
        oasis_dns_name_to_text(&cand, text, sizeof text);
        int err = resolve_one(q->r, text, &cand, 0, 0, q->family, search_step, q, &sr->inner);
        if (!err && k > 0)
            q->r->ctr.search_next++;
        return err;
    }
    return SEARCH_DONE;
}

/* A candidate's outcome (inside its finish(): r->in_cb is held). Names
 * that do not exist, have no address of the family, or whose servers
 * failed move on to the next candidate; anything else ends the search. */
static void search_step(oasis_dns_req *inner, int status, const oasis_dns_result *res, void *ud)
{
    oasis_dns_req *q = ud;
    dns_search *sr = q->srch;
    (void)inner;
    sr->inner = NULL; /* finish() frees it when this returns */
    if (sr->as_given_first && sr->next == 1)
        sr->first_status = status;
    sr->saw_nodata |= status == OASIS_DNS_ENODATA;
    sr->saw_servfail |= status == OASIS_DNS_ESERVFAIL;
    if (status == OASIS_DNS_ENXDOMAIN || status == OASIS_DNS_ENODATA ||
        status == OASIS_DNS_ESERVFAIL) {
        int err = search_next(q);
        if (err == OASIS_OK)
            return;
        if (err != SEARCH_DONE)
            status = err; /* the next could not start: no memory, no servers */
    }
    /* Which failure to tell (glibc's res_search): the name as given when
     * it went first, else "no data" if any candidate had the name, else
     * SERVFAIL, else the last one's. Our own troubles pass as they are. */
    if (status != 0 && status != OASIS_DNS_ECANCELED && status != OASIS_DNS_ENOMEM &&
        status != OASIS_DNS_ENOSERVERS && status != OASIS_DNS_ENOTIME) {
        if (sr->first_status)
            status = sr->first_status;
        else if (sr->saw_nodata)
            status = OASIS_DNS_ENODATA;
        else if (sr->saw_servfail)
            status = OASIS_DNS_ESERVFAIL;
    }
    oasis_dns_result out;
    if (status == 0) {
        out = *res;
        out.name = q->name;
    }
    count_outcome(q, status);
    q->in_cb = 1;
    q->cb(q, status, status == 0 ? &out : NULL, q->ud);
    free_req(q);
}

static int search_start(oasis_dns *r, const char *name, const oasis_dns_name *rel,
                        oasis_dns_family family, oasis_dns_cb cb, void *ud, oasis_dns_req **req)
{
    oasis_dns_req *q = new_req(r, name, family, cb, ud);
    if (!q)
        return OASIS_ENOMEM;
    q->srch = oasis_calloc(r->s, 1, sizeof *q->srch);
    if (!q->srch) {
        free_req(q);
        return OASIS_ENOMEM;
    }
    dns_search *sr = q->srch;
    sr->rel = *rel;
    sr->ndom = (unsigned)r->nsearch;
    memcpy(sr->dom, r->search, r->nsearch * sizeof r->search[0]);
    /* The dots between its labels: an escaped dot ("\.") is inside one. */
    unsigned dots = 0;
    for (size_t i = 0; rel->b[i] != 0; i += 1 + rel->b[i])
        dots += i > 0;
    sr->as_given_first = dots >= r->cfg.ndots;
    int err = search_next(q); /* the first candidate always fits: the name itself did */
    if (err) {
        free_req(q);
        return err == SEARCH_DONE ? OASIS_DNS_EBADNAME : err;
    }
    r->ctr.requests++;
    if (req)
        *req = q;
    return OASIS_OK;
}

int oasis_dns_resolve(oasis_dns *r, const char *name, oasis_dns_family family, oasis_dns_cb cb,
                      void *ud, oasis_dns_req **req)
{
    oasis_dns_name qname;
    uint32_t lit;

    if (req)
        *req = NULL;
    if (!r || !name || !cb || (family != OASIS_DNS_INET && family != OASIS_DNS_INET6))
        return OASIS_EINVAL;
    /* From a callback of oasis_dns_destroy: a request taken now would be
     * canceled in turn, and one that asks again each time would keep
     * destroy from ever returning. */
    if (r->closing)
        return OASIS_EBUSY;
    /* RFC 1123 2.1: a dotted quad is checked for before any DNS lookup. */
    int literal = oasis_addr_parse(name, &lit) == OASIS_OK;
    if (!literal && oasis_dns_name_from_text(name, &qname) != OASIS_OK)
        return OASIS_DNS_EBADNAME;
    if (literal && oasis_dns_name_from_text("invalid.", &qname) != OASIS_OK)
        return OASIS_EINVAL;
    if (!literal && r->nsearch && !oasis_dns_text_is_absolute(name))
        return search_start(r, name, &qname, family, cb, ud, req);
    return resolve_one(r, name, &qname, literal, lit, family, cb, ud, req);
}

int oasis_dns_cancel(oasis_dns_req *q)
{
    if (!q)
        return OASIS_EINVAL;
    if (q->in_cb)
        return OASIS_EBUSY; /* finish() frees it when the callback returns */
    if (q->srch) {
        /* Its candidate goes (counted there); between candidates there is
         * always one: search_step starts the next before it returns. */
        oasis_dns_cancel(q->srch->inner);
        free_req(q);
        return OASIS_OK;
    }
    q->r->ctr.canceled++;
    if (q->leader) {
        oasis_dns_req *lead = q->leader, **pp = &lead->followers;
        while (*pp != q)
            pp = &(*pp)->fnext;
        *pp = q->fnext;
        free_req(q);
        /* The last one a canceled leader asked for has gone: nobody waits
         * for its answer, so its port and its retries go too. (Not while
         * its finish() tells the followers: that frees it after.) */
        if (!lead->cb && !lead->followers && !lead->in_cb) {
            unlink_req(lead);
            free_req(lead);
        }
        return OASIS_OK;
    }
    if (q->followers) {
        q->cb = NULL; /* keeps asking for those that follow it */
        return OASIS_OK;
    }
    unlink_req(q);
    free_req(q);
    return OASIS_OK;
}

int oasis_dns_destroy(oasis_dns *r)
{
    if (!r)
        return OASIS_OK;
    if (r->in_cb)
        return OASIS_EBUSY; /* finish() goes on with r when it returns */
    /* The cancels' callbacks run inside this call: destroying the stack
     * from them is refused, and so is a nested destroy of r. */
    oasis_stack *s = r->s;
    r->closing = 1;
    oasis_app_enter(s);
    while (r->pending)
        finish(r->pending, OASIS_DNS_ECANCELED, NULL);
    oasis_app_leave(s);
    oasis_free(s, r->cache);
    oasis_free(s, r->avoid);
    if (r->tsig)
        memset(r->tsig, 0, sizeof *r->tsig); /* the secret does not outlive us */
    oasis_free(s, r->tsig);
    oasis_free(s, r);
    oasis_stack_client_del(s);
    return OASIS_OK;
}
