#include "link/eth_wire.h"
#include "core/bytes.h"
#include "oasis/error.h"

#include <string.h>

void oasis_eth_emit(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
    memcpy(buf, dst, OASIS_ETH_ALEN);
    memcpy(buf + 6, src, OASIS_ETH_ALEN);
    oasis_put16(buf + 12, type);
}
