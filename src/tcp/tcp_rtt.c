/* RFC 6298 retransmission timeout estimator, integer nanoseconds. */
#include "tcp/tcp_rtt.h"
#include "core/compiler.h"
#include "oasis/clock.h"

#define RTT_G_NS 1000000ull     /* clock granularity G: 1 ms */
#define RTT_K 4
/* Samples are capped so that K*rttvar and the smoothing sums cannot
 * overflow 64 bits (2^56 ns is over two years). */
#define RTT_SAMPLE_MAX (1ull << 56)
/* Doubling more than this many times overflows any RTO anyway. */
#define RTT_SHIFT_MAX 64

static uint64_t clamp(const oasis_rtt *r, uint64_t v)
{
    if (v < r->min_ns)
        return r->min_ns;
    if (v > r->max_ns)
        return r->max_ns;
    return v;
}

void oasis_rtt_init(oasis_rtt *r, uint64_t initial_ns, uint64_t min_ns, uint64_t max_ns)
{
    r->srtt_ns = 0;
    r->rttvar_ns = 0;
    r->min_ns = min_ns;
    r->max_ns = max_ns < min_ns ? min_ns : max_ns;
    r->rto_ns = clamp(r, initial_ns);
    r->backoff = 0;
    r->have_sample = 0;
}

/* A sample R within RTT_SAMPLE_MAX. */
static OASIS_ALWAYS_INLINE void sample(oasis_rtt *r, uint64_t R)
{
    if (!r->have_sample) {
        r->srtt_ns = R; /* (2.2) */
        r->rttvar_ns = R / 2;
        r->have_sample = 1;
    } else {
        /* (2.3): rttvar first, with the old srtt; alpha 1/8, beta 1/4. */
        uint64_t err = r->srtt_ns > R ? r->srtt_ns - R : R - r->srtt_ns;
        r->rttvar_ns = r->rttvar_ns - r->rttvar_ns / 4 + err / 4;
        r->srtt_ns = r->srtt_ns - r->srtt_ns / 8 + R / 8;
    }
    uint64_t var = RTT_K * r->rttvar_ns;
    r->rto_ns = clamp(r, r->srtt_ns + (var > RTT_G_NS ? var : RTT_G_NS));
    r->backoff = 0;
}

void oasis_rtt_sample(oasis_rtt *r, uint64_t rtt_ns)
{
    sample(r, rtt_ns > RTT_SAMPLE_MAX ? RTT_SAMPLE_MAX : rtt_ns);
}

/* (a timestamp echo's 2^31 ms at most are below RTT_SAMPLE_MAX's 2^56 ns:
 * no cap to test) */
OASIS_HOT OASIS_ALWAYS_INLINE void oasis_rtt_sample_ms(oasis_rtt *r, uint32_t ms)
{
    sample(r, (uint64_t)ms * OASIS_NS_PER_MS);
}

void oasis_rtt_restore(oasis_rtt *r, uint64_t srtt_ns, uint64_t rttvar_ns)
{
    r->srtt_ns = srtt_ns;
    r->rttvar_ns = rttvar_ns;
    r->have_sample = 1;
    uint64_t var = RTT_K * rttvar_ns;
    r->rto_ns = clamp(r, srtt_ns + (var > RTT_G_NS ? var : RTT_G_NS));
    r->backoff = 0;
}

void oasis_rtt_raise(oasis_rtt *r, uint64_t floor_ns)
{
    if (r->rto_ns < floor_ns)
        r->rto_ns = clamp(r, floor_ns);
}

void oasis_rtt_backoff(oasis_rtt *r)
{
    /* backoff keeps counting past max (callers use it as the retry count);
     * it saturates instead of wrapping. */
    if (r->backoff < UINT32_MAX)
        r->backoff++;
}

uint64_t oasis_rtt_rto_backed(const oasis_rtt *r)
{
    uint64_t v = r->rto_ns;
    for (uint32_t i = 0; i < r->backoff && i < RTT_SHIFT_MAX && v < r->max_ns; i++)
        v = v > UINT64_MAX / 2 ? UINT64_MAX : v * 2;
    return clamp(r, v);
}
