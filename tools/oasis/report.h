/* The serve command's metrics: `--influx URL` (the reporter of
 * oasis/metrics_reporter.h), `--prometheus PORT` (oasis/metrics_prom.h),
 * `--control ADDR:PORT` (oasis/metrics_control.h), all on the serving stack,
 * and a dump of the final counters for checking. */
#ifndef OASIS_TOOL_REPORT_H
#define OASIS_TOOL_REPORT_H

#include "cli.h"

typedef struct report_opts {
    const char *url;
    char url_name[256];      /* the URL's host when it is a name, looked up at start */
    uint64_t interval_ms;    /* 0: 10000 */
    const char *host_tag;    /* NULL: the system's host name */
    uint64_t queue_points;   /* 0: the library default */
    uint64_t backoff_max_ms; /* 0: the library default */
    uint64_t timeout_ms;     /* 0: the library default */
    uint32_t flows;          /* 0, or at most this many per-flow points */
    const char *dump;        /* at exit: the final counters in line protocol */
    uint16_t prom_port;      /* 0: no Prometheus endpoint */
    uint32_t ctl_addr;       /* --control ADDR:PORT; port 0: off */
    uint16_t ctl_port;
    const char *token_file;  /* InfluxDB 2.x token */
    const char *user;        /* InfluxDB 1.x basic authentication */
    const char *password_file;
    int gzip;                /* compress request bodies */
} report_opts;

/* getopt_long codes of the reporter's options. */
enum {
    REPORT_OPT_URL = 2000,
    REPORT_OPT_INTERVAL,
    REPORT_OPT_HOST,
    REPORT_OPT_QUEUE,
    REPORT_OPT_BACKOFF,
    REPORT_OPT_TIMEOUT,
    REPORT_OPT_FLOWS,
    REPORT_OPT_DUMP,
    REPORT_OPT_PROM,
    REPORT_OPT_METRICS_FLOWS,
    REPORT_OPT_CONTROL,
    REPORT_OPT_TOKEN_FILE,
    REPORT_OPT_USER,
    REPORT_OPT_PASSWORD_FILE,
    REPORT_OPT_GZIP,
};

/* Entries for a subcommand's option table. */
#define REPORT_LONG_OPTIONS                                                   \
    {"influx", required_argument, NULL, REPORT_OPT_URL},                      \
    {"influx-interval", required_argument, NULL, REPORT_OPT_INTERVAL},        \
    {"host-tag", required_argument, NULL, REPORT_OPT_HOST},                   \
    {"influx-queue", required_argument, NULL, REPORT_OPT_QUEUE},              \
    {"influx-backoff-max", required_argument, NULL, REPORT_OPT_BACKOFF},      \
    {"influx-timeout", required_argument, NULL, REPORT_OPT_TIMEOUT},          \
    {"influx-flows", no_argument, NULL, REPORT_OPT_FLOWS},                    \
    {"metrics-dump", required_argument, NULL, REPORT_OPT_DUMP},               \
    {"prometheus", required_argument, NULL, REPORT_OPT_PROM},                 \
    {"metrics-flows", required_argument, NULL, REPORT_OPT_METRICS_FLOWS},     \
    {"control", required_argument, NULL, REPORT_OPT_CONTROL},                 \
    {"influx-token-file", required_argument, NULL, REPORT_OPT_TOKEN_FILE},    \
    {"influx-user", required_argument, NULL, REPORT_OPT_USER},                \
    {"influx-password-file", required_argument, NULL, REPORT_OPT_PASSWORD_FILE}, \
    {"influx-gzip", no_argument, NULL, REPORT_OPT_GZIP}

extern const char report_options_help[];

/* Handles a reporter option: 1 if it was one, 0 if not, -1 on a bad value
 * (message printed). */
int report_option(report_opts *o, int code, const char *arg);

typedef struct report report;

/* gzip (RFC 1952) of in into out, for the reporter (report_gzip.c, zlib);
 * 0 when zlib is not built in or the result does not fit. */
size_t report_gzip(void *ud, const void *in, size_t len, void *out, size_t cap);
/* 1 when report_gzip works (zlib was found at build time). */
int report_gzip_available(void);

/* Starts reporting, the Prometheus endpoint and the control port on n's
 * stack, as asked (*out is NULL when nothing was). Returns EXIT_OK or EXIT_SETUP (message printed). */
int report_start(report **out, const report_opts *o, net *n);

/* At exit: a last snapshot, up to 3 s to deliver what is queued, the
 * final counters to the dump file, a summary line; frees rp (NULL: no-op).
 * Call while the stack still runs. Returns EXIT_OK or EXIT_FAIL (dump not
 * written). */
int report_finish(report *rp, net *n);

#endif
