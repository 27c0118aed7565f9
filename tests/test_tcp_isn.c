/* SipHash-2-4 and RFC 6528 initial sequence numbers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "oasis/clock.h"
#include "tcp/tcp_isn.h"

/* oasis_tcp_isn takes oasis_ipaddr; these tests speak IPv4. */
static uint32_t isn4(const uint8_t key[16], uint32_t la, uint16_t lp, uint32_t ra, uint16_t rp,
                     uint64_t now)
{
    oasis_ipaddr l = oasis_ipaddr_v4(la), r = oasis_ipaddr_v4(ra);
    return oasis_tcp_isn(key, &l, lp, &r, rp, now);
}

static const uint8_t key[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static void test_siphash_paper_vector(void **state)
{
    (void)state;
    uint8_t msg[15];
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    /* Appendix A of the SipHash paper. */
    assert_int_equal(oasis_siphash24(key, msg, sizeof msg), 0xa129ca6149be45e5ull);
}

/* The reference implementation's vectors (key 00..0f, message 00..len-1),
 * covering empty input, partial and whole 8-byte blocks. */
static void test_siphash_reference_vectors(void **state)
{
    (void)state;
    static const struct {
        size_t len;
        uint64_t h;
    } v[] = {
        {0, 0x726fdb47dd0e0e31ull},  {1, 0x74f839c593dc67fdull},  {7, 0xab0200f58b01d137ull},
        {8, 0x93f5f5799a932462ull},  {9, 0x9e0082df0ba9e4b0ull},  {16, 0x3f2acc7f57c29bdbull},
        {63, 0x958a324ceb064572ull},
    };
    uint8_t msg[64];
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        assert_int_equal(oasis_siphash24(key, msg, v[i].len), v[i].h);
    /* Unaligned input gives the same result. */
    uint8_t shifted[65];
    for (int i = 0; i < 64; i++)
        shifted[i + 1] = (uint8_t)i;
    assert_int_equal(oasis_siphash24(key, shifted + 1, 63), 0x958a324ceb064572ull);
}

static void test_isn_deterministic_and_per_tuple(void **state)
{
    (void)state;
    const uint64_t t = 123456789ull * OASIS_NS_PER_US;
    uint32_t a = isn4(key, 0x0a000001u, 40000, 0x0a000002u, 80, t);
    assert_int_equal(isn4(key, 0x0a000001u, 40000, 0x0a000002u, 80, t), a);
    /* Each element of the 4-tuple matters. */
    assert_int_not_equal(isn4(key, 0x0a000003u, 40000, 0x0a000002u, 80, t), a);
    assert_int_not_equal(isn4(key, 0x0a000001u, 40001, 0x0a000002u, 80, t), a);
    assert_int_not_equal(isn4(key, 0x0a000001u, 40000, 0x0a000004u, 80, t), a);
    assert_int_not_equal(isn4(key, 0x0a000001u, 40000, 0x0a000002u, 81, t), a);
    /* Swapping the ends is a different connection. */
    assert_int_not_equal(isn4(key, 0x0a000002u, 80, 0x0a000001u, 40000, t), a);
    /* And the secret. */
    uint8_t k2[16] = {1};
    assert_int_not_equal(isn4(k2, 0x0a000001u, 40000, 0x0a000002u, 80, t), a);

    /* Many source ports: no two ISNs alike at one instant (32-bit hash, so
     * a collision among 1000 would be a bug, not bad luck: p ~ 1e-4). */
    uint32_t seen[1000];
    for (uint32_t p = 0; p < 1000; p++) {
        seen[p] = isn4(key, 0x0a000001u, (uint16_t)(30000 + p), 0x0a000002u, 80, t);
        for (uint32_t q = 0; q < p; q++)
            assert_int_not_equal(seen[q], seen[p]);
    }
}

static void test_isn_moves_with_time(void **state)
{
    (void)state;
    const uint64_t t = 1000 * OASIS_NS_PER_SEC;
    uint32_t a = isn4(key, 1, 2, 3, 4, t);
    /* M ticks every 4 microseconds. */
    assert_int_equal(isn4(key, 1, 2, 3, 4, t + 3999), a);
    assert_int_equal(isn4(key, 1, 2, 3, 4, t + 4000), a + 1);
    assert_int_equal(isn4(key, 1, 2, 3, 4, t + 4 * OASIS_NS_PER_MS), a + 1000);
    assert_int_equal(isn4(key, 1, 2, 3, 4, t + OASIS_NS_PER_SEC), a + 250000);
    /* M wraps modulo 2^32 (every ~4.77 hours). */
    const uint64_t wrap = 4000ull << 32;
    assert_int_equal(isn4(key, 1, 2, 3, 4, t + wrap), a);
    /* F alone at time 0. */
    uint32_t f = isn4(key, 1, 2, 3, 4, 0);
    assert_int_equal(a - f, (uint32_t)(t / 4000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siphash_paper_vector),
        cmocka_unit_test(test_siphash_reference_vectors),
        cmocka_unit_test(test_isn_deterministic_and_per_tuple),
        cmocka_unit_test(test_isn_moves_with_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
