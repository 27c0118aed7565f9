/* The TAP event loop: ppoll() on the TAP fd and a few watched fds, with the
 * stack's next timer deadline as the timeout (nanosecond precision, so short
 * timers such as the delayed ACK are not rounded up to milliseconds). */
#include "oasis/loop.h"

#include "core/mem.h"
#include "core/stack_impl.h"
#include "oasis/error.h"
#include "oasis/stack.h"
#include "oasis/tap.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#define LOOP_MAX_WATCH 8
/* A signal that lands between the flag check and the wait would not wake us:
 * with a flag set, never sleep longer than this. */
#define LOOP_FLAG_MAX_WAIT_NS (200 * OASIS_NS_PER_MS)
/* Lone frames (loop.h, oasis_loop_set_batch): after this many wakeups in a
 * row with one frame each, one read per wakeup; every LOOP_LONE_PROBE-th
 * wakeup drains again. */
#define LOOP_LONE_ENTER 4
#define LOOP_LONE_PROBE 16
/* A drain stops after this many full batches, though the device still has
 * frames: the step ends, so loop_run's done and timeout and the other
 * watched descriptors get their turn (the next wait returns at once).
 * Without it, senders whose ACKs keep every batch full (many flows at
 * once) held one step for seconds. */
#define LOOP_DRAIN_BATCHES 16

typedef struct loop_watch {
    int fd;
    short events;
    oasis_fd_cb cb;
    void *ud;
} loop_watch;

struct oasis_loop {
    oasis_stack *stack;
    oasis_tap *tap;
    unsigned batch;
    unsigned lone;       /* wakeups in a row that drained exactly one frame */
    unsigned lone_reads; /* wakeups since, for the probing drain */
    oasis_loop_counts counts;
    int stopped;
    volatile sig_atomic_t *stop_flag;
    loop_watch watch[LOOP_MAX_WATCH];
    unsigned nwatch;
    unsigned running; /* nested oasis_loop_run calls */
};

int oasis_loop_create(oasis_stack *s, oasis_tap *tap, oasis_loop **out)
{
    if (!s || !tap || !out)
        return OASIS_EINVAL;
    oasis_loop *l = oasis_calloc(s, 1, sizeof *l);
    if (!l)
        return OASIS_ENOMEM;
    l->stack = s;
    l->tap = tap;
    l->batch = 64;
    *out = l;
    return OASIS_OK;
}

int oasis_loop_destroy(oasis_loop *l)
{
    if (!l)
        return OASIS_OK;
    if (l->running)
        return OASIS_EBUSY; /* oasis_loop_run goes on with it */
    oasis_free(l->stack, l);
    return OASIS_OK;
}

/* A NULL loop: the setters do nothing, oasis_loop_stack gives NULL. */
void oasis_loop_set_batch(oasis_loop *l, unsigned frames)
{
    if (l)
        l->batch = frames ? frames : 64;
}
void oasis_loop_set_stop_flag(oasis_loop *l, volatile sig_atomic_t *flag)
{
    if (l)
        l->stop_flag = flag;
}
void oasis_loop_stop(oasis_loop *l)
{
    if (l)
        l->stopped = 1;
}
oasis_stack *oasis_loop_stack(const oasis_loop *l) { return l ? l->stack : NULL; }

void oasis_loop_counts_get(const oasis_loop *l, oasis_loop_counts *out)
{
    if (out)
        *out = l ? l->counts : (oasis_loop_counts){0};
}

int oasis_loop_watch(oasis_loop *l, int fd, short events, oasis_fd_cb cb, void *ud)
{
    if (!l || fd < 0 || (events && !cb))
        return OASIS_EINVAL;
    for (unsigned i = 0; i < l->nwatch; i++) {
        if (l->watch[i].fd != fd)
            continue;
        if (events == 0) {
            l->watch[i] = l->watch[--l->nwatch];
            return OASIS_OK;
        }
        l->watch[i] = (loop_watch){fd, events, cb, ud};
        return OASIS_OK;
    }
    if (events == 0)
        return OASIS_OK;
    if (l->nwatch == LOOP_MAX_WATCH)
        return OASIS_ENOMEM;
    l->watch[l->nwatch++] = (loop_watch){fd, events, cb, ud};
    return OASIS_OK;
}

/* A callback may have removed a later watch: skip it then. */
static int still_watched(const oasis_loop *l, const loop_watch *w)
{
    for (unsigned i = 0; i < l->nwatch; i++)
        if (l->watch[i].fd == w->fd && l->watch[i].cb == w->cb && l->watch[i].ud == w->ud)
            return 1;
    return 0;
}

static int should_stop(const oasis_loop *l) { return l->stopped || (l->stop_flag && *l->stop_flag); }

/* How long to sleep: until the next timer or the run's end, whichever comes
 * first. */
static uint64_t wait_ns(const oasis_loop *l, uint64_t now, uint64_t end)
{
    uint64_t next = oasis_stack_next_deadline(l->stack);
    if (end < next)
        next = end;
    uint64_t w = next <= now ? 0 : next - now;
    if (l->stop_flag && w > LOOP_FLAG_MAX_WAIT_NS)
        w = LOOP_FLAG_MAX_WAIT_NS;
    return w;
}

/* The TAP device is readable. One read when frames come alone (loop.h),
 * else drain the device, running timers between batches so a flood of
 * input cannot starve retransmission and ACK timers. */
static int tap_readable(oasis_loop *l)
{
    l->counts.wakeups++;
    if (l->lone >= LOOP_LONE_ENTER && ++l->lone_reads % LOOP_LONE_PROBE) {
        int got = oasis_tap_input(l->tap, l->stack, 1);
        if (got < 0)
            return OASIS_EIO;
        l->counts.frames += (unsigned)got;
        l->counts.empty_reads += got == 0;
        oasis_stack_poll(l->stack);
        return OASIS_OK;
    }
    uint64_t total = 0;
    unsigned batches = 0;
    int got;
    do {
        got = oasis_tap_input(l->tap, l->stack, l->batch);
        if (got < 0)
            return OASIS_EIO;
        total += (unsigned)got;
        l->counts.empty_reads += (unsigned)got < l->batch; /* it ended on one */
        oasis_stack_poll(l->stack);
    } while ((unsigned)got == l->batch && !should_stop(l) && ++batches < LOOP_DRAIN_BATCHES);
    l->counts.drain_yields += (unsigned)got == l->batch && batches == LOOP_DRAIN_BATCHES;
    if (total > l->counts.max_drain)
        l->counts.max_drain = total;
    l->counts.frames += total;
    l->lone = total != 1 ? 0 : l->lone < LOOP_LONE_ENTER ? l->lone + 1 : LOOP_LONE_ENTER;
    return OASIS_OK;
}

/* One wait and the work it brings. Returns 0 or OASIS_EIO. */
static int loop_step(oasis_loop *l, uint64_t end)
{
    struct pollfd pfd[1 + LOOP_MAX_WATCH];
    unsigned n = l->nwatch;
    loop_watch watch[LOOP_MAX_WATCH];

    /* Callbacks may change the watch list: work on a snapshot. */
    memcpy(watch, l->watch, sizeof watch);
    pfd[0] = (struct pollfd){oasis_tap_fd(l->tap), POLLIN, 0};
    for (unsigned i = 0; i < n; i++)
        pfd[1 + i] = (struct pollfd){watch[i].fd, watch[i].events, 0};

    uint64_t w = wait_ns(l, oasis_stack_now(l->stack), end);
    struct timespec ts = {(time_t)(w / OASIS_NS_PER_SEC), (long)(w % OASIS_NS_PER_SEC)};
    int rc = ppoll(pfd, 1 + n, w == UINT64_MAX ? NULL : &ts, NULL);
    if (rc < 0 && errno != EINTR)
        return OASIS_EIO;
    if (rc > 0 && (pfd[0].revents & (POLLERR | POLLNVAL)))
        return OASIS_EIO;
    if (rc > 0 && (pfd[0].revents & POLLIN)) {
        if (tap_readable(l) != OASIS_OK)
            return OASIS_EIO;
    }
    oasis_stack_poll(l->stack);
    for (unsigned i = 0; rc > 0 && i < n; i++)
        if (pfd[1 + i].revents && still_watched(l, &watch[i]))
            watch[i].cb(l, watch[i].fd, pfd[1 + i].revents, watch[i].ud);
    return OASIS_OK;
}

static int loop_run(oasis_loop *l, int (*done)(void *ud), void *ud, uint64_t timeout_ns)
{
    uint64_t start = oasis_stack_now(l->stack);
    uint64_t end = timeout_ns >= UINT64_MAX - start ? UINT64_MAX : start + timeout_ns;

    l->stopped = 0;
    oasis_stack_poll(l->stack);
    for (;;) {
        if (should_stop(l) || (done && done(ud)))
            return OASIS_OK;
        if (oasis_stack_now(l->stack) >= end)
            return OASIS_ETIMEDOUT;
        int err = loop_step(l, end);
        if (err)
            return err;
    }
}

int oasis_loop_run(oasis_loop *l, int (*done)(void *ud), void *ud, uint64_t timeout_ns)
{
    if (!l)
        return OASIS_EINVAL;
    /* Watchers and done() run between the stack's calls: while they may,
     * destroying the stack or the loop is refused (OASIS_EBUSY). */
    l->running++;
    oasis_app_enter(l->stack);
    int err = loop_run(l, done, ud, timeout_ns);
    oasis_app_leave(l->stack);
    l->running--;
    return err;
}
