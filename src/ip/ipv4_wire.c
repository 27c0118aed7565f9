#include "ip/ipv4_wire.h"
#include "core/bytes.h"
#include "core/checksum.h"
#include "oasis/error.h"

#include <string.h>

#define IP_FLAG_RESERVED 0x8000
#define IP_FLAG_DF 0x4000
#define IP_FLAG_MF 0x2000
#define IP_FRAG_MASK 0x1fff

#define IPOPT_EOL 0
#define IPOPT_NOP 1
#define IPOPT_LSRR 131
#define IPOPT_SSRR 137

/* Walks the option list only to prove it is well formed, so a later reader
 * of out->options may trust each length byte. Returns the offset in opt of
 * the first option that is not (its type octet), or len when all are. */
static size_t bad_option(const uint8_t *opt, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (opt[i] == IPOPT_EOL)
            break;
        if (opt[i] == IPOPT_NOP) {
            i++;
            continue;
        }
        if (len - i < 2)
            return i; /* no room for the length byte */
        size_t olen = opt[i + 1];
        if (olen < 2 || olen > len - i)
            return i;
        i += olen;
    }
    return len;
}

size_t oasis_ipv4_options_bad(const uint8_t *opt, size_t len) { return bad_option(opt, len); }

int oasis_ipv4_options_source_route(const uint8_t *opt, size_t len)
{
    size_t i = 0;
    while (i < len && opt[i] != IPOPT_EOL) {
        if (opt[i] == IPOPT_NOP) {
            i++;
            continue;
        }
        if (opt[i] == IPOPT_LSRR || opt[i] == IPOPT_SSRR)
            return 1;
        i += opt[i + 1];
    }
    return 0;
}

/* Checks follow Linux's ip_rcv order: header shape, checksum, then the total
 * length (a corrupted length field shows up as a checksum error). With
 * fault NULL a malformed option fails the header; otherwise the header
 * passes and *fault is the offset of the first malformed option's type
 * octet from the header's start (0: all are well formed). */
static int parse(const uint8_t *buf, size_t len, oasis_ipv4_hdr *out, size_t *fault)
{
    if (len < OASIS_IPV4_HLEN)
        return OASIS_ETRUNCATED;
    size_t hlen = (size_t)(buf[0] & 0x0f) * 4;
    if ((buf[0] >> 4) != 4 || hlen < OASIS_IPV4_HLEN)
        return OASIS_EMALFORMED;
    if (hlen > len)
        return OASIS_ETRUNCATED;
    if (oasis_csum_fold(oasis_csum_add32(0, buf, hlen / 4)) != 0)
        return OASIS_ECHECKSUM;
    uint16_t total = oasis_get16(buf + 2);
    if (total < hlen)
        return OASIS_EMALFORMED;
    if (total > len)
        return OASIS_ETRUNCATED;
    uint16_t frag = oasis_get16(buf + 6);
    if (frag & IP_FLAG_RESERVED)
        return OASIS_EMALFORMED;
    size_t bad = bad_option(buf + OASIS_IPV4_HLEN, hlen - OASIS_IPV4_HLEN);
    if (bad != hlen - OASIS_IPV4_HLEN) {
        if (!fault)
            return OASIS_EMALFORMED;
        *fault = OASIS_IPV4_HLEN + bad;
    }

    out->hdr_len = (uint8_t)hlen;
    out->tos = buf[1];
    out->total_len = total;
    out->id = oasis_get16(buf + 4);
    out->df = (frag & IP_FLAG_DF) != 0;
    out->mf = (frag & IP_FLAG_MF) != 0;
    out->frag_off = (uint16_t)((frag & IP_FRAG_MASK) * 8);
    out->ttl = buf[8];
    out->proto = buf[9];
    out->src = oasis_get32(buf + 12);
    out->dst = oasis_get32(buf + 16);
    out->options = buf + OASIS_IPV4_HLEN;
    out->options_len = hlen - OASIS_IPV4_HLEN;
    out->payload = buf + hlen;
    out->payload_len = total - hlen;
    return OASIS_OK;
}

int oasis_ipv4_parse(const uint8_t *buf, size_t len, oasis_ipv4_hdr *out)
{
    return parse(buf, len, out, NULL);
}

size_t oasis_ipv4_option_fault(const uint8_t *buf, size_t len, oasis_ipv4_hdr *out)
{
    size_t at = 0;
    return parse(buf, len, out, &at) == OASIS_OK ? at : 0;
}

#define IPOPT_RR 7
#define IPOPT_TS 68

/* One Record Route option at o (olen bytes, well formed): our address at
 * the pointer when a whole one fits (RFC 791: a full option is passed on
 * as it is). 0 when its pointer is below the first slot. */
static int record_route(uint8_t *o, size_t olen, uint32_t addr)
{
    if (olen < 3 || o[2] < 4)
        return 0;
    size_t ptr = o[2];
    if (ptr + 3 <= olen) {
        oasis_put32(o + ptr - 1, addr);
        o[2] = (uint8_t)(ptr + 4);
    }
    return 1;
}

/* One Internet Timestamp option (RFC 791): flag 0 a timestamp, flag 1 our
 * address and a timestamp, flag 3 a timestamp where the next prespecified
 * address is ours; no room: the overflow count goes up (it stops at 15).
 * 0 when its pointer is below the first slot or its flag unknown. */
static int timestamp(uint8_t *o, size_t olen, uint32_t addr, uint32_t ts)
{
    if (olen < 4 || o[2] < 5)
        return 0;
    size_t ptr = o[2];
    uint8_t flag = o[3] & 0x0f, oflw = o[3] >> 4;
    size_t need = flag == 0 ? 4 : 8;
    if (flag != 0 && flag != 1 && flag != 3)
        return 0;
    if (ptr + need - 1 > olen) {
        if (oflw < 15)
            o[3] = (uint8_t)((oflw + 1) << 4 | flag);
        return 1;
    }
    if (flag == 3 && oasis_get32(o + ptr - 1) != addr)
        return 1;
    if (flag == 1)
        oasis_put32(o + ptr - 1, addr);
    oasis_put32(o + ptr - 1 + need - 4, ts);
    o[2] = (uint8_t)(ptr + need);
    return 1;
}

size_t oasis_ipv4_echo_options(const uint8_t *in, size_t inlen, uint8_t *out, uint32_t addr,
                               uint32_t ts)
{
    size_t i = 0, n = 0;
    int rr = 0, tsd = 0;
    while (i < inlen && in[i] != IPOPT_EOL) {
        if (in[i] == IPOPT_NOP) {
            i++;
            continue;
        }
        size_t olen = in[i + 1]; /* well formed: the parser said so */
        int *seen = in[i] == IPOPT_RR ? &rr : in[i] == IPOPT_TS ? &tsd : NULL;
        if (seen && !*seen) { /* each appears at most once */
            memcpy(out + n, in + i, olen);
            if (in[i] == IPOPT_RR ? record_route(out + n, olen, addr)
                                  : timestamp(out + n, olen, addr, ts)) {
                *seen = 1;
                n += olen;
            }
        }
        i += olen;
    }
    while (n % 4)
        out[n++] = IPOPT_EOL;
    return n;
}

/* The header's fields with optlen bytes of options after them; the
 * checksum covers both. */
static void emit(uint8_t *buf, const oasis_ipv4_hdr *h, size_t optlen)
{
    uint16_t frag = (uint16_t)((h->frag_off / 8) & IP_FRAG_MASK);
    if (h->df)
        frag |= IP_FLAG_DF;
    if (h->mf)
        frag |= IP_FLAG_MF;
    size_t hlen = OASIS_IPV4_HLEN + optlen;
    buf[0] = (uint8_t)(0x40 | hlen / 4);
    buf[1] = h->tos;
    oasis_put16(buf + 2, h->total_len);
    oasis_put16(buf + 4, h->id);
    oasis_put16(buf + 6, frag);
    buf[8] = h->ttl;
    buf[9] = h->proto;
    buf[10] = buf[11] = 0;
    oasis_put32(buf + 12, h->src);
    oasis_put32(buf + 16, h->dst);
    uint16_t c = oasis_csum_fold(oasis_csum_add32(0, buf, hlen / 4));
    memcpy(buf + 10, &c, 2);
}

void oasis_ipv4_emit(uint8_t *buf, const oasis_ipv4_hdr *h) { emit(buf, h, 0); }

void oasis_ipv4_emit_opts(uint8_t *buf, const oasis_ipv4_hdr *h, const uint8_t *opts,
                          size_t optlen)
{
    memcpy(buf + OASIS_IPV4_HLEN, opts, optlen);
    emit(buf, h, optlen);
}
