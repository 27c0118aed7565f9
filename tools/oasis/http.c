/* HTTP/1.1 message heads and chunked bodies (RFC 9112). Lenient where
 * RFC 9112 allows (bare LF line ends, any header case), strict where a
 * mistake would change the framing of the body (Content-Length). */
#include "http.h"

#include "oasis/ip.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

long http_head_end(const char *buf, size_t len)
{
    /* Only the first HTTP_MAX_HEAD bytes can hold a head (more may follow
     * it in buf: its body, the next requests). */
    if (len > HTTP_MAX_HEAD)
        len = HTTP_MAX_HEAD;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i + 1 < len && buf[i + 1] == '\n')
            return (long)(i + 2);
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return (long)(i + 3);
    }
    return len >= HTTP_MAX_HEAD ? -1 : 0;
}

size_t http_empty_lines(const char *buf, size_t len)
{
    size_t i = 0;
    for (;;) {
        if (i < len && buf[i] == '\n')
            i += 1;
        else if (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n')
            i += 2;
        else
            return i;
    }
}

/* Next line of the head: [*p, end of line) without CR; advances *p. */
static int next_line(const char **p, const char *end, const char **line, size_t *n)
{
    const char *s = *p;
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    if (!nl)
        return 0;
    *line = s;
    *n = (size_t)(nl - s);
    if (*n && s[*n - 1] == '\r')
        (*n)--;
    *p = nl + 1;
    return 1;
}

static int parse_num(const char *v, size_t n, uint64_t *out)
{
    uint64_t x = 0;
    if (n == 0 || n > 18)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)v[i]))
            return -1;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    *out = x;
    return 0;
}

/* Does the comma-separated header value contain token tok? */
static int has_token(const char *v, size_t n, const char *tok)
{
    size_t tl = strlen(tok);
    for (size_t i = 0; i + tl <= n; i++) {
        int start = i == 0 || v[i - 1] == ',' || v[i - 1] == ' ';
        int stop = i + tl == n || v[i + tl] == ',' || v[i + tl] == ' ';
        if (start && stop && strncasecmp(v + i, tok, tl) == 0)
            return 1;
    }
    return 0;
}

typedef struct head_fields {
    int request;            /* a request's head: field names are checked */
    int conn_close, conn_keep_alive;
    /* Transfer-Encoding, over all its lines (a list, RFC 9112 6.1): seen at
     * all, how often chunked, another coding, and whether the last coding
     * listed is chunked (the framing) */
    int te, chunked, other_coding, last_chunked;
    int hosts, bad_host;    /* Host lines, and one whose value is no host[:port] */
    int have_len, bad_len;
    uint64_t len;
    int have_range, if_range;
    uint64_t range_first, range_last;
    char *location;         /* where to copy a Location value (NULL: ignore) */
    size_t location_cap;
} head_fields;

/* Digits only, no sign, at most 18 of them. */
static int parse_num(const char *v, size_t n, uint64_t *out);

/* "bytes=F-L", "bytes=F-", "bytes=-N" (one range; whitespace around the
 * unit's '=' and the range is not allowed by the grammar). */
static void parse_range(const char *v, size_t n, head_fields *f)
{
    if (n < 7 || strncasecmp(v, "bytes=", 6) != 0 || memchr(v, ',', n))
        return;
    v += 6;
    n -= 6;
    const char *dash = memchr(v, '-', n);
    if (!dash)
        return;
    size_t a = (size_t)(dash - v), b = n - a - 1;
    uint64_t first = 0, last = UINT64_MAX;
    if (a == 0) { /* suffix */
        if (parse_num(dash + 1, b, &last) != 0)
            return;
        first = UINT64_MAX;
    } else {
        if (parse_num(v, a, &first) != 0 || (b && parse_num(dash + 1, b, &last) != 0) ||
            last < first)
            return; /* invalid: ignored (RFC 9110 14.2) */
    }
    f->have_range = 1;
    f->range_first = first;
    f->range_last = last;
}

/* tchar (RFC 9110 5.6.2): what a field name (a token) is made of. */
static int is_tchar(int c)
{
    return isalnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A Host value (RFC 9110 7.2: uri-host [":" port]): the characters of a
 * reg-name, an IP literal or a port; empty is allowed (no authority). */
static int host_valid(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)v[i];
        if (!isalnum(c) && !strchr("-._~!$&'()*+,;=:[]%", c))
            return 0;
    }
    return 1;
}

/* One "Name: value" line; unknown names are ignored. */
static int parse_field(const char *line, size_t n, head_fields *f)
{
    const char *colon = memchr(line, ':', n);
    if (!colon || colon == line || line[0] == ' ' || line[0] == '\t')
        return -1;
    size_t nl = (size_t)(colon - line);
    /* RFC 9112 5.1: whitespace between a request's field name and the
     * colon MUST be answered with 400 (a proxy ahead of us might read
     * "Content-Length :" differently); any other non-token name is as
     * malformed. */
    for (size_t i = 0; f->request && i < nl; i++)
        if (!is_tchar((unsigned char)line[i]))
            return -1;
    const char *v = colon + 1, *ve = line + n;
    while (v < ve && (*v == ' ' || *v == '\t'))
        v++;
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
        ve--;
    size_t vn = (size_t)(ve - v);

    if (nl == 10 && strncasecmp(line, "connection", nl) == 0) {
        f->conn_close |= has_token(v, vn, "close");
        f->conn_keep_alive |= has_token(v, vn, "keep-alive");
    } else if (nl == 14 && strncasecmp(line, "content-length", nl) == 0) {
        uint64_t x = 0;
        /* Two different lengths make the framing ambiguous: refuse. */
        if (parse_num(v, vn, &x) != 0 || (f->have_len && x != f->len))
            f->bad_len = 1;
        f->have_len = 1;
        f->len = x;
    } else if (nl == 4 && strncasecmp(line, "host", nl) == 0) {
        f->hosts++;
        f->bad_host |= !host_valid(v, vn);
    } else if (nl == 5 && strncasecmp(line, "range", nl) == 0) {
        parse_range(v, vn, f);
    } else if (nl == 8 && strncasecmp(line, "if-range", nl) == 0) {
        f->if_range = 1;
    } else if (nl == 8 && strncasecmp(line, "location", nl) == 0) {
        if (f->location && vn < f->location_cap) {
            memcpy(f->location, v, vn);
            f->location[vn] = '\0';
        }
    } else if (nl == 17 && strncasecmp(line, "transfer-encoding", nl) == 0) {
        f->te = 1;
        for (size_t i = 0; i < vn;) {
            size_t j = i;
            while (j < vn && v[j] != ',')
                j++;
            size_t a = i, b = j;
            while (a < b && (v[a] == ' ' || v[a] == '\t'))
                a++;
            while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
                b--;
            if (b - a == 7 && strncasecmp(v + a, "chunked", 7) == 0) {
                f->chunked++;
                f->last_chunked = 1;
            } else if (b > a) { /* empty list elements do not count */
                f->other_coding = 1;
                f->last_chunked = 0;
            }
            i = j + 1;
        }
    }
    return 0;
}

static int parse_fields(const char **p, const char *end, head_fields *f)
{
    const char *line;
    size_t n;
    char *loc = f->location;
    size_t loc_cap = f->location_cap;
    int request = f->request;
    memset(f, 0, sizeof *f);
    f->location = loc;
    f->location_cap = loc_cap;
    f->request = request;
    while (next_line(p, end, &line, &n)) {
        if (n == 0)
            return 0;
        if (parse_field(line, n, f) != 0)
            return -1;
    }
    return -1; /* no empty line */
}

/* HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 2.3): 0 for 1.x, 1 for
 * another major version, -1 when it is not a version at all. */
static int parse_version(const char *v, size_t n, int *minor)
{
    if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || !isdigit((unsigned char)v[5]) || v[6] != '.' ||
        !isdigit((unsigned char)v[7]))
        return -1;
    *minor = v[7] - '0';
    return v[5] == '1' ? 0 : 1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Copies the target's path (before '?') percent-decoded; refuses NULs. */
static int decode_path(const char *t, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && t[i] != '?' && t[i] != '#'; i++) {
        int c = (unsigned char)t[i];
        if (c == '%') {
            if (i + 2 >= n || hexval(t[i + 1]) < 0 || hexval(t[i + 2]) < 0)
                return 400;
            c = hexval(t[i + 1]) * 16 + hexval(t[i + 2]);
            i += 2;
        }
        if (c == 0)
            return 400;
        if (o + 1 >= cap)
            return 414;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

int http_parse_request(const char *head, size_t len, http_request *r)
{
    const char *p = head, *end = head + len, *line;
    size_t n;
    head_fields f;

    memset(&f, 0, sizeof f);
    memset(r, 0, sizeof *r);
    if (!next_line(&p, end, &line, &n))
        return 400;
    const char *sp1 = memchr(line, ' ', n);
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line + n - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || sp1 == line || (size_t)(sp1 - line) >= sizeof r->method)
        return 400;
    memcpy(r->method, line, (size_t)(sp1 - line));
    const char *target = sp1 + 1;
    size_t tlen = (size_t)(sp2 - target);
    int root = 0;
    size_t scheme = tlen > 7 && strncasecmp(target, "http://", 7) == 0    ? 7
                    : tlen > 8 && strncasecmp(target, "https://", 8) == 0 ? 8
                                                                          : 0;
    if (scheme) {
        /* absolute-form, which a server MUST accept (RFC 9112 3.2.2): its
         * authority stands for Host; what follows it is the path. */
        size_t a = scheme;
        while (a < tlen && target[a] != '/' && target[a] != '?' && target[a] != '#')
            a++;
        if (a == scheme)
            return 400; /* no authority */
        root = a == tlen || target[a] != '/'; /* "http://h" and "http://h?q" mean "/" */
        target += a;
        tlen -= a;
    } else if (tlen == 0 || target[0] != '/') {
        return 400;
    }
    /* Exactly three fields (RFC 9112 3): a fourth is a malformed line. */
    size_t vlen = (size_t)(line + n - sp2 - 1);
    if (memchr(sp2 + 1, ' ', vlen))
        return 400;
    int vr = parse_version(sp2 + 1, vlen, &r->minor);
    if (vr < 0)
        return 400;
    if (vr > 0)
        return 505;
    int rc = root ? decode_path("/", 1, r->path, sizeof r->path)
                  : decode_path(target, tlen, r->path, sizeof r->path);
    if (rc)
        return rc;
    f.request = 1;
    if (parse_fields(&p, end, &f) != 0 || f.bad_len)
        return 400;
    /* RFC 9112 3.2: an HTTP/1.1 request without Host, or any request with
     * two Host lines or one that names no host, MUST be answered with 400. */
    if (f.hosts > 1 || f.bad_host || (r->minor >= 1 && f.hosts == 0))
        return 400;
    /* RFC 9112 6.1, 6.3: a body is framed by chunked only when it is the
     * final coding, listed once; else its length cannot be known (400).
     * With a Content-Length too it may be smuggling (400, as the RFC lets a
     * server), and HTTP/1.0 has no transfer codings (faulty framing).
     * Chunked after a coding we do not know: 501. Every error closes. */
    r->chunked = 0;
    if (f.te) {
        if (r->minor == 0 || f.have_len || !f.last_chunked || f.chunked > 1)
            return 400;
        if (f.other_coding)
            return 501;
        r->chunked = 1;
    }
    r->content_length = f.have_len ? f.len : 0;
    r->keep_alive = r->minor >= 1 ? !f.conn_close : f.conn_keep_alive;
    r->has_range = f.have_range && !f.if_range;
    r->range_first = f.range_first;
    r->range_last = f.range_last;
    return 0;
}

int http_resolve_range(const http_request *r, uint64_t len, uint64_t *off, uint64_t *n)
{
    if (!r->has_range)
        return 1;
    uint64_t first = r->range_first, last = r->range_last;
    if (first == UINT64_MAX) { /* the last `last` bytes */
        if (last == 0 || len == 0)
            return -1;
        first = last >= len ? 0 : len - last;
        last = len - 1;
    } else {
        if (first >= len)
            return -1;
        if (last >= len)
            last = len - 1;
    }
    *off = first;
    *n = last - first + 1;
    return 0;
}

int http_parse_response(const char *head, size_t len, http_response *r)
{
    const char *p = head, *end = head + len, *line;
    size_t n;
    head_fields f;

    memset(&f, 0, sizeof f);
    memset(r, 0, sizeof *r);
    f.location = r->location;
    f.location_cap = sizeof r->location;
    if (!next_line(&p, end, &line, &n) || n < 12 || parse_version(line, 8, &r->minor) != 0 ||
        line[8] != ' ')
        return -1;
    for (int i = 9; i < 12; i++) {
        if (!isdigit((unsigned char)line[i]))
            return -1;
        r->status = r->status * 10 + (line[i] - '0');
    }
    /* RFC 9112 4: status-code is 3DIGIT, then SP (a bare code is taken) */
    if (n > 12 && line[12] != ' ')
        return -1;
    if (parse_fields(&p, end, &f) != 0 || f.bad_len || f.other_coding)
        return -1;
    r->chunked = f.chunked != 0;
    r->content_length = f.have_len && !f.chunked ? (int64_t)f.len : -1;
    r->keep_alive = r->minor >= 1 ? !f.conn_close : f.conn_keep_alive;
    return 0;
}

/* ---- chunked bodies ----------------------------------------------------- */

enum { CH_SIZE, CH_EXT, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER_START, CH_TRAILER_LINE, CH_DONE };

void http_chunked_init(http_chunked *d) { memset(d, 0, sizeof *d); }
int http_chunked_done(const http_chunked *d) { return d->state == CH_DONE; }

/* One byte of the framing (everything but chunk data). 0 or -1. */
static int chunk_byte(http_chunked *d, int c)
{
    switch (d->state) {
    case CH_SIZE:
        if (hexval(c) >= 0) {
            if (++d->digits > 15)
                return -1;
            d->remaining = d->remaining * 16 + (uint64_t)hexval(c);
            return 0;
        }
        if (d->digits == 0)
            return -1;
        d->state = CH_EXT;
        /* FALLTHROUGH - the byte starts an extension or ends the line */
    case CH_EXT:
        if (c != '\n')
            return 0;
        d->digits = 0;
        d->state = d->remaining ? CH_DATA : CH_TRAILER_START;
        return 0;
    case CH_DATA_CR:
        d->state = CH_DATA_LF;
        if (c == '\r')
            return 0;
        /* FALLTHROUGH - a bare LF */
    case CH_DATA_LF:
        if (c != '\n')
            return -1;
        d->state = CH_SIZE;
        return 0;
    case CH_TRAILER_START:
        if (c == '\r')
            return 0;
        d->state = c == '\n' ? CH_DONE : CH_TRAILER_LINE;
        return 0;
    case CH_TRAILER_LINE:
        if (c == '\n')
            d->state = CH_TRAILER_START;
        return 0;
    default:
        return -1;
    }
}

long http_chunked_feed(http_chunked *d, const uint8_t *in, size_t len, http_emit_fn emit, void *ud)
{
    size_t i = 0;
    while (i < len && d->state != CH_DONE) {
        if (d->state == CH_DATA) {
            size_t n = len - i < d->remaining ? len - i : (size_t)d->remaining;
            emit(ud, in + i, n);
            i += n;
            d->remaining -= n;
            if (d->remaining == 0)
                d->state = CH_DATA_CR;
            continue;
        }
        if (chunk_byte(d, in[i++]) != 0)
            return -1;
    }
    return (long)i;
}

/* ---- URLs --------------------------------------------------------------- */

int http_parse_url(const char *url, uint32_t *addr, uint16_t *port, const char **path)
{
    char host[32];
    const char *h = url, *slash, *colon;
    unsigned long p = 80;

    if (strncmp(h, "http://", 7) != 0)
        return -1;
    h += 7;
    slash = strchr(h, '/');
    if (!slash)
        slash = h + strlen(h);
    colon = memchr(h, ':', (size_t)(slash - h));
    const char *hend = colon ? colon : slash;
    if ((size_t)(hend - h) >= sizeof host)
        return -1;
    memcpy(host, h, (size_t)(hend - h));
    host[hend - h] = '\0';
    if (oasis_addr_parse(host, addr) != 0)
        return -1;
    if (colon) {
        p = 0;
        if (colon + 1 == slash || slash - colon > 6)
            return -1;
        for (const char *c = colon + 1; c < slash; c++) {
            if (!isdigit((unsigned char)*c))
                return -1;
            p = p * 10 + (unsigned long)(*c - '0');
        }
        if (p == 0 || p > 65535)
            return -1;
    }
    *port = (uint16_t)p;
    *path = *slash ? slash : "/";
    return 0;
}

int http_resolve_location(const char *base, const char *loc, char *out, size_t cap)
{
    if (strncmp(base, "http://", 7) != 0 || !loc[0])
        return -1;
    const char *auth_end = base + 7 + strcspn(base + 7, "/?#");
    int n;
    if (strncmp(loc, "http://", 7) == 0) {
        n = snprintf(out, cap, "%s", loc);
    } else if (loc[0] == '/' && loc[1] == '/') {
        n = snprintf(out, cap, "http:%s", loc);
    } else if (loc[0] == '/') {
        n = snprintf(out, cap, "%.*s%s", (int)(auth_end - base), base, loc);
    } else if (strchr(loc, ':') && strcspn(loc, ":") < strcspn(loc, "/?#")) {
        return -1; /* another scheme (https: ...) */
    } else {
        /* Relative path: replaces the last segment of base's path. */
        const char *path_end = auth_end + strcspn(auth_end, "?#");
        const char *slash = path_end;
        while (slash > auth_end && slash[-1] != '/')
            slash--;
        if (slash == auth_end) /* no path at all: "http://a" is "http://a/" */
            n = snprintf(out, cap, "%.*s/%s", (int)(auth_end - base), base, loc);
        else
            n = snprintf(out, cap, "%.*s%s", (int)(slash - base), base, loc);
    }
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}
