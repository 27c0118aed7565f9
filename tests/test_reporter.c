/* The metrics reporter on the in-memory wire (virtual clock): stack A runs
 * the reporter, stack B plays the sink: a fake InfluxDB (HTTP /write, can
 * answer 204, 4xx, 5xx, nothing, or go away) or a raw line-protocol
 * listener. Also the URL and HTTP-answer parsers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oasis/metrics_reporter.h"
#include "oasis/oasis.h"
#include "metrics/http_min.h"
#include "testutil.h"

#define SEC OASIS_NS_PER_SEC
#define MS OASIS_NS_PER_MS
#define UNIX_BASE (1700000000ull * SEC)
#define START_NS (1000 * SEC) /* test_net's virtual clock starts here */
#define PPS 8                 /* points per snapshot: 6 layers, reporter, probe */
#define EARLY 2000

/* ---- the fake sink ------------------------------------------------------------ */

typedef struct fake_req {
    uint64_t at;
    char *body;
    size_t len;
    int status;
} fake_req;

typedef struct fake_srv fake_srv;
typedef struct fconn {
    fake_srv *srv;
    oasis_flow *flow;
    char *buf;
    size_t len;
    int dead;
    int stalled; /* answered early and reads no more */
    struct fconn *next;
} fconn;

struct fake_srv {
    oasis_stack *s;
    oasis_clock *clock;
    uint16_t port;
    int http;
    int listening;
    fconn *conns;
    fake_req reqs[256];
    size_t nreqs;
    int script[256]; /* status for request i; 0: 204; 1: garbage; -1: never answer;
                      * EARLY + S: S as soon as the head is in, then read no more */
    size_t accepts;
    char *raw;       /* line sink: everything received */
    size_t raw_len;
};

static void fc_unlink(fconn *c)
{
    fconn **pp = &c->srv->conns;
    while (*pp && *pp != c)
        pp = &(*pp)->next;
    if (*pp)
        *pp = c->next;
    free(c->buf);
    free(c);
}

static void fc_closed(oasis_flow *flow, int err, void *ud)
{
    (void)err;
    fc_unlink(ud);
    oasis_tcp_release(flow);
}

static const char *answer(int status)
{
    switch (status) {
    case 0: return "HTTP/1.1 204 No Content\r\nX-Influxdb-Version: 1.6.7\r\n\r\n";
    case 1: return "SSH-2.0-OpenSSH_9.2\r\n\r\n"; /* not HTTP at all */
    case 400:
        return "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
               "Content-Length: 27\r\n\r\n{\"error\":\"unable to parse\"}";
    case 401:
        return "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
               "Content-Length: 42\r\n\r\n{\"error\":\"authorization failed, no token\"}";
    case 408:
        return "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n";
    case 429:
        return "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Type: application/json\r\n"
               "Content-Length: 25\r\n\r\n{\"error\":\"over quota...\"}";
    case 503:
        return "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 20\r\nContent-Length: 0\r\n\r\n";
    case 500:
        return "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
               "Content-Length: 16\r\n\r\n{\"error\":\"down\"}";
    default: return NULL;
    }
}

static size_t head_end(const char *b, size_t n)
{
    for (size_t i = 0; i + 3 < n; i++)
        if (memcmp(b + i, "\r\n\r\n", 4) == 0)
            return i + 4;
    return 0;
}

/* Checks one request's head as InfluxDB would; returns its body length. */
static size_t check_head(const fake_srv *srv, const char *h, size_t n)
{
    char want[128];
    snprintf(want, sizeof want, "POST /write?db=oasis&precision=ns HTTP/1.1\r\n");
    assert_true(n > strlen(want));
    assert_memory_equal(h, want, strlen(want));
    char copy[1024];
    assert_true(n < sizeof copy);
    memcpy(copy, h, n);
    copy[n] = '\0';
    snprintf(want, sizeof want, "\r\nHost: 10.0.0.2:%u\r\n", srv->port);
    assert_non_null(strstr(copy, want));
    assert_non_null(strstr(copy, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
    const char *cl = strstr(copy, "\r\nContent-Length: ");
    assert_non_null(cl);
    return (size_t)strtoull(cl + 18, NULL, 10);
}

/* Handles every complete request in c's buffer. */
static void fc_requests(fconn *c)
{
    fake_srv *srv = c->srv;
    size_t he;
    while ((he = head_end(c->buf, c->len)) != 0) {
        size_t bl = check_head(srv, c->buf, he);
        if (srv->script[srv->nreqs] >= EARLY) {
            /* Like a server that refuses on the head alone (a 401, a 413 on
             * Content-Length) and leaves the body unread. */
            fake_req *q = &srv->reqs[srv->nreqs++];
            q->at = oasis_clock_now(srv->clock);
            q->body = calloc(1, 1);
            q->status = srv->script[srv->nreqs - 1] - EARLY;
            const char *a = answer(q->status);
            assert_int_equal(oasis_tcp_write(c->flow, a, strlen(a), NULL, NULL), 0);
            c->stalled = 1;
            c->len = 0;
            return;
        }
        if (c->len < he + bl)
            return;
        assert_true(srv->nreqs < 256);
        fake_req *q = &srv->reqs[srv->nreqs];
        q->at = oasis_clock_now(srv->clock);
        q->body = malloc(bl + 1);
        memcpy(q->body, c->buf + he, bl);
        q->body[bl] = '\0';
        q->len = bl;
        q->status = srv->script[srv->nreqs];
        srv->nreqs++;
        memmove(c->buf, c->buf + he + bl, c->len - he - bl);
        c->len -= he + bl;
        const char *a = answer(q->status);
        if (a)
            assert_int_equal(oasis_tcp_write(c->flow, a, strlen(a), NULL, NULL), 0);
    }
}

static void fc_read(oasis_flow *flow, int err, const uint8_t *data, size_t len, void *ud)
{
    fconn *c = ud;
    if (c->dead)
        return;
    if (err) {
        if (oasis_tcp_close(flow, fc_closed, c) != 0) {
            oasis_tcp_release(flow);
            fc_unlink(c);
        }
        return;
    }
    if (c->srv->http) {
        c->buf = realloc(c->buf, c->len + len);
        memcpy(c->buf + c->len, data, len);
        c->len += len;
        fc_requests(c);
        if (c->stalled)
            return; /* no read pending: its window closes */
    } else {
        fake_srv *srv = c->srv;
        srv->raw = realloc(srv->raw, srv->raw_len + len + 1);
        memcpy(srv->raw + srv->raw_len, data, len);
        srv->raw_len += len;
        srv->raw[srv->raw_len] = '\0';
    }
    assert_int_equal(oasis_tcp_read(flow, fc_read, c), 0);
}

static void fc_accept(oasis_stack *s, oasis_flow *flow, void *ud)
{
    (void)s;
    fake_srv *srv = ud;
    fconn *c = calloc(1, sizeof *c);
    c->srv = srv;
    c->flow = flow;
    c->next = srv->conns;
    srv->conns = c;
    srv->accepts++;
    assert_int_equal(oasis_tcp_read(flow, fc_read, c), 0);
}

static void srv_listen(fake_srv *srv)
{
    assert_int_equal(oasis_tcp_listen(srv->s, srv->port, NULL, fc_accept, srv), 0);
    srv->listening = 1;
}

/* The sink goes away: no listener, every connection reset. */
static void srv_vanish(fake_srv *srv)
{
    if (srv->listening)
        assert_int_equal(oasis_tcp_unlisten(srv->s, srv->port), 0);
    srv->listening = 0;
    while (srv->conns) {
        fconn *c = srv->conns;
        c->dead = 1;
        oasis_tcp_release(c->flow);
        fc_unlink(c);
    }
}

static void srv_fini(fake_srv *srv)
{
    for (size_t i = 0; i < srv->nreqs; i++)
        free(srv->reqs[i].body);
    free(srv->raw);
}

/* ---- the reporting side -------------------------------------------------------- */

typedef struct probe {
    const oasis_stack *s;
    uint64_t in_segs[512], out_segs[512];
    size_t n;
} probe;

/* An application source that notes what the stack's counters were when the
 * registry was read, to compare with what the sink received. */
static int probe_read(oasis_metrics_emit *e, void *ud)
{
    probe *p = ud;
    const oasis_counters *c = oasis_stack_counters(p->s);
    if (p->n < 512) {
        p->in_segs[p->n] = c->tcp.in_segs;
        p->out_segs[p->n] = c->tcp.out_segs;
    }
    p->n++;
    return oasis_metrics_field_uint(e, "n", p->n);
}

static uint64_t fake_unix(void *ud) { return UNIX_BASE + oasis_clock_now(ud) - START_NS; }

typedef struct env {
    test_net net;
    fake_srv srv;
    oasis_metrics *m;
    oasis_reporter *r;
    probe pr;
    oasis_reporter_config cfg;
} env;

static void env_init(env *e, int http)
{
    memset(e, 0, sizeof *e);
    test_net_init(&e->net, NULL, NULL);
    e->srv.s = e->net.b;
    e->srv.clock = e->net.clock;
    e->srv.http = http;
    e->srv.port = http ? 8086 : 8094;
    assert_int_equal(oasis_metrics_create(NULL, &e->m), 0);
    assert_int_equal(oasis_metrics_add_stack(e->m, e->net.a, NULL, 0), 0);
    oasis_reporter_config_init(&e->cfg);
    e->cfg.proto = http ? OASIS_REPORTER_HTTP : OASIS_REPORTER_TCP;
    e->cfg.addr = TEST_ADDR_B;
    e->cfg.port = e->srv.port;
    e->cfg.db = "oasis";
    e->cfg.host_tag = "h1";
    e->cfg.interval_ns = SEC;
    e->cfg.unix_time_ns = fake_unix;
    e->cfg.unix_time_ud = e->net.clock;
    e->cfg.seed = 42;
}

/* Creates the reporter (after the test adjusted cfg) and the probe. */
static void env_start(env *e)
{
    assert_int_equal(oasis_reporter_create(e->net.a, e->m, &e->cfg, &e->r), 0);
    e->pr.s = e->net.a;
    assert_int_equal(oasis_metrics_add_source(e->m, "probe", NULL, 0, probe_read, &e->pr, NULL), 0);
}

static void env_fini(env *e)
{
    oasis_reporter_destroy(e->r);
    oasis_metrics_destroy(e->m);
    test_net_fini(&e->net);
    srv_fini(&e->srv);
}

static void run_for(env *e, uint64_t ns)
{
    int rc = oasis_wire_run(e->net.wire, NULL, NULL, ns);
    assert_true(rc == OASIS_ETIMEDOUT || rc == OASIS_EAGAIN);
}

static uint64_t now_ns(const env *e) { return oasis_clock_now(e->net.clock); }

static oasis_reporter_stats stats(const env *e)
{
    oasis_reporter_stats st;
    oasis_reporter_get_stats(e->r, &st);
    return st;
}

/* ---- line helpers ------------------------------------------------------------------ */

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The line of measurement `meas` in body (NULL if none); copied to out. */
static int find_line(const char *body, const char *meas, char *out, size_t outlen)
{
    size_t ml = strlen(meas);
    for (const char *p = body; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (strncmp(p, meas, ml) == 0 && (p[ml] == ',' || p[ml] == ' ') && n < outlen) {
            memcpy(out, p, n);
            out[n] = '\0';
            return 1;
        }
        p += n + (nl ? 1 : 0);
    }
    return 0;
}

/* Integer field `key` of a line ("key=123i"). */
static uint64_t field_u(const char *line, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, " %s=", key);
    const char *p = strstr(line, pat);
    if (!p) {
        snprintf(pat, sizeof pat, ",%s=", key);
        p = strstr(strchr(line, ' '), pat);
    }
    assert_non_null(p);
    char *end;
    uint64_t v = strtoull(p + strlen(pat), &end, 10);
    assert_int_equal(*end, 'i');
    return v;
}

static uint64_t line_ts(const char *line) { return strtoull(strrchr(line, ' ') + 1, NULL, 10); }

/* ---- tests: HTTP ------------------------------------------------------------------- */

/* One request per interval, each holding that interval's snapshot with
 * the values the stack had when it was taken. */
static void test_http_one_request_per_interval(void **state)
{
    (void)state;
    env e;
    env_init(&e, 1);
    srv_listen(&e.srv);
    env_start(&e);
    run_for(&e, 5 * SEC + 500 * MS);

    assert_int_equal(e.srv.nreqs, 5);
    assert_int_equal(e.srv.accepts, 1); /* one keep-alive connection */
    for (size_t k = 0; k < 5; k++) {
        const fake_req *q = &e.srv.reqs[k];
        char line[4096];
        assert_int_equal(count_lines(q->body), PPS);
        /* Sent as soon as collected, on the interval. */
        assert_int_equal(q->at, START_NS + (k + 1) * SEC);
        assert_true(find_line(q->body, "tcp", line, sizeof line));
        assert_non_null(strstr(line, "tcp,host=h1 "));
        assert_int_equal(line_ts(line), UNIX_BASE + (k + 1) * SEC);
        assert_int_equal(field_u(line, "InSegs"), e.pr.in_segs[k]);
        assert_int_equal(field_u(line, "OutSegs"), e.pr.out_segs[k]);
        assert_int_equal(field_u(line, "ActiveOpens"), k == 0 ? 0 : 1);
        assert_true(find_line(q->body, "oasis_reporter", line, sizeof line));
        assert_int_equal(field_u(line, "points_sent"), k * PPS);
        assert_int_equal(field_u(line, "batches_sent"), k);
        assert_int_equal(field_u(line, "points_dropped"), 0);
        assert_int_equal(field_u(line, "queue_points"), 0);
        assert_true(find_line(q->body, "probe", line, sizeof line));
        assert_int_equal(field_u(line, "n"), k + 1);
    }
    /* Values move: the reporter's own segments show up in the next snapshot. */
    assert_true(e.pr.in_segs[4] > e.pr.in_segs[1]);
    oasis_reporter_stats st = stats(&e);
    assert_int_equal(st.points_sent, 5 * PPS);
    assert_int_equal(st.batches_sent, 5);
    assert_int_equal(st.connects, 1);
    assert_int_equal(st.last_status, 204);
    assert_int_equal(st.points_collected, 5 * PPS);
    assert_true(oasis_reporter_idle(e.r));
    env_fini(&e);
}

/* 5xx: the batch stays queued and goes again (with what arrived meanwhile);
 * nothing is lost or sent twice. */
static void test_http_5xx_retries(void **state)
{
    (void)state;
    env e;
    env_init(&e, 1);
    e.srv.script[0] = 500;
    e.srv.script[1] = 500;
    srv_listen(&e.srv);
    env_start(&e);
    run_for(&e, 6 * SEC + 500 * MS);

    oasis_reporter_stats st = stats(&e);
    assert_int_equal(st.http_errors, 2);
    assert_int_equal(st.points_dropped, 0);
    assert_int_equal(st.points_collected, 6 * PPS);
    assert_int_equal(st.points_sent, 6 * PPS);
    /* The first accepted request starts with the first snapshot. */
    size_t first_ok = 2;
    assert_memory_equal(e.srv.reqs[first_ok].body, e.srv.reqs[0].body, e.srv.reqs[0].len);
    /* Every snapshot arrived exactly once in accepted requests. */
    size_t per_ts[7] = {0};
    for (size_t k = first_ok; k < e.srv.nreqs; k++)
        for (char *p = e.srv.reqs[k].body; *p;) {
            char *nl = strchr(p, '\n');
            *nl = '\0';
            uint64_t t = line_ts(p);
            assert_true(t > UNIX_BASE && t <= UNIX_BASE + 6 * SEC && (t - UNIX_BASE) % SEC == 0);
            per_ts[(t - UNIX_BASE) / SEC]++;
            *nl = '\n';
            p = nl + 1;
        }
    for (size_t i = 1; i <= 6; i++)
        assert_int_equal(per_ts[i], PPS);
    env_fini(&e);
}

/* 429 (over quota: InfluxDB's write API says Retry-After tells when to
 * write again; RFC 6585 4) and 408 (RFC 9110 15.5.9: the client may
 * repeat the request) say "later", not "bad batch": like 5xx, the lines go
 * back to the queue and every snapshot arrives once. */
static void test_http_429_408_retry(void **state)
{
    (void)state;
    env e;
    env_init(&e, 1);
    e.srv.script[0] = 429;
    e.srv.script[1] = 408;
    srv_listen(&e.srv);
    env_start(&e);
    run_for(&e, 6 * SEC + 500 * MS);

    oasis_reporter_stats st = stats(&e);
    assert_int_equal(st.http_errors, 2);
    assert_int_equal(st.points_rejected, 0);
    assert_int_equal(st.batches_rejected, 0);
    assert_int_equal(st.points_dropped, 0);
    assert_int_equal(st.points_collected, 6 * PPS);
    assert_int_equal(st.points_sent, 6 * PPS);
    env_fini(&e);
}

/* RFC 9110 10.2.3: a 503 with Retry-After: 20 is asked again no sooner
 * than 20 s later, though the backoff alone would wait 0.25..0.5 s; the
 * batch is kept meanwhile and then delivered with the rest. */
static void test_http_retry_after(void **state)
{
    (void)state;
    env e;
    env_init(&e, 1);
    e.srv.script[0] = 503;
    srv_listen(&e.srv);
    env_start(&e);
    run_for(&e, 25 * SEC + 500 * MS);

    oasis_reporter_stats st = stats(&e);
    assert_true(e.srv.nreqs >= 2);
    assert_true(e.srv.reqs[1].at - e.srv.reqs[0].at >= 20 * SEC);
    assert_int_equal(st.http_errors, 1);
    assert_int_equal(st.points_rejected, 0);
    assert_int_equal(st.points_dropped, 0);
    assert_int_equal(st.points_collected, 25 * PPS);
    assert_int_equal(st.points_sent, 25 * PPS);
    env_fini(&e);
}

/* 4xx: the batch is bad; it is dropped and counted, the rest goes on. */
static void test_http_4xx_drops_batch(void **state)
{
    (void)state;
    env e;
    env_init(&e, 1);
    e.srv.script[0] = 400;
    srv_listen(&e.srv);
    env_start(&e);
    run_for(&e, 3 * SEC + 500 * MS);

    oasis_reporter_stats st = stats(&e);
    assert_int_equal(e.srv.nreqs, 3);
    assert_int_equal(st.http_errors, 1);
    assert_int_equal(st.batches_rejected, 1);
    assert_int_equal(st.points_rejected, PPS);
    assert_int_equal(st.points_sent, 2 * PPS);
    assert_int_equal(st.points_dropped, 0);
    char line[4096];
    assert_true(find_line(e.srv.reqs[1].body, "tcp", line, sizeof line));
    assert_int_equal(line_ts(line), UNIX_BASE + 2 * SEC); /* not the rejected one again */
    assert_true(find_line(e.srv.reqs[2].body, "oasis_reporter", line, sizeof line));
    assert_int_equal(field_u(line, "points_rejected"), PPS);
    env_fini(&e);
}

/* A point of ~400 KB: a request body the sink's window and our send buffer
 * cannot hold when the sink stops reading. */
static int big_read(oasis_metrics_emit *e, void *ud)
{
    static char v[4001];
    (void)ud;
    memset(v, 'x', sizeof v - 1);
    for (int i = 0; i < 100; i++) {
        char k[16];
        snprintf(k, sizeof k, "f%d", i);
        int err = oasis_metrics_field_string(e, k, v);
        if (err)
            return err;
    }
    return 0;
}

/* RFC 9112 9.5: a client that sees an answer while it still sends the body
 * ceases sending and closes. The sink answers on the head alone (401; then
 * a 503 with Retry-After) and reads no more: the rest of the body can never
 * go. The batch's fate is the answer's, and the next one goes on a new
 * connection (before, the reporter waited for its write forever: the
 * request timer stops with the answer, so nothing was ever sent again). */
static void test_http_early_answer(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        env e;
        env_init(&e, 1);
        e.srv.script[0] = EARLY + (k == 0 ? 401 : 503);
        srv_listen(&e.srv);
        env_start(&e);
        assert_int_equal(oasis_metrics_add_source(e.m, "big", NULL, 0, big_read, NULL, NULL), 0);
        run_for(&e, 30 * SEC + 500 * MS);

        oasis_reporter_stats st = stats(&e);
        assert_true(e.srv.nreqs >= 2);
        assert_int_equal(e.srv.accepts, 2);
        assert_int_equal(st.connects, 2);
        assert_int_equal(st.http_errors, 1);
        assert_int_equal(st.points_dropped, 0);
        assert_true(st.points_sent > 0);
        if (k == 0) {
            /* 401: that batch is rejected; the rest arrives. */
            assert_int_equal(st.batches_rejected, 1);
            assert_int_equal(st.points_rejected, PPS + 1);
            assert_int_equal(st.points_sent + PPS + 1, st.points_collected);
        } else {
            /* 503: kept and sent again, no sooner than Retry-After. */
            assert_int_equal(st.points_rejected, 0);
            assert_true(e.srv.reqs[1].at - e.srv.reqs[0].at >= 20 * SEC);
            assert_int_equal(st.points_sent, st.points_collected);
        }
        assert_true(oasis_reporter_idle(e.r));
        srv_vanish(&e.srv);
        env_fini(&e);
    }
}

/* A sink that never answers: the request times out, the connection is
 * dropped, the batch is kept and delivered once the sink behaves. */
static void test_http_request_timeout(void **state)
{
    (void)state;
    env e;
    env_init(&e, 1);
    e.cfg.timeout_ns = 3 * SEC;
    e.srv.script[0] = -1;
    srv_listen(&e.srv);
    env_start(&e);
    run_for(&e, 8 * SEC + 500 * MS);

    oasis_reporter_stats st = stats(&e);
    assert_int_equal(st.send_failures, 1);
    assert_int_equal(st.connects, 2);
    assert_int_equal(st.points_dropped, 0);
    assert_int_equal(st.points_sent, st.points_collected);
    assert_int_equal(st.points_collected, 8 * PPS);
    /* The retry went on a new connection, first thing, with the old batch. */
    assert_true(e.srv.nreqs >= 2);
    assert_memory_equal(e.srv.reqs[1].body, e.srv.reqs[0].body, e.srv.reqs[0].len);
    assert_true(oasis_reporter_idle(e.r));
    env_fini(&e);
}

/* An answer that is not HTTP: the connection is dropped, the batch kept and
 * sent again on a new connection after a backoff. */
static void test_http_garbage_answer(void **state)
{
    (void)state;
    env e;
    env_init(&e, 1);
    e.srv.script[0] = 1;
    srv_listen(&e.srv);
    env_start(&e);
    run_for(&e, 3 * SEC + 500 * MS);

    oasis_reporter_stats st = stats(&e);
    assert_int_equal(st.send_failures, 1);
    assert_int_equal(st.connects, 2);
    assert_int_equal(st.points_dropped, 0);
    assert_int_equal(st.points_collected, 3 * PPS);
    assert_int_equal(st.points_sent, 3 * PPS);
    assert_memory_equal(e.srv.reqs[1].body, e.srv.reqs[0].body, e.srv.reqs[0].len);
    /* The retry waited out the first backoff step, [250, 500) ms. */
    assert_true(e.srv.reqs[1].at >= e.srv.reqs[0].at + 250 * MS);
    assert_true(e.srv.reqs[1].at < e.srv.reqs[0].at + 500 * MS + 10 * MS);
    env_fini(&e);
}

typedef struct watch {
    env *e;
    uint64_t failures;
    uint32_t max_queue_seen;
} watch;

static int failure_seen(void *ud)
{
    watch *w = ud;
    oasis_reporter_stats st = stats(w->e);
    if (st.queue_points + st.inflight_points > w->max_queue_seen)
        w->max_queue_seen = (uint32_t)(st.queue_points + st.inflight_points);
    return st.connect_failures > w->failures;
}

/* The sink goes away: reconnect attempts back off (waits grow to the cap,
 * each within [d/2, d)), the queue keeps the newest max_queue_points lines
 * and counts every other one as dropped; when the sink is back, the kept
 * lines arrive. */
static void test_http_reconnect_backoff_and_queue_bound(void **state)
{
    (void)state;
    env e;
    env_init(&e, 1);
    e.cfg.backoff_min_ns = 500 * MS;
    e.cfg.backoff_max_ns = 8 * SEC;
    e.cfg.max_queue_points = 50;
    srv_listen(&e.srv);
    env_start(&e);
    run_for(&e, 2 * SEC + 500 * MS);
    assert_int_equal(e.srv.nreqs, 2);

    srv_vanish(&e.srv);
    uint64_t vanished = now_ns(&e);
    watch w = {&e, 0, 0};
    uint64_t times[12];
    for (size_t i = 0; i < 12; i++) {
        assert_int_equal(oasis_wire_run(e.net.wire, failure_seen, &w, 60 * SEC), 0);
        times[i] = now_ns(&e);
        w.failures = stats(&e).connect_failures;
    }
    assert_int_equal(w.failures, 12);
    /* Losing the idle connection was failure 1 (its backoff ended with
     * nothing to send); the first connect comes with the next snapshot and
     * is refused. From there each refusal doubles the step (1 s, 2 s...)
     * up to the 8 s cap; each wait is within [step/2, step). */
    assert_true(vanished < START_NS + 3 * SEC);
    assert_int_equal(times[0], START_NS + 3 * SEC);
    uint64_t d = SEC, prev = 0;
    for (size_t i = 1; i < 12; i++) {
        uint64_t gap = times[i] - times[i - 1];
        assert_true(gap >= d / 2 && gap < d);
        if (d < 8 * SEC)
            assert_true(gap >= prev); /* below the cap waits only grow */
        prev = gap;
        d = d * 2 > 8 * SEC ? 8 * SEC : d * 2;
    }
    assert_true(prev >= 4 * SEC); /* it reached the cap's range */
    assert_int_equal(w.max_queue_seen, 50);

    /* Back again: the reporter finds it by itself at its next attempt. */
    uint64_t collected_before = stats(&e).points_collected;
    srv_listen(&e.srv);
    size_t reqs_before = e.srv.nreqs;
    run_for(&e, 10 * SEC);
    oasis_reporter_stats st = stats(&e);
    assert_true(e.srv.nreqs > reqs_before);
    assert_int_equal(st.connects, 2);
    /* The first request after the outage carries the full queue: the
     * newest 50 lines, ending with snapshot S (its probe line says which),
     * starting with the last two lines of snapshot S - 6 (50 = 6 * 8 + 2). */
    const fake_req *q = &e.srv.reqs[reqs_before];
    assert_int_equal(count_lines(q->body), 50);
    const char *last = q->body + q->len - 1;
    while (last > q->body && last[-1] != '\n')
        last--;
    assert_memory_equal(last, "probe,", 6);
    uint64_t S = field_u(last, "n");
    assert_int_equal(line_ts(last), UNIX_BASE + S * SEC);
    assert_memory_equal(q->body, "oasis_reporter,", 15);
    char first[4096];
    assert_true(find_line(q->body, "oasis_reporter", first, sizeof first));
    assert_int_equal(line_ts(first), UNIX_BASE + (S - 6) * SEC);
    assert_true(S * PPS >= collected_before);
    /* Exact accounting: every line of the S snapshots was either received
     * once or dropped; nothing is left over. */
    size_t received = 0;
    for (size_t k = 0; k < e.srv.nreqs; k++)
        received += count_lines(e.srv.reqs[k].body);
    assert_true(oasis_reporter_idle(e.r));
    assert_int_equal(received, st.points_sent);
    assert_int_equal(st.points_collected, st.points_sent + st.points_dropped);
    assert_int_equal(st.points_dropped, S * PPS - 2 * PPS - 50);
    env_fini(&e);
}

/* Durations near UINT64_MAX mean "not for a long time", never "now": the
 * interval, the timeout and the backoff's cap each end in a deadline that
 * saturates. Before, now + interval wrapped into the past and the reporter
 * collected at every poll, the wire's clock never moving on. */
static void test_huge_durations(void **state)
{
    (void)state;
    env e;
    env_init(&e, 1);
    e.cfg.interval_ns = UINT64_MAX;
    e.cfg.timeout_ns = UINT64_MAX;
    e.cfg.backoff_min_ns = UINT64_MAX / 2;
    e.cfg.backoff_max_ns = UINT64_MAX;
    srv_listen(&e.srv);
    env_start(&e);
    run_for(&e, 10 * SEC);
    assert_int_equal(stats(&e).points_collected, 0);
    /* A flush goes out and is answered: the request's timeout is far away. */
    assert_int_equal(oasis_reporter_flush(e.r), 0);
    run_for(&e, 5 * SEC);
    oasis_reporter_stats st = stats(&e);
    assert_int_equal(st.points_sent, PPS);
    assert_int_equal(st.send_failures, 0);
    assert_int_equal(st.connect_failures, 0);
    assert_int_equal(oasis_reporter_set_interval(e.r, UINT64_MAX - 1), 0);
    run_for(&e, 5 * SEC);
    assert_int_equal(stats(&e).points_collected, PPS);
    /* The sink goes: the first reconnect waits half the huge backoff at
     * least, not a wrapped-around nothing. */
    srv_vanish(&e.srv);
    assert_int_equal(oasis_reporter_flush(e.r), 0);
    run_for(&e, 10 * SEC);
    st = stats(&e);
    assert_true(st.connect_failures <= 1);
    env_fini(&e);
}

/* ---- tests: raw line protocol ------------------------------------------------------ */

static void test_tcp_sink_lines(void **state)
{
    (void)state;
    env e;
    env_init(&e, 0);
    srv_listen(&e.srv);
    env_start(&e);
    run_for(&e, 3 * SEC + 500 * MS);

    assert_non_null(e.srv.raw);
    assert_int_equal(count_lines(e.srv.raw), 3 * PPS);
    oasis_reporter_stats st = stats(&e);
    assert_int_equal(st.points_sent, 3 * PPS);
    assert_int_equal(st.batches_sent, 3);
    assert_int_equal(st.bytes_sent, e.srv.raw_len);
    char line[4096];
    assert_true(find_line(e.srv.raw, "tcp", line, sizeof line));
    assert_int_equal(field_u(line, "InSegs"), e.pr.in_segs[0]);
    assert_int_equal(line_ts(line), UNIX_BASE + SEC);
    /* The sink goes and comes back: lines keep flowing on a new connection. */
    srv_vanish(&e.srv);
    run_for(&e, 2 * SEC);
    srv_listen(&e.srv);
    run_for(&e, 10 * SEC);
    st = stats(&e);
    assert_true(st.connects >= 2);
    assert_int_equal(st.points_dropped, 0);
    assert_int_equal(st.points_sent, st.points_collected);
    env_fini(&e);
}

/* ---- lifetime ----------------------------------------------------------------------- */

/* Destroyed with a connect pending (nobody at the address: ARP fails
 * later); the connect's completion must not touch the freed reporter. */
static void test_destroy_while_connecting(void **state)
{
    (void)state;
    env e;
    env_init(&e, 1);
    e.cfg.addr = OASIS_IPV4(10, 0, 0, 77);
    env_start(&e);
    run_for(&e, SEC + 100 * MS);
    assert_false(oasis_reporter_idle(e.r));
    oasis_reporter_destroy(e.r);
    e.r = NULL;
    run_for(&e, 20 * SEC);
    env_fini(&e);
}

/* Destroyed with a request in flight; and flush + stop for a last report. */
static void test_flush_stop_destroy(void **state)
{
    (void)state;
    env e;
    env_init(&e, 1);
    e.srv.script[0] = -1; /* silent: the request stays in flight */
    srv_listen(&e.srv);
    env_start(&e);
    oasis_reporter_stop(e.r);
    assert_int_equal(oasis_reporter_flush(e.r), 0);
    run_for(&e, 100 * MS);
    assert_int_equal(e.srv.nreqs, 1);
    assert_int_equal(stats(&e).inflight_points, PPS);
    run_for(&e, 5 * SEC);
    assert_int_equal(stats(&e).points_collected, PPS); /* stopped: no ticks */
    env_fini(&e);
}

static void test_config_and_urls(void **state)
{
    (void)state;
    oasis_reporter_config c;
    char err[256];
    oasis_reporter_config_init(&c);
    assert_int_equal(oasis_reporter_parse_url("http://10.78.0.1:8086/oasis", &c, err, sizeof err), 0);
    assert_int_equal(c.proto, OASIS_REPORTER_HTTP);
    assert_int_equal(c.addr, OASIS_IPV4(10, 78, 0, 1));
    assert_int_equal(c.port, 8086);
    assert_string_equal(c.db, "oasis");
    assert_int_equal(oasis_reporter_parse_url("http://10.0.0.1/db_1", &c, err, sizeof err), 0);
    assert_int_equal(c.port, 8086);
    assert_int_equal(oasis_reporter_parse_url("tcp://10.0.0.1", &c, err, sizeof err), 0);
    assert_int_equal(c.proto, OASIS_REPORTER_TCP);
    assert_int_equal(c.port, 8094);
    assert_int_equal(oasis_reporter_parse_url("tcp://10.0.0.1:9000", &c, err, sizeof err), 0);
    assert_int_equal(c.port, 9000);
    static const char *const bad[] = {
        "", "udp://10.0.0.1:1/x", "http://", "http://host:8086/db", "http://10.0.0.1:0/db",
        "http://10.0.0.1:65536/db", "http://10.0.0.1:80", "http://10.0.0.1:80/", "http://10.0.0.1:x/db",
        "http://10.0.0.1:80/a b", "http://10.0.0.1:80/a/b", "http://10.0.0.1:80/db?x=1",
        "tcp://10.0.0.1:1/db", "http://0.0.0.0/db", "http://10.0.0.1.5/db",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(oasis_reporter_parse_url(bad[i], &c, err, sizeof err), OASIS_EINVAL);
        assert_non_null(strstr(err, "invalid sink URL"));
    }
    assert_int_equal(oasis_reporter_parse_url(NULL, &c, NULL, 0), OASIS_EINVAL);

    /* Bad configs are refused. */
    test_net n;
    oasis_metrics *m;
    oasis_reporter *r = NULL;
    test_net_init(&n, NULL, NULL);
    assert_int_equal(oasis_metrics_create(NULL, &m), 0);
    oasis_reporter_config_init(&c);
    c.addr = TEST_ADDR_B;
    c.port = 8086;
    assert_int_equal(oasis_reporter_create(n.a, m, &c, &r), OASIS_EINVAL); /* no db */
    c.db = "bad db";
    assert_int_equal(oasis_reporter_create(n.a, m, &c, &r), OASIS_EINVAL);
    c.db = "ok";
    c.interval_ns = 0;
    assert_int_equal(oasis_reporter_create(n.a, m, &c, &r), OASIS_EINVAL);
    c.interval_ns = SEC;
    c.backoff_min_ns = 10 * SEC;
    c.backoff_max_ns = SEC;
    assert_int_equal(oasis_reporter_create(n.a, m, &c, &r), OASIS_EINVAL);
    c.backoff_max_ns = 20 * SEC;
    c.host_tag = "a\nb";
    assert_int_equal(oasis_reporter_create(n.a, m, &c, &r), OASIS_EINVAL);
    /* A host tag no point could carry (a backslash at its end, or before
     * ',', '=' or ' ': line protocol would read an escape) is refused here,
     * not found out point by point as encode errors. */
    static const char *const unusable[] = {"box\\", "a\\,b", "a\\ b", "a\\=b", "a\\\\b"};
    for (size_t i = 0; i < sizeof unusable / sizeof unusable[0]; i++) {
        c.host_tag = unusable[i];
        assert_int_equal(oasis_reporter_create(n.a, m, &c, &r), OASIS_EINVAL);
    }
    c.host_tag = "pm \"x\\y z,a=b"; /* escaped as line protocol says */
    assert_int_equal(oasis_reporter_create(n.a, m, &c, &r), 0);
    oasis_reporter_destroy(r);
    r = NULL;
    c.host_tag = NULL;
    assert_int_equal(oasis_reporter_create(NULL, m, &c, &r), OASIS_EINVAL);
    assert_int_equal(oasis_reporter_create(n.a, m, &c, &r), 0);
    assert_int_equal(oasis_metrics_source_count(m), 1);
    oasis_reporter_destroy(r);
    assert_int_equal(oasis_metrics_source_count(m), 0);
    oasis_reporter_destroy(NULL);
    oasis_metrics_destroy(m);
    test_net_fini(&n);
}

static void test_http_answers(void **state)
{
    (void)state;
    http_min_resp r;
    const char *a = "HTTP/1.1 204 No Content\r\nX-Influxdb-Version: 1.6.7\r\n\r\nrest";
    size_t end = http_min_head_end(a, strlen(a));
    assert_int_equal(end, strlen(a) - 4);
    assert_int_equal(http_min_parse(a, end, &r), 0);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.keep_alive, 1);
    assert_int_equal(http_min_body_len(&r), 0);
    assert_int_equal(http_min_head_end(a, end - 1), 0);

    a = "HTTP/1.1 500 Internal Server Error\r\ncontent-length:  16 \r\nConnection: close\r\n\r\n";
    assert_int_equal(http_min_parse(a, strlen(a), &r), 0);
    assert_int_equal(r.status, 500);
    assert_int_equal(r.keep_alive, 0);
    assert_int_equal(http_min_body_len(&r), 16);

    a = "HTTP/1.1 400 Bad\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
    assert_int_equal(http_min_parse(a, strlen(a), &r), 0);
    assert_int_equal(http_min_body_len(&r), -1);
    assert_int_equal(r.retry_after_s, -1);
    /* Retry-After: delay-seconds read; an HTTP-date or junk is advice
     * not taken, never a malformed answer (RFC 9110 10.2.3). */
    a = "HTTP/1.1 503 Busy\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n";
    assert_int_equal(http_min_parse(a, strlen(a), &r), 0);
    assert_int_equal(r.retry_after_s, 120);
    a = "HTTP/1.1 503 Busy\r\nRetry-After: Fri, 31 Dec 1999 23:59:59 GMT\r\n\r\n";
    assert_int_equal(http_min_parse(a, strlen(a), &r), 0);
    assert_int_equal(r.retry_after_s, -1);
    a = "HTTP/1.1 503 Busy\r\nRetry-After: 99999999999999\r\n\r\n";
    assert_int_equal(http_min_parse(a, strlen(a), &r), 0);
    assert_int_equal(r.retry_after_s, -1);
    a = "HTTP/1.0 200 OK\r\n\r\n";
    assert_int_equal(http_min_parse(a, strlen(a), &r), 0);
    assert_int_equal(r.keep_alive, 0);
    assert_int_equal(http_min_body_len(&r), -1); /* read until close */
    a = "HTTP/1.0 200\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n";
    assert_int_equal(http_min_parse(a, strlen(a), &r), 0);
    assert_int_equal(r.keep_alive, 1);
    assert_int_equal(http_min_body_len(&r), 0);

    static const char *const bad[] = {
        "HTTP/2 204 No\r\n\r\n", "HTTP/1.1 20 No\r\n\r\n", "HTTP/1.1 2044 No\r\n\r\n",
        "HTTP/1.1 600 No\r\n\r\n", "HTTP/1.1 204 No\r\nNoColon\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "\r\n\r\n", "HTTP/1.1 204 No\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(http_min_parse(bad[i], strlen(bad[i]), &r), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_one_request_per_interval),
        cmocka_unit_test(test_http_5xx_retries),
        cmocka_unit_test(test_http_429_408_retry),
        cmocka_unit_test(test_http_retry_after),
        cmocka_unit_test(test_http_4xx_drops_batch),
        cmocka_unit_test(test_http_request_timeout),
        cmocka_unit_test(test_http_early_answer),
        cmocka_unit_test(test_http_garbage_answer),
        cmocka_unit_test(test_huge_durations),
        cmocka_unit_test(test_http_reconnect_backoff_and_queue_bound),
        cmocka_unit_test(test_tcp_sink_lines),
        cmocka_unit_test(test_destroy_while_connecting),
        cmocka_unit_test(test_flush_stop_destroy),
        cmocka_unit_test(test_config_and_urls),
        cmocka_unit_test(test_http_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
