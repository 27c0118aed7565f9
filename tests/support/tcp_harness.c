#include "tcp_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arp/arp_wire.h"
#include "core/bytes.h"
#include "icmp/icmp_wire.h"
#include "ip/ipv4_wire.h"
#include "link/eth_wire.h"
#include "testutil.h"

static const uint8_t PEER_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t ROUTER_MAC[6] = {0x02, 0, 0, 0, 0, 0xfe};

static void capture_tcp(tcp_harness *h, const oasis_ipv4_hdr *ip)
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
    f->data = malloc(ip->payload_len ? ip->payload_len : 1);
    assert_non_null(f->data);
    memcpy(f->data, ip->payload, ip->payload_len);
    f->len = ip->payload_len;
    f->src = ip->src;
    f->dst = ip->dst;
    f->tos = ip->tos;
    f->ttl = ip->ttl;
    f->df = ip->df;
    h->qlen++;
}

static void answer_arp(tcp_harness *h, const oasis_eth_hdr *eth)
{
    oasis_arp_pkt req, rep;
    if (oasis_arp_parse(eth->payload, eth->payload_len, &req) || req.op != OASIS_ARP_REQUEST ||
        req.tpa != TH_PEER)
        return;
    h->arp_requests++;
    if (memcmp(eth->dst, PEER_MAC, 6) == 0)
        h->arp_unicast++;
    if (h->arp_mute)
        return;
    memset(&rep, 0, sizeof rep);
    rep.op = OASIS_ARP_REPLY;
    memcpy(rep.sha, PEER_MAC, 6);
    rep.spa = TH_PEER;
    memcpy(rep.tha, req.sha, 6);
    rep.tpa = req.spa;
    memset(h->arp_reply, 0, sizeof h->arp_reply);
    oasis_eth_emit(h->arp_reply, req.sha, PEER_MAC, OASIS_ETHERTYPE_ARP);
    oasis_arp_emit(h->arp_reply + OASIS_ETH_HLEN, &rep);
    h->arp_pending = 1;
}

static int link_send(oasis_link *link, const uint8_t *frame, size_t len)
{
    tcp_harness *h = link->data;
    oasis_eth_hdr eth;
    oasis_ipv4_hdr ip;
    if (oasis_eth_parse(frame, len, &eth))
        return 0;
    if (eth.type == OASIS_ETHERTYPE_ARP) {
        answer_arp(h, &eth);
        return 0;
    }
    if (eth.type == OASIS_ETHERTYPE_IPV4 && !oasis_ipv4_parse(eth.payload, eth.payload_len, &ip) &&
        ip.proto == OASIS_IPPROTO_TCP) {
        capture_tcp(h, &ip);
        return 0;
    }
    h->other_frames++;
    return 0;
}

/* The peer announces itself so that the stack's ARP cache knows it. */
static void peer_announce(tcp_harness *h)
{
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

void th_init(tcp_harness *h, const oasis_tcp_config *tcfg)
{
    memset(h, 0, sizeof *h);
    h->clock = oasis_clock_new_virtual(TH_START_NS);
    assert_non_null(h->clock);
    oasis_stack_config cfg;
    test_stack_config(&cfg, h->clock, 1);
    cfg.arp_gratuitous = 0;
    if (tcfg)
        cfg.tcp = *tcfg;
    assert_int_equal(oasis_stack_create(&cfg, &h->s), 0);
    h->link.send = link_send;
    h->link.mtu = 1500;
    h->link.data = h;
    oasis_stack_set_link(h->s, &h->link);
    peer_announce(h);
    th_poll(h);
    th_clear(h);
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

void th_inject(tcp_harness *h, const oasis_tcp_hdr *seg)
{
    size_t hl = OASIS_TCP_HLEN + oasis_tcp_options_len(seg);
    size_t n = hl + seg->payload_len;
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    if (seg->payload_len)
        memcpy(buf + hl, seg->payload, seg->payload_len);
    oasis_tcp_emit(buf, seg, seg->payload_len, TH_PEER, TH_LOCAL);
    oasis_tcp_input4(h->s, TH_PEER, TH_LOCAL, buf, n);
    free(buf);
}

int th_pop(tcp_harness *h, oasis_tcp_hdr *out)
{
    while (h->qlen == 0 && h->arp_pending) {
        h->arp_pending = 0; /* the stack was waiting for ARP: answer now */
        oasis_stack_input(h->s, h->arp_reply, 60);
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
    assert_int_equal(f->src, TH_LOCAL);
    assert_int_equal(f->dst, TH_PEER);
    int err = oasis_tcp_parse(h->last, f->len, f->src, f->dst, 1, out);
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
    while (h->arp_pending) {
        h->arp_pending = 0;
        oasis_stack_input(h->s, h->arp_reply, 60);
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
    assert_int_equal(oasis_tcp_connect4(h->s, TH_PEER, port, NULL, th_connect_cb, a), 0);
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

void th_init_alloc(tcp_harness *h, const oasis_tcp_config *tcfg, oasis_alloc_fn alloc, void *ud)
{
    memset(h, 0, sizeof *h);
    h->clock = oasis_clock_new_virtual(TH_START_NS);
    assert_non_null(h->clock);
    oasis_stack_config cfg;
    test_stack_config(&cfg, h->clock, 1);
    cfg.arp_gratuitous = 0;
    cfg.alloc = alloc;
    cfg.alloc_ud = ud;
    if (tcfg)
        cfg.tcp = *tcfg;
    assert_int_equal(oasis_stack_create(&cfg, &h->s), 0);
    h->link.send = link_send;
    h->link.mtu = 1500;
    h->link.data = h;
    oasis_stack_set_link(h->s, &h->link);
    peer_announce(h);
    th_poll(h);
    th_clear(h);
}

void th_icmp(tcp_harness *h, uint8_t type, uint8_t code, uint32_t rest, const oasis_tcp_hdr *seg,
             size_t seg_len)
{
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
    oasis_put16(q + 20, seg->src_port);
    oasis_put16(q + 22, seg->dst_port);
    oasis_put32(q + 24, seg->seq);
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
