/* TCP input: RFC 9293 3.10.7 "segment arrives", one function per state or
 * per step, with RFC 5961 (blind RST/SYN/data injection), RFC 7323 (PAWS,
 * timestamps); what ACKs mean for loss recovery is tcp_recovery.c's.
 *
 * The checksum (RFC 9293 3.1: a segment that fails it is discarded):
 * the IPv4 input (tcp.c) leaves a long payload's sum pending
 * (h->sum_pending), so that a segment that takes the predicted path into
 * the receive ring is summed while it is copied there, one call over its
 * bytes instead of a sum and a copy. The invariant: nothing commits
 * before the sum is checked. The predicted path copies into the ring's
 * free storage (not held: oasis_ring_tail) while it sums, checks, and
 * only then lets the segment change the flow (a bad one goes to
 * slow_input); every other path checks first (oasis_tcp_sum_verify:
 * slow_input, and tcp.c before a segment reaches anything but a flow's
 * input). A bad segment is counted and dropped as the parse would have
 * done it. */
#include <string.h>

#include "core/stack_impl.h"
#include "core/compiler.h"
#include "oasis/error.h"
#include "oasis/ipv6.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_seq.h"
#include "tcp/tcp_syncookie.h"
#include "tcp/tcp_tune.h"

static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

void oasis_tcp_syn_options(oasis_flow *f, const oasis_tcp_hdr *h)
{
    uint32_t peer = h->has_mss ? h->mss : oasis_tcp_default_mss(&f->c.raddr);
    if (peer < 64)
        peer = 64; /* a tiny MSS would only make us send confetti */
    /* MSS = MTU - 40 (IPv4) or - 60 (IPv6: its header is 40 bytes). */
    f->mss_send = (uint16_t)min_u32(peer, oasis_tcp_link_mtu(f->s, &f->c.raddr) - 20 -
                                              oasis_tcp_ip_hlen(&f->c));
    f->ws_ok = f->ws_ok && h->has_wscale;
    if (h->has_wscale && h->wscale > 14)
        f->s->ctr.tcp.wscale_over_14++; /* RFC 7323 2.3: "SHOULD log the error" */
    if (f->ws_ok) {
        f->snd_wscale = h->wscale > 14 ? 14 : h->wscale; /* "MUST use 14" */
    } else {
        f->snd_wscale = 0;
        f->rcv_wscale = 0;
    }
    f->ts_ok = f->ts_ok && h->has_ts;
    if (f->ts_ok)
        f->ts_recent = h->ts_val;
    f->sack_ok = f->sack_ok && h->sack_permitted;
    f->ext->rcv_mss = oasis_tcp_rcv_mss_init(f);
    oasis_tcp_pmtu_init(f); /* a path MTU already learned for this peer */
}

/* RFC 4861 7.3.1's "forward progress": the peer acknowledged something
 * new (our SYN, data, our FIN), or sent new data, which it does only as
 * our ACKs reach it. Either proves the path forward: an IPv6 next hop
 * waiting in DELAY needs no probe. One test of a stack field while none
 * waits. */
static OASIS_COLD OASIS_NOINLINE void confirm_path_now(oasis_flow *f)
{
    if (oasis_tcp_conn_v6(&f->c))
        oasis_ipv6_confirm_reachable(f->s, &f->c.raddr);
}

static OASIS_ALWAYS_INLINE void confirm_path(oasis_flow *f)
{
    if (OASIS_UNLIKELY(f->s->nd_delay))
        confirm_path_now(f); /* (out of line: the predicted path keeps its registers) */
}

/* The handshake completed (SYN_SENT or SYN_RECEIVED -> ESTABLISHED). */
static void establish(oasis_flow *f, const oasis_tcp_hdr *h, int syn_window)
{
    oasis_stack *s = f->s;
    f->snd_una = h->ack;
    f->snd_wnd = syn_window ? h->window : (uint32_t)h->window << f->snd_wscale;
    f->max_snd_wnd = f->snd_wnd;
    f->snd_wl1 = h->seq;
    f->snd_wl2 = h->ack;
    f->ext->push_seq = f->snd_nxt;
    if (!f->ext->retries && f->ext->rtt_start)
        oasis_rtt_sample(&f->ext->rtt, oasis_now(s) - f->ext->rtt_start); /* Karn: SYN never resent */
    f->ext->rtt_start = 0;
    confirm_path(f);
    oasis_tcp_timers_established(f);
    f->ext->ccops->init(&f->ext->cc, oasis_tcp_eff_mss(f), oasis_now(s));
    oasis_recovery_init(f);
    oasis_tcp_set_state(f, OASIS_TCP_ESTABLISHED);
    if (f->ecn_ok)
        s->ctr.tcp.ecn_flows++;
    if (f->passive)
        f->accept_pending = 1;
    oasis_tcp_wake(f);
}

/* ---- LISTEN ---------------------------------------------------------------- */

/* RFC 3168 6.1.1: an "ECN-setup SYN" has both ECE and CWR set. */
static int ecn_setup_syn(const oasis_tcp_hdr *h)
{
    return (h->flags & (OASIS_TCP_ECE | OASIS_TCP_CWR)) == (OASIS_TCP_ECE | OASIS_TCP_CWR);
}

/* A SYN to a listener; iss set: a new incarnation over TIME_WAIT. */
static void listen_syn(oasis_stack *s, oasis_tcp_listener *l, const oasis_ipaddr *src,
                       const oasis_ipaddr *dst, const oasis_tcp_hdr *h, const uint32_t *iss)
{
    if (h->flags & OASIS_TCP_FIN) {
        s->ctr.tcp.syn_fin_drops++; /* no stack sends SYN+FIN: a scan (Linux drops it too) */
        return;
    }
    if (l->pending >= l->backlog) {
        s->ctr.tcp.listen_overflows++;
        /* A cookie's ACK finds no room beyond twice the backlog
         * (tcp_syncookie.c) while its peer believes it is connected and
         * sends into a flow that may never exist: drop the SYN instead, and
         * the peer's connect retries it, as Linux does at a full accept
         * queue. */
        if (l->pending >= 2 * l->backlog)
            return;
        oasis_tcp_cookie_synack(s, l, src, dst, h); /* RFC 4987 3.6: no state kept */
        return;
    }
    oasis_flow *f = oasis_tcp_flow_new(s, dst, src, h->dst_port, h->src_port);
    if (!f)
        return;
    oasis_tcp_tune_init(f, &l->bufs); /* before the SYN-ACK: its window, the scale */
    if (iss)
        f->iss = f->snd_una = f->snd_nxt = f->snd_max = *iss;
    oasis_tcp_flow_adopt(f, l);
    f->irs = h->seq;
    f->rcv_nxt = h->seq + 1;
    f->snd_wnd = h->window;
    f->segs_in = 1; /* the SYN is the connection's first segment in (Linux's
                       tcp_create_openreq_child too): flows add up to InSegs */
    oasis_tcp_syn_options(f, h);
    f->ecn_ok = s->cfg.tcp.ecn && ecn_setup_syn(h); /* RFC 3168 6.1.1: only if asked */
    oasis_tcp_set_state(f, OASIS_TCP_SYN_RECEIVED);
    oasis_tcp_table_insert(s, &f->c);
    s->ctr.tcp.passive_opens++;
    f->ext->rtt_start = oasis_now(s);
    oasis_tcp_send_syn(f);
    oasis_tcp_arm_rto(f);
}

void oasis_tcp_listen_reopen(oasis_stack *s, oasis_tcp_listener *l, const oasis_ipaddr *src,
                             const oasis_ipaddr *dst, const oasis_tcp_hdr *h, uint32_t iss)
{
    listen_syn(s, l, src, dst, h, &iss);
}

void oasis_tcp_listen_input(oasis_stack *s, oasis_tcp_listener *l, const oasis_ipaddr *src,
                            const oasis_ipaddr *dst, const oasis_tcp_hdr *h)
{
    if (h->flags & OASIS_TCP_RST)
        return;
    if (h->flags & OASIS_TCP_ACK) {
        if (oasis_tcp_cookie_ack(s, l, src, dst, h))
            return;
        oasis_tcp_send_rst_reply(s, dst, src, h);
        return;
    }
    if (!(h->flags & OASIS_TCP_SYN))
        return;
    listen_syn(s, l, src, dst, h, NULL);
}

/* ---- SYN_SENT (3.10.7.3) ------------------------------------------------- */

static void text_and_fin(oasis_flow *f, const oasis_tcp_hdr *h);

/* RFC 9293 3.10.7.3 fourth: text, URG or FIN in the SYN-ACK that opened
 * the flow continue at the sixth step (a TCP Fast Open server sends its
 * first bytes there). As a segment starting after the SYN. */
static OASIS_COLD void synack_text(oasis_flow *f, const oasis_tcp_hdr *h)
{
    if (!h->payload_len && !(h->flags & (OASIS_TCP_FIN | OASIS_TCP_URG)))
        return;
    oasis_tcp_hdr t = *h;
    t.seq = h->seq + 1;
    t.flags &= (uint8_t)~OASIS_TCP_SYN;
    if (t.urg)
        t.urg--; /* SEG.UP = SEG.SEQ + urgent: the same byte */
    if (t.flags & OASIS_TCP_URG)
        oasis_tcp_urg_input(f, &t);
    text_and_fin(f, &t);
}

static void syn_sent_input(oasis_flow *f, const oasis_tcp_hdr *h)
{
    oasis_stack *s = f->s;
    if (h->flags & OASIS_TCP_ACK) {
        if (oasis_seq_le(h->ack, f->iss) || oasis_seq_gt(h->ack, f->snd_max)) {
            oasis_tcp_send_rst_reply(s, &f->c.laddr, &f->c.raddr, h);
            return;
        }
    }
    if (h->flags & OASIS_TCP_RST) {
        /* Only an RST that acknowledges our SYN counts (RFC 5961 3.2). */
        if (h->flags & OASIS_TCP_ACK) {
            s->ctr.tcp.in_rsts++;
            oasis_tcp_flow_end(f, OASIS_ERESET);
        }
        return;
    }
    if (!(h->flags & OASIS_TCP_SYN))
        return;
    f->irs = h->seq;
    f->rcv_nxt = h->seq + 1;
    f->rcv_adv = f->rcv_nxt; /* our SYN's window had no base yet */
    oasis_tcp_syn_options(f, h);
    if (h->flags & OASIS_TCP_ACK) {
        /* RFC 3168 6.1.1: an "ECN-setup SYN-ACK" has ECE without CWR (a
         * peer reflecting our SYN's flags does not have ECN). */
        if ((h->flags & (OASIS_TCP_ECE | OASIS_TCP_CWR)) != OASIS_TCP_ECE)
            f->ecn_ok = 0;
        establish(f, h, 1);
        f->ack_now = 1;
        synack_text(f, h);
        return;
    }
    /* Simultaneous open: answer with SYN-ACK, same ISS; without ECN,
     * which RFC 3168 negotiates for a SYN and its SYN-ACK only. */
    f->ecn_ok = 0;
    f->snd_wnd = h->window;
    oasis_tcp_set_state(f, OASIS_TCP_SYN_RECEIVED);
    oasis_tcp_send_syn(f);
}

/* ---- synchronized states: step 1, sequence number check ------------------ */

/* RFC 7323 5.5: after 24 days with no segment accepted, TS.Recent may
 * be more than half the 1 ms timestamp space (2^31 ms, 24.8 days) behind
 * the peer's clock and so look newer than it is: it is invalid, the next
 * segment is not PAWS-checked and sets it again (Linux TCP_PAWS_24DAYS;
 * last_rx_tick moves with every accepted segment, as TS.Recent does). */
#define PAWS_IDLE_NS (24ull * 24 * 3600 * OASIS_NS_PER_SEC)
/* In last_rx_tick's ticks, rounded up: a difference above it is an idle
 * time of 24 days or more, and any idle time a tick (1.07 s) longer has
 * one. */
#define PAWS_IDLE_TICKS ((PAWS_IDLE_NS + (1ull << OASIS_TCP_RX_TICK_SHIFT) - 1) >> OASIS_TCP_RX_TICK_SHIFT)

static int ts_recent_stale(const oasis_flow *f)
{
    uint32_t now_t = (uint32_t)(oasis_now(f->s) >> OASIS_TCP_RX_TICK_SHIFT);
    return now_t - f->last_rx_tick > PAWS_IDLE_TICKS; /* wraps after 146 years */
}

/* RFC 7323 5.3: PAWS. 1 if the segment is to be dropped (the caller
 * answers it). */
static int paws_reject(oasis_flow *f, const oasis_tcp_hdr *h)
{
    if (!f->ts_ok || !h->has_ts || (h->flags & OASIS_TCP_RST) || ts_recent_stale(f))
        return 0;
    if (oasis_seq_ge(h->ts_val, f->ts_recent))
        return 0;
    f->s->ctr.tcp.paws_drops++;
    return 1;
}

/* RFC 7323 3.2: once both SYNs carried TSopt, "if a non-<RST> segment is
 * received without a TSopt, a TCP SHOULD silently drop the segment" (and
 * MUST NOT abort for it). Widely deployed stacks omit it on keep-alives or
 * after the handshake (FreeBSD's tolerate_missing_ts is on by default for
 * that reason), so such segments are only counted, and skip PAWS, unless
 * cfg.tcp.strict_timestamps asks for the drop. A SYN goes on either way to
 * draw RFC 5961 4.2's challenge ACK: that ACK is how a peer that restarted
 * without timestamps clears this connection. 1 if the segment is dropped. */
static int ts_missing(oasis_flow *f, const oasis_tcp_hdr *h)
{
    if (!f->ts_ok || h->has_ts || (h->flags & OASIS_TCP_RST))
        return 0;
    f->s->ctr.tcp.ts_missing++;
    return f->s->cfg.tcp.strict_timestamps && !(h->flags & OASIS_TCP_SYN);
}

int oasis_tcp_oow_ack_allowed(oasis_stack *s, uint64_t *last)
{
    uint64_t now = oasis_now(s);
    if (*last && now - *last < OASIS_TCP_OOW_ACK_GAP_NS) {
        s->ctr.tcp.oow_acks_limited++;
        return 0;
    }
    *last = now ? now : 1;
    return 1;
}

/* The ACK RFC 9293 3.10.7.4 sends for an unacceptable segment, rate-limited
 * per flow as Linux's tcp_invalid_ratelimit does so that a flood of forged
 * or looping segments does not draw one ACK each. Old data or an old FIN is
 * exempt (Linux spares any SEG.LEN > 0 without SYN): its sender missed our
 * ACK and needs it (and its D-SACK) to stop resending (RFC 9293 3.10.7.4
 * first step: an unacceptable segment is answered). So is a probe, a bare
 * ACK at exactly RCV.NXT-1 (RFC 1122 4.2.3.6's keep-alive, and the
 * zero-window probe): its sender counts unanswered ones and ends the
 * connection after a few, so a keepalive interval under the limit's gap
 * would kill a live connection. Answering one costs one ACK per segment
 * that already names our exact RCV.NXT: no loop (our bare ACKs carry
 * SND.MAX, never a peer's RCV.NXT-1) and nothing a blind forger can aim. */
static void oow_ack(oasis_flow *f, const oasis_tcp_hdr *h)
{
    uint32_t len = oasis_tcp_seg_len(h);
    if (len && !(h->flags & OASIS_TCP_SYN) && oasis_seq_le(h->seq + len, f->rcv_nxt)) {
        f->ack_now = 1;
        return;
    }
    if (!len && h->seq == f->rcv_nxt - 1 && h->flags == OASIS_TCP_ACK) {
        f->ack_now = 1;
        return;
    }
    /* The flow's own limit in 32 bits of milliseconds (wrapping) */
    uint32_t now_ms = (uint32_t)(oasis_now(f->s) / OASIS_NS_PER_MS) | 1u;
    if (f->oow_ack_ms && now_ms - f->oow_ack_ms < OASIS_TCP_OOW_ACK_GAP_NS / OASIS_NS_PER_MS) {
        f->s->ctr.tcp.oow_acks_limited++;
        return;
    }
    f->oow_ack_ms = now_ms;
    f->ack_now = 1;
}

/* RFC 9293 3.10.7.4 step 1. With a zero window a segment at RCV.NXT is let
 * through too (valid ACKs, URGs and RSTs must still be processed): its text
 * is then dropped by data_input, a bare FIN is taken as Linux does. */
static int seq_acceptable(const oasis_flow *f, const oasis_tcp_hdr *h)
{
    uint32_t adv = oasis_seq_gt(f->rcv_adv, f->rcv_nxt) ? f->rcv_adv - f->rcv_nxt : 0;
    uint32_t wnd = oasis_ring_free(&f->ext->rcv);
    if (adv > wnd)
        wnd = adv;
    return oasis_seq_acceptable(h->seq, oasis_tcp_seg_len(h), f->rcv_nxt, wnd);
}

/* Updates TS.Recent (RFC 7323 4.3: the segment covers Last.ACK.sent). */
static void update_ts_recent(oasis_flow *f, const oasis_tcp_hdr *h)
{
    if (f->ts_ok && h->has_ts && oasis_seq_le(h->seq, f->last_ack_sent) &&
        (oasis_seq_ge(h->ts_val, f->ts_recent) || ts_recent_stale(f)))
        f->ts_recent = h->ts_val;
}

/* ---- step 2: RST (RFC 5961 3.2) ------------------------------------------ */

static void rst_input(oasis_flow *f, const oasis_tcp_hdr *h)
{
    oasis_stack *s = f->s;
    s->ctr.tcp.in_rsts++;
    if (h->seq != f->rcv_nxt) {
        /* "Outside the current receive window": the window the peer was
         * offered (RCV.NXT + RCV.WND = rcv_adv), silently dropped.
         * seq_acceptable also takes segments in receive room beyond it
         * (without window scaling the field stops at 64 KiB), which for an
         * RST would draw a challenge ACK where RFC 5961 3.2 drops it. */
        if (!oasis_seq_lt(h->seq, f->rcv_adv))
            return;
        oasis_tcp_send_challenge_ack(f);
        return;
    }
    /* A passive SYN_RECEIVED flow "returns to LISTEN": the listener never
     * went away, so ending the half-open flow is all there is to do. */
    oasis_tcp_flow_end(f, OASIS_ERESET);
}

/* ---- step 5: ACK ---------------------------------------------------------- */

static OASIS_ALWAYS_INLINE void complete_acked_writes(oasis_flow *f)
{
    while (f->ext->ackq.head && f->ext->ackq.head->end <= f->snd_acked)
        oasis_tcp_req_done(f, oasis_tcp_wq_pop(&f->ext->ackq), 0);
}

/* The ACK's RTT sample, given to the RTO estimator: the timestamp echo
 * (oasis_recovery_ack_begin read it), else the timed segment. Returns it
 * + 1 so that 0 means none. (Karn: only this collapses the backoff.) */
static OASIS_ALWAYS_INLINE uint64_t rtt_from_ack(oasis_flow *f, const oasis_tcp_hdr *h)
{
    const oasis_recovery *rc = &f->ext->rec;
    if (rc->ack_echo) {
        if (rc->ack_echo_ms < 0)
            return 0;
        oasis_rtt_sample_ms(&f->ext->rtt, (uint32_t)rc->ack_echo_ms);
        return (uint64_t)rc->ack_echo_ms * OASIS_NS_PER_MS + 1;
    }
    if (f->rtt_timing && oasis_seq_ge(h->ack, f->ext->rtt_seq)) {
        f->rtt_timing = 0;
        uint64_t rtt = oasis_now(f->s) - f->ext->rtt_start + 1;
        if (rtt)
            oasis_rtt_sample(&f->ext->rtt, rtt - 1);
        return rtt;
    }
    return 0;
}

/* Returns the ACK's RTT sample (0: none) for congestion control. all: the
 * caller knows h->ack is snd_max. (Always inline, as deliver_in_order:
 * header prediction's copy sits in the predicted path, without a call;
 * the slow path has its own.) */
OASIS_HOT static OASIS_ALWAYS_INLINE uint64_t new_ack(oasis_flow *f, const oasis_tcp_hdr *h, int all)
{
    oasis_stack *s = f->s;
    uint32_t data = h->ack - f->snd_una;
    if (f->fin_queued && oasis_seq_gt(h->ack, f->ext->fin_seq))
        data--; /* our FIN */
    oasis_ring_consume(s, &f->ext->snd, data);
    f->snd_acked += data;
    f->snd_una = h->ack;
    if (oasis_seq_lt(f->snd_nxt, f->snd_una))
        f->snd_nxt = f->snd_una;
    if (f->ext->x.snd_urg)
        oasis_tcp_urg_acked(f); /* (both do nothing without their state) */
    uint64_t rtt = rtt_from_ack(f, h);
    f->ext->retries = 0;
    confirm_path(f);
    if (f->ext->plp.probe_mss)
        oasis_plpmtud_acked(f);
    /* RFC 6298 5.2, 5.3; RFC 8985 7.2: the PTO is re-armed after output. */
    if (all || f->snd_una == f->snd_max) {
        f->ext->tm.rexmt = f->ext->tm.tlp = OASIS_TCP_NEVER;
    } else {
        oasis_tcp_arm_rto(f);
        f->tlp_rearm = 1;
    }
    complete_acked_writes(f);
    if (f->ext->wq.head || f->close_req || f->wr_shut)
        oasis_tcp_fill_sndbuf(f); /* else it has nothing to take or queue */
    return rtt;
}

/* RFC 9293 3.10.7.4 fifth step: "If SND.UNA =< SEG.ACK =< SND.NXT, the
 * send window should be updated" (an ACK above was dropped already; one
 * below SND.UNA, which RFC 5961 5.2 lets through for its text, is old,
 * whatever its SEG.SEQ: Linux's tcp_ack leaves the window too). */
static void window_input(oasis_flow *f, const oasis_tcp_hdr *h)
{
    if (oasis_seq_lt(h->ack, f->snd_una))
        return;
    if (!(oasis_seq_lt(f->snd_wl1, h->seq) ||
          (f->snd_wl1 == h->seq && oasis_seq_le(f->snd_wl2, h->ack))))
        return;
    f->snd_wnd = (uint32_t)h->window << f->snd_wscale;
    f->snd_wl1 = h->seq;
    f->snd_wl2 = h->ack;
    if (f->snd_wnd > f->max_snd_wnd)
        f->max_snd_wnd = f->snd_wnd;
    if (f->snd_wnd > 0)
        oasis_tcp_stop_persist(f);
}

static int fin_acked(const oasis_flow *f)
{
    return f->fin_queued && oasis_seq_gt(f->snd_una, f->ext->fin_seq);
}

/* RFC 9293 3.10.7.4 step 5 / RFC 5961 5.2: 0 when the ACK field makes the
 * segment unacceptable (it was answered and is dropped). */
static int ack_acceptable(oasis_flow *f, const oasis_tcp_hdr *h)
{
    if (oasis_seq_gt(h->ack, f->snd_max)) {
        oow_ack(f, h); /* acks something not yet sent */
        return 0;
    }
    if (oasis_seq_lt(h->ack, f->snd_una - f->max_snd_wnd)) {
        oasis_tcp_send_challenge_ack(f);
        return 0;
    }
    return 1;
}

/* What an acceptable ACK says about the data we sent: SACK, RACK,
 * snd_una, loss recovery. */
static void ack_update(oasis_flow *f, const oasis_tcp_hdr *h)
{
    if (f->sack_ok && h->sack_count) {
        f->ext->sack_n = h->sack_count;
        memcpy(f->ext->sacks, h->sack, h->sack_count * sizeof h->sack[0]);
    }
    oasis_recovery_ack_begin(f, h);
    uint64_t rtt = 0;
    if (oasis_seq_gt(h->ack, f->snd_una))
        rtt = new_ack(f, h, 0);
    oasis_recovery_ack_end(f, h, rtt); /* dupacks, cc, fast recovery */
}

/* Returns 0 to go on with the segment, 1 when it was consumed or the flow
 * ended. The ACK field was found acceptable. */
static int ack_input(oasis_flow *f, const oasis_tcp_hdr *h)
{
    ack_update(f, h);
    window_input(f, h);
    oasis_tcp_snd_adjust(f); /* the send buffer follows cwnd (tcp_tune.c) */

    switch (f->state) {
    case OASIS_TCP_FIN_WAIT_1:
        if (fin_acked(f)) {
            oasis_tcp_set_state(f, OASIS_TCP_FIN_WAIT_2);
            oasis_tcp_arm_fin_wait2(f);
        }
        return 0;
    case OASIS_TCP_CLOSING:
        if (fin_acked(f)) {
            oasis_tcp_enter_time_wait(f);
            return 1;
        }
        return 0;
    case OASIS_TCP_LAST_ACK:
        if (fin_acked(f)) {
            oasis_tcp_flow_end(f, 0);
            return 1;
        }
        return 0;
    default:
        return 0;
    }
}

static int syn_received_ack(oasis_flow *f, const oasis_tcp_hdr *h)
{
    if (!oasis_seq_gt(h->ack, f->snd_una) || oasis_seq_gt(h->ack, f->snd_max)) {
        oasis_tcp_send_rst_reply(f->s, &f->c.laddr, &f->c.raddr, h);
        return 1;
    }
    establish(f, h, 0);
    return 0;
}

/* ---- step 7: segment text ------------------------------------------------- */

/* deliver_in_order's text with out-of-order data held (out of line: the
 * common case holds none). */
static OASIS_NOINLINE void deliver_before_held(oasis_flow *f, const uint8_t *p, uint32_t n)
{
    oasis_stack *s = f->s;
    uint32_t k = n;
    /* First copy wins (tcp_ofo.h): from the first held range on, the
     * segment is merged into the store like out-of-order data, so bytes
     * held there keep their value. */
    uint32_t left = f->ext->ofo.r[0].left;
    uint32_t gap = oasis_seq_gt(left, f->rcv_nxt) ? left - f->rcv_nxt : 0;
    if (gap < n) {
        /* RFC 2883: what the segment repeats of the first held range is
         * a duplicate (as Linux, the first one only: one D-SACK block). */
        uint32_t end = f->rcv_nxt + n, right = f->ext->ofo.r[0].right;
        oasis_sack_note_dup(f, f->rcv_nxt + gap, oasis_seq_lt(end, right) ? end : right);
        if (oasis_ofo_add(s, &f->ext->ofo, f->rcv_nxt + gap, f->rcv_nxt + n, p + gap))
            s->ctr.tcp.ofo_drops++;
        k = gap;
    }
    f->rcv_nxt += oasis_ring_write(s, &f->ext->rcv, p, k);
    f->rcv_nxt = oasis_ofo_advance(s, &f->ext->ofo, f->rcv_nxt, &f->ext->rcv);
    f->ack_now = 1; /* a hole was filled: tell the sender at once */
}

/* held: out-of-order data may be held (0: header prediction found none,
 * and room in the ring for all of 1 to n bytes, which may lie at its
 * tail already: p is then the tail). now: oasis_now(), read by the
 * caller. */
OASIS_HOT static OASIS_ALWAYS_INLINE void deliver_in_order(oasis_flow *f, const uint8_t *p, uint32_t n,
                                                           int held, uint64_t now)
{
    uint32_t nxt0 = f->rcv_nxt;
    if (!held)
        f->rcv_nxt += oasis_ring_write_fit(f->s, &f->ext->rcv, p, n);
    else if (oasis_ofo_empty(&f->ext->ofo))
        f->rcv_nxt += oasis_ring_write(f->s, &f->ext->rcv, p, n);
    else
        deliver_before_held(f, p, n);
    uint32_t got = f->rcv_nxt - nxt0;
    f->bytes_received += got;
    /* The largest segment the peer sends, but never above the MSS we
     * offered: a segment coalesced by the link (GRO) or a local sender's
     * TSO stands for several, and "every second full-sized segment" still
     * counts MSS-sized ones (Linux's tcp_measure_rcv_mss caps at advmss). */
    if (n > f->ext->rcv_mss)
        f->ext->rcv_mss = (uint16_t)min_u32(n, oasis_tcp_rcv_full(f));
    f->ext->unacked += got;
    if (f->ext->unacked >= 2u * f->ext->rcv_mss)
        f->ack_now = 1; /* RFC 9293 3.8.6.3: every second full segment */
    else
        oasis_tcp_arm_delack_at(f, now);
    if (got) {
        confirm_path(f);
        oasis_tcp_wake(f);
    }
}

static void store_out_of_order(oasis_flow *f, uint32_t seq, const uint8_t *p, uint32_t n)
{
    oasis_stack *s = f->s;
    f->ack_now = 1; /* a duplicate ACK (with SACK) at once */
    if (!oasis_tcp_ofo_allowed(f))
        return; /* memory pressure: out-of-order data goes first */
    oasis_sack_note_ofo(f, seq, seq + n);
    if (oasis_ofo_add(s, &f->ext->ofo, seq, seq + n, p)) {
        s->ctr.tcp.ofo_drops++;
        return;
    }
    s->ctr.tcp.ofo_queued++;
}

/* Returns 1 if the whole segment (so also its FIN) fit in the window. */
static int data_input(oasis_flow *f, const oasis_tcp_hdr *h)
{
    uint32_t seq = h->seq, n = (uint32_t)h->payload_len;
    const uint8_t *p = h->payload;
    if (oasis_seq_lt(seq, f->rcv_nxt)) {
        uint32_t d = f->rcv_nxt - seq;
        if (d >= n) {
            oasis_sack_note_dup(f, seq, seq + n); /* RFC 2883 D-SACK */
            f->ack_now = 1; /* all old: the sender missed our ACK */
            return 1;
        }
        oasis_sack_note_dup(f, seq, f->rcv_nxt); /* RFC 2883: the old part */
        p += d;
        n -= d;
        seq = f->rcv_nxt;
    }
    /* In-order bytes may use all the free buffer; out-of-order ones only
     * the window we advertised (a 1-byte segment far ahead must not make
     * us hold, or allocate for, more than we offered). */
    uint32_t off = seq - f->rcv_nxt, lim = oasis_ring_free(&f->ext->rcv);
    if (off) {
        uint32_t adv = oasis_seq_gt(f->rcv_adv, f->rcv_nxt) ? f->rcv_adv - f->rcv_nxt : 0;
        lim = min_u32(lim, adv);
    }
    /* RFC 9293 3.4: the FIN "is considered to occur after the last actual
     * data octet": nothing lies at or beyond a FIN held past a hole
     * (text_and_fin, fin_hold). Taken, such bytes would carry RCV.NXT past
     * it, and the FIN would never be. */
    if (f->rfin_pending)
        lim = min_u32(lim, f->ext->rfin_seq - f->rcv_nxt);
    int whole = 1;
    if (off >= lim) {
        f->s->ctr.tcp.out_of_window++; /* beyond the window: the peer retransmits */
        if (off == 0)
            f->ack_now = 1; /* a zero-window probe: always answered */
        else
            oow_ack(f, h);
        return 0;
    }
    if (n > lim - off) {
        n = lim - off;
        whole = 0;
    }
    if (off == 0 && (lim = oasis_tcp_rcv_room(f, n)) < n) {
        /* The memory limit: what storage cannot take is dropped (the peer
         * retransmits it); the window we advertised stays. */
        n = lim;
        whole = 0;
        if (n == 0) {
            f->ack_now = 1;
            return 0;
        }
    }
    if (off == 0)
        deliver_in_order(f, p, n, 1, oasis_now(f->s));
    else
        store_out_of_order(f, seq, p, n);
    return whole;
}

/* ---- step 8: FIN ----------------------------------------------------------- */

static void fin_input(oasis_flow *f)
{
    f->rfin_pending = 0;
    f->ack_now = 1;
    if (f->fin_rcvd)
        return;
    f->fin_rcvd = 1;
    f->rcv_nxt++;
    /* Whatever is held beyond the FIN can never be delivered (3.4: nothing
     * follows it): its memory goes now, not with the flow. */
    if (f->ext)
        oasis_ofo_clear(f->s, &f->ext->ofo);
    oasis_tcp_wake(f); /* the reader gets EOF after the data */
    switch (f->state) {
    case OASIS_TCP_SYN_RECEIVED:
    case OASIS_TCP_ESTABLISHED:
        oasis_tcp_set_state(f, OASIS_TCP_CLOSE_WAIT);
        break;
    case OASIS_TCP_FIN_WAIT_1:
        if (!fin_acked(f)) {
            oasis_tcp_set_state(f, OASIS_TCP_CLOSING);
            break;
        }
        oasis_tcp_send_ack(f); /* FIN and the ACK of ours together */
        oasis_tcp_enter_time_wait(f);
        break;
    case OASIS_TCP_FIN_WAIT_2:
        oasis_tcp_send_ack(f);
        oasis_tcp_enter_time_wait(f);
        break;
    default:
        break;
    }
}

static int receives_text(const oasis_flow *f)
{
    return f->state == OASIS_TCP_ESTABLISHED || f->state == OASIS_TCP_FIN_WAIT_1 ||
           f->state == OASIS_TCP_FIN_WAIT_2;
}

/* A FIN at fseq, beyond a hole: 1 if it is the one to remember. RFC 9293
 * 3.4: nothing follows a FIN, so the first FIN in sequence wins (as in
 * Linux, whose out-of-order queue stops at the first FIN it reaches and
 * purges the rest): one at or beyond a FIN held already is ignored, and
 * text held beyond this one goes (data_input takes none there later). */
static int fin_hold(oasis_flow *f, uint32_t fseq)
{
    if (f->rfin_pending && oasis_seq_le(f->ext->rfin_seq, fseq))
        return 0;
    oasis_ofo_trim(f->s, &f->ext->ofo, fseq);
    return 1;
}

static void text_and_fin(oasis_flow *f, const oasis_tcp_hdr *h)
{
    int whole = 1;
    if (h->payload_len && receives_text(f))
        whole = data_input(f, h);
    if ((h->flags & OASIS_TCP_FIN) && whole && !f->fin_rcvd) {
        uint32_t fseq = h->seq + (uint32_t)h->payload_len;
        if (fseq == f->rcv_nxt) {
            fin_input(f);
            return;
        }
        if (oasis_seq_gt(fseq, f->rcv_nxt) && fin_hold(f, fseq)) {
            f->rfin_pending = 1; /* FIN beyond a hole: remember it */
            f->ext->rfin_seq = fseq;
        }
        f->ack_now = 1;
    } else if ((h->flags & OASIS_TCP_FIN) && f->fin_rcvd) {
        f->ack_now = 1; /* retransmitted FIN */
    }
    if (f->rfin_pending && f->ext->rfin_seq == f->rcv_nxt && f->in_table)
        fin_input(f);
}

/* ---- ECN receiver (RFC 3168 6.1.3) ----------------------------------------- */

/* An acceptable segment: CE on data sets ECE on every ACK until a CWR
 * arrives; CWR first, so a CWR segment that is itself CE keeps it on.
 * Segments outside the window never get here, so their CE is ignored
 * (6.1.5); a window probe's counts (6.1.6). As Linux, the ACK goes at
 * once when the echo starts (the sender's window may be small) and for
 * data with CWR (the sender just reduced it). */
static void ecn_input(oasis_flow *f, const oasis_tcp_hdr *h)
{
    if (!f->ecn_ok)
        return;
    if (h->flags & OASIS_TCP_CWR) {
        f->ecn_echo = 0;
        if (h->payload_len)
            f->ack_now = 1;
    }
    if (h->payload_len && h->ip_ecn == OASIS_ECN_CE) {
        f->s->ctr.tcp.ecn_ce_segs++;
        if (!f->ecn_echo)
            f->ack_now = 1;
        f->ecn_echo = 1;
    }
}

/* ---- the synchronized states and SYN_RECEIVED ------------------------------ */

/* The segment passed every check: only now may it change what later
 * segments are judged by (RFC 7323 5.3 R3 as Linux orders it: TS.Recent
 * after the ACK was found acceptable) or the flow's liveness. */
static void segment_accepted(oasis_flow *f, const oasis_tcp_hdr *h)
{
    update_ts_recent(f, h);
    oasis_tcp_heard(f); /* keepalive, FIN_WAIT_2, unanswered probes */
}

static void synced_input(oasis_flow *f, const oasis_tcp_hdr *h)
{
    if (f->state == OASIS_TCP_SYN_RECEIVED &&
        (h->flags & (OASIS_TCP_SYN | OASIS_TCP_ACK | OASIS_TCP_RST)) == OASIS_TCP_SYN &&
        h->seq == f->irs) {
        if (!ecn_setup_syn(h))
            f->ecn_ok = 0; /* RFC 3168 6.1.1: a non-ECN-setup SYN came: no ECN */
        oasis_tcp_send_syn(f); /* our SYN-ACK was lost */
        f->ext->rtt_start = 0;      /* Karn: which SYN-ACK an ACK answers is unknown */
        /* This SYN-ACK gets a whole (backed-off) RTO for its ACK, as a
         * timed retransmission does: the embryo must not give up a moment
         * after answering a peer that is plainly there (Linux's
         * tcp_check_req re-arms likewise; seed 66096065 of --ge-per-frame
         * reset a connection so). Only the peer's SYNs prolong it, each by
         * one answer. */
        oasis_tcp_arm_rto(f);
        return;
    }
    /* RFC 9293 3.5 Figure 8 (MUST-10), line 6: in an active SYN-RECEIVED
     * the peer's SYN,ACK repeats its SYN, one below RCV.NXT, and
     * acknowledges ours. Trimmed of that SYN (3.10.7.4 first: what lies
     * outside the window goes) it is the handshake's ACK: ESTABLISHED now,
     * not RFC 5961's challenge ACK and a wait for the peer to acknowledge
     * again. Only that exact segment (no text, no FIN, the ACK of our SYN),
     * as Linux (tcp_validate_incoming) and BSD's trimming take it. */
    oasis_tcp_hdr trimmed;
    if (f->state == OASIS_TCP_SYN_RECEIVED && !f->passive &&
        (h->flags & (OASIS_TCP_SYN | OASIS_TCP_ACK | OASIS_TCP_RST | OASIS_TCP_FIN)) ==
            (OASIS_TCP_SYN | OASIS_TCP_ACK) &&
        h->seq == f->irs && h->seq + 1 == f->rcv_nxt && !h->payload_len && h->ack == f->snd_nxt) {
        trimmed = *h;
        trimmed.flags &= (uint8_t)~OASIS_TCP_SYN;
        trimmed.seq = f->rcv_nxt;
        /* A SYN's window is not scaled (RFC 7323 2.2): in the flow's scale,
         * rounded down, never more than the peer offered. */
        trimmed.window = (uint16_t)(h->window >> f->snd_wscale);
        h = &trimmed;
    }
    int syn = (h->flags & (OASIS_TCP_SYN | OASIS_TCP_RST)) == OASIS_TCP_SYN;
    if (ts_missing(f, h))
        return;
    if (paws_reject(f, h)) {
        if (syn)
            oasis_tcp_send_challenge_ack(f); /* RFC 5961 4.2 */
        else
            oow_ack(f, h);
        return;
    }
    if (!seq_acceptable(f, h)) {
        f->s->ctr.tcp.out_of_window++;
        if (h->flags & OASIS_TCP_RST)
            return;
        if (syn) {
            oasis_tcp_send_challenge_ack(f); /* RFC 5961 4.2: any SYN */
            return;
        }
        if (h->payload_len && oasis_seq_le(h->seq + (uint32_t)h->payload_len, f->rcv_nxt)) {
            oasis_sack_note_dup(f, h->seq, h->seq + (uint32_t)h->payload_len); /* D-SACK */
            /* The peer resending what we have (our ACK was lost) is not
             * silent: with an ACK of exactly what we sent (no blind guess)
             * it restarts the FIN_WAIT_2 bound too (item 43, seed 350138). */
            if ((h->flags & OASIS_TCP_ACK) && h->ack == f->snd_max)
                oasis_tcp_heard(f);
        }
        oow_ack(f, h);
        return;
    }
    if (h->flags & OASIS_TCP_RST) {
        rst_input(f, h);
        return;
    }
    if (h->flags & OASIS_TCP_SYN) {
        /* RFC 9293 3.10.7.4 fourth, SYN-RECEIVED: "If the connection was
         * initiated with a passive OPEN, then return this connection to
         * the LISTEN state and return" (the listener stays; no reply, as
         * for step 2's RST). RFC 5961's challenge ACK is for the
         * synchronized states, which an active SYN-RECEIVED joins. */
        if (f->state == OASIS_TCP_SYN_RECEIVED && f->passive) {
            oasis_tcp_flow_end(f, OASIS_ERESET);
            return;
        }
        oasis_tcp_send_challenge_ack(f); /* RFC 5961 4.2: and nothing else */
        return;
    }
    if (!(h->flags & OASIS_TCP_ACK))
        return;
    if (f->state == OASIS_TCP_SYN_RECEIVED) {
        if (syn_received_ack(f, h))
            return;
    } else if (!ack_acceptable(f, h)) {
        return;
    }
    segment_accepted(f, h);
    if (ack_input(f, h))
        return;
    ecn_input(f, h);
    if (h->flags & OASIS_TCP_URG)
        oasis_tcp_urg_input(f, h); /* sixth step, zero window or not */
    text_and_fin(f, h);
}

/* ---- header prediction ------------------------------------------------------ */

/* Van Jacobson's header prediction (FreeBSD tcp_input, Linux
 * tcp_rcv_established): on an established flow most segments are the
 * next in order and carry an ACK that is no news for loss recovery. Such a
 * segment skips the checks whose outcome is known (RFC 9293 3.10.7.4 steps
 * 1-4 and 6: it starts at RCV.NXT, so it is acceptable with any window,
 * RFC 7323 PAWS passes, no RST, SYN or URG) and, when it acknowledges
 * everything sent, the SACK, RACK and recovery bookkeeping that then has
 * nothing to find. Everything it does change goes through the same
 * functions as the slow path, so what the flow sends, counts and arms is
 * the same; the test suite (test_tcp_fastpath) holds the two to that.
 *
 * Predicted: ESTABLISHED; ACK (and PSH) only: no SYN, FIN, RST, URG, ECE
 * or CWR; SEG.SEQ = RCV.NXT; no SACK blocks, no CE mark; with timestamps,
 * TSopt present and TSval not older than TS.Recent; the ACK within
 * [SND.UNA, SND.MAX], new for a segment without text (a duplicate ACK or
 * a window probe answer is the slow path's); recovery OPEN and nothing
 * SACKed; text only with no out-of-order data held, no FIN pending beyond
 * a hole and room for all of it in the receive ring. */
static OASIS_ALWAYS_INLINE int predicted(const oasis_flow *f, const oasis_tcp_hdr *h)
{
    const oasis_tcp_ext *x = f->ext;
    if (f->state != OASIS_TCP_ESTABLISHED || h->seq != f->rcv_nxt ||
        (h->flags & (uint8_t)~OASIS_TCP_PSH) != OASIS_TCP_ACK || h->sack_count ||
        h->ip_ecn == OASIS_ECN_CE || f->rfin_pending)
        return 0;
    if (f->ts_ok && (!h->has_ts || oasis_seq_lt(h->ts_val, f->ts_recent)))
        return 0; /* PAWS (RFC 7323 5.3) has something to decide */
    uint32_t acked = h->ack - f->snd_una;
    if (acked > f->snd_max - f->snd_una || (acked == 0 && h->payload_len == 0))
        return 0;
    if (x->rec.state != OASIS_REC_OPEN || x->sb.n)
        return 0;
    if (h->payload_len && (!oasis_ofo_empty(&x->ofo) ||
                           (uint32_t)h->payload_len > oasis_ring_free(&x->rcv)))
        return 0;
    return 1;
}

/* The predicted ACK. When it covers everything sent, nothing is left for
 * RACK to judge, no duplicate to count and no recovery to enter: the
 * recovery hooks' short form (tcp_recovery.h) does what remains. */
static OASIS_ALWAYS_INLINE void fast_ack(oasis_flow *f, const oasis_tcp_hdr *h, uint64_t now)
{
    if (h->ack != f->snd_max) {
        ack_update(f, h);
        return;
    }
    uint32_t una = f->snd_una, flight = f->snd_max - una;
    oasis_recovery_all_acked_begin(f, h, now);
    uint64_t rtt = h->ack != una ? new_ack(f, h, 1) : 0;
    oasis_recovery_all_acked_end(f, una, flight, rtt, now);
}

/* The predicted segment's text: data_input where it starts at RCV.NXT,
 * nothing is held out of order and the ring has room for all of it;
 * only the memory limit is left to ask. text: its bytes (h->payload, or
 * the ring's tail where sum_copied put them). */
static OASIS_ALWAYS_INLINE void fast_data(oasis_flow *f, const oasis_tcp_hdr *h, const uint8_t *text,
                                          uint64_t now)
{
    uint32_t n = oasis_tcp_rcv_room(f, (uint32_t)h->payload_len);
    if (n == 0) {
        f->ack_now = 1;
        return;
    }
    deliver_in_order(f, text, n, 0, now); /* (predicted: none held, n fits) */
}

/* A predicted segment: what synced_input would do with it, in the same
 * order (TS.Recent and liveness, ACK, window, text). The time is read
 * once for all of its steps (the input's cached instant). text: as
 * fast_data's. */
static OASIS_ALWAYS_INLINE void fast_input(oasis_flow *f, const oasis_tcp_hdr *h, const uint8_t *text)
{
    uint64_t now = oasis_now(f->s);
    /* update_ts_recent: predicted() found TSopt present and TSval not
     * older than TS.Recent. */
    if (f->ts_ok && oasis_seq_le(h->seq, f->last_ack_sent))
        f->ts_recent = h->ts_val;
    oasis_tcp_heard_at(f, now);
    fast_ack(f, h, now);
    window_input(f, h);
    oasis_tcp_snd_adjust(f);
    if (h->payload_len) {
        f->s->ctr.tcp.hp_hits++;
        fast_data(f, h, text, now);
    } else {
        f->s->ctr.tcp.hp_acks++;
    }
}

/* ---- the checksum left pending (see the top) --------------------------------- */

/* A bad pending sum, counted as seg_parse (tcp.c) counts a bad one: it
 * counted the segment's pieces in InSegs already, and a bad segment is
 * one. */
static OASIS_COLD void sum_bad(oasis_stack *s, const oasis_tcp_hdr *h)
{
    s->ctr.tcp.in_segs -= h->pieces;
    oasis_tcp_count_bad(s, OASIS_ECHECKSUM);
}

int oasis_tcp_sum_verify_slow(oasis_stack *s, const oasis_tcp_hdr *h)
{
    if (oasis_tcp_sum_ok(h))
        return 1;
    sum_bad(s, h);
    return 0;
}

/* A predicted segment's pending checksum: its text copied to the receive
 * ring's free storage while the segment is summed (not held: the tail
 * moves only when deliver_in_order holds the text there, without a
 * copy), or, when the storage does not take it as it is (wrapped,
 * pinned, to grow: that would allocate for a segment not known good),
 * summed alone and copied later as usual. Returns where its text is
 * then; NULL for a bad sum, left to slow_input to count. */
static OASIS_ALWAYS_INLINE const uint8_t *sum_copied(oasis_flow *f, const oasis_tcp_hdr *h)
{
    uint8_t *d = oasis_ring_tail(&f->ext->rcv, (uint32_t)h->payload_len);
    if (!d)
        return oasis_tcp_sum_ok(h) ? h->payload : NULL;
    return oasis_tcp_sum_copy_ok(h, d) ? d : NULL;
}

/* Every segment header prediction does not take, out of line: the
 * predicted path stays a few hundred bytes instead of spreading through
 * all of RFC 9293's steps. */
static OASIS_NOINLINE void slow_input(oasis_flow *f, const oasis_tcp_hdr *h)
{
    /* A pending checksum (a bad one the predicted path found too): checked
     * first, a bad segment counted and dropped as seg_parse drops one. */
    if (!oasis_tcp_sum_verify(f->s, h))
        return;
    f->segs_in += h->pieces; /* (seg_parse found them, tcp.c) */
    switch (f->state) {
    case OASIS_TCP_SYN_SENT:
        syn_sent_input(f, h);
        break;
    case OASIS_TCP_CLOSED:
    case OASIS_TCP_LISTEN:
    case OASIS_TCP_TIME_WAIT:
        return;
    default:
        synced_input(f, h);
        break;
    }
    if (f->in_table) {
        oasis_tcp_output(f);
        oasis_tcp_timer_update(f);
    }
}

/* Inline, and so is everything on the predicted path down to the
 * recovery hooks' short form (tcp_recovery.c): tcp.c's IPv4 input takes
 * it whole (with LTO; one call and one frame less per segment). Left to
 * GCC, the inlining budget of that bigger caller put the hooks and the
 * fast path's steps back out of line, each a call with its registers. */
OASIS_HOT OASIS_ALWAYS_INLINE void oasis_tcp_flow_input_inline(oasis_flow *f, const oasis_tcp_hdr *h)
{
    const uint8_t *text = h->payload;
    if (!f->s->tcp->hp_off && predicted(f, h) && (!h->sum_pending || (text = sum_copied(f, h)))) {
        f->segs_in += h->pieces; /* (seg_parse found them, tcp.c) */
        fast_input(f, h, text);
        /* Every deadline it set went through oasis_tcp_timer_by: the
         * timer needs no other update (tcp_timer.c). */
        if (f->in_table)
            oasis_tcp_output(f);
        return;
    }
    slow_input(f, h);
}

OASIS_HOT void oasis_tcp_flow_input(oasis_flow *f, const oasis_tcp_hdr *h)
{
    oasis_tcp_flow_input_inline(f, h);
}
