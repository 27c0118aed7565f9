/* oasis-bench: Oasis's rows of the benchmark table. Two stacks on the
 * in-memory wire in one process, one thread.
 *
 *   oasis-bench bulk MTU SECONDS   one flow, client -> server, Gbit/s
 *   oasis-bench rr SIZE SECONDS    request/response round trips per second
 *   oasis-bench crr SECONDS        connect, 64 B request/response, close; per second
 *   oasis-bench mem FLOWS          bytes per idle established flow
 *   oasis-bench bulk_wan SECONDS   one flow through the impaired wire: 50 ms RTT,
 *                                  100 Mbit/s bottleneck (a BDP of queue), virtual
 *                                  clock; Mbit/s of goodput after the first second
 *
 * Buffers: auto-tuned by default (issue 16); OASIS_BENCH_BUF=BYTES fixes
 * every flow's send and receive buffers at BYTES (auto-tuning off).
 * TCP options: negotiated as by default; OASIS_BENCH_OPTS=lwip turns off
 * timestamps and SACK (lwip-bench's options), =nots or =nosack one each.
 *
 * bulk, rr and crr run on the real monotonic clock (time is what they
 * measure); mem runs on a virtual clock (time does not matter there, and a
 * virtual clock makes 100,000 handshakes quick and deterministic).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "oasis/oasis.h"

#define CHUNK (256 * 1024)
#define PORT 5001
#define CRR_MSG 64

typedef struct bench {
    oasis_clock *clock;
    oasis_wire *wire;
    oasis_stack *server, *client;
    bench_counter mem_server, mem_client;
    int failed;

    uint64_t t_start, t_stop; /* clock ns */
    bench_span span;
    int stopping;

    /* bulk */
    oasis_flow *bulk;
    uint8_t *buf;
    uint64_t received;
    uint64_t rx_measured; /* bytes at the deadline */
    int measured;

    /* rr / crr */
    size_t msg;
    size_t got_client, got_server;
    uint64_t transactions;
    oasis_flow *rr_client;

    /* mem */
    uint32_t connected, accepted;
} bench;

static uint8_t g_msg[CHUNK]; /* payload source: read-only after startup */

static void fail(bench *b, const char *what, int err)
{
    if (!b->failed)
        fprintf(stderr, "oasis-bench: %s: %s\n", what, oasis_strerror(err));
    b->failed = 1;
}

static int bench_ipv6(void)
{
    const char *v = getenv("OASIS_BENCH_IPV6");
    return v && atoi(v) == 1;
}

static oasis_ipaddr bench_addr6(int host)
{
    oasis_ipaddr a;
    char text[32];
    snprintf(text, sizeof text, "2001:db8::%d", host);
    oasis_ipaddr_parse(text, &a);
    return a;
}

static oasis_stack *make_stack(bench *b, int host, bench_counter *ctr, uint64_t msl_ns)
{
    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg);
    uint8_t mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x00, (uint8_t)host};
    memcpy(cfg.mac, mac, 6);
    cfg.addr = OASIS_IPV4(10, 0, 0, host);
    cfg.prefix_len = 24;
    cfg.clock = b->clock;
    cfg.seed = 0xbe5c + (uint64_t)host;
    cfg.alloc = bench_count_alloc;
    cfg.alloc_ud = ctr;
    if (msl_ns)
        cfg.tcp.msl_ns = msl_ns;
    /* run_all.sh's buffer sweep: send and receive buffer bytes per flow. */
    const char *buf = getenv("OASIS_BENCH_BUF");
    if (buf && atol(buf) >= 1024) {
        cfg.tcp.sndbuf = cfg.tcp.rcvbuf = (uint32_t)atol(buf);
        cfg.tcp.autotune = 0; /* fixed sizes: the sweep auto-tuning is measured against */
    }
    /* TCP options (the header comment): lwIP's bench has neither
     * timestamps nor SACK. */
    const char *opts = getenv("OASIS_BENCH_OPTS");
    if (opts && !strcmp(opts, "lwip"))
        cfg.tcp.timestamps = cfg.tcp.sack = 0;
    if (opts && !strcmp(opts, "nots"))
        cfg.tcp.timestamps = 0;
    if (opts && !strcmp(opts, "nosack"))
        cfg.tcp.sack = 0;
    /* OASIS_BENCH_IPV6=1: rr over IPv6, between 2001:db8::1 and ::2 (no
     * DAD: usable at once). */
    int v6 = bench_ipv6();
    if (v6) {
        cfg.ipv6 = 1;
        cfg.dad_transmits = 0;
    }
    oasis_stack *s = NULL;
    int err = oasis_stack_create(&cfg, &s);
    if (!err && v6) {
        oasis_ipaddr a = bench_addr6(host);
        err = oasis_ipv6_add_addr(s, &a, 64);
    }
    if (err) {
        fprintf(stderr, "oasis-bench: stack: %s\n", oasis_strerror(err));
        exit(1);
    }
    return s;
}

static void setup(bench *b, int virtual_clock, uint32_t mtu, uint64_t msl_ns)
{
    b->clock = virtual_clock ? oasis_clock_new_virtual(0) : oasis_clock_new_monotonic();
    oasis_wire_config wc;
    oasis_wire_config_init(&wc);
    wc.mtu = mtu;
    if (!b->clock || oasis_wire_create(b->clock, &wc, &b->wire)) {
        fprintf(stderr, "oasis-bench: out of memory\n");
        exit(1);
    }
    b->server = make_stack(b, 1, &b->mem_server, msl_ns);
    b->client = make_stack(b, 2, &b->mem_client, msl_ns);
    oasis_wire_attach(b->wire, b->server);
    oasis_wire_attach(b->wire, b->client);
}

static void teardown(bench *b)
{
    oasis_wire_detach(b->wire, b->client);
    oasis_wire_detach(b->wire, b->server);
    oasis_stack_destroy(b->client);
    oasis_stack_destroy(b->server);
    oasis_wire_destroy(b->wire);
    oasis_clock_free(b->clock);
}

static int time_up(bench *b)
{
    return b->t_start && oasis_clock_now(b->clock) >= b->t_stop;
}

static void start_timer(bench *b, double seconds)
{
    b->t_start = oasis_clock_now(b->clock);
    b->t_stop = b->t_start + (uint64_t)(seconds * 1e9);
    bench_span_start(&b->span);
}

/* ---- bulk ---------------------------------------------------------------- */

static void bulk_write_done(oasis_flow *f, int err, void *ud);

static void bulk_write(bench *b)
{
    int err = oasis_tcp_write(b->bulk, b->buf, CHUNK, bulk_write_done, b);
    if (err)
        fail(b, "bulk write", err);
}

/* Two CHUNK writes stay queued; the bytes never change, so one buffer does. */
static void bulk_write_done(oasis_flow *f, int err, void *ud)
{
    bench *b = ud;
    /* Stop feeding at the deadline: oasis_wire_step() keeps going while
     * frames are due, so the run ends only once the flow drains. */
    if (err == OASIS_ECANCELED || b->stopping || time_up(b))
        return;
    if (err) {
        fail(b, "bulk write", err);
        return;
    }
    bulk_write(b);
}

static void bulk_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    bench *b = ud;
    if (err) {
        fail(b, "bulk connect", err);
        return;
    }
    b->bulk = f;
    bulk_write(b);
    bulk_write(b);
}

static void bulk_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    bench *b = ud;
    if (err)
        return;
    if (!b->t_start) /* the clock starts with the first byte: no handshake in it */
        start_timer(b, *(double *)oasis_flow_user_data(f));
    if (!b->measured && time_up(b)) {
        bench_span_stop(&b->span);
        b->rx_measured = b->received;
        b->measured = 1;
    }
    b->received += len;
    oasis_tcp_read(f, bulk_read, b);
}

static double g_seconds;

static void bulk_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    oasis_flow_set_user_data(f, &g_seconds);
    oasis_tcp_read(f, bulk_read, ud);
}

static int bulk_done(void *ud)
{
    bench *b = ud;
    return b->failed || time_up(b);
}

static int run_bulk(uint32_t mtu, double seconds)
{
    static bench bb;
    bench *b = &bb;
    setup(b, 0, mtu, 0);
    g_seconds = seconds;
    b->buf = g_msg;
    oasis_tcp_listen(b->server, PORT, NULL, bulk_accept, b);
    oasis_tcp_connect4(b->client, OASIS_IPV4(10, 0, 0, 1), PORT, NULL, bulk_connected, b);
    oasis_wire_run(b->wire, bulk_done, b, (uint64_t)(seconds + 30) * OASIS_NS_PER_SEC);
    if (!b->measured) { /* the flow stalled before the deadline */
        bench_span_stop(&b->span);
        b->rx_measured = b->received;
    }
    double wall = b->span.eff;
    double gbps = wall > 0 ? (double)b->rx_measured * 8 / wall / 1e9 : 0;
    char row[32], note[128];
    bench_span_note(&b->span, note, sizeof note);
    snprintf(row, sizeof row, "bulk_mtu%u", mtu);
    b->stopping = 1;
    if (!b->failed)
        bench_result(row, "oasis", "in-memory wire", gbps, "Gbit/s", note);
    fprintf(stderr, "oasis bulk mtu %u: %.3f GB in %.2f s = %.3f Gbit/s (%s); %" PRIu64
                    " bytes in all\n", mtu, (double)b->rx_measured / 1e9, wall, gbps, note, b->received);
    /* What auto-tuning did (issue 16): steps taken, and the buffer memory
     * each end peaked at (the receiver's is its receive buffer, the
     * sender's its send buffer). */
    const oasis_tcp_counters *rx = &oasis_stack_counters(b->server)->tcp;
    const oasis_tcp_counters *tx = &oasis_stack_counters(b->client)->tcp;
    fprintf(stderr, "  buffers: receiver %" PRIu64 " B after %" PRIu64 " steps, sender %" PRIu64
                    " B after %" PRIu64 " steps\n", rx->mem_peak, rx->rcvbuf_grows, tx->mem_peak,
            tx->sndbuf_grows);
    teardown(b);
    return b->failed;
}

/* ---- bulk through the impaired wire ------------------------------------------ */

/* 50 ms RTT, 100 Mbit/s from client to server with a BDP (625 kB) of queue,
 * on the virtual clock: the figure is goodput in clock time, the same on
 * any machine. The first second (slow start, buffers growing) is left out. */
static int run_bulk_wan(double seconds)
{
    static bench bb;
    bench *b = &bb;
    setup(b, 1, 1500, 0);
    g_seconds = seconds + 5; /* writing goes on past the measured span */
    b->buf = g_msg;
    oasis_impair im;
    oasis_impair_init(&im);
    im.delay_ns = 25 * OASIS_NS_PER_MS;
    oasis_link *lc = oasis_stack_link(b->client), *ls = oasis_stack_link(b->server);
    oasis_wire_impair(b->wire, ls, lc, &im);
    im.rate_bps = 100000000;
    im.queue_bytes = 625000;
    oasis_wire_impair(b->wire, lc, ls, &im);
    oasis_tcp_listen(b->server, PORT, NULL, bulk_accept, b);
    oasis_tcp_connect4(b->client, OASIS_IPV4(10, 0, 0, 1), PORT, NULL, bulk_connected, b);
    /* one second of ramp, then the measured span */
    oasis_wire_run(b->wire, NULL, NULL, OASIS_NS_PER_SEC);
    uint64_t r0 = b->received, t0 = oasis_clock_now(b->clock);
    oasis_wire_run(b->wire, NULL, NULL, (uint64_t)(seconds * 1e9));
    uint64_t r1 = b->received, t1 = oasis_clock_now(b->clock);
    double mbps = t1 > t0 ? (double)(r1 - r0) * 8 / ((double)(t1 - t0) / 1e9) / 1e6 : 0;
    oasis_tcp_info ti;
    uint32_t cwnd = 0;
    if (b->bulk && !oasis_tcp_get_info(b->bulk, &ti))
        cwnd = ti.cwnd;
    char note[128];
    snprintf(note, sizeof note, "virtual clock; 50 ms RTT; 100 Mbit/s; cwnd %u B at the end; %s",
             cwnd, getenv("OASIS_BENCH_BUF") ? "fixed buffers" : "auto-tuned");
    b->stopping = 1;
    if (!b->failed)
        bench_result("bulk_wan_50ms_100M", "oasis", "impaired wire", mbps, "Mbit/s", note);
    fprintf(stderr, "oasis bulk_wan: %.1f Mbit/s (%s)\n", mbps, note);
    teardown(b);
    return b->failed;
}

/* ---- request/response ------------------------------------------------------ */

static void rr_send(bench *b);

static void rr_client_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    bench *b = ud;
    if (b->stopping)
        return; /* the teardown cancels the read pending at the deadline */
    if (err) {
        fail(b, "rr client read", err);
        return;
    }
    b->got_client += len;
    if (b->got_client < b->msg) {
        oasis_tcp_read(f, rr_client_read, b);
        return;
    }
    b->transactions++;
    /* The clock every 64 round trips, as lwip-bench does: a clock read
     * costs about as much as a tenth of a round trip here. */
    if (b->transactions % 64 || !time_up(b))
        rr_send(b);
}

static void rr_send(bench *b)
{
    b->got_client = 0;
    int err = oasis_tcp_write(b->rr_client, g_msg, b->msg, NULL, NULL);
    if (!err)
        err = oasis_tcp_read(b->rr_client, rr_client_read, b);
    if (err)
        fail(b, "rr send", err);
}

static void rr_server_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    bench *b = ud;
    if (err)
        return;
    b->got_server += len;
    if (b->got_server >= b->msg) {
        b->got_server -= b->msg;
        oasis_tcp_write(f, g_msg, b->msg, NULL, NULL);
    }
    oasis_tcp_read(f, rr_server_read, b);
}

static void rr_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    oasis_tcp_set_nodelay(f, 1);
    oasis_tcp_read(f, rr_server_read, ud);
}

static void rr_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    bench *b = ud;
    if (err) {
        fail(b, "rr connect", err);
        return;
    }
    b->rr_client = f;
    oasis_tcp_set_nodelay(f, 1);
    start_timer(b, g_seconds);
    rr_send(b);
}

static int rr_done(void *ud)
{
    bench *b = ud;
    return b->failed || time_up(b);
}

static int run_rr(size_t size, double seconds)
{
    static bench bb;
    bench *b = &bb;
    setup(b, 0, 1500, 0);
    g_seconds = seconds;
    b->msg = size;
    oasis_tcp_listen(b->server, PORT, NULL, rr_accept, b);
    oasis_ipaddr dst = bench_ipv6() ? bench_addr6(1) : oasis_ipaddr_v4(OASIS_IPV4(10, 0, 0, 1));
    oasis_tcp_connect(b->client, &dst, PORT, NULL, rr_connected, b);
    oasis_wire_run(b->wire, rr_done, b, (uint64_t)(seconds + 30) * OASIS_NS_PER_SEC);
    bench_span_stop(&b->span);
    double wall = b->span.eff;
    double rate = wall > 0 ? (double)b->transactions / wall : 0;
    char row[32], note[128];
    bench_span_note(&b->span, note, sizeof note);
    snprintf(row, sizeof row, "rr_%zuB", size);
    if (!b->failed)
        bench_result(row, "oasis", bench_ipv6() ? "in-memory wire IPv6" : "in-memory wire", rate,
                     "trans/s", note);
    fprintf(stderr, "oasis rr %zu B: %" PRIu64 " in %.2f s = %.0f/s (%s)\n", size, b->transactions,
            wall, rate, note);
    b->stopping = 1;
    teardown(b);
    return b->failed;
}

/* ---- connect / request / response / close ---------------------------------- */

static void crr_open(bench *b);

static void crr_client_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    bench *b = ud;
    if (b->stopping)
        return; /* the teardown cancels the connection still open at the deadline */
    if (err) {
        fail(b, "crr client read", err);
        return;
    }
    b->got_client += len;
    if (b->got_client < CRR_MSG) {
        oasis_tcp_read(f, crr_client_read, b);
        return;
    }
    /* Like close(2): the teardown runs on while the next connection opens. */
    if ((err = oasis_tcp_close(f, NULL, NULL)) != 0) {
        fail(b, "crr close", err);
        return;
    }
    b->transactions++;
    if (!time_up(b))
        crr_open(b);
}

static void crr_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    bench *b = ud;
    if (b->stopping)
        return; /* canceled by the teardown */
    if (err) {
        fail(b, "crr connect", err);
        return;
    }
    b->got_client = 0;
    oasis_tcp_set_nodelay(f, 1);
    err = oasis_tcp_write(f, g_msg, CRR_MSG, NULL, NULL);
    if (!err)
        err = oasis_tcp_read(f, crr_client_read, b);
    if (err)
        fail(b, "crr request", err);
}

static void crr_open(bench *b)
{
    int err = oasis_tcp_connect4(b->client, OASIS_IPV4(10, 0, 0, 1), PORT, NULL, crr_connected, b);
    if (err)
        fail(b, "crr connect", err);
}

/* Server side: the bytes seen so far live in the flow's user data. */
static void crr_server_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    if (err) { /* EOF: the client closed after the response */
        oasis_tcp_close(f, NULL, NULL);
        return;
    }
    uintptr_t got = (uintptr_t)oasis_flow_user_data(f) + len;
    oasis_flow_set_user_data(f, (void *)got);
    if (got == CRR_MSG)
        oasis_tcp_write(f, g_msg, CRR_MSG, NULL, NULL);
    oasis_tcp_read(f, crr_server_read, ud);
}

static void crr_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    oasis_tcp_set_nodelay(f, 1);
    oasis_flow_set_user_data(f, (void *)0);
    oasis_tcp_read(f, crr_server_read, ud);
}

static int run_crr(double seconds)
{
    static bench bb;
    bench *b = &bb;
    /* TIME_WAIT of 2 ms (MSL 1 ms): with the default 60 s the client's
     * 16,384 ephemeral ports run out after a fraction of a second. Linux
     * gets tcp_tw_reuse and a wide port range for the same reason. */
    setup(b, 0, 1500, OASIS_NS_PER_MS);
    oasis_tcp_listen(b->server, PORT, NULL, crr_accept, b);
    start_timer(b, seconds);
    crr_open(b);
    oasis_wire_run(b->wire, rr_done, b, (uint64_t)(seconds + 30) * OASIS_NS_PER_SEC);
    bench_span_stop(&b->span);
    double wall = b->span.eff;
    double rate = wall > 0 ? (double)b->transactions / wall : 0;
    char note[160];
    bench_span_note(&b->span, note, sizeof note);
    strncat(note, "; TIME_WAIT 2 ms", sizeof note - strlen(note) - 1);
    if (!b->failed)
        bench_result("crr", "oasis", "in-memory wire", rate, "conn/s", note);
    fprintf(stderr, "oasis crr: %" PRIu64 " in %.2f s = %.0f/s (%s)\n", b->transactions, wall, rate,
            note);
    b->stopping = 1;
    teardown(b);
    return b->failed;
}

/* ---- memory per idle flow ---------------------------------------------------- */

#define MEM_BATCH 1000
#define MEM_PORTS_PER 16000 /* flows per server port: the client has 16,384 ephemeral ports */

static void mem_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    bench *b = ud;
    if (err)
        fail(b, "mem connect", err);
    else
        b->connected++;
}

static void mem_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    bench *b = ud;
    b->accepted++;
}

static uint32_t g_target;

/* Resident set of this process in KiB (Linux /proc), 0 if unknown; the
 * peak so far with key "VmHWM". */
static long rss_kib(const char *key)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long kib = 0;
    size_t n = strlen(key);
    while (fp && fgets(line, sizeof line, fp))
        if (!strncmp(line, key, n) && line[n] == ':' && sscanf(line + n + 1, "%ld", &kib) == 1)
            break;
    if (fp)
        fclose(fp);
    return kib;
}

static int mem_batch_done(void *ud)
{
    bench *b = ud;
    return b->failed || (b->connected >= g_target && b->accepted >= g_target);
}

static int run_mem(uint32_t flows)
{
    static bench bb;
    bench *b = &bb;
    setup(b, 1, 1500, 0);
    uint32_t nports = (flows + MEM_PORTS_PER - 1) / MEM_PORTS_PER;
    oasis_listen_opts lo = {.keepalive = NULL, .backlog = 65535};
    for (uint32_t p = 0; p < nports; p++)
        if (oasis_tcp_listen(b->server, (uint16_t)(PORT + p), &lo, mem_accept, b))
            fail(b, "listen", OASIS_EINVAL);
    oasis_wire_run(b->wire, NULL, NULL, OASIS_NS_PER_SEC); /* ARP, gratuitous ARP */
    size_t base_s = b->mem_server.live, base_c = b->mem_client.live;

    for (uint32_t i = 0; i < flows && !b->failed; i += MEM_BATCH) {
        uint32_t n = flows - i < MEM_BATCH ? flows - i : MEM_BATCH;
        for (uint32_t k = i; k < i + n; k++) {
            int err = oasis_tcp_connect4(b->client, OASIS_IPV4(10, 0, 0, 1),
                                        (uint16_t)(PORT + k / MEM_PORTS_PER), NULL, mem_connected, b);
            if (err)
                fail(b, "connect", err);
        }
        g_target = i + n;
        if (oasis_wire_run(b->wire, mem_batch_done, b, 600 * OASIS_NS_PER_SEC) != 0)
            fail(b, "handshakes", OASIS_ETIMEDOUT);
    }
    /* Let every delayed ACK and timer settle: the flows are idle now. */
    oasis_wire_run(b->wire, NULL, NULL, OASIS_NS_PER_SEC);
    double ds = (double)(b->mem_server.live - base_s), dc = (double)(b->mem_client.live - base_c);
    double rss_mib = rss_kib("VmRSS") / 1024.0; /* the whole process: both ends, the wire, libc */
    double peak_mib = rss_kib("VmHWM") / 1024.0;  /* the handshakes' extensions came and went */
    double per_end = (ds + dc) / (2.0 * flows);
    char row[32], note[128];
    snprintf(row, sizeof row, "mem_%uk", flows / 1000);
    snprintf(note, sizeof note, "per endpoint; server %.0f B client %.0f B per flow",
             ds / flows, dc / flows);
    if (!b->failed) {
        bench_result(row, "oasis", "in-memory wire (virtual clock)", per_end, "bytes", note);
        char rrow[40];
        snprintf(rrow, sizeof rrow, "mem_%uk_rss", flows / 1000);
        char rnote[96];
        snprintf(rnote, sizeof rnote, "process RSS, both ends; peak %.0f MiB", peak_mib);
        bench_result(rrow, "oasis", "in-memory wire (virtual clock)", rss_mib, "MiB", rnote);
    }
    fprintf(stderr, "oasis mem %u flows: %.0f B per endpoint (%s), RSS %.0f MiB (peak %.0f)\n",
            flows, per_end, note, rss_mib, peak_mib);
    teardown(b);
    return b->failed;
}

int main(int argc, char **argv)
{
    for (size_t i = 0; i < sizeof g_msg; i++)
        g_msg[i] = (uint8_t)(i * 131 + 7);
    if (argc >= 2 && !strcmp(argv[1], "bulk"))
        return run_bulk((uint32_t)bench_arg_double(argc, argv, 2, 1500),
                        bench_arg_double(argc, argv, 3, 3));
    if (argc >= 2 && !strcmp(argv[1], "bulk_wan"))
        return run_bulk_wan(bench_arg_double(argc, argv, 2, 10));
    if (argc >= 2 && !strcmp(argv[1], "rr"))
        return run_rr((size_t)bench_arg_double(argc, argv, 2, 1), bench_arg_double(argc, argv, 3, 3));
    if (argc >= 2 && !strcmp(argv[1], "crr"))
        return run_crr(bench_arg_double(argc, argv, 2, 3));
    if (argc >= 2 && !strcmp(argv[1], "mem"))
        return run_mem((uint32_t)bench_arg_double(argc, argv, 2, 10000));
    fprintf(stderr, "usage: oasis-bench bulk MTU SECONDS | rr SIZE SECONDS | crr SECONDS | "
                    "mem FLOWS\n");
    return 2;
}
