/* The in-memory wire: an Ethernet segment inside one process that connects
 * two or more stacks. Frames are copied onto the wire and delivered by a
 * switch (unicast to the port that owns the destination MAC, broadcast and
 * unknown unicast to every other port) after the wire's delay. The wire also
 * drives its stacks: oasis_wire_run() delivers frames and runs timers, and on
 * a virtual clock jumps time forward to the next event, so simulated minutes
 * take milliseconds.
 *
 * Impairments. Every direction (sending port -> receiving port) is a channel
 * that can be made lossy, bursty, reordering, duplicating, corrupting, slow
 * and jittery, or narrow (a bottleneck with a bounded queue); see
 * oasis_impair. All randomness comes from the wire's seed (one PRNG stream
 * per channel), so a seed replays the same run exactly.
 */
#ifndef OASIS_WIRE_H
#define OASIS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "oasis/clock.h"
#include "oasis/link.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oasis_stack oasis_stack;
typedef struct oasis_wire oasis_wire;

/* Delays (the wire's and oasis_impair's delay_ns, jitter_ns and
 * reorder_delay_ns) above this (2^60 ns, 36 years) count as this. */
#define OASIS_WIRE_MAX_DELAY_NS (UINT64_C(1) << 60)

typedef struct oasis_wire_config {
    uint32_t mtu;          /* MTU of every port (1500) */
    uint64_t delay_ns;     /* one-way delay (0; see OASIS_WIRE_MAX_DELAY_NS) */
    uint32_t queue_frames; /* frames in flight on the wire before new ones are dropped (65536) */
    uint64_t seed;         /* seeds the impairments' randomness (1) */
    /* 1: every port offers offloads (oasis/link.h: TSO4, TSO6, CSUM_TX, RX_GRO,
     * RX_CSUM; gso_max 64 KiB), like a veth pair: a super-segment or a
     * partial checksum reaches the other stack as it was sent. A direction
     * with a bottleneck, loss, corruption, reordering or duplication set,
     * and ports without a stack, get plain frames instead (cut and
     * checksummed as a NIC would before the medium), so those hit single
     * frames; delay and jitter carry it whole. (0) */
    int offload;
} oasis_wire_config;

/* Fills cfg with the defaults above (NULL is ignored). */
void oasis_wire_config_init(oasis_wire_config *cfg);

/* Creates a wire on a clock (borrowed; shared with the stacks on it). */
int oasis_wire_create(oasis_clock *clock, const oasis_wire_config *cfg, oasis_wire **out);

/* Frees the wire and its ports (not the stacks). Stacks still attached
 * are detached first: their link becomes NULL (a link of the application
 * that wraps a port's goes on pointing at it: set another first). Returns
 * 0 (NULL is accepted), or OASIS_EBUSY, freeing nothing, from inside
 * oasis_wire_step or oasis_wire_run (a callback of a stack on it, done())
 * or the observer: they go on using the wire when the call returns. */
int oasis_wire_destroy(oasis_wire *w);

/* Adds a port for stack s and makes it s's link (oasis_stack_set_link).
 * Returns the port's link (owned by the wire), e.g. to attach a pcap, or
 * NULL (out of memory, or s is already on this or another wire: detach it
 * first). The port delivers to s and polls it until oasis_wire_detach,
 * whatever link s sends on meanwhile: a link that wraps the port's (a
 * recorder, a filter) may be set with oasis_stack_set_link and keeps the
 * stack on the wire. To move s elsewhere, detach it. */
oasis_link *oasis_wire_attach(oasis_wire *w, oasis_stack *s);

/* Takes stack s off the wire (its link becomes NULL; frames still on the
 * wire for it are dropped). oasis_stack_destroy() does this itself, after
 * the RSTs of the flows it resets went out, so no frame reaches a freed
 * stack (also when a callback of another stack on the wire destroys it).
 * Returns 0 or OASIS_ENOENT. */
int oasis_wire_detach(oasis_wire *w, oasis_stack *s);

/* Delivers every frame whose time has come and runs every due timer of every
 * attached stack, repeating until nothing more is due now (or for a bounded
 * number of rounds under a steady stream, so callers regain control). Returns the number
 * of frames delivered plus timers fired. A clock that is not virtual is read
 * at the step's start and again after every 16 frames delivered, not every
 * round: the stacks on the wire's clock take that instant too, and a frame
 * sent in a round is delivered in the next. A virtual clock is read at every
 * round. 0 for w NULL. */
size_t oasis_wire_step(oasis_wire *w);

/* Earliest future event: a frame in flight or a stack timer (UINT64_MAX: none,
 * or w NULL). */
uint64_t oasis_wire_next_deadline(const oasis_wire *w);

/* Runs the wire until done(ud) returns nonzero (checked after every step),
 * until nothing is left to do (no frame in flight, no timer), or until
 * timeout_ns of clock time have passed. A virtual clock jumps to the next
 * event; a real clock sleeps until it. Returns 0 when done() said so,
 * OASIS_ETIMEDOUT on timeout, OASIS_EAGAIN when idle with nothing to do.
 * done may be NULL (run until idle or timeout).
 * A stack may read a clock of its own that lags the wire's virtual clock
 * (e.g. one that rounds it down to a tick): a deadline it sets may then be
 * past in the wire's time but not yet due in its own. When a step at the
 * same instant has run nothing twice, the run moves the virtual clock on by
 * 1 ns, then 2, 4 ... (never past the next event) until something runs: at
 * most twice as far as the stack's clock needed. OASIS_EINVAL for w NULL. */
int oasis_wire_run(oasis_wire *w, int (*done)(void *ud), void *ud, uint64_t timeout_ns);

/* Frames the wire dropped because its queue was full (0 for w NULL). */
uint64_t oasis_wire_drops(const oasis_wire *w);

/* ---- endpoints without a stack ---------------------------------------- */

/* Receives one frame (borrowed: copy what you keep) at the clock's time. */
typedef void (*oasis_wire_rx_fn)(void *ud, const uint8_t *frame, size_t len);

/* Adds a port owned by the caller instead of a stack (a capture device, a
 * fuzzer, a hand-written peer): frames for `mac` (and broadcasts) go to rx;
 * the caller sends with the returned link's send(). */
oasis_link *oasis_wire_attach_endpoint(oasis_wire *w, const uint8_t mac[6], oasis_wire_rx_fn rx,
                                       void *ud);

/* ---- impairments ------------------------------------------------------ */

/* What one direction does to the frames it carries. Zero everywhere (see
 * oasis_impair_init) is a perfect channel. Probabilities are in [0, 1].
 *
 * A frame goes through these stages in order:
 *  1. bottleneck: with rate_bps set, frames queue behind each other and leave
 *     one after another, each taking len*8/rate_bps seconds (len: the whole
 *     Ethernet frame as sent, without FCS or preamble). A frame that finds
 *     the queue full (queue_frames frames or queue_bytes bytes waiting or in
 *     transmission) is dropped (tail drop). queue_frames 0 and queue_bytes 0:
 *     bounded by the wire's queue_frames only.
 *  2. random loss with probability `loss`, independent per frame.
 *  3. burst loss (Gilbert-Elliott, on when ge_p_good_bad > 0): a two-state
 *     chain (good->bad with ge_p_good_bad, bad->good with ge_p_bad_good),
 *     then the frame is lost with ge_loss_good or ge_loss_bad depending on
 *     the new state. With ge_step_ns 0 the chain steps once per frame, so
 *     with ge_loss_good 0 and ge_loss_bad 1 bursts last 1/ge_p_bad_good
 *     FRAMES on average, however far apart the frames are. With ge_step_ns
 *     set the chain runs on the clock: the probabilities are per ge_step_ns
 *     (as rates of a continuous-time chain), a bad period lasts
 *     ge_step_ns/ge_p_bad_good and a good one ge_step_ns/ge_p_good_bad on
 *     average, and a frame sees the state at the time it leaves the
 *     bottleneck: a link's fades last a time, not a number of frames.
 *  4. corruption with probability `corrupt`: ONE bit is flipped somewhere
 *     after the 14-byte Ethernet header, so the frame still reaches the
 *     stack and the IPv4/TCP/UDP/ICMP checksums must catch it (a single bit
 *     flip always changes a ones'-complement sum). ARP frames are never
 *     corrupted: ARP has no checksum, a real link's FCS would catch it.
 *  5. delay: the wire's delay_ns + delay_ns + uniform [0, jitter_ns]. Jitter
 *     never reorders: a frame is never due before the one sent before it.
 *  6. reordering with probability `reorder`: the frame is held back another
 *     reorder_delay_ns (0: 1 ms), so frames sent after it overtake it.
 *  7. duplication with probability `duplicate`: a second copy is delivered
 *     right after the first.
 *
 * Congestion marking, as an ECN-capable AQM router does it (RFC 3168 5),
 * comes before all of these: a frame is "congested" with probability
 * ce_mark, or when ce_queue_frames is set (with rate_bps) and at least that
 * many frames are already waiting in the bottleneck as it arrives. A
 * congested IPv4 or IPv6 frame whose ECN field says ECT(0) or ECT(1) is
 * marked CE (the IPv4 header checksum is made right again) and goes on; a
 * congested Not-ECT frame is dropped instead (dropped_mark); a CE frame
 * stays CE; other frames (ARP) are never congested.
 */
typedef struct oasis_impair {
    double loss;
    double ge_p_good_bad, ge_p_bad_good;
    double ge_loss_good, ge_loss_bad;
    uint64_t ge_step_ns;   /* 0: the chain steps per frame; else per this much time */
    double corrupt;
    uint64_t delay_ns, jitter_ns;
    double reorder;
    uint64_t reorder_delay_ns;
    double duplicate;
    uint64_t rate_bps;
    uint32_t queue_frames, queue_bytes;
    double ce_mark;           /* probability a frame is congested (above) */
    uint32_t ce_queue_frames; /* bottleneck depth from which every frame is (0: off) */
} oasis_impair;

/* Zeroes cfg: no impairment (NULL is ignored). */
void oasis_impair_init(oasis_impair *cfg);

/* Sets the impairments of the direction from port `from` to port `to` (links
 * returned by attach). to == NULL: every direction out of `from`, including
 * to ports attached later. cfg == NULL clears them. May be called at any
 * time (e.g. cut a link with loss = 1 and heal it later); the channel's
 * random stream, burst state and queue carry on. OASIS_EINVAL for a foreign
 * link or a probability outside [0, 1]. */
int oasis_wire_impair(oasis_wire *w, const oasis_link *from, const oasis_link *to,
                      const oasis_impair *cfg);

/* Per-direction counters, in frames. Every frame sent is eventually
 * delivered, dropped for exactly one reason, or still in flight:
 * sent + duplicated = delivered + dropped_* + in flight. */
typedef struct oasis_wire_stats {
    uint64_t sent;            /* frames the sender put on this direction */
    uint64_t bytes_sent;
    uint64_t delivered;       /* handed to the receiver (duplicates included) */
    uint64_t bytes_delivered;
    uint64_t dropped_loss;    /* random loss */
    uint64_t dropped_burst;   /* Gilbert-Elliott loss */
    uint64_t dropped_queue;   /* bottleneck tail drop */
    uint64_t dropped_full;    /* the wire's own queue_frames limit */
    uint64_t corrupted;       /* delivered with a flipped bit */
    uint64_t reordered;       /* held back by reorder_delay_ns */
    uint64_t duplicated;      /* extra copies made */
    uint64_t ce_marked;       /* ECT frames marked CE (delivered, counted there too) */
    uint64_t dropped_mark;    /* congested Not-ECT frames dropped instead of marked */
} oasis_wire_stats;

/* Counters of the direction from -> to, or summed over every direction out
 * of `from` when to == NULL, or over the whole wire when both are NULL.
 * OASIS_EINVAL for a foreign link. */
int oasis_wire_stats_get(const oasis_wire *w, const oasis_link *from, const oasis_link *to,
                         oasis_wire_stats *out);

/* ---- observing ---------------------------------------------------------- */

/* Called once per frame a port sends, per destination, when the wire has
 * decided its fate (from inside the sender's send call): intact is 1 when
 * the frame will reach `to` unaltered at due_ns (a duplicate arrives at the
 * same time; a CE mark counts as unaltered: the receiver gets it), 0 when
 * it is dropped (any reason) or will arrive corrupted,
 * i.e. the receiver never gets it; due_ns is then 0. sent_ns is the send
 * time. A checker uses it to know what the link really did (e.g. whether a
 * Timeout was the link's doing). oasis_stack_destroy() of the sending
 * stack from it is refused (OASIS_EBUSY). */
typedef void (*oasis_wire_observer)(void *ud, const oasis_link *from, const oasis_link *to,
                                    const uint8_t *frame, size_t len, int intact,
                                    uint64_t sent_ns, uint64_t due_ns);

/* Sets (fn NULL: clears) the wire's one observer; w NULL is ignored. */
void oasis_wire_observe(oasis_wire *w, oasis_wire_observer fn, void *ud);

#ifdef __cplusplus
}
#endif
#endif
