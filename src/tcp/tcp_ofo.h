/* Out-of-order receive store: a bounded, sorted list of disjoint,
 * non-adjacent sequence ranges received beyond rcv_nxt, each with its bytes.
 * The ranges also yield SACK blocks.
 *
 * Memory: each range holds its own bytes in one allocation, so what a flow
 * pays for out-of-order data follows what it holds (a range that grows to
 * the right doubles its storage: at most twice its length), never the
 * distance from rcv_nxt. The receive ring gets the bytes only once they are
 * in order (oasis_ofo_advance). The caller accepts out-of-order data only
 * within the window it advertised, which bounds the total.
 *
 * Overlap policy: the first copy wins. Bytes already held keep their value;
 * a later segment only fills the gaps between them. This is the policy of
 * IP reassembly (src/ip/reasm.c): a retransmission cannot rewrite bytes a
 * checker may already have seen, and TCP's own delivery agrees (tcp_input.c
 * merges an in-order segment that reaches a held range the same way).
 *
 * Ranges are ordered with sequence arithmetic, so they must all lie within
 * 2^31 of each other (they do: they sit inside one receive window). */
#ifndef OASIS_TCP_OFO_H
#define OASIS_TCP_OFO_H

#include <stdint.h>

#include "tcp/tcp_buf.h"
#include "tcp/tcp_wire.h"

typedef struct oasis_stack oasis_stack;

typedef struct oasis_ofo_range {
    uint32_t left, right;  /* [left, right) */
    uint8_t *data;         /* its right - left bytes */
    uint32_t size;         /* bytes allocated at data */
} oasis_ofo_range;

typedef struct oasis_ofo {
    oasis_ofo_range *r;    /* sorted ranges, allocated on first use */
    uint32_t n, cap;       /* cap grows up to max */
    uint32_t max;          /* bound on ranges kept */
    uint32_t bytes;        /* bytes held (sum of the ranges' lengths) */
    uint32_t last;         /* left edge of the most recently changed range (== recent[0]) */
    /* Recently changed ranges, most recent first, each remembered by one
     * sequence number inside it (a left edge when it was added). A number
     * stays valid when its range later merges into a bigger one; numbers
     * whose range is gone are skipped. Gives the SACK order of RFC 2018. */
    uint32_t recent[OASIS_TCP_MAX_SACK];
    uint32_t nrecent;
} oasis_ofo;

void oasis_ofo_init(oasis_ofo *o, uint32_t max_ranges);
/* Frees the storage; the list is empty (and reusable) afterwards. */
void oasis_ofo_fini(oasis_stack *s, oasis_ofo *o);
/* Forgets every range and its bytes (keeps the range array). */
void oasis_ofo_clear(oasis_stack *s, oasis_ofo *o);

/* Records [left, right) with its bytes (data: right - left of them).
 * Merges with overlapping or adjacent ranges; where it overlaps bytes
 * already held, those win. Returns 0, OASIS_EAGAIN when the bound would be
 * exceeded (nothing recorded; a range that only merges into existing ones
 * never hits the bound), OASIS_ENOMEM (nothing changed), or OASIS_EINVAL
 * when right is not after left (an empty range, left == right, is accepted
 * and ignored). The caller keeps left at or beyond rcv_nxt. */
int oasis_ofo_add(oasis_stack *s, oasis_ofo *o, uint32_t left, uint32_t right,
                  const uint8_t *data);

/* rcv_nxt is `nxt`: drops (frees) ranges ending at or below it. If the first
 * range starts at or before nxt, its bytes from nxt on are appended to dst
 * (NULL: discarded) and, when all were taken, the range goes; returns the
 * sequence number after the last byte taken (the new rcv_nxt), else nxt. */
uint32_t oasis_ofo_advance(oasis_stack *s, oasis_ofo *o, uint32_t nxt, oasis_ring *dst);

/* Forgets every byte held at or beyond seq (the peer's FIN is there:
 * nothing follows it). */
void oasis_ofo_trim(oasis_stack *s, oasis_ofo *o, uint32_t seq);

/* Fills up to max SACK blocks, the most recently changed range first, then
 * the other recently changed ones, then the rest in sequence order
 * (RFC 2018 section 4). Returns the count. */
uint32_t oasis_ofo_sack(const oasis_ofo *o, oasis_sack_block *out, uint32_t max);

static inline int oasis_ofo_empty(const oasis_ofo *o) { return o->n == 0; }

#endif
