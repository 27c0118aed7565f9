/* The reporter's InfluxDB 2.x request on the in-memory wire (stack A
 * reports, stack B is a fake /api/v2/write): the request line and query
 * string, the token header, 1.x basic authentication, and gzip bodies made
 * by the tool's zlib function, inflated here and compared with the lines.
 * Also the URL forms. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "oasis/metrics_reporter.h"
#include "oasis/oasis.h"
#include "report.h"
#include "testutil.h"

#define SEC OASIS_NS_PER_SEC

typedef struct sink {
    test_net net;
    oasis_flow *flow;
    char *rx;
    size_t rx_len;
    char head[4096];
    char *body;
    size_t body_len;
    int nreq;
} sink;

static int starts_with(const char *s, const char *w) { return strncmp(s, w, strlen(w)) == 0; }

/* Point timestamps from the test, not the wall clock: runs compare equal. */
static uint64_t fixed_unix(void *ud)
{
    (void)ud;
    return 1700000000ull * SEC;
}

static size_t head_end(const char *b, size_t n)
{
    for (size_t i = 0; i + 3 < n; i++)
        if (memcmp(b + i, "\r\n\r\n", 4) == 0)
            return i + 4;
    return 0;
}

/* Keeps the first request (head and body) and answers every one 204. */
static void sk_read(oasis_flow *flow, int err, const uint8_t *data, size_t len, void *ud)
{
    sink *k = ud;
    if (err)
        return;
    k->rx = realloc(k->rx, k->rx_len + len + 1);
    memcpy(k->rx + k->rx_len, data, len);
    k->rx_len += len;
    k->rx[k->rx_len] = '\0';
    size_t he;
    while ((he = head_end(k->rx, k->rx_len)) != 0) {
        const char *cl = strstr(k->rx, "\r\nContent-Length: ");
        assert_non_null(cl);
        size_t bl = strtoul(cl + 18, NULL, 10);
        if (k->rx_len < he + bl)
            break;
        if (k->nreq++ == 0) {
            assert_true(he < sizeof k->head);
            memcpy(k->head, k->rx, he);
            k->head[he] = '\0';
            k->body = malloc(bl);
            memcpy(k->body, k->rx + he, bl);
            k->body_len = bl;
        }
        memmove(k->rx, k->rx + he + bl, k->rx_len - he - bl);
        k->rx_len -= he + bl;
        static const char ok[] = "HTTP/1.1 204 No Content\r\n\r\n";
        assert_int_equal(oasis_tcp_write(flow, ok, strlen(ok), NULL, NULL), 0);
    }
    assert_int_equal(oasis_tcp_read(flow, sk_read, k), 0);
}

static void sk_accept(oasis_stack *s, oasis_flow *flow, void *ud)
{
    sink *k = ud;
    (void)s;
    k->flow = flow;
    assert_int_equal(oasis_tcp_read(flow, sk_read, k), 0);
}

/* Runs a reporter with cfg (addr/port filled in) for 1.5 intervals. */
static void report_once(sink *k, oasis_reporter_config *cfg)
{
    oasis_metrics *m;
    oasis_reporter *r;
    memset(k, 0, sizeof *k);
    test_net_init(&k->net, NULL, NULL);
    assert_int_equal(oasis_tcp_listen(k->net.b, 8086, NULL, sk_accept, k), 0);
    assert_int_equal(oasis_metrics_create(NULL, &m), 0);
    assert_int_equal(oasis_metrics_add_stack(m, k->net.a, NULL, 0), 0);
    cfg->addr = TEST_ADDR_B;
    cfg->port = 8086;
    cfg->interval_ns = SEC;
    cfg->host_tag = "h1";
    cfg->unix_time_ns = fixed_unix;
    assert_int_equal(oasis_reporter_create(k->net.a, m, cfg, &r), 0);
    int rc = oasis_wire_run(k->net.wire, NULL, NULL, SEC + SEC / 2);
    assert_true(rc == OASIS_ETIMEDOUT || rc == OASIS_EAGAIN);
    assert_int_equal(k->nreq, 1);
    oasis_reporter_stats st;
    oasis_reporter_get_stats(r, &st);
    assert_int_equal(st.batches_sent, 1);
    assert_int_equal(st.last_status, 204);
    oasis_reporter_destroy(r);
    oasis_metrics_destroy(m);
}

static void sink_fini(sink *k)
{
    test_net_fini(&k->net);
    free(k->rx);
    free(k->body);
}

/* The v2 request: path, query string (precision added), token header. */
static void test_v2_request(void **state)
{
    (void)state;
    sink k;
    oasis_reporter_config cfg;
    oasis_reporter_config_init(&cfg);
    assert_int_equal(oasis_reporter_parse_url("http://10.0.0.2:8086/api/v2/write?org=my-org&bucket=b%2F1",
                                              &cfg, NULL, 0),
                     0);
    assert_int_equal(cfg.proto, OASIS_REPORTER_HTTP_V2);
    char token[] = "s3cr3t-T0ken==";
    cfg.token = token;
    report_once(&k, &cfg);
    token[0] = 'X'; /* the reporter copied it */
    assert_true(starts_with(k.head, "POST /api/v2/write?org=my-org&bucket=b%2F1&precision=ns "
                                    "HTTP/1.1\r\n"));
    assert_non_null(strstr(k.head, "\r\nAuthorization: Token s3cr3t-T0ken==\r\n"));
    assert_non_null(strstr(k.head, "\r\nHost: 10.0.0.2:8086\r\n"));
    assert_null(strstr(k.head, "Content-Encoding"));
    assert_non_null(memmem(k.body, k.body_len, "tcp,host=h1 ActiveOpens=", 24));
    sink_fini(&k);

    /* precision=ns given: not added twice. */
    oasis_reporter_config_init(&cfg);
    assert_int_equal(oasis_reporter_parse_url(
                         "http://10.0.0.2/api/v2/write?bucket=b&precision=ns&org=o", &cfg, NULL, 0),
                     0);
    report_once(&k, &cfg);
    assert_true(starts_with(k.head, "POST /api/v2/write?bucket=b&precision=ns&org=o HTTP/1.1\r\n"));
    assert_null(strstr(k.head, "Authorization"));
    sink_fini(&k);
}

/* 1.x basic authentication: Authorization: Basic base64(user:password). */
static void test_basic_auth(void **state)
{
    (void)state;
    sink k;
    oasis_reporter_config cfg;
    oasis_reporter_config_init(&cfg);
    assert_int_equal(oasis_reporter_parse_url("http://10.0.0.2:8086/oasis", &cfg, NULL, 0), 0);
    cfg.username = "Aladdin";
    cfg.password = "open sesame";
    report_once(&k, &cfg);
    assert_true(starts_with(k.head, "POST /write?db=oasis&precision=ns HTTP/1.1\r\n"));
    /* RFC 7617's example. */
    assert_non_null(strstr(k.head, "\r\nAuthorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n"));
    sink_fini(&k);

    /* The longest credentials create takes (1024 characters each) go whole:
     * base64 of 2049 bytes is 2732 characters (before, cut at 1500: every
     * request failed authentication). */
    static char user[1025], pass[1025], want[2800];
    memset(user, 'u', 1024);
    memset(pass, 'p', 1024);
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char up[2050];
    snprintf(up, sizeof up, "%s:%s", user, pass);
    size_t o = (size_t)snprintf(want, sizeof want, "\r\nAuthorization: Basic ");
    for (size_t i = 0; i < 2049; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)up[i] << 16;
        v |= i + 1 < 2049 ? (uint32_t)(unsigned char)up[i + 1] << 8 : 0;
        v |= i + 2 < 2049 ? (unsigned char)up[i + 2] : 0;
        want[o++] = b64[v >> 18 & 63];
        want[o++] = b64[v >> 12 & 63];
        want[o++] = i + 1 < 2049 ? b64[v >> 6 & 63] : '=';
        want[o++] = i + 2 < 2049 ? b64[v & 63] : '=';
    }
    snprintf(want + o, sizeof want - o, "\r\n");
    assert_int_equal(o, 23 + 2732);
    oasis_reporter_config_init(&cfg);
    assert_int_equal(oasis_reporter_parse_url("http://10.0.0.2:8086/oasis", &cfg, NULL, 0), 0);
    cfg.username = user;
    cfg.password = pass;
    report_once(&k, &cfg);
    assert_non_null(strstr(k.head, want));
    sink_fini(&k);
}

static char *inflate_gzip(const char *in, size_t len, size_t *out_len)
{
    z_stream z = {0};
    size_t cap = 1 << 20;
    char *out = malloc(cap);
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK); /* gzip only */
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.avail_in, 0);
    *out_len = z.total_out;
    inflateEnd(&z);
    return out;
}

/* gzip: the tool's function, Content-Encoding: gzip, a body shorter than
 * the lines, which inflate back to exactly the lines an uncompressed run
 * sends (same virtual clock, same counters). */
static void test_gzip_round_trip(void **state)
{
    (void)state;
    sink plain, z;
    oasis_reporter_config cfg;
    oasis_reporter_config_init(&cfg);
    assert_int_equal(oasis_reporter_parse_url("http://10.0.0.2/api/v2/write?org=o&bucket=b", &cfg,
                                              NULL, 0),
                     0);
    report_once(&plain, &cfg);
    cfg.gzip = report_gzip;
    report_once(&z, &cfg);
    assert_non_null(strstr(z.head, "\r\nContent-Encoding: gzip\r\n"));
    assert_true(z.body_len < plain.body_len);
    assert_int_equal((unsigned char)z.body[0], 0x1f); /* RFC 1952 magic */
    assert_int_equal((unsigned char)z.body[1], 0x8b);
    size_t n;
    char *lines = inflate_gzip(z.body, z.body_len, &n);
    assert_int_equal(n, plain.body_len);
    assert_memory_equal(lines, plain.body, n);
    free(lines);
    sink_fini(&plain);
    sink_fini(&z);
}

/* A body gzip cannot shorten goes as it is. */
static size_t never_shorter(void *ud, const void *in, size_t len, void *out, size_t cap)
{
    (void)ud, (void)in, (void)out, (void)cap;
    return len + 1;
}

static void test_gzip_only_when_shorter(void **state)
{
    (void)state;
    sink k;
    oasis_reporter_config cfg;
    oasis_reporter_config_init(&cfg);
    assert_int_equal(oasis_reporter_parse_url("http://10.0.0.2/api/v2/write?org=o&bucket=b", &cfg,
                                              NULL, 0),
                     0);
    cfg.gzip = never_shorter;
    report_once(&k, &cfg);
    assert_null(strstr(k.head, "Content-Encoding"));
    sink_fini(&k);
    /* The tool's function on a tiny input: gzip's header makes it longer. */
    char out[256];
    size_t n = report_gzip(NULL, "a", 1, out, sizeof out);
    assert_true(n > 1);
    assert_int_equal(report_gzip(NULL, "abcdefgh", 8, out, 4), 0); /* does not fit */
}

static void test_v2_urls(void **state)
{
    (void)state;
    oasis_reporter_config cfg;
    char err[256];
    static const char *const bad[] = {
        "http://10.0.0.2/api/v2/write",                       /* no query */
        "http://10.0.0.2/api/v2/write?org=o",                 /* no bucket */
        "http://10.0.0.2/api/v2/write?bucket=b",              /* no org */
        "http://10.0.0.2/api/v2/write?org=o&bucket=b&x=1",    /* unknown */
        "http://10.0.0.2/api/v2/write?org=o&org=p&bucket=b",  /* twice */
        "http://10.0.0.2/api/v2/write?org=o&bucket=b&precision=s",
        "http://10.0.0.2/api/v2/write?org=o o&bucket=b",
        "http://10.0.0.2/api/v2/write?org=%4&bucket=b",
        "http://10.0.0.2/api/v2/write?org=%zz&bucket=b",
        "http://10.0.0.2/api/v2/write?org=&bucket=b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        oasis_reporter_config_init(&cfg);
        assert_int_equal(oasis_reporter_parse_url(bad[i], &cfg, err, sizeof err), OASIS_EINVAL);
        assert_non_null(strstr(err, "/api/v2/write?org=ORG&bucket=BUCKET"));
    }
    oasis_reporter_config_init(&cfg);
    assert_int_equal(oasis_reporter_parse_url("http://10.1.2.3:8428/api/v2/write?org=o&bucket=b", &cfg,
                                              err, sizeof err),
                     0);
    assert_int_equal(cfg.port, 8428);
    assert_string_equal(cfg.v2_query, "org=o&bucket=b");
    /* Secrets must be one printable line; a user name without ':'. */
    cfg.token = "a\r\nX-Evil: 1";
    oasis_reporter *r;
    oasis_metrics *m;
    test_net tn;
    test_net_init(&tn, NULL, NULL);
    assert_int_equal(oasis_metrics_create(NULL, &m), 0);
    assert_int_equal(oasis_reporter_create(tn.a, m, &cfg, &r), OASIS_EINVAL);
    cfg.token = NULL;
    oasis_reporter_config_init(&cfg);
    assert_int_equal(oasis_reporter_parse_url("http://10.1.2.3/db", &cfg, NULL, 0), 0);
    cfg.username = "a:b";
    cfg.password = "p";
    assert_int_equal(oasis_reporter_create(tn.a, m, &cfg, &r), OASIS_EINVAL);
    cfg.username = "a";
    cfg.password = NULL;
    assert_int_equal(oasis_reporter_create(tn.a, m, &cfg, &r), OASIS_EINVAL);
    oasis_metrics_destroy(m);
    test_net_fini(&tn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v2_request),
        cmocka_unit_test(test_basic_auth),
        cmocka_unit_test(test_gzip_round_trip),
        cmocka_unit_test(test_gzip_only_when_shorter),
        cmocka_unit_test(test_v2_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
