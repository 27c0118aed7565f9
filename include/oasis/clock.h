/* Clocks. Every stack reads time from an oasis_clock, so tests can run on a
 * virtual clock that they advance by hand: a simulated minute then takes
 * microseconds and every run is deterministic.
 *
 * Times are nanoseconds on an arbitrary monotonic origin (uint64_t).
 * A clock may be shared by several stacks (e.g. all stacks on one wire).
 */
#ifndef OASIS_CLOCK_H
#define OASIS_CLOCK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OASIS_NS_PER_US 1000ull
#define OASIS_NS_PER_MS 1000000ull
#define OASIS_NS_PER_SEC 1000000000ull

typedef struct oasis_clock oasis_clock;

/* The operating system's monotonic clock (CLOCK_MONOTONIC). */
oasis_clock *oasis_clock_new_monotonic(void);

/* A virtual clock that starts at start_ns and only moves when told to. */
oasis_clock *oasis_clock_new_virtual(uint64_t start_ns);

/* A clock whose time comes from the caller's function (e.g. an RTOS tick);
 * NULL when now is NULL (or out of memory). */
oasis_clock *oasis_clock_new_custom(uint64_t (*now)(void *ud), void *ud);

/* NULL is accepted. */
void oasis_clock_free(oasis_clock *c);

/* The time; 0 for c NULL. */
uint64_t oasis_clock_now(const oasis_clock *c);

/* 1 for a virtual clock, 0 otherwise (NULL too). */
int oasis_clock_is_virtual(const oasis_clock *c);

/* Virtual clocks only: move forward by delta / to an absolute time (never
 * backwards; an earlier time is ignored). Return OASIS_EINVAL on a real
 * clock or NULL. */
int oasis_clock_advance(oasis_clock *c, uint64_t delta_ns);
int oasis_clock_set(oasis_clock *c, uint64_t now_ns);

#ifdef __cplusplus
}
#endif
#endif
