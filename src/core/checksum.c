#include "core/checksum.h"
#include "core/compiler.h"

#include <string.h>

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define OASIS_CSUM_AVX2 1
#include <immintrin.h>
#else
#define OASIS_CSUM_AVX2 0
#endif

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
static uint64_t sum_tail(const uint8_t *p, size_t len) { return oasis_csum_tail(p, len); }

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

/* The 0..7 bytes at p that end a buffer of 8 bytes or more, from one
 * load of the 8 bytes that end it, shifted down: they start a multiple of
 * 8 bytes from its start, so they land in the lanes they have there
 * (little-endian; big-endian takes sum_tail). */
static inline uint64_t tail_load(const uint8_t *p, size_t len)
{
    return load64(p + len - 8) >> (56 - 8 * len) >> 8;
}

/* Adds the len bytes at p, and a partial sum t, to the running sum on one
 * carry chain (add, adc). A header-sized buffer (a segment without
 * payload, a small one) takes only this: its cost is the setup, not the
 * loads. whole8: the buffer holds 8 bytes or more up to p + len, so that
 * its last bytes take one load. */
static inline uint64_t add_short(uint64_t sum, uint64_t t, const uint8_t *p, size_t len,
                                 int whole8)
{
    uint64_t c = 0;
    t += sum;
    c += t < sum;
    for (; len >= 16; p += 16, len -= 16) {
        uint64_t a = load64(p), b = load64(p + 8);
        t += a;
        c += t < a;
        t += b;
        c += t < b;
    }
    if (len >= 8) {
        uint64_t a = load64(p);
        t += a;
        c += t < a;
        p += 8;
        len -= 8;
    }
    uint64_t w = !OASIS_BIG_ENDIAN && whole8 ? tail_load(p, len) : sum_tail(p, len);
    t += w;
    c += t < w;
    /* c is below 2^61 (one per word): t + c wraps at most once; one fold
     * keeps the running sum below 2^33. */
    t += c;
    t += t < c;
    return (t & 0xffffffffu) + (t >> 32);
}

/* oasis_csum_copy of fewer than 64 bytes: one carry chain, as add_short;
 * to d2 as well unless it is NULL (oasis_csum_copy2). */
static inline uint64_t copy_short(uint8_t *d, uint8_t *d2, const uint8_t *p, size_t len, uint64_t sum)
{
    uint64_t t = 0, c = 0;
    while (len >= 8) {
        uint64_t w = load64(p);
        memcpy(d, &w, 8);
        if (d2) {
            memcpy(d2, &w, 8);
            d2 += 8;
        }
        c += __builtin_add_overflow(t, w, &t);
        p += 8;
        d += 8;
        len -= 8;
    }
    uint64_t w = d2 ? oasis_csum_copy2_tail(d, d2, p, len) : oasis_csum_copy_tail(d, p, len);
    c += __builtin_add_overflow(t, w, &t);
    t += c; /* c is below 2^61: t + c wraps at most once */
    return add_partial(sum, t + (t < c));
}

#if OASIS_CSUM_AVX2
/* AVX2, chosen at run time (use_avx2). A 16-bit word w xored with 0x8000 is
 * the signed word w - 32768; vpmaddwd against ones adds such words in pairs
 * into 32-bit lanes, and 32768 per word added back at the end gives the
 * exact sum of the words. Three instructions per 32 bytes (five to copy
 * too), where the 64-bit carry chains below take about twelve. */
#define AVX2 __attribute__((target("avx2")))

/* The most bytes one sum takes: a vector adds at most 2^16 in magnitude to
 * a lane, and 2^14 vectors (and one for the tail) stay below 2^31. */
#define AVX2_MAX (1u << 19)

static bool use_avx2;

__attribute__((constructor)) static void csum_init(void)
{
    __builtin_cpu_init();
    use_avx2 = __builtin_cpu_supports("avx2");
}

static AVX2 inline __m256i load256(const uint8_t *p) { return _mm256_loadu_si256((const __m256i *)(const void *)p); }

static AVX2 inline void store256(uint8_t *d, __m256i x) { _mm256_storeu_si256((__m256i *)(void *)d, x); }

/* The biased words of one vector summed in pairs: eight 32-bit lanes. */
static AVX2 inline __m256i pairs(__m256i x)
{
    const __m256i bias = _mm256_set1_epi16(INT16_MIN), ones = _mm256_set1_epi16(1);
    return _mm256_madd_epi16(_mm256_xor_si256(x, bias), ones);
}

/* Four vectors' pairs in one: added as a tree into one accumulator, GCC
 * keeps it in its register (four accumulators cost a move each). */
static AVX2 inline __m256i pairs4(__m256i x0, __m256i x1, __m256i x2, __m256i x3)
{
    return _mm256_add_epi32(_mm256_add_epi32(pairs(x0), pairs(x1)), _mm256_add_epi32(pairs(x2), pairs(x3)));
}

/* The sum of the words of n bytes, from the lanes of their pairs. */
static AVX2 inline uint64_t pairs_total(__m256i a, size_t n)
{
    __m256i w = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(a)),
                                 _mm256_cvtepi32_epi64(_mm256_extracti128_si256(a, 1)));
    __m128i s = _mm_add_epi64(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
    int64_t t = _mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1);
    return (uint64_t)(t + (int64_t)(n / 2) * 32768);
}

/* The pairs of n bytes (a multiple of 32, at most AVX2_MAX). */
static AVX2 inline __m256i pass_avx2(const uint8_t *p, size_t n)
{
    __m256i a = _mm256_setzero_si256();
    size_t i = 0;
    for (; i < (n & 96); i += 32)
        a = _mm256_add_epi32(a, pairs(load256(p + i)));
    for (; i < n; i += 128)
        a = _mm256_add_epi32(a, pairs4(load256(p + i), load256(p + i + 32), load256(p + i + 64),
                                       load256(p + i + 96)));
    return a;
}

/* 32 zero bytes, then 32 of ones: from tail_mask + r, a vector that keeps
 * its last r bytes. */
static const uint8_t tail_mask[64] = {
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

/* The last r (1..31) bytes of a buffer of 32 or more, as the vector x that
 * ends where the buffer does (the bytes before them, summed already, are
 * zeroed), added to the pairs a. For an odd r the vector starts at an odd
 * offset: its bytes are swapped within words so that each lands in its
 * buffer word's lane (RFC 1071 2(B)). No load past the buffer. */
static AVX2 inline __m256i tail_pairs(__m256i a, __m256i x, size_t r)
{
    x = _mm256_and_si256(x, load256(tail_mask + r));
    if (r & 1) {
        const __m256i swap = _mm256_setr_epi8(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14, 1, 0, 3,
                                              2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
        x = _mm256_shuffle_epi8(x, swap);
    }
    return _mm256_add_epi32(a, pairs(x));
}

/* 32 to AVX2_MAX bytes: whole vectors, then the last len % 32 bytes in one
 * more (tail_pairs). */
static AVX2 inline uint64_t sum_avx2(uint64_t sum, const uint8_t *p, size_t len)
{
    size_t n = len & ~(size_t)31, r = len & 31;
    __m256i a = pass_avx2(p, n);
    if (r) {
        a = tail_pairs(a, load256(p + len - 32), r);
        n += 32;
    }
    return add_partial(sum, pairs_total(a, n));
}

/* A received segment's header and text: the skip bytes at seg (even, at
 * most 62) summed, the len bytes after them (32 or more) copied to d and
 * summed, skip + len at most AVX2_MAX. The header's whole vector, then
 * its last skip % 32 bytes from a vector that starts there (the text's
 * first bytes after them masked off: it has 32 or more); the text 256
 * bytes per turn, whole vectors, the last one overlapping as in
 * sum_avx2. Written for the instruction count (what a round trip costs,
 * bench/cgrt.sh): one index counting up to 0 from below the turns' end,
 * the constants made once; every vector counts 32 bytes of bias
 * (pairs_total). two: the text goes to d2 as well (a constant: always
 * inline, so that each caller's copy has only its own stores). */
static OASIS_ALWAYS_INLINE AVX2 uint64_t copy_after_body(uint8_t *d, uint8_t *d2, const uint8_t *seg,
                                                         size_t skip, size_t len, uint64_t sum, int two)
{
    __m256i bias = _mm256_set1_epi16(INT16_MIN), ones = _mm256_set1_epi16(1);
    /* Made once: opaque to GCC, which otherwise makes them again in every
     * block that uses them (a move, a vmovq and a broadcast each). */
    __asm__("" : "+x"(bias), "+x"(ones));
#define PAIRS(x) _mm256_madd_epi16(_mm256_xor_si256((x), bias), ones)
    size_t h = skip & ~(size_t)31, r = skip & 31, n = h;
    __m256i a = _mm256_setzero_si256();
    if (h)
        a = PAIRS(load256(seg));
    if (r) {
        /* keeps the first r bytes (tail_mask + 32 - r has ones after them) */
        __m256i x = _mm256_andnot_si256(load256(tail_mask + 32 - r), load256(seg + h));
        a = _mm256_add_epi32(a, PAIRS(x));
        n += 32;
    }
    const uint8_t *p = seg + skip;
    size_t m = len & ~(size_t)255;
    const uint8_t *pe = p + m;
    uint8_t *de = d + m, *de2 = two ? d2 + m : NULL;
#define STORE2(to, to2, x)                                                                         \
    do {                                                                                           \
        store256((to), (x));                                                                       \
        if (two)                                                                                   \
            store256((to2), (x));                                                                  \
    } while (0)
    for (ptrdiff_t i = -(ptrdiff_t)m; i < 0; i += 256) {
        __m256i x0 = load256(pe + i), x1 = load256(pe + i + 32);
        __m256i x2 = load256(pe + i + 64), x3 = load256(pe + i + 96);
        __m256i x4 = load256(pe + i + 128), x5 = load256(pe + i + 160);
        __m256i x6 = load256(pe + i + 192), x7 = load256(pe + i + 224);
        STORE2(de + i, de2 + i, x0);
        STORE2(de + i + 32, de2 + i + 32, x1);
        STORE2(de + i + 64, de2 + i + 64, x2);
        STORE2(de + i + 96, de2 + i + 96, x3);
        STORE2(de + i + 128, de2 + i + 128, x4);
        STORE2(de + i + 160, de2 + i + 160, x5);
        STORE2(de + i + 192, de2 + i + 192, x6);
        STORE2(de + i + 224, de2 + i + 224, x7);
        __m256i s0 = _mm256_add_epi32(PAIRS(x0), PAIRS(x1)), s1 = _mm256_add_epi32(PAIRS(x2), PAIRS(x3));
        __m256i s2 = _mm256_add_epi32(PAIRS(x4), PAIRS(x5)), s3 = _mm256_add_epi32(PAIRS(x6), PAIRS(x7));
        a = _mm256_add_epi32(a, _mm256_add_epi32(_mm256_add_epi32(s0, s1), _mm256_add_epi32(s2, s3)));
        /* one index for both (base + index): GCC otherwise keeps a
         * pointer for each and the index too, three adds per turn */
        __asm__("" : "+r"(i));
    }
    size_t i = m;
    for (; i + 32 <= len; i += 32) {
        __m256i x = load256(p + i);
        STORE2(d + i, d2 + i, x);
        a = _mm256_add_epi32(a, PAIRS(x));
    }
    n += i;
    if (i < len) {
        __m256i x = _mm256_and_si256(load256(p + len - 32), load256(tail_mask + (len - i)));
        STORE2(d + len - 32, d2 + len - 32, load256(p + len - 32));
        if ((len - i) & 1) {
            const __m256i swap = _mm256_setr_epi8(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14, 1, 0, 3,
                                                  2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
            x = _mm256_shuffle_epi8(x, swap);
        }
        a = _mm256_add_epi32(a, PAIRS(x));
        n += 32;
    }
#undef STORE2
#undef PAIRS
    return add_partial(sum, pairs_total(a, n));
}

/* oasis_csum_copy_after's (and oasis_csum_copy's long) vectors. */
static OASIS_NOINLINE OASIS_HOT AVX2 uint64_t copy_after_avx2(uint8_t *d, const uint8_t *seg, size_t skip,
                                                              size_t len, uint64_t sum)
{
    return copy_after_body(d, NULL, seg, skip, len, sum, 0);
}

/* oasis_csum_copy2 of 32 to AVX2_MAX bytes: one load, two stores. */
static OASIS_NOINLINE OASIS_HOT AVX2 uint64_t copy2_avx2(uint8_t *d, uint8_t *d2, const uint8_t *p, size_t len,
                                                         uint64_t sum)
{
    return copy_after_body(d, d2, p, 0, len, sum, 1);
}

/* A plain copy of 32 or more bytes: 256 per turn, then whole vectors, then
 * the last 32 bytes again (overlapping what was copied) for the rest. */
static OASIS_NOINLINE OASIS_HOT AVX2 void move_avx2(uint8_t *d, const uint8_t *p, size_t len)
{
    size_t i = 0;
    for (; i + 256 <= len; i += 256) {
        __m256i x0 = load256(p + i), x1 = load256(p + i + 32);
        __m256i x2 = load256(p + i + 64), x3 = load256(p + i + 96);
        __m256i x4 = load256(p + i + 128), x5 = load256(p + i + 160);
        __m256i x6 = load256(p + i + 192), x7 = load256(p + i + 224);
        store256(d + i, x0);
        store256(d + i + 32, x1);
        store256(d + i + 64, x2);
        store256(d + i + 96, x3);
        store256(d + i + 128, x4);
        store256(d + i + 160, x5);
        store256(d + i + 192, x6);
        store256(d + i + 224, x7);
    }
    for (; i + 32 <= len; i += 32)
        store256(d + i, load256(p + i));
    if (i < len)
        store256(d + len - 32, load256(p + len - 32));
}

static uint64_t add_huge_avx2(uint64_t sum, const uint8_t *p, size_t len);
static uint64_t copy_huge_avx2(uint8_t *d, const uint8_t *p, size_t len, uint64_t sum);

static OASIS_NOINLINE OASIS_HOT AVX2 uint64_t add_long_avx2(uint64_t sum, const uint8_t *p, size_t len)
{
    if (len > AVX2_MAX)
        return add_huge_avx2(sum, p, len);
    return sum_avx2(sum, p, len);
}

static OASIS_NOINLINE OASIS_HOT AVX2 uint64_t copy_long_avx2(uint8_t *d, const uint8_t *p, size_t len, uint64_t sum)
{
    if (len > AVX2_MAX)
        return copy_huge_avx2(d, p, len, sum);
    /* copy_after_avx2 with no header: its 256-byte turns on one index
     * cost fewer instructions than 128-byte ones (the copy this replaced) */
    return copy_after_avx2(d, p, 0, len, sum);
}

/* Longer than AVX2_MAX (rare: not a packet): pieces of half of it (even,
 * so the words keep their lanes), the last between half and all of it. */
static OASIS_COLD uint64_t add_huge_avx2(uint64_t sum, const uint8_t *p, size_t len)
{
    for (; len > AVX2_MAX; p += AVX2_MAX / 2, len -= AVX2_MAX / 2)
        sum = add_long_avx2(sum, p, AVX2_MAX / 2);
    return add_long_avx2(sum, p, len);
}

static OASIS_COLD uint64_t copy_huge_avx2(uint8_t *d, const uint8_t *p, size_t len, uint64_t sum)
{
    for (; len > AVX2_MAX; p += AVX2_MAX / 2, d += AVX2_MAX / 2, len -= AVX2_MAX / 2)
        sum = copy_long_avx2(d, p, AVX2_MAX / 2, sum);
    return copy_long_avx2(d, p, len, sum);
}
#endif

/* 64 bytes and more: four chains over 32-byte blocks, then the rest on
 * one. Out of line, so that a short buffer's call saves none of their
 * registers. */
static OASIS_NOINLINE uint64_t add_chains(uint64_t sum, const uint8_t *p, size_t len)
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
    return add_short(sum, acc_fold(&a), p, len, 1);
}

/* The long path's choice, apart from the callers: inlined into them (every
 * segment's checksum), it made them bigger for nothing. */
static OASIS_NOINLINE OASIS_HOT uint64_t add_long(uint64_t sum, const uint8_t *p, size_t len)
{
#if OASIS_CSUM_AVX2
    if (use_avx2)
        return add_long_avx2(sum, p, len);
#endif
    return add_chains(sum, p, len);
}

OASIS_HOT uint64_t oasis_csum_add(uint64_t sum, const void *buf, size_t len)
{
    if (len >= 64)
        return add_long(sum, buf, len);
    return add_short(sum, 0, buf, len, len >= 8);
}

/* 64 bytes and more without AVX2: memcpy and the four chains over the
 * source (two passes cost fewer instructions than a loop doing both, whose
 * stores GCC cannot merge). */
static OASIS_NOINLINE uint64_t copy_chains(uint8_t *d, const uint8_t *p, size_t len, uint64_t sum)
{
    memcpy(d, p, len);
    return add_chains(sum, p, len);
}

static OASIS_NOINLINE OASIS_HOT uint64_t copy_long(uint8_t *d, const uint8_t *p, size_t len, uint64_t sum)
{
#if OASIS_CSUM_AVX2
    if (use_avx2)
        return copy_long_avx2(d, p, len, sum);
#endif
    return copy_chains(d, p, len, sum);
}

void oasis_copy_long(void *dst, const void *src, size_t len)
{
#if OASIS_CSUM_AVX2
    if (use_avx2 && len >= 32) {
        move_avx2(dst, src, len);
        return;
    }
#endif
    memcpy(dst, src, len);
}

OASIS_HOT uint64_t oasis_csum_copy(void *dst, const void *src, size_t len, uint64_t sum)
{
    if (len < 8) /* a request's or a response's few bytes: no chain */
        return oasis_csum_copy_small(dst, src, len, sum);
    if (len >= 64)
        return copy_long(dst, src, len, sum);
    return copy_short(dst, NULL, src, len, sum);
}

uint64_t oasis_csum_copy2_any(void *d1, void *d2, const void *src, size_t len, uint64_t sum)
{
    if (len < 64)
        return copy_short(d1, d2, src, len, sum);
#if OASIS_CSUM_AVX2
    if (use_avx2 && len <= AVX2_MAX)
        return copy2_avx2(d1, d2, src, len, sum);
#endif
    memcpy(d2, src, len); /* (no vectors, or huge: two passes, as copy_chains) */
    return copy_long(d1, src, len, sum);
}

/* oasis_csum_copy_after in two calls (out of line: the vectors' caller
 * then saves no registers for it). */
static OASIS_NOINLINE uint64_t copy_after_any(uint8_t *d, const uint8_t *p, size_t skip, size_t len,
                                              uint64_t sum)
{
    return oasis_csum_copy(d, p + skip, len, oasis_csum_add(sum, p, skip));
}

OASIS_HOT uint64_t oasis_csum_copy_after(void *dst, const void *seg, size_t skip, size_t len, uint64_t sum)
{
#if OASIS_CSUM_AVX2
    /* skip even and at most 62, 32 <= len <= AVX2_MAX - 64 */
    if (use_avx2 && !(skip & ~(size_t)62) && len - 32 <= AVX2_MAX - 96)
        return copy_after_avx2(dst, seg, skip, len, sum);
#endif
    return copy_after_any(dst, seg, skip, len, sum);
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

void oasis_copy_long(void *dst, const void *src, size_t len) { memcpy(dst, src, len); }

uint64_t oasis_csum_copy(void *dst, const void *src, size_t len, uint64_t sum)
{
    memcpy(dst, src, len);
    return oasis_csum_add(sum, dst, len);
}

uint64_t oasis_csum_copy2_any(void *d1, void *d2, const void *src, size_t len, uint64_t sum)
{
    memcpy(d2, src, len);
    return oasis_csum_copy(d1, src, len, sum);
}

uint64_t oasis_csum_copy_after(void *dst, const void *seg, size_t skip, size_t len, uint64_t sum)
{
    const uint8_t *p = seg;
    return oasis_csum_copy(dst, p + skip, len, oasis_csum_add(sum, p, skip));
}
#endif

bool oasis_csum_use_simd(bool on)
{
#if OASIS_CSUM_AVX2
    csum_init();
    use_avx2 = use_avx2 && on;
    return use_avx2;
#else
    (void)on;
    return false;
#endif
}

uint16_t oasis_csum_ref(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint64_t sum = 0; /* no carry lost, whatever the length */
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
