#define _POSIX_C_SOURCE 200809L
#include "oasis/clock.h"
#include "oasis/error.h"

#include <stdlib.h>
#include <time.h>

enum clock_kind { CLOCK_KIND_MONO, CLOCK_KIND_VIRTUAL, CLOCK_KIND_CUSTOM };

struct oasis_clock {
    enum clock_kind kind;
    uint64_t now; /* virtual clocks */
    uint64_t (*fn)(void *ud);
    void *ud;
};

static oasis_clock *clock_new(enum clock_kind kind)
{
    oasis_clock *c = calloc(1, sizeof *c);
    if (c)
        c->kind = kind;
    return c;
}

oasis_clock *oasis_clock_new_monotonic(void) { return clock_new(CLOCK_KIND_MONO); }

oasis_clock *oasis_clock_new_virtual(uint64_t start_ns)
{
    oasis_clock *c = clock_new(CLOCK_KIND_VIRTUAL);
    if (c)
        c->now = start_ns;
    return c;
}

oasis_clock *oasis_clock_new_custom(uint64_t (*now)(void *ud), void *ud)
{
    if (!now)
        return NULL;
    oasis_clock *c = clock_new(CLOCK_KIND_CUSTOM);
    if (c) {
        c->fn = now;
        c->ud = ud;
    }
    return c;
}

void oasis_clock_free(oasis_clock *c) { free(c); }

uint64_t oasis_clock_now(const oasis_clock *c)
{
    if (!c)
        return 0;
    switch (c->kind) {
    case CLOCK_KIND_VIRTUAL:
        return c->now;
    case CLOCK_KIND_CUSTOM:
        return c->fn(c->ud);
    case CLOCK_KIND_MONO:
    default: {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * OASIS_NS_PER_SEC + (uint64_t)ts.tv_nsec;
    }
    }
}

int oasis_clock_is_virtual(const oasis_clock *c) { return c && c->kind == CLOCK_KIND_VIRTUAL; }

int oasis_clock_advance(oasis_clock *c, uint64_t delta_ns)
{
    if (!c || c->kind != CLOCK_KIND_VIRTUAL)
        return OASIS_EINVAL;
    c->now = delta_ns > UINT64_MAX - c->now ? UINT64_MAX : c->now + delta_ns; /* never backwards */
    return OASIS_OK;
}

int oasis_clock_set(oasis_clock *c, uint64_t now_ns)
{
    if (!c || c->kind != CLOCK_KIND_VIRTUAL)
        return OASIS_EINVAL;
    if (now_ns > c->now)
        c->now = now_ns;
    return OASIS_OK;
}
