/* The Prometheus / OpenMetrics exposition: the encoder (every metric type,
 * escaping, name sanitising, family grouping, the OpenMetrics variant),
 * Accept negotiation, and the /metrics server on the in-memory wire (stack
 * A serves, stack B is the client): keep-alive, pipelining, HEAD, the 4xx
 * answers, bounded request heads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oasis/metrics_prom.h"
#include "oasis/oasis.h"
#include "testutil.h"

#define SEC OASIS_NS_PER_SEC

static char *encode(const oasis_metric_point *pts, size_t n, unsigned flags)
{
    oasis_lp_buf b;
    oasis_metrics_snapshot snap = {pts, n, 0, 0};
    oasis_lp_buf_init(&b, 1 << 20, NULL, NULL);
    assert_int_equal(oasis_prom_encode(&b, &snap, NULL, flags), 0);
    char *s = malloc(b.len + 1);
    memcpy(s, b.data, b.len);
    s[b.len] = '\0';
    oasis_lp_buf_free(&b);
    return s;
}

/* ---- encoder ------------------------------------------------------------------ */

static const oasis_metric_tag tags_a[] = {{"host", "h1"}, {"stack", "a"}};
static const oasis_metric_tag tags_b[] = {{"host", "h1"}, {"stack", "b"}};

/* Every type, in text format 0.0.4, with the samples of one family (two
 * points of "tcp") together and families sorted by name. */
static void test_types_text(void **state)
{
    (void)state;
    oasis_metric_field fa[] = {
        {.key = "InSegs", .type = OASIS_METRIC_UINT, .v.u = 18446744073709551615ull, .counter = 1},
        {.key = "CurrEstab", .type = OASIS_METRIC_UINT, .v.u = 3},
        {.key = "delta", .type = OASIS_METRIC_INT, .v.i = -5},
        {.key = "ratio", .type = OASIS_METRIC_FLOAT, .v.f = 0.1},
        {.key = "up", .type = OASIS_METRIC_BOOL, .v.b = 1},
        {.key = "state", .type = OASIS_METRIC_STRING, .v.s = "ESTABLISHED"},
    };
    oasis_metric_field fb[] = {
        {.key = "InSegs", .type = OASIS_METRIC_UINT, .v.u = 7, .counter = 1},
    };
    oasis_metric_point pts[] = {
        {"tcp", tags_a, 2, fa, 6, 1},
        {"tcp", tags_b, 2, fb, 1, 1},
    };
    char *s = encode(pts, 2, 0);
    const char *want =
        "# HELP oasis_tcp_CurrEstab Oasis metric: measurement tcp, field CurrEstab\n"
        "# TYPE oasis_tcp_CurrEstab gauge\n"
        "oasis_tcp_CurrEstab{host=\"h1\",stack=\"a\"} 3\n"
        "# HELP oasis_tcp_InSegs_total Oasis metric: measurement tcp, field InSegs\n"
        "# TYPE oasis_tcp_InSegs_total counter\n"
        "oasis_tcp_InSegs_total{host=\"h1\",stack=\"a\"} 18446744073709551615\n"
        "oasis_tcp_InSegs_total{host=\"h1\",stack=\"b\"} 7\n"
        "# HELP oasis_tcp_delta Oasis metric: measurement tcp, field delta\n"
        "# TYPE oasis_tcp_delta gauge\n"
        "oasis_tcp_delta{host=\"h1\",stack=\"a\"} -5\n"
        "# HELP oasis_tcp_ratio Oasis metric: measurement tcp, field ratio\n"
        "# TYPE oasis_tcp_ratio gauge\n"
        "oasis_tcp_ratio{host=\"h1\",stack=\"a\"} 0.1\n"
        "# HELP oasis_tcp_state_info Oasis metric: measurement tcp, field state (its value is the label)\n"
        "# TYPE oasis_tcp_state_info gauge\n"
        "oasis_tcp_state_info{host=\"h1\",stack=\"a\",state=\"ESTABLISHED\"} 1\n"
        "# HELP oasis_tcp_up Oasis metric: measurement tcp, field up\n"
        "# TYPE oasis_tcp_up gauge\n"
        "oasis_tcp_up{host=\"h1\",stack=\"a\"} 1\n";
    assert_string_equal(s, want);
    free(s);
}

/* OpenMetrics: counter families without _total (samples with it), info
 * type, "# EOF" at the end. */
static void test_types_openmetrics(void **state)
{
    (void)state;
    oasis_metric_field f[] = {
        {.key = "InSegs", .type = OASIS_METRIC_UINT, .v.u = 42, .counter = 1},
        {.key = "bytes_total", .type = OASIS_METRIC_UINT, .v.u = 9, .counter = 1},
        {.key = "CurrEstab", .type = OASIS_METRIC_UINT, .v.u = 1},
        {.key = "state", .type = OASIS_METRIC_STRING, .v.s = "LISTEN"},
    };
    oasis_metric_point p = {"tcp", NULL, 0, f, 4, 1};
    char *s = encode(&p, 1, OASIS_PROM_OPENMETRICS);
    const char *want =
        "# HELP oasis_tcp_CurrEstab Oasis metric: measurement tcp, field CurrEstab\n"
        "# TYPE oasis_tcp_CurrEstab gauge\n"
        "oasis_tcp_CurrEstab 1\n"
        "# HELP oasis_tcp_InSegs Oasis metric: measurement tcp, field InSegs\n"
        "# TYPE oasis_tcp_InSegs counter\n"
        "oasis_tcp_InSegs_total 42\n"
        "# HELP oasis_tcp_bytes Oasis metric: measurement tcp, field bytes_total\n"
        "# TYPE oasis_tcp_bytes counter\n"
        "oasis_tcp_bytes_total 9\n"
        "# HELP oasis_tcp_state Oasis metric: measurement tcp, field state (its value is the label)\n"
        "# TYPE oasis_tcp_state info\n"
        "oasis_tcp_state_info{state=\"LISTEN\"} 1\n"
        "# EOF\n";
    assert_string_equal(s, want);
    free(s);
    /* The text format keeps a name that already ends in _total as it is. */
    s = encode(&p, 1, 0);
    assert_non_null(strstr(s, "# TYPE oasis_tcp_bytes_total counter\noasis_tcp_bytes_total 9\n"));
    assert_null(strstr(s, "# EOF"));
    free(s);
}

/* Label values: backslash, double quote and newline escaped; HELP: the
 * backslash and newline (and in OpenMetrics the quote). */
static void test_escaping(void **state)
{
    (void)state;
    oasis_metric_tag t[] = {{"path", "C:\\dir \"x\"\nnext"}};
    oasis_metric_field f[] = {
        {.key = "n", .type = OASIS_METRIC_UINT, .v.u = 1},
        {.key = "msg", .type = OASIS_METRIC_STRING, .v.s = "a\\b\"c"},
    };
    oasis_metric_point p = {"we\\ird\"", t, 1, f, 2, 1};
    char *s = encode(&p, 1, 0);
    assert_non_null(strstr(s, "oasis_we_ird__n{path=\"C:\\\\dir \\\"x\\\"\\nnext\"} 1\n"));
    assert_non_null(
        strstr(s, "oasis_we_ird__msg_info{path=\"C:\\\\dir \\\"x\\\"\\nnext\",msg=\"a\\\\b\\\"c\"} 1\n"));
    assert_non_null(strstr(s, "# HELP oasis_we_ird__n Oasis metric: measurement we\\\\ird\", field n\n"));
    free(s);
    s = encode(&p, 1, OASIS_PROM_OPENMETRICS);
    assert_non_null(strstr(s, "# HELP oasis_we_ird__n Oasis metric: measurement we\\\\ird\\\", field n\n"));
    free(s);
}

/* Both formats are UTF-8 (charset=utf-8 in the Content-Type), and
 * Prometheus refuses a whole scrape over one label value that is not
 * (promtool: "invalid label value"): bytes that are no UTF-8 become
 * U+FFFD, in label values, info values and HELP text; UTF-8 stays. */
static void test_not_utf8(void **state)
{
    (void)state;
    /* Latin-1, an over-long '/', a surrogate, a cut sequence; then UTF-8 */
    oasis_metric_tag t[] = {{"city", "caf\xe9|\xc0\xaf|\xed\xa0\x80|\xe2\x82"},
                            {"ok", "caf\xc3\xa9 \xf0\x9f\x98\x80"}};
    oasis_metric_field f[] = {
        {.key = "n\xff", .type = OASIS_METRIC_UINT, .v.u = 1},
        {.key = "s", .type = OASIS_METRIC_STRING, .v.s = "x\x80y"},
    };
    oasis_metric_point p = {"m\xfe", t, 2, f, 2, 1};
#define FFFD "\xef\xbf\xbd"
    const char *labels = "{city=\"caf" FFFD "|" FFFD FFFD "|" FFFD FFFD FFFD "|" FFFD FFFD
                         "\",ok=\"caf\xc3\xa9 \xf0\x9f\x98\x80\"";
    for (int om = 0; om < 2; om++) {
        char *s = encode(&p, 1, om ? OASIS_PROM_OPENMETRICS : 0);
        char want[256];
        snprintf(want, sizeof want, "oasis_m__n_%s} 1\n", labels);
        assert_non_null(strstr(s, want));
        snprintf(want, sizeof want, "oasis_m__s_info%s,s=\"x" FFFD "y\"} 1\n", labels);
        assert_non_null(strstr(s, want));
        assert_non_null(strstr(s, "measurement m" FFFD ", field n" FFFD "\n"));
        free(s);
    }
#undef FFFD
}

/* Metric and label names: invalid characters become '_', a leading digit
 * gets one in front, "__" at the start of a label loses one, labels whose
 * sanitised keys repeat are left out; prefixes are sanitised too. */
static void test_sanitising(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(oasis_prom_sanitize(out, sizeof out, "my.app-rx bytes", 0), 15);
    assert_string_equal(out, "my_app_rx_bytes");
    oasis_prom_sanitize(out, sizeof out, "9lives:x", 0);
    assert_string_equal(out, "_9lives:x");
    oasis_prom_sanitize(out, sizeof out, "a:b", 1);
    assert_string_equal(out, "a_b"); /* ':' is for metric names only */
    oasis_prom_sanitize(out, sizeof out, "__name__", 1);
    assert_string_equal(out, "_name__");
    oasis_prom_sanitize(out, sizeof out, "1x", 1);
    assert_string_equal(out, "_1x");
    oasis_prom_sanitize(out, sizeof out, "", 0);
    assert_string_equal(out, "_");
    oasis_prom_sanitize(out, sizeof out, "h\xc3\xa9", 0);
    assert_string_equal(out, "h__"); /* UTF-8 bytes too */
    assert_int_equal(oasis_prom_sanitize(out, 4, "abcdef", 0), 6);
    assert_string_equal(out, "abc");

    oasis_metric_tag t[] = {{"a.b", "1"}, {"a-b", "2"}, {"__name__", "x"}, {"0", "z"}};
    oasis_metric_field f[] = {{.key = "rx-bytes", .type = OASIS_METRIC_UINT, .v.u = 5}};
    oasis_metric_point p = {"my app", t, 4, f, 1, 1};
    oasis_lp_buf b;
    oasis_metrics_snapshot snap = {&p, 1, 0, 0};
    oasis_lp_buf_init(&b, 1 << 16, NULL, NULL);
    assert_int_equal(oasis_prom_encode(&b, &snap, "x-y.", 0), 0);
    assert_non_null(memmem(b.data, b.len, "\nx_y_my_app_rx_bytes{a_b=\"1\",_name__=\"x\",_0=\"z\"} 5\n",
                           strlen("\nx_y_my_app_rx_bytes{a_b=\"1\",_name__=\"x\",_0=\"z\"} 5\n")));
    /* A measurement that starts with the prefix does not get it twice. */
    oasis_metric_point rp = {"oasis_reporter", NULL, 0, f, 1, 1};
    snap.points = &rp;
    oasis_lp_buf_reset(&b);
    assert_int_equal(oasis_prom_encode(&b, &snap, NULL, 0), 0);
    assert_non_null(memmem(b.data, b.len, "\noasis_reporter_rx_bytes 5\n", 27));
    oasis_lp_buf_free(&b);
}

/* A family is never split, even when the points that carry it are not
 * next to each other; a string and a number under one name keep the first
 * one's type. */
static void test_grouping(void **state)
{
    (void)state;
    oasis_metric_field f1[] = {{.key = "x", .type = OASIS_METRIC_UINT, .v.u = 1}};
    oasis_metric_field f2[] = {{.key = "y", .type = OASIS_METRIC_UINT, .v.u = 2}};
    oasis_metric_field f3[] = {{.key = "x", .type = OASIS_METRIC_STRING, .v.s = "s"}};
    oasis_metric_tag t1[] = {{"k", "1"}}, t2[] = {{"k", "2"}}, t3[] = {{"k", "3"}};
    oasis_metric_point p[] = {{"m", t1, 1, f1, 1, 0}, {"m", t2, 1, f2, 1, 0}, {"m", t3, 1, f1, 1, 0},
                              {"m", t3, 1, f3, 1, 0}};
    char *s = encode(p, 4, 0);
    const char *want = "# HELP oasis_m_x Oasis metric: measurement m, field x\n"
                       "# TYPE oasis_m_x gauge\n"
                       "oasis_m_x{k=\"1\"} 1\n"
                       "oasis_m_x{k=\"3\"} 1\n"
                       "# HELP oasis_m_y Oasis metric: measurement m, field y\n"
                       "# TYPE oasis_m_y gauge\n"
                       "oasis_m_y{k=\"2\"} 2\n";
    assert_string_equal(s, want);
    free(s);
}

/* A bounded buffer: too small leaves it as it was; empty snapshot. */
static void test_bounds(void **state)
{
    (void)state;
    oasis_metric_field f[] = {{.key = "x", .type = OASIS_METRIC_UINT, .v.u = 1}};
    oasis_metric_point p = {"m", NULL, 0, f, 1, 0};
    oasis_metrics_snapshot snap = {&p, 1, 0, 0};
    oasis_lp_buf b;
    oasis_lp_buf_init(&b, 40, NULL, NULL);
    assert_int_equal(oasis_prom_encode(&b, &snap, NULL, 0), OASIS_EMSGSIZE);
    assert_int_equal(b.len, 0);
    snap.count = 0;
    assert_int_equal(oasis_prom_encode(&b, &snap, NULL, OASIS_PROM_OPENMETRICS), 0);
    assert_int_equal(b.len, 6);
    assert_memory_equal(b.data, "# EOF\n", 6);
    assert_int_equal(oasis_prom_encode(NULL, &snap, NULL, 0), OASIS_EINVAL);
    oasis_lp_buf_free(&b);
}

/* The built-in sources: counters as counters, current values as gauges. */
static void test_builtin_types(void **state)
{
    (void)state;
    oasis_counters c;
    memset(&c, 0, sizeof c);
    c.tcp.in_segs = 11;
    c.tcp.curr_estab = 2;
    oasis_metrics *m;
    oasis_metrics_snapshot snap;
    assert_int_equal(oasis_metrics_create(NULL, &m), 0);
    assert_int_equal(oasis_metrics_add_counters(m, &c, NULL, 0), 0);
    assert_int_equal(oasis_metrics_collect(m, 1, &snap), 0);
    char *s = encode(snap.points, snap.count, 0);
    assert_non_null(strstr(s, "# TYPE oasis_tcp_InSegs_total counter\noasis_tcp_InSegs_total 11\n"));
    assert_non_null(strstr(s, "# TYPE oasis_tcp_CurrEstab gauge\noasis_tcp_CurrEstab 2\n"));
    assert_non_null(strstr(s, "# TYPE oasis_tcp_CurrFlows gauge\n"));
    assert_non_null(strstr(s, "# TYPE oasis_tcp_TCPMemBytes gauge\n"));
    assert_non_null(strstr(s, "# TYPE oasis_tcp_TCPMemPeakBytes gauge\n"));
    assert_non_null(strstr(s, "# TYPE oasis_arp_CacheEntries gauge\n"));
    assert_non_null(strstr(s, "# TYPE oasis_ipv4_ReasmBytes gauge\n"));
    assert_non_null(strstr(s, "# TYPE oasis_ipv4_InReceives_total counter\n"));
    free(s);
    oasis_metrics_destroy(m);
}

static void test_negotiate(void **state)
{
    (void)state;
    /* What Prometheus 2.42 sends. */
    assert_int_equal(oasis_prom_negotiate("application/openmetrics-text;version=1.0.0,"
                                          "application/openmetrics-text;version=0.0.1;q=0.75,"
                                          "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
                     OASIS_PROM_OPENMETRICS);
    assert_int_equal(oasis_prom_negotiate(NULL), 0);
    assert_int_equal(oasis_prom_negotiate("*/*"), 0);
    assert_int_equal(oasis_prom_negotiate("text/plain"), 0);
    assert_int_equal(oasis_prom_negotiate("text/plain;q=1, application/openmetrics-text;q=0.5"), 0);
    assert_int_equal(oasis_prom_negotiate("application/openmetrics-text; q=0"), 0);
    assert_int_equal(oasis_prom_negotiate("Application/OpenMetrics-Text"), OASIS_PROM_OPENMETRICS);
    assert_int_equal(oasis_prom_negotiate("application/openmetrics-text;q=0.3,*/*;q=0.2"),
                     OASIS_PROM_OPENMETRICS);
}

/* ---- the server ---------------------------------------------------------------- */

typedef struct client {
    test_net net;
    oasis_metrics *m;
    oasis_prom_server *p;
    oasis_flow *flow;
    int connected, eof;
    char *rx;
    size_t rx_len;
    uint64_t hook_last;
    size_t hook_calls;
} client;

static void on_scrape(void *ud, uint64_t n)
{
    client *c = ud;
    c->hook_last = n;
    c->hook_calls++;
}

static void cl_read(oasis_flow *flow, int err, const uint8_t *data, size_t len, void *ud)
{
    client *c = ud;
    if (err) {
        c->eof = 1;
        return;
    }
    c->rx = realloc(c->rx, c->rx_len + len + 1);
    memcpy(c->rx + c->rx_len, data, len);
    c->rx_len += len;
    c->rx[c->rx_len] = '\0';
    assert_int_equal(oasis_tcp_read(flow, cl_read, c), 0);
}

static void cl_connected(oasis_stack *s, oasis_flow *flow, int err, void *ud)
{
    client *c = ud;
    (void)s;
    assert_int_equal(err, 0);
    c->flow = flow;
    c->connected = 1;
    assert_int_equal(oasis_tcp_read(flow, cl_read, c), 0);
}

static void run(client *c, uint64_t ns)
{
    int rc = oasis_wire_run(c->net.wire, NULL, NULL, ns);
    assert_true(rc == OASIS_ETIMEDOUT || rc == OASIS_EAGAIN);
}

static void cl_init(client *c, uint32_t max_req)
{
    memset(c, 0, sizeof *c);
    test_net_init(&c->net, NULL, NULL);
    assert_int_equal(oasis_metrics_create(NULL, &c->m), 0);
    assert_int_equal(oasis_metrics_add_stack(c->m, c->net.a, NULL, 0), 0);
    oasis_prom_config pc;
    oasis_prom_config_init(&pc);
    pc.port = 9100;
    if (max_req)
        pc.max_request_bytes = max_req;
    pc.on_scrape = on_scrape;
    pc.on_scrape_ud = c;
    assert_int_equal(oasis_prom_server_create(c->net.a, c->m, &pc, &c->p), 0);
    assert_int_equal(oasis_tcp_connect4(c->net.b, TEST_ADDR_A, 9100, NULL, cl_connected, c), 0);
    run(c, SEC);
    assert_true(c->connected);
}

static void cl_send(client *c, const char *req)
{
    c->rx_len = 0;
    if (c->rx)
        c->rx[0] = '\0';
    assert_int_equal(oasis_tcp_write(c->flow, req, strlen(req), NULL, NULL), 0);
    run(c, SEC);
}

static void cl_fini(client *c)
{
    if (!c->eof)
        oasis_tcp_abort(c->flow);
    else
        oasis_tcp_close(c->flow, NULL, NULL);
    run(c, SEC);
    oasis_prom_server_destroy(c->p);
    oasis_metrics_destroy(c->m);
    test_net_fini(&c->net);
    free(c->rx);
}

static size_t count(const char *s, const char *w)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, w)) != NULL; p += strlen(w))
        n++;
    return n;
}

/* GET /metrics: 200, the text format, the length the body has; the
 * connection stays open; two pipelined requests get two answers in order;
 * the scrape number in the body is the hook's. */
static void test_server_get_keepalive(void **state)
{
    (void)state;
    client c;
    cl_init(&c, 0);
    cl_send(&c, "GET /metrics HTTP/1.1\r\nHost: 10.0.0.1:9100\r\n\r\n");
    assert_true(strncmp(c.rx, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_non_null(strstr(c.rx, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    assert_null(strstr(c.rx, "Connection: close"));
    assert_non_null(strstr(c.rx, "\r\nDate: ")); /* RFC 9110 6.6.1 */
    assert_non_null(strstr(c.rx, " GMT\r\n"));
    const char *body = strstr(c.rx, "\r\n\r\n") + 4;
    size_t cl = strtoul(strstr(c.rx, "Content-Length: ") + 16, NULL, 10);
    assert_int_equal(cl, c.rx_len - (size_t)(body - c.rx));
    assert_non_null(strstr(body, "\noasis_tcp_InSegs_total "));
    assert_non_null(strstr(body, "\noasis_prometheus_scrapes_total 1\n"));
    assert_int_equal(c.hook_last, 1);
    assert_false(c.eof);

    cl_send(&c, "GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: application/openmetrics-text\r\n\r\n"
                "HEAD /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(count(c.rx, "HTTP/1.1 200 OK\r\n"), 2);
    const char *second = strstr(c.rx + 1, "HTTP/1.1 200 OK");
    assert_non_null(strstr(c.rx, "application/openmetrics-text; version=1.0.0; charset=utf-8"));
    assert_true(strstr(c.rx, "# EOF\n") < second);
    assert_non_null(strstr(c.rx, "\noasis_prometheus_scrapes_total 2\n"));
    /* HEAD: the head only, with the length a GET would have. */
    assert_non_null(strstr(second, "Content-Type: text/plain; version=0.0.4"));
    assert_int_equal(strlen(strstr(second, "\r\n\r\n")), 4);
    assert_int_equal(c.hook_last, 3);
    assert_int_equal(oasis_prom_server_scrapes(c.p), 3);
    assert_false(c.eof);
    cl_fini(&c);
}

static void release_flow(oasis_flow *flow, void *ud)
{
    (*(int *)ud)++;
    oasis_tcp_release(flow);
}

/* The server's connections are the library's: the application's walk
 * (tcp.h: "fn may close, abort or release any flow") does not hand them
 * out. Before, an application closing every flow it walked released the
 * server's handle under it. */
static void test_server_walk_skips_connections(void **state)
{
    (void)state;
    client c;
    cl_init(&c, 0);
    int visited = 0;
    oasis_tcp_foreach_flow(c.net.a, release_flow, &visited);
    assert_int_equal(visited, 0);
    cl_send(&c, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_true(strncmp(c.rx, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_false(c.eof);
    cl_fini(&c);
}

/* 404 and 405 keep the connection; 405 says Allow. */
static void test_server_404_405(void **state)
{
    (void)state;
    client c;
    cl_init(&c, 0);
    cl_send(&c, "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_true(strncmp(c.rx, "HTTP/1.1 404 Not Found\r\n", 24) == 0);
    cl_send(&c, "POST /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_true(strncmp(c.rx, "HTTP/1.1 405 Method Not Allowed\r\n", 33) == 0);
    assert_non_null(strstr(c.rx, "\r\nAllow: GET, HEAD\r\n"));
    assert_false(c.eof);
    cl_send(&c, "GET http://10.0.0.1:9100/metrics HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_true(strncmp(c.rx, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_int_equal(c.hook_calls, 1);
    /* HEAD of a missing path: the 404 head without its body, so that the
     * next answer on the connection starts right after it. */
    cl_send(&c, "HEAD /nope HTTP/1.1\r\nHost: a\r\n\r\nGET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_true(strncmp(c.rx, "HTTP/1.1 404 Not Found\r\n", 24) == 0);
    assert_true(strtoul(strstr(c.rx, "Content-Length: ") + 16, NULL, 10) > 0);
    assert_true(strncmp(strstr(c.rx, "\r\n\r\n") + 4, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_false(c.eof);
    cl_fini(&c);
}

/* A bad request: the answer, Connection: close, and the server closes. */
static void check_refused(const char *req, const char *status, uint32_t max_req)
{
    client c;
    cl_init(&c, max_req);
    cl_send(&c, req);
    assert_true(strncmp(c.rx, status, strlen(status)) == 0);
    assert_non_null(strstr(c.rx, "\r\nConnection: close\r\n"));
    assert_true(c.eof);
    assert_int_equal(c.hook_calls, 0);
    cl_fini(&c);
}

static void test_server_bad_requests(void **state)
{
    (void)state;
    check_refused("GET /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 400 ", 0); /* no Host */
    check_refused("GET /metrics HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "HTTP/1.1 400 ", 0);
    check_refused("GET /metrics HTTP/1.1\r\nHost : a\r\n\r\n", "HTTP/1.1 400 ", 0);
    check_refused("GET /metrics HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", "HTTP/1.1 400 ", 0);
    check_refused("GET  /metrics HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 400 ", 0);
    check_refused("GET /metrics\r\n\r\n", "HTTP/1.1 400 ", 0);
    check_refused("GET /metrics HTTP/2.0\r\nHost: a\r\n\r\n", "HTTP/1.1 505 ", 0);
    check_refused("GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
                  "HTTP/1.1 413 ", 0);
    check_refused("GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n", "HTTP/1.1 400 ", 0);
    check_refused("GET /metrics HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                  "HTTP/1.1 413 ", 0);
    /* RFC 9112 6.1: chunked not final, so the body's length cannot be
     * known: "MUST respond with the 400 (Bad Request)"; an HTTP/1.0 one
     * "MUST" be read "as if the framing is faulty", one with a Content-Length
     * too may be smuggling (6.3: "ought to be handled as an error"); a coding not
     * understood: "SHOULD respond with 501 (Not Implemented)". Before,
     * every one was 413 (and metrics_prom.h said "413 / 501"). */
    check_refused("GET /metrics HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
                  "HTTP/1.1 400 ", 0);
    check_refused("GET /metrics HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                  "HTTP/1.1 400 ", 0);
    check_refused("GET /metrics HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n",
                  "HTTP/1.1 400 ", 0);
    check_refused("GET /metrics HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n",
                  "HTTP/1.1 400 ", 0);
    check_refused("GET /metrics HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                  "HTTP/1.1 400 ", 0);
    check_refused("GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                  "HTTP/1.1 400 ", 0);
    check_refused("GET /metrics HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                  "HTTP/1.1 501 Not Implemented\r\n", 0);
    check_refused("GET /metrics HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n"
                  "Transfer-Encoding: Chunked\r\n\r\n0\r\n\r\n",
                  "HTTP/1.1 501 ", 0);
    check_refused("GET /metrics HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , chunked\r\n\r\n",
                  "HTTP/1.1 413 ", 0);
    /* A head over the bound, complete or not. */
    char big[400];
    memset(big, 'a', sizeof big);
    memcpy(big, "GET /metrics HTTP/1.1\r\nHost: a\r\nX-Pad: ", 39);
    big[sizeof big - 1] = '\0';
    check_refused(big, "HTTP/1.1 431 ", 256);
    big[sizeof big - 5] = '\r', big[sizeof big - 4] = '\n', big[sizeof big - 3] = '\r',
    big[sizeof big - 2] = '\n';
    check_refused(big, "HTTP/1.1 431 ", 256);
}

/* HTTP/1.0: close after the answer unless keep-alive is asked for; a bare
 * LF ends lines too. */
static void test_server_http10(void **state)
{
    (void)state;
    client c;
    cl_init(&c, 0);
    cl_send(&c, "GET /metrics HTTP/1.0\nConnection: keep-alive\n\n");
    assert_true(strncmp(c.rx, "HTTP/1.1 200 OK\r\n", 17) == 0);
    /* RFC 9112 9.3, C.2.2: a 1.0 client keeps the connection only when
     * the answer says keep-alive (ab -k waited for the close otherwise). */
    assert_non_null(strstr(c.rx, "\r\nConnection: keep-alive\r\n"));
    assert_false(c.eof);
    cl_send(&c, "GET /metrics HTTP/1.0\r\n\r\n");
    assert_true(strncmp(c.rx, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_non_null(strstr(c.rx, "\r\nConnection: close\r\n"));
    assert_true(c.eof);
    cl_fini(&c);
}

/* RFC 9112 2.2: empty lines before a request-line are ignored, at the
 * start of a connection and between requests on one kept alive (a client
 * may follow a request with CRLF). */
static void test_server_leading_empty_lines(void **state)
{
    (void)state;
    client c;
    cl_init(&c, 0);
    cl_send(&c, "\r\nGET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_true(strncmp(c.rx, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_false(c.eof);
    cl_send(&c, "\r\n\nGET /metrics HTTP/1.1\r\nHost: a\r\n\r\n\r\n"
                "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(count(c.rx, "HTTP/1.1 200 OK\r\n"), 2);
    assert_false(c.eof);
    assert_int_equal(c.hook_calls, 3);
    cl_fini(&c);
}

/* The server's own source counts requests, bad ones and connections. */
static void test_server_limits_and_source(void **state)
{
    (void)state;
    client c;
    cl_init(&c, 0);
    cl_send(&c, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
    cl_send(&c, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_non_null(strstr(c.rx, "\noasis_prometheus_requests_total 2\n"));
    assert_non_null(strstr(c.rx, "\noasis_prometheus_bad_requests_total 1\n"));
    assert_non_null(strstr(c.rx, "\noasis_prometheus_connections 1\n"));
    cl_fini(&c);
}

/* Every connection's flow goes back to the stack once it is over, however
 * it ended: the client closes, resets, or the server closes first; and a
 * connection over max_conns is refused without keeping its flow (a
 * long-running scrape target leaked one flow per scrape). */
static size_t server_flows(const client *c)
{
    return (size_t)oasis_stack_counters(c->net.a)->tcp.flows;
}

static void test_server_gives_flows_back(void **state)
{
    (void)state;
    client c;
    cl_init(&c, 0);
    assert_int_equal(server_flows(&c), 1);
    cl_send(&c, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
    oasis_tcp_close(c.flow, NULL, NULL); /* the client closes first */
    run(&c, 5 * SEC);
    assert_int_equal(server_flows(&c), 0);

    c.connected = c.eof = 0; /* the client resets */
    assert_int_equal(oasis_tcp_connect4(c.net.b, TEST_ADDR_A, 9100, NULL, cl_connected, &c), 0);
    run(&c, SEC);
    assert_true(c.connected);
    cl_send(&c, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
    oasis_tcp_release(c.flow);
    run(&c, 5 * SEC);
    assert_int_equal(server_flows(&c), 0);

    c.connected = c.eof = 0; /* the server closes first (HTTP/1.0) */
    assert_int_equal(oasis_tcp_connect4(c.net.b, TEST_ADDR_A, 9100, NULL, cl_connected, &c), 0);
    run(&c, SEC);
    cl_send(&c, "GET /metrics HTTP/1.0\r\n\r\n");
    assert_true(c.eof);
    oasis_tcp_close(c.flow, NULL, NULL);
    run(&c, 5 * SEC);
    assert_int_equal(server_flows(&c), 0);
    assert_int_equal(oasis_stack_counters(c.net.a)->tcp.curr_estab, 0);
    c.eof = 1;
    c.flow = NULL;
    oasis_prom_server_destroy(c.p);
    oasis_metrics_destroy(c.m);
    test_net_fini(&c.net);
    free(c.rx);
}

/* Over max_conns: the connection is refused and its flow given back; at
 * destroy, the open connections' flows are given back too. */
static void cl_idle(oasis_stack *s, oasis_flow *flow, int err, void *ud)
{
    (void)s, (void)flow, (void)err, (void)ud; /* the stack destroys it at the end */
}

static void test_server_refused_and_destroyed_flows(void **state)
{
    (void)state;
    client c;
    memset(&c, 0, sizeof c);
    test_net_init(&c.net, NULL, NULL);
    assert_int_equal(oasis_metrics_create(NULL, &c.m), 0);
    oasis_prom_config pc;
    oasis_prom_config_init(&pc);
    pc.port = 9100;
    pc.max_conns = 1;
    assert_int_equal(oasis_prom_server_create(c.net.a, c.m, &pc, &c.p), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(oasis_tcp_connect4(c.net.b, TEST_ADDR_A, 9100, NULL, cl_idle, NULL), 0);
    run(&c, 5 * SEC);
    assert_int_equal(server_flows(&c), 1); /* the one it kept */
    oasis_prom_server_destroy(c.p);
    run(&c, SEC);
    assert_int_equal(server_flows(&c), 0);
    oasis_metrics_destroy(c.m);
    test_net_fini(&c.net);
}

/* At max_conns, clients that send nothing or trickle a head do not lock a
 * scraper out: the one that has waited longest for a request is reset and
 * the newcomer answered (the eviction is counted). */
static void test_server_evicts_idle(void **state)
{
    (void)state;
    client c, idle[2];
    memset(&c, 0, sizeof c);
    memset(idle, 0, sizeof idle);
    test_net_init(&c.net, NULL, NULL);
    assert_int_equal(oasis_metrics_create(NULL, &c.m), 0);
    oasis_prom_config pc;
    oasis_prom_config_init(&pc);
    pc.port = 9100;
    pc.max_conns = 2;
    assert_int_equal(oasis_prom_server_create(c.net.a, c.m, &pc, &c.p), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(oasis_tcp_connect4(c.net.b, TEST_ADDR_A, 9100, NULL, cl_connected, &idle[i]), 0);
        run(&c, SEC);
        assert_true(idle[i].connected);
    }
    static const char part[] = "GET /metrics HTTP/1.1\r\nHost: a\r\nX-Slow: ";
    assert_int_equal(oasis_tcp_write(idle[1].flow, part, sizeof part - 1, NULL, NULL), 0);
    run(&c, 10 * SEC);
    assert_int_equal(oasis_tcp_connect4(c.net.b, TEST_ADDR_A, 9100, NULL, cl_connected, &c), 0);
    run(&c, SEC);
    assert_true(c.connected);
    cl_send(&c, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_true(c.rx && strncmp(c.rx, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_non_null(strstr(c.rx, "\noasis_prometheus_evictions_total 1\n"));
    assert_non_null(strstr(c.rx, "\noasis_prometheus_connections 2\n"));
    assert_true(idle[0].eof);  /* the longest waiting: reset */
    assert_false(idle[1].eof); /* the trickling head came later */
    for (int i = 0; i < 2; i++) {
        if (!idle[i].eof)
            oasis_tcp_abort(idle[i].flow);
        free(idle[i].rx);
    }
    cl_fini(&c);
}

/* The same for a client that pipelines requests and never reads: the
 * answer it does not take waits for ever; when no connection waits for a
 * request, the one whose answer has waited longest makes room. */
static void cl_noread(oasis_stack *s, oasis_flow *flow, int err, void *ud)
{
    (void)s;
    assert_int_equal(err, 0);
    *(oasis_flow **)ud = flow;
}

static void test_server_evicts_stuck_writer(void **state)
{
    (void)state;
    client c;
    memset(&c, 0, sizeof c);
    test_net_init(&c.net, NULL, NULL);
    assert_int_equal(oasis_metrics_create(NULL, &c.m), 0);
    assert_int_equal(oasis_metrics_add_stack(c.m, c.net.a, NULL, 0), 0); /* answers of KBs */
    oasis_prom_config pc;
    oasis_prom_config_init(&pc);
    pc.port = 9100;
    pc.max_conns = 1;
    assert_int_equal(oasis_prom_server_create(c.net.a, c.m, &pc, &c.p), 0);
    oasis_flow *x = NULL;
    assert_int_equal(oasis_tcp_connect4(c.net.b, TEST_ADDR_A, 9100, NULL, cl_noread, &x), 0);
    run(&c, SEC);
    assert_non_null(x);
    static const char one[] = "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n";
    static char many[200 * (sizeof one - 1)];
    for (size_t i = 0; i < 200; i++)
        memcpy(many + i * (sizeof one - 1), one, sizeof one - 1);
    assert_int_equal(oasis_tcp_write(x, many, sizeof many, NULL, NULL), 0);
    run(&c, 5 * SEC);
    assert_int_equal(oasis_tcp_connect4(c.net.b, TEST_ADDR_A, 9100, NULL, cl_connected, &c), 0);
    run(&c, SEC);
    assert_true(c.connected);
    cl_send(&c, one);
    assert_true(c.rx && strncmp(c.rx, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_non_null(strstr(c.rx, "\noasis_prometheus_evictions_total 1\n"));
    oasis_tcp_abort(x);
    cl_fini(&c);
}

/* idle_timeout_ns: a client that scrapes more often stays; one whose head
 * trickles in, or that sends nothing, is reset once it has waited that long
 * for its request (counted as a timeout); with 0 nobody is. */
static void test_server_idle_timeout(void **state)
{
    (void)state;
    for (int never = 0; never <= 1; never++) {
        client c, slow, mute;
        memset(&c, 0, sizeof c);
        memset(&slow, 0, sizeof slow);
        memset(&mute, 0, sizeof mute);
        test_net_init(&c.net, NULL, NULL);
        assert_int_equal(oasis_metrics_create(NULL, &c.m), 0);
        oasis_prom_config pc;
        oasis_prom_config_init(&pc);
        assert_int_equal(pc.idle_timeout_ns, 300 * SEC);
        pc.port = 9100;
        pc.idle_timeout_ns = never ? 0 : 10 * SEC;
        assert_int_equal(oasis_prom_server_create(c.net.a, c.m, &pc, &c.p), 0);
        client *cl[3] = {&c, &slow, &mute};
        for (int i = 0; i < 3; i++) {
            assert_int_equal(oasis_tcp_connect4(c.net.b, TEST_ADDR_A, 9100, NULL, cl_connected, cl[i]), 0);
            run(&c, SEC);
            assert_true(cl[i]->connected);
        }
        static const char part[] = "GET /metrics HTTP/1.1\r\nHost: a\r\n";
        for (int t = 0; t < 6; t++) { /* 6 x 4 s: a header line every 4 s */
            /* (once reset, a write without callback says so) */
            assert_int_equal(oasis_tcp_write(slow.flow, part + (t ? 23 : 0), t ? 9 : 23, NULL, NULL),
                             slow.eof ? OASIS_ECLOSED : 0);
            cl_send(&c, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
            assert_true(c.rx && strncmp(c.rx, "HTTP/1.1 200 OK\r\n", 17) == 0);
            run(&c, 3 * SEC);
            if (t == 0) { /* 7 s after the first connect */
                assert_false(slow.eof);
                assert_false(mute.eof);
            }
        }
        assert_false(c.eof); /* the scraper: never waited 10 s */
        assert_int_equal(slow.eof, !never);
        assert_int_equal(mute.eof, !never);
        cl_send(&c, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_non_null(strstr(c.rx, never ? "\noasis_prometheus_timeouts_total 0\n"
                                           : "\noasis_prometheus_timeouts_total 2\n"));
        assert_non_null(strstr(c.rx, never ? "\noasis_prometheus_connections 3\n"
                                           : "\noasis_prometheus_connections 1\n"));
        for (int i = 1; i < 3; i++) {
            if (!cl[i]->eof)
                oasis_tcp_abort(cl[i]->flow);
            free(cl[i]->rx);
        }
        cl_fini(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types_text),
        cmocka_unit_test(test_types_openmetrics),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_not_utf8),
        cmocka_unit_test(test_sanitising),
        cmocka_unit_test(test_grouping),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_builtin_types),
        cmocka_unit_test(test_negotiate),
        cmocka_unit_test(test_server_get_keepalive),
        cmocka_unit_test(test_server_walk_skips_connections),
        cmocka_unit_test(test_server_404_405),
        cmocka_unit_test(test_server_bad_requests),
        cmocka_unit_test(test_server_http10),
        cmocka_unit_test(test_server_leading_empty_lines),
        cmocka_unit_test(test_server_limits_and_source),
        cmocka_unit_test(test_server_gives_flows_back),
        cmocka_unit_test(test_server_refused_and_destroyed_flows),
        cmocka_unit_test(test_server_evicts_idle),
        cmocka_unit_test(test_server_evicts_stuck_writer),
        cmocka_unit_test(test_server_idle_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
