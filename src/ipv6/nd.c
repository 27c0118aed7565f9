/* Neighbour Discovery for a host (RFC 4861): the neighbour cache with its
 * five states on the stack's clock, address resolution with a bounded
 * queue of waiting packets, NS/NA, router solicitation and advertisement
 * processing (default routers, on-link prefixes, MTU, hop limit, timers).
 *
 * The cache is an array of cfg.nd_cache_size entries with an index
 * (hash chains keyed by a secret, a free list, and two lists in order of
 * use: INCOMPLETE entries, resolved ones), so every lookup and eviction
 * costs the same at 4096 entries as at 4. When it is full, INCOMPLETE
 * entries beyond half the cache go first (oldest use first), then the
 * least recently used entry that is no default router (alloc_entry). An
 * entry learnt from a message nobody asked for only takes the slot of an
 * entry not in active use (ND_IN_USE_NS), so a flood of forged sources
 * cannot push out the neighbours we talk to; with none, the new neighbour
 * is not cached (counted).
 * Each entry has its own timer: INCOMPLETE and PROBE retransmit, REACHABLE
 * ages to STALE, DELAY turns into PROBE. Redirects (RFC 4861 8) fill a
 * small destination cache consulted before the default router; it holds
 * OASIS_IPV6_MAX_REDIRECTS entries, replaced round robin, and forgets a
 * destination whose first hop stops being a router we use.
 */
#include "ipv6/ipv6.h"

#include "core/mem.h"
#include "core/prng.h"
#include "core/siphash.h"
#include "core/stack_impl.h"
#include "ip/unreach.h"
#include "ip/ipv4.h"
#include "ipv6/nd_wire.h"
#include "link/eth.h"
#include "link/eth_wire.h"
#include "link/ip_link.h"
#include "oasis/error.h"

#include <string.h>

static void neigh_timer(oasis_stack *s, oasis_timer *t);
static void lists_timer(oasis_stack *s, oasis_timer *t);
static void rs_timer(oasis_stack *s, oasis_timer *t);

static void new_reachable_time(oasis_ipv6 *v, oasis_stack *s)
{
    /* RFC 4861 6.3.2: uniformly random in [0.5, 1.5] x BaseReachableTime. */
    v->reachable_ns = v->base_reachable_ns / 2 + oasis_prng_below(&s->prng, v->base_reachable_ns + 1);
    v->reachable_drawn = oasis_now(s);
}

/* Something a transmit cache took from the neighbour cache may have
 * changed (oasis_ipv6_txc): an entry came or went, was resolved or became
 * INCOMPLETE (which also moves the default router, 6.3.6), or changed its
 * link-layer address. Moves among REACHABLE, STALE, DELAY and PROBE do
 * not: a confirmation (REACHABLE again) comes with many segments in, and
 * a cache's send reads the state itself. */
static void nd_changed(oasis_ipv6 *v)
{
    if (++v->nd_gen == 0)
        v->nd_gen = 1;
}

int oasis_nd_init(oasis_stack *s)
{
    oasis_ipv6 *v = s->ip6;
    uint32_t n = s->cfg.nd_cache_size ? s->cfg.nd_cache_size : 256;
    uint32_t chains = 16;
    while (chains < n)
        chains <<= 1;
    v->neigh = oasis_calloc(s, n, sizeof *v->neigh);
    v->nd_chain = oasis_calloc(s, chains, sizeof *v->nd_chain);
    if (!v->neigh || !v->nd_chain) {
        oasis_free(s, v->neigh);
        oasis_free(s, v->nd_chain);
        v->neigh = NULL;
        v->nd_chain = NULL;
        return OASIS_ENOMEM;
    }
    v->nneigh = n;
    v->nd_chains = chains;
    v->nd_gen = 1;
    for (uint32_t i = n; i-- > 0;) {
        oasis_timer_init(&v->neigh[i].timer, neigh_timer);
        v->neigh[i].hnext = v->nd_free;
        v->nd_free = &v->neigh[i];
    }
    oasis_timer_init(&v->lists_timer, lists_timer);
    oasis_timer_init(&v->rs_timer, rs_timer);
    new_reachable_time(v, s);
    return OASIS_OK;
}

static void drop_queue(oasis_stack *s, ip6_neigh *e)
{
    while (e->q_head) {
        oasis_pbuf *p = e->q_head;
        e->q_head = p->next;
        oasis_pbuf_free(s, p);
        s->ip6->queued--;
    }
    e->q_tail = NULL;
    e->qlen = 0;
}

/* Takes e's queue away from it: the packets in order, linked by next,
 * still counted in s->ip6->queued. */
static oasis_pbuf *take_queue(ip6_neigh *e)
{
    oasis_pbuf *p = e->q_head;
    e->q_head = e->q_tail = NULL;
    e->qlen = 0;
    return p;
}

/* ---- the cache's index ---- */

static ip6_neigh **chain_of(const oasis_ipv6 *v, const oasis_in6 *ip)
{
    uint64_t h = oasis_siphash24(v->nd_key, ip->b, 16);
    return &v->nd_chain[h & (v->nd_chains - 1)];
}

/* The use list of an entry in state st: INCOMPLETE ones, resolved ones. */
static oasis_alist *use_list(oasis_ipv6 *v, uint8_t st)
{
    return &v->nd_use[st == NEIGH_INCOMPLETE ? 0 : 1];
}

static ip6_neigh *of_use(oasis_alink *a) { return a ? oasis_container_of(a, ip6_neigh, use) : NULL; }

/* Puts e in l: as the newest, or (never used) before every used one. */
static void use_link(oasis_alist *l, ip6_neigh *e)
{
    if (e->used)
        oasis_alist_push_newest(l, &e->use);
    else
        oasis_alist_push_oldest(l, &e->use);
}

void oasis_nd_used(oasis_stack *s, ip6_neigh *e)
{
    oasis_alist *l = use_list(s->ip6, e->state);
    e->used = oasis_now(s);
    if (l->newest != &e->use) {
        oasis_alist_remove(l, &e->use);
        oasis_alist_push_newest(l, &e->use);
    }
}

/* e leaves the cache: out of its chain and use list, onto the free list. */
static void neigh_free(oasis_stack *s, ip6_neigh *e)
{
    oasis_ipv6 *v = s->ip6;
    oasis_timer_stop(s, &e->timer);
    drop_queue(s, e);
    s->nd_delay -= e->state == NEIGH_DELAY;
    oasis_alist_remove(use_list(v, e->state), &e->use);
    ip6_neigh **pp = chain_of(v, &e->ip);
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    e->hnext = v->nd_free;
    v->nd_free = e;
    e->state = 0;
    nd_changed(v);
    s->ctr.nd.cache_entries--;
}

void oasis_nd_fini(oasis_stack *s)
{
    oasis_ipv6 *v = s->ip6;
    if (!v || !v->neigh)
        return;
    for (uint32_t i = 0; i < v->nneigh; i++)
        if (v->neigh[i].state)
            neigh_free(s, &v->neigh[i]);
    oasis_timer_stop(s, &v->lists_timer);
    oasis_timer_stop(s, &v->rs_timer);
    oasis_free(s, v->neigh);
    oasis_free(s, v->nd_chain);
    v->neigh = NULL;
    v->nd_chain = NULL;
}

static ip6_neigh *find(const oasis_stack *s, const oasis_in6 *ip)
{
    const oasis_ipv6 *v = s->ip6;
    for (ip6_neigh *e = *chain_of(v, ip); e; e = e->hnext)
        if (oasis_in6_eq(&e->ip, ip))
            return e;
    return NULL;
}

const ip6_neigh *oasis_nd_lookup(const oasis_stack *s, const oasis_in6 *ip) { return find(s, ip); }

static int is_default_router(const oasis_ipv6 *v, const oasis_in6 *ip)
{
    for (int i = 0; i < OASIS_IPV6_MAX_ROUTERS; i++)
        if (v->routers[i].expires && oasis_in6_eq(&v->routers[i].ip, ip))
            return 1;
    return 0;
}

/* The least recently used resolved entry that may go for a neighbour we
 * send to: any but our default routers (at most OASIS_IPV6_MAX_ROUTERS
 * passed over). Resolved entries hold no queue (it goes out as they are
 * resolved). */
static ip6_neigh *oldest_resolved(oasis_ipv6 *v)
{
    ip6_neigh *e = of_use(v->nd_use[1].oldest);
    while (e && is_default_router(v, &e->ip))
        e = of_use(e->use.newer);
    return e;
}

/* The same for a neighbour learnt from a message nobody asked for: among
 * the ND_UNSOLICITED_LOOK least recently used, one not in active use. */
static ip6_neigh *idle_resolved(oasis_stack *s)
{
    oasis_ipv6 *v = s->ip6;
    uint64_t now = oasis_now(s);
    ip6_neigh *e = of_use(v->nd_use[1].oldest);
    for (int k = 0; e && k < ND_UNSOLICITED_LOOK; k++, e = of_use(e->use.newer))
        if ((!e->used || now - e->used >= ND_IN_USE_NS) && !is_default_router(v, &e->ip))
            return e;
    return NULL;
}

/* A slot for a new entry for ip, in the index with state 0 (its first
 * set_state puts it on a use list): a free one, else one an entry gives
 * up. For a neighbour we send to (unsolicited 0), INCOMPLETE entries hold
 * at most half the full cache (RFC 6583 7.1: a flood of packets to
 * unresolved on-link addresses must not crowd out the neighbours we talk
 * to). Beyond that share, or when nothing else may go, the least recently
 * used INCOMPLETE entry is evicted with its waiting packets, so a new
 * resolution can always start (what waited fails as on a failed
 * resolution, from the next timer step); below it, the least recently
 * used resolved entry goes (oldest_resolved). A neighbour learnt from a
 * message nobody asked for (unsolicited 1) takes only an idle resolved
 * entry's slot (idle_resolved): RFC 4861 7.2.3 makes creating its entry a
 * SHOULD, and RFC 6583 7.1 puts the neighbours in use first. */
static ip6_neigh *alloc_entry(oasis_stack *s, const oasis_in6 *ip, int unsolicited)
{
    oasis_ipv6 *v = s->ip6;
    ip6_neigh *victim = v->nd_free;
    if (victim) {
        v->nd_free = victim->hnext;
    } else if (unsolicited) {
        victim = idle_resolved(s);
    } else {
        uint32_t cap = v->nneigh / 2 ? v->nneigh / 2 : 1;
        ip6_neigh *inc = of_use(v->nd_use[0].oldest);
        victim = oldest_resolved(v);
        if (inc && (v->nd_use[0].n >= cap || !victim))
            victim = inc;
    }
    if (!victim) {
        s->ctr.nd.cache_no_room++;
        return NULL;
    }
    if (victim->state) {
        s->ctr.nd.cache_evictions++;
        s->ctr.nd.queue_drops += victim->qlen;
        /* Its resolution ends here: what waited for it fails at once
         * (RFC 4861 7.2.2), not at its own timeout, but from the next
         * timer step, since we may be inside a send or an input. Until
         * then it stays counted in v->queued. */
        oasis_pbuf *q = take_queue(victim);
        if (victim->state == NEIGH_INCOMPLETE)
            oasis_icmp6_neighbour_evicted(s, &victim->ip);
        neigh_free(s, victim);
        oasis_ip_unreachable_later(s, q, OASIS_IP_FAMILY_V6);
        v->nd_free = victim->hnext; /* neigh_free put it first */
    }
    memset(victim, 0, offsetof(ip6_neigh, timer));
    victim->q_head = victim->q_tail = NULL;
    victim->qlen = 0;
    victim->ip = *ip;
    victim->used = unsolicited ? 0 : oasis_now(s);
    ip6_neigh **chain = chain_of(v, ip);
    victim->hnext = *chain;
    *chain = victim;
    s->ctr.nd.cache_entries++;
    return victim;
}

int oasis_nd_consistent(const oasis_stack *s)
{
    const oasis_ipv6 *v = s->ip6;
    uint32_t used = 0, free_n = 0, on[2] = {0, 0};
    for (uint32_t i = 0; i < v->nneigh; i++) {
        const ip6_neigh *e = &v->neigh[i];
        if (e->state && find(s, &e->ip) != e)
            return 0;
        used += e->state != 0;
    }
    for (const ip6_neigh *e = v->nd_free; e; e = e->hnext)
        if (e->state || ++free_n > v->nneigh)
            return 0;
    for (int k = 0; k < 2; k++) {
        const oasis_alink *prev = NULL;
        for (const oasis_alink *a = v->nd_use[k].oldest; a; prev = a, a = a->newer) {
            const ip6_neigh *e = oasis_container_of(a, ip6_neigh, use);
            if (!e->state || (e->state == NEIGH_INCOMPLETE) != (k == 0) || a->older != prev ||
                ++on[k] > v->nneigh)
                return 0;
        }
        if (v->nd_use[k].newest != prev || v->nd_use[k].n != on[k])
            return 0;
    }
    return used + free_n == v->nneigh && on[0] + on[1] == used &&
           s->ctr.nd.cache_entries == used;
}

/* ---- sending ND messages ---- */

static void send_ns(oasis_stack *s, const oasis_in6 *target, const oasis_in6 *dst,
                    const oasis_in6 *src)
{
    uint8_t msg[32];
    /* From :: (DAD) there is no source link-layer option (RFC 4861 4.3). */
    size_t n = oasis_nd_emit_ns(msg, target, oasis_in6_is_unspecified(src) ? NULL : s->mac);
    if (oasis_icmp6_send(s, src, dst, 255, msg, n) == OASIS_OK)
        s->ctr.icmp6.out_neigh_solicits++;
}

/* Solicits ip's link-layer address: multicast to its solicited-node group
 * while INCOMPLETE, unicast when probing (RFC 4861 7.2.2, 7.3.3). src: the
 * waiting packet's source when it is ours (7.2.2), else a usable one. */
static void solicit(oasis_stack *s, ip6_neigh *e, int unicast)
{
    oasis_in6 src;
    int have_src = 0;
    if (e->q_head && e->q_head->len >= OASIS_IPV6_HLEN) {
        memcpy(src.b, e->q_head->data + 8, 16); /* the IPv6 source */
        const ip6_addr *a = oasis_ipv6_find_addr(s, &src);
        have_src = a && (a->state == OASIS_IPV6_PREFERRED || a->state == OASIS_IPV6_DEPRECATED);
    }
    if (!have_src && oasis_ipv6_select_src(s, &e->ip, &src) != 0)
        return;
    if (unicast) {
        send_ns(s, &e->ip, &e->ip, &src);
    } else {
        oasis_in6 sn = oasis_in6_solicited_node(&e->ip);
        send_ns(s, &e->ip, &sn, &src);
    }
}

static void send_na(oasis_stack *s, const oasis_in6 *target, const oasis_in6 *dst, int solicited)
{
    uint8_t msg[32];
    /* Override set: the target is our own address, never an anycast one. */
    uint8_t flags = (uint8_t)(OASIS_ND_NA_OVERRIDE | (solicited ? OASIS_ND_NA_SOLICITED : 0));
    size_t n = oasis_nd_emit_na(msg, target, flags, s->mac);
    if (oasis_icmp6_send(s, target, dst, 255, msg, n) == OASIS_OK)
        s->ctr.icmp6.out_neigh_adverts++;
}

/* ---- the state machine ---- */

/* An entry with a link-layer address a packet can go to. */
static int resolved(uint8_t st) { return st >= NEIGH_REACHABLE && st <= NEIGH_PROBE; }

static void set_state(oasis_stack *s, ip6_neigh *e, neigh_state st)
{
    oasis_ipv6 *v = s->ip6;
    uint64_t now = oasis_now(s);
    if (e->state == NEIGH_DELAY)
        s->nd_delay--;
    if (st == NEIGH_DELAY)
        s->nd_delay++;
    if (!resolved(e->state) || !resolved((uint8_t)st))
        nd_changed(v);
    oasis_alist *from = e->state ? use_list(v, e->state) : NULL, *to = use_list(v, (uint8_t)st);
    if (from != to) { /* (from NULL: a new entry, alloc_entry's) */
        if (from)
            oasis_alist_remove(from, &e->use);
        use_link(to, e);
    }
    e->state = (uint8_t)st;
    switch (st) {
    case NEIGH_INCOMPLETE:
    case NEIGH_PROBE:
        e->probes = 0;
        oasis_timer_start(s, &e->timer, now); /* first solicitation now */
        break;
    case NEIGH_REACHABLE:
        /* 6.3.4: a new random value at least every few hours, even when
         * no RA changes BaseReachableTime. */
        if (now - v->reachable_drawn >= ND_REACHABLE_REDRAW_NS)
            new_reachable_time(v, s);
        oasis_timer_start(s, &e->timer, now + v->reachable_ns);
        break;
    case NEIGH_DELAY:
        oasis_timer_start(s, &e->timer, now + ND_DELAY_FIRST_PROBE_NS);
        break;
    case NEIGH_STALE:
        oasis_timer_stop(s, &e->timer);
        break;
    }
}

/* Sends the packets that waited for e's address. They are packets sent
 * to the entry like any other: to a STALE one (an unsolicited NA, an NS
 * or RA with our neighbour's address) the first of them starts DELAY, so
 * NUD verifies the address it was told (RFC 4861 7.3.3). */
static void flush_queue(oasis_stack *s, ip6_neigh *e)
{
    if (e->q_head && e->state == NEIGH_STALE)
        set_state(s, e, NEIGH_DELAY);
    while (e->q_head) {
        oasis_pbuf *p = e->q_head;
        e->q_head = p->next;
        p->next = NULL;
        e->qlen--;
        s->ip6->queued--;
        oasis_eth_output(s, p, e->mac, OASIS_ETHERTYPE_IPV6);
    }
    e->q_tail = NULL;
}

/* RFC 4861 7.2.2: "The sender MUST return ICMP destination unreachable
 * indications with code 3 (Address Unreachable) for each packet queued
 * awaiting address resolution." They are all ours, so their senders are
 * told directly: transports through their ICMP error hooks, pings by
 * their own bookkeeping. The queue is detached and the entry freed first:
 * a sender told may send again, which starts a new resolution. */
static void resolve_failed(oasis_stack *s, ip6_neigh *e)
{
    oasis_in6 ip = e->ip;
    s->ctr.nd.resolve_failed++;
    s->ctr.nd.queue_drops += e->qlen;
    s->ip6->queued -= e->qlen;
    oasis_pbuf *p = take_queue(e);
    neigh_free(s, e);
    oasis_ip_unreachable_chain(s, p);
    oasis_icmp6_neighbour_failed(s, &ip);
}

static void neigh_timer(oasis_stack *s, oasis_timer *t)
{
    ip6_neigh *e = oasis_container_of(t, ip6_neigh, timer);
    oasis_ipv6 *v = s->ip6;
    uint64_t now = oasis_now(s);
    switch (e->state) {
    case NEIGH_INCOMPLETE:
        if (e->probes >= ND_MAX_MULTICAST_SOLICIT) {
            resolve_failed(s, e);
            return;
        }
        e->probes++;
        solicit(s, e, 0);
        /* From now, not from when the timer was due (unlike ARP's backoff,
         * arp.c next_retry): the interval is RetransTimer throughout, and
         * 7.2.2 says "Retransmissions MUST be rate-limited to at most one
         * solicitation per neighbor every RetransTimer milliseconds", so a
         * late poll must shift the solicitations after it. */
        oasis_timer_start(s, &e->timer, now + v->retrans_ns);
        break;
    case NEIGH_REACHABLE:
        set_state(s, e, NEIGH_STALE);
        break;
    case NEIGH_DELAY:
        set_state(s, e, NEIGH_PROBE);
        break;
    case NEIGH_PROBE:
        if (e->probes >= ND_MAX_UNICAST_SOLICIT) {
            /* 7.3.3: the entry is deleted; the next packet starts over. */
            s->ctr.nd.resolve_failed++;
            neigh_free(s, e);
            return;
        }
        e->probes++;
        solicit(s, e, 1);
        oasis_timer_start(s, &e->timer, now + v->retrans_ns);
        break;
    default:
        break;
    }
}

int oasis_nd_output(oasis_stack *s, oasis_pbuf *p, const oasis_in6 *next_hop)
{
    if (s->link_ip) /* nothing to resolve: the link's one other end */
        return oasis_eth_output(s, p, oasis_ip_link_far_end, OASIS_ETHERTYPE_IPV6);
    oasis_ipv6 *v = s->ip6;
    ip6_neigh *e = find(s, next_hop);
    if (!e && v->nd_reply_mac && oasis_in6_eq(next_hop, &v->nd_reply_ip))
        return oasis_eth_output(s, p, v->nd_reply_mac, OASIS_ETHERTYPE_IPV6);
    if (!e) {
        e = alloc_entry(s, next_hop, 0);
        if (!e) {
            s->ctr.nd.queue_drops++;
            oasis_pbuf_free(s, p);
            return OASIS_ENOMEM;
        }
        set_state(s, e, NEIGH_INCOMPLETE);
    } else {
        oasis_nd_used(s, e);
    }
    if (e->state == NEIGH_INCOMPLETE) {
        /* 7.2.2: each neighbour's queue "MUST hold at least one packet
         * ... When a queue overflows, the new arrival SHOULD replace the
         * oldest entry." Past cfg.nd_queue_len for the stack, a neighbour
         * that holds packets gives up its oldest for the new one; one that
         * holds none still takes its first, within a reserve of half the
         * cache (the most INCOMPLETE entries a full cache keeps), so the
         * stack's bound stays nd_queue_len + nd_cache_size / 2. */
        if (v->queued >= s->cfg.nd_queue_len) {
            if (e->q_head) {
                oasis_pbuf *old = e->q_head;
                e->q_head = old->next;
                if (!e->q_head)
                    e->q_tail = NULL;
                e->qlen--;
                v->queued--;
                oasis_pbuf_free(s, old);
                s->ctr.nd.queue_drops++;
            } else if (v->queued >= (uint64_t)s->cfg.nd_queue_len + v->nneigh / 2) {
                s->ctr.nd.queue_drops++;
                oasis_pbuf_free(s, p);
                return OASIS_OK; /* as a lost packet: the sender retransmits */
            }
        }
        p->next = NULL;
        if (e->q_tail)
            e->q_tail->next = p;
        else
            e->q_head = p;
        e->q_tail = p;
        e->qlen++;
        v->queued++;
        if (!oasis_timer_active(&e->timer))
            set_state(s, e, NEIGH_INCOMPLETE);
        return OASIS_OK;
    }
    /* 7.3.3: sending to a STALE neighbour starts the DELAY timer. */
    if (e->state == NEIGH_STALE)
        set_state(s, e, NEIGH_DELAY);
    return oasis_eth_output(s, p, e->mac, OASIS_ETHERTYPE_IPV6);
}

ip6_neigh *oasis_nd_resolved(oasis_stack *s, const oasis_in6 *ip)
{
    ip6_neigh *e = find(s, ip);
    return e && e->state != NEIGH_INCOMPLETE ? e : NULL;
}

void oasis_nd_sent_stale(oasis_stack *s, ip6_neigh *e)
{
    set_state(s, e, NEIGH_DELAY); /* 7.3.3, as oasis_nd_output */
}

/* The complete entry of the neighbour dst's packets go through (the
 * router for an off-link destination, RFC 4861 7.3.1), or NULL. */
static ip6_neigh *hop_entry(oasis_stack *s, const oasis_ipaddr *dst)
{
    oasis_in6 d, hop;
    if (!oasis_ipv6_enabled(s) || !dst || dst->family != OASIS_AF_INET6)
        return NULL;
    memcpy(d.b, dst->b, 16);
    if (oasis_nd_next_hop(s, &d, &hop) != OASIS_OK)
        return NULL;
    ip6_neigh *e = find(s, &hop);
    return e && e->state != NEIGH_INCOMPLETE ? e : NULL;
}

void oasis_ipv6_confirm_reachable(oasis_stack *s, const oasis_ipaddr *dst)
{
    ip6_neigh *e = hop_entry(s, dst);
    if (e)
        set_state(s, e, NEIGH_REACHABLE);
}

/* RFC 9293 3.8.3 (b): TCP's negative advice, "to trigger dead-gateway
 * diagnosis", which NUD is for IPv6. The upper layer says its packets
 * no longer get through, so the neighbour is probed at once (7.3.3's
 * PROBE; DELAY only waits for an upper-layer confirmation, and none is
 * coming): an answer keeps the entry, MAX_UNICAST_SOLICIT unanswered
 * solicitations delete it. As oasis_arp_reverify over IPv4. */
void oasis_ipv6_negative_advice(oasis_stack *s, const oasis_ipaddr *dst)
{
    ip6_neigh *e = hop_entry(s, dst);
    if (e && e->state != NEIGH_PROBE)
        set_state(s, e, NEIGH_PROBE);
}

/* RFC 4861 7.2.3 / 6.3.4 / 7.2.4: a link-layer address heard in an NS,
 * RS, RA or redirect from ip: create the entry STALE, or move it to STALE
 * when the address changed. */
static ip6_neigh *learn(oasis_stack *s, const oasis_in6 *ip, const uint8_t *mac)
{
    ip6_neigh *e = find(s, ip);
    if (!e) {
        e = alloc_entry(s, ip, 1);
        if (!e)
            return NULL;
        memcpy(e->mac, mac, 6);
        set_state(s, e, NEIGH_STALE);
        return e;
    }
    if (e->state == NEIGH_INCOMPLETE) {
        memcpy(e->mac, mac, 6);
        set_state(s, e, NEIGH_STALE);
        flush_queue(s, e);
    } else if (memcmp(e->mac, mac, 6) != 0) {
        memcpy(e->mac, mac, 6);
        nd_changed(s->ip6);
        set_state(s, e, NEIGH_STALE);
    }
    return e;
}

/* ---- routers and prefixes ---- */

static void arm_lists(oasis_stack *s)
{
    oasis_ipv6 *v = s->ip6;
    uint64_t next = UINT64_MAX;
    for (int i = 0; i < OASIS_IPV6_MAX_ROUTERS; i++)
        if (v->routers[i].expires && v->routers[i].expires < next)
            next = v->routers[i].expires;
    for (int i = 0; i < OASIS_IPV6_MAX_PREFIXES; i++)
        if (v->prefixes[i].expires && v->prefixes[i].expires < next)
            next = v->prefixes[i].expires;
    if (next == UINT64_MAX)
        oasis_timer_stop(s, &v->lists_timer);
    else
        oasis_timer_start(s, &v->lists_timer, next);
}

static void count_lists(oasis_stack *s)
{
    oasis_ipv6 *v = s->ip6;
    uint64_t r = 0, p = 0;
    for (int i = 0; i < OASIS_IPV6_MAX_ROUTERS; i++)
        r += v->routers[i].expires != 0;
    for (int i = 0; i < OASIS_IPV6_MAX_PREFIXES; i++)
        p += v->prefixes[i].expires != 0;
    s->ctr.nd.routers = r;
    s->ctr.nd.prefixes = p;
}

/* 6.3.5: destinations redirected through a router that leaves the
 * default router list determine their next hop again. */
static void forget_redirects_via(oasis_ipv6 *v, const oasis_in6 *router)
{
    for (int i = 0; i < OASIS_IPV6_MAX_REDIRECTS; i++)
        if (v->redirects[i].used && oasis_in6_eq(&v->redirects[i].hop, router))
            v->redirects[i].used = 0;
}

static void lists_timer(oasis_stack *s, oasis_timer *t)
{
    oasis_ipv6 *v = s->ip6;
    uint64_t now = oasis_now(s);
    (void)t;
    for (int i = 0; i < OASIS_IPV6_MAX_ROUTERS; i++)
        if (v->routers[i].expires && v->routers[i].expires <= now) {
            v->routers[i].expires = 0;
            forget_redirects_via(v, &v->routers[i].ip);
        }
    for (int i = 0; i < OASIS_IPV6_MAX_PREFIXES; i++)
        if (v->prefixes[i].expires && v->prefixes[i].expires <= now)
            v->prefixes[i].expires = 0;
    oasis_ipv4_route_changed(s); /* (transmit caches: both families') */
    count_lists(s);
    arm_lists(s);
}

static uint64_t deadline_s(oasis_stack *s, uint32_t secs)
{
    if (secs == 0xffffffffu)
        return UINT64_MAX;
    return oasis_now(s) + (uint64_t)secs * 1000000000ull;
}

static void router_update(oasis_stack *s, const oasis_in6 *ip, uint16_t lifetime_s)
{
    oasis_ipv6 *v = s->ip6;
    ip6_router *slot = NULL;
    for (int i = 0; i < OASIS_IPV6_MAX_ROUTERS; i++)
        if (v->routers[i].expires && oasis_in6_eq(&v->routers[i].ip, ip))
            slot = &v->routers[i];
    if (lifetime_s == 0) { /* 6.3.4: lifetime 0 removes it */
        if (slot)
            slot->expires = 0;
        forget_redirects_via(v, ip);
    } else {
        for (int i = 0; i < OASIS_IPV6_MAX_ROUTERS && !slot; i++)
            if (!v->routers[i].expires)
                slot = &v->routers[i];
        if (slot) { /* a full list ignores new routers */
            slot->ip = *ip;
            slot->expires = oasis_now(s) + (uint64_t)lifetime_s * 1000000000ull;
        }
    }
    oasis_ipv4_route_changed(s);
    count_lists(s);
    arm_lists(s);
}

/* 6.3.4: on-link prefixes (L flag). */
static void prefix_update(oasis_stack *s, const oasis_nd_prefix *pf)
{
    oasis_ipv6 *v = s->ip6;
    if (!pf->onlink || oasis_in6_is_link_local(&pf->prefix) ||
        oasis_in6_is_multicast(&pf->prefix) || pf->plen > 128)
        return; /* (a multicast prefix holds no unicast destination: RFC 4291 2.4) */
    ip6_prefix *slot = NULL;
    for (int i = 0; i < OASIS_IPV6_MAX_PREFIXES; i++)
        if (v->prefixes[i].expires && v->prefixes[i].plen == pf->plen &&
            oasis_in6_prefix_eq(&v->prefixes[i].prefix, &pf->prefix, pf->plen))
            slot = &v->prefixes[i];
    if (pf->valid_s == 0) {
        if (slot)
            slot->expires = 0;
    } else {
        for (int i = 0; i < OASIS_IPV6_MAX_PREFIXES && !slot; i++)
            if (!v->prefixes[i].expires)
                slot = &v->prefixes[i];
        if (slot) {
            slot->prefix = pf->prefix;
            slot->plen = pf->plen;
            slot->expires = deadline_s(s, pf->valid_s);
        }
    }
    oasis_ipv4_route_changed(s);
    count_lists(s);
    arm_lists(s);
}

static const ip6_redirect *find_redirect(const oasis_ipv6 *v, const oasis_in6 *dst)
{
    for (int i = 0; i < OASIS_IPV6_MAX_REDIRECTS; i++)
        if (v->redirects[i].used && oasis_in6_eq(&v->redirects[i].dst, dst))
            return &v->redirects[i];
    return NULL;
}

/* The default router dst goes through (no redirect considered). 6.3.6:
 * a router known reachable (any state but INCOMPLETE) first. With none,
 * (2) the routers take turns, "so that subsequent requests for a default
 * router do not return the same router until all other routers have been
 * selected": each packet sent (send) asks the one after the router last
 * asked, so NUD probes them all and a dead first router cannot hold the
 * traffic back from a live second one. A look that sends nothing gets the
 * router last asked. */
static const ip6_router *default_router(oasis_stack *s, int send)
{
    oasis_ipv6 *v = s->ip6;
    for (int i = 0; i < OASIS_IPV6_MAX_ROUTERS; i++) {
        const ip6_router *r = &v->routers[i];
        if (!r->expires)
            continue;
        const ip6_neigh *e = find(s, &r->ip);
        if (e && e->state != NEIGH_INCOMPLETE)
            return r;
    }
    uint32_t from = send ? v->router_turn : v->router_last;
    for (uint32_t i = 0; i < OASIS_IPV6_MAX_ROUTERS; i++) {
        uint32_t k = (from + i) % OASIS_IPV6_MAX_ROUTERS;
        if (!v->routers[k].expires)
            continue;
        if (send) {
            v->router_last = k;
            v->router_turn = (k + 1) % OASIS_IPV6_MAX_ROUTERS;
        }
        return &v->routers[k];
    }
    return NULL;
}

static int next_hop(oasis_stack *s, const oasis_in6 *dst, oasis_in6 *out, int send)
{
    oasis_ipv6 *v = s->ip6;
    if (oasis_in6_is_link_local(dst) || oasis_in6_is_multicast(dst)) {
        *out = *dst;
        return OASIS_OK;
    }
    const ip6_redirect *rd = find_redirect(v, dst);
    if (rd) {
        *out = rd->hop;
        return OASIS_OK;
    }
    for (int i = 0; i < OASIS_IPV6_MAX_PREFIXES; i++)
        if (v->prefixes[i].expires &&
            oasis_in6_prefix_eq(&v->prefixes[i].prefix, dst, v->prefixes[i].plen)) {
            *out = *dst;
            return OASIS_OK;
        }
    /* A static address's prefix is on-link by configuration. */
    for (int i = 0; i < OASIS_IPV6_MAX_ADDRS; i++) {
        const ip6_addr *a = &v->addrs[i];
        if (a->state && a->state != OASIS_IPV6_DUPLICATE && a->origin == OASIS_IPV6_STATIC &&
            oasis_in6_prefix_eq(&a->a, dst, a->plen)) {
            *out = *dst;
            return OASIS_OK;
        }
    }
    const ip6_router *pick = default_router(s, send);
    if (!pick && s->link_ip) {
        *out = *dst; /* an IP link reaches every destination (oasis/link.h) */
        return OASIS_OK;
    }
    if (!pick)
        return OASIS_ENOROUTE; /* RFC 4943: no router, no "assume on-link" */
    *out = pick->ip;
    return OASIS_OK;
}

int oasis_nd_next_hop(oasis_stack *s, const oasis_in6 *dst, oasis_in6 *out)
{
    return next_hop(s, dst, out, 0);
}

int oasis_nd_next_hop_send(oasis_stack *s, const oasis_in6 *dst, oasis_in6 *out)
{
    return next_hop(s, dst, out, 1);
}

int oasis_ipv6_route(oasis_stack *s, const oasis_ipaddr *dst, oasis_ipaddr *next_hop)
{
    oasis_in6 d, hop;
    if (!oasis_ipv6_enabled(s) || !dst || dst->family != OASIS_AF_INET6)
        return OASIS_EINVAL;
    memcpy(d.b, dst->b, 16);
    int rc = oasis_nd_next_hop(s, &d, &hop);
    if (rc == OASIS_OK && next_hop)
        *next_hop = oasis_ipaddr_v6(hop.b);
    return rc;
}

/* ---- input ---- */

static void ns_input(oasis_stack *s, const oasis_ipv6_hdr *ip, const oasis_nd_msg *m)
{
    oasis_nd_counters *c = &s->ctr.nd;
    int from_dad = oasis_in6_is_unspecified(&ip->src);
    /* 7.1.1: from ::, only to a solicited-node group and with no SLLA. */
    if (from_dad) {
        oasis_in6 sn = oasis_in6_solicited_node(&m->target);
        if (!oasis_in6_eq(&ip->dst, &sn) || m->opts.slla) {
            c->bad_messages++;
            return;
        }
    }
    ip6_addr *a = oasis_ipv6_find_addr(s, &m->target);
    if (!a || a->state == OASIS_IPV6_DUPLICATE) {
        c->not_for_us++;
        return;
    }
    if (a->state == OASIS_IPV6_TENTATIVE) {
        /* RFC 4862 5.4.3: another node runs DAD on our tentative address. */
        if (from_dad)
            oasis_addrconf_dad_conflict(s, a);
        return;
    }
    if (from_dad) { /* 7.2.4: answer to all-nodes, not solicited */
        send_na(s, &m->target, &oasis_in6_all_nodes, 0);
        return;
    }
    if (m->opts.slla && !learn(s, &ip->src, m->opts.slla)) {
        /* No room to cache it: the answer 7.2.4 says to unicast goes to
         * the address the solicitation gave, not through a resolution of
         * its own (which would take an entry from a neighbour in use). */
        s->ip6->nd_reply_ip = ip->src;
        s->ip6->nd_reply_mac = m->opts.slla;
        send_na(s, &m->target, &ip->src, 1);
        s->ip6->nd_reply_mac = NULL;
        return;
    }
    send_na(s, &m->target, &ip->src, 1);
}

static void na_input(oasis_stack *s, const oasis_ipv6_hdr *ip, const oasis_nd_msg *m)
{
    oasis_nd_counters *c = &s->ctr.nd;
    int solicited = (m->na_flags & OASIS_ND_NA_SOLICITED) != 0;
    int override = (m->na_flags & OASIS_ND_NA_OVERRIDE) != 0;
    /* 7.1.2: to a multicast address, Solicited must be 0. */
    if (oasis_in6_is_multicast(&ip->dst) && solicited) {
        c->bad_messages++;
        return;
    }
    ip6_addr *a = oasis_ipv6_find_addr(s, &m->target);
    if (a) {
        if (a->state == OASIS_IPV6_TENTATIVE)
            oasis_addrconf_dad_conflict(s, a); /* RFC 4862 5.4.4 */
        else
            c->addr_claimed++; /* 5.4.4: logged, nothing else */
        return;
    }
    ip6_neigh *e = find(s, &m->target);
    if (!e)
        return; /* 7.2.5: no entry, no interest */
    const uint8_t *ll = m->opts.tlla;
    if (e->state == NEIGH_INCOMPLETE) {
        if (!ll)
            return;
        memcpy(e->mac, ll, 6);
        e->is_router = (m->na_flags & OASIS_ND_NA_ROUTER) != 0;
        set_state(s, e, solicited ? NEIGH_REACHABLE : NEIGH_STALE);
        flush_queue(s, e);
        return;
    }
    int differs = ll && memcmp(ll, e->mac, 6) != 0;
    if (!override && differs) {
        /* 7.2.5: keep the address; a REACHABLE entry becomes STALE. */
        if (e->state == NEIGH_REACHABLE)
            set_state(s, e, NEIGH_STALE);
        return;
    }
    if (differs) {
        memcpy(e->mac, ll, 6);
        nd_changed(s->ip6);
    }
    if (solicited)
        set_state(s, e, NEIGH_REACHABLE);
    else if (differs)
        set_state(s, e, NEIGH_STALE);
    int was_router = e->is_router;
    e->is_router = (m->na_flags & OASIS_ND_NA_ROUTER) != 0;
    if (was_router && !e->is_router) /* 7.2.5: no longer a router */
        router_update(s, &e->ip, 0);
}

/* An RA's Reachable Time or Retrans Timer (ms; 0: unspecified) as taken:
 * above an hour ignored (0), below floor raised to it; either sets
 * *clamped. BaseReachableTime within 100 ms (Linux's floor) and 1 h (6.2.1:
 * AdvReachableTime "MUST be no greater than 3,600,000 milliseconds";
 * FreeBSD ignores more), RetransTimer within 10 ms (Linux's floor; a DAD
 * of 1 ms would hear no one) and the same hour (more leaves resolution
 * and DAD waiting for days). */
static uint32_t ra_timer(uint32_t ms, uint32_t floor, int *clamped)
{
    if (ms > ND_RA_TIMER_MAX_MS) {
        *clamped = 1;
        return 0;
    }
    if (ms && ms < floor) {
        *clamped = 1;
        return floor;
    }
    return ms;
}

static void ra_input(oasis_stack *s, const oasis_ipv6_hdr *ip, const oasis_nd_msg *m)
{
    oasis_ipv6 *v = s->ip6;
    /* 6.1.2: from a link-local address. */
    if (!oasis_in6_is_link_local(&ip->src)) {
        s->ctr.nd.ra_ignored++;
        return;
    }
    v->ra_seen = 1;
    oasis_timer_stop(s, &v->rs_timer); /* 6.3.7: no more solicitations */
    if (m->cur_hop_limit)
        v->cur_hop_limit = m->cur_hop_limit;
    /* 6.3.4 takes the timers as sent; an RA on the link is unauthenticated,
     * so values no router may send are ignored and the smallest raised
     * (ra_timer). */
    int clamped = 0;
    uint32_t reach_ms = ra_timer(m->reachable_ms, ND_RA_REACHABLE_MIN_MS, &clamped);
    uint32_t retrans_ms = ra_timer(m->retrans_ms, ND_RA_RETRANS_MIN_MS, &clamped);
    if (clamped)
        s->ctr.nd.ra_timers_clamped++;
    if (reach_ms && (uint64_t)reach_ms * 1000000ull != v->base_reachable_ns) {
        v->base_reachable_ns = (uint64_t)reach_ms * 1000000ull;
        new_reachable_time(v, s);
    }
    if (retrans_ms)
        v->retrans_ns = (uint64_t)retrans_ms * 1000000ull;
    /* 6.3.4: IsRouter is set with or without an SLLA; without one, no
     * entry is made (7.2). */
    ip6_neigh *e = m->opts.slla ? learn(s, &ip->src, m->opts.slla) : find(s, &ip->src);
    if (e)
        e->is_router = 1;
    router_update(s, &ip->src, m->router_lifetime_s);
    /* 6.3.4: an MTU within [1280, the link's] becomes the link MTU. */
    if (m->opts.has_mtu && m->opts.mtu >= OASIS_IPV6_MIN_MTU && m->opts.mtu <= s->mtu)
        v->link_mtu = m->opts.mtu;
    oasis_ipv4_route_changed(s); /* (the hop limit and MTU above) */
    for (int i = 0; i < m->opts.nprefix; i++) {
        prefix_update(s, &m->opts.prefix[i]);
        if (m->opts.prefix[i].autonomous && s->cfg.ipv6_slaac)
            oasis_addrconf_prefix(s, &m->opts.prefix[i]);
    }
    /* Last: its callback sees the RA's other options applied. */
    oasis_ra_dns_input(s, &m->opts);
    /* RFC 4861 4.2: M and O say whether DHCPv6 has addresses or other
     * configuration; the DHCPv6 client (if any) decides what to do. */
    v->ra_flags = m->ra_flags & 0xc0;
    if (v->dhcp6.ra)
        v->dhcp6.ra(s, v->dhcp6.ud, v->ra_flags);
}

/* RFC 4861 8.1 validation, 8.3 processing. */
static void redirect_input(oasis_stack *s, const oasis_ipv6_hdr *ip, const oasis_nd_msg *m)
{
    oasis_ipv6 *v = s->ip6;
    oasis_nd_counters *c = &s->ctr.nd;
    oasis_in6 cur;
    /* From a link-local address, which is the current first hop for the
     * destination; the target is a link-local router or the destination
     * itself (on-link). */
    if (!oasis_in6_is_link_local(&ip->src) || oasis_nd_next_hop(s, &m->dest, &cur) != 0 ||
        !oasis_in6_eq(&cur, &ip->src) ||
        !(oasis_in6_is_link_local(&m->target) || oasis_in6_eq(&m->target, &m->dest))) {
        c->bad_messages++;
        return;
    }
    ip6_redirect *rd = (ip6_redirect *)find_redirect(v, &m->dest);
    if (!rd) {
        rd = &v->redirects[v->redirect_next];
        v->redirect_next = (v->redirect_next + 1) % OASIS_IPV6_MAX_REDIRECTS;
    }
    rd->dst = m->dest;
    rd->hop = m->target;
    rd->used = 1;
    oasis_ipv4_route_changed(s);
    c->redirects++;
    /* 8.3: a TLLA updates (or creates, STALE) the target's entry; "In
     * addition", with or without one, a target that is not the
     * destination is a router: IsRouter set. Without a TLLA no entry is
     * made (resolution makes it, and the NA's R flag says). */
    ip6_neigh *e = m->opts.tlla ? learn(s, &m->target, m->opts.tlla) : find(s, &m->target);
    if (e && !oasis_in6_eq(&m->target, &m->dest))
        e->is_router = 1;
}

void oasis_nd_input(oasis_stack *s, const oasis_ipv6_hdr *ip, const uint8_t *msg, size_t len)
{
    oasis_icmp6_counters *ic = &s->ctr.icmp6;
    oasis_nd_counters *c = &s->ctr.nd;
    oasis_nd_msg m;

    switch (msg[0]) {
    case OASIS_ICMP6_RS: ic->in_router_solicits++; break;
    case OASIS_ICMP6_RA: ic->in_router_adverts++; break;
    case OASIS_ICMP6_NS: ic->in_neigh_solicits++; break;
    case OASIS_ICMP6_NA: ic->in_neigh_adverts++; break;
    default: ic->in_redirects++; break;
    }
    /* RFC 4861 6.1, 7.1, 8.1: hop limit 255, so the sender is on the link. */
    if (ip->hop_limit != 255) {
        c->bad_hop_limit++;
        return;
    }
    /* RFC 6980 5: never with a Fragment header (fragments hide a forged
     * message's options from the RA guards and filters of the link). */
    if (ip->fragmented) {
        c->bad_messages++;
        return;
    }
    if (oasis_nd_parse(msg, len, &m) != OASIS_OK) {
        c->bad_messages++;
        return;
    }
    /* From :: only DAD's NS (7.1.1, checked in ns_input) and an RS with
     * no SLLA (6.1.1; a host then drops it as any RS); an NA's source is
     * its sender's address (4.4), RAs and redirects come from link-local
     * ones (6.1.2, 8.1). */
    if (oasis_in6_is_unspecified(&ip->src) && msg[0] != OASIS_ICMP6_NS &&
        (msg[0] != OASIS_ICMP6_RS || m.opts.slla)) {
        c->bad_messages++;
        return;
    }
    switch (m.type) {
    case OASIS_ICMP6_NS:
        ns_input(s, ip, &m);
        break;
    case OASIS_ICMP6_NA:
        na_input(s, ip, &m);
        break;
    case OASIS_ICMP6_RA:
        ra_input(s, ip, &m);
        break;
    case OASIS_ICMP6_REDIRECT:
        redirect_input(s, ip, &m);
        break;
    default: /* RS: for routers */
        break;
    }
}

/* Router solicitation (6.3.7). */
static void rs_timer(oasis_stack *s, oasis_timer *t)
{
    oasis_ipv6 *v = s->ip6;
    (void)t;
    if (v->ra_seen || v->rs_sent >= ND_MAX_RTR_SOLICITATIONS)
        return;
    const oasis_in6 *ll = oasis_addrconf_link_local(s);
    static const oasis_in6 unspec;
    uint8_t msg[16];
    /* From :: there is no source link-layer option. */
    size_t n = oasis_nd_emit_rs(msg, ll ? s->mac : NULL);
    if (oasis_icmp6_send(s, ll ? ll : &unspec, &oasis_in6_all_routers, 255, msg, n) == OASIS_OK)
        s->ctr.icmp6.out_router_solicits++;
    v->rs_sent++;
    if (v->rs_sent < ND_MAX_RTR_SOLICITATIONS)
        oasis_timer_start(s, &v->rs_timer, oasis_now(s) + ND_RTR_SOLICITATION_INTERVAL_NS);
}

void oasis_nd_start_rs(oasis_stack *s)
{
    oasis_ipv6 *v = s->ip6;
    if (v->ra_seen || oasis_timer_active(&v->rs_timer) || v->rs_sent)
        return;
    /* A random delay first, so hosts powered up together do not collide. */
    oasis_timer_start(s, &v->rs_timer,
                      oasis_now(s) + oasis_prng_below(&s->prng, ND_MAX_RTR_SOLICITATION_DELAY_NS));
}
