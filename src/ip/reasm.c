/* IPv4 reassembly (RFC 791, RFC 815, RFC 1122 3.3.2).
 *
 * Each datagram in progress keeps its data as a sorted list of
 * non-overlapping pieces. Overlap policy: the first data received wins. A new
 * fragment only fills the holes it covers; bytes already held are never
 * overwritten, so duplicates are harmless and an overlapping fragment cannot
 * rewrite what a checker upstream already saw (the classic overlap attacks).
 * Fragments that contradict the datagram's length (two different "last"
 * fragments, data beyond the end) make the whole datagram be dropped.
 *
 * Bounds: memory (struct + pieces, overhead included, so tiny fragments
 * cannot cheat) over all datagrams <= cfg.reasm_max_bytes, and at most
 * cfg.reasm_max_datagrams in progress; the oldest datagram is evicted first.
 * One timer on the stack expires datagrams cfg.reasm_timeout_ns after their
 * first fragment; the index's age list is in creation order, which is
 * deadline order. Datagrams are found through a keyed hash (core/hindex.h),
 * so a flood of fragments costs the same per fragment whether the bound is
 * 64 datagrams or 65,536.
 * A datagram holds at most REASM_MAX_PIECES pieces: under the byte bound
 * alone 8-byte fragments make thousands, and each fragment walks the list,
 * work an attacker chooses. Every host takes 576-byte datagrams (RFC 791,
 * RFC 1122 3.3.3), and cut to that 65535 bytes make 117 fragments; a
 * datagram cut finer than that is dropped whole (FreeBSD's default bound,
 * maxfragsperpacket, is 16).
 */
#include "ip/ipv4.h"

#include "core/bytes.h"
#include "core/mem.h"
#include "core/siphash.h"
#include "core/stack_impl.h"
#include "icmp/icmp.h"
#include "icmp/icmp_wire.h"
#include "oasis/error.h"

#include <string.h>

#define REASM_MAX_PIECES 128u

typedef struct reasm_piece {
    struct reasm_piece *next;
    uint32_t off, len;
    uint8_t data[];
} reasm_piece;

struct oasis_reasm {
    oasis_hnode node;           /* in s->ip.reasm: its chain, its age */
    uint32_t src, dst;
    uint16_t id;
    uint8_t proto;
    uint8_t have_first;         /* fragment 0 arrived: hdr is valid */
    uint8_t have_last;          /* the MF=0 fragment arrived: total is known */
    uint8_t ecn_seen;           /* 1 << ECN field of every fragment taken (RFC 3168 5.3) */
    uint32_t total;             /* payload length, once have_last */
    uint32_t have;              /* payload bytes held (pieces never overlap) */
    uint32_t bytes;             /* memory charged to the bound */
    uint32_t npieces;           /* at most REASM_MAX_PIECES */
    uint64_t deadline;
    oasis_ipv4_hdr first;       /* parsed header of fragment 0 */
    uint8_t hdr[OASIS_IPV4_MAX_HLEN];
    reasm_piece *pieces;        /* sorted by offset */
};

static oasis_reasm *of(oasis_hnode *n) { return n ? oasis_container_of(n, oasis_reasm, node) : NULL; }

/* The oldest datagram in progress, whose deadline is the first. */
static oasis_reasm *oldest(oasis_stack *s) { return of(oasis_hindex_oldest(&s->ip.reasm)); }

static void arm(oasis_stack *s)
{
    oasis_reasm *dg = oldest(s);
    if (dg)
        oasis_timer_start(s, &s->ip.reasm_timer, dg->deadline);
    else
        oasis_timer_stop(s, &s->ip.reasm_timer);
}

/* The key's hash: SipHash with the stack's secret, so that a sender cannot
 * aim its datagrams at one chain. */
static uint32_t key_hash(const oasis_stack *s, uint32_t src, uint32_t dst, uint16_t id,
                         uint8_t proto)
{
    uint8_t k[11];
    oasis_put32(k, src);
    oasis_put32(k + 4, dst);
    oasis_put16(k + 8, id);
    k[10] = proto;
    return (uint32_t)oasis_siphash24(s->secrets.reasm_key, k, sizeof k);
}

static void set_bytes(oasis_stack *s, uint32_t bytes)
{
    s->ip.reasm_bytes = bytes;
    s->ctr.ip.reasm_bytes = bytes;
}

static void destroy(oasis_stack *s, oasis_reasm *dg)
{
    oasis_hindex_remove(&s->ip.reasm, &dg->node);
    while (dg->pieces) {
        reasm_piece *pc = dg->pieces;
        dg->pieces = pc->next;
        oasis_free(s, pc);
    }
    set_bytes(s, s->ip.reasm_bytes - dg->bytes);
    oasis_free(s, dg);
    arm(s);
}

/* Drops a datagram that will never complete. */
static void fail(oasis_stack *s, oasis_reasm *dg)
{
    s->ctr.ip.reasm_fails++;
    destroy(s, dg);
}

/* Evicts the oldest datagrams other than keep until `need` more bytes fit.
 * Returns 0 when they fit. */
static int make_room(oasis_stack *s, size_t need, const oasis_reasm *keep)
{
    while ((size_t)s->ip.reasm_bytes + need > s->cfg.reasm_max_bytes) {
        oasis_reasm *victim = oldest(s);
        if (victim && victim == keep) /* (keep NULL: an empty list is no victim) */
            victim = of(oasis_hindex_newer(&victim->node));
        if (!victim)
            return -1;
        s->ctr.ip.reasm_overflows++;
        fail(s, victim);
    }
    return 0;
}

static int charge(oasis_stack *s, oasis_reasm *dg, size_t n)
{
    if (make_room(s, n, dg))
        return -1;
    dg->bytes += (uint32_t)n;
    set_bytes(s, s->ip.reasm_bytes + (uint32_t)n);
    return 0;
}

static oasis_reasm *find(oasis_stack *s, const oasis_ipv4_hdr *h, uint32_t hash)
{
    for (oasis_hnode *n = oasis_hindex_chain(&s->ip.reasm, hash); n; n = n->chain) {
        oasis_reasm *dg = of(n);
        if (dg->id == h->id && dg->src == h->src && dg->dst == h->dst && dg->proto == h->proto)
            return dg;
    }
    return NULL;
}

static oasis_reasm *create(oasis_stack *s, const oasis_ipv4_hdr *h, uint32_t hash)
{
    if (s->ip.reasm.ages.n >= s->cfg.reasm_max_datagrams) {
        s->ctr.ip.reasm_overflows++;
        fail(s, oldest(s));
    }
    if (make_room(s, sizeof(oasis_reasm), NULL))
        return NULL;
    oasis_reasm *dg = oasis_calloc(s, 1, sizeof *dg);
    if (!dg)
        return NULL;
    if (oasis_hindex_insert(s, &s->ip.reasm, &dg->node, hash)) {
        oasis_free(s, dg);
        return NULL;
    }
    dg->src = h->src;
    dg->dst = h->dst;
    dg->id = h->id;
    dg->proto = h->proto;
    dg->deadline = oasis_deadline(oasis_now(s), s->cfg.reasm_timeout_ns);
    dg->bytes = sizeof *dg;
    set_bytes(s, s->ip.reasm_bytes + dg->bytes);
    if (dg == oldest(s))
        arm(s);
    return dg;
}

/* Copies the parts of [off, end) that no piece holds yet into new pieces.
 * Returns 0, -1 when the memory bound or the allocator said no, -2 when the
 * datagram would hold more than REASM_MAX_PIECES pieces. */
static int fill_holes(oasis_stack *s, oasis_reasm *dg, uint32_t off, uint32_t end,
                      const uint8_t *data)
{
    reasm_piece **link = &dg->pieces;
    uint32_t pos = off;

    while (pos < end) {
        while (*link && (*link)->off + (*link)->len <= pos)
            link = &(*link)->next;
        reasm_piece *cur = *link;
        if (cur && cur->off <= pos) { /* already held: first data wins */
            pos = cur->off + cur->len;
            continue;
        }
        uint32_t gap_end = cur && cur->off < end ? cur->off : end;
        uint32_t n = gap_end - pos;
        if (dg->npieces >= REASM_MAX_PIECES)
            return -2;
        if (charge(s, dg, sizeof(reasm_piece) + n))
            return -1;
        reasm_piece *pc = oasis_malloc(s, sizeof *pc + n);
        if (!pc)
            return -1;
        pc->off = pos;
        pc->len = n;
        memcpy(pc->data, data + (pos - off), n);
        pc->next = cur;
        *link = pc;
        link = &pc->next;
        dg->have += n;
        dg->npieces++;
        pos = gap_end;
    }
    return 0;
}

static uint32_t held_end(const oasis_reasm *dg)
{
    uint32_t end = 0;
    for (const reasm_piece *pc = dg->pieces; pc; pc = pc->next)
        end = pc->off + pc->len;
    return end;
}

/* Does this fragment agree with what the datagram already knows? */
static int consistent(const oasis_reasm *dg, int last, uint32_t end)
{
    if (last)
        return dg->have_last ? dg->total == end : held_end(dg) <= end;
    return !dg->have_last || end <= dg->total;
}

/* Rebuilds the datagram behind fragment 0's header and delivers it. */
static void complete(oasis_stack *s, oasis_reasm *dg)
{
    uint32_t hlen = dg->first.hdr_len;
    /* Fragment 0's options may make the whole exceed 65535 bytes. */
    uint8_t *buf = hlen + dg->total <= 65535 ? oasis_malloc(s, hlen + dg->total) : NULL;

    if (!buf) {
        fail(s, dg);
        return;
    }
    memcpy(buf, dg->hdr, hlen);
    for (const reasm_piece *pc = dg->pieces; pc; pc = pc->next)
        memcpy(buf + hlen + pc->off, pc->data, pc->len);
    oasis_ipv4_hdr h = dg->first;
    /* RFC 3168 5.3: reassembly must not lose a CE mark: the whole is CE if
     * any fragment was, but never when another was Not-ECT (then it is
     * dropped, as Linux does); otherwise fragment 0's field stands. */
    if (dg->ecn_seen & (1u << 3)) {
        if (dg->ecn_seen & 1u) {
            oasis_free(s, buf);
            fail(s, dg);
            return;
        }
        h.tos |= 3;
    }
    h.options = buf + OASIS_IPV4_HLEN;
    h.payload = buf + hlen;
    h.payload_len = dg->total;
    h.total_len = (uint16_t)(hlen + dg->total);
    h.mf = 0;
    h.frag_off = 0;
    s->ctr.ip.reasm_oks++;
    destroy(s, dg);
    oasis_ipv4_deliver(s, &h);
    oasis_free(s, buf);
}

void oasis_reasm_input(oasis_stack *s, const oasis_ipv4_hdr *h)
{
    oasis_ip_counters *c = &s->ctr.ip;
    uint32_t off = h->frag_off, len = (uint32_t)h->payload_len, end = off + len;
    int last = !h->mf;

    c->reasm_reqds++;
    /* Every fragment but the last holds a multiple of 8 bytes (RFC 791), and
     * no datagram outgrows 65535 bytes ("ping of death"). */
    if ((!last && (len == 0 || len % 8 != 0)) || end > 65535u - h->hdr_len) {
        c->reasm_fails++;
        return;
    }
    uint32_t hash = key_hash(s, h->src, h->dst, h->id, h->proto);
    oasis_reasm *dg = find(s, h, hash);
    if (!dg && !(dg = create(s, h, hash))) {
        c->reasm_fails++;
        return;
    }
    if (!consistent(dg, last, end)) {
        fail(s, dg);
        return;
    }
    if (last) {
        dg->have_last = 1;
        dg->total = end;
    }
    dg->ecn_seen |= (uint8_t)(1u << (h->tos & 3));
    if (off == 0 && !dg->have_first) {
        dg->have_first = 1;
        dg->first = *h;
        memcpy(dg->hdr, h->payload - h->hdr_len, h->hdr_len);
    }
    int err = fill_holes(s, dg, off, end, h->payload);
    if (err) {
        if (err == -2)
            c->reasm_too_many_frags++;
        else
            c->reasm_overflows++;
        fail(s, dg);
        return;
    }
    if (dg->have_last && dg->have == dg->total)
        complete(s, dg);
}

/* RFC 1122 3.3.2: Time Exceeded (code 1) when fragment 0 had arrived. */
static void report_timeout(oasis_stack *s, const oasis_reasm *dg)
{
    uint8_t buf[OASIS_IPV4_MAX_HLEN + 8];
    uint32_t hlen = dg->first.hdr_len;
    const reasm_piece *pc = dg->pieces;
    uint32_t n = pc && pc->off == 0 ? (pc->len < 8 ? pc->len : 8) : 0;

    memcpy(buf, dg->hdr, hlen);
    if (n)
        memcpy(buf + hlen, pc->data, n);
    oasis_ipv4_hdr h = dg->first;
    h.options = buf + OASIS_IPV4_HLEN;
    h.payload = buf + hlen;
    h.payload_len = n;
    oasis_icmp_send_error(s, OASIS_ICMP_TIME_EXCEEDED, 1, 0, &h);
}

static void reasm_timer(oasis_stack *s, oasis_timer *t)
{
    uint64_t now = oasis_now(s);
    (void)t;
    oasis_reasm *dg;
    while ((dg = oldest(s)) && dg->deadline <= now) {
        s->ctr.ip.reasm_timeouts++;
        if (dg->have_first)
            report_timeout(s, dg);
        fail(s, dg);
    }
    arm(s);
}

void oasis_reasm_init(oasis_stack *s)
{
    oasis_timer_init(&s->ip.reasm_timer, reasm_timer);
    oasis_hindex_init(&s->ip.reasm, s->cfg.reasm_max_datagrams);
}

void oasis_reasm_fini(oasis_stack *s)
{
    oasis_reasm *dg;
    while ((dg = oldest(s)))
        destroy(s, dg);
    oasis_hindex_fini(s, &s->ip.reasm);
    oasis_timer_stop(s, &s->ip.reasm_timer);
}
