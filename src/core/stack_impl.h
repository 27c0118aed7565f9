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
#include "ip/unreach.h"
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
    oasis_ip_unreach unreach; /* datagrams of evicted entries (ip/unreach.c) */
    oasis_icmp icmp;
    oasis_udp udp;
    oasis_tcp_layer *tcp;
    struct oasis_ipv6 *ip6; /* IPv6, ICMPv6, ND, addresses (src/ipv6) */
    oasis_pbuf_cache pbufs;

    /* Time cached while the stack is inside oasis_stack_input/poll: one
     * clock read per frame or poll instead of one per timer, RTT sample and
     * segment (a vDSO read costs ~25 ns, which used to be half of a small
     * request/response). now_depth counts nested entries (an application
     * callback may feed the stack again); outside, reads are exact and
     * now_cache is OASIS_NOW_NONE, so that oasis_now tests one field. */
    uint64_t now_cache;
    uint32_t now_depth;
    /* Application code runs inside a stack call other than input/poll
     * (callbacks of abort, release, disconnect and destroy, a flow walk's
     * fn, a loop's watchers, a resolver's cancels): with now_depth, what
     * makes oasis_stack_destroy refuse (OASIS_EBUSY) rather than free the
     * memory those calls go on using when the callback returns. */
    uint32_t app_depth;
    /* Clients inside the library that keep the stack and its timers (a DNS
     * resolver, a DHCP or DHCPv6 client, a metrics reporter, Prometheus
     * server or control port): destroy is refused while any lives, which
     * would otherwise drop their pending callbacks and leave their own
     * destroy reading freed memory. */
    uint32_t clients;
    /* The wire the stack is attached to (wire.c, the only writer): destroy
     * takes it off, so that no frame in flight reaches freed memory. */
    struct oasis_wire *wire;
    /* TCP flows are woken (tcp_dispatch.c, the only writer): the poll at
     * or after this instant runs their callbacks, after the timers due
     * (UINT64_MAX: none). A flag checked by every poll, cheaper than a
     * timer armed for every segment that completes a read. */
    uint64_t tcp_due;
    /* IPv6 neighbours in DELAY (ipv6/nd.c, the only writer): entries that
     * wait 5 s for an upper layer's word before they are probed (RFC 4861
     * 7.3.3). While any does, TCP confirms the next hop of every IPv6 flow
     * that makes forward progress (7.3.1: new data acknowledged, new data
     * in); otherwise TCP pays one test of this field, not a lookup. */
    uint32_t nd_delay;

    /* Offloads of the frame being input (oasis_stack_input_offload, the
     * only writer; cleared when it returns): the frame, and whether its
     * link vouched for its TCP/UDP checksum (rx_csum_start: the L4 header
     * a partial checksum belongs to, 0 for DATA_VALID). */
    const uint8_t *rx_frame;
    size_t rx_len;
    uint8_t rx_csum_ok;
    uint16_t rx_csum_start;
    uint16_t rx_gso_size;
    /* Zero-copy receive (tcp/tcp_place.c, the only writer): the frame being
     * input has its TCP payload at rx_place_dst, not where its headers end
     * (rx_place_stub); oasis_tcp_input points the segment there. */
    const uint8_t *rx_place_stub;
    const uint8_t *rx_place_dst;
    /* Lazily allocated frame for writing cut super-segments to a pcap
     * (link/eth.c, stack.c). */
    uint8_t *gso_scratch;
    /* An IP link (OASIS_LINK_IP; link/ip_link.c, the only writer): link
     * is then ip_shim, which takes Ethernet frames like any link and hands
     * the application's link (app_link) the IP packets inside them. */
    oasis_link *app_link;
    oasis_link ip_shim;
    uint8_t link_ip;
};

/* The offloads of the frame being input (the rx_* fields), saved around
 * an input that sets its own: a frame may be fed from inside another's
 * processing. off NULL: none vouched for. Offsets count from frame. */
typedef struct oasis_rx_saved {
    const uint8_t *frame;
    size_t len;
    uint8_t csum_ok;
    uint16_t csum_start, gso_size;
} oasis_rx_saved;

static inline void oasis_rx_enter(oasis_stack *s, const uint8_t *frame, size_t len,
                                  const oasis_offload *off, oasis_rx_saved *sv)
{
    *sv = (oasis_rx_saved){s->rx_frame, s->rx_len, s->rx_csum_ok, s->rx_csum_start,
                           s->rx_gso_size};
    s->rx_frame = frame;
    s->rx_len = len;
    s->rx_csum_ok = off && (off->flags & (OASIS_OFFLOAD_CSUM_PARTIAL | OASIS_OFFLOAD_CSUM_VALID));
    s->rx_csum_start = off && (off->flags & OASIS_OFFLOAD_CSUM_PARTIAL) ? off->csum_start : 0;
    s->rx_gso_size = off && (off->gso_type & ~OASIS_GSO_ECN) ? off->gso_size : 0;
}

static inline void oasis_rx_leave(oasis_stack *s, const oasis_rx_saved *sv)
{
    s->rx_frame = sv->frame;
    s->rx_len = sv->len;
    s->rx_csum_ok = sv->csum_ok;
    s->rx_csum_start = sv->csum_start;
    s->rx_gso_size = sv->gso_size;
}

/* 1 when the TCP or UDP header at l4 belongs to the frame being input and
 * its link verified (or, trusted, left partial) its checksum. Datagrams
 * from reassembly live elsewhere, so they are always verified. */
static inline int oasis_rx_csum_trusted(const oasis_stack *s, const uint8_t *l4)
{
    if (!s->rx_csum_ok || l4 < s->rx_frame || l4 >= s->rx_frame + s->rx_len)
        return 0;
    return s->rx_csum_start == 0 || l4 == s->rx_frame + s->rx_csum_start;
}

/* Segments a received TCP payload stands for: its pieces when it belongs
 * to the frame being input and that frame is a GSO/GRO one, else 1. */
static inline uint32_t oasis_rx_pieces(const oasis_stack *s, const uint8_t *payload, size_t len)
{
    if (!s->rx_gso_size || len <= s->rx_gso_size ||
        ((payload < s->rx_frame || payload >= s->rx_frame + s->rx_len) &&
         (!payload || payload != s->rx_place_dst)))
        return 1;
    return (uint32_t)((len + s->rx_gso_size - 1) / s->rx_gso_size);
}

/* The scratch frame (NULL when out of memory). */
uint8_t *oasis_stack_gso_scratch(oasis_stack *s);
/* Writes a frame with offloads to pcap in its plain form (see stack.c). */
void oasis_stack_pcap_offload(oasis_stack *s, oasis_pcap *pcap, const uint8_t *frame, size_t len,
                              const oasis_offload *off);

/* Size of the scratch frame (the largest piece of any super-segment). */
#define OASIS_GSO_SCRATCH (65535u + 14u)

#define OASIS_NOW_NONE UINT64_MAX

/* oasis_now's other case: the clock outside the stack's calls, or an
 * instant inside that happens to be OASIS_NOW_NONE (stack.c). */
uint64_t oasis_now_read(const oasis_stack *s);

static inline uint64_t oasis_now(const oasis_stack *s)
{
    uint64_t t = s->now_cache;
    return t != OASIS_NOW_NONE ? t : oasis_now_read(s);
}

/* Brackets for the cached time; enter reads the clock only at the outermost
 * level, so a nested call sees the same instant as its caller. */
static inline uint64_t oasis_now_enter(oasis_stack *s)
{
    if (s->now_depth++ == 0)
        s->now_cache = oasis_clock_now(s->clock);
    return s->now_cache;
}

static inline void oasis_now_leave(oasis_stack *s)
{
    if (--s->now_depth == 0)
        s->now_cache = OASIS_NOW_NONE;
}

/* Brackets around application code run outside input/poll (see
 * app_depth). */
static inline void oasis_app_enter(oasis_stack *s) { s->app_depth++; }
static inline void oasis_app_leave(oasis_stack *s) { s->app_depth--; }

/* A client's create and destroy (see clients). */
static inline void oasis_stack_client_add(oasis_stack *s) { s->clients++; }
static inline void oasis_stack_client_del(oasis_stack *s) { s->clients--; }

/* oasis_stack_input/poll at a time the caller has just read from the
 * stack's clock (the wire reads it once per round for every port). */
void oasis_stack_input_at(oasis_stack *s, const uint8_t *frame, size_t len, uint64_t now);
/* The same for a frame the link vouches is at least an Ethernet header long
 * and sent to the stack's own unicast MAC (stack.c). */
void oasis_stack_input_unicast_at(oasis_stack *s, const uint8_t *frame, size_t len,
                                  uint64_t now);
int oasis_stack_poll_at(oasis_stack *s, uint64_t now);

#endif
