#include "udp/udp_wire.h"
#include "core/bytes.h"
#include "core/checksum.h"
#include "ip/ipv4_wire.h"
#include "ipv6/ipv6_wire.h"
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

/* The length checks both families share. */
static int check_len(const uint8_t *buf, size_t len, uint16_t *ulen)
{
    if (len < OASIS_UDP_HLEN)
        return OASIS_ETRUNCATED;
    *ulen = oasis_get16(buf + 4);
    if (*ulen < OASIS_UDP_HLEN)
        return OASIS_EMALFORMED;
    if (*ulen > len)
        return OASIS_ETRUNCATED;
    return OASIS_OK;
}

static void fill(const uint8_t *buf, uint16_t ulen, oasis_udp_hdr *out)
{
    out->src_port = oasis_get16(buf);
    out->dst_port = oasis_get16(buf + 2);
    out->len = ulen;
    out->csum = oasis_get16(buf + 6);
    out->payload = buf + OASIS_UDP_HLEN;
    out->payload_len = (size_t)ulen - OASIS_UDP_HLEN;
}

int oasis_udp_parse_ex(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst,
                       int verify_csum, oasis_udp_hdr *out)
{
    uint16_t ulen;
    int err = check_len(buf, len, &ulen);
    if (err)
        return err;
    uint16_t csum;
    memcpy(&csum, buf + 6, 2);
    /* Zero means the sender computed none (RFC 768). Bytes past ulen are
     * IP-level padding and are neither summed nor delivered. */
    if (verify_csum && csum != 0 && oasis_csum_fold(udp_sum(buf, ulen, src, dst)) != 0)
        return OASIS_ECHECKSUM;
    fill(buf, ulen, out);
    return OASIS_OK;
}

static uint64_t udp6_sum(const uint8_t *buf, uint16_t ulen, const oasis_in6 *src,
                         const oasis_in6 *dst)
{
    /* RFC 8200 8.1: UDP's own length field is the pseudo-header's length. */
    return oasis_csum_add(oasis_ipv6_pseudo_sum(src, dst, ulen, OASIS_IPPROTO_UDP), buf, ulen);
}

int oasis_udp_parse6(const uint8_t *buf, size_t len, const oasis_in6 *src, const oasis_in6 *dst,
                     int verify_csum, oasis_udp_hdr *out)
{
    uint16_t ulen;
    int err = check_len(buf, len, &ulen);
    if (err)
        return err;
    if (buf[6] == 0 && buf[7] == 0)
        return OASIS_ENOTSUP;
    if (verify_csum && oasis_csum_fold(udp6_sum(buf, ulen, src, dst)) != 0)
        return OASIS_ECHECKSUM;
    fill(buf, ulen, out);
    return OASIS_OK;
}

uint16_t oasis_udp_csum6(const uint8_t *buf, uint16_t ulen, const oasis_in6 *src,
                         const oasis_in6 *dst)
{
    uint64_t sum = oasis_ipv6_pseudo_sum(src, dst, ulen, OASIS_IPPROTO_UDP);
    sum = oasis_csum_add(sum, buf, 6); /* the field itself counts as zero */
    sum = oasis_csum_add(sum, buf + OASIS_UDP_HLEN, (size_t)ulen - OASIS_UDP_HLEN);
    uint16_t c = oasis_csum_fold(sum);
    return c == 0 ? 0xffff : c;
}

static void put_csum(uint8_t *buf, uint64_t sum)
{
    uint16_t c = oasis_csum_fold(sum);
    /* A computed 0 goes out as its one's complement twin, since 0 on the
     * wire means "no checksum". */
    if (c == 0)
        c = 0xffff;
    memcpy(buf + 6, &c, 2);
}

static void put_header(uint8_t *buf, size_t len, uint16_t src_port, uint16_t dst_port)
{
    oasis_put16(buf, src_port);
    oasis_put16(buf + 2, dst_port);
    oasis_put16(buf + 4, (uint16_t)len);
    buf[6] = buf[7] = 0;
}

void oasis_udp_emit(uint8_t *buf, size_t len, uint16_t src_port, uint16_t dst_port, uint32_t src,
                    uint32_t dst)
{
    put_header(buf, len, src_port, dst_port);
    put_csum(buf, udp_sum(buf, (uint16_t)len, src, dst));
}

void oasis_udp_emit6(uint8_t *buf, size_t len, uint16_t src_port, uint16_t dst_port,
                     const oasis_in6 *src, const oasis_in6 *dst)
{
    put_header(buf, len, src_port, dst_port);
    put_csum(buf, udp6_sum(buf, (uint16_t)len, src, dst));
}
