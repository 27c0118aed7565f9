/* RACK time-based loss detection (RFC 8985 6.2 steps 1-5, 7.2 reorder
 * timer) over a small per-flow ring of sent-segment records. See
 * tcp_rack.h.
 *
 * The ring is in sequence order: first transmissions go out in sequence
 * order, so among records never retransmitted, sequence order is send
 * order; a retransmission only moves a record's time later. Hence the loss
 * scan can stop at the first original record sent after RACK.xmit_ts.
 * Losses are summarised as lost_below: every unSACKed byte under it is
 * lost (what lies below a lost original was sent earlier, so is lost too;
 * what was retransmitted lies below HighRxt and NextSeg skips it). */
#include <string.h>

#include "core/mem.h"
#include "core/compiler.h"
#include "core/stack_impl.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_rack.h"
#include "tcp/tcp_seq.h"

static oasis_rack_seg *rec(const oasis_rack *r, uint32_t i)
{
    return &r->segs[(r->head + i) & (r->cap - 1)];
}

/* RFC 8985 RACK_sent_after: t1/o1/seq1 sent after t2/o2/seq2. At one
 * clock reading the transmission order decides (the RFC's tie rule, by
 * sequence, assumes a burst goes out in sequence order, which a
 * retransmission followed by new data does not); only within one
 * transmission (the records one segment covered) the sequence does. */
static int sent_after(uint64_t t1, uint32_t o1, uint32_t seq1, uint64_t t2, uint32_t o2,
                      uint32_t seq2)
{
    if (t1 != t2)
        return t1 > t2;
    return o1 != o2 ? (int32_t)(o1 - o2) > 0 : oasis_seq_gt(seq1, seq2);
}

/* First record whose end is above seq (binary search: records are sorted). */
static uint32_t find(const oasis_rack *r, uint32_t seq)
{
    uint32_t lo = 0, hi = r->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (oasis_seq_le(rec(r, mid)->end, seq))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int grow(oasis_stack *s, oasis_rack *r)
{
    uint32_t cap = r->cap ? r->cap * 2 : OASIS_RACK_SEGS_MIN;
    if (cap > OASIS_RACK_SEGS_MAX)
        return -1;
    oasis_rack_seg *ns = oasis_malloc(s, cap * sizeof *ns);
    if (!ns)
        return -1;
    for (uint32_t i = 0; i < r->n; i++)
        ns[i] = *rec(r, i);
    oasis_free(s, r->segs);
    r->segs = ns;
    r->cap = cap;
    r->head = 0;
    return 0;
}

/* Nothing in flight: no records. The ring itself stays (a busy flow sends
 * again soon); it goes with the extension or oasis_tcp_trim. */
static void segs_reset(oasis_rack *r)
{
    r->head = r->n = 0;
    r->segs_sacked = 0;
    r->have_fack = 0; /* all delivered: no stale RACK.fack across a wrap */
}

void oasis_rack_segs_free(oasis_flow *f)
{
    oasis_rack *r = &f->ext->sb.rack;
    oasis_free(f->s, r->segs);
    r->segs = NULL;
    r->cap = 0;
    segs_reset(r);
}

/* Writes the next record (the ring has room for it). */
static OASIS_ALWAYS_INLINE void push(oasis_rack *r, uint32_t seq, uint32_t end, uint64_t now,
                                     uint8_t flags)
{
    oasis_rack_seg *g = rec(r, r->n++);
    g->seq = seq;
    g->end = end;
    g->xmit_ns = now;
    g->order = ++r->tx_order;
    g->flags = flags;
}

static void append(oasis_flow *f, uint32_t seq, uint32_t end, uint64_t now, uint8_t flags)
{
    oasis_rack *r = &f->ext->sb.rack;
    if (r->n == r->cap && grow(f->s, r) < 0) {
        /* Full (or no memory): the newest record grows to cover this
         * segment and takes its (later) send time. Loss marking stays on,
         * only coarser: the merged bytes count as sent last and as
         * delivered once all are SACKed, both the cautious direction. */
        oasis_rack_seg *top = r->n ? rec(r, r->n - 1) : NULL;
        if (top && top->end == seq && !(top->flags & (OASIS_RACK_SACKED | OASIS_RACK_LOST))) {
            top->end = end;
            top->xmit_ns = now;
            top->order = ++r->tx_order;
            top->flags |= flags;
            r->merged++;
        }
        /* else left unrecorded: RFC 6675 IsLost covers it; what lies above
         * it is still in send order. */
        return;
    }
    push(r, seq, end, now, flags);
}

/* oasis_rack_sent's general case, out of line: a segment that covers
 * records (a retransmission), or no free record, or no cached time. */
static OASIS_NOINLINE void sent_other(oasis_flow *f, uint32_t seq, uint32_t len)
{
    oasis_rack *r = &f->ext->sb.rack;
    uint64_t now = oasis_now(f->s);
    uint32_t end = seq + len;
    if (r->n) {
        /* Records this segment covers were sent again: their clock restarts
         * (one transmission: one order for all of them). */
        uint32_t order = r->tx_order + 1;
        for (uint32_t i = find(r, seq); i < r->n && oasis_seq_lt(rec(r, i)->seq, end); i++) {
            oasis_rack_seg *g = rec(r, i);
            g->xmit_ns = now;
            g->order = r->tx_order = order;
            g->flags = (uint8_t)((g->flags & OASIS_RACK_SACKED) | OASIS_RACK_RETRANS);
        }
        uint32_t top = rec(r, r->n - 1)->end;
        if (oasis_seq_le(end, top))
            return;
        seq = oasis_seq_max(seq, top);
    }
    append(f, seq, end, now, oasis_seq_lt(seq, f->snd_max) ? OASIS_RACK_RETRANS : 0);
}

/* (always inline: with LTO its usual case sits in the send itself) */
OASIS_HOT OASIS_ALWAYS_INLINE void oasis_rack_sent(oasis_flow *f, uint32_t seq, uint32_t len)
{
    oasis_rack *r = &f->ext->sb.rack;
    if (!f->sack_ok || !len)
        return;
    /* The usual case: the segment starts at or above the top record's
     * end (so covers none), the ring has room and output runs with the
     * time cached: sent_other's append, with no call and no register
     * saved. */
    if (r->n < r->cap && f->s->now_depth &&
        (r->n == 0 || oasis_seq_ge(seq, rec(r, r->n - 1)->end))) {
        push(r, seq, seq + len, f->s->now_cache,
             oasis_seq_lt(seq, f->snd_max) ? OASIS_RACK_RETRANS : 0);
        return;
    }
    sent_other(f, seq, len);
}

/* (always inline, as oasis_rack_sent) */
OASIS_HOT OASIS_ALWAYS_INLINE void oasis_rack_sent_new(oasis_flow *f, uint32_t seq, uint32_t len,
                                                     uint64_t now)
{
    oasis_rack *r = &f->ext->sb.rack;
    /* seq was snd_max: every record ends at or below it, so the segment
     * covers none and is no retransmission (what oasis_rack_sent asks,
     * from snd_max, which the caller has moved past the segment already:
     * so append, not sent_other). now: the instant the caller read. */
    if (OASIS_LIKELY(r->n < r->cap)) {
        push(r, seq, seq + len, now, 0);
        return;
    }
    append(f, seq, seq + len, now, 0);
}

/* The ACK's timestamp echo as a send time: what was sent at or after the
 * returned time went out after the segment whose TSval the ACK echoes
 * (timestamps tick in ms: from the start of the next tick on). No echo:
 * never. */
static uint64_t echo_sent_before(const oasis_recovery *rc, uint64_t now)
{
    if (!rc->ack_echo || rc->ack_echo_ms < 0)
        return UINT64_MAX;
    uint64_t tick = now / OASIS_NS_PER_MS, back = (uint64_t)rc->ack_echo_ms;
    return back > tick ? 0 : (tick - back + 1) * OASIS_NS_PER_MS;
}

/* RFC 8985 6.2 step 2: seg was delivered; remember it if it is the most
 * recently sent delivered one. A retransmitted segment tells nothing when
 * the ACK did not acknowledge its last transmission: its timestamp echo
 * is older than that (echo_sent_before: sent at or after it, not what this ACK
 * echoes), or it came sooner than min_RTT after it (the check for when
 * no echo tells, or both fall in one timestamp tick). Taken, the delivery
 * of an original would date the retransmission delivered: RACK.xmit_ts
 * too late (earlier retransmissions judged lost that were not) and
 * RACK.rtt too short (the whole flight judged lost). */
static OASIS_ALWAYS_INLINE void delivered_in(oasis_rack *r, const oasis_rack_seg *g, uint64_t now,
                                             const oasis_recovery *rc, int forget_fack)
{
    /* Step 3: an original delivered below the highest delivered end
     * arrived out of order (callers go in ascending sequence order).
     * forget_fack: the caller drops RACK.fack right after (segs_reset:
     * have_fack 0, and fack is read only with have_fack), so of step 3
     * only the reordering test is left to do. */
    if (forget_fack) {
        if (r->have_fack && oasis_seq_lt(g->end, r->fack) && !(g->flags & OASIS_RACK_RETRANS))
            r->reordering_seen = 1;
    } else if (!r->have_fack || oasis_seq_gt(g->end, r->fack)) {
        r->fack = g->end;
        r->have_fack = 1;
    } else if (oasis_seq_lt(g->end, r->fack) && !(g->flags & OASIS_RACK_RETRANS)) {
        r->reordering_seen = 1;
    }
    uint64_t rtt = now - g->xmit_ns;
    if (g->flags & OASIS_RACK_RETRANS) {
        /* (the echo's time only now: most ACKs deliver no retransmission) */
        if (rtt < r->min_rtt_ns || g->xmit_ns >= echo_sent_before(rc, now))
            return;
    } else {
        oasis_rack_rtt_sample(r, rtt);
        /* (1 ns for a delivery in the tick it went: still a sample) */
        if (!r->ack_rtt_ns || rtt < r->ack_rtt_ns)
            r->ack_rtt_ns = rtt ? rtt : 1;
    }
    if (r->have_xmit &&
        !sent_after(g->xmit_ns, g->order, g->end, r->xmit_ns, r->xmit_order, r->end_seq))
        return;
    r->have_xmit = 1;
    r->xmit_ns = g->xmit_ns;
    r->xmit_order = g->order;
    r->end_seq = g->end;
    r->rtt_ns = rtt;
}

static OASIS_ALWAYS_INLINE void delivered(oasis_rack *r, const oasis_rack_seg *g, uint64_t now,
                                          const oasis_recovery *rc)
{
    delivered_in(r, g, now, rc, 0);
}

static void sack_range(oasis_rack *r, uint32_t left, uint32_t right, uint64_t now,
                       const oasis_recovery *rc)
{
    for (uint32_t i = find(r, left); i < r->n; i++) {
        oasis_rack_seg *g = rec(r, i);
        if (oasis_seq_gt(g->end, right))
            break;
        if (oasis_seq_lt(g->seq, left) || (g->flags & OASIS_RACK_SACKED))
            continue; /* only whole records count as delivered */
        g->flags |= OASIS_RACK_SACKED;
        g->flags &= (uint8_t)~OASIS_RACK_LOST;
        r->segs_sacked++;
        delivered(r, g, now, rc);
    }
}

uint32_t oasis_rack_detect(oasis_rack *r, uint64_t now, uint64_t reo_wnd, uint64_t *wait)
{
    uint32_t lost = 0;
    *wait = 0;
    if (!r->have_xmit)
        return 0;
    for (uint32_t i = 0; i < r->n; i++) {
        oasis_rack_seg *g = rec(r, i);
        if (!sent_after(r->xmit_ns, r->xmit_order, r->end_seq, g->xmit_ns, g->order, g->end)) {
            if (!(g->flags & OASIS_RACK_RETRANS))
                break; /* every record above was sent later still */
            continue;
        }
        if (g->flags & (OASIS_RACK_SACKED | OASIS_RACK_LOST))
            continue;
        uint64_t deadline = g->xmit_ns + r->rtt_ns + reo_wnd;
        if (deadline <= now) {
            g->flags |= OASIS_RACK_LOST;
            if (!r->lost_valid || oasis_seq_gt(g->end, r->lost_below))
                r->lost_below = g->end;
            r->lost_valid = 1;
            r->marked++;
            if (g->flags & OASIS_RACK_RETRANS)
                r->marked_rtx++;
            lost++;
        } else if (deadline - now > *wait) {
            *wait = deadline - now;
        }
    }
    return lost;
}

/* A retransmission judged lost that oasis_rack_lost_rtx may resend: lost,
 * not SACKed, and sent before the most recently sent delivered segment:
 * earlier, or at the same clock reading but by an earlier transmission
 * (new data sent after it in the same output call, then SACKed: RFC 8985
 * 2.2, the ACK clock PRR keeps is what reveals a lost retransmission).
 * Never by the sequence tie rule: resent, the record is the latest
 * transmission, and only a segment sent after it condemns it again. */
static int lost_rtx(const oasis_rack *r, const oasis_rack_seg *g)
{
    const uint8_t want = OASIS_RACK_RETRANS | OASIS_RACK_LOST;
    if ((g->flags & (want | OASIS_RACK_SACKED)) != want)
        return 0;
    return g->xmit_ns < r->xmit_ns ||
           (g->xmit_ns == r->xmit_ns && (int32_t)(r->xmit_order - g->order) > 0);
}

/* In RTO recovery (any): every record judged lost since it last went,
 * originals too (RFC 8985 6.3 marks them at the timeout); a resend clears
 * the mark (sent_other), so the mark alone says it is to go again. */
static int lost_seg(const oasis_rack *r, const oasis_rack_seg *g, int any)
{
    if (any)
        return (g->flags & (OASIS_RACK_LOST | OASIS_RACK_SACKED)) == OASIS_RACK_LOST;
    return lost_rtx(r, g);
}

/* Cold: recovery only; inlined into sack_output it cost the no-loss
 * path ~25 instructions a round trip in other inlining (bench/cgrt.sh). */
OASIS_COLD int oasis_rack_lost_seg(const oasis_rack *r, uint32_t una, uint32_t mss, int any,
                                   uint32_t *seq, uint32_t *len)
{
    for (uint32_t i = find(r, una); i < r->n; i++) {
        if (!lost_seg(r, rec(r, i), any))
            continue;
        /* A record is one segment as first sent; one retransmission
         * often covered several (small writes), and they are judged lost
         * together: they go again in one segment as the retransmission
         * went, not one each. Whole records only: resending marks each
         * record it covers sent again. */
        uint32_t s = oasis_seq_max(rec(r, i)->seq, una), e = rec(r, i)->end;
        for (uint32_t j = i + 1; j < r->n; j++) {
            const oasis_rack_seg *g = rec(r, j);
            if (g->seq != e || g->end - s > mss || !lost_seg(r, g, any))
                break;
            e = g->end;
        }
        *seq = s;
        *len = e - s < mss ? e - s : mss;
        return 1;
    }
    return 0;
}

OASIS_COLD int oasis_rack_lost_rtx(const oasis_rack *r, uint32_t una, uint32_t mss,
                                   uint32_t *seq, uint32_t *len)
{
    return oasis_rack_lost_seg(r, una, mss, 0, seq, len);
}

OASIS_COLD uint32_t oasis_rack_lost_bytes(const oasis_rack *r, uint32_t una, uint32_t below,
                                          int any, uint32_t *sacked)
{
    uint32_t n = 0, sk = 0;
    for (uint32_t i = find(r, una); i < r->n; i++) {
        const oasis_rack_seg *g = rec(r, i);
        if (!oasis_seq_lt(g->seq, below))
            break;
        uint32_t in = oasis_seq_min(g->end, below) - oasis_seq_max(g->seq, una);
        if (lost_seg(r, g, any))
            n += in;
        else if (g->flags & OASIS_RACK_SACKED)
            sk += in;
    }
    if (sacked)
        *sacked = sk;
    return n;
}

OASIS_COLD uint32_t oasis_rack_sacked_in(const oasis_rack *r, uint32_t l, uint32_t e)
{
    uint32_t sacked; /* (a SACKed record is never one lost_seg counts) */
    oasis_rack_lost_bytes(r, l, e, 1, &sacked);
    return sacked;
}

OASIS_COLD int oasis_rack_unsacked_run(const oasis_rack *r, uint32_t l, uint32_t e, uint32_t *s,
                                       uint32_t *end)
{
    uint32_t i = find(r, l), pos = l;
    for (; i < r->n; i++) { /* past the SACKed records from l on */
        const oasis_rack_seg *g = rec(r, i);
        if (oasis_seq_gt(g->seq, pos) || !(g->flags & OASIS_RACK_SACKED))
            break;
        pos = g->end;
    }
    uint32_t stop = e;
    for (; i < r->n; i++) { /* up to the next SACKed one */
        const oasis_rack_seg *g = rec(r, i);
        if (!oasis_seq_lt(g->seq, stop))
            break;
        if (g->flags & OASIS_RACK_SACKED) {
            stop = oasis_seq_max(g->seq, pos);
            break;
        }
    }
    if (!oasis_seq_lt(pos, stop))
        return 0;
    *s = pos;
    *end = stop;
    return 1;
}

void oasis_rack_reneged(oasis_rack *r)
{
    for (uint32_t i = 0; i < r->n; i++)
        rec(r, i)->flags &= (uint8_t)~OASIS_RACK_SACKED;
    r->segs_sacked = 0;
}

/* RACK.reo_wnd now (RFC 8985 6.2 step 4), with its floor. */
static uint64_t reo_now(const oasis_flow *f)
{
    const oasis_rack *r = &f->ext->sb.rack;
    int rec = oasis_recovery_any(f);
    uint64_t reo = oasis_rack_reo_wnd_now(r, f->ext->rtt.srtt_ns, rec);
    int zero = !r->reordering_seen && (rec || r->segs_sacked >= OASIS_RACK_DUPTHRESH);
    if (!zero && reo < OASIS_RACK_MIN_REO_NS)
        reo = OASIS_RACK_MIN_REO_NS; /* no RTT sample yet, or one of ~0 */
    return reo;
}

/* Marks losses and (re)arms the reorder timer; returns segments newly lost. */
static uint32_t check(oasis_flow *f, uint64_t now)
{
    oasis_rack *r = &f->ext->sb.rack;
    uint64_t wait, reo = reo_now(f);
    uint32_t lost = oasis_rack_detect(r, now, reo, &wait);
    f->ext->tm.reorder = wait ? now + wait : OASIS_TCP_NEVER;
    oasis_tcp_timer_by(f, f->ext->tm.reorder);
    return lost;
}

/* An ACK's RTT sample for min_RTT: the timestamp echo (read by
 * oasis_recovery_ack_begin), else the smoothed RTT. */
OASIS_HOT static void ack_rtt(oasis_flow *f)
{
    oasis_rack *r = &f->ext->sb.rack;
    r->ack_rtt_ns = 0; /* (delivered_in sets it for this ACK) */
    if (f->ext->rec.ack_echo) {
        int32_t ms = f->ext->rec.ack_echo_ms;
        if (ms >= 0)
            oasis_rack_rtt_sample(r, (uint64_t)ms * OASIS_NS_PER_MS + OASIS_NS_PER_MS / 2);
    } else if (f->ext->rtt.have_sample) {
        oasis_rack_rtt_sample(r, f->ext->rtt.srtt_ns);
    }
}

void oasis_rack_ack(oasis_flow *f, const oasis_tcp_hdr *h, uint32_t una)
{
    oasis_rack *r = &f->ext->sb.rack;
    uint64_t now = oasis_now(f->s);
    const oasis_recovery *rc = &f->ext->rec;
    ack_rtt(f);
    while (r->n && oasis_seq_le(rec(r, 0)->end, una)) {
        if (!(rec(r, 0)->flags & OASIS_RACK_SACKED))
            delivered(r, rec(r, 0), now, rc);
        else
            r->segs_sacked--;
        r->head = (r->head + 1) & (r->cap - 1);
        r->n--;
    }
    /* SACK blocks in ascending order (step 3 compares with RACK.fack). */
    oasis_sack_block b[OASIS_TCP_MAX_SACK];
    uint32_t nb = 0;
    for (uint32_t k = oasis_sack_is_dsack(h->sack, h->sack_count, una) ? 1 : 0; k < h->sack_count;
         k++) {
        if (!oasis_seq_lt(h->sack[k].left, h->sack[k].right))
            continue;
        uint32_t j = nb++;
        for (; j > 0 && oasis_seq_gt(b[j - 1].left, h->sack[k].left); j--)
            b[j] = b[j - 1];
        b[j] = h->sack[k];
    }
    for (uint32_t k = 0; k < nb && r->n; k++)
        sack_range(r, b[k].left, b[k].right, now, rc);
    if (r->lost_valid && oasis_seq_le(r->lost_below, una))
        r->lost_valid = 0;
    if (r->n == 0 && una == f->snd_max) {
        segs_reset(r); /* nothing in flight */
        f->ext->tm.reorder = OASIS_TCP_NEVER;
        return;
    }
    check(f, now);
}

/* oasis_rack_ack_all's records when there are several (a burst
 * acknowledged at once), in ascending order as oasis_rack_ack takes them. */
static OASIS_NOINLINE void ack_all_records(oasis_rack *r, uint64_t now,
                                           const oasis_recovery *rc)
{
    for (uint32_t i = 0; i < r->n; i++) {
        const oasis_rack_seg *g = rec(r, i);
        if (!(g->flags & OASIS_RACK_SACKED))
            delivered(r, g, now, rc);
    }
}

/* (Always inline, into header prediction's path as the recovery hook
 * that calls it: left to GCC's budget for that caller it moved out of
 * line when the receive path's checksum grew it, 20 instructions a round
 * trip.) */
OASIS_ALWAYS_INLINE void oasis_rack_ack_all(oasis_flow *f, uint64_t now)
{
    /* oasis_rack_ack with una = snd_max and no SACK blocks: every record
     * ends at or below snd_max, so all are delivered (or were SACKed),
     * lost_below too lies below, and nothing is left in flight. */
    oasis_rack *r = &f->ext->sb.rack;
    const oasis_recovery *rc = &f->ext->rec;
    ack_rtt(f);
    if (r->n == 1) {
        /* One record (request/response: the segment last sent): it is
         * rec(r, 0), with no ring index to walk. */
        const oasis_rack_seg *g = &r->segs[r->head];
        if (!(g->flags & OASIS_RACK_SACKED))
            delivered_in(r, g, now, rc, 1); /* (segs_reset below) */
    } else if (r->n) {
        ack_all_records(r, now, rc);
    }
    r->lost_valid = 0;
    segs_reset(r);
    f->ext->tm.reorder = OASIS_TCP_NEVER;
}

void oasis_rack_timeout(oasis_flow *f)
{
    oasis_rack *r = &f->ext->sb.rack;
    f->ext->tm.reorder = OASIS_TCP_NEVER;
    if (!f->sack_ok || !r->n || f->snd_una == f->snd_max || !oasis_tcp_synchronized(f))
        return;
    if (!check(f, oasis_now(f->s)))
        return;
    oasis_recovery_losses(f); /* recovery may start; output */
}

int oasis_rack_sacked_len(const oasis_rack *r, uint32_t len)
{
    for (uint32_t i = 0; i < r->n; i++) {
        const oasis_rack_seg *g = rec(r, i);
        if ((g->flags & OASIS_RACK_SACKED) && g->end - g->seq >= len)
            return 1;
    }
    return 0;
}

void oasis_rack_on_rto(oasis_rack *r)
{
    /* Old marks mean nothing: oasis_rack_mark_on_rto marks afresh. */
    r->lost_valid = 0;
    for (uint32_t i = 0; i < r->n; i++)
        rec(r, i)->flags &= (uint8_t)~OASIS_RACK_LOST;
}

int oasis_rack_mark_on_rto(oasis_rack *r, uint32_t una, uint32_t end, uint32_t mss, uint64_t now,
                           uint64_t reo_wnd)
{
    uint32_t first = find(r, una);
    if (first == r->n || oasis_seq_gt(rec(r, first)->seq, una))
        return 0; /* (no record at snd_una: nothing to go by) */
    /* The records must say what every byte up to end is: whole, in
     * sequence, no wider than a segment now (a smaller MSS after
     * PLPMTUD's black-hole step would resend a record in part). */
    for (uint32_t i = first; i < r->n; i++) {
        const oasis_rack_seg *g = rec(r, i);
        if ((i > first && g->seq != rec(r, i - 1)->end) || g->end - g->seq > mss)
            return 0;
    }
    if (rec(r, r->n - 1)->end != end)
        return 0;
    /* RFC 8985 6.3 RACK_mark_losses_on_RTO: the first unacknowledged
     * segment (it went an RTO ago), and every other not SACKed that was
     * sent RACK.rtt + RACK.reo_wnd ago or more; one sent since may still
     * arrive, and resending it at once would be spurious. */
    for (uint32_t i = first; i < r->n; i++) {
        oasis_rack_seg *g = rec(r, i);
        if (g->flags & OASIS_RACK_SACKED)
            continue;
        if (i == first || g->xmit_ns + r->rtt_ns + reo_wnd <= now)
            g->flags |= OASIS_RACK_LOST;
    }
    return 1;
}

int oasis_rack_mark_on_rto_flow(oasis_flow *f, uint32_t end, uint32_t mss)
{
    return oasis_rack_mark_on_rto(&f->ext->sb.rack, f->snd_una, end, mss, oasis_now(f->s),
                                  reo_now(f));
}
