/* IPv6 loopback: UDP and TCP to ::1 and to the stack's own addresses (a
 * static global one, the link-local one: one interface, so no zone) are
 * delivered inside the stack through the loopback queue IPv4 uses, from the
 * poll after the send (never inside it), never onto the link, and counted.
 * A tentative address is not ours yet (RFC 4862 5.4): nothing to it loops.
 * ::1 from the link is dropped (RFC 4291 2.5.3), and ::1 never goes onto
 * it. Group datagrams loop back to our own members unless the port says
 * no (RFC 3493 5.2 IPV6_MULTICAST_LOOP). One stack on a capturing link,
 * virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ip/ipv4_wire.h"
#include "ipv6/icmp6_wire.h"
#include "ipv6/ipv6_wire.h"
#include "link/eth_wire.h"
#include "oasis/oasis.h"
#include "udp/udp_wire.h"
#include "caplink.h"
#include "testutil.h"

#define SEC OASIS_NS_PER_SEC
#define MAXF 256

static const uint8_t MAC_US[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t MAC_PEER[6] = {2, 0, 0, 0, 0, 9};

typedef struct fx {
    oasis_clock *clock;
    oasis_stack *s;
    test_cap cap;
    oasis_ipaddr lo, global, ll;
    int offload_sends;
} fx;

static int offload_send(oasis_link *l, const uint8_t *f, size_t len, const oasis_offload *off)
{
    (void)f;
    (void)len;
    (void)off;
    fx *x = (fx *)((char *)l - offsetof(fx, cap));
    x->offload_sends++;
    return 0;
}

/* A stack with IPv6 on, its link-local and 2001:db8::1/64 past DAD. With
 * offload, its link takes partial checksums and IPv6 super-segments. */
static void fx_init(fx *x, int offload)
{
    memset(x, 0, sizeof *x);
    x->clock = oasis_clock_new_virtual(1000 * SEC);
    oasis_stack_config cfg;
    test_stack_config(&cfg, x->clock, 1);
    cfg.ipv6 = 1;
    assert_int_equal(oasis_stack_create(&cfg, &x->s), 0);
    test_cap_attach(&x->cap, x->s, MAXF, 1500);
    if (offload) {
        x->cap.link.caps = OASIS_LINK_CSUM_TX | OASIS_LINK_TSO6;
        x->cap.link.send_offload = offload_send;
    }
    assert_int_equal(oasis_ipaddr_parse("::1", &x->lo), 0);
    assert_int_equal(oasis_ipaddr_parse("2001:db8::1", &x->global), 0);
    assert_int_equal(oasis_ipv6_add_addr(x->s, &x->global, 64), 0);
    test_advance(x->s, x->clock, 5 * SEC);
    x->ll = test_link_local(x->s);
    x->cap.n = 0;
}

static void fx_fini(fx *x)
{
    oasis_stack_destroy(x->s);
    test_cap_fini(&x->cap);
    oasis_clock_free(x->clock);
}

static const oasis_ipv6_counters *v6c(fx *x) { return &oasis_stack_counters(x->s)->ipv6; }

/* Frames on the link that carry UDP or TCP over IPv6 (no extension
 * headers in those). */
static size_t transport_frames(const fx *x)
{
    size_t n = 0;
    for (size_t i = 0; i < x->cap.n; i++) {
        const uint8_t *f = x->cap.frame[i];
        if (x->cap.len[i] >= 54 && f[12] == 0x86 && f[13] == 0xdd &&
            (f[20] == OASIS_IPPROTO_UDP || f[20] == OASIS_IPPROTO_TCP))
            n++;
    }
    return n;
}

/* ---- UDP ---- */

typedef struct urx {
    int count;
    oasis_ipaddr src, dst;
    uint16_t sport;
    char data[64];
    int sending; /* set around our own send calls */
} urx;

static void on_udp(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport,
                   const oasis_ipaddr *dst, uint16_t dport, const uint8_t *d, size_t len, void *ud)
{
    (void)s;
    (void)dport;
    urx *r = ud;
    assert_false(r->sending); /* never inside the send that started it */
    r->count++;
    r->src = *src;
    r->dst = *dst;
    r->sport = sport;
    memset(r->data, 0, sizeof r->data);
    memcpy(r->data, d, len < sizeof r->data ? len : sizeof r->data - 1);
}

/* r, zeroed, takes what comes to UDP port 7000. */
static void udp_rx(fx *x, urx *r)
{
    memset(r, 0, sizeof *r);
    assert_int_equal(oasis_udp_bind(x->s, 7000, on_udp, r), 0);
}

/* The fixture without offload, with r on port 7000: most tests start so. */
static void fx_init_udp(fx *x, urx *r)
{
    fx_init(x, 0);
    udp_rx(x, r);
}

/* One datagram to dst: queued by the send, delivered by the next poll
 * from dst itself (RFC 6724 rule 1), counted, never on the link. */
static void udp_to(fx *x, const oasis_ipaddr *dst)
{
    urx r;
    udp_rx(x, &r);
    uint64_t tx = v6c(x)->loop_tx_packets, rx = v6c(x)->loop_rx_packets;
    r.sending = 1;
    assert_int_equal(oasis_udp_send(x->s, 7001, dst, 7000, "hello", 5), 0);
    r.sending = 0;
    assert_int_equal(r.count, 0); /* not yet: from the next poll */
    assert_int_equal(v6c(x)->loop_tx_packets, tx + 1);
    assert_int_equal(oasis_stack_next_deadline(x->s), oasis_clock_now(x->clock));
    oasis_stack_poll(x->s);
    assert_int_equal(r.count, 1);
    assert_true(oasis_ipaddr_eq(&r.src, dst));
    assert_true(oasis_ipaddr_eq(&r.dst, dst));
    assert_int_equal(r.sport, 7001);
    assert_string_equal(r.data, "hello");
    assert_int_equal(v6c(x)->loop_rx_packets, rx + 1);
    assert_int_equal(oasis_stack_counters(x->s)->ip.loop_tx_packets, 0); /* IPv4's stay apart */
    assert_int_equal(transport_frames(x), 0);
    assert_int_equal(oasis_udp_unbind(x->s, 7000), 0);
}

static void test_udp_to_lo(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, 0);
    uint64_t delivers = v6c(&x)->in_delivers;
    udp_to(&x, &x.lo);
    assert_int_equal(v6c(&x)->in_delivers, delivers + 1);
    assert_int_equal(oasis_stack_counters(x.s)->udp6.in_datagrams, 1);
    fx_fini(&x);
}

static void on_connect_any(oasis_stack *s, oasis_flow *fl, int err, void *ud)
{
    (void)s;
    (void)fl;
    (void)err;
    (*(int *)ud)++;
}

static void test_udp_to_own_addresses(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, 0);
    udp_to(&x, &x.global);
    udp_to(&x, &x.ll);
    /* From ::1 to ourselves, and from an address of ours to ::1. */
    urx r;
    udp_rx(&x, &r);
    assert_int_equal(oasis_udp_send_from(x.s, &x.lo, 7001, &x.global, 7000, "a", 1), 0);
    assert_int_equal(oasis_udp_send_from(x.s, &x.global, 7001, &x.lo, 7000, "b", 1), 0);
    oasis_stack_poll(x.s);
    assert_int_equal(r.count, 2);
    assert_true(oasis_ipaddr_eq(&r.src, &x.global));
    assert_true(oasis_ipaddr_eq(&r.dst, &x.lo));
    assert_int_equal(transport_frames(&x), 0);
    /* RFC 4291 2.5.3: ::1 is never sent on an interface, so it is no
     * source for anyone but ourselves. */
    oasis_ipaddr far;
    assert_int_equal(oasis_ipaddr_parse("2001:db8::99", &far), 0);
    assert_int_equal(oasis_udp_send_from(x.s, &x.lo, 7001, &far, 7000, "x", 1),
                     OASIS_EADDRNOTAVAIL);
    oasis_connect_opts o;
    memset(&o, 0, sizeof o);
    o.local = x.lo;
    int never = 0;
    assert_int_equal(oasis_tcp_connect_opts(x.s, &far, 80, &o, on_connect_any, &never, NULL),
                     OASIS_EADDRNOTAVAIL);
    assert_int_equal(never, 0);
    test_advance(x.s, x.clock, SEC);
    assert_int_equal(transport_frames(&x), 0);
    fx_fini(&x);
}

/* RFC 4862 5.4: a tentative address is not assigned yet: what is sent to
 * it is not looped (it asks the link, where a duplicate may own it); past
 * DAD it is ours and loops. */
static void test_tentative_not_looped(void **state)
{
    (void)state;
    fx x;
    urx r;
    fx_init_udp(&x, &r);
    oasis_ipaddr t;
    assert_int_equal(oasis_ipaddr_parse("2001:db8::2", &t), 0);
    assert_int_equal(oasis_ipv6_add_addr(x.s, &t, 64), 0); /* DAD starts: tentative */
    oasis_stack_poll(x.s);
    uint64_t tx = v6c(&x)->loop_tx_packets;
    assert_int_equal(oasis_udp_send(x.s, 7001, &t, 7000, "t", 1), 0);
    assert_int_equal(v6c(&x)->loop_tx_packets, tx);
    oasis_stack_poll(x.s);
    oasis_clock_advance(x.clock, 1);
    oasis_stack_poll(x.s);
    assert_int_equal(r.count, 0);
    /* Past DAD (and the unanswered resolution behind it), it loops. */
    test_advance(x.s, x.clock, 5 * SEC);
    assert_int_equal(r.count, 0);
    assert_int_equal(oasis_udp_send(x.s, 7001, &t, 7000, "t", 1), 0);
    assert_int_equal(v6c(&x)->loop_tx_packets, tx + 1);
    oasis_stack_poll(x.s);
    assert_int_equal(r.count, 1);
    assert_true(oasis_ipaddr_eq(&r.src, &t));
    fx_fini(&x);
}

/* A frame from the link (peer MAC to ours) with an IPv6 UDP datagram. */
static void inject_udp(fx *x, const oasis_in6 *src, const oasis_in6 *dst, uint16_t dport)
{
    uint8_t f[14 + 40 + 8 + 1];
    memcpy(f, MAC_US, 6);
    memcpy(f + 6, MAC_PEER, 6);
    f[12] = 0x86;
    f[13] = 0xdd;
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.payload_len = 9;
    h.next = OASIS_IPPROTO_UDP;
    h.hop_limit = 64;
    h.src = *src;
    h.dst = *dst;
    oasis_ipv6_emit(f + 14, &h);
    f[14 + 40 + 8] = 'w';
    oasis_udp_emit6(f + 54, 9, 5000, dport, src, dst);
    oasis_stack_input(x->s, f, sizeof f);
}

/* A Router Advertisement from a router on the link (fe80::1, MAC_PEER,
 * its link-layer address given, lifetime 1800 s, no prefix): a default
 * router, resolved. */
static void inject_ra(fx *x)
{
    uint8_t f[14 + 40 + 24];
    memset(f, 0, sizeof f);
    static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
    memcpy(f, all_nodes_mac, 6);
    memcpy(f + 6, MAC_PEER, 6);
    f[12] = 0x86;
    f[13] = 0xdd;
    oasis_in6 router = {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    oasis_in6 all = {{0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.payload_len = 24;
    h.next = OASIS_NH_ICMPV6;
    h.hop_limit = 255;
    h.src = router;
    h.dst = all;
    oasis_ipv6_emit(f + 14, &h);
    uint8_t *m = f + 54;
    m[16] = 1; /* source link-layer address option, 8 bytes */
    m[17] = 1;
    memcpy(m + 18, MAC_PEER, 6);
    oasis_icmp6_finish(m, 24, 134, 0, 64u << 24 | 1800u, &router, &all);
    oasis_stack_input(x->s, f, sizeof f);
}

/* RFC 4291 2.5.3: a packet to ::1 never leaves the node. Before loopback,
 * one sent while a default router was known went to that router. */
static void test_lo_never_to_router(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, 0);
    inject_ra(&x);
    /* The control: the router takes what goes off-link. */
    oasis_ipaddr far;
    assert_int_equal(oasis_ipaddr_parse("2001:db9::99", &far), 0);
    assert_int_equal(oasis_udp_send(x.s, 7001, &far, 7000, "f", 1), 0);
    assert_int_equal(transport_frames(&x), 1);
    urx r;
    udp_rx(&x, &r);
    assert_int_equal(oasis_udp_send(x.s, 7001, &x.lo, 7000, "l", 1), 0);
    test_advance(x.s, x.clock, SEC);
    assert_int_equal(transport_frames(&x), 1);
    assert_int_equal(r.count, 1);
    fx_fini(&x);
}

/* RFC 4291 2.5.3: a packet from or to ::1 never comes from an interface:
 * dropped and counted, while ::1 from the loopback queue is taken. */
static void test_wire_lo_dropped(void **state)
{
    (void)state;
    fx x;
    urx r;
    fx_init_udp(&x, &r);
    oasis_in6 lo, ll, peer;
    memcpy(lo.b, x.lo.b, 16);
    memcpy(ll.b, x.ll.b, 16);
    memcpy(peer.b, ll.b, 16);
    peer.b[15] ^= 0x55;
    uint64_t hdr = v6c(&x)->in_hdr_errors;
    inject_udp(&x, &lo, &ll, 7000);
    inject_udp(&x, &peer, &lo, 7000);
    inject_udp(&x, &lo, &lo, 7000);
    oasis_stack_poll(x.s);
    assert_int_equal(v6c(&x)->in_hdr_errors, hdr + 3);
    assert_int_equal(r.count, 0);
    assert_int_equal(oasis_stack_counters(x.s)->udp6.in_datagrams, 0);
    /* The control: the same datagram from the peer is taken. */
    inject_udp(&x, &peer, &ll, 7000);
    assert_int_equal(r.count, 1);
    /* And ::1 to ::1 through the queue. */
    assert_int_equal(oasis_udp_send(x.s, 7001, &x.lo, 7000, "q", 1), 0);
    oasis_stack_poll(x.s);
    assert_int_equal(r.count, 2);
    assert_int_equal(v6c(&x)->in_hdr_errors, hdr + 3);
    fx_fini(&x);
}

/* ---- ICMPv6 ---- */

typedef struct uerr {
    int count, err;
} uerr;

static void on_uerr(oasis_stack *s, const oasis_udp_error *e, void *ud)
{
    (void)s;
    uerr *u = ud;
    u->count++;
    u->err = e->err;
}

static void on_udp_none(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport,
                        const oasis_ipaddr *dst, uint16_t dport, const uint8_t *d, size_t len,
                        void *ud)
{
    (void)s, (void)src, (void)sport, (void)dst, (void)dport, (void)d, (void)len, (void)ud;
    fail_msg("nothing is bound where this went");
}

/* A closed port on ::1 or on our address answers with a port unreachable
 * through the queue, and the sending port's error callback hears it: the
 * quoted ::1 is ours when the error comes from ::1 (never from a link). */
static void test_port_unreachable(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, 0);
    uerr u;
    memset(&u, 0, sizeof u);
    assert_int_equal(oasis_udp_bind(x.s, 7001, on_udp_none, &u), 0);
    assert_int_equal(oasis_udp_set_error_cb(x.s, 7001, on_uerr), 0);
    const oasis_ipaddr *to[2] = {&x.lo, &x.global};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(oasis_udp_send(x.s, 7001, to[i], 9, "x", 1), 0);
        assert_int_equal(u.count, i);
        test_advance(x.s, x.clock, 1000);
        assert_int_equal(u.count, i + 1);
        assert_int_equal(u.err, OASIS_EREFUSED);
    }
    assert_int_equal(oasis_stack_counters(x.s)->icmp6.in_errors_unowned, 0);
    assert_int_equal(transport_frames(&x), 0);
    fx_fini(&x);
}

/* RFC 4443 3.1 code 4 from a node on the link (peer's link-local) to
 * our global address, quoting a UDP datagram from our port 7001 to qdst
 * port 9. */
static void inject_port_unreach(fx *x, const oasis_in6 *qdst)
{
    uint8_t f[14 + 40 + 8 + 40 + 8];
    memcpy(f, MAC_US, 6);
    memcpy(f + 6, MAC_PEER, 6);
    f[12] = 0x86;
    f[13] = 0xdd;
    oasis_ipv6_hdr h, q;
    memset(&h, 0, sizeof h);
    h.payload_len = 8 + 40 + 8;
    h.next = OASIS_NH_ICMPV6;
    h.hop_limit = 64;
    memcpy(h.src.b, x->ll.b, 16);
    h.src.b[15] ^= 0x55;
    memcpy(h.dst.b, x->global.b, 16);
    oasis_ipv6_emit(f + 14, &h);
    memset(&q, 0, sizeof q);
    q.payload_len = 9;
    q.next = OASIS_IPPROTO_UDP;
    q.hop_limit = 64;
    memcpy(q.src.b, x->global.b, 16);
    q.dst = *qdst;
    uint8_t *m = f + 54;
    oasis_ipv6_emit(m + 8, &q);
    uint8_t *u = m + 48;
    u[0] = 7001 >> 8, u[1] = 7001 & 0xff, u[2] = 0, u[3] = 9, u[4] = 0, u[5] = 9, u[6] = 0,
    u[7] = 0;
    oasis_icmp6_finish(m, 8 + 40 + 8, OASIS_ICMP6_DEST_UNREACH, 4, 0, &h.src, &h.dst);
    oasis_stack_input(x->s, f, sizeof f);
}

/* A packet to ourselves never takes the link, so an error about one that
 * comes from the link is forged: dropped and counted, the sending port
 * hears nothing. The same error quoting a datagram to a peer reaches it. */
static void test_forged_error_about_loopback(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, 0);
    uerr u;
    memset(&u, 0, sizeof u);
    assert_int_equal(oasis_udp_bind(x.s, 7001, on_udp_none, &u), 0);
    assert_int_equal(oasis_udp_set_error_cb(x.s, 7001, on_uerr), 0);
    oasis_in6 self, lo, far = {{0x20, 0x01, 0x0d, 0xb8, [15] = 0x77}};
    memcpy(self.b, x.global.b, 16);
    memcpy(lo.b, x.lo.b, 16);
    uint64_t unowned = oasis_stack_counters(x.s)->icmp6.in_errors_unowned;
    inject_port_unreach(&x, &self);
    inject_port_unreach(&x, &lo);
    test_advance(x.s, x.clock, 1000);
    assert_int_equal(u.count, 0);
    assert_int_equal(oasis_stack_counters(x.s)->icmp6.in_errors_unowned, unowned + 2);
    inject_port_unreach(&x, &far); /* the control */
    test_advance(x.s, x.clock, 1000);
    assert_int_equal(u.count, 1);
    assert_int_equal(u.err, OASIS_EREFUSED);
    fx_fini(&x);
}

typedef struct pong {
    int count, err;
} pong;

static void on_pong(oasis_stack *s, int err, uint16_t seq, uint64_t rtt_ns, void *ud)
{
    (void)s, (void)seq, (void)rtt_ns;
    pong *p = ud;
    p->count++;
    p->err = err;
}

/* Echo to ::1 and to our own addresses: answered by ourselves. */
static void test_ping_self(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, 0);
    pong p;
    memset(&p, 0, sizeof p);
    const oasis_ipaddr *to[3] = {&x.lo, &x.global, &x.ll};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(oasis_ping_addr(x.s, to[i], 1, (uint16_t)i, 56, SEC, on_pong, &p), 0);
        assert_int_equal(p.count, i);
        test_advance(x.s, x.clock, 1000);
        assert_int_equal(p.count, i + 1);
        assert_int_equal(p.err, 0);
    }
    assert_int_equal(oasis_stack_counters(x.s)->icmp6.in_echos, 3);
    fx_fini(&x);
}

/* ---- multicast ---- */

/* RFC 3493 5.2 IPV6_MULTICAST_LOOP, on by default: a datagram to a group
 * we joined goes onto the link and, from the next poll, to our own port;
 * off for the sending port, only onto the link. ff02::1 likewise. */
static void test_multicast_loop(void **state)
{
    (void)state;
    fx x;
    urx r;
    fx_init_udp(&x, &r);
    assert_int_equal(oasis_udp_bind(x.s, 7001, on_udp, &r), 0); /* the sending port */
    oasis_ipaddr g, all;
    assert_int_equal(oasis_ipaddr_parse("ff02::1:2345", &g), 0);
    assert_int_equal(oasis_ipaddr_parse("ff02::1", &all), 0);
    assert_int_equal(oasis_ipv6_join(x.s, &g), 0);
    test_advance(x.s, x.clock, 5 * SEC); /* its MLD reports go */
    x.cap.n = 0;

    r.sending = 1;
    assert_int_equal(oasis_udp_send(x.s, 7001, &g, 7000, "g", 1), 0);
    r.sending = 0;
    assert_int_equal(transport_frames(&x), 1); /* the original: on the link at once */
    assert_int_equal(r.count, 0);
    oasis_stack_poll(x.s);
    assert_int_equal(r.count, 1);
    assert_true(oasis_ipaddr_eq(&r.dst, &g));
    assert_true(oasis_ipaddr_eq(&r.src, &x.ll)); /* link scope: from the link-local */
    r.sending = 1;
    assert_int_equal(oasis_udp_send(x.s, 7001, &all, 7000, "a", 1), 0);
    r.sending = 0;
    oasis_clock_advance(x.clock, 1);
    oasis_stack_poll(x.s);
    assert_int_equal(r.count, 2);
    assert_true(oasis_ipaddr_eq(&r.dst, &all));
    /* A group we did not join: the link only. */
    oasis_ipaddr other;
    assert_int_equal(oasis_ipaddr_parse("ff02::1:6789", &other), 0);
    assert_int_equal(oasis_udp_send(x.s, 7001, &other, 7000, "o", 1), 0);
    oasis_clock_advance(x.clock, 1);
    oasis_stack_poll(x.s);
    assert_int_equal(r.count, 2);

    /* Off for port 7001: the link only. */
    assert_int_equal(oasis_udp_set_multicast_loop(x.s, 7001, 0), 0);
    x.cap.n = 0;
    assert_int_equal(oasis_udp_send(x.s, 7001, &g, 7000, "g", 1), 0);
    assert_int_equal(oasis_udp_send(x.s, 7001, &all, 7000, "a", 1), 0);
    assert_int_equal(transport_frames(&x), 2);
    oasis_clock_advance(x.clock, 1);
    oasis_stack_poll(x.s);
    assert_int_equal(r.count, 2);
    /* On again. */
    assert_int_equal(oasis_udp_set_multicast_loop(x.s, 7001, 1), 0);
    assert_int_equal(oasis_udp_send(x.s, 7001, &g, 7000, "g", 1), 0);
    oasis_clock_advance(x.clock, 1);
    oasis_stack_poll(x.s);
    assert_int_equal(r.count, 3);
    assert_int_equal(v6c(&x)->loop_tx_packets, 3);
    assert_int_equal(v6c(&x)->loop_rx_packets, 3);
    fx_fini(&x);
}

/* Frames on the link to an IPv6 multicast group of scope 0 or 1. */
static size_t node_scope_frames(const fx *x)
{
    size_t n = 0;
    for (size_t i = 0; i < x->cap.n; i++) {
        const uint8_t *f = x->cap.frame[i];
        if (x->cap.len[i] >= 54 && f[12] == 0x86 && f[13] == 0xdd && f[14 + 24] == 0xff &&
            (f[14 + 25] & 0x0f) <= 1)
            n++;
    }
    return n;
}

/* RFC 4291 2.7: interface-local scope "is useful only for loopback
 * transmission of multicast": a datagram to ff01::1 (all nodes, which
 * every node recognizes: 2.8) reaches our own port through the queue and
 * never the link; to an interface-local group we are not in, nowhere;
 * with the port's loop off, nowhere either. */
static void test_interface_local_stays(void **state)
{
    (void)state;
    fx x;
    urx r;
    fx_init_udp(&x, &r);
    assert_int_equal(oasis_udp_bind(x.s, 7001, on_udp, &r), 0);
    oasis_ipaddr all1, other1;
    assert_int_equal(oasis_ipaddr_parse("ff01::1", &all1), 0);
    assert_int_equal(oasis_ipaddr_parse("ff01::1234", &other1), 0);
    x.cap.n = 0;
    r.sending = 1;
    assert_int_equal(oasis_udp_send(x.s, 7001, &all1, 7000, "i", 1), 0);
    r.sending = 0;
    oasis_stack_poll(x.s);
    assert_int_equal(r.count, 1);
    assert_true(oasis_ipaddr_eq(&r.dst, &all1));
    assert_string_equal(r.data, "i");
    assert_int_equal(oasis_udp_send(x.s, 7001, &other1, 7000, "o", 1), 0);
    oasis_clock_advance(x.clock, 1);
    oasis_stack_poll(x.s);
    assert_int_equal(r.count, 1);
    assert_int_equal(oasis_udp_set_multicast_loop(x.s, 7001, 0), 0);
    assert_int_equal(oasis_udp_send(x.s, 7001, &all1, 7000, "n", 1), 0);
    oasis_clock_advance(x.clock, 1);
    oasis_stack_poll(x.s);
    assert_int_equal(r.count, 1);
    test_advance(x.s, x.clock, SEC);
    assert_int_equal(node_scope_frames(&x), 0);
    assert_int_equal(transport_frames(&x), 0);
    fx_fini(&x);
}

/* RFC 4291 2.7: nodes "must not originate a packet to a multicast address
 * whose scop field contains the reserved value 0": refused, counted,
 * nothing sent or looped. */
static void test_scope_zero_refused(void **state)
{
    (void)state;
    fx x;
    urx r;
    fx_init_udp(&x, &r);
    oasis_ipaddr z;
    assert_int_equal(oasis_ipaddr_parse("ff00::1", &z), 0);
    uint64_t disc = v6c(&x)->out_discards;
    assert_int_equal(oasis_udp_send(x.s, 7001, &z, 7000, "z", 1), OASIS_EINVAL);
    assert_int_equal(v6c(&x)->out_discards, disc + 1);
    test_advance(x.s, x.clock, SEC);
    assert_int_equal(r.count, 0);
    assert_int_equal(node_scope_frames(&x), 0);
    fx_fini(&x);
}

/* From a link, scope 0 "must be silently dropped" (RFC 4291 2.7) and an
 * interface-local destination discarded (erratum 3480): counted as not
 * ours; the same datagram to ff02::1 is taken. */
static void test_node_scope_from_link_dropped(void **state)
{
    (void)state;
    fx x;
    urx r;
    fx_init_udp(&x, &r);
    oasis_in6 peer, all1 = {{0xff, 1, [15] = 1}}, zero = {{0xff, 0, [15] = 1}},
                    all2 = {{0xff, 2, [15] = 1}};
    memcpy(peer.b, x.ll.b, 16);
    peer.b[15] ^= 0x55;
    uint64_t addr = v6c(&x)->in_addr_errors;
    inject_udp(&x, &peer, &all1, 7000);
    inject_udp(&x, &peer, &zero, 7000);
    oasis_stack_poll(x.s);
    assert_int_equal(r.count, 0);
    assert_int_equal(v6c(&x)->in_addr_errors, addr + 2);
    inject_udp(&x, &peer, &all2, 7000);
    assert_int_equal(r.count, 1);
    fx_fini(&x);
}

/* An echo reply from peer to us (id 1, seq). */
static void inject_echo_reply(fx *x, const oasis_in6 *peer, uint16_t seq)
{
    uint8_t f[14 + 40 + 8];
    memcpy(f, MAC_US, 6);
    memcpy(f + 6, MAC_PEER, 6);
    f[12] = 0x86;
    f[13] = 0xdd;
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.payload_len = 8;
    h.next = OASIS_NH_ICMPV6;
    h.hop_limit = 64;
    h.src = *peer;
    memcpy(h.dst.b, x->ll.b, 16);
    oasis_ipv6_emit(f + 14, &h);
    oasis_icmp6_finish(f + 54, 8, OASIS_ICMP6_ECHO_REPLY, 0, 1u << 16 | seq, &h.src, &h.dst);
    oasis_stack_input(x->s, f, sizeof f);
}

/* RFC 4443 4.2: a node answers an echo request to a group it is in, and
 * so do we to our own (IPV6_MULTICAST_LOOP, on by default): a ping to
 * ff02::1 goes onto the link and is answered by ourselves from the next
 * poll; the first member's reply completes it, whoever sent it; one to
 * ff01::1 never leaves the node and is answered the same way. A reply from
 * a stranger to a unicast ping completes nothing. */
static void test_ping_group(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, 0);
    pong p;
    memset(&p, 0, sizeof p);
    oasis_ipaddr all2, all1;
    assert_int_equal(oasis_ipaddr_parse("ff02::1", &all2), 0);
    assert_int_equal(oasis_ipaddr_parse("ff01::1", &all1), 0);
    assert_int_equal(oasis_ping_addr(x.s, &all2, 1, 0, 8, SEC, on_pong, &p), 0);
    assert_int_equal(x.cap.n, 1); /* the request, on the link */
    assert_int_equal(p.count, 0);
    test_advance(x.s, x.clock, 1000);
    assert_int_equal(p.count, 1);
    assert_int_equal(p.err, 0);
    uint64_t echos = oasis_stack_counters(x.s)->icmp6.in_echos;

    oasis_in6 peer;
    memcpy(peer.b, x.ll.b, 16);
    peer.b[15] ^= 0x55;
    assert_int_equal(oasis_ping_addr(x.s, &all2, 1, 1, 8, SEC, on_pong, &p), 0);
    inject_echo_reply(&x, &peer, 1); /* before our own copy is polled */
    assert_int_equal(p.count, 2);
    assert_int_equal(p.err, 0);
    test_advance(x.s, x.clock, 1000); /* our own answer finds nothing left */
    assert_int_equal(p.count, 2);

    x.cap.n = 0;
    assert_int_equal(oasis_ping_addr(x.s, &all1, 1, 2, 8, SEC, on_pong, &p), 0);
    test_advance(x.s, x.clock, 1000);
    assert_int_equal(p.count, 3);
    assert_int_equal(p.err, 0);
    assert_int_equal(node_scope_frames(&x), 0);
    assert_int_equal(oasis_stack_counters(x.s)->icmp6.in_echos, echos + 2);

    oasis_ipaddr far;
    assert_int_equal(oasis_ipaddr_parse("2001:db8::77", &far), 0);
    assert_int_equal(oasis_ping_addr(x.s, &far, 1, 3, 8, SEC, on_pong, &p), 0);
    inject_echo_reply(&x, &peer, 3);
    assert_int_equal(p.count, 3);
    test_advance(x.s, x.clock, 2 * SEC);
    assert_int_equal(p.count, 4);
    assert_int_equal(p.err, OASIS_ETIMEDOUT);
    fx_fini(&x);
}

/* ---- TCP ---- */

typedef struct app {
    oasis_flow *server, *client;
    int connected, connect_err, accepted;
    uint8_t *rx;
    size_t rx_len, want;
    uint8_t *echo_buf;
    int done, eof, closed;
    int in_call;
} app;

static void srv_read(oasis_flow *fl, int err, const uint8_t *d, size_t len, void *ud);

static void srv_wrote(oasis_flow *fl, int err, void *ud)
{
    assert_int_equal(err, 0);
    assert_int_equal(oasis_tcp_read(fl, srv_read, ud), 0);
}

/* Echo: one read, write it back, read again after the write completed;
 * at the client's FIN, close. */
static void srv_read(oasis_flow *fl, int err, const uint8_t *d, size_t len, void *ud)
{
    app *a = ud;
    if (err) {
        a->eof = 1;
        oasis_tcp_close(fl, NULL, NULL);
        a->server = NULL;
        return;
    }
    memcpy(a->echo_buf, d, len);
    assert_int_equal(oasis_tcp_write(fl, a->echo_buf, len, srv_wrote, a), 0);
}

static void on_accept(oasis_stack *s, oasis_flow *fl, void *ud)
{
    (void)s;
    app *a = ud;
    assert_false(a->in_call);
    a->accepted++;
    a->server = fl;
    assert_int_equal(oasis_tcp_read(fl, srv_read, a), 0);
}

static void cli_read(oasis_flow *fl, int err, const uint8_t *d, size_t len, void *ud)
{
    app *a = ud;
    if (err)
        return;
    memcpy(a->rx + a->rx_len, d, len);
    a->rx_len += len;
    if (a->rx_len == a->want)
        a->done = 1;
    else
        assert_int_equal(oasis_tcp_read(fl, cli_read, a), 0);
}

static void on_connect(oasis_stack *s, oasis_flow *fl, int err, void *ud)
{
    (void)s;
    (void)fl;
    app *a = ud;
    assert_false(a->in_call);
    a->connected = 1;
    a->connect_err = err;
}

static void on_closed(oasis_flow *fl, int err, void *ud)
{
    (void)fl;
    (void)err;
    ((app *)ud)->closed = 1;
}

/* Polls, the clock jumping to each deadline, until *flag (or fails). */
static void run_until(fx *x, const int *flag, uint64_t limit_ns)
{
    uint64_t end = oasis_clock_now(x->clock) + limit_ns;
    for (;;) {
        oasis_stack_poll(x->s);
        if (*flag)
            return;
        uint64_t d = oasis_stack_next_deadline(x->s);
        assert_true(d <= end);
        if (d > oasis_clock_now(x->clock))
            oasis_clock_set(x->clock, d);
    }
}

/* Listen (on listen_on, or every address), connect to dst, n bytes echoed,
 * the client closes, the server follows: every segment through the queue,
 * the link's offloads (checksum, super-segments) never asked. */
static void tcp_echo(const oasis_ipaddr *(*pick)(fx *), int offload, int bound, size_t n)
{
    fx x;
    fx_init(&x, offload);
    const oasis_ipaddr *dst = pick(&x);
    app a;
    memset(&a, 0, sizeof a);
    a.want = n;
    a.rx = malloc(n);
    a.echo_buf = malloc(n);
    uint8_t *tx = malloc(n);
    assert_non_null(a.rx);
    assert_non_null(a.echo_buf);
    assert_non_null(tx);
    for (size_t i = 0; i < n; i++)
        tx[i] = (uint8_t)(i * 7 + (i >> 8));
    oasis_listen_opts lo;
    memset(&lo, 0, sizeof lo);
    if (bound)
        lo.local = *dst;
    assert_int_equal(oasis_tcp_listen(x.s, 7, &lo, on_accept, &a), 0);
    a.in_call = 1;
    assert_int_equal(oasis_tcp_connect_flow(x.s, dst, 7, NULL, on_connect, &a, &a.client), 0);
    a.in_call = 0;
    assert_int_equal(v6c(&x)->loop_rx_packets, 0); /* the SYN waits for the poll */
    assert_int_equal(oasis_tcp_write(a.client, tx, n, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_read(a.client, cli_read, &a), 0);
    run_until(&x, &a.done, 60 * SEC);
    assert_int_equal(a.connect_err, 0);
    assert_int_equal(a.accepted, 1);
    assert_memory_equal(a.rx, tx, n);

    oasis_ipaddr la, ra;
    uint16_t lp, rp;
    oasis_tcp_src(a.client, &la, &lp);
    oasis_tcp_dst(a.client, &ra, &rp);
    assert_true(oasis_ipaddr_eq(&la, dst));
    assert_true(oasis_ipaddr_eq(&ra, dst));
    assert_int_equal(rp, 7);
    oasis_tcp_src(a.server, &la, &lp);
    assert_true(oasis_ipaddr_eq(&la, dst));
    assert_int_equal(lp, 7);
    /* As IPv4's loopback: the link's MTU sizes segments. */
    oasis_tcp_info info;
    assert_int_equal(oasis_tcp_get_info(a.client, &info), 0);
    assert_int_equal(info.mss_recv, 1500 - 40 - 20);
    assert_int_equal(info.mss_send, 1500 - 40 - 20);

    const oasis_counters *c = oasis_stack_counters(x.s);
    assert_int_equal(c->tcp.active_opens, 1);
    assert_int_equal(c->tcp.passive_opens, 1);
    assert_int_equal(c->tcp.in_errs, 0); /* every checksum was whole */
    assert_true(c->ipv6.loop_tx_packets > 4);
    assert_int_equal(c->ipv6.loop_rx_packets, c->ipv6.loop_tx_packets);
    assert_int_equal(transport_frames(&x), 0);
    assert_int_equal(x.offload_sends, 0);
    assert_int_equal(c->tcp.out_rsts, 0);

    a.in_call = 1;
    assert_int_equal(oasis_tcp_close(a.client, on_closed, &a), 0);
    a.in_call = 0;
    run_until(&x, &a.closed, 300 * SEC);
    assert_int_equal(a.eof, 1);
    test_advance(x.s, x.clock, 300 * SEC); /* TIME-WAIT passes */
    assert_int_equal(c->tcp.curr_estab, 0);
    assert_int_equal(c->tcp.out_rsts, 0);
    assert_int_equal(transport_frames(&x), 0);
    free(a.rx);
    free(a.echo_buf);
    free(tx);
    fx_fini(&x);
}

static const oasis_ipaddr *pick_lo(fx *x) { return &x->lo; }
static const oasis_ipaddr *pick_global(fx *x) { return &x->global; }
static const oasis_ipaddr *pick_ll(fx *x) { return &x->ll; }

static void test_tcp_lo(void **state)
{
    (void)state;
    tcp_echo(pick_lo, 0, 0, 200000);
    tcp_echo(pick_lo, 0, 1, 5000); /* a listener on ::1 alone */
}

static void test_tcp_own_global(void **state)
{
    (void)state;
    tcp_echo(pick_global, 0, 0, 200000);
    tcp_echo(pick_global, 0, 1, 5000);
}

static void test_tcp_own_link_local(void **state)
{
    (void)state;
    tcp_echo(pick_ll, 0, 0, 50000);
}

/* A link with checksum offload and TSO6: loopback completes the partial
 * checksums and keeps super-segments whole, as IPv4's does. */
static void test_tcp_offload_link(void **state)
{
    (void)state;
    tcp_echo(pick_lo, 1, 0, 300000);
    tcp_echo(pick_global, 1, 0, 300000);
}

/* A closed port on ::1 answers with RST, through the queue: refused. */
static void test_tcp_refused(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, 0);
    app a;
    memset(&a, 0, sizeof a);
    a.in_call = 1;
    assert_int_equal(oasis_tcp_connect(x.s, &x.lo, 9, NULL, on_connect, &a), 0);
    a.in_call = 0;
    run_until(&x, &a.connected, 10 * SEC);
    assert_int_equal(a.connect_err, OASIS_EREFUSED);
    assert_int_equal(transport_frames(&x), 0);
    fx_fini(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp_to_lo),
        cmocka_unit_test(test_udp_to_own_addresses),
        cmocka_unit_test(test_tentative_not_looped),
        cmocka_unit_test(test_wire_lo_dropped),
        cmocka_unit_test(test_lo_never_to_router),
        cmocka_unit_test(test_port_unreachable),
        cmocka_unit_test(test_forged_error_about_loopback),
        cmocka_unit_test(test_ping_self),
        cmocka_unit_test(test_multicast_loop),
        cmocka_unit_test(test_interface_local_stays),
        cmocka_unit_test(test_scope_zero_refused),
        cmocka_unit_test(test_node_scope_from_link_dropped),
        cmocka_unit_test(test_ping_group),
        cmocka_unit_test(test_tcp_lo),
        cmocka_unit_test(test_tcp_own_global),
        cmocka_unit_test(test_tcp_own_link_local),
        cmocka_unit_test(test_tcp_offload_link),
        cmocka_unit_test(test_tcp_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
