/* Loopback: UDP and TCP to the stack's own address and to 127/8 are
 * delivered inside the stack through IP input, from the poll after the
 * send (never inside it), never onto the link, and counted. Virtual clock;
 * the stack has no link at all unless a test attaches a wire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "oasis/oasis.h"
#include "testutil.h"

#define US OASIS_IPV4(10, 0, 0, 1)
#define LO OASIS_IPV4(127, 0, 0, 1)

typedef struct fx {
    oasis_clock *clock;
    oasis_stack *s;
} fx;

static void fx_init(fx *f)
{
    f->clock = oasis_clock_new_virtual(1000 * OASIS_NS_PER_SEC);
    assert_non_null(f->clock);
    oasis_stack_config cfg;
    test_stack_config(&cfg, f->clock, 1);
    assert_int_equal(oasis_stack_create(&cfg, &f->s), 0);
}

static void fx_fini(fx *f)
{
    oasis_stack_destroy(f->s);
    oasis_clock_free(f->clock);
}

/* Polls, jumping the clock to each next deadline, until *flag or the
 * limit (clock time). */
static void run_until(fx *f, const int *flag, uint64_t limit_ns)
{
    uint64_t end = oasis_clock_now(f->clock) + limit_ns;
    for (;;) {
        oasis_stack_poll(f->s);
        if (*flag)
            return;
        uint64_t d = oasis_stack_next_deadline(f->s);
        assert_true(d != UINT64_MAX);
        assert_true(d <= end);
        if (d > oasis_clock_now(f->clock))
            oasis_clock_set(f->clock, d);
    }
}

static const oasis_ip_counters *ipc(fx *f) { return &oasis_stack_counters(f->s)->ip; }

/* ---- UDP ---- */

typedef struct urx {
    int count;
    uint32_t src, dst;
    uint16_t sport;
    char data[64];
    int pingpong; /* send back while below this count */
    int sending;  /* set around our own send calls */
} urx;

static void on_udp(oasis_stack *s, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                   const uint8_t *d, size_t len, void *ud)
{
    urx *r = ud;
    assert_false(r->sending); /* never inside the send that started it */
    r->count++;
    r->src = src;
    r->dst = dst;
    r->sport = sport;
    memcpy(r->data, d, len < sizeof r->data ? len : sizeof r->data - 1);
    if (r->count < r->pingpong) {
        r->sending = 1;
        assert_int_equal(oasis_udp_send4(s, dport, src, sport, d, len), 0);
        r->sending = 0;
    }
}

static void test_udp_to_self(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    urx r;
    memset(&r, 0, sizeof r);
    assert_int_equal(oasis_udp_bind4(f.s, 7000, on_udp, &r), 0);
    r.sending = 1;
    assert_int_equal(oasis_udp_send4(f.s, 7001, US, 7000, "hello", 5), 0);
    r.sending = 0;
    assert_int_equal(r.count, 0); /* not yet: from the next poll */
    assert_int_equal(ipc(&f)->loop_tx_packets, 1);
    assert_int_equal(oasis_stack_next_deadline(f.s), oasis_clock_now(f.clock));
    oasis_stack_poll(f.s);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.src, US);
    assert_int_equal(r.dst, US);
    assert_int_equal(r.sport, 7001);
    assert_string_equal(r.data, "hello");
    assert_int_equal(ipc(&f)->loop_rx_packets, 1);
    assert_int_equal(ipc(&f)->in_receives, 1);
    assert_int_equal(ipc(&f)->in_delivers, 1);
    assert_int_equal(oasis_stack_counters(f.s)->udp.in_datagrams, 1);
    assert_int_equal(oasis_stack_counters(f.s)->link.tx_frames, 0);
    fx_fini(&f);
}

static void test_udp_to_127(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    urx r;
    memset(&r, 0, sizeof r);
    assert_int_equal(oasis_udp_bind4(f.s, 53, on_udp, &r), 0);
    assert_int_equal(oasis_udp_send4(f.s, 4000, OASIS_IPV4(127, 0, 0, 53), 53, "q", 1), 0);
    oasis_stack_poll(f.s);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.src, OASIS_IPV4(127, 0, 0, 53)); /* 127/8 talks to itself */
    assert_int_equal(r.dst, OASIS_IPV4(127, 0, 0, 53));
    fx_fini(&f);
}

/* A datagram that answers itself: each poll moves it one hop only. */
static void test_udp_pingpong_one_hop_per_poll(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    urx r;
    memset(&r, 0, sizeof r);
    r.pingpong = 1000000;
    assert_int_equal(oasis_udp_bind4(f.s, 7000, on_udp, &r), 0);
    assert_int_equal(oasis_udp_send4(f.s, 7000, LO, 7000, "x", 1), 0);
    oasis_stack_poll(f.s);
    assert_int_equal(r.count, 1);
    oasis_stack_poll(f.s); /* the clock has not moved: the echo waits */
    assert_int_equal(r.count, 1);
    oasis_clock_advance(f.clock, 1);
    oasis_stack_poll(f.s);
    assert_int_equal(r.count, 2);
    fx_fini(&f);
}

static void test_queue_bound(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    urx r;
    memset(&r, 0, sizeof r);
    assert_int_equal(oasis_udp_bind4(f.s, 7000, on_udp, &r), 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(oasis_udp_send4(f.s, 7001, US, 7000, "x", 1), 0);
    assert_int_equal(oasis_udp_send4(f.s, 7001, US, 7000, "x", 1), OASIS_EAGAIN);
    assert_int_equal(ipc(&f)->loop_drops, 1);
    oasis_stack_poll(f.s);
    assert_int_equal(r.count, 1000);
    /* Queued datagrams go with the stack (no leak under ASan/valgrind). */
    assert_int_equal(oasis_udp_send4(f.s, 7001, US, 7000, "x", 1), 0);
    fx_fini(&f);
}

/* ---- TCP ---- */

typedef struct app {
    oasis_flow *server, *client;
    int connected, connect_err, accepted;
    uint8_t *rx;
    size_t rx_len, want;
    uint8_t *echo_buf; /* as large as the whole transfer */
    int done, closed;
    int in_call;
} app;

static void srv_read(oasis_flow *fl, int err, const uint8_t *d, size_t len, void *ud);

static void srv_wrote(oasis_flow *fl, int err, void *ud)
{
    assert_int_equal(err, 0);
    assert_int_equal(oasis_tcp_read(fl, srv_read, ud), 0);
}

/* Echo: one read, write it back, read again after the write completed. */
static void srv_read(oasis_flow *fl, int err, const uint8_t *d, size_t len, void *ud)
{
    app *a = ud;
    if (err) {
        oasis_tcp_close(fl, NULL, NULL);
        a->server = NULL;
        return;
    }
    assert_true(len <= a->want);
    memcpy(a->echo_buf, d, len);
    assert_int_equal(oasis_tcp_write(fl, a->echo_buf, len, srv_wrote, a), 0);
}

static void on_accept(oasis_stack *s, oasis_flow *fl, void *ud)
{
    app *a = ud;
    assert_false(a->in_call);
    a->accepted++;
    a->server = fl;
    assert_int_equal(oasis_tcp_read(fl, srv_read, a), 0);
}

static void cli_read(oasis_flow *fl, int err, const uint8_t *d, size_t len, void *ud)
{
    app *a = ud;
    if (err)
        return;
    memcpy(a->rx + a->rx_len, d, len);
    a->rx_len += len;
    if (a->rx_len == a->want)
        a->done = 1;
    else
        assert_int_equal(oasis_tcp_read(fl, cli_read, a), 0);
}

static void on_connect(oasis_stack *s, oasis_flow *fl, int err, void *ud)
{
    app *a = ud;
    assert_false(a->in_call);
    a->connected = 1;
    a->connect_err = err;
}

static void tcp_echo(uint32_t dst, size_t n)
{
    fx f;
    fx_init(&f);
    app a;
    memset(&a, 0, sizeof a);
    a.want = n;
    a.rx = malloc(n);
    a.echo_buf = malloc(n);
    assert_non_null(a.echo_buf);
    uint8_t *tx = malloc(n);
    assert_non_null(a.rx);
    assert_non_null(tx);
    for (size_t i = 0; i < n; i++)
        tx[i] = (uint8_t)(i * 7 + (i >> 8));
    assert_int_equal(oasis_tcp_listen(f.s, 7, NULL, on_accept, &a), 0);
    a.in_call = 1;
    assert_int_equal(oasis_tcp_connect_flow4(f.s, dst, 7, NULL, on_connect, &a, &a.client), 0);
    a.in_call = 0;
    assert_int_equal(oasis_tcp_write(a.client, tx, n, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_read(a.client, cli_read, &a), 0);
    run_until(&f, &a.done, 60 * OASIS_NS_PER_SEC);
    assert_int_equal(a.connect_err, 0);
    assert_int_equal(a.accepted, 1);
    assert_memory_equal(a.rx, tx, n);

    uint32_t la, ra;
    uint16_t lp, rp;
    oasis_tcp_src4(a.client, &la, &lp);
    oasis_tcp_dst4(a.client, &ra, &rp);
    assert_int_equal(la, dst);
    assert_int_equal(ra, dst);
    assert_int_equal(rp, 7);
    oasis_tcp_src4(a.server, &la, &lp);
    assert_int_equal(la, dst);
    assert_int_equal(lp, 7);

    const oasis_counters *c = oasis_stack_counters(f.s);
    assert_int_equal(c->tcp.active_opens, 1);
    assert_int_equal(c->tcp.passive_opens, 1);
    assert_int_equal(c->tcp.curr_estab, 2);
    assert_true(c->ip.loop_tx_packets > 4);
    assert_int_equal(c->ip.loop_rx_packets + c->ip.loop_drops, c->ip.loop_tx_packets);
    assert_int_equal(c->link.tx_frames, 0);
    assert_int_equal(c->tcp.out_rsts, 0);

    /* Both ends close; the flows go. */
    oasis_tcp_close(a.client, NULL, NULL);
    int never = 0;
    uint64_t end = oasis_clock_now(f.clock) + 5 * OASIS_NS_PER_SEC;
    while (oasis_clock_now(f.clock) < end) {
        oasis_stack_poll(f.s);
        uint64_t d = oasis_stack_next_deadline(f.s);
        if (d == UINT64_MAX || d > end)
            break;
        if (d > oasis_clock_now(f.clock))
            oasis_clock_set(f.clock, d);
    }
    (void)never;
    assert_int_equal(c->tcp.curr_estab, 0);
    free(a.rx);
    free(a.echo_buf);
    free(tx);
    fx_fini(&f);
}

static void test_tcp_echo_to_self(void **state)
{
    (void)state;
    tcp_echo(US, 300000);
}

static void test_tcp_echo_127(void **state)
{
    (void)state;
    tcp_echo(LO, 100000);
}

static void test_tcp_echo_127_other(void **state)
{
    (void)state;
    tcp_echo(OASIS_IPV4(127, 1, 2, 3), 5000);
}

/* A closed port on loopback answers with RST: connect is refused. */
static void test_tcp_refused(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    app a;
    memset(&a, 0, sizeof a);
    assert_int_equal(oasis_tcp_connect4(f.s, LO, 9, NULL, on_connect, &a), 0);
    run_until(&f, &a.connected, 10 * OASIS_NS_PER_SEC);
    assert_int_equal(a.connect_err, OASIS_EREFUSED);
    fx_fini(&f);
}

/* From the wire, 127/8 is still no address of ours (and a martian source):
 * dropped, never delivered. */
static void test_wire_127_dropped(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    urx r;
    memset(&r, 0, sizeof r);
    assert_int_equal(oasis_udp_bind4(n.a, 7000, on_udp, &r), 0);
    /* b sends to 127.0.0.1: it loops back inside b, a never sees it. */
    assert_int_equal(oasis_udp_send4(n.b, 7001, LO, 7000, "x", 1), 0);
    int never = 0;
    test_net_run_until(&n, &never, OASIS_NS_PER_SEC);
    assert_int_equal(r.count, 0);
    assert_int_equal(oasis_stack_counters(n.b)->link.tx_frames, 1); /* its gratuitous ARP only */
    test_net_fini(&n);
}

/* RFC 1122 4.1.3.1: a datagram to a port nobody bound draws a Port
 * Unreachable ("SHOULD"), over loopback too (Linux's lo does): to 127/8
 * as to our own address, the sender's error callback hears
 * OASIS_EREFUSED. */
typedef struct uerr {
    int count, err;
    uint32_t dst;
    uint16_t sport, dport;
} uerr;

static void on_udp_none(oasis_stack *s, uint32_t src, uint16_t sport, uint32_t dst,
                        uint16_t dport, const uint8_t *d, size_t len, void *ud)
{
    (void)s, (void)src, (void)sport, (void)dst, (void)dport, (void)d, (void)len, (void)ud;
}

static void on_uerr(oasis_stack *s, const oasis_udp_error *e, void *ud)
{
    (void)s;
    uerr *u = ud;
    u->count++;
    u->err = e->err;
    u->dst = oasis_ipaddr_to_v4(&e->dst);
    u->sport = e->src_port;
    u->dport = e->dst_port;
}

static void test_udp_refused_over_loopback(void **state)
{
    (void)state;
    const uint32_t dsts[3] = {US, LO, OASIS_IPV4(127, 0, 0, 9)};
    for (int i = 0; i < 3; i++) {
        fx f;
        fx_init(&f);
        uerr u;
        memset(&u, 0, sizeof u);
        assert_int_equal(oasis_udp_bind4(f.s, 5000, on_udp_none, &u), 0);
        assert_int_equal(oasis_udp_set_error_cb(f.s, 5000, on_uerr), 0);
        assert_int_equal(oasis_udp_send4(f.s, 5000, dsts[i], 5001, "q", 1), 0);
        for (int k = 0; k < 4 && !u.count; k++) {
            oasis_stack_poll(f.s);
            oasis_clock_advance(f.clock, 1); /* the error waits a round */
        }
        assert_int_equal(u.count, 1);
        assert_int_equal(u.err, OASIS_EREFUSED);
        assert_int_equal(u.dst, dsts[i]);
        assert_int_equal(u.sport, 5000);
        assert_int_equal(u.dport, 5001);
        const oasis_counters *c = oasis_stack_counters(f.s);
        assert_int_equal(c->udp.no_ports, 1);
        assert_int_equal(c->icmp.out_dest_unreachs, 1);
        assert_int_equal(c->icmp.in_errors_unowned, 0);
        assert_int_equal(c->link.tx_frames, 0);
        fx_fini(&f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp_to_self),
        cmocka_unit_test(test_udp_to_127),
        cmocka_unit_test(test_udp_refused_over_loopback),
        cmocka_unit_test(test_udp_pingpong_one_hop_per_poll),
        cmocka_unit_test(test_queue_bound),
        cmocka_unit_test(test_tcp_echo_to_self),
        cmocka_unit_test(test_tcp_echo_127),
        cmocka_unit_test(test_tcp_echo_127_other),
        cmocka_unit_test(test_tcp_refused),
        cmocka_unit_test(test_wire_127_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
