/* ICMP redirects (RFC 792, RFC 1122 3.2.2.2 and 3.3.1.2): a bounded cache
 * of destinations whose first hop a gateway told us to change.
 *
 * Taken only from the gateway that is the current first hop for the
 * destination, naming a new gateway on our own subnet (3.2.2.2: anything
 * else "SHOULD be silently discarded"), and quoting a datagram we sent.
 * Network redirects (codes 0, 2) are taken as host redirects, as 3.3.1.2
 * recommends: with subnets a network redirect's mask is unknown, and RFC
 * 1812 5.2.7.2 forbids routers to send them anyway.
 *
 * An entry goes when its new gateway stops answering ARP (dead gateway
 * detection, 3.3.1.4: traffic falls back to the default gateway), when
 * our address, prefix or default gateway changes, after REDIRECT_LIFE
 * (Linux ages its redirected routes in the same way), or when the cache is
 * full and a new redirect needs its slot (the oldest goes). Every change
 * bumps the route generation, so cached routes and transmit caches follow. */
#include "core/bytes.h"
#include "core/stack_impl.h"
#include "ip/ipv4.h"
#include "oasis/error.h"

#define REDIRECT_LIFE (600 * OASIS_NS_PER_SEC)

static void changed(oasis_stack *s)
{
    s->ip.rt_ok = 0;
    oasis_ipv4_route_changed(s);
}

static void arm(oasis_stack *s)
{
    uint64_t first = UINT64_MAX;
    for (int i = 0; i < OASIS_IPV4_REDIRECTS; i++)
        if (s->ip.redirects[i].gw && s->ip.redirects[i].expires < first)
            first = s->ip.redirects[i].expires;
    if (first == UINT64_MAX)
        oasis_timer_stop(s, &s->ip.redirect_timer);
    else
        oasis_timer_start(s, &s->ip.redirect_timer, first);
}

static void drop(oasis_stack *s, oasis_ipv4_redirect *r)
{
    r->gw = 0;
    s->ip.redirect_count--;
}

static void expire(oasis_stack *s, oasis_timer *t)
{
    (void)t;
    uint64_t now = oasis_now(s);
    for (int i = 0; i < OASIS_IPV4_REDIRECTS; i++)
        if (s->ip.redirects[i].gw && s->ip.redirects[i].expires <= now)
            drop(s, &s->ip.redirects[i]);
    changed(s);
    arm(s);
}

void oasis_ipv4_redirect_init(oasis_stack *s) { oasis_timer_init(&s->ip.redirect_timer, expire); }

void oasis_ipv4_redirect_fini(oasis_stack *s) { oasis_timer_stop(s, &s->ip.redirect_timer); }

/* dst's entry, or NULL. */
static oasis_ipv4_redirect *find(const oasis_stack *s, uint32_t dst)
{
    for (int i = 0; i < OASIS_IPV4_REDIRECTS; i++)
        if (s->ip.redirects[i].gw && s->ip.redirects[i].dst == dst)
            return (oasis_ipv4_redirect *)&s->ip.redirects[i];
    return NULL;
}

uint32_t oasis_ipv4_redirected(const oasis_stack *s, uint32_t dst)
{
    const oasis_ipv4_redirect *r = find(s, dst);
    return r ? r->gw : 0;
}

void oasis_ipv4_redirects_via_lost(oasis_stack *s, uint32_t gw)
{
    int n = 0;
    for (int i = 0; i < OASIS_IPV4_REDIRECTS && s->ip.redirect_count; i++)
        if (s->ip.redirects[i].gw == gw) {
            drop(s, &s->ip.redirects[i]);
            n++;
        }
    if (n) {
        changed(s);
        arm(s);
    }
}

void oasis_ipv4_redirects_clear(oasis_stack *s)
{
    if (!s->ip.redirect_count)
        return;
    for (int i = 0; i < OASIS_IPV4_REDIRECTS; i++)
        s->ip.redirects[i].gw = 0;
    s->ip.redirect_count = 0;
    changed(s);
    arm(s);
}

/* Is gw a host on our own subnet, other than us (3.2.2.2: "on the same
 * connected (sub-) net through which the Redirect arrived")? */
static int usable_gateway(const oasis_stack *s, uint32_t gw)
{
    return s->addr != 0 && gw != 0 && gw != s->addr && ((gw ^ s->addr) & s->netmask) == 0 &&
           !oasis_ipv4_is_broadcast(s, gw) && (s->netmask >= 0xfffffffeu || (gw & ~s->netmask) != 0);
}

int oasis_ipv4_redirect_input(oasis_stack *s, uint32_t from, uint8_t code, uint32_t gw,
                              const uint8_t *quote, size_t len)
{
    if (!s->cfg.icmp_redirects || code > 3 || len < OASIS_IPV4_HLEN + 8 || (quote[0] >> 4) != 4)
        return 0;
    uint32_t src = oasis_get32(quote + 12), dst = oasis_get32(quote + 16);
    /* The quoted datagram is ours and went to a host off our subnet:
     * its first hop was a gateway, and only that gateway may redirect. */
    if (src != s->addr || oasis_ipv4_unicast_dest(s, dst) != OASIS_OK ||
        oasis_ipv4_is_loopback_dest(s, dst) || ((dst ^ s->addr) & s->netmask) == 0)
        return 0;
    uint32_t hop = oasis_ipv4_route(s, dst);
    if (from != hop || !usable_gateway(s, gw) || gw == hop)
        return 0;
    oasis_ipv4_redirect *r = find(s, dst);
    for (int i = 0; i < OASIS_IPV4_REDIRECTS && !r; i++)
        if (!s->ip.redirects[i].gw)
            r = &s->ip.redirects[i];
    if (!r) { /* full: the oldest makes way */
        r = &s->ip.redirects[0];
        for (int i = 1; i < OASIS_IPV4_REDIRECTS; i++)
            if (s->ip.redirects[i].expires < r->expires)
                r = &s->ip.redirects[i];
        drop(s, r);
    }
    r->dst = dst;
    if (!r->gw)
        s->ip.redirect_count++;
    r->gw = gw;
    r->expires = oasis_deadline(oasis_now(s), REDIRECT_LIFE);
    changed(s);
    arm(s);
    return 1;
}
