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
#include "link/eth.h"
#include "link/eth_wire.h"
#include "oasis/error.h"

#include <string.h>

enum { ARP_INCOMPLETE, ARP_RESOLVED };

struct oasis_arp_entry {
    oasis_arp_entry *next;               /* hash chain */
    oasis_arp_entry *lru_prev, *lru_next;
    uint32_t ip;
    uint8_t mac[6];
    uint8_t state;
    uint32_t tries;                      /* requests sent while incomplete */
    uint64_t retry_ns;                   /* current retry interval */
    oasis_pbuf *q_head, *q_tail;         /* datagrams waiting, in order */
    uint32_t qlen;
    oasis_timer timer;                   /* retry (incomplete) or expiry (resolved) */
};

static const uint8_t mac_broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static uint32_t bucket_of(const oasis_arp *a, uint32_t ip)
{
    return (uint32_t)((ip * 2654435761u) >> 7) & (a->nbuckets - 1);
}

int oasis_arp_init(oasis_stack *s)
{
    oasis_arp *a = &s->arp;
    uint32_t n = 16;

    memset(a, 0, sizeof *a);
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

static void lru_unlink(oasis_arp *a, oasis_arp_entry *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        a->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        a->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_append(oasis_arp *a, oasis_arp_entry *e)
{
    e->lru_prev = a->lru_tail;
    e->lru_next = NULL;
    if (a->lru_tail)
        a->lru_tail->lru_next = e;
    else
        a->lru_head = e;
    a->lru_tail = e;
}

static void touch(oasis_arp *a, oasis_arp_entry *e)
{
    if (a->lru_tail != e) {
        lru_unlink(a, e);
        lru_append(a, e);
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

static void remove_entry(oasis_stack *s, oasis_arp_entry *e)
{
    oasis_arp *a = &s->arp;
    oasis_arp_entry **pp = &a->buckets[bucket_of(a, e->ip)];

    while (*pp != e)
        pp = &(*pp)->next;
    *pp = e->next;
    lru_unlink(a, e);
    oasis_timer_stop(s, &e->timer);
    drop_queue(s, e);
    a->count--;
    s->ctr.arp.cache_entries = a->count;
    oasis_free(s, e);
}

static int send_arp(oasis_stack *s, uint16_t op, const uint8_t dst_mac[6], const uint8_t tha[6],
                    uint32_t tpa)
{
    oasis_pbuf *p = oasis_pbuf_alloc(s, OASIS_ETH_HLEN, OASIS_ARP_LEN);
    oasis_arp_pkt pkt;

    if (!p)
        return OASIS_ENOMEM;
    memset(&pkt, 0, sizeof pkt);
    pkt.op = op;
    memcpy(pkt.sha, s->mac, 6);
    pkt.spa = s->addr;
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

/* Incomplete: retry with a doubled interval, or give up after
 * cfg.arp_retries requests. Resolved: the entry has aged out. */
static void entry_timer(oasis_stack *s, oasis_timer *t)
{
    oasis_arp_entry *e = oasis_container_of(t, oasis_arp_entry, timer);
    uint32_t ip = e->ip;

    if (e->state == ARP_RESOLVED) {
        s->ctr.arp.cache_expired++;
        remove_entry(s, e);
        return;
    }
    if (e->tries < s->cfg.arp_retries) {
        e->tries++;
        e->retry_ns *= 2;
        oasis_timer_start(s, &e->timer, oasis_now(s) + e->retry_ns);
        send_request(s, ip);
        return;
    }
    s->ctr.arp.resolve_failed++;
    remove_entry(s, e);
    oasis_icmp_neighbour_failed(s, ip);
}

/* A new entry, evicting the least recently used one at the size bound. */
static oasis_arp_entry *create_entry(oasis_stack *s, uint32_t ip)
{
    oasis_arp *a = &s->arp;
    oasis_arp_entry *e;

    if (a->count >= s->cfg.arp_cache_size && a->lru_head) {
        s->ctr.arp.cache_evictions++;
        remove_entry(s, a->lru_head);
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
    lru_append(a, e);
    a->count++;
    s->ctr.arp.cache_entries = a->count;
    return e;
}

/* Records e's MAC, restarts its lifetime and sends what was waiting. */
static void resolve(oasis_stack *s, oasis_arp_entry *e, const uint8_t mac[6])
{
    memcpy(e->mac, mac, 6);
    e->state = ARP_RESOLVED;
    e->tries = 0;
    touch(&s->arp, e);
    oasis_timer_start(s, &e->timer, oasis_now(s) + s->cfg.arp_cache_ttl_ns);
    /* Detach the queue first: sending may re-enter ARP. */
    oasis_pbuf *p = e->q_head;
    s->arp.queued -= e->qlen;
    e->q_head = e->q_tail = NULL;
    e->qlen = 0;
    while (p) {
        oasis_pbuf *next = p->next;
        p->next = NULL;
        oasis_eth_output(s, p, mac, OASIS_ETHERTYPE_IPV4);
        p = next;
    }
}

static int usable_sender(const oasis_stack *s, const oasis_arp_pkt *pkt)
{
    return pkt->spa != 0 && pkt->spa != s->addr && !oasis_mac_is_multicast(pkt->sha) &&
           !oasis_ipv4_is_broadcast(s, pkt->spa);
}

void oasis_arp_input(oasis_stack *s, const uint8_t *buf, size_t len)
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

    /* RFC 826 merge: refresh a sender we already know, whoever the target. */
    int merged = 0;
    int usable = usable_sender(s, &pkt);
    if (usable) {
        oasis_arp_entry *e = find(s, pkt.spa);
        if (e) {
            resolve(s, e, pkt.sha);
            merged = 1;
        }
    }
    if (s->addr == 0 || pkt.tpa != s->addr) {
        c->rx_not_for_us++;
        return;
    }
    /* Only senders that talk to us may take a cache slot. */
    if (usable && !merged) {
        oasis_arp_entry *e = create_entry(s, pkt.spa);
        if (e)
            resolve(s, e, pkt.sha);
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
    if (e->qlen >= OASIS_ARP_ENTRY_QUEUE || s->arp.queued >= s->cfg.arp_queue_len) {
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

int oasis_arp_output(oasis_stack *s, uint32_t next_hop, oasis_pbuf *p)
{
    oasis_arp_entry *e = find(s, next_hop);

    if (e && e->state == ARP_RESOLVED) {
        touch(&s->arp, e);
        return oasis_eth_output(s, p, e->mac, OASIS_ETHERTYPE_IPV4);
    }
    if (!e) {
        e = create_entry(s, next_hop);
        if (!e) {
            s->ctr.arp.queue_drops++;
            oasis_pbuf_free(s, p);
            return OASIS_ENOMEM;
        }
        int err = enqueue(s, e, p);
        e->tries = 1;
        e->retry_ns = s->cfg.arp_retry_ns ? s->cfg.arp_retry_ns : 1;
        /* Armed before sending: a link that answers at once re-arms it. */
        oasis_timer_start(s, &e->timer, oasis_now(s) + e->retry_ns);
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

int oasis_arp_lookup(oasis_stack *s, uint32_t ip, uint8_t mac[6])
{
    oasis_arp_entry *e = find(s, ip);
    if (!e || e->state != ARP_RESOLVED)
        return OASIS_ENOENT;
    memcpy(mac, e->mac, 6);
    return OASIS_OK;
}

void oasis_arp_fini(oasis_stack *s)
{
    oasis_arp *a = &s->arp;
    while (a->lru_head)
        remove_entry(s, a->lru_head);
    oasis_free(s, a->buckets);
    a->buckets = NULL;
    a->nbuckets = 0;
}
