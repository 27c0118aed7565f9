/* The TAP event loop's callbacks (a watcher, done) run between the stack's
 * calls, inside oasis_loop_run: destroying the stack or the loop from them
 * is refused with OASIS_EBUSY (the run goes on with both), and works once
 * the run returned.
 *
 *   loop_busy TAP      exit 0: every refusal seen, then both destroyed */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "oasis/error.h"
#include "oasis/loop.h"
#include "oasis/stack.h"
#include "oasis/tap.h"

typedef struct busy {
    oasis_stack *s;
    oasis_loop *l;
    int fd;
    int watch_calls, done_calls, refused;
} busy;

static void watch_cb(oasis_loop *l, int fd, short revents, void *ud)
{
    (void)revents;
    busy *b = ud;
    char c;
    b->watch_calls++;
    if (read(fd, &c, 1) != 1)
        return;
    b->refused += oasis_stack_destroy(b->s) == OASIS_EBUSY;
    b->refused += oasis_loop_destroy(l) == OASIS_EBUSY;
    oasis_loop_stop(l);
}

static int done_cb(void *ud)
{
    busy *b = ud;
    b->done_calls++;
    b->refused += oasis_stack_destroy(b->s) == OASIS_EBUSY;
    b->refused += oasis_loop_destroy(b->l) == OASIS_EBUSY;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: loop_busy TAP\n");
        return 2;
    }
    char err[256] = "";
    oasis_tap_config tc;
    oasis_tap_config_init(&tc);
    tc.name = argv[1];
    oasis_tap *tap;
    int rc = oasis_tap_open(&tc, &tap, err, sizeof err);
    if (rc) {
        fprintf(stderr, "tap: %s (%s)\n", oasis_err_name(rc), err);
        return 1;
    }
    oasis_clock *clock = oasis_clock_new_monotonic();
    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg);
    memcpy(cfg.mac, (const uint8_t[6]){2, 0x4f, 0x0a, 0x4d, 0, 0x43}, 6);
    cfg.addr = (10u << 24) | (77u << 16) | 2u;
    cfg.prefix_len = 24;
    cfg.clock = clock;
    busy b;
    memset(&b, 0, sizeof b);
    int p[2];
    if (!clock || oasis_stack_create(&cfg, &b.s) || pipe(p)) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    oasis_stack_set_link(b.s, oasis_tap_link(tap));
    if (oasis_loop_create(b.s, tap, &b.l) || oasis_loop_watch(b.l, p[0], POLLIN, watch_cb, &b)) {
        fprintf(stderr, "loop setup failed\n");
        return 1;
    }
    if (write(p[1], "x", 1) != 1)
        return 1;
    rc = oasis_loop_run(b.l, done_cb, &b, 5ull * 1000000000ull);
    int want = 2 * b.done_calls + 2;
    printf("run %s, watcher %d, done %d, refused %d of %d\n", oasis_err_name(rc), b.watch_calls,
           b.done_calls, b.refused, want);
    int ok = rc == 0 && b.watch_calls == 1 && b.done_calls >= 1 && b.refused == want;
    ok &= oasis_loop_destroy(b.l) == 0;
    ok &= oasis_stack_destroy(b.s) == 0;
    oasis_tap_close(tap);
    oasis_clock_free(clock);
    close(p[0]);
    close(p[1]);
    printf("%s\n", ok ? "destroy refused inside the loop, done after it" : "FAIL");
    return ok ? 0 : 1;
}
