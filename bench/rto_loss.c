/* Retransmission timeouts against random loss, on the virtual clock: one
 * transfer of SIZE bytes from one Oasis stack to another across the wire
 * with the same loss in both directions (data and ACKs), per seed of the
 * wire's impairments. Prints one row per seed (the sender's RTOs, fast
 * recoveries, retransmitted segments, tail loss probes and the goodput,
 * bytes over the virtual time to the last byte) and the means.
 *   rto_loss [loss (0.05)] [seeds (20)] [first seed (1)] [size (16 MiB)]
 *            [one-way delay us (500)] [rate Mbit/s (1000; 0: none)] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oasis/oasis.h"
#include "oasis/wire.h"
/* (internal: the flow's probe count, no public counter has it) */
#include "core/stack_impl.h"
#include "tcp/tcp_flow.h"

#define PORT 5001
#define CHUNK (256 * 1024)

typedef struct run {
    oasis_clock *clock;
    oasis_wire *wire;
    oasis_stack *srv, *cli;
    oasis_flow *tx;
    uint64_t size, queued, rcvd;
    uint8_t buf[CHUNK];
} run;

static oasis_stack *make_stack(run *r, int host)
{
    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg);
    uint8_t mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x01, (uint8_t)host};
    memcpy(cfg.mac, mac, 6);
    cfg.addr = OASIS_IPV4(10, 0, 0, host);
    cfg.prefix_len = 24;
    cfg.clock = r->clock;
    cfg.seed = 0x600d + (uint64_t)host;
    oasis_stack *s = NULL;
    if (oasis_stack_create(&cfg, &s)) {
        fprintf(stderr, "rto_loss: stack\n");
        exit(1);
    }
    return s;
}

static void write_done(oasis_flow *f, int err, void *ud)
{
    run *r = ud;
    if (err || r->queued >= r->size)
        return;
    uint64_t n = r->size - r->queued < CHUNK ? r->size - r->queued : CHUNK;
    r->queued += n;
    oasis_tcp_write(f, r->buf, (size_t)n, write_done, r);
}

static void connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s;
    run *r = ud;
    if (err)
        return;
    r->tx = f;
    for (int i = 0; i < 4; i++)
        write_done(f, 0, r);
}

static void on_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    (void)data;
    run *r = ud;
    if (err)
        return;
    r->rcvd += len;
    oasis_tcp_read(f, on_read, r);
}

static void accepted(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    oasis_tcp_read(f, on_read, ud);
}

static int all_in(void *ud)
{
    run *r = ud;
    return r->rcvd >= r->size;
}

typedef struct result {
    int ok;
    double secs;
    uint64_t rtos, fast, rtx, probes;
} result;

static result one(double loss, uint64_t seed, uint64_t size, uint64_t delay_us, uint64_t mbps)
{
    result res = {0};
    run *r = calloc(1, sizeof *r);
    r->size = size;
    r->clock = oasis_clock_new_virtual(0);
    oasis_wire_config wc;
    oasis_wire_config_init(&wc);
    wc.delay_ns = delay_us * OASIS_NS_PER_US;
    wc.seed = seed;
    oasis_wire_create(r->clock, &wc, &r->wire);
    r->srv = make_stack(r, 1);
    r->cli = make_stack(r, 2);
    oasis_link *ls = oasis_wire_attach(r->wire, r->srv);
    oasis_link *lc = oasis_wire_attach(r->wire, r->cli);
    oasis_impair im;
    oasis_impair_init(&im);
    im.loss = loss;
    if (mbps) {
        im.rate_bps = mbps * 1000000ull;
        uint64_t bdp = im.rate_bps / 8 * 2 * delay_us / 1000000ull;
        im.queue_bytes = (uint32_t)(bdp > 64 * 1024 ? bdp : 64 * 1024);
    }
    oasis_wire_impair(r->wire, lc, ls, &im);
    im.rate_bps = 0;
    oasis_wire_impair(r->wire, ls, lc, &im);
    oasis_tcp_listen(r->srv, PORT, NULL, accepted, r);
    oasis_tcp_connect4(r->cli, OASIS_IPV4(10, 0, 0, 1), PORT, NULL, connected, r);
    uint64_t t0 = oasis_clock_now(r->clock);
    oasis_wire_run(r->wire, all_in, r, 3600 * OASIS_NS_PER_SEC);
    res.ok = r->rcvd >= size;
    res.secs = (double)(oasis_clock_now(r->clock) - t0) / 1e9;
    const oasis_counters *k = oasis_stack_counters(r->cli);
    res.rtos = k->tcp.timeouts;
    res.fast = k->tcp.fast_retrans;
    res.rtx = k->tcp.retrans_segs;
    res.probes = r->tx && r->tx->ext ? r->tx->ext->sb.rack.probes : 0;
    oasis_wire_detach(r->wire, r->cli);
    oasis_wire_detach(r->wire, r->srv);
    oasis_stack_destroy(r->cli);
    oasis_stack_destroy(r->srv);
    oasis_wire_destroy(r->wire);
    oasis_clock_free(r->clock);
    free(r);
    return res;
}

int main(int argc, char **argv)
{
    double loss = argc > 1 ? atof(argv[1]) : 0.05;
    uint64_t seeds = argc > 2 ? strtoull(argv[2], NULL, 0) : 20;
    uint64_t first = argc > 3 ? strtoull(argv[3], NULL, 0) : 1;
    uint64_t size = argc > 4 ? strtoull(argv[4], NULL, 0) : 16u << 20;
    uint64_t delay_us = argc > 5 ? strtoull(argv[5], NULL, 0) : 500;
    uint64_t mbps = argc > 6 ? strtoull(argv[6], NULL, 0) : 1000;
    double sum_rto = 0, sum_mbps = 0, sum_rtx = 0, sum_fast = 0, sum_probes = 0;
    uint64_t max_rto = 0, failed = 0;
    printf("seed\tok\trtos\tfast\tretrans\tprobes\tsecs\tmbps\n");
    for (uint64_t s = first; s < first + seeds; s++) {
        result x = one(loss, s, size, delay_us, mbps);
        double m = x.secs > 0 ? (double)size * 8 / x.secs / 1e6 : 0;
        printf("%llu\t%d\t%llu\t%llu\t%llu\t%llu\t%.3f\t%.1f\n", (unsigned long long)s, x.ok,
               (unsigned long long)x.rtos, (unsigned long long)x.fast,
               (unsigned long long)x.rtx, (unsigned long long)x.probes, x.secs, m);
        fflush(stdout);
        failed += !x.ok;
        sum_rto += (double)x.rtos;
        sum_fast += (double)x.fast;
        sum_rtx += (double)x.rtx;
        sum_probes += (double)x.probes;
        sum_mbps += m;
        if (x.rtos > max_rto)
            max_rto = x.rtos;
    }
    printf("# loss %g, %llu seeds from %llu, %llu bytes, delay %llu us, rate %llu Mbit/s: "
           "RTOs mean %.2f max %llu, fast %.1f, retrans %.1f, probes %.1f, goodput mean %.1f "
           "Mbit/s, failed %llu\n",
           loss, (unsigned long long)seeds, (unsigned long long)first,
           (unsigned long long)size, (unsigned long long)delay_us, (unsigned long long)mbps,
           sum_rto / (double)seeds, (unsigned long long)max_rto, sum_fast / (double)seeds,
           sum_rtx / (double)seeds, sum_probes / (double)seeds, sum_mbps / (double)seeds,
           (unsigned long long)failed);
    return failed != 0;
}
