/* A small PRNG (xoshiro256**) for jitter, ports and offsets: seeded from
 * the OS by default, or through splitmix64 from a fixed seed so a seed
 * reproduces a run. Never for secrets: its state can be recovered from its
 * outputs, so keys come from core/secrets.h instead. */
#ifndef OASIS_CORE_PRNG_H
#define OASIS_CORE_PRNG_H

#include <stdint.h>

typedef struct oasis_prng {
    uint64_t s[4];
} oasis_prng;

void oasis_prng_seed(oasis_prng *r, uint64_t seed);
/* Takes 256 bits of state as they are (e.g. from the OS). */
void oasis_prng_seed_state(oasis_prng *r, const uint64_t state[4]);
uint64_t oasis_prng_next(oasis_prng *r);
/* Uniform in [0, bound) without modulo bias; bound 0 gives 0. */
uint64_t oasis_prng_below(oasis_prng *r, uint64_t bound);
/* Uniform double in [0, 1). */
double oasis_prng_double(oasis_prng *r);

#endif
