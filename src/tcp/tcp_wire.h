/* TCP header and options wire format (RFC 9293, RFC 7323, RFC 2018). */
#ifndef OASIS_TCP_WIRE_H
#define OASIS_TCP_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/bytes.h"
#include "core/checksum.h"

#define OASIS_TCP_HLEN 20
#define OASIS_TCP_MAX_HLEN 60

#define OASIS_TCP_FIN 0x01
#define OASIS_TCP_SYN 0x02
#define OASIS_TCP_RST 0x04
#define OASIS_TCP_PSH 0x08
#define OASIS_TCP_ACK 0x10
#define OASIS_TCP_URG 0x20
#define OASIS_TCP_ECE 0x40
#define OASIS_TCP_CWR 0x80

/* The ECN field of the IP header (RFC 3168 5) */
#define OASIS_ECN_NOT_ECT 0
#define OASIS_ECN_ECT1 1
#define OASIS_ECN_ECT0 2
#define OASIS_ECN_CE 3

#define OASIS_TCPOPT_EOL 0
#define OASIS_TCPOPT_NOP 1
#define OASIS_TCPOPT_MSS 2
#define OASIS_TCPOPT_WSCALE 3
#define OASIS_TCPOPT_SACK_PERM 4
#define OASIS_TCPOPT_SACK 5
#define OASIS_TCPOPT_TS 8

#define OASIS_TCP_MAX_SACK 4

typedef struct oasis_sack_block {
    uint32_t left, right; /* [left, right) */
} oasis_sack_block;

typedef struct oasis_tcp_hdr {
    uint16_t src_port, dst_port;
    uint32_t seq, ack;
    uint8_t hdr_len;      /* bytes; set by parse, computed by emit */
    uint8_t flags;
    uint16_t window;      /* raw field, unscaled */
    uint16_t urg;
    /* options */
    uint8_t has_mss, has_wscale, sack_permitted, has_ts;
    uint16_t mss;
    uint8_t wscale;       /* as sent (the receiver clamps to 14) */
    uint32_t ts_val, ts_ecr;
    uint8_t sack_count;
    oasis_sack_block sack[OASIS_TCP_MAX_SACK];
    const uint8_t *payload;
    size_t payload_len;
    uint8_t ip_ecn;       /* input: the ECN field of the IP header that carried it
                           * (RFC 3168: 0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE); not parsed */
    uint8_t sum_pending;  /* parsed with OASIS_TCP_SUM_DEFER and the checksum
                           * not verified yet: oasis_tcp_sum_ok or
                           * oasis_tcp_sum_copy_ok must pass before any use */
    uint16_t sum_pseudo;  /* then: the pseudo-header's sum, folded (in what
                           * the header had as padding: no bigger to zero) */
    uint32_t pieces;      /* input: the segments it stands for (a GRO/GSO frame's
                           * pieces, else 1), found once (tcp.c); not parsed */
} oasis_tcp_hdr;

/* SEG.LEN (RFC 9293 3.4): the payload plus one for a SYN and one for a FIN. */
static inline uint32_t oasis_tcp_seg_len(const oasis_tcp_hdr *h)
{
    return (uint32_t)h->payload_len + ((h->flags & OASIS_TCP_SYN) ? 1u : 0u) +
           ((h->flags & OASIS_TCP_FIN) ? 1u : 0u);
}

/* What a parse does with the checksum (verify_csum below). */
#define OASIS_TCP_SUM_NONE 0  /* nothing: the link vouched for it */
#define OASIS_TCP_SUM_ALL 1   /* verified */
/* Verified, except that of a segment with OASIS_TCP_SUM_DEFER_MIN payload
 * bytes or more, which is left to the caller (sum_pending set): it may
 * then sum while it copies the payload (oasis_tcp_sum_copy_ok). */
#define OASIS_TCP_SUM_DEFER 2
#define OASIS_TCP_SUM_DEFER_MIN 64u

/* Parses a segment. Validates data offset (>= 5, within len), option
 * structure (length byte present, >= 2, within the header; known options
 * with their exact lengths: MSS 4, WS 3, SACK-perm 2, TS 10, SACK 2+8n with
 * 1 <= n <= 4) and, when verify_csum, the checksum with the pseudo-header
 * (addresses host order). Unknown options are skipped by their length; EOL
 * ends the list; a repeated option overrides the earlier one.
 * *out is always zeroed first; on success payload points into buf (borrowed).
 * Options are reported whatever the flags (the caller decides, e.g. MSS/WS
 * only count on a SYN). Values are not judged (MSS 0, wscale > 14 pass).
 * Checks run in this order: len < 20 -> OASIS_ETRUNCATED, data offset < 5 ->
 * OASIS_EMALFORMED, data offset past len -> OASIS_ETRUNCATED, checksum ->
 * OASIS_ECHECKSUM (a segment over 65535 bytes -> OASIS_EMALFORMED), options
 * -> OASIS_EMALFORMED. Returns 0 or one of those. The caller counts.
 * verify_csum: OASIS_TCP_SUM_NONE, _ALL or _DEFER (see there; with _DEFER
 * a bad checksum of a long segment is not reported here). */
int oasis_tcp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst, int verify_csum,
                    oasis_tcp_hdr *out);

/* The same with the pseudo-header's running sum given (either family's:
 * oasis_csum_pseudo for IPv4, oasis_ipv6_pseudo_sum for IPv6, over len). */
int oasis_tcp_parse_sum(const uint8_t *buf, size_t len, uint64_t pseudo, int verify_csum,
                        oasis_tcp_hdr *out);

/* A pending checksum (h parsed with OASIS_TCP_SUM_DEFER, sum_pending
 * set; the segment still in the buffer parsed, the payload right after
 * the header): 1 when the segment sums to 0, as the parse would have
 * found. */
static inline int oasis_tcp_sum_ok(const oasis_tcp_hdr *h)
{
    const uint8_t *seg = h->payload - h->hdr_len;
    return oasis_csum_fold(oasis_csum_add(h->sum_pseudo, seg, h->hdr_len + h->payload_len)) == 0;
}

/* The same while the payload is copied to dst (payload_len bytes, not
 * overlapping the segment): one pass over it instead of a sum and a copy.
 * dst holds the copy whatever the outcome. */
static inline int oasis_tcp_sum_copy_ok(const oasis_tcp_hdr *h, uint8_t *dst)
{
    const uint8_t *seg = h->payload - h->hdr_len;
    return oasis_csum_fold(oasis_csum_copy_after(dst, seg, h->hdr_len, h->payload_len, h->sum_pseudo)) == 0;
}

/* Bytes the options of h take on the wire (a multiple of 4, at most 40).
 * Layout, like Linux: MSS; NOP,NOP,TS (or SACK-perm,TS when both);
 * NOP,NOP,SACK-perm (without TS); NOP,WS; NOP,NOP,SACK with as many of
 * h->sack[0..sack_count) as fit in what is left of 40 bytes (3 next to TS,
 * 4 alone); the blocks that don't fit are dropped from the end, so put the
 * most important first. hdr_len and payload fields of h are ignored. */
size_t oasis_tcp_options_len(const oasis_tcp_hdr *h);

/* Writes the header with its options at buf (hdr_len = 20 +
 * oasis_tcp_options_len(h); buf must have room for it), and the checksum
 * over the header and the payload_len bytes of payload that already sit
 * right after it. Returns the header length. */
size_t oasis_tcp_emit(uint8_t *buf, const oasis_tcp_hdr *h, size_t payload_len, uint32_t src,
                      uint32_t dst);

/* Same, for a payload that is not (yet) behind the header or was summed
 * while copied: payload_sum = oasis_csum_add(0, payload, payload_len) (or a
 * running sum over pieces of even length but the last). The payload itself
 * is not read. */
size_t oasis_tcp_emit_with_sum(uint8_t *buf, const oasis_tcp_hdr *h, size_t payload_len,
                               uint64_t payload_sum, uint32_t src, uint32_t dst);

/* The same with the pseudo-header's running sum given, over the segment's
 * whole length (20 + oasis_tcp_options_len(h) + payload). */
size_t oasis_tcp_emit_ps(uint8_t *buf, const oasis_tcp_hdr *h, uint64_t payload_sum,
                         uint64_t pseudo);

/* An established flow's usual header: no urgent pointer, and no options
 * or the timestamps alone (NOP, NOP, TS, as oasis_tcp_emit_ps lays them
 * out). Written and summed in place, without an oasis_tcp_hdr: the bytes
 * oasis_tcp_emit_ps writes for the same fields. pseudo: as there; returns
 * the header length (20 or 32). */
typedef struct oasis_tcp_plain {
    uint32_t ports; /* the first word as it is stored: oasis_tcp_ports_word */
    uint32_t seq, ack;
    uint8_t flags, has_ts;
    uint16_t window;
    uint32_t ts_val, ts_ecr;
} oasis_tcp_plain;

/* The source and destination ports as the header's first word is stored
 * (and summed): constant per flow, so a sender may keep it. */
static inline uint32_t oasis_tcp_ports_word(uint16_t src_port, uint16_t dst_port)
{
    return oasis_csum_be32((uint32_t)src_port << 16 | dst_port);
}

static inline size_t oasis_tcp_emit_plain(uint8_t *buf, const oasis_tcp_plain *h,
                                          uint64_t payload_sum, uint64_t pseudo)
{
    /* Whole 32-bit words, each stored once and summed from the register
     * (stored as they are made: built in an array first, GCC packed the
     * words through vector registers and copied the array). */
    size_t hlen = h->has_ts ? OASIS_TCP_HLEN + 12 : OASIS_TCP_HLEN;
    uint32_t w0 = h->ports;
    uint32_t w1 = oasis_csum_be32(h->seq);
    uint32_t w2 = oasis_csum_be32(h->ack);
    uint32_t w3 = oasis_csum_be32((uint32_t)(hlen / 4) << 28 | (uint32_t)h->flags << 16 | h->window);
    memcpy(buf, &w0, 4);
    memcpy(buf + 4, &w1, 4);
    memcpy(buf + 8, &w2, 4);
    memcpy(buf + 12, &w3, 4);
    uint64_t sum = pseudo + payload_sum + w0 + w1 + w2 + w3;
    if (h->has_ts) {
        uint32_t w5 = oasis_csum_be32(0x0101080au); /* NOP, NOP, TS, 10 */
        uint32_t w6 = oasis_csum_be32(h->ts_val);
        uint32_t w7 = oasis_csum_be32(h->ts_ecr);
        memcpy(buf + 20, &w5, 4);
        memcpy(buf + 24, &w6, 4);
        memcpy(buf + 28, &w7, 4);
        sum += (uint64_t)w5 + w6 + w7;
    }
    /* (pseudo and payload_sum below 2^33 each: no overflow) */
    uint16_t c = oasis_csum_fold(sum);
    memcpy(buf + 16, &c, 2);
    memset(buf + 18, 0, 2); /* urgent pointer */
    return hlen;
}

#endif
