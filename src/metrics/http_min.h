/* Just enough HTTP/1.1 (RFC 9112) for the reporter to read InfluxDB's
 * answers: find the end of a response head and parse its status line and
 * framing headers. No I/O, so it is tested with strings. */
#ifndef OASIS_METRICS_HTTP_MIN_H
#define OASIS_METRICS_HTTP_MIN_H

#include <stddef.h>
#include <stdint.h>

typedef struct http_min_resp {
    int status;             /* 100..599 */
    int minor;              /* HTTP/1.x */
    int64_t content_length; /* -1: not given */
    int chunked;            /* Transfer-Encoding ends in chunked */
    int keep_alive;         /* the connection may carry another request */
    int64_t retry_after_s;  /* Retry-After as delay-seconds (RFC 9110 10.2.3);
                             * -1: none, or an HTTP-date (not read) */
} http_min_resp;

/* Length of the head at buf (through the empty line), 0 if not complete. */
size_t http_min_head_end(const char *buf, size_t len);

/* Parses a complete head. Returns 0 or -1 (malformed). */
int http_min_parse(const char *head, size_t len, http_min_resp *r);

/* Body bytes that follow the head: content_length, 0 for statuses that
 * never carry one (1xx, 204, 304), or -1 when the body is not delimited by
 * a length (chunked or read-until-close). */
int64_t http_min_body_len(const http_min_resp *r);

/* Case-insensitive: does [s, s+n) equal the lower-case word w? (Header
 * names, also for the /metrics server.) */
int http_min_eq_ci(const char *s, size_t n, const char *w);
/* The next element of the comma-separated header value [v, v+n) from
 * *pos (start at 0), trimmed: 1 with it in [*a, *b), possibly empty; 0 at
 * the end. */
int http_min_list_next(const char *v, size_t n, size_t *pos, size_t *a, size_t *b);
/* Does the comma-separated header value [v, v+n) hold the token w? */
int http_min_has_token(const char *v, size_t n, const char *w);

#endif
