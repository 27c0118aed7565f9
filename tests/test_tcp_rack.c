/* RACK-TLP (RFC 8985): the reordering window (min_RTT/4, widened by
 * D-SACKs once per round trip, decaying after 16 recoveries), the PTO
 * figure, and the tail loss probe on a flow whose last segments are lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcp/tcp_flow.h"
#include "tcp/tcp_rack.h"
#include "tcp/tcp_sack.h"
#include "tcp/tcp_seq.h"
#include "tcp_harness.h"

#define PORT 80
#define A OASIS_TCP_ACK
#define S OASIS_TCP_SYN
#define MSS 1000u
#define MS OASIS_NS_PER_MS

static void test_reo_wnd_quarter_min_rtt(void **state)
{
    (void)state;
    oasis_rack r;
    memset(&r, 0, sizeof r);
    assert_int_equal(oasis_rack_reo_wnd(&r, 50 * MS), 0); /* no sample yet */
    oasis_rack_rtt_sample(&r, 40 * MS);
    oasis_rack_rtt_sample(&r, 60 * MS); /* min stays 40 */
    assert_int_equal(oasis_rack_reo_wnd(&r, 50 * MS), 10 * MS);
    oasis_rack_rtt_sample(&r, 20 * MS);
    assert_int_equal(oasis_rack_reo_wnd(&r, 50 * MS), 5 * MS);
}

static void test_reo_wnd_grows_with_dsack(void **state)
{
    (void)state;
    oasis_rack r;
    memset(&r, 0, sizeof r);
    oasis_rack_rtt_sample(&r, 40 * MS);
    oasis_rack_dsack(&r, 1000, 9000);
    assert_int_equal(oasis_rack_reo_wnd(&r, 100 * MS), 20 * MS);
    /* a second D-SACK in the same round trip changes nothing */
    oasis_rack_dsack(&r, 2000, 9500);
    assert_int_equal(oasis_rack_reo_wnd(&r, 100 * MS), 20 * MS);
    /* next round trip: one more step */
    oasis_rack_dsack(&r, 9000, 15000);
    assert_int_equal(oasis_rack_reo_wnd(&r, 100 * MS), 30 * MS);
    /* never above SRTT */
    assert_int_equal(oasis_rack_reo_wnd(&r, 25 * MS), 25 * MS);
    /* decays back after 16 recoveries */
    for (int i = 0; i < 15; i++)
        oasis_rack_recovery_done(&r);
    assert_int_equal(oasis_rack_reo_wnd(&r, 100 * MS), 30 * MS);
    oasis_rack_recovery_done(&r);
    assert_int_equal(oasis_rack_reo_wnd(&r, 100 * MS), 10 * MS);
}

static void test_pto_figure(void **state)
{
    (void)state;
    uint64_t rto = 1000 * MS;
    assert_int_equal(oasis_tlp_pto(0, 0, 5000, MSS, 3000 * MS), OASIS_NS_PER_SEC);
    assert_int_equal(oasis_tlp_pto(30 * MS, 1, 5000, MSS, rto), 61 * MS);
    /* one segment in flight: room for the peer's delayed ACK */
    assert_int_equal(oasis_tlp_pto(30 * MS, 1, MSS, MSS, rto), 260 * MS);
    /* never after the RTO */
    assert_int_equal(oasis_tlp_pto(300 * MS, 1, 5000, MSS, 400 * MS), 400 * MS);
}

/* ---- the probe on a flow ------------------------------------------------------ */

typedef struct fx {
    tcp_harness h;
    th_app a;
    uint32_t iss, pnxt;
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

static void estab(fx *x, int sack)
{
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    syn.has_mss = 1;
    syn.mss = MSS;
    syn.sack_permitted = (uint8_t)sack;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    th_inject(&x->h, &syn);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    x->iss = r.seq;
    x->pnxt = TH_PISN + 1;
    th_advance(&x->h, 40 * MS); /* an RTT sample of 40 ms from the handshake */
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, x->pnxt, x->iss + 1);
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    assert_non_null(x->a.flow);
}

static uint32_t sg(const fx *x, uint32_t i) { return x->iss + 1 + i * MSS; }

/* Ten segments out on a SACK flow; the peer acks the first eight and the
 * last two are lost. Returns the flow; *ack is that ACK. */
static oasis_flow *lost_tail(fx *x, uint8_t *big, oasis_tcp_hdr *ack)
{
    estab(x, 1);
    oasis_flow *f = x->a.flow;
    assert_int_equal(oasis_tcp_write(f, big, 10 * MSS, NULL, NULL), 0);
    th_clear(&x->h);
    th_advance(&x->h, 40 * MS);
    *ack = th_seg(TH_PPORT, PORT, A, x->pnxt, sg(x, 8));
    th_inject(&x->h, ack);
    th_clear(&x->h);
    return f;
}

/* Ten segments out; the peer acks the first eight, the last two are lost
 * and nothing more comes back: a probe (the last segment again) goes out
 * after 2*SRTT, long before the RTO. */
static void test_tlp_fires_on_lost_tail(void **state)
{
    fx *x = *state;
    static uint8_t big[10 * MSS];
    oasis_tcp_hdr ack;
    oasis_flow *f = lost_tail(x, big, &ack);
    uint64_t t0 = th_now(&x->h);
    uint64_t pto = 2 * f->ext->rtt.srtt_ns;
    assert_true(pto < oasis_rtt_rto(&f->ext->rtt));
    th_advance(&x->h, pto - MS);
    oasis_tcp_hdr r;
    assert_false(th_pop(&x->h, &r));
    th_advance(&x->h, 2 * MS);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, sg(x, 9));
    assert_int_equal(r.payload_len, MSS);
    assert_true(th_now(&x->h) - t0 <= pto + MS);
    assert_int_equal(f->ext->sb.rack.probes, 1);
    assert_int_equal(th_ctr(&x->h)->timeouts, 0);
    /* its ACK (with a SACK of the probed segment), one RTT later, starts
     * recovery of the rest: RACK sees segment 8 was sent long before the
     * delivered probe, and it is resent without waiting for the RTO */
    th_advance(&x->h, 40 * MS);
    ack.sack_count = 1;
    ack.sack[0].left = sg(x, 9);
    ack.sack[0].right = sg(x, 10);
    th_inject(&x->h, &ack);
    int saw8 = 0;
    while (th_pop(&x->h, &r))
        if (r.seq == sg(x, 8) && r.payload_len)
            saw8 = 1;
    assert_true(saw8);
    assert_int_equal(th_ctr(&x->h)->timeouts, 0);
}

/* RFC 8985 7.4: the probe of test_tlp_fires_on_lost_tail resent the last
 * segment (TLP.is_retrans). Its episode ends at the first ACK that shows
 * what happened: beyond TLP.end_seq with no D-SACK, the probe repaired a
 * loss and cwnd comes down once (ssthresh set, no recovery); with a
 * D-SACK of the probe the original had arrived and nothing changes. An ACK
 * of exactly TLP.end_seq tells neither. dsack: the peer reports the probe
 * as a duplicate. */
static void tlp_episode_run(fx *x, int dsack)
{
    static uint8_t big[10 * MSS];
    oasis_tcp_hdr ack;
    oasis_flow *f = lost_tail(x, big, &ack);
    th_advance(&x->h, 2 * f->ext->rtt.srtt_ns + MS);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, sg(x, 9)); /* the last segment again */
    assert_int_equal(f->ext->sb.rack.tlp_episode, OASIS_TLP_RETRANS);
    assert_int_equal(f->ext->sb.rack.tlp_end, sg(x, 10));
    uint32_t ssthresh0 = f->ext->cc.ssthresh;
    /* everything acknowledged: no sign either way yet */
    th_advance(&x->h, 40 * MS);
    ack.ack = sg(x, 10);
    th_inject(&x->h, &ack);
    assert_int_equal(f->ext->sb.rack.tlp_episode, OASIS_TLP_RETRANS);
    if (dsack) { /* the probe came as a duplicate: D-SACK of it */
        ack.sack_count = 1;
        ack.sack[0].left = sg(x, 9);
        ack.sack[0].right = sg(x, 10);
        th_inject(&x->h, &ack);
        ack.sack_count = 0;
        assert_null(f->ext); /* the episode over, nothing holds the flow busy */
    }
    uint32_t cwnd = f->ext ? f->ext->cc.cwnd : f->idle_cwnd;
    th_clear(&x->h);
    /* new data, and its ACK beyond TLP.end_seq */
    assert_int_equal(oasis_tcp_write(f, big, MSS, NULL, NULL), 0);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, sg(x, 10));
    th_advance(&x->h, 40 * MS);
    ack.ack = sg(x, 11);
    th_inject(&x->h, &ack);
    /* the episode over, the flow is idle: its extension went, cwnd and
     * ssthresh kept in the flow */
    assert_null(f->ext);
    if (dsack) {
        assert_int_equal(f->idle_ssthresh, ssthresh0);
        assert_true(f->idle_cwnd >= cwnd);
    } else { /* one reduction: cwnd halved and ssthresh set from it */
        assert_true(f->idle_ssthresh < ssthresh0);
        assert_true(f->idle_cwnd <= cwnd / 2 + MSS);
    }
    assert_int_equal(th_ctr(&x->h)->timeouts, 0);
    assert_int_equal(th_ctr(&x->h)->fast_retrans, 0);
}

static void test_tlp_repair_reduces_cwnd(void **state) { tlp_episode_run(*state, 0); }
static void test_tlp_dsack_keeps_cwnd(void **state) { tlp_episode_run(*state, 1); }

/* No SACK: no probe, the RTO does the work as before. */
static void test_no_tlp_without_sack(void **state)
{
    fx *x = *state;
    estab(x, 0);
    oasis_flow *f = x->a.flow;
    static uint8_t big[4 * MSS];
    assert_int_equal(oasis_tcp_write(f, big, sizeof big, NULL, NULL), 0);
    th_clear(&x->h);
    th_advance(&x->h, 150 * MS);
    oasis_tcp_hdr r;
    assert_false(th_pop(&x->h, &r));
    assert_int_equal(f->ext->sb.rack.probes, 0);
}

/* ---- time-based loss marking (RFC 8985 6.2) --------------------------------- */

/* RFC 8985 6.3 RACK_mark_losses_on_RTO on hand-built records: the one at
 * snd_una is lost whatever its age; the others not SACKed only once
 * RACK.rtt + reo_wnd passed since they went; records that leave a gap,
 * or do not reach the end, or are wider than the MSS, tell nothing. */
static void test_mark_on_rto_pure(void **state)
{
    (void)state;
    oasis_rack_seg segs[5] = {
        {.xmit_ns = 990, .seq = 0, .end = 10},   /* the head, sent recently */
        {.xmit_ns = 100, .seq = 10, .end = 20},  /* old */
        {.xmit_ns = 100, .seq = 20, .end = 30, .flags = OASIS_RACK_SACKED},
        {.xmit_ns = 940, .seq = 30, .end = 40},  /* 60 ago: rtt 50 + reo 20 not yet */
        {.xmit_ns = 930, .seq = 40, .end = 50},  /* 70 ago: just lost */
    };
    oasis_rack r;
    memset(&r, 0, sizeof r);
    r.segs = segs;
    r.cap = 8; /* (a power of two, at least n) */
    r.n = 5;
    r.rtt_ns = 50;
    assert_int_equal(oasis_rack_mark_on_rto(&r, 0, 50, 10, 1000, 20), 1);
    assert_true(segs[0].flags & OASIS_RACK_LOST);
    assert_true(segs[1].flags & OASIS_RACK_LOST);
    assert_false(segs[2].flags & OASIS_RACK_LOST);
    assert_false(segs[3].flags & OASIS_RACK_LOST);
    assert_true(segs[4].flags & OASIS_RACK_LOST);
    uint32_t seq, len;
    /* what RTO recovery resends: 0-10 then 10-20 in one segment of 20 */
    assert_true(oasis_rack_lost_seg(&r, 0, 20, 1, &seq, &len));
    assert_int_equal(seq, 0);
    assert_int_equal(len, 20);
    assert_int_equal(oasis_rack_lost_bytes(&r, 0, 50, 1, NULL), 30);
    /* snd_una inside the head record counts as the head */
    oasis_rack_on_rto(&r);
    assert_int_equal(oasis_rack_mark_on_rto(&r, 5, 50, 10, 1000, 20), 1);
    assert_true(segs[0].flags & OASIS_RACK_LOST);
    /* records short of the end, with a gap, or wider than the MSS */
    oasis_rack_on_rto(&r);
    assert_int_equal(oasis_rack_mark_on_rto(&r, 0, 60, 10, 1000, 20), 0);
    assert_int_equal(oasis_rack_mark_on_rto(&r, 0, 50, 9, 1000, 20), 0);
    segs[3].seq = 31;
    assert_int_equal(oasis_rack_mark_on_rto(&r, 0, 50, 10, 1000, 20), 0);
    for (int i = 0; i < 5; i++)
        assert_false(segs[i].flags & OASIS_RACK_LOST);
}

static void test_detect_pure(void **state)
{
    (void)state;
    oasis_rack_seg segs[4] = {
        {.xmit_ns = 100, .seq = 0, .end = 10},
        {.xmit_ns = 100, .seq = 10, .end = 20, .flags = OASIS_RACK_SACKED},
        {.xmit_ns = 300, .seq = 20, .end = 30, .flags = OASIS_RACK_RETRANS},
        {.xmit_ns = 110, .seq = 30, .end = 40},
    };
    oasis_rack r;
    memset(&r, 0, sizeof r);
    r.segs = segs;
    r.cap = 4;
    r.n = 4;
    uint64_t wait;
    assert_int_equal(oasis_rack_detect(&r, 1000, 0, &wait), 0); /* nothing delivered yet */
    /* the record 10..20 was delivered with an RTT of 50 */
    r.have_xmit = 1;
    r.xmit_ns = 100;
    r.end_seq = 20;
    r.rtt_ns = 50;
    /* at 160 with reo_wnd 20: 0..10 (sent at 100, before the delivered
     * one) has 10 to go; the rest was sent after it */
    assert_int_equal(oasis_rack_detect(&r, 160, 20, &wait), 0);
    assert_int_equal(wait, 10);
    assert_int_equal(oasis_rack_detect(&r, 170, 20, &wait), 1);
    assert_int_equal(wait, 0);
    assert_true(segs[0].flags & OASIS_RACK_LOST);
    assert_true(r.lost_valid);
    assert_int_equal(r.lost_below, 10);
    assert_false(segs[2].flags & OASIS_RACK_LOST);
    assert_false(segs[3].flags & OASIS_RACK_LOST);
    /* the scoreboard sees it: below lost_below is lost, above is not */
    oasis_sack_sb sb;
    memset(&sb, 0, sizeof sb);
    sb.rack = r;
    assert_true(oasis_sb_is_lost(&sb, 0, MSS));
    assert_false(oasis_sb_is_lost(&sb, 10, MSS));
    /* a later delivery (the retransmission at 300): 30..40, sent at 110, goes too */
    r.xmit_ns = 300;
    r.end_seq = 30;
    assert_int_equal(oasis_rack_detect(&r, 400, 20, &wait), 1);
    assert_int_equal(r.lost_below, 40);
    r.segs = NULL;
}

/* Ten segments out at t0; 40 ms later the peer SACKs segment 1 only: a
 * single duplicate ACK. */
static uint64_t one_sack(fx *x)
{
    static uint8_t big[10 * MSS];
    assert_int_equal(oasis_tcp_write(x->a.flow, big, sizeof big, NULL, NULL), 0);
    uint64_t t0 = th_now(&x->h);
    th_clear(&x->h);
    th_advance(&x->h, 40 * MS);
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, x->pnxt, sg(x, 0));
    ack.sack_count = 1;
    ack.sack[0].left = sg(x, 1);
    ack.sack[0].right = sg(x, 2);
    th_inject(&x->h, &ack);
    return t0;
}

/* Segment 0 is only late: its ACK comes within RACK.rtt + reo_wnd. Nothing
 * is resent. */
static void test_rack_reordering_not_resent(void **state)
{
    fx *x = *state;
    estab(x, 1);
    oasis_flow *f = x->a.flow;
    one_sack(x);
    assert_non_null(f->ext->sb.rack.segs);
    assert_true(f->ext->tm.reorder != OASIS_TCP_NEVER);
    th_advance(&x->h, 5 * MS);
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, x->pnxt, sg(x, 2));
    th_inject(&x->h, &ack);
    th_advance(&x->h, 30 * MS);
    oasis_tcp_hdr r;
    while (th_pop(&x->h, &r))
        assert_false(r.payload_len && oasis_seq_lt(r.seq, sg(x, 2)));
    assert_int_equal(f->ext->sb.rack.marked, 0);
    assert_int_equal(th_ctr(&x->h)->fast_retrans, 0);
    assert_false(oasis_recovery_fast(f));
    /* all acked: the records go (with the whole extension: the flow is idle) */
    ack.ack = sg(x, 10);
    th_inject(&x->h, &ack);
    assert_null(f->ext);
}

/* Segment 0 is lost and only one SACK comes after it (RFC 6675 would wait
 * for three): the reorder timer fires at t0 + RACK.rtt + reo_wnd (40 ms +
 * min_rtt/4 = 10 ms), marks it lost and recovery resends it. */
static void test_rack_marks_loss_on_timer(void **state)
{
    fx *x = *state;
    estab(x, 1);
    oasis_flow *f = x->a.flow;
    uint64_t t0 = one_sack(x);
    oasis_tcp_hdr r;
    assert_false(th_pop(&x->h, &r));
    assert_int_equal(f->ext->sb.rack.rtt_ns, 40 * MS);
    assert_int_equal(oasis_rack_reo_wnd(&f->ext->sb.rack, f->ext->rtt.srtt_ns), 10 * MS);
    assert_int_equal(f->ext->tm.reorder, t0 + 50 * MS);
    th_run_until(&x->h, t0 + 50 * MS - 1);
    assert_false(th_pop(&x->h, &r));
    assert_int_equal(f->ext->sb.rack.marked, 0);
    th_run_until(&x->h, t0 + 50 * MS);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, sg(x, 0));
    assert_int_equal(r.payload_len, MSS);
    assert_int_equal(f->ext->sb.rack.marked, 1);
    assert_int_equal(th_ctr(&x->h)->fast_retrans, 1);
    assert_int_equal(th_ctr(&x->h)->timeouts, 0);
    assert_true(oasis_recovery_fast(f));
    /* segment 1 was SACKed, 2.. were sent after it: none is lost */
    while (th_pop(&x->h, &r))
        assert_false(r.payload_len && oasis_seq_lt(r.seq, sg(x, 10)));
}

/* The ACK itself decides when what it SACKs was sent long enough after
 * the hole: segments 0..4 go at t0, 5..9 at t0 + 20 ms; 60 ms after t0
 * the peer SACKs segment 5 alone (RACK.rtt 40 ms). 0..4 were sent before
 * it and 60 > 40 + 10 ms ago: all five are lost at once, no timer. */
static void test_rack_marks_loss_on_ack(void **state)
{
    fx *x = *state;
    estab(x, 1);
    oasis_flow *f = x->a.flow;
    static uint8_t half[5 * MSS];
    assert_int_equal(oasis_tcp_write(f, half, sizeof half, NULL, NULL), 0);
    th_advance(&x->h, 20 * MS);
    assert_int_equal(oasis_tcp_write(f, half, sizeof half, NULL, NULL), 0);
    th_clear(&x->h);
    assert_int_equal(f->snd_max, sg(x, 10));
    th_advance(&x->h, 40 * MS);
    oasis_tcp_hdr r;
    assert_false(th_pop(&x->h, &r));
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, x->pnxt, sg(x, 0));
    ack.sack_count = 1;
    ack.sack[0].left = sg(x, 5);
    ack.sack[0].right = sg(x, 6);
    th_inject(&x->h, &ack);
    assert_int_equal(f->ext->sb.rack.marked, 5);
    assert_true(oasis_recovery_fast(f));
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, sg(x, 0));
    /* 6..9 were sent with 5: not lost, and no timer waits for them */
    assert_false(oasis_sb_is_lost(&f->ext->sb, sg(x, 6), MSS));
    assert_true(f->ext->tm.reorder == OASIS_TCP_NEVER);
    assert_int_equal(th_ctr(&x->h)->timeouts, 0);
}

/* The peer's ACK of una with SACK blocks [l0, r0) and, if r1, [l1, r1). */
static void sack2(fx *x, uint32_t una, uint32_t l0, uint32_t r0, uint32_t l1, uint32_t r1)
{
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, x->pnxt, una);
    ack.sack_count = r1 ? 2 : 1;
    ack.sack[0].left = l0;
    ack.sack[0].right = r0;
    ack.sack[1].left = l1;
    ack.sack[1].right = r1;
    th_inject(&x->h, &ack);
}

static void expect_seg(fx *x, uint32_t seq, uint32_t len)
{
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, seq);
    assert_int_equal(r.payload_len, len);
}

/* Four 100-byte writes go as four segments (no delay), then full ones;
 * the small four are lost, and three SACKs start recovery: the fast
 * retransmit resends the 400 bytes in one segment (t1). It is lost too:
 * once data sent after it (11400, at t1 + 5 ms) is SACKed an RTT later,
 * RACK judges it lost (RFC 8985 2.2) and it goes again at once, still
 * one 400-byte segment; not four, one per record the first sends made
 * (the simulator's small-write flows resent thousands of 1-byte
 * segments into a full queue that way). */
static void test_lost_rtx_goes_whole(void **state)
{
    fx *x = *state;
    estab(x, 1);
    oasis_flow *f = x->a.flow;
    assert_int_equal(oasis_tcp_set_nodelay(f, 1), 0);
    static uint8_t small[100], big[20 * MSS];
    uint32_t base = x->iss + 1;
    for (int i = 0; i < 4; i++)
        assert_int_equal(oasis_tcp_write(f, small, sizeof small, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_write(f, big, sizeof big, NULL, NULL), 0);
    for (uint32_t i = 0; i < 4; i++)
        expect_seg(x, base + 100 * i, 100);
    th_clear(&x->h); /* 400..9400: IW10 */
    th_advance(&x->h, 40 * MS);
    for (uint32_t k = 1; k <= 3; k++)
        sack2(x, base, base + 400, base + 400 + k * MSS, 0, 0);
    assert_true(oasis_recovery_fast(f));
    expect_seg(x, base + 9400, MSS); /* limited transmit, twice */
    expect_seg(x, base + 10400, MSS);
    expect_seg(x, base, 400); /* the fast retransmit */
    th_advance(&x->h, 5 * MS);
    sack2(x, base, base + 400, base + 6400, 0, 0);
    expect_seg(x, base + 11400, MSS);
    th_advance(&x->h, 40 * MS);
    sack2(x, base, base + 11400, base + 12400, base + 400, base + 6400);
    expect_seg(x, base, 400); /* the lost retransmission, whole */
    expect_seg(x, base + 6400, MSS); /* then rule 1: sent before 11400 */
    assert_int_equal(th_ctr(&x->h)->timeouts, 0);
}

/* A retransmission and the new data PRR lets out right after it leave in
 * one output call, at one clock reading (the TAP path reads the clock
 * once per pass). Ten segments at t0; 40 ms later one ACK SACKs 1..6:
 * recovery, and PRR's budget takes the fast retransmit of 0 first, then
 * new data (10 and on), all at t1. The retransmission is lost: 40 ms
 * later the peer SACKs the new data. What was sent after the
 * retransmission arrived, so RACK judges it lost (RFC 8985 2.2, 6.2: the
 * ACK clock new data keeps in recovery, RFC 9937) and it goes again at
 * once. Sent at the same time, it was still sent first: ordered by
 * sequence (RFC 8985's tie rule) or by strictly later times only, it
 * waited for the RTO. */
static void test_lost_rtx_seen_by_data_sent_with_it(void **state)
{
    fx *x = *state;
    estab(x, 1);
    oasis_flow *f = x->a.flow;
    static uint8_t big[20 * MSS];
    assert_int_equal(oasis_tcp_write(f, big, sizeof big, NULL, NULL), 0);
    th_clear(&x->h); /* 0..9: IW10 */
    th_advance(&x->h, 40 * MS);
    sack2(x, sg(x, 0), sg(x, 1), sg(x, 7), 0, 0);
    assert_true(oasis_recovery_fast(f));
    expect_seg(x, sg(x, 0), MSS); /* the fast retransmit, first */
    uint32_t next = sg(x, 10);
    oasis_tcp_hdr r;
    while (th_pop(&x->h, &r)) { /* then new data only, at the same time */
        assert_int_equal(r.seq, next);
        next += r.payload_len;
    }
    assert_true(oasis_seq_gt(next, sg(x, 10)));
    assert_int_equal(f->ext->sb.rack.marked_rtx, 0);
    th_advance(&x->h, 40 * MS);
    sack2(x, sg(x, 0), sg(x, 10), next, sg(x, 1), sg(x, 7));
    assert_int_equal(f->ext->sb.rack.marked_rtx, 1);
    expect_seg(x, sg(x, 0), MSS); /* the lost retransmission, again */
    assert_int_equal(th_ctr(&x->h)->timeouts, 0);
}

/* SACK recovery whose last ACK is lost: ten segments at t0, segment 0
 * lost; the peer SACKs 1..4 and holds back its SACKs of the rest (Linux
 * compresses them), recovery resends 0 within PRR's budget, and the peer's
 * one cumulative ACK for everything is lost. No ACK is due any more:
 * without a probe the flow waits for the RTO. A probe goes out a PTO
 * after the last send or ACK (RFC 8985 7.2's figure, 7.3's choice: new
 * data), long before the RTO, and its ACK ends the recovery. */
static void test_tlp_in_sack_recovery(void **state)
{
    fx *x = *state;
    estab(x, 1);
    oasis_flow *f = x->a.flow;
    static uint8_t big[20 * MSS];
    assert_int_equal(oasis_tcp_write(f, big, sizeof big, NULL, NULL), 0);
    th_clear(&x->h); /* 0..9: IW10 */
    th_advance(&x->h, 40 * MS);
    sack2(x, sg(x, 0), sg(x, 1), sg(x, 5), 0, 0);
    assert_true(oasis_recovery_fast(f));
    expect_seg(x, sg(x, 0), MSS); /* the fast retransmit */
    oasis_tcp_hdr r;
    uint32_t high = f->snd_max;
    th_clear(&x->h); /* (and what PRR let out with it) */
    /* the cumulative ACK of all of it is lost: silence */
    uint64_t t0 = th_now(&x->h), rto = oasis_rtt_rto(&f->ext->rtt);
    int sent = 0;
    while (!sent && th_now(&x->h) - t0 < rto) {
        th_advance(&x->h, MS);
        sent = th_pop(&x->h, &r);
    }
    assert_true(sent);
    assert_int_equal(th_ctr(&x->h)->timeouts, 0);
    assert_int_equal(f->ext->sb.rack.probes, 1);
    assert_int_equal(r.seq, high); /* new data */
    assert_int_equal(r.payload_len, MSS);
    th_advance(&x->h, 40 * MS);
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, x->pnxt, f->snd_max);
    th_inject(&x->h, &ack);
    assert_false(oasis_recovery_fast(f));
    assert_int_equal(th_ctr(&x->h)->timeouts, 0);
}

/* The ACK that ends a SACK recovery shows new data sent during it lost:
 * ten segments at t0, segment 0 lost; an ACK SACKs 1..8: recovery
 * (RecoveryPoint 10), the fast retransmit, then PRR's new data 10 and 11.
 * 10 is lost; 40 ms later the peer acknowledges everything below 10 (the
 * retransmission arrived) and SACKs 11: snd.una passes RecoveryPoint,
 * and RACK judges 10, sent before 11, lost. A new loss in data sent after
 * RecoveryPoint: a new recovery starts on this very ACK and 10 goes
 * again; no later ACK was coming to start it, the RTO would have. */
static void test_new_loss_on_ack_ending_recovery(void **state)
{
    fx *x = *state;
    estab(x, 1);
    oasis_flow *f = x->a.flow;
    static uint8_t big[20 * MSS];
    assert_int_equal(oasis_tcp_write(f, big, sizeof big, NULL, NULL), 0);
    th_clear(&x->h); /* 0..9: IW10 */
    th_advance(&x->h, 40 * MS);
    sack2(x, sg(x, 0), sg(x, 1), sg(x, 9), 0, 0);
    assert_true(oasis_recovery_fast(f));
    assert_int_equal(f->ext->rec.recover, sg(x, 10));
    expect_seg(x, sg(x, 0), MSS);
    expect_seg(x, sg(x, 10), MSS);
    expect_seg(x, sg(x, 11), MSS);
    th_clear(&x->h);
    th_advance(&x->h, 40 * MS);
    sack2(x, sg(x, 10), sg(x, 11), sg(x, 12), 0, 0);
    assert_true(oasis_recovery_fast(f)); /* a new one */
    assert_int_equal(f->ext->rec.recover, f->snd_max);
    expect_seg(x, sg(x, 10), MSS);
    assert_int_equal(th_ctr(&x->h)->timeouts, 0);
}

/* The late original's ACK does not date the retransmission (RFC 8985 6.2
 * step 2). Ten segments at t0 with timestamps; 40 ms later the peer SACKs
 * 1..3: segment 0 is lost, resent at t1. 50 ms after that (longer than
 * min_RTT) an ACK of 0..3 comes, but its timestamp echo is the original's
 * (t0): the original arrived late, the ACK says nothing of the
 * retransmission. Taken as the retransmission's, RACK.xmit_ts would be t1
 * and RACK.rtt 50 ms: 4..9, sent at t0 and merely not yet acknowledged,
 * would all be judged lost and resent. */
static void test_rack_ignores_ack_of_the_original(void **state)
{
    fx *x = *state;
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    syn.has_mss = 1;
    syn.mss = MSS + 12; /* segments of MSS bytes with the timestamp option */
    syn.sack_permitted = 1;
    syn.has_ts = 1;
    syn.ts_val = 7;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    th_inject(&x->h, &syn);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_true(r.has_ts);
    x->iss = r.seq;
    x->pnxt = TH_PISN + 1;
    th_advance(&x->h, 40 * MS);
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, x->pnxt, x->iss + 1);
    ack.has_ts = 1;
    ack.ts_val = 8;
    ack.ts_ecr = r.ts_val;
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    oasis_flow *f = x->a.flow;
    assert_non_null(f);
    static uint8_t big[10 * MSS];
    assert_int_equal(oasis_tcp_write(f, big, sizeof big, NULL, NULL), 0);
    assert_true(th_pop(&x->h, &r));
    uint32_t ts0 = r.ts_val; /* the originals' TSval */
    th_clear(&x->h);
    th_advance(&x->h, 40 * MS);
    ack.ack = sg(x, 0);
    ack.ts_ecr = ts0;
    ack.sack_count = 1;
    ack.sack[0].left = sg(x, 1);
    ack.sack[0].right = sg(x, 4);
    th_inject(&x->h, &ack);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, sg(x, 0));
    assert_false(th_pop(&x->h, &r));
    assert_int_equal(f->ext->sb.rack.marked, 1);
    th_advance(&x->h, 50 * MS);
    ack.ack = sg(x, 4);
    ack.sack_count = 0;
    th_inject(&x->h, &ack);
    assert_int_equal(f->ext->sb.rack.marked, 1); /* 4..9 are not lost */
    while (th_pop(&x->h, &r)) /* (only RFC 6675's rescue: segment 9) */
        assert_false(r.payload_len && oasis_seq_lt(r.seq, sg(x, 9)));
}

/* Without SACK no records are kept. */
static void test_rack_no_records_without_sack(void **state)
{
    fx *x = *state;
    estab(x, 0);
    static uint8_t big[4 * MSS];
    assert_int_equal(oasis_tcp_write(x->a.flow, big, sizeof big, NULL, NULL), 0);
    assert_null(x->a.flow->ext->sb.rack.segs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reo_wnd_quarter_min_rtt),
        cmocka_unit_test(test_reo_wnd_grows_with_dsack),
        cmocka_unit_test(test_pto_figure),
        cmocka_unit_test_setup_teardown(test_tlp_fires_on_lost_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_tlp_without_sack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlp_repair_reduces_cwnd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlp_dsack_keeps_cwnd, setup, teardown),
        cmocka_unit_test(test_detect_pure),
        cmocka_unit_test(test_mark_on_rto_pure),
        cmocka_unit_test_setup_teardown(test_rack_reordering_not_resent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rack_marks_loss_on_timer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rack_marks_loss_on_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rack_no_records_without_sack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_rtx_goes_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_rtx_seen_by_data_sent_with_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlp_in_sack_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_loss_on_ack_ending_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rack_ignores_ack_of_the_original, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
