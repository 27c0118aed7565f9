/* Address configuration (RFC 4862): the link-local address, static
 * addresses, SLAAC from advertised prefixes with lifetimes, Duplicate
 * Address Detection on every address; stable interface identifiers (RFC
 * 7217); the application's multicast groups (their MLD is mld.c's).
 *
 * Each address has one timer: while TENTATIVE it paces DAD, afterwards it
 * fires at the next lifetime event (preferred -> deprecated -> removed).
 * A duplicate address is never used; one we formed ourselves (link-local,
 * SLAAC) is formed again with the next DAD_Counter, up to IDGEN_RETRIES
 * times (RFC 7217 6); a static one stays DUPLICATE for the application to
 * see (oasis_ipv6_addrs, the address callback, nd.dad_conflicts).
 */
#include "ipv6/ipv6.h"

#include "core/bytes.h"
#include "core/prng.h"
#include "core/siphash.h"
#include "core/stack_impl.h"
#include "ip/ipv4.h"
#include "ipv6/nd_wire.h"
#include "oasis/error.h"

#include <string.h>

/* RFC 4862 DupAddrDetectTransmits: the stack's, or none on an IP link,
 * which has no link-layer addresses to collide (Linux skips DAD on NOARP
 * devices the same way; oasis/link.h). */
static uint32_t dad_transmits(const oasis_stack *s)
{
    return s->link_ip ? 0 : s->cfg.dad_transmits;
}

static void addr_timer(oasis_stack *s, oasis_timer *t);

static const oasis_in6 LL_PREFIX = {{0xfe, 0x80}};

/* RFC 5453 reserved interface identifiers, which RFC 7217 5 skips. */
static int reserved_iid(const uint8_t *iid)
{
    static const uint8_t zero[8];
    if (memcmp(iid, zero, 8) == 0)
        return 1; /* Subnet-Router anycast */
    static const uint8_t sa[7] = {0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    if (memcmp(iid, sa, 7) == 0 && iid[7] >= 0x80)
        return 1; /* reserved subnet anycast */
    static const uint8_t pm[5] = {0x02, 0x00, 0x5e, 0xff, 0xfe};
    return memcmp(iid, pm, 5) == 0; /* proxy mobile IPv6 and IANA's range */
}

void oasis_addrconf_stable_iid(const oasis_stack *s, const oasis_in6 *prefix, uint8_t counter,
                               oasis_in6 *out)
{
    /* RFC 7217 5: F(Prefix, Net_Iface, Network_ID, DAD_Counter, secret_key)
     * with SipHash-2-4 as F; Net_Iface is the MAC; no Network_ID. */
    uint8_t m[8 + 6 + 1];
    memcpy(m, prefix->b, 8);
    memcpy(m + 8, s->mac, 6);
    for (;; counter++) {
        m[14] = counter;
        uint64_t h = oasis_siphash24(s->ip6->iid_key, m, sizeof m);
        memcpy(out->b, prefix->b, 8);
        for (int i = 0; i < 8; i++)
            out->b[8 + i] = (uint8_t)(h >> (56 - 8 * i));
        if (!reserved_iid(out->b + 8))
            return;
    }
}

static void info_of(const ip6_addr *a, oasis_ipv6_addr_info *i)
{
    i->addr = oasis_ipaddr_v6(a->a.b);
    i->prefix_len = a->plen;
    i->state = a->state;
    i->origin = a->origin;
    i->valid_until_ns = a->valid_until;
    i->preferred_until_ns = a->preferred_until;
}

static void report(oasis_stack *s, const ip6_addr *a, uint8_t state)
{
    oasis_ipv6 *v = s->ip6;
    if (a->origin == OASIS_IPV6_DHCP6 && v->dhcp6.addr)
        v->dhcp6.addr(s, v->dhcp6.ud, &a->a, state);
    if (!v->addr_cb)
        return;
    oasis_ipv6_addr_info i;
    info_of(a, &i);
    i.state = state;
    v->addr_cb(s, &i, v->addr_cb_ud);
}

static ip6_addr *free_slot(oasis_stack *s)
{
    for (int i = 0; i < OASIS_IPV6_MAX_ADDRS; i++)
        if (!s->ip6->addrs[i].state)
            return &s->ip6->addrs[i];
    return NULL;
}

/* An address came, went, or became usable or a duplicate: what goes on
 * link and what loops back may differ (transmit caches; oasis_ipv6_txc). */
static void addrs_changed(oasis_stack *s) { oasis_ipv4_route_changed(s); }

static void start_dad(oasis_stack *s, ip6_addr *a)
{
    a->state = OASIS_IPV6_TENTATIVE;
    addrs_changed(s);
    a->dad_sent = 0;
    oasis_mld_sync(s); /* RFC 4862 5.4.2: join the solicited-node group first */
    /* 5.4.2: a random delay before the first solicitation. */
    oasis_timer_start(s, &a->timer,
                      oasis_now(s) + oasis_prng_below(&s->prng, ND_MAX_RTR_SOLICITATION_DELAY_NS));
}

static void arm_lifetime(oasis_stack *s, ip6_addr *a)
{
    uint64_t next = a->state == OASIS_IPV6_PREFERRED ? a->preferred_until : a->valid_until;
    if (a->valid_until < next)
        next = a->valid_until;
    if (next == UINT64_MAX)
        oasis_timer_stop(s, &a->timer);
    else
        oasis_timer_start(s, &a->timer, next);
}

static void remove_addr(oasis_stack *s, ip6_addr *a)
{
    oasis_timer_stop(s, &a->timer);
    report(s, a, OASIS_IPV6_REMOVED);
    a->state = 0;
    addrs_changed(s);
    oasis_mld_sync(s);
}

static void dad_done(oasis_stack *s, ip6_addr *a)
{
    s->ctr.nd.dad_ok++;
    a->state = oasis_now(s) >= a->preferred_until ? OASIS_IPV6_DEPRECATED : OASIS_IPV6_PREFERRED;
    addrs_changed(s);
    report(s, a, a->state);
    if (!a->state)
        return; /* a DHCPv6 client's application dropped it from the callback */
    if (a->origin == OASIS_IPV6_LINK_LOCAL) {
        oasis_nd_start_rs(s);
        oasis_mld_resend(s); /* reports can now come from the link-local address */
    }
    arm_lifetime(s, a);
}

static void addr_timer(oasis_stack *s, oasis_timer *t)
{
    ip6_addr *a = oasis_container_of(t, ip6_addr, timer);
    uint64_t now = oasis_now(s);
    if (a->state == OASIS_IPV6_TENTATIVE) {
        if (a->dad_sent < dad_transmits(s)) {
            /* RFC 4862 5.4.2: from ::, to the solicited-node group. */
            static const oasis_in6 unspec;
            uint8_t msg[24];
            oasis_in6 sn = oasis_in6_solicited_node(&a->a);
            size_t n = oasis_nd_emit_ns(msg, &a->a, NULL);
            if (oasis_icmp6_send(s, &unspec, &sn, 255, msg, n) == OASIS_OK)
                s->ctr.icmp6.out_neigh_solicits++;
            a->dad_sent++;
            oasis_timer_start(s, &a->timer, now + s->ip6->retrans_ns);
            return;
        }
        dad_done(s, a);
        return;
    }
    if (now >= a->valid_until) {
        remove_addr(s, a);
        return;
    }
    if (a->state == OASIS_IPV6_PREFERRED && now >= a->preferred_until) {
        a->state = OASIS_IPV6_DEPRECATED;
        report(s, a, a->state);
    }
    arm_lifetime(s, a);
}

void oasis_addrconf_dad_conflict(oasis_stack *s, ip6_addr *a)
{
    s->ctr.nd.dad_conflicts++;
    oasis_timer_stop(s, &a->timer);
    a->state = OASIS_IPV6_DUPLICATE;
    addrs_changed(s);
    report(s, a, OASIS_IPV6_DUPLICATE);
    oasis_mld_sync(s);
    /* RFC 7217 6: our own identifiers are formed again with the next
     * DAD_Counter; a static address is the user's to fix, a leased one
     * the DHCPv6 client's (it declines it: RFC 8415 18.2.10.1). */
    if (a->origin != OASIS_IPV6_STATIC && a->origin != OASIS_IPV6_DHCP6 &&
        a->dad_counter < IDGEN_RETRIES) {
        oasis_in6 prefix = a->a;
        a->dad_counter++;
        oasis_addrconf_stable_iid(s, &prefix, a->dad_counter, &a->a);
        start_dad(s, a);
        report(s, a, OASIS_IPV6_TENTATIVE);
    }
}

void oasis_addrconf_init(oasis_stack *s)
{
    oasis_ipv6 *v = s->ip6;
    for (int i = 0; i < OASIS_IPV6_MAX_ADDRS; i++)
        oasis_timer_init(&v->addrs[i].timer, addr_timer);
    oasis_mld_init(s);
}

void oasis_addrconf_start(oasis_stack *s)
{
    oasis_ipv6 *v = s->ip6;
    /* RFC 4862 5.3: the link-local address, fe80::/64 and the interface
     * identifier (RFC 7217 rather than EUI-64: no MAC in the address). */
    ip6_addr *ll = free_slot(s);
    if (ll) {
        memset(ll, 0, offsetof(ip6_addr, timer));
        oasis_addrconf_stable_iid(s, &LL_PREFIX, 0, &ll->a);
        ll->plen = 64;
        ll->origin = OASIS_IPV6_LINK_LOCAL;
        ll->valid_until = ll->preferred_until = UINT64_MAX;
        ll->state = OASIS_IPV6_TENTATIVE;
        addrs_changed(s);
    }
    for (int i = 0; i < OASIS_IPV6_MAX_ADDRS; i++) {
        ip6_addr *a = &v->addrs[i];
        if (a->state != OASIS_IPV6_TENTATIVE)
            continue;
        if (dad_transmits(s) == 0) {
            dad_done(s, a);
            continue;
        }
        start_dad(s, a);
    }
    oasis_mld_sync(s);
}

void oasis_addrconf_fini(oasis_stack *s)
{
    oasis_ipv6 *v = s->ip6;
    for (int i = 0; i < OASIS_IPV6_MAX_ADDRS; i++)
        oasis_timer_stop(s, &v->addrs[i].timer);
    oasis_mld_fini(s);
}

const oasis_in6 *oasis_addrconf_link_local(const oasis_stack *s)
{
    for (int i = 0; i < OASIS_IPV6_MAX_ADDRS; i++) {
        const ip6_addr *a = &s->ip6->addrs[i];
        if (a->origin == OASIS_IPV6_LINK_LOCAL &&
            (a->state == OASIS_IPV6_PREFERRED || a->state == OASIS_IPV6_DEPRECATED))
            return &a->a;
    }
    return NULL;
}

/* ---- DHCPv6 leases ---- */

static ip6_addr *find_dhcp6(oasis_stack *s, const oasis_in6 *a)
{
    for (int i = 0; i < OASIS_IPV6_MAX_ADDRS; i++) {
        ip6_addr *x = &s->ip6->addrs[i];
        if (x->state && x->origin == OASIS_IPV6_DHCP6 && oasis_in6_eq(&x->a, a))
            return x;
    }
    return NULL;
}

int oasis_addrconf_dhcp6_add(oasis_stack *s, const oasis_in6 *addr, uint64_t valid_until,
                             uint64_t preferred_until)
{
    ip6_addr *a = oasis_ipv6_find_addr(s, addr);
    if (a) {
        /* Leased before (a client stopped without release): the new lease
         * takes it over, its state as it is. */
        if (a->origin != OASIS_IPV6_DHCP6 || a->state == OASIS_IPV6_DUPLICATE)
            return OASIS_EADDRINUSE;
        a->valid_until = valid_until;
        a->preferred_until = preferred_until;
        if (a->state != OASIS_IPV6_TENTATIVE) {
            arm_lifetime(s, a);
            report(s, a, a->state);
        }
        return OASIS_OK;
    }
    a = free_slot(s);
    if (!a)
        return OASIS_ENOMEM;
    memset(a, 0, offsetof(ip6_addr, timer));
    a->a = *addr;
    a->plen = 128; /* RFC 8415 6.3: the lease says nothing of the prefix */
    a->origin = OASIS_IPV6_DHCP6;
    a->valid_until = valid_until;
    a->preferred_until = preferred_until;
    a->state = OASIS_IPV6_TENTATIVE;
    addrs_changed(s);
    if (dad_transmits(s) == 0 && s->ip6->started) {
        dad_done(s, a);
    } else if (s->ip6->started) {
        start_dad(s, a);
        report(s, a, OASIS_IPV6_TENTATIVE);
    }
    return OASIS_OK;
}

void oasis_addrconf_dhcp6_update(oasis_stack *s, const oasis_in6 *addr, uint64_t valid_until,
                                 uint64_t preferred_until)
{
    ip6_addr *a = find_dhcp6(s, addr);
    if (!a || a->state == OASIS_IPV6_DUPLICATE)
        return;
    a->valid_until = valid_until;
    a->preferred_until = preferred_until;
    uint64_t now = oasis_now(s);
    if (a->state == OASIS_IPV6_DEPRECATED && now < preferred_until) {
        a->state = OASIS_IPV6_PREFERRED;
        report(s, a, a->state);
    }
    if (a->state != OASIS_IPV6_TENTATIVE)
        arm_lifetime(s, a);
}

void oasis_addrconf_dhcp6_remove(oasis_stack *s, const oasis_in6 *addr)
{
    ip6_addr *a = find_dhcp6(s, addr);
    if (!a)
        return;
    if (a->state == OASIS_IPV6_DUPLICATE) { /* already out of the groups */
        oasis_timer_stop(s, &a->timer);
        a->state = 0;
        addrs_changed(s);
        return;
    }
    remove_addr(s, a);
}

/* RFC 4862 5.5.3 (d), (e). */
void oasis_addrconf_prefix(oasis_stack *s, const oasis_nd_prefix *p)
{
    oasis_ipv6 *v = s->ip6;
    uint64_t now = oasis_now(s);
    /* (b), (c); and the prefix plus our 64-bit identifier must make 128.
     * A multicast prefix would make our unicast address a group's. */
    if (oasis_in6_is_link_local(&p->prefix) || oasis_in6_is_multicast(&p->prefix) ||
        p->preferred_s > p->valid_s || p->plen != 64)
        return;
    ip6_addr *a = NULL;
    for (int i = 0; i < OASIS_IPV6_MAX_ADDRS; i++) {
        ip6_addr *x = &v->addrs[i];
        if (x->state && x->origin == OASIS_IPV6_SLAAC && oasis_in6_prefix_eq(&x->a, &p->prefix, 64))
            a = x;
    }
    uint64_t valid = p->valid_s == 0xffffffffu ? UINT64_MAX : now + (uint64_t)p->valid_s * 1000000000ull;
    uint64_t pref = p->preferred_s == 0xffffffffu ? UINT64_MAX
                                                  : now + (uint64_t)p->preferred_s * 1000000000ull;
    if (!a) {
        if (p->valid_s == 0 || !v->started)
            return;
        a = free_slot(s);
        if (!a)
            return;
        memset(a, 0, offsetof(ip6_addr, timer));
        oasis_addrconf_stable_iid(s, &p->prefix, 0, &a->a);
        a->plen = 64;
        a->origin = OASIS_IPV6_SLAAC;
        a->valid_until = valid;
        a->preferred_until = pref;
        s->ctr.nd.slaac_addrs++;
        if (dad_transmits(s) == 0) {
            a->state = OASIS_IPV6_TENTATIVE;
            addrs_changed(s);
            dad_done(s, a);
        } else {
            start_dad(s, a);
            report(s, a, OASIS_IPV6_TENTATIVE);
        }
        return;
    }
    if (a->state == OASIS_IPV6_DUPLICATE)
        return;
    /* (e): the preferred lifetime as advertised; the valid lifetime only
     * when longer than two hours or the time left (so a forged RA cannot
     * make an address die at once), else two hours unless less is left. */
    a->preferred_until = pref;
    uint64_t left = a->valid_until == UINT64_MAX ? UINT64_MAX : a->valid_until - now;
    if (valid == UINT64_MAX || (uint64_t)p->valid_s * 1000000000ull > ND_TWO_HOURS_NS ||
        valid > a->valid_until)
        a->valid_until = valid;
    else if (left > ND_TWO_HOURS_NS)
        a->valid_until = now + ND_TWO_HOURS_NS;
    if (a->state == OASIS_IPV6_DEPRECATED && now < a->preferred_until) {
        a->state = OASIS_IPV6_PREFERRED;
        report(s, a, a->state);
    } else if (a->state == OASIS_IPV6_PREFERRED && now >= a->preferred_until) {
        a->state = OASIS_IPV6_DEPRECATED;
        report(s, a, a->state);
    }
    if (a->state != OASIS_IPV6_TENTATIVE)
        arm_lifetime(s, a);
}

/* ---- the application's groups ---- */

int oasis_ipv6_app_member(const oasis_stack *s, const oasis_in6 *g)
{
    for (int i = 0; i < OASIS_IPV6_APP_GROUPS; i++)
        if (s->ip6->app_groups[i].refs && oasis_in6_eq(&s->ip6->app_groups[i].g, g))
            return 1;
    return 0;
}

/* The group of an API address: IPv6 on, multicast, scope 2 or wider
 * (RFC 4291 2.7: 0 is reserved, 1 interface-local). */
static int app_group_of(const oasis_stack *s, const oasis_ipaddr *a, oasis_in6 *g)
{
    if (!s || !a || !s->ip6 || !s->ip6->on || a->family != OASIS_AF_INET6)
        return OASIS_EINVAL;
    memcpy(g->b, a->b, 16);
    if (!oasis_in6_is_multicast(g) || (g->b[1] & 0x0f) <= 1)
        return OASIS_EINVAL;
    return OASIS_OK;
}

static ip6_group *app_group_find(oasis_ipv6 *v, const oasis_in6 *g)
{
    for (int i = 0; i < OASIS_IPV6_APP_GROUPS; i++)
        if (v->app_groups[i].refs && oasis_in6_eq(&v->app_groups[i].g, g))
            return &v->app_groups[i];
    return NULL;
}

int oasis_ipv6_join(oasis_stack *s, const oasis_ipaddr *group)
{
    oasis_in6 g;
    int err = app_group_of(s, group, &g);
    if (err)
        return err;
    oasis_ipv6 *v = s->ip6;
    ip6_group *e = app_group_find(v, &g);
    if (e) {
        e->refs++;
        return OASIS_OK;
    }
    for (int i = 0; i < OASIS_IPV6_APP_GROUPS && !e; i++)
        if (!v->app_groups[i].refs)
            e = &v->app_groups[i];
    if (!e)
        return OASIS_ENOMEM;
    /* A state-change report (twice, RFC 3810 6.1), unless the group was
     * already reported for an address of ours. */
    e->g = g;
    e->refs = 1;
    oasis_mld_sync(s);
    return OASIS_OK;
}

int oasis_ipv6_leave(oasis_stack *s, const oasis_ipaddr *group)
{
    oasis_in6 g;
    int err = app_group_of(s, group, &g);
    if (err)
        return err;
    ip6_group *e = app_group_find(s->ip6, &g);
    if (!e)
        return OASIS_ENOENT;
    if (--e->refs == 0)
        oasis_mld_sync(s);
    return OASIS_OK;
}

/* ---- public API ---- */

int oasis_ipv6_add_addr(oasis_stack *s, const oasis_ipaddr *addr, uint8_t prefix_len)
{
    if (!s || !addr || !s->ip6 || !s->ip6->on || addr->family != OASIS_AF_INET6 ||
        prefix_len > 128)
        return OASIS_EINVAL;
    oasis_in6 a;
    memcpy(a.b, addr->b, 16);
    /* Never a source: ::, multicast, ::1 off the loopback (RFC 4291 2.5.2,
     * 2.7, 2.5.3), and IPv4-mapped (RFC 6890 2.2.3: neither source nor
     * destination on the wire; oasis_ipaddr's form of IPv4). */
    if (oasis_in6_is_unspecified(&a) || oasis_in6_is_multicast(&a) || oasis_in6_is_loopback(&a) ||
        oasis_in6_is_v4mapped(&a))
        return OASIS_EINVAL;
    if (oasis_ipv6_find_addr(s, &a))
        return OASIS_EADDRINUSE;
    ip6_addr *x = free_slot(s);
    if (!x)
        return OASIS_ENOMEM;
    memset(x, 0, offsetof(ip6_addr, timer));
    x->a = a;
    x->plen = prefix_len;
    x->origin = OASIS_IPV6_STATIC;
    x->valid_until = x->preferred_until = UINT64_MAX;
    x->state = OASIS_IPV6_TENTATIVE;
    addrs_changed(s);
    if (s->ip6->started) {
        if (dad_transmits(s) == 0)
            dad_done(s, x);
        else
            start_dad(s, x);
    }
    return OASIS_OK;
}

size_t oasis_ipv6_addrs(const oasis_stack *s, oasis_ipv6_addr_info *out, size_t max)
{
    size_t n = 0;
    if (!s || !s->ip6)
        return 0;
    for (int i = 0; i < OASIS_IPV6_MAX_ADDRS; i++) {
        const ip6_addr *a = &s->ip6->addrs[i];
        if (!a->state)
            continue;
        if (out && n < max)
            info_of(a, &out[n]);
        n++;
    }
    return n;
}

void oasis_ipv6_set_addr_cb(oasis_stack *s, oasis_ipv6_addr_cb cb, void *ud)
{
    if (!s || !s->ip6)
        return;
    s->ip6->addr_cb = cb;
    s->ip6->addr_cb_ud = ud;
}
