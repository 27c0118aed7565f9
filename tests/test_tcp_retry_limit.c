/* The retransmission limit holds when the peer's window is smaller than
 * what sender-side silly window avoidance lets out (issue 11 item 44,
 * simulator seeds 354930, 1053826, 1095778): a window of a few hundred
 * bytes, data queued behind it, then the peer goes silent. The RTO must
 * resend what is outstanding, back off, and end the flow with Timeout after
 * data_retries (RFC 6298 5.4-5.5, RFC 9293 3.8.3 R2). Before the fix the
 * go-back-N after the RTO was held back by SWS avoidance, the flow fell into
 * the persist timer (which reset the retry count) and the persist timer sent
 * the bytes again: in FIN_WAIT_1 or CLOSING, where no keepalive runs, for
 * ever. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcp_harness.h"

#define PORT 80
#define SEC OASIS_NS_PER_SEC
#define RETRIES 4
#define SMALL_WND 300 /* below the MSS (536) and half the largest window */

typedef struct fx {
    tcp_harness h;
    th_app a;
    uint32_t iss;
} fx;

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.data_retries = RETRIES;
    th_init(&x->h, &c.tcp);
    th_app_init(&x->a);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fx *x = *state;
    th_fini(&x->h);
    th_app_fini(&x->a);
    free(x);
    return 0;
}

static void ack(fx *x, uint32_t ackno, uint16_t win)
{
    oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, OASIS_TCP_ACK, TH_PISN + 1, ackno);
    s.window = win;
    th_inject(&x->h, &s);
}

/* Data queued beyond a window of SMALL_WND bytes; the persist timer lets
 * SMALL_WND bytes out; from then on the peer is silent. Returns the
 * sequence number of those bytes. */
static uint32_t small_window_then_silence(fx *x, int close_too)
{
    static uint8_t data[8000];
    memset(data, 'x', sizeof data);
    x->iss = th_open_passive(&x->h, &x->a, PORT, NULL);
    assert_int_equal(oasis_tcp_write(x->a.flow, data, sizeof data, th_write_cb, &x->a), 0);
    if (close_too)
        assert_int_equal(oasis_tcp_close(x->a.flow, th_close_cb, &x->a), 0);
    th_poll(&x->h);
    uint32_t high = x->iss + 1;
    oasis_tcp_hdr r;
    while (th_pop(&x->h, &r))
        high = r.seq + (uint32_t)r.payload_len;
    assert_true(high - (x->iss + 1) < sizeof data); /* more is queued */
    ack(x, high, SMALL_WND);
    th_poll(&x->h);
    assert_false(th_pop(&x->h, &r)); /* SWS avoidance holds the small segment */
    /* The persist timer's override sends what fits. */
    for (int i = 0; i < 100 && !th_pending(&x->h); i++)
        th_advance(&x->h, SEC / 10);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, high);
    assert_int_equal(r.payload_len, SMALL_WND);
    return high;
}

/* The peer stays silent for an hour: the same SMALL_WND bytes go out
 * again RETRIES times, then the flow ends with Timeout. */
static int ended(const fx *x)
{
    return !x->a.flow || oasis_tcp_flow_error(x->a.flow) != 0;
}

static void expect_give_up(fx *x, uint32_t seq)
{
    int resent = 0;
    for (int i = 0; i < 3600 && !ended(x); i++) {
        th_advance(&x->h, SEC);
        oasis_tcp_hdr r;
        while (th_pop(&x->h, &r)) {
            if (r.flags & OASIS_TCP_RST)
                continue; /* the flow's end may reset the peer */
            assert_int_equal(r.seq, seq);
            assert_int_equal(r.payload_len, SMALL_WND);
            resent++;
        }
    }
    assert_true(ended(x));
    assert_int_equal(resent, RETRIES);
    assert_int_equal(th_ctr(&x->h)->timeouts, RETRIES);
}

static void test_small_window_established_gives_up(void **state)
{
    fx *x = *state;
    uint32_t seq = small_window_then_silence(x, 0);
    expect_give_up(x, seq);
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), OASIS_ETIMEDOUT);
    oasis_tcp_release(x->a.flow);
    x->a.flow = NULL;
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

/* The simulator's case: close asked for, FIN queued behind the data. */
static void test_small_window_closing_gives_up(void **state)
{
    fx *x = *state;
    uint32_t seq = small_window_then_silence(x, 1);
    oasis_tcp_info ti;
    assert_int_equal(oasis_tcp_get_info(x->a.flow, &ti), 0);
    assert_int_equal(ti.state, OASIS_TCP_FIN_WAIT_1);
    expect_give_up(x, seq);
    th_poll(&x->h);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(x->a.close_err, OASIS_ETIMEDOUT);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_small_window_established_gives_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_window_closing_gives_up, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
