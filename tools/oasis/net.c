/* Common options of the subcommands and the setup of TAP, stack and loop. */
#include "cli.h"

#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Frames read per batch: the loop drains the device until it is empty, and
 * runs timers between batches. */
#define NET_DEFAULT_BATCH 1024

enum {
    OPT_TAP = NET_OPT_BASE,
    OPT_TUN,
    OPT_TRANSPARENT,
    OPT_ADDR,
    OPT_GW,
    OPT_MAC,
    OPT_MTU,
    OPT_CREATE,
    OPT_PCAP,
    OPT_SEED,
    OPT_VERBOSE,
    OPT_TXQ,
    OPT_BATCH,
    OPT_OFFLOAD,
    OPT_DNS,
    OPT_NO_IPV6,
    OPT_ADDR6,
    OPT_DAD,
    OPT_DHCP,
    OPT_DHCP_TIMEOUT,
    OPT_DHCP_RAPID_COMMIT,
    OPT_DHCP6,
    OPT_DHCP6_RAPID_COMMIT,
    OPT_ECN,
    OPT_FAIL_FAST,
    OPT_TSIG,
    OPT_SEARCH,
    OPT_TCP_MEM,
    OPT_IMPAIR,
};

const struct option net_long_options[] = {
    {"tap", required_argument, NULL, OPT_TAP},
    {"tun", required_argument, NULL, OPT_TUN},
    {"transparent", no_argument, NULL, OPT_TRANSPARENT},
    {"addr", required_argument, NULL, OPT_ADDR},
    {"gw", required_argument, NULL, OPT_GW},
    {"mac", required_argument, NULL, OPT_MAC},
    {"mtu", required_argument, NULL, OPT_MTU},
    {"create", no_argument, NULL, OPT_CREATE},
    {"pcap", required_argument, NULL, OPT_PCAP},
    {"seed", required_argument, NULL, OPT_SEED},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"txqueuelen", required_argument, NULL, OPT_TXQ},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"offload", required_argument, NULL, OPT_OFFLOAD},
    {"dns", required_argument, NULL, OPT_DNS},
    {"no-ipv6", no_argument, NULL, OPT_NO_IPV6},
    {"addr6", required_argument, NULL, OPT_ADDR6},
    {"dad", required_argument, NULL, OPT_DAD},
    {"dhcp", no_argument, NULL, OPT_DHCP},
    {"dhcp-timeout", required_argument, NULL, OPT_DHCP_TIMEOUT},
    {"dhcp-rapid-commit", no_argument, NULL, OPT_DHCP_RAPID_COMMIT},
    {"dhcp6", optional_argument, NULL, OPT_DHCP6},
    {"dhcp6-rapid-commit", no_argument, NULL, OPT_DHCP6_RAPID_COMMIT},
    {"ecn", required_argument, NULL, OPT_ECN},
    {"tcp-mem", required_argument, NULL, OPT_TCP_MEM},
    {"fail-fast", no_argument, NULL, OPT_FAIL_FAST},
    {"tsig", required_argument, NULL, OPT_TSIG},
    {"search", required_argument, NULL, OPT_SEARCH},
    {"impair", required_argument, NULL, OPT_IMPAIR},
    {NULL, 0, NULL, 0},
};

const char net_options_help[] =
    "Network options (every subcommand):\n"
    "  --tap NAME        TAP device to use (oasis0)\n"
    "  --tun NAME        a TUN device instead (`ip tuntap add dev NAME mode tun`):\n"
    "                    bare IP packets, no ARP or neighbour discovery, every\n"
    "                    destination through the device (oasis/link.h's IP\n"
    "                    links). Needs --addr; no DHCP\n"
    "  --transparent     answer TCP and UDP for every address, as a transparent\n"
    "                    proxy or tun2socks does: `serve` takes connections and\n"
    "                    datagrams to any address routed to Oasis (e.g. through\n"
    "                    --tun) on its ports, and answers from the address the\n"
    "                    client asked for\n"
    "  --addr A.B.C.D/N  Oasis's static address and prefix, e.g. 10.77.0.2/24\n"
    "                    (default: none, the address comes from DHCP)\n"
    "  --dhcp            get address, prefix, gateway, MTU and DNS servers from a\n"
    "                    DHCP server (the default without --addr); the lease is\n"
    "                    printed and renewed while the command runs. With --addr:\n"
    "                    ask for that address first (INIT-REBOOT)\n"
    "  --dhcp-timeout S  seconds to wait for the first lease (30)\n"
    "  --dhcp-rapid-commit  DHCP with Rapid Commit (RFC 4039): a server that\n"
    "                    does it answers the DISCOVER with the lease (2 messages\n"
    "                    instead of 4); others still offer. Only where every\n"
    "                    server that does it may commit leases (implies --dhcp)\n"
    "  --dhcp6[=MODE]    run a DHCPv6 client (RFC 8415) before the command:\n"
    "                    auto (default) follows the routers' M and O flags,\n"
    "                    stateless asks for DNS servers and search domains,\n"
    "                    stateful leases an address too (DAD runs on it)\n"
    "  --dhcp6-rapid-commit  Rapid Commit in the Solicit (RFC 8415 18.2.1): a\n"
    "                    server that does it answers with the lease (2 messages\n"
    "                    instead of 4); others still advertise. Only where every\n"
    "                    server that does it may commit leases (implies --dhcp6)\n"
    "  --gw A.B.C.D|none default gateway (the subnet's first address, e.g. 10.77.0.1)\n"
    "  --mac MAC         Oasis's MAC (02:4f:xx:xx:xx:xx made from the address, or\n"
    "                    with DHCP from the TAP name)\n"
    "  --mtu N           set the device's MTU to N (576..65535; TAP devices take at\n"
    "                    most 65521); default: keep the device's MTU\n"
    "  --create          create the TAP device if it does not exist (needs root)\n"
    "  --pcap FILE       write every frame sent and received to FILE\n"
    "  --seed N          fixed seed for ISNs, cookies, PRNG: INSECURE, for\n"
    "                    replaying tests; default: secrets from the OS\n"
    "  --verbose         print the stack's counters at exit\n"
    "  --txqueuelen N    set the kernel side's TAP queue to N frames (needs\n"
    "                    CAP_NET_ADMIN); bursts of thousands of connections\n"
    "                    want 10000 or more (default: keep the device's, 1000)\n"
    "  --batch N         frames read from the TAP per batch between timer runs\n"
    "                    (1024)\n"
    "  --offload on|off|auto  virtio-net offloads on the TAP (TSO and partial\n"
    "                    checksums both ways); auto: on when the kernel has them\n"
    "                    (default), on: fail without them\n"
    "  --dns ADDRESS     DNS server for host names, IPv4 or IPv6 (repeatable;\n"
    "                    overrides those of DHCP and of routers' RAs)\n"
    "  --search DOMAIN   try short host names in DOMAIN too (repeatable, up to 6;\n"
    "                    overrides the domains of DHCP and of routers' RAs)\n"
    "  --tsig [hmac-sha256:]NAME:SECRET  sign DNS queries with this TSIG key\n"
    "                    (RFC 8945; SECRET in base64, as dig -y and BIND's key\n"
    "                    files); only answers signed with it are taken\n"
    "  --no-ipv6         IPv4 only (default: IPv6 too, with a link-local address,\n"
    "                    DAD and SLAAC from router advertisements)\n"
    "  --addr6 A::B/N    a static IPv6 address besides (DAD runs on it)\n"
    "  --dad N           Duplicate Address Detection probes per address\n"
    "                    (RFC 4862 DupAddrDetectTransmits, 0..10; 1); 0: none, an\n"
    "                    address is usable at once (where no duplicate can be)\n"
    "  --ecn 0|1|2       TCP ECN (RFC 3168), as Linux's tcp_ecn: 0 off, 1 ask for\n"
    "                    it and accept it, 2 accept it when asked (default)\n"
    "  --fail-fast       a connection attempt ends at the first ICMP error or\n"
    "                    failed address resolution, as on Linux (RFC 5461);\n"
    "                    default: it reports them and retries its SYN (183 s)\n"
    "  --tcp-mem SIZE    budget for all TCP buffer memory (e.g. 8M; 0: none, the\n"
    "                    default): from three quarters of it on, buffers stop\n"
    "                    growing and windows shrink; at SIZE, writes and received\n"
    "                    data wait (metrics TCPMemBytes, TCPMemoryPressures, ...)\n"
    "  --impair SPEC     impair the frames between the TAP and the stack (testing\n"
    "                    recovery against Linux; see oasis/impair.h). SPEC is a\n"
    "                    comma list of loss=P, dup=P, reorder=P, corrupt=P\n"
    "                    (P a probability 0..1, or N%%), burst=PGB:PBG[:LB[:LG]]\n"
    "                    (Gilbert-Elliott: good->bad, bad->good, loss when bad\n"
    "                    (1), when good (0); per frame, or per step=S seconds\n"
    "                    of time with step), gap=N (frames that overtake a\n"
    "                    reordered one, 3), seed=N (--seed's, else 1) and\n"
    "                    dir=in|out|both (both); per-direction counters are\n"
    "                    printed at exit\n";

void net_opts_init(net_opts *o)
{
    memset(o, 0, sizeof *o);
    o->tap = "oasis0";
    o->addr = OASIS_IPV4(10, 77, 0, 2);
    o->prefix = 24;
    o->dhcp_timeout_ns = 30 * OASIS_NS_PER_SEC;
    o->dad = -1;
}

static int bad(const char *what, const char *arg)
{
    fprintf(stderr, "oasis: invalid %s '%s'\n", what, arg);
    return -1;
}

int net_opts_handle(net_opts *o, int code, const char *arg)
{
    uint64_t v;

    switch (code) {
    case OPT_TAP:
    case OPT_TUN:
        if (!arg[0] || strlen(arg) > 15)
            return bad(code == OPT_TUN ? "--tun name (1 to 15 characters)"
                                       : "--tap name (1 to 15 characters)",
                       arg);
        o->tap = arg;
        o->tun = code == OPT_TUN;
        return 1;
    case OPT_ADDR:
        if (oasis_cidr_parse(arg, &o->addr, &o->prefix) != 0 || o->prefix == 0 ||
            o->prefix > 30)
            return bad("--addr (want A.B.C.D/N with N in 1..30)", arg);
        o->addr_given = 1;
        return 1;
    case OPT_DHCP:
        o->dhcp = 1;
        return 1;
    case OPT_DHCP_RAPID_COMMIT:
        o->dhcp = 1;
        o->dhcp_rapid_commit = 1;
        return 1;
    case OPT_DHCP6:
        return cli_dhcp6_option(o, arg);
    case OPT_DHCP6_RAPID_COMMIT:
        o->dhcp6_rapid_commit = 1;
        if (!o->dhcp6)
            o->dhcp6 = 1 + OASIS_DHCP6_AUTO;
        return 1;
    case OPT_DHCP_TIMEOUT:
        if (parse_seconds(arg, &o->dhcp_timeout_ns) != 0 || o->dhcp_timeout_ns == 0)
            return bad("--dhcp-timeout (seconds)", arg);
        return 1;
    case OPT_GW:
        o->gw_given = 1;
        if (strcmp(arg, "none") == 0) {
            o->gw = 0;
            return 1;
        }
        if (oasis_addr_parse(arg, &o->gw) != 0)
            return bad("--gw address", arg);
        return 1;
    case OPT_MAC:
        if (oasis_mac_parse(arg, o->mac) != 0 || (o->mac[0] & 1))
            return bad("--mac (want a unicast xx:xx:xx:xx:xx:xx)", arg);
        o->mac_given = 1;
        return 1;
    case OPT_MTU:
        if (parse_u64(arg, 65535, &v) != 0 || v < 576)
            return bad("--mtu (576..65535)", arg);
        o->mtu = (uint32_t)v;
        return 1;
    case OPT_CREATE:
        o->create = 1;
        return 1;
    case OPT_TRANSPARENT:
        o->transparent = 1;
        return 1;
    case OPT_PCAP:
        o->pcap = arg;
        return 1;
    case OPT_SEED:
        if (parse_u64(arg, UINT64_MAX, &o->seed) != 0)
            return bad("--seed", arg);
        o->seed_given = 1;
        return 1;
    case OPT_VERBOSE:
        o->verbose = 1;
        return 1;
    case OPT_TXQ:
        if (parse_u64(arg, 1u << 24, &v) != 0 || v == 0)
            return bad("--txqueuelen (1..16777216)", arg);
        o->txqueuelen = (uint32_t)v;
        return 1;
    case OPT_OFFLOAD:
        if (strcmp(arg, "on") == 0)
            o->offload = OASIS_TAP_OFFLOAD_ON;
        else if (strcmp(arg, "off") == 0)
            o->offload = OASIS_TAP_OFFLOAD_OFF;
        else if (strcmp(arg, "auto") == 0)
            o->offload = OASIS_TAP_OFFLOAD_AUTO;
        else
            return bad("--offload (on, off or auto)", arg);
        return 1;
    case OPT_NO_IPV6:
        o->no_ipv6 = 1;
        return 1;
    case OPT_IMPAIR:
        return cli_impair_option(o, arg);
    case OPT_ADDR6:
        if (oasis_ipaddr_cidr_parse(arg, &o->addr6, &o->prefix6) != 0 ||
            o->addr6.family != OASIS_AF_INET6)
            return bad("--addr6 (want an IPv6 address/N)", arg);
        return 1;
    case OPT_DAD:
        if (parse_u64(arg, 10, &v) != 0)
            return bad("--dad (0..10)", arg);
        o->dad = (int)v;
        return 1;
    case OPT_BATCH:
        if (parse_u64(arg, 1u << 16, &v) != 0 || v == 0)
            return bad("--batch (1..65536)", arg);
        o->batch = (unsigned)v;
        return 1;
    case OPT_DNS:
        return cli_dns_option(o, arg);
    case OPT_TCP_MEM:
        if (parse_size(arg, &o->tcp_mem) != 0)
            return bad("--tcp-mem (bytes, may end in K, M, G)", arg);
        return 1;
    case OPT_ECN:
        if (parse_u64(arg, 2, &v) != 0)
            return bad("--ecn (0, 1 or 2)", arg);
        o->ecn = (int)v + 1;
        return 1;
    case OPT_FAIL_FAST:
        o->fail_fast = 1;
        return 1;
    case OPT_TSIG:
        return cli_tsig_option(o, arg);
    case OPT_SEARCH:
        return cli_search_option(o, arg);
    default:
        return 0;
    }
}

struct option *net_merge_options(const struct option *own)
{
    size_t a = 0, b = 0;
    while (own[a].name)
        a++;
    while (net_long_options[b].name)
        b++;
    struct option *all = calloc(a + b + 1, sizeof *all);
    if (!all) {
        perror("oasis");
        exit(EXIT_SETUP);
    }
    memcpy(all, own, a * sizeof *all);
    memcpy(all + a, net_long_options, (b + 1) * sizeof *all);
    return all;
}

int net_getopt(int argc, char **argv, const char *shortopts, const struct option *own,
               const char *usage, const char *extra_help, net_opts *no,
               int (*own_fn)(void *ctx, int code, const char *arg), void *ctx)
{
    struct option *opts = net_merge_options(own);
    int code, rc = 0;
    while (rc == 0 && (code = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
        if (code == 'h') {
            fputs(usage, stdout);
            if (extra_help)
                fputs(extra_help, stdout);
            fputs(net_options_help, stdout);
            rc = 1;
        } else if (code == '?') {
            rc = -1;
        } else {
            int r = net_opts_handle(no, code, optarg);
            if (r < 0 || (r == 0 && own_fn(ctx, code, optarg) != 0))
                rc = -1;
        }
    }
    free(opts);
    return rc;
}

/* Defaults that depend on the address: the gateway is the subnet's first
 * address (the kernel side in the documented setup), the MAC is locally
 * administered and carries the address, so two stacks never share one. */
static void fill_derived(net_opts *o)
{
    if (!o->addr_given)
        o->dhcp = 1;
    if (o->dhcp) {
        /* No address until the lease: gateway and MAC do not come from one. */
        if (!o->mac_given)
            net_dhcp_mac(o->tap, o->mac);
        o->mac_given = 1;
        o->dhcp_request = o->addr_given ? o->addr : 0;
        o->addr = 0;
        o->gw = 0;
        o->gw_given = 1;
    }
    uint32_t mask = oasis_netmask(o->prefix);
    if (!o->gw_given) {
        o->gw = (o->addr & mask) + 1;
        if (o->gw == o->addr)
            o->gw = 0;
    }
    if (!o->mac_given) {
        uint8_t mac[6] = {0x02, 0x4f, (uint8_t)(o->addr >> 24), (uint8_t)(o->addr >> 16),
                          (uint8_t)(o->addr >> 8), (uint8_t)o->addr};
        memcpy(o->mac, mac, 6);
    }
    /* No --seed: seed 0, so the stack takes its secrets from the OS (a
     * time ^ pid seed would make ISNs and SYN cookies guessable). */
}

/* A TAP whose kernel side is down drops every frame: say so up front. */
static void warn_if_down(const char *name)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0)
        return;
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP))
        fprintf(stderr, "oasis: warning: %s is down on the kernel's side; run `ip link set %s up`\n",
                name, name);
    close(sock);
}

static int open_tap(net *n)
{
    oasis_tap_config tc;
    char err[512];

    oasis_tap_config_init(&tc);
    tc.name = n->opt.tap;
    tc.mtu = n->opt.mtu;
    tc.create = n->opt.create;
    tc.up = n->opt.create;
    tc.txqueuelen = n->opt.txqueuelen;
    tc.offload = n->opt.offload;
    tc.tun = n->opt.tun;
    int rc = oasis_tap_open(&tc, &n->tap, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "oasis: %s%s [%s]\n", err,
                rc == OASIS_ENOENT && !n->opt.create ? ", or pass --create" : "", oasis_err_name(rc));
        return EXIT_SETUP;
    }
    warn_if_down(n->opt.tap);
    /* One line when offloads fell back (or always, verbose). */
    if (n->opt.verbose || (n->opt.offload == OASIS_TAP_OFFLOAD_AUTO && !oasis_tap_offload(n->tap)))
        fprintf(stderr, "oasis: %s\n", oasis_tap_offload_status(n->tap));
    if (n->opt.mtu && oasis_tap_mtu(n->tap) != n->opt.mtu)
        fprintf(stderr,
                "oasis: note: MTU %u of %s instead of %u: the kernel's maximum for TAP "
                "devices (65535 minus the Ethernet header)\n",
                oasis_tap_mtu(n->tap), n->opt.tap, n->opt.mtu);
    return EXIT_OK;
}

/* Address events on stderr: tests and users see DAD and SLAAC happen. */
static void on_ipv6_addr(oasis_stack *s, const oasis_ipv6_addr_info *a, void *ud)
{
    static const char *const states[] = {"?", "tentative", "preferred", "deprecated", "duplicate",
                                         "removed"};
    static const char *const origins[] = {"?", "link-local", "static", "slaac", "dhcp6"};
    char buf[OASIS_IPADDR_STRLEN];
    (void)s;
    (void)ud;
    fprintf(stderr, "oasis: ipv6 %s/%u %s (%s)\n", oasis_ipaddr_format(&a->addr, buf),
            a->prefix_len, a->state <= 5 ? states[a->state] : "?",
            a->origin <= 4 ? origins[a->origin] : "?");
}

/* DNS servers and search domains from RAs (RFC 8106): to the resolver,
 * and on stderr when address events are. */
static void on_ra_dns(oasis_stack *s, void *ud)
{
    net *n = ud;
    if (n->opt.addr_events || n->opt.verbose) {
        /* DHCPv6's and the RAs' (ipv6.h): up to twice the maximum. */
        oasis_ipv6_dns_server d[OASIS_IPV6_DNS_SERVERS_LISTED];
        oasis_ipv6_dns_domain dom[OASIS_IPV6_DNS_DOMAINS_LISTED];
        size_t k = oasis_ipv6_dns_servers(s, d, OASIS_IPV6_DNS_SERVERS_LISTED);
        size_t m = oasis_ipv6_dns_domains(s, dom, OASIS_IPV6_DNS_DOMAINS_LISTED);
        char buf[OASIS_IPADDR_STRLEN];
        fprintf(stderr, "oasis: ipv6 dns servers:");
        for (size_t i = 0; i < k && i < OASIS_IPV6_DNS_SERVERS_LISTED; i++)
            fprintf(stderr, " %s", oasis_ipaddr_format(&d[i].addr, buf));
        fprintf(stderr, k ? ";" : " none;");
        fprintf(stderr, " search:");
        for (size_t i = 0; i < m && i < OASIS_IPV6_DNS_DOMAINS_LISTED; i++)
            fprintf(stderr, " %s", dom[i].name);
        fprintf(stderr, m ? "\n" : " none\n");
    }
    if (cli_dns_refresh(n) != 0)
        fprintf(stderr, "oasis: cannot hand the RA's DNS servers to the resolver\n");
}

/* A source address for the destination is preferred, and the stack has a
 * next hop for it: an off-link destination needs the first RA's default
 * router (a tool started with the link would otherwise fail at once with
 * OASIS_ENOROUTE). */
static int has_src_for(void *ud)
{
    net *n = ud;
    const oasis_ipaddr *dst = &n->wait_dst;
    if (oasis_ipv6_route(n->stack, dst, NULL) != 0)
        return 0;
    oasis_ipv6_addr_info a[8];
    size_t k = oasis_ipv6_addrs(n->stack, a, 8);
    for (size_t i = 0; i < k && i < 8; i++) {
        if (a[i].state != OASIS_IPV6_PREFERRED)
            continue;
        if (oasis_ipaddr_is_link_local(dst) || oasis_ipaddr_is_multicast(dst) ||
            !oasis_ipaddr_is_link_local(&a[i].addr))
            return 1;
    }
    return 0;
}

int net_wait_ipv6(net *n, const oasis_ipaddr *dst, uint64_t timeout_ns)
{
    n->wait_dst = *dst;
    oasis_loop_run(n->loop, has_src_for, n, timeout_ns);
    return has_src_for(n) ? 0 : -1;
}

void cli_soft_report_cb(oasis_flow *flow, oasis_tcp_event ev, void *ud)
{
    cli_soft_report *r = ud;
    int soft = oasis_tcp_flow_soft_error(flow);
    if (ev != OASIS_TCP_EV_ICMP || !soft || soft == r->last)
        return;
    r->last = soft;
    fprintf(stderr, "%s: %s (%s); still trying\n", r->tool, oasis_strerror(soft), oasis_err_name(soft));
}

static int addr_usable(void *ud)
{
    net *n = ud;
    oasis_ipv6_addr_info a[8];
    size_t k = oasis_ipv6_addrs(n->stack, a, 8);
    for (size_t i = 0; i < k && i < 8; i++)
        if (oasis_ipaddr_eq(&a[i].addr, &n->wait_dst))
            return a[i].state == OASIS_IPV6_PREFERRED || a[i].state == OASIS_IPV6_DEPRECATED;
    return 0;
}

int net_wait_addr6(net *n, const oasis_ipaddr *addr, uint64_t timeout_ns)
{
    n->wait_dst = *addr;
    oasis_loop_run(n->loop, addr_usable, n, timeout_ns);
    return addr_usable(n) ? 0 : -1;
}

/* The TAP's frames go through the impairment filter (--impair). */
static void impair_input(void *ud, oasis_stack *s, const uint8_t *frame, size_t len,
                         const oasis_offload *off)
{
    oasis_impair_link_input(ud, s, frame, len, off);
}

int net_up(net *n, const net_opts *o)
{
    memset(n, 0, sizeof *n);
    n->opt = *o;
    /* A TUN device has no broadcast domain to ask a DHCP server on. */
    if (o->tun && (!o->addr_given || o->dhcp || o->dhcp6)) {
        fprintf(stderr, "oasis: --tun needs --addr, and takes no --dhcp or --dhcp6\n");
        return EXIT_USAGE;
    }
    fill_derived(&n->opt);
    int rc = open_tap(n);
    if (rc)
        return rc;

    n->clock = oasis_clock_new_monotonic();
    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg);
    memcpy(cfg.mac, n->opt.mac, 6);
    cfg.addr = n->opt.addr;
    cfg.prefix_len = n->opt.prefix;
    cfg.gateway = n->opt.gw;
    cfg.mtu = oasis_tap_mtu(n->tap);
    cfg.clock = n->clock;
    cfg.seed = n->opt.seed;
    cfg.ipv6 = !n->opt.no_ipv6;
    cfg.transparent = n->opt.transparent;
    if (n->opt.dad >= 0)
        cfg.dad_transmits = (uint32_t)n->opt.dad;
    if (n->opt.ecn)
        cfg.tcp.ecn = (uint8_t)(n->opt.ecn - 1);
    cfg.tcp.mem_limit = n->opt.tcp_mem;
    cfg.tcp.soft_errors_end_connect = n->opt.fail_fast;
    int err = n->clock ? oasis_stack_create(&cfg, &n->stack) : OASIS_ENOMEM;
    if (!err && cfg.ipv6) {
        /* Clients keep stderr quiet (their output may be parsed). */
        if (n->opt.addr_events || n->opt.verbose)
            oasis_ipv6_set_addr_cb(n->stack, on_ipv6_addr, NULL);
        oasis_ipv6_set_dns_cb(n->stack, on_ra_dns, n);
        if (n->opt.addr6.family)
            err = oasis_ipv6_add_addr(n->stack, &n->opt.addr6, n->opt.prefix6);
    }
    if (err) {
        fprintf(stderr, "oasis: cannot create the stack: %s\n", oasis_strerror(err));
        net_down(n);
        return EXIT_SETUP;
    }
    if (n->opt.pcap && (err = oasis_pcap_open(n->opt.pcap, &n->pcap)) != 0) {
        fprintf(stderr, "oasis: cannot write %s: %s\n", n->opt.pcap, oasis_strerror(err));
        net_down(n);
        return EXIT_SETUP;
    }
    oasis_tap_link(n->tap)->pcap = n->pcap;
    if (oasis_loop_create(n->stack, n->tap, &n->loop) != 0) {
        fprintf(stderr, "oasis: out of memory\n");
        net_down(n);
        return EXIT_SETUP;
    }
    oasis_loop_set_stop_flag(n->loop, cli_stop_flag());
    oasis_loop_set_batch(n->loop, n->opt.batch ? n->opt.batch : NET_DEFAULT_BATCH);
    if (n->opt.impair) {
        oasis_impair_link_config ic = n->opt.impair_cfg;
        if (!n->opt.impair_seed_given)
            ic.seed = n->opt.seed_given ? n->opt.seed : 1;
        ic.clock = n->clock; /* burst=...,step=S: the chain runs on time */
        n->opt.impair_cfg.seed = ic.seed; /* printed with the counters */
        if ((err = oasis_impair_link_create(oasis_tap_link(n->tap), &ic, &n->impair)) != 0) {
            fprintf(stderr, "oasis: cannot set up --impair: %s\n", oasis_strerror(err));
            net_down(n);
            return EXIT_SETUP;
        }
        oasis_impair_link_link(n->impair)->pcap = n->pcap;
        oasis_tap_set_input_filter(n->tap, impair_input, n->impair);
        oasis_stack_set_link(n->stack, oasis_impair_link_link(n->impair));
    } else {
        oasis_stack_set_link(n->stack, oasis_tap_link(n->tap));
    }
    if (n->opt.dhcp && (rc = net_dhcp_up(n)) != EXIT_OK) {
        net_down(n);
        return rc;
    }
    if (n->opt.dhcp6 && (rc = net_dhcp6_up(n)) != EXIT_OK) {
        net_down(n);
        return rc;
    }
    return EXIT_OK;
}

void net_down(net *n)
{
    if (n->opt.verbose && n->stack)
        net_print_counters(n);
    if (n->impair && n->stack)
        net_print_impair(n);
    /* The DHCPv6 client first: its stop withdraws its DNS servers, and
     * the stack's DNS callback hands the new list to the resolver. */
    net_dhcp6_down(n);
    oasis_dns_destroy(n->dns);
    n->dns = NULL;
    net_dhcp_down(n);
    oasis_loop_destroy(n->loop);
    oasis_stack_destroy(n->stack); /* (its RSTs go out through the filter) */
    /* Frames held back for reordering still reach the TAP (a last
     * segment or RST would otherwise vanish); incoming ones have no stack
     * left to go to. */
    oasis_impair_link_flush(n->impair, NULL);
    oasis_impair_link_destroy(n->impair);
    oasis_tap_close(n->tap);
    oasis_pcap_close(n->pcap);
    oasis_clock_free(n->clock);
    memset(n, 0, sizeof *n);
}

/* What --impair did, per direction, and what the stack caught of it. */
void net_print_impair(const net *n)
{
    const oasis_counters *c = oasis_stack_counters(n->stack);
    oasis_impair_link_stats st[2];
    oasis_impair_link_stats_get(n->impair, OASIS_IMPAIR_OUT, &st[0]);
    oasis_impair_link_stats_get(n->impair, OASIS_IMPAIR_IN, &st[1]);
    fprintf(stderr, "counters: impair seed %llu", (unsigned long long)n->opt.impair_cfg.seed);
    for (int d = 0; d < 2; d++)
        fprintf(stderr,
                "%s %s sent %llu delivered %llu lost %llu burst %llu corrupted %llu "
                "reordered %llu duplicated %llu segmented %llu held %llu",
                d ? ";" : ",", d ? "in" : "out", (unsigned long long)st[d].sent,
                (unsigned long long)st[d].delivered, (unsigned long long)st[d].dropped_loss,
                (unsigned long long)st[d].dropped_burst, (unsigned long long)st[d].corrupted,
                (unsigned long long)st[d].reordered, (unsigned long long)st[d].duplicated,
                (unsigned long long)st[d].segmented, (unsigned long long)st[d].held);
    fprintf(stderr,
            "; checksum errors ip %llu tcp %llu udp %llu icmp %llu; header errors ip %llu "
            "tcp %llu; tcp retrans %llu, "
            "timeouts %llu, fast retrans %llu, dsack recv %llu, ofo queued %llu, "
            "mss lowered (black hole) %llu raised %llu\n",
            (unsigned long long)c->ip.in_csum_errors, (unsigned long long)c->tcp.in_csum_errors,
            (unsigned long long)c->udp.in_csum_errors, (unsigned long long)c->icmp.in_csum_errors,
            (unsigned long long)c->ip.in_hdr_errors, (unsigned long long)c->tcp.in_errs,
            (unsigned long long)c->tcp.retrans_segs, (unsigned long long)c->tcp.timeouts,
            (unsigned long long)c->tcp.fast_retrans, (unsigned long long)c->tcp.dsack_recv,
            (unsigned long long)c->tcp.ofo_queued,
            (unsigned long long)c->tcp.plpmtud_blackholes,
            (unsigned long long)c->tcp.plpmtud_raised);
}

void net_print_counters(const net *n)
{
    const oasis_counters *c = oasis_stack_counters(n->stack);
    oasis_tap_place_counts pc;
    oasis_tap_place_counts_get(n->tap, &pc);
    fprintf(stderr,
            "counters: link rx %llu frames tx %llu frames (tx errors %llu, tap drops %llu, "
            "bad vnet headers %llu, rx placed %llu, not placed: declined %llu, too big %llu, "
            "untrusted %llu, other %llu); "
            "tcp in %llu out %llu segs, retrans %llu, timeouts %llu, fast retrans %llu, "
            "ofo queued %llu\n",
            (unsigned long long)c->link.rx_frames, (unsigned long long)c->link.tx_frames,
            (unsigned long long)c->link.tx_errors,
            (unsigned long long)oasis_tap_send_drops(n->tap),
            (unsigned long long)oasis_tap_bad_headers(n->tap),
            (unsigned long long)pc.placed, (unsigned long long)pc.declined,
            (unsigned long long)pc.too_big, (unsigned long long)pc.untrusted,
            (unsigned long long)pc.other, (unsigned long long)c->tcp.in_segs,
            (unsigned long long)c->tcp.out_segs, (unsigned long long)c->tcp.retrans_segs,
            (unsigned long long)c->tcp.timeouts, (unsigned long long)c->tcp.fast_retrans,
            (unsigned long long)c->tcp.ofo_queued);
    fprintf(stderr,
            "counters: tcp rst in %llu out %llu, listen overflows %llu, syn cookies sent %llu "
            "ok %llu failed %llu\n",
            (unsigned long long)c->tcp.in_rsts, (unsigned long long)c->tcp.out_rsts,
            (unsigned long long)c->tcp.listen_overflows, (unsigned long long)c->tcp.syn_cookies_sent,
            (unsigned long long)c->tcp.syn_cookies_ok, (unsigned long long)c->tcp.syn_cookies_failed);
    fprintf(stderr,
            "counters: ecn flows %llu, ce segs %llu, reductions %llu, delivered ce %llu; "
            "ip in ce %llu ect0 %llu\n",
            (unsigned long long)c->tcp.ecn_flows, (unsigned long long)c->tcp.ecn_ce_segs,
            (unsigned long long)c->tcp.ecn_reductions, (unsigned long long)c->tcp.delivered_ce,
            (unsigned long long)c->ip.in_ce_pkts, (unsigned long long)c->ip.in_ect0_pkts);
}

/* ---- signals ------------------------------------------------------------ */

/* The one piece of static mutable state in the tool: a signal handler has no
 * other way to reach the loop. */
static volatile sig_atomic_t stop_requested;

volatile sig_atomic_t *cli_stop_flag(void) { return &stop_requested; }

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

void cli_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* ---- argument parsers --------------------------------------------------- */

int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!s || !*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int parse_size(const char *s, uint64_t *out)
{
    char num[32];
    size_t n = strlen(s);
    unsigned shift = 0;

    if (n == 0 || n >= sizeof num)
        return -1;
    memcpy(num, s, n + 1);
    switch (num[n - 1]) {
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    default: break;
    }
    if (shift)
        num[n - 1] = '\0';
    uint64_t v;
    if (parse_u64(num, (UINT64_MAX >> 1) >> shift, &v) != 0)
        return -1;
    *out = v << shift;
    return 0;
}

int parse_seconds(const char *s, uint64_t *ns)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || end == s || *end || !(d >= 0) || d > 1e9)
        return -1;
    *ns = (uint64_t)(d * 1e9);
    return 0;
}

int parse_keepalive(const char *s, oasis_keepalive *ka)
{
    char buf[64], *parts[3], *save = NULL;
    uint64_t probes;

    if (strlen(s) >= sizeof buf)
        return -1;
    strcpy(buf, s);
    parts[0] = strtok_r(buf, ",", &save);
    parts[1] = strtok_r(NULL, ",", &save);
    parts[2] = strtok_r(NULL, ",", &save);
    if (!parts[2] || strtok_r(NULL, ",", &save))
        return -1;
    if (parse_seconds(parts[0], &ka->after_ns) || parse_seconds(parts[1], &ka->interval_ns) ||
        parse_u64(parts[2], 1000, &probes) || probes == 0 || ka->interval_ns == 0)
        return -1;
    ka->probes = (uint32_t)probes;
    return 0;
}

/* ---- the pattern -------------------------------------------------------- */

void pattern_init(pattern *p)
{
    for (size_t j = 0; j < sizeof p->table; j++)
        p->table[j] = (uint8_t)(j % 251);
}

void pattern_fill(const pattern *p, uint64_t off, uint8_t *buf, size_t len)
{
    while (len > 0) {
        uint64_t block = off >> 16;
        size_t in_block = (size_t)(65536 - (off & 65535));
        size_t n = len < in_block ? len : in_block;
        const uint8_t *src = p->table + off % 251;
        uint8_t add = (uint8_t)block;
        /* Eight bytewise additions at once (no carry between bytes): a
         * 1 GiB download must not spend its time here. */
        const uint64_t lo7 = 0x7f7f7f7f7f7f7f7full, hi = ~lo7;
        const uint64_t a = add * 0x0101010101010101ull;
        size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            uint64_t x;
            memcpy(&x, src + i, 8);
            x = ((x & lo7) + (a & lo7)) ^ ((x ^ a) & hi);
            memcpy(buf + i, &x, 8);
        }
        for (; i < n; i++)
            buf[i] = (uint8_t)(src[i] + add);
        buf += n;
        off += n;
        len -= n;
    }
}

/* ---- --impair ------------------------------------------------------------ */

/* A probability: a decimal in [0, 1] ("0.01") or a percentage ("1%"). */
static int parse_prob(const char *s, double *out)
{
    char *end;
    if (!*s || *s == '+' || *s == '-' || *s == ' ')
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s)
        return -1;
    if (*end == '%') {
        v /= 100;
        end++;
    }
    if (*end || !(v >= 0 && v <= 1)) /* (NaN and inf fail here) */
        return -1;
    *out = v;
    return 0;
}

static int impair_bad(const char *what, const char *arg)
{
    fprintf(stderr,
            "oasis: invalid --impair %s in '%s' (want loss=P, dup=P, reorder=P, corrupt=P, "
            "burst=PGB:PBG[:LB[:LG]], step=S, gap=N, seed=N, dir=in|out|both; P in 0..1 or "
            "N%%)\n",
            what, arg);
    return -1;
}

/* burst=PGB:PBG[:LOSS_BAD[:LOSS_GOOD]] */
static int parse_burst(const char *v, oasis_impair *g)
{
    char buf[128];
    if (strlen(v) >= sizeof buf)
        return -1;
    strcpy(buf, v);
    double p[4] = {0, 0, 1, 0};
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
        if (n == 4 || parse_prob(t, &p[n]) != 0)
            return -1;
        n++;
    }
    /* (strtok_r skips empty fields: "0.1::1" must not pass as two) */
    if (n < 2 || strstr(v, "::") || v[0] == ':' || v[strlen(v) - 1] == ':' || p[0] == 0)
        return -1;
    g->ge_p_good_bad = p[0];
    g->ge_p_bad_good = p[1];
    g->ge_loss_bad = p[2];
    g->ge_loss_good = p[3];
    return 0;
}

int cli_impair_option(net_opts *o, const char *arg)
{
    oasis_impair g;
    oasis_impair_init(&g);
    oasis_impair_link_config cfg;
    oasis_impair_link_config_init(&cfg);
    int dir = 3; /* 1 out, 2 in, 3 both */
    int seed_given = 0;
    char buf[512];
    if (!arg[0] || strlen(arg) >= sizeof buf)
        return impair_bad("SPEC (empty or too long)", arg);
    strcpy(buf, arg);
    for (char *item = buf, *next; item; item = next) {
        next = strchr(item, ',');
        if (next)
            *next++ = '\0';
        char *eq = strchr(item, '=');
        if (!eq || eq == item || !eq[1])
            return impair_bad("item (want KEY=VALUE)", arg);
        *eq = '\0';
        const char *k = item, *v = eq + 1;
        uint64_t u;
        int ok;
        if (strcmp(k, "loss") == 0)
            ok = parse_prob(v, &g.loss) == 0;
        else if (strcmp(k, "dup") == 0 || strcmp(k, "duplicate") == 0)
            ok = parse_prob(v, &g.duplicate) == 0;
        else if (strcmp(k, "reorder") == 0)
            ok = parse_prob(v, &g.reorder) == 0;
        else if (strcmp(k, "corrupt") == 0)
            ok = parse_prob(v, &g.corrupt) == 0;
        else if (strcmp(k, "burst") == 0)
            ok = parse_burst(v, &g) == 0;
        else if (strcmp(k, "gap") == 0) {
            ok = parse_u64(v, 1000, &u) == 0 && u > 0;
            cfg.reorder_gap = (uint32_t)u;
        } else if (strcmp(k, "step") == 0) {
            ok = parse_seconds(v, &g.ge_step_ns) == 0 && g.ge_step_ns > 0;
        } else if (strcmp(k, "seed") == 0) {
            ok = parse_u64(v, UINT64_MAX, &cfg.seed) == 0;
            seed_given = 1;
        } else if (strcmp(k, "dir") == 0) {
            ok = 1;
            if (strcmp(v, "out") == 0)
                dir = 1;
            else if (strcmp(v, "in") == 0)
                dir = 2;
            else if (strcmp(v, "both") == 0)
                dir = 3;
            else
                ok = 0;
        } else {
            return impair_bad("key", arg);
        }
        if (!ok) {
            char what[64];
            snprintf(what, sizeof what, "value of %.40s", k);
            return impair_bad(what, arg);
        }
    }
    if (g.ge_step_ns && g.ge_p_good_bad == 0)
        return impair_bad("step (only with burst=)", arg);
    if (dir & 1)
        cfg.out = g;
    if (dir & 2)
        cfg.in = g;
    o->impair = 1;
    o->impair_cfg = cfg;
    o->impair_seed_given = seed_given;
    return 1;
}
