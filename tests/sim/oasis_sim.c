/* oasis_sim: runs seeds of the fault simulator (see sim.h).
 *
 *   oasis_sim                      200 seeds from 1 (OASIS_SIM_SEEDS and
 *                                  OASIS_SIM_FIRST override)
 *   oasis_sim --seeds 10000        the long mode
 *   oasis_sim --seed 4242 [-v]     one seed, with its case and what happened
 *   oasis_sim --seed 4242 --pcap /tmp/s   ... and a capture of each side
 *   oasis_sim --determinism        run every seed twice, compare the runs
 *   oasis_sim --max-size N         largest transfer per direction (2 MiB)
 *   oasis_sim --offload ...        the wire offers offloads (TSO, partial
 *                                  checksums, GRO: oasis/link.h) to both
 *   oasis_sim --ipv6 ...           the flow runs over IPv6 (link-local); with
 *                                  --offload, TSO6 super-segments
 *   oasis_sim --ip-link ...        both stacks on IP links (a TUN device's
 *                                  kind, carried by the wire as a tunnel
 *                                  would), transparent: the client connects
 *                                  to 198.51.100.7 (with --ipv6 2001:db8::7)
 *   oasis_sim --transparent ...    the server transparent over the Ethernet
 *                                  wire: the client connects to 198.51.100.7
 *                                  through the server as its gateway (IPv4)
 *   oasis_sim --ge-per-frame ...   bursts step per frame, as before issue 11
 *   oasis_sim --per-seed ...       one line of figures per seed, to compare
 *                                  two builds seed by seed
 *                                  item 45 (replays old runs; a Timeout the
 *                                  link caused is then accepted, with a note)
 *
 * Exit status 0 when every seed passed. A failing seed prints the command
 * that replays it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 0) : dflt;
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--seed N | --seeds COUNT [--first N]] [--determinism] [--max-size BYTES]\n"
            "          [--pcap PREFIX] [--ge-per-frame] [--offload | --ip-link] [--transparent] [--ipv6]\n"
            "          [--per-seed] [-v]\n",
            argv0);
}

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    sim_opts o = {.max_size = 2u << 20}; /* (the replay line names a size other than this) */
    uint64_t first = env_u64("OASIS_SIM_FIRST", 1), count = env_u64("OASIS_SIM_SEEDS", 200);
    int one = 0, determinism = 0, per_frame = 0, per_seed = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--seed") && more) {
            first = strtoull(argv[++i], NULL, 0);
            count = 1;
            one = 1;
        } else if (!strcmp(a, "--seeds") && more) {
            count = strtoull(argv[++i], NULL, 0);
        } else if (!strcmp(a, "--first") && more) {
            first = strtoull(argv[++i], NULL, 0);
        } else if (!strcmp(a, "--max-size") && more) {
            o.max_size = strtoull(argv[++i], NULL, 0);
        } else if (!strcmp(a, "--pcap") && more) {
            o.pcap = argv[++i];
        } else if (!strcmp(a, "--offload")) {
            o.offload = 1;
        } else if (!strcmp(a, "--ipv6")) {
            o.ipv6 = 1;
        } else if (!strcmp(a, "--ip-link")) {
            o.ip_link = o.transparent = 1;
        } else if (!strcmp(a, "--transparent")) {
            o.transparent = 1;
        } else if (!strcmp(a, "--ge-per-frame")) {
            per_frame = 1;
        } else if (!strcmp(a, "--per-seed")) {
            per_seed = 1;
        } else if (!strcmp(a, "--determinism")) {
            determinism = 1;
        } else if (!strcmp(a, "-v")) {
            o.verbose = 1;
        } else {
            usage(argv[0]);
            return 2;
        }
    }
    if (one)
        o.verbose = 1;
    if (o.ip_link && o.offload) {
        fprintf(stderr, "%s: --ip-link has no offloads\n", argv[0]);
        return 2;
    }
    if (o.transparent && !o.ip_link && o.ipv6) {
        /* (IPv6 has no static route to send a foreign prefix by) */
        fprintf(stderr, "%s: --transparent over Ethernet is IPv4 only\n", argv[0]);
        return 2;
    }

    uint64_t failed = 0, noted = 0, bytes = 0, frames = 0, retrans = 0, dsacks = 0, dups = 0;
    uint64_t rtos = 0;
    double virt = 0, t0 = wall_seconds();
    for (uint64_t seed = first; seed < first + count; seed++) {
        sim_case c;
        sim_result r;
        sim_case_from_seed(seed, &o, &c);
        if (per_frame) {
            c.imp[0].ge_step_ns = c.imp[1].ge_step_ns = 0;
            /* The old model replays runs recorded before TCP's R1 existed:
             * R1's ARP re-checks are frames too and would move the chain,
             * and so would RFC 5227's second announcement. */
            c.tcp.r1_retries = 0;
            c.arp_announce_num = 1;
            /* ... and buffers were fixed then (issue 16's auto-tuning
             * changes the windows, so the frames and the chain too). */
            c.tcp.autotune = 0;
        }
        if (o.verbose)
            sim_case_print(&c);
        sim_run(&c, &o, &r);
        if (r.ok && determinism) {
            sim_result again;
            sim_opts quiet = o;
            quiet.verbose = 0;
            quiet.pcap = NULL;
            sim_run(&c, &quiet, &again);
            if (!again.ok || memcmp(r.fingerprint, again.fingerprint, 32) != 0) {
                r.ok = 0;
                snprintf(r.why, sizeof r.why, "a second run of the seed went differently%s%.400s",
                         again.ok ? "" : ": ", again.ok ? "" : again.why);
            }
        }
        bytes += c.app[0].size + c.app[1].size;
        frames += r.frames;
        retrans += r.retransmits;
        dsacks += r.dsacks;
        dups += r.duplicated;
        virt += r.virt_ns / 1e9;
        rtos += r.timeouts;
        if (per_seed)
            printf("seed %" PRIu64 " ok %d frames %" PRIu64 " retrans %" PRIu64 " dsacks %" PRIu64
                   " dups %" PRIu64 " rtos %" PRIu64 " virt %.6f\n",
                   seed, r.ok, r.frames, r.retransmits, r.dsacks, r.duplicated, r.timeouts,
                   r.virt_ns / 1e9);
        if (r.ok && r.note[0]) {
            noted++;
            printf("note seed %" PRIu64 ": %s\n", seed, r.note);
        }
        if ((seed - first + 1) % 10000 == 0 && seed + 1 < first + count) {
            /* Long runs: a sign of life, and where a stopped run got to. */
            printf("progress: %" PRIu64 " seeds done, %" PRIu64 " failed, %.1fs\n",
                   seed - first + 1, failed + !r.ok, wall_seconds() - t0);
            fflush(stdout);
        }
        if (r.ok) {
            if (o.verbose)
                printf("seed %" PRIu64 ": ok (%.3fs virtual)\n", seed, r.virt_ns / 1e9);
            continue;
        }
        failed++;
        /* (every option that shapes a case: a replay without them runs
         * another one) */
        char size[48] = "";
        if (o.max_size != 2u << 20)
            snprintf(size, sizeof size, " --max-size %" PRIu64, (uint64_t)o.max_size);
        printf("FAIL seed %" PRIu64 ": %s\n  replay: %s%s%s%s%s%s --seed %" PRIu64 "\n", seed,
               r.why, argv[0], o.ipv6 ? " --ipv6" : "", o.offload ? " --offload" : "",
               o.ip_link ? " --ip-link" : o.transparent ? " --transparent" : "",
               per_frame ? " --ge-per-frame" : "", size, seed);
        fflush(stdout);
    }
    printf("oasis_sim: %" PRIu64 " seeds from %" PRIu64 ", %" PRIu64 " failed, %" PRIu64
           " with notes; %.1f MiB moved, %" PRIu64 " frames, %" PRIu64
           " retransmissions, %" PRIu64 " D-SACKs (%" PRIu64 " frames duplicated by the wire),"
           " %" PRIu64 " RTOs, %.0fs virtual in %.1fs\n",
           count, first, failed, noted, bytes / 1048576.0, frames, retrans, dsacks, dups, rtos, virt,
           wall_seconds() - t0);
    return failed ? 1 : 0;
}
