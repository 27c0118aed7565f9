/* CUBIC (RFC 9438) and HyStart++ (RFC 9406), driven through the cc hooks
 * the way the state machine calls them: a sender that keeps its window full
 * and gets one ACK per segment, on a virtual timeline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "tcp/tcp_cc_cubic.h"

#define MSS 1000u
/* cmocka compares floats in single precision: compare doubles here. */
#define assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))
#define MS 1000000ull

static const oasis_cc_ops *ops = &oasis_cc_cubic;

/* One round trip of a window-limited sender: cwnd/MSS ACKs of one segment
 * each, spread over the RTT, every one carrying an RTT sample. Returns the
 * time after the round. */
static uint64_t round_trip(oasis_cc_state *cc, uint64_t now, uint64_t rtt)
{
    uint32_t n = cc->cwnd / MSS;
    if (n == 0)
        n = 1;
    for (uint32_t i = 0; i < n; i++)
        ops->on_ack(cc, MSS, cc->cwnd, rtt, now + rtt * i / n);
    return now + rtt;
}

/* A connection in congestion avoidance after a fast-recovery loss at
 * w segments: returns the time at which the new epoch starts. */
static uint64_t lose_at(oasis_cc_state *cc, uint32_t w, uint64_t now)
{
    cc->cwnd = w * MSS;
    ops->on_enter_recovery(cc, cc->cwnd, 0, now);
    ops->on_recovery_ack(cc, cc->cwnd, 1, 0, cc->ssthresh, now);
    return now;
}

static void test_k_and_curve(void **state)
{
    /* K = cbrt((W_max - cwnd_epoch)/C): W_max 100, epoch 70 -> cbrt(75). */
    assert_near(oasis_cubic_k(100, 70), cbrt(75.0), 1e-12);
    assert_near(oasis_cubic_k(100, 100), 0, 0);
    assert_near(oasis_cubic_k(100, 120), 0, 0);
    double k = oasis_cubic_k(100, 70);
    /* The curve starts at cwnd_epoch, is flat at W_max at t = K, and is
     * point-symmetric around it. */
    assert_near(oasis_cubic_w(0, k, 100), 70, 1e-9);
    assert_near(oasis_cubic_w(k, k, 100), 100, 1e-12);
    assert_near(oasis_cubic_w(k + 2, k, 100) - 100, 100 - oasis_cubic_w(k - 2, k, 100),
                       1e-9);
    assert_near(oasis_cubic_w(k + 1, k, 100), 100.4, 1e-9);
}

static void test_init(void **state)
{
    oasis_cc_state cc;
    ops->init(&cc, 1460, 0);
    assert_int_equal(cc.cwnd, 14600);
    assert_int_equal(cc.ssthresh, UINT32_MAX);
    ops->init(&cc, 0, 0);
    assert_int_equal(cc.mss, 536);
    ops->init(&cc, 9000, 0);
    assert_int_equal(cc.cwnd, 18000);
    assert_string_equal(ops->name, "cubic");
}

/* Multiplicative decrease by beta = 0.7 (not Reno's 0.5), with the usual
 * NewReno-style inflation during recovery. */
static void test_beta_on_loss(void **state)
{
    oasis_cc_state cc;
    ops->init(&cc, MSS, 0);
    cc.cwnd = 100 * MSS;
    cc.ssthresh = 50 * MSS;
    ops->on_enter_recovery(&cc, 100 * MSS, 0, 0);
    assert_int_equal(cc.ssthresh, 70 * MSS);
    assert_int_equal(cc.cwnd, 73 * MSS);
    ops->on_dupack(&cc);
    assert_int_equal(cc.cwnd, 74 * MSS);
    /* Partial ACK deflates, full ACK exits at most ssthresh. */
    ops->on_recovery_ack(&cc, 5 * MSS, 0, 0, 60 * MSS, 0);
    assert_int_equal(cc.cwnd, 70 * MSS);
    ops->on_recovery_ack(&cc, 50 * MSS, 1, 0, 80 * MSS, 0);
    assert_int_equal(cc.cwnd, 70 * MSS);
    oasis_cubic_view v;
    oasis_cubic_view_get(&cc, &v);
    assert_near(v.w_max, 100, 1e-9);
    /* Never below two segments. */
    cc.cwnd = 2 * MSS;
    ops->on_enter_recovery(&cc, 2 * MSS, 0, 0);
    assert_int_equal(cc.ssthresh, 2 * MSS);
}

/* Fast convergence: a loss below the previous W_max means bandwidth is being
 * shared; remember a lower W_max to make room. */
static void test_fast_convergence(void **state)
{
    oasis_cc_state cc;
    ops->init(&cc, MSS, 0);
    lose_at(&cc, 100, 0);
    oasis_cubic_view v;
    oasis_cubic_view_get(&cc, &v);
    assert_near(v.w_max, 100, 1e-9);
    lose_at(&cc, 80, 0); /* below W_max: W_max = 80 * (1 + 0.7) / 2 */
    oasis_cubic_view_get(&cc, &v);
    assert_near(v.w_max, 68, 1e-9);
    assert_int_equal(cc.ssthresh, 56 * MSS);
    lose_at(&cc, 90, 0); /* above: W_max = cwnd */
    oasis_cubic_view_get(&cc, &v);
    assert_near(v.w_max, 90, 1e-9);
}

/* After a loss at 100 segments the window climbs back along
 * W_cubic(t) = C (t - K)^3 + W_max: concave up to K, flat at W_max, convex
 * beyond. With a 100 ms RTT the Reno-friendly estimate stays below. */
static void test_follows_cubic_curve(void **state)
{
    oasis_cc_state cc;
    ops->init(&cc, MSS, 0);
    uint64_t rtt = 100 * MS;
    uint64_t t0 = lose_at(&cc, 100, 10 * 1000 * MS);
    assert_int_equal(cc.cwnd, 70 * MSS);
    double k = oasis_cubic_k(100, 70);
    uint64_t now = t0;
    double worst = 0;
    int reno = 0;
    while (now < t0 + 7000 * MS) {
        now = round_trip(&cc, now, rtt);
        double t = (double)(now - t0) / 1e9;
        double w = cc.cwnd / (double)MSS;
        oasis_cubic_view v;
        oasis_cubic_view_get(&cc, &v);
        assert_true(v.epoch_started);
        assert_near(v.k, k, 1e-9);
        assert_true(w >= v.w_est - 0.001); /* never below Reno's estimate */
        /* Until Reno's estimate overtakes the curve (~6 s here), the
         * window aims one RTT ahead and gets there within the RTT. */
        if (oasis_cubic_w(t, k, 100) > v.w_est) {
            double err = fabs(w - oasis_cubic_w(t, k, 100));
            if (err > worst)
                worst = err;
        } else {
            reno++;
        }
    }
    assert_true(worst < 0.5);
    assert_true(reno > 0 && reno < 20);
}

/* Around K the growth is slowest: less than one segment per RTT. */
static void test_plateau_near_k(void **state)
{
    oasis_cc_state cc;
    ops->init(&cc, MSS, 0);
    uint64_t rtt = 100 * MS;
    uint64_t t0 = lose_at(&cc, 200, 0);
    double k = oasis_cubic_k(200, 140);
    uint64_t now = t0;
    while (now + rtt < t0 + (uint64_t)(k * 1e9) - rtt)
        now = round_trip(&cc, now, rtt);
    uint32_t before = cc.cwnd;
    now = round_trip(&cc, now, rtt);
    now = round_trip(&cc, now, rtt);
    assert_true(cc.cwnd - before < 2 * MSS);
    assert_true(cc.cwnd > 198 * MSS && cc.cwnd < 201 * MSS);
}

/* Short RTT, small window: Reno would grow faster than the cubic curve, so
 * CUBIC follows the Reno-friendly estimate: 3(1-b)/(1+b) = 0.53 segments
 * per RTT until it passes the window before the loss, then 1 per RTT. */
static void test_reno_friendly(void **state)
{
    oasis_cc_state cc;
    ops->init(&cc, MSS, 0);
    uint64_t rtt = 1 * MS;
    uint64_t now = lose_at(&cc, 10, 0);
    assert_int_equal(cc.cwnd, 7 * MSS);
    double alpha = 3 * (1 - 0.7) / (1 + 0.7);
    double w_est = 7;
    oasis_cubic_view v;
    for (int r = 0; r < 40; r++) {
        uint32_t n = cc.cwnd / MSS;
        for (uint32_t i = 0; i < n; i++) {
            double cwnd_seg = cc.cwnd / (double)MSS;
            w_est += (w_est >= 10 ? 1.0 : alpha) / cwnd_seg;
            ops->on_ack(&cc, MSS, cc.cwnd, rtt, now + rtt * i / n);
        }
        now += rtt;
        oasis_cubic_view_get(&cc, &v);
        assert_near(v.w_est, w_est, 1e-9);
        assert_int_equal(cc.cwnd, (uint32_t)(w_est * MSS));
        double t = now / 1e9;
        assert_true(oasis_cubic_w(t, v.k, 10) < w_est);
    }
    /* 40 RTTs: about 6 RTTs at 0.53 to reach 10, then ~1 per RTT. */
    assert_true(cc.cwnd > 40 * MSS && cc.cwnd < 46 * MSS);
}

/* An application-limited flow keeps its window. */
static void test_app_limited(void **state)
{
    oasis_cc_state cc;
    ops->init(&cc, MSS, 0);
    lose_at(&cc, 100, 0);
    uint32_t w = cc.cwnd;
    for (int i = 0; i < 1000; i++)
        ops->on_ack(&cc, MSS, 10 * MSS, 100 * MS, (uint64_t)i * 10 * MS);
    assert_int_equal(cc.cwnd, w);
    /* Slow start too. */
    ops->init(&cc, MSS, 0);
    for (int i = 0; i < 100; i++)
        ops->on_ack(&cc, MSS, 2 * MSS, 0, 0);
    assert_int_equal(cc.cwnd, 10 * MSS);
}

/* RFC 9438 4.2 and 5.8: t leaves out time the flow was application
 * limited. Flow b is limited to half its window for 30 s (ACKs keep
 * coming, so this is not idle) between two window-limited round trips; its
 * curve resumes where it paused, as flow a's does with no pause. Counting
 * the 30 s would put t far past K, the target at the 1.5 cwnd bound, and
 * the window 1.5 times larger after one round trip. */
static void test_app_limited_time_not_counted(void **state)
{
    oasis_cc_state a, b;
    ops->init(&a, MSS, 0);
    lose_at(&a, 100, 0);
    b = a;
    uint64_t rtt = 100 * MS;
    uint64_t now = round_trip(&a, 0, rtt);
    round_trip(&b, 0, rtt);
    round_trip(&a, now, rtt);
    uint32_t w = b.cwnd;
    uint64_t t = now;
    for (int i = 0; i < 300; i++, t += rtt)
        ops->on_ack(&b, MSS, w / 2, rtt, t);
    assert_int_equal(b.cwnd, w);
    /* resume one ACK spacing after the last limited ACK, as a's second
     * round trip began one after its first one's last ACK */
    round_trip(&b, t - rtt + rtt / (w / MSS), rtt);
    assert_true(b.cwnd + 16 >= a.cwnd && b.cwnd <= a.cwnd + 16);
    assert_true(a.cwnd < 75 * MSS);
}

/* Timeout: ssthresh by beta, one segment, ssthresh kept on a repeated
 * timeout, and the next congestion avoidance starts a fresh curve (K = 0,
 * W_max = the window there). */
static void test_rto(void **state)
{
    oasis_cc_state cc;
    ops->init(&cc, MSS, 0);
    cc.cwnd = 50 * MSS;
    ops->on_rto(&cc, 50 * MSS, 0, 0);
    assert_int_equal(cc.cwnd, MSS);
    assert_int_equal(cc.ssthresh, 35 * MSS);
    ops->on_rto(&cc, MSS, 0, 0);
    assert_int_equal(cc.ssthresh, 35 * MSS);
    /* Slow start (plain, ABC L=2) back up to ssthresh, no HyStart++. */
    uint64_t now = 0;
    while (cc.cwnd < cc.ssthresh)
        now = round_trip(&cc, now, 50 * MS);
    oasis_cubic_view v;
    oasis_cubic_view_get(&cc, &v);
    assert_int_equal(v.hystart, 2);
    now = round_trip(&cc, now, 50 * MS);
    oasis_cubic_view_get(&cc, &v);
    assert_true(v.epoch_started);
    assert_near(v.k, 0, 0);
    assert_true(v.w_max >= 35 && v.w_max < 40);
    /* New data acked ends the streak: the next timeout reduces again. */
    uint32_t w = cc.cwnd;
    ops->on_rto(&cc, w, 0, now);
    assert_int_equal(cc.ssthresh, (uint32_t)(w * 0.7));
}

/* RFC 9438 4.10 / RFC 5681 3.1: slow start only while cwnd < ssthresh.
 * After a timeout (ssthresh 35 segments) an ACK that would carry cwnd
 * past ssthresh stops there; the rest is congestion avoidance's, which
 * grows far less than a slow-start step. */
static void test_slow_start_stops_at_ssthresh(void **state)
{
    oasis_cc_state cc;
    ops->init(&cc, MSS, 0);
    cc.cwnd = 50 * MSS;
    ops->on_rto(&cc, 50 * MSS, 0, 0);
    assert_int_equal(cc.ssthresh, 35 * MSS);
    cc.cwnd = 34 * MSS;
    ops->on_ack(&cc, 2 * MSS, cc.cwnd, 50 * MS, MS);
    assert_true(cc.cwnd >= 35 * MSS);
    assert_true(cc.cwnd < 35 * MSS + MSS / 2); /* not 36: CA adds a fraction */
}

/* Idle time does not count as growth time. */
static void test_idle_shifts_epoch(void **state)
{
    oasis_cc_state a, b;
    ops->init(&a, MSS, 0);
    lose_at(&a, 100, 0);
    b = a;
    uint64_t now = round_trip(&a, 0, 100 * MS);
    round_trip(&b, 0, 100 * MS);
    ops->on_idle(&b, 500 * MS, 1000 * MS, now + 500 * MS); /* shorter than the RTO */
    round_trip(&a, now, 100 * MS);
    round_trip(&b, now + 500 * MS, 100 * MS);
    assert_int_equal(a.cwnd, b.cwnd);
    ops->on_idle(&b, 5000 * MS, 1000 * MS, now + 6000 * MS); /* longer: back to the IW */
    assert_int_equal(b.cwnd, 10 * MSS);
}

/* What an idle flow's core cannot keep (remembers) lasts while the pause
 * is shorter than the RTO. After a longer one the controller forgets it
 * (a fresh curve, Reno's slope, RFC 5681 4.1's restart) and then runs
 * exactly as one that init rebuilt from cwnd and ssthresh alone, which is
 * what a flow that gave its extension back runs with (tcp.c ext_setup). */
static void test_idle_past_rto_forgets(void **state)
{
    oasis_cc_state a, b;
    ops->init(&a, MSS, 0);
    assert_false(ops->remembers(&a));
    lose_at(&a, 100, 0);
    uint64_t now = round_trip(&a, 0, 100 * MS);
    assert_true(ops->remembers(&a)); /* W_max 100 ahead of cwnd 70 */
    ops->on_idle(&a, 500 * MS, 1000 * MS, now + 500 * MS);
    assert_true(ops->remembers(&a));
    now += 2000 * MS;
    ops->on_idle(&a, 1500 * MS, 1000 * MS, now);
    assert_false(ops->remembers(&a));
    oasis_cubic_view v;
    oasis_cubic_view_get(&a, &v);
    assert_false(v.epoch_started);
    ops->init(&b, MSS, now);
    b.cwnd = a.cwnd;
    b.ssthresh = a.ssthresh;
    for (int i = 0; i < 30; i++) {
        round_trip(&a, now, 100 * MS);
        now = round_trip(&b, now, 100 * MS);
        assert_int_equal(a.cwnd, b.cwnd);
    }
    assert_true(a.cwnd > a.ssthresh); /* past slow start, along a curve */

    /* In the initial slow start, conservative slow start (RFC 9406) is
     * history too: after the pause HyStart++ starts its rounds over. */
    ops->init(&a, MSS, 0);
    now = 0;
    for (int r = 0; r < 2; r++)
        now = round_trip(&a, now, 80 * MS);
    now = round_trip(&a, now, 100 * MS);
    oasis_cubic_view_get(&a, &v);
    assert_int_equal(v.hystart, 1);
    assert_true(ops->remembers(&a));
    now += 2000 * MS;
    ops->on_idle(&a, 1500 * MS, 1000 * MS, now);
    assert_false(ops->remembers(&a));
    ops->init(&b, MSS, now);
    b.cwnd = a.cwnd;
    b.ssthresh = a.ssthresh;
    for (int i = 0; i < 9; i++) { /* (longer than before the pause: no stale minimum) */
        round_trip(&a, now, (130 + 20 * (uint64_t)i) * MS);
        now = round_trip(&b, now, (130 + 20 * (uint64_t)i) * MS);
        assert_int_equal(a.cwnd, b.cwnd);
        assert_int_equal(a.ssthresh, b.ssthresh);
    }
    assert_int_not_equal(a.ssthresh, UINT32_MAX); /* HyStart++ ended it */
}

/* The epoch can begin after the last send (an ACK starts it), so idle
 * time counted from that send may exceed now - t_epoch: the shifted epoch
 * stops at now instead of passing it (then now - t_epoch would wrap and
 * the window grow 1.5x per RTT). It then grows exactly as after an idle
 * period that ended at the epoch's start. */
static void test_idle_epoch_never_past_now(void **state)
{
    oasis_cc_state a, b;
    ops->init(&a, MSS, 0);
    lose_at(&a, 100, 1000 * MS);
    round_trip(&a, 1000 * MS, 100 * MS); /* the epoch starts at 1 s */
    b = a;
    /* the last data left at 0.95 s; data goes again at 3 s */
    ops->on_idle(&a, 2050 * MS, 10000 * MS, 3000 * MS);
    ops->on_idle(&b, 2000 * MS, 10000 * MS, 3000 * MS); /* epoch moved to 3 s */
    uint64_t now = 3000 * MS;
    for (int i = 0; i < 5; i++) {
        round_trip(&a, now, 100 * MS);
        now = round_trip(&b, now, 100 * MS);
    }
    assert_int_equal(a.cwnd, b.cwnd);
    assert_true(a.cwnd < 2 * 70 * MSS);
}

/* HyStart++: exponential growth while the RTT is flat; a rise of at least
 * clamp(lastRoundMinRTT/8, 4 ms, 16 ms) moves to conservative slow start. */
static void test_hystart_exit_on_rtt_increase(void **state)
{
    oasis_cc_state cc;
    ops->init(&cc, MSS, 0);
    uint64_t now = 0;
    oasis_cubic_view v;
    for (int r = 0; r < 3; r++)
        now = round_trip(&cc, now, 80 * MS);
    assert_int_equal(cc.cwnd, 80 * MSS); /* 10 -> 20 -> 40 -> 80 */
    oasis_cubic_view_get(&cc, &v);
    assert_int_equal(v.hystart, 0);
    /* 80 ms / 8 = 10 ms: a 9 ms rise is not enough... */
    now = round_trip(&cc, now, 89 * MS);
    oasis_cubic_view_get(&cc, &v);
    assert_int_equal(v.hystart, 0);
    assert_int_equal(cc.cwnd, 160 * MSS);
    /* ... 89/8 = 11.1 ms more than the last round's minimum is (after 8
     * samples). */
    now = round_trip(&cc, now, 101 * MS);
    oasis_cubic_view_get(&cc, &v);
    assert_int_equal(v.hystart, 1);
    assert_int_equal(cc.ssthresh, UINT32_MAX);
    /* 8 ACKs at full speed, 152 at a quarter. */
    assert_int_equal(cc.cwnd, 160 * MSS + 8 * MSS + 152 * MSS / 4);
}

/* Small rises below the 4 ms floor never end slow start. */
static void test_hystart_min_threshold(void **state)
{
    oasis_cc_state cc;
    ops->init(&cc, MSS, 0);
    uint64_t now = 0, rtt = 10 * MS;
    for (int r = 0; r < 6; r++) {
        now = round_trip(&cc, now, rtt);
        rtt += 3 * MS + 900000; /* 3.9 ms per round: above 10/8 ms, below 4 ms */
    }
    oasis_cubic_view v;
    oasis_cubic_view_get(&cc, &v);
    assert_int_equal(v.hystart, 0);
    assert_int_equal(cc.cwnd, 640 * MSS);
}

/* ... and the threshold is at most 16 ms (MAX_RTT_THRESH): after rounds
 * of 200 ms, 217 ms is a rise (200/8 would ask 225), 215 ms is not. */
static void test_hystart_max_threshold(void **state)
{
    for (int k = 0; k < 2; k++) {
        oasis_cc_state cc;
        ops->init(&cc, MSS, 0);
        uint64_t now = 0;
        for (int r = 0; r < 3; r++)
            now = round_trip(&cc, now, 200 * MS);
        round_trip(&cc, now, (k ? 217 : 215) * MS);
        oasis_cubic_view v;
        oasis_cubic_view_get(&cc, &v);
        assert_int_equal(v.hystart, k);
    }
}

/* Conservative slow start lasts CSS_ROUNDS rounds at a quarter of the
 * growth, then congestion avoidance starts with ssthresh = cwnd. */
static void test_hystart_css_rounds(void **state)
{
    oasis_cc_state cc;
    ops->init(&cc, MSS, 0);
    uint64_t now = 0;
    oasis_cubic_view v;
    now = round_trip(&cc, now, 40 * MS);
    now = round_trip(&cc, now, 40 * MS);
    now = round_trip(&cc, now, 50 * MS); /* +10 ms >= 5 ms: CSS */
    oasis_cubic_view_get(&cc, &v);
    assert_int_equal(v.hystart, 1);
    int rounds = 0;
    while (v.hystart == 1 && rounds < 20) {
        uint32_t before = cc.cwnd;
        now = round_trip(&cc, now, 50 * MS);
        oasis_cubic_view_get(&cc, &v);
        if (v.hystart == 1) /* a quarter of slow start's doubling */
            assert_true(cc.cwnd - before <= before / 4 + MSS);
        rounds++;
    }
    assert_int_equal(v.hystart, 2);
    assert_int_equal(rounds, 5);
    /* ssthresh = cwnd at the start of the sixth round; the rest of that
     * round ran congestion avoidance on a fresh curve at that window. */
    uint32_t w = cc.ssthresh;
    assert_true(w != UINT32_MAX);
    assert_true(v.epoch_started);
    assert_near(v.k, 0, 0);
    assert_near(v.w_max, w / (double)MSS, 1e-9);
    assert_true(cc.cwnd >= w && cc.cwnd < w + 2 * MSS);
}

/* If the RTT falls back below the CSS baseline, the rise was spurious:
 * slow start resumes. */
static void test_hystart_css_spurious(void **state)
{
    oasis_cc_state cc;
    ops->init(&cc, MSS, 0);
    uint64_t now = 0;
    now = round_trip(&cc, now, 40 * MS);
    now = round_trip(&cc, now, 40 * MS);
    now = round_trip(&cc, now, 50 * MS);
    oasis_cubic_view v;
    oasis_cubic_view_get(&cc, &v);
    assert_int_equal(v.hystart, 1);
    now = round_trip(&cc, now, 45 * MS);
    oasis_cubic_view_get(&cc, &v);
    assert_int_equal(v.hystart, 0);
    uint32_t before = cc.cwnd;
    now = round_trip(&cc, now, 45 * MS);
    assert_int_equal(cc.cwnd, 2 * before); /* doubling again */
}

/* A loss or an ECN-Echo during slow start ends HyStart++ for good. */
static void test_loss_in_slow_start(void **state)
{
    oasis_cc_state cc;
    ops->init(&cc, MSS, 0);
    uint64_t now = round_trip(&cc, 0, 40 * MS);
    ops->on_enter_recovery(&cc, cc.cwnd, 0, now);
    assert_int_equal(cc.ssthresh, 14 * MSS);
    oasis_cubic_view v;
    oasis_cubic_view_get(&cc, &v);
    assert_int_equal(v.hystart, 2);
    /* ECN-Echo too (RFC 9438 4.6: reduction on ECE) */
    ops->init(&cc, MSS, 0);
    now = round_trip(&cc, 0, 40 * MS);
    ops->on_ecn(&cc, cc.cwnd, now);
    assert_int_equal(cc.ssthresh, 14 * MSS);
    assert_int_equal(cc.cwnd, 14 * MSS);
    oasis_cubic_view_get(&cc, &v);
    assert_int_equal(v.hystart, 2);
}

/* Everything is a function of the inputs: two runs agree bit for bit. */
static void test_deterministic(void **state)
{
    oasis_cc_state a, b;
    for (int k = 0; k < 2; k++) {
        oasis_cc_state *cc = k ? &b : &a;
        ops->init(cc, 1448, 0);
        uint64_t now = 0;
        for (int r = 0; r < 200; r++) {
            now = round_trip(cc, now, (uint64_t)(30 + r % 7) * MS);
            if (r % 9 == 8 || cc->cwnd > 2000 * MSS)
                lose_at(cc, cc->cwnd / MSS, now);
        }
    }
    assert_memory_equal(&a, &b, sizeof a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_k_and_curve),
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_beta_on_loss),
        cmocka_unit_test(test_fast_convergence),
        cmocka_unit_test(test_follows_cubic_curve),
        cmocka_unit_test(test_plateau_near_k),
        cmocka_unit_test(test_reno_friendly),
        cmocka_unit_test(test_app_limited),
        cmocka_unit_test(test_app_limited_time_not_counted),
        cmocka_unit_test(test_rto),
        cmocka_unit_test(test_slow_start_stops_at_ssthresh),
        cmocka_unit_test(test_idle_shifts_epoch),
        cmocka_unit_test(test_idle_epoch_never_past_now),
        cmocka_unit_test(test_idle_past_rto_forgets),
        cmocka_unit_test(test_hystart_exit_on_rtt_increase),
        cmocka_unit_test(test_hystart_min_threshold),
        cmocka_unit_test(test_hystart_max_threshold),
        cmocka_unit_test(test_hystart_css_rounds),
        cmocka_unit_test(test_hystart_css_spurious),
        cmocka_unit_test(test_loss_in_slow_start),
        cmocka_unit_test(test_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
