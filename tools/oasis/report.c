/* The serve command's metrics reporting: --influx URL and friends.
 *
 * The dump (--metrics-dump FILE) exists so that a test can compare exactly
 * what reached the database with the stack's own counters: at exit the
 * counters are copied, and at once (no stack event in between) the reporter
 * takes its last snapshot, so both hold the same values with the same
 * timestamp. The dump is encoded from the copy through a separate registry,
 * not from the reporter's queue. */
#include "report.h"

#include "oasis/metrics_reporter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DRAIN_NS (3 * OASIS_NS_PER_SEC)

struct report {
    report_opts o;
    oasis_metrics *m;
    oasis_reporter *r;
    char host[256];
    oasis_reporter_config cfg;
};

const char report_options_help[] =
    "Metrics options (serve):\n"
    "  --influx URL      stream the stack's metrics while serving, to InfluxDB 1.x\n"
    "                    (http://A.B.C.D[:PORT]/DB, port 8086) or to a line-protocol\n"
    "                    TCP listener such as Telegraf's (tcp://A.B.C.D[:PORT], 8094)\n"
    "  --influx-interval MS  report every MS milliseconds (10000)\n"
    "  --host-tag NAME   tag host=NAME on every point (the system's host name)\n"
    "  --influx-queue N  points kept while the sink is away; the oldest go first (10000)\n"
    "  --influx-backoff-max MS  longest wait between reconnects (30000)\n"
    "  --influx-flows    also report one point per TCP flow (measurement tcp_flow)\n"
    "  --metrics-dump FILE  at exit, write the final counters (the same snapshot as\n"
    "                    the last report) and the reporter's totals in line protocol\n";

static int bad(const char *what, const char *arg)
{
    fprintf(stderr, "oasis serve: invalid %s '%s'\n", what, arg);
    return -1;
}

int report_option(report_opts *o, int code, const char *arg)
{
    oasis_reporter_config c;
    char err[256];
    switch (code) {
    case REPORT_OPT_URL:
        oasis_reporter_config_init(&c);
        if (oasis_reporter_parse_url(arg, &c, err, sizeof err) != 0) {
            fprintf(stderr, "oasis serve: --influx: %s\n", err);
            return -1;
        }
        o->url = arg;
        return 1;
    case REPORT_OPT_INTERVAL:
        if (parse_u64(arg, 86400000, &o->interval_ms) != 0 || o->interval_ms < 10)
            return bad("--influx-interval (milliseconds, 10..86400000)", arg);
        return 1;
    case REPORT_OPT_HOST:
        if (!arg[0] || strlen(arg) > 255 || strpbrk(arg, "\r\n"))
            return bad("--host-tag (1..255 characters, one line)", arg);
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
    case REPORT_OPT_FLOWS: o->flows = 1; return 1;
    case REPORT_OPT_DUMP: o->dump = arg; return 1;
    default: return 0;
    }
}

static void report_free(report *rp)
{
    oasis_reporter_destroy(rp->r);
    oasis_metrics_destroy(rp->m);
    free(rp);
}

static int setup_reporter(report *rp, net *n)
{
    oasis_reporter_config *c = &rp->cfg;
    oasis_reporter_config_init(c);
    oasis_reporter_parse_url(rp->o.url, c, NULL, 0); /* checked when parsing options */
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
    c->seed = n->opt.seed ^ 0x5245504f52544552ull; /* its own stream, from --seed */
    int err = oasis_metrics_add_stack(rp->m, n->stack, NULL, 0);
    if (!err && rp->o.flows)
        err = oasis_metrics_add_tcp_flows(rp->m, n->stack, NULL, 0, 256);
    if (!err)
        err = oasis_reporter_create(n->stack, rp->m, c, &rp->r);
    if (err) {
        fprintf(stderr, "oasis serve: cannot start the metrics reporter: %s\n", oasis_strerror(err));
        return -1;
    }
    return 0;
}

int report_start(report **out, const report_opts *o, net *n)
{
    *out = NULL;
    if (!o->url && !o->dump)
        return EXIT_OK;
    report *rp = calloc(1, sizeof *rp);
    if (!rp || oasis_metrics_create(NULL, &rp->m) != 0) {
        fprintf(stderr, "oasis serve: out of memory\n");
        free(rp);
        return EXIT_SETUP;
    }
    rp->o = *o;
    if (o->host_tag)
        snprintf(rp->host, sizeof rp->host, "%s", o->host_tag);
    else if (gethostname(rp->host, sizeof rp->host - 1) != 0 || !rp->host[0])
        snprintf(rp->host, sizeof rp->host, "oasis");
    if (o->url && setup_reporter(rp, n) != 0) {
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

/* Appends the reporter's totals as one line. */
static void dump_totals(FILE *f, const report *rp, const oasis_reporter_stats *st, uint64_t ts)
{
    fprintf(f,
            "oasis_reporter_final,host=%s points_collected=%llui,points_sent=%llui,"
            "points_dropped=%llui,points_rejected=%llui,encode_errors=%llui,batches_sent=%llui,"
            "connects=%llui,connect_failures=%llui,send_failures=%llui,http_errors=%llui,"
            "queue_points=%llui,inflight_points=%llui %llu\n",
            rp->host, (unsigned long long)st->points_collected,
            (unsigned long long)st->points_sent, (unsigned long long)st->points_dropped,
            (unsigned long long)st->points_rejected, (unsigned long long)st->encode_errors,
            (unsigned long long)st->batches_sent, (unsigned long long)st->connects,
            (unsigned long long)st->connect_failures, (unsigned long long)st->send_failures,
            (unsigned long long)st->http_errors, (unsigned long long)st->queue_points,
            (unsigned long long)st->inflight_points, (unsigned long long)ts);
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
