/* CUBIC (RFC 9438) with HyStart++ (RFC 9406) slow start, behind the
 * oasis_cc_ops interface of tcp_cc.h. The window formulas are exposed for
 * tests. Windows in these helpers are in segments, times in seconds. */
#ifndef OASIS_TCP_CC_CUBIC_H
#define OASIS_TCP_CC_CUBIC_H

#include "tcp/tcp_cc.h"

#define OASIS_CUBIC_C 0.4
#define OASIS_CUBIC_BETA 0.7

extern const oasis_cc_ops oasis_cc_cubic;

/* K: seconds the cubic curve takes from cwnd_epoch back up to w_max
 * (RFC 9438 figure 2); 0 when cwnd_epoch >= w_max. */
double oasis_cubic_k(double w_max, double cwnd_epoch);

/* W_cubic(t) = C*(t-K)^3 + W_max (RFC 9438 figure 1). */
double oasis_cubic_w(double t, double k, double w_max);

/* Algorithm state, for tests and tcp_info-style introspection. */
typedef struct oasis_cubic_view {
    double w_max, k, w_est; /* segments, seconds, segments */
    int epoch_started;
    int hystart;            /* 0 slow start, 1 conservative slow start, 2 done */
    uint32_t css_rounds;
    uint64_t last_round_min_rtt_ns, cur_round_min_rtt_ns; /* UINT64_MAX: none */
} oasis_cubic_view;

void oasis_cubic_view_get(const oasis_cc_state *cc, oasis_cubic_view *out);

#endif
