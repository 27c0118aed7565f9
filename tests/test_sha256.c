/* SHA-256 against FIPS 180-2 vectors and sha256sum-style piecewise input;
 * HMAC-SHA-256 against RFC 4231's test cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/hmac_sha256.h"
#include "core/sha256.h"

static void hex_of(const void *data, size_t len, char hex[65])
{
    oasis_sha256 c;
    uint8_t d[32];
    oasis_sha256_init(&c);
    oasis_sha256_update(&c, data, len);
    oasis_sha256_final(&c, d);
    oasis_sha256_hex(d, hex);
}

static void test_vectors(void **state)
{
    (void)state;
    char hex[65];
    hex_of("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hex_of("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(m, strlen(m), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_million_a_in_pieces(void **state)
{
    (void)state;
    oasis_sha256 c;
    uint8_t d[32], chunk[997];
    char hex[65];
    memset(chunk, 'a', sizeof chunk);
    oasis_sha256_init(&c);
    size_t left = 1000000;
    while (left) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        oasis_sha256_update(&c, chunk, n);
        left -= n;
    }
    oasis_sha256_final(&c, d);
    oasis_sha256_hex(d, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void hmac_hex(const uint8_t *key, size_t klen, const void *data, size_t dlen, char hex[65])
{
    oasis_hmac_sha256 c;
    uint8_t d[OASIS_HMAC_SHA256_LEN];
    oasis_hmac_sha256_init(&c, key, klen);
    /* In two pieces: the incremental interface must not care. */
    oasis_hmac_sha256_update(&c, data, dlen / 2);
    oasis_hmac_sha256_update(&c, (const uint8_t *)data + dlen / 2, dlen - dlen / 2);
    oasis_hmac_sha256_final(&c, d);
    oasis_sha256_hex(d, hex);
}

/* RFC 4231 section 4, HMAC-SHA-256 of test cases 1 to 7 (5 is truncated
 * to 128 bits there: its first 32 hex digits are compared). */
static void test_hmac_rfc4231(void **state)
{
    (void)state;
    uint8_t k[131], d[50];
    char hex[65];

    memset(k, 0x0b, 20);
    hmac_hex(k, 20, "Hi There", 8, hex);
    assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    hmac_hex((const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28, hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    memset(k, 0xaa, 20);
    memset(d, 0xdd, 50);
    hmac_hex(k, 20, d, 50, hex);
    assert_string_equal(hex, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    for (int i = 0; i < 25; i++)
        k[i] = (uint8_t)(i + 1);
    memset(d, 0xcd, 50);
    hmac_hex(k, 25, d, 50, hex);
    assert_string_equal(hex, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    memset(k, 0x0c, 20);
    hmac_hex(k, 20, "Test With Truncation", 20, hex);
    assert_memory_equal(hex, "a3b6167473100ee06e0c796c2955552b", 32);
    /* A key longer than the 64-octet block is hashed first. */
    memset(k, 0xaa, 131);
    const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    hmac_hex(k, 131, m6, strlen(m6), hex);
    assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    const char *m7 = "This is a test using a larger than block-size key and a larger than "
                     "block-size data. The key needs to be hashed before being used by the "
                     "HMAC algorithm.";
    hmac_hex(k, 131, m7, strlen(m7), hex);
    assert_string_equal(hex, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

static void test_mem_equal_ct(void **state)
{
    (void)state;
    const uint8_t a[4] = {1, 2, 3, 4}, b[4] = {1, 2, 3, 5};
    assert_true(oasis_mem_equal_ct(a, a, 4));
    assert_false(oasis_mem_equal_ct(a, b, 4));
    assert_true(oasis_mem_equal_ct(a, b, 3));
    assert_true(oasis_mem_equal_ct(a, b, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_million_a_in_pieces),
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_mem_equal_ct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
