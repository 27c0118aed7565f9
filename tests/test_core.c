/* Core helpers: virtual clock, timers, PRNG, pbufs, error strings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/hindex.h"
#include "core/mem.h"
#include "core/pbuf.h"
#include "core/prng.h"
#include "core/stack_impl.h"
#include "core/timer.h"
#include "oasis/clock.h"
#include "oasis/error.h"
#include "oasis/ip.h"
#include "oasis/stack.h"

/* ---- clock ---- */

static void test_virtual_clock(void **state)
{
    (void)state;
    oasis_clock *c = oasis_clock_new_virtual(100);
    assert_non_null(c);
    assert_true(oasis_clock_is_virtual(c));
    assert_int_equal(oasis_clock_now(c), 100);
    assert_int_equal(oasis_clock_advance(c, 50), OASIS_OK);
    assert_int_equal(oasis_clock_now(c), 150);
    assert_int_equal(oasis_clock_advance(c, 0), OASIS_OK);
    assert_int_equal(oasis_clock_now(c), 150);
    assert_int_equal(oasis_clock_set(c, 5 * OASIS_NS_PER_SEC), OASIS_OK);
    assert_int_equal(oasis_clock_now(c), 5 * OASIS_NS_PER_SEC);
    /* Never backwards: an earlier time is ignored. */
    assert_int_equal(oasis_clock_set(c, 10), OASIS_OK);
    assert_int_equal(oasis_clock_now(c), 5 * OASIS_NS_PER_SEC);
    oasis_clock_free(c);
}

static void test_real_clocks(void **state)
{
    (void)state;
    oasis_clock *m = oasis_clock_new_monotonic();
    assert_non_null(m);
    assert_false(oasis_clock_is_virtual(m));
    assert_int_equal(oasis_clock_advance(m, 1), OASIS_EINVAL);
    assert_int_equal(oasis_clock_set(m, 1), OASIS_EINVAL);
    uint64_t a = oasis_clock_now(m), b = oasis_clock_now(m);
    assert_true(b >= a);
    oasis_clock_free(m);
    oasis_clock_free(NULL);
}

static uint64_t fake_now(void *ud) { return *(uint64_t *)ud; }

static void test_custom_clock(void **state)
{
    (void)state;
    uint64_t t = 42;
    assert_null(oasis_clock_new_custom(NULL, NULL));
    oasis_clock *c = oasis_clock_new_custom(fake_now, &t);
    assert_non_null(c);
    assert_false(oasis_clock_is_virtual(c));
    assert_int_equal(oasis_clock_now(c), 42);
    t = 1000;
    assert_int_equal(oasis_clock_now(c), 1000);
    assert_int_equal(oasis_clock_advance(c, 1), OASIS_EINVAL);
    oasis_clock_free(c);
}

/* ---- timers ----
 * The timer heap only needs the stack's heap root, so most of these tests
 * use a bare zeroed stack: that way the heap's count and next deadline are
 * exactly ours, with no layer's timers mixed in. test_timer_real_stack runs
 * the same heap inside oasis_stack_create's stack. */

#define MAX_FIRED 8192

typedef struct fire_log {
    int ids[MAX_FIRED];
    uint64_t deadlines[MAX_FIRED];
    uint64_t seqs[MAX_FIRED];
    int n;
} fire_log;

typedef struct tt {
    oasis_timer t;
    int id;
    int fired;
    /* Actions the callback takes. */
    struct tt *stop_other;
    struct tt *start_other;
    uint64_t start_other_at;
    uint64_t restart_self_at; /* 0: none */
} tt;

static void tt_fire(oasis_stack *s, oasis_timer *t)
{
    tt *x = oasis_container_of(t, tt, t);
    fire_log *log = s->user_data;
    assert_false(oasis_timer_active(t));
    assert_true(log->n < MAX_FIRED);
    log->ids[log->n] = x->id;
    log->deadlines[log->n] = t->deadline;
    log->seqs[log->n] = t->seq;
    log->n++;
    x->fired++;
    if (x->stop_other)
        oasis_timer_stop(s, &x->stop_other->t);
    if (x->start_other)
        oasis_timer_start(s, &x->start_other->t, x->start_other_at);
    if (x->restart_self_at)
        oasis_timer_start(s, t, x->restart_self_at);
}

static int timer_setup(void **state)
{
    oasis_stack *s = calloc(1, sizeof *s);
    fire_log *log = calloc(1, sizeof *log);
    if (!s || !log)
        return -1;
    s->alloc = oasis_default_alloc;
    s->user_data = log;
    *state = s;
    return 0;
}

static int timer_teardown(void **state)
{
    oasis_stack *s = *state;
    free(s->user_data);
    free(s);
    return 0;
}

static tt *tts_new(int n)
{
    tt *v = calloc((size_t)n, sizeof *v);
    assert_non_null(v);
    for (int i = 0; i < n; i++) {
        oasis_timer_init(&v[i].t, tt_fire);
        v[i].id = i;
    }
    return v;
}

static void test_timer_order(void **state)
{
    oasis_stack *s = *state;
    fire_log *log = s->user_data;
    tt *v = tts_new(5);
    static const uint64_t dl[5] = {50, 10, 30, 20, 40};

    assert_int_equal(oasis_timers_next(s), UINT64_MAX);
    assert_int_equal(oasis_timers_run(s, 1000), 0);
    for (int i = 0; i < 5; i++)
        oasis_timer_start(s, &v[i].t, dl[i]);
    assert_int_equal(s->timers.count, 5);
    assert_int_equal(oasis_timers_next(s), 10);

    /* Only what is due runs; a deadline equal to now is due. */
    assert_int_equal(oasis_timers_run(s, 9), 0);
    assert_int_equal(oasis_timers_run(s, 20), 2);
    assert_int_equal(oasis_timers_next(s), 30);
    assert_int_equal(oasis_timers_run(s, 1000), 3);
    assert_int_equal(oasis_timers_next(s), UINT64_MAX);
    assert_int_equal(s->timers.count, 0);

    static const int want[5] = {1, 3, 2, 4, 0};
    assert_int_equal(log->n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(log->ids[i], want[i]);
    free(v);
}

static void test_timer_fifo(void **state)
{
    oasis_stack *s = *state;
    fire_log *log = s->user_data;
    enum { N = 200 };
    tt *v = tts_new(N);
    /* Started in a scrambled order, all at one deadline: they fire in start
     * order, never in memory or id order. */
    for (int i = 0; i < N; i++)
        oasis_timer_start(s, &v[(i * 7) % N].t, 500);
    assert_int_equal(oasis_timers_run(s, 500), N);
    for (int i = 0; i < N; i++)
        assert_int_equal(log->ids[i], (i * 7) % N);

    /* Restarting a timer at the same deadline moves it to the back. */
    log->n = 0;
    for (int i = 0; i < 3; i++)
        oasis_timer_start(s, &v[i].t, 600);
    oasis_timer_start(s, &v[0].t, 600);
    assert_int_equal(oasis_timers_run(s, 600), 3);
    assert_int_equal(log->ids[0], 1);
    assert_int_equal(log->ids[1], 2);
    assert_int_equal(log->ids[2], 0);
    free(v);
}

static void test_timer_stop_restart(void **state)
{
    oasis_stack *s = *state;
    fire_log *log = s->user_data;
    tt *v = tts_new(4);

    /* Stopping an idle timer, or one twice, is harmless. */
    oasis_timer_stop(s, &v[0].t);
    assert_false(oasis_timer_active(&v[0].t));

    for (int i = 0; i < 4; i++)
        oasis_timer_start(s, &v[i].t, 100 + (uint64_t)i);
    assert_true(oasis_timer_active(&v[2].t));
    oasis_timer_stop(s, &v[2].t);
    oasis_timer_stop(s, &v[2].t);
    assert_false(oasis_timer_active(&v[2].t));
    /* Stopping the root (earliest) hands the root on. */
    oasis_timer_stop(s, &v[0].t);
    assert_int_equal(oasis_timers_next(s), 101);
    assert_int_equal(s->timers.count, 2);

    /* Restart while armed: moves it (later and earlier). */
    oasis_timer_start(s, &v[1].t, 300);
    oasis_timer_start(s, &v[3].t, 50);
    assert_int_equal(s->timers.count, 2);
    assert_int_equal(oasis_timers_next(s), 50);
    assert_int_equal(oasis_timers_run(s, 299), 1);
    assert_int_equal(log->ids[0], 3);
    assert_int_equal(oasis_timers_run(s, 300), 1);
    assert_int_equal(log->ids[1], 1);
    assert_int_equal(v[0].fired + v[2].fired, 0);

    /* A stopped timer can be started again. */
    oasis_timer_start(s, &v[2].t, 400);
    assert_int_equal(oasis_timers_run(s, 400), 1);
    assert_int_equal(v[2].fired, 1);
    free(v);
}

static void test_timer_callbacks(void **state)
{
    oasis_stack *s = *state;
    fire_log *log = s->user_data;
    tt *v = tts_new(5);

    /* 0 stops 1 (also due now): 1 must not run. 0 starts 2 at a time that is
     * already due: 2 runs in the same call. 3 re-arms itself for later: it
     * runs once per call, never loops. 4 is a bystander and runs. */
    v[0].stop_other = &v[1];
    v[0].start_other = &v[2];
    v[0].start_other_at = 5;
    v[3].restart_self_at = 1000;
    oasis_timer_start(s, &v[0].t, 10);
    oasis_timer_start(s, &v[1].t, 10);
    oasis_timer_start(s, &v[3].t, 20);
    oasis_timer_start(s, &v[4].t, 30);

    assert_int_equal(oasis_timers_run(s, 100), 4);
    assert_int_equal(v[0].fired, 1);
    assert_int_equal(v[1].fired, 0);
    assert_int_equal(v[2].fired, 1);
    assert_int_equal(v[3].fired, 1);
    assert_int_equal(v[4].fired, 1);
    static const int want[4] = {0, 2, 3, 4};
    for (int i = 0; i < 4; i++)
        assert_int_equal(log->ids[i], want[i]);
    assert_true(oasis_timer_active(&v[3].t));
    assert_int_equal(oasis_timers_next(s), 1000);

    /* A callback that stops the only other armed timer and re-arms itself. */
    v[3].stop_other = &v[4];
    v[3].restart_self_at = 2000;
    oasis_timer_start(s, &v[4].t, 1000);
    assert_int_equal(oasis_timers_run(s, 1000), 1);
    assert_int_equal(v[4].fired, 1);
    v[3].restart_self_at = 0;
    assert_int_equal(oasis_timers_run(s, 5000), 1);
    assert_int_equal(s->timers.count, 0);
    free(v);
}

/* Timers started at the stack's current time among others due then (the
 * TCP dispatcher's timer used to be one, on a FIFO beside the heap, until
 * the stack's tcp_due replaced it): they run in (deadline, start order).
 * The stack's time is the cached one (now_depth set), as inside
 * oasis_stack_poll. */
static void at(oasis_stack *s, uint64_t now)
{
    s->now_depth = 1;
    s->now_cache = now;
}

/* oasis_timer_start at the stack's current time. */
static void soon(oasis_stack *s, oasis_timer *t) { oasis_timer_start(s, t, s->now_cache); }

static void test_timer_at_now_in_order(void **state)
{
    oasis_stack *s = *state;
    fire_log *log = s->user_data;
    tt *v = tts_new(8);
    at(s, 10);
    oasis_timer_start(s, &v[0].t, 10);
    soon(s, &v[1].t);
    oasis_timer_start(s, &v[2].t, 10);
    soon(s, &v[3].t);
    oasis_timer_start(s, &v[4].t, 5);  /* earlier deadline, started later */
    oasis_timer_start(s, &v[5].t, 11); /* not due yet */
    soon(s, &v[6].t);
    soon(s, &v[7].t);
    assert_int_equal(oasis_timer_active(&v[1].t) != 0, 1);
    assert_int_equal(s->timers.count, 8);
    assert_int_equal(oasis_timers_next(s), 5);
    oasis_timer_stop(s, &v[6].t);
    soon(s, &v[1].t);                  /* again: after 7 */
    oasis_timer_start(s, &v[3].t, 10); /* again: after 1 */
    assert_false(oasis_timer_active(&v[6].t));
    assert_int_equal(s->timers.count, 7);
    assert_int_equal(oasis_timers_run(s, 10), 6);
    static const int want[6] = {4, 0, 2, 7, 1, 3};
    for (int i = 0; i < 6; i++)
        assert_int_equal(log->ids[i], want[i]);
    assert_int_equal(oasis_timers_next(s), 11);
    assert_int_equal(s->timers.count, 1);

    /* A clock set back: the earlier instant still fires first. */
    log->n = 0;
    at(s, 20);
    soon(s, &v[0].t);
    at(s, 15);
    soon(s, &v[1].t);
    assert_int_equal(oasis_timers_next(s), 11);
    assert_int_equal(oasis_timers_run(s, 20), 3);
    assert_int_equal(log->ids[0], 5);
    assert_int_equal(log->ids[1], 1);
    assert_int_equal(log->ids[2], 0);
    assert_int_equal(s->timers.count, 0);
    assert_int_equal(oasis_timers_next(s), UINT64_MAX);
    free(v);
}

/* Random mix of starts (some at now, some a little later), stops and runs
 * as time moves on: every armed timer fires once, never early, and all
 * fire in (deadline, start order). */
static void test_timer_at_now_random(void **state)
{
    oasis_stack *s = *state;
    fire_log *log = s->user_data;
    enum { N = 400 };
    tt *v = tts_new(N);
    oasis_prng r;
    oasis_prng_seed(&r, 77);
    uint64_t now = 1;
    int armed = 0, fired = 0;
    for (int step = 0; step < 4000 && log->n < MAX_FIRED - N; step++) {
        at(s, now);
        int k = (int)oasis_prng_below(&r, N);
        int was = oasis_timer_active(&v[k].t) != 0;
        switch (oasis_prng_below(&r, 4)) {
        case 0:
            soon(s, &v[k].t);
            armed += !was;
            break;
        case 1:
            oasis_timer_start(s, &v[k].t, now + oasis_prng_below(&r, 3));
            armed += !was;
            break;
        case 2:
            oasis_timer_stop(s, &v[k].t);
            armed -= was;
            break;
        default: {
            int first = log->n;
            fired += oasis_timers_run(s, now);
            armed -= log->n - first;
            for (int i = first; i < log->n; i++)
                assert_true(log->deadlines[i] <= now);
            now += oasis_prng_below(&r, 3);
        }
        }
        assert_int_equal(s->timers.count, (size_t)armed);
    }
    at(s, UINT64_MAX - 1);
    fired += oasis_timers_run(s, UINT64_MAX - 1);
    assert_int_equal(s->timers.count, 0);
    assert_int_equal(log->n, fired);
    for (int i = 1; i < log->n; i++) {
        int ordered = log->deadlines[i - 1] < log->deadlines[i] ||
                      (log->deadlines[i - 1] == log->deadlines[i] && log->seqs[i - 1] < log->seqs[i]);
        if (!ordered)
            fail_msg("out of order at %d", i);
    }
    free(v);
}

/* Thousands of timers with random deadlines (many equal), random stops and
 * restarts, run in random steps: everything fires once, in (deadline, start
 * order), never early, never twice, and stopped timers never fire. */
static void test_timer_random(void **state)
{
    oasis_stack *s = *state;
    fire_log *log = s->user_data;
    enum { N = 5000 };
    tt *v = tts_new(N);
    int *stopped = calloc(N, sizeof *stopped);
    assert_non_null(stopped);
    oasis_prng r;
    oasis_prng_seed(&r, 2024);

    for (int i = 0; i < N; i++)
        oasis_timer_start(s, &v[i].t, 1 + oasis_prng_below(&r, 2000));
    for (int i = 0; i < N / 4; i++) {
        int k = (int)oasis_prng_below(&r, N);
        if (oasis_prng_below(&r, 2)) {
            oasis_timer_stop(s, &v[k].t);
            stopped[k] = 1;
        } else {
            oasis_timer_start(s, &v[k].t, 1 + oasis_prng_below(&r, 2000));
            stopped[k] = 0;
        }
    }
    int live = 0;
    for (int i = 0; i < N; i++)
        live += !stopped[i];
    assert_int_equal(s->timers.count, (size_t)live);

    uint64_t now = 0, prev_now = 0;
    int total = 0;
    while (oasis_timers_next(s) != UINT64_MAX) {
        now += oasis_prng_below(&r, 50);
        int first = log->n;
        int ran = oasis_timers_run(s, now);
        assert_int_equal(ran, log->n - first);
        for (int i = first; i < log->n; i++) {
            /* Not early, and not late: it was not yet due at the last run. */
            assert_true(log->deadlines[i] <= now);
            assert_true(log->deadlines[i] > prev_now);
        }
        prev_now = now;
        total += ran;
    }
    assert_int_equal(total, live);
    assert_int_equal(log->n, live);
    for (int i = 1; i < log->n; i++) {
        int ordered = log->deadlines[i - 1] < log->deadlines[i] ||
                      (log->deadlines[i - 1] == log->deadlines[i] && log->seqs[i - 1] < log->seqs[i]);
        if (!ordered)
            fail_msg("out of order at %d", i);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(v[i].fired, stopped[i] ? 0 : 1);
    assert_int_equal(s->timers.count, 0);
    free(stopped);
    free(v);
}

/* Restarts that move armed timers earlier (TCP arms a deadline sooner than
 * the one its timer waits for) interleaved with runs, so that they hit
 * nodes deep in a heap that earlier runs reshaped, and some later ones:
 * each timer fires once per arming, at the deadline it was last given, in
 * (deadline, start) order, neither early nor late. */
static void test_timer_decrease_random(void **state)
{
    oasis_stack *s = *state;
    fire_log *log = s->user_data;
    enum { N = 1500 };
    tt *v = tts_new(N);
    uint64_t *want = calloc(N, sizeof *want); /* the deadline it was last given; 0: idle */
    assert_non_null(want);
    oasis_prng r;
    oasis_prng_seed(&r, 16);
    uint64_t now = 0;
    for (int i = 0; i < N; i++) {
        want[i] = 1 + oasis_prng_below(&r, 100000);
        oasis_timer_start(s, &v[i].t, want[i]);
    }
    int armed = N, fired = 0;
    while (s->timers.count) {
        for (int j = 0; j < 20; j++) {
            int k = (int)oasis_prng_below(&r, N);
            if (!want[k] || armed >= MAX_FIRED - 1)
                continue;
            uint64_t d = want[k] - now > 1 ? now + 1 + oasis_prng_below(&r, want[k] - now - 1)
                                           : want[k];
            if (oasis_prng_below(&r, 8) == 0)
                d = want[k] + oasis_prng_below(&r, 1000); /* later, or the same */
            want[k] = d;
            oasis_timer_start(s, &v[k].t, d);
        }
        uint64_t prev = now;
        now += 1 + oasis_prng_below(&r, 400);
        int first = log->n;
        oasis_timers_run(s, now);
        for (int i = first; i < log->n; i++) {
            int id = log->ids[i];
            assert_int_equal(log->deadlines[i], want[id]);
            assert_true(want[id] <= now && want[id] > prev);
            if (i > first)
                assert_true(log->deadlines[i - 1] < log->deadlines[i] ||
                            (log->deadlines[i - 1] == log->deadlines[i] &&
                             log->seqs[i - 1] < log->seqs[i]));
            want[id] = 0;
            fired++;
        }
        /* Some that fired are armed again, later on. */
        for (int i = first; i < log->n && armed < MAX_FIRED - 1; i += 3) {
            int id = log->ids[i];
            if (!want[id]) {
                want[id] = now + 1 + oasis_prng_below(&r, 5000);
                oasis_timer_start(s, &v[id].t, want[id]);
                armed++;
            }
        }
    }
    assert_int_equal(fired, armed);
    for (int i = 0; i < N; i++)
        assert_int_equal(want[i], 0);
    free(want);
    free(v);
}

/* The same heap behind a real stack on a virtual clock, driven the way an
 * embedder does: jump to oasis_stack_next_deadline(), oasis_stack_poll().
 * The stack's own layers may keep timers of their own; only ours are
 * logged. */
static void test_timer_real_stack(void **state)
{
    (void)state;
    oasis_clock *c = oasis_clock_new_virtual(OASIS_NS_PER_SEC);
    assert_non_null(c);
    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg);
    cfg.clock = c;
    cfg.addr = OASIS_IPV4(10, 0, 0, 1);
    cfg.mac[0] = 2;
    cfg.mac[5] = 1;
    oasis_stack *s;
    assert_int_equal(oasis_stack_create(&cfg, &s), OASIS_OK);
    fire_log *log = calloc(1, sizeof *log);
    assert_non_null(log);
    oasis_stack_set_user_data(s, log);

    enum { N = 300 };
    tt *v = tts_new(N);
    oasis_prng r;
    oasis_prng_seed(&r, 5);
    uint64_t t0 = oasis_stack_now(s);
    for (int i = 0; i < N; i++)
        oasis_timer_start(s, &v[i].t, t0 + oasis_prng_below(&r, 100) * OASIS_NS_PER_MS);
    assert_true(oasis_stack_next_deadline(s) <= t0 + 100 * OASIS_NS_PER_MS);

    for (int steps = 0; log->n < N && steps < 100000; steps++) {
        uint64_t next = oasis_stack_next_deadline(s);
        assert_true(next != UINT64_MAX);
        oasis_clock_set(c, next);
        oasis_stack_poll(s);
    }
    assert_int_equal(log->n, N);
    for (int i = 1; i < N; i++)
        assert_true(log->deadlines[i - 1] < log->deadlines[i] ||
                    (log->deadlines[i - 1] == log->deadlines[i] && log->seqs[i - 1] < log->seqs[i]));
    oasis_stack_destroy(s);
    oasis_clock_free(c);
    free(log);
    free(v);
}

/* ---- PRNG ---- */

static void test_prng_determinism(void **state)
{
    (void)state;
    oasis_prng a, b, c;
    oasis_prng_seed(&a, 12345);
    oasis_prng_seed(&b, 12345);
    oasis_prng_seed(&c, 12346);
    int same_as_c = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = oasis_prng_next(&a);
        assert_int_equal(x, oasis_prng_next(&b));
        same_as_c += x == oasis_prng_next(&c);
    }
    assert_true(same_as_c < 2);

    /* Seed 0 still produces a usable (non-zero) stream. */
    oasis_prng z;
    oasis_prng_seed(&z, 0);
    uint64_t orv = 0;
    for (int i = 0; i < 8; i++)
        orv |= oasis_prng_next(&z);
    assert_true(orv != 0);

    /* Reseeding restarts the sequence. */
    oasis_prng_seed(&a, 12345);
    oasis_prng_seed(&b, 12345);
    assert_int_equal(oasis_prng_next(&a), oasis_prng_next(&b));
}

static void test_prng_bounds(void **state)
{
    (void)state;
    oasis_prng r;
    oasis_prng_seed(&r, 77);
    assert_int_equal(oasis_prng_below(&r, 0), 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(oasis_prng_below(&r, 1), 0);

    static const uint64_t bounds[] = {2, 3, 7, 10, 1000, 65536, 0x80000001ull, (1ull << 63) + 1, UINT64_MAX};
    for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++)
        for (int i = 0; i < 10000; i++)
            assert_true(oasis_prng_below(&r, bounds[b]) < bounds[b]);

    /* Roughly uniform: each of 10 buckets gets 10% +- 1% of 100000 draws
     * (a fixed seed makes this deterministic, not flaky). */
    int hist[10] = {0};
    for (int i = 0; i < 100000; i++)
        hist[oasis_prng_below(&r, 10)]++;
    for (int i = 0; i < 10; i++)
        assert_in_range(hist[i], 9000, 11000);

    for (int i = 0; i < 10000; i++) {
        double d = oasis_prng_double(&r);
        assert_true(d >= 0.0 && d < 1.0);
    }
}

/* ---- pbuf ---- */

static void test_pbuf(void **state)
{
    (void)state;
    oasis_stack *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->alloc = oasis_default_alloc;

    oasis_pbuf *p = oasis_pbuf_alloc(s, OASIS_PBUF_HEADROOM, 100);
    assert_non_null(p);
    assert_int_equal(oasis_pbuf_headroom(p), OASIS_PBUF_HEADROOM);
    assert_int_equal(p->len, 100);
    assert_true(p->cap >= OASIS_PBUF_HEADROOM + 100);
    assert_null(p->next);
    memset(p->data, 0xab, p->len);

    uint8_t *d0 = p->data;
    uint8_t *h = oasis_pbuf_push(p, 14);
    assert_ptr_equal(h, d0 - 14);
    assert_int_equal(p->len, 114);
    assert_int_equal(oasis_pbuf_headroom(p), OASIS_PBUF_HEADROOM - 14);
    memset(h, 0xcd, 14);

    /* Not enough headroom: refused, nothing changes. */
    assert_null(oasis_pbuf_push(p, OASIS_PBUF_HEADROOM));
    assert_int_equal(p->len, 114);
    assert_ptr_equal(p->data, h);
    /* Exactly the remaining headroom is fine. */
    assert_non_null(oasis_pbuf_push(p, OASIS_PBUF_HEADROOM - 14));
    assert_int_equal(oasis_pbuf_headroom(p), 0);
    assert_null(oasis_pbuf_push(p, 1));
    assert_non_null(oasis_pbuf_pull(p, OASIS_PBUF_HEADROOM - 14));

    assert_ptr_equal(oasis_pbuf_pull(p, 14), d0);
    assert_int_equal(p->len, 100);
    assert_int_equal(p->data[0], 0xab);
    /* Pulling more than the packet holds is refused. */
    assert_null(oasis_pbuf_pull(p, 101));
    assert_int_equal(p->len, 100);
    assert_non_null(oasis_pbuf_pull(p, 100));
    assert_int_equal(p->len, 0);

    oasis_pbuf_trim(p, 10); /* already shorter: no-op */
    assert_int_equal(p->len, 0);
    oasis_pbuf_free(s, p);

    p = oasis_pbuf_alloc(s, 0, 50);
    assert_non_null(p);
    oasis_pbuf_trim(p, 20);
    assert_int_equal(p->len, 20);
    assert_null(oasis_pbuf_push(p, 1));
    oasis_pbuf_free(s, p);

    /* Absurd sizes fail cleanly instead of wrapping. */
    assert_null(oasis_pbuf_alloc(s, SIZE_MAX, 1));
    assert_null(oasis_pbuf_alloc(s, 1, SIZE_MAX));
    oasis_free(s, NULL);
    free(s);
}

/* ---- errors ---- */

static void test_strerror(void **state)
{
    (void)state;
    const char *unknown = oasis_strerror(-1000);
    assert_non_null(unknown);
    assert_string_equal(oasis_strerror(1), unknown);
    assert_string_equal(oasis_strerror(-OASIS_ERR_COUNT_), unknown);
    assert_non_null(oasis_err_name(-1000));
    /* The ends of int too: -INT_MIN overflowed (clang read errs[INT_MIN]). */
    const int ends[] = {INT_MIN, INT_MIN + 1, INT_MAX};
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
        assert_string_equal(oasis_strerror(ends[i]), unknown);
        assert_string_equal(oasis_err_name(ends[i]), oasis_err_name(-1000));
    }

    for (int e = 0; e > -OASIS_ERR_COUNT_; e--) {
        const char *t = oasis_strerror(e), *n = oasis_err_name(e);
        assert_non_null(t);
        assert_non_null(n);
        assert_true(strlen(t) > 0);
        assert_string_not_equal(t, unknown);
        assert_int_equal(strncmp(n, "OASIS_", 6), 0);
        /* Every code has its own text and name. */
        for (int f = 0; f > e; f--) {
            assert_string_not_equal(t, oasis_strerror(f));
            assert_string_not_equal(n, oasis_err_name(f));
        }
    }
    /* The texts the TCP contract names. */
    assert_string_equal(oasis_strerror(OASIS_ETIMEDOUT), "connection attempt timed out");
    assert_string_equal(oasis_strerror(OASIS_EREFUSED), "connection attempt was refused");
    assert_string_equal(oasis_strerror(OASIS_ECLOSED), "attempted to write to a closed flow");
    assert_string_equal(oasis_err_name(OASIS_OK), "OASIS_OK");
    assert_string_equal(oasis_err_name(OASIS_EPERM), "OASIS_EPERM");
    assert_string_equal(oasis_err_name(OASIS_ECHECKSUM), "OASIS_ECHECKSUM");
}

#define TIMER_TEST(f) cmocka_unit_test_setup_teardown(f, timer_setup, timer_teardown)

/* The hash index with an age list (core/hindex.h): nodes whose hashes
 * collide share a chain and each is found on it; the age list keeps
 * insertion order through removals at its head, tail and middle; the
 * chains come with the first insertion and a bound past the largest is
 * capped. */
typedef struct hx_item {
    oasis_hnode node;
    int key;
} hx_item;

static int hx_chain_has(const oasis_hindex *x, uint32_t hash, const hx_item *it)
{
    for (oasis_hnode *n = oasis_hindex_chain(x, hash); n; n = n->chain)
        if (oasis_container_of(n, hx_item, node) == it)
            return 1;
    return 0;
}

static void hx_expect_ages(const oasis_hindex *x, const int *keys, int n)
{
    const oasis_alink *prev = NULL, *p = x->ages.oldest;
    for (int i = 0; i < n; i++, prev = p, p = p->newer) {
        assert_non_null(p);
        assert_ptr_equal(p->older, prev);
        const oasis_hnode *h = oasis_container_of(p, oasis_hnode, age);
        assert_int_equal(oasis_container_of(h, hx_item, node)->key, keys[i]);
    }
    assert_null(p);
    assert_ptr_equal(x->ages.newest, prev);
    assert_int_equal(x->ages.n, (uint32_t)n);
    assert_true(n ? oasis_hindex_oldest(x) != NULL : oasis_hindex_oldest(x) == NULL);
}

static void test_hindex(void **state)
{
    (void)state;
    oasis_clock *c = oasis_clock_new_virtual(OASIS_NS_PER_SEC);
    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg);
    cfg.clock = c;
    oasis_stack *s;
    assert_int_equal(oasis_stack_create(&cfg, &s), OASIS_OK);

    oasis_hindex x;
    oasis_hindex_init(&x, 20);
    assert_int_equal(x.nchains, 32);
    assert_null(x.chains);
    assert_null(oasis_hindex_chain(&x, 7));
    hx_item it[6];
    /* Hashes 3 and 35 share chain 3 of 32; 0x10003 too. */
    const uint32_t hash[6] = {3, 35, 0x10003, 4, 5, 36};
    for (int i = 0; i < 6; i++) {
        it[i].key = i;
        assert_int_equal(oasis_hindex_insert(s, &x, &it[i].node, hash[i]), 0);
    }
    for (int i = 0; i < 6; i++)
        assert_true(hx_chain_has(&x, hash[i], &it[i]));
    assert_false(hx_chain_has(&x, 4, &it[0]));
    hx_expect_ages(&x, (const int[]){0, 1, 2, 3, 4, 5}, 6);
    oasis_hindex_remove(&x, &it[1].node); /* the middle of a chain and of the ages */
    assert_false(hx_chain_has(&x, 35, &it[1]));
    assert_true(hx_chain_has(&x, 3, &it[0]) && hx_chain_has(&x, 3, &it[2]));
    hx_expect_ages(&x, (const int[]){0, 2, 3, 4, 5}, 5);
    oasis_hindex_remove(&x, &it[0].node); /* the oldest */
    oasis_hindex_remove(&x, &it[5].node); /* the newest */
    hx_expect_ages(&x, (const int[]){2, 3, 4}, 3);
    assert_int_equal(oasis_hindex_insert(s, &x, &it[0].node, 3), 0); /* back, as the newest */
    hx_expect_ages(&x, (const int[]){2, 3, 4, 0}, 4);
    assert_true(hx_chain_has(&x, 3, &it[0]) && hx_chain_has(&x, 0x10003, &it[2]));
    for (int i = 2; i < 5; i++)
        oasis_hindex_remove(&x, &it[i].node);
    oasis_hindex_remove(&x, &it[0].node);
    hx_expect_ages(&x, NULL, 0);
    oasis_hindex_fini(s, &x);
    assert_null(x.chains);

    /* An age list alone: an entry pushed as the oldest goes first. */
    oasis_alist l = {0};
    oasis_alink a[3];
    oasis_alist_push_newest(&l, &a[0]);
    oasis_alist_push_oldest(&l, &a[1]);
    oasis_alist_push_newest(&l, &a[2]);
    assert_ptr_equal(l.oldest, &a[1]);
    assert_ptr_equal(a[1].newer, &a[0]);
    assert_ptr_equal(a[0].newer, &a[2]);
    assert_ptr_equal(l.newest, &a[2]);
    oasis_alist_remove(&l, &a[1]);
    assert_ptr_equal(l.oldest, &a[0]);
    assert_null(a[0].older);
    assert_int_equal(l.n, 2);

    oasis_hindex_init(&x, UINT32_MAX);
    assert_int_equal(x.nchains, OASIS_HINDEX_MAX_CHAINS);
    oasis_hindex_init(&x, 0);
    assert_int_equal(x.nchains, 16);
    oasis_stack_destroy(s);
    oasis_clock_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_virtual_clock),
        cmocka_unit_test(test_hindex),
        cmocka_unit_test(test_real_clocks),
        cmocka_unit_test(test_custom_clock),
        TIMER_TEST(test_timer_order),
        TIMER_TEST(test_timer_fifo),
        TIMER_TEST(test_timer_stop_restart),
        TIMER_TEST(test_timer_callbacks),
        TIMER_TEST(test_timer_random),
        TIMER_TEST(test_timer_decrease_random),
        TIMER_TEST(test_timer_at_now_in_order),
        TIMER_TEST(test_timer_at_now_random),
        cmocka_unit_test(test_timer_real_stack),
        cmocka_unit_test(test_prng_determinism),
        cmocka_unit_test(test_prng_bounds),
        cmocka_unit_test(test_pbuf),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
