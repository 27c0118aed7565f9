/* TCP timers on a virtual clock: SYN/SYN-ACK retries with backoff, RTO
 * with backoff and give-up, delayed ACK, Nagle, write_nodelay completion,
 * zero-window probing, keepalive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcp/tcp_flow.h"
#include "tcp_harness.h"

#define PORT 80
#define A OASIS_TCP_ACK
#define MS OASIS_NS_PER_MS
#define SEC OASIS_NS_PER_SEC

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

static void inject(fx *x, uint8_t flags, uint32_t seq, uint32_t ack, const void *data, size_t len,
                   uint16_t win)
{
    oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, flags, seq, ack);
    s.payload = data;
    s.payload_len = len;
    s.window = win;
    th_inject(&x->h, &s);
}

/* Runs the clock to `until`, recording when each segment left. */
static size_t collect(fx *x, uint64_t until, uint64_t *when, oasis_tcp_hdr *segs, size_t max)
{
    size_t n = 0;
    uint64_t step = 10 * MS;
    while (th_now(&x->h) < until) {
        th_advance(&x->h, step);
        oasis_tcp_hdr r;
        while (th_pop(&x->h, &r)) {
            if (n < max) {
                when[n] = th_now(&x->h);
                if (segs)
                    segs[n] = r;
            }
            n++;
        }
    }
    return n;
}

static void test_connect_timeout_backoff(void **state)
{
    fx *x = *state;
    uint64_t t0 = th_now(&x->h);
    assert_int_equal(oasis_tcp_connect4(x->h.s, TH_PEER, 8080, NULL, th_connect_cb, &x->a), 0);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    uint64_t when[16];
    size_t n = collect(x, t0 + 300 * SEC, when, NULL, 16);
    /* 7 retries: at 1, 3, 7, 15, 31, 63, 123 s (the gap stops at rto_max,
     * 60 s); Timeout at 183 s, over the 3 minutes of RFC 9293 MUST-23 */
    assert_int_equal(n, 7);
    uint64_t expect = 0, gap = SEC;
    for (size_t i = 0; i < n; i++) {
        expect += gap;
        gap = gap * 2 > 60 * SEC ? 60 * SEC : gap * 2;
        assert_true(when[i] >= t0 + expect && when[i] < t0 + expect + 10 * MS);
    }
    assert_int_equal(x->a.connected, 1);
    assert_int_equal(x->a.connect_err, OASIS_ETIMEDOUT);
    assert_null(x->a.flow);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

static void test_synack_retries_then_gone(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    inject(x, OASIS_TCP_SYN, 5000, 0, NULL, 0, 65535);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    uint64_t when[16];
    size_t n = collect(x, th_now(&x->h) + 200 * SEC, when, NULL, 16);
    assert_int_equal(n, 5); /* synack_retries */
    assert_int_equal(th_ctr(&x->h)->flows, 0);
    assert_int_equal(x->a.accepted, 0);
}

/* A SYN-ACK sent to answer the peer's retransmitted SYN waits a whole RTO
 * for its ACK: after the last timed SYN-ACK, a SYN just before the embryo
 * would have given up draws a SYN-ACK whose ACK, one round trip later,
 * still completes the handshake (before: the embryo gave up in between
 * and the ACK drew an RST). */
static void test_synack_for_retransmitted_syn_waits_an_rto(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    uint64_t t0 = th_now(&x->h);
    inject(x, OASIS_TCP_SYN, 5000, 0, NULL, 0, 65535);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    uint32_t iss = r.seq;
    uint64_t when[16];
    /* Timed SYN-ACKs at 1, 3, 7, 15, 31 s; the embryo's end was due at 63 s. */
    assert_int_equal(collect(x, t0 + 62 * SEC + 990 * MS, when, NULL, 16), 5);
    inject(x, OASIS_TCP_SYN, 5000, 0, NULL, 0, 65535);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, OASIS_TCP_SYN | A);
    assert_int_equal(r.seq, iss);
    th_advance(&x->h, 100 * MS); /* past 63 s: the round trip */
    assert_int_equal(th_ctr(&x->h)->flows, 1);
    inject(x, A, 5001, iss + 1, NULL, 0, 65535);
    th_poll(&x->h);
    assert_int_equal(x->a.accepted, 1);
    assert_false(th_pop(&x->h, &r)); /* no RST */
    assert_int_equal(th_ctr(&x->h)->attempt_fails, 0);
}

static void test_rto_backoff_and_give_up(void **state)
{
    fx *x = *state;
    estab(x);
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_write(x->a.flow, "data", 4, th_write_cb, &x->a), 0);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    uint64_t t0 = th_now(&x->h);
    uint64_t when[32];
    oasis_tcp_hdr segs[32];
    size_t n = collect(x, t0 + 1000 * SEC, when, segs, 32);
    assert_int_equal(n, 15); /* data_retries */
    uint64_t prev = t0, gap = 200 * MS;
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(segs[i].seq, x->iss + 1);
        assert_int_equal(segs[i].payload_len, 4);
        uint64_t d = when[i] - prev;
        assert_true(d >= gap && d < gap + 20 * MS);
        prev = when[i];
        gap *= 2;
    }
    th_poll(&x->h);
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), OASIS_ETIMEDOUT);
    assert_int_equal(x->a.eof, 1);
    assert_int_equal(th_ctr(&x->h)->timeouts, 15);
    assert_int_equal(oasis_tcp_write(x->a.flow, "x", 1, th_write_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.write_err, OASIS_ECLOSED);
    oasis_tcp_release(x->a.flow);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

static void test_delayed_ack_timer_and_every_second_segment(void **state)
{
    fx *x = *state;
    estab(x);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    uint8_t buf[1460];
    memset(buf, 'x', sizeof buf);
    inject(x, A, x->pnxt, x->iss + 1, buf, 100, 65535);
    oasis_tcp_hdr r;
    th_advance(&x->h, 39 * MS);
    assert_false(th_pop(&x->h, &r));
    th_advance(&x->h, 1 * MS);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.ack, x->pnxt + 100);
    assert_int_equal(th_ctr(&x->h)->delayed_acks, 1);
    /* two full-sized segments: ACK at once */
    inject(x, A, x->pnxt + 100, x->iss + 1, buf, 1460, 65535);
    assert_false(th_pop(&x->h, &r));
    inject(x, A, x->pnxt + 1560, x->iss + 1, buf, 1460, 65535);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.ack, x->pnxt + 3020);
}

/* Full-sized is the sender's SMSS (RFC 5681 2), not the MSS we offered:
 * with timestamps a peer's full segments carry 12 bytes less, and a lower
 * path MTU makes them smaller still. Each second one is ACKed at once
 * (RFC 9293 3.8.6.3), also after the flow went idle and gave back its
 * extension. Before, the count ran in our MSS: every third segment. (A
 * sender whose segments shrink mid-stream is still counted in the largest
 * it sent, until the flow next goes idle.) */
static void every_second(fx *x, uint32_t *seq, uint32_t *tsv, uint32_t len)
{
    static uint8_t buf[1460];
    oasis_tcp_hdr r;
    for (int i = 0; i < 4; i++) {
        oasis_tcp_hdr d = th_seg(TH_PPORT, PORT, A, *seq, x->iss + 1);
        d.payload = buf;
        d.payload_len = len;
        d.has_ts = 1;
        d.ts_val = ++*tsv;
        th_inject(&x->h, &d);
        *seq += len;
        if (i % 2 == 0) {
            assert_false(th_pop(&x->h, &r)); /* the first of two waits */
            continue;
        }
        assert_true(th_pop(&x->h, &r));
        assert_int_equal(r.ack, *seq);
        assert_false(th_pop(&x->h, &r));
    }
}

static void test_every_second_segment_of_the_senders_size(void **state)
{
    fx *x = *state;
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, OASIS_TCP_SYN, TH_PISN, 0);
    syn.has_mss = 1;
    syn.mss = 1460;
    syn.has_ts = 1;
    syn.ts_val = 100;
    uint32_t tsv = 101;
    x->iss = th_open_passive(&x->h, &x->a, PORT, &syn);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    oasis_tcp_info i;
    assert_int_equal(oasis_tcp_get_info(x->a.flow, &i), 0);
    assert_int_equal(i.mss_recv, 1460);
    assert_true(i.timestamps);
    uint32_t seq = TH_PISN + 1;
    every_second(x, &seq, &tsv, 1448);
    th_advance(&x->h, 5 * SEC); /* idle: the extension goes */
    th_clear(&x->h);
    assert_null(x->a.flow->ext);
    every_second(x, &seq, &tsv, 1388);
}

static void test_nagle(void **state)
{
    fx *x = *state;
    estab(x);
    oasis_tcp_hdr r;
    assert_int_equal(oasis_tcp_write(x->a.flow, "a", 1, NULL, NULL), 0);
    assert_true(th_pop(&x->h, &r)); /* nothing in flight: goes */
    assert_int_equal(r.payload_len, 1);
    assert_int_equal(oasis_tcp_write(x->a.flow, "b", 1, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_write(x->a.flow, "c", 1, NULL, NULL), 0);
    assert_false(th_pop(&x->h, &r)); /* Nagle: wait for the ACK */
    inject(x, A, x->pnxt, x->iss + 2, NULL, 0, 65535);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, x->iss + 2);
    assert_int_equal(r.payload_len, 2); /* coalesced */
    /* per-flow no-delay */
    assert_int_equal(oasis_tcp_set_nodelay(x->a.flow, 1), 0);
    assert_int_equal(oasis_tcp_write(x->a.flow, "d", 1, NULL, NULL), 0);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.payload_len, 1);
}

static void test_write_nodelay_completes_on_ack(void **state)
{
    fx *x = *state;
    estab(x);
    oasis_tcp_hdr r;
    assert_int_equal(oasis_tcp_write(x->a.flow, "a", 1, NULL, NULL), 0);
    assert_true(th_pop(&x->h, &r));
    /* unacked data in flight, yet write_nodelay goes at once */
    assert_int_equal(oasis_tcp_write_nodelay(x->a.flow, "bc", 2, th_write_cb, &x->a), 0);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.payload_len, 2);
    th_poll(&x->h);
    assert_int_equal(x->a.writes_done, 0);
    inject(x, A, x->pnxt, x->iss + 2, NULL, 0, 65535); /* acks "a" only */
    th_poll(&x->h);
    assert_int_equal(x->a.writes_done, 0);
    inject(x, A, x->pnxt, x->iss + 4, NULL, 0, 65535);
    assert_int_equal(x->a.writes_done, 0); /* not from inside input */
    th_poll(&x->h);
    assert_int_equal(x->a.writes_done, 1);
    assert_int_equal(x->a.write_err, 0);
}

static void test_write_completes_when_taken(void **state)
{
    fx *x = *state;
    estab(x);
    assert_int_equal(oasis_tcp_write(x->a.flow, "abc", 3, th_write_cb, &x->a), 0);
    assert_int_equal(x->a.writes_done, 0); /* never inside the call */
    th_poll(&x->h);
    assert_int_equal(x->a.writes_done, 1); /* no ACK needed */
}

static void test_zero_window_persist(void **state)
{
    fx *x = *state;
    estab(x);
    oasis_tcp_hdr r;
    /* the peer closes its window */
    inject(x, A, x->pnxt, x->iss + 1, NULL, 0, 0);
    assert_int_equal(oasis_tcp_write(x->a.flow, "hello", 5, th_write_cb, &x->a), 0);
    assert_false(th_pop(&x->h, &r));
    uint64_t t0 = th_now(&x->h);
    uint64_t when[16];
    oasis_tcp_hdr segs[16];
    size_t n = collect(x, t0 + 7 * SEC, when, segs, 16);
    assert_true(n >= 3);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(segs[i].payload_len, 0);
        assert_int_equal(segs[i].seq, x->iss); /* snd_una - 1: must be answered */
    }
    assert_true(when[1] - when[0] > when[0] - t0); /* backoff */
    assert_int_equal(th_ctr(&x->h)->zero_window_probes, n);
    /* the answer opens the window: data flows */
    inject(x, A, x->pnxt, x->iss + 1, NULL, 0, 65535);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.payload_len, 5);
    assert_int_equal(r.seq, x->iss + 1);
}

static void test_receive_window_shrinks_and_reopens(void **state)
{
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.rcvbuf = 4096;
    fx *x = *state;
    th_fini(&x->h);
    th_init(&x->h, &c.tcp);
    estab(x);
    oasis_tcp_hdr r;
    uint8_t buf[1024];
    memset(buf, 'y', sizeof buf);
    for (int i = 0; i < 4; i++)
        inject(x, A, x->pnxt + 1024u * i, x->iss + 1, buf, 1024, 65535);
    uint32_t last_win = 65535;
    while (th_pop(&x->h, &r))
        last_win = r.window;
    th_advance(&x->h, 100 * MS);
    while (th_pop(&x->h, &r))
        last_win = r.window;
    assert_int_equal(last_win, 0);
    /* beyond the window: dropped, ACKed */
    inject(x, A, x->pnxt + 4096, x->iss + 1, buf, 10, 65535);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.ack, x->pnxt + 4096);
    /* reading opens it: a window update goes out */
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 4096);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.window, 4096);
}

static void keepalive_flow(fx *x)
{
    oasis_keepalive ka = {.after_ns = 10 * SEC, .interval_ns = 1 * SEC, .probes = 3};
    oasis_listen_opts o = {.keepalive = &ka};
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, &o, th_accept_cb, &x->a), 0);
    inject(x, OASIS_TCP_SYN, TH_PISN, 0, NULL, 0, 65535);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    x->iss = r.seq;
    x->pnxt = TH_PISN + 1;
    inject(x, A, x->pnxt, x->iss + 1, NULL, 0, 65535);
    th_poll(&x->h);
    assert_non_null(x->a.flow);
}

static void test_keepalive_declares_dead(void **state)
{
    fx *x = *state;
    keepalive_flow(x);
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    uint64_t t0 = th_now(&x->h);
    uint64_t when[8];
    oasis_tcp_hdr segs[8];
    size_t n = collect(x, t0 + 12 * SEC + 900 * MS, when, segs, 8);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_true(when[i] >= t0 + (10 + i) * SEC && when[i] < t0 + (10 + i) * SEC + 10 * MS);
        assert_int_equal(segs[i].seq, x->iss); /* snd_una - 1 */
    }
    assert_int_equal(x->a.eof, 0);
    th_advance(&x->h, 200 * MS); /* after + 3 * interval = 13 s */
    assert_int_equal(x->a.eof, 1);
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), OASIS_ETIMEDOUT);
    assert_int_equal(th_ctr(&x->h)->keepalive_drops, 1);
    assert_int_equal(oasis_tcp_write(x->a.flow, "x", 1, th_write_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.write_err, OASIS_ECLOSED);
    assert_int_equal(oasis_tcp_close(x->a.flow, th_close_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(x->a.close_err, OASIS_ETIMEDOUT);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

static void test_keepalive_answered_stays_alive(void **state)
{
    fx *x = *state;
    keepalive_flow(x);
    for (int i = 0; i < 5; i++) {
        th_advance(&x->h, 10 * SEC);
        oasis_tcp_hdr r;
        assert_true(th_pop(&x->h, &r));
        inject(x, A, x->pnxt, x->iss + 1, NULL, 0, 65535); /* the peer answers */
    }
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), 0);
    assert_int_equal(th_ctr(&x->h)->keepalive_probes, 5);
}

/* A shorter keepalive set while the flow timer runs for the longer one:
 * the first probe goes after the new after_ns (a deadline moved earlier
 * moves the timer; tcp_timer.c). */
static void test_keepalive_shortened_fires_on_time(void **state)
{
    fx *x = *state;
    keepalive_flow(x);
    th_advance(&x->h, 1 * SEC); /* all else done: the timer runs for the 10 s probe */
    assert_true(oasis_timer_active(&x->a.flow->ext->timer));
    assert_int_equal(x->a.flow->ext->timer.deadline, x->a.flow->ext->tm.keep);
    uint64_t t0 = th_now(&x->h);
    oasis_keepalive ka = {.after_ns = 2 * SEC, .interval_ns = 1 * SEC, .probes = 3};
    assert_int_equal(oasis_tcp_set_keepalive(x->a.flow, &ka), 0);
    th_run_until(&x->h, t0 + 2 * SEC - 1);
    assert_int_equal(th_pending(&x->h), 0);
    th_run_until(&x->h, t0 + 2 * SEC);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, x->iss); /* the probe: snd_una - 1 */
    assert_int_equal(th_ctr(&x->h)->keepalive_probes, 1);
}

static void test_fin_wait_2_timeout(void **state)
{
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.fin_wait2_ns = 30 * SEC;
    fx *x = *state;
    th_fini(&x->h);
    th_init(&x->h, &c.tcp);
    estab(x);
    assert_int_equal(oasis_tcp_close(x->a.flow, th_close_cb, &x->a), 0);
    inject(x, A, x->pnxt, x->iss + 2, NULL, 0, 65535);
    th_advance(&x->h, 29 * SEC);
    assert_int_equal(x->a.closed, 0);
    th_advance(&x->h, 1 * SEC + MS);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(x->a.close_err, OASIS_ETIMEDOUT);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

static void test_time_wait_lasts_2msl(void **state)
{
    fx *x = *state;
    estab(x);
    assert_int_equal(oasis_tcp_close(x->a.flow, th_close_cb, &x->a), 0);
    inject(x, A | OASIS_TCP_FIN, x->pnxt, x->iss + 2, NULL, 0, 65535);
    th_poll(&x->h);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(th_ctr(&x->h)->time_wait, 1);
    th_advance(&x->h, 60 * SEC - MS);
    assert_int_equal(th_ctr(&x->h)->time_wait, 1);
    th_advance(&x->h, 2 * MS);
    assert_int_equal(th_ctr(&x->h)->time_wait, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_connect_timeout_backoff),
        T(test_synack_retries_then_gone),
        T(test_synack_for_retransmitted_syn_waits_an_rto),
        T(test_rto_backoff_and_give_up),
        T(test_delayed_ack_timer_and_every_second_segment),
        T(test_every_second_segment_of_the_senders_size),
        T(test_nagle),
        T(test_write_nodelay_completes_on_ack),
        T(test_write_completes_when_taken),
        T(test_zero_window_persist),
        T(test_receive_window_shrinks_and_reopens),
        T(test_keepalive_declares_dead),
        T(test_keepalive_answered_stays_alive),
        T(test_keepalive_shortened_fires_on_time),
        T(test_fin_wait_2_timeout),
        T(test_time_wait_lasts_2msl),
    };
    if (getenv("TCP_TEST"))
        cmocka_set_test_filter(getenv("TCP_TEST"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
