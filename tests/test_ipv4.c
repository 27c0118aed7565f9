/* IPv4: input validation (each drop counted), routing, fragmentation on
 * output, reassembly (in order, reversed, overlapping, duplicated, timeout,
 * memory bounds). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "arp/arp_wire.h"
#include "core/bytes.h"
#include "core/checksum.h"
#include "core/pbuf.h"
#include "core/siphash.h"
#include "core/stack_impl.h"
#include "icmp/icmp_wire.h"
#include "ip/ipv4.h"
#include "ip/ipv4_wire.h"
#include "link/eth_wire.h"
#include "oasis/error.h"
#include "oasis/ip.h"
#include "oasis/udp.h"
#include "caplink.h"
#include "testutil.h"
#include "udp/udp_wire.h"

#define MAXF 256

/* What the bound UDP port received last. */
typedef struct rx {
    int count;
    size_t len;
    uint8_t data[70000];
} rx;

typedef struct fx {
    oasis_clock *clock;
    oasis_stack *s;
    test_cap cap;
    rx rx;
} fx;

static const uint8_t MAC_US[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t MAC_PEER[6] = {2, 0, 0, 0, 0, 2};
#define US OASIS_IPV4(10, 0, 0, 1)
#define PEER OASIS_IPV4(10, 0, 0, 2)
#define PORT 5000

static void on_recv(oasis_stack *s, uint32_t src, uint16_t sp, uint32_t dst, uint16_t dp,
                    const uint8_t *d, size_t n, void *ud)
{
    (void)s, (void)src, (void)sp, (void)dst, (void)dp;
    rx *r = ud;
    r->count++;
    r->len = n;
    memcpy(r->data, d, n);
}

static fx *fx_new(void (*tweak)(oasis_stack_config *))
{
    fx *f = test_calloc(1, sizeof *f);
    oasis_stack_config cfg;
    f->clock = oasis_clock_new_virtual(1000 * OASIS_NS_PER_SEC);
    test_stack_config(&cfg, f->clock, 1);
    cfg.arp_gratuitous = 0;
    if (tweak)
        tweak(&cfg);
    assert_int_equal(oasis_stack_create(&cfg, &f->s), 0);
    test_cap_attach(&f->cap, f->s, MAXF, 1500);
    assert_int_equal(oasis_udp_bind4(f->s, PORT, on_recv, &f->rx), 0);
    return f;
}

static void fx_free(fx *f)
{
    oasis_stack_destroy(f->s);
    test_cap_fini(&f->cap);
    oasis_clock_free(f->clock);
    test_free(f);
}

static const oasis_ip_counters *ipc(const fx *f) { return &oasis_stack_counters(f->s)->ip; }

/* Teaches the stack PEER's MAC (so its answers are not held by ARP). */
static void learn_peer(fx *f)
{
    test_learn_peer4(f->s, MAC_US, US, MAC_PEER, PEER);
}

/* Teaches the stack any neighbour's MAC with a request aimed at us. */
static void learn(fx *f, uint32_t ip, const uint8_t mac[6])
{
    test_learn_peer4(f->s, MAC_US, US, mac, ip);
}

/* The IP ID of the last captured frame. */
static uint16_t last_id(const fx *f)
{
    oasis_eth_hdr eh;
    oasis_ipv4_hdr h;
    assert_true(f->cap.n > 0);
    assert_int_equal(oasis_eth_parse(f->cap.frame[f->cap.n - 1], f->cap.len[f->cap.n - 1], &eh), 0);
    assert_int_equal(oasis_ipv4_parse(eh.payload, eh.payload_len, &h), 0);
    return h.id;
}

/* Writes an Ethernet + IPv4 frame from PEER to us; returns its length. */
static size_t mk_frame(uint8_t *frame, uint8_t proto, uint16_t id, int mf, uint16_t off,
                       const uint8_t *pl, size_t n)
{
    oasis_ipv4_hdr h;
    memset(&h, 0, sizeof h);
    h.total_len = (uint16_t)(OASIS_IPV4_HLEN + n);
    h.id = id;
    h.mf = (uint8_t)mf;
    h.frag_off = off;
    h.ttl = 64;
    h.proto = proto;
    h.src = PEER;
    h.dst = US;
    oasis_eth_emit(frame, MAC_US, MAC_PEER, OASIS_ETHERTYPE_IPV4);
    oasis_ipv4_emit(frame + OASIS_ETH_HLEN, &h);
    memcpy(frame + OASIS_ETH_HLEN + OASIS_IPV4_HLEN, pl, n);
    return OASIS_ETH_HLEN + OASIS_IPV4_HLEN + n;
}

/* A UDP datagram to PORT with payload bytes (i * 7 + seed). */
static size_t mk_udp(uint8_t *dg, size_t payload, uint8_t seed)
{
    for (size_t i = 0; i < payload; i++)
        dg[OASIS_UDP_HLEN + i] = (uint8_t)(i * 7 + seed);
    oasis_udp_emit(dg, OASIS_UDP_HLEN + payload, 4000, PORT, PEER, US);
    return OASIS_UDP_HLEN + payload;
}

static void send_frag(fx *f, uint16_t id, const uint8_t *dg, size_t dglen, size_t off, size_t n)
{
    static uint8_t frame[1600];
    int mf = off + n < dglen;
    size_t len = mk_frame(frame, OASIS_IPPROTO_UDP, id, mf, (uint16_t)off, dg + off, n);
    oasis_stack_input(f->s, frame, len);
}

static void assert_received(const fx *f, const uint8_t *dg, size_t dglen)
{
    assert_int_equal(f->rx.len, dglen - OASIS_UDP_HLEN);
    assert_memory_equal(f->rx.data, dg + OASIS_UDP_HLEN, dglen - OASIS_UDP_HLEN);
}

/* ---- validation ---- */

static void fix_csum(uint8_t *ip)
{
    size_t hlen = (size_t)(ip[0] & 0xf) * 4;
    ip[10] = ip[11] = 0;
    uint16_t c = oasis_csum(ip, hlen);
    memcpy(ip + 10, &c, 2);
}

static void test_validation_drops_counted(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    uint8_t dg[64], frame[128], bad[128];
    size_t dglen = mk_udp(dg, 10, 1);
    size_t len = mk_frame(frame, OASIS_IPPROTO_UDP, 1, 0, 0, dg, dglen);
    uint8_t *ip;

    oasis_stack_input(f->s, frame, len);
    assert_int_equal(f->rx.count, 1);
    assert_int_equal(ipc(f)->in_delivers, 1);

    /* Link padding after the datagram is trimmed, not delivered. */
    memcpy(bad, frame, len);
    memset(bad + len, 0xee, 20);
    oasis_stack_input(f->s, bad, len + 20);
    assert_int_equal(f->rx.count, 2);
    assert_int_equal(f->rx.len, 10);

#define MUTATE(stmt)                                                                               \
    do {                                                                                           \
        memcpy(bad, frame, len);                                                                   \
        ip = bad + OASIS_ETH_HLEN;                                                                 \
        stmt;                                                                                      \
    } while (0)

    MUTATE(ip[0] = 0x65; fix_csum(ip)); /* version 6 */
    oasis_stack_input(f->s, bad, len);
    assert_int_equal(ipc(f)->in_hdr_errors, 1);

    MUTATE(ip[0] = 0x44; fix_csum(ip)); /* IHL 4 */
    oasis_stack_input(f->s, bad, len);
    assert_int_equal(ipc(f)->in_hdr_errors, 2);

    MUTATE(ip[3] += 40; fix_csum(ip)); /* total length beyond the frame */
    oasis_stack_input(f->s, bad, len);
    assert_int_equal(ipc(f)->in_truncated, 1);

    oasis_stack_input(f->s, frame, OASIS_ETH_HLEN + 12); /* shorter than a header */
    assert_int_equal(ipc(f)->in_truncated, 2);

    MUTATE(ip[10] ^= 0x55); /* header checksum */
    oasis_stack_input(f->s, bad, len);
    assert_int_equal(ipc(f)->in_csum_errors, 1);
    assert_int_equal(ipc(f)->in_hdr_errors, 3); /* bad checksums count here too (RFC 1213) */

    /* A host never drops a datagram for its TTL (RFC 1122 3.2.1.7). */
    MUTATE(ip[8] = 0; fix_csum(ip)); /* TTL 0 */
    oasis_stack_input(f->s, bad, len);
    assert_int_equal(f->rx.count, 3);
    MUTATE(ip[8] = 1; fix_csum(ip)); /* TTL 1 */
    oasis_stack_input(f->s, bad, len);
    assert_int_equal(f->rx.count, 4);
    assert_int_equal(ipc(f)->in_hdr_errors, 3);

    MUTATE(ip[19] = 77; fix_csum(ip)); /* not our address */
    oasis_stack_input(f->s, bad, len);
    assert_int_equal(ipc(f)->in_addr_errors, 1);

    /* Martian sources (RFC 1122 3.2.1.3), each dropped and counted. */
    static const uint32_t martians[] = {
        0xffffffffu,              /* limited broadcast */
        OASIS_IPV4(224, 0, 0, 1), /* multicast */
        OASIS_IPV4(127, 0, 0, 1), /* loopback */
        US,                       /* our own address */
        OASIS_IPV4(0, 0, 0, 0),   /* "this host" */
        OASIS_IPV4(0, 1, 2, 3),   /* "this network" */
        OASIS_IPV4(240, 0, 0, 1), /* reserved, class E */
        OASIS_IPV4(10, 0, 0, 0),  /* our subnet's network address */
        OASIS_IPV4(10, 0, 0, 255),/* our subnet's broadcast */
    };
    for (size_t i = 0; i < sizeof martians / sizeof martians[0]; i++) {
        MUTATE(oasis_put32(ip + 12, martians[i]); fix_csum(ip));
        oasis_stack_input(f->s, bad, len);
        assert_int_equal(ipc(f)->in_martians, i + 1);
    }
    assert_int_equal(ipc(f)->in_addr_errors, 1);

    assert_int_equal(f->rx.count, 4);
    assert_int_equal(ipc(f)->in_receives, 19);
    assert_int_equal(ipc(f)->in_delivers, 4);

    /* A datagram to the subnet broadcast is ours. */
    MUTATE(ip[19] = 255; fix_csum(ip));
    /* the UDP checksum covers dst: send it without one */
    bad[OASIS_ETH_HLEN + OASIS_IPV4_HLEN + 6] = bad[OASIS_ETH_HLEN + OASIS_IPV4_HLEN + 7] = 0;
    oasis_stack_input(f->s, bad, len);
    assert_int_equal(f->rx.count, 5);
#undef MUTATE
    fx_free(f);
}

/* RFC 1122 3.3.6: a datagram for our unicast address that came in a link
 * broadcast or multicast frame is silently discarded (counted as an address
 * error); IP broadcasts in link broadcasts are ours as ever. */
static void test_unicast_in_link_broadcast_dropped(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    uint8_t dg[64], frame[128];
    size_t dglen = mk_udp(dg, 10, 1);
    size_t len = mk_frame(frame, OASIS_IPPROTO_UDP, 1, 0, 0, dg, dglen);
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
    memcpy(frame, bcast, 6);
    oasis_stack_input(f->s, frame, len);
    memcpy(frame, mcast, 6);
    oasis_stack_input(f->s, frame, len);
    assert_int_equal(f->rx.count, 0);
    assert_int_equal(ipc(f)->in_addr_errors, 2);
    /* The subnet broadcast (no UDP checksum: it covers the address). */
    memcpy(frame, bcast, 6);
    uint8_t *ip = frame + OASIS_ETH_HLEN;
    ip[19] = 255;
    fix_csum(ip);
    ip[OASIS_IPV4_HLEN + 6] = ip[OASIS_IPV4_HLEN + 7] = 0;
    oasis_stack_input(f->s, frame, len);
    assert_int_equal(f->rx.count, 1);
    /* And our own MAC again: delivered. */
    len = mk_frame(frame, OASIS_IPPROTO_UDP, 2, 0, 0, dg, dglen);
    oasis_stack_input(f->s, frame, len);
    assert_int_equal(f->rx.count, 2);
    assert_int_equal(ipc(f)->in_addr_errors, 2);
    fx_free(f);
}

/* RFC 1122 3.3.6: the limited and the subnet-directed broadcast are ours;
 * 3.2.1.3's classful forms ({net,-1}, {net,-1,-1}) and the 4.2BSD zero
 * forms (the subnet's network address, 0.0.0.0) are not: to a CIDR host
 * they name no broadcast (RFC 1812 4.2.3.1: discard the zero forms). */
static void test_broadcast_forms(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    uint8_t dg[64], frame[128];
    size_t dglen = mk_udp(dg, 10, 1);
    size_t len = mk_frame(frame, OASIS_IPPROTO_UDP, 1, 0, 0, dg, dglen);
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t *ip = frame + OASIS_ETH_HLEN;
    memcpy(frame, bcast, 6);
    ip[OASIS_IPV4_HLEN + 6] = ip[OASIS_IPV4_HLEN + 7] = 0; /* no UDP checksum */
    static const struct {
        uint32_t dst;
        int ours;
    } forms[] = {
        {0xffffffffu, 1},                /* limited */
        {OASIS_IPV4(10, 0, 0, 255), 1},  /* subnet-directed (10.0.0.0/24) */
        {OASIS_IPV4(10, 255, 255, 255), 0}, /* class A directed, all-subnets */
        {OASIS_IPV4(10, 0, 0, 0), 0},    /* zero form of the subnet's */
        {0, 0},                          /* zero form of the limited */
        {OASIS_IPV4(127, 0, 0, 1), 0},   /* loopback, from the wire (3.2.1.3 g) */
    };
    int delivered = 0;
    uint64_t addr_errors = 0;
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        oasis_put32(ip + 16, forms[i].dst);
        fix_csum(ip);
        oasis_stack_input(f->s, frame, len);
        delivered += forms[i].ours;
        addr_errors += !forms[i].ours;
        assert_int_equal(f->rx.count, delivered);
        assert_int_equal(ipc(f)->in_addr_errors, addr_errors);
    }
    fx_free(f);
}

/* What the protocol-99 handler saw of the IP header's options. */
typedef struct seen_opts {
    int calls;
    size_t len;
    uint8_t first;
} seen_opts;

static void opts_input(oasis_stack *s, const oasis_ip_packet *pkt, void *ud)
{
    (void)s;
    seen_opts *o = ud;
    const oasis_ipv4_hdr *h = pkt->net;
    o->calls++;
    o->len = h->options_len;
    o->first = h->options_len ? h->options[0] : 0;
}

/* RFC 1122 3.2.1.8: the options received (but NOP and EOL) go up with the
 * datagram, to the transport or ICMP; Oasis hands every protocol the
 * parsed header, options included. A record route option here. */
static void test_options_passed_up(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    seen_opts o = {0};
    assert_int_equal(oasis_ip_register(f->s, 99, opts_input, NULL, &o), 0);
    static const uint8_t rr[8] = {7, 7, 4, 0, 0, 0, 0, 0};
    uint8_t pl[4] = {1, 2, 3, 4};
    uint8_t frame[128];
    size_t len = mk_frame(frame, 99, 3, 0, 0, pl, sizeof pl);
    uint8_t *ip = frame + OASIS_ETH_HLEN;
    memmove(ip + 28, ip + 20, sizeof pl);
    memcpy(ip + 20, rr, sizeof rr);
    ip[0] = 0x47;
    oasis_put16(ip + 2, 28 + sizeof pl);
    fix_csum(ip);
    oasis_stack_input(f->s, frame, len + sizeof rr);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.len, 8);
    assert_int_equal(o.first, 7);
    fx_free(f);
}

/* ---- IP IDs (RFC 6864) ---- */

/* Item 9 of issue 11: with one global counter, the IDs a prober sees jump
 * by exactly the number of datagrams sent to anyone else (idle scan). Per
 * bucket counters: the prober's IDs move by one per datagram to it, however
 * much goes elsewhere at the same instant. */
static void test_ip_id_reveals_no_other_traffic(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    static const uint8_t mac_other[6] = {2, 0, 0, 0, 0, 3};
    const uint32_t other = OASIS_IPV4(10, 0, 0, 3);
    learn(f, PEER, MAC_PEER);
    learn(f, other, mac_other);
    uint8_t b = 0;
    assert_int_equal(oasis_udp_send4(f->s, PORT, PEER, 9, &b, 1), 0);
    uint16_t id1 = last_id(f);
    for (int i = 0; i < 50; i++)
        assert_int_equal(oasis_udp_send4(f->s, PORT, other, 9, &b, 1), 0);
    uint16_t o1 = last_id(f);
    assert_int_equal(oasis_udp_send4(f->s, PORT, PEER, 9, &b, 1), 0);
    uint16_t id2 = last_id(f);
    assert_int_equal((uint16_t)(id2 - id1), 1);
    assert_int_not_equal((uint16_t)(o1 - id1), 50);
    /* After a pause a bucket jumps by a random amount, not by one. */
    int jumped = 0;
    for (int i = 0; i < 20; i++) {
        oasis_clock_advance(f->clock, 100 * OASIS_NS_PER_MS);
        uint16_t before = last_id(f);
        assert_int_equal(oasis_udp_send4(f->s, PORT, PEER, 9, &b, 1), 0);
        jumped += (uint16_t)(last_id(f) - before) != 1;
    }
    assert_true(jumped > 0);
    fx_free(f);
}

/* Parses the last captured frame's IPv4 header. */
static void last_hdr(const fx *f, oasis_ipv4_hdr *h)
{
    oasis_eth_hdr eh;
    assert_true(f->cap.n > 0);
    assert_int_equal(oasis_eth_parse(f->cap.frame[f->cap.n - 1], f->cap.len[f->cap.n - 1], &eh), 0);
    assert_int_equal(oasis_ipv4_parse(eh.payload, eh.payload_len, h), 0);
}

static void ttl_9(oasis_stack_config *c) { c->ttl = 9; }

/* RFC 1122 3.2.1.7: never TTL 0; a fixed TTL is configurable (64 by
 * default). 3.2.1.6: TOS 0 unless the transport sets one. 3.2.1.3: the
 * source is our address. RFC 791: version 4, a 20-byte header, a valid
 * checksum (parse checks it). RFC 6864: a datagram that may be fragmented
 * (UDP, DF clear) carries an ID the next one to the same host does not. */
static void test_header_fields_on_send(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    oasis_ipv4_hdr h;
    learn_peer(f);
    uint8_t b = 0;
    assert_int_equal(oasis_udp_send4(f->s, PORT, PEER, 9, &b, 1), 0);
    last_hdr(f, &h);
    assert_int_equal(h.hdr_len, 20);
    assert_int_equal(h.ttl, 64);
    assert_int_equal(h.tos, 0);
    assert_int_equal(h.df, 0);
    assert_int_equal(h.src, US);
    uint16_t id = h.id;
    assert_int_equal(oasis_udp_send4(f->s, PORT, PEER, 9, &b, 1), 0);
    last_hdr(f, &h);
    assert_int_not_equal(h.id, id);
    fx_free(f);

    f = fx_new(ttl_9);
    learn_peer(f);
    assert_int_equal(oasis_udp_send4(f->s, PORT, PEER, 9, &b, 1), 0);
    last_hdr(f, &h);
    assert_int_equal(h.ttl, 9);
    fx_free(f);
}

/* ---- output: routing, fragmentation, DF ---- */

static void test_no_route_and_gateway(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    uint8_t x = 0;
    assert_int_equal(oasis_udp_send4(f->s, 1, OASIS_IPV4(192, 168, 1, 1), 2, &x, 1), OASIS_ENOROUTE);
    assert_int_equal(ipc(f)->out_no_routes, 1);
    /* Ourselves and 127/8 go through loopback, never onto the link. */
    assert_int_equal(oasis_udp_send4(f->s, 1, US, 2, &x, 1), 0);
    assert_int_equal(oasis_udp_send4(f->s, 1, OASIS_IPV4(127, 0, 0, 1), 2, &x, 1), 0);
    assert_int_equal(ipc(f)->out_no_routes, 1);
    assert_int_equal(ipc(f)->loop_tx_packets, 2);
    assert_int_equal(f->cap.n, 0);
    fx_free(f);
}

static void with_gateway(oasis_stack_config *c) { c->gateway = OASIS_IPV4(10, 0, 0, 254); }

static void test_gateway_is_next_hop(void **state)
{
    (void)state;
    fx *f = fx_new(with_gateway);
    uint8_t x = 0;
    oasis_eth_hdr eh;
    oasis_arp_pkt p;
    assert_int_equal(oasis_ipv4_route(f->s, OASIS_IPV4(8, 8, 8, 8)), OASIS_IPV4(10, 0, 0, 254));
    assert_int_equal(oasis_ipv4_route(f->s, PEER), PEER);
    assert_int_equal(oasis_udp_send4(f->s, 1, OASIS_IPV4(8, 8, 8, 8), 2, &x, 1), 0);
    assert_int_equal(f->cap.n, 1);
    assert_int_equal(oasis_eth_parse(f->cap.frame[0], f->cap.len[0], &eh), 0);
    assert_int_equal(oasis_arp_parse(eh.payload, eh.payload_len, &p), 0);
    assert_int_equal(p.tpa, OASIS_IPV4(10, 0, 0, 254));
    fx_free(f);
}

/* Sends one UDP byte to dst; returns the frame it put on the link (1) as
 * the ARP target it asked for, or 0xffffffff for a datagram to the
 * Ethernet broadcast address. */
static uint32_t sent_towards(fx *f, uint32_t dst)
{
    uint8_t x = 0;
    size_t n = f->cap.n;
    assert_int_equal(oasis_udp_send4(f->s, 1, dst, 2, &x, 1), 0);
    assert_int_equal(f->cap.n, n + 1);
    oasis_eth_hdr eh;
    assert_int_equal(oasis_eth_parse(f->cap.frame[n], f->cap.len[n], &eh), 0);
    if (eh.type == OASIS_ETHERTYPE_IPV4) {
        static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        assert_memory_equal(eh.dst, bcast, 6);
        return 0xffffffffu;
    }
    oasis_arp_pkt p;
    assert_int_equal(oasis_arp_parse(eh.payload, eh.payload_len, &p), 0);
    assert_int_equal(p.op, OASIS_ARP_REQUEST);
    return p.tpa;
}

/* Output remembers the last destination's route: a new prefix or gateway
 * must change where the next datagram to the same destination goes. */
static void test_route_follows_prefix_and_gateway(void **state)
{
    (void)state;
    fx *f = fx_new(with_gateway);
    uint32_t far = OASIS_IPV4(10, 0, 1, 5), gw = OASIS_IPV4(10, 0, 0, 254);
    uint32_t gw2 = OASIS_IPV4(10, 0, 0, 253), gw3 = OASIS_IPV4(10, 0, 0, 252);
    uint32_t b16 = OASIS_IPV4(10, 0, 255, 255);
    /* (each next hop is new: an ARP entry already waiting sends no request) */
    assert_int_equal(sent_towards(f, far), gw);             /* /24: off-link */
    assert_int_equal(oasis_stack_set_ipv4(f->s, US, 24, gw2), 0);
    assert_int_equal(sent_towards(f, far), gw2);            /* another gateway */
    assert_int_equal(oasis_stack_set_ipv4(f->s, US, 16, gw), 0);
    assert_int_equal(sent_towards(f, far), far);            /* /16: on-link */
    assert_int_equal(sent_towards(f, b16), 0xffffffffu);    /* /16's broadcast */
    assert_int_equal(oasis_stack_set_ipv4(f->s, US, 24, gw3), 0);
    assert_int_equal(sent_towards(f, b16), gw3);            /* /24: off-link again */
    assert_int_equal(oasis_stack_set_ipv4(f->s, US, 16, gw3), 0);
    assert_int_equal(sent_towards(f, b16), 0xffffffffu);
    /* No gateway: off-link has no route at all. */
    assert_int_equal(oasis_stack_set_ipv4(f->s, US, 24, 0), 0);
    uint8_t x = 0;
    assert_int_equal(oasis_udp_send4(f->s, 1, b16, 2, &x, 1), OASIS_ENOROUTE);
    fx_free(f);
}

static void check_fragments(const fx *f, size_t first, size_t nfrag, size_t total, uint32_t mtu)
{
    size_t expect_off = 0;
    assert_int_equal(f->cap.n, first + nfrag);
    for (size_t i = 0; i < nfrag; i++) {
        oasis_eth_hdr eh;
        oasis_ipv4_hdr ip;
        assert_int_equal(oasis_eth_parse(f->cap.frame[first + i], f->cap.len[first + i], &eh), 0);
        assert_int_equal(oasis_ipv4_parse(eh.payload, eh.payload_len, &ip), 0);
        assert_true(ip.total_len <= mtu);
        assert_int_equal(ip.frag_off, expect_off);
        assert_int_equal(ip.df, 0);
        assert_int_equal(ip.mf, i + 1 < nfrag);
        if (ip.mf)
            assert_int_equal(ip.payload_len % 8, 0);
        expect_off += ip.payload_len;
    }
    assert_int_equal(expect_off, total);
}

static void test_fragmentation_on_send(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    static uint8_t data[3000];
    learn_peer(f);
    size_t base = f->cap.n; /* the ARP reply */
    assert_int_equal(oasis_udp_send4(f->s, 1, PEER, 2, data, sizeof data), 0);
    /* 3008 bytes of UDP: 1480 + 1480 + 48 */
    check_fragments(f, base, 3, 3008, 1500);
    assert_int_equal(ipc(f)->frag_oks, 1);
    assert_int_equal(ipc(f)->frag_creates, 3);
    fx_free(f);
}

static void small_mtu(oasis_stack_config *c) { c->mtu = 576; }

static void test_fragmentation_small_mtu(void **state)
{
    (void)state;
    fx *f = fx_new(small_mtu);
    static uint8_t data[2000];
    learn_peer(f);
    size_t base = f->cap.n;
    assert_int_equal(oasis_udp_send4(f->s, 1, PEER, 2, data, sizeof data), 0);
    /* 2008 bytes in 552-byte pieces: 552 * 3 + 352 */
    check_fragments(f, base, 4, 2008, 576);
    fx_free(f);
}

static void test_df_too_big(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    learn_peer(f);
    size_t base = f->cap.n;
    oasis_pbuf *p = oasis_pbuf_alloc(f->s, OASIS_PBUF_HEADROOM, 1481);
    assert_non_null(p);
    memset(p->data, 0, p->len);
    assert_int_equal(oasis_ipv4_output(f->s, p, PEER, 253, 1), OASIS_EMSGSIZE);
    assert_int_equal(ipc(f)->frag_fails, 1);
    assert_int_equal(f->cap.n, base);
    /* Exactly the MTU with DF goes out whole, flagged DF. */
    p = oasis_pbuf_alloc(f->s, OASIS_PBUF_HEADROOM, 1480);
    memset(p->data, 0, p->len);
    assert_int_equal(oasis_ipv4_output(f->s, p, PEER, 253, 1), 0);
    assert_int_equal(f->cap.n, base + 1);
    oasis_eth_hdr eh;
    oasis_ipv4_hdr ip;
    assert_int_equal(oasis_eth_parse(f->cap.frame[base], f->cap.len[base], &eh), 0);
    assert_int_equal(oasis_ipv4_parse(eh.payload, eh.payload_len, &ip), 0);
    assert_int_equal(ip.df, 1);
    assert_int_equal(ip.total_len, 1500);
    fx_free(f);
}

/* Two stacks: a big datagram is fragmented by one and reassembled by the
 * other. */
static void test_big_datagram_between_stacks(void **state)
{
    (void)state;
    test_net n;
    static rx r;
    static uint8_t data[60000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 13);
    test_net_init(&n, NULL, NULL);
    memset(&r, 0, sizeof r);
    assert_int_equal(oasis_udp_bind4(n.b, PORT, on_recv, &r), 0);
    assert_int_equal(oasis_udp_send4(n.a, 1, TEST_ADDR_B, PORT, data, sizeof data), 0);
    assert_int_equal(test_net_run_until(&n, &r.count, OASIS_NS_PER_SEC), 0);
    assert_int_equal(r.len, sizeof data);
    assert_memory_equal(r.data, data, sizeof data);
    const oasis_ip_counters *a = &oasis_stack_counters(n.a)->ip, *b = &oasis_stack_counters(n.b)->ip;
    assert_int_equal(a->frag_creates, 41); /* 60008 / 1480 rounded up */
    assert_int_equal(b->reasm_reqds, 41);
    assert_int_equal(b->reasm_oks, 1);
    assert_int_equal(b->reasm_bytes, 0);
    test_net_fini(&n);
}

/* ---- reassembly of hand-built fragments ---- */

static void test_reasm_in_order_and_reversed(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    static uint8_t dg[4008];
    size_t len = mk_udp(dg, 4000, 3);

    for (size_t off = 0; off < len; off += 1000)
        send_frag(f, 10, dg, len, off, len - off < 1000 ? len - off : 1000);
    assert_int_equal(f->rx.count, 1);
    assert_received(f, dg, len);

    memset(&f->rx, 0, sizeof f->rx);
    size_t offs[] = {4000, 3000, 2000, 1000, 0};
    for (size_t i = 0; i < 5; i++)
        send_frag(f, 11, dg, len, offs[i], len - offs[i] < 1000 ? len - offs[i] : 1000);
    assert_int_equal(f->rx.count, 1);
    assert_received(f, dg, len);
    assert_int_equal(ipc(f)->reasm_oks, 2);
    assert_int_equal(ipc(f)->reasm_reqds, 10);
    assert_int_equal(ipc(f)->reasm_bytes, 0);
    assert_int_equal(f->s->ip.reasm.ages.n, 0);
    fx_free(f);
}

static void test_reasm_overlap_and_duplicates(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    static uint8_t dg[1008], other[1008];
    size_t len = mk_udp(dg, 1000, 5);

    /* Overlapping pieces, each twice, out of order. */
    struct { size_t off, n; } pieces[] = {{400, 304}, {0, 408}, {0, 408}, {696, 312}, {200, 504},
                                          {696, 312}, {104, 104}};
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++)
        send_frag(f, 20, dg, len, pieces[i].off, pieces[i].n);
    assert_int_equal(f->rx.count, 1);
    assert_received(f, dg, len);

    /* First data wins: an overlap with different bytes does not rewrite
     * what arrived first. */
    memset(&f->rx, 0, sizeof f->rx);
    static uint8_t plain[1008];
    memcpy(plain, dg, len);
    plain[6] = plain[7] = 0; /* no UDP checksum: the mix would fail it */
    memcpy(other, plain, len);
    memset(other + 200, 0xaa, 400);
    send_frag(f, 21, plain, len, 0, 304);
    send_frag(f, 21, other, len, 200, 496); /* 200..696, overlaps 200..304 */
    send_frag(f, 21, plain, len, 600, 408); /* 600..1008, overlaps 600..696 */
    assert_int_equal(f->rx.count, 1);
    assert_memory_equal(f->rx.data, plain + 8, 296);         /* 8..304: first */
    assert_memory_equal(f->rx.data + 296, other + 304, 392); /* 304..696: the middle one */
    assert_memory_equal(f->rx.data + 688, plain + 696, 312);
    fx_free(f);
}

/* RFC 791: fragments belong together by source, destination, protocol
 * and ID; the same ID from another source or of another protocol is
 * another datagram, and neither corrupts the other. */
/* The hash chain of a UDP datagram from PEER to US with this ID
 * (reasm.c key_hash, with this stack's secret). */
static uint32_t chain_of_id(const fx *f, uint16_t id)
{
    uint8_t k[11];
    oasis_put32(k, PEER);
    oasis_put32(k + 4, US);
    oasis_put16(k + 8, id);
    k[10] = OASIS_IPPROTO_UDP;
    return (uint32_t)oasis_siphash24(f->s->secrets.reasm_key, k, sizeof k) &
           (f->s->ip.reasm.nchains - 1);
}

/* Another ID whose datagram lands on id's chain. */
static uint16_t same_chain_id(const fx *f, uint16_t id)
{
    uint16_t b = (uint16_t)(id + 1);
    while (chain_of_id(f, b) != chain_of_id(f, id))
        b++;
    return b;
}

static void test_reasm_key(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    static uint8_t dg[1008], frame[1600];
    size_t len = mk_udp(dg, 1000, 9);
    send_frag(f, 50, dg, len, 0, 504);
    /* The second half, the same ID, but protocol 99, then from 10.0.0.3. */
    size_t flen = mk_frame(frame, 99, 50, 0, 504, dg + 504, len - 504);
    oasis_stack_input(f->s, frame, flen);
    flen = mk_frame(frame, OASIS_IPPROTO_UDP, 50, 0, 504, dg + 504, len - 504);
    frame[OASIS_ETH_HLEN + 15] = 3; /* source 10.0.0.3 */
    fix_csum(frame + OASIS_ETH_HLEN);
    oasis_stack_input(f->s, frame, flen);
    assert_int_equal(f->rx.count, 0);
    assert_int_equal(f->s->ip.reasm.ages.n, 3);
    send_frag(f, 50, dg, len, 504, len - 504);
    assert_int_equal(f->rx.count, 1);
    assert_received(f, dg, len);
    assert_int_equal(f->s->ip.reasm.ages.n, 2);
    /* Two IDs whose datagrams share a hash chain, interleaved: each
     * datagram keeps its own bytes. */
    uint16_t b = same_chain_id(f, 60);
    static uint8_t dg2[1008];
    size_t len2 = mk_udp(dg2, 1000, 77);
    send_frag(f, 60, dg, len, 0, 504);
    send_frag(f, b, dg2, len2, 0, 504);
    send_frag(f, b, dg2, len2, 504, len2 - 504);
    assert_int_equal(f->rx.count, 2);
    assert_received(f, dg2, len2);
    send_frag(f, 60, dg, len, 504, len - 504);
    assert_int_equal(f->rx.count, 3);
    assert_received(f, dg, len);
    fx_free(f);
}

static void test_reasm_conflicting_length_dropped(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    static uint8_t dg[1008];
    size_t len = mk_udp(dg, 1000, 5);
    send_frag(f, 30, dg, len, 504, 504); /* last, ending at 1008 */
    send_frag(f, 30, dg, 600, 496, 104); /* another "last", ending at 600 */
    assert_int_equal(f->rx.count, 0);
    assert_int_equal(ipc(f)->reasm_fails, 1);
    assert_int_equal(f->s->ip.reasm.ages.n, 0);
    assert_int_equal(ipc(f)->reasm_bytes, 0);
    /* A last fragment that ends before data already held. */
    send_frag(f, 33, dg, len, 504, 248); /* 504..752, more to come */
    send_frag(f, 33, dg, 504, 248, 256); /* "last" ending at 504 */
    assert_int_equal(ipc(f)->reasm_fails, 2);
    assert_int_equal(f->s->ip.reasm.ages.n, 0);

    /* Non-last fragment whose length is not a multiple of 8. */
    send_frag(f, 31, dg, len, 0, 500);
    assert_int_equal(ipc(f)->reasm_fails, 3);
    /* Ping of death: the end beyond 65515 bytes. */
    static uint8_t big[1480];
    size_t flen;
    static uint8_t frame[1600];
    flen = mk_frame(frame, OASIS_IPPROTO_UDP, 32, 0, 65000, big, 1000);
    oasis_stack_input(f->s, frame, flen);
    assert_int_equal(ipc(f)->reasm_fails, 4);
    assert_int_equal(f->rx.count, 0);
    fx_free(f);
}

static void test_reasm_timeout(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    static uint8_t dg[3008];
    size_t len = mk_udp(dg, 3000, 1);
    uint64_t t0 = oasis_stack_now(f->s);

    learn_peer(f);
    size_t base = f->cap.n;
    send_frag(f, 40, dg, len, 0, 1000);
    send_frag(f, 40, dg, len, 2000, len - 2000);
    assert_true(ipc(f)->reasm_bytes >= len - 1000);
    oasis_clock_set(f->clock, t0 + 30 * OASIS_NS_PER_SEC - 1);
    oasis_stack_poll(f->s);
    assert_int_equal(ipc(f)->reasm_timeouts, 0);
    oasis_clock_set(f->clock, t0 + 30 * OASIS_NS_PER_SEC);
    oasis_stack_poll(f->s);
    assert_int_equal(ipc(f)->reasm_timeouts, 1);
    assert_int_equal(ipc(f)->reasm_fails, 1);
    assert_int_equal(ipc(f)->reasm_bytes, 0);
    assert_int_equal(f->s->ip.reasm.ages.n, 0);
    assert_int_equal(f->rx.count, 0);
    /* Fragment 0 had arrived: Time Exceeded, code 1, goes back. */
    assert_int_equal(f->cap.n, base + 1);
    oasis_eth_hdr eh;
    oasis_ipv4_hdr ip;
    oasis_icmp_hdr m;
    assert_int_equal(oasis_eth_parse(f->cap.frame[base], f->cap.len[base], &eh), 0);
    assert_int_equal(oasis_ipv4_parse(eh.payload, eh.payload_len, &ip), 0);
    assert_int_equal(ip.dst, PEER);
    assert_int_equal(oasis_icmp_parse(ip.payload, ip.payload_len, &m), 0);
    assert_int_equal(m.type, OASIS_ICMP_TIME_EXCEEDED);
    assert_int_equal(m.code, 1);
    assert_int_equal(m.payload_len, 28);
    /* The late piece alone starts a new datagram that times out silently. */
    send_frag(f, 40, dg, len, 1000, 1000);
    oasis_clock_advance(f->clock, 30 * OASIS_NS_PER_SEC);
    oasis_stack_poll(f->s);
    assert_int_equal(ipc(f)->reasm_timeouts, 2);
    /* Nothing more but, perhaps, ARP re-verifying the neighbour the Time
     * Exceeded went to (its entry reached its lifetime while in use). */
    for (size_t i = base + 1; i < f->cap.n; i++) {
        assert_int_equal(oasis_eth_parse(f->cap.frame[i], f->cap.len[i], &eh), 0);
        assert_int_equal(eh.type, OASIS_ETHERTYPE_ARP);
    }
    fx_free(f);
}

static void bounded(oasis_stack_config *c)
{
    c->reasm_max_bytes = 16 * 1024;
    c->reasm_max_datagrams = 64;
}

static void test_reasm_memory_bound(void **state)
{
    (void)state;
    fx *f = fx_new(bounded);
    static uint8_t dg[3008];
    size_t len = mk_udp(dg, 3000, 9);

    for (uint16_t id = 100; id < 300; id++) {
        send_frag(f, id, dg, len, 0, 1480);
        assert_true(f->s->ip.reasm_bytes <= 16 * 1024);
        assert_int_equal(ipc(f)->reasm_bytes, f->s->ip.reasm_bytes);
    }
    assert_true(ipc(f)->reasm_overflows >= 180);
    assert_true(f->s->ip.reasm.ages.n <= 11);
    /* Tiny fragments are charged their overhead too. */
    for (uint16_t id = 300; id < 2300; id++) {
        send_frag(f, id, dg, len, 0, 8);
        assert_true(f->s->ip.reasm_bytes <= 16 * 1024);
    }
    /* The newest datagram still completes. */
    send_frag(f, 299, dg, len, 1480, len - 1480);
    assert_int_equal(f->rx.count, 0); /* 299 was evicted by the tiny ones */
    send_frag(f, 5000, dg, len, 0, 1480);
    send_frag(f, 5000, dg, len, 1480, len - 1480);
    assert_int_equal(f->rx.count, 1);
    assert_received(f, dg, len);
    fx_free(f);
}

static void tiny_bound(oasis_stack_config *c) { c->reasm_max_bytes = 16; }

/* A bound below one datagram's bookkeeping (0 or a few bytes: a user
 * turning reassembly off) with none in progress: a fragment is dropped
 * and counted, never a crash; a whole datagram still arrives. */
static void test_reasm_bound_below_one(void **state)
{
    (void)state;
    fx *f = fx_new(tiny_bound);
    static uint8_t dg[3008];
    size_t len = mk_udp(dg, 3000, 9);
    send_frag(f, 7, dg, len, 0, 1480);
    send_frag(f, 7, dg, len, 1480, len - 1480);
    assert_int_equal(f->rx.count, 0);
    assert_int_equal(ipc(f)->reasm_fails, 2);
    assert_int_equal(f->s->ip.reasm.ages.n, 0);
    assert_int_equal(ipc(f)->reasm_bytes, 0);
    size_t small = mk_udp(dg, 100, 9);
    send_frag(f, 8, dg, small, 0, small); /* not a fragment: offset 0, no MF */
    assert_int_equal(f->rx.count, 1);
    fx_free(f);
}

/* A datagram holds at most 128 pieces: cut in 16-byte fragments (126)
 * it completes; cut in 8-byte fragments (251) it is dropped whole at the
 * 129th, counted, and its memory given back. */
static void test_reasm_piece_bound(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    static uint8_t dg[2008];
    size_t len = mk_udp(dg, 2000, 4);
    size_t n = 0;
    for (size_t off = 0; off < len; off += 16, n++)
        send_frag(f, 20, dg, len, off, len - off < 16 ? len - off : 16);
    assert_int_equal(n, 126);
    assert_int_equal(f->rx.count, 1);
    assert_received(f, dg, len);
    assert_int_equal(ipc(f)->reasm_too_many_frags, 0);

    memset(&f->rx, 0, sizeof f->rx);
    uint64_t fails = ipc(f)->reasm_fails;
    for (size_t off = 0; off < 129 * 8; off += 8)
        send_frag(f, 21, dg, len, off, 8);
    assert_int_equal(ipc(f)->reasm_too_many_frags, 1);
    assert_int_equal(ipc(f)->reasm_fails, fails + 1);
    assert_int_equal(f->s->ip.reasm.ages.n, 0);
    assert_int_equal(ipc(f)->reasm_bytes, 0);
    for (size_t off = 129 * 8; off < len; off += 8)
        send_frag(f, 21, dg, len, off, len - off < 8 ? len - off : 8);
    assert_int_equal(f->rx.count, 0);
    fx_free(f);
}

static void few_datagrams(oasis_stack_config *c) { c->reasm_max_datagrams = 4; }

static void test_reasm_datagram_bound(void **state)
{
    (void)state;
    fx *f = fx_new(few_datagrams);
    static uint8_t dg[3008];
    size_t len = mk_udp(dg, 3000, 9);
    for (uint16_t id = 1; id <= 10; id++) {
        send_frag(f, id, dg, len, 0, 1480);
        assert_true(f->s->ip.reasm.ages.n <= 4);
    }
    assert_int_equal(ipc(f)->reasm_overflows, 6);
    /* The oldest went: 1 cannot complete, 10 can. */
    send_frag(f, 1, dg, len, 1480, len - 1480);
    assert_int_equal(f->rx.count, 0);
    send_frag(f, 10, dg, len, 1480, len - 1480);
    assert_int_equal(f->rx.count, 1);
    fx_free(f);
}

/* Random fragments (offsets, lengths, flags, ids, overlaps): the bounds
 * hold at every step and everything is freed by the timeout. */
static void test_reasm_random_storm(void **state)
{
    (void)state;
    fx *f = fx_new(bounded);
    static uint8_t data[1480], frame[1600];
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)i;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint16_t id = (uint16_t)(x % 40);
        uint16_t off = (uint16_t)(((x >> 8) % 8200) * 8);
        size_t len = (size_t)((x >> 24) % 1481);
        int mf = (x >> 40) % 4 != 0;
        if (mf)
            len &= ~(size_t)7;
        size_t n = mk_frame(frame, (x >> 50) % 2 ? OASIS_IPPROTO_UDP : 99, id, mf, off, data, len);
        oasis_stack_input(f->s, frame, n);
        assert_true(f->s->ip.reasm_bytes <= 16 * 1024);
        assert_true(f->s->ip.reasm.ages.n <= 64);
        if (i % 1000 == 0)
            oasis_clock_advance(f->clock, OASIS_NS_PER_SEC);
        oasis_stack_poll(f->s);
    }
    oasis_clock_advance(f->clock, 31 * OASIS_NS_PER_SEC);
    oasis_stack_poll(f->s);
    assert_int_equal(f->s->ip.reasm.ages.n, 0);
    assert_int_equal(ipc(f)->reasm_bytes, 0);
    assert_true(ipc(f)->reasm_reqds > 19000);
    assert_true(ipc(f)->reasm_fails > 1000);
    assert_true(ipc(f)->reasm_overflows > 100);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validation_drops_counted),
        cmocka_unit_test(test_unicast_in_link_broadcast_dropped),
        cmocka_unit_test(test_broadcast_forms),
        cmocka_unit_test(test_options_passed_up),
        cmocka_unit_test(test_ip_id_reveals_no_other_traffic),
        cmocka_unit_test(test_header_fields_on_send),
        cmocka_unit_test(test_no_route_and_gateway),
        cmocka_unit_test(test_gateway_is_next_hop),
        cmocka_unit_test(test_route_follows_prefix_and_gateway),
        cmocka_unit_test(test_fragmentation_on_send),
        cmocka_unit_test(test_fragmentation_small_mtu),
        cmocka_unit_test(test_df_too_big),
        cmocka_unit_test(test_big_datagram_between_stacks),
        cmocka_unit_test(test_reasm_in_order_and_reversed),
        cmocka_unit_test(test_reasm_overlap_and_duplicates),
        cmocka_unit_test(test_reasm_key),
        cmocka_unit_test(test_reasm_conflicting_length_dropped),
        cmocka_unit_test(test_reasm_timeout),
        cmocka_unit_test(test_reasm_memory_bound),
        cmocka_unit_test(test_reasm_bound_below_one),
        cmocka_unit_test(test_reasm_datagram_bound),
        cmocka_unit_test(test_reasm_piece_bound),
        cmocka_unit_test(test_reasm_random_storm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
