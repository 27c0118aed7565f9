/* The stack handle's insides, shared by every layer. */
#ifndef OASIS_CORE_STACK_IMPL_H
#define OASIS_CORE_STACK_IMPL_H

#include "oasis/counters.h"
#include "oasis/stack.h"

#include "arp/arp.h"
#include "core/prng.h"
#include "core/timer.h"
#include "icmp/icmp.h"
#include "ip/ipv4.h"
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

    oasis_arp arp;
    oasis_ipv4 ip;
    oasis_icmp icmp;
    oasis_udp udp;
    oasis_tcp_layer *tcp;
};

static inline uint64_t oasis_now(const oasis_stack *s) { return oasis_clock_now(s->clock); }

#endif
