/* NewReno congestion control (RFC 5681, 6582, 3465, 6928). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcp/tcp_cc.h"

#define MSS 1000u

static const oasis_cc_ops *nr(void)
{
    const oasis_cc_ops *ops = oasis_cc_get(OASIS_CC_NEWRENO);
    assert_non_null(ops);
    return ops;
}

static void test_registry(void **state)
{
    (void)state;
    assert_ptr_equal(oasis_cc_get(OASIS_CC_NEWRENO), &oasis_cc_newreno);
    assert_string_equal(oasis_cc_newreno.name, "newreno");
    assert_non_null(oasis_cc_get(OASIS_CC_CUBIC));
    assert_string_equal(oasis_cc_get(OASIS_CC_CUBIC)->name, "cubic");
    assert_null(oasis_cc_get((oasis_cc_algo)99));
    /* Every mandatory hook is there. */
    const oasis_cc_ops *o = nr();
    assert_non_null(o->init);
    assert_non_null(o->on_ack);
    assert_non_null(o->on_enter_recovery);
    assert_non_null(o->on_recovery_ack);
    assert_non_null(o->on_dupack);
    assert_non_null(o->on_rto);
}

static void test_initial_window(void **state)
{
    (void)state;
    static const struct {
        uint32_t mss, iw;
    } cases[] = {
        {1460, 14600}, /* 10 * 1460 */
        {1000, 10000},
        {536, 5360},
        {1500, 14600}, /* capped by max(2*MSS, 14600) */
        {9000, 18000}, /* jumbo: 2 * MSS */
        {0, 5360},     /* no MSS: 536 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        oasis_cc_state cc;
        cc.priv[3] = 42;
        nr()->init(&cc, cases[i].mss, 0);
        assert_int_equal(cc.cwnd, cases[i].iw);
        assert_int_equal(cc.ssthresh, UINT32_MAX);
        assert_int_equal(cc.bytes_acked, 0);
        assert_int_equal(cc.priv[3], 0);
    }
}

static void test_slow_start_abc(void **state)
{
    (void)state;
    oasis_cc_state cc;
    nr()->init(&cc, MSS, 0);
    assert_int_equal(cc.cwnd, 10000);
    /* One ACK per segment: + 1 MSS each. */
    nr()->on_ack(&cc, 1000, 10000, 0, 0);
    assert_int_equal(cc.cwnd, 11000);
    /* A stretch ACK counts at most L = 2 MSS. */
    nr()->on_ack(&cc, 5000, 11000, 0, 0);
    assert_int_equal(cc.cwnd, 13000);
    nr()->on_ack(&cc, 1500, 13000, 0, 0);
    assert_int_equal(cc.cwnd, 14500);
    /* Delayed ACKs (2 MSS each) over one window still double cwnd. */
    nr()->init(&cc, MSS, 0);
    uint32_t w = cc.cwnd;
    for (uint32_t acked = 0; acked < w; acked += 2000)
        nr()->on_ack(&cc, 2000, w, 0, 0);
    assert_int_equal(cc.cwnd, 2 * w);
    /* Nothing acked, nothing grows. */
    nr()->on_ack(&cc, 0, cc.cwnd, 0, 0);
    assert_int_equal(cc.cwnd, 2 * w);
}

static void test_slow_start_app_limited(void **state)
{
    (void)state;
    oasis_cc_state cc;
    nr()->init(&cc, MSS, 0);
    /* Less than half the window in flight: the window was not tested. */
    nr()->on_ack(&cc, 1000, 4000, 0, 0);
    assert_int_equal(cc.cwnd, 10000);
    nr()->on_ack(&cc, 1000, 5000, 0, 0);
    assert_int_equal(cc.cwnd, 11000);
}

static void test_slow_start_to_avoidance(void **state)
{
    (void)state;
    oasis_cc_state cc;
    nr()->init(&cc, MSS, 0);
    cc.ssthresh = 10500;
    /* The part beyond ssthresh is counted by congestion avoidance. */
    nr()->on_ack(&cc, 2000, 10000, 0, 0);
    assert_int_equal(cc.cwnd, 10500);
    assert_int_equal(cc.bytes_acked, 1500);
}

/* About one MSS per RTT, whatever the ACK pattern. */
static void test_congestion_avoidance(void **state)
{
    (void)state;
    oasis_cc_state cc;
    nr()->init(&cc, MSS, 0);
    cc.cwnd = 20000;
    cc.ssthresh = 20000;
    for (int rtt = 0; rtt < 5; rtt++) {
        uint32_t w = cc.cwnd;
        for (uint32_t acked = 0; acked < w; acked += MSS)
            nr()->on_ack(&cc, MSS, w, 0, 0);
        assert_int_equal(cc.cwnd, w + MSS);
    }
    assert_int_equal(cc.cwnd, 25000);
    /* Delayed ACKs: the same growth. */
    uint32_t w = cc.cwnd;
    for (uint32_t acked = 0; acked < w + 1000; acked += 2 * MSS)
        nr()->on_ack(&cc, 2 * MSS, w, 0, 0);
    assert_int_equal(cc.cwnd, w + MSS);
    /* Application-limited: no growth. */
    w = cc.cwnd;
    for (int i = 0; i < 100; i++)
        nr()->on_ack(&cc, MSS, w / 2, 0, 0);
    assert_int_equal(cc.cwnd, w);
    /* Within one MSS of full counts as full. */
    for (uint32_t acked = 0; acked < w; acked += MSS)
        nr()->on_ack(&cc, MSS, w - MSS + 1, 0, 0);
    assert_int_equal(cc.cwnd, w + MSS);
}

static void test_fast_recovery_entry(void **state)
{
    (void)state;
    oasis_cc_state cc;
    nr()->init(&cc, MSS, 0);
    cc.cwnd = 20000;
    nr()->on_enter_recovery(&cc, 20000, 0, 0);
    assert_int_equal(cc.ssthresh, 10000);
    assert_int_equal(cc.cwnd, 13000);
    /* Uses FlightSize, not cwnd; and never below 2 MSS. */
    nr()->init(&cc, MSS, 0);
    cc.cwnd = 50000;
    nr()->on_enter_recovery(&cc, 3000, 0, 0);
    assert_int_equal(cc.ssthresh, 2000);
    assert_int_equal(cc.cwnd, 5000);
    /* SACK recovery (RFC 6675 4.2): cwnd = ssthresh, PRR paces. */
    nr()->init(&cc, MSS, 0);
    nr()->on_enter_recovery(&cc, 20000, 1, 0);
    assert_int_equal(cc.ssthresh, 10000);
    assert_int_equal(cc.cwnd, 10000);
}

static void test_recovery_dupacks_and_partial_acks(void **state)
{
    (void)state;
    oasis_cc_state cc;
    nr()->init(&cc, MSS, 0);
    nr()->on_enter_recovery(&cc, 20000, 0, 0);
    assert_int_equal(cc.cwnd, 13000);
    nr()->on_dupack(&cc);
    nr()->on_dupack(&cc);
    assert_int_equal(cc.cwnd, 15000);
    /* Partial ACK of 3 MSS: deflate by 3000, add back 1 MSS. */
    nr()->on_recovery_ack(&cc, 3000, 0, 0, 17000, 0);
    assert_int_equal(cc.cwnd, 13000);
    /* Less than one MSS acked: no add-back. */
    nr()->on_recovery_ack(&cc, 500, 0, 0, 16500, 0);
    assert_int_equal(cc.cwnd, 12500);
    /* Acked more than cwnd: floor at 1 MSS. */
    nr()->on_recovery_ack(&cc, 100000, 0, 0, 1000, 0);
    assert_int_equal(cc.cwnd, MSS); /* 0 + MSS add-back */
    cc.cwnd = 1500;
    nr()->on_recovery_ack(&cc, 900, 0, 0, 1000, 0);
    assert_int_equal(cc.cwnd, MSS);
    /* SACK recovery: a partial ACK leaves cwnd to PRR. */
    nr()->on_enter_recovery(&cc, 20000, 1, 0);
    nr()->on_recovery_ack(&cc, 3000, 0, 1, 17000, 0);
    assert_int_equal(cc.cwnd, 10000);
}

static void test_full_ack_exit(void **state)
{
    (void)state;
    oasis_cc_state cc;
    nr()->init(&cc, MSS, 0);
    nr()->on_enter_recovery(&cc, 20000, 0, 0);
    /* Little left in flight: no burst, cwnd = flight + MSS. */
    nr()->on_recovery_ack(&cc, 8000, 1, 0, 4000, 0);
    assert_int_equal(cc.cwnd, 5000);
    assert_int_equal(cc.bytes_acked, 0);
    /* Plenty in flight: ssthresh. */
    nr()->on_enter_recovery(&cc, 20000, 0, 0);
    nr()->on_recovery_ack(&cc, 8000, 1, 0, 30000, 0);
    assert_int_equal(cc.cwnd, cc.ssthresh);
    /* After SACK recovery (RFC 6675, 9937): ssthresh whatever the flight. */
    nr()->on_enter_recovery(&cc, 20000, 1, 0);
    nr()->on_recovery_ack(&cc, 8000, 1, 1, 0, 0);
    assert_int_equal(cc.cwnd, cc.ssthresh);
    /* Nothing in flight: max(flight, MSS) + MSS. */
    nr()->on_enter_recovery(&cc, 20000, 0, 0);
    nr()->on_recovery_ack(&cc, 8000, 1, 0, 0, 0);
    assert_int_equal(cc.cwnd, 2 * MSS);
    /* Back to congestion avoidance (cwnd < ssthresh: slow start to it). */
    nr()->on_ack(&cc, 1000, 2000, 0, 0);
    assert_int_equal(cc.cwnd, 3 * MSS);
}

static void test_rto(void **state)
{
    (void)state;
    oasis_cc_state cc;
    nr()->init(&cc, MSS, 0);
    cc.cwnd = 40000;
    nr()->on_rto(&cc, 20000, 0, 0);
    assert_int_equal(cc.cwnd, MSS);
    assert_int_equal(cc.ssthresh, 10000);
    /* The same segment times out again: ssthresh holds. */
    nr()->on_rto(&cc, 4000, 0, 0);
    assert_int_equal(cc.ssthresh, 10000);
    assert_int_equal(cc.cwnd, MSS);
    /* New data acked in between: the next timeout recomputes. */
    nr()->on_ack(&cc, 1000, 1000, 0, 0);
    assert_int_equal(cc.cwnd, 2 * MSS); /* slow start again */
    nr()->on_rto(&cc, 4000, 0, 0);
    assert_int_equal(cc.ssthresh, 2 * MSS);
    assert_int_equal(cc.cwnd, MSS);
    /* A timeout during recovery abandons it. */
    nr()->init(&cc, MSS, 0);
    nr()->on_enter_recovery(&cc, 20000, 0, 0);
    nr()->on_rto(&cc, 20000, 1, 0);
    assert_int_equal(cc.cwnd, MSS);
    assert_int_equal(cc.ssthresh, 10000);
}

static void test_idle_restart(void **state)
{
    (void)state;
    oasis_cc_state cc;
    nr()->init(&cc, MSS, 0);
    assert_non_null(nr()->on_idle);
    cc.cwnd = 50000;
    nr()->on_idle(&cc, 100, 200, 1000);
    assert_int_equal(cc.cwnd, 50000);
    nr()->on_idle(&cc, 300, 200, 1000);
    assert_int_equal(cc.cwnd, 10000);
    cc.cwnd = 3000;
    nr()->on_idle(&cc, 300, 200, 1000);
    assert_int_equal(cc.cwnd, 3000);
}

/* cwnd saturates instead of wrapping, and never drops below one MSS. */
static void test_bounds(void **state)
{
    (void)state;
    oasis_cc_state cc;
    nr()->init(&cc, MSS, 0);
    cc.cwnd = UINT32_MAX - 500;
    nr()->on_ack(&cc, 2000, UINT32_MAX, 0, 0);
    assert_int_equal(cc.cwnd, UINT32_MAX);
    nr()->on_ack(&cc, 2000, UINT32_MAX, 0, 0);
    assert_int_equal(cc.cwnd, UINT32_MAX);
    nr()->on_enter_recovery(&cc, UINT32_MAX, 0, 0);
    assert_int_equal(cc.cwnd, UINT32_MAX / 2 + 3 * MSS);
    cc.cwnd = UINT32_MAX - 1500;
    for (int i = 0; i < 10; i++)
        nr()->on_dupack(&cc);
    assert_int_equal(cc.cwnd, UINT32_MAX);

    uint32_t x = 99;
    int rec = 0;
    nr()->init(&cc, MSS, 0);
    for (int i = 0; i < 100000; i++) {
        x = x * 1664525u + 1013904223u;
        uint32_t a = (x >> 4) % 30000, fl = (x >> 12) % 60000;
        switch (x >> 29) {
        case 0:
        case 1:
            nr()->on_ack(&cc, a, fl, 0, 0);
            break;
        case 2:
            if (!rec)
                nr()->on_enter_recovery(&cc, fl, (int)(x & 1), 0);
            rec = 1;
            break;
        case 3:
            nr()->on_dupack(&cc);
            break;
        case 4:
        case 5:
            if (rec)
                nr()->on_recovery_ack(&cc, a, (x >> 3) & 1, (int)(x & 1), fl, 0);
            if ((x >> 3) & 1)
                rec = 0;
            break;
        case 6:
            nr()->on_rto(&cc, fl, rec, 0);
            rec = 0;
            break;
        default:
            nr()->on_idle(&cc, a, 10000, a);
        }
        assert_true(cc.cwnd >= MSS);
        assert_true(cc.ssthresh >= 2 * MSS);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_initial_window),
        cmocka_unit_test(test_slow_start_abc),
        cmocka_unit_test(test_slow_start_app_limited),
        cmocka_unit_test(test_slow_start_to_avoidance),
        cmocka_unit_test(test_congestion_avoidance),
        cmocka_unit_test(test_fast_recovery_entry),
        cmocka_unit_test(test_recovery_dupacks_and_partial_acks),
        cmocka_unit_test(test_full_ack_exit),
        cmocka_unit_test(test_rto),
        cmocka_unit_test(test_idle_restart),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
