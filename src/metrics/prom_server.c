/* GET /metrics over the stack's own TCP (oasis/metrics_prom.h).
 *
 * One conn per connection. A conn either waits for a request head (one read
 * pending) or writes one answer (no read pending); the next request is
 * looked at only when the answer was taken, so answers go out in order and
 * the unparsed bytes are bounded by max_request_bytes. A conn is freed in
 * its close callback, or right after an abort (then `dead` makes the
 * callbacks that abort runs return at once). */
#include "oasis/metrics_prom.h"

#include "oasis/error.h"
#include "oasis/tcp.h"

#include "core/mem.h"
#include "core/stack_impl.h"
#include "core/timer.h"
#include "metrics/http_min.h"
#include "metrics/metrics_impl.h"
#include "tcp/tcp.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

typedef struct pconn pconn;

struct oasis_prom_server {
    oasis_stack *s;
    oasis_metrics *m;
    oasis_metrics_source *src;
    oasis_prom_config cfg;
    char *prefix;
    int listening;
    pconn *conns;
    uint32_t nconns;
    oasis_timer idle;   /* armed while conns exist and cfg.idle_timeout_ns */
    uint64_t scrapes, requests, bad_requests, evictions, timeouts;
};

struct pconn {
    oasis_prom_server *p;
    oasis_flow *flow;
    pconn *prev, *next;
    char *req;          /* request bytes not handled yet */
    size_t req_len;
    int reading, writing, closing, dead, keep;
    int http10;         /* the request is HTTP/1.0: keep-alive must be said */
    int failed;         /* the answer could not be queued: abort once back */
    uint64_t since;     /* when it began to wait for its request, or for its
                         * answer to be taken (writing), or for its close */
    char head[512];
    size_t head_len;
    oasis_lp_buf body;
};

static void conn_process(pconn *c);

/* ---- lifetime ---------------------------------------------------------------- */

static void conn_free(pconn *c)
{
    oasis_prom_server *p = c->p;
    if (c->prev)
        c->prev->next = c->next;
    else
        p->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    p->nconns--;
    oasis_lp_buf_free(&c->body);
    oasis_free(p->s, c->req);
    oasis_free(p->s, c);
}

static void conn_abort(pconn *c)
{
    c->dead = 1;
    oasis_tcp_release(c->flow); /* aborts it: pending callbacks see `dead` */
    conn_free(c);
}

static void on_closed(oasis_flow *flow, int err, void *ud)
{
    pconn *c = ud;
    (void)err;
    if (c->dead)
        return; /* called from conn_abort's release */
    oasis_tcp_release(flow); /* the handle is ours until given back */
    conn_free(c);
}

static void conn_close(pconn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    c->since = oasis_now(c->p->s);
    if (oasis_tcp_close(c->flow, on_closed, c) != 0)
        conn_abort(c);
}

/* ---- answers ------------------------------------------------------------------- */

static const char *reason(int st)
{
    switch (st) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

static void on_written(oasis_flow *flow, int err, void *ud)
{
    pconn *c = ud;
    (void)flow;
    if (c->dead)
        return;
    c->writing = 0;
    if (err || !c->keep) {
        conn_close(c);
    } else {
        c->since = oasis_now(c->p->s);
        conn_process(c);
    }
}

/* IMF-fixdate (RFC 9110 5.6.7), whatever the C locale says. */
static void http_date(char *out, size_t n)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    time_t now = time(NULL);
    gmtime_r(&now, &tm);
    snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Sends head (+ body unless head_only). */
static void send_answer(pconn *c, int st, const char *ctype, int head_only)
{
    char date[64];
    if (st >= 400 && st != 404 && st != 405)
        c->keep = 0; /* after a malformed request the framing is not to be trusted */
    http_date(date, sizeof date);
    c->head_len = (size_t)snprintf(c->head, sizeof c->head,
                                   "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: %s\r\n"
                                   "Content-Length: %zu\r\n%s%s\r\n",
                                   st, reason(st), date, ctype, c->body.len,
                                   st == 405 ? "Allow: GET, HEAD\r\n" : "",
                                   !c->keep     ? "Connection: close\r\n"
                                   : c->http10 ? "Connection: keep-alive\r\n"
                                               : "");
    oasis_iovec iov[2] = {{c->head, c->head_len}, {c->body.data, c->body.len}};
    c->writing = 1;
    c->since = oasis_now(c->p->s);
    if (oasis_tcp_writev(c->flow, iov, head_only || !c->body.len ? 1 : 2, on_written, c) != 0) {
        c->writing = 0;
        c->failed = 1; /* the caller aborts: c must outlive this call */
    }
}

static void send_error(pconn *c, int st, const char *text, int head_only)
{
    c->p->bad_requests++;
    oasis_lp_buf_reset(&c->body);
    size_t n = strlen(text);
    /* Error texts are tiny: the body buffer's max is far above them. */
    if (c->body.max - c->body.len >= n) {
        if (c->body.cap < n) {
            char *d = c->body.alloc(c->body.alloc_ud, c->body.data, 256);
            if (d) {
                c->body.data = d;
                c->body.cap = 256;
            }
        }
        if (c->body.cap >= n) {
            memcpy(c->body.data, text, n);
            c->body.len = n;
        }
    }
    send_answer(c, st, "text/plain; charset=utf-8", head_only);
}

static uint64_t unix_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void send_metrics(pconn *c, const char *accept, int head_only)
{
    oasis_prom_server *p = c->p;
    oasis_metrics_snapshot snap;
    unsigned fmt = oasis_prom_negotiate(accept);
    p->scrapes++;
    if (p->cfg.on_scrape)
        p->cfg.on_scrape(p->cfg.on_scrape_ud, p->scrapes);
    oasis_lp_buf_reset(&c->body);
    if (oasis_metrics_collect(p->m, unix_ns(), &snap) != 0 ||
        oasis_prom_encode(&c->body, &snap, p->prefix, fmt) != 0) {
        send_error(c, 500, "the exposition does not fit (max_body_bytes) or memory ran out\n",
                   head_only);
        return;
    }
    send_answer(c, 200, fmt ? OASIS_PROM_CTYPE_OPENMETRICS : OASIS_PROM_CTYPE_TEXT, head_only);
}

/* ---- requests (RFC 9112) ---------------------------------------------------------- */

typedef struct preq {
    const char *method, *target;
    size_t method_len, target_len;
    int minor;
    int hosts;
    int keep;
    int has_body;
    int has_len;          /* a Content-Length field */
    /* Transfer-Encoding's codings, across its field lines (RFC 9112 6.1) */
    int te;               /* the field is there */
    int te_chunked_last;  /* the last coding so far is chunked */
    int te_chunked_early; /* a coding follows chunked: chunked is not final */
    int te_unknown;       /* a coding other than chunked */
    char accept[512];
} preq;

/* The end of the head (after its empty line; a bare LF ends a line too,
 * RFC 9112 2.2), 0 if it is not complete. */
static size_t head_end(const char *b, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (b[i] != '\n')
            continue;
        if (b[i + 1] == '\n')
            return i + 2;
        if (b[i + 1] == '\r' && i + 2 < n && b[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

static int tchar(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Notes the codings of a Transfer-Encoding field line, in order. */
static void note_codings(preq *r, const char *v, size_t n)
{
    size_t pos = 0, a, b;
    r->te = 1;
    while (http_min_list_next(v, n, &pos, &a, &b)) {
        if (a == b)
            continue; /* an empty list element (RFC 9110 5.6.1) */
        int chunked = http_min_eq_ci(v + a, b - a, "chunked");
        r->te_chunked_early |= r->te_chunked_last;
        r->te_chunked_last = chunked;
        r->te_unknown |= !chunked;
    }
}

/* The status for a request with Transfer-Encoding (RFC 9112 6.1): 400
 * when the body's length cannot be known ("If a Transfer-Encoding header
 * field is present in a request and the chunked transfer coding is not
 * the final encoding ... the server MUST respond with the 400 (Bad
 * Request)", and an HTTP/1.0 one "MUST" be treated "as if the framing is
 * faulty"; with a Content-Length too, which 6.3 says "ought to be
 * handled as an error", as possible smuggling); 501 for a coding not
 * understood ("SHOULD respond with 501
 * (Not Implemented)"); else 413, as any body: this server takes none. */
static int te_status(const preq *r)
{
    if (r->minor == 0 || r->has_len || !r->te_chunked_last || r->te_chunked_early)
        return 400;
    return r->te_unknown ? 501 : 413;
}

/* Parses a complete head; returns 0 or the error status. */
static int parse_request(const char *h, size_t len, preq *r)
{
    memset(r, 0, sizeof *r);
    size_t i = 0;
    int first = 1;
    while (i < len) {
        const char *nl = memchr(h + i, '\n', len - i);
        size_t n = (size_t)(nl - (h + i)), ln = n;
        const char *l = h + i;
        if (ln && l[ln - 1] == '\r')
            ln--;
        i += n + 1;
        if (first) {
            /* method SP target SP HTTP/1.x */
            size_t a = 0;
            while (a < ln && tchar((unsigned char)l[a]))
                a++;
            if (a == 0 || a >= ln || l[a] != ' ')
                return 400;
            const char *t = l + a + 1, *sp = memchr(t, ' ', ln - a - 1);
            if (!sp || sp == t)
                return 400;
            const char *v = sp + 1;
            size_t vn = ln - (size_t)(v - l);
            if (vn != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' ||
                v[5] > '9' || v[7] < '0' || v[7] > '9')
                return 400;
            if (v[5] != '1')
                return 505;
            r->method = l;
            r->method_len = a;
            r->target = t;
            r->target_len = (size_t)(sp - t);
            r->minor = v[7] - '0';
            r->keep = r->minor >= 1;
            first = 0;
            continue;
        }
        if (ln == 0)
            break; /* the empty line */
        /* No folding, no space before the colon (RFC 9112 5.1, 5.2). */
        const char *colon = memchr(l, ':', ln);
        if (l[0] == ' ' || l[0] == '\t' || !colon || colon == l)
            return 400;
        for (const char *k = l; k < colon; k++)
            if (!tchar((unsigned char)*k))
                return 400;
        size_t kn = (size_t)(colon - l), vn = ln - kn - 1;
        const char *v = colon + 1;
        while (vn && (*v == ' ' || *v == '\t'))
            v++, vn--;
        while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
            vn--;
        if (http_min_eq_ci(l, kn, "host")) {
            r->hosts++;
        } else if (http_min_eq_ci(l, kn, "content-length")) {
            if (vn == 0 || strspn(v, "0123456789") < vn)
                return 400;
            r->has_len = 1;
            if (strspn(v, "0") < vn)
                r->has_body = 1;
        } else if (http_min_eq_ci(l, kn, "transfer-encoding")) {
            note_codings(r, v, vn);
        } else if (http_min_eq_ci(l, kn, "connection")) {
            if (http_min_has_token(v, vn, "close"))
                r->keep = 0;
            else if (http_min_has_token(v, vn, "keep-alive"))
                r->keep = 1;
        } else if (http_min_eq_ci(l, kn, "accept")) {
            size_t have = strlen(r->accept);
            if (have + vn + 2 < sizeof r->accept) { /* repeated: one list */
                if (have)
                    r->accept[have++] = ',';
                memcpy(r->accept + have, v, vn);
                r->accept[have + vn] = '\0';
            }
        }
    }
    if (first)
        return 400;
    if (r->minor >= 1 && r->hosts != 1)
        return 400; /* RFC 9112 3.2 */
    if (r->hosts > 1)
        return 400;
    if (r->te)
        return te_status(r);
    if (r->has_body)
        return 413;
    return 0;
}

/* The path of the target, without query: origin-form or absolute-form. */
static int target_is_metrics(const char *t, size_t n)
{
    if (n >= 7 && http_min_eq_ci(t, 7, "http://")) {
        const char *slash = memchr(t + 7, '/', n - 7);
        if (!slash)
            return 0;
        n -= (size_t)(slash - t);
        t = slash;
    }
    const char *q = memchr(t, '?', n);
    if (q)
        n = (size_t)(q - t);
    return n == 8 && memcmp(t, "/metrics", 8) == 0;
}

static void handle(pconn *c, const char *h, size_t len)
{
    preq r;
    c->p->requests++;
    int st = parse_request(h, len, &r);
    c->keep = st ? 0 : r.keep;
    c->http10 = !st && r.minor == 0;
    if (st) {
        send_error(c, st,
                   st == 413   ? "requests to this server carry no body\n"
                   : st == 501 ? "transfer coding not implemented\n"
                   : st == 505 ? "HTTP/1.x only\n"
                               : "malformed request\n",
                   0);
        return;
    }
    int get = r.method_len == 3 && memcmp(r.method, "GET", 3) == 0;
    int head = r.method_len == 4 && memcmp(r.method, "HEAD", 4) == 0;
    if (!get && !head) {
        send_error(c, 405, "only GET and HEAD\n", 0);
        return;
    }
    if (!target_is_metrics(r.target, r.target_len)) {
        send_error(c, 404, "not found: the metrics are at /metrics\n", head);
        return;
    }
    send_metrics(c, r.accept, head);
}

static void on_read(oasis_flow *flow, int err, const uint8_t *data, size_t len, void *ud)
{
    pconn *c = ud;
    (void)flow;
    if (c->dead)
        return;
    c->reading = 0;
    if (err) {
        conn_close(c); /* the client is done or gone */
        return;
    }
    size_t room = c->p->cfg.max_request_bytes - c->req_len;
    if (len > room) {
        c->req_len = 0;
        c->keep = 0;
        send_error(c, 431, "request too large\n", 0);
        if (c->failed)
            conn_abort(c);
        return;
    }
    memcpy(c->req + c->req_len, data, len);
    c->req_len += len;
    conn_process(c);
}

/* Answers the next complete request, or waits for more bytes. */
static void conn_process(pconn *c)
{
    if (c->writing || c->closing || c->reading)
        return;
    /* RFC 9112 2.2: empty lines where a request-line is expected are
     * ignored (some clients send CRLF after a request). */
    size_t lead = 0;
    while (lead < c->req_len &&
           (c->req[lead] == '\n' ||
            (c->req[lead] == '\r' && lead + 1 < c->req_len && c->req[lead + 1] == '\n')))
        lead += c->req[lead] == '\n' ? 1 : 2;
    if (lead) {
        memmove(c->req, c->req + lead, c->req_len - lead);
        c->req_len -= lead;
    }
    size_t end = head_end(c->req, c->req_len);
    if (end == 0) {
        if (c->req_len == c->p->cfg.max_request_bytes) {
            c->req_len = 0;
            c->keep = 0;
            send_error(c, 431, "request too large\n", 0);
            if (c->failed)
                conn_abort(c);
            return;
        }
        c->reading = 1;
        if (oasis_tcp_read(c->flow, on_read, c) != 0) {
            c->reading = 0;
            conn_close(c);
        }
        return;
    }
    /* The answer is built before the bytes are dropped: the parse points
     * into them. */
    handle(c, c->req, end);
    if (c->failed) {
        conn_abort(c);
        return;
    }
    memmove(c->req, c->req + end, c->req_len - end);
    c->req_len -= end;
}

/* At max_conns, the connection that has waited longest for a request
 * (idle between requests, or its head trickling in) makes room; when none
 * waits, the one whose answer or close has waited longest for the client
 * to read (one that pipelines requests and never reads). Else max_conns
 * such clients lock every scraper out for as long as they like. */
static int older(const pconn *c, const pconn *than)
{
    if (!than)
        return 1;
    int stuck = c->writing || c->closing, than_stuck = than->writing || than->closing;
    if (stuck != than_stuck)
        return !stuck; /* one waiting for a request goes first */
    return c->since < than->since;
}

static void make_room(oasis_prom_server *p)
{
    pconn *victim = NULL;
    for (pconn *c = p->conns; c; c = c->next)
        if (older(c, victim))
            victim = c;
    if (victim) {
        p->evictions++;
        conn_abort(victim);
    }
}

/* Resets the conns that have waited idle_timeout_ns (see `since`), then
 * sleeps until the next one would have: a client can neither trickle a
 * head nor leave an answer untaken for longer. */
static void idle_fn(oasis_stack *s, oasis_timer *t)
{
    oasis_prom_server *p = oasis_container_of(t, oasis_prom_server, idle);
    uint64_t now = oasis_now(s), limit = p->cfg.idle_timeout_ns, first = UINT64_MAX;
    pconn *c = p->conns;
    while (c) {
        pconn *next = c->next;
        if (now - c->since >= limit) {
            p->timeouts++;
            conn_abort(c);
        } else if (c->since < first) {
            first = c->since;
        }
        c = next;
    }
    if (first != UINT64_MAX)
        oasis_timer_start(s, t, oasis_deadline(first, limit));
}

static void on_accept(oasis_stack *s, oasis_flow *flow, void *ud)
{
    oasis_prom_server *p = ud;
    if (p->nconns >= p->cfg.max_conns)
        make_room(p);
    pconn *c = p->nconns < p->cfg.max_conns ? oasis_calloc(s, 1, sizeof *c) : NULL;
    char *req = c ? oasis_malloc(s, p->cfg.max_request_bytes) : NULL;
    /* The connection is the library's: the application's walk must not
     * hand it out to be closed or released (tcp.h). */
    if (!req || oasis_tcp_set_lib_owned(flow) != 0) {
        oasis_free(s, req);
        oasis_free(s, c);
        oasis_tcp_release(flow);
        return;
    }
    c->p = p;
    c->flow = flow;
    c->req = req;
    c->since = oasis_now(s);
    oasis_lp_buf_init(&c->body, p->cfg.max_body_bytes, s->alloc, s->alloc_ud);
    c->next = p->conns;
    if (p->conns)
        p->conns->prev = c;
    p->conns = c;
    p->nconns++;
    if (p->cfg.idle_timeout_ns && !oasis_timer_active(&p->idle))
        oasis_timer_start(s, &p->idle, oasis_deadline(c->since, p->cfg.idle_timeout_ns));
    conn_process(c);
}

/* ---- the server -------------------------------------------------------------------- */

void oasis_prom_config_init(oasis_prom_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->max_conns = 16;
    cfg->max_request_bytes = 8192;
    cfg->max_body_bytes = 16u << 20;
    cfg->idle_timeout_ns = 300 * OASIS_NS_PER_SEC;
}

static int read_self(oasis_metrics_emit *e, void *ud)
{
    const oasis_prom_server *p = ud;
    int rc = oasis_metrics_field_counter(e, "scrapes", p->scrapes);
    rc = rc ? rc : oasis_metrics_field_counter(e, "requests", p->requests);
    rc = rc ? rc : oasis_metrics_field_counter(e, "bad_requests", p->bad_requests);
    rc = rc ? rc : oasis_metrics_field_counter(e, "evictions", p->evictions);
    rc = rc ? rc : oasis_metrics_field_counter(e, "timeouts", p->timeouts);
    return rc ? rc : oasis_metrics_field_uint(e, "connections", p->nconns);
}

int oasis_prom_server_create(oasis_stack *s, oasis_metrics *m, const oasis_prom_config *cfg,
                             oasis_prom_server **out)
{
    if (!s || !m || !cfg || !out || cfg->port == 0 || cfg->max_conns == 0 ||
        cfg->max_request_bytes < 64 || cfg->max_body_bytes < 256)
        return OASIS_EINVAL;
    *out = NULL;
    oasis_prom_server *p = oasis_calloc(s, 1, sizeof *p);
    if (!p)
        return OASIS_ENOMEM;
    oasis_stack_client_add(s); /* (destroy, on a failure below too, takes it back) */
    p->s = s;
    p->m = m;
    p->cfg = *cfg;
    oasis_timer_init(&p->idle, idle_fn);
    const char *prefix = cfg->prefix ? cfg->prefix : "oasis_";
    size_t pl = strlen(prefix) + 1;
    int err = OASIS_ENOMEM;
    if ((p->prefix = oasis_malloc(s, pl)) != NULL) {
        memcpy(p->prefix, prefix, pl);
        err = oasis_metrics_add_source(m, "prometheus", NULL, 0, read_self, p, &p->src);
    }
    if (!err)
        err = oasis_tcp_listen(s, cfg->port, NULL, on_accept, p);
    if (err) {
        oasis_prom_server_destroy(p);
        return err;
    }
    p->listening = 1;
    *out = p;
    return 0;
}

void oasis_prom_server_destroy(oasis_prom_server *p)
{
    if (!p)
        return;
    if (p->listening)
        oasis_tcp_unlisten(p->s, p->cfg.port);
    oasis_timer_stop(p->s, &p->idle);
    while (p->conns)
        conn_abort(p->conns);
    if (p->src)
        oasis_metrics_remove(p->src);
    oasis_stack *s = p->s;
    oasis_free(s, p->prefix);
    oasis_free(s, p);
    oasis_stack_client_del(s);
}

uint64_t oasis_prom_server_scrapes(const oasis_prom_server *p)
{
    return p ? p->scrapes : 0;
}
