/* TCP layer: init/fini, the flow table (hash of 4-tuples), listeners,
 * demultiplexing of incoming segments, TIME_WAIT entries and flow lifetime.
 * The dispatcher that runs completions is in tcp_dispatch.c. */
#include <stdlib.h>
#include <string.h>

#include "core/checksum.h"
#include "core/compiler.h"
#include "core/mem.h"
#include "core/slab.h"
#include "core/stack_impl.h"
#include "core/siphash.h"
#include "ip/ipv4.h"
#include "ipv6/ipv6.h"
#include "oasis/error.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_isn.h"
#include "tcp/tcp_seq.h"

#define INITIAL_BUCKETS 64u
#define EPHEMERAL_LO 49152u
#define EPHEMERAL_N 16384u

static void tw_timer_fn(oasis_stack *s, oasis_timer *t);

/* ---- flow table ---------------------------------------------------------- */

static int addr_eq(const oasis_ipaddr *a, const oasis_ipaddr *b)
{
    return a->family == b->family && memcmp(a->b, b->b, 16) == 0;
}

static int conn_is(const oasis_tcp_conn *c, const oasis_ipaddr *laddr, uint16_t lport,
                   const oasis_ipaddr *raddr, uint16_t rport)
{
    return c->rport == rport && c->lport == lport && addr_eq(&c->raddr, raddr) &&
           addr_eq(&c->laddr, laddr);
}

/* The tuple's hash, unmasked (a table that grows keeps using it). */
static uint32_t tuple_hash(oasis_tcp_layer *L, const oasis_ipaddr *laddr, uint16_t lport,
                           const oasis_ipaddr *raddr, uint16_t rport)
{
    /* SipHash keyed with the stack's secret salt, so that a peer cannot aim
     * its tuples (of either family) at one bucket. An IPv4 tuple hashes its
     * 12 bytes (two SipHash blocks, not five for the IPv4-mapped 36): the
     * lengths differ, so the two families' messages never coincide. */
    uint8_t msg[36];
    size_t n;
    if (raddr->family == OASIS_AF_INET) {
        memcpy(msg, laddr->b + 12, 4);
        memcpy(msg + 4, raddr->b + 12, 4);
        n = 8;
    } else {
        memcpy(msg, laddr->b, 16);
        memcpy(msg + 16, raddr->b, 16);
        n = 32;
    }
    msg[n] = (uint8_t)(lport >> 8);
    msg[n + 1] = (uint8_t)lport;
    msg[n + 2] = (uint8_t)(rport >> 8);
    msg[n + 3] = (uint8_t)rport;
    L->hashes++;
    return (uint32_t)oasis_siphash24(L->hash_key, msg, n + 4);
}

/* tuple_hash, remembered for the last tuple: a new tuple is looked up (a
 * SYN's, pick_port's) and then inserted with the lookup's hash. The zeroed
 * tuple it starts with (family 0) matches none. */
static uint32_t conn_hash(oasis_tcp_layer *L, const oasis_ipaddr *laddr, uint16_t lport,
                          const oasis_ipaddr *raddr, uint16_t rport)
{
    if (!conn_is(&L->hashed, laddr, lport, raddr, rport)) {
        L->hashed.laddr = *laddr;
        L->hashed.raddr = *raddr;
        L->hashed.lport = lport;
        L->hashed.rport = rport;
        L->hashed_val = tuple_hash(L, laddr, lport, raddr, rport);
    }
    return L->hashed_val;
}

/* A chain ends in a marker naming its bucket (odd: never an entry's
 * address; Linux's hlist_nulls), so an entry finds its bucket and leaves
 * the table without hashing its tuple again. An entry out of the table
 * has hnext NULL. */
static oasis_tcp_conn *chain_end(uint32_t bucket)
{
    return (oasis_tcp_conn *)(((uintptr_t)bucket << 1) | 1u);
}

static int is_chain_end(const oasis_tcp_conn *c)
{
    return ((uintptr_t)c & 1u) != 0;
}

/* The link that points at c, an entry in the table. */
static oasis_tcp_conn **chain_link(oasis_tcp_layer *L, const oasis_tcp_conn *c)
{
    const oasis_tcp_conn *e = c->hnext;
    while (!is_chain_end(e))
        e = e->hnext;
    oasis_tcp_conn **pp = &L->buckets[(uintptr_t)e >> 1];
    while (*pp != c)
        pp = &(*pp)->hnext;
    return pp;
}

/* The memo slot of a tuple: cheap and unkeyed, which is safe because a
 * slot only saves the hash when its entry matches in full; a peer aiming
 * tuples at one slot only makes lookups hash as they would anyway. */
static unsigned memo_slot(uint16_t lport, uint16_t rport)
{
    return (unsigned)(lport ^ rport ^ (rport >> 8)) & (OASIS_TCP_MEMO - 1);
}

/* oasis_tcp_lookup past its memo: the tuple's bucket (out of line, so the
 * memo's hit saves and restores no registers for it). */
static OASIS_NOINLINE oasis_tcp_conn *lookup_hashed(oasis_tcp_layer *L, oasis_tcp_conn **m,
                                                    const oasis_ipaddr *laddr, uint16_t lport,
                                                    const oasis_ipaddr *raddr, uint16_t rport)
{
    oasis_tcp_conn *c;
    uint32_t h = conn_hash(L, laddr, lport, raddr, rport) & (L->nbuckets - 1);
    for (c = L->buckets[h]; !is_chain_end(c); c = c->hnext)
        if (conn_is(c, laddr, lport, raddr, rport)) {
            *m = c;
            return c;
        }
    return NULL;
}

oasis_tcp_conn *oasis_tcp_lookup(oasis_stack *s, const oasis_ipaddr *laddr, uint16_t lport,
                                 const oasis_ipaddr *raddr, uint16_t rport)
{
    oasis_tcp_layer *L = s->tcp;
    /* Segments come in runs of a few flows (request/response: always the
     * same one; connect/close: the new flow and the one closing): the
     * entry last found for the slot is tried before hashing. It is always
     * in the table: whatever takes an entry out clears it (table_left). */
    oasis_tcp_conn **m = &L->memo[memo_slot(lport, rport)];
    oasis_tcp_conn *c = *m;
    if (c && conn_is(c, laddr, lport, raddr, rport))
        return c;
    return lookup_hashed(L, m, laddr, lport, raddr, rport);
}

static oasis_tcp_conn **buckets_new(oasis_stack *s, uint32_t n)
{
    oasis_tcp_conn **b = oasis_malloc(s, n * sizeof *b);
    for (uint32_t i = 0; b && i < n; i++)
        b[i] = chain_end(i);
    return b;
}

/* Doubles the table at two entries a bucket on average: chains stay short
 * (a lookup walks 1 to 2 entries on average), and the buckets cost an
 * idle flow 4 to 8 bytes instead of 8 to 16 (a million flows: 4 MiB). */
static void table_grow(oasis_stack *s)
{
    oasis_tcp_layer *L = s->tcp;
    uint32_t n = L->nbuckets * 2;
    oasis_tcp_conn **nb = buckets_new(s, n);
    if (!nb)
        return; /* keep the old table: longer chains, still correct */
    oasis_tcp_conn **old = L->buckets;
    uint32_t oldn = L->nbuckets;
    memset(L->memo, 0, sizeof L->memo); /* entries stay where they are; cleared all the same */
    L->buckets = nb;
    L->nbuckets = n;
    for (uint32_t i = 0; i < oldn; i++) {
        oasis_tcp_conn *c = old[i];
        while (!is_chain_end(c)) {
            oasis_tcp_conn *next = c->hnext;
            uint32_t h = tuple_hash(L, &c->laddr, c->lport, &c->raddr, c->rport) & (n - 1);
            c->hnext = nb[h];
            nb[h] = c;
            c = next;
        }
    }
    oasis_free(s, old);
}

int oasis_tcp_table_insert(oasis_stack *s, oasis_tcp_conn *c)
{
    oasis_tcp_layer *L = s->tcp;
    if (L->count >= 2 * L->nbuckets)
        table_grow(s);
    uint32_t h = conn_hash(L, &c->laddr, c->lport, &c->raddr, c->rport) & (L->nbuckets - 1);
    c->hnext = L->buckets[h];
    L->buckets[h] = c;
    L->count++;
    if (c->kind == OASIS_TCP_KIND_FLOW) {
        ((oasis_flow *)c)->in_table = 1;
        L->memo[memo_slot(c->lport, c->rport)] = c; /* the handshake's next segment */
    }
    return 0;
}

/* c is out of the table (hnext NULL); nu, if any, took its place. */
static void table_left(oasis_tcp_layer *L, oasis_tcp_conn *c, oasis_tcp_conn *nu)
{
    oasis_tcp_conn **m = &L->memo[memo_slot(c->lport, c->rport)];
    if (*m == c)
        *m = nu; /* a lookup must never find c again */
    if (L->last4 == (oasis_flow *)c)
        L->last4 = NULL;
    if (L->last6 == (oasis_flow *)c)
        L->last6 = NULL;
    c->hnext = NULL;
    if (c->kind == OASIS_TCP_KIND_FLOW)
        ((oasis_flow *)c)->in_table = 0;
}

void oasis_tcp_table_remove(oasis_stack *s, oasis_tcp_conn *c)
{
    oasis_tcp_layer *L = s->tcp;
    if (c->hnext) {
        oasis_tcp_conn **pp = chain_link(L, c);
        *pp = c->hnext;
        L->count--;
    }
    table_left(L, c, NULL);
}

/* nu (the same tuple: a TIME_WAIT entry for its flow) takes c's place in
 * the table. */
static void table_replace(oasis_stack *s, oasis_tcp_conn *c, oasis_tcp_conn *nu)
{
    oasis_tcp_layer *L = s->tcp;
    oasis_tcp_conn **pp = chain_link(L, c);
    nu->hnext = c->hnext;
    *pp = nu;
    table_left(L, c, nu);
}

oasis_tcp_listener *oasis_tcp_find_listener(oasis_stack *s, uint16_t port)
{
    for (oasis_tcp_listener *l = s->tcp->listeners; l; l = l->next)
        if (l->port == port)
            return l;
    return NULL;
}

/* Is dst the address a listener answers on (IPv4: ours towards src, or
 * 127/8 on loopback; IPv6: an address of ours, ::1 from loopback; groups
 * are refused above)? A transparent listener answers on any address the
 * layers below delivered (cfg.transparent: any unicast one). */
static int listen_addr_ok(oasis_stack *s, const oasis_tcp_listener *l, const oasis_ipaddr *src,
                          const oasis_ipaddr *dst)
{
    if (l->local.family && !oasis_ipaddr_eq(dst, &l->local))
        return 0; /* a listener limited to one address (RFC 1122 4.2.4.4) */
    if (oasis_ipaddr_is_v6(dst))
        return (l->families & OASIS_TCP_LISTEN_V6) &&
               (l->transparent || !oasis_ipv6_foreign(s, dst));
    return (l->families & OASIS_TCP_LISTEN_V4) &&
           (l->transparent ||
            oasis_ipaddr_to_v4(dst) == oasis_ipv4_source(s, oasis_ipaddr_to_v4(src)));
}

/* The listener a SYN from src to dst on port goes to: the port's, if it
 * answers on dst, else a transparent stack's listener of every port. */
static oasis_tcp_listener *listener_for(oasis_stack *s, uint16_t port, const oasis_ipaddr *src,
                                        const oasis_ipaddr *dst)
{
    oasis_tcp_listener *l = oasis_tcp_find_listener(s, port);
    if (l && listen_addr_ok(s, l, src, dst))
        return l;
    if (!s->cfg.transparent)
        return NULL;
    l = oasis_tcp_find_listener(s, 0);
    return l && listen_addr_ok(s, l, src, dst) ? l : NULL;
}

/* ---- ISN and ports ------------------------------------------------------- */

void oasis_tcp_set_next_isn(oasis_stack *s, uint32_t isn)
{
    s->tcp->have_next_isn = 1;
    s->tcp->next_isn = isn;
}

uint32_t oasis_tcp_new_isn(oasis_stack *s, const oasis_tcp_conn *c)
{
    oasis_tcp_layer *L = s->tcp;
    if (L->have_next_isn) {
        L->have_next_isn = 0;
        return L->next_isn;
    }
    return oasis_tcp_isn(L->isn_key, &c->laddr, c->lport, &c->raddr, c->rport, oasis_now(s));
}

/* An ephemeral port not in use from laddr towards (raddr, rport); 0 if
 * none is free. */
uint16_t oasis_tcp_pick_port(oasis_stack *s, const oasis_ipaddr *laddr, const oasis_ipaddr *raddr,
                             uint16_t rport)
{
    oasis_tcp_layer *L = s->tcp;
    for (uint32_t i = 0; i < EPHEMERAL_N; i++) {
        uint16_t port = (uint16_t)(EPHEMERAL_LO + (L->next_port++ % EPHEMERAL_N));
        if (!oasis_tcp_lookup(s, laddr, port, raddr, rport) && !oasis_tcp_find_listener(s, port))
            return port;
    }
    return 0;
}

int oasis_tcp_source(oasis_stack *s, const oasis_ipaddr *raddr, oasis_ipaddr *laddr)
{
    if (oasis_ipaddr_is_v4(raddr)) {
        *laddr = oasis_ipaddr_v4(oasis_ipv4_source(s, oasis_ipaddr_to_v4(raddr)));
        return OASIS_OK;
    }
    oasis_in6 src, dst;
    memcpy(dst.b, raddr->b, 16);
    if (!s->ip6 || !s->ip6->on || oasis_ipv6_select_src(s, &dst, &src) != 0)
        return OASIS_ENOROUTE;
    *laddr = oasis_ipaddr_v6(src.b);
    return OASIS_OK;
}

/* A family-0 or unspecified address names none (as bind to INADDR_ANY). */
static int names_one(const oasis_ipaddr *a)
{
    return a && a->family && !oasis_ipaddr_is_unspecified(a);
}

int oasis_tcp_source_given(oasis_stack *s, const oasis_ipaddr *raddr, const oasis_ipaddr *want,
                           oasis_ipaddr *laddr)
{
    if (!names_one(want))
        return oasis_tcp_source(s, raddr, laddr);
    if (want->family != raddr->family)
        return OASIS_EINVAL;
    if (oasis_ipaddr_is_v4(want)) {
        /* One IPv4 address: the choice can only agree with the stack's. */
        uint32_t a = oasis_ipaddr_to_v4(want);
        if (a != oasis_ipv4_source(s, oasis_ipaddr_to_v4(raddr)))
            return OASIS_EADDRNOTAVAIL;
        *laddr = oasis_ipaddr_v4(a);
        return OASIS_OK;
    }
    oasis_in6 a, r;
    memcpy(a.b, want->b, 16);
    memcpy(r.b, raddr->b, 16);
    /* RFC 4862 5.4: never a tentative source; ::1 only to ourselves */
    if (!oasis_ipv6_src_ok(s, &a, &r))
        return OASIS_EADDRNOTAVAIL;
    *laddr = oasis_ipaddr_v6(a.b);
    return OASIS_OK;
}

int oasis_tcp_listen_local(oasis_stack *s, const oasis_ipaddr *want, unsigned *families,
                           oasis_ipaddr *local)
{
    memset(local, 0, sizeof *local);
    if (!names_one(want))
        return OASIS_OK;
    int v6 = oasis_ipaddr_is_v6(want);
    if (!v6 && !oasis_ipaddr_is_v4(want))
        return OASIS_EINVAL;
    unsigned its = v6 ? OASIS_TCP_LISTEN_V6 : OASIS_TCP_LISTEN_V4;
    if (*families && !(*families & its))
        return OASIS_EINVAL;
    if (v6) {
        oasis_in6 a;
        memcpy(a.b, want->b, 16);
        /* tentative included: its DAD may pass; ::1 like 127/8 below */
        if (!oasis_ipv6_holds(s, &a) && !(oasis_in6_is_loopback(&a) && oasis_ipv6_enabled(s)))
            return OASIS_EADDRNOTAVAIL;
        *local = oasis_ipaddr_v6(a.b);
    } else {
        uint32_t a = oasis_ipaddr_to_v4(want);
        if (!((a && a == s->addr) || (a >> 24) == 127))
            return OASIS_EADDRNOTAVAIL;
        *local = oasis_ipaddr_v4(a);
    }
    *families = its;
    return OASIS_OK;
}

uint32_t oasis_tcp_link_mtu(oasis_stack *s, const oasis_ipaddr *raddr)
{
    return oasis_ipaddr_is_v6(raddr) ? oasis_ipv6_link_mtu(s) : s->mtu;
}

/* ---- flow lifetime ------------------------------------------------------- */

/* ---- the extension (tcp_flow.h): what only a busy flow needs ------------ */

/* Extensions kept for reuse: a request/response flow goes idle after every
 * exchange, and taking one from here costs no allocator call. Few, so
 * what they hold stays small beside the flows. */
#define EXT_CACHE_MAX 8

void oasis_tcp_idle_rtt(const oasis_flow *f, oasis_rtt *r)
{
    const oasis_tcp_config *cfg = &f->s->cfg.tcp;
    oasis_rtt_init(r, f->idle_srtt_ns && !f->idle_rtt_ok ? f->idle_srtt_ns : cfg->rto_initial_ns,
                   cfg->rto_min_ns, cfg->rto_max_ns);
    if (f->idle_rtt_ok)
        oasis_rtt_restore(r, f->idle_srtt_ns, f->idle_rttvar_ns);
    r->backoff = f->idle_backoff;
}

/* Fills a fresh extension for f. The rings may hold small storage from
 * the cache (mem/size); everything else is zero. */
static void ext_setup(oasis_flow *f, oasis_tcp_ext *x)
{
    oasis_stack *s = f->s;
    const oasis_tcp_config *cfg = &s->cfg.tcp;
    x->f = f;
    f->ext = x;
    oasis_timer_init(&x->timer, oasis_tcp_timer_fn);
    oasis_tcp_timers_clear(f);
    x->rcv_mss = oasis_tcp_rcv_mss_init(f);
    x->snd.cap = f->sndbuf;
    x->rcv.cap = f->rcvbuf;
    oasis_ofo_init(&x->ofo, cfg->max_ofo_segments ? cfg->max_ofo_segments : 1);
    oasis_tcp_idle_rtt(f, &x->rtt);
    x->ccops = oasis_cc_get((oasis_cc_algo)f->cc_algo);
    if (!x->ccops)
        x->ccops = &oasis_cc_newreno;
    /* Nothing pushed is pending (an idle flow sent all it had): a zeroed
     * push_seq would look ahead of snd_nxt for half the sequence space and
     * switch Nagle off. */
    x->push_seq = f->snd_nxt;
    /* A transparent stack's flow from a foreign address sends from it. */
    if (!oasis_tcp_conn_v6(&f->c)) {
        uint32_t l4 = oasis_ipaddr_to_v4(&f->c.laddr);
        if (l4 != oasis_ipv4_source(s, oasis_ipaddr_to_v4(&f->c.raddr)))
            x->txc.src = l4;
    }
    if (oasis_tcp_synchronized(f) && f->idle_cwnd) {
        oasis_tcp_pmtu_restore(f);
        /* Back from idle: the algorithm starts afresh from the window it
         * had. An extension that remembered more (cc_keeps) went only
         * after an RTO of silence, after which the algorithm forgets it
         * anyway (oasis_cc_ops.remembers). */
        x->ccops->init(&x->cc, oasis_tcp_eff_mss(f), oasis_now(s));
        x->cc.cwnd = f->idle_cwnd;
        x->cc.ssthresh = f->idle_ssthresh;
        oasis_recovery_init(f);
    }
}

/* Storage a cached ring may keep: the small first allocation. */
static void ring_trim(oasis_stack *s, oasis_ring *r)
{
    if (r->size > OASIS_RING_SMALL)
        oasis_ring_fini(s, r);
}

int oasis_tcp_ext_make(oasis_flow *f)
{
    if (!f->ext) {
        oasis_stack *s = f->s;
        oasis_tcp_layer *L = s->tcp;
        oasis_tcp_ext *x = L->ext_free;
        if (x) {
            L->ext_free = x->next_free;
            L->ext_nfree--;
            oasis_ring snd = x->snd, rcv = x->rcv;
            oasis_rack_seg *segs = x->sb.rack.segs;
            uint32_t segs_cap = x->sb.rack.cap;
            memset(x, 0, sizeof *x);
            x->snd.mem = snd.mem;
            x->snd.size = snd.size;
            x->rcv.mem = rcv.mem;
            x->rcv.size = rcv.size;
            x->sb.rack.segs = segs; /* empty: head = n = 0 */
            x->sb.rack.cap = segs_cap;
            /* Storage bigger than this flow's capacity does not fit it. */
            if (x->snd.size > f->sndbuf)
                oasis_ring_fini(s, &x->snd);
            if (x->rcv.size > f->rcvbuf)
                oasis_ring_fini(s, &x->rcv);
        } else {
            x = oasis_calloc(s, 1, sizeof *x);
            if (!x)
                return OASIS_ENOMEM;
        }
        ext_setup(f, x);
        s->ctr.tcp.ext_allocs++;
    }
    return OASIS_OK;
}

/* Idle: nothing in flight, buffered, queued, armed or pending, and the
 * handle the application's. Then the extension holds nothing that the
 * flow cannot rebuild (ext_setup) when something happens again. */
static int flow_idle(const oasis_flow *f)
{
    const oasis_tcp_ext *x = f->ext;
    /* First what a busy flow's segment leaves most often: data to read or
     * to send (the order only saves work: every test reads). */
    if (x->rcv.len || x->snd.len)
        return 0;
    if (f->state != OASIS_TCP_ESTABLISHED) /* past a FIN: fin_seq, rfin_seq are ext's */
        return 0;
    if (f->life != OASIS_TCP_LIFE_APP || f->ready || f->connect_pending || f->accept_pending ||
        f->close_req || f->fin_queued || f->ack_now || f->tlp_rearm || f->rtt_timing ||
        f->acc_queued || f->has_ka)
        return 0;
    if (f->snd_una != f->snd_max || f->snd_nxt != f->snd_max)
        return 0;
    if (!oasis_ofo_empty(&x->ofo) || x->nreqs || x->wq.head ||
        x->ackq.head || x->doneq.head || x->close_cb || x->lst)
        return 0;
    const oasis_tcp_deadlines *t = &x->tm; /* (cc_keep: cc_keeps' own) */
    if ((t->rexmt & t->tlp & t->persist & t->keep & t->fin_wait2 & t->delack & t->reorder &
         t->tune) != OASIS_TCP_NEVER)
        return 0;
    if (x->x.ev_cb || x->x.ev_pending || x->x.snd_urg || x->x.rcv_urg || x->plp.mss ||
        x->plp.probe_mss || x->lib_owned)
        return 0; /* urgent data, reports, a black-hole MSS, the library's: rare, kept */
    /* (an open TLP episode waits for the ACK that tells whether its probe
     * repaired a loss, RFC 8985 7.4: the extension holds it) */
    if (x->rec.state != OASIS_REC_OPEN || x->sb.n || x->sb.dsack_pending || x->sb.rack.tlp_out ||
        x->sb.rack.tlp_episode)
        return 0;
    return !x->unacked && !x->retries && !x->probes_out && !x->ka_sent;
}

static void ext_free(oasis_flow *f, int cache)
{
    oasis_stack *s = f->s;
    oasis_tcp_layer *L = s->tcp;
    oasis_tcp_ext *x = f->ext;
    /* Counted here, on every path (idle release and a flow freed busy):
     * ext_allocs - ext_frees is how many flows hold one. */
    s->ctr.tcp.ext_frees++;
    oasis_timer_stop(s, &x->timer);
    oasis_ofo_fini(s, &x->ofo);
    oasis_tcp_wreq *r;
    while ((r = oasis_tcp_wq_pop(&x->doneq)))
        oasis_tcp_req_free(s, x, r);
    cache = cache && L->ext_nfree < EXT_CACHE_MAX;
    if (!cache || x->sb.rack.cap > OASIS_RACK_SEGS_MIN)
        oasis_rack_segs_free(f); /* a cached one keeps its first, small record ring */
    f->ext = NULL;
    if (cache) {
        ring_trim(s, &x->snd);
        ring_trim(s, &x->rcv);
        x->next_free = L->ext_free;
        L->ext_free = x;
        L->ext_nfree++;
    } else {
        oasis_ring_fini(s, &x->snd);
        oasis_ring_fini(s, &x->rcv);
        oasis_free(s, x);
    }
}

static void ext_release(oasis_flow *f);

/* An idle flow whose controller remembers a congestion event
 * (oasis_cc_ops.remembers) keeps its extension until an RTO after its
 * last send: data before then continues the controller's curve; data
 * after restarts from the initial window (RFC 5681 4.1), and the
 * controller forgets then anyway. Sets the cc_keep deadline while it
 * keeps it. */
static int cc_keeps(oasis_flow *f, uint64_t now)
{
    oasis_tcp_ext *x = f->ext;
    if (!x->ccops->remembers || !x->ccops->remembers(&x->cc))
        return 0;
    uint64_t idle = (uint64_t)((uint32_t)(now / OASIS_NS_PER_MS) - f->last_tx_ms) * OASIS_NS_PER_MS;
    uint64_t rto = oasis_rtt_rto(&x->rtt);
    if (idle > rto)
        return 0;
    /* one ms past: on_idle sees idle time in whole ms, and must see more
     * than the RTO */
    x->tm.cc_keep = now + (rto - idle) + OASIS_NS_PER_MS;
    oasis_tcp_timer_by(f, x->tm.cc_keep);
    return 1;
}

/* Gives the extension back when the flow is idle and nobody is using it. */
OASIS_HOT static void ext_maybe_release(oasis_flow *f)
{
    if (!f->ext || f->hold || f->busy || !flow_idle(f) || cc_keeps(f, oasis_now(f->s)))
        return;
    ext_release(f);
}

void oasis_tcp_ext_drop_canceled(oasis_flow *f)
{
    if (f->ext && !f->hold && !f->busy && f->state == OASIS_TCP_CLOSED && !f->in_table &&
        f->life != OASIS_TCP_LIFE_APP && f->life != OASIS_TCP_LIFE_EMBRYO)
        ext_release(f);
}

/* Keeps in the core what the flow needs across the idle period, then
 * gives the extension back. */
static void ext_release(oasis_flow *f)
{
    const oasis_tcp_ext *x = f->ext;
    f->idle_cwnd = x->cc.cwnd;
    f->idle_ssthresh = x->cc.ssthresh;
    const oasis_rtt *rt = &x->rtt;
    uint64_t first = rt->have_sample ? rt->srtt_ns : rt->rto_ns;
    f->idle_rtt_ok = rt->have_sample ? 1 : 0;
    f->idle_srtt_ns = first > UINT32_MAX ? UINT32_MAX : (uint32_t)first;
    f->idle_rttvar_ns = rt->rttvar_ns > UINT32_MAX ? UINT32_MAX : (uint32_t)rt->rttvar_ns;
    f->idle_backoff = rt->backoff > 31 ? 31 : rt->backoff; /* 2^31 x any RTO: past max */
    f->sndbuf = x->snd.cap;
    f->rcvbuf = x->rcv.cap;
    ext_free(f, 1);
}

void oasis_tcp_ext_idle_slow(oasis_flow *f)
{
    ext_maybe_release(f);
}

void oasis_tcp_ext_cache_trim(oasis_stack *s)
{
    oasis_slab_trim(s, &s->tcp->flows); /* and the flows' spare page */
    oasis_slab_trim(s, &s->tcp->tws);   /* and the TIME_WAIT entries' */
    for (oasis_tcp_ext *x = s->tcp->ext_free; x; x = x->next_free) {
        oasis_ring_fini(s, &x->snd);
        oasis_ring_fini(s, &x->rcv);
        oasis_free(s, x->sb.rack.segs);
        x->sb.rack.segs = NULL;
        x->sb.rack.cap = 0;
    }
}

static void ext_cache_drain(oasis_stack *s)
{
    oasis_tcp_layer *L = s->tcp;
    while (L->ext_free) {
        oasis_tcp_ext *x = L->ext_free;
        L->ext_free = x->next_free;
        oasis_ring_fini(s, &x->snd);
        oasis_ring_fini(s, &x->rcv);
        oasis_free(s, x->sb.rack.segs);
        oasis_free(s, x);
    }
    L->ext_nfree = 0;
}

/* ---- flow lifetime ------------------------------------------------------- */

/* Issue 16: an idle established flow costs at most 256 B with its table
 * slot (up to 8 B at load factor 2 after a doubling) and its share of the
 * slab pages, at any number of flows. A core of 232 B leaves headroom:
 * whoever adds a field here moves one out or into oasis_tcp_ext. */
_Static_assert(sizeof(struct oasis_flow) <= 232, "the idle flow core outgrew its budget");

void oasis_tcp_flow_adopt(oasis_flow *f, oasis_tcp_listener *l)
{
    f->passive = 1;
    f->ext->lst = l;
    l->pending++;
    f->ext->open_cb.accept = l->cb;
    f->ext->open_ud = l->ud;
    if (l->has_ka) {
        f->ext->ka = l->ka;
        f->has_ka = 1;
    }
    f->tos = l->tos;
    f->ttl = l->ttl;
}

oasis_flow *oasis_tcp_flow_new(oasis_stack *s, const oasis_ipaddr *laddr,
                               const oasis_ipaddr *raddr, uint16_t lport, uint16_t rport)
{
    oasis_flow *f = oasis_slab_alloc(s, &s->tcp->flows); /* zeroed */
    if (!f)
        return NULL;
    const oasis_tcp_config *cfg = &s->cfg.tcp;
    f->c.kind = OASIS_TCP_KIND_FLOW;
    f->c.laddr = *laddr;
    f->c.raddr = *raddr;
    f->c.lport = lport;
    f->c.rport = rport;
    f->s = s;
    f->state = OASIS_TCP_CLOSED;
    f->nodelay = cfg->nodelay ? 1 : 0;
    f->tos = (uint8_t)((cfg->dscp & 0x3f) << 2);
    f->mss_recv = (uint16_t)(oasis_tcp_link_mtu(s, raddr) - 20 - oasis_tcp_ip_hlen(&f->c));
    f->mss_send = 536;
    f->sndbuf = cfg->sndbuf;
    f->rcvbuf = cfg->rcvbuf;
    f->cc_algo = oasis_cc_get(cfg->cc) ? cfg->cc : OASIS_CC_NEWRENO;
    /* What we offer in our SYN (or answer with); the peer's SYN narrows it.
     * Our window scale is oasis_tcp_tune_init's, which every creator calls. */
    f->ws_ok = cfg->window_scaling ? 1 : 0;
    f->ts_ok = cfg->timestamps ? 1 : 0;
    f->sack_ok = cfg->sack ? 1 : 0;
    uint64_t now = oasis_now(s);
    f->last_tx_ms = (uint32_t)(now / OASIS_NS_PER_MS);
    f->last_rx_tick = (uint32_t)(now >> OASIS_TCP_RX_TICK_SHIFT);
    f->iss = oasis_tcp_new_isn(s, &f->c);
    f->snd_una = f->snd_nxt = f->snd_max = f->iss;
    f->ts_offset = (uint32_t)oasis_prng_next(&s->prng);
    if (oasis_tcp_ext_get(f)) { /* the handshake needs it */
        oasis_slab_free(s, &s->tcp->flows, f);
        return NULL;
    }
    f->hold = 0; /* not an entry point's: the flow keeps it until idle */

    s->ctr.tcp.flows++;
    return f;
}

oasis_flow *oasis_tcp_flow_next(oasis_stack *s, const oasis_flow *f)
{
    return oasis_slab_next(&s->tcp->flows, f);
}

static void flow_free(oasis_flow *f)
{
    oasis_stack *s = f->s;
    oasis_tcp_layer *L = s->tcp;
    if (f->ext)
        ext_free(f, 1); /* the next connection takes it (connect/close loops) */
    s->ctr.tcp.flows--;
    oasis_slab_free(s, &L->flows, f);
}

void oasis_tcp_maybe_free(oasis_flow *f)
{
    if (f->life == OASIS_TCP_LIFE_RELEASED && !f->in_table && !f->ready && !f->busy)
        flow_free(f);
}

void oasis_tcp_set_life(oasis_flow *f, oasis_tcp_life to)
{
    static const uint8_t allowed[4] = {
        [OASIS_TCP_LIFE_EMBRYO] = 1u << OASIS_TCP_LIFE_APP | 1u << OASIS_TCP_LIFE_RELEASED,
        [OASIS_TCP_LIFE_APP] = 1u << OASIS_TCP_LIFE_FINISHED | 1u << OASIS_TCP_LIFE_RELEASED,
        [OASIS_TCP_LIFE_FINISHED] = 1u << OASIS_TCP_LIFE_RELEASED,
        [OASIS_TCP_LIFE_RELEASED] = 0,
    };
    if (!(allowed[f->life] & (1u << to)))
        abort(); /* a bug in the stack, not in the application */
    f->life = (uint8_t)to;
}

void oasis_tcp_set_state(oasis_flow *f, oasis_tcp_state st)
{
    oasis_tcp_counters *c = &f->s->ctr.tcp;
    /* RFC 4022 counts direct transitions to CLOSED whatever ends the flow
     * (a reset either way, an abort, a timeout, a lost address):
     * tcpAttemptFails from SYN-SENT or SYN-RCVD (a passive one "returns to
     * LISTEN": here it ends), tcpEstabResets from ESTABLISHED or CLOSE-WAIT. */
    if (st == OASIS_TCP_CLOSED) {
        if (f->state == OASIS_TCP_SYN_SENT || f->state == OASIS_TCP_SYN_RECEIVED)
            c->attempt_fails++;
        else if (f->state == OASIS_TCP_ESTABLISHED || f->state == OASIS_TCP_CLOSE_WAIT)
            c->estab_resets++;
    }
    int estab = st == OASIS_TCP_ESTABLISHED || st == OASIS_TCP_CLOSE_WAIT;
    if (estab && !f->estab_counted) {
        f->estab_counted = 1;
        c->curr_estab++;
    } else if (!estab && f->estab_counted) {
        f->estab_counted = 0;
        c->curr_estab--;
    }
    f->state = (uint8_t)st;
}

/* ---- requests ------------------------------------------------------------ */

void oasis_tcp_wq_push(oasis_tcp_wq *q, oasis_tcp_wreq *r)
{
    r->next = NULL;
    if (q->tail)
        q->tail->next = r;
    else
        q->head = r;
    q->tail = r;
}

oasis_tcp_wreq *oasis_tcp_wq_pop(oasis_tcp_wq *q)
{
    oasis_tcp_wreq *r = q->head;
    if (r) {
        q->head = r->next;
        if (!q->head)
            q->tail = NULL;
        r->next = NULL;
    }
    return r;
}

void oasis_tcp_req_done(oasis_flow *f, oasis_tcp_wreq *r, int err)
{
    r->err = err;
    oasis_tcp_wq_push(&f->ext->doneq, r);
    oasis_tcp_wake(f);
}

void oasis_tcp_req_free(oasis_stack *s, oasis_tcp_ext *x, oasis_tcp_wreq *r)
{
    if (r == &x->done1)
        x->done1_used = 0;
    else
        oasis_free(s, r);
}

/* ---- ending a connection ------------------------------------------------- */

static void fail_requests(oasis_flow *f)
{
    oasis_tcp_wreq *r;
    if (!f->ext)
        return; /* idle: no requests */
    while ((r = oasis_tcp_wq_pop(&f->ext->wq)))
        oasis_tcp_req_done(f, r, OASIS_ECLOSED);
    while ((r = oasis_tcp_wq_pop(&f->ext->ackq)))
        oasis_tcp_req_done(f, r, OASIS_ECLOSED);
}

/* What ended a flow, for oasis_tcp_flow_strerror(): the error alone cannot
 * tell a failed connection attempt from a dead established connection. */
static uint8_t end_cause(const oasis_flow *f, int err)
{
    int opening = f->state == OASIS_TCP_SYN_SENT || f->state == OASIS_TCP_SYN_RECEIVED;
    if (err == OASIS_ETIMEDOUT) {
        if (opening)
            return OASIS_TCP_END_SYN_TIMEOUT;
        if (f->has_ka && f->ext && f->ext->ka.probes && f->ext->ka_sent >= f->ext->ka.probes)
            return OASIS_TCP_END_KEEPALIVE;
        if (f->state == OASIS_TCP_FIN_WAIT_2)
            return OASIS_TCP_END_FIN_WAIT2;
        return OASIS_TCP_END_RETRIES;
    }
    if (err == OASIS_ERESET)
        return opening ? OASIS_TCP_END_REFUSED : OASIS_TCP_END_RESET;
    if (err == OASIS_ECANCELED)
        return OASIS_TCP_END_CANCELED;
    if (err == OASIS_EREFUSED || err == OASIS_EHOSTUNREACH || err == OASIS_ENETUNREACH ||
        err == OASIS_EPROTOUNREACH || err == OASIS_EMALFORMED)
        return OASIS_TCP_END_ICMP; /* tcp_icmp.c */
    return OASIS_TCP_END_NONE;
}

void oasis_tcp_flow_end(oasis_flow *f, int err)
{
    oasis_stack *s = f->s;
    if (f->state == OASIS_TCP_CLOSED && !f->in_table)
        return;
    if (err == OASIS_ETIMEDOUT && f->ext->soft_err)
        err = f->ext->soft_err; /* RFC 1122 4.2.3.9: say why it timed out (tcp_icmp.c) */
    if (err) {
        f->end_why = end_cause(f, err);
        /* ERESET is for established connections (error.h): an attempt the
         * peer resets was refused, as its connect callback hears. */
        f->err = (int8_t)(f->end_why == OASIS_TCP_END_REFUSED ? OASIS_EREFUSED : err);
    }
    oasis_tcp_set_state(f, OASIS_TCP_CLOSED);
    if (f->in_table)
        oasis_tcp_table_remove(s, &f->c);
    if (f->ext) {
        oasis_tcp_timers_clear(f);
        oasis_timer_stop(s, &f->ext->timer);
        fail_requests(f);
        /* A handle nobody will hold goes at the next dispatch, its
         * extension to the cache: small send storage stays for the next
         * connection. A finished handle may be held for long: none. */
        if (f->auto_release || f->life == OASIS_TCP_LIFE_RELEASED)
            oasis_ring_clear(s, &f->ext->snd);
        else
            oasis_ring_fini(s, &f->ext->snd);
        /* Bytes received in order and acknowledged stay readable, also
         * after a reset or a death (the contract, as mirage-tcpip queues
         * the end marker behind them); only what sat beyond a hole (the
         * ofo store) goes. */
        oasis_ofo_fini(s, &f->ext->ofo);
    }
    oasis_tcp_listener_detach(f);
    f->accept_pending = 0;
    /* A passive flow nobody was handed yet has no one to tell. */
    if (f->life == OASIS_TCP_LIFE_EMBRYO && !f->connect_pending)
        oasis_tcp_set_life(f, OASIS_TCP_LIFE_RELEASED);
    if (f->close_req)
        f->close_done = 1;
    oasis_tcp_wake(f);
}

/* ---- TIME_WAIT ----------------------------------------------------------- */

/* The TIME_WAIT entry first to expire, or NULL. */
static oasis_tcp_tw *tw_first(const oasis_tcp_layer *L)
{
    oasis_alink *a = L->tws_by_expiry.oldest;
    return a ? oasis_container_of(a, oasis_tcp_tw, age) : NULL;
}

/* Entries all live 2*MSL from their last restart, so appending keeps the
 * FIFO sorted by expiry and one timer on the head suffices. */
static void tw_append(oasis_stack *s, oasis_tcp_tw *tw)
{
    oasis_tcp_layer *L = s->tcp;
    tw->expire = oasis_now(s) + 2 * s->cfg.tcp.msl_ns;
    oasis_alist_push_newest(&L->tws_by_expiry, &tw->age);
    if (!oasis_timer_active(&L->tw_timer))
        oasis_timer_start(s, &L->tw_timer, tw_first(L)->expire);
}

static void tw_free(oasis_stack *s, oasis_tcp_tw *tw)
{
    oasis_tcp_layer *L = s->tcp;
    oasis_tcp_table_remove(s, &tw->c);
    oasis_alist_remove(&L->tws_by_expiry, &tw->age);
    s->ctr.tcp.time_wait--;
    oasis_slab_free(s, &L->tws, tw);
}

static void tw_timer_fn(oasis_stack *s, oasis_timer *t)
{
    oasis_tcp_layer *L = s->tcp;
    uint64_t now = oasis_now(s);
    oasis_tcp_tw *tw;
    while ((tw = tw_first(L)) && tw->expire <= now)
        tw_free(s, tw);
    if (tw)
        oasis_timer_start(s, t, tw->expire);
}

/* Room for one more TIME_WAIT entry under cfg.tcp.max_time_wait: the
 * oldest entry (the first to expire) makes way. 0 when none may be kept. */
static int tw_make_room(oasis_stack *s)
{
    oasis_tcp_layer *L = s->tcp;
    uint32_t cap = s->cfg.tcp.max_time_wait;
    if (cap == 0) {
        s->ctr.tcp.time_wait_overflows++;
        return 0;
    }
    while (s->ctr.tcp.time_wait >= cap && tw_first(L)) {
        s->ctr.tcp.time_wait_overflows++;
        tw_free(s, tw_first(L));
    }
    return 1;
}

void oasis_tcp_enter_time_wait(oasis_flow *f)
{
    oasis_stack *s = f->s;
    oasis_tcp_tw *tw = tw_make_room(s) ? oasis_slab_alloc(s, &s->tcp->tws) : NULL;
    oasis_tcp_conn c = f->c;
    if (tw) {
        tw->c = c;
        tw->c.kind = OASIS_TCP_KIND_TW;
        tw->c.hnext = NULL;
        tw->snd_nxt = f->snd_nxt;
        tw->rcv_nxt = f->rcv_nxt;
        tw->ts_ok = f->ts_ok;
        tw->ts_recent = f->ts_recent;
        tw->ts_offset = f->ts_offset;
        uint32_t w = f->ext->rcv.cap >> f->rcv_wscale;
        tw->win = (uint16_t)(w > 0xffff ? 0xffff : w);
        tw->wscale = f->rcv_wscale;
    }
    if (tw && f->in_table)
        table_replace(s, &f->c, &tw->c); /* the same tuple: no hash */
    else if (tw)
        oasis_tcp_table_insert(s, &tw->c);
    oasis_tcp_flow_end(f, 0);
    f->state = OASIS_TCP_TIME_WAIT; /* for get_info until the handle goes */
    if (!tw)
        return; /* no memory or no room: skip TIME_WAIT rather than fail */
    s->ctr.tcp.time_wait++;
    tw_append(s, tw);
}

/* RFC 6191 section 2: may this SYN open a new incarnation over the
 * TIME_WAIT entry? "Timestamps would be enabled for the new incarnation"
 * when the SYN has TSopt and cfg.tcp.timestamps is on. Old incarnation
 * with timestamps: the TSval decides (an equal one falls back to the
 * sequence number). Old incarnation without: such a SYN is honoured
 * whatever its sequence number, but only under cfg.tcp.strict_timestamps,
 * as only then does the new flow drop the old one's duplicates, which
 * carry no TSopt (RFC 7323 3.2); tolerant flows take them unchecked, so
 * the sequence rule stays. Otherwise the sequence number must be beyond
 * the old incarnation's (RFC 1122 4.2.2.13). */
static int tw_syn_newer(const oasis_stack *s, const oasis_tcp_tw *tw, const oasis_tcp_hdr *h)
{
    int seq_newer = oasis_seq_gt(h->seq, tw->rcv_nxt);
    int ts_new = h->has_ts && s->cfg.tcp.timestamps;
    if (ts_new && tw->ts_ok)
        return oasis_seq_gt(h->ts_val, tw->ts_recent) ||
               (h->ts_val == tw->ts_recent && seq_newer);
    if (ts_new && s->cfg.tcp.strict_timestamps)
        return 1;
    return seq_newer;
}

/* RFC 9293 3.10.7.4 first step's test, with the window TIME_WAIT offers. */
static int tw_acceptable(const oasis_tcp_tw *tw, const oasis_tcp_hdr *h)
{
    return oasis_seq_acceptable(h->seq, oasis_tcp_seg_len(h), tw->rcv_nxt,
                                (uint32_t)tw->win << tw->wscale);
}

static void tw_ack(oasis_stack *s, oasis_tcp_tw *tw)
{
    if (oasis_tcp_oow_ack_allowed(s, &tw->oow_ack_at))
        oasis_tcp_tw_send_ack(s, tw);
}

/* RFC 9293 3.10.7.4 for a TIME_WAIT entry, with RFC 1337 (no RST ends it),
 * RFC 6191 for a new SYN and rate-limited ACKs. */
void oasis_tcp_tw_input(oasis_stack *s, oasis_tcp_tw *tw, const oasis_tcp_hdr *h)
{
    if (h->flags & OASIS_TCP_RST)
        return; /* RFC 1337: TIME-WAIT assassination */
    if ((h->flags & (OASIS_TCP_SYN | OASIS_TCP_ACK | OASIS_TCP_FIN)) == OASIS_TCP_SYN) {
        oasis_tcp_listener *l = listener_for(s, tw->c.lport, &tw->c.raddr, &tw->c.laddr);
        if (l && tw_syn_newer(s, tw, h)) {
            oasis_ipaddr src = tw->c.raddr, dst = tw->c.laddr;
            /* RFC 1122 4.2.2.13: the new ISS lies above anything the old
             * incarnation sent (Linux: snd_nxt + 64 KiB + 2), so its old
             * duplicates cannot be taken for new data. */
            uint32_t iss = tw->snd_nxt + 65535u + 2u;
            tw_free(s, tw);
            oasis_tcp_listen_reopen(s, l, &src, &dst, h, iss);
            return;
        }
        /* RFC 6191 drops the SYN it may not take silently; RFC 9293 3.10.7.4
         * fourth step, later, accepts it over TIME-WAIT only as RFC 6191 says
         * and "For all other cases" answers RFC 5961's challenge ACK, with a
         * listener or without (so does Linux). The entry stays. */
        tw_ack(s, tw);
        return;
    }
    if (tw->ts_ok && h->has_ts && oasis_seq_lt(h->ts_val, tw->ts_recent)) {
        s->ctr.tcp.paws_drops++; /* RFC 7323 5.3 */
        tw_ack(s, tw);
        return;
    }
    /* RFC 9293 3.10.7.4 fifth: "if the ACK bit is off drop the segment",
     * once the first step found it acceptable; an unacceptable one is
     * answered below. (A SYN was the fourth step's.) */
    if (!(h->flags & (OASIS_TCP_ACK | OASIS_TCP_SYN)) && tw_acceptable(tw, h))
        return;
    if (h->flags & OASIS_TCP_FIN) {
        /* Only the peer's FIN again (it lacks our ACK) restarts 2*MSL. A FIN
         * anywhere else is unacceptable: RFC 9293 3.10.7.4 first step answers
         * it with an ACK, rate-limited (the peer never sends such a FIN, so
         * only forged or looping ones are slowed; Linux spares FINs). */
        if (h->seq + (uint32_t)h->payload_len + 1u != tw->rcv_nxt) {
            tw_ack(s, tw);
            return;
        }
        if (tw->ts_ok && h->has_ts)
            tw->ts_recent = h->ts_val;
        oasis_alist_remove(&s->tcp->tws_by_expiry, &tw->age);
        tw_append(s, tw);
        /* "Acknowledge it" (RFC 9293 3.10.7.4, TIME-WAIT) every time, as
         * old text in the other states (tcp_input.c oow_ack) and Linux:
         * its sender lacks our ACK. Only the exact FIN gets here. */
        oasis_tcp_tw_send_ack(s, tw);
        return;
    }
    if (h->seq == tw->rcv_nxt && h->payload_len == 0 &&
        (h->flags & (OASIS_TCP_ACK | OASIS_TCP_SYN)) == OASIS_TCP_ACK)
        return; /* an in-window bare ACK: nothing to say */
    /* unacceptable: RFC 9293 answers with an ACK; a SYN-ACK (SEG.LEN 1,
     * no bare ACK) with RFC 5961 4.2's challenge ACK */
    tw_ack(s, tw);
}

/* ---- RFC 5961 challenge ACK rate limit ----------------------------------- */

int oasis_tcp_challenge_allowed(oasis_stack *s)
{
    /* A fixed budget is a side channel: an off-path attacker who spends it
     * and counts the challenge ACKs he still gets learns whether his guess
     * hit a live flow (CVE-2016-5696). As Linux's tcp_send_challenge_ack,
     * each second gets a fresh random budget in [limit/2, limit/2 + limit). */
    oasis_tcp_layer *L = s->tcp;
    uint64_t sec = oasis_now(s) / OASIS_NS_PER_SEC + 1; /* 0: never started */
    if (sec != L->chack_window) {
        uint32_t limit = s->cfg.tcp.challenge_ack_limit;
        L->chack_window = sec;
        L->chack_count = (limit + 1) / 2 + (uint32_t)oasis_prng_below(&s->prng, limit);
    }
    if (L->chack_count == 0) {
        s->ctr.tcp.challenge_acks_limited++;
        return 0;
    }
    L->chack_count--;
    s->ctr.tcp.challenge_acks++;
    return 1;
}

/* Token bucket for RSTs to closed ports, the shape of the ICMP error
 * limiter: rst_rate_per_sec tokens a second, at most rst_burst saved. Without
 * it every spoofed SYN draws an RST, a free reflector. A rate of 0: no limit. */
static int closed_rst_allowed(oasis_stack *s)
{
    oasis_tcp_layer *L = s->tcp;
    uint64_t now = oasis_now(s);

    if (s->cfg.tcp.rst_rate_per_sec == 0)
        return 1;
    L->rst_tokens += (double)(now - L->rst_tokens_at) * s->cfg.tcp.rst_rate_per_sec / 1e9;
    L->rst_tokens_at = now;
    if (L->rst_tokens > s->cfg.tcp.rst_burst)
        L->rst_tokens = s->cfg.tcp.rst_burst;
    if (L->rst_tokens < 1.0) {
        s->ctr.tcp.closed_rsts_limited++;
        return 0;
    }
    L->rst_tokens -= 1.0;
    return 1;
}

/* ---- input demux --------------------------------------------------------- */

/* RFC 9293 3.9.1: no connections with broadcast or multicast ends (nor
 * from an unspecified source). IPv4, host order. */
static int bad_address4(const oasis_stack *s, uint32_t src, uint32_t dst)
{
    return src == 0 || oasis_ipv4_is_multicast(src) || oasis_ipv4_is_multicast(dst) ||
           oasis_ipv4_bcast_for(dst, s->addr, s->netmask) ||
           oasis_ipv4_bcast_for(src, s->addr, s->netmask); /* (src 255.255.255.255 too) */
}

static int bad_address(oasis_stack *s, const oasis_ipaddr *sa, const oasis_ipaddr *da)
{
    if (oasis_ipaddr_is_v6(sa))
        return oasis_ipaddr_is_unspecified(sa) || oasis_ipaddr_is_multicast(sa) ||
               oasis_ipaddr_is_multicast(da);
    return bad_address4(s, oasis_ipaddr_to_v4(sa), oasis_ipaddr_to_v4(da));
}


void oasis_tcp_input4(oasis_stack *s, uint32_t src, uint32_t dst, const uint8_t *seg, size_t len)
{
    oasis_tcp_input4_ecn(s, src, dst, seg, len, 0);
}

void oasis_tcp_input(oasis_stack *s, const oasis_ipaddr *src, const oasis_ipaddr *dst,
                     const uint8_t *seg, size_t len)
{
    oasis_tcp_input_ecn(s, src, dst, seg, len, 0);
}

OASIS_COLD void oasis_tcp_count_bad(oasis_stack *s, int err)
{
    oasis_tcp_counters *ctr = &s->ctr.tcp;
    ctr->in_segs++;
    if (err == OASIS_ECHECKSUM)
        ctr->in_csum_errors++;
    ctr->in_errs++; /* "e.g., bad TCP checksums" (RFC 4022 tcpInErrs; Linux) */
}

/* A payload read into its ring already (tcp_place.h): the segment points
 * there. Only a segment whose link vouched for its checksum is placed
 * (tcp_place.c), so none is pending here. The check only keeps the rule
 * that nothing is used unsummed: it would sum the bytes behind the header,
 * not the placed ones, and so drop such a segment rather than take it. */
static OASIS_NOINLINE int place_redirect(oasis_stack *s, oasis_tcp_hdr *h)
{
    if (!oasis_tcp_sum_verify(s, h))
        return OASIS_ECHECKSUM;
    h->sum_pending = 0;
    h->payload = s->rx_place_dst;
    return 0;
}

/* Parses and counts a segment whose pseudo-header sums to `pseudo`; 0
 * when it is well formed. defer: a long payload's checksum may be left
 * pending (OASIS_TCP_SUM_DEFER), for the predicted path to sum while it
 * copies (tcp_input.c); every other path checks it first
 * (oasis_tcp_sum_verify), which then counts a bad one as here. (Always
 * inline, as flow_segment: each segment in takes both, in the caller's
 * frame, without a call and its saved registers.) */
OASIS_HOT static OASIS_ALWAYS_INLINE int seg_parse(oasis_stack *s, const uint8_t *seg, size_t len,
                                                   uint64_t pseudo, oasis_tcp_hdr *h, int defer)
{
    /* A checksum the link verified, or left partial (a trusted local
     * sender), is not summed again (oasis/link.h). */
    int sum = oasis_rx_csum_trusted(s, seg) ? OASIS_TCP_SUM_NONE
              : defer                       ? OASIS_TCP_SUM_DEFER
                                            : OASIS_TCP_SUM_ALL;
    int err = oasis_tcp_parse_sum(seg, len, pseudo, sum, h);
    if (err) {
        oasis_tcp_count_bad(s, err);
        return err;
    }
    h->pieces = oasis_rx_pieces(s, h->payload, h->payload_len);
    s->ctr.tcp.in_segs += h->pieces; /* one per piece (a bad pending sum: one) */
    if (h->payload_len && h->payload == s->rx_place_stub)
        return place_redirect(s, h);
    return 0;
}

/* The segment's pending checksum (if any) checked and counted before any
 * other use: 1 when it may be used. */
static OASIS_ALWAYS_INLINE int seg_summed(oasis_stack *s, oasis_tcp_hdr *h)
{
    if (!oasis_tcp_sum_verify(s, h))
        return 0;
    h->sum_pending = 0;
    return 1;
}

/* flow_segment's flow without an extension: one made for h (checked
 * first when its checksum is pending); 0, else h is dropped. */
static OASIS_NOINLINE int ext_for(oasis_stack *s, oasis_flow *f, oasis_tcp_hdr *h)
{
    if (!seg_summed(s, h))
        return 1;
    if (oasis_tcp_ext_make(f)) {
        s->ctr.tcp.ext_drops++; /* no memory to take it in: as if lost */
        return 1;
    }
    return 0;
}

/* A segment for flow f (found in the table). Like the timer and the
 * dispatcher it takes no hold: busy keeps the extension as well. inline:
 * the flow's input (header prediction and its predicted path) in the
 * caller's frame, for the IPv4 path's run of segments to one flow; the
 * segment's header stays where seg_parse put it, with no call and no
 * second set of saved registers. */
OASIS_HOT static OASIS_ALWAYS_INLINE void flow_segment(oasis_stack *s, oasis_flow *f,
                                                       oasis_tcp_hdr *h, int inline_input)
{
    if (!f->ext && ext_for(s, f, h))
        return;
    f->busy++;
    if (inline_input)
        oasis_tcp_flow_input_inline(f, h);
    else
        oasis_tcp_flow_input(f, h);
    f->busy--;
    oasis_tcp_ext_idle(f);
    oasis_tcp_maybe_free(f);
}

/* A well-formed segment between usable addresses, to c (what the table
 * holds for its tuple: a flow, a TIME_WAIT entry or NULL) or a listener,
 * else answered as one to a closed port. */
static void demux(oasis_stack *s, oasis_tcp_conn *c, const oasis_ipaddr *src,
                  const oasis_ipaddr *dst, oasis_tcp_hdr *h)
{
    if (c && c->kind == OASIS_TCP_KIND_TW) {
        oasis_tcp_tw_input(s, (oasis_tcp_tw *)c, h);
        return;
    }
    if (c) {
        flow_segment(s, (oasis_flow *)c, h, 0);
        return;
    }
    oasis_tcp_listener *l = listener_for(s, h->dst_port, src, dst);
    if (l) {
        oasis_tcp_listen_input(s, l, src, dst, h);
        return;
    }
    s->ctr.tcp.no_listener++;
    if (h->flags & OASIS_TCP_RST)
        return; /* never answered: spends no token */
    if (closed_rst_allowed(s))
        oasis_tcp_send_rst_reply(s, dst, src, h);
}

void oasis_tcp_input_ecn(oasis_stack *s, const oasis_ipaddr *src, const oasis_ipaddr *dst,
                         const uint8_t *seg, size_t len, uint8_t ecn)
{
    if (!s || !s->tcp || !seg || !src || !dst || src->family != dst->family ||
        (src->family != OASIS_AF_INET && src->family != OASIS_AF_INET6))
        return;
    oasis_tcp_hdr h;
    if (seg_parse(s, seg, len, oasis_tcp_pseudo_sum(src, dst, (uint32_t)len), &h, 0))
        return;
    if (bad_address(s, src, dst) || h.src_port == 0 || h.dst_port == 0) {
        s->ctr.tcp.in_errs++;
        return;
    }
    h.ip_ecn = ecn & 3;
    demux(s, oasis_tcp_lookup(s, dst, h.dst_port, src, h.src_port), src, dst, &h);
}

/* oasis_ipaddr_v4, inline: every IPv4 segment in takes two. */
static inline oasis_ipaddr ipaddr4(uint32_t a)
{
    oasis_ipaddr r = {.family = OASIS_AF_INET, .b = {[10] = 0xff, [11] = 0xff}};
    uint32_t be = oasis_csum_be32(a); /* the bytes in network order, as one word */
    memcpy(r.b + 12, &be, 4);
    return r;
}

OASIS_HOT void oasis_tcp_input4_ecn(oasis_stack *s, uint32_t src, uint32_t dst, const uint8_t *seg,
                          size_t len, uint8_t ecn)
{
    if (!s || !s->tcp || !seg)
        return;
    oasis_tcp_hdr h;
    uint64_t pseudo = oasis_csum_pseudo(src, dst, OASIS_IPPROTO_TCP, (uint16_t)len);
    if (seg_parse(s, seg, len, pseudo, &h, 1))
        return;
    h.ip_ecn = ecn & 3;
    /* Segments come in runs for one flow: the last one's tuple, compared
     * as the segment carries it, finds it without building addresses or
     * looking up (it is in the table: table_left forgets it). Its ports
     * and addresses passed the checks below, which depend on nothing else
     * but our address and netmask: with those unchanged they still would. */
    oasis_tcp_layer *L = s->tcp;
    uint32_t ports = (uint32_t)h.dst_port << 16 | h.src_port;
    if (L->last4 && L->last4_ports == ports && L->last4_src == src && L->last4_dst == dst &&
        L->last4_addr == s->addr && L->last4_mask == s->netmask) {
        flow_segment(s, L->last4, &h, 1); /* (the flow's input checks a pending sum) */
        return;
    }
    if (!seg_summed(s, &h))
        return;
    if (bad_address4(s, src, dst) || h.src_port == 0 || h.dst_port == 0) {
        s->ctr.tcp.in_errs++;
        return;
    }
    oasis_ipaddr a = ipaddr4(src), b = ipaddr4(dst);
    oasis_tcp_conn *c = oasis_tcp_lookup(s, &b, h.dst_port, &a, h.src_port);
    if (c && c->kind == OASIS_TCP_KIND_FLOW) {
        L->last4 = (oasis_flow *)c;
        L->last4_src = src;
        L->last4_dst = dst;
        L->last4_ports = ports;
        L->last4_addr = s->addr;
        L->last4_mask = s->netmask;
    }
    demux(s, c, &a, &b, &h);
}

OASIS_HOT void oasis_tcp_input6_ecn(oasis_stack *s, const uint8_t *src, const uint8_t *dst,
                                    const uint8_t *seg, size_t len, uint8_t ecn)
{
    if (!s || !s->tcp || !seg)
        return;
    uint64_t pseudo = oasis_ipv6_pseudo_sum_at(src, dst, (uint32_t)len, OASIS_IPPROTO_TCP);
    oasis_tcp_hdr h;
    if (seg_parse(s, seg, len, pseudo, &h, 1))
        return;
    h.ip_ecn = ecn & 3;
    /* As IPv4's: the last flow a segment went to, by its own tuple. Its
     * addresses passed bad_address when it was made, and that test
     * depends on them alone (unlike IPv4's broadcasts, on no prefix). */
    oasis_tcp_layer *L = s->tcp;
    oasis_flow *f = L->last6;
    if (f && f->c.rport == h.src_port && f->c.lport == h.dst_port &&
        memcmp(f->c.raddr.b, src, 16) == 0 && memcmp(f->c.laddr.b, dst, 16) == 0) {
        flow_segment(s, f, &h, 1);
        return;
    }
    if (!seg_summed(s, &h))
        return;
    oasis_ipaddr a = oasis_ipaddr_v6(src), b = oasis_ipaddr_v6(dst);
    if (bad_address(s, &a, &b) || h.src_port == 0 || h.dst_port == 0) {
        s->ctr.tcp.in_errs++;
        return;
    }
    oasis_tcp_conn *c = oasis_tcp_lookup(s, &b, h.dst_port, &a, h.src_port);
    if (c && c->kind == OASIS_TCP_KIND_FLOW)
        L->last6 = (oasis_flow *)c;
    demux(s, c, &a, &b, &h);
}

/* ---- layer --------------------------------------------------------------- */

int oasis_tcp_init(oasis_stack *s)
{
    oasis_tcp_layer *L = oasis_calloc(s, 1, sizeof *L);
    if (!L)
        return OASIS_ENOMEM;
    L->buckets = buckets_new(s, INITIAL_BUCKETS);
    if (!L->buckets) {
        oasis_free(s, L);
        return OASIS_ENOMEM;
    }
    L->nbuckets = INITIAL_BUCKETS;
    oasis_slab_init(&L->flows, sizeof(oasis_flow));
    oasis_slab_init(&L->tws, sizeof(oasis_tcp_tw));
    L->rst_tokens = s->cfg.tcp.rst_burst;
    L->rst_tokens_at = oasis_now(s);
    L->salt = s->secrets.hash_salt;
    /* The flow hash's SipHash key, from the salt (its own PRF use of the
     * ISN key: the two outputs say nothing about each other). */
    for (int i = 0; i < 2; i++) {
        uint8_t in[9];
        memcpy(in, &L->salt, 8);
        in[8] = (uint8_t)i;
        uint64_t k = oasis_siphash24(s->secrets.isn_key, in, sizeof in);
        memcpy(L->hash_key + 8 * i, &k, 8);
    }
    memcpy(L->isn_key, s->secrets.isn_key, sizeof L->isn_key);
    L->next_port = (uint16_t)oasis_prng_below(&s->prng, EPHEMERAL_N);
    oasis_timer_init(&L->tw_timer, tw_timer_fn);
    s->tcp = L;
    return OASIS_OK;
}

void oasis_tcp_fini(oasis_stack *s)
{
    oasis_tcp_layer *L = s->tcp;
    if (!L)
        return;
    oasis_tcp_disconnect(s);
    memset(L->memo, 0, sizeof L->memo); /* the flows below leave without table_remove */
    L->last4 = NULL;
    /* Handles the application never released die with the stack. */
    for (oasis_flow *f; (f = oasis_tcp_flow_next(s, NULL));) {
        f->life = OASIS_TCP_LIFE_RELEASED;
        f->in_table = f->ready = 0;
        f->busy = 0;
        flow_free(f);
    }
    s->tcp_due = UINT64_MAX; /* nothing left to dispatch */
    oasis_timer_stop(s, &L->tw_timer);
    ext_cache_drain(s);
    oasis_slab_fini(s, &L->tws);
    oasis_slab_fini(s, &L->flows);
    oasis_free(s, L->buckets);
    oasis_free(s, L);
    s->tcp = NULL;
}

/* Our address `addr` was removed (a DHCP lease ended): every flow bound
 * to it ends with OASIS_EADDRNOTAVAIL. Nothing is sent (we no longer own
 * the address); the callbacks run later, from the next poll. */
void oasis_tcp_addr_lost(oasis_stack *s, uint32_t addr)
{
    if (!s || !s->tcp)
        return;
    for (oasis_flow *f = oasis_tcp_flow_next(s, NULL); f; f = oasis_tcp_flow_next(s, f))
        if (oasis_ipaddr_is_v4(&f->c.laddr) && oasis_ipaddr_to_v4(&f->c.laddr) == addr &&
            f->state != OASIS_TCP_CLOSED)
            oasis_tcp_flow_end(f, OASIS_EADDRNOTAVAIL);
}

/* Shuts everything down: listeners, flows (reset, requests canceled),
 * TIME_WAIT entries. Handles the application holds stay valid, finished. */
void oasis_tcp_disconnect(oasis_stack *s)
{
    if (!s || !s->tcp || s->tcp->closing)
        return;
    oasis_tcp_layer *L = s->tcp;
    /* Callbacks run from here may try to connect or listen again: refused
     * while this runs (OASIS_ECANCELED), or it would never end. */
    L->closing = 1;
    while (L->listeners) {
        oasis_tcp_listener *l = L->listeners;
        L->listeners = l->next;
        oasis_timer_stop(s, &l->defer_timer);
        oasis_free(s, l);
    }
    for (oasis_flow *f = oasis_tcp_flow_next(s, NULL); f; f = oasis_tcp_flow_next(s, f))
        if (f->ext)
            f->ext->lst = NULL;
    /* Nothing woken runs any more: the canceled flows' callbacks run below,
     * the others have none left. Emptying the lists first spares each
     * cancel a search of them (ready_unlink). */
    for (oasis_flow *f = L->ready_head; f; f = f->ready_next)
        f->ready = 0;
    for (oasis_flow *f = L->round; f; f = f->ready_next)
        f->ready = 0;
    L->ready_head = L->ready_tail = L->round = NULL;
    /* One pass: canceling moves a flow out of EMBRYO/APP for good and no
     * flow can be created meanwhile. Callbacks may release any flow (f
     * too): the walk goes on from f's address in the slab. */
    for (oasis_flow *f = oasis_tcp_flow_next(s, NULL); f; f = oasis_tcp_flow_next(s, f)) {
        L->disc_steps++;
        if (f->life == OASIS_TCP_LIFE_EMBRYO || f->life == OASIS_TCP_LIFE_APP) {
            oasis_tcp_cancel_flow(f);
        } else {
            /* Called from a callback of an abort still completing f's
             * requests: the rest complete here, before this returns. */
            if (f->life == OASIS_TCP_LIFE_FINISHED)
                oasis_tcp_drain_canceled(f);
            oasis_tcp_maybe_free(f); /* it may have waited for its dispatch */
        }
    }
    while (tw_first(L))
        tw_free(s, tw_first(L));
    oasis_timer_stop(s, &L->tw_timer);
    L->closing = 0;
    if (L->ready_head) /* woken by a poll from a callback above: the next poll's */
        s->tcp_due = oasis_now(s);
}
