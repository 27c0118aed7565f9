/* cross-bench: the limits Oasis's bulk figure is to be read against, on this
 * machine: memcpy bandwidth and the Internet checksum's throughput
 * (oasis_csum_add), both over MSS-sized pieces of a 4 MiB buffer, which is
 * what a flow's send and receive rings look like to the cache.
 *
 *   cross-bench [SECONDS_EACH]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "core/checksum.h"

#define RING (4u << 20)
#define PIECE 1460u

static volatile uint64_t g_sink; /* keeps the checksum loop from being optimised away */

/* Copies PIECE-sized pieces from src to dst, walking both rings. */
static double memcpy_gbps(uint8_t *dst, const uint8_t *src, double seconds)
{
    bench_span sp;
    bench_span_start(&sp);
    uint64_t bytes = 0, stop = sp.wall0 + (uint64_t)(seconds * 1e9), t;
    size_t off = 0;
    do {
        for (int i = 0; i < 1024; i++) {
            if (off + PIECE > RING)
                off = 0;
            memcpy(dst + off, src + off, PIECE);
            off += PIECE;
        }
        bytes += 1024ull * PIECE;
        t = bench_now_ns();
    } while (t < stop);
    g_sink += dst[off % RING];
    bench_span_stop(&sp);
    return (double)bytes * 8 / sp.eff / 1e9;
}

static double csum_gbps(const uint8_t *src, double seconds)
{
    bench_span sp;
    bench_span_start(&sp);
    uint64_t bytes = 0, sum = 0, stop = sp.wall0 + (uint64_t)(seconds * 1e9), t;
    size_t off = 0;
    do {
        for (int i = 0; i < 1024; i++) {
            if (off + PIECE > RING)
                off = 0;
            sum = oasis_csum_add(sum, src + off, PIECE);
            off += PIECE;
        }
        bytes += 1024ull * PIECE;
        t = bench_now_ns();
    } while (t < stop);
    g_sink += oasis_csum_fold(sum);
    bench_span_stop(&sp);
    return (double)bytes * 8 / sp.eff / 1e9;
}

int main(int argc, char **argv)
{
    double secs = bench_arg_double(argc, argv, 1, 1.0);
    uint8_t *a = malloc(RING), *b = malloc(RING);
    if (!a || !b)
        return 1;
    for (size_t i = 0; i < RING; i++)
        a[i] = (uint8_t)(i * 7 + 1), b[i] = 0;
    double m = memcpy_gbps(b, a, secs);
    double c = csum_gbps(a, secs);
    bench_result("xcheck_memcpy", "machine", "memcpy of 1460 B pieces over a 4 MiB ring", m,
                 "Gbit/s", "");
    bench_result("xcheck_csum", "oasis", "oasis_csum_add of 1460 B pieces over 4 MiB", c,
                 "Gbit/s", "");
    fprintf(stderr, "memcpy %.1f Gbit/s (%.2f GB/s), csum %.1f Gbit/s (%.2f GB/s)\n", m, m / 8, c,
            c / 8);
    free(a);
    free(b);
    return 0;
}
