/* The metrics registry's insides, shared by the files of src/metrics. */
#ifndef OASIS_METRICS_IMPL_H
#define OASIS_METRICS_IMPL_H

#include "oasis/metrics.h"
#include "oasis/tcp.h"

/* Strings copied during a snapshot live in fixed-size chunks, reused from
 * one snapshot to the next, so pointers handed out never move. */
#define METRICS_CHUNK 8192

typedef struct metrics_chunk {
    struct metrics_chunk *next;
    size_t used;
    char data[METRICS_CHUNK];
} metrics_chunk;

struct oasis_metrics_source {
    oasis_metrics *m;
    struct oasis_metrics_source *next;
    char *name;
    oasis_metric_tag *tags;   /* copied, sorted by key */
    size_t ntags;
    oasis_metrics_read_fn read;
    void *ud;                 /* handed to read */
    const void *key;          /* what remove_by_ud matches */
    void *priv;               /* built-ins: extra state, freed with the source */
    int enabled;
    int last_error;
};

/* Where a point's tags and fields start in the snapshot arrays (the arrays
 * move while they grow, so pointers are set once collecting is done). */
typedef struct metrics_point_ix {
    size_t tag0, field0;
} metrics_point_ix;

struct oasis_metrics {
    oasis_metrics_config cfg;
    oasis_metrics_source *head, *tail;
    size_t nsources;

    /* the snapshot under construction / last built */
    oasis_metric_point *points;
    metrics_point_ix *pix;
    size_t npoints, points_cap;
    oasis_metric_tag *tags;
    size_t ntags, tags_cap;
    oasis_metric_field *fields;
    size_t nfields, fields_cap;
    metrics_chunk *chunks, *cur_chunk;
    size_t nchunks;
    size_t string_bytes;
    /* oasis_metrics_collect runs (read callbacks): adding, removing,
     * collecting and destroy are refused (OASIS_EBUSY) meanwhile. */
    unsigned collecting;
};

struct oasis_metrics_emit {
    oasis_metrics *m;
    oasis_metrics_source *src;
    int open;                 /* a point is open (its index is npoints - 1) */
};

void *metrics_alloc(oasis_metrics *m, void *p, size_t n);
void metrics_free(oasis_metrics *m, void *p);

/* Adds a source whose removal key differs from its read ud; priv is freed
 * (metrics_free) with the source. On failure priv is freed too. */
int metrics_add_source_ex(oasis_metrics *m, const char *name, const oasis_metric_tag *tags,
                          size_t ntags, oasis_metrics_read_fn read, void *ud, const void *key,
                          void *priv, oasis_metrics_source **out);

/* The built-in per-flow source, with the TCP calls passed in so that it can
 * be tested without a TCP layer. */
typedef struct metrics_flow_ops {
    void (*foreach_flow)(oasis_stack *s, void (*fn)(oasis_flow *flow, void *ud), void *ud);
    int (*get_info)(const oasis_flow *flow, oasis_tcp_info *info);
} metrics_flow_ops;

int metrics_add_flows_with(oasis_metrics *m, oasis_stack *s, const metrics_flow_ops *ops,
                           const oasis_metric_tag *tags, size_t ntags, uint32_t max_flows);

/* The six layer sources of a stack, reading counters through get (so that
 * this file's callers, not metrics_layers.c, depend on the stack). */
int metrics_add_stack_layers(oasis_metrics *m, oasis_stack *s,
                             const oasis_counters *(*get)(const oasis_stack *),
                             const oasis_metric_tag *tags, size_t ntags);

/* Validation shared by the registry and the encoder: non-empty, at most
 * OASIS_METRICS_MAX_STRING bytes, no '\n' or '\r'. */
int metrics_name_ok(const char *s);
/* Shortest decimal form of a finite double that reads back the same, with
 * '.' whatever the locale (lp.c). */
void metrics_format_double(char *buf, size_t cap, double v);
/* Can s be a line-protocol tag key or value (lp.c): a name (above) with
 * no backslash that line protocol would read as an escape (at its end, or
 * before ',', '=' or ' '). */
int metrics_lp_tag_ok(const char *s);
/* The state names the per-flow source reports. */
const char *metrics_tcp_state_name(int st);

#endif
