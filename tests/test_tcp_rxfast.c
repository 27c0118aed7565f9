/* Header prediction (tcp_input.c predicted/fast_input) against the general
 * receive path in whole conversations: two stacks talk (small segments,
 * bulk both ways, requests and responses, then both close), once with the
 * prediction on and once with it off (the hp_off test hook). Every frame
 * each side sends and every counter must be the same (TCPHPHits and
 * TCPHPAcks aside, which count the prediction itself), whatever the
 * options, loss, reordering, duplication, ECN marks, buffer sizes, zero
 * windows or urgent data. test_tcp_fastpath holds hand-built segments to
 * the same rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/stack_impl.h"
#include "oasis/error.h"
#include "tcp/tcp_flow.h"
#include "testutil.h"
#include "reclink.h"

/* ---- the conversation ------------------------------------------------------ */

#define PORT 7010
#define A_SENDS 90000u
#define B_SENDS 60000u

static uint8_t data[A_SENDS];

/* How a run differs from the default conversation (timestamps, SACK and
 * window scaling negotiated, no impairment, auto-tuned buffers). */
typedef struct variant {
    int hp_off;      /* header prediction off (the general path only) */
    int no_ts;       /* timestamps not negotiated */
    int no_sack;     /* SACK not negotiated */
    int ecn;         /* ECN negotiated; ce: the wire marks this share CE */
    double ce;
    double loss;     /* random loss both ways */
    double reorder;  /* frames held back behind later ones */
    double dup;      /* frames delivered twice */
    uint32_t buf;    /* fixed send and receive buffers (0: auto-tuned) */
    uint32_t stall;  /* B stops reading after this many bytes for 3 s (zero window) */
    int urgent;      /* some requests are urgent data */
} variant;

typedef struct side {
    oasis_flow *flow;
    size_t got, want;
    size_t stall_at; /* stop reading here (0: never) */
    uint64_t urg;    /* what oasis_tcp_urgent_pending said at each read */
    int stalled, eof, closed;
} side;

static void on_read(oasis_flow *f, int err, const uint8_t *d, size_t len, void *ud)
{
    side *sd = ud;
    (void)d;
    if (err) {
        sd->eof = 1;
        return;
    }
    sd->got += len;
    sd->urg = sd->urg * 31 + oasis_tcp_urgent_pending(f);
    if (sd->stall_at && sd->got >= sd->stall_at) {
        sd->stall_at = 0;
        sd->stalled = 1; /* the buffer fills, the window closes */
        return;
    }
    assert_int_equal(oasis_tcp_read(f, on_read, sd), 0);
}

static void on_closed(oasis_flow *f, int err, void *ud)
{
    side *sd = ud;
    (void)err;
    sd->closed = 1;
    oasis_tcp_release(f);
}

static void on_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    side *b = ud;
    (void)s;
    b->flow = f;
    assert_int_equal(oasis_tcp_read(f, on_read, b), 0);
    oasis_tcp_set_nodelay(f, 1);
    assert_int_equal(oasis_tcp_write(f, data, 1, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_write(f, data + 1, 99, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_write(f, data + 100, B_SENDS - 100, NULL, NULL), 0);
}

static void on_connect(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    side *a = ud;
    (void)s;
    assert_int_equal(err, 0);
    a->flow = f;
    assert_int_equal(oasis_tcp_read(f, on_read, a), 0);
    oasis_tcp_set_nodelay(f, 1);
    assert_int_equal(oasis_tcp_write(f, data, 1, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_write(f, data + 1, 1459, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_write(f, data + 1460, A_SENDS - 1460, NULL, NULL), 0);
}

static int both_done(void *ud)
{
    side *s = ud;
    return (s[0].got == s[0].want && s[1].got == s[1].want) || s[1].stalled;
}

static int never(void *ud)
{
    (void)ud;
    return 0;
}

static int both_closed(void *ud)
{
    side *s = ud;
    return s[0].closed && s[1].closed && s[0].eof && s[1].eof;
}

/* Runs until both sides have what they want; a stalled reader resumes
 * after 3 s of zero window (persist probes). */
static void run_done(test_net *n, side *sides)
{
    for (;;) {
        oasis_wire_run(n->wire, both_done, sides, 60 * OASIS_NS_PER_SEC);
        if (!sides[1].stalled)
            break;
        oasis_wire_run(n->wire, never, NULL, 3 * OASIS_NS_PER_SEC);
        sides[1].stalled = 0;
        assert_int_equal(oasis_tcp_read(sides[1].flow, on_read, &sides[1]), 0);
    }
    assert_int_equal(sides[0].got, sides[0].want);
    assert_int_equal(sides[1].got, sides[1].want);
}

/* Requests and responses around the MSS, some after an idle second (delayed
 * ACKs, tail loss probes), some urgent; then both sides writing at once. */
static void request_response(test_net *n, side *sides, int urgent)
{
    static const size_t sizes[] = {1, 100, 1447, 1448, 1449, 1460, 1461, 3000, 20, 7000};
    for (unsigned i = 0; i < 40; i++) {
        size_t len = sizes[i % (sizeof sizes / sizeof sizes[0])];
        if (i % 9 == 8)
            oasis_wire_run(n->wire, never, NULL, OASIS_NS_PER_SEC);
        sides[1].want += len;
        if (urgent && i % 4 == 1)
            assert_int_equal(oasis_tcp_write_urgent(sides[0].flow, data, len, NULL, NULL), 0);
        else
            assert_int_equal(oasis_tcp_write(sides[0].flow, data, len, NULL, NULL), 0);
        run_done(n, sides);
        sides[0].want += len;
        assert_int_equal(oasis_tcp_write(sides[1].flow, data + 1, len, NULL, NULL), 0);
        run_done(n, sides);
    }
    for (unsigned i = 0; i < 200; i++) {
        size_t la = sizes[i % (sizeof sizes / sizeof sizes[0])];
        size_t lb = sizes[(i + 3) % (sizeof sizes / sizeof sizes[0])];
        sides[1].want += la;
        sides[0].want += lb;
        assert_int_equal(oasis_tcp_write(sides[0].flow, data, la, NULL, NULL), 0);
        assert_int_equal(oasis_tcp_write(sides[1].flow, data + 2, lb, NULL, NULL), 0);
        oasis_wire_run(n->wire, never, NULL, 40 * 1000);
    }
    run_done(n, sides);
}

typedef struct run_out {
    test_rec ra, rb;
    oasis_counters ca, cb;
    uint64_t hp;  /* TCPHPHits + TCPHPAcks of both stacks */
    uint64_t urg; /* B's urgent pointer as its reads saw it */
} run_out;

static void impair(test_net *n, const variant *v)
{
    oasis_impair imp;
    oasis_impair_init(&imp);
    imp.loss = v->loss;
    imp.reorder = v->reorder;
    imp.reorder_delay_ns = 300 * 1000;
    imp.duplicate = v->dup;
    imp.ce_mark = v->ce;
    assert_int_equal(oasis_wire_impair(n->wire, oasis_stack_link(n->a), oasis_stack_link(n->b), &imp), 0);
    assert_int_equal(oasis_wire_impair(n->wire, oasis_stack_link(n->b), oasis_stack_link(n->a), &imp), 0);
}

static void run_v(const variant *v, run_out *o)
{
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + (i >> 9));
    oasis_wire_config wcfg;
    oasis_wire_config_init(&wcfg);
    wcfg.delay_ns = 100 * 1000;
    oasis_stack_config scfg;
    test_stack_config(&scfg, NULL, 1);
    oasis_tcp_config tcfg = scfg.tcp;
    tcfg.timestamps = !v->no_ts;
    tcfg.sack = !v->no_sack;
    tcfg.ecn = v->ecn ? 1 : 0;
    if (v->buf) {
        tcfg.autotune = 0;
        tcfg.sndbuf = tcfg.rcvbuf = v->buf;
    }
    test_net n;
    test_net_init(&n, &wcfg, &tcfg);
    n.a->tcp->hp_off = (uint8_t)v->hp_off;
    n.b->tcp->hp_off = (uint8_t)v->hp_off;
    impair(&n, v);
    test_rec_wrap(&o->ra, n.a);
    test_rec_wrap(&o->rb, n.b);

    side sides[2];
    memset(sides, 0, sizeof sides);
    sides[0].want = B_SENDS;
    sides[1].want = A_SENDS;
    sides[1].stall_at = v->stall;
    assert_int_equal(oasis_tcp_listen(n.b, PORT, NULL, on_accept, &sides[1]), 0);
    assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, PORT, NULL, on_connect, &sides[0]), 0);
    run_done(&n, sides);
    request_response(&n, sides, v->urgent);
    /* A closes first; B sends a last response after A's FIN (CLOSE_WAIT),
     * then closes too. */
    assert_int_equal(oasis_tcp_close(sides[0].flow, on_closed, &sides[0]), 0);
    oasis_wire_run(n.wire, never, NULL, 5 * 1000 * 1000);
    assert_int_equal(oasis_tcp_write(sides[1].flow, data, 3000, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_close(sides[1].flow, on_closed, &sides[1]), 0);
    oasis_wire_run(n.wire, both_closed, sides, 60 * OASIS_NS_PER_SEC);
    assert_true(both_closed(sides));

    o->urg = sides[1].urg;
    o->ca = n.a->ctr;
    o->cb = n.b->ctr;
    o->hp = o->ca.tcp.hp_hits + o->ca.tcp.hp_acks + o->cb.tcp.hp_hits + o->cb.tcp.hp_acks;
    o->ca.tcp.hp_hits = o->ca.tcp.hp_acks = o->cb.tcp.hp_hits = o->cb.tcp.hp_acks = 0;
    test_rec_unwrap(&o->ra, n.a);
    test_rec_unwrap(&o->rb, n.b);
    test_net_fini(&n);
}

/* The conversation with header prediction on and off: the same frames,
 * the same counters. */
static void same_both_ways(variant v)
{
    static run_out general, fast;
    v.hp_off = 1;
    run_v(&v, &general);
    v.hp_off = 0;
    run_v(&v, &fast);
    assert_int_equal(general.hp, 0);
    assert_true(fast.hp > 100); /* the prediction was taken */
    test_rec_assert_same(&fast.ra, &general.ra, 100);
    test_rec_assert_same(&fast.rb, &general.rb, 0);
    assert_int_equal(general.urg, fast.urg);
    assert_memory_equal(&general.ca, &fast.ca, sizeof general.ca);
    assert_memory_equal(&general.cb, &fast.cb, sizeof general.cb);
    test_rec_free(&general.ra);
    test_rec_free(&general.rb);
    test_rec_free(&fast.ra);
    test_rec_free(&fast.rb);
}

static void test_plain(void **state)
{
    (void)state;
    same_both_ways((variant){0});
}

static void test_options(void **state)
{
    (void)state;
    same_both_ways((variant){.no_ts = 1});
    same_both_ways((variant){.no_sack = 1});
    same_both_ways((variant){.no_ts = 1, .no_sack = 1});
}

static void test_loss(void **state)
{
    (void)state;
    same_both_ways((variant){.loss = 0.02});
    same_both_ways((variant){.loss = 0.02, .no_ts = 1});
    same_both_ways((variant){.loss = 0.02, .no_sack = 1});
}

static void test_reorder_duplicate(void **state)
{
    (void)state;
    same_both_ways((variant){.reorder = 0.05});
    same_both_ways((variant){.reorder = 0.05, .no_sack = 1});
    same_both_ways((variant){.dup = 0.03, .loss = 0.01});
}

static void test_ecn(void **state)
{
    (void)state;
    same_both_ways((variant){.ecn = 1});
    same_both_ways((variant){.ecn = 1, .ce = 0.05});
    same_both_ways((variant){.ecn = 1, .ce = 0.05, .loss = 0.01, .no_ts = 1});
}

static void test_small_buffers_zero_window(void **state)
{
    (void)state;
    same_both_ways((variant){.buf = 4000});
    same_both_ways((variant){.buf = 4000, .stall = 20000});
    same_both_ways((variant){.buf = 4000, .stall = 20000, .loss = 0.02});
}

static void test_urgent(void **state)
{
    (void)state;
    same_both_ways((variant){.urgent = 1});
    same_both_ways((variant){.urgent = 1, .loss = 0.02, .reorder = 0.03});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_loss),
        cmocka_unit_test(test_reorder_duplicate),
        cmocka_unit_test(test_ecn),
        cmocka_unit_test(test_small_buffers_zero_window),
        cmocka_unit_test(test_urgent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
