/* Loopback: datagrams to our own address or to 127/8, and IPv6 packets
 * to ::1 or to one of our IPv6 addresses (ipv6.c decides which), are
 * delivered inside the stack, never onto the link. One queue carries both
 * families, each counted in its own layer's counters. Packets wait there
 * until a zero-delay timer drains them from oasis_stack_poll(), so the
 * receiving side's callbacks never run inside the send call (a TCP flow of
 * this stack talking to a listener of this stack would otherwise recurse
 * output -> input -> output).
 * The queue is bounded like Linux's backlog (netdev_max_backlog, 1000):
 * beyond it datagrams are dropped, and TCP recovers as on any lossy path. */
#include "ip/ipv4.h"

#include "core/stack_impl.h"
#include "ipv6/ipv6.h"
#include "oasis/error.h"

#define LOOP_MAX_QUEUE 1000

int oasis_ipv4_is_loopback_dest(const oasis_stack *s, uint32_t dst)
{
    return (dst >> 24) == 127 || (s->addr != 0 && dst == s->addr);
}

uint32_t oasis_ipv4_source(const oasis_stack *s, uint32_t dst)
{
    /* 127/8 talks to itself: the reply to a datagram from 127.0.0.5 comes
     * from 127.0.0.5 too, so both ends of a flow agree on its addresses
     * whatever 127/8 address was dialled. */
    return (dst >> 24) == 127 ? dst : s->addr;
}

/* The version nibble says whose packet it is. */
static int is_v6(const oasis_pbuf *p) { return p->len > 0 && (p->data[0] >> 4) == 6; }

static void loop_drain(oasis_stack *s, oasis_timer *t)
{
    oasis_ipv4 *ip = &s->ip;
    /* Only what is queued now: what these deliveries send in turn waits
     * for the next round, so one poll cannot run for ever. */
    uint32_t n = ip->loop_len;
    ip->loop_draining = 1;
    while (n-- > 0 && ip->loop_head) {
        oasis_pbuf *p = ip->loop_head;
        ip->loop_head = p->next;
        if (!ip->loop_head)
            ip->loop_tail = NULL;
        ip->loop_len--;
        p->next = NULL;
        if (is_v6(p)) {
            s->ctr.ipv6.loop_rx_packets++;
            oasis_ipv6_input_loop(s, p->data, p->len);
        } else {
            s->ctr.ip.loop_rx_packets++;
            oasis_ipv4_input_loop(s, p->data, p->len);
        }
        oasis_pbuf_free(s, p);
    }
    ip->loop_draining = 0;
    if (ip->loop_head && !oasis_timer_active(&ip->loop_timer))
        oasis_timer_start(s, &ip->loop_timer, oasis_now(s) + 1);
}

int oasis_loop_output(oasis_stack *s, oasis_pbuf *p)
{
    oasis_ipv4 *ip = &s->ip;
    int v6 = is_v6(p);
    if (ip->loop_len >= LOOP_MAX_QUEUE) {
        if (v6)
            s->ctr.ipv6.loop_drops++;
        else
            s->ctr.ip.loop_drops++;
        oasis_pbuf_free(s, p);
        return OASIS_EAGAIN;
    }
    p->next = NULL;
    if (ip->loop_tail)
        ip->loop_tail->next = p;
    else
        ip->loop_head = p;
    ip->loop_tail = p;
    ip->loop_len++;
    if (v6)
        s->ctr.ipv6.loop_tx_packets++;
    else
        s->ctr.ip.loop_tx_packets++;
    if (!oasis_timer_active(&ip->loop_timer))
        /* From inside a drain, the next round is 1 ns on, so the timer run
         * in progress returns first; otherwise the next poll delivers. */
        oasis_timer_start(s, &ip->loop_timer, oasis_now(s) + (ip->loop_draining ? 1 : 0));
    return OASIS_OK;
}

void oasis_loop_init(oasis_stack *s)
{
    s->ip.loop_head = s->ip.loop_tail = NULL;
    s->ip.loop_len = 0;
    oasis_timer_init(&s->ip.loop_timer, loop_drain);
}

void oasis_loop_fini(oasis_stack *s)
{
    oasis_timer_stop(s, &s->ip.loop_timer);
    while (s->ip.loop_head) {
        oasis_pbuf *p = s->ip.loop_head;
        s->ip.loop_head = p->next;
        oasis_pbuf_free(s, p);
    }
    s->ip.loop_tail = NULL;
    s->ip.loop_len = 0;
}
