/* Host names on the command line: `oasis get http://NAME/...`,
 * `oasis ping NAME`, `--influx http://NAME:8086/db`, with the servers of
 * --dns (or those a DHCP lease gave, cli_dns_servers). One resolver per
 * run, made on first use; resolving blocks on the loop (the stack keeps
 * running meanwhile). */
#include "cli.h"
#include "http.h"

#include "oasis/dns.h"

#include <stdio.h>
#include <string.h>

/* How long one name may take: 2 rounds over up to 8 servers, 1 + 2 s each,
 * plus TCP after truncation, fits. */
#define RESOLVE_LIMIT_NS (60 * OASIS_NS_PER_SEC)

int cli_dns_option(net_opts *o, const char *arg)
{
    uint32_t a;
    if (oasis_addr_parse(arg, &a) != 0 || a == 0) {
        fprintf(stderr, "oasis: invalid --dns address '%s' (want A.B.C.D)\n", arg);
        return -1;
    }
    if (o->ndns == OASIS_DNS_MAX_SERVERS) {
        fprintf(stderr, "oasis: at most %d --dns servers\n", OASIS_DNS_MAX_SERVERS);
        return -1;
    }
    o->dns[o->ndns++] = a;
    return 1;
}

static int make_resolver(net *n)
{
    if (n->dns)
        return 0;
    int err = oasis_dns_create(n->stack, NULL, &n->dns);
    if (err) {
        fprintf(stderr, "oasis: cannot create the resolver: %s\n", oasis_strerror(err));
        return -1;
    }
    if (n->opt.ndns)
        oasis_dns_set_servers(n->dns, n->opt.dns, n->opt.ndns);
    return 0;
}

int cli_dns_servers(net *n, const uint32_t *addrs, size_t count)
{
    if (n->opt.ndns)
        return 0; /* --dns wins over what DHCP says */
    if (make_resolver(n) != 0)
        return -1;
    if (count > OASIS_DNS_MAX_SERVERS)
        count = OASIS_DNS_MAX_SERVERS;
    return oasis_dns_set_servers(n->dns, addrs, count) == 0 ? 0 : -1;
}

typedef struct lookup {
    int done, status;
    uint32_t addr;
} lookup;

static void on_resolved(oasis_dns_req *req, int status, const oasis_dns_result *res, void *ud)
{
    lookup *l = ud;
    (void)req;
    l->done = 1;
    l->status = status;
    if (status == 0)
        l->addr = res->addr[0];
}

static int lookup_done(void *ud) { return ((const lookup *)ud)->done; }

int cli_resolve(net *n, const char *name, uint32_t *addr)
{
    if (oasis_addr_parse(name, addr) == 0)
        return 0;
    if (make_resolver(n) != 0)
        return -1;
    lookup l;
    memset(&l, 0, sizeof l);
    oasis_dns_req *req = NULL;
    int err = oasis_dns_resolve(n->dns, name, OASIS_DNS_INET, on_resolved, &l, &req);
    if (err == OASIS_DNS_ENOSERVERS) {
        fprintf(stderr, "oasis: cannot resolve '%s': no DNS server (give --dns A.B.C.D)\n", name);
        return -1;
    }
    if (err) {
        fprintf(stderr, "oasis: cannot resolve '%s': %s\n", name, oasis_dns_strerror(err));
        return -1;
    }
    err = oasis_loop_run(n->loop, lookup_done, &l, RESOLVE_LIMIT_NS);
    if (!l.done) {
        oasis_dns_cancel(req);
        fprintf(stderr, "oasis: cannot resolve '%s': %s\n", name,
                err ? oasis_strerror(err) : "interrupted");
        return -1;
    }
    if (l.status) {
        fprintf(stderr, "oasis: cannot resolve '%s': %s\n", name, oasis_dns_strerror(l.status));
        return -1;
    }
    if (n->opt.verbose) {
        char ip[OASIS_IPV4_STRLEN];
        const oasis_dns_counters *c = oasis_dns_get_counters(n->dns);
        fprintf(stderr, "oasis: %s is %s (udp queries %llu, truncated %llu, tcp queries %llu)\n",
                name, oasis_addr_format(l.addr, ip), (unsigned long long)c->udp_queries,
                (unsigned long long)c->truncated, (unsigned long long)c->tcp_queries);
    }
    *addr = l.addr;
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
