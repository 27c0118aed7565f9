/* TCP output: building segments straight into pbufs, the send loop (Nagle,
 * sender-side silly window avoidance, congestion and flow control), ACKs,
 * window updates (receiver-side silly window avoidance), probes and RSTs. */
#include <string.h>

#include "core/pbuf.h"
#include "core/compiler.h"
#include "core/stack_impl.h"
#include "core/checksum.h"
#include "ip/ipv4.h"
#include "ip/ipv4_wire.h"
#include "ipv6/ipv6.h"
#include "ipv6/ipv6_wire.h"
#include "link/eth.h"
#include "oasis/error.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_seq.h"
#include "tcp/tcp_tune.h"

static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

uint32_t oasis_tcp_ts_now(const oasis_flow *f)
{
    return oasis_tcp_ts_at(f, oasis_now(f->s));
}

/* Free receive space we can advertise (the field is 16 bits, scaled).
 * Under memory pressure less: what is already advertised stays offered
 * (window_field keeps the edge), new room is cut (tcp_tune.c). */
static OASIS_ALWAYS_INLINE uint32_t rcv_space(const oasis_flow *f)
{
    uint32_t free = min_u32(oasis_ring_free(&f->ext->rcv), 0xffffu << f->rcv_wscale);
    uint32_t cut = oasis_tcp_win_clamp(f);
    if (cut != UINT32_MAX && f->state >= OASIS_TCP_ESTABLISHED) { /* SYNs: tune_init's */
        uint32_t adv = oasis_seq_gt(f->rcv_adv, f->rcv_nxt) ? f->rcv_adv - f->rcv_nxt : 0;
        uint32_t lim = adv > cut ? adv : cut;
        if (free > lim) {
            free = lim;
            f->s->ctr.tcp.mem_win_clamp++;
        }
    }
    return free;
}

static int receiving(const oasis_flow *f)
{
    return f->state == OASIS_TCP_ESTABLISHED || f->state == OASIS_TCP_FIN_WAIT_1 ||
           f->state == OASIS_TCP_FIN_WAIT_2;
}

/* The window field for the next segment. Never moves the right edge back
 * (RFC 9293 3.8.6) and only moves it forward by at least min(rcvbuf/2, MSS)
 * (receiver-side SWS avoidance, 3.8.6.2.2). */
static OASIS_ALWAYS_INLINE uint16_t window_field(oasis_flow *f, int syn)
{
    if (syn) {
        uint32_t free = rcv_space(f);
        f->rcv_adv = f->rcv_nxt + min_u32(free, 0xffff);
        return (uint16_t)min_u32(free, 0xffff);
    }
    uint32_t adv = oasis_seq_gt(f->rcv_adv, f->rcv_nxt) ? f->rcv_adv - f->rcv_nxt : 0;
    uint32_t shift = f->rcv_wscale, field;
    uint32_t step = min_u32(f->ext->rcv.cap / 2, f->mss_recv);
    /* rcv_space only lowers the ring's free space (to the field's reach,
     * under memory pressure): when that would not move the edge by step,
     * neither would rcv_space's, which is then asked only under pressure,
     * where it counts its clamps. */
    uint32_t free = oasis_ring_free(&f->ext->rcv);
    if (OASIS_UNLIKELY((free > adv && free - adv >= step) || f->s->tcp->mem_pressure))
        free = rcv_space(f);
    /* (Either way the field fits 16 bits: the edge was set from a field
     * below, or from a SYN's unscaled 16-bit window, so adv never exceeds
     * 0xffff << shift; rcv_space's free never does.) */
    if (OASIS_LIKELY(free <= adv || free - adv < step)) {
        /* Keep the edge where it is. Rounding down may show the sender an
         * edge up to 2^shift-1 bytes short (RFC 7323 2.4); rounding up would
         * creep past the free space a little with every segment. */
        field = adv >> shift;
    } else {
        field = free >> shift; /* (free is rcv_space's here) */
        uint32_t edge = f->rcv_nxt + (field << shift);
        if (oasis_seq_gt(edge, f->rcv_adv))
            f->rcv_adv = edge;
    }
    return (uint16_t)field;
}

/* SACK blocks go on the flow's next ACK (RFC 2018: out-of-order data is
 * held; RFC 2883: a duplicate to report). */
static int sack_blocks_due(const oasis_flow *f)
{
    return f->sack_ok && (f->ext->sb.dsack_pending || !oasis_ofo_empty(&f->ext->ofo));
}

static void fill_options(oasis_flow *f, oasis_tcp_hdr *h)
{
    if (h->flags & OASIS_TCP_SYN) {
        h->has_mss = 1;
        h->mss = f->mss_recv;
        h->has_wscale = f->ws_ok;
        h->wscale = f->rcv_wscale;
        h->sack_permitted = f->sack_ok;
    }
    /* RFC 7323 3.2: every segment, and (SHOULD) an RST, carries TSopt once
     * negotiated; TSecr only when the ACK bit is on. */
    if (f->ts_ok) {
        h->has_ts = 1;
        h->ts_val = oasis_tcp_ts_now(f);
        h->ts_ecr = (h->flags & OASIS_TCP_ACK) ? f->ts_recent : 0;
    }
    if (!(h->flags & OASIS_TCP_SYN) && sack_blocks_due(f))
        h->sack_count = (uint8_t)oasis_sack_fill(f, h->sack, f->ts_ok ? 3 : 4); /* D-SACK first */
}

/* The largest payload one send of new data may carry: a super-segment of
 * whole MSS (oasis/link.h) that fits one IPv4 datagram (or IPv6 packet:
 * its payload length field is 16 bits too), and the link's gso_max when it
 * cuts them itself; links without TSO get it cut at the link boundary
 * (link/eth.c), so TCP always works the same way. 60 bytes leave room for
 * the longest TCP header. */
static uint32_t super_max(const oasis_flow *f, uint32_t mss)
{
    int v6 = oasis_tcp_conn_v6(&f->c);
    const oasis_link *l = f->s->link;
    uint32_t d = OASIS_GSO_MAX;
    if (l && (l->caps & (v6 ? OASIS_LINK_TSO6 : OASIS_LINK_TSO4)) && l->send_offload &&
        l->gso_max && l->gso_max < d)
        d = l->gso_max;
    /* (both headers count against d: IPv6's payload length leaves out its
     * 40 bytes, so this is below its limit as well) */
    uint32_t ip = v6 ? OASIS_IPV6_HLEN : OASIS_IPV4_HLEN;
    uint32_t room = d > ip + OASIS_TCP_MAX_HLEN ? d - ip - OASIS_TCP_MAX_HLEN : 0;
    uint32_t max = room - room % mss;
    return max > mss ? max : mss;
}

/* RFC 3168 6.1: the ECN field and flags of a segment; returns the TOS byte
 * (the flow's DSCP, the ECN field below it). Only new data is ECN-capable,
 * ECT(0): never a pure ACK (6.1.4), a retransmission (6.1.5), a window or
 * keepalive probe (6.1.6: those carry no data here) or a SYN (6.1.1). CWR
 * rides on the first new data segment after a cwnd reduction (6.1.2), ECE
 * on every ACK while CE is being echoed (6.1.3). */
static uint8_t ecn_mark(oasis_flow *f, uint32_t seq, uint32_t len, uint8_t *flags)
{
    if (!f->ecn_ok || (*flags & (OASIS_TCP_SYN | OASIS_TCP_RST)))
        return f->tos;
    if (f->ecn_echo && (*flags & OASIS_TCP_ACK))
        *flags |= OASIS_TCP_ECE;
    if (!len || oasis_seq_lt(seq, f->snd_max))
        return f->tos;
    if (f->ecn_cwr) {
        *flags |= OASIS_TCP_CWR;
        f->ecn_cwr = 0;
    }
    return (uint8_t)((f->tos & ~3u) | OASIS_ECN_ECT0);
}

/* Bytes of the frame a segment is built in when it needs no pbuf (the
 * transmit cache covers its peer): requests, responses, ACKs, and a full
 * segment of a 1500-byte MTU. */
#define SMALL_FRAME 2048

/* The flow's constant sums, once per extension (see pseudo). */
static OASIS_COLD void pseudo_set(oasis_flow *f)
{
    f->ext->pseudo = oasis_tcp_pseudo_sum(&f->c.laddr, &f->c.raddr, 0); /* never 0: proto */
    f->ext->ports_word = oasis_tcp_ports_word(f->c.lport, f->c.rport);
}

/* The pseudo-header sum of one of the flow's segments of len bytes
 * (header and payload): the addresses' part once per extension. */
static OASIS_ALWAYS_INLINE uint64_t flow_pseudo(oasis_flow *f, uint32_t len)
{
    if (!f->ext->pseudo)
        pseudo_set(f);
    return oasis_csum_add_be32(f->ext->pseudo, len);
}

/* What sending a segment of len bytes from seq (in pieces of room bytes)
 * changes besides the bytes: the ACK it carries, the counters, RACK's
 * per-segment records. (last_tx_ms: the caller's, it has the time.)
 * fresh: the caller knows seq is snd_max (new data, no retransmission)
 * and sends it in one piece. */
static OASIS_ALWAYS_INLINE void xmit_account(oasis_flow *f, uint32_t seq, uint32_t len, uint8_t flags,
                                uint32_t pieces, uint32_t room, int fresh, uint64_t now)
{
    oasis_stack *s = f->s;
    if (flags & OASIS_TCP_ACK) {
        f->last_ack_sent = f->rcv_nxt;
        f->ext->tm.delack = OASIS_TCP_NEVER;
        f->ext->unacked = 0;
        f->ack_now = 0;
    }
    f->segs_out += pieces;
    if (flags & OASIS_TCP_RST)
        s->ctr.tcp.out_rsts++;
    int seqlen = (flags & OASIS_TCP_SYN ? 1 : 0) + (flags & OASIS_TCP_FIN ? 1 : 0);
    if (fresh || (!len && !seqlen) || !oasis_seq_lt(seq, f->snd_max)) {
        s->ctr.tcp.out_segs += pieces;
    } else {
        /* RFC 4022: tcpOutSegs excludes "those containing only retransmitted
         * octets"; tcpRetransSegs counts every one with any. */
        if (oasis_seq_gt(seq + len + (uint32_t)seqlen, f->snd_max))
            s->ctr.tcp.out_segs += pieces;
        s->ctr.tcp.retrans_segs += pieces;
        f->retransmits += pieces;
        oasis_plpmtud_resent(f, seq, len);
    }
    if (len && f->sack_ok) {
        /* RACK: per-segment send times, one record per piece, so a lost
         * piece is found and resent alone. */
        if (fresh) {
            oasis_rack_sent_new(f, seq, len, now); /* (one piece: output_one's) */
            return;
        }
        for (uint32_t off = 0; off < len; off += room)
            oasis_rack_sent(f, seq + off, min_u32(room, len - off));
    }
}

/* A segment xmit_plain built whose peer the transmit cache no longer
 * covers (a table changed): the same datagram through a pbuf, by the
 * flow's family. lent: the link's loan the segment was built in, given
 * back first. */
static OASIS_COLD void plain_slow(oasis_flow *f, const uint8_t *seg, uint32_t len, uint8_t *lent)
{
    oasis_stack *s = f->s;
    oasis_pbuf *p = oasis_pbuf_alloc(s, OASIS_PBUF_HEADROOM, len);
    if (p)
        memcpy(p->data, seg, len);
    if (lent)
        oasis_eth_unlend(s, lent);
    if (!p)
        return; /* the retransmission timer recovers */
    if (oasis_tcp_conn_v6(&f->c))
        oasis_ipv6_output_cached(s, &f->ext->txc6, p, f->c.laddr.b, f->c.raddr.b,
                                 OASIS_IPPROTO_TCP, f->c.lport, f->c.rport, f->ttl, f->tos);
    else
        oasis_ipv4_output_cached(s, &f->ext->txc, p, oasis_get32(f->c.raddr.b + 12),
                                 OASIS_IPPROTO_TCP, f->tos, f->ttl);
}

/* The established flow's common segment, which xmit_ex builds here
 * without its general steps: an ACK (with PSH or FIN) carrying no SACK
 * blocks, urgent pointer or ECN marks, not an MTU probe, one piece
 * without offload, the transmit cache covering the peer. The same frame,
 * counters and state as the general path (test_txcache compares them).
 * plain_flow holds what output_one has not checked already (the switch,
 * the SACK blocks, PLPMTUD: a probe is only sent while its state is set)
 * but the segment's size; xmit_plain, all of it. */
static OASIS_ALWAYS_INLINE int plain_flow(const oasis_flow *f)
{
    const oasis_tcp_ext *x = f->ext;
    const oasis_link *l = f->s->link;
    /* (A cache that has covered the peer before most likely still does;
     * one that has not, or is empty, is the general path's to fill.) */
    return !(f->ecn_ok || x->x.snd_urg || (l && (l->caps & OASIS_LINK_CSUM_TX) && l->send_offload)) &&
           (oasis_tcp_conn_v6(&f->c) ? x->txc6.nb != NULL : x->txc.nb != NULL);
}

/* The header's length: the timestamps are the only option. */
static OASIS_ALWAYS_INLINE uint32_t plain_hlen(const oasis_flow *f)
{
    return OASIS_TCP_HLEN + 12u * f->ts_ok;
}

/* Whether the frame of a plain segment of len bytes fits SMALL_FRAME,
 * with the longer headers whatever the flow's, IPv6's and the timestamps
 * (a payload within 32 bytes of the bound is the general path's: the
 * same frame). */
static OASIS_ALWAYS_INLINE int plain_fits(const oasis_flow *f, uint32_t len)
{
    return len <= SMALL_FRAME - sizeof f->ext->txc6.hdr - (OASIS_TCP_HLEN + 12);
}

/* A write's bytes the send ring holds but has not been given yet
 * (oasis_tcp_output_put): n at src, to be copied to `to`. */
typedef struct write_src {
    const void *src;
    uint8_t *to;
    uint32_t n;
} write_src;

/* Sends the segment the plain tests allowed; ms: the time in ms; room: the
 * payload a segment holds, plain_hlen's header beside it; fresh: as
 * xmit_account's; w: NULL, or the write whose bytes the segment is, exactly
 * (copied into the ring and the frame in one pass and summed: the ring
 * keeps them for a retransmission; nothing before reads them). A frame
 * long enough for a loan to pay (OASIS_ETH_LEND_MIN) is built in the
 * link's memory when it lends it (no copy), any other in ours. The frame's pointer, no longer a fixed place on the stack, costs ~15
 * instructions of spills per segment; so the accounting (which the frame's
 * bytes do not depend on) comes first, and the pointer lives only across the
 * writes. (A copy of this function per case, or the loan out of line, cost
 * more: callgrind.) */
static OASIS_ALWAYS_INLINE void plain_send_as(oasis_flow *f, uint32_t seq, uint32_t len,
                                              uint8_t flags, uint64_t now, uint32_t ms,
                                              uint32_t room, int fresh, const write_src *w, int v6)
{
    oasis_stack *s = f->s;
    oasis_tcp_ext *x = f->ext;
    /* The segment's length, header and payload, once (from plain_hlen
     * itself GCC made a 32- and a 64-bit copy of the header's). */
    uint32_t len_all = plain_hlen(f) + len;
    uint32_t hlen = len_all - len;
    oasis_tcp_plain h;
    h.seq = seq;
    h.flags = flags;
    h.window = window_field(f, 0);
    h.has_ts = hlen != OASIS_TCP_HLEN;
    if (len)
        f->last_tx_ms = ms;
    xmit_account(f, seq, len, flags, 1, room, fresh, now);
    uint8_t own[SMALL_FRAME];
    size_t l2l3 = v6 ? sizeof x->txc6.hdr : sizeof x->txc.hdr;
    size_t flen = l2l3 + len_all;
    uint8_t *lent = flen >= OASIS_ETH_LEND_MIN ? oasis_eth_lend(s, flen) : NULL;
    uint8_t *frame = lent ? lent : own;
    uint8_t *th = frame + l2l3;
    uint64_t psum = w     ? oasis_csum_copy2(th + hlen, w->to, w->src, len, 0)
                    : len ? oasis_ring_peek_csum(&x->snd, seq - f->snd_una, th + hlen, len)
                          : 0;
    uint64_t pseudo = flow_pseudo(f, len_all);
    h.ports = x->ports_word;
    h.ack = f->rcv_nxt;
    h.ts_val = ms + f->ts_offset;
    h.ts_ecr = f->ts_recent;
    oasis_tcp_emit_plain(th, &h, psum, pseudo);
    if (v6) {
        if (oasis_ipv6_txc_ready(s, &x->txc6, f->c.laddr.b, f->c.raddr.b, OASIS_IPPROTO_TCP,
                                 f->c.lport, f->c.rport, f->ttl, len_all))
            oasis_ipv6_output_frame(s, &x->txc6, frame, len_all, f->tos, lent != NULL);
        else
            plain_slow(f, th, len_all, lent);
        return;
    }
    /* (the flow's own cache, which has covered its peer: plain_flow) */
    if (!oasis_ipv4_try_frame(s, &x->txc, f->ttl, frame, len_all, f->tos, lent != NULL, ms))
        plain_slow(f, th, len_all, lent);
}

/* IPv6's copy, out of line: inside its callers it cost IPv4's segments
 * registers (callgrind: +14 instructions a round trip). */
static OASIS_NOINLINE void plain_send6(oasis_flow *f, uint32_t seq, uint32_t len, uint8_t flags,
                                       uint64_t now, uint32_t ms, uint32_t room, int fresh,
                                       const write_src *w)
{
    plain_send_as(f, seq, len, flags, now, ms, room, fresh, w, 1);
}

/* plain_send_as for the flow's family: a copy for each, so IPv4's frame
 * has its offsets fixed as before. */
static OASIS_ALWAYS_INLINE void plain_send(oasis_flow *f, uint32_t seq, uint32_t len, uint8_t flags,
                                           uint64_t now, uint32_t ms, uint32_t room, int fresh,
                                           const write_src *w)
{
    if (oasis_tcp_conn_v6(&f->c))
        plain_send6(f, seq, len, flags, now, ms, room, fresh, w);
    else
        plain_send_as(f, seq, len, flags, now, ms, room, fresh, w, 0);
}

/* 0 when the segment is not plain, having changed nothing. */
static OASIS_ALWAYS_INLINE int xmit_plain(oasis_flow *f, uint32_t seq, uint32_t len, uint8_t flags)
{
    if ((flags & (OASIS_TCP_SYN | OASIS_TCP_RST | OASIS_TCP_ACK)) != OASIS_TCP_ACK ||
        f->s->tcp->tx_fast_off || sack_blocks_due(f) || f->ext->plp.sending || !plain_flow(f))
        return 0;
    uint32_t room = oasis_tcp_seg_mss(f) + OASIS_TCP_HLEN - plain_hlen(f);
    if (len > room || !plain_fits(f, len))
        return 0;
    uint64_t now = oasis_now(f->s);
    plain_send(f, seq, len, flags, now, (uint32_t)(now / OASIS_NS_PER_MS), room, 0, NULL);
    return 1;
}

/* Builds and sends one segment of the flow: up to len bytes of the send
 * ring from seq (copied once, ring to pbuf), with flags. Options beyond the
 * timestamp (SACK blocks) take room from the payload so the datagram stays
 * within the MTU; returns the bytes sent (a clipped segment loses its FIN).
 * With super set, len may span many MSS: one super-segment whose pieces
 * each hold what one segment could (link.h), counted, timed for RACK and
 * checksummed per piece. */
OASIS_HOT static OASIS_NOINLINE uint32_t xmit_general(oasis_flow *f, uint32_t seq, uint32_t len,
                                                       uint8_t flags, int super)
{
    oasis_stack *s = f->s;
    oasis_tcp_hdr h;
    memset(&h, 0, sizeof h);
    h.src_port = f->c.lport;
    h.dst_port = f->c.rport;
    h.seq = seq;
    uint8_t tos = ecn_mark(f, seq, len, &flags);
    h.flags = flags;
    if (flags & OASIS_TCP_ACK)
        h.ack = f->rcv_nxt;
    if (!(flags & OASIS_TCP_RST))
        h.window = window_field(f, (flags & OASIS_TCP_SYN) != 0);
    if (f->ext->x.snd_urg)
        oasis_tcp_urg_fill(f, &h); /* URG while urgent data is unacknowledged */
    fill_options(f, &h);
    size_t hlen = OASIS_TCP_HLEN + oasis_tcp_options_len(&h);
    uint32_t seg = f->ext->plp.sending ? f->ext->plp.probe_mss : oasis_tcp_seg_mss(f);
    uint32_t room = seg + OASIS_TCP_HLEN - (uint32_t)hlen;
    /* The urgent pointer counts from each segment's own sequence number:
     * while it is sent, segments go one by one; so do PLPMTUD probes. */
    uint32_t cap = len > room && super && !f->ext->plp.sending && !(h.flags & OASIS_TCP_URG)
                       ? super_max(f, room)
                       : room; /* (super_max is never below room) */
    if (len > cap) {
        len = cap;
        h.flags &= (uint8_t)~OASIS_TCP_FIN;
        flags = h.flags;
    }
    uint32_t pieces = len > room ? (len + room - 1) / room : 1;
    int v6 = oasis_tcp_conn_v6(&f->c);
    uint32_t dst = oasis_ipaddr_to_v4(&f->c.raddr); /* (0 for IPv6) */
    const oasis_link *l = s->link;
    int offload = pieces > 1 || (l && (l->caps & OASIS_LINK_CSUM_TX) && l->send_offload);
    uint8_t small[SMALL_FRAME];
    uint8_t *frame = NULL;
    oasis_pbuf *p = NULL;
    uint8_t *th;
    oasis_tcp_ext *x = f->ext;
    size_t l2l3 = v6 ? sizeof x->txc6.hdr : sizeof x->txc.hdr; /* the cache's headers */
    if (!offload && l2l3 + hlen + len <= sizeof small &&
        (v6 ? oasis_ipv6_txc_ready(s, &x->txc6, f->c.laddr.b, f->c.raddr.b, OASIS_IPPROTO_TCP,
                                   f->c.lport, f->c.rport, f->ttl, hlen + len)
            : oasis_ipv4_cached_frame_ok(s, &x->txc, dst, OASIS_IPPROTO_TCP, f->ttl, hlen + len))) {
        /* A frame without a pbuf, the link's loan or ours: the transmit
         * cache writes IP's and the link's headers (the link copies a
         * frame of ours). */
        size_t flen = l2l3 + hlen + len;
        frame = flen >= OASIS_ETH_LEND_MIN ? oasis_eth_lend(s, flen) : NULL;
        if (!frame)
            frame = small; /* (a loan ends in oasis_ipv*_output_frame below) */
        th = frame + l2l3;
        uint64_t psum = len ? oasis_ring_peek_csum(&f->ext->snd, seq - f->snd_una, th + hlen, len) : 0;
        oasis_tcp_emit_ps(th, &h, psum, flow_pseudo(f, (uint32_t)(hlen + len)));
    } else if (!(p = oasis_pbuf_alloc(s, OASIS_PBUF_HEADROOM, len))) {
        return len; /* the retransmission timer recovers */
    } else if (offload) {
        /* Partial checksum: the pseudo-header sum, folded, in the field;
         * the link (or the link boundary, per piece) completes it. */
        if (len)
            oasis_ring_peek(&f->ext->snd, seq - f->snd_una, p->data, len);
        th = oasis_pbuf_push(p, hlen);
        uint64_t pseudo = flow_pseudo(f, (uint32_t)(hlen + len));
        oasis_tcp_emit_ps(th, &h, 0, pseudo);
        uint16_t ps = (uint16_t)~oasis_csum_fold(pseudo);
        memcpy(th + 16, &ps, 2);
        p->csum_partial = 1;
        if (pieces > 1) {
            p->gso_size = (uint16_t)room;
            p->gso_segs = (uint16_t)pieces;
        }
    } else {
        /* The payload is summed while it is copied: one pass over it. */
        uint64_t psum = len ? oasis_ring_peek_csum(&f->ext->snd, seq - f->snd_una, p->data, len) : 0;
        th = oasis_pbuf_push(p, hlen);
        oasis_tcp_emit_ps(th, &h, psum, flow_pseudo(f, (uint32_t)(hlen + len)));
    }

    /* (the time: the data's, and the IPv4 ID's of a frame without pbuf) */
    uint32_t ms = len || frame ? (uint32_t)(oasis_now(s) / OASIS_NS_PER_MS) : 0;
    if (len)
        f->last_tx_ms = ms;
    xmit_account(f, seq, len, flags, pieces, room, 0, 0);
    if (frame && v6)
        oasis_ipv6_output_frame(s, &x->txc6, frame, hlen + len, tos, frame != small);
    else if (frame)
        oasis_ipv4_output_frame(s, &x->txc, frame, hlen + len, tos, frame != small, ms);
    else if (v6)
        oasis_ipv6_output_cached(s, &x->txc6, p, f->c.laddr.b, f->c.raddr.b, OASIS_IPPROTO_TCP,
                                 f->c.lport, f->c.rport, f->ttl, tos);
    else
        oasis_ipv4_output_cached(s, &f->ext->txc, p, dst, OASIS_IPPROTO_TCP, tos, f->ttl);
    return len;
}

OASIS_HOT static uint32_t xmit_ex(oasis_flow *f, uint32_t seq, uint32_t len, uint8_t flags,
                                 int super)
{
    if (xmit_plain(f, seq, len, flags))
        return len;
    return xmit_general(f, seq, len, flags, super);
}

static uint32_t xmit(oasis_flow *f, uint32_t seq, uint32_t len, uint8_t flags)
{
    return xmit_ex(f, seq, len, flags, 0);
}

/* Bare ACKs carry snd_max, not snd_nxt: after a timeout snd_nxt goes back
 * to snd_una, and an ACK from below what the peer already has would be
 * "unacceptable" to it and draw an ACK back, and so on for ever. */
void oasis_tcp_send_ack(oasis_flow *f) { xmit(f, f->snd_max, 0, OASIS_TCP_ACK); }

void oasis_tcp_send_syn(oasis_flow *f)
{
    uint8_t flags = OASIS_TCP_SYN;
    if (f->state == OASIS_TCP_SYN_RECEIVED) {
        flags |= OASIS_TCP_ACK;
        if (f->ecn_ok)
            flags |= OASIS_TCP_ECE; /* ECN-setup SYN-ACK: ECE alone (RFC 3168 6.1.1) */
    } else if (f->ecn_ok) {
        /* ECN-setup SYN: ECE and CWR. A retransmission goes without
         * (6.1.1.1: a middlebox may be dropping them), and a flow that
         * sent a non-ECN-setup SYN must not use ECN (6.1.1). */
        if (f->ext->retries)
            f->ecn_ok = 0;
        else
            flags |= OASIS_TCP_ECE | OASIS_TCP_CWR;
    }
    xmit(f, f->iss, 0, flags);
    f->snd_nxt = f->iss + 1;
    if (oasis_seq_gt(f->snd_nxt, f->snd_max))
        f->snd_max = f->snd_nxt;
}

/* A segment the peer must answer with an ACK: one below snd_una, no data
 * (Linux's zero-window and keepalive probe). */
void oasis_tcp_send_probe(oasis_flow *f) { xmit(f, f->snd_una - 1, 0, OASIS_TCP_ACK); }

void oasis_tcp_send_rst_flow(oasis_flow *f)
{
    xmit(f, f->snd_max, 0, OASIS_TCP_RST | OASIS_TCP_ACK);
}

void oasis_tcp_send_challenge_ack(oasis_flow *f)
{
    if (oasis_tcp_challenge_allowed(f->s))
        oasis_tcp_send_ack(f);
}

/* Bytes of the send ring already sent (snd_nxt may also cover our FIN). */
static uint32_t sent_off(const oasis_flow *f)
{
    uint32_t off = f->snd_nxt - f->snd_una;
    if (f->fin_queued && oasis_seq_gt(f->snd_nxt, f->ext->fin_seq))
        off--;
    return off;
}

static int fin_unsent(const oasis_flow *f)
{
    return f->fin_queued && oasis_seq_le(f->snd_nxt, f->ext->fin_seq);
}

static int can_send_data(const oasis_flow *f)
{
    switch (f->state) {
    case OASIS_TCP_ESTABLISHED:
    case OASIS_TCP_CLOSE_WAIT:
    case OASIS_TCP_FIN_WAIT_1:
    case OASIS_TCP_CLOSING:
    case OASIS_TCP_LAST_ACK:
        return 1;
    default:
        return 0;
    }
}

/* RFC 5681 4.1: data after a silence longer than the RTO restarts from
 * the initial window; the controller also learns how long it paused. Once
 * per idle period: nothing unacknowledged, data about to go, idle counted
 * from the last data sent. now: the time, in ns and in ms. */
static OASIS_ALWAYS_INLINE void idle_restart(oasis_flow *f, uint32_t len, uint64_t now, uint32_t now_ms)
{
    /* (the pause first: a busy flow sends again within the millisecond) */
    uint32_t ms = now_ms - f->last_tx_ms; /* wraps after 49 days: an idle flow restarts anyway */
    if (!ms || !len || f->snd_una != f->snd_max || !f->ext->ccops->on_idle)
        return; /* (!ms: no pause to learn from; on_idle's contract: idle_ns > 0) */
    f->ext->ccops->on_idle(&f->ext->cc, (uint64_t)ms * OASIS_NS_PER_MS, oasis_rtt_rto(&f->ext->rtt), now);
}

/* What sending seq..seq+len (and a FIN when flags say so) changes in the
 * send sequence and the timers. */
static OASIS_ALWAYS_INLINE void seg_sent(oasis_flow *f, uint32_t seq, uint32_t len, uint8_t flags)
{
    f->snd_nxt = seq + len + ((flags & OASIS_TCP_FIN) ? 1 : 0);
    if (oasis_seq_gt(f->snd_nxt, f->snd_max)) {
        /* Karn: time only segments sent for the first time; with
         * timestamps every ACK carries its own sample instead. */
        if (!f->rtt_timing && !f->ts_ok && seq == f->snd_max) {
            f->rtt_timing = 1;
            f->ext->rtt_seq = f->snd_nxt;
            f->ext->rtt_start = oasis_now(f->s);
        }
        f->snd_max = f->snd_nxt;
        f->tlp_rearm = 1; /* RFC 8985 7.2: new data sent */
    }
    oasis_tcp_stop_persist(f);
    if (f->ext->tm.rexmt == OASIS_TCP_NEVER)
        oasis_tcp_arm_rto(f); /* RFC 6298 5.1 */
}

OASIS_HOT static void send_seg(oasis_flow *f, uint32_t len, uint8_t flags)
{
    uint32_t seq = f->snd_nxt;
    if (len && f->snd_una == f->snd_max) { /* (the clock is read only when it may restart) */
        uint64_t now = oasis_now(f->s);
        idle_restart(f, len, now, (uint32_t)(now / OASIS_NS_PER_MS));
    }
    uint32_t mss = oasis_tcp_eff_mss(f);
    if (len > mss) {
        /* The restart may have shrunk cwnd under the super-segment sized
         * before it: send what the new window holds, in whole MSS. */
        uint32_t wnd = min_u32(f->snd_wnd, oasis_recovery_cwnd(f));
        uint32_t inflight = f->snd_nxt - f->snd_una;
        uint32_t usable = wnd > inflight ? wnd - inflight : 0;
        if (len > usable) {
            len = usable > mss ? usable - usable % mss : mss;
            flags &= (uint8_t)~(OASIS_TCP_FIN | OASIS_TCP_PSH);
        }
    }
    uint32_t sent = xmit_ex(f, seq, len, flags, 1);
    if (sent < len)
        flags &= (uint8_t)~OASIS_TCP_FIN;
    seg_sent(f, seq, sent, flags);
}

/* Nagle (RFC 896 as in RFC 9293 3.7.4) and sender-side SWS avoidance
 * (3.8.6.2.1) for a segment of len < MSS bytes. */
static int small_segment_ok(const oasis_flow *f, uint32_t len, uint32_t avail, uint32_t inflight)
{
    int push = f->nodelay || oasis_seq_gt(f->ext->push_seq, f->snd_nxt) || f->fin_queued;
    int idle = inflight == 0 || push;
    if (len == avail && idle)
        return 1;
    return idle && len >= f->max_snd_wnd / 2 && f->max_snd_wnd > 0;
}

/* seg_sent's and the loop's tail for output_one's new data: the segment
 * carries the ACK due (ack_now is clear) and the PTO is re-armed now. */
static OASIS_ALWAYS_INLINE void new_sent(oasis_flow *f, uint32_t seq, uint32_t len, uint32_t mss,
                                         uint64_t now)
{
    f->snd_nxt = f->snd_max = seq + len;
    if (!f->rtt_timing && !f->ts_ok) { /* Karn: first transmission */
        f->rtt_timing = 1;
        f->ext->rtt_seq = f->snd_nxt;
        f->ext->rtt_start = now;
    }
    f->tlp_rearm = 0;
    oasis_tcp_stop_persist(f);
    oasis_tcp_arm_sent(f, mss, now);
}

/* The common case of oasis_tcp_output's loop, taken first: an established
 * flow in no recovery, with no FIN to send, no SACK blocks to carry and
 * nothing unsent but what one segment takes (at most an MSS, within both
 * windows, past Nagle and SWS avoidance). The same segment, state and
 * timers as the loop, in fewer steps (test_txcache compares them);
 * 0 when it does not apply, having changed nothing. w: NULL, or a write
 * whose bytes the ring holds but has not been given (they end it); taken
 * only when they are the segment, exactly, and it is plain: sent without
 * the ring's copy (anything else reads the ring, so it is the caller's
 * to copy them in first). */
static OASIS_ALWAYS_INLINE int output_one(oasis_flow *f, const write_src *w)
{
    const oasis_tcp_ext *x = f->ext;
    uint32_t inflight = f->snd_nxt - f->snd_una;
    uint32_t avail = x->snd.len - inflight;
    if (avail == 0 || f->state != OASIS_TCP_ESTABLISHED || f->fin_queued ||
        f->snd_nxt != f->snd_max || x->rec.state != OASIS_REC_OPEN || x->mss_icmp || x->plp.mss ||
        f->s->tcp->tx_fast_off || sack_blocks_due(f))
        return 0;
    uint32_t mss = oasis_tcp_eff_mss(f);
    if (avail > mss)
        return 0;
    /* (oasis_recovery_cwnd outside recovery: cwnd, raised while limited
     * transmit grants segments) */
    uint32_t wnd = min_u32(f->snd_wnd, x->rec.lt_segs ? oasis_recovery_cwnd(f) : x->cc.cwnd);
    if (wnd < inflight || wnd - inflight < avail ||
        (avail < mss && !small_segment_ok(f, avail, avail, inflight)))
        return 0;
    /* (a plain segment's tests read nothing the restart changes) */
    int plain = plain_flow(f) && plain_fits(f, avail);
    if (w && (avail != w->n || !plain))
        return 0;
    /* send_seg's steps for a segment within the MSS, which goes whole
     * (no SACK blocks take room from it) */
    uint32_t seq = f->snd_nxt;
    uint8_t flags = OASIS_TCP_ACK | OASIS_TCP_PSH;
    uint64_t now = oasis_now(f->s);
    uint32_t ms = (uint32_t)(now / OASIS_NS_PER_MS); /* (both ask: divided once) */
    idle_restart(f, avail, now, ms);
    /* (a segment holds mss: mss_send, at least 64, with no lower path
     * MTU here, is never the timestamps' 12 that eff_mss makes 1) */
    if (plain) {
        /* (the sequence and the timers first, while the time and the
         * extension are at hand: building the frame reads neither) */
        new_sent(f, seq, avail, mss, now);
        plain_send(f, seq, avail, flags, now, ms, mss, 1, w);
    } else {
        xmit_general(f, seq, avail, flags, 1);
        new_sent(f, seq, avail, mss, now);
    }
    return 1;
}

/* Nothing for oasis_tcp_output to do: no unsent byte or FIN, no ACK due,
 * no PTO to re-arm, no retransmission recovery could ask for, no path MTU
 * state that may change with time (the common case after input that only
 * took data or an ACK). */
static int output_idle(const oasis_flow *f)
{
    const oasis_tcp_ext *x = f->ext;
    /* (SACK and RTO recovery resend below snd_nxt: oasis_recovery_output) */
    return !f->ack_now && !f->tlp_rearm && !f->fin_queued && x->snd.len == f->snd_nxt - f->snd_una &&
           x->rec.state < OASIS_REC_SACK && !x->mss_icmp && !x->plp.mss;
}

OASIS_HOT void oasis_tcp_output(oasis_flow *f)
{
    /* (first: it returns before any register is saved, and when it holds,
     * no state sends or acknowledges anything) */
    if (!output_idle(f))
        oasis_tcp_output_queued(f);
}

/* The write's send (tcp_api.c oasis_tcp_write, whose tail call this is:
 * the write then keeps nothing across the send): oasis_tcp_output_queued,
 * then the caller's hold on the extension dropped (oasis_tcp_ext_put);
 * returns OASIS_OK, the write's answer. The write's bytes go into the
 * ring and the frame in one pass when they are the segment sent at once
 * (a request, a response); otherwise into the ring, before anything reads
 * it. */
OASIS_HOT OASIS_NOINLINE int oasis_tcp_output_put(oasis_flow *f, const void *src, uint8_t *to, uint32_t n)
{
    write_src w = {src, to, n};
    if (!output_one(f, &w)) {
        oasis_ring_copy(to, src, n);
        oasis_tcp_output_queued(f); /* (whose output_one may send them yet: with more) */
    }
    oasis_tcp_ext_put(f);
    return OASIS_OK;
}

OASIS_HOT OASIS_NOINLINE void oasis_tcp_output_queued(oasis_flow *f)
{
    if (output_one(f, NULL))
        return;
    if (!can_send_data(f)) {
        if (f->ack_now && oasis_tcp_synchronized(f))
            oasis_tcp_send_ack(f);
        return;
    }
    if (f->ext->mss_icmp)
        oasis_tcp_pmtu_check(f); /* (both return at once without their state) */
    if (f->ext->plp.mss)
        oasis_plpmtud_output(f);
    uint32_t mss = oasis_tcp_eff_mss(f);
    oasis_recovery_output(f); /* retransmissions first (tcp_recovery.c) */
    for (;;) {
        uint32_t avail = f->ext->snd.len - sent_off(f);
        if (avail == 0) {
            if (fin_unsent(f))
                send_seg(f, 0, OASIS_TCP_ACK | OASIS_TCP_FIN);
            break;
        }
        uint32_t inflight = f->snd_nxt - f->snd_una;
        uint32_t wnd = min_u32(f->snd_wnd, oasis_recovery_cwnd(f));
        uint32_t usable = wnd > inflight ? wnd - inflight : 0;
        /* After an RTO (snd_nxt below snd_max) this resends bytes already
         * sent: SWS avoidance and Nagle are about new data, and holding
         * the retransmission back would leave the retry limit uncounted
         * (RFC 6298 5.4; issue 11 item 44). Resends go one MSS at a time;
         * new data in super-segments of whole MSS (oasis/link.h), whose
         * sub-MSS tail passes the same Nagle and SWS test it would pass
         * as a segment of its own. */
        int resend = oasis_seq_lt(f->snd_nxt, f->snd_max);
        uint32_t len = min_u32(avail, usable);
        if (len > mss)
            len = min_u32(len, resend ? mss : super_max(f, mss)); /* never below mss */
        if (len > mss) {
            uint32_t tail = len % mss;
            if (tail && (len < avail || !small_segment_ok(f, tail, tail, inflight + len - tail)))
                len -= tail;
        }
        if (len == 0 || (len < mss && !resend && !small_segment_ok(f, len, avail, inflight))) {
            if (inflight == 0)
                oasis_tcp_arm_persist(f);
            break;
        }
        if (resend && f->ext->sb.n && oasis_recovery_resend_skip(f))
            continue; /* snd_nxt moved past a SACKed range (RFC 2018 5) */
        uint8_t flags = OASIS_TCP_ACK;
        if (len == avail) {
            flags |= OASIS_TCP_PSH;
            if (fin_unsent(f))
                flags |= OASIS_TCP_FIN;
        }
        send_seg(f, len, flags);
    }
    if (f->ack_now)
        oasis_tcp_send_ack(f);
    /* In SACK recovery the PTO restarts at every ACK and every send: it
     * fires only when the ACK clock stopped (tcp_timer.c tlp_may_probe). */
    if (f->ext->rec.state == OASIS_REC_SACK)
        f->tlp_rearm = 1;
    if (f->tlp_rearm) {
        /* Only new data sent or acknowledged moves the PTO (RFC 8985
         * 7.2): a segment that changes neither leaves it alone. */
        f->tlp_rearm = 0;
        oasis_tcp_arm_tlp(f);
    }
}

/* Persist timer with an open window, or a tail loss probe: send what
 * fits, SWS rules and cwnd aside; the FIN rides along when this is the
 * last of the data. */
void oasis_tcp_force_output(oasis_flow *f)
{
    uint32_t avail = f->ext->snd.len - sent_off(f);
    uint32_t len = min_u32(min_u32(avail, f->snd_wnd), oasis_tcp_eff_mss(f));
    uint8_t flags = OASIS_TCP_ACK | OASIS_TCP_PSH;
    if (len && len == avail && fin_unsent(f))
        flags |= OASIS_TCP_FIN;
    if (len)
        send_seg(f, len, flags);
}

uint32_t oasis_tcp_send_mtu_probe(oasis_flow *f, uint32_t len)
{
    if (!can_send_data(f) || f->snd_nxt != f->snd_max)
        return 0;
    uint32_t avail = f->ext->snd.len - sent_off(f);
    uint32_t inflight = f->snd_nxt - f->snd_una;
    uint32_t wnd = min_u32(f->snd_wnd, oasis_recovery_cwnd(f));
    /* Only a full probe of new data, within both windows. */
    if (avail < len || wnd < inflight || wnd - inflight < len)
        return 0;
    uint32_t before = f->snd_max;
    f->ext->plp.sending = 1;
    f->ext->plp.probe_mss = (uint16_t)(len + (f->ts_ok ? 12u : 0u));
    send_seg(f, len, OASIS_TCP_ACK | (len == avail ? OASIS_TCP_PSH : 0));
    f->ext->plp.sending = 0;
    f->ext->plp.probe_mss = 0;
    return f->snd_max - before;
}

void oasis_tcp_retransmit_head(oasis_flow *f)
{
    uint32_t sent = f->snd_max - f->snd_una;
    int fin_sent = f->fin_queued && oasis_seq_gt(f->snd_max, f->ext->fin_seq);
    uint32_t data = sent - (fin_sent ? 1u : 0u);
    uint32_t len = min_u32(data, oasis_tcp_eff_mss(f));
    uint8_t flags = OASIS_TCP_ACK;
    if (len == data && fin_sent)
        flags |= OASIS_TCP_FIN;
    if (len == 0 && !(flags & OASIS_TCP_FIN))
        return;
    xmit(f, f->snd_una, len, flags);
    f->rtt_timing = 0; /* Karn */
}

uint32_t oasis_tcp_xmit_data(oasis_flow *f, uint32_t seq, uint32_t len, int fin)
{
    uint8_t flags = OASIS_TCP_ACK;
    if (fin && f->fin_queued && oasis_seq_gt(f->snd_max, f->ext->fin_seq) && seq + len == f->ext->fin_seq)
        flags |= OASIS_TCP_FIN;
    f->rtt_timing = 0; /* Karn */
    return xmit(f, seq, len, flags);
}

OASIS_HOT void oasis_tcp_window_update(oasis_flow *f)
{
    if (!receiving(f))
        return;
    uint32_t adv = oasis_seq_gt(f->rcv_adv, f->rcv_nxt) ? f->rcv_adv - f->rcv_nxt : 0;
    /* The free space is at most the buffer: with half of it advertised
     * already, adv < free / 2 cannot hold (rcv_space left unasked, unless
     * memory pressure would have it count a clamp). */
    if (adv >= f->ext->rcv.cap / 2 && !f->s->tcp->mem_pressure)
        return;
    uint32_t free = rcv_space(f);
    uint32_t thresh = min_u32(f->ext->rcv.cap / 2, 2u * f->mss_recv);
    /* Tell the sender only when its view of the window got small compared
     * with what we could offer now. */
    if (free > adv && free - adv >= thresh && adv < free / 2)
        oasis_tcp_send_ack(f);
}

/* ---- segments without a flow --------------------------------------------- */

uint64_t oasis_tcp_pseudo_sum(const oasis_ipaddr *src, const oasis_ipaddr *dst, uint32_t len)
{
    if (oasis_ipaddr_is_v6(src)) {
        oasis_in6 a, b;
        memcpy(a.b, src->b, 16);
        memcpy(b.b, dst->b, 16);
        return oasis_ipv6_pseudo_sum(&a, &b, len, OASIS_IPPROTO_TCP); /* RFC 8200 8.1 */
    }
    return oasis_csum_pseudo(oasis_ipaddr_to_v4(src), oasis_ipaddr_to_v4(dst), OASIS_IPPROTO_TCP,
                             (uint16_t)len);
}

int oasis_tcp_ip_output(oasis_stack *s, oasis_pbuf *p, const oasis_ipaddr *laddr,
                        const oasis_ipaddr *raddr, uint8_t tos, uint8_t ttl)
{
    if (oasis_ipaddr_is_v6(raddr)) {
        /* tos: the Traffic Class, DSCP and ECN as in IPv4's TOS byte. */
        oasis_in6 a, b;
        memcpy(a.b, laddr->b, 16);
        memcpy(b.b, raddr->b, 16);
        return oasis_ipv6_output_tc(s, p, &a, &b, OASIS_IPPROTO_TCP, ttl, tos);
    }
    uint32_t src = oasis_ipaddr_to_v4(laddr), dst = oasis_ipaddr_to_v4(raddr);
    if (src != oasis_ipv4_source(s, dst)) /* a transparent stack's foreign address */
        return oasis_ipv4_output_from(s, p, src, dst, OASIS_IPPROTO_TCP, 1, tos, ttl);
    if (tos || ttl)
        return oasis_ipv4_output_tt(s, p, dst, OASIS_IPPROTO_TCP, 1, tos, ttl);
    return oasis_ipv4_output(s, p, dst, OASIS_IPPROTO_TCP, 1);
}

static void raw_send(oasis_stack *s, const oasis_ipaddr *laddr, const oasis_ipaddr *raddr,
                     const oasis_tcp_hdr *h)
{
    oasis_pbuf *p = oasis_pbuf_alloc(s, OASIS_PBUF_HEADROOM, 0);
    if (!p)
        return;
    size_t hlen = OASIS_TCP_HLEN + oasis_tcp_options_len(h);
    oasis_tcp_emit_ps(oasis_pbuf_push(p, hlen), h, 0, oasis_tcp_pseudo_sum(laddr, raddr, (uint32_t)hlen));
    s->ctr.tcp.out_segs++;
    if (h->flags & OASIS_TCP_RST)
        s->ctr.tcp.out_rsts++;
    oasis_tcp_ip_output(s, p, laddr, raddr, 0, 0);
}

void oasis_tcp_send_rst_reply(oasis_stack *s, const oasis_ipaddr *laddr, const oasis_ipaddr *raddr,
                              const oasis_tcp_hdr *in)
{
    if (in->flags & OASIS_TCP_RST)
        return;
    oasis_tcp_hdr h;
    memset(&h, 0, sizeof h);
    h.src_port = in->dst_port;
    h.dst_port = in->src_port;
    if (in->flags & OASIS_TCP_ACK) {
        h.seq = in->ack;
        h.flags = OASIS_TCP_RST;
    } else {
        h.ack = in->seq + oasis_tcp_seg_len(in);
        h.flags = OASIS_TCP_RST | OASIS_TCP_ACK;
    }
    raw_send(s, laddr, raddr, &h);
}

void oasis_tcp_tw_send_ack(oasis_stack *s, const oasis_tcp_tw *tw)
{
    oasis_tcp_hdr h;
    memset(&h, 0, sizeof h);
    h.src_port = tw->c.lport;
    h.dst_port = tw->c.rport;
    h.seq = tw->snd_nxt;
    h.ack = tw->rcv_nxt;
    h.flags = OASIS_TCP_ACK;
    h.window = tw->win;
    if (tw->ts_ok) {
        h.has_ts = 1;
        h.ts_val = (uint32_t)(oasis_now(s) / OASIS_NS_PER_MS) + tw->ts_offset;
        h.ts_ecr = tw->ts_recent;
    }
    raw_send(s, &tw->c.laddr, &tw->c.raddr, &h);
}
