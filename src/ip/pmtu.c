/* Path MTU discovery, the IP half (RFC 1191): a bounded per-destination
 * cache of path MTUs lowered by ICMP fragmentation-needed messages, each
 * forgotten after cfg.pmtu_expire_ns (RFC 1191 6.3: "attempt to detect
 * increases ... the timeout should be set to 10 minutes"), on the stack's
 * clock. The transport decides whether a message is genuine (RFC 5927:
 * it quotes one of its connections and a sequence number in flight) before
 * asking for a decrease; increases are ignored (RFC 1191 6.3). */
#include "core/stack_impl.h"
#include "ip/ipv4.h"

#define PMTU_FLOOR 68 /* RFC 1191 3: never below 68 (RFC 791) */

static oasis_pmtu_entry *find(oasis_stack *s, uint32_t dst)
{
    oasis_pmtu_entry *e = s->ip.pmtu;
    uint64_t now = oasis_now(s);
    for (size_t i = 0; i < OASIS_PMTU_ENTRIES; i++) {
        if (e[i].dst != dst || dst == 0)
            continue;
        if (e[i].expires <= now) {
            e[i].dst = 0; /* aged out: the link's MTU again (a raise attempt) */
            s->ctr.ip.pmtu_expired++;
            return NULL;
        }
        return &e[i];
    }
    return NULL;
}

uint32_t oasis_pmtu_get(oasis_stack *s, uint32_t dst)
{
    const oasis_pmtu_entry *e = find(s, dst);
    return e && e->mtu < s->mtu ? e->mtu : s->mtu;
}

uint64_t oasis_pmtu_expires(oasis_stack *s, uint32_t dst)
{
    const oasis_pmtu_entry *e = find(s, dst);
    return e ? e->expires : UINT64_MAX;
}

uint32_t oasis_pmtu_lower(oasis_stack *s, uint32_t dst, uint32_t mtu)
{
    if (mtu < PMTU_FLOOR)
        mtu = PMTU_FLOOR;
    if (dst == 0 || mtu >= oasis_pmtu_get(s, dst))
        return 0;
    oasis_pmtu_entry *e = find(s, dst);
    if (!e) {
        /* A free entry, else the one that ages out first makes way. */
        e = &s->ip.pmtu[0];
        for (size_t i = 0; i < OASIS_PMTU_ENTRIES && e->dst; i++)
            if (!s->ip.pmtu[i].dst || s->ip.pmtu[i].expires < e->expires)
                e = &s->ip.pmtu[i];
        if (e->dst)
            s->ctr.ip.pmtu_evictions++;
        e->dst = dst;
    }
    e->mtu = mtu;
    uint64_t life = s->cfg.pmtu_expire_ns;
    e->expires = life ? oasis_now(s) + life : UINT64_MAX;
    s->ctr.ip.pmtu_lowered++;
    return mtu;
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
