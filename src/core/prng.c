#include "core/prng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void oasis_prng_seed(oasis_prng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

void oasis_prng_seed_state(oasis_prng *r, const uint64_t state[4])
{
    for (int i = 0; i < 4; i++)
        r->s[i] = state[i];
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1; /* the one state xoshiro cannot leave */
}

uint64_t oasis_prng_next(oasis_prng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t oasis_prng_below(oasis_prng *r, uint64_t bound)
{
    if (bound == 0)
        return 0;
    uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
    uint64_t x;
    do
        x = oasis_prng_next(r);
    while (x >= limit);
    return x % bound;
}

double oasis_prng_double(oasis_prng *r) { return (double)(oasis_prng_next(r) >> 11) * 0x1.0p-53; }
