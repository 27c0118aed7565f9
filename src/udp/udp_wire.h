/* UDP wire format (RFC 768). */
#ifndef OASIS_UDP_WIRE_H
#define OASIS_UDP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define OASIS_UDP_HLEN 8

struct oasis_in6;

typedef struct oasis_udp_hdr {
    uint16_t src_port, dst_port;
    uint16_t len;         /* the header's length field */
    uint16_t csum;        /* as on the wire (0: none) */
    const uint8_t *payload;
    size_t payload_len;   /* len - 8 */
} oasis_udp_hdr;

/* Validates the length field (>= 8 and <= len: OASIS_ETRUNCATED if larger,
 * OASIS_EMALFORMED if under 8) and, when the checksum field is not zero, the
 * checksum with the pseudo-header (OASIS_ECHECKSUM). Addresses host order. */
int oasis_udp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst, oasis_udp_hdr *out);
/* The same; verify_csum 0 skips the checksum (the link verified it). */
int oasis_udp_parse_ex(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst,
                       int verify_csum, oasis_udp_hdr *out);

/* Writes the header at buf for a datagram of `len` bytes (header included,
 * payload already at buf + 8) and its checksum (0 is sent as 0xffff). */
void oasis_udp_emit(uint8_t *buf, size_t len, uint16_t src_port, uint16_t dst_port, uint32_t src,
                    uint32_t dst);

/* IPv6 (RFC 8200 8.1): the same checks with the IPv6 pseudo-header, and a
 * zero checksum field is refused with OASIS_ENOTSUP (the checksum is not
 * optional over IPv6), whether or not verify_csum asks for the sum. */
int oasis_udp_parse6(const uint8_t *buf, size_t len, const struct oasis_in6 *src,
                     const struct oasis_in6 *dst, int verify_csum, oasis_udp_hdr *out);

/* oasis_udp_emit with the IPv6 pseudo-header (a computed 0 goes out as
 * 0xffff, RFC 8200 8.1). */
void oasis_udp_emit6(uint8_t *buf, size_t len, uint16_t src_port, uint16_t dst_port,
                     const struct oasis_in6 *src, const struct oasis_in6 *dst);

/* The checksum field value (in wire byte order, to be memcpy'd) a complete datagram buf[0..ulen) should carry
 * over IPv6, whatever its field holds now (a link with checksum offload
 * hands us frames whose field holds only the pseudo-header sum). */
uint16_t oasis_udp_csum6(const uint8_t *buf, uint16_t ulen, const struct oasis_in6 *src,
                         const struct oasis_in6 *dst);

#endif
