/* The random stages of an impairment (oasis_impair, wire.h) that act on
 * one frame at a time: loss, Gilbert-Elliott burst loss, one-bit
 * corruption, and the draws for reordering and duplication. Shared by the
 * in-memory wire (link/wire.c) and the link filter (link/impair_link.c), so
 * both give a configuration the same meaning and a seed the same draws. */
#ifndef OASIS_LINK_IMPAIR_CORE_H
#define OASIS_LINK_IMPAIR_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/prng.h"
#include "oasis/wire.h"

/* One direction's random stream and burst state. */
typedef struct oasis_impair_state {
    oasis_prng prng;
    int ge_bad;    /* Gilbert-Elliott state */
    uint64_t ge_t; /* time of that state (ge_step_ns set) */
} oasis_impair_state;

/* 1 with probability p; draws nothing for p == 0, so a stage that is off
 * leaves the stream of the others as it was. */
static inline int oasis_impair_chance(oasis_impair_state *st, double p)
{
    return p > 0 && oasis_prng_double(&st->prng) < p;
}

/* What the loss stages did to a frame. */
enum { OASIS_IMPAIR_KEPT = 0, OASIS_IMPAIR_LOST = 1, OASIS_IMPAIR_BURST = 2 };

/* Random loss, then burst loss, for a frame leaving at time t (t matters
 * only with ge_step_ns). Returns OASIS_IMPAIR_KEPT, _LOST or _BURST. */
int oasis_impair_loses(oasis_impair_state *st, const oasis_impair *g, uint64_t t);

/* Corruption models what only the end-to-end checksums catch (a real
 * link's FCS catches the rest): IP frames longer than the Ethernet header;
 * ARP, which has no checksum, is spared. */
int oasis_impair_corruptible(const uint8_t *frame, size_t len);

/* Flips one bit, drawn uniformly, after the 14-byte Ethernet header. */
void oasis_impair_flip(oasis_impair_state *st, uint8_t *frame, size_t len);

#endif
