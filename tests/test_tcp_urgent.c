/* Urgent data (RFC 9293 3.8.5, MUST-30/31/32/33/62, MUST-66) and the
 * flow's asynchronous reports (3.9.1.8, SHLD-20). Hand-built segments
 * against one stack, virtual clock; a last test runs two stacks on a wire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcp/tcp_flow.h"
#include "tcp/tcp_seq.h"
#include "tcp_harness.h"
#include "testutil.h"

#define PORT 80
#define A OASIS_TCP_ACK
#define U OASIS_TCP_URG
#define P OASIS_TCP_PSH

typedef struct fx {
    tcp_harness h;
    th_app a;
    uint32_t iss;
    uint32_t pnxt;
    int events[8];          /* reports seen, by kind */
    uint32_t pending_at_ev; /* oasis_tcp_urgent_pending() inside the report */
    size_t rx_at_ev;        /* bytes read when the report came */
} fx;

static int setup_cfg(void **state, const oasis_tcp_config *cfg)
{
    fx *x = calloc(1, sizeof *x);
    th_init(&x->h, cfg);
    th_app_init(&x->a);
    *state = x;
    return 0;
}

static int setup(void **state) { return setup_cfg(state, NULL); }

static int setup_small_rcvbuf(void **state)
{
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.rcvbuf = 4096;
    return setup_cfg(state, &c.tcp);
}

static int teardown(void **state)
{
    fx *x = *state;
    th_fini(&x->h);
    th_app_fini(&x->a);
    free(x);
    return 0;
}

static void on_event(oasis_flow *flow, oasis_tcp_event ev, void *ud)
{
    fx *x = ud;
    assert_true(ev < 8);
    x->events[ev]++;
    if (ev == OASIS_TCP_EV_URGENT) {
        x->pending_at_ev = oasis_tcp_urgent_pending(flow);
        x->rx_at_ev = x->a.rx_len;
    }
}

static void open_flow(fx *x)
{
    x->iss = th_open_passive(&x->h, &x->a, PORT, NULL);
    x->pnxt = TH_PISN + 1;
    th_clear(&x->h);
}

/* The peer sends n bytes at pnxt, with URG and field urg when urg_on. */
static void peer_send(fx *x, uint32_t n, int urg_on, uint16_t urg)
{
    static uint8_t buf[2048];
    memset(buf, 'u', sizeof buf);
    oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, (uint8_t)(A | P | (urg_on ? U : 0)), x->pnxt,
                             x->iss + 1);
    s.urg = urg;
    s.payload = buf;
    s.payload_len = n;
    th_inject(&x->h, &s);
    th_poll(&x->h);
    x->pnxt += n;
}

/* MUST-30, MUST-62: an urgent write sets URG, and the pointer is the
 * sequence number of the byte after the last urgent byte, on every
 * segment starting below it until the peer acknowledges; then no URG. */
static void test_urgent_send_pointer(void **state)
{
    fx *x = *state;
    open_flow(x);
    uint8_t data[100];
    memset(data, 'n', sizeof data);
    assert_int_equal(oasis_tcp_write(x->a.flow, data, 100, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_write_urgent(x->a.flow, "URGENT!", 7, NULL, NULL), 0);
    th_poll(&x->h);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r)); /* the plain bytes went out before the urgent write */
    assert_int_equal(r.seq, x->iss + 1);
    assert_int_equal(r.payload_len, 100);
    assert_false(r.flags & U);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, x->iss + 101);
    assert_int_equal(r.payload_len, 7);
    assert_true(r.flags & U);
    assert_true(r.flags & P);       /* urgent bytes are pushed */
    assert_int_equal(r.urg, 7);     /* seq + 7: the byte after "URGENT!" */
    assert_memory_equal(x->h.last + r.hdr_len, "URGENT!", 7); /* in line, in the stream */

    /* The peer acks only the plain bytes: a retransmission of the urgent
     * segment (RTO) still carries the pointer. */
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, x->pnxt, x->iss + 101);
    th_inject(&x->h, &ack);
    th_run_until(&x->h, x->a.flow->ext->tm.rexmt);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, x->iss + 101);
    assert_true(r.flags & U);
    assert_int_equal(r.urg, 7);

    /* Everything acked: urgent mode is over, later data has no URG. */
    ack.ack = x->iss + 108;
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    th_clear(&x->h);
    assert_int_equal(oasis_tcp_write(x->a.flow, "after", 5, NULL, NULL), 0);
    th_poll(&x->h);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.payload_len, 5);
    assert_false(r.flags & U);
    assert_int_equal(r.urg, 0);
}

/* MUST-31 on the send side: urgent data longer than one segment, and more
 * than 65535 bytes ahead of the first: that segment's field is clipped to
 * 65535 and the pointer moves on segment by segment to the true end. */
static void test_urgent_send_long(void **state)
{
    fx *x = *state;
    open_flow(x);
    size_t n = 100000;
    uint8_t *data = malloc(n);
    assert_non_null(data);
    memset(data, 'L', n);
    assert_int_equal(oasis_tcp_write_urgent(x->a.flow, data, n, NULL, NULL), 0);
    th_poll(&x->h);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, x->iss + 1);
    assert_true(r.flags & U);
    assert_int_equal(r.urg, 0xffff);
    uint32_t up = x->iss + 1 + (uint32_t)n;
    while (th_pop(&x->h, &r)) {
        assert_true(r.flags & U);
        uint32_t d = up - r.seq;
        assert_int_equal(r.urg, d > 0xffff ? 0xffff : d);
    }
    free(data);
}

/* MUST-32, MUST-33: urgent data received: the application is told (before
 * its read callback sees the bytes), can ask how much is left to read,
 * and the figure falls to 0 once it has read past the pointer. The data
 * stays in the stream. A pointer that does not advance is not reported
 * again; one that advances is. */
static void test_urgent_receive_reported(void **state)
{
    fx *x = *state;
    open_flow(x);
    assert_int_equal(oasis_tcp_set_event_cb(x->a.flow, on_event, x), 0);
    assert_int_equal(oasis_tcp_urgent_pending(x->a.flow), 0);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);

    peer_send(x, 5, 1, 3); /* bytes 0..2 urgent, pointer seq + 3 */
    assert_int_equal(x->events[OASIS_TCP_EV_URGENT], 1);
    assert_int_equal(x->pending_at_ev, 3);
    assert_int_equal(x->rx_at_ev, 0); /* told before the read callback ran */
    assert_int_equal(x->a.rx_len, 5); /* in line: all five bytes read */
    assert_int_equal(oasis_tcp_urgent_pending(x->a.flow), 0);

    /* the same pointer again (e.g. a retransmission or a later segment of
     * the same urgent sequence): no new report */
    oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, A | U, x->pnxt, x->iss + 1);
    s.urg = 0; /* points at seq: nothing beyond what was read */
    th_inject(&x->h, &s);
    th_poll(&x->h);
    assert_int_equal(x->events[OASIS_TCP_EV_URGENT], 1);

    /* the pointer advances: reported again */
    peer_send(x, 4, 1, 2);
    assert_int_equal(x->events[OASIS_TCP_EV_URGENT], 2);
    assert_int_equal(x->pending_at_ev, 2);
    assert_int_equal(oasis_tcp_urgent_pending(x->a.flow), 0);
    assert_int_equal(x->a.rx_len, 9);
}

/* MUST-31: the urgent pointer may point past the segment (urgent sequence
 * of any length): the bytes not yet arrived count as pending, the count
 * goes down as they are read, a later segment without URG changes
 * nothing, and no report is repeated while the pointer stays. */
static void test_urgent_pointer_past_segment(void **state)
{
    fx *x = *state;
    open_flow(x);
    assert_int_equal(oasis_tcp_set_event_cb(x->a.flow, on_event, x), 0);
    peer_send(x, 10, 1, 3000); /* urgent up to seq + 3000 */
    assert_int_equal(x->events[OASIS_TCP_EV_URGENT], 1);
    assert_int_equal(oasis_tcp_urgent_pending(x->a.flow), 3000);
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 10);
    assert_int_equal(oasis_tcp_urgent_pending(x->a.flow), 2990);
    peer_send(x, 1000, 0, 0);
    assert_int_equal(oasis_tcp_urgent_pending(x->a.flow), 2990);
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(oasis_tcp_urgent_pending(x->a.flow), 1990);
    /* the sender's later segments point at the same end: no new report */
    peer_send(x, 1990, 1, 1990);
    assert_int_equal(x->events[OASIS_TCP_EV_URGENT], 1);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 3000);
    assert_int_equal(oasis_tcp_urgent_pending(x->a.flow), 0);
}

/* MUST-66 / issue 11 item 12: with our receive window at zero, a segment
 * at RCV.NXT still has its URG processed (its text is dropped). */
static void test_urgent_at_zero_window(void **state)
{
    fx *x = *state;
    open_flow(x);
    assert_int_equal(oasis_tcp_set_event_cb(x->a.flow, on_event, x), 0);
    peer_send(x, 1000, 0, 0);
    peer_send(x, 1000, 0, 0);
    peer_send(x, 1000, 0, 0);
    peer_send(x, 1096, 0, 0); /* the 4096-byte buffer is full, nothing read */
    th_clear(&x->h);
    uint32_t nxt = x->a.flow->rcv_nxt;
    assert_int_equal(nxt, x->pnxt);
    peer_send(x, 1, 1, 1);
    assert_int_equal(x->a.flow->rcv_nxt, nxt); /* the byte did not fit */
    assert_int_equal(x->events[OASIS_TCP_EV_URGENT], 1);
    assert_int_equal(oasis_tcp_urgent_pending(x->a.flow), 4096 + 1);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r)); /* and the segment is answered: window 0 */
    assert_int_equal(r.window, 0);
    assert_int_equal(r.ack, nxt);
}

/* SHLD-20: an application that does not want reports gets none (the
 * default), and can turn them off again; turning them on later reports
 * what happens from then on. */
static void test_reports_can_be_off(void **state)
{
    fx *x = *state;
    open_flow(x);
    peer_send(x, 5, 1, 5);
    assert_int_equal(x->events[OASIS_TCP_EV_URGENT], 0); /* none asked for */
    assert_int_equal(oasis_tcp_urgent_pending(x->a.flow), 5); /* still answered */
    assert_int_equal(oasis_tcp_set_event_cb(x->a.flow, on_event, x), 0);
    assert_int_equal(oasis_tcp_set_event_cb(x->a.flow, NULL, NULL), 0);
    peer_send(x, 5, 1, 5);
    assert_int_equal(x->events[OASIS_TCP_EV_URGENT], 0);
    assert_int_equal(oasis_tcp_set_event_cb(x->a.flow, on_event, x), 0);
    peer_send(x, 5, 1, 5);
    assert_int_equal(x->events[OASIS_TCP_EV_URGENT], 1);
}

/* An urgent write of nothing is refused (RFC 9293 3.8.5: at least one
 * data octet); the setters answer OASIS_ECLOSED on a finished handle. */
static void test_urgent_api_errors(void **state)
{
    fx *x = *state;
    open_flow(x);
    assert_int_equal(oasis_tcp_write_urgent(x->a.flow, "", 0, NULL, NULL), OASIS_EINVAL);
    oasis_tcp_abort(x->a.flow);
    assert_int_equal(oasis_tcp_write_urgent(x->a.flow, "x", 1, NULL, NULL), OASIS_ECLOSED);
    assert_int_equal(oasis_tcp_set_event_cb(x->a.flow, on_event, x), OASIS_ECLOSED);
}

/* End to end, two Oasis stacks on the wire: A writes 1000 plain bytes
 * and one urgent byte; B, which reads nothing until told, hears of urgent
 * data with all 1001 bytes pending (the pointer after the urgent byte),
 * then reads them in order, in line, and nothing is pending after. */
typedef struct e2e {
    oasis_flow *fa, *fb;
    int connected, events;
    uint32_t pending_at_ev;
    uint8_t rx[2048];
    size_t rx_len;
    int done;
} e2e;

static void e2e_read(oasis_flow *f, int err, const uint8_t *d, size_t n, void *ud)
{
    e2e *e = ud;
    if (err)
        return;
    assert_true(e->rx_len + n <= sizeof e->rx);
    memcpy(e->rx + e->rx_len, d, n);
    e->rx_len += n;
    if (e->rx_len == 1001)
        e->done = 1;
    else
        assert_int_equal(oasis_tcp_read(f, e2e_read, e), 0);
}

static void e2e_event(oasis_flow *f, oasis_tcp_event ev, void *ud)
{
    e2e *e = ud;
    if (ev != OASIS_TCP_EV_URGENT)
        return;
    if (e->events++ == 0) {
        e->pending_at_ev = oasis_tcp_urgent_pending(f);
        assert_int_equal(oasis_tcp_read(f, e2e_read, e), 0);
    }
}

static void e2e_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    e2e *e = ud;
    e->fb = f;
    assert_int_equal(oasis_tcp_set_event_cb(f, e2e_event, e), 0);
}

static void e2e_connect(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s;
    e2e *e = ud;
    assert_int_equal(err, 0);
    e->fa = f;
    e->connected = 1;
}

static void test_urgent_between_two_stacks(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    e2e e;
    memset(&e, 0, sizeof e);
    assert_int_equal(oasis_tcp_listen(n.b, 7000, NULL, e2e_accept, &e), 0);
    assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, 7000, NULL, e2e_connect, &e), 0);
    test_net_run_until(&n, &e.connected, 5 * OASIS_NS_PER_SEC);
    assert_true(e.connected);
    static uint8_t plain[1000];
    memset(plain, 'p', sizeof plain);
    assert_int_equal(oasis_tcp_write(e.fa, plain, sizeof plain, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_write_urgent(e.fa, "!", 1, NULL, NULL), 0);
    test_net_run_until(&n, &e.done, 5 * OASIS_NS_PER_SEC);
    assert_true(e.done);
    assert_int_equal(e.events, 1);
    assert_int_equal(e.pending_at_ev, 1001);
    assert_memory_equal(e.rx, plain, 1000);
    assert_int_equal(e.rx[1000], '!');
    assert_int_equal(oasis_tcp_urgent_pending(e.fb), 0);
    oasis_tcp_release(e.fa);
    oasis_tcp_release(e.fb);
    test_net_fini(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_urgent_send_pointer),
        T(test_urgent_send_long),
        T(test_urgent_receive_reported),
        T(test_urgent_pointer_past_segment),
        cmocka_unit_test_setup_teardown(test_urgent_at_zero_window, setup_small_rcvbuf, teardown),
        T(test_reports_can_be_off),
        T(test_urgent_api_errors),
        cmocka_unit_test(test_urgent_between_two_stacks),
    };
    if (getenv("TCP_TEST"))
        cmocka_set_test_filter(getenv("TCP_TEST"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
