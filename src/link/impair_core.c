/* See impair_core.h. */
#include "link/impair_core.h"

#include <math.h>

#define ETH_HDR 14

/* Moves the Gilbert-Elliott chain to a frame leaving at time t. Per frame
 * (ge_step_ns 0) it takes one step. On the clock it is a continuous-time
 * chain leaving good at rate p_gb/step and bad at rate p_bg/step, so a
 * burst lasts step/p_bg on average however few frames cross it (a sender
 * in RTO backoff sees independent states, not one burst stretched over
 * minutes); the state at t is drawn from its exact distribution given the
 * state at the previous frame. */
static void ge_advance(oasis_impair_state *st, const oasis_impair *g, uint64_t t)
{
    if (!g->ge_step_ns) {
        if (st->ge_bad ? oasis_impair_chance(st, g->ge_p_bad_good)
                       : oasis_impair_chance(st, g->ge_p_good_bad))
            st->ge_bad = !st->ge_bad;
        return;
    }
    double dt = t > st->ge_t ? (double)(t - st->ge_t) : 0;
    if (t > st->ge_t)
        st->ge_t = t;
    double a = g->ge_p_good_bad, b = g->ge_p_bad_good; /* a > 0 */
    double stationary = a / (a + b);
    double decay = exp(-(a + b) * dt / (double)g->ge_step_ns);
    double p_bad = stationary + ((st->ge_bad ? 1.0 : 0.0) - stationary) * decay;
    st->ge_bad = oasis_prng_double(&st->prng) < p_bad;
}

int oasis_impair_loses(oasis_impair_state *st, const oasis_impair *g, uint64_t t)
{
    if (oasis_impair_chance(st, g->loss))
        return OASIS_IMPAIR_LOST;
    if (g->ge_p_good_bad > 0) {
        ge_advance(st, g, t);
        if (oasis_impair_chance(st, st->ge_bad ? g->ge_loss_bad : g->ge_loss_good))
            return OASIS_IMPAIR_BURST;
    }
    return OASIS_IMPAIR_KEPT;
}

int oasis_impair_corruptible(const uint8_t *frame, size_t len)
{
    return len > ETH_HDR && !(frame[12] == 0x08 && frame[13] == 0x06);
}

void oasis_impair_flip(oasis_impair_state *st, uint8_t *frame, size_t len)
{
    uint64_t bit = oasis_prng_below(&st->prng, (uint64_t)(len - ETH_HDR) * 8);
    frame[ETH_HDR + bit / 8] ^= (uint8_t)(1u << (bit % 8));
}
