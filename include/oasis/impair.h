/* Impairment filter: a link that wraps another (a TAP device, a user's own
 * link) and loses, corrupts, reorders and duplicates the frames that cross
 * it, in each direction, so a stack's recovery can be tested against a real
 * peer (Linux over a TAP) where the kernel offers no netem.
 *
 *     oasis_impair_link_config cfg;
 *     oasis_impair_link_config_init(&cfg);
 *     cfg.out.loss = 0.01;          frames the stack sends
 *     cfg.in.loss = 0.01;           frames handed to oasis_impair_link_input
 *     oasis_impair_link *f;
 *     oasis_impair_link_create(oasis_tap_link(tap), &cfg, &f);
 *     oasis_stack_set_link(s, oasis_impair_link_link(f));
 *     oasis_tap_set_input_filter(tap, impair_input, f);   (tap.h)
 *
 * The stages are oasis_impair's (wire.h), drawn the same way from a seeded
 * stream per direction: random loss, Gilbert-Elliott burst loss stepped per
 * frame (or on a clock, below), one-bit corruption after the Ethernet
 * header (never ARP), then reordering and duplication. The filter runs no
 * timers, so the stages that would need one are refused (OASIS_ENOTSUP):
 * delay, jitter, a bottleneck (rate_bps, queue_*), reorder_delay_ns and
 * congestion marking (ce_*). Given a clock (cfg.clock), Gilbert-Elliott
 * may run on time (ge_step_ns, as on the wire: a burst lasts a time, so a
 * sender quiet for an RTO does not find the same burst waiting); without
 * one ge_step_ns is refused too. Reordering is counted in frames instead of time: a frame picked
 * for it is held until reorder_gap later frames of its direction have
 * crossed (a held outgoing frame also lets each incoming frame count, so
 * the peer's ACKs release the last segment of a burst).
 *
 * Impairments act on wire frames. A super-segment the stack sends with
 * TSO, or a coalesced segment the link hands up (GRO), is cut into the
 * frames it stands for first (with complete checksums, as a NIC would),
 * and each frame is impaired on its own: 1% loss loses 1% of the frames,
 * not 1% of 64 KiB bursts. A direction with nothing to do passes
 * super-segments and offload flags through untouched. An incoming frame
 * whose checksum the link vouched for (CSUM_VALID) or left partial loses
 * that flag when it is corrupted, so the stack verifies it and counts the
 * error (InCsumErrors) as it would a real one.
 *
 * In front of an IP link (OASIS_LINK_IP in the inner link's caps: a TUN
 * device) the filter is an IP link as well: what crosses it are IP packets,
 * impaired as frames are (corruption anywhere in the packet), and
 * oasis_impair_link_input hands them to oasis_stack_input_ip_offload, with
 * offload offsets from the IP header as the inner link's.
 *
 * All state is in the filter (no globals); it allocates with libc. One
 * filter serves one link and one stack, from one thread.
 */
#ifndef OASIS_IMPAIR_H
#define OASIS_IMPAIR_H

#include <stddef.h>
#include <stdint.h>

#include "oasis/clock.h"
#include "oasis/link.h"
#include "oasis/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oasis_stack oasis_stack;
typedef struct oasis_impair_link oasis_impair_link;

/* Directions, for the counters. */
enum { OASIS_IMPAIR_OUT = 0, OASIS_IMPAIR_IN = 1 };

/* Frames held back for reordering at once, per direction; a frame picked
 * for reordering while these are all held goes through in order. */
#define OASIS_IMPAIR_HELD_MAX 16

typedef struct oasis_impair_link_config {
    oasis_impair out;     /* frames the stack sends (oasis_impair_init: none) */
    oasis_impair in;      /* frames handed to oasis_impair_link_input (none) */
    uint32_t reorder_gap; /* later frames that overtake a held one (0: 3, enough
                             for three duplicate ACKs; at most 1000) */
    uint64_t seed;        /* seeds both directions' streams (1) */
    oasis_clock *clock;   /* borrowed; only read, for ge_step_ns (NULL: none) */
} oasis_impair_link_config;

/* Zeroes both directions (a perfect filter), reorder_gap 0 (3), seed 1.
 * NULL is ignored. */
void oasis_impair_link_config_init(oasis_impair_link_config *cfg);

/* Creates a filter in front of `inner` (borrowed: it must outlive the
 * filter). Returns 0, or:
 *   OASIS_EINVAL   inner, cfg or out NULL, inner without send, a
 *                  probability outside [0, 1] (or NaN), reorder_gap > 1000
 *   OASIS_ENOTSUP  a stage that needs timers (see above) is set, or
 *                  ge_step_ns without cfg.clock
 *   OASIS_ENOMEM */
int oasis_impair_link_create(oasis_link *inner, const oasis_impair_link_config *cfg,
                             oasis_impair_link **out);

/* Frees the filter; frames it still holds back are dropped. The stack
 * must not send on its link afterwards. NULL is accepted. */
void oasis_impair_link_destroy(oasis_impair_link *f);

/* The link to give the stack (oasis_stack_set_link): the inner link's MTU,
 * offload caps and gso_max; no frame lending. Set its pcap field to
 * capture what the stack sends (before impairment) and receives (after). */
oasis_link *oasis_impair_link_link(oasis_impair_link *f);

/* Hands the frame the inner link received (off: its offload information,
 * NULL for a plain frame) to stack s through the incoming impairments,
 * instead of oasis_stack_input_offload(s, frame, len, off). The frame is
 * borrowed: what is held back is copied. Frames held back are delivered to
 * the s of a later call: use one stack per filter. */
void oasis_impair_link_input(oasis_impair_link *f, oasis_stack *s, const uint8_t *frame,
                             size_t len, const oasis_offload *off);

/* Delivers every frame held back for reordering now: outgoing ones to the
 * inner link, incoming ones to s (NULL: those stay held). E.g. before a
 * program stops. NULL f is accepted. */
void oasis_impair_link_flush(oasis_impair_link *f, oasis_stack *s);

/* Per-direction counters, in wire frames (a super-segment counts as the
 * frames it was cut into). Every frame is delivered, dropped for one
 * reason, or held: sent + duplicated = delivered + dropped_loss +
 * dropped_burst + held. */
typedef struct oasis_impair_link_stats {
    uint64_t sent;          /* frames into this direction */
    uint64_t bytes_sent;
    uint64_t delivered;     /* handed on (to the inner link, or to the stack) */
    uint64_t dropped_loss;  /* random loss */
    uint64_t dropped_burst; /* Gilbert-Elliott loss */
    uint64_t corrupted;     /* handed on with one bit flipped */
    uint64_t reordered;     /* held back, then overtaken */
    uint64_t duplicated;    /* extra copies made */
    uint64_t segmented;     /* super-segments (or GRO frames) cut into frames */
    uint64_t held;          /* gauge: frames held back now */
} oasis_impair_link_stats;

/* Copies direction dir's counters (OASIS_IMPAIR_OUT or _IN) to *out.
 * Returns 0, or OASIS_EINVAL for a NULL argument or another dir. */
int oasis_impair_link_stats_get(const oasis_impair_link *f, int dir,
                                oasis_impair_link_stats *out);

#ifdef __cplusplus
}
#endif
#endif
