/* UDP: exchange between two stacks, port unreachable, checksums, the bind
 * API and its errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/stack_impl.h"
#include "ip/ipv4_wire.h"
#include "link/eth_wire.h"
#include "oasis/error.h"
#include "oasis/ip.h"
#include "oasis/udp.h"
#include "oasis/wire.h"
#include "caplink.h"
#include "testutil.h"
#include "udp/udp_wire.h"

typedef struct rx {
    int count;
    uint32_t src, dst;
    uint16_t sport, dport;
    size_t len;
    uint8_t data[2048];
    int echo;    /* send the datagram back */
    int unbind;  /* unbind from inside the callback */
} rx;

static void on_recv(oasis_stack *s, uint32_t src, uint16_t sp, uint32_t dst, uint16_t dp,
                    const uint8_t *d, size_t n, void *ud)
{
    rx *r = ud;
    r->count++;
    r->src = src;
    r->dst = dst;
    r->sport = sp;
    r->dport = dp;
    r->len = n;
    if (n <= sizeof r->data)
        memcpy(r->data, d, n);
    if (r->echo)
        assert_int_equal(oasis_udp_send4(s, dp, src, sp, d, n), 0);
    if (r->unbind)
        assert_int_equal(oasis_udp_unbind(s, dp), 0);
}

static const oasis_udp_counters *udpc(oasis_stack *s) { return &oasis_stack_counters(s)->udp; }

static void test_exchange_between_stacks(void **state)
{
    (void)state;
    test_net n;
    rx ra, rb;
    memset(&ra, 0, sizeof ra);
    memset(&rb, 0, sizeof rb);
    rb.echo = 1;
    test_net_init(&n, NULL, NULL);
    assert_int_equal(oasis_udp_bind4(n.a, 4000, on_recv, &ra), 0);
    assert_int_equal(oasis_udp_bind4(n.b, 7, on_recv, &rb), 0);

    assert_int_equal(oasis_udp_send4(n.a, 4000, TEST_ADDR_B, 7, "hello", 5), 0);
    assert_int_equal(test_net_run_until(&n, &ra.count, OASIS_NS_PER_SEC), 0);
    assert_int_equal(rb.count, 1);
    assert_int_equal(rb.src, TEST_ADDR_A);
    assert_int_equal(rb.sport, 4000);
    assert_int_equal(rb.dst, TEST_ADDR_B);
    assert_int_equal(rb.dport, 7);
    assert_int_equal(ra.count, 1);
    assert_int_equal(ra.src, TEST_ADDR_B);
    assert_int_equal(ra.sport, 7);
    assert_int_equal(ra.len, 5);
    assert_memory_equal(ra.data, "hello", 5);

    /* An empty datagram is a datagram. */
    ra.count = 0;
    assert_int_equal(oasis_udp_send4(n.a, 4000, TEST_ADDR_B, 7, NULL, 0), 0);
    assert_int_equal(test_net_run_until(&n, &ra.count, OASIS_NS_PER_SEC), 0);
    assert_int_equal(ra.len, 0);

    assert_int_equal(udpc(n.a)->out_datagrams, 2);
    assert_int_equal(udpc(n.b)->in_datagrams, 2);
    assert_int_equal(udpc(n.b)->out_datagrams, 2);
    assert_int_equal(udpc(n.a)->in_datagrams, 2);
    test_net_fini(&n);
}

static int unreach_seen(void *ud)
{
    return oasis_stack_counters((oasis_stack *)ud)->icmp.in_dest_unreachs != 0;
}

static void test_port_unreachable(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    assert_int_equal(oasis_udp_send4(n.a, 4000, TEST_ADDR_B, 9, "x", 1), 0);
    assert_int_equal(oasis_wire_run(n.wire, unreach_seen, n.a, OASIS_NS_PER_SEC), 0);
    assert_int_equal(udpc(n.b)->no_ports, 1);
    assert_int_equal(oasis_stack_counters(n.b)->icmp.out_dest_unreachs, 1);
    assert_int_equal(oasis_stack_counters(n.a)->icmp.in_dest_unreachs, 1);

    /* Not for broadcasts: nobody answers a datagram to the subnet. */
    assert_int_equal(oasis_udp_send4(n.a, 4000, OASIS_IPV4(10, 0, 0, 255), 9, "x", 1), 0);
    oasis_wire_run(n.wire, NULL, NULL, OASIS_NS_PER_SEC);
    assert_int_equal(udpc(n.b)->no_ports, 2);
    assert_int_equal(oasis_stack_counters(n.b)->icmp.out_dest_unreachs, 1);
    test_net_fini(&n);
}

/* One stack, datagrams built by hand. */
static void inject_udp(oasis_stack *s, const uint8_t *udp, size_t n)
{
    uint8_t frame[256];
    static const uint8_t us[6] = {2, 0, 0, 0, 0, 1}, peer[6] = {2, 0, 0, 0, 0, 2};
    oasis_ipv4_hdr h;
    memset(&h, 0, sizeof h);
    h.total_len = (uint16_t)(OASIS_IPV4_HLEN + n);
    h.ttl = 64;
    h.proto = OASIS_IPPROTO_UDP;
    h.src = TEST_ADDR_B;
    h.dst = TEST_ADDR_A;
    oasis_eth_emit(frame, us, peer, OASIS_ETHERTYPE_IPV4);
    oasis_ipv4_emit(frame + OASIS_ETH_HLEN, &h);
    memcpy(frame + OASIS_ETH_HLEN + OASIS_IPV4_HLEN, udp, n);
    oasis_stack_input(s, frame, OASIS_ETH_HLEN + OASIS_IPV4_HLEN + n);
}

static int null_send(oasis_link *l, const uint8_t *f, size_t n)
{
    (void)l, (void)f, (void)n;
    return 0;
}

static void test_checksums(void **state)
{
    (void)state;
    oasis_clock *c = oasis_clock_new_virtual(0);
    oasis_stack_config cfg;
    oasis_stack *s;
    oasis_link link = {.send = null_send, .mtu = 1500};
    rx r;
    uint8_t udp[8 + 12];

    memset(&r, 0, sizeof r);
    test_stack_config(&cfg, c, 1);
    assert_int_equal(oasis_stack_create(&cfg, &s), 0);
    oasis_stack_set_link(s, &link);
    assert_int_equal(oasis_udp_bind4(s, 53, on_recv, &r), 0);

    memcpy(udp + 8, "hello, world", 12);
    oasis_udp_emit(udp, sizeof udp, 1111, 53, TEST_ADDR_B, TEST_ADDR_A);
    inject_udp(s, udp, sizeof udp);
    assert_int_equal(r.count, 1);

    udp[10] ^= 0x20; /* corrupt the payload */
    inject_udp(s, udp, sizeof udp);
    assert_int_equal(r.count, 1);
    assert_int_equal(udpc(s)->in_csum_errors, 1);
    assert_int_equal(udpc(s)->in_errors, 1); /* InErrors counts bad checksums too */

    udp[6] = udp[7] = 0; /* no checksum: accepted as is */
    inject_udp(s, udp, sizeof udp);
    assert_int_equal(r.count, 2);
    assert_memory_equal(r.data, "heLlo, world", 12);

    /* Length field beyond the datagram; and under 8. */
    oasis_udp_emit(udp, sizeof udp, 1111, 53, TEST_ADDR_B, TEST_ADDR_A);
    udp[5] = 40;
    inject_udp(s, udp, sizeof udp);
    udp[5] = 4;
    inject_udp(s, udp, sizeof udp);
    inject_udp(s, udp, 6);
    assert_int_equal(udpc(s)->in_errors, 4);
    assert_int_equal(r.count, 2);
    assert_int_equal(udpc(s)->in_datagrams, 2);

    oasis_stack_destroy(s);
    oasis_clock_free(c);
}

/* RFC 1122 4.1.3.2: IP options received are passed to the application;
 * options the application gives are sent. */
typedef struct opts_rx {
    int count;
    size_t len;
    uint8_t opts[40];
} opts_rx;

static void on_recv_opts(oasis_stack *s, uint32_t src, uint16_t sp, uint32_t dst, uint16_t dp,
                         const uint8_t *d, size_t n, void *ud)
{
    (void)src, (void)sp, (void)dst, (void)dp, (void)d, (void)n;
    opts_rx *r = ud;
    size_t len = 99;
    const uint8_t *o = oasis_udp_rx_options(s, &len);
    r->count++;
    r->len = len;
    if (len) {
        assert_non_null(o);
        assert_true(len <= sizeof r->opts);
        memcpy(r->opts, o, len);
    } else {
        assert_null(o);
    }
}

static const uint8_t MAC_A[6] = {2, 0, 0, 0, 0, 1}, MAC_B[6] = {2, 0, 0, 0, 0, 2};

/* A stack (address A) on a capturing link, peer B's MAC known. */
static void cap_stack(oasis_clock **c, oasis_stack **s, test_cap *cap)
{
    oasis_stack_config cfg;
    *c = oasis_clock_new_virtual(0);
    test_stack_config(&cfg, *c, 1);
    cfg.arp_gratuitous = 0;
    assert_int_equal(oasis_stack_create(&cfg, s), 0);
    test_cap_attach(cap, *s, 8, 1500);
    test_learn_peer4(*s, MAC_A, TEST_ADDR_A, MAC_B, TEST_ADDR_B);
    cap->n = 0;
}

/* A Record Route option with room for one address, padded. */
static const uint8_t RR[8] = {7, 7, 4, 0, 0, 0, 0, 0};
#define UDP_PING_LEN (8 + 4)

/* "ping" from B:1111 to A:53 with RR in its IPv4 header; udp gets the
 * UDP datagram itself. */
static void input_with_rr(oasis_stack *s, uint8_t udp[UDP_PING_LEN])
{
    uint8_t frame[128];
    memcpy(udp + 8, "ping", 4);
    oasis_udp_emit(udp, UDP_PING_LEN, 1111, 53, TEST_ADDR_B, TEST_ADDR_A);
    oasis_ipv4_hdr h;
    memset(&h, 0, sizeof h);
    h.total_len = (uint16_t)(OASIS_IPV4_HLEN + sizeof RR + UDP_PING_LEN);
    h.ttl = 64;
    h.proto = OASIS_IPPROTO_UDP;
    h.src = TEST_ADDR_B;
    h.dst = TEST_ADDR_A;
    oasis_eth_emit(frame, MAC_A, MAC_B, OASIS_ETHERTYPE_IPV4);
    oasis_ipv4_emit_opts(frame + OASIS_ETH_HLEN, &h, RR, sizeof RR);
    memcpy(frame + OASIS_ETH_HLEN + OASIS_IPV4_HLEN + sizeof RR, udp, UDP_PING_LEN);
    oasis_stack_input(s, frame, OASIS_ETH_HLEN + h.total_len);
}

static void test_ip_options(void **state)
{
    (void)state;
    oasis_clock *c;
    oasis_stack *s;
    test_cap cap;
    cap_stack(&c, &s, &cap);
    opts_rx r;
    memset(&r, 0, sizeof r);
    assert_int_equal(oasis_udp_bind4(s, 53, on_recv_opts, &r), 0);

    /* Received: a Record Route option with room for one address, padded. */
    const uint8_t *rr = RR;
    uint8_t udp[UDP_PING_LEN];
    input_with_rr(s, udp);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.len, sizeof RR);
    assert_memory_equal(r.opts, rr, sizeof RR);
    inject_udp(s, udp, sizeof udp); /* none */
    assert_int_equal(r.count, 2);
    assert_int_equal(r.len, 0);
    size_t len = 99;
    assert_null(oasis_udp_rx_options(s, &len)); /* outside a callback */
    assert_int_equal(len, 0);

    /* Sent: the options, EOL-padded to 8 bytes, and a checksum that holds. */
    cap.n = 0;
    static const uint8_t rr7[7] = {7, 7, 4, 0, 0, 0, 0};
    assert_int_equal(oasis_udp_send4_opts(s, 53, TEST_ADDR_B, 1111, rr7, sizeof rr7, "pong", 4), 0);
    assert_int_equal(cap.n, 1);
    oasis_ipv4_hdr out;
    assert_int_equal(oasis_ipv4_parse(cap.frame[0] + OASIS_ETH_HLEN,
                                      cap.len[0] - OASIS_ETH_HLEN, &out), 0);
    assert_int_equal(out.hdr_len, OASIS_IPV4_HLEN + 8);
    assert_int_equal(out.options_len, 8);
    assert_memory_equal(out.options, rr, 8);
    oasis_udp_hdr u;
    assert_int_equal(oasis_udp_parse_ex(out.payload, out.payload_len, out.src, out.dst, 1, &u), 0);
    assert_int_equal(u.payload_len, 4);
    assert_memory_equal(u.payload, "pong", 4);

    /* Refused, nothing sent: malformed, a source route, too long, and a
     * datagram that fits the MTU only without its options. */
    cap.n = 0;
    static const uint8_t bad_len[4] = {7, 1, 0, 0};
    static const uint8_t past_end[4] = {7, 9, 4, 0};
    static const uint8_t lsrr[8] = {131, 7, 4, 10, 0, 0, 9, 0};
    uint8_t nops[41];
    memset(nops, 1, sizeof nops);
    static uint8_t big[1472 - 8];
    assert_int_equal(oasis_udp_send4_opts(s, 53, TEST_ADDR_B, 1111, bad_len, 4, "x", 1), OASIS_EINVAL);
    assert_int_equal(oasis_udp_send4_opts(s, 53, TEST_ADDR_B, 1111, past_end, 4, "x", 1), OASIS_EINVAL);
    assert_int_equal(oasis_udp_send4_opts(s, 53, TEST_ADDR_B, 1111, lsrr, 8, "x", 1), OASIS_ENOTSUP);
    assert_int_equal(oasis_udp_send4_opts(s, 53, TEST_ADDR_B, 1111, nops, 41, "x", 1), OASIS_EINVAL);
    assert_int_equal(oasis_udp_send4_opts(s, 53, TEST_ADDR_B, 1111, nops, 40, "x", 1), 0);
    assert_int_equal(cap.n, 1);
    assert_int_equal(oasis_udp_send4_opts(s, 53, TEST_ADDR_B, 1111, rr, 8, big, sizeof big), 0);
    assert_int_equal(oasis_udp_send4_opts(s, 53, TEST_ADDR_B, 1111, rr, 8, big, sizeof big + 1),
                     OASIS_EMSGSIZE);
    assert_int_equal(cap.n, 2);

    oasis_stack_destroy(s);
    test_cap_fini(&cap);
    oasis_clock_free(c);
}

/* RFC 1112 6.1: a multicast datagram whose sender names no TTL goes with
 * TTL 1; a bound port may name another (oasis_udp_set_multicast_hops);
 * unicast keeps the default TTL (64). */
/* oasis_udp_rx_options is NULL for an IPv6 datagram also when its
 * callback runs inside an IPv4 one's: here the IPv4 callback (options
 * given) sends to ::1 and polls, which delivers that datagram then. */
typedef struct nest_rx {
    int v4, v6;
    size_t v6_len;
    const uint8_t *v6_opts;
} nest_rx;

static void on_recv_nest(oasis_stack *s, const oasis_ipaddr *src, uint16_t sp,
                         const oasis_ipaddr *dst, uint16_t dp, const uint8_t *d, size_t n, void *ud)
{
    (void)src, (void)sp, (void)d, (void)n;
    nest_rx *r = ud;
    if (oasis_ipaddr_is_v6(dst)) {
        r->v6++;
        r->v6_len = 99;
        r->v6_opts = oasis_udp_rx_options(s, &r->v6_len);
        return;
    }
    r->v4++;
    size_t len = 0;
    assert_non_null(oasis_udp_rx_options(s, &len));
    oasis_ipaddr lo6;
    assert_int_equal(oasis_ipaddr_parse("::1", &lo6), 0);
    assert_int_equal(oasis_udp_send(s, dp, &lo6, dp, "six", 3), 0);
    oasis_stack_poll(s); /* the loopback queue: the IPv6 datagram arrives now */
    assert_int_equal(r->v6, 1);
    assert_non_null(oasis_udp_rx_options(s, &len)); /* ours again */
}

static void test_ip_options_not_for_ipv6_inside(void **state)
{
    (void)state;
    oasis_stack_config cfg;
    oasis_clock *c = oasis_clock_new_virtual(0);
    test_stack_config(&cfg, c, 1);
    cfg.arp_gratuitous = 0;
    cfg.ipv6 = 1;
    oasis_stack *s;
    assert_int_equal(oasis_stack_create(&cfg, &s), 0);
    test_cap cap;
    test_cap_attach(&cap, s, 8, 1500);
    nest_rx r = {0};
    assert_int_equal(oasis_udp_bind(s, 53, on_recv_nest, &r), 0);

    uint8_t udp[UDP_PING_LEN];
    input_with_rr(s, udp);
    assert_int_equal(r.v4, 1);
    assert_int_equal(r.v6, 1);
    assert_null(r.v6_opts);
    assert_int_equal(r.v6_len, 0);

    oasis_stack_destroy(s);
    test_cap_fini(&cap);
    oasis_clock_free(c);
}

static void test_multicast_ttl(void **state)
{
    (void)state;
    oasis_clock *c;
    oasis_stack *s;
    test_cap cap;
    cap_stack(&c, &s, &cap);
    const uint32_t group = OASIS_IPV4(239, 1, 2, 3);
    assert_int_equal(oasis_udp_send4(s, 4000, group, 5000, "a", 1), 0); /* port not bound */
    assert_int_equal(oasis_udp_bind4(s, 4001, on_recv_opts, NULL), 0);
    assert_int_equal(oasis_udp_send4(s, 4001, group, 5000, "b", 1), 0);
    assert_int_equal(oasis_udp_set_multicast_hops(s, 4001, 16), 0);
    assert_int_equal(oasis_udp_send4(s, 4001, group, 5000, "c", 1), 0);
    assert_int_equal(oasis_udp_send4(s, 4001, TEST_ADDR_B, 5000, "d", 1), 0); /* unicast */
    assert_int_equal(oasis_udp_set_multicast_hops(s, 4001, 0), 0);
    assert_int_equal(oasis_udp_send4(s, 4001, group, 5000, "e", 1), 0);
    assert_int_equal(oasis_udp_set_multicast_hops(s, 4002, 5), OASIS_ENOENT);
    static const uint8_t want[5] = {1, 1, 16, 64, 1};
    assert_int_equal(cap.n, 5);
    for (int i = 0; i < 5; i++) {
        oasis_ipv4_hdr h;
        assert_int_equal(oasis_ipv4_parse(cap.frame[i] + OASIS_ETH_HLEN,
                                          cap.len[i] - OASIS_ETH_HLEN, &h), 0);
        assert_int_equal(h.ttl, want[i]);
    }
    oasis_stack_destroy(s);
    test_cap_fini(&cap);
    oasis_clock_free(c);
}

static void test_bind_api(void **state)
{
    (void)state;
    test_net n;
    rx r;
    static uint8_t big[65508];
    memset(&r, 0, sizeof r);
    test_net_init(&n, NULL, NULL);

    assert_int_equal(oasis_udp_bind4(n.a, 0, on_recv, &r), OASIS_EINVAL);
    assert_int_equal(oasis_udp_bind4(n.a, 1, NULL, &r), OASIS_EINVAL);
    assert_int_equal(oasis_udp_bind4(n.a, 1, on_recv, &r), 0);
    assert_int_equal(oasis_udp_bind4(n.a, 1, on_recv, &r), OASIS_EADDRINUSE);
    assert_int_equal(oasis_udp_unbind(n.a, 1), 0);
    assert_int_equal(oasis_udp_unbind(n.a, 1), OASIS_ENOENT);

    assert_int_equal(oasis_udp_send4(n.a, 1, TEST_ADDR_B, 2, big, sizeof big), OASIS_EMSGSIZE);
    assert_int_equal(oasis_udp_send4(n.a, 1, OASIS_IPV4(1, 2, 3, 4), 2, big, 1), OASIS_ENOROUTE);
    assert_int_equal(oasis_udp_send4(n.a, 1, TEST_ADDR_B, 2, NULL, 1), OASIS_EINVAL);

    /* The largest datagram crosses, fragmented; the callback may unbind. */
    r.unbind = 1;
    assert_int_equal(oasis_udp_bind4(n.b, 2, on_recv, &r), 0);
    assert_int_equal(oasis_udp_send4(n.a, 1, TEST_ADDR_B, 2, big, sizeof big - 1), 0);
    assert_int_equal(test_net_run_until(&n, &r.count, OASIS_NS_PER_SEC), 0);
    assert_int_equal(r.len, 65507);
    assert_int_equal(oasis_udp_unbind(n.b, 2), OASIS_ENOENT);
    test_net_fini(&n);
}

/* ---- outside probes (a checker's, not the authors') ------------------------ */

/* What the API must refuse, and where a datagram may go: port 0 either
 * way (RFC 768: 0 is "no port"), no destination, a family of none, the
 * unspecified address 0.0.0.0 as a destination (RFC 1122 3.2.1.3: "MUST
 * NOT be sent, except as a source address"); limited and subnet
 * broadcasts and a group arrive; a broadcast to an unbound port draws no
 * port unreachable (RFC 1122 4.1.3.1 and 3.2.2: no ICMP error about a
 * broadcast); ports unbound twice, and on no stack. */
static void test_probe_send_edges(void **state)
{
    (void)state;
    test_net n;
    rx r;
    memset(&r, 0, sizeof r);
    test_net_init(&n, NULL, NULL);
    assert_int_equal(oasis_udp_bind4(n.b, 9, on_recv, &r), 0);

    assert_int_equal(oasis_udp_send4(n.a, 1000, TEST_ADDR_B, 0, "x", 1), OASIS_EINVAL);
    assert_int_equal(oasis_udp_send4(n.a, 0, TEST_ADDR_B, 9, "x", 1), OASIS_EINVAL);
    assert_int_equal(oasis_udp_send(n.a, 1000, NULL, 9, "x", 1), OASIS_EINVAL);
    oasis_ipaddr none;
    memset(&none, 0, sizeof none);
    assert_int_equal(oasis_udp_send(n.a, 1000, &none, 9, "x", 1), OASIS_EINVAL);
    assert_int_equal(oasis_udp_send(NULL, 1000, &none, 9, "x", 1), OASIS_EINVAL);
    uint64_t out0 = udpc(n.a)->out_datagrams;
    int rc = oasis_udp_send4(n.a, 1000, 0, 9, "x", 1);
    if (rc == 0)
        fail_msg("a datagram to 0.0.0.0 was accepted (RFC 1122 3.2.1.3)");
    assert_int_equal(udpc(n.a)->out_datagrams, out0);

    /* Zero-length to the limited broadcast, to the subnet's, to a group. */
    assert_int_equal(oasis_udp_send4(n.a, 1000, 0xffffffffu, 9, NULL, 0), 0);
    assert_int_equal(test_net_run_until(&n, &r.count, OASIS_NS_PER_SEC), 0);
    assert_int_equal(r.dst, 0xffffffffu);
    assert_int_equal(r.len, 0);
    r.count = 0;
    assert_int_equal(oasis_udp_send4(n.a, 1000, OASIS_IPV4(10, 0, 0, 255), 9, "b", 1), 0);
    assert_int_equal(test_net_run_until(&n, &r.count, OASIS_NS_PER_SEC), 0);
    assert_int_equal(r.dst, OASIS_IPV4(10, 0, 0, 255));
    r.count = 0;
    assert_int_equal(oasis_ipv4_join(n.b, OASIS_IPV4(239, 1, 2, 3)), 0);
    assert_int_equal(oasis_udp_send4(n.a, 1000, OASIS_IPV4(239, 1, 2, 3), 9, "g", 1), 0);
    assert_int_equal(test_net_run_until(&n, &r.count, OASIS_NS_PER_SEC), 0);
    assert_int_equal(r.dst, OASIS_IPV4(239, 1, 2, 3));

    /* Broadcast to a port nobody bound: dropped, no ICMP back. */
    uint64_t icmp0 = oasis_stack_counters(n.b)->icmp.out_dest_unreachs;
    uint64_t nop0 = udpc(n.b)->no_ports;
    assert_int_equal(oasis_udp_send4(n.a, 1000, 0xffffffffu, 4444, "b", 1), 0);
    assert_int_equal(oasis_udp_send4(n.a, 1000, OASIS_IPV4(10, 0, 0, 255), 4444, "b", 1), 0);
    oasis_wire_run(n.wire, NULL, NULL, OASIS_NS_PER_SEC);
    assert_int_equal(udpc(n.b)->no_ports, nop0 + 2);
    assert_int_equal(oasis_stack_counters(n.b)->icmp.out_dest_unreachs, icmp0);
    /* ...while a unicast one does draw it (the control). */
    assert_int_equal(oasis_udp_send4(n.a, 1000, TEST_ADDR_B, 4444, "u", 1), 0);
    oasis_wire_run(n.wire, NULL, NULL, OASIS_NS_PER_SEC);
    assert_int_equal(oasis_stack_counters(n.b)->icmp.out_dest_unreachs, icmp0 + 1);

    /* To ourselves: delivered, not inside the call. */
    rx self;
    memset(&self, 0, sizeof self);
    assert_int_equal(oasis_udp_bind4(n.a, 77, on_recv, &self), 0);
    assert_int_equal(oasis_udp_send4(n.a, 1000, TEST_ADDR_A, 77, "me", 2), 0);
    assert_int_equal(self.count, 0);
    assert_int_equal(test_net_run_until(&n, &self.count, OASIS_NS_PER_SEC), 0);
    assert_int_equal(self.len, 2);

    /* A source that is not ours. */
    oasis_ipaddr from = oasis_ipaddr_v4(OASIS_IPV4(10, 0, 0, 99));
    oasis_ipaddr to = oasis_ipaddr_v4(TEST_ADDR_B);
    assert_int_equal(oasis_udp_send_from(n.a, &from, 1000, &to, 9, "x", 1), OASIS_EADDRNOTAVAIL);

    /* Unbind twice, setters on a port not bound, no stack. */
    assert_int_equal(oasis_udp_unbind(n.a, 77), 0);
    assert_int_equal(oasis_udp_unbind(n.a, 77), OASIS_ENOENT);
    assert_int_equal(oasis_udp_unbind(NULL, 77), OASIS_EINVAL);
    assert_int_equal(oasis_udp_set_error_cb(n.a, 77, NULL), OASIS_ENOENT);
    assert_int_equal(oasis_udp_set_multicast_hops(n.a, 77, 5), OASIS_ENOENT);
    assert_int_equal(oasis_udp_set_multicast_loop(NULL, 77, 1), OASIS_EINVAL);
    assert_int_equal(oasis_udp_bind(n.a, 77, NULL, NULL), OASIS_EINVAL);
    test_net_fini(&n);
}

/* A broadcast is addressed to every host of the link, the sender's too:
 * like Linux, the stack's own bound port gets a copy (from the poll, never
 * inside the send), whatever the port's multicast loop says, and the
 * other host still gets the datagram. With IP options too. */
static void test_broadcast_loopback(void **state)
{
    (void)state;
    test_net n;
    rx ra, rb;
    test_net_init(&n, NULL, NULL);
    assert_int_equal(oasis_udp_bind4(n.a, 9, on_recv, &ra), 0);
    assert_int_equal(oasis_udp_bind4(n.b, 9, on_recv, &rb), 0);
    const uint32_t dsts[2] = {OASIS_IPV4(10, 0, 0, 255), 0xffffffffu};
    for (int i = 0; i < 4; i++) {
        memset(&ra, 0, sizeof ra);
        memset(&rb, 0, sizeof rb);
        uint32_t dst = dsts[i % 2];
        if (i == 2)
            assert_int_equal(oasis_udp_set_multicast_loop(n.a, 9, 0), 0);
        if (i < 3) {
            assert_int_equal(oasis_udp_send4(n.a, 9, dst, 9, "bc", 2), 0);
        } else {
            static const uint8_t nop[4] = {1, 1, 1, 1};
            assert_int_equal(oasis_udp_send4_opts(n.a, 9, dst, 9, nop, 4, "bc", 2), 0);
        }
        assert_int_equal(ra.count, 0); /* never inside the send */
        assert_int_equal(test_net_run_until(&n, &ra.count, OASIS_NS_PER_SEC), 0);
        assert_int_equal(ra.count, 1);
        assert_int_equal(ra.src, TEST_ADDR_A);
        assert_int_equal(ra.dst, dst);
        assert_int_equal(ra.sport, 9);
        assert_int_equal(ra.len, 2);
        assert_memory_equal(ra.data, "bc", 2);
        assert_int_equal(test_net_run_until(&n, &rb.count, OASIS_NS_PER_SEC), 0);
        assert_int_equal(rb.dst, dst);
        oasis_wire_run(n.wire, NULL, NULL, OASIS_NS_PER_SEC);
        assert_int_equal(ra.count, 1); /* one copy */
        assert_int_equal(rb.count, 1);
    }
    /* To a port of ours nobody bound: counted, no ICMP error to ourselves. */
    uint64_t nop0 = udpc(n.a)->no_ports;
    uint64_t icmp0 = oasis_stack_counters(n.a)->icmp.out_msgs;
    assert_int_equal(oasis_udp_send4(n.a, 9, 0xffffffffu, 4444, "b", 1), 0);
    oasis_wire_run(n.wire, NULL, NULL, OASIS_NS_PER_SEC);
    assert_int_equal(udpc(n.a)->no_ports, nop0 + 1);
    assert_int_equal(oasis_stack_counters(n.a)->icmp.out_msgs, icmp0);
    test_net_fini(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exchange_between_stacks),
        cmocka_unit_test(test_port_unreachable),
        cmocka_unit_test(test_checksums),
        cmocka_unit_test(test_bind_api),
        cmocka_unit_test(test_ip_options),
        cmocka_unit_test(test_ip_options_not_for_ipv6_inside),
        cmocka_unit_test(test_multicast_ttl),
        cmocka_unit_test(test_probe_send_edges),
        cmocka_unit_test(test_broadcast_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
