/* Out-of-order receive tracking: a bounded, sorted list of disjoint,
 * non-adjacent sequence ranges that have been received beyond rcv_nxt. The
 * bytes themselves are stored in the receive ring at their offset
 * (oasis_ring_write_at); this only remembers which ranges are filled, which
 * also yields SACK blocks.
 *
 * Ranges are ordered with sequence arithmetic, so they must all lie within
 * 2^31 of each other (they do: they sit inside one receive window). */
#ifndef OASIS_TCP_OFO_H
#define OASIS_TCP_OFO_H

#include <stdint.h>

#include "tcp/tcp_wire.h"

typedef struct oasis_stack oasis_stack;

typedef struct oasis_ofo {
    oasis_sack_block *r;   /* sorted ranges, allocated on first use */
    uint32_t n, cap;       /* cap grows up to max */
    uint32_t max;          /* bound on ranges kept */
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
/* Forgets every range (keeps the storage). */
void oasis_ofo_clear(oasis_ofo *o);

/* Records [left, right). Merges with overlapping or adjacent ranges. Returns
 * 0, OASIS_EAGAIN when the bound would be exceeded (nothing recorded; a range
 * that only merges into existing ones never hits the bound), OASIS_ENOMEM, or
 * OASIS_EINVAL when right is not after left (an empty range, left == right,
 * is accepted and ignored). The caller keeps left beyond rcv_nxt. */
int oasis_ofo_add(oasis_stack *s, oasis_ofo *o, uint32_t left, uint32_t right);

/* rcv_nxt advanced to `nxt`: drops ranges at or below it. If the first range
 * starts at or before nxt, it is removed and its right edge returned (the new
 * rcv_nxt); else nxt is returned unchanged. */
uint32_t oasis_ofo_advance(oasis_ofo *o, uint32_t nxt);

/* Fills up to max SACK blocks, the most recently changed range first, then
 * the other recently changed ones, then the rest in sequence order
 * (RFC 2018 section 4). Returns the count. */
uint32_t oasis_ofo_sack(const oasis_ofo *o, oasis_sack_block *out, uint32_t max);

static inline int oasis_ofo_empty(const oasis_ofo *o) { return o->n == 0; }

#endif
