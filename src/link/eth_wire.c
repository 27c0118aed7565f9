#include "link/eth_wire.h"
#include "core/bytes.h"
#include "oasis/error.h"

#include <string.h>

/* Ethertypes start at 0x0600; smaller values are 802.3 lengths (LLC/SNAP
 * frames), which carry nothing we speak. */
#define ETH_MIN_TYPE 0x0600

int oasis_eth_parse(const uint8_t *buf, size_t len, oasis_eth_hdr *out)
{
    if (len < OASIS_ETH_HLEN)
        return OASIS_ETRUNCATED;
    uint16_t type = oasis_get16(buf + 12);
    if (type < ETH_MIN_TYPE)
        return OASIS_EMALFORMED;
    memcpy(out->dst, buf, OASIS_ETH_ALEN);
    memcpy(out->src, buf + 6, OASIS_ETH_ALEN);
    out->type = type;
    out->payload = buf + OASIS_ETH_HLEN;
    out->payload_len = len - OASIS_ETH_HLEN;
    return OASIS_OK;
}

void oasis_eth_emit(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
    memcpy(buf, dst, OASIS_ETH_ALEN);
    memcpy(buf + 6, src, OASIS_ETH_ALEN);
    oasis_put16(buf + 12, type);
}
