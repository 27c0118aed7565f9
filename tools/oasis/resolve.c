/* Host names on the command line: `oasis get http://NAME/...`,
 * `oasis ping NAME`, `--influx http://NAME:8086/db`, with the servers of
 * --dns (or those a DHCP lease and the routers' RAs gave). One resolver per
 * run, made on first use; resolving blocks on the loop (the stack keeps
 * running meanwhile). */
#include "cli.h"
#include "http.h"

#include "oasis/dns.h"
#include "oasis/ipv6.h"

#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* How long one name may take: 2 rounds over up to 8 servers, 1 + 2 s each,
 * plus TCP after truncation, fits. */
#define RESOLVE_LIMIT_NS (60 * OASIS_NS_PER_SEC)

int cli_dns_option(net_opts *o, const char *arg)
{
    oasis_ipaddr a;
    if (oasis_ipaddr_parse(arg, &a) != 0 || !oasis_dns_server_addr_ok(&a)) {
        fprintf(stderr,
                "oasis: invalid --dns address '%s' (want a unicast A.B.C.D or IPv6 address)\n",
                arg);
        return -1;
    }
    if (o->ndns == OASIS_DNS_MAX_SERVERS) {
        fprintf(stderr, "oasis: at most %d --dns servers\n", OASIS_DNS_MAX_SERVERS);
        return -1;
    }
    o->dns[o->ndns++] = a;
    return 1;
}

int cli_search_option(net_opts *o, const char *arg)
{
    if (!cli_valid_hostname(arg) || strlen(arg) >= sizeof o->search[0]) {
        fprintf(stderr, "oasis: invalid --search domain '%s'\n", arg);
        return -1;
    }
    if (o->nsearch == OASIS_DNS_MAX_SEARCH) {
        fprintf(stderr, "oasis: at most %d --search domains\n", OASIS_DNS_MAX_SEARCH);
        return -1;
    }
    snprintf(o->search[o->nsearch++], sizeof o->search[0], "%s", arg);
    return 1;
}

/* RFC 4648 base64 (padding optional) into out; the length, or -1. */
static long base64_decode(const char *in, uint8_t *out, size_t cap)
{
    static const char digits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t acc = 0;
    size_t n = 0, bits = 0;
    const char *p = in;
    for (; *p && *p != '='; p++) {
        const char *d = strchr(digits, *p);
        if (!d || !*p)
            return -1;
        acc = acc << 6 | (uint32_t)(d - digits);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap)
                return -1;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    while (*p == '=')
        p++;
    return *p || bits >= 6 ? -1 : (long)n;
}

int cli_tsig_option(net_opts *o, const char *arg)
{
    const char *name = arg;
    if (strncmp(arg, "hmac-sha256:", 12) == 0)
        name = arg + 12;
    const char *colon = strrchr(name, ':');
    size_t nl = colon ? (size_t)(colon - name) : 0;
    long sl = colon ? base64_decode(colon + 1, o->tsig_secret, sizeof o->tsig_secret) : -1;
    if (nl == 0 || nl >= sizeof o->tsig_name || strchr(name, ':') != colon || sl <= 0) {
        fprintf(stderr, "oasis: invalid --tsig '%s' (want [hmac-sha256:]NAME:BASE64SECRET)\n",
                arg);
        return -1;
    }
    memcpy(o->tsig_name, name, nl);
    o->tsig_name[nl] = '\0';
    o->tsig_secret_len = (size_t)sl;
    return 1;
}

size_t cli_dns_merge(const oasis_ipaddr *given, size_t ngiven, const uint32_t *lease,
                     size_t nlease, const oasis_ipv6_dns_server *ra, size_t nra, oasis_ipaddr *out)
{
    size_t k = 0;
    if (ngiven) {
        for (; k < ngiven && k < OASIS_DNS_MAX_SERVERS; k++)
            out[k] = given[k];
        return k;
    }
    for (size_t i = 0; i < nlease && k < OASIS_DNS_MAX_SERVERS; i++)
        out[k++] = oasis_ipaddr_v4(lease[i]);
    for (size_t i = 0; i < nra && k < OASIS_DNS_MAX_SERVERS; i++)
        out[k++] = ra[i].addr;
    return k;
}

static size_t add_domain(const char **out, size_t k, const char *d)
{
    for (size_t i = 0; i < k; i++)
        if (strcasecmp(out[i], d) == 0)
            return k;
    if (k < OASIS_DNS_MAX_SEARCH)
        out[k++] = d;
    return k;
}

size_t cli_search_merge(char (*given)[OASIS_DHCP_DOMAIN_STRLEN], size_t ngiven,
                        char (*lease)[OASIS_DHCP_DOMAIN_STRLEN], size_t nlease,
                        const oasis_ipv6_dns_domain *ra, size_t nra, const char **out)
{
    size_t k = 0;
    if (ngiven) {
        for (size_t i = 0; i < ngiven; i++)
            k = add_domain(out, k, given[i]);
        return k;
    }
    for (size_t i = 0; i < nlease; i++)
        k = add_domain(out, k, lease[i]);
    for (size_t i = 0; i < nra; i++)
        k = add_domain(out, k, ra[i].name);
    return k;
}

/* The servers the resolver asks now. */
static size_t current_servers(const net *n, oasis_ipaddr *out)
{
    /* The stack's IPv6 list: DHCPv6's first, then the RAs' (ipv6.h). */
    oasis_ipv6_dns_server ra[OASIS_IPV6_DNS_SERVERS_LISTED];
    size_t m = oasis_ipv6_dns_servers(n->stack, ra, OASIS_IPV6_DNS_SERVERS_LISTED);
    if (m > OASIS_IPV6_DNS_SERVERS_LISTED)
        m = OASIS_IPV6_DNS_SERVERS_LISTED;
    return cli_dns_merge(n->opt.dns, n->opt.ndns, n->lease_dns, n->lease_ndns, ra, m, out);
}

static int make_resolver(net *n)
{
    if (n->dns)
        return 0;
    oasis_dns_config cfg;
    oasis_dns_tsig tsig = {0};
    oasis_dns_config_init(&cfg);
    if (n->opt.tsig_secret_len) {
        tsig.key_name = n->opt.tsig_name;
        tsig.secret = n->opt.tsig_secret;
        tsig.secret_len = n->opt.tsig_secret_len;
        cfg.tsig = &tsig;
    }
    int err = oasis_dns_create(n->stack, &cfg, &n->dns);
    if (err) {
        fprintf(stderr, "oasis: cannot create the resolver: %s\n", oasis_strerror(err));
        return -1;
    }
    /* TSIG signs the wall-clock time, which only the OS knows here. */
    if (n->opt.tsig_secret_len)
        oasis_dns_set_time(n->dns, (uint64_t)time(NULL));
    return cli_dns_refresh(n);
}

int cli_dns_refresh(net *n)
{
    if (!n->dns)
        return 0; /* make_resolver takes them when a name needs it */
    oasis_ipaddr a[OASIS_DNS_MAX_SERVERS];
    size_t k = current_servers(n, a);
    /* The stack's IPv6 list: DHCPv6's domains first, then the RAs'. */
    oasis_ipv6_dns_domain ra[OASIS_IPV6_DNS_DOMAINS_LISTED];
    size_t m = oasis_ipv6_dns_domains(n->stack, ra, OASIS_IPV6_DNS_DOMAINS_LISTED);
    if (m > OASIS_IPV6_DNS_DOMAINS_LISTED)
        m = OASIS_IPV6_DNS_DOMAINS_LISTED;
    const char *dom[OASIS_DNS_MAX_SEARCH];
    size_t d = cli_search_merge(n->opt.search, n->opt.nsearch, n->lease_search, n->lease_nsearch,
                                ra, m, dom);
    if (oasis_dns_set_search(n->dns, dom, d) != 0)
        return -1;
    return oasis_dns_set_servers_addr(n->dns, a, k) == 0 ? 0 : -1;
}

typedef struct lookup {
    int done, status;
    oasis_ipaddr addr;
    char canonical[OASIS_DNS_NAME_STRLEN];
} lookup;

static void on_resolved(oasis_dns_req *req, int status, const oasis_dns_result *res, void *ud)
{
    lookup *l = ud;
    (void)req;
    l->done = 1;
    l->status = status;
    if (status == 0) {
        l->addr = res->family == OASIS_DNS_INET6 ? oasis_ipaddr_v6(res->addr6[0])
                                                 : oasis_ipaddr_v4(res->addr[0]);
        snprintf(l->canonical, sizeof l->canonical, "%s", res->canonical);
    }
}

/* How long a name waits for an RA to name DNS servers when nothing else
 * did: DAD of the link-local address (1 s), the solicitation's random
 * delay (up to 1 s, RFC 4861 6.3.7) and a second solicitation (4 s). */
#define RA_DNS_WAIT_NS (7 * OASIS_NS_PER_SEC)

static int have_servers(void *ud)
{
    net *n = ud;
    return oasis_dns_servers_addr(n->dns, NULL, 0) > 0;
}

static int lookup_done(void *ud) { return ((const lookup *)ud)->done; }

/* One query of one family, run to its end on the loop. 0 with l filled in
 * (l->status says how it ended), or -1 after printing why. */
static int lookup_family(net *n, const char *name, oasis_dns_family fam, lookup *l)
{
    memset(l, 0, sizeof *l);
    oasis_dns_req *req = NULL;
    int err = oasis_dns_resolve(n->dns, name, fam, on_resolved, l, &req);
    if (err == OASIS_DNS_ENOSERVERS) {
        fprintf(stderr, "oasis: cannot resolve '%s': no DNS server (give --dns ADDRESS)\n", name);
        return -1;
    }
    if (err) {
        fprintf(stderr, "oasis: cannot resolve '%s': %s\n", name, oasis_dns_strerror(err));
        return -1;
    }
    err = oasis_loop_run(n->loop, lookup_done, l, RESOLVE_LIMIT_NS);
    if (!l->done) {
        oasis_dns_cancel(req);
        fprintf(stderr, "oasis: cannot resolve '%s': %s\n", name,
                err ? oasis_strerror(err) : "interrupted");
        return -1;
    }
    return 0;
}

int cli_resolve_addr(net *n, const char *name, int v4_only, oasis_ipaddr *addr)
{
    if (oasis_ipaddr_parse(name, addr) == 0) {
        if (v4_only && !oasis_ipaddr_is_v4(addr)) {
            fprintf(stderr, "oasis: '%s': an IPv4 address is needed here\n", name);
            return -1;
        }
        return 0;
    }
    if (make_resolver(n) != 0)
        return -1;
    /* With nothing from --dns or DHCP, a router's RA may name servers: the
     * stack solicits one once its link-local address passed DAD. */
    oasis_ipaddr srv[OASIS_DNS_MAX_SERVERS];
    size_t k = oasis_dns_servers_addr(n->dns, srv, OASIS_DNS_MAX_SERVERS);
    if (!k && oasis_ipv6_enabled(n->stack)) {
        oasis_loop_run(n->loop, have_servers, n, RA_DNS_WAIT_NS);
        k = oasis_dns_servers_addr(n->dns, srv, OASIS_DNS_MAX_SERVERS);
    }
    /* An IPv6 server is asked from an address past DAD. */
    if (k && oasis_ipaddr_is_v6(&srv[0]))
        net_wait_ipv6(n, &srv[0], 5 * OASIS_NS_PER_SEC);
    /* A records first while the stack has an IPv4 address, else AAAA; the
     * other family when the name has none of the first. */
    oasis_dns_family first = v4_only || n->opt.addr ? OASIS_DNS_INET : OASIS_DNS_INET6;
    lookup l;
    if (lookup_family(n, name, first, &l) != 0)
        return -1;
    if (l.status == OASIS_DNS_ENODATA && !v4_only &&
        lookup_family(n, name, first == OASIS_DNS_INET ? OASIS_DNS_INET6 : OASIS_DNS_INET, &l) != 0)
        return -1;
    if (n->opt.verbose && n->opt.tsig_secret_len) {
        const oasis_dns_counters *c = oasis_dns_get_counters(n->dns);
        fprintf(stderr,
                "oasis: tsig verified %llu, unsigned %llu, badkey %llu, badsig %llu, "
                "badtime %llu, badtrunc %llu, errors %llu\n",
                (unsigned long long)c->tsig_verified, (unsigned long long)c->tsig_unsigned,
                (unsigned long long)c->tsig_badkey, (unsigned long long)c->tsig_badsig,
                (unsigned long long)c->tsig_badtime, (unsigned long long)c->tsig_badtrunc,
                (unsigned long long)c->tsig_errors);
    }
    if (l.status) {
        fprintf(stderr, "oasis: cannot resolve '%s': %s\n", name, oasis_dns_strerror(l.status));
        return -1;
    }
    if (n->opt.verbose) {
        char ip[OASIS_IPADDR_STRLEN];
        const oasis_dns_counters *c = oasis_dns_get_counters(n->dns);
        fprintf(stderr, "oasis: %s is %s (udp queries %llu, truncated %llu, tcp queries %llu)\n",
                name, oasis_ipaddr_format(&l.addr, ip), (unsigned long long)c->udp_queries,
                (unsigned long long)c->truncated, (unsigned long long)c->tcp_queries);
        if (c->search_next || strcasecmp(l.canonical, name) != 0)
            fprintf(stderr, "oasis: %s answered as %s (search list tries %llu)\n", name,
                    l.canonical, (unsigned long long)c->search_next);
    }
    *addr = l.addr;
    return 0;
}

int cli_resolve(net *n, const char *name, uint32_t *addr)
{
    oasis_ipaddr a;
    if (cli_resolve_addr(n, name, 1, &a) != 0)
        return -1;
    *addr = oasis_ipaddr_to_v4(&a);
    return 0;
}

/* The host part of "scheme://HOST[:PORT]..." into host; 0, or -1 when it is
 * missing or longer than cap - 1. */
int cli_url_host(const char *url, char *host, size_t cap)
{
    const char *h = strstr(url, "://");
    if (!h)
        return -1;
    h += 3;
    size_t n = strcspn(h, ":/?#");
    if (n == 0 || n >= cap)
        return -1;
    memcpy(host, h, n);
    host[n] = '\0';
    return 0;
}

int cli_url_with_addr(const char *url, uint32_t addr, char *out, size_t cap)
{
    char host[256], ip[OASIS_IPV4_STRLEN];
    if (cli_url_host(url, host, sizeof host) != 0)
        return -1;
    const char *h = strstr(url, "://") + 3;
    int w = snprintf(out, cap, "%.*s%s%s", (int)(h - url), url, oasis_addr_format(addr, ip),
                     h + strlen(host));
    return w < 0 || (size_t)w >= cap ? -1 : 0;
}

int cli_parse_addr_zone(const char *s, const char *link, oasis_ipaddr *out)
{
    const char *pct = strchr(s, '%');
    if (!pct)
        return oasis_ipaddr_parse(s, out) == 0 ? 0 : -1;
    char lit[OASIS_IPADDR_STRLEN];
    size_t n = (size_t)(pct - s);
    const char *zone = pct + 1;
    oasis_ipaddr a;
    if (n == 0 || n >= sizeof lit || !*zone)
        return -1;
    memcpy(lit, s, n);
    lit[n] = '\0';
    if (oasis_ipaddr_parse(lit, &a) != 0 || !oasis_ipaddr_is_v6(&a))
        return -1; /* RFC 4007 11: a zone goes with an IPv6 address */
    /* The stack has one link: the zone must name it, by name or index. */
    if (!link || !*link)
        return -2;
    if (strcmp(zone, link) != 0) {
        uint64_t idx;
        unsigned k = if_nametoindex(link);
        if (parse_u64(zone, UINT32_MAX, &idx) != 0 || k == 0 || idx != k)
            return -2;
    }
    *out = a;
    return 0;
}

/* A host name we may look up: letters, digits, '-', '_' and dots, with
 * some letter (a mistyped dotted quad is an error, not a name). */
int cli_valid_hostname(const char *h)
{
    int letter = 0;
    for (const char *c = h; *c; c++) {
        int alpha = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '-' || *c == '_';
        if (!alpha && !(*c >= '0' && *c <= '9') && *c != '.')
            return 0;
        letter |= alpha;
    }
    return letter && strlen(h) <= 253;
}

int cli_parse_http_url(const char *url, uint32_t *addr, uint16_t *port, const char **path,
                       char *name, size_t cap)
{
    name[0] = '\0';
    if (http_parse_url(url, addr, port, path) == 0)
        return 0;
    /* A name: check the rest with a stand-in address, keep the name. */
    char host[256], tmp[2300];
    if (cli_url_host(url, host, sizeof host) != 0 || strlen(host) >= cap ||
        !cli_valid_hostname(host) ||
        cli_url_with_addr(url, OASIS_IPV4(192, 0, 2, 1), tmp, sizeof tmp) != 0)
        return -1;
    uint32_t dummy;
    const char *p;
    if (http_parse_url(tmp, &dummy, port, &p) != 0)
        return -1;
    const char *tmp_rest = strstr(tmp, "://") + 3 + strlen("192.0.2.1");
    const char *url_rest = strstr(url, "://") + 3 + strlen(host);
    *path = (p >= tmp && p < tmp + sizeof tmp) ? url_rest + (p - tmp_rest) : p;
    *addr = 0;
    snprintf(name, cap, "%s", host);
    return 0;
}
