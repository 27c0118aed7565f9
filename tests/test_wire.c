/* Wire formats of Ethernet, ARP, IPv4, ICMP and UDP: real packets written
 * out by hand, emit/parse round trips, and every way of lying about a length.
 * Truncated inputs are copied into malloc'd buffers of exactly their length
 * so that ASan turns any read past the end into a failure. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "arp/arp_wire.h"
#include "core/bytes.h"
#include "core/checksum.h"
#include "core/prng.h"
#include "icmp/icmp_wire.h"
#include "ip/ipv4_wire.h"
#include "link/eth_wire.h"
#include "oasis/error.h"
#include "oasis/ip.h"
#include "udp/udp_wire.h"

/* ---- vectors ---- */

/* A real ARP request ("who has 24.166.173.159? tell 24.166.172.1"),
 * padded to Ethernet's 60-byte minimum. */
static const uint8_t arp_request_frame[60] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x07, 0x0d, 0xaf, 0xf4, 0x54, 0x08, 0x06,
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x00, 0x07, 0x0d, 0xaf, 0xf4, 0x54,
    0x18, 0xa6, 0xac, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0xa6, 0xad, 0x9f,
    /* padding */
};

/* "10.0.0.1 is at 02:00:00:00:00:01", to 10.0.0.2 at 52:54:00:12:34:56. */
static const uint8_t arp_reply[28] = {
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x0a, 0x00, 0x00, 0x02,
};

/* A Windows-style ping: 192.168.1.10 -> 192.168.1.1, TTL 128, IP id 0x1c46,
 * IP checksum 9b1f; ICMP echo id 1 seq 0x21, checksum 4d3a, 32 bytes of
 * "abc...". */
static const uint8_t echo_frame[74] = {
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    /* IPv4 */
    0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x00, 0x00, 0x80, 0x01, 0x9b, 0x1f, 0xc0, 0xa8, 0x01, 0x0a,
    0xc0, 0xa8, 0x01, 0x01,
    /* ICMP */
    0x08, 0x00, 0x4d, 0x3a, 0x00, 0x01, 0x00, 0x21, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
    0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x61,
    0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
};
#define ECHO_IP (echo_frame + 14)
#define ECHO_IP_LEN 60
#define ECHO_ICMP (echo_frame + 34)
#define ECHO_ICMP_LEN 40

/* The IPv4 header of Wikipedia's checksum example (checksum b861). */
static const uint8_t wiki_ip_hdr[20] = {
    0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
    0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
};

/* UDP 10.0.0.2:53000 -> 10.0.0.1:53 carrying "hello, oasis\n", checksum e32f. */
#define UDP_SRC OASIS_IPV4(10, 0, 0, 2)
#define UDP_DST OASIS_IPV4(10, 0, 0, 1)
static const uint8_t udp_dgram[21] = {
    0xcf, 0x08, 0x00, 0x35, 0x00, 0x15, 0xe3, 0x2f, 0x68, 0x65, 0x6c,
    0x6c, 0x6f, 0x2c, 0x20, 0x6f, 0x61, 0x73, 0x69, 0x73, 0x0a,
};

/* ---- helpers ---- */

/* A heap copy of exactly n bytes: one byte more read is an ASan error. */
static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    assert_non_null(d);
    if (n)
        memcpy(d, p, n);
    return d;
}

/* Recomputes the header checksum of an IPv4 header after a test edits it. */
static void ip_fix_csum(uint8_t *ip)
{
    size_t hlen = (size_t)(ip[0] & 0x0f) * 4;
    ip[10] = ip[11] = 0;
    uint16_t c = oasis_csum(ip, hlen);
    memcpy(ip + 10, &c, 2);
}

typedef int (*parse_fn)(const uint8_t *buf, size_t len);

/* Every proper prefix of pkt is refused with `want` (or with any error when
 * want is 0), read from an exact-size buffer. */
static void check_prefixes(parse_fn parse, const uint8_t *pkt, size_t n, size_t from, int want)
{
    for (size_t len = from; len < n; len++) {
        uint8_t *d = dup_exact(pkt, len);
        int err = parse(d, len);
        free(d);
        if (want ? err != want : err >= 0)
            fail_msg("prefix of %zu/%zu bytes: got %s", len, n, oasis_err_name(err));
    }
}

static int eth_parse_only(const uint8_t *b, size_t n)
{
    oasis_eth_hdr h;
    return oasis_eth_parse(b, n, &h);
}
static int arp_parse_only(const uint8_t *b, size_t n)
{
    oasis_arp_pkt p;
    return oasis_arp_parse(b, n, &p);
}
static int ip_parse_only(const uint8_t *b, size_t n)
{
    oasis_ipv4_hdr h;
    return oasis_ipv4_parse(b, n, &h);
}
static int icmp_parse_only(const uint8_t *b, size_t n)
{
    oasis_icmp_hdr h;
    return oasis_icmp_parse(b, n, &h);
}
static int udp_parse_only(const uint8_t *b, size_t n)
{
    oasis_udp_hdr h;
    return oasis_udp_parse(b, n, UDP_SRC, UDP_DST, &h);
}

/* ---- Ethernet ---- */

static void test_eth_parse_emit(void **state)
{
    (void)state;
    oasis_eth_hdr h;
    assert_int_equal(oasis_eth_parse(arp_request_frame, sizeof arp_request_frame, &h), OASIS_OK);
    assert_true(oasis_mac_is_broadcast(h.dst));
    assert_true(oasis_mac_is_multicast(h.dst));
    static const uint8_t src[6] = {0x00, 0x07, 0x0d, 0xaf, 0xf4, 0x54};
    assert_memory_equal(h.src, src, 6);
    assert_false(oasis_mac_is_multicast(h.src));
    assert_false(oasis_mac_is_broadcast(h.src));
    assert_int_equal(h.type, OASIS_ETHERTYPE_ARP);
    assert_ptr_equal(h.payload, arp_request_frame + 14);
    assert_int_equal(h.payload_len, 46);

    uint8_t out[14];
    oasis_eth_emit(out, h.dst, h.src, h.type);
    assert_memory_equal(out, arp_request_frame, 14);

    assert_int_equal(oasis_eth_parse(echo_frame, sizeof echo_frame, &h), OASIS_OK);
    assert_int_equal(h.type, OASIS_ETHERTYPE_IPV4);
    assert_int_equal(h.payload_len, ECHO_IP_LEN);
    oasis_eth_emit(out, h.dst, h.src, h.type);
    assert_memory_equal(out, echo_frame, 14);

    /* A bare header is a valid (empty) frame. */
    uint8_t *d = dup_exact(echo_frame, 14);
    assert_int_equal(oasis_eth_parse(d, 14, &h), OASIS_OK);
    assert_int_equal(h.payload_len, 0);
    free(d);
}

static void test_eth_truncated(void **state)
{
    (void)state;
    check_prefixes(eth_parse_only, echo_frame, OASIS_ETH_HLEN, 0, OASIS_ETRUNCATED);
}

static void test_eth_type(void **state)
{
    (void)state;
    uint8_t f[14];
    memcpy(f, echo_frame, 14);
    static const uint16_t bad[] = {0x0000, 0x002e, 0x05dc, 0x05ff};
    static const uint16_t good[] = {0x0600, 0x0800, 0x0806, 0x86dd, 0xffff};
    oasis_eth_hdr h;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        oasis_put16(f + 12, bad[i]); /* an 802.3 length, not a type */
        assert_int_equal(oasis_eth_parse(f, sizeof f, &h), OASIS_EMALFORMED);
    }
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        oasis_put16(f + 12, good[i]);
        assert_int_equal(oasis_eth_parse(f, sizeof f, &h), OASIS_OK);
        assert_int_equal(h.type, good[i]);
    }
}

/* ---- ARP ---- */

static void test_arp_request(void **state)
{
    (void)state;
    const uint8_t *a = arp_request_frame + 14;
    oasis_arp_pkt p;
    /* The Ethernet padding after the 28 bytes is ignored. */
    assert_int_equal(oasis_arp_parse(a, 46, &p), OASIS_OK);
    assert_int_equal(p.op, OASIS_ARP_REQUEST);
    static const uint8_t sha[6] = {0x00, 0x07, 0x0d, 0xaf, 0xf4, 0x54};
    static const uint8_t zero[6] = {0};
    assert_memory_equal(p.sha, sha, 6);
    assert_int_equal(p.spa, OASIS_IPV4(24, 166, 172, 1));
    assert_memory_equal(p.tha, zero, 6);
    assert_int_equal(p.tpa, OASIS_IPV4(24, 166, 173, 159));

    uint8_t out[OASIS_ARP_LEN];
    oasis_arp_emit(out, &p);
    assert_memory_equal(out, a, OASIS_ARP_LEN);
}

static void test_arp_reply(void **state)
{
    (void)state;
    oasis_arp_pkt p = {
        .op = OASIS_ARP_REPLY,
        .sha = {0x02, 0, 0, 0, 0, 0x01},
        .spa = OASIS_IPV4(10, 0, 0, 1),
        .tha = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56},
        .tpa = OASIS_IPV4(10, 0, 0, 2),
    };
    uint8_t out[OASIS_ARP_LEN];
    oasis_arp_emit(out, &p);
    assert_memory_equal(out, arp_reply, sizeof arp_reply);

    oasis_arp_pkt q;
    uint8_t *d = dup_exact(arp_reply, sizeof arp_reply);
    assert_int_equal(oasis_arp_parse(d, sizeof arp_reply, &q), OASIS_OK);
    free(d);
    assert_int_equal(q.op, p.op);
    assert_memory_equal(q.sha, p.sha, 6);
    assert_memory_equal(q.tha, p.tha, 6);
    assert_int_equal(q.spa, p.spa);
    assert_int_equal(q.tpa, p.tpa);
}

static void test_arp_truncated(void **state)
{
    (void)state;
    check_prefixes(arp_parse_only, arp_reply, sizeof arp_reply, 0, OASIS_ETRUNCATED);
}

static void test_arp_bad_fields(void **state)
{
    (void)state;
    static const struct {
        size_t off;
        uint8_t hi, lo; /* a 16-bit field, or a byte when off is 4 or 5 (lo unused) */
    } bad[] = {
        {0, 0x00, 0x06}, /* htype IEEE 802 */
        {0, 0x00, 0x00}, {0, 0x01, 0x01},
        {2, 0x86, 0xdd}, /* ptype IPv6 */
        {2, 0x08, 0x06}, {2, 0x00, 0x00},
        {4, 8, 0},       /* hlen */
        {4, 0, 0},       {5, 16, 0}, /* plen */
        {5, 6, 0},       {6, 0x00, 0x00}, /* op 0 */
        {6, 0x00, 0x03}, /* RARP request */
        {6, 0x00, 0x04}, {6, 0x01, 0x01}, {6, 0xff, 0xff},
    };
    oasis_arp_pkt p;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t a[OASIS_ARP_LEN];
        memcpy(a, arp_reply, sizeof a);
        a[bad[i].off] = bad[i].hi;
        if (bad[i].off != 4 && bad[i].off != 5)
            a[bad[i].off + 1] = bad[i].lo;
        if (oasis_arp_parse(a, sizeof a, &p) != OASIS_EMALFORMED)
            fail_msg("case %zu accepted", i);
    }
}

/* ---- IPv4 ---- */

static void test_ipv4_wikipedia(void **state)
{
    (void)state;
    uint8_t pkt[0x73] = {0};
    memcpy(pkt, wiki_ip_hdr, 20);
    oasis_ipv4_hdr h;
    assert_int_equal(oasis_ipv4_parse(pkt, sizeof pkt, &h), OASIS_OK);
    assert_int_equal(h.hdr_len, 20);
    assert_int_equal(h.tos, 0);
    assert_int_equal(h.total_len, 0x73);
    assert_int_equal(h.id, 0);
    assert_true(h.df);
    assert_false(h.mf);
    assert_int_equal(h.frag_off, 0);
    assert_int_equal(h.ttl, 64);
    assert_int_equal(h.proto, OASIS_IPPROTO_UDP);
    assert_int_equal(h.src, OASIS_IPV4(192, 168, 0, 1));
    assert_int_equal(h.dst, OASIS_IPV4(192, 168, 0, 199));
    assert_int_equal(h.options_len, 0);
    assert_ptr_equal(h.payload, pkt + 20);
    assert_int_equal(h.payload_len, 0x73 - 20);

    uint8_t out[20];
    oasis_ipv4_emit(out, &h);
    assert_memory_equal(out, wiki_ip_hdr, 20);
}

/* Ethernet -> IPv4 -> ICMP on one real frame, and each header re-emitted
 * from its parsed fields gives the same bytes. */
static void test_echo_frame(void **state)
{
    (void)state;
    uint8_t *f = dup_exact(echo_frame, sizeof echo_frame);
    oasis_eth_hdr e;
    oasis_ipv4_hdr ip;
    oasis_icmp_hdr ic;
    assert_int_equal(oasis_eth_parse(f, sizeof echo_frame, &e), OASIS_OK);
    assert_int_equal(oasis_ipv4_parse(e.payload, e.payload_len, &ip), OASIS_OK);
    assert_int_equal(ip.proto, OASIS_IPPROTO_ICMP);
    assert_int_equal(ip.ttl, 128);
    assert_int_equal(ip.id, 0x1c46);
    assert_false(ip.df);
    assert_int_equal(ip.src, OASIS_IPV4(192, 168, 1, 10));
    assert_int_equal(ip.dst, OASIS_IPV4(192, 168, 1, 1));
    assert_int_equal(ip.payload_len, ECHO_ICMP_LEN);
    assert_int_equal(oasis_icmp_parse(ip.payload, ip.payload_len, &ic), OASIS_OK);
    assert_int_equal(ic.type, OASIS_ICMP_ECHO);
    assert_int_equal(ic.code, 0);
    assert_int_equal(ic.rest, 0x00010021);
    assert_int_equal(ic.payload_len, 32);
    assert_memory_equal(ic.payload, "abcdefghijklmnopqrstuvwabcdefghi", 32);

    uint8_t out[ECHO_IP_LEN];
    oasis_ipv4_emit(out, &ip);
    assert_memory_equal(out, ECHO_IP, 20);
    memcpy(out + 20 + 8, ic.payload, ic.payload_len);
    oasis_icmp_emit(out + 20, ECHO_ICMP_LEN, ic.type, ic.code, ic.rest);
    assert_memory_equal(out + 20, ECHO_ICMP, ECHO_ICMP_LEN);

    /* The reply differs only in the type; the checksum moves by 0x0800. */
    oasis_icmp_emit(out + 20, ECHO_ICMP_LEN, OASIS_ICMP_ECHO_REPLY, 0, ic.rest);
    assert_int_equal(out[20], 0);
    assert_int_equal(out[22], 0x55);
    assert_int_equal(out[23], 0x3a);
    assert_memory_equal(out + 24, ECHO_ICMP + 4, ECHO_ICMP_LEN - 4);
    assert_int_equal(oasis_icmp_parse(out + 20, ECHO_ICMP_LEN, &ic), OASIS_OK);
    free(f);
}

static void test_ipv4_truncated(void **state)
{
    (void)state;
    check_prefixes(ip_parse_only, ECHO_IP, ECHO_IP_LEN, 0, OASIS_ETRUNCATED);
}

/* Link padding past the total length is not part of the payload. */
static void test_ipv4_link_padding(void **state)
{
    (void)state;
    uint8_t pkt[64] = {0};
    memcpy(pkt, wiki_ip_hdr, 20);
    oasis_put16(pkt + 2, 28);
    ip_fix_csum(pkt);
    oasis_ipv4_hdr h;
    assert_int_equal(oasis_ipv4_parse(pkt, sizeof pkt, &h), OASIS_OK);
    assert_int_equal(h.payload_len, 8);
    /* Total length exactly the header: an empty payload. */
    oasis_put16(pkt + 2, 20);
    ip_fix_csum(pkt);
    assert_int_equal(oasis_ipv4_parse(pkt, 20, &h), OASIS_OK);
    assert_int_equal(h.payload_len, 0);
}

static int ip_parse_edited(uint8_t b0, uint16_t total, size_t buflen)
{
    uint8_t pkt[80] = {0};
    memcpy(pkt, wiki_ip_hdr, 20);
    pkt[0] = b0;
    oasis_put16(pkt + 2, total);
    size_t hlen = (size_t)(b0 & 0x0f) * 4;
    if (hlen > 20 && hlen <= sizeof pkt)
        memset(pkt + 20, 1, hlen - 20); /* NOP options */
    if (hlen >= 20 && hlen <= sizeof pkt)
        ip_fix_csum(pkt);
    uint8_t *d = dup_exact(pkt, buflen);
    int err = ip_parse_only(d, buflen);
    free(d);
    return err;
}

static void test_ipv4_lying_lengths(void **state)
{
    (void)state;
    /* total length beyond the buffer */
    assert_int_equal(ip_parse_edited(0x45, 41, 40), OASIS_ETRUNCATED);
    assert_int_equal(ip_parse_edited(0x45, 0xffff, 40), OASIS_ETRUNCATED);
    assert_int_equal(ip_parse_edited(0x45, 40, 40), OASIS_OK);
    /* total length under the header */
    assert_int_equal(ip_parse_edited(0x45, 19, 40), OASIS_EMALFORMED);
    assert_int_equal(ip_parse_edited(0x45, 0, 40), OASIS_EMALFORMED);
    assert_int_equal(ip_parse_edited(0x46, 23, 40), OASIS_EMALFORMED);
    assert_int_equal(ip_parse_edited(0x46, 24, 40), OASIS_OK);
    /* IHL under 5 */
    for (uint8_t ihl = 0; ihl < 5; ihl++)
        assert_int_equal(ip_parse_edited((uint8_t)(0x40 | ihl), 40, 40), OASIS_EMALFORMED);
    /* IHL beyond the buffer */
    assert_int_equal(ip_parse_edited(0x4f, 60, 40), OASIS_ETRUNCATED);
    assert_int_equal(ip_parse_edited(0x4f, 60, 59), OASIS_ETRUNCATED);
    assert_int_equal(ip_parse_edited(0x4f, 60, 60), OASIS_OK);
    assert_int_equal(ip_parse_edited(0x46, 24, 23), OASIS_ETRUNCATED);
    /* not version 4 */
    assert_int_equal(ip_parse_edited(0x65, 40, 40), OASIS_EMALFORMED);
    assert_int_equal(ip_parse_edited(0x05, 40, 40), OASIS_EMALFORMED);
    assert_int_equal(ip_parse_edited(0xf5, 40, 40), OASIS_EMALFORMED);
}

/* Any changed header byte but the first (which fails earlier, on version
 * or IHL) is a checksum error, the length fields included: the checksum is
 * verified before they are trusted. */
static void test_ipv4_bad_checksum(void **state)
{
    (void)state;
    for (size_t i = 1; i < 20; i++) {
        for (int bit = 0; bit < 8; bit++) {
            uint8_t *d = dup_exact(ECHO_IP, ECHO_IP_LEN);
            d[i] ^= (uint8_t)(1u << bit);
            int err = ip_parse_only(d, ECHO_IP_LEN);
            free(d);
            if (err != OASIS_ECHECKSUM)
                fail_msg("byte %zu bit %d: %s", i, bit, oasis_err_name(err));
        }
    }
    /* The payload is not covered by the IP checksum. */
    uint8_t *d = dup_exact(ECHO_IP, ECHO_IP_LEN);
    d[30] ^= 0xff;
    assert_int_equal(ip_parse_only(d, ECHO_IP_LEN), OASIS_OK);
    free(d);
}

static void test_ipv4_flags(void **state)
{
    (void)state;
    oasis_ipv4_hdr h = {
        .tos = 0xb8, .total_len = 1500, .id = 0xbeef, .df = 0, .mf = 1, .frag_off = 1480 * 3,
        .ttl = 1, .proto = OASIS_IPPROTO_TCP, .src = 0x01020304, .dst = 0xfffffffe,
    };
    uint8_t pkt[1500] = {0};
    oasis_ipv4_emit(pkt, &h);
    assert_int_equal(oasis_get16(pkt + 6), 0x2000 | (1480 * 3 / 8));
    oasis_ipv4_hdr g;
    assert_int_equal(oasis_ipv4_parse(pkt, sizeof pkt, &g), OASIS_OK);
    assert_int_equal(g.mf, 1);
    assert_int_equal(g.df, 0);
    assert_int_equal(g.frag_off, 1480 * 3);
    assert_int_equal(g.tos, 0xb8);

    /* The largest offset the field holds. */
    h.df = 1;
    h.mf = 0;
    h.frag_off = 0x1fff * 8;
    oasis_ipv4_emit(pkt, &h);
    assert_int_equal(oasis_get16(pkt + 6), 0x4000 | 0x1fff);
    assert_int_equal(oasis_ipv4_parse(pkt, sizeof pkt, &g), OASIS_OK);
    assert_int_equal(g.df, 1);
    assert_int_equal(g.frag_off, 0x1fff * 8);

    /* The reserved ("evil") bit. */
    pkt[6] |= 0x80;
    ip_fix_csum(pkt);
    assert_int_equal(oasis_ipv4_parse(pkt, sizeof pkt, &g), OASIS_EMALFORMED);
}

static void test_ipv4_roundtrip(void **state)
{
    (void)state;
    oasis_prng r;
    oasis_prng_seed(&r, 791);
    uint8_t pkt[256];
    for (int i = 0; i < 5000; i++) {
        oasis_ipv4_hdr h = {
            .tos = (uint8_t)oasis_prng_next(&r),
            .total_len = (uint16_t)(20 + oasis_prng_below(&r, sizeof pkt - 19)),
            .id = (uint16_t)oasis_prng_next(&r),
            .df = (uint8_t)oasis_prng_below(&r, 2),
            .mf = (uint8_t)oasis_prng_below(&r, 2),
            .frag_off = (uint16_t)(oasis_prng_below(&r, 0x2000) * 8),
            .ttl = (uint8_t)oasis_prng_next(&r),
            .proto = (uint8_t)oasis_prng_next(&r),
            .src = (uint32_t)oasis_prng_next(&r),
            .dst = (uint32_t)oasis_prng_next(&r),
        };
        oasis_ipv4_emit(pkt, &h);
        oasis_ipv4_hdr g;
        assert_int_equal(oasis_ipv4_parse(pkt, h.total_len, &g), OASIS_OK);
        assert_int_equal(g.hdr_len, 20);
        assert_int_equal(g.tos, h.tos);
        assert_int_equal(g.total_len, h.total_len);
        assert_int_equal(g.id, h.id);
        assert_int_equal(g.df, h.df);
        assert_int_equal(g.mf, h.mf);
        assert_int_equal(g.frag_off, h.frag_off);
        assert_int_equal(g.ttl, h.ttl);
        assert_int_equal(g.proto, h.proto);
        assert_int_equal(g.src, h.src);
        assert_int_equal(g.dst, h.dst);
        assert_int_equal(g.payload_len, h.total_len - 20u);
    }
}

/* A 32-byte header with NOP, Record Route (one empty slot) and EOL, then
 * padding, then 8 bytes of payload. */
static size_t build_rr_packet(uint8_t *pkt)
{
    static const uint8_t opts[12] = {
        1,                      /* NOP */
        7, 7, 4, 0, 0, 0, 0,    /* Record Route: len 7, pointer 4, one slot */
        0,                      /* EOL */
        0xde, 0xad, 0xbe,       /* after EOL: never looked at */
    };
    memcpy(pkt, wiki_ip_hdr, 20);
    pkt[0] = 0x48;
    oasis_put16(pkt + 2, 40);
    memcpy(pkt + 20, opts, sizeof opts);
    memcpy(pkt + 32, "payload!", 8);
    ip_fix_csum(pkt);
    return 40;
}

static void test_ipv4_options(void **state)
{
    (void)state;
    uint8_t pkt[40];
    size_t n = build_rr_packet(pkt);
    uint8_t *d = dup_exact(pkt, n);
    oasis_ipv4_hdr h;
    assert_int_equal(oasis_ipv4_parse(d, n, &h), OASIS_OK);
    assert_int_equal(h.hdr_len, 32);
    assert_ptr_equal(h.options, d + 20);
    assert_int_equal(h.options_len, 12);
    assert_ptr_equal(h.payload, d + 32);
    assert_int_equal(h.payload_len, 8);
    assert_memory_equal(h.payload, "payload!", 8);
    free(d);

    check_prefixes(ip_parse_only, pkt, n, 0, OASIS_ETRUNCATED);

    /* 40 bytes of NOPs; an option that ends exactly at the header's end. */
    uint8_t big[60] = {0};
    memcpy(big, wiki_ip_hdr, 20);
    big[0] = 0x4f;
    oasis_put16(big + 2, 60);
    memset(big + 20, 1, 40);
    ip_fix_csum(big);
    assert_int_equal(oasis_ipv4_parse(big, 60, &h), OASIS_OK);
    big[56] = 0x44; /* timestamp, 4 bytes to the end */
    big[57] = 4;
    ip_fix_csum(big);
    assert_int_equal(oasis_ipv4_parse(big, 60, &h), OASIS_OK);
    big[20] = 0x83; /* loose source route filling all 40 bytes */
    big[21] = 40;
    ip_fix_csum(big);
    assert_int_equal(oasis_ipv4_parse(big, 60, &h), OASIS_OK);
    assert_int_equal(h.payload_len, 0);
}

static void test_ipv4_bad_options(void **state)
{
    (void)state;
    static const struct {
        uint8_t opts[4];
    } bad[] = {
        {{7, 0, 0, 0}},    /* length 0 */
        {{7, 1, 0, 0}},    /* length 1 */
        {{7, 5, 4, 0}},    /* one past the header */
        {{1, 7, 255, 4}},  /* far past the header */
        {{1, 1, 1, 7}},    /* no room for the length byte */
        {{1, 0x44, 2, 7}}, /* a good option, then a bad one */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t pkt[24];
        memcpy(pkt, wiki_ip_hdr, 20);
        pkt[0] = 0x46;
        oasis_put16(pkt + 2, 24);
        memcpy(pkt + 20, bad[i].opts, 4);
        ip_fix_csum(pkt);
        uint8_t *d = dup_exact(pkt, sizeof pkt);
        int err = ip_parse_only(d, sizeof pkt);
        free(d);
        if (err != OASIS_EMALFORMED)
            fail_msg("case %zu: %s", i, oasis_err_name(err));
    }
}

/* ---- ICMP ---- */

static void test_icmp_truncated(void **state)
{
    (void)state;
    check_prefixes(icmp_parse_only, ECHO_ICMP, ECHO_ICMP_LEN, 0, 0);
    check_prefixes(icmp_parse_only, ECHO_ICMP, OASIS_ICMP_HLEN, 0, OASIS_ETRUNCATED);
    /* Without a length field, a cut message shows up as a bad checksum. */
    check_prefixes(icmp_parse_only, ECHO_ICMP, ECHO_ICMP_LEN, OASIS_ICMP_HLEN, OASIS_ECHECKSUM);
}

static void test_icmp_bad_checksum(void **state)
{
    (void)state;
    for (size_t i = 0; i < ECHO_ICMP_LEN; i++) {
        uint8_t *d = dup_exact(ECHO_ICMP, ECHO_ICMP_LEN);
        d[i] ^= 0x10;
        assert_int_equal(icmp_parse_only(d, ECHO_ICMP_LEN), OASIS_ECHECKSUM);
        free(d);
    }
}

static void test_icmp_roundtrip(void **state)
{
    (void)state;
    oasis_prng r;
    oasis_prng_seed(&r, 792);
    for (size_t len = OASIS_ICMP_HLEN; len < 600; len++) {
        uint8_t *b = malloc(len);
        assert_non_null(b);
        for (size_t i = OASIS_ICMP_HLEN; i < len; i++)
            b[i] = (uint8_t)oasis_prng_next(&r);
        uint8_t type = (uint8_t)oasis_prng_next(&r), code = (uint8_t)oasis_prng_next(&r);
        uint32_t rest = (uint32_t)oasis_prng_next(&r);
        oasis_icmp_emit(b, len, type, code, rest);
        oasis_icmp_hdr h;
        assert_int_equal(oasis_icmp_parse(b, len, &h), OASIS_OK);
        assert_int_equal(h.type, type);
        assert_int_equal(h.code, code);
        assert_int_equal(h.rest, rest);
        assert_ptr_equal(h.payload, b + OASIS_ICMP_HLEN);
        assert_int_equal(h.payload_len, len - OASIS_ICMP_HLEN);
        free(b);
    }

    /* "Fragmentation needed" carries the next-hop MTU in the low half. */
    uint8_t m[8 + 28];
    memcpy(m + 8, ECHO_IP, 28);
    oasis_icmp_emit(m, sizeof m, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_FRAG_NEEDED, 1400);
    assert_int_equal(oasis_get16(m + 6), 1400);
    oasis_icmp_hdr h;
    assert_int_equal(oasis_icmp_parse(m, sizeof m, &h), OASIS_OK);
    assert_int_equal(h.rest & 0xffff, 1400);
    assert_memory_equal(h.payload, ECHO_IP, 28);
}

/* ---- UDP ---- */

static void test_udp_known(void **state)
{
    (void)state;
    uint8_t *d = dup_exact(udp_dgram, sizeof udp_dgram);
    oasis_udp_hdr h;
    assert_int_equal(oasis_udp_parse(d, sizeof udp_dgram, UDP_SRC, UDP_DST, &h), OASIS_OK);
    assert_int_equal(h.src_port, 53000);
    assert_int_equal(h.dst_port, 53);
    assert_int_equal(h.len, 21);
    assert_int_equal(h.csum, 0xe32f);
    assert_ptr_equal(h.payload, d + 8);
    assert_int_equal(h.payload_len, 13);
    assert_memory_equal(h.payload, "hello, oasis\n", 13);

    /* The pseudo-header counts. (Swapping source and destination leaves
     * the one's complement sum alone; other addresses do not.) */
    assert_int_equal(oasis_udp_parse(d, sizeof udp_dgram, UDP_DST, UDP_SRC, &h), OASIS_OK);
    assert_int_equal(oasis_udp_parse(d, sizeof udp_dgram, UDP_SRC, UDP_DST + 1, &h), OASIS_ECHECKSUM);
    assert_int_equal(oasis_udp_parse(d, sizeof udp_dgram, 0, UDP_DST, &h), OASIS_ECHECKSUM);
    free(d);

    uint8_t out[sizeof udp_dgram];
    memcpy(out + 8, "hello, oasis\n", 13);
    oasis_udp_emit(out, sizeof out, 53000, 53, UDP_SRC, UDP_DST);
    assert_memory_equal(out, udp_dgram, sizeof udp_dgram);
}

static void test_udp_truncated(void **state)
{
    (void)state;
    check_prefixes(udp_parse_only, udp_dgram, sizeof udp_dgram, 0, OASIS_ETRUNCATED);
}

static int udp_parse_len(uint16_t ulen, size_t buflen, int zero_csum, oasis_udp_hdr *h)
{
    uint8_t b[64];
    memcpy(b, udp_dgram, sizeof udp_dgram);
    memset(b + sizeof udp_dgram, 0x77, sizeof b - sizeof udp_dgram);
    oasis_put16(b + 4, ulen);
    if (zero_csum)
        b[6] = b[7] = 0;
    uint8_t *d = dup_exact(b, buflen);
    int err = oasis_udp_parse(d, buflen, UDP_SRC, UDP_DST, h);
    free(d);
    return err;
}

static void test_udp_lying_lengths(void **state)
{
    (void)state;
    oasis_udp_hdr h;
    /* longer than the buffer */
    assert_int_equal(udp_parse_len(22, 21, 0, &h), OASIS_ETRUNCATED);
    assert_int_equal(udp_parse_len(0xffff, 64, 1, &h), OASIS_ETRUNCATED);
    /* under the header's own size */
    for (uint16_t l = 0; l < 8; l++) {
        assert_int_equal(udp_parse_len(l, 21, 0, &h), OASIS_EMALFORMED);
        assert_int_equal(udp_parse_len(l, 8, 1, &h), OASIS_EMALFORMED);
    }
    /* Shorter than the buffer: bytes past it are IP padding, not summed... */
    assert_int_equal(udp_parse_len(21, 64, 0, &h), OASIS_OK);
    assert_int_equal(h.payload_len, 13);
    /* ...so a lie there breaks the checksum, unless there is none. */
    assert_int_equal(udp_parse_len(20, 21, 0, &h), OASIS_ECHECKSUM);
    assert_int_equal(udp_parse_len(20, 21, 1, &h), OASIS_OK);
    assert_int_equal(h.payload_len, 12);
    assert_int_equal(udp_parse_len(8, 21, 1, &h), OASIS_OK);
    assert_int_equal(h.payload_len, 0);
}

static void test_udp_checksum(void **state)
{
    (void)state;
    oasis_udp_hdr h;
    /* Any flipped bit outside the length field is caught. */
    for (size_t i = 0; i < sizeof udp_dgram; i++) {
        if (i == 4 || i == 5)
            continue;
        uint8_t *d = dup_exact(udp_dgram, sizeof udp_dgram);
        d[i] ^= 0x04;
        assert_int_equal(oasis_udp_parse(d, sizeof udp_dgram, UDP_SRC, UDP_DST, &h), OASIS_ECHECKSUM);
        free(d);
    }
    /* A zero field means "no checksum": even a corrupted datagram passes. */
    uint8_t b[sizeof udp_dgram];
    memcpy(b, udp_dgram, sizeof b);
    b[6] = b[7] = 0;
    b[10] ^= 0xff;
    assert_int_equal(oasis_udp_parse(b, sizeof b, UDP_SRC, UDP_DST, &h), OASIS_OK);
    assert_int_equal(h.csum, 0);
}

/* A datagram whose checksum computes to 0 goes out as ffff, and verifies. */
static void test_udp_zero_checksum_sent_as_ffff(void **state)
{
    (void)state;
    uint8_t b[12] = {0};
    /* Emit with a zero payload word, then put into that word the checksum
     * it produced: the sum becomes ffff, so the checksum becomes 0. */
    oasis_udp_emit(b, sizeof b, 1234, 5678, UDP_SRC, UDP_DST);
    memcpy(b + 8, b + 6, 2);
    oasis_udp_emit(b, sizeof b, 1234, 5678, UDP_SRC, UDP_DST);
    assert_int_equal(b[6], 0xff);
    assert_int_equal(b[7], 0xff);
    oasis_udp_hdr h;
    assert_int_equal(oasis_udp_parse(b, sizeof b, UDP_SRC, UDP_DST, &h), OASIS_OK);
    assert_int_equal(h.csum, 0xffff);
}

static void test_udp_roundtrip(void **state)
{
    (void)state;
    oasis_prng r;
    oasis_prng_seed(&r, 768);
    for (size_t len = OASIS_UDP_HLEN; len < 700; len++) {
        uint8_t *b = malloc(len);
        assert_non_null(b);
        for (size_t i = OASIS_UDP_HLEN; i < len; i++)
            b[i] = (uint8_t)oasis_prng_next(&r);
        uint16_t sp = (uint16_t)oasis_prng_next(&r), dp = (uint16_t)oasis_prng_next(&r);
        uint32_t src = (uint32_t)oasis_prng_next(&r), dst = (uint32_t)oasis_prng_next(&r);
        oasis_udp_emit(b, len, sp, dp, src, dst);
        assert_false(b[6] == 0 && b[7] == 0);
        oasis_udp_hdr h;
        assert_int_equal(oasis_udp_parse(b, len, src, dst, &h), OASIS_OK);
        assert_int_equal(h.src_port, sp);
        assert_int_equal(h.dst_port, dp);
        assert_int_equal(h.len, len);
        assert_ptr_equal(h.payload, b + OASIS_UDP_HLEN);
        assert_int_equal(h.payload_len, len - OASIS_UDP_HLEN);
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eth_parse_emit),
        cmocka_unit_test(test_eth_truncated),
        cmocka_unit_test(test_eth_type),
        cmocka_unit_test(test_arp_request),
        cmocka_unit_test(test_arp_reply),
        cmocka_unit_test(test_arp_truncated),
        cmocka_unit_test(test_arp_bad_fields),
        cmocka_unit_test(test_ipv4_wikipedia),
        cmocka_unit_test(test_echo_frame),
        cmocka_unit_test(test_ipv4_truncated),
        cmocka_unit_test(test_ipv4_link_padding),
        cmocka_unit_test(test_ipv4_lying_lengths),
        cmocka_unit_test(test_ipv4_bad_checksum),
        cmocka_unit_test(test_ipv4_flags),
        cmocka_unit_test(test_ipv4_roundtrip),
        cmocka_unit_test(test_ipv4_options),
        cmocka_unit_test(test_ipv4_bad_options),
        cmocka_unit_test(test_icmp_truncated),
        cmocka_unit_test(test_icmp_bad_checksum),
        cmocka_unit_test(test_icmp_roundtrip),
        cmocka_unit_test(test_udp_known),
        cmocka_unit_test(test_udp_truncated),
        cmocka_unit_test(test_udp_lying_lengths),
        cmocka_unit_test(test_udp_checksum),
        cmocka_unit_test(test_udp_zero_checksum_sent_as_ffff),
        cmocka_unit_test(test_udp_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
