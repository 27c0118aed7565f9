/* RFC 6298 retransmission timeout estimator. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "oasis/clock.h"
#include "tcp/tcp_rtt.h"

#define MS OASIS_NS_PER_MS
#define SEC OASIS_NS_PER_SEC

static void test_init(void **state)
{
    (void)state;
    oasis_rtt r;
    oasis_rtt_init(&r, 1 * SEC, 200 * MS, 60 * SEC);
    assert_false(r.have_sample);
    assert_int_equal(r.backoff, 0);
    assert_int_equal(oasis_rtt_rto(&r), 1 * SEC);
    /* The initial value is clamped too. */
    oasis_rtt_init(&r, 10 * MS, 200 * MS, 60 * SEC);
    assert_int_equal(oasis_rtt_rto(&r), 200 * MS);
    oasis_rtt_init(&r, 100 * SEC, 200 * MS, 60 * SEC);
    assert_int_equal(oasis_rtt_rto(&r), 60 * SEC);
    /* max below min is raised to min. */
    oasis_rtt_init(&r, 1 * SEC, 2 * SEC, 1 * SEC);
    assert_int_equal(r.max_ns, 2 * SEC);
    assert_int_equal(oasis_rtt_rto(&r), 2 * SEC);
}

static void test_first_sample(void **state)
{
    (void)state;
    oasis_rtt r;
    oasis_rtt_init(&r, 1 * SEC, 200 * MS, 60 * SEC);
    oasis_rtt_sample(&r, 100 * MS);
    assert_true(r.have_sample);
    assert_int_equal(r.srtt_ns, 100 * MS);
    assert_int_equal(r.rttvar_ns, 50 * MS);
    assert_int_equal(oasis_rtt_rto(&r), 300 * MS); /* srtt + 4 * rttvar */
}

static void test_subsequent_samples(void **state)
{
    (void)state;
    oasis_rtt r;
    oasis_rtt_init(&r, 1 * SEC, 0, 60 * SEC);
    oasis_rtt_sample(&r, 100 * MS);
    oasis_rtt_sample(&r, 200 * MS);
    /* rttvar = 3/4 * 50 + 1/4 * |100 - 200| (old srtt); srtt = 7/8 * 100 + 1/8 * 200 */
    assert_int_equal(r.rttvar_ns, 62500000);
    assert_int_equal(r.srtt_ns, 112500000);
    assert_int_equal(oasis_rtt_rto(&r), 362500000);
    oasis_rtt_sample(&r, 50 * MS);
    /* err = 62.5 ms: rttvar = 46.875 + 15.625; srtt = 98.4375 + 6.25 */
    assert_int_equal(r.rttvar_ns, 62500000);
    assert_int_equal(r.srtt_ns, 104687500);
    assert_int_equal(oasis_rtt_rto(&r), 104687500 + 250000000);
}

/* A perfectly steady path: rttvar decays and G = 1 ms takes over. */
static void test_clock_granularity(void **state)
{
    (void)state;
    oasis_rtt r;
    oasis_rtt_init(&r, 1 * SEC, 0, 60 * SEC);
    for (int i = 0; i < 200; i++)
        oasis_rtt_sample(&r, 10 * MS);
    assert_int_equal(r.srtt_ns, 10 * MS);
    assert_true(r.rttvar_ns * 4 < 1 * MS);
    assert_int_equal(oasis_rtt_rto(&r), 11 * MS);
    /* A zero sample is legal: rto = G. */
    oasis_rtt_init(&r, 1 * SEC, 0, 60 * SEC);
    oasis_rtt_sample(&r, 0);
    assert_int_equal(oasis_rtt_rto(&r), 1 * MS);
}

static void test_clamps(void **state)
{
    (void)state;
    oasis_rtt r;
    oasis_rtt_init(&r, 1 * SEC, 200 * MS, 60 * SEC);
    oasis_rtt_sample(&r, 1 * MS);
    assert_int_equal(oasis_rtt_rto(&r), 200 * MS);
    assert_int_equal(r.srtt_ns, 1 * MS); /* the estimate itself is not clamped */
    oasis_rtt_init(&r, 1 * SEC, 200 * MS, 60 * SEC);
    oasis_rtt_sample(&r, 100 * SEC);
    assert_int_equal(oasis_rtt_rto(&r), 60 * SEC);
    /* Absurd samples do not overflow. */
    oasis_rtt_sample(&r, UINT64_MAX);
    oasis_rtt_sample(&r, UINT64_MAX);
    assert_int_equal(oasis_rtt_rto(&r), 60 * SEC);
    assert_true(r.srtt_ns > 60 * SEC);
    oasis_rtt_init(&r, 1 * SEC, 0, UINT64_MAX);
    oasis_rtt_sample(&r, UINT64_MAX);
    assert_true(oasis_rtt_rto(&r) >= r.srtt_ns);
}

/* A lost SYN's floor (RFC 6298 5.7) stays within the bounds: with no
 * backoff oasis_rtt_rto returns rto_ns as it is. */
static void test_raise(void **state)
{
    (void)state;
    oasis_rtt r;
    oasis_rtt_init(&r, 1 * SEC, 200 * MS, 60 * SEC);
    oasis_rtt_raise(&r, 3 * SEC);
    assert_int_equal(oasis_rtt_rto(&r), 3 * SEC);
    oasis_rtt_raise(&r, 2 * SEC); /* never lowered */
    assert_int_equal(oasis_rtt_rto(&r), 3 * SEC);
    oasis_rtt_init(&r, 1 * SEC, 200 * MS, 2 * SEC);
    oasis_rtt_raise(&r, 3 * SEC);
    assert_int_equal(r.rto_ns, 2 * SEC);
    assert_int_equal(oasis_rtt_rto(&r), 2 * SEC);
}

static void test_backoff(void **state)
{
    (void)state;
    oasis_rtt r;
    oasis_rtt_init(&r, 1 * SEC, 200 * MS, 60 * SEC);
    oasis_rtt_sample(&r, 100 * MS); /* rto 300 ms */
    static const uint64_t want[] = {600 * MS, 1200 * MS, 2400 * MS, 4800 * MS, 9600 * MS,
                                    19200 * MS, 38400 * MS, 60 * SEC, 60 * SEC};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        oasis_rtt_backoff(&r);
        assert_int_equal(r.backoff, i + 1);
        assert_int_equal(oasis_rtt_rto(&r), want[i]);
    }
    /* The count keeps going (retry limits use it); the RTO stays at max. */
    for (int i = 0; i < 100; i++)
        oasis_rtt_backoff(&r);
    assert_int_equal(r.backoff, 109);
    assert_int_equal(oasis_rtt_rto(&r), 60 * SEC);
    /* A new sample resets the backoff. */
    oasis_rtt_sample(&r, 100 * MS);
    assert_int_equal(r.backoff, 0);
    assert_true(oasis_rtt_rto(&r) < 1 * SEC);
    /* Before any sample: the initial RTO doubles (RFC 6298 5.5). */
    oasis_rtt_init(&r, 1 * SEC, 200 * MS, 60 * SEC);
    oasis_rtt_backoff(&r);
    oasis_rtt_backoff(&r);
    assert_int_equal(oasis_rtt_rto(&r), 4 * SEC);
    /* The counter saturates. */
    r.backoff = UINT32_MAX - 1;
    oasis_rtt_backoff(&r);
    oasis_rtt_backoff(&r);
    assert_int_equal(r.backoff, UINT32_MAX);
    assert_int_equal(oasis_rtt_rto(&r), 60 * SEC);
    /* Unbounded max: the shift stops before overflowing. */
    oasis_rtt_init(&r, 1 * SEC, 0, UINT64_MAX);
    r.backoff = 200;
    assert_int_equal(oasis_rtt_rto(&r), UINT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_first_sample),
        cmocka_unit_test(test_subsequent_samples),
        cmocka_unit_test(test_clock_granularity),
        cmocka_unit_test(test_clamps),
        cmocka_unit_test(test_raise),
        cmocka_unit_test(test_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
