/* InfluxDB line protocol encoder: escaping of every element, value formats,
 * refused points, float round trip, tag order, bounded buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oasis/error.h"
#include "oasis/metrics.h"

#define TS 1700000000000000000ull

/* Encodes p alone and returns the line (without its '\n') in a static-free
 * caller buffer. */
static int encode(const oasis_metric_point *p, unsigned flags, char *out, size_t cap)
{
    oasis_lp_buf b;
    oasis_lp_buf_init(&b, 1 << 16, NULL, NULL);
    int rc = oasis_lp_encode_point(&b, p, flags);
    out[0] = '\0';
    if (rc == 0) {
        assert_true(b.len > 0 && b.len < cap);
        assert_int_equal(b.data[b.len - 1], '\n');
        assert_null(memchr(b.data, '\n', b.len - 1));
        memcpy(out, b.data, b.len - 1);
        out[b.len - 1] = '\0';
    } else {
        assert_int_equal(b.len, 0);
    }
    oasis_lp_buf_free(&b);
    return rc;
}

static oasis_metric_field fint(const char *k, int64_t v)
{
    oasis_metric_field f = {.key = k, .type = OASIS_METRIC_INT};
    f.v.i = v;
    return f;
}

static oasis_metric_field fuint(const char *k, uint64_t v)
{
    oasis_metric_field f = {.key = k, .type = OASIS_METRIC_UINT};
    f.v.u = v;
    return f;
}

static oasis_metric_field ffloat(const char *k, double v)
{
    oasis_metric_field f = {.key = k, .type = OASIS_METRIC_FLOAT};
    f.v.f = v;
    return f;
}

static oasis_metric_field fbool(const char *k, int v)
{
    oasis_metric_field f = {.key = k, .type = OASIS_METRIC_BOOL};
    f.v.b = v;
    return f;
}

static oasis_metric_field fstr(const char *k, const char *v)
{
    oasis_metric_field f = {.key = k, .type = OASIS_METRIC_STRING};
    f.v.s = v;
    return f;
}

static oasis_metric_point pt(const char *m, const oasis_metric_tag *t, size_t nt,
                             const oasis_metric_field *f, size_t nf)
{
    oasis_metric_point p = {m, t, nt, f, nf, TS};
    return p;
}

/* One measurement, one optional tag, one field: the line it gives. */
static void expect_line(const char *meas, const char *tk, const char *tv, oasis_metric_field f,
                        unsigned flags, const char *want)
{
    oasis_metric_tag t = {tk, tv};
    oasis_metric_point p = pt(meas, &t, tk ? 1 : 0, &f, 1);
    char got[1024];
    assert_int_equal(encode(&p, flags, got, sizeof got), 0);
    assert_string_equal(got, want);
}

static void expect_refused(const char *meas, const char *tk, const char *tv, oasis_metric_field f,
                           unsigned flags, int err)
{
    oasis_metric_tag t = {tk, tv};
    oasis_metric_point p = pt(meas, &t, (tk || tv) ? 1 : 0, &f, 1);
    char got[64];
    assert_int_equal(encode(&p, flags, got, sizeof got), err);
}

/* ---- escaping, one rule at a time ---------------------------------------- */

static void test_escape_measurement(void **state)
{
    (void)state;
    expect_line("cpu load", NULL, NULL, fint("v", 1), 0, "cpu\\ load v=1i 1700000000000000000");
    expect_line("cpu,load", NULL, NULL, fint("v", 1), 0, "cpu\\,load v=1i 1700000000000000000");
    /* '=' and '"' are plain in a measurement */
    expect_line("a=b\"c", NULL, NULL, fint("v", 1), 0, "a=b\"c v=1i 1700000000000000000");
    /* a backslash before an ordinary character stays as it is */
    expect_line("a\\b", NULL, NULL, fint("v", 1), 0, "a\\b v=1i 1700000000000000000");
    expect_line("a\\#b", NULL, NULL, fint("v", 1), 0, "a\\#b v=1i 1700000000000000000");
}

static void test_escape_tag_key(void **state)
{
    (void)state;
    expect_line("m", "a b", "x", fint("v", 1), 0, "m,a\\ b=x v=1i 1700000000000000000");
    expect_line("m", "a,b", "x", fint("v", 1), 0, "m,a\\,b=x v=1i 1700000000000000000");
    expect_line("m", "a=b", "x", fint("v", 1), 0, "m,a\\=b=x v=1i 1700000000000000000");
    expect_line("m", "a\"b", "x", fint("v", 1), 0, "m,a\"b=x v=1i 1700000000000000000");
}

static void test_escape_tag_value(void **state)
{
    (void)state;
    expect_line("m", "k", "x y", fint("v", 1), 0, "m,k=x\\ y v=1i 1700000000000000000");
    expect_line("m", "k", "x,y", fint("v", 1), 0, "m,k=x\\,y v=1i 1700000000000000000");
    expect_line("m", "k", "x=y", fint("v", 1), 0, "m,k=x\\=y v=1i 1700000000000000000");
    expect_line("m", "k", "C:\\dir", fint("v", 1), 0, "m,k=C:\\dir v=1i 1700000000000000000");
    expect_line("m", "k", " ,=", fint("v", 1), 0, "m,k=\\ \\,\\= v=1i 1700000000000000000");
}

static void test_escape_field_key(void **state)
{
    (void)state;
    expect_line("m", NULL, NULL, fint("a b", 1), 0, "m a\\ b=1i 1700000000000000000");
    expect_line("m", NULL, NULL, fint("a,b", 1), 0, "m a\\,b=1i 1700000000000000000");
    expect_line("m", NULL, NULL, fint("a=b", 1), 0, "m a\\=b=1i 1700000000000000000");
}

static void test_escape_string_value(void **state)
{
    (void)state;
    expect_line("m", NULL, NULL, fstr("s", "say \"hi\""), 0,
                "m s=\"say \\\"hi\\\"\" 1700000000000000000");
    expect_line("m", NULL, NULL, fstr("s", "C:\\dir\\"), 0,
                "m s=\"C:\\\\dir\\\\\" 1700000000000000000");
    /* comma, space and '=' need nothing inside quotes */
    expect_line("m", NULL, NULL, fstr("s", "a, b=c"), 0, "m s=\"a, b=c\" 1700000000000000000");
    expect_line("m", NULL, NULL, fstr("s", ""), 0, "m s=\"\" 1700000000000000000");
    expect_line("m", NULL, NULL, fstr("s", "\\\""), 0, "m s=\"\\\\\\\"\" 1700000000000000000");
}

/* ---- values ---------------------------------------------------------------- */

static void test_integers(void **state)
{
    (void)state;
    expect_line("m", NULL, NULL, fint("v", 0), 0, "m v=0i 1700000000000000000");
    expect_line("m", NULL, NULL, fint("v", -42), 0, "m v=-42i 1700000000000000000");
    expect_line("m", NULL, NULL, fint("v", INT64_MAX), 0,
                "m v=9223372036854775807i 1700000000000000000");
    expect_line("m", NULL, NULL, fint("v", INT64_MIN), 0,
                "m v=-9223372036854775808i 1700000000000000000");
}

static void test_unsigned(void **state)
{
    (void)state;
    expect_line("m", NULL, NULL, fuint("v", 7), 0, "m v=7i 1700000000000000000");
    expect_line("m", NULL, NULL, fuint("v", INT64_MAX), 0,
                "m v=9223372036854775807i 1700000000000000000");
    /* above int64 there is no 'i' form: refused unless 'u' is allowed */
    expect_refused("m", NULL, NULL, fuint("v", (uint64_t)INT64_MAX + 1), 0, OASIS_ENOTSUP);
    expect_refused("m", NULL, NULL, fuint("v", UINT64_MAX), 0, OASIS_ENOTSUP);
    expect_line("m", NULL, NULL, fuint("v", 7), OASIS_LP_UNSIGNED, "m v=7u 1700000000000000000");
    expect_line("m", NULL, NULL, fuint("v", UINT64_MAX), OASIS_LP_UNSIGNED,
                "m v=18446744073709551615u 1700000000000000000");
}

static void test_floats_and_bools(void **state)
{
    (void)state;
    expect_line("m", NULL, NULL, ffloat("v", 1.5), 0, "m v=1.5 1700000000000000000");
    expect_line("m", NULL, NULL, ffloat("v", 0.1), 0, "m v=0.1 1700000000000000000");
    expect_line("m", NULL, NULL, ffloat("v", 1.0), 0, "m v=1 1700000000000000000");
    expect_line("m", NULL, NULL, ffloat("v", -0.0), 0, "m v=-0 1700000000000000000");
    expect_line("m", NULL, NULL, ffloat("v", 1e300), 0, "m v=1e+300 1700000000000000000");
    expect_line("m", NULL, NULL, ffloat("v", 1.0 / 3), 0,
                "m v=0.3333333333333333 1700000000000000000");
    expect_line("m", NULL, NULL, fbool("v", 1), 0, "m v=true 1700000000000000000");
    expect_line("m", NULL, NULL, fbool("v", 0), 0, "m v=false 1700000000000000000");
}

static void test_timestamps(void **state)
{
    (void)state;
    oasis_metric_field f = fint("v", 1);
    oasis_metric_point p = pt("m", NULL, 0, &f, 1);
    char got[128];
    p.timestamp_ns = 0;
    assert_int_equal(encode(&p, 0, got, sizeof got), 0);
    assert_string_equal(got, "m v=1i 0");
    p.timestamp_ns = INT64_MAX;
    assert_int_equal(encode(&p, 0, got, sizeof got), 0);
    assert_string_equal(got, "m v=1i 9223372036854775807");
    p.timestamp_ns = (uint64_t)INT64_MAX + 1;
    assert_int_equal(encode(&p, 0, got, sizeof got), OASIS_EINVAL);
    assert_int_equal(encode(&p, OASIS_LP_NO_TIMESTAMP, got, sizeof got), 0);
    assert_string_equal(got, "m v=1i");
}

static void test_full_line(void **state)
{
    (void)state;
    oasis_metric_tag t[] = {{"host", "a b"}, {"dc", "eu,1"}};
    oasis_metric_field f[] = {fint("i", -1), fuint("u", 2), ffloat("f", 2.5), fbool("b", 1),
                              fstr("s", "x\"y")};
    oasis_metric_point p = pt("net stats", t, 2, f, 5);
    char got[256];
    assert_int_equal(encode(&p, 0, got, sizeof got), 0);
    assert_string_equal(got, "net\\ stats,dc=eu\\,1,host=a\\ b "
                             "i=-1i,u=2i,f=2.5,b=true,s=\"x\\\"y\" 1700000000000000000");
}

/* ---- refused points -------------------------------------------------------- */

static void test_refuse_nonfinite(void **state)
{
    (void)state;
    expect_refused("m", NULL, NULL, ffloat("v", NAN), 0, OASIS_EINVAL);
    expect_refused("m", NULL, NULL, ffloat("v", -NAN), 0, OASIS_EINVAL);
    expect_refused("m", NULL, NULL, ffloat("v", INFINITY), 0, OASIS_EINVAL);
    expect_refused("m", NULL, NULL, ffloat("v", -INFINITY), 0, OASIS_EINVAL);
}

static void test_refuse_empty(void **state)
{
    (void)state;
    expect_refused("", NULL, NULL, fint("v", 1), 0, OASIS_EINVAL);
    expect_refused(NULL, NULL, NULL, fint("v", 1), 0, OASIS_EINVAL);
    expect_refused("m", "", "x", fint("v", 1), 0, OASIS_EINVAL);
    expect_refused("m", "k", "", fint("v", 1), 0, OASIS_EINVAL);
    expect_refused("m", NULL, "x", fint("v", 1), 0, OASIS_EINVAL);
    expect_refused("m", "k", NULL, fint("v", 1), 0, OASIS_EINVAL);
    expect_refused("m", NULL, NULL, fint("", 1), 0, OASIS_EINVAL);
    expect_refused("m", NULL, NULL, fint(NULL, 1), 0, OASIS_EINVAL);
    expect_refused("m", NULL, NULL, fstr("s", NULL), 0, OASIS_EINVAL);

    char got[64];
    oasis_metric_point p = pt("m", NULL, 0, NULL, 0);
    assert_int_equal(encode(&p, 0, got, sizeof got), OASIS_EINVAL);
    oasis_metric_field f = fint("v", 1);
    p = pt("m", NULL, 0, &f, 0);
    assert_int_equal(encode(&p, 0, got, sizeof got), OASIS_EINVAL);
    p = pt("m", NULL, 3, &f, 1); /* tags count without tags */
    assert_int_equal(encode(&p, 0, got, sizeof got), OASIS_EINVAL);
    oasis_lp_buf b;
    oasis_lp_buf_init(&b, 100, NULL, NULL);
    assert_int_equal(oasis_lp_encode_point(&b, NULL, 0), OASIS_EINVAL);
    assert_int_equal(oasis_lp_encode_point(NULL, &p, 0), OASIS_EINVAL);
    oasis_lp_buf_free(&b);
}

static void test_refuse_newlines(void **state)
{
    (void)state;
    /* line protocol has no way to carry a newline: refused everywhere */
    expect_refused("a\nb", NULL, NULL, fint("v", 1), 0, OASIS_EINVAL);
    expect_refused("m", "a\nb", "x", fint("v", 1), 0, OASIS_EINVAL);
    expect_refused("m", "k", "a\nb", fint("v", 1), 0, OASIS_EINVAL);
    expect_refused("m", NULL, NULL, fint("a\nb", 1), 0, OASIS_EINVAL);
    expect_refused("m", NULL, NULL, fstr("s", "a\nb"), 0, OASIS_EINVAL);
    expect_refused("m", NULL, NULL, fstr("s", "a\rb"), 0, OASIS_EINVAL);
    expect_refused("m\r", NULL, NULL, fint("v", 1), 0, OASIS_EINVAL);
}

static void test_refuse_ambiguous(void **state)
{
    (void)state;
    /* '#' at the start of a line makes it a comment */
    expect_refused("#m", NULL, NULL, fint("v", 1), 0, OASIS_EINVAL);
    expect_line("m#", NULL, NULL, fint("v", 1), 0, "m# v=1i 1700000000000000000");
    /* InfluxDB 1.x skips a tab that starts a line (1.6.7 stores "\tm" as m);
     * a tab further on is kept */
    expect_refused("\tm", NULL, NULL, fint("v", 1), 0, OASIS_EINVAL);
    expect_line("m\t", "k", "\tv", fint("v", 1), 0, "m\t,k=\tv v=1i 1700000000000000000");
    /* a trailing backslash would escape the separator after it */
    expect_refused("m\\", NULL, NULL, fint("v", 1), 0, OASIS_EINVAL);
    expect_refused("m", "k\\", "x", fint("v", 1), 0, OASIS_EINVAL);
    expect_refused("m", "k", "x\\", fint("v", 1), 0, OASIS_EINVAL);
    expect_refused("m", NULL, NULL, fint("v\\", 1), 0, OASIS_EINVAL);
    /* a backslash before a character we escape reads as one escape */
    expect_refused("a\\,b", NULL, NULL, fint("v", 1), 0, OASIS_EINVAL);
    expect_refused("a\\ b", NULL, NULL, fint("v", 1), 0, OASIS_EINVAL);
    expect_refused("m", "a\\=b", "x", fint("v", 1), 0, OASIS_EINVAL);
    expect_refused("m", "k", "a\\ b", fint("v", 1), 0, OASIS_EINVAL);
    expect_refused("m", NULL, NULL, fint("a\\,b", 1), 0, OASIS_EINVAL);
    /* InfluxDB 1.x also unescapes '=' and '"' in a measurement and '"' in a
     * field key: a\=b is measurement a=b there, f\"x field f"x. */
    expect_refused("a\\=b", NULL, NULL, fint("v", 1), 0, OASIS_EINVAL);
    expect_refused("a\\\"b", NULL, NULL, fint("v", 1), 0, OASIS_EINVAL);
    expect_refused("m", NULL, NULL, fint("f\\\"x", 1), 0, OASIS_EINVAL);
    /* ... but not '"' in tags: a\"b is a\"b for every reader */
    expect_line("m", "k\\\"", "v\\\"", fint("v", 1), 0,
                "m,k\\\"=v\\\" v=1i 1700000000000000000");
    /* A doubled backslash is one for VictoriaMetrics and InfluxDB 3, two
     * for InfluxDB 1.x: refused in every element. */
    expect_refused("a\\\\b", NULL, NULL, fint("v", 1), 0, OASIS_EINVAL);
    expect_refused("m", "k\\\\x", "v", fint("v", 1), 0, OASIS_EINVAL);
    expect_refused("m", "k", "C:\\\\dir", fint("v", 1), 0, OASIS_EINVAL);
    expect_refused("m", NULL, NULL, fint("a\\\\b", 1), 0, OASIS_EINVAL);
}

/* InfluxDB 1.x answers a point with a tag or field named "time" with 400
 * "partial write: invalid field name: input field "time" ... is invalid"
 * (1.6.7, by hand): the reporter would count the whole batch as rejected
 * though the rest was stored. Refused; other names that hold "time" pass,
 * and so does a measurement called time. */
static void test_refuse_time_key(void **state)
{
    (void)state;
    expect_refused("m", NULL, NULL, fint("time", 1), 0, OASIS_EINVAL);
    expect_refused("m", "time", "x", fint("v", 1), 0, OASIS_EINVAL);
    expect_line("m", "k", "time", fint("time_ns", 1), 0, "m,k=time time_ns=1i 1700000000000000000");
    expect_line("time", "Time", "x", fint("v", 1), 0, "time,Time=x v=1i 1700000000000000000");
}

static void test_refuse_duplicates(void **state)
{
    (void)state;
    char got[64];
    oasis_metric_tag t[] = {{"k", "1"}, {"k", "2"}};
    oasis_metric_field f[] = {fint("v", 1), fint("v", 2)};
    oasis_metric_point p = pt("m", t, 2, f, 1);
    assert_int_equal(encode(&p, 0, got, sizeof got), OASIS_EINVAL);
    p = pt("m", t, 1, f, 2);
    assert_int_equal(encode(&p, 0, got, sizeof got), OASIS_EINVAL);
}

/* A refused point leaves what the buffer held untouched. */
static void test_refused_keeps_buffer(void **state)
{
    (void)state;
    oasis_lp_buf b;
    oasis_lp_buf_init(&b, 4096, NULL, NULL);
    oasis_metric_field good = fint("v", 1);
    oasis_metric_field bad[] = {fint("a", 1), ffloat("b", NAN)};
    oasis_metric_point p = pt("m", NULL, 0, &good, 1);
    assert_int_equal(oasis_lp_encode_point(&b, &p, 0), 0);
    size_t len = b.len;
    p = pt("m", NULL, 0, bad, 2);
    assert_int_equal(oasis_lp_encode_point(&b, &p, 0), OASIS_EINVAL);
    assert_int_equal(b.len, len);
    assert_memory_equal(b.data, "m v=1i 1700000000000000000\n", len);
    oasis_lp_buf_free(&b);
}

/* ---- tags sorted by key ---------------------------------------------------- */

static void test_tag_sorting(void **state)
{
    (void)state;
    oasis_metric_tag t[] = {{"zone", "1"}, {"a", "2"}, {"Zebra", "3"}, {"ab", "4"},
                            {"a b", "5"}, {"_x", "6"}, {"a,", "7"}};
    oasis_metric_field f = fint("v", 1);
    oasis_metric_point p = pt("m", t, 7, &f, 1);
    char got[256];
    assert_int_equal(encode(&p, 0, got, sizeof got), 0);
    /* bytewise: ' ' < ',' < 'Z' < '_' < 'a' */
    assert_string_equal(got, "m,Zebra=3,_x=6,a=2,a\\ b=5,a\\,=7,ab=4,zone=1 v=1i "
                             "1700000000000000000");
    /* the caller's array is left in its order */
    assert_string_equal(t[0].key, "zone");
}

/* ---- float round trip ------------------------------------------------------ */

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* The field value text of a one-field line "m v=<value> <ts>". */
static double reparse(const char *line, char *text, size_t cap)
{
    const char *v = strstr(line, " v=");
    assert_non_null(v);
    v += 3;
    const char *end = strchr(v, ' ');
    assert_non_null(end);
    assert_true((size_t)(end - v) < cap);
    memcpy(text, v, (size_t)(end - v));
    text[end - v] = '\0';
    char *stop;
    double d = strtod(text, &stop);
    assert_true(*stop == '\0');
    return d;
}

static void check_round_trip(double d)
{
    char got[128], text[64];
    oasis_metric_field f = ffloat("v", d);
    oasis_metric_point p = pt("m", NULL, 0, &f, 1);
    assert_int_equal(encode(&p, 0, got, sizeof got), 0);
    double back = reparse(got, text, sizeof text);
    if (memcmp(&back, &d, sizeof d) != 0)
        fail_msg("%.17g encoded as %s reads back as %.17g", d, text, back);
    assert_true(strlen(text) <= 24);
    assert_null(strchr(text, ','));
}

static void test_float_round_trip(void **state)
{
    (void)state;
    static const double edge[] = {0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.3, 1e-300, 4.9e-324,
                                  2.2250738585072014e-308, 1.7976931348623157e308,
                                  -1.7976931348623157e308, 9007199254740993.0, 123456789.125,
                                  5e-324, 1e21, 1e22, 123e-20};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        check_round_trip(edge[i]);
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    int n = 0;
    while (n < 200000) {
        uint64_t bits = xorshift(&seed);
        double d;
        memcpy(&d, &bits, sizeof d);
        if (!isfinite(d))
            continue;
        check_round_trip(d);
        n++;
    }
    /* and numbers of everyday sizes */
    for (int i = 0; i < 100000; i++) {
        double d = (double)(xorshift(&seed) % 100000000) / 1000.0;
        check_round_trip(i & 1 ? -d : d);
    }
}

/* A decimal-comma locale must not leak into the output. */
static void test_float_locale(void **state)
{
    (void)state;
    static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8"};
    const char *set = NULL;
    for (size_t i = 0; i < 4 && !set; i++)
        set = setlocale(LC_NUMERIC, names[i]);
    if (!set) {
        skip(); /* no decimal-comma locale installed here */
        return;
    }
    char got[128];
    oasis_metric_field f = ffloat("v", 2.5);
    oasis_metric_point p = pt("m", NULL, 0, &f, 1);
    int rc = encode(&p, 0, got, sizeof got);
    setlocale(LC_NUMERIC, "C");
    assert_int_equal(rc, 0);
    assert_string_equal(got, "m v=2.5 1700000000000000000");
}

/* ---- escaping round trip through a reference reader ----------------------- */

/* Reads one name up to an unescaped stop character, as InfluxDB does: a
 * backslash before a character of esc stands for that character. */
static const char *read_name(const char *s, const char *stops, const char *esc, char *out)
{
    while (*s && !strchr(stops, *s)) {
        if (s[0] == '\\' && s[1] && strchr(esc, s[1]))
            s++;
        *out++ = *s++;
    }
    *out = '\0';
    return s;
}

/* The name must read back as want both for a reader that unescapes only
 * what the encoder escapes and for one that unescapes more (InfluxDB 1.x:
 * '=' and '"' in measurements, '"' in field keys; VictoriaMetrics and
 * InfluxDB 3: a doubled backslash). Returns where both stopped. */
static const char *read_both(const char *s, const char *stops, const char *esc,
                             const char *esc_more, const char *want)
{
    char got[64];
    const char *end = read_name(s, stops, esc, got);
    assert_string_equal(got, want);
    assert_ptr_equal(read_name(s, stops, esc_more, got), end);
    assert_string_equal(got, want);
    return end;
}

static const char *read_quoted(const char *s, char *out)
{
    assert_int_equal(*s, '"');
    s++;
    while (*s != '"') {
        assert_true(*s != '\0');
        if (s[0] == '\\' && (s[1] == '"' || s[1] == '\\'))
            s++;
        *out++ = *s++;
    }
    *out = '\0';
    return s + 1;
}

static void random_name(uint64_t *seed, char *out, size_t maxlen)
{
    static const char alphabet[] = "ab ,=\"\\#";
    size_t n = 1 + xorshift(seed) % maxlen;
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[xorshift(seed) % (sizeof alphabet - 1)];
    out[n] = '\0';
}

static void test_escape_round_trip(void **state)
{
    (void)state;
    uint64_t seed = 12345;
    int accepted = 0;
    for (int i = 0; i < 20000; i++) {
        char meas[16], tk[16], tv[16], fk[16], sv[16];
        random_name(&seed, meas, 8);
        random_name(&seed, tk, 8);
        random_name(&seed, tv, 8);
        random_name(&seed, fk, 8);
        random_name(&seed, sv, 8);
        oasis_metric_tag t = {tk, tv};
        oasis_metric_field f = fstr(fk, sv);
        oasis_metric_point p = pt(meas, &t, 1, &f, 1);
        char line[256], got[64];
        if (encode(&p, 0, line, sizeof line) != 0)
            continue;
        accepted++;
        const char *s = read_both(line, ", ", ", ", ", =\"\\", meas);
        assert_int_equal(*s++, ',');
        s = read_both(s, "=", ",= ", ",= \\", tk);
        assert_int_equal(*s++, '=');
        s = read_both(s, ", ", ",= ", ",= \\", tv);
        assert_int_equal(*s++, ' ');
        s = read_both(s, "=", ",= ", ",= \"\\", fk);
        assert_int_equal(*s++, '=');
        s = read_quoted(s, got);
        assert_string_equal(got, sv);
        assert_string_equal(s, " 1700000000000000000");
    }
    assert_true(accepted > 1000); /* the property was tested on many lines */
}

/* ---- bounded buffer and batches -------------------------------------------- */

static void test_buffer_max(void **state)
{
    (void)state;
    oasis_metric_field f = fint("v", 1);
    oasis_metric_point p = pt("m", NULL, 0, &f, 1); /* 27 bytes with '\n' */
    oasis_lp_buf b;
    oasis_lp_buf_init(&b, 27 * 2 + 10, NULL, NULL);
    assert_int_equal(oasis_lp_encode_point(&b, &p, 0), 0);
    assert_int_equal(b.len, 27);
    assert_int_equal(oasis_lp_encode_point(&b, &p, 0), 0);
    assert_int_equal(oasis_lp_encode_point(&b, &p, 0), OASIS_EMSGSIZE);
    assert_int_equal(b.len, 54);
    assert_true(b.cap <= b.max);
    oasis_lp_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(oasis_lp_encode_point(&b, &p, 0), 0);
    oasis_lp_buf_free(&b);
    assert_null(b.data);
}

static void test_encode_points_batches(void **state)
{
    (void)state;
    enum { N = 50 };
    oasis_metric_field f[N];
    oasis_metric_point p[N];
    char keys[N][8];
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        f[i] = fint(keys[i], i);
        p[i] = pt("m", NULL, 0, &f[i], 1);
    }
    f[10] = ffloat("bad", NAN); /* skipped */
    char huge[300];
    memset(huge, 'x', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    f[20] = fstr("s", huge); /* bigger than the whole buffer: skipped */

    oasis_lp_buf all, small;
    oasis_lp_buf_init(&all, 1 << 20, NULL, NULL);
    oasis_lp_buf_init(&small, 100, NULL, NULL);
    size_t next = 0, rejected = 0, total_rejected = 0;
    assert_int_equal(oasis_lp_encode_points(&all, p, N, 0, &next, &rejected), 0);
    assert_int_equal(next, N);
    assert_int_equal(rejected, 1); /* the NaN; the long string fits here */
    /* what the batches must add up to: every line but the two skipped */
    oasis_lp_buf_reset(&all);
    for (int i = 0; i < N; i++)
        if (i != 10 && i != 20)
            assert_int_equal(oasis_lp_encode_point(&all, &p[i], 0), 0);

    char joined[4096];
    size_t jl = 0, from = 0;
    int batches = 0, rc;
    do {
        rc = oasis_lp_encode_points(&small, p + from, N - from, 0, &next, &rejected);
        assert_true(rc == 0 || rc == OASIS_EMSGSIZE);
        assert_true(small.len <= 100);
        assert_int_equal(small.data[small.len - 1], '\n'); /* whole lines only */
        memcpy(joined + jl, small.data, small.len);
        jl += small.len;
        oasis_lp_buf_reset(&small);
        from += next;
        total_rejected += rejected;
        batches++;
    } while (rc == OASIS_EMSGSIZE);
    assert_int_equal(from, N);
    assert_int_equal(total_rejected, 2);
    assert_true(batches > 5);
    assert_int_equal(jl, all.len);
    assert_memory_equal(joined, all.data, jl);
    assert_int_equal(oasis_lp_encode_points(&small, NULL, 0, 0, &next, NULL), 0);
    assert_int_equal(oasis_lp_encode_points(&small, NULL, 1, 0, &next, NULL), OASIS_EINVAL);
    oasis_lp_buf_free(&all);
    oasis_lp_buf_free(&small);
}

/* Fails once *(int *)ud allocations have succeeded. */
static void *failing_alloc(void *ud, void *ptr, size_t size)
{
    int *left = ud;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    if ((*left)-- <= 0)
        return NULL;
    return realloc(ptr, size);
}

static void test_out_of_memory(void **state)
{
    (void)state;
    oasis_metric_field f = fint("v", 1);
    oasis_metric_point p = pt("m", NULL, 0, &f, 1);
    oasis_lp_buf b;
    int left = 0;
    oasis_lp_buf_init(&b, 1 << 20, failing_alloc, &left);
    assert_int_equal(oasis_lp_encode_point(&b, &p, 0), OASIS_ENOMEM);
    assert_int_equal(b.len, 0);
    size_t next = 99;
    assert_int_equal(oasis_lp_encode_points(&b, &p, 1, 0, &next, NULL), OASIS_ENOMEM);
    assert_int_equal(next, 0);
    left = 1;
    assert_int_equal(oasis_lp_encode_point(&b, &p, 0), 0);
    oasis_lp_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_measurement),
        cmocka_unit_test(test_escape_tag_key),
        cmocka_unit_test(test_escape_tag_value),
        cmocka_unit_test(test_escape_field_key),
        cmocka_unit_test(test_escape_string_value),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_unsigned),
        cmocka_unit_test(test_floats_and_bools),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_full_line),
        cmocka_unit_test(test_refuse_nonfinite),
        cmocka_unit_test(test_refuse_empty),
        cmocka_unit_test(test_refuse_newlines),
        cmocka_unit_test(test_refuse_ambiguous),
        cmocka_unit_test(test_refuse_time_key),
        cmocka_unit_test(test_refuse_duplicates),
        cmocka_unit_test(test_refused_keeps_buffer),
        cmocka_unit_test(test_tag_sorting),
        cmocka_unit_test(test_float_round_trip),
        cmocka_unit_test(test_float_locale),
        cmocka_unit_test(test_escape_round_trip),
        cmocka_unit_test(test_buffer_max),
        cmocka_unit_test(test_encode_points_batches),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
