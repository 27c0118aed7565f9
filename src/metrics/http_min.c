/* Minimal HTTP/1.1 response heads for the metrics reporter. */
#include "metrics/http_min.h"

#include <string.h>

size_t http_min_head_end(const char *buf, size_t len)
{
    for (size_t i = 0; i + 3 < len; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
            return i + 4;
    return 0;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* Case-insensitive: does [s, s+n) equal the lower-case word w? */
int http_min_eq_ci(const char *s, size_t n, const char *w)
{
    if (strlen(w) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != w[i])
            return 0;
    return 1;
}

/* The next element of the comma-separated list [v, v+n) from *pos, the
 * whitespace around it trimmed: 1 with it in [*a, *b) (empty for an empty
 * element, which RFC 9110 5.6.1 lets a list hold), or 0 at the end. */
int http_min_list_next(const char *v, size_t n, size_t *pos, size_t *a, size_t *b)
{
    size_t i = *pos;
    if (i >= n)
        return 0;
    size_t s = i;
    while (i < n && v[i] != ',')
        i++;
    size_t e = i;
    *pos = i + 1;
    while (s < e && (v[s] == ' ' || v[s] == '\t'))
        s++;
    while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
        e--;
    *a = s;
    *b = e;
    return 1;
}

/* Does the comma-separated list [v, v+n) contain token w? */
int http_min_has_token(const char *v, size_t n, const char *w)
{
    size_t pos = 0, a, b;
    while (http_min_list_next(v, n, &pos, &a, &b))
        if (http_min_eq_ci(v + a, b - a, w))
            return 1;
    return 0;
}

static int parse_status_line(const char *p, size_t n, http_min_resp *r)
{
    /* "HTTP/1.x SSS" then optional " reason". */
    if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9' || p[8] != ' ')
        return -1;
    r->minor = p[7] - '0';
    int st = 0;
    for (int i = 9; i < 12; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        st = st * 10 + (p[i] - '0');
    }
    if (st < 100 || st > 599 || (n > 12 && p[12] != ' '))
        return -1;
    r->status = st;
    r->keep_alive = r->minor >= 1;
    return 0;
}

static int parse_length(const char *v, size_t n, int64_t *out)
{
    int64_t x = 0;
    if (n == 0 || n > 18)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (v[i] - '0');
    }
    /* Repeated Content-Length headers must agree (RFC 9112 6.3). */
    if (*out >= 0 && *out != x)
        return -1;
    *out = x;
    return 0;
}

static int parse_header(const char *p, size_t n, http_min_resp *r)
{
    const char *colon = memchr(p, ':', n);
    if (!colon || colon == p)
        return -1;
    size_t kn = (size_t)(colon - p), vn = n - kn - 1;
    const char *v = colon + 1;
    while (vn && (*v == ' ' || *v == '\t'))
        v++, vn--;
    while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
        vn--;
    if (http_min_eq_ci(p, kn, "content-length"))
        return parse_length(v, vn, &r->content_length);
    if (http_min_eq_ci(p, kn, "retry-after")) {
        /* delay-seconds; an HTTP-date (or a bad value) leaves -1, so the
         * caller's own backoff applies. Never an error: only advice. */
        int64_t d = -1;
        if (vn <= 9 && parse_length(v, vn, &d) == 0)
            r->retry_after_s = d;
        return 0;
    }
    if (http_min_eq_ci(p, kn, "transfer-encoding"))
        r->chunked = http_min_has_token(v, vn, "chunked");
    else if (http_min_eq_ci(p, kn, "connection")) {
        if (http_min_has_token(v, vn, "close"))
            r->keep_alive = 0;
        else if (http_min_has_token(v, vn, "keep-alive"))
            r->keep_alive = 1;
    }
    return 0;
}

int http_min_parse(const char *head, size_t len, http_min_resp *r)
{
    memset(r, 0, sizeof *r);
    r->content_length = -1;
    r->retry_after_s = -1;
    size_t i = 0;
    int first = 1;
    while (i < len) {
        const char *eol = NULL;
        for (size_t j = i; j + 1 < len; j++)
            if (head[j] == '\r' && head[j + 1] == '\n') {
                eol = head + j;
                break;
            }
        if (!eol)
            return -1;
        size_t n = (size_t)(eol - (head + i));
        if (n == 0)
            return first ? -1 : 0; /* the empty line ends the head */
        int rc = first ? parse_status_line(head + i, n, r) : parse_header(head + i, n, r);
        if (rc)
            return -1;
        first = 0;
        i += n + 2;
    }
    return -1;
}

int64_t http_min_body_len(const http_min_resp *r)
{
    if (r->status < 200 || r->status == 204 || r->status == 304)
        return 0;
    if (r->chunked)
        return -1;
    return r->content_length;
}
