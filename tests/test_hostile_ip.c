/* Hostile-input catalogue (issue 8), below TCP state: whole frames fed to
 * oasis_stack_input. Truncation at every length of every header, bad
 * checksums at every layer, header lengths that lie. Each test checks that
 * the frame is dropped (nothing sent, nothing delivered), that exactly one
 * drop counter of the right layer rises, and that the stack keeps no memory
 * for it (counting allocator).
 *
 * Bounded floods are tested elsewhere: ARP cache and ARP queue bounds in
 * test_arp.c (test_cache_size_bound, test_queue_bound), fragment floods in
 * test_ipv4.c (test_reasm_memory_bound, test_reasm_datagram_bound). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arp/arp_wire.h"
#include "core/checksum.h"
#include "icmp/icmp_wire.h"
#include "ip/ipv4_wire.h"
#include "link/eth_wire.h"
#include "oasis/oasis.h"
#include "tcp/tcp_wire.h"
#include "countalloc.h"
#include "testutil.h"
#include "udp/udp_wire.h"

#define LOCAL OASIS_IPV4(10, 0, 0, 1)
#define PEER OASIS_IPV4(10, 0, 0, 2)
static const uint8_t PEER_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};


typedef struct fx {
    oasis_clock *clock;
    oasis_stack *s;
    oasis_link link;
    test_counting mem;
    uint64_t tx;      /* frames the stack sent */
    int udp_rx;       /* datagrams delivered to the bound port */
} fx;

static int link_send(oasis_link *l, const uint8_t *frame, size_t len)
{
    fx *x = l->data;
    (void)frame;
    (void)len;
    x->tx++;
    return 0;
}

static void udp_cb(oasis_stack *s, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                   const uint8_t *d, size_t n, void *ud)
{
    (void)s, (void)src, (void)sport, (void)dst, (void)dport, (void)d, (void)n;
    ((fx *)ud)->udp_rx++;
}

static void accept_cb(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s, (void)f, (void)ud;
}

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    assert_non_null(x);
    x->clock = oasis_clock_new_virtual(1000 * OASIS_NS_PER_SEC);
    oasis_stack_config cfg;
    test_stack_config(&cfg, x->clock, 1);
    cfg.arp_gratuitous = 0;
    cfg.alloc = test_count_alloc;
    cfg.alloc_ud = &x->mem;
    assert_int_equal(oasis_stack_create(&cfg, &x->s), 0);
    x->link.send = link_send;
    x->link.mtu = 1500;
    x->link.data = x;
    oasis_stack_set_link(x->s, &x->link);
    assert_int_equal(oasis_udp_bind4(x->s, 7, udp_cb, x), 0);
    assert_int_equal(oasis_tcp_listen(x->s, 80, NULL, accept_cb, NULL), 0);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fx *x = *state;
    oasis_stack_destroy(x->s);
    assert_int_equal(x->mem.live, 0);
    oasis_clock_free(x->clock);
    free(x);
    return 0;
}

/* Every counter that means "dropped as malformed" at some layer. */
static uint64_t drops(const oasis_stack *s)
{
    const oasis_counters *c = oasis_stack_counters(s);
    /* (Checksum errors are in each layer's error counter too, as the MIB
     * and Linux count them: test_bad_checksums.) */
    return c->link.rx_malformed + c->arp.rx_malformed + c->ip.in_hdr_errors +
           c->ip.in_truncated + c->icmp.in_errors + c->udp.in_errors + c->tcp.in_errs;
}

/* ---- frame builders: Ethernet + IPv4 (20 bytes) + l4 ---- */

static size_t ip_frame(uint8_t *f, uint8_t proto, const uint8_t *l4, size_t l4len)
{
    static const uint8_t local_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
    oasis_eth_emit(f, local_mac, PEER_MAC, OASIS_ETHERTYPE_IPV4);
    oasis_ipv4_hdr ip;
    memset(&ip, 0, sizeof ip);
    ip.total_len = (uint16_t)(20 + l4len);
    ip.id = 1;
    ip.ttl = 64;
    ip.proto = proto;
    ip.src = PEER;
    ip.dst = LOCAL;
    oasis_ipv4_emit(f + OASIS_ETH_HLEN, &ip);
    memcpy(f + OASIS_ETH_HLEN + 20, l4, l4len);
    return OASIS_ETH_HLEN + 20 + l4len;
}

static size_t icmp_echo(uint8_t *l4)
{
    memset(l4, 0xab, 24);
    oasis_icmp_emit(l4, 24, OASIS_ICMP_ECHO, 0, 0x12340001);
    return 24;
}

static size_t udp_dgram(uint8_t *l4)
{
    memset(l4, 0xcd, 20);
    oasis_udp_emit(l4, 20, 5000, 7, PEER, LOCAL);
    return 20;
}

static size_t tcp_syn(uint8_t *l4)
{
    oasis_tcp_hdr h;
    memset(&h, 0, sizeof h);
    h.src_port = 40000;
    h.dst_port = 80;
    h.seq = 1000;
    h.flags = OASIS_TCP_SYN;
    h.window = 65535;
    h.has_mss = 1;
    h.mss = 1460;
    h.has_ts = 1;
    h.ts_val = 5;
    return oasis_tcp_emit(l4, &h, 0, PEER, LOCAL);
}

static size_t arp_request(uint8_t *f)
{
    oasis_arp_pkt p;
    memset(&p, 0, sizeof p);
    p.op = OASIS_ARP_REQUEST;
    memcpy(p.sha, PEER_MAC, 6);
    p.spa = PEER;
    p.tpa = LOCAL;
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    oasis_eth_emit(f, bcast, PEER_MAC, OASIS_ETHERTYPE_ARP);
    oasis_arp_emit(f + OASIS_ETH_HLEN, &p);
    return OASIS_ETH_HLEN + 28;
}

/* Feeds len bytes of f in a buffer of exactly that size (ASan sees any
 * read past it) and runs due timers. */
static void feed(fx *x, const uint8_t *f, size_t len)
{
    uint8_t *b = malloc(len ? len : 1);
    assert_non_null(b);
    memcpy(b, f, len);
    oasis_stack_input(x->s, b, len);
    free(b);
    oasis_stack_poll(x->s);
}

/* Feeds one bad frame and checks: exactly one drop counted, nothing sent,
 * nothing delivered, no memory kept. */
static void expect_dropped(fx *x, const uint8_t *f, size_t len)
{
    uint64_t d0 = drops(x->s), tx0 = x->tx;
    const oasis_counters *c = oasis_stack_counters(x->s);
    uint64_t deliv0 = c->ip.in_delivers, arp0 = c->arp.rx_requests;
    size_t live0 = x->mem.live;
    int udp0 = x->udp_rx;
    feed(x, f, len);
    assert_int_equal(drops(x->s), d0 + 1);
    assert_int_equal(x->tx, tx0);
    assert_int_equal(c->arp.rx_requests, arp0);
    assert_int_equal(x->udp_rx, udp0);
    (void)deliv0;
    assert_int_equal(x->mem.live, live0);
}

/* ---- truncation ---- */

/* Each frame cut at every length below its own: the cut lands in the
 * Ethernet header, the IP header, the transport header or the payload;
 * the IP total length then exceeds the frame (in_truncated) or a header is
 * short. Frames are kept over 60 bytes so a cut is never mere padding. */
static void test_truncated_frames(void **state)
{
    fx *x = *state;
    uint8_t f[4][128], l4[64];
    size_t n[4];
    n[0] = ip_frame(f[0], OASIS_IPPROTO_ICMP, l4, icmp_echo(l4));
    n[1] = ip_frame(f[1], OASIS_IPPROTO_UDP, l4, udp_dgram(l4));
    n[2] = ip_frame(f[2], OASIS_IPPROTO_TCP, l4, tcp_syn(l4));
    n[3] = arp_request(f[3]);
    for (int i = 0; i < 4; i++)
        for (size_t len = 0; len < n[i]; len++)
            expect_dropped(x, f[i], len);
    /* The whole frames are fine (the drops above were the cuts' doing). */
    uint64_t tx0 = x->tx;
    feed(x, f[3], n[3]);
    assert_int_equal(x->tx, tx0 + 1); /* ARP reply */
    feed(x, f[1], n[1]);
    assert_int_equal(x->udp_rx, 1);
    feed(x, f[0], n[0]);
    assert_int_equal(x->tx, tx0 + 2); /* echo reply */
}

/* Cut at every length of the transport header and payload with an IP header
 * that agrees (total length and checksum rewritten): the transport layer
 * itself must see the short header and count it. */
static void test_truncated_transport_consistent_ip(void **state)
{
    fx *x = *state;
    uint8_t l4[64], f[128];
    size_t (*mk[3])(uint8_t *) = {icmp_echo, udp_dgram, tcp_syn};
    const uint8_t proto[3] = {OASIS_IPPROTO_ICMP, OASIS_IPPROTO_UDP, OASIS_IPPROTO_TCP};
    const oasis_counters *c = oasis_stack_counters(x->s);
    for (int i = 0; i < 3; i++) {
        size_t full = mk[i](l4);
        for (size_t k = 0; k < full; k++) {
            /* (the error counters include checksum errors) */
            uint64_t l4drops = c->icmp.in_errors + c->udp.in_errors + c->tcp.in_errs;
            size_t len = ip_frame(f, proto[i], l4, k);
            expect_dropped(x, f, len < 60 ? 60 : len); /* padded as on a real link */
            assert_int_equal(c->icmp.in_errors + c->udp.in_errors + c->tcp.in_errs, l4drops + 1);
        }
    }
}

/* ---- checksums ---- */

static void test_bad_checksums(void **state)
{
    fx *x = *state;
    uint8_t f[128], l4[64];
    const oasis_counters *c = oasis_stack_counters(x->s);
    size_t n;

    n = ip_frame(f, OASIS_IPPROTO_ICMP, l4, icmp_echo(l4));
    f[OASIS_ETH_HLEN + 10] ^= 0x01; /* IP header checksum */
    expect_dropped(x, f, n);
    assert_int_equal(c->ip.in_csum_errors, 1);
    assert_int_equal(c->ip.in_hdr_errors, 1); /* "including bad checksums" (RFC 1213) */

    n = ip_frame(f, OASIS_IPPROTO_ICMP, l4, icmp_echo(l4));
    f[n - 1] ^= 0x40; /* ICMP payload: the echo checksum no longer holds */
    expect_dropped(x, f, n);
    assert_int_equal(c->icmp.in_csum_errors, 1);
    assert_int_equal(c->icmp.in_errors, 1); /* "bad ICMP checksums" (RFC 1213) */
    assert_int_equal(c->icmp.in_echos, 0); /* no reply to a corrupt echo */

    n = ip_frame(f, OASIS_IPPROTO_UDP, l4, udp_dgram(l4));
    f[n - 1] ^= 0x40;
    expect_dropped(x, f, n);
    assert_int_equal(c->udp.in_csum_errors, 1);
    assert_int_equal(c->udp.in_errors, 1); /* as UDP over IPv6 and Linux count it */

    n = ip_frame(f, OASIS_IPPROTO_TCP, l4, tcp_syn(l4));
    f[OASIS_ETH_HLEN + 20 + 4] ^= 0x40; /* sequence number */
    expect_dropped(x, f, n);
    assert_int_equal(c->tcp.in_csum_errors, 1);
    assert_int_equal(c->tcp.in_errs, 1); /* "e.g., bad TCP checksums" (RFC 4022) */
}

/* ---- header lengths that lie ---- */

static void rewrite_ip(uint8_t *f, uint8_t vihl, uint16_t total)
{
    uint8_t *ip = f + OASIS_ETH_HLEN;
    ip[0] = vihl;
    ip[2] = (uint8_t)(total >> 8);
    ip[3] = (uint8_t)total;
    ip[10] = ip[11] = 0;
    uint16_t sum = oasis_csum(ip, 20);
    memcpy(ip + 10, &sum, 2); /* native order, as oasis_csum gives it */
}

static void test_ihl_lies(void **state)
{
    fx *x = *state;
    uint8_t f[128], l4[64];
    const oasis_counters *c = oasis_stack_counters(x->s);
    size_t n = ip_frame(f, OASIS_IPPROTO_UDP, l4, udp_dgram(l4));
    uint16_t total = (uint16_t)(n - OASIS_ETH_HLEN);
    /* IHL 0..4: shorter than the fixed header. */
    for (uint8_t ihl = 0; ihl < 5; ihl++) {
        rewrite_ip(f, (uint8_t)(0x40 | ihl), total);
        expect_dropped(x, f, n);
    }
    /* IHL 15 (60 bytes) beyond a 40-byte datagram; IHL 11 with a total
     * length smaller than the header. */
    rewrite_ip(f, 0x4f, total);
    expect_dropped(x, f, n);
    rewrite_ip(f, 0x4b, 40);
    expect_dropped(x, f, n);
    /* Total length shorter than IHL says, and version 6 with IHL 5. */
    rewrite_ip(f, 0x45, 19);
    expect_dropped(x, f, n);
    rewrite_ip(f, 0x65, total);
    expect_dropped(x, f, n);
    assert_int_equal(c->udp.in_datagrams, 0);
    assert_int_equal(x->udp_rx, 0);
    assert_int_equal(c->ip.in_csum_errors, 0); /* dropped for the lie itself */
}

static void rewrite_tcp_doff(uint8_t *l4, size_t len, uint8_t doff)
{
    l4[12] = (uint8_t)(doff << 4);
    l4[16] = l4[17] = 0;
    uint64_t sum = oasis_csum_pseudo(PEER, LOCAL, OASIS_IPPROTO_TCP, (uint16_t)len);
    uint16_t cs = oasis_csum_fold(oasis_csum_add(sum, l4, len));
    memcpy(l4 + 16, &cs, 2); /* native order, as oasis_csum gives it */
}

static void test_tcp_data_offset_lies(void **state)
{
    fx *x = *state;
    uint8_t f[128], l4[64];
    const oasis_counters *c = oasis_stack_counters(x->s);
    size_t l4len = tcp_syn(l4);
    /* Data offset 0..4 (under 20 bytes) and 9..15 (past a 32-byte segment),
     * each with a valid checksum so only the offset is wrong. */
    for (uint8_t doff = 0; doff < 16; doff++) {
        if (doff >= 5 && doff * 4 <= (int)l4len)
            continue;
        rewrite_tcp_doff(l4, l4len, doff);
        size_t n = ip_frame(f, OASIS_IPPROTO_TCP, l4, l4len);
        uint64_t e0 = c->tcp.in_errs;
        expect_dropped(x, f, n);
        assert_int_equal(c->tcp.in_errs, e0 + 1);
    }
    assert_int_equal(c->tcp.out_segs, 0); /* no SYN-ACK, no RST */
    assert_int_equal(c->tcp.in_csum_errors, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_truncated_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_transport_consistent_ip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_checksums, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ihl_lies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_data_offset_lies, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
