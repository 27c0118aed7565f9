/* Two stacks over the in-memory wire (virtual clock): echo, half-close,
 * bulk transfer both ways at once with integrity checks, lossy links, and
 * many connections in one run with no leak. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/sha256.h"
#include "tcp/tcp_flow.h"
#include "testutil.h"

#define PORT 5001

/* The byte at stream offset i: not periodic at any power of two, so a byte
 * at the wrong place is caught. */
static uint8_t pattern(uint64_t i)
{
    uint64_t x = (i >> 3) + 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
    return (uint8_t)(x >> ((i & 7) * 8));
}

/* ---- a bulk endpoint: sends `total` bytes, reads and checks as many ---- */

#define CHUNK (64 * 1024)
#define SLOTS 4

typedef struct bulk {
    oasis_flow *flow;
    uint64_t total;
    uint64_t sent_q;      /* bytes handed to write */
    uint64_t rcvd;
    int inflight_writes;
    uint8_t buf[SLOTS][CHUNK];
    int slot;
    int bad;              /* first mismatch seen */
    int eof, closed, close_err, write_err;
    int close_requested;
    oasis_sha256 tx_hash, rx_hash;
} bulk;

static void bulk_write_cb(oasis_flow *f, int err, void *ud);

static void bulk_close_cb(oasis_flow *f, int err, void *ud)
{
    bulk *b = ud;
    b->closed = 1;
    b->close_err = err;
    b->flow = NULL;
    oasis_tcp_release(f);
}

static void bulk_pump(bulk *b)
{
    while (b->inflight_writes < SLOTS && b->sent_q < b->total) {
        size_t n = b->total - b->sent_q > CHUNK ? CHUNK : (size_t)(b->total - b->sent_q);
        uint8_t *p = b->buf[b->slot];
        b->slot = (b->slot + 1) % SLOTS;
        for (size_t i = 0; i < n; i++)
            p[i] = pattern(b->sent_q + i);
        oasis_sha256_update(&b->tx_hash, p, n);
        assert_int_equal(oasis_tcp_write(b->flow, p, n, bulk_write_cb, b), 0);
        b->sent_q += n;
        b->inflight_writes++;
    }
    if (b->sent_q == b->total && b->inflight_writes == 0 && !b->close_requested) {
        b->close_requested = 1;
        assert_int_equal(oasis_tcp_close(b->flow, bulk_close_cb, b), 0);
    }
}

static void bulk_write_cb(oasis_flow *f, int err, void *ud)
{
    bulk *b = ud;
    b->inflight_writes--;
    if (err) {
        b->write_err = err;
        return;
    }
    bulk_pump(b);
}

static void bulk_read_cb(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    bulk *b = ud;
    if (err == OASIS_EOF) {
        b->eof = 1;
        return;
    }
    assert_int_equal(err, 0);
    for (size_t i = 0; i < len && !b->bad; i++)
        if (data[i] != pattern(b->rcvd + i))
            b->bad = 1;
    oasis_sha256_update(&b->rx_hash, data, len);
    b->rcvd += len;
    assert_int_equal(oasis_tcp_read(f, bulk_read_cb, b), 0);
}

static void bulk_start(bulk *b, oasis_flow *f)
{
    b->flow = f;
    oasis_sha256_init(&b->tx_hash);
    oasis_sha256_init(&b->rx_hash);
    assert_int_equal(oasis_tcp_read(f, bulk_read_cb, b), 0);
    bulk_pump(b);
}

static void bulk_accept(oasis_stack *s, oasis_flow *f, void *ud) { bulk_start(ud, f); }

static void bulk_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    assert_int_equal(err, 0);
    bulk_start(ud, f);
}

static int both_closed(void *ud)
{
    bulk **b = ud;
    return b[0]->closed && b[1]->closed;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void dump_flow(oasis_flow *f, void *ud)
{
    oasis_tcp_info i;
    oasis_tcp_get_info(f, &i);
    printf("  %s: err %d %s inflight %u snd_wnd %u rcv_wnd %u cwnd %u acked %llu rcvd %llu\n",
           (const char *)ud, oasis_tcp_flow_error(f), oasis_tcp_state_name(i.state), i.bytes_in_flight, i.snd_wnd, i.rcv_wnd,
           i.cwnd, (unsigned long long)i.bytes_acked, (unsigned long long)i.bytes_received);
}

static void dump_ctr(const char *name, oasis_stack *s)
{
    const oasis_tcp_counters *c = &oasis_stack_counters(s)->tcp;
    const oasis_counters *all = oasis_stack_counters(s);
    printf("  %s: ip out_discards %llu no_routes %llu in_hdr %llu csum %llu arp queue_drops %llu link tx_err %llu\n",
           name, (unsigned long long)all->ip.out_discards, (unsigned long long)all->ip.out_no_routes,
           (unsigned long long)all->ip.in_hdr_errors, (unsigned long long)all->ip.in_csum_errors,
           (unsigned long long)all->arp.queue_drops, (unsigned long long)all->link.tx_errors);
    printf("  %s: in %llu out %llu retrans %llu oow %llu paws %llu csum %llu errs %llu ofo %llu/%llu "
           "timeouts %llu fast %llu\n",
           name, (unsigned long long)c->in_segs, (unsigned long long)c->out_segs,
           (unsigned long long)c->retrans_segs, (unsigned long long)c->out_of_window,
           (unsigned long long)c->paws_drops, (unsigned long long)c->in_csum_errors,
           (unsigned long long)c->in_errs, (unsigned long long)c->ofo_queued,
           (unsigned long long)c->ofo_drops, (unsigned long long)c->timeouts,
           (unsigned long long)c->fast_retrans);
}

static void dump(test_net *n)
{
    printf("  wire drops %llu\n", (unsigned long long)oasis_wire_drops(n->wire));
    dump_ctr("a", n->a);
    dump_ctr("b", n->b);
    oasis_tcp_foreach_flow(n->a, dump_flow, "a");
    oasis_tcp_foreach_flow(n->b, dump_flow, "b");
}

static void run_bulk(test_net *n, uint64_t total_a, uint64_t total_b, uint64_t timeout_ns)
{
    bulk *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    a->total = total_a;
    b->total = total_b;
    assert_int_equal(oasis_tcp_listen(n->b, PORT, NULL, bulk_accept, b), 0);
    assert_int_equal(oasis_tcp_connect4(n->a, TEST_ADDR_B, PORT, NULL, bulk_connected, a), 0);
    bulk *both[2] = {a, b};
    double t0 = now_s();
    int rc = oasis_wire_run(n->wire, both_closed, both, timeout_ns);
    double dt = now_s() - t0;
    if (rc || getenv("TCP_DUMP"))
        dump(n);
    assert_int_equal(rc, 0);
    assert_false(a->bad);
    assert_false(b->bad);
    assert_int_equal(a->rcvd, total_b);
    assert_int_equal(b->rcvd, total_a);
    assert_true(a->eof && b->eof);
    assert_int_equal(a->close_err, 0);
    assert_int_equal(b->close_err, 0);
    uint8_t h1[32], h2[32];
    oasis_sha256_final(&a->tx_hash, h1);
    oasis_sha256_final(&b->rx_hash, h2);
    assert_memory_equal(h1, h2, 32);
    oasis_sha256_final(&b->tx_hash, h1);
    oasis_sha256_final(&a->rx_hash, h2);
    assert_memory_equal(h1, h2, 32);
    printf("  bulk %llu + %llu bytes in %.2f s wall (%.0f Mbit/s total)\n",
           (unsigned long long)total_a, (unsigned long long)total_b, dt,
           (double)(total_a + total_b) * 8 / dt / 1e6);
    free(a);
    free(b);
}

static void expect_clean(test_net *n)
{
    /* Let TIME_WAIT run out. */
    oasis_wire_run(n->wire, NULL, NULL, 300 * OASIS_NS_PER_SEC);
    const oasis_tcp_counters *ca = &oasis_stack_counters(n->a)->tcp;
    const oasis_tcp_counters *cb = &oasis_stack_counters(n->b)->tcp;
    assert_int_equal(ca->flows, 0);
    assert_int_equal(cb->flows, 0);
    assert_int_equal(ca->time_wait, 0);
    assert_int_equal(cb->time_wait, 0);
    assert_int_equal(ca->curr_estab, 0);
    assert_int_equal(cb->curr_estab, 0);
}

static void test_bulk_both_ways(void **state)
{
    test_net n;
    test_net_init(&n, NULL, NULL);
    run_bulk(&n, 64u << 20, 64u << 20, 600 * OASIS_NS_PER_SEC);
    expect_clean(&n);
    test_net_fini(&n);
}

static void test_bulk_one_way_small_buffers(void **state)
{
    test_net n;
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.sndbuf = 16 * 1024;
    c.tcp.rcvbuf = 8 * 1024;
    test_net_init(&n, NULL, &c.tcp);
    run_bulk(&n, 4u << 20, 0, 600 * OASIS_NS_PER_SEC);
    expect_clean(&n);
    test_net_fini(&n);
}

/* Both ISNs just below 2^32: every sequence space wraps early on. */
static void test_bulk_across_wrap(void **state)
{
    test_net n;
    test_net_init(&n, NULL, NULL);
    oasis_tcp_set_next_isn(n.a, 0xFFFFFFFFu - 1000);
    oasis_tcp_set_next_isn(n.b, 0xFFFF0000u);
    run_bulk(&n, 8u << 20, 8u << 20, 600 * OASIS_NS_PER_SEC);
    expect_clean(&n);
    test_net_fini(&n);
}

static void test_bulk_lossy(void **state)
{
    test_net n;
    oasis_wire_config w;
    oasis_wire_config_init(&w);
    w.delay_ns = 1 * OASIS_NS_PER_MS;
    test_net_init(&n, &w, NULL);
    oasis_impair imp;
    oasis_impair_init(&imp);
    imp.loss = 0.01;
    imp.reorder = 0.01;
    imp.duplicate = 0.005;
    imp.corrupt = 0.002;
    assert_int_equal(oasis_wire_impair(n.wire, oasis_stack_link(n.a), NULL, &imp), 0);
    assert_int_equal(oasis_wire_impair(n.wire, oasis_stack_link(n.b), NULL, &imp), 0);
    run_bulk(&n, 8u << 20, 8u << 20, 3600 * OASIS_NS_PER_SEC);
    const oasis_tcp_counters *ca = &oasis_stack_counters(n.a)->tcp;
    assert_true(ca->retrans_segs > 0);
    expect_clean(&n);
    test_net_fini(&n);
}

/* ---- raw speed (no checking): a figure for the log ---- */

typedef struct sink {
    uint64_t got, total;
    int done;
} sink;

static uint8_t speed_buf[256 * 1024];

static void speed_write_cb(oasis_flow *f, int err, void *ud)
{
    sink *k = ud;
    if (!err && k->total) {
        size_t n = k->total > sizeof speed_buf ? sizeof speed_buf : (size_t)k->total;
        k->total -= n;
        assert_int_equal(oasis_tcp_write(f, speed_buf, n, speed_write_cb, k), 0);
    }
}

static void speed_read_cb(oasis_flow *f, int err, const uint8_t *d, size_t len, void *ud)
{
    sink *k = ud;
    if (err) {
        k->done = 1;
        return;
    }
    k->got += len;
    oasis_tcp_read(f, speed_read_cb, k);
}

static void speed_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    oasis_tcp_read(f, speed_read_cb, ud);
}

static void speed_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    sink *k = ud;
    assert_int_equal(err, 0);
    speed_write_cb(f, 0, k);
    speed_write_cb(f, 0, k);
}

static int sink_full(void *ud)
{
    sink **k = ud;
    return k[1]->got >= (256ull << 20);
}

static void test_speed(void **state)
{
    test_net n;
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    if (getenv("TCP_SPEED_BUF"))
        c.tcp.sndbuf = c.tcp.rcvbuf = (uint32_t)atoi(getenv("TCP_SPEED_BUF"));
    test_net_init(&n, NULL, &c.tcp);
    sink tx = {.total = 256ull << 20}, rx = {0};
    assert_int_equal(oasis_tcp_listen(n.b, PORT, NULL, speed_accept, &rx), 0);
    assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, PORT, NULL, speed_connected, &tx), 0);
    sink *both[2] = {&tx, &rx};
    double t0 = now_s();
    assert_int_equal(oasis_wire_run(n.wire, sink_full, both, 600 * OASIS_NS_PER_SEC), 0);
    double dt = now_s() - t0;
    printf("  one way, no checks: %llu bytes in %.2f s wall (%.2f Gbit/s)\n",
           (unsigned long long)rx.got, dt, (double)rx.got * 8 / dt / 1e9);
    test_net_fini(&n);
}

/* ---- echo and half-close ---- */

typedef struct echo {
    oasis_flow *flow;
    uint8_t buf[4096];
    size_t len;
    int eof, closed, close_err, accepted, connected;
    int echo;           /* server: write back what is read */
} echo;

static void echo_close_cb(oasis_flow *f, int err, void *ud)
{
    echo *e = ud;
    e->closed = 1;
    e->close_err = err;
    oasis_tcp_release(f);
}

static void echo_read_cb(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    echo *e = ud;
    if (err == OASIS_EOF) {
        e->eof++;
        if (e->echo)
            assert_int_equal(oasis_tcp_close(f, echo_close_cb, e), 0);
        return;
    }
    assert_int_equal(err, 0);
    assert_true(e->len + len <= sizeof e->buf);
    memcpy(e->buf + e->len, data, len);
    if (e->echo)
        assert_int_equal(oasis_tcp_write(f, e->buf + e->len, len, NULL, NULL), 0);
    e->len += len;
    assert_int_equal(oasis_tcp_read(f, echo_read_cb, e), 0);
}

static void echo_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    echo *e = ud;
    e->flow = f;
    e->accepted++;
    assert_int_equal(oasis_tcp_read(f, echo_read_cb, e), 0);
}

static void echo_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    echo *e = ud;
    assert_int_equal(err, 0);
    e->flow = f;
    e->connected++;
    assert_int_equal(oasis_tcp_read(f, echo_read_cb, e), 0);
}

static int flag_of(void *ud) { return *(int *)ud; }

static void test_echo(void **state)
{
    test_net n;
    test_net_init(&n, NULL, NULL);
    echo srv = {.echo = 1}, cli = {0};
    assert_int_equal(oasis_tcp_listen(n.b, 7, NULL, echo_accept, &srv), 0);
    assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, 7, NULL, echo_connected, &cli), 0);
    assert_int_equal(oasis_wire_run(n.wire, flag_of, &cli.connected, OASIS_NS_PER_SEC), 0);
    const char *msg = "hello, oasis";
    assert_int_equal(oasis_tcp_write(cli.flow, msg, strlen(msg), NULL, NULL), 0);
    oasis_wire_run(n.wire, NULL, NULL, OASIS_NS_PER_SEC);
    assert_int_equal(cli.len, strlen(msg));
    assert_memory_equal(cli.buf, msg, cli.len);
    /* client closes; the server sees EOF, closes too: both complete */
    assert_int_equal(oasis_tcp_close(cli.flow, echo_close_cb, &cli), 0);
    assert_int_equal(oasis_wire_run(n.wire, flag_of, &cli.closed, 10 * OASIS_NS_PER_SEC), 0);
    oasis_wire_run(n.wire, NULL, NULL, OASIS_NS_PER_SEC);
    assert_int_equal(srv.closed, 1);
    assert_int_equal(cli.eof, 1);
    assert_int_equal(srv.eof, 1);
    expect_clean(&n);
    test_net_fini(&n);
}

/* A closes its side first and keeps reading while B goes on writing; then
 * the other way round. */
static void half_close(int client_first)
{
    test_net n;
    test_net_init(&n, NULL, NULL);
    echo srv = {0}, cli = {0};
    assert_int_equal(oasis_tcp_listen(n.b, 9, NULL, echo_accept, &srv), 0);
    assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, 9, NULL, echo_connected, &cli), 0);
    assert_int_equal(oasis_wire_run(n.wire, flag_of, &cli.connected, OASIS_NS_PER_SEC), 0);
    oasis_wire_run(n.wire, NULL, NULL, OASIS_NS_PER_SEC);
    echo *first = client_first ? &cli : &srv, *second = client_first ? &srv : &cli;
    assert_int_equal(oasis_tcp_write(first->flow, "abc", 3, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_close(first->flow, echo_close_cb, first), 0);
    oasis_wire_run(n.wire, NULL, NULL, OASIS_NS_PER_SEC);
    assert_int_equal(second->eof, 1);
    assert_int_equal(second->len, 3);
    assert_int_equal(first->closed, 0);
    /* the other side writes on; the closed side still reads */
    for (int i = 0; i < 5; i++)
        assert_int_equal(oasis_tcp_write(second->flow, "0123456789", 10, NULL, NULL), 0);
    oasis_wire_run(n.wire, NULL, NULL, OASIS_NS_PER_SEC);
    assert_int_equal(first->len, 50);
    assert_int_equal(first->eof, 0);
    assert_int_equal(oasis_tcp_close(second->flow, echo_close_cb, second), 0);
    oasis_wire_run(n.wire, NULL, NULL, 10 * OASIS_NS_PER_SEC);
    assert_int_equal(first->eof, 1);
    assert_int_equal(first->closed, 1);
    assert_int_equal(second->closed, 1);
    assert_int_equal(first->close_err, 0);
    assert_int_equal(second->close_err, 0);
    expect_clean(&n);
    test_net_fini(&n);
}

static void test_half_close_client_first(void **state) { half_close(1); }
static void test_half_close_server_first(void **state) { half_close(0); }

static void refused_cb(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    *(int *)ud = err;
    assert_null(f);
}

static void test_connect_refused(void **state)
{
    test_net n;
    test_net_init(&n, NULL, NULL);
    int err = 1;
    assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, 4242, NULL, refused_cb, &err), 0);
    oasis_wire_run(n.wire, NULL, NULL, OASIS_NS_PER_SEC);
    assert_int_equal(err, OASIS_EREFUSED);
    assert_int_equal(oasis_stack_counters(n.a)->tcp.flows, 0);
    test_net_fini(&n);
}

/* ---- many connections ---- */

/* 100,000 also under ASan+UBSan: each one is a few microseconds there. */
#define MANY_CONNECTIONS 100000

typedef struct many {
    int opened, done, target, active;
    uint64_t bytes;
    oasis_stack *a;
} many;

static void many_start(many *m);

static void many_close_cb(oasis_flow *f, int err, void *ud)
{
    many *m = ud;
    assert_int_equal(err, 0);
    m->done++;
    m->active--;
    oasis_tcp_release(f);
    many_start(m);
}

static void many_read_cb(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    many *m = ud;
    if (err == OASIS_EOF)
        return;
    assert_int_equal(err, 0);
    m->bytes += len;
    assert_int_equal(oasis_tcp_read(f, many_read_cb, m), 0);
}

static void many_server_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    if (err == OASIS_EOF) {
        assert_int_equal(oasis_tcp_close(f, NULL, NULL), 0);
        return;
    }
    assert_int_equal(err, 0);
    assert_int_equal(oasis_tcp_write(f, data, len, NULL, NULL), 0); /* copied at once */
    assert_int_equal(oasis_tcp_read(f, many_server_read, ud), 0);
}

static void many_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    assert_int_equal(oasis_tcp_read(f, many_server_read, ud), 0);
}

static void many_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    many *m = ud;
    assert_int_equal(err, 0);
    assert_int_equal(oasis_tcp_read(f, many_read_cb, m), 0);
    assert_int_equal(oasis_tcp_write(f, "ping", 4, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_close(f, many_close_cb, m), 0);
    many_start(m);
}

static void many_start(many *m)
{
    while (m->opened < m->target && m->active < 64) {
        assert_int_equal(oasis_tcp_connect4(m->a, TEST_ADDR_B, PORT, NULL, many_connected, m), 0);
        m->opened++;
        m->active++;
    }
}

static int many_done(void *ud)
{
    many *m = ud;
    return m->done == m->target;
}

static void test_many_connections(void **state)
{
    test_net n;
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.msl_ns = 10 * OASIS_NS_PER_MS; /* so 16k ephemeral ports are enough */
    oasis_wire_config w;
    oasis_wire_config_init(&w);
    w.delay_ns = 100 * OASIS_NS_PER_US; /* time must pass for TIME_WAIT to end */
    test_net_init(&n, &w, &c.tcp);
    many m = {.target = MANY_CONNECTIONS, .a = n.a};
    if (getenv("TCP_MANY"))
        m.target = atoi(getenv("TCP_MANY"));
    assert_int_equal(oasis_tcp_listen(n.b, PORT, NULL, many_accept, NULL), 0);
    many_start(&m);
    double t0 = now_s();
    int rc = oasis_wire_run(n.wire, many_done, &m, 3600 * OASIS_NS_PER_SEC);
    if (rc) {
        printf("  opened %d done %d active %d bytes %llu\n", m.opened, m.done, m.active,
               (unsigned long long)m.bytes);
        dump(&n);
    }
    assert_int_equal(rc, 0);
    printf("  %d connections in %.2f s wall\n", m.target, now_s() - t0);
    assert_int_equal(m.bytes, 4ull * m.target);
    assert_int_equal(oasis_tcp_unlisten(n.b, PORT), 0);
    expect_clean(&n);
    const oasis_tcp_counters *ca = &oasis_stack_counters(n.a)->tcp;
    assert_int_equal(ca->active_opens, (uint64_t)m.target);
    test_net_fini(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo),
        cmocka_unit_test(test_connect_refused),
        cmocka_unit_test(test_half_close_client_first),
        cmocka_unit_test(test_half_close_server_first),
        cmocka_unit_test(test_bulk_one_way_small_buffers),
        cmocka_unit_test(test_bulk_both_ways),
        cmocka_unit_test(test_bulk_across_wrap),
        cmocka_unit_test(test_bulk_lossy),
        cmocka_unit_test(test_many_connections),
        cmocka_unit_test(test_speed),
    };
    if (getenv("TCP_TEST"))
        cmocka_set_test_filter(getenv("TCP_TEST"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
