/* Outside probes of the public API (include/oasis/) against the contract
 * (/work/shared/CONTRACT.md and the headers' own words), aimed at what the
 * other contract tests leave out: stack destroy with requests of every
 * layer pending (and the API called from the callbacks it runs), callbacks
 * that rebind, re-address or walk, a stack whose wire went away, DNS and
 * DHCP misuse, sizes that overflow, write-then-close over a lossy wire.
 * Two stacks on an in-memory wire, virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "oasis/oasis.h"
#include "oasis/dhcp.h"
#include "oasis/dns.h"
#include "oasis/metrics.h"
#include "oasis/metrics_prom.h"
#include "oasis/metrics_reporter.h"
#include "testutil.h"

#define SEC OASIS_NS_PER_SEC
#define MS OASIS_NS_PER_MS
#define PORT 5000
#define NOWHERE OASIS_IPV4(10, 0, 0, 9) /* on the subnet, nobody answers ARP */

static void run(test_net *n, uint64_t ns) { (void)oasis_wire_run(n->wire, NULL, NULL, ns); }

/* ---- a recording application ---------------------------------------- */

typedef struct app {
    oasis_flow *fa, *fb;         /* a's end, b's end of the connection */
    int accepted, connected, connect_err, connect_calls;
    int reads, read_err, eof;
    uint8_t *rx;
    size_t rx_len, rx_cap;
    int auto_read;
    int writes, write_err, write_ok;
    int closes, close_err;
    int pings, ping_err;
    int in_call;                 /* 1 while an API call we made runs */
    int sync_calls;              /* callbacks that ran inside one of our calls */
    int release_in_read;         /* release the flow from its read callback */
    int reenter;                 /* call the API from the callbacks (see rec_*) */
    int reenter_results[8];
    oasis_stack *s;
} app;

static void app_fini(app *p) { free(p->rx); }

static void note(app *p)
{
    if (p->in_call)
        p->sync_calls++;
}

static void on_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    app *p = ud;
    note(p);
    p->accepted++;
    p->fb = f;
}

static void on_connect(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s;
    app *p = ud;
    note(p);
    p->connect_calls++;
    p->connect_err = err;
    if (!err) {
        p->connected++;
        p->fa = f;
    }
}

static void on_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    app *p = ud;
    note(p);
    p->reads++;
    p->read_err = err;
    if (err == OASIS_EOF)
        p->eof++;
    if (!err)
        assert_true(len >= 1 && data != NULL); /* "at least one byte" */
    if (!err)
        test_append(&p->rx, &p->rx_len, &p->rx_cap, data, len);
    if (p->reenter) {
        /* the stack is being shut down: every new request is refused */
        p->reenter_results[0] = oasis_tcp_read(f, on_read, p);
        p->reenter_results[1] = oasis_tcp_write(f, "x", 1, NULL, NULL);
        p->reenter_results[2] = oasis_tcp_close(f, NULL, NULL);
        p->reenter_results[3] = oasis_tcp_connect4(oasis_flow_stack(f), OASIS_IPV4(10, 0, 0, 2), PORT,
                                                   NULL, on_connect, p);
        p->reenter_results[4] = oasis_tcp_listen(oasis_flow_stack(f), PORT + 1, NULL, on_accept, p);
    }
    if (p->release_in_read) {
        oasis_tcp_release(f);
        p->fa = NULL;
        return;
    }
    if (!err && p->auto_read)
        assert_int_equal(oasis_tcp_read(f, on_read, p), 0);
}

static void on_write(oasis_flow *f, int err, void *ud)
{
    (void)f;
    app *p = ud;
    note(p);
    p->writes++;
    if (err) {
        if (!p->write_err)
            p->write_err = err;
    } else {
        p->write_ok++;
    }
}

static void on_close(oasis_flow *f, int err, void *ud)
{
    (void)f;
    app *p = ud;
    note(p);
    p->closes++;
    p->close_err = err;
}

static void on_ping(oasis_stack *s, int err, uint16_t seq, uint64_t rtt, void *ud)
{
    (void)seq, (void)rtt;
    app *p = ud;
    note(p);
    p->pings++;
    p->ping_err = err;
    if (p->reenter)
        p->reenter_results[5] = oasis_ping(s, NOWHERE, 9, 9, 8, UINT64_MAX, on_ping, p);
}

/* a connects to b's listener; both ends kept in p. */
static void connect_pair(test_net *n, app *p)
{
    int acc = p->accepted, con = p->connected;
    if (oasis_tcp_unlisten(n->b, PORT) != 0) { /* first time: nothing to take away */
    }
    assert_int_equal(oasis_tcp_listen(n->b, PORT, NULL, on_accept, p), 0);
    assert_int_equal(oasis_tcp_connect4(n->a, TEST_ADDR_B, PORT, NULL, on_connect, p), 0);
    for (int i = 0; i < 100 && (p->accepted == acc || p->connected == con); i++)
        run(n, 100 * MS);
    assert_int_equal(p->accepted, acc + 1);
    assert_int_equal(p->connected, con + 1);
}

/* Two stacks on a wire with a connection from a to b (the usual start),
 * and its end: both handles given back, the stacks and the wire gone. */
static void pair_open(test_net *n, app *p)
{
    test_net_init(n, NULL, NULL);
    memset(p, 0, sizeof *p);
    connect_pair(n, p);
}

static void pair_close(test_net *n, app *p)
{
    oasis_tcp_release(p->fa);
    run(n, SEC);
    oasis_tcp_release(p->fb);
    test_net_fini(n);
    app_fini(p);
}

/* ---- stack destroy with requests of every layer pending -------------- */

/* oasis_stack_destroy (stack.h): "pending requests complete with
 * OASIS_ECANCELED", each callback exactly once (tcp.h's model; icmp.h: the
 * ping callback "runs exactly once", ECANCELED when the stack was
 * destroyed). Pending here: a connect towards a host that never answers
 * ARP, a read, writes waiting for room, a write_nodelay waiting for its
 * ack, a close, and a ping with no timeout. The read callback calls the
 * API back: every new request is refused (tcp.h Re-entrancy: connect and
 * listen OASIS_ECANCELED; requests on a finished handle OASIS_ECLOSED), and
 * it releases its own handle, which destroy must then not free again. */
static void test_destroy_with_everything_pending(void **state)
{
    (void)state;
    oasis_tcp_config tc;
    oasis_stack_config sc;
    oasis_stack_config_init(&sc);
    tc = sc.tcp;
    tc.sndbuf = 4096;
    tc.rcvbuf = 4096;
    tc.autotune = 0;
    test_net n;
    test_net_init(&n, NULL, &tc);
    app p = {0}, q = {0};
    connect_pair(&n, &p);
    oasis_flow *fa = p.fa;

    /* a second connection: writes that wait, a nodelay write, a close */
    connect_pair(&n, &q);
    static uint8_t big[1 << 16];
    assert_int_equal(oasis_tcp_write(q.fa, big, sizeof big, on_write, &q), 0);
    assert_int_equal(oasis_tcp_write(q.fa, big, sizeof big, on_write, &q), 0);
    assert_int_equal(oasis_tcp_write_nodelay(q.fa, "n", 1, on_write, &q), 0);
    assert_int_equal(oasis_tcp_close(q.fa, on_close, &q), 0);
    run(&n, SEC); /* b does not read: a's writes stay pending */
    assert_int_equal(q.writes, 0);
    assert_int_equal(q.closes, 0);

    /* an attempt that will not complete soon */
    app c = {0};
    oasis_flow *fc = NULL;
    assert_int_equal(oasis_tcp_connect_flow4(n.a, NOWHERE, 80, NULL, on_connect, &c, &fc), 0);
    /* a ping with no timeout */
    assert_int_equal(oasis_ping(n.a, NOWHERE, 1, 1, 8, UINT64_MAX, on_ping, &c), 0);
    run(&n, 100 * MS);

    p.reenter = 1;
    p.release_in_read = 1;
    assert_int_equal(oasis_tcp_read(fa, on_read, &p), 0);
    c.reenter = 1;
    assert_int_equal(oasis_stack_destroy(n.a), 0);
    n.a = NULL;
    (void)fa;

    assert_int_equal(p.reads, 1);
    assert_int_equal(p.read_err, OASIS_ECANCELED);
    assert_int_equal(p.reenter_results[0], OASIS_ECLOSED);
    assert_int_equal(p.reenter_results[1], OASIS_ECLOSED);
    assert_int_equal(p.reenter_results[2], OASIS_ECLOSED);
    assert_int_equal(p.reenter_results[3], OASIS_ECANCELED);
    assert_int_equal(p.reenter_results[4], OASIS_ECANCELED);
    assert_int_equal(q.writes, 3);
    assert_int_equal(q.closes, 1);
    assert_int_equal(c.connect_calls, 1);
    assert_int_equal(c.connect_err, OASIS_ECANCELED);
    assert_int_equal(c.pings, 1);
    assert_int_equal(c.ping_err, OASIS_ECANCELED);
    /* a ping asked for from that callback: refused, or else it too must
     * have been called back once (it was counted in c.pings) */
    if (c.reenter_results[5] == 0)
        fail_msg("a ping started from a callback of stack destroy was accepted and never completed");
    run(&n, SEC);
    if (p.fb)
        oasis_tcp_release(p.fb);
    if (q.fb)
        oasis_tcp_release(q.fb);
    test_net_fini(&n);
    app_fini(&p), app_fini(&q), app_fini(&c);
}


/* A paused listener with established flows waiting, a half-open one, a
 * flow in TIME_WAIT and a close-and-forget flow still sending: disconnect
 * resets the waiting flows (never handed to a later listener on the same
 * port, tcp.h: "every listener goes"), destroy frees the rest (ASan: no
 * leak); the peers' requests complete once each. */
static void test_paused_backlog_through_disconnect_and_destroy(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    app srv = {0}, c1 = {0}, c2 = {0}, c3 = {0};
    oasis_listen_opts lo;
    memset(&lo, 0, sizeof lo);
    lo.paused = 1;
    assert_int_equal(oasis_tcp_listen(n.b, PORT, &lo, on_accept, &srv), 0);
    assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, PORT, NULL, on_connect, &c1), 0);
    assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, PORT, NULL, on_connect, &c2), 0);
    run(&n, SEC);
    assert_int_equal(c1.connected + c2.connected, 2);
    assert_int_equal(oasis_tcp_accept_waiting(n.b, PORT), 2);
    assert_int_equal(srv.accepted, 0);
    assert_int_equal(oasis_tcp_write(c1.fa, "queued", 6, on_write, &c1), 0);
    assert_int_equal(oasis_tcp_read(c1.fa, on_read, &c1), 0);
    assert_int_equal(oasis_tcp_read(c2.fa, on_read, &c2), 0);
    run(&n, SEC);
    oasis_tcp_disconnect(n.b);
    assert_int_equal(srv.accepted, 0);
    assert_int_equal(oasis_tcp_listen(n.b, PORT, NULL, on_accept, &srv), 0); /* listen anew */
    run(&n, SEC);
    assert_int_equal(srv.accepted, 0); /* the reset ones never come back */
    assert_int_equal(c1.reads, 1);
    assert_int_equal(c2.reads, 1);
    assert_int_equal(c1.read_err, OASIS_EOF);
    assert_int_equal(oasis_tcp_flow_error(c1.fa), OASIS_ERESET);
    oasis_tcp_release(c1.fa);
    oasis_tcp_release(c2.fa);

    /* and destroy with such a backlog, a flow in TIME_WAIT, a flow closed
     * and forgotten while its bytes are still going out */
    assert_int_equal(oasis_tcp_accept_pause(n.b, PORT), 0);
    c3.connected = 0;
    assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, PORT, NULL, on_connect, &c3), 0);
    run(&n, SEC);
    assert_int_equal(oasis_tcp_accept_waiting(n.b, PORT), 1);
    oasis_flow *w = oasis_tcp_accept(n.b, PORT); /* take it by hand */
    assert_non_null(w);
    assert_int_equal(srv.accepted, 0);
    /* b closes first: b's end goes to TIME_WAIT */
    assert_int_equal(oasis_tcp_close(w, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_close(c3.fa, on_close, &c3), 0);
    run(&n, SEC);
    assert_int_equal(c3.closes, 1);
    oasis_tcp_release(c3.fa);
    app c4 = {0}, c5 = {0};
    assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, PORT, NULL, on_connect, &c4), 0);
    assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, PORT, NULL, on_connect, &c5), 0);
    run(&n, SEC);
    assert_int_equal(oasis_tcp_accept_waiting(n.b, PORT), 2);
    w = oasis_tcp_accept(n.b, PORT);
    assert_non_null(w);
    static uint8_t big[1 << 20];
    assert_int_equal(oasis_tcp_write(w, big, sizeof big, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_close(w, NULL, NULL), 0); /* forgotten */
    assert_int_equal(oasis_tcp_read(c5.fa, on_read, &c5), 0);
    run(&n, 10 * MS);
    assert_int_equal(oasis_stack_destroy(n.b), 0);
    n.b = NULL;
    run(&n, SEC);
    assert_int_equal(c5.reads, 1);
    oasis_tcp_release(c4.fa);
    oasis_tcp_release(c5.fa);
    test_net_fini(&n);
    app_fini(&srv), app_fini(&c1), app_fini(&c2), app_fini(&c3), app_fini(&c4), app_fini(&c5);
}


/* The same over IPv6 (link-local addresses, ICMPv6 echo): stack destroy
 * completes a pending connect, read, write and echo once each. */
static void test_destroy_with_pending_v6(void **state)
{
    (void)state;
    test_net n;
    test_net_init6(&n, NULL, NULL);
    run(&n, 5 * SEC); /* DAD */
    oasis_ipaddr lb = test_link_local(n.b), nowhere;
    assert_int_equal(oasis_ipaddr_parse("fe80::99", &nowhere), 0);
    app p = {0}, c = {0};
    assert_int_equal(oasis_tcp_listen(n.b, PORT, NULL, on_accept, &p), 0);
    assert_int_equal(oasis_tcp_connect(n.a, &lb, PORT, NULL, on_connect, &p), 0);
    for (int i = 0; i < 100 && (!p.accepted || !p.connected); i++)
        run(&n, 10 * MS);
    assert_int_equal(p.connected, 1);
    assert_int_equal(p.accepted, 1);
    assert_int_equal(oasis_tcp_read(p.fa, on_read, &p), 0);
    assert_int_equal(oasis_tcp_write_nodelay(p.fa, "v6", 2, on_write, &p), 0);
    oasis_flow *fc = NULL;
    assert_int_equal(oasis_tcp_connect_flow(n.a, &nowhere, 80, NULL, on_connect, &c, &fc), 0);
    assert_int_equal(oasis_ping_addr(n.a, &nowhere, 1, 1, 8, UINT64_MAX, on_ping, &c), 0);
    run(&n, 100 * MS);
    assert_int_equal(p.writes, 1); /* acked */
    assert_int_equal(oasis_tcp_write(p.fa, "more", 4, on_write, &p), 0);
    assert_int_equal(oasis_stack_destroy(n.a), 0);
    n.a = NULL;
    assert_int_equal(p.reads, 1);
    assert_int_equal(p.read_err, OASIS_ECANCELED);
    assert_int_equal(p.writes, 2);
    assert_int_equal(c.connect_calls, 1);
    assert_int_equal(c.connect_err, OASIS_ECANCELED);
    assert_int_equal(c.pings, 1);
    assert_int_equal(c.ping_err, OASIS_ECANCELED);
    run(&n, SEC);
    oasis_tcp_release(p.fb);
    test_net_fini(&n);
    app_fini(&p), app_fini(&c);
}


/* Calls that end or release other requests: their own callback never
 * runs inside them (tcp.h model). close in SYN-SENT (tcp.h connect_flow:
 * the connect callback gets ECANCELED, queued writes ECLOSED, then close
 * completes with 0, in that order); accept_resume hands the waiting flows
 * over "from the next poll on". */
typedef struct order_rec {
    int in_call, sync_close;
    char seq[16];
    int n;
} order_rec;

static void ord_connect(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s, (void)f;
    order_rec *o = ud;
    assert_int_equal(err, OASIS_ECANCELED);
    o->seq[o->n++] = 'c';
}

static void ord_write(oasis_flow *f, int err, void *ud)
{
    (void)f;
    order_rec *o = ud;
    assert_int_equal(err, OASIS_ECLOSED);
    o->seq[o->n++] = 'w';
}

static void ord_read(oasis_flow *f, int err, const uint8_t *d, size_t len, void *ud)
{
    (void)f, (void)d, (void)len;
    order_rec *o = ud;
    assert_true(err == OASIS_EOF || err == OASIS_ECANCELED);
    o->seq[o->n++] = 'r';
}

static void ord_close(oasis_flow *f, int err, void *ud)
{
    (void)f;
    order_rec *o = ud;
    if (o->in_call)
        o->sync_close++;
    assert_int_equal(err, 0);
    o->seq[o->n++] = 'x';
}

static void test_close_in_syn_sent_and_resume_not_inside(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    order_rec o = {0};
    oasis_flow *f = NULL;
    assert_int_equal(oasis_tcp_connect_flow4(n.a, NOWHERE, 80, NULL, ord_connect, &o, &f), 0);
    assert_int_equal(oasis_tcp_write(f, "abc", 3, ord_write, &o), 0);
    assert_int_equal(oasis_tcp_writev_nodelay(f, &(oasis_iovec){"de", 2}, 1, ord_write, &o), 0);
    assert_int_equal(oasis_tcp_read(f, ord_read, &o), 0);
    run(&n, 10 * MS);
    o.in_call = 1;
    assert_int_equal(oasis_tcp_close(f, ord_close, &o), 0);
    o.in_call = 0;
    assert_int_equal(o.sync_close, 0);
    run(&n, SEC);
    assert_int_equal(o.sync_close, 0);
    assert_int_equal(o.n, 5);
    assert_int_equal(o.seq[o.n - 1], 'x'); /* close last */
    assert_non_null(memchr(o.seq, 'c', (size_t)o.n));
    oasis_tcp_release(f);

    /* resume: the accept callback runs from the next poll, not inside */
    app p = {0};
    oasis_listen_opts lo;
    memset(&lo, 0, sizeof lo);
    lo.paused = 1;
    assert_int_equal(oasis_tcp_listen(n.b, PORT, &lo, on_accept, &p), 0);
    assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, PORT, NULL, on_connect, &p), 0);
    run(&n, SEC);
    assert_int_equal(oasis_tcp_accept_waiting(n.b, PORT), 1);
    p.in_call = 1;
    assert_int_equal(oasis_tcp_accept_resume(n.b, PORT), 0);
    p.in_call = 0;
    assert_int_equal(p.accepted, 0);
    oasis_stack_poll(n.b);
    assert_int_equal(p.accepted, 1);
    assert_int_equal(p.sync_calls, 0);
    oasis_tcp_release(p.fa);
    oasis_tcp_release(p.fb);
    test_net_fini(&n);
    app_fini(&p);
}

/* ---- UDP --------------------------------------------------------------- */

typedef struct udp_probe {
    int first, second, self;
    int in_call, sync_calls;
    int rebind_result, unbind_result, send_result;
} udp_probe;

static void udp_second(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport, const oasis_ipaddr *dst,
                       uint16_t dport, const uint8_t *d, size_t len, void *ud)
{
    (void)s, (void)src, (void)sport, (void)dst, (void)dport, (void)d, (void)len;
    udp_probe *u = ud;
    u->second++;
}

static void udp_first(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport, const oasis_ipaddr *dst,
                      uint16_t dport, const uint8_t *d, size_t len, void *ud)
{
    (void)dst, (void)d, (void)len;
    udp_probe *u = ud;
    u->first++;
    /* unbind the port whose callback this is, bind it again, answer */
    u->unbind_result = oasis_udp_unbind(s, dport);
    u->rebind_result = oasis_udp_bind(s, dport, udp_second, u);
    u->send_result = oasis_udp_send(s, dport, src, sport, "pong", 4);
}

static void udp_self(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport, const oasis_ipaddr *dst,
                     uint16_t dport, const uint8_t *d, size_t len, void *ud)
{
    (void)s, (void)src, (void)sport, (void)dst, (void)dport, (void)d, (void)len;
    udp_probe *u = ud;
    if (u->in_call)
        u->sync_calls++;
    u->self++;
}

static void test_udp_rebind_from_own_callback(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    udp_probe u = {0};
    assert_int_equal(oasis_udp_bind(n.b, 7, udp_first, &u), 0);
    assert_int_equal(oasis_udp_bind(n.a, 8, udp_self, &u), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(oasis_udp_send4(n.a, 8, TEST_ADDR_B, 7, "ping", 4), 0);
    run(&n, SEC);
    assert_int_equal(u.first, 1);
    assert_int_equal(u.second, 2);
    assert_int_equal(u.unbind_result, 0);
    assert_int_equal(u.rebind_result, 0);
    assert_int_equal(u.send_result, 0);
    assert_int_equal(u.self, 1); /* the pong */

    /* to our own address: delivered, never inside the send */
    u.in_call = 1;
    int r = oasis_udp_send4(n.a, 9, TEST_ADDR_A, 8, "me", 2);
    u.in_call = 0;
    if (r == 0) {
        run(&n, SEC);
        assert_int_equal(u.sync_calls, 0);
    }
    /* sizes: too large, NULL data with a length, zero length */
    assert_int_equal(oasis_udp_send4(n.a, 8, TEST_ADDR_B, 7, "x", SIZE_MAX), OASIS_EMSGSIZE);
    assert_int_equal(oasis_udp_send4(n.a, 8, TEST_ADDR_B, 7, "x", 65508), OASIS_EMSGSIZE);
    assert_int_equal(oasis_udp_send4(n.a, 8, TEST_ADDR_B, 7, NULL, 3), OASIS_EINVAL);
    assert_int_equal(oasis_udp_send4(n.a, 8, TEST_ADDR_B, 7, NULL, 0), 0);
    run(&n, SEC);
    assert_int_equal(u.second, 3);
    assert_int_equal(oasis_udp_bind(n.a, 0, udp_self, &u), OASIS_EINVAL);
    assert_int_equal(oasis_udp_bind(n.a, 9, NULL, &u), OASIS_EINVAL);
    oasis_ipaddr v6, v4 = oasis_ipaddr_v4(TEST_ADDR_B), other = oasis_ipaddr_v4(OASIS_IPV4(10, 0, 0, 77));
    assert_int_equal(oasis_ipaddr_parse("2001:db8::1", &v6), 0);
    assert_int_equal(oasis_udp_send_from(n.a, &v6, 8, &v4, 7, "x", 1), OASIS_EINVAL);
    assert_int_equal(oasis_udp_send_from(n.a, &other, 8, &v4, 7, "x", 1), OASIS_EADDRNOTAVAIL);
    assert_int_equal(oasis_udp_send(n.a, 8, &v6, 7, "x", 1), OASIS_ENOROUTE); /* IPv6 off */
    assert_int_equal(oasis_udp_send(n.a, 8, NULL, 7, "x", 1), OASIS_EINVAL);
    assert_int_equal(oasis_udp_set_error_cb(n.a, 4444, NULL), OASIS_ENOENT);
    assert_int_equal(oasis_udp_set_multicast_hops(n.a, 4444, 1), OASIS_ENOENT);
    assert_int_equal(oasis_udp_bind(n.a, 8, udp_self, &u), OASIS_EADDRINUSE);
    assert_int_equal(oasis_udp_unbind(n.a, 8), 0);
    assert_int_equal(oasis_udp_unbind(n.a, 8), OASIS_ENOENT);
    test_net_fini(&n);
}

/* ---- ICMP ping ----------------------------------------------------------- */

static void test_ping_edges(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    app p = {0};
    p.in_call = 1;
    assert_int_equal(oasis_ping(n.a, TEST_ADDR_A, 1, 1, 8, SEC, on_ping, &p), 0); /* ourselves */
    int z = oasis_ping(n.a, TEST_ADDR_B, 1, 2, 0, 0, on_ping, &p); /* timeout 0: refused or run */
    int r = oasis_ping(n.a, TEST_ADDR_B, 1, 3, SIZE_MAX, SEC, on_ping, &p);
    assert_true(r < 0);
    r = oasis_ping(n.a, TEST_ADDR_B, 1, 4, 65508, SEC, on_ping, &p);
    assert_true(r < 0);
    assert_int_equal(oasis_ping(n.a, TEST_ADDR_B, 1, 5, 8, SEC, NULL, &p), OASIS_EINVAL);
    assert_int_equal(oasis_ping(NULL, TEST_ADDR_B, 1, 5, 8, SEC, on_ping, &p), OASIS_EINVAL);
    /* the same id and seq twice at once */
    assert_int_equal(oasis_ping(n.a, TEST_ADDR_B, 7, 7, 8, SEC, on_ping, &p), 0);
    int dup = oasis_ping(n.a, TEST_ADDR_B, 7, 7, 8, SEC, on_ping, &p);
    p.in_call = 0;
    assert_int_equal(p.sync_calls + p.pings, 0);
    run(&n, 10 * SEC);
    assert_int_equal(p.sync_calls, 0);
    assert_int_equal(p.pings, 2 + (dup == 0) + (z == 0));
    test_net_fini(&n);
    app_fini(&p);
}

/* ---- TCP ----------------------------------------------------------------- */

/* The stack's address changes from inside a read callback of a flow on
 * it (stack.h: every flow on the old address ends with
 * OASIS_EADDRNOTAVAIL): every request still pending completes once, the
 * flows are finished handles, nothing is touched after release. */
static void rd_readdress(oasis_flow *f, int err, const uint8_t *d, size_t len, void *ud)
{
    app *p = ud;
    on_read(f, err, d, len, ud);
    if (p->reads == 1)
        p->reenter_results[6] = oasis_stack_set_ipv4(oasis_flow_stack(f), OASIS_IPV4(10, 0, 0, 11), 24, 0);
}

static void test_readdress_from_read_callback(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    app p = {0}, q = {0};
    connect_pair(&n, &p);
    connect_pair(&n, &q);
    assert_int_equal(oasis_tcp_read(p.fa, rd_readdress, &p), 0);
    assert_int_equal(oasis_tcp_read(q.fa, on_read, &q), 0);
    static uint8_t big[1 << 20];
    assert_int_equal(oasis_tcp_write(q.fa, big, sizeof big, on_write, &q), 0);
    assert_int_equal(oasis_tcp_close(q.fa, on_close, &q), 0);
    assert_int_equal(oasis_tcp_write(p.fb, "hi", 2, NULL, NULL), 0);
    run(&n, SEC);
    assert_int_equal(p.reenter_results[6], 0);
    assert_int_equal(p.reads, 1);
    assert_int_equal(q.reads, 1);
    assert_int_equal(q.writes, 1);
    assert_int_equal(q.closes, 1);
    assert_int_equal(oasis_tcp_flow_error(p.fa), OASIS_EADDRNOTAVAIL);
    assert_int_equal(oasis_tcp_flow_error(q.fa), OASIS_EADDRNOTAVAIL);
    assert_string_equal(oasis_tcp_flow_strerror(p.fa), oasis_strerror(OASIS_EADDRNOTAVAIL));
    /* the flow died (as by a reset): a later read is end-of-stream, on
     * the next poll, never inside the call */
    p.in_call = 1;
    assert_int_equal(oasis_tcp_read(p.fa, on_read, &p), 0);
    p.in_call = 0;
    assert_int_equal(p.reads, 1);
    oasis_stack_poll(n.a);
    assert_int_equal(p.reads, 2);
    assert_int_equal(p.read_err, OASIS_EOF);
    assert_int_equal(p.sync_calls + q.sync_calls, 0);
    oasis_tcp_release(p.fa);
    oasis_tcp_release(q.fa);
    run(&n, 10 * SEC);
    oasis_tcp_release(p.fb);
    oasis_tcp_release(q.fb);
    test_net_fini(&n);
    app_fini(&p), app_fini(&q);
}

/* oasis_tcp_disconnect from a walk's fn: the flows it finished are not
 * visited (tcp.h foreach: "a flow finished before its turn is not
 * visited"). */
static int walked;
static void walk_disconnect(oasis_flow *f, void *ud)
{
    (void)ud;
    walked++;
    oasis_tcp_disconnect(oasis_flow_stack(f));
}

static void test_disconnect_from_walk(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    app p = {0}, q = {0}, r = {0};
    connect_pair(&n, &p);
    connect_pair(&n, &q);
    connect_pair(&n, &r);
    assert_int_equal(oasis_tcp_read(p.fa, on_read, &p), 0);
    assert_int_equal(oasis_tcp_read(q.fa, on_read, &q), 0);
    assert_int_equal(oasis_tcp_read(r.fa, on_read, &r), 0);
    walked = 0;
    oasis_tcp_foreach_flow(n.a, walk_disconnect, NULL);
    assert_int_equal(walked, 1);
    assert_int_equal(p.reads + q.reads + r.reads, 3);
    assert_int_equal(p.read_err, OASIS_ECANCELED);
    oasis_tcp_release(p.fa), oasis_tcp_release(q.fa), oasis_tcp_release(r.fa);
    run(&n, SEC);
    oasis_tcp_release(p.fb), oasis_tcp_release(q.fb), oasis_tcp_release(r.fb);
    test_net_fini(&n);
    app_fini(&p), app_fini(&q), app_fini(&r);
}

/* A stack whose wire went away (wire.h: attached stacks are detached,
 * their link becomes NULL): the API still answers, requests complete
 * once, destroy frees everything. */
static void test_requests_after_wire_destroyed(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    app p = {0}, c = {0};
    connect_pair(&n, &p);
    assert_int_equal(oasis_wire_destroy(n.wire), 0);
    n.wire = NULL;
    assert_null(oasis_stack_link(n.a));
    assert_int_equal(oasis_tcp_write(p.fa, "abc", 3, on_write, &p), 0);
    assert_int_equal(oasis_tcp_write_nodelay(p.fa, "abc", 3, on_write, &p), 0);
    assert_int_equal(oasis_tcp_read(p.fa, on_read, &p), 0);
    int r1 = oasis_tcp_connect4(n.a, TEST_ADDR_B, PORT, NULL, on_connect, &c);
    int r2 = oasis_ping(n.a, TEST_ADDR_B, 1, 1, 8, SEC, on_ping, &c);
    int r3 = oasis_udp_send4(n.a, 1, TEST_ADDR_B, 2, "x", 1);
    (void)r3;
    for (int i = 0; i < 400; i++) {
        oasis_clock_advance(n.clock, SEC);
        oasis_stack_poll(n.a);
        oasis_stack_poll(n.b);
    }
    assert_int_equal(p.writes >= 1, 1); /* the first was taken */
    if (r1 == 0)
        assert_int_equal(c.connect_calls, 1);
    if (r2 == 0)
        assert_int_equal(c.pings, 1);
    assert_int_equal(oasis_stack_destroy(n.a), 0);
    n.a = NULL;
    assert_int_equal(p.writes, 2);
    assert_int_equal(p.reads, 1);
    oasis_tcp_release(p.fb);
    assert_int_equal(oasis_stack_destroy(n.b), 0);
    n.b = NULL;
    oasis_clock_free(n.clock);
    app_fini(&p), app_fini(&c);
}

/* Write then close over a lossy wire (CONTRACT: close "flushes every
 * pending write, then sends FIN"): every byte reaches the reader, in
 * order, before end-of-stream; every write completes 0 before close. */
static void on_close_check(oasis_flow *f, int err, void *ud)
{
    app *p = ud;
    assert_int_equal(p->writes, 8); /* every write first */
    on_close(f, err, ud);
}

static void test_write_then_close_lossy(void **state)
{
    (void)state;
    test_net n;
    app p;
    pair_open(&n, &p);
    oasis_impair imp;
    oasis_impair_init(&imp);
    imp.loss = 0.05;
    imp.reorder = 0.05;
    imp.duplicate = 0.02;
    oasis_link *la = oasis_stack_link(n.a), *lb = oasis_stack_link(n.b);
    assert_int_equal(oasis_wire_impair(n.wire, la, lb, &imp), 0);
    assert_int_equal(oasis_wire_impair(n.wire, lb, la, &imp), 0);
    enum { CHUNK = 100000, NW = 8 };
    uint8_t *data = malloc(CHUNK * NW);
    assert_non_null(data);
    for (size_t i = 0; i < CHUNK * NW; i++)
        data[i] = (uint8_t)(i * 131 + (i >> 9));
    for (int i = 0; i < NW; i++)
        assert_int_equal(oasis_tcp_write(p.fa, data + (size_t)i * CHUNK, CHUNK, on_write, &p), 0);
    assert_int_equal(oasis_tcp_close(p.fa, on_close_check, &p), 0);
    p.auto_read = 1;
    assert_int_equal(oasis_tcp_read(p.fb, on_read, &p), 0);
    for (int i = 0; i < 600 && !p.eof; i++)
        run(&n, SEC);
    assert_int_equal(p.eof, 1);
    assert_int_equal(p.rx_len, (size_t)CHUNK * NW);
    assert_memory_equal(p.rx, data, (size_t)CHUNK * NW);
    assert_int_equal(p.write_ok, NW);
    assert_int_equal(p.closes, 0); /* b has not closed */
    assert_int_equal(oasis_tcp_close(p.fb, NULL, NULL), 0);
    for (int i = 0; i < 600 && !p.closes; i++)
        run(&n, SEC);
    assert_int_equal(p.closes, 1);
    assert_int_equal(p.close_err, 0);
    oasis_tcp_release(p.fa);
    free(data);
    test_net_fini(&n);
    app_fini(&p);
}


/* shutdown(READ_WRITE) with writes of both kinds pending over a lossy wire
 * (CONTRACT: "after `read`, reads return Eof from then on; after `write`,
 * pending writes are flushed and a FIN tells the peer"): the peer gets
 * every byte in order then end-of-stream; our read reports end-of-stream
 * at once (next poll) although the peer goes on writing, and the peer's
 * writes still complete (acknowledged and dropped); the handle stays ours
 * until close. */
static void test_shutdown_both_with_writes_pending_lossy(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    app p = {0}, q = {0};
    connect_pair(&n, &p);
    oasis_impair imp;
    oasis_impair_init(&imp);
    imp.loss = 0.05;
    imp.reorder = 0.05;
    oasis_link *la = oasis_stack_link(n.a), *lb = oasis_stack_link(n.b);
    assert_int_equal(oasis_wire_impair(n.wire, la, lb, &imp), 0);
    assert_int_equal(oasis_wire_impair(n.wire, lb, la, &imp), 0);
    enum { LEN = 300000 };
    uint8_t *data = malloc(LEN);
    assert_non_null(data);
    for (size_t i = 0; i < LEN; i++)
        data[i] = (uint8_t)(i * 37 + (i >> 11));
    oasis_iovec v[3] = {{data, 1000}, {data + 1000, 0}, {data + 1000, 99000}};
    assert_int_equal(oasis_tcp_writev(p.fa, v, 3, on_write, &p), 0);
    assert_int_equal(oasis_tcp_write_nodelay(p.fa, data + 100000, 100000, on_write, &p), 0);
    assert_int_equal(oasis_tcp_write(p.fa, data + 200000, 100000, on_write, &p), 0);
    assert_int_equal(oasis_tcp_read(p.fa, on_read, &p), 0);
    p.in_call = 1;
    assert_int_equal(oasis_tcp_shutdown(p.fa, OASIS_TCP_SHUT_READ_WRITE), 0);
    assert_int_equal(oasis_tcp_write(p.fa, "late", 4, on_write, &p), 0); /* closed: on the next poll */
    p.in_call = 0;
    assert_int_equal(p.reads + p.writes, 0);
    oasis_stack_poll(n.a);
    assert_int_equal(p.reads, 1);
    assert_int_equal(p.read_err, OASIS_EOF);
    /* b reads everything, writes back meanwhile */
    q.auto_read = 1;
    assert_int_equal(oasis_tcp_read(p.fb, on_read, &q), 0);
    static uint8_t back[200000];
    assert_int_equal(oasis_tcp_write(p.fb, back, sizeof back, on_write, &q), 0);
    for (int i = 0; i < 600 && (!q.eof || q.writes < 1 || p.writes < 4); i++)
        run(&n, SEC);
    assert_int_equal(q.eof, 1);
    assert_int_equal(q.rx_len, (size_t)LEN);
    assert_memory_equal(q.rx, data, LEN);
    assert_int_equal(p.writes, 4);
    assert_int_equal(p.write_ok, 3);
    assert_int_equal(p.write_err, OASIS_ECLOSED);
    assert_int_equal(q.writes, 1);
    assert_int_equal(q.write_err, 0);      /* taken, acked, dropped by a */
    assert_int_equal(p.reads, 1);          /* nothing after end-of-stream */
    assert_int_equal(p.rx_len, 0);
    assert_int_equal(oasis_tcp_read(p.fa, on_read, &p), 0); /* sticky */
    run(&n, MS);
    assert_int_equal(p.reads, 2);
    assert_int_equal(p.read_err, OASIS_EOF);
    assert_int_equal(p.sync_calls, 0);
    assert_int_equal(oasis_tcp_close(p.fb, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_close(p.fa, on_close, &p), 0);
    for (int i = 0; i < 600 && !p.closes; i++)
        run(&n, SEC);
    assert_int_equal(p.closes, 1);
    assert_int_equal(p.close_err, 0);
    oasis_tcp_release(p.fa);
    free(data);
    test_net_fini(&n);
    app_fini(&p), app_fini(&q);
}


/* Smallest buffers (1 KiB each way, fixed), both ends writing at once
 * over a lossy, reordering wire, then both closing at the same instant
 * (simultaneous close, RFC 9293 3.6 case 2): every byte arrives in order
 * both ways before end-of-stream, and both close callbacks report 0. */
static void tiny_buffers_run(uint64_t seed)
{
    test_net n;
    oasis_wire_config wc;
    oasis_wire_config_init(&wc);
    wc.seed = seed;
    test_net_init(&n, &wc, NULL);
    app pa = {0}, pb = {0};
    oasis_listen_opts lo;
    memset(&lo, 0, sizeof lo);
    lo.bufs.sndbuf = lo.bufs.rcvbuf = 1024;
    assert_int_equal(oasis_tcp_listen(n.b, PORT, &lo, on_accept, &pb), 0);
    oasis_connect_opts co;
    memset(&co, 0, sizeof co);
    co.bufs.sndbuf = co.bufs.rcvbuf = 1024;
    oasis_flow *fa = NULL;
    assert_int_equal(oasis_tcp_connect_opts4(n.a, TEST_ADDR_B, PORT, &co, on_connect, &pa, &fa), 0);
    for (int i = 0; i < 100 && (!pb.accepted || !pa.connected); i++)
        run(&n, 10 * MS);
    assert_int_equal(pa.connected, 1);
    assert_int_equal(pb.accepted, 1);
    oasis_flow *fb = pb.fb;
    oasis_impair imp;
    oasis_impair_init(&imp);
    imp.loss = 0.03;
    imp.reorder = 0.1;
    imp.duplicate = 0.02;
    imp.delay_ns = 2 * MS;
    oasis_link *la = oasis_stack_link(n.a), *lb = oasis_stack_link(n.b);
    assert_int_equal(oasis_wire_impair(n.wire, la, lb, &imp), 0);
    assert_int_equal(oasis_wire_impair(n.wire, lb, la, &imp), 0);
    enum { LEN = 60000 };
    uint8_t *da = malloc(LEN), *db = malloc(LEN);
    assert_non_null(da);
    assert_non_null(db);
    for (size_t i = 0; i < LEN; i++) {
        da[i] = (uint8_t)(i * 13 + 1);
        db[i] = (uint8_t)(i * 29 + 7);
    }
    assert_int_equal(oasis_tcp_write(fa, da, LEN, on_write, &pa), 0);
    assert_int_equal(oasis_tcp_write(fb, db, LEN, on_write, &pb), 0);
    pa.auto_read = pb.auto_read = 1;
    assert_int_equal(oasis_tcp_read(fa, on_read, &pa), 0);
    assert_int_equal(oasis_tcp_read(fb, on_read, &pb), 0);
    /* both close now, with their writes still pending */
    assert_int_equal(oasis_tcp_close(fa, on_close, &pa), 0);
    assert_int_equal(oasis_tcp_close(fb, on_close, &pb), 0);
    for (int i = 0; i < 900 && (pa.closes + pb.closes < 2); i++)
        run(&n, SEC);
    assert_int_equal(pa.write_ok, 1);
    assert_int_equal(pb.write_ok, 1);
    assert_int_equal(pa.rx_len, (size_t)LEN);
    assert_int_equal(pb.rx_len, (size_t)LEN);
    assert_memory_equal(pa.rx, db, LEN);
    assert_memory_equal(pb.rx, da, LEN);
    assert_int_equal(pa.eof, 1);
    assert_int_equal(pb.eof, 1);
    assert_int_equal(pa.closes, 1);
    assert_int_equal(pb.closes, 1);
    assert_int_equal(pa.close_err, 0);
    assert_int_equal(pb.close_err, 0);
    oasis_tcp_release(fa);
    oasis_tcp_release(fb);
    free(da);
    free(db);
    test_net_fini(&n);
    app_fini(&pa), app_fini(&pb);
}

static void test_tiny_buffers_both_ways_simultaneous_close(void **state)
{
    (void)state;
    const char *env = getenv("PROBE_SEEDS");
    uint64_t seeds = env ? strtoull(env, NULL, 10) : 4;
    for (uint64_t seed = 1; seed <= seeds; seed++)
        tiny_buffers_run(seed);
}


/* trim (tcp.h: gives back the storage of the flow's empty buffers) with a
 * read pending and writes waiting: the bytes that arrive later are read,
 * the waiting writes go on; trim in SYN-SENT and on a finished handle. */
static void test_trim_with_requests_pending(void **state)
{
    (void)state;
    oasis_stack_config sc;
    oasis_stack_config_init(&sc);
    oasis_tcp_config tc = sc.tcp;
    tc.sndbuf = 8192;
    tc.autotune = 0;
    test_net n;
    test_net_init(&n, NULL, &tc);
    app p = {0}, q = {0};
    connect_pair(&n, &p);
    assert_int_equal(oasis_tcp_read(p.fa, on_read, &p), 0);
    assert_int_equal(oasis_tcp_trim(p.fa), 0);
    static uint8_t big[100000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i ^ (i >> 8));
    assert_int_equal(oasis_tcp_write(p.fb, big, sizeof big, on_write, &q), 0);
    assert_int_equal(oasis_tcp_trim(p.fb), 0); /* its send ring holds bytes */
    p.auto_read = 1;
    for (int i = 0; i < 100 && p.rx_len < sizeof big; i++) {
        run(&n, 10 * MS);
        assert_int_equal(oasis_tcp_trim(p.fa), 0);
        assert_int_equal(oasis_tcp_trim(p.fb), 0);
    }
    assert_int_equal(p.rx_len, sizeof big);
    assert_memory_equal(p.rx, big, sizeof big);
    assert_int_equal(q.write_ok, 1);
    oasis_flow *fc = NULL;
    app c = {0};
    assert_int_equal(oasis_tcp_connect_flow4(n.a, NOWHERE, 80, NULL, on_connect, &c, &fc), 0);
    assert_int_equal(oasis_tcp_trim(fc), 0);
    oasis_tcp_abort(fc);
    assert_int_equal(oasis_tcp_trim(fc), OASIS_ECLOSED);
    oasis_tcp_release(fc);
    oasis_tcp_release(p.fa);
    run(&n, SEC);
    oasis_tcp_release(p.fb);
    test_net_fini(&n);
    app_fini(&p), app_fini(&q), app_fini(&c);
}

/* An accept callback that takes the next waiting flow by hand
 * (oasis_tcp_accept) and pauses the listener: each flow is handed over
 * once, either way, none is lost. */
typedef struct acc2 {
    int cb_calls, by_hand;
    oasis_flow *got[8];
    int ngot;
} acc2;

static void acc2_cb(oasis_stack *s, oasis_flow *f, void *ud)
{
    acc2 *a = ud;
    a->cb_calls++;
    a->got[a->ngot++] = f;
    oasis_flow *g = oasis_tcp_accept(s, PORT);
    if (g) {
        a->by_hand++;
        a->got[a->ngot++] = g;
    }
    if (a->cb_calls == 1)
        assert_int_equal(oasis_tcp_accept_pause(s, PORT), 0);
}

static void test_accept_by_hand_inside_callback(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    acc2 a = {0};
    oasis_listen_opts lo;
    memset(&lo, 0, sizeof lo);
    lo.paused = 1;
    assert_int_equal(oasis_tcp_listen(n.b, PORT, &lo, acc2_cb, &a), 0);
    app c[5];
    memset(c, 0, sizeof c);
    for (int i = 0; i < 5; i++)
        assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, PORT, NULL, on_connect, &c[i]), 0);
    run(&n, SEC);
    assert_int_equal(oasis_tcp_accept_waiting(n.b, PORT), 5);
    assert_int_equal(oasis_tcp_accept_resume(n.b, PORT), 0);
    run(&n, SEC);
    /* first callback: one by callback, one by hand, then paused */
    assert_int_equal(a.cb_calls, 1);
    assert_int_equal(a.ngot, 2);
    assert_int_equal(oasis_tcp_accept_waiting(n.b, PORT), 3);
    assert_int_equal(oasis_tcp_accept_resume(n.b, PORT), 0);
    run(&n, SEC);
    assert_int_equal(a.ngot, 5);
    assert_int_equal(oasis_tcp_accept_waiting(n.b, PORT), 0);
    for (int i = 0; i < a.ngot; i++)
        for (int j = i + 1; j < a.ngot; j++)
            assert_ptr_not_equal(a.got[i], a.got[j]);
    for (int i = 0; i < a.ngot; i++)
        oasis_tcp_release(a.got[i]);
    run(&n, SEC);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(c[i].connected, 1);
        oasis_tcp_release(c[i].fa);
        app_fini(&c[i]);
    }
    test_net_fini(&n);
}

/* Keepalive setter at its edges and on a finished handle. */
static void test_set_keepalive_edges(void **state)
{
    (void)state;
    test_net n;
    app p;
    pair_open(&n, &p);
    oasis_keepalive k0 = {0, SEC, 3}, k1 = {SEC, 0, 3}, k2 = {SEC, SEC, 0};
    oasis_keepalive kmax = {UINT64_MAX, UINT64_MAX, UINT32_MAX}, kmin = {1, 1, 1};
    oasis_keepalive ksec = {SEC, SEC, 2};
    assert_int_equal(oasis_tcp_set_keepalive(p.fa, &k0), 0); /* first probe after SEC */
    assert_int_equal(oasis_tcp_set_keepalive(p.fa, &k1), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_keepalive(p.fa, &k2), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_keepalive(p.fa, &kmax), 0);
    assert_int_equal(oasis_tcp_set_keepalive(p.fa, NULL), 0);
    assert_int_equal(oasis_tcp_set_keepalive(p.fa, &kmin), 0);
    assert_int_equal(oasis_tcp_set_keepalive(p.fa, &ksec), 0);
    run(&n, 10 * SEC); /* b answers every probe: alive */
    assert_int_equal(oasis_tcp_flow_error(p.fa), 0);
    assert_int_equal(oasis_tcp_write(p.fa, "x", 1, on_write, &p), 0);
    run(&n, SEC);
    assert_int_equal(p.write_ok, 1);
    oasis_tcp_abort(p.fa);
    assert_int_equal(oasis_tcp_set_keepalive(p.fa, &kmin), OASIS_ECLOSED);
    assert_int_equal(oasis_tcp_set_keepalive(p.fa, NULL), OASIS_ECLOSED);
    pair_close(&n, &p);
}

/* Close and forget with data still unsent, then destroy at once: nothing
 * leaks (ASan), no callback. Also a shutdown(READ) with a read pending:
 * its OASIS_EOF comes on the next poll, not inside shutdown. */
static void test_forget_then_destroy_and_shutdown_read(void **state)
{
    (void)state;
    test_net n;
    app p;
    pair_open(&n, &p);
    static uint8_t big[1 << 18];
    assert_int_equal(oasis_tcp_write(p.fa, big, sizeof big, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_close(p.fa, NULL, NULL), 0);
    p.fa = NULL;
    assert_int_equal(oasis_tcp_read(p.fb, on_read, &p), 0);
    p.in_call = 1;
    assert_int_equal(oasis_tcp_shutdown(p.fb, OASIS_TCP_SHUT_READ), 0);
    p.in_call = 0;
    assert_int_equal(p.reads, 0);
    oasis_stack_poll(n.b);
    run(&n, 1);
    assert_int_equal(p.reads, 1);
    assert_int_equal(p.read_err, OASIS_EOF);
    assert_int_equal(p.sync_calls, 0);
    assert_int_equal(oasis_stack_destroy(n.a), 0);
    n.a = NULL;
    oasis_tcp_release(p.fb);
    test_net_fini(&n);
    app_fini(&p);
}


/* ---- what the API copies: argument memory freed right after the call ---- */

/* Keepalive structs handed to listen (opts) and connect, and the DHCP
 * client's id and hostname, freed as soon as the call returns: the stack
 * must have copied what it keeps (tcp.h: connect's keepalive "is copied";
 * dhcp.h: hostname "Copied"). ASan reports a read of freed memory. */
static void test_arguments_copied(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    app p = {0};
    oasis_keepalive *kl = malloc(sizeof *kl), *kc = malloc(sizeof *kc);
    assert_non_null(kl);
    assert_non_null(kc);
    *kl = (oasis_keepalive){SEC, SEC, 3};
    *kc = (oasis_keepalive){2 * SEC, SEC, 3};
    oasis_listen_opts lo;
    memset(&lo, 0, sizeof lo);
    lo.keepalive = kl;
    assert_int_equal(oasis_tcp_listen(n.b, PORT, &lo, on_accept, &p), 0);
    free(kl);
    oasis_connect_opts co;
    memset(&co, 0, sizeof co);
    co.keepalive = kc;
    oasis_flow *fc = NULL;
    assert_int_equal(oasis_tcp_connect_opts4(n.a, TEST_ADDR_B, PORT, &co, on_connect, &p, &fc), 0);
    free(kc);
    for (int i = 0; i < 100 && (!p.accepted || !p.connected); i++)
        run(&n, 10 * MS);
    assert_int_equal(p.accepted, 1);
    assert_int_equal(p.connected, 1);
    run(&n, 10 * SEC); /* probes both ways, answered */
    assert_int_equal(oasis_tcp_flow_error(fc), 0);
    assert_int_equal(oasis_tcp_flow_error(p.fb), 0);
    oasis_tcp_release(fc);
    run(&n, SEC);
    oasis_tcp_release(p.fb);

    oasis_dhcp_config dc;
    oasis_dhcp_config_init(&dc);
    char *host = strdup("probe-host");
    uint8_t *cid = malloc(7);
    assert_non_null(host);
    assert_non_null(cid);
    memcpy(cid, "\x01\x02\x00\x00\x00\x00\x01", 7);
    dc.hostname = host;
    dc.client_id = cid;
    dc.client_id_len = 7;
    dc.start_delay_max_ns = 1;
    oasis_dhcp *dh = NULL;
    assert_int_equal(oasis_dhcp_create(n.a, &dc, &dh), 0);
    free(host);
    free(cid);
    assert_int_equal(oasis_dhcp_start(dh), 0);
    run(&n, 10 * SEC); /* DISCOVERs built from the config */
    assert_true(oasis_dhcp_get_counters(dh) != NULL);
    assert_int_equal(oasis_dhcp_destroy(dh), 0);
    test_net_fini(&n);
    app_fini(&p);
}


/* ---- the wire changed from inside a callback it runs ------------------- */

/* wire.h forbids only oasis_wire_destroy from inside oasis_wire_step/run;
 * attaching another stack (the port and channel arrays grow) and
 * detaching one (also the stack whose callback runs) are allowed, so the
 * step must not go on with stale pointers (ASan) and every frame still
 * reaches whom it should. */
typedef struct wire_cb {
    test_net *n;
    oasis_stack *c[4];
    int nc;
    int reads;
    int detach_self;
    oasis_flow *f;
} wire_cb;

static void wire_read(oasis_flow *f, int err, const uint8_t *d, size_t len, void *ud)
{
    (void)d, (void)len;
    wire_cb *w = ud;
    w->reads++;
    if (err)
        return;
    if (w->nc < 4) {
        oasis_stack_config cfg;
        test_stack_config(&cfg, w->n->clock, 3 + w->nc);
        assert_int_equal(oasis_stack_create(&cfg, &w->c[w->nc]), 0);
        assert_non_null(oasis_wire_attach(w->n->wire, w->c[w->nc]));
        w->nc++;
    }
    if (w->detach_self && w->nc == 4) {
        w->detach_self = 0;
        assert_int_equal(oasis_wire_detach(w->n->wire, oasis_flow_stack(f)), 0);
        return;
    }
    assert_int_equal(oasis_tcp_read(f, wire_read, w), 0);
}

static void test_wire_changed_from_callback(void **state)
{
    (void)state;
    test_net n;
    app p;
    pair_open(&n, &p);
    wire_cb w = {0};
    w.n = &n;
    w.detach_self = 1;
    assert_int_equal(oasis_tcp_read(p.fa, wire_read, &w), 0);
    static uint8_t big[1 << 20];
    assert_int_equal(oasis_tcp_write(p.fb, big, sizeof big, on_write, &p), 0);
    run(&n, 5 * SEC);
    assert_int_equal(w.nc, 4);
    /* a left the wire from its own callback: b's bytes stop reaching it */
    assert_null(oasis_stack_link(n.a));
    int reads = w.reads;
    run(&n, 5 * SEC);
    assert_int_equal(w.reads, reads);
    /* the new stacks work: c[0] pings c[3] */
    app c = {0};
    assert_int_equal(oasis_ping(w.c[0], OASIS_IPV4(10, 0, 0, 6), 1, 1, 8, SEC, on_ping, &c), 0);
    run(&n, 2 * SEC);
    assert_int_equal(c.pings, 1);
    assert_int_equal(c.ping_err, 0);
    oasis_tcp_release(p.fa);
    oasis_tcp_release(p.fb);
    for (int i = 0; i < w.nc; i++)
        assert_int_equal(oasis_stack_destroy(w.c[i]), 0);
    test_net_fini(&n);
    app_fini(&p);
}


/* ---- the end of time --------------------------------------------------- */

/* Two stacks whose clock starts 100 s before the end of uint64_t
 * nanoseconds (a custom clock may start anywhere; stack.h: durations are
 * added saturating): a connection opens, carries its bytes, keepalive
 * keeps it up, both close; nothing wraps into the past on the way (a
 * wrapped deadline would fire every timer at once: retransmission storms,
 * keepalive deaths, a TIME_WAIT gone early). */
static void test_clock_near_its_end(void **state)
{
    (void)state;
    test_net n;
    memset(&n, 0, sizeof n);
    n.clock = oasis_clock_new_virtual(UINT64_MAX - 100 * SEC);
    assert_non_null(n.clock);
    assert_int_equal(oasis_wire_create(n.clock, NULL, &n.wire), 0);
    oasis_stack_config cfg;
    test_stack_config(&cfg, n.clock, 1);
    assert_int_equal(oasis_stack_create(&cfg, &n.a), 0);
    test_stack_config(&cfg, n.clock, 2);
    assert_int_equal(oasis_stack_create(&cfg, &n.b), 0);
    assert_non_null(oasis_wire_attach(n.wire, n.a));
    assert_non_null(oasis_wire_attach(n.wire, n.b));
    app p = {0};
    connect_pair(&n, &p);
    const oasis_keepalive k = {2 * SEC, SEC, 3};
    assert_int_equal(oasis_tcp_set_keepalive(p.fa, &k), 0);
    enum { LEN = 200000 };
    static uint8_t data[LEN];
    for (size_t i = 0; i < LEN; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(oasis_tcp_write(p.fa, data, LEN, on_write, &p), 0);
    p.auto_read = 1;
    assert_int_equal(oasis_tcp_read(p.fb, on_read, &p), 0);
    run(&n, 5 * SEC);
    assert_int_equal(p.rx_len, (size_t)LEN);
    assert_memory_equal(p.rx, data, LEN);
    run(&n, 20 * SEC); /* idle: keepalive probes answered */
    assert_int_equal(oasis_tcp_flow_error(p.fa), 0);
    const oasis_tcp_counters *ca = &oasis_stack_counters(n.a)->tcp;
    assert_true(ca->keepalive_probes >= 5);
    assert_int_equal(ca->keepalive_drops, 0);
    uint64_t rexmit = ca->retrans_segs;
    assert_int_equal(oasis_tcp_close(p.fa, on_close, &p), 0);
    assert_int_equal(oasis_tcp_close(p.fb, NULL, NULL), 0);
    run(&n, 5 * SEC);
    assert_int_equal(p.closes, 1);
    assert_int_equal(p.close_err, 0);
    assert_int_equal(ca->retrans_segs, rexmit); /* no storm */
    oasis_tcp_release(p.fa);
    /* past the end: the clock stops at UINT64_MAX; the stacks stay sane */
    assert_int_equal(oasis_clock_advance(n.clock, 200 * SEC), 0);
    oasis_stack_poll(n.a);
    oasis_stack_poll(n.b);
    assert_int_equal(oasis_ping(n.a, TEST_ADDR_B, 1, 1, 8, SEC, on_ping, &p), 0);
    for (int i = 0; i < 10 && !p.pings; i++)
        (void)oasis_wire_step(n.wire);
    assert_int_equal(p.pings, 1);
    assert_int_equal(p.ping_err, 0);
    test_net_fini(&n);
    app_fini(&p);
}

/* ---- error words --------------------------------------------------------- */

static void test_every_error_has_words(void **state)
{
    (void)state;
    /* every oasis_err and every DNS error: non-NULL, non-empty, distinct */
    const char *seen[OASIS_ERR_COUNT_ + 14];
    size_t k = 0;
    for (int e = 0; e > -OASIS_ERR_COUNT_; e--) {
        const char *t = oasis_dns_strerror(e);
        assert_non_null(t);
        assert_true(t[0] != 0);
        assert_string_equal(t, oasis_strerror(e));
        seen[k++] = t;
    }
    for (int e = OASIS_DNS_ENXDOMAIN; e >= OASIS_DNS_ENOTIME; e--) {
        const char *t = oasis_dns_strerror(e);
        assert_non_null(t);
        assert_true(t[0] != 0);
        seen[k++] = t;
    }
    for (size_t i = 0; i < k; i++)
        for (size_t j = i + 1; j < k; j++)
            if (strcmp(seen[i], seen[j]) == 0 &&
                !(j == k - 1 - (size_t)(OASIS_DNS_ENOMEM - OASIS_DNS_ENOTIME) && /* the same condition */
                  strcmp(seen[j], oasis_strerror(OASIS_ENOMEM)) == 0))
                fail_msg("two errors share the words \"%s\"", seen[i]);
    assert_non_null(oasis_dns_strerror(-99));
    assert_non_null(oasis_dns_strerror(-114));
    assert_non_null(oasis_dns_strerror(INT32_MIN));
    assert_non_null(oasis_dns_strerror(INT32_MAX));
    assert_non_null(oasis_strerror(INT32_MIN));
    assert_non_null(oasis_err_name(INT32_MIN));
    assert_non_null(oasis_dhcp_state_name((oasis_dhcp_state)-1));
    assert_non_null(oasis_dhcp_state_name((oasis_dhcp_state)1000));
    assert_non_null(oasis_dhcp_event_name((oasis_dhcp_event)-1));
    assert_non_null(oasis_dhcp_event_name((oasis_dhcp_event)1000));
    assert_non_null(oasis_tcp_state_name(OASIS_TCP_TIME_WAIT));
}

/* ---- DNS ----------------------------------------------------------------- */

typedef struct dns_probe {
    oasis_dns *r;
    int calls[8];
    int status[8];
    int in_call, sync_calls;
    oasis_dns_req *other;     /* canceled from a callback */
    int cancel_result, resolve_result;
    int resolve_in_cancel;    /* resolve again from an ECANCELED callback */
    int extra_calls;
} dns_probe;

static void dns_extra(oasis_dns_req *req, int status, const oasis_dns_result *res, void *ud)
{
    (void)req, (void)status, (void)res;
    dns_probe *d = ud;
    d->extra_calls++;
}

typedef struct dns_slot {
    dns_probe *d;
    int idx;
} dns_slot;

static void dns_slot_cb(oasis_dns_req *req, int status, const oasis_dns_result *res, void *ud)
{
    (void)req, (void)res;
    dns_slot *sl = ud;
    dns_probe *d = sl->d;
    if (d->in_call)
        d->sync_calls++;
    d->calls[sl->idx]++;
    d->status[sl->idx] = status;
    if (sl->idx == 0 && d->other) {
        d->cancel_result = oasis_dns_cancel(d->other);
        d->other = NULL;
    }
    if (status == OASIS_DNS_ECANCELED && d->resolve_in_cancel) {
        d->resolve_in_cancel = 0;
        d->resolve_result = oasis_dns_resolve(d->r, "late.test", OASIS_DNS_INET, dns_extra, d, NULL);
    }
}

static void test_dns_misuse(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    dns_probe d = {0};
    dns_slot sl[8];
    for (int i = 0; i < 8; i++)
        sl[i] = (dns_slot){&d, i};
    assert_int_equal(oasis_dns_create(NULL, NULL, &d.r), OASIS_EINVAL);
    assert_int_equal(oasis_dns_create(n.a, NULL, &d.r), 0);
    /* no server yet */
    assert_int_equal(oasis_dns_resolve(d.r, "a.test", OASIS_DNS_INET, dns_slot_cb, &sl[0], NULL),
                     OASIS_DNS_ENOSERVERS);
    uint32_t srv = TEST_ADDR_B; /* b has no DNS server: port unreachable */
    assert_int_equal(oasis_dns_set_servers(d.r, &srv, 1), 0);
    char longname[400];
    memset(longname, 'a', sizeof longname);
    longname[sizeof longname - 1] = 0;
    char label64[80];
    memset(label64, 'b', 64);
    strcpy(label64 + 64, ".test");
    const char *bad[] = {"", "..", "a..b", ".a", longname, label64};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int r = oasis_dns_resolve(d.r, bad[i], OASIS_DNS_INET, dns_slot_cb, &sl[0], NULL);
        if (r != OASIS_DNS_EBADNAME)
            fail_msg("name #%zu: %d (%s), not OASIS_DNS_EBADNAME", i, r, oasis_dns_strerror(r));
    }
    assert_int_equal(oasis_dns_resolve(d.r, NULL, OASIS_DNS_INET, dns_slot_cb, &sl[0], NULL), OASIS_EINVAL);
    assert_int_equal(oasis_dns_resolve(d.r, "a.test", (oasis_dns_family)5, dns_slot_cb, &sl[0], NULL),
                     OASIS_EINVAL);
    assert_int_equal(oasis_dns_resolve(d.r, "a.test", OASIS_DNS_INET, NULL, &sl[0], NULL), OASIS_EINVAL);
    assert_int_equal(oasis_dns_cancel(NULL), OASIS_EINVAL);
    assert_int_equal(d.calls[0], 0);
    /* lists beyond their bounds, NULL lists */
    uint32_t nine[OASIS_DNS_MAX_SERVERS + 1];
    for (int i = 0; i <= OASIS_DNS_MAX_SERVERS; i++)
        nine[i] = TEST_ADDR_B;
    assert_int_equal(oasis_dns_set_servers(d.r, nine, OASIS_DNS_MAX_SERVERS + 1), OASIS_EINVAL);
    assert_int_equal(oasis_dns_set_servers(d.r, NULL, 1), OASIS_EINVAL);
    uint32_t zero = 0;
    assert_int_equal(oasis_dns_set_servers(d.r, &zero, 1), OASIS_EINVAL);
    assert_int_equal(oasis_dns_servers(d.r, NULL, 0), 1); /* the list stayed */
    const char *doms[OASIS_DNS_MAX_SEARCH + 1] = {"a", "b", "c", "d", "e", "f", "g"};
    assert_int_equal(oasis_dns_set_search(d.r, doms, OASIS_DNS_MAX_SEARCH + 1), OASIS_EINVAL);
    assert_int_equal(oasis_dns_set_search(d.r, NULL, 1), OASIS_EINVAL);
    const char *badd[1] = {"a..b"};
    assert_int_equal(oasis_dns_set_search(d.r, badd, 1), OASIS_DNS_EBADNAME);
    assert_int_equal(oasis_dns_search(d.r, NULL, 0), 0);
    assert_int_equal(oasis_dns_set_time(d.r, UINT64_MAX), OASIS_EINVAL);

    /* a dotted quad: not inside the call; canceled before the poll: never */
    oasis_dns_req *q1 = NULL, *q2 = NULL;
    d.in_call = 1;
    assert_int_equal(oasis_dns_resolve(d.r, "10.0.0.7", OASIS_DNS_INET, dns_slot_cb, &sl[1], &q1), 0);
    assert_int_equal(oasis_dns_resolve(d.r, "10.0.0.8", OASIS_DNS_INET, dns_slot_cb, &sl[2], &q2), 0);
    assert_int_equal(oasis_dns_cancel(q2), 0);
    d.in_call = 0;
    run(&n, SEC);
    assert_int_equal(d.sync_calls, 0);
    assert_int_equal(d.calls[1], 1);
    assert_int_equal(d.status[1], 0);
    assert_int_equal(d.calls[2], 0);

    /* request 0's callback cancels request 3 (still pending) */
    oasis_dns_req *q3 = NULL;
    assert_int_equal(oasis_dns_resolve(d.r, "10.0.0.9", OASIS_DNS_INET, dns_slot_cb, &sl[0], NULL), 0);
    assert_int_equal(oasis_dns_resolve(d.r, "three.test", OASIS_DNS_INET, dns_slot_cb, &sl[3], &q3), 0);
    d.other = q3;
    run(&n, 100 * MS);
    assert_int_equal(d.calls[0], 1);
    assert_int_equal(d.cancel_result, 0);
    run(&n, 60 * SEC);
    assert_int_equal(d.calls[3], 0);

    /* destroy with requests pending; one callback asks again */
    assert_int_equal(oasis_dns_resolve(d.r, "four.test", OASIS_DNS_INET, dns_slot_cb, &sl[4], NULL), 0);
    assert_int_equal(oasis_dns_resolve(d.r, "five.test", OASIS_DNS_INET6, dns_slot_cb, &sl[5], NULL), 0);
    assert_int_equal(oasis_dns_resolve(d.r, "FOUR.test", OASIS_DNS_INET, dns_slot_cb, &sl[6], NULL), 0);
    d.resolve_in_cancel = 1;
    assert_int_equal(oasis_dns_destroy(d.r), 0);
    assert_int_equal(d.calls[4], 1);
    assert_int_equal(d.calls[5], 1);
    assert_int_equal(d.calls[6], 1);
    assert_int_equal(d.status[4], OASIS_DNS_ECANCELED);
    assert_int_equal(d.status[6], OASIS_DNS_ECANCELED);
    if (d.resolve_result == 0 && d.extra_calls != 1)
        fail_msg("a resolve from a callback of oasis_dns_destroy was accepted and never completed");
    test_net_fini(&n);
}


/* ---- a resolver's own TCP flow (after TC=1) ---------------------------- */

/* b plays a DNS server that answers every UDP query with TC=1 (an empty,
 * truncated reply: RFC 1035 4.1.1, RFC 7766 5) and takes TCP connections
 * on 53 without ever answering: the resolver on a then holds a TCP flow
 * of its own. That flow is the library's, not the application's. */
typedef struct tc_server {
    oasis_stack *s;
    int queries, tcp_accepted;
    oasis_flow *held[8];
} tc_server;

static void tc_udp(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport, const oasis_ipaddr *dst,
                   uint16_t dport, const uint8_t *d, size_t len, void *ud)
{
    (void)dst;
    tc_server *t = ud;
    t->queries++;
    if (len < 12 || len > 512)
        return;
    uint8_t r[512];
    memcpy(r, d, len);
    r[2] |= 0x82; /* QR, TC */
    r[3] = 0x80;  /* RA, NOERROR */
    assert_int_equal(oasis_udp_send(s, dport, src, sport, r, len), 0);
}

static void tc_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    tc_server *t = ud;
    if (t->tcp_accepted < 8)
        t->held[t->tcp_accepted] = f;
    else
        oasis_tcp_release(f);
    t->tcp_accepted++;
}

static void tc_server_start(tc_server *t, oasis_stack *s)
{
    memset(t, 0, sizeof *t);
    t->s = s;
    assert_int_equal(oasis_udp_bind(s, 53, tc_udp, t), 0);
    assert_int_equal(oasis_tcp_listen(s, 53, NULL, tc_accept, t), 0);
}

static void tc_server_stop(tc_server *t)
{
    for (int i = 0; i < t->tcp_accepted && i < 8; i++)
        oasis_tcp_release(t->held[i]);
}

typedef struct dns_once {
    int calls, status;
} dns_once;

static void dns_once_cb(oasis_dns_req *req, int status, const oasis_dns_result *res, void *ud)
{
    (void)req, (void)res;
    dns_once *o = ud;
    o->calls++;
    o->status = status;
}

/* oasis_tcp_disconnect (the application shuts TCP down) while a resolver's
 * TCP try is open: the try fails, the request still completes exactly
 * once (with an error, or the next try's answer), the resolver stays
 * usable. */
static void test_disconnect_under_resolver(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    tc_server t;
    tc_server_start(&t, n.b);
    oasis_dns *r = NULL;
    assert_int_equal(oasis_dns_create(n.a, NULL, &r), 0);
    uint32_t srv = TEST_ADDR_B;
    assert_int_equal(oasis_dns_set_servers(r, &srv, 1), 0);
    dns_once o = {0};
    assert_int_equal(oasis_dns_resolve(r, "big.test", OASIS_DNS_INET, dns_once_cb, &o, NULL), 0);
    for (int i = 0; i < 50 && !t.tcp_accepted; i++)
        run(&n, 10 * MS);
    assert_int_equal(t.tcp_accepted, 1);
    oasis_tcp_disconnect(n.a);
    run(&n, 60 * SEC);
    assert_int_equal(o.calls, 1);
    assert_true(o.status != 0);
    dns_once o2 = {0};
    assert_int_equal(oasis_dns_resolve(r, "10.1.2.3", OASIS_DNS_INET, dns_once_cb, &o2, NULL), 0);
    run(&n, SEC);
    assert_int_equal(o2.calls, 1);
    assert_int_equal(o2.status, 0);
    assert_int_equal(oasis_dns_destroy(r), 0);
    assert_int_equal(o.calls, 1);
    tc_server_stop(&t);
    test_net_fini(&n);
}


/* ---- DNS answers from a cache and joined questions ---------------------- */

/* b answers A queries for names starting "x" with 10.9.8.7 (TTL 300) and
 * the others with NXDOMAIN (with an SOA for the negative cache: RFC 2308). */
typedef struct a_server {
    int queries;
} a_server;

static void a_udp(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport, const oasis_ipaddr *dst,
                  uint16_t dport, const uint8_t *d, size_t len, void *ud)
{
    (void)dst;
    a_server *t = ud;
    t->queries++;
    if (len < 17 || len > 400)
        return;
    size_t q = 12;
    while (q < len && d[q])
        q += 1 + d[q];
    q += 5; /* root label, QTYPE, QCLASS */
    if (q > len)
        return;
    uint8_t r[600];
    memcpy(r, d, q);
    r[2] = 0x80 | (d[2] & 0x01); /* QR, RD echoed */
    r[3] = 0x80;                 /* RA */
    r[6] = r[7] = r[8] = r[9] = r[10] = r[11] = 0;
    size_t n = q;
    if (d[13] == 'x') {
        r[7] = 1; /* ANCOUNT */
        const uint8_t ans[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, 10, 9, 8, 7};
        memcpy(r + n, ans, sizeof ans);
        n += sizeof ans;
    } else {
        r[3] |= 3; /* NXDOMAIN */
        r[9] = 1;  /* NSCOUNT: an SOA of the root, TTL 60, MINIMUM 60 */
        const uint8_t soa[] = {0, 0, 6, 0, 1, 0, 0, 0, 60, 0, 22, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1,
                               0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 60};
        memcpy(r + n, soa, sizeof soa);
        n += sizeof soa;
    }
    assert_int_equal(oasis_udp_send(s, dport, src, sport, r, n), 0);
}

typedef struct dns_rec {
    int calls, status, from_cache, in_call, sync_calls;
    uint32_t addr;
    oasis_dns_req *cancel_me;
    int cancel_result;
} dns_rec;

static void dns_rec_cb(oasis_dns_req *req, int status, const oasis_dns_result *res, void *ud)
{
    (void)req;
    dns_rec *c = ud;
    if (c->in_call)
        c->sync_calls++;
    c->calls++;
    c->status = status;
    if (!status) {
        c->from_cache = res->from_cache;
        c->addr = res->addr[0];
    }
    if (c->cancel_me) {
        c->cancel_result = oasis_dns_cancel(c->cancel_me);
        c->cancel_me = NULL;
    }
}

/* dns.h: the callback runs "never from inside the call that started it":
 * also for answers from the cache (positive and negative) and for a
 * request that joined one in flight. A joined request canceled from the
 * callback of the one it joined never runs. */
static void test_dns_cache_and_joined(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    a_server t = {0};
    assert_int_equal(oasis_udp_bind(n.b, 53, a_udp, &t), 0);
    oasis_dns *r = NULL;
    assert_int_equal(oasis_dns_create(n.a, NULL, &r), 0);
    uint32_t srv = TEST_ADDR_B;
    assert_int_equal(oasis_dns_set_servers(r, &srv, 1), 0);

    dns_rec c1 = {0}, c2 = {0}, c3 = {0}, c4 = {0}, c5 = {0};
    oasis_dns_req *q3 = NULL;
    c1.in_call = c2.in_call = c3.in_call = 1;
    assert_int_equal(oasis_dns_resolve(r, "xa.test", OASIS_DNS_INET, dns_rec_cb, &c1, NULL), 0);
    assert_int_equal(oasis_dns_resolve(r, "XA.test", OASIS_DNS_INET, dns_rec_cb, &c2, NULL), 0);
    assert_int_equal(oasis_dns_resolve(r, "xa.TEST", OASIS_DNS_INET, dns_rec_cb, &c3, &q3), 0);
    c1.in_call = c2.in_call = c3.in_call = 0;
    c1.cancel_me = q3; /* the first callback cancels the third, joined, request */
    run(&n, SEC);
    assert_int_equal(t.queries, 1); /* one question asked */
    assert_int_equal(c1.calls, 1);
    assert_int_equal(c1.status, 0);
    assert_int_equal(c1.addr, OASIS_IPV4(10, 9, 8, 7));
    assert_int_equal(c2.calls, 1);
    assert_int_equal(c2.status, 0);
    assert_int_equal(c1.cancel_result, 0);
    assert_int_equal(c3.calls, 0);

    /* from the cache: not inside the call */
    c4.in_call = 1;
    assert_int_equal(oasis_dns_resolve(r, "xa.test", OASIS_DNS_INET, dns_rec_cb, &c4, NULL), 0);
    c4.in_call = 0;
    assert_int_equal(c4.calls, 0);
    run(&n, MS);
    assert_int_equal(c4.calls, 1);
    assert_int_equal(c4.from_cache, 1);
    assert_int_equal(t.queries, 1);

    /* negative answer, then from the negative cache */
    assert_int_equal(oasis_dns_resolve(r, "nope.test", OASIS_DNS_INET, dns_rec_cb, &c5, NULL), 0);
    run(&n, SEC);
    assert_int_equal(c5.calls, 1);
    assert_int_equal(c5.status, OASIS_DNS_ENXDOMAIN);
    int queries = t.queries;
    c5.in_call = 1;
    assert_int_equal(oasis_dns_resolve(r, "nope.test", OASIS_DNS_INET, dns_rec_cb, &c5, NULL), 0);
    c5.in_call = 0;
    run(&n, MS);
    assert_int_equal(c5.calls, 2);
    assert_int_equal(c5.status, OASIS_DNS_ENXDOMAIN);
    assert_int_equal(t.queries, queries);
    /* a cached answer canceled before the poll: never called */
    dns_rec c6 = {0};
    oasis_dns_req *q6 = NULL;
    assert_int_equal(oasis_dns_resolve(r, "xa.test", OASIS_DNS_INET, dns_rec_cb, &c6, &q6), 0);
    assert_int_equal(oasis_dns_cancel(q6), 0);
    run(&n, SEC);
    assert_int_equal(c6.calls, 0);
    assert_int_equal(c1.sync_calls + c2.sync_calls + c3.sync_calls + c4.sync_calls + c5.sync_calls, 0);
    const oasis_dns_counters *k = oasis_dns_get_counters(r);
    assert_int_equal(k->canceled, 2);
    assert_int_equal(oasis_dns_destroy(r), 0);
    test_net_fini(&n);
}

/* ---- DHCP ---------------------------------------------------------------- */

static void dhcp_cb(oasis_dhcp *dh, oasis_dhcp_event ev, const oasis_dhcp_lease *l, void *ud)
{
    (void)dh, (void)ev, (void)l;
    (*(int *)ud)++;
}

static void test_dhcp_misuse(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    oasis_dhcp_config cfg;
    oasis_dhcp_config_init(&cfg);
    int events = 0;
    cfg.cb = dhcp_cb;
    cfg.ud = &events;
    oasis_dhcp *dh = NULL;
    assert_int_equal(oasis_dhcp_create(NULL, &cfg, &dh), OASIS_EINVAL);
    assert_int_equal(oasis_dhcp_destroy(NULL), 0);
    assert_int_equal(oasis_dhcp_create(n.a, &cfg, &dh), 0);
    oasis_dhcp_lease l;
    assert_true(oasis_dhcp_get_lease(dh, &l) != 0);
    oasis_dhcp_stop(dh, 1); /* not started */
    assert_int_equal(oasis_dhcp_start(dh), 0);
    assert_int_equal(oasis_dhcp_start(dh), OASIS_EBUSY);
    run(&n, 30 * SEC);
    oasis_dhcp_stop(dh, 1);
    oasis_dhcp_stop(dh, 1);
    assert_int_equal(oasis_dhcp_start(dh), 0);
    run(&n, SEC);
    assert_int_equal(oasis_dhcp_destroy(dh), 0); /* while running */
    run(&n, 60 * SEC);
    test_net_fini(&n);
}

/* A writev whose lengths add up past SIZE_MAX is refused (OASIS_EINVAL);
 * before, it was taken and the send-buffer figures wrapped to 1 byte. */
static void test_writev_length_overflow(void **state)
{
    (void)state;
    test_net n;
    app p;
    pair_open(&n, &p);
    const size_t G = (size_t)1 << 30;
    void *m = mmap(NULL, G, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(m != MAP_FAILED);
    oasis_iovec v[2] = {{m, SIZE_MAX}, {m, 2}};
    assert_int_equal(oasis_tcp_writev(p.fa, v, 2, on_write, &p), OASIS_EINVAL);
    oasis_tcp_sndbuf sb;
    assert_int_equal(oasis_tcp_get_sndbuf(p.fa, &sb), 0);
    assert_int_equal(sb.pending + sb.unsent + sb.unacked, 0);
    oasis_tcp_abort(p.fa);
    oasis_tcp_release(p.fa);
    munmap(m, G);
    run(&n, SEC);
    oasis_tcp_release(p.fb);
    test_net_fini(&n);
    app_fini(&p);
}

/* ---- the walk hands out the application's flows only ---- */

static int walk_seen;
static void walk_release(oasis_flow *f, void *ud)
{
    (void)ud;
    walk_seen++;
    oasis_tcp_release(f); /* "closing idle flows": the application's own */
}

static void walk_count(oasis_flow *f, void *ud)
{
    walk_seen++;
    *(oasis_flow **)ud = f;
}

/* A resolver's TCP try (after TC=1) is the library's flow: the walk does
 * not hand it to the application, which could release it under the
 * resolver. The application's own flow is visited; the request still
 * completes exactly once. */
static void test_walk_skips_resolver_flow(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    tc_server t;
    tc_server_start(&t, n.b);
    oasis_dns *r = NULL;
    assert_int_equal(oasis_dns_create(n.a, NULL, &r), 0);
    uint32_t srv = TEST_ADDR_B;
    assert_int_equal(oasis_dns_set_servers(r, &srv, 1), 0);
    dns_once o = {0};
    assert_int_equal(oasis_dns_resolve(r, "big.test", OASIS_DNS_INET, dns_once_cb, &o, NULL), 0);
    for (int i = 0; i < 50 && !t.tcp_accepted; i++)
        run(&n, 10 * MS);
    assert_int_equal(t.tcp_accepted, 1); /* the resolver's TCP try is open */
    walk_seen = 0;
    oasis_tcp_foreach_flow(n.a, walk_release, NULL);
    assert_int_equal(walk_seen, 0);
    app p = {0};
    connect_pair(&n, &p);
    oasis_flow *mine = NULL;
    walk_seen = 0;
    oasis_tcp_foreach_flow(n.a, walk_count, &mine);
    assert_int_equal(walk_seen, 1);
    assert_ptr_equal(mine, p.fa);
    run(&n, 60 * SEC);
    assert_int_equal(oasis_tcp_flow_error(p.fa), 0);
    assert_int_equal(o.calls, 1);
    assert_int_equal(oasis_dns_destroy(r), 0);
    assert_int_equal(o.calls, 1);
    tc_server_stop(&t);
    oasis_tcp_release(p.fa);
    oasis_tcp_release(p.fb);
    test_net_fini(&n);
    app_fini(&p);
}

typedef struct sink {
    size_t bytes;
    oasis_flow *f;
} sink;

static void sink_read(oasis_flow *f, int err, const uint8_t *d, size_t len, void *ud)
{
    (void)d;
    sink *k = ud;
    if (err)
        return;
    k->bytes += len;
    assert_int_equal(oasis_tcp_read(f, sink_read, k), 0);
}

static void sink_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    sink *k = ud;
    k->f = f;
    assert_int_equal(oasis_tcp_read(f, sink_read, k), 0);
}

/* The metrics reporter's connection to its sink is the library's too:
 * not visited, and the reporter goes on over the same connection. */
static void test_walk_skips_reporter_flow(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    sink k = {0};
    assert_int_equal(oasis_tcp_listen(n.b, 8094, NULL, sink_accept, &k), 0);
    oasis_metrics *m = NULL;
    assert_int_equal(oasis_metrics_create(NULL, &m), 0);
    assert_int_equal(oasis_metrics_add_stack(m, n.a, NULL, 0), 0);
    oasis_reporter_config rc;
    oasis_reporter_config_init(&rc);
    rc.proto = OASIS_REPORTER_TCP;
    rc.addr = TEST_ADDR_B;
    rc.port = 8094;
    rc.interval_ns = SEC;
    oasis_reporter *r = NULL;
    assert_int_equal(oasis_reporter_create(n.a, m, &rc, &r), 0);
    run(&n, 3 * SEC);
    assert_non_null(k.f);
    size_t before = k.bytes;
    assert_true(before > 0);
    walk_seen = 0;
    oasis_tcp_foreach_flow(n.a, walk_release, NULL);
    assert_int_equal(walk_seen, 0);
    run(&n, 30 * SEC);
    oasis_reporter_stats st;
    oasis_reporter_get_stats(r, &st);
    assert_true(k.bytes > before);
    assert_int_equal(st.connects, 1); /* the same connection all along */
    oasis_reporter_destroy(r);
    assert_int_equal(oasis_metrics_destroy(m), 0);
    oasis_tcp_release(k.f);
    test_net_fini(&n);
}

/* Keepalive every 200 ms between two live, idle stacks: the peer answers
 * every probe (a bare ACK at RCV.NXT-1 is spared the out-of-window ACK
 * rate limit), so the connection stays up. Before, the limit (one per
 * 500 ms) left probes unanswered and the flow died with ETIMEDOUT. */
static void test_subsecond_keepalive_keeps_live_peer(void **state)
{
    (void)state;
    test_net n;
    app p;
    pair_open(&n, &p);
    const oasis_keepalive k = {200 * MS, 200 * MS, 2};
    assert_int_equal(oasis_tcp_set_keepalive(p.fa, &k), 0);
    assert_int_equal(oasis_tcp_read(p.fa, on_read, &p), 0);
    run(&n, 10 * SEC); /* both stacks alive and idle */
    const oasis_tcp_counters *ca = &oasis_stack_counters(n.a)->tcp;
    assert_true(ca->keepalive_probes >= 40);
    assert_int_equal(ca->keepalive_drops, 0);
    assert_int_equal(oasis_tcp_flow_error(p.fa), 0);
    assert_int_equal(p.reads, 0);
    pair_close(&n, &p);
}

/* oasis_stack_destroy while a client made on the stack lives (resolver,
 * DHCP, DHCPv6, reporter) is refused with OASIS_EBUSY, freeing nothing:
 * before, it returned 0, the resolver's pending callback never ran and
 * oasis_dns_destroy read freed memory. Destroyed in order, each pending
 * callback runs once and the stack goes. */
static void test_stack_destroy_with_clients_alive(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    oasis_dns *r = NULL;
    assert_int_equal(oasis_dns_create(n.a, NULL, &r), 0);
    uint32_t srv = TEST_ADDR_B;
    assert_int_equal(oasis_dns_set_servers(r, &srv, 1), 0);
    dns_once o = {0};
    assert_int_equal(oasis_dns_resolve(r, "a.test", OASIS_DNS_INET, dns_once_cb, &o, NULL), 0);
    oasis_dhcp *d = NULL;
    assert_int_equal(oasis_dhcp_create(n.a, NULL, &d), 0);
    oasis_metrics *m = NULL;
    assert_int_equal(oasis_metrics_create(NULL, &m), 0);
    oasis_reporter_config rc;
    oasis_reporter_config_init(&rc);
    rc.proto = OASIS_REPORTER_TCP;
    rc.addr = TEST_ADDR_B;
    rc.port = 8094;
    oasis_reporter *rep = NULL;
    assert_int_equal(oasis_reporter_create(n.a, m, &rc, &rep), 0);
    oasis_prom_config pc;
    oasis_prom_config_init(&pc);
    pc.port = 9100;
    oasis_prom_server *prom = NULL;
    assert_int_equal(oasis_prom_server_create(n.a, m, &pc, &prom), 0);
    assert_int_equal(oasis_stack_destroy(n.a), OASIS_EBUSY);
    assert_int_equal(o.calls, 0);
    assert_int_equal(oasis_dns_destroy(r), 0);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.status, OASIS_DNS_ECANCELED);
    assert_int_equal(oasis_stack_destroy(n.a), OASIS_EBUSY);
    assert_int_equal(oasis_dhcp_destroy(d), 0);
    assert_int_equal(oasis_stack_destroy(n.a), OASIS_EBUSY);
    oasis_reporter_destroy(rep);
    assert_int_equal(oasis_stack_destroy(n.a), OASIS_EBUSY);
    oasis_prom_server_destroy(prom);
    assert_int_equal(oasis_metrics_destroy(m), 0);
    assert_int_equal(oasis_stack_destroy(n.a), 0);
    n.a = NULL;
    test_net_fini(&n);
}

/* ---- a checker's probes of the resolver's API ----------------------------- */

/* An application that asks again whenever a request fails, ECANCELED
 * included (a retry loop that does not look at the status). Bounded here
 * at 1000 so that a destroy that would loop for ever ends the test. */
typedef struct retrier {
    oasis_dns *r;
    int calls, accepted, refused;
} retrier;

static void retry_cb(oasis_dns_req *req, int status, const oasis_dns_result *res, void *ud)
{
    (void)req, (void)res;
    retrier *t = ud;
    t->calls++;
    if (status != 0 && t->calls < 1000) {
        if (oasis_dns_resolve(t->r, "again.test", OASIS_DNS_INET, retry_cb, t, NULL) == 0)
            t->accepted++;
        else
            t->refused++;
    }
}

/* oasis_dns_destroy ends every pending request, and returns (dns.h): a
 * request started from one of the callbacks it runs cannot keep it going;
 * the start is refused (OASIS_EBUSY), the callback never runs. */
static void test_dns_destroy_with_retrying_callback(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    retrier t = {0};
    assert_int_equal(oasis_dns_create(n.a, NULL, &t.r), 0);
    uint32_t srv = NOWHERE; /* silent: the request stays pending */
    assert_int_equal(oasis_dns_set_servers(t.r, &srv, 1), 0);
    assert_int_equal(oasis_dns_resolve(t.r, "first.test", OASIS_DNS_INET, retry_cb, &t, NULL), 0);
    run(&n, 100 * MS);
    assert_int_equal(t.calls, 0);
    assert_int_equal(oasis_dns_destroy(t.r), 0);
    assert_int_equal(t.calls, 1); /* was 1000: each ECANCELED asked again */
    assert_int_equal(t.accepted, 0);
    assert_int_equal(t.refused, 1);
    test_net_fini(&n);
}

/* The resolver's getters on no resolver: nothing to count, no crash (as
 * oasis_dns_search and the DHCP clients' getters). */
static void test_dns_getters_null(void **state)
{
    (void)state;
    uint32_t a4[2];
    oasis_ipaddr a[2];
    assert_int_equal(oasis_dns_servers(NULL, a4, 2), 0);
    assert_int_equal(oasis_dns_servers_addr(NULL, a, 2), 0);
    assert_null(oasis_dns_get_counters(NULL));
    assert_null(oasis_dns_stack(NULL));
    assert_int_equal(oasis_dns_search(NULL, NULL, 0), 0);
    oasis_dns_cache_flush(NULL);
    assert_int_equal(oasis_dns_set_servers(NULL, a4, 0), OASIS_EINVAL);
    assert_int_equal(oasis_dns_set_time(NULL, 1), OASIS_EINVAL);
    assert_int_equal(oasis_dns_destroy(NULL), 0);
}

/* A server address no answer can come from: a reply is only believed
 * from the address asked (RFC 5452 9.1), never a group's or the limited
 * broadcast, and a reply sent to one is refused too; every query to it
 * would go to the whole link and time out. Refused like the unspecified
 * address, the list left as it was. */
static void test_dns_servers_must_be_unicast(void **state)
{
    (void)state;
    test_net n;
    test_net_init(&n, NULL, NULL);
    oasis_dns *r = NULL;
    assert_int_equal(oasis_dns_create(n.a, NULL, &r), 0);
    uint32_t good = TEST_ADDR_B;
    assert_int_equal(oasis_dns_set_servers(r, &good, 1), 0);
    uint32_t bad4[] = {0xffffffffu, OASIS_IPV4(224, 0, 0, 251), OASIS_IPV4(239, 255, 255, 250)};
    for (size_t i = 0; i < sizeof bad4 / sizeof bad4[0]; i++) {
        uint32_t two[2] = {good, bad4[i]};
        assert_int_equal(oasis_dns_set_servers(r, two, 2), OASIS_EINVAL);
    }
    oasis_ipaddr mc6;
    assert_int_equal(oasis_ipaddr_parse("ff02::fb", &mc6), 0);
    assert_int_equal(oasis_dns_set_servers_addr(r, &mc6, 1), OASIS_EINVAL);
    /* The predicate a front end checks with says the same. */
    assert_false(oasis_dns_server_addr_ok(&mc6));
    assert_false(oasis_dns_server_addr_ok(NULL));
    for (size_t i = 0; i < sizeof bad4 / sizeof bad4[0]; i++) {
        oasis_ipaddr b = oasis_ipaddr_v4(bad4[i]);
        assert_false(oasis_dns_server_addr_ok(&b));
    }
    oasis_ipaddr g4 = oasis_ipaddr_v4(good), any6;
    assert_int_equal(oasis_ipaddr_parse("::", &any6), 0);
    assert_false(oasis_dns_server_addr_ok(&any6));
    assert_true(oasis_dns_server_addr_ok(&g4));
    uint32_t left[2];
    assert_int_equal(oasis_dns_servers(r, left, 2), 1);
    assert_int_equal(left[0], good);
    assert_int_equal(oasis_dns_destroy(r), 0);
    test_net_fini(&n);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]); /* one probe at a time (leak checks) */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_destroy_with_everything_pending),
        cmocka_unit_test(test_paused_backlog_through_disconnect_and_destroy),
        cmocka_unit_test(test_destroy_with_pending_v6),
        cmocka_unit_test(test_close_in_syn_sent_and_resume_not_inside),
        cmocka_unit_test(test_udp_rebind_from_own_callback),
        cmocka_unit_test(test_ping_edges),
        cmocka_unit_test(test_readdress_from_read_callback),
        cmocka_unit_test(test_disconnect_from_walk),
        cmocka_unit_test(test_requests_after_wire_destroyed),
        cmocka_unit_test(test_write_then_close_lossy),
        cmocka_unit_test(test_shutdown_both_with_writes_pending_lossy),
        cmocka_unit_test(test_tiny_buffers_both_ways_simultaneous_close),
        cmocka_unit_test(test_trim_with_requests_pending),
        cmocka_unit_test(test_accept_by_hand_inside_callback),
        cmocka_unit_test(test_set_keepalive_edges),
        cmocka_unit_test(test_forget_then_destroy_and_shutdown_read),
        cmocka_unit_test(test_arguments_copied),
        cmocka_unit_test(test_wire_changed_from_callback),
        cmocka_unit_test(test_clock_near_its_end),
        cmocka_unit_test(test_every_error_has_words),
        cmocka_unit_test(test_dns_misuse),
        cmocka_unit_test(test_dns_destroy_with_retrying_callback),
        cmocka_unit_test(test_dns_getters_null),
        cmocka_unit_test(test_dns_servers_must_be_unicast),
        cmocka_unit_test(test_dhcp_misuse),
        cmocka_unit_test(test_dns_cache_and_joined),
        cmocka_unit_test(test_disconnect_under_resolver),
        cmocka_unit_test(test_writev_length_overflow),
        cmocka_unit_test(test_walk_skips_resolver_flow),
        cmocka_unit_test(test_walk_skips_reporter_flow),
        cmocka_unit_test(test_subsecond_keepalive_keeps_live_peer),
        cmocka_unit_test(test_stack_destroy_with_clients_alive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
