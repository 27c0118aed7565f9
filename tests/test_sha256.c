/* SHA-256 against FIPS 180-2 vectors and sha256sum-style piecewise input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_million_a_in_pieces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
