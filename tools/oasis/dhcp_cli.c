/* --dhcp for every subcommand: the stack starts without an address, a
 * DHCP client gets one before the command runs and keeps renewing it. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

void net_dhcp_mac(const char *tap, uint8_t mac[6])
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = tap; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    mac[0] = 0x02; /* locally administered, unicast */
    mac[1] = 0x4f;
    mac[2] = 0xd4;
    mac[3] = (uint8_t)(h >> 16);
    mac[4] = (uint8_t)(h >> 8);
    mac[5] = (uint8_t)h;
}

static double secs(uint64_t ns) { return (double)ns / 1e9; }

static void print_lease(const char *what, const oasis_dhcp_lease *l)
{
    char a[OASIS_IPV4_STRLEN], g[OASIS_IPV4_STRLEN], sv[OASIS_IPV4_STRLEN];
    fprintf(stderr, "dhcp: %s %s/%u gateway %s server %s lease %us (T1 %us, T2 %us)", what,
            oasis_addr_format(l->addr, a), l->prefix_len,
            l->gateway ? oasis_addr_format(l->gateway, g) : "none",
            oasis_addr_format(l->server, sv), l->lease_s, l->t1_s, l->t2_s);
    if (l->mtu)
        fprintf(stderr, " mtu %u", l->mtu);
    for (uint8_t i = 0; i < l->ndns; i++)
        fprintf(stderr, "%s%s", i ? "," : " dns ", oasis_addr_format(l->dns[i], a));
    if (l->domain[0])
        fprintf(stderr, " domain %s", l->domain);
    for (uint8_t i = 0; i < l->nsearch; i++)
        fprintf(stderr, "%s%s", i ? "," : " search ", l->search[i]);
    /* On the stack's clock, so that a test can check the lease's arithmetic
     * without timing the process from outside. */
    fprintf(stderr, "; requested at %.3f s", secs(l->acquired_ns));
    if (l->expires_ns != UINT64_MAX)
        fprintf(stderr, ", ends at %.3f s", secs(l->expires_ns));
    fputc('\n', stderr);
}

static void on_dhcp(oasis_dhcp *d, oasis_dhcp_event ev, const oasis_dhcp_lease *l, void *ud)
{
    net *n = ud;
    char a[OASIS_IPV4_STRLEN];
    switch (ev) {
    case OASIS_DHCP_EV_BOUND:
    case OASIS_DHCP_EV_RENEWED:
        /* The count tells whether this lease came by Rapid Commit. */
        print_lease(ev == OASIS_DHCP_EV_RENEWED ? "renewed"
                    : oasis_dhcp_get_counters(d)->rapid_commits > n->dhcp_rapid_seen
                        ? "bound (rapid commit)"
                        : "bound",
                    l);
        n->dhcp_rapid_seen = oasis_dhcp_get_counters(d)->rapid_commits;
        n->opt.addr = l->addr;
        n->opt.prefix = l->prefix_len;
        n->opt.gw = l->gateway;
        memcpy(n->lease_dns, l->dns, sizeof n->lease_dns);
        n->lease_ndns = l->ndns;
        /* RFC 3397's list, or else the domain alone (resolv.conf's
         * "domain" is the search list when none is given). */
        memcpy(n->lease_search, l->search, sizeof n->lease_search);
        n->lease_nsearch = l->nsearch;
        if (!l->nsearch && l->domain[0]) {
            memcpy(n->lease_search[0], l->domain, sizeof l->domain);
            n->lease_nsearch = 1;
        }
        /* The lease's DNS servers go to the resolver (--dns wins). */
        if (cli_dns_refresh(n) != 0)
            fprintf(stderr, "dhcp: cannot hand the DNS servers to the resolver\n");
        if (n->dns_changed)
            n->dns_changed(n);
        break;
    case OASIS_DHCP_EV_EXPIRED:
        fprintf(stderr, "dhcp: lease of %s expired at %.3f s (it ended at %.3f s): address removed\n",
                oasis_addr_format(l->addr, a), secs(oasis_stack_now(n->stack)),
                secs(l->expires_ns));
        n->opt.addr = 0;
        break;
    case OASIS_DHCP_EV_NAK:
        fprintf(stderr, "dhcp: NAK from the server%s\n", l ? ": address removed" : "");
        n->opt.addr = 0;
        break;
    case OASIS_DHCP_EV_CONFLICT:
        fprintf(stderr, "dhcp: %s is in use by another host: declined\n",
                oasis_addr_format(l->addr, a));
        break;
    case OASIS_DHCP_EV_TIMEOUT:
        fprintf(stderr, "dhcp: no answer to the REQUEST for %s: starting over\n",
                oasis_addr_format(l->addr, a));
        break;
    }
    fflush(stderr);
}

static int bound(void *ud)
{
    net *n = ud;
    oasis_dhcp_lease l;
    return oasis_dhcp_get_lease(n->dhcp, &l) == OASIS_OK;
}

int net_dhcp_up(net *n)
{
    oasis_dhcp_config c;
    oasis_dhcp_config_init(&c);
    c.requested_addr = n->opt.dhcp_request;
    c.rapid_commit = n->opt.dhcp_rapid_commit;
    c.cb = on_dhcp;
    c.ud = n;
    int err = oasis_dhcp_create(n->stack, &c, &n->dhcp);
    if (err == OASIS_OK)
        err = oasis_dhcp_start(n->dhcp);
    if (err) {
        fprintf(stderr, "oasis: cannot start the DHCP client: %s\n", oasis_strerror(err));
        return EXIT_SETUP;
    }
    fprintf(stderr, "dhcp: asking for a lease on %s\n", n->opt.tap);
    err = oasis_loop_run(n->loop, bound, n, n->opt.dhcp_timeout_ns);
    if (bound(n))
        return EXIT_OK;
    if (err == OASIS_ETIMEDOUT) {
        fprintf(stderr, "oasis: no DHCP lease within %.0f s (state %s)\n",
                (double)n->opt.dhcp_timeout_ns / 1e9,
                oasis_dhcp_state_name(oasis_dhcp_get_state(n->dhcp)));
        return EXIT_SETUP;
    }
    if (err)
        fprintf(stderr, "oasis: the TAP device failed: %s\n", oasis_strerror(err));
    return err ? EXIT_SETUP : EXIT_FAIL;
}

void net_dhcp_down(net *n)
{
    oasis_dhcp_destroy(n->dhcp);
    n->dhcp = NULL;
}

/* ---- --dhcp6 ---------------------------------------------------------- */

int cli_dhcp6_option(net_opts *o, const char *arg)
{
    static const char *const modes[] = {"auto", "stateless", "stateful"};
    for (int i = 0; i < 3; i++)
        if (!arg || strcmp(arg, modes[i]) == 0) {
            o->dhcp6 = 1 + (arg ? i : OASIS_DHCP6_AUTO);
            return 1;
        }
    fprintf(stderr, "oasis: invalid --dhcp6 '%s' (want auto, stateless or stateful)\n", arg);
    return -1;
}

static void print_dhcp6(const char *what, const oasis_dhcp6_lease *l)
{
    char a[OASIS_IPADDR_STRLEN];
    fprintf(stderr, "dhcp6: %s", what);
    if (l->has_addr)
        fprintf(stderr, " %s/128 preferred %us valid %us (T1 %us, T2 %us)",
                oasis_ipaddr_format(&l->addr, a), l->preferred_s, l->valid_s, l->t1_s, l->t2_s);
    fprintf(stderr, " dns");
    for (uint8_t i = 0; i < l->ndns; i++)
        fprintf(stderr, "%s%s", i ? "," : " ", oasis_ipaddr_format(&l->dns[i], a));
    if (!l->ndns)
        fprintf(stderr, " none");
    fprintf(stderr, " search");
    for (uint8_t i = 0; i < l->ndomains; i++)
        fprintf(stderr, " %s", l->domains[i]);
    if (!l->ndomains)
        fprintf(stderr, " none");
    if (!l->has_addr)
        fprintf(stderr, " refresh %us", l->refresh_s);
    fputc('\n', stderr);
}

static void on_dhcp6(oasis_dhcp6 *c, oasis_dhcp6_event ev, const oasis_dhcp6_lease *l, void *ud)
{
    char a[OASIS_IPADDR_STRLEN];
    net *n = ud;
    switch (ev) {
    case OASIS_DHCP6_EV_INFO:
        print_dhcp6("information", l);
        break;
    case OASIS_DHCP6_EV_BOUND:
        /* The count tells whether this lease came by Rapid Commit. */
        print_dhcp6(oasis_dhcp6_get_counters(c)->rapid_commits > n->dhcp6_rapid_seen
                        ? "bound (rapid commit)"
                        : "bound",
                    l);
        n->dhcp6_rapid_seen = oasis_dhcp6_get_counters(c)->rapid_commits;
        break;
    case OASIS_DHCP6_EV_RENEWED:
        print_dhcp6("renewed", l);
        break;
    case OASIS_DHCP6_EV_EXPIRED:
        fprintf(stderr, "dhcp6: lease of %s expired: address removed\n",
                oasis_ipaddr_format(&l->addr, a));
        break;
    case OASIS_DHCP6_EV_DECLINED:
        fprintf(stderr, "dhcp6: %s is in use by another node: declined\n",
                oasis_ipaddr_format(&l->addr, a));
        break;
    }
    fflush(stderr);
}

static int dhcp6_ready(void *ud)
{
    net *n = ud;
    oasis_dhcp6_lease l;
    oasis_dhcp6_state st = oasis_dhcp6_get_state(n->dhcp6);
    return oasis_dhcp6_get_lease(n->dhcp6, &l) == OASIS_OK && st != OASIS_DHCP6_DAD;
}

int net_dhcp6_up(net *n)
{
    oasis_dhcp6_config c;
    oasis_dhcp6_config_init(&c);
    c.mode = (oasis_dhcp6_mode)(n->opt.dhcp6 - 1);
    c.rapid_commit = n->opt.dhcp6_rapid_commit;
    c.cb = on_dhcp6;
    c.ud = n;
    int err = oasis_dhcp6_create(n->stack, &c, &n->dhcp6);
    if (err == OASIS_OK)
        err = oasis_dhcp6_start(n->dhcp6);
    if (err) {
        fprintf(stderr, "oasis: cannot start the DHCPv6 client: %s\n", oasis_strerror(err));
        return EXIT_SETUP;
    }
    fprintf(stderr, "dhcp6: asking on %s\n", n->opt.tap);
    err = oasis_loop_run(n->loop, dhcp6_ready, n, n->opt.dhcp_timeout_ns);
    if (dhcp6_ready(n))
        return EXIT_OK;
    if (err == OASIS_ETIMEDOUT) {
        fprintf(stderr, "oasis: no DHCPv6 answer within %.0f s (state %s)\n",
                (double)n->opt.dhcp_timeout_ns / 1e9,
                oasis_dhcp6_state_name(oasis_dhcp6_get_state(n->dhcp6)));
        return EXIT_SETUP;
    }
    if (err)
        fprintf(stderr, "oasis: the TAP device failed: %s\n", oasis_strerror(err));
    return err ? EXIT_SETUP : EXIT_FAIL;
}

static int release_over(void *ud)
{
    return oasis_dhcp6_get_state(((net *)ud)->dhcp6) != OASIS_DHCP6_RELEASING;
}

/* How long the way out waits for the server to answer the Release: its
 * first retransmission and the Reply to it (RFC 8415 18.2.7 would go on
 * for REL_MAX_RC sends, about 15 s: too long to hold a command's exit). */
#define RELEASE_WAIT_NS (3 * OASIS_NS_PER_SEC)

void net_dhcp6_down(net *n)
{
    if (!n->dhcp6)
        return; /* no --dhcp6 */
    /* Release the address on the way out (RFC 8415 18.2.7). */
    uint64_t replies = oasis_dhcp6_get_counters(n->dhcp6)->rx_replies;
    oasis_dhcp6_stop(n->dhcp6, 1);
    if (n->loop && !release_over(n)) {
        /* A SIGTERM that ended the command set the loop's stop flag: the
         * wait runs anyway, and a second signal cuts it short. */
        volatile sig_atomic_t *stop = cli_stop_flag();
        sig_atomic_t was = *stop;
        *stop = 0;
        oasis_loop_run(n->loop, release_over, n, RELEASE_WAIT_NS);
        if (was)
            *stop = was;
        const oasis_dhcp6_counters *c = oasis_dhcp6_get_counters(n->dhcp6);
        fprintf(stderr, "dhcp6: release %s (sent %llu times)\n",
                c->rx_replies > replies ? "answered" : "not answered",
                (unsigned long long)c->tx_releases);
    }
    oasis_dhcp6_destroy(n->dhcp6);
    n->dhcp6 = NULL;
}
