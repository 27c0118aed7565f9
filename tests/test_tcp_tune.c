/* Buffer sizes before the handshake, auto-tuning and the memory budget
 * (issue 16). Virtual clock throughout: rates are bytes over clock time,
 * never wall time.
 *  - per-flow sizes given to listen and connect are what the SYN and
 *    SYN-ACK advertise, window scale included;
 *  - on a long fat path (50 ms RTT, 100 Mbit/s bottleneck) the buffers grow
 *    and the flow reaches the bottleneck's rate; on a short one (1 ms) they
 *    stay at their start size and the rate is reached too;
 *  - 10,000 flows whose applications do not read stay within a 64 MiB
 *    budget (receivers and senders alike), and all complete, intact, once
 *    reading resumes;
 *  - while flows that stopped reading fill the budget, new flows still get
 *    their request in and their answer out, within it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/stack_impl.h"
#include "oasis/oasis.h"
#include "tcp/tcp_flow.h"
#include "tcp_harness.h"
#include "testutil.h"

#define A OASIS_TCP_ACK
#define S OASIS_TCP_SYN

/* ---- sizes in the SYN ------------------------------------------------------ */

static void noop_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    (void)ud;
    oasis_tcp_release(f);
}

static void noop_connect(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s;
    (void)f;
    (void)err;
    (void)ud;
}

/* Listens on port with bufs, sends a SYN offering window scaling and
 * returns the SYN-ACK. */
static oasis_tcp_hdr synack_for(tcp_harness *h, uint16_t port, const oasis_tcp_bufsizes *bufs)
{
    oasis_listen_opts o = {.bufs = *bufs};
    assert_int_equal(oasis_tcp_listen(h->s, port, &o, noop_accept, NULL), 0);
    th_clear(h);
    oasis_tcp_hdr syn = th_seg(TH_PPORT, port, S, TH_PISN, 0);
    syn.has_mss = 1;
    syn.mss = 1460;
    syn.has_wscale = 1;
    syn.wscale = 7;
    th_inject(h, &syn);
    oasis_tcp_hdr r;
    assert_true(th_pop(h, &r));
    assert_int_equal(r.flags, S | A);
    assert_true(r.has_wscale);
    return r;
}

static oasis_tcp_hdr syn_for(tcp_harness *h, const oasis_tcp_bufsizes *bufs, oasis_flow **f)
{
    th_clear(h);
    oasis_connect_opts o = {.bufs = *bufs};
    assert_int_equal(oasis_tcp_connect_opts4(h->s, TH_PEER, 80, &o, noop_connect, NULL, f), 0);
    th_poll(h);
    oasis_tcp_hdr r;
    assert_true(th_pop(h, &r));
    assert_int_equal(r.flags, S);
    assert_true(r.has_wscale);
    return r;
}

static void test_sizes_in_syn(void **state)
{
    (void)state;
    tcp_harness h;
    th_init(&h, NULL); /* defaults: tuned, 64 KiB start, 4 MiB limit */

    /* A fixed receive buffer: its size, unscaled (it fits 16 bits). */
    oasis_tcp_bufsizes b = {.rcvbuf = 12345};
    oasis_tcp_hdr r = synack_for(&h, 81, &b);
    assert_int_equal(r.window, 12345);
    assert_int_equal(r.wscale, 0);
    /* 1 MiB fixed: the SYN-ACK says 65535 (never scaled), scale 5. */
    b = (oasis_tcp_bufsizes){.rcvbuf = 1u << 20};
    r = synack_for(&h, 82, &b);
    assert_int_equal(r.window, 65535);
    assert_int_equal(r.wscale, 5);
    /* Tuned with a flow limit of 256 KiB: the scale covers 256 KiB. */
    b = (oasis_tcp_bufsizes){.rcvbuf_max = 256u << 10};
    r = synack_for(&h, 83, &b);
    assert_int_equal(r.wscale, 3);
    /* Tuned, no limit of its own: the stack's 4 MiB. */
    b = (oasis_tcp_bufsizes){0};
    r = synack_for(&h, 84, &b);
    assert_int_equal(r.window, 65535);
    assert_int_equal(r.wscale, 7);

    /* Active opens. */
    oasis_flow *f1, *f2;
    b = (oasis_tcp_bufsizes){.rcvbuf = 8000, .sndbuf = 3000};
    r = syn_for(&h, &b, &f1);
    assert_int_equal(r.window, 8000);
    assert_int_equal(r.wscale, 0);
    oasis_tcp_sndbuf sb;
    assert_int_equal(oasis_tcp_get_sndbuf(f1, &sb), 0);
    assert_int_equal(sb.size, 3000);
    b = (oasis_tcp_bufsizes){.rcvbuf_max = 64u << 20}; /* above the stack's 4 MiB */
    r = syn_for(&h, &b, &f2);
    assert_int_equal(r.wscale, 7);
    /* A size out of range is refused. */
    oasis_connect_opts bad = {.bufs = {.rcvbuf = 10}};
    assert_int_equal(oasis_tcp_connect_opts4(h.s, TH_PEER, 80, &bad, noop_connect, NULL, NULL),
                     OASIS_EINVAL);
    oasis_tcp_release(f1);
    oasis_tcp_release(f2);
    th_fini(&h);
}

/* ---- bulk over an impaired wire ---------------------------------------------- */

#define CHUNK (64u * 1024u)

typedef struct bulk {
    oasis_stack *s;
    oasis_flow *tx, *rx;
    uint8_t buf[CHUNK];
    uint64_t to_send, written, received;
    uint64_t t_mark, mark;         /* clock and bytes when `mark` was passed */
    uint64_t mark_at;              /* bytes at which to take the mark */
    int done;
} bulk;

static void bulk_write_done(oasis_flow *f, int err, void *ud);

static void bulk_write(bulk *b)
{
    uint64_t left = b->to_send - b->written;
    if (!left) {
        oasis_tcp_close(b->tx, NULL, NULL);
        return;
    }
    uint32_t n = left < CHUNK ? (uint32_t)left : CHUNK;
    b->written += n;
    assert_int_equal(oasis_tcp_write(b->tx, b->buf, n, bulk_write_done, b), 0);
}

static void bulk_write_done(oasis_flow *f, int err, void *ud)
{
    (void)f;
    assert_int_equal(err, 0);
    bulk_write(ud);
}

static void bulk_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s;
    bulk *b = ud;
    assert_int_equal(err, 0);
    b->tx = f;
    bulk_write(b);
    bulk_write(b);
}

/* Counts a read's bytes (the mark: when mark_at was passed). */
static void bulk_read_count(bulk *b, int err, size_t len)
{
    if (err) {
        b->done = 1;
        return;
    }
    uint64_t before = b->received;
    b->received += len;
    if (before < b->mark_at && b->received >= b->mark_at) {
        b->t_mark = oasis_stack_now(b->s);
        b->mark = b->received;
    }
}

static void bulk_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    (void)data;
    bulk *b = ud;
    bulk_read_count(b, err, len);
    if (!err)
        oasis_tcp_read(f, bulk_read, b);
}

static void bulk_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    bulk *b = ud;
    b->rx = f;
    oasis_tcp_read(f, bulk_read, b);
}

/* 100 Mbit/s from a to b with the queue given, one_way_ns delay each way. */
static void path(test_net *n, uint64_t one_way_ns, uint32_t queue_bytes)
{
    oasis_impair im;
    oasis_impair_init(&im);
    im.delay_ns = one_way_ns;
    oasis_link *la = oasis_stack_link(n->a), *lb = oasis_stack_link(n->b);
    assert_int_equal(oasis_wire_impair(n->wire, lb, la, &im), 0);
    im.rate_bps = 100000000;
    im.queue_bytes = queue_bytes;
    assert_int_equal(oasis_wire_impair(n->wire, la, lb, &im), 0);
}

/* Sends total bytes a -> b; returns the goodput in bit/s from mark_at to
 * the end (clock time). */
static double run_bulk(test_net *n, bulk *b, uint64_t total, uint64_t mark_at)
{
    memset(b, 0, sizeof *b);
    b->s = n->b;
    b->to_send = total;
    b->mark_at = mark_at;
    assert_int_equal(oasis_tcp_listen(n->b, 5001, NULL, bulk_accept, b), 0);
    assert_int_equal(oasis_tcp_connect4(n->a, TEST_ADDR_B, 5001, NULL, bulk_connected, b), 0);
    assert_int_equal(test_net_run_until(n, &b->done, 600 * OASIS_NS_PER_SEC), 0);
    assert_int_equal(b->received, total);
    uint64_t t_end = oasis_stack_now(n->b);
    return (double)(total - b->mark) * 8.0 / ((double)(t_end - b->t_mark) / 1e9);
}

static void test_grows_on_long_path(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    path(&n, 25 * OASIS_NS_PER_MS, 625000); /* BDP 625 kB, a BDP of queue */
    bulk *b = calloc(1, sizeof *b);
    assert_non_null(b);
    double bps = run_bulk(&n, b, 80u << 20, 16u << 20);
    const oasis_tcp_counters *c = &oasis_stack_counters(n.b)->tcp;
    print_message("long path: %.1f Mbit/s, rcvbuf %u, sndbuf %u, grows %llu/%llu\n", bps / 1e6,
                  b->rx->rcvbuf, b->tx->sndbuf, (unsigned long long)c->rcvbuf_grows,
                  (unsigned long long)oasis_stack_counters(n.a)->tcp.sndbuf_grows);
    /* 1448 of every 1514 bytes on the wire are payload: 95.6 Mbit/s at
     * most. The window had to pass the BDP, 10 times the start size. */
    assert_true(bps > 90e6);
    assert_true(b->rx->rcvbuf >= 625000);
    assert_true(b->tx->sndbuf >= 625000);
    assert_true(c->rcvbuf_grows > 0);
    /* The send buffer grows at least by doubling: the writer keeps it
     * full, so its storage is copied at every step, and growing by each
     * ACK's worth of cwnd took 672 steps (2.8 s of copying to send 80 MiB,
     * 0.1 s now). 64 KiB to 4 MiB is 6 doublings. */
    assert_true(oasis_stack_counters(n.a)->tcp.sndbuf_grows <= 8);
    oasis_tcp_info ti;
    assert_int_equal(oasis_tcp_get_info(b->rx, &ti), 0);
    assert_int_equal(ti.rcvbuf, b->rx->rcvbuf);
    assert_int_equal(oasis_tcp_get_info(b->tx, &ti), 0);
    assert_int_equal(ti.sndbuf, b->tx->sndbuf);
    oasis_tcp_release(b->rx);
    oasis_tcp_release(b->tx);
    free(b);
    test_net_fini(&n);
}

static void test_small_on_short_path(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    path(&n, 500 * OASIS_NS_PER_US, 100000); /* 1 ms RTT: BDP 12.5 kB */
    bulk *b = calloc(1, sizeof *b);
    assert_non_null(b);
    double bps = run_bulk(&n, b, 24u << 20, 4u << 20);
    print_message("short path: %.1f Mbit/s, rcvbuf %u, sndbuf %u\n", bps / 1e6, b->rx->rcvbuf,
                  b->tx->sndbuf);
    assert_true(bps > 90e6);
    /* The start size covers a BDP of 12.5 kB: nothing grew, even though the
     * bottleneck's queue (100 kB) made the smoothed RTT 9 times longer. */
    assert_int_equal(b->rx->rcvbuf, 64u << 10);
    assert_int_equal(oasis_stack_counters(n.b)->tcp.rcvbuf_grows, 0);
    oasis_tcp_release(b->rx);
    oasis_tcp_release(b->tx);
    free(b);
    test_net_fini(&n);
}

/* ---- a short fast path: 10 us RTT, 10 Gbit/s ----------------------------------
 *
 * BDP 10 Gbit/s x 10 us = 12.5 kB: the 64 KiB start size is five of them.
 * The receiving application polls: it takes what has arrived every 40 us
 * (an event loop's tick; the rounds of an in-memory wire batch reads the
 * same way), 50 kB a batch at the line rate, which the start size holds.
 * Bytes consumed between two measures are then 4 RTTs' worth or more;
 * taken as one RTT's (the rule before issue 16's second pass) they made
 * the buffer grow to several hundred kB, and the send buffer followed. */

#define POLL_NS (40 * OASIS_NS_PER_US)

typedef struct poller {
    bulk b;
    uint64_t poll_at; /* the instant of the current poll */
    int pending;      /* a read is outstanding */
} poller;

static void poll_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    poller *p = ud;
    p->pending = 0;
    bulk_read_count(&p->b, err, len);
    if (!err && oasis_stack_now(p->b.s) == p->poll_at) { /* drain this poll's data */
        p->pending = 1;
        assert_int_equal(oasis_tcp_read(f, poll_read, p), 0);
    }
    (void)data;
}

static void poll_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    poller *p = ud;
    p->b.rx = f;
}

/* 10 Gbit/s a -> b with a 100 kB queue, 5 us each way. */
static void fast_path(test_net *n)
{
    oasis_impair im;
    oasis_impair_init(&im);
    im.delay_ns = 5 * OASIS_NS_PER_US;
    oasis_link *la = oasis_stack_link(n->a), *lb = oasis_stack_link(n->b);
    assert_int_equal(oasis_wire_impair(n->wire, lb, la, &im), 0);
    im.rate_bps = 10000000000ull;
    im.queue_bytes = 100000;
    assert_int_equal(oasis_wire_impair(n->wire, la, lb, &im), 0);
}

static void test_small_on_fast_path(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    fast_path(&n);
    poller *p = calloc(1, sizeof *p);
    assert_non_null(p);
    bulk *b = &p->b;
    b->s = n.b;
    b->to_send = 200u << 20;
    b->mark_at = 20u << 20;
    assert_int_equal(oasis_tcp_listen(n.b, 5001, NULL, poll_accept, p), 0);
    assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, 5001, NULL, bulk_connected, b), 0);
    uint64_t limit = oasis_stack_now(n.b) + 10 * OASIS_NS_PER_SEC;
    while (!b->done && oasis_stack_now(n.b) < limit) {
        p->poll_at = oasis_stack_now(n.b);
        if (b->rx && !p->pending) {
            p->pending = 1;
            assert_int_equal(oasis_tcp_read(b->rx, poll_read, p), 0);
        }
        oasis_wire_run(n.wire, NULL, NULL, POLL_NS);
    }
    assert_true(b->done);
    assert_int_equal(b->received, b->to_send);
    double bps = (double)(b->to_send - b->mark) * 8.0 /
                 ((double)(oasis_stack_now(n.b) - b->t_mark) / 1e9);
    oasis_tcp_sndbuf sb;
    assert_int_equal(oasis_tcp_get_sndbuf(b->tx, &sb), 0);
    print_message("fast path: %.2f Gbit/s, rcvbuf %u, sndbuf %u, grows %llu/%llu\n", bps / 1e9,
                  b->rx->rcvbuf, sb.size,
                  (unsigned long long)oasis_stack_counters(n.b)->tcp.rcvbuf_grows,
                  (unsigned long long)oasis_stack_counters(n.a)->tcp.sndbuf_grows);
    /* The line's payload rate is 10 Gbit/s x 1448 / 1514 = 9.56 Gbit/s. */
    assert_true(bps > 9.0e9);
    /* Bounds: the start size covers the BDP five times and a poll's batch,
     * so the receive buffer does not grow at all; the send buffer holds at
     * most twice the largest window the peer offered, 2 x 64 KiB. */
    assert_int_equal(b->rx->rcvbuf, 64u << 10);
    assert_true(sb.size <= 2 * (64u << 10));
    oasis_tcp_release(b->rx);
    oasis_tcp_release(b->tx);
    free(p);
    test_net_fini(&n);
}

/* ---- the minimum RTT, not the smoothed one --------------------------------------
 *
 * The handshake crosses a 20 ms each-way path (the SYN-ACK sat in a queue
 * that has drained since, or the route changed); then the path is 5 us
 * each way at 10 Gbit/s. A pure receiver's smoothed RTT is its handshake
 * sample, 40 ms, for the whole transfer: measuring per smoothed RTT, 40 ms
 * at 10 Gbit/s (50 MB) looks like the BDP and the buffer grows to the
 * 4 MiB limit. Its own samples (the time the peer takes to fill a buffer
 * it has just opened, minimum-latched) find the 10 us the path has now. */
static void hold_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s;
    bulk *b = ud;
    assert_int_equal(err, 0);
    b->tx = f; /* writes start once the path has changed */
}

static int both_open(void *ud)
{
    const bulk *b = ud;
    return b->rx && b->tx;
}

/* A bulk a -> b on the bare wire, both ends established, no data yet. */
static bulk *open_held(test_net *n, uint64_t mark_at)
{
    bulk *b = calloc(1, sizeof *b);
    assert_non_null(b);
    b->s = n->b;
    b->to_send = 200u << 20;
    b->mark_at = mark_at;
    assert_int_equal(oasis_tcp_listen(n->b, 5001, NULL, bulk_accept, b), 0);
    assert_int_equal(oasis_tcp_connect4(n->a, TEST_ADDR_B, 5001, NULL, hold_connected, b), 0);
    assert_int_equal(oasis_wire_run(n->wire, both_open, b, OASIS_NS_PER_SEC), 0);
    return b;
}

/* Both ways delay_ns. */
static void both_delayed(test_net *n, uint64_t delay_ns)
{
    oasis_impair im;
    oasis_impair_init(&im);
    im.delay_ns = delay_ns;
    assert_int_equal(oasis_wire_impair(n->wire, oasis_stack_link(n->a), NULL, &im), 0);
    assert_int_equal(oasis_wire_impair(n->wire, oasis_stack_link(n->b), NULL, &im), 0);
}

/* Runs b to its end on the fast path and holds it to that path's bounds:
 * the line's rate and, BDP 12.5 kB, a receive buffer one step beyond the
 * start size at most (the first batch fills it: a quarter more and a
 * share for the RTT), so twice the start size, ten BDPs, a 32nd of the
 * 4 MiB limit; the send buffer twice that. */
static void finish_small(test_net *n, bulk *b, const char *what)
{
    assert_int_equal(test_net_run_until(n, &b->done, 60 * OASIS_NS_PER_SEC), 0);
    assert_int_equal(b->received, b->to_send);
    oasis_tcp_sndbuf sb;
    assert_int_equal(oasis_tcp_get_sndbuf(b->tx, &sb), 0);
    double bps = (double)(b->to_send - b->mark) * 8.0 /
                 ((double)(oasis_stack_now(n->b) - b->t_mark) / 1e9);
    print_message("%s: %.2f Gbit/s, rcvbuf %u, sndbuf %u, grows %llu/%llu\n", what, bps / 1e9,
                  b->rx->rcvbuf, sb.size,
                  (unsigned long long)oasis_stack_counters(n->b)->tcp.rcvbuf_grows,
                  (unsigned long long)oasis_stack_counters(n->a)->tcp.sndbuf_grows);
    assert_true(bps > 9.0e9);
    assert_true(b->rx->rcvbuf <= 128u << 10);
    assert_true(sb.size <= 256u << 10);
}

static void bulk_free(test_net *n, bulk *b)
{
    oasis_tcp_release(b->rx);
    oasis_tcp_release(b->tx);
    free(b);
    test_net_fini(n);
}

static void test_min_rtt_not_srtt(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    both_delayed(&n, 20 * OASIS_NS_PER_MS);
    bulk *b = open_held(&n, 20u << 20);
    /* Established both ends: the path changes, then the data flows. */
    oasis_wire_run(n.wire, NULL, NULL, 100 * OASIS_NS_PER_MS); /* nothing left in flight */
    fast_path(&n);
    bulk_write(b);
    bulk_write(b);
    finish_small(&n, b, "after the path changed");
    oasis_tcp_info ti;
    assert_int_equal(oasis_tcp_get_info(b->rx, &ti), 0);
    print_message("receiver srtt %llu us\n", (unsigned long long)(ti.srtt_ns / 1000));
    assert_true(ti.srtt_ns >= 40 * OASIS_NS_PER_MS); /* the smoothed RTT stayed inflated */
    bulk_free(&n, b);
}

/* ---- a handshake that read 0 ---------------------------------------------------
 *
 * On an in-memory wire (or a LAN read with a millisecond tick) the
 * handshake ends in the clock reading it began in: its RTT sample is 0,
 * shorter than the clock can tell, and it bounds the receiver's RTT as any
 * sample does. Here the handshake crosses the bare wire; then the first
 * 30 ms of data take 2.5 ms each way (what a process sees that runs slowly
 * at first: page faults, descheduled, or under valgrind, where this made
 * bulk 5 times slower), then the 10 us, 10 Gbit/s path. Taken for the
 * RTT, those first measures put the flow under the long-path rule (twice
 * a round trip's worth and more per step) and the buffer grew to the
 * 4 MiB limit before any short measure came in. */
static void test_zero_handshake_rtt_bounds(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    bulk *b = open_held(&n, 40u << 20);
    oasis_tcp_info ti;
    assert_int_equal(oasis_tcp_get_info(b->rx, &ti), 0);
    assert_int_equal(ti.srtt_ns, 0); /* the premise: the handshake read 0 */
    both_delayed(&n, 2500 * OASIS_NS_PER_US);
    bulk_write(b);
    bulk_write(b);
    oasis_wire_run(n.wire, NULL, NULL, 30 * OASIS_NS_PER_MS);
    fast_path(&n);
    finish_small(&n, b, "after a slow start");
    bulk_free(&n, b);
}

/* ---- a clock that ticks in milliseconds -----------------------------------------
 *
 * An embedded stack's clock is often a 1 ms tick (lwIP's sys_now is one).
 * The wire keeps the fine virtual time; both stacks read it rounded up to
 * the millisecond (up, so that a deadline a stack sets is reached when the
 * wire's time reaches it: oasis_wire_run advances to deadlines). On the
 * 10 us, 10 Gbit/s path most of the receiver's RTT measures end in the
 * tick they began (they took less than the clock can tell), the rest cross
 * a tick's edge and read as 1 ms; and a millisecond of reads is 1.2 MB. Taking the tick for the RTT, or the reads of one
 * tick for one batch, grew the buffer to the 4 MiB limit (and on the
 * in-memory wire made bulk 2-3 times slower); the buffer must stay at the
 * size the same path needs on a fine clock. */
static uint64_t tick_now(void *ud)
{
    uint64_t t = oasis_clock_now(ud);
    return t + (OASIS_NS_PER_MS - t % OASIS_NS_PER_MS) % OASIS_NS_PER_MS;
}

static void test_small_on_fast_path_ms_clock(void **state)
{
    (void)state;
    test_net n;
    memset(&n, 0, sizeof n);
    n.clock = oasis_clock_new_virtual(1000 * OASIS_NS_PER_SEC);
    oasis_clock *tick = oasis_clock_new_custom(tick_now, n.clock);
    assert_non_null(n.clock);
    assert_non_null(tick);
    assert_int_equal(oasis_wire_create(n.clock, NULL, &n.wire), 0);
    oasis_stack_config cfg;
    test_stack_config(&cfg, tick, 1);
    assert_int_equal(oasis_stack_create(&cfg, &n.a), 0);
    test_stack_config(&cfg, tick, 2);
    assert_int_equal(oasis_stack_create(&cfg, &n.b), 0);
    assert_non_null(oasis_wire_attach(n.wire, n.a));
    assert_non_null(oasis_wire_attach(n.wire, n.b));
    fast_path(&n);
    bulk *b = calloc(1, sizeof *b);
    assert_non_null(b);
    b->s = n.b;
    b->to_send = 100u << 20;
    assert_int_equal(oasis_tcp_listen(n.b, 5001, NULL, bulk_accept, b), 0);
    assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, 5001, NULL, bulk_connected, b), 0);
    uint64_t t0 = oasis_clock_now(n.clock);
    assert_int_equal(test_net_run_until(&n, &b->done, 60 * OASIS_NS_PER_SEC), 0);
    assert_int_equal(b->received, b->to_send);
    double bps = (double)b->to_send * 8.0 / ((double)(oasis_clock_now(n.clock) - t0) / 1e9);
    oasis_tcp_sndbuf sb;
    assert_int_equal(oasis_tcp_get_sndbuf(b->tx, &sb), 0);
    print_message("1 ms clock: %.2f Gbit/s, rcvbuf %u, sndbuf %u, grows %llu/%llu\n", bps / 1e9,
                  b->rx->rcvbuf, sb.size,
                  (unsigned long long)oasis_stack_counters(n.b)->tcp.rcvbuf_grows,
                  (unsigned long long)oasis_stack_counters(n.a)->tcp.sndbuf_grows);
    /* The bounds of test_min_rtt_not_srtt (one step beyond the start size
     * at most, a 32nd of the limit) and the line's rate. */
    assert_true(b->rx->rcvbuf <= 128u << 10);
    assert_true(sb.size <= 256u << 10);
    assert_true(bps > 9.0e9);
    oasis_tcp_release(b->rx);
    oasis_tcp_release(b->tx);
    free(b);
    test_net_fini(&n);
    oasis_clock_free(tick);
}

/* ---- the extension's keep deadline: moved once per half, not per read ----------
 *
 * While the receive buffer may grow, a read keeps the flow's extension (and
 * the measures in it) for two RTTs, 100 ms at least (tm.tune). Setting that
 * deadline half as far again lets the reads of the next half leave it alone:
 * right-sizing runs once per RTT, as Linux's tcp_rcv_space_adjust, not once
 * per read. Every read is still covered by 100 ms at least. */
typedef struct keeper {
    bulk b;
    uint64_t last_read;  /* clock at the previous read (0: none) */
    uint64_t last_tune;  /* tm.tune seen then */
    uint32_t reads, moves, covered;
} keeper;

static void keep_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    keeper *k = ud;
    uint64_t now = oasis_stack_now(k->b.s);
    if (!err && f->ext && f->ext->tm.tune != OASIS_TCP_NEVER && k->last_read &&
        f->rcvbuf < (4u << 20)) {
        /* the deadline the previous read left covers it by 100 ms */
        assert_true(f->ext->tm.tune >= k->last_read + 100 * OASIS_NS_PER_MS);
        k->covered++;
        k->moves += f->ext->tm.tune != k->last_tune;
        k->last_tune = f->ext->tm.tune;
    }
    k->reads++;
    k->last_read = now;
    bulk_read_count(&k->b, err, len);
    if (!err)
        oasis_tcp_read(f, keep_read, k);
    (void)data;
}

static void keep_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    keeper *k = ud;
    k->b.rx = f;
    oasis_tcp_read(f, keep_read, k);
}

static void test_keep_deadline_moves_once_per_half(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    path(&n, 25 * OASIS_NS_PER_MS, 625000);
    keeper *k = calloc(1, sizeof *k);
    assert_non_null(k);
    k->b.s = n.b;
    k->b.to_send = 4u << 20;
    assert_int_equal(oasis_tcp_listen(n.b, 5001, NULL, keep_accept, k), 0);
    assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, 5001, NULL, bulk_connected, &k->b), 0);
    assert_int_equal(test_net_run_until(&n, &k->b.done, 600 * OASIS_NS_PER_SEC), 0);
    assert_int_equal(k->b.received, k->b.to_send);
    print_message("keep deadline: %u reads, %u covered, %u moves\n", k->reads, k->covered,
                  k->moves);
    assert_true(k->covered > 100);
    /* 100 ms (two 50 ms RTTs) set 150 ms ahead: one move per 50 ms of
     * reads at most, a dozen or so over the transfer; per read, thousands. */
    assert_true(k->moves * 10 < k->covered);
    oasis_tcp_release(k->b.rx);
    oasis_tcp_release(k->b.tx);
    free(k);
    test_net_fini(&n);
}

/* ---- the memory budget: 10,000 flows that do not read -------------------------- */

#define NFLOWS 10000
#define PER_FLOW (24u * 1024u)
#define BUDGET (64ull << 20)

typedef struct many {
    oasis_flow *rx[NFLOWS];
    uint32_t got[NFLOWS];
    int nrx, reading, eofs, closed, bad;
    uint8_t data[PER_FLOW];
} many;

static void many_read(oasis_flow *f, int err, const uint8_t *d, size_t len, void *ud);

static void many_start_read(many *m, int i)
{
    assert_int_equal(oasis_tcp_read(m->rx[i], many_read, m), 0);
}

static void many_read(oasis_flow *f, int err, const uint8_t *d, size_t len, void *ud)
{
    many *m = ud;
    int i = (int)(intptr_t)oasis_flow_user_data(f);
    if (err == OASIS_EOF) {
        m->eofs++;
        if (m->got[i] != PER_FLOW)
            m->bad++;
        oasis_tcp_close(f, NULL, NULL);
        return;
    }
    assert_int_equal(err, 0);
    if (m->got[i] + len > PER_FLOW || memcmp(d, m->data + m->got[i], len))
        m->bad++;
    m->got[i] += (uint32_t)len;
    many_start_read(m, i);
}

static void many_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    many *m = ud;
    assert_true(m->nrx < NFLOWS);
    oasis_flow_set_user_data(f, (void *)(intptr_t)m->nrx);
    m->rx[m->nrx++] = f; /* and no read: the application is busy */
}

static void many_write_done(oasis_flow *f, int err, void *ud)
{
    (void)ud;
    assert_int_equal(err, 0);
    oasis_tcp_close(f, NULL, NULL); /* close and forget: the stack frees it */
}

static void many_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s;
    many *m = ud;
    assert_int_equal(err, 0);
    assert_int_equal(oasis_tcp_write(f, m->data, PER_FLOW, many_write_done, m), 0);
}

static int all_eof(void *ud)
{
    const many *m = ud;
    return m->eofs == NFLOWS;
}

static void test_budget_10000_flows(void **state)
{
    (void)state;
    oasis_stack_config sc;
    oasis_stack_config_init(&sc);
    oasis_tcp_config tc = sc.tcp;
    tc.mem_limit = BUDGET;
    tc.backlog = NFLOWS;
    test_net n;
    test_net_init(&n, NULL, &tc);
    oasis_impair im;
    oasis_impair_init(&im);
    im.delay_ns = OASIS_NS_PER_MS; /* 2 ms RTT */
    assert_int_equal(oasis_wire_impair(n.wire, oasis_stack_link(n.a), NULL, &im), 0);
    assert_int_equal(oasis_wire_impair(n.wire, oasis_stack_link(n.b), NULL, &im), 0);
    many *m = calloc(1, sizeof *m);
    assert_non_null(m);
    for (uint32_t i = 0; i < PER_FLOW; i++)
        m->data[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(oasis_tcp_listen(n.b, 7000, NULL, many_accept, m), 0);
    /* 10,000 flows of 24 KiB each: 234 MiB, far beyond the budget. */
    for (int i = 0; i < NFLOWS; i++)
        assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, 7000, NULL, many_connected, m), 0);
    /* 10 s of clock time without reading. */
    oasis_wire_run(n.wire, NULL, NULL, 10 * OASIS_NS_PER_SEC);
    const oasis_tcp_counters *c = &oasis_stack_counters(n.b)->tcp;
    print_message("stalled: flows %d, mem %llu peak %llu, pressures %llu, rcvq drops %llu, "
                  "min bufs %llu, win clamps %llu, no-grow %llu, ofo %llu\n",
                  m->nrx, (unsigned long long)c->mem_bytes, (unsigned long long)c->mem_peak,
                  (unsigned long long)c->mem_pressures, (unsigned long long)c->rcvq_drops,
                  (unsigned long long)c->mem_min_buf, (unsigned long long)c->mem_win_clamp,
                  (unsigned long long)c->mem_no_grow, (unsigned long long)c->ofo_mem_drops);
    assert_int_equal(m->nrx, NFLOWS);
    assert_true(c->mem_peak <= BUDGET);
    assert_true(c->mem_bytes > BUDGET / 2); /* it did fill up */
    assert_true(c->mem_pressures >= 1);
    assert_true(c->rcvq_drops > 0);
    /* Reading resumes: everything arrives, intact. */
    for (int i = 0; i < NFLOWS; i++)
        many_start_read(m, i);
    assert_int_equal(oasis_wire_run(n.wire, all_eof, m, 3600 * OASIS_NS_PER_SEC), 0);
    assert_int_equal(m->bad, 0);
    assert_true(c->mem_peak <= BUDGET);
    print_message("done: peak %llu, sender peak %llu\n", (unsigned long long)c->mem_peak,
                  (unsigned long long)oasis_stack_counters(n.a)->tcp.mem_peak);
    /* The senders' stack has the same budget: writes that fit the send
     * buffer's capacity grow its storage only as far as the budget lets
     * them (they once went round it: 326 MB). */
    assert_true(oasis_stack_counters(n.a)->tcp.mem_peak <= BUDGET);
    oasis_wire_run(n.wire, NULL, NULL, 600 * OASIS_NS_PER_SEC); /* closes, TIME_WAIT */
    free(m);
    test_net_fini(&n);
}

/* ---- the budget keeps room for flows that hold next to nothing ----------------
 *
 * Stack B serves 40 clients that stop reading (their data fills B's send
 * buffers, far beyond B's 1 MiB budget); then 20 new clients each send a
 * short request and wait for a short answer. They must all get it while
 * the others still hold their memory: beyond the pressure mark only flows
 * holding less than buf_min take more storage, so the budget's last part
 * is theirs (as Linux guarantees each socket tcp_rmem[0]/tcp_wmem[0]).
 * Before, the stalled flows took the budget to its limit and a new flow's
 * request was dropped for want of 4 KiB, for as long as they stalled. */
#define HOGS 40
#define NEWCOMERS 20
#define SMALL_BUDGET (1ull << 20)
#define REPLY 3000

typedef struct crowd {
    uint8_t hog_data[256 * 1024];
    uint8_t reply[REPLY];
    int hogs, answered, replies_ok;
    uint32_t got[NEWCOMERS];
    int next;
} crowd;

static void hog_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    crowd *c = ud;
    c->hogs++;
    assert_int_equal(oasis_tcp_write(f, c->hog_data, sizeof c->hog_data, NULL, NULL), 0);
}

static void served_read(oasis_flow *f, int err, const uint8_t *d, size_t len, void *ud)
{
    crowd *c = ud;
    (void)d;
    if (err)
        return;
    assert_int_equal(len, 5); /* "hello", one segment */
    c->answered++;
    assert_int_equal(oasis_tcp_write(f, c->reply, REPLY, NULL, NULL), 0);
}

static void served_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    assert_int_equal(oasis_tcp_read(f, served_read, ud), 0);
}

static void newcomer_read(oasis_flow *f, int err, const uint8_t *d, size_t len, void *ud)
{
    crowd *c = ud;
    int i = (int)(intptr_t)oasis_flow_user_data(f);
    if (err)
        return;
    if (memcmp(d, c->reply + c->got[i], len) == 0)
        c->got[i] += (uint32_t)len;
    if (c->got[i] == REPLY)
        c->replies_ok++;
    else
        assert_int_equal(oasis_tcp_read(f, newcomer_read, c), 0);
}

static void newcomer_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s;
    crowd *c = ud;
    assert_int_equal(err, 0);
    oasis_flow_set_user_data(f, (void *)(intptr_t)c->next++);
    assert_int_equal(oasis_tcp_write(f, "hello", 5, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_read(f, newcomer_read, c), 0);
}

static void test_budget_room_for_new_flows(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    n.b->cfg.tcp.mem_limit = SMALL_BUDGET; /* the server's only */
    crowd *c = calloc(1, sizeof *c);
    assert_non_null(c);
    memset(c->reply, 'r', REPLY);
    assert_int_equal(oasis_tcp_listen(n.b, 8000, NULL, hog_accept, c), 0);
    assert_int_equal(oasis_tcp_listen(n.b, 8001, NULL, served_accept, c), 0);
    for (int i = 0; i < HOGS; i++) /* clients that never read */
        assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, 8000, NULL, noop_connect, NULL), 0);
    oasis_wire_run(n.wire, NULL, NULL, 5 * OASIS_NS_PER_SEC);
    const oasis_tcp_counters *t = &oasis_stack_counters(n.b)->tcp;
    assert_int_equal(c->hogs, HOGS);
    assert_true(t->mem_pressures >= 1);
    assert_true(t->mem_bytes > SMALL_BUDGET / 2);
    for (int i = 0; i < NEWCOMERS; i++)
        assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, 8001, NULL, newcomer_connected, c), 0);
    oasis_wire_run(n.wire, NULL, NULL, 10 * OASIS_NS_PER_SEC);
    print_message("budget %llu: used %llu peak %llu; %d requests answered, %d replies whole\n",
                  (unsigned long long)SMALL_BUDGET, (unsigned long long)t->mem_bytes,
                  (unsigned long long)t->mem_peak, c->answered, c->replies_ok);
    assert_int_equal(c->answered, NEWCOMERS);
    assert_int_equal(c->replies_ok, NEWCOMERS);
    assert_true(t->mem_peak <= SMALL_BUDGET);
    free(c);
    test_net_fini(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_in_syn),
        cmocka_unit_test(test_grows_on_long_path),
        cmocka_unit_test(test_small_on_short_path),
        cmocka_unit_test(test_small_on_fast_path),
        cmocka_unit_test(test_min_rtt_not_srtt),
        cmocka_unit_test(test_zero_handshake_rtt_bounds),
        cmocka_unit_test(test_small_on_fast_path_ms_clock),
        cmocka_unit_test(test_keep_deadline_moves_once_per_half),
        cmocka_unit_test(test_budget_10000_flows),
        cmocka_unit_test(test_budget_room_for_new_flows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
