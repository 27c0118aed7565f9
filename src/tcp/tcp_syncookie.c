/* SYN cookies: see tcp_syncookie.h for the layout and its trade-offs. */
#include "tcp/tcp_syncookie.h"
#include "tcp/tcp_tune.h"

#include <string.h>

#include "core/pbuf.h"
#include "core/stack_impl.h"
#include "ip/ipv4.h"
#include "tcp/tcp_isn.h"
#include "tcp/tcp_seq.h"

/* Common MSS values; the peer gets the largest not above what it offered. */
static const uint16_t MSS_TABLE[8] = {64, 256, 536, 1024, 1220, 1360, 1440, 1460};

static uint32_t cookie_mac(const uint8_t key[16], const oasis_ipaddr *laddr, uint16_t lport,
                           const oasis_ipaddr *raddr, uint16_t rport, uint32_t irs, uint64_t t,
                           uint32_t idx)
{
    /* IPv4: 29 bytes, IPv6: 53 (the whole 16-byte addresses); never the
     * 12- or 36-byte message of the ISN, so the same key gives independent
     * values. */
    uint8_t m[53];
    size_t n = 0;
    if (laddr->family == OASIS_AF_INET6) {
        memcpy(m, laddr->b, 16);
        memcpy(m + 16, raddr->b, 16);
        n = 32;
    } else {
        uint32_t a[2] = {oasis_ipaddr_to_v4(laddr), oasis_ipaddr_to_v4(raddr)};
        for (int i = 0; i < 2; i++)
            for (int b = 0; b < 4; b++)
                m[n++] = (uint8_t)(a[i] >> (24 - 8 * b));
    }
    uint32_t w[2] = {(uint32_t)lport << 16 | rport, irs};
    for (int i = 0; i < 2; i++)
        for (int b = 0; b < 4; b++)
            m[n++] = (uint8_t)(w[i] >> (24 - 8 * b));
    for (int b = 0; b < 8; b++)
        m[n++] = (uint8_t)(t >> (56 - 8 * b));
    m[n++] = (uint8_t)idx;
    memcpy(m + n, "cook", 4);
    n += 4;
    return (uint32_t)oasis_siphash24(key, m, n) & 0xffffffu;
}

uint32_t oasis_syncookie_make(const uint8_t key[16], const oasis_ipaddr *laddr, uint16_t lport,
                              const oasis_ipaddr *raddr, uint16_t rport, uint32_t irs,
                              uint16_t peer_mss, uint64_t now_ns)
{
    uint32_t idx = 0;
    while (idx < 7 && MSS_TABLE[idx + 1] <= peer_mss)
        idx++;
    uint64_t t = now_ns / OASIS_SYNCOOKIE_PERIOD_NS;
    return (uint32_t)(t & 0x1f) << 27 | idx << 24 |
           cookie_mac(key, laddr, lport, raddr, rport, irs, t, idx);
}

uint16_t oasis_syncookie_check(const uint8_t key[16], const oasis_ipaddr *laddr, uint16_t lport,
                               const oasis_ipaddr *raddr, uint16_t rport, uint32_t irs,
                               uint32_t cookie, uint64_t now_ns)
{
    uint64_t now_t = now_ns / OASIS_SYNCOOKIE_PERIOD_NS;
    uint32_t idx = (cookie >> 24) & 7;
    for (uint64_t age = 0; age < 2 && age <= now_t; age++) {
        uint64_t t = now_t - age;
        if ((t & 0x1f) == cookie >> 27 &&
            cookie_mac(key, laddr, lport, raddr, rport, irs, t, idx) == (cookie & 0xffffff))
            return MSS_TABLE[idx];
    }
    return 0;
}

void oasis_tcp_cookie_synack(oasis_stack *s, oasis_tcp_listener *l, const oasis_ipaddr *src,
                             const oasis_ipaddr *dst, const oasis_tcp_hdr *in)
{
    uint16_t peer_mss = (uint16_t)(in->has_mss ? in->mss : oasis_tcp_default_mss(src));
    oasis_tcp_hdr h;
    memset(&h, 0, sizeof h);
    h.src_port = in->dst_port;
    h.dst_port = in->src_port;
    h.seq = oasis_syncookie_make(s->secrets.cookie_key, dst, in->dst_port, src, in->src_port,
                                 in->seq, peer_mss, oasis_now(s));
    h.ack = in->seq + 1;
    h.flags = OASIS_TCP_SYN | OASIS_TCP_ACK;
    h.window = (uint16_t)oasis_tcp_tune_cookie_window(s, &l->bufs);
    h.has_mss = 1;
    h.mss = (uint16_t)(oasis_tcp_link_mtu(s, src) - 20 - (oasis_ipaddr_is_v6(src) ? 40 : 20));
    oasis_pbuf *p = oasis_pbuf_alloc(s, OASIS_PBUF_HEADROOM, 0);
    if (!p)
        return;
    size_t hlen = OASIS_TCP_HLEN + oasis_tcp_options_len(&h);
    oasis_tcp_emit_ps(oasis_pbuf_push(p, hlen), &h, 0, oasis_tcp_pseudo_sum(dst, src, (uint32_t)hlen));
    l->cookie_at = oasis_now(s) + 1; /* +1: 0 means "no cookie sent" */
    s->ctr.tcp.syn_cookies_sent++;
    s->ctr.tcp.out_segs++;
    oasis_tcp_ip_output(s, p, dst, src, l->tos, l->ttl); /* the flow's, had it one */
}

/* The flow a valid cookie stands for, in SYN_RECEIVED as if its SYN-ACK had
 * just gone out (no options but MSS, see the header). */
static oasis_flow *cookie_flow(oasis_stack *s, oasis_tcp_listener *l, const oasis_ipaddr *src,
                               const oasis_ipaddr *dst, const oasis_tcp_hdr *h, uint16_t mss)
{
    oasis_flow *f = oasis_tcp_flow_new(s, dst, src, h->dst_port, h->src_port);
    if (!f)
        return NULL;
    oasis_tcp_flow_adopt(f, l);
    f->ws_ok = f->ts_ok = f->sack_ok = 0;
    f->snd_wscale = f->rcv_wscale = 0;
    uint32_t cap = oasis_tcp_link_mtu(s, src) - 20 - oasis_tcp_ip_hlen(&f->c);
    f->mss_send = (uint16_t)(mss < cap ? mss : cap);
    f->ext->rcv_mss = oasis_tcp_rcv_mss_init(f);
    f->iss = h->ack - 1;
    f->snd_una = f->iss;
    f->snd_nxt = f->snd_max = f->iss + 1;
    f->irs = h->seq - 1;
    f->rcv_nxt = h->seq;
    oasis_tcp_tune_init(f, &l->bufs);
    f->rcv_wscale = 0;
    /* The window the cookie's SYN-ACK offered is honoured whatever the
     * buffers are now (memory pressure may have made them smaller). */
    uint32_t w = oasis_tcp_tune_cookie_window(s, &l->bufs);
    if (f->rcvbuf < w) {
        f->rcvbuf = w;
        f->ext->rcv.cap = w;
    }
    f->rcv_adv = f->rcv_nxt + w;
    f->last_ack_sent = f->rcv_nxt;
    f->segs_in = 1; /* the SYN the cookie answered (then the ACK, as it is taken) */
    oasis_tcp_set_state(f, OASIS_TCP_SYN_RECEIVED);
    oasis_tcp_table_insert(s, &f->c);
    s->ctr.tcp.passive_opens++;
    return f;
}

int oasis_tcp_cookie_ack(oasis_stack *s, oasis_tcp_listener *l, const oasis_ipaddr *src,
                         const oasis_ipaddr *dst, const oasis_tcp_hdr *h)
{
    uint64_t now = oasis_now(s);
    if ((h->flags & (OASIS_TCP_SYN | OASIS_TCP_RST | OASIS_TCP_ACK)) != OASIS_TCP_ACK ||
        !l->cookie_at || now + 1 - l->cookie_at > 2 * OASIS_SYNCOOKIE_PERIOD_NS)
        return 0; /* no cookie of ours can be live: a plain stray ACK */
    uint16_t mss = oasis_syncookie_check(s->secrets.cookie_key, dst, h->dst_port, src, h->src_port,
                                         h->seq - 1, h->ack - 1, now);
    if (!mss) {
        s->ctr.tcp.syn_cookies_failed++;
        return 0;
    }
    /* A deferring listener keeps no state for a peer that has said
     * nothing: its first data carries the same cookie (seq and ack
     * unchanged by a pure ACK) and opens the flow then. */
    if (l->defer_ns && !h->payload_len && !(h->flags & OASIS_TCP_FIN)) {
        s->ctr.tcp.defer_accept_drops++;
        return 1;
    }
    /* The peer proved it got our SYN-ACK, so this is no blind flood; still,
     * accepted-but-not-yet-taken flows stay bounded. */
    if (l->pending >= 2 * l->backlog) {
        s->ctr.tcp.listen_overflows++;
        return 1;
    }
    oasis_flow *f = cookie_flow(s, l, src, dst, h, mss);
    if (!f)
        return 1;
    s->ctr.tcp.syn_cookies_ok++;
    f->busy++;
    oasis_tcp_flow_input(f, h);
    f->busy--;
    oasis_tcp_maybe_free(f);
    return 1;
}
