/* The contract's edges and the hardening RFCs, one stack and hand-built
 * segments: sticky EOF, write after close, unlisten, abort and disconnect,
 * RFC 5961 challenge ACKs and their rate limit, PAWS, options, out-of-order
 * data with SACK, sequence wraparound. */
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
#define MS OASIS_NS_PER_MS

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

static void estab(fx *x)
{
    x->iss = th_open_passive(&x->h, &x->a, PORT, NULL);
    x->pnxt = TH_PISN + 1;
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

/* ---- the contract ---------------------------------------------------------- */

static void test_read_rest_then_sticky_eof(void **state)
{
    fx *x = *state;
    estab(x);
    inject(x, A, x->pnxt, x->iss + 1, "one");
    inject(x, A | F, x->pnxt + 3, x->iss + 1, "two");
    th_clear(&x->h);
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    assert_int_equal(x->a.reads, 0); /* never inside the call */
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 6);
    assert_memory_equal(x->a.rx, "onetwo", 6);
    assert_int_equal(x->a.eof, 0);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
        th_poll(&x->h);
        assert_int_equal(x->a.eof, i);
    }
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), 0);
}

static void test_one_read_at_a_time(void **state)
{
    fx *x = *state;
    estab(x);
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), OASIS_EBUSY);
    assert_int_equal(oasis_tcp_read(NULL, th_read_cb, &x->a), OASIS_EINVAL);
}

static void test_write_after_close_closed(void **state)
{
    fx *x = *state;
    estab(x);
    assert_int_equal(oasis_tcp_close(x->a.flow, th_close_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_write(x->a.flow, "late", 4, th_write_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.writes_done, 1);
    assert_int_equal(x->a.write_err, OASIS_ECLOSED);
    assert_int_equal(x->a.closed, 0);
}

static void test_close_flushes_pending_writes_first(void **state)
{
    fx *x = *state;
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.sndbuf = 1024;
    th_fini(&x->h);
    th_init(&x->h, &c.tcp);
    estab(x);
    static uint8_t big[3000];
    memset(big, 'z', sizeof big);
    assert_int_equal(oasis_tcp_write(x->a.flow, big, sizeof big, th_write_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_close(x->a.flow, th_close_cb, &x->a), 0);
    uint32_t got = 0;
    int fin = 0;
    for (int round = 0; round < 20 && !fin; round++) {
        oasis_tcp_hdr r;
        while (th_pop(&x->h, &r)) {
            assert_false(fin);
            got += (uint32_t)r.payload_len;
            if (r.flags & F) {
                fin = 1;
                assert_int_equal(r.seq + r.payload_len, x->iss + 1 + sizeof big);
            }
        }
        inject(x, A, x->pnxt, x->iss + 1 + got, NULL);
        th_poll(&x->h);
    }
    assert_true(fin);
    assert_int_equal(got, sizeof big);
    assert_int_equal(x->a.writes_done, 1);
    assert_int_equal(x->a.write_err, 0);
}

static void test_unlisten_keeps_established(void **state)
{
    fx *x = *state;
    estab(x);
    /* a half-open handshake on the same port */
    oasis_tcp_hdr s = th_seg(TH_PPORT + 1, PORT, S, 777, 0);
    th_inject(&x->h, &s);
    th_clear(&x->h);
    assert_int_equal(oasis_tcp_unlisten(x->h.s, PORT), 0);
    assert_int_equal(oasis_tcp_unlisten(x->h.s, PORT), OASIS_ENOENT);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r)); /* the half-open one is reset */
    assert_true(r.flags & R);
    assert_int_equal(r.dst_port, TH_PPORT + 1);
    /* the established flow still works */
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    inject(x, A, x->pnxt, x->iss + 1, "still here");
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 10);
    /* and new SYNs get RST */
    th_clear(&x->h);
    s = th_seg(TH_PPORT + 2, PORT, S, 1, 0);
    th_inject(&x->h, &s);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, R | A);
}

static void test_listen_twice(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), OASIS_EADDRINUSE);
    assert_int_equal(oasis_tcp_listen(x->h.s, 0, NULL, th_accept_cb, &x->a), OASIS_EINVAL);
}

static void test_backlog_overflow(void **state)
{
    fx *x = *state;
    oasis_listen_opts o = {.backlog = 2};
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, &o, th_accept_cb, &x->a), 0);
    for (int i = 0; i < 4; i++) {
        oasis_tcp_hdr s = th_seg((uint16_t)(TH_PPORT + i), PORT, S, 100, 0);
        th_inject(&x->h, &s);
    }
    /* two SYN-ACKs with state, two stateless SYN cookies */
    assert_int_equal(th_pending(&x->h), 4);
    assert_int_equal(th_ctr(&x->h)->listen_overflows, 2);
    assert_int_equal(th_ctr(&x->h)->syn_cookies_sent, 2);
    assert_int_equal(th_ctr(&x->h)->flows, 2);
}

static void abort_in_read(oasis_flow *f, int err, const uint8_t *d, size_t n, void *ud)
{
    th_app *a = ud;
    a->reads++;
    oasis_tcp_release(f);
}

static void test_abort_from_callback(void **state)
{
    fx *x = *state;
    estab(x);
    assert_int_equal(oasis_tcp_write(x->a.flow, "pending", 7, th_write_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_read(x->a.flow, abort_in_read, &x->a), 0);
    inject(x, A, x->pnxt, x->iss + 1, "data");
    th_clear(&x->h);
    th_poll(&x->h);
    assert_int_equal(x->a.reads, 1);
    assert_int_equal(x->a.writes_done, 1);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_true(r.flags & R);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

static void test_abort_cancels_pending(void **state)
{
    fx *x = *state;
    estab(x);
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_write_nodelay(x->a.flow, "x", 1, th_write_cb, &x->a), 0);
    oasis_tcp_release(x->a.flow);
    assert_int_equal(x->a.read_err, OASIS_ECANCELED);
    assert_int_equal(x->a.write_err, OASIS_ECANCELED);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
    th_poll(&x->h);
}

static void test_disconnect_cancels_everything(void **state)
{
    fx *x = *state;
    estab(x);
    th_app b;
    th_app_init(&b);
    assert_int_equal(oasis_tcp_connect4(x->h.s, TH_PEER, 9999, NULL, th_connect_cb, &b), 0);
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_close(x->a.flow, th_close_cb, &x->a), 0);
    th_clear(&x->h);
    oasis_tcp_disconnect(x->h.s);
    assert_int_equal(x->a.read_err, OASIS_ECANCELED);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(x->a.close_err, OASIS_ECANCELED);
    assert_int_equal(b.connected, 1);
    assert_int_equal(b.connect_err, OASIS_ECANCELED);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
    assert_int_equal(th_ctr(&x->h)->curr_estab, 0);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_true(r.flags & R);
    /* usable again */
    th_app c;
    th_app_init(&c);
    th_clear(&x->h);
    x->iss = th_open_passive(&x->h, &c, PORT, NULL);
    th_app_fini(&b);
    th_app_fini(&c);
}

static void disconnect_in_read(oasis_flow *f, int err, const uint8_t *d, size_t n, void *ud)
{
    th_app *a = ud;
    a->reads++;
    oasis_tcp_disconnect(oasis_flow_stack(f));
}

/* Two flows ready in the same dispatch round; the first one's callback
 * tears the layer down (ASan checks the second is not touched after). */
static void test_disconnect_from_callback(void **state)
{
    fx *x = *state;
    estab(x);
    th_app b;
    th_app_init(&b);
    oasis_flow *first = x->a.flow;
    oasis_tcp_hdr s = th_seg(TH_PPORT + 1, PORT, S, 50, 0);
    th_inject(&x->h, &s);
    oasis_tcp_hdr r;
    while (th_pop(&x->h, &r))
        if (r.flags == (S | A))
            break;
    oasis_tcp_hdr ack = th_seg(TH_PPORT + 1, PORT, A, 51, r.seq + 1);
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    oasis_flow *second = x->a.flow;
    assert_ptr_not_equal(first, second);
    assert_int_equal(oasis_tcp_read(first, disconnect_in_read, &b), 0);
    assert_int_equal(oasis_tcp_read(second, th_read_cb, &x->a), 0);
    inject(x, A, x->pnxt, x->iss + 1, "1");
    oasis_tcp_hdr d = th_seg(TH_PPORT + 1, PORT, A, 51, r.seq + 1);
    d.payload = (const uint8_t *)"2";
    d.payload_len = 1;
    th_inject(&x->h, &d);
    th_poll(&x->h);
    assert_int_equal(b.reads, 1);
    assert_int_equal(x->a.read_err, OASIS_ECANCELED);
    /* finished, not freed: the handles are the application's to release */
    assert_int_equal(th_ctr(&x->h)->flows, 2);
    assert_int_equal(oasis_tcp_read(second, th_read_cb, &x->a), OASIS_ECLOSED);
    oasis_tcp_release(first);
    oasis_tcp_release(second);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
    th_app_fini(&b);
}

/* ---- RFC 5961 -------------------------------------------------------------- */

static void test_rst_not_exact_challenge_ack(void **state)
{
    fx *x = *state;
    estab(x);
    inject(x, R, x->pnxt + 100, 0, NULL);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, A);
    assert_int_equal(r.ack, x->pnxt);
    assert_int_equal(th_ctr(&x->h)->challenge_acks, 1);
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), 0);
    /* out of the window entirely: dropped silently */
    inject(x, R, x->pnxt + 10000000, 0, NULL);
    assert_false(th_pop(&x->h, &r));
    /* exact: reset */
    inject(x, R, x->pnxt, 0, NULL);
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), OASIS_ERESET);
}

static void test_syn_in_established_challenge_ack(void **state)
{
    fx *x = *state;
    estab(x);
    inject(x, S, x->pnxt + 5, 0, NULL);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, A);
    assert_int_equal(r.ack, x->pnxt);
    assert_int_equal(th_ctr(&x->h)->challenge_acks, 1);
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), 0);
    oasis_tcp_info i;
    oasis_tcp_get_info(x->a.flow, &i);
    assert_int_equal(i.state, OASIS_TCP_ESTABLISHED);
}

static void test_challenge_ack_rate_limit(void **state)
{
    fx *x = *state;
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.challenge_ack_limit = 3;
    th_fini(&x->h);
    th_init(&x->h, &c.tcp);
    estab(x);
    for (int i = 0; i < 10; i++)
        inject(x, R, x->pnxt + 1 + (uint32_t)i, 0, NULL);
    /* The budget of a second is random in [2, 5) for a limit of 3. */
    uint64_t sent = th_ctr(&x->h)->challenge_acks;
    assert_true(sent >= 2 && sent <= 4);
    assert_int_equal(th_pending(&x->h), sent);
    assert_int_equal(th_ctr(&x->h)->challenge_acks_limited, 10 - sent);
    th_clear(&x->h);
    th_advance(&x->h, 1000 * MS);
    inject(x, R, x->pnxt + 1, 0, NULL);
    assert_int_equal(th_pending(&x->h), 1); /* a new second */
}

static void test_ack_of_unsent_data(void **state)
{
    fx *x = *state;
    estab(x);
    inject(x, A, x->pnxt, x->iss + 1000, NULL);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, A);
    assert_int_equal(r.seq, x->iss + 1);
}

/* ---- options, PAWS --------------------------------------------------------- */

static oasis_tcp_hdr full_syn(void)
{
    oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    s.has_mss = 1;
    s.mss = 1400;
    s.has_wscale = 1;
    s.wscale = 2;
    s.sack_permitted = 1;
    s.has_ts = 1;
    s.ts_val = 5000;
    return s;
}

static void test_options_negotiated(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    oasis_tcp_hdr s = full_syn();
    th_inject(&x->h, &s);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_true(r.has_mss && r.mss == 1460);
    assert_true(r.has_wscale);
    assert_int_equal(r.wscale, 7); /* 4 MiB receive buffer */
    assert_true(r.sack_permitted);
    assert_true(r.has_ts);
    assert_int_equal(r.ts_ecr, 5000);
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, TH_PISN + 1, r.seq + 1);
    ack.has_ts = 1;
    ack.ts_val = 5001;
    ack.ts_ecr = r.ts_val;
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    oasis_tcp_info i;
    assert_int_equal(oasis_tcp_get_info(x->a.flow, &i), 0);
    assert_int_equal(i.mss_send, 1400);
    assert_int_equal(i.snd_wscale, 2);
    assert_int_equal(i.rcv_wscale, 7);
    assert_true(i.timestamps && i.sack);
    assert_int_equal(i.snd_wnd, 65535u << 2);
    /* our data segments: MSS less the timestamp option */
    static uint8_t big[4000];
    assert_int_equal(oasis_tcp_write(x->a.flow, big, sizeof big, NULL, NULL), 0);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.payload_len, 1400 - 12);
    assert_true(r.has_ts);
    assert_int_equal(r.ts_ecr, 5001);
}

static void test_paws_drops_old_timestamp(void **state)
{
    fx *x = *state;
    oasis_tcp_hdr syn = full_syn();
    x->iss = th_open_passive(&x->h, &x->a, PORT, &syn);
    x->pnxt = TH_PISN + 1;
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    oasis_tcp_hdr d = th_seg(TH_PPORT, PORT, A, x->pnxt, x->iss + 1);
    d.has_ts = 1;
    d.ts_val = 4000; /* older than 5001 */
    d.payload = (const uint8_t *)"old";
    d.payload_len = 3;
    th_inject(&x->h, &d);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 0);
    assert_int_equal(th_ctr(&x->h)->paws_drops, 1);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r)); /* dropped with an ACK */
    assert_int_equal(r.ack, x->pnxt);
    d.ts_val = 6000;
    th_inject(&x->h, &d);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 3);
}

/* ---- out of order, SACK ---------------------------------------------------- */

static void test_out_of_order_in_order_delivery_with_sack(void **state)
{
    fx *x = *state;
    oasis_tcp_hdr syn = full_syn();
    x->iss = th_open_passive(&x->h, &x->a, PORT, &syn);
    x->pnxt = TH_PISN + 1;
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    const char *parts[] = {"aaaa", "bbbb", "cccc", "dddd"};
    uint32_t ts = 6000;
    int order[] = {1, 3, 2, 0};
    for (int k = 0; k < 4; k++) {
        int i = order[k];
        oasis_tcp_hdr d = th_seg(TH_PPORT, PORT, A, x->pnxt + 4u * (uint32_t)i, x->iss + 1);
        d.has_ts = 1;
        d.ts_val = ts++;
        d.payload = (const uint8_t *)parts[i];
        d.payload_len = 4;
        th_inject(&x->h, &d);
        oasis_tcp_hdr r;
        assert_true(th_pop(&x->h, &r)); /* immediate ACK: out of order / hole filled */
        if (k == 0) {
            assert_int_equal(r.ack, x->pnxt);
            assert_int_equal(r.sack_count, 1);
            assert_int_equal(r.sack[0].left, x->pnxt + 4);
            assert_int_equal(r.sack[0].right, x->pnxt + 8);
        } else if (k == 1) {
            assert_int_equal(r.sack_count, 2);
            assert_int_equal(r.sack[0].left, x->pnxt + 12); /* most recent first */
        } else if (k == 2) {
            assert_int_equal(r.sack_count, 1);
            assert_int_equal(r.sack[0].left, x->pnxt + 4);
            assert_int_equal(r.sack[0].right, x->pnxt + 16);
        } else {
            assert_int_equal(r.ack, x->pnxt + 16);
            assert_int_equal(r.sack_count, 0);
        }
    }
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 16);
    assert_memory_equal(x->a.rx, "aaaabbbbccccdddd", 16);
    assert_int_equal(th_ctr(&x->h)->ofo_queued, 3);
}

static void test_fin_after_hole(void **state)
{
    fx *x = *state;
    estab(x);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    inject(x, A | F, x->pnxt + 3, x->iss + 1, "def");
    th_poll(&x->h);
    assert_int_equal(x->a.eof, 0);
    inject(x, A, x->pnxt, x->iss + 1, "abc");
    th_clear(&x->h);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 6);
    assert_int_equal(x->a.eof, 1);
    oasis_tcp_info i;
    oasis_tcp_get_info(x->a.flow, &i);
    assert_int_equal(i.state, OASIS_TCP_CLOSE_WAIT);
}

/* RFC 9293 3.4: the FIN "is considered to occur after the last actual data
 * octet in a segment in which it occurs". Held beyond a hole, it bounds
 * what may still come: bytes a hostile peer sends after it are not data.
 * Before, they were held too, the hole's fill carried RCV.NXT over the
 * FIN to their end: the reader got 3 bytes more and never its EOF, and our
 * ACK acknowledged a sequence number the peer's FIN had taken. */
static void test_data_beyond_pending_fin_dropped(void **state)
{
    fx *x = *state;
    estab(x);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    inject(x, A | F, x->pnxt + 3, x->iss + 1, "def"); /* FIN at pnxt + 6 */
    inject(x, A, x->pnxt + 6, x->iss + 1, "XYZ");     /* after it */
    inject(x, A, x->pnxt, x->iss + 1, "abc");
    oasis_tcp_hdr r, last;
    int n = 0;
    while (th_pop(&x->h, &r))
        last = r, n++;
    assert_true(n > 0);
    assert_int_equal(last.ack, x->pnxt + 7); /* the data and the FIN, no more */
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 6);
    assert_memory_equal(x->a.rx, "abcdef", 6);
    assert_int_equal(x->a.eof, 1);
    oasis_tcp_info i;
    oasis_tcp_get_info(x->a.flow, &i);
    assert_int_equal(i.state, OASIS_TCP_CLOSE_WAIT);
}

/* The same rule the other way round: a FIN out of order below bytes
 * already held ends the stream there; the held bytes beyond it go (as
 * Linux purges its out-of-order queue at the FIN). Before, the FIN was
 * remembered but the hole's fill carried RCV.NXT over it to the end of
 * those bytes: the reader got them and never its EOF. */
static void test_fin_drops_held_data_beyond_it(void **state)
{
    fx *x = *state;
    estab(x);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    inject(x, A, x->pnxt + 10, x->iss + 1, "KLMNOPQRST");
    inject(x, A | F, x->pnxt + 5, x->iss + 1, "fghij"); /* FIN at pnxt + 10 */
    assert_int_equal(x->a.flow->ext->ofo.bytes, 5);      /* "fghij" only */
    inject(x, A, x->pnxt + 12, x->iss + 1, "MN");        /* nor anything new */
    inject(x, A, x->pnxt, x->iss + 1, "abcde");
    oasis_tcp_hdr r, last;
    int n = 0;
    while (th_pop(&x->h, &r))
        last = r, n++;
    assert_true(n > 0);
    assert_int_equal(last.ack, x->pnxt + 11);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 10);
    assert_memory_equal(x->a.rx, "abcdefghij", 10);
    assert_int_equal(x->a.eof, 1);
    oasis_tcp_info i;
    oasis_tcp_get_info(x->a.flow, &i);
    assert_int_equal(i.state, OASIS_TCP_CLOSE_WAIT);
}

/* An in-order FIN with data held beyond it (a peer that sent past its own
 * FIN): the held bytes can never be delivered, so they go with the FIN
 * (RFC 9293 3.4; Linux purges its out-of-order queue there too). */
static void test_in_order_fin_frees_held_data(void **state)
{
    fx *x = *state;
    estab(x);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    inject(x, A, x->pnxt + 10, x->iss + 1, "KLMNOPQRST");
    assert_int_equal(x->a.flow->ext->ofo.bytes, 10);
    inject(x, A | F, x->pnxt, x->iss + 1, "abcde"); /* FIN at pnxt + 5 */
    assert_int_equal(x->a.flow->ext->ofo.bytes, 0);
    assert_int_equal(x->a.flow->ext->ofo.n, 0);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 5);
    assert_memory_equal(x->a.rx, "abcde", 5);
    assert_int_equal(x->a.eof, 1);
}

/* ---- fast retransmit -------------------------------------------------------- */

static void test_fast_retransmit_on_three_dupacks(void **state)
{
    fx *x = *state;
    estab(x);
    static uint8_t big[536 * 6];
    assert_int_equal(oasis_tcp_write(x->a.flow, big, sizeof big, NULL, NULL), 0);
    oasis_tcp_hdr r;
    int n = 0;
    while (th_pop(&x->h, &r))
        n++;
    assert_int_equal(n, 6); /* peer MSS 536 (no option), IW 10 */
    for (int i = 0; i < 3; i++) {
        inject(x, A, x->pnxt, x->iss + 1, NULL);
        if (i < 2)
            assert_false(th_pop(&x->h, &r));
    }
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, x->iss + 1);
    assert_int_equal(r.payload_len, 536);
    assert_int_equal(th_ctr(&x->h)->fast_retrans, 1);
    /* a partial ACK retransmits the next hole at once (RFC 6582) */
    inject(x, A, x->pnxt, x->iss + 1 + 536 * 2, NULL);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, x->iss + 1 + 536 * 2);
}

/* ---- sequence numbers wrap ----------------------------------------------- */

static void test_sequence_wraparound(void **state)
{
    fx *x = *state;
    oasis_tcp_set_next_isn(x->h.s, 0xFFFFFFF0u);
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    uint32_t pisn = 0xFFFFFF00u;
    oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, S, pisn, 0);
    s.has_mss = 1;
    s.mss = 1000;
    th_inject(&x->h, &s);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, 0xFFFFFFF0u);
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, pisn + 1, r.seq + 1);
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    /* 4 MB each way across the wrap, in 1000-byte segments */
    enum { TOTAL = 4 << 20, SEG = 1000 };
    static uint8_t tx[TOTAL];
    for (size_t i = 0; i < TOTAL; i++)
        tx[i] = (uint8_t)(i * 7 + (i >> 10));
    assert_int_equal(oasis_tcp_write(x->a.flow, tx, TOTAL, NULL, NULL), 0);
    uint32_t pseq = pisn + 1, our_acked = r.seq + 1;
    uint64_t sent = 0, got = 0;
    uint8_t *rx = malloc(TOTAL);
    while (sent < TOTAL || got < TOTAL) {
        if (sent < TOTAL) {
            oasis_tcp_hdr d = th_seg(TH_PPORT, PORT, A, pseq, our_acked);
            d.payload = tx + sent;
            d.payload_len = SEG < TOTAL - sent ? SEG : TOTAL - sent;
            th_inject(&x->h, &d);
            pseq += (uint32_t)d.payload_len;
            sent += d.payload_len;
        }
        while (th_pop(&x->h, &r)) {
            assert_true(got + r.payload_len <= TOTAL);
            if (r.payload_len && r.seq == our_acked) {
                memcpy(rx + got, r.payload, r.payload_len);
                got += r.payload_len;
                our_acked += (uint32_t)r.payload_len;
            }
        }
        oasis_tcp_hdr a2 = th_seg(TH_PPORT, PORT, A, pseq, our_acked);
        th_inject(&x->h, &a2);
        th_poll(&x->h);
    }
    assert_memory_equal(rx, tx, TOTAL);
    assert_int_equal(x->a.rx_len, TOTAL);
    assert_memory_equal(x->a.rx, tx, TOTAL);
    assert_true(oasis_seq_lt(0xFFFFFFF0u, our_acked)); /* it did wrap */
    assert_true(our_acked < 0xFFFFFFF0u);
    free(rx);
}

/* ---- issue 11: what a dropped segment may change ----------------------------- */

/* Established with timestamps (TS.Recent 5001), reading. */
static void estab_ts(fx *x)
{
    oasis_tcp_hdr syn = full_syn();
    x->iss = th_open_passive(&x->h, &x->a, PORT, &syn);
    x->pnxt = TH_PISN + 1;
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    th_clear(&x->h);
}

static void inject_ts(fx *x, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t tsval,
                      const char *data)
{
    oasis_tcp_hdr d = th_seg(TH_PPORT, PORT, flags, seq, ack);
    d.has_ts = 1;
    d.ts_val = tsval;
    if (data) {
        d.payload = (const uint8_t *)data;
        d.payload_len = strlen(data);
    }
    th_inject(&x->h, &d);
}

/* RFC 5961 4.2 + RFC 7323 R3: an in-window SYN draws a challenge ACK and
 * nothing else. Before the fix its TSval became TS.Recent, and every later
 * legitimate segment failed PAWS: a blind kill. */
static void test_inwindow_syn_keeps_ts_recent(void **state)
{
    fx *x = *state;
    estab_ts(x);
    inject_ts(x, S, x->pnxt, 0, 5001u + (1u << 30), NULL); /* at RCV.NXT: R3 would take it */
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, A);
    assert_int_equal(r.ts_ecr, 5001);
    assert_int_equal(th_ctr(&x->h)->challenge_acks, 1);
    inject_ts(x, A, x->pnxt, x->iss + 1, 5002, "legit");
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 5);
    assert_int_equal(th_ctr(&x->h)->paws_drops, 0);
}

/* RFC 9293 3.10.7.4: an ACK of unsent data is ACKed and dropped; it must
 * not move TS.Recent either. */
static void test_ack_of_unsent_keeps_ts_recent(void **state)
{
    fx *x = *state;
    estab_ts(x);
    inject_ts(x, A, x->pnxt, x->iss + 1 + 5000, 5001u + (1u << 30), NULL);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, A);
    assert_int_equal(r.ack, x->pnxt);
    assert_int_equal(r.ts_ecr, 5001);
    inject_ts(x, A, x->pnxt, x->iss + 1, 5002, "legit");
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 5);
    assert_int_equal(th_ctr(&x->h)->paws_drops, 0);
}

/* RFC 7323 3.2 by default: a segment without TSopt on a flow that
 * negotiated timestamps is taken (deployed stacks omit it on keep-alives),
 * counted, and neither PAWS-checked nor allowed to move TS.Recent. */
static void test_missing_timestamp_taken_and_counted(void **state)
{
    fx *x = *state;
    estab_ts(x);
    uint32_t recent = x->a.flow->ts_recent;
    inject(x, A, x->pnxt, x->iss + 1, "bare");
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 4);
    assert_int_equal(th_ctr(&x->h)->ts_missing, 1);
    assert_int_equal(x->a.flow->ts_recent, recent);
    assert_int_equal(th_ctr(&x->h)->paws_drops, 0);
}

/* cfg.tcp.strict_timestamps: RFC 7323 3.2's "SHOULD silently drop" a
 * non-RST segment without TSopt: no data, no ACK, no state moves; the same
 * bytes with TSopt are then taken, a SYN without it still draws RFC 5961's
 * challenge ACK, and an RST without it still resets. */
static void test_strict_timestamps_drop_silently(void **state)
{
    fx *x = *state;
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.strict_timestamps = 1;
    th_fini(&x->h);
    th_init(&x->h, &c.tcp);
    estab_ts(x);
    inject(x, A, x->pnxt, x->iss + 1, "bare");
    inject(x, A | F, x->pnxt, x->iss + 1, NULL);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 0);
    assert_int_equal(x->a.eof, 0);
    assert_int_equal(th_ctr(&x->h)->ts_missing, 2);
    oasis_tcp_hdr r;
    assert_false(th_pop(&x->h, &r)); /* silently */
    assert_int_equal(x->a.flow->rcv_nxt, x->pnxt);
    inject_ts(x, A, x->pnxt, x->iss + 1, 5001, "bare");
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 4);
    x->pnxt += 4;
    th_clear(&x->h);
    inject(x, S, x->pnxt + 100, 0, NULL);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, A);
    assert_int_equal(r.ack, x->pnxt);
    assert_int_equal(th_ctr(&x->h)->challenge_acks, 1);
    inject(x, R, x->pnxt, 0, NULL);
    th_poll(&x->h);
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), OASIS_ERESET);
}

/* The FIN_WAIT_2 bound and keepalive count only segments that were
 * accepted: forged in-window SYNs must not keep a dead peer's flow alive. */
static void test_dropped_syns_do_not_extend_fin_wait_2(void **state)
{
    fx *x = *state;
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.fin_wait2_ns = 10 * OASIS_NS_PER_SEC;
    th_fini(&x->h);
    th_init(&x->h, &c.tcp);
    estab(x);
    assert_int_equal(oasis_tcp_close(x->a.flow, th_close_cb, &x->a), 0);
    inject(x, A, x->pnxt, x->iss + 2, NULL);
    oasis_tcp_info i;
    oasis_tcp_get_info(x->a.flow, &i);
    assert_int_equal(i.state, OASIS_TCP_FIN_WAIT_2);
    uint64_t t0 = th_now(&x->h);
    for (int k = 0; k < 12; k++) {
        th_advance(&x->h, OASIS_NS_PER_SEC);
        inject(x, S, x->pnxt + 100, 0, NULL);
    }
    th_poll(&x->h);
    assert_true(th_now(&x->h) - t0 > c.tcp.fin_wait2_ns);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(x->a.close_err, OASIS_ETIMEDOUT);
}

/* RFC 7323 3.2: an RST of a flow that negotiated timestamps carries TSopt. */
static void test_rst_carries_timestamp(void **state)
{
    fx *x = *state;
    estab_ts(x);
    inject_ts(x, A, x->pnxt, x->iss + 1, 5100, "abc");
    th_poll(&x->h);
    th_clear(&x->h);
    oasis_tcp_abort(x->a.flow);
    x->a.flow = NULL;
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_true(r.flags & R);
    assert_true(r.has_ts);
    assert_int_equal(r.ts_ecr, 5100);
}

/* RFC 9293 3.10.7.4: with our window at zero a segment at RCV.NXT is still
 * processed for its ACK (a window probe acknowledges our data) and a bare
 * FIN there is taken; only its text is dropped. */
static void test_zero_window_still_takes_ack_and_fin(void **state)
{
    fx *x = *state;
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.rcvbuf = 4096;
    th_fini(&x->h);
    th_init(&x->h, &c.tcp);
    estab(x); /* not reading: the window fills */
    assert_int_equal(oasis_tcp_write(x->a.flow, "hello", 5, th_write_cb, &x->a), 0);
    static char fill[4097];
    memset(fill, 'z', 4096);
    inject(x, A, x->pnxt, x->iss + 1, fill);
    th_clear(&x->h);
    oasis_tcp_info i;
    oasis_tcp_get_info(x->a.flow, &i);
    assert_int_equal(i.rcv_wnd, 0);
    assert_int_equal(i.bytes_acked, 0);
    /* the peer's window probe also acknowledges our 5 bytes */
    inject(x, A, x->pnxt + 4096, x->iss + 6, "p");
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.ack, x->pnxt + 4096);
    assert_int_equal(r.window, 0);
    oasis_tcp_get_info(x->a.flow, &i);
    assert_int_equal(i.bytes_acked, 5);
    assert_int_equal(i.bytes_received, 4096);
    th_poll(&x->h);
    assert_int_equal(x->a.writes_done, 1);
    /* a bare FIN at RCV.NXT */
    inject(x, A | F, x->pnxt + 4096, x->iss + 6, NULL);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.ack, x->pnxt + 4097);
    oasis_tcp_get_info(x->a.flow, &i);
    assert_int_equal(i.state, OASIS_TCP_CLOSE_WAIT);
}

/* Issue 11 item 37: overlapping data, the first copy of each byte wins, in
 * TCP as in IP reassembly (src/ip/reasm.c); later copies only fill gaps. */
static void test_overlap_first_copy_wins(void **state)
{
    fx *x = *state;
    estab(x);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    inject(x, A, x->pnxt + 4, x->iss + 1, "AAAA");     /* held: [4, 8) */
    inject(x, A, x->pnxt + 2, x->iss + 1, "BBBBBBBB"); /* fills [2, 4) and [8, 10) */
    inject(x, A, x->pnxt, x->iss + 1, "ccccCCCC");     /* in order: only [0, 2) is new */
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 10);
    assert_memory_equal(x->a.rx, "ccBBAAAABB", 10);
}

/* RFC 4022: tcpEstabResets counts "a direct transition to the CLOSED state
 * from either the ESTABLISHED state or the CLOSE-WAIT state", and
 * tcpAttemptFails those from SYN-SENT or SYN-RCVD, whatever ends the flow:
 * an abort, a timeout, a reset. An orderly close counts neither. */
static void test_mib_transitions_to_closed(void **state)
{
    fx *x = *state;
    const oasis_tcp_counters *k = th_ctr(&x->h);
    oasis_tcp_hdr r;

    estab(x); /* ESTABLISHED, aborted by the application */
    oasis_tcp_abort(x->a.flow);
    oasis_tcp_release(x->a.flow);
    assert_int_equal(k->estab_resets, 1);

    while (th_pop(&x->h, &r)) /* the RST */
        ;
    th_app_fini(&x->a); /* CLOSE-WAIT, aborted */
    th_app_init(&x->a);
    assert_int_equal(oasis_tcp_unlisten(x->h.s, PORT), 0);
    estab(x);
    inject(x, A | F, x->pnxt, x->iss + 1, NULL);
    th_poll(&x->h);
    assert_int_equal(x->a.flow->state, OASIS_TCP_CLOSE_WAIT);
    oasis_tcp_abort(x->a.flow);
    oasis_tcp_release(x->a.flow);
    assert_int_equal(k->estab_resets, 2);

    while (th_pop(&x->h, &r)) /* the RST */
        ;
    th_app_fini(&x->a); /* ESTABLISHED, its data never acknowledged */
    th_app_init(&x->a);
    assert_int_equal(oasis_tcp_unlisten(x->h.s, PORT), 0);
    estab(x);
    assert_int_equal(oasis_tcp_write(x->a.flow, "data", 4, th_write_cb, &x->a), 0);
    for (int i = 0; i < 2000 && !oasis_tcp_flow_error(x->a.flow); i++) {
        th_advance(&x->h, 1000 * MS);
        while (th_pop(&x->h, &r))
            ;
    }
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), OASIS_ETIMEDOUT);
    oasis_tcp_release(x->a.flow);
    assert_int_equal(k->estab_resets, 3);
    assert_int_equal(k->attempt_fails, 0);

    while (th_pop(&x->h, &r)) /* the RST */
        ;
    th_app_fini(&x->a); /* SYN-SENT, aborted */
    th_app_init(&x->a);
    oasis_flow *f = NULL;
    assert_int_equal(oasis_tcp_connect_flow4(x->h.s, TH_PEER, TH_PPORT, NULL, th_connect_cb, &x->a, &f), 0);
    oasis_tcp_abort(f);
    oasis_tcp_release(f);
    assert_int_equal(k->attempt_fails, 1);

    while (th_pop(&x->h, &r)) /* the RST */
        ;
    th_app_fini(&x->a); /* an orderly close: neither */
    th_app_init(&x->a);
    assert_int_equal(oasis_tcp_unlisten(x->h.s, PORT), 0);
    estab(x);
    inject(x, A | F, x->pnxt, x->iss + 1, NULL);
    th_poll(&x->h);
    assert_int_equal(oasis_tcp_close(x->a.flow, th_close_cb, &x->a), 0);
    th_poll(&x->h);
    while (th_pop(&x->h, &r))
        ;
    inject(x, A, x->pnxt + 1, x->iss + 2, NULL);
    th_poll(&x->h);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(k->estab_resets, 3);
    assert_int_equal(k->attempt_fails, 1);
}

static void expect(fx *x, uint8_t flags, uint32_t seq, uint32_t ack, size_t len)
{
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags & ~OASIS_TCP_PSH, flags);
    assert_int_equal(r.seq, seq);
    assert_int_equal(r.ack, ack);
    assert_int_equal(r.payload_len, len);
}

/* RFC 4022: tcpOutSegs counts segments sent "excluding those containing
 * only retransmitted octets"; tcpRetransSegs "the number of TCP segments
 * transmitted containing one or more previously transmitted octets". */
static void test_mib_out_segs_exclude_retransmissions(void **state)
{
    fx *x = *state;
    const oasis_tcp_counters *k = th_ctr(&x->h);
    oasis_tcp_hdr r;
    estab(x);
    uint64_t out = k->out_segs, re = k->retrans_segs;
    assert_int_equal(oasis_tcp_write(x->a.flow, "data", 4, th_write_cb, &x->a), 0);
    expect(x, A, x->iss + 1, x->pnxt, 4);
    assert_int_equal(k->out_segs, out + 1);
    th_advance(&x->h, 1000 * MS); /* RTOs: the same 4 octets again */
    uint64_t n = 0;
    while (th_pop(&x->h, &r)) {
        assert_int_equal(r.seq, x->iss + 1);
        assert_int_equal(r.payload_len, 4);
        n++;
    }
    assert_true(n >= 1);
    assert_int_equal(k->out_segs, out + 1);
    assert_int_equal(k->retrans_segs, re + n);
    inject(x, A, x->pnxt, x->iss + 5, "hi"); /* acked; our ACK of "hi" counts */
    th_advance(&x->h, 200 * MS);
    expect(x, A, x->iss + 5, x->pnxt + 2, 0);
    assert_int_equal(k->out_segs, out + 2);
    assert_int_equal(oasis_tcp_close(x->a.flow, th_close_cb, &x->a), 0);
    th_poll(&x->h);
    expect(x, A | F, x->iss + 5, x->pnxt + 2, 0);
    assert_int_equal(k->out_segs, out + 3);
    th_advance(&x->h, 2000 * MS); /* the FIN again: only a retransmitted octet */
    uint64_t m = 0;
    while (th_pop(&x->h, &r)) {
        assert_true(r.flags & F);
        m++;
    }
    assert_true(m >= 1);
    assert_int_equal(k->out_segs, out + 3);
    assert_int_equal(k->retrans_segs, re + n + m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_read_rest_then_sticky_eof),
        T(test_mib_transitions_to_closed),
        T(test_mib_out_segs_exclude_retransmissions),
        T(test_one_read_at_a_time),
        T(test_write_after_close_closed),
        T(test_close_flushes_pending_writes_first),
        T(test_unlisten_keeps_established),
        T(test_listen_twice),
        T(test_backlog_overflow),
        T(test_abort_from_callback),
        T(test_abort_cancels_pending),
        T(test_disconnect_cancels_everything),
        T(test_disconnect_from_callback),
        T(test_rst_not_exact_challenge_ack),
        T(test_syn_in_established_challenge_ack),
        T(test_challenge_ack_rate_limit),
        T(test_ack_of_unsent_data),
        T(test_options_negotiated),
        T(test_paws_drops_old_timestamp),
        T(test_out_of_order_in_order_delivery_with_sack),
        T(test_fin_after_hole),
        T(test_data_beyond_pending_fin_dropped),
        T(test_fin_drops_held_data_beyond_it),
        T(test_in_order_fin_frees_held_data),
        T(test_fast_retransmit_on_three_dupacks),
        T(test_sequence_wraparound),
        T(test_inwindow_syn_keeps_ts_recent),
        T(test_ack_of_unsent_keeps_ts_recent),
        T(test_missing_timestamp_taken_and_counted),
        T(test_strict_timestamps_drop_silently),
        T(test_dropped_syns_do_not_extend_fin_wait_2),
        T(test_rst_carries_timestamp),
        T(test_zero_window_still_takes_ack_and_fin),
        T(test_overlap_first_copy_wins),
    };
    if (getenv("TCP_TEST"))
        cmocka_set_test_filter(getenv("TCP_TEST"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
