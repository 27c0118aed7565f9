/* Packetization-layer path MTU discovery for TCP, so that a path which
 * drops ICMP (a "black hole", RFC 2923 2.1) still carries data.
 *
 * RFC 4821 (PLPMTUD) and RFC 8899 (DPLPMTUD) ideas, kept small:
 *  - RFC 4821 3, 7.1: the packetization layer judges a size by whether
 *    data of that size is delivered, not by ICMP.
 *  - RFC 4821 7.5 / RFC 8899 4.3 (black hole detection): full-size
 *    segments lost again and again while the path is otherwise alive mean
 *    the path MTU fell below our segment size. Here: the third
 *    retransmission timeout in a row of a full-size head segment
 *    (OASIS_PLPMTUD_RTOS: one or two are ordinary loss; a burst of small
 *    segments never triggers it),
 *    unless a full-size segment sent after it was SACKed (the path
 *    carries the size: a burst of loss took the head's retransmissions).
 *    The segment size then falls to a 1280-byte path, and on the next
 *    such pair to RFC 1122's 576 bytes (RFC 8899 5.1.2 BASE_PLPMTU; an
 *    IPv6 flow stops at 1280, its BASE_PLPMTU), and what is retransmitted
 *    goes at the new size at once.
 *  - RFC 4821 7.4 / RFC 8899 5.1.1 (PMTU_RAISE_TIMER, 600 s): a lowered
 *    flow later sends one probe of the full size, made of new data under
 *    the congestion window (RFC 4821 7.6.1: probes are congestion
 *    controlled). Acknowledged without being resent: the cap goes
 *    (RFC 4821 7.6.2). Resent (lost): the cap stays and the next attempt
 *    waits another raise interval (RFC 4821 7.7). A lost probe is not a
 *    congestion signal in RFC 4821 7.6.2; ours is repaired by ordinary
 *    loss recovery, which is the conservative side.
 * The cap combines with ICMP's path MTU (tcp_icmp.c): the smaller wins. */
#include "tcp/tcp_plpmtud.h"

#include "core/stack_impl.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_seq.h"

/* The segment cap the link and ICMP allow (what a probe aims at). */
static uint32_t ceiling(const oasis_flow *f)
{
    uint32_t m = f->mss_send;
    if (f->ext->mss_icmp && f->ext->mss_icmp < m)
        m = f->ext->mss_icmp;
    return m;
}

/* The segment that fills a 1280-byte path, and the floor: IPv4 goes on
 * to RFC 1122's 576 bytes; IPv6 stops at 1280, which every IPv6 path
 * carries (RFC 8200 5; RFC 8899 5.1.2's BASE_PLPMTU). */
static uint32_t mss_1280(const oasis_flow *f)
{
    return oasis_tcp_conn_v6(&f->c) ? 1280u - 60u : OASIS_PLPMTUD_MSS_1280;
}

static uint32_t mss_base(const oasis_flow *f)
{
    return oasis_tcp_conn_v6(&f->c) ? mss_1280(f) : OASIS_PLPMTUD_MSS_BASE;
}

void oasis_plpmtud_on_rto(oasis_flow *f)
{
    oasis_plpmtud *p = &f->ext->plp;
    uint32_t cur = oasis_tcp_seg_mss(f);
    uint32_t head = f->snd_max - f->snd_una;
    if (f->ext->retries < OASIS_PLPMTUD_RTOS || cur <= mss_base(f))
        return;
    /* Only a full-size head segment can be a victim of the MTU. */
    if (head + (f->ts_ok ? 12u : 0u) < cur)
        return;
    /* RFC 8899 4.3: a black hole loses the size itself. A full-size
     * segment sent after the head and SACKed crossed the path: the head's
     * timeouts are then ordinary loss (a burst that took its
     * retransmissions too), and lowering the size would cost the flow
     * most of its rate for the raise interval. */
    if (f->sack_ok && oasis_rack_sacked_len(&f->ext->sb.rack, cur - (f->ts_ok ? 12u : 0u)))
        return;
    uint32_t next = cur > mss_1280(f) ? mss_1280(f) : mss_base(f);
    p->mss = (uint16_t)next;
    p->probe_mss = 0;
    p->raise_at = oasis_now(f->s) + OASIS_PLPMTUD_RAISE_NS;
    f->s->ctr.tcp.plpmtud_blackholes++;
    f->ext->retries = 1; /* the smaller size starts its own count */
    oasis_tcp_mss_changed(f, 0); /* the timeout resends from snd_una itself */
    if (f->ext->cc.cwnd > f->ext->cc.mss)
        f->ext->cc.cwnd = f->ext->cc.mss; /* the RTO's loss window: one segment, at the new size */
}

void oasis_plpmtud_output(oasis_flow *f)
{
    oasis_plpmtud *p = &f->ext->plp;
    if (!p->mss || p->probe_mss || oasis_now(f->s) < p->raise_at)
        return;
    uint32_t target = ceiling(f);
    if (target <= p->mss) {
        p->mss = 0; /* ICMP or the peer already cap it lower */
        return;
    }
    /* Only new data in open state, with the window for it (7.6.1). */
    if (oasis_recovery_any(f) || f->snd_nxt != f->snd_max)
        return;
    uint32_t payload = target - (f->ts_ok ? 12u : 0u);
    uint32_t sent = oasis_tcp_send_mtu_probe(f, payload);
    if (!sent)
        return;
    p->probe_mss = (uint16_t)target;
    p->probe_lost = 0;
    p->probe_seq = f->snd_max - sent;
    p->probe_end = f->snd_max;
    f->s->ctr.tcp.plpmtud_probes++;
}

void oasis_plpmtud_resent(oasis_flow *f, uint32_t seq, uint32_t len)
{
    oasis_plpmtud *p = &f->ext->plp;
    if (p->probe_mss && !p->sending && oasis_seq_lt(seq, p->probe_end) &&
        oasis_seq_gt(seq + len, p->probe_seq))
        p->probe_lost = 1;
}

void oasis_plpmtud_acked(oasis_flow *f)
{
    oasis_plpmtud *p = &f->ext->plp;
    if (!p->probe_mss || oasis_seq_lt(f->snd_una, p->probe_end))
        return;
    if (p->probe_lost) {
        p->raise_at = oasis_now(f->s) + OASIS_PLPMTUD_RAISE_NS; /* 7.7: try later */
    } else {
        p->mss = 0; /* 7.6.2: the full size gets through */
        f->s->ctr.tcp.plpmtud_raised++;
        oasis_tcp_mss_changed(f, 0);
    }
    p->probe_mss = 0;
}
