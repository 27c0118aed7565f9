#include "core/checksum.h"
#include "core/compiler.h"

#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define OASIS_BIG_ENDIAN 1
#else
#define OASIS_BIG_ENDIAN 0
#endif

/* Folds a 64-bit partial sum to 32 bits (mod 2^16-1 it is the same sum). */
static uint64_t fold64(uint64_t t)
{
    t = (t & 0xffffffffu) + (t >> 32);
    return (t & 0xffffffffu) + (t >> 32);
}

/* Adds the 0..7 bytes after the last whole 8-byte word. p is at an even
 * offset from the start, so the 16-bit words keep their lanes. */
static uint64_t sum_tail(const uint8_t *p, size_t len)
{
    uint64_t t = 0;
    if (len >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        t += w;
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        t += w;
        p += 2;
        len -= 2;
    }
    if (len)
        t += OASIS_BIG_ENDIAN ? (uint64_t)p[0] << 8 : p[0];
    return t;
}

/* sum_tail that also copies the bytes it adds to d (a call to memcpy
 * costs more than these few moves). */
static uint64_t copy_tail(uint8_t *d, const uint8_t *p, size_t len)
{
    uint64_t t = 0;
    if (len >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        memcpy(d, &w, 4);
        t += w;
        p += 4;
        d += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        memcpy(d, &w, 2);
        t += w;
        p += 2;
        d += 2;
        len -= 2;
    }
    if (len) {
        d[0] = p[0];
        t += OASIS_BIG_ENDIAN ? (uint64_t)p[0] << 8 : p[0];
    }
    return t;
}

/* Adds a 64-bit partial sum of the caller's running sum, keeping it below
 * 2^33 so that it cannot overflow across many calls. */
static uint64_t add_partial(uint64_t sum, uint64_t t)
{
    sum += fold64(t);
    return (sum & 0xffffffffu) + (sum >> 32);
}

#if defined(__GNUC__) || defined(__clang__)
/* 64-bit words added with carry (the one's complement sum of 64-bit words
 * folds to that of 16-bit words, as 2^16 = 1 mod 2^16-1). Carries are
 * counted apart (add + adc $0) and added back at the end; four independent
 * chains hide the latency. */
typedef struct acc {
    uint64_t s[4], c[4];
} acc;

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

#define ACC_ADD(A, i, w) ((A).c[i] += __builtin_add_overflow((A).s[i], (w), &(A).s[i]))

static uint64_t acc_fold(const acc *a)
{
    uint64_t t = 0, c = a->c[0] + a->c[1] + a->c[2] + a->c[3];
    for (int i = 0; i < 4; i++)
        c += __builtin_add_overflow(t, a->s[i], &t);
    /* The carries are worth 2^64 = 1 each; one more end-around carry at
     * most (t wrapped, so it is below c and t + 1 cannot wrap again). */
    return t + c + (t + c < c);
}

/* Adds the len bytes at p, the start of a partial sum t, to the running
 * sum on one carry chain. A header-sized buffer (a segment without payload,
 * a small one) takes only this: its cost is the setup, not the loads. */
static inline uint64_t add_short(uint64_t sum, uint64_t t, const uint8_t *p, size_t len)
{
    uint64_t c = 0;
    while (len >= 8) {
        c += __builtin_add_overflow(t, load64(p), &t);
        p += 8;
        len -= 8;
    }
    c += __builtin_add_overflow(t, sum_tail(p, len), &t);
    /* c is below 2^61 (one per word): t + c wraps at most once. */
    t += c;
    return add_partial(sum, t + (t < c));
}

/* 64 bytes and more: four chains over 32-byte blocks, then the rest on
 * one. Out of line, so that a short buffer's call saves none of their
 * registers. */
static OASIS_NOINLINE uint64_t add_long(uint64_t sum, const uint8_t *p, size_t len)
{
    acc a = {{0}, {0}};
    while (len >= 32) {
        ACC_ADD(a, 0, load64(p));
        ACC_ADD(a, 1, load64(p + 8));
        ACC_ADD(a, 2, load64(p + 16));
        ACC_ADD(a, 3, load64(p + 24));
        p += 32;
        len -= 32;
    }
    return add_short(sum, acc_fold(&a), p, len);
}

OASIS_HOT uint64_t oasis_csum_add(uint64_t sum, const void *buf, size_t len)
{
    if (len >= 64)
        return add_long(sum, buf, len);
    return add_short(sum, 0, buf, len);
}

/* oasis_csum_copy of 8 bytes or more: apart, so that the few bytes of a
 * request or a response do not pay for its registers and accumulators. */
OASIS_NOINLINE static uint64_t csum_copy_long(uint8_t *d, const uint8_t *p, size_t len, uint64_t sum)
{
    acc a = {{0}, {0}};
    while (len >= 32) {
        uint64_t w0 = load64(p), w1 = load64(p + 8), w2 = load64(p + 16), w3 = load64(p + 24);
        memcpy(d, &w0, 8);
        memcpy(d + 8, &w1, 8);
        memcpy(d + 16, &w2, 8);
        memcpy(d + 24, &w3, 8);
        ACC_ADD(a, 0, w0);
        ACC_ADD(a, 1, w1);
        ACC_ADD(a, 2, w2);
        ACC_ADD(a, 3, w3);
        p += 32;
        d += 32;
        len -= 32;
    }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        memcpy(d, &w, 8);
        ACC_ADD(a, 0, w);
        p += 8;
        d += 8;
        len -= 8;
    }
    ACC_ADD(a, 1, copy_tail(d, p, len));
    return add_partial(sum, acc_fold(&a));
}

uint64_t oasis_csum_copy(void *dst, const void *src, size_t len, uint64_t sum)
{
    if (len < 8)
        return add_partial(sum, copy_tail(dst, src, len));
    return csum_copy_long(dst, src, len, sum);
}
#else
/* Portable: 32-bit halves of 64-bit loads into 64-bit accumulators; 2^32
 * loads before one could overflow, far beyond any packet. */
OASIS_HOT uint64_t oasis_csum_add(uint64_t sum, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint64_t a = 0, b = 0;
    while (len >= 16) {
        uint64_t w[2];
        memcpy(w, p, 16);
        a += (w[0] & 0xffffffffu) + (w[0] >> 32);
        b += (w[1] & 0xffffffffu) + (w[1] >> 32);
        p += 16;
        len -= 16;
    }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        a += (w & 0xffffffffu) + (w >> 32);
        p += 8;
        len -= 8;
    }
    return add_partial(sum, fold64(a) + fold64(b) + sum_tail(p, len));
}

uint64_t oasis_csum_copy(void *dst, const void *src, size_t len, uint64_t sum)
{
    memcpy(dst, src, len);
    return oasis_csum_add(sum, dst, len);
}
#endif

uint16_t oasis_csum_ref(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint32_t sum = 0;
    size_t i;
    for (i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    uint16_t be = (uint16_t)~sum;
    /* Return it in memory order, like oasis_csum. */
    uint8_t out[2] = {(uint8_t)(be >> 8), (uint8_t)be};
    uint16_t r;
    memcpy(&r, out, 2);
    return r;
}
