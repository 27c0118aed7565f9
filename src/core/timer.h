/* Timers: embedded in the structure that owns them, kept in an intrusive
 * pairing heap on the stack, so starting or stopping one never allocates and
 * cannot fail. Timers with equal deadlines fire in the order they were
 * started, which keeps runs deterministic. (TCP's callbacks, due after
 * every completion, need no timer: the stack's tcp_due, see stack_impl.h.) */
#ifndef OASIS_CORE_TIMER_H
#define OASIS_CORE_TIMER_H

#include <stddef.h>
#include <stdint.h>

typedef struct oasis_stack oasis_stack;
typedef struct oasis_timer oasis_timer;
typedef void (*oasis_timer_fn)(oasis_stack *s, oasis_timer *t);

struct oasis_timer {
    uint64_t deadline;
    uint64_t seq;
    oasis_timer_fn fn;
    oasis_timer *child, *sibling, *prev; /* heap links; prev == NULL and not root: idle */
    int active;                          /* 1 in the heap */
};

/* The heap root lives in the stack. */
typedef struct oasis_timer_heap {
    oasis_timer *root;
    uint64_t next_seq;
    size_t count;
} oasis_timer_heap;

#define oasis_container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

void oasis_timer_init(oasis_timer *t, oasis_timer_fn fn);

/* now + d, saturated: a duration meaning "forever" (UINT64_MAX) must not
 * wrap round to a deadline in the past. UINT64_MAX never comes due. */
static inline uint64_t oasis_deadline(uint64_t now, uint64_t d)
{
    return d > UINT64_MAX - now ? UINT64_MAX : now + d;
}

/* (Re)arms t to fire at the absolute clock time `deadline`. */
void oasis_timer_start(oasis_stack *s, oasis_timer *t, uint64_t deadline);

/* Disarms t; harmless if idle. */
void oasis_timer_stop(oasis_stack *s, oasis_timer *t);

static inline int oasis_timer_active(const oasis_timer *t) { return t->active; }

/* Runs every timer whose deadline is <= now; returns how many ran. A timer
 * callback may start or stop any timer, including its own. */
int oasis_timers_run(oasis_stack *s, uint64_t now);

/* 1 if oasis_timers_run(now) would run any: the heap's root is due. */
static inline int oasis_timers_due(const oasis_timer_heap *h, uint64_t now)
{
    return h->root && h->root->deadline <= now;
}

/* Earliest deadline or UINT64_MAX. */
uint64_t oasis_timers_next(const oasis_stack *s);

#endif
