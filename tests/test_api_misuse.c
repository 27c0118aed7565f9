/* API misuse against every header of include/oasis/: each public function
 * called as an outside tester would, with NULL handles, NULL out-pointers
 * and buffers, lengths no object has, addresses no host may own, and calls
 * in the wrong state. The rule under test: misuse gets the documented
 * error code (or, from a void function, nothing at all), never undefined
 * behaviour; nothing crashes. Getters given NULL answer 0 / NULL (or the
 * neutral value their header names). Two IPv6-enabled stacks on the
 * in-memory wire with a virtual clock; no network namespaces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "oasis/oasis.h"
#include "oasis/dhcp.h"
#include "oasis/dhcp6.h"
#include "oasis/dns.h"
#include "oasis/icmp.h"
#include "oasis/impair.h"
#include "oasis/ipv6.h"
#include "oasis/loop.h"
#include "oasis/metrics.h"
#include "oasis/metrics_control.h"
#include "oasis/metrics_prom.h"
#include "oasis/metrics_reporter.h"
#include "oasis/tap.h"
#include "oasis/udp.h"
#include "oasis/wire.h"
#include "testutil.h"

#define SEC OASIS_NS_PER_SEC
#define PORT 5000

static void ping_cb(oasis_stack *s, int err, uint16_t seq, uint64_t rtt_ns, void *ud)
{
    (void)s, (void)err, (void)seq, (void)rtt_ns, (void)ud;
}

static void udp_cb(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport, const oasis_ipaddr *dst,
                   uint16_t dport, const uint8_t *data, size_t len, void *ud)
{
    (void)s, (void)src, (void)sport, (void)dst, (void)dport, (void)data, (void)len, (void)ud;
}

static void accept_cb(oasis_stack *s, oasis_flow *f, void *ud) { (void)s, (void)f, (void)ud; }
static void connect_cb(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s, (void)f, (void)err, (void)ud;
}
static void read_cb(oasis_flow *f, int err, const uint8_t *d, size_t len, void *ud)
{
    (void)f, (void)err, (void)d, (void)len, (void)ud;
}
static void flow_cb(oasis_flow *f, int err, void *ud) { (void)f, (void)err, (void)ud; }
static void dns_cb(oasis_dns_req *r, int st, const oasis_dns_result *res, void *ud)
{
    (void)r, (void)st, (void)res, (void)ud;
}
static void ip_in(oasis_stack *s, const oasis_ip_packet *p, void *ud) { (void)s, (void)p, (void)ud; }

/* ---- addr.h and ip.h: pure helpers ------------------------------------------ */

/* A NULL address or buffer: parsers say OASIS_EINVAL, formatters give NULL
 * (no buffer) or "?" (no address), comparisons order NULL first, the
 * predicates say no, the hash is 0. */
static void test_addr_null(void **state)
{
    (void)state;
    oasis_ipaddr a = oasis_ipaddr_v4(OASIS_IPV4(10, 0, 0, 2)), out = a;
    char buf[OASIS_IPADDR_STRLEN];
    uint32_t u32 = 7;
    uint8_t u8 = 7, mac[6] = {1, 2, 3, 4, 5, 6}, key[16] = {0};

    assert_int_equal(oasis_ipaddr_v6(NULL).family, 0);
    assert_int_equal(oasis_ipaddr_parse(NULL, &out), OASIS_EINVAL);
    assert_int_equal(oasis_ipaddr_parse("1.2.3.4", NULL), OASIS_EINVAL);
    assert_int_equal(oasis_ipaddr_parse_host(NULL, &out), OASIS_EINVAL);
    assert_int_equal(oasis_ipaddr_parse_host("[::1]", NULL), OASIS_EINVAL);
    assert_int_equal(oasis_ipaddr_cidr_parse(NULL, &out, &u8), OASIS_EINVAL);
    assert_int_equal(oasis_ipaddr_cidr_parse("::1/3", NULL, &u8), OASIS_EINVAL);
    assert_int_equal(oasis_ipaddr_cidr_parse("::1/3", &out, NULL), OASIS_EINVAL);
    assert_true(oasis_ipaddr_eq(&out, &a)); /* untouched */
    assert_int_equal(u8, 7);

    assert_ptr_equal(oasis_ipaddr_format(NULL, buf), buf);
    assert_string_equal(buf, "?");
    assert_null(oasis_ipaddr_format(&a, NULL));
    assert_int_equal(oasis_ipaddr_cmp(NULL, NULL), 0);
    assert_true(oasis_ipaddr_cmp(NULL, &a) < 0);
    assert_true(oasis_ipaddr_cmp(&a, NULL) > 0);
    assert_true(oasis_ipaddr_hash(NULL, key) == 0);
    assert_true(oasis_ipaddr_hash(&a, NULL) == oasis_ipaddr_hash(&a, key));
    assert_int_equal(oasis_ipaddr_prefix_eq(NULL, &a, 8), 0);
    assert_int_equal(oasis_ipaddr_prefix_eq(&a, NULL, 8), 0);
    assert_int_equal(oasis_ipaddr_prefix_eq(&a, &a, UINT32_MAX), 1); /* the whole address */
    assert_int_equal(oasis_ipaddr_is_unspecified(NULL), 0);
    assert_int_equal(oasis_ipaddr_is_loopback(NULL), 0);
    assert_int_equal(oasis_ipaddr_is_multicast(NULL), 0);
    assert_int_equal(oasis_ipaddr_is_link_local(NULL), 0);

    assert_int_equal(oasis_addr_parse(NULL, &u32), OASIS_EINVAL);
    assert_int_equal(oasis_addr_parse("1.2.3.4", NULL), OASIS_EINVAL);
    assert_null(oasis_addr_format(1, NULL));
    assert_int_equal(oasis_cidr_parse(NULL, &u32, &u8), OASIS_EINVAL);
    assert_int_equal(oasis_cidr_parse("1.2.3.4/5", NULL, &u8), OASIS_EINVAL);
    assert_int_equal(oasis_cidr_parse("1.2.3.4/5", &u32, NULL), OASIS_EINVAL);
    assert_int_equal(u32, 7);
    assert_int_equal(u8, 7);
    assert_true(oasis_netmask(33) == 0xffffffffu);
    assert_true(oasis_netmask(255) == 0xffffffffu);
    assert_int_equal(oasis_mac_parse(NULL, mac), OASIS_EINVAL);
    assert_int_equal(oasis_mac_parse("02:00:00:00:00:01", NULL), OASIS_EINVAL);
    assert_int_equal(mac[0], 1);

    /* A family that is neither: formatted "?", never sent anywhere. */
    oasis_ipaddr odd;
    memset(&odd, 0, sizeof odd);
    odd.family = 77;
    assert_string_equal(oasis_ipaddr_format(&odd, buf), "?");
    assert_int_equal(oasis_ipaddr_prefix_eq(&odd, &odd, 999), 1);
}

/* error.h: any int has a name and a text. */
static void test_error_strings(void **state)
{
    (void)state;
    int codes[] = {1, 5, -27, -28, 12345, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        assert_non_null(oasis_strerror(codes[i]));
        assert_non_null(oasis_err_name(codes[i]));
        assert_non_null(oasis_dns_strerror(codes[i]));
    }
    assert_non_null(oasis_tcp_state_name((oasis_tcp_state)99));
    assert_non_null(oasis_tcp_state_name((oasis_tcp_state)-1));
    assert_non_null(oasis_dhcp_state_name((oasis_dhcp_state)99));
    assert_non_null(oasis_dhcp_state_name((oasis_dhcp_state)-1));
    assert_non_null(oasis_dhcp_event_name((oasis_dhcp_event)99));
    assert_non_null(oasis_dhcp_event_name((oasis_dhcp_event)-1));
    assert_non_null(oasis_dhcp6_state_name((oasis_dhcp6_state)99));
    assert_non_null(oasis_dhcp6_state_name((oasis_dhcp6_state)-1));
    assert_non_null(oasis_dhcp6_event_name((oasis_dhcp6_event)99));
    assert_non_null(oasis_dhcp6_event_name((oasis_dhcp6_event)-1));
}

/* ---- clock.h ----------------------------------------------------------------- */

static void test_clock_null(void **state)
{
    (void)state;
    oasis_clock_free(NULL);
    assert_true(oasis_clock_now(NULL) == 0);
    assert_int_equal(oasis_clock_is_virtual(NULL), 0);
    assert_int_equal(oasis_clock_advance(NULL, 1), OASIS_EINVAL);
    assert_int_equal(oasis_clock_set(NULL, 1), OASIS_EINVAL);
    assert_null(oasis_clock_new_custom(NULL, NULL));
}

/* ---- every *_config_init and the other initialisers ------------------------- */

static void test_config_init_null(void **state)
{
    (void)state;
    oasis_stack_config_init(NULL);
    oasis_wire_config_init(NULL);
    oasis_impair_init(NULL);
    oasis_impair_link_config_init(NULL);
    oasis_tap_config_init(NULL);
    oasis_dns_config_init(NULL);
    oasis_dhcp_config_init(NULL);
    oasis_dhcp6_config_init(NULL);
    oasis_metrics_config_init(NULL);
    oasis_prom_config_init(NULL);
    oasis_reporter_config_init(NULL);
    oasis_control_config_init(NULL);
    oasis_lp_buf_init(NULL, 100, NULL, NULL);
    oasis_lp_buf_reset(NULL);
    oasis_lp_buf_free(NULL);
}

/* ---- stack.h and link.h ------------------------------------------------------ */

static void test_stack_null(void **state)
{
    (void)state;
    uint8_t frame[64] = {0};
    oasis_offload off;
    memset(&off, 0, sizeof off);
    off.flags = OASIS_OFFLOAD_CSUM_PARTIAL;
    off.csum_start = 34;
    off.csum_offset = 16;

    oasis_stack_set_link(NULL, NULL);
    assert_null(oasis_stack_link(NULL));
    oasis_stack_input(NULL, frame, sizeof frame);
    oasis_stack_input_offload(NULL, frame, sizeof frame, &off);
    oasis_stack_input_offload(NULL, frame, sizeof frame, NULL);
    oasis_stack_input_ip(NULL, frame, sizeof frame);
    oasis_stack_input_ip_offload(NULL, frame, sizeof frame, &off);
    assert_int_equal(oasis_stack_poll(NULL), 0);
    assert_true(oasis_stack_next_deadline(NULL) == UINT64_MAX);
    assert_true(oasis_stack_now(NULL) == 0);
    assert_null(oasis_stack_clock(NULL));
    assert_int_equal(oasis_stack_addr(NULL), 0);
    assert_null(oasis_stack_mac(NULL));
    assert_int_equal(oasis_stack_mtu(NULL), 0);
    assert_int_equal(oasis_stack_gateway(NULL), 0);
    assert_int_equal(oasis_stack_prefix_len(NULL), 0);
    assert_null(oasis_stack_counters(NULL));
    oasis_stack_set_user_data(NULL, frame);
    assert_null(oasis_stack_user_data(NULL));
    assert_int_equal(oasis_stack_set_ipv4(NULL, OASIS_IPV4(10, 0, 0, 1), 24, 0), OASIS_EINVAL);
    assert_int_equal(oasis_stack_set_mtu(NULL, 1500), OASIS_EINVAL);
    assert_int_equal(oasis_stack_destroy(NULL), 0);

    assert_int_equal(oasis_pcap_open(NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_pcap_write(NULL, 0, frame, 10), OASIS_EINVAL);
    oasis_pcap_close(NULL);
}

/* What a stack with a handle does with NULL buffers and odd lengths: drops
 * them, counted or not, and goes on. */
static void test_stack_input_null(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    uint8_t junk[1600];
    memset(junk, 0xff, sizeof junk);
    oasis_stack_input(n.a, NULL, 60);
    oasis_stack_input(n.a, junk, 0);
    oasis_stack_input(n.a, junk, 1);
    oasis_stack_input(n.a, junk, sizeof junk);
    oasis_stack_input_offload(n.a, NULL, 60, NULL);
    oasis_stack_input_ip(n.a, NULL, 60);
    oasis_stack_input_ip(n.a, junk, 1);
    oasis_stack_input_ip(n.a, junk, sizeof junk);
    oasis_tcp_input4(n.a, TEST_ADDR_B, TEST_ADDR_A, NULL, 20);
    oasis_tcp_input4(n.a, TEST_ADDR_B, TEST_ADDR_A, junk, 3);
    oasis_ipaddr src = oasis_ipaddr_v4(TEST_ADDR_B);
    oasis_tcp_input(n.a, NULL, NULL, junk, 20);
    oasis_tcp_input(n.a, &src, NULL, junk, 20);
    /* Still working: a ping goes through. */
    int done = 0;
    assert_int_equal(oasis_ping(n.a, TEST_ADDR_B, 1, 1, 8, 5 * SEC, ping_cb, &done), 0);
    oasis_wire_run(n.wire, NULL, NULL, 2 * SEC);
    assert_int_equal(oasis_stack_counters(n.a)->icmp.in_echo_reps, 1);
    test_net_fini(&n);
}

/* ---- the stack's own IPv4 address (RFC 1122 3.2.1.3) -------------------------- */

/* A host's own address is one it may send from: never 0.x.y.z but 0 itself
 * ("none"), 127/8, multicast, 240/4 and the limited broadcast in it, nor
 * its subnet's network or directed-broadcast address (below /31, RFC
 * 3021). A gateway likewise, and not the stack's own address. Refused with
 * OASIS_EINVAL, the configuration unchanged; oasis_stack_create refuses
 * the same in its config. */
static void test_stack_own_ipv4(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    const struct {
        uint32_t addr;
        uint8_t plen;
        uint32_t gw;
    } bad[] = {
        {OASIS_IPV4(255, 255, 255, 255), 24, 0}, /* limited broadcast */
        {OASIS_IPV4(255, 255, 255, 255), 32, 0},
        {OASIS_IPV4(224, 0, 0, 1), 24, 0},       /* multicast */
        {OASIS_IPV4(239, 1, 2, 3), 32, 0},
        {OASIS_IPV4(240, 0, 0, 1), 24, 0},       /* 240/4, reserved */
        {OASIS_IPV4(127, 0, 0, 1), 8, 0},        /* loopback */
        {OASIS_IPV4(0, 0, 0, 5), 24, 0},         /* { 0, host } */
        {OASIS_IPV4(10, 0, 0, 255), 24, 0},      /* directed broadcast */
        {OASIS_IPV4(10, 0, 0, 0), 24, 0},        /* the subnet's number */
        {OASIS_IPV4(10, 255, 255, 255), 8, 0},
        {OASIS_IPV4(10, 0, 0, 1), 24, OASIS_IPV4(255, 255, 255, 255)},
        {OASIS_IPV4(10, 0, 0, 1), 24, OASIS_IPV4(224, 0, 0, 2)},
        {OASIS_IPV4(10, 0, 0, 1), 24, OASIS_IPV4(127, 0, 0, 1)},
        {OASIS_IPV4(10, 0, 0, 1), 24, OASIS_IPV4(0, 0, 0, 1)},
        {OASIS_IPV4(10, 0, 0, 1), 24, OASIS_IPV4(10, 0, 0, 1)}, /* ourselves */
        {OASIS_IPV4(10, 0, 0, 1), 33, 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(oasis_stack_set_ipv4(n.a, bad[i].addr, bad[i].plen, bad[i].gw), OASIS_EINVAL);
        assert_int_equal(oasis_stack_addr(n.a), TEST_ADDR_A);
        assert_int_equal(oasis_stack_prefix_len(n.a), 24);
        assert_int_equal(oasis_stack_gateway(n.a), 0);

        oasis_stack_config cfg;
        test_stack_config(&cfg, n.clock, 3);
        cfg.addr = bad[i].addr;
        cfg.prefix_len = bad[i].plen;
        cfg.gateway = bad[i].gw;
        oasis_stack *s = (oasis_stack *)1;
        assert_int_equal(oasis_stack_create(&cfg, &s), OASIS_EINVAL);
        assert_null(s);
    }
    /* What a host may use: none (0), /31 and /32 ends, /0, a gateway on
     * the subnet, an address of 240/4's neighbour 223/8. */
    assert_int_equal(oasis_stack_set_ipv4(n.a, OASIS_IPV4(10, 0, 0, 1), 0, 0), 0);
    assert_int_equal(oasis_stack_set_ipv4(n.a, OASIS_IPV4(10, 0, 0, 0), 31, 0), 0);
    assert_int_equal(oasis_stack_set_ipv4(n.a, OASIS_IPV4(10, 0, 0, 255), 32, 0), 0);
    assert_int_equal(oasis_stack_set_ipv4(n.a, OASIS_IPV4(223, 255, 255, 1), 24, 0), 0);
    assert_int_equal(oasis_stack_set_ipv4(n.a, 0, 24, 0), 0);
    assert_int_equal(oasis_stack_set_ipv4(n.a, TEST_ADDR_A, 24, OASIS_IPV4(10, 0, 0, 254)), 0);
    assert_int_equal(oasis_stack_gateway(n.a), OASIS_IPV4(10, 0, 0, 254));
    test_net_fini(&n);
}

/* ---- ipv6.h: the stack's own IPv6 addresses ----------------------------------- */

static void test_ipv6_own_address(void **state)
{
    (void)state;
    test_net n;
    test_net_init6(&n, NULL, NULL);
    uint8_t b[16] = {0};
    oasis_ipaddr unspec = oasis_ipaddr_v6(b);
    b[15] = 1;
    oasis_ipaddr loop = oasis_ipaddr_v6(b);
    uint8_t m[16] = {0xff, 0x02, [15] = 1};
    oasis_ipaddr mcast = oasis_ipaddr_v6(m);
    /* ::ffff:10.0.0.9 with the IPv6 family: RFC 6890 2.2.3, never a source. */
    oasis_ipaddr mapped = oasis_ipaddr_v4(OASIS_IPV4(10, 0, 0, 9));
    mapped.family = OASIS_AF_INET6;
    oasis_ipaddr v4 = oasis_ipaddr_v4(OASIS_IPV4(10, 0, 0, 9));
    uint8_t g[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 9};
    oasis_ipaddr good = oasis_ipaddr_v6(g);

    size_t before = oasis_ipv6_addrs(n.a, NULL, 0);
    assert_int_equal(oasis_ipv6_add_addr(n.a, &unspec, 64), OASIS_EINVAL);
    assert_int_equal(oasis_ipv6_add_addr(n.a, &loop, 128), OASIS_EINVAL);
    assert_int_equal(oasis_ipv6_add_addr(n.a, &mcast, 64), OASIS_EINVAL);
    assert_int_equal(oasis_ipv6_add_addr(n.a, &mapped, 128), OASIS_EINVAL);
    assert_int_equal(oasis_ipv6_add_addr(n.a, &v4, 64), OASIS_EINVAL);
    assert_int_equal(oasis_ipv6_add_addr(n.a, &good, 129), OASIS_EINVAL);
    assert_int_equal(oasis_ipv6_add_addr(n.a, NULL, 64), OASIS_EINVAL);
    assert_int_equal(oasis_ipv6_add_addr(NULL, &good, 64), OASIS_EINVAL);
    assert_int_equal(oasis_ipv6_addrs(n.a, NULL, 0), before);
    assert_int_equal(oasis_ipv6_add_addr(n.a, &good, 64), 0);
    assert_int_equal(oasis_ipv6_add_addr(n.a, &good, 64), OASIS_EADDRINUSE);
    assert_int_equal(oasis_ipv6_addrs(n.a, NULL, 0), before + 1);
    test_net_fini(&n);
}

/* ---- ipv6.h, icmp.h, ip.h, udp.h with NULL ------------------------------------ */

static void test_ip_udp_null(void **state)
{
    (void)state;
    test_net n;
    test_net_init6(&n, NULL, NULL);
    oasis_stack *s = n.a;
    oasis_ipaddr b4 = oasis_ipaddr_v4(TEST_ADDR_B);
    uint8_t buf[64] = {0};
    size_t len = 7;

    assert_int_equal(oasis_ip_register(NULL, 99, ip_in, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_ip_register(s, 99, NULL, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_ip_register(s, 6, ip_in, NULL, NULL), OASIS_EADDRINUSE);
    assert_int_equal(oasis_ip_unregister(NULL, 99), OASIS_ENOENT);
    assert_int_equal(oasis_ip_unregister(s, 99), OASIS_ENOENT);
    assert_int_equal(oasis_ip_send(NULL, TEST_ADDR_B, 99, buf, 4, 0), OASIS_EINVAL);
    assert_int_equal(oasis_ip_send(s, TEST_ADDR_B, 99, NULL, 4, 0), OASIS_EINVAL);
    assert_int_equal(oasis_ip_send(s, TEST_ADDR_B, 99, buf, SIZE_MAX, 0), OASIS_EMSGSIZE);
    assert_int_equal(oasis_ipv4_join(NULL, OASIS_IPV4(239, 1, 1, 1)), OASIS_EINVAL);
    assert_int_equal(oasis_ipv4_join(s, TEST_ADDR_B), OASIS_EINVAL);
    assert_int_equal(oasis_ipv4_leave(NULL, OASIS_IPV4(239, 1, 1, 1)), OASIS_EINVAL);
    assert_int_equal(oasis_ipv4_leave(s, OASIS_IPV4(239, 1, 1, 1)), OASIS_ENOENT);

    assert_int_equal(oasis_ping(NULL, TEST_ADDR_B, 1, 1, 8, SEC, ping_cb, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_ping(s, TEST_ADDR_B, 1, 1, 8, SEC, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_ping(s, TEST_ADDR_B, 1, 1, SIZE_MAX, SEC, ping_cb, NULL), OASIS_EMSGSIZE);
    assert_int_equal(oasis_ping_addr(NULL, &b4, 1, 1, 8, SEC, ping_cb, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_ping_addr(s, NULL, 1, 1, 8, SEC, ping_cb, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_ping_addr(s, &b4, 1, 1, 8, SEC, NULL, NULL), OASIS_EINVAL);

    assert_int_equal(oasis_ipv6_enabled(NULL), 0);
    assert_int_equal(oasis_ipv6_addrs(NULL, NULL, 4), 0);
    oasis_ipv6_set_addr_cb(NULL, NULL, NULL);
    assert_int_equal(oasis_ipv6_dns_servers(NULL, NULL, 4), 0);
    assert_int_equal(oasis_ipv6_dns_servers(s, NULL, 4), 0);
    assert_int_equal(oasis_ipv6_dns_domains(NULL, NULL, 4), 0);
    oasis_ipv6_set_dns_cb(NULL, NULL, NULL);
    assert_int_equal(oasis_ipv6_join(NULL, &b4), OASIS_EINVAL);
    assert_int_equal(oasis_ipv6_join(s, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_ipv6_join(s, &b4), OASIS_EINVAL);
    assert_int_equal(oasis_ipv6_leave(NULL, &b4), OASIS_EINVAL);
    assert_int_equal(oasis_ipv6_leave(s, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_ipv6_send(NULL, &b4, 59, buf, 4), OASIS_EINVAL);
    assert_int_equal(oasis_ipv6_send(s, NULL, 59, buf, 4), OASIS_EINVAL);
    assert_int_equal(oasis_ipv6_route(NULL, &b4, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_ipv6_route(s, NULL, NULL), OASIS_EINVAL);
    oasis_ipv6_confirm_reachable(NULL, &b4);
    oasis_ipv6_confirm_reachable(s, NULL);

    assert_int_equal(oasis_udp_bind(NULL, 7, udp_cb, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_udp_bind(s, 7, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_udp_bind(s, 0, udp_cb, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_udp_bind_transparent(NULL, 7, udp_cb, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_udp_bind_transparent(s, 7, udp_cb, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_udp_bind4(NULL, 7, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_udp_unbind(NULL, 7), OASIS_EINVAL);
    assert_int_equal(oasis_udp_unbind(s, 7), OASIS_ENOENT);
    assert_int_equal(oasis_udp_bind(s, 7, udp_cb, NULL), 0);
    assert_int_equal(oasis_udp_bind(s, 7, udp_cb, NULL), OASIS_EADDRINUSE);
    assert_int_equal(oasis_udp_send(NULL, 7, &b4, 7, buf, 4), OASIS_EINVAL);
    assert_int_equal(oasis_udp_send(s, 7, NULL, 7, buf, 4), OASIS_EINVAL);
    assert_int_equal(oasis_udp_send(s, 7, &b4, 7, NULL, 4), OASIS_EINVAL);
    assert_int_equal(oasis_udp_send(s, 7, &b4, 7, buf, SIZE_MAX), OASIS_EMSGSIZE);
    assert_int_equal(oasis_udp_send4(NULL, 7, TEST_ADDR_B, 7, buf, 4), OASIS_EINVAL);
    assert_int_equal(oasis_udp_send4(s, 7, TEST_ADDR_B, 7, NULL, 4), OASIS_EINVAL);
    assert_int_equal(oasis_udp_send_from(NULL, &b4, 7, &b4, 7, buf, 4), OASIS_EINVAL);
    assert_int_equal(oasis_udp_send_from(s, NULL, 7, NULL, 7, buf, 4), OASIS_EINVAL);
    assert_int_equal(oasis_udp_set_error_cb(NULL, 7, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_udp_set_error_cb(s, 8, NULL), OASIS_ENOENT);
    assert_int_equal(oasis_udp_set_multicast_hops(NULL, 7, 1), OASIS_EINVAL);
    assert_int_equal(oasis_udp_set_multicast_loop(NULL, 7, 1), OASIS_EINVAL);
    assert_null(oasis_udp_rx_options(NULL, &len));
    assert_int_equal(len, 0);
    assert_null(oasis_udp_rx_options(s, NULL));
    assert_int_equal(oasis_udp_send4_opts(NULL, 7, TEST_ADDR_B, 7, buf, 4, buf, 4), OASIS_EINVAL);
    assert_int_equal(oasis_udp_send4_opts(s, 7, TEST_ADDR_B, 7, NULL, 4, buf, 4), OASIS_EINVAL);
    assert_int_equal(oasis_udp_send4_opts(s, 7, TEST_ADDR_B, 7, buf, SIZE_MAX, buf, 4), OASIS_EINVAL);
    assert_int_equal(oasis_udp_unbind(s, 7), 0);
    test_net_fini(&n);
}

/* ---- wire.h and impair.h ------------------------------------------------------ */

static void test_wire_null(void **state)
{
    (void)state;
    uint8_t mac[6] = {2, 0, 0, 0, 0, 9}, frame[64] = {0};
    oasis_wire_stats st;
    oasis_impair_link_stats ist;
    oasis_impair_link *il = (oasis_impair_link *)1;
    assert_int_equal(oasis_wire_step(NULL), 0);
    assert_true(oasis_wire_next_deadline(NULL) == UINT64_MAX);
    assert_int_equal(oasis_wire_run(NULL, NULL, NULL, SEC), OASIS_EINVAL);
    assert_true(oasis_wire_drops(NULL) == 0);
    assert_int_equal(oasis_wire_detach(NULL, NULL), OASIS_EINVAL);
    assert_null(oasis_wire_attach(NULL, NULL));
    assert_null(oasis_wire_attach_endpoint(NULL, mac, NULL, NULL));
    assert_int_equal(oasis_wire_impair(NULL, NULL, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_wire_stats_get(NULL, NULL, NULL, &st), OASIS_EINVAL);
    oasis_wire_observe(NULL, NULL, NULL);
    assert_int_equal(oasis_wire_destroy(NULL), 0);

    assert_int_equal(oasis_impair_link_create(NULL, NULL, &il), OASIS_EINVAL);
    assert_int_equal(oasis_impair_link_create(NULL, NULL, NULL), OASIS_EINVAL);
    oasis_impair_link_destroy(NULL);
    assert_null(oasis_impair_link_link(NULL));
    oasis_impair_link_input(NULL, NULL, frame, sizeof frame, NULL);
    oasis_impair_link_flush(NULL, NULL);
    assert_int_equal(oasis_impair_link_stats_get(NULL, 0, &ist), OASIS_EINVAL);

    /* A wire with a handle: out-of-range impairments and unknown links. */
    oasis_clock *c = oasis_clock_new_virtual(SEC);
    oasis_wire *w = NULL;
    assert_int_equal(oasis_wire_create(c, NULL, &w), 0);
    oasis_impair im;
    oasis_impair_init(&im);
    assert_int_equal(oasis_wire_impair(w, NULL, NULL, NULL), OASIS_EINVAL);
    im.loss = 2.0;
    assert_int_equal(oasis_wire_impair(w, NULL, NULL, &im), OASIS_EINVAL);
    im.loss = -1.0;
    assert_int_equal(oasis_wire_impair(w, NULL, NULL, &im), OASIS_EINVAL);
    assert_null(oasis_wire_attach_endpoint(w, NULL, NULL, NULL));
    oasis_link *foreign = (oasis_link *)frame;
    assert_int_equal(oasis_wire_stats_get(w, foreign, foreign, &st), OASIS_EINVAL);
    assert_int_equal(oasis_wire_stats_get(w, NULL, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_wire_run(w, NULL, NULL, SEC), OASIS_EAGAIN);
    assert_int_equal(oasis_wire_destroy(w), 0);
    oasis_clock_free(c);
}

/* ---- loop.h and tap.h: without a device only the NULL forms can be tried --- */

static void test_loop_tap_null(void **state)
{
    (void)state;
    oasis_loop *l = (oasis_loop *)1;
    oasis_loop_counts counts;
    memset(&counts, 0xff, sizeof counts);
    volatile sig_atomic_t flag = 0;
    assert_int_equal(oasis_loop_create(NULL, NULL, &l), OASIS_EINVAL);
    assert_int_equal(oasis_loop_create(NULL, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_loop_destroy(NULL), 0);
    oasis_loop_set_batch(NULL, 3);
    oasis_loop_counts_get(NULL, &counts);
    assert_true(counts.wakeups == 0 && counts.frames == 0);
    oasis_loop_counts_get(NULL, NULL);
    assert_int_equal(oasis_loop_watch(NULL, 0, 1, NULL, NULL), OASIS_EINVAL);
    oasis_loop_set_stop_flag(NULL, &flag);
    oasis_loop_stop(NULL);
    assert_int_equal(oasis_loop_run(NULL, NULL, NULL, 1), OASIS_EINVAL);
    assert_null(oasis_loop_stack(NULL));

    oasis_tap *t = (oasis_tap *)1;
    oasis_tap_place_counts pc;
    assert_int_equal(oasis_tap_open(NULL, &t, NULL, 0), OASIS_EINVAL);
    assert_int_equal(oasis_tap_open(NULL, NULL, NULL, 0), OASIS_EINVAL);
    oasis_tap_close(NULL);
    assert_null(oasis_tap_link(NULL));
    assert_int_equal(oasis_tap_running(NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tap_fd(NULL), -1);
    assert_string_equal(oasis_tap_name(NULL), "");
    assert_int_equal(oasis_tap_mtu(NULL), 0);
    assert_int_equal(oasis_tap_input(NULL, NULL, 1), OASIS_EINVAL);
    oasis_tap_set_input_filter(NULL, NULL, NULL);
    assert_int_equal(oasis_tap_offload(NULL), 0);
    assert_string_equal(oasis_tap_offload_status(NULL), "");
    assert_true(oasis_tap_bad_headers(NULL) == 0);
    assert_true(oasis_tap_rx_placed(NULL) == 0);
    oasis_tap_place_counts_get(NULL, &pc);
    oasis_tap_place_counts_get(NULL, NULL);
    assert_true(oasis_tap_send_drops(NULL) == 0);
}

/* ---- tcp.h ------------------------------------------------------------------- */

static void test_tcp_null(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    oasis_stack *s = n.a;
    oasis_ipaddr b4 = oasis_ipaddr_v4(TEST_ADDR_B);
    oasis_flow *f = (oasis_flow *)1;
    uint8_t buf[16] = {0};
    oasis_ipaddr ia = b4;
    uint16_t port = 9;
    uint32_t a32 = 9;

    assert_int_equal(oasis_tcp_connect(NULL, &b4, PORT, NULL, connect_cb, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_connect(s, NULL, PORT, NULL, connect_cb, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_connect(s, &b4, PORT, NULL, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_connect(s, &b4, 0, NULL, connect_cb, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_connect4(NULL, TEST_ADDR_B, PORT, NULL, connect_cb, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_connect_flow(s, &b4, PORT, NULL, connect_cb, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_connect_flow4(NULL, TEST_ADDR_B, PORT, NULL, connect_cb, NULL, &f),
                     OASIS_EINVAL);
    assert_int_equal(oasis_tcp_connect_opts(NULL, &b4, PORT, NULL, connect_cb, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_connect_opts(s, NULL, PORT, NULL, connect_cb, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_connect_opts4(NULL, TEST_ADDR_B, PORT, NULL, connect_cb, NULL, NULL),
                     OASIS_EINVAL);
    oasis_ipaddr mc = oasis_ipaddr_v4(OASIS_IPV4(224, 0, 0, 1));
    assert_int_equal(oasis_tcp_connect(s, &mc, PORT, NULL, connect_cb, NULL), OASIS_EBADDEST);

    assert_int_equal(oasis_tcp_listen(NULL, PORT, NULL, accept_cb, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_listen(s, PORT, NULL, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_listen(s, PORT, NULL, accept_cb, NULL), 0);
    assert_int_equal(oasis_tcp_listen(s, PORT, NULL, accept_cb, NULL), OASIS_EADDRINUSE);
    assert_int_equal(oasis_tcp_unlisten(NULL, PORT), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_unlisten(s, PORT + 1), OASIS_ENOENT);
    assert_int_equal(oasis_tcp_accept_pause(NULL, PORT), OASIS_ENOENT);
    assert_int_equal(oasis_tcp_accept_pause(s, PORT + 1), OASIS_ENOENT);
    assert_int_equal(oasis_tcp_accept_resume(NULL, PORT), OASIS_ENOENT);
    assert_int_equal(oasis_tcp_accept_resume(s, PORT + 1), OASIS_ENOENT);
    assert_null(oasis_tcp_accept(NULL, PORT));
    assert_null(oasis_tcp_accept(s, PORT + 1));
    assert_null(oasis_tcp_accept(s, PORT));
    assert_int_equal(oasis_tcp_accept_waiting(NULL, PORT), 0);
    assert_int_equal(oasis_tcp_unlisten(s, PORT), 0);
    assert_int_equal(oasis_tcp_unlisten(s, PORT), OASIS_ENOENT);

    assert_int_equal(oasis_tcp_read(NULL, read_cb, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_write(NULL, buf, 4, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_writev(NULL, NULL, 1, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_write_nodelay(NULL, buf, 4, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_writev_nodelay(NULL, NULL, 1, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_write_urgent(NULL, buf, 4, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_urgent_pending(NULL), 0);
    assert_int_equal(oasis_tcp_set_event_cb(NULL, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_close(NULL, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_shutdown(NULL, OASIS_TCP_SHUT_WRITE), OASIS_EINVAL);
    oasis_tcp_abort(NULL);
    oasis_tcp_release(NULL);
    oasis_tcp_dst(NULL, &ia, &port);
    oasis_tcp_src(NULL, &ia, &port);
    oasis_tcp_dst4(NULL, &a32, &port);
    oasis_tcp_src4(NULL, &a32, &port);
    assert_int_equal(oasis_tcp_flow_error(NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_flow_soft_error(NULL), OASIS_EINVAL);
    assert_non_null(oasis_tcp_flow_strerror(NULL));
    oasis_tcp_sndbuf sb;
    oasis_tcp_info ti;
    assert_int_equal(oasis_tcp_get_sndbuf(NULL, &sb), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_nodelay(NULL, 1), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_cc(NULL, OASIS_CC_NEWRENO), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_bufsizes(NULL, 4096, 4096), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_dscp(NULL, 1), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_ttl(NULL, 1), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_keepalive(NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_trim(NULL), OASIS_EINVAL);
    oasis_flow_set_user_data(NULL, buf);
    assert_null(oasis_flow_user_data(NULL));
    assert_null(oasis_flow_stack(NULL));
    oasis_tcp_input4(NULL, TEST_ADDR_B, TEST_ADDR_A, buf, sizeof buf);
    oasis_tcp_input(NULL, &b4, &b4, buf, sizeof buf);
    oasis_tcp_disconnect(NULL);
    assert_int_equal(oasis_tcp_get_info(NULL, &ti), OASIS_EINVAL);
    oasis_tcp_foreach_flow(NULL, NULL, NULL);
    oasis_tcp_foreach_flow(s, NULL, NULL);

    /* A flow handle: NULL out-pointers and values out of range. */
    assert_int_equal(oasis_tcp_connect_flow4(s, TEST_ADDR_B, PORT, NULL, connect_cb, NULL, &f), 0);
    assert_int_equal(oasis_tcp_read(f, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_write(f, NULL, 4, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_writev(f, NULL, 1, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_write_urgent(f, buf, 0, NULL, NULL), OASIS_EINVAL);
    oasis_iovec v[2] = {{NULL, 5}, {buf, 4}};
    assert_int_equal(oasis_tcp_writev(f, v, 2, NULL, NULL), OASIS_EINVAL);
    v[0].base = buf;
    v[0].len = SIZE_MAX;
    assert_int_equal(oasis_tcp_writev(f, v, 2, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_shutdown(f, (oasis_tcp_shutdown_how)77), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_get_sndbuf(f, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_get_info(f, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_cc(f, (oasis_cc_algo)99), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_cc(f, (oasis_cc_algo)-1), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_bufsizes(f, UINT32_MAX, UINT32_MAX), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_bufsizes(f, 1, 1), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_dscp(f, 64), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_dscp(f, 255), OASIS_EINVAL);
    oasis_tcp_dst(f, NULL, NULL);
    oasis_tcp_src(f, NULL, NULL);
    oasis_tcp_dst4(f, NULL, NULL);
    oasis_tcp_src4(f, NULL, NULL);
    /* Wrong state: a second read or close is busy; after close, writes are
     * taken and completed with OASIS_ECLOSED (tcp.h). */
    assert_int_equal(oasis_tcp_read(f, read_cb, NULL), 0);
    assert_int_equal(oasis_tcp_read(f, read_cb, NULL), OASIS_EBUSY);
    assert_int_equal(oasis_tcp_close(f, flow_cb, NULL), 0);
    assert_int_equal(oasis_tcp_close(f, flow_cb, NULL), OASIS_EBUSY);
    oasis_tcp_abort(f);
    oasis_tcp_abort(f);
    assert_int_equal(oasis_tcp_read(f, read_cb, NULL), OASIS_ECLOSED);
    assert_int_equal(oasis_tcp_write(f, buf, 4, NULL, NULL), OASIS_ECLOSED);
    assert_int_equal(oasis_tcp_close(f, NULL, NULL), OASIS_ECLOSED);
    oasis_tcp_release(f);
    oasis_wire_run(n.wire, NULL, NULL, 5 * SEC);
    test_net_fini(&n);
}

/* A write whose length no buffer can have (over PTRDIFF_MAX) is refused at
 * once: taken, the stack would read past the caller's buffer as room came
 * (ASan: stack-buffer-overflow in copy_in once the flow opened). */
static void test_tcp_write_length_no_object_has(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    int accepted = 0;
    assert_int_equal(oasis_tcp_listen(n.b, PORT, NULL, accept_cb, &accepted), 0);
    oasis_flow *f = NULL;
    assert_int_equal(oasis_tcp_connect_flow4(n.a, TEST_ADDR_B, PORT, NULL, connect_cb, NULL, &f), 0);
    uint8_t buf[64] = {0};
    size_t huge = (size_t)PTRDIFF_MAX + 1;
    assert_int_equal(oasis_tcp_write(f, buf, SIZE_MAX, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_write(f, buf, huge, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_write_nodelay(f, buf, huge, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_write_urgent(f, buf, huge, NULL, NULL), OASIS_EINVAL);
    oasis_iovec v = {buf, huge};
    assert_int_equal(oasis_tcp_writev(f, &v, 1, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_writev_nodelay(f, &v, 1, NULL, NULL), OASIS_EINVAL);
    oasis_tcp_sndbuf sb;
    assert_int_equal(oasis_tcp_get_sndbuf(f, &sb), 0);
    assert_true(sb.pending == 0);
    /* The flow opens and nothing was queued. */
    oasis_wire_run(n.wire, NULL, NULL, 2 * SEC);
    assert_int_equal(oasis_tcp_get_sndbuf(f, &sb), 0);
    assert_true(sb.pending == 0);
    oasis_tcp_abort(f);
    oasis_tcp_release(f);
    test_net_fini(&n);
}

/* ---- dns.h, dhcp.h, dhcp6.h --------------------------------------------------- */

static void test_clients_null(void **state)
{
    (void)state;
    test_net n;
    test_net_init6(&n, NULL, NULL);
    oasis_stack *s = n.a;
    oasis_ipaddr b4 = oasis_ipaddr_v4(TEST_ADDR_B);
    uint32_t a32 = TEST_ADDR_B;
    char names[2][OASIS_DNS_NAME_STRLEN];
    oasis_metrics *m = NULL;
    assert_int_equal(oasis_metrics_create(NULL, &m), 0);

    oasis_dns *d = (oasis_dns *)1;
    assert_int_equal(oasis_dns_create(NULL, NULL, &d), OASIS_EINVAL);
    assert_int_equal(oasis_dns_create(s, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_dns_destroy(NULL), 0);
    assert_int_equal(oasis_dns_set_time(NULL, 1), OASIS_EINVAL);
    assert_int_equal(oasis_dns_set_servers_addr(NULL, &b4, 1), OASIS_EINVAL);
    assert_int_equal(oasis_dns_server_addr_ok(NULL), 0);
    assert_int_equal(oasis_dns_servers_addr(NULL, NULL, 4), 0);
    assert_int_equal(oasis_dns_set_servers(NULL, &a32, 1), OASIS_EINVAL);
    assert_int_equal(oasis_dns_servers(NULL, NULL, 4), 0);
    assert_int_equal(oasis_dns_set_search(NULL, NULL, 1), OASIS_EINVAL);
    assert_int_equal(oasis_dns_search(NULL, names, 2), 0);
    assert_int_equal(oasis_dns_resolve(NULL, "a.b", OASIS_DNS_INET, dns_cb, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_dns_cancel(NULL), OASIS_EINVAL);
    oasis_dns_cache_flush(NULL);
    assert_null(oasis_dns_get_counters(NULL));
    assert_null(oasis_dns_stack(NULL));
    assert_int_equal(oasis_dns_add_metrics(m, NULL, NULL, 0), OASIS_EINVAL);

    assert_int_equal(oasis_dns_create(s, NULL, &d), 0);
    assert_int_equal(oasis_dns_set_servers_addr(d, NULL, 1), OASIS_EINVAL);
    assert_int_equal(oasis_dns_set_servers_addr(d, &b4, SIZE_MAX), OASIS_EINVAL);
    oasis_ipaddr bad = oasis_ipaddr_v4(OASIS_IPV4(224, 0, 0, 1));
    assert_int_equal(oasis_dns_set_servers_addr(d, &bad, 1), OASIS_EINVAL);
    memset(&bad, 0, sizeof bad);
    assert_int_equal(oasis_dns_set_servers_addr(d, &bad, 1), OASIS_EINVAL);
    assert_int_equal(oasis_dns_set_servers(d, NULL, 1), OASIS_EINVAL);
    assert_int_equal(oasis_dns_servers_addr(d, NULL, 4), 0);
    assert_int_equal(oasis_dns_servers(d, NULL, 4), 0);
    const char *none[1] = {NULL};
    assert_int_equal(oasis_dns_set_search(d, NULL, 1), OASIS_EINVAL);
    assert_int_equal(oasis_dns_set_search(d, none, 1), OASIS_EINVAL);
    assert_int_equal(oasis_dns_search(d, NULL, 4), 0);
    assert_int_equal(oasis_dns_resolve(d, NULL, OASIS_DNS_INET, dns_cb, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_dns_resolve(d, "a.b", OASIS_DNS_INET, NULL, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_dns_resolve(d, "a.b", (oasis_dns_family)77, dns_cb, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_dns_add_metrics(m, d, NULL, 3), OASIS_EINVAL);
    assert_int_equal(oasis_dns_destroy(d), 0);

    oasis_dhcp *dh = (oasis_dhcp *)1;
    oasis_dhcp_lease lease;
    assert_int_equal(oasis_dhcp_create(NULL, NULL, &dh), OASIS_EINVAL);
    assert_int_equal(oasis_dhcp_create(s, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_dhcp_start(NULL), OASIS_EINVAL);
    oasis_dhcp_stop(NULL, 1);
    assert_int_equal(oasis_dhcp_destroy(NULL), 0);
    assert_int_equal(oasis_dhcp_get_state(NULL), 0);
    assert_int_equal(oasis_dhcp_get_lease(NULL, &lease), OASIS_EINVAL);
    assert_null(oasis_dhcp_stack(NULL));
    assert_null(oasis_dhcp_get_counters(NULL));
    assert_int_equal(oasis_dhcp_add_metrics(m, NULL, NULL, 0), OASIS_EINVAL);
    assert_int_equal(oasis_dhcp_create(s, NULL, &dh), 0);
    assert_int_equal(oasis_dhcp_get_lease(dh, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_dhcp_start(dh), 0);
    assert_int_equal(oasis_dhcp_start(dh), OASIS_EBUSY);
    oasis_dhcp_stop(dh, 1);
    oasis_dhcp_stop(dh, 1);
    assert_int_equal(oasis_dhcp_destroy(dh), 0);

    oasis_dhcp6 *d6 = (oasis_dhcp6 *)1;
    oasis_dhcp6_lease lease6;
    size_t len = 9;
    assert_int_equal(oasis_dhcp6_create(NULL, NULL, &d6), OASIS_EINVAL);
    assert_int_equal(oasis_dhcp6_create(s, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_dhcp6_start(NULL), OASIS_EINVAL);
    oasis_dhcp6_stop(NULL, 1);
    assert_int_equal(oasis_dhcp6_destroy(NULL), 0);
    assert_int_equal(oasis_dhcp6_get_state(NULL), 0);
    assert_int_equal(oasis_dhcp6_get_lease(NULL, &lease6), OASIS_EINVAL);
    assert_null(oasis_dhcp6_duid(NULL, &len));
    assert_null(oasis_dhcp6_get_counters(NULL));
    assert_int_equal(oasis_dhcp6_add_metrics(m, NULL, NULL, 0), OASIS_EINVAL);
    assert_int_equal(oasis_dhcp6_create(s, NULL, &d6), 0);
    assert_int_equal(oasis_dhcp6_get_lease(d6, NULL), OASIS_EINVAL);
    assert_non_null(oasis_dhcp6_duid(d6, NULL));
    assert_int_equal(oasis_dhcp6_start(d6), 0);
    assert_int_equal(oasis_dhcp6_start(d6), OASIS_EBUSY);
    assert_int_equal(oasis_dhcp6_destroy(d6), 0);

    assert_int_equal(oasis_metrics_destroy(m), 0);
    test_net_fini(&n);
}

/* ---- metrics.h, metrics_prom.h, metrics_reporter.h, metrics_control.h -------- */

static void test_metrics_null(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    oasis_stack *s = n.a;
    oasis_metrics *m = (oasis_metrics *)1;
    oasis_metrics_source *src = NULL;
    char out[16];
    assert_int_equal(oasis_metrics_create(NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_destroy(NULL), 0);
    assert_int_equal(oasis_metrics_add_source(NULL, "x", NULL, 0, NULL, NULL, &src), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_remove(NULL), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_remove_by_ud(NULL, NULL), 0);
    oasis_metrics_source_enable(NULL, 1);
    assert_int_equal(oasis_metrics_source_enabled(NULL), 0);
    assert_int_equal(oasis_metrics_enable(NULL, "x", 1), 0);
    assert_int_equal(oasis_metrics_source_error(NULL), OASIS_EINVAL);
    assert_null(oasis_metrics_source_name(NULL));
    assert_int_equal(oasis_metrics_source_count(NULL), 0);
    assert_int_equal(oasis_metrics_field_int(NULL, "k", 1), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_field_uint(NULL, "k", 1), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_field_counter(NULL, "k", 1), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_field_float(NULL, "k", 1), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_field_bool(NULL, "k", 1), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_field_string(NULL, "k", "v"), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_tag(NULL, "k", "v"), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_next_point(NULL), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_collect(NULL, 0, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_add_stack(NULL, s, NULL, 0), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_add_counters(NULL, NULL, NULL, 0), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_add_tcp_flows(NULL, s, NULL, 0, 1), OASIS_EINVAL);
    assert_null(oasis_metrics_layer_field(NULL, 0));
    assert_null(oasis_metrics_layer_field("tcp", SIZE_MAX));
    assert_int_equal(oasis_lp_encode_point(NULL, NULL, 0), OASIS_EINVAL);
    assert_int_equal(oasis_lp_encode_points(NULL, NULL, 3, 0, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_prom_encode(NULL, NULL, NULL, 0), OASIS_EINVAL);
    assert_int_equal(oasis_prom_negotiate(NULL), 0);

    /* oasis_prom_sanitize as snprintf: no buffer, just the length. */
    assert_int_equal(oasis_prom_sanitize(NULL, 10, "abc", 0), 3);
    assert_int_equal(oasis_prom_sanitize(NULL, 0, "abc", 0), 3);
    assert_int_equal(oasis_prom_sanitize(out, 0, "abc", 0), 3);
    assert_int_equal(oasis_prom_sanitize(out, sizeof out, NULL, 0), 1);
    assert_string_equal(out, "_");

    assert_int_equal(oasis_metrics_create(NULL, &m), 0);
    assert_int_equal(oasis_metrics_add_source(m, NULL, NULL, 0, NULL, NULL, &src), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_add_source(m, "x", NULL, 0, NULL, NULL, &src), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_enable(m, NULL, 1), 0);
    assert_int_equal(oasis_metrics_collect(m, 0, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_add_stack(m, NULL, NULL, 0), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_add_stack(m, s, NULL, 2), OASIS_EINVAL);
    oasis_metric_tag t = {NULL, NULL};
    assert_int_equal(oasis_metrics_add_stack(m, s, &t, 1), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_add_counters(m, NULL, NULL, 0), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_add_tcp_flows(m, NULL, NULL, 0, 1), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_source_count(m), 0);
    oasis_lp_buf lb;
    oasis_lp_buf_init(&lb, 1000, NULL, NULL);
    assert_int_equal(oasis_lp_encode_point(&lb, NULL, 0), OASIS_EINVAL);
    assert_int_equal(oasis_lp_encode_points(&lb, NULL, 3, 0, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_prom_encode(&lb, NULL, NULL, 0), OASIS_EINVAL);
    oasis_lp_buf_free(&lb);

    oasis_prom_server *p = (oasis_prom_server *)1;
    assert_int_equal(oasis_prom_server_create(NULL, NULL, NULL, &p), OASIS_EINVAL);
    assert_int_equal(oasis_prom_server_create(s, m, NULL, NULL), OASIS_EINVAL);
    oasis_prom_server_destroy(NULL);
    assert_true(oasis_prom_server_scrapes(NULL) == 0);

    oasis_reporter_config rc;
    oasis_reporter_config_init(&rc);
    oasis_reporter *r = (oasis_reporter *)1;
    assert_int_equal(oasis_reporter_parse_url(NULL, &rc, NULL, 0), OASIS_EINVAL);
    assert_int_equal(oasis_reporter_parse_url("udp://10.0.0.2:8089", NULL, NULL, 0), OASIS_EINVAL);
    assert_int_equal(oasis_reporter_parse_url("zz://", &rc, NULL, 10), OASIS_EINVAL);
    assert_int_equal(oasis_reporter_parse_url("zz://", &rc, out, 0), OASIS_EINVAL);
    assert_int_equal(oasis_reporter_create(NULL, NULL, NULL, &r), OASIS_EINVAL);
    assert_int_equal(oasis_reporter_create(s, m, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_reporter_create(s, m, &rc, &r), OASIS_EINVAL); /* no server */
    oasis_reporter_destroy(NULL);
    assert_int_equal(oasis_reporter_flush(NULL), OASIS_EINVAL);
    assert_int_equal(oasis_reporter_set_interval(NULL, 1), OASIS_EINVAL);
    assert_true(oasis_reporter_interval(NULL) == 0);
    oasis_reporter_stop(NULL);
    assert_int_equal(oasis_reporter_idle(NULL), 1);
    oasis_reporter_get_stats(NULL, NULL);

    oasis_metrics_control *c = (oasis_metrics_control *)1;
    assert_int_equal(oasis_metrics_control_create(NULL, NULL, NULL, NULL, &c), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_control_create(s, m, NULL, NULL, NULL), OASIS_EINVAL);
    oasis_metrics_control_destroy(NULL);

    assert_int_equal(oasis_metrics_destroy(m), 0);
    test_net_fini(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_null),
        cmocka_unit_test(test_error_strings),
        cmocka_unit_test(test_clock_null),
        cmocka_unit_test(test_config_init_null),
        cmocka_unit_test(test_stack_null),
        cmocka_unit_test(test_stack_input_null),
        cmocka_unit_test(test_stack_own_ipv4),
        cmocka_unit_test(test_ipv6_own_address),
        cmocka_unit_test(test_ip_udp_null),
        cmocka_unit_test(test_wire_null),
        cmocka_unit_test(test_loop_tap_null),
        cmocka_unit_test(test_tcp_null),
        cmocka_unit_test(test_tcp_write_length_no_object_has),
        cmocka_unit_test(test_clients_null),
        cmocka_unit_test(test_metrics_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
