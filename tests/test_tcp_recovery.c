/* Loss recovery (tcp_recovery.c), one test per rule that used to be
 * broken (issue 11): limited transmit (RFC 3042), the rescue
 * retransmission and RACK losses above the highest SACK block (RFC 6675
 * NextSeg rule 4, RFC 8985), HighRxt after a clipped retransmission, PRR's
 * DeliveredData (RFC 9937), cwnd after SACK recovery, the tail loss probe
 * with our FIN, RACK's record ring when full, and RACK's zero reordering
 * window (RFC 8985 6.2 step 4). Segments are 1000 bytes (MSS 1000, no
 * timestamps) unless said; sg(i) is the first byte of our segment i. */
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
#define MSS 1000u
#define MS OASIS_NS_PER_MS

typedef struct fx {
    tcp_harness h;
    th_app a;
    uint32_t iss, pnxt, mss;
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

/* Passive open with the given MSS, SACK or not, a window scale of 2 from
 * the peer, and an RTT sample of 40 ms from the handshake. */
static void estab_mss(fx *x, int sack, uint16_t mss)
{
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, OASIS_TCP_SYN, TH_PISN, 0);
    syn.has_mss = 1;
    syn.mss = mss;
    syn.sack_permitted = (uint8_t)sack;
    syn.has_wscale = 1;
    syn.wscale = 2;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    th_inject(&x->h, &syn);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    x->iss = r.seq;
    x->pnxt = TH_PISN + 1;
    x->mss = mss;
    th_advance(&x->h, 40 * MS);
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, x->pnxt, x->iss + 1);
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    assert_non_null(x->a.flow);
    assert_int_equal(oasis_tcp_eff_mss(x->a.flow), mss);
}

static void estab(fx *x, int sack) { estab_mss(x, sack, MSS); }

static uint32_t sg(const fx *x, uint32_t i) { return x->iss + 1 + i * x->mss; }

/* Writes n segments' worth (IW10 sends the first ten) and drops the
 * captured segments. */
static void send_segs(fx *x, uint32_t n)
{
    static uint8_t big[2048 * MSS];
    assert_true(n * x->mss <= sizeof big);
    assert_int_equal(oasis_tcp_write(x->a.flow, big, n * x->mss, NULL, NULL), 0);
    th_clear(&x->h);
}

/* An ACK from the peer: cumulative point ack, SACK blocks [l, r) given as
 * segment numbers (pairs), window 65535 << 2. */
static void ack_sack(fx *x, uint32_t ack, int nb, const uint32_t *lr)
{
    oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, A, x->pnxt, ack);
    s.sack_count = (uint8_t)nb;
    for (int k = 0; k < nb; k++) {
        s.sack[k].left = sg(x, lr[2 * k]);
        s.sack[k].right = sg(x, lr[2 * k + 1]);
    }
    th_inject(&x->h, &s);
}

static void ack_sack1(fx *x, uint32_t ack, uint32_t l, uint32_t r)
{
    uint32_t lr[2] = {l, r};
    ack_sack(x, ack, 1, lr);
}

/* Pops everything sent; returns how many segments, *first the first. */
static int drain(fx *x, oasis_tcp_hdr *first)
{
    oasis_tcp_hdr r;
    int n = 0;
    while (th_pop(&x->h, &r)) {
        if (n == 0 && first)
            *first = r;
        n++;
    }
    return n;
}

/* ---- item 17: limited transmit (RFC 3042, RFC 5681 3.2 step 1) -------------- */

/* No SACK: 20 segments written, ten out, segment 0 lost. The first and
 * second duplicate ACKs each send one new segment; the third starts fast
 * retransmit with ssthresh from the ten that were in flight before
 * (limited-transmit data is left out, RFC 5681 3.2 step 2). */
static void test_limited_transmit(void **state)
{
    fx *x = *state;
    estab(x, 0);
    oasis_flow *f = x->a.flow;
    send_segs(x, 20);
    uint32_t cwnd = f->ext->cc.cwnd;
    oasis_tcp_hdr r;
    ack_sack(x, sg(x, 0), 0, NULL);
    assert_int_equal(drain(x, &r), 1);
    assert_int_equal(r.seq, sg(x, 10));
    assert_int_equal(r.payload_len, MSS);
    assert_int_equal(f->ext->cc.cwnd, cwnd); /* RFC 3042: cwnd unchanged */
    ack_sack(x, sg(x, 0), 0, NULL);
    assert_int_equal(drain(x, &r), 1);
    assert_int_equal(r.seq, sg(x, 11));
    assert_int_equal(f->ext->cc.cwnd, cwnd);
    ack_sack(x, sg(x, 0), 0, NULL);
    assert_true(drain(x, &r) >= 1);
    assert_int_equal(r.seq, sg(x, 0)); /* fast retransmit */
    assert_int_equal(f->ext->cc.ssthresh, 5 * MSS);
    assert_int_equal(f->ext->rec.state, OASIS_REC_NEWRENO);
}

/* With SACK a duplicate ACK grants a segment only when it brings new SACK
 * information (RFC 5681 3.2 step 1). */
static void test_limited_transmit_sack_needs_news(void **state)
{
    fx *x = *state;
    estab(x, 1);
    send_segs(x, 20);
    oasis_tcp_hdr r;
    ack_sack1(x, sg(x, 0), 1, 2);
    assert_int_equal(drain(x, &r), 1);
    assert_int_equal(r.seq, sg(x, 10));
    ack_sack1(x, sg(x, 0), 1, 2); /* same block again: nothing new */
    assert_int_equal(drain(x, NULL), 0);
    assert_int_equal(x->a.flow->ext->rec.dupacks, 1); /* RFC 6675 2: not a dupack */
    ack_sack1(x, sg(x, 0), 1, 3);
    assert_int_equal(drain(x, &r), 1);
    assert_int_equal(r.seq, sg(x, 11));
}

/* ---- item 41: cwnd = ssthresh after RFC 6675 recovery ------------------------ */

/* Exactly ten segments, segment 0 lost; the application has nothing more
 * to send. When the retransmission is acknowledged the flight is 0; cwnd
 * must be ssthresh (RFC 6675 4.2 / RFC 9937), not 2 segments (RFC 6582's
 * option for NewReno), so the next write does not restart from 2. */
static void test_cwnd_is_ssthresh_after_sack_recovery(void **state)
{
    fx *x = *state;
    estab(x, 1);
    oasis_flow *f = x->a.flow;
    assert_int_equal(oasis_tcp_ext_get(f), 0); /* pinned: the test reads its internals */
    send_segs(x, 10);
    for (uint32_t k = 2; k <= 4; k++)
        ack_sack1(x, sg(x, 0), 1, k);
    oasis_tcp_hdr r;
    assert_true(drain(x, &r) >= 1);
    assert_int_equal(r.seq, sg(x, 0));
    assert_int_equal(f->ext->rec.state, OASIS_REC_SACK);
    assert_int_equal(f->ext->cc.ssthresh, 5 * MSS);
    ack_sack(x, sg(x, 10), 0, NULL);
    assert_int_equal(f->ext->rec.state, OASIS_REC_OPEN);
    assert_int_equal(f->ext->cc.cwnd, 5 * MSS);
    /* five segments go at once on the next write */
    send_segs(x, 0);
    static uint8_t more[8 * MSS];
    assert_int_equal(oasis_tcp_write(f, more, sizeof more, NULL, NULL), 0);
    assert_int_equal(drain(x, NULL), 5);
}

/* ---- item 39: PRR's DeliveredData ------------------------------------------ */

/* Segment 0 lost of 30 written: ACKs 1-2 send limited transmit, ACK 3
 * enters recovery (ssthresh 5 MSS, prr_delivered 1 MSS; RecoverFS 10 MSS:
 * 12 in flight less the 2 SACKed before ACK 3, RFC 9937 6) and resends
 * segment 0. Its ACK moves snd.una over segments 1-3, which were SACKed
 * already: DeliveredData = 4 MSS - 3 MSS = 1 MSS (RFC 9937 6),
 * prr_delivered 2 MSS, sndcnt = ceil(2000 * 5 / 10) - 1000 = 0: nothing
 * goes. Counting the SACKed bytes twice (5 MSS) allowed a segment. */
static void test_prr_delivered_data_counts_sacked_once(void **state)
{
    fx *x = *state;
    estab(x, 1);
    oasis_flow *f = x->a.flow;
    send_segs(x, 30);
    for (uint32_t k = 2; k <= 4; k++)
        ack_sack1(x, sg(x, 0), 1, k);
    assert_int_equal(f->ext->rec.state, OASIS_REC_SACK);
    assert_int_equal(f->ext->rec.prr_delivered, MSS);
    assert_int_equal(f->ext->rec.recover_fs, 10 * MSS);
    th_clear(&x->h);
    ack_sack(x, sg(x, 4), 0, NULL); /* partial ACK over SACKed 1..3 */
    assert_int_equal(f->ext->rec.state, OASIS_REC_SACK);
    assert_int_equal(f->ext->rec.prr_delivered, 2 * MSS);
    assert_int_equal(drain(x, NULL), 0);
    /* PRR's budget is the recovery module's; cwnd stays what the
     * congestion controller set (ssthresh, RFC 6675 4.2) */
    assert_int_equal(f->ext->cc.cwnd, 5 * MSS);
}

/* ---- item 15: HighRxt after a clipped retransmission ------------------------ */

/* The peer has sent us out-of-order data, so our segments carry a SACK
 * block (12 bytes of options) and a full retransmission of 1000 bytes is
 * clipped to 988. HighRxt must end at 988: the 12 bytes left of the lost
 * segment go next, not only at the RTO. */
static void test_high_rxt_counts_what_was_sent(void **state)
{
    fx *x = *state;
    estab(x, 1);
    oasis_flow *f = x->a.flow;
    send_segs(x, 10);
    oasis_tcp_hdr d = th_seg(TH_PPORT, PORT, A, x->pnxt + 100, sg(x, 0));
    d.payload = (const uint8_t *)"abcd";
    d.payload_len = 4;
    th_inject(&x->h, &d); /* a hole in what we receive: we SACK from now on */
    th_clear(&x->h);
    for (uint32_t k = 2; k <= 4; k++)
        ack_sack1(x, sg(x, 0), 1, k);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, sg(x, 0));
    assert_int_equal(r.sack_count, 1);
    assert_int_equal(r.payload_len, 988);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, sg(x, 0) + 988);
    assert_int_equal(r.payload_len, 12);
    assert_int_equal(f->ext->rec.high_rxt, sg(x, 1));
}

/* ---- item 14: losses above the highest SACK block --------------------------- */

/* The case: segments 1..10 (here 0..9), 3 and 10 (here 2 and 9)
 * lost, nothing more to send. Segment 2 is resent on the third SACK; no
 * SACK will ever come from above segment 9, so RFC 6675's rescue
 * retransmission (NextSeg rule 4) resends it, long before the RTO. Step
 * 4.3 sets RescueRxt to the end of that first retransmission, so the
 * rescue waits for the ACK that covers it (HighACK > RescueRxt): not
 * before, when it would only duplicate what is in flight. */
static void test_rescue_retransmission_of_the_tail(void **state)
{
    fx *x = *state;
    estab(x, 1);
    oasis_flow *f = x->a.flow;
    send_segs(x, 10);
    ack_sack(x, sg(x, 2), 0, NULL); /* 0 and 1 arrived */
    int saw2 = 0, saw9 = 0;
    for (uint32_t k = 4; k <= 9; k++) {
        ack_sack1(x, sg(x, 2), 3, k);
        oasis_tcp_hdr r;
        while (th_pop(&x->h, &r)) {
            if (r.payload_len && r.seq == sg(x, 2))
                saw2 = 1;
            if (r.payload_len && r.seq == sg(x, 9))
                saw9 = 1;
        }
    }
    assert_true(saw2);
    assert_false(saw9); /* RescueRxt is segment 2's end: no rescue yet */
    assert_true(f->ext->rec.rescue_set);
    assert_int_equal(f->ext->rec.rescue_end, sg(x, 3));
    /* segment 2's retransmission arrives: the ACK covers 2..8 */
    ack_sack(x, sg(x, 9), 0, NULL);
    oasis_tcp_hdr r;
    assert_int_equal(drain(x, &r), 1);
    assert_int_equal(r.seq, sg(x, 9)); /* the rescue */
    assert_int_equal(f->ext->rec.rescue_end, f->ext->rec.recover);
    assert_int_equal(f->ext->rec.high_rxt, sg(x, 9)); /* the rescue leaves HighRxt */
    assert_int_equal(th_ctr(&x->h)->timeouts, 0);
}

/* The scoreboard: what RACK marks lost above the highest SACK block is
 * lost (NextSeg rule 1) and out of the pipe. SACKed 3..8 of 0..9, HighRxt
 * past segment 2, RACK: everything below 10 lost. */
static void test_rack_loss_above_highest_sack(void **state)
{
    (void)state;
    oasis_sack_sb sb;
    memset(&sb, 0, sizeof sb);
    oasis_sack_block b = {3 * MSS, 9 * MSS};
    oasis_sb_update(&sb, 0, 10 * MSS, &b, 1);
    uint32_t seq, len;
    assert_false(oasis_sb_next_seg(&sb, 0, 10 * MSS, 3 * MSS, MSS, 1, &seq, &len));
    assert_int_equal(oasis_sb_pipe(&sb, 0, 10 * MSS, 3 * MSS, MSS), 4 * MSS);
    sb.rack.lost_valid = 1;
    sb.rack.lost_below = 10 * MSS;
    assert_true(oasis_sb_next_seg(&sb, 0, 10 * MSS, 3 * MSS, MSS, 0, &seq, &len));
    assert_int_equal(seq, 9 * MSS);
    assert_int_equal(len, MSS);
    assert_int_equal(oasis_sb_pipe(&sb, 0, 10 * MSS, 3 * MSS, MSS), 3 * MSS);
    /* the rescue picks the highest unSACKed segment */
    assert_true(oasis_sb_rescue(&sb, 0, 10 * MSS, MSS, &seq, &len));
    assert_int_equal(seq, 9 * MSS);
    assert_int_equal(len, MSS);
}

/* ---- item 19: the tail loss probe and our FIN --------------------------------- */

static uint64_t pto_of(const oasis_flow *f)
{
    return oasis_tlp_pto(f->ext->rtt.srtt_ns, f->ext->rtt.have_sample, f->snd_max - f->snd_una,
                         oasis_tcp_eff_mss(f), oasis_rtt_rto(&f->ext->rtt));
}

/* Ten segments and the FIN (on segment 9) out; the peer acks 0..7. The
 * probe is segment 9 again WITH the FIN, before any RTO. */
static void test_tlp_probes_with_fin(void **state)
{
    fx *x = *state;
    estab(x, 1);
    oasis_flow *f = x->a.flow;
    send_segs(x, 10);
    assert_int_equal(oasis_tcp_close(f, th_close_cb, &x->a), 0);
    th_clear(&x->h);
    assert_true(f->fin_queued && oasis_seq_gt(f->snd_max, f->ext->fin_seq));
    th_advance(&x->h, 40 * MS);
    ack_sack(x, sg(x, 8), 0, NULL);
    th_clear(&x->h);
    th_advance(&x->h, pto_of(f) + MS);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, sg(x, 9));
    assert_int_equal(r.payload_len, MSS);
    assert_true(r.flags & OASIS_TCP_FIN);
    assert_int_equal(f->ext->sb.rack.probes, 1);
    assert_int_equal(th_ctr(&x->h)->timeouts, 0);
}

/* All data acked, only the FIN outstanding: the probe is the FIN. (With
 * one segment out the PTO includes WCDelAckT and the RTO usually comes
 * first; when the probe is due, this is what it sends.) */
static void test_tlp_probes_lone_fin(void **state)
{
    fx *x = *state;
    estab(x, 1);
    oasis_flow *f = x->a.flow;
    send_segs(x, 5);
    assert_int_equal(oasis_tcp_close(f, th_close_cb, &x->a), 0);
    th_clear(&x->h);
    th_advance(&x->h, 40 * MS);
    ack_sack(x, sg(x, 5), 0, NULL); /* the data, not the FIN */
    th_clear(&x->h);
    assert_int_equal(f->snd_max - f->snd_una, 1);
    assert_true(oasis_tlp_send_probe(f)); /* what the expired PTO sends */
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, sg(x, 5));
    assert_int_equal(r.payload_len, 0);
    assert_true(r.flags & OASIS_TCP_FIN);
    assert_int_equal(f->ext->sb.rack.probes, 1);
}

/* Close asked with data still unsent (cwnd full) and nothing acked: the
 * probe is new data (RFC 8985 7.3), the FIN queued behind it or not. */
static void test_tlp_sends_new_data_with_fin_queued(void **state)
{
    fx *x = *state;
    estab(x, 1);
    oasis_flow *f = x->a.flow;
    send_segs(x, 11);
    assert_int_equal(oasis_tcp_close(f, th_close_cb, &x->a), 0);
    th_clear(&x->h);
    assert_int_equal(f->snd_max, sg(x, 10));
    th_advance(&x->h, pto_of(f) + MS);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, sg(x, 10));
    assert_int_equal(r.payload_len, MSS);
    assert_true(r.flags & OASIS_TCP_FIN); /* the last data: the FIN rides along */
    assert_int_equal(f->ext->sb.rack.probes, 1);
    assert_int_equal(th_ctr(&x->h)->timeouts, 0);
}

/* ---- item 24: RACK when its record ring is full ------------------------------ */

/* OASIS_RACK_SEGS_MAX + 76 segments of 64 bytes in flight, more than the records: the
 * ring stays bounded, RACK stays on, and a lost segment 0 with a SACK of
 * segment 1 is marked lost at RACK.rtt + reo_wnd (40 + 10 ms) and resent,
 * not left to the RTO. */
static void test_rack_survives_full_ring(void **state)
{
    fx *x = *state;
    estab_mss(x, 1, 64);
    oasis_flow *f = x->a.flow;
    assert_int_equal(oasis_tcp_ext_get(f), 0); /* pinned: the test reads its internals */
    f->ext->cc.cwnd = 1u << 20; /* a window that took many round trips to grow */
    f->snd_wnd = f->max_snd_wnd = 1u << 20; /* (the peer's, as it would grow it) */
    assert_int_equal(oasis_tcp_set_bufsizes(f, 1u << 20, f->rcvbuf), 0); /* and a buffer */
    uint64_t t0 = th_now(&x->h);
    send_segs(x, OASIS_RACK_SEGS_MAX + 76);
    assert_int_equal(f->snd_max, sg(x, OASIS_RACK_SEGS_MAX + 76));
    oasis_rack *rk = &f->ext->sb.rack;
    assert_true(rk->cap <= OASIS_RACK_SEGS_MAX);
    assert_true(rk->merged > 0);
    th_advance(&x->h, 40 * MS);
    ack_sack1(x, sg(x, 0), 1, 2);
    th_run_until(&x->h, t0 + 51 * MS);
    assert_true(rk->marked >= 1);
    int saw0 = 0;
    oasis_tcp_hdr r;
    while (th_pop(&x->h, &r))
        if (r.payload_len && r.seq == sg(x, 0))
            saw0 = 1;
    assert_true(saw0);
    assert_int_equal(th_ctr(&x->h)->timeouts, 0);
}

/* ---- item 40: RACK's reordering window is 0 in recovery (6.2 step 4) ---------- */

static void test_reo_wnd_zero_rules(void **state)
{
    (void)state;
    oasis_rack r;
    memset(&r, 0, sizeof r);
    oasis_rack_rtt_sample(&r, 40 * MS);
    assert_int_equal(oasis_rack_reo_wnd_now(&r, 50 * MS, 0), 10 * MS);
    r.segs_sacked = 2;
    assert_int_equal(oasis_rack_reo_wnd_now(&r, 50 * MS, 0), 10 * MS);
    r.segs_sacked = 3; /* DupThresh segments SACKed */
    assert_int_equal(oasis_rack_reo_wnd_now(&r, 50 * MS, 0), 0);
    r.segs_sacked = 0;
    assert_int_equal(oasis_rack_reo_wnd_now(&r, 50 * MS, 1), 0); /* in recovery */
    r.reordering_seen = 1; /* then the window stays */
    assert_int_equal(oasis_rack_reo_wnd_now(&r, 50 * MS, 1), 10 * MS);
    r.segs_sacked = 5;
    assert_int_equal(oasis_rack_reo_wnd_now(&r, 50 * MS, 0), 10 * MS);
}

/* In recovery, segment 6 has only two SACKed segments above it (not lost
 * by DupThresh); RACK with reo_wnd 0 marks it lost on the ACK that SACKs
 * segment 7, without waiting for the reorder timer. */
static void test_rack_zero_window_in_recovery(void **state)
{
    fx *x = *state;
    estab(x, 1);
    oasis_flow *f = x->a.flow;
    send_segs(x, 10);
    th_advance(&x->h, 40 * MS);
    for (uint32_t k = 2; k <= 4; k++)
        ack_sack1(x, sg(x, 0), 1, k);
    assert_int_equal(f->ext->rec.state, OASIS_REC_SACK);
    ack_sack1(x, sg(x, 0), 1, 6);
    uint32_t marked = f->ext->sb.rack.marked;
    th_advance(&x->h, 2 * MS);
    uint32_t lr[4] = {7, 8, 1, 6};
    ack_sack(x, sg(x, 0), 2, lr);
    assert_int_equal(f->ext->sb.rack.marked, marked + 1);
    assert_true(oasis_sb_is_lost(&f->ext->sb, sg(x, 6), MSS));
    assert_false(f->ext->sb.rack.reordering_seen);
}

/* An original delivered below the highest delivered segment is
 * reordering (step 3): the window is no longer zeroed. */
static void test_reordering_seen_keeps_window(void **state)
{
    fx *x = *state;
    estab(x, 1);
    oasis_flow *f = x->a.flow;
    send_segs(x, 10);
    th_advance(&x->h, 40 * MS);
    ack_sack1(x, sg(x, 0), 2, 3);
    assert_false(f->ext->sb.rack.reordering_seen);
    ack_sack1(x, sg(x, 0), 1, 3); /* segment 1 after segment 2 */
    assert_true(f->ext->sb.rack.reordering_seen);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_limited_transmit),
        T(test_limited_transmit_sack_needs_news),
        T(test_cwnd_is_ssthresh_after_sack_recovery),
        T(test_prr_delivered_data_counts_sacked_once),
        T(test_high_rxt_counts_what_was_sent),
        T(test_rescue_retransmission_of_the_tail),
        cmocka_unit_test(test_rack_loss_above_highest_sack),
        T(test_tlp_probes_with_fin),
        T(test_tlp_probes_lone_fin),
        T(test_tlp_sends_new_data_with_fin_queued),
        T(test_rack_survives_full_ring),
        cmocka_unit_test(test_reo_wnd_zero_rules),
        T(test_rack_zero_window_in_recovery),
        T(test_reordering_seen_keeps_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
