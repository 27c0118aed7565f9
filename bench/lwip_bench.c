/* lwip-bench: lwIP's rows of the benchmark table, same shapes as
 * oasis-bench. lwIP 2.1.3 (Debian's source package) built with
 * bench/lwip/lwipopts.h: NO_SYS=1, raw API, one thread.
 *
 * lwIP keeps its state in globals, so there is one lwIP per process; the two
 * "hosts" are two netifs of it (10.0.0.1 and 10.0.0.2) whose linkoutput
 * queues each frame (copied) for the other, like Oasis's in-memory wire. A
 * route hook sends by source address, since both netifs share the subnet.
 *
 *   lwip-bench bulk MTU SECONDS | rr SIZE SECONDS | crr SECONDS | mem FLOWS
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#define CHUNK (256 * 1024)
#define PORT 5001
#define CRR_MSG 64

/* ---- allocator and clock hooks (see lwipopts.h) --------------------------- */

static bench_counter g_mem;

void *bench_lwip_malloc(size_t n) { return bench_count_alloc(&g_mem, NULL, n); }

void *bench_lwip_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = bench_count_alloc(&g_mem, NULL, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void bench_lwip_free(void *p)
{
    if (p)
        bench_count_alloc(&g_mem, p, 0);
}

u32_t sys_now(void) { return (u32_t)(bench_now_ns() / 1000000u); }

/* ---- the wire: two netifs back to back -------------------------------------- */

/* A frame in flight: the pbuf the receiving netif gets, copied once from
 * the sender's (lwIP keeps the sent pbuf for retransmission, so it cannot
 * be handed over). A ring of them: no allocation besides the pbuf's. */
typedef struct frame {
    struct pbuf *p;
    struct netif *to;
} frame;

#define QLEN (1u << 16) /* frames in flight; beyond, the wire drops */
static struct netif g_nif[2];
static frame g_q[QLEN];
static uint32_t g_qhead, g_qtail; /* free-running */
static uint64_t g_frames;

struct netif *bench_lwip_route(const struct ip4_addr *src, const struct ip4_addr *dest)
{
    for (int i = 0; src && i < 2; i++)
        if (ip4_addr_cmp(src, netif_ip4_addr(&g_nif[i])))
            return &g_nif[i];
    return NULL; /* lwIP's own routing */
}

static err_t linkoutput(struct netif *nif, struct pbuf *p)
{
    if (g_qtail - g_qhead == QLEN)
        return ERR_MEM;
    struct pbuf *q = pbuf_alloc(PBUF_RAW, p->tot_len, PBUF_RAM);
    if (!q)
        return ERR_MEM;
    pbuf_copy_partial(p, q->payload, p->tot_len, 0);
    frame *f = &g_q[g_qtail++ % QLEN];
    f->p = q;
    f->to = nif == &g_nif[0] ? &g_nif[1] : &g_nif[0];
    return ERR_OK;
}

static u16_t g_mtu = 1500;

static err_t nif_init(struct netif *nif)
{
    int idx = nif == &g_nif[0] ? 0 : 1;
    u8_t mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x01, (u8_t)(idx + 1)};
    memcpy(nif->hwaddr, mac, 6);
    nif->hwaddr_len = 6;
    nif->mtu = g_mtu;
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
    nif->output = etharp_output;
    nif->linkoutput = linkoutput;
    nif->name[0] = 'b';
    nif->name[1] = (char)('0' + idx);
    return ERR_OK;
}

static ip4_addr_t g_ip[2];

static void setup(u16_t mtu)
{
    g_mtu = mtu;
    lwip_init();
    ip4_addr_t mask, gw;
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 0, 0, 0, 0);
    for (int i = 0; i < 2; i++) {
        IP4_ADDR(&g_ip[i], 10, 0, 0, i + 1);
        netif_add(&g_nif[i], &g_ip[i], &mask, &gw, NULL, nif_init, ethernet_input);
        netif_set_up(&g_nif[i]);
        netif_set_link_up(&g_nif[i]);
    }
}

/* Delivers up to 64 queued frames, then runs due timers; the caller loops
 * (and checks its clock) between calls. */
static int pump(void)
{
    int n = 0;
    while (g_qhead != g_qtail && n < 64) {
        frame *f = &g_q[g_qhead++ % QLEN];
        if (f->to->input(f->p, f->to) != ERR_OK)
            pbuf_free(f->p);
        g_frames++;
        n++;
    }
    sys_check_timeouts();
    return n;
}

/* ---- shared state ------------------------------------------------------------ */

typedef struct bench {
    int failed;
    uint64_t t_start, t_stop;
    bench_span span;
    double seconds;
    struct tcp_pcb *client;
    uint64_t received, transactions;
    size_t msg, got_client, got_server;
    uint32_t connected, accepted;
    u16_t next_port;
} bench;

static bench g_b;

static void fail(const char *what, err_t err)
{
    if (!g_b.failed)
        fprintf(stderr, "lwip-bench: %s: err %d\n", what, (int)err);
    g_b.failed = 1;
}

static void start_timer(void)
{
    g_b.t_start = bench_now_ns();
    g_b.t_stop = g_b.t_start + (uint64_t)(g_b.seconds * 1e9);
    bench_span_start(&g_b.span);
}

static int time_up(void) { return g_b.t_start && bench_now_ns() >= g_b.t_stop; }

static void run_until(int (*done)(void), double timeout_s)
{
    uint64_t limit = bench_now_ns() + (uint64_t)(timeout_s * 1e9);
    /* The clock (done() reads it too) every 64 pumps: a pump moves one
     * frame in rr, and a clock read costs about as much as a tenth of a
     * round trip; the loop should not be what the row measures. */
    unsigned spin = 0;
    while (!g_b.failed) {
        pump();
        if (++spin % 64)
            continue;
        if (done())
            break;
        if (bench_now_ns() > limit) {
            fail("timeout", ERR_TIMEOUT);
            break;
        }
    }
}

static struct tcp_pcb *listen_on(u16_t port, tcp_accept_fn accept, u8_t backlog)
{
    struct tcp_pcb *pcb = tcp_new();
    if (!pcb || tcp_bind(pcb, &g_ip[0], port) != ERR_OK) {
        fail("bind", ERR_USE);
        return NULL;
    }
    struct tcp_pcb *l = tcp_listen_with_backlog(pcb, backlog);
    if (!l) {
        fail("listen", ERR_MEM);
        return NULL;
    }
    tcp_accept(l, accept);
    return l;
}

/* A client pcb on 10.0.0.2. With port 0 lwIP picks an ephemeral port. */
static struct tcp_pcb *client_pcb(u16_t port)
{
    struct tcp_pcb *pcb = tcp_new();
    if (!pcb)
        return NULL;
    ip_set_option(pcb, SOF_REUSEADDR);
    if (tcp_bind(pcb, &g_ip[1], port) != ERR_OK) {
        tcp_abort(pcb);
        return NULL;
    }
    return pcb;
}

/* ---- bulk -------------------------------------------------------------------- */

static u8_t g_msg[CHUNK];

static void bulk_fill(struct tcp_pcb *pcb)
{
    for (;;) {
        u32_t room = tcp_sndbuf(pcb);
        u32_t n = room < CHUNK ? room : CHUNK;
        if (n < 8192 || tcp_write(pcb, g_msg, (u16_t)(n > 0xffff ? 0xffff : n),
                                  TCP_WRITE_FLAG_COPY) != ERR_OK)
            break;
    }
    tcp_output(pcb);
}

static err_t bulk_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    bulk_fill(pcb);
    return ERR_OK;
}

static err_t bulk_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    tcp_sent(pcb, bulk_sent);
    bulk_fill(pcb);
    return ERR_OK;
}

static err_t bulk_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    if (!p)
        return ERR_OK;
    if (!g_b.t_start)
        start_timer();
    g_b.received += p->tot_len;
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static err_t bulk_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    tcp_recv(pcb, bulk_recv);
    return ERR_OK;
}

static int bulk_done(void) { return time_up(); }

static int run_bulk(u16_t mtu, double seconds)
{
    setup(mtu);
    g_b.seconds = seconds;
    listen_on(PORT, bulk_accept, 16);
    struct tcp_pcb *c = client_pcb(0);
    if (!c || tcp_connect(c, &g_ip[0], PORT, bulk_connected) != ERR_OK)
        fail("connect", ERR_CONN);
    run_until(bulk_done, seconds + 30);
    bench_span_stop(&g_b.span);
    double wall = g_b.span.eff;
    double gbps = wall > 0 ? (double)g_b.received * 8 / wall / 1e9 : 0;
    char row[32], note[128];
    bench_span_note(&g_b.span, note, sizeof note);
    snprintf(row, sizeof row, "bulk_mtu%u", mtu);
    if (!g_b.failed)
        bench_result(row, "lwip", "two netifs back to back", gbps, "Gbit/s", note);
    fprintf(stderr, "lwip bulk mtu %u: %.3f GB in %.2f s = %.3f Gbit/s (%s); %" PRIu64
                    " bytes in all\n", mtu, (double)g_b.received / 1e9, wall, gbps, note, g_b.received);
    return g_b.failed;
}

/* ---- request/response ---------------------------------------------------------- */

static void rr_send(struct tcp_pcb *pcb)
{
    g_b.got_client = 0;
    err_t e = tcp_write(pcb, g_msg, (u16_t)g_b.msg, TCP_WRITE_FLAG_COPY);
    if (e == ERR_OK)
        e = tcp_output(pcb);
    if (e != ERR_OK)
        fail("rr write", e);
}

static err_t rr_client_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    if (!p) {
        fail("rr client eof", ERR_CLSD);
        return ERR_OK;
    }
    g_b.got_client += p->tot_len;
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    if (g_b.got_client >= g_b.msg) {
        g_b.transactions++;
        /* The clock every 64 round trips, as oasis-bench does. */
        if (g_b.transactions % 64 || !time_up())
            rr_send(pcb);
    }
    return ERR_OK;
}

static err_t rr_server_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    if (!p)
        return ERR_OK;
    g_b.got_server += p->tot_len;
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    if (g_b.got_server >= g_b.msg) {
        g_b.got_server -= g_b.msg;
        tcp_write(pcb, g_msg, (u16_t)g_b.msg, TCP_WRITE_FLAG_COPY);
        tcp_output(pcb);
    }
    return ERR_OK;
}

static err_t rr_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    tcp_nagle_disable(pcb);
    tcp_recv(pcb, rr_server_recv);
    return ERR_OK;
}

static err_t rr_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    tcp_nagle_disable(pcb);
    tcp_recv(pcb, rr_client_recv);
    start_timer();
    rr_send(pcb);
    return ERR_OK;
}

static int rr_done(void) { return time_up(); }

static int run_rr(size_t size, double seconds)
{
    setup(1500);
    g_b.seconds = seconds;
    g_b.msg = size;
    listen_on(PORT, rr_accept, 16);
    struct tcp_pcb *c = client_pcb(0);
    if (!c || tcp_connect(c, &g_ip[0], PORT, rr_connected) != ERR_OK)
        fail("connect", ERR_CONN);
    run_until(rr_done, seconds + 30);
    bench_span_stop(&g_b.span);
    double wall = g_b.span.eff;
    double rate = wall > 0 ? (double)g_b.transactions / wall : 0;
    char row[32], note[128];
    bench_span_note(&g_b.span, note, sizeof note);
    snprintf(row, sizeof row, "rr_%zuB", size);
    if (!g_b.failed)
        bench_result(row, "lwip", "two netifs back to back", rate, "trans/s", note);
    fprintf(stderr, "lwip rr %zu B: %" PRIu64 " in %.2f s = %.0f/s (%s)\n", size,
            g_b.transactions, wall, rate, note);
    return g_b.failed;
}

/* ---- connect / request / response / close ------------------------------------------ */

static void crr_open(void);

/* Explicit local ports cycling through 1024..65535 (SO_REUSE lets a port
 * held by a TIME_WAIT pcb be bound again towards another 4-tuple). */
static u16_t crr_port(void)
{
    if (g_b.next_port < 1024)
        g_b.next_port = 1024;
    return g_b.next_port++;
}

static err_t crr_client_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    if (!p) /* the server's FIN after our close */
        return ERR_OK;
    g_b.got_client += p->tot_len;
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    if (g_b.got_client >= CRR_MSG) {
        tcp_recv(pcb, NULL);
        tcp_arg(pcb, NULL);
        if (tcp_close(pcb) != ERR_OK)
            fail("crr close", ERR_MEM);
        g_b.transactions++;
        if (!time_up())
            crr_open();
    }
    return ERR_OK;
}

static err_t crr_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    g_b.got_client = 0;
    tcp_nagle_disable(pcb);
    tcp_recv(pcb, crr_client_recv);
    if (tcp_write(pcb, g_msg, CRR_MSG, TCP_WRITE_FLAG_COPY) != ERR_OK || tcp_output(pcb) != ERR_OK)
        fail("crr request", ERR_MEM);
    return ERR_OK;
}

static void crr_err(void *arg, err_t err) { fail("crr connection", err); }

static void crr_open(void)
{
    struct tcp_pcb *c = NULL;
    for (int tries = 0; !c && tries < 65536; tries++)
        c = client_pcb(crr_port());
    if (!c) {
        fail("crr bind", ERR_USE);
        return;
    }
    tcp_err(c, crr_err);
    if (tcp_connect(c, &g_ip[0], PORT, crr_connected) != ERR_OK)
        fail("crr connect", ERR_CONN);
}

static err_t crr_server_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    if (!p) { /* the client's FIN */
        tcp_recv(pcb, NULL);
        tcp_close(pcb);
        return ERR_OK;
    }
    uintptr_t got = (uintptr_t)arg + p->tot_len;
    tcp_arg(pcb, (void *)got);
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    if (got == CRR_MSG) {
        tcp_write(pcb, g_msg, CRR_MSG, TCP_WRITE_FLAG_COPY);
        tcp_output(pcb);
    }
    return ERR_OK;
}

static err_t crr_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    tcp_nagle_disable(pcb);
    tcp_arg(pcb, (void *)0);
    tcp_recv(pcb, crr_server_recv);
    return ERR_OK;
}

static int run_crr(double seconds)
{
    setup(1500);
    g_b.seconds = seconds;
    listen_on(PORT, crr_accept, 255);
    start_timer();
    crr_open();
    run_until(rr_done, seconds + 30);
    bench_span_stop(&g_b.span);
    double wall = g_b.span.eff;
    double rate = wall > 0 ? (double)g_b.transactions / wall : 0;
    char note[160];
    bench_span_note(&g_b.span, note, sizeof note);
    strncat(note, "; TIME_WAIT <= 0.5 s", sizeof note - strlen(note) - 1);
    if (!g_b.failed)
        bench_result("crr", "lwip", "two netifs back to back", rate, "conn/s", note);
    fprintf(stderr, "lwip crr: %" PRIu64 " in %.2f s = %.0f/s (%s)\n", g_b.transactions, wall,
            rate, note);
    return g_b.failed;
}

/* ---- memory per idle flow ----------------------------------------------------------- */

/* Under the listen backlog (u8_t, at most 255): more SYNs at once would be
 * dropped and wait for lwIP's 3 s SYN retransmission. */
#define MEM_BATCH 200
#define MEM_PORTS_PER 60000

static err_t mem_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    g_b.connected++;
    return ERR_OK;
}

static err_t mem_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    g_b.accepted++;
    return ERR_OK;
}

static uint32_t g_target;

static int mem_batch_done(void) { return g_b.connected >= g_target && g_b.accepted >= g_target; }

static int run_mem(uint32_t flows)
{
#if !MEM_LIBC_MALLOC
    /* lwIP's own pools are static: no allocation to count per flow. */
    fprintf(stderr, "lwip-bench: the mem row counts libc malloc: run lwip-bench-malloc\n");
    return 2;
#endif
    setup(1500);
    uint32_t nports = (flows + MEM_PORTS_PER - 1) / MEM_PORTS_PER;
    for (uint32_t p = 0; p < nports; p++)
        listen_on((u16_t)(PORT + p), mem_accept, 255);
    while (pump())
        ;
    size_t base = g_mem.live;
    uint64_t t0 = bench_now_ns();
    for (uint32_t i = 0; i < flows && !g_b.failed; i += MEM_BATCH) {
        uint32_t n = flows - i < MEM_BATCH ? flows - i : MEM_BATCH;
        for (uint32_t k = i; k < i + n && !g_b.failed; k++) {
            struct tcp_pcb *c = client_pcb((u16_t)(1024 + k % MEM_PORTS_PER));
            if (!c || tcp_connect(c, &g_ip[0], (u16_t)(PORT + k / MEM_PORTS_PER), mem_connected) !=
                          ERR_OK)
                fail("mem connect", ERR_CONN);
        }
        g_target = i + n;
        run_until(mem_batch_done, 600);
    }
    while (pump())
        ;
    double per_end = (double)(g_mem.live - base) / (2.0 * flows);
    char row[32], note[96];
    snprintf(row, sizeof row, "mem_%uk", flows / 1000);
    snprintf(note, sizeof note, "per endpoint; counting libc-malloc wrapper; setup %.1f s",
             (double)(bench_now_ns() - t0) / 1e9);
    if (!g_b.failed)
        bench_result(row, "lwip", "two netifs back to back", per_end, "bytes", note);
    fprintf(stderr, "lwip mem %u flows: %.0f B per endpoint (%s)\n", flows, per_end, note);
    return g_b.failed;
}

int main(int argc, char **argv)
{
    for (size_t i = 0; i < sizeof g_msg; i++)
        g_msg[i] = (u8_t)(i * 131 + 7);
    if (argc >= 2 && !strcmp(argv[1], "bulk"))
        return run_bulk((u16_t)bench_arg_double(argc, argv, 2, 1500),
                        bench_arg_double(argc, argv, 3, 3));
    if (argc >= 2 && !strcmp(argv[1], "rr"))
        return run_rr((size_t)bench_arg_double(argc, argv, 2, 1), bench_arg_double(argc, argv, 3, 3));
    if (argc >= 2 && !strcmp(argv[1], "crr"))
        return run_crr(bench_arg_double(argc, argv, 2, 3));
    if (argc >= 2 && !strcmp(argv[1], "mem"))
        return run_mem((uint32_t)bench_arg_double(argc, argv, 2, 10000));
    fprintf(stderr, "usage: lwip-bench bulk MTU SECONDS | rr SIZE SECONDS | crr SECONDS | "
                    "mem FLOWS\n");
    return 2;
}
