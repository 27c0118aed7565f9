/* SACK: the RFC 6675 scoreboard (merging, bounds, blocks to ignore,
 * IsLost, pipe, NextSeg), SACK-based recovery on the flow (PRR's budget:
 * test_tcp_prr.c), reneging safety, and D-SACK generation (RFC 2883). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcp/tcp_flow.h"
#include "tcp/tcp_sack.h"
#include "tcp/tcp_seq.h"
#include "tcp_harness.h"

#define PORT 80
#define A OASIS_TCP_ACK
#define S OASIS_TCP_SYN
#define MSS 1000u

/* ---- scoreboard, hand-built blocks ---------------------------------------- */

static uint32_t upd(oasis_sack_sb *sb, uint32_t una, uint32_t max, uint32_t l, uint32_t r)
{
    oasis_sack_block b = {l, r};
    return oasis_sb_update(sb, una, max, &b, 1);
}

static void test_sb_merges_overlapping_blocks(void **state)
{
    (void)state;
    oasis_sack_sb sb;
    memset(&sb, 0, sizeof sb);
    assert_int_equal(upd(&sb, 100, 10000, 1000, 2000), 1000);
    assert_int_equal(upd(&sb, 100, 10000, 3000, 4000), 1000);
    assert_int_equal(sb.n, 2);
    /* overlaps the first, bridges to the second */
    assert_int_equal(upd(&sb, 100, 10000, 1500, 3000), 1000);
    assert_int_equal(sb.n, 1);
    assert_int_equal(sb.r[0].left, 1000);
    assert_int_equal(sb.r[0].right, 4000);
    /* nothing new */
    assert_int_equal(upd(&sb, 100, 10000, 1200, 3900), 0);
    /* adjacent merges */
    assert_int_equal(upd(&sb, 100, 10000, 4000, 4500), 500);
    assert_int_equal(sb.n, 1);
    assert_int_equal(sb.r[0].right, 4500);
    assert_int_equal(oasis_sb_sacked_bytes(&sb), 3500);
    assert_true(oasis_sb_is_sacked(&sb, 1000));
    assert_false(oasis_sb_is_sacked(&sb, 4500));
}

static void test_sb_ignores_bad_blocks(void **state)
{
    (void)state;
    oasis_sack_sb sb;
    memset(&sb, 0, sizeof sb);
    assert_int_equal(upd(&sb, 5000, 10000, 1000, 2000), 0);   /* below snd_una */
    assert_int_equal(upd(&sb, 5000, 10000, 9000, 11000), 0);  /* beyond snd_max */
    assert_int_equal(upd(&sb, 5000, 10000, 7000, 7000), 0);   /* empty */
    assert_int_equal(upd(&sb, 5000, 10000, 8000, 7000), 0);   /* reversed */
    assert_int_equal(sb.n, 0);
    /* straddling snd_una: only the part above counts */
    assert_int_equal(upd(&sb, 5000, 10000, 4000, 6000), 1000);
    assert_int_equal(sb.r[0].left, 5000);
    /* D-SACK: first block inside the second is a duplicate report */
    oasis_sack_block d[2] = {{7000, 7500}, {6500, 8000}};
    memset(&sb, 0, sizeof sb);
    assert_int_equal(oasis_sb_update(&sb, 5000, 10000, d, 2), 1500);
    assert_int_equal(sb.n, 1);
    assert_int_equal(sb.r[0].left, 6500);
}

/* RFC 2883 4: the first block is a D-SACK at or below the cumulative ACK,
 * or inside the second block; nothing else is. */
static void test_is_dsack(void **state)
{
    (void)state;
    oasis_sack_block below[1] = {{4000, 5000}}, above[1] = {{6000, 7000}};
    oasis_sack_block inside[2] = {{7000, 7500}, {6500, 8000}};
    oasis_sack_block apart[2] = {{9000, 9500}, {6500, 8000}};
    oasis_sack_block over[2] = {{6000, 7000}, {6500, 8000}}; /* overlaps, not inside */
    assert_true(oasis_sack_is_dsack(below, 1, 5000));
    assert_false(oasis_sack_is_dsack(below, 1, 4999));
    assert_false(oasis_sack_is_dsack(above, 1, 5000));
    assert_true(oasis_sack_is_dsack(inside, 2, 5000));
    assert_false(oasis_sack_is_dsack(apart, 2, 5000));
    assert_false(oasis_sack_is_dsack(over, 2, 5000));
    assert_false(oasis_sack_is_dsack(inside, 0, 5000));
    assert_false(oasis_sack_is_dsack(inside, 1, 5000)); /* no second block to be inside */
}

static void test_sb_is_bounded_and_wraps(void **state)
{
    (void)state;
    oasis_sack_sb sb;
    memset(&sb, 0, sizeof sb);
    uint32_t base = 0xFFFFF000u; /* crosses 2^32 */
    for (uint32_t i = 0; i < 40; i++)
        upd(&sb, base, base + 100000, base + 1000 * (i + 1), base + 1000 * (i + 1) + 500);
    assert_int_equal(sb.n, OASIS_SACK_SB_MAX);
    for (uint32_t i = 1; i < sb.n; i++)
        assert_true((int32_t)(sb.r[i].left - sb.r[i - 1].right) > 0);
    /* the cumulative ACK swallows ranges */
    oasis_sb_advance(&sb, base + 3200);
    assert_int_equal(sb.n, OASIS_SACK_SB_MAX - 2);
    assert_int_equal(sb.r[0].left, base + 3200);
    oasis_sb_advance(&sb, base + 4200);
    assert_int_equal(sb.n, OASIS_SACK_SB_MAX - 3);
    assert_int_equal(sb.r[0].left, base + 4200);
}

/* Ten segments [0, 10000) sent; the given ones SACKed. */
static void sb_ten(oasis_sack_sb *sb, const int *sacked, int n)
{
    memset(sb, 0, sizeof *sb);
    for (int i = 0; i < n; i++)
        upd(sb, 0, 10000, (uint32_t)sacked[i] * MSS, (uint32_t)(sacked[i] + 1) * MSS);
}

static void test_sb_is_lost_and_pipe(void **state)
{
    (void)state;
    oasis_sack_sb sb;
    int two[] = {1, 2};
    sb_ten(&sb, two, 2);
    assert_false(oasis_sb_is_lost(&sb, 0, MSS)); /* 2 MSS above: not yet */
    /* 0 not lost, 1-2 SACKed, 3..9 outstanding: 8 segments in the pipe */
    assert_int_equal(oasis_sb_pipe(&sb, 0, 10000, 0, MSS), 8 * MSS);
    int three[] = {1, 2, 3};
    sb_ten(&sb, three, 3);
    assert_true(oasis_sb_is_lost(&sb, 0, MSS));
    assert_false(oasis_sb_is_lost(&sb, 4000, MSS));
    assert_int_equal(oasis_sb_pipe(&sb, 0, 10000, 0, MSS), 6 * MSS);
    /* once the lost segment is resent it is in the pipe again */
    assert_int_equal(oasis_sb_pipe(&sb, 0, 10000, 1000, MSS), 7 * MSS);
    /* three discontiguous SACKed ranges also mean lost */
    int spread[] = {2, 5, 8};
    sb_ten(&sb, spread, 3);
    assert_true(oasis_sb_is_lost(&sb, 0, 4 * MSS));
    assert_false(oasis_sb_is_lost(&sb, 3000, 4 * MSS));
}

/* The list keeps OASIS_SACK_SB_MAX ranges; RACK's records keep every
 * SACKed segment. Forty segments, every odd one SACKed: the list holds
 * 1..31 and forgets 33..39, so the hole above its last range (32..39)
 * is read through the records: SetPipe leaves the SACKed segments there
 * out, NextSeg and the rescue skip them (RFC 6675 2, 4; RFC 2018 5). */
static void test_sb_forgotten_ranges_read_through_records(void **state)
{
    (void)state;
    static oasis_sack_sb sb;
    memset(&sb, 0, sizeof sb);
    for (uint32_t i = 1; i < 40; i += 2)
        upd(&sb, 0, 40 * MSS, i * MSS, (i + 1) * MSS);
    assert_int_equal(sb.n, OASIS_SACK_SB_MAX);
    assert_true(sb.forgot);
    assert_int_equal(sb.forgot_from, 33 * MSS);
    static oasis_rack_seg segs[64];
    for (uint32_t i = 0; i < 40; i++) {
        segs[i].seq = i * MSS;
        segs[i].end = (i + 1) * MSS;
        segs[i].flags = i % 2 ? OASIS_RACK_SACKED : 0;
    }
    sb.rack.segs = segs;
    sb.rack.cap = 64;
    sb.rack.n = 40;
    /* Lost by DupThresh: the holes 0..26; 28 and 30 in flight; above 31,
     * 32, 34, 36 and 38 (33..39 SACKed, not in flight). */
    assert_int_equal(oasis_sb_pipe(&sb, 0, 40 * MSS, 0, MSS), 6 * MSS);
    /* HighRxt at 36: the fourteen lost holes resent count once, 28, 30,
     * 32 and 34 twice, 36 and 38 once; 33 and 35 not at all */
    assert_int_equal(oasis_sb_pipe(&sb, 0, 40 * MSS, 36 * MSS, MSS), 24 * MSS);
    /* RACK: every unSACKed byte below 39 lost */
    sb.rack.lost_valid = 1;
    sb.rack.lost_below = 39 * MSS;
    uint32_t seq, len;
    assert_true(oasis_sb_next_seg(&sb, 0, 40 * MSS, 33 * MSS, MSS, 0, &seq, &len));
    assert_int_equal(seq, 34 * MSS);
    assert_int_equal(len, MSS);
    assert_true(oasis_sb_rescue(&sb, 0, 40 * MSS, MSS, &seq, &len));
    assert_int_equal(seq, 38 * MSS); /* not 39, SACKed */
    assert_int_equal(len, MSS);
    /* everything acknowledged: nothing left forgotten */
    upd(&sb, 40 * MSS, 40 * MSS, 0, 0);
    assert_false(sb.forgot);
}

/* Where the DupThresh losses end (RFC 9937's SafeACK asks whether an ACK
 * moved it): the start of the SACKed range above the highest hole IsLost
 * holds for; una when none. */
static void test_sb_dupthresh_end(void **state)
{
    (void)state;
    oasis_sack_sb sb;
    int two[] = {1, 2};
    sb_ten(&sb, two, 2);
    assert_int_equal(oasis_sb_dupthresh_end(&sb, 0, MSS), 0);
    int spread[] = {2, 5, 8};
    sb_ten(&sb, spread, 3);
    /* hole 0-1 has three ranges above, 3-4 two (2 MSS: not more) */
    assert_int_equal(oasis_sb_dupthresh_end(&sb, 0, MSS), 2000);
    int more[] = {2, 5, 6, 8};
    sb_ten(&sb, more, 4);
    assert_int_equal(oasis_sb_dupthresh_end(&sb, 0, MSS), 5000);
    /* una past the lost holes: nothing lost below it counts */
    assert_int_equal(oasis_sb_dupthresh_end(&sb, 7000, MSS), 7000);
}

static void test_sb_next_seg(void **state)
{
    (void)state;
    oasis_sack_sb sb;
    int s[] = {1, 3, 4, 5};
    sb_ten(&sb, s, 4);
    uint32_t seq, len;
    assert_true(oasis_sb_next_seg(&sb, 0, 10000, 0, MSS, 0, &seq, &len));
    assert_int_equal(seq, 0);
    assert_int_equal(len, MSS);
    assert_true(oasis_sb_next_seg(&sb, 0, 10000, 1000, MSS, 0, &seq, &len));
    assert_int_equal(seq, 2000); /* 3 SACKed above segment 2 */
    /* nothing else is lost; rule 3 would only resend below the highest SACK */
    assert_false(oasis_sb_next_seg(&sb, 0, 10000, 3000, MSS, 0, &seq, &len));
    assert_false(oasis_sb_next_seg(&sb, 0, 10000, 3000, MSS, 1, &seq, &len));
    assert_true(oasis_sb_next_seg(&sb, 0, 10000, 1000, 500, 0, &seq, &len));
    assert_int_equal(seq, 2000);
    assert_int_equal(len, 500);
}

/* ---- on the flow (harness) ------------------------------------------------- */

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

/* Handshake with MSS 1000 and SACK, no timestamps: data segments carry
 * exactly MSS bytes. */
static void estab_sack(fx *x)
{
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    syn.has_mss = 1;
    syn.mss = MSS;
    syn.sack_permitted = 1;
    x->iss = th_open_passive(&x->h, &x->a, PORT, &syn);
    x->pnxt = TH_PISN + 1;
}

static void ack_with(fx *x, uint32_t ack, const oasis_sack_block *b, uint8_t nb)
{
    oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, A, x->pnxt, ack);
    s.sack_count = nb;
    if (nb)
        memcpy(s.sack, b, nb * sizeof *b);
    th_inject(&x->h, &s);
}

static void data(fx *x, uint32_t seq, const char *p)
{
    oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, A, seq, x->iss + 1);
    s.payload = (const uint8_t *)p;
    s.payload_len = strlen(p);
    th_inject(&x->h, &s);
}

/* Segment i of our stream. */
static uint32_t sg(const fx *x, uint32_t i) { return x->iss + 1 + i * MSS; }

static void send_ten(fx *x)
{
    static uint8_t big[10 * MSS];
    assert_int_equal(oasis_tcp_write(x->a.flow, big, sizeof big, NULL, NULL), 0);
    oasis_tcp_hdr r;
    int n = 0;
    while (th_pop(&x->h, &r))
        n++;
    assert_int_equal(n, 10); /* IW10 */
}

static void test_sack_recovery_resends_holes(void **state)
{
    fx *x = *state;
    estab_sack(x);
    assert_int_equal(oasis_tcp_ext_get(x->a.flow), 0); /* pinned: the test reads its internals */
    send_ten(x);
    oasis_tcp_hdr r;
    /* segments 0 and 4 lost: SACKs for 1, 2 */
    oasis_sack_block b = {sg(x, 1), sg(x, 2)};
    ack_with(x, sg(x, 0), &b, 1);
    b.right = sg(x, 3);
    ack_with(x, sg(x, 0), &b, 1);
    assert_false(th_pop(&x->h, &r));
    /* third SACK: 3 MSS above segment 0, it is lost (IsLost) */
    b.right = sg(x, 4);
    ack_with(x, sg(x, 0), &b, 1);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, sg(x, 0));
    assert_int_equal(r.payload_len, MSS);
    assert_int_equal(th_ctr(&x->h)->fast_retrans, 1);
    assert_true(oasis_recovery_fast(x->a.flow));
    /* more SACKs above the second hole: segment 4 becomes lost and goes
     * before any new data */
    oasis_sack_block two[2] = {{sg(x, 5), sg(x, 8)}, {sg(x, 1), sg(x, 4)}};
    ack_with(x, sg(x, 0), two, 2);
    int saw4 = 0;
    while (th_pop(&x->h, &r))
        if (r.seq == sg(x, 4))
            saw4 = 1;
    assert_true(saw4);
    /* reneging-safe: the send buffer still holds every unacked byte */
    assert_int_equal(x->a.flow->ext->snd.len, 10 * MSS);
    /* cumulative ACK beyond RecoveryPoint ends recovery */
    ack_with(x, sg(x, 10), NULL, 0);
    assert_false(oasis_recovery_fast(x->a.flow));
    assert_int_equal(x->a.flow->ext->snd.len, 0);
    assert_true(x->a.flow->ext->cc.cwnd <= x->a.flow->ext->cc.ssthresh);
}

/* The peer reneges: it stops reporting what it SACKed. Nothing breaks
 * (RFC 2018 8: no byte leaves the send buffer before the cumulative ACK).
 * The RTO resends from snd_una and keeps the scoreboard (RFC 6675 5.1);
 * the cumulative ACK that stops at the once-SACKed segment shows the
 * reneging: the scoreboard goes and that segment is resent too. */
static void test_sack_reneging_then_rto(void **state)
{
    fx *x = *state;
    estab_sack(x);
    send_ten(x);
    oasis_sack_block b = {sg(x, 1), sg(x, 3)};
    ack_with(x, sg(x, 0), &b, 1);
    ack_with(x, sg(x, 0), NULL, 0);
    assert_int_equal(x->a.flow->ext->snd.len, 10 * MSS);
    th_clear(&x->h);
    th_advance(&x->h, 5 * OASIS_NS_PER_SEC);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, sg(x, 9)); /* the tail loss probe comes first */
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, sg(x, 0)); /* then the RTO, from snd_una */
    assert_int_equal(x->a.flow->ext->sb.n, 1); /* kept across the RTO */
    /* the ACK stops at segment 1, SACKed before: reneging; the once-SACKed
     * segment 1 is resent too, as the window opens */
    ack_with(x, sg(x, 1), NULL, 0);
    assert_int_equal(x->a.flow->ext->sb.n, 0);
    int saw1 = 0;
    while (th_pop(&x->h, &r))
        if (r.seq == sg(x, 1))
            saw1 = 1;
    assert_true(saw1);
}

/* Runs the timers until the first retransmission timeout. */
static void until_rto(fx *x)
{
    while (th_ctr(&x->h)->timeouts == 0) {
        th_clear(&x->h);
        th_run_until(&x->h, oasis_stack_next_deadline(x->h.s));
    }
}

/* RFC 2018 5 / RFC 6675 5.1: the scoreboard survives the timeout and the
 * go-back-N of RTO recovery skips what the receiver SACKed. Before, it
 * resent segments 5 and 6 once slow start reached them: a third of the
 * window, in the rounds after a timeout. */
static void test_rto_recovery_skips_sacked(void **state)
{
    fx *x = *state;
    estab_sack(x);
    assert_int_equal(oasis_tcp_ext_get(x->a.flow), 0); /* pinned: the test reads its internals */
    send_ten(x);
    oasis_sack_block b = {sg(x, 5), sg(x, 7)}; /* 0-4 and 7-9 lost */
    ack_with(x, sg(x, 0), &b, 1);
    until_rto(x);
    assert_int_equal(x->a.flow->ext->sb.n, 1);
    /* The receiver ACKs every segment as it comes, lossless from now on. */
    uint8_t have[10] = {0};
    have[5] = have[6] = 1;
    oasis_tcp_hdr r;
    for (int round = 0; round < 20 && x->a.flow->snd_una != sg(x, 10); round++) {
        uint32_t seqs[16], n = 0;
        while (th_pop(&x->h, &r))
            if (r.payload_len && n < 16)
                seqs[n++] = r.seq;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t i = (seqs[k] - sg(x, 0)) / MSS;
            assert_true(i < 5 || i > 6); /* never what was SACKed */
            have[i] = 1;
            uint32_t ack = 0;
            while (ack < 10 && have[ack])
                ack++;
            ack_with(x, sg(x, ack), &b, ack < 5 ? 1 : 0);
        }
    }
    assert_int_equal(x->a.flow->snd_una, sg(x, 10));
}

/* RFC 8985 2.2, 6.2: in RTO recovery RACK finds a retransmission lost
 * (one sent after it was SACKed) and it goes again at once. Before, RTO
 * recovery ignored every ACK until snd_una reached the recovery point:
 * the lost retransmission waited for the next, backed-off timeout. */
static void test_rto_recovery_resends_lost_retransmission(void **state)
{
    fx *x = *state;
    estab_sack(x);
    assert_int_equal(oasis_tcp_ext_get(x->a.flow), 0);
    send_ten(x);
    until_rto(x);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, sg(x, 0)); /* the timeout resends the first */
    th_clear(&x->h);
    th_advance(&x->h, 10 * OASIS_NS_PER_MS);
    ack_with(x, sg(x, 1), NULL, 0);
    int n = 0;
    while (th_pop(&x->h, &r)) {
        assert_int_equal(r.seq, sg(x, 1 + (uint32_t)n)); /* slow start: 1, 2 */
        n++;
    }
    assert_int_equal(n, 2);
    /* Segment 1 is lost again; 2 arrives and is SACKed. */
    th_advance(&x->h, 10 * OASIS_NS_PER_MS);
    uint64_t before = th_ctr(&x->h)->timeouts;
    oasis_sack_block b = {sg(x, 2), sg(x, 3)};
    ack_with(x, sg(x, 1), &b, 1);
    int saw1 = 0;
    while (th_pop(&x->h, &r))
        if (r.seq == sg(x, 1))
            saw1 = 1;
    assert_true(saw1); /* at once, no timeout between */
    assert_int_equal(th_ctr(&x->h)->timeouts, before);
    ack_with(x, sg(x, 3), NULL, 0);
    assert_int_equal(x->a.flow->snd_una, sg(x, 3));
}

/* RFC 8985 6.3: at the timeout RACK marks lost the first unacknowledged
 * segment and those sent RACK.rtt + reo_wnd ago or more; one sent since
 * may still arrive and is not resent. Here segment 10 goes 40 ms before
 * the RTO (RACK.rtt 100 ms); the ACK after the timeout shows 1-9 arrived
 * (their ACKs were lost): segment 10 is still in flight and stays so.
 * Before, the RTO went back to snd_una and that ACK resent segment 10. */
static void test_rto_resends_only_what_rack_deems_lost(void **state)
{
    fx *x = *state;
    estab_sack(x);
    oasis_flow *f = x->a.flow;
    assert_int_equal(oasis_tcp_ext_get(f), 0); /* pinned: the test reads its internals */
    send_ten(x);
    th_advance(&x->h, 100 * OASIS_NS_PER_MS);
    ack_with(x, sg(x, 1), NULL, 0); /* segment 0 delivered: RACK.rtt 100 ms */
    assert_int_equal(f->ext->sb.rack.rtt_ns, 100 * OASIS_NS_PER_MS);
    while (f->ext->tm.tlp != OASIS_TCP_NEVER) /* the tail loss probe, if any, first */
        th_run_until(&x->h, f->ext->tm.tlp);
    assert_true(f->ext->tm.rexmt != OASIS_TCP_NEVER);
    th_run_until(&x->h, f->ext->tm.rexmt - 40 * OASIS_NS_PER_MS);
    assert_int_equal(th_ctr(&x->h)->timeouts, 0);
    th_clear(&x->h);
    static uint8_t one[MSS];
    assert_int_equal(oasis_tcp_write(f, one, sizeof one, NULL, NULL), 0);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, sg(x, 10));
    until_rto(x);
    int n = 0;
    while (th_pop(&x->h, &r)) {
        assert_int_equal(r.seq, sg(x, 1)); /* the first unacknowledged segment, alone */
        n++;
    }
    assert_int_equal(n, 1);
    assert_int_equal(f->snd_nxt, f->snd_max); /* no go-back-N */
    th_advance(&x->h, 5 * OASIS_NS_PER_MS);
    ack_with(x, sg(x, 10), NULL, 0);
    while (th_pop(&x->h, &r))
        assert_true(r.seq != sg(x, 10)); /* still in flight: not resent */
    ack_with(x, sg(x, 11), NULL, 0);
    assert_int_equal(f->snd_una, sg(x, 11));
    assert_int_equal(th_ctr(&x->h)->timeouts, 1);
}

/* An open flow with segments 30..69 out (slow start: 40 after 30 ACKs),
 * nothing SACKed yet; pinned, as the tests read its internals. */
static oasis_flow *forty_out(fx *x)
{
    estab_sack(x);
    oasis_flow *f = x->a.flow;
    assert_int_equal(oasis_tcp_ext_get(f), 0);
    static uint8_t big[70 * MSS];
    assert_int_equal(oasis_tcp_write(f, big, sizeof big, NULL, NULL), 0);
    th_clear(&x->h);
    for (uint32_t i = 1; i <= 30; i++)
        ack_with(x, sg(x, i), NULL, 0);
    th_clear(&x->h);
    assert_int_equal(f->snd_max - f->snd_una, 40 * MSS);
    return f;
}

/* More ranges SACKed than the scoreboard keeps (OASIS_SACK_SB_MAX: it
 * forgets the highest): after the timeout (RFC 8985 6.3: the holes marked
 * lost, snd_nxt at snd_max) RTO recovery's window must still count what
 * RACK's records know the peer has, or the flight looks full and nothing
 * but the head goes until the next, backed-off timeout: simulator seed
 * 105446317 moved 536 bytes a minute so. Forty segments out (30..69),
 * every other one SACKed: twenty ranges. */
static void test_rto_window_counts_sacks_the_scoreboard_forgot(void **state)
{
    fx *x = *state;
    oasis_flow *f = forty_out(x);
    for (uint32_t i = 31; i < 70; i += 2) {
        oasis_sack_block b = {sg(x, i), sg(x, i + 1)};
        ack_with(x, sg(x, 30), &b, 1);
    }
    assert_int_equal(f->ext->sb.n, OASIS_SACK_SB_MAX);
    assert_int_equal(f->ext->sb.rack.segs_sacked, 20);
    until_rto(x);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, sg(x, 30));
    assert_false(th_pop(&x->h, &r));
    assert_int_equal(f->snd_nxt, f->snd_max); /* RFC 8985 6.3, no go-back-N */
    /* 30 arrives; 31 was SACKed: the ACK is for 32 */
    ack_with(x, sg(x, 32), NULL, 0);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, sg(x, 32)); /* the next hole, at once */
    assert_int_equal(th_ctr(&x->h)->timeouts, 1);
}

/* Fast recovery with more ranges SACKed than the scoreboard keeps: the
 * highest (63, 65, 67, 69 here) are forgotten by it, not by RACK's
 * records. Each is delivered data to PRR when it is SACKed (RFC 9937),
 * not when the cumulative ACK passes it. RFC 6675 NextSeg rule 1 picks
 * the smallest unSACKed byte, and RFC 2018 5 skips SACKed data in
 * retransmissions: the holes 64, 66 and 68 go again, never the forgotten
 * ranges between them (which the top hole, taken as lost up to RACK's
 * lost_below, spanned; later a range reported again above them). Forty
 * segments out (30..69), every other one SACKed; then the receiver takes
 * each retransmission and ACKs cumulatively, SACKing 69 again. */
static void test_sack_recovery_skips_sacks_the_scoreboard_forgot(void **state)
{
    fx *x = *state;
    oasis_flow *f = forty_out(x);
    uint8_t have[70] = {0}, resent[70] = {0};
    oasis_tcp_hdr r;
    for (uint32_t i = 31; i < 70; i += 2) {
        have[i] = 1;
        oasis_sack_block b = {sg(x, i), sg(x, i + 1)};
        uint32_t before = f->ext->rec.prr_delivered;
        ack_with(x, sg(x, 30), &b, 1);
        if (i > 61) /* RFC 9937 DeliveredData: a range the list forgot is delivered too */
            assert_int_equal(f->ext->rec.prr_delivered - before, MSS);
        while (th_pop(&x->h, &r))
            if (r.payload_len && oasis_seq_lt(r.seq, sg(x, 70)))
                resent[(r.seq - sg(x, 0)) / MSS] = 1;
    }
    assert_int_equal(f->ext->sb.n, OASIS_SACK_SB_MAX);
    assert_true(oasis_recovery_fast(f));
    for (int step = 0; step < 200 && oasis_seq_lt(f->snd_una, sg(x, 70)); step++) {
        for (uint32_t i = 30; i < 70; i++)
            if (resent[i])
                have[i] = 1;
        uint32_t cum = 30;
        while (cum < 70 && have[cum])
            cum++;
        oasis_sack_block b = {sg(x, 69), sg(x, 70)};
        ack_with(x, sg(x, cum), cum < 69 ? &b : NULL, cum < 69);
        while (th_pop(&x->h, &r))
            if (r.payload_len && oasis_seq_lt(r.seq, sg(x, 70)))
                resent[(r.seq - sg(x, 0)) / MSS] = 1;
        if (cum == 70)
            break;
    }
    assert_int_equal(f->snd_una, sg(x, 70));
    for (uint32_t i = 30; i < 70; i++)
        assert_int_equal(resent[i], i % 2 == 0); /* the holes, and nothing SACKed */
    assert_int_equal(th_ctr(&x->h)->timeouts, 0);
}

/* Garbage SACK blocks (wild, reversed, beyond snd_max, below snd_una,
 * wrapping): the scoreboard stays sorted, inside (snd_una, snd_max] and
 * bounded, and no byte leaves the send buffer without a cumulative ACK. */
static void test_sack_hostile_blocks(void **state)
{
    fx *x = *state;
    estab_sack(x);
    send_ten(x);
    oasis_flow *f = x->a.flow;
    uint64_t rng = 0x1234567;
    for (int i = 0; i < 3000; i++) {
        oasis_sack_block b[4];
        uint8_t nb = (uint8_t)(1 + i % 4);
        for (int k = 0; k < nb; k++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            uint32_t base = (i & 1) ? sg(x, 0) : (uint32_t)(rng >> 32);
            b[k].left = base + (uint32_t)(rng >> 20) % (12 * MSS) - MSS;
            b[k].right = b[k].left + (uint32_t)(rng >> 8) % (3 * MSS) - 200;
        }
        ack_with(x, sg(x, 0), b, nb);
        th_clear(&x->h);
        assert_true(f->ext->sb.n <= OASIS_SACK_SB_MAX);
        for (uint32_t k = 0; k < f->ext->sb.n; k++) {
            assert_true((int32_t)(f->ext->sb.r[k].left - f->snd_una) >= 0);
            assert_true((int32_t)(f->ext->sb.r[k].right - f->snd_max) <= 0);
            assert_true((int32_t)(f->ext->sb.r[k].right - f->ext->sb.r[k].left) > 0);
            if (k)
                assert_true((int32_t)(f->ext->sb.r[k].left - f->ext->sb.r[k - 1].right) > 0);
        }
        assert_int_equal(f->snd_una, sg(x, 0));
        assert_int_equal(f->snd_acked, 0);
    }
    /* the real cumulative ACK still completes the transfer */
    ack_with(x, sg(x, 10), NULL, 0);
    assert_int_equal(f->snd_acked, 10 * MSS);
}

/* ---- D-SACK (receive side) -------------------------------------------------- */

static void test_dsack_below_rcv_nxt(void **state)
{
    fx *x = *state;
    estab_sack(x);
    data(x, x->pnxt, "hello");
    th_poll(&x->h);
    th_clear(&x->h);
    data(x, x->pnxt, "hello"); /* again: the peer missed our ACK */
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.ack, x->pnxt + 5);
    assert_int_equal(r.sack_count, 1);
    assert_int_equal(r.sack[0].left, x->pnxt);
    assert_int_equal(r.sack[0].right, x->pnxt + 5);
    /* reported once */
    data(x, x->pnxt + 5, "w");
    th_advance(&x->h, OASIS_NS_PER_SEC);
    while (th_pop(&x->h, &r))
        assert_int_equal(r.sack_count, 0);
}

static void test_dsack_inside_ofo_range(void **state)
{
    fx *x = *state;
    estab_sack(x);
    data(x, x->pnxt + 10, "0123456789"); /* a hole of 10 first */
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.sack_count, 1);
    data(x, x->pnxt + 12, "2345");
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.ack, x->pnxt);
    assert_int_equal(r.sack_count, 2);
    assert_int_equal(r.sack[0].left, x->pnxt + 12);
    assert_int_equal(r.sack[0].right, x->pnxt + 16);
    assert_int_equal(r.sack[1].left, x->pnxt + 10);
    assert_int_equal(r.sack[1].right, x->pnxt + 20);
    /* partly held: the held part is the duplicate */
    data(x, x->pnxt + 15, "5678901234");
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.ack, x->pnxt);
    assert_int_equal(r.sack_count, 2);
    assert_int_equal(r.sack[0].left, x->pnxt + 15);
    assert_int_equal(r.sack[0].right, x->pnxt + 20);
    assert_int_equal(r.sack[1].left, x->pnxt + 10);
    assert_int_equal(r.sack[1].right, x->pnxt + 25);
}

/* Linux's packetdrill tcp_dsack_mult, in 10-byte units: SACK blocks for
 * three out-of-order ranges, most recent first (RFC 2018 4); a segment
 * that fills the hole and repeats two of them: the ACK reports the first
 * repeated range as a D-SACK (RFC 2883: "the first block of the SACK
 * option field can be used to report the sequence numbers of the packet
 * that triggered the acknowledgement"), then the range
 * still above; a repeat of data below RCV.NXT is a D-SACK alone, and so
 * is the old part of a segment that brings new data too. */
static void dsack_data(fx *x, uint32_t from, uint32_t to)
{
    static const char fill[] = "0123456789012345678901234567890123456789012345678901234567890123456789"
                               "0123456789";
    oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, A, x->pnxt + from * 10, x->iss + 1);
    s.payload = (const uint8_t *)fill;
    s.payload_len = (to - from) * 10;
    th_inject(&x->h, &s);
}

static void expect_sack(fx *x, uint32_t ack, int n, const uint32_t *b)
{
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    th_clear(&x->h);
    assert_int_equal(r.ack, x->pnxt + ack * 10);
    assert_int_equal(r.sack_count, n);
    for (int i = 0; i < n; i++) {
        assert_int_equal(r.sack[i].left, x->pnxt + b[2 * i] * 10);
        assert_int_equal(r.sack[i].right, x->pnxt + b[2 * i + 1] * 10);
    }
}

static void test_dsack_multiple_ranges(void **state)
{
    fx *x = *state;
    estab_sack(x);
    dsack_data(x, 1, 2);
    expect_sack(x, 0, 1, (uint32_t[]){1, 2});
    dsack_data(x, 2, 3);
    expect_sack(x, 0, 1, (uint32_t[]){1, 3});
    dsack_data(x, 4, 5);
    expect_sack(x, 0, 2, (uint32_t[]){4, 5, 1, 3});
    dsack_data(x, 7, 8);
    expect_sack(x, 0, 3, (uint32_t[]){7, 8, 4, 5, 1, 3});
    dsack_data(x, 0, 6);
    expect_sack(x, 6, 2, (uint32_t[]){1, 3, 7, 8});
    dsack_data(x, 6, 8);
    expect_sack(x, 8, 1, (uint32_t[]){7, 8});
    dsack_data(x, 0, 1);
    expect_sack(x, 8, 1, (uint32_t[]){0, 1});
    /* partly old: its old part is the duplicate */
    dsack_data(x, 7, 9);
    expect_sack(x, 9, 1, (uint32_t[]){7, 8});
}

/* ---- per-flow congestion control ------------------------------------------- */

static void test_set_cc_before_data_only(void **state)
{
    fx *x = *state;
    estab_sack(x);
    oasis_flow *f = x->a.flow;
    assert_int_equal(oasis_tcp_ext_get(f), 0); /* pinned: the test reads its internals */
    assert_ptr_equal(f->ext->ccops, &oasis_cc_newreno);
    assert_int_equal(oasis_tcp_set_cc(f, OASIS_CC_CUBIC), 0);
    assert_ptr_equal(f->ext->ccops, oasis_cc_get(OASIS_CC_CUBIC));
    assert_int_equal(f->ext->cc.cwnd, 10 * MSS); /* its initial window */
    assert_int_equal(oasis_tcp_set_cc(f, (oasis_cc_algo)42), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_cc(NULL, OASIS_CC_CUBIC), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_write(f, "x", 1, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_set_cc(f, OASIS_CC_NEWRENO), OASIS_EINVAL);
    assert_ptr_equal(f->ext->ccops, oasis_cc_get(OASIS_CC_CUBIC));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sb_merges_overlapping_blocks),
        cmocka_unit_test(test_sb_ignores_bad_blocks),
        cmocka_unit_test(test_is_dsack),
        cmocka_unit_test(test_sb_is_bounded_and_wraps),
        cmocka_unit_test(test_sb_is_lost_and_pipe),
        cmocka_unit_test(test_sb_dupthresh_end),
        cmocka_unit_test(test_sb_forgotten_ranges_read_through_records),
        cmocka_unit_test(test_sb_next_seg),
        cmocka_unit_test_setup_teardown(test_sack_recovery_resends_holes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sack_reneging_then_rto, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rto_recovery_skips_sacked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sack_recovery_skips_sacks_the_scoreboard_forgot, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rto_recovery_resends_lost_retransmission, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rto_resends_only_what_rack_deems_lost, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rto_window_counts_sacks_the_scoreboard_forgot, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sack_hostile_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dsack_below_rcv_nxt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dsack_multiple_ranges, setup, teardown),
    cmocka_unit_test_setup_teardown(test_dsack_inside_ofo_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_cc_before_data_only, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
