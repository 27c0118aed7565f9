/* Receiver-side SWS avoidance's window update (RFC 9293 3.8.6.2.2;
 * tcp_output.c oasis_tcp_window_update): once the application has read,
 * an ACK tells the sender of the new room when the window it knows is
 * under half of what could be offered now and the gain is at least
 * min(buffer / 2, 2 MSS); otherwise the next segment carries it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/stack_impl.h"
#include "tcp/tcp_flow.h"
#include "tcp_harness.h"

#define BUF 65536u /* the receive buffer (no window scaling: the field shows it all) */

static uint8_t payload[1000];

/* A flow opened actively to port 80 with fixed BUF-byte buffers; returns
 * our ISS. */
static uint32_t open_fixed(tcp_harness *h, th_app *app, uint16_t *lport)
{
    oasis_stack_config scfg;
    oasis_stack_config_init(&scfg);
    oasis_tcp_config tcfg = scfg.tcp;
    tcfg.autotune = 0;
    tcfg.sndbuf = tcfg.rcvbuf = BUF;
    th_init(h, &tcfg);
    th_app_init(app);
    return th_open_active(h, app, 80, lport);
}

/* The peer sends `unread` bytes that wait in the buffer, then the
 * application reads them all: the window updates that follow (the
 * window fields of the pure ACKs), at most 4. */
static int updates_after_read(uint32_t unread, uint16_t win[4])
{
    tcp_harness h;
    th_app app;
    uint16_t lport;
    uint32_t iss = open_fixed(&h, &app, &lport);
    for (uint32_t off = 0; off < unread; off += sizeof payload) {
        oasis_tcp_hdr d = th_seg(80, lport, OASIS_TCP_ACK, TH_PISN + 1 + off, iss + 1);
        d.payload = payload;
        d.payload_len = unread - off < sizeof payload ? unread - off : sizeof payload;
        th_inject(&h, &d);
    }
    assert_non_null(app.flow->ext);
    assert_int_equal(app.flow->ext->rcv.cap, BUF);
    th_advance(&h, OASIS_NS_PER_SEC); /* delayed ACKs go */
    th_clear(&h);
    assert_int_equal(oasis_tcp_read(app.flow, th_read_cb, &app), 0);
    th_poll(&h);
    assert_int_equal(app.rx_len, unread);
    int n = 0;
    oasis_tcp_hdr seg;
    while (th_pop(&h, &seg)) {
        assert_int_equal(seg.flags, OASIS_TCP_ACK);
        assert_int_equal(seg.payload_len, 0);
        assert_true(n < 4);
        win[n++] = seg.window;
    }
    th_app_fini(&app);
    th_fini(&h);
    return n;
}

static void test_update_when_known_window_under_half(void **state)
{
    (void)state;
    uint16_t win[4];
    /* 40000 read: the peer knew ~25500 of the 65535 now free */
    assert_int_equal(updates_after_read(40000, win), 1);
    assert_int_equal(win[0], 65535);
    /* 60000 read: it knew ~5500 */
    assert_int_equal(updates_after_read(60000, win), 1);
    assert_int_equal(win[0], 65535);
}

static void test_no_update_when_half_known(void **state)
{
    (void)state;
    uint16_t win[4];
    /* 10000 read: it knew ~55500, more than half */
    assert_int_equal(updates_after_read(10000, win), 0);
    /* 30000 read: ~35500, still more than half */
    assert_int_equal(updates_after_read(30000, win), 0);
}

/* Under memory pressure a segment whose window keeps its edge (the gain
 * is under min(buffer / 2, MSS)) still has the clamp counted that would
 * have cut a moved edge: tcp_output.c window_field asks rcv_space then,
 * though the ring's free space alone shows the edge stays. */
static void test_pressure_clamp_counted_when_edge_stays(void **state)
{
    (void)state;
    tcp_harness h;
    th_app app;
    uint16_t lport;
    uint32_t iss = open_fixed(&h, &app, &lport);
    oasis_tcp_hdr d = th_seg(80, lport, OASIS_TCP_ACK, TH_PISN + 1, iss + 1);
    d.payload = payload;
    d.payload_len = 10;
    th_inject(&h, &d);
    th_advance(&h, OASIS_NS_PER_SEC); /* the delayed ACK goes */
    assert_int_equal(oasis_tcp_read(app.flow, th_read_cb, &app), 0);
    th_poll(&h);
    assert_int_equal(app.rx_len, 10);
    th_clear(&h);
    h.s->tcp->mem_pressure = 1; /* (no memory limit: nothing lifts it) */
    uint64_t clamps = th_ctr(&h)->mem_win_clamp;
    assert_int_equal(oasis_tcp_write(app.flow, "x", 1, NULL, NULL), 0);
    th_poll(&h);
    oasis_tcp_hdr seg;
    assert_true(th_pop(&h, &seg));
    assert_int_equal(seg.payload_len, 1);
    assert_int_equal(seg.window, 65535 - 10); /* the edge stays */
    assert_int_equal(th_ctr(&h)->mem_win_clamp, clamps + 1);
    th_app_fini(&app);
    th_fini(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_update_when_known_window_under_half),
        cmocka_unit_test(test_no_update_when_half_known),
        cmocka_unit_test(test_pressure_clamp_counted_when_edge_stays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
