/* Shared bits of the bench programs: clocks, a counting allocator and the
 * one output format run_all.sh parses.
 *
 * Every figure is printed as one line
 *   RESULT,<row>,<stack>,<setup>,<value>,<unit>,<note>
 * and everything else a program prints is commentary for humans. */
#ifndef OASIS_BENCH_UTIL_H
#define OASIS_BENCH_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time of this process: shows whether a run was busy or waited. */
static inline uint64_t bench_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void bench_result(const char *row, const char *stack, const char *setup,
                                double value, const char *unit, const char *note)
{
    printf("RESULT,%s,%s,%s,%.6g,%s,%s\n", row, stack, setup, value, unit, note ? note : "");
    fflush(stdout);
}

/* Counting allocator: every block carries its size in a 16-byte header so
 * that frees can be subtracted. `live` counts the bytes the caller asked
 * for (not the headers, not malloc's own overhead): the stack's own view. */
typedef struct bench_counter {
    size_t live, peak;
    uint64_t calls;
} bench_counter;

#define BENCH_HDR 16

static inline void *bench_count_alloc(void *ud, void *ptr, size_t size)
{
    bench_counter *c = ud;
    size_t old = 0;
    unsigned char *base = NULL;
    if (ptr) {
        base = (unsigned char *)ptr - BENCH_HDR;
        memcpy(&old, base, sizeof old);
    }
    if (size == 0) {
        free(base);
        c->live -= old;
        return NULL;
    }
    unsigned char *nb = realloc(base, size + BENCH_HDR);
    if (!nb)
        return NULL;
    memcpy(nb, &size, sizeof size);
    c->live = c->live - old + size;
    if (c->live > c->peak)
        c->peak = c->live;
    c->calls++;
    return nb + BENCH_HDR;
}

static inline double bench_arg_double(int argc, char **argv, int i, double dflt)
{
    return i < argc ? strtod(argv[i], NULL) : dflt;
}

#endif
