/* mirage-tcpip's own TCP tests (its test/ directory), scenario by scenario,
 * against Oasis: the contract Oasis keeps is mirage-tcpip's Tcpip.Tcp.S, so
 * its suite is what an outside tester runs first. Verdicts and notes per
 * case: docs/mirage-suite.md.
 *
 * Hand-built peers (test_rfc5961.ml, test_simulatenous_close.ml) use the
 * one-stack harness; the two-stack tests (test_connect.ml, test_iperf.ml,
 * test_deadlock.ml, test_keepalive.ml, test_mtus.ml) use the in-memory
 * wire behind mirage's backends (vnetif.h: trailing bytes, uniform loss,
 * loss of frames without payload, a second of loss after 1 MB).
 * Transfer sizes are mirage's divided down for CI; OASIS_MIRAGE_FULL=1
 * runs mirage's own sizes (10 MB per iperf, 100 MB for the deadlock test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/sha256.h"
#include "oasis/oasis.h"
#include "tcp/tcp_wire.h"
#include "tcp_harness.h"
#include "testutil.h"
#include "vnetif.h"

#define SEC OASIS_NS_PER_SEC
#define MS OASIS_NS_PER_MS

static int full_sizes(void)
{
    const char *e = getenv("OASIS_MIRAGE_FULL");
    return e && e[0] == '1';
}

/* ==== test_rfc5961.ml and test_simulatenous_close.ml: a crafted peer ==== */

#define PEER_WIN 5120 /* mirage's injected window */

typedef struct crafted {
    tcp_harness h;
    th_app app;
    uint32_t iss;   /* ours */
    uint16_t lport; /* ours */
} crafted;

static oasis_tcp_hdr peer_seg(crafted *c, uint8_t flags, uint32_t seq, uint32_t ack)
{
    oasis_tcp_hdr s = th_seg(80, c->lport, flags, seq, ack);
    s.window = PEER_WIN;
    return s;
}

/* The stack under test connects to the peer's port 80; returns the SYN. */
static oasis_tcp_hdr crafted_connect(crafted *c)
{
    th_init(&c->h, NULL);
    th_app_init(&c->app);
    assert_int_equal(oasis_tcp_connect4(c->h.s, TH_PEER, 80, NULL, th_connect_cb, &c->app), 0);
    th_poll(&c->h);
    oasis_tcp_hdr syn;
    assert_true(th_pop(&c->h, &syn));
    assert_int_equal(syn.flags, OASIS_TCP_SYN);
    c->iss = syn.seq;
    c->lport = syn.src_port;
    return syn;
}

/* SYN-ACK from the peer with ISN pisn; our handshake ACK is checked. */
static void crafted_synack(crafted *c, uint32_t pisn)
{
    oasis_tcp_hdr sa = peer_seg(c, OASIS_TCP_SYN | OASIS_TCP_ACK, pisn, c->iss + 1);
    th_inject(&c->h, &sa);
    oasis_tcp_hdr ack;
    assert_true(th_pop(&c->h, &ack));
    assert_int_equal(ack.flags, OASIS_TCP_ACK);
    assert_int_equal(ack.ack, pisn + 1);
    assert_int_equal(ack.seq, c->iss + 1);
    th_poll(&c->h);
    assert_int_equal(c->app.connected, 1);
    assert_int_equal(c->app.connect_err, 0);
}

static void crafted_fini(crafted *c)
{
    if (c->app.flow)
        oasis_tcp_release(c->app.flow);
    th_app_fini(&c->app);
    th_fini(&c->h);
}

/* mirage's sut_connects_and_remains_connected: a read is pending and half a
 * second later nothing came (no data, no end of stream, no reset). */
static void stays_connected(crafted *c)
{
    assert_int_equal(oasis_tcp_read(c->app.flow, th_read_cb, &c->app), 0);
    th_advance(&c->h, 500 * MS);
    assert_int_equal(c->app.reads, 0);
    assert_int_equal(oasis_tcp_flow_error(c->app.flow), 0);
    oasis_tcp_info info;
    assert_int_equal(oasis_tcp_get_info(c->app.flow, &info), 0);
    assert_int_equal(info.state, OASIS_TCP_ESTABLISHED);
}

/* A challenge ACK (RFC 5961 3.2, 4.2, 5.2): <SEQ=SND.NXT><ACK=RCV.NXT>. */
static void expect_challenge(crafted *c, uint32_t rcv_nxt)
{
    oasis_tcp_hdr a;
    assert_true(th_pop(&c->h, &a));
    assert_int_equal(a.flags, OASIS_TCP_ACK);
    assert_int_equal(a.ack, rcv_nxt);
    assert_int_equal(a.seq, c->iss + 1);
    assert_int_equal(th_pending(&c->h), 0);
}

/* "blind rst to syn_sent": an RST whose ACK is one below ISS+1 is ignored
 * (RFC 9293 3.10.7.3: in SYN-SENT an unacceptable ACK drops the RST), and
 * the SYN-ACK that follows opens the connection. */
static void test_rfc5961_blind_rst_on_syn(void **state)
{
    (void)state;
    crafted c;
    crafted_connect(&c);
    oasis_tcp_hdr rst = peer_seg(&c, OASIS_TCP_RST | OASIS_TCP_ACK, 0, c.iss);
    th_inject(&c.h, &rst);
    th_poll(&c.h);
    assert_int_equal(c.app.connected, 0);
    assert_int_equal(th_pending(&c.h), 0);
    crafted_synack(&c, 0);
    stays_connected(&c);
    crafted_fini(&c);
}

/* "connection refused": RST,ACK acknowledging the SYN: Refused. */
static void test_rfc5961_connection_refused(void **state)
{
    (void)state;
    crafted c;
    crafted_connect(&c);
    oasis_tcp_hdr rst = peer_seg(&c, OASIS_TCP_RST | OASIS_TCP_ACK, 0, c.iss + 1);
    th_inject(&c.h, &rst);
    th_poll(&c.h);
    assert_int_equal(c.app.connected, 1);
    assert_int_equal(c.app.connect_err, OASIS_EREFUSED);
    assert_string_equal(oasis_strerror(c.app.connect_err), oasis_strerror(OASIS_EREFUSED));
    c.app.flow = NULL; /* a failed connect hands no flow over */
    crafted_fini(&c);
}

/* "blind rst on established": an RST in the window but not at RCV.NXT
 * (the peer started at 0, this is 10) draws a challenge ACK and changes
 * nothing (RFC 5961 3.2). */
static void test_rfc5961_blind_rst_on_established(void **state)
{
    (void)state;
    crafted c;
    crafted_connect(&c);
    crafted_synack(&c, 0);
    oasis_tcp_hdr rst = peer_seg(&c, OASIS_TCP_RST, 10, 0);
    th_inject(&c.h, &rst);
    expect_challenge(&c, 1);
    stays_connected(&c);
    crafted_fini(&c);
}

/* "rst on established": an RST exactly at RCV.NXT resets the flow: the
 * pending read ends the stream (mirage: Eof; Oasis: OASIS_EOF, and the
 * flow's error says reset). */
static void test_rfc5961_rst_on_established(void **state)
{
    (void)state;
    crafted c;
    crafted_connect(&c);
    crafted_synack(&c, 0);
    assert_int_equal(oasis_tcp_read(c.app.flow, th_read_cb, &c.app), 0);
    oasis_tcp_hdr rst = peer_seg(&c, OASIS_TCP_RST, 1, 0);
    th_inject(&c.h, &rst);
    th_poll(&c.h);
    assert_int_equal(c.app.eof, 1);
    assert_int_equal(c.app.rx_len, 0);
    assert_int_equal(oasis_tcp_flow_error(c.app.flow), OASIS_ERESET);
    assert_int_equal(th_pending(&c.h), 0); /* nothing answers an RST */
    crafted_fini(&c);
}

/* "blind syn on established": a SYN in ESTABLISHED draws a challenge ACK
 * and the flow lives on (RFC 5961 4.2). */
static void test_rfc5961_blind_syn_on_established(void **state)
{
    (void)state;
    crafted c;
    crafted_connect(&c);
    crafted_synack(&c, 0);
    oasis_tcp_hdr syn = peer_seg(&c, OASIS_TCP_SYN, 10, 0);
    th_inject(&c.h, &syn);
    expect_challenge(&c, 1);
    stays_connected(&c);
    crafted_fini(&c);
}

static uint8_t page[512];

/* "blind data injection": 512 bytes at RCV.NXT whose ACK is older than
 * SND.UNA - MAX.SND.WND (the window the peer offered, 5120, plus 100):
 * a challenge ACK, and the bytes are not taken (RFC 5961 5.2). */
static void test_rfc5961_blind_data_injection(void **state)
{
    (void)state;
    crafted c;
    crafted_connect(&c);
    crafted_synack(&c, 1000000);
    memset(page, 0xab, sizeof page);
    oasis_tcp_hdr d = peer_seg(&c, OASIS_TCP_ACK, 1000001, c.iss + 1 - (PEER_WIN + 100));
    d.payload = page;
    d.payload_len = sizeof page;
    th_inject(&c.h, &d);
    expect_challenge(&c, 1000001);
    stays_connected(&c);
    crafted_fini(&c);
}

/* "data repeated ack": the same bytes with an old ACK that is still within
 * MAX.SND.WND (5120 - 100 back) are taken and acknowledged. */
static void test_rfc5961_data_repeated_ack(void **state)
{
    (void)state;
    crafted c;
    crafted_connect(&c);
    crafted_synack(&c, 1000000);
    assert_int_equal(oasis_tcp_read(c.app.flow, th_read_cb, &c.app), 0);
    oasis_tcp_hdr d = peer_seg(&c, OASIS_TCP_ACK, 1000001, c.iss + 1 - (PEER_WIN - 100));
    d.payload = page;
    d.payload_len = sizeof page;
    th_inject(&c.h, &d);
    th_advance(&c.h, SEC); /* the ACK may be delayed (RFC 9293 3.8.6.3) */
    oasis_tcp_hdr a;
    assert_true(th_pop(&c.h, &a));
    assert_int_equal(a.flags & OASIS_TCP_ACK, OASIS_TCP_ACK);
    assert_int_equal(a.ack, 1000001 + sizeof page);
    assert_int_equal(c.app.rx_len, sizeof page);
    crafted_fini(&c);
}

/* test_simulatenous_close.ml: the peer's FIN comes as soon as the handshake
 * is done and the application closes; our FIN follows. */
static void close_after_peer_fin(crafted *c, oasis_tcp_hdr *our_fin)
{
    crafted_connect(c);
    crafted_synack(c, 1000000);
    oasis_tcp_hdr fin = peer_seg(c, OASIS_TCP_FIN | OASIS_TCP_ACK, 1000001, c->iss + 1);
    th_inject(&c->h, &fin);
    assert_int_equal(oasis_tcp_close(c->app.flow, th_close_cb, &c->app), 0);
    th_advance(&c->h, MS);
    /* the peer's FIN is acknowledged, by our FIN or before it */
    oasis_tcp_hdr s;
    do {
        assert_true(th_pop(&c->h, &s));
        assert_int_equal(s.ack, 1000002);
    } while (!(s.flags & OASIS_TCP_FIN));
    assert_int_equal(s.seq, c->iss + 1);
    assert_int_equal(th_pending(&c->h), 0);
    *our_fin = s;
}

/* "close with ack": the peer acknowledges our FIN with a zero window; four
 * seconds later the connection is gone (no flow, no TIME-WAIT: we closed
 * second). */
static void test_simultaneous_close_ack(void **state)
{
    (void)state;
    crafted c;
    oasis_tcp_hdr fin;
    close_after_peer_fin(&c, &fin);
    oasis_tcp_hdr ack = peer_seg(&c, OASIS_TCP_ACK, 1000002, fin.seq + 1);
    ack.window = 0;
    th_inject(&c.h, &ack);
    th_advance(&c.h, 4 * SEC);
    assert_int_equal(c.app.closed, 1);
    assert_int_equal(c.app.close_err, 0);
    assert_int_equal(th_ctr(&c.h)->flows, 0);
    assert_int_equal(th_ctr(&c.h)->time_wait, 0);
    assert_int_equal(th_pending(&c.h), 0);
    crafted_fini(&c);
}

/* "close with reset, challenge ack ok": mirage's peer sends its first RST
 * at 1000001, where its own FIN was: one below RCV.NXT, outside the window,
 * which RFC 5961 3.2 drops in silence (mirage's script takes any ACK that
 * follows as the challenge). An RST inside the window but not at RCV.NXT
 * draws the challenge ACK; the RST at RCV.NXT ends the flow, and four
 * seconds later it is gone. */
static void test_simultaneous_close_reset(void **state)
{
    (void)state;
    crafted c;
    oasis_tcp_hdr fin;
    close_after_peer_fin(&c, &fin);
    oasis_tcp_hdr rst = peer_seg(&c, OASIS_TCP_RST, 1000001, 0);
    rst.window = 0;
    th_inject(&c.h, &rst);
    th_poll(&c.h);
    assert_int_equal(th_pending(&c.h), 0);
    assert_int_equal(c.app.closed, 0);
    rst.seq = 1000003;
    th_inject(&c.h, &rst);
    oasis_tcp_hdr a;
    assert_true(th_pop(&c.h, &a));
    assert_int_equal(a.flags, OASIS_TCP_ACK);
    assert_int_equal(a.ack, 1000002);
    assert_int_equal(a.seq, fin.seq + 1);
    assert_int_equal(c.app.closed, 0);
    rst.seq = 1000002;
    th_inject(&c.h, &rst);
    th_advance(&c.h, 4 * SEC);
    assert_int_equal(c.app.closed, 1);
    assert_int_equal(c.app.close_err, OASIS_ERESET);
    assert_int_equal(th_ctr(&c.h)->flows, 0);
    assert_int_equal(th_pending(&c.h), 0);
    crafted_fini(&c);
}

/* ==== two stacks on the in-memory wire, behind vnetif.h's backends ======== */

static int flag_set(void *ud) { return *(const int *)ud; }

/* Runs until *flag or `timeout` of virtual time; asserts the flag. */
static void run_until(test_vnetif *n, const int *flag, uint64_t timeout)
{
    oasis_wire_run(n->wire, flag_set, (void *)flag, timeout);
    assert_true(*flag);
}

/* ---- test_connect.ml: one string, then close ---- */

static const char hello[] = "Hello world from Mirage 123456789....";

typedef struct conn_app {
    oasis_flow *client, *server;
    int connected, connect_err;
    uint8_t rx[128];
    size_t rx_len, first_read;
    int reads, eof, done, writes_ok, closed;
} conn_app;

static void conn_server_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    conn_app *a = ud;
    a->reads++;
    if (err == OASIS_EOF) {
        a->eof = 1;
        a->done = 1;
        oasis_tcp_close(f, NULL, NULL);
        return;
    }
    assert_int_equal(err, 0);
    assert_true(a->rx_len + len <= sizeof a->rx);
    if (a->rx_len == 0)
        a->first_read = len;
    memcpy(a->rx + a->rx_len, data, len);
    a->rx_len += len;
    assert_int_equal(oasis_tcp_read(f, conn_server_read, a), 0);
}

static void conn_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    conn_app *a = ud;
    a->server = f;
    assert_int_equal(oasis_tcp_read(f, conn_server_read, a), 0);
}

static void conn_client_closed(oasis_flow *f, int err, void *ud)
{
    conn_app *a = ud;
    assert_int_equal(err, 0);
    a->closed = 1;
    oasis_tcp_release(f);
}

static void conn_wrote(oasis_flow *f, int err, void *ud)
{
    conn_app *a = ud;
    assert_int_equal(err, 0);
    a->writes_ok++;
    assert_int_equal(oasis_tcp_close(f, conn_client_closed, a), 0);
}

static void conn_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    conn_app *a = ud;
    a->connected = 1;
    a->connect_err = err;
    if (err)
        return;
    a->client = f;
    assert_int_equal(oasis_tcp_write(f, hello, strlen(hello), conn_wrote, a), 0);
}

/* One run of mirage's test_tcp_connect_two_stacks: the server reads the
 * string, the client's close completes (the server closes on end of
 * stream), within 15 s of virtual time as mirage's timeout. */
static void connect_two_stacks(test_vnetif *n)
{
    conn_app a;
    memset(&a, 0, sizeof a);
    assert_int_equal(oasis_tcp_listen(n->b, 80, NULL, conn_accept, &a), 0);
    assert_int_equal(oasis_tcp_connect4(n->a, TEST_ADDR_B, 80, NULL, conn_connected, &a), 0);
    run_until(n, &a.done, 15 * SEC);
    run_until(n, &a.closed, 15 * SEC);
    assert_int_equal(a.connect_err, 0);
    assert_int_equal(a.rx_len, strlen(hello));
    assert_int_equal(a.first_read, strlen(hello)); /* mirage reads it in one go */
    assert_memory_equal(a.rx, hello, strlen(hello));
    assert_int_equal(a.writes_ok, 1);
    assert_int_equal(oasis_tcp_unlisten(n->b, 80), 0);
}

/* "connect two stacks, basic test" */
static void test_connect_two_stacks_basic(void **state)
{
    (void)state;
    test_vnetif n;
    test_vnetif_init(&n, VNETIF_BASIC, 1, 1500, 1500);
    connect_two_stacks(&n);
    test_vnetif_fini(&n);
}

/* "connect two stacks, uniform packet loss of packets with no payload x
 * 100": frames of 100 bytes or less (SYNs, ACKs, FINs) lost one in ten. */
static void test_connect_two_stacks_no_payload_loss_x100(void **state)
{
    (void)state;
    uint64_t drops = 0;
    for (uint64_t i = 1; i <= 100; i++) {
        test_vnetif n;
        test_vnetif_init(&n, VNETIF_NO_PAYLOAD_LOSS, i, 1500, 1500);
        connect_two_stacks(&n);
        drops += n.drops;
        test_vnetif_fini(&n);
    }
    assert_true(drops > 0); /* the loss did happen */
}

/* "connect two stacks, with trailing bytes": 0 to 9 bytes after every
 * frame, which IPv4 trims by its total length (RFC 791; RFC 1122 3.3.6's
 * link padding). */
static void test_connect_two_stacks_trailing_bytes(void **state)
{
    (void)state;
    test_vnetif n;
    test_vnetif_init(&n, VNETIF_TRAILING_BYTES, 3, 1500, 1500);
    connect_two_stacks(&n);
    assert_true(n.padded > 0);
    const oasis_counters *c = oasis_stack_counters(n.b);
    assert_int_equal(c->tcp.in_csum_errors, 0);
    assert_int_equal(c->tcp.in_errs, 0);
    test_vnetif_fini(&n);
}

/* ---- test_iperf.ml: amt bytes of a 3840-byte message, then close ---- */

#define IPERF_MLEN 3840

typedef struct iperf {
    test_vnetif *n;
    uint8_t msg[IPERF_MLEN];
    uint64_t amt, written, received;
    int server_done, client_closed, bad;
} iperf;

static void iperf_write_next(oasis_flow *f, iperf *p);

static void iperf_closed(oasis_flow *f, int err, void *ud)
{
    iperf *p = ud;
    assert_int_equal(err, 0);
    p->client_closed = 1;
    oasis_tcp_release(f);
}

static void iperf_wrote(oasis_flow *f, int err, void *ud)
{
    assert_int_equal(err, 0);
    iperf_write_next(f, ud);
}

static void iperf_write_next(oasis_flow *f, iperf *p)
{
    if (p->written == p->amt) {
        assert_int_equal(oasis_tcp_close(f, iperf_closed, p), 0);
        return;
    }
    size_t k = p->amt - p->written < IPERF_MLEN ? (size_t)(p->amt - p->written) : IPERF_MLEN;
    p->written += k;
    assert_int_equal(oasis_tcp_write(f, p->msg, k, iperf_wrote, p), 0);
}

static void iperf_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    assert_int_equal(err, 0);
    iperf_write_next(f, ud);
}

static void iperf_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    iperf *p = ud;
    if (err == OASIS_EOF) {
        p->server_done = 1;
        oasis_tcp_close(f, NULL, NULL);
        return;
    }
    assert_int_equal(err, 0);
    for (size_t i = 0; i < len; i++) /* the message's bytes, in order */
        if (data[i] != p->msg[(p->received + i) % IPERF_MLEN])
            p->bad++;
    p->received += len;
    assert_int_equal(oasis_tcp_read(f, iperf_read, p), 0);
}

static void iperf_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    assert_int_equal(oasis_tcp_read(f, iperf_read, ud), 0);
}

/* mirage's tcp_iperf: within its 120 s of (here virtual) time. */
static void run_iperf(test_vnetif *n, uint64_t amt)
{
    static const char m[] = "01234567890abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    iperf *p = calloc(1, sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < IPERF_MLEN; i++)
        p->msg[i] = (uint8_t)m[i % 64];
    p->n = n;
    p->amt = amt;
    assert_int_equal(oasis_tcp_listen(n->b, 5001, NULL, iperf_accept, p), 0);
    assert_int_equal(oasis_tcp_connect4(n->a, TEST_ADDR_B, 5001, NULL, iperf_connected, p), 0);
    run_until(n, &p->server_done, 120 * SEC);
    run_until(n, &p->client_closed, 120 * SEC);
    assert_int_equal(p->received, amt);
    assert_int_equal(p->bad, 0);
    free(p);
}

static uint64_t iperf_amt(void) { return full_sizes() ? 10000000 : 2000000; }

static void iperf_case(uint32_t mtu_a, uint32_t mtu_b, test_vnetif_backend mode, uint64_t amt)
{
    test_vnetif n;
    test_vnetif_init(&n, mode, 7, mtu_a, mtu_b);
    run_iperf(&n, amt);
    if (mode == VNETIF_TRAILING_BYTES)
        assert_true(n.padded > 0);
    if (mode == VNETIF_NO_PAYLOAD_LOSS || mode == VNETIF_DROP_1S_AFTER_1MB)
        assert_true(n.drops > 0);
    if (mode == VNETIF_UNIFORM_LOSS) {
        oasis_wire_stats st;
        assert_int_equal(oasis_wire_stats_get(n.wire, NULL, NULL, &st), 0);
        assert_true(st.dropped_loss > 0);
    }
    test_vnetif_fini(&n);
}

/* "iperf with two stacks, basic tests" */
static void test_iperf_basic(void **state)
{
    (void)state;
    iperf_case(1500, 1500, VNETIF_BASIC, iperf_amt());
}

/* "iperf with two stacks, testing trailing_bytes" */
static void test_iperf_trailing_bytes(void **state)
{
    (void)state;
    iperf_case(1500, 1500, VNETIF_TRAILING_BYTES, iperf_amt());
}

/* "iperf with two stacks and uniform packet loss" (1% each way) */
static void test_iperf_uniform_packet_loss(void **state)
{
    (void)state;
    iperf_case(1500, 1500, VNETIF_UNIFORM_LOSS, iperf_amt());
}

/* "iperf with two stacks and uniform packet loss of packets with no
 * payload" */
static void test_iperf_no_payload_loss(void **state)
{
    (void)state;
    iperf_case(1500, 1500, VNETIF_NO_PAYLOAD_LOSS, iperf_amt());
}

/* "iperf with two stacks drop 1 sec after 1 mb" */
static void test_iperf_drop_1sec_after_1mb(void **state)
{
    (void)state;
    iperf_case(1500, 1500, VNETIF_DROP_1S_AFTER_1MB, full_sizes() ? 10000000 : 3000000);
}

/* "iperf with two stacks, over an MTU-enforcing backend" and test_mtus.ml's
 * "iperf test doesn't crash": a 1500-byte client, a 9000-byte server. */
static void test_iperf_mtu_enforced(void **state)
{
    (void)state;
    iperf_case(1500, 9000, VNETIF_BASIC, iperf_amt());
}

/* ---- test_mtus.ml ---- */

/* Frames larger than the receiver's MTU would be dropped by its NIC: none
 * may be sent to it. */
typedef struct mtu_watch {
    test_vnetif *n;
    uint64_t too_big, frames_to_a, frames_to_b;
    size_t largest_to_a, largest_to_b;
} mtu_watch;

static void mtu_observe(void *ud, const oasis_link *from, const oasis_link *to, const uint8_t *frame,
                        size_t len, int intact, uint64_t sent_ns, uint64_t due_ns)
{
    mtu_watch *w = ud;
    size_t ip = len - 14;
    if (to == w->n->sa.port) {
        w->frames_to_a++;
        if (len > w->largest_to_a)
            w->largest_to_a = len;
        if (ip > oasis_stack_mtu(w->n->a))
            w->too_big++;
    } else if (to == w->n->sb.port) {
        w->frames_to_b++;
        if (len > w->largest_to_b)
            w->largest_to_b = len;
        if (ip > oasis_stack_mtu(w->n->b))
            w->too_big++;
    }
}

typedef struct mtu_app {
    uint8_t *rx;
    size_t rx_len, rx_cap;
    int reads, eof, closed, accepted, writes_ok;
    size_t first_read;
    oasis_flow *client;
    const uint8_t *payload;
    size_t payload_len;
    int server_writes; /* the server writes payload (else the client does) */
} mtu_app;

static void mtu_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    mtu_app *a = ud;
    if (err == OASIS_EOF) {
        a->eof = 1;
        return;
    }
    assert_int_equal(err, 0);
    if (a->reads++ == 0)
        a->first_read = len;
    test_append(&a->rx, &a->rx_len, &a->rx_cap, data, len);
    assert_int_equal(oasis_tcp_read(f, mtu_read, a), 0);
}

static void mtu_server_closed(oasis_flow *f, int err, void *ud)
{
    mtu_app *a = ud;
    a->closed++;
    oasis_tcp_release(f);
}

static void mtu_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    mtu_app *a = ud;
    a->accepted = 1;
    if (a->server_writes)
        assert_int_equal(oasis_tcp_write(f, a->payload, a->payload_len, NULL, NULL), 0);
    else
        assert_int_equal(oasis_tcp_read(f, mtu_read, a), 0);
    assert_int_equal(oasis_tcp_close(f, mtu_server_closed, a), 0);
}

static void mtu_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    mtu_app *a = ud;
    assert_int_equal(err, 0);
    a->client = f;
    if (a->server_writes) {
        assert_int_equal(oasis_tcp_read(f, mtu_read, a), 0);
    } else if (a->payload_len) {
        assert_int_equal(oasis_tcp_write(f, a->payload, a->payload_len, NULL, NULL), 0);
    }
    assert_int_equal(oasis_tcp_close(f, mtu_server_closed, a), 0);
}

/* Client (a, mtu_a) and server (b, mtu_b, port 7): one of them writes the
 * payload and both close; returns when both closes completed. */
static void mtu_exchange(mtu_app *a, uint32_t mtu_a, uint32_t mtu_b, mtu_watch *w)
{
    test_vnetif n;
    test_vnetif_init(&n, VNETIF_BASIC, 11, mtu_a, mtu_b);
    memset(w, 0, sizeof *w);
    w->n = &n;
    oasis_wire_observe(n.wire, mtu_observe, w);
    assert_int_equal(oasis_tcp_listen(n.b, 7, NULL, mtu_accept, a), 0);
    assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, 7, NULL, mtu_connected, a), 0);
    int two = 0;
    while (a->closed < 2 && !two) {
        oasis_wire_run(n.wire, NULL, NULL, 10 * SEC);
        two = 1;
    }
    assert_int_equal(a->closed, 2);
    assert_int_equal(w->too_big, 0);
    w->n = NULL;
    test_vnetif_fini(&n);
}

/* "connections work": a 1500 client to a 9000 server. */
static void test_mtus_connect(void **state)
{
    (void)state;
    mtu_app a;
    mtu_watch w;
    memset(&a, 0, sizeof a);
    mtu_exchange(&a, 1500, 9000, &w);
    assert_int_equal(a.accepted, 1);
    assert_true(w.largest_to_a <= 1514);
}

static uint8_t big[7000];

/* "large server responses are received": 7000 bytes from the 9000 server
 * reach the 1500 client whole, in segments of its MSS. */
static void test_mtus_big_server_response(void **state)
{
    (void)state;
    mtu_app a;
    mtu_watch w;
    memset(&a, 0, sizeof a);
    memset(big, 0xff, sizeof big);
    a.payload = big;
    a.payload_len = 7000;
    a.server_writes = 1;
    mtu_exchange(&a, 1500, 9000, &w);
    assert_int_equal(a.rx_len, 7000);
    assert_memory_equal(a.rx, big, 7000);
    assert_true(w.largest_to_a <= 1514);
    assert_int_equal(a.eof, 1);
    free(a.rx);
}

/* "large client requests are chunked properly": 3750 bytes from the 1500
 * client to the 9000 server go in segments of at most 1460 bytes. */
static void test_mtus_big_client_request_chunked(void **state)
{
    (void)state;
    mtu_app a;
    mtu_watch w;
    memset(&a, 0, sizeof a);
    memset(big, 0xff, sizeof big);
    a.payload = big;
    a.payload_len = 3750;
    mtu_exchange(&a, 1500, 9000, &w);
    assert_int_equal(a.rx_len, 3750);
    assert_true(w.largest_to_b <= 1514);
    assert_true(w.frames_to_b >= 3 + 3); /* SYN, ACK, >= 3 data (one may carry the FIN) */
    free(a.rx);
}

/* "large messages aren't unnecessarily segmented": 9000 both ways, the
 * client's first read has all 7000 bytes. */
static void test_mtus_big_server_response_not_chunked(void **state)
{
    (void)state;
    mtu_app a;
    mtu_watch w;
    memset(&a, 0, sizeof a);
    memset(big, 0xff, sizeof big);
    a.payload = big;
    a.payload_len = 7000;
    a.server_writes = 1;
    mtu_exchange(&a, 9000, 9000, &w);
    assert_int_equal(a.rx_len, 7000);
    assert_int_equal(a.first_read, 7000);
    assert_true(w.largest_to_a > 7000);
    free(a.rx);
}

/* ---- test_deadlock.ml: a slow reader, 4000-byte writes, MTU 4000 ---- */

static const char fish[] = "thanks for all the fish";

typedef struct dl {
    test_vnetif *n;
    uint8_t *data;
    size_t total, written;
    uint64_t write_issued, worst_write_ns;
    oasis_sha256 rx_sum;
    size_t rx_bytes;
    uint64_t pause_until;
    int paused, pauses;
    oasis_flow *reader, *writer;
    uint8_t back[64];
    size_t back_len;
    int writer_eof, writer_closed, reader_closed;
    uint64_t rng;
} dl;

static void dl_write_next(dl *d);

static void dl_wrote(oasis_flow *f, int err, void *ud)
{
    dl *d = ud;
    assert_int_equal(err, 0);
    uint64_t took = oasis_clock_now(d->n->clock) - d->write_issued;
    if (took > d->worst_write_ns)
        d->worst_write_ns = took;
    dl_write_next(d);
}

static void dl_closed(oasis_flow *f, int err, void *ud)
{
    dl *d = ud;
    assert_int_equal(err, 0);
    if (f == d->writer)
        d->writer_closed = 1;
    else
        d->reader_closed = 1;
    oasis_tcp_release(f);
}

static void dl_write_next(dl *d)
{
    if (d->written == d->total) {
        assert_int_equal(oasis_tcp_close(d->writer, dl_closed, d), 0);
        return;
    }
    size_t k = d->total - d->written < 4000 ? d->total - d->written : 4000;
    d->write_issued = oasis_clock_now(d->n->clock);
    assert_int_equal(oasis_tcp_write(d->writer, d->data + d->written, k, dl_wrote, d), 0);
    d->written += k;
}

static void dl_writer_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    dl *d = ud;
    if (err == OASIS_EOF) {
        d->writer_eof = 1;
        return;
    }
    assert_int_equal(err, 0);
    assert_true(d->back_len + len <= sizeof d->back);
    memcpy(d->back + d->back_len, data, len);
    d->back_len += len;
    assert_int_equal(oasis_tcp_read(f, dl_writer_read, d), 0);
}

static void dl_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    dl *d = ud;
    assert_int_equal(err, 0);
    d->writer = f;
    assert_int_equal(oasis_tcp_read(f, dl_writer_read, d), 0);
    dl_write_next(d);
}

static void dl_reader_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud);

static void dl_resume(dl *d)
{
    d->paused = 0;
    assert_int_equal(oasis_tcp_read(d->reader, dl_reader_read, d), 0);
}

static void dl_reader_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    dl *d = ud;
    if (err == OASIS_EOF) { /* mirage's reader answers, then closes */
        assert_int_equal(oasis_tcp_write(f, fish, strlen(fish), NULL, NULL), 0);
        assert_int_equal(oasis_tcp_close(f, dl_closed, d), 0);
        return;
    }
    assert_int_equal(err, 0);
    oasis_sha256_update(&d->rx_sum, data, len);
    d->rx_bytes += len;
    d->rng = d->rng * 6364136223846793005ull + 1442695040888963407ull;
    if ((d->rng >> 33) % 100 == 0) { /* one read in a hundred stops for 10 ms */
        d->paused = 1;
        d->pauses++;
        d->pause_until = oasis_clock_now(d->n->clock) + 10 * MS;
        return;
    }
    assert_int_equal(oasis_tcp_read(f, dl_reader_read, d), 0);
}

static void dl_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    dl *d = ud;
    d->reader = f;
    assert_int_equal(oasis_tcp_read(f, dl_reader_read, d), 0);
}

static int dl_stop(void *ud)
{
    dl *d = ud;
    return (d->paused && oasis_clock_now(d->n->clock) >= d->pause_until) ||
           (d->writer_closed && d->reader_closed && d->writer_eof);
}

/* "test tcp deadlock with slow receiver": every 4000-byte write completes
 * (mirage fails a write that takes 5 s), the reader gets every byte, and
 * its answer after end of stream reaches the writer, which then sees its
 * own end of stream. The writer is mirage's server stack, connecting. */
static void test_deadlock_slow_receiver(void **state)
{
    (void)state;
    test_vnetif n;
    test_vnetif_init(&n, VNETIF_BASIC, 5, 4000, 4000);
    dl *d = calloc(1, sizeof *d);
    assert_non_null(d);
    d->n = &n;
    d->total = full_sizes() ? 100000000 : 16000000;
    d->data = malloc(d->total);
    assert_non_null(d->data);
    uint64_t x = 42;
    for (size_t i = 0; i < d->total; i++) {
        x = x * 6364136223846793005ull + 1;
        d->data[i] = (uint8_t)(x >> 56);
    }
    d->rng = 7;
    oasis_sha256_init(&d->rx_sum);
    assert_int_equal(oasis_tcp_listen(n.a, 10000, NULL, dl_accept, d), 0);
    assert_int_equal(oasis_tcp_connect4(n.b, TEST_ADDR_A, 10000, NULL, dl_connected, d), 0);
    uint64_t deadline = oasis_clock_now(n.clock) + 600 * SEC;
    while (!(d->writer_closed && d->reader_closed && d->writer_eof)) {
        assert_true(oasis_clock_now(n.clock) < deadline);
        oasis_wire_run(n.wire, dl_stop, d, 10 * MS);
        if (d->paused && oasis_clock_now(n.clock) >= d->pause_until)
            dl_resume(d);
        else if (d->paused && oasis_wire_next_deadline(n.wire) > d->pause_until)
            oasis_clock_set(n.clock, d->pause_until); /* nothing else to do meanwhile */
    }
    assert_true(d->pauses > 0);
    assert_true(d->worst_write_ns < 5 * SEC);
    assert_int_equal(d->rx_bytes, d->total);
    uint8_t want[32], got[32];
    oasis_sha256 s;
    oasis_sha256_init(&s);
    oasis_sha256_update(&s, d->data, d->total);
    oasis_sha256_final(&s, want);
    oasis_sha256_final(&d->rx_sum, got);
    assert_memory_equal(want, got, 32);
    assert_int_equal(d->back_len, strlen(fish));
    assert_memory_equal(d->back, fish, strlen(fish));
    free(d->data);
    free(d);
    test_vnetif_fini(&n);
}

/* ---- test_keepalive.ml ---- */

typedef struct ka_app {
    oasis_flow *client, *server;
    int connected, client_eof, reads;
    uint64_t probes;     /* keepalive probes a sent: bare ACKs at SND.UNA-1 */
    uint64_t probe_at[64];
    uint32_t iss;        /* the client's */
    test_vnetif *n;
} ka_app;

/* Frames a sends (before the cut): its SYN gives the ISS; a probe is a
 * bare ACK at SND.NXT - 1 (RFC 1122 4.2.3.6) with 0 or 1 byte, and the
 * client sent nothing but its SYN, so SND.NXT - 1 is its ISS. */
static void ka_tap(void *ud, int from, const uint8_t *frame, size_t len, uint64_t now)
{
    ka_app *k = ud;
    if (from != 0 || len < 14 + 20 + 20 || frame[12] != 0x08 || frame[13] != 0x00)
        return;
    const uint8_t *ip = frame + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    size_t tot = (size_t)ip[2] << 8 | ip[3];
    const uint8_t *tcp = ip + ihl;
    size_t thl = (size_t)(tcp[12] >> 4) * 4;
    if (ip[9] != 6)
        return;
    uint32_t seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 | tcp[7];
    if (tcp[13] == OASIS_TCP_SYN)
        k->iss = seq;
    if (k->client && tot - ihl - thl <= 1 && tcp[13] == OASIS_TCP_ACK && seq == k->iss) {
        if (k->probes < 64)
            k->probe_at[k->probes] = now;
        k->probes++;
    }
}

static void ka_client_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    ka_app *k = ud;
    k->reads++;
    assert_int_equal(err, OASIS_EOF); /* no data ever comes */
    k->client_eof = 1;
}

static void ka_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    ka_app *k = ud;
    k->server = f;
}

static void ka_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    ka_app *k = ud;
    assert_int_equal(err, 0);
    k->client = f;
    k->connected = 1;
}

/* Opens a flow with keepalive `ka` from a to b, then cuts the network
 * (mirage's On_off_switch, for IPv4); returns when the client's read
 * ended. */
static void ka_run(test_vnetif *n, ka_app *k, const oasis_keepalive *ka, uint64_t limit)
{
    memset(k, 0, sizeof *k);
    k->n = n;
    assert_int_equal(oasis_tcp_listen(n->b, 80, NULL, ka_accept, k), 0);
    assert_int_equal(oasis_tcp_connect4(n->a, TEST_ADDR_B, 80, ka, ka_connected, k), 0);
    n->tap = ka_tap;
    n->tap_ud = k;
    run_until(n, &k->connected, 5 * SEC);
    n->cut = 1;
    assert_int_equal(oasis_tcp_read(k->client, ka_client_read, k), 0);
    run_until(n, &k->client_eof, limit);
    assert_int_equal(oasis_tcp_flow_error(k->client), OASIS_ETIMEDOUT);
    uint8_t b = 0;
    assert_int_equal(oasis_tcp_write(k->client, &b, 1, NULL, NULL), OASIS_ECLOSED);
    oasis_tcp_release(k->client);
    oasis_tcp_release(k->server);
}

/* "check that TCP keepalives detect a network failure": after 0, every
 * second, 3 probes; the network drops everything; read reports end of
 * stream within mirage's 15 s. Oasis takes an idle time of 0 as mirage's
 * own keepalive does: the first probe one interval into the silence. */
static void test_keepalive_detects_network_failure(void **state)
{
    (void)state;
    test_vnetif n;
    test_vnetif_init(&n, VNETIF_BASIC, 9, 1500, 1500);
    ka_app k;
    oasis_keepalive ka = {0, SEC, 3};
    uint64_t t0 = oasis_clock_now(n.clock);
    ka_run(&n, &k, &ka, 15 * SEC);
    assert_int_equal(k.probes, 3);
    assert_true(oasis_clock_now(n.clock) - t0 <= 5 * SEC);
    for (int i = 1; i < 3; i++) /* one a second, never back to back */
        assert_int_equal(k.probe_at[i] - k.probe_at[i - 1], SEC);
    assert_int_equal(oasis_stack_counters(n.a)->tcp.keepalive_drops, 1);
    test_vnetif_fini(&n);
}

/* "correct number of keepalives": Linux's defaults (2 h, 75 s, 9): nine
 * probes, then the flow is dead. */
static void test_keepalive_sequence(void **state)
{
    (void)state;
    test_vnetif n;
    test_vnetif_init(&n, VNETIF_BASIC, 10, 1500, 1500);
    ka_app k;
    oasis_keepalive ka = {7200 * SEC, 75 * SEC, 9};
    ka_run(&n, &k, &ka, 7200 * SEC + 10 * 75 * SEC + SEC);
    assert_int_equal(k.probes, 9);
    for (int i = 1; i < 9; i++)
        assert_int_equal(k.probe_at[i] - k.probe_at[i - 1], 75 * SEC);
    test_vnetif_fini(&n);
}

/* "we don't try to send old keepalives" and "check we close if we miss all
 * probes": mirage's keepalive, finding its clock past probes it should
 * have sent (a host asleep), skips them, or closes at once when past them
 * all. Oasis keeps what mirage checks first, no back-to-back probes, and
 * asks the peer before it gives up: the probes go one interval apart from
 * the moment the clock is read again, as Linux's do after a resume. */
static void test_keepalive_clock_jump(void **state)
{
    (void)state;
    test_vnetif n;
    test_vnetif_init(&n, VNETIF_BASIC, 12, 1500, 1500);
    ka_app k;
    memset(&k, 0, sizeof k);
    k.n = &n;
    oasis_keepalive ka = {7200 * SEC, 75 * SEC, 9};
    assert_int_equal(oasis_tcp_listen(n.b, 80, NULL, ka_accept, &k), 0);
    assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, 80, &ka, ka_connected, &k), 0);
    n.tap = ka_tap;
    n.tap_ud = &k;
    run_until(&n, &k.connected, 5 * SEC);
    n.cut = 1;
    assert_int_equal(oasis_tcp_read(k.client, ka_client_read, &k), 0);
    /* asleep past the idle time and twice the probes' whole span */
    oasis_clock_advance(n.clock, 7200 * SEC + 2 * 9 * 75 * SEC);
    run_until(&n, &k.client_eof, 10 * 75 * SEC);
    assert_int_equal(k.probes, 9);
    for (int i = 1; i < 9; i++)
        assert_int_equal(k.probe_at[i] - k.probe_at[i - 1], 75 * SEC);
    assert_int_equal(oasis_tcp_flow_error(k.client), OASIS_ETIMEDOUT);
    oasis_tcp_release(k.client);
    oasis_tcp_release(k.server);
    test_vnetif_fini(&n);
}

/* ==== test_tcp_options.ml: the option bytes (tcp_wire.c) ==================== */

/* A SYN whose options are `opt` (olen bytes, padded with zeros to a
 * multiple of 4); its checksum is not looked at. */
static size_t seg_with_options(uint8_t *buf, const uint8_t *opt, size_t olen)
{
    size_t hl = OASIS_TCP_HLEN + (olen + 3) / 4 * 4;
    oasis_tcp_hdr h = th_seg(40000, 80, OASIS_TCP_SYN, 1, 0);
    oasis_tcp_emit(buf, &h, 0, TEST_ADDR_B, TEST_ADDR_A); /* 20 bytes, no options */
    memset(buf + OASIS_TCP_HLEN, 0, hl - OASIS_TCP_HLEN);
    if (olen)
        memcpy(buf + OASIS_TCP_HLEN, opt, olen);
    buf[12] = (uint8_t)(hl / 4 << 4);
    return hl;
}

static int parse_opts(const uint8_t *opt, size_t olen, oasis_tcp_hdr *h)
{
    uint8_t buf[OASIS_TCP_MAX_HLEN];
    size_t n = seg_with_options(buf, opt, olen);
    return oasis_tcp_parse(buf, n, TEST_ADDR_B, TEST_ADDR_A, 0, h); /* the options alone */
}

/* "unmarshal broken mss": an MSS option of length 3 is an error. */
static void test_tcp_options_bad_mss(void **state)
{
    (void)state;
    const uint8_t o[] = {2, 3, 255};
    oasis_tcp_hdr h;
    assert_int_equal(parse_opts(o, sizeof o, &h), OASIS_EMALFORMED);
}

/* "unmarshal option with bogus length" (an unknown option longer than the
 * header) and "... zero length": mirage keeps what it parsed before and
 * goes on; Oasis refuses the segment (RFC 9293 MUST-7 leaves the handling
 * open; what comes after an impossible length cannot be trusted), and a
 * stack counts and drops it (test_hostile_tcp.c). */
static void test_tcp_options_bogus_and_zero_length(void **state)
{
    (void)state;
    uint8_t bogus[31];
    memset(bogus, 0, sizeof bogus);
    memcpy(bogus, "\x6e\x73\x73\x68\x2e\x63\x6f\x6d", 8);
    oasis_tcp_hdr h;
    assert_int_equal(parse_opts(bogus, sizeof bogus, &h), OASIS_EMALFORMED);
    uint8_t zero[10];
    memset(zero, 1, sizeof zero);
    zero[0] = 64;
    zero[1] = 0;
    assert_int_equal(parse_opts(zero, sizeof zero, &h), OASIS_EMALFORMED);
}

/* "unmarshal simple cases": nothing, EOL alone, NOP alone, an unknown
 * option of valid length: no option is taken, the segment is fine. */
static void test_tcp_options_simple(void **state)
{
    (void)state;
    oasis_tcp_hdr h;
    assert_int_equal(parse_opts(NULL, 0, &h), 0);
    const uint8_t eol[] = {0}, nop[] = {1};
    assert_int_equal(parse_opts(eol, 1, &h), 0);
    assert_int_equal(parse_opts(nop, 1, &h), 0);
    uint8_t unknown[10] = {18, 10};
    memcpy(unknown + 2, "hi mom!!", 8);
    assert_int_equal(parse_opts(unknown, sizeof unknown, &h), 0);
    assert_false(h.has_mss || h.has_wscale || h.sack_permitted || h.has_ts || h.sack_count);
    assert_int_equal(h.hdr_len, OASIS_TCP_HLEN + 12);
}

/* "unmarshal stops at eof": SACK-permitted, NOP, EOL, then a timestamp
 * that must not be read. */
static void test_tcp_options_stop_at_eol(void **state)
{
    (void)state;
    uint8_t o[14] = {4, 2, 1, 0, 8, 10, 0xab, 0xad, 0x1d, 0xea, 0xc0, 0xff, 0xee, 0x33};
    oasis_tcp_hdr h;
    assert_int_equal(parse_opts(o, sizeof o, &h), 0);
    assert_int_equal(h.sack_permitted, 1);
    assert_int_equal(h.has_ts, 0);
}

/* "unmarshal non-broken tcp options": MSS 536, SACK-permitted, NOP, NOP. */
static void test_tcp_options_ok(void **state)
{
    (void)state;
    const uint8_t o[] = {2, 4, 0x02, 0x18, 4, 2, 1, 1};
    oasis_tcp_hdr h;
    assert_int_equal(parse_opts(o, sizeof o, &h), 0);
    assert_int_equal(h.has_mss, 1);
    assert_int_equal(h.mss, 536);
    assert_int_equal(h.sack_permitted, 1);
}

/* "unmarshalling random data returns": 100 random option areas parse to
 * an answer (an error or options) without reading outside them (ASan). */
static void test_tcp_options_random(void **state)
{
    (void)state;
    uint64_t x = 0x5eed;
    for (int i = 0; i < 100; i++) {
        uint8_t o[40];
        for (size_t j = 0; j < sizeof o; j++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            o[j] = (uint8_t)(x >> 56);
        }
        oasis_tcp_hdr h;
        int err = parse_opts(o, sizeof o, &h);
        assert_true(err == 0 || err == OASIS_EMALFORMED);
        assert_true(h.sack_count <= OASIS_TCP_MAX_SACK);
    }
}

/* "test marshalling into a cstruct" and "... without padding": a SYN-ACK
 * with MSS 1460, SACK-permitted and window scale 2, 2 bytes of payload:
 * the checksum verifies and parsing gives the same fields back; then MSS
 * alone. "options marshalling when padding is needed": the header length
 * is a multiple of 4 and the padding is NOP/EOL (0 or 1), never garbage;
 * "the empty list": no option bytes at all. */
static void test_tcp_options_marshal(void **state)
{
    (void)state;
    uint8_t buf[OASIS_TCP_MAX_HLEN + 2];
    oasis_tcp_hdr h = th_seg(3000, 6667, OASIS_TCP_SYN | OASIS_TCP_ACK, 255, 1024);
    h.window = 0;
    h.has_mss = 1;
    h.mss = 1460;
    h.sack_permitted = 1;
    h.has_wscale = 1;
    h.wscale = 2;
    memset(buf, 0xff, sizeof buf);
    size_t hl = OASIS_TCP_HLEN + oasis_tcp_options_len(&h);
    memcpy(buf + hl, "ab", 2);
    assert_int_equal(oasis_tcp_emit(buf, &h, 2, OASIS_IPV4(127, 0, 0, 1), OASIS_IPV4(127, 0, 0, 1)),
                     hl);
    assert_int_equal(hl % 4, 0);
    for (size_t i = OASIS_TCP_HLEN; i < hl; i++)
        assert_true(buf[i] != 0xff);
    oasis_tcp_hdr p;
    assert_int_equal(oasis_tcp_parse(buf, hl + 2, OASIS_IPV4(127, 0, 0, 1), OASIS_IPV4(127, 0, 0, 1), 1,
                                     &p),
                     0);
    assert_int_equal(p.src_port, 3000);
    assert_int_equal(p.dst_port, 6667);
    assert_int_equal(p.seq, 255);
    assert_int_equal(p.ack, 1024);
    assert_int_equal(p.flags, OASIS_TCP_SYN | OASIS_TCP_ACK);
    assert_int_equal(p.window, 0);
    assert_int_equal(p.has_mss, 1);
    assert_int_equal(p.mss, 1460);
    assert_int_equal(p.sack_permitted, 1);
    assert_int_equal(p.has_wscale, 1);
    assert_int_equal(p.wscale, 2);
    assert_int_equal(p.payload_len, 2);
    assert_memory_equal(p.payload, "ab", 2);

    oasis_tcp_hdr m = th_seg(3000, 6667, OASIS_TCP_SYN | OASIS_TCP_ACK, 255, 1024);
    m.has_mss = 1;
    m.mss = 1460;
    assert_int_equal(oasis_tcp_options_len(&m), 4); /* no padding needed */
    memcpy(buf + 24, "\x02\x04\x05\xb4", 4);        /* a payload that looks like MSS */
    assert_int_equal(oasis_tcp_emit(buf, &m, 4, OASIS_IPV4(127, 0, 0, 1), OASIS_IPV4(127, 0, 0, 1)),
                     24);
    assert_int_equal(oasis_tcp_parse(buf, 28, OASIS_IPV4(127, 0, 0, 1), OASIS_IPV4(127, 0, 0, 1), 1,
                                     &p),
                     0);
    assert_int_equal(p.mss, 1460);
    assert_int_equal(p.payload_len, 4);

    oasis_tcp_hdr e = th_seg(3000, 6667, OASIS_TCP_ACK, 1, 1);
    assert_int_equal(oasis_tcp_options_len(&e), 0);
}

/* ==== test_tcp_window.ml: RTO (RFC 6298) and fast recovery ============== */

/* "smoothed rtt, rtt variation and retransmission timer are calculated
 * according to RFC2988": a first sample of 400 ms gives 400 + 4 x 200 =
 * 1200 ms (RFC 6298 2.2); a second of 300 ms gives 387.5 + 4 x 175 =
 * 1087.5 ms (2.3). Measured on a flow whose peer (no timestamps) answers
 * the SYN after 400 ms and then data after 300. mirage's "initial rto is
 * 2/3 second" is its own choice: RFC 6298 2.1 says 1 s, Oasis's. */
static void test_tcp_window_rto_calculation(void **state)
{
    (void)state;
    crafted c;
    crafted_connect(&c);
    oasis_tcp_info info;
    th_advance(&c.h, 400 * MS);
    crafted_synack(&c, 0);
    assert_int_equal(oasis_tcp_get_info(c.app.flow, &info), 0);
    assert_int_equal(info.srtt_ns, 400 * MS);
    assert_int_equal(info.rto_ns, 1200 * MS);
    assert_int_equal(oasis_tcp_write(c.app.flow, "x", 1, NULL, NULL), 0);
    th_poll(&c.h);
    oasis_tcp_hdr d;
    assert_true(th_pop(&c.h, &d));
    assert_int_equal(d.payload_len, 1);
    th_advance(&c.h, 300 * MS);
    oasis_tcp_hdr a = peer_seg(&c, OASIS_TCP_ACK, 1, c.iss + 2);
    th_inject(&c.h, &a);
    assert_int_equal(oasis_tcp_get_info(c.app.flow, &info), 0);
    assert_int_equal(info.srtt_ns, 387500 * OASIS_NS_PER_US);
    assert_int_equal(info.rttvar_ns, 175 * MS);
    assert_int_equal(info.rto_ns, 1087500 * OASIS_NS_PER_US);
    crafted_fini(&c);
}

/* "fast recovery recovers fast": with data in flight, an ACK that stops
 * four segments in and three duplicates of it start fast retransmit of
 * the fifth segment (RFC 5681 3.2), and the flow may send during the
 * recovery (mirage: tx_available > 0). */
static void test_tcp_window_recover_fast(void **state)
{
    (void)state;
    crafted c;
    crafted_connect(&c);
    crafted_synack(&c, 0);
    static uint8_t data[64 * 536];
    memset(data, 0x5a, sizeof data);
    assert_int_equal(oasis_tcp_write(c.app.flow, data, sizeof data, NULL, NULL), 0);
    th_poll(&c.h);
    uint32_t mss = 536, sent = 0;
    oasis_tcp_hdr s;
    while (th_pop(&c.h, &s)) {
        assert_int_equal(s.payload_len, mss);
        sent++;
    }
    assert_true(sent >= 4 + 3 + 1);
    uint32_t hole = c.iss + 1 + 4 * mss;
    oasis_tcp_hdr ack = peer_seg(&c, OASIS_TCP_ACK, 1, hole);
    ack.window = 65535;
    th_inject(&c.h, &ack); /* new data acknowledged: more goes */
    th_clear(&c.h);
    /* three duplicates: the first two may each send a new segment
     * (limited transmit, RFC 3042), the third the fifth segment again */
    int resent = 0, limited = 0;
    for (int i = 0; i < 3; i++) {
        th_inject(&c.h, &ack);
        while (th_pop(&c.h, &s)) {
            if (s.seq == hole) {
                assert_int_equal(i, 2);
                assert_int_equal(s.payload_len, mss);
                resent++;
            } else {
                limited++;
            }
        }
    }
    assert_int_equal(resent, 1);
    assert_true(limited <= 2);
    oasis_tcp_info info;
    assert_int_equal(oasis_tcp_get_info(c.app.flow, &info), 0);
    assert_int_equal(info.retransmits, 1);
    assert_true(info.ssthresh < 0xffffffffu); /* the window was cut: in recovery */
    /* more duplicates (segments leaving the network) let new data go
     * (RFC 6582 3.2 step 4: the window inflates by one segment each) */
    int newdata = 0;
    for (int i = 0; i < 16 && !newdata; i++) {
        th_inject(&c.h, &ack);
        while (th_pop(&c.h, &s))
            newdata += s.seq != hole;
    }
    assert_true(newdata > 0);
    crafted_fini(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc5961_blind_rst_on_syn),
        cmocka_unit_test(test_rfc5961_connection_refused),
        cmocka_unit_test(test_rfc5961_blind_rst_on_established),
        cmocka_unit_test(test_rfc5961_rst_on_established),
        cmocka_unit_test(test_rfc5961_blind_syn_on_established),
        cmocka_unit_test(test_rfc5961_blind_data_injection),
        cmocka_unit_test(test_rfc5961_data_repeated_ack),
        cmocka_unit_test(test_simultaneous_close_ack),
        cmocka_unit_test(test_simultaneous_close_reset),
        cmocka_unit_test(test_connect_two_stacks_basic),
        cmocka_unit_test(test_connect_two_stacks_no_payload_loss_x100),
        cmocka_unit_test(test_connect_two_stacks_trailing_bytes),
        cmocka_unit_test(test_iperf_basic),
        cmocka_unit_test(test_iperf_trailing_bytes),
        cmocka_unit_test(test_iperf_uniform_packet_loss),
        cmocka_unit_test(test_iperf_no_payload_loss),
        cmocka_unit_test(test_iperf_drop_1sec_after_1mb),
        cmocka_unit_test(test_iperf_mtu_enforced),
        cmocka_unit_test(test_mtus_connect),
        cmocka_unit_test(test_mtus_big_server_response),
        cmocka_unit_test(test_mtus_big_client_request_chunked),
        cmocka_unit_test(test_mtus_big_server_response_not_chunked),
        cmocka_unit_test(test_deadlock_slow_receiver),
        cmocka_unit_test(test_keepalive_detects_network_failure),
        cmocka_unit_test(test_keepalive_sequence),
        cmocka_unit_test(test_keepalive_clock_jump),
        cmocka_unit_test(test_tcp_options_bad_mss),
        cmocka_unit_test(test_tcp_options_bogus_and_zero_length),
        cmocka_unit_test(test_tcp_options_simple),
        cmocka_unit_test(test_tcp_options_stop_at_eol),
        cmocka_unit_test(test_tcp_options_ok),
        cmocka_unit_test(test_tcp_options_random),
        cmocka_unit_test(test_tcp_options_marshal),
        cmocka_unit_test(test_tcp_window_rto_calculation),
        cmocka_unit_test(test_tcp_window_recover_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
