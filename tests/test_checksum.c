/* The Internet checksum: the fast summer against the byte-by-byte reference
 * (every length, every alignment), RFC 1071's worked example, incremental
 * sums and the pseudo-header. Every test runs twice: with the vector summer
 * (where the CPU has one) and with the portable code. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/checksum.h"
#include "core/prng.h"

/* A checksum field (memory order) as the two bytes it puts on the wire. */
static void field_bytes(uint16_t c, uint8_t out[2]) { memcpy(out, &c, 2); }

/* RFC 1071 section 3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2, so the
 * checksum is 220d. */
static void test_rfc1071_example(void **state)
{
    (void)state;
    static const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    uint8_t out[2];

    field_bytes(oasis_csum(b, sizeof b), out);
    assert_int_equal(out[0], 0x22);
    assert_int_equal(out[1], 0x0d);

    /* The folded sum before the complement is ddf2. */
    field_bytes((uint16_t)~oasis_csum_fold(oasis_csum_add(0, b, sizeof b)), out);
    assert_int_equal(out[0], 0xdd);
    assert_int_equal(out[1], 0xf2);

    field_bytes(oasis_csum_ref(b, sizeof b), out);
    assert_int_equal(out[0], 0x22);
    assert_int_equal(out[1], 0x0d);
}

static void test_small_cases(void **state)
{
    (void)state;
    uint8_t out[2];
    /* Nothing sums to 0, whose complement is ffff. */
    assert_int_equal(oasis_csum(NULL, 0), 0xffff);
    assert_int_equal(oasis_csum_ref(NULL, 0), 0xffff);
    /* An odd trailing byte is the high byte of a zero-padded word. */
    static const uint8_t one[] = {0x12};
    field_bytes(oasis_csum(one, 1), out);
    assert_int_equal(out[0], 0xed);
    assert_int_equal(out[1], 0xff);
    /* ffff + ffff folds back to ffff: the end-around carry. */
    static const uint8_t ff[] = {0xff, 0xff, 0xff, 0xff};
    assert_int_equal(oasis_csum(ff, 4), 0);
}

static void fill_random(oasis_prng *r, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)oasis_prng_next(r);
}

/* Every length 0..2048 at offsets 0..7 from a malloc'd (16-aligned) start,
 * in a buffer that ends exactly where the data does, so ASan flags any read
 * past the end. */
static void test_fast_matches_reference(void **state)
{
    (void)state;
    oasis_prng r;
    oasis_prng_seed(&r, 1071);
    for (size_t len = 0; len <= 2048; len++) {
        for (size_t off = 0; off < 8; off++) {
            uint8_t *buf = malloc(off + len ? off + len : 1);
            assert_non_null(buf);
            uint8_t *p = buf + off;
            fill_random(&r, p, len);
            uint16_t fast = oasis_csum(p, len);
            uint16_t ref = oasis_csum_ref(p, len);
            if (fast != ref)
                fail_msg("len %zu off %zu: fast %04x ref %04x", len, off, fast, ref);
            free(buf);
        }
    }
}

/* Copy-and-sum: the bytes arrive intact and the sum equals oasis_csum_add's
 * and the reference's, for every length, every source alignment and
 * destination alignments apart from it, with a running sum carried in (all
 * ones too, for the carries), into a buffer that ends where the copy does. */
static void test_copy_matches_add(void **state)
{
    (void)state;
    oasis_prng r;
    oasis_prng_seed(&r, 793);
    for (size_t len = 0; len <= 2048; len++) {
        for (size_t off = 0; off < 8; off++) {
            size_t doff = (off * 3 + len) % 8;
            uint8_t *src = malloc(off + len + 1), *dst = malloc(doff + len + 1);
            assert_non_null(src);
            assert_non_null(dst);
            uint8_t *p = src + off, *d = dst + doff;
            if (len % 5 == 1)
                memset(p, 0xff, len);
            else
                fill_random(&r, p, len);
            d[len] = 0x5a; /* the byte after must stay */
            uint64_t start = (uint64_t)(len * 2654435761u) & 0x1ffffffffu;
            uint64_t a = oasis_csum_copy(d, p, len, start);
            uint64_t b = oasis_csum_add(start, p, len);
            assert_true(a < (1ull << 33)); /* as the running sum is kept */
            assert_int_equal(oasis_csum_fold(a), oasis_csum_fold(b));
            assert_int_equal(oasis_csum_fold(oasis_csum_copy(d, p, len, 0)), oasis_csum_ref(p, len));
            assert_true(len == 0 || memcmp(d, p, len) == 0);
            assert_int_equal(d[len], 0x5a);
            free(src);
            free(dst);
        }
    }
}

/* oasis_copy_long (the rings' copy by the summer's vectors) is memcpy: every
 * length to 2 KiB (the 256-byte turns, whole vectors, the overlapping last
 * one) at odd and even offsets, not a byte past the end. */
static void test_copy_long_is_memcpy(void **state)
{
    (void)state;
    oasis_prng r;
    oasis_prng_seed(&r, 794);
    uint8_t *src = malloc(2048 + 8), *dst = malloc(2048 + 9);
    assert_non_null(src);
    assert_non_null(dst);
    for (size_t len = 0; len <= 2048; len++) {
        for (size_t off = 0; off < 8; off += 3) {
            size_t doff = (off + len) % 8;
            uint8_t *p = src + off, *d = dst + doff;
            fill_random(&r, p, len);
            memset(dst, 0xa5, 2048 + 9);
            oasis_copy_long(d, p, len);
            assert_true(len == 0 || memcmp(d, p, len) == 0);
            for (size_t i = 0; i < doff; i++)
                assert_int_equal(dst[i], 0xa5);
            assert_int_equal(d[len], 0xa5);
        }
    }
    free(src);
    free(dst);
}

/* oasis_csum_copy_after (a received segment's header summed, its text
 * copied out and summed): every text length to 2 KiB (the 256-byte turns,
 * whole vectors, the overlapping last one), every even header length to
 * 64 (whole vector, masked part, none; and beyond what the vectors take),
 * text at odd and even destination offsets: the sum is oasis_csum_add's
 * of header and text, the text arrives intact, nothing is written before
 * or after it. */
static void test_copy_after_is_add_and_copy(void **state)
{
    (void)state;
    oasis_prng r;
    oasis_prng_seed(&r, 795);
    uint8_t *seg = malloc(64 + 2048), *dst = malloc(2048 + 16);
    assert_non_null(seg);
    assert_non_null(dst);
    for (size_t len = 0; len <= 2048; len++) {
        for (size_t skip = 0; skip <= 64; skip += 2) {
            if (len > 64 && skip % 4 && skip != 2)
                continue; /* (TCP's header lengths, and a few odd ones) */
            size_t doff = (len + skip) % 8;
            uint8_t *d = dst + doff;
            fill_random(&r, seg, skip + len);
            if (len % 7 == 3)
                memset(seg + skip, 0xff, len);
            memset(dst, 0xa5, 2048 + 16);
            uint64_t start = (uint64_t)(len * 2654435761u + skip) & 0x1ffffffffu;
            uint64_t a = oasis_csum_copy_after(d, seg, skip, len, start);
            uint64_t b = oasis_csum_add(start, seg, skip + len);
            assert_true(a < (1ull << 33));
            assert_int_equal(oasis_csum_fold(a), oasis_csum_fold(b));
            assert_true(len == 0 || memcmp(d, seg + skip, len) == 0);
            for (size_t i = 0; i < doff; i++)
                assert_int_equal(dst[i], 0xa5);
            for (size_t i = doff + len; i < doff + len + 8; i++) /* (a vector's store
                                                                    * past it would show) */
                assert_int_equal(dst[i], 0xa5);
        }
    }
    free(seg);
    free(dst);
}

/* oasis_csum_copy2 (a write's bytes into the send ring and the frame at
 * once): every length to 2 KiB (the inline few, the short chain, the
 * 256-byte turns, whole vectors, the overlapping last one), the source and
 * both destinations at odd and even offsets apart from each other, a
 * running sum carried in (all ones too, for the carries): the sum is
 * oasis_csum_add's, both copies arrive intact, nothing is written before
 * or after either. */
static void test_copy2_is_add_and_copy_twice(void **state)
{
    (void)state;
    oasis_prng r;
    oasis_prng_seed(&r, 796);
    uint8_t *src = malloc(2048 + 8), *d1 = malloc(2048 + 16), *d2 = malloc(2048 + 16);
    assert_non_null(src);
    assert_non_null(d1);
    assert_non_null(d2);
    for (size_t len = 0; len <= 2048; len++) {
        for (size_t off = 0; off < 8; off += 3) {
            size_t o1 = (off + len) % 8, o2 = (off * 5 + len + 3) % 8;
            uint8_t *p = src + off, *a = d1 + o1, *b = d2 + o2;
            if (len % 5 == 1)
                memset(p, 0xff, len);
            else
                fill_random(&r, p, len);
            memset(d1, 0xa5, 2048 + 16);
            memset(d2, 0x5a, 2048 + 16);
            uint64_t start = (uint64_t)(len * 2654435761u + off) & 0x1ffffffffu;
            uint64_t got = oasis_csum_copy2(a, b, p, len, start);
            assert_true(got < (1ull << 33)); /* as the running sum is kept */
            assert_int_equal(oasis_csum_fold(got), oasis_csum_fold(oasis_csum_add(start, p, len)));
            assert_int_equal(oasis_csum_fold(oasis_csum_copy2(a, b, p, len, 0)), oasis_csum_ref(p, len));
            assert_true(len == 0 || memcmp(a, p, len) == 0);
            assert_true(len == 0 || memcmp(b, p, len) == 0);
            for (size_t i = 0; i < o1; i++)
                assert_int_equal(d1[i], 0xa5);
            for (size_t i = 0; i < o2; i++)
                assert_int_equal(d2[i], 0x5a);
            for (size_t i = len; i < len + 8; i++) { /* (a vector's store past it would show) */
                assert_int_equal(a[i], 0xa5);
                assert_int_equal(b[i], 0x5a);
            }
        }
    }
    free(src);
    free(d1);
    free(d2);
}

/* Long buffers, beyond what the vector summer takes in one pass, of the
 * words that load its lanes most (0x0000 and 0xffff both), and random ones:
 * summed and copied at an odd offset, against the reference. */
static void test_long_extremes(void **state)
{
    (void)state;
    size_t len = 3 * 1024 * 1024 + 37;
    uint8_t *src = malloc(len + 1), *dst = malloc(len + 2), *dst2 = malloc(len);
    assert_non_null(src);
    assert_non_null(dst);
    assert_non_null(dst2);
    oasis_prng r;
    oasis_prng_seed(&r, 3);
    for (int pattern = 0; pattern < 4; pattern++) {
        uint8_t *p = src + 1;
        if (pattern < 2)
            memset(p, pattern ? 0xff : 0x00, len);
        else if (pattern == 2)
            for (size_t i = 0; i < len; i++)
                p[i] = i & 1 ? 0x80 : 0x00; /* each word 0x8000 or 0x0080 */
        else
            fill_random(&r, p, len);
        /* Past whole passes: nothing, an odd byte, a short tail, a whole
         * vector, a vector and a tail; and short of them. */
        static const size_t past[] = {0, 1, 5, 32, 37};
        for (size_t i = 0; i <= sizeof past / sizeof past[0]; i++) {
            size_t n = i < sizeof past / sizeof past[0] ? 3 * 1024 * 1024 + past[i] : len - 40;
            uint16_t ref = oasis_csum_ref(p, n);
            assert_int_equal(oasis_csum(p, n), ref);
            assert_int_equal(oasis_csum_fold(oasis_csum_copy(dst + 2, p, n, 0)), ref);
            if (i == 0 || i == 3) { /* (the two-destination copy past one pass) */
                assert_int_equal(oasis_csum_fold(oasis_csum_copy2(dst + 1, dst2, p, n, 0)), ref);
                assert_true(memcmp(dst + 1, p, n) == 0 && memcmp(dst2, p, n) == 0);
            }
        }
    }
    free(src);
    free(dst);
    free(dst2);
}

/* All-ones data maximises carries. */
static void test_all_ones(void **state)
{
    (void)state;
    size_t n = 65535;
    uint8_t *p = malloc(n);
    assert_non_null(p);
    memset(p, 0xff, n);
    for (size_t len = n - 9; len <= n; len++)
        assert_int_equal(oasis_csum(p, len), oasis_csum_ref(p, len));

    /* Many calls on one running sum must not overflow it. */
    uint64_t sum = 0;
    for (int i = 0; i < 4096; i++)
        sum = oasis_csum_add(sum, p, 65534);
    assert_int_equal(oasis_csum_fold(sum), 0);
    free(p);
}

/* Summing in pieces of even length (the last of any length) gives the
 * one-shot result. */
static void test_incremental(void **state)
{
    (void)state;
    oasis_prng r;
    oasis_prng_seed(&r, 42);
    uint8_t buf[3000];
    for (int round = 0; round < 2000; round++) {
        size_t len = (size_t)oasis_prng_below(&r, sizeof buf + 1);
        fill_random(&r, buf, len);
        uint64_t sum = 0;
        size_t pos = 0;
        while (pos < len) {
            size_t piece = (size_t)oasis_prng_below(&r, 200) & ~(size_t)1;
            if (piece > len - pos)
                piece = len - pos; /* the last piece may be odd */
            sum = oasis_csum_add(sum, buf + pos, piece);
            pos += piece;
        }
        assert_int_equal(oasis_csum_fold(sum), oasis_csum(buf, len));
        assert_int_equal(oasis_csum(buf, len), oasis_csum_ref(buf, len));
    }
}

/* The pseudo-header sum equals the sum of the 12 bytes RFC 768/793 lay out. */
static void test_pseudo_header(void **state)
{
    (void)state;
    oasis_prng r;
    oasis_prng_seed(&r, 7);
    for (int i = 0; i < 1000; i++) {
        uint32_t src = (uint32_t)oasis_prng_next(&r), dst = (uint32_t)oasis_prng_next(&r);
        uint8_t proto = (uint8_t)oasis_prng_next(&r);
        uint16_t len = (uint16_t)oasis_prng_next(&r);
        uint8_t ph[12] = {
            (uint8_t)(src >> 24), (uint8_t)(src >> 16), (uint8_t)(src >> 8), (uint8_t)src,
            (uint8_t)(dst >> 24), (uint8_t)(dst >> 16), (uint8_t)(dst >> 8), (uint8_t)dst,
            0, proto, (uint8_t)(len >> 8), (uint8_t)len,
        };
        assert_int_equal(oasis_csum_fold(oasis_csum_pseudo(src, dst, proto, len)), oasis_csum_ref(ph, 12));
    }
    /* A fixed case worked by hand: 10.0.0.1 -> 10.0.0.2, UDP, 12 bytes:
     * 0a00 + 0001 + 0a00 + 0002 + 0011 + 000c = 1420, checksum ebdf. */
    uint8_t out[2];
    field_bytes(oasis_csum_fold(oasis_csum_pseudo(0x0a000001, 0x0a000002, 17, 12)), out);
    assert_int_equal(out[0], 0xeb);
    assert_int_equal(out[1], 0xdf);
}

/* Storing the checksum into its field with memcpy makes the whole buffer
 * verify: its checksum is then 0. Odd lengths and odd field offsets too. */
static void test_filled_field_verifies(void **state)
{
    (void)state;
    oasis_prng r;
    oasis_prng_seed(&r, 99);
    uint8_t buf[1500];
    for (int i = 0; i < 2000; i++) {
        size_t len = 2 + (size_t)oasis_prng_below(&r, sizeof buf - 1);
        size_t at = (size_t)oasis_prng_below(&r, len - 1) & ~(size_t)1; /* fields are word-aligned */
        fill_random(&r, buf, len);
        buf[at] = buf[at + 1] = 0;
        uint16_t c = oasis_csum(buf, len);
        memcpy(buf + at, &c, 2);
        assert_int_equal(oasis_csum(buf, len), 0);
        assert_int_equal(oasis_csum_ref(buf, len), 0);
        /* Any single bit flipped is detected. */
        size_t bit = (size_t)oasis_prng_below(&r, len * 8);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_not_equal(oasis_csum(buf, len), 0);
    }
}

/* The fold by repeated end-around carry, as RFC 1071 describes it. */
static uint16_t fold_loop(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* The loop-free fold gives the loop's result for any 64-bit sum: the edge
 * values where each step carries, and random ones. */
static void test_fold_any_sum(void **state)
{
    (void)state;
    static const uint64_t edge[] = {0,
                                    1,
                                    0xffff,
                                    0x10000,
                                    0x1fffe,
                                    0x1ffff,
                                    0xffffffffu,
                                    0x100000000ull,
                                    0x1fffffffeull,
                                    0x1ffffffffull,
                                    0xffff0000ffffull,
                                    0x10000ffffffffull, /* each 32-bit fold needed */
                                    0xffffffff00000000ull,
                                    0xfffffffffffeffffull,
                                    UINT64_MAX - 1,
                                    UINT64_MAX};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        assert_int_equal(oasis_csum_fold(edge[i]), fold_loop(edge[i]));
    oasis_prng r;
    oasis_prng_seed(&r, 16);
    for (int i = 0; i < 100000; i++) {
        uint64_t v = oasis_prng_next(&r) >> oasis_prng_below(&r, 64);
        assert_int_equal(oasis_csum_fold(v), fold_loop(v));
    }
}

/* oasis_csum_add32 (headers, whole 32-bit words) is oasis_csum_add for
 * 4*n bytes, from any running sum either keeps, at any alignment. */
static void test_add32_matches_add(void **state)
{
    (void)state;
    uint8_t buf[64 + 3];
    oasis_prng r;
    oasis_prng_seed(&r, 32);
    for (int i = 0; i < 20000; i++) {
        for (size_t k = 0; k < sizeof buf; k++)
            buf[k] = (uint8_t)(i % 7 == 0 ? 0xff : oasis_prng_next(&r));
        size_t n = oasis_prng_below(&r, 16), off = oasis_prng_below(&r, 4);
        uint64_t start = i % 3 == 0 ? 0x1ffffffffull : oasis_prng_next(&r) >> 31; /* < 2^33 */
        uint64_t a = oasis_csum_add32(start, buf + off, n), b = oasis_csum_add(start, buf + off, 4 * n);
        assert_true(a < (1ull << 33));
        assert_int_equal(oasis_csum_fold(a), oasis_csum_fold(b));
    }
}

/* Words of all ones, then a small one: the last carry of a short buffer's
 * chain makes its sum wrap (an end-around carry the fold must keep), at
 * every length the one chain covers and past it. */
static void test_last_carry_wraps(void **state)
{
    (void)state;
    for (size_t ones = 1; ones <= 12; ones++) {
        for (uint8_t last = 1; last < 4; last++) {
            uint8_t buf[13 * 8];
            size_t len = 8 * ones + 8;
            memset(buf, 0xff, 8 * ones);
            memset(buf + 8 * ones, 0, 8);
            buf[8 * ones] = last;
            assert_int_equal(oasis_csum(buf, len), oasis_csum_ref(buf, len));
            assert_int_equal(oasis_csum(buf, len - 7), oasis_csum_ref(buf, len - 7));
        }
    }
}

/* The group's summer: the vector one where the CPU has it, or the portable
 * code. */
static int use_simd(void **state)
{
    (void)state;
    print_message("vector summer: %s\n", oasis_csum_use_simd(true) ? "in use" : "none on this CPU");
    return 0;
}

static int use_portable(void **state)
{
    (void)state;
    oasis_csum_use_simd(false);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc1071_example),
        cmocka_unit_test(test_small_cases),
        cmocka_unit_test(test_fast_matches_reference),
        cmocka_unit_test(test_all_ones),
        cmocka_unit_test(test_copy_matches_add),
        cmocka_unit_test(test_copy_long_is_memcpy),
        cmocka_unit_test(test_copy_after_is_add_and_copy),
        cmocka_unit_test(test_copy2_is_add_and_copy_twice),
        cmocka_unit_test(test_long_extremes),
        cmocka_unit_test(test_incremental),
        cmocka_unit_test(test_pseudo_header),
        cmocka_unit_test(test_filled_field_verifies),
        cmocka_unit_test(test_fold_any_sum),
        cmocka_unit_test(test_add32_matches_add),
        cmocka_unit_test(test_last_carry_wraps),
    };
    int failed = cmocka_run_group_tests_name("simd", tests, use_simd, NULL);
    return failed | cmocka_run_group_tests_name("portable", tests, use_portable, NULL);
}
