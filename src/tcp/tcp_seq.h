/* Sequence-number arithmetic modulo 2^32 (RFC 9293 section 3.4). */
#ifndef OASIS_TCP_SEQ_H
#define OASIS_TCP_SEQ_H

#include <stdint.h>

static inline int32_t oasis_seq_diff(uint32_t a, uint32_t b) { return (int32_t)(a - b); }
static inline int oasis_seq_lt(uint32_t a, uint32_t b) { return oasis_seq_diff(a, b) < 0; }
static inline int oasis_seq_le(uint32_t a, uint32_t b) { return oasis_seq_diff(a, b) <= 0; }
static inline int oasis_seq_gt(uint32_t a, uint32_t b) { return oasis_seq_diff(a, b) > 0; }
static inline int oasis_seq_ge(uint32_t a, uint32_t b) { return oasis_seq_diff(a, b) >= 0; }
static inline uint32_t oasis_seq_max(uint32_t a, uint32_t b) { return oasis_seq_gt(a, b) ? a : b; }
static inline uint32_t oasis_seq_min(uint32_t a, uint32_t b) { return oasis_seq_lt(a, b) ? a : b; }
/* a <= x < b, modulo 2^32 */
static inline int oasis_seq_in(uint32_t x, uint32_t a, uint32_t b) { return x - a < b - a; }

/* RFC 9293 3.10.7.4 first step: is a segment of SEG.LEN len at seq
 * acceptable to a receive window [rcv_nxt, rcv_nxt + wnd)? */
static inline int oasis_seq_acceptable(uint32_t seq, uint32_t len, uint32_t rcv_nxt, uint32_t wnd)
{
    if (wnd == 0)
        return seq == rcv_nxt;
    uint32_t end = rcv_nxt + wnd;
    return oasis_seq_in(seq, rcv_nxt, end) || (len > 0 && oasis_seq_in(seq + len - 1, rcv_nxt, end));
}

#endif
