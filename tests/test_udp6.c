/* UDP over IPv6 (issue 14) and the dual-family UDP API: exchange between
 * two stacks on both families, the mandatory checksum (RFC 8200 8.1: zero
 * dropped and counted, a computed zero sent as 0xffff), hand-built
 * datagrams with every truncation and lying length, port unreachable over
 * ICMPv6 (never to multicast), ICMP and ICMPv6 errors reaching the bound
 * port's error callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/bytes.h"
#include "core/checksum.h"
#include "core/stack_impl.h"
#include "ipv6/icmp6_wire.h"
#include "ipv6/ipv6.h"
#include "ipv6/ipv6_wire.h"
#include "ipv6/nd_wire.h"
#include "link/eth_wire.h"
#include "oasis/link.h"
#include "oasis/error.h"
#include "oasis/ipv6.h"
#include "oasis/oasis.h"
#include "oasis/udp.h"
#include "caplink.h"
#include "testutil.h"
#include "udp/udp_wire.h"

#define SEC OASIS_NS_PER_SEC

typedef struct rx {
    int count;
    oasis_ipaddr src, dst;
    uint16_t sport, dport;
    size_t len;
    uint8_t data[256];
    int echo;
    int errs;
    oasis_udp_error err;
} rx;

static void on_recv(oasis_stack *s, const oasis_ipaddr *src, uint16_t sp, const oasis_ipaddr *dst,
                    uint16_t dp, const uint8_t *d, size_t n, void *ud)
{
    rx *r = ud;
    r->count++;
    r->src = *src;
    r->dst = *dst;
    r->sport = sp;
    r->dport = dp;
    r->len = n;
    if (n <= sizeof r->data)
        memcpy(r->data, d, n);
    if (r->echo)
        assert_int_equal(oasis_udp_send(s, dp, src, sp, d, n), 0);
}

static void on_recv4(oasis_stack *s, uint32_t src, uint16_t sp, uint32_t dst, uint16_t dp,
                     const uint8_t *d, size_t n, void *ud)
{
    oasis_ipaddr a = oasis_ipaddr_v4(src), b = oasis_ipaddr_v4(dst);
    on_recv(s, &a, sp, &b, dp, d, n, ud);
}

static void on_err(oasis_stack *s, const oasis_udp_error *e, void *ud)
{
    rx *r = ud;
    (void)s;
    r->errs++;
    r->err = *e;
}

/* ---- two stacks on the wire, both families ---- */

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

static void test_exchange_both_families(void **state)
{
    (void)state;
    test_net n;
    net6_init(&n);
    oasis_wire_run(n.wire, never, NULL, 3 * SEC); /* DAD */
    oasis_ipaddr la = test_link_local(n.a), lb = test_link_local(n.b);
    rx ra, rb;
    memset(&ra, 0, sizeof ra);
    memset(&rb, 0, sizeof rb);
    rb.echo = 1;
    assert_int_equal(oasis_udp_bind(n.a, 4000, on_recv, &ra), 0);
    assert_int_equal(oasis_udp_bind(n.b, 7, on_recv, &rb), 0);

    /* IPv6 there and back: the callback sees IPv6 addresses. */
    assert_int_equal(oasis_udp_send(n.a, 4000, &lb, 7, "hello6", 6), 0);
    test_net_run_until(&n, &ra.count, 5 * SEC);
    assert_int_equal(rb.count, 1);
    assert_true(oasis_ipaddr_eq(&rb.src, &la));
    assert_true(oasis_ipaddr_eq(&rb.dst, &lb));
    assert_int_equal(rb.sport, 4000);
    assert_int_equal(ra.count, 1);
    assert_true(oasis_ipaddr_eq(&ra.src, &lb));
    assert_int_equal(ra.sport, 7);
    assert_int_equal(ra.len, 6);
    assert_memory_equal(ra.data, "hello6", 6);
    const oasis_counters *ca = oasis_stack_counters(n.a), *cb = oasis_stack_counters(n.b);
    assert_int_equal(cb->udp6.in_datagrams, 1);
    assert_int_equal(cb->udp6.out_datagrams, 1);
    assert_int_equal(ca->udp6.out_datagrams, 1);
    assert_int_equal(ca->udp6.in_datagrams, 1);
    assert_int_equal(cb->udp.in_datagrams, 0);

    /* The same binds take IPv4. */
    oasis_ipaddr b4 = oasis_ipaddr_v4(TEST_ADDR_B), a4 = oasis_ipaddr_v4(TEST_ADDR_A);
    ra.count = 0;
    assert_int_equal(oasis_udp_send(n.a, 4000, &b4, 7, "hello4", 6), 0);
    test_net_run_until(&n, &ra.count, 5 * SEC);
    assert_int_equal(rb.count, 2);
    assert_true(oasis_ipaddr_eq(&rb.src, &a4));
    assert_true(oasis_ipaddr_eq(&ra.src, &b4));
    assert_int_equal(cb->udp.in_datagrams, 1);
    assert_int_equal(cb->udp6.in_datagrams, 1);

    /* A bind4 port is IPv4 only: IPv6 to it is to no port, and the
     * ICMPv6 port unreachable reaches a's socket as OASIS_EREFUSED. */
    rx r4;
    memset(&r4, 0, sizeof r4);
    assert_int_equal(oasis_udp_bind4(n.b, 9, on_recv4, &r4), 0);
    assert_int_equal(oasis_udp_set_error_cb(n.a, 4000, on_err), 0);
    assert_int_equal(oasis_udp_set_error_cb(n.a, 4001, on_err), OASIS_ENOENT);
    assert_int_equal(oasis_udp_send(n.a, 4000, &lb, 9, "x", 1), 0);
    test_net_run_until(&n, &ra.errs, 5 * SEC);
    assert_int_equal(r4.count, 0);
    assert_int_equal(cb->udp6.no_ports, 1);
    assert_int_equal(cb->icmp6.out_dest_unreachs, 1);
    assert_int_equal(ra.errs, 1);
    assert_int_equal(ra.err.err, OASIS_EREFUSED);
    assert_int_equal(ra.err.family, OASIS_AF_INET6);
    assert_int_equal(ra.err.type, OASIS_ICMP6_DEST_UNREACH);
    assert_int_equal(ra.err.code, OASIS_ICMP6_DU_PORT);
    assert_int_equal(ra.err.src_port, 4000);
    assert_int_equal(ra.err.dst_port, 9);
    assert_true(oasis_ipaddr_eq(&ra.err.dst, &lb));
    assert_true(oasis_ipaddr_eq(&ra.err.reporter, &lb));
    assert_int_equal(ca->udp6.icmp_errors, 1);

    /* Over IPv4 the bind4 port takes it; an unbound port's ICMP port
     * unreachable reaches the socket the same way. */
    assert_int_equal(oasis_udp_send(n.a, 4000, &b4, 9, "y", 1), 0);
    test_net_run_until(&n, &r4.count, 5 * SEC);
    assert_int_equal(r4.count, 1);
    assert_true(oasis_ipaddr_eq(&r4.src, &a4));
    assert_int_equal(oasis_udp_send4(n.a, 4000, TEST_ADDR_B, 10, "z", 1), 0);
    test_net_run_until(&n, &ra.errs, 5 * SEC);
    oasis_wire_run(n.wire, never, NULL, SEC);
    assert_int_equal(ra.errs, 2);
    assert_int_equal(ra.err.err, OASIS_EREFUSED);
    assert_int_equal(ra.err.family, OASIS_AF_INET);
    assert_int_equal(ra.err.dst_port, 10);
    assert_true(oasis_ipaddr_eq(&ra.err.dst, &b4));
    assert_int_equal(ca->udp.icmp_errors, 1);

    /* Unbound, an error has no taker: counted. */
    assert_int_equal(oasis_udp_send(n.a, 4000, &lb, 11, "w", 1), 0);
    assert_int_equal(oasis_udp_unbind(n.a, 4000), 0);
    oasis_wire_run(n.wire, never, NULL, SEC);
    assert_int_equal(ra.errs, 2);
    assert_int_equal(ca->udp6.icmp_no_port, 1);
    test_net_fini(&n);
}

static void test_api_errors(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL); /* IPv6 off */
    oasis_ipaddr d6, none;
    memset(&none, 0, sizeof none);
    assert_int_equal(oasis_ipaddr_parse("2001:db8::1", &d6), 0);
    assert_int_equal(oasis_udp_send(n.a, 1, &d6, 2, "x", 1), OASIS_ENOROUTE);
    assert_int_equal(oasis_udp_send(n.a, 1, &none, 2, "x", 1), OASIS_EINVAL);
    assert_int_equal(oasis_udp_send(n.a, 1, NULL, 2, "x", 1), OASIS_EINVAL);
    assert_int_equal(oasis_udp_send(n.a, 0, &d6, 2, "x", 1), OASIS_EINVAL);
    assert_int_equal(oasis_udp_bind(n.a, 5, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_udp_bind4(n.a, 5, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_udp_bind4(n.a, 5, on_recv4, NULL), 0);
    assert_int_equal(oasis_udp_bind(n.a, 5, on_recv, NULL), OASIS_EADDRINUSE);
    static uint8_t big[65528];
    assert_int_equal(oasis_udp_send(n.a, 1, &d6, 2, big, sizeof big), OASIS_EMSGSIZE);
    test_net_fini(&n);
}

/* ---- one stack on a capturing link: hand-built datagrams ---- */

#define MAXF 32
typedef struct fx {
    oasis_clock *clock;
    oasis_stack *s;
    test_cap cap;
} fx;

static const uint8_t MAC_PEER[6] = {2, 0, 0, 0, 0, 0x22};
static const oasis_in6 PEER = {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x22}};

static void advance(fx *x, uint64_t ns) { test_advance(x->s, x->clock, ns); }

static void fx_start(fx *x)
{
    memset(x, 0, sizeof *x);
    oasis_stack_config cfg;
    x->clock = oasis_clock_new_virtual(1000 * SEC);
    test_stack_config(&cfg, x->clock, 1);
    cfg.arp_gratuitous = 0;
    cfg.ipv6 = 1;
    assert_int_equal(oasis_stack_create(&cfg, &x->s), 0);
    test_cap_attach(&x->cap, x->s, MAXF, 1500);
    advance(x, 3 * SEC); /* link-local DAD */
    x->cap.n = 0;
}

static void fx_stop(fx *x)
{
    oasis_stack_destroy(x->s);
    test_cap_fini(&x->cap);
    oasis_clock_free(x->clock);
}

static oasis_in6 ll_of(fx *x)
{
    oasis_ipaddr a = test_link_local(x->s);
    oasis_in6 r;
    memcpy(r.b, a.b, 16);
    return r;
}

/* The RFC 8200 8.1 checksum of a UDP datagram, computed here from first
 * principles (pseudo-header written out byte by byte). */
static uint16_t ref_csum(const oasis_in6 *src, const oasis_in6 *dst, const uint8_t *u, size_t n)
{
    uint8_t buf[40 + 512];
    assert_true(n <= 512);
    memcpy(buf, src->b, 16);
    memcpy(buf + 16, dst->b, 16);
    oasis_put32(buf + 32, (uint32_t)n);
    buf[36] = buf[37] = buf[38] = 0;
    buf[39] = 17;
    memcpy(buf + 40, u, n);
    uint32_t sum = 0;
    size_t len = 40 + n;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(buf[i] << 8 | buf[i + 1]);
    if (len & 1)
        sum += (uint32_t)buf[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* A UDP datagram u[0..n) in an IPv6 packet of payload length plen (the
 * IPv6 header may lie about nothing: plen is what the frame holds). */
static void inject_ip6(fx *x, const oasis_in6 *src, const oasis_in6 *dst, uint8_t nh,
                       const uint8_t *u, size_t n)
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
    h.hop_limit = 64;
    h.src = *src;
    h.dst = *dst;
    oasis_ipv6_emit(f + 14, &h);
    memcpy(f + 54, u, n);
    oasis_stack_input(x->s, f, 54 + n);
}

/* Builds a datagram sport -> dport with payload p, its length field ulen
 * (lying when it is not 8 + plen) and a correct checksum over ulen bytes
 * (or csum_override when not -1). Returns the bytes built (8 + plen). */
static size_t build_udp(uint8_t *u, const oasis_in6 *src, const oasis_in6 *dst, uint16_t sport,
                        uint16_t dport, const void *p, size_t plen, uint16_t ulen,
                        int csum_override)
{
    oasis_put16(u, sport);
    oasis_put16(u + 2, dport);
    oasis_put16(u + 4, ulen);
    u[6] = u[7] = 0;
    memcpy(u + 8, p, plen);
    uint16_t c = ref_csum(src, dst, u, ulen <= 8 + plen ? ulen : 8 + plen);
    if (c == 0)
        c = 0xffff;
    oasis_put16(u + 6, csum_override >= 0 ? (uint16_t)csum_override : c);
    return 8 + plen;
}

static size_t frames_icmp6(const fx *x, uint8_t type, uint8_t code)
{
    size_t k = 0;
    for (size_t i = 0; i < x->cap.n; i++) {
        const uint8_t *f = x->cap.frame[i];
        if (x->cap.len[i] >= 56 && oasis_get16(f + 12) == OASIS_ETHERTYPE_IPV6 && f[20] == 58 &&
            f[54] == type && f[55] == code)
            k++;
    }
    return k;
}

static void test_receive_checks(void **state)
{
    (void)state;
    fx x;
    fx_start(&x);
    oasis_in6 us = ll_of(&x);
    rx r;
    memset(&r, 0, sizeof r);
    assert_int_equal(oasis_udp_bind(x.s, 53, on_recv, &r), 0);
    const oasis_udp_counters *c = &oasis_stack_counters(x.s)->udp6;
    uint8_t u[600];

    /* good */
    size_t n = build_udp(u, &PEER, &us, 1234, 53, "query", 5, 13, -1);
    inject_ip6(&x, &PEER, &us, 17, u, n);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.len, 5);
    assert_int_equal(r.src.family, OASIS_AF_INET6);
    assert_memory_equal(r.src.b, PEER.b, 16);
    assert_int_equal(r.sport, 1234);
    assert_int_equal(c->in_datagrams, 1);

    /* RFC 8200 8.1: a zero checksum is dropped and counted. */
    n = build_udp(u, &PEER, &us, 1234, 53, "query", 5, 13, 0);
    inject_ip6(&x, &PEER, &us, 17, u, n);
    assert_int_equal(r.count, 1);
    assert_int_equal(c->zero_csum, 1);
    assert_int_equal(c->in_csum_errors, 1);
    assert_int_equal(c->in_errors, 1);
    /* ... even to an unbound port: no ICMPv6 error for it. */
    n = build_udp(u, &PEER, &us, 1234, 54, "query", 5, 13, 0);
    inject_ip6(&x, &PEER, &us, 17, u, n);
    assert_int_equal(c->zero_csum, 2);
    assert_int_equal(c->no_ports, 0);
    assert_int_equal(frames_icmp6(&x, 1, 4), 0);

    /* A wrong checksum; a checksum over the wrong pseudo-header (another
     * source address) too. */
    n = build_udp(u, &PEER, &us, 1234, 53, "query", 5, 13, -1);
    u[9] ^= 1;
    inject_ip6(&x, &PEER, &us, 17, u, n);
    oasis_in6 other = PEER;
    other.b[15] = 0x23;
    n = build_udp(u, &other, &us, 1234, 53, "query", 5, 13, -1);
    inject_ip6(&x, &PEER, &us, 17, u, n);
    assert_int_equal(r.count, 1);
    assert_int_equal(c->in_csum_errors, 4);

    /* Every truncation of a good datagram: the length field then lies
     * (ETRUNCATED), or the header is cut (ETRUNCATED): never delivered. */
    uint8_t good[8 + 40];
    uint8_t pay[40];
    for (size_t i = 0; i < sizeof pay; i++)
        pay[i] = (uint8_t)(i * 7 + 1);
    n = build_udp(good, &PEER, &us, 1234, 53, pay, sizeof pay, 48, -1);
    uint64_t errs = c->in_errors;
    /* (length 0 never reaches UDP: IPv6 refuses a payload length of 0) */
    for (size_t len = 1; len < n; len++) {
        inject_ip6(&x, &PEER, &us, 17, good, len);
        assert_int_equal(r.count, 1);
        assert_int_equal(c->in_errors, errs + len);
    }
    /* A length field under 8 is malformed. */
    for (uint16_t ul = 0; ul < 8; ul++) {
        n = build_udp(u, &PEER, &us, 1234, 53, "q", 1, ul, 0x1111);
        inject_ip6(&x, &PEER, &us, 17, u, n);
    }
    assert_int_equal(r.count, 1);
    assert_int_equal(c->in_errors, errs + 47 + 8);
    /* A length field shorter than the payload: the rest is padding, the
     * checksum covers ulen bytes only, the datagram is ulen long. */
    n = build_udp(u, &PEER, &us, 1234, 53, "abcdef", 6, 8 + 3, -1);
    inject_ip6(&x, &PEER, &us, 17, u, n);
    assert_int_equal(r.count, 2);
    assert_int_equal(r.len, 3);
    assert_memory_equal(r.data, "abc", 3);

    /* No port: ICMPv6 port unreachable (RFC 4443 3.1 code 4), quoting the
     * packet; to a multicast address, nothing (RFC 4443 2.4 e.3). */
    x.cap.n = 0;
    n = build_udp(u, &PEER, &us, 1234, 99, "q", 1, 9, -1);
    inject_ip6(&x, &PEER, &us, 17, u, n);
    assert_int_equal(c->no_ports, 1);
    advance(&x, SEC); /* the NS for PEER goes first, the error waits on it */
    uint8_t na[32];
    size_t nal = oasis_nd_emit_na(na, &PEER, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE, MAC_PEER);
    uint8_t f[128];
    oasis_eth_emit(f, oasis_stack_mac(x.s), MAC_PEER, OASIS_ETHERTYPE_IPV6);
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.payload_len = (uint16_t)nal;
    h.next = 58;
    h.hop_limit = 255;
    h.src = PEER;
    h.dst = us;
    oasis_ipv6_emit(f + 14, &h);
    memcpy(f + 54, na, nal);
    oasis_icmp6_finish(f + 54, nal, na[0], na[1], oasis_get32(na + 4), &PEER, &us);
    oasis_stack_input(x.s, f, 54 + nal);
    assert_int_equal(frames_icmp6(&x, 1, 4), 1);
    oasis_in6 allnodes = oasis_in6_all_nodes;
    n = build_udp(u, &PEER, &allnodes, 1234, 99, "q", 1, 9, -1);
    inject_ip6(&x, &PEER, &allnodes, 17, u, n);
    assert_int_equal(c->no_ports, 2);
    advance(&x, SEC);
    assert_int_equal(frames_icmp6(&x, 1, 4), 1);
    /* A bound port takes multicast datagrams. */
    n = build_udp(u, &PEER, &allnodes, 1234, 53, "m", 1, 9, -1);
    inject_ip6(&x, &PEER, &allnodes, 17, u, n);
    assert_int_equal(r.count, 3);
    assert_memory_equal(r.dst.b, allnodes.b, 16);
    fx_stop(&x);
}

/* A frame from a checksum-offloading link (virtio NEEDS_CSUM: the field
 * holds only the pseudo-header sum) to a closed port: the ICMPv6 error
 * quotes the datagram with its real checksum, as it would have been on
 * the wire; to an open port it is delivered unverified. */
static void make_peer_known(fx *x, const oasis_in6 *us)
{
    uint8_t ns[32];
    size_t nsl = oasis_nd_emit_ns(ns, us, MAC_PEER);
    uint8_t f[128];
    oasis_eth_emit(f, oasis_stack_mac(x->s), MAC_PEER, OASIS_ETHERTYPE_IPV6);
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.payload_len = (uint16_t)nsl;
    h.next = 58;
    h.hop_limit = 255;
    h.src = PEER;
    h.dst = *us;
    oasis_ipv6_emit(f + 14, &h);
    memcpy(f + 54, ns, nsl);
    oasis_icmp6_finish(f + 54, nsl, ns[0], ns[1], oasis_get32(ns + 4), &PEER, us);
    oasis_stack_input(x->s, f, 54 + nsl);
    x->cap.n = 0;
}

static void test_partial_csum_quote(void **state)
{
    (void)state;
    fx x;
    fx_start(&x);
    oasis_in6 us = ll_of(&x);
    make_peer_known(&x, &us);
    rx r;
    memset(&r, 0, sizeof r);
    assert_int_equal(oasis_udp_bind(x.s, 53, on_recv, &r), 0);
    uint8_t f[200];
    oasis_eth_emit(f, oasis_stack_mac(x.s), MAC_PEER, OASIS_ETHERTYPE_IPV6);
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.payload_len = 8 + 20;
    h.next = 17;
    h.hop_limit = 64;
    h.src = PEER;
    h.dst = us;
    oasis_ipv6_emit(f + 14, &h);
    uint8_t *u = f + 54;
    build_udp(u, &PEER, &us, 1234, 77, "twenty bytes of data", 20, 28, -1);
    uint16_t real = oasis_get16(u + 6);
    uint16_t partial = (uint16_t)~oasis_csum_fold(oasis_ipv6_pseudo_sum(&PEER, &us, 28, 17));
    memcpy(u + 6, &partial, 2);
    assert_true(oasis_get16(u + 6) != real);
    oasis_offload off = {.flags = OASIS_OFFLOAD_CSUM_PARTIAL, .csum_start = 54, .csum_offset = 6};
    oasis_stack_input_offload(x.s, f, 54 + 28, &off);
    assert_int_equal(oasis_stack_counters(x.s)->udp6.no_ports, 1);
    assert_int_equal(frames_icmp6(&x, 1, 4), 1);
    const uint8_t *m = x.cap.frame[0] + 54;
    assert_int_equal(x.cap.len[0], 54 + 8 + 40 + 28);
    assert_memory_equal(m + 8 + 40, u, 6);
    assert_int_equal(oasis_get16(m + 8 + 40 + 6), real);
    assert_memory_equal(m + 8 + 40 + 8, "twenty bytes of data", 20);
    /* to the open port: delivered (the sender vouched for the data) */
    oasis_put16(u + 2, 53);
    oasis_stack_input_offload(x.s, f, 54 + 28, &off);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.len, 20);
    fx_stop(&x);
}

/* What we send: next header 17, the checksum right by an independent
 * computation, and a computed zero sent as 0xffff (RFC 8200 8.1). */
static void test_send_checksum(void **state)
{
    (void)state;
    fx x;
    fx_start(&x);
    oasis_in6 us = ll_of(&x);
    oasis_ipaddr peer = oasis_ipaddr_v6(PEER.b);
    /* Make PEER known (an NS from it leaves a STALE entry): sends go at once. */
    uint8_t ns[32];
    size_t nsl = oasis_nd_emit_ns(ns, &us, MAC_PEER);
    uint8_t f[128];
    oasis_eth_emit(f, oasis_stack_mac(x.s), MAC_PEER, OASIS_ETHERTYPE_IPV6);
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.payload_len = (uint16_t)nsl;
    h.next = 58;
    h.hop_limit = 255;
    h.src = PEER;
    h.dst = us;
    oasis_ipv6_emit(f + 14, &h);
    memcpy(f + 54, ns, nsl);
    oasis_icmp6_finish(f + 54, nsl, ns[0], ns[1], oasis_get32(ns + 4), &PEER, &us);
    oasis_stack_input(x.s, f, 54 + nsl);
    x.cap.n = 0;

    uint8_t zero2[2] = {0, 0};
    assert_int_equal(oasis_udp_send(x.s, 5000, &peer, 53, zero2, 2), 0);
    assert_int_equal(x.cap.n, 1);
    const uint8_t *fr = x.cap.frame[0];
    assert_int_equal(oasis_get16(fr + 12), OASIS_ETHERTYPE_IPV6);
    assert_int_equal(fr[20], 17);
    assert_int_equal(oasis_get16(fr + 18), 10);
    assert_memory_equal(fr + 22, us.b, 16);
    assert_memory_equal(fr + 38, PEER.b, 16);
    const uint8_t *u = fr + 54;
    assert_int_equal(oasis_get16(u), 5000);
    assert_int_equal(oasis_get16(u + 2), 53);
    assert_int_equal(oasis_get16(u + 4), 10);
    uint16_t c0 = oasis_get16(u + 6);
    uint8_t tmp[10];
    memcpy(tmp, u, 10);
    tmp[6] = tmp[7] = 0;
    assert_int_equal(c0, ref_csum(&us, &PEER, tmp, 10));
    /* Payload = that checksum makes the sum 0xffff, the checksum 0: it must
     * go out as 0xffff. */
    uint8_t p[2];
    oasis_put16(p, c0);
    assert_int_equal(oasis_udp_send(x.s, 5000, &peer, 53, p, 2), 0);
    assert_int_equal(x.cap.n, 2);
    assert_int_equal(oasis_get16(x.cap.frame[1] + 54 + 6), 0xffff);
    memcpy(tmp, x.cap.frame[1] + 54, 10);
    tmp[6] = tmp[7] = 0;
    assert_int_equal(ref_csum(&us, &PEER, tmp, 10), 0);
    /* and the wire parser accepts what we send */
    oasis_udp_hdr uh;
    assert_int_equal(oasis_udp_parse6(x.cap.frame[1] + 54, 10, &us, &PEER, 1, &uh), 0);
    assert_int_equal(oasis_stack_counters(x.s)->udp6.out_datagrams, 2);

    /* A large datagram is fragmented (the fragment header follows). */
    static uint8_t big[3000];
    x.cap.n = 0;
    assert_int_equal(oasis_udp_send(x.s, 5000, &peer, 53, big, sizeof big), 0);
    assert_int_equal(x.cap.n, 3);
    assert_int_equal(x.cap.frame[0][20], 44);
    fx_stop(&x);
}

/* RFC 1122 4.1.3.5: the application may choose the source address (here:
 * each of the stack's IPv6 addresses in turn) or leave it to the stack;
 * an address that is not ours, not yet ours (tentative) or of the other
 * family is refused and nothing is sent. */
static const uint8_t *sent_src(fx *x, size_t i) { return x->cap.frame[i] + 22; }

static void on_any(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport, const oasis_ipaddr *dst,
                   uint16_t dport, const uint8_t *data, size_t len, void *ud)
{
    (void)s, (void)src, (void)sport, (void)dst, (void)dport, (void)data, (void)len, (void)ud;
}

/* To a group the hop limit is 1 unless the bound port says otherwise
 * (RFC 3493 5.2's IPV6_MULTICAST_HOPS default); unicast keeps 64. */
static void test_multicast_hops(void **state)
{
    (void)state;
    fx x;
    fx_start(&x);
    oasis_in6 ll = ll_of(&x);
    make_peer_known(&x, &ll);
    oasis_ipaddr group, peer = oasis_ipaddr_v6(PEER.b);
    assert_int_equal(oasis_ipaddr_parse("ff02::fb", &group), 0);
    x.cap.n = 0;
    assert_int_equal(oasis_udp_send(x.s, 5353, &group, 5353, "a", 1), 0);
    assert_int_equal(oasis_udp_bind(x.s, 5353, on_any, NULL), 0);
    assert_int_equal(oasis_udp_set_multicast_hops(x.s, 5353, 255), 0);
    assert_int_equal(oasis_udp_send(x.s, 5353, &group, 5353, "b", 1), 0);
    assert_int_equal(oasis_udp_send(x.s, 5353, &peer, 5353, "c", 1), 0);
    static const uint8_t want[3] = {1, 255, 64};
    assert_int_equal(x.cap.n, 3);
    for (int i = 0; i < 3; i++) {
        oasis_ipv6_hdr h;
        assert_int_equal(oasis_ipv6_parse(x.cap.frame[i] + OASIS_ETH_HLEN,
                                          x.cap.len[i] - OASIS_ETH_HLEN, &h), 0);
        assert_int_equal(h.hop_limit, want[i]);
    }
    fx_stop(&x);
}

static void test_send_from_chosen_source(void **state)
{
    (void)state;
    fx x;
    fx_start(&x);
    oasis_in6 ll = ll_of(&x);
    make_peer_known(&x, &ll);
    oasis_ipaddr peer = oasis_ipaddr_v6(PEER.b);
    oasis_ipaddr g1, g2, stranger, group, unspec, v4;
    assert_int_equal(oasis_ipaddr_parse("2001:db8::1", &g1), 0);
    assert_int_equal(oasis_ipaddr_parse("2001:db8::2", &g2), 0);
    assert_int_equal(oasis_ipaddr_parse("2001:db8::99", &stranger), 0);
    assert_int_equal(oasis_ipaddr_parse("ff02::1", &group), 0);
    assert_int_equal(oasis_ipaddr_parse("::", &unspec), 0);
    v4 = oasis_ipaddr_v4(oasis_stack_addr(x.s));
    assert_int_equal(oasis_ipv6_add_addr(x.s, &g1, 64), 0);
    assert_int_equal(oasis_ipv6_add_addr(x.s, &g2, 64), 0);
    x.cap.n = 0;
    /* Tentative until DAD ends. */
    assert_int_equal(oasis_udp_send_from(x.s, &g1, 5000, &peer, 53, "a", 1), OASIS_EADDRNOTAVAIL);
    assert_int_equal(x.cap.n, 0);
    advance(&x, 3 * SEC);
    make_peer_known(&x, &ll);

    assert_int_equal(oasis_udp_send_from(x.s, &g1, 5000, &peer, 53, "a", 1), 0);
    assert_int_equal(oasis_udp_send_from(x.s, &g2, 5000, &peer, 53, "b", 1), 0);
    assert_int_equal(oasis_udp_send_from(x.s, NULL, 5000, &peer, 53, "c", 1), 0);
    assert_int_equal(oasis_udp_send_from(x.s, &unspec, 5000, &peer, 53, "d", 1), 0);
    assert_int_equal(x.cap.n, 4);
    assert_memory_equal(sent_src(&x, 0), g1.b, 16);
    assert_memory_equal(sent_src(&x, 1), g2.b, 16);
    assert_memory_equal(sent_src(&x, 2), ll.b, 16); /* the stack's pick for a link-local peer */
    assert_memory_equal(sent_src(&x, 3), ll.b, 16);
    /* What was sent checks out against the source it carries. */
    oasis_udp_hdr uh;
    oasis_in6 s1;
    memcpy(s1.b, g1.b, 16);
    assert_int_equal(oasis_udp_parse6(x.cap.frame[0] + 54, 9, &s1, &PEER, 1, &uh), 0);

    x.cap.n = 0;
    assert_int_equal(oasis_udp_send_from(x.s, &stranger, 5000, &peer, 53, "e", 1),
                     OASIS_EADDRNOTAVAIL);
    assert_int_equal(oasis_udp_send_from(x.s, &group, 5000, &peer, 53, "e", 1),
                     OASIS_EADDRNOTAVAIL);
    assert_int_equal(oasis_udp_send_from(x.s, &v4, 5000, &peer, 53, "e", 1), OASIS_EINVAL);
    assert_int_equal(x.cap.n, 0);

    /* IPv4: the stack's one address, or nothing. */
    oasis_ipaddr d4 = oasis_ipaddr_v4(OASIS_IPV4(10, 0, 0, 2));
    oasis_ipaddr other4 = oasis_ipaddr_v4(OASIS_IPV4(10, 0, 0, 77));
    assert_int_equal(oasis_udp_send_from(x.s, &other4, 5000, &d4, 53, "f", 1), OASIS_EADDRNOTAVAIL);
    assert_int_equal(x.cap.n, 0);
    assert_int_equal(oasis_udp_send_from(x.s, &v4, 5000, &d4, 53, "f", 1), 0);
    assert_int_equal(x.cap.n, 1); /* (an ARP request: the datagram waits for it) */
    assert_int_equal(oasis_udp_send_from(x.s, &g1, 5000, &d4, 53, "f", 1), OASIS_EINVAL);
    fx_stop(&x);
}

/* ICMPv6 errors quoting one of our datagrams reach the bound port's error
 * callback; errors that quote another port or are not ours do not. */
static void inject_icmp6_error(fx *x, const oasis_in6 *us, uint8_t type, uint8_t code,
                               uint32_t word, const uint8_t *quote, size_t qlen)
{
    uint8_t m[1280];
    memset(m, 0, 8);
    m[0] = type;
    m[1] = code;
    memcpy(m + 8, quote, qlen);
    uint8_t f[1400];
    oasis_eth_emit(f, oasis_stack_mac(x->s), MAC_PEER, OASIS_ETHERTYPE_IPV6);
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.payload_len = (uint16_t)(8 + qlen);
    h.next = 58;
    h.hop_limit = 64;
    h.src = PEER;
    h.dst = *us;
    oasis_ipv6_emit(f + 14, &h);
    memcpy(f + 54, m, 8 + qlen);
    oasis_icmp6_finish(f + 54, 8 + qlen, type, code, word, &PEER, us);
    oasis_stack_input(x->s, f, 54 + 8 + qlen);
}

static void test_errors_to_socket(void **state)
{
    (void)state;
    fx x;
    fx_start(&x);
    oasis_in6 us = ll_of(&x);
    oasis_ipaddr peer = oasis_ipaddr_v6(PEER.b);
    rx r;
    memset(&r, 0, sizeof r);
    assert_int_equal(oasis_udp_bind(x.s, 5000, on_recv, &r), 0);
    assert_int_equal(oasis_udp_set_error_cb(x.s, 5000, on_err), 0);
    assert_int_equal(oasis_udp_send(x.s, 5000, &peer, 53, "q", 1), 0);
    /* The datagram waits on ND; build the quote ourselves as it would be. */
    uint8_t q[40 + 9];
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.payload_len = 9;
    h.next = 17;
    h.hop_limit = 64;
    h.src = us;
    h.dst = PEER;
    oasis_ipv6_emit(q, &h);
    build_udp(q + 40, &us, &PEER, 5000, 53, "q", 1, 9, -1);

    inject_icmp6_error(&x, &us, OASIS_ICMP6_DEST_UNREACH, OASIS_ICMP6_DU_PORT, 0, q, sizeof q);
    assert_int_equal(r.errs, 1);
    assert_int_equal(r.err.err, OASIS_EREFUSED);
    assert_int_equal(r.err.dst_port, 53);
    assert_memory_equal(r.err.dst.b, PEER.b, 16);
    inject_icmp6_error(&x, &us, OASIS_ICMP6_PKT_TOO_BIG, 0, 1280, q, sizeof q);
    assert_int_equal(r.errs, 2);
    assert_int_equal(r.err.err, OASIS_EMSGSIZE);
    assert_int_equal(r.err.mtu, 1280);
    inject_icmp6_error(&x, &us, OASIS_ICMP6_TIME_EXCEEDED, 0, 0, q, sizeof q);
    assert_int_equal(r.err.err, OASIS_EHOSTUNREACH);
    inject_icmp6_error(&x, &us, OASIS_ICMP6_DEST_UNREACH, OASIS_ICMP6_DU_NOROUTE, 0, q, sizeof q);
    assert_int_equal(r.err.err, OASIS_ENETUNREACH);
    inject_icmp6_error(&x, &us, OASIS_ICMP6_PARAM_PROBLEM, OASIS_ICMP6_PP_NEXTHDR, 6, q, sizeof q);
    assert_int_equal(r.err.err, OASIS_EPROTOUNREACH);
    assert_int_equal(r.errs, 5);
    assert_int_equal(oasis_stack_counters(x.s)->udp6.icmp_errors, 5);

    /* Quoting another port: no callback. Quoting someone else's packet
     * (source not ours): dropped by ICMPv6. A quote cut inside the UDP
     * header: dropped. */
    oasis_put16(q + 40, 5001);
    inject_icmp6_error(&x, &us, OASIS_ICMP6_DEST_UNREACH, OASIS_ICMP6_DU_PORT, 0, q, sizeof q);
    assert_int_equal(oasis_stack_counters(x.s)->udp6.icmp_no_port, 1);
    oasis_put16(q + 40, 5000);
    q[8 + 15] ^= 1;
    inject_icmp6_error(&x, &us, OASIS_ICMP6_DEST_UNREACH, OASIS_ICMP6_DU_PORT, 0, q, sizeof q);
    q[8 + 15] ^= 1;
    inject_icmp6_error(&x, &us, OASIS_ICMP6_DEST_UNREACH, OASIS_ICMP6_DU_PORT, 0, q, 40 + 7);
    assert_int_equal(r.errs, 5);
    fx_stop(&x);
}

/* RFC 8201 4: a Packet Too Big about one of our datagrams lowers the path
 * MTU, and the node "must reduce the size of the packets it is sending
 * along the path": no router fragments IPv6, so the next datagram is
 * fragmented to the new size. One that quotes a port nobody bound (not
 * our traffic, 4's validation), or reports less than 1280, changes
 * nothing. */
static void test_packet_too_big_lowers_path_mtu(void **state)
{
    (void)state;
    fx x;
    fx_start(&x);
    oasis_in6 us = ll_of(&x);
    make_peer_known(&x, &us);
    oasis_ipaddr peer = oasis_ipaddr_v6(PEER.b);
    const oasis_counters *c = oasis_stack_counters(x.s);
    rx r;
    memset(&r, 0, sizeof r);
    assert_int_equal(oasis_udp_bind(x.s, 5000, on_recv, &r), 0);
    static uint8_t data[1400];
    assert_int_equal(oasis_udp_send(x.s, 5000, &peer, 53, data, sizeof data), 0);
    assert_int_equal(x.cap.n, 1);
    assert_int_equal(x.cap.len[0], 14 + 40 + 8 + sizeof data);
    uint8_t q[1280 - 48];
    memcpy(q, x.cap.frame[0] + 14, sizeof q);
    oasis_put16(q + 40, 5001);
    inject_icmp6_error(&x, &us, OASIS_ICMP6_PKT_TOO_BIG, 0, 1280, q, sizeof q);
    oasis_put16(q + 40, 5000);
    inject_icmp6_error(&x, &us, OASIS_ICMP6_PKT_TOO_BIG, 0, 1000, q, sizeof q);
    assert_int_equal(c->ip.pmtu_lowered, 0);
    assert_int_equal(c->ip.pmtu_below_min, 1);
    x.cap.n = 0;
    assert_int_equal(oasis_udp_send(x.s, 5000, &peer, 53, data, sizeof data), 0);
    assert_int_equal(x.cap.n, 1);
    /* Genuine: 1280 from now on. */
    inject_icmp6_error(&x, &us, OASIS_ICMP6_PKT_TOO_BIG, 0, 1280, q, sizeof q);
    assert_int_equal(c->ip.pmtu_lowered, 1);
    x.cap.n = 0;
    assert_int_equal(oasis_udp_send(x.s, 5000, &peer, 53, data, sizeof data), 0);
    assert_int_equal(x.cap.n, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(x.cap.frame[i][20], OASIS_NH_FRAGMENT);
        assert_true(x.cap.len[i] - 14 <= 1280);
    }
    /* A datagram that fits goes whole. */
    x.cap.n = 0;
    assert_int_equal(oasis_udp_send(x.s, 5000, &peer, 53, data, 1000), 0);
    assert_int_equal(x.cap.n, 1);
    assert_int_equal(x.cap.frame[0][20], OASIS_NH_UDP);
    fx_stop(&x);
}

/* RFC 8201 4, RFC 4443 2.4 d: a datagram larger than the link's MTU goes
 * in fragments, and a router on a narrower path answers with a Packet Too
 * Big quoting the first one, Fragment header and all. The upper layer is
 * named after that header: the path MTU is lowered and the socket told,
 * else every later datagram of that size is lost for good. An error
 * quoting a later fragment names no upper layer: dropped. */
static void test_packet_too_big_about_first_fragment(void **state)
{
    (void)state;
    fx x;
    fx_start(&x);
    oasis_in6 us = ll_of(&x);
    make_peer_known(&x, &us);
    oasis_ipaddr peer = oasis_ipaddr_v6(PEER.b);
    const oasis_counters *c = oasis_stack_counters(x.s);
    rx r;
    memset(&r, 0, sizeof r);
    assert_int_equal(oasis_udp_bind(x.s, 5000, on_recv, &r), 0);
    assert_int_equal(oasis_udp_set_error_cb(x.s, 5000, on_err), 0);
    static uint8_t data[3000];
    assert_int_equal(oasis_udp_send(x.s, 5000, &peer, 53, data, sizeof data), 0);
    assert_int_equal(x.cap.n, 3);
    assert_int_equal(x.cap.frame[0][20], OASIS_NH_FRAGMENT);
    assert_true(x.cap.len[0] > 14 + 1400 && x.cap.len[0] <= 14 + 1500);
    uint8_t first[1280 - 48], later[1280 - 48];
    memcpy(first, x.cap.frame[0] + 14, sizeof first);
    memcpy(later, x.cap.frame[1] + 14, sizeof later);
    uint64_t unowned = c->icmp6.in_errors_unowned;

    inject_icmp6_error(&x, &us, OASIS_ICMP6_PKT_TOO_BIG, 0, 1400, later, sizeof later);
    assert_int_equal(c->ip.pmtu_lowered, 0);
    assert_int_equal(c->icmp6.in_errors_unowned, unowned + 1);
    assert_int_equal(r.errs, 0);

    inject_icmp6_error(&x, &us, OASIS_ICMP6_PKT_TOO_BIG, 0, 1400, first, sizeof first);
    assert_int_equal(c->ip.pmtu_lowered, 1);
    assert_int_equal(r.errs, 1);
    assert_int_equal(r.err.err, OASIS_EMSGSIZE);
    assert_int_equal(r.err.mtu, 1400);
    x.cap.n = 0;
    assert_int_equal(oasis_udp_send(x.s, 5000, &peer, 53, data, sizeof data), 0);
    assert_int_equal(x.cap.n, 3);
    for (size_t i = 0; i < 3; i++)
        assert_true(x.cap.len[i] - 14 <= 1400);
    /* A port unreachable about a fragmented datagram reaches the socket too. */
    inject_icmp6_error(&x, &us, OASIS_ICMP6_DEST_UNREACH, OASIS_ICMP6_DU_PORT, 0, first, sizeof first);
    assert_int_equal(r.errs, 2);
    assert_int_equal(r.err.err, OASIS_EREFUSED);
    fx_stop(&x);
}

/* The path MTU cache is per destination (RFC 8201 5.2) and bounded: Packet
 * Too Bigs about datagrams to more destinations than it holds evict the
 * entry that ages out first; an entry lives 10 minutes from its last
 * lowering (RFC 8201 4: no increase attempt sooner than 5 minutes after a
 * Packet Too Big), then the link's MTU is used again. */
static void test_path_mtu_cache_bounded(void **state)
{
    (void)state;
    fx x;
    fx_start(&x);
    oasis_in6 us = ll_of(&x);
    const oasis_counters *c = oasis_stack_counters(x.s);
    rx r;
    memset(&r, 0, sizeof r);
    assert_int_equal(oasis_udp_bind(x.s, 5000, on_recv, &r), 0);
    uint8_t q[40 + 8];
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.payload_len = 1400;
    h.next = 17;
    h.hop_limit = 64;
    h.src = us;
    oasis_in6 far = {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}};
    for (int i = 0; i <= OASIS_PMTU_ENTRIES; i++) {
        far.b[15] = (uint8_t)(i + 1);
        h.dst = far;
        oasis_ipv6_emit(q, &h);
        build_udp(q + 40, &us, &far, 5000, 53, "", 0, 1400, 0x1234);
        inject_icmp6_error(&x, &us, OASIS_ICMP6_PKT_TOO_BIG, 0, 1300 + (uint32_t)i, q, sizeof q);
        if (i == 0)
            advance(&x, SEC); /* the first ages out first */
    }
    assert_int_equal(c->ip.pmtu_lowered, OASIS_PMTU_ENTRIES + 1);
    assert_int_equal(c->ip.pmtu_evictions, 1);
    oasis_ipaddr first = oasis_ipaddr_v6((const uint8_t[16]){0x20, 0x01, 0x0d, 0xb8, [15] = 1});
    oasis_ipaddr last = oasis_ipaddr_v6(far.b);
    assert_int_equal(oasis_pmtu_get(x.s, &first), 1500);
    assert_int_equal(oasis_pmtu_get(x.s, &last), 1300 + OASIS_PMTU_ENTRIES);
    /* Ten minutes after it was lowered: the link's MTU again. */
    advance(&x, 599 * SEC);
    assert_int_equal(oasis_pmtu_get(x.s, &last), 1300 + OASIS_PMTU_ENTRIES);
    advance(&x, SEC);
    assert_int_equal(oasis_pmtu_get(x.s, &last), 1500);
    assert_true(c->ip.pmtu_expired >= 1);
    fx_stop(&x);
}

/* The wire functions alone: every truncation and lying length of a good
 * datagram, both families' pseudo-headers. */
static void test_wire6(void **state)
{
    (void)state;
    oasis_in6 a = PEER, b = PEER;
    b.b[15] = 0x33;
    uint8_t u[64];
    size_t n = build_udp(u, &a, &b, 7, 9, "0123456789", 10, 18, -1);
    oasis_udp_hdr h;
    assert_int_equal(oasis_udp_parse6(u, n, &a, &b, 1, &h), 0);
    assert_int_equal(h.src_port, 7);
    assert_int_equal(h.dst_port, 9);
    assert_int_equal(h.payload_len, 10);
    assert_ptr_equal(h.payload, u + 8);
    for (size_t len = 0; len < n; len++)
        assert_int_equal(oasis_udp_parse6(u, len, &a, &b, 1, &h), OASIS_ETRUNCATED);
    /* the sum does not see the order of the addresses, but sees them */
    assert_int_equal(oasis_udp_parse6(u, n, &b, &a, 1, &h), 0);
    oasis_in6 c = b;
    c.b[0] ^= 0x20;
    assert_int_equal(oasis_udp_parse6(u, n, &a, &c, 1, &h), OASIS_ECHECKSUM);
    assert_int_equal(oasis_udp_parse6(u, n, &a, &c, 0, &h), 0); /* link verified */
    /* every bit flip is caught */
    for (size_t i = 0; i < n * 8; i++) {
        u[i / 8] ^= (uint8_t)(1u << (i % 8));
        int rc = oasis_udp_parse6(u, n, &a, &b, 1, &h);
        assert_true(rc != OASIS_OK);
        u[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    /* zero checksum: refused even when the link verified the frame */
    u[6] = u[7] = 0;
    assert_int_equal(oasis_udp_parse6(u, n, &a, &b, 0, &h), OASIS_ENOTSUP);
    /* over IPv4 a zero checksum is "none" (RFC 768) */
    assert_int_equal(oasis_udp_parse_ex(u, n, 1, 2, 1, &h), 0);
    /* lying lengths */
    for (uint32_t ul = 0; ul <= 0xffff; ul += (ul < 100 ? 1 : 997)) {
        n = build_udp(u, &a, &b, 7, 9, "0123456789", 10, (uint16_t)ul, -1);
        int rc = oasis_udp_parse6(u, n, &a, &b, 1, &h);
        if (ul < 8)
            assert_int_equal(rc, OASIS_EMALFORMED);
        else if (ul > 18)
            assert_int_equal(rc, OASIS_ETRUNCATED);
        else {
            assert_int_equal(rc, 0);
            assert_int_equal(h.payload_len, ul - 8);
        }
    }
    /* emit6 round trip */
    memset(u, 0xab, sizeof u);
    oasis_udp_emit6(u, 20, 1, 2, &a, &b);
    assert_int_equal(oasis_udp_parse6(u, 20, &a, &b, 1, &h), 0);
    assert_int_equal(ref_csum(&a, &b, u, 20), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exchange_both_families),
        cmocka_unit_test(test_api_errors),
        cmocka_unit_test(test_receive_checks),
        cmocka_unit_test(test_send_checksum),
        cmocka_unit_test(test_send_from_chosen_source),
        cmocka_unit_test(test_multicast_hops),
        cmocka_unit_test(test_errors_to_socket),
        cmocka_unit_test(test_wire6),
        cmocka_unit_test(test_partial_csum_quote),
        cmocka_unit_test(test_packet_too_big_lowers_path_mtu),
        cmocka_unit_test(test_packet_too_big_about_first_fragment),
        cmocka_unit_test(test_path_mtu_cache_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
