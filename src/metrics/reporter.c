/* The metrics reporter: periodic collection, a bounded queue of encoded
 * lines, one request at a time to InfluxDB (HTTP) or a line-protocol TCP
 * listener, reconnects with jittered exponential backoff.
 *
 * State. conn is NONE, CONNECTING (a connect token is out) or UP (flow set).
 * One timer, `wake`, serves whichever wait is current: the connect timeout
 * (CONNECTING), the request timeout (inflight), or the backoff (waiting);
 * they never overlap. Lines of the request in flight are out of the queue
 * (inflight counts them) until the outcome is known.
 *
 * Callbacks of a flow compare it with r->flow: a flow is detached (r->flow
 * set to NULL) before it is aborted, so the completions that abort runs at
 * once find nothing to do. A connect cannot be cancelled, so it carries a
 * token that outlives the reporter if need be. */
#include "oasis/metrics_reporter.h"

#include "oasis/error.h"
#include "oasis/ip.h"
#include "oasis/tcp.h"

#include "core/mem.h"
#include "core/prng.h"
#include "core/stack_impl.h"
#include "core/timer.h"
#include "metrics/http_min.h"
#include "metrics/metrics_impl.h"
#include "tcp/tcp.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define RX_MAX 8192   /* the longest answer head we read */
#define DB_MAX 200

enum { CONN_NONE, CONN_CONNECTING, CONN_UP };

typedef struct rep_line {
    char *data;
    uint32_t len, cap;
} rep_line;

/* Outlives the reporter when it is destroyed with a connect pending. */
typedef struct rep_token {
    oasis_reporter *r; /* NULL: orphaned; abort whatever flow arrives */
    oasis_stack *s;
} rep_token;

struct oasis_reporter {
    oasis_stack *s;
    oasis_metrics *m;
    oasis_metrics_source *src;
    oasis_reporter_config cfg;
    char *db, *host;
    char *req_prefix;   /* HTTP: the request head up to Content-Length */
    size_t req_prefix_len;
    char *zbody;        /* the gzip'd body, when shorter */
    oasis_prng prng;

    oasis_timer tick, wake;
    uint64_t tick_at;

    rep_line *q; /* ring of encoded lines, oldest at qhead */
    uint32_t qhead, qlen;

    int conn;
    oasis_flow *flow;
    rep_token *token;
    int waiting;        /* a backoff is running: no connect, no send */
    uint32_t failures;  /* consecutive, the backoff's exponent */

    uint32_t inflight;  /* lines in the request whose outcome is pending */
    int wpending;       /* its write has not completed (buffers in use) */
    char *head;         /* req_prefix + framing headers */
    char *body;
    size_t body_len;
    char *rx;           /* answer bytes not yet parsed */
    size_t rx_len;
    uint64_t skip;      /* body bytes of the current answer still to come */

    oasis_lp_buf lp;
    oasis_metric_tag *tags;
    size_t tags_cap;

    oasis_reporter_stats st;
};

static void pump(oasis_reporter *r);

/* ---- configuration -------------------------------------------------------- */

void oasis_reporter_config_init(oasis_reporter_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->interval_ns = 10 * OASIS_NS_PER_SEC;
    cfg->max_queue_points = 10000;
    cfg->max_batch_bytes = 1u << 20;
    cfg->backoff_min_ns = 500 * OASIS_NS_PER_MS;
    cfg->backoff_max_ns = 30 * OASIS_NS_PER_SEC;
    cfg->timeout_ns = 10 * OASIS_NS_PER_SEC;
    cfg->seed = 1;
}

/* InfluxDB accepts more, but these need no escaping in a query string. */
static int db_ok(const char *db, size_t n)
{
    if (n == 0 || n > DB_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = db[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

/* org=..&bucket=..[&precision=ns]: both names once, values unreserved
 * characters or percent-encoded (they go into the request line as they are). */
static int v2_query_ok(const char *q)
{
    int org = 0, bucket = 0, prec = 0;
    if (strlen(q) > DB_MAX * 2)
        return 0;
    while (*q) {
        size_t n = strcspn(q, "&"), k = strcspn(q, "=");
        if (k >= n)
            return 0;
        int *seen = strncmp(q, "org=", 4) == 0      ? &org
                    : strncmp(q, "bucket=", 7) == 0 ? &bucket
                    : strncmp(q, "precision=", 10) == 0 ? &prec
                                                        : NULL;
        if (!seen || (*seen)++)
            return 0;
        const char *v = q + k + 1;
        size_t vn = n - k - 1;
        if (vn == 0 || (seen == &prec && (vn != 2 || memcmp(v, "ns", 2) != 0)))
            return 0;
        for (size_t i = 0; i < vn; i++) {
            char c = v[i];
            if (c == '%') {
                if (i + 2 >= vn)
                    return 0;
                if (!isxdigit((unsigned char)v[i + 1]) || !isxdigit((unsigned char)v[i + 2]))
                    return 0;
                i += 2;
            } else if (!isalnum((unsigned char)c) && !strchr("_.~-", c)) {
                return 0;
            }
        }
        q += n + (q[n] == '&');
    }
    return org && bucket;
}

static int url_err(char *errbuf, size_t errlen, const char *url, const char *why)
{
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "invalid sink URL '%s': %s", url, why);
    return OASIS_EINVAL;
}

static int parse_port(const char *p, size_t n, uint16_t *out)
{
    uint32_t v = 0;
    if (n == 0 || n > 5)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (uint32_t)(p[i] - '0');
    }
    if (v == 0 || v > 65535)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

int oasis_reporter_parse_url(const char *url, oasis_reporter_config *cfg, char *errbuf,
                             size_t errlen)
{
    if (!url || !cfg)
        return url_err(errbuf, errlen, url ? url : "(null)", "no URL");
    const char *p;
    oasis_reporter_proto proto;
    uint16_t port;
    if (strncmp(url, "http://", 7) == 0) {
        proto = OASIS_REPORTER_HTTP, port = 8086, p = url + 7;
    } else if (strncmp(url, "tcp://", 6) == 0) {
        proto = OASIS_REPORTER_TCP, port = 8094, p = url + 6;
    } else {
        return url_err(errbuf, errlen, url,
                       "want http://A.B.C.D[:PORT]/DB (InfluxDB) or tcp://A.B.C.D[:PORT] "
                       "(line protocol)");
    }
    size_t hn = strcspn(p, ":/");
    char host[OASIS_IPV4_STRLEN];
    uint32_t addr;
    if (hn == 0 || hn >= sizeof host)
        return url_err(errbuf, errlen, url, "the host must be an IPv4 address A.B.C.D");
    memcpy(host, p, hn);
    host[hn] = '\0';
    if (oasis_addr_parse(host, &addr) != 0 || addr == 0)
        return url_err(errbuf, errlen, url,
                       "the host must be an IPv4 address A.B.C.D (names are not resolved)");
    p += hn;
    if (*p == ':') {
        size_t pn = strcspn(++p, "/");
        if (parse_port(p, pn, &port) != 0)
            return url_err(errbuf, errlen, url, "the port must be 1..65535");
        p += pn;
    }
    const char *db = NULL, *v2 = NULL;
    if (proto == OASIS_REPORTER_HTTP && strncmp(p, "/api/v2/write", 13) == 0) {
        if (p[13] != '?' || !v2_query_ok(p + 14))
            return url_err(errbuf, errlen, url,
                           "want /api/v2/write?org=ORG&bucket=BUCKET[&precision=ns], values "
                           "[A-Za-z0-9_.~-] or %XX");
        proto = OASIS_REPORTER_HTTP_V2;
        v2 = p + 14;
    } else if (proto == OASIS_REPORTER_HTTP) {
        if (*p != '/' || !db_ok(p + 1, strlen(p + 1)))
            return url_err(errbuf, errlen, url,
                           "want a database name after the address, e.g. "
                           "http://10.0.0.1:8086/oasis ([A-Za-z0-9_.-], at most 200)");
        db = p + 1;
    } else if (*p && strcmp(p, "/") != 0) {
        return url_err(errbuf, errlen, url, "a tcp:// URL takes no path");
    }
    cfg->proto = proto;
    cfg->addr = addr;
    cfg->port = port;
    cfg->db = db;
    cfg->v2_query = v2;
    return 0;
}

/* NULL, or 1..1024 printable ASCII characters (no CR/LF in a header). */
static int header_value_ok(const char *v)
{
    if (!v)
        return 1;
    size_t n = strlen(v);
    if (n == 0 || n > 1024)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
            return 0;
    return 1;
}

static int config_ok(const oasis_reporter_config *c)
{
    if (c->addr == 0 || c->port == 0 || c->interval_ns == 0 || c->max_queue_points == 0 ||
        c->max_batch_bytes < 64 || c->backoff_min_ns == 0 || c->backoff_min_ns > c->backoff_max_ns ||
        c->timeout_ns == 0 || c->proto > OASIS_REPORTER_HTTP_V2)
        return 0;
    if (c->proto == OASIS_REPORTER_HTTP && (!c->db || !db_ok(c->db, strlen(c->db))))
        return 0;
    if (c->proto == OASIS_REPORTER_HTTP_V2 && (!c->v2_query || !v2_query_ok(c->v2_query)))
        return 0;
    if (!header_value_ok(c->token) || !header_value_ok(c->username) ||
        !header_value_ok(c->password) || (c->username && strchr(c->username, ':')) ||
        !c->username != !c->password)
        return 0;
    if (c->host_tag && !metrics_lp_tag_ok(c->host_tag))
        return 0; /* else every point would fail to encode */
    return 1;
}

/* ---- the queue --------------------------------------------------------------- */

static rep_line *qat(oasis_reporter *r, uint32_t i)
{
    return &r->q[(r->qhead + i) % r->cfg.max_queue_points];
}

static int line_set(oasis_reporter *r, rep_line *l, const char *data, size_t len)
{
    if (l->cap < len) {
        char *d = oasis_realloc(r->s, l->data, len);
        if (!d)
            return OASIS_ENOMEM;
        l->data = d;
        l->cap = (uint32_t)len;
    }
    memcpy(l->data, data, len);
    l->len = (uint32_t)len;
    return 0;
}

/* A new line: when the queue is full the oldest one makes room. */
static void push_back(oasis_reporter *r, const char *data, size_t len)
{
    r->st.points_collected++;
    if (r->qlen == r->cfg.max_queue_points) {
        r->qhead = (r->qhead + 1) % r->cfg.max_queue_points;
        r->qlen--;
        r->st.points_dropped++;
    }
    if (line_set(r, qat(r, r->qlen), data, len) != 0) {
        r->st.points_dropped++;
        return;
    }
    r->qlen++;
}

/* A line of a failed request goes back to the front; it is older than
 * everything queued, so when the queue is full it is the one dropped. */
static void push_front(oasis_reporter *r, const char *data, size_t len)
{
    uint32_t cap = r->cfg.max_queue_points;
    if (r->qlen == cap) {
        r->st.points_dropped++;
        return;
    }
    uint32_t at = (r->qhead + cap - 1) % cap;
    if (line_set(r, &r->q[at], data, len) != 0) {
        r->st.points_dropped++;
        return;
    }
    r->qhead = at;
    r->qlen++;
}

/* Returns the request's lines to the queue, newest first so that the
 * oldest are the ones that find no room. Lines never contain '\n'. */
static void return_batch(oasis_reporter *r)
{
    size_t end = r->body_len;
    while (end > 0 && r->inflight > 0) {
        size_t start = end - 1; /* end - 1 is this line's '\n' */
        while (start > 0 && r->body[start - 1] != '\n')
            start--;
        push_front(r, r->body + start, end - start);
        r->inflight--;
        end = start;
    }
    r->inflight = 0;
}

/* ---- collecting ------------------------------------------------------------- */

static uint64_t unix_now(const oasis_reporter *r)
{
    if (r->cfg.unix_time_ns)
        return r->cfg.unix_time_ns(r->cfg.unix_time_ud);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * OASIS_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* p with host=NAME added, unless it has a host tag already. The encoder
 * sorts tags itself. */
static int with_host(oasis_reporter *r, const oasis_metric_point *p, oasis_metric_point *out)
{
    *out = *p;
    if (!r->host)
        return 0;
    for (size_t i = 0; i < p->ntags; i++)
        if (strcmp(p->tags[i].key, "host") == 0)
            return 0;
    if (r->tags_cap < p->ntags + 1) {
        oasis_metric_tag *t = oasis_realloc(r->s, r->tags, (p->ntags + 1) * sizeof *t);
        if (!t)
            return OASIS_ENOMEM;
        r->tags = t;
        r->tags_cap = p->ntags + 1;
    }
    if (p->ntags)
        memcpy(r->tags, p->tags, p->ntags * sizeof *r->tags);
    r->tags[p->ntags] = (oasis_metric_tag){"host", r->host};
    out->tags = r->tags;
    out->ntags = p->ntags + 1;
    return 0;
}

static void enqueue_point(oasis_reporter *r, const oasis_metric_point *p)
{
    oasis_metric_point hp;
    oasis_lp_buf_reset(&r->lp);
    if (with_host(r, p, &hp) != 0 || oasis_lp_encode_point(&r->lp, &hp, r->cfg.lp_flags) != 0) {
        r->st.encode_errors++;
        return;
    }
    push_back(r, r->lp.data, r->lp.len);
}

static void collect(oasis_reporter *r)
{
    oasis_metrics_snapshot snap;
    uint64_t ts = unix_now(r);
    if (oasis_metrics_collect(r->m, ts, &snap) != 0)
        return;
    r->st.last_collect_ns = ts;
    for (size_t i = 0; i < snap.count; i++)
        enqueue_point(r, &snap.points[i]);
}

static int read_self(oasis_metrics_emit *e, void *ud)
{
    const oasis_reporter *r = ud;
    const oasis_reporter_stats *st = &r->st;
    const struct {
        const char *key;
        uint64_t v;
    } f[] = {
        {"points_collected", st->points_collected}, {"points_sent", st->points_sent},
        {"points_dropped", st->points_dropped},     {"points_rejected", st->points_rejected},
        {"encode_errors", st->encode_errors},       {"batches_sent", st->batches_sent},
        {"batches_rejected", st->batches_rejected}, {"bytes_sent", st->bytes_sent},
        {"connects", st->connects},                 {"connect_failures", st->connect_failures},
        {"send_failures", st->send_failures},       {"http_errors", st->http_errors},
        {"queue_points", r->qlen},                  {"inflight_points", r->inflight},
    };
    /* The last two are current values, the rest only grow. */
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        int err = i >= 12 ? oasis_metrics_field_uint(e, f[i].key, f[i].v)
                          : oasis_metrics_field_counter(e, f[i].key, f[i].v);
        if (err)
            return err;
    }
    return 0;
}

/* ---- timers and backoff ------------------------------------------------------- */

/* The next attempt waits the backoff's step, or at least `at_least_ns`
 * (a sink's Retry-After). */
static void backoff_at_least(oasis_reporter *r, uint64_t at_least_ns)
{
    uint64_t d = r->cfg.backoff_min_ns;
    for (uint32_t i = 0; i < r->failures && d < r->cfg.backoff_max_ns; i++)
        d = d > r->cfg.backoff_max_ns / 2 ? r->cfg.backoff_max_ns : d * 2;
    if (d > r->cfg.backoff_max_ns)
        d = r->cfg.backoff_max_ns;
    r->failures++;
    uint64_t wait = d / 2 + oasis_prng_below(&r->prng, d - d / 2);
    if (wait < at_least_ns)
        wait = at_least_ns;
    r->waiting = 1;
    oasis_timer_start(r->s, &r->wake, oasis_deadline(oasis_stack_now(r->s), wait));
}

static void backoff(oasis_reporter *r) { backoff_at_least(r, 0); }

static void on_tick(oasis_stack *s, oasis_timer *t)
{
    oasis_reporter *r = oasis_container_of(t, oasis_reporter, tick);
    uint64_t now = oasis_stack_now(s);
    /* Fixed rate; intervals missed while the process slept are skipped.
     * Deadlines saturate: a huge interval means "not soon", never a time
     * wrapped into the past. */
    r->tick_at = oasis_deadline(r->tick_at, r->cfg.interval_ns);
    if (r->tick_at <= now)
        r->tick_at = oasis_deadline(now, r->cfg.interval_ns);
    oasis_timer_start(s, &r->tick, r->tick_at);
    collect(r);
    pump(r);
}

/* ---- the connection ------------------------------------------------------------ */

/* Lets go of the flow. A request whose outcome is unknown goes back to the
 * queue; `failed` starts a backoff before the next attempt. */
static void drop_conn(oasis_reporter *r, int failed)
{
    oasis_flow *f = r->flow;
    r->flow = NULL;
    r->conn = CONN_NONE;
    r->wpending = 0;
    r->rx_len = 0;
    r->skip = 0;
    if (f)
        oasis_tcp_release(f);
    if (r->inflight) {
        r->st.send_failures++;
        return_batch(r);
        oasis_timer_stop(r->s, &r->wake); /* the request timeout */
    }
    if (failed)
        backoff(r);
}

/* An orderly goodbye when nothing of ours is pending on the flow (no
 * callback could reach a destroyed reporter), else an abort. */
static void release_conn(oasis_reporter *r)
{
    oasis_flow *f = r->flow;
    if (!f || r->wpending || r->inflight) {
        drop_conn(r, 0);
        return;
    }
    r->flow = NULL;
    r->conn = CONN_NONE;
    r->rx_len = 0;
    r->skip = 0;
    if (oasis_tcp_close(f, NULL, NULL) != 0)
        oasis_tcp_release(f);
}

static void batch_done(oasis_reporter *r, int accepted)
{
    if (accepted) {
        r->st.points_sent += r->inflight;
        r->st.batches_sent++;
        r->st.bytes_sent += r->body_len;
    } else {
        r->st.points_rejected += r->inflight;
        r->st.batches_rejected++;
    }
    r->inflight = 0;
    r->failures = 0; /* the sink answered: it is there */
    oasis_timer_stop(r->s, &r->wake);
}

/* The longest Retry-After honoured: a sink's typo must not silence the
 * reporter for days (the queue keeps its bound meanwhile). */
#define RETRY_AFTER_MAX_S 3600

static void on_status(oasis_reporter *r, const http_min_resp *resp)
{
    int status = resp->status;
    r->st.last_status = status;
    if (status >= 200 && status < 300) {
        batch_done(r, 1);
        return;
    }
    r->st.http_errors++;
    /* 429 (over quota: InfluxDB's write API answers it with Retry-After,
     * RFC 6585 4) and 408 (RFC 9110 15.5.9: the request may be repeated)
     * mean "later", not "bad batch". */
    if (status >= 400 && status < 500 && status != 408 && status != 429) {
        batch_done(r, 0); /* sending it again would fail again */
        return;
    }
    return_batch(r); /* 5xx, 408, 429 (or a status we do not expect): try later */
    int64_t ra = resp->retry_after_s; /* RFC 9110 10.2.3: how long to wait */
    backoff_at_least(r, ra < 0 ? 0 : (uint64_t)(ra < RETRY_AFTER_MAX_S ? ra : RETRY_AFTER_MAX_S) *
                                         OASIS_NS_PER_SEC);
}

/* Is part of the request still waiting to be taken by TCP? Then the sink
 * answered before it had the whole body. */
static int body_unsent(const oasis_reporter *r)
{
    oasis_tcp_sndbuf sb;
    return r->wpending && oasis_tcp_get_sndbuf(r->flow, &sb) == 0 && sb.pending > 0;
}

/* One answer head at the front of rx. Returns 1 if one was handled, 0 if
 * more bytes are needed or the connection was dropped. */
static int handle_answer(oasis_reporter *r)
{
    size_t end = http_min_head_end(r->rx, r->rx_len);
    http_min_resp resp;
    if (end == 0) {
        if (r->rx_len == RX_MAX)
            drop_conn(r, 1);
        return 0;
    }
    if (http_min_parse(r->rx, end, &resp) != 0 || (!r->inflight && resp.status >= 200)) {
        drop_conn(r, 1); /* garbage, or an answer to nothing */
        return 0;
    }
    int64_t body = http_min_body_len(&resp);
    size_t have = r->rx_len - end, take = 0;
    if (body > 0)
        take = (uint64_t)body < have ? (size_t)body : have;
    memmove(r->rx, r->rx + end + take, have - take);
    r->rx_len = have - take;
    if (body > 0)
        r->skip = (uint64_t)body - take;
    if (resp.status < 200)
        return 1; /* 1xx: the real answer follows */
    on_status(r, &resp);
    if (body_unsent(r)) {
        /* RFC 9112 9.5: an answer while the body is still going out: cease
         * sending and close. The rest cannot follow on this connection (the
         * sink may never read it, and no timer waits for the write). */
        drop_conn(r, 0);
        return 0;
    }
    if (!resp.keep_alive || body < 0) {
        release_conn(r); /* the body runs to the close, or the server says so */
        return 0;
    }
    return 1;
}

static void feed_http(oasis_reporter *r, const uint8_t *data, size_t len)
{
    oasis_flow *f = r->flow;
    while (len > 0 && r->flow == f) {
        if (r->skip) {
            size_t d = r->skip < len ? (size_t)r->skip : len;
            r->skip -= d;
            data += d;
            len -= d;
            continue;
        }
        size_t take = RX_MAX - r->rx_len < len ? RX_MAX - r->rx_len : len;
        memcpy(r->rx + r->rx_len, data, take);
        r->rx_len += take;
        data += take;
        len -= take;
        while (r->flow == f && r->rx_len && !r->skip && handle_answer(r))
            ;
    }
}

static void on_read(oasis_flow *flow, int err, const uint8_t *data, size_t len, void *ud)
{
    oasis_reporter *r = ud;
    if (flow != r->flow)
        return;
    if (err) {
        /* The sink went away. Idle and orderly: just let go; else the
         * request in flight failed. */
        if (err == OASIS_EOF && oasis_tcp_flow_error(flow) == 0 && !r->inflight && !r->wpending)
            release_conn(r);
        else
            drop_conn(r, 1);
        pump(r);
        return;
    }
    if (r->cfg.proto != OASIS_REPORTER_TCP)
        feed_http(r, data, len); /* a line-protocol sink says nothing we need */
    if (r->flow == flow && oasis_tcp_read(flow, on_read, r) != 0)
        drop_conn(r, 1);
    pump(r);
}

static void on_written(oasis_flow *flow, int err, void *ud)
{
    oasis_reporter *r = ud;
    if (flow != r->flow)
        return;
    r->wpending = 0;
    if (err) {
        drop_conn(r, 1);
    } else if (r->cfg.proto == OASIS_REPORTER_TCP) {
        batch_done(r, 1); /* write_nodelay: the peer acknowledged every byte */
    }
    pump(r);
}

static void on_connect(oasis_stack *s, oasis_flow *flow, int err, void *ud)
{
    rep_token *t = ud;
    oasis_reporter *r = t->r;
    oasis_free(t->s, t);
    if (!r) {
        if (flow)
            oasis_tcp_release(flow);
        return;
    }
    r->token = NULL;
    r->conn = CONN_NONE;
    oasis_timer_stop(s, &r->wake);
    if (err || !flow) {
        r->st.connect_failures++;
        backoff(r);
        return;
    }
    r->flow = flow;
    r->conn = CONN_UP;
    r->st.connects++;
    oasis_tcp_set_nodelay(flow, 1);
    if (oasis_tcp_set_lib_owned(flow) != 0 || oasis_tcp_read(flow, on_read, r) != 0) {
        drop_conn(r, 1);
        return;
    }
    pump(r);
}

static void start_connect(oasis_reporter *r)
{
    rep_token *t = oasis_malloc(r->s, sizeof *t);
    int err = OASIS_ENOMEM;
    if (t) {
        t->r = r;
        t->s = r->s;
        err = oasis_tcp_connect4(r->s, r->cfg.addr, r->cfg.port, NULL, on_connect, t);
    }
    if (err) {
        oasis_free(r->s, t);
        r->st.connect_failures++;
        backoff(r);
        return;
    }
    r->token = t;
    r->conn = CONN_CONNECTING;
    oasis_timer_start(r->s, &r->wake, oasis_deadline(oasis_stack_now(r->s), r->cfg.timeout_ns));
}

/* The wake timer: a connect or request took too long, or a backoff ended. */
static void on_wake(oasis_stack *s, oasis_timer *t)
{
    oasis_reporter *r = oasis_container_of(t, oasis_reporter, wake);
    (void)s;
    if (r->conn == CONN_CONNECTING) {
        r->token->r = NULL; /* it may still complete; the flow is then aborted */
        r->token = NULL;
        r->conn = CONN_NONE;
        r->st.connect_failures++;
        backoff(r);
    } else if (r->inflight) {
        drop_conn(r, 1);
    } else {
        r->waiting = 0;
    }
    pump(r);
}

/* ---- sending ------------------------------------------------------------------- */

/* Moves lines from the front of the queue into the body, up to the batch
 * size (every queued line fits in an empty body: the encoder saw to it). */
static void fill_body(oasis_reporter *r)
{
    r->body_len = 0;
    r->inflight = 0;
    while (r->qlen > 0) {
        rep_line *l = qat(r, 0);
        if (r->body_len + l->len > r->cfg.max_batch_bytes)
            break;
        memcpy(r->body + r->body_len, l->data, l->len);
        r->body_len += l->len;
        r->qhead = (r->qhead + 1) % r->cfg.max_queue_points;
        r->qlen--;
        r->inflight++;
    }
}

static int send_batch(oasis_reporter *r)
{
    fill_body(r);
    if (r->cfg.proto == OASIS_REPORTER_TCP)
        return oasis_tcp_write_nodelay(r->flow, r->body, r->body_len, on_written, r);
    const char *body = r->body;
    size_t len = r->body_len, z = 0;
    if (r->cfg.gzip && r->zbody) {
        z = r->cfg.gzip(r->cfg.gzip_ud, r->body, r->body_len, r->zbody, r->cfg.max_batch_bytes);
        if (z > 0 && z < len) {
            body = r->zbody;
            len = z;
            r->st.batches_gzip++;
        } else {
            z = 0;
        }
    }
    memcpy(r->head, r->req_prefix, r->req_prefix_len);
    int n = snprintf(r->head + r->req_prefix_len, 96, "%sContent-Length: %zu\r\n\r\n",
                     z ? "Content-Encoding: gzip\r\n" : "", len);
    oasis_iovec iov[2] = {{r->head, r->req_prefix_len + (size_t)n}, {body, len}};
    return oasis_tcp_writev(r->flow, iov, 2, on_written, r);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* RFC 4648 base64 of in[0..n) into out (4 * ceil(n / 3) + 1 bytes). */
static void base64(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[o] = '\0';
}

/* The part of every request head that does not change. */
static int build_prefix(oasis_reporter *r, const oasis_reporter_config *c)
{
    /* Sized for the longest values config_ok takes (1024 characters each):
     * base64 of "user:password" is up to 2732 characters. */
    char ip[OASIS_IPV4_STRLEN], auth[2800] = "";
    if (c->proto == OASIS_REPORTER_TCP)
        return 0;
    if (c->token) {
        snprintf(auth, sizeof auth, "Authorization: Token %s\r\n", c->token);
    } else if (c->username) {
        char up[2100], enc[2740];
        int n = snprintf(up, sizeof up, "%s:%s", c->username, c->password);
        base64((const unsigned char *)up, (size_t)n, enc);
        snprintf(auth, sizeof auth, "Authorization: Basic %s\r\n", enc);
    }
    const char *q = c->proto == OASIS_REPORTER_HTTP_V2 ? c->v2_query : NULL;
    size_t cap = strlen(auth) + (q ? strlen(q) : strlen(r->db)) + 300;
    r->req_prefix = oasis_malloc(r->s, cap);
    r->head = oasis_malloc(r->s, cap + 96);
    if (!r->req_prefix || !r->head)
        return OASIS_ENOMEM;
    int n;
    if (q)
        n = snprintf(r->req_prefix, cap, "POST /api/v2/write?%s%s HTTP/1.1\r\n", q,
                     strstr(q, "precision=") ? "" : "&precision=ns");
    else
        n = snprintf(r->req_prefix, cap, "POST /write?db=%s&precision=ns HTTP/1.1\r\n", r->db);
    n += snprintf(r->req_prefix + n, cap - (size_t)n,
                  "Host: %s:%u\r\nUser-Agent: oasis-reporter\r\n"
                  "Content-Type: text/plain; charset=utf-8\r\n%s",
                  oasis_addr_format(c->addr, ip), c->port, auth);
    r->req_prefix_len = (size_t)n;
    return 0;
}

/* Does whatever comes next: connect, or send the next batch. */
static void pump(oasis_reporter *r)
{
    if (r->qlen == 0 || r->inflight || r->wpending || r->waiting)
        return;
    if (r->conn == CONN_NONE) {
        start_connect(r);
        return;
    }
    if (r->conn != CONN_UP)
        return;
    r->wpending = 1;
    if (send_batch(r) != 0) {
        r->wpending = 0;
        drop_conn(r, 1);
        return;
    }
    oasis_timer_start(r->s, &r->wake, oasis_deadline(oasis_stack_now(r->s), r->cfg.timeout_ns));
}

/* ---- public ---------------------------------------------------------------------- */

static char *dup_str(oasis_stack *s, const char *v)
{
    size_t n = strlen(v) + 1;
    char *d = oasis_malloc(s, n);
    if (d)
        memcpy(d, v, n);
    return d;
}

int oasis_reporter_create(oasis_stack *s, oasis_metrics *m, const oasis_reporter_config *cfg,
                          oasis_reporter **out)
{
    if (!s || !m || !cfg || !out || !config_ok(cfg))
        return OASIS_EINVAL;
    *out = NULL;
    oasis_reporter *r = oasis_calloc(s, 1, sizeof *r);
    if (!r)
        return OASIS_ENOMEM;
    oasis_stack_client_add(s); /* (destroy, on a failure below too, takes it back) */
    r->s = s;
    r->m = m;
    r->cfg = *cfg;
    oasis_prng_seed(&r->prng, cfg->seed);
    oasis_timer_init(&r->tick, on_tick);
    oasis_timer_init(&r->wake, on_wake);
    oasis_lp_buf_init(&r->lp, cfg->max_batch_bytes, s->alloc, s->alloc_ud);
    r->q = oasis_calloc(s, cfg->max_queue_points, sizeof *r->q);
    r->body = oasis_malloc(s, cfg->max_batch_bytes);
    r->rx = oasis_malloc(s, RX_MAX);
    /* Borrowed strings of cfg are not kept: the request prefix has them. */
    r->cfg.v2_query = r->cfg.token = r->cfg.username = r->cfg.password = NULL;
    if (cfg->gzip && cfg->proto != OASIS_REPORTER_TCP)
        r->zbody = oasis_malloc(s, cfg->max_batch_bytes);
    if (cfg->db)
        r->db = dup_str(s, cfg->db);
    if (cfg->host_tag)
        r->host = dup_str(s, cfg->host_tag);
    int err = OASIS_ENOMEM;
    if (r->q && r->body && r->rx && (r->db || !cfg->db) && (r->host || !cfg->host_tag) &&
        (r->zbody || !cfg->gzip || cfg->proto == OASIS_REPORTER_TCP))
        err = build_prefix(r, cfg);
    if (!err && r->q)
        err = oasis_metrics_add_source(m, "oasis_reporter", NULL, 0, read_self, r, &r->src);
    if (err) {
        oasis_reporter_destroy(r);
        return err;
    }
    r->tick_at = oasis_deadline(oasis_stack_now(s), cfg->interval_ns);
    oasis_timer_start(s, &r->tick, r->tick_at);
    *out = r;
    return 0;
}

void oasis_reporter_destroy(oasis_reporter *r)
{
    if (!r)
        return;
    oasis_stack *s = r->s;
    if (r->token)
        r->token->r = NULL;
    oasis_flow *f = r->flow;
    r->flow = NULL;
    if (f)
        oasis_tcp_release(f);
    oasis_timer_stop(s, &r->tick);
    oasis_timer_stop(s, &r->wake);
    if (r->src)
        oasis_metrics_remove(r->src);
    for (uint32_t i = 0; r->q && i < r->cfg.max_queue_points; i++)
        oasis_free(s, r->q[i].data);
    oasis_free(s, r->q);
    oasis_free(s, r->body);
    oasis_free(s, r->rx);
    oasis_free(s, r->db);
    oasis_free(s, r->host);
    oasis_free(s, r->req_prefix);
    oasis_free(s, r->head);
    oasis_free(s, r->zbody);
    oasis_free(s, r->tags);
    oasis_lp_buf_free(&r->lp);
    oasis_free(s, r);
    oasis_stack_client_del(s);
}

int oasis_reporter_flush(oasis_reporter *r)
{
    if (!r)
        return OASIS_EINVAL;
    collect(r);
    pump(r);
    return 0;
}

int oasis_reporter_set_interval(oasis_reporter *r, uint64_t ns)
{
    if (!r || ns == 0)
        return OASIS_EINVAL;
    r->cfg.interval_ns = ns;
    r->tick_at = oasis_deadline(oasis_stack_now(r->s), ns);
    oasis_timer_start(r->s, &r->tick, r->tick_at);
    return 0;
}

uint64_t oasis_reporter_interval(const oasis_reporter *r)
{
    return r ? r->cfg.interval_ns : 0;
}

void oasis_reporter_stop(oasis_reporter *r)
{
    if (!r)
        return;
    oasis_timer_stop(r->s, &r->tick);
}

int oasis_reporter_idle(const oasis_reporter *r)
{
    return !r || (r->qlen == 0 && r->inflight == 0 && !r->wpending);
}

void oasis_reporter_get_stats(const oasis_reporter *r, oasis_reporter_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!r)
        return;
    *out = r->st;
    out->queue_points = r->qlen;
    out->inflight_points = r->inflight;
}
