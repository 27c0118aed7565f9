/* TCP state machine, state by state, with hand-built segments against one
 * stack (RFC 9293 3.10.7 and the figure in 3.3.2).
 * The tests run over IPv4 (cmocka group "ipv4") and again over IPv6
 * (group "ipv6", th_init_af). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcp/tcp_flow.h"
#include "tcp/tcp_seq.h"
#include "tcp_harness.h"

#define PORT 80
#define A OASIS_TCP_ACK
#define F OASIS_TCP_FIN
#define S OASIS_TCP_SYN
#define R OASIS_TCP_RST

typedef struct fx {
    tcp_harness h;
    th_app a;
    uint32_t iss;   /* our ISS */
    uint32_t pnxt;  /* the peer's next sequence number */
    uint16_t lport; /* our port (active opens) */
} fx;

static int ipv6; /* the family of the group running: 1 IPv6 */

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    th_init_af(&x->h, NULL, ipv6);
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

static oasis_tcp_state st(const fx *x)
{
    oasis_tcp_info i;
    assert_int_equal(oasis_tcp_get_info(x->a.flow, &i), 0);
    return i.state;
}

/* Established passive flow: peer at TH_PISN+1, we at iss+1. */
static void estab(fx *x)
{
    x->iss = th_open_passive(&x->h, &x->a, PORT, NULL);
    x->pnxt = TH_PISN + 1;
    assert_int_equal(st(x), OASIS_TCP_ESTABLISHED);
}

static void inject(fx *x, uint8_t flags, uint32_t seq, uint32_t ack, const char *data)
{
    oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, flags, seq, ack);
    if (data) {
        s.payload = (const uint8_t *)data;
        s.payload_len = strlen(data);
    }
    th_inject(&x->h, &s);
}

static void expect(fx *x, uint8_t flags, uint32_t seq, uint32_t ack, size_t len)
{
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags & ~OASIS_TCP_PSH, flags);
    assert_int_equal(r.seq, seq);
    if (flags & A)
        assert_int_equal(r.ack, ack);
    assert_int_equal(r.payload_len, len);
}

static void expect_none(fx *x)
{
    oasis_tcp_hdr r;
    if (th_pop(&x->h, &r))
        fail_msg("unexpected segment flags %#x seq %u ack %u len %zu", r.flags, r.seq, r.ack,
                 r.payload_len);
}

/* ---- CLOSED / LISTEN -------------------------------------------------------- */

static void test_closed_port_rst(void **state)
{
    fx *x = *state;
    inject(x, S, 100, 0, NULL);
    expect(x, R | A, 0, 101, 0);
    inject(x, A, 100, 5555, NULL);
    expect(x, R, 5555, 0, 0);
    inject(x, R, 100, 0, NULL);
    expect_none(x);
    assert_int_equal(th_ctr(&x->h)->no_listener, 3);
}

/* Item 10: a SYN flood at a closed port must not make us a reflector. All
 * 10,000 arrive at one instant: at most the bucket (rst_burst) is answered,
 * the rest are counted; time refills the bucket at rst_rate_per_sec. */
static void test_closed_port_rst_rate_limited(void **state)
{
    fx *x = *state;
    const oasis_tcp_counters *c = th_ctr(&x->h);
    oasis_stack_config dflt;
    oasis_stack_config_init(&dflt); /* the harness uses the default limits */
    uint32_t burst = dflt.tcp.rst_burst;
    uint32_t rate = dflt.tcp.rst_rate_per_sec;
    assert_true(burst > 0 && rate > 0);
    unsigned rsts = 0;
    for (uint32_t i = 0; i < 10000; i++) {
        oasis_tcp_hdr s = th_seg((uint16_t)(1024 + i % 50000), PORT, S, 100 + i, 0);
        th_inject(&x->h, &s);
        oasis_tcp_hdr r;
        while (th_pop(&x->h, &r)) {
            assert_int_equal(r.flags, R | A);
            rsts++;
        }
    }
    assert_int_equal(rsts, burst);
    assert_int_equal(c->no_listener, 10000);
    assert_int_equal(c->closed_rsts_limited, 10000 - burst);
    /* one second later: rate more tokens (capped at the burst) */
    th_advance(&x->h, OASIS_NS_PER_SEC);
    th_clear(&x->h);
    rsts = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        inject(x, S, 100, 0, NULL);
        oasis_tcp_hdr r;
        while (th_pop(&x->h, &r))
            rsts++;
    }
    assert_int_equal(rsts, rate < burst ? rate : burst);
}

static void test_listen_syn_synack(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, S, 5000, 0);
    s.has_mss = 1;
    s.mss = 1000;
    th_inject(&x->h, &s);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, S | A);
    assert_int_equal(r.ack, 5001);
    assert_true(r.has_mss);
    assert_int_equal(r.mss, ipv6 ? 1440 : 1460); /* MTU 1500 less 60 (40), RFC 9293 3.7.1 */
    assert_false(r.has_ts);
    assert_false(r.has_wscale);
    assert_false(r.sack_permitted);
    th_poll(&x->h);
    assert_int_equal(x->a.accepted, 0); /* not before the handshake completes */
}

static void test_listen_ack_rst(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    inject(x, A, 100, 777, NULL);
    expect(x, R, 777, 0, 0);
    inject(x, R, 100, 0, NULL);
    expect_none(x);
}

static void test_listen_syn_received_established(void **state)
{
    fx *x = *state;
    estab(x);
    assert_int_equal(th_ctr(&x->h)->passive_opens, 1);
    assert_int_equal(th_ctr(&x->h)->curr_estab, 1);
    oasis_ipaddr addr;
    uint16_t port;
    oasis_tcp_dst(x->a.flow, &addr, &port);
    assert_true(oasis_ipaddr_eq(&addr, &x->h.peer));
    assert_int_equal(port, TH_PPORT);
}

static void test_syn_received_rst_back_to_listen(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    inject(x, S, 5000, 0, NULL);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    inject(x, R, 5001, 0, NULL);
    th_poll(&x->h);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
    assert_int_equal(x->a.accepted, 0);
    /* still listening: a new SYN gets a SYN-ACK */
    inject(x, S, 9000, 0, NULL);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, S | A);
    assert_int_equal(r.ack, 9001);
}

static void test_syn_received_bad_ack_rst(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    inject(x, S, 5000, 0, NULL);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    inject(x, A, 5001, r.seq + 100, NULL);
    expect(x, R, r.seq + 100, 0, 0);
}

static void test_syn_received_synack_retransmit(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    inject(x, S, 5000, 0, NULL);
    oasis_tcp_hdr r, r2;
    assert_true(th_pop(&x->h, &r));
    th_advance(&x->h, OASIS_NS_PER_SEC);
    assert_true(th_pop(&x->h, &r2));
    assert_int_equal(r2.flags, S | A);
    assert_int_equal(r2.seq, r.seq);
    /* the peer's SYN again: SYN-ACK again */
    inject(x, S, 5000, 0, NULL);
    assert_true(th_pop(&x->h, &r2));
    assert_int_equal(r2.flags, S | A);
}

/* ---- SYN_SENT ---------------------------------------------------------------- */

static void test_syn_sent_established(void **state)
{
    fx *x = *state;
    x->iss = th_open_active(&x->h, &x->a, 8080, &x->lport);
    assert_int_equal(st(x), OASIS_TCP_ESTABLISHED);
    assert_int_equal(th_ctr(&x->h)->active_opens, 1);
    assert_true(x->lport >= 49152);
}

static void test_syn_sent_rst_refused(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_connect(x->h.s, &x->h.peer, 8080, NULL, th_connect_cb, &x->a), 0);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    oasis_tcp_hdr rst = th_seg(8080, r.src_port, R | A, 0, r.seq + 1);
    th_inject(&x->h, &rst);
    assert_int_equal(x->a.connected, 0); /* never from inside input */
    th_poll(&x->h);
    assert_int_equal(x->a.connected, 1);
    assert_int_equal(x->a.connect_err, OASIS_EREFUSED);
    assert_null(x->a.flow);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

static void test_syn_sent_rst_bad_ack_ignored(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_connect(x->h.s, &x->h.peer, 8080, NULL, th_connect_cb, &x->a), 0);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    oasis_tcp_hdr rst = th_seg(8080, r.src_port, R, 0, 0); /* no ACK: ignored */
    th_inject(&x->h, &rst);
    th_poll(&x->h);
    assert_int_equal(x->a.connected, 0);
    oasis_tcp_hdr bad = th_seg(8080, r.src_port, S | A, 1, r.seq + 5); /* bad ACK: RST */
    th_inject(&x->h, &bad);
    assert_true(th_pop(&x->h, &rst));
    assert_int_equal(rst.flags, R);
    assert_int_equal(rst.seq, r.seq + 5);
    th_poll(&x->h);
    assert_int_equal(x->a.connected, 0);
}

/* Connects; the peer's own SYN (ISN 7000) crosses ours (r): SYN-RECEIVED,
 * our SYN,ACK <SEQ=ISS><ACK=7001> sent, not connected yet. */
static void simultaneous_syns(fx *x, oasis_tcp_hdr *r)
{
    assert_int_equal(oasis_tcp_connect(x->h.s, &x->h.peer, 8080, NULL, th_connect_cb, &x->a), 0);
    oasis_tcp_hdr r2;
    assert_true(th_pop(&x->h, r));
    oasis_tcp_hdr syn = th_seg(8080, r->src_port, S, 7000, 0);
    th_inject(&x->h, &syn);
    assert_true(th_pop(&x->h, &r2));
    assert_int_equal(r2.flags, S | A);
    assert_int_equal(r2.seq, r->seq);
    assert_int_equal(r2.ack, 7001);
    th_poll(&x->h);
    assert_int_equal(x->a.connected, 0);
}

static void assert_connected(fx *x)
{
    assert_int_equal(x->a.connected, 1);
    assert_int_equal(x->a.connect_err, 0);
    assert_int_equal(st(x), OASIS_TCP_ESTABLISHED);
}

static void test_syn_sent_simultaneous_open(void **state)
{
    fx *x = *state;
    oasis_tcp_hdr r;
    simultaneous_syns(x, &r);
    /* then an ACK of our SYN */
    oasis_tcp_hdr ack = th_seg(8080, r.src_port, A, 7001, r.seq + 1);
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    assert_connected(x);
}

/* RFC 9293 3.5 Figure 8 (MUST-10), line 6: in a simultaneous open the
 * peer's SYN,ACK repeats its SYN, one below RCV.NXT, and acknowledges ours:
 * trimmed of that SYN (3.10.7.4 first) it is the handshake's ACK, and the
 * connection is ESTABLISHED at once; answered with a challenge ACK it
 * waited a retransmission timeout for the peer to acknowledge again
 * (tcp_diff's client_simultaneous_open, IPv4 and IPv6). Not when passive,
 * nor with a wrong ACK or text (Linux's tcp_validate_incoming alike). */
static void test_simultaneous_open_synack_establishes(void **state)
{
    fx *x = *state;
    oasis_tcp_hdr r;
    simultaneous_syns(x, &r);
    /* an ACK of more than we sent: still SYN-RECEIVED, the usual answer */
    oasis_tcp_hdr bad = th_seg(8080, r.src_port, S | A, 7000, r.seq + 2);
    th_inject(&x->h, &bad);
    th_poll(&x->h);
    assert_int_equal(x->a.connected, 0);
    th_clear(&x->h);
    oasis_tcp_hdr sa = th_seg(8080, r.src_port, S | A, 7000, r.seq + 1);
    th_inject(&x->h, &sa);
    th_poll(&x->h);
    assert_connected(x);
    /* our data now starts right after our SYN */
    assert_int_equal(oasis_tcp_write(x->a.flow, "go", 2, th_write_cb, &x->a), 0);
    th_poll(&x->h);
    oasis_tcp_hdr d;
    assert_true(th_pop(&x->h, &d));
    assert_int_equal(d.seq, r.seq + 1);
    assert_int_equal(d.ack, 7001);
    assert_int_equal(d.payload_len, 2);
}

/* RFC 9293 3.10.7.3 fourth: text (and a FIN) in the SYN-ACK continue at
 * the sixth step: acknowledged, read after the connect callback, the FIN
 * taken (CLOSE_WAIT). A TCP Fast Open server sends data there. */
static void test_syn_sent_synack_with_text_and_fin(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_connect(x->h.s, &x->h.peer, 8080, NULL, th_connect_cb, &x->a), 0);
    oasis_tcp_hdr r, ack;
    assert_true(th_pop(&x->h, &r));
    oasis_tcp_hdr sa = th_seg(8080, r.src_port, S | A | F, 7000, r.seq + 1);
    sa.payload = (const uint8_t *)"early";
    sa.payload_len = 5;
    th_inject(&x->h, &sa);
    assert_true(th_pop(&x->h, &ack));
    assert_int_equal(ack.flags & (S | R | A), A);
    assert_int_equal(ack.ack, 7000 + 1 + 5 + 1); /* the SYN, the text, the FIN */
    th_poll(&x->h);
    assert_int_equal(x->a.connected, 1);
    assert_int_equal(st(x), OASIS_TCP_CLOSE_WAIT);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 5);
    assert_memory_equal(x->a.rx, "early", 5);
    assert_int_equal(x->a.eof, 1);
}

/* ---- ESTABLISHED and the closing states ---------------------------------------- */

static void test_established_data_and_ack(void **state)
{
    fx *x = *state;
    estab(x);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    inject(x, A | OASIS_TCP_PSH, x->pnxt, x->iss + 1, "hello");
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 5);
    assert_memory_equal(x->a.rx, "hello", 5);
    expect_none(x); /* delayed */
    th_advance(&x->h, 40 * OASIS_NS_PER_MS);
    expect(x, A, x->iss + 1, x->pnxt + 5, 0);

    assert_int_equal(oasis_tcp_write(x->a.flow, "world", 5, th_write_cb, &x->a), 0);
    assert_int_equal(x->a.writes_done, 0);
    expect(x, A, x->iss + 1, x->pnxt + 5, 5);
    th_poll(&x->h);
    assert_int_equal(x->a.writes_done, 1);
    assert_int_equal(x->a.write_err, 0);
}

static void test_established_rst(void **state)
{
    fx *x = *state;
    estab(x);
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    inject(x, R, x->pnxt, 0, NULL);
    th_poll(&x->h);
    assert_int_equal(x->a.eof, 1);
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), OASIS_ERESET);
    assert_int_equal(th_ctr(&x->h)->estab_resets, 1);
    assert_int_equal(oasis_tcp_write(x->a.flow, "x", 1, th_write_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.write_err, OASIS_ECLOSED);
    assert_int_equal(oasis_tcp_close(x->a.flow, th_close_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(x->a.close_err, OASIS_ERESET);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
    assert_int_equal(th_ctr(&x->h)->curr_estab, 0);
}

static void test_fin_wait_1_2_time_wait_closed(void **state)
{
    fx *x = *state;
    estab(x);
    assert_int_equal(oasis_tcp_close(x->a.flow, th_close_cb, &x->a), 0);
    expect(x, F | A, x->iss + 1, x->pnxt, 0);
    assert_int_equal(st(x), OASIS_TCP_FIN_WAIT_1);
    inject(x, A, x->pnxt, x->iss + 2, NULL);
    assert_int_equal(st(x), OASIS_TCP_FIN_WAIT_2);
    th_poll(&x->h);
    assert_int_equal(x->a.closed, 0); /* the peer has not closed yet */
    inject(x, F | A, x->pnxt, x->iss + 2, NULL);
    expect(x, A, x->iss + 2, x->pnxt + 1, 0);
    assert_int_equal(th_ctr(&x->h)->time_wait, 1);
    th_poll(&x->h);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(x->a.close_err, 0);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
    /* TIME_WAIT answers a retransmitted FIN */
    inject(x, F | A, x->pnxt, x->iss + 2, NULL);
    expect(x, A, x->iss + 2, x->pnxt + 1, 0);
    /* and goes after 2*MSL */
    th_advance(&x->h, 60 * OASIS_NS_PER_SEC + 1);
    assert_int_equal(th_ctr(&x->h)->time_wait, 0);
    inject(x, A, x->pnxt + 1, x->iss + 2, NULL);
    expect(x, R, x->iss + 2, 0, 0);
}

static void test_fin_wait_1_closing_time_wait(void **state)
{
    fx *x = *state;
    estab(x);
    assert_int_equal(oasis_tcp_close(x->a.flow, th_close_cb, &x->a), 0);
    expect(x, F | A, x->iss + 1, x->pnxt, 0);
    /* simultaneous close: the peer's FIN does not ack ours */
    inject(x, F | A, x->pnxt, x->iss + 1, NULL);
    expect(x, A, x->iss + 2, x->pnxt + 1, 0);
    assert_int_equal(st(x), OASIS_TCP_CLOSING);
    inject(x, A, x->pnxt + 1, x->iss + 2, NULL);
    assert_int_equal(th_ctr(&x->h)->time_wait, 1);
    th_poll(&x->h);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(x->a.close_err, 0);
}

static void test_fin_wait_1_fin_ack_time_wait(void **state)
{
    fx *x = *state;
    estab(x);
    assert_int_equal(oasis_tcp_close(x->a.flow, th_close_cb, &x->a), 0);
    expect(x, F | A, x->iss + 1, x->pnxt, 0);
    inject(x, F | A, x->pnxt, x->iss + 2, NULL);
    expect(x, A, x->iss + 2, x->pnxt + 1, 0);
    assert_int_equal(th_ctr(&x->h)->time_wait, 1);
    th_poll(&x->h);
    assert_int_equal(x->a.closed, 1);
}

static void test_close_wait_last_ack_closed(void **state)
{
    fx *x = *state;
    estab(x);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    inject(x, F | A, x->pnxt, x->iss + 1, "bye");
    expect(x, A, x->iss + 1, x->pnxt + 4, 0);
    assert_int_equal(st(x), OASIS_TCP_CLOSE_WAIT);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 3);
    assert_int_equal(x->a.eof, 1);
    /* half-close: we may still write */
    assert_int_equal(oasis_tcp_write(x->a.flow, "ok", 2, th_write_cb, &x->a), 0);
    expect(x, A, x->iss + 1, x->pnxt + 4, 2);
    assert_int_equal(oasis_tcp_close(x->a.flow, th_close_cb, &x->a), 0);
    expect(x, F | A, x->iss + 3, x->pnxt + 4, 0);
    assert_int_equal(st(x), OASIS_TCP_LAST_ACK);
    inject(x, A, x->pnxt + 4, x->iss + 4, NULL);
    th_poll(&x->h);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(x->a.close_err, 0);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
    assert_int_equal(th_ctr(&x->h)->time_wait, 0);
    assert_int_equal(th_ctr(&x->h)->curr_estab, 0);
}

static void rst_in_state(fx *x, int (*to_state)(fx *x), int want_err)
{
    estab(x);
    int ok = to_state(x);
    assert_true(ok);
    uint32_t seq = x->pnxt;
    inject(x, R, seq, 0, NULL);
    th_poll(&x->h);
    assert_int_equal(oasis_tcp_flow_error(x->a.flow) == 0 ? 0 : 1, want_err);
}

static int to_fw1(fx *x)
{
    oasis_tcp_close(x->a.flow, th_close_cb, &x->a);
    th_clear(&x->h);
    return st(x) == OASIS_TCP_FIN_WAIT_1;
}
static int to_fw2(fx *x)
{
    to_fw1(x);
    inject(x, A, x->pnxt, x->iss + 2, NULL);
    return st(x) == OASIS_TCP_FIN_WAIT_2;
}
static int to_cw(fx *x)
{
    inject(x, F | A, x->pnxt, x->iss + 1, NULL);
    x->pnxt++;
    th_clear(&x->h);
    return st(x) == OASIS_TCP_CLOSE_WAIT;
}
static int to_closing(fx *x)
{
    to_fw1(x);
    inject(x, F | A, x->pnxt, x->iss + 1, NULL);
    x->pnxt++;
    th_clear(&x->h);
    return st(x) == OASIS_TCP_CLOSING;
}
static int to_last_ack(fx *x)
{
    to_cw(x);
    oasis_tcp_close(x->a.flow, th_close_cb, &x->a);
    th_clear(&x->h);
    return st(x) == OASIS_TCP_LAST_ACK;
}

/* A FIN sent before the peer saw ours arrives after its ACK of our FIN:
 * its ACK field is old (SEG.ACK < SND.UNA), which RFC 9293 3.10.7.4 fifth
 * step says "can be ignored": the ACK only, the FIN is still processed
 * (eighth step) and acknowledged, and the flow goes to TIME-WAIT (Linux
 * 795a7dfbc3d9, "accept old ack during closing"; its packetdrill
 * tcp_disorder_fin_in_FIN_WAIT). */
static void test_fin_with_old_ack_in_fin_wait_2(void **state)
{
    fx *x = *state;
    estab(x);
    assert_true(to_fw2(x));
    inject(x, F | A, x->pnxt, x->iss + 1, NULL); /* acks 1 below SND.UNA */
    expect(x, A, x->iss + 2, x->pnxt + 1, 0);
    assert_int_equal(th_ctr(&x->h)->time_wait, 1);
}

static void test_rst_in_fin_wait_1(void **state)
{
    fx *x = *state;
    rst_in_state(x, to_fw1, 1);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(x->a.close_err, OASIS_ERESET);
}
static void test_rst_in_fin_wait_2(void **state)
{
    fx *x = *state;
    rst_in_state(x, to_fw2, 1);
    assert_int_equal(x->a.closed, 1);
}
static void test_rst_in_close_wait(void **state)
{
    fx *x = *state;
    rst_in_state(x, to_cw, 1);
    assert_int_equal(th_ctr(&x->h)->curr_estab, 0);
}
static void test_rst_in_closing(void **state)
{
    fx *x = *state;
    rst_in_state(x, to_closing, 1);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}
static void test_rst_in_last_ack(void **state)
{
    fx *x = *state;
    rst_in_state(x, to_last_ack, 1);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

static void test_rst_in_time_wait(void **state)
{
    fx *x = *state;
    estab(x);
    to_fw2(x);
    inject(x, F | A, x->pnxt, x->iss + 2, NULL);
    th_clear(&x->h);
    assert_int_equal(th_ctr(&x->h)->time_wait, 1);
    inject(x, R, x->pnxt + 5, 0, NULL); /* not exact: ignored */
    assert_int_equal(th_ctr(&x->h)->time_wait, 1);
    /* RFC 1337: not even an exact RST ends TIME_WAIT (assassination) */
    inject(x, R, x->pnxt + 1, 0, NULL);
    assert_int_equal(th_ctr(&x->h)->time_wait, 1);
    expect_none(x);
}

static void test_rst_in_syn_sent_without_ack_ignored(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_connect(x->h.s, &x->h.peer, 8080, NULL, th_connect_cb, &x->a), 0);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    oasis_tcp_hdr rst = th_seg(8080, r.src_port, R | A, 0, r.seq + 1);
    th_inject(&x->h, &rst);
    th_poll(&x->h);
    assert_int_equal(x->a.connect_err, OASIS_EREFUSED);
    assert_int_equal(th_ctr(&x->h)->attempt_fails, 1);
}

/* RFC 9293 3.10.7.4: SYN_RECEIVED is a synchronized state; an unacceptable
 * segment there is answered <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and dropped. */
static void test_syn_received_unacceptable_gets_ack(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    inject(x, S, 5000, 0, NULL);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    inject(x, A, 5001 + 100000000u, r.seq + 1, "junk");
    expect(x, A, r.seq + 1, 5001, 0);
    assert_int_equal(th_ctr(&x->h)->out_of_window, 1);
    /* still half-open: the real ACK completes it */
    inject(x, A, 5001, r.seq + 1, NULL);
    th_poll(&x->h);
    assert_int_equal(x->a.accepted, 1);
}

/* SYN+FIN to a listener: no stack sends it; dropped and counted, no state. */
static void test_listen_syn_fin_dropped(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    for (int i = 0; i < 10; i++)
        inject(x, S | F, 5000 + (uint32_t)i, 0, NULL);
    expect_none(x);
    assert_int_equal(th_ctr(&x->h)->syn_fin_drops, 10);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
    assert_int_equal(th_ctr(&x->h)->passive_opens, 0);
}

/* ---- odd segments in each state (RFC 9293 3.10.7, RFC 5961) ------------------- */

/* Our SND.NXT in the state to_state leaves the flow in (FIN sent or not). */
typedef struct synced_case {
    int (*to_state)(fx *x);
    oasis_tcp_state want;
    uint32_t fin_sent;
} synced_case;

static int to_estab(fx *x)
{
    return st(x) == OASIS_TCP_ESTABLISHED;
}

static const synced_case synced_cases[] = {
    {to_estab, OASIS_TCP_ESTABLISHED, 0}, {to_fw1, OASIS_TCP_FIN_WAIT_1, 1},
    {to_fw2, OASIS_TCP_FIN_WAIT_2, 1},    {to_cw, OASIS_TCP_CLOSE_WAIT, 0},
    {to_closing, OASIS_TCP_CLOSING, 1},   {to_last_ack, OASIS_TCP_LAST_ACK, 1},
};

/* A fresh harness, the flow brought to c's state; returns our SND.NXT. */
static uint32_t synced_start(fx *x, const synced_case *c)
{
    th_fini(&x->h);
    th_app_fini(&x->a);
    th_init_af(&x->h, NULL, ipv6);
    th_app_init(&x->a);
    estab(x);
    assert_true(c->to_state(x));
    th_clear(&x->h);
    return x->iss + 1 + c->fin_sent;
}

/* RFC 9293 3.10.7.4 fourth / RFC 5961 4.2: in every synchronized state a
 * SYN, in the window or not, with FIN or not, draws
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and changes nothing else. */
static void test_syn_in_each_synchronized_state(void **state)
{
    fx *x = *state;
    for (size_t i = 0; i < sizeof synced_cases / sizeof synced_cases[0]; i++) {
        const synced_case *c = &synced_cases[i];
        uint32_t snd = synced_start(x, c);
        inject(x, S, x->pnxt + 10, 0, NULL); /* in the window */
        expect(x, A, snd, x->pnxt, 0);
        expect_none(x);
        inject(x, S, x->pnxt + 0x40000000u, 0, NULL); /* far outside */
        expect(x, A, snd, x->pnxt, 0);
        inject(x, S | F, x->pnxt, x->iss + 1, NULL); /* SYN+FIN at RCV.NXT */
        expect(x, A, snd, x->pnxt, 0);
        inject(x, S | A, x->pnxt, snd, "data"); /* SYN-ACK with text */
        expect(x, A, snd, x->pnxt, 0);
        expect_none(x);
        assert_int_equal(st(x), c->want);
        assert_int_equal(oasis_tcp_flow_error(x->a.flow), 0);
    }
}

/* RFC 5961 3.2 / RFC 9293 3.10.7.4 second: an RST inside the window but not
 * at RCV.NXT draws a challenge ACK; one outside the window is dropped
 * silently; neither changes the state. */
static void test_rst_not_exact_in_each_synchronized_state(void **state)
{
    fx *x = *state;
    for (size_t i = 0; i < sizeof synced_cases / sizeof synced_cases[0]; i++) {
        const synced_case *c = &synced_cases[i];
        uint32_t snd = synced_start(x, c);
        inject(x, R | A, x->pnxt + 1, snd, NULL);
        expect(x, A, snd, x->pnxt, 0);
        inject(x, R, x->pnxt - 1, 0, NULL); /* just below the window */
        inject(x, R, x->pnxt + 0x40000000u, 0, NULL);
        expect_none(x);
        assert_int_equal(st(x), c->want);
        assert_int_equal(oasis_tcp_flow_error(x->a.flow), 0);
    }
}

/* RFC 9293 3.10.7.4 fifth: "if the ACK bit is off, drop the segment and
 * return": an in-window FIN or text without ACK is not taken, nothing is
 * sent; the same with ACK is. */
static void test_no_ack_flag_dropped_in_each_synchronized_state(void **state)
{
    fx *x = *state;
    for (size_t i = 0; i < sizeof synced_cases / sizeof synced_cases[0]; i++) {
        const synced_case *c = &synced_cases[i];
        uint32_t snd = synced_start(x, c);
        inject(x, F, x->pnxt, 0, "text");
        inject(x, OASIS_TCP_PSH, x->pnxt, 0, "text");
        inject(x, 0, x->pnxt, 0, NULL);
        th_advance(&x->h, 100 * OASIS_NS_PER_MS); /* no delayed ACK either (below the RTO) */
        expect_none(x);
        assert_int_equal(st(x), c->want);
        /* what is taken shows in the next ACK: RCV.NXT did not move */
        inject(x, A, x->pnxt + 0x40000000u, snd, NULL);
        expect(x, A, snd, x->pnxt, 0);
    }
}

/* RFC 9293 3.10.7.4 fifth (RFC 5961 5.2): an ACK of data not yet sent is
 * answered with an ACK and the segment dropped: its text and FIN are not
 * taken. */
static void test_ack_of_unsent_with_fin_in_each_state(void **state)
{
    fx *x = *state;
    for (size_t i = 0; i < sizeof synced_cases / sizeof synced_cases[0]; i++) {
        const synced_case *c = &synced_cases[i];
        uint32_t snd = synced_start(x, c);
        inject(x, F | A, x->pnxt, snd + 1000, c->want == OASIS_TCP_ESTABLISHED ? "abc" : NULL);
        expect(x, A, snd, x->pnxt, 0);
        expect_none(x);
        assert_int_equal(st(x), c->want);
    }
}

/* RFC 9293 3.10.7.4 first step: a segment wholly before RCV.NXT is
 * answered with an ACK. A retransmitted FIN (its sender missed our ACK) is
 * answered every time, as old text is: the per-flow limit on ACKs to
 * unacceptable segments (Linux tcp_invalid_ratelimit, which also spares
 * segments with SEG.LEN > 0) is for bare ones, keepalive and zero-window
 * probes (a bare ACK at RCV.NXT-1) apart. */
static void test_retransmitted_fin_always_answered(void **state)
{
    fx *x = *state;
    static int (*const to[])(fx *) = {to_cw, to_last_ack};
    static const oasis_tcp_state want[] = {OASIS_TCP_CLOSE_WAIT, OASIS_TCP_LAST_ACK};
    for (size_t i = 0; i < 2; i++) {
        synced_case c = {to[i], want[i], i};
        uint32_t snd = synced_start(x, &c);
        for (int k = 0; k < 3; k++) {
            inject(x, F | A, x->pnxt - 1, x->iss + 1, NULL);
            expect(x, A, snd, x->pnxt, 0);
            th_advance(&x->h, 50 * OASIS_NS_PER_MS); /* (our FIN's RTO is 200 ms) */
        }
        /* a bare old ACK is still limited... */
        inject(x, A, x->pnxt - 2, x->iss + 1, NULL);
        inject(x, A, x->pnxt - 2, x->iss + 1, NULL);
        expect(x, A, snd, x->pnxt, 0);
        expect_none(x);
        /* ...but not a probe, a bare ACK at exactly RCV.NXT-1 (RFC 1122
         * 4.2.3.6): its sender counts the unanswered ones */
        for (int k = 0; k < 3; k++) {
            inject(x, A, x->pnxt - 1, x->iss + 1, NULL);
            expect(x, A, snd, x->pnxt, 0);
        }
        assert_int_equal(st(x), c.want);
    }
}

/* RFC 9293 3.10.7.4 fourth, SYN-RECEIVED: "If the connection was initiated
 * with a passive OPEN, then return this connection to the LISTEN state and
 * return." An in-window SYN that is not the peer's first one again ends the
 * half-open flow without a word; the listener stays, so the peer's ACK of
 * the old SYN-ACK then meets LISTEN (an RST) and a new SYN a new SYN-ACK. */
static void test_syn_received_inwindow_syn_back_to_listen(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    inject(x, S, 5000, 0, NULL);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(th_ctr(&x->h)->flows, 1);
    inject(x, S, 5001 + 10, 0, NULL); /* in the window, not IRS */
    expect_none(x);
    th_poll(&x->h);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
    assert_int_equal(x->a.accepted, 0);
    inject(x, A, 5001, r.seq + 1, NULL);
    expect(x, R, r.seq + 1, 0, 0);
    inject(x, S, 9000, 0, NULL);
    oasis_tcp_hdr r2;
    assert_true(th_pop(&x->h, &r2));
    assert_int_equal(r2.flags, S | A);
    assert_int_equal(r2.ack, 9001);
    /* a SYN-ACK in the window counts the same (fourth step before fifth) */
    inject(x, S | A, 9001, r2.seq + 1, NULL);
    expect_none(x);
    th_poll(&x->h);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

/* RFC 9293 3.10.7.4 SYN-RECEIVED: no ACK bit, dropped (fifth step); an RST
 * in the window but not exact draws a challenge ACK (RFC 5961 3.2); the
 * half-open flow survives both and completes on the real ACK. */
static void test_syn_received_odd_segments(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    inject(x, S, 5000, 0, NULL);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    inject(x, F, 5001, 0, "text");
    inject(x, 0, 5001, 0, NULL);
    expect_none(x);
    inject(x, R, 5001 + 7, 0, NULL);
    expect(x, A, r.seq + 1, 5001, 0);
    inject(x, R, 5001 + 0x40000000u, 0, NULL);
    expect_none(x);
    inject(x, A, 5001, r.seq + 1, NULL);
    th_poll(&x->h);
    assert_int_equal(x->a.accepted, 1);
    assert_int_equal(st(x), OASIS_TCP_ESTABLISHED);
}

/* RFC 9293 3.10.7.3 SYN-SENT: an unacceptable ACK draws <SEQ=SEG.ACK><CTL=RST>
 * (none if the segment is an RST); a segment with neither SYN nor RST is
 * dropped; a FIN is never processed there. The attempt goes on. */
static void test_syn_sent_odd_segments(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_connect(x->h.s, &x->h.peer, 8080, NULL, th_connect_cb, &x->a), 0);
    oasis_tcp_hdr r, o;
    assert_true(th_pop(&x->h, &r));
    uint16_t lp = r.src_port;
    oasis_tcp_hdr s;
    s = th_seg(8080, lp, A, 7000, r.seq); /* SEG.ACK =< ISS */
    th_inject(&x->h, &s);
    assert_true(th_pop(&x->h, &o));
    assert_int_equal(o.flags, R);
    assert_int_equal(o.seq, r.seq);
    s = th_seg(8080, lp, F | A, 7000, r.seq + 2); /* SEG.ACK > SND.NXT */
    th_inject(&x->h, &s);
    assert_true(th_pop(&x->h, &o));
    assert_int_equal(o.flags, R);
    assert_int_equal(o.seq, r.seq + 2);
    s = th_seg(8080, lp, R | A, 7000, r.seq + 2); /* RST, bad ACK: dropped */
    th_inject(&x->h, &s);
    s = th_seg(8080, lp, A, 7000, r.seq + 1); /* good ACK, no SYN */
    th_inject(&x->h, &s);
    s = th_seg(8080, lp, F | A, 7000, r.seq + 1);
    th_inject(&x->h, &s);
    s = th_seg(8080, lp, F, 7000, 0);
    th_inject(&x->h, &s);
    assert_int_equal(th_pending(&x->h), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.connected, 0);
    s = th_seg(8080, lp, S | A, 7000, r.seq + 1);
    th_inject(&x->h, &s);
    th_poll(&x->h);
    assert_int_equal(x->a.connected, 1);
    assert_int_equal(x->a.connect_err, 0);
    assert_int_equal(st(x), OASIS_TCP_ESTABLISHED);
}

/* RFC 9293 3.10.7.2 LISTEN: an RST is ignored, an ACK (SYN-ACK too) draws
 * <SEQ=SEG.ACK><CTL=RST>, anything else without SYN is dropped. */
static void test_listen_odd_segments(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    inject(x, S | R, 100, 0, NULL);
    inject(x, R | A, 100, 200, NULL);
    inject(x, F, 100, 0, NULL);
    inject(x, OASIS_TCP_PSH, 100, 0, "text");
    inject(x, OASIS_TCP_URG, 100, 0, NULL);
    expect_none(x);
    inject(x, S | A, 100, 4242, NULL);
    expect(x, R, 4242, 0, 0);
    inject(x, F | A, 100, 4243, "x");
    expect(x, R, 4243, 0, 0);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

/* RFC 9293 3.10.7.1 CLOSED: without ACK <SEQ=0><ACK=SEG.SEQ+SEG.LEN>
 * <CTL=RST,ACK>, SEG.LEN counting SYN, FIN and text; with ACK
 * <SEQ=SEG.ACK><CTL=RST>. */
static void test_closed_port_rst_seg_len(void **state)
{
    fx *x = *state;
    inject(x, S | F, 100, 0, "abc");
    expect(x, R | A, 0, 100 + 1 + 3 + 1, 0);
    inject(x, 0, 0xfffffffeu, 0, "abcd"); /* no flags at all; wraps */
    expect(x, R | A, 0, 2, 0);
    inject(x, F | A, 100, 0xffffffffu, "abcd");
    expect(x, R, 0xffffffffu, 0, 0);
}

/* ---- TIME_WAIT (issue 11 items 4 and 11) ------------------------------------- */

/* Established passive flow (syn: its options), then we close first and the
 * peer answers FIN: TIME_WAIT. Returns our snd_nxt there. */
static uint32_t to_time_wait(fx *x, const oasis_tcp_hdr *syn)
{
    x->iss = th_open_passive(&x->h, &x->a, PORT, syn);
    x->pnxt = TH_PISN + 1;
    oasis_tcp_close(x->a.flow, th_close_cb, &x->a);
    th_clear(&x->h);
    oasis_tcp_hdr fa = th_seg(TH_PPORT, PORT, F | A, x->pnxt, x->iss + 2);
    if (syn && syn->has_ts) {
        fa.has_ts = 1;
        fa.ts_val = syn->ts_val + 10;
    }
    th_inject(&x->h, &fa);
    expect(x, A, x->iss + 2, x->pnxt + 1, 0);
    assert_int_equal(th_ctr(&x->h)->time_wait, 1);
    th_poll(&x->h);
    return x->iss + 2;
}

/* RFC 1122 4.2.2.13: a SYN that reopens from TIME_WAIT gets an ISS above
 * the old incarnation's SND.NXT, whatever the ISN generator says. */
static void test_time_wait_reopen_iss_above_old(void **state)
{
    fx *x = *state;
    uint32_t old_nxt = to_time_wait(x, NULL);
    oasis_tcp_set_next_isn(x->h.s, old_nxt - 10); /* a generator that went back */
    inject(x, S, x->pnxt + 100000, 0, NULL);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, S | A);
    assert_int_equal(r.ack, x->pnxt + 100001);
    assert_true(oasis_seq_gt(r.seq, old_nxt));
    assert_int_equal(th_ctr(&x->h)->time_wait, 0);
}

/* RFC 6191: with timestamps on both incarnations the TSval decides. */
static void test_time_wait_reopen_by_timestamp(void **state)
{
    fx *x = *state;
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    syn.has_ts = 1;
    syn.ts_val = 5000;
    to_time_wait(x, &syn); /* TS.Recent 5010 */
    /* higher sequence number but an older timestamp: an old SYN, refused
     * with a challenge ACK (test_time_wait_old_syn_with_listener_answered) */
    oasis_tcp_hdr s2 = th_seg(TH_PPORT, PORT, S, x->pnxt + 100000, 0);
    s2.has_ts = 1;
    s2.ts_val = 4000;
    th_inject(&x->h, &s2);
    expect(x, A, x->iss + 2, x->pnxt + 1, 0);
    assert_int_equal(th_ctr(&x->h)->time_wait, 1);
    /* lower sequence number, newer timestamp: a new incarnation */
    s2.seq = TH_PISN - 100000;
    s2.ts_val = 6000;
    th_inject(&x->h, &s2);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, S | A);
    assert_int_equal(r.ack, TH_PISN - 100000 + 1);
    assert_int_equal(th_ctr(&x->h)->time_wait, 0);
}

/* RFC 6191 section 2, the cases where one incarnation has timestamps and
 * the other not. Old with timestamps, new SYN without: "would not be
 * enabled", so the sequence number decides (above RCV.NXT reopens). */
static void test_time_wait_reopen_ts_old_only(void **state)
{
    fx *x = *state;
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    syn.has_ts = 1;
    syn.ts_val = 5000;
    to_time_wait(x, &syn);
    inject(x, S, x->pnxt + 100000, 0, NULL);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, S | A);
    assert_int_equal(r.ack, x->pnxt + 100001);
    assert_false(r.has_ts); /* the new incarnation goes without */
    assert_int_equal(th_ctr(&x->h)->time_wait, 0);
}

/* Old without timestamps, new SYN with TSopt, its sequence number below the
 * old RCV.NXT: with cfg.tcp.strict_timestamps the new flow drops every
 * segment without TSopt, so the old incarnation's duplicates cannot enter
 * it, and RFC 6191 says honour the SYN. */
static void test_time_wait_reopen_ts_new_only_strict(void **state)
{
    fx *x = *state;
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.strict_timestamps = 1;
    th_fini(&x->h);
    th_init_af(&x->h, &c.tcp, ipv6);
    to_time_wait(x, NULL);
    oasis_tcp_hdr s2 = th_seg(TH_PPORT, PORT, S, TH_PISN - 100000, 0);
    s2.has_ts = 1;
    s2.ts_val = 1; /* no old TSval to compare with */
    th_inject(&x->h, &s2);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, S | A);
    assert_int_equal(r.ack, TH_PISN - 100000 + 1);
    assert_true(r.has_ts);
    assert_int_equal(r.ts_ecr, 1);
    assert_int_equal(th_ctr(&x->h)->time_wait, 0);
}

/* The same SYN without strict timestamps: a tolerant flow takes segments
 * without TSopt unchecked, so the old duplicates could enter; the sequence
 * rule stays and the SYN draws the challenge ACK. With cfg.tcp.timestamps
 * off, timestamps "would not be enabled": the sequence rule too. */
static void test_time_wait_ts_new_only_tolerant(void **state)
{
    fx *x = *state;
    uint32_t snd = to_time_wait(x, NULL);
    uint32_t rcv = x->pnxt + 1;
    oasis_tcp_hdr s2 = th_seg(TH_PPORT, PORT, S, TH_PISN - 100000, 0);
    s2.has_ts = 1;
    s2.ts_val = 1;
    th_inject(&x->h, &s2);
    expect(x, A, snd, rcv, 0);
    expect_none(x);
    assert_int_equal(th_ctr(&x->h)->time_wait, 1);
    assert_int_equal(th_ctr(&x->h)->flows, 0);

    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.strict_timestamps = 1;
    c.tcp.timestamps = 0;
    th_fini(&x->h);
    th_app_fini(&x->a);
    th_init_af(&x->h, &c.tcp, ipv6);
    th_app_init(&x->a);
    snd = to_time_wait(x, NULL);
    th_inject(&x->h, &s2);
    expect(x, A, snd, rcv, 0);
    expect_none(x);
    assert_int_equal(th_ctr(&x->h)->time_wait, 1);
}

/* RFC 9293: the peer's FIN again is ACKed, every time (its sender lacks
 * our ACK; Linux answers each too), and restarts 2*MSL; a FIN out of
 * sequence is answered as unacceptable but restarts nothing. */
static void test_time_wait_fin_restart(void **state)
{
    fx *x = *state;
    to_time_wait(x, NULL);
    uint64_t msl2 = 60 * OASIS_NS_PER_SEC;
    th_advance(&x->h, 50 * OASIS_NS_PER_SEC);
    inject(x, F | A, x->pnxt + 500, x->iss + 2, NULL); /* not ours */
    expect(x, A, x->iss + 2, x->pnxt + 1, 0);
    inject(x, F | A, x->pnxt, x->iss + 2, NULL); /* the retransmitted FIN */
    expect(x, A, x->iss + 2, x->pnxt + 1, 0);
    inject(x, F | A, x->pnxt, x->iss + 2, NULL); /* again at once: answered too */
    expect(x, A, x->iss + 2, x->pnxt + 1, 0);
    assert_int_equal(th_ctr(&x->h)->oow_acks_limited, 0);
    th_advance(&x->h, msl2 - 1000);
    assert_int_equal(th_ctr(&x->h)->time_wait, 1); /* restarted at 50 s */
    th_advance(&x->h, 1001);
    assert_int_equal(th_ctr(&x->h)->time_wait, 0);
}

/* RFC 9293 3.10.7.4: TIME-WAIT is a synchronized state; a SYN there that
 * does not open a new incarnation (RFC 6191 takes only a bare SYN) draws
 * RFC 5961's challenge ACK, <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, and the
 * entry stays. A SYN-ACK at RCV.NXT is no bare ACK (SEG.LEN is 1). */
static void test_time_wait_synack_answered(void **state)
{
    fx *x = *state;
    uint32_t snd = to_time_wait(x, NULL);
    uint32_t rcv = x->pnxt + 1;
    inject(x, S | A, rcv, snd, NULL);
    expect(x, A, snd, rcv, 0);
    th_advance(&x->h, OASIS_NS_PER_SEC); /* past the entry's ACK limit */
    inject(x, S | A, rcv + 1000, snd, NULL);
    expect(x, A, snd, rcv, 0);
    th_advance(&x->h, OASIS_NS_PER_SEC);
    inject(x, A, rcv, snd, NULL); /* a bare ACK at RCV.NXT: nothing to say */
    expect_none(x);
    assert_int_equal(th_ctr(&x->h)->time_wait, 1);
}

/* RFC 9293 3.10.7.4 fourth step, TIME-WAIT: a new connection may be
 * accepted over the entry (RFC 6191); "For all other cases" a SYN draws
 * RFC 5961's challenge ACK. With no listener on the port nothing can take
 * the SYN, so it is answered, newer or not; the entry stays. */
static void test_time_wait_syn_without_listener_answered(void **state)
{
    fx *x = *state;
    uint32_t snd = to_time_wait(x, NULL);
    uint32_t rcv = x->pnxt + 1;
    assert_int_equal(oasis_tcp_unlisten(x->h.s, PORT), 0);
    inject(x, S, rcv + 100000, 0, NULL); /* above the old sequence space */
    expect(x, A, snd, rcv, 0);
    th_advance(&x->h, OASIS_NS_PER_SEC); /* past the entry's ACK limit */
    inject(x, S, rcv - 100000, 0, NULL);
    expect(x, A, snd, rcv, 0);
    expect_none(x);
    assert_int_equal(th_ctr(&x->h)->time_wait, 1);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

/* RFC 9293 3.10.7.4 fourth step, TIME-WAIT: "new connections can be
 * accepted if the Timestamp Option is used and meets expectations" (RFC
 * 6191); "For all other cases" a SYN draws RFC 5961's challenge ACK. So with
 * a listener on the port, a SYN too old to reopen (its TSval below
 * TS.Recent; without TSopt, its sequence number not above the old RCV.NXT)
 * is answered <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, rate-limited per entry,
 * and neither opens a flow nor ends the entry. */
static void test_time_wait_old_syn_with_listener_answered(void **state)
{
    fx *x = *state;
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    syn.has_ts = 1;
    syn.ts_val = 5000;
    uint32_t snd = to_time_wait(x, &syn); /* TS.Recent 5010 */
    uint32_t rcv = x->pnxt + 1;
    oasis_tcp_hdr s2 = th_seg(TH_PPORT, PORT, S, rcv + 100000, 0);
    s2.has_ts = 1;
    s2.ts_val = 4000;
    th_inject(&x->h, &s2);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, A);
    assert_int_equal(r.seq, snd);
    assert_int_equal(r.ack, rcv);
    assert_true(r.has_ts);
    assert_int_equal(r.ts_ecr, 5010);
    inject(x, S, rcv - 100000, 0, NULL); /* at once: limited */
    expect_none(x);
    th_advance(&x->h, OASIS_NS_PER_SEC);
    inject(x, S, rcv - 100000, 0, NULL); /* no TSopt: not above RCV.NXT */
    expect(x, A, snd, rcv, 0);
    expect_none(x);
    assert_int_equal(th_ctr(&x->h)->time_wait, 1);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

/* RFC 9293 3.10.7.4 first step: a FIN out of sequence (beyond RCV.NXT, or
 * ending below the peer's FIN) is unacceptable and answered with
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, one per OASIS_TCP_OOW_ACK_GAP_NS (no
 * flood of forged FINs draws one ACK each); it does not keep TIME_WAIT
 * alive. */
static void test_time_wait_stray_fin_answered_no_restart(void **state)
{
    fx *x = *state;
    uint32_t snd = to_time_wait(x, NULL);
    uint32_t rcv = x->pnxt + 1;
    th_advance(&x->h, 50 * OASIS_NS_PER_SEC);
    inject(x, F | A, rcv + 500, snd, NULL);
    expect(x, A, snd, rcv, 0);
    inject(x, F | A, x->pnxt - 100, snd, "abc"); /* at once: limited */
    expect_none(x);
    assert_int_equal(th_ctr(&x->h)->oow_acks_limited, 1);
    th_advance(&x->h, OASIS_NS_PER_SEC);
    inject(x, F | A, x->pnxt - 100, snd, "abc");
    expect(x, A, snd, rcv, 0);
    th_advance(&x->h, 9 * OASIS_NS_PER_SEC + 1); /* 60 s after the peer's FIN */
    assert_int_equal(th_ctr(&x->h)->time_wait, 0);
}

/* Closes a flow from peer port pport into TIME_WAIT (listener on PORT). */
static void tw_entry(fx *x, uint16_t pport)
{
    oasis_tcp_hdr s = th_seg(pport, PORT, S, TH_PISN, 0), r;
    th_inject(&x->h, &s);
    assert_true(th_pop(&x->h, &r));
    uint32_t iss = r.seq;
    oasis_tcp_hdr a = th_seg(pport, PORT, A, TH_PISN + 1, iss + 1);
    th_inject(&x->h, &a);
    th_poll(&x->h);
    oasis_tcp_close(x->a.flow, NULL, NULL);
    th_clear(&x->h);
    oasis_tcp_hdr fa = th_seg(pport, PORT, F | A, TH_PISN + 1, iss + 2);
    th_inject(&x->h, &fa);
    th_clear(&x->h);
    th_poll(&x->h);
}

/* cfg.max_time_wait bounds the entries: the oldest makes way, counted. */
static void test_time_wait_bounded(void **state)
{
    fx *x = *state;
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.max_time_wait = 3;
    th_fini(&x->h);
    th_init_af(&x->h, &c.tcp, ipv6);
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    for (uint16_t i = 0; i < 5; i++)
        tw_entry(x, (uint16_t)(41000 + i));
    assert_int_equal(th_ctr(&x->h)->time_wait, 3);
    assert_int_equal(th_ctr(&x->h)->time_wait_overflows, 2);
    /* the oldest are gone (a stray ACK draws an RST), the newest stay */
    oasis_tcp_hdr a = th_seg(41000, PORT, A, TH_PISN + 5, 77), r;
    th_inject(&x->h, &a);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, R);
    a = th_seg(41004, PORT, A, TH_PISN + 5, 77);
    th_inject(&x->h, &a);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, A); /* TIME_WAIT's ACK */
    /* 0: no TIME_WAIT kept at all */
    th_fini(&x->h);
    c.tcp.max_time_wait = 0;
    th_init_af(&x->h, &c.tcp, ipv6);
    x->a.accepted = 0;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    tw_entry(x, 41000);
    assert_int_equal(th_ctr(&x->h)->time_wait, 0);
    assert_int_equal(th_ctr(&x->h)->time_wait_overflows, 1);
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
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_closed_port_rst),
        T(test_closed_port_rst_rate_limited),
        T(test_listen_syn_synack),
        T(test_listen_ack_rst),
        T(test_listen_syn_received_established),
        T(test_syn_received_rst_back_to_listen),
        T(test_syn_received_bad_ack_rst),
        T(test_syn_received_synack_retransmit),
        T(test_syn_sent_established),
        T(test_syn_sent_rst_refused),
        T(test_syn_sent_rst_bad_ack_ignored),
        T(test_syn_sent_simultaneous_open),
        T(test_simultaneous_open_synack_establishes),
        T(test_syn_sent_synack_with_text_and_fin),
        T(test_established_data_and_ack),
        T(test_established_rst),
        T(test_fin_wait_1_2_time_wait_closed),
        T(test_fin_wait_1_closing_time_wait),
        T(test_fin_wait_1_fin_ack_time_wait),
        T(test_close_wait_last_ack_closed),
        T(test_rst_in_fin_wait_1),
        T(test_rst_in_fin_wait_2),
        T(test_fin_with_old_ack_in_fin_wait_2),
        T(test_rst_in_close_wait),
        T(test_rst_in_closing),
        T(test_rst_in_last_ack),
        T(test_rst_in_time_wait),
        T(test_rst_in_syn_sent_without_ack_ignored),
        T(test_syn_received_unacceptable_gets_ack),
        T(test_listen_syn_fin_dropped),
        T(test_syn_in_each_synchronized_state),
        T(test_rst_not_exact_in_each_synchronized_state),
        T(test_no_ack_flag_dropped_in_each_synchronized_state),
        T(test_ack_of_unsent_with_fin_in_each_state),
        T(test_retransmitted_fin_always_answered),
        T(test_syn_received_inwindow_syn_back_to_listen),
        T(test_syn_received_odd_segments),
        T(test_syn_sent_odd_segments),
        T(test_listen_odd_segments),
        T(test_closed_port_rst_seg_len),
        T(test_time_wait_reopen_iss_above_old),
        T(test_time_wait_reopen_by_timestamp),
        T(test_time_wait_reopen_ts_old_only),
        T(test_time_wait_reopen_ts_new_only_strict),
        T(test_time_wait_ts_new_only_tolerant),
        T(test_time_wait_fin_restart),
        T(test_time_wait_stray_fin_answered_no_restart),
        T(test_time_wait_synack_answered),
        T(test_time_wait_syn_without_listener_answered),
        T(test_time_wait_old_syn_with_listener_answered),
        T(test_time_wait_bounded),
    };
    if (getenv("TCP_TEST"))
        cmocka_set_test_filter(getenv("TCP_TEST"));
    int failed = cmocka_run_group_tests_name("ipv4", tests, NULL, NULL);
    return failed + cmocka_run_group_tests_name("ipv6", tests, group_ipv6, NULL);
}
