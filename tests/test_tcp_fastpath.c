/* Header prediction (tcp_input.c): the fast path is taken for in-order
 * data and for ACKs of new data on an established flow (TCPHPHits,
 * TCPHPAcks move), every condition that needs the full RFC 9293 3.10.7.4
 * processing takes the slow path with its usual result, and a scripted
 * exchange (data both ways, window changes, out-of-order data, SACK loss
 * recovery, PAWS, delayed ACKs, FIN) sends exactly the same segments and
 * counts the same with the fast path on and off. Hand-built segments
 * against one stack, virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/stack_impl.h"
#include "ip/ipv4_wire.h"
#include "link/eth_wire.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_seq.h"
#include "tcp_harness.h"

#define PORT 80
#define A OASIS_TCP_ACK
#define S OASIS_TCP_SYN
#define F OASIS_TCP_FIN
#define R OASIS_TCP_RST
#define P OASIS_TCP_PSH
#define U OASIS_TCP_URG
#define MS (1000ull * 1000ull)

typedef struct fx {
    tcp_harness h;
    th_app a;
    uint32_t iss;   /* our ISS */
    uint32_t pnxt;  /* the peer's next sequence number */
    uint32_t pts;   /* the peer's next TSval */
    uint32_t ecr;   /* the TSval the peer echoes (our last) */
    int ts, sack;   /* options the peer offered */
} fx;

static uint8_t g_data[8192];

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    th_init(&x->h, NULL);
    th_app_init(&x->a);
    for (size_t i = 0; i < sizeof g_data; i++)
        g_data[i] = (uint8_t)(i * 7 + 1);
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

/* Passive open; ts/sack: the peer offers timestamps / SACK (window scale 7
 * always). The application reads everything as it comes. */
static void open_flow(fx *x, int ts, int sack)
{
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    syn.has_mss = 1;
    syn.mss = 1460;
    syn.has_wscale = 1;
    syn.wscale = 7;
    syn.sack_permitted = (uint8_t)sack;
    syn.has_ts = (uint8_t)ts;
    syn.ts_val = 100;
    x->ts = ts;
    x->sack = sack;
    x->iss = th_open_passive(&x->h, &x->a, PORT, &syn);
    x->pnxt = TH_PISN + 1;
    x->pts = 102;
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    th_poll(&x->h);
    th_clear(&x->h);
    x->ecr = ts ? oasis_tcp_ts_now(x->a.flow) : 0; /* our last TSval, about */
}

/* A segment from the peer at its next sequence number with its next
 * timestamp, acknowledging ack, window 65535 (as in the handshake). */
static oasis_tcp_hdr peer_seg(fx *x, uint8_t flags, uint32_t ack, size_t len)
{
    oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, flags, x->pnxt, ack);
    if (x->ts) {
        s.has_ts = 1;
        s.ts_val = x->pts++;
        s.ts_ecr = x->ecr;
    }
    s.payload = g_data + (x->pnxt - TH_PISN - 1) % 4096;
    s.payload_len = len;
    return s;
}

static void send_data(fx *x, size_t len)
{
    oasis_tcp_hdr s = peer_seg(x, A | P, x->a.flow->snd_max, len);
    x->pnxt += (uint32_t)len;
    th_inject(&x->h, &s);
}

static void send_ack(fx *x, uint32_t ack)
{
    oasis_tcp_hdr s = peer_seg(x, A, ack, 0);
    th_inject(&x->h, &s);
}

static void app_write(fx *x, size_t n)
{
    assert_int_equal(oasis_tcp_write(x->a.flow, g_data, n, NULL, NULL), 0);
    th_poll(&x->h);
}

/* Pops everything the stack sent; returns the segment count and leaves
 * the last one in *last (if any). */
static int pop_all(fx *x, oasis_tcp_hdr *last)
{
    int n = 0;
    oasis_tcp_hdr r;
    while (th_pop(&x->h, &r)) {
        if (r.has_ts)
            x->ecr = r.ts_val;
        if (last)
            *last = r;
        n++;
    }
    return n;
}

static uint64_t hits(fx *x) { return th_ctr(&x->h)->hp_hits; }
static uint64_t acks(fx *x) { return th_ctr(&x->h)->hp_acks; }

/* ---- the fast path is taken ------------------------------------------------- */

/* In-order data: delivered, the ACK delayed (RFC 9293 3.8.6.3) and then
 * sent for the second full-sized segment, on the fast path. */
static void test_in_order_data_is_predicted(void **state)
{
    fx *x = *state;
    open_flow(x, 0, 1);
    uint64_t h0 = hits(x);
    send_data(x, 1460);
    th_poll(&x->h);
    assert_int_equal(hits(x), h0 + 1);
    assert_int_equal(x->a.rx_len, 1460);
    assert_memory_equal(x->a.rx, g_data, 1460);
    assert_int_equal(th_pending(&x->h), 0); /* delayed */
    assert_int_not_equal(x->a.flow->ext->tm.delack, OASIS_TCP_NEVER);
    send_data(x, 1460);
    th_poll(&x->h);
    assert_int_equal(hits(x), h0 + 2);
    oasis_tcp_hdr r;
    assert_int_equal(pop_all(x, &r), 1);
    assert_int_equal(r.flags, A);
    assert_int_equal(r.ack, x->pnxt);
    assert_int_equal(x->a.rx_len, 2 * 1460);
}

/* With timestamps: TS.Recent follows predicted segments as RFC 7323 4.3
 * says (only a segment covering Last.ACK.sent updates it). */
static void test_predicted_segments_update_ts_recent(void **state)
{
    fx *x = *state;
    open_flow(x, 1, 1);
    uint64_t h0 = hits(x);
    send_data(x, 100); /* starts at Last.ACK.sent: taken */
    assert_int_equal(x->a.flow->ts_recent, x->pts - 1);
    send_data(x, 100); /* past it (the first is not ACKed yet): not taken */
    assert_int_equal(hits(x), h0 + 2);
    assert_int_equal(x->a.flow->ts_recent, x->pts - 2);
}

/* An ACK of everything sent: snd_una moves, the send buffer is freed, the
 * retransmission timer stops (RFC 6298 5.2), on the fast path. */
static void test_ack_of_all_is_predicted(void **state)
{
    fx *x = *state;
    open_flow(x, 1, 1);
    app_write(x, 1000);
    assert_int_equal(pop_all(x, NULL), 1);
    oasis_flow *f = x->a.flow;
    assert_int_not_equal(f->ext->tm.rexmt, OASIS_TCP_NEVER);
    uint64_t a0 = acks(x);
    th_advance(&x->h, 5 * MS);
    send_ack(x, f->snd_max);
    assert_int_equal(acks(x), a0 + 1);
    assert_int_equal(f->snd_una, f->snd_max);
    assert_int_equal(f->ext ? f->ext->snd.len : 0, 0);
    if (f->ext)
        assert_int_equal(f->ext->tm.rexmt, OASIS_TCP_NEVER);
    assert_int_equal(th_pending(&x->h), 0);
}

/* A partial ACK (bulk): predicted too, the RTO restarted for the rest. */
static void test_partial_ack_is_predicted(void **state)
{
    fx *x = *state;
    open_flow(x, 0, 0);
    app_write(x, 4000);
    assert_true(pop_all(x, NULL) >= 1);
    oasis_flow *f = x->a.flow;
    uint64_t a0 = acks(x);
    send_ack(x, f->snd_una + 1448);
    assert_int_equal(acks(x), a0 + 1);
    assert_int_equal(f->snd_una, x->iss + 1 + 1448);
    assert_int_not_equal(f->ext->tm.rexmt, OASIS_TCP_NEVER);
}

/* Data that rides on an unchanged ACK (nothing of ours outstanding). */
static void test_data_without_new_ack_is_predicted(void **state)
{
    fx *x = *state;
    open_flow(x, 0, 0);
    uint64_t h0 = hits(x);
    send_data(x, 10);
    send_data(x, 10);
    assert_int_equal(hits(x), h0 + 2);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 20);
}

/* The flow timer runs no later than any armed deadline (tcp_timer.c's
 * invariant: the fast path arms through oasis_tcp_timer_by and updates
 * nothing after). */
static void timer_in_force(const oasis_flow *f)
{
    const oasis_tcp_deadlines *t = &f->ext->tm;
    uint64_t d[] = {t->rexmt, t->tlp, t->persist, t->keep, t->fin_wait2, t->delack, t->reorder,
                    t->tune, t->cc_keep};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        if (d[i] == OASIS_TCP_NEVER)
            continue;
        assert_true(oasis_timer_active(&f->ext->timer));
        assert_true(f->ext->timer.deadline <= d[i]);
    }
}

/* Request/response on the fast path with keepalive on: after every
 * exchange the timer is in force, and the keepalive probe goes exactly
 * after_ns after the last segment the fast path took, not before. */
static void test_fast_path_timer_in_force(void **state)
{
    fx *x = *state;
    open_flow(x, 1, 1);
    oasis_flow *f = x->a.flow;
    oasis_keepalive ka = {.after_ns = 2000 * MS, .interval_ns = 500 * MS, .probes = 3};
    assert_int_equal(oasis_tcp_set_keepalive(f, &ka), 0);
    uint64_t h0 = hits(x);
    for (int i = 0; i < 20; i++) {
        app_write(x, 10); /* our request: RTO and PTO armed */
        assert_int_equal(pop_all(x, NULL), 1);
        timer_in_force(f);
        th_advance(&x->h, 3 * MS);
        send_data(x, 5); /* the answer, acking it: keepalive, delayed ACK */
        timer_in_force(f);
        th_advance(&x->h, 1 * MS);
        timer_in_force(f);
    }
    assert_int_equal(hits(x), h0 + 20);
    uint64_t last = th_now(&x->h) - 1 * MS;
    th_advance(&x->h, 500 * MS); /* the delayed ACK goes */
    assert_int_equal(pop_all(x, NULL), 1);
    th_run_until(&x->h, last + ka.after_ns - 1);
    assert_int_equal(th_pending(&x->h), 0);
    th_run_until(&x->h, last + ka.after_ns);
    oasis_tcp_hdr r;
    assert_int_equal(pop_all(x, &r), 1); /* the probe: SEG.SEQ = SND.NXT - 1 */
    assert_int_equal(r.seq, f->snd_nxt - 1);
}

/* ---- conditions that take the slow path ------------------------------------- */

/* Data behind a hole: the in-order segment that fills it is the slow
 * path's (merged with what was held, ACKed at once). */
static void test_out_of_order_held_takes_slow_path(void **state)
{
    fx *x = *state;
    open_flow(x, 1, 1);
    uint32_t hole = x->pnxt;
    x->pnxt += 100;
    send_data(x, 100); /* out of order */
    uint64_t h0 = hits(x);
    assert_int_equal(th_ctr(&x->h)->ofo_queued, 1);
    pop_all(x, NULL);
    x->pnxt = hole;
    send_data(x, 100); /* fills the hole */
    assert_int_equal(hits(x), h0);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 200);
    oasis_tcp_hdr r;
    assert_int_equal(pop_all(x, &r), 1);
    assert_int_equal(r.ack, hole + 200);
    assert_int_equal(r.sack_count, 0);
}

/* A segment that does not start at RCV.NXT is never predicted: one past
 * the window is unacceptable and its ACK field must not be processed
 * (RFC 9293 3.10.7.4 first check: "drop the segment"), an old one is
 * answered at once with a D-SACK (RFC 2883), one ahead is held. */
static void test_not_at_rcv_nxt_takes_slow_path(void **state)
{
    fx *x = *state;
    open_flow(x, 1, 1);
    app_write(x, 1000);
    pop_all(x, NULL);
    oasis_flow *f = x->a.flow;
    uint32_t una = f->snd_una, nxt = f->rcv_nxt;
    uint64_t h0 = hits(x), a0 = acks(x);
    /* beyond the window, acknowledging our data: dropped, ACK unused */
    uint32_t keep = x->pnxt;
    x->pnxt = f->rcv_nxt + (65535u << 7) + 1000000u;
    send_data(x, 10);
    assert_int_equal(f->snd_una, una);
    assert_int_equal(f->rcv_nxt, nxt);
    oasis_tcp_hdr r;
    assert_int_equal(pop_all(x, &r), 1);
    assert_int_equal(r.ack, nxt);
    /* ahead of RCV.NXT within the window: held, a duplicate ACK with SACK */
    x->pnxt = keep + 100;
    send_data(x, 10);
    assert_int_equal(th_ctr(&x->h)->ofo_queued, 1);
    assert_int_equal(pop_all(x, &r), 1);
    assert_int_equal(r.sack_count, 1);
    /* old data: answered at once with its D-SACK */
    x->pnxt = keep;
    send_data(x, 100); /* fills the hole */
    x->pnxt = keep;
    send_data(x, 50);
    assert_int_equal(pop_all(x, &r), 2);
    assert_int_equal(r.sack_count, 1);
    assert_int_equal(r.sack[0].left, keep);
    assert_int_equal(r.sack[0].right, keep + 50);
    assert_int_equal(hits(x) + acks(x), h0 + a0);
}

/* A D-SACK riding on an ACK of everything (the peer got a segment twice)
 * is RACK's news: the reordering window grows (RFC 8985 6.2), so the ACK
 * is not predicted. */
static void test_dsack_on_full_ack_takes_slow_path(void **state)
{
    fx *x = *state;
    open_flow(x, 1, 1);
    app_write(x, 1000);
    pop_all(x, NULL);
    oasis_flow *f = x->a.flow;
    uint32_t start = f->snd_una;
    uint64_t a0 = acks(x);
    assert_int_equal(f->ext->sb.rack.reo_wnd_mult, 0);
    uint64_t h0 = hits(x), d0 = th_ctr(&x->h)->dsack_recv;
    /* with some data, so the flow stays busy (delayed ACK) and keeps RACK */
    oasis_tcp_hdr s = peer_seg(x, A | P, f->snd_max, 10);
    x->pnxt += 10;
    s.sack_count = 1;
    s.sack[0].left = start;
    s.sack[0].right = start + 500;
    th_inject(&x->h, &s);
    assert_int_equal(acks(x) + hits(x), a0 + h0);
    assert_int_equal(f->snd_una, f->snd_max);
    assert_non_null(f->ext);
    assert_int_equal(f->ext->sb.rack.reo_wnd_mult, 2);
    assert_int_equal(th_ctr(&x->h)->dsack_recv, d0 + 1); /* TCPDSACKRecv */
}

/* An ACK with SACK blocks is the scoreboard's. */
static void test_sack_blocks_take_slow_path(void **state)
{
    fx *x = *state;
    open_flow(x, 1, 1);
    app_write(x, 3000);
    pop_all(x, NULL);
    oasis_flow *f = x->a.flow;
    uint64_t a0 = acks(x);
    oasis_tcp_hdr s = peer_seg(x, A, f->snd_una, 0);
    s.sack_count = 1;
    s.sack[0].left = f->snd_una + 1448;
    s.sack[0].right = f->snd_una + 2896;
    th_inject(&x->h, &s);
    assert_int_equal(acks(x), a0);
    assert_int_equal(f->ext->sb.n, 1);
    /* and while something is SACKed, an ACK of new data is too */
    send_ack(x, f->snd_una + 100);
    assert_int_equal(acks(x), a0);
    assert_int_equal(f->snd_una, x->iss + 1 + 100);
}

/* A FIN (with data): the slow path; the data is read, the flow half-closed. */
static void test_fin_takes_slow_path(void **state)
{
    fx *x = *state;
    open_flow(x, 1, 1);
    uint64_t h0 = hits(x);
    oasis_tcp_hdr s = peer_seg(x, A | F, x->a.flow->snd_max, 10);
    x->pnxt += 11;
    th_inject(&x->h, &s);
    th_poll(&x->h);
    assert_int_equal(hits(x), h0);
    assert_int_equal(x->a.flow->state, OASIS_TCP_CLOSE_WAIT);
    assert_int_equal(x->a.rx_len, 10);
    assert_true(x->a.eof);
    oasis_tcp_hdr r;
    assert_true(pop_all(x, &r) >= 1);
    assert_int_equal(r.ack, x->pnxt);
}

/* An ACK that acknowledges nothing new: a window update or a duplicate
 * ACK (RFC 5681), the slow path's; the window is taken. */
static void test_window_update_takes_slow_path(void **state)
{
    fx *x = *state;
    open_flow(x, 0, 0);
    oasis_flow *f = x->a.flow;
    uint64_t a0 = acks(x);
    oasis_tcp_hdr s = peer_seg(x, A, f->snd_max, 0);
    s.window = 100;
    th_inject(&x->h, &s);
    assert_int_equal(acks(x), a0);
    assert_int_equal(f->snd_wnd, 100u << 7);
}

/* A window change riding on an ACK of new data stays on the fast path and
 * is taken as the slow path takes it (same window_input). */
static void test_window_change_with_new_ack(void **state)
{
    fx *x = *state;
    open_flow(x, 0, 0);
    app_write(x, 500);
    pop_all(x, NULL);
    oasis_flow *f = x->a.flow;
    uint64_t a0 = acks(x);
    oasis_tcp_hdr s = peer_seg(x, A, f->snd_max, 0);
    s.window = 600;
    th_inject(&x->h, &s);
    assert_int_equal(acks(x), a0 + 1);
    assert_int_equal(f->snd_wnd, 600u << 7);
    assert_int_equal(f->max_snd_wnd, 65535u << 7); /* the largest offered */
    assert_int_equal(f->snd_wl1, s.seq);
    assert_int_equal(f->snd_wl2, s.ack);
}

/* RFC 7323 5.3: a TSval older than TS.Recent is PAWS's to judge: dropped
 * (PAWSEstab) and answered with an ACK, the data not taken. */
static void test_old_timestamp_takes_slow_path(void **state)
{
    fx *x = *state;
    open_flow(x, 1, 1);
    send_data(x, 10);
    th_poll(&x->h);
    uint64_t h0 = hits(x), p0 = th_ctr(&x->h)->paws_drops;
    oasis_tcp_hdr s = peer_seg(x, A | P, x->a.flow->snd_max, 10);
    s.ts_val = x->a.flow->ts_recent - 5;
    th_inject(&x->h, &s);
    th_poll(&x->h);
    assert_int_equal(hits(x), h0);
    assert_int_equal(th_ctr(&x->h)->paws_drops, p0 + 1);
    assert_int_equal(x->a.rx_len, 10);
    oasis_tcp_hdr r;
    assert_int_equal(pop_all(x, &r), 1);
    assert_int_equal(r.ack, x->pnxt); /* not past the dropped segment */
    /* a segment without TSopt on a timestamp flow: the slow path too */
    oasis_tcp_hdr n = peer_seg(x, A | P, x->a.flow->snd_max, 10);
    n.has_ts = 0;
    x->pnxt += 10;
    th_inject(&x->h, &n);
    assert_int_equal(hits(x), h0);
}

/* More text than the receive buffer holds: the slow path keeps what fits
 * (RFC 9293 3.10.7.4: trimmed to the window). */
static void test_data_beyond_buffer_takes_slow_path(void **state)
{
    fx *x = *state;
    open_flow(x, 0, 0);
    oasis_flow *f = x->a.flow;
    /* no poll from here on: the application reads nothing */
    uint32_t room = f->rcvbuf; /* the ring's capacity, all free */
    /* fill all but 100 bytes, in MSS pieces (fast path) */
    uint32_t left = room - 100;
    while (left) {
        uint32_t n = left > 1448 ? 1448 : left;
        send_data(x, n);
        left -= n;
    }
    uint64_t h0 = hits(x), w0 = th_ctr(&x->h)->out_of_window;
    uint32_t nxt = f->rcv_nxt;
    send_data(x, 300);
    assert_int_equal(hits(x), h0);
    assert_int_equal(f->rcv_nxt, nxt + 100); /* what fits */
    /* and a segment beyond the window: out of window, not taken */
    x->pnxt = f->rcv_nxt + 5000;
    send_data(x, 10);
    assert_int_equal(hits(x), h0);
    assert_int_equal(th_ctr(&x->h)->out_of_window, w0 + 1);
    assert_int_equal(f->rcv_nxt, nxt + 100);
}

/* Loss recovery in progress (RFC 5681 fast retransmit after three
 * duplicate ACKs, no SACK): the next ACK is recovery's. */
static void test_recovery_takes_slow_path(void **state)
{
    fx *x = *state;
    open_flow(x, 0, 0);
    app_write(x, 6000);
    pop_all(x, NULL);
    oasis_flow *f = x->a.flow;
    for (int i = 0; i < 3; i++)
        send_ack(x, f->snd_una);
    assert_int_equal(f->ext->rec.state, OASIS_REC_NEWRENO);
    assert_int_equal(th_ctr(&x->h)->fast_retrans, 1);
    uint64_t a0 = acks(x);
    send_ack(x, f->snd_una + 1448); /* partial: resend the next */
    assert_int_equal(acks(x), a0);
    assert_int_equal(f->ext->rec.state, OASIS_REC_NEWRENO);
    oasis_tcp_hdr r;
    assert_true(pop_all(x, &r) >= 1);
    assert_int_equal(r.seq, f->snd_una); /* RFC 6582: the next hole resent */
}

/* RST, SYN and URG segments, and an ACK beyond snd_max, are never predicted. */
static void test_rst_syn_urg_take_slow_path(void **state)
{
    fx *x = *state;
    open_flow(x, 0, 0);
    oasis_flow *f = x->a.flow;
    uint64_t h0 = hits(x), a0 = acks(x);
    oasis_tcp_hdr u = peer_seg(x, A | U | P, f->snd_max, 5);
    u.urg = 5;
    x->pnxt += 5;
    th_inject(&x->h, &u);
    assert_int_equal(hits(x), h0);
    th_poll(&x->h);
    pop_all(x, NULL);
    oasis_tcp_hdr beyond = peer_seg(x, A, f->snd_max + 1000, 0);
    th_inject(&x->h, &beyond); /* acks what was never sent: answered */
    assert_int_equal(acks(x), a0);
    oasis_tcp_hdr r;
    assert_int_equal(pop_all(x, &r), 1);
    assert_int_equal(r.ack, x->pnxt);
    oasis_tcp_hdr syn = peer_seg(x, S | A, f->snd_max, 0);
    th_inject(&x->h, &syn); /* RFC 5961 4.2: challenge ACK */
    assert_int_equal(hits(x) + acks(x), h0 + a0);
    assert_int_equal(th_ctr(&x->h)->challenge_acks, 1);
    oasis_tcp_hdr rst = peer_seg(x, R, 0, 0);
    rst.flags = R;
    th_inject(&x->h, &rst);
    th_poll(&x->h);
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), OASIS_ERESET);
    assert_int_equal(hits(x) + acks(x), h0 + a0);
}

/* Sends seg from the peer in an IPv4 datagram marked CE, through the
 * stack's Ethernet and IP input (as test_tcp_ecn does). */
static void inject_ce(fx *x, const oasis_tcp_hdr *seg)
{
    static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
    size_t hl = OASIS_TCP_HLEN + oasis_tcp_options_len(seg);
    size_t n = OASIS_ETH_HLEN + OASIS_IPV4_HLEN + hl + seg->payload_len;
    uint8_t *f = calloc(1, n < 60 ? 60 : n);
    assert_non_null(f);
    oasis_eth_emit(f, oasis_stack_mac(x->h.s), peer_mac, OASIS_ETHERTYPE_IPV4);
    oasis_ipv4_hdr ip;
    memset(&ip, 0, sizeof ip);
    ip.tos = OASIS_ECN_CE;
    ip.total_len = (uint16_t)(n - OASIS_ETH_HLEN);
    ip.id = 1;
    ip.df = 1;
    ip.ttl = 64;
    ip.proto = OASIS_IPPROTO_TCP;
    ip.src = TH_PEER;
    ip.dst = TH_LOCAL;
    oasis_ipv4_emit(f + OASIS_ETH_HLEN, &ip);
    uint8_t *tcp = f + OASIS_ETH_HLEN + OASIS_IPV4_HLEN;
    memcpy(tcp + hl, seg->payload, seg->payload_len);
    oasis_tcp_emit(tcp, seg, seg->payload_len, TH_PEER, TH_LOCAL);
    oasis_stack_input(x->h.s, f, n < 60 ? 60 : n);
    free(f);
}

/* A CE-marked data segment on an ECN flow: the slow path echoes it with
 * ECE at once (RFC 3168 6.1.3). */
static void test_ce_mark_takes_slow_path(void **state)
{
    fx *x = *state;
    th_fini(&x->h);
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.ecn = 1;
    th_init(&x->h, &c.tcp);
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S | OASIS_TCP_ECE | OASIS_TCP_CWR, TH_PISN, 0);
    th_inject(&x->h, &syn);
    oasis_tcp_hdr sa;
    assert_true(th_pop(&x->h, &sa));
    assert_int_equal(sa.flags, S | A | OASIS_TCP_ECE); /* ECN-setup SYN-ACK */
    x->iss = sa.seq;
    x->pnxt = TH_PISN + 1;
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, x->pnxt, x->iss + 1);
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    assert_non_null(x->a.flow);
    assert_true(x->a.flow->ecn_ok);
    th_clear(&x->h);
    uint64_t h0 = hits(x);
    oasis_tcp_hdr s = peer_seg(x, A | P, x->a.flow->snd_max, 10);
    x->pnxt += 10;
    inject_ce(x, &s);
    assert_int_equal(hits(x), h0);
    oasis_tcp_hdr r;
    assert_int_equal(pop_all(x, &r), 1);
    assert_true(r.flags & OASIS_TCP_ECE);
    assert_int_equal(th_ctr(&x->h)->ecn_ce_segs, 1);
    /* the next, unmarked, in-order segment is predicted */
    send_data(x, 10);
    assert_int_equal(hits(x), h0 + 1);
}

/* In-order data at the memory limit (cfg.tcp.mem_limit reached: the
 * ring's storage takes no more): a predicted segment keeps what storage
 * holds and drops the rest (counted once, as the slow path counts it); one
 * that nothing of fits is answered with an ACK at once. The same with the
 * fast path off. */
typedef struct limit_run {
    uint32_t kept, hits, drops, acks;
} limit_run;

static limit_run memory_limit_run(fx *x, int hp_off)
{
    open_flow(x, 1, 1);
    x->h.s->tcp->hp_off = (uint8_t)hp_off;
    x->a.auto_read = 0;
    send_data(x, 100); /* taken by the read open_flow posted: the ring has storage now */
    th_poll(&x->h);
    pop_all(x, NULL);
    oasis_flow *f = x->a.flow;
    x->h.s->cfg.tcp.mem_limit = th_ctr(&x->h)->mem_bytes; /* nothing more may be allocated */
    limit_run r = {0, 0, 0, 0};
    uint32_t nxt0 = f->rcv_nxt;
    uint64_t h0 = hits(x), d0 = th_ctr(&x->h)->rcvq_drops;
    for (int i = 0; i < 6; i++) {
        x->pnxt = f->rcv_nxt; /* the peer goes on from what we took */
        send_data(x, 1000);
        r.acks += (uint32_t)pop_all(x, NULL);
    }
    r.kept = f->rcv_nxt - nxt0;
    r.hits = (uint32_t)(hits(x) - h0);
    r.drops = (uint32_t)(th_ctr(&x->h)->rcvq_drops - d0);
    return r;
}

static void test_memory_limit_on_fast_path(void **state)
{
    fx *x = *state;
    limit_run on = memory_limit_run(x, 0);
    assert_int_equal(on.hits, 6);
    assert_int_equal(on.kept, OASIS_RING_SMALL); /* the storage there was, and no more */
    assert_int_equal(on.drops, 2);                /* the segment cut short, the one refused */
    assert_true(on.acks >= 1);
    th_fini(&x->h);
    th_app_fini(&x->a);
    th_init(&x->h, NULL);
    th_app_init(&x->a);
    limit_run off = memory_limit_run(x, 1);
    assert_int_equal(off.hits, 0);
    assert_int_equal(off.kept, on.kept);
    assert_int_equal(off.drops, on.drops);
    assert_int_equal(off.acks, on.acks);
}

/* ---- the same behaviour with the fast path on and off ------------------------ */

typedef struct trace {
    char *buf;
    size_t len, cap;
} trace;

static void trace_add(trace *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void trace_add(trace *t, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof line);
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->cap + (size_t)n + 1) * 2;
        t->buf = realloc(t->buf, t->cap);
        assert_non_null(t->buf);
    }
    memcpy(t->buf + t->len, line, (size_t)n + 1);
    t->len += (size_t)n;
}

/* Every segment the stack sent since the last call, relative to the ISS
 * and the first TSval, with the flow's state after it. */
static void trace_out(fx *x, trace *t, uint32_t *ts0)
{
    oasis_tcp_hdr r;
    while (th_pop(&x->h, &r)) {
        if (r.has_ts) {
            if (!*ts0)
                *ts0 = r.ts_val;
            x->ecr = r.ts_val;
        }
        trace_add(t, "seg %x seq=%u ack=%u win=%u ts=%u,%u sack=%u", r.flags, r.seq - x->iss, r.ack,
                  r.window, r.has_ts ? r.ts_val - *ts0 : 0, r.ts_ecr, r.sack_count);
        for (int i = 0; i < r.sack_count; i++)
            trace_add(t, " [%u,%u)", r.sack[i].left, r.sack[i].right);
        uint64_t sum = 0;
        for (size_t i = 0; i < r.payload_len; i++)
            sum = sum * 31 + r.payload[i];
        trace_add(t, " len=%zu sum=%llx\n", r.payload_len, (unsigned long long)sum);
    }
    oasis_flow *f = x->a.flow;
    trace_add(t, "flow st=%d una=%u nxt=%u max=%u wnd=%u rnxt=%u adv=%u tsr=%u rx=%zu", f->state,
              f->snd_una - x->iss, f->snd_nxt - x->iss, f->snd_max - x->iss, f->snd_wnd,
              f->rcv_nxt, f->rcv_adv, f->ts_recent, x->a.rx_len);
    if (f->ext) {
        const oasis_tcp_ext *e = f->ext;
        const oasis_tcp_deadlines *d = &e->tm;
        trace_add(t, " cwnd=%u ssth=%u rec=%u dup=%u sb=%u rto=%llu tlp=%llu dack=%llu reo=%llu"
                     " srtt=%llu rack=%llu,%u,%u",
                  e->cc.cwnd, e->cc.ssthresh, e->rec.state, e->rec.dupacks, e->sb.n,
                  (unsigned long long)d->rexmt, (unsigned long long)d->tlp,
                  (unsigned long long)d->delack, (unsigned long long)d->reorder,
                  (unsigned long long)e->rtt.srtt_ns, (unsigned long long)e->sb.rack.min_rtt_ns,
                  e->sb.rack.n, e->sb.rack.lost_valid);
        /* what the short form of an ACK of everything (RACK's one record,
         * the echo's RTT sample, NewReno's growth) must leave as the full
         * form does (RACK.fack only while have_fack: tcp_rack_segs.c reads
         * it only then, and the short form leaves a forgotten one as it
         * was) */
        const oasis_rack *k = &e->sb.rack;
        trace_add(t, " rackx=%u,%llu,%u,%llu fack=%u,%u reo=%u rttvar=%llu rto=%llu,%u bytes_acked=%u",
                  k->have_xmit, (unsigned long long)k->xmit_ns, k->end_seq - x->iss,
                  (unsigned long long)k->rtt_ns, k->have_fack, k->have_fack ? k->fack - x->iss : 0,
                  k->reordering_seen, (unsigned long long)e->rtt.rttvar_ns,
                  (unsigned long long)e->rtt.rto_ns, e->rtt.backoff, e->cc.bytes_acked);
    }
    trace_add(t, "\n");
}

/* The script: the peer's moves depend only on what it chose to send and
 * on the segment the stack sent last (which the two runs must agree on). */
static void script(fx *x, trace *t, int hp_off, int ts, int sack)
{
    uint32_t ts0 = 0;
    x->h.s->tcp->hp_off = (uint8_t)hp_off;
    open_flow(x, ts, sack);
    oasis_flow *f = x->a.flow;
    trace_out(x, t, &ts0);
    /* request/response, 20 rounds, sizes varying (window field changes) */
    for (int i = 0; i < 20; i++) {
        send_data(x, (size_t)(1 + i * 97 % 1500));
        th_poll(&x->h);
        trace_out(x, t, &ts0);
        app_write(x, (size_t)(1 + i * 131 % 1200));
        trace_out(x, t, &ts0);
        th_advance(&x->h, (uint64_t)(i % 4) * MS);
        send_ack(x, f->snd_max);
        trace_out(x, t, &ts0);
    }
    /* bulk from us: partial ACKs, one segment lost (SACK) or three
     * duplicate ACKs (no SACK), recovery, the rest acknowledged */
    app_write(x, 8000);
    trace_out(x, t, &ts0);
    uint32_t una = f->snd_una;
    send_ack(x, una + 1448);
    trace_out(x, t, &ts0);
    for (int i = 0; i < 3; i++) {
        oasis_tcp_hdr d = peer_seg(x, A, una + 1448, 0);
        if (sack) {
            d.sack_count = 1;
            d.sack[0].left = una + 2 * 1448;
            d.sack[0].right = una + (uint32_t)(3 + i) * 1448;
        }
        th_inject(&x->h, &d);
        trace_out(x, t, &ts0);
    }
    th_advance(&x->h, 3 * MS);
    send_ack(x, f->snd_max);
    trace_out(x, t, &ts0);
    /* bulk to us, with a hole and its repair, then in order again */
    uint32_t hole = x->pnxt;
    x->pnxt += 1000;
    send_data(x, 1000);
    trace_out(x, t, &ts0);
    x->pnxt = hole;
    send_data(x, 1000);
    x->pnxt += 1000;
    for (int i = 0; i < 6; i++)
        send_data(x, 1448);
    th_poll(&x->h);
    trace_out(x, t, &ts0);
    /* an old timestamp (PAWS), then the delayed ACK timer */
    if (ts) {
        oasis_tcp_hdr old = peer_seg(x, A | P, f->snd_max, 10);
        old.ts_val -= 50;
        th_inject(&x->h, &old);
        trace_out(x, t, &ts0);
    }
    send_data(x, 10);
    th_advance(&x->h, 500 * MS);
    trace_out(x, t, &ts0);
    /* a tail loss probe and a retransmission timeout along the way */
    app_write(x, 3000);
    trace_out(x, t, &ts0);
    th_advance(&x->h, 2000 * MS);
    trace_out(x, t, &ts0);
    send_ack(x, f->snd_max);
    trace_out(x, t, &ts0);
    /* the peer closes */
    oasis_tcp_hdr fin = peer_seg(x, A | F, f->snd_max, 0);
    x->pnxt++;
    th_inject(&x->h, &fin);
    th_poll(&x->h);
    trace_out(x, t, &ts0);
    oasis_tcp_counters c = *th_ctr(&x->h);
    trace_add(t, "ctr in=%llu out=%llu rtx=%llu ofo=%llu paws=%llu oow=%llu to=%llu fr=%llu"
                 " dack=%llu",
              (unsigned long long)c.in_segs, (unsigned long long)c.out_segs,
              (unsigned long long)c.retrans_segs, (unsigned long long)c.ofo_queued,
              (unsigned long long)c.paws_drops, (unsigned long long)c.out_of_window,
              (unsigned long long)c.timeouts, (unsigned long long)c.fast_retrans,
              (unsigned long long)c.delayed_acks);
}

static void same_with_and_without(fx *x, int ts, int sack)
{
    trace on = {0}, off = {0};
    script(x, &on, 0, ts, sack);
    uint64_t h = hits(x), a = acks(x);
    assert_true(h > 20);
    assert_true(a > 20);
    th_fini(&x->h);
    th_app_fini(&x->a);
    th_init(&x->h, NULL);
    th_app_init(&x->a);
    script(x, &off, 1, ts, sack);
    assert_int_equal(hits(x) + acks(x), 0);
    if (strcmp(on.buf, off.buf) != 0) {
        /* show where they part */
        size_t i = 0;
        while (on.buf[i] == off.buf[i])
            i++;
        size_t from = i > 400 ? i - 400 : 0;
        fprintf(stderr, "fast path on:\n%.800s\n---- off:\n%.800s\n", on.buf + from, off.buf + from);
    }
    assert_string_equal(on.buf, off.buf);
    free(on.buf);
    free(off.buf);
}

static void test_same_segments_ts_sack(void **state) { same_with_and_without(*state, 1, 1); }
static void test_same_segments_plain(void **state) { same_with_and_without(*state, 0, 0); }
static void test_same_segments_sack_only(void **state) { same_with_and_without(*state, 0, 1); }

/* ---- a bad checksum (tcp_input.c: nothing commits before the sum) ------- */

/* th_inject, with one byte of the payload (or the header) changed after
 * the checksum was made: RFC 9293 3.1 has the segment discarded. */
static void inject_corrupt(fx *x, const oasis_tcp_hdr *seg, size_t at)
{
    size_t hl = OASIS_TCP_HLEN + oasis_tcp_options_len(seg);
    size_t n = hl + seg->payload_len;
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    memcpy(buf + hl, seg->payload, seg->payload_len);
    oasis_tcp_emit(buf, seg, seg->payload_len, TH_PEER, TH_LOCAL);
    buf[at] ^= 0x40;
    oasis_tcp_input4(x->h.s, TH_PEER, TH_LOCAL, buf, n);
    free(buf);
}

typedef struct flow_snap {
    uint64_t in_segs, csum, errs, hits, acks, ofo, segs_in;
    uint32_t rcv_nxt, snd_una, rcv_len, ts_recent, snd_wnd;
} flow_snap;

static flow_snap snap(fx *x)
{
    const oasis_tcp_counters *c = th_ctr(&x->h);
    oasis_flow *f = x->a.flow;
    flow_snap n = {c->in_segs, c->in_csum_errors, c->in_errs, c->hp_hits, c->hp_acks, c->ofo_queued,
                   f->segs_in, f->rcv_nxt, f->snd_una, f->ext->rcv.len, f->ts_recent, f->snd_wnd};
    return n;
}

/* Counted as a parse counts a bad checksum (InSegs, InCsumErrors, InErrs
 * one each) and nothing else changed. */
static void assert_dropped(fx *x, flow_snap b)
{
    flow_snap a = snap(x);
    assert_int_equal(a.in_segs, b.in_segs + 1);
    assert_int_equal(a.csum, b.csum + 1);
    assert_int_equal(a.errs, b.errs + 1);
    assert_int_equal(a.hits, b.hits);
    assert_int_equal(a.acks, b.acks);
    assert_int_equal(a.ofo, b.ofo);
    assert_int_equal(a.segs_in, b.segs_in);
    assert_int_equal(a.rcv_nxt, b.rcv_nxt);
    assert_int_equal(a.snd_una, b.snd_una);
    assert_int_equal(a.rcv_len, b.rcv_len);
    assert_int_equal(a.ts_recent, b.ts_recent);
    assert_int_equal(a.snd_wnd, b.snd_wnd);
    th_poll(&x->h);
    assert_int_equal(th_pending(&x->h), 0); /* nothing sent */
}

/* A segment header prediction would take (established, in order, room in
 * the receive ring, an ACK of our data, a newer timestamp) whose text is
 * long enough to be summed while it is copied into the ring: with a bad
 * checksum, in the text or in the header, it is dropped before anything
 * of it counts (no ACK processed, no RTT sample or TS.Recent, no text
 * held, no window, nothing sent); the same segment intact is then taken
 * on the fast path. (The ring holds storage first: the text is copied
 * into it while summed, not summed alone.) */
static void test_bad_checksum_on_predicted_path_is_dropped(void **state)
{
    fx *x = *state;
    open_flow(x, 1, 1);
    oasis_flow *f = x->a.flow;
    send_data(x, 1000); /* the ring gets storage; the app reads it */
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 1000);
    app_write(x, 300);
    assert_int_equal(pop_all(x, NULL), 1);
    assert_true(oasis_seq_lt(f->snd_una, f->snd_max));
    th_advance(&x->h, 3 * MS);
    oasis_tcp_hdr seg = peer_seg(x, A | P, f->snd_max, 1200);
    seg.window = 1000; /* a window update too, were it taken */
    oasis_rtt rtt0 = f->ext->rtt; /* no sample from a dropped ACK */
    flow_snap b = snap(x);
    size_t hl = OASIS_TCP_HLEN + oasis_tcp_options_len(&seg);
    inject_corrupt(x, &seg, hl + 700); /* in the text */
    assert_dropped(x, b);
    inject_corrupt(x, &seg, 5);        /* in the sequence number */
    b.in_segs++, b.csum++, b.errs++;
    assert_dropped(x, b);
    assert_int_equal(f->ext->rtt.srtt_ns, rtt0.srtt_ns);
    assert_int_equal(f->ext->rtt.rttvar_ns, rtt0.rttvar_ns);
    assert_int_equal(x->a.rx_len, 1000);
    /* intact: taken, predicted */
    th_inject(&x->h, &seg);
    x->pnxt += 1200;
    flow_snap a = snap(x);
    assert_int_equal(a.hits, b.hits + 1);
    assert_int_equal(a.csum, b.csum + 1); /* (b counts the first drop) */
    assert_int_equal(a.in_segs, b.in_segs + 2);
    assert_int_equal(a.rcv_nxt, b.rcv_nxt + 1200);
    assert_int_equal(a.snd_una, f->snd_max);
    assert_int_equal(a.ts_recent, seg.ts_val);
    assert_int_equal(a.snd_wnd, 1000u << f->snd_wscale);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 2200);
    assert_memory_equal(x->a.rx + 1000, seg.payload, 1200);
}

/* The same on the slow path: an out-of-order segment with a bad checksum
 * is dropped before it is held (no SACK block, no duplicate ACK); intact,
 * it is held and draws the duplicate ACK. */
static void test_bad_checksum_out_of_order_is_dropped(void **state)
{
    fx *x = *state;
    open_flow(x, 1, 1);
    send_data(x, 1000);
    th_poll(&x->h);
    pop_all(x, NULL);
    oasis_tcp_hdr seg = peer_seg(x, A, x->a.flow->snd_max, 500);
    seg.seq += 1000; /* a hole before it */
    flow_snap b = snap(x);
    size_t hl = OASIS_TCP_HLEN + oasis_tcp_options_len(&seg);
    inject_corrupt(x, &seg, hl + 100);
    assert_dropped(x, b);
    assert_true(oasis_ofo_empty(&x->a.flow->ext->ofo));
    th_inject(&x->h, &seg);
    assert_int_equal(th_ctr(&x->h)->ofo_queued, b.ofo + 1);
    oasis_tcp_hdr r;
    assert_int_equal(pop_all(x, &r), 1);
    assert_int_equal(r.ack, x->pnxt);
    assert_int_equal(r.sack_count, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_checksum_on_predicted_path_is_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_checksum_out_of_order_is_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_order_data_is_predicted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_predicted_segments_update_ts_recent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_of_all_is_predicted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_ack_is_predicted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_without_new_ack_is_predicted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_path_timer_in_force, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order_held_takes_slow_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_at_rcv_nxt_takes_slow_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dsack_on_full_ack_takes_slow_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sack_blocks_take_slow_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fin_takes_slow_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_update_takes_slow_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_change_with_new_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_timestamp_takes_slow_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_beyond_buffer_takes_slow_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_limit_on_fast_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_takes_slow_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rst_syn_urg_take_slow_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ce_mark_takes_slow_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_segments_ts_sack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_segments_plain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_segments_sack_only, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
