/* ICMPv6 wire format (RFC 4443 2.1, 2.3). */
#include "ipv6/icmp6_wire.h"

#include "core/bytes.h"
#include "core/checksum.h"
#include "oasis/error.h"

#include <string.h>

int oasis_icmp6_parse(const uint8_t *msg, size_t len, const oasis_in6 *src, const oasis_in6 *dst,
                      oasis_icmp6_hdr *out)
{
    if (len < OASIS_ICMP6_HLEN)
        return OASIS_ETRUNCATED;
    /* RFC 4443 2.3: the checksum covers the pseudo-header and the message. */
    uint64_t sum = oasis_ipv6_pseudo_sum(src, dst, (uint32_t)len, OASIS_NH_ICMPV6);
    if (oasis_csum_fold(oasis_csum_add(sum, msg, len)) != 0)
        return OASIS_ECHECKSUM;
    out->type = msg[0];
    out->code = msg[1];
    out->word = oasis_get32(msg + 4);
    out->msg = msg;
    out->len = len;
    out->body = msg + OASIS_ICMP6_HLEN;
    out->body_len = len - OASIS_ICMP6_HLEN;
    return OASIS_OK;
}

void oasis_icmp6_finish(uint8_t *msg, size_t len, uint8_t type, uint8_t code, uint32_t word,
                        const oasis_in6 *src, const oasis_in6 *dst)
{
    msg[0] = type;
    msg[1] = code;
    msg[2] = msg[3] = 0;
    oasis_put32(msg + 4, word);
    uint64_t sum = oasis_ipv6_pseudo_sum(src, dst, (uint32_t)len, OASIS_NH_ICMPV6);
    uint16_t c = oasis_csum_fold(oasis_csum_add(sum, msg, len));
    memcpy(msg + 2, &c, 2);
}
