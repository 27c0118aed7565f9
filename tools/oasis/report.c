/* The serve command's metrics reporting: --influx URL and friends.
 *
 * The dump (--metrics-dump FILE) exists so that a test can compare exactly
 * what reached the database with the stack's own counters: at exit the
 * counters are copied, and at once (no stack event in between) the reporter
 * takes its last snapshot, so both hold the same values with the same
 * timestamp. The dump is encoded from the copy through a separate registry,
 * not from the reporter's queue. */
#include "report.h"

#include "oasis/metrics_control.h"
#include "oasis/metrics_prom.h"
#include "oasis/metrics_reporter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DRAIN_NS (3 * OASIS_NS_PER_SEC)
#define SCRAPE_RING 64
#define SECRET_MAX 1024

/* The stack's counters as they were when a scrape read the registry. */
typedef struct scrape_copy {
    uint64_t n; /* the scrape's number; 0: unused */
    oasis_counters c;
} scrape_copy;

struct report {
    report_opts o;
    net *n;
    oasis_metrics *m;
    oasis_reporter *r;
    oasis_prom_server *prom;
    oasis_metrics_control *ctl;
    char host[256];
    char url_resolved[2300]; /* --influx with the name's address (the config points into it) */
    char token[SECRET_MAX + 1], password[SECRET_MAX + 1];
    oasis_reporter_config cfg;
    scrape_copy ring[SCRAPE_RING];
};

const char report_options_help[] =
    "Metrics options (serve):\n"
    "  --prometheus PORT serve GET /metrics on PORT of the stack: Prometheus text\n"
    "                    format 0.0.4, or OpenMetrics 1.0.0 when the Accept header\n"
    "                    asks for it (e.g. oasis_tcp_InSegs_total)\n"
    "  --metrics-flows N also one series per TCP flow (4-tuple labels), at most N\n"
    "                    flows (1..4096), for --prometheus and --influx alike\n"
    "  --control ADDR:PORT  a control port on the stack (off unless given; ADDR must\n"
    "                    be the stack's --addr). One command a line: help, list,\n"
    "                    enable NAME, disable NAME, interval [MS], dump, flush, quit;\n"
    "                    e.g. 'disable udp' -> 'ok udp off (1)'\n"
    "  --influx URL      stream the stack's metrics while serving, to\n"
    "                    InfluxDB 1.x:  http://A.B.C.D[:PORT]/DB (port 8086)\n"
    "                    InfluxDB 2.x:  http://A.B.C.D[:PORT]/api/v2/write?org=O&bucket=B\n"
    "                    (also InfluxDB 3, VictoriaMetrics), or a line-protocol TCP\n"
    "                    listener such as Telegraf's: tcp://A.B.C.D[:PORT] (8094);\n"
    "                    a host name instead of A.B.C.D is looked up at start (--dns)\n"
    "  --influx-token-file F  2.x: send 'Authorization: Token <first line of F>'\n"
    "  --influx-user U --influx-password-file F  1.x: basic authentication\n"
    "  --influx-gzip     gzip request bodies when that makes them shorter (zlib)\n"
    "  --influx-interval MS  report every MS milliseconds (10000)\n"
    "  --host-tag NAME   tag host=NAME on every point (the system's host name)\n"
    "  --influx-queue N  points kept while the sink is away; the oldest go first (10000)\n"
    "  --influx-backoff-max MS  longest wait between reconnects (30000)\n"
    "  --influx-timeout MS  a connect or a request unanswered this long fails;\n"
    "                    the batch is sent again (10000)\n"
    "  --influx-flows    --metrics-flows 256\n"
    "  --metrics-dump FILE  at exit, write the final counters (the same snapshot as\n"
    "                    the last report) and the reporter's totals in line protocol;\n"
    "                    with --prometheus also the counters as each of the last 64\n"
    "                    scrapes saw them (tag scrape=N, N = oasis_prometheus_scrapes_total)\n";

static int bad(const char *what, const char *arg)
{
    fprintf(stderr, "oasis serve: invalid %s '%s'\n", what, arg);
    return -1;
}

/* Can v be a tag value in line protocol? Whatever the encoder takes. */
static int lp_tag_ok(const char *v)
{
    oasis_metric_tag tag = {"host", v};
    oasis_metric_field fl = {"x", OASIS_METRIC_UINT, {.u = 0}, 0};
    oasis_metric_point p = {"x", &tag, 1, &fl, 1, 0};
    oasis_lp_buf b;
    oasis_lp_buf_init(&b, 1024, NULL, NULL);
    int ok = oasis_lp_encode_point(&b, &p, 0) == 0;
    oasis_lp_buf_free(&b);
    return ok;
}

int report_option(report_opts *o, int code, const char *arg)
{
    oasis_reporter_config c;
    char err[256];
    switch (code) {
    case REPORT_OPT_URL: {
        char host[256], tmp[2300];
        oasis_reporter_config_init(&c);
        o->url_name[0] = '\0';
        if (oasis_reporter_parse_url(arg, &c, err, sizeof err) != 0) {
            /* A host name: the rest is checked with a stand-in address, the
             * name is looked up once the stack runs (resolve.c). */
            if (cli_url_host(arg, host, sizeof host) != 0 || !cli_valid_hostname(host) ||
                cli_url_with_addr(arg, OASIS_IPV4(192, 0, 2, 1), tmp, sizeof tmp) != 0 ||
                oasis_reporter_parse_url(tmp, &c, NULL, 0) != 0) {
                fprintf(stderr, "oasis serve: --influx: %s\n", err);
                return -1;
            }
            snprintf(o->url_name, sizeof o->url_name, "%s", host);
        }
        o->url = arg;
        return 1;
    }
    case REPORT_OPT_INTERVAL:
        if (parse_u64(arg, 86400000, &o->interval_ms) != 0 || o->interval_ms < 10)
            return bad("--influx-interval (milliseconds, 10..86400000)", arg);
        return 1;
    case REPORT_OPT_HOST:
        if (!arg[0] || strlen(arg) > 255 || strpbrk(arg, "\r\n"))
            return bad("--host-tag (1..255 characters, one line)", arg);
        /* The encoder's own rules (a backslash at the end or before '\\',
         * ',', '=' or ' ' would read as an escape): a trial line with the tag. */
        if (!lp_tag_ok(arg))
            return bad("--host-tag (no backslash at the end or before '\\', ',', '=' or ' ')",
                       arg);
        o->host_tag = arg;
        return 1;
    case REPORT_OPT_QUEUE:
        if (parse_u64(arg, 10000000, &o->queue_points) != 0 || o->queue_points == 0)
            return bad("--influx-queue (points, 1..10000000)", arg);
        return 1;
    case REPORT_OPT_BACKOFF:
        if (parse_u64(arg, 3600000, &o->backoff_max_ms) != 0 || o->backoff_max_ms < 10)
            return bad("--influx-backoff-max (milliseconds, 10..3600000)", arg);
        return 1;
    case REPORT_OPT_TIMEOUT:
        if (parse_u64(arg, 3600000, &o->timeout_ms) != 0 || o->timeout_ms < 10)
            return bad("--influx-timeout (milliseconds, 10..3600000)", arg);
        return 1;
    case REPORT_OPT_FLOWS: o->flows = 256; return 1;
    case REPORT_OPT_DUMP: o->dump = arg; return 1;
    case REPORT_OPT_METRICS_FLOWS: {
        uint64_t v;
        if (parse_u64(arg, 4096, &v) != 0 || v == 0)
            return bad("--metrics-flows (flows, 1..4096)", arg);
        o->flows = (uint32_t)v;
        return 1;
    }
    case REPORT_OPT_PROM: {
        uint64_t v;
        if (parse_u64(arg, 65535, &v) != 0 || v == 0)
            return bad("--prometheus (port, 1..65535)", arg);
        o->prom_port = (uint16_t)v;
        return 1;
    }
    case REPORT_OPT_CONTROL: {
        char a[OASIS_IPV4_STRLEN];
        const char *colon = strrchr(arg, ':');
        uint64_t v;
        if (!colon || (size_t)(colon - arg) >= sizeof a)
            return bad("--control (ADDR:PORT, e.g. 10.77.0.2:7070)", arg);
        memcpy(a, arg, (size_t)(colon - arg));
        a[colon - arg] = '\0';
        if (oasis_addr_parse(a, &o->ctl_addr) != 0 || o->ctl_addr == 0 ||
            parse_u64(colon + 1, 65535, &v) != 0 || v == 0)
            return bad("--control (ADDR:PORT, e.g. 10.77.0.2:7070)", arg);
        o->ctl_port = (uint16_t)v;
        return 1;
    }
    case REPORT_OPT_TOKEN_FILE: o->token_file = arg; return 1;
    case REPORT_OPT_USER:
        if (!arg[0] || strlen(arg) > 255 || strpbrk(arg, ":\r\n"))
            return bad("--influx-user (1..255 characters, no ':')", arg);
        o->user = arg;
        return 1;
    case REPORT_OPT_PASSWORD_FILE: o->password_file = arg; return 1;
    case REPORT_OPT_GZIP:
        if (!report_gzip_available()) {
            fprintf(stderr, "oasis serve: --influx-gzip: this oasis was built without zlib\n");
            return -1;
        }
        o->gzip = 1;
        return 1;
    default: return 0;
    }
}

static void report_free(report *rp)
{
    oasis_metrics_control_destroy(rp->ctl);
    oasis_prom_server_destroy(rp->prom);
    oasis_reporter_destroy(rp->r);
    oasis_metrics_destroy(rp->m);
    free(rp);
}

/* The first line of a file holding a secret, without its line end. */
static int read_secret(const char *path, const char *what, char *out)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(out, 1, SECRET_MAX, f) : 0;
    if (f)
        fclose(f);
    out[n] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    if (!f || !out[0]) {
        fprintf(stderr, "oasis serve: cannot read the %s from %s\n", what, path);
        return -1;
    }
    for (const char *p = out; *p; p++) {
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
            fprintf(stderr, "oasis serve: the %s in %s must be printable ASCII\n", what, path);
            return -1;
        }
    }
    return 0;
}

static int setup_reporter(report *rp, net *n)
{
    oasis_reporter_config *c = &rp->cfg;
    const char *url = rp->o.url;
    if (rp->o.url_name[0]) {
        uint32_t a;
        if (cli_resolve(n, rp->o.url_name, &a) != 0 ||
            cli_url_with_addr(url, a, rp->url_resolved, sizeof rp->url_resolved) != 0)
            return -1;
        url = rp->url_resolved;
    }
    oasis_reporter_config_init(c);
    oasis_reporter_parse_url(url, c, NULL, 0); /* checked when parsing options */
    c->host_tag = rp->host;
    if (rp->o.interval_ms)
        c->interval_ns = rp->o.interval_ms * OASIS_NS_PER_MS;
    if (rp->o.queue_points)
        c->max_queue_points = (uint32_t)rp->o.queue_points;
    if (rp->o.backoff_max_ms) {
        c->backoff_max_ns = rp->o.backoff_max_ms * OASIS_NS_PER_MS;
        if (c->backoff_min_ns > c->backoff_max_ns)
            c->backoff_min_ns = c->backoff_max_ns;
    }
    if (rp->o.timeout_ms)
        c->timeout_ns = rp->o.timeout_ms * OASIS_NS_PER_MS;
    c->seed = n->opt.seed ^ 0x5245504f52544552ull; /* its own stream, from --seed */
    int v2 = c->proto == OASIS_REPORTER_HTTP_V2;
    if ((rp->o.token_file && !v2) || ((rp->o.user || rp->o.password_file) && c->proto != OASIS_REPORTER_HTTP) ||
        !rp->o.user != !rp->o.password_file) {
        fprintf(stderr, "oasis serve: --influx-token-file goes with an /api/v2/write URL, "
                        "--influx-user and --influx-password-file (both) with an InfluxDB 1.x URL\n");
        return -1;
    }
    if (rp->o.token_file && read_secret(rp->o.token_file, "token", rp->token) != 0)
        return -1;
    if (rp->o.password_file && read_secret(rp->o.password_file, "password", rp->password) != 0)
        return -1;
    c->token = rp->o.token_file ? rp->token : NULL;
    c->username = rp->o.user;
    c->password = rp->o.password_file ? rp->password : NULL;
    if (rp->o.gzip) {
        c->gzip = report_gzip;
        c->gzip_ud = NULL;
    }
    int err = oasis_reporter_create(n->stack, rp->m, c, &rp->r);
    if (err) {
        fprintf(stderr, "oasis serve: cannot start the metrics reporter: %s\n", oasis_strerror(err));
        return -1;
    }
    return 0;
}

static void on_scrape(void *ud, uint64_t scrape)
{
    report *rp = ud;
    scrape_copy *sc = &rp->ring[scrape % SCRAPE_RING];
    sc->n = scrape;
    memcpy(&sc->c, oasis_stack_counters(rp->n->stack), sizeof sc->c);
}

static int setup_rest(report *rp, net *n)
{
    char ip[OASIS_IPV4_STRLEN];
    int err = oasis_metrics_add_stack(rp->m, n->stack, NULL, 0);
    if (!err && rp->o.flows)
        err = oasis_metrics_add_tcp_flows(rp->m, n->stack, NULL, 0, rp->o.flows);
    if (err) {
        fprintf(stderr, "oasis serve: cannot set up metrics: %s\n", oasis_strerror(err));
        return -1;
    }
    if (rp->o.prom_port) {
        oasis_prom_config pc;
        oasis_prom_config_init(&pc);
        pc.port = rp->o.prom_port;
        pc.on_scrape = on_scrape;
        pc.on_scrape_ud = rp;
        if ((err = oasis_prom_server_create(n->stack, rp->m, &pc, &rp->prom)) != 0) {
            fprintf(stderr, "oasis serve: cannot serve --prometheus on port %u: %s\n",
                    rp->o.prom_port, oasis_strerror(err));
            return -1;
        }
        printf("oasis serve: Prometheus metrics at http://%s:%u/metrics\n",
               oasis_addr_format(n->opt.addr, ip), rp->o.prom_port);
        fflush(stdout);
    }
    return 0;
}

static int setup_control(report *rp, net *n)
{
    char ip[OASIS_IPV4_STRLEN], want[OASIS_IPV4_STRLEN];
    oasis_control_config cc;
    oasis_control_config_init(&cc);
    cc.addr = rp->o.ctl_addr;
    cc.port = rp->o.ctl_port;
    if (cc.addr != oasis_stack_addr(n->stack)) {
        fprintf(stderr, "oasis serve: --control %s:%u: the stack's only address is %s\n",
                oasis_addr_format(cc.addr, ip), cc.port,
                oasis_addr_format(oasis_stack_addr(n->stack), want));
        return -1;
    }
    int err = oasis_metrics_control_create(n->stack, rp->m, rp->r, &cc, &rp->ctl);
    if (err) {
        fprintf(stderr, "oasis serve: cannot open --control on port %u: %s\n", cc.port,
                oasis_strerror(err));
        return -1;
    }
    printf("oasis serve: metrics control port on %s:%u\n", oasis_addr_format(cc.addr, ip),
           cc.port);
    fflush(stdout);
    return 0;
}

int report_start(report **out, const report_opts *o, net *n)
{
    *out = NULL;
    if (!o->url && !o->dump && !o->prom_port && !o->ctl_port)
        return EXIT_OK;
    report *rp = calloc(1, sizeof *rp);
    if (!rp || oasis_metrics_create(NULL, &rp->m) != 0) {
        fprintf(stderr, "oasis serve: out of memory\n");
        free(rp);
        return EXIT_SETUP;
    }
    rp->o = *o;
    rp->n = n;
    if (o->host_tag)
        snprintf(rp->host, sizeof rp->host, "%s", o->host_tag);
    else if (gethostname(rp->host, sizeof rp->host - 1) != 0 || !rp->host[0])
        snprintf(rp->host, sizeof rp->host, "oasis");
    if (setup_rest(rp, n) != 0 || (o->url && setup_reporter(rp, n) != 0) ||
        (o->ctl_port && setup_control(rp, n) != 0)) {
        report_free(rp);
        return EXIT_SETUP;
    }
    if (o->url) {
        char ip[OASIS_IPV4_STRLEN];
        printf("oasis serve: reporting metrics every %llu ms to %s (%s:%u, host=%s)\n",
               (unsigned long long)(rp->cfg.interval_ns / OASIS_NS_PER_MS), o->url,
               oasis_addr_format(rp->cfg.addr, ip), rp->cfg.port, rp->host);
        fflush(stdout);
    }
    *out = rp;
    return EXIT_OK;
}

static int reporter_idle(void *ud) { return oasis_reporter_idle(ud); }

static uint64_t unix_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * OASIS_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Appends one point with the host tag, written by the library's encoder
 * (its escaping and checks, as every other line of the dump). */
static void dump_point(FILE *f, const report *rp, const char *measurement,
                       const oasis_metric_field *fields, size_t n, uint64_t ts)
{
    oasis_metric_tag host = {"host", rp->host};
    oasis_metric_point p = {measurement, &host, 1, fields, n, ts};
    oasis_lp_buf b;
    oasis_lp_buf_init(&b, 1u << 16, NULL, NULL);
    if (oasis_lp_encode_point(&b, &p, 0) == 0)
        fwrite(b.data, 1, b.len, f);
    oasis_lp_buf_free(&b);
}

#define U(k, x) {k, OASIS_METRIC_UINT, {.u = (x)}, 1}

/* Appends the reporter's totals as one line. */
static void dump_totals(FILE *f, const report *rp, const oasis_reporter_stats *st, uint64_t ts)
{
    const oasis_metric_field fl[] = {
        U("points_collected", st->points_collected), U("points_sent", st->points_sent),
        U("points_dropped", st->points_dropped), U("points_rejected", st->points_rejected),
        U("encode_errors", st->encode_errors), U("batches_sent", st->batches_sent),
        U("connects", st->connects), U("connect_failures", st->connect_failures),
        U("send_failures", st->send_failures), U("http_errors", st->http_errors),
        U("queue_points", st->queue_points), U("inflight_points", st->inflight_points),
    };
    dump_point(f, rp, "oasis_reporter_final", fl, sizeof fl / sizeof fl[0], ts);
}

/* The counters as each of the last scrapes saw them: the six layers with a
 * tag scrape=N, then the number of scrapes. */
static void dump_scrapes(FILE *f, const report *rp, uint64_t ts)
{
    uint64_t last = oasis_prom_server_scrapes(rp->prom);
    for (uint64_t k = last > SCRAPE_RING ? last - SCRAPE_RING + 1 : 1; k <= last; k++) {
        const scrape_copy *sc = &rp->ring[k % SCRAPE_RING];
        char num[24];
        snprintf(num, sizeof num, "%llu", (unsigned long long)sc->n);
        oasis_metric_tag tags[2] = {{"host", rp->host}, {"scrape", num}};
        oasis_metrics *m = NULL;
        oasis_metrics_snapshot snap;
        oasis_lp_buf b;
        size_t next;
        oasis_lp_buf_init(&b, 1u << 20, NULL, NULL);
        if (sc->n == k && oasis_metrics_create(NULL, &m) == 0 &&
            oasis_metrics_add_counters(m, &sc->c, tags, 2) == 0 &&
            oasis_metrics_collect(m, ts, &snap) == 0 &&
            oasis_lp_encode_points(&b, snap.points, snap.count, 0, &next, NULL) == 0)
            fwrite(b.data, 1, b.len, f);
        oasis_lp_buf_free(&b);
        oasis_metrics_destroy(m);
    }
    const oasis_metric_field fl[] = {U("scrapes", last)};
    dump_point(f, rp, "oasis_prometheus_final", fl, 1, ts);
}

/* The six layer measurements of the counters copy, stamped ts. */
static int write_dump(const report *rp, const oasis_counters *c, const oasis_reporter_stats *st,
                      uint64_t ts)
{
    oasis_metrics *m = NULL;
    oasis_metric_tag host = {"host", rp->host};
    oasis_metrics_snapshot snap;
    oasis_lp_buf b;
    size_t next;
    int err = oasis_metrics_create(NULL, &m);
    if (!err)
        err = oasis_metrics_add_counters(m, c, &host, 1);
    if (!err)
        err = oasis_metrics_collect(m, ts, &snap);
    oasis_lp_buf_init(&b, 1u << 20, NULL, NULL);
    if (!err)
        err = oasis_lp_encode_points(&b, snap.points, snap.count, 0, &next, NULL);
    FILE *f = err ? NULL : fopen(rp->o.dump, "w");
    if (f) {
        fwrite(b.data, 1, b.len, f);
        if (rp->r)
            dump_totals(f, rp, st, ts);
        if (rp->prom)
            dump_scrapes(f, rp, ts);
        err = fclose(f) == 0 ? 0 : OASIS_EIO;
    } else if (!err) {
        err = OASIS_EIO;
    }
    oasis_lp_buf_free(&b);
    oasis_metrics_destroy(m);
    if (err)
        fprintf(stderr, "oasis serve: cannot write --metrics-dump %s: %s\n", rp->o.dump,
                oasis_strerror(err));
    return err ? EXIT_FAIL : EXIT_OK;
}

int report_finish(report *rp, net *n)
{
    if (!rp)
        return EXIT_OK;
    oasis_counters final;
    oasis_reporter_stats st;
    uint64_t ts = unix_ns();
    memset(&st, 0, sizeof st);
    /* Copy first, then snapshot: flush may send at once. */
    memcpy(&final, oasis_stack_counters(n->stack), sizeof final);
    if (rp->r) {
        oasis_reporter_stop(rp->r);
        oasis_reporter_flush(rp->r);
        oasis_reporter_get_stats(rp->r, &st);
        ts = st.last_collect_ns;
        /* A second signal must not cut the drain short of its own timeout. */
        oasis_loop_set_stop_flag(n->loop, NULL);
        oasis_loop_run(n->loop, reporter_idle, rp->r, DRAIN_NS);
        oasis_loop_set_stop_flag(n->loop, cli_stop_flag());
        oasis_reporter_get_stats(rp->r, &st);
        printf("oasis serve: metrics: %llu points sent in %llu batches, %llu dropped, %llu "
               "rejected, %llu left; %llu connect failures, %llu send failures, %llu HTTP errors\n",
               (unsigned long long)st.points_sent, (unsigned long long)st.batches_sent,
               (unsigned long long)st.points_dropped, (unsigned long long)st.points_rejected,
               (unsigned long long)(st.queue_points + st.inflight_points),
               (unsigned long long)st.connect_failures, (unsigned long long)st.send_failures,
               (unsigned long long)st.http_errors);
        fflush(stdout);
    }
    int rc = rp->o.dump ? write_dump(rp, &final, &st, ts) : EXIT_OK;
    report_free(rp);
    return rc;
}
