/* The API's short paths (issue 16): a write whose bytes all fit is complete
 * at once and needs no request record of its own, yet its callback still
 * runs from the dispatcher after the call returned, exactly once and in
 * order with the other completions; a write without a callback makes no
 * request; a read of bytes already buffered gets them in order from one
 * dispatch. One stack, a hand-played peer, virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "countalloc.h"
#include "tcp_harness.h"

#define PORT 80
#define A OASIS_TCP_ACK

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

typedef struct fx {
    tcp_harness h;
    th_app a;
    calls_alloc ca;
    uint32_t iss, pnxt, acked; /* our ISS, the peer's next seq, what it acked */
    /* completions seen, in order (a write's tag) */
    int done[16], err[16], ndone;
    int in_call;      /* inside an API call: a callback now breaks the contract */
    int in_callback;  /* inside a write callback */
} fx;

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    th_init_alloc(&x->h, NULL, calls_alloc_fn, &x->ca);
    th_app_init(&x->a);
    x->iss = th_open_passive(&x->h, &x->a, PORT, NULL);
    x->pnxt = TH_PISN + 1;
    x->acked = x->iss + 1;
    th_clear(&x->h);
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

static void inject(fx *x, uint32_t ack, const void *data, size_t len)
{
    oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, A, x->pnxt, ack);
    s.payload = data;
    s.payload_len = len;
    th_inject(&x->h, &s);
    x->pnxt += (uint32_t)len;
}

/* The peer acknowledges everything sent so far. */
static void ack_all(fx *x, uint32_t sent)
{
    x->acked += sent;
    inject(x, x->acked, NULL, 0);
}

/* Pops what the stack sent and returns its payload bytes (into buf). */
static size_t sent_bytes(fx *x, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    oasis_tcp_hdr r;
    while (th_pop(&x->h, &r)) {
        assert_true(n + r.payload_len <= cap);
        memcpy(buf + n, r.payload, r.payload_len);
        n += r.payload_len;
    }
    return n;
}

typedef struct tag {
    fx *x;
    int id;
} tag;

static void tag_cb(oasis_flow *f, int err, void *ud)
{
    tag *t = ud;
    fx *x = t->x;
    assert_false(x->in_call); /* never inside the call that caused it */
    assert_true(x->ndone < 16);
    x->done[x->ndone] = t->id;
    x->err[x->ndone] = err;
    x->ndone++;
}

static int write_tagged(fx *x, const char *s, tag *t)
{
    x->in_call = 1;
    int err = oasis_tcp_write(x->a.flow, s, strlen(s), t ? tag_cb : NULL, t);
    x->in_call = 0;
    return err;
}

/* A write that fits completes at once: the bytes leave in the call, the
 * callback runs on the next poll, once, with 0; no request is left. */
static void test_write_at_once_calls_back_after_return(void **state)
{
    fx *x = *state;
    tag t = {x, 1};
    assert_int_equal(write_tagged(x, "abc", &t), 0);
    assert_int_equal(x->ndone, 0);
    uint8_t buf[16];
    assert_int_equal(sent_bytes(x, buf, sizeof buf), 3);
    assert_memory_equal(buf, "abc", 3);
    th_poll(&x->h);
    assert_int_equal(x->ndone, 1);
    assert_int_equal(x->err[0], 0);
    th_poll(&x->h);
    ack_all(x, 3);
    th_poll(&x->h);
    assert_int_equal(x->ndone, 1);
    oasis_tcp_sndbuf sb;
    assert_int_equal(oasis_tcp_get_sndbuf(x->a.flow, &sb), 0);
    assert_int_equal(sb.requests, 0);
}

/* Writes with and without callbacks, all complete at once: the callbacks
 * run in the order of the writes, each once, the bytes leave in order. */
static void test_write_at_once_order(void **state)
{
    fx *x = *state;
    tag t1 = {x, 1}, t2 = {x, 2}, t4 = {x, 4};
    assert_int_equal(oasis_tcp_set_nodelay(x->a.flow, 1), 0); /* each leaves at once */
    assert_int_equal(write_tagged(x, "one,", &t1), 0);
    assert_int_equal(write_tagged(x, "two,", &t2), 0);
    assert_int_equal(write_tagged(x, "three,", NULL), 0);
    assert_int_equal(write_tagged(x, "four", &t4), 0);
    oasis_tcp_sndbuf sb;
    assert_int_equal(oasis_tcp_get_sndbuf(x->a.flow, &sb), 0);
    assert_int_equal(sb.requests, 3); /* the one without a callback made none */
    uint8_t buf[64];
    size_t n = sent_bytes(x, buf, sizeof buf);
    assert_int_equal(n, 18);
    assert_memory_equal(buf, "one,two,three,four", 18);
    assert_int_equal(x->ndone, 0);
    th_poll(&x->h);
    assert_int_equal(x->ndone, 3);
    assert_int_equal(x->done[0], 1);
    assert_int_equal(x->done[1], 2);
    assert_int_equal(x->done[2], 4);
    for (int i = 0; i < 3; i++)
        assert_int_equal(x->err[i], 0);
    assert_int_equal(oasis_tcp_get_sndbuf(x->a.flow, &sb), 0);
    assert_int_equal(sb.requests, 0);
    th_poll(&x->h);
    assert_int_equal(x->ndone, 3);
}

/* Request/response with completion callbacks allocates nothing once warm
 * (each write used to allocate its request record). */
static void test_write_at_once_allocates_nothing(void **state)
{
    fx *x = *state;
    tag t = {x, 1};
    uint8_t buf[16];
    for (int round = 0; round < 6; round++) {
        unsigned long calls = x->ca.calls;
        assert_int_equal(write_tagged(x, "ping", &t), 0);
        assert_int_equal(sent_bytes(x, buf, sizeof buf), 4);
        ack_all(x, 4);
        th_poll(&x->h);
        assert_int_equal(x->ndone, round + 1);
        if (round >= 2)
            assert_int_equal(x->ca.calls, calls);
    }
}

/* A write without a callback: no request, nothing called back. */
static void test_write_without_callback(void **state)
{
    fx *x = *state;
    assert_int_equal(write_tagged(x, "quiet", NULL), 0);
    oasis_tcp_sndbuf sb;
    assert_int_equal(oasis_tcp_get_sndbuf(x->a.flow, &sb), 0);
    assert_int_equal(sb.requests, 0);
    uint8_t buf[16];
    assert_int_equal(sent_bytes(x, buf, sizeof buf), 5);
    assert_memory_equal(buf, "quiet", 5);
    th_poll(&x->h);
    assert_int_equal(x->ndone, 0);
    assert_int_equal(x->a.writes_done, 0);
}

/* A write issued from a write callback completes at once too; its callback
 * runs after the first one returned, in the same poll, once. */
static void chain_cb(oasis_flow *f, int err, void *ud)
{
    tag *t = ud;
    fx *x = t->x;
    assert_false(x->in_callback);
    x->in_callback = 1;
    tag_cb(f, err, ud);
    static tag next[4];
    int id = t->id;
    if (id < 3) {
        next[id] = (tag){x, id + 1};
        assert_int_equal(oasis_tcp_write(f, "+", 1, chain_cb, &next[id]), 0);
        assert_int_equal(x->ndone, id); /* not called back inside */
    }
    x->in_callback = 0;
}

static void test_write_at_once_from_callback(void **state)
{
    fx *x = *state;
    tag t = {x, 1};
    x->in_call = 1;
    assert_int_equal(oasis_tcp_write(x->a.flow, "+", 1, chain_cb, &t), 0);
    x->in_call = 0;
    th_poll(&x->h);
    assert_int_equal(x->ndone, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(x->done[i], i + 1);
        assert_int_equal(x->err[i], 0);
    }
    th_poll(&x->h);
    assert_int_equal(x->ndone, 3);
}

/* An abort runs the pending completion at once (the application asked):
 * the write completed, so 0; nothing afterwards. */
static void test_write_at_once_then_abort(void **state)
{
    fx *x = *state;
    tag t = {x, 1};
    assert_int_equal(write_tagged(x, "gone", &t), 0);
    oasis_tcp_abort(x->a.flow);
    assert_int_equal(x->ndone, 1);
    assert_int_equal(x->err[0], 0);
    th_poll(&x->h);
    assert_int_equal(x->ndone, 1);
}

/* The pattern of round r's n bytes (no two rounds alike). */
static void pattern(uint8_t *b, size_t n, int r)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i * 7 + (size_t)r * 31 + (i >> 8));
}

/* Pops one segment and checks its payload (the harness verifies its
 * checksum). */
static void expect_seg(fx *x, const uint8_t *want, size_t n)
{
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.payload_len, n);
    assert_memory_equal(r.payload, want, n);
}

/* A write sent at once goes into the send ring and the frame in one pass
 * (tcp_output.c oasis_tcp_output_put): the frame carries the bytes with
 * the right checksum, and the ring holds them too, which the
 * retransmission after a timeout shows (the application's buffer is gone
 * by then). Every copy's shape: the few bytes moved inline, the short
 * chain, the vectors' turns and tails; at the ring's start and after bytes
 * in flight; and a write Nagle holds (written into the ring alone), sent
 * with the next one in one segment. */
static void test_write_at_once_resent_from_ring(void **state)
{
    fx *x = *state;
    static const size_t sizes[] = {1, 2, 3, 7, 8, 9, 31, 63, 64, 65, 255, 300, 517, 536};
    uint8_t app[536], want[536], two[2 * 536]; /* (the MSS: no option) */
    assert_int_equal(oasis_tcp_set_nodelay(x->a.flow, 1), 0);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        pattern(app, n, (int)i);
        memcpy(want, app, n);
        assert_int_equal(oasis_tcp_write(x->a.flow, app, n, NULL, NULL), 0);
        expect_seg(x, want, n);
        /* a second write with the first in flight: at an offset */
        pattern(app, n, (int)i + 100);
        memcpy(two, want, n);
        memcpy(two + n, app, n);
        assert_int_equal(oasis_tcp_write(x->a.flow, app, n, NULL, NULL), 0);
        expect_seg(x, two + n, n);
        memset(app, 0, sizeof app);
        for (int t = 0; t < 120 && !th_pending(&x->h); t++)
            th_advance(&x->h, OASIS_NS_PER_SEC); /* to the RTO (backed off) */
        oasis_tcp_hdr r;
        assert_true(th_pop(&x->h, &r)); /* the first, from the ring */
        assert_true(r.payload_len >= n);
        assert_memory_equal(r.payload, two, r.payload_len);
        th_clear(&x->h);
        ack_all(x, (uint32_t)(2 * n));
        th_clear(&x->h);
    }
    /* Nagle: the second and third small writes wait for the first's ACK,
     * then go in one segment. */
    assert_int_equal(oasis_tcp_set_nodelay(x->a.flow, 0), 0);
    memcpy(app, "first", 5);
    assert_int_equal(oasis_tcp_write(x->a.flow, app, 5, NULL, NULL), 0);
    expect_seg(x, (const uint8_t *)"first", 5);
    memcpy(app, "second", 6);
    assert_int_equal(oasis_tcp_write(x->a.flow, app, 6, NULL, NULL), 0);
    memcpy(app, "third", 5);
    assert_int_equal(oasis_tcp_write(x->a.flow, app, 5, NULL, NULL), 0);
    memset(app, 0, 6);
    assert_int_equal(th_pending(&x->h), 0);
    ack_all(x, 5);
    expect_seg(x, (const uint8_t *)"secondthird", 11);
}

/* Bytes that arrived before the read: one callback with all of them, in
 * order, after the call returned; a read with nothing buffered waits. */
static void test_read_from_buffer(void **state)
{
    fx *x = *state;
    inject(x, x->acked, "hello", 5);
    inject(x, x->acked, " world", 6);
    th_poll(&x->h);
    assert_int_equal(x->a.reads, 0);
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    assert_int_equal(x->a.reads, 0);
    th_poll(&x->h);
    assert_int_equal(x->a.reads, 1);
    assert_int_equal(x->a.rx_len, 11);
    assert_memory_equal(x->a.rx, "hello world", 11);
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.reads, 1);
    inject(x, x->acked, "!", 1);
    th_poll(&x->h);
    assert_int_equal(x->a.reads, 2);
    assert_int_equal(x->a.rx_len, 12);
    assert_memory_equal(x->a.rx, "hello world!", 12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_at_once_calls_back_after_return, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_at_once_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_at_once_allocates_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_without_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_at_once_from_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_at_once_then_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_from_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_at_once_resent_from_ring, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
