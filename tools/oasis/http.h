/* The little HTTP/1.1 the CLI needs: parsing request and response heads
 * (RFC 9112) and decoding a chunked body. No I/O here, so it can be tested
 * with strings. */
#ifndef OASIS_TOOL_HTTP_H
#define OASIS_TOOL_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEAD 16384

/* Length of the head (up to and including the empty line) at buf, 0 if it
 * is not complete yet, -1 if it does not end within HTTP_MAX_HEAD bytes
 * (only those are looked at; more may follow a head). */
long http_head_end(const char *buf, size_t len);

/* Bytes of complete empty lines (CRLF or LF) at the start of buf: a server
 * ignores them where a request line is due (RFC 9112 2.2; some clients
 * send a CRLF after a body). */
size_t http_empty_lines(const char *buf, size_t len);

typedef struct http_request {
    char method[16];
    char path[2048];        /* target up to '?', percent-decoded */
    int minor;              /* HTTP/1.x */
    int keep_alive;         /* what the client asked, after version defaults */
    uint64_t content_length;
    int chunked;            /* the body comes in the chunked coding (no length) */
    /* One byte range (RFC 9110 14.2), when the request has a Range header of
     * that form and no If-Range (we have no validators to compare with):
     * "bytes=F-L" (first, last), "bytes=F-" (last = UINT64_MAX) or
     * "bytes=-N" (suffix: the last N bytes; first = UINT64_MAX, last = N).
     * Other forms (several ranges, other units, bad syntax) are ignored, as
     * the RFC allows: the whole representation is sent. */
    int has_range;
    uint64_t range_first, range_last;
} http_request;

/* Resolves the request's range against a representation of len bytes:
 * 0 and [*off, *off + *n) when it is satisfiable (206), -1 when it is not
 * (416); 1 when there is no usable range (200, the whole body). */
int http_resolve_range(const http_request *r, uint64_t len, uint64_t *off, uint64_t *n);

/* Parses a request head. Returns 0, or the status to answer with:
 * 400 (malformed, or a body whose length cannot be known: see
 * Transfer-Encoding in http.c), 414 (target too long), 501 (a transfer
 * coding other than chunked), 505 (not HTTP/1.x). */
int http_parse_request(const char *head, size_t len, http_request *r);

typedef struct http_response {
    int status;
    int minor;
    int64_t content_length; /* -1: not given */
    int chunked;
    int keep_alive;
    char location[2048];    /* Location header ("" if none or too long) */
} http_response;

/* Parses a response head; 0 or -1 (malformed). */
int http_parse_response(const char *head, size_t len, http_response *r);

/* Streaming decoder of the chunked transfer coding. */
typedef struct http_chunked {
    int state;
    uint64_t remaining;
    int digits;
} http_chunked;

typedef void (*http_emit_fn)(void *ud, const uint8_t *data, size_t len);

void http_chunked_init(http_chunked *d);
/* Decodes in[0..len), handing body bytes to emit. Returns the bytes
 * consumed (all of them unless the body ended), or -1 on malformed input. */
long http_chunked_feed(http_chunked *d, const uint8_t *in, size_t len, http_emit_fn emit, void *ud);
/* 1 once the last chunk and the trailer were read. */
int http_chunked_done(const http_chunked *d);

/* Parses "http://A.B.C.D[:port][/path]". Returns 0 or -1. */
int http_parse_url(const char *url, uint32_t *addr, uint16_t *port, const char **path);

/* Where a redirect goes: `location` is an absolute http:// URL or a
 * reference relative to `base` (an absolute URL): "/path", or a relative
 * path resolved against base's directory (RFC 3986 5.2, without dot
 * segments). Writes the absolute URL to out; 0, or -1 (not HTTP, too long). */
int http_resolve_location(const char *base, const char *location, char *out, size_t cap);

#endif
