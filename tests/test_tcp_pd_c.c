/* Packetdrill scripts ported to the one-stack harness: google/packetdrill
 * gtests/net/tcp, folders cubic/, blocking/ and epoll/. docs/packetdrill.md
 * has the verdict for every script of these folders.
 *
 * Conventions as in test_tcp_pd_a.c: sequence numbers are the scripts'
 * relative ones (1 is the first byte after a side's SYN: pd_os() ours, pd_ps()
 * the peer's); Oasis sends no TSO bursts here, so a script's
 * "> P. 1:10001(10000)" is the run of MSS-sized segments covering it; PSH
 * is not compared; script times move the virtual clock. A blocking call
 * becomes the asynchronous request it stands for: accept the listener's
 * callback, connect the connect callback, read a read request that
 * completes when data arrives, a write on a full send buffer a write
 * request whose bytes are taken as room appears (its completion is what
 * an EPOLLOUT wake-up tells a sockets program).
 * As packetdrill's runners, every test runs over IPv4 (cmocka group
 * "ipv4") and again over IPv6 (group "ipv6": th_init_run, a 1520-byte
 * link so that MSS 1460 holds); blocking-accept-fuzz, which
 * rewrites IPv4 header fields, is IPv4's (group "ipv4_only"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/checksum.h"
#include "ip/ipv4_wire.h"
#include "link/eth_wire.h"
#include "tcp/tcp_flow.h"
#include "pd_fixture.h"

#define PORT 8080
#define A OASIS_TCP_ACK
#define S OASIS_TCP_SYN
#define R OASIS_TCP_RST
#define MS (OASIS_NS_PER_SEC / 1000)

typedef pd_fx fx;

static uint8_t zeros[400000];
static int ipv6; /* the family of the group running: 1 IPv6 */

static void fx_init(fx *x, oasis_cc_algo cc)
{
    oasis_stack_config sc;
    oasis_stack_config_init(&sc);
    sc.tcp.cc = cc;
    pd_fx_init_run(x, &sc.tcp, ipv6);
}

/* listen (sndbuf 0: tuned, else SO_SNDBUF); "< S 0:0(0) <opts>";
 * "> S."; rtt later "< . 1:1(0) ack 1". Returns the SYN-ACK; the app has
 * the flow once the handshake is over (the blocking accept returns). */
static oasis_tcp_hdr open_passive(fx *x, uint16_t mss, int sack, int wscale, uint32_t sndbuf,
                                  uint64_t rtt_ms)
{
    oasis_listen_opts lo;
    memset(&lo, 0, sizeof lo);
    lo.bufs.sndbuf = sndbuf;
    x->lport = PORT;
    x->rport = TH_PPORT;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, &lo, th_accept_cb, &x->a), 0);
    oasis_tcp_hdr syn = pd_syn_opts(th_seg(TH_PPORT, PORT, S, TH_PISN, 0), mss, sack, wscale);
    th_inject(&x->h, &syn);
    oasis_tcp_hdr sa;
    assert_true(th_pop(&x->h, &sa));
    assert_int_equal(sa.flags, S | A);
    assert_int_equal(sa.ack, pd_ps(1));
    x->iss = sa.seq;
    th_advance(&x->h, rtt_ms * MS);
    th_poll(&x->h);
    assert_int_equal(x->a.accepted, 0); /* accept still blocks */
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, pd_ps(1), pd_os(x, 1));
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    assert_int_equal(x->a.accepted, 1);
    return sa;
}

/* "< flags pseq:pseq+len(len) ack oack <sack l:r ...>" (nsack pairs of our
 * relative numbers), window 65535 unscaled. */
static void in(fx *x, uint8_t flags, uint32_t pseq, size_t len, uint32_t oack, const uint32_t *sack,
               int nsack)
{
    oasis_tcp_hdr s = th_seg(x->rport, x->lport, flags, pd_ps(pseq), pd_os(x, oack));
    s.payload = zeros;
    s.payload_len = len;
    for (int i = 0; i < nsack; i++) {
        s.sack[i].left = pd_os(x, sack[2 * i]);
        s.sack[i].right = pd_os(x, sack[2 * i + 1]);
    }
    s.sack_count = (uint8_t)nsack;
    th_inject(&x->h, &s);
}

static void ack(fx *x, uint32_t oack) { in(x, A, 1, 0, oack, NULL, 0); }

/* "> . s:e(e-s) ack pack": the segments covering [s, e), every one a plain
 * ACK (PSH aside) acking pack. Returns the last. */
static oasis_tcp_hdr out(fx *x, uint32_t s, uint32_t e, uint32_t pack)
{
    oasis_tcp_hdr r;
    uint32_t at = s;
    th_poll(&x->h);
    do {
        assert_true(th_pop(&x->h, &r));
        assert_int_equal(r.flags & ~OASIS_TCP_PSH, A);
        assert_int_equal(r.seq, pd_os(x, at));
        assert_int_equal(r.ack, pd_ps(pack));
        at += (uint32_t)r.payload_len;
    } while ((int32_t)(at - e) < 0);
    assert_int_equal(at, e);
    return r;
}

/* Pops whatever data went out, checking that it runs on from `from`;
 * returns where it ends. */
static uint32_t sent_from(fx *x, uint32_t from)
{
    oasis_tcp_hdr r;
    th_poll(&x->h);
    while (th_pop(&x->h, &r)) {
        if (!r.payload_len)
            continue;
        assert_int_equal(r.seq, pd_os(x, from));
        from += (uint32_t)r.payload_len;
    }
    return from;
}


/* ==== cubic ================================================================ */

/* The cubic scripts' CUBIC (Linux's default) is cfg OASIS_CC_CUBIC. */

#define NACKS 200

/* "+.1 < . 1:1(0) ack a" for a = from + 2000, +4000, ... (n ACKs, 100 ms
 * apart), each answered with whatever cwnd allows of the queued data
 * (*next: where our data goes on). Records cwnd and ssthresh after each. */
static uint32_t ack_pairs(fx *x, uint32_t from, int n, uint32_t *next, uint32_t *cwnd,
                          uint32_t *ssthresh)
{
    for (int i = 0; i < n; i++) {
        pd_adv(x, 100);
        from += 2000;
        ack(x, from);
        *next = sent_from(x, *next);
        oasis_tcp_info in = pd_info(x);
        cwnd[i] = in.cwnd;
        ssthresh[i] = in.ssthresh;
    }
    return from;
}

/* The bulk scripts' start: "< S <mss 1000, sackOK, wscale 10>", 100 ms
 * RTT, SO_SNDBUF sndbuf, cwnd 10, a write of `bytes`: ten segments. */
static uint32_t bulk_open(fx *x, uint32_t sndbuf, uint32_t bytes)
{
    fx_init(x, OASIS_CC_CUBIC);
    open_passive(x, 1000, 1, 10, sndbuf, 100);
    assert_int_equal(pd_info(x).cwnd, 10000);
    assert_int_equal(oasis_tcp_write(x->a.flow, zeros, bytes, NULL, NULL), 0);
    uint32_t next = sent_from(x, 1);
    assert_int_equal(next, 10001);
    return next;
}

/* cubic/cubic-bulk-166k.pkt: 2 segments of 1000 bytes acked every 100 ms
 * (166 kbit/s) while 400000 bytes wait. The script checks slow start
 * (cwnd 10 -> 20 -> 30 on ACKs of two), Linux's HyStart leaving it at 48,
 * and CUBIC then adding at most one segment per two acked.
 *
 * The ACKs clock data out faster than they come back, so every round's
 * RTT is far above the last one's. Oasis runs HyStart++ (RFC 9406), not
 * Linux's HyStart: its delay test (4.2: eight samples in a round,
 * currentRoundMinRTT >= lastRoundMinRTT + RttThresh) first passes at cwnd
 * 36 (ack 26001); that enters conservative slow start, cwnd growing by a
 * quarter of what is acked (CSS_GROWTH_DIVISOR 4), and only after
 * CSS_ROUNDS (5) rounds does it set ssthresh = cwnd and leave slow start.
 * Then, as in the script, CUBIC's growth per ACK of two segments is at
 * most one segment (RFC 9438 4.2: target at most 1.5 * cwnd, so at most
 * half a segment per segment acked) and reaches it in the convex region.
 * Without timestamps, HyStart++ had one RTT sample a round (the timed
 * segment) and never judged a round: slow start went on to cwnd 274. */
static void test_cubic_bulk_166k(void **state)
{
    (void)state;
    fx x;
    uint32_t cw[NACKS], st[NACKS];
    uint32_t next = bulk_open(&x, 400000, 400000);
    ack_pairs(&x, 1, NACKS, &next, cw, st);
    assert_int_equal(next, 400001);
    /* slow start, as the script: +2 segments per ACK of two */
    assert_int_equal(cw[4], 20000);  /* ack 10001 */
    assert_int_equal(cw[9], 30000);  /* ack 20001 */
    assert_int_equal(cw[12], 36000); /* ack 26001 */
    /* HyStart++ conservative slow start from ack 28001: a quarter */
    assert_int_equal(cw[13], 36500);
    assert_int_equal(st[13], UINT32_MAX);
    int ca = 0;
    while (ca < NACKS && st[ca] == UINT32_MAX)
        ca++;
    assert_true(ca < NACKS);
    assert_int_equal(ca, 119); /* ack 240001: the fifth CSS round is over */
    assert_int_equal(st[ca], 89000);
    assert_int_equal(cw[ca], 89000);
    for (int i = 14; i < ca; i++)
        assert_int_equal(cw[i] - cw[i - 1], 500);
    /* congestion avoidance: at most half a segment per segment acked,
     * and that much at the top of the curve */
    int full = 0;
    for (int i = ca + 1; i < NACKS; i++) {
        assert_true(cw[i] >= cw[i - 1]);
        assert_true(cw[i] - cw[i - 1] <= 1000);
        full += cw[i] - cw[i - 1] == 1000;
    }
    assert_true(full >= 10);
    pd_fx_fini(&x);
}

/* cubic/cubic-bulk-166k-idle-restart.pkt: the same flow to 40000 bytes,
 * all acked, then 4 s idle before 160000 more. The script checks that
 * CUBIC takes no credit for the idle time (RFC 9438 4.2: t MUST NOT
 * include application-limited periods; 5.8: idle ones are such): Linux,
 * whose script turns slow start after idle off, keeps cwnd 48 and grows
 * it slowly (49, 52, 58 by ack 120001). Oasis restarts from the initial
 * window after more than an RTO of idleness (RFC 5681 4.1, "SHOULD set
 * cwnd to no more than RW"). Before the idle time the 40000 bytes were
 * all sent at cwnd 34 (no growth once the flow stops using its window,
 * RFC 9438 4.6, 5.8), still in HyStart++'s slow start (ssthresh unset);
 * after it, slow start from 10 until the delay test passes (cwnd 36),
 * then a quarter of what is acked: no jump anywhere. */
static void test_cubic_bulk_166k_idle_restart(void **state)
{
    (void)state;
    fx x;
    uint32_t cw[NACKS], st[NACKS];
    uint32_t next = bulk_open(&x, 2000000, 40000);
    ack_pairs(&x, 1, 20, &next, cw, st);
    assert_int_equal(next, 40001);
    assert_int_equal(cw[19], 34000);
    assert_int_equal(st[19], UINT32_MAX);
    assert_int_equal(pd_info(&x).bytes_in_flight, 0);
    pd_adv(&x, 4000);
    assert_int_equal(oasis_tcp_write(x.a.flow, zeros, 160000, NULL, NULL), 0);
    next = sent_from(&x, next);
    assert_int_equal(next, 50001); /* the restart window: 10 segments */
    assert_int_equal(pd_info(&x).cwnd, 10000);
    ack_pairs(&x, 40001, 40, &next, cw, st);
    for (int i = 1; i < 40; i++)
        assert_true(cw[i] - cw[i - 1] <= 2000);
    assert_int_equal(cw[9], 30000);  /* ack 60001 (Linux 48) */
    assert_int_equal(cw[12], 36000); /* ack 66001: conservative from here */
    assert_int_equal(cw[19], 39500); /* ack 80001 (Linux 49) */
    assert_int_equal(cw[29], 44500); /* ack 100001 (Linux 52) */
    assert_int_equal(cw[39], 49500); /* ack 120001 (Linux 58) */
    assert_int_equal(st[39], UINT32_MAX);
    pd_fx_fini(&x);
}

/* The hystart-delay scripts' start: "< S <mss 1000, sackOK, wscale 7>",
 * 200 ms RTT, a write, ten segments, their ACK 200 ms later. */
static uint32_t hystart_open(fx *x, uint32_t bytes)
{
    fx_init(x, OASIS_CC_CUBIC);
    open_passive(x, 1000, 1, 7, 200000, 200);
    assert_int_equal(oasis_tcp_write(x->a.flow, zeros, bytes, NULL, NULL), 0);
    out(x, 1, 10001, 1);
    assert_int_equal(pd_info(x).cwnd, 10000);
    pd_adv(x, 200);
    ack(x, 10001);
    /* Linux adds all ten segments (cwnd 20); HyStart++ caps slow start's
     * growth per ACK at L * SMSS, L = 8 without pacing (RFC 9406 4.3) */
    assert_int_equal(pd_info(x).cwnd, 18000);
    return sent_from(x, 10001);
}

/* cubic/cubic-hystart-delay-rtt-jumps-upward.pkt: the first round's RTT
 * is 200 ms, the next round's samples 240, 241, ... ms, above
 * lastRoundMinRTT + RttThresh (200 + min(max(200/8, 4), 16) = 216 ms).
 * Linux leaves slow start on the 9th sample with ssthresh = cwnd (36).
 * HyStart++ judges the round at its 8th sample (RFC 9406 4.2:
 * rttSampleCount >= N_RTT_SAMPLE) and enters conservative slow start:
 * ssthresh stays unset, growth drops to a quarter (CSS_GROWTH_DIVISOR),
 * and congestion avoidance only comes after CSS_ROUNDS rounds. The port
 * writes 60000 bytes where the script writes 30000, so that Oasis keeps
 * using its window as the round drains (Linux counts the most in flight
 * this window; Oasis the flight at each ACK, and with 30000 bytes its
 * cwnd stops at 26, which hides the quarter growth). */
static void test_cubic_hystart_delay_rtt_jumps_upward(void **state)
{
    (void)state;
    fx x;
    uint32_t next = hystart_open(&x, 60000);
    assert_int_equal(next, 28001);
    pd_adv(&x, 240);
    uint32_t cwnd = 18000;
    for (uint32_t a = 12001; a <= 30001; a += 2000) {
        ack(&x, a);
        next = sent_from(&x, next);
        oasis_tcp_info i = pd_info(&x);
        /* 8th sample at ack 26001: CSS from the next ACK on */
        cwnd += a <= 26001 ? 2000 : 500;
        assert_int_equal(i.cwnd, cwnd);
        assert_int_equal(i.ssthresh, UINT32_MAX);
        pd_adv(&x, 1);
    }
    pd_fx_fini(&x);
}

/* cubic/cubic-hystart-delay-min-rtt-jumps-downward.pkt: RTT samples of
 * 200, 201, ... 208 ms in a round, then one far lower (a segment sent
 * later, acked at once): the new minimum must not make HyStart compare
 * an old current RTT with it and leave slow start (Linux's 2020 fix).
 * HyStart++ keeps currentRoundMinRTT, the round's minimum, which only
 * falls (RFC 9406 4.2), so ssthresh stays unset throughout, as the
 * script checks. Oasis's cwnd is 18 after the first ACK (L = 8), so the
 * 2000-byte write waits for the next ACK where Linux sends it at once. */
static void test_cubic_hystart_delay_min_rtt_jumps_downward(void **state)
{
    (void)state;
    fx x;
    uint32_t next = hystart_open(&x, 28000);
    assert_int_equal(next, 28001);
    pd_adv(&x, 180);
    assert_int_equal(oasis_tcp_write(x.a.flow, zeros, 2000, NULL, NULL), 0);
    pd_none(&x); /* cwnd 18 is full */
    pd_adv(&x, 20);
    for (uint32_t a = 12001; a <= 30001; a += 2000) {
        ack(&x, a);
        next = sent_from(&x, next);
        oasis_tcp_info i = pd_info(&x);
        /* +2 a time while the flight is at least half the window (slow
         * start's test of a window in use, RFC 9438 4.6's "other
         * measures"); the 30000 bytes all sent, cwnd stays at 26 */
        assert_int_equal(i.cwnd, a <= 18001 ? 20000 + (a - 12001) : 26000);
        assert_int_equal(i.ssthresh, UINT32_MAX);
        pd_adv(&x, 1);
    }
    assert_int_equal(next, 30001);
    pd_fx_fini(&x);
}

/* "< . 1:1(0) ack a" then "> . s:e" one MSS-sized segment per ACK step. */
static void ack_out(fx *x, uint32_t a, uint32_t s, uint32_t e)
{
    ack(x, a);
    out(x, s, e, 1);
    pd_none(x);
}

/* cubic/cubic-rto-ss-ca-cwnd-bump.pkt: a timeout with cwnd 10 (one
 * segment in flight), slow start from 1 to ssthresh 7 (beta 0.7, RFC 9438
 * 4.6), then congestion avoidance acked segment by segment: the script
 * checks that cwnd is not bumped when congestion avoidance begins (still
 * 7 at ack 16001) and grows to 8 by ack 23001. After a timeout RFC 9438
 * 4.8 starts the curve at K = 0 with W_max the window at the start of
 * congestion avoidance (7) and W_est there too: the Reno-friendly
 * estimate leads, alpha = 3(1-0.7)/(1+0.7) = 0.53 segment per window
 * acked (4.3), so cwnd reaches 8 after about 13 ACKs. Oasis counts cwnd
 * in bytes and sets it to W_est on every ACK ("SHOULD be set to W_est at
 * each reception of a new ACK", 4.3): cwnd passes 8000 at ack 22001,
 * which releases two segments, where Linux's integer count does so at
 * ack 23001. The probe and the timeout: the tail loss probe 2*SRTT +
 * WCDelAckT after the send (RFC 8985 7.2, one segment in flight: 400 ms,
 * capped by the RTO, here SRTT + 4*RTTVAR = 250 ms), then the RTO an
 * RTO after the probe (7.3); Linux's figures are 300 and 300 ms. */
/* The script up to "ack 2001": a segment, its tail loss probe and its
 * timeout, then the ACK of all (cwnd 2 after slow start's first ACK). */
static void rto_then_ack(fx *x, oasis_cc_algo cc)
{
    oasis_tcp_hdr r;
    fx_init(x, cc);
    open_passive(x, 1000, 1, 7, 400000, 100);
    assert_int_equal(oasis_tcp_write(x->a.flow, zeros, 1000, NULL, NULL), 0);
    out(x, 1, 1001, 1);
    pd_adv(x, 100);
    ack(x, 1001);
    assert_int_equal(pd_info(x).cwnd, 10000);
    assert_int_equal(oasis_tcp_write(x->a.flow, zeros, 1000, NULL, NULL), 0);
    out(x, 1001, 2001, 1);
    uint64_t t1 = pd_wait_seg(x, 1000, &r);
    assert_int_equal(r.seq, pd_os(x, 1001));
    uint64_t t2 = pd_wait_seg(x, 2000, &r);
    assert_int_equal(r.seq, pd_os(x, 1001));
    assert_int_equal(t1, 250);
    assert_int_equal(t2, 250);
    pd_adv(x, 100);
    ack(x, 2001);
    assert_int_equal(pd_info(x).cwnd, 2000);
}

static void test_cubic_rto_ss_ca_cwnd_bump(void **state)
{
    (void)state;
    fx x;
    rto_then_ack(&x, OASIS_CC_CUBIC);
    oasis_tcp_info i = pd_info(&x);
    assert_int_equal(i.ssthresh, 7000);
    /* Everything acknowledged: the flow is idle until the write. It keeps
     * its extension, and CUBIC the window before the timeout (cwnd_prior,
     * for the Reno-friendly slope, RFC 9438 4.3): an idle flow's core
     * keeps only cwnd and ssthresh (tcp.c cc_keeps). */
    assert_non_null(x.a.flow->ext);
    assert_int_equal(oasis_tcp_write(x.a.flow, zeros, 200000, NULL, NULL), 0);
    /* slow start: two segments per ACK of one */
    out(&x, 2001, 4001, 1);
    static const uint32_t gap[] = {100, 2, 98, 2, 2};
    for (uint32_t k = 0; k < 5; k++) {
        pd_adv(&x, gap[k]);
        ack_out(&x, 3001 + 1000 * k, 4001 + 2000 * k, 6001 + 2000 * k);
        assert_int_equal(pd_info(&x).cwnd, 3000 + 1000 * k);
    }
    /* congestion avoidance: one segment per ACK until cwnd passes 8 */
    static const uint32_t ca_gap[] = {2, 98, 2, 2, 2, 2, 2, 2, 98, 3, 2, 2, 2, 2, 2, 98};
    uint32_t next = 14001;
    for (uint32_t k = 0; k < 16; k++) {
        pd_adv(&x, ca_gap[k]);
        uint32_t a = 8001 + 1000 * k;
        ack(&x, a);
        uint32_t end = sent_from(&x, next);
        i = pd_info(&x);
        assert_int_equal(end - next, a == 22001 ? 2000 : 1000);
        next = end;
        if (a == 16001)
            assert_int_equal(i.cwnd / 1000, 7); /* no bump */
    }
    assert_int_equal(pd_info(&x).cwnd / 1000, 8);
    pd_fx_fini(&x);
}

/* Not a script: how long the idle flow of the test above keeps what
 * CUBIC remembers. Its extension stays while the flow is idle for up to an
 * RTO after its last send (the cc_keep deadline), then goes; data after
 * that restarts from the initial window (RFC 5681 4.1) on a fresh curve
 * with Reno's slope (RFC 9438 4.8), which is what a flow that gave its
 * extension back starts with. NewReno keeps nothing an idle flow's core
 * lacks: its flow gives the extension back at once. */
static void test_cubic_idle_keeps_history_an_rto(void **state)
{
    (void)state;
    fx x;
    rto_then_ack(&x, OASIS_CC_NEWRENO);
    pd_none(&x);
    assert_null(x.a.flow->ext);
    pd_fx_fini(&x);

    rto_then_ack(&x, OASIS_CC_CUBIC);
    pd_none(&x);
    const oasis_tcp_ext *e = x.a.flow->ext;
    assert_non_null(e);
    assert_true(e->ccops->remembers(&e->cc));
    uint64_t rto = oasis_rtt_rto(&e->rtt);
    uint64_t last_tx = (uint64_t)x.a.flow->last_tx_ms * MS;
    assert_int_equal(e->tm.cc_keep, last_tx + rto + MS);
    uint64_t frees = th_ctr(&x.h)->ext_frees;
    th_advance(&x.h, e->tm.cc_keep - 1 - th_now(&x.h));
    assert_non_null(x.a.flow->ext);
    th_advance(&x.h, 1);
    assert_null(x.a.flow->ext);
    assert_int_equal(th_ctr(&x.h)->ext_frees, frees + 1);
    pd_fx_fini(&x);
}

/* cubic/cubic-rack-reo-timeout-retrans-failed-incoming-data.pkt: SACKs
 * reveal reordering (9001:10001, then 3001:4001 below it, then the full
 * ACK); of the next two segments the second is SACKed, so RACK's
 * reordering timer resends the first once the reordering window has
 * passed (RFC 8985 6.2: reo_wnd = min_RTT/4 = 5 ms once reordering was
 * seen, Linux's ~20 ms from its tcpi_reordering), starting recovery. The
 * script empties the local qdisc so that the retransmission fails, and
 * checks that data from the peer arriving in recovery with nothing in
 * flight leaves Linux's cwnd at 1. Oasis hands a segment to the link and
 * counts it sent whatever the link does (a drop there is a loss like any
 * other), so it never has "nothing in flight" here: the port drops the
 * retransmission on the wire. Checked: the timer's retransmission, cwnd
 * from CUBIC's reduction (RFC 9438 4.6, the window paced by PRR), the
 * peer's data taken and acknowledged in recovery, Oasis's tail loss
 * probe (it probes in SACK recovery too, tcp_timer.c tlp_may_probe)
 * resending the highest segment, the lost retransmission resent by the
 * RTO and the flow whole again. tcpi_reordering,
 * tcpi_reord_seen and tcpi_ca_state are Linux's. */
static void test_cubic_rack_reo_timeout_retrans_failed(void **state)
{
    (void)state;
    fx x;
    oasis_tcp_hdr r;
    fx_init(&x, OASIS_CC_CUBIC);
    open_passive(&x, 1000, 1, 7, 0, 20);
    x.a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x.a.flow, th_read_cb, &x.a), 0);
    assert_int_equal(oasis_tcp_write(x.a.flow, zeros, 10000, NULL, NULL), 0);
    out(&x, 1, 10001, 1);
    pd_adv(&x, 20);
    in(&x, A, 1, 0, 1, (uint32_t[]){9001, 10001}, 1);
    in(&x, A, 1, 0, 1, (uint32_t[]){3001, 4001, 9001, 10001}, 2);
    assert_int_equal(x.a.flow->ext->sb.rack.reordering_seen, 1);
    ack(&x, 10001);
    pd_none(&x);
    assert_int_equal(pd_info(&x).cwnd, 18000); /* 10 + L (8), RFC 9406 4.3 */
    pd_adv(&x, 25);
    assert_int_equal(oasis_tcp_write(x.a.flow, zeros, 2000, NULL, NULL), 0);
    out(&x, 10001, 12001, 1);
    pd_adv(&x, 20);
    in(&x, A, 1, 0, 10001, (uint32_t[]){11001, 12001}, 1);
    pd_none(&x);
    uint64_t t = pd_wait_seg(&x, 20, &r); /* the reordering timer */
    assert_int_equal(t, 5);
    assert_int_equal(r.seq, pd_os(&x, 10001));
    assert_int_equal(r.payload_len, 1000);
    pd_none(&x); /* the retransmission went (and is lost) */
    oasis_tcp_info i = pd_info(&x);
    assert_int_equal(i.ssthresh, 12600); /* 18000 * 0.7 */
    assert_int_equal(i.cwnd, 12600);
    pd_adv(&x, 10);
    in(&x, A, 1, 1000, 10001, (uint32_t[]){11001, 12001}, 1);
    th_poll(&x.h);
    assert_int_equal(x.a.rx_len, 1000);
    assert_true(pd_info(&x).cwnd >= 1000);
    t = pd_wait_seg(&x, 1000, &r); /* the ACK of the data, delayed */
    assert_int_equal(t, 40);
    assert_int_equal(r.flags & ~OASIS_TCP_PSH, A);
    assert_int_equal(r.ack, pd_ps(1001));
    assert_int_equal(r.payload_len, 0);
    /* Oasis's tail loss probe in SACK recovery (tcp_timer.c tlp_may_probe,
     * beyond RFC 8985 7.2's open state): nothing new to send, so the
     * highest segment (7.3), SACKed as it is */
    t = pd_wait_seg(&x, 1000, &r);
    assert_int_equal(t, 1);
    assert_int_equal(r.seq, pd_os(&x, 11001));
    t = pd_wait_seg(&x, 1000, &r); /* the lost retransmission, by the RTO */
    assert_int_equal(t, 200);
    assert_int_equal(r.seq, pd_os(&x, 10001));
    assert_int_equal(r.payload_len, 1000);
    pd_none(&x);
    pd_adv(&x, 20);
    in(&x, A, 1001, 0, 12001, NULL, 0);
    pd_none(&x);
    i = pd_info(&x);
    assert_int_equal(i.bytes_in_flight, 0);
    assert_int_equal(i.state, OASIS_TCP_ESTABLISHED);
    pd_fx_fini(&x);
}

/* ==== blocking ============================================================= */

/* blocking/blocking-accept.pkt: accept blocks until the handshake ends
 * (the listener's callback runs only after the third segment); the
 * SYN-ACK answers a SYN with MSS and window scale only with the same
 * (no SACK-permitted, no timestamps: RFC 2018 2, RFC 7323 2.2, 3.2;
 * Oasis's own scale and MSS 1460 from the link). Then 200 bytes out,
 * 10 bytes in read. */
static void test_blocking_accept(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, OASIS_CC_NEWRENO);
    oasis_tcp_hdr sa = open_passive(&x, 1000, 0, 7, 0, 100);
    assert_true(sa.has_mss);
    assert_int_equal(sa.mss, 1460);
    assert_true(sa.has_wscale);
    assert_false(sa.sack_permitted);
    assert_false(sa.has_ts);
    pd_adv(&x, 100);
    assert_int_equal(oasis_tcp_write(x.a.flow, zeros, 200, NULL, NULL), 0);
    out(&x, 1, 201, 1);
    pd_adv(&x, 100);
    in(&x, A | OASIS_TCP_PSH, 1, 10, 201, NULL, 0);
    assert_int_equal(oasis_tcp_read(x.a.flow, th_read_cb, &x.a), 0);
    th_poll(&x.h);
    assert_int_equal(x.a.reads, 1);
    assert_int_equal(x.a.rx_len, 10);
    pd_fx_fini(&x);
}

/* The accept-fuzz scripts' connection: "< S 0:0(0) win 32792 <wscale 8,nop>"
 * (no MSS option: Oasis sends at most 536 bytes, IPv6 1220, RFC 9293
 * 3.7.1 MUST-15; its SYN-ACK still offers MSS 1460 and its window scale). */
static void fuzz_open(fx *x)
{
    fx_init(x, OASIS_CC_NEWRENO);
    oasis_tcp_hdr sa = open_passive(x, 0, 0, 8, 0, 100);
    assert_true(sa.has_mss);
    assert_int_equal(sa.mss, 1460);
    assert_true(sa.has_wscale);
    assert_int_equal(pd_info(x).mss_send, ipv6 ? 1220 : 536);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
}

/* "< P. 1:21(20) ack 1 win 257" again and again: the first is read, the
 * repeats are old data, acknowledged and not delivered again (RFC 9293
 * 3.10.7.4). */
static void test_blocking_accept_fuzz_template(void **state)
{
    (void)state;
    fx x;
    oasis_tcp_hdr r;
    fuzz_open(&x);
    for (int k = 0; k < 3; k++) {
        pd_adv(&x, 100);
        oasis_tcp_hdr s = th_seg(x.rport, x.lport, A | OASIS_TCP_PSH, pd_ps(1), pd_os(&x, 1));
        s.window = 257;
        s.payload = zeros;
        s.payload_len = 20;
        th_inject(&x.h, &s);
        pd_wait_seg(&x, 500, &r);
        assert_int_equal(r.flags & ~OASIS_TCP_PSH, A);
        assert_int_equal(r.ack, pd_ps(21));
        pd_none(&x);
    }
    assert_int_equal(x.a.rx_len, 20);
    assert_int_equal(x.a.eof, 0);
    pd_fx_fini(&x);
}

enum { MUT_NONE, MUT_VERSION_IHL, MUT_SRC_PORT, MUT_SEQ, MUT_PROTO, MUT_WIN };

/* "< P. 1:21(20) ack 1 win 257 {rep FIELD VALUE}" as a whole frame with
 * one field replaced; both checksums are made good again after the
 * change, so that only the field is wrong. */
static void fuzz_seg(fx *x, int mut)
{
    static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
    uint8_t frame[OASIS_ETH_HLEN + OASIS_IPV4_HLEN + OASIS_TCP_HLEN + 20];
    uint8_t *ip = frame + OASIS_ETH_HLEN, *tcp = ip + OASIS_IPV4_HLEN;
    memset(frame, 0, sizeof frame);
    oasis_eth_emit(frame, oasis_stack_mac(x->h.s), peer_mac, OASIS_ETHERTYPE_IPV4);
    oasis_tcp_hdr s = th_seg(x->rport, x->lport, A | OASIS_TCP_PSH, pd_ps(1), pd_os(x, 1));
    s.window = 257;
    if (mut == MUT_SRC_PORT)
        s.src_port = 0x0B63;
    if (mut == MUT_SEQ)
        s.seq = 0x01234321;
    if (mut == MUT_WIN)
        s.window = 0x1021;
    oasis_tcp_emit(tcp, &s, 20, TH_PEER, TH_LOCAL);
    oasis_ipv4_hdr ih;
    memset(&ih, 0, sizeof ih);
    ih.total_len = OASIS_IPV4_HLEN + OASIS_TCP_HLEN + 20;
    ih.ttl = 64;
    ih.proto = mut == MUT_PROTO ? 0x02 : OASIS_IPPROTO_TCP;
    ih.src = TH_PEER;
    ih.dst = TH_LOCAL;
    oasis_ipv4_emit(ip, &ih);
    if (mut == MUT_VERSION_IHL) {
        ip[0] = 0x35;
        ip[10] = ip[11] = 0;
        uint16_t c = oasis_csum(ip, OASIS_IPV4_HLEN);
        memcpy(ip + 10, &c, 2);
    }
    oasis_stack_input(x->h.s, frame, sizeof frame);
}

/* blocking/blocking-accept-fuzz.pkt: the template's repeats, each with a
 * field replaced. IP version 3: not IPv4, dropped unanswered (RFC 791;
 * RFC 1122 3.2.1.1 MUST silently discard). Source port 2915: no
 * connection, and the listener answers an ACK with RST <SEQ=SEG.ACK>
 * (RFC 9293 3.10.7.2). Sequence number 0x01234321: outside the window,
 * ACKed and dropped (3.10.7.4 first). Protocol 2 (IGMP): not TCP's, and
 * no valid IGMP message, dropped. Window 0x1021: an acceptable segment,
 * the 20 bytes are read and the new window taken (scaled by 8). */
static void test_blocking_accept_fuzz(void **state)
{
    (void)state;
    fx x;
    oasis_tcp_hdr r;
    fuzz_open(&x);
    uint64_t other = x.h.other_frames;
    pd_adv(&x, 100);
    fuzz_seg(&x, MUT_VERSION_IHL);
    pd_none(&x);
    pd_adv(&x, 100);
    fuzz_seg(&x, MUT_SRC_PORT);
    th_poll(&x.h);
    assert_true(th_pop(&x.h, &r));
    assert_int_equal(r.flags, R);
    assert_int_equal(r.dst_port, 0x0B63);
    assert_int_equal(r.seq, pd_os(&x, 1));
    pd_none(&x);
    pd_adv(&x, 100);
    fuzz_seg(&x, MUT_SEQ);
    out(&x, 1, 1, 1);
    pd_none(&x);
    pd_adv(&x, 100);
    fuzz_seg(&x, MUT_PROTO);
    pd_none(&x);
    assert_int_equal(x.h.other_frames, other); /* nothing else answered */
    assert_int_equal(x.a.rx_len, 0);
    pd_adv(&x, 100);
    fuzz_seg(&x, MUT_WIN);
    pd_wait_seg(&x, 500, &r);
    assert_int_equal(r.ack, pd_ps(21));
    pd_none(&x);
    assert_int_equal(x.a.rx_len, 20);
    assert_int_equal(pd_info(&x).snd_wnd, 0x1021u << 8);
    assert_int_equal(pd_info(&x).state, OASIS_TCP_ESTABLISHED);
    pd_fx_fini(&x);
}

/* "connect" blocking until the SYN-ACK: "> S 0:0(0) <mss 1460, sackOK, TS,
 * nop, wscale>", 100 ms later "< S. 0:0(0) ack 1 win 5792 <mss 1460, nop,
 * wscale 2, nop, nop, sackOK>" (no timestamps), "> . 1:1(0) ack 1"; the
 * connect callback runs only then. */
static void connect_blocking(fx *x)
{
    fx_init(x, OASIS_CC_NEWRENO);
    pd_connect_to(x, PORT);
    th_poll(&x->h);
    oasis_tcp_hdr syn, r;
    assert_true(th_pop(&x->h, &syn));
    assert_int_equal(syn.flags, S);
    assert_true(syn.has_mss);
    assert_int_equal(syn.mss, 1460);
    assert_true(syn.sack_permitted);
    assert_true(syn.has_ts);
    assert_true(syn.has_wscale);
    x->iss = syn.seq;
    x->lport = syn.src_port;
    x->rport = PORT;
    pd_adv(x, 100);
    th_poll(&x->h);
    assert_int_equal(x->a.connected, 0); /* connect still blocks */
    oasis_tcp_hdr sa = pd_syn_opts(th_seg(PORT, x->lport, S | A, TH_PISN, pd_os(x, 1)), 1460, 1, 2);
    sa.window = 5792;
    th_inject(&x->h, &sa);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, A);
    assert_int_equal(r.seq, pd_os(x, 1));
    assert_int_equal(r.ack, pd_ps(1));
    assert_false(r.has_ts); /* the SYN-ACK had none (RFC 7323 3.2) */
    th_poll(&x->h);
    assert_int_equal(x->a.connected, 1);
    assert_int_equal(x->a.connect_err, 0);
    pd_none(x);
}

/* blocking/blocking-connect.pkt: as connect_blocking. */
static void test_blocking_connect(void **state)
{
    (void)state;
    fx x;
    connect_blocking(&x);
    assert_int_equal(pd_info(&x).snd_wscale, 2);
    assert_int_equal(pd_info(&x).timestamps, 0);
    assert_int_equal(pd_info(&x).sack, 1);
    pd_fx_fini(&x);
}

/* blocking/blocking-connect-data.pkt: after the blocking connect the
 * peer sends 30000 bytes in segments of 100 to 20000 bytes, one of them
 * (1:10001) overlapping the 5000 before it, and at last 1:101 again. The
 * overlap is trimmed to the new part (RFC 9293 3.10.7.4), every byte is
 * read once and in order, the repeat is acknowledged with its D-SACK
 * (RFC 2883). The segments come straight to TCP: those above the MSS
 * Oasis offered (1460) are a GRO'd train on Linux's tun. */
static void test_blocking_connect_data(void **state)
{
    (void)state;
    fx x;
    oasis_tcp_hdr r;
    connect_blocking(&x);
    x.a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x.a.flow, th_read_cb, &x.a), 0);
    static const uint32_t seg[][2] = {{1, 101},       {101, 201},   {201, 401},
                                      {401, 501},     {501, 1001},  {1001, 2001},
                                      {2001, 5001},   {1, 10001},   {10001, 30001}};
    for (size_t k = 0; k < sizeof seg / sizeof seg[0]; k++) {
        oasis_tcp_hdr s = th_seg(x.rport, x.lport, A, pd_ps(seg[k][0]), pd_os(&x, 1));
        s.window = 27510;
        s.payload = zeros;
        s.payload_len = seg[k][1] - seg[k][0];
        th_inject(&x.h, &s);
    }
    th_poll(&x.h);
    assert_int_equal(x.a.rx_len, 30000);
    uint32_t last = 0;
    while (th_pop(&x.h, &r))
        last = r.ack;
    if (!last) {
        pd_wait_seg(&x, 500, &r); /* a delayed ACK */
        last = r.ack;
    }
    assert_int_equal(last, pd_ps(30001));
    oasis_tcp_hdr s = th_seg(x.rport, x.lport, A, pd_ps(1), pd_os(&x, 1));
    s.window = 27510;
    s.payload = zeros;
    s.payload_len = 100;
    th_inject(&x.h, &s);
    th_poll(&x.h);
    assert_true(th_pop(&x.h, &r));
    assert_int_equal(r.ack, pd_ps(30001));
    assert_int_equal(r.sack_count, 1);
    assert_int_equal(r.sack[0].left, pd_ps(1));
    assert_int_equal(r.sack[0].right, pd_ps(101));
    pd_none(&x);
    assert_int_equal(x.a.rx_len, 30000);
    pd_fx_fini(&x);
}

/* "< P. a:a+2000(2000) ack 1" then "> . 1:1(0) ack a+2000": the peer's
 * 2000 bytes as two segments of its MSS (1000; one 2000-byte segment on
 * Linux's tun is a GRO'd pair); Linux ACKs at once (quick-ACK at the
 * start of a connection), Oasis may wait up to its delayed-ACK time
 * (RFC 5681 4.2: 2000 bytes are less than two full-sized segments of
 * the 1460 it offered). */
static void two_k_in(fx *x, uint32_t a)
{
    oasis_tcp_hdr r;
    in(x, A, a, 1000, 1, NULL, 0);
    in(x, A | OASIS_TCP_PSH, a + 1000, 1000, 1, NULL, 0);
    pd_wait_seg(x, 500, &r);
    assert_int_equal(r.flags & ~OASIS_TCP_PSH, A);
    assert_int_equal(r.ack, pd_ps(a + 2000));
    pd_none(x);
}

/* blocking/blocking-read.pkt and blocking-read-2.pkt (the same without
 * the last step): a read issued before data arrives waits and completes
 * when it comes (100 ms later, then again with the read issued 100 ms
 * before the data); the third time the data is there first and the two
 * 1000-byte reads return at once: Oasis's read hands over all that is
 * buffered, 2000 bytes in one completion, at the next poll. */
static void blocking_read(int third)
{
    fx x;
    fx_init(&x, OASIS_CC_NEWRENO);
    open_passive(&x, 1000, 0, 7, 0, 100);
    assert_int_equal(oasis_tcp_read(x.a.flow, th_read_cb, &x.a), 0);
    pd_adv(&x, 100);
    th_poll(&x.h);
    assert_int_equal(x.a.reads, 0); /* blocks */
    two_k_in(&x, 1);
    assert_int_equal(x.a.reads, 1);
    assert_int_equal(x.a.rx_len, 2000);
    pd_adv(&x, 100);
    assert_int_equal(oasis_tcp_read(x.a.flow, th_read_cb, &x.a), 0);
    pd_adv(&x, 100);
    th_poll(&x.h);
    assert_int_equal(x.a.reads, 1);
    two_k_in(&x, 2001);
    assert_int_equal(x.a.reads, 2);
    assert_int_equal(x.a.rx_len, 4000);
    if (third) {
        pd_adv(&x, 100);
        two_k_in(&x, 4001);
        assert_int_equal(x.a.reads, 2);
        assert_int_equal(oasis_tcp_read(x.a.flow, th_read_cb, &x.a), 0);
        th_poll(&x.h);
        assert_int_equal(x.a.reads, 3);
        assert_int_equal(x.a.rx_len, 6000);
    }
    pd_fx_fini(&x);
}

static void test_blocking_read(void **state)
{
    (void)state;
    blocking_read(1);
}

static void test_blocking_read_2(void **state)
{
    (void)state;
    blocking_read(0);
}

/* ==== epoll ================================================================ */

/* Sends what the window allows and ACKs all of it at once, `rounds`
 * times; returns where our data ends. */
static uint32_t ack_all_sent(fx *x, uint32_t next, int rounds)
{
    for (int k = 0; k < rounds; k++) {
        next = sent_from(x, next);
        ack(x, next);
    }
    return sent_from(x, next);
}

static oasis_tcp_sndbuf sndbuf(const fx *x)
{
    oasis_tcp_sndbuf b;
    assert_int_equal(oasis_tcp_get_sndbuf(x->a.flow, &b), 0);
    return b;
}

/* epoll/epoll_out_edge.pkt (TCP_NOTSENT_LOWAT at its maximum, i.e. none)
 * and epoll/epoll_out_edge_default_notsent_lowat.pkt (0: the default,
 * none either): an edge-triggered EPOLLOUT must come once an ACK frees
 * room after a write that did not fit (Linux's xmit-stall fix), and only
 * then. Oasis has no readiness events: the write that does not fit
 * stays pending and its bytes are taken as ACKs free room; its
 * completion is the wake-up, once, when the last byte is taken; a write
 * that fits completes at the next poll. The send buffer is fixed at
 * 58000 bytes so that "write(4, ..., 59000) = 58000" holds as in the
 * script; how much goes out per ACK is Oasis's (no TSO autosizing). */
static void test_epoll_out_edge(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, OASIS_CC_NEWRENO);
    open_passive(&x, 1000, 1, 7, 58000, 0);
    assert_int_equal(oasis_tcp_write(x.a.flow, zeros, 59000, th_write_cb, &x.a), 0);
    th_poll(&x.h);
    oasis_tcp_sndbuf b = sndbuf(&x);
    assert_int_equal(b.unsent + b.unacked, 58000); /* "= 58000" */
    assert_int_equal(b.pending, 1000);
    assert_int_equal(x.a.writes_done, 0); /* no EPOLLOUT: no room */
    uint32_t next = sent_from(&x, 1);
    assert_int_equal(next, 10001);
    ack(&x, next);
    th_poll(&x.h);
    assert_int_equal(x.a.writes_done, 1); /* the ACK made room: woken */
    assert_int_equal(sndbuf(&x).pending, 0);
    next = ack_all_sent(&x, next, 1);
    assert_int_equal(x.a.writes_done, 1); /* no second wake-up */
    /* a write that fills the buffer: woken once, when all is taken */
    assert_int_equal(oasis_tcp_write(x.a.flow, zeros, 180000, th_write_cb, &x.a), 0);
    th_poll(&x.h);
    assert_int_equal(x.a.writes_done, 1);
    assert_true(sndbuf(&x).pending > 0);
    int rounds = 0;
    while (x.a.writes_done == 1) {
        next = ack_all_sent(&x, next, 1);
        assert_true(++rounds < 50); /* no stall */
    }
    assert_int_equal(x.a.writes_done, 2);
    assert_int_equal(x.a.write_err, 0);
    next = ack_all_sent(&x, next, 3);
    assert_int_equal(x.a.writes_done, 2);
    /* and the data all goes */
    while (next != 239001) {
        next = ack_all_sent(&x, next, 1);
        assert_true(++rounds < 100);
    }
    assert_int_equal(pd_info(&x).bytes_in_flight, 0);
    pd_fx_fini(&x);
}

static int group_ipv6(void **state)
{
    (void)state;
    ipv6 = 1;
    return 0;
}

int main(void)
{
    /* blocking-accept-fuzz rewrites IPv4 header fields: IPv4 only */
    const struct CMUnitTest v4[] = {
        cmocka_unit_test(test_blocking_accept_fuzz),
    };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cubic_bulk_166k),
        cmocka_unit_test(test_cubic_bulk_166k_idle_restart),
        cmocka_unit_test(test_cubic_hystart_delay_rtt_jumps_upward),
        cmocka_unit_test(test_cubic_hystart_delay_min_rtt_jumps_downward),
        cmocka_unit_test(test_cubic_rto_ss_ca_cwnd_bump),
        cmocka_unit_test(test_cubic_idle_keeps_history_an_rto),
        cmocka_unit_test(test_cubic_rack_reo_timeout_retrans_failed),
        cmocka_unit_test(test_blocking_accept),
        cmocka_unit_test(test_blocking_accept_fuzz_template),
        cmocka_unit_test(test_blocking_connect),
        cmocka_unit_test(test_blocking_connect_data),
        cmocka_unit_test(test_blocking_read),
        cmocka_unit_test(test_blocking_read_2),
        cmocka_unit_test(test_epoll_out_edge),
    };
    int failed = cmocka_run_group_tests_name("ipv4", tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("ipv4_only", v4, NULL, NULL);
    return failed + cmocka_run_group_tests_name("ipv6", tests, group_ipv6, NULL);
}
