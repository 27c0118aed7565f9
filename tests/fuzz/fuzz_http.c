/* The CLI's HTTP/1.1 pieces (tools/oasis/http.h): request and response
 * heads, the chunked decoder, URLs. Input: one selector byte, then the text.
 * Properties: results within their documented sets, strings terminated
 * inside their arrays, and the chunked decoder gives the same body, the same
 * verdict and the same consumed count whether fed at once or in pieces of
 * input-chosen sizes (a streaming decoder must not depend on where TCP
 * happened to cut the stream). */
#include "fuzz.h"

#include <string.h>

#include "http.h"

static void fuzz_request(const char *p, size_t n)
{
    long end = http_head_end(p, n);
    FUZZ_CHECK(end >= -1 && end <= (long)n);
    http_request r;
    int rc = http_parse_request(p, end > 0 ? (size_t)end : n, &r);
    FUZZ_CHECK(rc == 0 || rc == 400 || rc == 414 || rc == 501 || rc == 505);
    if (rc)
        return;
    /* (The method is not checked to be a token: "\0ET / HTTP/1.1" parses
     * with an empty method string. Harmless for the CLI, reported.) */
    FUZZ_CHECK(memchr(r.method, 0, sizeof r.method));
    FUZZ_CHECK(memchr(r.path, 0, sizeof r.path));
    FUZZ_CHECK(r.keep_alive == 0 || r.keep_alive == 1);
}

static void fuzz_response(const char *p, size_t n)
{
    http_response r;
    int rc = http_parse_response(p, n, &r);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc)
        return;
    FUZZ_CHECK(r.status >= 0 && r.status <= 999 && r.content_length >= -1);
    FUZZ_CHECK(!(r.chunked && r.content_length >= 0));
}

typedef struct sink {
    uint8_t buf[8192];
    size_t len;
    size_t total_in;
} sink;

static void on_body(void *ud, const uint8_t *data, size_t len)
{
    sink *s = ud;
    FUZZ_CHECK(len > 0 || data);
    FUZZ_CHECK(s->len + len <= s->total_in); /* a body never outgrows its coding */
    memcpy(s->buf + s->len, data, len);
    s->len += len;
}

/* Feeds data in pieces; returns consumed bytes, or -1. */
static long feed_pieces(const uint8_t *data, size_t n, const uint8_t *cuts, size_t ncuts, sink *s,
                        int *done)
{
    http_chunked d;
    http_chunked_init(&d);
    size_t off = 0, k = 0;
    while (off < n && !http_chunked_done(&d)) {
        size_t piece = ncuts ? (size_t)(1 + cuts[k++ % ncuts] % 17) : n;
        if (piece > n - off)
            piece = n - off;
        long used = http_chunked_feed(&d, data + off, piece, on_body, s);
        if (used < 0)
            return -1;
        FUZZ_CHECK((size_t)used <= piece);
        FUZZ_CHECK((size_t)used == piece || http_chunked_done(&d));
        off += (size_t)used;
        if ((size_t)used < piece)
            break;
    }
    *done = http_chunked_done(&d);
    return (long)off;
}

static void fuzz_chunked(const uint8_t *p, size_t n)
{
    if (n < 1 || n > 4096)
        return;
    size_t ncuts = p[0] % 8; /* bytes that pick the piece sizes */
    if (n < 1 + ncuts)
        return;
    const uint8_t *cuts = p + 1, *data = p + 1 + ncuts;
    n -= 1 + ncuts;

    static sink whole, pieces; /* 16 KiB: kept off the stack */
    memset(&whole, 0, sizeof whole);
    memset(&pieces, 0, sizeof pieces);
    whole.total_in = pieces.total_in = n;
    int done_w = 0, done_p = 0;
    long used_w = feed_pieces(data, n, NULL, 0, &whole, &done_w);
    long used_p = feed_pieces(data, n, cuts, ncuts, &pieces, &done_p);
    FUZZ_CHECK((used_w < 0) == (used_p < 0));
    if (used_w < 0)
        return; /* body bytes emitted before the error may differ in count */
    FUZZ_CHECK(used_w == used_p && done_w == done_p);
    FUZZ_CHECK(whole.len == pieces.len && memcmp(whole.buf, pieces.buf, whole.len) == 0);
}

static void fuzz_url(const char *p, size_t n)
{
    char url[512];
    if (n >= sizeof url)
        n = sizeof url - 1;
    memcpy(url, p, n);
    url[n] = 0;
    uint32_t addr;
    uint16_t port = 0;
    const char *path = NULL;
    int rc = http_parse_url(url, &addr, &port, &path);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc == 0)
        FUZZ_CHECK(port != 0 && path && path[0] == '/');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *text = (const char *)data + 1;
    switch (data[0] % 4) {
    case 0: fuzz_request(text, size - 1); break;
    case 1: fuzz_response(text, size - 1); break;
    case 2: fuzz_chunked(data + 1, size - 1); break;
    default: fuzz_url(text, size - 1); break;
    }
    return 0;
}
