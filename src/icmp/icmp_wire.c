#include "icmp/icmp_wire.h"
#include "core/bytes.h"
#include "core/checksum.h"
#include "oasis/error.h"

#include <string.h>

int oasis_icmp_parse(const uint8_t *buf, size_t len, oasis_icmp_hdr *out)
{
    if (len < OASIS_ICMP_HLEN)
        return OASIS_ETRUNCATED;
    /* ICMP has no length field: the checksum covers the whole IP payload. */
    if (oasis_csum(buf, len) != 0)
        return OASIS_ECHECKSUM;
    out->type = buf[0];
    out->code = buf[1];
    out->rest = oasis_get32(buf + 4);
    out->payload = buf + OASIS_ICMP_HLEN;
    out->payload_len = len - OASIS_ICMP_HLEN;
    return OASIS_OK;
}

void oasis_icmp_emit(uint8_t *buf, size_t len, uint8_t type, uint8_t code, uint32_t rest)
{
    buf[0] = type;
    buf[1] = code;
    buf[2] = buf[3] = 0;
    oasis_put32(buf + 4, rest);
    uint16_t c = oasis_csum(buf, len);
    memcpy(buf + 2, &c, 2);
}
