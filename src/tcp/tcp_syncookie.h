/* SYN cookies (RFC 4987 section 3.6): when a listener's backlog is full, the
 * SYN-ACK's sequence number carries everything the listener needs, and no
 * state is kept; the peer's ACK (ack - 1 = cookie) recreates the flow.
 *
 * Cookie layout (32 bits):  t:5 | mss:3 | mac:24
 *   t    the low 5 bits of a counter that ticks every 64 s;
 *   mss  index into a table of 8 MSS values (largest not above the peer's);
 *   mac  24 bits of SipHash-2-4 (the stack's ISN key) over the 4-tuple, the
 *        peer's ISN, the full counter and the MSS index.
 * A cookie is valid for the counter value it was made with and the next
 * one (64..128 s). Window scaling, SACK and timestamps are NOT offered in a
 * cookie SYN-ACK (only MSS): a flow opened from a cookie runs without them.
 * That costs throughput only for connections made while the listener is
 * overloaded, and keeps the design simple (no option bits in TSval). */
#ifndef OASIS_TCP_SYNCOOKIE_H
#define OASIS_TCP_SYNCOOKIE_H

#include <stdint.h>

#include "tcp/tcp_flow.h"

#define OASIS_SYNCOOKIE_PERIOD_NS (64ull * 1000000000ull)

/* The cookie for a SYN (pure function; exposed for tests). */
uint32_t oasis_syncookie_make(const uint8_t key[16], const oasis_ipaddr *laddr, uint16_t lport,
                              const oasis_ipaddr *raddr, uint16_t rport, uint32_t irs,
                              uint16_t peer_mss, uint64_t now_ns);
/* Checks cookie for the tuple and irs at now_ns: returns the MSS it encodes,
 * or 0 if it is not one we made in the last two periods. */
uint16_t oasis_syncookie_check(const uint8_t key[16], const oasis_ipaddr *laddr, uint16_t lport,
                               const oasis_ipaddr *raddr, uint16_t rport, uint32_t irs,
                               uint32_t cookie, uint64_t now_ns);

/* Listener with a full backlog got SYN h from src to our dst: answers
 * with a cookie SYN-ACK and keeps nothing. */
void oasis_tcp_cookie_synack(oasis_stack *s, oasis_tcp_listener *l, const oasis_ipaddr *src,
                             const oasis_ipaddr *dst, const oasis_tcp_hdr *h);
/* A bare ACK reached listener l: if cookies went out recently and the ACK
 * carries a valid one, creates the flow and feeds it the ACK (returns 1).
 * Returns 0 if the caller should treat it as before (RST). */
int oasis_tcp_cookie_ack(oasis_stack *s, oasis_tcp_listener *l, const oasis_ipaddr *src,
                         const oasis_ipaddr *dst, const oasis_tcp_hdr *h);

#endif
