/* IPv6 wire format: fixed header, extension header walk, fragment header,
 * pseudo-header, address helpers (RFC 8200, RFC 4291, RFC 2464). */
#include "ipv6/ipv6_wire.h"

#include "core/bytes.h"
#include "core/checksum.h"
#include "oasis/error.h"

const oasis_in6 oasis_in6_all_nodes = {{0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
const oasis_in6 oasis_in6_all_routers = {{0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}};
const oasis_in6 oasis_in6_mldv2_routers = {{0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x16}};
const oasis_in6 oasis_in6_all_nodes_iface = {{0xff, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};

int oasis_ipv6_parse(const uint8_t *buf, size_t len, oasis_ipv6_hdr *out)
{
    if (len < OASIS_IPV6_HLEN)
        return OASIS_ETRUNCATED;
    if (buf[0] >> 4 != 6)
        return OASIS_EMALFORMED;
    uint16_t plen = oasis_get16(buf + 4);
    if (plen == 0)
        return OASIS_EMALFORMED;
    if ((size_t)plen > len - OASIS_IPV6_HLEN)
        return OASIS_ETRUNCATED;
    out->tclass = (uint8_t)((buf[0] & 0x0f) << 4 | buf[1] >> 4);
    out->flow = (uint32_t)(buf[1] & 0x0f) << 16 | (uint32_t)buf[2] << 8 | buf[3];
    out->payload_len = plen;
    out->next = buf[6];
    out->hop_limit = buf[7];
    memcpy(out->src.b, buf + 8, 16);
    memcpy(out->dst.b, buf + 24, 16);
    out->pkt = buf;
    out->payload = buf + OASIS_IPV6_HLEN;
    out->fragmented = 0;
    return OASIS_OK;
}

void oasis_ipv6_emit(uint8_t *buf, const oasis_ipv6_hdr *h)
{
    buf[0] = (uint8_t)(0x60 | h->tclass >> 4);
    buf[1] = (uint8_t)((h->tclass & 0x0f) << 4 | ((h->flow >> 16) & 0x0f));
    buf[2] = (uint8_t)(h->flow >> 8);
    buf[3] = (uint8_t)h->flow;
    oasis_put16(buf + 4, h->payload_len);
    buf[6] = h->next;
    buf[7] = h->hop_limit;
    memcpy(buf + 8, h->src.b, 16);
    memcpy(buf + 24, h->dst.b, 16);
}

int oasis_ipv6_frag_parse(const uint8_t *buf, size_t len, oasis_ipv6_frag *out)
{
    if (len < OASIS_IPV6_FRAG_HLEN)
        return OASIS_ETRUNCATED;
    uint16_t w = oasis_get16(buf + 2);
    out->next = buf[0];
    out->offset = (uint16_t)(w & 0xfff8);
    out->more = w & 1;
    out->id = oasis_get32(buf + 4);
    return OASIS_OK;
}

void oasis_ipv6_frag_emit(uint8_t *buf, const oasis_ipv6_frag *f)
{
    buf[0] = f->next;
    buf[1] = 0;
    oasis_put16(buf + 2, (uint16_t)((f->offset & 0xfff8) | (f->more ? 1 : 0)));
    oasis_put32(buf + 4, f->id);
}

static oasis_ipv6_walk_err stop(oasis_ipv6_walk *w, oasis_ipv6_walk_err err, int code,
                                uint32_t pointer, int mcast_ok)
{
    w->err = err;
    w->icmp_code = code;
    w->pointer = pointer;
    w->icmp_mcast_ok = mcast_ok;
    return err;
}

/* The options of a Hop-by-Hop or Destination Options header at pkt[off],
 * hlen bytes (RFC 8200 4.2). */
static oasis_ipv6_walk_err walk_options(const uint8_t *pkt, uint32_t off, uint32_t hlen, int hbh,
                                        oasis_ipv6_walk *w)
{
    uint32_t i = off + 2, end = off + hlen;
    int nopts = 0, pad = 0;

    while (i < end) {
        uint8_t type = pkt[i];
        if (type == 0) { /* Pad1 */
            if (++pad > OASIS_IPV6_MAX_PAD)
                return stop(w, OASIS_W6_LIMIT, -1, 0, 0);
            i++;
            continue;
        }
        if (end - i < 2 || pkt[i + 1] > end - i - 2)
            return stop(w, OASIS_W6_BAD_OPTLEN, -1, 0, 0);
        uint8_t olen = pkt[i + 1];
        if (type == 1) { /* PadN */
            pad += 2 + olen;
            if (pad > OASIS_IPV6_MAX_PAD)
                return stop(w, OASIS_W6_LIMIT, -1, 0, 0);
            i += 2u + olen;
            continue;
        }
        pad = 0;
        if (++nopts > OASIS_IPV6_MAX_OPTS)
            return stop(w, OASIS_W6_LIMIT, -1, 0, 0);
        if (hbh && type == 5 && olen == 2) { /* Router Alert (RFC 2711): MLD carries it */
            i += 4;
            continue;
        }
        /* Unrecognised: the two high-order bits say what to do. */
        switch (type >> 6) {
        case 0:
            break;
        case 1:
            return stop(w, OASIS_W6_BAD_OPTION, -1, 0, 0);
        case 2:
            return stop(w, OASIS_W6_BAD_OPTION, 2, i, 1);
        default:
            return stop(w, OASIS_W6_BAD_OPTION, 2, i, 0);
        }
        i += 2u + olen;
    }
    return OASIS_W6_OK;
}

/* The walk from the header that the Next Header field at nh_off names
 * (nh), which starts at off. */
static oasis_ipv6_walk_err walk_from(const uint8_t *pkt, size_t len, uint8_t nh, uint32_t nh_off,
                                     uint32_t off, oasis_ipv6_walk *w)
{
    for (;;) {
        uint32_t avail = (uint32_t)len - off, hlen;
        switch (nh) {
        case OASIS_NH_HOPOPTS:
        case OASIS_NH_DSTOPTS:
            if (nh == OASIS_NH_HOPOPTS && off != OASIS_IPV6_HLEN)
                return stop(w, OASIS_W6_HBH_NOT_FIRST, 1, nh_off, 0);
            if (avail < 2 || (hlen = (pkt[off + 1] + 1u) * 8) > avail)
                return stop(w, OASIS_W6_TRUNCATED, -1, 0, 0);
            break;
        case OASIS_NH_ROUTING:
            if (avail < 4 || (hlen = (pkt[off + 1] + 1u) * 8) > avail)
                return stop(w, OASIS_W6_TRUNCATED, -1, 0, 0);
            break;
        case OASIS_NH_FRAGMENT:
            hlen = OASIS_IPV6_FRAG_HLEN;
            if (avail < hlen)
                return stop(w, OASIS_W6_TRUNCATED, -1, 0, 0);
            break;
        default: /* an upper layer (or No Next Header, ESP, AH: not ours) */
            w->proto = nh;
            w->off = off;
            w->nh_off = nh_off;
            return OASIS_W6_OK;
        }
        if (++w->nhdrs > OASIS_IPV6_MAX_EXT_HDRS || off - OASIS_IPV6_HLEN + hlen > OASIS_IPV6_MAX_EXT_BYTES)
            return stop(w, OASIS_W6_LIMIT, -1, 0, 0);
        if (nh == OASIS_NH_HOPOPTS || nh == OASIS_NH_DSTOPTS) {
            if (walk_options(pkt, off, hlen, nh == OASIS_NH_HOPOPTS, w) != OASIS_W6_OK)
                return w->err;
        } else if (nh == OASIS_NH_ROUTING) {
            /* RFC 8200 4.4: Segments Left 0 is ignored; otherwise we are asked
             * to route, which a host does for no type (RFC 5095 3: RH0 is
             * handled as an unrecognised type). Pointer: the Routing Type. */
            if (pkt[off + 3] != 0)
                return stop(w, pkt[off + 2] == 0 ? OASIS_W6_RH0 : OASIS_W6_ROUTING, 0, off + 2, 0);
        } else { /* fragment */
            oasis_ipv6_frag f;
            if (oasis_ipv6_frag_parse(pkt + off, avail, &f) != OASIS_OK)
                return stop(w, OASIS_W6_TRUNCATED, -1, 0, 0);
            uint32_t data = avail - OASIS_IPV6_FRAG_HLEN;
            /* RFC 8200 4.5: a non-last fragment whose length is not a multiple
             * of 8 (pointer: Payload Length), or one that would make the
             * reassembled Payload Length, the headers before this one
             * included, exceed 65535 (pointer: Fragment Offset). */
            if (f.more && data % 8 != 0)
                return stop(w, OASIS_W6_FRAG_LEN, 0, 4, 0);
            if (off - OASIS_IPV6_HLEN + (uint32_t)f.offset + data > 65535)
                return stop(w, OASIS_W6_FRAG_LEN, 0, off + 2, 0);
            /* RFC 8200 4: a Next Header of 0 in any header but the fixed
             * one is an unrecognised Next Header. Only the first fragment's
             * counts (4.5); reassembly would put it right after the fixed
             * header. */
            if (f.offset == 0 && f.next == OASIS_NH_HOPOPTS)
                return stop(w, OASIS_W6_HBH_NOT_FIRST, 1, off, 0);
            w->frag = 1;
            w->frag_hdr_off = off;
            w->frag_offset = f.offset;
            w->frag_more = f.more;
            w->frag_id = f.id;
            w->frag_next = f.next;
            w->proto = OASIS_NH_FRAGMENT;
            w->off = off;
            w->nh_off = nh_off;
            return OASIS_W6_OK;
        }
        nh_off = off;
        nh = pkt[off];
        off += hlen;
    }
}

oasis_ipv6_walk_err oasis_ipv6_walk_chain(const uint8_t *pkt, size_t len, oasis_ipv6_walk *w)
{
    memset(w, 0, sizeof *w);
    w->icmp_code = -1;
    if (len < OASIS_IPV6_HLEN)
        return stop(w, OASIS_W6_TRUNCATED, -1, 0, 0);
    return walk_from(pkt, len, pkt[6], 6, OASIS_IPV6_HLEN, w);
}

oasis_ipv6_walk_err oasis_ipv6_walk_past_fragment(const uint8_t *pkt, size_t len, oasis_ipv6_walk *w)
{
    uint32_t at = w->frag_hdr_off;
    uint8_t nh = w->frag_next;
    int nhdrs = w->nhdrs;
    memset(w, 0, sizeof *w);
    w->icmp_code = -1;
    w->nhdrs = nhdrs; /* the limits count the whole chain */
    return walk_from(pkt, len, nh, at, at + OASIS_IPV6_FRAG_HLEN, w);
}

int oasis_ipv6_upper_layer(const uint8_t *pkt, size_t len, uint32_t *off, uint8_t *proto)
{
    if (len < OASIS_IPV6_HLEN)
        return -1;
    uint8_t nh = pkt[6];
    size_t at = OASIS_IPV6_HLEN;
    /* Each header is at least 8 bytes: the loop ends within len / 8 turns. */
    for (;;) {
        size_t hlen;
        switch (nh) {
        case OASIS_NH_HOPOPTS:
        case OASIS_NH_DSTOPTS:
        case OASIS_NH_ROUTING:
            if (len - at < 2)
                return -1;
            hlen = (pkt[at + 1] + 1u) * 8;
            break;
        case OASIS_NH_FRAGMENT:
            if (len - at < OASIS_IPV6_FRAG_HLEN || (oasis_get16(pkt + at + 2) & 0xfff8) != 0)
                return -1;
            hlen = OASIS_IPV6_FRAG_HLEN;
            break;
        case OASIS_NH_AH:
            /* Readable without its security association: RFC 4302 2.2's
             * Payload Length is the header's in 4-octet units, minus 2. */
            if (len - at < 2)
                return -1;
            hlen = (pkt[at + 1] + 2u) * 4;
            break;
        default:
            *off = (uint32_t)at;
            *proto = nh;
            return 0;
        }
        if (hlen > len - at)
            return -1;
        nh = pkt[at];
        at += hlen;
    }
}

oasis_in6 oasis_in6_solicited_node(const oasis_in6 *a)
{
    oasis_in6 g = {{0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 0}};
    g.b[13] = a->b[13];
    g.b[14] = a->b[14];
    g.b[15] = a->b[15];
    return g;
}

void oasis_in6_multicast_mac(const oasis_in6 *group, uint8_t mac[6])
{
    mac[0] = 0x33;
    mac[1] = 0x33;
    memcpy(mac + 2, group->b + 12, 4);
}

int oasis_in6_prefix_eq(const oasis_in6 *a, const oasis_in6 *b, unsigned plen)
{
    if (plen > 128)
        plen = 128;
    unsigned full = plen / 8, rest = plen % 8;
    if (memcmp(a->b, b->b, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a->b[full] & mask) == (b->b[full] & mask);
}
