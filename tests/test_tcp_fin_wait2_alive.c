/* FIN_WAIT_2's bound is the peer's silence (issue 11 item 43: "restarted by
 * any segment from the peer"). Simulator seed 350138: our FIN acked, the
 * peer still sending (half-close); our ACKs of its last segment were lost
 * twice, so what reached us for two minutes were retransmissions of data we
 * already had. Those are old duplicates (not acceptable, answered with an
 * ACK) and did not restart the bound: we gave up on a peer that was
 * talking, and reset it. A duplicate that acknowledges exactly what we sent
 * is the peer's own retransmission (a blind sender cannot guess both
 * numbers): it restarts the bound too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcp_harness.h"

#define PORT 80
#define SEC OASIS_NS_PER_SEC

typedef struct fx {
    tcp_harness h;
    th_app a;
    uint32_t iss;
} fx;

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    th_init(&x->h, NULL);
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

static void peer_data(fx *x, uint32_t seq, const char *d)
{
    oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, OASIS_TCP_ACK, seq, x->iss + 2);
    s.payload = (const uint8_t *)d;
    s.payload_len = strlen(d);
    th_inject(&x->h, &s);
}

/* Counts the ACKs we sent of everything up to `ack`. */
static int acks_of(fx *x, uint32_t ack)
{
    int n = 0;
    oasis_tcp_hdr r;
    while (th_pop(&x->h, &r))
        n += (r.flags & OASIS_TCP_ACK) && r.ack == ack && !(r.flags & OASIS_TCP_RST);
    return n;
}

static void test_peer_retransmissions_keep_fin_wait_2(void **state)
{
    fx *x = *state;
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    uint64_t bound = c.tcp.fin_wait2_ns;
    assert_true(bound >= 60 * SEC); /* the default bounds FIN_WAIT_2 */

    x->iss = th_open_passive(&x->h, &x->a, PORT, NULL);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_close(x->a.flow, th_close_cb, &x->a), 0);
    th_poll(&x->h);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_true(r.flags & OASIS_TCP_FIN);
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, OASIS_TCP_ACK, TH_PISN + 1, x->iss + 2);
    th_inject(&x->h, &ack); /* our FIN acked: FIN_WAIT_2 */
    th_poll(&x->h);

    uint32_t seq = TH_PISN + 1;
    peer_data(x, seq, "half-close data");
    th_advance(&x->h, SEC / 5); /* a delayed ACK */
    uint32_t rcv = seq + 15;
    assert_int_equal(acks_of(x, rcv), 1);
    /* Our ACK is lost; the peer resends the segment every bound/2, for
     * three bounds: we answer each, and stay. */
    for (int i = 0; i < 6; i++) {
        th_advance(&x->h, bound / 2);
        assert_int_equal(x->a.closed, 0);
        peer_data(x, seq, "half-close data");
        th_poll(&x->h);
        assert_int_equal(acks_of(x, rcv), 1);
    }
    assert_int_equal(x->a.closed, 0);
    assert_int_equal(x->a.rx_len, 15);
    /* Then silence: the bound ends the close. */
    th_advance(&x->h, bound + SEC);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(x->a.close_err, OASIS_ETIMEDOUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_peer_retransmissions_keep_fin_wait_2, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
