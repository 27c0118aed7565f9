/* Ethernet II wire format. */
#ifndef OASIS_ETH_WIRE_H
#define OASIS_ETH_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/bytes.h"
#include "oasis/error.h"

#define OASIS_ETH_HLEN 14
#define OASIS_ETH_ALEN 6
#define OASIS_ETHERTYPE_IPV4 0x0800
#define OASIS_ETHERTYPE_ARP 0x0806
#define OASIS_ETHERTYPE_IPV6 0x86DD

typedef struct oasis_eth_hdr {
    uint8_t dst[OASIS_ETH_ALEN];
    uint8_t src[OASIS_ETH_ALEN];
    uint16_t type;
    const uint8_t *payload;
    size_t payload_len;
} oasis_eth_hdr;

/* Ethertypes start at 0x0600; smaller values are 802.3 lengths (LLC/SNAP
 * frames), which carry nothing we speak. */
#define OASIS_ETH_MIN_TYPE 0x0600

/* Returns 0, or OASIS_ETRUNCATED (shorter than 14 bytes) or OASIS_EMALFORMED
 * (an 802.3 length field, type < 0x0600, which we do not speak); on an
 * error *out is zeroed, so it is never left unset. Inline: every frame in
 * takes it, and the input reads only some of the fields. */
static inline int oasis_eth_parse(const uint8_t *buf, size_t len, oasis_eth_hdr *out)
{
    if (len < OASIS_ETH_HLEN) {
        memset(out, 0, sizeof *out);
        return OASIS_ETRUNCATED;
    }
    uint16_t type = oasis_get16(buf + 12);
    if (type < OASIS_ETH_MIN_TYPE) {
        memset(out, 0, sizeof *out);
        return OASIS_EMALFORMED;
    }
    memcpy(out->dst, buf, OASIS_ETH_ALEN);
    memcpy(out->src, buf + 6, OASIS_ETH_ALEN);
    out->type = type;
    out->payload = buf + OASIS_ETH_HLEN;
    out->payload_len = len - OASIS_ETH_HLEN;
    return OASIS_OK;
}

/* Writes the 14-byte header at buf. */
void oasis_eth_emit(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], uint16_t type);

static inline int oasis_mac_is_broadcast(const uint8_t m[6])
{
    return (m[0] & m[1] & m[2] & m[3] & m[4] & m[5]) == 0xff;
}
static inline int oasis_mac_is_multicast(const uint8_t m[6]) { return m[0] & 1; }

#endif
