/* TCP header and options: parse and emit. Protocol logic lives elsewhere;
 * this file only knows the bytes. */
#include "tcp/tcp_wire.h"
#include "core/compiler.h"

#include <string.h>

#include "core/bytes.h"
#include "core/checksum.h"
#include "oasis/error.h"

#define TCP_PROTO 6
#define TCP_MAX_OPTS (OASIS_TCP_MAX_HLEN - OASIS_TCP_HLEN)

/* Exact option lengths (kind, length byte included). */
#define OLEN_MSS 4
#define OLEN_WS 3
#define OLEN_SACK_PERM 2
#define OLEN_TS 10
#define OLEN_SACK_BLOCK 8

/* The options of every segment of a flow with timestamps, as Linux and we
 * lay them out (RFC 7323 appendix A): NOP, NOP, TS, and nothing else. */
#define TS_ALIGNED 0x0101080au

/* Stores one known option; its length was checked to be within the header
 * but not yet against the kind. */
static int parse_option(const uint8_t *o, uint8_t olen, oasis_tcp_hdr *h)
{
    switch (o[0]) {
    case OASIS_TCPOPT_MSS:
        if (olen != OLEN_MSS)
            return OASIS_EMALFORMED;
        h->has_mss = 1;
        h->mss = oasis_get16(o + 2);
        return 0;
    case OASIS_TCPOPT_WSCALE:
        if (olen != OLEN_WS)
            return OASIS_EMALFORMED;
        h->has_wscale = 1;
        h->wscale = o[2];
        return 0;
    case OASIS_TCPOPT_SACK_PERM:
        if (olen != OLEN_SACK_PERM)
            return OASIS_EMALFORMED;
        h->sack_permitted = 1;
        return 0;
    case OASIS_TCPOPT_TS:
        if (olen != OLEN_TS)
            return OASIS_EMALFORMED;
        h->has_ts = 1;
        h->ts_val = oasis_get32(o + 2);
        h->ts_ecr = oasis_get32(o + 6);
        return 0;
    case OASIS_TCPOPT_SACK: {
        /* 40 option bytes hold at most 4 blocks, so n <= 4 follows from the
         * header bound; n == 0 is malformed. */
        if (olen < 2 + OLEN_SACK_BLOCK || (olen - 2) % OLEN_SACK_BLOCK != 0)
            return OASIS_EMALFORMED;
        uint8_t n = (uint8_t)((olen - 2) / OLEN_SACK_BLOCK);
        if (n > OASIS_TCP_MAX_SACK)
            return OASIS_EMALFORMED;
        for (uint8_t i = 0; i < n; i++) {
            h->sack[i].left = oasis_get32(o + 2 + 8 * i);
            h->sack[i].right = oasis_get32(o + 6 + 8 * i);
        }
        h->sack_count = n;
        return 0;
    }
    default:
        return 0; /* unknown: skipped by its length */
    }
}

/* Walks the option bytes [20, hlen). A later duplicate overrides an earlier
 * one, like Linux. Out of line: an established flow's segments take the
 * direct timestamp read. */
static OASIS_NOINLINE int parse_options(const uint8_t *buf, size_t hlen, oasis_tcp_hdr *h)
{
    size_t i = OASIS_TCP_HLEN;
    while (i < hlen) {
        uint8_t kind = buf[i];
        if (kind == OASIS_TCPOPT_EOL)
            break; /* the rest is padding */
        if (kind == OASIS_TCPOPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= hlen)
            return OASIS_EMALFORMED; /* length byte missing */
        uint8_t olen = buf[i + 1];
        if (olen < 2 || olen > hlen - i)
            return OASIS_EMALFORMED;
        int err = parse_option(buf + i, olen, h);
        if (err)
            return err;
        i += olen;
    }
    return 0;
}

/* A segment with the usual header (timestamps only, or no options) and a
 * payload of 0 to 7 bytes (an ACK, a small request or response) is
 * summed here, without the call: the header's words unrolled, the few
 * bytes after it in their lanes (hlen is a multiple of 4). hlen <= len. */
static OASIS_ALWAYS_INLINE int csum_small(size_t len, size_t hlen)
{
    return len < OASIS_TCP_HLEN + 12 + 8 && hlen == OASIS_TCP_HLEN + 12;
}

static OASIS_ALWAYS_INLINE int csum_ok(const uint8_t *buf, size_t len, size_t hlen, uint64_t pseudo)
{
    uint64_t sum;
    if (csum_small(len, hlen))
        sum = oasis_csum_add_small(oasis_csum_add32(pseudo, buf, 8), buf + hlen, len - hlen);
    else
        sum = oasis_csum_add(pseudo, buf, len);
    return oasis_csum_fold(sum) == 0;
}

int oasis_tcp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst, int verify_csum,
                    oasis_tcp_hdr *out)
{
    uint64_t ps = len > 0xffff ? 0 : oasis_csum_pseudo(src, dst, TCP_PROTO, (uint16_t)len);
    return oasis_tcp_parse_sum(buf, len, ps, verify_csum, out);
}

/* Zeroes h in two halves: GCC makes one memset of the whole header a
 * `rep stos` (slow to start for 96 bytes), each half a few vector stores. */
static void hdr_zero(oasis_tcp_hdr *h)
{
    memset(h, 0, sizeof *h / 2);
    memset((uint8_t *)h + sizeof *h / 2, 0, sizeof *h - sizeof *h / 2);
}

OASIS_ALWAYS_INLINE int oasis_tcp_parse_sum(const uint8_t *buf, size_t len, uint64_t pseudo, int verify_csum,
                        oasis_tcp_hdr *out)
{
    hdr_zero(out);
    if (!buf || len < OASIS_TCP_HLEN)
        return OASIS_ETRUNCATED;
    size_t hlen = (size_t)(buf[12] >> 4) * 4;
    if (hlen < OASIS_TCP_HLEN)
        return OASIS_EMALFORMED;
    if (hlen > len)
        return OASIS_ETRUNCATED;
    if (verify_csum) {
        /* The pseudo-header length field is 16 bits: a longer segment
         * cannot have come out of one IPv4 datagram. */
        if (len > 0xffff)
            return OASIS_EMALFORMED;
        /* (the small case first: it is never deferred, and the most common) */
        if (!csum_small(len, hlen) && verify_csum == OASIS_TCP_SUM_DEFER &&
            len - hlen >= OASIS_TCP_SUM_DEFER_MIN) {
            out->sum_pending = 1; /* the caller's (tcp_input.c) */
            out->sum_pseudo = (uint16_t)~oasis_csum_fold(pseudo);
        } else if (!csum_ok(buf, len, hlen, pseudo)) {
            return OASIS_ECHECKSUM;
        }
    }

    out->src_port = oasis_get16(buf);
    out->dst_port = oasis_get16(buf + 2);
    out->seq = oasis_get32(buf + 4);
    out->ack = oasis_get32(buf + 8);
    out->hdr_len = (uint8_t)hlen;
    out->flags = buf[13];
    out->window = oasis_get16(buf + 14);
    out->urg = oasis_get16(buf + 18);
    if (hlen == OASIS_TCP_HLEN + 12 && oasis_get32(buf + OASIS_TCP_HLEN) == TS_ALIGNED) {
        out->has_ts = 1; /* what parse_options finds in them, read directly */
        out->ts_val = oasis_get32(buf + OASIS_TCP_HLEN + 4);
        out->ts_ecr = oasis_get32(buf + OASIS_TCP_HLEN + 8);
    } else {
        /* The walk fills a copy: given out itself, the header (with LTO
         * a local of the IPv4 input, tcp.c) has its address taken on the
         * common path too, and GCC keeps more of it in memory there (9
         * instructions per 1-byte round trip). */
        oasis_tcp_hdr t = *out;
        int err = parse_options(buf, hlen, &t);
        *out = t;
        if (err) /* a bad checksum is reported first, deferred or not */
            return out->sum_pending && !csum_ok(buf, len, hlen, pseudo) ? OASIS_ECHECKSUM : err;
    }
    out->payload = buf + hlen;
    out->payload_len = len - hlen;
    return 0;
}

/* ---- emit ---------------------------------------------------------------- */

/* Bytes of the fixed part of the layout (everything but SACK blocks). */
static size_t fixed_opts_len(const oasis_tcp_hdr *h)
{
    size_t n = 0;
    if (h->has_mss)
        n += 4;
    if (h->has_ts)
        n += 12; /* NOP,NOP,TS or SACK-perm,TS */
    else if (h->sack_permitted)
        n += 4; /* NOP,NOP,SACK-perm */
    if (h->has_wscale)
        n += 4; /* NOP,WS */
    return n;
}

/* SACK blocks that fit after the fixed options (NOP,NOP,kind,len + 8 each). */
static unsigned sack_blocks_fitting(const oasis_tcp_hdr *h, size_t fixed)
{
    unsigned n = h->sack_count > OASIS_TCP_MAX_SACK ? OASIS_TCP_MAX_SACK : h->sack_count;
    if (n == 0 || fixed + 4 + OLEN_SACK_BLOCK > TCP_MAX_OPTS)
        return 0;
    unsigned room = (unsigned)((TCP_MAX_OPTS - fixed - 4) / OLEN_SACK_BLOCK);
    return n < room ? n : room;
}

size_t oasis_tcp_options_len(const oasis_tcp_hdr *h)
{
    size_t fixed = fixed_opts_len(h);
    unsigned n = sack_blocks_fitting(h, fixed);
    return fixed + (n ? 4 + (size_t)n * OLEN_SACK_BLOCK : 0);
}

static uint8_t *put4(uint8_t *o, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    o[0] = a;
    o[1] = b;
    o[2] = c;
    o[3] = d;
    return o + 4;
}

/* Linux's layout (tcp_options_write): every option 4-byte aligned, NOPs in
 * front, SACK-permitted folded into the TS word on a SYN. */
static size_t write_options(uint8_t *p, const oasis_tcp_hdr *h)
{
    uint8_t *o = p;
    if (h->has_mss)
        o = put4(o, OASIS_TCPOPT_MSS, OLEN_MSS, (uint8_t)(h->mss >> 8), (uint8_t)h->mss);
    if (h->has_ts) {
        if (h->sack_permitted)
            o = put4(o, OASIS_TCPOPT_SACK_PERM, OLEN_SACK_PERM, OASIS_TCPOPT_TS, OLEN_TS);
        else
            o = put4(o, OASIS_TCPOPT_NOP, OASIS_TCPOPT_NOP, OASIS_TCPOPT_TS, OLEN_TS);
        oasis_put32(o, h->ts_val);
        oasis_put32(o + 4, h->ts_ecr);
        o += 8;
    } else if (h->sack_permitted) {
        o = put4(o, OASIS_TCPOPT_NOP, OASIS_TCPOPT_NOP, OASIS_TCPOPT_SACK_PERM, OLEN_SACK_PERM);
    }
    if (h->has_wscale)
        o = put4(o, OASIS_TCPOPT_NOP, OASIS_TCPOPT_WSCALE, OLEN_WS, h->wscale);
    unsigned n = sack_blocks_fitting(h, (size_t)(o - p));
    if (n) {
        o = put4(o, OASIS_TCPOPT_NOP, OASIS_TCPOPT_NOP, OASIS_TCPOPT_SACK,
                 (uint8_t)(2 + n * OLEN_SACK_BLOCK));
        for (unsigned i = 0; i < n; i++, o += 8) {
            oasis_put32(o, h->sack[i].left);
            oasis_put32(o + 4, h->sack[i].right);
        }
    }
    return (size_t)(o - p);
}

size_t oasis_tcp_emit_with_sum(uint8_t *buf, const oasis_tcp_hdr *h, size_t payload_len,
                               uint64_t payload_sum, uint32_t src, uint32_t dst)
{
    size_t hlen = OASIS_TCP_HLEN + oasis_tcp_options_len(h);
    return oasis_tcp_emit_ps(buf, h, payload_sum,
                             oasis_csum_pseudo(src, dst, TCP_PROTO, (uint16_t)(hlen + payload_len)));
}

/* The fixed 20 bytes, checksum 0. */
static void put_fixed(uint8_t *buf, const oasis_tcp_hdr *h, size_t hlen)
{
    oasis_put16(buf, h->src_port);
    oasis_put16(buf + 2, h->dst_port);
    oasis_put32(buf + 4, h->seq);
    oasis_put32(buf + 8, h->ack);
    buf[12] = (uint8_t)((hlen / 4) << 4);
    buf[13] = h->flags;
    oasis_put16(buf + 14, h->window);
    memset(buf + 16, 0, 2);
    oasis_put16(buf + 18, h->urg);
}

OASIS_HOT size_t oasis_tcp_emit_ps(uint8_t *buf, const oasis_tcp_hdr *h, uint64_t payload_sum,
                         uint64_t pseudo)
{
    uint64_t sum;
    size_t hlen;
    if (!(h->has_mss | h->has_wscale | h->sack_permitted | h->sack_count)) {
        /* An established flow's segment: the timestamps alone (NOP, NOP,
         * TS, as write_options lays them out) or nothing; the word count
         * known, so the sum unrolls. */
        hlen = h->has_ts ? OASIS_TCP_HLEN + 12 : OASIS_TCP_HLEN;
        put_fixed(buf, h, hlen);
        if (h->has_ts) {
            put4(buf + 20, OASIS_TCPOPT_NOP, OASIS_TCPOPT_NOP, OASIS_TCPOPT_TS, OLEN_TS);
            oasis_put32(buf + 24, h->ts_val);
            oasis_put32(buf + 28, h->ts_ecr);
            sum = oasis_csum_add32(pseudo, buf, 8);
        } else {
            sum = oasis_csum_add32(pseudo, buf, 5);
        }
    } else {
        hlen = OASIS_TCP_HLEN + write_options(buf + OASIS_TCP_HLEN, h);
        put_fixed(buf, h, hlen);
        sum = oasis_csum_add32(pseudo, buf, hlen / 4); /* a multiple of 4 */
    }
    uint16_t c = oasis_csum_fold(sum + payload_sum);
    memcpy(buf + 16, &c, 2);
    return hlen;
}

size_t oasis_tcp_emit(uint8_t *buf, const oasis_tcp_hdr *h, size_t payload_len, uint32_t src,
                      uint32_t dst)
{
    size_t hlen = OASIS_TCP_HLEN + oasis_tcp_options_len(h);
    uint64_t psum = oasis_csum_add(0, buf + hlen, payload_len);
    return oasis_tcp_emit_with_sum(buf, h, payload_len, psum, src, dst);
}
