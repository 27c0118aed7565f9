/* Datagrams of ours whose next hop did not resolve. A resolution that gives
 * up does so in a timer step and tells their transports at once. One whose
 * cache entry is evicted for another (the cache is full) ends inside a
 * send or an input, where no callback may run: its datagrams wait here,
 * still counted in the ARP or ND queue they came from, and a zero-delay
 * timer tells their transports from the next poll. */
#include "ip/unreach.h"

#include "core/bytes.h"
#include "core/stack_impl.h"
#include "icmp/icmp_wire.h"
#include "ip/ipv4_wire.h"
#include "ipv6/icmp6_wire.h"
#include "ipv6/ipv6.h"
#include "ipv6/ipv6_wire.h"
#include "oasis/error.h"

static void drain(oasis_stack *s, oasis_timer *t);

int oasis_ip_unreach_init(oasis_stack *s)
{
    oasis_ip_unreach *u = &s->unreach;
    u->head = u->tail = NULL;
    u->draining = u->closed = 0;
    oasis_timer_init(&u->timer, drain);
    return OASIS_OK;
}

void oasis_ip_unreach_fini(oasis_stack *s)
{
    oasis_ip_unreach *u = &s->unreach;
    oasis_timer_stop(s, &u->timer);
    u->closed = 1;
    while (u->head) {
        oasis_pbuf *p = u->head;
        u->head = p->next;
        oasis_pbuf_free(s, p);
    }
    u->tail = NULL;
}

/* The error a datagram of ours at d stands for: 1 when it has a transport
 * to tell (pointers into d). */
static int local_error(const uint8_t *d, size_t len, oasis_ip_error *e)
{
    size_t hlen;
    *e = (oasis_ip_error){.type = OASIS_ICMP_DEST_UNREACH, .code = OASIS_ICMP_HOST_UNREACH};
    if (len >= OASIS_IPV4_HLEN && d[0] >> 4 == 4) {
        hlen = (size_t)(d[0] & 0x0f) * 4;
        if (hlen < OASIS_IPV4_HLEN || (oasis_get16(d + 6) & 0x1fff) != 0) /* not a first fragment */
            return 0;
        e->family = OASIS_IP_FAMILY_V4;
        e->proto = d[9];
        e->src = e->reporter = oasis_get32(d + 12);
        e->dst = oasis_get32(d + 16);
    } else if (len >= OASIS_IPV6_HLEN && d[0] >> 4 == 6) {
        hlen = OASIS_IPV6_HLEN;
        e->proto = d[6];
        if (e->proto == OASIS_NH_FRAGMENT) { /* the one extension header we send */
            if (len < hlen + 8 || (oasis_get16(d + hlen + 2) & 0xfff8) != 0)
                return 0;
            e->proto = d[hlen];
            hlen += 8;
        }
        e->family = OASIS_IP_FAMILY_V6;
        e->type = OASIS_ICMP6_DEST_UNREACH;
        e->code = OASIS_ICMP6_DU_ADDR;
        e->src6 = e->reporter6 = d + 8;
        e->dst6 = d + 24;
    } else {
        return 0;
    }
    if (len < hlen + 8 || e->proto == OASIS_IPPROTO_ICMP || e->proto == OASIS_NH_ICMPV6)
        return 0;
    e->quote = d + hlen;
    e->quote_len = len - hlen;
    return 1;
}

void oasis_ip_unreachable_local(oasis_stack *s, const uint8_t *d, size_t len)
{
    oasis_ip_error e;
    if (local_error(d, len, &e))
        oasis_ip_error_deliver(s, &e);
}

void oasis_ip_unreachable_chain(oasis_stack *s, oasis_pbuf *p)
{
    while (p) {
        oasis_pbuf *next = p->next;
        p->next = NULL;
        oasis_ip_unreachable_local(s, p->data, p->len);
        oasis_pbuf_free(s, p);
        p = next;
    }
}

/* Out of the count of the queue p waited in. */
static void uncount(oasis_stack *s, const oasis_pbuf *p)
{
    if (p->meta2 == OASIS_IP_FAMILY_V4)
        s->arp.queued--;
    else if (s->ip6)
        s->ip6->queued--;
}

/* 1 when telling d's transport is worth keeping d for. */
static int wanted(const oasis_stack *s, const oasis_pbuf *p)
{
    oasis_ip_error e;
    if (!local_error(p->data, p->len, &e))
        return 0;
    const oasis_ip_handler *h = oasis_ip_handler_of(s, e.proto);
    return h && h->error;
}

void oasis_ip_unreachable_later(oasis_stack *s, oasis_pbuf *p, uint8_t family)
{
    oasis_ip_unreach *u = &s->unreach;
    int added = 0;
    while (p) {
        oasis_pbuf *next = p->next;
        p->next = NULL;
        p->meta2 = family;
        if (u->closed || !wanted(s, p)) {
            uncount(s, p);
            oasis_pbuf_free(s, p);
        } else {
            if (u->tail)
                u->tail->next = p;
            else
                u->head = p;
            u->tail = p;
            added = 1;
        }
        p = next;
    }
    /* From inside a drain, 1 ns on, so the timer run in progress returns
     * first (a callback that sends again and evicts again cannot keep one
     * poll going for ever); otherwise the next poll tells them. */
    if (added && !oasis_timer_active(&u->timer))
        oasis_timer_start(s, &u->timer, oasis_now(s) + (u->draining ? 1 : 0));
}

static void drain(oasis_stack *s, oasis_timer *t)
{
    oasis_ip_unreach *u = &s->unreach;
    (void)t;
    /* Only what waits now: a callback may send again, to the same address
     * (a new entry, a new resolution) or evict another entry. The batch
     * leaves its queues' counts before any transport is told, so those
     * queues have room for what the callbacks send. */
    oasis_pbuf *chain = u->head;
    u->head = u->tail = NULL;
    for (oasis_pbuf *p = chain; p; p = p->next)
        uncount(s, p);
    u->draining = 1;
    oasis_ip_unreachable_chain(s, chain);
    u->draining = 0;
}
