#include "udp/udp_wire.h"
#include "core/bytes.h"
#include "core/checksum.h"
#include "ip/ipv4_wire.h"
#include "oasis/error.h"

#include <string.h>

static uint64_t udp_sum(const uint8_t *buf, uint16_t ulen, uint32_t src, uint32_t dst)
{
    return oasis_csum_add(oasis_csum_pseudo(src, dst, OASIS_IPPROTO_UDP, ulen), buf, ulen);
}

int oasis_udp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst, oasis_udp_hdr *out)
{
    return oasis_udp_parse_ex(buf, len, src, dst, 1, out);
}

int oasis_udp_parse_ex(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst,
                       int verify_csum, oasis_udp_hdr *out)
{
    if (len < OASIS_UDP_HLEN)
        return OASIS_ETRUNCATED;
    uint16_t ulen = oasis_get16(buf + 4);
    if (ulen < OASIS_UDP_HLEN)
        return OASIS_EMALFORMED;
    if (ulen > len)
        return OASIS_ETRUNCATED;
    uint16_t csum;
    memcpy(&csum, buf + 6, 2);
    /* Zero means the sender computed none (RFC 768). Bytes past ulen are
     * IP-level padding and are neither summed nor delivered. */
    if (verify_csum && csum != 0 && oasis_csum_fold(udp_sum(buf, ulen, src, dst)) != 0)
        return OASIS_ECHECKSUM;
    out->src_port = oasis_get16(buf);
    out->dst_port = oasis_get16(buf + 2);
    out->len = ulen;
    out->csum = oasis_get16(buf + 6);
    out->payload = buf + OASIS_UDP_HLEN;
    out->payload_len = (size_t)ulen - OASIS_UDP_HLEN;
    return OASIS_OK;
}

void oasis_udp_emit(uint8_t *buf, size_t len, uint16_t src_port, uint16_t dst_port, uint32_t src,
                    uint32_t dst)
{
    oasis_put16(buf, src_port);
    oasis_put16(buf + 2, dst_port);
    oasis_put16(buf + 4, (uint16_t)len);
    buf[6] = buf[7] = 0;
    uint16_t c = oasis_csum_fold(udp_sum(buf, (uint16_t)len, src, dst));
    /* A computed 0 goes out as its one's complement twin, since 0 on the
     * wire means "no checksum". */
    if (c == 0)
        c = 0xffff;
    memcpy(buf + 6, &c, 2);
}
