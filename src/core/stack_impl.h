/* The stack handle's insides, shared by every layer. */
#ifndef OASIS_CORE_STACK_IMPL_H
#define OASIS_CORE_STACK_IMPL_H

#include "oasis/counters.h"
#include "oasis/stack.h"

#include "arp/arp.h"
#include "core/pbuf.h"
#include "core/prng.h"
#include "core/secrets.h"
#include "core/timer.h"
#include "icmp/icmp.h"
#include "ip/ipv4.h"
#include "ip/proto.h"
#include "udp/udp.h"
#include "tcp/tcp.h"

struct oasis_stack {
    oasis_stack_config cfg;
    oasis_clock *clock;
    oasis_link *link;
    uint8_t mac[6];
    uint32_t addr;
    uint32_t netmask;
    uint32_t mtu;
    oasis_alloc_fn alloc;
    void *alloc_ud;
    void *user_data;

    oasis_counters ctr;
    oasis_timer_heap timers;
    oasis_prng prng;
    oasis_secrets secrets; /* keys: from the OS unless cfg.seed fixes them */

    oasis_arp arp;
    oasis_ipv4 ip;
    oasis_ip_protos protos; /* protocol handlers by number (ip/proto.c) */
    oasis_icmp icmp;
    oasis_udp udp;
    oasis_tcp_layer *tcp;
    struct oasis_ipv6 *ip6; /* IPv6, ICMPv6, ND, addresses (src/ipv6) */
    oasis_pbuf_cache pbufs;

    /* Time cached while the stack is inside oasis_stack_input/poll: one
     * clock read per frame or poll instead of one per timer, RTT sample and
     * segment (a vDSO read costs ~25 ns, which used to be half of a small
     * request/response). now_depth counts nested entries (an application
     * callback may feed the stack again); outside, reads are exact. */
    uint64_t now_cache;
    uint32_t now_depth;
};

static inline uint64_t oasis_now(const oasis_stack *s)
{
    return s->now_depth ? s->now_cache : oasis_clock_now(s->clock);
}

/* Brackets for the cached time; enter reads the clock only at the outermost
 * level, so a nested call sees the same instant as its caller. */
static inline uint64_t oasis_now_enter(oasis_stack *s)
{
    if (s->now_depth++ == 0)
        s->now_cache = oasis_clock_now(s->clock);
    return s->now_cache;
}

static inline void oasis_now_leave(oasis_stack *s) { s->now_depth--; }

/* oasis_stack_input/poll at a time the caller has just read from the
 * stack's clock (the wire reads it once per round for every port). */
void oasis_stack_input_at(oasis_stack *s, const uint8_t *frame, size_t len, uint64_t now);
int oasis_stack_poll_at(oasis_stack *s, uint64_t now);

#endif
