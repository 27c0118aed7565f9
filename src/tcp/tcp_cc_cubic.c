/* CUBIC (RFC 9438): after a loss the window follows a cubic curve of the
 * time since the loss, flat around the window where the loss happened
 * (W_max) and steep away from it, never slower than what Reno would do in
 * the same time (the Reno-friendly estimate W_est). The initial slow start
 * runs HyStart++ (RFC 9406): when the round's minimum RTT rises, growth
 * drops to a quarter (conservative slow start) for up to five rounds, then
 * congestion avoidance begins without a loss.
 *
 * Like NewReno, this file only moves cwnd and ssthresh; fast recovery's
 * inflation and deflation follow RFC 6582 as the state machine expects.
 * Windows are bytes in oasis_cc_state and segments inside the formulas. */
#include "tcp/tcp_cc_cubic.h"

#include <math.h>
#include <string.h>

#define IW_BYTES 14600u  /* RFC 6928 */
#define DEFAULT_MSS 536u /* RFC 9293 */
#define ABC_L 2u         /* RFC 3465 limit for slow start after a timeout */

/* RFC 9406 constants. */
#define HS_L 8u /* non-paced sender */
#define HS_MIN_RTT_THRESH_US 4000u
#define HS_MAX_RTT_THRESH_US 16000u
#define HS_MIN_RTT_DIVISOR 8u
#define HS_N_RTT_SAMPLE 8u
#define HS_CSS_GROWTH_DIVISOR 4u
#define HS_CSS_ROUNDS 5u
#define RTT_NONE UINT32_MAX

enum { HS_SS, HS_CSS, HS_DONE };

enum {
    F_EPOCH = 1,      /* a congestion-avoidance epoch is running */
    F_FRESH_CA = 2,   /* next epoch: K = 0 and W_max = cwnd (no loss to recall) */
    F_RTO_STREAK = 4, /* timed out with nothing acked since */
};

/* Private state, copied in and out of oasis_cc_state.priv (64 bytes). */
typedef struct cubic {
    uint64_t t_epoch_ns;
    double k;          /* seconds */
    double w_est;      /* segments */
    float frac;        /* growth below one byte, carried to the next ACK */
    uint32_t w_max;    /* bytes */
    uint32_t cwnd_prior; /* bytes */
    uint32_t t_ack_us; /* the curve's t at the last congestion-avoidance ACK */
    uint32_t srtt_us;  /* 0: no sample yet */
    uint32_t last_min_us, cur_min_us, css_base_us; /* RTT_NONE: none */
    uint32_t round_left; /* bytes still to be acked before this round ends */
    uint8_t samples, css_rounds, hs, flags;
} cubic;

_Static_assert(sizeof(cubic) <= sizeof(((oasis_cc_state *)0)->priv), "cubic state too big");

static cubic load(const oasis_cc_state *cc)
{
    cubic c;
    memcpy(&c, cc->priv, sizeof c);
    return c;
}

static void store(oasis_cc_state *cc, const cubic *c) { memcpy(cc->priv, c, sizeof *c); }

static uint32_t sat_add(uint32_t a, uint32_t b) { return a > UINT32_MAX - b ? UINT32_MAX : a + b; }
static uint32_t max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }
static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

static uint32_t bytes_of(double v)
{
    if (!(v > 0))
        return 0;
    return v >= (double)UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

double oasis_cubic_k(double w_max, double cwnd_epoch)
{
    return cwnd_epoch >= w_max ? 0.0 : cbrt((w_max - cwnd_epoch) / OASIS_CUBIC_C);
}

double oasis_cubic_w(double t, double k, double w_max)
{
    double d = t - k;
    return OASIS_CUBIC_C * d * d * d + w_max;
}

static uint32_t initial_window(uint32_t mss)
{
    uint64_t floor = (uint64_t)mss * 2 > IW_BYTES ? (uint64_t)mss * 2 : IW_BYTES;
    uint64_t iw = (uint64_t)mss * 10 < floor ? (uint64_t)mss * 10 : floor;
    return iw > UINT32_MAX ? UINT32_MAX : (uint32_t)iw;
}

/* Same rule as NewReno (RFC 7661 spirit): only a flow that used its window
 * learns that a bigger one is safe. */
static int cwnd_limited(const oasis_cc_state *cc, uint32_t flight)
{
    if (cc->cwnd < cc->ssthresh)
        return (uint64_t)flight * 2 >= cc->cwnd;
    return sat_add(flight, cc->mss) > cc->cwnd;
}

static void cubic_init(oasis_cc_state *cc, uint32_t mss, uint64_t now_ns)
{
    memset(cc, 0, sizeof *cc);
    cc->mss = mss ? mss : DEFAULT_MSS;
    cc->cwnd = initial_window(cc->mss);
    cc->ssthresh = UINT32_MAX;
    cubic c = {0};
    c.last_min_us = c.cur_min_us = c.css_base_us = RTT_NONE;
    c.hs = HS_SS;
    c.flags = F_FRESH_CA;
    store(cc, &c);
}

static void rtt_sample(cubic *c, uint64_t rtt_ns)
{
    uint64_t us = rtt_ns / 1000;
    uint32_t r = us >= RTT_NONE ? RTT_NONE - 1 : (uint32_t)(us ? us : 1);
    c->srtt_us = c->srtt_us ? c->srtt_us - c->srtt_us / 8 + r / 8 : r;
    if (r < c->cur_min_us)
        c->cur_min_us = r;
    if (c->samples < UINT8_MAX)
        c->samples++;
}

/* HyStart++ rounds: RFC 9406 records windowEnd = SND.NXT at a round's start
 * and starts the next round with the first ACK beyond it. The hooks do not
 * see sequence numbers, so count the bytes still outstanding below
 * windowEnd instead. Returns 1 when a round starts. */
static int hs_round(cubic *c, uint32_t acked, uint32_t flight)
{
    if (c->round_left >= acked) {
        c->round_left -= acked;
        return 0;
    }
    c->last_min_us = c->cur_min_us;
    c->cur_min_us = RTT_NONE;
    c->samples = 0;
    c->round_left = flight > acked ? flight - acked : 0;
    return 1;
}

static uint32_t hs_rtt_thresh(uint32_t last_min_us)
{
    uint32_t t = last_min_us / HS_MIN_RTT_DIVISOR;
    if (t < HS_MIN_RTT_THRESH_US)
        return HS_MIN_RTT_THRESH_US;
    return t > HS_MAX_RTT_THRESH_US ? HS_MAX_RTT_THRESH_US : t;
}

/* The delay checks of RFC 9406 4.2, once a round has enough samples. */
static void hs_check(cubic *c)
{
    if (c->samples < HS_N_RTT_SAMPLE || c->cur_min_us == RTT_NONE)
        return;
    if (c->hs == HS_SS && c->last_min_us != RTT_NONE &&
        (uint64_t)c->cur_min_us >= (uint64_t)c->last_min_us + hs_rtt_thresh(c->last_min_us)) {
        c->css_base_us = c->cur_min_us;
        c->hs = HS_CSS;
        c->css_rounds = 0;
    } else if (c->hs == HS_CSS && c->cur_min_us < c->css_base_us) {
        c->css_base_us = RTT_NONE; /* the rise was spurious: back to slow start */
        c->hs = HS_SS;
    }
}

/* Returns the acknowledged bytes slow start did not use: growth past
 * ssthresh is congestion avoidance's (RFC 9438 4.10, RFC 5681 3.1: slow
 * start only while cwnd < ssthresh). */
static uint32_t slow_start(oasis_cc_state *cc, cubic *c, uint32_t acked, uint32_t flight,
                           uint64_t rtt_ns)
{
    /* HyStart++ runs in the initial slow start only (RFC 9406 4.3). */
    int hystart = c->hs != HS_DONE && cc->ssthresh == UINT32_MAX;
    if (hystart) {
        if (hs_round(c, acked, flight) && c->hs == HS_CSS &&
            ++c->css_rounds >= HS_CSS_ROUNDS) {
            cc->ssthresh = cc->cwnd; /* enough: congestion avoidance from here */
            c->hs = HS_DONE;
            return 0;
        }
        if (rtt_ns)
            rtt_sample(c, rtt_ns);
    }
    uint32_t left = 0;
    if (cwnd_limited(cc, flight)) {
        uint32_t inc = min_u32(acked, (hystart ? HS_L : ABC_L) * cc->mss);
        if (hystart && c->hs == HS_CSS)
            inc /= HS_CSS_GROWTH_DIVISOR;
        uint32_t room = cc->ssthresh - cc->cwnd; /* > 0: we are in slow start */
        if (inc > room) {
            left = inc - room;
            inc = room;
        }
        cc->cwnd = sat_add(cc->cwnd, inc);
    }
    if (hystart)
        hs_check(c);
    return left;
}

static void epoch_start(oasis_cc_state *cc, cubic *c, uint64_t now_ns)
{
    c->flags |= F_EPOCH;
    c->t_epoch_ns = now_ns;
    c->t_ack_us = 0;
    if ((c->flags & F_FRESH_CA) || c->w_max <= cc->cwnd) {
        /* After a timeout or a slow start that ended without loss there is
         * no W_max to return to (RFC 9438 4.8): start at the inflection. */
        c->w_max = cc->cwnd;
        c->k = 0;
        c->flags &= (uint8_t)~F_FRESH_CA;
    } else {
        c->k = oasis_cubic_k((double)c->w_max / cc->mss, (double)cc->cwnd / cc->mss);
    }
    c->w_est = (double)cc->cwnd / cc->mss;
    c->frac = 0;
}

static void congestion_avoidance(oasis_cc_state *cc, cubic *c, uint32_t acked, uint64_t now_ns)
{
    double mss = cc->mss;
    double cwnd = cc->cwnd / mss, segs = acked / mss;
    uint64_t t_ns = now_ns - c->t_epoch_ns;
    double t = (double)t_ns / 1e9;
    double w_max = c->w_max / mss;
    c->t_ack_us = t_ns / 1000 >= UINT32_MAX ? UINT32_MAX : (uint32_t)(t_ns / 1000);

    /* Reno-friendly estimate (RFC 9438 4.3): Reno's slope scaled for
     * CUBIC's gentler decrease, Reno's own once past the pre-loss window. */
    double alpha = c->w_est >= c->cwnd_prior / mss
                       ? 1.0
                       : 3.0 * (1 - OASIS_CUBIC_BETA) / (1 + OASIS_CUBIC_BETA);
    c->w_est += alpha * segs / cwnd;

    if (oasis_cubic_w(t, c->k, w_max) < c->w_est) {
        cc->cwnd = max_u32(cc->cwnd, bytes_of(c->w_est * mss));
        return;
    }
    /* Concave and convex regions (4.4, 4.5): aim at the curve one RTT
     * ahead, at most 1.5 times the window. */
    double target = oasis_cubic_w(t + c->srtt_us / 1e6, c->k, w_max);
    if (target < cwnd)
        target = cwnd;
    if (target > 1.5 * cwnd)
        target = 1.5 * cwnd;
    double inc = (target - cwnd) / cwnd * segs * mss + c->frac;
    double whole = floor(inc);
    c->frac = (float)(inc - whole);
    cc->cwnd = sat_add(cc->cwnd, bytes_of(whole));
}

/* RFC 9438 4.2 and 5.8: t MUST NOT include the time cwnd did not grow
 * because the flow was not using it (the application, or the receiver's
 * window, sent less): an ACK that finds the flow so limited holds the
 * curve where the previous ACK left it. (Idle periods are on_idle's.) */
static void hold_curve(cubic *c, uint64_t now_ns)
{
    uint64_t t_ns = (uint64_t)c->t_ack_us * 1000;
    c->t_epoch_ns = now_ns > t_ns ? now_ns - t_ns : 0;
}

static void cubic_on_ack(oasis_cc_state *cc, uint32_t acked, uint32_t flight, uint64_t rtt_ns,
                         uint64_t now_ns)
{
    cubic c = load(cc);
    c.flags &= (uint8_t)~F_RTO_STREAK;
    int hystart = c.hs != HS_DONE && cc->ssthresh == UINT32_MAX;
    if (rtt_ns && !hystart)
        rtt_sample(&c, rtt_ns); /* HyStart++ samples per round, in slow_start() */
    if (acked) {
        if (cc->cwnd < cc->ssthresh)
            acked = slow_start(cc, &c, acked, flight, rtt_ns);
        if (acked && cc->cwnd >= cc->ssthresh) {
            if (!(c.flags & F_EPOCH))
                epoch_start(cc, &c, now_ns);
            if (cwnd_limited(cc, flight))
                congestion_avoidance(cc, &c, acked, now_ns);
            else
                hold_curve(&c, now_ns);
        }
    }
    store(cc, &c);
}

/* A congestion event (RFC 9438 4.6, 4.7): remember where it happened, with
 * fast convergence lowering W_max further when the window is shrinking,
 * and reduce by beta. ssthresh from cwnd, not flight_size, as Linux (and
 * the ported scripts of test_tcp_pd_c.c): 4.6 allows it to a sender whose
 * cwnd does not grow unused, which cwnd_limited sees to. */
static void loss_event(oasis_cc_state *cc, cubic *c)
{
    if (cc->cwnd < c->w_max)
        c->w_max = bytes_of(cc->cwnd * (1 + OASIS_CUBIC_BETA) / 2);
    else
        c->w_max = cc->cwnd;
    c->cwnd_prior = cc->cwnd;
    cc->ssthresh = max_u32(bytes_of(cc->cwnd * OASIS_CUBIC_BETA), sat_add(cc->mss, cc->mss));
    c->flags &= (uint8_t)~(F_EPOCH | F_FRESH_CA);
    c->hs = HS_DONE;
    cc->bytes_acked = 0;
}

static void cubic_on_enter_recovery(oasis_cc_state *cc, uint32_t flight, int sack,
                                    uint64_t now_ns)
{
    cubic c = load(cc);
    loss_event(cc, &c);
    /* RFC 5681: the three dupacks left the network; with SACK, PRR paces
     * the sending instead (RFC 6675 4.2). */
    cc->cwnd = sack ? cc->ssthresh : sat_add(cc->ssthresh, 3 * cc->mss);
    store(cc, &c);
}

/* ECN-Echo: a congestion event as a loss (RFC 9438 4.6, RFC 3168 6.1.2),
 * cwnd to ssthresh, or halved (at least one MSS) if already below it. */
static void cubic_on_ecn(oasis_cc_state *cc, uint32_t flight, uint64_t now_ns)
{
    (void)flight;
    (void)now_ns;
    cubic c = load(cc);
    uint32_t before = cc->cwnd;
    loss_event(cc, &c);
    cc->cwnd = before > cc->ssthresh ? cc->ssthresh : max_u32(before / 2, cc->mss);
    store(cc, &c);
}

static void cubic_on_recovery_ack(oasis_cc_state *cc, uint32_t acked, int full, int sack,
                                  uint32_t flight, uint64_t now_ns)
{
    cubic c = load(cc);
    c.flags &= (uint8_t)~F_RTO_STREAK;
    store(cc, &c);
    if (full) {
        /* RFC 6675 / 9937: cwnd = ssthresh; RFC 6582 3.2 step 3, option 1:
         * no burst beyond what is in flight. */
        cc->cwnd = sack ? cc->ssthresh
                        : min_u32(cc->ssthresh, sat_add(max_u32(flight, cc->mss), cc->mss));
        return;
    }
    if (sack)
        return;
    uint32_t w = cc->cwnd > acked ? cc->cwnd - acked : 0;
    if (acked >= cc->mss)
        w = sat_add(w, cc->mss);
    cc->cwnd = max_u32(w, cc->mss);
}

static void cubic_on_dupack(oasis_cc_state *cc) { cc->cwnd = sat_add(cc->cwnd, cc->mss); }

/* Timeout (RFC 9438 4.8): ssthresh as for a loss (kept on a repeated
 * timeout, RFC 5681 3.1), one segment, and the next congestion avoidance
 * starts a fresh curve at its own window. */
static void cubic_on_rto(oasis_cc_state *cc, uint32_t flight, int in_recovery, uint64_t now_ns)
{
    cubic c = load(cc);
    /* A timeout inside fast recovery is the same congestion episode: the
     * window was already reduced for it. */
    if (!(c.flags & F_RTO_STREAK) && !in_recovery)
        loss_event(cc, &c);
    c.hs = HS_DONE;
    c.flags |= F_RTO_STREAK | F_FRESH_CA;
    c.flags &= (uint8_t)~F_EPOCH;
    cc->cwnd = cc->mss;
    store(cc, &c);
}

/* Idle time is not growth time: the curve resumes where it paused. After
 * more than an RTO the ACK clock is gone: restart from the initial window
 * (RFC 5681 4.1), and with it what the last congestion event said of the
 * path goes too: a fresh curve at the next congestion avoidance, as after
 * a timeout (RFC 9438 4.8), Reno's own slope for the Reno-friendly
 * estimate (no window before a reduction to climb back to), and an initial
 * slow start's HyStart++ rounds from the start. That is what cubic_init
 * leaves a flow that gave its extension back (cubic_remembers). */
static void cubic_on_idle(oasis_cc_state *cc, uint64_t idle_ns, uint64_t rto_ns, uint64_t now_ns)
{
    cubic c = load(cc);
    if (c.flags & F_EPOCH) {
        /* The epoch may have begun after the last send (an ACK starts
         * it): never past now, or now - t_epoch would wrap. */
        c.t_epoch_ns += idle_ns;
        if (c.t_epoch_ns > now_ns)
            c.t_epoch_ns = now_ns;
    }
    if (idle_ns > rto_ns) {
        cc->cwnd = min_u32(cc->cwnd, initial_window(cc->mss));
        c.flags = (uint8_t)((c.flags | F_FRESH_CA) & ~F_EPOCH);
        c.w_max = c.cwnd_prior = 0;
        if (c.hs == HS_CSS)
            c.hs = HS_SS;
        c.last_min_us = c.cur_min_us = c.css_base_us = RTT_NONE;
        c.samples = c.css_rounds = 0;
        c.round_left = 0;
    }
    store(cc, &c);
}

/* What an idle flow's core cannot keep (ext_release keeps cwnd and
 * ssthresh): the window of the last congestion event still above cwnd (the
 * curve's W_max, the Reno-friendly estimate's cwnd_prior, RFC 9438 4.3 to
 * 4.6), or conservative slow start under way (RFC 9406). */
static int cubic_remembers(const oasis_cc_state *cc)
{
    cubic c = load(cc);
    return (!(c.flags & F_FRESH_CA) && c.w_max > cc->cwnd) || c.cwnd_prior > cc->cwnd ||
           c.hs == HS_CSS;
}

void oasis_cubic_view_get(const oasis_cc_state *cc, oasis_cubic_view *out)
{
    cubic c = load(cc);
    double mss = cc->mss ? cc->mss : DEFAULT_MSS;
    out->w_max = c.w_max / mss;
    out->k = c.k;
    out->w_est = c.w_est;
    out->epoch_started = (c.flags & F_EPOCH) != 0;
    out->hystart = c.hs;
    out->css_rounds = c.css_rounds;
    out->last_round_min_rtt_ns =
        c.last_min_us == RTT_NONE ? UINT64_MAX : (uint64_t)c.last_min_us * 1000;
    out->cur_round_min_rtt_ns =
        c.cur_min_us == RTT_NONE ? UINT64_MAX : (uint64_t)c.cur_min_us * 1000;
}

const oasis_cc_ops oasis_cc_cubic = {
    .name = "cubic",
    .init = cubic_init,
    .on_ack = cubic_on_ack,
    .on_enter_recovery = cubic_on_enter_recovery,
    .on_recovery_ack = cubic_on_recovery_ack,
    .on_dupack = cubic_on_dupack,
    .on_rto = cubic_on_rto,
    .on_ecn = cubic_on_ecn,
    .on_idle = cubic_on_idle,
    .remembers = cubic_remembers,
};
