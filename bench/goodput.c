/* Goodput of one flow across a 100 Mbit/s bottleneck with random loss, on
 * the virtual clock: RTT 10 and 50 ms, loss 0..5 %, NewReno and CUBIC, with
 * and without SACK. Prints one row per run (TSV) with the Mathis bound
 * MSS/RTT * 1.22/sqrt(p) beside it. Usage: goodput [seconds per run (20)] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oasis/oasis.h"
#include "oasis/wire.h"

#define PORT 5001
#define CHUNK (256 * 1024)
#define RATE_BPS 100000000ull

typedef struct run {
    oasis_clock *clock;
    oasis_wire *wire;
    oasis_stack *srv, *cli;
    oasis_flow *tx, *rx;
    uint64_t rcvd, rcvd_at_warm;
    uint8_t buf[CHUNK];
} run;

static oasis_stack *make_stack(run *r, int host, int sack, oasis_cc_algo cc)
{
    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg);
    uint8_t mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x01, (uint8_t)host};
    memcpy(cfg.mac, mac, 6);
    cfg.addr = OASIS_IPV4(10, 0, 0, host);
    cfg.prefix_len = 24;
    cfg.clock = r->clock;
    cfg.seed = 0x600d + (uint64_t)host;
    cfg.tcp.sack = sack;
    cfg.tcp.cc = cc;
    oasis_stack *s = NULL;
    if (oasis_stack_create(&cfg, &s)) {
        fprintf(stderr, "goodput: stack\n");
        exit(1);
    }
    return s;
}

static void write_done(oasis_flow *f, int err, void *ud)
{
    run *r = ud;
    if (!err)
        oasis_tcp_write(f, r->buf, CHUNK, write_done, r);
}

static void connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s;
    run *r = ud;
    if (err)
        return;
    r->tx = f;
    for (int i = 0; i < 4; i++)
        oasis_tcp_write(f, r->buf, CHUNK, write_done, r);
}

static void on_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    (void)data;
    run *r = ud;
    if (err)
        return;
    r->rcvd += len;
    oasis_tcp_read(f, on_read, r); /* one read per call: ask again */
}

static void accepted(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    run *r = ud;
    r->rx = f;
    oasis_tcp_read(f, on_read, r);
}

/* Goodput in bit/s over `secs` after one second of warm-up. */
static double goodput(uint64_t rtt_ns, double loss, oasis_cc_algo cc, int sack, double secs,
                      uint64_t *rtx)
{
    run *r = calloc(1, sizeof *r);
    r->clock = oasis_clock_new_virtual(0);
    oasis_wire_config wc;
    oasis_wire_config_init(&wc);
    wc.delay_ns = rtt_ns / 2;
    wc.seed = 7;
    oasis_wire_create(r->clock, &wc, &r->wire);
    r->srv = make_stack(r, 1, sack, cc);
    r->cli = make_stack(r, 2, sack, cc);
    oasis_link *ls = oasis_wire_attach(r->wire, r->srv);
    oasis_link *lc = oasis_wire_attach(r->wire, r->cli);
    oasis_impair im;
    oasis_impair_init(&im);
    im.rate_bps = RATE_BPS;
    uint64_t bdp = RATE_BPS / 8 * rtt_ns / 1000000000ull;
    im.queue_bytes = (uint32_t)(bdp > 64 * 1024 ? bdp : 64 * 1024); /* one BDP of buffer */
    im.loss = loss;
    oasis_wire_impair(r->wire, lc, ls, &im);
    oasis_tcp_listen(r->srv, PORT, NULL, accepted, r);
    oasis_tcp_connect4(r->cli, OASIS_IPV4(10, 0, 0, 1), PORT, NULL, connected, r);
    oasis_wire_run(r->wire, NULL, NULL, OASIS_NS_PER_SEC);
    r->rcvd_at_warm = r->rcvd;
    oasis_wire_run(r->wire, NULL, NULL, (uint64_t)(secs * 1e9));
    double bps = (double)(r->rcvd - r->rcvd_at_warm) * 8 / secs;
    oasis_tcp_info info;
    *rtx = r->tx && !oasis_tcp_get_info(r->tx, &info) ? info.retransmits : 0;
    oasis_wire_detach(r->wire, r->cli);
    oasis_wire_detach(r->wire, r->srv);
    oasis_stack_destroy(r->cli);
    oasis_stack_destroy(r->srv);
    oasis_wire_destroy(r->wire);
    oasis_clock_free(r->clock);
    free(r);
    return bps;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 20;
    const uint64_t rtts[] = {10, 50};
    const double losses[] = {0, 0.001, 0.01, 0.02, 0.05};
    const double mss = 1448; /* 1500 - 40 - 12 (timestamps) */
    printf("rtt_ms\tloss\tcc\tsack\tgoodput_mbps\tmathis_mbps\tretransmits\n");
    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < 5; j++)
            for (int cc = 0; cc < 2; cc++)
                for (int sack = 0; sack < 2; sack++) {
                    uint64_t rtx = 0;
                    double g = goodput(rtts[i] * OASIS_NS_PER_MS, losses[j], (oasis_cc_algo)cc,
                                       sack, secs, &rtx);
                    double m = losses[j] > 0
                                   ? mss * 8 / (rtts[i] / 1000.0) * 1.22 / sqrt(losses[j]) / 1e6
                                   : 0;
                    printf("%llu\t%g\t%s\t%d\t%.2f\t%.2f\t%llu\n", (unsigned long long)rtts[i],
                           losses[j], cc ? "cubic" : "newreno", sack, g / 1e6, m,
                           (unsigned long long)rtx);
                    fflush(stdout);
                }
    return 0;
}
