/* A small UDP tool for the interop tests (tests/interop/udp6.sh): Oasis on
 * a TAP device (the `oasis` command's network options) with
 *
 *   udp_tool echo PORT             echo every datagram back (both families)
 *                                  until SIGTERM, then print the counters
 *   udp_tool mecho GROUP PORT      the same for datagrams to the group GROUP
 *                                  (IPv4 or IPv6), joined; on SIGTERM leave
 *                                  it, run 2 s more, print the IGMP and MLD
 *                                  counters
 *   udp_tool send DST PORT SIZE    send SIZE pattern bytes from port 5555 and
 *                                  wait 3 s for the same bytes back; an ICMP
 *                                  error reaching the socket is printed
 *   udp_tool addrs SECONDS [DST]   run SECONDS, print the IPv6 addresses, the
 *                                  DAD counters and (DST) what sending to
 *                                  DST says
 *
 * Exit status: 0 ok, 1 failure, 2 usage, 3 setup, 4 port unreachable. */
#include "cli.h"

#include "oasis/udp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOCAL_PORT 5555

typedef struct tool {
    net n;
    uint8_t buf[65536];
    size_t want;
    int got, err;
    uint64_t echoed;
} tool;

static void on_echo(oasis_stack *s, const oasis_ipaddr *src, uint16_t sp, const oasis_ipaddr *dst,
                    uint16_t dp, const uint8_t *d, size_t n, void *ud)
{
    tool *t = ud;
    char a[OASIS_IPADDR_STRLEN], b[OASIS_IPADDR_STRLEN];
    int err = oasis_udp_send(s, dp, src, sp, d, n);
    t->echoed++;
    printf("rx %s %s:%u -> %s:%u %zu bytes, echo %s\n", src->family == OASIS_AF_INET6 ? "v6" : "v4",
           oasis_ipaddr_format(src, a), sp, oasis_ipaddr_format(dst, b), dp, n,
           err ? oasis_err_name(err) : "sent");
    fflush(stdout);
}

static void on_reply(oasis_stack *s, const oasis_ipaddr *src, uint16_t sp, const oasis_ipaddr *dst,
                     uint16_t dp, const uint8_t *d, size_t n, void *ud)
{
    tool *t = ud;
    char a[OASIS_IPADDR_STRLEN];
    (void)s;
    (void)dst;
    (void)dp;
    int same = n == t->want && memcmp(d, t->buf, n) == 0;
    printf("reply from %s:%u %zu bytes %s\n", oasis_ipaddr_format(src, a), sp, n,
           same ? "match" : "DIFFER");
    fflush(stdout);
    t->got = same ? 1 : -1;
}

static void on_error(oasis_stack *s, const oasis_udp_error *e, void *ud)
{
    tool *t = ud;
    char a[OASIS_IPADDR_STRLEN], r[OASIS_IPADDR_STRLEN];
    (void)s;
    printf("error %s from %s about %s:%u (type %u code %u)\n", oasis_err_name(e->err),
           oasis_ipaddr_format(&e->reporter, r), oasis_ipaddr_format(&e->dst, a), e->dst_port,
           e->type, e->code);
    fflush(stdout);
    t->err = e->err;
}

static void print_counters(const oasis_stack *s)
{
    const oasis_counters *c = oasis_stack_counters(s);
    printf("udp6 in=%llu out=%llu noports=%llu inerrors=%llu csumerrors=%llu zerocsum=%llu\n",
           (unsigned long long)c->udp6.in_datagrams, (unsigned long long)c->udp6.out_datagrams,
           (unsigned long long)c->udp6.no_ports, (unsigned long long)c->udp6.in_errors,
           (unsigned long long)c->udp6.in_csum_errors, (unsigned long long)c->udp6.zero_csum);
    printf("udp in=%llu out=%llu noports=%llu\n", (unsigned long long)c->udp.in_datagrams,
           (unsigned long long)c->udp.out_datagrams, (unsigned long long)c->udp.no_ports);
    printf("nd dad_ok=%llu dad_conflicts=%llu\n", (unsigned long long)c->nd.dad_ok,
           (unsigned long long)c->nd.dad_conflicts);
    fflush(stdout);
}

static int never(void *ud) { (void)ud; return 0; }
static int answered(void *ud) { const tool *t = ud; return t->got || t->err; }

static int cmd_echo(tool *t, char **args, int nargs)
{
    uint64_t port;
    if (nargs != 1 || parse_u64(args[0], 65535, &port) || port == 0)
        return EXIT_USAGE;
    int err = oasis_udp_bind(t->n.stack, (uint16_t)port, on_echo, t);
    if (err) {
        fprintf(stderr, "udp_tool: bind: %s\n", oasis_strerror(err));
        return EXIT_SETUP;
    }
    printf("echo ready on %u\n", (unsigned)port);
    fflush(stdout);
    oasis_loop_run(t->n.loop, never, NULL, 3600 * OASIS_NS_PER_SEC); /* until SIGTERM */
    print_counters(t->n.stack);
    return EXIT_OK;
}

/* Joins GROUP (IGMP tells the link's routers and snooping switches),
 * prints each datagram that reaches PORT until SIGTERM, then leaves and
 * runs 2 s more (the leave and its repetition go out). */
static int group_op(oasis_stack *s, const oasis_ipaddr *g, int join)
{
    if (oasis_ipaddr_is_v4(g)) {
        uint32_t a = oasis_ipaddr_to_v4(g);
        return join ? oasis_ipv4_join(s, a) : oasis_ipv4_leave(s, a);
    }
    return join ? oasis_ipv6_join(s, g) : oasis_ipv6_leave(s, g);
}

static int cmd_mecho(tool *t, char **args, int nargs)
{
    oasis_ipaddr group;
    uint64_t port;
    if (nargs != 2 || oasis_ipaddr_parse(args[0], &group) || parse_u64(args[1], 65535, &port) ||
        port == 0)
        return EXIT_USAGE;
    int err = oasis_udp_bind(t->n.stack, (uint16_t)port, on_echo, t);
    if (!err)
        err = group_op(t->n.stack, &group, 1);
    if (err) {
        fprintf(stderr, "udp_tool: %s\n", oasis_strerror(err));
        return EXIT_SETUP;
    }
    printf("joined %s, listening on %u\n", args[0], (unsigned)port);
    fflush(stdout);
    oasis_loop_run(t->n.loop, never, NULL, 3600 * OASIS_NS_PER_SEC); /* until SIGTERM */
    *cli_stop_flag() = 0;
    err = group_op(t->n.stack, &group, 0);
    printf("leave %s\n", err ? oasis_err_name(err) : "ok");
    oasis_loop_run(t->n.loop, never, NULL, 2 * OASIS_NS_PER_SEC);
    const oasis_counters *all = oasis_stack_counters(t->n.stack);
    const oasis_ip_counters *c = &all->ip;
    printf("igmp in=%llu errors=%llu queries=%llu out=%llu\n",
           (unsigned long long)c->igmp_in_msgs, (unsigned long long)c->igmp_in_errors,
           (unsigned long long)c->igmp_in_queries, (unsigned long long)c->igmp_out_msgs);
    printf("mld queries=%llu reports_out=%llu\n",
           (unsigned long long)all->icmp6.in_mld_queries,
           (unsigned long long)all->icmp6.out_mld_reports);
    print_counters(t->n.stack);
    return EXIT_OK;
}

static int cmd_send(tool *t, char **args, int nargs)
{
    oasis_ipaddr dst;
    uint64_t port, size;
    if (nargs != 3 || oasis_ipaddr_parse(args[0], &dst) || parse_u64(args[1], 65535, &port) ||
        port == 0 || parse_u64(args[2], 65527, &size))
        return EXIT_USAGE;
    if (dst.family == OASIS_AF_INET6 && net_wait_ipv6(&t->n, &dst, 10 * OASIS_NS_PER_SEC) != 0) {
        printf("no usable IPv6 source address\n");
        return EXIT_FAIL;
    }
    for (size_t i = 0; i < size; i++)
        t->buf[i] = (uint8_t)(i * 7 + 3);
    t->want = (size_t)size;
    oasis_udp_bind(t->n.stack, LOCAL_PORT, on_reply, t);
    oasis_udp_set_error_cb(t->n.stack, LOCAL_PORT, on_error);
    int err = oasis_udp_send(t->n.stack, LOCAL_PORT, &dst, (uint16_t)port, t->buf, t->want);
    printf("send %s\n", err ? oasis_err_name(err) : "ok");
    fflush(stdout);
    if (err)
        return EXIT_FAIL;
    oasis_loop_run(t->n.loop, answered, t, 3 * OASIS_NS_PER_SEC);
    print_counters(t->n.stack);
    if (t->err == OASIS_EREFUSED)
        return EXIT_REFUSED;
    return t->got == 1 ? EXIT_OK : EXIT_FAIL;
}

static const char *state_name(int st)
{
    switch (st) {
    case OASIS_IPV6_TENTATIVE: return "tentative";
    case OASIS_IPV6_PREFERRED: return "preferred";
    case OASIS_IPV6_DEPRECATED: return "deprecated";
    case OASIS_IPV6_DUPLICATE: return "duplicate";
    default: return "?";
    }
}

static int cmd_addrs(tool *t, char **args, int nargs)
{
    uint64_t ns;
    oasis_ipaddr dst;
    if (nargs < 1 || nargs > 2 || parse_seconds(args[0], &ns) ||
        (nargs == 2 && oasis_ipaddr_parse(args[1], &dst)))
        return EXIT_USAGE;
    oasis_loop_run(t->n.loop, never, NULL, ns);
    oasis_ipv6_addr_info a[8];
    size_t k = oasis_ipv6_addrs(t->n.stack, a, 8);
    for (size_t i = 0; i < k && i < 8; i++) {
        char s[OASIS_IPADDR_STRLEN];
        printf("addr %s/%u %s\n", oasis_ipaddr_format(&a[i].addr, s), a[i].prefix_len,
               state_name(a[i].state));
    }
    if (nargs == 2) {
        int err = oasis_udp_send(t->n.stack, LOCAL_PORT, &dst, 9, "x", 1);
        printf("send %s\n", err ? oasis_err_name(err) : "ok");
        oasis_loop_run(t->n.loop, never, NULL, OASIS_NS_PER_SEC / 2);
    }
    print_counters(t->n.stack);
    return EXIT_OK;
}

static int no_own(void *ctx, int code, const char *arg)
{
    (void)ctx;
    (void)code;
    (void)arg;
    return -1;
}

static const char usage[] =
    "Usage: udp_tool echo PORT | mecho GROUP PORT | send DST PORT SIZE | addrs SECONDS [DST]\n";

int main(int argc, char **argv)
{
    static tool t; /* 64 KiB of buffer: not on the stack */
    net_opts no;
    net_opts_init(&no);
    static const struct option own[] = {{NULL, 0, NULL, 0}};
    int rc = net_getopt(argc, argv, "h", own, usage, NULL, &no, no_own, NULL);
    if (rc)
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    if (optind >= argc) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    no.addr_events = 1;
    cli_install_signals();
    if ((rc = net_up(&t.n, &no)) != EXIT_OK)
        return rc;
    const char *cmd = argv[optind];
    char **args = argv + optind + 1;
    int nargs = argc - optind - 1;
    if (strcmp(cmd, "echo") == 0)
        rc = cmd_echo(&t, args, nargs);
    else if (strcmp(cmd, "mecho") == 0)
        rc = cmd_mecho(&t, args, nargs);
    else if (strcmp(cmd, "send") == 0)
        rc = cmd_send(&t, args, nargs);
    else if (strcmp(cmd, "addrs") == 0)
        rc = cmd_addrs(&t, args, nargs);
    else
        rc = EXIT_USAGE;
    if (rc == EXIT_USAGE)
        fputs(usage, stderr);
    net_down(&t.n);
    return rc;
}
