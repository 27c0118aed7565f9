/* IPv4's direct path to TCP (ipv4.c tcp_direct): a plain datagram to our
 * address goes straight to TCP. Each test feeds a frame the direct path
 * must either take with the general path's counts, or leave to the
 * general path, which drops and counts it (or reassembles it, or hands it
 * to a handler the application registered). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/checksum.h"
#include "ip/ipv4_wire.h"
#include "link/eth_wire.h"
#include "oasis/oasis.h"
#include "tcp/tcp_wire.h"
#include "testutil.h"

#define LOCAL OASIS_IPV4(10, 0, 0, 1)
#define PEER OASIS_IPV4(10, 0, 0, 2)
static const uint8_t LOCAL_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t PEER_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};

typedef struct fx {
    oasis_clock *clock;
    oasis_stack *s;
    oasis_link link;
    uint64_t tx;  /* frames the stack sent */
    int handled;  /* segments an application's TCP handler saw */
    size_t handled_len;
} fx;

static int link_send(oasis_link *l, const uint8_t *frame, size_t len)
{
    (void)frame, (void)len;
    ((fx *)l->data)->tx++;
    return 0;
}

static void accept_cb(oasis_stack *s, oasis_flow *f, void *ud) { (void)s, (void)f, (void)ud; }

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    assert_non_null(x);
    x->clock = oasis_clock_new_virtual(1000 * OASIS_NS_PER_SEC);
    oasis_stack_config cfg;
    test_stack_config(&cfg, x->clock, 1);
    cfg.arp_gratuitous = 0;
    assert_int_equal(oasis_stack_create(&cfg, &x->s), 0);
    x->link.send = link_send;
    x->link.mtu = 1500;
    x->link.data = x;
    oasis_stack_set_link(x->s, &x->link);
    assert_int_equal(oasis_tcp_listen(x->s, 80, NULL, accept_cb, NULL), 0);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fx *x = *state;
    oasis_stack_destroy(x->s);
    oasis_clock_free(x->clock);
    free(x);
    return 0;
}

/* The datagram's shape; the defaults make one the direct path takes. */
typedef struct dgram {
    uint32_t src, dst;
    uint8_t tos;
    uint16_t id;
    uint16_t frag;     /* flags and offset field as sent */
    uint8_t opt_words; /* options, in 4-byte words: NOPs, or EOLs (zero bytes) */
    int opt_eol;
    int bad_ip_csum, bad_tcp_csum;
    int total_delta;   /* added to the total length field (after the checksum of TCP) */
    size_t pad;        /* link padding after the datagram */
} dgram;

static dgram plain(void) { return (dgram){.src = PEER, .dst = LOCAL}; }

/* A SYN to port 80 (a listener) in Ethernet and IPv4 as d says; the TCP
 * checksum is right for d's addresses unless bad_tcp_csum. */
static size_t build(uint8_t *f, const dgram *d)
{
    oasis_eth_emit(f, LOCAL_MAC, PEER_MAC, OASIS_ETHERTYPE_IPV4);
    uint8_t *ip = f + OASIS_ETH_HLEN;
    size_t ihl = OASIS_IPV4_HLEN + 4u * d->opt_words;
    uint8_t *l4 = ip + ihl;
    oasis_tcp_hdr h;
    memset(&h, 0, sizeof h);
    h.src_port = 40000;
    h.dst_port = 80;
    h.seq = 1000;
    h.flags = OASIS_TCP_SYN;
    h.window = 65535;
    h.has_ts = 1; /* NOP, NOP, TS: the layout TCP reads directly */
    h.ts_val = 5;
    size_t tlen = oasis_tcp_emit(l4, &h, 0, d->src, d->dst);
    if (d->bad_tcp_csum)
        l4[16] ^= 0x40;
    uint16_t total = (uint16_t)(ihl + tlen + d->total_delta);
    ip[0] = (uint8_t)(0x40 | ihl / 4);
    ip[1] = d->tos;
    ip[2] = (uint8_t)(total >> 8);
    ip[3] = (uint8_t)total;
    ip[4] = (uint8_t)(d->id >> 8);
    ip[5] = (uint8_t)d->id;
    ip[6] = (uint8_t)(d->frag >> 8);
    ip[7] = (uint8_t)d->frag;
    ip[8] = 64;
    ip[9] = OASIS_IPPROTO_TCP;
    ip[10] = ip[11] = 0;
    for (int i = 0; i < 4; i++) {
        ip[12 + i] = (uint8_t)(d->src >> (24 - 8 * i));
        ip[16 + i] = (uint8_t)(d->dst >> (24 - 8 * i));
    }
    memset(ip + OASIS_IPV4_HLEN, d->opt_eol ? 0 : 1, ihl - OASIS_IPV4_HLEN);
    uint16_t sum = oasis_csum(ip, ihl);
    if (d->bad_ip_csum)
        sum ^= 0x0100;
    memcpy(ip + 10, &sum, 2);
    memset(l4 + tlen, 0xee, d->pad);
    return OASIS_ETH_HLEN + ihl + tlen + d->pad;
}

/* Feeds the frame in a buffer of exactly its size (ASan sees any read
 * past it). */
static void feed(fx *x, const dgram *d)
{
    uint8_t f[256];
    size_t len = build(f, d);
    uint8_t *b = malloc(len);
    assert_non_null(b);
    memcpy(b, f, len);
    oasis_stack_input(x->s, b, len);
    free(b);
}

static const oasis_counters *ctr(const fx *x) { return oasis_stack_counters(x->s); }

/* The direct path counts what the general one would: received, delivered,
 * its ECN field, one TCP segment; the listener answers. */
static void test_taken_and_counted(void **state)
{
    fx *x = *state;
    oasis_counters c0 = *ctr(x);
    dgram d = plain();
    d.tos = 2; /* ECT(0) */
    d.frag = 0x4000; /* DF: still a plain datagram */
    feed(x, &d);
    const oasis_counters *c = ctr(x);
    assert_int_equal(c->ip.in_receives, c0.ip.in_receives + 1);
    assert_int_equal(c->ip.in_delivers, c0.ip.in_delivers + 1);
    assert_int_equal(c->ip.in_ect0_pkts, c0.ip.in_ect0_pkts + 1);
    assert_int_equal(c->ip.in_noect_pkts, c0.ip.in_noect_pkts);
    assert_int_equal(c->tcp.in_segs, c0.tcp.in_segs + 1);
    assert_int_equal(c->tcp.in_errs + c->tcp.in_csum_errors,
                     c0.tcp.in_errs + c0.tcp.in_csum_errors);
    assert_int_equal(c->tcp.out_segs, c0.tcp.out_segs + 1); /* the SYN-ACK */
}

/* Each ECN field (RFC 3168 5) counts in its own counter, and only there. */
static void test_each_ecn_field_counted(void **state)
{
    fx *x = *state;
    for (uint8_t ecn = 0; ecn < 4; ecn++) {
        oasis_ip_counters c0 = ctr(x)->ip;
        dgram d = plain();
        d.tos = (uint8_t)(0x28 | ecn); /* a DSCP beside it changes nothing */
        feed(x, &d);
        const oasis_ip_counters *c = &ctr(x)->ip;
        assert_int_equal(c->in_delivers, c0.in_delivers + 1);
        assert_int_equal(c->in_noect_pkts, c0.in_noect_pkts + (ecn == OASIS_ECN_NOT_ECT));
        assert_int_equal(c->in_ect1_pkts, c0.in_ect1_pkts + (ecn == OASIS_ECN_ECT1));
        assert_int_equal(c->in_ect0_pkts, c0.in_ect0_pkts + (ecn == OASIS_ECN_ECT0));
        assert_int_equal(c->in_ce_pkts, c0.in_ce_pkts + (ecn == OASIS_ECN_CE));
    }
}

/* The counter at byte offset off of the stack's counters. */
static uint64_t counter_at(const fx *x, size_t off)
{
    uint64_t v;
    memcpy(&v, (const uint8_t *)ctr(x) + off, sizeof v);
    return v;
}
#define AT(field) offsetof(oasis_counters, field)

/* A drop the general path counts at `off`; TCP never sees the segment. */
static void expect_ip_drop(fx *x, const dgram *d, size_t off)
{
    oasis_counters c0 = *ctr(x);
    uint64_t before = counter_at(x, off);
    feed(x, d);
    const oasis_counters *c = ctr(x);
    assert_int_equal(counter_at(x, off), before + 1);
    assert_int_equal(c->ip.in_receives, c0.ip.in_receives + 1);
    assert_int_equal(c->ip.in_delivers, c0.ip.in_delivers);
    assert_int_equal(c->tcp.in_segs, c0.tcp.in_segs);
    assert_int_equal(x->tx, 0);
}

static void test_bad_header_checksum(void **state)
{
    fx *x = *state;
    dgram d = plain();
    d.bad_ip_csum = 1;
    expect_ip_drop(x, &d, AT(ip.in_csum_errors));
}

/* RFC 1122 3.2.1.3: sources no host may use, each with a TCP checksum
 * right for it (TCP alone would take 127/8, our subnet's network address
 * and our own address). */
static void test_martian_sources(void **state)
{
    fx *x = *state;
    static const uint32_t srcs[] = {OASIS_IPV4(127, 0, 0, 1), OASIS_IPV4(0, 1, 2, 3),
                                    OASIS_IPV4(10, 0, 0, 0), OASIS_IPV4(10, 0, 0, 255), LOCAL,
                                    OASIS_IPV4(240, 0, 0, 1)};
    for (size_t i = 0; i < sizeof srcs / sizeof srcs[0]; i++) {
        dgram d = plain();
        d.src = srcs[i];
        expect_ip_drop(x, &d, AT(ip.in_martians));
    }
}

/* A source the direct path took is judged again under a new netmask:
 * 10.0.0.3 is a host of 10.0.0.0/24 but the broadcast address of
 * 10.0.0.0/30. */
static void test_martian_after_new_netmask(void **state)
{
    fx *x = *state;
    oasis_counters c0 = *ctr(x);
    dgram d = plain();
    d.src = OASIS_IPV4(10, 0, 0, 3);
    feed(x, &d);
    assert_int_equal(ctr(x)->ip.in_delivers, c0.ip.in_delivers + 1);
    assert_int_equal(oasis_stack_set_ipv4(x->s, LOCAL, 30, 0), 0);
    x->tx = 0;
    expect_ip_drop(x, &d, AT(ip.in_martians));
}

/* Not our address (our MAC, another host's IP): not for us. */
static void test_other_destination(void **state)
{
    fx *x = *state;
    dgram d = plain();
    d.dst = OASIS_IPV4(10, 0, 0, 7);
    expect_ip_drop(x, &d, AT(ip.in_addr_errors));
}

/* A total length past the frame, or under the header. */
static void test_lying_lengths(void **state)
{
    fx *x = *state;
    dgram d = plain();
    d.total_delta = 1;
    expect_ip_drop(x, &d, AT(ip.in_truncated));
    d.total_delta = -33; /* 20 + 32 of TCP: a total of 19 */
    expect_ip_drop(x, &d, AT(ip.in_hdr_errors));
}

/* The reserved flag (RFC 791) is malformed whatever else is right. */
static void test_reserved_flag(void **state)
{
    fx *x = *state;
    dgram d = plain();
    d.frag = 0x8000;
    expect_ip_drop(x, &d, AT(ip.in_hdr_errors));
}

/* Link padding after the datagram is not TCP's: the segment is the total
 * length's, its checksum right. */
static void test_link_padding(void **state)
{
    fx *x = *state;
    oasis_counters c0 = *ctr(x);
    dgram d = plain();
    d.pad = 7;
    feed(x, &d);
    const oasis_counters *c = ctr(x);
    assert_int_equal(c->ip.in_delivers, c0.ip.in_delivers + 1);
    assert_int_equal(c->tcp.in_segs, c0.tcp.in_segs + 1);
    assert_int_equal(c->tcp.in_csum_errors, c0.tcp.in_csum_errors);
    assert_int_equal(c->tcp.out_segs, c0.tcp.out_segs + 1);
}

/* A bad TCP checksum is IP's delivery and TCP's drop. */
static void test_bad_segment_checksum(void **state)
{
    fx *x = *state;
    oasis_counters c0 = *ctr(x);
    dgram d = plain();
    d.bad_tcp_csum = 1;
    feed(x, &d);
    const oasis_counters *c = ctr(x);
    assert_int_equal(c->ip.in_delivers, c0.ip.in_delivers + 1);
    assert_int_equal(c->tcp.in_csum_errors, c0.tcp.in_csum_errors + 1);
    assert_int_equal(x->tx, 0);
}

/* Options take the general path and arrive all the same. */
static void test_options_delivered(void **state)
{
    fx *x = *state;
    oasis_counters c0 = *ctr(x);
    dgram d = plain();
    d.opt_words = 2;
    feed(x, &d);
    const oasis_counters *c = ctr(x);
    assert_int_equal(c->ip.in_delivers, c0.ip.in_delivers + 1);
    assert_int_equal(c->tcp.in_segs, c0.tcp.in_segs + 1);
    assert_int_equal(c->tcp.out_segs, c0.tcp.out_segs + 1);
}

/* End-of-list options are zero bytes: the header's first 20 bytes sum as
 * the whole header does, so only the header length tells the options from
 * the segment. */
static void test_zero_options_delivered(void **state)
{
    fx *x = *state;
    oasis_counters c0 = *ctr(x);
    dgram d = plain();
    d.opt_words = 2;
    d.opt_eol = 1;
    feed(x, &d);
    const oasis_counters *c = ctr(x);
    assert_int_equal(c->ip.in_delivers, c0.ip.in_delivers + 1);
    assert_int_equal(c->tcp.in_segs, c0.tcp.in_segs + 1);
    assert_int_equal(c->tcp.in_csum_errors, c0.tcp.in_csum_errors);
    assert_int_equal(c->tcp.out_segs, c0.tcp.out_segs + 1);
}

/* A fragment is reassembly's, never a segment of its own: a first
 * fragment (MF) and a later one (an offset) are held, not delivered. */
static void test_fragments_held(void **state)
{
    fx *x = *state;
    static const uint16_t frags[] = {0x2000, 0x0001, 0x4000 | 0x0001};
    for (size_t i = 0; i < sizeof frags / sizeof frags[0]; i++) {
        oasis_counters c0 = *ctr(x);
        dgram d = plain();
        d.frag = frags[i];
        d.id = (uint16_t)(100 + i); /* three datagrams, not pieces of one */
        feed(x, &d);
        const oasis_counters *c = ctr(x);
        assert_int_equal(c->ip.reasm_reqds, c0.ip.reasm_reqds + 1);
        assert_int_equal(c->ip.in_delivers, c0.ip.in_delivers);
        assert_int_equal(c->tcp.in_segs, c0.tcp.in_segs);
    }
    assert_int_equal(x->tx, 0);
}

static void app_tcp(oasis_stack *s, const oasis_ip_packet *pkt, void *ud)
{
    (void)s;
    fx *x = ud;
    x->handled++;
    x->handled_len = pkt->len;
}

/* Without a TCP handler a segment is an unknown protocol's; with an
 * application's own, that handler gets it, not the built-in TCP. */
static void test_registered_handler(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_ip_unregister(x->s, OASIS_IPPROTO_TCP), 0);
    oasis_counters c0 = *ctr(x);
    dgram d = plain();
    feed(x, &d);
    assert_int_equal(ctr(x)->ip.in_unknown_protos, c0.ip.in_unknown_protos + 1);
    assert_int_equal(ctr(x)->tcp.in_segs, c0.tcp.in_segs);
    assert_int_equal(oasis_ip_register(x->s, OASIS_IPPROTO_TCP, app_tcp, NULL, x), 0);
    x->tx = 0; /* the protocol unreachable */
    c0 = *ctr(x);
    feed(x, &d);
    assert_int_equal(x->handled, 1);
    assert_int_equal(x->handled_len, 32);
    assert_int_equal(ctr(x)->tcp.in_segs, c0.tcp.in_segs);
    assert_int_equal(ctr(x)->ip.in_delivers, c0.ip.in_delivers + 1);
    assert_int_equal(x->tx, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_taken_and_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_ecn_field_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_header_checksum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_martian_sources, setup, teardown),
        cmocka_unit_test_setup_teardown(test_martian_after_new_netmask, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_destination, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lying_lengths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserved_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_padding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_segment_checksum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_options_delivered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_options_delivered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fragments_held, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registered_handler, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
