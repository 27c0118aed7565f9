/* A small seeded PRNG (xoshiro256**, seeded through splitmix64): the stack's
 * only source of randomness, so a seed reproduces a run. Not for secrets:
 * ISNs also mix in a keyed hash (RFC 6528). */
#ifndef OASIS_CORE_PRNG_H
#define OASIS_CORE_PRNG_H

#include <stdint.h>

typedef struct oasis_prng {
    uint64_t s[4];
} oasis_prng;

void oasis_prng_seed(oasis_prng *r, uint64_t seed);
uint64_t oasis_prng_next(oasis_prng *r);
/* Uniform in [0, bound) without modulo bias; bound 0 gives 0. */
uint64_t oasis_prng_below(oasis_prng *r, uint64_t bound);
/* Uniform double in [0, 1). */
double oasis_prng_double(oasis_prng *r);

#endif
