/* An event loop for a stack on a TAP device (Linux).
 *
 * The loop sleeps until a frame arrives on the TAP device, a watched file
 * descriptor is ready, or the stack's next timer is due; then it hands the
 * waiting frames to the stack (in batches), runs due timers, and calls the
 * watchers. Callbacks of the stack (TCP completions, ping replies...) run
 * from inside oasis_loop_run().
 *
 * The loop is a convenience: a program with its own event loop drives the
 * stack itself (see tap.h), waiting on oasis_tap_fd() with a timeout of
 * oasis_stack_next_deadline() minus oasis_stack_now(), then calling
 * oasis_tap_input() and oasis_stack_poll().
 *
 * Stopping: oasis_loop_stop() from any callback, a signal flag that a signal
 * handler sets (oasis_loop_set_stop_flag), a `done` predicate, or a timeout.
 */
#ifndef OASIS_LOOP_H
#define OASIS_LOOP_H

#include <signal.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oasis_stack oasis_stack;
typedef struct oasis_tap oasis_tap;
typedef struct oasis_loop oasis_loop;

/* Called when a watched fd is ready; `revents` holds poll(2) bits. */
typedef void (*oasis_fd_cb)(oasis_loop *l, int fd, short revents, void *ud);

/* Creates a loop for stack s on TAP device tap (both borrowed; the stack's
 * clock must be a real one). Returns 0, OASIS_EINVAL or OASIS_ENOMEM. */
int oasis_loop_create(oasis_stack *s, oasis_tap *tap, oasis_loop **out);
/* Frees the loop (NULL is accepted): 0, or OASIS_EBUSY, freeing nothing,
 * from inside oasis_loop_run (a watcher, done, a stack callback). */
int oasis_loop_destroy(oasis_loop *l);

/* Frames read from the TAP per batch before timers run again (64).
 *
 * A wakeup normally drains the device: reads until one finds nothing. A
 * peer that sends one segment and waits for the answer (request/response)
 * wakes the loop with one frame each time, and that last empty read is then
 * one system call in four per round trip (ppoll, read, read, writev). So
 * after 4 wakeups in a row that found exactly one frame, the loop reads one
 * frame per wakeup and lets the next wait say whether more are queued (it
 * returns at once if so); every 16th wakeup drains again, which takes it
 * back to draining when frames come in bursts. l NULL is ignored, as by the
 * other setters below (oasis_loop_set_stop_flag, oasis_loop_stop). */
void oasis_loop_set_batch(oasis_loop *l, unsigned frames);

/* What the loop did with the TAP device since it was created: wakeups (the
 * wait found the device readable), frames read, and reads that found no
 * frame (a drain's last read, or a wakeup with nothing to read). A drain
 * reads at most 16 batches, then lets the step end (done, the timeout and
 * the other watches get their turn) and the next wait take up the rest:
 * drain_yields counts those, max_drain is the most frames one wakeup read.
 * l NULL: all zero; out NULL: nothing written. */
typedef struct oasis_loop_counts {
    uint64_t wakeups, frames, empty_reads;
    uint64_t drain_yields, max_drain;
} oasis_loop_counts;
void oasis_loop_counts_get(const oasis_loop *l, oasis_loop_counts *out);

/* Watches fd for `events` (POLLIN, POLLOUT); events 0 removes the watch.
 * At most 8 watches. Returns 0, OASIS_EINVAL or OASIS_ENOMEM (full). */
int oasis_loop_watch(oasis_loop *l, int fd, short events, oasis_fd_cb cb, void *ud);

/* The loop returns when *flag becomes nonzero (set it from a signal
 * handler: the loop's wait is interrupted by the signal). NULL: no flag. */
void oasis_loop_set_stop_flag(oasis_loop *l, volatile sig_atomic_t *flag);

/* Makes oasis_loop_run() return after the current step. */
void oasis_loop_stop(oasis_loop *l);

/* Runs until done(ud) returns nonzero (checked after each step; done may be
 * NULL), oasis_loop_stop(), the stop flag, or timeout_ns has passed
 * (UINT64_MAX: no timeout). Returns 0 (done, stop or flag), OASIS_ETIMEDOUT,
 * or OASIS_EIO when the TAP device or the wait failed, OASIS_EINVAL for l
 * NULL. While it runs, destroying the
 * stack or the loop is refused (OASIS_EBUSY): stop the loop instead and
 * destroy them once it returned. */
int oasis_loop_run(oasis_loop *l, int (*done)(void *ud), void *ud, uint64_t timeout_ns);

/* The loop's stack (NULL for l NULL). */
oasis_stack *oasis_loop_stack(const oasis_loop *l);

#ifdef __cplusplus
}
#endif
#endif
