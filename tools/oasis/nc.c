/* `oasis nc`: a netcat on Oasis. Connects, copies stdin to the flow and the
 * flow to stdout. At the end of stdin it half-closes (FIN) and goes on
 * reading until the peer closes too. With --keepalive it reports a flow that
 * keepalive declared dead. */
#include "cli.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NC_CHUNK 65536

typedef struct ncat {
    net *n;
    oasis_ipaddr dst; /* either family */
    oasis_ipaddr src; /* --source; family 0: the stack's choice */
    uint16_t port;
    oasis_keepalive ka;
    int ka_given, no_stdin, verbose_info;
    uint64_t timeout_ns;

    oasis_flow *flow; /* once connected */
    cli_soft_report soft; /* soft errors told as they come */
    int done, exit_code;
    int writing, closing, eof_seen;
    uint64_t bytes_in, bytes_out;
    uint8_t buf[NC_CHUNK];
} ncat;

static void end(ncat *c, int code)
{
    if (!c->done) {
        c->done = 1;
        c->exit_code = code;
    }
}

static void on_closed(oasis_flow *flow, int err, void *ud)
{
    ncat *c = ud;
    c->flow = NULL;
    oasis_tcp_info ti;
    if (c->verbose_info && oasis_tcp_get_info(flow, &ti) == 0)
        fprintf(stderr, "oasis nc: path_mtu %u retransmits %llu\n", ti.path_mtu,
                (unsigned long long)ti.retransmits);
    if (err && err != OASIS_ECANCELED) /* the flow's own words: what ended it */
        fprintf(stderr, "oasis nc: close: %s (%s)\n",
                err == oasis_tcp_flow_error(flow) ? oasis_tcp_flow_strerror(flow)
                                                  : oasis_strerror(err),
                oasis_err_name(err));
    oasis_tcp_release(flow);
    end(c, err ? EXIT_FAIL : EXIT_OK);
}

static void half_close(ncat *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    oasis_loop_watch(c->n->loop, 0, 0, NULL, NULL);
    if (oasis_tcp_close(c->flow, on_closed, c) != 0) {
        oasis_tcp_release(c->flow);
        c->flow = NULL;
        end(c, EXIT_FAIL);
    }
}

/* The flow ended by reset or death: say why, release the handle. */
static void flow_died(ncat *c, int ferr)
{
    fprintf(stderr, "oasis nc: flow died: %s (%s); read reported OASIS_EOF\n",
            oasis_tcp_flow_strerror(c->flow), oasis_err_name(ferr));
    oasis_loop_watch(c->n->loop, 0, 0, NULL, NULL);
    if (!c->closing) {
        c->closing = 1;
        oasis_tcp_release(c->flow);
        c->flow = NULL;
    }
    end(c, cli_exit_code(ferr));
}

static void on_stdin(oasis_loop *l, int fd, short revents, void *ud);

static void on_written(oasis_flow *flow, int err, void *ud)
{
    ncat *c = ud;
    (void)flow;
    c->writing = 0;
    if (c->done || c->closing)
        return;
    if (err) {
        fprintf(stderr, "oasis nc: write: %s (%s)\n", oasis_strerror(err), oasis_err_name(err));
        return; /* the read side reports how the flow ended */
    }
    oasis_loop_watch(c->n->loop, 0, POLLIN, on_stdin, c);
}

static void on_stdin(oasis_loop *l, int fd, short revents, void *ud)
{
    ncat *c = ud;
    (void)revents;
    ssize_t n = read(fd, c->buf, sizeof c->buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) { /* end of input (or an error): no more data from us */
        half_close(c);
        return;
    }
    /* One write at a time: stdin waits while the flow is flow-controlled. */
    oasis_loop_watch(l, 0, 0, NULL, NULL);
    c->writing = 1;
    c->bytes_out += (uint64_t)n;
    if (oasis_tcp_write(c->flow, c->buf, (size_t)n, on_written, c) != 0) {
        c->writing = 0;
        fprintf(stderr, "oasis nc: write refused\n");
    }
}

static void read_more(ncat *c);

static void on_read(oasis_flow *flow, int err, const uint8_t *data, size_t len, void *ud)
{
    ncat *c = ud;
    if (c->done || err == OASIS_ECANCELED || err == OASIS_EINVAL)
        return;
    if (err) {
        int ferr = oasis_tcp_flow_error(flow);
        c->eof_seen = 1;
        if (ferr)
            flow_died(c, ferr);
        else if (c->no_stdin)
            half_close(c); /* nothing to send: answer the peer's FIN with ours */
        return;
    }
    c->bytes_in += len;
    if (fwrite(data, 1, len, stdout) != len) {
        fprintf(stderr, "oasis nc: cannot write to stdout\n");
        oasis_tcp_release(flow);
        c->flow = NULL;
        c->closing = 1;
        end(c, EXIT_FAIL);
        return;
    }
    fflush(stdout);
    read_more(c);
}

static void read_more(ncat *c)
{
    if (oasis_tcp_read(c->flow, on_read, c) != 0)
        half_close(c);
}

static void print_info(const ncat *c)
{
    oasis_tcp_info ti;
    if (oasis_tcp_get_info(c->flow, &ti) != 0)
        return;
    fprintf(stderr,
            "oasis nc: connected: mss_send %u mss_recv %u snd_wscale %u rcv_wscale %u "
            "timestamps %d sack %d ecn %d\n",
            ti.mss_send, ti.mss_recv, ti.snd_wscale, ti.rcv_wscale, ti.timestamps, ti.sack,
            ti.ecn);
}

static void on_connect(oasis_stack *s, oasis_flow *flow, int err, void *ud)
{
    ncat *c = ud;
    (void)s;
    if (err == OASIS_ECANCELED && c->done)
        return; /* the stack went down with the attempt (--timeout, a signal) */
    if (err) {
        fprintf(stderr, "oasis nc: connect failed: %s (%s)\n", oasis_strerror(err), oasis_err_name(err));
        if (err != OASIS_ECANCELED) /* canceled: the stack is going away with it */
            oasis_tcp_release(flow);
        end(c, cli_exit_code(err));
        return;
    }
    c->flow = flow;
    if (c->verbose_info)
        print_info(c);
    fprintf(stderr, "oasis nc: connected\n");
    read_more(c);
    if (!c->no_stdin)
        oasis_loop_watch(c->n->loop, 0, POLLIN, on_stdin, c);
}

static int nc_done(void *ud) { return ((ncat *)ud)->done; }

static const char nc_usage[] =
    "Usage: oasis nc [options] A.B.C.D PORT\n"
    "Connects over Oasis on a TAP device; copies stdin to the connection and the\n"
    "connection to stdout. At the end of stdin it sends FIN and keeps reading\n"
    "until the peer closes.\n\n"
    "  -d, --no-stdin     send nothing; stay connected until the peer closes\n"
    "  --keepalive A,I,P  probe the idle flow after A s, every I s, P probes\n"
    "  --source ADDR      connect from this address of ours (an IPv6 one past DAD)\n"
    "  --timeout S        give up after S seconds (default: never)\n"
    "  --info             print the negotiated options once connected, the path MTU at the end\n"
    "  -h, --help         this text\n\n"
    "Exit status: 0 orderly close, 1 failed, 2 usage, 3 setup, 4 refused,\n"
    "5 timed out (connect, or keepalive declared the flow dead).\n\n";

enum { N_KA = 1, N_TIMEOUT, N_INFO, N_SOURCE };

static const struct option nc_own[] = {
    {"no-stdin", no_argument, NULL, 'd'}, {"keepalive", required_argument, NULL, N_KA},
    {"timeout", required_argument, NULL, N_TIMEOUT}, {"info", no_argument, NULL, N_INFO},
    {"source", required_argument, NULL, N_SOURCE},
    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
};

static int nc_option(void *ctx, int code, const char *arg)
{
    ncat *c = ctx;
    switch (code) {
    case 'd': c->no_stdin = 1; return 0;
    case N_INFO: c->verbose_info = 1; return 0;
    case N_KA:
        if (parse_keepalive(arg, &c->ka) == 0) {
            c->ka_given = 1;
            return 0;
        }
        fprintf(stderr, "oasis nc: invalid --keepalive '%s' (want AFTER,INTERVAL,PROBES)\n", arg);
        return -1;
    case N_SOURCE:
        if (oasis_ipaddr_parse(arg, &c->src) == 0)
            return 0;
        fprintf(stderr, "oasis nc: invalid --source '%s'\n", arg);
        return -1;
    case N_TIMEOUT:
        if (parse_seconds(arg, &c->timeout_ns) == 0 && c->timeout_ns > 0)
            return 0;
        fprintf(stderr, "oasis nc: invalid --timeout '%s'\n", arg);
        return -1;
    default: return -1;
    }
}

static int parse_args(int argc, char **argv, ncat *c, net_opts *no)
{
    uint64_t port;
    int z;
    int rc = net_getopt(argc, argv, "hd", nc_own, nc_usage, NULL, no, nc_option, c);
    if (rc == 0 && optind + 2 != argc) {
        fprintf(stderr, "oasis nc: want an address and a port\n");
        rc = -1;
    } else if (rc == 0 && oasis_ipaddr_parse_host(argv[optind], &c->dst) != 0 &&
               (z = cli_parse_addr_zone(argv[optind], no->tap, &c->dst)) != 0) {
        if (z == -2)
            fprintf(stderr, "oasis nc: '%s': the zone must name this stack's link (%s)\n",
                    argv[optind], no->tap ? no->tap : "none");
        else
            fprintf(stderr, "oasis nc: invalid address '%s'\n", argv[optind]);
        rc = -1;
    } else if (rc == 0 && (parse_u64(argv[optind + 1], 65535, &port) != 0 || port == 0)) {
        fprintf(stderr, "oasis nc: invalid port '%s'\n", argv[optind + 1]);
        rc = -1;
    } else if (rc == 0) {
        c->port = (uint16_t)port;
    }
    if (rc < 0)
        fprintf(stderr, "Try 'oasis nc --help'.\n");
    return rc;
}

int cmd_nc(int argc, char **argv)
{
    ncat *c = calloc(1, sizeof *c);
    net n;
    net_opts no;

    if (!c)
        return EXIT_SETUP;
    c->soft.tool = "oasis nc";
    net_opts_init(&no);
    int rc = parse_args(argc, argv, c, &no);
    if (rc) {
        free(c);
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    cli_install_signals();
    if ((rc = net_up(&n, &no)) != 0) {
        free(c);
        return rc;
    }
    c->n = &n;
    /* IPv6: the source address exists once DAD has passed. */
    if (oasis_ipaddr_is_v6(&c->src)) {
        if (net_wait_addr6(&n, &c->src, 5 * OASIS_NS_PER_SEC) != 0)
            fprintf(stderr, "oasis nc: the --source address is not ready (not ours, or DAD)\n");
    } else if (oasis_ipaddr_is_v6(&c->dst) &&
               net_wait_ipv6(&n, &c->dst, 5 * OASIS_NS_PER_SEC) != 0) {
        fprintf(stderr, "oasis nc: no IPv6 address or route ready to reach the destination\n");
    }
    oasis_flow *attempt; /* the same handle on_connect gets */
    oasis_connect_opts co = {.keepalive = c->ka_given ? &c->ka : NULL, .local = c->src};
    rc = oasis_tcp_connect_opts(n.stack, &c->dst, c->port, &co, on_connect, c, &attempt);
    if (rc == 0)
        rc = oasis_tcp_set_event_cb(attempt, cli_soft_report_cb, &c->soft);
    if (rc == 0)
        rc = oasis_loop_run(n.loop, nc_done, c, c->timeout_ns ? c->timeout_ns : UINT64_MAX);
    if (c->done)
        rc = c->exit_code;
    else if (rc == OASIS_ETIMEDOUT)
        rc = (fprintf(stderr, "oasis nc: --timeout reached\n"), EXIT_TIMEDOUT);
    else
        rc = (fprintf(stderr, "oasis nc: %s\n", rc ? oasis_strerror(rc) : "interrupted"), EXIT_FAIL);
    c->done = 1; /* the stack goes down next: an attempt still going ends unsaid */
    fprintf(stderr, "oasis nc: %llu bytes sent, %llu received\n", (unsigned long long)c->bytes_out,
            (unsigned long long)c->bytes_in);
    net_down(&n);
    free(c);
    return rc;
}
