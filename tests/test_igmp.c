/* IPv4 multicast groups and IGMP (RFC 1112, RFC 1122 3.3.7, RFC 9776 with
 * the RFC 2236 compatibility modes): what a join lets in, and every report
 * the stack sends, read off the wire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/bytes.h"
#include "core/checksum.h"
#include "core/stack_impl.h"
#include "ip/igmp_wire.h"
#include "ip/ipv4_wire.h"
#include "link/eth_wire.h"
#include "oasis/error.h"
#include "oasis/ip.h"
#include "oasis/udp.h"
#include "udp/udp_wire.h"
#include "caplink.h"
#include "testutil.h"

#define SEC OASIS_NS_PER_SEC
#define US OASIS_IPV4(10, 0, 0, 1)
#define ROUTER OASIS_IPV4(10, 0, 0, 254)
#define G1 OASIS_IPV4(239, 1, 2, 3)
#define G2 OASIS_IPV4(239, 9, 9, 9)

static const uint8_t MAC_US[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t MAC_ROUTER[6] = {2, 0, 0, 0, 0, 0xfe};

typedef struct fx {
    oasis_clock *clock;
    oasis_stack *s;
    test_cap cap;
    int got;
    uint32_t got_dst;
    size_t got_len;
} fx;

static void fx_start(fx *x)
{
    memset(x, 0, sizeof *x);
    oasis_stack_config cfg;
    x->clock = oasis_clock_new_virtual(1000 * SEC);
    test_stack_config(&cfg, x->clock, 1);
    cfg.arp_gratuitous = 0;
    assert_int_equal(oasis_stack_create(&cfg, &x->s), 0);
    test_cap_attach(&x->cap, x->s, 64, 1500);
    x->cap.n = 0;
}

static void fx_stop(fx *x)
{
    oasis_stack_destroy(x->s);
    test_cap_fini(&x->cap);
    oasis_clock_free(x->clock);
}

static const oasis_ip_counters *ipc(const fx *x) { return &oasis_stack_counters(x->s)->ip; }
static void advance(fx *x, uint64_t ns) { test_advance(x->s, x->clock, ns); }

/* A datagram from `src` to `dst` (in a frame to the group's MAC when dst
 * is a group). */
static void inject(fx *x, uint32_t src, uint32_t dst, uint8_t proto, const uint8_t *pl, size_t n,
                   int router_alert)
{
    static const uint8_t ra[4] = {0x94, 0x04, 0, 0};
    uint8_t frame[256], dmac[6] = {0x01, 0x00, 0x5e, (uint8_t)((dst >> 16) & 0x7f),
                                    (uint8_t)(dst >> 8), (uint8_t)dst};
    if ((dst >> 28) != 0xe)
        memcpy(dmac, MAC_US, 6);
    size_t ol = router_alert ? 4 : 0;
    oasis_ipv4_hdr h;
    memset(&h, 0, sizeof h);
    h.total_len = (uint16_t)(OASIS_IPV4_HLEN + ol + n);
    h.ttl = 1;
    h.proto = proto;
    h.src = src;
    h.dst = dst;
    oasis_eth_emit(frame, dmac, MAC_ROUTER, OASIS_ETHERTYPE_IPV4);
    oasis_ipv4_emit_opts(frame + OASIS_ETH_HLEN, &h, ra, ol);
    memcpy(frame + OASIS_ETH_HLEN + OASIS_IPV4_HLEN + ol, pl, n);
    oasis_stack_input(x->s, frame, OASIS_ETH_HLEN + h.total_len);
}

static void checksum(uint8_t *m, size_t n)
{
    m[2] = m[3] = 0;
    uint16_t c = oasis_csum_fold(oasis_csum_add(0, m, n));
    memcpy(m + 2, &c, 2);
}

/* A query: version 3 when len is 12, else 8 bytes with code as Max Resp. */
static void query(fx *x, uint32_t dst, uint32_t group, uint8_t code, size_t len)
{
    uint8_t m[12] = {OASIS_IGMP_QUERY, code};
    oasis_put32(m + 4, group);
    checksum(m, len);
    inject(x, ROUTER, dst, OASIS_IPPROTO_IGMP, m, len, 1);
}

typedef struct sent {
    uint32_t dst;
    uint8_t ttl, tos;
    int router_alert;
    uint8_t type;
    uint32_t group;          /* v1/v2 */
    int nrec;                /* v3 */
    uint8_t rec_type[8];
    uint32_t rec_group[8];
} sent;

/* Reads captured frame i as an IGMP message (and checks its checksum). */
static sent read_sent(const fx *x, size_t i)
{
    sent r;
    memset(&r, 0, sizeof r);
    oasis_eth_hdr eh;
    oasis_ipv4_hdr ip;
    assert_true(i < x->cap.n);
    assert_int_equal(oasis_eth_parse(x->cap.frame[i], x->cap.len[i], &eh), 0);
    assert_int_equal(oasis_ipv4_parse(eh.payload, eh.payload_len, &ip), 0);
    assert_int_equal(ip.proto, OASIS_IPPROTO_IGMP);
    /* RFC 1112 6.4: the group's MAC */
    assert_int_equal(eh.dst[0], 0x01);
    assert_int_equal(eh.dst[2], 0x5e);
    assert_int_equal(eh.dst[5], (uint8_t)ip.dst);
    r.dst = ip.dst;
    r.ttl = ip.ttl;
    r.tos = ip.tos;
    r.router_alert = ip.options_len == 4 && ip.options[0] == 0x94 && ip.options[1] == 4;
    assert_int_equal(oasis_csum_fold(oasis_csum_add(0, ip.payload, ip.payload_len)), 0);
    r.type = ip.payload[0];
    if (r.type == OASIS_IGMP_V3_REPORT) {
        r.nrec = oasis_get16(ip.payload + 6);
        assert_true(r.nrec <= 8);
        assert_int_equal(ip.payload_len, 8 + 8 * (size_t)r.nrec);
        for (int k = 0; k < r.nrec; k++) {
            r.rec_type[k] = ip.payload[8 + 8 * k];
            r.rec_group[k] = oasis_get32(ip.payload + 8 + 8 * k + 4);
        }
    } else {
        assert_int_equal(ip.payload_len, 8);
        r.group = oasis_get32(ip.payload + 4);
    }
    return r;
}

static void on_udp(oasis_stack *s, uint32_t src, uint16_t sp, uint32_t dst, uint16_t dp,
                   const uint8_t *d, size_t n, void *ud)
{
    (void)s, (void)src, (void)sp, (void)dp, (void)d, (void)n;
    fx *x = ud;
    x->got++;
    x->got_dst = dst;
    x->got_len = n;
}

static void udp_to(fx *x, uint32_t dst)
{
    uint8_t u[8 + 5];
    memcpy(u + 8, "hello", 5);
    oasis_udp_emit(u, sizeof u, 4000, 5000, ROUTER, dst);
    inject(x, ROUTER, dst, OASIS_IPPROTO_UDP, u, sizeof u, 0);
}

/* A join lets the group's datagrams in and says so twice (Robustness 2,
 * the second within the 1 s Unsolicited Report Interval); the last leave
 * shuts them out and says that twice. */
static void test_join_receive_leave(void **state)
{
    (void)state;
    fx x;
    fx_start(&x);
    assert_int_equal(oasis_udp_bind4(x.s, 5000, on_udp, &x), 0);
    udp_to(&x, G1);
    assert_int_equal(x.got, 0);
    uint64_t dropped = ipc(&x)->in_addr_errors;
    assert_true(dropped >= 1);

    assert_int_equal(oasis_ipv4_join(x.s, G1), 0);
    assert_int_equal(x.cap.n, 1);
    sent r = read_sent(&x, 0);
    assert_int_equal(r.type, OASIS_IGMP_V3_REPORT);
    assert_int_equal(r.dst, OASIS_IGMP_V3_ROUTERS);
    assert_int_equal(r.ttl, 1);
    assert_int_equal(r.tos, 0xc0);
    assert_true(r.router_alert);
    assert_int_equal(r.nrec, 1);
    assert_int_equal(r.rec_type[0], OASIS_IGMP_CHANGE_TO_EXCLUDE);
    assert_int_equal(r.rec_group[0], G1);
    advance(&x, SEC);
    assert_int_equal(x.cap.n, 2);
    r = read_sent(&x, 1);
    assert_int_equal(r.rec_type[0], OASIS_IGMP_CHANGE_TO_EXCLUDE);
    advance(&x, 300 * SEC);
    assert_int_equal(x.cap.n, 2); /* no more until asked */

    udp_to(&x, G1);
    assert_int_equal(x.got, 1);
    assert_int_equal(x.got_dst, G1);
    udp_to(&x, G2); /* another group: not ours */
    assert_int_equal(x.got, 1);
    assert_int_equal(ipc(&x)->in_addr_errors, dropped + 1);

    /* Joins count. */
    assert_int_equal(oasis_ipv4_join(x.s, G1), 0);
    assert_int_equal(oasis_ipv4_leave(x.s, G1), 0);
    assert_int_equal(x.cap.n, 2);
    udp_to(&x, G1);
    assert_int_equal(x.got, 2);

    assert_int_equal(oasis_ipv4_leave(x.s, G1), 0);
    assert_int_equal(x.cap.n, 3);
    r = read_sent(&x, 2);
    assert_int_equal(r.rec_type[0], OASIS_IGMP_CHANGE_TO_INCLUDE);
    assert_int_equal(r.rec_group[0], G1);
    advance(&x, SEC);
    assert_int_equal(x.cap.n, 4);
    assert_int_equal(read_sent(&x, 3).rec_type[0], OASIS_IGMP_CHANGE_TO_INCLUDE);
    udp_to(&x, G1);
    assert_int_equal(x.got, 2);
    assert_int_equal(oasis_ipv4_leave(x.s, G1), OASIS_ENOENT);
    fx_stop(&x);
}

static void test_api(void **state)
{
    (void)state;
    fx x;
    fx_start(&x);
    assert_int_equal(oasis_ipv4_join(NULL, G1), OASIS_EINVAL);
    assert_int_equal(oasis_ipv4_join(x.s, US), OASIS_EINVAL);
    assert_int_equal(oasis_ipv4_join(x.s, OASIS_IPV4(240, 0, 0, 1)), OASIS_EINVAL);
    assert_int_equal(oasis_ipv4_leave(x.s, US), OASIS_EINVAL);
    assert_int_equal(oasis_ipv4_leave(x.s, G1), OASIS_ENOENT);
    /* All-systems: always in, never reported. */
    assert_int_equal(oasis_ipv4_join(x.s, OASIS_IGMP_ALL_SYSTEMS), 0);
    assert_int_equal(x.cap.n, 0);
    for (uint32_t i = 0; i < OASIS_IGMP_GROUPS; i++)
        assert_int_equal(oasis_ipv4_join(x.s, G1 + i), 0);
    assert_int_equal(oasis_ipv4_join(x.s, G2), OASIS_ENOMEM);
    /* A left group's slot is free once its leave has been said. */
    assert_int_equal(oasis_ipv4_leave(x.s, G1), 0);
    assert_int_equal(oasis_ipv4_join(x.s, G2), OASIS_ENOMEM);
    advance(&x, 2 * SEC);
    assert_int_equal(oasis_ipv4_join(x.s, G2), 0);
    fx_stop(&x);
}

/* RFC 9776 5.2: a general query is answered by one current-state report
 * of every group, at a random time within Max Resp; more queries in the
 * meantime change nothing; a group-specific query gets that group's. */
static void test_v3_queries(void **state)
{
    (void)state;
    fx x;
    fx_start(&x);
    assert_int_equal(oasis_ipv4_join(x.s, G1), 0);
    assert_int_equal(oasis_ipv4_join(x.s, G2), 0);
    advance(&x, 5 * SEC);
    x.cap.n = 0;
    for (int i = 0; i < 100; i++)
        query(&x, OASIS_IGMP_ALL_SYSTEMS, 0, 100, 12); /* Max Resp 10 s */
    assert_int_equal(ipc(&x)->igmp_in_queries, 100);
    assert_int_equal(x.cap.n, 0);
    advance(&x, 10 * SEC);
    assert_int_equal(x.cap.n, 1);
    sent r = read_sent(&x, 0);
    assert_int_equal(r.type, OASIS_IGMP_V3_REPORT);
    assert_int_equal(r.nrec, 2);
    assert_int_equal(r.rec_type[0], OASIS_IGMP_MODE_IS_EXCLUDE);
    assert_int_equal(r.rec_type[1], OASIS_IGMP_MODE_IS_EXCLUDE);
    assert_true((r.rec_group[0] == G1 && r.rec_group[1] == G2) ||
                (r.rec_group[0] == G2 && r.rec_group[1] == G1));

    /* A snooping switch's querier has no address: its queries come from
     * 0.0.0.0 (RFC 4541) and are answered all the same. */
    x.cap.n = 0;
    uint8_t q0[12] = {OASIS_IGMP_QUERY, 10};
    checksum(q0, 12);
    inject(&x, 0, OASIS_IGMP_ALL_SYSTEMS, OASIS_IPPROTO_IGMP, q0, 12, 1);
    advance(&x, SEC);
    assert_int_equal(x.cap.n, 1);
    assert_int_equal(read_sent(&x, 0).nrec, 2);

    x.cap.n = 0;
    query(&x, G2, G2, 10, 12); /* group-specific, 1 s */
    advance(&x, SEC);
    assert_int_equal(x.cap.n, 1);
    r = read_sent(&x, 0);
    assert_int_equal(r.nrec, 1);
    assert_int_equal(r.rec_group[0], G2);
    assert_int_equal(r.rec_type[0], OASIS_IGMP_MODE_IS_EXCLUDE);

    /* A large Max Resp Code is a floating point value (RFC 9776 4.1.1):
     * 0x8f is (0xf | 0x10) << 3 = 248 tenths, 24.8 s. */
    x.cap.n = 0;
    query(&x, OASIS_IGMP_ALL_SYSTEMS, 0, 0x8f, 12);
    advance(&x, 24 * SEC + 800 * 1000 * 1000);
    assert_int_equal(x.cap.n, 1);
    fx_stop(&x);
}

/* RFC 9776 7.1: a query of 9 to 11 bytes is no query; a bad checksum, a
 * general query to anything but all-systems or a group query to another
 * address are dropped; none of them draws a report. */
static void test_bad_queries(void **state)
{
    (void)state;
    fx x;
    fx_start(&x);
    assert_int_equal(oasis_ipv4_join(x.s, G1), 0);
    advance(&x, 5 * SEC);
    x.cap.n = 0;
    query(&x, OASIS_IGMP_ALL_SYSTEMS, 0, 10, 10);
    query(&x, US, 0, 10, 12);
    query(&x, OASIS_IGMP_ALL_SYSTEMS, G1, 10, 12);
    uint8_t m[8] = {OASIS_IGMP_QUERY, 10};
    checksum(m, 8);
    m[7] ^= 1;
    inject(&x, ROUTER, OASIS_IGMP_ALL_SYSTEMS, OASIS_IPPROTO_IGMP, m, 8, 1);
    inject(&x, ROUTER, OASIS_IGMP_ALL_SYSTEMS, OASIS_IPPROTO_IGMP, m, 5, 1);
    /* RFC 3376 9.1: version 2 and 3 queries without a Router Alert
     * option are ignored (general and group queries alike). */
    uint8_t q[12] = {OASIS_IGMP_QUERY, 10};
    checksum(q, 8);
    inject(&x, ROUTER, OASIS_IGMP_ALL_SYSTEMS, OASIS_IPPROTO_IGMP, q, 8, 0);
    checksum(q, 12);
    inject(&x, ROUTER, OASIS_IGMP_ALL_SYSTEMS, OASIS_IPPROTO_IGMP, q, 12, 0);
    oasis_put32(q + 4, G1);
    checksum(q, 12);
    inject(&x, ROUTER, G1, OASIS_IPPROTO_IGMP, q, 12, 0);
    assert_int_equal(ipc(&x)->igmp_in_errors, 8);
    assert_int_equal(ipc(&x)->igmp_in_queries, 0);
    advance(&x, 30 * SEC);
    assert_int_equal(x.cap.n, 0);
    fx_stop(&x);
}

/* RFC 2236 with RFC 9776 7.2.1: a version 2 query puts the host in
 * version 2 mode for 260 s: one report per group, to the group; another
 * host's report for a group answers for us; a leave goes to all-routers. */
static void test_v2_mode(void **state)
{
    (void)state;
    fx x;
    fx_start(&x);
    assert_int_equal(oasis_ipv4_join(x.s, G1), 0);
    assert_int_equal(oasis_ipv4_join(x.s, G2), 0);
    advance(&x, 5 * SEC);
    x.cap.n = 0;
    query(&x, OASIS_IGMP_ALL_SYSTEMS, 0, 100, 8); /* version 2, 10 s */
    /* Someone else reports G2 first. */
    uint8_t rep[8];
    oasis_igmp_emit_v12(rep, OASIS_IGMP_V2_REPORT, G2);
    inject(&x, OASIS_IPV4(10, 0, 0, 7), G2, OASIS_IPPROTO_IGMP, rep, 8, 1);
    advance(&x, 10 * SEC);
    assert_int_equal(x.cap.n, 1);
    sent r = read_sent(&x, 0);
    assert_int_equal(r.type, OASIS_IGMP_V2_REPORT);
    assert_int_equal(r.group, G1);
    assert_int_equal(r.dst, G1);
    assert_int_equal(r.ttl, 1);
    assert_true(r.router_alert);

    x.cap.n = 0;
    assert_int_equal(oasis_ipv4_leave(x.s, G1), 0);
    assert_true(x.cap.n >= 1);
    r = read_sent(&x, 0);
    assert_int_equal(r.type, OASIS_IGMP_V2_LEAVE);
    assert_int_equal(r.dst, OASIS_IGMP_ALL_ROUTERS);
    assert_int_equal(r.group, G1);

    /* 260 s without a version 2 querier: version 3 again. */
    advance(&x, 261 * SEC);
    x.cap.n = 0;
    assert_int_equal(oasis_ipv4_join(x.s, G1), 0);
    assert_int_equal(read_sent(&x, 0).type, OASIS_IGMP_V3_REPORT);
    fx_stop(&x);
}

/* RFC 1112: version 1 reports (no Router Alert), no leave. */
static void test_v1_mode(void **state)
{
    (void)state;
    fx x;
    fx_start(&x);
    assert_int_equal(oasis_ipv4_join(x.s, G1), 0);
    advance(&x, 5 * SEC);
    x.cap.n = 0;
    /* Version 1 (10 s), from a router that predates Router Alert. */
    uint8_t q[8] = {OASIS_IGMP_QUERY, 0};
    checksum(q, 8);
    inject(&x, ROUTER, OASIS_IGMP_ALL_SYSTEMS, OASIS_IPPROTO_IGMP, q, 8, 0);
    assert_int_equal(ipc(&x)->igmp_in_queries, 1);
    advance(&x, 10 * SEC);
    assert_int_equal(x.cap.n, 1);
    sent r = read_sent(&x, 0);
    assert_int_equal(r.type, OASIS_IGMP_V1_REPORT);
    assert_int_equal(r.group, G1);
    assert_false(r.router_alert);
    x.cap.n = 0;
    assert_int_equal(oasis_ipv4_leave(x.s, G1), 0);
    advance(&x, 5 * SEC);
    assert_int_equal(x.cap.n, 0);
    fx_stop(&x);
}

/* RFC 1112 6.1: our own datagram to a group we joined is delivered to us
 * too (after the send returns, from the poll), as well as sent; not when
 * the port says no (oasis_udp_set_multicast_loop), not to a group we did
 * not join, and never our own IGMP reports. A datagram larger than the
 * MTU goes out in fragments and loops back whole. */
static void test_multicast_loopback(void **state)
{
    (void)state;
    fx x;
    fx_start(&x);
    assert_int_equal(oasis_udp_bind4(x.s, 5000, on_udp, &x), 0);
    assert_int_equal(oasis_udp_send4(x.s, 5000, G1, 5000, "a", 1), 0); /* not joined */
    advance(&x, SEC);
    assert_int_equal(x.got, 0);
    assert_int_equal(oasis_ipv4_join(x.s, G1), 0);
    advance(&x, 2 * SEC); /* both reports */
    assert_int_equal(ipc(&x)->igmp_in_msgs, 0); /* our reports never come back */
    x.cap.n = 0;
    assert_int_equal(oasis_udp_send4(x.s, 5000, G1, 5000, "b", 1), 0);
    assert_int_equal(x.got, 0); /* not inside the send */
    assert_int_equal(x.cap.n, 1); /* and on the link */
    advance(&x, 1);
    assert_int_equal(x.got, 1);
    assert_int_equal(x.got_dst, G1);
    static uint8_t big[3000];
    assert_int_equal(oasis_udp_send4(x.s, 5000, G1, 5000, big, sizeof big), 0);
    assert_int_equal(x.cap.n, 4); /* three fragments */
    advance(&x, 1);
    assert_int_equal(x.got, 2);
    assert_int_equal(x.got_len, sizeof big);
    assert_int_equal(oasis_udp_set_multicast_loop(x.s, 5000, 0), 0);
    assert_int_equal(oasis_udp_send4(x.s, 5000, G1, 5000, "c", 1), 0);
    advance(&x, SEC);
    assert_int_equal(x.got, 2);
    assert_int_equal(oasis_udp_set_multicast_loop(x.s, 5000, 1), 0);
    assert_int_equal(oasis_udp_send4(x.s, 5000, G1, 5000, "d", 1), 0);
    advance(&x, 1);
    assert_int_equal(x.got, 3);
    assert_int_equal(oasis_udp_set_multicast_loop(x.s, 5001, 0), OASIS_ENOENT);
    fx_stop(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_receive_leave),
        cmocka_unit_test(test_api),
        cmocka_unit_test(test_v3_queries),
        cmocka_unit_test(test_bad_queries),
        cmocka_unit_test(test_v2_mode),
        cmocka_unit_test(test_v1_mode),
        cmocka_unit_test(test_multicast_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
