/* A metrics reporter: every interval it collects a registry (metrics.h) and
 * sends the points, as InfluxDB line protocol, over Oasis's own TCP to
 *   - an InfluxDB 1.x HTTP endpoint: POST /write?db=DB&precision=ns on one
 *     HTTP/1.1 keep-alive connection; 2xx is success, 4xx means the batch
 *     is bad (dropped and counted), 5xx, 408, 429 or a lost connection
 *     mean try again later (the batch stays queued); or
 *   - an InfluxDB 2.x HTTP endpoint (or one that speaks its write API, like
 *     InfluxDB 3 or VictoriaMetrics): POST /api/v2/write?org=..&bucket=..
 *     &precision=ns with Authorization: Token ..., same rules; or
 *   - a raw line-protocol TCP listener (Telegraf's socket_listener): just
 *     lines; a batch counts as sent when the peer has acknowledged it.
 * An HTTP answer that comes while the request body is still going out
 * (the sink judged the head alone, e.g. 401) settles the batch as any
 * answer does, and the connection is closed at once: the rest of the body
 * is not sent (RFC 9112 9.5); the next request goes on a new connection.
 *
 * The reporter lives on the stack it sends through: its timers are the
 * stack's, so it runs from oasis_stack_poll() like TCP does (the loop of
 * loop.h and the wire of wire.h drive it with no extra call). It never
 * blocks: all I/O is the asynchronous TCP API, and one request at most is
 * in flight.
 *
 * Queue. Each point becomes one encoded line in a bounded queue. When the
 * sink is away and the queue is full, the OLDEST line is dropped and
 * counted (points_dropped). A request takes lines from the front of the
 * queue (at most max_batch_bytes); while it is in flight those lines are out
 * of the queue, and if it fails they return to the front (so they are the
 * first to be dropped when the queue overflows). Every point collected ends
 * in exactly one counter: points_collected = points_sent + points_dropped +
 * points_rejected + queue_points + inflight_points. Delivery is at least
 * once: a request whose outcome is unknown (the connection died or timed
 * out before the answer) is sent again, and the sink may have stored it;
 * InfluxDB then overwrites the same points (same series, same timestamp).
 *
 * Reconnects wait an exponential backoff (backoff_min_ns doubling up to
 * backoff_max_ns per consecutive failure) with jitter from a PRNG seeded by
 * cfg.seed: the wait is uniform in [d/2, d) for the current step d, so
 * until the cap waits never shrink while failures go on. An answer from the
 * sink resets the step. Losing the connection counts as a failure; a
 * connect is only attempted when something is queued. A "try later"
 * answer (5xx, 408, 429) with Retry-After in seconds (RFC 9110 10.2.3)
 * waits at least that long, up to an hour; an HTTP-date there is not read.
 *
 * The reporter also adds a source to the registry, measurement
 * "oasis_reporter" (fields: the counters of oasis_reporter_stats), so what
 * it lost is reported with what it sent.
 *
 * Lifetime: destroy the reporter before its stack and its registry.
 */
#ifndef OASIS_METRICS_REPORTER_H
#define OASIS_METRICS_REPORTER_H

#include <stddef.h>
#include <stdint.h>

#include "oasis/metrics.h"
#include "oasis/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oasis_reporter oasis_reporter;

typedef enum oasis_reporter_proto {
    OASIS_REPORTER_HTTP = 0, /* InfluxDB 1.x HTTP API */
    OASIS_REPORTER_TCP = 1,  /* raw line protocol over TCP */
    OASIS_REPORTER_HTTP_V2 = 2 /* InfluxDB 2.x/3.x (and VictoriaMetrics) /api/v2/write */
} oasis_reporter_proto;

/* Compresses in[0..len) as gzip (RFC 1952) into out[0..cap); returns the
 * compressed length, or 0 to send the body as it is. */
typedef size_t (*oasis_reporter_gzip_fn)(void *ud, const void *in, size_t len, void *out,
                                         size_t cap);

typedef struct oasis_reporter_config {
    oasis_reporter_proto proto;
    uint32_t addr;               /* the sink, host order */
    uint16_t port;
    const char *db;              /* HTTP: database, [A-Za-z0-9_.-]+ (copied) */
    const char *v2_query;        /* HTTP_V2: "org=O&bucket=B[&precision=ns]", each
                                  * value [A-Za-z0-9_.~-] or %XX (copied); the
                                  * precision is ns (added when absent) */
    const char *token;           /* HTTP_V2: Authorization: Token TOKEN (copied) */
    const char *username;        /* HTTP (1.x): with password, Authorization: Basic */
    const char *password;        /* (both copied; printable ASCII, no ':' in the name) */
    oasis_reporter_gzip_fn gzip; /* HTTP, HTTP_V2: NULL: bodies go uncompressed; else
                                  * each body is offered to it and sent with
                                  * Content-Encoding: gzip when that is shorter */
    void *gzip_ud;
    const char *host_tag;        /* NULL: none; else tag host=NAME on every point
                                  * that has no host tag of its own (copied);
                                  * create refuses one line protocol cannot
                                  * carry: '\n', '\r', or a backslash at its
                                  * end or before '\\', ',', '=' or ' ' */
    uint64_t interval_ns;        /* collect and send this often (10 s) */
    uint32_t max_queue_points;   /* lines kept while the sink is away (10000) */
    uint32_t max_batch_bytes;    /* body of one request at most (1 MiB); a longer
                                  * line is refused and counted in encode_errors */
    uint64_t backoff_min_ns;     /* first reconnect wait (500 ms) */
    uint64_t backoff_max_ns;     /* longest reconnect wait (30 s) */
    uint64_t timeout_ns;         /* connect, or a request without answer (10 s) */
    uint64_t seed;               /* jitter PRNG */
    unsigned lp_flags;           /* OASIS_LP_* flags of the encoder (0) */
    /* Timestamps of the points: Unix time in ns. NULL: CLOCK_REALTIME. */
    uint64_t (*unix_time_ns)(void *ud);
    void *unix_time_ud;
} oasis_reporter_config;

/* Fills cfg with the defaults above (proto HTTP; addr, port and db unset).
 * NULL is ignored. */
void oasis_reporter_config_init(oasis_reporter_config *cfg);

/* Parses a sink URL into cfg->proto, addr, port and db or v2_query:
 *   http://A.B.C.D[:PORT]/DB   InfluxDB 1.x (port 8086)
 *   http://A.B.C.D[:PORT]/api/v2/write?org=O&bucket=B[&precision=ns]
 *                              InfluxDB 2.x API (port 8086)
 *   tcp://A.B.C.D[:PORT]       raw line protocol (port 8094)
 * cfg->db / v2_query point into url (keep url alive). Returns 0, or OASIS_EINVAL with
 * a sentence saying what is wrong in errbuf (may be NULL). */
int oasis_reporter_parse_url(const char *url, oasis_reporter_config *cfg, char *errbuf,
                             size_t errlen);

/* Creates a reporter that collects m and sends through s (both borrowed).
 * The first collection happens one interval from now. Returns 0,
 * OASIS_EINVAL (bad config: no addr/port, HTTP without a valid db, a zero
 * interval, queue or batch size, backoff_min > backoff_max) or
 * OASIS_ENOMEM. */
int oasis_reporter_create(oasis_stack *s, oasis_metrics *m, const oasis_reporter_config *cfg,
                          oasis_reporter **out);

/* Aborts the connection, removes the reporter's source from the registry,
 * frees everything. Points still queued are lost. NULL is accepted. */
void oasis_reporter_destroy(oasis_reporter *r);

/* Collects a snapshot now and starts sending it (the periodic schedule is
 * not moved). For a last report before exit: oasis_reporter_stop, flush,
 * then drive the stack until oasis_reporter_idle. Returns 0. */
int oasis_reporter_flush(oasis_reporter *r);

/* Collects every ns from now on (the next one ns from now). Returns 0 or
 * OASIS_EINVAL (0). */
int oasis_reporter_set_interval(oasis_reporter *r, uint64_t ns);
uint64_t oasis_reporter_interval(const oasis_reporter *r);

/* Stops periodic collection; what is queued is still sent. */
void oasis_reporter_stop(oasis_reporter *r);

/* 1 when nothing is queued or in flight. */
int oasis_reporter_idle(const oasis_reporter *r);

typedef struct oasis_reporter_stats {
    uint64_t points_collected; /* lines that entered the queue */
    uint64_t points_sent;      /* in a batch the sink accepted */
    uint64_t points_dropped;   /* pushed out of the full queue (oldest first) */
    uint64_t points_rejected;  /* in a batch the sink refused with 4xx */
    uint64_t encode_errors;    /* points the encoder refused (never queued) */
    uint64_t batches_sent;
    uint64_t batches_rejected;
    uint64_t bytes_sent;       /* request bodies accepted (before compression) */
    uint64_t batches_gzip;     /* requests sent with a gzip body */
    uint64_t connects;         /* connections established */
    uint64_t connect_failures; /* refused, timed out, unreachable */
    uint64_t send_failures;    /* requests lost with the connection or timed out */
    uint64_t http_errors;      /* 4xx and 5xx answers */
    uint64_t queue_points;     /* lines waiting now */
    uint64_t inflight_points;  /* lines in the request in flight now */
    uint64_t last_collect_ns;  /* Unix time of the last snapshot (0: none) */
    int last_status;           /* HTTP status of the last answer (0: none) */
} oasis_reporter_stats;

void oasis_reporter_get_stats(const oasis_reporter *r, oasis_reporter_stats *out);

#ifdef __cplusplus
}
#endif
#endif
