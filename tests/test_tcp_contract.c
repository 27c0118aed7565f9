/* The public TCP API against the contract (docs: /work/shared/CONTRACT.md,
 * include/oasis/tcp.h), as an outside reviewer probes it: every misuse is
 * an error code (never a crash, a hang or a leak), writev with odd iovecs,
 * zero-length writes, close and shutdown twice, half-close, keepalive at
 * its limits, callbacks that call back into the API (also on other flows),
 * the IP layer's entry point, error words for any int. One stack, a
 * hand-played peer, virtual clock. */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "tcp_harness.h"
#include "testutil.h"

#define PORT 80
#define A OASIS_TCP_ACK
#define F OASIS_TCP_FIN
#define S OASIS_TCP_SYN
#define R OASIS_TCP_RST
#define MS OASIS_NS_PER_MS
#define SEC OASIS_NS_PER_SEC

/* A regression of the keepalive limits is an endless loop inside one poll:
 * the watchdog turns it into a failure instead of a hang. It bounds a
 * loop, it times nothing. */
#define WATCHDOG_S 300

typedef struct fx {
    tcp_harness h;
    th_app a;
    uint32_t iss, pnxt;
    uint8_t *got; /* bytes the peer received, in stream order */
    size_t got_len, got_cap;
    int fins;     /* FINs the peer saw */
} fx;

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    assert_non_null(x);
    th_init(&x->h, NULL);
    th_app_init(&x->a);
    *state = x;
    alarm(WATCHDOG_S);
    return 0;
}

static int teardown(void **state)
{
    fx *x = *state;
    th_fini(&x->h);
    th_app_fini(&x->a);
    free(x->got);
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

static void inject(fx *x, uint8_t flags, const void *data, size_t len)
{
    oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, flags, x->pnxt, x->iss + 1 + (uint32_t)x->got_len + (x->fins ? 1u : 0u));
    s.payload = data;
    s.payload_len = len;
    th_inject(&x->h, &s);
    x->pnxt += (uint32_t)len + ((flags & (F | S)) ? 1u : 0u);
}

/* The peer takes every segment the stack sent, in order, and acks it,
 * until the stack has nothing more to say. */
static void drain(fx *x)
{
    for (int round = 0; round < 100000; round++) {
        oasis_tcp_hdr r;
        int any = 0;
        th_poll(&x->h);
        while (th_pop(&x->h, &r)) {
            uint32_t off = r.seq - (x->iss + 1);
            if (r.payload_len && off == x->got_len)
                test_append(&x->got, &x->got_len, &x->got_cap, r.payload, r.payload_len);
            if ((r.flags & F) && off + r.payload_len == x->got_len && !x->fins)
                x->fins = 1;
            any = 1;
        }
        if (!any) {
            th_advance(&x->h, 250 * MS); /* Nagle, delayed things */
            if (!th_pending(&x->h))
                return;
            continue;
        }
        inject(x, A, NULL, 0);
    }
    fail_msg("the stack kept sending");
}

/* ---- misuse: NULL and out-of-range arguments ---------------------------------- */

static void nop_connect(oasis_stack *s, oasis_flow *f, int err, void *ud) { (void)s, (void)f, (void)err, (void)ud; }
static void nop_accept(oasis_stack *s, oasis_flow *f, void *ud) { (void)s, (void)f, (void)ud; }
static void nop_flow(oasis_flow *f, void *ud) { (void)f, (void)ud; }

static void test_null_arguments_refused(void **state)
{
    fx *x = *state;
    oasis_stack *s = x->h.s;
    oasis_ipaddr peer = oasis_ipaddr_v4(TH_PEER), zero;
    memset(&zero, 0, sizeof zero); /* no family at all */
    oasis_flow *fl = (oasis_flow *)&x; /* must be overwritten */

    assert_int_equal(oasis_tcp_connect(NULL, &peer, 9, NULL, nop_connect, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_connect(s, NULL, 9, NULL, nop_connect, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_connect(s, &zero, 9, NULL, nop_connect, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_connect(s, &peer, 9, NULL, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_connect(s, &peer, 0, NULL, nop_connect, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_connect_flow(s, &peer, 9, NULL, nop_connect, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_connect_flow(s, &peer, 0, NULL, nop_connect, NULL, &fl), OASIS_EINVAL);
    assert_null(fl); /* a refused connect leaves no stale handle */
    oasis_connect_opts co = {.bufs = {.sndbuf = 1}};
    assert_int_equal(oasis_tcp_connect_opts(s, &peer, 9, &co, nop_connect, NULL, NULL), OASIS_EINVAL);
    /* a tuned receive buffer's bound has the fixed sizes' floor: rcvbuf_max
     * 1 gave flows a 1-byte window, a segment per byte */
    co = (oasis_connect_opts){.bufs = {.rcvbuf_max = 1}};
    assert_int_equal(oasis_tcp_connect_opts(s, &peer, 9, &co, nop_connect, NULL, NULL), OASIS_EINVAL);
    co.bufs.rcvbuf_max = 1023;
    assert_int_equal(oasis_tcp_connect_opts(s, &peer, 9, &co, nop_connect, NULL, NULL), OASIS_EINVAL);
    oasis_listen_opts lb = {.bufs = {.rcvbuf_max = 5}};
    assert_int_equal(oasis_tcp_listen(s, PORT, &lb, nop_accept, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_connect4(s, 0, 9, NULL, nop_connect, NULL), OASIS_EBADDEST);

    assert_int_equal(oasis_tcp_listen(NULL, PORT, NULL, nop_accept, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_listen(s, PORT, NULL, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_listen(s, 0, NULL, nop_accept, NULL), OASIS_EINVAL);
    oasis_listen_opts lo = {.families = 4};
    assert_int_equal(oasis_tcp_listen(s, PORT, &lo, nop_accept, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_unlisten(NULL, PORT), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_unlisten(s, 0), OASIS_ENOENT);
    assert_int_equal(oasis_tcp_accept_pause(NULL, PORT), OASIS_ENOENT);
    assert_int_equal(oasis_tcp_accept_resume(NULL, PORT), OASIS_ENOENT);
    assert_null(oasis_tcp_accept(NULL, PORT));
    assert_int_equal(oasis_tcp_accept_waiting(NULL, PORT), 0);
    assert_int_equal(th_ctr(&x->h)->active_opens, 0);

    /* flow requests on NULL */
    oasis_iovec v = {"x", 1};
    assert_int_equal(oasis_tcp_read(NULL, th_read_cb, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_write(NULL, "x", 1, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_writev(NULL, &v, 1, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_write_nodelay(NULL, "x", 1, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_writev_nodelay(NULL, &v, 1, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_write_urgent(NULL, "x", 1, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_write_urgent(NULL, "x", 0, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_close(NULL, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_shutdown(NULL, OASIS_TCP_SHUT_WRITE), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_nodelay(NULL, 1), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_cc(NULL, OASIS_CC_CUBIC), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_bufsizes(NULL, 4096, 4096), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_dscp(NULL, 0), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_ttl(NULL, 64), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_keepalive(NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_event_cb(NULL, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_trim(NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_flow_error(NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_flow_soft_error(NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_urgent_pending(NULL), 0);
    oasis_tcp_info info;
    oasis_tcp_sndbuf sb;
    assert_int_equal(oasis_tcp_get_info(NULL, &info), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_get_sndbuf(NULL, &sb), OASIS_EINVAL);
    oasis_tcp_abort(NULL);
    oasis_tcp_release(NULL);
    oasis_flow_set_user_data(NULL, x);
    assert_null(oasis_flow_user_data(NULL));
    assert_null(oasis_flow_stack(NULL));
    oasis_ipaddr a;
    uint16_t p = 7;
    uint32_t a4 = 7;
    memset(&a, 0xff, sizeof a);
    oasis_tcp_dst(NULL, &a, &p);
    assert_memory_equal(&a, &zero, sizeof a);
    assert_int_equal(p, 0);
    p = 7;
    oasis_tcp_src4(NULL, &a4, &p);
    assert_int_equal(a4, 0);
    assert_int_equal(p, 0);
    oasis_tcp_foreach_flow(NULL, nop_flow, NULL);
    oasis_tcp_foreach_flow(s, NULL, NULL);
    oasis_tcp_disconnect(NULL);
    assert_non_null(oasis_tcp_flow_strerror(NULL));
    assert_string_equal(oasis_tcp_state_name((oasis_tcp_state)-1), "UNKNOWN");
    assert_string_equal(oasis_tcp_state_name((oasis_tcp_state)99), "UNKNOWN");

    /* ...and on a live flow, the arguments that are wrong */
    estab(x);
    oasis_flow *f = x->a.flow;
    assert_int_equal(oasis_tcp_read(f, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_write(f, NULL, 5, th_write_cb, &x->a), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_writev(f, NULL, 1, th_write_cb, &x->a), OASIS_EINVAL);
    oasis_iovec nb = {NULL, 3};
    assert_int_equal(oasis_tcp_writev(f, &nb, 1, th_write_cb, &x->a), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_writev_nodelay(f, &nb, 1, th_write_cb, &x->a), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_writev(f, &v, ((size_t)1 << 20) + 1, th_write_cb, &x->a), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_writev(f, &v, SIZE_MAX, th_write_cb, &x->a), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_write_urgent(f, "x", 0, th_write_cb, &x->a), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_shutdown(f, 0), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_shutdown(f, (oasis_tcp_shutdown_how)-1), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_cc(f, (oasis_cc_algo)77), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_bufsizes(f, 1023, 4096), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_bufsizes(f, 4096, (1u << 30) + 1), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_dscp(f, 64), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_get_info(f, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_get_sndbuf(f, NULL), OASIS_EINVAL);
    oasis_tcp_dst(f, NULL, NULL);
    oasis_tcp_src(f, NULL, NULL);
    oasis_tcp_dst4(f, NULL, NULL);
    th_poll(&x->h);
    assert_int_equal(x->a.writes_done, 0); /* refused: no callback, ever */
    assert_int_equal(th_pending(&x->h), 0);
    /* the flow is none the worse */
    assert_int_equal(oasis_tcp_write(f, "ok", 2, th_write_cb, &x->a), 0);
    drain(x);
    assert_int_equal(x->got_len, 2);
    assert_int_equal(x->a.writes_done, 1);
    assert_int_equal(x->a.write_err, 0);
}

/* dst and src: the remote and local address and port of both kinds of
 * flow. */
static void test_dst_src(void **state)
{
    fx *x = *state;
    estab(x);
    oasis_ipaddr a;
    uint16_t p;
    uint32_t a4;
    oasis_tcp_dst(x->a.flow, &a, &p);
    assert_int_equal(oasis_ipaddr_to_v4(&a), TH_PEER);
    assert_int_equal(p, TH_PPORT);
    oasis_tcp_src4(x->a.flow, &a4, &p);
    assert_int_equal(a4, TH_LOCAL);
    assert_int_equal(p, PORT);
    th_app b;
    th_app_init(&b);
    uint16_t lport;
    th_open_active(&x->h, &b, 9, &lport);
    oasis_tcp_dst4(b.flow, &a4, &p);
    assert_int_equal(a4, TH_PEER);
    assert_int_equal(p, 9);
    oasis_tcp_src(b.flow, &a, &p);
    assert_int_equal(oasis_ipaddr_to_v4(&a), TH_LOCAL);
    assert_int_equal(p, lport);
    assert_true(lport >= 49152);
    oasis_tcp_release(b.flow);
    th_app_fini(&b);
}

/* Every ephemeral port towards one (address, port) taken: the next
 * connect is refused with EADDRINUSE at once, another destination port
 * still goes, and a port given back is usable again. IPv6 on an IPv4-only
 * stack: ENOROUTE. */
static void test_ephemeral_ports_run_out(void **state)
{
    fx *x = *state;
    enum { N = 65536 - 49152 };
    oasis_flow **fl = calloc(N, sizeof *fl);
    assert_non_null(fl);
    for (int i = 0; i < N; i++) {
        assert_int_equal(oasis_tcp_connect_flow4(x->h.s, TH_PEER, 9, NULL, nop_connect, NULL, &fl[i]), 0);
        if (i % 1024 == 0)
            th_clear(&x->h);
    }
    oasis_flow *g = NULL;
    assert_int_equal(oasis_tcp_connect_flow4(x->h.s, TH_PEER, 9, NULL, nop_connect, NULL, &g),
                     OASIS_EADDRINUSE);
    assert_null(g);
    assert_int_equal(oasis_tcp_connect_flow4(x->h.s, TH_PEER, 10, NULL, nop_connect, NULL, &g), 0);
    oasis_tcp_release(g);
    oasis_tcp_release(fl[123]);
    assert_int_equal(oasis_tcp_connect_flow4(x->h.s, TH_PEER, 9, NULL, nop_connect, NULL, &fl[123]), 0);
    oasis_ipaddr v6;
    assert_int_equal(oasis_ipaddr_parse("2001:db8::1", &v6), 0);
    assert_int_equal(oasis_tcp_connect(x->h.s, &v6, 9, NULL, nop_connect, NULL), OASIS_ENOROUTE);
    for (int i = 0; i < N; i++)
        oasis_tcp_release(fl[i]);
    th_clear(&x->h);
    th_poll(&x->h);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
    free(fl);
}

/* ---- writes: zero length, odd iovecs, many iovecs, nodelay --------------------- */

static void test_zero_length_writes_complete(void **state)
{
    fx *x = *state;
    estab(x);
    oasis_flow *f = x->a.flow;
    oasis_iovec empty[3] = {{NULL, 0}, {"", 0}, {NULL, 0}};
    assert_int_equal(oasis_tcp_write(f, NULL, 0, th_write_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_write(f, "", 0, th_write_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_writev(f, NULL, 0, th_write_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_writev(f, empty, 3, th_write_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_write_nodelay(f, NULL, 0, th_write_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_writev_nodelay(f, empty, 3, th_write_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_write(f, NULL, 0, NULL, NULL), 0);
    assert_int_equal(x->a.writes_done, 0); /* never inside the call */
    th_poll(&x->h);
    assert_int_equal(x->a.writes_done, 6);
    assert_int_equal(x->a.write_err, 0);
    assert_int_equal(th_pending(&x->h), 0); /* nothing to send: no segment */
    oasis_tcp_sndbuf sb;
    assert_int_equal(oasis_tcp_get_sndbuf(f, &sb), 0);
    assert_int_equal(sb.requests, 0);
    /* The most iovecs a call takes, all empty: one completion. */
    oasis_iovec *many = calloc((size_t)1 << 20, sizeof *many);
    assert_non_null(many);
    assert_int_equal(oasis_tcp_writev(f, many, (size_t)1 << 20, th_write_cb, &x->a), 0);
    free(many);
    th_poll(&x->h);
    assert_int_equal(x->a.writes_done, 7);
    assert_int_equal(x->a.write_err, 0);
    assert_int_equal(th_pending(&x->h), 0);
    /* After close a zero-length write is closed too. */
    assert_int_equal(oasis_tcp_close(f, th_close_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_write(f, NULL, 0, th_write_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.writes_done, 8);
    assert_int_equal(x->a.write_err, OASIS_ECLOSED);
}

/* Empty and NULL-based empty iovecs among real ones: the bytes go out in
 * order, one completion per call. */
static void test_writev_mixed_iovecs_in_order(void **state)
{
    fx *x = *state;
    estab(x);
    oasis_flow *f = x->a.flow;
    oasis_iovec v[] = {{NULL, 0}, {"he", 2}, {"", 0}, {"llo", 3}, {NULL, 0}, {" ", 1}};
    oasis_iovec w[] = {{"wor", 3}, {NULL, 0}, {"ld", 2}};
    assert_int_equal(oasis_tcp_writev(f, v, sizeof v / sizeof v[0], th_write_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_writev_nodelay(f, w, 3, th_write_cb, &x->a), 0);
    drain(x);
    assert_int_equal(x->got_len, 11);
    assert_memory_equal(x->got, "hello world", 11);
    assert_int_equal(x->a.writes_done, 2);
    assert_int_equal(x->a.write_err, 0);
}

/* Many iovecs in one call (more than the send buffer holds bytes, so the
 * request is taken in pieces as the peer acks). */
static void test_writev_many_iovecs(void **state)
{
    fx *x = *state;
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.sndbuf = 4096;
    c.tcp.autotune = 0;
    th_fini(&x->h);
    th_init(&x->h, &c.tcp);
    estab(x);
    enum { N = 1 << 16 };
    oasis_iovec *v = calloc(N, sizeof *v);
    uint8_t *bytes = malloc(N);
    assert_non_null(v);
    assert_non_null(bytes);
    size_t want = 0;
    for (size_t i = 0; i < N; i++) {
        bytes[i] = (uint8_t)(i * 7 + i / 251);
        if (i % 3 == 0) {
            v[i].base = NULL; /* empty ones among them */
            v[i].len = 0;
        } else {
            v[i].base = &bytes[i];
            v[i].len = 1;
            want++;
        }
    }
    assert_int_equal(oasis_tcp_writev(x->a.flow, v, N, th_write_cb, &x->a), 0);
    free(v); /* the iov array itself is copied (tcp.h) */
    drain(x);
    assert_int_equal(x->a.writes_done, 1);
    assert_int_equal(x->a.write_err, 0);
    assert_int_equal(x->got_len, want);
    for (size_t i = 0, k = 0; i < N; i++)
        if (i % 3)
            assert_int_equal(x->got[k++], bytes[i]);
    free(bytes);
}

/* write_nodelay completes only once the peer has acknowledged it. */
static void test_writev_nodelay_waits_for_ack(void **state)
{
    fx *x = *state;
    estab(x);
    oasis_iovec v[] = {{"ab", 2}, {"cd", 2}};
    assert_int_equal(oasis_tcp_writev_nodelay(x->a.flow, v, 2, th_write_cb, &x->a), 0);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r)); /* at once, no Nagle */
    assert_int_equal(r.payload_len, 4);
    th_advance(&x->h, 100 * MS);
    assert_int_equal(x->a.writes_done, 0); /* taken, sent, not acked */
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, x->pnxt, x->iss + 1 + 2);
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    assert_int_equal(x->a.writes_done, 0); /* half of it */
    ack.ack = x->iss + 1 + 4;
    th_inject(&x->h, &ack);
    assert_int_equal(x->a.writes_done, 0); /* not inside input */
    th_poll(&x->h);
    assert_int_equal(x->a.writes_done, 1);
    assert_int_equal(x->a.write_err, 0);
}

/* Writes far larger than the send buffer or 32 bits: every byte is
 * counted, nothing wraps (a read-only mapping of zero pages stands in for
 * the caller's buffer; only what the ring takes is touched). */
static void test_huge_writes_counted(void **state)
{
    fx *x = *state;
    estab(x);
    oasis_flow *f = x->a.flow;
    const size_t G2 = (size_t)1 << 31;
    void *m = mmap(NULL, G2, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(m != MAP_FAILED);
    oasis_iovec v[4] = {{m, G2}, {m, G2}, {m, G2}, {m, G2}};
    assert_int_equal(oasis_tcp_writev(f, v, 4, th_write_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_write(f, m, ((size_t)1 << 32) + 5, th_write_cb, &x->a), 0);
    oasis_tcp_sndbuf sb;
    assert_int_equal(oasis_tcp_get_sndbuf(f, &sb), 0);
    assert_int_equal(sb.requests, 2);
    assert_true(sb.unsent + sb.unacked > 0);
    assert_int_equal(sb.pending + sb.unsent + sb.unacked, ((uint64_t)1 << 33) + ((uint64_t)1 << 32) + 5);
    /* the peer acks what came: more is taken, the sum still holds */
    uint32_t sent = 0;
    oasis_tcp_hdr r;
    while (th_pop(&x->h, &r))
        sent += (uint32_t)r.payload_len;
    assert_true(sent > 0);
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, x->pnxt, x->iss + 1 + sent);
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    assert_int_equal(oasis_tcp_get_sndbuf(f, &sb), 0);
    assert_int_equal(sb.pending + sb.unsent + sb.unacked, ((uint64_t)1 << 33) + ((uint64_t)1 << 32) + 5 - sent);
    assert_int_equal(x->a.writes_done, 0);
    oasis_tcp_abort(f);
    assert_int_equal(x->a.writes_done, 2);
    assert_int_equal(x->a.write_err, OASIS_ECANCELED);
    munmap(m, G2);
}

/* The send buffer's room is 0 once writing is over (tcp.h): after
 * shutdown(WRITE), after close, after a reset. */
static void test_sndbuf_room_zero_after_writing_ends(void **state)
{
    fx *x = *state;
    oasis_tcp_sndbuf sb;
    for (int how = 0; how < 3; how++) {
        th_app_init(&x->a);
        th_clear(&x->h);
        estab(x);
        oasis_flow *f = x->a.flow;
        assert_int_equal(oasis_tcp_get_sndbuf(f, &sb), 0);
        assert_true(sb.room > 0);
        if (how == 0)
            assert_int_equal(oasis_tcp_shutdown(f, OASIS_TCP_SHUT_WRITE), 0);
        else if (how == 1)
            assert_int_equal(oasis_tcp_close(f, th_close_cb, &x->a), 0);
        else
            inject(x, R, NULL, 0);
        assert_int_equal(oasis_tcp_get_sndbuf(f, &sb), 0);
        assert_int_equal(sb.room, 0);
        assert_int_equal(x->a.closed, 0);
        oasis_tcp_release(f);
        th_poll(&x->h);
        assert_int_equal(oasis_tcp_unlisten(x->h.s, PORT), 0);
        th_app_fini(&x->a);
    }
}

/* ---- close and shutdown, twice and together ------------------------------------- */

static void test_close_twice_busy(void **state)
{
    fx *x = *state;
    estab(x);
    oasis_flow *f = x->a.flow;
    assert_int_equal(oasis_tcp_close(f, th_close_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_close(f, th_close_cb, &x->a), OASIS_EBUSY);
    assert_int_equal(oasis_tcp_close(f, NULL, NULL), OASIS_EBUSY);
    drain(x);
    assert_int_equal(x->fins, 1);
    inject(x, A | F, NULL, 0);
    th_poll(&x->h);
    assert_int_equal(x->a.closed, 1); /* once */
    assert_int_equal(x->a.close_err, 0);
    th_advance(&x->h, SEC);
    assert_int_equal(x->a.closed, 1);
}

/* Half-close: after close the peer may still send and we still read; close
 * completes when the peer has closed too, after the reads. */
static void test_close_is_half_close(void **state)
{
    fx *x = *state;
    estab(x);
    oasis_flow *f = x->a.flow;
    assert_int_equal(oasis_tcp_close(f, th_close_cb, &x->a), 0);
    drain(x);
    assert_int_equal(x->fins, 1);
    assert_int_equal(x->a.closed, 0);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(f, th_read_cb, &x->a), 0);
    inject(x, A, "after our FIN", 13);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 13);
    assert_memory_equal(x->a.rx, "after our FIN", 13);
    assert_int_equal(x->a.closed, 0);
    inject(x, A | F, "!", 1);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 14);
    assert_int_equal(x->a.eof, 1);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(x->a.close_err, 0);
}

/* shutdown(WRITE) twice, then close: one FIN; close completes at the
 * peer's FIN. */
static void test_shutdown_twice_then_close(void **state)
{
    fx *x = *state;
    estab(x);
    oasis_flow *f = x->a.flow;
    assert_int_equal(oasis_tcp_write(f, "bye", 3, th_write_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_shutdown(f, OASIS_TCP_SHUT_WRITE), 0);
    assert_int_equal(oasis_tcp_shutdown(f, OASIS_TCP_SHUT_WRITE), 0);
    assert_int_equal(oasis_tcp_shutdown(f, OASIS_TCP_SHUT_READ_WRITE), 0);
    assert_int_equal(oasis_tcp_shutdown(f, OASIS_TCP_SHUT_READ), 0);
    drain(x);
    assert_int_equal(x->got_len, 3);
    assert_int_equal(x->fins, 1);
    assert_int_equal(th_ctr(&x->h)->out_segs > 0, 1);
    assert_int_equal(oasis_tcp_close(f, th_close_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(th_pending(&x->h), 0); /* no second FIN */
    assert_int_equal(x->a.closed, 0);
    inject(x, A | F, NULL, 0);
    th_poll(&x->h);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(x->a.close_err, 0);
    assert_int_equal(x->a.writes_done, 1);
    assert_int_equal(x->a.write_err, 0);
}

/* shutdown(WRITE) on a connect_flow handle before the handshake: the
 * queued bytes, then the FIN, once established. */
static void test_shutdown_write_in_syn_sent(void **state)
{
    fx *x = *state;
    oasis_flow *f = NULL;
    assert_int_equal(oasis_tcp_connect_flow4(x->h.s, TH_PEER, 9, NULL, th_connect_cb, &x->a, &f), 0);
    oasis_tcp_hdr syn;
    assert_true(th_pop(&x->h, &syn));
    assert_int_equal(oasis_tcp_write(f, "early", 5, th_write_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_shutdown(f, OASIS_TCP_SHUT_WRITE), 0);
    assert_int_equal(oasis_tcp_write(f, "late", 4, th_write_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(th_pending(&x->h), 0);
    assert_int_equal(x->a.writes_done, 1); /* the late one: closed */
    assert_int_equal(x->a.write_err, OASIS_ECLOSED);
    oasis_tcp_hdr sa = th_seg(9, syn.src_port, S | A, TH_PISN, syn.seq + 1);
    th_inject(&x->h, &sa);
    th_poll(&x->h);
    assert_int_equal(x->a.connect_err, 0);
    oasis_tcp_hdr r;
    uint32_t bytes = 0;
    int fin = 0;
    while (th_pop(&x->h, &r)) {
        assert_false(fin); /* nothing after the FIN */
        bytes += (uint32_t)r.payload_len;
        if (r.flags & F) {
            fin = 1;
            assert_int_equal(r.seq + r.payload_len, syn.seq + 1 + 5);
        }
    }
    assert_int_equal(bytes, 5);
    assert_true(fin);
    oasis_tcp_release(f);
}

/* close in SYN-SENT from a callback of the handle's own dispatch: the
 * read that shutdown(READ) ends at once closes the flow. tcp.h's order
 * holds as for a close from outside: the connect callback (OASIS_ECANCELED),
 * the queued write (OASIS_ECLOSED), then the close (0). */
typedef struct syn_close {
    char log[128];
    size_t n;
} syn_close;

static void syn_close_log(syn_close *c, const char *what, int err)
{
    c->n += (size_t)snprintf(c->log + c->n, sizeof c->log - c->n, "%s%s:%d", c->n ? " " : "", what, err);
}

static void syn_close_connect(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s, (void)f;
    syn_close_log(ud, "connect", err);
}

static void syn_close_write(oasis_flow *f, int err, void *ud)
{
    (void)f;
    syn_close_log(ud, "write", err);
}

static void syn_close_close(oasis_flow *f, int err, void *ud)
{
    (void)f;
    syn_close_log(ud, "close", err);
}

static void syn_close_write_closes(oasis_flow *f, int err, void *ud)
{
    syn_close_log(ud, "write", err);
    assert_int_equal(oasis_tcp_close(f, syn_close_close, ud), 0);
}

static void syn_close_read(oasis_flow *f, int err, const uint8_t *d, size_t n, void *ud)
{
    (void)d, (void)n;
    syn_close_log(ud, "read", err);
    assert_int_equal(oasis_tcp_close(f, syn_close_close, ud), 0);
}

static void test_close_in_syn_sent_from_own_callback(void **state)
{
    fx *x = *state;
    syn_close c = {{0}, 0};
    oasis_flow *f = NULL;
    assert_int_equal(oasis_tcp_connect_flow4(x->h.s, TH_PEER, 9, NULL, syn_close_connect, &c, &f), 0);
    oasis_tcp_hdr syn;
    assert_true(th_pop(&x->h, &syn)); /* never answered */
    assert_int_equal(oasis_tcp_write(f, "early", 5, syn_close_write, &c), 0);
    assert_int_equal(oasis_tcp_read(f, syn_close_read, &c), 0);
    assert_int_equal(oasis_tcp_shutdown(f, OASIS_TCP_SHUT_READ), 0);
    th_poll(&x->h);
    th_poll(&x->h);
    assert_string_equal(c.log, "read:-1 connect:-11 write:-4 close:0");
    assert_int_equal(th_pending(&x->h), 0); /* nothing to reset */
    oasis_tcp_release(f);

    /* the same from a write callback: a write after shutdown(WRITE) */
    c = (syn_close){{0}, 0};
    assert_int_equal(oasis_tcp_connect_flow4(x->h.s, TH_PEER, 9, NULL, syn_close_connect, &c, &f), 0);
    th_clear(&x->h);
    assert_int_equal(oasis_tcp_shutdown(f, OASIS_TCP_SHUT_WRITE), 0);
    assert_int_equal(oasis_tcp_write(f, "late", 4, syn_close_write_closes, &c), 0);
    th_poll(&x->h);
    th_poll(&x->h);
    assert_string_equal(c.log, "write:-4 connect:-11 close:0");
    oasis_tcp_release(f);
}

/* abort on a connect_flow handle in SYN-SENT: no RST (nothing to reset),
 * and every pending request (the connect itself, a queued write, a read)
 * completes before abort returns; the handle is finished. */
static void test_abort_in_syn_sent(void **state)
{
    fx *x = *state;
    oasis_flow *f = NULL;
    assert_int_equal(oasis_tcp_connect_flow4(x->h.s, TH_PEER, 9, NULL, th_connect_cb, &x->a, &f), 0);
    oasis_tcp_hdr syn;
    assert_true(th_pop(&x->h, &syn));
    assert_int_equal(oasis_tcp_write(f, "q", 1, th_write_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_read(f, th_read_cb, &x->a), 0);
    oasis_tcp_abort(f);
    assert_int_equal(x->a.connected, 1);
    assert_int_equal(x->a.connect_err, OASIS_ECANCELED);
    assert_int_equal(x->a.writes_done, 1);
    assert_int_equal(x->a.write_err, OASIS_ECANCELED);
    assert_int_equal(x->a.reads, 1);
    assert_int_equal(x->a.read_err, OASIS_ECANCELED);
    assert_int_equal(th_pending(&x->h), 0);
    assert_int_equal(oasis_tcp_write(f, "q", 1, th_write_cb, &x->a), OASIS_ECLOSED);
    assert_int_equal(oasis_tcp_flow_error(f), OASIS_ECANCELED);
    th_advance(&x->h, 10 * SEC);
    assert_int_equal(th_pending(&x->h), 0); /* no SYN retransmission */
    assert_int_equal(x->a.connected, 1);
    oasis_tcp_release(f);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

/* Setters on a connect_flow handle before the handshake (nodelay,
 * keepalive, trim) and urgent data queued there: nothing leaves before
 * ESTABLISHED, then the bytes, urgent, in order. */
static void test_setters_and_urgent_in_syn_sent(void **state)
{
    fx *x = *state;
    oasis_flow *f = NULL;
    assert_int_equal(oasis_tcp_connect_flow4(x->h.s, TH_PEER, 9, NULL, th_connect_cb, &x->a, &f), 0);
    oasis_tcp_hdr syn;
    assert_true(th_pop(&x->h, &syn));
    assert_int_equal(oasis_tcp_write(f, "ab", 2, th_write_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_write_urgent(f, "U", 1, th_write_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_set_nodelay(f, 1), 0);
    const oasis_keepalive ka = {.after_ns = SEC, .interval_ns = SEC, .probes = 2};
    assert_int_equal(oasis_tcp_set_keepalive(f, &ka), 0);
    assert_int_equal(oasis_tcp_trim(f), 0);
    th_poll(&x->h);
    assert_int_equal(th_pending(&x->h), 0); /* no data, no probe in SYN-SENT */
    oasis_tcp_hdr sa = th_seg(9, syn.src_port, S | A, TH_PISN, syn.seq + 1);
    th_inject(&x->h, &sa);
    th_poll(&x->h);
    assert_int_equal(x->a.connect_err, 0);
    oasis_tcp_hdr r;
    uint8_t got[8];
    size_t n = 0;
    int urg = 0;
    while (th_pop(&x->h, &r)) {
        assert_true(n + r.payload_len <= sizeof got);
        memcpy(got + n, r.payload, r.payload_len);
        n += r.payload_len;
        if (r.flags & OASIS_TCP_URG) {
            urg = 1;
            assert_int_equal(r.seq + r.urg, syn.seq + 1 + 3);
        }
    }
    assert_int_equal(n, 3);
    assert_memory_equal(got, "abU", 3);
    assert_true(urg);
    oasis_tcp_release(f);
}

/* ---- keepalive at its limits ------------------------------------------------------ */

static void test_keepalive_largest_values(void **state)
{
    fx *x = *state;
    const oasis_keepalive big = {UINT64_MAX, UINT64_MAX, UINT32_MAX};
    oasis_listen_opts o = {.keepalive = &big};
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, &o, th_accept_cb, &x->a), 0);
    x->pnxt = TH_PISN;
    inject(x, S, NULL, 0);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    x->iss = r.seq;
    inject(x, A, NULL, 0);
    th_poll(&x->h);
    assert_non_null(x->a.flow);
    th_app b;
    th_app_init(&b);
    uint16_t lport;
    th_open_active(&x->h, &b, 9, &lport);
    assert_int_equal(oasis_tcp_set_keepalive(b.flow, &big), 0);
    th_clear(&x->h);
    /* The idle time is as good as for ever: no probe, no death, and each
     * poll returns. */
    for (int i = 0; i < 10; i++)
        th_advance(&x->h, 1000 * SEC);
    assert_int_equal(th_ctr(&x->h)->keepalive_probes, 0);
    assert_int_equal(th_pending(&x->h), 0);
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), 0);
    assert_int_equal(oasis_tcp_flow_error(b.flow), 0);
    /* connect takes them too */
    th_app c;
    th_app_init(&c);
    oasis_flow *fc;
    assert_int_equal(oasis_tcp_connect_flow4(x->h.s, TH_PEER, 10, &big, th_connect_cb, &c, &fc), 0);
    th_advance(&x->h, SEC);
    assert_int_equal(th_ctr(&x->h)->keepalive_probes, 0);
    oasis_tcp_release(fc);
    assert_int_equal(c.connect_err, OASIS_ECANCELED);
    oasis_tcp_release(b.flow);
    th_app_fini(&b);
    th_app_fini(&c);
}

/* The stack's TCP durations at UINT64_MAX: as good as never, not a
 * deadline wrapped into the past. A closing flow waits in FIN_WAIT_2 for
 * the peer's FIN, then stays in TIME_WAIT; nothing times out. (The
 * delayed ACK has its own bound: test_config_delack_bound.) */
static void test_config_durations_largest(void **state)
{
    fx *x = *state;
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.msl_ns = UINT64_MAX;
    c.tcp.fin_wait2_ns = UINT64_MAX;
    c.tcp.rto_max_ns = UINT64_MAX;
    th_fini(&x->h);
    th_init(&x->h, &c.tcp);
    estab(x);
    assert_int_equal(oasis_tcp_close(x->a.flow, th_close_cb, &x->a), 0);
    drain(x); /* our FIN, acked: FIN_WAIT_2 */
    assert_int_equal(x->fins, 1);
    th_advance(&x->h, 10000 * SEC);
    assert_int_equal(x->a.closed, 0);
    inject(x, A | F, NULL, 0);
    th_poll(&x->h);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(x->a.close_err, 0);
    th_advance(&x->h, 10000 * SEC);
    assert_int_equal(th_ctr(&x->h)->time_wait, 1);
}

/* RFC 1122 4.2.3.2: the delay of an ACK "MUST be less than 0.5 seconds":
 * a delayed-ACK timer of 500 ms or more is refused, 499 ms taken. */
static void test_config_delack_bound(void **state)
{
    (void)state;
    oasis_clock *clk = oasis_clock_new_virtual(0);
    oasis_stack_config c;
    oasis_stack *s = NULL;
    uint64_t bad[] = {500 * OASIS_NS_PER_MS, SEC, UINT64_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        oasis_stack_config_init(&c);
        c.clock = clk;
        c.tcp.delack_ns = bad[i];
        assert_int_equal(oasis_stack_create(&c, &s), OASIS_EINVAL);
        assert_null(s);
    }
    oasis_stack_config_init(&c);
    c.clock = clk;
    c.tcp.delack_ns = 499 * OASIS_NS_PER_MS;
    assert_int_equal(oasis_stack_create(&c, &s), 0);
    assert_int_equal(oasis_stack_destroy(s), 0);
    oasis_clock_free(clk);
}

/* listen's keepalive is applied before the accept callback runs: what
 * the callback sets is what the flow keeps (off here: no probe ever;
 * shorter there: the first probe at the callback's idle time). */
static const oasis_keepalive short_ka = {.after_ns = 5 * SEC, .interval_ns = SEC, .probes = 3};

static void keepalive_in_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    th_app *a = ud;
    (void)s;
    a->flow = f;
    a->accepted++;
    assert_int_equal(oasis_tcp_set_keepalive(f, a->accepted == 1 ? NULL : &short_ka), 0);
}

static void test_listen_keepalive_before_accept_callback(void **state)
{
    fx *x = *state;
    const oasis_keepalive ka = {.after_ns = 10 * SEC, .interval_ns = SEC, .probes = 3};
    oasis_listen_opts o = {.keepalive = &ka};
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, &o, keepalive_in_accept, &x->a), 0);
    x->pnxt = TH_PISN;
    inject(x, S, NULL, 0);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    x->iss = r.seq;
    inject(x, A, NULL, 0);
    th_poll(&x->h);
    assert_int_equal(x->a.accepted, 1);
    th_advance(&x->h, 100 * SEC);
    assert_int_equal(th_ctr(&x->h)->keepalive_probes, 0);
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), 0);
    oasis_tcp_release(x->a.flow);
    /* a second connection: the callback's shorter idle time wins */
    oasis_tcp_hdr syn = th_seg(TH_PPORT + 1, PORT, S, 500, 0);
    th_poll(&x->h); /* the RST (ARP aged out meanwhile) */
    th_clear(&x->h);
    th_inject(&x->h, &syn);
    assert_true(th_pop(&x->h, &r));
    oasis_tcp_hdr ack = th_seg(TH_PPORT + 1, PORT, A, 501, r.seq + 1);
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    assert_int_equal(x->a.accepted, 2);
    th_advance(&x->h, 5 * SEC + 1);
    assert_int_equal(th_ctr(&x->h)->keepalive_probes, 1);
}

/* The smallest keepalive: a silent peer is dead after `probes` probes, one
 * nanosecond apart; read then reports end-of-stream, write Closed. */
static void test_keepalive_smallest_values(void **state)
{
    fx *x = *state;
    estab(x);
    oasis_flow *f = x->a.flow;
    const oasis_keepalive tiny = {1, 1, 1};
    assert_int_equal(oasis_tcp_set_keepalive(f, &tiny), 0);
    th_advance(&x->h, MS);
    assert_int_equal(th_ctr(&x->h)->keepalive_probes, 1);
    assert_int_equal(oasis_tcp_flow_error(f), OASIS_ETIMEDOUT);
    assert_int_equal(oasis_tcp_read(f, th_read_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_write(f, "x", 1, th_write_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_write_nodelay(f, "y", 1, th_write_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.eof, 1);
    assert_int_equal(x->a.writes_done, 2);
    assert_int_equal(x->a.write_err, OASIS_ECLOSED);
    assert_int_equal(oasis_tcp_close(f, th_close_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(x->a.close_err, OASIS_ETIMEDOUT);
}

/* Keepalive goes on after our FIN: with no FIN_WAIT_2 bound
 * (fin_wait2_ns 0) it is what finds a peer that vanished after acking our
 * FIN; close then completes with ETIMEDOUT. */
static void test_keepalive_in_fin_wait_2(void **state)
{
    fx *x = *state;
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.fin_wait2_ns = 0;
    th_fini(&x->h);
    th_init(&x->h, &c.tcp);
    estab(x);
    oasis_flow *f = x->a.flow;
    const oasis_keepalive ka = {.after_ns = 60 * SEC, .interval_ns = 10 * SEC, .probes = 3};
    assert_int_equal(oasis_tcp_set_keepalive(f, &ka), 0);
    assert_int_equal(oasis_tcp_close(f, th_close_cb, &x->a), 0);
    drain(x); /* our FIN, acked */
    assert_int_equal(x->fins, 1);
    th_advance(&x->h, 59 * SEC);
    assert_int_equal(th_ctr(&x->h)->keepalive_probes, 0);
    assert_int_equal(x->a.closed, 0);
    th_advance(&x->h, 100 * SEC);
    assert_int_equal(th_ctr(&x->h)->keepalive_probes, 3);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(x->a.close_err, OASIS_ETIMEDOUT);
}

/* write_nodelay then close: the write completes (at the ack of its bytes)
 * before the close does. */
typedef struct wlog {
    char log[8];
    int n;
} wlog;

static void order_write(oasis_flow *f, int err, void *ud)
{
    wlog *o = ud;
    (void)f;
    assert_int_equal(err, 0);
    o->log[o->n++] = 'W';
}

static void order_close(oasis_flow *f, int err, void *ud)
{
    wlog *o = ud;
    assert_int_equal(err, 0);
    o->log[o->n++] = 'C';
    oasis_tcp_release(f);
}

static void test_nodelay_write_completes_before_close(void **state)
{
    fx *x = *state;
    estab(x);
    wlog o = {{0}, 0};
    assert_int_equal(oasis_tcp_write_nodelay(x->a.flow, "last", 4, order_write, &o), 0);
    assert_int_equal(oasis_tcp_close(x->a.flow, order_close, &o), 0);
    oasis_tcp_hdr r;
    uint32_t end = 0;
    while (th_pop(&x->h, &r))
        end = r.seq + (uint32_t)r.payload_len + ((r.flags & F) ? 1u : 0u);
    assert_int_equal(end, x->iss + 1 + 4 + 1); /* data and FIN */
    assert_int_equal(o.n, 0);
    /* the peer acks everything and closes in one segment */
    oasis_tcp_hdr fin = th_seg(TH_PPORT, PORT, A | F, x->pnxt, end);
    th_inject(&x->h, &fin);
    th_poll(&x->h);
    th_poll(&x->h);
    assert_int_equal(o.n, 2);
    assert_memory_equal(o.log, "WC", 2);
    x->a.flow = NULL;
}

/* ---- callbacks that call back into the API ---------------------------------------- */

typedef struct chain {
    fx *x;
    oasis_flow *other;
    int writes, closes, reads, accepts;
    int rc;
} chain;

/* Each write's completion writes the next piece, the last one closes. */
static void chain_close_cb(oasis_flow *f, int err, void *ud)
{
    chain *c = ud;
    c->closes++;
    assert_int_equal(err, 0);
    oasis_tcp_release(f);
}

static void chain_write_cb(oasis_flow *f, int err, void *ud)
{
    chain *c = ud;
    assert_int_equal(err, 0);
    char piece = (char)('a' + c->writes++);
    if (c->writes < 10)
        assert_int_equal(oasis_tcp_write(f, &piece, 1, chain_write_cb, c), 0);
    else
        assert_int_equal(oasis_tcp_close(f, chain_close_cb, c), 0);
}

static void test_write_and_close_from_write_callback(void **state)
{
    fx *x = *state;
    estab(x);
    chain c = {.x = x};
    assert_int_equal(oasis_tcp_write(x->a.flow, "", 0, chain_write_cb, &c), 0);
    drain(x);
    assert_int_equal(c.writes, 10);
    assert_int_equal(x->got_len, 9);
    assert_memory_equal(x->got, "abcdefghi", 9);
    assert_int_equal(x->fins, 1);
    inject(x, A | F, NULL, 0);
    th_poll(&x->h);
    assert_int_equal(c.closes, 1);
    x->a.flow = NULL;
}

/* A read callback releases ANOTHER flow that is due in the same dispatch
 * round (its read pending, its data in): that flow's read completes once,
 * canceled, inside the release, and the round does not touch it again. */
static void release_other_in_read(oasis_flow *f, int err, const uint8_t *d, size_t n, void *ud)
{
    chain *c = ud;
    (void)f, (void)err, (void)d, (void)n;
    c->reads++;
    if (c->other) {
        oasis_tcp_release(c->other);
        c->other = NULL;
    }
}

static void count_read(oasis_flow *f, int err, const uint8_t *d, size_t n, void *ud)
{
    chain *c = ud;
    (void)f, (void)d, (void)n;
    c->reads += 100;
    c->rc = err;
}

static oasis_flow *second_flow(fx *x, uint32_t *iss2)
{
    oasis_tcp_hdr s = th_seg(TH_PPORT + 1, PORT, S, 50, 0);
    th_inject(&x->h, &s);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    *iss2 = r.seq;
    oasis_tcp_hdr ack = th_seg(TH_PPORT + 1, PORT, A, 51, r.seq + 1);
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    return x->a.flow;
}

static void test_release_other_flow_from_callback(void **state)
{
    fx *x = *state;
    estab(x);
    oasis_flow *first = x->a.flow;
    uint32_t iss2;
    oasis_flow *second = second_flow(x, &iss2);
    assert_ptr_not_equal(first, second);
    for (int order = 0; order < 2; order++) {
        chain c = {.x = x};
        oasis_flow *a = order ? second : first, *b = order ? first : second;
        c.other = b;
        assert_int_equal(oasis_tcp_read(a, release_other_in_read, &c), 0);
        assert_int_equal(oasis_tcp_read(b, count_read, &c), 0);
        inject(x, A, "1", 1);
        oasis_tcp_hdr d = th_seg(TH_PPORT + 1, PORT, A, 51, iss2 + 1);
        d.payload = (const uint8_t *)"2";
        d.payload_len = 1;
        th_inject(&x->h, &d);
        th_poll(&x->h);
        th_poll(&x->h);
        /* b completed at most once; if it ran before a it had its data,
         * else it was canceled */
        if (c.reads >= 100) {
            assert_int_equal(c.reads, 101);
            assert_true(c.rc == 0 || c.rc == OASIS_ECANCELED);
        } else {
            assert_int_equal(c.reads, 1);
        }
        oasis_tcp_release(a);
        /* a new pair for the other order */
        if (!order) {
            th_clear(&x->h);
            assert_int_equal(oasis_tcp_unlisten(x->h.s, PORT), 0);
            x->a.accepted = 0;
            estab(x);
            first = x->a.flow;
            second = second_flow(x, &iss2);
        }
    }
    th_poll(&x->h);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

/* Two peers (TH_PPORT, TH_PPORT + 1) complete their handshakes with PORT
 * before the stack polls, so both accept callbacks fall due in one round;
 * then the round runs. */
static void two_handshakes(fx *x)
{
    uint32_t iss[2];
    for (int i = 0; i < 2; i++) {
        oasis_tcp_hdr s = th_seg((uint16_t)(TH_PPORT + i), PORT, S, 100, 0);
        th_inject(&x->h, &s);
        oasis_tcp_hdr r;
        assert_true(th_pop(&x->h, &r));
        iss[i] = r.seq;
    }
    for (int i = 0; i < 2; i++) {
        oasis_tcp_hdr ack = th_seg((uint16_t)(TH_PPORT + i), PORT, A, 101, iss[i] + 1);
        th_inject(&x->h, &ack);
    }
    th_poll(&x->h);
    th_poll(&x->h);
}

/* The accept callback unlistens, listens on another port and closes the
 * flow it was handed; a second flow established in the same round still
 * reaches the application (it was established), the half-open one is
 * reset. */
static void unlisten_in_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    chain *c = ud;
    c->accepts++;
    if (c->accepts == 1) {
        assert_int_equal(oasis_tcp_unlisten(s, PORT), 0);
        assert_int_equal(oasis_tcp_unlisten(s, PORT), OASIS_ENOENT);
        assert_int_equal(oasis_tcp_listen(s, PORT + 1, NULL, unlisten_in_accept, c), 0);
        assert_int_equal(oasis_tcp_close(f, NULL, NULL), 0);
    } else {
        c->other = f;
    }
}

static void test_unlisten_from_accept_callback(void **state)
{
    fx *x = *state;
    chain c = {.x = x};
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, unlisten_in_accept, &c), 0);
    two_handshakes(x);
    assert_int_equal(c.accepts, 2);
    assert_non_null(c.other);
    /* the new listener works */
    oasis_tcp_hdr s = th_seg(TH_PPORT + 5, PORT + 1, S, 100, 0);
    th_clear(&x->h);
    th_inject(&x->h, &s);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, S | A);
    oasis_tcp_release(c.other);
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
}

/* The first of two accept callbacks due in one round tears the TCP layer
 * down: the second flow, never handed over, goes quietly; the first
 * handle is finished and still the application's. */
static void disconnect_in_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    chain *c = ud;
    c->accepts++;
    c->other = f;
    oasis_tcp_disconnect(s);
    assert_int_equal(oasis_tcp_flow_error(f), OASIS_ECANCELED);
    /* over: the layer takes new work again */
    assert_int_equal(oasis_tcp_listen(s, PORT + 1, NULL, disconnect_in_accept, c), 0);
}

static void test_disconnect_from_accept_callback(void **state)
{
    fx *x = *state;
    chain c = {.x = x};
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, disconnect_in_accept, &c), 0);
    two_handshakes(x);
    assert_int_equal(c.accepts, 1);
    assert_int_equal(th_ctr(&x->h)->flows, 1); /* the handed one, finished */
    assert_int_equal(oasis_tcp_write(c.other, "x", 1, NULL, NULL), OASIS_ECLOSED);
    oasis_tcp_release(c.other);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
    int rst = 0;
    oasis_tcp_hdr r;
    while (th_pop(&x->h, &r))
        rst += (r.flags & R) != 0;
    assert_int_equal(rst, 2);
    /* and the layer listens again */
    assert_int_equal(oasis_tcp_unlisten(x->h.s, PORT + 1), 0);
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
}

/* The report routine releases its flow while a read is due in the same
 * round (data in, read pending): the read completes once, canceled,
 * inside the release, and the round does not come back to it. */
static int event_reads;

static void release_on_event(oasis_flow *f, oasis_tcp_event ev, void *ud)
{
    (void)ev, (void)ud;
    oasis_tcp_release(f);
}

static void event_read(oasis_flow *f, int err, const uint8_t *d, size_t n, void *ud)
{
    (void)f, (void)d, (void)n, (void)ud;
    event_reads++;
    assert_int_equal(err, OASIS_ECANCELED);
}

static void test_release_from_event_callback(void **state)
{
    fx *x = *state;
    estab(x);
    oasis_flow *f = x->a.flow;
    event_reads = 0;
    assert_int_equal(oasis_tcp_set_event_cb(f, release_on_event, NULL), 0);
    assert_int_equal(oasis_tcp_read(f, event_read, NULL), 0);
    assert_int_equal(oasis_tcp_write(f, "lost", 4, NULL, NULL), 0);
    /* The peer never acks ours: the third retransmission (cfg.r1_retries)
     * brings the report. Just before its timer fires the peer's data
     * arrives, so one poll has both the report and the read due. */
    th_clear(&x->h);
    while (th_ctr(&x->h)->timeouts < 2) {
        oasis_clock_set(x->h.clock, oasis_stack_next_deadline(x->h.s));
        th_poll(&x->h);
    }
    assert_int_equal(event_reads, 0);
    oasis_tcp_hdr d = th_seg(TH_PPORT, PORT, A, x->pnxt, x->iss + 1);
    d.payload = (const uint8_t *)"z";
    d.payload_len = 1;
    th_inject(&x->h, &d);
    uint64_t due = oasis_stack_next_deadline(x->h.s); /* now: the read */
    assert_int_equal(due, th_now(&x->h));
    /* the RTO's deadline: look past the dispatch's mark */
    oasis_clock_set(x->h.clock, th_now(&x->h) + 60 * SEC);
    oasis_stack_poll(x->h.s);
    assert_true(th_ctr(&x->h)->timeouts >= 3);
    th_poll(&x->h);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
    assert_int_equal(event_reads, 1);
    x->a.flow = NULL;
}

/* resume, then oasis_tcp_accept before the next poll: the flow taken by
 * hand never reaches the callback; the other waiting one does, once. */
typedef struct acc2 {
    oasis_flow *got[4];
    int n;
} acc2;

static void acc2_cb(oasis_stack *s, oasis_flow *f, void *ud)
{
    acc2 *a = ud;
    (void)s;
    assert_true(a->n < 4);
    a->got[a->n++] = f;
}

static void test_accept_by_hand_after_resume(void **state)
{
    fx *x = *state;
    acc2 a = {{NULL}, 0};
    oasis_listen_opts o = {.paused = 1};
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, &o, acc2_cb, &a), 0);
    for (int i = 0; i < 2; i++) {
        oasis_tcp_hdr s = th_seg((uint16_t)(TH_PPORT + i), PORT, S, 100, 0);
        th_inject(&x->h, &s);
        oasis_tcp_hdr r;
        assert_true(th_pop(&x->h, &r));
        oasis_tcp_hdr ack = th_seg((uint16_t)(TH_PPORT + i), PORT, A, 101, r.seq + 1);
        th_inject(&x->h, &ack);
        th_poll(&x->h);
    }
    assert_int_equal(oasis_tcp_accept_waiting(x->h.s, PORT), 2);
    assert_int_equal(oasis_tcp_accept_resume(x->h.s, PORT), 0);
    oasis_flow *mine = oasis_tcp_accept(x->h.s, PORT);
    assert_non_null(mine);
    uint16_t p;
    oasis_tcp_dst(mine, NULL, &p);
    assert_int_equal(p, TH_PPORT); /* the oldest */
    th_poll(&x->h);
    th_poll(&x->h);
    assert_int_equal(a.n, 1);
    assert_ptr_not_equal(a.got[0], mine);
    oasis_tcp_dst(a.got[0], NULL, &p);
    assert_int_equal(p, TH_PPORT + 1);
    assert_int_equal(oasis_tcp_accept_waiting(x->h.s, PORT), 0);
    assert_null(oasis_tcp_accept(x->h.s, PORT));
    oasis_tcp_release(mine);
    oasis_tcp_release(a.got[0]);
    th_poll(&x->h);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

/* A connect callback aborts its flow; an accept callback releases it. */
static void abort_in_connect(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    chain *c = ud;
    (void)s;
    c->rc = err;
    c->accepts++;
    if (!err)
        oasis_tcp_release(f);
}

static void release_in_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    chain *c = ud;
    (void)s;
    c->accepts++;
    oasis_tcp_release(f);
}

static void test_release_from_open_callbacks(void **state)
{
    fx *x = *state;
    chain c = {.x = x};
    assert_int_equal(oasis_tcp_connect4(x->h.s, TH_PEER, 9, NULL, abort_in_connect, &c), 0);
    oasis_tcp_hdr syn;
    assert_true(th_pop(&x->h, &syn));
    oasis_tcp_hdr sa = th_seg(9, syn.src_port, S | A, TH_PISN, syn.seq + 1);
    th_inject(&x->h, &sa);
    th_poll(&x->h);
    assert_int_equal(c.accepts, 1);
    assert_int_equal(c.rc, 0);
    oasis_tcp_hdr r;
    int rst = 0;
    while (th_pop(&x->h, &r))
        rst |= (r.flags & R) != 0;
    assert_true(rst);
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, release_in_accept, &c), 0);
    x->pnxt = TH_PISN;
    inject(x, S, NULL, 0);
    assert_true(th_pop(&x->h, &r));
    x->iss = r.seq;
    inject(x, A, NULL, 0);
    th_poll(&x->h);
    assert_int_equal(c.accepts, 2);
    rst = 0;
    while (th_pop(&x->h, &r))
        rst |= (r.flags & R) != 0;
    assert_true(rst);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

/* Three writes complete in one round; the first one's callback aborts
 * (then, in the second pass, releases) the flow: every callback still runs
 * exactly once, with the status it had. */
typedef struct wr3 {
    int n, errs[3], release;
} wr3;

static void wr3_cb(oasis_flow *f, int err, void *ud)
{
    wr3 *w = ud;
    assert_true(w->n < 3);
    w->errs[w->n++] = err;
    if (w->n == 1) {
        if (w->release)
            oasis_tcp_release(f);
        else
            oasis_tcp_abort(f);
    }
}

static void test_abort_and_release_from_write_callback(void **state)
{
    fx *x = *state;
    for (int rel = 0; rel < 2; rel++) {
        th_app_init(&x->a);
        th_clear(&x->h);
        estab(x);
        wr3 w = {.release = rel};
        for (int i = 0; i < 3; i++)
            assert_int_equal(oasis_tcp_write(x->a.flow, "abc", 3, wr3_cb, &w), 0);
        th_poll(&x->h);
        th_poll(&x->h);
        assert_int_equal(w.n, 3);
        for (int i = 0; i < 3; i++)
            assert_int_equal(w.errs[i], 0);
        if (!rel) {
            assert_int_equal(oasis_tcp_write(x->a.flow, "d", 1, th_write_cb, &x->a), OASIS_ECLOSED);
            oasis_tcp_release(x->a.flow);
        }
        th_poll(&x->h);
        assert_int_equal(th_ctr(&x->h)->flows, 0);
        assert_int_equal(oasis_tcp_unlisten(x->h.s, PORT), 0);
        th_app_fini(&x->a);
    }
}

/* Nested teardown from the callbacks an abort runs. Each flow has a read,
 * a write_nodelay (unacknowledged) and a close pending; the log records,
 * in order, every completion (flow letter, kind, error) and where each
 * nested call began and returned. */
enum { NEST_NONE, NEST_ABORT_SELF, NEST_ABORT_OTHER, NEST_DISCONNECT };

typedef struct nest {
    char log[512];
    struct nest *other;
    oasis_stack *s;
    oasis_flow *flow;
    char name;
    int action; /* what the read callback does */
    int calls;  /* completions this flow had */
} nest;

static void nest_log(nest *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void nest_log(nest *n, const char *fmt, ...)
{
    size_t used = strlen(n->log);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n->log + used, sizeof n->log - used, fmt, ap);
    va_end(ap);
}

static nest *nest_root(nest *n) { return n->name == 'a' ? n : n->other; }

/* K: OASIS_ECANCELED, else the number */
static void nest_done_log(nest *n, char kind, int err)
{
    if (err == OASIS_ECANCELED)
        nest_log(nest_root(n), "%c%cK ", n->name, kind);
    else
        nest_log(nest_root(n), "%c%c%d ", n->name, kind, err);
}

static void nest_read(oasis_flow *f, int err, const uint8_t *d, size_t n_, void *ud)
{
    nest *n = ud, *log = nest_root(n);
    (void)d, (void)n_;
    n->calls++;
    nest_done_log(n, 'R', err);
    /* the handle is finished: every request is refused, no callback runs */
    assert_int_equal(oasis_tcp_close(f, th_close_cb, NULL), OASIS_ECLOSED);
    assert_int_equal(oasis_tcp_shutdown(f, OASIS_TCP_SHUT_READ_WRITE), OASIS_ECLOSED);
    assert_int_equal(oasis_tcp_write(f, "y", 1, NULL, NULL), OASIS_ECLOSED);
    assert_int_equal(oasis_tcp_read(f, nest_read, n), OASIS_ECLOSED);
    int action = n->action;
    n->action = NEST_NONE;
    if (action == NEST_ABORT_SELF) {
        nest_log(log, "[%c ", n->name);
        oasis_tcp_abort(f);
        nest_log(log, "%c] ", n->name);
    } else if (action == NEST_ABORT_OTHER) {
        nest_log(log, "[%c ", n->other->name);
        oasis_tcp_abort(n->other->flow);
        nest_log(log, "%c] ", n->other->name);
    } else if (action == NEST_DISCONNECT) {
        nest_log(log, "[D ");
        oasis_tcp_disconnect(n->s);
        nest_log(log, "D] ");
    }
}

static void nest_write(oasis_flow *f, int err, void *ud)
{
    nest *n = ud;
    (void)f;
    n->calls++;
    nest_done_log(n, 'W', err);
}

static void nest_close(oasis_flow *f, int err, void *ud)
{
    nest *n = ud;
    (void)f;
    n->calls++;
    nest_done_log(n, 'C', err);
}

static void nest_pending(nest *n)
{
    assert_int_equal(oasis_tcp_read(n->flow, nest_read, n), 0);
    assert_int_equal(oasis_tcp_write_nodelay(n->flow, "x", 1, nest_write, n), 0);
    assert_int_equal(oasis_tcp_close(n->flow, nest_close, n), 0);
}

/* Two established flows a and b, each with its three requests pending. */
static void nest_setup(fx *x, nest *a, nest *b)
{
    memset(a, 0, sizeof *a);
    memset(b, 0, sizeof *b);
    estab(x);
    a->flow = x->a.flow;
    uint32_t iss2;
    b->flow = second_flow(x, &iss2);
    a->name = 'a', b->name = 'b';
    a->s = b->s = x->h.s;
    a->other = b, b->other = a;
    nest_pending(a);
    nest_pending(b);
    th_poll(&x->h);
    assert_int_equal(a->calls + b->calls, 0);
}

static void nest_done(fx *x, nest *a, nest *b)
{
    assert_int_equal(a->calls, 3); /* exactly once each */
    assert_int_equal(b->calls, 3);
    oasis_tcp_release(a->flow);
    if (b->flow)
        oasis_tcp_release(b->flow);
    th_poll(&x->h);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

/* oasis_tcp_abort from the read callback the same flow's abort runs: the
 * handle is finished (close, shutdown, write, read: OASIS_ECLOSED), and the
 * inner abort completes the rest (write, then close, OASIS_ECANCELED)
 * before it returns, as any abort does; the outer one finds none left. */
static void test_abort_from_abort_callback(void **state)
{
    fx *x = *state;
    static nest a, b; /* outlive a failed assertion: teardown completes b */
    nest_setup(x, &a, &b);
    a.action = NEST_ABORT_SELF;
    nest_log(&a, "{ ");
    oasis_tcp_abort(a.flow);
    nest_log(&a, "} ");
    assert_string_equal(a.log, "{ aRK [a aWK aCK a] } ");
    assert_int_equal(oasis_tcp_flow_error(a.flow), OASIS_ECANCELED);
    oasis_tcp_abort(a.flow); /* finished, nothing pending: a no-op */
    assert_int_equal(a.calls, 3);
    /* b untouched: abort it the same way */
    b.action = NEST_NONE;
    oasis_tcp_abort(b.flow);
    nest_done(x, &a, &b);
}

/* Crossed: a's abort runs a's read callback, which aborts b; b's read
 * callback aborts a again. Each abort returns only when its flow's
 * requests have all completed, each exactly once, none after. */
static void test_abort_crossed_from_abort_callbacks(void **state)
{
    fx *x = *state;
    static nest a, b; /* outlive a failed assertion: teardown completes b */
    nest_setup(x, &a, &b);
    a.action = NEST_ABORT_OTHER;
    b.action = NEST_ABORT_OTHER;
    nest_log(&a, "{ ");
    oasis_tcp_abort(a.flow);
    nest_log(&a, "} ");
    assert_string_equal(a.log, "{ aRK [b bRK [a aWK aCK a] bWK bCK b] } ");
    nest_done(x, &a, &b);
}

/* oasis_tcp_disconnect from a callback an abort runs: every flow's
 * requests complete before it returns, the aborted flow's rest included. */
static void test_disconnect_from_abort_callback(void **state)
{
    fx *x = *state;
    static nest a, b; /* outlive a failed assertion: teardown completes b */
    nest_setup(x, &a, &b);
    a.action = NEST_DISCONNECT;
    nest_log(&a, "{ ");
    oasis_tcp_abort(a.flow);
    nest_log(&a, "} ");
    assert_string_equal(a.log, "{ aRK [D aWK aCK bRK bWK bCK D] } ");
    assert_int_equal(oasis_tcp_flow_error(b.flow), OASIS_ECANCELED);
    nest_done(x, &a, &b);
}

/* The same from a callback oasis_tcp_disconnect runs. An abort of that
 * flow completes its rest before it returns; a disconnect again returns
 * at once (the layer is already going down) and the outer call completes
 * the rest. */
static void test_abort_and_disconnect_from_disconnect_callback(void **state)
{
    fx *x = *state;
    static nest a, b; /* outlive a failed assertion: teardown completes b */
    for (int pass = 0; pass < 2; pass++) {
        nest_setup(x, &a, &b);
        a.action = pass ? NEST_DISCONNECT : NEST_ABORT_SELF;
        nest_log(&a, "{ ");
        oasis_tcp_disconnect(x->h.s);
        nest_log(&a, "} ");
        assert_string_equal(a.log, pass ? "{ aRK [D D] aWK aCK bRK bWK bCK } "
                                        : "{ aRK [a aWK aCK a] bRK bWK bCK } ");
        nest_done(x, &a, &b);
        th_app_fini(&x->a);
        th_app_init(&x->a);
        th_clear(&x->h);
    }
}

/* Close-and-forget from the read callback: the stack finishes the close on
 * its own (the peer's data after it is taken, its FIN ends it) and frees
 * the flow. */
static void forget_in_read(oasis_flow *f, int err, const uint8_t *d, size_t n, void *ud)
{
    th_app *a = ud;
    (void)d, (void)n;
    a->reads++;
    assert_int_equal(err, 0);
    assert_int_equal(oasis_tcp_close(f, NULL, NULL), 0);
    a->flow = NULL;
}

static void test_close_and_forget_from_read_callback(void **state)
{
    fx *x = *state;
    estab(x);
    assert_int_equal(oasis_tcp_read(x->a.flow, forget_in_read, &x->a), 0);
    inject(x, A, "ping", 4);
    drain(x);
    assert_int_equal(x->a.reads, 1);
    assert_int_equal(x->fins, 1);
    inject(x, A, "more", 4);
    inject(x, A | F, NULL, 0);
    drain(x);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

/* The read callback's bytes are borrowed until it returns, also when it
 * polls the stack (tcp.h allows it) and the poll delivers more data to the
 * same flow: here a flow of the stack to its own listener, whose segments
 * go through the loopback queue that the poll drains. Growing the receive
 * buffer then must not move the bytes lent out. The allocator moves every
 * block it resizes and poisons what it frees, so a plain build sees it
 * too. */
static void *moving_alloc(void *ud, void *p, size_t n)
{
    (void)ud;
    size_t old = p ? malloc_usable_size(p) : 0;
    void *q = n ? malloc(n) : NULL;
    if (n && !q)
        return NULL;
    if (q && p)
        memcpy(q, p, old < n ? old : n);
    if (p) {
        memset(p, 0xdd, old);
        free(p);
    }
    return q;
}

typedef struct lend {
    oasis_stack *s;
    oasis_flow *cli, *srv;
    uint8_t pat[60000];
    size_t got;
    int reads, bad, eof;
} lend;

static void lend_read(oasis_flow *f, int err, const uint8_t *d, size_t n, void *ud)
{
    lend *l = ud;
    if (err) {
        l->eof = 1;
        return;
    }
    if (l->reads++ == 0) {
        /* more for this very flow, delivered by polls inside this callback */
        assert_int_equal(oasis_tcp_write(l->cli, l->pat, sizeof l->pat, NULL, NULL), 0);
        for (int i = 0; i < 8; i++)
            oasis_stack_poll(l->s);
    }
    for (size_t i = 0; i < n; i++)
        l->bad += d[i] != l->pat[(l->got + i) % 100];
    l->got += n;
    assert_int_equal(oasis_tcp_read(f, lend_read, l), 0);
}

static void lend_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    lend *l = ud;
    (void)s;
    l->srv = f;
    assert_int_equal(oasis_tcp_read(f, lend_read, l), 0);
}

static void lend_connect(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s;
    assert_int_equal(err, 0);
    ((lend *)ud)->cli = f;
}

static void test_read_data_stays_while_callback_polls(void **state)
{
    fx *x = *state;
    th_fini(&x->h);
    th_init_alloc(&x->h, NULL, moving_alloc, NULL);
    lend *l = calloc(1, sizeof *l);
    assert_non_null(l);
    l->s = x->h.s;
    for (size_t i = 0; i < sizeof l->pat; i++)
        l->pat[i] = (uint8_t)('a' + i % 100 % 26);
    assert_int_equal(oasis_tcp_listen(l->s, 81, NULL, lend_accept, l), 0);
    assert_int_equal(oasis_tcp_connect4(l->s, TH_LOCAL, 81, NULL, lend_connect, l), 0);
    for (int i = 0; i < 10 && !(l->cli && l->srv); i++)
        th_advance(&x->h, MS);
    assert_non_null(l->cli);
    assert_non_null(l->srv);
    assert_int_equal(oasis_tcp_write(l->cli, l->pat, 100, NULL, NULL), 0);
    for (int i = 0; i < 1000 && l->got < 100 + sizeof l->pat; i++)
        th_advance(&x->h, 10 * MS);
    assert_true(l->reads > 1);
    assert_int_equal(l->got, 100 + sizeof l->pat);
    assert_int_equal(l->bad, 0);
    oasis_tcp_release(l->cli);
    oasis_tcp_release(l->srv);
    free(l);
}

/* A connect_flow attempt refused by a reset: the callback says so, the
 * handle is over (read EOF, write ECLOSED, close completes), its error
 * word says refused. */
static void test_refused_connect_flow_handle(void **state)
{
    fx *x = *state;
    oasis_flow *f = NULL;
    assert_int_equal(oasis_tcp_connect_flow4(x->h.s, TH_PEER, 9, NULL, th_connect_cb, &x->a, &f), 0);
    oasis_tcp_hdr syn;
    assert_true(th_pop(&x->h, &syn));
    oasis_tcp_hdr rst = th_seg(9, syn.src_port, R | A, 0, syn.seq + 1);
    th_inject(&x->h, &rst);
    th_poll(&x->h);
    assert_int_equal(x->a.connected, 1);
    assert_int_equal(x->a.connect_err, OASIS_EREFUSED);
    assert_ptr_equal(x->a.flow, f);
    assert_int_equal(oasis_tcp_flow_error(f), OASIS_EREFUSED);
    assert_string_equal(oasis_tcp_flow_strerror(f), "connection attempt was refused");
    int rc = oasis_tcp_write(f, "x", 1, th_write_cb, &x->a);
    assert_true(rc == 0 || rc == OASIS_ECLOSED);
    assert_int_equal(oasis_tcp_read(f, th_read_cb, &x->a), 0);
    assert_int_equal(oasis_tcp_close(f, th_close_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.eof, 1);
    if (rc == 0)
        assert_int_equal(x->a.write_err, OASIS_ECLOSED);
    assert_int_equal(x->a.closed, 1); /* th_close_cb released it */
    assert_int_equal(th_ctr(&x->h)->flows, 0);
}

/* ---- the IP layer's entry point ---------------------------------------------------- */

static void test_input_entry_point(void **state)
{
    fx *x = *state;
    oasis_ipaddr src = oasis_ipaddr_v4(TH_PEER), dst = oasis_ipaddr_v4(TH_LOCAL);
    oasis_ipaddr v6;
    assert_int_equal(oasis_ipaddr_parse("fe80::1", &v6), 0);
    uint8_t seg[OASIS_TCP_HLEN];
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    oasis_tcp_emit(seg, &syn, 0, TH_PEER, TH_LOCAL);
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    /* misuse: dropped, nothing answered */
    uint64_t errs = th_ctr(&x->h)->in_errs;
    oasis_tcp_input(NULL, &src, &dst, seg, sizeof seg);
    oasis_tcp_input(x->h.s, NULL, &dst, seg, sizeof seg);
    oasis_tcp_input(x->h.s, &src, NULL, seg, sizeof seg);
    oasis_tcp_input(x->h.s, &src, &dst, NULL, sizeof seg);
    oasis_tcp_input(x->h.s, &src, &v6, seg, sizeof seg); /* families differ */
    oasis_tcp_input(x->h.s, &src, &dst, seg, 0);
    oasis_tcp_input(x->h.s, &src, &dst, seg, 7);
    oasis_tcp_input4(NULL, TH_PEER, TH_LOCAL, seg, sizeof seg);
    oasis_tcp_input4(x->h.s, TH_PEER, TH_LOCAL, NULL, 0);
    oasis_tcp_input4(x->h.s, TH_PEER, TH_LOCAL + 1, seg, sizeof seg); /* bad checksum */
    th_poll(&x->h);
    assert_int_equal(th_pending(&x->h), 0);
    assert_true(th_ctr(&x->h)->in_errs > errs);
    /* the generic entry with IPv4 addresses: a SYN is answered */
    oasis_tcp_input(x->h.s, &src, &dst, seg, sizeof seg);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, S | A);
    assert_int_equal(r.ack, TH_PISN + 1);
}

/* ---- disconnect ---------------------------------------------------------------------- */

/* Twice, with a listener, a flow and an attempt; the handles answer
 * ECLOSED, the layer takes new work. */
static void test_disconnect_twice_then_reuse(void **state)
{
    fx *x = *state;
    estab(x);
    th_app b;
    th_app_init(&b);
    oasis_flow *fb = NULL;
    assert_int_equal(oasis_tcp_connect_flow4(x->h.s, TH_PEER, 9, NULL, th_connect_cb, &b, &fb), 0);
    assert_int_equal(oasis_tcp_write(x->a.flow, "w", 1, th_write_cb, &x->a), 0);
    oasis_tcp_disconnect(x->h.s);
    oasis_tcp_disconnect(x->h.s);
    assert_int_equal(b.connect_err, OASIS_ECANCELED);
    assert_int_equal(oasis_tcp_write(x->a.flow, "w", 1, th_write_cb, &x->a), OASIS_ECLOSED);
    assert_int_equal(oasis_tcp_close(fb, th_close_cb, &b), OASIS_ECLOSED);
    assert_int_equal(oasis_tcp_unlisten(x->h.s, PORT), OASIS_ENOENT);
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), OASIS_ECANCELED);
    oasis_tcp_release(x->a.flow);
    oasis_tcp_release(fb);
    th_poll(&x->h);
    assert_int_equal(th_ctr(&x->h)->flows, 0);
    th_app_fini(&b);
    th_app c;
    th_app_init(&c);
    th_clear(&x->h);
    x->a.accepted = 0;
    th_open_passive(&x->h, &c, PORT, NULL);
    th_app_fini(&c);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_null_arguments_refused),
        T(test_dst_src),
        T(test_ephemeral_ports_run_out),
        T(test_zero_length_writes_complete),
        T(test_writev_mixed_iovecs_in_order),
        T(test_writev_many_iovecs),
        T(test_writev_nodelay_waits_for_ack),
        T(test_huge_writes_counted),
        T(test_sndbuf_room_zero_after_writing_ends),
        T(test_close_twice_busy),
        T(test_close_is_half_close),
        T(test_shutdown_twice_then_close),
        T(test_shutdown_write_in_syn_sent),
        T(test_close_in_syn_sent_from_own_callback),
        T(test_abort_in_syn_sent),
        T(test_setters_and_urgent_in_syn_sent),
        T(test_keepalive_largest_values),
        T(test_config_durations_largest),
        T(test_config_delack_bound),
        T(test_listen_keepalive_before_accept_callback),
        T(test_keepalive_smallest_values),
        T(test_keepalive_in_fin_wait_2),
        T(test_nodelay_write_completes_before_close),
        T(test_write_and_close_from_write_callback),
        T(test_release_other_flow_from_callback),
        T(test_unlisten_from_accept_callback),
        T(test_disconnect_from_accept_callback),
        T(test_release_from_event_callback),
        T(test_accept_by_hand_after_resume),
        T(test_release_from_open_callbacks),
        T(test_abort_and_release_from_write_callback),
        T(test_abort_from_abort_callback),
        T(test_abort_crossed_from_abort_callbacks),
        T(test_disconnect_from_abort_callback),
        T(test_abort_and_disconnect_from_disconnect_callback),
        T(test_close_and_forget_from_read_callback),
        T(test_read_data_stays_while_callback_polls),
        T(test_refused_connect_flow_handle),
        T(test_input_entry_point),
        T(test_disconnect_twice_then_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
