/* TCP timers: WHEN each of a flow's deadlines (oasis_tcp_deadlines, one per
 * purpose) is armed and what its expiry does. Each flow has ONE oasis_timer
 * armed at the earliest deadline. Deadlines that move later (the RTO
 * restarted by an ACK, keepalive by every segment) leave the heap alone:
 * the timer fires early, finds nothing due and re-arms. So the hot path
 * costs no heap operation.
 *
 * Invariant (a flow in the table): the timer runs no later than any
 * deadline. Whoever sets a deadline calls oasis_tcp_timer_by (the arm
 * functions here do), which touches the heap only when the deadline is
 * earlier than the timer; only the timer itself, having fired, needs the
 * minimum of all of them (rearm).
 *
 * What a tail loss probe sends is loss recovery's (oasis_tlp_send_probe);
 * when it is armed and what follows its expiry is here. */
#include "core/stack_impl.h"
#include "core/compiler.h"
#include "ip/ipv4.h"
#include "ipv6/ipv6.h"
#include "oasis/error.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_seq.h"

#define SYN_LOST_RTO_NS (3ull * OASIS_NS_PER_SEC) /* RFC 6298 5.7 */

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

static uint64_t next_deadline(const oasis_flow *f)
{
    const oasis_tcp_deadlines *t = &f->ext->tm;
    /* A tree of minimums: branch-free, every hot path runs it. */
    return min_u64(min_u64(min_u64(min_u64(t->rexmt, t->tlp), min_u64(t->persist, t->keep)),
                           min_u64(min_u64(t->fin_wait2, t->delack), min_u64(t->reorder, t->tune))),
                   t->cc_keep);
}

/* d: a deadline known to be set (not OASIS_TCP_NEVER). */
static OASIS_ALWAYS_INLINE void timer_by_set(oasis_flow *f, uint64_t d)
{
    if (f->in_table && (!oasis_timer_active(&f->ext->timer) || d < f->ext->timer.deadline))
        oasis_timer_start(f->s, &f->ext->timer, d);
}

static OASIS_ALWAYS_INLINE void timer_by(oasis_flow *f, uint64_t d)
{
    if (d != OASIS_TCP_NEVER)
        timer_by_set(f, d);
}

void oasis_tcp_timer_by(oasis_flow *f, uint64_t d) { timer_by(f, d); }

/* The timer fired, or the flow entered the table: it runs at the earliest
 * deadline. */
static void rearm(oasis_flow *f) { timer_by(f, next_deadline(f)); }

void oasis_tcp_timer_update(oasis_flow *f)
{
    /* A running timer is no later than any deadline (the invariant above);
     * one not running may have deadlines set while the flow was outside
     * the table. */
    if (!oasis_timer_active(&f->ext->timer))
        rearm(f);
}

void oasis_tcp_timers_clear(oasis_flow *f)
{
    oasis_tcp_deadlines *t = &f->ext->tm;
    t->rexmt = t->tlp = t->persist = t->keep = t->fin_wait2 = t->delack = t->reorder =
        t->tune = t->cc_keep = OASIS_TCP_NEVER;
}

OASIS_HOT void oasis_tcp_arm_rto(oasis_flow *f)
{
    f->ext->tm.rexmt = oasis_now(f->s) + oasis_rtt_rto(&f->ext->rtt);
    timer_by_set(f, f->ext->tm.rexmt); /* (an instant plus a duration: never NEVER) */
}

OASIS_ALWAYS_INLINE void oasis_tcp_arm_delack_at(oasis_flow *f, uint64_t now)
{
    if (f->ext->tm.delack != OASIS_TCP_NEVER)
        return;
    f->ext->tm.delack = now + f->s->cfg.tcp.delack_ns;
    timer_by_set(f, f->ext->tm.delack);
}

void oasis_tcp_arm_delack(oasis_flow *f)
{
    oasis_tcp_arm_delack_at(f, oasis_now(f->s));
}

/* Zero-window probe interval: the RTO doubled per probe, at most rto_max. */
static uint64_t persist_interval(const oasis_flow *f)
{
    uint64_t max = f->s->cfg.tcp.rto_max_ns, rto = oasis_rtt_rto(&f->ext->rtt);
    for (uint8_t i = 0; i < f->ext->persist_shift && rto < max; i++)
        rto *= 2;
    return rto > max ? max : rto;
}

void oasis_tcp_arm_persist(oasis_flow *f)
{
    /* With data outstanding the RTO watches the window (zero_window_rto). */
    if (f->ext->tm.persist != OASIS_TCP_NEVER || f->ext->tm.rexmt != OASIS_TCP_NEVER ||
        f->snd_una != f->snd_max)
        return;
    f->ext->persist_shift = 0;
    f->ext->probes_out = 0;
    f->ext->tm.persist = oasis_now(f->s) + persist_interval(f);
    timer_by(f, f->ext->tm.persist);
}

void oasis_tcp_stop_persist(oasis_flow *f) { f->ext->tm.persist = OASIS_TCP_NEVER; }

/* A probe may go: SACK on, no NewReno or RTO recovery (snd_nxt back below
 * snd_max is RTO recovery's go-back-N), no probe already out (RFC 8985
 * 7.2, 7.3). Our FIN may be the lost tail, so the closing states count
 * too.
 * SACK recovery too, beyond 7.2's SHOULD (which names the open state):
 * when PRR leaves nothing to send after the retransmissions and the
 * receiver's last ACK is lost (Linux sends one for a run of out-of-order
 * segments and one when the hole fills), no ACK is due any more and
 * nothing but the RTO would end the silence: a 200 ms stall, cwnd to one
 * segment, for one lost ACK. The probe (new data, 7.3) draws an ACK that
 * shows what arrived: RACK finds a lost retransmission (6.2), or the
 * cumulative ACK ends the recovery. One per advance of snd.una (tlp_out). */
OASIS_HOT static int tlp_may_probe(const oasis_flow *f)
{
    /* (nothing in flight first: every ACK that takes all of it asks) */
    return f->snd_una != f->snd_max && f->sack_ok &&
           (f->ext->rec.state == OASIS_REC_OPEN || f->ext->rec.state == OASIS_REC_SACK) &&
           !f->ext->sb.rack.tlp_out && !f->ext->retries &&
           f->ext->tm.persist == OASIS_TCP_NEVER && f->snd_nxt == f->snd_max &&
           (f->state == OASIS_TCP_ESTABLISHED || f->state == OASIS_TCP_CLOSE_WAIT ||
            f->state == OASIS_TCP_FIN_WAIT_1 || f->state == OASIS_TCP_CLOSING ||
            f->state == OASIS_TCP_LAST_ACK);
}

/* RFC 8985 7.2: scheduling also wants nothing SACKed (RACK's reorder timer
 * covers that case; in SACK recovery it does not cover a lost last ACK) and
 * the RTO running (the PTO is never later). */
static int tlp_allowed(const oasis_flow *f)
{
    /* (nothing SACKed: no range, the scoreboard keeps no empty ones) */
    return tlp_may_probe(f) && (f->ext->sb.n == 0 || f->ext->rec.state == OASIS_REC_SACK) &&
           f->ext->tm.rexmt != OASIS_TCP_NEVER;
}

/* The PTO from now (RFC 8985 7.2), never later than the RTO would fire:
 * then the probe goes at that time. rto, mss: the flow's. */
static OASIS_ALWAYS_INLINE void tlp_set(oasis_flow *f, uint64_t now, uint64_t rto, uint32_t mss)
{
    oasis_tcp_ext *x = f->ext;
    uint64_t pto = oasis_tlp_pto(x->rtt.srtt_ns, x->rtt.have_sample, f->snd_max - f->snd_una, mss, rto);
    x->tm.tlp = now + pto < x->tm.rexmt ? now + pto : x->tm.rexmt;
    timer_by(f, x->tm.tlp);
}

void oasis_tcp_arm_tlp(oasis_flow *f)
{
    if (!tlp_allowed(f)) {
        f->ext->tm.tlp = OASIS_TCP_NEVER;
        return;
    }
    tlp_set(f, oasis_now(f->s), oasis_rtt_rto(&f->ext->rtt), oasis_tcp_eff_mss(f));
}

OASIS_HOT OASIS_ALWAYS_INLINE void oasis_tcp_arm_sent(oasis_flow *f, uint32_t mss, uint64_t now)
{
    oasis_tcp_ext *x = f->ext;
    uint64_t rto = oasis_rtt_rto(&x->rtt);
    int armed = x->tm.rexmt == OASIS_TCP_NEVER;
    if (armed)
        x->tm.rexmt = now + rto;
    /* Of tlp_allowed's conditions only these can fail here: recovery,
     * persist, state and the sequence numbers are known (and the RTO
     * runs). The PTO is never later than the RTO, so the timer moved to
     * it covers both. */
    if (!f->sack_ok || x->sb.rack.tlp_out || x->retries || x->sb.n) {
        x->tm.tlp = OASIS_TCP_NEVER;
        if (armed)
            timer_by_set(f, x->tm.rexmt);
        return;
    }
    if (!armed) {
        tlp_set(f, now, rto, mss);
        return;
    }
    /* The RTO just armed at now + rto: the PTO, never above rto
     * (oasis_tlp_pto), is the earlier, as tlp_set would find. */
    x->tm.tlp = now + oasis_tlp_pto(x->rtt.srtt_ns, x->rtt.have_sample, f->snd_max - f->snd_una,
                                    mss, rto);
    timer_by_set(f, x->tm.tlp);
}

void oasis_tcp_arm_fin_wait2(oasis_flow *f)
{
    uint64_t d = f->s->cfg.tcp.fin_wait2_ns;
    f->ext->tm.fin_wait2 = d ? oasis_now(f->s) + d : OASIS_TCP_NEVER;
    timer_by(f, f->ext->tm.fin_wait2);
}

static int ka_state(const oasis_flow *f)
{
    return f->state == OASIS_TCP_ESTABLISHED || f->state == OASIS_TCP_CLOSE_WAIT ||
           f->state == OASIS_TCP_FIN_WAIT_2;
}

/* What every accepted segment resets. */
static OASIS_ALWAYS_INLINE void heard_note(oasis_flow *f, uint64_t now)
{
    f->last_rx_tick = (uint32_t)(now >> OASIS_TCP_RX_TICK_SHIFT);
    f->ext->ka_sent = 0;
    f->ext->probes_out = 0; /* RFC 1122 4.2.2.17: the peer answers */
    f->ext->soft_err = 0;   /* the path works again: an old ICMP error no longer explains anything */
}

static OASIS_NOINLINE void heard_arm(oasis_flow *f, uint64_t now)
{
    heard_note(f, now);
    if (f->has_ka) {
        f->ext->tm.keep = now + f->ext->ka.after_ns; /* RFC 1122 4.2.3.6: idle since the last segment */
        timer_by(f, f->ext->tm.keep);
    }
    /* FIN_WAIT_2 is bounded by the peer's silence, not by how long it
     * keeps sending after our FIN (half-close). */
    if (f->state == OASIS_TCP_FIN_WAIT_2)
        oasis_tcp_arm_fin_wait2(f);
}

OASIS_HOT OASIS_ALWAYS_INLINE void oasis_tcp_heard_at(oasis_flow *f, uint64_t now)
{
    /* The usual case (no keepalive, not FIN_WAIT_2) calls nothing, so
     * saves no register. */
    if (!f->has_ka && f->state != OASIS_TCP_FIN_WAIT_2) {
        heard_note(f, now);
        return;
    }
    heard_arm(f, now);
}

OASIS_HOT void oasis_tcp_heard(oasis_flow *f)
{
    oasis_tcp_heard_at(f, oasis_now(f->s));
}

void oasis_tcp_timers_established(oasis_flow *f)
{
    /* RFC 6298 5.7: a SYN (or SYN-ACK) timed out: the 1 s initial RTO may
     * be too short for this path; restart data from 3 s (a sample, when
     * one comes, replaces it). */
    if (f->ext->retries)
        oasis_rtt_raise(&f->ext->rtt, SYN_LOST_RTO_NS);
    f->ext->retries = 0;
    f->ext->rtt.backoff = 0;     /* handshake backoff: the RTO above replaces it */
    f->ext->tm.rexmt = OASIS_TCP_NEVER;
    f->last_tx_ms = (uint32_t)(oasis_now(f->s) / OASIS_NS_PER_MS);
    oasis_tcp_heard(f);
}

/* RFC 9293 3.8.3 (b), (e): the same segment retransmitted R1 times or
 * more: negative advice to IP (the neighbour we send through is checked
 * again, RFC 1122 3.3.1.4) and, once per episode, a report to the
 * application (SHLD-9). Called after f->ext->retries was counted. */
static void r1_check(oasis_flow *f)
{
    uint32_t r1 = f->s->cfg.tcp.r1_retries;
    if (!r1 || f->ext->retries < r1)
        return;
    if (oasis_tcp_conn_v6(&f->c))
        oasis_ipv6_negative_advice(f->s, &f->c.raddr);
    else
        oasis_ipv4_negative_advice(f->s, oasis_ipaddr_to_v4(&f->c.raddr));
    if (f->ext->retries == r1)
        oasis_tcp_post_event(f, OASIS_TCP_EV_RETRANSMIT);
}

/* SYN or SYN-ACK lost: resend with backoff, or give up (Timeout). */
static void handshake_timeout(oasis_flow *f, uint32_t max_retries)
{
    if (f->ext->retries >= max_retries) {
        oasis_tcp_flow_end(f, OASIS_ETIMEDOUT);
        return;
    }
    f->ext->retries++;
    f->s->ctr.tcp.timeouts++;
    r1_check(f); /* SYNs too (RFC 9293 3.8.3) */
    oasis_rtt_backoff(&f->ext->rtt);
    oasis_tcp_send_syn(f);
    oasis_tcp_arm_rto(f);
}

/* Zero window: probe with backoff. RFC 1122 4.2.2.17 keeps the flow open
 * while the peer answers; data_retries probes in a row unanswered and it
 * is gone (Timeout), as for retransmissions. */
static void persist_timeout(oasis_flow *f)
{
    oasis_stack *s = f->s;
    if (f->snd_wnd > 0) {
        oasis_tcp_force_output(f);
        oasis_tcp_output(f);
        return;
    }
    if (f->ext->probes_out >= s->cfg.tcp.data_retries) {
        oasis_tcp_flow_end(f, OASIS_ETIMEDOUT);
        return;
    }
    oasis_tcp_send_probe(f);
    s->ctr.tcp.zero_window_probes++;
    f->ext->probes_out++;
    if (f->ext->persist_shift < 30)
        f->ext->persist_shift++;
    f->ext->tm.persist = oasis_now(s) + persist_interval(f);
}

/* The peer closed its window with data of ours outstanding (what lay
 * beyond it may have been dropped): nothing can be retransmitted, so the
 * RTO probes the window as the persist timer would (RFC 1122 4.2.2.17).
 * The flow lives while the peer answers; data_retries probes in a row
 * unanswered and it is gone. Sending resumes from snd_una once the window
 * opens. Not a congestion signal: cwnd stays. */
static void zero_window_rto(oasis_flow *f)
{
    oasis_stack *s = f->s;
    if (f->ext->probes_out >= s->cfg.tcp.data_retries) {
        oasis_tcp_flow_end(f, OASIS_ETIMEDOUT);
        return;
    }
    f->ext->probes_out++;
    s->ctr.tcp.zero_window_probes++;
    f->ext->tm.tlp = OASIS_TCP_NEVER;
    f->snd_nxt = f->snd_una;
    f->rtt_timing = 0;
    oasis_rtt_backoff(&f->ext->rtt);
    oasis_tcp_send_probe(f);
    oasis_tcp_arm_rto(f);
}

/* RFC 6298 5.4-5.7: retransmit the earliest unacknowledged segment, back
 * off, collapse the window (the congestion controller decides by how
 * much). With SACK, RFC 8985 6.3 decides what else is lost (what RACK's
 * records deem so: tcp_recovery.c oasis_recovery_rto_resend); otherwise
 * the sender goes back to snd_una. */
static void data_timeout(oasis_flow *f)
{
    oasis_stack *s = f->s;
    if (f->snd_una == f->snd_max)
        return;
    if (f->snd_wnd == 0) {
        zero_window_rto(f);
        return;
    }
    if (f->ext->retries >= s->cfg.tcp.data_retries) {
        oasis_tcp_flow_end(f, OASIS_ETIMEDOUT);
        return;
    }
    f->ext->retries++;
    s->ctr.tcp.timeouts++;
    r1_check(f);
    f->ext->tm.tlp = f->ext->tm.reorder = OASIS_TCP_NEVER;
    oasis_recovery_on_rto(f); /* cwnd, RTO recovery, SACK and RACK marks */
    oasis_plpmtud_on_rto(f);  /* black hole: the retransmission goes smaller */
    oasis_rtt_backoff(&f->ext->rtt);
    f->rtt_timing = 0;
    if (!oasis_recovery_rto_resend(f)) /* RFC 8985 6.3: what RACK deems lost */
        f->snd_nxt = f->snd_una;       /* else go back to snd_una */
    oasis_tcp_output(f);
    oasis_tcp_arm_rto(f);
}

static void rto_fire(oasis_flow *f)
{
    switch (f->state) {
    case OASIS_TCP_SYN_SENT:
        handshake_timeout(f, f->s->cfg.tcp.syn_retries);
        return;
    case OASIS_TCP_SYN_RECEIVED:
        handshake_timeout(f, f->s->cfg.tcp.synack_retries);
        return;
    default:
        data_timeout(f);
    }
}

/* RFC 8985 7.3: the PTO expired. A probe goes out if one may; either way
 * the RTO, not another PTO, is armed next: RTO recovery stays the last
 * resort, and a probe that could not be sent is no timeout. */
static void tlp_fire(oasis_flow *f)
{
    if (!tlp_may_probe(f))
        return; /* RTO or NewReno recovery began meanwhile: the RTO stands as it is */
    oasis_tlp_send_probe(f);
    f->tlp_rearm = 0; /* the probe is no new data of the kind that re-arms */
    if (f->in_table && f->snd_una != f->snd_max)
        oasis_tcp_arm_rto(f);
}

static void ka_fire(oasis_flow *f)
{
    oasis_stack *s = f->s;
    if (!f->has_ka || !ka_state(f))
        return; /* FIN_WAIT_1 and the like: the RTO watches the peer */
    if (f->ext->ka_sent >= f->ext->ka.probes) {
        s->ctr.tcp.keepalive_drops++;
        oasis_tcp_flow_end(f, OASIS_ETIMEDOUT);
        return;
    }
    f->ext->ka_sent++;
    s->ctr.tcp.keepalive_probes++;
    oasis_tcp_send_probe(f);
    f->ext->tm.keep = oasis_now(s) + f->ext->ka.interval_ns;
}

/* 1 if deadline *d is due: it is cleared (the handler may set it again). */
static int due(oasis_flow *f, uint64_t *d, uint64_t now)
{
    if (!f->in_table || *d > now)
        return 0;
    *d = OASIS_TCP_NEVER;
    return 1;
}

void oasis_tcp_timer_fn(oasis_stack *s, oasis_timer *t)
{
    oasis_flow *f = oasis_container_of(t, oasis_tcp_ext, timer)->f;
    uint64_t now = oasis_now(s);
    oasis_tcp_deadlines *tm = &f->ext->tm;
    f->busy++;
    if (due(f, &tm->delack, now)) {
        s->ctr.tcp.delayed_acks++;
        oasis_tcp_send_ack(f);
    }
    if (due(f, &tm->tlp, now)) /* first: a PTO due with the RTO goes in its place */
        tlp_fire(f);
    if (due(f, &tm->rexmt, now))
        rto_fire(f);
    if (due(f, &tm->persist, now))
        persist_timeout(f);
    if (due(f, &tm->reorder, now))
        oasis_rack_timeout(f);
    if (due(f, &tm->fin_wait2, now) && f->state == OASIS_TCP_FIN_WAIT_2)
        oasis_tcp_flow_end(f, OASIS_ETIMEDOUT); /* cfg.fin_wait2_ns of silence */
    if (due(f, &tm->keep, now))
        ka_fire(f);
    if (due(f, &tm->tune, now) && f->ext->wq.head && f->in_table) {
        /* A write held back by the memory limit tries again (tcp_tune.c);
         * otherwise nothing to do: the flow may go idle now. */
        oasis_tcp_fill_sndbuf(f);
        oasis_tcp_output(f);
    }
    (void)due(f, &tm->cc_keep, now); /* nothing to do: the flow may go idle now */
    rearm(f);
    f->busy--;
    oasis_tcp_ext_idle(f);
    oasis_tcp_maybe_free(f);
}
