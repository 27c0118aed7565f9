/* ICMP: the stack answers echo requests and sends errors by itself; this is
 * the ping API for applications. */
#ifndef OASIS_ICMP_H
#define OASIS_ICMP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oasis_stack oasis_stack;

/* Completion of one echo request: err is 0 with the round-trip time, or
 * OASIS_ETIMEDOUT (no reply within the timeout), OASIS_EUNREACH (ARP
 * resolution failed, or gave up when the cache evicted the unresolved
 * entry for another (then from the stack's next poll, never inside the
 * call that evicted), or an ICMP unreachable came back), OASIS_ECANCELED
 * (the stack was destroyed). */
typedef void (*oasis_ping_cb)(oasis_stack *s, int err, uint16_t seq, uint64_t rtt_ns, void *ud);

/* Sends one ICMP echo request to dst with `payload_len` bytes of pattern data
 * and the given identifier and sequence number. The callback runs exactly
 * once. timeout_ns UINT64_MAX: no timeout (the reply, an unreachable or
 * the stack's end completes it). To a multicast group, the subnet
 * broadcast or 255.255.255.255, members and hosts answer from their own
 * addresses (RFC 1122 3.2.2.6): the first reply from any address
 * completes it. Returns 0, or an oasis_err (then the callback never
 * runs): OASIS_ENOROUTE also while the stack has no address, but to
 * 127/8 (0.0.0.0 is no source for a ping: RFC 1122 3.2.1.3). */
int oasis_ping(oasis_stack *s, uint32_t dst, uint16_t id, uint16_t seq, size_t payload_len,
               uint64_t timeout_ns, oasis_ping_cb cb, void *ud);

#ifdef __cplusplus
}
#endif
#endif
