/* The flow's deadlines on a virtual clock, each against its RFC: Karn's
 * rule for the backed-off RTO (RFC 6298 5), the 3 s RTO after a lost SYN
 * (5.7), when the tail loss probe is armed and what follows its expiry
 * (RFC 8985 7.2, 7.3), zero-window probes that give up (RFC 1122
 * 4.2.2.17), keepalive idle time (4.2.3.6), the FIN_WAIT_2 bound and the
 * idle restart (RFC 5681 4.1). The test plays the peer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcp/tcp_flow.h"
#include "tcp/tcp_seq.h"
#include "tcp_harness.h"

#define PORT 80
#define A OASIS_TCP_ACK
#define S OASIS_TCP_SYN
#define MSS 1000u
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

static void reinit(fx *x, const oasis_tcp_config *c)
{
    th_fini(&x->h);
    th_init(&x->h, c);
}

/* Passive open with MSS 1000, SACK as asked, the handshake taking rtt (its
 * RTT sample). */
static void estab(fx *x, int sack, uint64_t rtt)
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
    th_advance(&x->h, rtt);
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, x->pnxt, x->iss + 1);
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    assert_non_null(x->a.flow);
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

static uint32_t sg(const fx *x, uint32_t i) { return x->iss + 1 + i * MSS; }

static uint64_t timeouts(const fx *x) { return th_ctr(&x->h)->timeouts; }

/* Pops every queued segment; returns how many carried data. */
static size_t drain_data(fx *x)
{
    size_t n = 0;
    oasis_tcp_hdr r;
    while (th_pop(&x->h, &r))
        n += r.payload_len > 0;
    return n;
}

/* ---- item 13: Karn ----------------------------------------------------------- */

/* A peer 300 ms away that acks every in-order segment (no timestamps). */
typedef struct slow_peer {
    uint64_t due[4096];
    uint32_t ack[4096];
    size_t head, n;
    uint32_t rcv;     /* the peer's RCV.NXT in our sequence space */
} slow_peer;

static void slow_peer_run(fx *x, slow_peer *p, uint64_t until, uint64_t rtt)
{
    while (th_now(&x->h) < until) {
        uint64_t next = th_now(&x->h) + 5 * MS;
        if (p->n && p->due[p->head] < next)
            next = p->due[p->head];
        if (next > until)
            next = until;
        th_run_until(&x->h, next);
        while (p->n && p->due[p->head] <= th_now(&x->h)) {
            inject(x, A, x->pnxt, p->ack[p->head], NULL, 0, 65535);
            p->head = (p->head + 1) % 4096;
            p->n--;
        }
        oasis_tcp_hdr r;
        while (th_pop(&x->h, &r)) {
            uint32_t end = r.seq + (uint32_t)r.payload_len;
            if (!r.payload_len || oasis_seq_gt(r.seq, p->rcv) || !oasis_seq_gt(end, p->rcv))
                continue; /* out of order or old: no new ACK */
            p->rcv = end;
            assert_true(p->n < 4096);
            size_t i = (p->head + p->n++) % 4096;
            p->due[i] = th_now(&x->h) + rtt;
            p->ack[i] = end;
        }
    }
}

/* RFC 6298 5: after a timeout only a valid RTT sample may collapse the
 * backed-off RTO; an ACK of a retransmitted segment is none. A 1 ms
 * handshake, then the path's RTT becomes 300 ms: a timeout or two, then
 * the RTO, backed off past 300 ms, stays there until a segment sent once
 * is timed, and srtt learns the new RTT. */
static void test_karn_only_a_sample_collapses_backoff(void **state)
{
    fx *x = *state;
    estab(x, 0, 1 * MS);
    oasis_flow *f = x->a.flow;
    static slow_peer p;
    memset(&p, 0, sizeof p);
    p.rcv = x->iss + 1;
    static uint8_t buf[2000];
    uint64_t t0 = th_now(&x->h);
    for (int i = 0; i < 120; i++) { /* 2000 bytes every 500 ms for 60 s */
        assert_int_equal(oasis_tcp_write(f, buf, sizeof buf, NULL, NULL), 0);
        slow_peer_run(x, &p, t0 + (uint64_t)(i + 1) * 500 * MS, 300 * MS);
    }
    oasis_tcp_info info;
    assert_int_equal(oasis_tcp_get_info(f, &info), 0);
    assert_true(timeouts(x) <= 2);
    assert_true(info.srtt_ns >= 250 * MS && info.srtt_ns <= 350 * MS);
    assert_int_equal(oasis_tcp_flow_error(f), 0);
}

/* ---- item 21: handshake RTO details ------------------------------------------ */

/* RFC 6298 5.7: the SYN timed out, so data starts with a 3 s RTO. */
static void test_rto_3s_after_lost_syn(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_connect4(x->h.s, TH_PEER, PORT, NULL, th_connect_cb, &x->a), 0);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r)); /* lost */
    th_advance(&x->h, 1 * SEC);
    assert_true(th_pop(&x->h, &r)); /* the retransmitted SYN, answered */
    assert_int_equal(r.flags, S);
    x->iss = r.seq;
    x->pnxt = TH_PISN + 1;
    oasis_tcp_hdr sa = th_seg(PORT, r.src_port, S | A, TH_PISN, r.seq + 1);
    sa.has_mss = 1;
    sa.mss = MSS;
    th_inject(&x->h, &sa);
    th_poll(&x->h);
    assert_int_equal(x->a.connected, 1);
    oasis_flow *f = x->a.flow;
    oasis_tcp_info info;
    assert_int_equal(oasis_tcp_get_info(f, &info), 0);
    assert_int_equal(info.rto_ns, 3 * SEC);
    th_clear(&x->h);
    assert_int_equal(oasis_tcp_write(f, "data", 4, NULL, NULL), 0);
    assert_true(th_pop(&x->h, &r)); /* lost too */
    th_advance(&x->h, 3 * SEC - 10 * MS);
    assert_false(th_pop(&x->h, &r));
    th_advance(&x->h, 20 * MS);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.payload_len, 4);
    assert_int_equal(timeouts(x), 2); /* the SYN's and this one */
}

/* A SYN-ACK resent for a duplicate SYN: the ACK may answer either copy,
 * so the handshake gives no RTT sample (Karn). */
static void test_dup_syn_synack_gives_no_sample(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    th_inject(&x->h, &syn);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    uint32_t iss = r.seq;
    th_advance(&x->h, 900 * MS);
    th_inject(&x->h, &syn); /* the peer's SYN again: our SYN-ACK seemed lost */
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, S | A);
    th_advance(&x->h, 50 * MS);
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, TH_PISN + 1, iss + 1);
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    assert_non_null(x->a.flow);
    oasis_tcp_info info;
    assert_int_equal(oasis_tcp_get_info(x->a.flow, &info), 0);
    assert_int_equal(info.srtt_ns, 0);
    assert_int_equal(info.rto_ns, 1 * SEC);
}

/* ---- item 38: only new data moves the PTO and the RTO ------------------------ */

/* Two segments lost at once; the peer keeps sending 100 bytes every 150 ms
 * and acks nothing new. Neither its data nor our ACKs of it may push the
 * probe back: it leaves at 2*SRTT + 1 ms after the send. */
static void test_peer_data_does_not_push_probe(void **state)
{
    fx *x = *state;
    estab(x, 1, 100 * MS);
    oasis_flow *f = x->a.flow;
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(f, th_read_cb, &x->a), 0);
    static uint8_t buf[2 * MSS];
    assert_int_equal(oasis_tcp_write(f, buf, sizeof buf, NULL, NULL), 0);
    assert_int_equal(drain_data(x), 2); /* both lost */
    uint64_t t0 = th_now(&x->h);
    uint64_t pto = 2 * f->ext->rtt.srtt_ns + MS;
    uint8_t hundred[100] = {0};
    uint64_t probe_at = 0;
    for (int i = 1; i <= 20 && !probe_at; i++) {
        uint64_t until = t0 + (uint64_t)i * 150 * MS;
        while (th_now(&x->h) < until && !probe_at) {
            th_advance(&x->h, MS);
            oasis_tcp_hdr r;
            while (th_pop(&x->h, &r))
                if (r.payload_len && !probe_at)
                    probe_at = th_now(&x->h);
        }
        inject(x, A, x->pnxt, x->iss + 1, hundred, sizeof hundred, 65535);
        x->pnxt += sizeof hundred;
    }
    assert_true(probe_at != 0);
    assert_true(probe_at - t0 <= pto + MS);
    assert_int_equal(f->ext->sb.rack.probes, 1);
    assert_int_equal(timeouts(x), 0);
}

/* ---- item 16: no probe in RTO recovery, and the RTO stays the RTO ------------ */

/* Ten segments out, none acked: the RTO resends the first. Its ACK is new
 * (retries back to 0) but RTO recovery is under way (the rest is marked
 * lost, RFC 8985 6.3, and goes as the window opens), which is no place
 * for a probe (RFC 8985 7.2). The next timeout is the RTO, restarted by
 * that ACK (RFC 6298 5.3), backed off. */
static void test_no_probe_during_rto_recovery(void **state)
{
    fx *x = *state;
    estab(x, 1, 40 * MS);
    oasis_flow *f = x->a.flow;
    static uint8_t buf[10 * MSS];
    assert_int_equal(oasis_tcp_write(f, buf, sizeof buf, NULL, NULL), 0);
    assert_int_equal(drain_data(x), 10);
    uint64_t rto = oasis_rtt_rto(&f->ext->rtt);
    /* a tail loss probe first, then the RTO */
    for (int i = 0; i < 1000 && timeouts(x) == 0; i++)
        th_advance(&x->h, MS);
    assert_int_equal(timeouts(x), 1);
    assert_int_equal(f->ext->sb.rack.probes, 1);
    th_clear(&x->h);
    th_advance(&x->h, 40 * MS);
    inject(x, A, x->pnxt, sg(x, 1), NULL, 0, 65535);
    uint64_t t_ack = th_now(&x->h);
    drain_data(x);
    assert_int_equal(f->ext->rec.state, OASIS_REC_RTO);
    assert_true(oasis_rack_lost_bytes(&f->ext->sb.rack, f->snd_una, f->snd_max, 1, NULL) > 0);
    uint64_t next = 2 * rto; /* backed off once; no valid sample since */
    th_advance(&x->h, next - 5 * MS);
    assert_int_equal(timeouts(x), 1);
    assert_int_equal(f->ext->sb.rack.probes, 1);
    th_advance(&x->h, 10 * MS);
    assert_int_equal(timeouts(x), 2);
    assert_true(th_now(&x->h) - t_ack >= next);
}

/* ---- item 23: zero-window probes give up ------------------------------------- */

static void zero_window(fx *x)
{
    estab(x, 0, 1 * MS);
    inject(x, A, x->pnxt, x->iss + 1, NULL, 0, 0);
    assert_int_equal(oasis_tcp_write(x->a.flow, "hello", 5, th_write_cb, &x->a), 0);
    oasis_tcp_hdr r;
    assert_false(th_pop(&x->h, &r));
}

/* RFC 1122 4.2.2.17: the flow stays open while the peer answers the
 * probes; data_retries probes in a row unanswered and it is gone. */
static void test_persist_gives_up_on_silent_peer(void **state)
{
    fx *x = *state;
    zero_window(x);
    th_advance(&x->h, 2000 * SEC);
    th_poll(&x->h);
    assert_int_equal(th_ctr(&x->h)->zero_window_probes, 15); /* data_retries */
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), OASIS_ETIMEDOUT);
}

static void test_persist_lives_while_peer_answers(void **state)
{
    fx *x = *state;
    zero_window(x);
    for (int i = 0; i < 40; i++) {
        uint64_t until = th_now(&x->h) + 61 * SEC;
        oasis_tcp_hdr r;
        int got = 0;
        while (!got && th_now(&x->h) < until) {
            th_advance(&x->h, 100 * MS);
            got = th_pop(&x->h, &r);
        }
        assert_true(got);
        inject(x, A, x->pnxt, x->iss + 1, NULL, 0, 0); /* still zero */
    }
    assert_int_equal(th_ctr(&x->h)->zero_window_probes, 40);
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), 0);
    inject(x, A, x->pnxt, x->iss + 1, NULL, 0, 65535);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.payload_len, 5);
}

/* The window closes with data outstanding (the peer took one segment of
 * three and dropped the rest): the RTO cannot resend, so it probes the
 * window. A peer that answers keeps the flow for as long as it likes; the
 * open window brings the data back at once, from snd_una. */
static void zero_window_outstanding(fx *x)
{
    estab(x, 0, 1 * MS);
    static uint8_t buf[3 * MSS];
    assert_int_equal(oasis_tcp_write(x->a.flow, buf, sizeof buf, NULL, NULL), 0);
    assert_int_equal(drain_data(x), 3);
    inject(x, A, x->pnxt, sg(x, 1), NULL, 0, 0);
}

static void test_zero_window_outstanding_lives_while_answered(void **state)
{
    fx *x = *state;
    zero_window_outstanding(x);
    for (int i = 0; i < 25; i++) {
        uint64_t until = th_now(&x->h) + 61 * SEC;
        oasis_tcp_hdr r;
        int got = 0;
        while (!got && th_now(&x->h) < until) {
            th_advance(&x->h, 100 * MS);
            got = th_pop(&x->h, &r);
        }
        assert_true(got);
        assert_int_equal(r.payload_len, 0);
        assert_int_equal(r.seq, sg(x, 1) - 1);
        inject(x, A, x->pnxt, sg(x, 1), NULL, 0, 0); /* still zero */
    }
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), 0);
    assert_int_equal(oasis_recovery_fast(x->a.flow), 0);
    inject(x, A, x->pnxt, sg(x, 1), NULL, 0, 65535);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, sg(x, 1));
    assert_int_equal(r.payload_len, MSS);
}

static void test_zero_window_outstanding_gives_up_on_silence(void **state)
{
    fx *x = *state;
    zero_window_outstanding(x);
    th_advance(&x->h, 2000 * SEC);
    th_poll(&x->h);
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), OASIS_ETIMEDOUT);
    assert_int_equal(th_ctr(&x->h)->zero_window_probes, 15); /* data_retries */
}

/* ---- item 25: keepalive idle time from the last segment ---------------------- */

/* SYNs lost for 4.5 s: the SYN-ACK arrives 7 s after connect. With
 * keepalive after 10 s, the first probe leaves 10 s after that segment
 * (RFC 1122 4.2.3.6), not 10 s after the first SYN. */
static void test_keepalive_idle_from_last_segment(void **state)
{
    fx *x = *state;
    oasis_keepalive ka = {.after_ns = 10 * SEC, .interval_ns = 1 * SEC, .probes = 3};
    uint64_t t0 = th_now(&x->h);
    assert_int_equal(oasis_tcp_connect4(x->h.s, TH_PEER, PORT, &ka, th_connect_cb, &x->a), 0);
    oasis_tcp_hdr r, last;
    memset(&last, 0, sizeof last);
    th_run_until(&x->h, t0 + 7 * SEC);
    int syns = 0;
    while (th_pop(&x->h, &r)) {
        assert_int_equal(r.flags, S);
        last = r;
        syns++;
    }
    assert_int_equal(syns, 4); /* 0, 1, 3, 7 s: the last gets through */
    oasis_tcp_hdr sa = th_seg(PORT, last.src_port, S | A, TH_PISN, last.seq + 1);
    th_inject(&x->h, &sa);
    th_poll(&x->h);
    assert_int_equal(x->a.connected, 1);
    assert_true(th_pop(&x->h, &r)); /* the handshake's ACK */
    uint64_t t_est = th_now(&x->h);
    while (th_now(&x->h) < t_est + 10 * SEC - 10 * MS) {
        th_advance(&x->h, 10 * MS);
        assert_false(th_pop(&x->h, &r));
    }
    th_advance(&x->h, 20 * MS);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, x->a.flow->snd_una - 1);
    assert_int_equal(r.payload_len, 0);
    assert_int_equal(th_ctr(&x->h)->keepalive_probes, 1);
}

/* ---- item 43: FIN_WAIT_2 bounded by default ---------------------------------- */

static void fin_wait_2(fx *x)
{
    estab(x, 0, 1 * MS);
    assert_int_equal(oasis_tcp_close(x->a.flow, th_close_cb, &x->a), 0);
    inject(x, A, x->pnxt, x->iss + 2, NULL, 0, 65535);
    assert_int_equal(x->a.flow->state, OASIS_TCP_FIN_WAIT_2);
}

/* A peer that acked our FIN and died: by default the close ends with
 * Timeout after fin_wait2_ns of silence, longer than the largest RTO so a
 * live peer in backoff is heard first; each segment restarts it. */
static void test_fin_wait_2_bounded_by_default(void **state)
{
    fx *x = *state;
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    assert_true(c.tcp.fin_wait2_ns > c.tcp.rto_max_ns);
    uint64_t bound = c.tcp.fin_wait2_ns;
    fin_wait_2(x);
    th_advance(&x->h, bound - SEC);
    uint8_t d[10] = {0};
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    inject(x, A, x->pnxt, x->iss + 2, d, sizeof d, 65535); /* half-close: the peer talks */
    th_advance(&x->h, bound - SEC);
    assert_int_equal(x->a.closed, 0);
    th_advance(&x->h, 2 * SEC);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(x->a.close_err, OASIS_ETIMEDOUT);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

static void test_fin_wait_2_zero_waits_forever(void **state)
{
    fx *x = *state;
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.fin_wait2_ns = 0;
    reinit(x, &c.tcp);
    fin_wait_2(x);
    th_advance(&x->h, 3600 * SEC);
    assert_int_equal(x->a.closed, 0);
    assert_int_equal(x->a.flow->state, OASIS_TCP_FIN_WAIT_2);
    inject(x, A | OASIS_TCP_FIN, x->pnxt, x->iss + 2, NULL, 0, 65535);
    th_poll(&x->h);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(x->a.close_err, 0);
}

/* ---- item 20: idle restart measured from the last send ----------------------- */

/* cwnd grown well past the initial window; then we only receive for 2 s
 * (the peer talks, we ack): RFC 5681 4.1 counts idle from our last data,
 * so the next burst starts again from the initial window. */
static void test_idle_restart_counts_from_last_send(void **state)
{
    fx *x = *state;
    estab(x, 0, 10 * MS);
    oasis_flow *f = x->a.flow;
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_ext_get(f), 0); /* pinned: the test reads its internals */
    assert_int_equal(oasis_tcp_read(f, th_read_cb, &x->a), 0);
    static uint8_t buf[200 * MSS];
    assert_int_equal(oasis_tcp_write(f, buf, sizeof buf, NULL, NULL), 0);
    oasis_tcp_hdr r;
    for (int round = 0; round < 20 && f->snd_una != f->snd_max; round++) {
        uint32_t hi = f->snd_una;
        while (th_pop(&x->h, &r))
            if (oasis_seq_gt(r.seq + (uint32_t)r.payload_len, hi))
                hi = r.seq + (uint32_t)r.payload_len;
        th_advance(&x->h, 10 * MS);
        inject(x, A, x->pnxt, hi, NULL, 0, 65535);
    }
    assert_true(f->snd_una == f->snd_max);
    assert_true(f->ext->cc.cwnd > 20 * MSS);
    uint8_t d[100] = {0};
    for (int i = 0; i < 20; i++) { /* 2 s of the peer talking */
        th_advance(&x->h, 100 * MS);
        inject(x, A, x->pnxt, f->snd_max, d, sizeof d, 65535);
        x->pnxt += sizeof d;
    }
    th_clear(&x->h);
    assert_int_equal(oasis_tcp_write(f, buf, 50 * MSS, NULL, NULL), 0);
    assert_int_equal(drain_data(x), 10); /* the initial window */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_karn_only_a_sample_collapses_backoff),
        T(test_rto_3s_after_lost_syn),
        T(test_dup_syn_synack_gives_no_sample),
        T(test_peer_data_does_not_push_probe),
        T(test_no_probe_during_rto_recovery),
        T(test_persist_gives_up_on_silent_peer),
        T(test_persist_lives_while_peer_answers),
        T(test_zero_window_outstanding_lives_while_answered),
        T(test_zero_window_outstanding_gives_up_on_silence),
        T(test_keepalive_idle_from_last_segment),
        T(test_fin_wait_2_bounded_by_default),
        T(test_fin_wait_2_zero_waits_forever),
        T(test_idle_restart_counts_from_last_send),
    };
    if (getenv("TCP_TEST"))
        cmocka_set_test_filter(getenv("TCP_TEST"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
