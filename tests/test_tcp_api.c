/* The flow API's robustness (issue 11 items 29-36, 42): keepalive
 * parameters and counter width, re-entrancy, exactly-once completions,
 * data before a reset or a death, use after close, bounded write requests
 * and send-buffer figures, shutdown, the words for a keepalive death, close
 * in SYN-SENT. One stack, a hand-played peer, virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tcp_harness.h"

#define PORT 80
#define A OASIS_TCP_ACK
#define F OASIS_TCP_FIN
#define S OASIS_TCP_SYN
#define R OASIS_TCP_RST
#define MS OASIS_NS_PER_MS
#define SEC OASIS_NS_PER_SEC

/* A regression of items 29 and 30 is an endless loop inside one call: the
 * watchdog turns it into a failure (SIGALRM kills the test) instead of a
 * hang. It bounds a loop, it does not time anything. */
#define WATCHDOG_S 300

typedef struct fx {
    tcp_harness h;
    th_app a;
    uint32_t iss, pnxt;
} fx;

static int setup_cfg(void **state, const oasis_tcp_config *cfg)
{
    fx *x = calloc(1, sizeof *x);
    th_init(&x->h, cfg);
    th_app_init(&x->a);
    *state = x;
    alarm(WATCHDOG_S);
    return 0;
}

static int setup(void **state) { return setup_cfg(state, NULL); }

static int teardown(void **state)
{
    fx *x = *state;
    th_fini(&x->h);
    th_app_fini(&x->a);
    free(x);
    alarm(0);
    return 0;
}

static void estab(fx *x)
{
    x->iss = th_open_passive(&x->h, &x->a, PORT, NULL);
    x->pnxt = TH_PISN + 1;
    th_clear(&x->h);
}

static void inject(fx *x, uint8_t flags, uint32_t seq, uint32_t ack, const void *data, size_t len)
{
    oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, flags, seq, ack);
    s.payload = data;
    s.payload_len = len;
    th_inject(&x->h, &s);
}

/* The peer sends n bytes in order. */
static void peer_data(fx *x, size_t n)
{
    static uint8_t buf[1000];
    while (n) {
        size_t k = n < sizeof buf ? n : sizeof buf;
        memset(buf, 'a' + (int)(x->pnxt % 26), k);
        inject(x, A, x->pnxt, x->iss + 1, buf, k);
        x->pnxt += (uint32_t)k;
        n -= k;
    }
}

static void keepalive_flow(fx *x, const oasis_keepalive *ka)
{
    oasis_listen_opts o = {.keepalive = ka};
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, &o, th_accept_cb, &x->a), 0);
    inject(x, S, TH_PISN, 0, NULL, 0);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    x->iss = r.seq;
    x->pnxt = TH_PISN + 1;
    inject(x, A, x->pnxt, x->iss + 1, NULL, 0);
    th_poll(&x->h);
    assert_non_null(x->a.flow);
    th_clear(&x->h);
}

/* ---- item 29: keepalive parameters and counter ----------------------------- */

static void nop_connect(oasis_stack *s, oasis_flow *f, int err, void *ud) {}
static void nop_accept(oasis_stack *s, oasis_flow *f, void *ud) {}

static void test_keepalive_parameters_validated(void **state)
{
    fx *x = *state;
    const oasis_keepalive bad[] = {
        {0, 0, 0},
        {SEC, 0, 3},  /* interval 0 */
        {SEC, SEC, 0}, /* probes 0 */
    };
    estab(x);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        oasis_listen_opts o = {.keepalive = &bad[i]};
        assert_int_equal(oasis_tcp_connect4(x->h.s, TH_PEER, 81, &bad[i], nop_connect, NULL),
                         OASIS_EINVAL);
        assert_int_equal(oasis_tcp_listen(x->h.s, 81, &o, nop_accept, NULL), OASIS_EINVAL);
        assert_int_equal(oasis_tcp_set_keepalive(x->a.flow, &bad[i]), OASIS_EINVAL);
    }
    assert_int_equal(th_ctr(&x->h)->active_opens, 0);
    assert_int_equal(oasis_tcp_unlisten(x->h.s, 81), OASIS_ENOENT);
    /* Sane values still go, NULL still turns keepalive off. */
    oasis_keepalive ok = {SEC, SEC, 1};
    assert_int_equal(oasis_tcp_set_keepalive(x->a.flow, &ok), 0);
    /* after 0: mirage-tcpip's probing from the start (test_mirage_tcp.c) */
    oasis_keepalive zero_idle = {0, SEC, 3};
    assert_int_equal(oasis_tcp_set_keepalive(x->a.flow, &zero_idle), 0);
    assert_int_equal(oasis_tcp_set_keepalive(x->a.flow, NULL), 0);
}

/* More probes than a 16-bit counter holds: every probe leaves at its own
 * time and the flow dies after exactly `probes` of them. With the counter
 * wrapping, the deadline fell into the past and oasis_stack_poll() never
 * returned. */
static void test_keepalive_counter_wide(void **state)
{
    fx *x = *state;
    const uint32_t probes = 65536 + 100;
    oasis_keepalive ka = {.after_ns = SEC, .interval_ns = MS, .probes = probes};
    keepalive_flow(x, &ka);
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    uint64_t t0 = th_now(&x->h);
    uint64_t sent = 0;
    /* Step a second at a time; each step must send ~1000 probes, no more. */
    for (uint64_t t = t0 + SEC; x->a.eof == 0 && t < t0 + 70 * SEC; t += SEC) {
        th_run_until(&x->h, t);
        size_t step = th_pending(&x->h);
        assert_true(step <= 1001);
        sent += step;
        th_clear(&x->h);
    }
    assert_int_equal(x->a.eof, 1);
    assert_int_equal(sent, probes);
    assert_int_equal(th_ctr(&x->h)->keepalive_probes, probes);
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), OASIS_ETIMEDOUT);
}

/* ---- item 30: re-entrancy --------------------------------------------------- */

typedef struct reent {
    tcp_harness *h;
    int reads[2];
    int poll_rc;
} reent;

static void reent_write_done(oasis_flow *f, int err, void *ud) {}

static void reent_read0(oasis_flow *f, int err, const uint8_t *d, size_t n, void *ud)
{
    reent *r = ud;
    r->reads[0]++;
    /* A completion due now arms the dispatcher again, then a nested poll. */
    assert_int_equal(oasis_tcp_write(f, "x", 1, reent_write_done, r), 0);
    r->poll_rc = oasis_stack_poll(r->h->s);
}

static void reent_read1(oasis_flow *f, int err, const uint8_t *d, size_t n, void *ud)
{
    reent *r = ud;
    r->reads[1]++;
}

static void test_poll_from_callback(void **state)
{
    fx *x = *state;
    estab(x);
    oasis_flow *first = x->a.flow;
    /* A second flow from another peer port. */
    oasis_tcp_hdr syn = th_seg(TH_PPORT + 1, PORT, S, 50, 0);
    th_inject(&x->h, &syn);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    oasis_tcp_hdr ack = th_seg(TH_PPORT + 1, PORT, A, 51, r.seq + 1);
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    oasis_flow *second = x->a.flow;
    assert_ptr_not_equal(first, second);

    reent re = {.h = &x->h};
    assert_int_equal(oasis_tcp_read(first, reent_read0, &re), 0);
    assert_int_equal(oasis_tcp_read(second, reent_read1, &re), 0);
    /* Both flows get data: both are in the same dispatch round. */
    inject(x, A, x->pnxt, x->iss + 1, "1", 1);
    oasis_tcp_hdr d = th_seg(TH_PPORT + 1, PORT, A, 51, r.seq + 1);
    d.payload = (const uint8_t *)"2";
    d.payload_len = 1;
    th_inject(&x->h, &d);
    th_poll(&x->h);
    assert_int_equal(re.reads[0], 1);
    assert_true(re.poll_rc >= 0);
    /* The second flow was not stranded by the nested poll. */
    assert_int_equal(re.reads[1], 1);
    oasis_tcp_release(first);
    oasis_tcp_release(second);
    th_poll(&x->h);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

typedef struct redial {
    oasis_stack *s;
    int calls, last_err, retry_rc;
} redial;

/* An application that reconnects whenever its attempt fails. */
static void redial_cb(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    redial *r = ud;
    r->calls++;
    r->last_err = err;
    if (err)
        r->retry_rc = oasis_tcp_connect4(s, TH_PEER, 9, NULL, redial_cb, r);
    else
        oasis_tcp_release(f);
}

static void test_disconnect_with_reconnecting_app(void **state)
{
    fx *x = *state;
    /* static: the last attempt outlives this function (teardown's destroy
     * calls it back) */
    static redial r;
    memset(&r, 0, sizeof r);
    r.s = x->h.s;
    assert_int_equal(oasis_tcp_connect4(x->h.s, TH_PEER, 9, NULL, redial_cb, &r), 0);
    th_poll(&x->h);
    oasis_tcp_disconnect(x->h.s); /* used to loop forever */
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.last_err, OASIS_ECANCELED);
    assert_int_equal(r.retry_rc, OASIS_ECANCELED);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
    /* Afterwards the layer takes new work again. */
    assert_int_equal(oasis_tcp_connect4(x->h.s, TH_PEER, 9, NULL, redial_cb, &r), 0);
    th_poll(&x->h);
    /* Destroying the stack (teardown) with that attempt pending ends too:
     * the callback's retry is refused again. */
}

/* ---- item 31: exactly once, none after close -------------------------------- */

typedef struct once {
    char log[64];
    int n;
    int reads_ok, reads_done, writes_ok, writes_done, eofs;
    int after_close_read, after_close_write;
    int closed;
} once;

static void note(once *o, char c)
{
    assert_true(o->n < (int)sizeof o->log - 1);
    o->log[o->n++] = c;
}

static void once_write_cb(oasis_flow *f, int err, void *ud)
{
    once *o = ud;
    note(o, 'W');
    o->writes_done++;
}

static void once_read_cb(oasis_flow *f, int err, const uint8_t *d, size_t n, void *ud)
{
    once *o = ud;
    note(o, err == OASIS_EOF ? 'E' : 'R');
    o->reads_done++;
    if (err != OASIS_EOF || ++o->eofs > 3)
        return;
    /* On each end-of-stream: read again and write once more. */
    if (oasis_tcp_read(f, once_read_cb, o) == 0)
        o->reads_ok++;
    if (oasis_tcp_write(f, "late", 4, once_write_cb, o) == 0)
        o->writes_ok++;
}

static void once_close_cb(oasis_flow *f, int err, void *ud)
{
    once *o = ud;
    note(o, 'C');
    o->closed++;
    /* From inside the close callback nothing is accepted any more. */
    o->after_close_read = oasis_tcp_read(f, once_read_cb, o);
    o->after_close_write = oasis_tcp_write(f, "x", 1, once_write_cb, o);
}

static void test_every_request_completes_once_before_close(void **state)
{
    fx *x = *state;
    estab(x);
    once o;
    memset(&o, 0, sizeof o);
    oasis_flow *f = x->a.flow;
    assert_int_equal(oasis_tcp_read(f, once_read_cb, &o), 0);
    o.reads_ok++;
    assert_int_equal(oasis_tcp_close(f, once_close_cb, &o), 0);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r)); /* our FIN */
    assert_true(r.flags & F);
    /* The peer acks our FIN and sends its own: close is complete at once
     * (TIME_WAIT), with reads pending. */
    inject(x, A | F, x->pnxt, x->iss + 2, NULL, 0);
    for (int i = 0; i < 8; i++)
        th_advance(&x->h, MS);
    assert_int_equal(o.closed, 1);
    assert_int_equal(o.reads_done, o.reads_ok);
    assert_int_equal(o.writes_done, o.writes_ok);
    assert_true(o.writes_ok > 0);
    assert_int_equal(o.log[o.n - 1], 'C'); /* nothing after the close callback */
    assert_int_equal(o.after_close_read, OASIS_ECLOSED);
    assert_int_equal(o.after_close_write, OASIS_ECLOSED);
    oasis_tcp_release(f);
}

/* ---- item 32: data before a reset or a death -------------------------------- */

static void test_data_before_rst_is_delivered(void **state)
{
    fx *x = *state;
    estab(x);
    peer_data(x, 1000);
    th_advance(&x->h, 100 * MS); /* acknowledged */
    oasis_tcp_hdr r;
    int acked = 0;
    while (th_pop(&x->h, &r))
        acked = r.ack == x->pnxt;
    assert_true(acked);
    inject(x, R, x->pnxt, 0, NULL, 0);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    th_poll(&x->h);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 1000);
    assert_int_equal(x->a.eof, 1);
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), OASIS_ERESET);
}

static void test_data_before_keepalive_death_is_delivered(void **state)
{
    fx *x = *state;
    oasis_keepalive ka = {.after_ns = 10 * SEC, .interval_ns = SEC, .probes = 3};
    keepalive_flow(x, &ka);
    peer_data(x, 1000);
    th_advance(&x->h, 20 * SEC); /* probes unanswered: dead */
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), OASIS_ETIMEDOUT);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    th_poll(&x->h);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 1000);
    assert_int_equal(x->a.eof, 1);
    /* item 36: the words say what happened */
    const char *why = oasis_tcp_flow_strerror(x->a.flow);
    assert_non_null(strstr(why, "keepalive"));
    assert_null(strstr(why, "attempt"));
}

static void test_connect_timeout_words(void **state)
{
    fx *x = *state;
    oasis_flow *f = NULL;
    assert_int_equal(oasis_tcp_connect_flow4(x->h.s, TH_PEER, 9, NULL, th_connect_cb, &x->a, &f), 0);
    th_advance(&x->h, 600 * SEC);
    assert_int_equal(x->a.connect_err, OASIS_ETIMEDOUT);
    assert_string_equal(oasis_tcp_flow_strerror(f), "connection attempt timed out");
    oasis_tcp_release(f);
}

/* ---- item 33: use after close ----------------------------------------------- */

static void keep_close_cb(oasis_flow *f, int err, void *ud)
{
    th_app *a = ud;
    a->closed++;
    a->close_err = err; /* keeps the handle: no release */
}

static void test_finished_handle_refuses_requests(void **state)
{
    fx *x = *state;
    estab(x);
    oasis_flow *f = x->a.flow;
    inject(x, R, x->pnxt, 0, NULL, 0);
    assert_int_equal(oasis_tcp_close(f, keep_close_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.closed, 1);
    /* The handle is finished, not freed: every request is an error. */
    assert_int_equal(th_ctr(&x->h)->flows, 1);
    assert_int_equal(oasis_tcp_write(f, "x", 1, th_write_cb, &x->a), OASIS_ECLOSED);
    assert_int_equal(oasis_tcp_read(f, th_read_cb, &x->a), OASIS_ECLOSED);
    assert_int_equal(oasis_tcp_close(f, keep_close_cb, &x->a), OASIS_ECLOSED);
    assert_int_equal(oasis_tcp_shutdown(f, OASIS_TCP_SHUT_WRITE), OASIS_ECLOSED);
    assert_int_equal(oasis_tcp_set_nodelay(f, 1), OASIS_ECLOSED);
    assert_int_equal(oasis_tcp_set_keepalive(f, NULL), OASIS_ECLOSED);
    oasis_tcp_abort(f); /* no-op */
    assert_int_equal(oasis_tcp_flow_error(f), OASIS_ERESET);
    oasis_tcp_info info;
    assert_int_equal(oasis_tcp_get_info(f, &info), 0);
    assert_int_equal(info.state, OASIS_TCP_CLOSED);
    th_poll(&x->h);
    assert_int_equal(x->a.writes_done, 0); /* refused: no callback, ever */
    assert_int_equal(x->a.reads, 0);
    assert_int_equal(x->a.closed, 1);
    oasis_tcp_release(f);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

static void test_aborted_handle_refuses_requests(void **state)
{
    fx *x = *state;
    estab(x);
    oasis_flow *f = x->a.flow;
    oasis_tcp_abort(f);
    assert_int_equal(oasis_tcp_write(f, "x", 1, th_write_cb, &x->a), OASIS_ECLOSED);
    assert_int_equal(oasis_tcp_read(f, th_read_cb, &x->a), OASIS_ECLOSED);
    assert_int_equal(oasis_tcp_flow_error(f), OASIS_ECANCELED);
    th_poll(&x->h);
    assert_int_equal(th_ctr(&x->h)->flows, 1);
    oasis_tcp_release(f);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
    /* Close with no callback: the stack lets go of the handle itself. */
    th_app b;
    th_app_init(&b);
    assert_int_equal(oasis_tcp_unlisten(x->h.s, PORT), 0);
    th_clear(&x->h);
    x->iss = th_open_passive(&x->h, &b, PORT, NULL);
    assert_int_equal(oasis_tcp_close(b.flow, NULL, NULL), 0);
    inject(x, A | F, TH_PISN + 1, x->iss + 2, NULL, 0);
    th_poll(&x->h);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
    th_app_fini(&b);
}

/* The usual application pattern "release the handle in its last callback"
 * must hold when the release itself started those callbacks: releasing an
 * open flow aborts it, the pending read completes with ECANCELED, and its
 * callback releases the handle again (found by fuzz_stack: the outer
 * release read the freed flow). ASan and valgrind_test_tcp_api see a
 * regression; the counters see a double free or a leak. */
static int released_in_cb;

static void release_in_read_cb(oasis_flow *f, int err, const uint8_t *d, size_t n, void *ud)
{
    (void)d, (void)n, (void)ud;
    assert_int_equal(err, OASIS_ECANCELED);
    released_in_cb++;
    oasis_tcp_release(f);
}

static void test_release_from_callback_of_release(void **state)
{
    fx *x = *state;
    estab(x);
    oasis_flow *f = x->a.flow;
    released_in_cb = 0;
    assert_int_equal(oasis_tcp_read(f, release_in_read_cb, NULL), 0);
    oasis_tcp_release(f);
    assert_int_equal(released_in_cb, 1);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
    x->a.flow = NULL;
}

/* Release from a callback that an abort runs: the abort is still
 * completing the flow's requests (the read first, then the writes, then
 * the close), and release must not return before the rest of them did:
 * after it returns the application frees what their user data points at,
 * so no callback may come for the flow any more (tcp.h: release aborts
 * "callbacks included"). The write was taken at once (its completion, 0,
 * waits for the next poll) and a close is pending. Before the fix the
 * outer abort ran the write and close callbacks after the release had
 * returned (found by fuzz_api). */
typedef struct after_release {
    int released;     /* oasis_tcp_release returned */
    int late;         /* callbacks after that */
    int writes, closes;
} after_release;

static void ar_read_cb(oasis_flow *f, int err, const uint8_t *d, size_t n, void *ud)
{
    after_release *ar = ud;
    (void)d, (void)n;
    assert_int_equal(err, OASIS_ECANCELED);
    oasis_tcp_release(f);
    ar->released = 1;
}

static void ar_write_cb(oasis_flow *f, int err, void *ud)
{
    after_release *ar = ud;
    (void)f;
    assert_int_equal(err, 0); /* taken before the abort: keeps its status */
    ar->late += ar->released;
    ar->writes++;
}

static void ar_close_cb(oasis_flow *f, int err, void *ud)
{
    after_release *ar = ud;
    (void)f;
    assert_int_equal(err, OASIS_ECANCELED);
    ar->late += ar->released;
    ar->closes++;
}

static void test_release_from_callback_of_abort(void **state)
{
    fx *x = *state;
    after_release ar = {0};
    estab(x);
    oasis_flow *f = x->a.flow;
    assert_int_equal(oasis_tcp_read(f, ar_read_cb, &ar), 0);
    assert_int_equal(oasis_tcp_write(f, "abc", 3, ar_write_cb, &ar), 0);
    assert_int_equal(oasis_tcp_close(f, ar_close_cb, &ar), 0);
    oasis_tcp_abort(f);
    assert_int_equal(ar.released, 1);
    assert_int_equal(ar.writes, 1);
    assert_int_equal(ar.closes, 1);
    assert_int_equal(ar.late, 0);
    th_poll(&x->h);
    assert_int_equal(ar.writes, 1);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
    x->a.flow = NULL;
}

/* ---- item 34: bounded write requests, send-buffer figures ------------------- */

static int setup_small(void **state)
{
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.max_write_reqs = 8;
    c.tcp.sndbuf = 16384;
    return setup_cfg(state, &c.tcp);
}

static void test_write_requests_bounded(void **state)
{
    fx *x = *state;
    estab(x);
    oasis_flow *f = x->a.flow;
    for (int i = 0; i < 8; i++)
        assert_int_equal(oasis_tcp_write(f, "y", 1, th_write_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_write(f, "y", 1, th_write_cb, &x->a), OASIS_EAGAIN);
    oasis_tcp_sndbuf sb;
    assert_int_equal(oasis_tcp_get_sndbuf(f, &sb), 0);
    assert_int_equal(sb.requests, 8);
    assert_int_equal(sb.max_requests, 8);
    th_poll(&x->h); /* completions run: room for requests again */
    assert_int_equal(x->a.writes_done, 8);
    assert_int_equal(oasis_tcp_write(f, "y", 1, th_write_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.writes_done, 9);
    assert_int_equal(x->a.write_err, 0);
}

/* A write that is misuse (a piece with no memory) is answered EINVAL also
 * when the request queue is full: EAGAIN would tell the caller to try the
 * same call again later (found by fuzz_api). */
static void test_write_misuse_before_eagain(void **state)
{
    fx *x = *state;
    estab(x);
    oasis_flow *f = x->a.flow;
    for (int i = 0; i < 8; i++)
        assert_int_equal(oasis_tcp_write(f, "y", 1, th_write_cb, &x->a), 0);
    oasis_iovec bad[2] = {{"y", 1}, {NULL, 5}};
    assert_int_equal(oasis_tcp_writev(f, bad, 2, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_writev_nodelay(f, bad, 2, th_write_cb, &x->a), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_write(f, NULL, 3, th_write_cb, &x->a), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_write_urgent(f, NULL, 3, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_write(f, "y", 1, th_write_cb, &x->a), OASIS_EAGAIN);
    th_poll(&x->h);
    assert_int_equal(x->a.writes_done, 8);
    assert_int_equal(x->a.write_err, 0);
}

static void test_sndbuf_figures(void **state)
{
    fx *x = *state;
    estab(x);
    oasis_flow *f = x->a.flow;
    static uint8_t big[20000];
    assert_int_equal(oasis_tcp_write(f, big, sizeof big, th_write_cb, &x->a), 0);
    /* What left, counted from the wire. */
    uint32_t sent = 0;
    oasis_tcp_hdr r;
    while (th_pop(&x->h, &r))
        sent += (uint32_t)r.payload_len;
    assert_true(sent > 0 && sent < 16384);
    oasis_tcp_sndbuf sb;
    assert_int_equal(oasis_tcp_get_sndbuf(f, &sb), 0);
    assert_int_equal(sb.size, 16384);
    assert_int_equal(sb.unacked, sent);
    assert_int_equal(sb.unsent, 16384 - sent);
    assert_int_equal(sb.room, 0);
    assert_int_equal(sb.pending, sizeof big - 16384);
    assert_int_equal(sb.requests, 1);
    /* The peer acks 1000 bytes: they leave the buffer, the request's rest
     * moves in. */
    inject(x, A, x->pnxt, x->iss + 1 + 1000, NULL, 0);
    th_clear(&x->h);
    assert_int_equal(oasis_tcp_get_sndbuf(f, &sb), 0);
    assert_int_equal(sb.pending, sizeof big - 16384 - 1000);
    assert_int_equal(sb.unacked + sb.unsent, 16384);
}

/* ---- item 35: shutdown ------------------------------------------------------- */

static void test_shutdown_write(void **state)
{
    fx *x = *state;
    estab(x);
    oasis_flow *f = x->a.flow;
    assert_int_equal(oasis_tcp_write(f, "abc", 3, th_write_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_shutdown(f, OASIS_TCP_SHUT_WRITE), 0);
    oasis_tcp_hdr r;
    uint32_t bytes = 0;
    int fin = 0;
    while (th_pop(&x->h, &r)) {
        bytes += (uint32_t)r.payload_len;
        fin |= (r.flags & F) != 0;
    }
    assert_int_equal(bytes, 3);
    assert_true(fin);
    /* Writing is over, reading goes on, the handle stays ours. */
    assert_int_equal(oasis_tcp_write(f, "d", 1, th_write_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.write_err, OASIS_ECLOSED);
    inject(x, A, x->pnxt, x->iss + 5, "more", 4);
    assert_int_equal(oasis_tcp_read(f, th_read_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 4);
    oasis_tcp_info info;
    oasis_tcp_get_info(f, &info);
    assert_int_equal(info.state, OASIS_TCP_FIN_WAIT_2);
    assert_int_equal(x->a.closed, 0);
    assert_int_equal(oasis_tcp_shutdown(f, 7), OASIS_EINVAL);
}

static void test_shutdown_read(void **state)
{
    fx *x = *state;
    estab(x);
    oasis_flow *f = x->a.flow;
    peer_data(x, 500);
    assert_int_equal(oasis_tcp_shutdown(f, OASIS_TCP_SHUT_READ), 0);
    assert_int_equal(oasis_tcp_read(f, th_read_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.eof, 1);
    assert_int_equal(x->a.rx_len, 0);
    /* Data that arrives now is acknowledged and dropped: the window stays
     * open. */
    peer_data(x, 3000);
    th_advance(&x->h, 100 * MS);
    oasis_tcp_info info;
    oasis_tcp_get_info(f, &info);
    assert_int_equal(info.rcv_wnd, 64u << 10); /* a tuned buffer's start size */
    assert_int_equal(oasis_tcp_read(f, th_read_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.eof, 2);
    /* Writing still works. */
    th_clear(&x->h);
    assert_int_equal(oasis_tcp_write(f, "ok", 2, th_write_cb, &x->a), 0);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.payload_len, 2);
    /* READ_WRITE: a FIN as well. */
    assert_int_equal(oasis_tcp_shutdown(f, OASIS_TCP_SHUT_READ_WRITE), 0);
    assert_true(th_pop(&x->h, &r));
    assert_true(r.flags & F);
}

/* ---- item 42: close in SYN-SENT ---------------------------------------------- */

static void test_close_in_syn_sent(void **state)
{
    fx *x = *state;
    oasis_flow *f = NULL;
    assert_int_equal(oasis_tcp_connect_flow4(x->h.s, TH_PEER, 9, NULL, th_connect_cb, &x->a, &f), 0);
    assert_non_null(f);
    oasis_tcp_hdr syn;
    assert_true(th_pop(&x->h, &syn));
    assert_int_equal(syn.flags, S);
    assert_int_equal(oasis_tcp_write(f, "q", 1, th_write_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_close(f, keep_close_cb, &x->a), 0);
    assert_int_equal(th_pending(&x->h), 0); /* the TCB goes; nothing is sent */
    th_poll(&x->h);
    assert_int_equal(x->a.connected, 1);
    assert_int_equal(x->a.connect_err, OASIS_ECANCELED);
    assert_int_equal(x->a.write_err, OASIS_ECLOSED);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(x->a.close_err, 0);
    /* A SYN-ACK that comes now finds no TCB: RST, never an ACK. */
    oasis_tcp_hdr sa = th_seg(9, syn.src_port, S | A, TH_PISN, syn.seq + 1);
    th_inject(&x->h, &sa);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, R);
    assert_int_equal(r.seq, syn.seq + 1);
    assert_int_equal(th_pending(&x->h), 0);
    oasis_tcp_release(f);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

/* The handle from connect_flow takes writes before the handshake: queued,
 * sent once ESTABLISHED. */
static void test_write_in_syn_sent_goes_after_handshake(void **state)
{
    fx *x = *state;
    oasis_flow *f = NULL;
    assert_int_equal(oasis_tcp_connect_flow4(x->h.s, TH_PEER, 9, NULL, th_connect_cb, &x->a, &f), 0);
    oasis_tcp_hdr syn;
    assert_true(th_pop(&x->h, &syn));
    assert_int_equal(oasis_tcp_write(f, "early", 5, th_write_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(th_pending(&x->h), 0); /* no data in SYN-SENT */
    oasis_tcp_hdr sa = th_seg(9, syn.src_port, S | A, TH_PISN, syn.seq + 1);
    th_inject(&x->h, &sa);
    th_poll(&x->h);
    assert_int_equal(x->a.connect_err, 0);
    assert_ptr_equal(x->a.flow, f);
    oasis_tcp_hdr r;
    uint32_t bytes = 0;
    while (th_pop(&x->h, &r))
        bytes += (uint32_t)r.payload_len;
    assert_int_equal(bytes, 5);
    assert_int_equal(x->a.writes_done, 1);
    oasis_tcp_release(f);
}

/* tcp.h, oasis_tcp_write: "When every byte fits in the send buffer and no
 * earlier write waits, the bytes are taken within the call (the buffer may
 * be reused at once)", and without a callback "write only what fits (its
 * room)". In SYN-SENT the writes were queued with the caller's pointer, not
 * taken: buffers reused after the call went out with the new bytes. */
static void test_write_in_syn_sent_that_fits_is_taken(void **state)
{
    fx *x = *state;
    oasis_flow *f = NULL;
    assert_int_equal(oasis_tcp_connect_flow4(x->h.s, TH_PEER, 9, NULL, th_connect_cb, &x->a, &f), 0);
    oasis_tcp_hdr syn;
    assert_true(th_pop(&x->h, &syn));
    oasis_tcp_sndbuf sb;
    assert_int_equal(oasis_tcp_get_sndbuf(f, &sb), 0);
    uint32_t room = sb.room;
    assert_true(room >= 10);
    char a[6] = "hello", b[6] = "world";
    assert_int_equal(oasis_tcp_write(f, a, 5, NULL, NULL), 0); /* fits its room, no callback */
    memcpy(a, "XXXXX", 5);
    oasis_iovec v[2] = {{b, 2}, {b + 2, 3}};
    assert_int_equal(oasis_tcp_writev(f, v, 2, th_write_cb, &x->a), 0);
    memcpy(b, "YYYYY", 5);
    assert_int_equal(oasis_tcp_get_sndbuf(f, &sb), 0);
    oasis_tcp_sndbuf held = sb;
    th_poll(&x->h);
    assert_int_equal(th_pending(&x->h), 0); /* still no data in SYN-SENT */
    oasis_tcp_hdr sa = th_seg(9, syn.src_port, S | A, TH_PISN, syn.seq + 1);
    th_inject(&x->h, &sa);
    th_poll(&x->h);
    assert_int_equal(x->a.connect_err, 0);
    oasis_tcp_hdr r;
    char got[16];
    size_t n = 0;
    while (th_pop(&x->h, &r)) {
        assert_true(n + r.payload_len <= sizeof got);
        memcpy(got + n, r.payload, r.payload_len);
        n += r.payload_len;
    }
    assert_int_equal(n, 10);
    assert_memory_equal(got, "helloworld", 10);
    assert_int_equal(held.pending, 0); /* taken in SYN-SENT... */
    assert_int_equal(held.room, room - 10); /* ...and the room says so */
    assert_int_equal(x->a.writes_done, 1);
    assert_int_equal(x->a.write_err, 0);
    oasis_tcp_release(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keepalive_parameters_validated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keepalive_counter_wide, setup, teardown),
        cmocka_unit_test_setup_teardown(test_poll_from_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disconnect_with_reconnecting_app, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_request_completes_once_before_close, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_data_before_rst_is_delivered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_before_keepalive_death_is_delivered, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_connect_timeout_words, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finished_handle_refuses_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aborted_handle_refuses_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_from_callback_of_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_from_callback_of_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_requests_bounded, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_write_misuse_before_eagain, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_sndbuf_figures, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_in_syn_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_in_syn_sent_goes_after_handshake, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_write_in_syn_sent_that_fits_is_taken, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
