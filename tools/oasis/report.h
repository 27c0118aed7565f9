/* `oasis serve --influx URL`: the metrics reporter (oasis/metrics_reporter.h)
 * on the serving stack, and a dump of the final counters for checking. */
#ifndef OASIS_TOOL_REPORT_H
#define OASIS_TOOL_REPORT_H

#include "cli.h"

typedef struct report_opts {
    const char *url;
    uint64_t interval_ms;    /* 0: 10000 */
    const char *host_tag;    /* NULL: the system's host name */
    uint64_t queue_points;   /* 0: the library default */
    uint64_t backoff_max_ms; /* 0: the library default */
    int flows;               /* also report one point per TCP flow */
    const char *dump;        /* at exit: the final counters in line protocol */
} report_opts;

/* getopt_long codes of the reporter's options. */
enum {
    REPORT_OPT_URL = 2000,
    REPORT_OPT_INTERVAL,
    REPORT_OPT_HOST,
    REPORT_OPT_QUEUE,
    REPORT_OPT_BACKOFF,
    REPORT_OPT_FLOWS,
    REPORT_OPT_DUMP,
};

/* Entries for a subcommand's option table. */
#define REPORT_LONG_OPTIONS                                                   \
    {"influx", required_argument, NULL, REPORT_OPT_URL},                      \
    {"influx-interval", required_argument, NULL, REPORT_OPT_INTERVAL},        \
    {"host-tag", required_argument, NULL, REPORT_OPT_HOST},                   \
    {"influx-queue", required_argument, NULL, REPORT_OPT_QUEUE},              \
    {"influx-backoff-max", required_argument, NULL, REPORT_OPT_BACKOFF},      \
    {"influx-flows", no_argument, NULL, REPORT_OPT_FLOWS},                    \
    {"metrics-dump", required_argument, NULL, REPORT_OPT_DUMP}

extern const char report_options_help[];

/* Handles a reporter option: 1 if it was one, 0 if not, -1 on a bad value
 * (message printed). */
int report_option(report_opts *o, int code, const char *arg);

typedef struct report report;

/* Starts reporting on n's stack if a URL or a dump was asked for (*out is
 * NULL otherwise). Returns EXIT_OK or EXIT_SETUP (message printed). */
int report_start(report **out, const report_opts *o, net *n);

/* At exit: a last snapshot, up to 3 s to deliver what is queued, the
 * final counters to the dump file, a summary line; frees rp (NULL: no-op).
 * Call while the stack still runs. Returns EXIT_OK or EXIT_FAIL (dump not
 * written). */
int report_finish(report *rp, net *n);

#endif
