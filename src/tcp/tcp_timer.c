/* TCP timers. Each flow has ONE oasis_timer armed at the earliest of its
 * deadlines (retransmission / SYN retry / persist / FIN_WAIT_2 in rto_at,
 * delayed ACK in delack_at, keepalive derived from last_rx). Deadlines that
 * move later (the RTO restarted on every ACK, keepalive on every segment)
 * leave the heap alone: the timer fires early, finds nothing due and
 * re-arms. So the hot path costs no heap operation. */
#include "core/stack_impl.h"
#include "oasis/error.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_seq.h"

static uint64_t ka_deadline(const oasis_flow *f)
{
    if (!f->has_ka || (f->state != OASIS_TCP_ESTABLISHED && f->state != OASIS_TCP_CLOSE_WAIT &&
                       f->state != OASIS_TCP_FIN_WAIT_2))
        return OASIS_TCP_NEVER;
    return f->last_rx + f->ka.after_ns + (uint64_t)f->ka_sent * f->ka.interval_ns;
}

static uint64_t next_deadline(const oasis_flow *f)
{
    uint64_t d = f->rto_at;
    if (f->delack_at < d)
        d = f->delack_at;
    if (f->sb.rack.reo_at && f->sb.rack.reo_at < d)
        d = f->sb.rack.reo_at; /* RACK reorder timer */
    uint64_t k = ka_deadline(f);
    return k < d ? k : d;
}

void oasis_tcp_timer_update(oasis_flow *f)
{
    uint64_t d = next_deadline(f);
    if (d == OASIS_TCP_NEVER || !f->in_table)
        return;
    if (!oasis_timer_active(&f->timer) || d < f->timer.deadline)
        oasis_timer_start(f->s, &f->timer, d);
}

void oasis_tcp_arm_rto(oasis_flow *f)
{
    f->sb.rack.pto_armed = 0; /* rto_at holds the RTO again */
    f->rto_at = oasis_now(f->s) + oasis_rtt_rto(&f->rtt);
    oasis_tcp_timer_update(f);
}

void oasis_tcp_arm_delack(oasis_flow *f)
{
    if (f->delack_at != OASIS_TCP_NEVER)
        return;
    f->delack_at = oasis_now(f->s) + f->s->cfg.tcp.delack_ns;
    oasis_tcp_timer_update(f);
}

/* SYN or SYN-ACK lost: resend with backoff, or give up (Timeout). */
static void handshake_timeout(oasis_flow *f, uint32_t max_retries)
{
    if (f->retries >= max_retries) {
        oasis_tcp_flow_end(f, OASIS_ETIMEDOUT);
        return;
    }
    f->retries++;
    f->s->ctr.tcp.timeouts++;
    oasis_rtt_backoff(&f->rtt);
    oasis_tcp_send_syn(f);
    oasis_tcp_arm_rto(f);
}

/* Zero window: probe with backoff (never gives up while the peer answers;
 * keepalive or the application decide about silent peers). */
static void persist_timeout(oasis_flow *f)
{
    oasis_stack *s = f->s;
    if (f->snd_wnd > 0) {
        f->persist = 0;
        oasis_tcp_force_output(f);
        oasis_tcp_output(f);
        return;
    }
    oasis_tcp_send_probe(f);
    s->ctr.tcp.zero_window_probes++;
    if (f->retries < 30)
        f->retries++;
    uint64_t rto = oasis_rtt_rto(&f->rtt) << f->retries;
    if (rto > s->cfg.tcp.rto_max_ns || rto == 0)
        rto = s->cfg.tcp.rto_max_ns;
    f->rto_at = oasis_now(s) + rto;
}

/* RFC 6298 5.4-5.7: retransmit the earliest unacknowledged segment, back
 * off, collapse the window (the congestion controller decides by how much)
 * and go back to snd_una. */
static void data_timeout(oasis_flow *f)
{
    oasis_stack *s = f->s;
    if (f->snd_una == f->snd_max)
        return;
    if (f->retries >= s->cfg.tcp.data_retries) {
        oasis_tcp_flow_end(f, OASIS_ETIMEDOUT);
        return;
    }
    f->retries++;
    s->ctr.tcp.timeouts++;
    oasis_recovery_on_rto(f); /* cwnd, RTO recovery, SACK and RACK marks */
    oasis_rtt_backoff(&f->rtt);
    f->snd_nxt = f->snd_una;
    f->rtt_timing = 0;
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
    case OASIS_TCP_FIN_WAIT_2:
        oasis_tcp_flow_end(f, OASIS_ETIMEDOUT); /* cfg.fin_wait2_ns ran out */
        return;
    default:
        if (f->persist)
            persist_timeout(f);
        else if (!oasis_tlp_fire(f)) /* RFC 8985 tail loss probe first */
            data_timeout(f);
    }
}

static void ka_fire(oasis_flow *f)
{
    oasis_stack *s = f->s;
    if (f->ka_sent >= f->ka.probes) {
        s->ctr.tcp.keepalive_drops++;
        oasis_tcp_flow_end(f, OASIS_ETIMEDOUT);
        return;
    }
    f->ka_sent++;
    s->ctr.tcp.keepalive_probes++;
    oasis_tcp_send_probe(f);
}

void oasis_tcp_timer_fn(oasis_stack *s, oasis_timer *t)
{
    oasis_flow *f = oasis_container_of(t, oasis_flow, timer);
    uint64_t now = oasis_now(s);
    f->busy++;
    if (f->in_table && f->delack_at <= now) {
        f->delack_at = OASIS_TCP_NEVER;
        s->ctr.tcp.delayed_acks++;
        oasis_tcp_send_ack(f);
    }
    if (f->in_table && f->rto_at <= now) {
        f->rto_at = OASIS_TCP_NEVER;
        rto_fire(f);
    }
    if (f->in_table && f->sb.rack.reo_at && f->sb.rack.reo_at <= now)
        oasis_rack_timeout(f);
    if (f->in_table && ka_deadline(f) <= now)
        ka_fire(f);
    oasis_tcp_timer_update(f);
    f->busy--;
    oasis_tcp_maybe_free(f);
}
