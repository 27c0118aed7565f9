/* Initial sequence numbers per RFC 6528: ISN = M + F(localip, localport,
 * remoteip, remoteport, secretkey), M a 4-microsecond timer and F SipHash-2-4
 * keyed with a per-stack secret. Also the keyed hash used for SYN cookies. */
#ifndef OASIS_TCP_ISN_H
#define OASIS_TCP_ISN_H

#include <stddef.h>
#include <stdint.h>

#include "core/siphash.h"


/* M + F: M = now_ns / 4000 (mod 2^32), F = low 32 bits of SipHash-2-4 over
 * laddr, lport, raddr, rport (big endian, 12 bytes). Addresses and ports
 * host order. Deterministic: same inputs, same ISN. */
uint32_t oasis_tcp_isn(const uint8_t key[16], uint32_t laddr, uint16_t lport, uint32_t raddr,
                       uint16_t rport, uint64_t now_ns);

#endif
