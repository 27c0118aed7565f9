/* virtio-net header: parse and fill (see virtio_net.h). */
#include "link/virtio_net.h"

#include "oasis/error.h"
#include "oasis/stack.h"

#include <string.h>

#define ETH_HLEN 14

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

int oasis_vnet_parse(const uint8_t *hdr, size_t frame_len, oasis_offload *out)
{
    memset(out, 0, sizeof *out);
    uint8_t flags = hdr[0], type = hdr[1];
    uint16_t hdr_len = le16(hdr + 2), gso_size = le16(hdr + 4);
    uint16_t start = le16(hdr + 6), off = le16(hdr + 8);

    if (frame_len < ETH_HLEN)
        return OASIS_EMALFORMED;
    if (flags & ~(OASIS_VNET_F_NEEDS_CSUM | OASIS_VNET_F_DATA_VALID))
        return OASIS_EMALFORMED;
    uint8_t base = (uint8_t)(type & ~OASIS_GSO_ECN);
    switch (base) {
    case OASIS_GSO_NONE:
        if (type & OASIS_GSO_ECN)
            return OASIS_EMALFORMED;
        break;
    case OASIS_GSO_TCPV4:
    case OASIS_GSO_TCPV6:
        if (gso_size == 0)
            return OASIS_EMALFORMED;
        break;
    case OASIS_GSO_UDP:
        if (gso_size == 0 || (type & OASIS_GSO_ECN))
            return OASIS_EMALFORMED;
        break;
    default:
        return OASIS_EMALFORMED;
    }
    if (hdr_len > frame_len)
        return OASIS_EMALFORMED;
    if (flags & OASIS_VNET_F_NEEDS_CSUM) {
        /* The field (2 bytes at start + off) must lie past the Ethernet
         * header and inside the frame. */
        if (start < ETH_HLEN || (size_t)start + off + 2 > frame_len)
            return OASIS_EMALFORMED;
        out->flags |= OASIS_OFFLOAD_CSUM_PARTIAL;
        out->csum_start = start;
        out->csum_offset = off;
    }
    if (flags & OASIS_VNET_F_DATA_VALID)
        out->flags |= OASIS_OFFLOAD_CSUM_VALID;
    out->gso_type = type;
    if (base != OASIS_GSO_NONE) {
        out->gso_size = gso_size;
        out->hdr_len = hdr_len;
    }
    return OASIS_OK;
}

void oasis_vnet_fill(uint8_t *hdr, const oasis_offload *off)
{
    memset(hdr, 0, OASIS_VNET_HDR_LEN);
    if (!off)
        return;
    if (off->flags & OASIS_OFFLOAD_CSUM_PARTIAL) {
        hdr[0] = OASIS_VNET_F_NEEDS_CSUM;
        put_le16(hdr + 6, off->csum_start);
        put_le16(hdr + 8, off->csum_offset);
    }
    if ((off->gso_type & ~OASIS_GSO_ECN) != OASIS_GSO_NONE) {
        hdr[1] = off->gso_type;
        put_le16(hdr + 2, off->hdr_len);
        put_le16(hdr + 4, off->gso_size);
    }
}

int oasis_vnet_input(oasis_stack *s, const uint8_t *buf, size_t n)
{
    oasis_offload off;
    if (n < OASIS_VNET_HDR_LEN + ETH_HLEN ||
        oasis_vnet_parse(buf, n - OASIS_VNET_HDR_LEN, &off) != OASIS_OK)
        return OASIS_EMALFORMED;
    oasis_stack_input_offload(s, buf + OASIS_VNET_HDR_LEN, n - OASIS_VNET_HDR_LEN, &off);
    return OASIS_OK;
}
