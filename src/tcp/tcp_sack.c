/* SACK scoreboard and SACK-based loss recovery (RFC 6675) paced by PRR
 * (RFC 6937, PRR-SSRB); D-SACK generation (RFC 2883). See tcp_sack.h. */
#include <string.h>

#include "core/stack_impl.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_sack.h"
#include "tcp/tcp_seq.h"

static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static uint32_t max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }

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
    sb->active = 0;
}

/* Merges [l, r) in; returns the bytes it added. When the list is full a
 * new range evicts the highest one (forgetting a SACK is always safe). */
static uint32_t sb_add(oasis_sack_sb *sb, uint32_t l, uint32_t r)
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

uint32_t oasis_sb_update(oasis_sack_sb *sb, uint32_t una, uint32_t snd_max,
                         const oasis_sack_block *b, uint32_t nb)
{
    uint32_t added = 0;
    oasis_sb_advance(sb, una);
    for (uint32_t k = 0; k < nb; k++) {
        uint32_t l = b[k].left, r = b[k].right;
        if (k == 0 && nb > 1 && contains(b[1], b[0]))
            continue; /* D-SACK (RFC 2883): a duplicate, not new information */
        if (!oasis_seq_lt(l, r) || oasis_seq_gt(r, snd_max) || oasis_seq_le(r, una))
            continue; /* empty, never sent, or below the cumulative ACK (D-SACK) */
        if (oasis_seq_lt(l, una))
            l = una;
        added += sb_add(sb, l, r);
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

int oasis_sb_is_lost(const oasis_sack_sb *sb, uint32_t seq, uint32_t mss)
{
    uint32_t ranges = 0, bytes = 0;
    if (sb->rack.lost_valid && oasis_seq_lt(seq, sb->rack.lost_below))
        return 1; /* RACK (RFC 8985): sent long enough before a delivered segment */
    for (uint32_t k = 0; k < sb->n; k++) {
        if (oasis_seq_gt(sb->r[k].left, seq))
            ranges++;
        bytes += overlap(sb->r[k], seq + 1, sb->r[k].right + 1);
    }
    return ranges >= OASIS_SACK_DUPTHRESH ||
           bytes > (uint32_t)(OASIS_SACK_DUPTHRESH - 1) * mss;
}

uint32_t oasis_sb_sacked_bytes(const oasis_sack_sb *sb)
{
    uint32_t bytes = 0;
    for (uint32_t k = 0; k < sb->n; k++)
        bytes += sb->r[k].right - sb->r[k].left;
    return bytes;
}

/* Hole k: the unSACKed bytes before range k (k == n: above the last). */
static void hole(const oasis_sack_sb *sb, uint32_t k, uint32_t una, uint32_t snd_max,
                 uint32_t *start, uint32_t *end)
{
    *start = k == 0 ? una : oasis_seq_max(sb->r[k - 1].right, una);
    *end = k < sb->n ? sb->r[k].left : snd_max;
}

uint32_t oasis_sb_pipe(const oasis_sack_sb *sb, uint32_t una, uint32_t snd_max, uint32_t mss)
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
        if (k == sb->n || !oasis_sb_is_lost(sb, s, mss))
            pipe += e - s;
        pipe += overlap(h, una, sb->high_rxt);
    }
    return pipe;
}

int oasis_sb_next_seg(const oasis_sack_sb *sb, uint32_t una, uint32_t snd_max, uint32_t mss,
                      int rule3, uint32_t *seq, uint32_t *len)
{
    for (uint32_t k = 0; k < sb->n; k++) {
        uint32_t s, e;
        hole(sb, k, una, snd_max, &s, &e);
        if (oasis_seq_gt(sb->high_rxt, s))
            s = sb->high_rxt;
        if (!oasis_seq_lt(s, e))
            continue;
        if (rule3 || oasis_sb_is_lost(sb, s, mss)) {
            *seq = s;
            *len = min_u32(e - s, mss);
            return 1;
        }
    }
    return 0;
}

/* ---- PRR ------------------------------------------------------------------ */

uint32_t oasis_prr_sndcnt(uint32_t prr_delivered, uint32_t prr_out, uint32_t recover_fs,
                          uint32_t ssthresh, uint32_t pipe, uint32_t delivered, uint32_t mss)
{
    if (pipe > ssthresh) {
        /* Proportional: spread the reduction over one round trip. */
        uint64_t fs = recover_fs ? recover_fs : 1;
        uint64_t t = ((uint64_t)prr_delivered * ssthresh + fs - 1) / fs;
        return t > prr_out ? (uint32_t)(t - prr_out) : 0;
    }
    /* Slow-start reduction bound: grow back to ssthresh, at most one MSS
     * more than what was delivered. */
    uint32_t limit = max_u32(prr_delivered > prr_out ? prr_delivered - prr_out : 0, delivered);
    return min_u32(ssthresh - pipe, limit + mss);
}

/* ---- recovery on the flow -------------------------------------------------- */

static uint32_t prr_out(const oasis_flow *f)
{
    return f->sb.rtx_bytes + (f->snd_max - f->sb.max_at_entry);
}

static uint32_t pipe_of(const oasis_flow *f)
{
    return oasis_sb_pipe(&f->sb, f->snd_una, f->snd_max, oasis_tcp_eff_mss(f));
}

/* RACK's inputs from an ACK: an RTT sample for min_rtt (the timestamp
 * echo, else the smoothed RTT) and D-SACKs widening the reordering window. */
static void rack_input(oasis_flow *f, const oasis_tcp_hdr *h, uint32_t una)
{
    oasis_rack *r = &f->sb.rack;
    if (f->ts_ok && h->has_ts && h->ts_ecr) {
        int32_t ms = oasis_seq_diff(oasis_tcp_ts_now(f), h->ts_ecr);
        if (ms >= 0)
            oasis_rack_rtt_sample(r, (uint64_t)ms * OASIS_NS_PER_MS + OASIS_NS_PER_MS / 2);
    } else if (f->rtt.have_sample) {
        oasis_rack_rtt_sample(r, f->rtt.srtt_ns);
    }
    if (h->sack_count && (oasis_seq_le(h->sack[0].right, una) ||
                          (h->sack_count > 1 && contains(h->sack[1], h->sack[0]))))
        oasis_rack_dsack(r, f->snd_una, f->snd_max);
}

uint32_t oasis_sack_input(oasis_flow *f, const oasis_tcp_hdr *h)
{
    if (!f->sack_ok)
        return 0;
    uint32_t una = f->snd_una;
    if (oasis_seq_gt(h->ack, una) && oasis_seq_le(h->ack, f->snd_max))
        una = h->ack;
    rack_input(f, h, una);
    uint32_t added = oasis_sb_update(&f->sb, una, f->snd_max, h->sack, h->sack_count);
    oasis_rack_ack(f, h, una); /* RACK losses, before recovery is decided */
    return added;
}

static void prr_step(oasis_flow *f, uint32_t delivered)
{
    oasis_sack_sb *sb = &f->sb;
    uint32_t mss = oasis_tcp_eff_mss(f);
    sb->prr_delivered += delivered;
    uint32_t out = prr_out(f);
    uint32_t snd = oasis_prr_sndcnt(sb->prr_delivered, out, sb->recover_fs, f->cc.ssthresh,
                                    pipe_of(f), delivered, mss);
    if (sb->rtx_bytes == 0 && snd < mss)
        snd = mss; /* the fast retransmit goes out whatever PRR says */
    sb->sndcnt = snd;
    sb->out_at_ack = out;
}

static void enter_recovery(oasis_flow *f)
{
    oasis_sack_sb *sb = &f->sb;
    sb->active = 1;
    sb->recovery_point = f->snd_max;
    sb->high_rxt = f->snd_una;
    sb->prr_delivered = 0;
    sb->rtx_bytes = 0;
    sb->recover_fs = f->snd_max - f->snd_una;
    sb->max_at_entry = f->snd_max;
    f->ccops->on_enter_recovery(&f->cc, f->snd_max - f->snd_una, f->snd_max, oasis_now(f->s));
    f->s->ctr.tcp.fast_retrans++;
}

void oasis_sack_ack_done(oasis_flow *f, uint32_t acked, uint32_t sacked)
{
    oasis_sack_sb *sb = &f->sb;
    if (!f->sack_ok)
        return;
    if (acked)
        oasis_tlp_reset(f);
    if (sb->active) {
        if (oasis_seq_ge(f->snd_una, sb->recovery_point)) {
            sb->active = 0;
            oasis_rack_recovery_done(&sb->rack);
            f->ccops->on_recovery_ack(&f->cc, acked, 1, f->snd_max - f->snd_una,
                                      oasis_now(f->s));
            return;
        }
        if (oasis_seq_lt(sb->high_rxt, f->snd_una))
            sb->high_rxt = f->snd_una;
        prr_step(f, acked + sacked);
        return;
    }
    if (f->snd_una == f->snd_max || oasis_seq_lt(f->snd_una, f->cc.recover))
        return; /* RFC 6675 5.1: not before the last recovery point is acked */
    if (f->dupacks < OASIS_SACK_DUPTHRESH &&
        !oasis_sb_is_lost(sb, f->snd_una, oasis_tcp_eff_mss(f)))
        return;
    enter_recovery(f);
    prr_step(f, acked + sacked);
}

int oasis_sack_recovering(const oasis_flow *f) { return f->sack_ok && f->sb.active; }

/* Data bytes in the send ring from seq on (the FIN is never resent here). */
static uint32_t ring_left(const oasis_flow *f, uint32_t seq)
{
    uint32_t off = seq - f->snd_una;
    return off < f->snd.len ? f->snd.len - off : 0;
}

static uint32_t budget(const oasis_flow *f)
{
    uint32_t used = prr_out(f) - f->sb.out_at_ack;
    return f->sb.sndcnt > used ? f->sb.sndcnt - used : 0;
}

void oasis_sack_output(oasis_flow *f)
{
    oasis_sack_sb *sb = &f->sb;
    if (!oasis_sack_recovering(f))
        return;
    uint32_t mss = oasis_tcp_eff_mss(f);
    for (;;) {
        uint32_t seq, len;
        if (sb->rtx_bytes == 0 && !oasis_sb_is_sacked(sb, f->snd_una)) {
            /* RFC 6675 step 4.3: the first segment goes first. */
            seq = f->snd_una;
            len = min_u32(mss, sb->n ? sb->r[0].left - seq : f->snd_max - seq);
        } else {
            int no_new = ring_left(f, f->snd_max) == 0 ||
                         f->snd_max - f->snd_una >= f->snd_wnd;
            if (!oasis_sb_next_seg(sb, f->snd_una, f->snd_max, mss, no_new, &seq, &len))
                break;
        }
        len = min_u32(len, ring_left(f, seq));
        if (len == 0 || len > budget(f))
            break;
        oasis_tcp_xmit_data(f, seq, len);
        sb->high_rxt = seq + len;
        sb->rtx_bytes += len;
    }
    /* The send loop counts snd_nxt - snd_una against cwnd; what PRR still
     * allows for new data is expressed that way. */
    f->cc.cwnd = (f->snd_nxt - f->snd_una) + budget(f);
}

void oasis_sack_on_rto(oasis_flow *f)
{
    /* RFC 2018 / 6675 5.1: the receiver may have reneged; go back to
     * snd_una without trusting the scoreboard. cc.recover = snd_max
     * (set by the caller) keeps a new recovery out until it is acked. */
    oasis_sb_clear(&f->sb);
    oasis_rack_on_rto(&f->sb.rack);
    f->sb.rack.pto_armed = 0;
    oasis_tlp_reset(f);
}

/* ---- D-SACK (receive side) ------------------------------------------------- */

void oasis_sack_note_dup(oasis_flow *f, uint32_t left, uint32_t right)
{
    if (!f->sack_ok || !oasis_seq_lt(left, right))
        return;
    f->sb.dsack.left = left;
    f->sb.dsack.right = right;
    f->sb.dsack_pending = 1;
    f->ack_now = 1;
}

void oasis_sack_note_ofo(oasis_flow *f, uint32_t left, uint32_t right)
{
    oasis_sack_block in = {left, right};
    for (uint32_t k = 0; k < f->ofo.n; k++)
        if (contains(f->ofo.r[k], in))
            oasis_sack_note_dup(f, left, right);
}

uint32_t oasis_sack_fill(oasis_flow *f, oasis_sack_block *out, uint32_t max)
{
    uint32_t n = 0;
    if (f->sb.dsack_pending && max) {
        out[n++] = f->sb.dsack;
        f->sb.dsack_pending = 0;
    }
    if (!oasis_ofo_empty(&f->ofo))
        n += oasis_ofo_sack(&f->ofo, out + n, max - n);
    return n;
}
