/* Ports of packetdrill scripts (google/packetdrill gtests/net/tcp, folders
 * n-z, and Linux's tools/testing/selftests/net/packetdrill) to the
 * one-stack harness: the test plays the script's remote side with
 * hand-built segments on a virtual clock. Each test names its script and
 * what it checks; where Oasis answers differently from Linux and the RFC
 * allows both, the test asserts Oasis's behaviour and says why.
 * docs/packetdrill.md has the verdict for every script looked at.
 * As packetdrill's runners, every test runs over IPv4 (cmocka group
 * "ipv4") and again over IPv6 (group "ipv6": th_init_run, a 1520-byte
 * link so that MSS 1460 holds). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcp/tcp_flow.h"
#include "tcp/tcp_recovery.h"
#include "tcp_harness.h"

#define PORT 8080
#define A OASIS_TCP_ACK
#define F OASIS_TCP_FIN
#define S OASIS_TCP_SYN
#define R OASIS_TCP_RST
#define P OASIS_TCP_PSH
#define MS (OASIS_NS_PER_SEC / 1000)

typedef struct fx {
    tcp_harness h;
    th_app a;
    uint32_t iss;  /* our ISS */
    uint32_t pnxt; /* the peer's next sequence number */
    uint32_t pts;  /* the peer's TSval, when timestamps are on */
    uint32_t ots;  /* our TSval in the SYN-ACK */
    uint16_t pport, lport; /* the peer's port, ours */
    uint64_t hs_rtt;       /* the handshake's round trip (the script's +.1) */
} fx;

static uint8_t zeros[70000];
static int ipv6; /* the family of the group running: 1 IPv6 */

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    th_init_run(&x->h, NULL, ipv6);
    th_app_init(&x->a);
    x->pport = TH_PPORT;
    x->lport = PORT;
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

/* The script's "< S 0:0(0) ... <mss M,...>": a SYN with MSS and the given
 * options; the handshake completes and the flow is accepted. rcvbuf 0:
 * the stack's tuned buffer, else a fixed one (SO_RCVBUF). */
static void open_passive(fx *x, uint16_t mss, int sack, int ts, uint32_t rcvbuf)
{
    oasis_listen_opts lo;
    memset(&lo, 0, sizeof lo);
    lo.bufs.rcvbuf = rcvbuf;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, &lo, th_accept_cb, &x->a), 0);
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    syn.has_mss = 1;
    syn.mss = mss;
    syn.sack_permitted = (uint8_t)sack;
    if (ts) {
        syn.has_ts = 1;
        syn.ts_val = 100;
        x->pts = 100;
    }
    th_inject(&x->h, &syn);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, S | A);
    x->iss = r.seq;
    x->ots = r.ts_val;
    x->pnxt = TH_PISN + 1;
    th_advance(&x->h, x->hs_rtt);
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, x->pnxt, x->iss + 1);
    if (ts) {
        assert_true(r.has_ts);
        ack.has_ts = 1;
        ack.ts_val = x->pts = 200;
        ack.ts_ecr = r.ts_val;
    }
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    assert_int_equal(x->a.accepted, 1);
}

/* A peer segment: payload of len bytes (zeros), our stream acked to `ack`
 * (relative to our ISS+1), timestamps when the flow has them. */
static void seg(fx *x, uint8_t flags, uint32_t seq, uint32_t ack, size_t len)
{
    oasis_tcp_hdr s = th_seg(x->pport, x->lport, flags, seq, x->iss + 1 + ack);
    s.payload = zeros;
    s.payload_len = len;
    if (x->pts) {
        s.has_ts = 1;
        s.ts_val = x->pts;
        s.ts_ecr = 0;
    }
    th_inject(&x->h, &s);
}

/* An ACK of our stream up to `ack` (relative), with SACK blocks given
 * relative too ([l0, r0, l1, r1, ...]). */
static void ack_sack(fx *x, uint32_t ack, int nb, const uint32_t *b)
{
    oasis_tcp_hdr s = th_seg(x->pport, x->lport, A, x->pnxt, x->iss + 1 + ack);
    s.sack_count = (uint8_t)nb;
    for (int i = 0; i < nb; i++) {
        s.sack[i].left = x->iss + 1 + b[2 * i];
        s.sack[i].right = x->iss + 1 + b[2 * i + 1];
    }
    th_inject(&x->h, &s);
}

static void ack_to(fx *x, uint32_t ack) { ack_sack(x, ack, 0, NULL); }

/* Pops one segment; returns its sequence number relative to our ISS+1. */
static uint32_t pop_rel(fx *x, oasis_tcp_hdr *r)
{
    assert_true(th_pop(&x->h, r));
    return r->seq - (x->iss + 1);
}

/* Pops everything; returns the bytes of payload sent and checks they run
 * contiguously from `from` (relative). */
static uint32_t drain_from(fx *x, uint32_t from)
{
    oasis_tcp_hdr r;
    uint32_t n = 0;
    while (th_pop(&x->h, &r)) {
        if (r.payload_len == 0)
            continue;
        assert_int_equal(r.seq - (x->iss + 1), from + n);
        n += (uint32_t)r.payload_len;
    }
    return n;
}

static uint32_t cwnd_segs(fx *x, uint32_t mss)
{
    oasis_tcp_info i;
    assert_int_equal(oasis_tcp_get_info(x->a.flow, &i), 0);
    return i.cwnd / mss;
}

/* ---- Linux tcp_validate_validate-established-no-flags ----------------------
 * RFC 9293 3.10.7.4, fifth: "if the ACK bit is off, drop the segment".
 * A data segment with no flags at all is not queued; the same data with
 * ACK is. */
static void test_validate_established_no_flags(void **state)
{
    fx *x = *state;
    open_passive(x, 1000, 1, 0, 0);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    seg(x, 0, x->pnxt, 0, 1000);
    th_advance(&x->h, 10 * MS);
    assert_int_equal(x->a.rx_len, 0);
    seg(x, A, x->pnxt, 0, 1000);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 1000);
}


/* ---- slow start (google/packetdrill slow_start/, Linux tcp_slow_start_*) ----
 * MSS 1000, SACK, IW10 (RFC 6928), NewReno. Oasis grows cwnd in slow
 * start by min(acked, 2*SMSS) per ACK (RFC 3465 byte counting with
 * L = 2*SMSS, the most RFC 3465 2.2 allows) and only while the flow uses
 * its window (flight before the ACK at least cwnd/2; RFC 7661's test for a
 * validated window). */
static void ss_open(fx *x, uint32_t bytes)
{
    open_passive(x, 1000, 1, 0, 0);
    assert_int_equal(oasis_tcp_write(x->a.flow, zeros, bytes, NULL, NULL), 0);
    assert_int_equal(drain_from(x, 0), bytes < 10000 ? bytes : 10000);
    assert_int_equal(cwnd_segs(x, 1000), 10);
}

/* An ACK up to `ack`; then `sent` more bytes go out from `from`. */
static void ss_step(fx *x, uint32_t ack, uint32_t from, uint32_t sent)
{
    ack_to(x, ack);
    assert_int_equal(drain_from(x, from), sent);
}

/* slow-start-ack-per-1pkt: an ACK per segment, each releases two
 * segments; ten ACKs take cwnd from 10 to 20. */
static void test_slow_start_ack_per_1pkt(void **state)
{
    fx *x = *state;
    ss_open(x, 30000);
    for (uint32_t i = 1; i <= 10; i++)
        ss_step(x, i * 1000, 10000 + (i - 1) * 2000, 2000);
    assert_int_equal(cwnd_segs(x, 1000), 20);
}

/* slow-start-ack-per-2pkt: an ACK per two segments (delayed ACKs), each
 * releases four; cwnd 10 to 20. */
static void test_slow_start_ack_per_2pkt(void **state)
{
    fx *x = *state;
    ss_open(x, 30000);
    for (uint32_t i = 1; i <= 5; i++)
        ss_step(x, i * 2000, 10000 + (i - 1) * 4000, 4000);
    assert_int_equal(cwnd_segs(x, 1000), 20);
}

/* slow-start-ack-per-4pkt: an ACK per four segments. Linux counts all four
 * (cwnd 14, eight segments released); RFC 3465 2.2 caps the increase per
 * ACK at L*SMSS with L <= 2 (RFC 5681 3.1: SMSS), so Oasis grows by two:
 * cwnd 12, six released; 16 at the end, not Linux's 20. */
static void test_slow_start_ack_per_4pkt(void **state)
{
    fx *x = *state;
    ss_open(x, 30000);
    ss_step(x, 4000, 10000, 6000);
    assert_int_equal(cwnd_segs(x, 1000), 12);
    ss_step(x, 8000, 16000, 6000);
    assert_int_equal(cwnd_segs(x, 1000), 14);
    ss_step(x, 10000, 22000, 4000);
    assert_int_equal(cwnd_segs(x, 1000), 16);
}

/* slow-start-ack-per-2pkt-send-6pkt: six segments in flight of a window of
 * ten; the first ACK (flight 6 >= cwnd/2) grows cwnd to 12, the later ones
 * (flight 4, 2: the window is not being used) leave it. As Linux. */
static void test_slow_start_send_6pkt(void **state)
{
    fx *x = *state;
    ss_open(x, 6000);
    ss_step(x, 2000, 6000, 0);
    assert_int_equal(cwnd_segs(x, 1000), 12);
    ss_step(x, 4000, 6000, 0);
    assert_int_equal(cwnd_segs(x, 1000), 12);
    ss_step(x, 6000, 6000, 0);
    assert_int_equal(cwnd_segs(x, 1000), 12);
}

/* slow-start-ack-per-2pkt-send-5pkt: five segments in flight, exactly half
 * the window. Linux keeps cwnd 10 (its test is cwnd < 2 * packets out);
 * Oasis counts half a window in flight as using it (RFC 7661 4.3: the
 * window is validated when pipeACK >= cwnd/2) and grows it once, to 12. */
static void test_slow_start_send_5pkt(void **state)
{
    fx *x = *state;
    ss_open(x, 5000);
    ss_step(x, 2000, 5000, 0);
    assert_int_equal(cwnd_segs(x, 1000), 12);
    ss_step(x, 4000, 5000, 0);
    assert_int_equal(cwnd_segs(x, 1000), 12);
    ss_step(x, 5000, 5000, 0);
    assert_int_equal(cwnd_segs(x, 1000), 12);
}

/* slow-start-app-limited and -9-packets-out: a flight of exactly 10 (or 9)
 * segments acked two at a time. Linux remembers that the window was full
 * and ends at 20 (18). Oasis judges each ACK by the flight it finds, so
 * once less than half the window is out it stops growing: 14. RFC 5681
 * 3.1 increases cwnd "by at most SMSS" per ACK, so holding it is allowed. */
static void test_slow_start_app_limited(void **state)
{
    fx *x = *state;
    ss_open(x, 10000);
    ss_step(x, 2000, 10000, 0);
    assert_int_equal(cwnd_segs(x, 1000), 12);
    ss_step(x, 4000, 10000, 0);
    assert_int_equal(cwnd_segs(x, 1000), 14);
    for (uint32_t a = 6000; a <= 10000; a += 2000)
        ss_step(x, a, 10000, 0);
    assert_int_equal(cwnd_segs(x, 1000), 14);
}

/* slow-start-app-limited-9-packets-out: nine segments; Linux 18, Oasis 14
 * for the same reason. */
static void test_slow_start_app_limited_9(void **state)
{
    fx *x = *state;
    ss_open(x, 9000);
    ss_step(x, 2000, 9000, 0);
    assert_int_equal(cwnd_segs(x, 1000), 12);
    ss_step(x, 4000, 9000, 0);
    assert_int_equal(cwnd_segs(x, 1000), 14);
    for (uint32_t a = 6000; a <= 8000; a += 2000)
        ss_step(x, a, 9000, 0);
    ss_step(x, 9000, 9000, 0);
    assert_int_equal(cwnd_segs(x, 1000), 14);
}

/* ---- timestamps (Linux tcp_ts_recent_*) ------------------------------------ */

/* tcp_ts_recent_invalid_ack: a FIN with a high TSval whose ACK field acks
 * what we never sent is answered with an ACK and dropped (RFC 9293
 * 3.10.7.4 fifth step) without moving TS.Recent: the next in-order
 * segment, TSval 201, passes PAWS and its TSval is what we echo. */
static void test_ts_recent_invalid_ack(void **state)
{
    fx *x = *state;
    open_passive(x, 1000, 1, 1, 0);
    x->pts = 200000;
    seg(x, F | A, x->pnxt, 9998, 0);
    th_clear(&x->h);
    x->pts = 201;
    seg(x, A, x->pnxt, 0, 1000);
    th_advance(&x->h, 200 * MS);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.ack, x->pnxt + 1000);
    assert_true(r.has_ts);
    assert_int_equal(r.ts_ecr, 201);
    assert_int_equal(th_ctr(&x->h)->time_wait, 0);
}

/* tcp_ts_recent_fin_tsval: a FIN sent a second after the last segment
 * carries a TSval one second (1 ms ticks) later, not a stale one, and
 * echoes the peer's last TSval (RFC 7323 3.2, 4.1). */
static void test_ts_recent_fin_tsval(void **state)
{
    fx *x = *state;
    open_passive(x, 1000, 1, 1, 0);
    th_advance(&x->h, 1000 * MS);
    assert_int_equal(oasis_tcp_close(x->a.flow, th_close_cb, &x->a), 0);
    th_poll(&x->h);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, F | A);
    assert_true(r.has_ts);
    assert_int_equal(r.ts_ecr, 200);
    uint32_t d = r.ts_val - x->ots;
    assert_true(d >= 1000 && d <= 1010);
}

/* tcp_ts_recent_reset_tsval: Linux's close() with unread data sends a RST;
 * Oasis's close is the contract's half-close (reading goes on), so the
 * intent maps to oasis_tcp_abort. The RST carries a fresh TSval and
 * echoes the last TSval taken (RFC 7323 3.2: TSopt SHOULD be sent in an
 * RST). */
static void test_ts_recent_reset_tsval(void **state)
{
    fx *x = *state;
    open_passive(x, 1000, 1, 1, 0);
    x->pts = 201;
    seg(x, A, x->pnxt, 0, 1000);
    th_advance(&x->h, 100 * MS);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.ts_ecr, 201);
    th_advance(&x->h, 1000 * MS);
    oasis_tcp_abort(x->a.flow);
    th_poll(&x->h);
    assert_true(th_pop(&x->h, &r));
    assert_true(r.flags & R);
    assert_int_equal(r.seq, x->iss + 1);
    assert_true(r.has_ts);
    assert_int_equal(r.ts_ecr, 201);
    uint32_t d = r.ts_val - x->ots;
    assert_true(d >= 1100 && d <= 1110);
}

/* ---- Nagle (Linux tcp_nagle_*) ---------------------------------------------- */

/* tcp_nagle_https_client: active open to a peer with MSS 974, no
 * timestamps; with no-delay on, a 51-byte write and then a 2002-byte one
 * go out at once as 51, 974, 974, 54, the short tail not waiting for the
 * ACK of the first (RFC 1122 4.2.3.4: an application may disable Nagle). */
static void test_nagle_https_client_nodelay(void **state)
{
    fx *x = *state;
    th_app *a = &x->a;
    assert_int_equal(oasis_tcp_connect(x->h.s, &x->h.peer, 443, NULL, th_connect_cb, a), 0);
    th_poll(&x->h);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    x->iss = r.seq;
    uint16_t lport = r.src_port;
    oasis_tcp_hdr sa = th_seg(443, lport, S | A, TH_PISN, x->iss + 1);
    sa.has_mss = 1;
    sa.mss = 974;
    sa.sack_permitted = 1;
    sa.has_wscale = 1;
    sa.wscale = 7;
    sa.window = 5792;
    th_inject(&x->h, &sa);
    th_poll(&x->h);
    th_clear(&x->h);
    assert_int_equal(a->connected, 1);
    assert_int_equal(oasis_tcp_set_nodelay(a->flow, 1), 0);
    assert_int_equal(oasis_tcp_write(a->flow, zeros, 517, NULL, NULL), 0);
    th_poll(&x->h);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.payload_len, 517);
    oasis_tcp_hdr ack = th_seg(443, lport, A, TH_PISN + 1, x->iss + 1 + 517);
    ack.window = 229;
    th_inject(&x->h, &ack);
    assert_int_equal(oasis_tcp_write(a->flow, zeros, 51, NULL, NULL), 0);
    th_poll(&x->h);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.payload_len, 51);
    th_advance(&x->h, 30 * MS);
    assert_int_equal(oasis_tcp_write(a->flow, zeros, 2002, NULL, NULL), 0);
    th_poll(&x->h);
    size_t want[] = {974, 974, 54};
    uint32_t seq = x->iss + 1 + 517 + 51;
    for (int i = 0; i < 3; i++) {
        assert_true(th_pop(&x->h, &r));
        assert_int_equal(r.seq, seq);
        assert_int_equal(r.payload_len, want[i]);
        seq += (uint32_t)want[i];
    }
    assert_true(r.flags & P);
}

/* tcp_nagle_sockopt_cork_nodelay, its TCP_NODELAY half (Oasis has no
 * TCP_CORK or MSG_MORE): a small write held by Nagle behind unacked data
 * goes out as soon as the application turns no-delay on, not when the
 * ACK comes. */
static void test_nagle_nodelay_pushes_held(void **state)
{
    fx *x = *state;
    open_passive(x, 1000, 0, 0, 0);
    assert_int_equal(oasis_tcp_write(x->a.flow, zeros, 40, NULL, NULL), 0);
    th_poll(&x->h);
    oasis_tcp_hdr r;
    assert_int_equal(pop_rel(x, &r), 0);
    assert_int_equal(r.payload_len, 40);
    assert_int_equal(oasis_tcp_write(x->a.flow, zeros, 40, NULL, NULL), 0);
    th_poll(&x->h);
    assert_false(th_pop(&x->h, &r)); /* Nagle: 40 bytes unacked */
    assert_int_equal(oasis_tcp_set_nodelay(x->a.flow, 1), 0);
    th_poll(&x->h);
    assert_int_equal(pop_rel(x, &r), 40);
    assert_int_equal(r.payload_len, 40);
}

/* ---- tcp_info (Linux tcp_tcp_info_*) --------------------------------------- */

/* Pops every segment; none may carry data. */
static void expect_no_data(fx *x)
{
    oasis_tcp_hdr r;
    while (th_pop(&x->h, &r))
        assert_int_equal(r.payload_len, 0);
}

/* tcp-info-rwnd-limited, its wire half (tcpi_rwnd_limited and
 * tcpi_busy_time are not in oasis_tcp_info): the SYN-ACK offers window 0,
 * so a write waits; a window of 2000 lets the 1000 bytes go. A window of
 * 10 then holds the next 1000 (sender SWS avoidance, RFC 9293 3.8.6.2.1:
 * 10 bytes is neither the rest of the data nor half the largest window
 * seen) until the window opens again. */
static void test_tcp_info_rwnd_limited(void **state)
{
    fx *x = *state;
    th_app *a = &x->a;
    assert_int_equal(oasis_tcp_connect(x->h.s, &x->h.peer, PORT, NULL, th_connect_cb, a), 0);
    th_poll(&x->h);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    x->iss = r.seq;
    x->lport = r.src_port;
    x->pport = PORT;
    x->pnxt = TH_PISN + 1;
    th_advance(&x->h, 10 * MS);
    oasis_tcp_hdr sa = th_seg(PORT, x->lport, S | A, TH_PISN, x->iss + 1);
    sa.has_mss = 1;
    sa.mss = 1000;
    sa.sack_permitted = 1;
    sa.window = 0;
    th_inject(&x->h, &sa);
    th_poll(&x->h);
    assert_int_equal(a->connected, 1);
    expect_no_data(x);
    assert_int_equal(oasis_tcp_write(a->flow, zeros, 1000, NULL, NULL), 0);
    th_advance(&x->h, 200 * MS);
    expect_no_data(x);
    oasis_tcp_hdr w = th_seg(PORT, x->lport, A, x->pnxt, x->iss + 1);
    w.window = 2000;
    th_inject(&x->h, &w);
    assert_int_equal(pop_rel(x, &r), 0);
    assert_int_equal(r.payload_len, 1000);
    expect_no_data(x);
    th_advance(&x->h, 30 * MS);
    w.ack = x->iss + 1 + 1000;
    w.window = 10;
    th_inject(&x->h, &w);
    assert_int_equal(oasis_tcp_write(a->flow, zeros, 1000, NULL, NULL), 0);
    th_advance(&x->h, 100 * MS);
    expect_no_data(x);
    w.window = 2000;
    th_inject(&x->h, &w);
    assert_int_equal(pop_rel(x, &r), 1000);
    assert_int_equal(r.payload_len, 1000);
}

/* ---- bad arguments (Linux tcp_syscall_bad_arg_*) ---------------------------- */

/* syscall-invalid-buf-ptr: a NULL buffer with a non-zero length is refused
 * (EFAULT there, OASIS_EINVAL here) and sends nothing; reading needs a
 * callback. The flow carries on. */
static void test_bad_arg_null_buffer(void **state)
{
    fx *x = *state;
    open_passive(x, 1000, 1, 0, 0);
    assert_int_equal(oasis_tcp_write(x->a.flow, NULL, 1000, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_write_nodelay(x->a.flow, NULL, 1000, NULL, NULL), OASIS_EINVAL);
    oasis_iovec v = {NULL, 1000};
    assert_int_equal(oasis_tcp_writev(x->a.flow, &v, 1, NULL, NULL), OASIS_EINVAL);
    th_advance(&x->h, 10 * MS);
    assert_int_equal(th_pending(&x->h), 0);
    seg(x, A, x->pnxt, 0, 1000);
    assert_int_equal(oasis_tcp_read(x->a.flow, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 1000);
}

/* sendmsg-empty-iov: zero-length pieces of a gather write are skipped: 40
 * and 20 bytes between empty ones go out as one 60-byte segment; a write
 * of nothing but empty pieces sends nothing. */
static void test_bad_arg_writev_empty_iov(void **state)
{
    fx *x = *state;
    open_passive(x, 1000, 0, 0, 0);
    assert_int_equal(oasis_tcp_set_nodelay(x->a.flow, 1), 0);
    oasis_iovec v[4] = {{zeros, 0}, {zeros, 40}, {zeros, 0}, {zeros, 20}};
    assert_int_equal(oasis_tcp_writev(x->a.flow, v, 4, th_write_cb, &x->a), 0);
    th_poll(&x->h);
    oasis_tcp_hdr r;
    assert_int_equal(pop_rel(x, &r), 0);
    assert_int_equal(r.payload_len, 60);
    assert_false(th_pop(&x->h, &r));
    ack_to(x, 60);
    oasis_iovec e[4] = {{zeros, 0}, {zeros, 0}, {zeros, 0}, {zeros, 0}};
    assert_int_equal(oasis_tcp_writev(x->a.flow, e, 4, th_write_cb, &x->a), 0);
    th_poll(&x->h);
    assert_false(th_pop(&x->h, &r));
    oasis_iovec w[4] = {{zeros, 0}, {zeros, 10}, {zeros, 0}, {zeros, 50}};
    assert_int_equal(oasis_tcp_writev(x->a.flow, w, 4, th_write_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(pop_rel(x, &r), 60);
    assert_int_equal(r.payload_len, 60);
    assert_int_equal(x->a.writes_done, 3);
    assert_int_equal(x->a.write_err, 0);
}

/* Found porting the script above: an established flow that went idle gives
 * its extension back, and the one rebuilt for the next write had push_seq
 * 0, which oasis_seq_gt puts ahead of snd_nxt whenever snd_nxt is in the
 * upper half of the sequence space: every write then counted as pushed and
 * Nagle was off for that flow. Flows from eight peer ports (eight ISNs,
 * RFC 6528): each holds its second small write while the first is unacked
 * (RFC 1122 4.2.3.4), and at least one has snd_nxt in that upper half. */
static void test_nagle_after_idle_any_isn(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    int upper = 0;
    for (uint16_t k = 0; k < 8; k++) {
        uint16_t pp = (uint16_t)(41000 + k);
        oasis_tcp_hdr syn = th_seg(pp, PORT, S, TH_PISN, 0);
        th_inject(&x->h, &syn);
        oasis_tcp_hdr r;
        assert_true(th_pop(&x->h, &r));
        uint32_t iss = r.seq;
        oasis_tcp_hdr ack = th_seg(pp, PORT, A, TH_PISN + 1, iss + 1);
        th_inject(&x->h, &ack);
        th_poll(&x->h);
        assert_int_equal(x->a.accepted, k + 1);
        assert_null(x->a.flow->ext); /* idle: the extension went back */
        assert_int_equal(oasis_tcp_write(x->a.flow, "a", 1, NULL, NULL), 0);
        assert_true(th_pop(&x->h, &r));
        assert_int_equal(r.payload_len, 1);
        assert_int_equal(oasis_tcp_write(x->a.flow, "b", 1, NULL, NULL), 0);
        th_poll(&x->h);
        assert_false(th_pop(&x->h, &r));
        upper |= (iss + 2) > 0x80000000u;
    }
    assert_true(upper);
}

/* ---- the receive window (Linux tcp_rcv_*) ---------------------------------- */

/* Sends MSS-sized (or smaller) segments from the peer until our ACK
 * offers a window below `left`; returns that window (bytes, unscaled
 * flows only) with x->pnxt moved past the data. */
static uint32_t fill_window(fx *x, uint32_t left)
{
    uint32_t wnd = 65535;
    while (wnd >= left) {
        uint32_t n = wnd < 1000 ? wnd : 1000;
        seg(x, A, x->pnxt, 0, n);
        x->pnxt += n;
        th_advance(&x->h, 50 * MS); /* the delayed ACK too */
        oasis_tcp_hdr r;
        int got = 0;
        while (th_pop(&x->h, &r)) {
            got = 1;
            assert_int_equal(r.ack, x->pnxt);
            wnd = r.window;
        }
        assert_true(got);
    }
    return wnd;
}

static void expect_ack(fx *x, uint32_t ack, uint32_t wnd)
{
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags & ~P, A);
    assert_int_equal(r.ack, ack);
    assert_int_equal(r.window, wnd);
    assert_int_equal(r.payload_len, 0);
}

/* tcp_rcv_zero_wnd_fin: some stacks send a FIN into a closed window.
 * Strictly (RFC 9293 3.10.7.4) a zero window takes only ACKs, URGs and
 * RSTs; Oasis, as Linux, takes the FIN (it needs no buffer) and acks it
 * with the window still 0, which ends a FIN/ACK loop with such a peer. */
static void test_rcv_zero_wnd_fin(void **state)
{
    fx *x = *state;
    open_passive(x, 1000, 0, 0, 20000);
    assert_int_equal(fill_window(x, 1), 0);
    seg(x, F | A, x->pnxt, 0, 0);
    th_poll(&x->h);
    expect_ack(x, x->pnxt + 1, 0);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.eof, 1);
}

/* tcp_rcv_big_endseq and tcp_rcv_toobig: a segment that starts inside the
 * window and ends beyond it. Linux drops it whole (TcpExtBeyondWindow)
 * while data waits unread, and takes it whole, past the window, when its
 * queue is empty. Oasis trims it to the window and takes the part inside
 * (RFC 9293 3.10.7.4: "trimming off any portions that lie outside the
 * window"), both times; a segment wholly beyond the window is answered
 * with an ACK and dropped, as in both scripts. */
static void test_rcv_straddles_right_edge(void **state)
{
    fx *x = *state;
    open_passive(x, 1000, 0, 0, 10000);
    uint32_t w = fill_window(x, 7000);
    assert_int_equal(w, 6000);
    seg(x, A, x->pnxt, 0, w + 400);
    th_poll(&x->h);
    expect_ack(x, x->pnxt + w, 0);
    uint32_t base = x->pnxt;
    x->pnxt += w;
    /* wholly beyond the (closed) window: ACK, dropped */
    seg(x, A, x->pnxt + 1000, 0, 1000);
    expect_ack(x, x->pnxt, 0);
    assert_int_equal(th_pending(&x->h), 0);
    /* the application reads: the window opens, the rest is taken */
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    th_advance(&x->h, 50 * MS);
    th_clear(&x->h);
    assert_int_equal(x->a.rx_len, x->pnxt - (TH_PISN + 1));
    seg(x, A, base, 0, w + 400); /* partly old now */
    th_advance(&x->h, 50 * MS);
    oasis_tcp_hdr r;
    uint32_t ack = 0;
    while (th_pop(&x->h, &r))
        ack = r.ack;
    assert_int_equal(ack, x->pnxt + 400);
    assert_int_equal(x->a.rx_len, x->pnxt + 400 - (TH_PISN + 1));
}

/* ---- SACK (Linux tcp_sack_*) ------------------------------------------------ */

/* The script's active open: our SYN, the peer's SYN-ACK with MSS 1460,
 * window scale 2 and SACK, no timestamps, 10 ms later. */
static void open_active_sack(fx *x)
{
    th_app *a = &x->a;
    assert_int_equal(oasis_tcp_connect(x->h.s, &x->h.peer, PORT, NULL, th_connect_cb, a), 0);
    th_poll(&x->h);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    x->iss = r.seq;
    x->lport = r.src_port;
    x->pport = PORT;
    th_advance(&x->h, 10 * MS);
    oasis_tcp_hdr sa = th_seg(PORT, x->lport, S | A, TH_PISN, x->iss + 1);
    sa.has_mss = 1;
    sa.mss = 1460;
    sa.sack_permitted = 1;
    sa.has_wscale = 1;
    sa.wscale = 2;
    th_inject(&x->h, &sa);
    th_poll(&x->h);
    th_clear(&x->h);
    x->pnxt = TH_PISN + 1;
    assert_int_equal(a->connected, 1);
}

/* tcp_sack_sack-route-refresh-ip-tos: a TOS change (there IP_TOS, which
 * makes Linux look its route up again; here oasis_tcp_set_dscp) while
 * data is in flight does not upset matching SACKs to what was sent: an
 * ACK of 13140 with SACKs for 16060:17520 and 20440:26280 (RFC 6675:
 * both holes lost, three or more segments SACKed above them) resends the
 * two holes and nothing SACKed. */
static void test_sack_route_refresh_dscp(void **state)
{
    fx *x = *state;
    open_active_sack(x);
    assert_int_equal(oasis_tcp_write(x->a.flow, zeros, 5840, NULL, NULL), 0);
    th_poll(&x->h);
    assert_int_equal(drain_from(x, 0), 5840);
    th_advance(&x->h, 10 * MS);
    ack_to(x, 5840);
    th_advance(&x->h, 10 * MS);
    assert_int_equal(oasis_tcp_write(x->a.flow, zeros, 5840, NULL, NULL), 0);
    th_poll(&x->h);
    assert_int_equal(drain_from(x, 5840), 5840);
    th_advance(&x->h, 10 * MS);
    ack_to(x, 11680);
    th_advance(&x->h, 10 * MS);
    assert_int_equal(oasis_tcp_write(x->a.flow, zeros, 14600, NULL, NULL), 0);
    th_poll(&x->h);
    assert_int_equal(drain_from(x, 11680), 14600);
    assert_int_equal(oasis_tcp_set_dscp(x->a.flow, 1), 0);
    assert_int_equal(oasis_tcp_set_dscp(x->a.flow, 0), 0);
    th_advance(&x->h, 10 * MS);
    ack_sack(x, 13140, 2, (uint32_t[]){16060, 17520, 20440, 26280});
    uint32_t want[] = {13140, 14600, 17520, 18980};
    oasis_tcp_hdr r;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pop_rel(x, &r), want[i]);
        assert_int_equal(r.payload_len, 1460);
    }
    assert_false(th_pop(&x->h, &r));
    th_advance(&x->h, 10 * MS);
    ack_to(x, 26280);
    oasis_tcp_info i;
    assert_int_equal(oasis_tcp_get_info(x->a.flow, &i), 0);
    assert_int_equal(i.bytes_in_flight, 0);
    assert_int_equal(i.retransmits, 4);
}

/* Pops exactly n segments, of MSS 1000, at the given relative sequence
 * numbers, in order. */
static void expect_segs(fx *x, int n, const uint32_t *seqs)
{
    oasis_tcp_hdr r;
    for (int i = 0; i < n; i++) {
        assert_int_equal(pop_rel(x, &r), seqs[i]);
        assert_int_equal(r.payload_len, 1000);
    }
    assert_false(th_pop(&x->h, &r));
}

/* tcp_sack_sack-shift-sacked-*-fack: ten segments out on a 100 ms round
 * trip, then one SACK for segment 7. RACK (RFC 8985 6.2) waits a
 * reordering window (min_rtt/4, 25 ms; Linux 27 ms) before it deems 0..6
 * lost and resends segment 0. Further SACKs, one segment at a time, each
 * release the next holes, never a SACKed segment; the cumulative ACK
 * ends recovery. Linux's skb shifting and its tcpi_lost/tcpi_reordering
 * counts are its own. PRR (RFC 9937): these SACKs advance no SND.UNA, so
 * no SafeACK; PRR-CRB releases one segment per SACKed segment, as Linux
 * on the first two. On -7-3-4-8-9's SACK of 8 Linux sends nothing (its
 * own accounting, not traced here) where Oasis sends the segment that
 * SACK delivered, so 5 goes one ACK earlier and 6 (RACK-lost since the
 * reordering timer) after it. */
static void shift_open(fx *x)
{
    x->hs_rtt = 100 * MS;
    open_passive(x, 1000, 1, 0, 0);
    assert_int_equal(oasis_tcp_ext_get(x->a.flow), 0); /* pinned: the test reads its internals */
    assert_int_equal(oasis_tcp_write(x->a.flow, zeros, 10000, NULL, NULL), 0);
    th_poll(&x->h);
    assert_int_equal(drain_from(x, 0), 10000);
    th_advance(&x->h, 100 * MS);
    ack_sack(x, 0, 1, (uint32_t[]){7000, 8000});
    expect_segs(x, 0, NULL);
    th_advance(&x->h, 20 * MS);
    expect_segs(x, 0, NULL);
    th_advance(&x->h, 10 * MS);
    expect_segs(x, 1, (uint32_t[]){0});
    assert_true(oasis_recovery_fast(x->a.flow));
}

static void shift_close(fx *x)
{
    ack_to(x, 10000);
    expect_segs(x, 0, NULL);
    assert_false(oasis_recovery_fast(x->a.flow));
    oasis_tcp_info i;
    assert_int_equal(oasis_tcp_get_info(x->a.flow, &i), 0);
    assert_int_equal(i.bytes_in_flight, 0);
}

/* -7-3-4-8-9: SACKs for 3, 4, 8, 9: Oasis sends 1, 2, 5, 6 (Linux: 1, 2,
 * -, 5). */
static void test_sack_shift_7_3_4_8_9(void **state)
{
    fx *x = *state;
    shift_open(x);
    ack_sack(x, 0, 2, (uint32_t[]){3000, 4000, 7000, 8000});
    expect_segs(x, 1, (uint32_t[]){1000});
    ack_sack(x, 0, 2, (uint32_t[]){3000, 5000, 7000, 8000});
    expect_segs(x, 1, (uint32_t[]){2000});
    ack_sack(x, 0, 2, (uint32_t[]){3000, 5000, 7000, 9000});
    expect_segs(x, 1, (uint32_t[]){5000});
    ack_sack(x, 0, 2, (uint32_t[]){3000, 5000, 7000, 10000});
    expect_segs(x, 1, (uint32_t[]){6000});
    shift_close(x);
}

/* -7-5-6-8-9: SACKs for 5, 6, 8, 9 (Linux: 1, 2, 3, 4). */
static void test_sack_shift_7_5_6_8_9(void **state)
{
    fx *x = *state;
    shift_open(x);
    ack_sack(x, 0, 2, (uint32_t[]){5000, 6000, 7000, 8000});
    expect_segs(x, 1, (uint32_t[]){1000});
    ack_sack(x, 0, 1, (uint32_t[]){5000, 8000});
    expect_segs(x, 1, (uint32_t[]){2000});
    ack_sack(x, 0, 1, (uint32_t[]){5000, 9000});
    expect_segs(x, 1, (uint32_t[]){3000});
    ack_sack(x, 0, 1, (uint32_t[]){5000, 10000});
    expect_segs(x, 1, (uint32_t[]){4000});
    shift_close(x);
}

/* slow-start-after-idle and -after-win-update: the common start. 26000
 * bytes, IW10, on a 100 ms round trip; each flight is acked by one
 * stretch ACK. Linux counts every segment of a stretch ACK (cwnd 20, then
 * 36); RFC 3465's L = 2*SMSS caps Oasis at two per ACK (12, then 14). */
static void idle_start(fx *x)
{
    x->hs_rtt = 100 * MS;
    open_passive(x, 1000, 1, 0, 0);
    assert_int_equal(oasis_tcp_write(x->a.flow, zeros, 26000, NULL, NULL), 0);
    th_poll(&x->h);
    assert_int_equal(drain_from(x, 0), 10000);
    th_advance(&x->h, 100 * MS);
    ack_to(x, 10000);
    assert_int_equal(cwnd_segs(x, 1000), 12);
    assert_int_equal(drain_from(x, 10000), 12000);
    th_advance(&x->h, 100 * MS);
    ack_to(x, 22000);
    assert_int_equal(cwnd_segs(x, 1000), 14);
    assert_int_equal(drain_from(x, 22000), 4000);
    th_advance(&x->h, 100 * MS);
}

/* slow-start-after-idle: two seconds without sending, more than the RTO:
 * cwnd restarts from min(IW, cwnd) (RFC 5681 4.1, as Linux's
 * tcp_slow_start_after_idle) and ten segments go out. Linux's script
 * sees five, its TSO autosizing's burst, with the same cwnd of 10. */
static void test_slow_start_after_idle(void **state)
{
    fx *x = *state;
    idle_start(x);
    ack_to(x, 26000);
    assert_int_equal(cwnd_segs(x, 1000), 14);
    th_advance(&x->h, 2000 * MS);
    assert_int_equal(oasis_tcp_write(x->a.flow, zeros, 20000, NULL, NULL), 0);
    th_poll(&x->h);
    assert_int_equal(drain_from(x, 26000), 10000);
    assert_int_equal(cwnd_segs(x, 1000), 10);
}

/* slow-start-after-win-update: the last ACK closes the window; zero-window
 * probes (zero-length, at SND.UNA - 1, as Linux's) back off and leave cwnd
 * alone; the window reopens three seconds later. Linux keeps cwnd 36
 * (probes count as sending for its idle test). No data went out for more
 * than an RTO, so Oasis restarts from the initial window (RFC 5681 4.1:
 * "has not sent data in an interval exceeding the retransmission
 * timeout") and sends ten segments. */
static void test_slow_start_after_win_update(void **state)
{
    fx *x = *state;
    idle_start(x);
    oasis_tcp_hdr s = th_seg(x->pport, x->lport, A, x->pnxt, x->iss + 1 + 26000);
    s.window = 0;
    th_inject(&x->h, &s);
    assert_int_equal(oasis_tcp_write(x->a.flow, zeros, 20000, NULL, NULL), 0);
    th_poll(&x->h);
    assert_int_equal(th_pending(&x->h), 0);
    int probes = 0;
    for (int i = 0; i < 30; i++) {
        th_advance(&x->h, 100 * MS);
        oasis_tcp_hdr r;
        while (th_pop(&x->h, &r)) {
            assert_int_equal(r.seq, x->iss + 26000);
            assert_int_equal(r.payload_len, 0);
            probes++;
        }
        assert_int_equal(cwnd_segs(x, 1000), 14);
    }
    assert_true(probes >= 3 && probes <= 5);
    ack_to(x, 26000);
    assert_int_equal(drain_from(x, 26000), 10000);
    assert_int_equal(cwnd_segs(x, 1000), 10);
}

static int group_ipv6(void **state)
{
    (void)state;
    ipv6 = 1;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_validate_established_no_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_start_ack_per_1pkt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_start_ack_per_2pkt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_start_ack_per_4pkt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_start_send_6pkt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_start_send_5pkt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_start_app_limited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_start_app_limited_9, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ts_recent_invalid_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ts_recent_fin_tsval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ts_recent_reset_tsval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nagle_https_client_nodelay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nagle_nodelay_pushes_held, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nagle_after_idle_any_isn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_info_rwnd_limited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arg_null_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arg_writev_empty_iov, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rcv_zero_wnd_fin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rcv_straddles_right_edge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sack_route_refresh_dscp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sack_shift_7_3_4_8_9, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sack_shift_7_5_6_8_9, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_start_after_idle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_start_after_win_update, setup, teardown),
    };
    int failed = cmocka_run_group_tests_name("ipv4", tests, NULL, NULL);
    return failed + cmocka_run_group_tests_name("ipv6", tests, group_ipv6, NULL);
}
