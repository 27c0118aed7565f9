/* Path MTU discovery, the IP half (RFC 1191): a bounded per-destination
 * cache of path MTUs lowered by ICMP fragmentation-needed messages, each
 * forgotten after cfg.pmtu_expire_ns (RFC 1191 6.3: "attempt to detect
 * increases ... the timeout should be set to 10 minutes"), on the stack's
 * clock. The transport decides whether a message is genuine (RFC 5927:
 * it quotes one of its connections and a sequence number in flight) before
 * asking for a decrease; increases are ignored (RFC 1191 6.3). */
#include <string.h>

#include "core/stack_impl.h"
#include "ip/ipv4.h"
#include "ipv6/ipv6.h"

#define PMTU_FLOOR 68     /* RFC 1191 3: never below 68 (RFC 791) */
#define PMTU_FLOOR6 1280  /* RFC 8200 5: every IPv6 link carries 1280 */

static int same(const oasis_ipaddr *a, const oasis_ipaddr *b)
{
    return a->family == b->family && memcmp(a->b, b->b, 16) == 0;
}

/* The family's link MTU (IPv6: lowered by an RA's MTU option). */
static uint32_t link_mtu(const oasis_stack *s, const oasis_ipaddr *dst)
{
    return dst->family == OASIS_AF_INET6 ? oasis_ipv6_link_mtu(s) : s->mtu;
}

static oasis_pmtu_entry *find(oasis_stack *s, const oasis_ipaddr *dst)
{
    oasis_pmtu_entry *e = s->ip.pmtu;
    if (!dst->family || !s->ip.pmtu_any)
        return NULL; /* nothing learned yet: every new flow asks (no scan) */
    uint64_t now = oasis_now(s);
    for (size_t i = 0; i < OASIS_PMTU_ENTRIES; i++) {
        if (!same(&e[i].dst, dst))
            continue;
        if (e[i].expires <= now) {
            e[i].dst.family = 0; /* aged out: the link's MTU again (a raise attempt) */
            s->ctr.ip.pmtu_expired++;
            oasis_ipv4_route_changed(s); /* DF again (transmit caches) */
            return NULL;
        }
        return &e[i];
    }
    return NULL;
}

uint32_t oasis_pmtu_get(oasis_stack *s, const oasis_ipaddr *dst)
{
    const oasis_pmtu_entry *e = find(s, dst);
    uint32_t link = link_mtu(s, dst);
    return e && e->mtu < link ? e->mtu : link;
}

uint64_t oasis_pmtu_expires(oasis_stack *s, const oasis_ipaddr *dst)
{
    const oasis_pmtu_entry *e = find(s, dst);
    return e ? e->expires : UINT64_MAX;
}

uint32_t oasis_pmtu_lower(oasis_stack *s, const oasis_ipaddr *dst, uint32_t mtu)
{
    if (dst->family == OASIS_AF_INET6) {
        /* RFC 8201 4: "If a node receives a Packet Too Big message
         * reporting a next-hop MTU that is less than the IPv6 minimum link
         * MTU, it must discard it." */
        if (mtu < PMTU_FLOOR6) {
            s->ctr.ip.pmtu_below_min++;
            return 0;
        }
    } else if (mtu < PMTU_FLOOR) {
        mtu = PMTU_FLOOR;
    }
    if (!dst->family || mtu >= oasis_pmtu_get(s, dst))
        return 0;
    oasis_pmtu_entry *e = find(s, dst);
    if (!e) {
        /* A free entry, else the one that ages out first makes way. */
        e = &s->ip.pmtu[0];
        for (size_t i = 0; i < OASIS_PMTU_ENTRIES && e->dst.family; i++)
            if (!s->ip.pmtu[i].dst.family || s->ip.pmtu[i].expires < e->expires)
                e = &s->ip.pmtu[i];
        if (e->dst.family)
            s->ctr.ip.pmtu_evictions++;
        e->dst = *dst;
        s->ip.pmtu_any = 1;
    }
    e->mtu = mtu;
    oasis_ipv4_route_changed(s); /* (DF: transmit caches) */
    uint64_t life = s->cfg.pmtu_expire_ns;
    e->expires = life ? oasis_deadline(oasis_now(s), life) : UINT64_MAX;
    s->ctr.ip.pmtu_lowered++;
    return mtu;
}

int oasis_ipv4_df_ok(oasis_stack *s, uint32_t dst)
{
    if (!s->ip.pmtu_any)
        return 1; /* nothing learned: no scan */
    oasis_ipaddr a = oasis_ipaddr_v4(dst);
    return oasis_pmtu_get(s, &a) >= OASIS_IPV4_MIN_PMTU;
}

uint32_t oasis_pmtu_plateau(uint32_t total_len)
{
    /* RFC 1191 7, table 7-1's plateaus. */
    static const uint32_t plateau[] = {32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68};
    for (size_t i = 0; i < sizeof plateau / sizeof plateau[0]; i++)
        if (plateau[i] < total_len)
            return plateau[i];
    return PMTU_FLOOR;
}
