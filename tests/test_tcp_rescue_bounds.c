/* A retransmission never carries bytes that were never sent (simulator
 * seed 1008164, found by the timeout checker of issue 11 item 45). RFC 6675
 * NextSeg rule 4 (rescue retransmission) resends "up to one segment of the
 * highest outstanding unSACKed data": outstanding means sent, below
 * snd_max. With more data queued than the peer's window let out, the rescue
 * took the hole above the highest SACK block up to the end of the send
 * ring instead, and "resent" the last MSS of data never sent, without
 * moving snd_max. The peer took the bytes and acknowledged past our
 * snd_max; we treated that as an ACK of unsent data (dropped, answered
 * with an ACK), the peer answered our old-looking ACK with its own: an ACK
 * war, no further progress, both ends timing out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcp/tcp_seq.h"
#include "tcp_harness.h"

#define PORT 80
#define MSS 1000u
#define WND (10 * MSS) /* the peer's window: ten segments */

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

static uint32_t sg(const fx *x, uint32_t i) { return x->iss + 1 + i * MSS; }

/* ACK from the peer with one SACK block [l, r) (segment numbers; l == r:
 * none) and a window whose right edge stays at segment 10. */
static void ack_sack(fx *x, uint32_t ack, uint32_t l, uint32_t r)
{
    oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, OASIS_TCP_ACK, TH_PISN + 1, ack);
    s.window = (uint16_t)(sg(x, 10) - ack);
    if (l != r) {
        s.sack_count = 1;
        s.sack[0].left = sg(x, l);
        s.sack[0].right = sg(x, r);
    }
    th_inject(&x->h, &s);
}

/* Twenty segments written, the window lets ten out; 0 and 1 arrive, 2 and
 * 9 are lost, 3..8 are SACKed one by one. Segment 2 is resent (rule 1)
 * and, as nothing above segment 9 will ever be SACKed, segment 9 is the
 * rescue (rule 4) once the ACK for segment 2's retransmission arrives
 * (HighACK > RescueRxt, step 4.3). Nothing at or above segment 10 may
 * leave: it was never sent and the window does not reach it. */
static void test_rescue_stays_below_snd_max(void **state)
{
    fx *x = *state;
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, OASIS_TCP_SYN, TH_PISN, 0);
    syn.has_mss = 1;
    syn.mss = MSS;
    syn.sack_permitted = 1;
    syn.window = WND;
    x->iss = th_open_passive(&x->h, &x->a, PORT, &syn);

    static uint8_t data[20 * MSS];
    memset(data, 'r', sizeof data);
    assert_int_equal(oasis_tcp_write(x->a.flow, data, sizeof data, NULL, NULL), 0);
    th_poll(&x->h);
    oasis_tcp_hdr r;
    uint32_t high = sg(x, 0);
    while (th_pop(&x->h, &r))
        if (oasis_seq_gt(r.seq + (uint32_t)r.payload_len, high))
            high = r.seq + (uint32_t)r.payload_len;
    assert_int_equal(high, sg(x, 10)); /* the window's worth, no more */

    ack_sack(x, sg(x, 2), 0, 0);
    int saw2 = 0, saw9 = 0;
    for (uint32_t k = 4; k <= 10; k++) {
        if (k < 10)
            ack_sack(x, sg(x, 2), 3, k);
        else
            ack_sack(x, sg(x, 9), 0, 0); /* segment 2's retransmission arrived */
        th_poll(&x->h);
        while (th_pop(&x->h, &r)) {
            uint32_t end = r.seq + (uint32_t)r.payload_len;
            assert_true(oasis_seq_le(end, sg(x, 10)));
            if (r.payload_len && r.seq == sg(x, 2))
                saw2 = 1;
            if (r.payload_len && end == sg(x, 10))
                saw9 = 1;
        }
    }
    assert_true(saw2);
    assert_true(saw9); /* the rescue went out, below snd_max */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rescue_stays_below_snd_max, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
