/* oasis_ipaddr: RFC 4291 text forms in, RFC 5952 canonical text out,
 * compare, hash, prefixes, classification. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "oasis/addr.h"
#include "oasis/error.h"
#include "oasis/ip.h"

static void roundtrip(const char *in, const char *want)
{
    oasis_ipaddr a;
    char buf[OASIS_IPADDR_STRLEN];
    if (oasis_ipaddr_parse(in, &a) != 0)
        fail_msg("'%s' refused", in);
    oasis_ipaddr_format(&a, buf);
    if (strcmp(buf, want) != 0)
        fail_msg("'%s' formats as '%s', want '%s'", in, buf, want);
}

/* The examples of RFC 5952 (sections 2 and 4), each rule once. */
static void test_rfc5952_examples(void **state)
{
    (void)state;
    /* 2.1 / 4.1: leading zeros suppressed. */
    roundtrip("2001:db8:aaaa:bbbb:cccc:dddd:eeee:0001", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1");
    roundtrip("2001:db8:aaaa:bbbb:cccc:dddd:eeee:001", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1");
    roundtrip("2001:0db8::0001", "2001:db8::1");
    /* 2.2 / 4.2.1: "::" used to its maximum. */
    roundtrip("2001:db8:0:0:0::1", "2001:db8::1");
    roundtrip("2001:db8:0:0::1", "2001:db8::1");
    roundtrip("2001:db8:0::1", "2001:db8::1");
    roundtrip("2001:db8:0:0:0:0:2:1", "2001:db8::2:1");
    roundtrip("2001:db8::0:1", "2001:db8::1");
    /* 4.2.2: never "::" for one zero group. */
    roundtrip("2001:db8:aaaa:bbbb:cccc:dddd::1", "2001:db8:aaaa:bbbb:cccc:dddd:0:1");
    roundtrip("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1");
    roundtrip("2001:db8::1:1:1:1:1", "2001:db8:0:1:1:1:1:1");
    /* 4.2.3: the longest run; the first of equal runs. */
    roundtrip("2001:0:0:1:0:0:0:1", "2001:0:0:1::1");
    roundtrip("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");
    roundtrip("2001:db8:0:0:aaaa::1", "2001:db8::aaaa:0:0:1");
    /* 4.3: lowercase. */
    roundtrip("2001:DB8:AAAA:BBBB:CCCC:DDDD:EEEE:AAAA", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:aaaa");
    roundtrip("2001:dB8::Aa", "2001:db8::aa");
    /* 5: IPv4-mapped in mixed notation. */
    roundtrip("::ffff:192.0.2.1", "::ffff:192.0.2.1");
    roundtrip("0:0:0:0:0:ffff:c000:0201", "::ffff:192.0.2.1");
    /* Edges: all zero, loopback, runs at either end. */
    roundtrip("0:0:0:0:0:0:0:0", "::");
    roundtrip("::", "::");
    roundtrip("::1", "::1");
    roundtrip("1::", "1::");
    roundtrip("fe80::", "fe80::");
    roundtrip("ff02:0:0:0:0:1:ff00:1", "ff02::1:ff00:1");
    roundtrip("1:0:0:0:0:0:0:0", "1::");
    roundtrip("0:0:0:0:0:0:0:1", "::1");
    roundtrip("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8");
    roundtrip("0:1:2:3:4:5:6:7", "0:1:2:3:4:5:6:7");
    roundtrip("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0");
    roundtrip("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8");
    roundtrip("1:0:0:2:0:0:0:3", "1:0:0:2::3");
    roundtrip("1:0:0:0:2:0:0:3", "1::2:0:0:3");
    roundtrip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    /* A dotted tail that is not IPv4-mapped formats as hex. */
    roundtrip("64:ff9b::192.0.2.33", "64:ff9b::c000:221");
    roundtrip("::1.2.3.4", "::102:304");
    /* IPv4. */
    roundtrip("10.0.0.1", "10.0.0.1");
}

static void test_parse_bad(void **state)
{
    (void)state;
    static const char *bad[] = {
        "", ":", ":::", "1:::2", "1::2::3", ":1::2", "1::2:", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "12345::", "g::", "1:2:3:4:5:6:7:8:",
        ":1:2:3:4:5:6:7:8", "fe80::1%eth0", "[::1]", "::1/128", " ::1", "::1 ", "1.2.3.4::",
        "::1.2.3", "::1.2.3.4.5", "::01.2.3.4", "::256.1.1.1", "1:2:3:4:5:6:7:1.2.3.4",
        "::1.2.3.4:5", "2001:db8::1.2.3.4x", "1:2:3:4:5:6:7:8:1.2.3.4",
        "0000:0000:0000:0000:0000:0000:0000:0000:0", "00000::", "1.2.3.04", "1.2.3",
        "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2555",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        oasis_ipaddr a = oasis_ipaddr_v4(0x01020304);
        if (oasis_ipaddr_parse(bad[i], &a) != OASIS_EINVAL)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(oasis_ipaddr_to_v4(&a), 0x01020304); /* untouched */
    }
    oasis_ipaddr a;
    assert_int_equal(oasis_ipaddr_parse(NULL, &a), OASIS_EINVAL);
    /* The longest text there is parses. */
    assert_int_equal(oasis_ipaddr_parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", &a), 0);
    char buf[OASIS_IPADDR_STRLEN];
    assert_string_equal(oasis_ipaddr_format(&a, buf), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

static void test_parse_bytes(void **state)
{
    (void)state;
    oasis_ipaddr a;
    static const uint8_t want[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34};
    assert_int_equal(oasis_ipaddr_parse("2001:db8::1234", &a), 0);
    assert_int_equal(a.family, OASIS_AF_INET6);
    assert_memory_equal(a.b, want, 16);
    assert_int_equal(oasis_ipaddr_parse("10.1.2.3", &a), 0);
    assert_int_equal(a.family, OASIS_AF_INET);
    assert_int_equal(oasis_ipaddr_to_v4(&a), OASIS_IPV4(10, 1, 2, 3));
    /* The IPv4 address and the IPv6 address ::ffff:10.1.2.3 differ. */
    oasis_ipaddr m;
    assert_int_equal(oasis_ipaddr_parse("::ffff:10.1.2.3", &m), 0);
    assert_int_equal(m.family, OASIS_AF_INET6);
    assert_memory_equal(m.b, a.b, 16);
    assert_false(oasis_ipaddr_eq(&a, &m));
    assert_int_equal(oasis_ipaddr_to_v4(&m), 0);
}

static void test_host_and_cidr(void **state)
{
    (void)state;
    oasis_ipaddr a;
    uint8_t p;
    char buf[OASIS_IPADDR_STRLEN];
    assert_int_equal(oasis_ipaddr_parse_host("[2001:db8::2]", &a), 0);
    assert_string_equal(oasis_ipaddr_format(&a, buf), "2001:db8::2");
    assert_int_equal(oasis_ipaddr_parse_host("10.0.0.2", &a), 0);
    assert_int_equal(oasis_ipaddr_parse_host("[10.0.0.2]", &a), OASIS_EINVAL);
    assert_int_equal(oasis_ipaddr_parse_host("[::1", &a), OASIS_EINVAL);
    assert_int_equal(oasis_ipaddr_parse_host("[]", &a), OASIS_EINVAL);
    assert_int_equal(oasis_ipaddr_cidr_parse("2001:db8::5/64", &a, &p), 0);
    assert_int_equal(p, 64);
    assert_string_equal(oasis_ipaddr_format(&a, buf), "2001:db8::5");
    assert_int_equal(oasis_ipaddr_cidr_parse("::/0", &a, &p), 0);
    assert_int_equal(p, 0);
    assert_int_equal(oasis_ipaddr_cidr_parse("::1/128", &a, &p), 0);
    assert_int_equal(oasis_ipaddr_cidr_parse("10.0.0.1/24", &a, &p), 0);
    assert_int_equal(p, 24);
    static const char *bad[] = {"::1/129", "10.0.0.1/33", "::1/", "::1/064", "::1", "::1/6x",
                                "/64", "::1/1234", "::1/-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (oasis_ipaddr_cidr_parse(bad[i], &a, &p) != OASIS_EINVAL)
            fail_msg("'%s' accepted", bad[i]);
}

static void test_cmp_hash(void **state)
{
    (void)state;
    oasis_ipaddr a, b, c;
    static const uint8_t key[16] = {1, 2, 3};
    assert_int_equal(oasis_ipaddr_parse("2001:db8::1", &a), 0);
    assert_int_equal(oasis_ipaddr_parse("2001:0DB8:0:0::0:1", &b), 0);
    assert_int_equal(oasis_ipaddr_parse("2001:db8::2", &c), 0);
    assert_int_equal(oasis_ipaddr_cmp(&a, &b), 0);
    assert_true(oasis_ipaddr_cmp(&a, &c) < 0);
    assert_true(oasis_ipaddr_cmp(&c, &a) > 0);
    assert_true(oasis_ipaddr_hash(&a, key) == oasis_ipaddr_hash(&b, key));
    assert_true(oasis_ipaddr_hash(&a, key) != oasis_ipaddr_hash(&c, key));
    /* Family is part of the identity and of the hash. */
    oasis_ipaddr v4 = oasis_ipaddr_v4(OASIS_IPV4(1, 2, 3, 4)), m;
    assert_int_equal(oasis_ipaddr_parse("::ffff:1.2.3.4", &m), 0);
    assert_true(oasis_ipaddr_cmp(&v4, &m) < 0);
    assert_true(oasis_ipaddr_hash(&v4, key) != oasis_ipaddr_hash(&m, key));
    /* A different key, a different hash. */
    static const uint8_t key2[16] = {9};
    assert_true(oasis_ipaddr_hash(&a, key) != oasis_ipaddr_hash(&a, key2));
}

static void test_prefix_and_class(void **state)
{
    (void)state;
    oasis_ipaddr a, b;
    assert_int_equal(oasis_ipaddr_parse("2001:db8:1:2::1", &a), 0);
    assert_int_equal(oasis_ipaddr_parse("2001:db8:1:3::1", &b), 0);
    assert_true(oasis_ipaddr_prefix_eq(&a, &b, 48));
    assert_true(oasis_ipaddr_prefix_eq(&a, &b, 62));
    assert_false(oasis_ipaddr_prefix_eq(&a, &b, 64));
    assert_true(oasis_ipaddr_prefix_eq(&a, &b, 0));
    assert_false(oasis_ipaddr_prefix_eq(&a, &b, 128));
    assert_true(oasis_ipaddr_prefix_eq(&a, &a, 128));
    assert_true(oasis_ipaddr_prefix_eq(&a, &a, 200));
    oasis_ipaddr x = oasis_ipaddr_v4(OASIS_IPV4(10, 0, 0, 1)), y = oasis_ipaddr_v4(OASIS_IPV4(10, 0, 1, 1));
    assert_true(oasis_ipaddr_prefix_eq(&x, &y, 16));
    assert_false(oasis_ipaddr_prefix_eq(&x, &y, 24));
    assert_false(oasis_ipaddr_prefix_eq(&x, &a, 0)); /* families differ */

    static const struct {
        const char *s;
        int unspec, loop, mcast, ll;
    } cls[] = {
        {"::", 1, 0, 0, 0},          {"::1", 0, 1, 0, 0},     {"ff02::1", 0, 0, 1, 0},
        {"fe80::1", 0, 0, 0, 1},     {"febf::1", 0, 0, 0, 1}, {"fec0::1", 0, 0, 0, 0},
        {"2001:db8::1", 0, 0, 0, 0}, {"0.0.0.0", 1, 0, 0, 0}, {"127.0.0.9", 0, 1, 0, 0},
        {"224.0.0.1", 0, 0, 1, 0},   {"169.254.1.1", 0, 0, 0, 1},
    };
    for (size_t i = 0; i < sizeof cls / sizeof cls[0]; i++) {
        assert_int_equal(oasis_ipaddr_parse(cls[i].s, &a), 0);
        assert_int_equal(oasis_ipaddr_is_unspecified(&a), cls[i].unspec);
        assert_int_equal(oasis_ipaddr_is_loopback(&a), cls[i].loop);
        assert_int_equal(oasis_ipaddr_is_multicast(&a), cls[i].mcast);
        assert_int_equal(oasis_ipaddr_is_link_local(&a), cls[i].ll);
    }
}

/* Every 16-byte pattern of zero and non-zero groups formats to text that
 * parses back to the same bytes, and never compresses a single group. */
static void test_format_all_zero_patterns(void **state)
{
    (void)state;
    for (unsigned mask = 0; mask < 256; mask++) {
        uint8_t b[16] = {0};
        for (int g = 0; g < 8; g++)
            if (mask & (1u << g)) {
                b[2 * g] = (uint8_t)(g + 1);
                b[2 * g + 1] = 0x0a;
            }
        oasis_ipaddr a = oasis_ipaddr_v6(b), back;
        char buf[OASIS_IPADDR_STRLEN];
        oasis_ipaddr_format(&a, buf);
        if (memcmp(b, (uint8_t[12]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 12) == 0)
            continue;
        assert_int_equal(oasis_ipaddr_parse(buf, &back), 0);
        assert_memory_equal(back.b, b, 16);
        /* The "::" replaces at least two groups: count the colons. */
        const char *dc = strstr(buf, "::");
        if (dc) {
            /* Count the groups actually shown around "::". */
            int shown = 0;
            for (const char *q = buf; *q;) {
                if (*q == ':') { q++; continue; }
                shown++;
                while (*q && *q != ':') q++;
            }
            assert_true(8 - shown >= 2);
            assert_null(strstr(dc + 2, "::"));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc5952_examples), cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_parse_bytes),      cmocka_unit_test(test_host_and_cidr),
        cmocka_unit_test(test_cmp_hash),         cmocka_unit_test(test_prefix_and_class),
        cmocka_unit_test(test_format_all_zero_patterns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
