/* PRR (RFC 6937, PRR-SSRB): the sending budget sndcnt on each ACK of a
 * recovery, figures from the RFC's examples (units of one MSS unless said). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcp/tcp_flow.h"
#include "tcp/tcp_sack.h"
#include "tcp_harness.h"

#define PORT 80
#define MSS 1000u

/* ---- PRR (RFC 6937) ------------------------------------------------------- */

/* RFC 6937 section 6 example: 20 segments in flight, one lost, ssthresh
 * 10: PRR sends one segment for every two delivered, spreading the
 * reduction over the round trip; units of one MSS. */
static void test_prr_proportional(void **state)
{
    (void)state;
    uint32_t recover_fs = 20, ssthresh = 10, pipe = 19, out = 1, delivered = 0;
    while (pipe > ssthresh) {
        delivered += 1;
        uint32_t snd = oasis_prr_sndcnt(delivered, out, recover_fs, ssthresh, pipe, 1, 1);
        assert_true(snd <= 1);
        out += snd;
        pipe += snd;
        pipe -= 1;
        /* sent so far: ceil(prr_delivered * ssthresh / RecoverFS) */
        assert_int_equal(out, (delivered * ssthresh + recover_fs - 1) / recover_fs);
    }
    assert_int_equal(delivered, 16);
    assert_int_equal(oasis_prr_sndcnt(2, 1, 20, 10, 18, 1, 1), 0);
    assert_int_equal(oasis_prr_sndcnt(3, 1, 20, 10, 17, 1, 1), 1);
}

/* Pipe at or below ssthresh (heavy loss): slow-start reduction bound,
 * at most one MSS more than delivered, never above ssthresh. */
static void test_prr_ssrb(void **state)
{
    (void)state;
    /* pipe 4, ssthresh 10: delivered 2, prr_delivered 6, prr_out 5 */
    assert_int_equal(oasis_prr_sndcnt(6, 5, 20, 10, 4, 2, 1), 3);
    /* the bound is ssthresh - pipe */
    assert_int_equal(oasis_prr_sndcnt(30, 5, 20, 10, 8, 2, 1), 2);
    /* bytes */
    assert_int_equal(oasis_prr_sndcnt(6000, 5000, 20000, 10000, 4000, 2000, 1000), 3000);
}

/* ---- on a flow ---------------------------------------------------------------- */

/* Ten segments out (IW10), more waiting; segment 0 is lost and each ACK
 * SACKs one more. By hand: ACKs 1 and 2 are dupacks with new SACK
 * information, each lets one new segment out (limited transmit, RFC 3042);
 * ACK 3 enters recovery with ssthresh 5 MSS (FlightSize 10 MSS: the two
 * limited-transmit segments are left out, RFC 5681 3.2 step 2) and
 * RecoverFS 12 MSS, and sends the fast retransmit. Then PRR in bytes:
 * ACK 4 ceil(2000*5/12) - 1000 = 0; ACK 5 250 and ACK 6 667 bytes, less
 * than a segment (the send loop's SWS rule holds them); ACK 7 pipe ==
 * ssthresh, 0; ACKs 8 and 9 one segment each (SSRB). */
static void test_prr_paces_recovery_on_flow(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    th_init(&h, NULL);
    th_app_init(&a);
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, OASIS_TCP_SYN, TH_PISN, 0);
    syn.has_mss = 1;
    syn.mss = MSS;
    syn.sack_permitted = 1;
    uint32_t iss = th_open_passive(&h, &a, PORT, &syn);
    static uint8_t big[30 * MSS];
    assert_int_equal(oasis_tcp_write(a.flow, big, sizeof big, NULL, NULL), 0);
    th_clear(&h);
    const int expect[10] = {0, 1, 1, 1, 0, 0, 0, 0, 1, 1};
    for (uint32_t k = 1; k <= 9; k++) {
        oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, OASIS_TCP_ACK, TH_PISN + 1, iss + 1);
        ack.sack_count = 1;
        ack.sack[0].left = iss + 1 + MSS;
        ack.sack[0].right = iss + 1 + (k + 1) * MSS;
        th_inject(&h, &ack);
        oasis_tcp_hdr r;
        int n = 0;
        while (th_pop(&h, &r)) {
            if (k == 3)
                assert_int_equal(r.seq, iss + 1); /* the fast retransmit */
            else
                assert_true((int32_t)(r.seq - (iss + 1 + 10 * MSS)) >= 0); /* new data */
            n++;
        }
        assert_int_equal(n, expect[k]);
    }
    assert_int_equal(a.flow->ext->cc.ssthresh, 5 * MSS);
    assert_true(oasis_recovery_fast(a.flow));
    th_fini(&h);
    th_app_fini(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prr_proportional),
        cmocka_unit_test(test_prr_ssrb),
        cmocka_unit_test(test_prr_paces_recovery_on_flow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
