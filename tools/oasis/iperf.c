/* `oasis iperf`: iperf3's TCP test over Oasis on a TAP device, server (-s)
 * and client (-c), speaking iperf3's protocol (esnet/iperf 3.x, see iperf.h)
 * so that Debian's iperf3 can be either peer.
 *
 * One test at a time, like iperf3. The control connection and the data
 * streams share the port; a connection that arrives while a test runs is
 * told ACCESS_DENIED. Every connection the tool opens or accepts is a
 * `conn`, freed only when its close completes (or at exit), so callbacks
 * never see freed memory; a conn of an earlier test (gen) is ignored.
 *
 * Byte counts are as exact as the protocol lets them be, which iperf3
 * itself does not try: a receiver (server) that gets TEST_END waits,
 * bounded, until it has read what the sender's results say was sent before
 * it answers with its own results, and a sending client with -n waits for
 * its bytes to be acknowledged, and for what signs TCP gives that they were
 * read, before it says TEST_END (see flushed()). */
#include "cli.h"
#include "iperf.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>

#ifdef OASIS_HAVE_CJSON
#include <cjson/cJSON.h>
#endif

#define IPF_PORT 5201
#define IPF_INFLIGHT 4                          /* data writes pending per stream */
#define IPF_PHASE_TIMEOUT (10 * OASIS_NS_PER_SEC) /* a silent peer between phases */
#define IPF_DRAIN_TIMEOUT (5 * OASIS_NS_PER_SEC)  /* waiting for the last bytes */
#define IPF_SLICE (50 * OASIS_NS_PER_MS)          /* the loop wakes us at least this often */
#define IPF_CTRL_MAX (IPF_MAX_RESULTS_JSON + 64)  /* control bytes buffered at most */

enum { K_CTRL = 1, K_PENDING, K_STREAM, K_DENIED };

static const int8_t access_denied = IPF_ACCESS_DENIED;

/* Phases of one test. */
enum {
    P_IDLE,      /* server: no client */
    P_COOKIE,    /* server: reading the control cookie */
    P_PARAMS,    /* server: sent PARAM_EXCHANGE, reading the parameters */
    P_STREAMS,   /* sent/received CREATE_STREAMS: data streams being opened */
    P_RUNNING,   /* data moves */
    P_FLUSH,     /* client sender with -n: waiting for acks before TEST_END */
    P_ENDED,     /* client: sent TEST_END, waiting for EXCHANGE_RESULTS */
    P_DRAIN,     /* receiver: waiting for the last bytes before our results */
    P_RESULTS,   /* reading the peer's results */
    P_DISPLAY,   /* client: waiting for DISPLAY_RESULTS; server: for IPERF_DONE */
    P_CONNECT,   /* client: control connection being opened */
    P_STATE,     /* client: waiting for the next state byte */
};

typedef struct ipf ipf;

typedef struct conn {
    ipf *t;
    struct conn *next;
    oasis_flow *flow; /* NULL once let go (exit) */
    unsigned gen;     /* the test it belongs to */
    int kind, closing;
    uint64_t seq; /* accept (or connect) order: the list runs newest first */
    /* streams */
    int id, sender, eof;
    size_t cookie_got;
    uint8_t cookie[IPF_COOKIE_SIZE];
    int writes;                   /* pending data writes */
    uint32_t wlen[IPF_INFLIGHT];  /* their sizes, oldest first */
    uint64_t bytes;               /* sent (taken by the stack) or received */
    uint32_t max_wnd;             /* the peer's largest window seen */
    int64_t retr;                 /* segments retransmitted, taken at the end */
    oasis_ipaddr laddr, raddr;    /* kept: the flow may be gone at the report */
    uint16_t lport, rport;
} conn;

struct ipf {
    net *n;
    int server, json, one_off, verbose;
    oasis_ipaddr dst; /* client: the server, IPv4 or IPv6 */
    uint16_t port;
    ipf_params want; /* client: what to ask for */
    cli_soft_report soft; /* client: soft errors told while the control connection opens */

    conn *conns;
    uint64_t conn_seq; /* the next conn's seq */
    unsigned gen;
    int done, exit_code, kick;

    /* the current test */
    int phase;
    uint64_t phase_deadline;
    ipf_params p;
    conn *ctrl;
    uint8_t *cbuf; /* control bytes received, not yet consumed */
    size_t clen, ccap;
    char cookie[IPF_COOKIE_SIZE];
    conn *streams[IPF_MAX_STREAMS];
    int nstreams, sending, receiving;
    uint64_t limit;   /* bytes to move in total (0: by time) */
    uint64_t queued;  /* bytes handed to write so far */
    uint64_t rx_total;
    uint64_t t_start, t_end, end_at, flush_since;
    struct rusage ru0;
    uint64_t wall0;
    double cpu[3];
    ipf_results peer;
    int have_peer;
    const char *error;
    char errbuf[160];
    uint8_t *buf; /* the data every write sends (constant) */
};

static uint64_t now_ns(const ipf *t) { return oasis_clock_now(t->n->clock); }

static void set_phase(ipf *t, int phase, uint64_t timeout)
{
    t->phase = phase;
    t->phase_deadline = timeout ? now_ns(t) + timeout : 0;
    t->kick = 1;
}

/* ---- connections ----------------------------------------------------------- */

static conn *conn_new(ipf *t, oasis_flow *flow, int kind)
{
    conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->t = t;
    c->flow = flow;
    c->kind = kind;
    c->gen = t->gen;
    c->seq = t->conn_seq++;
    c->next = t->conns;
    t->conns = c;
    oasis_flow_set_user_data(flow, c);
    return c;
}

static void conn_unlink(conn *c)
{
    for (conn **pp = &c->t->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    free(c);
}

static void on_closed(oasis_flow *flow, int err, void *ud)
{
    conn *c = ud;
    (void)err;
    if (!c->flow)
        return; /* let go at exit */
    c->flow = NULL;
    oasis_tcp_release(flow);
    c->t->kick = 1;
    /* The current test still reads a finished stream's figures: it goes
     * with the test (test_finish). */
    if (c->gen != c->t->gen)
        conn_unlink(c);
}

/* Frees the conns of finished tests whose flows are gone. */
static void sweep(ipf *t)
{
    for (conn **pp = &t->conns; *pp;) {
        conn *c = *pp;
        if (!c->flow && c->gen != t->gen) {
            *pp = c->next;
            free(c);
        } else {
            pp = &c->next;
        }
    }
}

/* Orderly close (FIN after pending writes); the conn goes when it completes. */
static void conn_close(conn *c)
{
    if (!c || c->closing || !c->flow)
        return;
    c->closing = 1;
    if (oasis_tcp_close(c->flow, on_closed, c) != 0) {
        oasis_flow *f = c->flow;
        c->flow = NULL;
        oasis_tcp_release(f);
        conn_unlink(c);
    }
}

static int live(const conn *c) { return c->flow && !c->closing && c->gen == c->t->gen; }

static void on_ctrl_written(oasis_flow *f, int err, void *ud)
{
    (void)f, (void)err;
    free(ud);
}

/* Control messages are copied: the stack may hold the buffer a while. */
static int ctrl_send(ipf *t, const void *data, size_t len)
{
    if (!t->ctrl || !live(t->ctrl))
        return -1;
    void *copy = malloc(len);
    if (!copy)
        return -1;
    memcpy(copy, data, len);
    if (oasis_tcp_write(t->ctrl->flow, copy, len, on_ctrl_written, copy) != 0) {
        free(copy);
        return -1;
    }
    return 0;
}

static int send_state(ipf *t, int state)
{
    int8_t b = (int8_t)state;
    if (t->verbose)
        fprintf(stderr, "oasis iperf: -> state %d\n", state);
    return ctrl_send(t, &b, 1);
}

/* A JSON message: 4-byte big-endian length, then the text. */
static int send_json(ipf *t, char *s)
{
    if (!s)
        return -1;
    size_t len = strlen(s);
    uint8_t *m = malloc(4 + len);
    int rc = -1;
    if (m) {
        m[0] = (uint8_t)(len >> 24), m[1] = (uint8_t)(len >> 16), m[2] = (uint8_t)(len >> 8);
        m[3] = (uint8_t)len;
        memcpy(m + 4, s, len);
        if (t->verbose)
            fprintf(stderr, "oasis iperf: -> %s\n", s);
        rc = ctrl_send(t, m, 4 + len);
        free(m);
    }
    free(s);
    return rc;
}

/* ---- ending a test ------------------------------------------------------------- */

/* The first error of a test: what, then arg (may be NULL). */
static void test_fail(ipf *t, const char *what, const char *arg)
{
    if (!t->error) {
        snprintf(t->errbuf, sizeof t->errbuf, "%s%s", what, arg ? arg : "");
        t->error = t->errbuf;
    }
}

static void report(ipf *t);

/* Closes every conn of the test; the server then waits for the next client. */
static void test_finish(ipf *t)
{
    if (t->phase == P_IDLE)
        return;
    if (t->error)
        fprintf(stderr, "oasis iperf: error: %s\n", t->error);
    else if (t->have_peer)
        report(t);
    for (int i = 0; i < t->nstreams; i++)
        conn_close(t->streams[i]);
    conn_close(t->ctrl);
    /* Connections that never finished their cookie go with the test. */
    for (conn *c = t->conns, *next; c; c = next) {
        next = c->next;
        if (c->kind == K_PENDING && c->gen == t->gen)
            conn_close(c);
    }
    if (!t->server || t->one_off) {
        t->done = 1;
        t->exit_code = t->error ? EXIT_FAIL : EXIT_OK;
    }
    t->gen++;
    sweep(t);
    t->ctrl = NULL;
    t->nstreams = 0;
    t->clen = 0;
    t->have_peer = 0;
    t->error = NULL;
    t->sending = t->receiving = 0;
    t->queued = t->rx_total = 0;
    set_phase(t, P_IDLE, 0);
    if (t->server && !t->done)
        fprintf(stderr, "oasis iperf: ready on port %u\n", t->port);
}

/* Tells the client why (SERVER_ERROR, iperf3's error number) and ends. */
static void server_error(ipf *t, int ierr, const char *why)
{
    uint8_t m[9] = {(uint8_t)(int8_t)IPF_SERVER_ERROR, (uint8_t)(ierr >> 24), (uint8_t)(ierr >> 16),
                    (uint8_t)(ierr >> 8), (uint8_t)ierr, 0, 0, 0, 0};
    ctrl_send(t, m, sizeof m);
    test_fail(t, "refused the test: ", why);
    test_finish(t);
}

/* ---- CPU --------------------------------------------------------------------- */

static uint64_t tv_ns(struct timeval tv) { return (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u; }

static void cpu_start(ipf *t)
{
    getrusage(RUSAGE_SELF, &t->ru0);
    t->wall0 = now_ns(t);
}

static void cpu_stop(ipf *t)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double wall = (double)(now_ns(t) - t->wall0);
    double u = (double)(tv_ns(ru.ru_utime) - tv_ns(t->ru0.ru_utime));
    double s = (double)(tv_ns(ru.ru_stime) - tv_ns(t->ru0.ru_stime));
    t->cpu[1] = wall > 0 ? 100 * u / wall : 0;
    t->cpu[2] = wall > 0 ? 100 * s / wall : 0;
    t->cpu[0] = t->cpu[1] + t->cpu[2];
}

/* ---- data ------------------------------------------------------------------- */

static void pump(conn *c);

static void on_data_written(oasis_flow *f, int err, void *ud)
{
    conn *c = ud;
    (void)f;
    if (!c->flow || c->writes == 0)
        return;
    uint32_t len = c->wlen[0];
    memmove(c->wlen, c->wlen + 1, sizeof c->wlen - sizeof c->wlen[0]);
    c->writes--;
    if (err)
        return; /* the flow ended: the control connection decides */
    c->bytes += len;
    c->t->kick = 1;
    if (live(c))
        pump(c);
}

/* Keeps IPF_INFLIGHT writes pending while the test sends. */
static void pump(conn *c)
{
    ipf *t = c->t;
    while (t->sending && c->writes < IPF_INFLIGHT) {
        uint64_t len = t->p.len;
        if (t->limit) {
            if (t->queued >= t->limit)
                return;
            if (t->limit - t->queued < len)
                len = t->limit - t->queued;
        }
        if (oasis_tcp_write(c->flow, t->buf, (size_t)len, on_data_written, c) != 0)
            return;
        c->wlen[c->writes++] = (uint32_t)len;
        t->queued += len;
    }
}

static void stream_read(conn *c);

static void on_data_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    conn *c = ud;
    (void)f;
    if (!c->flow)
        return;
    ipf *t = c->t;
    if (err) {
        c->eof = 1;
        t->kick = 1;
        return;
    }
    if (c->kind == K_PENDING) { /* the cookie first */
        size_t k = IPF_COOKIE_SIZE - c->cookie_got;
        if (k > len)
            k = len;
        memcpy(c->cookie + c->cookie_got, data, k);
        c->cookie_got += k;
        data += k;
        len -= k;
        t->kick = 1;
    }
    if (c->gen == t->gen && c->kind == K_STREAM) {
        c->bytes += len;
        t->rx_total += len;
        if (t->limit && t->rx_total >= t->limit)
            t->kick = 1;
    }
    if (!c->closing)
        stream_read(c);
}

static void stream_read(conn *c)
{
    if (oasis_tcp_read(c->flow, on_data_read, c) != 0)
        c->eof = 1;
}

static void stream_setup(ipf *t, conn *c)
{
    oasis_tcp_src(c->flow, &c->laddr, &c->lport);
    oasis_tcp_dst(c->flow, &c->raddr, &c->rport);
    if (t->p.window)
        oasis_tcp_set_bufsizes(c->flow, t->p.window, t->p.window);
    if (t->p.nodelay)
        oasis_tcp_set_nodelay(c->flow, 1);
}

static void start_data(ipf *t)
{
    t->t_start = now_ns(t);
    cpu_start(t);
    t->end_at = t->limit ? 0 : t->t_start + (uint64_t)t->p.time * OASIS_NS_PER_SEC;
    int we_send = t->server ? t->p.reverse : !t->p.reverse;
    t->sending = we_send;
    t->receiving = !we_send;
    for (int i = 0; i < t->nstreams; i++) {
        t->streams[i]->sender = we_send;
        if (we_send)
            pump(t->streams[i]);
    }
}

static void stop_data(ipf *t)
{
    if (t->t_end)
        return;
    t->t_end = now_ns(t);
    t->sending = 0;
    cpu_stop(t);
    for (int i = 0; i < t->nstreams; i++) {
        conn *c = t->streams[i];
        oasis_tcp_info ti;
        c->retr = c->flow && oasis_tcp_get_info(c->flow, &ti) == 0 ? (int64_t)ti.retransmits : -1;
    }
}

static int writes_pending(const ipf *t)
{
    for (int i = 0; i < t->nstreams; i++)
        if (t->streams[i]->writes)
            return 1;
    return 0;
}

/* ---- results ---------------------------------------------------------------- */

static double secs(const ipf *t) { return t->t_end > t->t_start ? (double)(t->t_end - t->t_start) / 1e9 : 0; }

static void our_results(ipf *t, ipf_results *r)
{
    memset(r, 0, sizeof *r);
    r->cpu_total = t->cpu[0];
    r->cpu_user = t->cpu[1];
    r->cpu_system = t->cpu[2];
    int we_send = t->server ? t->p.reverse : !t->p.reverse;
    r->sender_has_retransmits = we_send ? 1 : -1;
    snprintf(r->congestion_used, sizeof r->congestion_used, "oasis");
    r->nstreams = (size_t)t->nstreams;
    for (int i = 0; i < t->nstreams; i++) {
        conn *c = t->streams[i];
        ipf_stream_result *s = &r->streams[i];
        s->id = c->id;
        s->bytes = c->bytes;
        s->retransmits = we_send ? c->retr : -1;
        s->start_time = 0;
        s->end_time = secs(t);
    }
}

static const ipf_stream_result *peer_stream(const ipf *t, int id, int index)
{
    for (size_t i = 0; i < t->peer.nstreams; i++)
        if (t->peer.streams[i].id == id)
            return &t->peer.streams[i];
    /* Another numbering: fall back to the position. */
    return index < (int)t->peer.nstreams ? &t->peer.streams[index] : NULL;
}

static void fmt_bytes(char *b, size_t n, double v)
{
    const char *u[] = {"Bytes", "KBytes", "MBytes", "GBytes", "TBytes"};
    int i = 0;
    while (v >= 1024 && i < 4)
        v /= 1024, i++;
    snprintf(b, n, "%.*f %s", v < 10 ? 2 : v < 100 ? 1 : 0, v, u[i]);
}

static void fmt_rate(char *b, size_t n, double bits)
{
    const char *u[] = {"bits/sec", "Kbits/sec", "Mbits/sec", "Gbits/sec", "Tbits/sec"};
    int i = 0;
    while (bits >= 1000 && i < 4)
        bits /= 1000, i++;
    snprintf(b, n, "%.*f %s", bits < 10 ? 2 : bits < 100 ? 1 : 0, bits, u[i]);
}

/* The figures of one side: ours, or the peer's from its results. */
typedef struct side {
    uint64_t bytes;
    double seconds;
    int64_t retr;
} side;

static void sides(const ipf *t, int i, side *snd, side *rcv)
{
    int we_send = t->server ? t->p.reverse : !t->p.reverse;
    const conn *c = t->streams[i];
    const ipf_stream_result *ps = peer_stream(t, c->id, i);
    side me = {c->bytes, secs(t), we_send ? c->retr : -1}, peer = {0, 0, -1};
    if (ps) {
        peer.bytes = ps->bytes;
        peer.seconds = ps->end_time - ps->start_time;
        peer.retr = ps->retransmits;
    }
    *snd = we_send ? me : peer;
    *rcv = we_send ? peer : me;
}

static void print_line(const char *id, const side *s, const char *role)
{
    char b[32], r[32], retr[24] = "";
    fmt_bytes(b, sizeof b, (double)s->bytes);
    fmt_rate(r, sizeof r, s->seconds > 0 ? (double)s->bytes * 8 / s->seconds : 0);
    if (s->retr >= 0)
        snprintf(retr, sizeof retr, "%4" PRId64, s->retr);
    printf("[%3s]   0.00-%-6.2f sec  %12s  %16s  %4s  %s\n", id, s->seconds, b, r, retr, role);
}

#ifdef OASIS_HAVE_CJSON
static cJSON *side_json(const side *s, int with_retr)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "start", 0);
    cJSON_AddNumberToObject(o, "end", s->seconds);
    cJSON_AddNumberToObject(o, "seconds", s->seconds);
    cJSON_AddNumberToObject(o, "bytes", (double)s->bytes);
    cJSON_AddNumberToObject(o, "bits_per_second",
                            s->seconds > 0 ? (double)s->bytes * 8 / s->seconds : 0);
    if (with_retr && s->retr >= 0)
        cJSON_AddNumberToObject(o, "retransmits", (double)s->retr);
    cJSON_AddTrueToObject(o, "sender");
    return o;
}

/* -J: an iperf3-shaped document (start, intervals, end with streams,
 * sum_sent, sum_received, cpu_utilization_percent). */
static void report_json(ipf *t, const side *sum_s, const side *sum_r)
{
    cJSON *top = cJSON_CreateObject();
    if (!top)
        return;
    cJSON *start = cJSON_AddObjectToObject(top, "start");
    cJSON *conns = cJSON_AddArrayToObject(start, "connected");
    for (int i = 0; i < t->nstreams && conns; i++) {
        conn *c = t->streams[i];
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(conns, o)) {
            cJSON_Delete(o);
            break;
        }
        char lb[OASIS_IPADDR_STRLEN], rb[OASIS_IPADDR_STRLEN];
        cJSON_AddNumberToObject(o, "socket", c->id);
        cJSON_AddStringToObject(o, "local_host", oasis_ipaddr_format(&c->laddr, lb));
        cJSON_AddNumberToObject(o, "local_port", c->lport);
        cJSON_AddStringToObject(o, "remote_host", oasis_ipaddr_format(&c->raddr, rb));
        cJSON_AddNumberToObject(o, "remote_port", c->rport);
    }
    cJSON_AddStringToObject(start, "version", "oasis iperf (iperf3 protocol)");
    cJSON_AddStringToObject(start, "cookie", t->cookie);
    cJSON *ts = cJSON_AddObjectToObject(start, "test_start");
    if (ts) {
        cJSON_AddStringToObject(ts, "protocol", "TCP");
        cJSON_AddNumberToObject(ts, "num_streams", t->p.parallel);
        cJSON_AddNumberToObject(ts, "blksize", t->p.len);
        cJSON_AddNumberToObject(ts, "omit", t->p.omit);
        cJSON_AddNumberToObject(ts, "duration", t->p.time);
        cJSON_AddNumberToObject(ts, "bytes", (double)t->p.num);
        cJSON_AddNumberToObject(ts, "blocks", (double)t->p.blockcount);
        cJSON_AddNumberToObject(ts, "reverse", t->p.reverse);
    }
    cJSON_AddArrayToObject(top, "intervals");
    cJSON *end = cJSON_AddObjectToObject(top, "end");
    cJSON *streams = cJSON_AddArrayToObject(end, "streams");
    for (int i = 0; i < t->nstreams && streams; i++) {
        side s, r;
        sides(t, i, &s, &r);
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(streams, o)) {
            cJSON_Delete(o);
            break;
        }
        cJSON_AddItemToObject(o, "sender", side_json(&s, 1));
        cJSON_AddItemToObject(o, "receiver", side_json(&r, 0));
    }
    cJSON_AddItemToObject(end, "sum_sent", side_json(sum_s, 1));
    cJSON_AddItemToObject(end, "sum_received", side_json(sum_r, 0));
    cJSON *cpu = cJSON_AddObjectToObject(end, "cpu_utilization_percent");
    if (cpu) {
        cJSON_AddNumberToObject(cpu, "host_total", t->cpu[0]);
        cJSON_AddNumberToObject(cpu, "host_user", t->cpu[1]);
        cJSON_AddNumberToObject(cpu, "host_system", t->cpu[2]);
        cJSON_AddNumberToObject(cpu, "remote_total", t->peer.cpu_total);
        cJSON_AddNumberToObject(cpu, "remote_user", t->peer.cpu_user);
        cJSON_AddNumberToObject(cpu, "remote_system", t->peer.cpu_system);
    }
    char *s = cJSON_Print(top);
    if (s) {
        printf("%s\n", s);
        cJSON_free(s);
    }
    cJSON_Delete(top);
}
#endif

static void report(ipf *t)
{
    side sum_s = {0, 0, 0}, sum_r = {0, 0, -1};
    int any_retr = 0;
    if (!t->json)
        printf("- - - - - - - - - - - - - - - - - - - - - - - - -\n"
               "[ ID] Interval           Transfer     Bitrate         Retr\n");
    for (int i = 0; i < t->nstreams; i++) {
        side s, r;
        char id[8];
        sides(t, i, &s, &r);
        snprintf(id, sizeof id, "%d", t->streams[i]->id);
        if (!t->json) {
            print_line(id, &s, "sender");
            print_line(id, &r, "receiver");
        }
        sum_s.bytes += s.bytes;
        sum_r.bytes += r.bytes;
        if (s.seconds > sum_s.seconds)
            sum_s.seconds = s.seconds;
        if (r.seconds > sum_r.seconds)
            sum_r.seconds = r.seconds;
        if (s.retr >= 0)
            sum_s.retr += s.retr, any_retr = 1;
    }
    if (!any_retr)
        sum_s.retr = -1;
#ifdef OASIS_HAVE_CJSON
    if (t->json) {
        report_json(t, &sum_s, &sum_r);
        fflush(stdout);
        return;
    }
#endif
    print_line("SUM", &sum_s, "sender");
    print_line("SUM", &sum_r, "receiver");
    printf("CPU: local %.1f%% (user %.1f%% system %.1f%%), remote %.1f%%\n", t->cpu[0], t->cpu[1],
           t->cpu[2], t->peer.cpu_total);
    fflush(stdout);
}

/* ---- the control connection --------------------------------------------- */

static void ctrl_read(ipf *t);
static void process(ipf *t);

static void on_ctrl_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    conn *c = ud;
    (void)f;
    if (!c->flow || c->closing || c->gen != c->t->gen)
        return;
    ipf *t = c->t;
    if (err) {
        c->eof = 1;
        t->kick = 1;
        process(t);
        return;
    }
    if (t->clen + len > IPF_CTRL_MAX) {
        test_fail(t, "the peer sent too much on the control connection", NULL);
        test_finish(t);
        return;
    }
    if (t->clen + len > t->ccap) {
        size_t cap = t->ccap ? t->ccap : 4096;
        while (cap < t->clen + len)
            cap *= 2;
        uint8_t *nb = realloc(t->cbuf, cap);
        if (!nb) {
            test_fail(t, "out of memory", NULL);
            test_finish(t);
            return;
        }
        t->cbuf = nb;
        t->ccap = cap;
    }
    memcpy(t->cbuf + t->clen, data, len);
    t->clen += len;
    ctrl_read(t);
    process(t);
}

static void ctrl_read(ipf *t)
{
    if (t->ctrl && live(t->ctrl) && oasis_tcp_read(t->ctrl->flow, on_ctrl_read, t->ctrl) != 0)
        t->ctrl->eof = 1;
}

static void consume(ipf *t, size_t n)
{
    memmove(t->cbuf, t->cbuf + n, t->clen - n);
    t->clen -= n;
}

/* A length-prefixed JSON message: 1 taken (*body, *len point into cbuf;
 * consume 4 + len afterwards), 0 not complete yet, -1 too long. */
static int take_json(ipf *t, size_t max, const char **body, size_t *len)
{
    if (t->clen < 4)
        return 0;
    uint32_t n = (uint32_t)t->cbuf[0] << 24 | (uint32_t)t->cbuf[1] << 16 |
                 (uint32_t)t->cbuf[2] << 8 | t->cbuf[3];
    if (n > max)
        return -1;
    if (t->clen < 4 + (size_t)n)
        return 0;
    *body = (const char *)t->cbuf + 4;
    *len = n;
    if (t->verbose)
        fprintf(stderr, "oasis iperf: <- %.*s\n", (int)n, *body);
    return 1;
}

/* ---- server ------------------------------------------------------------------ */

static void server_streams_done(ipf *t)
{
    /* Every stream is in: start (iperf_run_server: TEST_START, TEST_RUNNING). */
    send_state(t, IPF_TEST_START);
    send_state(t, IPF_TEST_RUNNING);
    set_phase(t, P_RUNNING,
              t->p.time ? ((uint64_t)t->p.time + t->p.omit + 10) * OASIS_NS_PER_SEC : 0);
    start_data(t);
}

/* A pending connection's cookie is complete: a data stream, or denied. */
static void server_pending(ipf *t, conn *c)
{
    if (t->phase == P_STREAMS && c->gen == t->gen &&
        memcmp(c->cookie, t->cookie, IPF_COOKIE_SIZE) == 0 && t->nstreams < (int)t->p.parallel) {
        c->kind = K_STREAM;
        c->id = ipf_stream_id(t->nstreams);
        t->streams[t->nstreams++] = c;
        stream_setup(t, c);
        if (t->nstreams == (int)t->p.parallel)
            server_streams_done(t);
        return;
    }
    /* iperf_tcp_accept: a stream with a wrong cookie hears ACCESS_DENIED. */
    c->kind = K_DENIED;
    oasis_tcp_write(c->flow, &access_denied, 1, NULL, NULL);
    conn_close(c);
}

static void server_process(ipf *t)
{
    for (;;) {
        const char *body;
        size_t len;
        int r;
        char why[128];
        switch (t->phase) {
        case P_COOKIE:
            if (t->clen < IPF_COOKIE_SIZE)
                return;
            memcpy(t->cookie, t->cbuf, IPF_COOKIE_SIZE);
            t->cookie[IPF_COOKIE_SIZE - 1] = 0; /* printable or not, it ends */
            consume(t, IPF_COOKIE_SIZE);
            send_state(t, IPF_PARAM_EXCHANGE);
            set_phase(t, P_PARAMS, IPF_PHASE_TIMEOUT);
            continue;
        case P_PARAMS:
            r = take_json(t, IPF_MAX_PARAMS_JSON, &body, &len);
            if (r == 0)
                return;
            if (r < 0) {
                server_error(t, IPF_IERECVPARAMS, "parameters too long");
                return;
            }
            r = ipf_params_decode(body, len, &t->p, why, sizeof why);
            consume(t, 4 + len);
            if (r) {
                server_error(t, r, why);
                return;
            }
            t->limit = t->p.num ? t->p.num : t->p.blockcount * t->p.len;
            if (!t->limit && !t->p.time)
                t->p.time = 10;
            fprintf(stderr,
                    "oasis iperf: test from client %s: %u stream(s), %s, %s %" PRIu64 "%s, "
                    "block %u\n",
                    t->p.client_version[0] ? t->p.client_version : "?", t->p.parallel,
                    t->p.reverse ? "reverse (we send)" : "we receive",
                    t->limit ? "bytes" : "seconds", t->limit ? t->limit : (uint64_t)t->p.time,
                    "", t->p.len);
            send_state(t, IPF_CREATE_STREAMS);
            set_phase(t, P_STREAMS, IPF_PHASE_TIMEOUT);
            /* Streams that came before this (a racing client) were denied. */
            continue;
        case P_STREAMS:
        case P_RUNNING:
        case P_DISPLAY:
            if (t->clen < 1)
                return;
            r = (int8_t)t->cbuf[0];
            consume(t, 1);
            if (t->verbose)
                fprintf(stderr, "oasis iperf: <- state %d\n", r);
            if (r == IPF_TEST_END && t->phase == P_RUNNING) {
                stop_data(t);
                /* iperf3 closes the streams here; a sender's close flushes. */
                if (t->p.reverse)
                    for (int i = 0; i < t->nstreams; i++)
                        conn_close(t->streams[i]);
                send_state(t, IPF_EXCHANGE_RESULTS);
                set_phase(t, P_RESULTS, IPF_PHASE_TIMEOUT);
                continue;
            }
            if (r == IPF_IPERF_DONE && t->phase == P_DISPLAY) {
                test_finish(t);
                return;
            }
            if (r == IPF_CLIENT_TERMINATE) {
                stop_data(t);
                test_fail(t, "the client terminated the test", NULL);
                test_finish(t);
                return;
            }
            snprintf(why, sizeof why, "unexpected state %d", r);
            test_fail(t, "", why);
            test_finish(t);
            return;
        case P_RESULTS:
            r = take_json(t, IPF_MAX_RESULTS_JSON, &body, &len);
            if (r == 0)
                return;
            if (r > 0)
                r = ipf_results_decode(body, len, &t->peer, why, sizeof why);
            else
                snprintf(why, sizeof why, "results too long");
            if (r < 0) {
                test_fail(t, "bad results from the client: ", why);
                test_finish(t);
                return;
            }
            consume(t, 4 + len);
            t->have_peer = 1;
            set_phase(t, P_DRAIN, IPF_DRAIN_TIMEOUT);
            continue;
        case P_DRAIN: {
            /* Receiver: read what the client says it sent (it may still be
             * on the way: control and data take separate connections). */
            int waiting = 0;
            for (int i = 0; i < t->nstreams && !t->p.reverse; i++) {
                conn *c = t->streams[i];
                const ipf_stream_result *ps = peer_stream(t, c->id, i);
                if (ps && c->bytes < ps->bytes && !c->eof && c->flow)
                    waiting = 1;
            }
            if (waiting)
                return; /* the phase timeout ends the wait */
            if (!t->p.reverse)
                for (int i = 0; i < t->nstreams; i++)
                    conn_close(t->streams[i]);
            ipf_results mine;
            our_results(t, &mine);
            send_json(t, ipf_results_encode(&mine));
            send_state(t, IPF_DISPLAY_RESULTS);
            set_phase(t, P_DISPLAY, IPF_PHASE_TIMEOUT);
            continue;
        }
        default:
            return;
        }
    }
}

static void on_accept(oasis_stack *s, oasis_flow *flow, void *ud)
{
    ipf *t = ud;
    (void)s;
    if (t->phase == P_IDLE) {
        conn *c = conn_new(t, flow, K_CTRL);
        if (!c) {
            oasis_tcp_release(flow);
            return;
        }
        oasis_ipaddr a;
        uint16_t p;
        char b[OASIS_IPADDR_STRLEN];
        oasis_tcp_dst(flow, &a, &p);
        fprintf(stderr, "oasis iperf: accepted connection from %s, port %u\n", oasis_ipaddr_format(&a, b), p);
        t->ctrl = c;
        oasis_tcp_set_nodelay(flow, 1); /* state bytes go out at once */
        t->t_start = t->t_end = 0;
        memset(t->cpu, 0, sizeof t->cpu);
        set_phase(t, P_COOKIE, IPF_PHASE_TIMEOUT);
        ctrl_read(t);
        return;
    }
    conn *c = conn_new(t, flow, K_PENDING);
    if (!c) {
        oasis_tcp_release(flow);
        return;
    }
    if (t->phase == P_STREAMS) {
        stream_read(c); /* the cookie, then (forward tests) data */
    } else {
        /* iperf_accept: busy, ACCESS_DENIED without reading. */
        c->kind = K_DENIED;
        oasis_tcp_write(flow, &access_denied, 1, NULL, NULL);
        conn_close(c);
    }
}

/* ---- client ----------------------------------------------------------------- */

static void connect_stream(ipf *t);

static void on_stream_connect(oasis_stack *s, oasis_flow *flow, int err, void *ud)
{
    ipf *t = ud;
    (void)s;
    if (err) {
        test_fail(t, "cannot open a data stream: ", oasis_strerror(err));
        test_finish(t);
        return;
    }
    if (t->phase != P_STREAMS || t->done) {
        oasis_tcp_release(flow);
        return;
    }
    conn *c = conn_new(t, flow, K_STREAM);
    if (!c) {
        oasis_tcp_release(flow);
        test_fail(t, "out of memory", NULL);
        test_finish(t);
        return;
    }
    c->id = ipf_stream_id(t->nstreams);
    t->streams[t->nstreams++] = c;
    stream_setup(t, c);
    oasis_tcp_write(flow, t->cookie, IPF_COOKIE_SIZE, NULL, NULL); /* t->cookie outlives it */
    stream_read(c); /* reverse tests: data; forward: the server's close */
    if (!t->json) {
        uint32_t la, ra;
        uint16_t lp, rp;
        char lb[16], rb[16];
        oasis_tcp_src4(flow, &la, &lp);
        oasis_tcp_dst4(flow, &ra, &rp);
        printf("[%3d] local %s port %u connected to %s port %u\n", c->id, oasis_addr_format(la, lb),
               lp, oasis_addr_format(ra, rb), rp);
    }
    /* One after the other, so the server numbers them as we do. */
    if (t->nstreams < (int)t->p.parallel)
        connect_stream(t);
}

static void connect_stream(ipf *t)
{
    int rc = oasis_tcp_connect(t->n->stack, &t->dst, t->port, NULL, on_stream_connect, t);
    if (rc) {
        test_fail(t, "connect: ", oasis_strerror(rc));
        test_finish(t);
    }
}

static void client_end(ipf *t)
{
    for (int i = 0; i < t->nstreams; i++)
        if (t->streams[i]->flow) /* flushed()'s probes have had their say */
            oasis_tcp_set_keepalive(t->streams[i]->flow, NULL);
    stop_data(t);
    send_state(t, IPF_TEST_END);
    set_phase(t, P_ENDED, IPF_PHASE_TIMEOUT);
}

static void client_process(ipf *t)
{
    for (;;) {
        const char *body;
        size_t len;
        int r;
        char why[128];
        switch (t->phase) {
        case P_STATE:
        case P_STREAMS:
        case P_RUNNING:
        case P_FLUSH:
        case P_ENDED:
        case P_DISPLAY:
            if (t->clen < 1)
                return;
            r = (int8_t)t->cbuf[0];
            if (r == IPF_SERVER_ERROR) {
                if (t->clen < 9)
                    return;
                int ie = (int)((uint32_t)t->cbuf[1] << 24 | (uint32_t)t->cbuf[2] << 16 |
                               (uint32_t)t->cbuf[3] << 8 | t->cbuf[4]);
                snprintf(why, sizeof why, "the server reported error %d", ie);
                test_fail(t, "", why);
                test_finish(t);
                return;
            }
            consume(t, 1);
            if (t->verbose)
                fprintf(stderr, "oasis iperf: <- state %d\n", r);
            switch (r) {
            case IPF_PARAM_EXCHANGE:
                send_json(t, ipf_params_encode(&t->p));
                set_phase(t, P_STATE, IPF_PHASE_TIMEOUT);
                continue;
            case IPF_CREATE_STREAMS:
                set_phase(t, P_STREAMS, IPF_PHASE_TIMEOUT);
                connect_stream(t);
                continue;
            case IPF_TEST_START:
                set_phase(t, P_RUNNING, 0);
                start_data(t);
                continue;
            case IPF_TEST_RUNNING:
                continue;
            case IPF_EXCHANGE_RESULTS:
                if (t->phase != P_ENDED)
                    stop_data(t); /* the server ended it (its safety timer) */
                set_phase(t, P_DRAIN, IPF_DRAIN_TIMEOUT);
                continue;
            case IPF_DISPLAY_RESULTS:
                send_state(t, IPF_IPERF_DONE);
                test_finish(t);
                return;
            case IPF_ACCESS_DENIED:
                test_fail(t, "the server is busy running a test; try again later", NULL);
                test_finish(t);
                return;
            case IPF_SERVER_TERMINATE:
                test_fail(t, "the server has terminated", NULL);
                test_finish(t);
                return;
            default:
                snprintf(why, sizeof why, "unexpected state %d from the server", r);
                test_fail(t, "", why);
                test_finish(t);
                return;
            }
        case P_DRAIN: {
            /* Receiver: the server closes its streams at TEST_END; read
             * what was still on the way before counting. */
            int waiting = 0;
            for (int i = 0; i < t->nstreams && t->p.reverse; i++)
                if (!t->streams[i]->eof && t->streams[i]->flow)
                    waiting = 1;
            if (waiting || writes_pending(t))
                return;
            ipf_results mine;
            our_results(t, &mine);
            send_json(t, ipf_results_encode(&mine));
            set_phase(t, P_RESULTS, IPF_PHASE_TIMEOUT);
            continue;
        }
        case P_RESULTS:
            r = take_json(t, IPF_MAX_RESULTS_JSON, &body, &len);
            if (r == 0)
                return;
            if (r > 0)
                r = ipf_results_decode(body, len, &t->peer, why, sizeof why);
            else
                snprintf(why, sizeof why, "results too long");
            if (r < 0) {
                test_fail(t, "bad results from the server: ", why);
                test_finish(t);
                return;
            }
            consume(t, 4 + len);
            t->have_peer = 1;
            set_phase(t, P_DISPLAY, IPF_PHASE_TIMEOUT);
            continue;
        default:
            return;
        }
    }
}

static void on_ctrl_connect(oasis_stack *s, oasis_flow *flow, int err, void *ud)
{
    ipf *t = ud;
    (void)s;
    if (err) {
        if (err == OASIS_ECANCELED && t->done)
            return; /* the stack went down with the attempt (a signal) */
        char b[OASIS_IPADDR_STRLEN];
        fprintf(stderr, "oasis iperf: cannot connect to %s port %u: %s\n", oasis_ipaddr_format(&t->dst, b),
                t->port, oasis_strerror(err));
        if (err != OASIS_ECANCELED) /* canceled: the stack is going away with it */
            oasis_tcp_release(flow);
        t->done = 1;
        t->exit_code = cli_exit_code(err);
        return;
    }
    conn *c = conn_new(t, flow, K_CTRL);
    if (!c) {
        oasis_tcp_release(flow);
        t->done = 1;
        t->exit_code = EXIT_FAIL;
        return;
    }
    t->ctrl = c;
    oasis_tcp_set_nodelay(flow, 1); /* state bytes go out at once */
    ctrl_send(t, t->cookie, IPF_COOKIE_SIZE);
    set_phase(t, P_STATE, IPF_PHASE_TIMEOUT);
    ctrl_read(t);
}

/* ---- driving ----------------------------------------------------------------- */

static void process(ipf *t)
{
    if (t->ctrl && t->ctrl->gen == t->gen) {
        if (t->server)
            server_process(t);
        else
            client_process(t);
    }
    /* Control closed before the test ended. */
    if (t->phase != P_IDLE && t->ctrl && t->ctrl->eof && t->clen == 0) {
        test_fail(t, "the peer closed the control connection unexpectedly", NULL);
        test_finish(t);
    }
}

/* The client as sender with -n: TEST_END once the bytes are acknowledged
 * and the receiver has read them, or 5 s after the acks; an iperf3 server
 * counts only what its application read, and a loaded machine can leave
 * megabytes unread for a second or more (1 s lost 2 MB of 64 MiB once,
 * with CI and simulators sharing two cores).
 *
 * "Read" is the window back at the largest seen, and 200 ms since the last
 * ack. Linux announces a reopened window only when it has doubled, so
 * keepalive probes ask for it (each is answered with an ACK carrying the
 * window as it is now). Neither proves it, and nothing in TCP or iperf3's
 * protocol can: once Linux has grown its receive buffer past the window it
 * advertises, the window stays the same with bytes unread (an iperf3 -s
 * held to 1 ms of CPU a second showed a 9.7 MB window, more than any seen
 * before, with 2.4 MB of 8 MiB unread). A window at three quarters of the
 * largest and no wait once let TEST_END overtake 112 KB unread on a loaded
 * machine; iperf3 closes its streams unread at TEST_END. */
static int flushed(ipf *t)
{
    uint64_t now = now_ns(t);
    int acked = 1, read = 1;
    for (int i = 0; i < t->nstreams; i++) {
        conn *c = t->streams[i];
        oasis_tcp_sndbuf sb;
        oasis_tcp_info ti;
        if (!c->flow || oasis_tcp_get_sndbuf(c->flow, &sb) || oasis_tcp_get_info(c->flow, &ti))
            continue;
        if (sb.unsent || sb.unacked || sb.pending)
            acked = 0;
        if (ti.snd_wnd < c->max_wnd)
            read = 0;
    }
    if (!acked)
        return 0;
    if (!t->flush_since) {
        static const oasis_keepalive ask = {20 * OASIS_NS_PER_MS, 50 * OASIS_NS_PER_MS, 1000};
        t->flush_since = now;
        for (int i = 0; i < t->nstreams; i++)
            if (t->streams[i]->flow)
                oasis_tcp_set_keepalive(t->streams[i]->flow, &ask);
    }
    uint64_t waited = now - t->flush_since;
    if (!(read && waited >= 200 * OASIS_NS_PER_MS) && waited <= 5 * OASIS_NS_PER_SEC)
        return 0;
    oasis_tcp_info ti = {0};
    uint32_t largest = 0;
    if (t->nstreams && t->streams[0]->flow) {
        oasis_tcp_get_info(t->streams[0]->flow, &ti);
        largest = t->streams[0]->max_wnd;
    }
    fprintf(stderr, "oasis iperf: %s %" PRIu64 " ms after the last ack (window %u, largest %u)\n",
            read ? "the receiver's window reopened" : "gave up waiting for the receiver to read,",
            (uint64_t)(waited / OASIS_NS_PER_MS), (unsigned)ti.snd_wnd, (unsigned)largest);
    return 1;
}

static void sample_windows(ipf *t)
{
    for (int i = 0; i < t->nstreams; i++) {
        oasis_tcp_info ti;
        conn *c = t->streams[i];
        if (c->flow && oasis_tcp_get_info(c->flow, &ti) == 0 && ti.snd_wnd > c->max_wnd)
            c->max_wnd = ti.snd_wnd;
    }
}

static void tick(ipf *t)
{
    uint64_t now = now_ns(t);
    t->kick = 0;
    /* Pending stream cookies (server), oldest first: iperf3 numbers the
     * streams in the order they connect, and its client matches our
     * results to its own by that number, so two cookies complete in one
     * tick must not swap ids (they did, the list being newest first: a
     * stream's sent bytes were reported under its neighbour's id).
     * Handling one may change the list, so the walk starts again. */
    for (;;) {
        conn *pick = NULL;
        for (conn *c = t->conns; c; c = c->next)
            if (c->kind == K_PENDING && !c->closing && c->flow &&
                (c->cookie_got == IPF_COOKIE_SIZE || c->eof) && (!pick || c->seq < pick->seq))
                pick = c;
        if (!pick)
            break;
        if (pick->cookie_got == IPF_COOKIE_SIZE)
            server_pending(t, pick);
        else
            conn_close(pick);
    }
    if (!t->server && t->phase == P_RUNNING) {
        sample_windows(t);
        int end = t->end_at ? now >= t->end_at
                            : (t->p.reverse ? t->rx_total >= t->limit : t->queued >= t->limit);
        if (end && !t->p.reverse && !t->end_at) {
            t->sending = 0;
            t->flush_since = 0;
            set_phase(t, P_FLUSH, 0);
        } else if (end) {
            t->sending = 0;
            if (!writes_pending(t))
                client_end(t);
        }
    }
    if (!t->server && t->phase == P_FLUSH && !writes_pending(t) && flushed(t))
        client_end(t);
    if (t->phase == P_DRAIN && now >= t->phase_deadline) {
        /* Gave up waiting for the last bytes: report what arrived. */
        t->phase_deadline = 0;
        for (int i = 0; i < t->nstreams; i++)
            t->streams[i]->eof = 1;
        for (int i = 0; i < t->nstreams; i++)
            t->streams[i]->writes = 0;
    } else if (t->phase != P_IDLE && t->phase_deadline && now >= t->phase_deadline) {
        test_fail(t, "the peer went silent in phase ",
                  t->phase == P_COOKIE ? "cookie" : t->phase == P_PARAMS ? "parameters"
                  : t->phase == P_STREAMS ? "streams" : t->phase == P_RESULTS ? "results" : "test");
        stop_data(t);
        test_finish(t);
    }
    process(t);
}

static int loop_done(void *ud)
{
    ipf *t = ud;
    return t->done || t->kick;
}

static uint64_t rnd64(void *ud)
{
    (void)ud;
    uint64_t v = 0;
    while (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v && errno == EINTR)
        ;
    return v;
}

static void run(ipf *t)
{
    volatile sig_atomic_t *stop = cli_stop_flag();
    while (!t->done && !*stop) {
        int rc = oasis_loop_run(t->n->loop, loop_done, t, IPF_SLICE);
        if (rc == OASIS_EIO) {
            fprintf(stderr, "oasis iperf: the TAP device failed\n");
            t->exit_code = EXIT_FAIL;
            break;
        }
        tick(t);
    }
    oasis_loop_counts lc;
    oasis_loop_counts_get(t->n->loop, &lc);
    if (!t->json) /* (-J: the JSON document alone, which a reader may take to its end) */
        fprintf(stderr,
                "oasis iperf: TAP: %" PRIu64 " wakeups, %" PRIu64 " frames, longest drain %" PRIu64
                " frames, %" PRIu64 " drains cut short\n",
                lc.wakeups, lc.frames, lc.max_drain, lc.drain_yields);
    if (*stop && !t->done) {
        if (!t->server && t->ctrl && live(t->ctrl))
            send_state(t, IPF_CLIENT_TERMINATE);
        fprintf(stderr, "oasis iperf: interrupted\n");
        t->exit_code = t->server ? EXIT_OK : EXIT_FAIL;
    }
    /* Let the last closes and the IPERF_DONE byte go out (bounded). */
    t->gen++; /* every conn is now of a finished test: freed when closed */
    for (conn *c = t->conns, *next; c; c = next) {
        next = c->next;
        conn_close(c);
    }
    uint64_t until = now_ns(t) + 2 * OASIS_NS_PER_SEC;
    while (t->conns && now_ns(t) < until) {
        t->kick = 0;
        if (oasis_loop_run(t->n->loop, loop_done, t, IPF_SLICE) == OASIS_EIO)
            break;
    }
    /* Whatever is left is let go. */
    for (conn *c = t->conns; c; c = c->next) {
        oasis_flow *f = c->flow;
        c->flow = NULL;
        if (f)
            oasis_tcp_release(f);
    }
    while (t->conns) {
        conn *c = t->conns;
        t->conns = c->next;
        free(c);
    }
}

/* ---- options ------------------------------------------------------------------- */

static const char iperf_usage[] =
    "Usage: oasis iperf -s [options]\n"
    "       oasis iperf -c ADDR [options]   (IPv4 or IPv6)\n"
    "iperf3's TCP test over Oasis on a TAP device; either side may be Debian's\n"
    "iperf3 (same protocol: control connection, cookie, JSON parameters and\n"
    "results).\n\n"
    "  -s, --server        wait for clients (one test at a time)\n"
    "  -c, --client ADDR   run a test against the iperf3 server at ADDR\n"
    "  -p, --port N        port (5201)\n"
    "  -1, --one-off       server: exit after one test\n"
    "  -t, --time S        client: seconds to transmit (10)\n"
    "  -n, --bytes N       client: bytes to transmit instead (K, M, G: binary)\n"
    "  -P, --parallel N    client: streams (1..128)\n"
    "  -R, --reverse       client: the server sends\n"
    "  -l, --length N      client: block size (128K)\n"
    "  -w, --window N      client: buffer size of every stream (both ends)\n"
    "  -N, --no-delay      client: Nagle off\n"
    "  -J, --json          results as JSON (iperf3's layout: end.sum_sent...)\n"
    "  -V, --debug         print the control messages\n"
    "  -h, --help          this text\n\n";

static const struct option iperf_own[] = {
    {"server", no_argument, NULL, 's'},     {"client", required_argument, NULL, 'c'},
    {"port", required_argument, NULL, 'p'}, {"one-off", no_argument, NULL, '1'},
    {"time", required_argument, NULL, 't'}, {"bytes", required_argument, NULL, 'n'},
    {"parallel", required_argument, NULL, 'P'}, {"reverse", no_argument, NULL, 'R'},
    {"length", required_argument, NULL, 'l'}, {"window", required_argument, NULL, 'w'},
    {"no-delay", no_argument, NULL, 'N'},   {"json", no_argument, NULL, 'J'},
    {"debug", no_argument, NULL, 'V'},      {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

typedef struct iperf_args {
    ipf *t;
    int server, client, time_given, bytes_given;
    const char *host;
} iperf_args;

static int iperf_option(void *ctx, int code, const char *arg)
{
    iperf_args *a = ctx;
    ipf *t = a->t;
    uint64_t v;
    switch (code) {
    case 's': a->server = 1; return 0;
    case 'c': a->client = 1; a->host = arg; return 0;
    case '1': t->one_off = 1; return 0;
    case 'R': t->want.reverse = 1; return 0;
    case 'N': t->want.nodelay = 1; return 0;
    case 'J': t->json = 1; return 0;
    case 'V': t->verbose = 1; return 0;
    case 'p':
        if (parse_u64(arg, 65535, &v) == 0 && v > 0) {
            t->port = (uint16_t)v;
            return 0;
        }
        break;
    case 't':
        if (parse_u64(arg, IPF_MAX_TIME, &v) == 0 && v > 0) {
            t->want.time = (uint32_t)v;
            a->time_given = 1;
            return 0;
        }
        break;
    case 'n':
        if (parse_size(arg, &v) == 0 && v > 0 && v <= (1ull << 53)) {
            t->want.num = v;
            a->bytes_given = 1;
            return 0;
        }
        break;
    case 'P':
        if (parse_u64(arg, IPF_MAX_STREAMS, &v) == 0 && v > 0) {
            t->want.parallel = (uint32_t)v;
            return 0;
        }
        break;
    case 'l':
        if (parse_size(arg, &v) == 0 && v > 0 && v <= IPF_MAX_BLKSIZE) {
            t->want.len = (uint32_t)v;
            return 0;
        }
        break;
    case 'w':
        if (parse_size(arg, &v) == 0 && v >= 1024 && v <= IPF_MAX_WINDOW) {
            t->want.window = (uint32_t)v;
            return 0;
        }
        break;
    default: return -1;
    }
    fprintf(stderr, "oasis iperf: invalid value '%s' for -%c\n", arg, code);
    return -1;
}

int cmd_iperf(int argc, char **argv)
{
#ifndef OASIS_HAVE_CJSON
    (void)argc, (void)argv;
    fprintf(stderr, "oasis iperf: this build has no cJSON (install libcjson-dev and rebuild)\n");
    return EXIT_SETUP;
#else
    ipf *t = calloc(1, sizeof *t);
    iperf_args a = {.t = t};
    net n;
    net_opts no;
    if (!t)
        return EXIT_SETUP;
    t->port = IPF_PORT;
    t->soft.tool = "oasis iperf";
    ipf_params_init(&t->want);
    net_opts_init(&no);
    int rc = net_getopt(argc, argv, "sc:p:1t:n:P:Rl:w:NJVh", iperf_own, iperf_usage, NULL, &no,
                        iperf_option, &a);
    if (rc == 0 && a.server == a.client) {
        fprintf(stderr, "oasis iperf: want -s or -c ADDR\n");
        rc = -1;
    } else if (rc == 0 && optind != argc) {
        fprintf(stderr, "oasis iperf: unexpected argument '%s'\n", argv[optind]);
        rc = -1;
    } else if (rc == 0 && a.client && oasis_ipaddr_parse(a.host, &t->dst) != 0) {
        fprintf(stderr, "oasis iperf: invalid address '%s'\n", a.host);
        rc = -1;
    } else if (rc == 0 && a.time_given && a.bytes_given) {
        fprintf(stderr, "oasis iperf: -t and -n exclude each other\n");
        rc = -1;
    }
    if (rc) {
        if (rc < 0)
            fprintf(stderr, "Try 'oasis iperf --help'.\n");
        free(t);
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (a.client && !a.bytes_given && !a.time_given)
        t->want.time = 10;
    t->server = a.server;
    t->buf = malloc(IPF_MAX_BLKSIZE);
    if (!t->buf) {
        free(t);
        return EXIT_SETUP;
    }
    /* iperf3 sends random bytes; a fixed pattern moves the same. */
    for (size_t i = 0; i < IPF_MAX_BLKSIZE; i++)
        t->buf[i] = (uint8_t)(i * 131 + (i >> 8));
    cli_install_signals();
    if ((rc = net_up(&n, &no)) != 0) {
        free(t->buf);
        free(t);
        return rc;
    }
    t->n = &n;
    t->exit_code = EXIT_OK;
    if (t->server) {
        rc = oasis_tcp_listen(n.stack, t->port, NULL, on_accept, t);
        if (rc) {
            fprintf(stderr, "oasis iperf: cannot listen on port %u: %s\n", t->port, oasis_strerror(rc));
            t->exit_code = EXIT_SETUP;
        } else {
            char b[16];
            fprintf(stderr, "oasis iperf: server on %s, ready on port %u\n", oasis_addr_format(n.opt.addr, b),
                    t->port);
            run(t);
        }
    } else {
        char b[OASIS_IPADDR_STRLEN];
        t->p = t->want;
        t->limit = t->p.num;
        ipf_make_cookie(t->cookie, rnd64, NULL);
        if (!t->json)
            printf("Connecting to host %s, port %u\n", oasis_ipaddr_format(&t->dst, b), t->port);
        set_phase(t, P_CONNECT, 0);
        /* IPv6: a source address exists once DAD has passed (as oasis nc). */
        if (oasis_ipaddr_is_v6(&t->dst) && net_wait_ipv6(&n, &t->dst, 5 * OASIS_NS_PER_SEC) != 0)
            fprintf(stderr, "oasis iperf: no IPv6 address or route ready to reach the server\n");
        oasis_flow *attempt; /* the handle on_ctrl_connect gets */
        rc = oasis_tcp_connect_flow(n.stack, &t->dst, t->port, NULL, on_ctrl_connect, t, &attempt);
        if (rc == 0)
            rc = oasis_tcp_set_event_cb(attempt, cli_soft_report_cb, &t->soft);
        if (rc) {
            fprintf(stderr, "oasis iperf: connect: %s\n", oasis_strerror(rc));
            t->exit_code = EXIT_FAIL;
        } else {
            run(t);
        }
        if (!t->json && t->exit_code == EXIT_OK)
            printf("\niperf Done.\n");
    }
    rc = t->exit_code;
    net_down(&n);
    free(t->cbuf);
    free(t->buf);
    free(t);
    return rc;
#endif
}
