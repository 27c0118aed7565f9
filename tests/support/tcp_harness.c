#include "tcp_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arp/arp_wire.h"
#include "core/bytes.h"
#include "core/checksum.h"
#include "icmp/icmp_wire.h"
#include "ip/ipv4_wire.h"
#include "ipv6/icmp6_wire.h"
#include "ipv6/ipv6_wire.h"
#include "ipv6/nd_wire.h"
#include "link/eth_wire.h"
#include "tcp/tcp.h"
#include "testutil.h"

static const uint8_t PEER_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t ROUTER_MAC[6] = {0x02, 0, 0, 0, 0, 0xfe};

static oasis_in6 in6(const oasis_ipaddr *a)
{
    oasis_in6 r;
    memcpy(r.b, a->b, 16);
    return r;
}

/* Writes an IPv6 header at p: src to dst, len bytes of next after it. */
static void ip6_hdr(uint8_t *p, const oasis_in6 *src, const oasis_in6 *dst, uint8_t next,
                    uint8_t hop, uint8_t tclass, size_t len)
{
    oasis_ipv6_hdr ip;
    memset(&ip, 0, sizeof ip);
    ip.tclass = tclass;
    ip.payload_len = (uint16_t)len;
    ip.next = next;
    ip.hop_limit = hop;
    ip.src = *src;
    ip.dst = *dst;
    oasis_ipv6_emit(p, &ip);
}

/* The same after an Ethernet header (from `mac` to the stack) at f;
 * returns the payload. */
static uint8_t *frame6(tcp_harness *h, uint8_t *f, const uint8_t *mac, const oasis_in6 *src,
                       const oasis_in6 *dst, uint8_t next, uint8_t hop, uint8_t tclass, size_t len)
{
    oasis_eth_emit(f, oasis_stack_mac(h->s), mac, OASIS_ETHERTYPE_IPV6);
    ip6_hdr(f + OASIS_ETH_HLEN, src, dst, next, hop, tclass, len);
    return f + OASIS_ETH_HLEN + OASIS_IPV6_HLEN;
}

static void capture_tcp(tcp_harness *h, const uint8_t *payload, size_t len, oasis_ipaddr src,
                        oasis_ipaddr dst, uint8_t tos, uint8_t ttl, uint8_t df)
{
    if (h->qlen == h->qcap) {
        size_t ncap = h->qcap ? h->qcap * 2 : 64;
        th_frame *nq = calloc(ncap, sizeof *nq);
        assert_non_null(nq);
        for (size_t i = 0; i < h->qlen; i++)
            nq[i] = h->q[(h->qhead + i) % h->qcap];
        free(h->q);
        h->q = nq;
        h->qcap = ncap;
        h->qhead = 0;
    }
    th_frame *f = &h->q[(h->qhead + h->qlen) % h->qcap];
    f->data = malloc(len ? len : 1);
    assert_non_null(f->data);
    memcpy(f->data, payload, len);
    f->len = len;
    f->src = src;
    f->dst = dst;
    f->tos = tos;
    f->ttl = ttl;
    f->df = df;
    h->qlen++;
}

/* A request for the peer's link address: counted, answered unless muted. */
static int peer_asked(tcp_harness *h, const oasis_eth_hdr *eth)
{
    h->arp_requests++;
    if (memcmp(eth->dst, PEER_MAC, 6) == 0)
        h->arp_unicast++;
    return !h->arp_mute;
}

/* A Neighbour Solicitation for the peer gets a solicited NA (RFC 4861
 * 7.2.4) carrying the peer's MAC. */
static void answer_ns(tcp_harness *h, const oasis_eth_hdr *eth, const oasis_ipv6_hdr *ip)
{
    oasis_icmp6_hdr m;
    oasis_nd_msg nd;
    oasis_in6 peer = in6(&h->peer);
    if (oasis_icmp6_parse(ip->payload, ip->payload_len, &ip->src, &ip->dst, &m) ||
        m.type != OASIS_ICMP6_NS || oasis_nd_parse(ip->payload, ip->payload_len, &nd) ||
        !oasis_in6_eq(&nd.target, &peer) || !peer_asked(h, eth))
        return;
    uint8_t na[32];
    size_t n = oasis_nd_emit_na(na, &peer, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE, PEER_MAC);
    oasis_icmp6_finish(na, n, OASIS_ICMP6_NA, 0, (uint32_t)na[4] << 24, &peer, &ip->src);
    memset(h->reply, 0, sizeof h->reply);
    uint8_t *p = frame6(h, h->reply, PEER_MAC, &peer, &ip->src, OASIS_NH_ICMPV6, 255, 0, n);
    memcpy(p, na, n);
    h->reply_len = (size_t)(p + n - h->reply);
}

static void answer_arp(tcp_harness *h, const oasis_eth_hdr *eth)
{
    oasis_arp_pkt req, rep;
    if (oasis_arp_parse(eth->payload, eth->payload_len, &req) || req.op != OASIS_ARP_REQUEST ||
        req.tpa != TH_PEER || !peer_asked(h, eth))
        return;
    memset(&rep, 0, sizeof rep);
    rep.op = OASIS_ARP_REPLY;
    memcpy(rep.sha, PEER_MAC, 6);
    rep.spa = TH_PEER;
    memcpy(rep.tha, req.sha, 6);
    rep.tpa = req.spa;
    memset(h->reply, 0, sizeof h->reply);
    oasis_eth_emit(h->reply, req.sha, PEER_MAC, OASIS_ETHERTYPE_ARP);
    oasis_arp_emit(h->reply + OASIS_ETH_HLEN, &rep);
    h->reply_len = 60;
}

/* Hands the stack the queued ARP or NA answer; 1 if there was one. */
static int deliver_reply(tcp_harness *h)
{
    size_t n = h->reply_len;
    h->reply_len = 0;
    if (n)
        oasis_stack_input(h->s, h->reply, n);
    return n != 0;
}

static int link_send(oasis_link *link, const uint8_t *frame, size_t len)
{
    tcp_harness *h = link->data;
    oasis_eth_hdr eth;
    oasis_ipv4_hdr ip;
    oasis_ipv6_hdr ip6;
    if (oasis_eth_parse(frame, len, &eth))
        return 0;
    if (eth.type == OASIS_ETHERTYPE_ARP) {
        answer_arp(h, &eth);
        return 0;
    }
    if (eth.type == OASIS_ETHERTYPE_IPV4 && !oasis_ipv4_parse(eth.payload, eth.payload_len, &ip) &&
        ip.proto == OASIS_IPPROTO_TCP) {
        capture_tcp(h, ip.payload, ip.payload_len, oasis_ipaddr_v4(ip.src), oasis_ipaddr_v4(ip.dst),
                    ip.tos, ip.ttl, ip.df);
        return 0;
    }
    /* the stack sends no extension headers with TCP */
    if (eth.type == OASIS_ETHERTYPE_IPV6 && !oasis_ipv6_parse(eth.payload, eth.payload_len, &ip6)) {
        if (ip6.next == OASIS_NH_TCP) {
            capture_tcp(h, ip6.payload, ip6.payload_len, oasis_ipaddr_v6(ip6.src.b),
                        oasis_ipaddr_v6(ip6.dst.b), ip6.tclass, ip6.hop_limit, 0);
            return 0;
        }
        if (ip6.next == OASIS_NH_ICMPV6)
            answer_ns(h, &eth, &ip6);
    }
    h->other_frames++;
    return 0;
}

/* The peer announces itself so that the stack's ARP cache (IPv6: its
 * neighbour cache, from an NS with the peer's link address, RFC 4861
 * 7.2.3) knows it. */
static void peer_announce(tcp_harness *h)
{
    if (h->ipv6) {
        uint8_t f[OASIS_ETH_HLEN + OASIS_IPV6_HLEN + 32], ns[32];
        oasis_in6 src = in6(&h->peer), dst = in6(&h->local);
        size_t n = oasis_nd_emit_ns(ns, &dst, PEER_MAC);
        oasis_icmp6_finish(ns, n, OASIS_ICMP6_NS, 0, 0, &src, &dst);
        memcpy(frame6(h, f, PEER_MAC, &src, &dst, OASIS_NH_ICMPV6, 255, 0, n), ns, n);
        oasis_stack_input(h->s, f, OASIS_ETH_HLEN + OASIS_IPV6_HLEN + n);
        return;
    }
    uint8_t f[60];
    oasis_arp_pkt p;
    memset(f, 0, sizeof f);
    memset(&p, 0, sizeof p);
    p.op = OASIS_ARP_REQUEST;
    memcpy(p.sha, PEER_MAC, 6);
    p.spa = TH_PEER;
    p.tpa = TH_LOCAL;
    oasis_eth_emit(f, oasis_stack_mac(h->s), PEER_MAC, OASIS_ETHERTYPE_ARP);
    oasis_arp_emit(f + OASIS_ETH_HLEN, &p);
    oasis_stack_input(h->s, f, sizeof f);
}

static void init(tcp_harness *h, const oasis_tcp_config *tcfg, int ipv6, oasis_alloc_fn alloc,
                 void *ud)
{
    static const oasis_ipaddr local6 = {OASIS_AF_INET6, TH_LOCAL6};
    static const oasis_ipaddr peer6 = {OASIS_AF_INET6, TH_PEER6};
    memset(h, 0, sizeof *h);
    h->ipv6 = ipv6;
    h->local = ipv6 ? local6 : oasis_ipaddr_v4(TH_LOCAL);
    h->peer = ipv6 ? peer6 : oasis_ipaddr_v4(TH_PEER);
    h->clock = oasis_clock_new_virtual(TH_START_NS);
    assert_non_null(h->clock);
    oasis_stack_config cfg;
    test_stack_config(&cfg, h->clock, 1);
    cfg.arp_gratuitous = 0;
    cfg.ipv6 = ipv6;
    cfg.dad_transmits = 0; /* the address is ours at once */
    if (alloc) {
        cfg.alloc = alloc;
        cfg.alloc_ud = ud;
    }
    if (tcfg)
        cfg.tcp = *tcfg;
    assert_int_equal(oasis_stack_create(&cfg, &h->s), 0);
    h->link.send = link_send;
    h->link.mtu = 1500;
    h->link.data = h;
    oasis_stack_set_link(h->s, &h->link);
    if (ipv6)
        assert_int_equal(oasis_ipv6_add_addr(h->s, &h->local, 64), 0);
    peer_announce(h);
    th_poll(h);
    th_clear(h);
}

void th_init(tcp_harness *h, const oasis_tcp_config *tcfg) { init(h, tcfg, 0, NULL, NULL); }

void th_init_af(tcp_harness *h, const oasis_tcp_config *tcfg, int ipv6)
{
    init(h, tcfg, ipv6, NULL, NULL);
}

void th_init_run(tcp_harness *h, const oasis_tcp_config *tcfg, int ipv6)
{
    init(h, tcfg, ipv6, NULL, NULL);
    if (ipv6) {
        h->link.mtu = 1520;
        assert_int_equal(oasis_stack_set_mtu(h->s, 1520), 0);
    }
}

void th_init_alloc(tcp_harness *h, const oasis_tcp_config *tcfg, oasis_alloc_fn alloc, void *ud)
{
    init(h, tcfg, 0, alloc, ud);
}

void th_fini(tcp_harness *h)
{
    oasis_stack_destroy(h->s);
    th_clear(h);
    free(h->q);
    oasis_clock_free(h->clock);
}

oasis_tcp_hdr th_seg(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack)
{
    oasis_tcp_hdr s;
    memset(&s, 0, sizeof s);
    s.src_port = sport;
    s.dst_port = dport;
    s.flags = flags;
    s.seq = seq;
    s.ack = ack;
    s.window = 65535;
    return s;
}

uint64_t th_pseudo_addr(const tcp_harness *h, const oasis_ipaddr *src, const oasis_ipaddr *dst,
                        size_t len)
{
    if (!h->ipv6)
        return oasis_csum_pseudo(oasis_ipaddr_to_v4(src), oasis_ipaddr_to_v4(dst),
                                 OASIS_IPPROTO_TCP, (uint16_t)len);
    oasis_in6 s6 = in6(src), d6 = in6(dst);
    return oasis_ipv6_pseudo_sum(&s6, &d6, (uint32_t)len, OASIS_NH_TCP);
}

uint64_t th_pseudo(const tcp_harness *h, size_t len)
{
    return th_pseudo_addr(h, &h->peer, &h->local, len);
}

void th_send_addr(tcp_harness *h, const oasis_ipaddr *src, const oasis_ipaddr *dst,
                  const uint8_t *seg, size_t n, uint8_t ecn)
{
    if (!h->ipv6) {
        oasis_tcp_input4_ecn(h->s, oasis_ipaddr_to_v4(src), oasis_ipaddr_to_v4(dst), seg, n, ecn);
        return;
    }
    uint8_t *f = calloc(1, OASIS_ETH_HLEN + OASIS_IPV6_HLEN + n);
    assert_non_null(f);
    oasis_in6 s6 = in6(src), d6 = in6(dst);
    memcpy(frame6(h, f, PEER_MAC, &s6, &d6, OASIS_NH_TCP, 64, ecn, n), seg, n);
    if (oasis_in6_is_multicast(&d6))
        oasis_in6_multicast_mac(&d6, f); /* the frame's destination */
    oasis_stack_input(h->s, f, OASIS_ETH_HLEN + OASIS_IPV6_HLEN + n);
    free(f);
}

void th_send(tcp_harness *h, const uint8_t *seg, size_t n, uint8_t ecn)
{
    th_send_addr(h, &h->peer, &h->local, seg, n, ecn);
}

void th_inject(tcp_harness *h, const oasis_tcp_hdr *seg)
{
    size_t hl = OASIS_TCP_HLEN + oasis_tcp_options_len(seg);
    size_t n = hl + seg->payload_len;
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    if (seg->payload_len)
        memcpy(buf + hl, seg->payload, seg->payload_len);
    oasis_tcp_emit_ps(buf, seg, oasis_csum_add(0, buf + hl, seg->payload_len), th_pseudo(h, n));
    th_send(h, buf, n, 0);
    free(buf);
}

int th_pop(tcp_harness *h, oasis_tcp_hdr *out)
{
    while (h->qlen == 0 && deliver_reply(h)) {
        /* the stack was waiting for ARP or ND: answered now */
    }
    if (h->qlen == 0)
        return 0;
    th_frame *f = &h->q[h->qhead];
    h->qhead = (h->qhead + 1) % h->qcap;
    h->qlen--;
    assert_true(f->len <= sizeof h->last);
    memcpy(h->last, f->data, f->len);
    h->last_tos = f->tos;
    h->last_ttl = f->ttl;
    h->last_df = f->df;
    assert_true(oasis_ipaddr_eq(&f->src, &h->local));
    assert_true(oasis_ipaddr_eq(&f->dst, &h->peer));
    /* the pseudo-header's sum does not depend on which address is the source */
    int err = oasis_tcp_parse_sum(h->last, f->len, th_pseudo(h, f->len), 1, out);
    free(f->data);
    assert_int_equal(err, 0);
    return 1;
}

size_t th_pending(const tcp_harness *h) { return h->qlen; }

void th_clear(tcp_harness *h)
{
    while (h->qlen) {
        free(h->q[h->qhead].data);
        h->qhead = (h->qhead + 1) % h->qcap;
        h->qlen--;
    }
}

void th_poll(tcp_harness *h)
{
    while (deliver_reply(h)) {
    }
    oasis_stack_poll(h->s);
}

void th_run_until(tcp_harness *h, uint64_t t)
{
    th_poll(h);
    for (;;) {
        uint64_t d = oasis_stack_next_deadline(h->s);
        if (d > t)
            break;
        if (d > oasis_clock_now(h->clock))
            oasis_clock_set(h->clock, d);
        th_poll(h);
    }
    oasis_clock_set(h->clock, t);
    th_poll(h);
}

void th_advance(tcp_harness *h, uint64_t delta_ns) { th_run_until(h, th_now(h) + delta_ns); }

uint64_t th_now(const tcp_harness *h) { return oasis_clock_now(h->clock); }

const oasis_tcp_counters *th_ctr(const tcp_harness *h) { return &oasis_stack_counters(h->s)->tcp; }

/* ---- recording application ---- */

void th_app_init(th_app *a) { memset(a, 0, sizeof *a); }

void th_app_fini(th_app *a)
{
    free(a->rx);
    a->rx = NULL;
}

void th_accept_cb(oasis_stack *s, oasis_flow *flow, void *ud)
{
    th_app *a = ud;
    a->flow = flow;
    a->accepted++;
}

void th_connect_cb(oasis_stack *s, oasis_flow *flow, int err, void *ud)
{
    th_app *a = ud;
    a->flow = flow;
    a->connected++;
    a->connect_err = err;
}

void th_read_cb(oasis_flow *flow, int err, const uint8_t *data, size_t len, void *ud)
{
    th_app *a = ud;
    a->reads++;
    if (err == OASIS_EOF) {
        a->eof++;
        return;
    }
    if (err) {
        a->read_err = err;
        return;
    }
    assert_true(len > 0);
    test_append(&a->rx, &a->rx_len, &a->rx_cap, data, len);
    if (a->auto_read)
        assert_int_equal(oasis_tcp_read(flow, th_read_cb, a), 0);
}

void th_write_cb(oasis_flow *flow, int err, void *ud)
{
    th_app *a = ud;
    a->writes_done++;
    if (err)
        a->write_err = err;
}

void th_close_cb(oasis_flow *flow, int err, void *ud)
{
    th_app *a = ud;
    a->closed++;
    a->close_err = err;
    a->flow = NULL;
    oasis_tcp_release(flow);
}

uint32_t th_open_passive(tcp_harness *h, th_app *a, uint16_t port, const oasis_tcp_hdr *syn)
{
    assert_int_equal(oasis_tcp_listen(h->s, port, NULL, th_accept_cb, a), 0);
    oasis_tcp_hdr s = syn ? *syn : th_seg(TH_PPORT, port, OASIS_TCP_SYN, TH_PISN, 0);
    th_inject(h, &s);
    oasis_tcp_hdr r;
    assert_true(th_pop(h, &r));
    assert_int_equal(r.flags, OASIS_TCP_SYN | OASIS_TCP_ACK);
    assert_int_equal(r.ack, s.seq + 1);
    oasis_tcp_hdr ack = th_seg(TH_PPORT, port, OASIS_TCP_ACK, s.seq + 1, r.seq + 1);
    if (s.has_ts && r.has_ts) {
        ack.has_ts = 1;
        ack.ts_val = s.ts_val + 1;
        ack.ts_ecr = r.ts_val;
    }
    th_inject(h, &ack);
    th_poll(h);
    assert_int_equal(a->accepted, 1);
    assert_non_null(a->flow);
    return r.seq;
}

uint32_t th_open_active(tcp_harness *h, th_app *a, uint16_t port, uint16_t *lport)
{
    assert_int_equal(oasis_tcp_connect(h->s, &h->peer, port, NULL, th_connect_cb, a), 0);
    th_poll(h);
    oasis_tcp_hdr r;
    assert_true(th_pop(h, &r));
    assert_int_equal(r.flags, OASIS_TCP_SYN);
    assert_int_equal(r.dst_port, port);
    oasis_tcp_hdr sa = th_seg(port, r.src_port, OASIS_TCP_SYN | OASIS_TCP_ACK, TH_PISN, r.seq + 1);
    th_inject(h, &sa);
    oasis_tcp_hdr ack;
    assert_true(th_pop(h, &ack));
    assert_int_equal(ack.flags, OASIS_TCP_ACK);
    assert_int_equal(ack.ack, TH_PISN + 1);
    th_poll(h);
    assert_int_equal(a->connected, 1);
    assert_int_equal(a->connect_err, 0);
    *lport = r.src_port;
    return r.seq;
}

/* The first 8 bytes of seg's TCP header: all an ICMP error must quote. */
static void quote_tcp(uint8_t *p, const oasis_tcp_hdr *seg)
{
    oasis_put16(p, seg->src_port);
    oasis_put16(p + 2, seg->dst_port);
    oasis_put32(p + 4, seg->seq);
}

static void icmp6(tcp_harness *h, uint8_t type, uint8_t code, uint32_t rest,
                  const oasis_tcp_hdr *seg, size_t seg_len)
{
    static const oasis_in6 router = {TH_ROUTER6};
    uint8_t frame[OASIS_ETH_HLEN + OASIS_IPV6_HLEN + 8 + OASIS_IPV6_HLEN + 8];
    oasis_in6 local = in6(&h->local), peer = in6(&h->peer);
    memset(frame, 0, sizeof frame);
    uint8_t *m = frame6(h, frame, ROUTER_MAC, &router, &local, OASIS_NH_ICMPV6, 64, 0, 8 + 48);
    ip6_hdr(m + 8, &local, &peer, OASIS_NH_TCP, 64, 0, seg_len);
    quote_tcp(m + 8 + OASIS_IPV6_HLEN, seg);
    oasis_icmp6_finish(m, 8 + 48, type, code, rest, &router, &local);
    oasis_stack_input(h->s, frame, sizeof frame);
}

void th_icmp6_from(tcp_harness *h, const uint8_t *mac, const oasis_in6 *src, const oasis_in6 *dst,
                   const uint8_t *msg, size_t n)
{
    uint8_t frame[OASIS_ETH_HLEN + OASIS_IPV6_HLEN + 256];
    assert_true(n >= 8 && n <= 256);
    uint8_t *m = frame6(h, frame, mac, src, dst, OASIS_NH_ICMPV6, 255, 0, n);
    memcpy(m, msg, n);
    oasis_icmp6_finish(m, n, msg[0], msg[1], oasis_get32(msg + 4), src, dst);
    oasis_stack_input(h->s, frame, OASIS_ETH_HLEN + OASIS_IPV6_HLEN + n);
}

void th_icmp(tcp_harness *h, uint8_t type, uint8_t code, uint32_t rest, const oasis_tcp_hdr *seg,
             size_t seg_len)
{
    if (h->ipv6) {
        icmp6(h, type, code, rest, seg, seg_len);
        return;
    }
    uint8_t frame[OASIS_ETH_HLEN + OASIS_IPV4_HLEN + 8 + 28];
    uint8_t *ip = frame + OASIS_ETH_HLEN, *icmp = ip + OASIS_IPV4_HLEN, *q = icmp + 8;
    memset(frame, 0, sizeof frame);
    oasis_eth_emit(frame, oasis_stack_mac(h->s), ROUTER_MAC, OASIS_ETHERTYPE_IPV4);
    /* the quote */
    q[0] = 0x45;
    oasis_put16(q + 2, (uint16_t)(20 + seg_len));
    q[6] = 0x40; /* DF */
    q[8] = 64;
    q[9] = OASIS_IPPROTO_TCP;
    oasis_put32(q + 12, TH_LOCAL);
    oasis_put32(q + 16, TH_PEER);
    quote_tcp(q + 20, seg);
    oasis_icmp_emit(icmp, 8 + 28, type, code, rest);
    oasis_ipv4_hdr ih;
    memset(&ih, 0, sizeof ih);
    ih.total_len = (uint16_t)(OASIS_IPV4_HLEN + 8 + 28);
    ih.ttl = 64;
    ih.proto = OASIS_IPPROTO_ICMP;
    ih.src = TH_ROUTER;
    ih.dst = TH_LOCAL;
    oasis_ipv4_emit(ip, &ih);
    oasis_stack_input(h->s, frame, sizeof frame);
}
