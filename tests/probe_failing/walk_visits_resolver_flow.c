/* FAILING PROBE (not built by CMake): foreach_flow hands out a DNS
 * resolver's internal TCP flow.
 *
 * Outside probes of the public API (include/oasis/) against the contract
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

static int walk_seen;
static void walk_abort_release(oasis_flow *f, void *ud)
{
    (void)ud;
    walk_seen++;
    oasis_tcp_release(f); /* "closing idle flows": the application's own */
}


/* EXPECTED (tcp.h, oasis_tcp_foreach_flow: "Calls fn for every flow the
 * application holds ... fn may close, abort or release any flow"; dns.h:
 * the callback "runs exactly once"): a resolver's own TCP flow (its
 * TC=1 fallback) is not the application's, so the walk does not visit it
 * and the resolver finishes its request.
 * ACTUAL: the walk hands the resolver's flow to fn (walk_seen == 1); fn
 * releases it as an application closing idle flows would, and the
 * resolver is left with a dangling q->flow (src/dns/dns.c start_tcp keeps
 * it; later it is aborted/released again, or read from).
 * Build: see tests/probe_failing/README.md. */
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
    oasis_tcp_foreach_flow(n.a, walk_abort_release, NULL);
    fprintf(stderr, "walk visited %d flow(s) on a stack where the application holds none\n", walk_seen);
    /* go on as an application would: it opens a connection of its own
     * (its flow may take the freed flow's slot), the resolver's try times
     * out, the request completes, the resolver goes */
    app p = {0};
    connect_pair(&n, &p);
    fprintf(stderr, "app flow %p\n", (void *)p.fa);
    run(&n, 60 * SEC);
    fprintf(stderr, "app flow after the resolver's timeout: error %d (%s)\n", oasis_tcp_flow_error(p.fa),
            oasis_strerror(oasis_tcp_flow_error(p.fa)));
    assert_int_equal(oasis_tcp_flow_error(p.fa), 0); /* the application's flow is untouched */
    fprintf(stderr, "request callbacks: %d (status %d)\n", o.calls, o.status);
    assert_int_equal(oasis_dns_destroy(r), 0);
    assert_int_equal(o.calls, 1);
    assert_int_equal(walk_seen, 0);
    tc_server_stop(&t);
    oasis_tcp_release(p.fa);
    oasis_tcp_release(p.fb);
    test_net_fini(&n);
    free(p.rx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_walk_skips_resolver_flow)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
