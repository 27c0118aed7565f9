/* IPv6 reassembly (RFC 8200 4.5, RFC 5722, RFC 7112).
 *
 * Datagrams are keyed by (source, destination, identification). Each keeps
 * the first fragment whole (its unfragmentable part is the reassembled
 * datagram's, and a Time Exceeded quotes it) and its data as a sorted list
 * of pieces. Overlap policy (RFC 5722, RFC 8200 4.5): a fragment that
 * overlaps another drops the whole datagram, and the datagram stays dead
 * (fragments still to come are dropped too) until its timer runs out; an
 * exact duplicate (same offset, same length) is dropped alone.
 *
 * Bounds as IPv4 (reasm.c), with the same configuration: memory charged per
 * datagram and piece (overhead included) <= cfg.reasm_max_bytes, at most
 * cfg.reasm_max_datagrams at once, the oldest evicted first. The timeout is
 * RFC 8200's 60 s; the index's age list is in creation order, which is
 * deadline order. Datagrams are found through a keyed hash (core/hindex.h),
 * as in reasm.c.
 * A datagram holds at most OASIS_IPV6_REASM_MAX_FRAGS pieces: the byte
 * bound alone would let 8-byte fragments make thousands, each fragment
 * then walking the list (overlap check, insertion); one more kills it.
 */
#include "ipv6/ipv6.h"

#include "core/bytes.h"
#include "core/mem.h"
#include "core/siphash.h"
#include "core/stack_impl.h"
#include "ipv6/icmp6_wire.h"
#include "oasis/error.h"

#include <string.h>

#define REASM6_TIMEOUT_NS (60ull * 1000000000ull)

typedef struct piece6 {
    struct piece6 *next;
    uint32_t off, len;
    uint8_t data[];
} piece6;

struct oasis_reasm6 {
    oasis_hnode node;        /* in L(s)->reasm: its chain, its age */
    oasis_in6 src, dst;
    uint32_t id;
    uint8_t have_last, dead, link_mcast;
    uint32_t total;          /* fragmentable part's length, once have_last */
    uint32_t have;           /* bytes held */
    uint32_t bytes;          /* charged to the bound */
    uint32_t npieces;        /* pieces held */
    uint64_t deadline;
    uint8_t *first;          /* the offset-0 fragment, whole, or NULL */
    uint32_t first_len;
    uint32_t frag_hdr_off;   /* in first: where its fragment header is */
    uint32_t nh_off;         /* in first: the Next Header that names it */
    uint8_t next_hdr;        /* the fragment header's Next Header */
    uint8_t ecn_seen;        /* bit k: a fragment had ECN field k (RFC 3168 5.3) */
    piece6 *pieces;
};

static oasis_ipv6 *L(oasis_stack *s) { return s->ip6; }

static oasis_reasm6 *of(oasis_hnode *n) { return n ? oasis_container_of(n, oasis_reasm6, node) : NULL; }

/* The oldest datagram (dead or not), whose deadline is the first. */
static oasis_reasm6 *oldest(oasis_stack *s) { return of(oasis_hindex_oldest(&L(s)->reasm)); }

static void arm(oasis_stack *s)
{
    oasis_reasm6 *dg = oldest(s);
    if (dg)
        oasis_timer_start(s, &L(s)->reasm_timer, dg->deadline);
    else
        oasis_timer_stop(s, &L(s)->reasm_timer);
}

/* The key's hash: SipHash with the stack's secret (reasm.c's key_hash). */
static uint32_t key_hash(const oasis_stack *s, const oasis_in6 *src, const oasis_in6 *dst,
                         uint32_t id)
{
    uint8_t k[36];
    memcpy(k, src->b, 16);
    memcpy(k + 16, dst->b, 16);
    oasis_put32(k + 32, id);
    return (uint32_t)oasis_siphash24(s->secrets.reasm_key, k, sizeof k);
}

static void set_bytes(oasis_stack *s, uint32_t b)
{
    L(s)->reasm_bytes = b;
    s->ctr.ipv6.reasm_bytes = b;
}

static void free_data(oasis_stack *s, oasis_reasm6 *dg)
{
    while (dg->pieces) {
        piece6 *pc = dg->pieces;
        dg->pieces = pc->next;
        oasis_free(s, pc);
    }
    oasis_free(s, dg->first);
    dg->first = NULL;
    set_bytes(s, L(s)->reasm_bytes - (dg->bytes - (uint32_t)sizeof *dg));
    dg->bytes = sizeof *dg;
    dg->have = 0;
    dg->npieces = 0;
}

static void destroy(oasis_stack *s, oasis_reasm6 *dg)
{
    oasis_hindex_remove(&L(s)->reasm, &dg->node);
    free_data(s, dg);
    set_bytes(s, L(s)->reasm_bytes - dg->bytes);
    oasis_free(s, dg);
    arm(s);
}

static void fail(oasis_stack *s, oasis_reasm6 *dg)
{
    s->ctr.ipv6.reasm_fails++;
    destroy(s, dg);
}

/* Overlap (or contradicting ends): the datagram is dropped, its key kept until the deadline so
 * that its remaining fragments die too. */
static void kill(oasis_stack *s, oasis_reasm6 *dg, int overlapped)
{
    if (overlapped)
        s->ctr.ipv6.reasm_overlaps++;
    s->ctr.ipv6.reasm_fails++;
    free_data(s, dg);
    dg->dead = 1;
}

static int make_room(oasis_stack *s, size_t need, const oasis_reasm6 *keep)
{
    while ((size_t)L(s)->reasm_bytes + need > s->cfg.reasm_max_bytes) {
        oasis_reasm6 *victim = oldest(s);
        if (victim && victim == keep) /* (keep NULL: an empty list is no victim) */
            victim = of(oasis_hindex_newer(&victim->node));
        if (!victim)
            return -1;
        s->ctr.ipv6.reasm_overflows++;
        if (victim->dead)
            destroy(s, victim);
        else
            fail(s, victim);
    }
    return 0;
}

static int charge(oasis_stack *s, oasis_reasm6 *dg, size_t n)
{
    if (make_room(s, n, dg))
        return -1;
    dg->bytes += (uint32_t)n;
    set_bytes(s, L(s)->reasm_bytes + (uint32_t)n);
    return 0;
}

static oasis_reasm6 *find(oasis_stack *s, const oasis_in6 *src, const oasis_in6 *dst, uint32_t id,
                          uint32_t hash)
{
    for (oasis_hnode *n = oasis_hindex_chain(&L(s)->reasm, hash); n; n = n->chain) {
        oasis_reasm6 *dg = of(n);
        if (dg->id == id && oasis_in6_eq(&dg->src, src) && oasis_in6_eq(&dg->dst, dst))
            return dg;
    }
    return NULL;
}

static oasis_reasm6 *create(oasis_stack *s, const oasis_in6 *src, const oasis_in6 *dst, uint32_t id,
                            uint32_t hash)
{
    if (L(s)->reasm.ages.n >= s->cfg.reasm_max_datagrams) {
        oasis_reasm6 *old = oldest(s);
        s->ctr.ipv6.reasm_overflows++;
        if (old->dead)
            destroy(s, old);
        else
            fail(s, old);
    }
    if (make_room(s, sizeof(oasis_reasm6), NULL))
        return NULL;
    oasis_reasm6 *dg = oasis_calloc(s, 1, sizeof *dg);
    if (!dg)
        return NULL;
    if (oasis_hindex_insert(s, &L(s)->reasm, &dg->node, hash)) {
        oasis_free(s, dg);
        return NULL;
    }
    dg->src = *src;
    dg->dst = *dst;
    dg->id = id;
    dg->deadline = oasis_now(s) + REASM6_TIMEOUT_NS;
    dg->bytes = sizeof *dg;
    set_bytes(s, L(s)->reasm_bytes + dg->bytes);
    if (dg == oldest(s))
        arm(s);
    return dg;
}

/* 1: [off, end) is exactly a piece we hold; -1: it overlaps one; 0: new. */
static int overlap(const oasis_reasm6 *dg, uint32_t off, uint32_t end)
{
    for (const piece6 *pc = dg->pieces; pc; pc = pc->next) {
        uint32_t pend = pc->off + pc->len;
        if (pc->off == off && pend == end)
            return 1;
        if (off < pend && pc->off < end)
            return -1;
    }
    return 0;
}

static int insert(oasis_stack *s, oasis_reasm6 *dg, uint32_t off, const uint8_t *data, uint32_t n)
{
    if (charge(s, dg, sizeof(piece6) + n))
        return -1;
    piece6 *pc = oasis_malloc(s, sizeof *pc + n);
    if (!pc)
        return -1;
    pc->off = off;
    pc->len = n;
    memcpy(pc->data, data, n);
    piece6 **link = &dg->pieces;
    while (*link && (*link)->off < off)
        link = &(*link)->next;
    pc->next = *link;
    *link = pc;
    dg->have += n;
    dg->npieces++;
    return 0;
}

/* RFC 7112 / RFC 8200 4.5: the first fragment holds the whole header chain
 * through the upper-layer header. data[0..n) follows the fragment header. */
static int chain_complete(uint8_t nh, const uint8_t *data, size_t n)
{
    size_t off = 0;
    for (int i = 0; i <= OASIS_IPV6_MAX_EXT_HDRS; i++) {
        size_t need;
        switch (nh) {
        case OASIS_NH_DSTOPTS:
        case OASIS_NH_ROUTING:
        case OASIS_NH_HOPOPTS:
            if (n - off < 2)
                return 0;
            need = (data[off + 1] + 1u) * 8;
            if (n - off < need)
                return 0;
            nh = data[off];
            off += need;
            continue;
        case OASIS_NH_FRAGMENT:
            return 0; /* nested fragmentation: not ours to untangle */
        case OASIS_NH_TCP: need = 20; break;
        case OASIS_NH_UDP: need = 8; break;
        case OASIS_NH_ICMPV6: need = 4; break;
        default: need = 0; break;
        }
        return n - off >= need;
    }
    return 0;
}

/* Builds [unfragmentable part][data] with the fragment header gone and
 * hands it to IPv6 input. */
static void complete(oasis_stack *s, oasis_reasm6 *dg)
{
    uint32_t unfrag = dg->frag_hdr_off;
    size_t total = (size_t)unfrag + dg->total;
    uint8_t *buf = total - OASIS_IPV6_HLEN <= 65535 ? oasis_malloc(s, total) : NULL;
    int link_mcast = dg->link_mcast;
    if (!buf) {
        fail(s, dg);
        return;
    }
    memcpy(buf, dg->first, unfrag);
    /* RFC 3168 5.3: reassembly "MUST NOT lose indications of congestion":
     * the whole is CE if any fragment was, but never when another was
     * Not-ECT (then it is dropped, as Linux and reasm.c do); otherwise
     * the offset-0 fragment's field stands. */
    if (dg->ecn_seen & (1u << 3)) {
        if (dg->ecn_seen & 1u) {
            oasis_free(s, buf);
            fail(s, dg);
            return;
        }
        buf[1] |= 0x30; /* ECN: the low two bits of the Traffic Class */
    }
    buf[dg->nh_off] = dg->next_hdr;
    oasis_put16(buf + 4, (uint16_t)(total - OASIS_IPV6_HLEN));
    for (const piece6 *pc = dg->pieces; pc; pc = pc->next)
        memcpy(buf + unfrag + pc->off, pc->data, pc->len);
    s->ctr.ipv6.reasm_oks++;
    destroy(s, dg);
    oasis_ipv6_input_whole(s, buf, total, link_mcast);
    oasis_free(s, buf);
}

void oasis_reasm6_input(oasis_stack *s, const uint8_t *pkt, size_t len, const oasis_ipv6_walk *w,
                        int link_mcast)
{
    oasis_ipv6_counters *c = &s->ctr.ipv6;
    uint32_t data_off = w->frag_hdr_off + OASIS_IPV6_FRAG_HLEN;
    uint32_t off = w->frag_offset, n = (uint32_t)len - data_off, end = off + n;
    oasis_in6 src, dst;

    c->reasm_reqds++;
    memcpy(src.b, pkt + 8, 16);
    memcpy(dst.b, pkt + 24, 16);
    if (off == 0 && !chain_complete(w->frag_next, pkt + data_off, n)) {
        c->reasm_fails++;
        oasis_icmp6_send_error(s, OASIS_ICMP6_PARAM_PROBLEM, OASIS_ICMP6_PP_CHAIN, 0, pkt, len,
                               link_mcast, 0);
        return;
    }
    if (n == 0 && w->frag_more) { /* an empty middle fragment carries nothing */
        c->reasm_fails++;
        return;
    }
    uint32_t hash = key_hash(s, &src, &dst, w->frag_id);
    oasis_reasm6 *dg = find(s, &src, &dst, w->frag_id, hash);
    if (!dg && !(dg = create(s, &src, &dst, w->frag_id, hash))) {
        c->reasm_fails++;
        return;
    }
    if (dg->dead) { /* an earlier overlap doomed this datagram */
        c->reasm_fails++;
        return;
    }
    /* Two different ends, or data past the end: nothing consistent left. */
    if (dg->have_last && (end > dg->total || (!w->frag_more && end != dg->total))) {
        kill(s, dg, 0);
        return;
    }
    int ov = overlap(dg, off, end);
    if (ov > 0) { /* exact duplicate: drop it, keep the rest (RFC 8200 4.5) */
        return;
    }
    if (ov < 0) {
        kill(s, dg, 1);
        return;
    }
    if (n && dg->npieces >= OASIS_IPV6_REASM_MAX_FRAGS) {
        c->reasm_too_many_frags++;
        kill(s, dg, 0);
        return;
    }
    if (!w->frag_more) {
        /* Pieces already held beyond this end contradict it. */
        for (const piece6 *pc = dg->pieces; pc; pc = pc->next)
            if (pc->off + pc->len > end) {
                kill(s, dg, 0);
                return;
            }
        dg->have_last = 1;
        dg->total = end;
    }
    if (off == 0) {
        if (charge(s, dg, len) || !(dg->first = oasis_malloc(s, len))) {
            c->reasm_overflows++;
            fail(s, dg);
            return;
        }
        memcpy(dg->first, pkt, len);
        dg->first_len = (uint32_t)len;
        dg->frag_hdr_off = w->frag_hdr_off;
        dg->nh_off = w->nh_off;
        dg->next_hdr = w->frag_next;
        dg->link_mcast = (uint8_t)link_mcast;
    }
    dg->ecn_seen |= (uint8_t)(1u << ((pkt[1] >> 4) & 3));
    if (n && insert(s, dg, off, pkt + data_off, n)) {
        c->reasm_overflows++;
        fail(s, dg);
        return;
    }
    if (dg->have_last && dg->first && dg->have == dg->total)
        complete(s, dg);
}

static void reasm_timer(oasis_stack *s, oasis_timer *t)
{
    uint64_t now = oasis_now(s);
    (void)t;
    oasis_reasm6 *dg;
    while ((dg = oldest(s)) && dg->deadline <= now) {
        if (dg->dead) {
            destroy(s, dg);
            continue;
        }
        s->ctr.ipv6.reasm_timeouts++;
        /* RFC 8200 4.5: Time Exceeded code 1, only with the first fragment. */
        if (dg->first)
            oasis_icmp6_send_error(s, OASIS_ICMP6_TIME_EXCEEDED, 1, 0, dg->first, dg->first_len,
                                   dg->link_mcast, 0);
        fail(s, dg);
    }
    arm(s);
}

void oasis_reasm6_init(oasis_stack *s)
{
    oasis_timer_init(&L(s)->reasm_timer, reasm_timer);
    oasis_hindex_init(&L(s)->reasm, s->cfg.reasm_max_datagrams);
}

void oasis_reasm6_fini(oasis_stack *s)
{
    oasis_reasm6 *dg;
    while ((dg = oldest(s)))
        destroy(s, dg);
    oasis_hindex_fini(s, &L(s)->reasm);
    oasis_timer_stop(s, &L(s)->reasm_timer);
}
