/* A seed becomes a case. Every choice is drawn from one PRNG in a fixed
 * order, so adding a choice at the END keeps older seeds' cases. */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/prng.h"
#include "tcp/tcp_cc.h"

static double uni(oasis_prng *r, double lo, double hi)
{
    return lo + (hi - lo) * oasis_prng_double(r);
}

/* Log-uniform: as many small values as large ones. */
static double logu(oasis_prng *r, double lo, double hi)
{
    return exp(uni(r, log(lo), log(hi)));
}

static int coin(oasis_prng *r, double p) { return oasis_prng_double(r) < p; }

static void pick_impair(oasis_prng *r, oasis_impair *g)
{
    oasis_impair_init(g);
    if (coin(r, 0.5))
        g->loss = uni(r, 0, 0.05);
    if (coin(r, 0.25)) {
        g->ge_p_good_bad = uni(r, 0.001, 0.02);
        g->ge_p_bad_good = uni(r, 0.2, 0.7);
        g->ge_loss_bad = uni(r, 0.5, 1);
    }
    if (coin(r, 0.25)) {
        g->reorder = uni(r, 0, 0.05);
        g->reorder_delay_ns = (uint64_t)logu(r, 1e5, 2e7);
    }
    if (coin(r, 0.2))
        g->duplicate = uni(r, 0, 0.03);
    if (coin(r, 0.2))
        g->corrupt = uni(r, 0, 0.02);
    if (coin(r, 0.7))
        g->delay_ns = (uint64_t)logu(r, 1e5, 1e8);
    if (coin(r, 0.3))
        g->jitter_ns = (uint64_t)uni(r, 0, (double)g->delay_ns + 1e6);
    if (coin(r, 0.4)) {
        g->rate_bps = (uint64_t)logu(r, 1e6, 1e9);
        g->queue_frames = (uint32_t)logu(r, 8, 1000);
    }
}

/* ECN (RFC 3168): half the cases ask for it (both stacks ecn 1), the
 * rest keep the default (accept only, so no flow has it); a bottleneck
 * marks from half its queue on in half the cases that have one, and a
 * direction marks at random now and then. Drawn from a stream of its own
 * so that every other choice of a seed stays what it was. */
static void pick_ecn(uint64_t seed, sim_case *c)
{
    oasis_prng r;
    oasis_prng_seed(&r, seed ^ 0xec0ec0ec0ec0ec0ull);
    if (coin(&r, 0.5))
        c->tcp.ecn = 1;
    for (int i = 0; i < 2; i++) {
        oasis_impair *g = &c->imp[i];
        if (g->rate_bps && coin(&r, 0.5))
            g->ce_queue_frames = g->queue_frames / 2 ? g->queue_frames / 2 : 1;
        if (coin(&r, 0.1))
            g->ce_mark = uni(&r, 0, 0.05);
    }
}

static void pick_app(oasis_prng *r, const sim_opts *o, sim_app *a)
{
    memset(a, 0, sizeof *a);
    if (!coin(r, 0.15))
        a->size = (uint64_t)logu(r, 1, (double)o->max_size + 1);
    if (a->size > o->max_size)
        a->size = o->max_size;
    a->max_chunk = (uint32_t)logu(r, 1, 256 * 1024);
    a->max_writes = 1 + (uint32_t)oasis_prng_below(r, 4);
    double m = oasis_prng_double(r);
    a->write_mode = m < 0.6 ? WM_WRITE : m < 0.9 ? WM_WRITEV : WM_NODELAY;
    /* Tiny writes, but not a million of them; write_nodelay waits for an
     * ACK (often a delayed one) per write, so it gets fewer. */
    uint64_t most = a->write_mode == WM_NODELAY ? 1000 : 20000;
    if (a->size / a->max_chunk > most)
        a->max_chunk = (uint32_t)(a->size / most);
    if (coin(r, 0.2)) {
        a->pause_prob = uni(r, 0, 0.2);
        a->pause_max_ns = (uint64_t)logu(r, 1e6, 2e9);
    }
    if (coin(r, 0.4)) {
        a->sndbuf = (uint32_t)logu(r, 4096, 1 << 20);
        a->rcvbuf = (uint32_t)logu(r, 4096, 1 << 20);
    }
    a->nodelay = coin(r, 0.3);
}

void sim_case_from_seed(uint64_t seed, const sim_opts *o, sim_case *c)
{
    oasis_prng r;
    oasis_prng_seed(&r, seed);
    memset(c, 0, sizeof *c);
    c->seed = seed;
    static const uint32_t mtus[] = {1500, 1500, 1500, 576, 1280, 9000};
    c->mtu = mtus[oasis_prng_below(&r, sizeof mtus / sizeof mtus[0])];
    int clean = coin(&r, 0.25);
    int symmetric = coin(&r, 0.5);
    pick_impair(&r, &c->imp[0]);
    pick_impair(&r, &c->imp[1]);
    if (symmetric)
        c->imp[1] = c->imp[0];
    if (clean) {
        oasis_impair_init(&c->imp[0]);
        oasis_impair_init(&c->imp[1]);
    }
    pick_app(&r, o, &c->app[0]);
    pick_app(&r, o, &c->app[1]);
    c->client = (int)oasis_prng_below(&r, 2);

    oasis_stack_config sc;
    oasis_stack_config_init(&sc);
    c->tcp = sc.tcp;
    c->tcp.window_scaling = coin(&r, 0.8);
    c->tcp.timestamps = coin(&r, 0.8);
    c->tcp.sack = coin(&r, 0.8);
    int cubic = coin(&r, 0.5);
    if (cubic && oasis_cc_get(OASIS_CC_CUBIC))
        c->tcp.cc = OASIS_CC_CUBIC;

    double cut = oasis_prng_double(&r);
    c->cut = cut < 0.05 ? CUT_OUTAGE : cut < 0.09 ? CUT_FOREVER : CUT_NONE;
    c->cut_at_ns = (uint64_t)uni(&r, 0, 5e9);
    /* An outage must be one the handshake survives: after it the next SYN
     * or data retransmission comes up to one backed-off RTO later, and a
     * half-open peer gives up after ~63 s of SYN-ACK retries. */
    c->cut_len_ns = (uint64_t)uni(&r, 1e9, 20e9);
    if (c->cut == CUT_FOREVER) {
        /* Die in minutes rather than a quarter of an hour. */
        c->tcp.data_retries = 8;
        c->tcp.syn_retries = 4;
        c->tcp.synack_retries = 4;
    }
    c->limit_ns = 2 * 3600 * OASIS_NS_PER_SEC;
    /* Bursts run on the clock (issue 11 item 45): the chain's
     * probabilities are per step, so a bad period lasts step/p_bad_good on
     * average: 0.14 ms to 250 ms, however few frames cross it. */
    uint64_t step = (uint64_t)logu(&r, 1e5, 5e7);
    c->imp[0].ge_step_ns = step;
    c->imp[1].ge_step_ns = step;
    pick_ecn(seed, c);
}

static void print_impair(const char *dir, const oasis_impair *g)
{
    printf("  %s: loss %.4f ge(%.4f,%.3f,%.3f,%.3f per %.3fms) corrupt %.4f delay %.3fms jitter %.3fms "
           "reorder %.4f/%.3fms dup %.4f rate %.3fMb/s q%u ce %.4f/q%u\n",
           dir, g->loss, g->ge_p_good_bad, g->ge_p_bad_good, g->ge_loss_good, g->ge_loss_bad,
           g->ge_step_ns / 1e6, g->corrupt, g->delay_ns / 1e6, g->jitter_ns / 1e6, g->reorder,
           g->reorder_delay_ns / 1e6, g->duplicate, g->rate_bps / 1e6, g->queue_frames,
           g->ce_mark, g->ce_queue_frames);
}

static void print_app(const char *who, const sim_app *a)
{
    static const char *modes[] = {"write", "writev", "write_nodelay"};
    printf("  %s: sends %llu bytes, chunks <= %u, %u pending, %s, nodelay %d, pause %.3f/%.1fms, "
           "sndbuf %u rcvbuf %u\n",
           who, (unsigned long long)a->size, a->max_chunk, a->max_writes, modes[a->write_mode],
           a->nodelay, a->pause_prob, a->pause_max_ns / 1e6, a->sndbuf, a->rcvbuf);
}

void sim_case_print(const sim_case *c)
{
    static const char *cuts[] = {"none", "outage", "forever"};
    printf("seed %llu: mtu %u, client %c, cc %s, wscale %d ts %d sack %d ecn %d, cut %s at %.3fs "
           "for %.3fs\n",
           (unsigned long long)c->seed, c->mtu, c->client ? 'B' : 'A',
           c->tcp.cc == OASIS_CC_CUBIC ? "cubic" : "newreno", c->tcp.window_scaling,
           c->tcp.timestamps, c->tcp.sack, c->tcp.ecn, cuts[c->cut], c->cut_at_ns / 1e9,
           c->cut == CUT_OUTAGE ? c->cut_len_ns / 1e9 : 0.0);
    print_impair("A->B", &c->imp[0]);
    print_impair("B->A", &c->imp[1]);
    print_app("A", &c->app[0]);
    print_app("B", &c->app[1]);
}
