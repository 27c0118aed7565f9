/* Where completions reach the application (tcp_dispatch.c): whatever a
 * frame's input makes due (data to read, a write completed, a close) runs
 * from the next oasis_stack_poll(), after the timers due then; never inside
 * the input, nor inside the API call that started it, nor nested inside
 * another callback (a frame fed from a callback); a woken flow makes the
 * stack's next deadline "now"; callbacks that keep waking their flow give
 * the poll back after 64 rounds and go on a nanosecond later. One stack, a
 * hand-played peer whose segments come in as Ethernet frames, virtual
 * clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "link/eth_wire.h"
#include "ip/ipv4_wire.h"
#include "tcp_harness.h"

#define PORT 80
#define A OASIS_TCP_ACK

static const uint8_t PEER_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};

typedef struct fx {
    tcp_harness h;
    th_app a;
    uint32_t iss, pnxt; /* our ISS, the peer's next seq */
    uint8_t rx[64];
    size_t rx_len;
    int reads, eofs, writes_done, closes, canceled;
    int depth, max_depth; /* callbacks running now, the most at once */
    int in_call;          /* inside an API call: a callback now breaks the contract */
    size_t sent_at_read;  /* segments the stack had sent when the last read ran */
    /* what the read callback does */
    int reread, reread_eof, reply, feed, abort_it, shut_read;
    const char *feed_data;
} fx;

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    th_init(&x->h, NULL);
    th_app_init(&x->a);
    x->iss = th_open_passive(&x->h, &x->a, PORT, NULL);
    x->pnxt = TH_PISN + 1;
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

/* The peer's segment, through the stack's Ethernet and IP input. */
static void input_seg(fx *x, uint8_t flags, const char *data)
{
    size_t plen = data ? strlen(data) : 0;
    oasis_tcp_hdr seg = th_seg(TH_PPORT, PORT, flags, x->pnxt, x->iss + 1);
    seg.payload = (const uint8_t *)data;
    seg.payload_len = plen;
    size_t n = OASIS_ETH_HLEN + OASIS_IPV4_HLEN + OASIS_TCP_HLEN + plen;
    uint8_t f[128] = {0};
    assert_true(n <= sizeof f);
    oasis_eth_emit(f, oasis_stack_mac(x->h.s), PEER_MAC, OASIS_ETHERTYPE_IPV4);
    oasis_ipv4_hdr ip;
    memset(&ip, 0, sizeof ip);
    ip.total_len = (uint16_t)(n - OASIS_ETH_HLEN);
    ip.id = 1;
    ip.df = 1;
    ip.ttl = 64;
    ip.proto = OASIS_IPPROTO_TCP;
    ip.src = TH_PEER;
    ip.dst = TH_LOCAL;
    oasis_ipv4_emit(f + OASIS_ETH_HLEN, &ip);
    uint8_t *tcp = f + OASIS_ETH_HLEN + OASIS_IPV4_HLEN;
    if (plen)
        memcpy(tcp + OASIS_TCP_HLEN, data, plen);
    oasis_tcp_emit(tcp, &seg, plen, TH_PEER, TH_LOCAL);
    x->pnxt += (uint32_t)plen + ((flags & OASIS_TCP_FIN) ? 1u : 0u);
    oasis_stack_input(x->h.s, f, n < 60 ? 60 : n);
}

static void enter(fx *x)
{
    assert_false(x->in_call);
    if (++x->depth > x->max_depth)
        x->max_depth = x->depth;
}

static void write_cb(oasis_flow *f, int err, void *ud)
{
    fx *x = ud;
    enter(x);
    assert_int_equal(err, 0);
    x->writes_done++;
    x->depth--;
}

static void read_cb(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    fx *x = ud;
    if (err == OASIS_ECANCELED) { /* abort and teardown call back at once */
        x->canceled++;
        return;
    }
    enter(x);
    x->reads++;
    x->sent_at_read = th_pending(&x->h);
    if (err == OASIS_EOF) {
        x->eofs++;
        if (x->reread_eof) /* EOF is sticky: the next read gets it again */
            assert_int_equal(oasis_tcp_read(f, read_cb, x), 0);
        x->depth--;
        return;
    }
    assert_int_equal(err, 0);
    assert_true(x->rx_len + len <= sizeof x->rx);
    memcpy(x->rx + x->rx_len, data, len);
    x->rx_len += len;
    if (x->reread) {
        x->in_call = 1;
        assert_int_equal(oasis_tcp_read(f, read_cb, x), 0);
        x->in_call = 0;
    }
    if (x->shut_read) {
        x->in_call = 1;
        assert_int_equal(oasis_tcp_shutdown(f, OASIS_TCP_SHUT_READ), 0);
        x->in_call = 0;
    }
    if (x->reply) {
        x->reply = 0;
        x->in_call = 1;
        assert_int_equal(oasis_tcp_write(f, "pong", 4, write_cb, x), 0);
        x->in_call = 0;
    }
    if (x->feed) {
        x->feed = 0;
        input_seg(x, A, x->feed_data); /* the next segment, from inside */
    }
    if (x->abort_it) {
        x->in_call = 1;
        oasis_tcp_abort(f);
        x->in_call = 0;
    }
    x->depth--;
}

static void close_cb(oasis_flow *f, int err, void *ud)
{
    fx *x = ud;
    enter(x);
    assert_int_equal(err, 0);
    x->closes++;
    x->depth--;
}

static void start_read(fx *x)
{
    x->in_call = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, read_cb, x), 0);
    x->in_call = 0;
}

/* The frame's read waits for the poll; the stack says it is due now. */
static void test_read_runs_from_poll(void **state)
{
    fx *x = *state;
    start_read(x);
    input_seg(x, A, "abc");
    assert_int_equal(x->reads, 0);
    assert_true(oasis_stack_next_deadline(x->h.s) <= th_now(&x->h));
    th_poll(&x->h);
    assert_int_equal(x->reads, 1);
    assert_int_equal(x->rx_len, 3);
    assert_memory_equal(x->rx, "abc", 3);
    assert_int_equal(x->max_depth, 1);
    assert_true(oasis_stack_next_deadline(x->h.s) > th_now(&x->h));
    th_poll(&x->h);
    assert_int_equal(x->reads, 1);
}

/* Timers due come first: the delayed ACK of the first byte is due when
 * the second arrives; the poll sends it, then runs the read. */
static void test_read_after_due_timers(void **state)
{
    fx *x = *state;
    x->reread = 1;
    start_read(x);
    input_seg(x, A, "a");
    th_poll(&x->h);
    assert_int_equal(x->reads, 1);
    assert_int_equal(th_pending(&x->h), 0); /* its ACK is delayed */
    uint64_t next = oasis_stack_next_deadline(x->h.s);
    assert_true(next > th_now(&x->h) && next != UINT64_MAX);
    oasis_clock_set(x->h.clock, next);
    input_seg(x, A, "b");
    assert_int_equal(x->reads, 1);
    th_poll(&x->h);
    assert_int_equal(x->reads, 2);
    assert_int_equal(x->sent_at_read, 1); /* the timer ran before the read */
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.ack, x->pnxt); /* the delayed ACK, covering both */
    assert_memory_equal(x->rx, "ab", 2);
}

/* A read callback that answers: the reply leaves from its call, its
 * completion runs in the same poll, after the call returned. */
static void test_reply_and_write_completion(void **state)
{
    fx *x = *state;
    x->reply = 1;
    start_read(x);
    input_seg(x, A, "ping");
    th_poll(&x->h);
    assert_int_equal(x->reads, 1);
    assert_int_equal(x->writes_done, 1);
    assert_int_equal(x->max_depth, 1);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.payload_len, 4);
    assert_memory_equal(r.payload, "pong", 4);
    assert_int_equal(r.ack, x->pnxt); /* the reply carries the ACK */
    th_poll(&x->h);
    assert_int_equal(x->writes_done, 1);
}

/* A frame fed from inside a read callback: its read runs after that
 * callback returned (never nested), in the same poll, bytes in order. */
static void test_input_from_callback_not_nested(void **state)
{
    fx *x = *state;
    x->reread = 1;
    x->feed = 1;
    x->feed_data = "def";
    start_read(x);
    input_seg(x, A, "abc");
    th_poll(&x->h);
    assert_int_equal(x->max_depth, 1);
    assert_int_equal(x->rx_len, 6);
    assert_memory_equal(x->rx, "abcdef", 6);
    assert_int_equal(x->reads, 2);
}

/* A read callback that aborts its flow: the re-read it issued is canceled
 * (from the abort, as asked), the RST leaves, nothing runs afterwards. */
static void test_abort_from_read_callback(void **state)
{
    fx *x = *state;
    x->abort_it = 1;
    x->reread = 1;
    start_read(x);
    input_seg(x, A, "abc");
    th_poll(&x->h);
    assert_int_equal(x->reads, 1);
    assert_int_equal(x->canceled, 1);
    assert_int_equal(x->rx_len, 3);
    oasis_tcp_hdr r;
    int rst = 0;
    while (th_pop(&x->h, &r))
        rst |= (r.flags & OASIS_TCP_RST) != 0;
    assert_true(rst);
    input_seg(x, A, "more");
    th_poll(&x->h);
    assert_int_equal(x->reads, 1);
    assert_int_equal(x->canceled, 1);
    oasis_tcp_release(x->a.flow);
}

/* Close, then the peer's FIN: the read's EOF and then the close callback,
 * from the poll after that frame. */
static void test_close_completes_from_poll(void **state)
{
    fx *x = *state;
    start_read(x);
    x->in_call = 1;
    assert_int_equal(oasis_tcp_close(x->a.flow, close_cb, x), 0);
    x->in_call = 0;
    th_poll(&x->h);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_true(r.flags & OASIS_TCP_FIN);
    assert_int_equal(x->closes, 0);
    x->iss = r.seq; /* input_seg acknowledges iss + 1: our FIN */
    input_seg(x, A | OASIS_TCP_FIN, NULL);
    assert_int_equal(x->eofs + x->closes, 0);
    th_poll(&x->h);
    assert_int_equal(x->eofs, 1);
    assert_int_equal(x->closes, 1);
    assert_int_equal(x->max_depth, 1);
    oasis_tcp_release(x->a.flow);
}

/* Data and FIN in one segment: the read that took the data reads again,
 * and gets EOF in the same poll. */
static void test_data_then_eof_in_one_poll(void **state)
{
    fx *x = *state;
    x->reread = 1;
    start_read(x);
    input_seg(x, A | OASIS_TCP_FIN, "end");
    th_poll(&x->h);
    assert_int_equal(x->rx_len, 3);
    assert_memory_equal(x->rx, "end", 3);
    assert_int_equal(x->eofs, 1);
    assert_int_equal(x->max_depth, 1);
}

/* A read callback that shuts reading and reads again: EOF in the same
 * poll, though the stream itself goes on. */
static void test_shut_read_from_read_callback(void **state)
{
    fx *x = *state;
    x->reread = 1;
    x->shut_read = 1;
    start_read(x);
    input_seg(x, A, "abc");
    th_poll(&x->h);
    assert_int_equal(x->rx_len, 3);
    assert_int_equal(x->eofs, 1);
    assert_int_equal(x->reads, 2);
}

/* A read issued outside any callback, of bytes already here: not from
 * inside the call, from the next poll. */
static void test_api_wake_waits_for_poll(void **state)
{
    fx *x = *state;
    input_seg(x, A, "xy"); /* no read pending: nothing to call */
    th_poll(&x->h);
    assert_int_equal(x->reads, 0);
    start_read(x);
    assert_int_equal(x->reads, 0);
    assert_true(oasis_stack_next_deadline(x->h.s) <= th_now(&x->h));
    th_poll(&x->h);
    assert_int_equal(x->reads, 1);
    assert_memory_equal(x->rx, "xy", 2);
}

/* After the peer's FIN every read gets EOF at once; a callback that reads
 * again each time wakes its flow for ever. A poll runs 64 rounds of it and
 * returns; the rest waits a nanosecond (not for the same instant's poll). */
static void test_rewaking_callbacks_give_the_poll_back(void **state)
{
    fx *x = *state;
    x->reread_eof = 1;
    start_read(x);
    input_seg(x, A | OASIS_TCP_FIN, NULL);
    th_poll(&x->h);
    assert_int_equal(x->eofs, 64);
    th_poll(&x->h);
    assert_int_equal(x->eofs, 64);
    uint64_t next = oasis_stack_next_deadline(x->h.s);
    assert_true(next == th_now(&x->h) + 1);
    oasis_clock_set(x->h.clock, next);
    th_poll(&x->h);
    assert_int_equal(x->eofs, 128);
    assert_int_equal(x->max_depth, 1);
    x->reread_eof = 0;
    oasis_clock_set(x->h.clock, next + 1);
    th_poll(&x->h);
    assert_int_equal(x->eofs, 129);
    assert_true(oasis_stack_next_deadline(x->h.s) > next + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_runs_from_poll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_after_due_timers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_and_write_completion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_from_callback_not_nested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_from_read_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_completes_from_poll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_then_eof_in_one_poll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shut_read_from_read_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_wake_waits_for_poll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rewaking_callbacks_give_the_poll_back, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
