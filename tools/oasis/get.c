/* `oasis get`: an HTTP/1.1 client on Oasis that downloads one URL to a file
 * (or nowhere) and prints the body's SHA-256. */
#include "cli.h"
#include "http.h"

#include "core/sha256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct getter {
    net *n;
    const char *url, *out_path;
    uint32_t addr;
    oasis_ipaddr addr6; /* http://[v6]:port/: an IPv6 literal (v6 set) */
    int v6;
    uint16_t port;
    const char *path;
    char host[256]; /* the URL's host name ("" for a dotted quad): resolved, and sent in Host */
    oasis_keepalive ka;
    int ka_given, quiet, progress;
    cli_soft_report soft; /* soft errors told while connecting */
    int quitting;         /* the loop has ended: the stack goes down next */
    uint64_t timeout_ns;
    unsigned max_redirs, redirs;
    char url_buf[2100];
    char redirect[2100]; /* set when the answer was a redirect to follow */

    oasis_flow *flow;
    int done, closed, exit_code;
    uint64_t done_at;
    char req[2600];

    char head[HTTP_MAX_HEAD];
    size_t head_len;
    int have_head;
    unsigned interim;   /* 1xx responses skipped before the final one */
    http_response resp;
    http_chunked ch;
    uint64_t body;
    FILE *out;
    oasis_sha256 sha;
    uint64_t t_start, t_last;
    uint32_t path_mtu;   /* what path MTU discovery left the flow at (summary) */
} getter;

static void note_path_mtu(getter *g, const oasis_flow *flow)
{
    oasis_tcp_info ti;
    if (flow && oasis_tcp_get_info(flow, &ti) == 0)
        g->path_mtu = ti.path_mtu;
}

static void on_closed(oasis_flow *flow, int err, void *ud)
{
    getter *g = ud;
    (void)err;
    if (flow == g->flow) { /* else: the flow of a redirect we already left */
        note_path_mtu(g, flow);
        g->closed = 1;
        g->flow = NULL;
    }
    oasis_tcp_release(flow);
}

static void finish(getter *g, int code)
{
    note_path_mtu(g, g->flow);
    if (g->done)
        return;
    g->done = 1;
    g->exit_code = code;
    g->done_at = oasis_stack_now(g->n->stack);
    if (oasis_tcp_close(g->flow, on_closed, g) != 0) {
        oasis_tcp_release(g->flow);
        g->flow = NULL;
        g->closed = 1;
    }
}

static void fail(getter *g, int code, const char *msg)
{
    fprintf(stderr, "%soasis get: %s\n", g->progress ? "\n" : "", msg);
    finish(g, code);
}

static void progress(getter *g, int final)
{
    uint64_t now = oasis_stack_now(g->n->stack);
    if (!g->progress || (!final && now - g->t_last < 500 * OASIS_NS_PER_MS))
        return;
    g->t_last = now;
    double s = (double)(now - g->t_start) / 1e9;
    double mb = (double)g->body / 1e6;
    if (g->resp.content_length >= 0)
        fprintf(stderr, "\r%12llu / %llu bytes (%3.0f%%)  %8.1f MB/s",
                (unsigned long long)g->body, (unsigned long long)g->resp.content_length,
                g->resp.content_length ? 100.0 * (double)g->body / (double)g->resp.content_length : 100.0,
                s > 0 ? mb / s : 0.0);
    else
        fprintf(stderr, "\r%12llu bytes  %8.1f MB/s", (unsigned long long)g->body, s > 0 ? mb / s : 0.0);
    if (final)
        fputc('\n', stderr);
}

static void emit(void *ud, const uint8_t *data, size_t len)
{
    getter *g = ud;
    oasis_sha256_update(&g->sha, data, len);
    g->body += len;
    if (g->out && fwrite(data, 1, len, g->out) != len && !g->done)
        fail(g, EXIT_FAIL, "cannot write the output file");
}

static int body_complete(const getter *g)
{
    if (g->resp.chunked)
        return http_chunked_done(&g->ch);
    return g->resp.content_length >= 0 && g->body >= (uint64_t)g->resp.content_length;
}

static void take_body(getter *g, const uint8_t *data, size_t len)
{
    if (g->resp.chunked) {
        if (http_chunked_feed(&g->ch, data, len, emit, g) < 0)
            fail(g, EXIT_FAIL, "malformed chunked body");
        return;
    }
    if (g->resp.content_length >= 0) {
        uint64_t want = (uint64_t)g->resp.content_length - g->body;
        if (len > want)
            len = (size_t)want; /* extra bytes after the body: ignored */
    }
    emit(g, data, len);
}

/* Collects the head; the bytes after it start the body. */
static void take_head(getter *g, const uint8_t *data, size_t len)
{
    size_t room = sizeof g->head - g->head_len;
    size_t n = len < room ? len : room;
    memcpy(g->head + g->head_len, data, n);
    long end = http_head_end(g->head, g->head_len + n);
    if (end < 0) {
        fail(g, EXIT_FAIL, "response head too large");
        return;
    }
    if (end == 0) {
        g->head_len += n;
        return;
    }
    if (http_parse_response(g->head, (size_t)end, &g->resp) != 0) {
        fail(g, EXIT_FAIL, "malformed response head");
        return;
    }
    int st = g->resp.status;
    if (st < 200) {
        /* RFC 9110 15.2: a client MUST parse 1xx responses before the
         * final one (100 Continue, 103 Early Hints); they are skipped.
         * 101 switches protocols only when asked to (15.2.2): we never
         * ask. A bound keeps an endless run of them out. */
        if (st == 101 || ++g->interim > 64) {
            fail(g, EXIT_FAIL, st == 101 ? "server switched protocols (101) unasked"
                                         : "more than 64 interim (1xx) responses");
            return;
        }
        size_t used = (size_t)end - g->head_len;
        g->head_len = 0;
        if (len > used)
            take_head(g, data + used, len - used);
        return;
    }
    g->have_head = 1;
    if ((st == 301 || st == 302 || st == 303 || st == 307 || st == 308) && g->resp.location[0]) {
        /* Follow (RFC 9110 15.4): a new GET to the Location, resolved
         * against the URL that answered; bounded against loops. */
        char msg[2200];
        if (g->redirs >= g->max_redirs) {
            snprintf(msg, sizeof msg, "status %d to %s: %s", st, g->resp.location,
                     g->max_redirs ? "too many redirects" : "not following (--max-redirs 0)");
            fail(g, EXIT_FAIL, msg);
            return;
        }
        if (http_resolve_location(g->url, g->resp.location, g->redirect, sizeof g->redirect) != 0) {
            snprintf(msg, sizeof msg, "cannot follow the redirect to '%s'", g->resp.location);
            fail(g, EXIT_FAIL, msg);
            return;
        }
        if (!g->quiet)
            fprintf(stderr, "oasis get: %d, following %s\n", st, g->redirect);
        finish(g, EXIT_OK);
        return;
    }
    if (g->resp.status < 200 || g->resp.status > 299) {
        char msg[64];
        snprintf(msg, sizeof msg, "server answered with status %d", g->resp.status);
        fail(g, EXIT_FAIL, msg);
        return;
    }
    size_t used = (size_t)end - g->head_len;
    take_body(g, data + used, len - used);
}

static void read_more(getter *g);

static void on_eof(getter *g)
{
    int ferr = oasis_tcp_flow_error(g->flow);
    char msg[160];
    if (ferr) {
        snprintf(msg, sizeof msg, "the connection died: %s (%s)",
                 oasis_tcp_flow_strerror(g->flow), oasis_err_name(ferr));
        fail(g, cli_exit_code(ferr), msg);
    } else if (!g->have_head) {
        fail(g, EXIT_FAIL, "the server closed the connection before answering");
    } else if (g->resp.chunked || g->resp.content_length >= 0) {
        snprintf(msg, sizeof msg, "the server closed the connection after %llu body bytes",
                 (unsigned long long)g->body);
        fail(g, EXIT_FAIL, msg);
    } else {
        finish(g, EXIT_OK); /* no length given: the body ends with the stream */
    }
}

static void on_read(oasis_flow *flow, int err, const uint8_t *data, size_t len, void *ud)
{
    getter *g = ud;
    (void)flow;
    if (g->done)
        return;
    if (err) {
        on_eof(g);
        return;
    }
    if (g->have_head)
        take_body(g, data, len);
    else
        take_head(g, data, len);
    if (g->done)
        return;
    progress(g, 0);
    if (g->have_head && body_complete(g))
        finish(g, EXIT_OK);
    else
        read_more(g);
}

static void read_more(getter *g)
{
    if (oasis_tcp_read(g->flow, on_read, g) != 0)
        fail(g, EXIT_FAIL, "cannot read from the flow");
}

static void on_req_written(oasis_flow *flow, int err, void *ud)
{
    getter *g = ud;
    (void)flow;
    if (err && !g->done)
        fail(g, EXIT_FAIL, "could not send the request");
}

static void on_connect(oasis_stack *s, oasis_flow *flow, int err, void *ud)
{
    getter *g = ud;
    (void)s;
    if (err) {
        if (err == OASIS_ECANCELED && g->quitting)
            return; /* the stack went down with the attempt (--timeout, a signal) */
        fprintf(stderr, "oasis get: cannot connect to %s: %s (%s)\n", g->url, oasis_strerror(err),
                oasis_err_name(err));
        if (err != OASIS_ECANCELED) /* canceled: the stack is going away with it */
            oasis_tcp_release(flow);
        g->done = g->closed = 1;
        g->exit_code = cli_exit_code(err);
        return;
    }
    g->flow = flow;
    g->t_start = g->t_last = oasis_stack_now(s);
    if (oasis_tcp_write(flow, g->req, strlen(g->req), on_req_written, g) != 0) {
        fail(g, EXIT_FAIL, "could not send the request");
        return;
    }
    read_more(g);
}

static int get_done(void *ud)
{
    const getter *g = ud;
    /* The server should close too (we asked for it); do not wait forever. */
    return g->done && (g->closed || oasis_stack_now(g->n->stack) - g->done_at > 2 * OASIS_NS_PER_SEC);
}

/* ---- command line ------------------------------------------------------- */

static const char get_usage[] =
    "Usage: oasis get [options] URL\n"
    "Downloads URL (http://HOST[:PORT]/PATH; HOST a dotted quad or a name looked\n"
    "up with --dns) over Oasis on a TAP device and\n"
    "prints \"sha256 HEX bytes N seconds S\" for the body on stdout.\n\n"
    "  -o, --output FILE  write the body to FILE ('-': stdout); default: discard\n"
    "  --keepalive A,I,P  probe the idle flow after A s, every I s, P probes\n"
    "  --timeout S        give up after S seconds (default: never)\n"
    "  --max-redirs N     follow at most N redirects (10; 0: none)\n"
    "  --progress         progress line on stderr even when it is not a terminal\n"
    "  -q, --quiet        no progress line\n"
    "  -h, --help         this text\n\n"
    "Exit status: 0 done, 1 failed (HTTP error, short body), 2 usage, 3 setup,\n"
    "4 connection refused, 5 timed out.\n\n";

enum { G_KA = 1, G_TIMEOUT, G_PROGRESS, G_REDIRS };

static const struct option get_own[] = {
    {"output", required_argument, NULL, 'o'},
    {"keepalive", required_argument, NULL, G_KA},
    {"timeout", required_argument, NULL, G_TIMEOUT},
    {"progress", no_argument, NULL, G_PROGRESS},
    {"max-redirs", required_argument, NULL, G_REDIRS},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int get_option(void *ctx, int c, const char *arg)
{
    getter *g = ctx;
    switch (c) {
    case 'o': g->out_path = arg; return 0;
    case 'q': g->quiet = 1; return 0;
    case G_PROGRESS: g->progress = 1; return 0;
    case G_REDIRS: {
        uint64_t v;
        if (parse_u64(arg, 1000, &v) == 0) {
            g->max_redirs = (unsigned)v;
            return 0;
        }
        fprintf(stderr, "oasis get: invalid --max-redirs '%s'\n", arg);
        return -1;
    }
    case G_KA:
        if (parse_keepalive(arg, &g->ka) == 0) {
            g->ka_given = 1;
            return 0;
        }
        fprintf(stderr, "oasis get: invalid --keepalive '%s' (want AFTER,INTERVAL,PROBES)\n", arg);
        return -1;
    case G_TIMEOUT:
        if (parse_seconds(arg, &g->timeout_ns) == 0 && g->timeout_ns > 0)
            return 0;
        fprintf(stderr, "oasis get: invalid --timeout '%s'\n", arg);
        return -1;
    default: return -1;
    }
}

/* http://[2001:db8::2]:8080/path: an IPv6 literal in brackets (RFC 3986
 * 3.2.2), with a zone for the stack's link written "%25tap0" (RFC 6874 2;
 * a bare "%" is taken too, as curl does); else the IPv4/name forms
 * cli_parse_http_url knows. */
static int parse_url(getter *g, const char *link)
{
    const char *u = g->url;
    g->v6 = 0;
    if (strncmp(u, "http://[", 8) != 0)
        return cli_parse_http_url(u, &g->addr, &g->port, &g->path, g->host, sizeof g->host);
    const char *close = strchr(u + 8, ']');
    char lit[OASIS_IPADDR_STRLEN + 64];
    size_t n = close ? (size_t)(close - (u + 8)) : 0;
    if (!close || n >= sizeof lit)
        return -1;
    memcpy(lit, u + 8, n);
    lit[n] = '\0';
    char *pct = strchr(lit, '%');
    if (pct && strncmp(pct, "%25", 3) == 0 && pct[3])
        memmove(pct + 1, pct + 3, strlen(pct + 3) + 1);
    if (cli_parse_addr_zone(lit, link, &g->addr6) != 0 || !oasis_ipaddr_is_v6(&g->addr6))
        return -1;
    const char *p = close + 1;
    unsigned long port = 80;
    if (*p == ':') {
        char *end;
        if (p[1] < '0' || p[1] > '9')
            return -1;
        port = strtoul(p + 1, &end, 10);
        if (port == 0 || port > 65535)
            return -1;
        p = end;
    }
    if (*p != '/' && *p != '\0')
        return -1;
    g->port = (uint16_t)port;
    g->path = *p ? p : "/";
    g->host[0] = '\0';
    g->v6 = 1;
    return 0;
}

static int parse_args(int argc, char **argv, getter *g, net_opts *no)
{
    int rc = net_getopt(argc, argv, "ho:q", get_own, get_usage, NULL, no, get_option, g);
    if (rc == 0 && optind + 1 != argc) {
        fprintf(stderr, "oasis get: %s\n", optind < argc ? "one URL only" : "a URL is needed");
        rc = -1;
    } else if (rc == 0 && (g->url = argv[optind], parse_url(g, no->tap) != 0)) {
        fprintf(stderr, "oasis get: invalid URL '%s' (want http://HOST[:PORT]/PATH; a zone, "
                        "[fe80::1%%25%s], must name this stack's link)\n",
                g->url, no->tap ? no->tap : "tap0");
        rc = -1;
    } else if (rc == 0 && strlen(g->path) > 2048) {
        fprintf(stderr, "oasis get: the path is too long\n");
        rc = -1;
    }
    if (rc < 0)
        fprintf(stderr, "Try 'oasis get --help'.\n");
    return rc;
}

static int open_output(getter *g)
{
    if (!g->out_path)
        return 0;
    g->out = strcmp(g->out_path, "-") == 0 ? stdout : fopen(g->out_path, "wb");
    if (!g->out) {
        perror(g->out_path);
        return -1;
    }
    setvbuf(g->out, NULL, _IOFBF, 1 << 20);
    return 0;
}

/* Forgets the last exchange before following a redirect. */
static int next_hop(getter *g)
{
    g->redirs++;
    snprintf(g->url_buf, sizeof g->url_buf, "%s", g->redirect);
    g->url = g->url_buf;
    g->redirect[0] = '\0';
    if (parse_url(g, g->n->opt.tap) != 0 || strlen(g->path) > 2048) {
        fprintf(stderr, "oasis get: cannot follow the redirect to %s (want http://HOST[:PORT]/PATH)\n",
                g->url);
        return -1;
    }
    g->flow = NULL; /* still closing if the server was slow: on_closed releases it */
    g->done = g->closed = g->exit_code = 0;
    g->head_len = 0;
    g->have_head = 0;
    g->interim = 0;
    memset(&g->resp, 0, sizeof g->resp);
    http_chunked_init(&g->ch);
    return 0;
}

static int run_one(getter *g);

static int run(getter *g)
{
    for (;;) {
        int rc = run_one(g);
        if (rc != EXIT_OK || !g->redirect[0])
            return rc;
        if (next_hop(g) != 0)
            return EXIT_FAIL;
    }
}

static int run_one(getter *g)
{
    char ip[OASIS_IPADDR_STRLEN + 2];
    if (g->host[0]) {
        oasis_ipaddr a;
        if (cli_resolve_addr(g->n, g->host, 0, &a) != 0)
            return EXIT_FAIL;
        g->v6 = oasis_ipaddr_is_v6(&a);
        if (g->v6)
            g->addr6 = a;
        else
            g->addr = oasis_ipaddr_to_v4(&a);
    }
    oasis_ipaddr dst = g->v6 ? g->addr6 : oasis_ipaddr_v4(g->addr);
    if (g->v6) {
        char a[OASIS_IPADDR_STRLEN];
        snprintf(ip, sizeof ip, "[%s]", oasis_ipaddr_format(&g->addr6, a)); /* RFC 7230 5.4 */
        /* The source address exists once DAD has passed. */
        if (net_wait_ipv6(g->n, &dst, 5 * OASIS_NS_PER_SEC) != 0)
            fprintf(stderr, "oasis get: no IPv6 address or route ready to reach the server\n");
    } else {
        oasis_addr_format(g->addr, ip);
    }
    snprintf(g->req, sizeof g->req,
             "GET %s HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: oasis/0.1\r\nAccept: */*\r\n"
             "Connection: close\r\n\r\n",
             g->path, g->host[0] ? g->host : ip, g->port);
    oasis_flow *attempt; /* the handle on_connect gets: soft errors are told meanwhile */
    int err = oasis_tcp_connect_flow(g->n->stack, &dst, g->port, g->ka_given ? &g->ka : NULL,
                                     on_connect, g, &attempt);
    if (err == 0)
        err = oasis_tcp_set_event_cb(attempt, cli_soft_report_cb, &g->soft);
    if (err) {
        fprintf(stderr, "oasis get: cannot connect: %s\n", oasis_strerror(err));
        return EXIT_FAIL;
    }
    err = oasis_loop_run(g->n->loop, get_done, g, g->timeout_ns ? g->timeout_ns : UINT64_MAX);
    g->quitting = 1; /* an attempt still going is canceled with the stack: said below */
    if (err == OASIS_ETIMEDOUT && !g->done) {
        fprintf(stderr, "\noasis get: timed out after %llu bytes\n", (unsigned long long)g->body);
        return EXIT_TIMEDOUT;
    }
    if (err && err != OASIS_ETIMEDOUT) {
        fprintf(stderr, "oasis get: %s\n", oasis_strerror(err));
        return EXIT_FAIL;
    }
    if (!g->done) {
        fprintf(stderr, "\noasis get: interrupted\n");
        return EXIT_FAIL;
    }
    return g->exit_code;
}

int cmd_get(int argc, char **argv)
{
    getter *g = calloc(1, sizeof *g);
    net n;
    net_opts no;

    if (!g)
        return EXIT_SETUP;
    g->soft.tool = "oasis get";
    net_opts_init(&no);
    g->max_redirs = 10;
    int rc = parse_args(argc, argv, g, &no);
    if (rc) {
        free(g);
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (!g->quiet && !g->progress)
        g->progress = isatty(2);
    if (g->quiet)
        g->progress = 0;
    http_chunked_init(&g->ch);
    oasis_sha256_init(&g->sha);
    cli_install_signals();
    if (open_output(g) != 0) {
        free(g);
        return EXIT_SETUP;
    }
    if ((rc = net_up(&n, &no)) == 0) {
        g->n = &n;
        rc = run(g);
        uint64_t dt = g->t_start ? oasis_stack_now(n.stack) - g->t_start : 0;
        if (rc == EXIT_OK) {
            uint8_t d[32];
            char hex[65];
            progress(g, 1);
            oasis_sha256_final(&g->sha, d);
            oasis_sha256_hex(d, hex);
            fprintf(g->out == stdout ? stderr : stdout, "sha256 %s bytes %llu seconds %.3f\n", hex,
                    (unsigned long long)g->body, (double)dt / 1e9);
            if (g->path_mtu)
                fprintf(g->out == stdout ? stderr : stdout, "path_mtu %u\n", g->path_mtu);
        }
        net_down(&n);
    }
    if (g->out && g->out != stdout && fclose(g->out) != 0 && rc == EXIT_OK) {
        perror(g->out_path);
        rc = EXIT_FAIL;
    }
    if (g->out == stdout)
        fflush(stdout);
    free(g);
    return rc;
}
