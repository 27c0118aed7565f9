/* The `oasis` command: shared pieces of its subcommands. */
#ifndef OASIS_TOOL_CLI_H
#define OASIS_TOOL_CLI_H

#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "oasis/oasis.h"
#include "oasis/dhcp.h"
#include "oasis/dhcp6.h"
#include "oasis/loop.h"
#include "oasis/tap.h"

/* Exit codes shared by the subcommands. */
enum {
    EXIT_OK = 0,
    EXIT_FAIL = 1,     /* operation failed (no reply, bad HTTP status, short body) */
    EXIT_USAGE = 2,    /* bad arguments */
    EXIT_SETUP = 3,    /* the TAP device or the stack could not be set up */
    EXIT_REFUSED = 4,  /* connection refused */
    EXIT_TIMEDOUT = 5, /* connection timed out or died (keepalive) */
};

/* RFC 9293 3.9.1.8's report of a soft error while a flow goes on (an ICMP
 * unreachable, or a neighbour that did not answer ARP/ND): an event
 * callback (oasis_tcp_set_event_cb, with reports on) that prints
 * "<tool>: <reason>; still trying" once per new reason. */
typedef struct cli_soft_report {
    const char *tool; /* "oasis nc" */
    int last;         /* the last reason told */
} cli_soft_report;
void cli_soft_report_cb(oasis_flow *flow, oasis_tcp_event ev, void *ud);

/* The exit status for a connection that failed or died with err. A flow
 * that timed out says OASIS_ETIMEDOUT, or the soft error that explains it
 * (RFC 1122 4.2.3.9: an ICMP unreachable, or ARP/ND that gave up): those
 * are timeouts too. */
static inline int cli_exit_code(int err)
{
    switch (err) {
    case OASIS_EREFUSED:
        return EXIT_REFUSED;
    case OASIS_ETIMEDOUT:
    case OASIS_EHOSTUNREACH:
    case OASIS_ENETUNREACH:
        return EXIT_TIMEDOUT;
    default:
        return EXIT_FAIL;
    }
}

/* Options every subcommand takes (the network side). */
typedef struct net_opts {
    const char *tap;
    int tun;         /* --tun: tap names a TUN device (an IP link) */
    int transparent; /* --transparent: answer TCP for every address */
    uint32_t addr;
    uint8_t prefix;
    uint32_t gw;     /* 0: none */
    int gw_given;
    uint8_t mac[6];
    int mac_given;
    uint32_t mtu;
    int create;
    const char *pcap;
    uint64_t seed;
    int seed_given;
    int verbose;
    uint32_t txqueuelen; /* kernel side's TAP queue (0: keep) */
    unsigned batch;      /* frames read per batch (0: the loop's default) */
    int offload;         /* OASIS_TAP_OFFLOAD_* (0: auto) */
    oasis_ipaddr dns[OASIS_DNS_MAX_SERVERS]; /* --dns servers (resolve.c) */
    size_t ndns;
    int no_ipv6;         /* --no-ipv6 */
    oasis_ipaddr addr6;  /* --addr6 (family 0: none) */
    int dad;             /* --dad: DupAddrDetectTransmits (-1: the stack's, 1) */
    uint8_t prefix6;
    int addr_events;     /* IPv6 address events on stderr (serve, --verbose) */
    int addr_given;      /* --addr: a static address (else DHCP) */
    int dhcp;            /* --dhcp, or no --addr: get the address by DHCP */
    uint64_t dhcp_timeout_ns; /* how long to wait for the first lease */
    uint32_t dhcp_request;    /* --dhcp with --addr: ask for that address first */
    int dhcp_rapid_commit;    /* --dhcp-rapid-commit: option 80 in DISCOVER (RFC 4039) */
    int dhcp6;                /* --dhcp6: 1 + oasis_dhcp6_mode (0: off) */
    int dhcp6_rapid_commit;   /* --dhcp6-rapid-commit: Rapid Commit in Solicit (RFC 8415) */
    int ecn;                  /* --ecn N: N + 1 (0: the stack's default) */
    uint64_t tcp_mem;         /* --tcp-mem: cfg.tcp.mem_limit (0: none) */
    int fail_fast;            /* --fail-fast: cfg.tcp.soft_errors_end_connect */
    /* --tsig [hmac-sha256:]NAME:SECRET (resolve.c): the resolver's TSIG key */
    char tsig_name[256];
    uint8_t tsig_secret[OASIS_DNS_TSIG_SECRET_MAX];
    size_t tsig_secret_len;   /* 0: no --tsig */
    /* --search DOMAIN (resolve.c): the resolver's search list */
    char search[OASIS_DNS_MAX_SEARCH][OASIS_DHCP_DOMAIN_STRLEN];
    size_t nsearch;
    /* --impair SPEC: an impairment filter between the TAP and the stack */
    int impair;
    oasis_impair_link_config impair_cfg;
    int impair_seed_given; /* seed= in SPEC (else --seed's, else 1) */
} net_opts;

/* The live network: clock, stack, TAP device and loop. */
typedef struct net net;
struct net {
    net_opts opt;
    oasis_clock *clock;
    oasis_stack *stack;
    oasis_tap *tap;
    oasis_loop *loop;
    oasis_pcap *pcap;
    oasis_impair_link *impair; /* --impair: the stack's link, in front of the TAP's */
    oasis_dns *dns;  /* made on first use (resolve.c) */
    oasis_ipaddr wait_dst; /* net_wait_ipv6's */
    oasis_dhcp *dhcp;    /* with --dhcp: runs (renews) for the whole command */
    oasis_dhcp6 *dhcp6;  /* with --dhcp6: the same for DHCPv6 */
    uint64_t dhcp_rapid_seen;  /* dhcp's rapid_commits at the last lease printed */
    uint64_t dhcp6_rapid_seen; /* dhcp6's rapid_commits at the last BOUND printed */
    /* DNS servers of the current lease (none without DHCP); they go to
     * the resolver (n->dns) unless --dns was given. dns_changed, when set,
     * is called after a lease brings new ones. */
    uint32_t lease_dns[OASIS_DHCP_MAX_DNS];
    size_t lease_ndns;
    /* The lease's search list: option 119, or else its domain (15). */
    char lease_search[OASIS_DHCP_MAX_SEARCH][OASIS_DHCP_DOMAIN_STRLEN];
    size_t lease_nsearch;
    void (*dns_changed)(struct net *n);
    void *dns_ud;
};

/* getopt_long codes of the common options start here. */
#define NET_OPT_BASE 1000
/* The common long options; append them to a subcommand's table. */
extern const struct option net_long_options[];
extern const char net_options_help[];

void net_opts_init(net_opts *o);
/* Handles a common option; returns 1 if it was one, 0 if not, -1 on a bad
 * value (message printed). */
int net_opts_handle(net_opts *o, int code, const char *arg);
/* Builds "common + own" option tables; returns a malloc'd array. */
struct option *net_merge_options(const struct option *own);

/* The option loop every subcommand shares: -h prints usage, extra_help (may
 * be NULL) and the network options' help; network options go to no, the
 * subcommand's own to own_fn(ctx, code, arg), which returns 0 or -1 (after
 * saying why). Returns 0, 1 (help shown) or -1 (bad option). optind is left
 * at the first operand. */
int net_getopt(int argc, char **argv, const char *shortopts, const struct option *own,
               const char *usage, const char *extra_help, net_opts *no,
               int (*own_fn)(void *ctx, int code, const char *arg), void *ctx);

/* Opens the TAP, creates the stack and the loop. Prints why on failure and
 * returns EXIT_SETUP. */
int net_up(net *n, const net_opts *o);
void net_down(net *n);
/* Runs the loop until an IPv6 address able to reach dst is preferred (DAD
 * done) and the stack has a route to dst (for an off-link one, a default
 * router from an RA), or timeout_ns passes; 0 when both are there. */
int net_wait_ipv6(net *n, const oasis_ipaddr *dst, uint64_t timeout_ns);
/* The same for one address of ours (a --source): until it is past DAD. */
int net_wait_addr6(net *n, const oasis_ipaddr *addr, uint64_t timeout_ns);

/* DHCP (dhcp_cli.c). net_dhcp_up starts the client on n's stack and runs
 * the loop until the first lease is bound (prints it) or the timeout:
 * EXIT_OK, EXIT_SETUP (no lease) or EXIT_FAIL (interrupted). It then keeps
 * renewing while the command runs and prints every event to stderr. */
int net_dhcp_up(net *n);
void net_dhcp_down(net *n);
/* --dhcp6: starts the DHCPv6 client and runs the loop until it holds
 * information (stateless) or an address past DAD (stateful), or
 * --dhcp-timeout: EXIT_OK, EXIT_SETUP or EXIT_FAIL. Events go to stderr;
 * its DNS servers reach the resolver through the stack's IPv6 DNS list. */
int net_dhcp6_up(net *n);
void net_dhcp6_down(net *n);
/* --dhcp6[=auto|stateless|stateful]: 1 or -1 after saying why. */
int cli_dhcp6_option(net_opts *o, const char *arg);
/* The MAC a DHCP client without --mac uses: locally administered,
 * 02:4f:d4 then three bytes hashed from the TAP name (stable across runs,
 * so a server hands the same address back). */
void net_dhcp_mac(const char *tap, uint8_t mac[6]);
/* Prints the stack's main counters to stderr (verbose runs). */
void net_print_counters(const net *n);
/* The --impair line: the filter's counters per direction (net_down prints it). */
void net_print_impair(const net *n);

/* ---- host names (resolve.c) ---- */
/* --dns ADDRESS, IPv4 or IPv6 (repeatable): returns 1, or -1 after saying why. */
int cli_dns_option(net_opts *o, const char *arg);
/* --tsig [hmac-sha256:]NAME:SECRET, as dig -y (SECRET in base64): queries
 * are signed with that key (RFC 8945). 1, or -1 with a message. */
int cli_tsig_option(net_opts *o, const char *arg);
/* The resolver's server list, at most OASIS_DNS_MAX_SERVERS into out:
 * the --dns ones when there are any, else the DHCP lease's followed by
 * the RAs' (RFC 8106 5.3.1: DHCP's first). Returns the count. */
size_t cli_dns_merge(const oasis_ipaddr *given, size_t ngiven, const uint32_t *lease,
                     size_t nlease, const oasis_ipv6_dns_server *ra, size_t nra, oasis_ipaddr *out);
/* --search DOMAIN (repeatable): 1, or -1 after saying why. */
int cli_search_option(net_opts *o, const char *arg);
/* --impair SPEC into o->impair_cfg (net.c): 1, or -1 with a message. */
int cli_impair_option(net_opts *o, const char *arg);
/* The resolver's search list, at most OASIS_DNS_MAX_SEARCH into out: the
 * --search ones when there are any, else the DHCP lease's followed by
 * the stack's IPv6 list (DHCPv6's, then the RAs' DNSSL; RFC 8106 5.3.1:
 * DHCP's first), each domain once (in any case). Returns the count. */
size_t cli_search_merge(char (*given)[OASIS_DHCP_DOMAIN_STRLEN], size_t ngiven,
                        char (*lease)[OASIS_DHCP_DOMAIN_STRLEN], size_t nlease,
                        const oasis_ipv6_dns_domain *ra, size_t nra, const char **out);
/* Gives the resolver, if made, the servers and search list of now:
 * --dns / --search, or else the DHCP lease's then the RAs' (call after
 * either changes). 0 or -1. */
int cli_dns_refresh(net *n);
/* name (or an address literal) to an address, running the loop meanwhile:
 * A records first while the stack has an IPv4 address, else AAAA, then
 * the other family if the name has none of the first; v4_only: A only.
 * Returns 0, or -1 after printing why. */
int cli_resolve_addr(net *n, const char *name, int v4_only, oasis_ipaddr *addr);
/* The same for IPv4 only (a dotted quad or A records). */
int cli_resolve(net *n, const char *name, uint32_t *addr);
/* An address literal with an optional zone (RFC 4007 11: "fe80::1%tap0"):
 * the zone is taken only after an IPv6 address and must name the stack's
 * one link, `link` (the TAP's name, or its interface index in decimal);
 * the address is then that of the link, the zone dropped. 0; -1 not such
 * a literal; -2 a zone that is not `link`. */
int cli_parse_addr_zone(const char *s, const char *link, oasis_ipaddr *out);
/* 1 if h may be looked up: letters, digits, '-', '_', dots, some letter. */
int cli_valid_hostname(const char *h);
/* The host of "scheme://HOST[:PORT]...": 0 or -1. */
int cli_url_host(const char *url, char *host, size_t cap);
/* url with its host replaced by addr, into out: 0 or -1. */
int cli_url_with_addr(const char *url, uint32_t addr, char *out, size_t cap);
/* http_parse_url that also takes a host name: then *addr is 0 and name
 * (cap bytes) holds it; else name is "". 0 or -1. */
int cli_parse_http_url(const char *url, uint32_t *addr, uint16_t *port, const char **path,
                       char *name, size_t cap);

/* SIGINT/SIGTERM set this; the loop watches it. */
volatile sig_atomic_t *cli_stop_flag(void);
void cli_install_signals(void);

/* Parsers for arguments: 0 or -1. */
int parse_u64(const char *s, uint64_t max, uint64_t *out);
/* "10", "64K", "1M", "1G" (binary units) */
int parse_size(const char *s, uint64_t *out);
/* Seconds with a fraction, e.g. "0.5"; into nanoseconds. */
int parse_seconds(const char *s, uint64_t *ns);
/* "AFTER,INTERVAL,PROBES" in seconds, e.g. "1,1,3". */
int parse_keepalive(const char *s, oasis_keepalive *ka);

/* The deterministic byte pattern of /bytes/N and `oasis pattern`: byte i is
 * (i mod 251 + floor(i / 65536)) mod 256. Fills buf with bytes
 * [off, off + len). */
typedef struct pattern {
    uint8_t table[251 + 65536]; /* table[j] = j mod 251 */
} pattern;
void pattern_init(pattern *p);
void pattern_fill(const pattern *p, uint64_t off, uint8_t *buf, size_t len);

int cmd_serve(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_ping(int argc, char **argv);
int cmd_nc(int argc, char **argv);
int cmd_pattern(int argc, char **argv);
int cmd_iperf(int argc, char **argv);

#endif
