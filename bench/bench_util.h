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

/* A measured span on a shared machine. The scheduler's run delay (time
 * spent runnable but waiting for a CPU, /proc/self/schedstat) is taken out
 * of the wall time: `eff` is what the span would take on a core of its own,
 * sleeps (e.g. waiting for a timer) included. */
typedef struct bench_span {
    uint64_t wall0, delay0, cpu0;
    double wall, eff, cpu; /* seconds */
} bench_span;

static inline uint64_t bench_run_delay_ns(void)
{
    unsigned long long run = 0, delay = 0;
    FILE *f = fopen("/proc/self/schedstat", "r");
    if (f) {
        if (fscanf(f, "%llu %llu", &run, &delay) != 2)
            delay = 0;
        fclose(f);
    }
    return delay;
}

static inline void bench_span_start(bench_span *sp)
{
    sp->wall0 = bench_now_ns();
    sp->delay0 = bench_run_delay_ns();
    sp->cpu0 = bench_cpu_ns();
}

static inline void bench_span_stop(bench_span *sp)
{
    uint64_t wall = bench_now_ns() - sp->wall0, delay = bench_run_delay_ns() - sp->delay0;
    sp->wall = (double)wall / 1e9;
    sp->eff = (double)(delay < wall ? wall - delay : 0) / 1e9;
    sp->cpu = (double)(bench_cpu_ns() - sp->cpu0) / 1e9;
}

/* "busy": CPU time over effective time; below 100 % the program slept. */
static inline void bench_span_note(const bench_span *sp, char *note, size_t n)
{
    snprintf(note, n, "busy %.0f%% of %.2f s (wall %.2f s on a shared machine)",
             sp->eff > 0 ? 100.0 * sp->cpu / sp->eff : 0.0, sp->eff, sp->wall);
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
