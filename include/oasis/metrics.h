/* Metrics: a registry of sources that are read into points, and an encoder
 * for InfluxDB line protocol (in the spirit of MirageOS's metrics,
 * metrics-mirage and metrics-influx).
 *
 * Model. An application creates a registry (no global state; one per
 * application, or more). Sources are added to it: built-in ones that read a
 * stack's counters (one measurement per layer) or its TCP flows, and the
 * application's own (a callback that fills fields). oasis_metrics_collect()
 * reads every enabled source into points: measurement, tags sorted by key,
 * typed fields, one timestamp. oasis_lp_encode_points() turns points into
 * line protocol in a growable buffer with a hard maximum size, ready for a
 * reporter to send. A registry may read several stacks: tell them apart with
 * source tags (e.g. "stack"="a").
 *
 * Memory. Every allocation goes through the registry's allocator; the number
 * of sources, points per snapshot, tags and fields per point and string bytes
 * per snapshot are bounded (oasis_metrics_config). In steady state (same
 * sources, same flows) collecting allocates nothing.
 *
 * Threads. A registry is single-threaded, like a stack: collect from the
 * thread that drives the stacks it reads.
 */
#ifndef OASIS_METRICS_H
#define OASIS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "oasis/counters.h"
#include "oasis/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- points ------------------------------------------------------------- */

typedef enum oasis_metric_type {
    OASIS_METRIC_INT,    /* int64_t */
    OASIS_METRIC_UINT,   /* uint64_t */
    OASIS_METRIC_FLOAT,  /* double, finite */
    OASIS_METRIC_BOOL,   /* 0 or 1 */
    OASIS_METRIC_STRING  /* NUL-terminated */
} oasis_metric_type;

typedef struct oasis_metric_tag {
    const char *key;
    const char *value;
} oasis_metric_tag;

typedef struct oasis_metric_field {
    const char *key;
    oasis_metric_type type;
    union {
        int64_t i;
        uint64_t u;
        double f;
        int b;
        const char *s;
    } v;
    /* 1: a monotonic counter (Prometheus TYPE counter); 0: a current value
     * (gauge). Only the Prometheus encoder looks at it. */
    int counter;
} oasis_metric_field;

typedef struct oasis_metric_point {
    const char *measurement;
    const oasis_metric_tag *tags;     /* sorted by key (bytewise) in snapshots */
    size_t ntags;
    const oasis_metric_field *fields; /* in the order the source emitted them */
    size_t nfields;                   /* >= 1 in snapshots */
    uint64_t timestamp_ns;
} oasis_metric_point;

/* ---- registry ----------------------------------------------------------- */

typedef struct oasis_metrics oasis_metrics;
typedef struct oasis_metrics_source oasis_metrics_source;
/* The writer a source's read callback fills (valid during the callback). */
typedef struct oasis_metrics_emit oasis_metrics_emit;

/* Longest key, tag value or string field value a source may emit, in bytes
 * (longer ones are refused with OASIS_EINVAL). */
#define OASIS_METRICS_MAX_STRING 4095

typedef struct oasis_metrics_config {
    oasis_alloc_fn alloc;       /* NULL: libc */
    void *alloc_ud;
    uint32_t max_sources;       /* sources in the registry (256) */
    uint32_t max_points;        /* points in one snapshot (4096) */
    uint32_t max_tags;          /* tags per point, source tags included (32) */
    uint32_t max_fields;        /* fields per point (128) */
    uint32_t max_string_bytes;  /* bytes of copied keys/values per snapshot (1 MiB) */
} oasis_metrics_config;

/* Fills cfg with the defaults above (NULL is ignored). */
void oasis_metrics_config_init(oasis_metrics_config *cfg);

/* Creates a registry; cfg NULL means the defaults. Returns 0, OASIS_EINVAL
 * (a zero bound) or OASIS_ENOMEM. */
int oasis_metrics_create(const oasis_metrics_config *cfg, oasis_metrics **out);

/* Frees the registry, its sources and its snapshot. Returns 0 (NULL is
 * accepted), or OASIS_EBUSY, freeing nothing, from a read callback. */
int oasis_metrics_destroy(oasis_metrics *m);

/* A source's read callback: emit fields (and, for sources with several
 * points, oasis_metrics_next_point / tags) into e. Return 0, or an oasis_err
 * to discard every point of this source for this snapshot. The emit calls
 * below return errors too; a callback may ignore one (the field is simply
 * not added) or return it. Adding or removing sources, collecting and
 * destroying the registry from it are refused (OASIS_EBUSY; remove_by_ud
 * removes nothing); enabling and disabling sources is allowed. */
typedef int (*oasis_metrics_read_fn)(oasis_metrics_emit *e, void *ud);

/* Adds an application source. name is the measurement; tags (may be NULL
 * when ntags is 0) are added to each of its points. Names, tags and the
 * values are copied. New sources are enabled. *out (may be NULL) receives the
 * handle, valid until removed or the registry is destroyed.
 * Returns 0; OASIS_EINVAL for an empty or over-long name/key/value, a
 * newline in one, a duplicate tag key, more than max_tags tags, no callback;
 * OASIS_ENOMEM when max_sources is reached or memory runs out; OASIS_EBUSY
 * from a read callback. */
int oasis_metrics_add_source(oasis_metrics *m, const char *name, const oasis_metric_tag *tags,
                             size_t ntags, oasis_metrics_read_fn read, void *ud,
                             oasis_metrics_source **out);

/* Removes one source: 0, OASIS_EINVAL (NULL), OASIS_ENOENT (not in its
 * registry), or OASIS_EBUSY from a read callback (collect is walking the
 * sources; nothing is removed). */
int oasis_metrics_remove(oasis_metrics_source *src);

/* Removes every source that was added with this ud (for built-in sources:
 * the stack, or the counters pointer of oasis_metrics_add_counters). Call it
 * before destroying a stack the registry reads. Returns how many went (0
 * from a read callback: nothing goes then). */
size_t oasis_metrics_remove_by_ud(oasis_metrics *m, const void *ud);

/* Enable or disable one source; a disabled source is not read. */
void oasis_metrics_source_enable(oasis_metrics_source *src, int on);
int oasis_metrics_source_enabled(const oasis_metrics_source *src);

/* Enables or disables every source whose measurement is name (e.g. "arp"
 * for all stacks). Returns how many sources matched. */
size_t oasis_metrics_enable(oasis_metrics *m, const char *name, int on);

/* The error the source's last read ended with (0: it went fine or was not
 * read yet). */
int oasis_metrics_source_error(const oasis_metrics_source *src);
const char *oasis_metrics_source_name(const oasis_metrics_source *src);
size_t oasis_metrics_source_count(const oasis_metrics *m);

/* ---- emitting (from a read callback) ------------------------------------- */

/* Every emit call returns 0, OASIS_EINVAL (empty/over-long key or value, a
 * newline in one, a key already used in this point, NaN or infinity) or
 * OASIS_ENOMEM (a bound of the registry was hit). A point is opened by the
 * first tag or field; it gets the source's measurement and tags. */
int oasis_metrics_field_int(oasis_metrics_emit *e, const char *key, int64_t v);
int oasis_metrics_field_uint(oasis_metrics_emit *e, const char *key, uint64_t v);
/* A uint field that only grows (a counter); field_uint is a gauge. */
int oasis_metrics_field_counter(oasis_metrics_emit *e, const char *key, uint64_t v);
int oasis_metrics_field_float(oasis_metrics_emit *e, const char *key, double v);
int oasis_metrics_field_bool(oasis_metrics_emit *e, const char *key, int v);
int oasis_metrics_field_string(oasis_metrics_emit *e, const char *key, const char *v);
/* A tag of the current point only (e.g. a flow's 4-tuple). */
int oasis_metrics_tag(oasis_metrics_emit *e, const char *key, const char *value);
/* Ends the current point and starts another (for sources with one point per
 * flow, per peer...). A point left without fields is dropped. */
int oasis_metrics_next_point(oasis_metrics_emit *e);

/* ---- snapshots ------------------------------------------------------------ */

typedef struct oasis_metrics_snapshot {
    const oasis_metric_point *points;
    size_t count;
    uint64_t timestamp_ns;
    size_t failed_sources; /* sources whose read failed; their points are left out */
} oasis_metrics_snapshot;

/* Reads every enabled source, in the order they were added, into points
 * stamped timestamp_ns (for InfluxDB: Unix time in ns, not a stack clock).
 * The snapshot's memory belongs to the registry and stays valid until the
 * next collect, a source removal or destroy. A source that fails (its
 * callback's error, or a bound hit) loses its points for this snapshot, and
 * oasis_metrics_source_error() tells why; collect still returns 0.
 * Returns 0, OASIS_EINVAL (NULL arguments) or OASIS_EBUSY (from a read
 * callback of this registry). */
int oasis_metrics_collect(oasis_metrics *m, uint64_t timestamp_ns, oasis_metrics_snapshot *snap);

/* ---- built-in sources ------------------------------------------------------ */

/* Adds six sources reading the stack's counters (oasis_stack_counters()),
 * measurements "link", "arp", "ipv4", "icmp", "udp", "tcp", and when the
 * stack runs IPv6 (cfg.ipv6) three more: "ipv6", "icmp6" and "nd"
 * (Neighbour Discovery, DAD, SLAAC). Field names are
 * the Linux MIB names where one exists (Tcp: ActiveOpens, PassiveOpens,
 * AttemptFails, EstabResets, CurrEstab, InSegs, OutSegs, RetransSegs, InErrs,
 * InCsumErrors, OutRsts; TcpExt: ListenOverflows, PAWSEstab, TCPTimeouts...;
 * Ip, Icmp, Udp likewise; Ip6... and Icmp6... as Linux's /proc/net/snmp6)
 * and CamelCase drop reasons for the rest; values are
 * OASIS_METRIC_UINT, counters except the current values CurrEstab,
 * CurrTimeWait, CurrFlows, TCPMemBytes, CacheEntries, ReasmBytes,
 * Ip6ReasmBytes, NdCacheEntries, Routers, Prefixes, RaDnsServers and
 * RaDnsDomains (gauges). oasis_metrics_layer_field() lists them. tags are
 * added to every point. The sources' ud is s (see oasis_metrics_remove_by_ud).
 * Returns 0, OASIS_EINVAL or OASIS_ENOMEM (then none was added). */
int oasis_metrics_add_stack(oasis_metrics *m, oasis_stack *s, const oasis_metric_tag *tags,
                            size_t ntags);

/* The same sources, all nine, reading a counters struct directly (e.g. a snapshot
 * the application keeps, or a stack in another process); ud is c. */
int oasis_metrics_add_counters(oasis_metrics *m, const oasis_counters *c,
                               const oasis_metric_tag *tags, size_t ntags);

/* One point per live TCP flow of the stack (oasis_tcp_foreach_flow +
 * oasis_tcp_get_info), measurement "tcp_flow", in the spirit of Linux
 * tcp_info. Flows the application has given back (closed with no callback,
 * or released) are the stack's and not reported, as the walk skips them,
 * while their close finishes, nor are the library's own (a reporter's
 * connection, a control port's, a Prometheus server's); the layer's counters ("tcp") count them all. Tags:
 * local_addr, local_port, remote_addr, remote_port (dotted quad or RFC
 * 5952 IPv6 text / decimal) plus tags. Fields: state (string, e.g. "ESTABLISHED"),
 * srtt_ns, rttvar_ns, rto_ns, mss_send, mss_recv, cwnd, ssthresh,
 * bytes_in_flight, snd_wnd, rcv_wnd, sndbuf, rcvbuf, retransmits, bytes_acked,
 * bytes_received, segs_in, segs_out (uint). At most max_flows flows are
 * reported per snapshot (0: 256); the rest are left out (keep it under the
 * registry's max_points: a source that hits that bound loses all its points
 * for the snapshot). Flows make one series each in a time-series database:
 * add this source knowingly. ud is s. Links against the TCP layer (the other
 * built-ins and the encoder do not). */
int oasis_metrics_add_tcp_flows(oasis_metrics *m, oasis_stack *s, const oasis_metric_tag *tags,
                                size_t ntags, uint32_t max_flows);

/* The i-th field name of a built-in layer measurement ("link", "arp",
 * "ipv4", "icmp", "udp", "tcp"), in emit order; NULL past the last one or
 * for an unknown measurement. */
const char *oasis_metrics_layer_field(const char *measurement, size_t i);

/* ---- InfluxDB line protocol ------------------------------------------------ */

/* A growable output buffer with a hard maximum. data is not NUL-terminated;
 * len bytes are valid. Initialise with oasis_lp_buf_init. */
typedef struct oasis_lp_buf {
    char *data;
    size_t len, cap, max;
    oasis_alloc_fn alloc;
    void *alloc_ud;
} oasis_lp_buf;

/* max: the most bytes the buffer may ever hold (a line longer than max can
 * never be encoded). alloc NULL: libc. Memory is allocated on first use and
 * grows by doubling up to max. These three ignore b NULL. */
void oasis_lp_buf_init(oasis_lp_buf *b, size_t max, oasis_alloc_fn alloc, void *alloc_ud);
/* Forgets the content, keeps the memory (after the reporter sent it). */
void oasis_lp_buf_reset(oasis_lp_buf *b);
/* Frees the memory; the buffer is empty and may be used again. */
void oasis_lp_buf_free(oasis_lp_buf *b);

/* Encoding flags. */
#define OASIS_LP_UNSIGNED     0x1u /* uint64 fields as 123u (InfluxDB 2 / 1.x with
                                      unsigned support); default: 123i */
#define OASIS_LP_NO_TIMESTAMP 0x2u /* leave the timestamp out (server time) */

/* Appends one point as one line ending in '\n':
 *   measurement[,tag=value...] field=value[,field=value...] timestamp
 * Escaping: measurement: ',' and ' ' get a backslash; tag keys, tag values,
 * field keys: ',', '=' and ' '; string field values are in double quotes with
 * '"' and '\' escaped. Tags are written sorted by key (bytewise), whatever
 * their order in p. Integers get the 'i' suffix; uint64 is written as an
 * integer with 'i' when it fits in int64, and above that is refused with
 * OASIS_ENOTSUP unless OASIS_LP_UNSIGNED is set (then every uint is 'u').
 * Floats use the shortest of %.15g/%.16g/%.17g that parses back to the same
 * double (independent of the C locale). Booleans: true/false. The timestamp
 * is timestamp_ns in decimal.
 * Refused with OASIS_EINVAL, buffer unchanged: NULL/empty measurement, tag
 * key, tag value or field key; no fields; NaN or infinity; a '\n' or '\r'
 * anywhere (line protocol cannot carry them); a measurement starting with
 * '#' (a comment line) or a tab (InfluxDB 1.x skips it as leading
 * whitespace); a backslash that ends a name, or that precedes a
 * character some reader takes as escaped there: '\\' (one backslash to
 * VictoriaMetrics and InfluxDB 3, two to InfluxDB 1.x), ',', ' ', '=' and,
 * in a measurement or field key, '"' (InfluxDB 1.x reads a\=b as the
 * measurement a=b); a tag or field key "time" (InfluxDB refuses the
 * point, and answers its batch 400 partial write); duplicate tag or field
 * keys; a timestamp above INT64_MAX. OASIS_EMSGSIZE when the line would
 * take the buffer over its max (buffer unchanged); OASIS_ENOMEM. */
int oasis_lp_encode_point(oasis_lp_buf *b, const oasis_metric_point *p, unsigned flags);

/* Appends points[0..n) in order, for a reporter that sends in batches.
 * Stops when the next point does not fit (OASIS_EMSGSIZE, the buffer holds
 * whole lines only: send it, reset, and call again from *next). A point that
 * is invalid, or too big for even an empty buffer, is skipped; *rejected
 * (may be NULL) gets how many were skipped in this call. Returns 0 when all n were handled (*next == n),
 * OASIS_EMSGSIZE, OASIS_ENOMEM or OASIS_EINVAL (NULL arguments). */
int oasis_lp_encode_points(oasis_lp_buf *b, const oasis_metric_point *points, size_t n,
                           unsigned flags, size_t *next, size_t *rejected);

#ifdef __cplusplus
}
#endif
#endif
