/* Software GSO (see gso.h): the rules are Linux's tcp_gso_segment and
 * virtio-net's (virtio 1.x 5.1.6.2): sequence numbers advance by the
 * payload of the pieces before, IPv4's ID by one per piece, every piece
 * carries the super-segment's options, PSH and FIN only the last, CWR only
 * the first, and each gets its own IP header and TCP checksums. */
#include "link/gso.h"

#include "core/bytes.h"
#include "core/checksum.h"
#include "ipv6/ipv6_wire.h"
#include "oasis/error.h"

#include <string.h>

#define ETH_HLEN 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define IPPROTO_TCP_ 6
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80
/* Ethernet + the longest IPv4 and TCP headers. */
#define MAX_HDRS (ETH_HLEN + 60 + 60)

int oasis_csum_complete(uint8_t *frame, size_t len, uint16_t start, uint16_t off)
{
    if (start < ETH_HLEN || (size_t)start + off + 2 > len)
        return OASIS_EMALFORMED;
    uint16_t c = oasis_csum_fold(oasis_csum_add(0, frame + start, len - start));
    memcpy(frame + start + off, &c, 2);
    return OASIS_OK;
}

/* The offsets of a TCP super-segment's headers: IPv4 (options allowed)
 * or IPv6 (TCP straight after the fixed header: the stack sends none
 * other, and virtio-net's TCPV6 is the same). */
typedef struct tcp_layout {
    int v6;
    size_t ihl;     /* IP header bytes */
    size_t l4;      /* TCP header */
    size_t hlen;    /* Ethernet + IP + TCP headers */
    size_t payload; /* TCP payload bytes */
} tcp_layout;

static int tcp4_parse(const uint8_t *f, size_t len, tcp_layout *o)
{
    if (len < ETH_HLEN + 20 || oasis_get16(f + 12) != ETHERTYPE_IPV4)
        return OASIS_EMALFORMED;
    const uint8_t *ip = f + ETH_HLEN;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    size_t tot = oasis_get16(ip + 2);
    if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != IPPROTO_TCP_ || tot < ihl + 20 ||
        tot > len - ETH_HLEN)
        return OASIS_EMALFORMED;
    /* A super-segment is never a fragment. */
    if ((oasis_get16(ip + 6) & 0x3fff) != 0)
        return OASIS_EMALFORMED;
    size_t thl = (size_t)(ip[ihl + 12] >> 4) * 4;
    if (thl < 20 || ihl + thl > tot)
        return OASIS_EMALFORMED;
    o->v6 = 0;
    o->ihl = ihl;
    o->l4 = ETH_HLEN + ihl;
    o->hlen = o->l4 + thl;
    o->payload = tot - ihl - thl;
    return OASIS_OK;
}

static int tcp6_parse(const uint8_t *f, size_t len, tcp_layout *o)
{
    if (len < ETH_HLEN + OASIS_IPV6_HLEN + 20 || oasis_get16(f + 12) != ETHERTYPE_IPV6)
        return OASIS_EMALFORMED;
    const uint8_t *ip = f + ETH_HLEN;
    size_t plen = oasis_get16(ip + 4);
    if ((ip[0] >> 4) != 6 || ip[6] != IPPROTO_TCP_ || plen < 20 ||
        plen > len - ETH_HLEN - OASIS_IPV6_HLEN)
        return OASIS_EMALFORMED;
    size_t thl = (size_t)(ip[OASIS_IPV6_HLEN + 12] >> 4) * 4;
    if (thl < 20 || thl > plen)
        return OASIS_EMALFORMED;
    o->v6 = 1;
    o->ihl = OASIS_IPV6_HLEN;
    o->l4 = ETH_HLEN + OASIS_IPV6_HLEN;
    o->hlen = o->l4 + thl;
    o->payload = plen - thl;
    return OASIS_OK;
}

static void ip_csum(uint8_t *ip, size_t ihl)
{
    memset(ip + 10, 0, 2);
    uint16_t c = oasis_csum(ip, ihl);
    memcpy(ip + 10, &c, 2);
}

/* A piece's IP header: its length (and IPv4's ID, one up per piece, and
 * header checksum); returns the TCP pseudo-header's sum for tcp_len bytes. */
static uint64_t piece_ip(const tcp_layout *L, uint8_t *ip, uint16_t id, size_t tcp_len)
{
    if (L->v6) {
        oasis_put16(ip + 4, (uint16_t)tcp_len);
        oasis_in6 src, dst;
        memcpy(src.b, ip + 8, 16);
        memcpy(dst.b, ip + 24, 16);
        return oasis_ipv6_pseudo_sum(&src, &dst, (uint32_t)tcp_len, IPPROTO_TCP_);
    }
    oasis_put16(ip + 2, (uint16_t)(L->ihl + tcp_len));
    oasis_put16(ip + 4, id);
    ip_csum(ip, L->ihl);
    return oasis_csum_pseudo(oasis_get32(ip + 12), oasis_get32(ip + 16), IPPROTO_TCP_,
                             (uint16_t)tcp_len);
}

static int segment_tcp(uint8_t *frame, size_t len, const oasis_offload *off, int v6,
                       uint8_t *scratch, size_t scratch_len, oasis_gso_emit_fn emit, void *ud,
                       int *first_err)
{
    tcp_layout L;
    if ((v6 ? tcp6_parse : tcp4_parse)(frame, len, &L) != OASIS_OK)
        return OASIS_EMALFORMED;
    size_t mss = off->gso_size;
    if (scratch && scratch_len < L.hlen + (L.payload < mss ? L.payload : mss))
        return OASIS_EMALFORMED;
    uint8_t tmpl[MAX_HDRS];
    memcpy(tmpl, frame, L.hlen);
    const uint8_t *tcp0 = tmpl + L.l4;
    uint16_t id = v6 ? 0 : oasis_get16(tmpl + ETH_HLEN + 4);
    uint32_t seq = oasis_get32(tcp0 + 4);
    uint8_t flags = tcp0[13];
    size_t thl = L.hlen - L.l4;
    int n = 0;

    /* A segment with no payload (or one that fits) is one piece. */
    size_t done = 0;
    do {
        size_t k = L.payload - done < mss ? L.payload - done : mss;
        int first = done == 0, last = done + k >= L.payload;
        uint8_t *p = scratch ? scratch : frame + done; /* in place: just before its payload */
        memcpy(p, tmpl, L.hlen);
        if (scratch)
            memcpy(p + L.hlen, frame + L.hlen + done, k);
        uint8_t *tcp = p + L.l4;
        uint64_t sum = piece_ip(&L, p + ETH_HLEN, (uint16_t)(id + n), thl + k);
        oasis_put32(tcp + 4, seq + (uint32_t)done);
        uint8_t fl = flags;
        if (!last)
            fl &= (uint8_t)~(TCP_FIN | TCP_PSH);
        if (!first)
            fl &= (uint8_t)~TCP_CWR;
        tcp[13] = fl;
        memset(tcp + 16, 0, 2);
        uint16_t c = oasis_csum_fold(oasis_csum_add(sum, tcp, thl + k));
        memcpy(tcp + 16, &c, 2);
        int err = emit(ud, p, L.hlen + k);
        if (err && first_err && !*first_err)
            *first_err = err;
        n++;
        done += k;
    } while (done < L.payload);
    return n;
}

int oasis_gso_segment(uint8_t *frame, size_t len, const oasis_offload *off, uint8_t *scratch,
                      size_t scratch_len, oasis_gso_emit_fn emit, void *ud, int *first_err)
{
    if (first_err)
        *first_err = 0;
    uint8_t type = (uint8_t)(off->gso_type & ~OASIS_GSO_ECN);
    if ((type == OASIS_GSO_TCPV4 || type == OASIS_GSO_TCPV6) && off->gso_size)
        return segment_tcp(frame, len, off, type == OASIS_GSO_TCPV6, scratch, scratch_len, emit,
                           ud, first_err);
    if (type != OASIS_GSO_NONE)
        return OASIS_ENOTSUP;
    uint8_t *p = frame;
    if (off->flags & OASIS_OFFLOAD_CSUM_PARTIAL) {
        if (scratch) {
            if (scratch_len < len)
                return OASIS_EMALFORMED;
            memcpy(scratch, frame, len);
            p = scratch;
        }
        if (oasis_csum_complete(p, len, off->csum_start, off->csum_offset) != OASIS_OK)
            return OASIS_EMALFORMED;
    }
    int err = emit(ud, p, len);
    if (err && first_err)
        *first_err = err;
    return 1;
}
