/* SACK scoreboard (RFC 6675 IsLost, SetPipe, NextSeg) and D-SACK
 * generation (RFC 2883). See tcp_sack.h; recovery is tcp_recovery.c. */
#include <string.h>

#include "core/stack_impl.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_sack.h"
#include "tcp/tcp_seq.h"

static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* Bytes of [a.left, a.right) inside [l, r). */
static uint32_t overlap(oasis_sack_block a, uint32_t l, uint32_t r)
{
    uint32_t lo = oasis_seq_max(a.left, l), hi = oasis_seq_min(a.right, r);
    return oasis_seq_lt(lo, hi) ? hi - lo : 0;
}

/* ---- the scoreboard ------------------------------------------------------ */

void oasis_sb_clear(oasis_sack_sb *sb)
{
    sb->n = 0;
    sb->forgot = 0;
}

/* Merges [l, r) in; returns the bytes it added. When the list is full a
 * new range evicts the highest one (forgetting a SACK is always safe). */
static uint32_t sb_add(oasis_sack_sb *sb, uint32_t l, uint32_t r, uint32_t snd_max)
{
    uint32_t i = 0, covered = 0;
    while (i < sb->n && oasis_seq_lt(sb->r[i].right, l))
        i++;
    uint32_t j = i, nl = l, nr = r;
    while (j < sb->n && oasis_seq_le(sb->r[j].left, r)) {
        covered += overlap(sb->r[j], l, r);
        nl = oasis_seq_min(nl, sb->r[j].left);
        nr = oasis_seq_max(nr, sb->r[j].right);
        j++;
    }
    if (j == i) {
        if (sb->n == OASIS_SACK_SB_MAX) {
            uint32_t gone = i == sb->n ? l : sb->r[sb->n - 1].left;
            if (!sb->forgot || oasis_seq_lt(gone, sb->forgot_from))
                sb->forgot_from = gone;
            sb->forgot = 1;
            sb->forgot_to = snd_max; /* (no SACK lies above it) */
            if (i == sb->n)
                return 0;
            sb->n--;
        }
        memmove(&sb->r[i + 1], &sb->r[i], (sb->n - i) * sizeof sb->r[0]);
        sb->n++;
    } else if (j > i + 1) {
        memmove(&sb->r[i + 1], &sb->r[j], (sb->n - j) * sizeof sb->r[0]);
        sb->n -= j - i - 1;
    }
    sb->r[i].left = nl;
    sb->r[i].right = nr;
    return (r - l) - covered;
}

void oasis_sb_advance(oasis_sack_sb *sb, uint32_t una)
{
    uint32_t k = 0;
    while (k < sb->n && oasis_seq_le(sb->r[k].right, una))
        k++;
    if (k) {
        memmove(&sb->r[0], &sb->r[k], (sb->n - k) * sizeof sb->r[0]);
        sb->n -= k;
    }
    if (sb->n && oasis_seq_lt(sb->r[0].left, una))
        sb->r[0].left = una;
}

static int contains(oasis_sack_block outer, oasis_sack_block in)
{
    return oasis_seq_le(outer.left, in.left) && oasis_seq_ge(outer.right, in.right);
}

int oasis_sack_is_dsack(const oasis_sack_block *b, uint32_t nb, uint32_t una)
{
    return nb && (oasis_seq_le(b[0].right, una) || (nb > 1 && contains(b[1], b[0])));
}

uint32_t oasis_sb_update(oasis_sack_sb *sb, uint32_t una, uint32_t snd_max,
                         const oasis_sack_block *b, uint32_t nb)
{
    uint32_t added = 0;
    oasis_sb_advance(sb, una);
    if (sb->forgot && oasis_seq_ge(una, sb->forgot_to))
        sb->forgot = 0; /* all of it acknowledged since */
    for (uint32_t k = oasis_sack_is_dsack(b, nb, una) ? 1 : 0; k < nb; k++) {
        uint32_t l = b[k].left, r = b[k].right;
        if (!oasis_seq_lt(l, r) || oasis_seq_gt(r, snd_max) || oasis_seq_le(r, una))
            continue; /* empty, never sent, or below the cumulative ACK */
        if (oasis_seq_lt(l, una))
            l = una;
        added += sb_add(sb, l, r, snd_max);
    }
    return added;
}

int oasis_sb_is_sacked(const oasis_sack_sb *sb, uint32_t seq)
{
    for (uint32_t k = 0; k < sb->n; k++)
        if (oasis_seq_in(seq, sb->r[k].left, sb->r[k].right))
            return 1;
    return 0;
}

/* RFC 6675 IsLost's test: DupThresh SACKed ranges, or more than
 * (DupThresh - 1) x mss SACKed bytes, above the byte in question. */
static int dupthresh_met(uint32_t ranges, uint32_t bytes, uint32_t mss)
{
    return ranges >= OASIS_SACK_DUPTHRESH || bytes > (uint32_t)(OASIS_SACK_DUPTHRESH - 1) * mss;
}

/* RFC 6675 IsLost by SACKs alone. */
static int dupthresh_lost(const oasis_sack_sb *sb, uint32_t seq, uint32_t mss)
{
    uint32_t ranges = 0, bytes = 0;
    for (uint32_t k = 0; k < sb->n; k++) {
        if (oasis_seq_gt(sb->r[k].left, seq))
            ranges++;
        bytes += overlap(sb->r[k], seq + 1, sb->r[k].right + 1);
    }
    return dupthresh_met(ranges, bytes, mss);
}

int oasis_sb_is_lost(const oasis_sack_sb *sb, uint32_t seq, uint32_t mss)
{
    if (sb->rack.lost_valid && oasis_seq_lt(seq, sb->rack.lost_below))
        return 1; /* RACK (RFC 8985): sent long enough before a delivered segment */
    return dupthresh_lost(sb, seq, mss);
}

uint32_t oasis_sb_dupthresh_end(const oasis_sack_sb *sb, uint32_t una, uint32_t mss)
{
    /* IsLost by SACKs only grows downwards: the highest hole it holds for
     * ends the lost prefix. Above the hole before range k lie ranges k..n-1
     * whole (dupthresh_lost's count, in one pass from the top). */
    uint32_t ranges = 0, bytes = 0;
    for (uint32_t k = sb->n; k-- > 0;) {
        ranges++;
        bytes += sb->r[k].right - sb->r[k].left;
        uint32_t s = k == 0 ? una : oasis_seq_max(sb->r[k - 1].right, una);
        if (oasis_seq_lt(s, sb->r[k].left) && dupthresh_met(ranges, bytes, mss))
            return sb->r[k].left;
    }
    return una;
}

uint32_t oasis_sb_sacked_bytes(const oasis_sack_sb *sb)
{
    uint32_t bytes = 0;
    for (uint32_t k = 0; k < sb->n; k++)
        bytes += sb->r[k].right - sb->r[k].left;
    return bytes;
}

uint32_t oasis_sb_sacked_all(const oasis_sack_sb *sb, uint32_t una, uint32_t snd_max)
{
    uint32_t bytes = oasis_sb_sacked_bytes(sb);
    if (sb->forgot) {
        uint32_t held = oasis_rack_sacked_in(&sb->rack, una, snd_max);
        if (held > bytes)
            bytes = held;
    }
    return bytes;
}

uint32_t oasis_sb_sacked_in(const oasis_sack_sb *sb, uint32_t l, uint32_t r)
{
    uint32_t bytes = 0;
    for (uint32_t k = 0; k < sb->n; k++)
        bytes += overlap(sb->r[k], l, r);
    return bytes;
}

uint32_t oasis_sb_resend_from(const oasis_sack_sb *sb, uint32_t seq)
{
    for (uint32_t k = 0; k < sb->n; k++)
        if (oasis_seq_in(seq, sb->r[k].left, sb->r[k].right))
            return sb->r[k].right;
    return seq;
}

/* Hole k: the unSACKed bytes before range k (k == n: above the last). */
static void hole(const oasis_sack_sb *sb, uint32_t k, uint32_t una, uint32_t snd_max,
                 uint32_t *start, uint32_t *end)
{
    *start = k == 0 ? una : oasis_seq_max(sb->r[k - 1].right, una);
    *end = k < sb->n ? sb->r[k].left : snd_max;
}

/* A hole ending at e is read through RACK's records when it reaches where
 * the list dropped ranges for want of room (sb->forgot_from): what it
 * spans may be SACKed. RFC 6675's NextSeg takes the smallest unSACKed
 * byte and SetPipe leaves SACKed bytes out; RFC 2018 5 skips SACKed data
 * in a retransmission. Read as the list alone, such a hole was lost whole
 * (up to RACK's lost_below above the last range), forgotten ranges and
 * all, and went again. */
static int via_records(const oasis_sack_sb *sb, uint32_t e)
{
    return sb->forgot && oasis_seq_gt(e, sb->forgot_from);
}

/* End of the lost prefix of [s, e), a part of hole k: all of it when
 * DupThresh SACKs lie above (only holes below a SACK block), else up to
 * RACK's lost_below (any hole, the one above the last block included). */
static uint32_t lost_end(const oasis_sack_sb *sb, uint32_t k, uint32_t s, uint32_t e,
                         uint32_t mss)
{
    if (k < sb->n && dupthresh_lost(sb, s, mss))
        return e;
    if (sb->rack.lost_valid && oasis_seq_gt(sb->rack.lost_below, s))
        return oasis_seq_min(e, sb->rack.lost_below);
    return s;
}

uint32_t oasis_sb_pipe(const oasis_sack_sb *sb, uint32_t una, uint32_t snd_max, uint32_t high_rxt,
                       uint32_t mss)
{
    uint32_t pipe = 0;
    for (uint32_t k = 0; k <= sb->n; k++) {
        uint32_t s, e;
        hole(sb, k, una, snd_max, &s, &e);
        if (!oasis_seq_lt(s, e))
            continue;
        oasis_sack_block h = {s, e};
        /* Lost bytes count only once retransmitted; the rest once, plus
         * once more if they were retransmitted too. */
        uint32_t le = lost_end(sb, k, s, e, mss), rtx = overlap(h, una, high_rxt);
        uint32_t in = e - le;
        if (via_records(sb, e)) { /* what the list forgot is not in flight */
            in -= oasis_rack_sacked_in(&sb->rack, le, e);
            rtx -= oasis_rack_sacked_in(&sb->rack, s, s + rtx);
        }
        pipe += in + rtx;
    }
    return pipe;
}

int oasis_sb_next_seg(const oasis_sack_sb *sb, uint32_t una, uint32_t snd_max, uint32_t high_rxt,
                      uint32_t mss, int rule3, uint32_t *seq, uint32_t *len)
{
    /* Rule 1 over every hole first, then rule 3 (rule 2, new data, is the
     * caller's: it comes between them). */
    for (int rule = 1; rule <= 3; rule += 2) {
        if (rule == 3 && !rule3)
            break;
        for (uint32_t k = 0; k <= sb->n; k++) {
            uint32_t s, e;
            hole(sb, k, una, snd_max, &s, &e);
            if (oasis_seq_gt(high_rxt, s))
                s = high_rxt;
            if (!oasis_seq_lt(s, e))
                continue;
            uint32_t end = rule == 1 ? lost_end(sb, k, s, e, mss) : (k < sb->n ? e : s);
            if (oasis_seq_lt(s, end) && via_records(sb, end) &&
                !oasis_rack_unsacked_run(&sb->rack, s, end, &s, &end))
                continue;
            if (oasis_seq_lt(s, end)) {
                *seq = s;
                *len = min_u32(end - s, mss);
                return 1;
            }
        }
    }
    return 0;
}

int oasis_sb_rescue(const oasis_sack_sb *sb, uint32_t una, uint32_t data_end, uint32_t mss,
                    uint32_t *seq, uint32_t *len)
{
    for (uint32_t k = sb->n + 1; k-- > 0;) {
        uint32_t s, e;
        hole(sb, k, una, data_end, &s, &e);
        if (oasis_seq_gt(e, data_end))
            e = data_end;
        if (!oasis_seq_lt(s, e))
            continue;
        if (via_records(sb, e)) { /* its last unSACKed run */
            uint32_t from = s, rs, re, found = 0;
            while (oasis_seq_lt(from, e) && oasis_rack_unsacked_run(&sb->rack, from, e, &rs, &re)) {
                s = rs;
                from = re;
                found = 1;
            }
            if (!found)
                continue;
            e = from;
        }
        *len = min_u32(e - s, mss);
        *seq = e - *len;
        return 1;
    }
    return 0;
}

/* ---- on the flow ----------------------------------------------------------- */

/* A D-SACK is counted (TCPDSACKRecv) and widens RACK's reordering window
 * (its RTT sample is oasis_rack_ack's). */
static void dsack_input(oasis_flow *f, const oasis_tcp_hdr *h, uint32_t una)
{
    if (!oasis_sack_is_dsack(h->sack, h->sack_count, una))
        return;
    f->s->ctr.tcp.dsack_recv++;
    oasis_rack_dsack(&f->ext->sb.rack, f->snd_una, f->snd_max);
}

void oasis_sack_input(oasis_flow *f, const oasis_tcp_hdr *h)
{
    if (!f->sack_ok)
        return;
    uint32_t una = f->snd_una;
    if (oasis_seq_gt(h->ack, una) && oasis_seq_le(h->ack, f->snd_max))
        una = h->ack;
    dsack_input(f, h, una);
    oasis_sb_update(&f->ext->sb, una, f->snd_max, h->sack, h->sack_count);
    if (f->ext->sb.n && f->ext->sb.r[0].left == una) {
        /* The cumulative ACK stops at (or inside) a range it SACKed
         * before: the receiver dropped that data (reneged, RFC 2018 8).
         * What the scoreboard says can no longer be trusted: it goes, and
         * the next SACKs build it again (Linux: tcp_check_sack_reneging). */
        oasis_sb_clear(&f->ext->sb);
        oasis_rack_reneged(&f->ext->sb.rack);
        if (oasis_seq_lt(f->snd_nxt, f->snd_max))
            f->snd_nxt = una; /* RTO recovery may have skipped it: back to it */
    }
    oasis_rack_ack(f, h, una); /* RACK losses, before recovery is decided */
}

void oasis_sack_on_rto(oasis_flow *f)
{
    /* The scoreboard stays: RTO recovery resends only what was not SACKed
     * (RFC 6675 5.1 would have the sender use all the SACK information it
     * has after an RTO; RFC 2018 5's SHOULD to forget it guards against
     * reneging, which oasis_sack_input detects on every ACK instead, as
     * Linux keeps it unless the head was SACKed). Every ACK leaves the
     * first range above snd_una, so the left edge is resent as RFC 2018 5
     * requires. Without it, a go-back-N through several holes (the
     * fallback when RACK's records cannot tell, tcp_recovery.c) sent again
     * what the receiver had, in the one-segment window of the timeout. */
    oasis_rack_on_rto(&f->ext->sb.rack);
    oasis_tlp_reset(f);
}

/* ---- D-SACK (receive side) ------------------------------------------------- */

void oasis_sack_note_dup(oasis_flow *f, uint32_t left, uint32_t right)
{
    if (!f->sack_ok || !oasis_seq_lt(left, right))
        return;
    f->ext->sb.dsack.left = left;
    f->ext->sb.dsack.right = right;
    f->ext->sb.dsack_pending = 1;
    f->ack_now = 1;
}

void oasis_sack_note_ofo(oasis_flow *f, uint32_t left, uint32_t right)
{
    /* The first held range the segment overlaps: the overlap is a
     * duplicate, whole or in part (as Linux's tcp_data_queue_ofo). */
    for (uint32_t k = 0; k < f->ext->ofo.n; k++) {
        const oasis_ofo_range *r = &f->ext->ofo.r[k];
        if (oasis_seq_lt(left, r->right) && oasis_seq_lt(r->left, right)) {
            oasis_sack_note_dup(f, oasis_seq_gt(left, r->left) ? left : r->left,
                                oasis_seq_lt(right, r->right) ? right : r->right);
            return;
        }
    }
}

uint32_t oasis_sack_fill(oasis_flow *f, oasis_sack_block *out, uint32_t max)
{
    uint32_t n = 0;
    if (f->ext->sb.dsack_pending && max) {
        out[n++] = f->ext->sb.dsack;
        f->ext->sb.dsack_pending = 0;
    }
    if (!oasis_ofo_empty(&f->ext->ofo))
        n += oasis_ofo_sack(&f->ext->ofo, out + n, max - n);
    return n;
}
