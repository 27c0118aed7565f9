/* DNS configuration from Router Advertisements (RFC 8106): the servers of
 * RDNSS options and the search domains of DNSSL options.
 *
 * Invariants:
 * - a slot is in use when its expiry is non-zero; UINT64_MAX is infinite;
 * - entries keep the place they were first learnt in, so the order an
 *   application reads is stable while RAs renew them (5.3.1: the order
 *   decides preference);
 * - dns_timer runs for the earliest finite expiry, and only then;
 * - the gauges nd.dns_servers and nd.dns_domains count the slots in use.
 *
 * RFC 8106 clauses:
 * - 5.1, 5.2: option lengths (nd_wire.c); a Lifetime of 0xffffffff is
 *   infinity, 0 means the server or domain must no longer be used;
 * - 5.3.1: the host updates the lists with each entry's expiry time; with
 *   no room left, the entry that expires first gives way; information from
 *   DHCP comes first: the DHCPv6 client's servers and domains (dhcp6.c
 *   hands them over; held here apart from the RAs') lead the lists the
 *   API returns. A DHCPv4 lease's are the application's to put first. */
#include "core/stack_impl.h"
#include "ipv6/ipv6.h"
#include "ipv6/nd_wire.h"

#include <string.h>

static void dns_timer(oasis_stack *s, oasis_timer *t);

void oasis_ra_dns_init(oasis_stack *s) { oasis_timer_init(&s->ip6->dns_timer, dns_timer); }

void oasis_ra_dns_fini(oasis_stack *s) { oasis_timer_stop(s, &s->ip6->dns_timer); }

static uint64_t expiry_of(oasis_stack *s, uint32_t lifetime_s)
{
    if (lifetime_s == 0xffffffffu)
        return UINT64_MAX;
    return oasis_now(s) + (uint64_t)lifetime_s * 1000000000ull;
}

static void recount_and_arm(oasis_stack *s)
{
    oasis_ipv6 *v = s->ip6;
    uint64_t next = UINT64_MAX, ns = 0, nd = 0;
    for (int i = 0; i < OASIS_IPV6_MAX_DNS_SERVERS; i++) {
        uint64_t e = v->dns_servers[i].expires;
        ns += e != 0;
        if (e && e < next)
            next = e;
    }
    for (int i = 0; i < OASIS_IPV6_MAX_DNS_DOMAINS; i++) {
        uint64_t e = v->dns_domains[i].expires;
        nd += e != 0;
        if (e && e < next)
            next = e;
    }
    s->ctr.nd.dns_servers = ns;
    s->ctr.nd.dns_domains = nd;
    if (next == UINT64_MAX)
        oasis_timer_stop(s, &v->dns_timer);
    else
        oasis_timer_start(s, &v->dns_timer, next);
}

/* The slot for a new entry among n whose expiries are at stride apart:
 * a free one, else the one that expires first if that is before `until`;
 * -1 when every entry outlives the new one. */
static int slot_for(const uint64_t *first, size_t stride, int n, uint64_t until)
{
    int best = -1;
    uint64_t best_e = UINT64_MAX;
    for (int i = 0; i < n; i++) {
        uint64_t e = *(const uint64_t *)((const uint8_t *)first + (size_t)i * stride);
        if (e == 0)
            return i;
        if (e < best_e) {
            best_e = e;
            best = i;
        }
    }
    return best_e < until ? best : -1;
}

/* Learns, renews or withdraws one server. Returns 1 when the list
 * changed (not on a renewal). */
static int server_update(oasis_stack *s, const oasis_in6 *a, uint32_t lifetime_s)
{
    oasis_ipv6 *v = s->ip6;
    if (!oasis_in6_is_peer_unicast(a)) {
        s->ctr.nd.dns_opts_ignored++;
        return 0;
    }
    for (int i = 0; i < OASIS_IPV6_MAX_DNS_SERVERS; i++) {
        ip6_dns_server *d = &v->dns_servers[i];
        if (d->expires && oasis_in6_eq(&d->addr, a)) {
            d->expires = lifetime_s ? expiry_of(s, lifetime_s) : 0;
            return lifetime_s == 0;
        }
    }
    if (lifetime_s == 0)
        return 0;
    uint64_t until = expiry_of(s, lifetime_s);
    int i = slot_for(&v->dns_servers[0].expires, sizeof v->dns_servers[0],
                     OASIS_IPV6_MAX_DNS_SERVERS, until);
    if (i < 0)
        return 0;
    /* A replaced entry leaves its place; the new one goes last, so the
     * others keep their order. */
    memmove(&v->dns_servers[i], &v->dns_servers[i + 1],
            (OASIS_IPV6_MAX_DNS_SERVERS - 1 - (size_t)i) * sizeof v->dns_servers[0]);
    ip6_dns_server *d = &v->dns_servers[OASIS_IPV6_MAX_DNS_SERVERS - 1];
    d->addr = *a;
    d->expires = until;
    return 1;
}

/* Names compare without regard to ASCII case (RFC 4343). */
static int name_eq(const char *a, const char *b)
{
    for (;; a++, b++) {
        int x = *a >= 'A' && *a <= 'Z' ? *a + 32 : *a;
        int y = *b >= 'A' && *b <= 'Z' ? *b + 32 : *b;
        if (x != y)
            return 0;
        if (!x)
            return 1;
    }
}

static int domain_update(oasis_stack *s, const char *name, uint32_t lifetime_s)
{
    oasis_ipv6 *v = s->ip6;
    for (int i = 0; i < OASIS_IPV6_MAX_DNS_DOMAINS; i++) {
        ip6_dns_domain *d = &v->dns_domains[i];
        if (d->expires && name_eq(d->name, name)) {
            d->expires = lifetime_s ? expiry_of(s, lifetime_s) : 0;
            return lifetime_s == 0;
        }
    }
    if (lifetime_s == 0)
        return 0;
    uint64_t until = expiry_of(s, lifetime_s);
    int i = slot_for(&v->dns_domains[0].expires, sizeof v->dns_domains[0],
                     OASIS_IPV6_MAX_DNS_DOMAINS, until);
    if (i < 0)
        return 0;
    memmove(&v->dns_domains[i], &v->dns_domains[i + 1],
            (OASIS_IPV6_MAX_DNS_DOMAINS - 1 - (size_t)i) * sizeof v->dns_domains[0]);
    ip6_dns_domain *d = &v->dns_domains[OASIS_IPV6_MAX_DNS_DOMAINS - 1];
    memcpy(d->name, name, strlen(name) + 1);
    d->expires = until;
    return 1;
}

static void changed(oasis_stack *s)
{
    recount_and_arm(s);
    if (s->ip6->dns_cb)
        s->ip6->dns_cb(s, s->ip6->dns_cb_ud);
}

void oasis_ra_dns_input(oasis_stack *s, const struct oasis_nd_opts *o)
{
    int moved = 0, touched = o->nrdnss || o->ndnssl;
    s->ctr.nd.dns_opts_ignored += (uint64_t)o->dns_opts_ignored;
    for (int k = 0; k < o->nrdnss; k++)
        for (size_t off = 0; off + 16 <= o->rdnss[k].len; off += 16) {
            oasis_in6 a;
            memcpy(a.b, o->rdnss[k].body + off, 16);
            moved |= server_update(s, &a, o->rdnss[k].lifetime_s);
        }
    for (int k = 0; k < o->ndnssl; k++) {
        char name[OASIS_ND_DNSSL_NAME_MAX + 1];
        size_t off = 0;
        while (oasis_nd_dnssl_next(o->dnssl[k].body, o->dnssl[k].len, &off, name) == 1)
            moved |= domain_update(s, name, o->dnssl[k].lifetime_s);
    }
    if (moved)
        changed(s);
    else if (touched)
        recount_and_arm(s); /* renewed lifetimes move the timer */
}

static void dns_timer(oasis_stack *s, oasis_timer *t)
{
    oasis_ipv6 *v = s->ip6;
    uint64_t now = oasis_now(s);
    int moved = 0;
    (void)t;
    for (int i = 0; i < OASIS_IPV6_MAX_DNS_SERVERS; i++)
        if (v->dns_servers[i].expires && v->dns_servers[i].expires <= now) {
            v->dns_servers[i].expires = 0;
            moved = 1;
        }
    for (int i = 0; i < OASIS_IPV6_MAX_DNS_DOMAINS; i++)
        if (v->dns_domains[i].expires && v->dns_domains[i].expires <= now) {
            v->dns_domains[i].expires = 0;
            moved = 1;
        }
    if (moved)
        changed(s);
    else
        recount_and_arm(s);
}

/* ---- DHCPv6's share ---- */

void oasis_ra_dns_set_dhcp6(oasis_stack *s, const oasis_in6 *servers, size_t nservers,
                            const char *const *domains, size_t ndomains)
{
    oasis_ipv6 *v = s->ip6;
    ip6_dns_server ns[OASIS_IPV6_MAX_DNS_SERVERS];
    ip6_dns_domain nd[OASIS_IPV6_MAX_DNS_DOMAINS];
    size_t k = 0;
    memset(ns, 0, sizeof ns);
    memset(nd, 0, sizeof nd);
    for (size_t i = 0; i < nservers && k < OASIS_IPV6_MAX_DNS_SERVERS; i++)
        if (oasis_in6_is_peer_unicast(&servers[i])) {
            ns[k].addr = servers[i];
            ns[k++].expires = UINT64_MAX;
        }
    k = 0;
    for (size_t i = 0; i < ndomains && k < OASIS_IPV6_MAX_DNS_DOMAINS; i++) {
        size_t l = strlen(domains[i]);
        if (l == 0 || l > OASIS_IPV6_DNS_NAME_MAX)
            continue;
        memcpy(nd[k].name, domains[i], l + 1);
        nd[k++].expires = UINT64_MAX;
    }
    if (memcmp(ns, v->dhcp6_servers, sizeof ns) == 0 &&
        memcmp(nd, v->dhcp6_domains, sizeof nd) == 0)
        return;
    memcpy(v->dhcp6_servers, ns, sizeof ns);
    memcpy(v->dhcp6_domains, nd, sizeof nd);
    if (v->dns_cb)
        v->dns_cb(s, v->dns_cb_ud);
}

/* ---- API ---- */

static int dhcp6_has_server(const oasis_ipv6 *v, const oasis_in6 *a)
{
    for (int i = 0; i < OASIS_IPV6_MAX_DNS_SERVERS; i++)
        if (v->dhcp6_servers[i].expires && oasis_in6_eq(&v->dhcp6_servers[i].addr, a))
            return 1;
    return 0;
}

static int dhcp6_has_domain(const oasis_ipv6 *v, const char *name)
{
    for (int i = 0; i < OASIS_IPV6_MAX_DNS_DOMAINS; i++)
        if (v->dhcp6_domains[i].expires && name_eq(v->dhcp6_domains[i].name, name))
            return 1;
    return 0;
}

static void put_server(oasis_ipv6_dns_server *out, size_t max, size_t n, const ip6_dns_server *d,
                       uint8_t source)
{
    if (out && n < max) {
        out[n].addr = oasis_ipaddr_v6(d->addr.b);
        out[n].expires_ns = d->expires;
        out[n].source = source;
    }
}

size_t oasis_ipv6_dns_servers(const oasis_stack *s, oasis_ipv6_dns_server *out, size_t max)
{
    if (!oasis_ipv6_enabled(s))
        return 0;
    const oasis_ipv6 *v = s->ip6;
    size_t n = 0;
    for (int i = 0; i < OASIS_IPV6_MAX_DNS_SERVERS; i++)
        if (v->dhcp6_servers[i].expires)
            put_server(out, max, n++, &v->dhcp6_servers[i], OASIS_IPV6_DNS_FROM_DHCP6);
    for (int i = 0; i < OASIS_IPV6_MAX_DNS_SERVERS; i++) {
        const ip6_dns_server *d = &v->dns_servers[i];
        if (d->expires && !dhcp6_has_server(v, &d->addr))
            put_server(out, max, n++, d, OASIS_IPV6_DNS_FROM_RA);
    }
    return n;
}

static void put_domain(oasis_ipv6_dns_domain *out, size_t max, size_t n, const ip6_dns_domain *d,
                       uint8_t source)
{
    if (out && n < max) {
        memcpy(out[n].name, d->name, sizeof out[n].name);
        out[n].expires_ns = d->expires;
        out[n].source = source;
    }
}

size_t oasis_ipv6_dns_domains(const oasis_stack *s, oasis_ipv6_dns_domain *out, size_t max)
{
    if (!oasis_ipv6_enabled(s))
        return 0;
    const oasis_ipv6 *v = s->ip6;
    size_t n = 0;
    for (int i = 0; i < OASIS_IPV6_MAX_DNS_DOMAINS; i++)
        if (v->dhcp6_domains[i].expires)
            put_domain(out, max, n++, &v->dhcp6_domains[i], OASIS_IPV6_DNS_FROM_DHCP6);
    for (int i = 0; i < OASIS_IPV6_MAX_DNS_DOMAINS; i++) {
        const ip6_dns_domain *d = &v->dns_domains[i];
        if (d->expires && !dhcp6_has_domain(v, d->name))
            put_domain(out, max, n++, d, OASIS_IPV6_DNS_FROM_RA);
    }
    return n;
}

void oasis_ipv6_set_dns_cb(oasis_stack *s, oasis_ipv6_dns_cb cb, void *ud)
{
    if (!s || !s->ip6)
        return;
    s->ip6->dns_cb = cb;
    s->ip6->dns_cb_ud = ud;
}
