/* ARP (RFC 826) with the cache rules of RFC 1122 2.3.2: a bounded cache
 * with LRU eviction, entries that age out, requests retried with backoff
 * and a bounded queue of packets waiting for resolution. */
#include "arp/arp.h"

#include "arp/arp_wire.h"
#include "core/bytes.h"
#include "core/mem.h"
#include "ip/ipv4_wire.h"
#include "core/stack_impl.h"
#include "icmp/icmp.h"
#include "ip/unreach.h"
#include "link/eth.h"
#include "link/eth_wire.h"
#include "link/ip_link.h"
#include "oasis/error.h"

#include <string.h>

/* PROBE: resolved, but another MAC claimed the address; we keep the old
 * MAC and ask it (unicast) whether it is still there. */
enum { ARP_INCOMPLETE, ARP_RESOLVED, ARP_PROBE, ARP_REVERIFY };

/* RFC 5227 2.4 (c): at most one defence of our address per 10 s. */
#define DEFEND_INTERVAL_NS (10 * OASIS_NS_PER_SEC)

struct oasis_arp_entry {
    oasis_arp_entry *next;               /* hash chain */
    oasis_alink lru;                     /* in a->lru */
    uint32_t ip;
    uint8_t mac[6];
    uint8_t state;
    uint8_t cand_mac[6];                 /* PROBE: the MAC that claimed the address */
    uint64_t used_at;                    /* last datagram sent through it */
    uint32_t tries;                      /* requests sent while incomplete */
    uint64_t retry_ns;                   /* current retry interval */
    uint64_t due;                        /* incomplete: when the timer is scheduled */
    uint64_t probed_at;                  /* the last unicast probe (if probed) */
    uint8_t probed;
    oasis_pbuf *q_head, *q_tail;         /* datagrams waiting, in order */
    uint32_t qlen;
    oasis_timer timer;                   /* retry (incomplete) or expiry (resolved) */
};

static const uint8_t mac_broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static uint32_t bucket_of(const oasis_arp *a, uint32_t ip)
{
    return (uint32_t)((ip * 2654435761u) >> 7) & (a->nbuckets - 1);
}

static void announce_fn(oasis_stack *s, oasis_timer *t);

int oasis_arp_init(oasis_stack *s)
{
    oasis_arp *a = &s->arp;
    uint32_t n = 16;

    memset(a, 0, sizeof *a);
    a->gen = 1;
    oasis_timer_init(&a->announce_timer, announce_fn);
    while (n < s->cfg.arp_cache_size && n < 65536)
        n <<= 1;
    a->buckets = oasis_calloc(s, n, sizeof *a->buckets);
    if (!a->buckets)
        return OASIS_ENOMEM;
    a->nbuckets = n;
    return OASIS_OK;
}

static oasis_arp_entry *find(oasis_stack *s, uint32_t ip)
{
    oasis_arp_entry *e = s->arp.buckets[bucket_of(&s->arp, ip)];
    while (e && e->ip != ip)
        e = e->next;
    return e;
}

static oasis_arp_entry *of_lru(oasis_alink *l)
{
    return l ? oasis_container_of(l, oasis_arp_entry, lru) : NULL;
}

/* e is now the most recently used. */
static void touch(oasis_arp *a, oasis_arp_entry *e)
{
    if (a->lru.newest != &e->lru) {
        oasis_alist_remove(&a->lru, &e->lru);
        oasis_alist_push_newest(&a->lru, &e->lru);
    }
}

/* Drops the packets still queued on e; each is counted. */
static void drop_queue(oasis_stack *s, oasis_arp_entry *e)
{
    while (e->q_head) {
        oasis_pbuf *p = e->q_head;
        e->q_head = p->next;
        oasis_pbuf_free(s, p);
        s->ctr.arp.queue_drops++;
    }
    s->arp.queued -= e->qlen;
    e->q_tail = NULL;
    e->qlen = 0;
}

/* Takes e's queue away from it (sending or failing what waited may
 * re-enter ARP): the packets in order, linked by next, still counted in
 * s->arp.queued. */
static oasis_pbuf *take_queue(oasis_arp_entry *e)
{
    oasis_pbuf *p = e->q_head;
    e->q_head = e->q_tail = NULL;
    e->qlen = 0;
    return p;
}

/* The same, out of the count. */
static oasis_pbuf *detach_queue(oasis_stack *s, oasis_arp_entry *e)
{
    s->arp.queued -= e->qlen;
    return take_queue(e);
}

/* A transmit cache may hold an entry and its MAC: they are stale now. */
static void changed(oasis_arp *a)
{
    if (++a->gen == 0)
        a->gen = 1;
}

static void remove_entry(oasis_stack *s, oasis_arp_entry *e)
{
    oasis_arp *a = &s->arp;
    changed(a);
    oasis_arp_entry **pp = &a->buckets[bucket_of(a, e->ip)];

    while (*pp != e)
        pp = &(*pp)->next;
    *pp = e->next;
    oasis_alist_remove(&a->lru, &e->lru);
    oasis_timer_stop(s, &e->timer);
    drop_queue(s, e);
    s->ctr.arp.cache_entries = a->lru.n;
    oasis_free(s, e);
}

static int send_arp_from(oasis_stack *s, uint16_t op, const uint8_t dst_mac[6], uint32_t spa,
                         const uint8_t tha[6], uint32_t tpa);

static int send_arp(oasis_stack *s, uint16_t op, const uint8_t dst_mac[6], const uint8_t tha[6],
                    uint32_t tpa)
{
    return send_arp_from(s, op, dst_mac, s->addr, tha, tpa);
}

static int send_arp_from(oasis_stack *s, uint16_t op, const uint8_t dst_mac[6], uint32_t spa,
                         const uint8_t tha[6], uint32_t tpa)
{
    if (s->link_ip)
        return OASIS_ENOTSUP; /* an IP link carries no ARP (oasis/link.h) */
    oasis_pbuf *p = oasis_pbuf_alloc(s, OASIS_ETH_HLEN, OASIS_ARP_LEN);
    oasis_arp_pkt pkt;

    if (!p)
        return OASIS_ENOMEM;
    memset(&pkt, 0, sizeof pkt);
    pkt.op = op;
    memcpy(pkt.sha, s->mac, 6);
    pkt.spa = spa;
    memcpy(pkt.tha, tha, 6);
    pkt.tpa = tpa;
    oasis_arp_emit(p->data, &pkt);
    return oasis_eth_output(s, p, dst_mac, OASIS_ETHERTYPE_ARP);
}

static void send_request(oasis_stack *s, uint32_t ip)
{
    static const uint8_t zero[6] = {0};
    if (send_arp(s, OASIS_ARP_REQUEST, mac_broadcast, zero, ip) == OASIS_OK)
        s->ctr.arp.tx_requests++;
}

/* Asks the MAC we use for e (unicast) whether it still holds e->ip. */
static void send_probe(oasis_stack *s, oasis_arp_entry *e)
{
    e->probed = 1;
    e->probed_at = oasis_now(s);
    if (send_arp(s, OASIS_ARP_REQUEST, e->mac, e->mac, e->ip) == OASIS_OK)
        s->ctr.arp.tx_requests++;
}

/* Starts asking e's MAC (state ARP_REVERIFY or ARP_PROBE), cfg.arp_retries
 * probes at the base interval. RFC 1122 2.3.2.1 wants ARP flooding
 * prevented (at most 1 a second per destination recommended): a round
 * that starts within an interval of the last probe (MAC claims each
 * settled by the old MAC's answer, say) sends its first from the timer,
 * an interval after that probe, not now. */
static void start_probing(oasis_stack *s, oasis_arp_entry *e, uint8_t state)
{
    uint64_t now = oasis_now(s);
    e->state = state;
    e->retry_ns = s->cfg.arp_retry_ns ? s->cfg.arp_retry_ns : 1;
    uint64_t next = oasis_deadline(e->probed_at, e->retry_ns);
    if (e->probed && next > now) {
        e->tries = 0; /* the timer sends the first */
        oasis_timer_start(s, &e->timer, next);
        return;
    }
    e->tries = 1;
    oasis_timer_start(s, &e->timer, oasis_deadline(now, e->retry_ns));
    send_probe(s, e);
}

static void resolve(oasis_stack *s, oasis_arp_entry *e, const uint8_t mac[6]);
static int in_use(const oasis_stack *s, const oasis_arp_entry *e);

/* Keeps using the MAC while asking it, unicast, whether it is still there
 * (cfg.arp_retries probes); the entry goes only if none is answered. */
static void reverify(oasis_stack *s, oasis_arp_entry *e)
{
    start_probing(s, e, ARP_REVERIFY);
}

/* When the request going out now is next retried (or given up on). The
 * backoff runs on its schedule (e->due: the first request's instant plus
 * 1, 3, 7 intervals), not from when a late poll ran the timer, so later
 * requests and the give-up keep their instants. But never sooner than the
 * base interval after this request: RFC 1122 2.3.2.1 wants ARP flooding
 * prevented ("The recommended maximum rate is 1 per second per
 * destination"), and a deadline already past would send the next request
 * at this same instant; that one request waits, the schedule after it
 * stands. (Probes, at the base interval throughout, are re-armed from
 * now: the same rule.) */
static uint64_t next_retry(const oasis_stack *s, oasis_arp_entry *e)
{
    uint64_t base = s->cfg.arp_retry_ns ? s->cfg.arp_retry_ns : 1;
    uint64_t soonest = oasis_deadline(oasis_now(s), base);
    e->due = oasis_deadline(e->due, e->retry_ns);
    return e->due > soonest ? e->due : soonest;
}

/* Incomplete: retry with a doubled interval, or give up after
 * cfg.arp_retries requests. Resolved: the entry has aged out; one still
 * carrying traffic is re-verified instead of dropped, so a busy flow does
 * not stall behind a broadcast request once per lifetime (the reachability
 * probe of RFC 1122 2.3.2.1, done as Linux's unicast probe). */
static void entry_timer(oasis_stack *s, oasis_timer *t)
{
    oasis_arp_entry *e = oasis_container_of(t, oasis_arp_entry, timer);
    uint32_t ip = e->ip;

    if (e->state == ARP_RESOLVED) {
        if (in_use(s, e)) {
            s->ctr.arp.cache_refreshes++;
            reverify(s, e);
            return;
        }
        s->ctr.arp.cache_expired++;
        remove_entry(s, e);
        return;
    }
    if (e->state == ARP_REVERIFY) {
        if (e->tries < s->cfg.arp_retries) {
            e->tries++;
            oasis_timer_start(s, &e->timer, oasis_deadline(oasis_now(s), e->retry_ns));
            send_probe(s, e);
            return;
        }
        s->ctr.arp.resolve_failed++; /* gone: resolve afresh when needed */
        remove_entry(s, e);
        oasis_ipv4_redirects_via_lost(s, ip); /* a dead redirect gateway */
        return;
    }
    if (e->state == ARP_PROBE) {
        if (e->tries < s->cfg.arp_retries) {
            e->tries++;
            oasis_timer_start(s, &e->timer, oasis_deadline(oasis_now(s), e->retry_ns));
            send_probe(s, e);
            return;
        }
        /* The old MAC stopped answering: the change was real. */
        s->ctr.arp.mac_changes++;
        resolve(s, e, e->cand_mac);
        return;
    }
    if (e->tries < s->cfg.arp_retries) {
        e->tries++;
        e->retry_ns = e->retry_ns > UINT64_MAX / 2 ? UINT64_MAX : e->retry_ns * 2;
        oasis_timer_start(s, &e->timer, next_retry(s, e));
        send_request(s, ip);
        return;
    }
    /* Resolution failed: what waited is lost, and its senders are told
     * (a TCP attempt that then times out says "host unreachable"). */
    s->ctr.arp.resolve_failed++;
    s->ctr.arp.queue_drops += e->qlen;
    oasis_pbuf *p = detach_queue(s, e);
    remove_entry(s, e);
    oasis_ipv4_redirects_via_lost(s, ip);
    oasis_ip_unreachable_chain(s, p);
    oasis_icmp_neighbour_failed(s, ip);
}

/* In active use: packets wait on it, or a datagram went through it within
 * the cache lifetime. */
static int in_use(const oasis_stack *s, const oasis_arp_entry *e)
{
    if (e->qlen)
        return 1;
    return e->used_at && oasis_now(s) - e->used_at < s->cfg.arp_cache_ttl_ns;
}

/* A new entry, evicting the least recently used one at the size bound
 * (what waited on an evicted unresolved one fails from the next timer
 * step, as on a failed resolution). For an entry nobody asked for (a
 * request from a stranger), only an entry not in active use may go, so a
 * flood of forged senders cannot push out the gateway we are talking
 * through: then no entry (NULL). */
static oasis_arp_entry *create_entry(oasis_stack *s, uint32_t ip, int unsolicited)
{
    oasis_arp *a = &s->arp;
    oasis_arp_entry *e;

    if (a->lru.n >= s->cfg.arp_cache_size && a->lru.oldest) {
        oasis_arp_entry *victim = of_lru(a->lru.oldest);
        if (unsolicited) {
            int n = 0; /* look at a few: bounded work per packet */
            while (victim && in_use(s, victim) && ++n < 8)
                victim = of_lru(victim->lru.newer);
            if (!victim || in_use(s, victim)) {
                s->ctr.arp.cache_no_room++;
                return NULL;
            }
        }
        s->ctr.arp.cache_evictions++;
        uint32_t vip = victim->ip;
        int unresolved = victim->state == ARP_INCOMPLETE;
        /* Its resolution ends here: what waited for it fails as after a
         * failed resolution, not at its own timeout, but from the next
         * timer step, since we are inside a send or an input. Until then
         * it stays counted in a->queued. */
        s->ctr.arp.queue_drops += victim->qlen;
        oasis_pbuf *q = take_queue(victim);
        remove_entry(s, victim);
        oasis_ip_unreachable_later(s, q, OASIS_IP_FAMILY_V4);
        if (unresolved)
            oasis_icmp_neighbour_evicted(s, vip);
    }
    e = oasis_calloc(s, 1, sizeof *e);
    if (!e)
        return NULL;
    e->ip = ip;
    e->state = ARP_INCOMPLETE;
    oasis_timer_init(&e->timer, entry_timer);
    uint32_t b = bucket_of(a, ip);
    e->next = a->buckets[b];
    a->buckets[b] = e;
    oasis_alist_push_newest(&a->lru, &e->lru);
    s->ctr.arp.cache_entries = a->lru.n;
    return e;
}

/* Records e's MAC, restarts its lifetime and sends what was waiting. */
static void resolve(oasis_stack *s, oasis_arp_entry *e, const uint8_t mac[6])
{
    if (e->state == ARP_INCOMPLETE || memcmp(e->mac, mac, 6) != 0)
        changed(&s->arp);
    memcpy(e->mac, mac, 6);
    e->state = ARP_RESOLVED;
    e->tries = 0;
    touch(&s->arp, e);
    oasis_timer_start(s, &e->timer, oasis_deadline(oasis_now(s), s->cfg.arp_cache_ttl_ns));
    oasis_pbuf *p = detach_queue(s, e);
    while (p) {
        oasis_pbuf *next = p->next;
        p->next = NULL;
        oasis_eth_output(s, p, mac, OASIS_ETHERTYPE_IPV4);
        p = next;
    }
}

/* A sender that may have a cache entry: a unicast host address that could
 * be a neighbour (RFC 1122 3.2.1.3: no martians, no broadcast). */
static int usable_sender(const oasis_stack *s, const oasis_arp_pkt *pkt)
{
    return pkt->spa != 0 && pkt->spa != s->addr && !oasis_mac_is_multicast(pkt->sha) &&
           !oasis_ipv4_is_broadcast(s, pkt->spa) && !oasis_ipv4_is_martian(s, pkt->spa);
}

/* RFC 5227 2.4 (c): another host claims our address; we keep it and defend
 * with one announcement, at most once per DEFEND_INTERVAL. */
static void defend(oasis_stack *s)
{
    oasis_arp *a = &s->arp;
    uint64_t now = oasis_now(s);

    s->ctr.arp.addr_conflicts++;
    if (a->defended && now - a->defend_at < DEFEND_INTERVAL_NS)
        return;
    a->defended = 1;
    a->defend_at = now;
    oasis_arp_announce(s);
    s->ctr.arp.tx_defends++;
}

/* A known sender speaks. Its MAC is the same: refresh. A different MAC for
 * a live neighbour is suspect (ARP spoofing): keep using the old MAC and ask
 * it, unicast, whether it is still there; switch only when it stops
 * answering (entry_timer). */
static void known_sender(oasis_stack *s, oasis_arp_entry *e, const oasis_arp_pkt *pkt, int for_us)
{
    if (e->state == ARP_INCOMPLETE) {
        /* The answer to our request, or the neighbour asking us. */
        if (for_us)
            resolve(s, e, pkt->sha);
        else
            s->ctr.arp.rx_unsolicited++;
        return;
    }
    if (memcmp(e->mac, pkt->sha, 6) == 0) {
        resolve(s, e, pkt->sha); /* also ends a PROBE: the old MAC answered */
        return;
    }
    s->ctr.arp.mac_change_suspect++;
    memcpy(e->cand_mac, pkt->sha, 6);
    if (e->state == ARP_PROBE)
        return;
    start_probing(s, e, ARP_PROBE);
}

static int a_watch(const oasis_stack *s) { return s->arp.watch != NULL; }

void oasis_arp_input(oasis_stack *s, const uint8_t *buf, size_t len, const uint8_t eth_src[6])
{
    oasis_arp_counters *c = &s->ctr.arp;
    oasis_arp_pkt pkt;

    if (oasis_arp_parse(buf, len, &pkt) != OASIS_OK) {
        c->rx_malformed++;
        return;
    }
    if (pkt.op == OASIS_ARP_REQUEST)
        c->rx_requests++;
    else
        c->rx_replies++;
    /* A sender hardware address that is not the frame's source is a forgery
     * (or a proxy we do not trust): nothing in it is believed. */
    if (memcmp(pkt.sha, eth_src, 6) != 0) {
        c->rx_sha_mismatch++;
        return;
    }
    /* A station's address is an individual one (IEEE 802: never a source
     * with the group bit): a reply to a group sender would reach every
     * host (usable_sender keeps such a sender out of the cache too). */
    if (oasis_mac_is_multicast(pkt.sha)) {
        c->rx_bad_sender++;
        return;
    }
    if (a_watch(s))
        s->arp.watch(s, s->arp.watch_ud, pkt.op, pkt.spa, pkt.tpa, pkt.sha);
    if (s->addr != 0 && pkt.spa == s->addr) {
        if (memcmp(pkt.sha, s->mac, 6) != 0)
            defend(s);
        return;
    }
    int for_us = s->addr != 0 && pkt.tpa == s->addr;
    int usable = usable_sender(s, &pkt);
    if (!usable && pkt.spa != 0) /* spa 0: an RFC 5227 probe, answered below */
        c->rx_bad_sender++;
    if (usable) {
        oasis_arp_entry *e = find(s, pkt.spa);
        if (e) {
            known_sender(s, e, &pkt, for_us);
        } else if (for_us && pkt.op == OASIS_ARP_REQUEST) {
            /* RFC 826: the asker will talk to us; it may take a slot. */
            e = create_entry(s, pkt.spa, 1);
            if (e)
                resolve(s, e, pkt.sha);
        } else if (pkt.op == OASIS_ARP_REPLY) {
            c->rx_unsolicited++; /* a reply nobody asked for */
        }
    }
    if (!for_us) {
        c->rx_not_for_us++;
        return;
    }
    if (pkt.op == OASIS_ARP_REQUEST &&
        send_arp(s, OASIS_ARP_REPLY, pkt.sha, pkt.sha, pkt.spa) == OASIS_OK)
        c->tx_replies++;
}

/* The TCP segment a queued IPv4 datagram holds: 1 and its ports, sequence
 * number and sequence length (data + SYN + FIN), or 0 (not TCP, a
 * fragment, too short). */
static int tcp_key(const oasis_pbuf *p, uint32_t *ports, uint32_t *seq, uint32_t *seqlen)
{
    const uint8_t *ip = p->data;
    if (p->len < 20 || (ip[0] >> 4) != 4 || ip[9] != OASIS_IPPROTO_TCP)
        return 0;
    size_t hl = (size_t)(ip[0] & 0x0f) * 4;
    if ((oasis_get16(ip + 6) & 0x3fff) != 0 || p->len < hl + 20)
        return 0;
    const uint8_t *t = ip + hl;
    size_t thl = (size_t)(t[12] >> 4) * 4;
    if (thl < 20 || p->len < hl + thl)
        return 0;
    *ports = oasis_get32(t);
    *seq = oasis_get32(t + 4);
    *seqlen = (uint32_t)(p->len - hl - thl) + ((t[13] & 0x02) != 0) + ((t[13] & 0x01) != 0);
    return 1;
}

/* A TCP segment and its retransmission, both waiting for the neighbour,
 * must not both go out once it answers (two identical SYNs): the newer copy
 * (fresher ACK and window) takes the older one's place in the queue, unless
 * it covers less sequence space. Returns 1 when p took a place. */
static int supersede(oasis_stack *s, oasis_arp_entry *e, oasis_pbuf *p)
{
    uint32_t ports, seq, len;
    if (!tcp_key(p, &ports, &seq, &len))
        return 0;
    for (oasis_pbuf **pp = &e->q_head; *pp; pp = &(*pp)->next) {
        oasis_pbuf *q = *pp;
        uint32_t qports, qseq, qlen;
        if (!tcp_key(q, &qports, &qseq, &qlen) || qports != ports || qseq != seq || len < qlen ||
            memcmp(q->data + 12, p->data + 12, 8) != 0) /* same addresses */
            continue;
        p->next = q->next;
        *pp = p;
        if (e->q_tail == q)
            e->q_tail = p;
        oasis_pbuf_free(s, q);
        s->ctr.arp.queue_superseded++;
        return 1;
    }
    return 0;
}

static int enqueue(oasis_stack *s, oasis_arp_entry *e, oasis_pbuf *p)
{
    if (supersede(s, e, p))
        return OASIS_OK;
    /* RFC 1122 2.3.2.2: "at least one ... packet of each set of packets
     * destined to the same unresolved IP address". Past cfg.arp_queue_len
     * for the stack, a neighbour holding none still takes its first, within
     * a reserve of half the cache (as nd.c does for RFC 4861 7.2.2): the
     * stack's bound is arp_queue_len + arp_cache_size / 2. */
    uint64_t bound = s->cfg.arp_queue_len + (e->qlen ? 0 : (uint64_t)s->cfg.arp_cache_size / 2);
    if (e->qlen >= OASIS_ARP_ENTRY_QUEUE || s->arp.queued >= bound) {
        s->ctr.arp.queue_drops++;
        oasis_pbuf_free(s, p);
        return OASIS_EAGAIN;
    }
    p->next = NULL;
    if (e->q_tail)
        e->q_tail->next = p;
    else
        e->q_head = p;
    e->q_tail = p;
    e->qlen++;
    s->arp.queued++;
    return OASIS_OK;
}

void oasis_arp_used(oasis_stack *s, oasis_arp_entry *e)
{
    touch(&s->arp, e);
    e->used_at = oasis_now(s);
}

oasis_arp_entry *oasis_arp_neighbour(oasis_stack *s, uint32_t ip, uint8_t mac[6])
{
    oasis_arp_entry *e = find(s, ip);
    if (!e || e->state == ARP_INCOMPLETE)
        return NULL;
    memcpy(mac, e->mac, 6);
    return e;
}

int oasis_arp_output(oasis_stack *s, uint32_t next_hop, oasis_pbuf *p)
{
    if (s->link_ip) /* nothing to resolve: the link's one other end */
        return oasis_eth_output(s, p, oasis_ip_link_far_end, OASIS_ETHERTYPE_IPV4);
    oasis_arp_entry *e = find(s, next_hop);

    if (e && e->state != ARP_INCOMPLETE) {
        oasis_arp_used(s, e);
        return oasis_eth_output(s, p, e->mac, OASIS_ETHERTYPE_IPV4);
    }
    if (!e) {
        e = create_entry(s, next_hop, 0);
        if (!e) {
            s->ctr.arp.queue_drops++;
            oasis_pbuf_free(s, p);
            return OASIS_ENOMEM;
        }
        int err = enqueue(s, e, p);
        e->tries = 1;
        e->retry_ns = s->cfg.arp_retry_ns ? s->cfg.arp_retry_ns : 1;
        e->due = oasis_deadline(oasis_now(s), e->retry_ns);
        /* Armed before sending: a link that answers at once re-arms it. */
        oasis_timer_start(s, &e->timer, e->due);
        send_request(s, next_hop);
        return err;
    }
    return enqueue(s, e, p);
}

void oasis_arp_announce(oasis_stack *s)
{
    static const uint8_t zero[6] = {0};
    if (s->addr && send_arp(s, OASIS_ARP_REQUEST, mac_broadcast, zero, s->addr) == OASIS_OK)
        s->ctr.arp.tx_gratuitous++;
}

/* RFC 5227 2.3: ANNOUNCE_INTERVAL 2 s (ANNOUNCE_NUM is cfg.arp_announce_num). */
#define ANNOUNCE_INTERVAL_NS (2 * OASIS_NS_PER_SEC)

void oasis_arp_claim(oasis_stack *s)
{
    oasis_arp *a = &s->arp;
    oasis_timer_stop(s, &a->announce_timer);
    if (!s->addr || !s->link || !s->cfg.arp_gratuitous)
        return;
    a->announce_addr = s->addr;
    uint32_t n = s->cfg.arp_announce_num;
    a->announce_left = (uint8_t)((n > 1 ? (n < 255 ? n : 255) : 1) - 1);
    oasis_arp_announce(s);
    oasis_timer_start(s, &a->announce_timer, oasis_now(s) + ANNOUNCE_INTERVAL_NS);
}

static void announce_fn(oasis_stack *s, oasis_timer *t)
{
    oasis_arp *a = oasis_container_of(t, oasis_arp, announce_timer);
    /* A changed or removed address was claimed anew (or not at all). */
    if (!a->announce_left || s->addr != a->announce_addr || !s->link)
        return;
    a->announce_left--;
    oasis_arp_announce(s);
    if (a->announce_left)
        oasis_timer_start(s, &a->announce_timer, oasis_now(s) + ANNOUNCE_INTERVAL_NS);
}

int oasis_arp_probe(oasis_stack *s, uint32_t ip)
{
    static const uint8_t zero[6] = {0};
    int err = send_arp_from(s, OASIS_ARP_REQUEST, mac_broadcast, 0, zero, ip);
    if (err == OASIS_OK)
        s->ctr.arp.tx_requests++;
    return err;
}

void oasis_arp_reverify(oasis_stack *s, uint32_t ip)
{
    oasis_arp_entry *e = find(s, ip);
    if (!e || e->state != ARP_RESOLVED)
        return;
    reverify(s, e);
}

int oasis_arp_lookup(oasis_stack *s, uint32_t ip, uint8_t mac[6])
{
    oasis_arp_entry *e = find(s, ip);
    if (!e || e->state == ARP_INCOMPLETE)
        return OASIS_ENOENT;
    memcpy(mac, e->mac, 6);
    return OASIS_OK;
}

void oasis_arp_fini(oasis_stack *s)
{
    oasis_arp *a = &s->arp;
    oasis_timer_stop(s, &a->announce_timer);
    while (a->lru.oldest)
        remove_entry(s, of_lru(a->lru.oldest));
    oasis_free(s, a->buckets);
    a->buckets = NULL;
    a->nbuckets = 0;
}
