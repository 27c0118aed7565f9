/* TCP header and options: parse, emit, round trips, malformed input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/bytes.h"
#include "core/checksum.h"
#include "oasis/error.h"
#include "tcp/tcp_wire.h"

#define SRC 0xc0a80001u /* 192.168.0.1 */
#define DST 0xc0a80002u

/* A SYN from a Linux host as captured by tcpdump ("cksum 0xa4f2 (correct)"):
 * 188.188.3.240.5604 > 112.65.227.148.80, seq 2466954207, win 14600,
 * options [mss 1460,sackOK,TS val 949598155 ecr 0,nop,wscale 7]. */
static const uint32_t syn_src = 0xbcbc03f0u, syn_dst = 0x7041e394u;
static const uint8_t linux_syn[40] = {
    0x15, 0xe4, 0x00, 0x50, 0x93, 0x0a, 0xbb, 0xdf, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02,
    0x39, 0x08, 0xa4, 0xf2, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
    0x38, 0x99, 0xb7, 0xcb, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

/* A SYN captured on loopback from Linux 6.18 (mss 65495, wscale 10). The
 * checksum is only the partial pseudo-header sum that loopback leaves. */
static const uint8_t linux_lo_syn[40] = {
    0xb2, 0x5e, 0xa0, 0xaf, 0xf7, 0x02, 0x98, 0xf9, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02,
    0xff, 0xd7, 0xfe, 0x30, 0x00, 0x00, 0x02, 0x04, 0xff, 0xd7, 0x04, 0x02, 0x08, 0x0a,
    0x7b, 0x29, 0xbb, 0xf1, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a,
};

/* The reference checksum over pseudo-header + segment must be 0 (memory
 * order) for a valid segment. */
static int ref_csum_ok(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst)
{
    uint8_t buf[12 + 2048];
    assert_true(len <= 2048);
    uint8_t ph[12] = {(uint8_t)(src >> 24), (uint8_t)(src >> 16), (uint8_t)(src >> 8), (uint8_t)src,
                      (uint8_t)(dst >> 24), (uint8_t)(dst >> 16), (uint8_t)(dst >> 8), (uint8_t)dst,
                      0, 6, (uint8_t)(len >> 8), (uint8_t)len};
    memcpy(buf, ph, 12);
    memcpy(buf + 12, seg, len);
    return oasis_csum_ref(buf, 12 + len) == 0;
}

static void test_parse_linux_syn(void **state)
{
    (void)state;
    oasis_tcp_hdr h;
    assert_int_equal(oasis_tcp_parse(linux_syn, sizeof linux_syn, syn_src, syn_dst, 1, &h), 0);
    assert_int_equal(h.src_port, 5604);
    assert_int_equal(h.dst_port, 80);
    assert_int_equal(h.seq, 2466954207u);
    assert_int_equal(h.ack, 0);
    assert_int_equal(h.hdr_len, 40);
    assert_int_equal(h.flags, OASIS_TCP_SYN);
    assert_int_equal(h.window, 14600);
    assert_int_equal(h.urg, 0);
    assert_true(h.has_mss);
    assert_int_equal(h.mss, 1460);
    assert_true(h.sack_permitted);
    assert_true(h.has_ts);
    assert_int_equal(h.ts_val, 949598155u);
    assert_int_equal(h.ts_ecr, 0);
    assert_true(h.has_wscale);
    assert_int_equal(h.wscale, 7);
    assert_int_equal(h.sack_count, 0);
    assert_ptr_equal(h.payload, linux_syn + 40);
    assert_int_equal(h.payload_len, 0);
}

/* Our layout is Linux's: re-emitting the parsed SYN gives the same bytes,
 * checksum included. */
static void test_emit_matches_linux_syn(void **state)
{
    (void)state;
    oasis_tcp_hdr h;
    uint8_t out[60];
    assert_int_equal(oasis_tcp_parse(linux_syn, sizeof linux_syn, syn_src, syn_dst, 1, &h), 0);
    assert_int_equal(oasis_tcp_options_len(&h), 20);
    memset(out, 0xee, sizeof out);
    assert_int_equal(oasis_tcp_emit(out, &h, 0, syn_src, syn_dst), 40);
    assert_memory_equal(out, linux_syn, 40);
    assert_true(ref_csum_ok(out, 40, syn_src, syn_dst));
}

static void test_parse_loopback_syn(void **state)
{
    (void)state;
    oasis_tcp_hdr h;
    const uint32_t lo = 0x7f000001u;
    /* The partial checksum of loopback does not verify... */
    assert_int_equal(oasis_tcp_parse(linux_lo_syn, 40, lo, lo, 1, &h), OASIS_ECHECKSUM);
    /* ...but everything else parses. */
    assert_int_equal(oasis_tcp_parse(linux_lo_syn, 40, lo, lo, 0, &h), 0);
    assert_int_equal(h.mss, 65495);
    assert_int_equal(h.wscale, 10);
    assert_int_equal(h.window, 65495);
    assert_true(h.sack_permitted && h.has_ts && h.has_mss && h.has_wscale);
    assert_int_equal(h.ts_val, 0x7b29bbf1u);
    uint8_t out[60];
    assert_int_equal(oasis_tcp_emit(out, &h, 0, lo, lo), 40);
    assert_memory_equal(out, linux_lo_syn, 16); /* all but the checksum */
    assert_memory_equal(out + 18, linux_lo_syn + 18, 22);
    assert_int_equal(oasis_tcp_parse(out, 40, lo, lo, 1, &h), 0);
}

static void fill_hdr(oasis_tcp_hdr *h, unsigned mask, unsigned nsack)
{
    memset(h, 0, sizeof *h);
    h->src_port = 40000;
    h->dst_port = 443;
    h->seq = 0xfffffff0u;
    h->ack = 0x12345678u;
    h->flags = OASIS_TCP_ACK | OASIS_TCP_PSH;
    h->window = 0xabcd;
    h->urg = 7;
    h->has_mss = mask & 1;
    h->mss = 1460;
    h->has_wscale = (mask >> 1) & 1;
    h->wscale = 14;
    h->sack_permitted = (mask >> 2) & 1;
    h->has_ts = (mask >> 3) & 1;
    h->ts_val = 0xdeadbeefu;
    h->ts_ecr = 0x01020304u;
    h->sack_count = (uint8_t)nsack;
    for (unsigned i = 0; i < OASIS_TCP_MAX_SACK; i++) {
        h->sack[i].left = 1000u * (i + 1);
        h->sack[i].right = 1000u * (i + 1) + 500;
    }
}

/* Every option combination, 0..4 SACK blocks, with and without payload. */
static void test_roundtrip_all_options(void **state)
{
    (void)state;
    for (unsigned mask = 0; mask < 16; mask++) {
        for (unsigned nsack = 0; nsack <= OASIS_TCP_MAX_SACK; nsack++) {
            for (size_t plen = 0; plen < 4; plen++) {
                oasis_tcp_hdr h, p;
                uint8_t buf[OASIS_TCP_MAX_HLEN + 8];
                fill_hdr(&h, mask, nsack);
                size_t olen = oasis_tcp_options_len(&h);
                assert_true(olen % 4 == 0 && olen <= 40);
                size_t hl = 20 + olen;
                for (size_t i = 0; i < plen; i++)
                    buf[hl + i] = (uint8_t)(0xa5 + i);
                assert_int_equal(oasis_tcp_emit(buf, &h, plen, SRC, DST), hl);
                assert_true(ref_csum_ok(buf, hl + plen, SRC, DST));
                assert_int_equal(oasis_tcp_parse(buf, hl + plen, SRC, DST, 1, &p), 0);
                assert_int_equal(p.hdr_len, hl);
                assert_int_equal(p.src_port, 40000);
                assert_int_equal(p.dst_port, 443);
                assert_int_equal(p.seq, h.seq);
                assert_int_equal(p.ack, h.ack);
                assert_int_equal(p.flags, h.flags);
                assert_int_equal(p.window, h.window);
                assert_int_equal(p.urg, 7);
                assert_int_equal(p.has_mss, h.has_mss);
                assert_int_equal(p.has_wscale, h.has_wscale);
                assert_int_equal(p.sack_permitted, h.sack_permitted);
                assert_int_equal(p.has_ts, h.has_ts);
                if (h.has_mss)
                    assert_int_equal(p.mss, 1460);
                if (h.has_wscale)
                    assert_int_equal(p.wscale, 14);
                if (h.has_ts) {
                    assert_int_equal(p.ts_val, h.ts_val);
                    assert_int_equal(p.ts_ecr, h.ts_ecr);
                }
                assert_true(p.sack_count <= nsack);
                for (unsigned i = 0; i < p.sack_count; i++) {
                    assert_int_equal(p.sack[i].left, h.sack[i].left);
                    assert_int_equal(p.sack[i].right, h.sack[i].right);
                }
                assert_int_equal(p.payload_len, plen);
                assert_ptr_equal(p.payload, buf + hl);
            }
        }
    }
}

/* SACK blocks that don't fit in 40 bytes are dropped from the end. */
static void test_sack_blocks_fit(void **state)
{
    (void)state;
    oasis_tcp_hdr h, p;
    uint8_t buf[OASIS_TCP_MAX_HLEN];
    static const struct {
        unsigned mask, want;
    } cases[] = {
        {0, 4},   /* SACK alone: 4 + 32 = 36 */
        {8, 3},   /* TS: 12 + 4 + 24 = 40 */
        {2, 4},   /* WS: 4 + 4 + 32 = 40 */
        {15, 2},  /* all SYN options: 20 + 4 + 16 = 40 */
        {9, 2},   /* MSS + TS: 16 + 4 + 16 = 36 */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        fill_hdr(&h, cases[c].mask, 4);
        size_t hl = oasis_tcp_emit(buf, &h, 0, SRC, DST);
        assert_true(hl <= OASIS_TCP_MAX_HLEN);
        assert_int_equal(oasis_tcp_parse(buf, hl, SRC, DST, 1, &p), 0);
        assert_int_equal(p.sack_count, cases[c].want);
        assert_int_equal(p.sack[0].left, 1000);
    }
    /* A sack_count over 4 is treated as 4. */
    fill_hdr(&h, 0, 4);
    h.sack_count = 200;
    assert_int_equal(oasis_tcp_options_len(&h), 36);
}

static void test_emit_layouts(void **state)
{
    (void)state;
    oasis_tcp_hdr h;
    uint8_t buf[OASIS_TCP_MAX_HLEN];

    /* SACK-permitted without TS: NOP,NOP,SACK-perm. */
    fill_hdr(&h, 4 | 1, 0);
    assert_int_equal(oasis_tcp_emit(buf, &h, 0, SRC, DST), 28);
    static const uint8_t a[] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2};
    assert_memory_equal(buf + 20, a, sizeof a);
    assert_int_equal(buf[12], 7 << 4);

    /* Established with TS and 1 SACK block: NOP,NOP,TS; NOP,NOP,SACK. */
    fill_hdr(&h, 8, 1);
    assert_int_equal(oasis_tcp_emit(buf, &h, 0, SRC, DST), 20 + 12 + 12);
    static const uint8_t b[] = {1, 1, 8, 10, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4,
                                1, 1, 5, 10, 0, 0, 0x03, 0xe8, 0, 0, 0x05, 0xdc};
    assert_memory_equal(buf + 20, b, sizeof b);

    /* Established with TS alone: NOP,NOP,TS, the whole header as Linux
     * sends it. */
    fill_hdr(&h, 8, 0);
    assert_int_equal(oasis_tcp_emit(buf, &h, 0, SRC, DST), 32);
    uint8_t want[32] = {0x9c, 0x40, 0x01, 0xbb, 0, 0, 0, 0, 0, 0, 0, 0, 8 << 4, 0, 0, 0,
                        0, 0, 0, 7, 1, 1, 8, 10, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4};
    oasis_put32(want + 4, h.seq);
    oasis_put32(want + 8, h.ack);
    want[13] = h.flags;
    oasis_put16(want + 14, h.window);
    memcpy(want + 16, buf + 16, 2); /* the checksum: ref_csum_ok below */
    assert_memory_equal(buf, want, 32);
    assert_true(ref_csum_ok(buf, 32, SRC, DST));

    /* No options at all. */
    fill_hdr(&h, 0, 0);
    assert_int_equal(oasis_tcp_options_len(&h), 0);
    assert_int_equal(oasis_tcp_emit(buf, &h, 0, SRC, DST), 20);
    assert_int_equal(buf[12], 5 << 4);
    assert_int_equal(buf[13], OASIS_TCP_ACK | OASIS_TCP_PSH);

    /* NOP,WS alone. */
    fill_hdr(&h, 2, 0);
    assert_int_equal(oasis_tcp_emit(buf, &h, 0, SRC, DST), 24);
    static const uint8_t c[] = {1, 3, 3, 14};
    assert_memory_equal(buf + 20, c, sizeof c);
}

static void test_emit_with_sum(void **state)
{
    (void)state;
    oasis_tcp_hdr h;
    uint8_t a[80], b[80], payload[17];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 37 + 1);
    fill_hdr(&h, 15, 0);
    size_t hl = 20 + oasis_tcp_options_len(&h);
    memcpy(a + hl, payload, sizeof payload);
    oasis_tcp_emit(a, &h, sizeof payload, SRC, DST);
    /* Summed in two pieces (even first piece), payload not behind the header. */
    uint64_t sum = oasis_csum_add(0, payload, 10);
    sum = oasis_csum_add(sum, payload + 10, 7);
    assert_int_equal(oasis_tcp_emit_with_sum(b, &h, sizeof payload, sum, SRC, DST), hl);
    assert_memory_equal(a, b, hl);
    memcpy(b + hl, payload, sizeof payload);
    assert_true(ref_csum_ok(b, hl + sizeof payload, SRC, DST));
}

/* Every prefix of a segment shorter than its header is truncated. */
static void test_truncation_every_length(void **state)
{
    (void)state;
    oasis_tcp_hdr h;
    for (size_t len = 0; len < sizeof linux_syn; len++) {
        assert_int_equal(oasis_tcp_parse(linux_syn, len, syn_src, syn_dst, 1, &h), OASIS_ETRUNCATED);
        assert_int_equal(oasis_tcp_parse(linux_syn, len, syn_src, syn_dst, 0, &h), OASIS_ETRUNCATED);
        assert_int_equal(h.has_mss, 0); /* out is cleared on failure too */
    }
    assert_int_equal(oasis_tcp_parse(NULL, 0, 0, 0, 0, &h), OASIS_ETRUNCATED);

    /* With a payload: cutting into it breaks the checksum but parses
     * without verification, with a shorter payload. */
    oasis_tcp_hdr e;
    uint8_t buf[60];
    fill_hdr(&e, 8, 0);
    memset(buf + 32, 0x5a, 20);
    size_t hl = oasis_tcp_emit(buf, &e, 20, SRC, DST);
    assert_int_equal(hl, 32);
    for (size_t len = hl; len < hl + 20; len++) {
        assert_int_equal(oasis_tcp_parse(buf, len, SRC, DST, 1, &h), OASIS_ECHECKSUM);
        assert_int_equal(oasis_tcp_parse(buf, len, SRC, DST, 0, &h), 0);
        assert_int_equal(h.payload_len, len - hl);
    }
    assert_int_equal(oasis_tcp_parse(buf, hl + 20, SRC, DST, 1, &h), 0);
}

static void test_bad_data_offset(void **state)
{
    (void)state;
    oasis_tcp_hdr h;
    uint8_t buf[60] = {0};
    for (unsigned doff = 0; doff < 5; doff++) {
        buf[12] = (uint8_t)(doff << 4);
        assert_int_equal(oasis_tcp_parse(buf, sizeof buf, 0, 0, 0, &h), OASIS_EMALFORMED);
    }
    buf[12] = 15 << 4; /* 60-byte header in a 40-byte segment */
    assert_int_equal(oasis_tcp_parse(buf, 40, 0, 0, 0, &h), OASIS_ETRUNCATED);
    /* The reserved/NS bits next to the offset don't matter. */
    buf[12] = 5 << 4 | 0x0f;
    assert_int_equal(oasis_tcp_parse(buf, 20, 0, 0, 0, &h), 0);
    assert_int_equal(h.hdr_len, 20);
}

/* Builds a segment whose options are opts (padded with EOL to a multiple of
 * 4) and returns the parse result (checksum not verified). */
static int parse_opts(const uint8_t *opts, size_t n, oasis_tcp_hdr *h)
{
    uint8_t buf[OASIS_TCP_MAX_HLEN + 4] = {0};
    size_t olen = (n + 3) & ~(size_t)3;
    assert_true(olen <= 40);
    memcpy(buf + 20, opts, n);
    buf[12] = (uint8_t)(((20 + olen) / 4) << 4);
    buf[20 + olen] = 0x77; /* one payload byte: options must not run into it */
    return oasis_tcp_parse(buf, 20 + olen + 1, 0, 0, 0, h);
}

#define PARSE(h, ...)                                                                          \
    parse_opts((const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), (h))

static void test_malformed_options(void **state)
{
    (void)state;
    oasis_tcp_hdr h;
    /* Length byte missing: a kind in the last header byte. */
    assert_int_equal(PARSE(&h, 1, 1, 1, 2), OASIS_EMALFORMED);
    assert_int_equal(PARSE(&h, 1, 1, 1, 99), OASIS_EMALFORMED);
    /* Length 0 and 1. */
    assert_int_equal(PARSE(&h, 2, 0, 0, 0), OASIS_EMALFORMED);
    assert_int_equal(PARSE(&h, 99, 0, 0, 0), OASIS_EMALFORMED);
    assert_int_equal(PARSE(&h, 99, 1, 0, 0), OASIS_EMALFORMED);
    /* Past the header (into the payload). */
    assert_int_equal(PARSE(&h, 1, 1, 99, 3), OASIS_EMALFORMED);
    assert_int_equal(PARSE(&h, 8, 10, 0, 0, 0, 0, 0, 0), OASIS_EMALFORMED);
    assert_int_equal(PARSE(&h, 5, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), OASIS_EMALFORMED);
    /* Wrong length for a known option. */
    assert_int_equal(PARSE(&h, 2, 3, 5, 0), OASIS_EMALFORMED);
    assert_int_equal(PARSE(&h, 2, 5, 5, 0xb4, 0, 0, 0, 0), OASIS_EMALFORMED);
    assert_int_equal(PARSE(&h, 3, 2, 1, 1), OASIS_EMALFORMED);
    assert_int_equal(PARSE(&h, 3, 4, 7, 0), OASIS_EMALFORMED);
    assert_int_equal(PARSE(&h, 4, 3, 0, 0), OASIS_EMALFORMED);
    assert_int_equal(PARSE(&h, 4, 4, 0, 0), OASIS_EMALFORMED);
    assert_int_equal(PARSE(&h, 8, 8, 0, 0, 0, 0, 0, 0), OASIS_EMALFORMED);
    assert_int_equal(PARSE(&h, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), OASIS_EMALFORMED);
    assert_int_equal(PARSE(&h, 5, 2, 0, 0), OASIS_EMALFORMED);                   /* 0 blocks */
    assert_int_equal(PARSE(&h, 5, 9, 0, 0, 0, 0, 0, 0, 0, 0), OASIS_EMALFORMED); /* 7/8 */
    assert_int_equal(PARSE(&h, 5, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), OASIS_EMALFORMED);
    /* A valid option followed by a bad one still fails. */
    assert_int_equal(PARSE(&h, 2, 4, 5, 0xb4, 3, 1, 0, 0), OASIS_EMALFORMED);
    /* An option exactly filling the header is fine. */
    assert_int_equal(PARSE(&h, 1, 1, 2, 4, 0x02, 0x18, 0, 0), 0);
    assert_int_equal(PARSE(&h, 1, 99, 2, 0), 0); /* NOP, unknown kind of length 2 */
}

static void test_options_skip_eol_duplicates(void **state)
{
    (void)state;
    oasis_tcp_hdr h;
    /* Unknown options (experimental 254, MD5 19) are skipped by length. */
    assert_int_equal(PARSE(&h, 254, 6, 1, 2, 3, 4, 2, 4, 0x02, 0x18), 0);
    assert_true(h.has_mss);
    assert_int_equal(h.mss, 0x218);
    assert_int_equal(PARSE(&h, 19, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 9),
                     0);
    assert_true(h.has_wscale);
    assert_int_equal(h.wscale, 9);
    /* EOL ends the list: what follows is padding, even garbage. */
    assert_int_equal(PARSE(&h, 2, 4, 1, 0, 0, 2, 0, 0), 0);
    assert_int_equal(h.mss, 256);
    assert_int_equal(PARSE(&h, 0, 5, 1, 0), 0);
    assert_int_equal(h.sack_count, 0);
    /* Repeated option: the last one wins. */
    assert_int_equal(PARSE(&h, 2, 4, 1, 0, 2, 4, 2, 0), 0);
    assert_int_equal(h.mss, 512);
    /* SACK with 1..4 blocks (4 blocks need the whole 40 minus 6). */
    assert_int_equal(PARSE(&h, 1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2), 0);
    assert_int_equal(h.sack_count, 1);
    assert_int_equal(h.sack[0].left, 1);
    assert_int_equal(h.sack[0].right, 2);
    uint8_t four[36] = {1, 1, 5, 34};
    for (int i = 0; i < 8; i++)
        four[4 + 4 * i + 3] = (uint8_t)(i + 1);
    assert_int_equal(parse_opts(four, sizeof four, &h), 0);
    assert_int_equal(h.sack_count, 4);
    assert_int_equal(h.sack[3].left, 7);
    assert_int_equal(h.sack[3].right, 8);
    /* Values are reported, not judged. */
    assert_int_equal(PARSE(&h, 2, 4, 0, 0, 1, 3, 3, 200), 0);
    assert_int_equal(h.mss, 0);
    assert_int_equal(h.wscale, 200);
}

static void test_checksum(void **state)
{
    (void)state;
    oasis_tcp_hdr h;
    uint8_t seg[40];
    /* Any single-bit error anywhere is caught. */
    for (size_t i = 0; i < sizeof seg; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(seg, linux_syn, sizeof seg);
            seg[i] ^= (uint8_t)(1u << bit);
            int err = oasis_tcp_parse(seg, sizeof seg, syn_src, syn_dst, 1, &h);
            assert_int_not_equal(err, 0);
        }
    }
    /* The pseudo-header counts: wrong addresses fail. */
    assert_int_equal(oasis_tcp_parse(linux_syn, 40, syn_src + 1, syn_dst, 1, &h), OASIS_ECHECKSUM);
    assert_int_equal(oasis_tcp_parse(linux_syn, 40, syn_src, syn_dst ^ 0x100, 1, &h),
                     OASIS_ECHECKSUM);
    /* Swapping source and destination does not change the sum. */
    assert_int_equal(oasis_tcp_parse(linux_syn, 40, syn_dst, syn_src, 1, &h), 0);

    /* Odd-length payloads. */
    uint8_t buf[100];
    oasis_tcp_hdr e;
    fill_hdr(&e, 0, 0);
    for (size_t plen = 0; plen < 60; plen++) {
        for (size_t i = 0; i < plen; i++)
            buf[20 + i] = (uint8_t)(0xff - i);
        oasis_tcp_emit(buf, &e, plen, SRC, DST);
        assert_true(ref_csum_ok(buf, 20 + plen, SRC, DST));
        assert_int_equal(oasis_tcp_parse(buf, 20 + plen, SRC, DST, 1, &h), 0);
    }
    /* A segment too long for IPv4 is refused when verifying. */
    const size_t big_len = 70000;
    uint8_t *big = test_calloc(1, big_len);
    memcpy(big, linux_syn, 40);
    assert_int_equal(oasis_tcp_parse(big, big_len, syn_src, syn_dst, 1, &h), OASIS_EMALFORMED);
    assert_int_equal(oasis_tcp_parse(big, big_len, syn_src, syn_dst, 0, &h), 0);
    assert_int_equal(h.payload_len, big_len - 40);
    test_free(big);
}

/* The usual header (timestamps only) with 0 to 7 payload bytes is summed
 * inline (tcp_wire.c csum_ok), longer payloads and other layouts by
 * oasis_csum_add: both accept what the reference accepts and catch every
 * single-bit error, at every payload length on both sides of the switch,
 * with the payload's odd byte and carries out of every word. */
static void test_checksum_small_timestamped(void **state)
{
    (void)state;
    uint8_t buf[32 + 16], seg[32 + 16];
    oasis_tcp_hdr e, h;
    for (unsigned mask = 0; mask <= 8; mask += 8) { /* no options; timestamps */
        fill_hdr(&e, mask, 0);
        size_t hl = mask ? 32 : 20;
        for (size_t plen = 0; plen <= 12; plen++) {
            for (int fill = 0; fill < 2; fill++) {
                for (size_t i = 0; i < plen; i++)
                    buf[hl + i] = fill ? 0xff : (uint8_t)(0x81 + 37 * i);
                assert_int_equal(oasis_tcp_emit(buf, &e, plen, SRC, DST), hl);
                assert_true(ref_csum_ok(buf, hl + plen, SRC, DST));
                assert_int_equal(oasis_tcp_parse(buf, hl + plen, SRC, DST, 1, &h), 0);
                assert_int_equal(h.payload_len, plen);
                for (size_t i = 0; i < hl + plen; i++) {
                    for (int bit = 0; bit < 8; bit++) {
                        memcpy(seg, buf, hl + plen);
                        seg[i] ^= (uint8_t)(1u << bit);
                        assert_int_not_equal(oasis_tcp_parse(seg, hl + plen, SRC, DST, 1, &h), 0);
                    }
                }
                /* The pseudo-header counts as well. */
                assert_int_equal(oasis_tcp_parse(buf, hl + plen, SRC + 1, DST, 1, &h),
                                 OASIS_ECHECKSUM);
            }
        }
    }
}

/* Garbage never crashes or reads out of bounds (ASan checks the bounds). */
static void test_garbage(void **state)
{
    (void)state;
    uint32_t x = 12345;
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = 20 + (iter % 45);
        uint8_t *buf = test_malloc(len);
        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (uint8_t)(x >> 16);
        }
        /* bias towards a plausible header with options */
        buf[12] = (uint8_t)((5 + (iter % 11)) << 4);
        if ((iter & 1) && len > 20)
            buf[20] = (uint8_t)(iter % 10);
        oasis_tcp_hdr h;
        int err = oasis_tcp_parse(buf, len, 1, 2, 0, &h);
        assert_true(err == 0 || err == OASIS_ETRUNCATED || err == OASIS_EMALFORMED);
        if (err == 0) {
            assert_true(h.hdr_len >= 20 && h.hdr_len <= len);
            assert_true(h.sack_count <= OASIS_TCP_MAX_SACK);
            assert_int_equal(h.payload_len, len - h.hdr_len);
        }
        test_free(buf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_linux_syn),
        cmocka_unit_test(test_emit_matches_linux_syn),
        cmocka_unit_test(test_parse_loopback_syn),
        cmocka_unit_test(test_roundtrip_all_options),
        cmocka_unit_test(test_sack_blocks_fit),
        cmocka_unit_test(test_emit_layouts),
        cmocka_unit_test(test_emit_with_sum),
        cmocka_unit_test(test_truncation_every_length),
        cmocka_unit_test(test_bad_data_offset),
        cmocka_unit_test(test_malformed_options),
        cmocka_unit_test(test_options_skip_eol_duplicates),
        cmocka_unit_test(test_checksum),
        cmocka_unit_test(test_checksum_small_timestamped),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
