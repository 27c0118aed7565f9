/* Loss recovery: every decision between noticing a loss and having it
 * repaired, in one place. See tcp_recovery.h for who calls what.
 *
 * RFC clauses implemented here:
 * - RFC 5681 3.2 / RFC 6582 (no SACK): the third duplicate ACK starts fast
 *   retransmit and NewReno fast recovery (cwnd inflation per dupack, a
 *   partial ACK retransmits the next segment and deflates, a full ACK ends
 *   it); recovery starts only when snd_una covers the last recovery point.
 * - RFC 3042 (RFC 5681 3.2 step 1): limited transmit. The first and second
 *   duplicate ACKs each let one segment of new data go out, FlightSize at
 *   most cwnd + 2*SMSS; cwnd itself does not change and that data is left
 *   out of the ssthresh computation. With SACK, only a dupack that brings
 *   new SACK information counts.
 * - RFC 6675 (SACK): recovery starts on DupThresh dupacks or when IsLost
 *   (snd_una) holds (RACK losses count, RFC 8985); RecoveryPoint = HighData;
 *   step 4.3 sends the first segment first; then NextSeg: rule 1 lost
 *   holes, rule 2 new data (the send loop), rule 3 other holes below the
 *   highest SACK, rule 4 one rescue retransmission per recovery of the
 *   highest unSACKed segment (RescueRxt; HighRxt does not move). A
 *   cumulative ACK of RecoveryPoint ends recovery with cwnd = ssthresh.
 * - RFC 9937 PRR (which obsoletes RFC 6937) paces every byte sent during
 *   SACK recovery (section 6): DeliveredData = (change in snd.una) +
 *   (change in SACKed bytes), the latter signed; prr_out counts
 *   retransmissions and new data alike. Once pipe is down to ssthresh,
 *   PRR-CRB (send what was delivered) by default and PRR-SSRB's extra MSS
 *   only on a SafeACK: one that advances snd.una and indicates no further
 *   loss (section 4; 6937 used SSRB on every ACK). An ACK that delivers
 *   nothing leaves PRR's budget alone (6.2). RecoverFS leaves out what
 *   was SACKed before recovery began (it will never be DeliveredData).
 * - RFC 8985: RACK marks (tcp_rack_segs.c) feed IsLost and NextSeg; a
 *   retransmission RACK judges lost goes again before rule 1 (NextSeg
 *   only looks above HighRxt); its reorder timer can start recovery
 *   without an ACK (oasis_recovery_losses).
 * - RFC 6298 5.4-5.7 / RFC 5681 3.1: a timeout abandons fast recovery and
 *   enters RTO recovery until all data sent before it is acknowledged.
 *   With SACK the scoreboard stays (RFC 6675 5.1) and RFC 8985 6.3 says
 *   what is lost: the first unacknowledged segment, and every other not
 *   SACKed that went RACK.rtt + reo_wnd ago or more; the first goes at
 *   once, the rest within cwnd, and what went more recently stays in
 *   flight (snd_nxt stays at snd_max) until RACK deems it lost on a later
 *   ACK. The window leaves out what was SACKed or is marked lost, and a
 *   retransmission RACK judges lost goes again at once (RFC 8985 2.2)
 *   instead of waiting for the next timeout. When RACK's records cannot
 *   tell (no SACK, a gap, a smaller MSS after PLPMTUD), the timeout goes
 *   back to snd_una and the go-back-N skips SACKed ranges (RFC 2018 5).
 *
 * Invariants:
 * - rec.state is the only recovery flag. Fast recovery (NEWRENO, SACK) is
 *   entered only from OPEN; RTO is entered from any state; everything goes
 *   back to OPEN when snd_una reaches rec.recover.
 * - cwnd and ssthresh change only through f->ext->ccops (tcp_cc.h). During SACK
 *   recovery the send loop does not look at cwnd: it gets snd_nxt - snd_una
 *   plus PRR's remaining budget from oasis_recovery_cwnd.
 * - high_rxt only advances by bytes that xmit really put on the wire.
 *
 * ECN (RFC 3168 6.1.2), on flows that negotiated it: an ACK with ECE is a
 * congestion signal like a loss: cwnd and ssthresh go down through the
 * controller's on_ecn, at most once per window of data (rec.ecn_cut until
 * an ACK goes beyond the snd_max of the reduction; a fast recovery or an
 * RTO counts as that window's reduction too), cwnd does not grow on ECE
 * ACKs nor until that window is acknowledged, and CWR goes out on the next
 * new data segment after any reduction (f->ecn_cwr, tcp_output.c). */
#include "tcp/tcp_recovery.h"
#include "core/compiler.h"

#include "core/stack_impl.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_seq.h"

static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static uint32_t max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }

#define DUPTHRESH OASIS_SACK_DUPTHRESH

void oasis_recovery_init(oasis_flow *f)
{
    oasis_recovery *rc = &f->ext->rec;
    rc->state = OASIS_REC_OPEN;
    rc->dupacks = 0;
    rc->lt_segs = 0;
    rc->recover = f->snd_una;
    rc->ecn_cut = 0;
}

/* ---- ECN (RFC 3168 6.1.2) ------------------------------------------------------ */

enum { ECN_CUT_NONE = 0, ECN_CUT_LOSS, ECN_CUT_ECE };

/* The controller's on_ack; NewReno (the default) by a direct call, which
 * LTO can inline into the ACK path. rtt_ns: the ACK's timestamp echo or
 * timed segment (RFC 6298's one sample a round trip, without
 * timestamps). HyStart++ wants a sample from every ACK (RFC 9406 4.2:
 * currRTT, eight a round before it judges a delay rise), so without one
 * the controller gets what the SACK scoreboard's send times say: the
 * newest never-retransmitted segment the ACK delivered (Karn). */
static OASIS_ALWAYS_INLINE void cc_on_ack(oasis_flow *f, uint32_t acked, uint32_t flight,
                                          uint64_t rtt_ns, uint64_t now)
{
    const oasis_cc_ops *ops = f->ext->ccops;
    if (ops == &oasis_cc_newreno) {
        oasis_cc_newreno_on_ack(&f->ext->cc, acked, flight, rtt_ns, now);
        return;
    }
    if (!rtt_ns && f->sack_ok)
        rtt_ns = f->ext->sb.rack.ack_rtt_ns;
    ops->on_ack(&f->ext->cc, acked, flight, rtt_ns, now);
}

/* cwnd was just reduced (why: ECN_CUT_*): this window of data is done
 * reacting, and the next new data segment carries CWR. */
static void ecn_window_cut(oasis_flow *f, uint8_t why)
{
    if (!f->ecn_ok)
        return;
    f->ext->rec.ecn_cut = why;
    f->ext->rec.ecn_high = f->snd_max;
    f->ecn_cwr = 1;
}

/* An acceptable ACK with ECE on an ECN flow, once the recovery state
 * machine has taken it (so a fast recovery it started is seen); data: the
 * bytes it acknowledged. */
static void ecn_echo_ack(oasis_flow *f, uint32_t data)
{
    oasis_recovery *rc = &f->ext->rec;
    uint32_t mss = oasis_tcp_eff_mss(f);
    f->s->ctr.tcp.delivered_ce += (data + mss - 1) / mss;
    /* Only a window that had data in flight, once, and not while fast or
     * RTO recovery is already the reduction for it. */
    if (rc->state != OASIS_REC_OPEN || rc->ecn_cut || rc->ack_flight == 0)
        return;
    uint32_t before = f->ext->cc.cwnd;
    f->ext->ccops->on_ecn(&f->ext->cc, rc->ack_flight, oasis_now(f->s));
    f->s->ctr.tcp.ecn_reductions++;
    ecn_window_cut(f, ECN_CUT_ECE);
    /* 6.1.2: at one MSS cwnd can go no lower; the rate falls further by
     * the retransmit timer, which MUST be reset. */
    if (before <= mss && f->snd_una != f->snd_max)
        oasis_tcp_arm_rto(f);
}

int oasis_recovery_fast(const oasis_flow *f)
{
    return f->ext->rec.state == OASIS_REC_NEWRENO || f->ext->rec.state == OASIS_REC_SACK;
}

int oasis_recovery_any(const oasis_flow *f) { return f->ext->rec.state != OASIS_REC_OPEN; }

/* ---- PRR (RFC 9937) --------------------------------------------------------- */

uint32_t oasis_prr_sndcnt(uint32_t prr_delivered, uint32_t prr_out, uint32_t recover_fs,
                          uint32_t ssthresh, uint32_t pipe, uint32_t delivered, int safe_ack,
                          uint32_t mss)
{
    if (pipe > ssthresh) {
        /* Proportional: spread the reduction over one round trip. */
        uint64_t fs = recover_fs ? recover_fs : 1;
        uint64_t t = ((uint64_t)prr_delivered * ssthresh + fs - 1) / fs;
        return t > prr_out ? (uint32_t)(t - prr_out) : 0;
    }
    /* Grow back to ssthresh: by what was delivered (PRR-CRB), one MSS
     * more (PRR-SSRB) only on a SafeACK, so that heavy loss or a lost
     * retransmission is not answered with a burst (RFC 9937 4). */
    uint32_t limit = max_u32(prr_delivered > prr_out ? prr_delivered - prr_out : 0, delivered);
    if (safe_ack)
        limit += mss;
    return min_u32(ssthresh - pipe, limit);
}

static uint32_t prr_out(const oasis_flow *f)
{
    return f->ext->rec.rtx_bytes + (f->snd_max - f->ext->rec.max_at_entry);
}

static uint32_t pipe_of(const oasis_flow *f)
{
    return oasis_sb_pipe(&f->ext->sb, f->snd_una, f->snd_max, f->ext->rec.high_rxt, oasis_tcp_eff_mss(f));
}

/* What PRR still allows since the last ACK. */
static uint32_t budget(const oasis_flow *f)
{
    uint32_t used = prr_out(f) - f->ext->rec.out_at_ack;
    return f->ext->rec.sndcnt > used ? f->ext->rec.sndcnt - used : 0;
}

static void prr_step(oasis_flow *f, uint32_t delivered, int safe_ack)
{
    oasis_recovery *rc = &f->ext->rec;
    uint32_t mss = oasis_tcp_eff_mss(f);
    uint32_t out = prr_out(f);
    /* RFC 9937 6.2: an ACK that delivers nothing leaves the budget as the
     * last one set it (6937 recomputed it, and SSRB's MSS came again);
     * until something was sent the fast retransmit still needs one. */
    if (delivered == 0 && out != 0)
        return;
    rc->prr_delivered += delivered;
    uint32_t snd = oasis_prr_sndcnt(rc->prr_delivered, out, rc->recover_fs, f->ext->cc.ssthresh,
                                    pipe_of(f), delivered, safe_ack, mss);
    if (rc->rtx_bytes == 0 && snd < mss)
        snd = mss; /* the fast retransmit goes out whatever PRR says */
    rc->sndcnt = snd;
    rc->out_at_ack = out;
}

/* ---- entering and leaving ------------------------------------------------------ */

/* FlightSize for ssthresh: what limited transmit sent is left out (RFC
 * 5681 3.2 step 2). */
static uint32_t loss_flight(const oasis_flow *f)
{
    const oasis_recovery *rc = &f->ext->rec;
    if (rc->lt_segs && oasis_seq_gt(rc->lt_start, f->snd_una) &&
        oasis_seq_lt(rc->lt_start, f->snd_max))
        return rc->lt_start - f->snd_una;
    return f->snd_max - f->snd_una;
}

/* The SACKed bytes above snd_una, the ranges the list forgot included. */
static uint32_t sacked_all(const oasis_flow *f)
{
    return oasis_sb_sacked_all(&f->ext->sb, f->snd_una, f->snd_max);
}

/* una and sacked: snd_una and the SACKed bytes before the ACK (or event)
 * that starts recovery. */
static void enter(oasis_flow *f, oasis_rec_state st, uint32_t una, uint32_t sacked)
{
    oasis_recovery *rc = &f->ext->rec;
    int sack = st == OASIS_REC_SACK;
    f->ext->ccops->on_enter_recovery(&f->ext->cc, loss_flight(f), sack, oasis_now(f->s));
    rc->state = (uint8_t)st;
    rc->recover = f->snd_max;
    rc->high_rxt = f->snd_una;
    rc->rescue_set = 0;
    rc->lt_segs = 0;
    rc->prr_delivered = 0;
    rc->rtx_bytes = 0;
    /* RFC 9937 4 and 6: RecoverFS is what can still be delivered from
     * this ACK on: snd.nxt - snd.una, less the bytes SACKed before it,
     * plus what it cumulatively acknowledged (6937: snd.nxt - snd.una). */
    rc->recover_fs = (f->snd_max - una) - sacked;
    rc->max_at_entry = f->snd_max;
    rc->sndcnt = 0;
    rc->out_at_ack = 0;
    f->ext->sb.rack.tlp_episode = 0; /* RFC 8985 7.1: reset at fast recovery */
    f->s->ctr.tcp.fast_retrans++;
    ecn_window_cut(f, ECN_CUT_LOSS);
}

static void leave(oasis_flow *f, uint32_t data_acked)
{
    oasis_recovery *rc = &f->ext->rec;
    if (oasis_recovery_fast(f)) {
        f->ext->ccops->on_recovery_ack(&f->ext->cc, data_acked, 1, rc->state == OASIS_REC_SACK,
                                  f->snd_max - f->snd_una, oasis_now(f->s));
        oasis_rack_recovery_done(&f->ext->sb.rack);
    }
    rc->state = OASIS_REC_OPEN;
}

/* RFC 6675 5 / RFC 8985: should SACK recovery start now? */
static int sack_should_enter(const oasis_flow *f)
{
    if (f->ext->rec.state != OASIS_REC_OPEN || f->snd_una == f->snd_max)
        return 0;
    return f->ext->rec.dupacks >= DUPTHRESH ||
           oasis_sb_is_lost(&f->ext->sb, f->snd_una, oasis_tcp_eff_mss(f));
}

/* ---- ACKs ------------------------------------------------------------------------ */

/* End of what is deemed lost: every unSACKed byte from snd_una up to it
 * (by DupThresh SACKs or RACK; both lie below a prefix end). */
static uint32_t lost_end(const oasis_flow *f)
{
    const oasis_rack *r = &f->ext->sb.rack;
    uint32_t end = oasis_sb_dupthresh_end(&f->ext->sb, f->snd_una, oasis_tcp_eff_mss(f));
    return r->lost_valid ? oasis_seq_max(end, r->lost_below) : end;
}

/* The ACK's timestamp echo, read once for RACK and the RTO estimator.
 * has_ts: the segment carries TSopt (h->has_ts, or known). */
static OASIS_ALWAYS_INLINE void ack_echo(oasis_flow *f, const oasis_tcp_hdr *h, int has_ts,
                                         uint64_t now)
{
    oasis_recovery *rc = &f->ext->rec;
    rc->ack_echo = f->ts_ok && has_ts && h->ts_ecr;
    if (rc->ack_echo)
        rc->ack_echo_ms = oasis_seq_diff(oasis_tcp_ts_at(f, now), h->ts_ecr);
}

void oasis_recovery_ack_begin(oasis_flow *f, const oasis_tcp_hdr *h)
{
    oasis_recovery *rc = &f->ext->rec;
    ack_echo(f, h, h->has_ts, oasis_now(f->s));
    rc->ack_una = f->snd_una;
    rc->ack_flight = f->snd_max - f->snd_una;
    rc->ack_sacked = sacked_all(f);
    if (rc->state == OASIS_REC_SACK) {
        rc->ack_rtx_lost = f->ext->sb.rack.marked_rtx;
        rc->ack_lost_end = lost_end(f);
    }
    oasis_sack_input(f, h);
}

/* RFC 9937 SafeACK, in SACK recovery once the ACK is taken: snd.una
 * advanced and no further loss is indicated: the lost prefix reaches no
 * higher than before and RACK found no retransmission lost. */
static int safe_ack(const oasis_flow *f, uint32_t acked)
{
    const oasis_recovery *rc = &f->ext->rec;
    if (acked == 0 || f->ext->sb.rack.marked_rtx != rc->ack_rtx_lost)
        return 0;
    return !oasis_seq_gt(lost_end(f), oasis_seq_max(rc->ack_lost_end, f->snd_una));
}

/* RFC 5681's duplicate ACK (section 2), judged before the window update.
 * A zero window is flow control, no loss signal: those ACKs answer window
 * probes (tcp_timer.c zero_window_rto). */
static int is_dup_ack(const oasis_flow *f, const oasis_tcp_hdr *h)
{
    return h->ack == f->snd_una && f->snd_una != f->snd_max && h->payload_len == 0 &&
           h->window != 0 &&
           !(h->flags & (OASIS_TCP_SYN | OASIS_TCP_FIN)) &&
           ((uint32_t)h->window << f->snd_wscale) == f->snd_wnd;
}

/* RFC 9937: DeliveredData = change in snd.una + change in SACKed bytes
 * since the ACK began (signed: a cumulative ACK over SACKed ranges
 * delivers them once). */
static uint32_t delivered_data(const oasis_flow *f, uint32_t acked)
{
    int64_t d = (int64_t)acked + (int64_t)sacked_all(f) -
                (int64_t)f->ext->rec.ack_sacked;
    return d > 0 ? (uint32_t)d : 0;
}

/* Data bytes (our FIN aside) the cumulative ACK just covered. */
static OASIS_ALWAYS_INLINE uint32_t data_acked_since(const oasis_flow *f, uint32_t una)
{
    uint32_t acked = f->snd_una - una;
    if (acked && f->fin_queued && oasis_seq_gt(f->snd_una, f->ext->fin_seq) &&
        oasis_seq_le(una, f->ext->fin_seq))
        acked--;
    return acked;
}

static uint32_t data_acked(const oasis_flow *f) { return data_acked_since(f, f->ext->rec.ack_una); }

static void newreno_ack(oasis_flow *f, uint32_t acked, uint32_t data, int dup)
{
    if (acked) {
        if (oasis_seq_ge(f->snd_una, f->ext->rec.recover)) {
            leave(f, data);
            return;
        }
        /* RFC 6582 3.2 step 5: partial ACK, resend the next hole. */
        f->ext->ccops->on_recovery_ack(&f->ext->cc, data, 0, 0, f->snd_max - f->snd_una,
                                  oasis_now(f->s));
        oasis_tcp_retransmit_head(f);
    } else if (dup) {
        f->ext->ccops->on_dupack(&f->ext->cc);
    }
}

static void sack_ack(oasis_flow *f, uint32_t acked, uint32_t data)
{
    oasis_recovery *rc = &f->ext->rec;
    if (oasis_seq_ge(f->snd_una, rc->recover)) {
        leave(f, data);
        return;
    }
    if (acked)
        f->ext->ccops->on_recovery_ack(&f->ext->cc, data, 0, 1, f->snd_max - f->snd_una,
                                  oasis_now(f->s));
    if (oasis_seq_lt(rc->high_rxt, f->snd_una))
        rc->high_rxt = f->snd_una;
    prr_step(f, delivered_data(f, acked), safe_ack(f, acked));
}

/* Outside fast recovery: congestion control grows, dupacks count, limited
 * transmit, and the decision to start fast recovery. */
static void open_ack(oasis_flow *f, const oasis_tcp_hdr *h, uint32_t acked, uint32_t data,
                     int dup, uint64_t rtt_ns, int ece)
{
    oasis_recovery *rc = &f->ext->rec;
    /* RFC 3168 6.1.2: no growth on an ECE ACK, nor in the window an ECE
     * just reduced (as Linux's CWR state). */
    if (acked && !ece && rc->ecn_cut != ECN_CUT_ECE)
        cc_on_ack(f, data, rc->ack_flight, rtt_ns, oasis_now(f->s));
    if (rc->state == OASIS_REC_RTO) {
        if (oasis_seq_ge(f->snd_una, rc->recover))
            rc->state = OASIS_REC_OPEN; /* all data sent before the timeout arrived */
        return; /* RFC 6582 3.2 step 2: old dupacks start nothing */
    }
    if (f->sack_ok) {
        if (sack_should_enter(f)) {
            enter(f, OASIS_REC_SACK, rc->ack_una, rc->ack_sacked);
            prr_step(f, delivered_data(f, acked), 0); /* a loss: no SafeACK */
            return;
        }
    } else if (dup && rc->dupacks == DUPTHRESH) {
        enter(f, OASIS_REC_NEWRENO, rc->ack_una, 0);
        oasis_tcp_retransmit_head(f);
        oasis_tcp_arm_rto(f);
        return;
    }
    /* RFC 3042: the 1st and 2nd dupack each grant one new segment (with
     * SACK a dupack reports something new, RFC 5681 3.2 step 1). */
    if (dup && rc->dupacks < DUPTHRESH && rc->lt_segs < 2) {
        if (rc->lt_segs == 0)
            rc->lt_start = f->snd_max;
        rc->lt_segs++;
    }
    (void)h;
}

/* RFC 8985 7.4.2: an ACK that shows the episode's probe repaired a loss
 * MUST count as one for congestion control. Linux reduces once, without a
 * recovery (tcp_process_tlp_ack: CWR); so does this, through the
 * controller's one-shot reduction, once per window of data (not when a
 * fast recovery, an RTO or an ECE reduced it already). flight: the
 * FlightSize before the ACK. */
static OASIS_COLD void tlp_episode_ack(oasis_flow *f, uint32_t ack, int dsack, int bare_dup,
                                       uint32_t flight)
{
    oasis_recovery *rc = &f->ext->rec;
    if (!oasis_tlp_episode_ack(&f->ext->sb.rack, ack, dsack, bare_dup) ||
        rc->state != OASIS_REC_OPEN || rc->ecn_cut)
        return;
    f->ext->ccops->on_ecn(&f->ext->cc, flight, oasis_now(f->s));
    ecn_window_cut(f, ECN_CUT_LOSS);
}

void oasis_recovery_ack_end(oasis_flow *f, const oasis_tcp_hdr *h, uint64_t rtt_ns)
{
    oasis_recovery *rc = &f->ext->rec;
    uint32_t acked = f->snd_una - rc->ack_una, data = data_acked(f);
    int dup = 0;
    int ece = f->ecn_ok && (h->flags & OASIS_TCP_ECE);
    if (rc->ecn_cut && oasis_seq_gt(f->snd_una, rc->ecn_high))
        rc->ecn_cut = ECN_CUT_NONE; /* an ACK of data sent after the reduction */
    if (acked) {
        rc->dupacks = 0;
        rc->lt_segs = 0;
        oasis_tlp_reset(f);
    } else if (f->sack_ok ? sacked_all(f) != rc->ack_sacked : is_dup_ack(f, h)) {
        /* RFC 6675 2: with SACK a duplicate ACK is one that SACKs
         * something not SACKed before; RFC 5681 2 otherwise. */
        dup = 1;
        if (rc->dupacks < 255)
            rc->dupacks++;
    }
    int bare_dup = !acked && !h->sack_count && is_dup_ack(f, h); /* (RFC 8985 7.4.2 case 2) */
    switch (rc->state) {
    case OASIS_REC_NEWRENO:
        newreno_ack(f, acked, data, dup);
        break;
    case OASIS_REC_SACK:
        sack_ack(f, acked, data);
        if (rc->state == OASIS_REC_OPEN && sack_should_enter(f)) {
            /* The ACK that ends the recovery shows data sent after its
             * RecoveryPoint lost (RACK: a later segment is SACKed): a new
             * loss, a new recovery now (RFC 6675 5, RFC 8985 6.2); no
             * later ACK may come to start it, and the RTO would. */
            enter(f, OASIS_REC_SACK, f->snd_una, sacked_all(f));
            prr_step(f, 0, 0);
        }
        break;
    default:
        open_ack(f, h, acked, data, dup, rtt_ns, ece);
        break;
    }
    /* (after the state machine: a recovery it began ended the episode) */
    if (OASIS_UNLIKELY(f->ext->sb.rack.tlp_episode)) {
        int dsack = h->sack_count && oasis_sack_is_dsack(h->sack, h->sack_count, rc->ack_una) &&
                    h->sack[0].right == f->ext->sb.rack.tlp_end;
        tlp_episode_ack(f, h->ack, dsack, bare_dup, rc->ack_flight);
    }
    if (ece)
        ecn_echo_ack(f, data);
}

/* The ACK covers everything sent (h->ack == snd_max), recovery is OPEN,
 * nothing was SACKed and the ACK brings no SACK block and no ECE. Then
 * ack_begin/ack_end come down to this: the scoreboard stays empty, RACK
 * takes its RTT samples and drops every record (no loss to find, no
 * reorder timer), the ACK is no duplicate (SACK: nothing newly SACKed;
 * RFC 5681: nothing outstanding) and no recovery can start (snd_una ==
 * snd_max); congestion control grows as open_ack grows it. (Both always
 * inline: they are header prediction's path, tcp_input.c.) */
OASIS_ALWAYS_INLINE void oasis_recovery_all_acked_begin(oasis_flow *f, const oasis_tcp_hdr *h, uint64_t now)
{
    /* (ack_una, ack_flight, ack_sacked are not set: they hold between
     * ack_begin and ack_end only, and the short form's end has them from
     * its caller) */
    ack_echo(f, h, 1, now); /* (predicted: TSopt present when ts_ok) */
    if (f->sack_ok)
        oasis_rack_ack_all(f, now); /* the scoreboard is empty and stays so */
}

OASIS_ALWAYS_INLINE void oasis_recovery_all_acked_end(oasis_flow *f, uint32_t una, uint32_t flight,
                                                      uint64_t rtt_ns, uint64_t now)
{
    oasis_recovery *rc = &f->ext->rec;
    if (rc->ecn_cut && oasis_seq_gt(f->snd_una, rc->ecn_high))
        rc->ecn_cut = ECN_CUT_NONE; /* an ACK of data sent after the reduction */
    if (f->snd_una != una) {
        rc->dupacks = 0;
        rc->lt_segs = 0;
        oasis_tlp_reset(f);
        if (rc->ecn_cut != ECN_CUT_ECE)
            cc_on_ack(f, data_acked_since(f, una), flight, rtt_ns, now);
    }
    /* (as ack_end: after the window grew; no SACK block, no duplicate) */
    if (OASIS_UNLIKELY(f->ext->sb.rack.tlp_episode))
        tlp_episode_ack(f, f->snd_una, 0, 0, flight);
}

void oasis_recovery_losses(oasis_flow *f)
{
    if (!f->sack_ok)
        return;
    if (sack_should_enter(f)) {
        enter(f, OASIS_REC_SACK, f->snd_una, sacked_all(f));
        prr_step(f, 0, 0);
    }
    oasis_tcp_output(f);
}

void oasis_recovery_on_rto(oasis_flow *f)
{
    oasis_recovery *rc = &f->ext->rec;
    f->ext->ccops->on_rto(&f->ext->cc, f->snd_max - f->snd_una, oasis_recovery_fast(f), oasis_now(f->s));
    rc->state = OASIS_REC_RTO;
    rc->recover = f->snd_max; /* RFC 6582: no fast retransmit for older dupacks */
    f->ext->sb.rack.tlp_episode = 0; /* RFC 8985 7.1: reset at RTO recovery */
    rc->dupacks = 0;
    rc->lt_segs = 0;
    oasis_sack_on_rto(f);
    ecn_window_cut(f, ECN_CUT_LOSS);
}

/* ---- sending ---------------------------------------------------------------------- */

/* Data bytes in the send ring from seq on (the FIN is not data). */
static uint32_t ring_left(const oasis_flow *f, uint32_t seq)
{
    uint32_t off = seq - f->snd_una;
    return off < f->ext->snd.len ? f->ext->snd.len - off : 0;
}

/* End of the data sent so far (snd_max less our FIN): rule 4 resends
 * outstanding data only, never the unsent rest of the ring (the peer would
 * take it and acknowledge past snd_max). */
static uint32_t sent_data_end(const oasis_flow *f)
{
    int fin_sent = f->fin_queued && oasis_seq_gt(f->snd_max, f->ext->fin_seq);
    return f->snd_max - (fin_sent ? 1u : 0u);
}

/* RFC 6675 NextSeg rule 4's condition: HighACK > RescueRxt, or RescueRxt
 * undefined. Step 4.3 defines it at the first retransmission, so the rescue
 * never resends at once what that retransmission just sent. */
static int rescue_allowed(const oasis_recovery *rc, uint32_t una)
{
    return !rc->rescue_set || oasis_seq_gt(una, rc->rescue_end);
}

/* RFC 6675 NextSeg rule 2's condition: new data exists and the peer's
 * window has room for it. */
static int new_data_ok(const oasis_flow *f)
{
    return ring_left(f, f->snd_max) > 0 && f->snd_max - f->snd_una < f->snd_wnd;
}

static void sack_output(oasis_flow *f)
{
    oasis_recovery *rc = &f->ext->rec;
    uint32_t mss = oasis_tcp_eff_mss(f);
    for (;;) {
        uint32_t seq, len;
        int rescue = 0, first = 0;
        if (rc->rtx_bytes == 0 && !oasis_sb_is_sacked(&f->ext->sb, f->snd_una)) {
            /* RFC 6675 step 4.3: the first segment goes first. */
            first = 1;
            seq = f->snd_una;
            len = min_u32(mss, f->ext->sb.n ? f->ext->sb.r[0].left - seq : f->snd_max - seq);
        } else if (oasis_rack_lost_rtx(&f->ext->sb.rack, f->snd_una, mss, &seq, &len)) {
            /* a lost retransmission, below HighRxt (RFC 8985 2.2): rule 1's
             * lowest lost segment, which NextSeg would not look at */
        } else if (oasis_sb_next_seg(&f->ext->sb, f->snd_una, f->snd_max, rc->high_rxt, mss, 0, &seq,
                                     &len)) {
            /* rule 1 */
        } else if (new_data_ok(f)) {
            break; /* rule 2: the send loop sends new data within the budget */
        } else if (oasis_sb_next_seg(&f->ext->sb, f->snd_una, f->snd_max, rc->high_rxt, mss, 1, &seq,
                                     &len)) {
            /* rule 3 */
        } else if (rescue_allowed(rc, f->snd_una) &&
                   oasis_sb_rescue(&f->ext->sb, f->snd_una, sent_data_end(f), mss, &seq, &len)) {
            rescue = 1; /* rule 4 */
        } else {
            break;
        }
        len = min_u32(len, ring_left(f, seq));
        if (len == 0 || len > budget(f))
            break;
        uint32_t sent = oasis_tcp_xmit_data(f, seq, len, 0);
        rc->rtx_bytes += sent;
        if (rescue) {
            rc->rescue_set = 1; /* RescueRxt = RecoveryPoint; HighRxt stays */
            rc->rescue_end = rc->recover;
            continue;
        }
        if (first && sent) {
            rc->rescue_set = 1; /* step 4.3: RescueRxt = HighRxt = its last byte */
            rc->rescue_end = seq + sent;
        }
        if (oasis_seq_gt(seq + sent, rc->high_rxt))
            rc->high_rxt = seq + sent;
        if (sent == 0)
            break;
    }
}

/* RTO recovery's window with SACK: the send loop counts snd_nxt - snd_una
 * as in flight; what of it was SACKed, or is marked lost (by the timeout,
 * RFC 8985 6.3, or resent and judged lost again), is not (RFC 6675
 * SetPipe; Linux's packets_in_flight), so cwnd grows by them. RACK's
 * records count what the peer has even where the scoreboard (16 ranges)
 * forgot it: counted by the scoreboard alone, a timeout with 220 KB out
 * and more ranges SACKed than it holds saw the window full and sent only
 * the first segment at each timeout (simulator seed 105446317). The
 * scoreboard's count stays for bytes no whole record covers. */
static OASIS_COLD uint32_t rto_cwnd(const oasis_flow *f)
{
    const oasis_sack_sb *sb = &f->ext->sb;
    uint32_t una = f->snd_una, nxt = f->snd_nxt, by_rack;
    uint32_t lost = oasis_rack_lost_bytes(&sb->rack, una, nxt, 1, &by_rack);
    uint32_t sacked = max_u32(oasis_sb_sacked_in(sb, una, nxt), by_rack);
    uint64_t w = (uint64_t)f->ext->cc.cwnd + lost + sacked;
    return w > UINT32_MAX ? UINT32_MAX : (uint32_t)w;
}

/* RTO recovery with SACK: what RACK marks lost below snd_nxt goes now,
 * lowest first, within cwnd: what the timeout marked (RFC 8985 6.3) and
 * retransmissions judged lost since (2.2 and 6.2: RACK detects lost
 * retransmissions; Linux retransmits what it marks lost in its Loss
 * state). Before, nothing but the next timeout resent a lost
 * retransmission: RTO recovery ignored every ACK until snd_una passed the
 * recovery point. */
static OASIS_COLD void rto_output(oasis_flow *f)
{
    uint32_t mss = oasis_tcp_eff_mss(f), seq, len;
    while (oasis_rack_lost_seg(&f->ext->sb.rack, f->snd_una, mss, 1, &seq, &len) &&
           oasis_seq_lt(seq, f->snd_nxt)) {
        /* cwnd alone: the bytes went inside the peer's window once, and
         * old data beyond SND.UNA+SND.WND may go again (RFC 1122 4.2.2.16,
         * RFC 9293 MAY-7) */
        uint32_t wnd = rto_cwnd(f), inflight = f->snd_nxt - f->snd_una;
        len = min_u32(len, ring_left(f, seq));
        if (len == 0 || wnd <= inflight || wnd - inflight < len)
            break;
        if (oasis_tcp_xmit_data(f, seq, len, 1) == 0)
            break;
    }
}

int oasis_recovery_rto_resend(oasis_flow *f)
{
    uint32_t mss = oasis_tcp_eff_mss(f), seq, len;
    oasis_rack *r = &f->ext->sb.rack;
    if (!f->sack_ok || f->ext->rec.state != OASIS_REC_RTO ||
        !oasis_rack_mark_on_rto_flow(f, sent_data_end(f), mss))
        return 0;
    /* RFC 6298 5.4: the first unacknowledged segment goes now, whatever
     * the window (what else is lost goes within it, rto_output); the
     * rest of the flight stays where it is, snd_nxt at snd_max. */
    if (!oasis_rack_lost_seg(r, f->snd_una, mss, 1, &seq, &len) || seq != f->snd_una ||
        (len = min_u32(len, ring_left(f, seq))) == 0) {
        oasis_rack_on_rto(r); /* (cannot happen: the head is marked) */
        return 0;
    }
    oasis_tcp_xmit_data(f, seq, len, 1);
    return 1;
}

static void recovery_output(oasis_flow *f)
{
    if (f->ext->rec.state == OASIS_REC_SACK)
        sack_output(f);
    else if (f->ext->rec.state == OASIS_REC_RTO && f->sack_ok)
        rto_output(f);
}

void oasis_recovery_output(oasis_flow *f)
{
    if (f->ext->rec.state != OASIS_REC_OPEN)
        recovery_output(f);
}

int oasis_recovery_resend_skip(oasis_flow *f)
{
    uint32_t from = oasis_sb_resend_from(&f->ext->sb, f->snd_nxt);
    if (from == f->snd_nxt)
        return 0;
    /* RFC 2018 5: a SACKed range is skipped in any later retransmission
     * (never the left edge: no range starts at snd_una, oasis_sack_input). */
    f->snd_nxt = oasis_seq_min(from, f->snd_max);
    return 1;
}

static uint32_t recovery_cwnd(const oasis_flow *f)
{
    const oasis_recovery *rc = &f->ext->rec;
    if (rc->state == OASIS_REC_SACK)
        return (f->snd_nxt - f->snd_una) + budget(f); /* PRR, not cwnd */
    if (rc->state == OASIS_REC_RTO && f->sack_ok)
        return rto_cwnd(f);
    return f->ext->cc.cwnd;
}

OASIS_HOT uint32_t oasis_recovery_cwnd(const oasis_flow *f)
{
    const oasis_recovery *rc = &f->ext->rec;
    if (rc->state != OASIS_REC_OPEN)
        return recovery_cwnd(f);
    uint32_t cwnd = f->ext->cc.cwnd;
    if (rc->lt_segs) {
        /* RFC 3042: FlightSize up to cwnd + 2*SMSS, one segment per dupack. */
        uint64_t w = (uint64_t)cwnd + (uint64_t)rc->lt_segs * oasis_tcp_eff_mss(f);
        cwnd = w > UINT32_MAX ? UINT32_MAX : (uint32_t)w;
    }
    return cwnd;
}
