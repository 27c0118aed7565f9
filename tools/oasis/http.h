/* The little HTTP/1.1 the CLI needs: parsing request and response heads
 * (RFC 9112) and decoding a chunked body. No I/O here, so it can be tested
 * with strings. */
#ifndef OASIS_TOOL_HTTP_H
#define OASIS_TOOL_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEAD 16384

/* Length of the head (up to and including the empty line) at buf, 0 if it
 * is not complete yet, -1 if it cannot fit in HTTP_MAX_HEAD. */
long http_head_end(const char *buf, size_t len);

typedef struct http_request {
    char method[16];
    char path[2048];        /* target up to '?', percent-decoded */
    int minor;              /* HTTP/1.x */
    int keep_alive;         /* what the client asked, after version defaults */
    uint64_t content_length;
} http_request;

/* Parses a request head. Returns 0, or the status to answer with:
 * 400 (malformed), 414 (target too long), 501 (transfer coding we do not
 * take), 505 (not HTTP/1.x). */
int http_parse_request(const char *head, size_t len, http_request *r);

typedef struct http_response {
    int status;
    int minor;
    int64_t content_length; /* -1: not given */
    int chunked;
    int keep_alive;
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

#endif
