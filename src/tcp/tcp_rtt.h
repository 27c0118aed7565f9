/* Retransmission timer computation (RFC 6298) with Karn's rule left to the
 * caller (only feed samples from segments that were not retransmitted, or
 * from timestamps). */
#ifndef OASIS_TCP_RTT_H
#define OASIS_TCP_RTT_H

#include <stdint.h>

typedef struct oasis_rtt {
    uint64_t srtt_ns, rttvar_ns;
    uint64_t rto_ns;          /* current RTO, before backoff, within [min, max] */
    uint64_t min_ns, max_ns;  /* RTO bounds */
    uint32_t backoff;         /* exponent: consecutive timeouts */
    int have_sample;
} oasis_rtt;

/* initial_ns: RTO before any sample (1 s per RFC 6298), clamped to
 * [min_ns, max_ns] (max below min is raised to min). */
void oasis_rtt_init(oasis_rtt *r, uint64_t initial_ns, uint64_t min_ns, uint64_t max_ns);
/* A new RTT measurement; resets backoff. First sample: srtt = R, rttvar =
 * R/2; then rttvar = 3/4 rttvar + 1/4 |srtt - R|, srtt = 7/8 srtt + 1/8 R.
 * rto = srtt + max(G = 1 ms, 4 * rttvar), clamped to [min, max]. */
void oasis_rtt_sample(oasis_rtt *r, uint64_t rtt_ns);
/* The same for a sample of ms milliseconds, ms < 2^31 (a timestamp echo's
 * TS.now - TSecr, RFC 7323 4.1). */
void oasis_rtt_sample_ms(oasis_rtt *r, uint32_t ms);
/* Back from idle: srtt and rttvar as they were (have_sample set), the RTO
 * computed from them as (2.3) does, backoff 0. */
void oasis_rtt_restore(oasis_rtt *r, uint64_t srtt_ns, uint64_t rttvar_ns);
/* A timeout happened: backoff++ (saturating), which doubles the RTO that
 * oasis_rtt_rto() returns until it reaches max. backoff is therefore the
 * count of consecutive timeouts, usable for retry limits. */
void oasis_rtt_backoff(oasis_rtt *r);
/* rto_ns is at least floor_ns, within the bounds (a lost SYN's 3 s,
 * RFC 6298 5.7). */
void oasis_rtt_raise(oasis_rtt *r, uint64_t floor_ns);
/* The RTO to arm now: rto << backoff, clamped to [min, max]. */
uint64_t oasis_rtt_rto_backed(const oasis_rtt *r);
static inline uint64_t oasis_rtt_rto(const oasis_rtt *r)
{
    /* No backoff (the usual case): rto_ns as it is, which every writer
     * (all here, in tcp_rtt.c) keeps within the bounds. */
    if (!r->backoff)
        return r->rto_ns;
    return oasis_rtt_rto_backed(r);
}

#endif
