/* Initial sequence numbers per RFC 6528: ISN = M + F(localip, localport,
 * remoteip, remoteport, secretkey), M a 4-microsecond timer and F SipHash-2-4
 * keyed with a per-stack secret. Also the keyed hash used for SYN cookies. */
#ifndef OASIS_TCP_ISN_H
#define OASIS_TCP_ISN_H

#include <stddef.h>
#include <stdint.h>

#include "core/siphash.h"
#include "oasis/addr.h"


/* M + F: M = now_ns / 4000 (mod 2^32), F = low 32 bits of SipHash-2-4 over
 * laddr, lport, raddr, rport: IPv4 as 4 bytes each (12 bytes, big endian),
 * IPv6 as 16 bytes each (36 bytes). Deterministic: same inputs, same ISN. */
uint32_t oasis_tcp_isn(const uint8_t key[16], const oasis_ipaddr *laddr, uint16_t lport,
                       const oasis_ipaddr *raddr, uint16_t rport, uint64_t now_ns);

#endif
