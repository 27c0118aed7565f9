/* The in-memory wire: an Ethernet segment inside one process that connects
 * two or more stacks. Frames are copied onto the wire and delivered to every
 * other attached stack (a hub; stacks filter by destination MAC), in order,
 * after the wire's delay. The wire also drives its stacks: oasis_wire_run()
 * delivers frames and runs timers, and on a virtual clock jumps time forward
 * to the next event, so simulated minutes take milliseconds.
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

typedef struct oasis_wire_config {
    uint32_t mtu;          /* MTU of every port (1500) */
    uint64_t delay_ns;     /* one-way delay (0) */
    uint32_t queue_frames; /* frames in flight on the wire before new ones are dropped (65536) */
} oasis_wire_config;

void oasis_wire_config_init(oasis_wire_config *cfg);

/* Creates a wire on a clock (borrowed; shared with the stacks on it). */
int oasis_wire_create(oasis_clock *clock, const oasis_wire_config *cfg, oasis_wire **out);

/* Frees the wire and its ports (not the stacks; detach or destroy them
 * first, or never touch their links again). */
void oasis_wire_destroy(oasis_wire *w);

/* Adds a port for stack s and makes it s's link (oasis_stack_set_link).
 * Returns the port's link (owned by the wire), e.g. to attach a pcap. */
oasis_link *oasis_wire_attach(oasis_wire *w, oasis_stack *s);

/* Delivers every frame whose time has come and runs every due timer of every
 * attached stack, repeating until nothing more is due now. Returns the number
 * of frames delivered plus timers fired. */
size_t oasis_wire_step(oasis_wire *w);

/* Earliest future event: a frame in flight or a stack timer (UINT64_MAX: none). */
uint64_t oasis_wire_next_deadline(const oasis_wire *w);

/* Runs the wire until done(ud) returns nonzero (checked after every step),
 * until nothing is left to do (no frame in flight, no timer), or until
 * timeout_ns of clock time have passed. A virtual clock jumps to the next
 * event; a real clock sleeps until it. Returns 0 when done() said so,
 * OASIS_ETIMEDOUT on timeout, OASIS_EAGAIN when idle with nothing to do.
 * done may be NULL (run until idle or timeout). */
int oasis_wire_run(oasis_wire *w, int (*done)(void *ud), void *ud, uint64_t timeout_ns);

/* Frames the wire dropped because its queue was full. */
uint64_t oasis_wire_drops(const oasis_wire *w);

#ifdef __cplusplus
}
#endif
#endif
