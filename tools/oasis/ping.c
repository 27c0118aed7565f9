/* `oasis ping`: ICMP echo from Oasis, with ping(8)'s output format. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct pinger {
    net *n;
    oasis_ipaddr dst;
    const char *name; /* a host name to resolve first (NULL: dst is set) */
    uint64_t count, size, interval_ns, timeout_ns;
    int quiet;
    uint64_t sent, received, pending;
    uint64_t rtt_min, rtt_max, rtt_sum;
    int last_err;
} pinger;

static void on_reply(oasis_stack *s, int err, uint16_t seq, uint64_t rtt_ns, void *ud)
{
    pinger *p = ud;
    char ip[OASIS_IPADDR_STRLEN];
    (void)s;
    p->pending--;
    if (err) {
        p->last_err = err;
        if (err != OASIS_ECANCELED && !p->quiet)
            printf("no reply from %s: icmp_seq=%u %s (%s)\n", oasis_ipaddr_format(&p->dst, ip), seq,
                   err == OASIS_ETIMEDOUT ? "timed out" : oasis_strerror(err), oasis_err_name(err));
        fflush(stdout);
        return;
    }
    p->received++;
    p->rtt_sum += rtt_ns;
    if (p->received == 1 || rtt_ns < p->rtt_min)
        p->rtt_min = rtt_ns;
    if (rtt_ns > p->rtt_max)
        p->rtt_max = rtt_ns;
    if (!p->quiet)
        printf("%llu bytes from %s: icmp_seq=%u time=%.3f ms\n", (unsigned long long)p->size + 8,
               oasis_ipaddr_format(&p->dst, ip), seq, (double)rtt_ns / 1e6);
    fflush(stdout);
}

static int none_pending(void *ud) { return ((pinger *)ud)->pending == 0; }
static int never(void *ud) { (void)ud; return 0; }

static int run(pinger *p)
{
    uint16_t id = (uint16_t)getpid();
    char ip[OASIS_IPADDR_STRLEN];

    printf("PING %s: %llu data bytes\n", oasis_ipaddr_format(&p->dst, ip), (unsigned long long)p->size);
    for (uint64_t i = 0; p->count == 0 || i < p->count; i++) {
        int err = oasis_ping_addr(p->n->stack, &p->dst, id, (uint16_t)(i + 1), (size_t)p->size,
                             p->timeout_ns, on_reply, p);
        if (err) {
            fprintf(stderr, "oasis ping: %s (%s)\n", oasis_strerror(err), oasis_err_name(err));
            return EXIT_FAIL;
        }
        p->sent++;
        p->pending++;
        int last = p->count && i + 1 == p->count;
        /* Between requests the loop keeps running: replies, ARP, timers. */
        err = oasis_loop_run(p->n->loop, last ? none_pending : never, p,
                             last ? p->timeout_ns + OASIS_NS_PER_SEC : p->interval_ns);
        if (err == OASIS_EIO)
            return EXIT_FAIL;
        if (*cli_stop_flag())
            break;
    }
    printf("--- %s ping statistics ---\n%llu packets transmitted, %llu received, %.0f%% packet loss\n",
           ip, (unsigned long long)p->sent, (unsigned long long)p->received,
           p->sent ? 100.0 * (double)(p->sent - p->received) / (double)p->sent : 0.0);
    if (p->received)
        printf("rtt min/avg/max = %.3f/%.3f/%.3f ms\n", (double)p->rtt_min / 1e6,
               (double)p->rtt_sum / (double)p->received / 1e6, (double)p->rtt_max / 1e6);
    return p->received ? EXIT_OK : EXIT_FAIL;
}

static const char ping_usage[] =
    "Usage: oasis ping [options] A.B.C.D|IPV6-ADDRESS[%ZONE]|NAME\n"
    "Sends ICMP echo requests from Oasis on a TAP device. A zone (fe80::1%tap0)\n"
    "must name the TAP (or give its index); to a group (ff02::1) the first\n"
    "member's reply counts, Oasis's own included.\n\n"
    "  -c, --count N      stop after N requests (4; 0: until interrupted)\n"
    "  -i, --interval S   seconds between requests (1)\n"
    "  -s, --size N       payload bytes (56; up to 65507)\n"
    "  -W, --timeout S    seconds to wait for each reply (2)\n"
    "  -q, --quiet        only the summary\n"
    "  -h, --help         this text\n\n"
    "Exit status: 0 when a reply came, 1 when none did, 2 usage, 3 setup.\n\n";

static const struct option ping_own[] = {
    {"count", required_argument, NULL, 'c'},   {"interval", required_argument, NULL, 'i'},
    {"size", required_argument, NULL, 's'},    {"timeout", required_argument, NULL, 'W'},
    {"quiet", no_argument, NULL, 'q'},         {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int ping_option(void *ctx, int c, const char *arg)
{
    pinger *p = ctx;
    int ok = 0;
    switch (c) {
    case 'c': ok = parse_u64(arg, UINT32_MAX, &p->count) == 0; break;
    case 's': ok = parse_u64(arg, 65507, &p->size) == 0; break;
    case 'i': ok = parse_seconds(arg, &p->interval_ns) == 0 && p->interval_ns >= OASIS_NS_PER_MS; break;
    case 'W': ok = parse_seconds(arg, &p->timeout_ns) == 0 && p->timeout_ns > 0; break;
    case 'q': p->quiet = 1; return 0;
    default: return -1;
    }
    if (!ok)
        fprintf(stderr, "oasis ping: invalid value '%s' for -%c\n", arg, c);
    return ok ? 0 : -1;
}

static int parse_args(int argc, char **argv, pinger *p, net_opts *no)
{
    int z;
    int rc = net_getopt(argc, argv, "hc:i:s:W:q", ping_own, ping_usage, NULL, no, ping_option, p);
    if (rc == 0 && optind + 1 != argc) {
        fprintf(stderr, "oasis ping: %s\n", optind < argc ? "one destination only" : "a destination is needed");
        rc = -1;
    } else if (rc == 0 && (z = cli_parse_addr_zone(argv[optind], no->tap, &p->dst)) != 0) {
        if (z == -2) {
            fprintf(stderr, "oasis ping: '%s': the zone must name this stack's link (%s)\n",
                    argv[optind], no->tap ? no->tap : "none");
            rc = -1;
        } else if (cli_valid_hostname(argv[optind])) {
            p->name = argv[optind]; /* resolved once the stack is up */
        } else {
            fprintf(stderr, "oasis ping: invalid address '%s'\n", argv[optind]);
            rc = -1;
        }
    }
    if (rc < 0)
        fprintf(stderr, "Try 'oasis ping --help'.\n");
    return rc;
}

int cmd_ping(int argc, char **argv)
{
    pinger p;
    net n;
    net_opts no;

    memset(&p, 0, sizeof p);
    p.count = 4;
    p.size = 56;
    p.interval_ns = OASIS_NS_PER_SEC;
    p.timeout_ns = 2 * OASIS_NS_PER_SEC;
    net_opts_init(&no);
    int rc = parse_args(argc, argv, &p, &no);
    if (rc)
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    cli_install_signals();
    if ((rc = net_up(&n, &no)) != 0)
        return rc;
    p.n = &n;
    if (p.name) {
        if (cli_resolve_addr(&n, p.name, 0, &p.dst) != 0) {
            net_down(&n);
            return EXIT_FAIL;
        }
    }
    /* IPv6: the source address exists once DAD has passed. */
    if (oasis_ipaddr_is_v6(&p.dst) && net_wait_ipv6(&n, &p.dst, 5 * OASIS_NS_PER_SEC) != 0)
        fprintf(stderr, "oasis ping: no IPv6 address or route ready to reach the destination\n");
    rc = run(&p);
    net_down(&n); /* replies still pending complete with OASIS_ECANCELED */
    return rc;
}
