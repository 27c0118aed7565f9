/* The CLI's parsers without a network: HTTP heads, chunked bodies, URLs,
 * sizes, keepalive triples and the test pattern. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <net/if.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "http.h"

#define HEAD(s) (s), strlen(s)

static void head_end(void **state)
{
    (void)state;
    assert_int_equal(http_head_end(HEAD("GET / HTTP/1.1\r\nHost: x\r\n")), 0);
    assert_int_equal(http_head_end(HEAD("GET / HTTP/1.1\r\n\r\nrest")), 18);
    assert_int_equal(http_head_end(HEAD("GET / HTTP/1.1\n\nrest")), 16);
    static char big[3 * HTTP_MAX_HEAD];
    memset(big, 'a', sizeof big);
    assert_int_equal(http_head_end(big, HTTP_MAX_HEAD + 10), -1);
    /* A head that ends only past HTTP_MAX_HEAD is too large, however much
     * was read; one that ends before it stands, whatever follows it. */
    memcpy(big + HTTP_MAX_HEAD + 100, "\r\n\r\n", 4);
    assert_int_equal(http_head_end(big, sizeof big), -1);
    memcpy(big, "GET / HTTP/1.1\r\n\r\n", 18);
    assert_int_equal(http_head_end(big, sizeof big), 18);
}

/* RFC 9112 2.2: empty lines where a request line is due are skipped; a
 * CR whose LF has not come yet waits. */
static void empty_lines(void **state)
{
    (void)state;
    assert_int_equal(http_empty_lines(HEAD("GET / HTTP/1.1\r\n")), 0);
    assert_int_equal(http_empty_lines(HEAD("\r\nGET / HTTP/1.1\r\n")), 2);
    assert_int_equal(http_empty_lines(HEAD("\r\n\n\r\nGET")), 5);
    assert_int_equal(http_empty_lines(HEAD("\r\n\r")), 2);
    assert_int_equal(http_empty_lines(HEAD("\rGET")), 0);
    assert_int_equal(http_empty_lines(HEAD("")), 0);
}

static void request(void **state)
{
    http_request r;
    (void)state;
    assert_int_equal(http_parse_request(HEAD("GET /bytes/10?x=1 HTTP/1.1\r\nHost: a\r\n\r\n"), &r), 0);
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.path, "/bytes/10");
    assert_int_equal(r.keep_alive, 1);
    assert_int_equal(http_parse_request(HEAD("GET /a%20b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"), &r), 0);
    assert_string_equal(r.path, "/a b");
    assert_int_equal(r.keep_alive, 0);
    assert_int_equal(http_parse_request(HEAD("GET / HTTP/1.0\r\n\r\n"), &r), 0);
    assert_int_equal(r.keep_alive, 0);
    assert_int_equal(http_parse_request(HEAD("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), &r), 0);
    assert_int_equal(r.keep_alive, 1);
    assert_int_equal(http_parse_request(HEAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"), &r), 0);
    assert_int_equal(r.content_length, 5);
}

static void request_errors(void **state)
{
    http_request r;
    (void)state;
    assert_int_equal(http_parse_request(HEAD("GET /\r\n\r\n"), &r), 400);
    assert_int_equal(http_parse_request(HEAD("GET x HTTP/1.1\r\nHost: a\r\n\r\n"), &r), 400);
    assert_int_equal(http_parse_request(HEAD("GET / HTTP/2.0\r\n\r\n"), &r), 505);
    assert_int_equal(http_parse_request(HEAD("GET /%00 HTTP/1.1\r\nHost: a\r\n\r\n"), &r), 400);
    assert_int_equal(http_parse_request(HEAD("GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n"), &r), 400);
    assert_int_equal(http_parse_request(HEAD("GET / HTTP/1.1\r\nHost: a\r\nbad header\r\n\r\n"), &r), 400);
    assert_int_equal(http_parse_request(HEAD("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), &r), 400);
    assert_int_equal(http_parse_request(HEAD("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), &r), 400);
    assert_int_equal(http_parse_request(HEAD("GETTOOLONGMETHODNAME / HTTP/1.1\r\nHost: a\r\n\r\n"), &r), 400);
}

/* RFC 9112 6.1 and 6.3: chunked frames a request body only as the final
 * coding, listed once, in HTTP/1.1, without a Content-Length; a coding we
 * do not know before it is 501; any other framing is 400. */
static void request_transfer_codings(void **state)
{
    http_request r;
    (void)state;
    assert_int_equal(http_parse_request(HEAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), &r), 0);
    assert_int_equal(r.chunked, 1);
    assert_int_equal(r.content_length, 0);
    assert_int_equal(http_parse_request(HEAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ChunKed \r\n\r\n"), &r), 0);
    assert_int_equal(r.chunked, 1);
    assert_int_equal(http_parse_request(HEAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,chunked,\r\n\r\n"), &r), 0);
    assert_int_equal(http_parse_request(HEAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n"), &r), 0);
    assert_int_equal(r.chunked, 0);
    assert_int_equal(r.content_length, 3);
    /* chunked after a coding we do not know */
    assert_int_equal(http_parse_request(HEAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), &r), 501);
    assert_int_equal(http_parse_request(HEAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"), &r), 501);
    /* the length cannot be known */
    assert_int_equal(http_parse_request(HEAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"), &r), 400);
    assert_int_equal(http_parse_request(HEAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), &r), 400);
    assert_int_equal(http_parse_request(HEAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"), &r), 400);
    assert_int_equal(http_parse_request(HEAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n"), &r), 400);
    /* smuggling's shape, and HTTP/1.0 (no transfer codings) */
    assert_int_equal(http_parse_request(HEAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"), &r), 400);
    assert_int_equal(http_parse_request(HEAD("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), &r), 400);
}

static void response(void **state)
{
    http_response r;
    (void)state;
    assert_int_equal(http_parse_response(HEAD("HTTP/1.0 200 OK\r\nContent-Length: 12\r\n\r\n"), &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.content_length, 12);
    assert_int_equal(r.keep_alive, 0);
    assert_int_equal(http_parse_response(HEAD("HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n"), &r), 0);
    assert_int_equal(r.status, 404);
    assert_int_equal(r.chunked, 1);
    assert_int_equal(r.content_length, -1);
    assert_int_equal(http_parse_response(HEAD("HTTP/1.1 2x0 OK\r\n\r\n"), &r), -1);
    /* RFC 9112 4: exactly three digits, then SP; a bare code is taken */
    assert_int_equal(http_parse_response(HEAD("HTTP/1.1 2001 OK\r\n\r\n"), &r), -1);
    assert_int_equal(http_parse_response(HEAD("HTTP/1.1 204\r\n\r\n"), &r), 0);
    assert_int_equal(r.status, 204);
    assert_int_equal(http_parse_response(HEAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), &r), -1);
}

typedef struct sink {
    char buf[256];
    size_t len;
} sink;

static void collect(void *ud, const uint8_t *data, size_t len)
{
    sink *s = ud;
    memcpy(s->buf + s->len, data, len);
    s->len += len;
}

static void chunked(void **state)
{
    static const char body[] = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\nNEXT";
    (void)state;
    /* Whole, then one byte at a time: the same result. */
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        http_chunked d;
        sink s = {{0}, 0};
        size_t used = 0, n = strlen(body);
        http_chunked_init(&d);
        while (used < n && !http_chunked_done(&d)) {
            size_t step = bytewise ? 1 : n - used;
            long r = http_chunked_feed(&d, (const uint8_t *)body + used, step, collect, &s);
            assert_true(r >= 0);
            used += (size_t)r;
        }
        assert_true(http_chunked_done(&d));
        assert_int_equal(s.len, 12);
        assert_memory_equal(s.buf, "hello, world", 12);
        assert_string_equal(body + used, "NEXT");
    }
    http_chunked d;
    sink s = {{0}, 0};
    http_chunked_init(&d);
    assert_int_equal(http_chunked_feed(&d, (const uint8_t *)"zz\r\n", 4, collect, &s), -1);
    http_chunked_init(&d);
    assert_int_equal(http_chunked_feed(&d, (const uint8_t *)"1\r\nab", 5, collect, &s), -1);
    http_chunked_init(&d);
    assert_int_equal(http_chunked_feed(&d, (const uint8_t *)"ffffffffffffffff\r\n", 18, collect, &s), -1);
}

static void urls(void **state)
{
    uint32_t a;
    uint16_t p;
    const char *path;
    (void)state;
    assert_int_equal(http_parse_url("http://10.77.0.1:8000/big.bin", &a, &p, &path), 0);
    assert_int_equal(a, OASIS_IPV4(10, 77, 0, 1));
    assert_int_equal(p, 8000);
    assert_string_equal(path, "/big.bin");
    assert_int_equal(http_parse_url("http://10.77.0.1", &a, &p, &path), 0);
    assert_int_equal(p, 80);
    assert_string_equal(path, "/");
    assert_int_equal(http_parse_url("https://10.77.0.1/", &a, &p, &path), -1);
    assert_int_equal(http_parse_url("http://example.com/", &a, &p, &path), -1);
    assert_int_equal(http_parse_url("http://10.77.0.1:0/", &a, &p, &path), -1);
    assert_int_equal(http_parse_url("http://10.77.0.1:65536/", &a, &p, &path), -1);
    assert_int_equal(http_parse_url("http://10.77.0.1:/", &a, &p, &path), -1);
}

static void arguments(void **state)
{
    uint64_t v;
    oasis_keepalive ka;
    (void)state;
    assert_int_equal(parse_size("1G", &v), 0);
    assert_int_equal(v, 1ull << 30);
    assert_int_equal(parse_size("64k", &v), 0);
    assert_int_equal(v, 65536);
    assert_int_equal(parse_size("", &v), -1);
    assert_int_equal(parse_size("1X", &v), -1);
    assert_int_equal(parse_size("99999999999999999999", &v), -1);
    assert_int_equal(parse_size("9999999999T", &v), -1);
    assert_int_equal(parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
    assert_int_equal(parse_u64("18446744073709551616", UINT64_MAX, &v), -1);
    assert_int_equal(parse_keepalive("1,0.5,3", &ka), 0);
    assert_int_equal(ka.after_ns, OASIS_NS_PER_SEC);
    assert_int_equal(ka.interval_ns, OASIS_NS_PER_SEC / 2);
    assert_int_equal(ka.probes, 3);
    assert_int_equal(parse_keepalive("1,1", &ka), -1);
    assert_int_equal(parse_keepalive("1,1,0", &ka), -1);
    assert_int_equal(parse_keepalive("1,0,3", &ka), -1);
    assert_int_equal(parse_keepalive("-1,1,3", &ka), -1);
}

static void pattern_bytes(void **state)
{
    static pattern p;
    uint8_t buf[300];
    (void)state;
    pattern_init(&p);
    /* Any window equals the formula, across a 64 KiB block boundary too. */
    uint64_t offs[] = {0, 250, 65536 - 100, 3u << 20, (1ull << 30) - 7};
    for (size_t k = 0; k < sizeof offs / sizeof offs[0]; k++) {
        pattern_fill(&p, offs[k], buf, sizeof buf);
        for (size_t i = 0; i < sizeof buf; i++) {
            uint64_t x = offs[k] + i;
            assert_int_equal(buf[i], (uint8_t)(x % 251 + x / 65536));
        }
    }
}

/* Issue 12: the request line has exactly three fields; a version that is
 * not one is 400, another major version 505. */
static void request_line_fields(void **state)
{
    http_request r;
    (void)state;
    assert_int_equal(http_parse_request(HEAD("GET / HTTP/1.1 extra\r\n\r\n"), &r), 400);
    assert_int_equal(http_parse_request(HEAD("GET / HTTP/1.1 \r\n\r\n"), &r), 400);
    assert_int_equal(http_parse_request(HEAD("GET / FOO\r\n\r\n"), &r), 400);
    assert_int_equal(http_parse_request(HEAD("GET / HTTP/3.0\r\n\r\n"), &r), 505);
    assert_int_equal(http_parse_request(HEAD("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), &r), 0);
}

/* RFC 9112 3.2: Host is required in HTTP/1.1, once, naming a host; 5.1:
 * no whitespace (nor anything but a token) before a field's colon; 3.2.2:
 * the absolute-form is accepted, its path served. */
static void request_host_and_names(void **state)
{
    http_request r;
    (void)state;
    assert_int_equal(http_parse_request(HEAD("GET / HTTP/1.1\r\n\r\n"), &r), 400);
    assert_int_equal(http_parse_request(HEAD("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), &r), 400);
    assert_int_equal(http_parse_request(HEAD("GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n"), &r), 400);
    assert_int_equal(http_parse_request(HEAD("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), &r), 400);
    assert_int_equal(http_parse_request(HEAD("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), &r), 400);
    assert_int_equal(http_parse_request(HEAD("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"), &r), 0);
    assert_int_equal(http_parse_request(HEAD("GET / HTTP/1.1\r\nHost:\r\n\r\n"), &r), 0);
    assert_int_equal(http_parse_request(HEAD("GET / HTTP/1.0\r\n\r\n"), &r), 0);
    assert_int_equal(http_parse_request(HEAD("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), &r), 400);
    assert_int_equal(
        http_parse_request(HEAD("GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n"), &r), 400);
    assert_int_equal(http_parse_request(HEAD("GET / HTTP/1.1\r\nHost: a\r\nX\tY: 1\r\n\r\n"), &r), 400);
    assert_int_equal(http_parse_request(HEAD("GET / HTTP/1.1\r\nHost: a\r\nX(: 1\r\n\r\n"), &r), 400);
    assert_int_equal(http_parse_request(HEAD("GET / HTTP/1.1\r\nHost: a\r\nX-Odd_Name~!: 1\r\n\r\n"), &r), 0);
    assert_int_equal(http_parse_request(HEAD("GET http://o:80/bytes/5?q HTTP/1.1\r\nHost: o\r\n\r\n"), &r), 0);
    assert_string_equal(r.path, "/bytes/5");
    assert_int_equal(http_parse_request(HEAD("GET HTTP://o HTTP/1.1\r\nHost: o\r\n\r\n"), &r), 0);
    assert_string_equal(r.path, "/");
    assert_int_equal(http_parse_request(HEAD("GET https://o?x HTTP/1.1\r\nHost: o\r\n\r\n"), &r), 0);
    assert_string_equal(r.path, "/");
    assert_int_equal(http_parse_request(HEAD("GET http:///x HTTP/1.1\r\nHost: o\r\n\r\n"), &r), 400);
    assert_int_equal(http_parse_request(HEAD("GET ftp://o/x HTTP/1.1\r\nHost: o\r\n\r\n"), &r), 400);
    /* Responses keep their lenient reading (oasis get). */
    http_response rs;
    assert_int_equal(http_parse_response(HEAD("HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n"), &rs), 0);
}

/* Issue 12: one byte range (RFC 9110 14.1.2) and how it resolves. */
static void ranges(void **state)
{
    http_request r;
    uint64_t off = 0, n = 0;
    (void)state;
    assert_int_equal(http_parse_request(HEAD("GET /f HTTP/1.1\r\nHost: a\r\nRange: bytes=10-19\r\n\r\n"), &r), 0);
    assert_int_equal(r.has_range, 1);
    assert_int_equal(http_resolve_range(&r, 100, &off, &n), 0);
    assert_int_equal(off, 10);
    assert_int_equal(n, 10);
    assert_int_equal(http_resolve_range(&r, 15, &off, &n), 0); /* clipped to the end */
    assert_int_equal(off, 10);
    assert_int_equal(n, 5);
    assert_int_equal(http_resolve_range(&r, 10, &off, &n), -1); /* 416 */
    assert_int_equal(http_parse_request(HEAD("GET /f HTTP/1.1\r\nHost: a\r\nrange: bytes=90-\r\n\r\n"), &r), 0);
    assert_int_equal(http_resolve_range(&r, 100, &off, &n), 0);
    assert_int_equal(off, 90);
    assert_int_equal(n, 10);
    assert_int_equal(http_parse_request(HEAD("GET /f HTTP/1.1\r\nHost: a\r\nRange: bytes=-30\r\n\r\n"), &r), 0);
    assert_int_equal(http_resolve_range(&r, 100, &off, &n), 0);
    assert_int_equal(off, 70);
    assert_int_equal(n, 30);
    assert_int_equal(http_resolve_range(&r, 20, &off, &n), 0); /* longer than the body */
    assert_int_equal(off, 0);
    assert_int_equal(n, 20);
    assert_int_equal(http_parse_request(HEAD("GET /f HTTP/1.1\r\nHost: a\r\nRange: bytes=-0\r\n\r\n"), &r), 0);
    assert_int_equal(http_resolve_range(&r, 100, &off, &n), -1);
    /* Ignored (whole body): several ranges, bad syntax, other units, If-Range. */
    static const char *const ignored[] = {
        "GET /f HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1,5-6\r\n\r\n",
        "GET /f HTTP/1.1\r\nHost: a\r\nRange: bytes=5-1\r\n\r\n",
        "GET /f HTTP/1.1\r\nHost: a\r\nRange: bytes=x-\r\n\r\n",
        "GET /f HTTP/1.1\r\nHost: a\r\nRange: items=0-1\r\n\r\n",
        "GET /f HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\nIf-Range: \"x\"\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++) {
        assert_int_equal(http_parse_request(HEAD(ignored[i]), &r), 0);
        assert_int_equal(http_resolve_range(&r, 100, &off, &n), 1);
    }
}

/* Issue 12: redirects for `oasis get`. */
static void redirects(void **state)
{
    http_response r;
    char out[256];
    (void)state;
    assert_int_equal(http_parse_response(HEAD("HTTP/1.1 301 Moved\r\nLocation: /d/\r\n\r\n"), &r), 0);
    assert_int_equal(r.status, 301);
    assert_string_equal(r.location, "/d/");
    assert_int_equal(http_resolve_location("http://10.0.0.1:8080/d?q", "/d/", out, sizeof out), 0);
    assert_string_equal(out, "http://10.0.0.1:8080/d/");
    assert_int_equal(http_resolve_location("http://10.0.0.1/a/b", "c/d", out, sizeof out), 0);
    assert_string_equal(out, "http://10.0.0.1/a/c/d");
    assert_int_equal(http_resolve_location("http://10.0.0.1", "x", out, sizeof out), 0);
    assert_string_equal(out, "http://10.0.0.1/x");
    assert_int_equal(http_resolve_location("http://10.0.0.1/a", "http://10.0.0.2/z", out, sizeof out), 0);
    assert_string_equal(out, "http://10.0.0.2/z");
    assert_int_equal(http_resolve_location("http://10.0.0.1/a", "//10.0.0.3/y", out, sizeof out), 0);
    assert_string_equal(out, "http://10.0.0.3/y");
    assert_int_equal(http_resolve_location("http://10.0.0.1/a", "https://x/", out, sizeof out), -1);
    assert_int_equal(http_resolve_location("http://10.0.0.1/a", "/x", out, 10), -1);
}

/* Exit statuses: a connect or a flow that timed out is EXIT_TIMEDOUT also
 * when a soft error says why (a dead neighbour: EHOSTUNREACH). */
static void exit_codes(void **state)
{
    (void)state;
    assert_int_equal(cli_exit_code(OASIS_EREFUSED), EXIT_REFUSED);
    assert_int_equal(cli_exit_code(OASIS_ETIMEDOUT), EXIT_TIMEDOUT);
    assert_int_equal(cli_exit_code(OASIS_EHOSTUNREACH), EXIT_TIMEDOUT);
    assert_int_equal(cli_exit_code(OASIS_ENETUNREACH), EXIT_TIMEDOUT);
    assert_int_equal(cli_exit_code(OASIS_ERESET), EXIT_FAIL);
    assert_int_equal(cli_exit_code(OASIS_EPROTOUNREACH), EXIT_FAIL);
}

/* The resolver's servers: --dns alone when given; else the DHCP lease's
 * before the routers' RAs' (RFC 8106 5.3.1), at most OASIS_DNS_MAX_SERVERS. */
static void test_dns_order(void **state)
{
    (void)state;
    oasis_ipaddr given[2], out[OASIS_DNS_MAX_SERVERS];
    oasis_ipaddr_parse("2001:db8::53", &given[0]);
    oasis_ipaddr_parse("10.0.0.53", &given[1]);
    uint32_t lease[2] = {0x0a000001, 0x0a000002};
    oasis_ipv6_dns_server ra[4];
    for (int i = 0; i < 4; i++) {
        memset(&ra[i], 0, sizeof ra[i]);
        oasis_ipaddr_parse("2001:db8:5::1", &ra[i].addr);
        ra[i].addr.b[15] = (uint8_t)(i + 1);
    }
    assert_int_equal(cli_dns_merge(given, 2, lease, 2, ra, 4, out), 2);
    assert_memory_equal(&out[0], &given[0], sizeof out[0]);
    assert_memory_equal(&out[1], &given[1], sizeof out[1]);
    assert_int_equal(cli_dns_merge(NULL, 0, lease, 2, ra, 4, out), 6);
    assert_int_equal(oasis_ipaddr_to_v4(&out[0]), 0x0a000001);
    assert_int_equal(oasis_ipaddr_to_v4(&out[1]), 0x0a000002);
    assert_memory_equal(&out[2], &ra[0].addr, sizeof out[0]);
    assert_memory_equal(&out[5], &ra[3].addr, sizeof out[0]);
    assert_int_equal(cli_dns_merge(NULL, 0, NULL, 0, ra, 1, out), 1);
    assert_true(oasis_ipaddr_is_v6(&out[0]));
    uint32_t many[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(cli_dns_merge(NULL, 0, many, 8, ra, 4, out), OASIS_DNS_MAX_SERVERS);
    assert_int_equal(oasis_ipaddr_to_v4(&out[7]), 8);
}

/* --dns takes unicast addresses of either family only: a group, the
 * limited broadcast or the unspecified address would never answer in a
 * way the resolver may believe (RFC 5452 9.1). */
static void test_dns_option(void **state)
{
    (void)state;
    net_opts o;
    net_opts_init(&o);
    assert_int_equal(cli_dns_option(&o, "10.0.0.53"), 1);
    assert_int_equal(cli_dns_option(&o, "2001:db8::53"), 1);
    const char *bad[] = {"255.255.255.255", "224.0.0.251", "ff02::fb", "0.0.0.0", "::", "nope", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(cli_dns_option(&o, bad[i]), -1);
    assert_int_equal(o.ndns, 2);
    while (o.ndns < OASIS_DNS_MAX_SERVERS)
        assert_int_equal(cli_dns_option(&o, "10.0.0.54"), 1);
    assert_int_equal(cli_dns_option(&o, "10.0.0.55"), -1);
}

/* The search list: --search alone when given, else the lease's then the
 * RAs' DNSSL, each domain once in any case, at most six. */
static void test_search_order(void **state)
{
    (void)state;
    net_opts o;
    net_opts_init(&o);
    assert_int_equal(cli_search_option(&o, "lan.test"), 1);
    assert_int_equal(cli_search_option(&o, "10.0.0.1"), -1); /* no letter: no domain */
    assert_int_equal(cli_search_option(&o, "a b"), -1);
    char lease[3][OASIS_DHCP_DOMAIN_STRLEN] = {"corp.test", "LAN.test", "x.test"};
    oasis_ipv6_dns_domain ra[2];
    memset(ra, 0, sizeof ra);
    snprintf(ra[0].name, sizeof ra[0].name, "lan.test");
    snprintf(ra[1].name, sizeof ra[1].name, "v6.test");
    const char *out[OASIS_DNS_MAX_SEARCH];
    assert_int_equal(cli_search_merge(o.search, o.nsearch, lease, 3, ra, 2, out), 1);
    assert_string_equal(out[0], "lan.test");
    assert_int_equal(cli_search_merge(NULL, 0, lease, 3, ra, 2, out), 4);
    assert_string_equal(out[0], "corp.test");
    assert_string_equal(out[1], "LAN.test");
    assert_string_equal(out[2], "x.test");
    assert_string_equal(out[3], "v6.test");
    for (int i = 1; i < OASIS_DNS_MAX_SEARCH; i++) {
        char d[16];
        snprintf(d, sizeof d, "d%d.test", i);
        assert_int_equal(cli_search_option(&o, d), 1);
    }
    assert_int_equal(cli_search_option(&o, "seven.test"), -1);
    assert_int_equal(cli_search_merge(o.search, o.nsearch, lease, 3, ra, 2, out),
                     OASIS_DNS_MAX_SEARCH);
}

/* --tsig [hmac-sha256:]NAME:SECRET, SECRET in base64 (RFC 4648). */
static void test_tsig_option(void **state)
{
    (void)state;
    net_opts o;
    net_opts_init(&o);
    assert_int_equal(cli_tsig_option(&o, "oasis-key:AAECAw=="), 1);
    assert_string_equal(o.tsig_name, "oasis-key");
    assert_int_equal(o.tsig_secret_len, 4);
    const uint8_t want[4] = {0, 1, 2, 3};
    assert_memory_equal(o.tsig_secret, want, 4);
    assert_int_equal(cli_tsig_option(&o, "hmac-sha256:k.test.:/+8"), 1);
    assert_string_equal(o.tsig_name, "k.test.");
    assert_int_equal(o.tsig_secret_len, 2);
    assert_int_equal(o.tsig_secret[0], 0xff);
    assert_int_equal(o.tsig_secret[1], 0xef);
    assert_int_equal(cli_tsig_option(&o, "nokey"), -1);
    assert_int_equal(cli_tsig_option(&o, ":AAEC"), -1);        /* no name */
    assert_int_equal(cli_tsig_option(&o, "k:"), -1);           /* no secret */
    assert_int_equal(cli_tsig_option(&o, "k:AA$C"), -1);       /* not base64 */
    assert_int_equal(cli_tsig_option(&o, "k:A"), -1);          /* a dangling digit */
    assert_int_equal(cli_tsig_option(&o, "hmac-md5:k:AAEC"), -1); /* another algorithm */
}

/* --dhcp-rapid-commit: DHCP (as --dhcp) with Rapid Commit asked for
 * (RFC 4039), in the help too; plain --dhcp leaves it off. */
static void test_dhcp_rapid_commit_option(void **state)
{
    (void)state;
    int code = 0, plain = 0;
    for (const struct option *p = net_long_options; p->name; p++) {
        if (strcmp(p->name, "dhcp-rapid-commit") == 0) {
            assert_int_equal(p->has_arg, no_argument);
            code = p->val;
        }
        if (strcmp(p->name, "dhcp") == 0)
            plain = p->val;
    }
    assert_true(code != 0);
    net_opts o;
    net_opts_init(&o);
    assert_int_equal(o.dhcp_rapid_commit, 0);
    assert_int_equal(net_opts_handle(&o, plain, NULL), 1);
    assert_int_equal(o.dhcp_rapid_commit, 0);
    net_opts_init(&o);
    assert_int_equal(net_opts_handle(&o, code, NULL), 1);
    assert_int_equal(o.dhcp_rapid_commit, 1);
    assert_int_equal(o.dhcp, 1);
    assert_non_null(strstr(net_options_help, "--dhcp-rapid-commit"));
}

/* --dhcp6-rapid-commit: Rapid Commit in the Solicit; runs the DHCPv6
 * client (auto) unless --dhcp6 chose a mode, which it keeps. */
static void test_dhcp6_rapid_commit_option(void **state)
{
    (void)state;
    int code = 0, d6 = 0;
    for (const struct option *p = net_long_options; p->name; p++) {
        if (strcmp(p->name, "dhcp6-rapid-commit") == 0) {
            assert_int_equal(p->has_arg, no_argument);
            code = p->val;
        }
        if (strcmp(p->name, "dhcp6") == 0)
            d6 = p->val;
    }
    assert_true(code != 0 && d6 != 0);
    net_opts o;
    net_opts_init(&o);
    assert_int_equal(o.dhcp6_rapid_commit, 0);
    assert_int_equal(net_opts_handle(&o, code, NULL), 1);
    assert_int_equal(o.dhcp6_rapid_commit, 1);
    assert_int_equal(o.dhcp6, 1 + OASIS_DHCP6_AUTO);
    net_opts_init(&o);
    assert_int_equal(net_opts_handle(&o, d6, "stateful"), 1);
    assert_int_equal(net_opts_handle(&o, code, NULL), 1);
    assert_int_equal(o.dhcp6, 1 + OASIS_DHCP6_STATEFUL);
    assert_int_equal(o.dhcp, 0);
    assert_non_null(strstr(net_options_help, "--dhcp6-rapid-commit"));
}

/* --dad N: DupAddrDetectTransmits for the stack (RFC 4862 5.1), 0..10;
 * without it the stack's default stays (-1 here). */
static void test_dad_option(void **state)
{
    (void)state;
    int code = 0;
    for (const struct option *p = net_long_options; p->name; p++)
        if (strcmp(p->name, "dad") == 0) {
            assert_int_equal(p->has_arg, required_argument);
            code = p->val;
        }
    assert_true(code != 0);
    net_opts o;
    net_opts_init(&o);
    assert_int_equal(o.dad, -1);
    assert_int_equal(net_opts_handle(&o, code, "0"), 1);
    assert_int_equal(o.dad, 0);
    assert_int_equal(net_opts_handle(&o, code, "3"), 1);
    assert_int_equal(o.dad, 3);
    assert_int_equal(net_opts_handle(&o, code, "11"), -1);
    assert_int_equal(net_opts_handle(&o, code, "x"), -1);
    assert_int_equal(o.dad, 3);
    assert_non_null(strstr(net_options_help, "--dad N"));
}

static int opt_code(const char *name)
{
    for (const struct option *p = net_long_options; p->name; p++)
        if (strcmp(p->name, name) == 0)
            return p->val;
    return 0;
}

/* --tun NAME: the device name and that it is a TUN; --tap after it makes
 * it a TAP again (the last one given wins). */
static void test_tun_option(void **state)
{
    (void)state;
    int tun = opt_code("tun"), tap = opt_code("tap");
    assert_true(tun != 0 && tap != 0);
    net_opts o;
    net_opts_init(&o);
    assert_int_equal(o.tun, 0);
    assert_int_equal(net_opts_handle(&o, tun, "tun7"), 1);
    assert_string_equal(o.tap, "tun7");
    assert_int_equal(o.tun, 1);
    assert_int_equal(net_opts_handle(&o, tun, "0123456789abcdef"), -1); /* 16 characters */
    assert_int_equal(net_opts_handle(&o, tun, ""), -1);
    assert_string_equal(o.tap, "tun7");
    assert_int_equal(net_opts_handle(&o, tap, "tap3"), 1);
    assert_int_equal(o.tun, 0);
    assert_non_null(strstr(net_options_help, "--tun NAME"));
    int tr = opt_code("transparent");
    assert_true(tr != 0);
    assert_int_equal(o.transparent, 0);
    assert_int_equal(net_opts_handle(&o, tr, NULL), 1);
    assert_int_equal(o.transparent, 1);
}

/* An address with a zone (RFC 4007 11): IPv6 only, and the zone must name
 * the stack's one link, by name or by interface index. */
static void test_addr_zone(void **state)
{
    (void)state;
    oasis_ipaddr a, want;
    assert_int_equal(oasis_ipaddr_parse("fe80::1", &want), 0);
    assert_int_equal(cli_parse_addr_zone("fe80::1%tap0", "tap0", &a), 0);
    assert_true(oasis_ipaddr_eq(&a, &want));
    assert_int_equal(cli_parse_addr_zone("fe80::1", "tap0", &a), 0);
    assert_true(oasis_ipaddr_eq(&a, &want));
    assert_int_equal(cli_parse_addr_zone("2001:db8::1%tap0", "tap0", &a), 0);
    assert_int_equal(cli_parse_addr_zone("ff02::1%tap0", "tap0", &a), 0);
    assert_int_equal(cli_parse_addr_zone("fe80::1%eth9", "tap0", &a), -2);
    assert_int_equal(cli_parse_addr_zone("fe80::1%tap0", NULL, &a), -2);
    assert_int_equal(cli_parse_addr_zone("fe80::1%tap00", "tap0", &a), -2);
    assert_int_equal(cli_parse_addr_zone("10.0.0.1%tap0", "tap0", &a), -1);
    assert_int_equal(cli_parse_addr_zone("fe80::1%", "tap0", &a), -1);
    assert_int_equal(cli_parse_addr_zone("%tap0", "tap0", &a), -1);
    assert_int_equal(cli_parse_addr_zone("fe80::g%tap0", "tap0", &a), -1);
    /* By index: the loopback interface's, never another's. */
    unsigned lo = if_nametoindex("lo");
    assert_true(lo != 0);
    char z[64];
    snprintf(z, sizeof z, "fe80::1%%%u", lo);
    assert_int_equal(cli_parse_addr_zone(z, "lo", &a), 0);
    assert_true(oasis_ipaddr_eq(&a, &want));
    snprintf(z, sizeof z, "fe80::1%%%u", lo + 1000);
    assert_int_equal(cli_parse_addr_zone(z, "lo", &a), -2);
    assert_int_equal(cli_parse_addr_zone("fe80::1%1x", "lo", &a), -2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dns_order),
        cmocka_unit_test(test_dns_option),
        cmocka_unit_test(test_search_order),
        cmocka_unit_test(test_addr_zone),
        cmocka_unit_test(head_end),  cmocka_unit_test(empty_lines), cmocka_unit_test(request), cmocka_unit_test(request_errors),
        cmocka_unit_test(request_transfer_codings), cmocka_unit_test(response),  cmocka_unit_test(chunked), cmocka_unit_test(urls),
        cmocka_unit_test(arguments), cmocka_unit_test(pattern_bytes),
        cmocka_unit_test(request_line_fields), cmocka_unit_test(request_host_and_names), cmocka_unit_test(ranges),
        cmocka_unit_test(redirects), cmocka_unit_test(exit_codes),
        cmocka_unit_test(test_tsig_option),
        cmocka_unit_test(test_dhcp_rapid_commit_option),
        cmocka_unit_test(test_dhcp6_rapid_commit_option),
        cmocka_unit_test(test_dad_option),
        cmocka_unit_test(test_tun_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
