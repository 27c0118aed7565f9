/* PRR (RFC 9937, which obsoletes RFC 6937): the sending budget sndcnt on
 * each ACK of a recovery, figures from RFC 6937's examples (units of one
 * MSS unless said), and on a flow with hand-built ACKs. */
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
#define MS OASIS_NS_PER_MS

/* ---- the budget (pure) ------------------------------------------------------ */

/* RFC 6937 section 6 example: 20 segments in flight, one lost, ssthresh
 * 10: PRR sends one segment for every two delivered, spreading the
 * reduction over the round trip; units of one MSS. */
static void test_prr_proportional(void **state)
{
    (void)state;
    uint32_t recover_fs = 20, ssthresh = 10, pipe = 19, out = 1, delivered = 0;
    while (pipe > ssthresh) {
        delivered += 1;
        uint32_t snd = oasis_prr_sndcnt(delivered, out, recover_fs, ssthresh, pipe, 1, 0, 1);
        assert_true(snd <= 1);
        out += snd;
        pipe += snd;
        pipe -= 1;
        /* sent so far: ceil(prr_delivered * ssthresh / RecoverFS) */
        assert_int_equal(out, (delivered * ssthresh + recover_fs - 1) / recover_fs);
    }
    assert_int_equal(delivered, 16);
    assert_int_equal(oasis_prr_sndcnt(2, 1, 20, 10, 18, 1, 0, 1), 0);
    assert_int_equal(oasis_prr_sndcnt(3, 1, 20, 10, 17, 1, 0, 1), 1);
    /* above ssthresh a SafeACK changes nothing */
    assert_int_equal(oasis_prr_sndcnt(3, 1, 20, 10, 17, 1, 1, 1), 1);
}

/* Pipe at or below ssthresh (heavy loss), on a SafeACK: slow-start
 * reduction bound, at most one MSS more than delivered, never above
 * ssthresh. */
static void test_prr_ssrb(void **state)
{
    (void)state;
    /* pipe 4, ssthresh 10: delivered 2, prr_delivered 6, prr_out 5 */
    assert_int_equal(oasis_prr_sndcnt(6, 5, 20, 10, 4, 2, 1, 1), 3);
    /* the bound is ssthresh - pipe */
    assert_int_equal(oasis_prr_sndcnt(30, 5, 20, 10, 8, 2, 1, 1), 2);
    /* bytes */
    assert_int_equal(oasis_prr_sndcnt(6000, 5000, 20000, 10000, 4000, 2000, 1, 1000), 3000);
}

/* RFC 9937 4: on any other ACK the conservative bound, PRR-CRB as 9937
 * has it: what was delivered (by this ACK, or since recovery began and not
 * yet sent), no MSS more. */
static void test_prr_crb_unless_safe_ack(void **state)
{
    (void)state;
    assert_int_equal(oasis_prr_sndcnt(6, 5, 20, 10, 4, 2, 0, 1), 2);
    assert_int_equal(oasis_prr_sndcnt(9, 5, 20, 10, 4, 2, 0, 1), 4);
    assert_int_equal(oasis_prr_sndcnt(30, 5, 20, 10, 8, 2, 0, 1), 2);
    assert_int_equal(oasis_prr_sndcnt(6000, 5000, 20000, 10000, 4000, 2000, 0, 1000), 2000);
    assert_int_equal(oasis_prr_sndcnt(6000, 7000, 20000, 10000, 4000, 0, 0, 1000), 0);
}

/* ---- on a flow ---------------------------------------------------------------- */

/* Ten segments out (IW10), more waiting; segment 0 is lost and each ACK
 * SACKs one more. By hand: ACKs 1 and 2 are dupacks with new SACK
 * information, each lets one new segment out (limited transmit, RFC 3042);
 * ACK 3 enters recovery with ssthresh 5 MSS (FlightSize 10 MSS: the two
 * limited-transmit segments are left out, RFC 5681 3.2 step 2) and sends
 * the fast retransmit. RecoverFS (RFC 9937 6): 12 MSS in flight less the
 * 2 SACKed before ACK 3, 10 MSS (6937 took 12). Then PRR in bytes:
 * ACK 4 ceil(2000*5/10) - 1000 = 0; ACK 5 500 bytes, less than a segment
 * (the send loop's SWS rule holds them); ACK 6 one segment (2000 - 1000;
 * 12 MSS gave 667 bytes); ACK 7 500 bytes; ACK 8 pipe == ssthresh,
 * 0; ACK 9 one segment (PRR-CRB). */
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
    const int expect[10] = {0, 1, 1, 1, 0, 0, 1, 0, 0, 1};
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
    assert_int_equal(a.flow->ext->rec.recover_fs, 10 * MSS);
    assert_true(oasis_recovery_fast(a.flow));
    th_fini(&h);
    th_app_fini(&a);
}

/* ---- SafeACK on a flow (RFC 9937 4) ------------------------------------------ */

typedef struct fx {
    tcp_harness h;
    th_app a;
    uint32_t iss;
} fx;

/* Passive open with MSS 1000 and SACK, the handshake's ACK 40 ms after
 * our SYN-ACK (an RTT sample: RACK's min_RTT, a PTO beyond this test's
 * ACKs); n segments written (IW10 sends ten), their copies dropped; 10 ms
 * later the first ACK may come. */
static void fx_open(fx *x, uint32_t n)
{
    th_init(&x->h, NULL);
    th_app_init(&x->a);
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, OASIS_TCP_SYN, TH_PISN, 0);
    syn.has_mss = 1;
    syn.mss = MSS;
    syn.sack_permitted = 1;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    th_inject(&x->h, &syn);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    x->iss = r.seq;
    th_advance(&x->h, 40 * MS);
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, OASIS_TCP_ACK, TH_PISN + 1, x->iss + 1);
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    assert_non_null(x->a.flow);
    static uint8_t big[64 * MSS];
    assert_true(n * MSS <= sizeof big);
    assert_int_equal(oasis_tcp_write(x->a.flow, big, n * MSS, NULL, NULL), 0);
    th_clear(&x->h);
    th_advance(&x->h, 10 * MS);
}

static void fx_fini(fx *x)
{
    th_fini(&x->h);
    th_app_fini(&x->a);
}

static uint32_t sg(const fx *x, uint32_t i) { return x->iss + 1 + i * MSS; }

/* An ACK of everything below segment ack, SACKing segments [l, r) of each
 * pair in lr. */
static void fx_ack(fx *x, uint32_t ack, int nb, const uint32_t *lr)
{
    oasis_tcp_hdr a = th_seg(TH_PPORT, PORT, OASIS_TCP_ACK, TH_PISN + 1, sg(x, ack));
    a.sack_count = (uint8_t)nb;
    for (int k = 0; k < nb; k++) {
        a.sack[k].left = sg(x, lr[2 * k]);
        a.sack[k].right = sg(x, lr[2 * k + 1]);
    }
    th_inject(&x->h, &a);
}

/* Exactly the full segments numbered in want[0..n) went out, then none. */
static void fx_sent(fx *x, const uint32_t *want, int n)
{
    oasis_tcp_hdr r;
    for (int i = 0; i < n; i++) {
        assert_true(th_pop(&x->h, &r));
        assert_int_equal(r.seq, sg(x, want[i]));
        assert_int_equal(r.payload_len, MSS);
    }
    assert_false(th_pop(&x->h, &r));
}

#define SENT(x, ...) \
    fx_sent(x, (const uint32_t[]){__VA_ARGS__}, (int)(sizeof((uint32_t[]){__VA_ARGS__}) / 4))

/* Ten out, segments 0-5 lost, NewReno (ssthresh 5 MSS). ACKs 1 and 2
 * SACK 6 and 7 and send 10 and 11 (limited transmit, RFC 3042). ACK 3
 * SACKs 8: IsLost(0), recovery; pipe 3 MSS (9-11) is below ssthresh. By
 * hand, RFC 9937 6 in MSS:
 * - ACK 3 (SACK only, no SafeACK): CRB, max(1 - 0, 1) = 1: the fast
 *   retransmit alone (6937's SSRB sent 0 and 1);
 * - ACK 4 SACKs 9: CRB, max(2 - 1, 1) = 1: segment 1;
 * - ACK 5, 10 ms later, acknowledges segment 0, whose retransmission
 *   went after 10 and 11 (at the same clock reading, but after them):
 *   RACK judges them lost (RFC 8985 6.2, no reordering window in
 *   recovery), a further loss: no SafeACK, CRB max(3 - 2, 1) = 1:
 *   segment 2;
 * - ACK 6, 10 ms later, acknowledges 1 and SACKs 11: snd.una advances and
 *   nothing more is lost: SafeACK, SSRB max(5 - 3, 2) + 1 = 3 with room
 *   for 4 (pipe 1: the retransmission of 2): segments 3, 4 and 5;
 * - ACK 7, 10 ms later, acknowledges 2 and SACKs the retransmission of 5:
 *   RACK judges those of 3 and 4, which went before it (in the same
 *   instant), lost: a lost retransmission, no SafeACK: CRB, max(7 - 6,
 *   2) = 2: both lost retransmissions again (RFC 8985 2.2,
 *   oasis_rack_lost_rtx) before the lost 10. */
static void test_prr_safe_ack_on_flow(void **state)
{
    (void)state;
    fx x;
    fx_open(&x, 30);
    oasis_flow *f = x.a.flow;
    fx_ack(&x, 0, 1, (uint32_t[]){6, 7});
    SENT(&x, 10);
    fx_ack(&x, 0, 1, (uint32_t[]){6, 8});
    SENT(&x, 11);
    fx_ack(&x, 0, 1, (uint32_t[]){6, 9});
    assert_true(oasis_recovery_fast(f));
    assert_int_equal(f->ext->cc.ssthresh, 5 * MSS);
    SENT(&x, 0);
    fx_ack(&x, 0, 1, (uint32_t[]){6, 10});
    SENT(&x, 1);
    th_advance(&x.h, 10 * MS);
    fx_ack(&x, 1, 1, (uint32_t[]){6, 10});
    SENT(&x, 2);
    th_advance(&x.h, 10 * MS);
    fx_ack(&x, 2, 2, (uint32_t[]){6, 10, 11, 12});
    SENT(&x, 3, 4, 5);
    th_advance(&x.h, 10 * MS);
    fx_ack(&x, 3, 2, (uint32_t[]){5, 10, 11, 12});
    SENT(&x, 3, 4);
    assert_true(oasis_recovery_fast(f));
    fx_fini(&x);
}

/* RFC 9937 6.2: an ACK that delivers nothing changes nothing, the budget
 * of the last ACK included. Twelve segments only (ten, then 10 and 11 by
 * limited transmit), the ACKs of test_prr_safe_ack_on_flow up to its ACK
 * 7, which sends 3 and 4 again there too. ACK 8 acknowledges everything
 * below 10: a SafeACK (delivered 2, RACK finds nothing new), SSRB
 * max(9 - 8, 2) + 1 = 3 MSS with room for 5: NextSeg rule 1 resends the
 * lost 10, then only RFC 6675's rescue is left (rule 4: the highest
 * unSACKed segment, 10 again). The same ACK again delivers nothing: the
 * 1 MSS left stays (recomputed, it would be CRB's max(9 - 10, 0) = 0),
 * and one of three segments written then goes at once. */
static void test_prr_no_delivery_keeps_budget(void **state)
{
    (void)state;
    fx x;
    fx_open(&x, 12);
    oasis_flow *f = x.a.flow;
    fx_ack(&x, 0, 1, (uint32_t[]){6, 7});
    SENT(&x, 10);
    fx_ack(&x, 0, 1, (uint32_t[]){6, 8});
    SENT(&x, 11);
    fx_ack(&x, 0, 1, (uint32_t[]){6, 9});
    SENT(&x, 0);
    fx_ack(&x, 0, 1, (uint32_t[]){6, 10});
    SENT(&x, 1);
    th_advance(&x.h, 10 * MS);
    fx_ack(&x, 1, 1, (uint32_t[]){6, 10});
    SENT(&x, 2);
    th_advance(&x.h, 10 * MS);
    fx_ack(&x, 2, 2, (uint32_t[]){6, 10, 11, 12});
    SENT(&x, 3, 4, 5);
    th_advance(&x.h, 10 * MS);
    fx_ack(&x, 3, 2, (uint32_t[]){5, 10, 11, 12});
    SENT(&x, 3, 4);
    th_advance(&x.h, 10 * MS);
    fx_ack(&x, 10, 1, (uint32_t[]){11, 12});
    SENT(&x, 10, 10);
    fx_ack(&x, 10, 1, (uint32_t[]){11, 12});
    fx_sent(&x, NULL, 0);
    assert_true(oasis_recovery_fast(f));
    static uint8_t more[3 * MSS];
    assert_int_equal(oasis_tcp_write(f, more, sizeof more, NULL, NULL), 0);
    th_poll(&x.h);
    SENT(&x, 12);
    fx_fini(&x);
}

/* Recovery started by RACK's reorder timer (RFC 8985 6.2), no ACK at
 * hand: RecoverFS is the flight less what is SACKed already (RFC 9937 6),
 * 10 - 1 MSS, and the fast retransmit goes with nothing delivered. */
static void test_prr_recover_fs_on_reorder_timer(void **state)
{
    (void)state;
    fx x;
    fx_open(&x, 10);
    oasis_flow *f = x.a.flow;
    fx_ack(&x, 0, 1, (uint32_t[]){7, 8});
    fx_sent(&x, NULL, 0);
    assert_false(oasis_recovery_fast(f));
    th_advance(&x.h, 5 * MS); /* past RACK.rtt + reo_wnd (10 + 2.5 ms) */
    assert_true(oasis_recovery_fast(f));
    SENT(&x, 0);
    assert_int_equal(f->ext->rec.recover_fs, 9 * MSS);
    fx_fini(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prr_proportional),
        cmocka_unit_test(test_prr_ssrb),
        cmocka_unit_test(test_prr_crb_unless_safe_ack),
        cmocka_unit_test(test_prr_paces_recovery_on_flow),
        cmocka_unit_test(test_prr_safe_ack_on_flow),
        cmocka_unit_test(test_prr_no_delivery_keeps_budget),
        cmocka_unit_test(test_prr_recover_fs_on_reorder_timer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
