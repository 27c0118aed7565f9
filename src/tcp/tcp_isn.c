/* RFC 6528 initial sequence numbers. */
#include "tcp/tcp_isn.h"

#include "core/bytes.h"

uint32_t oasis_tcp_isn(const uint8_t key[16], uint32_t laddr, uint16_t lport, uint32_t raddr,
                       uint16_t rport, uint64_t now_ns)
{
    /* F's input in a fixed byte layout so the ISN does not depend on the
     * host's endianness. */
    uint8_t msg[12];
    oasis_put32(msg, laddr);
    oasis_put16(msg + 4, lport);
    oasis_put32(msg + 6, raddr);
    oasis_put16(msg + 10, rport);
    uint32_t f = (uint32_t)oasis_siphash24(key, msg, sizeof msg);
    uint32_t m = (uint32_t)(now_ns / 4000); /* 4 us ticks, wrapping mod 2^32 */
    return m + f;
}
