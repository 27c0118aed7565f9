/* Issue 13: the virtio-net header (parse/fill, every GSO type, partial
 * checksums, bad headers dropped) and software segmentation at the link
 * boundary (every boundary, options on every piece, PSH/FIN only on the
 * last, CWR only on the first, IP ID and checksums per piece), for IPv4
 * and IPv6 super-segments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/checksum.h"
#include "core/stack_impl.h"
#include "link/gso.h"
#include "link/virtio_net.h"
#include "oasis/oasis.h"
#include "testutil.h"

/* ---- virtio-net header ---------------------------------------------------- */

static void hdr(uint8_t *h, uint8_t flags, uint8_t type, uint16_t hdr_len, uint16_t gso,
                uint16_t start, uint16_t off)
{
    memset(h, 0, OASIS_VNET_HDR_LEN);
    h[0] = flags;
    h[1] = type;
    h[2] = (uint8_t)hdr_len, h[3] = (uint8_t)(hdr_len >> 8);
    h[4] = (uint8_t)gso, h[5] = (uint8_t)(gso >> 8);
    h[6] = (uint8_t)start, h[7] = (uint8_t)(start >> 8);
    h[8] = (uint8_t)off, h[9] = (uint8_t)(off >> 8);
}

static void test_vnet_parse_every_gso_type(void **state)
{
    (void)state;
    uint8_t h[OASIS_VNET_HDR_LEN];
    oasis_offload o;
    static const uint8_t types[] = {OASIS_GSO_TCPV4, OASIS_GSO_TCPV6, OASIS_GSO_UDP,
                                    OASIS_GSO_TCPV4 | OASIS_GSO_ECN,
                                    OASIS_GSO_TCPV6 | OASIS_GSO_ECN};
    for (size_t i = 0; i < sizeof types; i++) {
        hdr(h, OASIS_VNET_F_NEEDS_CSUM, types[i], 66, 1448, 34, 16);
        assert_int_equal(oasis_vnet_parse(h, 65000, &o), 0);
        assert_int_equal(o.gso_type, types[i]);
        assert_int_equal(o.gso_size, 1448);
        assert_int_equal(o.hdr_len, 66);
        assert_int_equal(o.flags, OASIS_OFFLOAD_CSUM_PARTIAL);
        assert_int_equal(o.csum_start, 34);
        assert_int_equal(o.csum_offset, 16);
    }
    /* NONE: a plain frame; gso fields are not taken. */
    hdr(h, 0, OASIS_GSO_NONE, 0, 0, 0, 0);
    assert_int_equal(oasis_vnet_parse(h, 60, &o), 0);
    assert_int_equal(o.gso_type, 0);
    assert_int_equal(o.flags, 0);
    hdr(h, OASIS_VNET_F_DATA_VALID, OASIS_GSO_NONE, 0, 0, 0, 0);
    assert_int_equal(oasis_vnet_parse(h, 60, &o), 0);
    assert_int_equal(o.flags, OASIS_OFFLOAD_CSUM_VALID);
}

static void test_vnet_bad_headers(void **state)
{
    (void)state;
    uint8_t h[OASIS_VNET_HDR_LEN];
    oasis_offload o;
    hdr(h, 4, 0, 0, 0, 0, 0); /* RSC_INFO: not for a TAP */
    assert_int_equal(oasis_vnet_parse(h, 60, &o), OASIS_EMALFORMED);
    hdr(h, 0x80, 0, 0, 0, 0, 0);
    assert_int_equal(oasis_vnet_parse(h, 60, &o), OASIS_EMALFORMED);
    hdr(h, 0, 2, 0, 1448, 0, 0); /* no such type */
    assert_int_equal(oasis_vnet_parse(h, 60, &o), OASIS_EMALFORMED);
    hdr(h, 0, OASIS_VNET_GSO_UDP_L4, 0, 1448, 0, 0); /* never offered */
    assert_int_equal(oasis_vnet_parse(h, 60, &o), OASIS_EMALFORMED);
    hdr(h, 0, OASIS_GSO_ECN, 0, 0, 0, 0); /* ECN without TCP */
    assert_int_equal(oasis_vnet_parse(h, 60, &o), OASIS_EMALFORMED);
    hdr(h, 0, OASIS_GSO_UDP | OASIS_GSO_ECN, 0, 1448, 0, 0);
    assert_int_equal(oasis_vnet_parse(h, 60, &o), OASIS_EMALFORMED);
    hdr(h, OASIS_VNET_F_NEEDS_CSUM, OASIS_GSO_TCPV4, 66, 0, 34, 16); /* no gso_size */
    assert_int_equal(oasis_vnet_parse(h, 6000, &o), OASIS_EMALFORMED);
    hdr(h, OASIS_VNET_F_NEEDS_CSUM, 0, 0, 0, 34, 16); /* field past the end */
    assert_int_equal(oasis_vnet_parse(h, 51, &o), OASIS_EMALFORMED);
    assert_int_equal(oasis_vnet_parse(h, 52, &o), 0); /* exactly inside */
    hdr(h, OASIS_VNET_F_NEEDS_CSUM, 0, 0, 0, 10, 0); /* inside the Ethernet header */
    assert_int_equal(oasis_vnet_parse(h, 60, &o), OASIS_EMALFORMED);
    hdr(h, 0, OASIS_GSO_TCPV4, 9000, 1448, 0, 0); /* headers longer than the frame */
    assert_int_equal(oasis_vnet_parse(h, 8000, &o), OASIS_EMALFORMED);
    hdr(h, 0, 0, 0, 0, 0, 0);
    assert_int_equal(oasis_vnet_parse(h, 13, &o), OASIS_EMALFORMED); /* no Ethernet header */
}

static void test_vnet_fill_round_trip(void **state)
{
    (void)state;
    uint8_t h[OASIS_VNET_HDR_LEN];
    oasis_offload in = {OASIS_OFFLOAD_CSUM_PARTIAL, OASIS_GSO_TCPV4, 1448, 66, 34, 16}, out;
    oasis_vnet_fill(h, &in);
    /* Little-endian fields where virtio puts them; num_buffers zero. */
    static const uint8_t want[12] = {1, 1, 66, 0, 0xa8, 0x05, 34, 0, 16, 0, 0, 0};
    assert_memory_equal(h, want, sizeof want);
    assert_int_equal(oasis_vnet_parse(h, 65000, &out), 0);
    assert_memory_equal(&in, &out, sizeof in);
    oasis_vnet_fill(h, NULL);
    static const uint8_t zero[12];
    assert_memory_equal(h, zero, sizeof zero);
    /* A partial checksum alone: no GSO bytes. */
    oasis_offload p = {OASIS_OFFLOAD_CSUM_PARTIAL, 0, 0, 0, 34, 6};
    oasis_vnet_fill(h, &p);
    static const uint8_t want_p[12] = {1, 0, 0, 0, 0, 0, 34, 0, 6, 0, 0, 0};
    assert_memory_equal(h, want_p, sizeof want_p);
}

/* A TAP read with a bad header is dropped before the stack sees it. */
static void test_vnet_input_drops_bad(void **state)
{
    (void)state;
    oasis_clock *c = oasis_clock_new_virtual(0);
    oasis_stack_config cfg;
    test_stack_config(&cfg, c, 1);
    oasis_stack *s;
    assert_int_equal(oasis_stack_create(&cfg, &s), 0);
    uint8_t buf[OASIS_VNET_HDR_LEN + 60];
    memset(buf, 0, sizeof buf);
    hdr(buf, 0, 2, 0, 0, 0, 0);
    assert_int_equal(oasis_vnet_input(s, buf, sizeof buf), OASIS_EMALFORMED);
    assert_int_equal(oasis_vnet_input(s, buf, 5), OASIS_EMALFORMED);
    assert_int_equal(oasis_stack_counters(s)->link.rx_frames, 0);
    hdr(buf, 0, 0, 0, 0, 0, 0);
    assert_int_equal(oasis_vnet_input(s, buf, sizeof buf), 0);
    assert_int_equal(oasis_stack_counters(s)->link.rx_frames, 1);
    oasis_stack_destroy(s);
    oasis_clock_free(c);
}

/* ---- software segmentation ------------------------------------------------ */

#define SRC 0x0a000001u
#define DST 0x0a000002u
#define HLEN (14 + 20 + 32) /* TCP with a timestamp option (12 bytes) */
#define MSS 1448u

/* The TCP header and payload of a test super-segment (32-byte header:
 * timestamps), its checksum field left for the caller. */
static void fill_tcp(uint8_t *tcp, size_t payload, uint8_t flags)
{
    oasis_put16(tcp, 80);
    oasis_put16(tcp + 2, 40000);
    oasis_put32(tcp + 4, 0xfffff000u); /* wraps inside a 64 KiB super-segment */
    oasis_put32(tcp + 8, 777);
    tcp[12] = 8 << 4;
    tcp[13] = flags;
    oasis_put16(tcp + 14, 500);
    /* NOP NOP TS */
    static const uint8_t opts[12] = {1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8};
    memcpy(tcp + 20, opts, sizeof opts);
    for (size_t i = 0; i < payload; i++)
        tcp[32 + i] = (uint8_t)(i * 7 + i / 251);
}

/* IPv6: 2001:db8::1 to 2001:db8::2, traffic class 0x28 and flow label
 * 0x12345 (each piece keeps them). */
#define HLEN6 (14 + 40 + 32)
static const uint8_t SRC6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t DST6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

/* The TCP pseudo-header's sum for tcp_len bytes, either family. */
static uint64_t pseudo(int v6, size_t tcp_len)
{
    if (!v6)
        return oasis_csum_pseudo(SRC, DST, 6, (uint16_t)tcp_len);
    uint64_t sum = oasis_csum_add(oasis_csum_add(0, SRC6, 16), DST6, 16);
    return oasis_csum_add_be32(oasis_csum_add_be32(sum, (uint32_t)tcp_len), 6);
}

/* A super-segment of `payload` bytes over IPv4 (ID 0xfff0, DF) or IPv6,
 * its checksum left partial as TCP leaves it. */
static uint8_t *super_frame_of(int v6, size_t payload, uint8_t flags, size_t *len)
{
    size_t hlen = v6 ? HLEN6 : HLEN;
    *len = hlen + payload;
    uint8_t *f = malloc(*len);
    assert_non_null(f);
    memset(f, 0, hlen);
    memset(f, 0xaa, 12);
    oasis_put16(f + 12, v6 ? 0x86dd : 0x0800);
    uint8_t *ip = f + 14, *tcp = f + hlen - 32;
    if (v6) {
        oasis_put32(ip, 6u << 28 | 0x28u << 20 | 0x12345u);
        oasis_put16(ip + 4, (uint16_t)(32 + payload));
        ip[6] = 6;
        ip[7] = 64;
        memcpy(ip + 8, SRC6, 16);
        memcpy(ip + 24, DST6, 16);
    } else {
        ip[0] = 0x45;
        oasis_put16(ip + 2, (uint16_t)(20 + 32 + payload));
        oasis_put16(ip + 4, 0xfff0); /* wraps inside a 64 KiB super-segment */
        oasis_put16(ip + 6, 0x4000); /* DF */
        ip[8] = 64;
        ip[9] = 6;
        oasis_put32(ip + 12, SRC);
        oasis_put32(ip + 16, DST);
    }
    fill_tcp(tcp, payload, flags);
    uint16_t ps = (uint16_t)~oasis_csum_fold(pseudo(v6, 32 + payload));
    memcpy(tcp + 16, &ps, 2);
    return f;
}

static uint8_t *super_frame(size_t payload, uint8_t flags, size_t *len)
{
    return super_frame_of(0, payload, flags, len);
}

typedef struct pieces {
    size_t n;
    uint8_t *f[64];
    size_t len[64];
} pieces;

static int collect(void *ud, uint8_t *frame, size_t len)
{
    pieces *p = ud;
    assert_true(p->n < 64);
    p->f[p->n] = malloc(len);
    memcpy(p->f[p->n], frame, len);
    p->len[p->n++] = len;
    return 0;
}

static void pieces_free(pieces *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->f[i]);
}

/* Checks every rule on the pieces of a super-segment of `payload` bytes:
 * IPv4's length, ID (one up per piece) and header checksum, or IPv6's
 * payload length with the rest of its header as it was; sequence numbers,
 * options, PSH/FIN on the last and CWR on the first only, the TCP checksum
 * over the family's pseudo-header, the payload in order. */
static void check_cut(int v6, size_t payload, uint8_t flags, int in_place)
{
    size_t len, hlen = v6 ? HLEN6 : HLEN, l4 = hlen - 32;
    uint8_t *f = super_frame_of(v6, payload, flags, &len);
    uint8_t *orig = malloc(len);
    memcpy(orig, f, len);
    oasis_offload off = {OASIS_OFFLOAD_CSUM_PARTIAL,
                         v6 ? OASIS_GSO_TCPV6 | OASIS_GSO_ECN : OASIS_GSO_TCPV4, MSS,
                         (uint16_t)hlen, (uint16_t)l4, 16};
    pieces p = {0};
    uint8_t *scratch = in_place ? NULL : malloc(OASIS_GSO_SCRATCH);
    int err = -1;
    int n = oasis_gso_segment(f, len, &off, scratch, OASIS_GSO_SCRATCH, collect, &p, &err);
    size_t want = payload == 0 ? 1 : (payload + MSS - 1) / MSS;
    assert_int_equal(n, (int)want);
    assert_int_equal(err, 0);
    assert_int_equal(p.n, want);
    if (!in_place)
        assert_memory_equal(f, orig, len); /* left untouched */
    size_t done = 0;
    for (size_t i = 0; i < p.n; i++) {
        uint8_t *q = p.f[i], *ip = q + 14, *tcp = q + l4;
        size_t k = payload - done < MSS ? payload - done : MSS;
        assert_int_equal(p.len[i], hlen + k);
        if (v6) {
            assert_memory_equal(q, orig, 14 + 4); /* Ethernet; version, class, flow label */
            assert_int_equal(oasis_get16(ip + 4), 32 + k);
            assert_memory_equal(ip + 6, orig + 14 + 6, 34); /* next header, hops, addresses */
        } else {
            assert_memory_equal(q, orig, 14); /* Ethernet header */
            assert_int_equal(oasis_get16(ip + 2), 20 + 32 + k);
            assert_int_equal(oasis_get16(ip + 4), (uint16_t)(0xfff0 + i)); /* ID per piece */
            assert_int_equal(oasis_get16(ip + 6), 0x4000);
            assert_int_equal(oasis_csum(ip, 20), 0); /* IP checksum per piece */
        }
        assert_int_equal(oasis_get32(tcp + 4), (uint32_t)(0xfffff000u + done));
        assert_int_equal(oasis_get32(tcp + 8), 777);
        assert_memory_equal(tcp + 20, orig + l4 + 20, 12); /* options on every piece */
        uint8_t fl = flags;
        if (i + 1 < p.n)
            fl &= (uint8_t)~(0x01 | 0x08); /* FIN, PSH: the last only */
        if (i > 0)
            fl &= (uint8_t)~0x80; /* CWR: the first only */
        assert_int_equal(tcp[13], fl);
        assert_int_equal(oasis_csum_fold(oasis_csum_add(pseudo(v6, 32 + k), tcp, 32 + k)), 0);
        assert_memory_equal(q + hlen, orig + hlen + done, k);
        done += k;
    }
    assert_int_equal(done, payload);
    pieces_free(&p);
    free(scratch);
    free(orig);
    free(f);
}

static void test_gso6_every_boundary(void **state)
{
    (void)state;
    const uint8_t all = 0x01 | 0x08 | 0x10 | 0x80;
    const size_t sizes[] = {0, 1, MSS - 1, MSS, MSS + 1, 2 * MSS, 45 * MSS, 65535 - 32};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        check_cut(1, sizes[i], all, 0);
        check_cut(1, sizes[i], all, 1);
        check_cut(1, sizes[i], 0x10, 1);
    }
}

static void test_gso_every_boundary(void **state)
{
    (void)state;
    const uint8_t all = 0x01 | 0x08 | 0x10 | 0x80; /* FIN PSH ACK CWR */
    const size_t sizes[] = {0, 1, MSS - 1, MSS, MSS + 1, 2 * MSS, 2 * MSS + 1,
                            45 * MSS, 65535 - 20 - 32};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        check_cut(0, sizes[i], all, 0);
        check_cut(0, sizes[i], all, 1);
        check_cut(0, sizes[i], 0x10, 1);
    }
}

static void test_gso_partial_only_completed(void **state)
{
    (void)state;
    size_t len;
    uint8_t *f = super_frame(100, 0x18, &len);
    oasis_offload off = {OASIS_OFFLOAD_CSUM_PARTIAL, 0, 0, 0, 34, 16};
    pieces p = {0};
    assert_int_equal(oasis_gso_segment(f, len, &off, NULL, 0, collect, &p, NULL), 1);
    uint64_t sum = oasis_csum_pseudo(SRC, DST, 6, 132);
    assert_int_equal(oasis_csum_fold(oasis_csum_add(sum, p.f[0] + 34, 132)), 0);
    pieces_free(&p);
    free(f);
}

static void test_gso_refuses_what_it_cannot_cut(void **state)
{
    (void)state;
    size_t len;
    uint8_t *f = super_frame(5000, 0x10, &len);
    pieces p = {0};
    oasis_offload udp = {OASIS_OFFLOAD_CSUM_PARTIAL, OASIS_GSO_UDP, MSS, HLEN, 34, 6};
    assert_int_equal(oasis_gso_segment(f, len, &udp, NULL, 0, collect, &p, NULL), OASIS_ENOTSUP);
    /* An IPv4 frame called IPv6, and IPv6 ones that are not what TCP sends. */
    oasis_offload v6 = {OASIS_OFFLOAD_CSUM_PARTIAL, OASIS_GSO_TCPV6, MSS, HLEN6, 54, 16};
    assert_int_equal(oasis_gso_segment(f, len, &v6, NULL, 0, collect, &p, NULL), OASIS_EMALFORMED);
    size_t len6;
    uint8_t *f6 = super_frame_of(1, 5000, 0x10, &len6);
    f6[14 + 6] = 0; /* a Hop-by-Hop header before TCP */
    assert_int_equal(oasis_gso_segment(f6, len6, &v6, NULL, 0, collect, &p, NULL), OASIS_EMALFORMED);
    f6[14 + 6] = 6;
    oasis_put16(f6 + 14 + 4, 60000); /* payload length past the frame */
    assert_int_equal(oasis_gso_segment(f6, len6, &v6, NULL, 0, collect, &p, NULL), OASIS_EMALFORMED);
    oasis_put16(f6 + 14 + 4, 16); /* shorter than the TCP header */
    assert_int_equal(oasis_gso_segment(f6, len6, &v6, NULL, 0, collect, &p, NULL), OASIS_EMALFORMED);
    free(f6);
    oasis_offload v4 = {OASIS_OFFLOAD_CSUM_PARTIAL, OASIS_GSO_TCPV4, MSS, HLEN, 34, 16};
    f[12] = 0x86; /* not IPv4 */
    assert_int_equal(oasis_gso_segment(f, len, &v4, NULL, 0, collect, &p, NULL), OASIS_EMALFORMED);
    f[12] = 0x08;
    oasis_put16(f + 16, 60000); /* IP length past the frame */
    assert_int_equal(oasis_gso_segment(f, len, &v4, NULL, 0, collect, &p, NULL), OASIS_EMALFORMED);
    assert_int_equal(p.n, 0);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vnet_parse_every_gso_type),
        cmocka_unit_test(test_vnet_bad_headers),
        cmocka_unit_test(test_vnet_fill_round_trip),
        cmocka_unit_test(test_vnet_input_drops_bad),
        cmocka_unit_test(test_gso_every_boundary),
        cmocka_unit_test(test_gso6_every_boundary),
        cmocka_unit_test(test_gso_partial_only_completed),
        cmocka_unit_test(test_gso_refuses_what_it_cannot_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
