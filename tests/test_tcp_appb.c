/* RFC 9293 Appendix B rows about connection failures (3.8.3: R1, R2),
 * the IP fields of a flow (3.9.1.9, 3.9.2: Diffserv, TTL) and what IP
 * does with source routes, each test naming its ReqID. Hand-built
 * segments against one stack, virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arp/arp.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_seq.h"
#include "tcp_harness.h"

#define PORT 80
#define A OASIS_TCP_ACK
#define S OASIS_TCP_SYN
#define SEC OASIS_NS_PER_SEC
#define MS OASIS_NS_PER_MS

typedef struct fx {
    tcp_harness h;
    th_app a;
    uint32_t iss;
    uint32_t pnxt;
    int events[8];
} fx;

static int setup_cfg(void **state, const oasis_tcp_config *cfg)
{
    fx *x = calloc(1, sizeof *x);
    th_init(&x->h, cfg);
    th_app_init(&x->a);
    *state = x;
    return 0;
}

static int setup(void **state) { return setup_cfg(state, NULL); }

static int teardown(void **state)
{
    fx *x = *state;
    th_fini(&x->h);
    th_app_fini(&x->a);
    free(x);
    return 0;
}

static void on_event(oasis_flow *flow, oasis_tcp_event ev, void *ud)
{
    (void)flow;
    fx *x = ud;
    assert_true(ev < 8);
    x->events[ev]++;
}

static void open_flow(fx *x)
{
    x->iss = th_open_passive(&x->h, &x->a, PORT, NULL);
    x->pnxt = TH_PISN + 1;
    th_clear(&x->h);
}

/* Runs to the flow's next retransmission timeout; 1 if it fired and
 * something was sent. */
static int next_rto(fx *x)
{
    uint64_t t = x->a.flow->tm.rexmt;
    if (t == OASIS_TCP_NEVER)
        return 0;
    th_run_until(&x->h, t);
    int n = 0;
    oasis_tcp_hdr r;
    while (th_pop(&x->h, &r))
        n++;
    return n > 0;
}

/* MUST-20 (b), SHLD-9, SHLD-10: after the third retransmission of the same
 * segment (R1 = 3) the neighbour is checked again (a unicast ARP request
 * to the MAC in use: negative advice to IP) and the application hears of
 * the delivery problem, once per episode; not before. An ACK of the data
 * ends the episode and a later one is reported again. */
static void test_r1_negative_advice_and_report(void **state)
{
    fx *x = *state;
    open_flow(x);
    assert_int_equal(oasis_tcp_set_event_cb(x->a.flow, on_event, x), 0);
    assert_int_equal(oasis_tcp_write(x->a.flow, "hello", 5, NULL, NULL), 0);
    th_poll(&x->h);
    th_clear(&x->h);
    uint64_t arp0 = x->h.arp_unicast;
    for (int i = 1; i <= 2; i++) {
        assert_true(next_rto(x));
        th_poll(&x->h);
        assert_int_equal(x->a.flow->retries, i);
        assert_int_equal(x->h.arp_unicast, arp0);
        assert_int_equal(x->events[OASIS_TCP_EV_RETRANSMIT], 0);
    }
    assert_true(next_rto(x)); /* the third retransmission: R1 */
    th_poll(&x->h);
    assert_int_equal(x->a.flow->retries, 3);
    assert_int_equal(x->h.arp_unicast, arp0 + 1);
    assert_int_equal(x->events[OASIS_TCP_EV_RETRANSMIT], 1);
    assert_true(next_rto(x)); /* beyond R1: reported once only */
    th_poll(&x->h);
    assert_int_equal(x->events[OASIS_TCP_EV_RETRANSMIT], 1);
    oasis_tcp_info i;
    assert_int_equal(oasis_tcp_get_info(x->a.flow, &i), 0);
    assert_int_equal(i.state, OASIS_TCP_ESTABLISHED); /* R2 is far */

    /* the peer answers: the episode is over; a new one is reported anew */
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, x->pnxt, x->iss + 6);
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    assert_int_equal(oasis_tcp_write(x->a.flow, "again", 5, NULL, NULL), 0);
    th_poll(&x->h);
    th_clear(&x->h);
    for (int k = 0; k < 3; k++)
        assert_true(next_rto(x));
    th_poll(&x->h);
    assert_int_equal(x->events[OASIS_TCP_EV_RETRANSMIT], 2);
}

/* Negative advice acts on the neighbour: when the re-checked neighbour
 * stays silent its ARP entry goes, and the next datagram asks for it by
 * broadcast again. */
static void test_r1_silent_neighbour_is_forgotten(void **state)
{
    fx *x = *state;
    open_flow(x);
    uint8_t mac[6];
    assert_int_equal(oasis_arp_lookup(x->h.s, TH_PEER, mac), 0);
    assert_int_equal(oasis_tcp_write(x->a.flow, "hello", 5, NULL, NULL), 0);
    th_poll(&x->h);
    th_clear(&x->h);
    x->h.arp_mute = 1; /* the neighbour has gone */
    uint64_t req0 = x->h.arp_unicast;
    for (int k = 0; k < 3; k++)
        th_run_until(&x->h, x->a.flow->tm.rexmt);
    th_clear(&x->h);
    assert_int_equal(x->h.arp_unicast, req0 + 1);
    assert_int_equal(oasis_arp_lookup(x->h.s, TH_PEER, mac), 0); /* kept while asked */
    th_advance(&x->h, 3 * SEC + 1); /* cfg.arp_retries unicast requests, 1 s apart */
    assert_int_equal(x->h.arp_unicast, req0 + 3);
    assert_int_equal(oasis_arp_lookup(x->h.s, TH_PEER, mac), OASIS_ENOENT);
    /* the next datagram (the next retransmission) asks by broadcast */
    uint64_t bcast = x->h.arp_requests - x->h.arp_unicast;
    th_run_until(&x->h, x->a.flow->tm.rexmt);
    assert_int_equal(x->h.arp_requests - x->h.arp_unicast, bcast + 1);
}

/* MUST-22, MUST-23, SHLD-9 for SYNs: a SYN is retransmitted for at least
 * three minutes before the attempt fails (183 s with the defaults), R1
 * gives negative advice and a report (on an oasis_tcp_connect_flow
 * handle) as for data. */
static void test_syn_r2_three_minutes(void **state)
{
    fx *x = *state;
    oasis_flow *f = NULL;
    uint64_t t0 = th_now(&x->h);
    assert_int_equal(oasis_tcp_connect_flow(x->h.s, TH_PEER, 8080, NULL, th_connect_cb, &x->a, &f),
                     0);
    assert_int_equal(oasis_tcp_set_event_cb(f, on_event, x), 0);
    uint64_t arp0 = x->h.arp_unicast;
    int syns = 0;
    uint64_t last_syn = 0;
    while (th_now(&x->h) < t0 + 180 * SEC) {
        th_advance(&x->h, 100 * MS);
        oasis_tcp_hdr r;
        while (th_pop(&x->h, &r)) {
            assert_int_equal(r.flags, S);
            syns++;
            last_syn = th_now(&x->h);
        }
    }
    assert_int_equal(x->a.connected, 0); /* still trying at 3 minutes */
    assert_int_equal(syns, 1 + 7);
    assert_true(last_syn >= t0 + 123 * SEC);
    assert_true(x->h.arp_unicast > arp0);
    assert_int_equal(x->events[OASIS_TCP_EV_RETRANSMIT], 1);
    th_run_until(&x->h, t0 + 184 * SEC);
    assert_int_equal(x->a.connected, 1);
    assert_int_equal(x->a.connect_err, OASIS_ETIMEDOUT);
    oasis_tcp_release(f);
}

/* SHLD-11: R2 for data is over 100 s even on a fast path (RTO at its
 * 200 ms floor): a peer silent for 100 s has not yet killed the flow. */
static void test_data_r2_over_100s(void **state)
{
    fx *x = *state;
    open_flow(x);
    assert_int_equal(oasis_tcp_write(x->a.flow, "hello", 5, NULL, NULL), 0);
    th_poll(&x->h);
    uint64_t t0 = th_now(&x->h);
    assert_true(x->a.flow->tm.rexmt - t0 <= 1 * SEC);
    th_run_until(&x->h, t0 + 100 * SEC);
    th_clear(&x->h);
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), 0);
    th_run_until(&x->h, t0 + 3600 * SEC);
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), OASIS_ETIMEDOUT);
}

static int setup_dscp10(void **state)
{
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.dscp = 10;
    return setup_cfg(state, &c.tcp);
}

/* Pops every segment sent so far; all must carry tos and ttl; returns
 * how many there were. */
static int expect_ip_fields(fx *x, uint8_t tos, uint8_t ttl)
{
    int n = 0;
    oasis_tcp_hdr r;
    while (th_pop(&x->h, &r)) {
        assert_int_equal(x->h.last_tos, tos);
        assert_int_equal(x->h.last_ttl, ttl);
        n++;
    }
    return n;
}

/* MUST-48, SHLD-22: the stack's default Diffserv codepoint is on every
 * segment of a flow, the SYN-ACK included (cfg.tcp.dscp 10: TOS byte
 * 40); the application sets its own per flow (EF, 46: TOS 0xb8), passed
 * unchanged to IP; SHLD-21: it may change during the connection, and
 * retransmissions carry the current value. Out of range: OASIS_EINVAL. */
static void test_dscp_on_the_wire(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    th_inject(&x->h, &syn);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, S | A);
    assert_int_equal(x->h.last_tos, 10 << 2);
    x->iss = r.seq;
    x->pnxt = TH_PISN + 1;
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, x->pnxt, x->iss + 1);
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    assert_non_null(x->a.flow);
    assert_int_equal(oasis_tcp_write(x->a.flow, "a", 1, NULL, NULL), 0);
    th_poll(&x->h);
    assert_int_equal(expect_ip_fields(x, 10 << 2, 64), 1);

    assert_int_equal(oasis_tcp_set_dscp(x->a.flow, 64), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_dscp(x->a.flow, 46), 0);
    th_run_until(&x->h, x->a.flow->tm.rexmt); /* the retransmission of "a" */
    assert_int_equal(expect_ip_fields(x, 0xb8, 64), 1);
    ack.ack = x->iss + 2;
    th_inject(&x->h, &ack);
    assert_int_equal(oasis_tcp_write(x->a.flow, "b", 1, NULL, NULL), 0);
    th_poll(&x->h);
    assert_int_equal(expect_ip_fields(x, 0xb8, 64), 1);
    assert_int_equal(oasis_tcp_set_dscp(x->a.flow, 0), 0); /* and back */
    ack.ack = x->iss + 3;
    th_inject(&x->h, &ack);
    assert_int_equal(oasis_tcp_write(x->a.flow, "c", 1, NULL, NULL), 0);
    th_poll(&x->h);
    assert_int_equal(expect_ip_fields(x, 0, 64), 1);
}

/* MUST-49: the TTL of TCP segments is configurable: the stack's cfg.ttl
 * (64) by default, per flow with oasis_tcp_set_ttl (also an active open's
 * SYN retransmissions), 0 goes back to the stack's. */
static void test_ttl_on_the_wire(void **state)
{
    fx *x = *state;
    oasis_flow *f = NULL;
    assert_int_equal(oasis_tcp_connect_flow(x->h.s, TH_PEER, 8080, NULL, th_connect_cb, &x->a, &f),
                     0);
    th_poll(&x->h);
    assert_int_equal(expect_ip_fields(x, 0, 64), 1); /* the first SYN: the stack's */
    assert_int_equal(oasis_tcp_set_ttl(f, 7), 0);
    assert_int_equal(oasis_tcp_set_dscp(f, 8), 0);
    th_run_until(&x->h, f->tm.rexmt);
    assert_int_equal(expect_ip_fields(x, 8 << 2, 7), 1); /* the retransmitted SYN */
    assert_int_equal(oasis_tcp_set_ttl(f, 0), 0);
    th_run_until(&x->h, f->tm.rexmt);
    assert_int_equal(expect_ip_fields(x, 8 << 2, 64), 1);
    oasis_tcp_release(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_r1_negative_advice_and_report),
        T(test_r1_silent_neighbour_is_forgotten),
        T(test_syn_r2_three_minutes),
        T(test_data_r2_over_100s),
        cmocka_unit_test_setup_teardown(test_dscp_on_the_wire, setup_dscp10, teardown),
        T(test_ttl_on_the_wire),
    };
    if (getenv("TCP_TEST"))
        cmocka_set_test_filter(getenv("TCP_TEST"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
