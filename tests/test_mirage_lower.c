/* mirage-tcpip's own test suite, lower layers and sockets: the scenarios of
 * its test/test_arp.ml, test_ipv4.ml, test_ipv6.ml, test_icmpv4.ml,
 * test_udp.ml, test_checksums.ml, test_socket.ml, test_connect_ipv6.ml and
 * test_iperf_ipv6.ml, one cmocka test per mirage case (a parameterised
 * family of cases is one test that runs every member), named
 * test_<mirage file>_<case>. docs/mirage-suite.md says, case by case,
 * whether Oasis does what mirage expects and, where it does not, why.
 *
 * Mirage's backends become: one stack on a capturing link with frames
 * built by hand (mirage's raw netif on the same backend), or stacks on the
 * in-memory wire with a link shim in front of each port for the
 * impairments mirage's vnetif backends apply (vnetif.h: trailing bytes,
 * loss of small frames, MTU enforcement, a one-second outage). Everything
 * runs on the virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "arp/arp.h"
#include "arp/arp_wire.h"
#include "core/checksum.h"
#include "icmp/icmp_wire.h"
#include "ip/ipv4_wire.h"
#include "ipv6/icmp6_wire.h"
#include "ipv6/ipv6_wire.h"
#include "ipv6/nd_wire.h"
#include "link/eth_wire.h"
#include "oasis/error.h"
#include "oasis/oasis.h"
#include "tcp/tcp_wire.h"
#include "udp/udp_wire.h"
#include "caplink.h"
#include "countalloc.h"
#include "testutil.h"
#include "vnetif.h"

#define MS (OASIS_NS_PER_SEC / 1000)
#define SEC OASIS_NS_PER_SEC
#define MAXF 256

/* ======================================================================
 * One stack on a capturing link; the peers are hand-built frames.
 * ====================================================================== */

typedef struct one {
    oasis_clock *clock;
    oasis_stack *s;
    test_cap cap;
    /* protocol 253/254 handler: what the IP layer delivered */
    int delivered;
    uint8_t *got;
    size_t got_len;
} one;

static const uint8_t MAC_US[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t MAC_B[6] = {2, 0, 0, 0, 0, 2};
static const uint8_t MAC_C[6] = {2, 0, 0, 0, 0, 3};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t ZERO6[6] = {0};

static one *one_new(uint32_t addr, uint8_t prefix, void (*tweak)(oasis_stack_config *))
{
    one *f = test_calloc(1, sizeof *f);
    oasis_stack_config cfg;
    f->clock = oasis_clock_new_virtual(1000 * SEC);
    test_stack_config(&cfg, f->clock, 1);
    cfg.addr = addr;
    cfg.prefix_len = prefix;
    if (tweak)
        tweak(&cfg);
    assert_int_equal(oasis_stack_create(&cfg, &f->s), 0);
    test_cap_attach(&f->cap, f->s, MAXF, 1500);
    return f;
}

static void one_free(one *f)
{
    oasis_stack_destroy(f->s);
    test_cap_fini(&f->cap);
    free(f->got);
    oasis_clock_free(f->clock);
    test_free(f);
}

static const oasis_counters *ctr(const one *f) { return oasis_stack_counters(f->s); }

static void no_garp(oasis_stack_config *c) { c->arp_gratuitous = 0; }

/* Captured frame i as ARP (fails the test if it is not). */
static oasis_arp_pkt cap_arp(const one *f, size_t i, oasis_eth_hdr *eh)
{
    oasis_arp_pkt p;
    assert_true(i < f->cap.n);
    assert_int_equal(oasis_eth_parse(f->cap.frame[i], f->cap.len[i], eh), 0);
    assert_int_equal(eh->type, OASIS_ETHERTYPE_ARP);
    assert_int_equal(oasis_arp_parse(eh->payload, eh->payload_len, &p), 0);
    return p;
}

/* Captured frame i is a broadcast request from us (sender spa) for tpa,
 * its target hardware address zero: RFC 826 leaves it open in a request,
 * RFC 5227 2.1.1 and 2.3 zero it (mirage expects ff:ff:ff:ff:ff:ff). */
static void expect_request(const one *f, size_t i, uint32_t spa, uint32_t tpa)
{
    oasis_eth_hdr eh;
    oasis_arp_pkt p = cap_arp(f, i, &eh);
    assert_memory_equal(eh.dst, BCAST, 6);
    assert_int_equal(p.op, OASIS_ARP_REQUEST);
    assert_memory_equal(p.sha, MAC_US, 6);
    assert_int_equal(p.spa, spa);
    assert_int_equal(p.tpa, tpa);
    assert_memory_equal(p.tha, ZERO6, 6);
}

/* Hands the stack an ARP packet from sha (the frame's source too), any
 * opcode, nonsense ones included. */
static void arp_in(one *f, uint16_t op, const uint8_t sha[6], uint32_t spa, const uint8_t tha[6],
                   uint32_t tpa, const uint8_t eth_dst[6])
{
    test_inject_arp(f->s, sha, eth_dst, op, sha, spa, tha, tpa);
}

/* Something for the stack to send to dst: one datagram of protocol 253. */
static void send_to(one *f, uint32_t dst)
{
    assert_int_equal(oasis_ip_send(f->s, dst, 253, "x", 1, 0), 0);
}

/* mirage's test_arp.ml addresses */
#define FIRST_IP OASIS_IPV4(192, 168, 3, 1)
#define SECOND_IP OASIS_IPV4(192, 168, 3, 10)

/* ---- test_arp.ml ---- */

/* "conversions neither lose nor gain information" */
static void test_arp_packet(void **state)
{
    (void)state;
    static const uint8_t m1[6] = {0x10, 0x9a, 0xdd, 0x01, 0x23, 0x45};
    static const uint8_t m2[6] = {0x00, 0x16, 0x3e, 0xab, 0xcd, 0xef};
    oasis_arp_pkt in, out;
    uint8_t buf[OASIS_ARP_LEN];
    memset(&in, 0, sizeof in);
    in.op = OASIS_ARP_REQUEST;
    memcpy(in.sha, m1, 6);
    memcpy(in.tha, m2, 6);
    in.spa = FIRST_IP;
    in.tpa = SECOND_IP;
    oasis_arp_emit(buf, &in);
    assert_int_equal(oasis_arp_parse(buf, sizeof buf, &out), 0);
    assert_int_equal(out.op, in.op);
    assert_memory_equal(out.sha, m1, 6);
    assert_memory_equal(out.tha, m2, 6);
    assert_int_equal(out.spa, FIRST_IP);
    assert_int_equal(out.tpa, SECOND_IP);
}

/* A request with ARP fields of a request to us but this opcode: no answer,
 * no entry for the sender. */
static void test_arp_nonsense_requests(void **state)
{
    (void)state;
    one *f = one_new(FIRST_IP, 24, no_garp);
    /* 0, 3, -1, 255, 256, 257 and 65536 as a 16-bit field takes them */
    static const uint16_t ops[] = {0, 3, 0xffff, 255, 256, 257, 0};
    uint8_t mac[6];
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        arp_in(f, ops[i], MAC_B, SECOND_IP, BCAST, FIRST_IP, BCAST);
    assert_int_equal(f->cap.n, 0);
    assert_int_equal(ctr(f)->arp.rx_malformed, 7);
    assert_int_equal(oasis_arp_lookup(f->s, SECOND_IP, mac), OASIS_ENOENT);
    /* Not in the cache: talking to the inquirer asks for it first. */
    send_to(f, SECOND_IP);
    assert_int_equal(f->cap.n, 1);
    expect_request(f, 0, FIRST_IP, SECOND_IP);
    one_free(f);
}

/* "requests are responded to" */
static void test_arp_requests_are_responded_to(void **state)
{
    (void)state;
    one *f = one_new(FIRST_IP, 24, no_garp);
    arp_in(f, OASIS_ARP_REQUEST, MAC_B, SECOND_IP, BCAST, FIRST_IP, BCAST);
    assert_int_equal(f->cap.n, 1);
    oasis_eth_hdr eh;
    oasis_arp_pkt p = cap_arp(f, 0, &eh);
    assert_memory_equal(eh.dst, MAC_B, 6);
    assert_int_equal(p.op, OASIS_ARP_REPLY);
    assert_memory_equal(p.sha, MAC_US, 6);
    assert_memory_equal(p.tha, MAC_B, 6);
    assert_int_equal(p.spa, FIRST_IP);
    assert_int_equal(p.tpa, SECOND_IP);
    one_free(f);
}

/* "irrelevant requests are ignored": the inquirer asks for itself, for
 * 0.0.0.0 and for 255.255.255.255; the answerer says nothing. */
static void test_arp_requests_not_us(void **state)
{
    (void)state;
    one *f = one_new(FIRST_IP, 24, no_garp);
    const uint32_t tpa[] = {SECOND_IP, 0, 0xffffffffu};
    for (int i = 0; i < 3; i++)
        arp_in(f, OASIS_ARP_REQUEST, MAC_B, SECOND_IP, BCAST, tpa[i], BCAST);
    assert_int_equal(f->cap.n, 0);
    assert_int_equal(ctr(f)->arp.tx_replies, 0);
    assert_int_equal(ctr(f)->arp.rx_not_for_us, 3);
    one_free(f);
}

/* "set_ip sets ip, sends GARP" */
static void test_arp_set_ip_sends_garp(void **state)
{
    (void)state;
    one *f = one_new(0, 24, NULL);
    assert_int_equal(f->cap.n, 0); /* no address, nothing to announce */
    assert_int_equal(oasis_stack_set_ipv4(f->s, FIRST_IP, 24, 0), 0);
    assert_int_equal(oasis_stack_addr(f->s), FIRST_IP);
    assert_int_equal(f->cap.n, 1);
    expect_request(f, 0, FIRST_IP, FIRST_IP); /* RFC 5227 2.3 */
    /* Consistency when setting: none, then (one address per stack) the
     * second replaces the first. */
    assert_int_equal(oasis_stack_set_ipv4(f->s, 0, 24, 0), 0);
    assert_int_equal(oasis_stack_addr(f->s), 0);
    assert_int_equal(oasis_stack_set_ipv4(f->s, FIRST_IP, 24, 0), 0);
    assert_int_equal(oasis_stack_set_ipv4(f->s, SECOND_IP, 24, 0), 0);
    assert_int_equal(oasis_stack_addr(f->s), SECOND_IP);
    one_free(f);
}

/* "add_ip, get_ip and remove_ip as advertised" */
static void test_arp_add_get_remove_ips(void **state)
{
    (void)state;
    one *f = one_new(0, 24, NULL);
    assert_int_equal(oasis_stack_addr(f->s), 0); /* none on startup */
    assert_int_equal(oasis_stack_set_ipv4(f->s, FIRST_IP, 24, 0), 0);
    assert_int_equal(oasis_stack_set_ipv4(f->s, FIRST_IP, 24, 0), 0);
    assert_int_equal(oasis_stack_addr(f->s), FIRST_IP); /* set twice: once */
    assert_int_equal(oasis_stack_set_ipv4(f->s, 0, 24, 0), 0);
    assert_int_equal(oasis_stack_addr(f->s), 0); /* removed */
    assert_int_equal(oasis_stack_set_ipv4(f->s, 0, 24, 0), 0);
    assert_int_equal(oasis_stack_addr(f->s), 0); /* removed from none */
    assert_int_equal(oasis_stack_set_ipv4(f->s, FIRST_IP, 24, 0), 0);
    assert_int_equal(oasis_stack_addr(f->s), FIRST_IP);
    assert_int_equal(oasis_stack_set_ipv4(f->s, FIRST_IP, 24, 0), 0);
    assert_int_equal(oasis_stack_addr(f->s), FIRST_IP); /* idempotent */
    one_free(f);
}

/* "GARPs are heard and cached": Oasis hears the GARP of a host it has no
 * entry for and does not cache it (RFC 826: a packet not aimed at us makes
 * no new entry); asking for that host sends a request. */
static void test_arp_input_single_garp(void **state)
{
    (void)state;
    one *f = one_new(SECOND_IP, 24, no_garp);
    uint8_t mac[6];
    arp_in(f, OASIS_ARP_REQUEST, MAC_B, FIRST_IP, BCAST, FIRST_IP, BCAST);
    assert_int_equal(f->cap.n, 0);
    assert_int_equal(oasis_arp_lookup(f->s, FIRST_IP, mac), OASIS_ENOENT);
    send_to(f, FIRST_IP);
    assert_int_equal(f->cap.n, 1);
    oasis_eth_hdr eh;
    oasis_arp_pkt p = cap_arp(f, 0, &eh);
    assert_int_equal(p.op, OASIS_ARP_REQUEST);
    assert_int_equal(p.tpa, FIRST_IP);
    /* Once the host is known, its GARP is RFC 826's merge: the entry is
     * refreshed with the same MAC. */
    arp_in(f, OASIS_ARP_REPLY, MAC_B, FIRST_IP, MAC_US, SECOND_IP, MAC_US);
    arp_in(f, OASIS_ARP_REQUEST, MAC_B, FIRST_IP, BCAST, FIRST_IP, BCAST);
    assert_int_equal(oasis_arp_lookup(f->s, FIRST_IP, mac), 0);
    assert_memory_equal(mac, MAC_B, 6);
    one_free(f);
}

/* "unsolicited unicast replies are heard and cached": the listener has no
 * address (as mirage's); a reply nobody asked for, not aimed at it. */
static void test_arp_input_single_unicast(void **state)
{
    (void)state;
    one *f = one_new(0, 24, no_garp);
    uint8_t mac[6];
    arp_in(f, OASIS_ARP_REPLY, MAC_B, FIRST_IP, MAC_US, SECOND_IP, MAC_US);
    assert_int_equal(f->cap.n, 0);
    assert_int_equal(ctr(f)->arp.rx_unsolicited, 1);
    assert_int_equal(oasis_arp_lookup(f->s, FIRST_IP, mac), OASIS_ENOENT);
    one_free(f);
}

/* "solicited unicast replies resolve pending threads" */
static void test_arp_input_resolves_wait(void **state)
{
    (void)state;
    one *f = one_new(SECOND_IP, 24, no_garp);
    uint8_t mac[6];
    send_to(f, FIRST_IP); /* waits for resolution */
    assert_int_equal(f->cap.n, 1);
    assert_int_equal(oasis_arp_lookup(f->s, FIRST_IP, mac), OASIS_ENOENT);
    arp_in(f, OASIS_ARP_REPLY, MAC_B, FIRST_IP, MAC_US, SECOND_IP, MAC_US);
    assert_int_equal(oasis_arp_lookup(f->s, FIRST_IP, mac), 0);
    assert_memory_equal(mac, MAC_B, 6);
    /* ...and what waited went to the MAC found. */
    assert_int_equal(f->cap.n, 2);
    oasis_eth_hdr eh;
    assert_int_equal(oasis_eth_parse(f->cap.frame[1], f->cap.len[1], &eh), 0);
    assert_int_equal(eh.type, OASIS_ETHERTYPE_IPV4);
    assert_memory_equal(eh.dst, MAC_B, 6);
    one_free(f);
}

/* "entries are replaced with new information": a second claimant's GARP
 * for a known address. Oasis keeps the old MAC while it asks it, by
 * unicast, whether it is still there; the first claimant is silent (as
 * mirage's, which runs no ARP listener), so the new MAC is taken once
 * arp_retries probes went unanswered. */
static void test_arp_input_replaces_old(void **state)
{
    (void)state;
    one *f = one_new(SECOND_IP, 24, no_garp);
    uint8_t mac[6];
    oasis_eth_hdr eh;
    send_to(f, FIRST_IP);
    arp_in(f, OASIS_ARP_REPLY, MAC_B, FIRST_IP, MAC_US, SECOND_IP, MAC_US);
    assert_int_equal(oasis_arp_lookup(f->s, FIRST_IP, mac), 0);
    assert_memory_equal(mac, MAC_B, 6);
    f->cap.n = 0;
    arp_in(f, OASIS_ARP_REQUEST, MAC_C, FIRST_IP, BCAST, FIRST_IP, BCAST);
    assert_int_equal(oasis_arp_lookup(f->s, FIRST_IP, mac), 0);
    assert_memory_equal(mac, MAC_B, 6); /* not yet */
    assert_int_equal(f->cap.n, 1);
    oasis_arp_pkt p = cap_arp(f, 0, &eh);
    assert_memory_equal(eh.dst, MAC_B, 6); /* the old MAC is asked */
    assert_int_equal(p.tpa, FIRST_IP);
    test_advance(f->s, f->clock, 10 * SEC);
    assert_int_equal(oasis_arp_lookup(f->s, FIRST_IP, mac), 0);
    assert_memory_equal(mac, MAC_C, 6);
    assert_int_equal(ctr(f)->arp.mac_changes, 1);
    one_free(f);
}

static void on_ping(oasis_stack *s, int err, uint16_t seq, uint64_t rtt_ns, void *ud)
{
    (void)s;
    (void)seq;
    (void)rtt_ns;
    *(int *)ud = err == 0 ? 1 : err;
}

/* "unreachable IPs time out" */
static void test_arp_unreachable_times_out(void **state)
{
    (void)state;
    one *f = one_new(SECOND_IP, 24, no_garp);
    int res = 0;
    uint8_t mac[6];
    assert_int_equal(oasis_ping(f->s, FIRST_IP, 1, 1, 8, UINT64_MAX, on_ping, &res), 0);
    test_advance(f->s, f->clock, 60 * SEC);
    assert_int_equal(res, OASIS_EUNREACH);
    assert_int_equal(ctr(f)->arp.resolve_failed, 1);
    assert_int_equal(oasis_arp_lookup(f->s, FIRST_IP, mac), OASIS_ENOENT);
    one_free(f);
}

/* "queries are tried repeatedly before timing out" */
static void test_arp_query_retries(void **state)
{
    (void)state;
    one *f = one_new(SECOND_IP, 24, no_garp);
    send_to(f, FIRST_IP);
    test_advance(f->s, f->clock, 60 * SEC);
    assert_true(f->cap.n > 1);
    for (size_t i = 0; i < f->cap.n; i++)
        expect_request(f, i, SECOND_IP, FIRST_IP); /* mirage's speaker has no address: 0 */
    one_free(f);
}

/* "entries expire": learned, then 90 s without traffic. */
static void test_arp_entries_expire(void **state)
{
    (void)state;
    one *f = one_new(SECOND_IP, 24, no_garp);
    uint8_t mac[6];
    arp_in(f, OASIS_ARP_REQUEST, MAC_B, FIRST_IP, ZERO6, SECOND_IP, BCAST);
    assert_int_equal(oasis_arp_lookup(f->s, FIRST_IP, mac), 0);
    assert_memory_equal(mac, MAC_B, 6);
    test_advance(f->s, f->clock, 90 * SEC);
    assert_int_equal(oasis_arp_lookup(f->s, FIRST_IP, mac), OASIS_ENOENT);
    assert_int_equal(ctr(f)->arp.cache_expired, 1);
    f->cap.n = 0;
    send_to(f, FIRST_IP);
    assert_int_equal(f->cap.n, 1);
    expect_request(f, 0, SECOND_IP, FIRST_IP);
    one_free(f);
}

/* ---- test_ipv4.ml ---- */

#define US4 OASIS_IPV4(10, 0, 0, 1)
#define PEER4 OASIS_IPV4(10, 0, 0, 2)
#define OTHER4 OASIS_IPV4(10, 0, 0, 3)
#define MF 0x2000 /* mirage's off field: the MF bit | offset in 8-byte units */

/* Parsing: the datagrams mirage parses (an IGMP report with a Router
 * Alert option, a TCP RST). */
static const uint8_t DG_OPTS[40] = {
    0x46, 0xc0, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x01, 0x02, 0x42, 0x49, 0xc0, 0xa8,
    0x01, 0x08, 0xe0, 0x00, 0x00, 0x16, 0x94, 0x04, 0x00, 0x00, 0x22, 0x00, 0xfa, 0x02,
    0x00, 0x00, 0x00, 0x01, 0x03, 0x00, 0x00, 0x00, 0xe0, 0x00, 0x00, 0xfb};
static const uint8_t DG_PLAIN[40] = {
    0x45, 0x00, 0x00, 0x28, 0x19, 0x29, 0x40, 0x00, 0x34, 0x06, 0x98, 0x75, 0x36, 0xb7,
    0x9c, 0xca, 0xc0, 0xa8, 0x01, 0x08, 0x00, 0x50, 0xca, 0xa6, 0x6f, 0x19, 0xf4, 0x76,
    0x00, 0x00, 0x00, 0x00, 0x50, 0x04, 0x00, 0x00, 0xec, 0x27, 0x00, 0x00};

static void test_ipv4_unmarshal_with_options(void **state)
{
    (void)state;
    oasis_ipv4_hdr h;
    assert_int_equal(oasis_ipv4_parse(DG_OPTS, sizeof DG_OPTS, &h), 0);
    assert_int_equal(h.options_len, 4);
    assert_int_equal(h.payload_len, 16);
}

static void test_ipv4_unmarshal_without_options(void **state)
{
    (void)state;
    oasis_ipv4_hdr h;
    assert_int_equal(oasis_ipv4_parse(DG_PLAIN, sizeof DG_PLAIN, &h), 0);
    assert_int_equal(h.options_len, 0);
    assert_int_equal(h.payload_len, 20);
}

/* "unmarshal ip datagram with no payload & hlen > 5": IHL 9 in 20 bytes. */
static void test_ipv4_unmarshal_regression(void **state)
{
    (void)state;
    uint8_t p[20];
    oasis_ipv4_hdr h;
    memset(p, 0x30, sizeof p);
    p[0] = 0x49;
    assert_true(oasis_ipv4_parse(p, sizeof p, &h) < 0);
}

/* "size": a header with 4 bytes of options and an 8-byte payload, written
 * and read back. Mirage's options are "aaaa": option type 97 with length 97
 * in a 4-byte option field, which Oasis refuses as malformed (RFC 791
 * option format); well-formed options go through unchanged. */
static void test_ipv4_size(void **state)
{
    (void)state;
    static const uint8_t aaaa[4] = {'a', 'a', 'a', 'a'};
    static const uint8_t ra[4] = {0x94, 0x04, 0x00, 0x00}; /* Router Alert */
    const uint8_t *opts[2] = {aaaa, ra};
    for (int i = 0; i < 2; i++) {
        uint8_t buf[OASIS_IPV4_HLEN + 4 + 8];
        oasis_ipv4_hdr h, g;
        memset(&h, 0, sizeof h);
        h.total_len = sizeof buf;
        h.ttl = 64;
        h.proto = OASIS_IPPROTO_UDP;
        h.src = OASIS_IPV4(127, 0, 0, 1);
        h.dst = OASIS_IPV4(127, 0, 0, 2);
        oasis_ipv4_emit_opts(buf, &h, opts[i], 4);
        memcpy(buf + OASIS_IPV4_HLEN + 4, "abcdefgh", 8);
        int rc = oasis_ipv4_parse(buf, sizeof buf, &g);
        if (i == 0) {
            assert_int_equal(rc, OASIS_EMALFORMED);
            continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(g.src, h.src);
        assert_int_equal(g.dst, h.dst);
        assert_int_equal(g.proto, h.proto);
        assert_int_equal(g.ttl, 64);
        assert_int_equal(g.id, 0);
        assert_int_equal(g.frag_off, 0);
        assert_int_equal(g.mf, 0);
        assert_int_equal(g.options_len, 4);
        assert_memory_equal(g.options, ra, 4);
        assert_int_equal(g.payload_len, 8);
        assert_memory_equal(g.payload, "abcdefgh", 8);
    }
}

/* Reassembly, through the whole receive path: fragments of protocol 253
 * (254 for "another flow") are handed to the stack in frames, and a
 * handler registered for the protocol sees what IP delivers. */

static void on_dgram(oasis_stack *s, const oasis_ip_packet *pkt, void *ud)
{
    (void)s;
    one *f = ud;
    f->delivered++;
    free(f->got);
    f->got = malloc(pkt->len ? pkt->len : 1);
    assert_non_null(f->got);
    memcpy(f->got, pkt->payload, pkt->len);
    f->got_len = pkt->len;
}

static one *reasm_new(void (*tweak)(oasis_stack_config *))
{
    one *f = one_new(US4, 24, tweak ? tweak : no_garp);
    assert_int_equal(oasis_ip_register(f->s, 253, on_dgram, NULL, f), 0);
    assert_int_equal(oasis_ip_register(f->s, 254, on_dgram, NULL, f), 0);
    return f;
}

/* One fragment: off is mirage's field (MF | offset in 8-byte units). */
static void frag_in(one *f, uint32_t src, uint8_t proto, uint16_t id, uint16_t off,
                    const uint8_t *data, size_t len)
{
    size_t n = OASIS_ETH_HLEN + OASIS_IPV4_HLEN + len;
    uint8_t *fr = malloc(n);
    assert_non_null(fr);
    oasis_ipv4_hdr h;
    memset(&h, 0, sizeof h);
    h.total_len = (uint16_t)(OASIS_IPV4_HLEN + len);
    h.id = id;
    h.ttl = 64;
    h.proto = proto;
    h.src = src;
    h.dst = US4;
    h.mf = (off & MF) != 0;
    h.frag_off = (uint16_t)((off & 0x1fff) * 8);
    oasis_eth_emit(fr, MAC_US, MAC_B, OASIS_ETHERTYPE_IPV4);
    oasis_ipv4_emit(fr + OASIS_ETH_HLEN, &h);
    memcpy(fr + OASIS_ETH_HLEN + OASIS_IPV4_HLEN, data, len);
    oasis_stack_input(f->s, fr, n);
    free(fr);
}

static uint8_t WHITE[16], BLACK[16], GRAY[16], GRAY2[32], BLACK3[48], ZEROS[1024];

static void colours(void)
{
    memset(WHITE, 0, 16);
    memset(BLACK, 0xff, 16);
    memset(GRAY, 0x55, 16);
    memset(GRAY2, 0x55, 32);
    memset(BLACK3, 0xff, 48);
    memset(ZEROS, 0, sizeof ZEROS);
}

typedef struct fragdef {
    uint16_t off;
    const uint8_t *data;
    size_t len;
} fragdef;

/* What first-data-wins reassembly (reasm.c) makes of the fragments in
 * this order: the datagram's length, or 0 when it is incomplete (a hole,
 * or no last fragment). */
static size_t first_wins(const fragdef *fr, size_t n, uint8_t *out, size_t cap)
{
    static uint8_t have[65536];
    size_t total = 0;
    int last = 0;
    memset(have, 0, sizeof have);
    for (size_t i = 0; i < n; i++) {
        size_t off = (size_t)(fr[i].off & 0x1fff) * 8;
        if (!(fr[i].off & MF)) {
            last = 1;
            total = off + fr[i].len;
        }
        for (size_t k = 0; k < fr[i].len && off + k < cap; k++)
            if (!have[off + k]) {
                have[off + k] = 1;
                out[off + k] = fr[i].data[k];
            }
    }
    if (!last)
        return 0;
    for (size_t k = 0; k < total; k++)
        if (!have[k])
            return 0;
    return total;
}

/* Hands the fragments over in order under a fresh id: nothing may be
 * delivered before the last; after it, want (want_len bytes) or nothing
 * (want NULL). */
static void run_frags(one *f, const fragdef *fr, size_t n, const uint8_t *want, size_t want_len)
{
    static uint16_t id = 100;
    id++;
    int before = f->delivered;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(f->delivered, before);
        frag_in(f, PEER4, 253, id, fr[i].off, fr[i].data, fr[i].len);
    }
    if (!want) {
        assert_int_equal(f->delivered, before);
        return;
    }
    assert_int_equal(f->delivered, before + 1);
    assert_int_equal(f->got_len, want_len);
    assert_memory_equal(f->got, want, want_len);
}

typedef void (*order_fn)(one *f, const fragdef *fr, size_t n, void *ud);

/* check on every order of fr[0..n) (n <= 5), lexicographic in idx[]. */
static void each_order(one *f, const fragdef *fr, size_t n, order_fn check, void *ud)
{
    size_t idx[5];
    fragdef o[5];
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (;;) {
        for (size_t i = 0; i < n; i++)
            o[i] = fr[idx[i]];
        check(f, o, n, ud);
        /* next permutation (lexicographic) */
        size_t i = n - 1;
        while (i > 0 && idx[i - 1] >= idx[i])
            i--;
        if (i == 0)
            return;
        size_t j = n - 1;
        while (idx[j] <= idx[i - 1])
            j--;
        size_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
        for (size_t a = i, b = n - 1; a < b; a++, b--) {
            t = idx[a];
            idx[a] = idx[b];
            idx[b] = t;
        }
    }
}

/* The fragments, adjacent, make their concatenation (first_wins finds it). */
static void expect_concat(one *f, const fragdef *fr, size_t n, void *ud)
{
    (void)ud;
    uint8_t want[2048];
    size_t len = first_wins(fr, n, want, sizeof want);
    assert_true(len > 0);
    run_frags(f, fr, n, want, len);
}

/* "basic fragment 0..7: payload 0, 1, 2, 10, 100, 1000, 5000, 10000": a
 * datagram that is no fragment goes up as it is; the same with offset 1
 * and no MF is a tail whose head never came: nothing. */
static void test_ipv4_basic_fragment(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 2, 10, 100, 1000, 5000, 10000};
    one *f = reasm_new(NULL);
    uint8_t *pl = calloc(1, 10000);
    assert_non_null(pl);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int before = f->delivered;
        frag_in(f, PEER4, 253, (uint16_t)(1 + i), 0, pl, sizes[i]);
        assert_int_equal(f->delivered, before + 1);
        assert_int_equal(f->got_len, sizes[i]);
        frag_in(f, PEER4, 253, (uint16_t)(1 + i), 1, pl, sizes[i]);
        assert_int_equal(f->delivered, before + 1);
    }
    free(pl);
    one_free(f);
}

static void test_ipv4_basic_reassembly(void **state)
{
    (void)state;
    colours();
    one *f = reasm_new(NULL);
    const fragdef fr[] = {{MF, BLACK, 16}, {2, WHITE, 16}};
    expect_concat(f, fr, 2, NULL); /* black, white */
    one_free(f);
}

/* "basic reassembly timeout": mirage's 10 s is Oasis's cfg.reasm_timeout_ns
 * (30 s by default). Each of mirage's branches from the same cache is a
 * datagram of its own here, all begun at the same instant. */
static void test_ipv4_basic_reassembly_timeout(void **state)
{
    (void)state;
    colours();
    one *f = reasm_new(NULL);
    uint64_t t0 = oasis_clock_now(f->clock), T = 30 * SEC;
    for (uint16_t id = 1; id <= 3; id++)
        frag_in(f, PEER4, 253, id, MF, BLACK, 16);
    test_advance(f->s, f->clock, T - 1);
    assert_int_equal(oasis_clock_now(f->clock), t0 + T - 1);
    frag_in(f, PEER4, 253, 1, 2, WHITE, 16); /* just before: complete */
    assert_int_equal(f->delivered, 1);
    assert_int_equal(f->got_len, 32);
    assert_memory_equal(f->got, BLACK, 16);
    frag_in(f, PEER4, 253, 3, 2 | MF, GRAY, 16);
    assert_int_equal(f->delivered, 1);
    frag_in(f, PEER4, 253, 3, 4, WHITE, 16);
    assert_int_equal(f->delivered, 2);
    assert_int_equal(f->got_len, 48);
    assert_memory_equal(f->got + 16, GRAY, 16);
    test_advance(f->s, f->clock, 1); /* the timeout */
    assert_int_equal(ctr(f)->ip.reasm_timeouts, 1);
    frag_in(f, PEER4, 253, 2, 2, WHITE, 16); /* at it: gone */
    assert_int_equal(f->delivered, 2);
    one_free(f);
}

static void test_ipv4_reassembly_out_of_order(void **state)
{
    (void)state;
    colours();
    one *f = reasm_new(NULL);
    const fragdef fr[] = {{2, GRAY, 16}, {MF, BLACK, 16}};
    expect_concat(f, fr, 2, NULL); /* black, gray */
    one_free(f);
}

/* "other ip flow": the second fragment from another source, or of
 * another protocol, belongs to another datagram. */
static void test_ipv4_other_ip_flow(void **state)
{
    (void)state;
    colours();
    one *f = reasm_new(NULL);
    frag_in(f, PEER4, 253, 7, MF, BLACK, 16);
    frag_in(f, OTHER4, 253, 7, 2, WHITE, 16);
    frag_in(f, PEER4, 254, 7, 2, WHITE, 16);
    assert_int_equal(f->delivered, 0);
    one_free(f);
}

/* "maximum amount of fragments": 16 fragments and a last one make a
 * datagram (both agree). Mirage caps a datagram at 17 fragments and
 * drops an 18-fragment one; Oasis's cap is 128 pieces (reasm.c: what a
 * 576-byte path makes of 65535 bytes), so 18 go through and 129 do not. */
static void test_ipv4_maximum_amount_of_fragments(void **state)
{
    (void)state;
    colours();
    one *f = reasm_new(NULL);
    const uint8_t *c16[16] = {WHITE, GRAY, BLACK, WHITE, WHITE, GRAY, BLACK, WHITE,
                              WHITE, GRAY, BLACK, WHITE, WHITE, GRAY, BLACK, GRAY};
    uint8_t want[18 * 16];
    for (int round = 0; round < 2; round++) {
        uint16_t id = (uint16_t)(50 + round), off = 0;
        size_t len = 0;
        int n = 16 + round; /* 16, then 17 fragments with MF */
        for (int i = 0; i < n; i++) {
            const uint8_t *c = i < 16 ? c16[i] : WHITE;
            frag_in(f, PEER4, 253, id, (uint16_t)(off | MF), c, 16);
            memcpy(want + len, c, 16);
            len += 16;
            off += 2;
        }
        assert_int_equal(f->delivered, round);
        frag_in(f, PEER4, 253, id, off, WHITE, 16);
        memcpy(want + len, WHITE, 16);
        len += 16;
        assert_int_equal(f->delivered, round + 1);
        assert_int_equal(f->got_len, len);
        assert_memory_equal(f->got, want, len);
    }
    /* Oasis's own bound: 129 pieces. */
    for (uint16_t i = 0; i < 129; i++)
        frag_in(f, PEER4, 253, 60, (uint16_t)(i | MF), ZEROS, 8);
    frag_in(f, PEER4, 253, 60, 129, ZEROS, 8);
    assert_int_equal(f->delivered, 2);
    assert_int_equal(ctr(f)->ip.reasm_too_many_frags, 1);
    one_free(f);
}

/* "ressembly multiple 0..156": adjacent fragments in these orders, and
 * every order of 3, 4 and 5 of them, make the datagram. */
static void test_ipv4_ressembly_multiple(void **state)
{
    (void)state;
    colours();
    one *f = reasm_new(NULL);
    uint8_t want[1048];
    const fragdef c0[] = {{MF, WHITE, 16}, {2, BLACK, 16}};
    const fragdef c1[] = {{MF, BLACK, 16}, {2, WHITE, 16}};
    const fragdef c2[] = {{2, BLACK, 16}, {MF, WHITE, 16}};
    const fragdef c3[] = {{2, WHITE, 16}, {MF, BLACK, 16}};
    const fragdef c4[] = {{MF, ZEROS, 984}, {123, BLACK, 16}};
    const fragdef c5[] = {{MF, ZEROS, 984}, {123 | MF, BLACK, 16}, {125, GRAY, 16}};
    const fragdef c6[] = {{MF, ZEROS, 1000}, {125, BLACK3, 48}};
    memcpy(want, WHITE, 16);
    memcpy(want + 16, BLACK, 16);
    run_frags(f, c0, 2, want, 32);
    run_frags(f, c2, 2, want, 32);
    memcpy(want, BLACK, 16);
    memcpy(want + 16, WHITE, 16);
    run_frags(f, c1, 2, want, 32);
    run_frags(f, c3, 2, want, 32);
    memset(want, 0, 984);
    memcpy(want + 984, BLACK, 16);
    run_frags(f, c4, 2, want, 1000);
    memcpy(want + 1000, GRAY, 16);
    run_frags(f, c5, 3, want, 1016);
    memset(want, 0, 1000);
    memcpy(want + 1000, BLACK3, 48);
    run_frags(f, c6, 2, want, 1048);
    assert_int_equal(f->delivered, 7);
    const fragdef p3[] = {{MF, GRAY, 16}, {2 | MF, WHITE, 16}, {4, BLACK, 16}};
    const fragdef p4[] = {{MF, GRAY, 16}, {2 | MF, WHITE, 16}, {4 | MF, BLACK, 16}, {6, ZEROS, 10}};
    const fragdef p5[] = {{MF, BLACK, 16}, {2 | MF, GRAY, 16}, {4 | MF, WHITE, 16},
                          {6 | MF, BLACK, 16}, {8, GRAY, 16}};
    each_order(f, p3, 3, expect_concat, NULL);
    each_order(f, p4, 4, expect_concat, NULL);
    each_order(f, p5, 5, expect_concat, NULL);
    assert_int_equal(f->delivered, 7 + 6 + 24 + 120);
    one_free(f);
}

/* Mirage returns nothing for all of these. Those with a hole or without
 * a last fragment stay incomplete in Oasis too; those whose fragments
 * overlap but cover the datagram are delivered by Oasis, the bytes that
 * came first winning (RFC 791 allows overlap; reasm.c). */
static void expect_oasis(one *f, const fragdef *fr, size_t n, void *ud)
{
    int delivers = *(const int *)ud;
    uint8_t want[2048];
    size_t len = first_wins(fr, n, want, sizeof want);
    assert_int_equal(len > 0, delivers);
    run_frags(f, fr, n, delivers ? want : NULL, len);
}

/* "nothing returned" (basic_overlaps): a tail that overlaps the head. */
static void test_ipv4_nothing_returned(void **state)
{
    (void)state;
    colours();
    one *f = reasm_new(NULL);
    int yes = 1;
    const fragdef fr[] = {{1, BLACK, 16}, {MF, WHITE, 16}};
    expect_oasis(f, fr, 2, &yes);
    /* white's first 8 bytes, then black's 16 */
    assert_int_equal(f->got_len, 24);
    assert_memory_equal(f->got, WHITE, 8);
    assert_memory_equal(f->got + 8, BLACK, 16);
    one_free(f);
}

static void no_garp_small_reasm(oasis_stack_config *c)
{
    c->arp_gratuitous = 0;
    c->reasm_max_bytes = 1000; /* mirage's cache of 1000 bytes */
}

/* "nothing returned 0..163" */
static void test_ipv4_nothing_returned_n(void **state)
{
    (void)state;
    colours();
    one *f = reasm_new(NULL);
    int yes = 1, no = 0;
    /* 0 (overlap), 1 (hole) */
    const fragdef n0[] = {{MF, WHITE, 16}, {1, BLACK, 16}};
    const fragdef n1[] = {{MF, BLACK, 16}, {3, WHITE, 16}};
    expect_oasis(f, n0, 2, &yes);
    expect_oasis(f, n1, 2, &no);
    /* 2 and 3: complete, above mirage's test cache of 1000 bytes. Within
     * Oasis's bound (256 KiB by default) they go through; under a bound of
     * 1000 bytes they are dropped, as mirage's. */
    const fragdef n2[] = {{MF, ZEROS, 992}, {124 | MF, BLACK, 16}, {126, GRAY, 16}};
    const fragdef n3[] = {{MF, ZEROS, 1024}, {128, BLACK, 16}};
    expect_oasis(f, n2, 3, &yes);
    expect_oasis(f, n3, 2, &yes);
    one *g = reasm_new(no_garp_small_reasm);
    run_frags(g, n2, 3, NULL, 0);
    run_frags(g, n3, 2, NULL, 0);
    assert_true(ctr(g)->ip.reasm_overflows >= 2);
    one_free(g);
    /* 4..163: every order of each */
    static const struct {
        fragdef fr[4];
        size_t n;
        int delivers;
    } perm[] = {
        {{{MF, GRAY, 16}, {2 | MF, WHITE, 16}, {3, BLACK, 16}}, 3, 1},          /* 4-9 */
        {{{MF, GRAY, 16}, {2 | MF, WHITE, 16}, {5, BLACK, 16}}, 3, 0},          /* 10-15 */
        {{{MF, GRAY, 16}, {3 | MF, WHITE, 16}, {4, BLACK, 16}}, 3, 0},          /* 16-21 */
        {{{MF, GRAY, 16}, {3 | MF, WHITE, 16}, {5, BLACK, 16}}, 3, 0},          /* 22-27 */
        {{{MF, GRAY, 16}, {1 | MF, WHITE, 16}, {3, BLACK, 16}}, 3, 1},          /* 28-33 */
        {{{MF, GRAY, 16}, {1 | MF, WHITE, 16}, {4, BLACK, 16}}, 3, 0},          /* 34-39 */
        {{{MF, GRAY2, 32}, {3 | MF, WHITE, 16}}, 2, 0},                         /* 40-41 */
        {{{MF, GRAY2, 32}, {2 | MF, WHITE, 16}}, 2, 0},                         /* 42-43 */
        {{{MF, GRAY, 16}, {2 | MF, WHITE, 16}, {4 | MF, BLACK, 16}, {6 | MF, GRAY, 16}}, 4, 0},
        {{{MF, GRAY, 16}, {2 | MF, WHITE, 16}, {4 | MF, BLACK, 16}, {5, GRAY, 16}}, 4, 1},
        {{{MF, GRAY, 16}, {4 | MF, WHITE, 16}, {4 | MF, BLACK, 16}, {6, GRAY, 16}}, 4, 0},
        {{{MF, GRAY, 16}, {1 | MF, WHITE, 16}, {3 | MF, BLACK, 16}, {5, GRAY, 16}}, 4, 1},
        {{{MF, GRAY, 16}, {2 | MF, WHITE, 16}, {4 | MF, BLACK, 16}, {7, GRAY, 16}}, 4, 0},
    };
    int cases = 4, delivered = f->delivered;
    for (size_t i = 0; i < sizeof perm / sizeof perm[0]; i++) {
        int before = f->delivered, orders = perm[i].n == 2 ? 2 : perm[i].n == 3 ? 6 : 24;
        each_order(f, perm[i].fr, perm[i].n, expect_oasis,
                   (void *)(perm[i].delivers ? &yes : &no));
        assert_int_equal(f->delivered - before, perm[i].delivers ? orders : 0);
        cases += orders;
    }
    assert_int_equal(cases, 164);
    assert_int_equal(f->delivered - delivered, 6 + 6 + 24 + 24);
    one_free(f);
}

/* "simple fragment": mirage cuts for an MTU of 36 (16 bytes a fragment);
 * Oasis's smallest MTU is 576 (552 bytes a fragment), so the payloads are
 * 64 fragments' worth and 6 bytes more (65 fragments, the last a 26-byte
 * datagram), then exactly 64 fragments' worth (the last a full one). */
static void mtu576(oasis_stack_config *c)
{
    c->arp_gratuitous = 0;
    c->mtu = 576;
}

static void test_ipv4_simple_fragment(void **state)
{
    (void)state;
    one *f = one_new(US4, 24, mtu576);
    test_learn_peer4(f->s, MAC_US, US4, MAC_B, PEER4);
    f->cap.n = 0;
    static uint8_t pl[64 * 552 + 6];
    const size_t lens[2] = {64 * 552 + 6, 64 * 552};
    const size_t nfr[2] = {65, 64}, last_len[2] = {26, 572}, last_off[2] = {64 * 552, 63 * 552};
    for (int r = 0; r < 2; r++) {
        f->cap.n = 0;
        assert_int_equal(oasis_ip_send(f->s, PEER4, 253, pl, lens[r], 0), 0);
        assert_int_equal(f->cap.n, nfr[r]);
        oasis_ipv4_hdr h[2];
        oasis_eth_hdr eh;
        size_t idx[2] = {1, f->cap.n - 1}; /* the second and the last */
        for (int k = 0; k < 2; k++) {
            assert_int_equal(oasis_eth_parse(f->cap.frame[idx[k]], f->cap.len[idx[k]], &eh), 0);
            assert_int_equal(oasis_ipv4_parse(eh.payload, eh.payload_len, &h[k]), 0);
        }
        assert_int_equal(h[0].mf, 1);
        assert_int_equal(h[0].frag_off, 552);
        assert_int_equal(h[1].mf, 0);
        assert_int_equal(h[1].frag_off, last_off[r]);
        assert_int_equal(h[1].total_len, last_len[r]);
        assert_int_equal(h[0].id, h[1].id); /* one id for all */
    }
    one_free(f);
}

/* ---- test_icmpv4.ml ---- */

#define LISTENER4 OASIS_IPV4(192, 168, 222, 1)
#define SPEAKER4 OASIS_IPV4(192, 168, 222, 10)

/* An IPv4 datagram from the peer (MAC_B, src) to the stack's MAC. */
static void ip_in(one *f, uint32_t src, uint32_t dst, uint8_t proto, const uint8_t *pl, size_t n)
{
    uint8_t fr[1600];
    oasis_ipv4_hdr h;
    assert_true(n <= sizeof fr - OASIS_ETH_HLEN - OASIS_IPV4_HLEN);
    memset(&h, 0, sizeof h);
    h.total_len = (uint16_t)(OASIS_IPV4_HLEN + n);
    h.id = 9;
    h.ttl = 64;
    h.proto = proto;
    h.src = src;
    h.dst = dst;
    oasis_eth_emit(fr, MAC_US, MAC_B, OASIS_ETHERTYPE_IPV4);
    oasis_ipv4_emit(fr + OASIS_ETH_HLEN, &h);
    memcpy(fr + OASIS_ETH_HLEN + OASIS_IPV4_HLEN, pl, n);
    oasis_stack_input(f->s, fr, OASIS_ETH_HLEN + OASIS_IPV4_HLEN + n);
}

/* Captured frame i as IPv4 (header in *h, fails if it is not). */
static void cap_ip(const one *f, size_t i, oasis_ipv4_hdr *h)
{
    oasis_eth_hdr eh;
    assert_true(i < f->cap.n);
    assert_int_equal(oasis_eth_parse(f->cap.frame[i], f->cap.len[i], &eh), 0);
    assert_int_equal(eh.type, OASIS_ETHERTYPE_IPV4);
    assert_int_equal(oasis_ipv4_parse(eh.payload, eh.payload_len, h), 0);
}

static void test_icmpv4_short_read(void **state)
{
    (void)state;
    uint8_t four[4] = {0};
    oasis_icmp_hdr h;
    assert_true(oasis_icmp_parse(four, sizeof four, &h) < 0);
}

static void echo_in(one *f, uint32_t dst, uint16_t id, uint16_t seq, const char *pl)
{
    uint8_t m[64];
    size_t n = 8 + strlen(pl);
    memcpy(m + 8, pl, strlen(pl));
    oasis_icmp_emit(m, n, OASIS_ICMP_ECHO, 0, (uint32_t)id << 16 | seq);
    ip_in(f, SPEAKER4, dst, OASIS_IPPROTO_ICMP, m, n);
}

/* "echo requests elicit an echo reply" */
static void test_icmpv4_echo_request(void **state)
{
    (void)state;
    static const char pl[] = "plz reply i'm so lonely";
    one *f = one_new(LISTENER4, 24, no_garp);
    test_learn_peer4(f->s, MAC_US, LISTENER4, MAC_B, SPEAKER4); /* mirage's static ARP */
    f->cap.n = 0;
    echo_in(f, LISTENER4, 0x1234, 0x01, pl);
    assert_int_equal(f->cap.n, 1);
    oasis_ipv4_hdr h;
    oasis_icmp_hdr ic;
    cap_ip(f, 0, &h);
    assert_int_equal(h.proto, OASIS_IPPROTO_ICMP);
    assert_int_equal(h.src, LISTENER4);
    assert_int_equal(h.dst, SPEAKER4);
    assert_int_equal(oasis_icmp_parse(h.payload, h.payload_len, &ic), 0);
    assert_int_equal(ic.type, OASIS_ICMP_ECHO_REPLY);
    assert_int_equal(ic.code, 0);
    assert_int_equal(ic.rest >> 16, 0x1234);
    assert_int_equal(ic.rest & 0xffff, 0x01);
    assert_int_equal(ic.payload_len, strlen(pl));
    assert_memory_equal(ic.payload, pl, strlen(pl));
    one_free(f);
}

/* "echo requests for other ips don't elicit an echo reply": sent to the
 * listener's MAC, for an address on its subnet that is not its own. */
static void test_icmpv4_echo_silent(void **state)
{
    (void)state;
    one *f = one_new(LISTENER4, 24, no_garp);
    test_learn_peer4(f->s, MAC_US, LISTENER4, MAC_B, SPEAKER4);
    f->cap.n = 0;
    echo_in(f, OASIS_IPV4(192, 168, 222, 90), 0xff, 0x4341, "");
    assert_int_equal(f->cap.n, 0);
    assert_int_equal(ctr(f)->icmp.out_echo_reps, 0);
    assert_int_equal(ctr(f)->ip.in_addr_errors, 1);
    one_free(f);
}

static void on_udp_err(oasis_stack *s, const oasis_udp_error *e, void *ud)
{
    (void)s;
    *(oasis_udp_error *)ud = *e;
}

static void on_udp_drop(oasis_stack *s, const oasis_ipaddr *src, uint16_t sp,
                        const oasis_ipaddr *dst, uint16_t dp, const uint8_t *d, size_t n, void *ud)
{
    (void)s, (void)src, (void)sp, (void)dst, (void)dp, (void)d, (void)n, (void)ud;
}

/* "error messages are written": every datagram the speaker sends draws a
 * destination unreachable, fragmentation needed (code 4, MTU 576) quoting
 * it; the speaker must get it. Oasis is the speaker here: the error reaches
 * the sending port with its type, code and MTU. And Oasis writes errors
 * itself: a datagram to a port nobody bound draws a port unreachable whose
 * payload is the offending IP header (first byte 0x45) and more. */
static void test_icmpv4_write_errors(void **state)
{
    (void)state;
    one *f = one_new(SPEAKER4, 24, no_garp);
    oasis_udp_error e;
    memset(&e, 0, sizeof e);
    test_learn_peer4(f->s, MAC_US, SPEAKER4, MAC_B, LISTENER4);
    assert_int_equal(oasis_udp_bind(f->s, 1212, on_udp_drop, &e), 0);
    assert_int_equal(oasis_udp_set_error_cb(f->s, 1212, on_udp_err), 0);
    f->cap.n = 0;
    assert_int_equal(oasis_udp_send4(f->s, 1212, LISTENER4, 123, "!@#$", 4), 0);
    assert_int_equal(f->cap.n, 1);
    oasis_eth_hdr eh;
    assert_int_equal(oasis_eth_parse(f->cap.frame[0], f->cap.len[0], &eh), 0);
    uint8_t m[8 + 60 + 8];
    size_t q = OASIS_IPV4_HLEN + 8;
    memcpy(m + 8, eh.payload, q);
    oasis_icmp_emit(m, 8 + q, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_FRAG_NEEDED, 576);
    ip_in(f, LISTENER4, SPEAKER4, OASIS_IPPROTO_ICMP, m, 8 + q);
    assert_int_equal(e.type, OASIS_ICMP_DEST_UNREACH);
    assert_int_equal(e.code, OASIS_ICMP_FRAG_NEEDED);
    /* 576 is no smaller than the 32-byte datagram refused, so no answer:
     * Oasis takes the plateau below its size, the floor (RFC 1191 7). */
    assert_int_equal(e.mtu, 68);
    assert_int_equal(e.src_port, 1212);
    assert_int_equal(e.dst_port, 123);

    /* Oasis as the writer of an error. */
    uint8_t u[8 + 4];
    memcpy(u + 8, "!@#$", 4);
    oasis_udp_emit(u, sizeof u, 1212, 9999, LISTENER4, SPEAKER4);
    f->cap.n = 0;
    ip_in(f, LISTENER4, SPEAKER4, OASIS_IPPROTO_UDP, u, sizeof u);
    assert_int_equal(f->cap.n, 1);
    oasis_ipv4_hdr h;
    oasis_icmp_hdr ic;
    cap_ip(f, 0, &h);
    assert_int_equal(oasis_icmp_parse(h.payload, h.payload_len, &ic), 0);
    assert_int_equal(ic.type, OASIS_ICMP_DEST_UNREACH);
    assert_int_equal(ic.code, OASIS_ICMP_PORT_UNREACH);
    assert_true(ic.payload_len >= OASIS_IPV4_HLEN + 8);
    assert_int_equal(ic.payload[0], 0x45);
    one_free(f);
}

/* ---- test_udp.ml ---- */

/* "unmarshal regression": 1016 bytes whose length field says 1024. */
static void test_udp_unmarshal_regression(void **state)
{
    (void)state;
    uint8_t b[1016];
    oasis_udp_hdr h;
    memset(b, 30, sizeof b);
    b[4] = 0x04;
    b[5] = 0x00;
    assert_true(oasis_udp_parse(b, sizeof b, US4, PEER4, &h) < 0);
}

/* "marshal/marshal": a header written in front of 100 bytes and read back.
 * (Mirage's first check, a buffer one byte short refused, is about its
 * OCaml writer's bounds; Oasis's writer takes the caller's buffer.) */
static void test_udp_marshal_marshal(void **state)
{
    (void)state;
    uint8_t b[OASIS_UDP_HLEN + 100];
    oasis_udp_hdr h;
    memset(b, 0, sizeof b);
    uint32_t lo = OASIS_IPV4(127, 0, 0, 1);
    oasis_udp_emit(b, sizeof b, 1, 2, lo, lo);
    assert_int_equal(oasis_udp_parse(b, sizeof b, lo, lo, &h), 0);
    assert_int_equal(h.src_port, 1);
    assert_int_equal(h.dst_port, 2);
    assert_int_equal(h.payload_len, 100);
    assert_memory_equal(h.payload, b + 8, 100);
}

/* "marshal/unmarshal": 0 and 2 bytes are refused; a header saying 20
 * bytes with no checksum, and 12 bytes of data. */
static void test_udp_marshal_unmarshal(void **state)
{
    (void)state;
    uint8_t b[20];
    oasis_udp_hdr h;
    memset(b, 0, sizeof b);
    assert_true(oasis_udp_parse(b, 0, US4, PEER4, &h) < 0);
    assert_true(oasis_udp_parse(b, 2, US4, PEER4, &h) < 0);
    oasis_put16(b, 2000);
    oasis_put16(b + 2, 21);
    oasis_put16(b + 4, 20);
    memcpy(b + 8, "abcdefgh1234", 12);
    assert_int_equal(oasis_udp_parse(b, sizeof b, US4, PEER4, &h), 0);
    assert_int_equal(h.payload_len, 12);
    assert_memory_equal(h.payload, "abcdefgh1234", 12);
}

/* "write packets": to a neighbour whose MAC is known (mirage: a static
 * ARP entry), from port 1212 to 21. Mirage's stack writes to its own
 * address through that entry; Oasis loops its own address back, so the
 * datagram goes to a neighbour. */
static void test_udp_write(void **state)
{
    (void)state;
    static const uint8_t mac[6] = {0x00, 0x16, 0x3e, 0xab, 0xcd, 0xef};
    const uint32_t us = OASIS_IPV4(192, 168, 4, 1), dst = OASIS_IPV4(192, 168, 4, 20);
    one *f = one_new(us, 24, no_garp);
    test_learn_peer4(f->s, MAC_US, us, mac, dst);
    f->cap.n = 0;
    assert_int_equal(oasis_udp_send4(f->s, 1212, dst, 21, "MGET *", 6), 0);
    assert_int_equal(f->cap.n, 1);
    oasis_eth_hdr eh;
    oasis_ipv4_hdr h;
    oasis_udp_hdr u;
    assert_int_equal(oasis_eth_parse(f->cap.frame[0], f->cap.len[0], &eh), 0);
    assert_memory_equal(eh.dst, mac, 6);
    cap_ip(f, 0, &h);
    assert_int_equal(oasis_udp_parse(h.payload, h.payload_len, us, dst, &u), 0);
    assert_int_equal(u.src_port, 1212);
    assert_int_equal(u.dst_port, 21);
    assert_memory_equal(u.payload, "MGET *", 6);
    one_free(f);
}

/* ---- test_checksums.ml ---- */

static const uint8_t EX_UDP[76] = {
    0x45, 0xb8, 0x00, 0x4c, 0xbf, 0x7c, 0x40, 0x00, 0x34, 0x11, 0xdf, 0x65, 0x90, 0x5c, 0x09, 0x16,
    0x0a, 0x89, 0x03, 0x0c, 0x00, 0x7b, 0x00, 0x7b, 0x00, 0x38, 0xf4, 0xfb, 0x24, 0x01, 0x03, 0xee,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x43, 0x47, 0x50, 0x53, 0x00, 0xdc, 0x03, 0xd0, 0x04,
    0x53, 0x76, 0x73, 0x95, 0xdc, 0x03, 0xd0, 0x06, 0xcb, 0xd2, 0x4f, 0xfb, 0xdc, 0x03, 0xd0, 0x06,
    0xcd, 0x57, 0x43, 0xa0, 0xdc, 0x03, 0xd0, 0x06, 0xcd, 0xb6, 0x2e, 0x51};
static const uint8_t EX_TCP[52] = {
    0x45, 0x00, 0x00, 0x34, 0x00, 0x00, 0x40, 0x00, 0x2d, 0x06, 0x47, 0x91, 0x93, 0x4b, 0x65, 0x53,
    0x0a, 0x89, 0x03, 0x0c, 0x01, 0xbb, 0xe5, 0xd0, 0x6f, 0x75, 0x20, 0x55, 0xf6, 0x5e, 0xdb, 0xef,
    0x80, 0x12, 0x72, 0x10, 0xad, 0x83, 0x00, 0x00, 0x02, 0x04, 0x05, 0x48, 0x01, 0x01, 0x04, 0x02,
    0x01, 0x03, 0x03, 0x08};

/* The transport checksum of an example datagram, its last 4 bytes made
 * 0x00001234 when mutate; zero_udp: the UDP checksum field made 0. */
static int verify(const uint8_t *ex, size_t len, int tcp, int mutate, int zero_udp)
{
    uint8_t b[76];
    oasis_ipv4_hdr h;
    memcpy(b, ex, len);
    if (mutate)
        oasis_put32(b + len - 4, 0x1234);
    assert_int_equal(oasis_ipv4_parse(b, len, &h), 0);
    if (zero_udp)
        oasis_put16(b + h.hdr_len + 6, 0);
    if (tcp) {
        oasis_tcp_hdr t;
        return oasis_tcp_parse(h.payload, h.payload_len, h.src, h.dst, OASIS_TCP_SUM_ALL, &t);
    }
    oasis_udp_hdr u;
    return oasis_udp_parse(h.payload, h.payload_len, h.src, h.dst, &u);
}

static void test_checksums_udp_ipv4_correct_positive(void **state)
{
    (void)state;
    assert_int_equal(verify(EX_UDP, sizeof EX_UDP, 0, 0, 0), 0);
}

static void test_checksums_udp_ipv4_correct_negative(void **state)
{
    (void)state;
    assert_int_equal(verify(EX_UDP, sizeof EX_UDP, 0, 1, 0), OASIS_ECHECKSUM);
}

static void test_checksums_udp_ipv4_allows_zero(void **state)
{
    (void)state;
    assert_int_equal(verify(EX_UDP, sizeof EX_UDP, 0, 0, 1), 0);
}

static void test_checksums_tcp_ipv4_correct_positive(void **state)
{
    (void)state;
    assert_int_equal(verify(EX_TCP, sizeof EX_TCP, 1, 0, 0), 0);
}

static void test_checksums_tcp_ipv4_correct_negative(void **state)
{
    (void)state;
    assert_int_equal(verify(EX_TCP, sizeof EX_TCP, 1, 1, 0), OASIS_ECHECKSUM);
}

/* ---- test_ipv6.ml (one stack on the capturing link) ---- */

static oasis_in6 in6(const char *s)
{
    oasis_ipaddr a;
    oasis_in6 r;
    assert_int_equal(oasis_ipaddr_parse(s, &a), 0);
    assert_true(oasis_ipaddr_is_v6(&a));
    memcpy(r.b, a.b, 16);
    return r;
}

static void with_ipv6(oasis_stack_config *c) { c->ipv6 = 1; }

/* An IPv6 packet carrying the ICMPv6 message msg (n bytes, checksum done
 * here), from MAC_B to eth_dst. */
static void icmp6_in(one *f, const uint8_t eth_dst[6], const oasis_in6 *src, const oasis_in6 *dst,
                     uint8_t *msg, size_t n)
{
    uint8_t fr[OASIS_ETH_HLEN + 40 + 64];
    oasis_ipv6_hdr h;
    assert_true(n <= 64);
    oasis_icmp6_finish(msg, n, msg[0], msg[1], oasis_get32(msg + 4), src, dst);
    memset(&h, 0, sizeof h);
    h.payload_len = (uint16_t)n;
    h.next = OASIS_NH_ICMPV6;
    h.hop_limit = 255;
    h.src = *src;
    h.dst = *dst;
    oasis_eth_emit(fr, eth_dst, MAC_B, OASIS_ETHERTYPE_IPV6);
    oasis_ipv6_emit(fr + OASIS_ETH_HLEN, &h);
    memcpy(fr + OASIS_ETH_HLEN + 40, msg, n);
    oasis_stack_input(f->s, fr, OASIS_ETH_HLEN + 40 + n);
}

/* Captured frame i as an ND message of this type (0: not one). */
static int cap_nd(const one *f, size_t i, uint8_t type, oasis_ipv6_hdr *h, oasis_nd_msg *m)
{
    oasis_eth_hdr eh;
    if (oasis_eth_parse(f->cap.frame[i], f->cap.len[i], &eh) != 0 ||
        eh.type != OASIS_ETHERTYPE_IPV6 || oasis_ipv6_parse(eh.payload, eh.payload_len, h) != 0 ||
        h->next != OASIS_NH_ICMPV6 || h->payload_len < 8 || h->payload[0] != type)
        return 0;
    return oasis_nd_parse(h->payload, h->payload_len, m) == 0;
}

static oasis_ipv6_addr_state addr6_state(oasis_stack *s, const oasis_in6 *a)
{
    oasis_ipv6_addr_info info[8];
    size_t n = oasis_ipv6_addrs(s, info, 8);
    for (size_t i = 0; i < n && i < 8; i++)
        if (memcmp(info[i].addr.b, a->b, 16) == 0)
            return (oasis_ipv6_addr_state)info[i].state;
    return 0;
}

/* "NA is sent when a ND is received": a DAD probe (from ::, to the
 * solicited-node group) for an address the stack holds draws an NA from
 * that address to all-nodes (RFC 4861 7.2.4), hop limit 255, S clear. */
static void test_ipv6_dad_na_is_sent(void **state)
{
    (void)state;
    one *f = one_new(US4, 24, with_ipv6);
    oasis_in6 a = in6("fc00::23"), any = in6("::");
    oasis_ipaddr addr = oasis_ipaddr_v6(a.b);
    assert_int_equal(oasis_ipv6_add_addr(f->s, &addr, 64), 0);
    test_advance(f->s, f->clock, 5 * SEC);
    assert_int_equal(addr6_state(f->s, &a), OASIS_IPV6_PREFERRED);
    f->cap.n = 0;
    uint8_t ns[32];
    size_t n = oasis_nd_emit_ns(ns, &a, NULL);
    oasis_in6 sn = oasis_in6_solicited_node(&a);
    icmp6_in(f, MAC_US, &any, &sn, ns, n); /* mirage writes it to the stack's MAC */
    oasis_ipv6_hdr h;
    oasis_nd_msg m;
    size_t i = 0;
    while (i < f->cap.n && !cap_nd(f, i, OASIS_ICMP6_NA, &h, &m))
        i++;
    assert_true(i < f->cap.n);
    oasis_in6 all = in6("ff02::1");
    assert_memory_equal(h.src.b, a.b, 16);
    assert_memory_equal(h.dst.b, all.b, 16);
    assert_int_equal(h.hop_limit, 255);
    assert_int_equal(h.payload[1], 0);
    assert_memory_equal(m.target.b, a.b, 16);
    assert_int_equal(m.na_flags & OASIS_ND_NA_SOLICITED, 0);
    one_free(f);
}

/* "NA is received, stack fails to initialise": the address's DAD probe is
 * answered by an NA for it; the address is a duplicate and never used
 * (RFC 4862 5.4.5). Mirage's stack then refuses to start; an Oasis stack
 * lives on without that address. */
static void test_ipv6_dad_na_is_received(void **state)
{
    (void)state;
    one *f = one_new(US4, 24, with_ipv6);
    oasis_in6 a = in6("fc00::23"), all = in6("ff02::1");
    oasis_ipaddr addr = oasis_ipaddr_v6(a.b);
    test_advance(f->s, f->clock, 5 * SEC); /* the link-local address's own DAD */
    f->cap.n = 0;
    assert_int_equal(oasis_ipv6_add_addr(f->s, &addr, 64), 0);
    assert_int_equal(addr6_state(f->s, &a), OASIS_IPV6_TENTATIVE);
    oasis_ipv6_hdr h;
    oasis_nd_msg m;
    size_t i = 0;
    for (int step = 0; step < 200; step++) {
        for (; i < f->cap.n; i++)
            if (cap_nd(f, i, OASIS_ICMP6_NS, &h, &m) && memcmp(m.target.b, a.b, 16) == 0)
                break;
        if (i < f->cap.n)
            break;
        test_advance(f->s, f->clock, 10 * MS);
    }
    assert_true(i < f->cap.n); /* the probe */
    assert_true(oasis_in6_is_unspecified(&h.src));
    oasis_in6 sn = oasis_in6_solicited_node(&a);
    assert_memory_equal(h.dst.b, sn.b, 16);
    uint8_t na[32];
    size_t n = oasis_nd_emit_na(na, &a, OASIS_ND_NA_OVERRIDE, MAC_B);
    uint8_t mc[6];
    oasis_in6_multicast_mac(&all, mc);
    icmp6_in(f, mc, &a, &all, na, n);
    assert_int_equal(addr6_state(f->s, &a), OASIS_IPV6_DUPLICATE);
    assert_int_equal(ctr(f)->nd.dad_conflicts, 1);
    test_advance(f->s, f->clock, 5 * SEC);
    assert_int_equal(addr6_state(f->s, &a), OASIS_IPV6_DUPLICATE);
    oasis_ipaddr peer;
    assert_int_equal(oasis_ipaddr_parse("fc00::99", &peer), 0);
    assert_true(oasis_udp_send_from(f->s, &addr, 5000, &peer, 9, "x", 1) != 0);
    one_free(f);
}

/* ======================================================================
 * Stacks on the in-memory wire, each behind a link shim that does what
 * mirage's vnetif backend does (vnetif.h).
 * ====================================================================== */

/* "Send a UDP packet from one IPV6 stack and check it is received by
 * another": sent every 50 ms until the receiver has one. */
typedef struct udp_seen {
    int n;
    oasis_ipaddr src, dst;
    uint8_t data[64];
    size_t len;
} udp_seen;

static void on_udp(oasis_stack *s, const oasis_ipaddr *src, uint16_t sp, const oasis_ipaddr *dst,
                   uint16_t dp, const uint8_t *d, size_t len, void *ud)
{
    (void)s, (void)sp, (void)dp;
    udp_seen *u = ud;
    if (u->n++ == 0) {
        u->src = *src;
        u->dst = *dst;
        u->len = len < sizeof u->data ? len : sizeof u->data;
        memcpy(u->data, d, u->len);
    }
}

static int udp_got(void *ud) { return ((udp_seen *)ud)->n > 0; }

static void test_ipv6_pass_udp_traffic(void **state)
{
    (void)state;
    static const char msg[] = "hello on UDP over IPv6";
    const char *const a6[2] = {"fc00::23", "fc00::45"};
    test_vnetif n;
    test_vnetif_init6(&n, VNETIF_BASIC, 1, a6);
    udp_seen u;
    memset(&u, 0, sizeof u);
    assert_int_equal(oasis_udp_bind(n.b, 1234, on_udp, &u), 0);
    oasis_ipaddr dst, src;
    assert_int_equal(oasis_ipaddr_parse(a6[1], &dst), 0);
    assert_int_equal(oasis_ipaddr_parse(a6[0], &src), 0);
    for (int i = 0; i < 60 && !u.n; i++) {
        assert_int_equal(oasis_udp_send(n.a, 4000, &dst, 1234, msg, strlen(msg)), 0);
        oasis_wire_run(n.wire, udp_got, &u, 50 * MS);
    }
    assert_true(u.n > 0);
    assert_true(oasis_ipaddr_eq(&u.src, &src));
    assert_true(oasis_ipaddr_eq(&u.dst, &dst));
    assert_int_equal(u.len, strlen(msg));
    assert_memory_equal(u.data, msg, u.len);
    test_vnetif_fini(&n);
}

/* ======================================================================
 * TCP: a client writes, closes; the server reads to the end, closes.
 * ====================================================================== */

static const char IPERF_MSG[] = "01234567890abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
#define IPERF_MLEN (60 * (sizeof IPERF_MSG - 1)) /* mirage's msg: the 63 bytes 60 times */

typedef struct xfer {
    const uint8_t *data; /* what the client writes: chunk bytes repeated */
    size_t chunk, total;
    size_t issued, pending;
    int cli_err, cli_closing, cli_closed, srv_closed;
    size_t got;
    int bad, eof;
    oasis_flow *cli;
} xfer;

static void cli_closed(oasis_flow *f, int err, void *ud)
{
    (void)f;
    xfer *x = ud;
    assert_int_equal(err, 0);
    x->cli_closed = 1;
}

static void pump(xfer *x);

static void on_written(oasis_flow *f, int err, void *ud)
{
    (void)f;
    xfer *x = ud;
    assert_int_equal(err, 0);
    x->pending--;
    pump(x);
}

/* Up to 16 writes in flight (mirage writes one after the other; more in
 * flight only saves polls), then the close. */
static void pump(xfer *x)
{
    while (x->pending < 16 && x->issued < x->total) {
        size_t n = x->total - x->issued < x->chunk ? x->total - x->issued : x->chunk;
        assert_int_equal(oasis_tcp_write(x->cli, x->data, n, on_written, x), 0);
        x->issued += n;
        x->pending++;
    }
    if (x->issued == x->total && !x->pending && !x->cli_closing) {
        x->cli_closing = 1;
        assert_int_equal(oasis_tcp_close(x->cli, cli_closed, x), 0);
    }
}

static void on_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s;
    xfer *x = ud;
    x->cli_err = err;
    if (err)
        return;
    x->cli = f;
    pump(x);
}

static void srv_closed(oasis_flow *f, int err, void *ud)
{
    (void)f;
    xfer *x = ud;
    assert_int_equal(err, 0);
    x->srv_closed = 1;
}

static void srv_read(oasis_flow *f, int err, const uint8_t *d, size_t len, void *ud)
{
    xfer *x = ud;
    if (err == OASIS_EOF) {
        x->eof = 1;
        assert_int_equal(oasis_tcp_close(f, srv_closed, x), 0);
        return;
    }
    assert_int_equal(err, 0);
    for (size_t i = 0; i < len; i++)
        if (d[i] != x->data[(x->got + i) % x->chunk])
            x->bad = 1;
    x->got += len;
    assert_int_equal(oasis_tcp_read(f, srv_read, x), 0);
}

static void srv_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    assert_int_equal(oasis_tcp_read(f, srv_read, ud), 0);
}

static int xfer_done(void *ud)
{
    const xfer *x = ud;
    return x->cli_err || (x->cli_closed && x->srv_closed);
}

static void xfer_check(const xfer *x)
{
    assert_int_equal(x->cli_err, 0);
    assert_true(x->eof);
    assert_int_equal(x->got, x->total);
    assert_int_equal(x->bad, 0);
    assert_true(x->cli_closed);
    assert_true(x->srv_closed);
}

/* Client a (a6[0]) to server b (a6[1]) port, total bytes of data
 * written chunk by chunk; run for at most limit of wire time. */
static void xfer6(test_vnetif *n, const char *server, uint16_t port, const uint8_t *data, size_t chunk,
                  size_t total, uint64_t limit)
{
    xfer x;
    memset(&x, 0, sizeof x);
    x.data = data;
    x.chunk = chunk;
    x.total = total;
    oasis_ipaddr dst;
    assert_int_equal(oasis_ipaddr_parse(server, &dst), 0);
    assert_int_equal(oasis_tcp_listen(n->b, port, NULL, srv_accept, &x), 0);
    assert_int_equal(oasis_tcp_connect(n->a, &dst, port, NULL, on_connected, &x), 0);
    assert_int_equal(oasis_wire_run(n->wire, xfer_done, &x, limit), 0);
    xfer_check(&x);
}

/* ---- test_connect_ipv6.ml ---- */

static const char *const CONNECT6[2] = {"fc00::23", "fc00::45"};
static const char TEST_STRING[] = "Hello world from Mirage 123456789....";

static void connect6(test_vnetif_backend mode, uint64_t seed)
{
    test_vnetif n;
    test_vnetif_init6(&n, mode, seed, CONNECT6);
    xfer6(&n, CONNECT6[1], 80, (const uint8_t *)TEST_STRING, strlen(TEST_STRING),
          strlen(TEST_STRING), 600 * SEC);
    test_vnetif_fini(&n);
}

static void test_connect_ipv6_two_stacks_basic(void **state)
{
    (void)state;
    connect6(VNETIF_BASIC, 1);
}

static void test_connect_ipv6_two_stacks_x100_uniform_no_payload_packet_loss(void **state)
{
    (void)state;
    uint64_t dropped = 0;
    for (uint64_t seed = 1; seed <= 100; seed++) {
        test_vnetif n;
        test_vnetif_init6(&n, VNETIF_NO_PAYLOAD_LOSS, seed, CONNECT6);
        xfer6(&n, CONNECT6[1], 80, (const uint8_t *)TEST_STRING, strlen(TEST_STRING),
              strlen(TEST_STRING), 600 * SEC);
        dropped += n.drops;
        test_vnetif_fini(&n);
    }
    assert_true(dropped > 0); /* the backend did drop */
}

static void test_connect_ipv6_two_stacks_trailing_bytes(void **state)
{
    (void)state;
    connect6(VNETIF_TRAILING_BYTES, 1);
}

/* ---- test_iperf_ipv6.ml ---- */

#define AMT_QUICK 100000u
#define AMT_SLOW (AMT_QUICK * 1000u)

static uint8_t iperf_chunk[IPERF_MLEN];

static void iperf6(test_vnetif *n, test_vnetif_backend mode, size_t amt, uint64_t limit)
{
    for (size_t i = 0; i < IPERF_MLEN; i++)
        iperf_chunk[i] = (uint8_t)IPERF_MSG[i % (sizeof IPERF_MSG - 1)];
    const char *const a6[2] = {"fc00::23", "fc00::45"};
    test_vnetif_init6(n, mode, 7, a6);
    xfer6(n, a6[1], 5001, iperf_chunk, IPERF_MLEN, amt, limit);
}

/* One iperf run, and what its backend must have done: the MTU backend
 * refused nothing, the lossy ones did lose frames (the 1%-loss one only
 * over the long run: 100 kB is some 70 frames), the outage began and
 * ended. */
static void iperf_case(test_vnetif_backend mode, size_t amt, uint64_t limit)
{
    test_vnetif n;
    iperf6(&n, mode, amt, limit);
    oasis_wire_stats st;
    assert_int_equal(oasis_wire_stats_get(n.wire, NULL, NULL, &st), 0);
    if (mode == VNETIF_MTU_ENFORCED)
        assert_int_equal(n.oversize, 0);
    if (mode == VNETIF_NO_PAYLOAD_LOSS)
        assert_true(n.drops > 0);
    if (mode == VNETIF_UNIFORM_LOSS && amt == AMT_SLOW)
        assert_true(st.dropped_loss > 0);
    if (mode == VNETIF_DROP_1S_AFTER_1MB) {
        assert_int_equal(n.outage, VNETIF_OUTAGE_OVER);
        assert_true(n.drops > 0);
    }
    test_vnetif_fini(&n);
}

#define IPERF(name, mode, amt, limit) \
    static void name(void **state)    \
    {                                 \
        (void)state;                  \
        iperf_case(mode, amt, limit); \
    }
IPERF(test_iperf_ipv6_two_stacks_basic, VNETIF_BASIC, AMT_QUICK, 120 * SEC)
IPERF(test_iperf_ipv6_two_stacks_mtu, VNETIF_MTU_ENFORCED, AMT_QUICK, 120 * SEC)
IPERF(test_iperf_ipv6_two_stacks_trailing_bytes, VNETIF_TRAILING_BYTES, AMT_QUICK, 120 * SEC)
IPERF(test_iperf_ipv6_two_stacks_uniform_packet_loss, VNETIF_UNIFORM_LOSS, AMT_QUICK, 120 * SEC)
IPERF(test_iperf_ipv6_two_stacks_uniform_packet_loss_no_payload, VNETIF_NO_PAYLOAD_LOSS, AMT_QUICK,
      240 * SEC)
IPERF(test_iperf_ipv6_two_stacks_uniform_packet_loss_no_payload_longer, VNETIF_NO_PAYLOAD_LOSS,
      AMT_SLOW, 2400 * SEC)
IPERF(test_iperf_ipv6_two_stacks_basic_longer, VNETIF_BASIC, AMT_SLOW, 2400 * SEC)
IPERF(test_iperf_ipv6_two_stacks_uniform_packet_loss_longer, VNETIF_UNIFORM_LOSS, AMT_SLOW, 2400 * SEC)
/* "iperf with two stacks drop 1 sec after 1 mb": mirage moves 100 kB
 * here, so its outage (after 1 MB on the backend) never starts; the port
 * moves 2 MB so that it does. */
IPERF(test_iperf_ipv6_two_stacks_drop_1sec_after_1mb, VNETIF_DROP_1S_AFTER_1MB, 2000000, 120 * SEC)

/* ---- test_socket.ml ---- */

/* Mirage's socket stacks sit on the host's sockets, all on localhost;
 * Oasis has no socket backend: its counterpart is one stack talking to
 * itself over loopback (127.0.0.1), driven on the virtual clock. */
static int drive(one *f, int (*done)(void *), void *ud, uint64_t limit)
{
    uint64_t end = oasis_clock_now(f->clock) + limit;
    for (;;) {
        oasis_stack_poll(f->s);
        if (done(ud))
            return 0;
        uint64_t next = oasis_stack_next_deadline(f->s), now = oasis_clock_now(f->clock);
        if (next == UINT64_MAX || next > end)
            return OASIS_ETIMEDOUT;
        oasis_clock_set(f->clock, next > now ? next : now);
    }
}

/* "two sockets connect via TCP": connect to port 14041, write "test!",
 * close; the listener reads it. */
static void test_socket_two_connect_tcp(void **state)
{
    (void)state;
    one *f = one_new(US4, 24, no_garp);
    xfer x;
    memset(&x, 0, sizeof x);
    x.data = (const uint8_t *)"test!";
    x.chunk = x.total = 5;
    assert_int_equal(oasis_tcp_listen(f->s, 14041, NULL, srv_accept, &x), 0);
    assert_int_equal(
        oasis_tcp_connect4(f->s, OASIS_IPV4(127, 0, 0, 1), 14041, NULL, on_connected, &x), 0);
    assert_int_equal(drive(f, xfer_done, &x, 60 * SEC), 0);
    xfer_check(&x);
    assert_int_equal(f->cap.n, 0); /* nothing left the host */
    one_free(f);
}

static int ping_done(void *ud) { return *(int *)ud != 0; }

/* "icmp echo-requests are sent": one echo request to localhost; the
 * listener sees exactly one. Oasis has no raw ICMP socket: the stack
 * answers the request it sends itself, one request in, one reply. */
static void test_socket_icmp_echo_request(void **state)
{
    (void)state;
    one *f = one_new(US4, 24, no_garp);
    int res = 0;
    assert_int_equal(oasis_ping(f->s, OASIS_IPV4(127, 0, 0, 1), 0x1dea, 0x0001, 0, 10 * SEC,
                                on_ping, &res),
                     0);
    assert_int_equal(drive(f, ping_done, &res, 20 * SEC), 0);
    assert_int_equal(res, 1);
    assert_int_equal(ctr(f)->icmp.in_echos, 1);
    assert_int_equal(ctr(f)->icmp.in_echo_reps, 1);
    assert_int_equal(f->cap.n, 0);
    one_free(f);
}

/* "file descriptors are not leaked in ...": a stack listens (TCP) or
 * binds (UDP) port 1234 and goes; a second stack does the same. Oasis
 * holds no descriptors: what a stack holds is its memory and its port
 * table. Each stack gives all its memory back (a counting allocator), the
 * port is its own while it lives (a second listen is refused) and free
 * again once unbound. */
enum { LK_V4 = 1, LK_V6 = 2, LK_LOCAL_LO = 4 };

static void accept_none(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s, (void)f, (void)ud;
}

static void on_udp4_drop(oasis_stack *s, uint32_t src, uint16_t sp, uint32_t dst, uint16_t dp,
                         const uint8_t *d, size_t n, void *ud)
{
    (void)s, (void)src, (void)sp, (void)dst, (void)dp, (void)d, (void)n, (void)ud;
}

static void no_leak(int tcp, int ipv6, unsigned fam)
{
    oasis_clock *clock = oasis_clock_new_virtual(1000 * SEC);
    for (int round = 0; round < 2; round++) {
        test_counting c;
        memset(&c, 0, sizeof c);
        oasis_stack_config cfg;
        oasis_stack *s;
        test_stack_config(&cfg, clock, 1);
        cfg.ipv6 = ipv6;
        cfg.alloc = test_count_alloc;
        cfg.alloc_ud = &c;
        assert_int_equal(oasis_stack_create(&cfg, &s), 0);
        oasis_listen_opts lo;
        memset(&lo, 0, sizeof lo);
        lo.families = fam & (LK_V4 | LK_V6);
        if (fam & LK_LOCAL_LO)
            lo.local = oasis_ipaddr_v4(OASIS_IPV4(127, 0, 0, 1));
        for (int again = 0; again < 2; again++) {
            if (tcp) {
                assert_int_equal(oasis_tcp_listen(s, 1234, &lo, accept_none, NULL), 0);
                assert_int_equal(oasis_tcp_listen(s, 1234, &lo, accept_none, NULL),
                                 OASIS_EADDRINUSE);
                if (!again)
                    assert_int_equal(oasis_tcp_unlisten(s, 1234), 0);
            } else if (fam == LK_V4) { /* an IPv4-only bind */
                assert_int_equal(oasis_udp_bind4(s, 1234, on_udp4_drop, NULL), 0);
                assert_int_equal(oasis_udp_bind4(s, 1234, on_udp4_drop, NULL), OASIS_EADDRINUSE);
                if (!again)
                    assert_int_equal(oasis_udp_unbind(s, 1234), 0);
            } else {
                assert_int_equal(oasis_udp_bind(s, 1234, on_udp_drop, NULL), 0);
                assert_int_equal(oasis_udp_bind(s, 1234, on_udp_drop, NULL), OASIS_EADDRINUSE);
                if (!again)
                    assert_int_equal(oasis_udp_unbind(s, 1234), 0);
            }
        }
        assert_true(c.live > 0);
        assert_int_equal(oasis_stack_destroy(s), 0);
        assert_int_equal(c.live, 0);
    }
    oasis_clock_free(clock);
}

#define NO_LEAK(name, tcp, ipv6, fam)        \
    static void name(void **state)           \
    {                                        \
        (void)state;                         \
        no_leak(tcp, ipv6, fam);             \
    }
/* tcpv4 / udpv4: an IPv4 stack; tcpv6 / udpv6: IPv6 only; tcpv4v6 (any):
 * both families, every address; (v4): bound to 127.0.0.1 (UDP binds have
 * no address: every address); (v4v6): a dual stack; (v4 only), (v6
 * only): a dual stack, one family taken (an Oasis UDP bind takes either
 * IPv4 alone or both). */
NO_LEAK(test_socket_no_leak_fds_in_tcpv4, 1, 0, LK_V4)
NO_LEAK(test_socket_no_leak_fds_in_udpv4, 0, 0, LK_V4)
NO_LEAK(test_socket_no_leak_fds_in_tcpv6, 1, 1, LK_V6)
NO_LEAK(test_socket_no_leak_fds_in_udpv6, 0, 1, LK_V6)
NO_LEAK(test_socket_no_leak_fds_in_tcpv4v6, 1, 0, 0)
NO_LEAK(test_socket_no_leak_fds_in_udpv4v6, 0, 0, 0)
NO_LEAK(test_socket_no_leak_fds_in_tcpv4v6_2, 1, 0, LK_LOCAL_LO)
NO_LEAK(test_socket_no_leak_fds_in_udpv4v6_2, 0, 0, LK_LOCAL_LO)
NO_LEAK(test_socket_no_leak_fds_in_tcpv4v6_3, 1, 1, 0)
NO_LEAK(test_socket_no_leak_fds_in_udpv4v6_3, 0, 1, 0)
NO_LEAK(test_socket_no_leak_fds_in_tcpv4v6_4, 1, 1, LK_V4)
NO_LEAK(test_socket_no_leak_fds_in_udpv4v6_4, 0, 1, LK_V4)
NO_LEAK(test_socket_no_leak_fds_in_tcpv4v6_5, 1, 1, LK_V6)
NO_LEAK(test_socket_no_leak_fds_in_udpv4v6_5, 0, 1, LK_V6)

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* test_arp.ml */
        cmocka_unit_test(test_arp_packet),
        cmocka_unit_test(test_arp_nonsense_requests),
        cmocka_unit_test(test_arp_requests_are_responded_to),
        cmocka_unit_test(test_arp_requests_not_us),
        cmocka_unit_test(test_arp_set_ip_sends_garp),
        cmocka_unit_test(test_arp_add_get_remove_ips),
        cmocka_unit_test(test_arp_input_single_garp),
        cmocka_unit_test(test_arp_input_single_unicast),
        cmocka_unit_test(test_arp_input_resolves_wait),
        cmocka_unit_test(test_arp_input_replaces_old),
        cmocka_unit_test(test_arp_unreachable_times_out),
        cmocka_unit_test(test_arp_query_retries),
        cmocka_unit_test(test_arp_entries_expire),
        /* test_ipv4.ml */
        cmocka_unit_test(test_ipv4_unmarshal_with_options),
        cmocka_unit_test(test_ipv4_unmarshal_without_options),
        cmocka_unit_test(test_ipv4_unmarshal_regression),
        cmocka_unit_test(test_ipv4_size),
        cmocka_unit_test(test_ipv4_basic_fragment),
        cmocka_unit_test(test_ipv4_basic_reassembly),
        cmocka_unit_test(test_ipv4_basic_reassembly_timeout),
        cmocka_unit_test(test_ipv4_reassembly_out_of_order),
        cmocka_unit_test(test_ipv4_other_ip_flow),
        cmocka_unit_test(test_ipv4_maximum_amount_of_fragments),
        cmocka_unit_test(test_ipv4_ressembly_multiple),
        cmocka_unit_test(test_ipv4_nothing_returned),
        cmocka_unit_test(test_ipv4_nothing_returned_n),
        cmocka_unit_test(test_ipv4_simple_fragment),
        /* test_ipv6.ml */
        cmocka_unit_test(test_ipv6_pass_udp_traffic),
        cmocka_unit_test(test_ipv6_dad_na_is_sent),
        cmocka_unit_test(test_ipv6_dad_na_is_received),
        /* test_icmpv4.ml */
        cmocka_unit_test(test_icmpv4_short_read),
        cmocka_unit_test(test_icmpv4_echo_request),
        cmocka_unit_test(test_icmpv4_echo_silent),
        cmocka_unit_test(test_icmpv4_write_errors),
        /* test_udp.ml */
        cmocka_unit_test(test_udp_unmarshal_regression),
        cmocka_unit_test(test_udp_marshal_marshal),
        cmocka_unit_test(test_udp_marshal_unmarshal),
        cmocka_unit_test(test_udp_write),
        /* test_checksums.ml */
        cmocka_unit_test(test_checksums_udp_ipv4_correct_positive),
        cmocka_unit_test(test_checksums_udp_ipv4_correct_negative),
        cmocka_unit_test(test_checksums_udp_ipv4_allows_zero),
        cmocka_unit_test(test_checksums_tcp_ipv4_correct_positive),
        cmocka_unit_test(test_checksums_tcp_ipv4_correct_negative),
        /* test_socket.ml */
        cmocka_unit_test(test_socket_two_connect_tcp),
        cmocka_unit_test(test_socket_icmp_echo_request),
        cmocka_unit_test(test_socket_no_leak_fds_in_tcpv4),
        cmocka_unit_test(test_socket_no_leak_fds_in_udpv4),
        cmocka_unit_test(test_socket_no_leak_fds_in_tcpv6),
        cmocka_unit_test(test_socket_no_leak_fds_in_udpv6),
        cmocka_unit_test(test_socket_no_leak_fds_in_tcpv4v6),
        cmocka_unit_test(test_socket_no_leak_fds_in_udpv4v6),
        cmocka_unit_test(test_socket_no_leak_fds_in_tcpv4v6_2),
        cmocka_unit_test(test_socket_no_leak_fds_in_udpv4v6_2),
        cmocka_unit_test(test_socket_no_leak_fds_in_tcpv4v6_3),
        cmocka_unit_test(test_socket_no_leak_fds_in_udpv4v6_3),
        cmocka_unit_test(test_socket_no_leak_fds_in_tcpv4v6_4),
        cmocka_unit_test(test_socket_no_leak_fds_in_udpv4v6_4),
        cmocka_unit_test(test_socket_no_leak_fds_in_tcpv4v6_5),
        cmocka_unit_test(test_socket_no_leak_fds_in_udpv4v6_5),
        /* test_connect_ipv6.ml */
        cmocka_unit_test(test_connect_ipv6_two_stacks_basic),
        cmocka_unit_test(test_connect_ipv6_two_stacks_x100_uniform_no_payload_packet_loss),
        cmocka_unit_test(test_connect_ipv6_two_stacks_trailing_bytes),
        /* test_iperf_ipv6.ml */
        cmocka_unit_test(test_iperf_ipv6_two_stacks_basic),
        cmocka_unit_test(test_iperf_ipv6_two_stacks_mtu),
        cmocka_unit_test(test_iperf_ipv6_two_stacks_trailing_bytes),
        cmocka_unit_test(test_iperf_ipv6_two_stacks_uniform_packet_loss),
        cmocka_unit_test(test_iperf_ipv6_two_stacks_uniform_packet_loss_no_payload),
        cmocka_unit_test(test_iperf_ipv6_two_stacks_uniform_packet_loss_no_payload_longer),
        cmocka_unit_test(test_iperf_ipv6_two_stacks_basic_longer),
        cmocka_unit_test(test_iperf_ipv6_two_stacks_uniform_packet_loss_longer),
        cmocka_unit_test(test_iperf_ipv6_two_stacks_drop_1sec_after_1mb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
