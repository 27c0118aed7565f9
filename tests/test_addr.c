/* Address text helpers: strict dotted quads, CIDR, netmasks, MACs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "oasis/error.h"
#include "oasis/ip.h"

static void test_addr_parse_good(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        uint32_t a;
    } good[] = {
        {"0.0.0.0", 0},
        {"10.0.0.1", OASIS_IPV4(10, 0, 0, 1)},
        {"192.168.1.254", OASIS_IPV4(192, 168, 1, 254)},
        {"255.255.255.255", 0xffffffffu},
        {"1.2.3.4", 0x01020304u},
        {"100.99.0.10", OASIS_IPV4(100, 99, 0, 10)},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint32_t a = 0xdeadbeef;
        assert_int_equal(oasis_addr_parse(good[i].s, &a), OASIS_OK);
        assert_int_equal(a, good[i].a);
    }
}

static void test_addr_parse_bad(void **state)
{
    (void)state;
    static const char *bad[] = {
        "", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.256", "999.1.1.1", "1.2.3.4x", "x1.2.3.4",
        " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\n", "1..2.3", "1.2.3.", ".1.2.3", "1.2.3.4.",
        /* Leading zeros are refused: inet_aton reads "010" as octal 8. */
        "01.2.3.4", "1.2.3.00", "1.2.3.010", "0001.2.3.4",
        "+1.2.3.4", "-1.2.3.4", "1.2.-3.4", "0x1.2.3.4", "1.2.3.4/24", "1,2,3,4", "1234.1.1.1",
        "4294967297.0.0.0", "1.2.3.4294967297", "a.b.c.d", "1.2.3.4.", "...",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t a = 0xdeadbeef;
        if (oasis_addr_parse(bad[i], &a) != OASIS_EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(a, 0xdeadbeef); /* untouched on error */
    }
}

static void test_addr_format(void **state)
{
    (void)state;
    char buf[OASIS_IPV4_STRLEN];
    assert_ptr_equal(oasis_addr_format(OASIS_IPV4(10, 0, 0, 1), buf), buf);
    assert_string_equal(buf, "10.0.0.1");
    assert_string_equal(oasis_addr_format(0, buf), "0.0.0.0");
    assert_string_equal(oasis_addr_format(0xffffffffu, buf), "255.255.255.255");
    assert_int_equal(strlen(buf) + 1, OASIS_IPV4_STRLEN);

    /* Round trip over a spread of addresses. */
    for (uint64_t a = 0; a <= 0xffffffffu; a += 0x01010101u / 7 + 13) {
        uint32_t back;
        oasis_addr_format((uint32_t)a, buf);
        assert_int_equal(oasis_addr_parse(buf, &back), OASIS_OK);
        assert_int_equal(back, (uint32_t)a);
    }
}

static void test_cidr(void **state)
{
    (void)state;
    uint32_t a;
    uint8_t p;
    assert_int_equal(oasis_cidr_parse("10.0.0.1/24", &a, &p), OASIS_OK);
    assert_int_equal(a, OASIS_IPV4(10, 0, 0, 1)); /* host bits kept */
    assert_int_equal(p, 24);
    assert_int_equal(oasis_cidr_parse("0.0.0.0/0", &a, &p), OASIS_OK);
    assert_int_equal(a, 0);
    assert_int_equal(p, 0);
    assert_int_equal(oasis_cidr_parse("192.168.7.9/32", &a, &p), OASIS_OK);
    assert_int_equal(p, 32);

    static const char *bad[] = {
        "10.0.0.1", "10.0.0.1/", "10.0.0.1/33", "10.0.0.1/024", "10.0.0.1/-1", "10.0.0.1/24x",
        "10.0.0.1/ 24", "10.0.0/24", "10.0.0.1//24", "/24", "10.0.0.1/100", "01.0.0.1/24", "10.0.0.1/2/4",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        a = 0xdeadbeef;
        p = 99;
        if (oasis_cidr_parse(bad[i], &a, &p) != OASIS_EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(a, 0xdeadbeef);
        assert_int_equal(p, 99);
    }
}

static void test_netmask(void **state)
{
    (void)state;
    assert_int_equal(oasis_netmask(0), 0);
    assert_int_equal(oasis_netmask(1), 0x80000000u);
    assert_int_equal(oasis_netmask(8), 0xff000000u);
    assert_int_equal(oasis_netmask(24), 0xffffff00u);
    assert_int_equal(oasis_netmask(31), 0xfffffffeu);
    assert_int_equal(oasis_netmask(32), 0xffffffffu);
    assert_int_equal(oasis_netmask(33), 0xffffffffu);
    assert_int_equal(oasis_netmask(255), 0xffffffffu);
    /* Every mask is prefix_len ones followed by zeros. */
    for (int n = 0; n <= 32; n++) {
        uint32_t m = oasis_netmask((uint8_t)n);
        assert_int_equal(__builtin_popcount(m), n);
        assert_int_equal((uint32_t)(~m & (~m + 1)), 0); /* ~m is 0...01...1 */
    }
}

static void test_mac(void **state)
{
    (void)state;
    uint8_t m[6];
    assert_int_equal(oasis_mac_parse("02:00:00:00:00:01", m), OASIS_OK);
    static const uint8_t want1[6] = {2, 0, 0, 0, 0, 1};
    assert_memory_equal(m, want1, 6);
    assert_int_equal(oasis_mac_parse("ff:FF:aB:cd:EF:90", m), OASIS_OK);
    static const uint8_t want2[6] = {0xff, 0xff, 0xab, 0xcd, 0xef, 0x90};
    assert_memory_equal(m, want2, 6);

    static const char *bad[] = {
        "", "02:00:00:00:00", "02:00:00:00:00:01:02", "02:00:00:00:00:1", "2:0:0:0:0:1",
        "02-00-00-00-00-01", "0200.0000.0001", "020000000001", "02:00:00:00:00:0g", "02:00:00:00:00:01 ",
        " 02:00:00:00:00:01", "02::00:00:00:00:01", "02:00:00:00:00:01:", "002:00:00:00:00:01",
        "02:00:00:00:00:", "0x:00:00:00:00:01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(m, 0x5a, 6);
        if (oasis_mac_parse(bad[i], m) != OASIS_EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
        for (int k = 0; k < 6; k++)
            assert_int_equal(m[k], 0x5a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_parse_good), cmocka_unit_test(test_addr_parse_bad),
        cmocka_unit_test(test_addr_format),     cmocka_unit_test(test_cidr),
        cmocka_unit_test(test_netmask),         cmocka_unit_test(test_mac),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
