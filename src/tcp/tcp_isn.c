/* RFC 6528 initial sequence numbers. */
#include "tcp/tcp_isn.h"

#include <string.h>

#include "core/bytes.h"

uint32_t oasis_tcp_isn(const uint8_t key[16], const oasis_ipaddr *laddr, uint16_t lport,
                       const oasis_ipaddr *raddr, uint16_t rport, uint64_t now_ns)
{
    /* F's input in a fixed byte layout so the ISN does not depend on the
     * host's endianness; an IPv6 tuple hashes its whole 16-byte addresses. */
    uint8_t msg[36];
    size_t n;
    if (laddr->family == OASIS_AF_INET6) {
        memcpy(msg, laddr->b, 16);
        oasis_put16(msg + 16, lport);
        memcpy(msg + 18, raddr->b, 16);
        oasis_put16(msg + 34, rport);
        n = 36;
    } else {
        oasis_put32(msg, oasis_ipaddr_to_v4(laddr));
        oasis_put16(msg + 4, lport);
        oasis_put32(msg + 6, oasis_ipaddr_to_v4(raddr));
        oasis_put16(msg + 10, rport);
        n = 12;
    }
    uint32_t f = (uint32_t)oasis_siphash24(key, msg, n);
    uint32_t m = (uint32_t)(now_ns / 4000); /* 4 us ticks, wrapping mod 2^32 */
    return m + f;
}
