/* Accept control (issue 12): a paused listener leaves established flows
 * waiting in its backlog, SYN cookies take over when the backlog is full,
 * and taking (resume or oasis_tcp_accept) hands them over in arrival order.
 * One-stack harness: the test plays many peers (one port each). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/stack_impl.h"
#include "tcp/tcp_flow.h"
#include "countalloc.h"
#include "tcp_harness.h"

#define PORT 80
#define A OASIS_TCP_ACK
#define S OASIS_TCP_SYN
#define R OASIS_TCP_RST
#define P0 20000 /* the first peer's port; peer i uses P0 + i */

/* An application that records the order in which flows reach it. */
typedef struct app {
    oasis_flow *flows[64];
    uint16_t ports[64];
    int n;
    int pause_after; /* > 0: pause the listener once this many arrived */
} app;

static void accept_cb(oasis_stack *s, oasis_flow *f, void *ud)
{
    app *a = ud;
    assert_true(a->n < 64);
    a->flows[a->n] = f;
    oasis_tcp_dst4(f, NULL, &a->ports[a->n]);
    a->n++;
    if (a->pause_after && a->n == a->pause_after)
        assert_int_equal(oasis_tcp_accept_pause(s, PORT), 0);
}

typedef struct fx {
    tcp_harness h;
    test_counting mem;
    app a;
} fx;

static fx *fx_new_opts(const oasis_listen_opts *o)
{
    fx *x = calloc(1, sizeof *x);
    assert_non_null(x);
    th_init_alloc(&x->h, NULL, test_count_alloc, &x->mem);
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, o, accept_cb, &x->a), 0);
    return x;
}

static fx *fx_new(uint32_t backlog, int paused)
{
    oasis_listen_opts o = {.backlog = backlog, .paused = paused};
    return fx_new_opts(&o);
}

static void fx_free(fx *x)
{
    for (int i = 0; i < x->a.n; i++)
        oasis_tcp_release(x->a.flows[i]);
    th_fini(&x->h);
    assert_int_equal(x->mem.live, 0);
    free(x);
}

static uint32_t peer_isn(int i) { return 1000u + (uint32_t)i * 100000u; }

/* Peer i sends its SYN; returns the SYN-ACK's sequence number (our ISS or a
 * cookie). */
static uint32_t syn(fx *x, int i)
{
    th_clear(&x->h);
    oasis_tcp_hdr s = th_seg((uint16_t)(P0 + i), PORT, S, peer_isn(i), 0);
    s.has_mss = 1;
    s.mss = 1460;
    th_inject(&x->h, &s);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, S | A);
    assert_int_equal(r.ack, peer_isn(i) + 1);
    return r.seq;
}

/* Peer i completes the handshake with an ACK carrying `data` (may be NULL). */
static void ack(fx *x, int i, uint32_t iss, const char *data)
{
    oasis_tcp_hdr a = th_seg((uint16_t)(P0 + i), PORT, A, peer_isn(i) + 1, iss + 1);
    if (data) {
        a.flags |= OASIS_TCP_PSH;
        a.payload = (const uint8_t *)data;
        a.payload_len = strlen(data);
    }
    th_inject(&x->h, &a);
}

static void connect_peer(fx *x, int i, const char *data) { ack(x, i, syn(x, i), data); }

/* Paused: handshakes complete, nothing reaches the callback; resume hands the
 * flows over in the order their handshakes completed (not their SYNs'). */
static void test_paused_flows_wait_then_resume_in_order(void **state)
{
    (void)state;
    fx *x = fx_new(8, 1);
    uint32_t iss[5];
    for (int i = 0; i < 5; i++)
        iss[i] = syn(x, i);
    static const int order[5] = {3, 0, 4, 1, 2};
    for (int k = 0; k < 5; k++) {
        ack(x, order[k], iss[order[k]], NULL);
        th_poll(&x->h);
    }
    th_poll(&x->h);
    assert_int_equal(x->a.n, 0);
    assert_int_equal(oasis_tcp_accept_waiting(x->h.s, PORT), 5);
    assert_int_equal(th_ctr(&x->h)->curr_estab, 5);
    assert_int_equal(th_ctr(&x->h)->in_rsts + th_ctr(&x->h)->out_rsts, 0);
    th_advance(&x->h, 5 * OASIS_NS_PER_SEC); /* waiting is not a timeout */
    assert_int_equal(oasis_tcp_accept_waiting(x->h.s, PORT), 5);
    assert_int_equal(x->a.n, 0);

    assert_int_equal(oasis_tcp_accept_resume(x->h.s, PORT), 0);
    assert_int_equal(x->a.n, 0); /* callbacks never run inside the call */
    th_poll(&x->h);
    assert_int_equal(x->a.n, 5);
    for (int k = 0; k < 5; k++)
        assert_int_equal(x->a.ports[k], P0 + order[k]);
    assert_int_equal(oasis_tcp_accept_waiting(x->h.s, PORT), 0);
    /* Resumed: a new flow goes straight to the callback. */
    connect_peer(x, 9, NULL);
    th_poll(&x->h);
    assert_int_equal(x->a.n, 6);
    assert_int_equal(x->a.ports[5], P0 + 9);
    fx_free(x);
}

/* Data sent by a waiting peer is acknowledged, kept, and read after taking. */
static void test_waiting_flow_keeps_data(void **state)
{
    (void)state;
    fx *x = fx_new(4, 1);
    uint32_t iss = syn(x, 0);
    ack(x, 0, iss, "GET / HTTP/1.0\r\n\r\n");
    th_poll(&x->h);
    th_advance(&x->h, OASIS_NS_PER_SEC);
    oasis_tcp_hdr r;
    int acked = 0;
    while (th_pop(&x->h, &r))
        if ((r.flags & A) && r.ack == peer_isn(0) + 1 + 18)
            acked = 1;
    assert_true(acked);
    assert_int_equal(x->a.n, 0);
    oasis_flow *f = oasis_tcp_accept(x->h.s, PORT);
    assert_non_null(f);
    assert_null(oasis_tcp_accept(x->h.s, PORT));
    th_app rd;
    th_app_init(&rd);
    assert_int_equal(oasis_tcp_read(f, th_read_cb, &rd), 0);
    th_poll(&x->h);
    assert_int_equal(rd.rx_len, 18);
    assert_memory_equal(rd.rx, "GET / HTTP/1.0\r\n\r\n", 18);
    assert_int_equal(x->a.n, 0); /* taken by oasis_tcp_accept: no callback */
    th_app_fini(&rd);
    oasis_tcp_release(f);
    fx_free(x);
}

/* The backlog full of waiting flows: SYNs get cookies, cookie ACKs open flows
 * that wait behind the others (up to twice the backlog), and a cookie ACK
 * beyond that is dropped without an answer, to succeed on a retransmission
 * once room was made. Taking hands everything over in arrival order. */
static void test_cookies_take_over_when_full(void **state)
{
    (void)state;
    enum { BL = 3 };
    fx *x = fx_new(BL, 1);
    for (int i = 0; i < BL; i++)
        connect_peer(x, i, NULL);
    th_poll(&x->h);
    assert_int_equal(oasis_tcp_accept_waiting(x->h.s, PORT), BL);
    const oasis_tcp_counters *k = th_ctr(&x->h);
    assert_int_equal(k->syn_cookies_sent, 0);

    /* BL more: cookies, and their flows wait too. */
    for (int i = BL; i < 2 * BL; i++) {
        uint64_t flows0 = k->flows;
        uint32_t cookie = syn(x, i);
        assert_int_equal(k->flows, flows0); /* no state for the SYN */
        ack(x, i, cookie, "x");
        th_poll(&x->h);
    }
    assert_int_equal(k->syn_cookies_sent, BL);
    assert_int_equal(k->syn_cookies_ok, BL);
    assert_int_equal(oasis_tcp_accept_waiting(x->h.s, PORT), 2 * BL);

    /* One more: no room for its flow, so its SYN gets no cookie (its peer
     * would think itself connected): dropped unanswered, and counted. */
    int late = 2 * BL;
    uint64_t over0 = k->listen_overflows;
    th_clear(&x->h);
    oasis_tcp_hdr ls = th_seg((uint16_t)(P0 + late), PORT, S, peer_isn(late), 0);
    th_inject(&x->h, &ls);
    th_poll(&x->h);
    assert_int_equal(th_pending(&x->h), 0); /* no SYN-ACK, no RST: the peer will retry */
    assert_int_equal(k->listen_overflows, over0 + 1);
    assert_int_equal(k->syn_cookies_sent, BL);
    assert_int_equal(oasis_tcp_accept_waiting(x->h.s, PORT), 2 * BL);

    /* Taking the oldest makes room; the retransmitted SYN gets a cookie
     * and its ACK gets in last. */
    oasis_flow *f = oasis_tcp_accept(x->h.s, PORT);
    assert_non_null(f);
    uint16_t p;
    oasis_tcp_dst4(f, NULL, &p);
    assert_int_equal(p, P0);
    oasis_tcp_release(f);
    uint32_t cookie = syn(x, late);
    ack(x, late, cookie, "late");
    th_poll(&x->h);
    assert_int_equal(k->syn_cookies_ok, BL + 1);
    assert_int_equal(oasis_tcp_accept_waiting(x->h.s, PORT), 2 * BL);
    assert_int_equal(oasis_tcp_accept_resume(x->h.s, PORT), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.n, 2 * BL);
    for (int k2 = 0; k2 < 2 * BL; k2++)
        assert_int_equal(x->a.ports[k2], P0 + 1 + k2);
    fx_free(x);
}

/* Peer i, connected with our ISS iss, sends a FIN and nothing else. */
static void fin(fx *x, int i, uint32_t iss)
{
    oasis_tcp_hdr f = th_seg((uint16_t)(P0 + i), PORT, A | OASIS_TCP_FIN, peer_isn(i) + 1, iss + 1);
    th_inject(&x->h, &f);
}

/* Deferred hand-over (defer_ns): a flow whose peer has said nothing waits;
 * one that sends data, or a FIN, goes first; a silent one goes once its
 * deferral is over. Flows left waiting (timer armed) go with the stack. */
static void test_defer_hands_over_when_peer_speaks(void **state)
{
    (void)state;
    oasis_listen_opts o = {.backlog = 8, .defer_ns = 10 * OASIS_NS_PER_SEC};
    fx *x = fx_new_opts(&o);
    uint32_t iss[4];
    for (int i = 0; i < 3; i++) {
        iss[i] = syn(x, i);
        ack(x, i, iss[i], NULL);
        th_poll(&x->h);
    }
    assert_int_equal(th_ctr(&x->h)->curr_estab, 3);
    assert_int_equal(x->a.n, 0);
    assert_int_equal(oasis_tcp_accept_waiting(x->h.s, PORT), 0);
    assert_null(oasis_tcp_accept(x->h.s, PORT));

    ack(x, 1, iss[1], "GET / HTTP/1.0\r\n\r\n"); /* the youngest but one speaks */
    th_poll(&x->h);
    assert_int_equal(x->a.n, 1);
    assert_int_equal(x->a.ports[0], P0 + 1);
    fin(x, 0, iss[0]); /* a FIN is a word too (the reader gets EOF) */
    th_poll(&x->h);
    assert_int_equal(x->a.n, 2);
    assert_int_equal(x->a.ports[1], P0);

    th_advance(&x->h, 9 * OASIS_NS_PER_SEC); /* peer 2 still silent */
    assert_int_equal(x->a.n, 2);
    iss[3] = syn(x, 3); /* joins the queue 9 s after peer 2 */
    ack(x, 3, iss[3], NULL);
    th_poll(&x->h);
    th_advance(&x->h, OASIS_NS_PER_SEC + 1); /* peer 2's 10 s are over, not 3's */
    assert_int_equal(x->a.n, 3);
    assert_int_equal(x->a.ports[2], P0 + 2);
    assert_int_equal(oasis_tcp_accept_waiting(x->h.s, PORT), 0);
    assert_int_equal(th_ctr(&x->h)->in_rsts + th_ctr(&x->h)->out_rsts, 0);
    fx_free(x); /* peer 3 still waits, its deferral timer armed */
}

/* A deferring listener keeps no state for the pure ACK of a SYN cookie;
 * the same peer's first data carries the cookie and opens the flow, which
 * is then ready at once, ahead of silent flows that came before it. */
static void test_defer_cookie_ack_opens_on_data(void **state)
{
    (void)state;
    oasis_listen_opts o = {.backlog = 2, .defer_ns = 60 * OASIS_NS_PER_SEC};
    fx *x = fx_new_opts(&o);
    const oasis_tcp_counters *k = th_ctr(&x->h);
    connect_peer(x, 0, NULL);
    connect_peer(x, 1, NULL);
    th_poll(&x->h);
    uint32_t cookie = syn(x, 2); /* the backlog is full of silent flows */
    assert_int_equal(k->syn_cookies_sent, 1);
    uint64_t flows0 = k->flows;
    th_clear(&x->h);
    ack(x, 2, cookie, NULL);
    th_poll(&x->h);
    assert_int_equal(k->flows, flows0);
    assert_int_equal(k->defer_accept_drops, 1);
    assert_int_equal(k->syn_cookies_ok, 0);
    assert_int_equal(th_pending(&x->h), 0); /* no RST: the peer is right to think itself connected */

    ack(x, 2, cookie, "hello");
    th_poll(&x->h);
    assert_int_equal(k->syn_cookies_ok, 1);
    assert_int_equal(x->a.n, 1);
    assert_int_equal(x->a.ports[0], P0 + 2);
    th_app rd;
    th_app_init(&rd);
    assert_int_equal(oasis_tcp_read(x->a.flows[0], th_read_cb, &rd), 0);
    th_poll(&x->h);
    assert_int_equal(rd.rx_len, 5);
    assert_memory_equal(rd.rx, "hello", 5);
    th_app_fini(&rd);
    assert_null(oasis_tcp_accept(x->h.s, PORT)); /* peers 0 and 1 said nothing */
    fx_free(x);
}

/* A callback that pauses again leaves the rest waiting, still in order. */
static void test_pause_from_callback(void **state)
{
    (void)state;
    fx *x = fx_new(8, 1);
    for (int i = 0; i < 6; i++)
        connect_peer(x, i, NULL);
    th_poll(&x->h);
    x->a.pause_after = 2;
    oasis_tcp_accept_resume(x->h.s, PORT);
    th_poll(&x->h);
    assert_int_equal(x->a.n, 2);
    assert_int_equal(oasis_tcp_accept_waiting(x->h.s, PORT), 4);
    x->a.pause_after = 0;
    oasis_tcp_accept_resume(x->h.s, PORT);
    th_poll(&x->h);
    assert_int_equal(x->a.n, 6);
    for (int i = 0; i < 6; i++)
        assert_int_equal(x->a.ports[i], P0 + i);
    fx_free(x);
}

/* A waiting flow that the peer resets leaves the queue; unlisten resets the
 * ones still waiting. No memory is left behind. */
static void test_reset_and_unlisten_while_waiting(void **state)
{
    (void)state;
    fx *x = fx_new(8, 1);
    uint32_t iss1 = 0;
    for (int i = 0; i < 3; i++) {
        uint32_t iss = syn(x, i);
        if (i == 1)
            iss1 = iss;
        ack(x, i, iss, NULL);
    }
    th_poll(&x->h);
    oasis_tcp_hdr rst = th_seg(P0 + 1, PORT, R, peer_isn(1) + 1, 0);
    th_inject(&x->h, &rst);
    th_poll(&x->h);
    (void)iss1;
    assert_int_equal(oasis_tcp_accept_waiting(x->h.s, PORT), 2);
    th_clear(&x->h);
    assert_int_equal(oasis_tcp_unlisten(x->h.s, PORT), 0);
    th_poll(&x->h);
    oasis_tcp_hdr r;
    int rsts = 0;
    while (th_pop(&x->h, &r))
        rsts += (r.flags & R) != 0;
    assert_int_equal(rsts, 2);
    assert_int_equal(x->a.n, 0);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
    fx_free(x);
}

/* Pause and resume on a port nobody listens on. */
static void test_errors(void **state)
{
    (void)state;
    fx *x = fx_new(0, 0);
    assert_int_equal(oasis_tcp_accept_pause(x->h.s, PORT + 1), OASIS_ENOENT);
    assert_int_equal(oasis_tcp_accept_resume(x->h.s, PORT + 1), OASIS_ENOENT);
    assert_null(oasis_tcp_accept(x->h.s, PORT + 1));
    assert_int_equal(oasis_tcp_accept_waiting(x->h.s, PORT + 1), 0);
    /* Not paused: flows go to the callback, nothing waits. */
    connect_peer(x, 0, NULL);
    th_poll(&x->h);
    assert_int_equal(x->a.n, 1);
    assert_null(oasis_tcp_accept(x->h.s, PORT));
    fx_free(x);
}

/* oasis_tcp_trim (issue 12, memory of idle connections): after an echo the
 * flow's empty buffers go back to the allocator, and the flow still works. */
/* Issue 16: an idle established flow costs at most 256 bytes, all
 * included (its TCB and its share of the flow table, as the counting
 * allocator sees them): what only a busy flow needs (timer, buffers, SACK,
 * recovery) goes back when the flow goes idle, and comes again with data. */
static void test_idle_flow_bytes(void **state)
{
    (void)state;
    tcp_harness h;
    test_counting mem;
    th_app a;
    memset(&mem, 0, sizeof mem);
    th_init_alloc(&h, NULL, test_count_alloc, &mem);
    th_app_init(&a);
    uint32_t iss0 = th_open_passive(&h, &a, PORT, NULL); /* the listener, and a first flow */
    oasis_flow *first = a.flow;
    th_clear(&h);
    size_t before = mem.live, before_chunked = mem.chunked;
    /* Enough flows that the slab's pages are a fair sample (a page holds
     * 70 flows; the last one is partly used). */
    enum { N = 2000 };
    for (int i = 0; i < N; i++) {
        uint16_t pp = (uint16_t)(P0 + 1 + i);
        oasis_tcp_hdr syn = th_seg(pp, PORT, S, TH_PISN, 0);
        th_inject(&h, &syn);
        oasis_tcp_hdr r;
        assert_true(th_pop(&h, &r));
        oasis_tcp_hdr ack = th_seg(pp, PORT, A, TH_PISN + 1, r.seq + 1);
        th_inject(&h, &ack);
        th_poll(&h);
        th_clear(&h);
    }
    assert_int_equal(a.accepted, N + 1);
    size_t per_flow = (mem.live - before) / N;
    assert_true(per_flow <= 256);
    /* What malloc would charge (a header per block): one block per flow
     * would cost 256 B for the 240 B core alone. */
    per_flow = (mem.chunked - before_chunked) / N;
    assert_true(per_flow <= 256);
    /* Everything the flows occupy, whole pages, the page and flow tables
     * included, over every flow. */
    const oasis_tcp_layer *L = h.s->tcp;
    size_t all = L->flows.bytes + (size_t)L->flows.cap * sizeof(void *) +
                 (size_t)L->nbuckets * sizeof(void *);
    assert_int_equal(L->flows.live, N + 1);
    assert_true(all / (N + 1) <= 256);
    /* The flow table's part: at most a bucket (8 B) per flow. */
    assert_true(L->nbuckets <= L->count);
    /* Headroom: with the table at its worst (a bucket per flow, just after
     * it doubled, as at 10,000 flows in `oasis-bench mem`) the flows still
     * fit the target. A 248-B core (list links in every flow) did not. */
    size_t slab_share = (L->flows.bytes + (size_t)L->flows.cap * sizeof(void *)) / (N + 1);
    assert_true(slab_share + sizeof(void *) <= 256);
    const oasis_tcp_counters *c = th_ctr(&h);
    assert_int_equal(c->ext_allocs - c->ext_frees, 0); /* every flow idle, none holds one */
    /* Data moves on the first flow: it takes an extension and gives it
     * back once everything is acknowledged. */
    size_t idle = mem.live;
    assert_int_equal(oasis_tcp_write(first, "abcdefgh", 8, NULL, NULL), 0);
    assert_int_equal(c->ext_allocs - c->ext_frees, 1);
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, TH_PISN + 1, iss0 + 9);
    th_inject(&h, &ack);
    th_poll(&h);
    assert_int_equal(c->ext_allocs - c->ext_frees, 0);
    assert_int_equal(oasis_tcp_trim(first), 0); /* the spare's ring storage too */
    assert_int_equal(mem.live, idle);
    th_fini(&h);
    th_app_fini(&a);
}

/* FlowExtAllocs - FlowExtFrees is how many flows hold an extension now
 * (test_idle_flow_bytes reads it so). A flow that ends busy (the peer
 * resets it with our data unacknowledged) gives its extension back when
 * the flow is freed; that counted as no free, so under connection churn
 * (`ab`, clients killed mid-download) the difference grew by one per such
 * connection although none was held. */
static void test_ext_counted_when_busy_flow_freed(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    th_init(&h, NULL);
    th_app_init(&a);
    th_open_passive(&h, &a, PORT, NULL); /* the listener, and a first flow (kept, idle) */
    th_clear(&h);
    const oasis_tcp_counters *c = th_ctr(&h);
    for (int i = 0; i < 3; i++) {
        uint16_t pp = (uint16_t)(P0 + 1 + i);
        oasis_tcp_hdr syn = th_seg(pp, PORT, S, TH_PISN, 0);
        th_inject(&h, &syn);
        oasis_tcp_hdr r;
        assert_true(th_pop(&h, &r));
        oasis_tcp_hdr ack = th_seg(pp, PORT, A, TH_PISN + 1, r.seq + 1);
        th_inject(&h, &ack);
        th_poll(&h);
        oasis_flow *f = a.flow;
        assert_int_equal(oasis_tcp_write(f, "abcdefgh", 8, NULL, NULL), 0); /* busy: unacked */
        assert_int_equal(oasis_tcp_close(f, NULL, NULL), 0);                 /* and forget it */
        th_poll(&h);
        oasis_tcp_hdr rst = th_seg(pp, PORT, R, TH_PISN + 1, 0);
        th_inject(&h, &rst);
        th_poll(&h);
        th_clear(&h);
        assert_int_equal(c->flows, 1); /* freed: only the first one left */
        assert_int_equal(c->ext_allocs - c->ext_frees, 0);
    }
    th_fini(&h);
    th_app_fini(&a);
}

/* The counting allocator, also counting the calls that allocate. */
typedef struct calls_alloc {
    test_counting mem;
    unsigned long calls;
} calls_alloc;

static void *calls_alloc_fn(void *ud, void *ptr, size_t size)
{
    calls_alloc *c = ud;
    if (size)
        c->calls++;
    return test_count_alloc(&c->mem, ptr, size);
}

/* Connection after connection (accept, write, ACK, close, the peer's FIN,
 * TIME_WAIT, its end) allocates nothing once warm: the ended flow's
 * extension (with its small send storage and RACK ring) and TIME_WAIT
 * entry are reused by the next connection (crr's cost per connection). */
static void test_connect_close_no_alloc(void **state)
{
    (void)state;
    tcp_harness h;
    calls_alloc ca;
    th_app a;
    memset(&ca, 0, sizeof ca);
    oasis_stack_config sc;
    oasis_stack_config_init(&sc);
    oasis_tcp_config tc = sc.tcp;
    tc.msl_ns = 100 * OASIS_NS_PER_MS; /* TIME_WAIT ends before the ARP entry ages */
    th_init_alloc(&h, &tc, calls_alloc_fn, &ca);
    th_app_init(&a);
    th_open_passive(&h, &a, PORT, NULL); /* the listener (and a first flow, kept) */
    th_clear(&h);
    for (int round = 0; round < 4; round++) {
        unsigned long calls = ca.calls;
        uint16_t pp = (uint16_t)(P0 + 1 + round);
        oasis_tcp_hdr syn = th_seg(pp, PORT, S, TH_PISN, 0);
        th_inject(&h, &syn);
        oasis_tcp_hdr r;
        assert_true(th_pop(&h, &r));
        uint32_t iss = r.seq;
        oasis_tcp_hdr ack = th_seg(pp, PORT, A, TH_PISN + 1, iss + 1);
        th_inject(&h, &ack);
        th_poll(&h);
        oasis_flow *f = a.flow;
        assert_int_equal(oasis_tcp_write(f, "abcdefgh", 8, NULL, NULL), 0);
        ack = th_seg(pp, PORT, A, TH_PISN + 1, iss + 9);
        th_inject(&h, &ack);
        assert_int_equal(oasis_tcp_close(f, NULL, NULL), 0); /* and forget it */
        th_poll(&h);
        oasis_tcp_hdr fin = th_seg(pp, PORT, A | OASIS_TCP_FIN, TH_PISN + 1, iss + 10);
        th_inject(&h, &fin);
        th_poll(&h);
        assert_int_equal(th_ctr(&h)->time_wait, 1);
        th_advance(&h, OASIS_NS_PER_SEC); /* past 2*MSL */
        assert_int_equal(th_ctr(&h)->time_wait, 0);
        assert_int_equal(th_ctr(&h)->flows, 1); /* only the first one left */
        th_clear(&h);
        if (round >= 2)
            assert_int_equal(ca.calls, calls);
    }
    th_fini(&h);
    th_app_fini(&a);
}

/* Connections closing in bursts of 20 a millisecond, each TIME_WAIT
 * lasting 5 ms (crr's shape: hundreds of entries at once, a burst ending
 * together): once warm, the entries come and go without allocator calls
 * (they used to be allocated each, past 8 kept spares). */
static void test_many_time_wait_no_alloc(void **state)
{
    (void)state;
    tcp_harness h;
    calls_alloc ca;
    th_app a;
    memset(&ca, 0, sizeof ca);
    oasis_stack_config sc;
    oasis_stack_config_init(&sc);
    oasis_tcp_config tc = sc.tcp;
    enum { BURST = 20, STEPS = 5, N = 400 };
    const uint64_t step = OASIS_NS_PER_MS;
    tc.msl_ns = STEPS * step / 2; /* TIME_WAIT lasts STEPS steps */
    th_init_alloc(&h, &tc, calls_alloc_fn, &ca);
    th_app_init(&a);
    th_open_passive(&h, &a, PORT, NULL); /* the listener (and a first flow, kept) */
    th_clear(&h);
    unsigned long calls = 0;
    for (int i = 0; i < N; i++) {
        if (i == N / 2)
            calls = ca.calls; /* warm: the entries' storage exists */
        uint16_t pp = (uint16_t)(P0 + 1 + i);
        oasis_tcp_hdr syn = th_seg(pp, PORT, S, TH_PISN, 0);
        th_inject(&h, &syn);
        oasis_tcp_hdr r;
        assert_true(th_pop(&h, &r));
        uint32_t iss = r.seq;
        oasis_tcp_hdr ack = th_seg(pp, PORT, A, TH_PISN + 1, iss + 1);
        th_inject(&h, &ack);
        th_poll(&h);
        assert_int_equal(oasis_tcp_close(a.flow, NULL, NULL), 0);
        th_poll(&h);
        oasis_tcp_hdr fin = th_seg(pp, PORT, A | OASIS_TCP_FIN, TH_PISN + 1, iss + 2);
        th_inject(&h, &fin);
        th_poll(&h);
        th_clear(&h);
        if (i % BURST == BURST - 1) {
            th_advance(&h, step);
            if (i >= BURST * STEPS)
                assert_int_equal(th_ctr(&h)->time_wait, BURST * (STEPS - 1));
        }
    }
    assert_int_equal(ca.calls, calls);
    th_fini(&h);
    th_app_fini(&a);
}

/* Teardown of many flows is linear: oasis_tcp_disconnect looks at each
 * flow once (it used to rescan the list from its head for every flow:
 * minutes for a million). The flows stay the application's, finished. */
static void test_disconnect_linear(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    test_counting mem;
    memset(&mem, 0, sizeof mem);
    th_init_alloc(&h, NULL, test_count_alloc, &mem);
    th_app_init(&a);
    th_open_passive(&h, &a, PORT, NULL);
    th_clear(&h);
    enum { N = 2000 };
    for (int i = 0; i < N; i++) {
        uint16_t pp = (uint16_t)(P0 + 1 + i);
        oasis_tcp_hdr syn = th_seg(pp, PORT, S, TH_PISN, 0);
        th_inject(&h, &syn);
        oasis_tcp_hdr r;
        assert_true(th_pop(&h, &r));
        oasis_tcp_hdr ack = th_seg(pp, PORT, A, TH_PISN + 1, r.seq + 1);
        th_inject(&h, &ack);
        th_poll(&h);
        th_clear(&h);
    }
    assert_int_equal(a.accepted, N + 1);
    assert_int_equal(th_ctr(&h)->curr_estab, N + 1);
    uint64_t steps = h.s->tcp->disc_steps;
    size_t live = mem.live;
    oasis_tcp_disconnect(h.s);
    /* Each idle flow took an extension for its RST and gave it back: a
     * finished flow costs no more than an idle one (the listener went). */
    assert_true(mem.live <= live);
    assert_int_equal(th_ctr(&h)->curr_estab, 0);
    assert_int_equal(th_ctr(&h)->flows, N + 1); /* finished, not released */
    assert_true(h.s->tcp->disc_steps - steps <= N + 1);
    size_t rsts = 0;
    oasis_tcp_hdr r;
    while (th_pop(&h, &r))
        rsts += (r.flags & R) != 0;
    assert_int_equal(rsts, N + 1);
    th_fini(&h);
    th_app_fini(&a);
}

static void test_trim_idle_flow(void **state)
{
    (void)state;
    tcp_harness h;
    test_counting mem;
    th_app a;
    memset(&mem, 0, sizeof mem);
    th_init_alloc(&h, NULL, test_count_alloc, &mem);
    th_app_init(&a);
    uint32_t iss = th_open_passive(&h, &a, PORT, NULL);
    th_clear(&h);
    size_t idle = mem.live;
    for (int round = 0; round < 2; round++) {
        uint32_t off = (uint32_t)round * 8;
        oasis_tcp_hdr d = th_seg(TH_PPORT, PORT, A | OASIS_TCP_PSH, TH_PISN + 1 + off, iss + 1 + off);
        d.payload = (const uint8_t *)"12345678";
        d.payload_len = 8;
        th_inject(&h, &d);
        assert_int_equal(oasis_tcp_read(a.flow, th_read_cb, &a), 0);
        th_poll(&h);
        assert_int_equal(a.rx_len, 8 + off);
        assert_int_equal(oasis_tcp_write(a.flow, "abcdefgh", 8, th_write_cb, &a), 0);
        th_poll(&h);
        oasis_tcp_hdr r;
        int sent = 0;
        while (th_pop(&h, &r))
            sent |= r.payload_len == 8 && r.seq == iss + 1 + off;
        assert_true(sent);
        oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, TH_PISN + 9 + off, iss + 9 + off);
        th_inject(&h, &ack);
        th_poll(&h);
        size_t used = mem.live;
        assert_true(used > idle); /* the rings kept their storage */
        assert_int_equal(oasis_tcp_trim(a.flow), 0);
        assert_int_equal(mem.live, idle);
    }
    assert_int_equal(oasis_tcp_trim(NULL), OASIS_EINVAL);
    oasis_tcp_release(a.flow);
    th_fini(&h);
    assert_int_equal(mem.live, 0);
    th_app_fini(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paused_flows_wait_then_resume_in_order),
        cmocka_unit_test(test_waiting_flow_keeps_data),
        cmocka_unit_test(test_cookies_take_over_when_full),
        cmocka_unit_test(test_pause_from_callback),
        cmocka_unit_test(test_defer_hands_over_when_peer_speaks),
        cmocka_unit_test(test_defer_cookie_ack_opens_on_data),
        cmocka_unit_test(test_reset_and_unlisten_while_waiting),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_trim_idle_flow),
        cmocka_unit_test(test_idle_flow_bytes),
        cmocka_unit_test(test_ext_counted_when_busy_flow_freed),
        cmocka_unit_test(test_disconnect_linear),
        cmocka_unit_test(test_connect_close_no_alloc),
        cmocka_unit_test(test_many_time_wait_no_alloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
