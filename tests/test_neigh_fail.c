/* A next hop that does not resolve tells the transports whose datagrams
 * waited for it (src/ip/unreach.c oasis_ip_unreachable_local):
 *  - IPv4, ARP gives up after 1 + 2 + 4 s: host unreachable, as Linux
 *    reports a failed ARP;
 *  - IPv6, ND gives up after three solicitations 1 s apart: address
 *    unreachable, RFC 4861 7.2.2 ("The sender MUST return ICMP destination
 *    unreachable indications with code 3 (Address Unreachable) for each
 *    packet queued awaiting address resolution").
 * UDP's error callback hears of it at once; TCP takes it as the soft
 * error it is (RFC 1122 4.2.3.9: no abort), so a connection attempt goes
 * on retrying and, when it times out, says "host unreachable" rather than
 * "timed out" (unless cfg.tcp.soft_errors_end_connect asks it to end at
 * once). Both stacks are real, on the in-memory wire; the address
 * asked for has no host behind it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "oasis/oasis.h"
#include "testutil.h"

#define NOBODY OASIS_IPV4(10, 0, 0, 9)
#define SEC OASIS_NS_PER_SEC

typedef struct app {
    int connected, connect_err;
    int icmp_events, soft_err_seen;
    int errs;
    oasis_udp_error err;
    oasis_ipaddr err_dst, err_reporter;
} app;

static void on_connect(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    app *a = ud;
    (void)s;
    (void)f;
    a->connected++;
    a->connect_err = err;
}

/* RFC 9293 3.9.1.8: the report that an ICMP error (here one from
 * ourselves) arrived, with its reason. */
static void on_event(oasis_flow *f, oasis_tcp_event ev, void *ud)
{
    app *a = ud;
    if (ev == OASIS_TCP_EV_ICMP) {
        a->icmp_events++;
        a->soft_err_seen = oasis_tcp_flow_soft_error(f);
    }
}

static void on_udp(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport, const oasis_ipaddr *dst,
                   uint16_t dport, const uint8_t *data, size_t len, void *ud)
{
    (void)s, (void)src, (void)sport, (void)dst, (void)dport, (void)data, (void)len, (void)ud;
}

static void on_udp_err(oasis_stack *s, const oasis_udp_error *e, void *ud)
{
    app *a = ud;
    (void)s;
    a->errs++;
    a->err = *e;
}

static const oasis_tcp_counters *tcpc(oasis_stack *s) { return &oasis_stack_counters(s)->tcp; }

/* The common part: a UDP datagram and a TCP attempt to dst, which no host
 * answers; fail_at is when resolution gives up (from t0). */
static void check(test_net *n, const oasis_ipaddr *dst, const oasis_ipaddr *us, uint64_t fail_at,
                  uint8_t type, uint8_t code)
{
    app a;
    memset(&a, 0, sizeof a);
    uint64_t t0 = oasis_clock_now(n->clock);
    assert_int_equal(oasis_udp_bind(n->a, 5000, on_udp, &a), 0);
    assert_int_equal(oasis_udp_set_error_cb(n->a, 5000, on_udp_err), 0);
    assert_int_equal(oasis_udp_send(n->a, 5000, dst, 53, "q", 1), 0);
    oasis_flow *f = NULL;
    assert_int_equal(oasis_tcp_connect_flow(n->a, dst, 80, NULL, on_connect, &a, &f), 0);
    assert_int_equal(oasis_tcp_set_event_cb(f, on_event, &a), 0);

    oasis_wire_run(n->wire, NULL, NULL, fail_at - 1);
    assert_int_equal(a.errs, 0);
    assert_int_equal(tcpc(n->a)->icmp_soft_errors, 0);
    test_net_run_until(n, &a.errs, 2);
    assert_int_equal(oasis_clock_now(n->clock) - t0, fail_at);

    /* UDP: told at once, with what an ICMP error from ourselves says. */
    assert_int_equal(a.errs, 1);
    assert_int_equal(a.err.err, OASIS_EHOSTUNREACH);
    assert_int_equal(a.err.type, type);
    assert_int_equal(a.err.code, code);
    assert_int_equal(a.err.src_port, 5000);
    assert_int_equal(a.err.dst_port, 53);
    assert_int_equal(oasis_ipaddr_cmp(&a.err.dst, dst), 0);
    assert_int_equal(oasis_ipaddr_cmp(&a.err.reporter, us), 0);

    /* TCP: a soft error per SYN that waited (ND keeps each retransmission,
     * ARP only the latest copy), remembered; the attempt goes on. */
    uint64_t soft = tcpc(n->a)->icmp_soft_errors;
    assert_true(soft >= 1);
    assert_int_equal(a.connected, 0);
    assert_int_equal(oasis_tcp_flow_error(f), 0);
    assert_int_equal(oasis_tcp_flow_soft_error(f), OASIS_EHOSTUNREACH);
    assert_true(a.icmp_events >= 1); /* reported at once (several in a round: once) */
    assert_int_equal(a.soft_err_seen, OASIS_EHOSTUNREACH);
    test_net_run_until(n, &a.connected, 600 * SEC);
    assert_int_equal(a.connected, 1);
    assert_int_equal(a.connect_err, OASIS_EHOSTUNREACH);
    assert_int_equal(oasis_tcp_flow_error(f), OASIS_EHOSTUNREACH);
    assert_int_equal(oasis_tcp_flow_soft_error(f), 0); /* ended: flow_error says it */
    /* Every SYN retransmission waited for a resolution that failed too. */
    assert_true(tcpc(n->a)->icmp_soft_errors > soft);
    oasis_tcp_release(f);
    assert_int_equal(oasis_udp_unbind(n->a, 5000), 0);
}

static void test_arp_failure_tells_udp_and_tcp(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    oasis_ipaddr dst = oasis_ipaddr_v4(NOBODY), us = oasis_ipaddr_v4(TEST_ADDR_A);
    check(&n, &dst, &us, 7 * SEC, 3 /* destination unreachable */, 1 /* host */);
    assert_true(oasis_stack_counters(n.a)->arp.resolve_failed >= 1);
    test_net_fini(&n);
}

static void test_nd_failure_tells_udp_and_tcp(void **state)
{
    (void)state;
    test_net n;
    test_net_init6(&n, NULL, NULL);
    oasis_wire_run(n.wire, NULL, NULL, 5 * SEC); /* DAD */
    oasis_ipaddr dst, us = test_link_local(n.a);
    assert_int_equal(oasis_ipaddr_parse("fe80::9", &dst), 0);
    check(&n, &dst, &us, 3 * SEC, 1 /* destination unreachable */, 3 /* address */);
    assert_true(oasis_stack_counters(n.a)->nd.resolve_failed >= 1);
    test_net_fini(&n);
}

/* With cfg.tcp.soft_errors_end_connect (RFC 5461 4, what Linux does), the
 * attempt ends when resolution gives up, with "host unreachable", instead
 * of retrying for minutes. */
static void ends_connect(test_net *n, const oasis_ipaddr *dst, uint64_t fail_at)
{
    app a;
    memset(&a, 0, sizeof a);
    uint64_t t0 = oasis_clock_now(n->clock);
    oasis_flow *f = NULL;
    assert_int_equal(oasis_tcp_connect_flow(n->a, dst, 80, NULL, on_connect, &a, &f), 0);
    oasis_wire_run(n->wire, NULL, NULL, fail_at - 1);
    assert_int_equal(a.connected, 0);
    test_net_run_until(n, &a.connected, 600 * SEC);
    assert_int_equal(a.connected, 1);
    assert_int_equal(oasis_clock_now(n->clock) - t0, fail_at);
    assert_int_equal(a.connect_err, OASIS_EHOSTUNREACH);
    assert_int_equal(oasis_tcp_flow_error(f), OASIS_EHOSTUNREACH);
    assert_int_equal(tcpc(n->a)->attempt_fails, 1);
    oasis_tcp_release(f);
}

static void test_failed_resolution_ends_connect_when_asked(void **state)
{
    (void)state;
    oasis_stack_config d;
    oasis_stack_config_init(&d);
    oasis_tcp_config t = d.tcp;
    t.soft_errors_end_connect = 1;
    test_net n;
    test_net_init(&n, NULL, &t);
    oasis_ipaddr dst = oasis_ipaddr_v4(NOBODY);
    ends_connect(&n, &dst, 7 * SEC);
    test_net_fini(&n);

    test_net_init6(&n, NULL, &t);
    oasis_wire_run(n.wire, NULL, NULL, 5 * SEC); /* DAD */
    assert_int_equal(oasis_ipaddr_parse("fe80::9", &dst), 0);
    ends_connect(&n, &dst, 3 * SEC);
    test_net_fini(&n);
}

/* A datagram that found its neighbour is not told anything. */
static void test_resolved_neighbour_tells_nothing(void **state)
{
    (void)state;
    test_net n;
    app a;
    memset(&a, 0, sizeof a);
    test_net_init(&n, NULL, NULL);
    oasis_ipaddr b = oasis_ipaddr_v4(TEST_ADDR_B);
    assert_int_equal(oasis_udp_bind(n.a, 5000, on_udp, &a), 0);
    assert_int_equal(oasis_udp_set_error_cb(n.a, 5000, on_udp_err), 0);
    assert_int_equal(oasis_udp_bind(n.b, 53, on_udp, &a), 0);
    assert_int_equal(oasis_udp_send(n.a, 5000, &b, 53, "q", 1), 0);
    oasis_wire_run(n.wire, NULL, NULL, 30 * SEC);
    assert_int_equal(a.errs, 0);
    assert_int_equal(oasis_stack_counters(n.a)->arp.resolve_failed, 0);
    assert_int_equal(oasis_stack_counters(n.b)->udp.in_datagrams, 1);
    test_net_fini(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arp_failure_tells_udp_and_tcp),
        cmocka_unit_test(test_nd_failure_tells_udp_and_tcp),
        cmocka_unit_test(test_failed_resolution_ends_connect_when_asked),
        cmocka_unit_test(test_resolved_neighbour_tells_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
