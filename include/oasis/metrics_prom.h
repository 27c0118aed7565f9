/* Prometheus / OpenMetrics exposition of a metrics registry (metrics.h), and
 * a small HTTP/1.1 server for it on an Oasis stack (GET /metrics).
 *
 * Names. Each field of each point is one sample of the metric family
 *   PREFIX + measurement + "_" + field key      e.g. oasis_tcp_InSegs
 * (no PREFIX when the measurement starts with it: oasis_reporter_...) with
 * every character outside [a-zA-Z0-9_:] made '_' (and a '_' in front
 * of a leading digit). Tags become labels: keys outside [a-zA-Z0-9_] made
 * '_', a leading digit gets a '_' in front, a leading "__" (reserved by
 * Prometheus) loses one '_'; a label whose sanitised key repeats an earlier
 * one of the same sample is left out (Prometheus refuses duplicates).
 * Values are escaped per the formats: '\' -> "\\", '"' -> "\"", newline ->
 * "\n" (HELP text: '\' and newline; OpenMetrics also '"'), and a byte
 * that begins no UTF-8 sequence becomes U+FFFD (both formats are UTF-8).
 *
 * Types. A counter field (oasis_metrics_field_counter) is TYPE counter,
 * its sample named NAME_total (text format 0.0.4: the family is NAME_total
 * too; OpenMetrics: the family is NAME, the sample NAME_total). Other
 * numeric fields are gauges (bool: 0/1). A string field becomes an info
 * sample NAME_info{...,KEY="value"} 1 (OpenMetrics TYPE info; 0.0.4 TYPE
 * gauge), left out if KEY repeats a label. The samples of one family are
 * written together, families sorted by name, samples in snapshot order; no
 * timestamps (the scraper stamps the scrape). OpenMetrics ends in "# EOF".
 */
#ifndef OASIS_METRICS_PROM_H
#define OASIS_METRICS_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "oasis/metrics.h"
#include "oasis/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OASIS_PROM_OPENMETRICS 0x1u /* OpenMetrics 1.0.0 instead of text 0.0.4 */

#define OASIS_PROM_CTYPE_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define OASIS_PROM_CTYPE_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"

/* Appends the exposition of snap to b (prefix NULL: "oasis_"; it is
 * sanitised like the rest of the name). Returns 0, OASIS_EMSGSIZE (b's max
 * reached: b is left as it was), OASIS_ENOMEM or OASIS_EINVAL. */
int oasis_prom_encode(oasis_lp_buf *b, const oasis_metrics_snapshot *snap, const char *prefix,
                      unsigned flags);

/* Writes the sanitised metric name (label == 0) or label name (label == 1)
 * of in to out (NUL-terminated, cut to outlen - 1). Returns the full
 * length, like snprintf (out NULL: only that, as outlen 0; in NULL as ""). */
size_t oasis_prom_sanitize(char *out, size_t outlen, const char *in, int label);

/* Which format an Accept header value asks for: OASIS_PROM_OPENMETRICS when
 * application/openmetrics-text has a q above 0 and at least text/plain's
 * (and any wildcard's), else 0. NULL: 0. */
unsigned oasis_prom_negotiate(const char *accept);

/* ---- the server ------------------------------------------------------------ */

typedef struct oasis_prom_server oasis_prom_server;

typedef struct oasis_prom_config {
    uint16_t port;              /* on the stack (required) */
    const char *prefix;         /* NULL: "oasis_" (copied) */
    uint32_t max_conns;         /* connections at once (16): beyond, the one that has
                                 * waited longest for a request (none waits: for its
                                 * answer to be read) is reset to make room */
    uint32_t max_request_bytes; /* a request head at most (8192): longer: 431 */
    uint32_t max_body_bytes;    /* an exposition at most (16 MiB): longer: 500 */
    uint64_t idle_timeout_ns;   /* a connection that has waited this long (300 s) for
                                 * a whole request head, or for the client to take
                                 * its answer or close, is reset; 0: never */
    /* Called for every scrape just before the registry is read, with the
     * scrape's number (the scrapes counter's value in that scrape). */
    void (*on_scrape)(void *ud, uint64_t scrape);
    void *on_scrape_ud;
} oasis_prom_config;

/* Fills cfg with the defaults above (NULL is ignored). */
void oasis_prom_config_init(oasis_prom_config *cfg);

/* Listens on cfg->port of s and answers
 *   GET|HEAD /metrics   200, the exposition of a fresh snapshot of m, in
 *                       the format the Accept header asks for
 *   another path        404;  another method: 405 (Allow: GET, HEAD)
 *   bad request line or headers, HTTP/1.1 without exactly one Host: 400
 *   a request body (Content-Length > 0, Transfer-Encoding: chunked): 413;
 *   Transfer-Encoding whose final coding is not chunked, with a
 *   Content-Length, or in HTTP/1.0: 400; with another coding before
 *   chunked: 501 (RFC 9112 6.1, 6.3)
 *   a head over max_request_bytes: 431;  HTTP/2 or 0.9: 505
 * HTTP/1.1 keep-alive (and pipelining: answers in order; HTTP/1.0 with
 * Connection: keep-alive too, its answers saying keep-alive); errors other than
 * 404/405 close the connection after the answer (every answer has a Date,
 * RFC 9110 6.6.1; to HEAD, none has a body). Adds a source
 * "prometheus" to m (counters scrapes, requests, bad_requests, evictions,
 * timeouts; gauge connections: oasis_prometheus_scrapes_total...). Returns 0, OASIS_EINVAL, OASIS_EADDRINUSE,
 * OASIS_ENOMEM. Destroy it before s and m. */
int oasis_prom_server_create(oasis_stack *s, oasis_metrics *m, const oasis_prom_config *cfg,
                             oasis_prom_server **out);
void oasis_prom_server_destroy(oasis_prom_server *p);
uint64_t oasis_prom_server_scrapes(const oasis_prom_server *p);

#ifdef __cplusplus
}
#endif
#endif
