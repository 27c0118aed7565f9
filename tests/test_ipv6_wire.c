/* IPv6, extension header, ICMPv6, ND and MLDv2 wire formats: good vectors,
 * truncation at every length, lying lengths, the walk's bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "ipv6/icmp6_wire.h"
#include "ipv6/ipv6_wire.h"
#include "ipv6/nd_wire.h"
#include "oasis/error.h"

static const oasis_in6 LL1 = {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
static const oasis_in6 LL2 = {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}};

/* A fixed header for next header nh and plen payload bytes at buf. */
static void put_hdr(uint8_t *buf, uint8_t nh, uint16_t plen)
{
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.payload_len = plen;
    h.next = nh;
    h.hop_limit = 64;
    h.src = LL1;
    h.dst = LL2;
    oasis_ipv6_emit(buf, &h);
}

static void test_header_good_and_roundtrip(void **state)
{
    (void)state;
    /* 2001:db8::1 -> 2001:db8::2, tclass 0xb8, flow 0x12345, ICMPv6, hop 255. */
    static const uint8_t v[48] = {
        0x6b, 0x81, 0x23, 0x45, 0x00, 0x08, 58,   255,  0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
        0,    0,    0,    0,    0,    0,    0,    1,    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
        0,    0,    0,    0,    0,    0,    0,    2,    1,    2,    3,    4,    5, 6, 7, 8};
    oasis_ipv6_hdr h;
    assert_int_equal(oasis_ipv6_parse(v, sizeof v, &h), 0);
    assert_int_equal(h.tclass, 0xb8);
    assert_int_equal(h.flow, 0x12345);
    assert_int_equal(h.payload_len, 8);
    assert_int_equal(h.next, 58);
    assert_int_equal(h.hop_limit, 255);
    assert_int_equal(h.src.b[15], 1);
    assert_int_equal(h.dst.b[15], 2);
    assert_ptr_equal(h.payload, v + 40);
    uint8_t out[40];
    oasis_ipv6_emit(out, &h);
    assert_memory_equal(out, v, 40);
    /* Link padding after the payload is fine. */
    uint8_t padded[60] = {0};
    memcpy(padded, v, sizeof v);
    assert_int_equal(oasis_ipv6_parse(padded, sizeof padded, &h), 0);
    assert_int_equal(h.payload_len, 8);
}

static void test_header_truncated_and_lying(void **state)
{
    (void)state;
    uint8_t v[48];
    put_hdr(v, 59, 8);
    oasis_ipv6_hdr h;
    for (size_t n = 0; n < sizeof v; n++)
        assert_int_equal(oasis_ipv6_parse(v, n, &h), OASIS_ETRUNCATED);
    assert_int_equal(oasis_ipv6_parse(v, sizeof v, &h), 0);
    /* Payload length beyond the frame. */
    oasis_put16(v + 4, 9);
    assert_int_equal(oasis_ipv6_parse(v, sizeof v, &h), OASIS_ETRUNCATED);
    oasis_put16(v + 4, 0xffff);
    assert_int_equal(oasis_ipv6_parse(v, sizeof v, &h), OASIS_ETRUNCATED);
    /* 0: a jumbogram, which we do not take. */
    oasis_put16(v + 4, 0);
    assert_int_equal(oasis_ipv6_parse(v, sizeof v, &h), OASIS_EMALFORMED);
    oasis_put16(v + 4, 8);
    v[0] = 0x45;
    assert_int_equal(oasis_ipv6_parse(v, sizeof v, &h), OASIS_EMALFORMED);
}

/* Echo request fe80::1 -> fe80::2, id 0x1234, seq 1, "abcd"; checksum
 * 0xabb8 computed independently (RFC 1071 sum over the RFC 8200 8.1
 * pseudo-header and the message). */
static void test_icmp6_checksum_vector(void **state)
{
    (void)state;
    uint8_t m[12] = {128, 0, 0xab, 0xb8, 0x12, 0x34, 0, 1, 'a', 'b', 'c', 'd'};
    oasis_icmp6_hdr ic;
    assert_int_equal(oasis_icmp6_parse(m, sizeof m, &LL1, &LL2, &ic), 0);
    assert_int_equal(ic.type, 128);
    assert_int_equal(ic.word, 0x12340001);
    assert_int_equal(ic.body_len, 4);
    /* Built from scratch, the same bytes. */
    uint8_t b[12] = {0};
    memcpy(b + 8, "abcd", 4);
    oasis_icmp6_finish(b, sizeof b, 128, 0, 0x12340001, &LL1, &LL2);
    assert_memory_equal(b, m, sizeof m);
    /* Any flipped bit, or swapped addresses' bytes, or a wrong length fails. */
    for (size_t i = 0; i < sizeof m * 8; i++) {
        m[i / 8] ^= (uint8_t)(1u << (i % 8));
        assert_int_equal(oasis_icmp6_parse(m, sizeof m, &LL1, &LL2, &ic), OASIS_ECHECKSUM);
        m[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    oasis_in6 other = LL2;
    other.b[14] = 1;
    assert_int_equal(oasis_icmp6_parse(m, sizeof m, &LL1, &other, &ic), OASIS_ECHECKSUM);
    for (size_t n = 0; n < 8; n++)
        assert_int_equal(oasis_icmp6_parse(m, n, &LL1, &LL2, &ic), OASIS_ETRUNCATED);
    for (size_t n = 8; n < sizeof m; n++)
        assert_int_equal(oasis_icmp6_parse(m, n, &LL1, &LL2, &ic), OASIS_ECHECKSUM);
}

/* ---- extension header walk ---- */

typedef struct chain {
    uint8_t b[4096];
    size_t len;
    size_t last_nh; /* offset of the Next Header field to patch */
} chain;

static void chain_start(chain *c)
{
    memset(c, 0, sizeof *c);
    put_hdr(c->b, 0, 0);
    c->len = 40;
    c->last_nh = 6;
}

/* Appends an extension header of type nh with body (hlen bytes in all). */
static uint8_t *chain_add(chain *c, uint8_t nh, size_t hlen)
{
    c->b[c->last_nh] = nh;
    uint8_t *p = c->b + c->len;
    memset(p, 0, hlen);
    if (nh != OASIS_NH_FRAGMENT)
        p[1] = (uint8_t)(hlen / 8 - 1);
    c->last_nh = c->len;
    c->len += hlen;
    return p;
}

static void chain_end(chain *c, uint8_t proto, size_t payload)
{
    c->b[c->last_nh] = proto;
    memset(c->b + c->len, 0xab, payload);
    c->len += payload;
    oasis_put16(c->b + 4, (uint16_t)(c->len - 40));
}

static void test_walk_good(void **state)
{
    (void)state;
    chain c;
    oasis_ipv6_walk w;
    chain_start(&c);
    /* HBH: Router Alert + PadN(2); dst opts: unknown type with action 00
     * (skip) + Pad1 x2; routing type 0 with Segments Left 0 (ignored). */
    uint8_t *h = chain_add(&c, OASIS_NH_HOPOPTS, 8);
    memcpy(h + 2, (uint8_t[]){5, 2, 0, 0, 1, 0}, 6);
    uint8_t *d = chain_add(&c, OASIS_NH_DSTOPTS, 8);
    memcpy(d + 2, (uint8_t[]){0x1e, 2, 0xaa, 0xbb, 0, 0}, 6);
    uint8_t *r = chain_add(&c, OASIS_NH_ROUTING, 24);
    r[2] = 0;
    r[3] = 0;
    chain_end(&c, OASIS_NH_ICMPV6, 8);
    assert_int_equal(oasis_ipv6_walk_chain(c.b, c.len, &w), OASIS_W6_OK);
    assert_int_equal(w.proto, 58);
    assert_int_equal(w.off, 40 + 8 + 8 + 24);
    assert_int_equal(w.nhdrs, 3);
    assert_int_equal(w.nh_off, 40 + 16);
    assert_int_equal(w.frag, 0);
    /* Truncated anywhere inside the chain: never OK past the end. */
    for (size_t n = 40; n < 80; n++) {
        oasis_ipv6_walk_err e = oasis_ipv6_walk_chain(c.b, n, &w);
        assert_int_equal(e, OASIS_W6_TRUNCATED);
    }
    /* No extension header at all. */
    chain_start(&c);
    chain_end(&c, OASIS_NH_UDP, 8);
    assert_int_equal(oasis_ipv6_walk_chain(c.b, c.len, &w), OASIS_W6_OK);
    assert_int_equal(w.proto, 17);
    assert_int_equal(w.off, 40);
    assert_int_equal(w.nh_off, 6);
}

static void test_walk_option_actions(void **state)
{
    (void)state;
    static const struct {
        uint8_t type;
        oasis_ipv6_walk_err err;
        int code, mcast_ok;
    } cases[] = {
        {0x1e, OASIS_W6_OK, -1, 0},         /* 00: skip */
        {0x5e, OASIS_W6_BAD_OPTION, -1, 0}, /* 01: discard silently */
        {0x9e, OASIS_W6_BAD_OPTION, 2, 1},  /* 10: discard, ICMP even to multicast */
        {0xde, OASIS_W6_BAD_OPTION, 2, 0},  /* 11: discard, ICMP unless multicast */
        {0xc2, OASIS_W6_BAD_OPTION, 2, 0},  /* Jumbo Payload: not taken */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        chain c;
        oasis_ipv6_walk w;
        chain_start(&c);
        uint8_t *d = chain_add(&c, OASIS_NH_DSTOPTS, 16);
        /* PadN(4) then the option at offset 6 of the header. */
        memcpy(d + 2, (uint8_t[]){1, 2, 0, 0, cases[i].type, 6, 0, 0, 0, 0, 0, 0, 0, 0}, 14);
        chain_end(&c, OASIS_NH_NONE, 0);
        assert_int_equal(oasis_ipv6_walk_chain(c.b, c.len, &w), cases[i].err);
        assert_int_equal(w.icmp_code, cases[i].code);
        if (cases[i].code >= 0) {
            assert_int_equal(w.pointer, 40 + 6); /* the option's type byte */
            assert_int_equal(w.icmp_mcast_ok, cases[i].mcast_ok);
        }
    }
}

static void test_walk_routing(void **state)
{
    (void)state;
    chain c;
    oasis_ipv6_walk w;
    /* RH0 with segments left: refused, Parameter Problem code 0 at the type. */
    chain_start(&c);
    chain_add(&c, OASIS_NH_DSTOPTS, 8);
    uint8_t *r = chain_add(&c, OASIS_NH_ROUTING, 40);
    r[2] = 0;
    r[3] = 2;
    chain_end(&c, OASIS_NH_TCP, 20);
    assert_int_equal(oasis_ipv6_walk_chain(c.b, c.len, &w), OASIS_W6_RH0);
    assert_int_equal(w.icmp_code, 0);
    assert_int_equal(w.pointer, 40 + 8 + 2);
    /* Any other type with segments left: the same answer, another counter. */
    r[2] = 4;
    r[3] = 1;
    assert_int_equal(oasis_ipv6_walk_chain(c.b, c.len, &w), OASIS_W6_ROUTING);
    assert_int_equal(w.pointer, 40 + 8 + 2);
    r[3] = 0;
    assert_int_equal(oasis_ipv6_walk_chain(c.b, c.len, &w), OASIS_W6_OK);
}

static void test_walk_hbh_not_first(void **state)
{
    (void)state;
    chain c;
    oasis_ipv6_walk w;
    chain_start(&c);
    chain_add(&c, OASIS_NH_DSTOPTS, 8);
    chain_add(&c, OASIS_NH_HOPOPTS, 8);
    chain_end(&c, OASIS_NH_NONE, 0);
    assert_int_equal(oasis_ipv6_walk_chain(c.b, c.len, &w), OASIS_W6_HBH_NOT_FIRST);
    assert_int_equal(w.icmp_code, 1);
    assert_int_equal(w.pointer, 40); /* the Next Header field naming it */
}

/* Extension-header bombs: every bound holds, and none is answered. */
static void test_walk_bombs(void **state)
{
    (void)state;
    chain c;
    oasis_ipv6_walk w;
    /* Nine destination options headers. */
    chain_start(&c);
    for (int i = 0; i < OASIS_IPV6_MAX_EXT_HDRS + 1; i++)
        chain_add(&c, OASIS_NH_DSTOPTS, 8);
    chain_end(&c, OASIS_NH_NONE, 0);
    assert_int_equal(oasis_ipv6_walk_chain(c.b, c.len, &w), OASIS_W6_LIMIT);
    assert_int_equal(w.icmp_code, -1);
    /* Eight are fine. */
    chain_start(&c);
    for (int i = 0; i < OASIS_IPV6_MAX_EXT_HDRS; i++)
        chain_add(&c, OASIS_NH_DSTOPTS, 8);
    chain_end(&c, OASIS_NH_NONE, 0);
    assert_int_equal(oasis_ipv6_walk_chain(c.b, c.len, &w), OASIS_W6_OK);
    /* One huge header full of padding: 8 Pad1 in a row. */
    chain_start(&c);
    chain_add(&c, OASIS_NH_DSTOPTS, 16);
    chain_end(&c, OASIS_NH_NONE, 0);
    assert_int_equal(oasis_ipv6_walk_chain(c.b, c.len, &w), OASIS_W6_LIMIT);
    /* PadN of 8 bytes. */
    chain_start(&c);
    uint8_t *d = chain_add(&c, OASIS_NH_DSTOPTS, 16);
    memcpy(d + 2, (uint8_t[]){1, 6, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0}, 12);
    chain_end(&c, OASIS_NH_NONE, 0);
    assert_int_equal(oasis_ipv6_walk_chain(c.b, c.len, &w), OASIS_W6_LIMIT);
    /* Nine small skippable options. */
    chain_start(&c);
    d = chain_add(&c, OASIS_NH_DSTOPTS, 24);
    for (int i = 0; i < 9; i++) {
        d[2 + 2 * i] = 0x1e;
        d[3 + 2 * i] = 0;
    }
    d[20] = 1; /* PadN(2) to the end */
    d[21] = 2;
    chain_end(&c, OASIS_NH_NONE, 0);
    assert_int_equal(oasis_ipv6_walk_chain(c.b, c.len, &w), OASIS_W6_LIMIT);
    /* More than 2048 bytes of headers in all: two of 1024 bytes (three
     * 257-byte options and one of 251 each) pass, an 8-byte third does not. */
    for (int third = 0; third < 2; third++) {
        chain_start(&c);
        for (int k = 0; k < 2; k++) {
            d = chain_add(&c, OASIS_NH_DSTOPTS, 1024);
            for (int i = 0; i < 3; i++) {
                d[2 + 257 * i] = 0x1e;
                d[3 + 257 * i] = 255;
            }
            d[2 + 771] = 0x1e;
            d[3 + 771] = 249;
        }
        if (third) {
            d = chain_add(&c, OASIS_NH_DSTOPTS, 8);
            d[2] = 1;
            d[3] = 4;
        }
        chain_end(&c, OASIS_NH_NONE, 0);
        assert_int_equal(oasis_ipv6_walk_chain(c.b, c.len, &w), third ? OASIS_W6_LIMIT : OASIS_W6_OK);
    }
}

static void test_walk_lying_lengths(void **state)
{
    (void)state;
    chain c;
    oasis_ipv6_walk w;
    chain_start(&c);
    uint8_t *d = chain_add(&c, OASIS_NH_DSTOPTS, 8);
    chain_end(&c, OASIS_NH_NONE, 0);
    /* The header claims 16 bytes, the packet has 8. */
    d[1] = 1;
    assert_int_equal(oasis_ipv6_walk_chain(c.b, c.len, &w), OASIS_W6_TRUNCATED);
    d[1] = 255;
    assert_int_equal(oasis_ipv6_walk_chain(c.b, c.len, &w), OASIS_W6_TRUNCATED);
    /* An option longer than its header. */
    d[1] = 0;
    d[2] = 0x1e;
    d[3] = 5;
    assert_int_equal(oasis_ipv6_walk_chain(c.b, c.len, &w), OASIS_W6_BAD_OPTLEN);
    d[3] = 4; /* exactly to the end */
    assert_int_equal(oasis_ipv6_walk_chain(c.b, c.len, &w), OASIS_W6_OK);
    /* An option type in the last byte, no room for its length. */
    memset(d + 2, 0, 6);
    d[2] = 1;
    d[3] = 3;
    d[7] = 0x1e;
    assert_int_equal(oasis_ipv6_walk_chain(c.b, c.len, &w), OASIS_W6_BAD_OPTLEN);
}

static void test_walk_fragment(void **state)
{
    (void)state;
    chain c;
    oasis_ipv6_walk w;
    chain_start(&c);
    uint8_t *f = chain_add(&c, OASIS_NH_FRAGMENT, 8);
    chain_end(&c, 0, 16);
    oasis_ipv6_frag fh = {OASIS_NH_ICMPV6, 1232, 1, 0xdeadbeef};
    oasis_ipv6_frag_emit(f, &fh);
    assert_int_equal(oasis_ipv6_walk_chain(c.b, c.len, &w), OASIS_W6_OK);
    assert_int_equal(w.frag, 1);
    assert_int_equal(w.frag_hdr_off, 40);
    assert_int_equal(w.frag_offset, 1232);
    assert_int_equal(w.frag_more, 1);
    assert_int_equal(w.frag_id, 0xdeadbeef);
    assert_int_equal(w.frag_next, 58);
    oasis_ipv6_frag back;
    assert_int_equal(oasis_ipv6_frag_parse(f, 8, &back), 0);
    assert_int_equal(back.offset, 1232);
    assert_int_equal(oasis_ipv6_frag_parse(f, 7, &back), OASIS_ETRUNCATED);
    /* Not a multiple of 8 with more to come: pointer at the Payload Length. */
    c.len -= 1;
    oasis_put16(c.b + 4, (uint16_t)(c.len - 40));
    assert_int_equal(oasis_ipv6_walk_chain(c.b, c.len, &w), OASIS_W6_FRAG_LEN);
    assert_int_equal(w.icmp_code, 0);
    assert_int_equal(w.pointer, 4);
    /* The last fragment may be any length, but not past 65535. */
    fh.more = 0;
    fh.offset = 65528; /* 65528 + 15 > 65535 */
    oasis_ipv6_frag_emit(f, &fh);
    assert_int_equal(oasis_ipv6_walk_chain(c.b, c.len, &w), OASIS_W6_FRAG_LEN);
    assert_int_equal(w.pointer, 40 + 2);
    fh.offset = 65520; /* ends at 65535 exactly */
    oasis_ipv6_frag_emit(f, &fh);
    assert_int_equal(oasis_ipv6_walk_chain(c.b, c.len, &w), OASIS_W6_OK);
    /* The header cut short. */
    for (size_t n = 40; n < 48; n++)
        assert_int_equal(oasis_ipv6_walk_chain(c.b, n, &w), OASIS_W6_TRUNCATED);
}

/* The upper layer found past headers the walk refuses (an 11xxxxxx option,
 * Hop-by-Hop not first) and through a first fragment; none for a later
 * fragment or a chain cut short. */
static void test_upper_layer(void **state)
{
    (void)state;
    chain c;
    uint32_t off;
    uint8_t proto;
    chain_start(&c);
    uint8_t *d = chain_add(&c, OASIS_NH_DSTOPTS, 8);
    d[2] = 0xde;
    d[3] = 4;
    chain_add(&c, OASIS_NH_HOPOPTS, 16);
    uint8_t *f = chain_add(&c, OASIS_NH_FRAGMENT, 8);
    chain_end(&c, OASIS_NH_ICMPV6, 8);
    oasis_ipv6_frag fh = {OASIS_NH_ICMPV6, 0, 1, 7};
    oasis_ipv6_frag_emit(f, &fh);
    assert_int_equal(oasis_ipv6_upper_layer(c.b, c.len, &off, &proto), 0);
    const uint32_t upper = 40 + 8 + 16 + 8;
    assert_int_equal(off, upper);
    assert_int_equal(proto, OASIS_NH_ICMPV6);
    for (size_t n = 40; n < upper; n++)
        assert_int_equal(oasis_ipv6_upper_layer(c.b, n, &off, &proto), -1);
    fh.offset = 8;
    oasis_ipv6_frag_emit(f, &fh);
    assert_int_equal(oasis_ipv6_upper_layer(c.b, c.len, &off, &proto), -1);
}

/* Random chains: the walk never reads outside [0, len) (ASan) and its
 * answer is sane. */
static void test_walk_random(void **state)
{
    (void)state;
    uint8_t buf[256];
    uint32_t x = 12345;
    for (int it = 0; it < 200000; it++) {
        size_t len = 40 + (x >> 7) % 200;
        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (uint8_t)(x >> 16);
            if ((x >> 29) == 0)
                buf[i] = (uint8_t)((x >> 8) % 4 == 0 ? 0 : (x >> 8) % 4 == 1 ? 60 : (x >> 8) % 4 == 2 ? 43 : 44);
        }
        uint8_t *copy = malloc(len);
        memcpy(copy, buf, len);
        oasis_ipv6_walk w;
        if (oasis_ipv6_walk_chain(copy, len, &w) == OASIS_W6_OK)
            assert_true(w.off <= len);
        else if (w.icmp_code >= 0)
            assert_true(w.pointer < len);
        free(copy);
    }
}

/* ---- ND ---- */

static const uint8_t MAC[6] = {0x02, 0, 0, 0, 0, 0x11};

static void test_nd_ns_na_rs_roundtrip(void **state)
{
    (void)state;
    uint8_t b[64];
    oasis_nd_msg m;
    oasis_in6 t = LL2;
    size_t n = oasis_nd_emit_ns(b, &t, MAC);
    assert_int_equal(n, 32);
    assert_int_equal(oasis_nd_parse(b, n, &m), 0);
    assert_int_equal(m.type, OASIS_ICMP6_NS);
    assert_memory_equal(m.target.b, t.b, 16);
    assert_non_null(m.opts.slla);
    assert_memory_equal(m.opts.slla, MAC, 6);
    assert_null(m.opts.tlla);
    for (size_t k = 0; k < 24; k++)
        assert_int_equal(oasis_nd_parse(b, k, &m), OASIS_ETRUNCATED);
    for (size_t k = 25; k < n; k++) /* an option cut short */
        assert_int_equal(oasis_nd_parse(b, k, &m), OASIS_EMALFORMED);
    assert_int_equal(oasis_nd_parse(b, 24, &m), 0); /* no options at all is fine */

    n = oasis_nd_emit_na(b, &t, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE, MAC);
    assert_int_equal(oasis_nd_parse(b, n, &m), 0);
    assert_int_equal(m.na_flags, OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE);
    assert_non_null(m.opts.tlla);
    n = oasis_nd_emit_na(b, &t, 0, NULL);
    assert_int_equal(n, 24);

    n = oasis_nd_emit_rs(b, NULL);
    assert_int_equal(n, 8);
    assert_int_equal(oasis_nd_parse(b, n, &m), 0);
    n = oasis_nd_emit_rs(b, MAC);
    assert_int_equal(oasis_nd_parse(b, n, &m), 0);
    assert_memory_equal(m.opts.slla, MAC, 6);
}

static void test_nd_bad(void **state)
{
    (void)state;
    uint8_t b[64];
    oasis_nd_msg m;
    size_t n = oasis_nd_emit_ns(b, &LL2, MAC);
    b[25] = 0; /* option length 0: the message is dropped (RFC 4861 4.6) */
    assert_int_equal(oasis_nd_parse(b, n, &m), OASIS_EMALFORMED);
    b[25] = 2; /* option longer than the message */
    assert_int_equal(oasis_nd_parse(b, n, &m), OASIS_EMALFORMED);
    b[25] = 1;
    b[1] = 1; /* code must be 0 */
    assert_int_equal(oasis_nd_parse(b, n, &m), OASIS_EMALFORMED);
    b[1] = 0;
    b[8] = 0xff; /* multicast target */
    assert_int_equal(oasis_nd_parse(b, n, &m), OASIS_EMALFORMED);
    /* An SLLA of 16 bytes is not Ethernet's. */
    n = oasis_nd_emit_ns(b, &LL2, NULL);
    memset(b + n, 0, 16);
    b[n] = OASIS_ND_OPT_SLLA;
    b[n + 1] = 2;
    assert_int_equal(oasis_nd_parse(b, n + 16, &m), OASIS_EMALFORMED);
    /* Unknown options are skipped. */
    b[n] = 99;
    assert_int_equal(oasis_nd_parse(b, n + 16, &m), 0);
    /* A defined option the message does not use is ignored whatever its
     * size (RFC 4861 7.1.1, 7.1.2, 6.1.2, 8.1: "processed as normal"): a
     * 16-byte TLLA in an NS, a 16-byte SLLA in an NA or a redirect. */
    b[n] = OASIS_ND_OPT_TLLA;
    assert_int_equal(oasis_nd_parse(b, n + 16, &m), 0);
    assert_null(m.opts.tlla);
    n = oasis_nd_emit_na(b, &LL2, 0, NULL);
    memset(b + n, 0, 16);
    b[n] = OASIS_ND_OPT_SLLA;
    b[n + 1] = 2;
    assert_int_equal(oasis_nd_parse(b, n + 16, &m), 0);
    assert_null(m.opts.slla);
    b[n] = OASIS_ND_OPT_TLLA; /* ...but the NA's own TLLA must be Ethernet's */
    assert_int_equal(oasis_nd_parse(b, n + 16, &m), OASIS_EMALFORMED);
    uint8_t rd[40 + 16] = {OASIS_ICMP6_REDIRECT, 0};
    memcpy(rd + 8, LL2.b, 16);
    memcpy(rd + 24, LL2.b, 16);
    rd[40] = OASIS_ND_OPT_SLLA;
    rd[41] = 2;
    assert_int_equal(oasis_nd_parse(rd, sizeof rd, &m), 0);
    rd[40] = OASIS_ND_OPT_TLLA;
    assert_int_equal(oasis_nd_parse(rd, sizeof rd, &m), OASIS_EMALFORMED);
    uint8_t ra[16 + 16] = {OASIS_ICMP6_RA, 0};
    ra[16] = OASIS_ND_OPT_TLLA;
    ra[17] = 2;
    assert_int_equal(oasis_nd_parse(ra, sizeof ra, &m), 0);
    ra[16] = OASIS_ND_OPT_SLLA;
    assert_int_equal(oasis_nd_parse(ra, sizeof ra, &m), OASIS_EMALFORMED);
    /* Option length 0 is fatal in every message, even for an unknown type. */
    ra[16] = 99;
    ra[17] = 0;
    assert_int_equal(oasis_nd_parse(ra, sizeof ra, &m), OASIS_EMALFORMED);
    assert_int_equal(oasis_nd_parse((uint8_t[8]){128, 0}, 8, &m), OASIS_EMALFORMED);
}

/* A router advertisement as radvd sends it: hop limit 64, lifetime 1800,
 * SLLA, MTU 1500, prefix 2001:db8:1::/64 with L and A. */
static void test_nd_ra(void **state)
{
    (void)state;
    uint8_t b[16 + 8 + 8 + 32 + 32] = {
        134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0x75, 0x30, 0, 0, 0x03, 0xe8,
        1, 1, 0x02, 0, 0, 0, 0, 0x22,
        5, 1, 0, 0, 0, 0, 0x05, 0xdc,
        3, 4, 64, 0xc0, 0, 0x27, 0x8d, 0, 0, 0x09, 0x3a, 0x80, 0, 0, 0, 0,
        0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        3, 4, 48, 0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
        0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    };
    oasis_nd_msg m;
    assert_int_equal(oasis_nd_parse(b, sizeof b, &m), 0);
    assert_int_equal(m.cur_hop_limit, 64);
    assert_int_equal(m.router_lifetime_s, 1800);
    assert_int_equal(m.reachable_ms, 30000);
    assert_int_equal(m.retrans_ms, 1000);
    assert_non_null(m.opts.slla);
    assert_int_equal(m.opts.slla[5], 0x22);
    assert_true(m.opts.has_mtu);
    assert_int_equal(m.opts.mtu, 1500);
    assert_int_equal(m.opts.nprefix, 2);
    assert_int_equal(m.opts.prefix[0].plen, 64);
    assert_true(m.opts.prefix[0].onlink);
    assert_true(m.opts.prefix[0].autonomous);
    assert_int_equal(m.opts.prefix[0].valid_s, 2592000);
    assert_int_equal(m.opts.prefix[0].preferred_s, 604800);
    assert_int_equal(m.opts.prefix[0].prefix.b[5], 1);
    assert_false(m.opts.prefix[1].autonomous);
    assert_int_equal(m.opts.prefix[1].valid_s, 0xffffffffu);
    for (size_t k = 0; k < 16; k++)
        assert_int_equal(oasis_nd_parse(b, k, &m), OASIS_ETRUNCATED);
    /* Cut anywhere inside the options: the last option runs past the end. */
    for (size_t k = 17; k < sizeof b; k++)
        if (k != 24 && k != 32 && k != 64)
            assert_int_equal(oasis_nd_parse(b, k, &m), OASIS_EMALFORMED);
    /* A prefix option of the wrong size is ignored, not fatal. */
    b[33] = 3;
    assert_int_equal(oasis_nd_parse(b, 32 + 24, &m), 0);
    assert_int_equal(m.opts.nprefix, 0);
    assert_int_equal(m.opts.prefixes_ignored, 1);
}

/* RFC 8106 5.2: DNSSL names, RFC 1035 3.1 encoding without compression,
 * then zero padding. Each way of breaking the list is refused. */
static void test_dnssl_names(void **state)
{
    (void)state;
    char name[OASIS_ND_DNSSL_NAME_MAX + 1];
    static const uint8_t good[16] = {3, 'l', 'a', 'b', 2, 'E', 'x', 0, 1, 'a', 0, 0, 0, 0, 0, 0};
    size_t off = 0;
    assert_int_equal(oasis_nd_dnssl_next(good, sizeof good, &off, name), 1);
    assert_string_equal(name, "lab.Ex");
    assert_int_equal(oasis_nd_dnssl_next(good, sizeof good, &off, name), 1);
    assert_string_equal(name, "a");
    assert_int_equal(oasis_nd_dnssl_next(good, sizeof good, &off, name), 0);
    assert_int_equal(off, sizeof good);
    assert_int_equal(oasis_nd_dnssl_next(good, sizeof good, &off, name), 0);

    uint8_t b[300];
    /* A compression pointer; a label type 01 (0x40-0x7f). */
    static const uint8_t ptr[] = {3, 'l', 'a', 'b', 0xc0, 0};
    static const uint8_t ext[] = {0x41, 'a', 0};
    /* A label past the body; no root label before the end. */
    static const uint8_t past[] = {9, 'a', 'b', 0};
    static const uint8_t open_[] = {1, 'a'};
    /* Padding that is not zero; a space, a dot and a NUL inside a label. */
    static const uint8_t pad[] = {1, 'a', 0, 0, 7};
    static const uint8_t sp[] = {3, 'a', ' ', 'b', 0};
    static const uint8_t dot[] = {3, 'a', '.', 'b', 0};
    static const uint8_t nul[] = {3, 'a', 0, 'b', 0};
    const struct { const uint8_t *p; size_t n; } bad[] = {
        {ptr, sizeof ptr}, {ext, sizeof ext}, {past, sizeof past}, {open_, sizeof open_},
        {pad, sizeof pad}, {sp, sizeof sp}, {dot, sizeof dot}, {nul, sizeof nul},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int r;
        off = 0;
        while ((r = oasis_nd_dnssl_next(bad[i].p, bad[i].n, &off, name)) == 1)
            ;
        assert_int_equal(r, OASIS_EMALFORMED);
    }
    /* 255 wire bytes is the most a name may take (RFC 1035 2.3.4): four
     * labels of 63 and one of 1 take 1 + 4 x 64 + 2 = 259; three of 63 and
     * one of 61 take 255 exactly, a 253-character name. */
    memset(b, 'x', sizeof b);
    size_t k = 0;
    for (int i = 0; i < 3; i++) {
        b[k] = 63;
        k += 64;
    }
    b[k] = 61;
    k += 62;
    b[k++] = 0;
    assert_int_equal(k, 255);
    off = 0;
    assert_int_equal(oasis_nd_dnssl_next(b, k, &off, name), 1);
    assert_int_equal(strlen(name), 253);
    b[192] = 62; /* the last label one longer: 256 bytes */
    b[254] = 'x';
    b[255] = 0;
    off = 0;
    assert_int_equal(oasis_nd_dnssl_next(b, k + 1, &off, name), OASIS_EMALFORMED);
    /* In an RA: a DNSSL option with a bad name is ignored, not fatal; one
     * with Length 1 (no room for a name) too; an RDNSS in an NS is skipped. */
    uint8_t ra[16 + 16 + 8 + 24] = {134, 0};
    uint8_t *o = ra + 16;
    o[0] = OASIS_ND_OPT_DNSSL, o[1] = 2, o[8] = 1, o[9] = ' ';
    o[16] = OASIS_ND_OPT_DNSSL, o[17] = 1;
    o[24] = OASIS_ND_OPT_RDNSS, o[25] = 3, o[31] = 60, o[32] = 0x20;
    oasis_nd_msg m;
    assert_int_equal(oasis_nd_parse(ra, sizeof ra, &m), 0);
    assert_int_equal(m.opts.ndnssl, 0);
    assert_int_equal(m.opts.dns_opts_ignored, 2);
    assert_int_equal(m.opts.nrdnss, 1);
    assert_int_equal(m.opts.rdnss[0].lifetime_s, 60);
    assert_int_equal(m.opts.rdnss[0].len, 16);
    assert_int_equal(m.opts.rdnss[0].body[0], 0x20);
    uint8_t ns[24 + 24] = {135, 0};
    ns[8] = 0xfe, ns[9] = 0x80, ns[23] = 1;
    ns[24] = OASIS_ND_OPT_RDNSS, ns[25] = 3;
    assert_int_equal(oasis_nd_parse(ns, sizeof ns, &m), 0);
    assert_int_equal(m.opts.nrdnss, 0);
}

static void test_nd_redirect(void **state)
{
    (void)state;
    uint8_t b[40 + 8 + 48] = {137, 0};
    memcpy(b + 8, LL2.b, 16);
    b[24] = 0x20;
    b[25] = 0x01;
    b[40] = OASIS_ND_OPT_REDIRECTED;
    b[41] = 7;
    oasis_nd_msg m;
    assert_int_equal(oasis_nd_parse(b, sizeof b, &m), 0);
    assert_int_equal(m.dest.b[0], 0x20);
    assert_int_equal(m.opts.redirected_len, 48);
    for (size_t k = 0; k < 40; k++)
        assert_int_equal(oasis_nd_parse(b, k, &m), OASIS_ETRUNCATED);
    b[24] = 0xff; /* multicast destination */
    assert_int_equal(oasis_nd_parse(b, sizeof b, &m), OASIS_EMALFORMED);
}

static void test_mld(void **state)
{
    (void)state;
    uint8_t b[8 + 3 * 20];
    oasis_in6 g[3] = {oasis_in6_solicited_node(&LL1), oasis_in6_all_nodes,
                      oasis_in6_solicited_node(&LL2)};
    size_t n = oasis_mld_emit_report(b, g, 3, OASIS_MLD2_TO_EXCLUDE);
    assert_int_equal(n, sizeof b);
    assert_int_equal(oasis_mld_parse_report(b, n), 3);
    assert_int_equal(b[8], OASIS_MLD2_TO_EXCLUDE);
    assert_memory_equal(b + 12, g[0].b, 16);
    for (size_t k = 0; k < n; k++)
        assert_true(oasis_mld_parse_report(b, k) < 0);
    /* Lying source count and aux length. */
    b[8 + 3] = 1;
    assert_int_equal(oasis_mld_parse_report(b, n), OASIS_ETRUNCATED);
    b[8 + 3] = 0;
    b[8 + 1] = 1;
    assert_int_equal(oasis_mld_parse_report(b, n), OASIS_ETRUNCATED);

    /* Queries: v1 (24 bytes), v2 general (28), v2 with sources. */
    uint8_t q[28 + 32] = {130, 0, 0, 0, 0x27, 0x10};
    oasis_mld_query mq;
    assert_int_equal(oasis_mld_parse_query(q, 24, &mq), 0);
    assert_false(mq.v2);
    assert_int_equal(mq.max_resp_ms, 10000);
    assert_int_equal(oasis_mld_parse_query(q, 28, &mq), 0);
    assert_true(mq.v2);
    assert_int_equal(mq.max_resp_ms, 10000);
    q[4] = 0x80; /* exponential form: (0 | 0x1000) << 3 */
    q[5] = 0;
    assert_int_equal(oasis_mld_parse_query(q, 28, &mq), 0);
    assert_int_equal(mq.max_resp_ms, 0x1000 << 3);
    q[27] = 2;
    assert_int_equal(oasis_mld_parse_query(q, 28 + 32, &mq), 0);
    assert_int_equal(mq.nsources, 2);
    assert_ptr_equal(mq.sources, q + 28);
    assert_int_equal(oasis_mld_parse_query(q, 28 + 31, &mq), OASIS_ETRUNCATED);
    for (size_t k = 0; k < 24; k++)
        assert_int_equal(oasis_mld_parse_query(q, k, &mq), OASIS_ETRUNCATED);
    for (size_t k = 25; k < 28; k++)
        assert_int_equal(oasis_mld_parse_query(q, k, &mq), OASIS_ETRUNCATED);
    q[8] = 0x20; /* group neither :: nor multicast */
    assert_int_equal(oasis_mld_parse_query(q, 24, &mq), OASIS_EMALFORMED);
    /* A Multicast Address Specific Query names its address (RFC 3810
     * 5.1.10); a general one has :: there. */
    memcpy(q + 8, g[0].b, 16);
    assert_int_equal(oasis_mld_parse_query(q, 28 + 32, &mq), 0);
    assert_true(oasis_in6_eq(&mq.group, &g[0]));
    /* A record with sources (RFC 3810 5.2.4): IS_INCLUDE {LL1, LL2}. */
    uint8_t r[28 + 32];
    oasis_in6 src[2] = {LL1, LL2};
    assert_int_equal(oasis_mld_emit_record(r, &g[0], OASIS_MLD2_IS_INCLUDE, src, 2), sizeof r);
    assert_int_equal(oasis_mld_parse_report(r, sizeof r), 1);
    assert_int_equal(r[8], OASIS_MLD2_IS_INCLUDE);
    assert_int_equal(oasis_get16(r + 10), 2);
    assert_memory_equal(r + 12, g[0].b, 16);
    assert_memory_equal(r + 28 + 16, LL2.b, 16);
    assert_int_equal(oasis_mld_parse_report(r, sizeof r - 1), OASIS_ETRUNCATED);
}

/* RFC 2710 3: an MLDv1 Report or Done, 24 bytes, names a multicast
 * address; what else comes is another message's (a query, an MLDv2
 * report) or malformed. */
static void test_mld1_parse(void **state)
{
    (void)state;
    uint8_t b[24];
    oasis_in6 g = oasis_in6_solicited_node(&LL1), out;
    assert_int_equal(oasis_mld1_emit(b, OASIS_ICMP6_MLD_REPORT, &g), 24);
    assert_int_equal(oasis_mld1_parse(b, 24, &out), 0);
    assert_true(oasis_in6_eq(&out, &g));
    b[0] = OASIS_ICMP6_MLD_DONE;
    assert_int_equal(oasis_mld1_parse(b, 24, &out), 0);
    for (size_t k = 0; k < 24; k++)
        assert_int_equal(oasis_mld1_parse(b, k, &out), OASIS_ETRUNCATED);
    b[0] = OASIS_ICMP6_MLD_QUERY;
    assert_int_equal(oasis_mld1_parse(b, 24, &out), OASIS_EMALFORMED);
    b[0] = OASIS_ICMP6_MLD_REPORT;
    b[8] = 0xfe; /* not a multicast address */
    assert_int_equal(oasis_mld1_parse(b, 24, &out), OASIS_EMALFORMED);
}

static void test_addresses(void **state)
{
    (void)state;
    oasis_in6 a = {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0}};
    oasis_in6 sn = oasis_in6_solicited_node(&a);
    static const uint8_t want[16] = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xbc, 0xde, 0xf0};
    assert_memory_equal(sn.b, want, 16);
    uint8_t mac[6];
    oasis_in6_multicast_mac(&sn, mac);
    assert_memory_equal(mac, ((uint8_t[]){0x33, 0x33, 0xff, 0xbc, 0xde, 0xf0}), 6);
    oasis_in6_multicast_mac(&oasis_in6_all_nodes, mac);
    assert_memory_equal(mac, ((uint8_t[]){0x33, 0x33, 0, 0, 0, 1}), 6);
    assert_true(oasis_in6_is_link_local(&LL1));
    assert_false(oasis_in6_is_link_local(&a));
    assert_true(oasis_in6_is_multicast(&sn));
    oasis_in6 b = a;
    b.b[7] = 1;
    assert_true(oasis_in6_prefix_eq(&a, &b, 56));
    assert_false(oasis_in6_prefix_eq(&a, &b, 64));
    /* Pseudo-header sum: the upper length counts as 32 bits. */
    uint64_t s1 = oasis_ipv6_pseudo_sum(&LL1, &LL2, 0x10000, 17);
    uint64_t s2 = oasis_ipv6_pseudo_sum(&LL1, &LL2, 0, 17);
    assert_true(s1 != s2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_good_and_roundtrip),
        cmocka_unit_test(test_header_truncated_and_lying),
        cmocka_unit_test(test_icmp6_checksum_vector),
        cmocka_unit_test(test_walk_good),
        cmocka_unit_test(test_walk_option_actions),
        cmocka_unit_test(test_walk_routing),
        cmocka_unit_test(test_walk_hbh_not_first),
        cmocka_unit_test(test_walk_bombs),
        cmocka_unit_test(test_walk_lying_lengths),
        cmocka_unit_test(test_walk_fragment),
        cmocka_unit_test(test_walk_random),
        cmocka_unit_test(test_upper_layer),
        cmocka_unit_test(test_nd_ns_na_rs_roundtrip),
        cmocka_unit_test(test_nd_bad),
        cmocka_unit_test(test_nd_ra),
        cmocka_unit_test(test_dnssl_names),
        cmocka_unit_test(test_nd_redirect),
        cmocka_unit_test(test_mld),
        cmocka_unit_test(test_mld1_parse),
        cmocka_unit_test(test_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
