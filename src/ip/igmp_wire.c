/* IGMP wire format. Invariants: a message is at least 8 bytes and its
 * checksum (the Internet checksum over the whole message) verifies before
 * any field is read; a query's version follows from its length and Max
 * Resp field alone (RFC 9776 7.1): 8 bytes and 0 is version 1, 8 bytes
 * and not 0 version 2, 12 or more version 3, anything else no query. */
#include "ip/igmp_wire.h"

#include <string.h>

#include "core/bytes.h"
#include "core/checksum.h"
#include "oasis/error.h"

/* RFC 9776 4.1.1: under 128 the code is the time in tenths of a second;
 * from 128 a floating point value, (mant | 0x10) << (exp + 3). */
static uint64_t max_resp_v3(uint8_t code)
{
    uint64_t tenths = code < 128 ? code : (uint64_t)((code & 0x0f) | 0x10) << (((code >> 4) & 7) + 3);
    return tenths * 100000000ull;
}

int oasis_igmp_parse(const uint8_t *buf, size_t len, oasis_igmp_msg *out)
{
    memset(out, 0, sizeof *out);
    if (len < 8)
        return OASIS_ETRUNCATED;
    if (oasis_csum_fold(oasis_csum_add(0, buf, len)) != 0)
        return OASIS_ECHECKSUM;
    out->type = buf[0];
    out->group = oasis_get32(buf + 4);
    if (out->type != OASIS_IGMP_QUERY)
        return OASIS_OK;
    if (len == 8) {
        /* RFC 2236 4: a version 1 query means 10 seconds. */
        out->version = buf[1] ? 2 : 1;
        out->max_resp_ns = (buf[1] ? buf[1] : 100) * 100000000ull;
        return OASIS_OK;
    }
    if (len < 12)
        return OASIS_EMALFORMED;
    out->version = 3;
    out->max_resp_ns = max_resp_v3(buf[1]);
    return OASIS_OK;
}

static void finish(uint8_t *buf, size_t len)
{
    buf[2] = buf[3] = 0;
    uint16_t c = oasis_csum_fold(oasis_csum_add(0, buf, len));
    memcpy(buf + 2, &c, 2);
}

size_t oasis_igmp_emit_v12(uint8_t *buf, uint8_t type, uint32_t group)
{
    buf[0] = type;
    buf[1] = 0;
    oasis_put32(buf + 4, group);
    finish(buf, 8);
    return 8;
}

size_t oasis_igmp_emit_v3(uint8_t *buf, const uint32_t *groups, size_t n, uint8_t rec_type)
{
    size_t len = 8 + 8 * n;
    memset(buf, 0, len);
    buf[0] = OASIS_IGMP_V3_REPORT;
    oasis_put16(buf + 6, (uint16_t)n);
    for (size_t i = 0; i < n; i++) {
        uint8_t *r = buf + 8 + 8 * i;
        r[0] = rec_type; /* aux data length 0, no sources */
        oasis_put32(r + 4, groups[i]);
    }
    finish(buf, len);
    return len;
}
