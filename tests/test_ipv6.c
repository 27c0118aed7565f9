/* IPv6 over the in-memory wire and against a capturing link, on the
 * virtual clock: link-local addresses, DAD (and its conflict case),
 * neighbour discovery and its state machine, echo, SLAAC from RAs and its
 * lifetimes, reassembly, extension-header attacks, ICMPv6 error rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/checksum.h"
#include "core/pbuf.h"
#include "core/siphash.h"
#include "core/stack_impl.h"
#include "ipv6/icmp6_wire.h"
#include "ipv6/ipv6.h"
#include "ipv6/ipv6_wire.h"
#include "ipv6/nd_wire.h"
#include "link/eth_wire.h"
#include "tcp/tcp_wire.h"
#include "udp/udp_wire.h"
#include "oasis/error.h"
#include "oasis/ip.h"
#include "oasis/ipv6.h"
#include "oasis/oasis.h"
#include "caplink.h"
#include "testutil.h"

#define SEC OASIS_NS_PER_SEC

/* ---- two stacks on the wire ---- */

static void net6_init(test_net *n)
{
    memset(n, 0, sizeof *n);
    n->clock = oasis_clock_new_virtual(1000 * SEC);
    assert_int_equal(oasis_wire_create(n->clock, NULL, &n->wire), 0);
    oasis_stack_config cfg;
    test_stack_config(&cfg, n->clock, 1);
    cfg.ipv6 = 1;
    assert_int_equal(oasis_stack_create(&cfg, &n->a), 0);
    test_stack_config(&cfg, n->clock, 2);
    cfg.ipv6 = 1;
    assert_int_equal(oasis_stack_create(&cfg, &n->b), 0);
    assert_non_null(oasis_wire_attach(n->wire, n->a));
    assert_non_null(oasis_wire_attach(n->wire, n->b));
}

static int never(void *ud) { (void)ud; return 0; }

static void run_for(test_net *n, uint64_t ns) { oasis_wire_run(n->wire, never, NULL, ns); }

static oasis_ipv6_addr_info addr_of(oasis_stack *s, int origin)
{
    oasis_ipv6_addr_info a[8];
    size_t k = oasis_ipv6_addrs(s, a, 8);
    for (size_t i = 0; i < k; i++)
        if (a[i].origin == origin)
            return a[i];
    fail_msg("no address of origin %d", origin);
    return a[0];
}

typedef struct pingres {
    int done, err;
    uint64_t rtt;
} pingres;

static void on_ping(oasis_stack *s, int err, uint16_t seq, uint64_t rtt, void *ud)
{
    pingres *r = ud;
    (void)s;
    (void)seq;
    r->done = 1;
    r->err = err;
    r->rtt = rtt;
}

static void test_link_local_dad_and_ping(void **state)
{
    (void)state;
    test_net n;
    net6_init(&n);
    /* Before DAD completes the link-local address is tentative. */
    oasis_ipv6_addr_info a = addr_of(n.a, OASIS_IPV6_LINK_LOCAL);
    assert_int_equal(a.state, OASIS_IPV6_TENTATIVE);
    assert_true(oasis_ipaddr_is_link_local(&a.addr));
    run_for(&n, 3 * SEC);
    a = addr_of(n.a, OASIS_IPV6_LINK_LOCAL);
    oasis_ipv6_addr_info b = addr_of(n.b, OASIS_IPV6_LINK_LOCAL);
    assert_int_equal(a.state, OASIS_IPV6_PREFERRED);
    assert_int_equal(b.state, OASIS_IPV6_PREFERRED);
    assert_int_equal(oasis_stack_counters(n.a)->nd.dad_ok, 1);
    assert_int_equal(oasis_stack_counters(n.a)->nd.dad_conflicts, 0);
    /* RFC 7217: the identifier is not the MAC's EUI-64. */
    assert_false(a.addr.b[11] == 0xff && a.addr.b[12] == 0xfe);

    pingres r = {0};
    assert_int_equal(oasis_ping_addr(n.a, &b.addr, 7, 1, 56, 2 * SEC, on_ping, &r), 0);
    test_net_run_until(&n, &r.done, 5 * SEC);
    assert_true(r.done);
    assert_int_equal(r.err, 0);
    const oasis_counters *cb = oasis_stack_counters(n.b);
    assert_int_equal(cb->icmp6.in_echos, 1);
    assert_int_equal(cb->icmp6.out_echo_replies, 1);
    /* b learned a from the NS (STALE); a has b REACHABLE from the NA. */
    oasis_in6 bb;
    memcpy(bb.b, b.addr.b, 16);
    const ip6_neigh *e = oasis_nd_lookup(n.a, &bb);
    assert_non_null(e);
    assert_int_equal(e->state, NEIGH_REACHABLE);
    test_net_fini(&n);
}


/* ---- one stack on a capturing link ---- */

#define MAXF 64
typedef struct fx {
    oasis_clock *clock;
    oasis_stack *s;
    test_cap cap;
    int events[32]; /* address callback: state | origin << 8 */
    oasis_ipaddr ev_addr[32];
    int nev;
} fx;

static const uint8_t MAC_PEER[6] = {2, 0, 0, 0, 0, 0x22};
static const oasis_in6 PEER = {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x22}};
static const oasis_in6 ROUTER = {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01}};
static const oasis_in6 UNSPEC;

static void on_addr(oasis_stack *s, const oasis_ipv6_addr_info *a, void *ud)
{
    fx *x = ud;
    (void)s;
    if (x->nev < 32) {
        x->ev_addr[x->nev] = a->addr;
        x->events[x->nev++] = a->state | a->origin << 8;
    }
}

static const oasis_counters *ctr(const fx *x) { return oasis_stack_counters(x->s); }

/* Moves the virtual clock to now + ns, running every timer on the way at
 * its own deadline. */
static void advance(fx *x, uint64_t ns) { test_advance(x->s, x->clock, ns); }

/* A stack with IPv6 on, on a capturing link; tweak (may be NULL) sets
 * what a test needs in the configuration. */
static void fx_start_ex(fx *x, uint32_t cache, uint32_t queue, int with_ll_ready,
                        void (*tweak)(oasis_stack_config *))
{
    memset(x, 0, sizeof *x);
    oasis_stack_config cfg;
    x->clock = oasis_clock_new_virtual(1000 * SEC);
    test_stack_config(&cfg, x->clock, 1);
    cfg.arp_gratuitous = 0;
    cfg.ipv6 = 1;
    if (cache)
        cfg.nd_cache_size = cache;
    if (queue)
        cfg.nd_queue_len = queue;
    if (tweak)
        tweak(&cfg);
    assert_int_equal(oasis_stack_create(&cfg, &x->s), 0);
    oasis_ipv6_set_addr_cb(x->s, on_addr, x);
    test_cap_attach(&x->cap, x->s, MAXF, 1500);
    if (with_ll_ready) {
        advance(x, 3 * SEC);
        x->cap.n = 0;
    }
}

static void fx_start(fx *x, uint32_t cache, uint32_t queue, int with_ll_ready)
{
    fx_start_ex(x, cache, queue, with_ll_ready, NULL);
}

static void fx_stop(fx *x)
{
    oasis_stack_destroy(x->s);
    test_cap_fini(&x->cap);
    oasis_clock_free(x->clock);
}

static oasis_in6 ll_of(fx *x)
{
    oasis_ipv6_addr_info a = addr_of(x->s, OASIS_IPV6_LINK_LOCAL);
    oasis_in6 r;
    memcpy(r.b, a.addr.b, 16);
    return r;
}

/* Injects an IPv6 packet: fixed header + body (the body's upper layer is
 * `nh`); an ICMPv6 body gets its checksum. */
static void inject_ex(fx *x, const oasis_in6 *src, const oasis_in6 *dst, uint8_t hop, uint8_t nh,
                      const uint8_t *body, size_t n, int bad_csum);

static void inject(fx *x, const oasis_in6 *src, const oasis_in6 *dst, uint8_t hop, uint8_t nh,
                   const uint8_t *body, size_t n)
{
    inject_ex(x, src, dst, hop, nh, body, n, 0);
}

/* As inject; bad_csum: the ICMPv6 checksum is spoilt after it is summed. */
static void inject_ex(fx *x, const oasis_in6 *src, const oasis_in6 *dst, uint8_t hop, uint8_t nh,
                      const uint8_t *body, size_t n, int bad_csum)
{
    uint8_t f[2048];
    uint8_t mac[6];
    if (oasis_in6_is_multicast(dst))
        oasis_in6_multicast_mac(dst, mac);
    else
        memcpy(mac, oasis_stack_mac(x->s), 6);
    oasis_eth_emit(f, mac, MAC_PEER, OASIS_ETHERTYPE_IPV6);
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.payload_len = (uint16_t)n;
    h.next = nh;
    h.hop_limit = hop;
    h.src = *src;
    h.dst = *dst;
    oasis_ipv6_emit(f + 14, &h);
    memcpy(f + 54, body, n);
    if (nh == OASIS_NH_ICMPV6)
        oasis_icmp6_finish(f + 54, n, body[0], body[1], oasis_get32(body + 4), src, dst);
    if (bad_csum)
        f[54 + 2] ^= 0x40;
    oasis_stack_input(x->s, f, 54 + n);
}

/* Frame i as IPv6: its header and upper-layer message (ICMPv6 type). */
static int frame_icmp_type(const fx *x, size_t i, oasis_ipv6_hdr *h)
{
    if (oasis_get16(x->cap.frame[i] + 12) != OASIS_ETHERTYPE_IPV6)
        return -1;
    oasis_ipv6_hdr tmp;
    if (!h)
        h = &tmp;
    if (oasis_ipv6_parse(x->cap.frame[i] + 14, x->cap.len[i] - 14, h) != 0)
        return -1;
    oasis_ipv6_walk w;
    if (oasis_ipv6_walk_chain(x->cap.frame[i] + 14, 40 + h->payload_len, &w) != 0 || w.proto != 58)
        return -1;
    return x->cap.frame[i][14 + w.off];
}

static size_t count_type(const fx *x, int type)
{
    size_t k = 0;
    for (size_t i = 0; i < x->cap.n; i++)
        k += frame_icmp_type(x, i, NULL) == type;
    return k;
}

static int last_of_type(const fx *x, int type)
{
    for (size_t i = x->cap.n; i-- > 0;)
        if (frame_icmp_type(x, i, NULL) == type)
            return (int)i;
    return -1;
}

static void inject_na(fx *x, const oasis_in6 *src, const oasis_in6 *dst, const oasis_in6 *target,
                      uint8_t flags, const uint8_t *tlla, uint8_t hop)
{
    uint8_t m[32];
    size_t n = oasis_nd_emit_na(m, target, flags, tlla);
    inject(x, src, dst, hop, OASIS_NH_ICMPV6, m, n);
}

static void inject_ns(fx *x, const oasis_in6 *src, const oasis_in6 *dst, const oasis_in6 *target,
                      const uint8_t *slla)
{
    uint8_t m[32];
    size_t n = oasis_nd_emit_ns(m, target, slla);
    inject(x, src, dst, 255, OASIS_NH_ICMPV6, m, n);
}

/* DAD (RFC 4862 5.4): an NS from :: for our tentative link-local address
 * makes it duplicate; being formed by us, it is formed again with the next
 * DAD_Counter (RFC 7217) and tested anew. */
static void test_dad_conflict_link_local(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 0);
    oasis_in6 ll = ll_of(&x);
    oasis_in6 sn = oasis_in6_solicited_node(&ll);
    inject_ns(&x, &UNSPEC, &sn, &ll, NULL);
    assert_int_equal(ctr(&x)->nd.dad_conflicts, 1);
    assert_int_equal(x.nev, 2);
    assert_int_equal(x.events[0], OASIS_IPV6_DUPLICATE | OASIS_IPV6_LINK_LOCAL << 8);
    assert_int_equal(x.events[1], OASIS_IPV6_TENTATIVE | OASIS_IPV6_LINK_LOCAL << 8);
    oasis_in6 ll2 = ll_of(&x);
    assert_false(oasis_in6_eq(&ll, &ll2));
    assert_true(oasis_in6_prefix_eq(&ll, &ll2, 64));
    advance(&x, 3 * SEC);
    assert_int_equal(addr_of(x.s, OASIS_IPV6_LINK_LOCAL).state, OASIS_IPV6_PREFERRED);
    assert_int_equal(ctr(&x)->nd.dad_ok, 1);
    /* The old address is no longer ours: an NS for it draws nothing. */
    x.cap.n = 0;
    inject_ns(&x, &PEER, &ll, &ll, MAC_PEER);
    assert_int_equal(count_type(&x, OASIS_ICMP6_NA), 0);
    fx_stop(&x);
}

/* A static address that another node holds (it answers our DAD probe with
 * an NA) is DUPLICATE for good: never a source, never a destination. */
static void test_dad_conflict_static(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_ipaddr g;
    assert_int_equal(oasis_ipaddr_parse("2001:db8::5", &g), 0);
    assert_int_equal(oasis_ipv6_add_addr(x.s, &g, 64), 0);
    assert_int_equal(oasis_ipv6_add_addr(x.s, &g, 64), OASIS_EADDRINUSE);
    advance(&x, 1100 * OASIS_NS_PER_MS); /* the probe went out */
    int i = last_of_type(&x, OASIS_ICMP6_NS);
    assert_true(i >= 0);
    oasis_ipv6_hdr h;
    frame_icmp_type(&x, (size_t)i, &h);
    assert_true(oasis_in6_is_unspecified(&h.src)); /* DAD probes come from :: */
    assert_int_equal(h.hop_limit, 255);
    oasis_in6 ga;
    memcpy(ga.b, g.b, 16);
    oasis_in6 sn = oasis_in6_solicited_node(&ga);
    assert_true(oasis_in6_eq(&h.dst, &sn));
    inject_na(&x, &PEER, &oasis_in6_all_nodes, &ga, OASIS_ND_NA_OVERRIDE, MAC_PEER, 255);
    assert_int_equal(ctr(&x)->nd.dad_conflicts, 1);
    advance(&x, 10 * SEC);
    oasis_ipv6_addr_info st = addr_of(x.s, OASIS_IPV6_STATIC);
    assert_int_equal(st.state, OASIS_IPV6_DUPLICATE);
    assert_int_equal(x.events[x.nev - 1], OASIS_IPV6_DUPLICATE | OASIS_IPV6_STATIC << 8);
    /* Not a destination: an echo to it is dropped. */
    uint8_t echo[16] = {128, 0, 0, 0, 0, 1, 0, 1};
    uint64_t before = ctr(&x)->ipv6.in_addr_errors;
    x.cap.n = 0;
    inject(&x, &PEER, &ga, 64, OASIS_NH_ICMPV6, echo, sizeof echo);
    assert_int_equal(ctr(&x)->ipv6.in_addr_errors, before + 1);
    assert_int_equal(x.cap.n, 0);
    /* Not a source: a global destination has no usable source address. */
    oasis_ipaddr far;
    assert_int_equal(oasis_ipaddr_parse("2001:db8::9", &far), 0);
    pingres r = {0};
    int err = oasis_ping_addr(x.s, &far, 1, 1, 8, SEC, on_ping, &r);
    if (err == 0) { /* went out from the link-local address, never from the duplicate */
        int k = last_of_type(&x, OASIS_ICMP6_NS);
        assert_true(k >= 0);
        frame_icmp_type(&x, (size_t)k, &h);
        assert_false(oasis_in6_eq(&h.src, &ga));
    }
    fx_stop(&x);
}

/* The multicast filter a NIC would keep (RFC 2464 7): frames to the
 * Ethernet address of a group we are not in (a TAP shows us the kernel's
 * MLD reports to ff02::16 and router solicitations to ff02::2) are not for
 * us, like another host's unicast, and no IPv6 error counter moves. Our
 * groups (all-nodes, our solicited-node groups) pass; a group whose
 * Ethernet address matches ours but whose IPv6 address does not is still
 * refused by IPv6 (in_addr_errors). */
static void test_multicast_filter(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    const oasis_counters *c = ctr(&x);
    uint64_t not_for_us = c->link.rx_not_for_us, icmp_in = c->icmp6.in_msgs;
    uint64_t ip_in = c->ipv6.in_receives;
    const oasis_in6 mld_routers = {{0xff, 0x02, [15] = 0x16}}, all_routers = {{0xff, 0x02, [15] = 2}};
    const oasis_in6 other = {{0xff, 0x05, [15] = 1}}; /* the Ethernet address of ff02::1 */
    uint8_t mld2[28] = {143, 0, 0, 0, 0, 0, 0, 1, 4, 0, 0, 0, 0xff, 0x02};
    mld2[27] = 0xfb; /* a report for ff02::fb (mDNS) */
    uint8_t rs[8] = {133, 0, 0, 0};
    uint8_t echo[16] = {128, 0, 0, 0, 0, 1, 0, 1};
    inject(&x, &PEER, &mld_routers, 1, OASIS_NH_ICMPV6, mld2, sizeof mld2);
    inject(&x, &PEER, &all_routers, 255, OASIS_NH_ICMPV6, rs, sizeof rs);
    assert_int_equal(c->link.rx_not_for_us, not_for_us + 2);
    assert_int_equal(c->ipv6.in_addr_errors, 0);
    assert_int_equal(c->ipv6.in_receives, ip_in);
    assert_int_equal(c->icmp6.in_msgs, icmp_in);
    /* Our groups pass the filter. */
    inject(&x, &PEER, &oasis_in6_all_nodes, 64, OASIS_NH_ICMPV6, echo, sizeof echo);
    assert_int_equal(c->icmp6.in_echos, 1);
    oasis_in6 sn = oasis_in6_solicited_node(&ll);
    uint64_t nas = c->icmp6.out_neigh_adverts;
    inject_ns(&x, &PEER, &sn, &ll, MAC_PEER);
    assert_int_equal(c->icmp6.out_neigh_adverts, nas + 1);
    assert_int_equal(c->link.rx_not_for_us, not_for_us + 2);
    /* Through the filter, refused by IPv6. */
    inject(&x, &PEER, &other, 64, OASIS_NH_ICMPV6, echo, sizeof echo);
    assert_int_equal(c->link.rx_not_for_us, not_for_us + 2);
    assert_int_equal(c->ipv6.in_addr_errors, 1);
    assert_int_equal(c->icmp6.in_echos, 1);
    fx_stop(&x);
}

/* Packets to a tentative address are dropped (RFC 4862 5.4). */
static void test_tentative_gets_nothing(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 0);
    oasis_in6 ll = ll_of(&x);
    uint8_t echo[16] = {128, 0, 0, 0, 0, 1, 0, 1};
    inject(&x, &PEER, &ll, 64, OASIS_NH_ICMPV6, echo, sizeof echo);
    assert_int_equal(ctr(&x)->ipv6.in_addr_errors, 1);
    assert_int_equal(ctr(&x)->icmp6.in_echos, 0);
    /* An NS with a source for a tentative target is ignored (5.4.3). */
    x.cap.n = 0;
    inject_ns(&x, &PEER, &ll, &ll, MAC_PEER);
    assert_int_equal(count_type(&x, OASIS_ICMP6_NA), 0);
    assert_int_equal(ctr(&x)->nd.dad_conflicts, 0);
    fx_stop(&x);
}

/* RFC 4861 7.3.2 on the virtual clock: INCOMPLETE (3 multicast NS a second
 * apart, then failure), REACHABLE (NA solicited), STALE after ReachableTime,
 * DELAY on use, PROBE after 5 s with unicast NS, REACHABLE again on a
 * solicited NA; unanswered probes delete the entry. */
static void test_nd_state_machine(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_ipaddr peer = oasis_ipaddr_v6(PEER.b);
    pingres r = {0};

    /* Nobody answers: three solicitations, then the ping fails. */
    assert_int_equal(oasis_ping_addr(x.s, &peer, 1, 1, 8, 60 * SEC, on_ping, &r), 0);
    const ip6_neigh *e = oasis_nd_lookup(x.s, &PEER);
    assert_non_null(e);
    assert_int_equal(e->state, NEIGH_INCOMPLETE);
    assert_int_equal(e->qlen, 1);
    advance(&x, 0);
    assert_int_equal(count_type(&x, OASIS_ICMP6_NS), 1);
    int i = last_of_type(&x, OASIS_ICMP6_NS);
    oasis_ipv6_hdr h;
    frame_icmp_type(&x, (size_t)i, &h);
    oasis_in6 sn = oasis_in6_solicited_node(&PEER);
    assert_true(oasis_in6_eq(&h.dst, &sn));
    assert_int_equal(h.hop_limit, 255);
    assert_memory_equal(x.cap.frame[i], ((uint8_t[]){0x33, 0x33, 0xff, 0, 0, 0x22}), 6);
    advance(&x, 999 * OASIS_NS_PER_MS);
    assert_int_equal(count_type(&x, OASIS_ICMP6_NS), 1);
    advance(&x, OASIS_NS_PER_MS);
    assert_int_equal(count_type(&x, OASIS_ICMP6_NS), 2);
    advance(&x, SEC);
    assert_int_equal(count_type(&x, OASIS_ICMP6_NS), 3);
    assert_false(r.done);
    advance(&x, SEC);
    assert_true(r.done);
    assert_int_equal(r.err, OASIS_EUNREACH);
    assert_null(oasis_nd_lookup(x.s, &PEER));
    assert_int_equal(ctr(&x)->nd.resolve_failed, 1);
    assert_int_equal(ctr(&x)->nd.queue_drops, 1);

    /* Answered: the queued echo goes out to the advertised MAC. */
    x.cap.n = 0;
    memset(&r, 0, sizeof r);
    assert_int_equal(oasis_ping_addr(x.s, &peer, 1, 2, 8, 60 * SEC, on_ping, &r), 0);
    advance(&x, 0);
    oasis_in6 ll = ll_of(&x);
    /* A hop limit other than 255 is not from the link: ignored. */
    inject_na(&x, &PEER, &ll, &PEER, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE, MAC_PEER, 254);
    assert_int_equal(ctr(&x)->nd.bad_hop_limit, 1);
    e = oasis_nd_lookup(x.s, &PEER);
    assert_int_equal(e->state, NEIGH_INCOMPLETE);
    inject_na(&x, &PEER, &ll, &PEER, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE, MAC_PEER, 255);
    e = oasis_nd_lookup(x.s, &PEER);
    assert_int_equal(e->state, NEIGH_REACHABLE);
    assert_memory_equal(e->mac, MAC_PEER, 6);
    i = last_of_type(&x, OASIS_ICMP6_ECHO_REQUEST);
    assert_true(i >= 0);
    assert_memory_equal(x.cap.frame[i], MAC_PEER, 6);

    /* ReachableTime is at most 1.5 x 30 s: then STALE, no solicitation. */
    x.cap.n = 0;
    advance(&x, 45 * SEC + 1);
    assert_int_equal(e->state, NEIGH_STALE);
    assert_int_equal(count_type(&x, OASIS_ICMP6_NS), 0);
    /* Use: DELAY, the packet goes out at once to the cached MAC. */
    memset(&r, 0, sizeof r);
    assert_int_equal(oasis_ping_addr(x.s, &peer, 1, 3, 8, 60 * SEC, on_ping, &r), 0);
    assert_int_equal(e->state, NEIGH_DELAY);
    assert_int_equal(count_type(&x, OASIS_ICMP6_ECHO_REQUEST), 1);
    /* DELAY_FIRST_PROBE_TIME (5 s), then PROBE: a unicast NS to the peer. */
    advance(&x, 5 * SEC - 1);
    assert_int_equal(e->state, NEIGH_DELAY);
    advance(&x, 1);
    assert_int_equal(e->state, NEIGH_PROBE);
    i = last_of_type(&x, OASIS_ICMP6_NS);
    assert_true(i >= 0);
    frame_icmp_type(&x, (size_t)i, &h);
    assert_true(oasis_in6_eq(&h.dst, &PEER));
    assert_memory_equal(x.cap.frame[i], MAC_PEER, 6);
    inject_na(&x, &PEER, &ll, &PEER, OASIS_ND_NA_SOLICITED, NULL, 255);
    assert_int_equal(e->state, NEIGH_REACHABLE);

    /* An unsolicited NA with another MAC and no Override: kept, STALE. */
    static const uint8_t MAC_OTHER[6] = {2, 0, 0, 0, 0, 0x33};
    inject_na(&x, &PEER, &oasis_in6_all_nodes, &PEER, 0, MAC_OTHER, 255);
    assert_int_equal(e->state, NEIGH_STALE);
    assert_memory_equal(e->mac, MAC_PEER, 6);
    /* With Override: the new MAC is taken, still STALE (not solicited). */
    inject_na(&x, &PEER, &oasis_in6_all_nodes, &PEER, OASIS_ND_NA_OVERRIDE, MAC_OTHER, 255);
    assert_int_equal(e->state, NEIGH_STALE);
    assert_memory_equal(e->mac, MAC_OTHER, 6);
    /* A solicited NA to a multicast address is invalid (7.1.2). */
    uint64_t bad = ctr(&x)->nd.bad_messages;
    inject_na(&x, &PEER, &oasis_in6_all_nodes, &PEER, OASIS_ND_NA_SOLICITED, MAC_PEER, 255);
    assert_int_equal(ctr(&x)->nd.bad_messages, bad + 1);

    /* STALE -> DELAY -> PROBE and no answer: three probes, then gone. */
    x.cap.n = 0;
    memset(&r, 0, sizeof r);
    assert_int_equal(oasis_ping_addr(x.s, &peer, 1, 4, 8, 60 * SEC, on_ping, &r), 0);
    advance(&x, 5 * SEC);
    assert_int_equal(e->state, NEIGH_PROBE);
    advance(&x, 3 * SEC - 1);
    assert_int_equal(count_type(&x, OASIS_ICMP6_NS), 3);
    assert_non_null(oasis_nd_lookup(x.s, &PEER));
    advance(&x, 1);
    assert_null(oasis_nd_lookup(x.s, &PEER));
    fx_stop(&x);
}

/* The neighbour cache and the waiting queue are bounded. */
static void test_nd_bounds(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 2, 3, 1);
    pingres r[8];
    memset(r, 0, sizeof r);
    /* Five packets to one unresolved neighbour: three wait (the newest,
     * RFC 4861 7.2.2), two dropped. */
    oasis_ipaddr peer = oasis_ipaddr_v6(PEER.b);
    for (int k = 0; k < 5; k++)
        assert_int_equal(oasis_ping_addr(x.s, &peer, 1, (uint16_t)k, 8, 60 * SEC, on_ping, &r[k]), 0);
    const ip6_neigh *e = oasis_nd_lookup(x.s, &PEER);
    assert_int_equal(e->qlen, 3);
    assert_int_equal(ctr(&x)->nd.queue_drops, 2);
    /* Two entries at most, INCOMPLETE ones one (half the cache) once it is
     * full: a third resolution evicts the oldest INCOMPLETE entry with its
     * waiting packets (RFC 6583 7.1), so it can always start. */
    oasis_in6 p2 = PEER, p3 = PEER;
    p2.b[15] = 0x23;
    p3.b[15] = 0x24;
    oasis_ipaddr a2 = oasis_ipaddr_v6(p2.b), a3 = oasis_ipaddr_v6(p3.b);
    advance(&x, 1);
    assert_int_equal(oasis_ping_addr(x.s, &a2, 1, 1, 8, 60 * SEC, on_ping, &r[5]), 0);
    assert_int_equal(ctr(&x)->nd.cache_entries, 2);
    advance(&x, 1);
    assert_int_equal(oasis_ping_addr(x.s, &a3, 1, 1, 8, 60 * SEC, on_ping, &r[6]), 0);
    assert_int_equal(ctr(&x)->nd.cache_no_room, 0);
    assert_int_equal(ctr(&x)->nd.cache_evictions, 1);
    /* PEER's three went with its entry; a2's and a3's first packets wait
     * past the stack's three (7.2.2: at least one per neighbour). */
    assert_int_equal(ctr(&x)->nd.queue_drops, 2 + 3);
    assert_int_equal(oasis_nd_lookup(x.s, &p2)->qlen, 1);
    assert_int_equal(oasis_nd_lookup(x.s, &p3)->qlen, 1);
    assert_int_equal(ctr(&x)->nd.cache_entries, 2);
    assert_null(oasis_nd_lookup(x.s, &PEER));
    assert_non_null(oasis_nd_lookup(x.s, &p2));
    assert_non_null(oasis_nd_lookup(x.s, &p3));
    /* Resolved, a STALE entry is evicted for a newcomer while no more than
     * half the cache is INCOMPLETE. */
    oasis_in6 ll = ll_of(&x);
    inject_na(&x, &p2, &ll, &p2, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE, MAC_PEER, 255);
    advance(&x, 46 * SEC); /* p2 STALE; p3 failed and freed */
    assert_int_equal(oasis_nd_lookup(x.s, &p2)->state, NEIGH_STALE);
    assert_null(oasis_nd_lookup(x.s, &p3));
    static const uint8_t mac3[6] = {2, 0, 0, 0, 0, 0x24};
    inject_ns(&x, &p3, &ll, &ll, mac3); /* p3 learned, DELAY by our NA */
    assert_int_equal(oasis_nd_lookup(x.s, &p3)->state, NEIGH_DELAY);
    assert_int_equal(oasis_ping_addr(x.s, &peer, 1, 9, 8, 60 * SEC, on_ping, &r[7]), 0);
    assert_non_null(oasis_nd_lookup(x.s, &PEER));
    assert_null(oasis_nd_lookup(x.s, &p2)); /* the least recently used */
    assert_non_null(oasis_nd_lookup(x.s, &p3));
    fx_stop(&x);
}

/* RFC 6583 7.1 (neighbour cache exhaustion): packets to many unresolved
 * on-link addresses neither push out the neighbour we talk to nor block a
 * new resolution; they only recycle each other's INCOMPLETE entries. */
static void test_nd_incomplete_flood(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 4, 0, 1);
    pingres r[12];
    memset(r, 0, sizeof r);
    oasis_in6 ll = ll_of(&x);
    oasis_ipaddr peer = oasis_ipaddr_v6(PEER.b);
    assert_int_equal(oasis_ping_addr(x.s, &peer, 1, 1, 8, 60 * SEC, on_ping, &r[0]), 0);
    inject_na(&x, &PEER, &ll, &PEER, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE, MAC_PEER, 255);
    assert_int_equal(oasis_nd_lookup(x.s, &PEER)->state, NEIGH_REACHABLE);
    oasis_in6 f[10];
    for (int k = 0; k < 10; k++) {
        f[k] = PEER;
        f[k].b[14] = 0x40;
        f[k].b[15] = (uint8_t)k;
        oasis_ipaddr a = oasis_ipaddr_v6(f[k].b);
        advance(&x, 1);
        assert_int_equal(oasis_ping_addr(x.s, &a, 2, (uint16_t)k, 8, 60 * SEC, on_ping, &r[1]), 0);
        assert_non_null(oasis_nd_lookup(x.s, &f[k]));
    }
    const oasis_nd_counters *c = &ctr(&x)->nd;
    assert_int_equal(c->cache_no_room, 0);
    assert_int_equal(c->cache_entries, 4);
    assert_int_equal(c->cache_evictions, 7); /* three took the free slots */
    assert_int_equal(c->queue_drops, 7);     /* each evicted one held its ping */
    assert_int_equal(oasis_nd_lookup(x.s, &PEER)->state, NEIGH_REACHABLE);
    for (int k = 0; k < 7; k++)
        assert_null(oasis_nd_lookup(x.s, &f[k]));
    /* A real neighbour's resolution starts and completes in the flood. */
    oasis_in6 p2 = PEER;
    p2.b[15] = 0x23;
    oasis_ipaddr a2 = oasis_ipaddr_v6(p2.b);
    advance(&x, 1);
    assert_int_equal(oasis_ping_addr(x.s, &a2, 3, 1, 8, 60 * SEC, on_ping, &r[2]), 0);
    x.cap.n = 0;
    static const uint8_t mac2[6] = {2, 0, 0, 0, 0, 0x23};
    inject_na(&x, &p2, &ll, &p2, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE, mac2, 255);
    assert_int_equal(oasis_nd_lookup(x.s, &p2)->state, NEIGH_REACHABLE);
    assert_int_equal(count_type(&x, OASIS_ICMP6_ECHO_REQUEST), 1);
    assert_int_equal(oasis_nd_lookup(x.s, &PEER)->state, NEIGH_REACHABLE);
    fx_stop(&x);
}

/* A forged on-link source: 2001:db8::/64 style, its own MAC. */
static void forged(oasis_in6 *ip, uint8_t mac[6], uint32_t k)
{
    *ip = PEER;
    ip->b[12] = 0x50;
    ip->b[13] = (uint8_t)(k >> 16);
    ip->b[14] = (uint8_t)(k >> 8);
    ip->b[15] = (uint8_t)k;
    memcpy(mac, (uint8_t[6]){0x02, 0x50, 0, (uint8_t)(k >> 16), (uint8_t)(k >> 8), (uint8_t)k}, 6);
}

/* RFC 6583 7.1 for what arrives: a flood of NS from forged sources
 * (RFC 4861 7.2.3 would learn each) takes only the slots of entries not
 * in active use (ND_IN_USE_NS), never the neighbour we talk to; an NS not
 * cached is still answered (7.2.4: a unicast NA), straight to the
 * link-layer address it gave, with no resolution of our own. Once idle,
 * the neighbour's entry may go. */
static void test_nd_ns_flood_keeps_neighbour_in_use(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 4, 0, 1);
    oasis_in6 ll = ll_of(&x);
    oasis_ipaddr peer = oasis_ipaddr_v6(PEER.b);
    assert_int_equal(oasis_ping_addr(x.s, &peer, 1, 1, 8, 60 * SEC, on_ping, &(pingres){0}), 0);
    inject_na(&x, &PEER, &ll, &PEER, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE, MAC_PEER, 255);
    const oasis_nd_counters *c = &ctr(&x)->nd;
    for (uint32_t k = 0; k < 10; k++) {
        oasis_in6 f;
        uint8_t mac[6];
        forged(&f, mac, k);
        advance(&x, SEC / 100);
        x.cap.n = 0;
        inject_ns(&x, &f, &ll, &ll, mac);
        /* One frame: the NA, to the MAC the NS gave; no NS of ours. */
        assert_int_equal(x.cap.n, 1);
        assert_int_equal(frame_icmp_type(&x, 0, NULL), OASIS_ICMP6_NA);
        assert_memory_equal(x.cap.frame[0], mac, 6);
        assert_true(oasis_nd_consistent(x.s));
        if (k < 3) /* the free slots */
            assert_non_null(oasis_nd_lookup(x.s, &f));
        else
            assert_null(oasis_nd_lookup(x.s, &f));
    }
    assert_int_equal(c->cache_evictions, 0);
    assert_int_equal(c->cache_no_room, 7);
    assert_int_equal(c->cache_entries, 4);
    assert_int_equal(oasis_nd_lookup(x.s, &PEER)->state, NEIGH_REACHABLE);

    /* The forged entries fail NUD (DELAY, three probes) and go; the
     * neighbour, silent for ND_IN_USE_NS, is idle (STALE): the fourth
     * newcomer after three free slots takes its slot. */
    advance(&x, ND_IN_USE_NS);
    assert_int_equal(c->cache_entries, 1);
    assert_int_equal(oasis_nd_lookup(x.s, &PEER)->state, NEIGH_STALE);
    for (uint32_t k = 10; k < 14; k++) {
        oasis_in6 f;
        uint8_t mac[6];
        forged(&f, mac, k);
        inject_ns(&x, &f, &ll, &ll, mac);
        assert_non_null(oasis_nd_lookup(x.s, &f));
    }
    assert_int_equal(c->cache_evictions, 1);
    assert_null(oasis_nd_lookup(x.s, &PEER));
    assert_true(oasis_nd_consistent(x.s));
    fx_stop(&x);
}

/* The largest cache (OASIS_ND_CACHE_MAX) under a flood four times its
 * size, NS from forged sources, 2048 a second, while packets go to real
 * neighbours, which confirm they are reachable: the index stays whole
 * (oasis_nd_consistent), every real neighbour stays resolved, the count
 * of entries never passes the cache, and the forged entries, full, are
 * not cached until NUD has failed them and given their slots back. */
static void cache_max(oasis_stack_config *cfg) { cfg->nd_cache_size = OASIS_ND_CACHE_MAX; }

static void test_nd_max_cache_flood(void **state)
{
    (void)state;
    fx x;
    fx_start_ex(&x, 0, 0, 1, cache_max);
    oasis_in6 ll = ll_of(&x);
    enum { REAL = 16, FLOOD = 4 * OASIS_ND_CACHE_MAX };
    oasis_in6 real[REAL];
    pingres r[REAL];
    memset(r, 0, sizeof r);
    for (int i = 0; i < REAL; i++) {
        real[i] = PEER;
        real[i].b[14] = 0x77;
        real[i].b[15] = (uint8_t)i;
        oasis_ipaddr a = oasis_ipaddr_v6(real[i].b);
        assert_int_equal(oasis_ping_addr(x.s, &a, 1, (uint16_t)i, 8, 60 * SEC, on_ping, &r[i]), 0);
        uint8_t mac[6] = {2, 0x77, 0, 0, 0, (uint8_t)i};
        inject_na(&x, &real[i], &ll, &real[i], OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE, mac, 255);
    }
    const oasis_nd_counters *c = &ctr(&x)->nd;
    uint64_t most = 0;
    for (uint32_t k = 0; k < FLOOD; k++) {
        oasis_in6 f;
        uint8_t mac[6];
        forged(&f, mac, k);
        x.cap.n = 0;
        inject_ns(&x, &f, &ll, &ll, mac);
        assert_true(c->cache_entries <= OASIS_ND_CACHE_MAX);
        most = c->cache_entries > most ? c->cache_entries : most;
        if (k % 2048 == 2047) { /* a second on; the real neighbours talk */
            advance(&x, SEC);
            for (int i = 0; i < REAL; i++) {
                oasis_ipaddr a = oasis_ipaddr_v6(real[i].b);
                assert_int_equal(oasis_udp_send(x.s, 1000, &a, 2000, "x", 1), 0);
                oasis_ipv6_confirm_reachable(x.s, &a);
            }
        }
    }
    assert_true(oasis_nd_consistent(x.s));
    assert_int_equal(most, OASIS_ND_CACHE_MAX);
    assert_true(c->resolve_failed > 0); /* forged entries NUD gave back */
    for (int i = 0; i < REAL; i++) {
        const ip6_neigh *e = oasis_nd_lookup(x.s, &real[i]);
        assert_non_null(e);
        assert_int_not_equal(e->state, NEIGH_INCOMPLETE);
    }
    assert_true(c->cache_no_room > 0);
    fx_stop(&x);
}

/* Set while the test is inside a call into the stack that sends. */
static int in_send;

static void on_ping_outside(oasis_stack *s, int err, uint16_t seq, uint64_t rtt, void *ud)
{
    assert_false(in_send); /* never from inside the send that evicted */
    on_ping(s, err, seq, rtt, ud);
}

/* A sweep: every ping that ends starts one to the next address. */
typedef struct sweep6 {
    int calls, budget;
    uint8_t next;
} sweep6;

static void on_sweep6(oasis_stack *s, int err, uint16_t seq, uint64_t rtt, void *ud)
{
    (void)seq, (void)rtt;
    sweep6 *w = ud;
    if (err == OASIS_ECANCELED) /* the last one, at teardown */
        return;
    w->calls++;
    assert_int_equal(err, OASIS_EUNREACH);
    oasis_in6 d = PEER;
    d.b[15] = w->next++;
    oasis_ipaddr a = oasis_ipaddr_v6(d.b);
    if (w->budget-- > 0)
        assert_int_equal(oasis_ping_addr(s, &a, 1, 1, 8, 60 * SEC, on_sweep6, w), 0);
}

/* Such a sweep over a full cache: each new ping evicts the other
 * INCOMPLETE entry, whose ping fails and starts another. One poll fails
 * only what was marked when it began; the rest fail from later steps, 1 ns
 * apart, so no poll runs for ever. */
static void test_nd_evicting_sweep_yields_each_poll(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 2, 0, 1);
    sweep6 w = {.budget = 50, .next = 0x40};
    for (uint8_t k = 0x23; k <= 0x25; k++) { /* the third evicts the first */
        oasis_in6 d = PEER;
        d.b[15] = k;
        oasis_ipaddr a = oasis_ipaddr_v6(d.b);
        assert_int_equal(oasis_ping_addr(x.s, &a, 1, k, 8, 60 * SEC, on_sweep6, &w), 0);
    }
    assert_int_equal(ctr(&x)->nd.cache_evictions, 1);
    advance(&x, 0);
    assert_int_equal(w.calls, 1);
    advance(&x, 1);
    assert_int_equal(w.calls, 2);
    for (int i = 2; i < 60 && w.budget >= 0; i++)
        advance(&x, 1);
    assert_int_equal(w.calls, 51); /* the budget's pings, one per step */
    fx_stop(&x);
}

/* RFC 4861 7.2.2: when resolution fails, what waited for it is told the
 * address is unreachable (here: the ping fails with OASIS_EUNREACH). An
 * INCOMPLETE entry evicted for a new resolution (RFC 6583 7.1) has failed
 * as well: its ping fails on the stack's next step at the same instant,
 * not at its own 60 s timeout, and not inside the send that evicted it. */
static void test_nd_evicted_incomplete_fails_at_once(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 2, 0, 1);
    pingres r1, r2, r3;
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    memset(&r3, 0, sizeof r3);
    oasis_in6 p2 = PEER, p3 = PEER, p4 = PEER;
    p2.b[15] = 0x23;
    p3.b[15] = 0x24;
    p4.b[15] = 0x25;
    oasis_ipaddr a1 = oasis_ipaddr_v6(PEER.b), a2 = oasis_ipaddr_v6(p2.b),
                 a3 = oasis_ipaddr_v6(p3.b);
    in_send = 1;
    assert_int_equal(oasis_ping_addr(x.s, &a1, 1, 1, 8, 60 * SEC, on_ping_outside, &r1), 0);
    in_send = 0;
    advance(&x, 500 * OASIS_NS_PER_MS);
    in_send = 1;
    assert_int_equal(oasis_ping_addr(x.s, &a2, 1, 2, 8, 60 * SEC, on_ping_outside, &r2), 0);
    in_send = 0;
    advance(&x, 500 * OASIS_NS_PER_MS);
    assert_int_equal(oasis_nd_lookup(x.s, &PEER)->qlen, 1);
    assert_int_equal(ctr(&x)->nd.cache_evictions, 0);
    /* The cache is full: a third resolution evicts the oldest INCOMPLETE
     * entry, PEER's, inside this send. */
    in_send = 1;
    assert_int_equal(oasis_ping_addr(x.s, &a3, 1, 3, 8, 60 * SEC, on_ping_outside, &r3), 0);
    in_send = 0;
    assert_int_equal(ctr(&x)->nd.cache_evictions, 1);
    assert_null(oasis_nd_lookup(x.s, &PEER));
    assert_false(r1.done);
    uint64_t t = oasis_clock_now(x.clock);
    advance(&x, 0); /* one step, no time passes */
    assert_true(r1.done);
    assert_int_equal(r1.err, OASIS_EUNREACH);
    assert_int_equal(oasis_clock_now(x.clock), t);
    assert_false(r2.done); /* the other resolutions go on */
    assert_false(r3.done);
    assert_int_equal(oasis_nd_lookup(x.s, &p2)->state, NEIGH_INCOMPLETE);

    /* An input takes no INCOMPLETE entry's slot: an NS from p4, which
     * would be learned (RFC 4861 7.2.3), finds both in use by our own
     * resolutions, so p4 is not cached and the answer goes straight to the
     * link-layer address the NS gave. */
    oasis_in6 ll = ll_of(&x);
    static const uint8_t mac4[6] = {2, 0, 0, 0, 0, 0x25};
    x.cap.n = 0;
    inject_ns(&x, &p4, &ll, &ll, mac4);
    assert_int_equal(ctr(&x)->nd.cache_evictions, 1);
    assert_int_equal(ctr(&x)->nd.cache_no_room, 1);
    assert_null(oasis_nd_lookup(x.s, &p4));
    assert_int_equal(oasis_nd_lookup(x.s, &p2)->state, NEIGH_INCOMPLETE);
    assert_int_equal(x.cap.n, 1);
    assert_int_equal(frame_icmp_type(&x, 0, NULL), OASIS_ICMP6_NA);
    assert_memory_equal(x.cap.frame[0], mac4, 6);
    advance(&x, 0);
    assert_false(r2.done);
    /* p2's and p3's resolutions fail the normal way: three NS a second
     * apart, then EUNREACH, 3 s after each began. */
    advance(&x, 2500 * OASIS_NS_PER_MS - 1);
    assert_false(r2.done);
    advance(&x, 1);
    assert_true(r2.done);
    assert_int_equal(r2.err, OASIS_EUNREACH);
    advance(&x, 500 * OASIS_NS_PER_MS - 1);
    assert_false(r3.done);
    advance(&x, 1);
    assert_true(r3.done);
    assert_int_equal(r3.err, OASIS_EUNREACH);
    fx_stop(&x);
}

/* UDP errors heard on port 1000; the callback sends again, once, to the
 * address it hears of (resend). */
typedef struct udperrs {
    int calls, err, resend;
    oasis_ipaddr dst[4];
} udperrs;

static int in_cb;

static void on_udp_none(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport,
                        const oasis_ipaddr *dst, uint16_t dport, const uint8_t *data, size_t len,
                        void *ud)
{
    (void)s, (void)src, (void)sport, (void)dst, (void)dport, (void)data, (void)len, (void)ud;
}

static void on_udp_err_outside(oasis_stack *s, const oasis_udp_error *e, void *ud)
{
    udperrs *r = ud;
    assert_false(in_send); /* never inside the send that evicted */
    assert_false(in_cb);   /* nor inside another callback */
    assert_true(r->calls < 4);
    r->dst[r->calls++] = e->dst;
    r->err = e->err;
    assert_int_equal(e->type, 1); /* destination unreachable, address */
    assert_int_equal(e->code, 3);
    if (r->resend) {
        r->resend = 0;
        in_cb = 1;
        assert_int_equal(oasis_udp_send(s, 1000, &e->dst, 2000, "y", 1), 0);
        in_cb = 0;
    }
}

static void udp_in_send(fx *x, const oasis_in6 *dst)
{
    oasis_ipaddr d = oasis_ipaddr_v6(dst->b);
    in_send = 1;
    assert_int_equal(oasis_udp_send(x->s, 1000, &d, 2000, "x", 1), 0);
    in_send = 0;
}

/* RFC 4861 7.2.2: "The sender MUST return ICMP destination unreachable
 * indications with code 3 (Address Unreachable) for each packet queued
 * awaiting address resolution." An INCOMPLETE entry evicted for a new
 * resolution has failed too: the UDP error callback of its waiting
 * datagram runs from the next step at the same instant, not inside the
 * send that evicted it, and the datagram counts against cfg.nd_queue_len
 * until then. A callback that sends again to that address starts a new
 * resolution, which completes; the entry it evicts in turn is told on a
 * later step, not inside the callback. */
static void test_nd_evicted_incomplete_tells_udp(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 2, 0, 1);
    udperrs r;
    memset(&r, 0, sizeof r);
    r.resend = 1;
    assert_int_equal(oasis_udp_bind(x.s, 1000, on_udp_none, &r), 0);
    assert_int_equal(oasis_udp_set_error_cb(x.s, 1000, on_udp_err_outside), 0);
    oasis_in6 p2 = PEER, p3 = PEER;
    p2.b[15] = 0x23;
    p3.b[15] = 0x24;
    oasis_ipaddr a1 = oasis_ipaddr_v6(PEER.b), a2 = oasis_ipaddr_v6(p2.b),
                 a3 = oasis_ipaddr_v6(p3.b);
    uint64_t t3 = oasis_clock_now(x.clock) + SEC;
    udp_in_send(&x, &PEER);
    advance(&x, 500 * OASIS_NS_PER_MS);
    udp_in_send(&x, &p2);
    advance(&x, 500 * OASIS_NS_PER_MS);
    assert_int_equal(x.s->ip6->queued, 2);
    udp_in_send(&x, &p3); /* evicts PEER's entry, the oldest INCOMPLETE */
    assert_int_equal(ctr(&x)->nd.cache_evictions, 1);
    assert_null(oasis_nd_lookup(x.s, &PEER));
    assert_int_equal(r.calls, 0);
    assert_int_equal(x.s->ip6->queued, 3); /* PEER's still counted */
    uint64_t t = oasis_clock_now(x.clock);
    assert_int_equal(t, t3);
    x.cap.n = 0;
    advance(&x, 0); /* one step, no time passes */
    assert_int_equal(r.calls, 1);
    assert_int_equal(oasis_ipaddr_cmp(&r.dst[0], &a1), 0);
    assert_int_equal(r.err, OASIS_EHOSTUNREACH);
    /* The callback sent to PEER again: a new INCOMPLETE entry soliciting,
     * which evicted p2's, told one step later (1 ns on). */
    assert_int_equal(ctr(&x)->nd.cache_evictions, 2);
    assert_int_equal(oasis_nd_lookup(x.s, &PEER)->state, NEIGH_INCOMPLETE);
    int ns_peer = 0; /* the NS (p3's first went out too) with PEER as target */
    for (size_t i = 0; i < x.cap.n; i++)
        ns_peer += frame_icmp_type(&x, i, NULL) == OASIS_ICMP6_NS &&
                   memcmp(x.cap.frame[i] + 14 + 40 + 8, PEER.b, 16) == 0;
    assert_int_equal(ns_peer, 1);
    assert_int_equal(x.s->ip6->queued, 3); /* p3's, PEER's new one, p2's */
    assert_int_equal(r.calls, 1);
    advance(&x, 1);
    assert_int_equal(r.calls, 2);
    assert_int_equal(oasis_ipaddr_cmp(&r.dst[1], &a2), 0);
    assert_int_equal(x.s->ip6->queued, 2);
    /* PEER answers: the datagram sent from the callback goes out. */
    oasis_in6 ll = ll_of(&x);
    x.cap.n = 0;
    inject_na(&x, &PEER, &ll, &PEER, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE, MAC_PEER, 255);
    assert_int_equal(oasis_nd_lookup(x.s, &PEER)->state, NEIGH_REACHABLE);
    assert_int_equal(x.s->ip6->queued, 1);
    assert_int_equal(x.cap.n, 1);
    oasis_eth_hdr eh;
    assert_int_equal(oasis_eth_parse(x.cap.frame[0], x.cap.len[0], &eh), 0);
    assert_memory_equal(eh.dst, MAC_PEER, 6);
    assert_int_equal(eh.type, OASIS_ETHERTYPE_IPV6);
    assert_int_equal(eh.payload[6], 17); /* UDP */
    assert_memory_equal(eh.payload + 24, PEER.b, 16);
    /* p3's resolution, not evicted, fails the normal way, 3 s after it
     * began. */
    advance(&x, 3 * SEC - 2);
    assert_int_equal(r.calls, 2);
    advance(&x, 1);
    assert_int_equal(r.calls, 3);
    assert_int_equal(oasis_ipaddr_cmp(&r.dst[2], &a3), 0);
    assert_int_equal(x.s->ip6->queued, 0);
    fx_stop(&x);
}

/* An RA from src with its link-layer address and nothing else. */
static void inject_ra_slla(fx *x, const oasis_in6 *src, const uint8_t *mac, uint16_t lifetime)
{
    uint8_t b[16 + 8] = {134, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
    oasis_put16(b + 6, lifetime);
    memcpy(b + 18, mac, 6);
    inject(x, src, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, b, sizeof b);
}

/* RAs with a source link-layer address from more routers than the cache
 * holds (each entry gets IsRouter, RFC 4861 6.3.4) leave room for a new
 * neighbour: only the default routers' entries are kept from eviction. */
static void test_nd_router_entries_evictable(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 4, 0, 1);
    oasis_in6 def = ROUTER;
    uint8_t mac[6] = {2, 0, 0, 0, 0x77, 0};
    inject_ra_slla(&x, &def, mac, 600); /* a default router */
    for (int i = 0; i < 6; i++) {       /* routers that leave at once */
        oasis_in6 r = ROUTER;
        r.b[14] = 0x10;
        r.b[15] = (uint8_t)i;
        mac[5] = (uint8_t)(i + 1);
        inject_ra_slla(&x, &r, mac, 0);
        advance(&x, SEC);
    }
    assert_int_equal(ctr(&x)->nd.cache_entries, 4);
    assert_int_equal(ctr(&x)->nd.routers, 1);
    pingres r;
    memset(&r, 0, sizeof r);
    oasis_ipaddr peer = oasis_ipaddr_v6(PEER.b);
    assert_int_equal(oasis_ping_addr(x.s, &peer, 1, 1, 8, 60 * SEC, on_ping, &r), 0);
    assert_non_null(oasis_nd_lookup(x.s, &PEER));
    assert_int_equal(ctr(&x)->nd.cache_no_room, 0);
    assert_non_null(oasis_nd_lookup(x.s, &def)); /* the default router stays */
    fx_stop(&x);
}

/* Bytes [off, off + n) of msg (upper layer nh) in a fragment from src. */
static void inject_piece(fx *x, const oasis_in6 *src, const oasis_in6 *dst, uint8_t nh,
                         const uint8_t *msg, size_t off, size_t n, int more, uint32_t id)
{
    uint8_t b[2048];
    oasis_ipv6_frag fh = {nh, (uint16_t)off, more, id};
    oasis_ipv6_frag_emit(b, &fh);
    memcpy(b + 8, msg + off, n);
    inject(x, src, dst, 255, OASIS_NH_FRAGMENT, b, 8 + n);
}

/* RFC 6980 5: ND messages with a Fragment header are ignored, in two
 * fragments or as an atomic fragment; whole, the same NS is answered. */
static void test_nd_fragmented_ignored(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    uint8_t ns[32];
    size_t n = oasis_nd_emit_ns(ns, &ll, MAC_PEER);
    oasis_icmp6_finish(ns, n, ns[0], ns[1], 0, &PEER, &ll);
    inject_piece(&x, &PEER, &ll, OASIS_NH_ICMPV6, ns, 0, 24, 1, 1);
    inject_piece(&x, &PEER, &ll, OASIS_NH_ICMPV6, ns, 24, n - 24, 0, 1);
    assert_int_equal(ctr(&x)->ipv6.reasm_oks, 1);
    inject_piece(&x, &PEER, &ll, OASIS_NH_ICMPV6, ns, 0, n, 0, 2);
    assert_int_equal(ctr(&x)->ipv6.atomic_frags, 1);
    assert_int_equal(count_type(&x, OASIS_ICMP6_NA), 0);
    assert_int_equal(ctr(&x)->nd.bad_messages, 2);
    assert_null(oasis_nd_lookup(x.s, &PEER));
    /* An RA in fragments: no router. */
    uint8_t ra[16 + 8] = {134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
    memcpy(ra + 18, MAC_PEER, 6);
    oasis_icmp6_finish(ra, sizeof ra, ra[0], 0, oasis_get32(ra + 4), &ROUTER, &oasis_in6_all_nodes);
    inject_piece(&x, &ROUTER, &oasis_in6_all_nodes, OASIS_NH_ICMPV6, ra, 0, 16, 1, 3);
    inject_piece(&x, &ROUTER, &oasis_in6_all_nodes, OASIS_NH_ICMPV6, ra, 16, 8, 0, 3);
    assert_int_equal(ctr(&x)->ipv6.reasm_oks, 2);
    assert_int_equal(ctr(&x)->nd.routers, 0);
    /* Whole, the NS is answered. */
    inject_ns(&x, &PEER, &ll, &ll, MAC_PEER);
    assert_int_equal(count_type(&x, OASIS_ICMP6_NA), 1);
    fx_stop(&x);
}

/* An NS from a neighbour for our address draws a solicited NA with our MAC,
 * and the neighbour is cached STALE (RFC 4861 7.2.3, 7.2.4). */
/* A link-layer address option holding a group address (broadcast or
 * multicast, the I/G bit) is refused with its message: an entry for it
 * would send our unicast to every host. Counted in nd.bad_messages. */
static void test_group_lladdr_refused(void **state)
{
    (void)state;
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t mcast[6] = {0x33, 0x33, 0, 0, 0, 1};
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    oasis_in6 sn = oasis_in6_solicited_node(&ll);
    uint64_t bad = ctr(&x)->nd.bad_messages;
    inject_ns(&x, &PEER, &sn, &ll, bcast);
    inject_na(&x, &PEER, &ll, &PEER, OASIS_ND_NA_OVERRIDE, mcast, 255);
    advance(&x, 0);
    assert_int_equal(x.cap.n, 0);
    assert_null(oasis_nd_lookup(x.s, &PEER));
    assert_int_equal(ctr(&x)->nd.bad_messages, bad + 2);
    /* the same NS with an individual address is answered */
    inject_ns(&x, &PEER, &sn, &ll, MAC_PEER);
    assert_true(last_of_type(&x, OASIS_ICMP6_NA) >= 0);
    fx_stop(&x);
}

static void test_ns_answered(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    oasis_in6 sn = oasis_in6_solicited_node(&ll);
    inject_ns(&x, &PEER, &sn, &ll, MAC_PEER);
    int i = last_of_type(&x, OASIS_ICMP6_NA);
    assert_true(i >= 0);
    oasis_ipv6_hdr h;
    frame_icmp_type(&x, (size_t)i, &h);
    assert_true(oasis_in6_eq(&h.dst, &PEER));
    assert_true(oasis_in6_eq(&h.src, &ll));
    assert_int_equal(h.hop_limit, 255);
    oasis_nd_msg m;
    assert_int_equal(oasis_nd_parse(x.cap.frame[i] + 54, h.payload_len, &m), 0);
    assert_int_equal(m.na_flags, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE);
    assert_memory_equal(m.opts.tlla, oasis_stack_mac(x.s), 6);
    /* Cached STALE from the NS; the NA we sent to it made it DELAY. */
    const ip6_neigh *e = oasis_nd_lookup(x.s, &PEER);
    assert_non_null(e);
    assert_int_equal(e->state, NEIGH_DELAY);
    assert_memory_equal(e->mac, MAC_PEER, 6);
    /* Hop limit 64: not from the link, no answer. */
    x.cap.n = 0;
    uint8_t msg[32];
    size_t n = oasis_nd_emit_ns(msg, &ll, MAC_PEER);
    inject(&x, &PEER, &sn, 64, OASIS_NH_ICMPV6, msg, n);
    assert_int_equal(x.cap.n, 0);
    assert_int_equal(ctr(&x)->nd.bad_hop_limit, 1);
    /* NS from :: (someone's DAD for our preferred address): NA to all nodes. */
    inject_ns(&x, &UNSPEC, &sn, &ll, NULL);
    i = last_of_type(&x, OASIS_ICMP6_NA);
    assert_true(i >= 0);
    frame_icmp_type(&x, (size_t)i, &h);
    assert_true(oasis_in6_eq(&h.dst, &oasis_in6_all_nodes));
    fx_stop(&x);
}

/* An RA as radvd sends it, with one prefix. */
static void inject_ra(fx *x, uint16_t router_lifetime, uint32_t valid, uint32_t preferred,
                      uint32_t mtu)
{
    uint8_t b[16 + 8 + 8 + 32] = {134, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    oasis_put16(b + 6, router_lifetime);
    b[16] = 1;
    b[17] = 1;
    memcpy(b + 18, MAC_PEER, 6);
    b[24] = 5;
    b[25] = 1;
    oasis_put32(b + 28, mtu);
    uint8_t *p = b + 32;
    p[0] = 3;
    p[1] = 4;
    p[2] = 64;
    p[3] = 0xc0;
    oasis_put32(p + 4, valid);
    oasis_put32(p + 8, preferred);
    static const uint8_t pfx[8] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0};
    memcpy(p + 16, pfx, 8);
    inject(x, &ROUTER, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, b, sizeof b);
}

/* RFC 4862 5.5.3: SLAAC address from an RA prefix, DAD, then deprecated at
 * the preferred lifetime and removed at the valid one; the two-hour rule
 * against short valid lifetimes; router, prefix and MTU from the RA. */
static void test_slaac_lifetimes(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 0);
    advance(&x, 2500 * OASIS_NS_PER_MS); /* link-local ready */
    /* The stack solicits routers from its link-local address. */
    advance(&x, SEC);
    assert_true(count_type(&x, OASIS_ICMP6_RS) >= 1);
    int i = last_of_type(&x, OASIS_ICMP6_RS);
    oasis_ipv6_hdr h;
    frame_icmp_type(&x, (size_t)i, &h);
    assert_true(oasis_in6_eq(&h.dst, &oasis_in6_all_routers));
    assert_true(oasis_in6_is_link_local(&h.src));

    inject_ra(&x, 1800, 100, 50, 1400);
    oasis_ipv6_addr_info a = addr_of(x.s, OASIS_IPV6_SLAAC);
    assert_int_equal(a.state, OASIS_IPV6_TENTATIVE);
    assert_int_equal(a.prefix_len, 64);
    assert_int_equal(a.addr.b[5], 1);
    /* RFC 7217: stable for the same prefix, secret and interface. */
    oasis_in6 expect, pfx = {{0x20, 0x01, 0x0d, 0xb8, 0, 1}};
    oasis_addrconf_stable_iid(x.s, &pfx, 0, &expect);
    assert_memory_equal(a.addr.b, expect.b, 16);
    assert_int_equal(ctr(&x)->nd.routers, 1);
    assert_int_equal(ctr(&x)->nd.prefixes, 1);
    assert_int_equal(oasis_ipv6_link_mtu(x.s), 1400);
    advance(&x, 3 * SEC);
    assert_int_equal(addr_of(x.s, OASIS_IPV6_SLAAC).state, OASIS_IPV6_PREFERRED);
    /* Global destinations: on-link in the prefix, else through the router. */
    oasis_in6 nh, onlink = expect, far = {{0x20, 0x01, 0x0d, 0xb8, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    onlink.b[15] ^= 1;
    assert_int_equal(oasis_nd_next_hop(x.s, &onlink, &nh), 0);
    assert_true(oasis_in6_eq(&nh, &onlink));
    assert_int_equal(oasis_nd_next_hop(x.s, &far, &nh), 0);
    assert_true(oasis_in6_eq(&nh, &ROUTER));
    oasis_in6 src;
    assert_int_equal(oasis_ipv6_select_src(x.s, &far, &src), 0);
    assert_true(oasis_in6_eq(&src, &expect));

    advance(&x, 47 * SEC); /* 50 s after the RA */
    assert_int_equal(addr_of(x.s, OASIS_IPV6_SLAAC).state, OASIS_IPV6_DEPRECATED);
    /* A short valid lifetime (10 s) cannot cut the remaining 50 s below
     * two hours... but 50 s left is under two hours: ignored (e.3). */
    inject_ra(&x, 1800, 10, 0, 1400);
    assert_int_equal(addr_of(x.s, OASIS_IPV6_SLAAC).valid_until_ns,
                     1000 * SEC + 3500 * OASIS_NS_PER_MS + 100 * SEC);
    advance(&x, 50 * SEC);
    assert_int_equal(oasis_ipv6_addrs(x.s, NULL, 0), 1); /* only link-local left */
    assert_int_equal(x.events[x.nev - 1] & 0xff, OASIS_IPV6_REMOVED);
    /* The prefix expired with its valid lifetime too: far -> router, and
     * an on-link guess no more. */
    assert_int_equal(ctr(&x)->nd.prefixes, 0);

    /* Two-hour rule: 3 h valid, then an RA saying 10 s: valid becomes 2 h. */
    inject_ra(&x, 1800, 3 * 3600, 3600, 1400);
    advance(&x, 3 * SEC);
    uint64_t t0 = oasis_clock_now(x.clock);
    inject_ra(&x, 1800, 10, 10, 1400);
    a = addr_of(x.s, OASIS_IPV6_SLAAC);
    assert_int_equal(a.valid_until_ns, t0 + 7200 * SEC);
    assert_int_equal(a.preferred_until_ns, t0 + 10 * SEC);
    /* A longer one is taken as is. */
    inject_ra(&x, 1800, 4 * 3600, 3600, 1400);
    assert_int_equal(addr_of(x.s, OASIS_IPV6_SLAAC).valid_until_ns, t0 + 4 * 3600 * SEC);
    /* Router lifetime 0 removes the default router. */
    inject_ra(&x, 0, 4 * 3600, 3600, 1400);
    assert_int_equal(ctr(&x)->nd.routers, 0);
    assert_int_equal(oasis_nd_next_hop(x.s, &far, &nh), OASIS_ENOROUTE);
    /* The public look: no route now, the router once an RA names it again. */
    oasis_ipaddr farip = oasis_ipaddr_v6(far.b), hopip;
    assert_int_equal(oasis_ipv6_route(x.s, &farip, &hopip), OASIS_ENOROUTE);
    inject_ra(&x, 1800, 4 * 3600, 3600, 1400);
    assert_int_equal(oasis_ipv6_route(x.s, &farip, &hopip), 0);
    assert_memory_equal(hopip.b, ROUTER.b, 16);
    assert_int_equal(oasis_ipv6_route(x.s, &farip, NULL), 0);
    oasis_ipaddr onip = oasis_ipaddr_v6(onlink.b), v4 = oasis_ipaddr_v4(0x0a000001);
    assert_int_equal(oasis_ipv6_route(x.s, &onip, &hopip), 0);
    assert_memory_equal(hopip.b, onlink.b, 16);
    assert_int_equal(oasis_ipv6_route(x.s, &v4, &hopip), OASIS_EINVAL);
    assert_int_equal(oasis_ipv6_route(x.s, NULL, &hopip), OASIS_EINVAL);
    assert_int_equal(oasis_ipv6_route(NULL, &farip, &hopip), OASIS_EINVAL);
    inject_ra(&x, 0, 4 * 3600, 3600, 1400);
    assert_int_equal(oasis_ipv6_route(x.s, &farip, &hopip), OASIS_ENOROUTE);
    /* An RA from a global source or with hop limit 254 is ignored. */
    uint64_t ign = ctr(&x)->nd.ra_ignored, hop = ctr(&x)->nd.bad_hop_limit;
    uint8_t ra[16] = {134, 0, 0, 0, 64, 0, 0x07, 0x08};
    inject(&x, &onlink, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, ra, sizeof ra);
    inject(&x, &ROUTER, &oasis_in6_all_nodes, 254, OASIS_NH_ICMPV6, ra, sizeof ra);
    assert_int_equal(ctr(&x)->nd.ra_ignored, ign + 1);
    assert_int_equal(ctr(&x)->nd.bad_hop_limit, hop + 1);
    assert_int_equal(ctr(&x)->nd.routers, 0);
    fx_stop(&x);
}

/* ---- reassembly ---- */

static uint8_t echo_msg[3000];
static size_t echo_len;

/* An echo request of n bytes from PEER to dst, checksummed whole. */
static void make_echo(const oasis_in6 *dst, size_t n)
{
    memset(echo_msg, 0, sizeof echo_msg);
    for (size_t i = 8; i < n; i++)
        echo_msg[i] = (uint8_t)(i * 7);
    oasis_icmp6_finish(echo_msg, n, 128, 0, 0x00420001, &PEER, dst);
    echo_len = n;
}

static void inject_frag_nh(fx *x, const oasis_in6 *dst, uint32_t id, size_t off, size_t n,
                           int more, uint8_t next);

static void inject_frag(fx *x, const oasis_in6 *dst, uint32_t id, size_t off, size_t n, int more)
{
    inject_frag_nh(x, dst, id, off, n, more, OASIS_NH_ICMPV6);
}

/* As inject_frag, the Fragment header's Next Header `next`. */
static void inject_frag_nh(fx *x, const oasis_in6 *dst, uint32_t id, size_t off, size_t n,
                           int more, uint8_t next)
{
    uint8_t f[2048];
    memcpy(f, oasis_stack_mac(x->s), 6);
    memcpy(f + 6, MAC_PEER, 6);
    oasis_put16(f + 12, OASIS_ETHERTYPE_IPV6);
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.payload_len = (uint16_t)(8 + n);
    h.next = OASIS_NH_FRAGMENT;
    h.hop_limit = 64;
    h.src = PEER;
    h.dst = *dst;
    oasis_ipv6_emit(f + 14, &h);
    oasis_ipv6_frag fh = {next, (uint16_t)off, more, id};
    oasis_ipv6_frag_emit(f + 54, &fh);
    memcpy(f + 62, echo_msg + off, n);
    oasis_stack_input(x->s, f, 62 + n);
}

/* An identification other than id whose datagram from src to dst lands
 * on id's hash chain (reasm6.c key_hash, with this stack's secret). */
static uint32_t chain_of_id(fx *x, const oasis_in6 *src, const oasis_in6 *dst, uint32_t id)
{
    uint8_t k[36];
    memcpy(k, src->b, 16);
    memcpy(k + 16, dst->b, 16);
    oasis_put32(k + 32, id);
    return (uint32_t)oasis_siphash24(x->s->secrets.reasm_key, k, sizeof k) &
           (x->s->ip6->reasm.nchains - 1);
}

static uint32_t same_chain_id(fx *x, const oasis_in6 *src, const oasis_in6 *dst, uint32_t id)
{
    uint32_t b = id + 1;
    while (chain_of_id(x, src, dst, b) != chain_of_id(x, src, dst, id))
        b++;
    return b;
}

static void test_reasm_orders(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    make_echo(&ll, 2500);
    /* In order: 1000 + 1000 + 500. */
    inject_frag(&x, &ll, 1, 0, 1000, 1);
    inject_frag(&x, &ll, 1, 1000, 1000, 1);
    assert_int_equal(ctr(&x)->icmp6.in_echos, 0);
    inject_frag(&x, &ll, 1, 2000, 500, 0);
    assert_int_equal(ctr(&x)->ipv6.reasm_oks, 1);
    assert_int_equal(ctr(&x)->icmp6.in_echos, 1);
    /* Reversed. */
    inject_frag(&x, &ll, 2, 2000, 500, 0);
    inject_frag(&x, &ll, 2, 1000, 1000, 1);
    inject_frag(&x, &ll, 2, 0, 1000, 1);
    assert_int_equal(ctr(&x)->ipv6.reasm_oks, 2);
    assert_int_equal(ctr(&x)->icmp6.in_echos, 2);
    /* An exact duplicate is dropped alone (RFC 8200 4.5). */
    inject_frag(&x, &ll, 3, 0, 1000, 1);
    inject_frag(&x, &ll, 3, 0, 1000, 1);
    inject_frag(&x, &ll, 3, 1000, 1000, 1);
    inject_frag(&x, &ll, 3, 2000, 500, 0);
    assert_int_equal(ctr(&x)->ipv6.reasm_oks, 3);
    assert_int_equal(ctr(&x)->icmp6.in_echos, 3);
    assert_int_equal(ctr(&x)->ipv6.reasm_reqds, 10);
    /* Only the offset-0 fragment's Next Header counts (RFC 8200 4.5): the
     * others may name anything. */
    inject_frag_nh(&x, &ll, 4, 2000, 500, 0, OASIS_NH_UDP);
    inject_frag_nh(&x, &ll, 4, 1000, 1000, 1, 253);
    inject_frag(&x, &ll, 4, 0, 1000, 1);
    assert_int_equal(ctr(&x)->ipv6.reasm_oks, 4);
    assert_int_equal(ctr(&x)->icmp6.in_echos, 4);
    assert_int_equal(ctr(&x)->ipv6.reasm_reqds, 13);
    assert_int_equal(ctr(&x)->ipv6.reasm_bytes, 0);
    /* Two datagrams between the same addresses, interleaved and cut at
     * other places: the identification tells them apart (RFC 8200 4.5),
     * also when the two share a hash chain (b is chosen so); taken for
     * one, b's first piece would overlap 5's and kill both. */
    uint32_t b = same_chain_id(&x, &PEER, &ll, 5);
    inject_frag(&x, &ll, 5, 0, 1000, 1);
    inject_frag(&x, &ll, b, 0, 504, 1);
    inject_frag(&x, &ll, b, 504, 1496, 1);
    inject_frag(&x, &ll, 5, 1000, 1000, 1);
    inject_frag(&x, &ll, b, 2000, 500, 0);
    assert_int_equal(ctr(&x)->ipv6.reasm_oks, 5);
    inject_frag(&x, &ll, 5, 2000, 500, 0);
    assert_int_equal(ctr(&x)->ipv6.reasm_oks, 6);
    assert_int_equal(ctr(&x)->icmp6.in_echos, 6);
    assert_int_equal(ctr(&x)->ipv6.reasm_fails, 0);
    assert_int_equal(ctr(&x)->ipv6.reasm_bytes, 0);
    /* The replies went out fragmented (2500 + 48 > 1500). */
    assert_true(ctr(&x)->ipv6.frag_creates >= 9);
    assert_int_equal(ctr(&x)->ipv6.frag_oks, 6);
    fx_stop(&x);
}

/* RFC 5722: an overlap drops the datagram and whatever still comes of it. */
static void test_reasm_overlap(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    make_echo(&ll, 2500);
    inject_frag(&x, &ll, 9, 0, 1000, 1);
    inject_frag(&x, &ll, 9, 992, 1008, 1); /* overlaps 8 bytes */
    assert_int_equal(ctr(&x)->ipv6.reasm_overlaps, 1);
    assert_int_equal(ctr(&x)->ipv6.reasm_fails, 1);
    /* The rest, even the pieces that would complete it, is dropped. */
    inject_frag(&x, &ll, 9, 1000, 1000, 1);
    inject_frag(&x, &ll, 9, 2000, 500, 0);
    assert_int_equal(ctr(&x)->ipv6.reasm_oks, 0);
    assert_int_equal(ctr(&x)->icmp6.in_echos, 0);
    /* Its memory is given back at once; the key goes at the timeout, and
     * no Time Exceeded is sent for it. */
    assert_true(ctr(&x)->ipv6.reasm_bytes < 200);
    x.cap.n = 0;
    advance(&x, 61 * SEC);
    assert_int_equal(ctr(&x)->ipv6.reasm_bytes, 0);
    assert_int_equal(ctr(&x)->icmp6.out_time_excds, 0);
    /* Another ID is unaffected. */
    inject_frag(&x, &ll, 10, 0, 1000, 1);
    inject_frag(&x, &ll, 10, 1000, 1000, 1);
    inject_frag(&x, &ll, 10, 2000, 500, 0);
    assert_int_equal(ctr(&x)->icmp6.in_echos, 1);
    /* Two last fragments that disagree kill it too. */
    inject_frag(&x, &ll, 11, 2000, 500, 0);
    inject_frag(&x, &ll, 11, 1000, 504, 0);
    inject_frag(&x, &ll, 11, 0, 1000, 1);
    assert_int_equal(ctr(&x)->icmp6.in_echos, 1);
    fx_stop(&x);
}

/* RFC 8200 4.5: after 60 s, Time Exceeded code 1 quoting the first
 * fragment, only if it came. */
static void test_reasm_timeout(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    make_echo(&ll, 2500);
    inject_frag(&x, &ll, 5, 1000, 1000, 1); /* no first fragment */
    inject_frag(&x, &ll, 6, 0, 1000, 1);
    x.cap.n = 0;
    advance(&x, 60 * SEC - 1);
    assert_int_equal(ctr(&x)->ipv6.reasm_timeouts, 0);
    advance(&x, 1);
    assert_int_equal(ctr(&x)->ipv6.reasm_timeouts, 2);
    assert_int_equal(ctr(&x)->icmp6.out_time_excds, 1);
    /* PEER's entry aged out meanwhile: the error waits for its NA. */
    inject_na(&x, &PEER, &ll, &PEER, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE, MAC_PEER, 255);
    int i = last_of_type(&x, OASIS_ICMP6_TIME_EXCEEDED);
    assert_true(i >= 0);
    assert_int_equal(x.cap.frame[i][55], 1); /* code 1 */
    /* It quotes the first fragment, fragment header and ID 6 included. */
    assert_int_equal(x.cap.frame[i][62 + 6], OASIS_NH_FRAGMENT);
    assert_int_equal(oasis_get32(x.cap.frame[i] + 62 + 40 + 4), 6);
    assert_int_equal(ctr(&x)->ipv6.reasm_bytes, 0);
    fx_stop(&x);
}

/* A datagram in more fragments than any sender cuts (65535 bytes at the
 * 1280-byte minimum MTU take 54) is dropped whole, whatever bytes remain
 * under the memory bound: tiny fragments cannot make its list grow. */
static void test_reasm_fragment_count(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    enum { MAX = OASIS_IPV6_REASM_MAX_FRAGS };
    /* At the bound: MAX fragments of 8 bytes, the last one included. */
    make_echo(&ll, MAX * 8);
    for (int k = 0; k < MAX; k++)
        inject_frag(&x, &ll, 20, (size_t)k * 8, 8, k + 1 < MAX);
    assert_int_equal(ctr(&x)->ipv6.reasm_oks, 1);
    assert_int_equal(ctr(&x)->icmp6.in_echos, 1);
    /* One more: the datagram dies at the (MAX + 1)th piece, its memory
     * back at once, and what still comes of it completes nothing. */
    make_echo(&ll, (MAX + 8) * 8);
    for (int k = MAX + 8; k-- > 1;)
        inject_frag(&x, &ll, 21, (size_t)k * 8, 8, k + 1 < MAX + 8);
    inject_frag(&x, &ll, 21, 0, 8, 1);
    assert_int_equal(ctr(&x)->icmp6.in_echos, 1);
    assert_int_equal(ctr(&x)->ipv6.reasm_oks, 1);
    assert_int_equal(ctr(&x)->ipv6.reasm_too_many_frags, 1);
    assert_int_equal(ctr(&x)->ipv6.reasm_fails, 1 + 7); /* the kill, then each dead one */
    assert_true(ctr(&x)->ipv6.reasm_bytes < 200);
    /* Resent whole, the datagram's fragments are dropped until the key
     * times out (as after an overlap, RFC 5722); then it completes. */
    for (int k = 0; k < 2; k++)
        inject_frag(&x, &ll, 21, (size_t)k * 8, 8, 1);
    assert_true(ctr(&x)->ipv6.reasm_bytes < 200);
    advance(&x, 61 * SEC);
    assert_int_equal(ctr(&x)->ipv6.reasm_bytes, 0);
    make_echo(&ll, 2500);
    inject_frag(&x, &ll, 21, 0, 1000, 1);
    inject_frag(&x, &ll, 21, 1000, 1000, 1);
    inject_frag(&x, &ll, 21, 2000, 500, 0);
    assert_int_equal(ctr(&x)->icmp6.in_echos, 2);
    fx_stop(&x);
}

static void reasm_8k(oasis_stack_config *c)
{
    c->reasm_max_bytes = 8 * 1024;
    c->reasm_max_datagrams = 64; /* the byte bound is the one that bites */
}

/* The reassembly memory bound: the oldest datagram makes room. */
static void test_reasm_memory_bound(void **state)
{
    (void)state;
    fx x;
    fx_start_ex(&x, 0, 0, 1, reasm_8k);
    oasis_in6 ll = ll_of(&x);
    make_echo(&ll, 2500);
    /* 20 datagrams of which one fragment each: memory never passes 8 KiB. */
    for (uint32_t id = 100; id < 120; id++) {
        inject_frag(&x, &ll, id, 1000, 1000, 1);
        assert_true(ctr(&x)->ipv6.reasm_bytes <= 8 * 1024);
    }
    assert_true(ctr(&x)->ipv6.reasm_overflows >= 10);
    assert_true(x.s->ip6->reasm.ages.n <= 8);
    /* The newest still completes. */
    inject_frag(&x, &ll, 119, 0, 1000, 1);
    inject_frag(&x, &ll, 119, 2000, 500, 0);
    assert_int_equal(ctr(&x)->icmp6.in_echos, 1);
    /* Atomic fragments (RFC 6946) go around reassembly, even with an ID
     * that is being reassembled. */
    make_echo(&ll, 100);
    inject_frag(&x, &ll, 118, 0, 100, 0);
    assert_int_equal(ctr(&x)->ipv6.atomic_frags, 1);
    assert_int_equal(ctr(&x)->icmp6.in_echos, 2);
    fx_stop(&x);
}

static void reasm_off(oasis_stack_config *c) { c->reasm_max_bytes = 0; }

/* A bound below one datagram's bookkeeping, none in progress: the
 * fragments are dropped and counted, never a crash; an unfragmented echo
 * is still answered. */
static void test_reasm_bound_below_one(void **state)
{
    (void)state;
    fx x;
    fx_start_ex(&x, 0, 0, 1, reasm_off);
    oasis_in6 ll = ll_of(&x);
    make_echo(&ll, 2500);
    inject_frag(&x, &ll, 5, 0, 1000, 1);
    inject_frag(&x, &ll, 5, 1000, 1000, 1);
    inject_frag(&x, &ll, 5, 2000, 500, 0);
    assert_int_equal(ctr(&x)->icmp6.in_echos, 0);
    assert_int_equal(ctr(&x)->ipv6.reasm_fails, 3);
    assert_int_equal(x.s->ip6->reasm.ages.n, 0);
    assert_int_equal(ctr(&x)->ipv6.reasm_bytes, 0);
    make_echo(&ll, 100);
    inject_frag(&x, &ll, 6, 0, 100, 0); /* atomic: no reassembly */
    assert_int_equal(ctr(&x)->icmp6.in_echos, 1);
    fx_stop(&x);
}

/* ---- extension header attacks and ICMPv6 error rules ---- */

static void test_rh0_and_bombs(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    inject_ns(&x, &PEER, &ll, &ll, MAC_PEER); /* PEER resolved */
    uint8_t b[256];
    /* RH0, 1 address, segments left 1, then an echo request. */
    memset(b, 0, sizeof b);
    b[0] = OASIS_NH_ICMPV6;
    b[1] = 2;
    b[2] = 0;
    b[3] = 1;
    memcpy(b + 8, PEER.b, 16);
    memcpy(b + 24, (uint8_t[]){128, 0, 0, 0, 0, 1, 0, 1}, 8);
    x.cap.n = 0;
    inject(&x, &PEER, &ll, 64, OASIS_NH_ROUTING, b, 32);
    assert_int_equal(ctr(&x)->ipv6.in_rh0, 1);
    assert_int_equal(ctr(&x)->icmp6.in_echos, 0);
    int i = last_of_type(&x, OASIS_ICMP6_PARAM_PROBLEM);
    assert_true(i >= 0);
    assert_int_equal(x.cap.frame[i][55], 0);                 /* erroneous header field */
    assert_int_equal(oasis_get32(x.cap.frame[i] + 58), 42);  /* at the Routing Type */
    /* Segments left 0: the header is skipped (no checksum over it for the
     * echo: ICMPv6 sums only its own message). */
    b[3] = 0;
    uint8_t f[128];
    memcpy(f, b, 24);
    memcpy(f + 24, (uint8_t[]){128, 0, 0, 0, 0, 1, 0, 1}, 8);
    oasis_icmp6_finish(f + 24, 8, 128, 0, 0x00010001, &PEER, &ll);
    {
        uint8_t fr[200];
        memcpy(fr, oasis_stack_mac(x.s), 6);
        memcpy(fr + 6, MAC_PEER, 6);
        oasis_put16(fr + 12, OASIS_ETHERTYPE_IPV6);
        oasis_ipv6_hdr h;
        memset(&h, 0, sizeof h);
        h.payload_len = 32;
        h.next = OASIS_NH_ROUTING;
        h.hop_limit = 64;
        h.src = PEER;
        h.dst = ll;
        oasis_ipv6_emit(fr + 14, &h);
        memcpy(fr + 54, f, 32);
        oasis_stack_input(x.s, fr, 86);
    }
    assert_int_equal(ctr(&x)->icmp6.in_echos, 1);

    /* Nine destination-options headers: dropped, counted, never answered. */
    memset(b, 0, sizeof b);
    for (int k = 0; k < 9; k++)
        b[8 * k] = k < 8 ? OASIS_NH_DSTOPTS : OASIS_NH_NONE;
    x.cap.n = 0;
    inject(&x, &PEER, &ll, 64, OASIS_NH_DSTOPTS, b, 72);
    assert_int_equal(ctr(&x)->ipv6.in_ext_limit, 1);
    assert_int_equal(x.cap.n, 0);
    /* A header of padding (more than 7 bytes in a row): the same. */
    memset(b, 0, sizeof b);
    b[0] = OASIS_NH_NONE;
    b[1] = 1;
    inject(&x, &PEER, &ll, 64, OASIS_NH_DSTOPTS, b, 16);
    assert_int_equal(ctr(&x)->ipv6.in_ext_limit, 2);
    assert_int_equal(x.cap.n, 0);
    /* A lying header length: truncated. */
    b[1] = 20;
    inject(&x, &PEER, &ll, 64, OASIS_NH_DSTOPTS, b, 16);
    assert_int_equal(ctr(&x)->ipv6.in_truncated, 1);
    /* Hop-by-Hop after another header: Parameter Problem code 1. */
    memset(b, 0, sizeof b);
    b[0] = OASIS_NH_HOPOPTS;
    b[8] = OASIS_NH_NONE;
    inject(&x, &PEER, &ll, 64, OASIS_NH_DSTOPTS, b, 16);
    i = last_of_type(&x, OASIS_ICMP6_PARAM_PROBLEM);
    assert_true(i >= 0);
    assert_int_equal(x.cap.frame[i][55], 1);
    assert_int_equal(oasis_get32(x.cap.frame[i] + 58), 40);
    fx_stop(&x);
}

/* RFC 8200 4.5: a fragment whose length and offset would make the
 * reassembled Payload Length exceed 65535 octets is discarded with a
 * Parameter Problem code 0 at its Fragment Offset. The Payload Length
 * counts the headers before the fragment header too: with 8 bytes of
 * Destination Options, offset 65520 and 15 bytes are 8 too many; without
 * them the same fragment fits and waits for the rest. */
static void test_frag_past_65535_with_headers(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    inject_ns(&x, &PEER, &ll, &ll, MAC_PEER);
    uint8_t b[8 + 8 + 15];
    memset(b, 0, sizeof b);
    b[0] = OASIS_NH_FRAGMENT; /* Destination Options: one PadN of 4 */
    b[2] = 1;
    b[3] = 4;
    oasis_ipv6_frag fh = {OASIS_NH_ICMPV6, 65520, 0, 77};
    oasis_ipv6_frag_emit(b + 8, &fh);
    x.cap.n = 0;
    uint64_t hdr = ctr(&x)->ipv6.in_hdr_errors;
    inject(&x, &PEER, &ll, 64, OASIS_NH_DSTOPTS, b, sizeof b);
    assert_int_equal(ctr(&x)->ipv6.reasm_reqds, 0);
    assert_int_equal(ctr(&x)->ipv6.in_hdr_errors, hdr + 1);
    int i = last_of_type(&x, OASIS_ICMP6_PARAM_PROBLEM);
    assert_true(i >= 0);
    assert_int_equal(x.cap.frame[i][55], 0);                /* erroneous header field */
    assert_int_equal(oasis_get32(x.cap.frame[i] + 58), 50); /* 40 + 8 + 2: Fragment Offset */
    inject(&x, &PEER, &ll, 64, OASIS_NH_FRAGMENT, b + 8, sizeof b - 8);
    assert_int_equal(ctr(&x)->ipv6.reasm_reqds, 1);
    assert_int_equal(count_type(&x, OASIS_ICMP6_PARAM_PROBLEM), 1);
    fx_stop(&x);
}

/* RFC 8200 4: a Next Header of 0 in any header but the fixed one is an
 * unrecognised Next Header (Parameter Problem code 1 pointing at it). A
 * first fragment whose Fragment header names a Hop-by-Hop header would,
 * reassembled, put it right after the fixed header: it is refused before
 * reassembly, atomic or not. A Hop-by-Hop header before the Fragment
 * header is where it belongs. */
static void test_hbh_after_fragment_header(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    inject_ns(&x, &PEER, &ll, &ll, MAC_PEER);
    uint8_t b[8 + 8 + 16];
    memset(b, 0, sizeof b);
    oasis_ipv6_frag fh = {OASIS_NH_HOPOPTS, 0, 0, 5};
    oasis_ipv6_frag_emit(b, &fh);
    b[8] = OASIS_NH_ICMPV6; /* Hop-by-Hop: one PadN of 4 */
    b[10] = 1;
    b[11] = 4;
    oasis_icmp6_finish(b + 16, 16, OASIS_ICMP6_ECHO_REQUEST, 0, 0x00070001, &PEER, &ll);
    x.cap.n = 0;
    inject(&x, &PEER, &ll, 64, OASIS_NH_FRAGMENT, b, sizeof b); /* atomic */
    assert_int_equal(ctr(&x)->ipv6.atomic_frags, 0);
    assert_int_equal(ctr(&x)->icmp6.in_echos, 0);
    int i = last_of_type(&x, OASIS_ICMP6_PARAM_PROBLEM);
    assert_true(i >= 0);
    assert_int_equal(x.cap.frame[i][55], 1);                /* unrecognised Next Header */
    assert_int_equal(oasis_get32(x.cap.frame[i] + 58), 40); /* the Fragment header's */
    fh.more = 1; /* the first of several */
    oasis_ipv6_frag_emit(b, &fh);
    inject(&x, &PEER, &ll, 64, OASIS_NH_FRAGMENT, b, sizeof b);
    assert_int_equal(ctr(&x)->ipv6.reasm_reqds, 0);
    assert_int_equal(count_type(&x, OASIS_ICMP6_PARAM_PROBLEM), 2);
    /* Hop-by-Hop, then an atomic Fragment header: answered. */
    uint8_t g[8 + 8 + 16];
    memset(g, 0, sizeof g);
    g[0] = OASIS_NH_FRAGMENT;
    g[2] = 1;
    g[3] = 4;
    oasis_ipv6_frag gh = {OASIS_NH_ICMPV6, 0, 0, 6};
    oasis_ipv6_frag_emit(g + 8, &gh);
    oasis_icmp6_finish(g + 16, 16, OASIS_ICMP6_ECHO_REQUEST, 0, 0x00070002, &PEER, &ll);
    inject(&x, &PEER, &ll, 64, OASIS_NH_HOPOPTS, g, sizeof g);
    assert_int_equal(ctr(&x)->ipv6.atomic_frags, 1);
    assert_int_equal(ctr(&x)->icmp6.in_echos, 1);
    fx_stop(&x);
}

/* RFC 4443 2.4 c, 3.4 with RFC 6946: an error about an atomic fragment
 * quotes the packet as it came, Fragment header and all, and its pointer
 * is an offset in that packet: an unknown Next Header in the Fragment
 * header is at 40, and the quote's own Next Header still says Fragment.
 * (It quoted a copy without the Fragment header, pointing at offset 6,
 * which in the packet sent names the Fragment header.) */
static void test_atomic_fragment_error_quotes_it(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    inject_ns(&x, &PEER, &ll, &ll, MAC_PEER);
    uint8_t b[8 + 16];
    memset(b, 0, sizeof b);
    oasis_ipv6_frag fh = {253, 0, 0, 77};
    oasis_ipv6_frag_emit(b, &fh);
    memset(b + 8, 0xa5, 16);
    x.cap.n = 0;
    inject(&x, &PEER, &ll, 64, OASIS_NH_FRAGMENT, b, sizeof b);
    assert_int_equal(ctr(&x)->ipv6.atomic_frags, 1);
    assert_int_equal(ctr(&x)->ipv6.in_unknown_protos, 1);
    int i = last_of_type(&x, OASIS_ICMP6_PARAM_PROBLEM);
    assert_true(i >= 0);
    const uint8_t *q = x.cap.frame[i] + 14 + 40 + 8;
    assert_int_equal(x.cap.frame[i][55], 1);                /* unrecognised Next Header */
    assert_int_equal(oasis_get32(x.cap.frame[i] + 58), 40); /* the Fragment header's */
    assert_int_equal(x.cap.len[i], 14 + 40 + 8 + 40 + sizeof b);
    assert_int_equal(oasis_get16(q + 4), sizeof b);
    assert_int_equal(q[6], OASIS_NH_FRAGMENT);
    assert_memory_equal(q + 40, b, sizeof b);
    /* Behind a Destination Options header after the Fragment header: the
     * pointer is that header's Next Header, at 48. */
    uint8_t d[8 + 8 + 8];
    memset(d, 0, sizeof d);
    oasis_ipv6_frag dh = {OASIS_NH_DSTOPTS, 0, 0, 78};
    oasis_ipv6_frag_emit(d, &dh);
    d[8] = 253;
    d[10] = 1; /* PadN of 4 */
    d[11] = 4;
    x.cap.n = 0;
    inject(&x, &PEER, &ll, 64, OASIS_NH_FRAGMENT, d, sizeof d);
    i = last_of_type(&x, OASIS_ICMP6_PARAM_PROBLEM);
    assert_true(i >= 0);
    assert_int_equal(oasis_get32(x.cap.frame[i] + 58), 48);
    assert_memory_equal(x.cap.frame[i] + 14 + 48 + 40, d, sizeof d);
    /* Still processed alone and answered: an echo request. */
    uint8_t e[8 + 16];
    memset(e, 0, sizeof e);
    oasis_ipv6_frag eh = {OASIS_NH_ICMPV6, 0, 0, 79};
    oasis_ipv6_frag_emit(e, &eh);
    oasis_icmp6_finish(e + 8, 16, OASIS_ICMP6_ECHO_REQUEST, 0, 0x00070003, &PEER, &ll);
    inject(&x, &PEER, &ll, 64, OASIS_NH_FRAGMENT, e, sizeof e);
    assert_int_equal(ctr(&x)->ipv6.atomic_frags, 3);
    assert_int_equal(ctr(&x)->icmp6.in_echos, 1);
    assert_true(last_of_type(&x, OASIS_ICMP6_ECHO_REPLY) >= 0);
    fx_stop(&x);
}

/* RFC 7112 5, RFC 8200 4.5: a first fragment that does not hold the
 * whole header chain through the upper-layer header is discarded with a
 * Parameter Problem code 3, pointer 0, and starts no reassembly; a later
 * fragment is not asked for it. */
static void test_first_fragment_without_chain(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    inject_ns(&x, &PEER, &ll, &ll, MAC_PEER);
    uint8_t b[8 + 8];
    memset(b, 0, sizeof b);
    /* 8 bytes of a TCP header (20 needed). */
    oasis_ipv6_frag fh = {OASIS_NH_TCP, 0, 1, 31};
    oasis_ipv6_frag_emit(b, &fh);
    x.cap.n = 0;
    inject(&x, &PEER, &ll, 64, OASIS_NH_FRAGMENT, b, sizeof b);
    int i = last_of_type(&x, OASIS_ICMP6_PARAM_PROBLEM);
    assert_true(i >= 0);
    assert_int_equal(x.cap.frame[i][55], OASIS_ICMP6_PP_CHAIN);
    assert_int_equal(oasis_get32(x.cap.frame[i] + 58), 0);
    assert_int_equal(x.s->ip6->reasm.ages.n, 0);
    /* A Destination Options header of 16 bytes of which 8 came. */
    fh.next = OASIS_NH_DSTOPTS;
    oasis_ipv6_frag_emit(b, &fh);
    b[8] = OASIS_NH_UDP;
    b[9] = 1;
    inject(&x, &PEER, &ll, 64, OASIS_NH_FRAGMENT, b, sizeof b);
    assert_int_equal(count_type(&x, OASIS_ICMP6_PARAM_PROBLEM), 2);
    assert_int_equal(x.s->ip6->reasm.ages.n, 0);
    assert_int_equal(ctr(&x)->ipv6.reasm_fails, 2);
    /* The same 8 bytes at offset 8: held, no error. */
    fh.offset = 8;
    oasis_ipv6_frag_emit(b, &fh);
    inject(&x, &PEER, &ll, 64, OASIS_NH_FRAGMENT, b, sizeof b);
    assert_int_equal(count_type(&x, OASIS_ICMP6_PARAM_PROBLEM), 2);
    assert_int_equal(x.s->ip6->reasm.ages.n, 1);
    fx_stop(&x);
}

/* RFC 8201 4: a Packet Too Big quoting one of our outstanding echo
 * requests lowers the path MTU, and the next large ping is fragmented to
 * it; one quoting an echo request we have no ping for changes nothing. */
static void test_ping_packet_too_big(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    inject_ns(&x, &PEER, &ll, &ll, MAC_PEER);
    oasis_ipaddr peer = oasis_ipaddr_v6(PEER.b);
    pingres r;
    memset(&r, 0, sizeof r);
    x.cap.n = 0;
    assert_int_equal(oasis_ping_addr(x.s, &peer, 9, 1, 1400, 10 * SEC, on_ping, &r), 0);
    assert_int_equal(x.cap.n, 1);
    assert_int_equal(x.cap.len[0], 14 + 40 + 8 + 1400);
    static uint8_t m[8 + 1232];
    memset(m, 0, 8);
    m[0] = OASIS_ICMP6_PKT_TOO_BIG;
    oasis_put32(m + 4, 1280);
    memcpy(m + 8, x.cap.frame[0] + 14, 1232);
    m[8 + 40 + 7] = 2; /* seq 2: no such ping */
    inject(&x, &PEER, &ll, 64, OASIS_NH_ICMPV6, m, sizeof m);
    assert_int_equal(ctr(&x)->ip.pmtu_lowered, 0);
    m[8 + 40 + 7] = 1;
    inject(&x, &PEER, &ll, 64, OASIS_NH_ICMPV6, m, sizeof m);
    assert_int_equal(ctr(&x)->ip.pmtu_lowered, 1);
    assert_int_equal(r.done, 0); /* the ping itself waits for its timeout */
    x.cap.n = 0;
    assert_int_equal(oasis_ping_addr(x.s, &peer, 9, 2, 1400, 10 * SEC, on_ping, &r), 0);
    assert_int_equal(x.cap.n, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(x.cap.frame[i][20], OASIS_NH_FRAGMENT);
        assert_true(x.cap.len[i] - 14 <= 1280);
    }
    fx_stop(&x);
}

/* RFC 4443 2.4 (e.1): no error about an ICMPv6 error, even when what is
 * wrong with it sits in its extension headers, which the error check must
 * look past; nor a Time Exceeded about a fragmented one. The same headers
 * before an echo request do draw the error (tokens are plenty). */
static void test_icmp6_no_error_about_errors(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    inject_ns(&x, &PEER, &ll, &ll, MAC_PEER);
    /* Destination Options with an option of action bits 11, Hop-by-Hop
     * after it, RH0 with Segments Left 1; each before an ICMPv6 message. */
    static const uint8_t bad_opt[8] = {OASIS_NH_ICMPV6, 0, 0xde, 0, 1, 2, 0, 0};
    static const uint8_t hbh_late[16] = {OASIS_NH_HOPOPTS, 0, 1, 4, 0, 0, 0, 0,
                                         OASIS_NH_ICMPV6, 0, 1, 4, 0, 0, 0, 0};
    static const uint8_t rh0[24] = {OASIS_NH_ICMPV6, 2, 0, 1};
    const struct { uint8_t nh; const uint8_t *h; size_t n; } heads[] = {
        {OASIS_NH_DSTOPTS, bad_opt, sizeof bad_opt},
        {OASIS_NH_DSTOPTS, hbh_late, sizeof hbh_late},
        {OASIS_NH_ROUTING, rh0, sizeof rh0},
    };
    uint8_t pkt[128];
    for (size_t k = 0; k < 3; k++) {
        memcpy(pkt, heads[k].h, heads[k].n);
        uint8_t *m = pkt + heads[k].n;
        memset(m, 0, 56);
        m[0] = OASIS_ICMP6_DEST_UNREACH;
        m[1] = 4;
        oasis_icmp6_finish(m, 56, m[0], m[1], 0, &PEER, &ll);
        inject(&x, &PEER, &ll, 64, heads[k].nh, pkt, heads[k].n + 56);
        assert_int_equal(ctr(&x)->icmp6.out_parm_problems, k);
        m[0] = OASIS_ICMP6_ECHO_REQUEST;
        m[1] = 0;
        oasis_icmp6_finish(m, 56, m[0], m[1], 0, &PEER, &ll);
        inject(&x, &PEER, &ll, 64, heads[k].nh, pkt, heads[k].n + 56);
        assert_int_equal(ctr(&x)->icmp6.out_parm_problems, k + 1);
    }
    assert_int_equal(ctr(&x)->icmp6.out_rate_limited, 0);
    /* The first fragment of a Destination Unreachable that never completes. */
    memset(echo_msg, 0, sizeof echo_msg);
    echo_msg[0] = OASIS_ICMP6_DEST_UNREACH;
    inject_frag(&x, &ll, 9, 0, 1000, 1);
    advance(&x, 61 * SEC);
    assert_int_equal(ctr(&x)->ipv6.reasm_timeouts, 1);
    assert_int_equal(ctr(&x)->icmp6.out_time_excds, 0);
    fx_stop(&x);
}

/* RFC 4443 2.4 (e.1): no error about an ICMPv6 error, also when an
 * Authentication Header the stack does not process comes before it (its
 * Next Header and length are readable without the SA, as Linux's
 * ipv6_skip_exthdr reads them). An AH before anything else still draws
 * RFC 8200 4's Parameter Problem code 1, at the IPv6 header's Next Header. */
static void test_icmp6_no_error_about_ah_protected_error(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    inject_ns(&x, &PEER, &ll, &ll, MAC_PEER);
    uint8_t pkt[128];
    /* AH: Next Header, Payload Length 4 ((4 + 2) * 4 = 24 octets: the
     * 12 fixed and a 12-octet ICV), SPI, Sequence Number. */
    memset(pkt, 0, 24);
    pkt[0] = OASIS_NH_ICMPV6;
    pkt[1] = 4;
    pkt[7] = 1;
    pkt[11] = 1;
    uint8_t *m = pkt + 24;
    const uint8_t types[2] = {OASIS_ICMP6_DEST_UNREACH, OASIS_ICMP6_ECHO_REQUEST};
    for (int k = 0; k < 2; k++) {
        memset(m, 0, 56);
        oasis_icmp6_finish(m, 56, types[k], 0, 0, &PEER, &ll);
        x.cap.n = 0;
        inject(&x, &PEER, &ll, 64, OASIS_NH_AH, pkt, 24 + 56);
        assert_int_equal(ctr(&x)->ipv6.in_unknown_protos, (uint64_t)k + 1);
        assert_int_equal(ctr(&x)->icmp6.out_parm_problems, (uint64_t)k);
        assert_int_equal(count_type(&x, OASIS_ICMP6_PARAM_PROBLEM), (size_t)k);
    }
    int i = last_of_type(&x, OASIS_ICMP6_PARAM_PROBLEM);
    assert_true(i >= 0);
    assert_int_equal(x.cap.frame[i][55], OASIS_ICMP6_PP_NEXTHDR);
    assert_int_equal(oasis_get32(x.cap.frame[i] + 58), 6);
    /* A Redirect under AH: none either (2.4 e.2). */
    memset(m, 0, 56);
    oasis_icmp6_finish(m, 56, OASIS_ICMP6_REDIRECT, 0, 0, &PEER, &ll);
    inject(&x, &PEER, &ll, 64, OASIS_NH_AH, pkt, 24 + 56);
    assert_int_equal(ctr(&x)->icmp6.out_parm_problems, 1);
    /* An AH cut short: its length is past the packet, so nothing says
     * what it carries, and the error goes. */
    pkt[1] = 200;
    memset(m, 0, 56);
    oasis_icmp6_finish(m, 56, OASIS_ICMP6_DEST_UNREACH, 0, 0, &PEER, &ll);
    inject(&x, &PEER, &ll, 64, OASIS_NH_AH, pkt, 24 + 56);
    assert_int_equal(ctr(&x)->icmp6.out_parm_problems, 2);
    fx_stop(&x);
}

static void icmp_slow(oasis_stack_config *c)
{
    c->icmp_rate_per_sec = 1;
    c->icmp_burst = 2;
}

/* RFC 4443 2.4 (e), (f): the error rules. */
static void test_icmp6_error_rules(void **state)
{
    (void)state;
    fx x;
    fx_start_ex(&x, 0, 0, 1, icmp_slow);
    oasis_in6 ll = ll_of(&x);
    inject_ns(&x, &PEER, &ll, &ll, MAC_PEER);
    uint8_t b[64] = {0};
    /* Unknown next header to our address: code 1 pointing at it (offset 6). */
    x.cap.n = 0;
    inject(&x, &PEER, &ll, 64, 253, b, 8);
    assert_int_equal(ctr(&x)->ipv6.in_unknown_protos, 1);
    int i = last_of_type(&x, OASIS_ICMP6_PARAM_PROBLEM);
    assert_true(i >= 0);
    assert_int_equal(x.cap.frame[i][55], 1);
    assert_int_equal(oasis_get32(x.cap.frame[i] + 58), 6);
    /* To a multicast group: no error. */
    x.cap.n = 0;
    inject(&x, &PEER, &oasis_in6_all_nodes, 64, 253, b, 8);
    assert_int_equal(ctr(&x)->ipv6.in_unknown_protos, 2);
    assert_int_equal(count_type(&x, OASIS_ICMP6_PARAM_PROBLEM), 0);
    /* ...except an option whose action bits are 10. */
    uint8_t d[16] = {OASIS_NH_NONE, 0, 0x9e, 0, 1, 2, 0, 0};
    inject(&x, &PEER, &oasis_in6_all_nodes, 64, OASIS_NH_DSTOPTS, d, 8);
    assert_int_equal(count_type(&x, OASIS_ICMP6_PARAM_PROBLEM), 1);
    d[2] = 0xde; /* 11: not to multicast */
    inject(&x, &PEER, &oasis_in6_all_nodes, 64, OASIS_NH_DSTOPTS, d, 8);
    assert_int_equal(count_type(&x, OASIS_ICMP6_PARAM_PROBLEM), 1);
    assert_int_equal(ctr(&x)->ipv6.in_bad_options, 2);
    /* Never about an ICMPv6 error: an unknown option before a Parameter
     * Problem message. */
    uint8_t e[40] = {OASIS_NH_ICMPV6, 0, 0xde, 0, 1, 2, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0};
    uint64_t limited = ctr(&x)->icmp6.out_rate_limited;
    inject(&x, &PEER, &ll, 64, OASIS_NH_DSTOPTS, e, 16);
    assert_int_equal(count_type(&x, OASIS_ICMP6_PARAM_PROBLEM), 1);
    /* Refused before the rate limiter is asked (no token is left here). */
    assert_int_equal(ctr(&x)->icmp6.out_rate_limited, limited);
    /* Rate limit: burst 2, then one a second. The first error above used
     * one token and the multicast one another. */
    inject(&x, &PEER, &ll, 64, 253, b, 8);
    assert_int_equal(ctr(&x)->icmp6.out_rate_limited, limited + 1);
    advance(&x, SEC);
    inject(&x, &PEER, &ll, 64, 253, b, 8);
    assert_int_equal(ctr(&x)->icmp6.out_rate_limited, limited + 1);
    assert_int_equal(count_type(&x, OASIS_ICMP6_PARAM_PROBLEM), 2);
    /* Echo to all-nodes: answered from our unicast link-local address. */
    x.cap.n = 0;
    uint8_t echo[16] = {128, 0, 0, 0, 0, 1, 0, 1};
    inject(&x, &PEER, &oasis_in6_all_nodes, 64, OASIS_NH_ICMPV6, echo, sizeof echo);
    i = last_of_type(&x, OASIS_ICMP6_ECHO_REPLY);
    assert_true(i >= 0);
    oasis_ipv6_hdr h;
    frame_icmp_type(&x, (size_t)i, &h);
    assert_true(oasis_in6_eq(&h.src, &ll));
    /* A bad checksum is counted and dropped. */
    uint8_t fr[100];
    memcpy(fr, oasis_stack_mac(x.s), 6);
    memcpy(fr + 6, MAC_PEER, 6);
    oasis_put16(fr + 12, OASIS_ETHERTYPE_IPV6);
    memset(&h, 0, sizeof h);
    h.payload_len = 16;
    h.next = OASIS_NH_ICMPV6;
    h.hop_limit = 64;
    h.src = PEER;
    h.dst = ll;
    oasis_ipv6_emit(fr + 14, &h);
    memcpy(fr + 54, echo, 16);
    oasis_stack_input(x.s, fr, 70);
    assert_int_equal(ctr(&x)->icmp6.in_csum_errors, 1);
    assert_int_equal(ctr(&x)->icmp6.in_errors, 1); /* Icmp6InErrors counts it too, as Linux does */
    oasis_stack_destroy(x.s);
    test_cap_fini(&x.cap);
    oasis_clock_free(x.clock);
}

/* A datagram from our own address comes from the link only forged,
 * reflected or from a duplicate: it reaches no protocol (an address
 * error), but an NA still shows a duplicate (RFC 4862 5.4.4) and DAD's
 * probes from :: still work. */
static void test_own_source(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    const oasis_counters *c = ctr(&x);
    uint64_t in_msgs = c->icmp6.in_msgs, out_msgs = c->icmp6.out_msgs;
    make_echo(&ll, 16); /* inject sums it anew */
    inject(&x, &ll, &ll, 64, OASIS_NH_ICMPV6, echo_msg, 16);
    inject(&x, &ll, &oasis_in6_all_nodes, 64, OASIS_NH_ICMPV6, echo_msg, 16);
    /* UDP to a closed port. */
    uint8_t udp[12] = {0x30, 0x39, 0x00, 0x35, 0, 12, 0, 0, 'o', 'w', 'n', '!'};
    uint16_t uc = oasis_udp_csum6(udp, sizeof udp, &ll, &ll);
    memcpy(udp + 6, &uc, 2); /* in memory order, as computed */
    inject(&x, &ll, &ll, 64, OASIS_NH_UDP, udp, sizeof udp);
    assert_int_equal(c->icmp6.in_echos, 0);
    assert_int_equal(c->icmp6.in_msgs, in_msgs);
    assert_int_equal(c->udp6.no_ports + c->udp6.in_errors, 0);
    assert_int_equal(c->icmp6.out_msgs, out_msgs); /* no reply, no Port Unreachable */
    assert_int_equal(ctr(&x)->ipv6.in_addr_errors, 3);
    /* An NA from our address for it: a duplicate, noticed. */
    inject_na(&x, &ll, &oasis_in6_all_nodes, &ll, OASIS_ND_NA_OVERRIDE, MAC_PEER, 255);
    assert_int_equal(ctr(&x)->nd.addr_claimed, 1);
    assert_int_equal(ctr(&x)->ipv6.in_addr_errors, 3);
    /* Another node's DAD probe for our address (from ::) is answered. */
    uint64_t nas = c->icmp6.out_neigh_adverts;
    oasis_in6 sn = oasis_in6_solicited_node(&ll);
    inject_ns(&x, &UNSPEC, &sn, &ll, NULL);
    assert_int_equal(c->icmp6.out_neigh_adverts, nas + 1);
    /* From a neighbour the same echo is answered. */
    make_echo(&ll, 16);
    inject(&x, &PEER, &ll, 64, OASIS_NH_ICMPV6, echo_msg, 16);
    assert_int_equal(ctr(&x)->icmp6.in_echos, 1);
    fx_stop(&x);
}

/* Header validation: each reason its counter. */
static void test_input_validation(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    uint8_t f[100] = {0};
    memcpy(f, oasis_stack_mac(x.s), 6);
    memcpy(f + 6, MAC_PEER, 6);
    oasis_put16(f + 12, OASIS_ETHERTYPE_IPV6);
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.payload_len = 8;
    h.next = OASIS_NH_NONE;
    h.hop_limit = 64;
    h.src = PEER;
    h.dst = ll;
    oasis_ipv6_emit(f + 14, &h);
    oasis_stack_input(x.s, f, 62);
    assert_int_equal(ctr(&x)->ipv6.in_discards, 1); /* No Next Header */
    oasis_stack_input(x.s, f, 61);
    assert_int_equal(ctr(&x)->ipv6.in_truncated, 1);
    f[14] = 0x40;
    oasis_stack_input(x.s, f, 62);
    assert_int_equal(ctr(&x)->ipv6.in_hdr_errors, 1);
    f[14] = 0x60;
    f[14 + 8] = 0xff; /* multicast source */
    oasis_stack_input(x.s, f, 62);
    assert_int_equal(ctr(&x)->ipv6.in_hdr_errors, 2);
    /* An IPv4-mapped source (RFC 4291 2.5.5.2: never on the wire; the
     * API's IPv4 addresses take this form). */
    static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 9};
    memcpy(f + 14 + 8, mapped, 16);
    oasis_stack_input(x.s, f, 62);
    assert_int_equal(ctr(&x)->ipv6.in_hdr_errors, 3);
    assert_int_equal(ctr(&x)->ipv6.in_discards, 1); /* not read further */
    memcpy(f + 14 + 8, PEER.b, 16);
    f[14 + 24 + 15] ^= 1; /* not our address */
    oasis_stack_input(x.s, f, 62);
    assert_int_equal(ctr(&x)->ipv6.in_addr_errors, 1);
    oasis_in6 grp = {{0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99}};
    memcpy(f + 14 + 24, grp.b, 16); /* a group we did not join */
    oasis_stack_input(x.s, f, 62);
    assert_int_equal(ctr(&x)->ipv6.in_addr_errors, 2);
    assert_int_equal(ctr(&x)->ipv6.in_receives, 7);
    fx_stop(&x);
}

/* RFC 4291 address rules on input, each packet an echo request that would
 * be answered: the loopback address neither as source nor as destination
 * (2.5.3: "A packet received on an interface with a destination address
 * of loopback must be dropped"), the unspecified address never a
 * destination (2.5.2), a multicast destination of reserved scope 0 or of
 * interface-local scope silently dropped (2.7), a multicast source never
 * (2.7). */
static void test_address_rules(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    inject_ns(&x, &PEER, &ll, &ll, MAC_PEER);
    const oasis_counters *c = ctr(&x);
    static const oasis_in6 lo = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    static const oasis_in6 scope0 = {{0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    static const oasis_in6 node_local = {{0xff, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    static const oasis_in6 group_src = {{0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    uint8_t echo[16] = {OASIS_ICMP6_ECHO_REQUEST, 0, 0, 0, 0, 1, 0, 1};
    uint64_t hdr = c->ipv6.in_hdr_errors, addr = c->ipv6.in_addr_errors;
    x.cap.n = 0;
    inject(&x, &lo, &ll, 64, OASIS_NH_ICMPV6, echo, sizeof echo);
    inject(&x, &PEER, &lo, 64, OASIS_NH_ICMPV6, echo, sizeof echo);
    inject(&x, &group_src, &ll, 64, OASIS_NH_ICMPV6, echo, sizeof echo);
    assert_int_equal(c->ipv6.in_hdr_errors, hdr + 3);
    inject(&x, &PEER, &UNSPEC, 64, OASIS_NH_ICMPV6, echo, sizeof echo);
    inject(&x, &PEER, &scope0, 64, OASIS_NH_ICMPV6, echo, sizeof echo);
    inject(&x, &PEER, &node_local, 64, OASIS_NH_ICMPV6, echo, sizeof echo);
    assert_int_equal(c->ipv6.in_addr_errors, addr + 3);
    assert_int_equal(c->icmp6.in_echos, 0);
    assert_int_equal(x.cap.n, 0);
    /* The same echo to ff02::1 is answered, with the default Hop Limit
     * (no RA has given a Cur Hop Limit). */
    inject(&x, &PEER, &oasis_in6_all_nodes, 64, OASIS_NH_ICMPV6, echo, sizeof echo);
    assert_int_equal(c->icmp6.in_echos, 1);
    int i = last_of_type(&x, OASIS_ICMP6_ECHO_REPLY);
    assert_true(i >= 0);
    assert_int_equal(x.cap.frame[i][14 + 7], 64);
    fx_stop(&x);
}

/* IPv6 off (the default): frames are counted and dropped, nothing sent. */
static void test_ipv6_off(void **state)
{
    (void)state;
    fx x;
    memset(&x, 0, sizeof x);
    oasis_stack_config cfg;
    x.clock = oasis_clock_new_virtual(1000 * SEC);
    test_stack_config(&cfg, x.clock, 1);
    cfg.arp_gratuitous = 0;
    assert_int_equal(oasis_stack_create(&cfg, &x.s), 0);
    test_cap_attach(&x.cap, x.s, MAXF, 1500);
    advance(&x, 10 * SEC);
    assert_int_equal(x.cap.n, 0);
    assert_int_equal(oasis_ipv6_addrs(x.s, NULL, 0), 0);
    oasis_ipaddr g;
    oasis_ipaddr_parse("2001:db8::1", &g);
    assert_int_equal(oasis_ipv6_add_addr(x.s, &g, 64), OASIS_EINVAL);
    oasis_in6 ll = {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    uint8_t echo[16] = {128};
    inject(&x, &PEER, &ll, 64, OASIS_NH_ICMPV6, echo, 16);
    assert_int_equal(ctr(&x)->ipv6.in_discards, 1);
    assert_int_equal(x.cap.n, 0);
    oasis_stack_destroy(x.s);
    test_cap_fini(&x.cap);
    oasis_clock_free(x.clock);
}

/* RFC 4861 8: a redirect from the current first hop sends a destination
 * elsewhere (a better router, or on-link); from anyone else it is ignored;
 * the router's departure takes its redirects along. */
static void inject_redirect(fx *x, const oasis_in6 *from, const oasis_in6 *target,
                            const oasis_in6 *dest, const uint8_t *tlla, uint8_t hop)
{
    uint8_t b[48] = {137, 0};
    memcpy(b + 8, target->b, 16);
    memcpy(b + 24, dest->b, 16);
    size_t n = 40;
    if (tlla) {
        b[40] = OASIS_ND_OPT_TLLA;
        b[41] = 1;
        memcpy(b + 42, tlla, 6);
        n = 48;
    }
    oasis_in6 ll = ll_of(x);
    inject(x, from, &ll, hop, OASIS_NH_ICMPV6, b, n);
}

static void test_redirect(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    inject_ra(&x, 1800, 3600, 1800, 1500);
    oasis_in6 far = {{0x20, 0x01, 0x0d, 0xb8, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    oasis_in6 better = {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x77}};
    static const uint8_t MAC_BETTER[6] = {2, 0, 0, 0, 0, 0x77};
    oasis_in6 nh;
    assert_int_equal(oasis_nd_next_hop(x.s, &far, &nh), 0);
    assert_true(oasis_in6_eq(&nh, &ROUTER));
    /* Not from the first hop, or not from the link: ignored. */
    inject_redirect(&x, &PEER, &better, &far, MAC_BETTER, 255);
    inject_redirect(&x, &ROUTER, &better, &far, MAC_BETTER, 254);
    assert_int_equal(ctr(&x)->nd.bad_messages, 1);
    assert_int_equal(ctr(&x)->nd.bad_hop_limit, 1);
    assert_int_equal(oasis_nd_next_hop(x.s, &far, &nh), 0);
    assert_true(oasis_in6_eq(&nh, &ROUTER));
    /* A global target that is not the destination: invalid. */
    oasis_in6 glob = far;
    glob.b[15] = 2;
    inject_redirect(&x, &ROUTER, &glob, &far, NULL, 255);
    assert_int_equal(ctr(&x)->nd.bad_messages, 2);
    /* From the router: taken, with the target's MAC. */
    inject_redirect(&x, &ROUTER, &better, &far, MAC_BETTER, 255);
    assert_int_equal(ctr(&x)->nd.redirects, 1);
    assert_int_equal(oasis_nd_next_hop(x.s, &far, &nh), 0);
    assert_true(oasis_in6_eq(&nh, &better));
    const ip6_neigh *e = oasis_nd_lookup(x.s, &better);
    assert_non_null(e);
    assert_int_equal(e->state, NEIGH_STALE);
    assert_memory_equal(e->mac, MAC_BETTER, 6);
    /* Now only `better` may redirect far again: to far itself (on-link). */
    inject_redirect(&x, &ROUTER, &far, &far, NULL, 255);
    assert_int_equal(ctr(&x)->nd.bad_messages, 3);
    inject_redirect(&x, &better, &far, &far, NULL, 255);
    assert_int_equal(oasis_nd_next_hop(x.s, &far, &nh), 0);
    assert_true(oasis_in6_eq(&nh, &far));
    /* The router leaves: destinations it was first hop for forget it; the
     * on-link redirect (hop = far) stays. */
    inject_ra(&x, 0, 3600, 1800, 1500);
    assert_int_equal(oasis_nd_next_hop(x.s, &far, &nh), 0);
    assert_true(oasis_in6_eq(&nh, &far));
    fx_stop(&x);
}


/* RFC 3810 8.2.1: an MLDv1 query puts the host in MLDv1 compatibility
 * mode for the Older Version Querier Present Timeout (260 s): it answers
 * with one MLDv1 Report per group (to the group), a join reports in MLDv1,
 * a leave sends a Done to all-routers; then MLDv2 again. */
static size_t count_dst(const fx *x, int type, const oasis_in6 *dst)
{
    size_t k = 0;
    oasis_ipv6_hdr h;
    for (size_t i = 0; i < x->cap.n; i++)
        if (frame_icmp_type(x, i, &h) == type && oasis_in6_eq(&h.dst, dst))
            k++;
    return k;
}

static void inject_mld_query(fx *x, int v2, uint16_t max_resp_ms)
{
    uint8_t q[28];
    memset(q, 0, sizeof q);
    q[0] = OASIS_ICMP6_MLD_QUERY;
    oasis_put16(q + 4, max_resp_ms);
    inject(x, &ROUTER, &oasis_in6_all_nodes, 1, OASIS_NH_ICMPV6, q, v2 ? 28 : 24);
}

static void test_mldv1_compat(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    oasis_in6 sn = oasis_in6_solicited_node(&ll);
    /* MLDv2 first: a v2 query draws a v2 report. */
    inject_mld_query(&x, 1, 1000);
    advance(&x, 2 * SEC);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 1);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD_REPORT), 0);
    /* An MLDv1 general query: an MLDv1 Report for the group, sent to it,
     * hop limit 1, from the link-local address. */
    x.cap.n = 0;
    inject_mld_query(&x, 0, 1000);
    advance(&x, 2 * SEC);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 0);
    assert_int_equal(count_dst(&x, OASIS_ICMP6_MLD_REPORT, &sn), 1);
    oasis_ipv6_hdr h;
    int i = last_of_type(&x, OASIS_ICMP6_MLD_REPORT);
    frame_icmp_type(&x, (size_t)i, &h);
    assert_int_equal(h.hop_limit, 1);
    assert_true(oasis_in6_eq(&h.src, &ll));
    /* Joining (a new address's solicited-node group) reports in MLDv1. */
    x.cap.n = 0;
    oasis_ipaddr g;
    assert_int_equal(oasis_ipaddr_parse("2001:db8::7:5", &g), 0);
    assert_int_equal(oasis_ipv6_add_addr(x.s, &g, 64), 0);
    oasis_in6 g6;
    memcpy(g6.b, g.b, 16);
    oasis_in6 sn2 = oasis_in6_solicited_node(&g6);
    advance(&x, 3 * SEC);
    assert_true(count_dst(&x, OASIS_ICMP6_MLD_REPORT, &sn2) >= 1);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 0);
    /* Still MLDv1 250 s after the query; the timer runs out at 260 s. */
    advance(&x, 245 * SEC);
    x.cap.n = 0;
    inject_mld_query(&x, 1, 1000);
    advance(&x, 2 * SEC);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 0);
    assert_int_equal(count_dst(&x, OASIS_ICMP6_MLD_REPORT, &sn), 1);
    advance(&x, 15 * SEC);
    x.cap.n = 0;
    inject_mld_query(&x, 1, 1000);
    advance(&x, 2 * SEC);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 1);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD_REPORT), 0);
    /* In MLDv1 mode again, a duplicate address's group is left with a Done
     * to all-routers. */
    inject_mld_query(&x, 0, 1000);
    advance(&x, 2 * SEC);
    x.cap.n = 0;
    oasis_ipaddr d;
    assert_int_equal(oasis_ipaddr_parse("2001:db8::8:6", &d), 0);
    assert_int_equal(oasis_ipv6_add_addr(x.s, &d, 64), 0);
    oasis_in6 d6;
    memcpy(d6.b, d.b, 16);
    inject_na(&x, &PEER, &oasis_in6_all_nodes, &d6, OASIS_ND_NA_OVERRIDE, MAC_PEER, 255);
    assert_int_equal(ctr(&x)->nd.dad_conflicts, 1);
    advance(&x, SEC);
    assert_int_equal(count_dst(&x, OASIS_ICMP6_MLD_DONE, &oasis_in6_all_routers), 1);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 0);
    fx_stop(&x);
}


/* RFC 4861 7.3.1: an upper layer's proof of progress makes the next hop's
 * entry REACHABLE without a probe; an INCOMPLETE entry stays so. */
static void test_confirm_reachable(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    /* PEER learnt STALE from its NS; our NA to it moved it to DELAY, where
     * a probe would follow in 5 s. */
    inject_ns(&x, &PEER, &ll, &ll, MAC_PEER);
    const ip6_neigh *e = oasis_nd_lookup(x.s, &PEER);
    assert_non_null(e);
    assert_int_equal(e->state, NEIGH_DELAY);
    oasis_ipaddr v4 = oasis_ipaddr_v4(OASIS_IPV4(10, 0, 0, 2));
    oasis_ipv6_confirm_reachable(x.s, &v4); /* another family: nothing */
    assert_int_equal(e->state, NEIGH_DELAY);
    oasis_ipaddr peer = oasis_ipaddr_v6(PEER.b);
    oasis_ipv6_confirm_reachable(x.s, &peer);
    assert_int_equal(e->state, NEIGH_REACHABLE);
    x.cap.n = 0;
    advance(&x, 60 * SEC); /* ReachableTime runs out: STALE, and no probe was sent */
    assert_int_equal(e->state, NEIGH_STALE);
    assert_int_equal(count_type(&x, OASIS_ICMP6_NS), 0);
    /* An entry still resolving is left alone. */
    oasis_in6 other = PEER;
    other.b[15] = 0x44;
    oasis_ipaddr o = oasis_ipaddr_v6(other.b);
    assert_int_equal(oasis_ping_addr(x.s, &o, 1, 1, 8, SEC, on_ping, &(pingres){0}), 0);
    const ip6_neigh *e2 = oasis_nd_lookup(x.s, &other);
    assert_non_null(e2);
    assert_int_equal(e2->state, NEIGH_INCOMPLETE);
    oasis_ipv6_confirm_reachable(x.s, &o);
    assert_int_equal(e2->state, NEIGH_INCOMPLETE);
    fx_stop(&x);
}


/* The stack's count of entries in DELAY, which TCP's ACK path tests
 * before it looks up a neighbour to confirm (tcp_input.c confirm_path),
 * follows every way into and out of DELAY: an NS answered (STALE, then
 * our NA: DELAY), an eviction for a neighbour we send to, a resolution
 * completed by an NS (STALE, the waiting packet: DELAY), a confirmation,
 * the timer (PROBE). */
static uint32_t count_delay(const fx *x)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < x->s->ip6->nneigh; i++)
        n += x->s->ip6->neigh[i].state == NEIGH_DELAY;
    return n;
}

static void test_delay_count(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 4, 0, 1);
    oasis_in6 ll = ll_of(&x);
    assert_int_equal(x.s->nd_delay, 0);
    oasis_in6 p[5];
    uint8_t mac[5][6];
    for (int i = 0; i < 5; i++) {
        p[i] = PEER;
        p[i].b[15] = (uint8_t)(0x30 + i);
        memcpy(mac[i], (uint8_t[6]){0x02, 0, 0, 0, 0x30, (uint8_t)i}, 6);
    }
    for (int i = 0; i < 4; i++) {
        inject_ns(&x, &p[i], &ll, &ll, mac[i]);
        advance(&x, SEC / 10);
        assert_int_equal(x.s->nd_delay, (uint32_t)i + 1);
        assert_int_equal(x.s->nd_delay, count_delay(&x));
    }
    /* Four slots: a ping to a fifth neighbour evicts the oldest entry. */
    oasis_ipaddr a = oasis_ipaddr_v6(p[4].b);
    assert_int_equal(oasis_ping_addr(x.s, &a, 1, 1, 8, 60 * SEC, on_ping, &(pingres){0}), 0);
    assert_int_equal(ctr(&x)->nd.cache_evictions, 1);
    assert_null(oasis_nd_lookup(x.s, &p[0]));
    assert_int_equal(x.s->nd_delay, 3);
    assert_int_equal(x.s->nd_delay, count_delay(&x));
    inject_ns(&x, &p[4], &ll, &ll, mac[4]);
    assert_int_equal(oasis_nd_lookup(x.s, &p[4])->state, NEIGH_DELAY);
    assert_int_equal(x.s->nd_delay, 4);
    assert_int_equal(x.s->nd_delay, count_delay(&x));
    oasis_ipv6_confirm_reachable(x.s, &a);
    assert_int_equal(x.s->nd_delay, 3);
    assert_int_equal(x.s->nd_delay, count_delay(&x));
    advance(&x, 6 * SEC); /* the other three: PROBE */
    assert_int_equal(x.s->nd_delay, 0);
    assert_int_equal(count_delay(&x), 0);
    fx_stop(&x);
}

/* RFC 4861 6.3.4: "If no Source Link-Layer Address is included, but a
 * corresponding Neighbor Cache entry exists, its IsRouter flag MUST be set
 * to TRUE"; 7.2: such an RA creates no entry. IsRouter matters: an NA
 * with R clear from a neighbour marked a router takes it off the default
 * router list (7.2.5). */
static void test_ra_without_slla_marks_router(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    uint8_t ra[16] = {OASIS_ICMP6_RA, 0, 0, 0, 64, 0, 0x07, 0x08};
    /* No entry for the router: the RA makes none, but the router is listed. */
    inject(&x, &ROUTER, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, ra, sizeof ra);
    assert_null(oasis_nd_lookup(x.s, &ROUTER));
    assert_int_equal(ctr(&x)->nd.routers, 1);
    inject(&x, &ROUTER, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, (uint8_t[16]){134}, 16);
    assert_int_equal(ctr(&x)->nd.routers, 0); /* lifetime 0: gone */
    /* The router's NS makes an entry, IsRouter false (7.2.3). */
    static const uint8_t MAC_R[6] = {2, 0, 0, 0, 0, 0x01};
    inject_ns(&x, &ROUTER, &ll, &ll, MAC_R);
    const ip6_neigh *e = oasis_nd_lookup(x.s, &ROUTER);
    assert_non_null(e);
    assert_false(e->is_router);
    /* An RA without SLLA: IsRouter set, the address left as it was. */
    inject(&x, &ROUTER, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, ra, sizeof ra);
    assert_int_equal(ctr(&x)->nd.routers, 1);
    assert_true(e->is_router);
    assert_memory_equal(e->mac, MAC_R, 6);
    /* Now an NA with R clear says it is a host: off the router list. */
    inject_na(&x, &ROUTER, &oasis_in6_all_nodes, &ROUTER, OASIS_ND_NA_OVERRIDE, MAC_R, 255);
    assert_false(e->is_router);
    assert_int_equal(ctr(&x)->nd.routers, 0);
    fx_stop(&x);
}


/* RFC 4443 2.4 (a): "If an ICMPv6 error message of unknown type is
 * received at its destination, it MUST be passed to the upper-layer
 * process that originated the packet that caused the error"; (b): an
 * informational message of unknown type is silently discarded. */
static void test_icmp6_unknown_types(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    inject_ns(&x, &PEER, &ll, &ll, MAC_PEER);
    const oasis_counters *c = ctr(&x);
    /* An error quoting a UDP datagram of ours (ll:5000 -> PEER:53). */
    uint8_t err[8 + 40 + 8] = {0};
    oasis_ipv6_hdr q;
    memset(&q, 0, sizeof q);
    q.payload_len = 8;
    q.next = OASIS_NH_UDP;
    q.hop_limit = 64;
    q.src = ll;
    q.dst = PEER;
    oasis_ipv6_emit(err + 8, &q);
    oasis_put16(err + 48, 5000);
    oasis_put16(err + 50, 53);
    oasis_put16(err + 52, 8);
    /* Control: a Destination Unreachable reaches UDP (no socket there). */
    err[0] = OASIS_ICMP6_DEST_UNREACH;
    err[1] = OASIS_ICMP6_DU_PORT;
    inject(&x, &PEER, &ll, 64, OASIS_NH_ICMPV6, err, sizeof err);
    assert_int_equal(c->udp6.icmp_no_port, 1);
    /* Type 100 (unassigned, < 128): UDP hears of it too, nothing is sent. */
    x.cap.n = 0;
    err[0] = 100;
    err[1] = 7;
    inject(&x, &PEER, &ll, 64, OASIS_NH_ICMPV6, err, sizeof err);
    assert_int_equal(c->udp6.icmp_no_port, 2);
    assert_int_equal(c->icmp6.in_errors_unowned, 0);
    assert_int_equal(x.cap.n, 0);
    /* Type 200 (unassigned informational): counted, dropped, no answer. */
    uint64_t in = c->icmp6.in_msgs, out = c->icmp6.out_msgs;
    uint8_t info[16] = {200, 0, 0, 0, 0, 1, 0, 1};
    inject(&x, &PEER, &ll, 64, OASIS_NH_ICMPV6, info, sizeof info);
    assert_int_equal(c->icmp6.in_msgs, in + 1);
    assert_int_equal(c->icmp6.out_msgs, out);
    assert_int_equal(x.cap.n, 0);
    fx_stop(&x);
}


/* Allocations fail while set (test_icmp6_mib_counts); frees never do. */
static int fail_allocs;

static void *flaky_alloc(void *ud, void *p, size_t n)
{
    (void)ud;
    if (n == 0) {
        free(p);
        return NULL;
    }
    return fail_allocs ? NULL : realloc(p, n);
}

static void use_flaky_alloc(oasis_stack_config *cfg) { cfg->alloc = flaky_alloc; }

/* RFC 4293 icmpStatsTable for ICMPv6: InMsgs "includes all those counted
 * by icmpStatsInErrors"; OutErrors counts the messages ICMP "did not send
 * due to problems discovered within ICMP, such as a lack of buffers" (an
 * error message that went out is none), and OutMsgs, the messages it
 * "attempted to send", includes them. */
static void test_icmp6_mib_counts(void **state)
{
    (void)state;
    fx x;
    fx_start_ex(&x, 0, 0, 1, use_flaky_alloc);
    oasis_in6 ll = ll_of(&x);
    const oasis_counters *c = ctr(&x);
    inject_ns(&x, &PEER, &ll, &ll, MAC_PEER); /* PEER known: answers go out at once */
    oasis_icmp6_counters c0 = c->icmp6;
    make_echo(&ll, 16);
    inject_ex(&x, &PEER, &ll, 64, OASIS_NH_ICMPV6, echo_msg, 16, 1);
    uint8_t tiny[8] = {OASIS_ICMP6_ECHO_REQUEST};
    inject(&x, &PEER, &ll, 64, OASIS_NH_ICMPV6, tiny, 4); /* shorter than any message */
    assert_int_equal(c->icmp6.in_msgs, c0.in_msgs + 2);
    assert_int_equal(c->icmp6.in_errors, c0.in_errors + 2);
    assert_int_equal(c->icmp6.in_csum_errors, c0.in_csum_errors + 1);
    assert_int_equal(c->icmp6.in_echos, c0.in_echos);
    /* An echo answered, a Port Unreachable sent: out, no OutError. */
    x.cap.n = 0;
    inject(&x, &PEER, &ll, 64, OASIS_NH_ICMPV6, echo_msg, 16);
    uint8_t udp[12] = {0x30, 0x39, 0x11, 0x5c, 0, 12, 0, 0, 'n', 'o', 'n', 'e'};
    uint16_t uc = oasis_udp_csum6(udp, sizeof udp, &PEER, &ll);
    memcpy(udp + 6, &uc, 2); /* in memory order, as computed */
    inject(&x, &PEER, &ll, 64, OASIS_NH_UDP, udp, sizeof udp);
    assert_int_equal(count_type(&x, OASIS_ICMP6_ECHO_REPLY), 1);
    assert_int_equal(count_type(&x, OASIS_ICMP6_DEST_UNREACH), 1);
    assert_int_equal(c->icmp6.out_msgs, c0.out_msgs + 2);
    assert_int_equal(c->icmp6.out_errors, c0.out_errors);
    /* No buffer for either answer: attempted, not sent. */
    x.cap.n = 0;
    oasis_pbuf_cache_drain(x.s);
    fail_allocs = 1;
    inject(&x, &PEER, &ll, 64, OASIS_NH_ICMPV6, echo_msg, 16);
    inject(&x, &PEER, &ll, 64, OASIS_NH_UDP, udp, sizeof udp);
    fail_allocs = 0;
    assert_int_equal(x.cap.n, 0);
    assert_int_equal(c->icmp6.in_echos, c0.in_echos + 2);
    assert_int_equal(c->icmp6.out_msgs, c0.out_msgs + 4);
    assert_int_equal(c->icmp6.out_errors, c0.out_errors + 2);
    assert_int_equal(c->icmp6.out_echo_replies, c0.out_echo_replies + 1);
    assert_int_equal(c->icmp6.out_dest_unreachs, c0.out_dest_unreachs + 1);
    fx_stop(&x);
}

/* ---- RFC 4861 validity checks, one rule broken at a time ----
 * Each hostile message breaks exactly one rule of 6.1, 7.1 or 8.1 and
 * would have changed something had it been taken; it must be counted and
 * leave no trace. A control message that keeps every rule is taken. */

static const oasis_in6 PEER_B = {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x33}};
static const uint8_t MAC_B[6] = {2, 0, 0, 0, 0, 0x33};

/* An NS for target from PEER_B with its SLLA: 32 bytes at m. */
static size_t ns_msg(uint8_t *m, const oasis_in6 *target)
{
    return oasis_nd_emit_ns(m, target, MAC_B);
}

/* RFC 4861 7.1.1 (hop limit, checksum, code, length, target, option
 * length, and from :: only to a solicited-node group with no SLLA), 7.2.3
 * (no entry from a discarded NS), 4.6 (length 0). */
static void test_nd_validation_ns(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x), sn = oasis_in6_solicited_node(&ll);
    const oasis_counters *c = ctr(&x);
    uint8_t m[64];
    size_t n;
    uint64_t bad = c->nd.bad_messages;

    n = ns_msg(m, &ll); /* hop limit 254 */
    inject(&x, &PEER_B, &sn, 254, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(c->nd.bad_hop_limit, 1);
    inject_ex(&x, &PEER_B, &sn, 255, OASIS_NH_ICMPV6, m, n, 1); /* checksum */
    assert_int_equal(c->icmp6.in_csum_errors, 1);
    m[1] = 1; /* code 1 */
    inject(&x, &PEER_B, &sn, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(c->nd.bad_messages, bad + 1);
    m[1] = 0; /* 23 bytes */
    inject(&x, &PEER_B, &sn, 255, OASIS_NH_ICMPV6, m, 23);
    assert_int_equal(c->nd.bad_messages, bad + 2);
    oasis_in6 grp = {{0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    n = ns_msg(m, &grp); /* multicast target */
    inject(&x, &PEER_B, &sn, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(c->nd.bad_messages, bad + 3);
    n = ns_msg(m, &ll); /* a good SLLA, then an option of length 0 */
    memset(m + n, 0, 8);
    m[n] = 99;
    inject(&x, &PEER_B, &sn, 255, OASIS_NH_ICMPV6, m, n + 8);
    assert_int_equal(c->nd.bad_messages, bad + 4);
    /* From :: to our unicast address (not a solicited-node group). */
    n = oasis_nd_emit_ns(m, &ll, NULL);
    inject(&x, &UNSPEC, &ll, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(c->nd.bad_messages, bad + 5);
    /* From :: with an SLLA. */
    n = oasis_nd_emit_ns(m, &ll, MAC_B);
    inject(&x, &UNSPEC, &sn, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(c->nd.bad_messages, bad + 6);
    /* None was answered and none made an entry. */
    assert_int_equal(c->icmp6.out_neigh_adverts, 0);
    assert_null(oasis_nd_lookup(x.s, &PEER_B));

    /* Control: reserved bits set, an unknown option and a 16-byte TLLA
     * (not an NS option) are ignored (7.1.1): answered, PEER_B cached. */
    n = ns_msg(m, &ll);
    m[4] = 0xff;
    memset(m + n, 0, 24);
    m[n] = 99;
    m[n + 1] = 1;
    m[n + 8] = OASIS_ND_OPT_TLLA;
    m[n + 9] = 2;
    inject(&x, &PEER_B, &sn, 255, OASIS_NH_ICMPV6, m, n + 24);
    assert_int_equal(c->nd.bad_messages, bad + 6);
    assert_int_equal(c->icmp6.out_neigh_adverts, 1);
    const ip6_neigh *e = oasis_nd_lookup(x.s, &PEER_B);
    assert_non_null(e);
    assert_memory_equal(e->mac, MAC_B, 6);
    fx_stop(&x);
}

/* RFC 4861 7.1.2: an NA for an INCOMPLETE entry would complete it. */
static void test_nd_validation_na(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    const oasis_counters *c = ctr(&x);
    oasis_ipaddr peer = oasis_ipaddr_v6(PEER_B.b);
    pingres r = {0};
    assert_int_equal(oasis_ping_addr(x.s, &peer, 1, 1, 8, 60 * SEC, on_ping, &r), 0);
    const ip6_neigh *e = oasis_nd_lookup(x.s, &PEER_B);
    assert_non_null(e);
    uint8_t m[64];
    uint8_t fl = OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE;
    size_t n = oasis_nd_emit_na(m, &PEER_B, fl, MAC_B);
    uint64_t bad = c->nd.bad_messages;

    inject(&x, &PEER_B, &ll, 254, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(c->nd.bad_hop_limit, 1);
    inject_ex(&x, &PEER_B, &ll, 255, OASIS_NH_ICMPV6, m, n, 1);
    assert_int_equal(c->icmp6.in_csum_errors, 1);
    m[1] = 1;
    inject(&x, &PEER_B, &ll, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(c->nd.bad_messages, bad + 1);
    m[1] = 0;
    inject(&x, &PEER_B, &ll, 255, OASIS_NH_ICMPV6, m, 23);
    assert_int_equal(c->nd.bad_messages, bad + 2);
    m[8] = 0xff; /* multicast target */
    inject(&x, &PEER_B, &ll, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(c->nd.bad_messages, bad + 3);
    m[8] = 0xfe;
    /* Solicited, to a multicast address. */
    inject(&x, &PEER_B, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(c->nd.bad_messages, bad + 4);
    /* A good TLLA, then an option of length 0: the TLLA is not taken. */
    memset(m + n, 0, 8);
    m[n] = 99;
    inject(&x, &PEER_B, &ll, 255, OASIS_NH_ICMPV6, m, n + 8);
    assert_int_equal(c->nd.bad_messages, bad + 5);
    assert_int_equal(e->state, NEIGH_INCOMPLETE);
    assert_false(r.done);

    /* Control: reserved bits set, an unknown option, a 16-byte SLLA. */
    m[4] = (uint8_t)(fl | 0x1f);
    m[5] = m[6] = m[7] = 0xff;
    memset(m + n, 0, 24);
    m[n] = 99;
    m[n + 1] = 1;
    m[n + 8] = OASIS_ND_OPT_SLLA;
    m[n + 9] = 2;
    inject(&x, &PEER_B, &ll, 255, OASIS_NH_ICMPV6, m, n + 24);
    assert_int_equal(c->nd.bad_messages, bad + 5);
    assert_int_equal(e->state, NEIGH_REACHABLE);
    assert_memory_equal(e->mac, MAC_B, 6);
    fx_stop(&x);
}

/* RFC 4861 6.1.2: an RA with hop limit 99, lifetime 1800, an SLLA and a
 * prefix option, at m; returns its length. */
static size_t ra_msg(uint8_t *m)
{
    memset(m, 0, 56);
    m[0] = OASIS_ICMP6_RA;
    m[4] = 99;
    oasis_put16(m + 6, 1800);
    m[16] = OASIS_ND_OPT_SLLA;
    m[17] = 1;
    memcpy(m + 18, MAC_PEER, 6);
    uint8_t *p = m + 24;
    p[0] = OASIS_ND_OPT_PREFIX;
    p[1] = 4;
    p[2] = 64;
    p[3] = 0x80; /* on-link only */
    oasis_put32(p + 4, 3600);
    oasis_put32(p + 8, 1800);
    p[16] = 0x20;
    p[17] = 0x01;
    p[18] = 0x0d;
    p[19] = 0xb8;
    return 56;
}

static void test_nd_validation_ra(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    const oasis_counters *c = ctr(&x);
    uint8_t m[80];
    size_t n = ra_msg(m);
    uint64_t bad = c->nd.bad_messages;
    oasis_in6 glob = {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};

    inject(&x, &glob, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, m, n); /* not link-local */
    assert_int_equal(c->nd.ra_ignored, 1);
    inject(&x, &ROUTER, &oasis_in6_all_nodes, 254, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(c->nd.bad_hop_limit, 1);
    inject_ex(&x, &ROUTER, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, m, n, 1);
    assert_int_equal(c->icmp6.in_csum_errors, 1);
    m[1] = 1;
    inject(&x, &ROUTER, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(c->nd.bad_messages, bad + 1);
    m[1] = 0;
    inject(&x, &ROUTER, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, m, 15);
    assert_int_equal(c->nd.bad_messages, bad + 2);
    /* SLLA and prefix, then an option of length 0: none of it is taken. */
    memset(m + n, 0, 8);
    m[n] = 99;
    inject(&x, &ROUTER, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, m, n + 8);
    assert_int_equal(c->nd.bad_messages, bad + 3);
    /* From :: (no link-local source either). */
    inject(&x, &UNSPEC, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(c->nd.bad_messages, bad + 4);
    assert_int_equal(c->nd.routers, 0);
    assert_int_equal(c->nd.prefixes, 0);
    assert_null(oasis_nd_lookup(x.s, &ROUTER));
    assert_int_not_equal(x.s->ip6->cur_hop_limit, 99);

    /* Control: reserved bits, an unknown option and a 16-byte TLLA (not an
     * RA option) are ignored; everything else is taken. */
    m[5] = 0x3f;
    memset(m + n, 0, 24);
    m[n] = 99;
    m[n + 1] = 1;
    m[n + 8] = OASIS_ND_OPT_TLLA;
    m[n + 9] = 2;
    inject(&x, &ROUTER, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, m, n + 24);
    assert_int_equal(c->nd.bad_messages, bad + 4);
    assert_int_equal(c->nd.routers, 1);
    assert_int_equal(c->nd.prefixes, 1);
    assert_non_null(oasis_nd_lookup(x.s, &ROUTER));
    assert_int_equal(x.s->ip6->cur_hop_limit, 99);
    fx_stop(&x);
}

/* RFC 4861 8.1; the router is ROUTER (from an RA), the destination far. */
static void test_nd_validation_redirect(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    inject_ra(&x, 1800, 3600, 1800, 1500);
    oasis_in6 ll = ll_of(&x), nh;
    const oasis_counters *c = ctr(&x);
    oasis_in6 far = {{0x20, 0x01, 0x0d, 0xb8, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    oasis_in6 ll_router_glob = {{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    uint8_t m[80] = {OASIS_ICMP6_REDIRECT, 0};
    memcpy(m + 8, PEER_B.b, 16); /* a better router */
    memcpy(m + 24, far.b, 16);
    m[40] = OASIS_ND_OPT_TLLA;
    m[41] = 1;
    memcpy(m + 42, MAC_B, 6);
    size_t n = 48;
    uint64_t bad = c->nd.bad_messages, hop = c->nd.bad_hop_limit;

    /* The first hop's global address (not link-local): 8.1's first rule. */
    inject(&x, &ll_router_glob, &ll, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(c->nd.bad_messages, bad + 1);
    inject(&x, &ROUTER, &ll, 254, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(c->nd.bad_hop_limit, hop + 1);
    inject_ex(&x, &ROUTER, &ll, 255, OASIS_NH_ICMPV6, m, n, 1);
    assert_int_equal(c->icmp6.in_csum_errors, 1);
    m[1] = 1;
    inject(&x, &ROUTER, &ll, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(c->nd.bad_messages, bad + 2);
    m[1] = 0;
    inject(&x, &ROUTER, &ll, 255, OASIS_NH_ICMPV6, m, 39);
    assert_int_equal(c->nd.bad_messages, bad + 3);
    inject(&x, &PEER, &ll, 255, OASIS_NH_ICMPV6, m, n); /* not the first hop */
    assert_int_equal(c->nd.bad_messages, bad + 4);
    m[24] = 0xff; /* multicast destination */
    inject(&x, &ROUTER, &ll, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(c->nd.bad_messages, bad + 5);
    m[24] = 0x20;
    memcpy(m + 8, ll_router_glob.b, 16); /* target neither link-local nor far */
    inject(&x, &ROUTER, &ll, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(c->nd.bad_messages, bad + 6);
    memcpy(m + 8, PEER_B.b, 16);
    memset(m + n, 0, 8); /* a good TLLA, then an option of length 0 */
    m[n] = 99;
    inject(&x, &ROUTER, &ll, 255, OASIS_NH_ICMPV6, m, n + 8);
    assert_int_equal(c->nd.bad_messages, bad + 7);
    assert_int_equal(c->nd.redirects, 0);
    assert_null(oasis_nd_lookup(x.s, &PEER_B));
    assert_int_equal(oasis_nd_next_hop(x.s, &far, &nh), 0);
    assert_true(oasis_in6_eq(&nh, &ROUTER));

    /* Control: reserved bits, an unknown option and a 16-byte SLLA (not a
     * redirect option) are ignored; the redirect is taken. */
    m[4] = m[7] = 0xff;
    memset(m + n, 0, 24);
    m[n] = 99;
    m[n + 1] = 1;
    m[n + 8] = OASIS_ND_OPT_SLLA;
    m[n + 9] = 2;
    inject(&x, &ROUTER, &ll, 255, OASIS_NH_ICMPV6, m, n + 24);
    assert_int_equal(c->nd.bad_messages, bad + 7);
    assert_int_equal(c->nd.redirects, 1);
    assert_int_equal(oasis_nd_next_hop(x.s, &far, &nh), 0);
    assert_true(oasis_in6_eq(&nh, &PEER_B));
    const ip6_neigh *e = oasis_nd_lookup(x.s, &PEER_B);
    assert_non_null(e);
    assert_memory_equal(e->mac, MAC_B, 6);
    fx_stop(&x);
}

/* RFC 4861 6.1.1: "Hosts MUST silently discard any received Router
 * Solicitation Messages": even a valid one leaves no neighbour entry and
 * draws no answer. */
static void test_nd_rs_discarded(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    const oasis_counters *c = ctr(&x);
    uint8_t m[16];
    size_t n = oasis_nd_emit_rs(m, MAC_B);
    /* A host is in no all-routers group: to it, the IP layer drops it. */
    inject(&x, &PEER_B, &oasis_in6_all_routers, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(c->icmp6.in_router_solicits, 0);
    oasis_in6 ll = ll_of(&x);
    inject(&x, &PEER_B, &ll, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(c->icmp6.in_router_solicits, 1);
    assert_null(oasis_nd_lookup(x.s, &PEER_B));
    assert_int_equal(x.cap.n, 0);
    /* From :: without an SLLA it is valid (6.1.1), only not for a host:
     * not counted as bad. With an SLLA it is invalid. */
    uint64_t bad = c->nd.bad_messages;
    n = oasis_nd_emit_rs(m, NULL);
    inject(&x, &UNSPEC, &ll, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(c->icmp6.in_router_solicits, 2);
    assert_int_equal(c->nd.bad_messages, bad);
    n = oasis_nd_emit_rs(m, MAC_B);
    inject(&x, &UNSPEC, &ll, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(c->nd.bad_messages, bad + 1);
    assert_int_equal(x.cap.n, 0);
    fx_stop(&x);
}


/* An IPv6 packet of body n (upper layer nh, hop limit 64) in a frame to
 * the link-layer address dmac. */
static void inject_l2(fx *x, const uint8_t *dmac, const oasis_in6 *src, const oasis_in6 *dst,
                      uint8_t nh, const uint8_t *body, size_t n)
{
    uint8_t f[2048];
    oasis_eth_emit(f, dmac, MAC_PEER, OASIS_ETHERTYPE_IPV6);
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.payload_len = (uint16_t)n;
    h.next = nh;
    h.hop_limit = 64;
    h.src = *src;
    h.dst = *dst;
    oasis_ipv6_emit(f + 14, &h);
    memcpy(f + 54, body, n);
    oasis_stack_input(x->s, f, 54 + n);
}

/* RFC 4443 2.4 (c): an error quotes as much of the packet as fits in the
 * minimum MTU; 2.2 (a): its source is the address the packet went to;
 * 2.4 (e.2): none about a redirect; (e.4), (e.5): none about a packet sent
 * as a link-layer multicast or broadcast (to a unicast IPv6 address); (e.6):
 * none to a source that is no single node (::). */
static void test_icmp6_error_quote_and_silence(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    inject_ns(&x, &PEER, &ll, &ll, MAC_PEER);
    const oasis_counters *c = ctr(&x);
    static uint8_t big[1400];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)i;
    /* 1440 bytes of unknown protocol 253: the Parameter Problem is 1280. */
    x.cap.n = 0;
    inject_l2(&x, oasis_stack_mac(x.s), &PEER, &ll, 253, big, sizeof big);
    assert_int_equal(x.cap.n, 1);
    assert_int_equal(x.cap.len[0], 14 + OASIS_IPV6_MIN_MTU);
    oasis_ipv6_hdr h;
    assert_int_equal(frame_icmp_type(&x, 0, &h), OASIS_ICMP6_PARAM_PROBLEM);
    assert_true(oasis_in6_eq(&h.src, &ll));
    assert_true(oasis_in6_eq(&h.dst, &PEER));
    const uint8_t *quote = x.cap.frame[0] + 14 + 40 + 8;
    assert_int_equal(quote[6], 253);                              /* the header... */
    assert_memory_equal(quote + 40, big, OASIS_IPV6_MIN_MTU - 96); /* ...and the body */
    uint64_t pp = c->icmp6.out_parm_problems;
    assert_int_equal(pp, 1);

    /* The same packet in a link-layer multicast, then broadcast, frame. */
    static const uint8_t MCAST[6] = {0x33, 0x33, 0, 0, 0, 1};
    static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint64_t unknown = c->ipv6.in_unknown_protos;
    inject_l2(&x, MCAST, &PEER, &ll, 253, big, 64);
    inject_l2(&x, BCAST, &PEER, &ll, 253, big, 64);
    /* From :: */
    inject_l2(&x, oasis_stack_mac(x.s), &UNSPEC, &ll, 253, big, 64);
    assert_int_equal(c->ipv6.in_unknown_protos, unknown + 3);
    assert_int_equal(c->icmp6.out_parm_problems, pp);

    /* A Destination Options header with an option of action 11 (Parameter
     * Problem code 2, even to unicast) before a redirect: no error; before
     * an echo request: the error. */
    uint8_t pkt[8 + 48] = {OASIS_NH_ICMPV6, 0, 0xde, 0, 1, 2, 0, 0};
    uint8_t *m = pkt + 8;
    m[0] = OASIS_ICMP6_REDIRECT;
    memcpy(m + 8, PEER.b, 16);
    memcpy(m + 24, PEER.b, 16);
    oasis_icmp6_finish(m, 40, m[0], 0, 0, &PEER, &ll);
    inject_l2(&x, oasis_stack_mac(x.s), &PEER, &ll, OASIS_NH_DSTOPTS, pkt, 48);
    assert_int_equal(c->ipv6.in_bad_options, 1);
    assert_int_equal(c->icmp6.out_parm_problems, pp);
    memset(m, 0, 40);
    m[0] = OASIS_ICMP6_ECHO_REQUEST;
    oasis_icmp6_finish(m, 40, m[0], 0, 0, &PEER, &ll);
    inject_l2(&x, oasis_stack_mac(x.s), &PEER, &ll, OASIS_NH_DSTOPTS, pkt, 48);
    assert_int_equal(c->ipv6.in_bad_options, 2);
    assert_int_equal(c->icmp6.out_parm_problems, pp + 1);
    assert_int_equal(c->icmp6.out_rate_limited, 0);
    fx_stop(&x);
}


/* RFC 4861 7.2.5, the cases test_nd_state_machine leaves out: no entry,
 * no interest; INCOMPLETE with no TLLA, discarded; INCOMPLETE with an
 * unsolicited NA: STALE, IsRouter from R, the queue sent; Override clear
 * and another MAC on a STALE entry: ignored; Override clear and the same
 * MAC, solicited: REACHABLE; unsolicited with the same MAC: unchanged. */
static void test_na_processing(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    static const uint8_t MAC_OTHER[6] = {2, 0, 0, 0, 0, 0x44};
    /* No entry: nothing is created (7.2.5 "SHOULD be silently discarded"). */
    inject_na(&x, &PEER_B, &ll, &PEER_B, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE, MAC_B, 255);
    assert_null(oasis_nd_lookup(x.s, &PEER_B));
    /* INCOMPLETE, with a packet waiting. */
    oasis_ipaddr peer = oasis_ipaddr_v6(PEER_B.b);
    pingres r = {0};
    assert_int_equal(oasis_ping_addr(x.s, &peer, 1, 1, 8, 60 * SEC, on_ping, &r), 0);
    const ip6_neigh *e = oasis_nd_lookup(x.s, &PEER_B);
    assert_int_equal(e->state, NEIGH_INCOMPLETE);
    inject_na(&x, &PEER_B, &ll, &PEER_B, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE, NULL, 255);
    assert_int_equal(e->state, NEIGH_INCOMPLETE);
    assert_int_equal(e->qlen, 1);
    /* Unsolicited, Override clear (ignored when INCOMPLETE), R set: STALE,
     * and the waiting echo sent to the STALE entry makes it DELAY (7.3.3:
     * the address told, not confirmed, is verified: a probe follows). */
    x.cap.n = 0;
    inject_na(&x, &PEER_B, &oasis_in6_all_nodes, &PEER_B, OASIS_ND_NA_ROUTER, MAC_B, 255);
    assert_memory_equal(e->mac, MAC_B, 6);
    assert_true(e->is_router);
    assert_int_equal(e->qlen, 0);
    int i = last_of_type(&x, OASIS_ICMP6_ECHO_REQUEST);
    assert_true(i >= 0);
    assert_memory_equal(x.cap.frame[i], MAC_B, 6);
    assert_int_equal(e->state, NEIGH_DELAY);
    advance(&x, 5 * SEC);
    assert_int_equal(e->state, NEIGH_PROBE);
    assert_int_equal(count_type(&x, OASIS_ICMP6_NS), 1);
    /* Another MAC, Override clear: a non-REACHABLE entry ignores it
     * (7.2.5 I.b). */
    inject_na(&x, &PEER_B, &ll, &PEER_B, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_ROUTER, MAC_OTHER, 255);
    assert_int_equal(e->state, NEIGH_PROBE);
    assert_memory_equal(e->mac, MAC_B, 6);
    /* The same MAC, Override clear, solicited: REACHABLE (II). */
    inject_na(&x, &PEER_B, &ll, &PEER_B, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_ROUTER, MAC_B, 255);
    assert_int_equal(e->state, NEIGH_REACHABLE);
    /* Unsolicited, same MAC, Override set: the state stays (II). */
    inject_na(&x, &PEER_B, &oasis_in6_all_nodes, &PEER_B, OASIS_ND_NA_OVERRIDE | OASIS_ND_NA_ROUTER,
              MAC_B, 255);
    assert_int_equal(e->state, NEIGH_REACHABLE);
    assert_true(e->is_router);
    fx_stop(&x);
}

/* RFC 4861 7.2.3: an NS with an SLLA from a cached neighbour replaces a
 * different address and makes the entry STALE ("MUST"), leaves IsRouter
 * alone ("MUST NOT be modified"); an NS from :: touches no entry. 7.2.4:
 * the answer to a DAD probe has S clear and the TLLA. */
static void test_ns_processing(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x), sn = oasis_in6_solicited_node(&ll);
    static const uint8_t MAC_OTHER[6] = {2, 0, 0, 0, 0, 0x44};
    oasis_ipaddr peer = oasis_ipaddr_v6(PEER_B.b);
    pingres r = {0};
    assert_int_equal(oasis_ping_addr(x.s, &peer, 1, 1, 8, 60 * SEC, on_ping, &r), 0);
    inject_na(&x, &PEER_B, &ll, &PEER_B, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_ROUTER, MAC_B, 255);
    const ip6_neigh *e = oasis_nd_lookup(x.s, &PEER_B);
    assert_int_equal(e->state, NEIGH_REACHABLE);
    assert_true(e->is_router);
    /* Same address: nothing changes. */
    inject_ns(&x, &PEER_B, &sn, &ll, MAC_B);
    assert_int_equal(e->state, NEIGH_REACHABLE);
    /* Another address: taken, STALE (then DELAY: our NA went to it). */
    inject_ns(&x, &PEER_B, &sn, &ll, MAC_OTHER);
    assert_memory_equal(e->mac, MAC_OTHER, 6);
    assert_true(e->state == NEIGH_STALE || e->state == NEIGH_DELAY);
    assert_true(e->is_router);
    /* DAD from :: for our address: answered to all-nodes, S clear, with
     * the TLLA; no entry for :: and PEER_B's untouched. */
    x.cap.n = 0;
    inject_ns(&x, &UNSPEC, &sn, &ll, NULL);
    int i = last_of_type(&x, OASIS_ICMP6_NA);
    assert_true(i >= 0);
    oasis_ipv6_hdr h;
    frame_icmp_type(&x, (size_t)i, &h);
    assert_true(oasis_in6_eq(&h.dst, &oasis_in6_all_nodes));
    oasis_nd_msg m;
    assert_int_equal(oasis_nd_parse(x.cap.frame[i] + 54, h.payload_len, &m), 0);
    assert_int_equal(m.na_flags, OASIS_ND_NA_OVERRIDE);
    assert_non_null(m.opts.tlla);
    assert_null(oasis_nd_lookup(x.s, &UNSPEC));
    assert_memory_equal(e->mac, MAC_OTHER, 6);
    /* An NS for an address not ours: counted, silently dropped (7.2.3). */
    x.cap.n = 0;
    oasis_in6 other = ll;
    other.b[15] ^= 0x55;
    inject_ns(&x, &PEER_B, &sn, &other, MAC_B);
    assert_int_equal(ctr(&x)->nd.not_for_us, 1);
    assert_int_equal(x.cap.n, 0);
    fx_stop(&x);
}

/* RFC 4861 6.3.4: fields of value 0 are "unspecified": the host keeps
 * what it uses ("MUST NOT interpret the unspecified value as meaning
 * change back to the default"); non-zero ones are taken; the MTU option
 * only within [1280, the link's MTU]; the SLLA makes the router's entry
 * STALE, and a changed one makes it STALE again; an on-link prefix with
 * L clear changes nothing, valid lifetime 0 times it out, the link-local
 * prefix is ignored (4.6.2). */
/* An RA's timers out of bounds (nd.c ra_input): Reachable Time and Retrans
 * Timer above an hour are ignored, Reachable Time below 100 ms and Retrans
 * Timer below 10 ms are raised to that; each such RA counted. */
static void test_ra_timer_bounds(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_ipv6 *v = x.s->ip6;
    uint8_t m[80];
    size_t n = ra_msg(m);
    oasis_put32(m + 8, 20000);
    oasis_put32(m + 12, 700);
    inject(&x, &ROUTER, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(v->base_reachable_ns, 20 * SEC);
    assert_int_equal(v->retrans_ns, 700 * OASIS_NS_PER_MS);
    assert_int_equal(ctr(&x)->nd.ra_timers_clamped, 0);
    static const struct {
        uint32_t reach, retrans;
        uint64_t want_reach_ms, want_retrans_ms;
    } cases[] = {
        {3600001, 3600001, 20000, 700},      /* above an hour: ignored */
        {0xffffffffu, 0xffffffffu, 20000, 700},
        {1, 1, 100, 10},                     /* raised to the floors */
        {3600000, 3600000, 3600000, 3600000}, /* the bounds themselves: taken */
        {100, 10, 100, 10},
    };
    uint64_t clamped = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        oasis_put32(m + 8, cases[i].reach);
        oasis_put32(m + 12, cases[i].retrans);
        inject(&x, &ROUTER, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, m, n);
        assert_int_equal(v->base_reachable_ns, cases[i].want_reach_ms * OASIS_NS_PER_MS);
        assert_int_equal(v->retrans_ns, cases[i].want_retrans_ms * OASIS_NS_PER_MS);
        clamped += i < 3;
        assert_int_equal(ctr(&x)->nd.ra_timers_clamped, clamped);
        assert_true(v->reachable_ns >= v->base_reachable_ns / 2 &&
                    v->reachable_ns <= v->base_reachable_ns / 2 * 3);
    }
    fx_stop(&x);
}

static void test_ra_processing(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_ipv6 *v = x.s->ip6;
    uint8_t m[80];
    size_t n = ra_msg(m); /* hop limit 99, lifetime 1800, SLLA, 2001:db8::/64 L */
    oasis_put32(m + 8, 20000); /* Reachable Time 20 s */
    oasis_put32(m + 12, 700);  /* Retrans Timer 700 ms */
    inject(&x, &ROUTER, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(v->cur_hop_limit, 99);
    assert_int_equal(v->base_reachable_ns, 20 * SEC);
    assert_true(v->reachable_ns >= 10 * SEC && v->reachable_ns <= 30 * SEC);
    assert_int_equal(v->retrans_ns, 700 * OASIS_NS_PER_MS);
    const ip6_neigh *e = oasis_nd_lookup(x.s, &ROUTER);
    assert_non_null(e);
    assert_int_equal(e->state, NEIGH_STALE);
    assert_true(e->is_router);
    assert_int_equal(ctr(&x)->nd.prefixes, 1);
    /* All three unspecified: kept. */
    memset(m + 4, 0, 1);
    memset(m + 8, 0, 8);
    inject(&x, &ROUTER, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(v->cur_hop_limit, 99);
    assert_int_equal(v->base_reachable_ns, 20 * SEC);
    assert_int_equal(v->retrans_ns, 700 * OASIS_NS_PER_MS);
    /* MTU options: below 1280 and above the link's 1500 ignored. */
    uint32_t mtus[] = {1279, 1501, 1280, 1500};
    uint32_t want[] = {1500, 1500, 1280, 1500};
    for (int k = 0; k < 4; k++) {
        uint8_t b[16 + 8] = {OASIS_ICMP6_RA, 0, 0, 0, 0, 0, 0x07, 0x08};
        b[16] = OASIS_ND_OPT_MTU;
        b[17] = 1;
        oasis_put32(b + 20, mtus[k]);
        inject(&x, &ROUTER, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, b, sizeof b);
        assert_int_equal(oasis_ipv6_link_mtu(x.s), want[k]);
    }
    /* A new SLLA: taken, STALE. */
    m[18 + 5] = 0x99;
    m[4] = 0;
    inject(&x, &ROUTER, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(e->mac[5], 0x99);
    assert_int_equal(e->state, NEIGH_STALE);
    /* The prefix with L clear and lifetime 0: no statement, still on-link. */
    oasis_in6 onl = {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}}, nh;
    m[24 + 3] = 0;
    oasis_put32(m + 24 + 4, 0);
    oasis_put32(m + 24 + 8, 0);
    inject(&x, &ROUTER, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(ctr(&x)->nd.prefixes, 1);
    assert_int_equal(oasis_nd_next_hop(x.s, &onl, &nh), 0);
    assert_true(oasis_in6_eq(&nh, &onl));
    /* With L set and lifetime 0: timed out at once; through the router. */
    m[24 + 3] = 0x80;
    inject(&x, &ROUTER, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(ctr(&x)->nd.prefixes, 0);
    assert_int_equal(oasis_nd_next_hop(x.s, &onl, &nh), 0);
    assert_true(oasis_in6_eq(&nh, &ROUTER));
    /* The link-local prefix with L: ignored. */
    oasis_put32(m + 24 + 4, 3600);
    memset(m + 24 + 16, 0, 16);
    m[24 + 16] = 0xfe;
    m[24 + 17] = 0x80;
    inject(&x, &ROUTER, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, m, n);
    assert_int_equal(ctr(&x)->nd.prefixes, 0);
    fx_stop(&x);
}


/* RFC 4861 8.3: the target of a redirect to a router gets IsRouter set
 * ("MUST"); a TLLA equal to the cached one leaves the state as it was; a
 * different one makes the entry STALE ("MUST"); Target = Destination makes
 * an existing entry's IsRouter stay as it was. */
static void test_redirect_processing(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    inject_ra(&x, 1800, 3600, 1800, 1500);
    oasis_in6 ll = ll_of(&x), nh;
    oasis_in6 far = {{0x20, 0x01, 0x0d, 0xb8, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    /* PEER_B resolved (REACHABLE, a host by its NA). */
    oasis_ipaddr peer = oasis_ipaddr_v6(PEER_B.b);
    assert_int_equal(oasis_ping_addr(x.s, &peer, 1, 1, 8, 60 * SEC, on_ping, &(pingres){0}), 0);
    inject_na(&x, &PEER_B, &ll, &PEER_B, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE, MAC_B, 255);
    const ip6_neigh *e = oasis_nd_lookup(x.s, &PEER_B);
    assert_int_equal(e->state, NEIGH_REACHABLE);
    assert_false(e->is_router);
    /* Redirected to PEER_B as a router, with the same MAC: IsRouter set,
     * still REACHABLE. */
    inject_redirect(&x, &ROUTER, &PEER_B, &far, MAC_B, 255);
    assert_int_equal(oasis_nd_next_hop(x.s, &far, &nh), 0);
    assert_true(oasis_in6_eq(&nh, &PEER_B));
    assert_true(e->is_router);
    assert_int_equal(e->state, NEIGH_REACHABLE);
    /* PEER_B, now far's first hop, redirects far to itself again with
     * another MAC: the address taken, STALE. */
    static const uint8_t MAC_OTHER[6] = {2, 0, 0, 0, 0, 0x44};
    inject_redirect(&x, &PEER_B, &PEER_B, &far, MAC_OTHER, 255);
    assert_int_equal(e->state, NEIGH_STALE);
    assert_memory_equal(e->mac, MAC_OTHER, 6);
    /* Target = Destination (another off-link address): on-link ("MUST"),
     * a new entry STALE with IsRouter false. */
    oasis_in6 far3 = far;
    far3.b[15] = 3;
    inject_redirect(&x, &ROUTER, &far3, &far3, MAC_OTHER, 255);
    assert_int_equal(oasis_nd_next_hop(x.s, &far3, &nh), 0);
    assert_true(oasis_in6_eq(&nh, &far3));
    const ip6_neigh *e3 = oasis_nd_lookup(x.s, &far3);
    assert_non_null(e3);
    assert_int_equal(e3->state, NEIGH_STALE);
    assert_false(e3->is_router);
    assert_true(e->is_router);
    fx_stop(&x);
}


/* RFC 4861 8.3: "In addition, if the Target Address is not the same as
 * the Destination Address, the host MUST set IsRouter to TRUE for the
 * target", a TLLA or not. It matters: an NA that clears the R flag then
 * takes the redirects through that neighbour along (7.2.5). */
static void test_redirect_without_tlla_sets_is_router(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    inject_ra(&x, 1800, 3600, 1800, 1500);
    oasis_in6 ll = ll_of(&x), nh;
    oasis_in6 far = {{0x20, 0x01, 0x0d, 0xb8, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    oasis_ipaddr peer = oasis_ipaddr_v6(PEER_B.b);
    assert_int_equal(oasis_ping_addr(x.s, &peer, 1, 1, 8, 60 * SEC, on_ping, &(pingres){0}), 0);
    inject_na(&x, &PEER_B, &ll, &PEER_B, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE, MAC_B, 255);
    const ip6_neigh *e = oasis_nd_lookup(x.s, &PEER_B);
    assert_non_null(e);
    assert_int_equal(e->state, NEIGH_REACHABLE);
    assert_false(e->is_router);
    /* Redirected to PEER_B, no TLLA: IsRouter set, the entry otherwise as
     * it was. */
    inject_redirect(&x, &ROUTER, &PEER_B, &far, NULL, 255);
    assert_int_equal(ctr(&x)->nd.redirects, 1);
    assert_int_equal(oasis_nd_next_hop(x.s, &far, &nh), 0);
    assert_true(oasis_in6_eq(&nh, &PEER_B));
    assert_true(e->is_router);
    assert_int_equal(e->state, NEIGH_REACHABLE);
    assert_memory_equal(e->mac, MAC_B, 6);
    /* PEER_B says it is no router: far goes through ROUTER again. */
    inject_na(&x, &PEER_B, &ll, &PEER_B, 0, MAC_B, 255);
    assert_false(e->is_router);
    assert_int_equal(oasis_nd_next_hop(x.s, &far, &nh), 0);
    assert_true(oasis_in6_eq(&nh, &ROUTER));
    /* No entry for the target and no TLLA: none is made. */
    oasis_in6 r2 = {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x55}};
    inject_redirect(&x, &ROUTER, &r2, &far, NULL, 255);
    assert_int_equal(oasis_nd_next_hop(x.s, &far, &nh), 0);
    assert_true(oasis_in6_eq(&nh, &r2));
    assert_null(oasis_nd_lookup(x.s, &r2));
    fx_stop(&x);
}

/* RFC 4861 6.3.4: "a host MUST retain at least two router addresses"
 * (Oasis keeps OASIS_IPV6_MAX_ROUTERS; more are ignored, not evicting);
 * 6.3.5: a router whose lifetime runs out is discarded; 6.3.6: a router
 * known reachable is preferred. */
static void test_router_list(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x), nh;
    oasis_in6 far = {{0x20, 0x01, 0x0d, 0xb8, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    uint8_t ra[16] = {OASIS_ICMP6_RA, 0, 0, 0, 64, 0};
    oasis_in6 r[OASIS_IPV6_MAX_ROUTERS + 1];
    for (int i = 0; i <= OASIS_IPV6_MAX_ROUTERS; i++) {
        r[i] = ROUTER;
        r[i].b[15] = (uint8_t)(0x10 + i);
        oasis_put16(ra + 6, (uint16_t)(i == 0 ? 10 : 1800));
        inject(&x, &r[i], &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, ra, sizeof ra);
    }
    assert_true(OASIS_IPV6_MAX_ROUTERS >= 2);
    assert_int_equal(ctr(&x)->nd.routers, OASIS_IPV6_MAX_ROUTERS);
    /* None resolved: the first listed. Resolve r[2]: it is preferred. */
    assert_int_equal(oasis_nd_next_hop(x.s, &far, &nh), 0);
    assert_true(oasis_in6_eq(&nh, &r[0]));
    inject_ns(&x, &r[2], &ll, &ll, MAC_B);
    assert_int_equal(oasis_nd_next_hop(x.s, &far, &nh), 0);
    assert_true(oasis_in6_eq(&nh, &r[2]));
    /* r[0]'s 10 s run out: discarded; the ignored fifth can now join. */
    advance(&x, 10 * SEC);
    assert_int_equal(ctr(&x)->nd.routers, OASIS_IPV6_MAX_ROUTERS - 1);
    inject(&x, &r[OASIS_IPV6_MAX_ROUTERS], &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, ra, sizeof ra);
    assert_int_equal(ctr(&x)->nd.routers, OASIS_IPV6_MAX_ROUTERS);
    fx_stop(&x);
}


/* The target of the last NS captured (none: all zero). */
static oasis_in6 last_ns_target(const fx *x)
{
    oasis_in6 t;
    memset(&t, 0, sizeof t);
    int i = last_of_type(x, OASIS_ICMP6_NS);
    if (i >= 0)
        memcpy(t.b, x->cap.frame[i] + 54 + 8, 16);
    return t;
}

/* RFC 4861 6.3.6 (2): "When no routers on the list are known to be
 * reachable or probably reachable, routers SHOULD be selected in a
 * round-robin fashion, so that subsequent requests for a default router
 * do not return the same router until all other routers have been
 * selected." Two routers, neither resolved: the first packet asks for the
 * first, the second for the second; the second answers and from then on
 * (1) carries the traffic, while the first never answers. Before, every
 * packet waited on the first router, dead or alive. */
static void test_routers_round_robin(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x), nh;
    oasis_in6 far = {{0x20, 0x01, 0x0d, 0xb8, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    uint8_t ra[16] = {OASIS_ICMP6_RA, 0, 0, 0, 64, 0};
    oasis_put16(ra + 6, 1800); /* no SLLA: neither router gets a cache entry */
    oasis_in6 r0 = ROUTER, r1 = ROUTER;
    r0.b[15] = 0x10;
    r1.b[15] = 0x11;
    inject(&x, &r0, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, ra, sizeof ra);
    inject(&x, &r1, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, ra, sizeof ra);
    assert_int_equal(ctr(&x)->nd.routers, 2);
    assert_int_equal(oasis_udp_bind(x.s, 1000, on_udp_none, NULL), 0);
    oasis_ipaddr d = oasis_ipaddr_v6(far.b);

    x.cap.n = 0;
    assert_int_equal(oasis_udp_send(x.s, 1000, &d, 2000, "a", 1), 0);
    advance(&x, 0);
    oasis_in6 t = last_ns_target(&x);
    assert_true(oasis_in6_eq(&t, &r0));
    x.cap.n = 0;
    assert_int_equal(oasis_udp_send(x.s, 1000, &d, 2000, "b", 1), 0);
    advance(&x, 0);
    t = last_ns_target(&x);
    assert_true(oasis_in6_eq(&t, &r1));
    /* A look that sends nothing names the router last asked. */
    assert_int_equal(oasis_nd_next_hop(x.s, &far, &nh), 0);
    assert_true(oasis_in6_eq(&nh, &r1));

    /* r1 answers: its datagram leaves, and the next ones take r1 too. */
    x.cap.n = 0;
    inject_na(&x, &r1, &ll, &r1, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_ROUTER, MAC_B, 255);
    advance(&x, 0);
    assert_int_equal(x.cap.n, 1);
    assert_memory_equal(x.cap.frame[0], MAC_B, 6);
    for (int i = 0; i < 3; i++) {
        x.cap.n = 0;
        assert_int_equal(oasis_udp_send(x.s, 1000, &d, 2000, "c", 1), 0);
        advance(&x, 0);
        assert_int_equal(x.cap.n, 1);
        assert_memory_equal(x.cap.frame[0], MAC_B, 6);
    }
    fx_stop(&x);
}

/* RFC 4443 4.1, 4.2: the reply to a unicast Echo Request comes from the
 * address it was sent to, with its identifier, sequence and data "returned
 * entirely and unmodified"; none to ::; an Echo Reply goes to the ping
 * that sent the request, matched on peer, identifier and sequence. */
static void test_echo_rules(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    inject_ns(&x, &PEER, &ll, &ll, MAC_PEER);
    x.cap.n = 0;
    make_echo(&ll, 1200);
    inject(&x, &PEER, &ll, 64, OASIS_NH_ICMPV6, echo_msg, echo_len);
    int i = last_of_type(&x, OASIS_ICMP6_ECHO_REPLY);
    assert_true(i >= 0);
    oasis_ipv6_hdr h;
    frame_icmp_type(&x, (size_t)i, &h);
    assert_true(oasis_in6_eq(&h.src, &ll));
    assert_true(oasis_in6_eq(&h.dst, &PEER));
    assert_int_equal(h.payload_len, 1200);
    assert_memory_equal(x.cap.frame[i] + 54 + 4, echo_msg + 4, 1200 - 4);
    /* From :: there is no one to answer. */
    x.cap.n = 0;
    inject(&x, &UNSPEC, &ll, 64, OASIS_NH_ICMPV6, echo_msg, 64);
    assert_int_equal(x.cap.n, 0);
    /* A ping to PEER: a reply from PEER_B, or with another sequence, is
     * not its answer. */
    oasis_ipaddr peer = oasis_ipaddr_v6(PEER.b);
    pingres r = {0};
    assert_int_equal(oasis_ping_addr(x.s, &peer, 9, 4, 8, 60 * SEC, on_ping, &r), 0);
    uint8_t rep[16] = {OASIS_ICMP6_ECHO_REPLY, 0, 0, 0, 0, 9, 0, 4};
    inject(&x, &PEER_B, &ll, 64, OASIS_NH_ICMPV6, rep, sizeof rep);
    rep[7] = 5;
    inject(&x, &PEER, &ll, 64, OASIS_NH_ICMPV6, rep, sizeof rep);
    assert_false(r.done);
    rep[7] = 4;
    inject(&x, &PEER, &ll, 64, OASIS_NH_ICMPV6, rep, sizeof rep);
    assert_true(r.done);
    assert_int_equal(r.err, 0);
    assert_int_equal(ctr(&x)->icmp6.in_echo_replies, 3);
    fx_stop(&x);
}


/* RFC 4861 6.3.5: "When removing a router from the Default Router list,
 * the node MUST update the Destination Cache in such a way that all
 * entries using the router perform next-hop determination again": also
 * when its lifetime runs out, not only on an RA with lifetime 0. */
static void test_router_expiry_forgets_redirects(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 nh, r2 = ROUTER;
    r2.b[15] = 0x02;
    oasis_in6 far = {{0x20, 0x01, 0x0d, 0xb8, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    uint8_t ra[16] = {OASIS_ICMP6_RA, 0, 0, 0, 64, 0};
    oasis_put16(ra + 6, 1800);
    inject(&x, &ROUTER, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, ra, sizeof ra);
    oasis_put16(ra + 6, 10);
    inject(&x, &r2, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, ra, sizeof ra);
    assert_int_equal(ctr(&x)->nd.routers, 2);
    /* ROUTER, far's first hop, redirects it to r2. */
    inject_redirect(&x, &ROUTER, &r2, &far, NULL, 255);
    assert_int_equal(oasis_nd_next_hop(x.s, &far, &nh), 0);
    assert_true(oasis_in6_eq(&nh, &r2));
    /* r2's 10 s run out: far goes through ROUTER again. */
    advance(&x, 10 * SEC);
    assert_int_equal(ctr(&x)->nd.routers, 1);
    assert_int_equal(oasis_nd_next_hop(x.s, &far, &nh), 0);
    assert_true(oasis_in6_eq(&nh, &ROUTER));
    fx_stop(&x);
}


/* RFC 4861 6.3.4: "an implementation SHOULD ensure that a new random
 * value gets re-computed at least once every few hours" even when the
 * advertised Reachable Time never changes. */
static void test_reachable_time_redrawn(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_ipv6 *v = x.s->ip6;
    oasis_in6 ll = ll_of(&x);
    uint64_t first = v->reachable_ns;
    oasis_ipaddr peer = oasis_ipaddr_v6(PEER_B.b);
    assert_int_equal(oasis_ping_addr(x.s, &peer, 1, 1, 8, 60 * SEC, on_ping, &(pingres){0}), 0);
    inject_na(&x, &PEER_B, &ll, &PEER_B, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE, MAC_B, 255);
    assert_int_equal(v->reachable_ns, first); /* not at every confirmation */
    advance(&x, 3 * 3600 * SEC);
    inject_na(&x, &PEER_B, &ll, &PEER_B, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE, MAC_B, 255);
    assert_int_equal(oasis_nd_lookup(x.s, &PEER_B)->state, NEIGH_REACHABLE);
    assert_true(v->reachable_ns != first);
    assert_true(v->reachable_ns >= v->base_reachable_ns / 2 &&
                v->reachable_ns <= v->base_reachable_ns / 2 * 3);
    fx_stop(&x);
}


/* An RA with one prefix option: plen, flags (L 0x80, A 0x40), lifetimes,
 * the prefix's first 8 bytes. */
static void inject_ra_prefix(fx *x, uint8_t plen, uint8_t flags, uint32_t valid, uint32_t pref,
                             const uint8_t *p8)
{
    uint8_t b[16 + 32] = {OASIS_ICMP6_RA, 0, 0, 0, 0, 0, 0x07, 0x08};
    uint8_t *p = b + 16;
    p[0] = OASIS_ND_OPT_PREFIX;
    p[1] = 4;
    p[2] = plen;
    p[3] = flags;
    oasis_put32(p + 4, valid);
    oasis_put32(p + 8, pref);
    memcpy(p + 16, p8, 8);
    inject(x, &ROUTER, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, b, sizeof b);
}

/* RFC 4862 5.5.3: a prefix forms no address when (a) the Autonomous flag
 * is clear, (b) it is the link-local prefix, (c) its preferred lifetime
 * exceeds the valid one, (d) its length and our 64-bit interface
 * identifier do not make 128 bits, or (d) it is new with valid lifetime 0;
 * a prefix that keeps every rule forms one. A multicast prefix is no
 * prefix of unicast addresses (RFC 4291 2.4): neither address nor on-link
 * route comes of it (as Linux's addrconf_prefix_rcv). */
static void test_slaac_prefix_rules(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    static const uint8_t G[8] = {0x20, 0x01, 0x0d, 0xb8, 0, 7, 0, 0};
    static const uint8_t LL[8] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0};
    static const uint8_t MC[8] = {0xff, 0x0e, 0, 0, 0, 0, 0, 0};
    assert_int_equal(oasis_ipv6_addrs(x.s, NULL, 0), 1);
    inject_ra_prefix(&x, 64, 0x80, 3600, 1800, G);  /* (a) L only */
    inject_ra_prefix(&x, 64, 0xc0, 3600, 1800, LL); /* (b) */
    inject_ra_prefix(&x, 64, 0xc0, 1800, 3600, G);  /* (c) */
    inject_ra_prefix(&x, 48, 0xc0, 3600, 1800, G);  /* (d) 48 + 64 != 128 */
    inject_ra_prefix(&x, 80, 0xc0, 3600, 1800, G);  /* (d) 80 + 64 != 128 */
    inject_ra_prefix(&x, 64, 0x40, 0, 0, G);        /* (d) valid 0, new */
    uint64_t onlink = ctr(&x)->nd.prefixes;
    inject_ra_prefix(&x, 64, 0xc0, 3600, 1800, MC); /* a multicast prefix: no unicast address in it */
    assert_int_equal(ctr(&x)->nd.prefixes, onlink); /* nor an on-link one (the L flag) */
    assert_int_equal(oasis_ipv6_addrs(x.s, NULL, 0), 1);
    assert_int_equal(ctr(&x)->nd.slaac_addrs, 0);
    inject_ra_prefix(&x, 64, 0x40, 3600, 1800, G); /* A only: an address, no on-link prefix */
    assert_int_equal(ctr(&x)->nd.slaac_addrs, 1);
    oasis_ipv6_addr_info a = addr_of(x.s, OASIS_IPV6_SLAAC);
    assert_memory_equal(a.addr.b, G, 8);
    assert_int_equal(a.prefix_len, 64);
    fx_stop(&x);
}

/* ---- DNS options in RAs (RFC 8106) ---- */

/* Options appended to an RA body by the builders below. */
typedef struct ra_buf {
    uint8_t b[512];
    size_t n;
} ra_buf;

static void ra_begin(ra_buf *r)
{
    memset(r, 0, sizeof *r);
    r->b[0] = OASIS_ICMP6_RA;
    oasis_put16(r->b + 6, 1800); /* router lifetime */
    r->n = 16;
}

/* An RDNSS option of n servers; len_units 0: the right Length (1 + 2n). */
static void ra_rdnss(ra_buf *r, uint32_t lifetime, const oasis_in6 *srv, int n, uint8_t len_units)
{
    uint8_t *p = r->b + r->n;
    uint8_t units = len_units ? len_units : (uint8_t)(1 + 2 * n);
    memset(p, 0, (size_t)units * 8);
    p[0] = OASIS_ND_OPT_RDNSS;
    p[1] = units;
    oasis_put32(p + 4, lifetime);
    for (int i = 0; i < n && 8 + 16 * (size_t)i + 16 <= (size_t)units * 8; i++)
        memcpy(p + 8 + 16 * i, srv[i].b, 16);
    r->n += (size_t)units * 8;
}

/* A DNSSL option holding the wire bytes w[0..wn), zero-padded. */
static void ra_dnssl(ra_buf *r, uint32_t lifetime, const uint8_t *w, size_t wn)
{
    uint8_t *p = r->b + r->n;
    size_t units = (8 + wn + 7) / 8;
    memset(p, 0, units * 8);
    p[0] = OASIS_ND_OPT_DNSSL;
    p[1] = (uint8_t)units;
    oasis_put32(p + 4, lifetime);
    memcpy(p + 8, w, wn);
    r->n += units * 8;
}

static void ra_send(fx *x, const oasis_in6 *src, const ra_buf *r)
{
    inject(x, src, &oasis_in6_all_nodes, 255, OASIS_NH_ICMPV6, r->b, r->n);
}

static int dns_calls;
static void on_dns(oasis_stack *s, void *ud)
{
    (void)s;
    (void)ud;
    dns_calls++;
}

static const oasis_in6 DNS1 = {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53}};
static const oasis_in6 DNS2 = {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x53}};
/* "example.com" and "lab.example.org" as RFC 1035 3.1 encodes them. */
static const uint8_t NAMES[] = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
                                3, 'l', 'a', 'b', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3,
                                'o', 'r', 'g', 0};

static int has_server(oasis_stack *s, const oasis_in6 *a, uint64_t *expires)
{
    oasis_ipv6_dns_server d[OASIS_IPV6_MAX_DNS_SERVERS];
    size_t n = oasis_ipv6_dns_servers(s, d, OASIS_IPV6_MAX_DNS_SERVERS);
    for (size_t i = 0; i < n; i++)
        if (memcmp(d[i].addr.b, a->b, 16) == 0) {
            if (expires)
                *expires = d[i].expires_ns;
            return 1;
        }
    return 0;
}

/* RFC 8106 5.1-5.3.1: an RA's RDNSS and DNSSL options give servers and
 * search domains, in the RA's order, until their lifetime ends; a later
 * RA renews them (no callback: nothing changed) or, with lifetime 0,
 * withdraws one; expiry removes the rest. */
static void test_ra_dns_servers(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    dns_calls = 0;
    oasis_ipv6_set_dns_cb(x.s, on_dns, NULL);
    oasis_in6 srv[2] = {DNS1, DNS2};
    ra_buf r;
    ra_begin(&r);
    ra_rdnss(&r, 600, srv, 2, 0);
    ra_dnssl(&r, 900, NAMES, sizeof NAMES);
    uint64_t t0 = oasis_now(x.s);
    ra_send(&x, &ROUTER, &r);
    assert_int_equal(dns_calls, 1);
    oasis_ipv6_dns_server d[4];
    assert_int_equal(oasis_ipv6_dns_servers(x.s, d, 4), 2);
    assert_memory_equal(d[0].addr.b, DNS1.b, 16);
    assert_memory_equal(d[1].addr.b, DNS2.b, 16);
    assert_true(oasis_ipaddr_is_v6(&d[0].addr));
    assert_true(d[0].expires_ns == t0 + 600 * SEC);
    oasis_ipv6_dns_domain dom[4];
    assert_int_equal(oasis_ipv6_dns_domains(x.s, dom, 4), 2);
    assert_string_equal(dom[0].name, "example.com");
    assert_string_equal(dom[1].name, "lab.example.org");
    assert_true(dom[1].expires_ns == t0 + 900 * SEC);
    assert_int_equal(ctr(&x)->nd.dns_servers, 2);
    assert_int_equal(ctr(&x)->nd.dns_domains, 2);

    /* 500 s on, the same RA renews: no callback, later expiry. */
    advance(&x, 500 * SEC);
    ra_send(&x, &ROUTER, &r);
    assert_int_equal(dns_calls, 1);
    uint64_t e;
    assert_true(has_server(x.s, &DNS1, &e));
    assert_true(e == t0 + 1100 * SEC);
    /* A name differing only in case is the same name (RFC 4343): renewed,
     * not added. */
    static const uint8_t UPPER[] = {7, 'E', 'X', 'A', 'M', 'P', 'L', 'E', 3, 'c', 'o', 'm', 0};
    ra_begin(&r);
    ra_dnssl(&r, 900, UPPER, sizeof UPPER);
    ra_send(&x, &ROUTER, &r);
    assert_int_equal(oasis_ipv6_dns_domains(x.s, NULL, 0), 2);
    assert_int_equal(dns_calls, 1);
    /* Lifetime 0 withdraws DNS2 at once (5.1). */
    ra_begin(&r);
    ra_rdnss(&r, 0, &srv[1], 1, 0);
    ra_send(&x, &ROUTER, &r);
    assert_int_equal(dns_calls, 2);
    assert_false(has_server(x.s, &DNS2, NULL));
    assert_true(has_server(x.s, &DNS1, NULL));
    /* DNS1 ends at t0 + 1100 s, as the second RA set it; the domains at
     * t0 + 1400 s. */
    advance(&x, 599 * SEC); /* t0 + 1099 s */
    assert_int_equal(oasis_ipv6_dns_servers(x.s, NULL, 0), 1);
    advance(&x, 2 * SEC);   /* t0 + 1101 s: DNS1 gone */
    assert_int_equal(oasis_ipv6_dns_servers(x.s, NULL, 0), 0);
    assert_int_equal(dns_calls, 3);
    assert_int_equal(oasis_ipv6_dns_domains(x.s, NULL, 0), 2);
    advance(&x, 300 * SEC); /* t0 + 1401 s */
    assert_int_equal(oasis_ipv6_dns_domains(x.s, NULL, 0), 0);
    assert_int_equal(dns_calls, 4);
    assert_int_equal(ctr(&x)->nd.dns_servers, 0);
    assert_int_equal(ctr(&x)->nd.dns_domains, 0);
    /* Infinity (0xffffffff) never expires. */
    ra_begin(&r);
    ra_rdnss(&r, 0xffffffffu, srv, 1, 0);
    ra_send(&x, &ROUTER, &r);
    assert_true(has_server(x.s, &DNS1, &e));
    assert_true(e == UINT64_MAX);
    advance(&x, 100000 * SEC);
    assert_true(has_server(x.s, &DNS1, NULL));
    fx_stop(&x);
}

/* What is refused, alone: RDNSS Lengths under 3 or even (5.1), a DNSSL
 * name with a compression pointer or a byte no host name has, servers
 * that are not unicast; the RA's other options still apply. The lists are
 * bounded: a new entry takes the place of the one that expires first, if
 * that one expires before it. An RA from a global source is no RA. */
static void test_ra_dns_rules(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 srv[2] = {DNS1, DNS2};
    ra_buf r;
    ra_begin(&r);
    ra_rdnss(&r, 600, srv, 1, 2); /* Length 2: no room for a server */
    ra_rdnss(&r, 600, srv, 2, 4); /* Length 4: even */
    static const uint8_t ptr[] = {3, 'l', 'a', 'b', 0xc0, 12};
    static const uint8_t bad[] = {4, 'a', ' ', 'b', 'c', 0};
    ra_dnssl(&r, 600, ptr, sizeof ptr);
    ra_dnssl(&r, 600, bad, sizeof bad);
    /* a prefix option after them: still taken */
    uint8_t *p = r.b + r.n;
    memset(p, 0, 32);
    p[0] = OASIS_ND_OPT_PREFIX;
    p[1] = 4;
    p[2] = 64;
    p[3] = 0xc0;
    oasis_put32(p + 4, 3600);
    oasis_put32(p + 8, 1800);
    static const uint8_t G[8] = {0x20, 0x01, 0x0d, 0xb8, 0, 9, 0, 0};
    memcpy(p + 16, G, 8);
    r.n += 32;
    ra_send(&x, &ROUTER, &r);
    assert_int_equal(oasis_ipv6_dns_servers(x.s, NULL, 0), 0);
    assert_int_equal(oasis_ipv6_dns_domains(x.s, NULL, 0), 0);
    assert_int_equal(ctr(&x)->nd.dns_opts_ignored, 4);
    assert_int_equal(ctr(&x)->nd.slaac_addrs, 1);
    assert_int_equal(ctr(&x)->nd.ra_ignored, 0);

    /* Multicast, unspecified and loopback servers: each ignored; a
     * link-local one is kept. */
    oasis_in6 odd[4] = {oasis_in6_all_nodes, UNSPEC, UNSPEC, PEER};
    odd[2].b[15] = 1; /* ::1 */
    ra_begin(&r);
    ra_rdnss(&r, 600, odd, 4, 0);
    ra_send(&x, &ROUTER, &r);
    assert_int_equal(ctr(&x)->nd.dns_opts_ignored, 7);
    assert_int_equal(oasis_ipv6_dns_servers(x.s, NULL, 0), 1);
    assert_true(has_server(x.s, &PEER, NULL));

    /* Four servers fill the list (PEER, a, b, c); PEER expires first. */
    oasis_in6 more[5];
    for (int i = 0; i < 5; i++) {
        more[i] = DNS1;
        more[i].b[14] = (uint8_t)(i + 1);
    }
    ra_begin(&r);
    ra_rdnss(&r, 1200, more, 3, 0);
    ra_send(&x, &ROUTER, &r);
    assert_int_equal(oasis_ipv6_dns_servers(x.s, NULL, 0), 4);
    /* A fifth with a shorter lifetime than all: not taken. */
    ra_begin(&r);
    ra_rdnss(&r, 300, &more[3], 1, 0);
    ra_send(&x, &ROUTER, &r);
    assert_false(has_server(x.s, &more[3], NULL));
    /* One that outlives PEER takes its place, and goes last. */
    ra_begin(&r);
    ra_rdnss(&r, 2000, &more[4], 1, 0);
    ra_send(&x, &ROUTER, &r);
    oasis_ipv6_dns_server d[4];
    assert_int_equal(oasis_ipv6_dns_servers(x.s, d, 4), 4);
    assert_false(has_server(x.s, &PEER, NULL));
    assert_memory_equal(d[0].addr.b, more[0].b, 16);
    assert_memory_equal(d[3].addr.b, more[4].b, 16);

    /* From a global source: the RA is ignored, options and all (4861
     * 6.1.2), so it withdraws nothing. */
    static const oasis_in6 GLOBAL = {{0x20, 0x01, 0x0d, 0xb8, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    ra_begin(&r);
    ra_rdnss(&r, 0, &more[0], 1, 0);
    ra_send(&x, &GLOBAL, &r);
    assert_true(has_server(x.s, &more[0], NULL));
    fx_stop(&x);
}

/* ---- the application's multicast groups (oasis_ipv6_join) ---- */

/* Does frame i hold an MLDv2 report with a record of rec_type for g? */
static int mld2_record(const fx *x, size_t i, const oasis_in6 *g, uint8_t rec_type)
{
    oasis_ipv6_hdr h;
    if (frame_icmp_type(x, i, &h) != OASIS_ICMP6_MLD2_REPORT)
        return 0;
    oasis_ipv6_walk w;
    const uint8_t *ip = x->cap.frame[i] + 14;
    if (oasis_ipv6_walk_chain(ip, 40 + h.payload_len, &w) != 0)
        return 0;
    const uint8_t *m = ip + w.off;
    size_t n = oasis_get16(m + 6), off = 8;
    for (size_t k = 0; k < n && off + 20 <= 40 + h.payload_len - w.off; k++) {
        const uint8_t *r = m + off;
        if (r[0] == rec_type && memcmp(r + 4, g->b, 16) == 0)
            return 1;
        off += 20 + 16u * oasis_get16(r + 2) + 4u * r[1];
    }
    return 0;
}

static size_t count_mld2_record(const fx *x, const oasis_in6 *g, uint8_t rec_type)
{
    size_t k = 0;
    for (size_t i = 0; i < x->cap.n; i++)
        k += mld2_record(x, i, g, rec_type);
    return k;
}

static int udp6_seen;
static void on_udp6(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport,
                    const oasis_ipaddr *dst, uint16_t dport, const uint8_t *data, size_t len,
                    void *ud)
{
    (void)s, (void)src, (void)sport, (void)dport, (void)data, (void)len;
    assert_memory_equal(dst->b, ((const oasis_in6 *)ud)->b, 16);
    udp6_seen++;
}

static void inject_udp6(fx *x, const oasis_in6 *dst)
{
    uint8_t u[8 + 4];
    memcpy(u + 8, "mdns", 4);
    oasis_udp_emit6(u, sizeof u, 5353, 5353, &PEER, dst);
    inject(x, &PEER, dst, 255, OASIS_NH_UDP, u, sizeof u);
}

/* RFC 3810 6.1, 4291 2.7: a joined group's datagrams are taken (before,
 * and after the last leave, they are address errors); joining and leaving
 * send state-change reports (TO_EXCLUDE {}, TO_INCLUDE {}) twice; a
 * general query's answer names the group; joins count. */
static void test_app_groups(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_ipaddr ga;
    assert_int_equal(oasis_ipaddr_parse("ff05::1:3", &ga), 0);
    oasis_in6 g;
    memcpy(g.b, ga.b, 16);
    udp6_seen = 0;
    assert_int_equal(oasis_udp_bind(x.s, 5353, on_udp6, &g), 0);
    inject_udp6(&x, &g);
    assert_int_equal(udp6_seen, 0);
    static const uint8_t mac_low[4] = {0, 1, 0, 3};
    assert_false(oasis_ipv6_wants_mac(x.s, mac_low));

    assert_int_equal(oasis_ipv6_join(x.s, &ga), 0);
    assert_true(oasis_ipv6_wants_mac(x.s, mac_low));
    advance(&x, 2 * SEC);
    assert_int_equal(count_mld2_record(&x, &g, OASIS_MLD2_TO_EXCLUDE), 2);
    inject_udp6(&x, &g);
    assert_int_equal(udp6_seen, 1);
    /* A general query: the current-state report names it (IS_EXCLUDE). */
    x.cap.n = 0;
    inject_mld_query(&x, 1, 1000);
    advance(&x, 2 * SEC);
    assert_int_equal(count_mld2_record(&x, &g, OASIS_MLD2_IS_EXCLUDE), 1);
    /* Joined twice: the first leave keeps it, quietly. */
    assert_int_equal(oasis_ipv6_join(x.s, &ga), 0);
    x.cap.n = 0;
    assert_int_equal(oasis_ipv6_leave(x.s, &ga), 0);
    advance(&x, 2 * SEC);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 0);
    inject_udp6(&x, &g);
    assert_int_equal(udp6_seen, 2);
    /* The last leave: TO_INCLUDE {}, and its datagrams are refused again. */
    assert_int_equal(oasis_ipv6_leave(x.s, &ga), 0);
    assert_int_equal(count_mld2_record(&x, &g, OASIS_MLD2_TO_INCLUDE), 1);
    assert_false(oasis_ipv6_wants_mac(x.s, mac_low));
    inject_udp6(&x, &g);
    assert_int_equal(udp6_seen, 2);
    assert_int_equal(oasis_ipv6_leave(x.s, &ga), OASIS_ENOENT);
    /* The leave goes out twice too (Robustness), then no more. */
    advance(&x, 2 * SEC);
    assert_int_equal(count_mld2_record(&x, &g, OASIS_MLD2_TO_INCLUDE), 2);
    advance(&x, 5 * SEC);
    assert_int_equal(count_mld2_record(&x, &g, OASIS_MLD2_TO_INCLUDE), 2);
    /* A query now names no such group. */
    x.cap.n = 0;
    inject_mld_query(&x, 1, 1000);
    advance(&x, 2 * SEC);
    assert_int_equal(count_mld2_record(&x, &g, OASIS_MLD2_IS_EXCLUDE), 0);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 1);
    fx_stop(&x);
}

/* ---- MLD deadlines (mld.c): one per purpose ---- */

/* A query about one group (RFC 3810 5.1.10, RFC 2710 3.6), sent to it. */
static void inject_mld_query_for(fx *x, int v2, uint16_t max_resp_ms, const oasis_in6 *g)
{
    uint8_t q[28];
    memset(q, 0, sizeof q);
    q[0] = OASIS_ICMP6_MLD_QUERY;
    oasis_put16(q + 4, max_resp_ms);
    memcpy(q + 8, g->b, 16);
    inject(x, &ROUTER, g, 1, OASIS_NH_ICMPV6, q, v2 ? 28 : 24);
}

/* Another listener's MLDv1 Report for g (RFC 2710 3: to g, hop limit 1). */
static void inject_mld1_report(fx *x, const oasis_in6 *g)
{
    uint8_t r[24];
    oasis_mld1_emit(r, OASIS_ICMP6_MLD_REPORT, g);
    inject(x, &PEER, g, 1, OASIS_NH_ICMPV6, r, sizeof r);
}

/* Records in the MLDv2 report of frame i. */
static int mld2_nrec(const fx *x, size_t i)
{
    oasis_ipv6_hdr h;
    oasis_ipv6_walk w;
    if (frame_icmp_type(x, i, &h) != OASIS_ICMP6_MLD2_REPORT ||
        oasis_ipv6_walk_chain(x->cap.frame[i] + 14, 40 + h.payload_len, &w) != 0)
        return -1;
    return oasis_get16(x->cap.frame[i] + 14 + w.off + 6);
}

/* In frame i's MLDv2 report, the record of rec_type for g: its source
 * count (-1: none such); has: set if it names that source. */
static int mld2_record_src(const fx *x, size_t i, const oasis_in6 *g, uint8_t rec_type,
                           const oasis_in6 *has)
{
    oasis_ipv6_hdr h;
    oasis_ipv6_walk w;
    if (frame_icmp_type(x, i, &h) != OASIS_ICMP6_MLD2_REPORT ||
        oasis_ipv6_walk_chain(x->cap.frame[i] + 14, 40 + h.payload_len, &w) != 0)
        return -1;
    const uint8_t *m = x->cap.frame[i] + 14 + w.off;
    size_t len = 40 + h.payload_len - w.off, off = 8;
    for (size_t k = 0; k < oasis_get16(m + 6) && off + 20 <= len; k++) {
        const uint8_t *r = m + off;
        int ns = oasis_get16(r + 2);
        if (r[0] == rec_type && memcmp(r + 4, g->b, 16) == 0 && off + 20 + 16u * ns <= len) {
            for (int j = 0; has && j < ns; j++)
                if (memcmp(r + 20 + 16 * j, has->b, 16) == 0)
                    return ns;
            return has ? -1 : ns;
        }
        off += 20 + 16u * ns + 4u * r[1];
    }
    return -1;
}

/* A source-specific query about g (RFC 3810 5.1.10), to g. */
static void inject_mld_ssq(fx *x, uint16_t max_resp_ms, const oasis_in6 *g, const oasis_in6 *src)
{
    uint8_t q[28 + 16];
    memset(q, 0, sizeof q);
    q[0] = OASIS_ICMP6_MLD_QUERY;
    oasis_put16(q + 4, max_resp_ms);
    memcpy(q + 8, g->b, 16);
    q[27] = 1;
    memcpy(q + 28, src->b, 16);
    inject(x, &ROUTER, g, 1, OASIS_NH_ICMPV6, q, sizeof q);
}

/* A joined application group g (its state-change reports done), the
 * link-local's solicited-node group sn. */
static void mld_fx(fx *x, oasis_in6 *g, oasis_in6 *sn, const char *group)
{
    fx_start(x, 0, 0, 1);
    oasis_in6 ll = ll_of(x);
    *sn = oasis_in6_solicited_node(&ll);
    oasis_ipaddr ga;
    assert_int_equal(oasis_ipaddr_parse(group, &ga), 0);
    memcpy(g->b, ga.b, 16);
    assert_int_equal(oasis_ipv6_join(x->s, &ga), 0);
    advance(x, 3 * SEC);
    x->cap.n = 0;
}

/* RFC 3810 6.2/6.3: a Multicast Address Specific Query for a group we
 * hold is answered, within its Maximum Response Delay, by a report with
 * that group's current state only (IS_EXCLUDE {}); one for a group we do
 * not hold, by nothing. RFC 2710 4 the same in MLDv1: a Report for that
 * address only. */
static void test_mld_specific_query(void **state)
{
    (void)state;
    fx x;
    oasis_in6 g, sn;
    mld_fx(&x, &g, &sn, "ff05::1:3");
    inject_mld_query_for(&x, 1, 1000, &g);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 0);
    advance(&x, SEC);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 1);
    int i = last_of_type(&x, OASIS_ICMP6_MLD2_REPORT);
    assert_int_equal(mld2_nrec(&x, (size_t)i), 1);
    assert_true(mld2_record(&x, (size_t)i, &g, OASIS_MLD2_IS_EXCLUDE));
    advance(&x, 5 * SEC);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 1);
    /* A source-specific query about it (RFC 3810 6.3's table: EXCLUDE {}
     * and sources B asked about -> IS_INCLUDE (B)), again that group only. */
    x.cap.n = 0;
    uint8_t q[28 + 16];
    memset(q, 0, sizeof q);
    q[0] = OASIS_ICMP6_MLD_QUERY;
    oasis_put16(q + 4, 1000);
    memcpy(q + 8, g.b, 16);
    q[27] = 1;
    memcpy(q + 28, PEER.b, 16);
    inject(&x, &ROUTER, &g, 1, OASIS_NH_ICMPV6, q, sizeof q);
    advance(&x, SEC);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 1);
    i = last_of_type(&x, OASIS_ICMP6_MLD2_REPORT);
    assert_int_equal(mld2_nrec(&x, (size_t)i), 1);
    assert_int_equal(mld2_record_src(&x, (size_t)i, &g, OASIS_MLD2_IS_INCLUDE, &PEER), 1);
    /* A group we do not hold: nothing (also when the query comes to
     * all-nodes, past the IP layer's group filter). */
    x.cap.n = 0;
    oasis_in6 other = g;
    other.b[15] = 0x99;
    inject_mld_query_for(&x, 1, 1000, &other);
    memcpy(q + 8, other.b, 16);
    q[27] = 0;
    inject(&x, &ROUTER, &oasis_in6_all_nodes, 1, OASIS_NH_ICMPV6, q, 28);
    assert_int_equal(ctr(&x)->icmp6.in_errors, 0);
    advance(&x, 5 * SEC);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 0);
    /* MLDv1: a Report for the address asked about, none for the others. */
    inject_mld_query_for(&x, 0, 1000, &g);
    advance(&x, SEC);
    assert_int_equal(count_dst(&x, OASIS_ICMP6_MLD_REPORT, &g), 1);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD_REPORT), 1);
    inject_mld_query_for(&x, 0, 1000, &other);
    advance(&x, 5 * SEC);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD_REPORT), 1);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 0);
    fx_stop(&x);
}

/* RFC 3810 6.2 rules 3-5 with sources: two source-specific queries about
 * one group are answered once, with the union of their sources; one about
 * the whole group makes the answer the whole group's (IS_EXCLUDE {}); a
 * general answer in between is IS_EXCLUDE {} and leaves them be. */
static void test_mld_source_specific_query(void **state)
{
    (void)state;
    fx x;
    oasis_in6 g, sn;
    mld_fx(&x, &g, &sn, "ff05::1:3");
    inject_mld_ssq(&x, 1000, &g, &PEER);
    inject_mld_ssq(&x, 1000, &g, &ROUTER);
    advance(&x, 2 * SEC);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 1);
    int i = last_of_type(&x, OASIS_ICMP6_MLD2_REPORT);
    assert_int_equal(mld2_record_src(&x, (size_t)i, &g, OASIS_MLD2_IS_INCLUDE, &PEER), 2);
    assert_int_equal(mld2_record_src(&x, (size_t)i, &g, OASIS_MLD2_IS_INCLUDE, &ROUTER), 2);
    /* Sources, then the whole group: IS_EXCLUDE {}. */
    x.cap.n = 0;
    inject_mld_ssq(&x, 1000, &g, &PEER);
    inject_mld_query_for(&x, 1, 1000, &g);
    advance(&x, 2 * SEC);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 1);
    i = last_of_type(&x, OASIS_ICMP6_MLD2_REPORT);
    assert_int_equal(mld2_record_src(&x, (size_t)i, &g, OASIS_MLD2_IS_EXCLUDE, NULL), 0);
    /* A general answer due first: every group IS_EXCLUDE {}, then the
     * source-specific answer still IS_INCLUDE {PEER}. */
    x.cap.n = 0;
    inject_mld_ssq(&x, 30000, &g, &PEER);
    inject_mld_query(&x, 1, 1);
    advance(&x, 40 * SEC);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 2);
    assert_int_equal(mld2_record_src(&x, 0, &g, OASIS_MLD2_IS_EXCLUDE, NULL), 0);
    assert_int_equal(mld2_record_src(&x, 0, &sn, OASIS_MLD2_IS_EXCLUDE, NULL), 0);
    assert_int_equal(mld2_record_src(&x, 1, &g, OASIS_MLD2_IS_INCLUDE, &PEER), 1);
    /* As many sources as are kept: all named. One more than that: the
     * whole state, IS_EXCLUDE {}, which covers every source asked about. */
    for (int extra = 0; extra < 2; extra++) {
        x.cap.n = 0;
        oasis_in6 src = PEER;
        for (int k = 0; k < OASIS_MLD_QUERY_SOURCES + extra; k++) {
            src.b[14] = (uint8_t)(0x40 + k);
            inject_mld_ssq(&x, 1000, &g, &src);
        }
        advance(&x, 2 * SEC);
        assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 1);
        i = last_of_type(&x, OASIS_ICMP6_MLD2_REPORT);
        if (extra)
            assert_int_equal(mld2_record_src(&x, (size_t)i, &g, OASIS_MLD2_IS_EXCLUDE, NULL), 0);
        else
            assert_int_equal(mld2_record_src(&x, (size_t)i, &g, OASIS_MLD2_IS_INCLUDE, &src),
                             OASIS_MLD_QUERY_SOURCES);
    }
    fx_stop(&x);
}

/* RFC 3810 6.1 and 6.3 apart: a general query while a join's state-change
 * retransmission is pending is answered with current-state records
 * (IS_EXCLUDE {}) for every group, and the retransmission (TO_EXCLUDE {})
 * still goes out. */
static void test_mld_query_during_state_change(void **state)
{
    (void)state;
    fx x;
    oasis_in6 g, sn;
    mld_fx(&x, &g, &sn, "ff05::1:3");
    oasis_in6 g2 = g;
    g2.b[15] = 4;
    oasis_ipaddr ga2 = {.family = OASIS_AF_INET6};
    memcpy(ga2.b, g2.b, 16);
    assert_int_equal(oasis_ipv6_join(x.s, &ga2), 0);
    assert_int_equal(count_mld2_record(&x, &g2, OASIS_MLD2_TO_EXCLUDE), 1);
    inject_mld_query(&x, 1, 1000);
    advance(&x, 2 * SEC);
    assert_int_equal(count_mld2_record(&x, &g2, OASIS_MLD2_TO_EXCLUDE), 2);
    assert_int_equal(count_mld2_record(&x, &g2, OASIS_MLD2_IS_EXCLUDE), 1);
    assert_int_equal(count_mld2_record(&x, &g, OASIS_MLD2_IS_EXCLUDE), 1);
    assert_int_equal(count_mld2_record(&x, &sn, OASIS_MLD2_IS_EXCLUDE), 1);
    /* The state change names only the group that changed. */
    assert_int_equal(count_mld2_record(&x, &g, OASIS_MLD2_TO_EXCLUDE), 0);
    fx_stop(&x);
}

/* RFC 3810 6.2 rules 1-4: an answer to a general query due sooner than a
 * new query's delay covers it (general or specific); a general query
 * due sooner replaces a later pending one; of two queries about one group
 * the earlier deadline stands. */
static void test_mld_earlier_deadline_stands(void **state)
{
    (void)state;
    fx x;
    oasis_in6 g, sn;
    mld_fx(&x, &g, &sn, "ff05::1:3");
    ip6_mld *m = &x.s->ip6->mld;
    inject_mld_query(&x, 1, 1000);
    uint64_t first = m->general_at;
    assert_true(first > 0 && first <= oasis_now(x.s) + SEC);
    inject_mld_query(&x, 1, 30000);       /* rule 1 */
    inject_mld_query_for(&x, 1, 30000, &g); /* rule 1, specific */
    assert_int_equal(m->general_at, first);
    advance(&x, 40 * SEC);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 1);
    /* Rule 2: a general query due sooner replaces the pending one. */
    x.cap.n = 0;
    inject_mld_query(&x, 1, 30000);
    uint64_t late = m->general_at;
    inject_mld_query(&x, 1, 1);
    assert_true(m->general_at < late);
    advance(&x, 40 * SEC);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 1);
    /* Rules 3, 4: one answer per group, at the earlier deadline. */
    x.cap.n = 0;
    inject_mld_query_for(&x, 1, 1000, &g);
    const ip6_mld_group *e = NULL;
    for (int i = 0; i < OASIS_IPV6_MAX_GROUPS; i++)
        if (m->g[i].used && oasis_in6_eq(&m->g[i].g, &g))
            e = &m->g[i];
    assert_non_null(e);
    uint64_t due = e->report_at;
    inject_mld_query_for(&x, 1, 30000, &g);
    assert_int_equal(e->report_at, due);
    advance(&x, 40 * SEC);
    assert_int_equal(count_mld2_record(&x, &g, OASIS_MLD2_IS_EXCLUDE), 1);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 1);
    fx_stop(&x);
}

/* RFC 2710 4: in MLDv1 a delay timer per address; another node's Report
 * for an address whose timer runs stops it (no Report of ours), and then
 * we were not the last to report it: no Done when we leave. A group we
 * reported last gets its Done. */
static void test_mldv1_suppression(void **state)
{
    (void)state;
    fx x;
    oasis_in6 g, sn;
    mld_fx(&x, &g, &sn, "ff05::1:3");
    inject_mld_query(&x, 0, 10000);
    inject_mld1_report(&x, &g);
    /* Not a Report that answers for us (RFC 2710 3): sent to another
     * address than it names, or not hop limit 1. Counted, ignored. */
    uint8_t r[24];
    oasis_mld1_emit(r, OASIS_ICMP6_MLD_REPORT, &sn);
    uint64_t errs = ctr(&x)->icmp6.in_errors;
    inject(&x, &PEER, &oasis_in6_all_nodes, 1, OASIS_NH_ICMPV6, r, sizeof r);
    inject(&x, &PEER, &sn, 2, OASIS_NH_ICMPV6, r, sizeof r);
    assert_int_equal(ctr(&x)->icmp6.in_errors, errs + 2);
    advance(&x, 11 * SEC);
    assert_int_equal(count_dst(&x, OASIS_ICMP6_MLD_REPORT, &sn), 1);
    assert_int_equal(count_dst(&x, OASIS_ICMP6_MLD_REPORT, &g), 0);
    oasis_ipaddr ga = {.family = OASIS_AF_INET6};
    memcpy(ga.b, g.b, 16);
    assert_int_equal(oasis_ipv6_leave(x.s, &ga), 0);
    advance(&x, 11 * SEC);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD_DONE), 0);
    /* Joined in MLDv1 mode: our Report is the last; the leave says Done. */
    x.cap.n = 0;
    oasis_in6 g2 = g;
    g2.b[15] = 4;
    oasis_ipaddr ga2 = {.family = OASIS_AF_INET6};
    memcpy(ga2.b, g2.b, 16);
    assert_int_equal(oasis_ipv6_join(x.s, &ga2), 0);
    assert_int_equal(count_dst(&x, OASIS_ICMP6_MLD_REPORT, &g2), 1);
    advance(&x, 11 * SEC);
    assert_int_equal(oasis_ipv6_leave(x.s, &ga2), 0);
    assert_int_equal(count_dst(&x, OASIS_ICMP6_MLD_DONE, &oasis_in6_all_routers), 1);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 0);
    fx_stop(&x);
}

/* What a join refuses: no group, scopes that never leave the node, IPv4,
 * past the bound. ff02::1 is joined already and never reported. */
static void test_app_groups_api(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    static const char *const bad[] = {"2001:db8::1", "fe80::1", "ff01::1", "ff00::1", "ff10::1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        oasis_ipaddr a;
        assert_int_equal(oasis_ipaddr_parse(bad[i], &a), 0);
        assert_int_equal(oasis_ipv6_join(x.s, &a), OASIS_EINVAL);
        assert_int_equal(oasis_ipv6_leave(x.s, &a), OASIS_EINVAL);
    }
    oasis_ipaddr v4 = oasis_ipaddr_v4(OASIS_IPV4(239, 1, 1, 1));
    assert_int_equal(oasis_ipv6_join(x.s, &v4), OASIS_EINVAL);
    assert_int_equal(oasis_ipv6_join(x.s, NULL), OASIS_EINVAL);
    oasis_ipaddr all;
    assert_int_equal(oasis_ipaddr_parse("ff02::1", &all), 0);
    x.cap.n = 0;
    assert_int_equal(oasis_ipv6_join(x.s, &all), 0);
    advance(&x, 2 * SEC);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 0);
    assert_int_equal(oasis_ipv6_leave(x.s, &all), 0);
    assert_int_equal(count_type(&x, OASIS_ICMP6_MLD2_REPORT), 0);
    for (int i = 0; i < OASIS_IPV6_APP_GROUPS; i++) {
        oasis_ipaddr a;
        assert_int_equal(oasis_ipaddr_parse("ff0e::1:0", &a), 0);
        a.b[15] = (uint8_t)i;
        assert_int_equal(oasis_ipv6_join(x.s, &a), 0);
    }
    oasis_ipaddr more;
    assert_int_equal(oasis_ipaddr_parse("ff0e::2:0", &more), 0);
    assert_int_equal(oasis_ipv6_join(x.s, &more), OASIS_ENOMEM);
    /* Every group fits one report (OASIS_IPV6_MAX_GROUPS). */
    advance(&x, 2 * SEC); /* the joins' state-change reports done */
    x.cap.n = 0;
    inject_mld_query(&x, 1, 1000);
    advance(&x, 2 * SEC);
    int i = last_of_type(&x, OASIS_ICMP6_MLD2_REPORT);
    assert_true(i >= 0);
    oasis_in6 last;
    assert_int_equal(oasis_ipaddr_parse("ff0e::1:f", &more), 0);
    memcpy(last.b, more.b, 16);
    assert_true(mld2_record(&x, (size_t)i, &last, OASIS_MLD2_IS_EXCLUDE));
    fx_stop(&x);
}


/* ---- TCP's default send MSS over IPv6 ---- */

static void tcp_accept_note(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    *(oasis_flow **)ud = f;
}

static void tcp_write_done(oasis_flow *f, int err, void *ud)
{
    (void)f;
    (void)err;
    (void)ud;
}

/* A TCP segment from PEER's port sport to us (no options). */
static void inject_tcp_from(fx *x, const oasis_in6 *us, uint16_t sport, uint8_t flags, uint32_t seq,
                            uint32_t ack)
{
    oasis_tcp_hdr h;
    memset(&h, 0, sizeof h);
    h.src_port = sport;
    h.dst_port = 80;
    h.seq = seq;
    h.ack = ack;
    h.flags = flags;
    h.window = 65535;
    uint8_t b[20];
    oasis_tcp_emit_ps(b, &h, 0, oasis_ipv6_pseudo_sum(&PEER, us, sizeof b, OASIS_NH_TCP));
    inject(x, &PEER, us, 64, OASIS_NH_TCP, b, sizeof b);
}

static void inject_tcp(fx *x, const oasis_in6 *us, uint8_t flags, uint32_t seq, uint32_t ack)
{
    inject_tcp_from(x, us, 40000, flags, seq, ack);
}

/* Frame i as TCP over IPv6 (no extension headers): the TCP header's
 * start, or NULL; *payload: its payload's length. */
static const uint8_t *frame_tcp(const fx *x, size_t i, size_t *payload)
{
    const uint8_t *f = x->cap.frame[i];
    if (x->cap.len[i] < 74 || oasis_get16(f + 12) != OASIS_ETHERTYPE_IPV6 || f[14 + 6] != OASIS_NH_TCP)
        return NULL;
    *payload = oasis_get16(f + 18) - (size_t)(f[54 + 12] >> 4) * 4;
    return f + 54;
}

/* RFC 9293 3.7.1 (MUST-15): without an MSS option a TCP assumes a send MSS
 * of 536 for IPv4 but 1220 (1280 - 60) for IPv6; Oasis took 536 on both.
 * by_cookie: the listener's backlog (1) is full with a half-open flow from
 * another port, so the SYN is answered by a SYN cookie, which encodes the
 * MSS it assumed (tcp_syncookie.c): that path took 536 too. */
static void default_mss_case(int by_cookie)
{
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 us = ll_of(&x);
    inject_ns(&x, &PEER, &us, &us, MAC_PEER); /* the peer's link address */
    oasis_flow *f = NULL;
    oasis_listen_opts o;
    memset(&o, 0, sizeof o);
    o.backlog = 1;
    assert_int_equal(oasis_tcp_listen(x.s, 80, &o, tcp_accept_note, &f), 0);
    if (by_cookie)
        inject_tcp_from(&x, &us, 40001, OASIS_TCP_SYN, 5000, 0); /* fills the backlog */
    x.cap.n = 0;
    inject_tcp(&x, &us, OASIS_TCP_SYN, 1000, 0);
    advance(&x, 1000);
    const uint8_t *t = NULL;
    size_t len = 0;
    for (size_t i = 0; i < x.cap.n && !t; i++)
        if ((t = frame_tcp(&x, i, &len)) &&
            (t[13] != (OASIS_TCP_SYN | OASIS_TCP_ACK) || oasis_get16(t + 2) != 40000))
            t = NULL;
    assert_non_null(t);
    assert_int_equal(x.s->ctr.tcp.syn_cookies_sent, by_cookie ? 1 : 0);
    uint32_t iss = oasis_get32(t + 4);
    inject_tcp(&x, &us, OASIS_TCP_ACK, 1001, iss + 1);
    advance(&x, 1000);
    assert_int_equal(x.s->ctr.tcp.syn_cookies_ok, by_cookie ? 1 : 0);
    assert_non_null(f);
    static uint8_t data[3000];
    x.cap.n = 0;
    assert_int_equal(oasis_tcp_write(f, data, sizeof data, tcp_write_done, NULL), 0);
    advance(&x, 1000);
    size_t largest = 0, total = 0;
    for (size_t i = 0; i < x.cap.n; i++)
        if (frame_tcp(&x, i, &len) && len) {
            largest = len > largest ? len : largest;
            total += len;
        }
    assert_true(total >= 2 * 1220); /* the initial window's worth, at least */
    assert_int_equal(largest, 1220);
    oasis_tcp_release(f);
    fx_stop(&x);
}

static void test_tcp_default_mss_1220(void **state)
{
    (void)state;
    default_mss_case(0);
}

static void test_tcp_cookie_default_mss_1220(void **state)
{
    (void)state;
    default_mss_case(1);
}

/* ---- probe-c: conformance probes ---- */

/* A fragment of a datagram of 32 bytes for protocol 253 (no transport of
 * ours: only the handler a test registers sees it), from PEER to dst, with
 * the ECN field ecn in its Traffic Class. */
static void inject_frag_ecn(fx *x, const oasis_in6 *dst, uint32_t id, size_t off, int more,
                            uint8_t ecn)
{
    uint8_t f[14 + 40 + 8 + 16];
    memset(f, 0, sizeof f);
    oasis_eth_emit(f, oasis_stack_mac(x->s), MAC_PEER, OASIS_ETHERTYPE_IPV6);
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.tclass = (uint8_t)(0x28 | ecn); /* DSCP 10 */
    h.payload_len = 8 + 16;
    h.next = OASIS_NH_FRAGMENT;
    h.hop_limit = 64;
    h.src = PEER;
    h.dst = *dst;
    oasis_ipv6_emit(f + 14, &h);
    oasis_ipv6_frag fh = {253, (uint16_t)off, more, id};
    oasis_ipv6_frag_emit(f + 54, &fh);
    oasis_stack_input(x->s, f, sizeof f);
}

static void on_proto253(oasis_stack *s, const oasis_ip_packet *pkt, void *ud)
{
    (void)s;
    *(int *)ud = pkt->tclass & 3;
}

/* RFC 3168 5.3: "Reassembly of a fragmented packet MUST NOT lose
 * indications of congestion": a CE fragment makes the reassembled packet
 * CE, unless another fragment was Not-ECT, when it is dropped. IPv6's
 * reassembly kept the first fragment's Traffic Class alone. */
static void test_reasm6_keeps_ce(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    oasis_in6 ll = ll_of(&x);
    const oasis_ipv6_counters *c = &ctr(&x)->ipv6;
    int seen = -1;
    assert_int_equal(oasis_ip_register(x.s, 253, on_proto253, NULL, &seen), 0);
    inject_frag_ecn(&x, &ll, 1, 0, 1, 2); /* ECT(0) */
    inject_frag_ecn(&x, &ll, 1, 16, 0, 3); /* CE */
    assert_int_equal(c->reasm_oks, 1);
    assert_int_equal(seen, 3);
    seen = -1;
    inject_frag_ecn(&x, &ll, 2, 16, 0, 3); /* CE first, in any order */
    inject_frag_ecn(&x, &ll, 2, 0, 1, 1); /* ECT(1) */
    assert_int_equal(c->reasm_oks, 2);
    assert_int_equal(seen, 3);
    seen = -1;
    inject_frag_ecn(&x, &ll, 3, 0, 1, 0); /* Not-ECT with CE: dropped */
    inject_frag_ecn(&x, &ll, 3, 16, 0, 3);
    assert_int_equal(seen, -1);
    assert_int_equal(c->reasm_oks, 2);
    assert_int_equal(c->reasm_fails, 1);
    inject_frag_ecn(&x, &ll, 4, 0, 1, 2); /* fragments that agree keep their field */
    inject_frag_ecn(&x, &ll, 4, 16, 0, 2);
    assert_int_equal(seen, 2);
    assert_int_equal(c->reasm_oks, 3);
    assert_int_equal(c->reasm_bytes, 0);
    fx_stop(&x);
}

/* RFC 4291 2.5.2: the unspecified address "must not be used as the
 * destination address of IPv6 packets". A datagram from :: is taken (a
 * DAD probe or an MLD report comes from there), so an application that
 * answers its sender asks to send to ::: with a default router known,
 * the datagram went to the router with :: as its destination. */
static void test_never_sent_to_unspecified(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    static const uint8_t rmac[6] = {2, 0, 0, 0, 0x77, 1};
    inject_ra_slla(&x, &ROUTER, rmac, 600); /* a default router, its address known */
    oasis_ipaddr far, unspec;
    assert_int_equal(oasis_ipaddr_parse("2001:db8:9::1", &far), 0);
    assert_int_equal(oasis_ipaddr_parse("::", &unspec), 0);
    assert_int_equal(oasis_udp_bind(x.s, 1000, on_udp_none, NULL), 0);
    assert_int_equal(oasis_udp_send(x.s, 1000, &far, 7, "x", 1), 0);
    x.cap.n = 0;
    uint64_t out = ctr(&x)->udp6.out_datagrams;
    assert_int_not_equal(oasis_udp_send(x.s, 1000, &unspec, 7, "x", 1), 0);
    assert_int_not_equal(oasis_ipv6_send(x.s, &unspec, 253, "x", 1), 0);
    advance(&x, SEC);
    for (size_t i = 0; i < x.cap.n; i++) {
        oasis_ipv6_hdr h;
        if (oasis_get16(x.cap.frame[i] + 12) == OASIS_ETHERTYPE_IPV6 &&
            oasis_ipv6_parse(x.cap.frame[i] + 14, x.cap.len[i] - 14, &h) == 0)
            assert_false(oasis_in6_is_unspecified(&h.dst));
    }
    assert_int_equal(ctr(&x)->udp6.out_datagrams, out);
    fx_stop(&x);
}

/* RFC 4861 7.2.2: "the sender MUST, for each neighbor, retain a small
 * queue of packets waiting for address resolution to complete. The queue
 * MUST hold at least one packet ... When a queue overflows, the new arrival
 * SHOULD replace the oldest entry." With the stack's cfg.nd_queue_len (3)
 * taken by one neighbour, a second neighbour's first packet was dropped
 * (its queue held none), and the first neighbour kept its oldest packets
 * and dropped the newest. */
static void test_nd_queue_per_neighbour(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 3, 1);
    oasis_in6 ll = ll_of(&x);
    pingres r[6];
    memset(r, 0, sizeof r);
    oasis_ipaddr peer = oasis_ipaddr_v6(PEER.b);
    for (int k = 0; k < 5; k++)
        assert_int_equal(oasis_ping_addr(x.s, &peer, 1, (uint16_t)k, 8, 60 * SEC, on_ping, &r[k]), 0);
    assert_int_equal(oasis_nd_lookup(x.s, &PEER)->qlen, 3);
    assert_int_equal(ctr(&x)->nd.queue_drops, 2);
    /* Another neighbour: its one packet waits too. */
    oasis_in6 p2 = PEER;
    p2.b[15] = 0x23;
    oasis_ipaddr a2 = oasis_ipaddr_v6(p2.b);
    assert_int_equal(oasis_ping_addr(x.s, &a2, 1, 9, 8, 60 * SEC, on_ping, &r[5]), 0);
    assert_int_equal(oasis_nd_lookup(x.s, &p2)->qlen, 1);
    assert_int_equal(ctr(&x)->nd.queue_drops, 2);
    assert_int_equal(oasis_nd_consistent(x.s), 1);
    /* Both answer: what waited goes out, the newest three to PEER. */
    static const uint8_t mac2[6] = {2, 0, 0, 0, 0, 0x23};
    x.cap.n = 0;
    inject_na(&x, &PEER, &ll, &PEER, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE, MAC_PEER, 255);
    inject_na(&x, &p2, &ll, &p2, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE, mac2, 255);
    int seqs = 0, to_p2 = 0;
    for (size_t i = 0; i < x.cap.n; i++) {
        oasis_ipv6_hdr h;
        if (frame_icmp_type(&x, i, &h) != OASIS_ICMP6_ECHO_REQUEST)
            continue;
        uint16_t seq = oasis_get16(x.cap.frame[i] + 14 + 40 + 6);
        if (oasis_in6_eq(&h.dst, &p2)) {
            to_p2++;
            assert_int_equal(seq, 9);
        } else {
            assert_true(oasis_in6_eq(&h.dst, &PEER));
            assert_true(seq >= 2 && seq <= 4);
            seqs |= 1 << seq;
        }
    }
    assert_int_equal(seqs, 0x1c);
    assert_int_equal(to_p2, 1);
    assert_int_equal(x.s->ip6->queued, 0);
    fx_stop(&x);
}

static void on_conn_unused(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s, (void)f, (void)err, (void)ud;
    fail_msg("a connect to an IPv4-mapped address went on");
}

/* RFC 6890 2.2.3: an IPv4-mapped address (::ffff:0:0/96) is no
 * destination (Destination: False). Given as an IPv6 address to UDP,
 * ping, oasis_ipv6_send or TCP, nothing goes onto the link, even with a
 * default router to send it to; a global destination beside it does. */
static void test_no_v4mapped_destination(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, 0, 0, 1);
    inject_ra(&x, 1800, 3600, 1800, 1500);
    advance(&x, 5 * SEC); /* the SLAAC address past DAD */
    oasis_ipaddr m;
    assert_int_equal(oasis_ipaddr_parse("::ffff:10.0.0.2", &m), 0);
    m.family = OASIS_AF_INET6; /* the IPv6 address, not the IPv4 one */
    x.cap.n = 0;
    uint64_t noroute = ctr(&x)->ipv6.out_no_routes;
    assert_int_equal(oasis_udp_send(x.s, 1000, &m, 9, "x", 1), OASIS_ENOROUTE);
    assert_int_equal(oasis_ipv6_send(x.s, &m, 253, "x", 1), OASIS_ENOROUTE);
    pingres r = {0};
    assert_int_equal(oasis_ping_addr(x.s, &m, 1, 1, 8, SEC, on_ping, &r), OASIS_EINVAL);
    advance(&x, 2 * SEC);
    assert_int_equal(x.cap.n, 0);
    assert_int_equal(r.done, 0);
    assert_int_equal(ctr(&x)->ipv6.out_no_routes, noroute + 2);
    /* TCP: refused at once, an address that is no single host's. */
    assert_int_equal(oasis_tcp_connect(x.s, &m, 80, NULL, on_conn_unused, NULL), OASIS_EBADDEST);
    advance(&x, 2 * SEC);
    assert_int_equal(x.cap.n, 0);
    /* The control: a global destination goes to the router. */
    oasis_ipaddr g;
    assert_int_equal(oasis_ipaddr_parse("2001:db8:9::1", &g), 0);
    assert_int_equal(oasis_udp_send(x.s, 1000, &g, 9, "x", 1), 0);
    assert_true(x.cap.n >= 1);
    fx_stop(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_local_dad_and_ping),
        cmocka_unit_test(test_dad_conflict_link_local),
        cmocka_unit_test(test_dad_conflict_static),
        cmocka_unit_test(test_multicast_filter),
        cmocka_unit_test(test_tentative_gets_nothing),
        cmocka_unit_test(test_nd_state_machine),
        cmocka_unit_test(test_nd_bounds),
        cmocka_unit_test(test_nd_incomplete_flood),
        cmocka_unit_test(test_nd_ns_flood_keeps_neighbour_in_use),
        cmocka_unit_test(test_nd_max_cache_flood),
        cmocka_unit_test(test_nd_evicted_incomplete_fails_at_once),
        cmocka_unit_test(test_nd_evicting_sweep_yields_each_poll),
        cmocka_unit_test(test_nd_evicted_incomplete_tells_udp),
        cmocka_unit_test(test_nd_router_entries_evictable),
        cmocka_unit_test(test_nd_fragmented_ignored),
        cmocka_unit_test(test_ns_answered),
        cmocka_unit_test(test_group_lladdr_refused),
        cmocka_unit_test(test_slaac_lifetimes),
        cmocka_unit_test(test_reasm_orders),
        cmocka_unit_test(test_reasm_overlap),
        cmocka_unit_test(test_reasm_timeout),
        cmocka_unit_test(test_reasm_memory_bound),
        cmocka_unit_test(test_reasm_bound_below_one),
        cmocka_unit_test(test_reasm_fragment_count),
        cmocka_unit_test(test_rh0_and_bombs),
        cmocka_unit_test(test_frag_past_65535_with_headers),
        cmocka_unit_test(test_hbh_after_fragment_header),
        cmocka_unit_test(test_atomic_fragment_error_quotes_it),
        cmocka_unit_test(test_first_fragment_without_chain),
        cmocka_unit_test(test_ping_packet_too_big),
        cmocka_unit_test(test_icmp6_error_rules),
        cmocka_unit_test(test_icmp6_no_error_about_errors),
        cmocka_unit_test(test_icmp6_no_error_about_ah_protected_error),
        cmocka_unit_test(test_icmp6_mib_counts),
        cmocka_unit_test(test_input_validation),
        cmocka_unit_test(test_address_rules),
        cmocka_unit_test(test_own_source),
        cmocka_unit_test(test_ipv6_off),
        cmocka_unit_test(test_redirect),
        cmocka_unit_test(test_mldv1_compat),
        cmocka_unit_test(test_confirm_reachable),
        cmocka_unit_test(test_delay_count),
        cmocka_unit_test(test_ra_without_slla_marks_router),
        cmocka_unit_test(test_icmp6_unknown_types),
        cmocka_unit_test(test_nd_validation_ns),
        cmocka_unit_test(test_nd_validation_na),
        cmocka_unit_test(test_nd_validation_ra),
        cmocka_unit_test(test_nd_validation_redirect),
        cmocka_unit_test(test_nd_rs_discarded),
        cmocka_unit_test(test_icmp6_error_quote_and_silence),
        cmocka_unit_test(test_na_processing),
        cmocka_unit_test(test_ns_processing),
        cmocka_unit_test(test_ra_processing),
        cmocka_unit_test(test_ra_timer_bounds),
        cmocka_unit_test(test_redirect_processing),
        cmocka_unit_test(test_redirect_without_tlla_sets_is_router),
        cmocka_unit_test(test_no_v4mapped_destination),
        cmocka_unit_test(test_router_list),
        cmocka_unit_test(test_routers_round_robin),
        cmocka_unit_test(test_echo_rules),
        cmocka_unit_test(test_router_expiry_forgets_redirects),
        cmocka_unit_test(test_reachable_time_redrawn),
        cmocka_unit_test(test_slaac_prefix_rules),
        cmocka_unit_test(test_ra_dns_servers),
        cmocka_unit_test(test_ra_dns_rules),
        cmocka_unit_test(test_app_groups),
        cmocka_unit_test(test_app_groups_api),
        cmocka_unit_test(test_mld_specific_query),
        cmocka_unit_test(test_mld_source_specific_query),
        cmocka_unit_test(test_mld_query_during_state_change),
        cmocka_unit_test(test_mld_earlier_deadline_stands),
        cmocka_unit_test(test_mldv1_suppression),
        cmocka_unit_test(test_tcp_default_mss_1220),
        cmocka_unit_test(test_tcp_cookie_default_mss_1220),
        cmocka_unit_test(test_reasm6_keeps_ce),
        cmocka_unit_test(test_never_sent_to_unspecified),
        cmocka_unit_test(test_nd_queue_per_neighbour),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
