/* The public API outside TCP against its headers, as an outside reviewer
 * probes it: durations and sizes at their extremes (UINT64_MAX "forever"
 * must not wrap round to "now"), misuse answered with error codes. Two
 * stacks on the in-memory wire with a virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "oasis/oasis.h"
#include "oasis/dhcp.h"
#include "oasis/dns.h"
#include "oasis/icmp.h"
#include "oasis/ipv6.h"
#include "oasis/udp.h"
#include "oasis/wire.h"
#include "ip/ipv4.h"
#include "testutil.h"

#define SEC OASIS_NS_PER_SEC
#define PORT 5000

typedef test_net net; /* (testutil.h; test_net_fini ends it) */

/* Two stacks, 10.0.0.1 and 10.0.0.2, 1 ms apart (so that a timer due at
 * once fires before an answer comes); tweak (may be NULL) edits both
 * configs. */
static void net_init(net *n, void (*tweak)(oasis_stack_config *))
{
    memset(n, 0, sizeof *n);
    n->clock = oasis_clock_new_virtual(1000 * SEC);
    assert_non_null(n->clock);
    oasis_wire_config wc;
    oasis_wire_config_init(&wc);
    wc.delay_ns = OASIS_NS_PER_MS;
    assert_int_equal(oasis_wire_create(n->clock, &wc, &n->wire), 0);
    oasis_stack_config cfg;
    test_stack_config(&cfg, n->clock, 1);
    cfg.arp_gratuitous = 0;
    if (tweak)
        tweak(&cfg);
    assert_int_equal(oasis_stack_create(&cfg, &n->a), 0);
    test_stack_config(&cfg, n->clock, 2);
    cfg.arp_gratuitous = 0;
    if (tweak)
        tweak(&cfg);
    assert_int_equal(oasis_stack_create(&cfg, &n->b), 0);
    assert_non_null(oasis_wire_attach(n->wire, n->a));
    assert_non_null(oasis_wire_attach(n->wire, n->b));
}

static void run(net *n, uint64_t ns) { (void)oasis_wire_run(n->wire, NULL, NULL, ns); }

static const oasis_counters *ctr(oasis_stack *s) { return oasis_stack_counters(s); }

/* ---- the virtual clock --------------------------------------------------- */

/* A virtual clock never goes backwards (clock.h): an advance past the end
 * of time stops there instead of wrapping round. */
static void test_clock_advance_largest(void **state)
{
    (void)state;
    oasis_clock *c = oasis_clock_new_virtual(1000 * SEC);
    assert_int_equal(oasis_clock_advance(c, UINT64_MAX), 0);
    assert_true(oasis_clock_now(c) == UINT64_MAX);
    assert_int_equal(oasis_clock_advance(c, 1), 0);
    assert_true(oasis_clock_now(c) == UINT64_MAX);
    assert_int_equal(oasis_clock_set(c, 5), 0);
    assert_true(oasis_clock_now(c) == UINT64_MAX);
    oasis_clock_free(c);
}

/* ---- stack and wire misuse -------------------------------------------------- */

/* Every documented refusal of stack.h and wire.h is an error code, and a
 * refused call changes nothing. */
static void test_stack_wire_misuse(void **state)
{
    (void)state;
    oasis_clock *c = oasis_clock_new_virtual(1000 * SEC);
    oasis_stack_config cfg;
    oasis_stack *s = (oasis_stack *)1;
    test_stack_config(&cfg, c, 1);
    assert_int_equal(oasis_stack_create(NULL, &s), OASIS_EINVAL);
    assert_int_equal(oasis_stack_create(&cfg, NULL), OASIS_EINVAL);
    oasis_stack_config bad = cfg;
    bad.clock = NULL;
    assert_int_equal(oasis_stack_create(&bad, &s), OASIS_EINVAL);
    assert_null(s);
    bad = cfg;
    bad.prefix_len = 33;
    assert_int_equal(oasis_stack_create(&bad, &s), OASIS_EINVAL);
    bad = cfg;
    bad.mtu = 575;
    assert_int_equal(oasis_stack_create(&bad, &s), OASIS_EINVAL);
    bad.mtu = 65536;
    assert_int_equal(oasis_stack_create(&bad, &s), OASIS_EINVAL);
    /* A path MTU forgotten sooner than RFC 8201 4's 5 minutes. */
    bad = cfg;
    bad.pmtu_expire_ns = 299 * SEC;
    assert_int_equal(oasis_stack_create(&bad, &s), OASIS_EINVAL);
    assert_null(s);
    bad.pmtu_expire_ns = 300 * SEC;
    assert_int_equal(oasis_stack_create(&bad, &s), OASIS_OK);
    oasis_stack_destroy(s);
    oasis_stack_destroy(NULL);

    oasis_wire *w = (oasis_wire *)1;
    oasis_wire_config wc;
    oasis_wire_config_init(&wc);
    assert_int_equal(oasis_wire_create(NULL, &wc, &w), OASIS_EINVAL);
    assert_int_equal(oasis_wire_create(c, &wc, NULL), OASIS_EINVAL);
    wc.mtu = 67;
    assert_int_equal(oasis_wire_create(c, &wc, &w), OASIS_EINVAL);
    wc.mtu = 65536;
    assert_int_equal(oasis_wire_create(c, &wc, &w), OASIS_EINVAL);
    oasis_wire_config_init(&wc);
    wc.queue_frames = 0;
    assert_int_equal(oasis_wire_create(c, &wc, &w), OASIS_EINVAL);
    oasis_wire_destroy(NULL);

    assert_int_equal(oasis_stack_create(&cfg, &s), 0);
    assert_int_equal(oasis_wire_create(c, NULL, &w), 0);
    assert_null(oasis_wire_attach(w, NULL));
    assert_null(oasis_wire_attach(NULL, s));
    assert_non_null(oasis_wire_attach(w, s));
    /* set_mtu: 576..65535 and no larger than the link's (1500). */
    assert_int_equal(oasis_stack_set_mtu(s, 575), OASIS_EINVAL);
    assert_int_equal(oasis_stack_set_mtu(s, 1501), OASIS_EINVAL);
    assert_int_equal(oasis_stack_set_mtu(s, UINT32_MAX), OASIS_EINVAL);
    assert_int_equal(oasis_stack_mtu(s), 1500);
    assert_int_equal(oasis_stack_set_mtu(s, 576), 0);
    assert_int_equal(oasis_stack_mtu(s), 576);
    /* set_ipv4: prefix over 32 refused, the address unchanged. */
    assert_int_equal(oasis_stack_set_ipv4(s, OASIS_IPV4(10, 9, 9, 9), 33, 0), OASIS_EINVAL);
    assert_int_equal(oasis_stack_set_ipv4(NULL, 1, 8, 0), OASIS_EINVAL);
    assert_int_equal(oasis_stack_addr(s), TEST_ADDR_A);
    assert_int_equal(oasis_stack_prefix_len(s), 24);
    assert_int_equal(oasis_wire_detach(w, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_wire_detach(w, s), 0);
    oasis_stack_destroy(s);
    oasis_wire_destroy(w);
    oasis_clock_free(c);
}

/* ---- ping ---------------------------------------------------------------- */

typedef struct ping_res {
    int done, err;
} ping_res;

static void ping_cb(oasis_stack *s, int err, uint16_t seq, uint64_t rtt_ns, void *ud)
{
    (void)s, (void)seq, (void)rtt_ns;
    ping_res *r = ud;
    r->done++;
    r->err = err;
}

/* A ping with the longest timeout waits for its reply (the deadline
 * sent_at + timeout must not wrap into the past). */
static void test_ping_timeout_largest(void **state)
{
    (void)state;
    net n;
    net_init(&n, NULL);
    ping_res r = {0};
    assert_int_equal(oasis_ping(n.a, TEST_ADDR_B, 1, 1, 32, UINT64_MAX, ping_cb, &r), 0);
    run(&n, 10 * SEC);
    assert_int_equal(r.done, 1);
    assert_int_equal(r.err, 0);
    test_net_fini(&n);
}

static void ipv6_on(oasis_stack_config *cfg) { cfg->ipv6 = 1; }

/* The same over IPv6 (ICMPv6 echo, after Neighbour Discovery). */
static void test_ping6_timeout_largest(void **state)
{
    (void)state;
    net n;
    net_init(&n, ipv6_on);
    run(&n, 10 * SEC); /* DAD */
    oasis_ipaddr dst = test_link_local(n.b);
    ping_res r = {0};
    assert_int_equal(oasis_ping_addr(n.a, &dst, 1, 1, 32, UINT64_MAX, ping_cb, &r), 0);
    run(&n, 10 * SEC);
    assert_int_equal(r.done, 1);
    assert_int_equal(r.err, 0);
    test_net_fini(&n);
}

/* ---- stack configuration durations --------------------------------------- */

typedef struct udp_rx {
    int n;
    size_t len;
} udp_rx;

static void udp_cb(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport,
                   const oasis_ipaddr *dst, uint16_t dport, const uint8_t *data, size_t len,
                   void *ud)
{
    (void)s, (void)src, (void)sport, (void)dst, (void)dport, (void)data;
    udp_rx *r = ud;
    r->n++;
    r->len = len;
}

static void reasm_forever(oasis_stack_config *cfg) { cfg->reasm_timeout_ns = UINT64_MAX; }

/* reasm_timeout_ns UINT64_MAX: a fragmented datagram is reassembled, not
 * expired at the next poll. */
static void test_reasm_timeout_largest(void **state)
{
    (void)state;
    net n;
    net_init(&n, reasm_forever);
    udp_rx rx = {0};
    assert_int_equal(oasis_udp_bind(n.b, PORT, udp_cb, &rx), 0);
    /* A 1 Mb/s bottleneck spreads the fragments' arrivals 12 ms apart:
     * polls run between them. */
    oasis_impair g;
    oasis_impair_init(&g);
    g.rate_bps = 1000000;
    assert_int_equal(oasis_wire_impair(n.wire, oasis_stack_link(n.a), oasis_stack_link(n.b), &g), 0);
    static uint8_t big[4000];
    assert_int_equal(oasis_udp_send4(n.a, PORT, TEST_ADDR_B, PORT, big, sizeof big), 0);
    run(&n, 10 * SEC);
    assert_int_equal(rx.n, 1);
    assert_int_equal(rx.len, sizeof big);
    assert_int_equal(ctr(n.b)->ip.reasm_timeouts, 0);
    test_net_fini(&n);
}

static void arp_ttl_forever(oasis_stack_config *cfg) { cfg->arp_cache_ttl_ns = UINT64_MAX; }

/* arp_cache_ttl_ns UINT64_MAX: a resolved entry stays; a later datagram
 * needs no second request. */
static void test_arp_ttl_largest(void **state)
{
    (void)state;
    net n;
    net_init(&n, arp_ttl_forever);
    udp_rx rx = {0};
    assert_int_equal(oasis_udp_bind(n.b, PORT, udp_cb, &rx), 0);
    assert_int_equal(oasis_udp_send4(n.a, PORT, TEST_ADDR_B, PORT, "x", 1), 0);
    run(&n, 1 * SEC);
    assert_int_equal(rx.n, 1);
    assert_int_equal(oasis_udp_send4(n.a, PORT, TEST_ADDR_B, PORT, "y", 1), 0);
    run(&n, 1 * SEC);
    assert_int_equal(rx.n, 2);
    assert_int_equal(ctr(n.a)->arp.tx_requests, 1);
    assert_int_equal(ctr(n.a)->arp.cache_expired, 0);
    test_net_fini(&n);
}

static void arp_retry_forever(oasis_stack_config *cfg) { cfg->arp_retry_ns = UINT64_MAX; }

/* arp_retry_ns UINT64_MAX: the first request is not followed by every
 * retry at once (nor by giving up) within any sensible time. */
static void test_arp_retry_largest(void **state)
{
    (void)state;
    net n;
    net_init(&n, arp_retry_forever);
    assert_int_equal(oasis_udp_send4(n.a, PORT, OASIS_IPV4(10, 0, 0, 9), PORT, "x", 1), 0);
    run(&n, 1000 * SEC);
    assert_int_equal(ctr(n.a)->arp.tx_requests, 1);
    assert_int_equal(ctr(n.a)->arp.resolve_failed, 0);
    test_net_fini(&n);
}

static void pmtu_forever(oasis_stack_config *cfg) { cfg->pmtu_expire_ns = UINT64_MAX; }

/* pmtu_expire_ns UINT64_MAX: a lowered path MTU is kept (0 is "never"
 * too), not forgotten at the next look-up. */
static void test_pmtu_expire_largest(void **state)
{
    (void)state;
    net n;
    net_init(&n, pmtu_forever);
    oasis_ipaddr dst = oasis_ipaddr_v4(TEST_ADDR_B);
    assert_int_equal(oasis_pmtu_lower(n.a, &dst, 1280), 1280);
    assert_int_equal(oasis_clock_advance(n.clock, 1000 * SEC), 0);
    assert_int_equal(oasis_pmtu_get(n.a, &dst), 1280);
    assert_int_equal(ctr(n.a)->ip.pmtu_expired, 0);
    test_net_fini(&n);
}

/* ---- the wire's delays ---------------------------------------------------- */

typedef struct ep {
    int frames;
} ep;

static void ep_rx(void *ud, const uint8_t *frame, size_t len)
{
    (void)frame, (void)len;
    ((ep *)ud)->frames++;
}

/* A 60-byte broadcast frame from link l. */
static void send_bcast(oasis_link *l, const uint8_t src[6])
{
    uint8_t f[60] = {0};
    memset(f, 0xff, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x88, f[13] = 0xb5; /* local experimental ethertype */
    assert_int_equal(l->send(l, f, sizeof f), 0);
}

static const uint8_t MAC1[6] = {2, 0, 0, 0, 1, 1}, MAC2[6] = {2, 0, 0, 0, 1, 2};

/* Each of the wire's delays at UINT64_MAX holds frames back (not: due at
 * once after wrapping round the clock). */
static void test_wire_delays_largest(void **state)
{
    (void)state;
    for (int which = 0; which < 4; which++) {
        oasis_clock *c = oasis_clock_new_virtual(1000 * SEC);
        oasis_wire_config wc;
        oasis_wire_config_init(&wc);
        if (which == 0)
            wc.delay_ns = UINT64_MAX;
        oasis_wire *w;
        assert_int_equal(oasis_wire_create(c, &wc, &w), 0);
        ep e1 = {0}, e2 = {0};
        oasis_link *l1 = oasis_wire_attach_endpoint(w, MAC1, ep_rx, &e1);
        oasis_link *l2 = oasis_wire_attach_endpoint(w, MAC2, ep_rx, &e2);
        assert_non_null(l1);
        assert_non_null(l2);
        oasis_impair g;
        oasis_impair_init(&g);
        if (which == 1)
            g.delay_ns = UINT64_MAX;
        if (which == 2) {
            g.reorder = 1.0;
            g.reorder_delay_ns = UINT64_MAX;
        }
        if (which == 3) {
            g.delay_ns = UINT64_MAX;
            g.jitter_ns = UINT64_MAX;
        }
        assert_int_equal(oasis_wire_impair(w, l1, NULL, &g), 0);
        send_bcast(l1, MAC1);
        send_bcast(l1, MAC1);
        (void)oasis_wire_run(w, NULL, NULL, 1000 * SEC);
        assert_int_equal(e2.frames, 0);
        assert_true(oasis_wire_next_deadline(w) > oasis_clock_now(c));
        /* The frames are due, far ahead: not lost, not yet delivered. */
        oasis_wire_stats st;
        assert_int_equal(oasis_wire_stats_get(w, l1, l2, &st), 0);
        assert_int_equal(st.sent, 2);
        assert_int_equal(st.delivered, 0);
        oasis_wire_destroy(w);
        oasis_clock_free(c);
    }
}

/* Attaching a stack that is already on the wire is refused: a second port
 * would outlive detach (which takes the first) and be polled after the
 * stack is destroyed. Detached, it may attach again. */
static void test_wire_attach_twice(void **state)
{
    (void)state;
    net n;
    net_init(&n, NULL);
    oasis_link *la = oasis_stack_link(n.a);
    assert_null(oasis_wire_attach(n.wire, n.a));
    assert_true(oasis_stack_link(n.a) == la);
    assert_int_equal(oasis_wire_detach(n.wire, n.a), 0);
    assert_null(oasis_stack_link(n.a));
    assert_int_equal(oasis_wire_detach(n.wire, n.a), OASIS_ENOENT);
    oasis_stack_destroy(n.a);
    /* The wire runs on without touching the destroyed stack. */
    assert_int_equal(oasis_ping(n.b, TEST_ADDR_A, 1, 1, 8, SEC, ping_cb, &(ping_res){0}), 0);
    run(&n, 10 * SEC);
    assert_int_equal(oasis_stack_create(&(oasis_stack_config){0}, &n.a), OASIS_EINVAL);
    oasis_stack_config cfg;
    test_stack_config(&cfg, n.clock, 1);
    assert_int_equal(oasis_stack_create(&cfg, &n.a), 0);
    assert_non_null(oasis_wire_attach(n.wire, n.a));
    test_net_fini(&n);
}

/* A stack on one wire cannot attach to another either: the first wire's
 * port would go on delivering to it (and polling it once destroyed) while
 * it sends on the second. Detached from the first, it may. */
static void test_wire_attach_two_wires(void **state)
{
    (void)state;
    net n;
    net_init(&n, NULL);
    oasis_wire_config wc;
    oasis_wire_config_init(&wc);
    oasis_wire *w2;
    assert_int_equal(oasis_wire_create(n.clock, &wc, &w2), 0);
    oasis_link *la = oasis_stack_link(n.a);
    assert_null(oasis_wire_attach(w2, n.a));
    assert_true(oasis_stack_link(n.a) == la);
    assert_int_equal(oasis_wire_detach(w2, n.a), OASIS_ENOENT);
    assert_int_equal(oasis_wire_detach(n.wire, n.a), 0);
    assert_non_null(oasis_wire_attach(w2, n.a));
    assert_true(oasis_stack_link(n.a) != la);
    assert_int_equal(oasis_wire_detach(w2, n.a), 0);
    oasis_wire_destroy(w2);
    test_net_fini(&n);
}

/* ---- destroy from inside the stack ------------------------------------------ */

/* Every callback below tries to destroy the stack that runs it: refused
 * with OASIS_EBUSY (the calls that ran it go on with the stack). */
typedef struct dtry {
    int tries, busy;           /* destroy calls made, refused with OASIS_EBUSY */
    oasis_flow *fa, *fb;       /* client (a) and server (b) ends */
    int accepted, connected, written, reads, read_err, udp, ping, ping_err, walked, closed;
} dtry;

static void dt_destroy(dtry *d, oasis_stack *s)
{
    d->tries++;
    if (oasis_stack_destroy(s) == OASIS_EBUSY)
        d->busy++;
}

static void dt_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    (void)data, (void)len;
    dtry *d = ud;
    d->reads++;
    d->read_err = err;
    dt_destroy(d, oasis_flow_stack(f));
}

static void dt_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    dtry *d = ud;
    d->accepted++;
    d->fb = f;
    dt_destroy(d, s);
    assert_int_equal(oasis_tcp_read(f, dt_read, d), 0);
}

static void dt_written(oasis_flow *f, int err, void *ud)
{
    dtry *d = ud;
    assert_int_equal(err, 0);
    d->written++;
    dt_destroy(d, oasis_flow_stack(f));
}

static void dt_connect(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    dtry *d = ud;
    assert_int_equal(err, 0);
    d->connected++;
    d->fa = f;
    dt_destroy(d, s);
    assert_int_equal(oasis_tcp_write(f, "hello", 5, dt_written, d), 0);
}

static void dt_closed(oasis_flow *f, int err, void *ud)
{
    (void)err;
    dtry *d = ud;
    d->closed++;
    dt_destroy(d, oasis_flow_stack(f));
}

static void dt_udp(oasis_stack *s, const oasis_ipaddr *src, uint16_t src_port,
                   const oasis_ipaddr *dst, uint16_t dst_port, const uint8_t *data, size_t len,
                   void *ud)
{
    (void)src, (void)src_port, (void)dst, (void)dst_port, (void)data, (void)len;
    dtry *d = ud;
    d->udp++;
    dt_destroy(d, s);
}

static void dt_ping(oasis_stack *s, int err, uint16_t seq, uint64_t rtt_ns, void *ud)
{
    (void)seq, (void)rtt_ns;
    dtry *d = ud;
    d->ping++;
    d->ping_err = err;
    dt_destroy(d, s);
}

static void dt_walk(oasis_flow *f, void *ud)
{
    dtry *d = ud;
    d->walked++;
    dt_destroy(d, oasis_flow_stack(f));
}

static int dt_data_in(void *ud) { return ((dtry *)ud)->reads > 0; }

/* One connection a -> b that carries "hello", with every callback trying
 * to destroy its stack. */
static void dt_exchange(net *n, dtry *d)
{
    oasis_ipaddr bip = oasis_ipaddr_v4(TEST_ADDR_B);
    d->reads = 0;
    assert_int_equal(oasis_tcp_connect(n->a, &bip, PORT, NULL, dt_connect, d), 0);
    assert_int_equal(oasis_wire_run(n->wire, dt_data_in, d, 10 * SEC), 0);
    assert_int_equal(d->read_err, 0);
}

/* oasis_stack_destroy from inside any code the stack runs (TCP accept,
 * connect, write, read and close callbacks, UDP receive, a ping's reply
 * and its timeout, a flow walk's fn, the callbacks an abort, a release, a
 * disconnect or destroy itself runs) frees nothing and says OASIS_EBUSY;
 * the stack goes on working, and destroying it from the outside after
 * that frees everything (ASan: no use after free, no leak). */
static void test_destroy_from_callbacks_refused(void **state)
{
    (void)state;
    net n;
    net_init(&n, NULL);
    dtry d;
    memset(&d, 0, sizeof d);
    oasis_ipaddr bip = oasis_ipaddr_v4(TEST_ADDR_B);
    assert_int_equal(oasis_tcp_listen(n.b, PORT, NULL, dt_accept, &d), 0);
    dt_exchange(&n, &d);
    assert_int_equal(d.accepted, 1);
    assert_int_equal(d.connected, 1);
    assert_int_equal(d.reads, 1);
    run(&n, SEC);
    assert_int_equal(d.written, 1);

    /* UDP receive, a ping's reply, a ping's timeout (a timer) */
    assert_int_equal(oasis_udp_bind(n.b, 7000, dt_udp, &d), 0);
    assert_int_equal(oasis_udp_send(n.a, 7001, &bip, 7000, "u", 1), 0);
    assert_int_equal(oasis_ping(n.a, TEST_ADDR_B, 1, 1, 8, SEC, dt_ping, &d), 0);
    assert_int_equal(oasis_ping(n.a, OASIS_IPV4(10, 0, 0, 9), 1, 2, 8, SEC, dt_ping, &d), 0);
    run(&n, 10 * SEC);
    assert_int_equal(d.udp, 1);
    assert_int_equal(d.ping, 2);

    /* a walk's fn */
    oasis_tcp_foreach_flow(n.a, dt_walk, &d);
    assert_int_equal(d.walked, 1);

    /* callbacks an abort runs, outside input and poll */
    assert_int_equal(oasis_tcp_read(d.fb, dt_read, &d), 0);
    int reads = d.reads;
    oasis_tcp_abort(d.fb);
    assert_int_equal(d.reads, reads + 1);
    assert_int_equal(d.read_err, OASIS_ECANCELED);
    oasis_tcp_release(d.fb);
    /* ...the RST reaching a (input), then release of a finished flow */
    assert_int_equal(oasis_tcp_read(d.fa, dt_read, &d), 0);
    run(&n, SEC);
    assert_int_equal(d.reads, reads + 2);
    assert_int_equal(d.read_err, OASIS_EOF);
    assert_int_equal(oasis_tcp_flow_error(d.fa), OASIS_ERESET);
    oasis_tcp_release(d.fa);

    /* The stacks work on: a new connection carries its bytes. */
    dt_exchange(&n, &d);
    assert_int_equal(d.accepted, 2);
    /* ...and the callbacks of a disconnect */
    assert_int_equal(oasis_tcp_read(d.fa, dt_read, &d), 0);
    assert_int_equal(oasis_tcp_close(d.fb, dt_closed, &d), 0);
    reads = d.reads;
    oasis_tcp_disconnect(n.b);
    assert_int_equal(d.closed, 1);
    oasis_tcp_release(d.fb);

    /* ...and of destroy itself: a's pending read completes with
     * OASIS_ECANCELED inside it, its destroy is refused, the outer one
     * frees everything. */
    oasis_tcp_release(d.fa);
    assert_int_equal(oasis_tcp_listen(n.b, PORT, NULL, dt_accept, &d), 0); /* went with it */
    dt_exchange(&n, &d);
    assert_int_equal(oasis_tcp_read(d.fa, dt_read, &d), 0);
    reads = d.reads;
    int tries = d.tries;
    assert_int_equal(oasis_stack_destroy(n.a), 0);
    n.a = NULL;
    assert_int_equal(d.reads, reads + 1);
    assert_int_equal(d.read_err, OASIS_ECANCELED);
    assert_int_equal(d.tries, tries + 1);
    assert_int_equal(d.busy, d.tries); /* every try refused */
    assert_true(d.tries >= 15);
    run(&n, SEC); /* b hears the RST; nothing reaches a */
    oasis_tcp_release(d.fb);
    test_net_fini(&n);
}

/* Destroying another stack of the wire from a callback (no call of that
 * stack is running) is allowed: it leaves the wire, so the frames in
 * flight to it (here a's ACK of its data, a's FIN) fall on the floor
 * instead of reaching freed memory; a hears nothing more from it. */
typedef struct dother {
    oasis_stack *victim;
    int rc, reads, err;
} dother;

static void do_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    (void)data, (void)len;
    dother *o = ud;
    o->reads++;
    o->err = err;
    if (o->victim) {
        o->rc = oasis_stack_destroy(o->victim);
        o->victim = NULL;
        (void)oasis_tcp_close(f, NULL, NULL); /* its FIN goes nowhere */
    }
}

static void do_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s, (void)ud;
    assert_int_equal(oasis_tcp_write(f, "x", 1, NULL, NULL), 0);
}

static void do_connect(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s;
    assert_int_equal(err, 0);
    assert_int_equal(oasis_tcp_read(f, do_read, ud), 0);
}

static void test_destroy_other_stack_from_callback(void **state)
{
    (void)state;
    net n;
    net_init(&n, NULL);
    dother o = {.victim = n.b, .rc = 1};
    oasis_ipaddr bip = oasis_ipaddr_v4(TEST_ADDR_B);
    assert_int_equal(oasis_tcp_listen(n.b, PORT, NULL, do_accept, NULL), 0);
    assert_int_equal(oasis_tcp_connect(n.a, &bip, PORT, NULL, do_connect, &o), 0);
    run(&n, 10 * SEC);
    assert_int_equal(o.rc, 0);
    n.b = NULL;
    assert_int_equal(o.reads, 1);
    /* b is gone from the wire: a ping to its address is not answered. */
    ping_res pr = {0};
    assert_int_equal(oasis_ping(n.a, TEST_ADDR_B, 1, 1, 8, SEC, ping_cb, &pr), 0);
    run(&n, 10 * SEC);
    assert_int_equal(pr.done, 1);
    assert_int_not_equal(pr.err, 0);
    test_net_fini(&n);
}

/* ---- a flow walk's fn ---------------------------------------------------------- */

#define WALK_FLOWS 6

typedef struct walk {
    oasis_flow *f[WALK_FLOWS];
    int gone[WALK_FLOWS]; /* released by the test: never handed to fn again */
    int visits, bad_visits, reads, canceled, busy, connected;
} walk;

static int walk_index(const walk *w, const oasis_flow *f)
{
    for (int i = 0; i < WALK_FLOWS; i++)
        if (w->f[i] == f)
            return i;
    return -1;
}

static void walk_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    (void)f, (void)data, (void)len;
    walk *w = ud;
    w->reads++;
    if (err == OASIS_ECANCELED)
        w->canceled++;
}

static void walk_connect(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s, (void)f;
    assert_int_equal(err, 0);
    ((walk *)ud)->connected++;
}

/* fn closes, aborts and releases flows, its own and another one, and
 * tries to destroy the stack. */
static void walk_fn(oasis_flow *f, void *ud)
{
    walk *w = ud;
    int i = walk_index(w, f);
    w->visits++;
    if (i < 0 || w->gone[i]) {
        w->bad_visits++;
        return;
    }
    if (oasis_stack_destroy(oasis_flow_stack(f)) == OASIS_EBUSY)
        w->busy++;
    switch (i) {
    case 0: /* itself, at once: its pending read completes first */
        oasis_tcp_release(f);
        w->gone[0] = 1;
        break;
    case 1: /* aborted, released after the walk */
        oasis_tcp_abort(f);
        break;
    case 2: /* closed, the stack lets go when it is over */
        assert_int_equal(oasis_tcp_close(f, NULL, NULL), 0);
        break;
    case 3: /* the next flow (in address order too: allocated after it) */
        if (!w->gone[4]) {
            oasis_tcp_release(w->f[4]);
            w->gone[4] = 1;
        }
        oasis_tcp_abort(f);
        oasis_tcp_release(f);
        w->gone[3] = 1;
        break;
    default:
        oasis_tcp_abort(f);
        oasis_tcp_release(f);
        w->gone[i] = 1;
        break;
    }
}

static void walk_collect(oasis_flow *f, void *ud)
{
    oasis_flow **out = ud;
    while (*out)
        out++;
    *out = f;
}

/* oasis_tcp_foreach_flow's fn may close, abort and release flows, the
 * one it was given and others (as libuv's uv_walk callback may uv_close):
 * the walk goes on by address and never reads a released flow (ASan), a
 * flow released before its turn is not handed over, destroy from fn is
 * refused, and the stack works on. */
/* nflows flows from a to b's listener, established, in w->f. */
static void walk_open(net *n, walk *w, int nflows)
{
    net_init(n, NULL);
    memset(w, 0, sizeof *w);
    oasis_ipaddr bip = oasis_ipaddr_v4(TEST_ADDR_B);
    assert_int_equal(oasis_tcp_listen(n->b, PORT, NULL, do_accept, NULL), 0);
    for (int i = 0; i < nflows; i++)
        assert_int_equal(oasis_tcp_connect_flow(n->a, &bip, PORT, NULL, walk_connect, w, &w->f[i]), 0);
    run(n, 10 * SEC);
    assert_int_equal(w->connected, nflows);
}

static void test_foreach_fn_closes_and_releases(void **state)
{
    (void)state;
    net n;
    walk w;
    walk_open(&n, &w, WALK_FLOWS);
    for (int i = 0; i < WALK_FLOWS; i++) {
        oasis_flow *f = w.f[i];
        assert_int_equal(oasis_tcp_read(f, walk_read, &w), 0); /* "x" */
        run(&n, SEC);
        assert_int_equal(oasis_tcp_read(f, walk_read, &w), 0); /* pending */
    }
    assert_int_equal(w.reads, WALK_FLOWS);

    oasis_tcp_foreach_flow(n.a, walk_fn, &w);
    assert_int_equal(w.bad_visits, 0);
    assert_true(w.visits >= WALK_FLOWS - 1 && w.visits <= WALK_FLOWS);
    assert_int_equal(w.busy, w.visits);
    /* Every pending read but the closed flow's completed, canceled. */
    assert_true(w.canceled >= WALK_FLOWS - 2);
    oasis_tcp_release(w.f[1]);
    run(&n, 10 * SEC);

    /* Nothing is left to walk: the flow closed with no callback is still
     * closing (b never closes its end), but its handle was given back. */
    oasis_flow *left[WALK_FLOWS + 1] = {0};
    oasis_tcp_foreach_flow(n.a, walk_collect, left);
    assert_null(left[0]);

    /* The stack works on. */
    dother o = {.victim = NULL};
    oasis_ipaddr bip = oasis_ipaddr_v4(TEST_ADDR_B);
    assert_int_equal(oasis_tcp_connect(n.a, &bip, PORT, NULL, do_connect, &o), 0);
    run(&n, 10 * SEC);
    assert_int_equal(o.reads, 1);
    assert_int_equal(o.err, 0);
    test_net_fini(&n);
}

/* tcp.h: the walk visits the flows the application holds; close with no
 * callback gives the handle back at once (the stack finishes the close and
 * frees the flow), so that flow is not visited while its close goes on. */
static void test_foreach_skips_close_and_forget(void **state)
{
    (void)state;
    net n;
    walk w;
    walk_open(&n, &w, 2);
    assert_int_equal(oasis_tcp_close(w.f[0], NULL, NULL), 0);
    for (int k = 0; k < 2; k++) { /* at once, and while the close goes on */
        oasis_flow *left[3] = {0};
        oasis_tcp_foreach_flow(n.a, walk_collect, left);
        assert_true(left[0] == w.f[1]);
        assert_null(left[1]);
        run(&n, SEC);
    }
    oasis_tcp_release(w.f[1]);
    test_net_fini(&n);
}

/* ---- destroy and remove from the callbacks of DNS, DHCP, metrics, the wire ---- */

typedef struct cbtry {
    oasis_dns *r;
    oasis_dhcp *d;
    oasis_stack *s;
    oasis_metrics *m;
    oasis_metrics_source *src;
    int calls, busy, status;
} cbtry;

static void dns_try_cb(oasis_dns_req *req, int status, const oasis_dns_result *res, void *ud)
{
    (void)res;
    cbtry *c = ud;
    c->calls++;
    c->status = status;
    c->busy += oasis_dns_destroy(c->r) == OASIS_EBUSY;
    c->busy += oasis_dns_cancel(req) == OASIS_EBUSY;
    c->busy += oasis_stack_destroy(c->s) == OASIS_EBUSY;
}

/* oasis_dns_destroy from one of its callbacks, oasis_dns_cancel of the
 * request whose callback runs and oasis_stack_destroy from it are refused
 * with OASIS_EBUSY (they freed what the resolver goes on using), from
 * input and from the cancels that destroy itself runs; the resolver and
 * the stack work on (ASan: no use after free, no leak). */
static void test_dns_destroy_from_callback(void **state)
{
    (void)state;
    net n;
    net_init(&n, NULL);
    cbtry c = {.s = n.a};
    assert_int_equal(oasis_dns_create(n.a, NULL, &c.r), 0);
    uint32_t server = TEST_ADDR_B; /* no DNS there: port unreachable */
    assert_int_equal(oasis_dns_set_servers(c.r, &server, 1), 0);
    assert_int_equal(oasis_dns_resolve(c.r, "example.com", OASIS_DNS_INET, dns_try_cb, &c, NULL), 0);
    run(&n, 30 * SEC);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.status, OASIS_DNS_ENETWORK);
    assert_int_equal(c.busy, 3);
    assert_int_equal(oasis_dns_cancel(NULL), OASIS_EINVAL);
    oasis_dns_req *q;
    assert_int_equal(oasis_dns_resolve(c.r, "example.org", OASIS_DNS_INET, dns_try_cb, &c, &q), 0);
    assert_int_equal(oasis_dns_cancel(q), 0);
    /* A pending request: destroy runs its callback, which tries again. */
    assert_int_equal(oasis_dns_resolve(c.r, "example.net", OASIS_DNS_INET, dns_try_cb, &c, NULL), 0);
    assert_int_equal(oasis_dns_destroy(c.r), 0);
    assert_int_equal(c.calls, 2);
    assert_int_equal(c.status, OASIS_DNS_ECANCELED);
    assert_int_equal(c.busy, 6);
    run(&n, SEC);
    ping_res pr = {0};
    assert_int_equal(oasis_ping(n.a, TEST_ADDR_B, 1, 1, 8, SEC, ping_cb, &pr), 0);
    run(&n, 2 * SEC);
    assert_int_equal(pr.done, 1);
    assert_int_equal(pr.err, 0);
    test_net_fini(&n);
}

static void dhcp_try_cb(oasis_dhcp *d, oasis_dhcp_event ev, const oasis_dhcp_lease *lease, void *ud)
{
    (void)ev, (void)lease;
    cbtry *c = ud;
    c->calls++;
    c->busy += oasis_dhcp_destroy(d) == OASIS_EBUSY;
    c->busy += oasis_stack_destroy(c->s) == OASIS_EBUSY;
    oasis_dhcp_stop(d, 0); /* allowed */
}

/* oasis_dhcp_destroy and oasis_stack_destroy from the client's callback
 * (here TIMEOUT: the remembered address went unanswered) are refused with
 * OASIS_EBUSY; stop is allowed, and destroy after the callback works. */
static void test_dhcp_destroy_from_callback(void **state)
{
    (void)state;
    net n;
    net_init(&n, NULL);
    cbtry c = {.s = n.a};
    oasis_dhcp_config dc;
    oasis_dhcp_config_init(&dc);
    dc.requested_addr = OASIS_IPV4(10, 0, 0, 77);
    dc.start_delay_max_ns = 0;
    dc.request_retries = 1;
    dc.cb = dhcp_try_cb;
    dc.ud = &c;
    assert_int_equal(oasis_dhcp_create(n.a, &dc, &c.d), 0);
    assert_int_equal(oasis_dhcp_start(c.d), 0);
    run(&n, 120 * SEC);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.busy, 2);
    assert_int_equal(oasis_dhcp_get_state(c.d), OASIS_DHCP_STOPPED);
    assert_int_equal(oasis_dhcp_destroy(c.d), 0);
    test_net_fini(&n);
}

static int read_try(oasis_metrics_emit *e, void *ud)
{
    cbtry *c = ud;
    oasis_metrics_snapshot snap;
    c->calls++;
    c->busy += oasis_metrics_add_source(c->m, "other", NULL, 0, read_try, c, NULL) == OASIS_EBUSY;
    c->busy += oasis_metrics_remove(c->src) == OASIS_EBUSY;
    c->busy += oasis_metrics_collect(c->m, 1, &snap) == OASIS_EBUSY;
    c->busy += oasis_metrics_destroy(c->m) == OASIS_EBUSY;
    c->busy += oasis_metrics_remove_by_ud(c->m, c) == 0;
    return oasis_metrics_field_int(e, "v", 7);
}

/* A read callback that adds, removes, collects or destroys is refused
 * (OASIS_EBUSY; remove_by_ud removes nothing): collect walks the sources
 * and builds the snapshot meanwhile. Its point is collected whole; outside
 * a read the same calls work. */
static void test_metrics_misuse_from_read(void **state)
{
    (void)state;
    cbtry c;
    memset(&c, 0, sizeof c);
    assert_int_equal(oasis_metrics_create(NULL, &c.m), 0);
    assert_int_equal(oasis_metrics_add_source(c.m, "mine", NULL, 0, read_try, &c, &c.src), 0);
    oasis_metrics_snapshot snap;
    assert_int_equal(oasis_metrics_collect(c.m, 1, &snap), 0);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.busy, 5);
    assert_int_equal(snap.count, 1);
    assert_string_equal(snap.points[0].measurement, "mine");
    assert_int_equal(oasis_metrics_source_count(c.m), 1);
    assert_int_equal(oasis_metrics_remove(NULL), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_remove(c.src), 0);
    assert_int_equal(oasis_metrics_source_count(c.m), 0);
    assert_int_equal(oasis_metrics_destroy(c.m), 0);
}

/* One try at destroying c->s, counted; OASIS_EBUSY counted as refused. */
static void try_stack_destroy(cbtry *c)
{
    c->calls++;
    c->busy += oasis_stack_destroy(c->s) == OASIS_EBUSY;
}

static void observe_try(void *ud, const oasis_link *from, const oasis_link *to,
                        const uint8_t *frame, size_t len, int intact, uint64_t sent_ns,
                        uint64_t due_ns)
{
    (void)to, (void)frame, (void)len, (void)intact, (void)sent_ns, (void)due_ns;
    cbtry *c = ud;
    if (from == oasis_stack_link(c->s))
        try_stack_destroy(c);
}

/* The wire's observer runs inside the sender's send: destroying the
 * sender from it is refused (here the send is a top-level ping, where no
 * input or poll of the stack runs). */
static void test_destroy_sender_from_observer(void **state)
{
    (void)state;
    net n;
    net_init(&n, NULL);
    cbtry c = {.s = n.a};
    oasis_wire_observe(n.wire, observe_try, &c);
    ping_res pr = {0};
    assert_int_equal(oasis_ping(n.a, TEST_ADDR_B, 1, 1, 8, SEC, ping_cb, &pr), 0);
    run(&n, 2 * SEC);
    assert_true(c.calls >= 2); /* ARP request, echo request */
    assert_int_equal(c.busy, c.calls);
    assert_int_equal(pr.done, 1);
    assert_int_equal(pr.err, 0);
    oasis_wire_observe(n.wire, NULL, NULL);
    test_net_fini(&n);
}

/* A link's functions are application code the stack runs inside its calls
 * (here also a top-level write and ping, outside input and poll): a link
 * that destroys its stack from send, tx_lend or tx_commit is refused. It
 * wraps the wire's port, lending included, so TCP's frames go both ways. */
typedef struct trylink {
    oasis_link link;
    oasis_link *inner;
    cbtry c;
} trylink;

static int trylink_send(oasis_link *l, const uint8_t *frame, size_t len)
{
    trylink *t = l->data;
    try_stack_destroy(&t->c);
    return t->inner->send(t->inner, frame, len);
}

static uint8_t *trylink_lend(oasis_link *l, size_t len)
{
    trylink *t = l->data;
    try_stack_destroy(&t->c);
    return t->inner->tx_lend(t->inner, len);
}

static int trylink_commit(oasis_link *l, uint8_t *frame, size_t len)
{
    trylink *t = l->data;
    try_stack_destroy(&t->c);
    return t->inner->tx_commit(t->inner, frame, len);
}

static void test_destroy_from_link_refused(void **state)
{
    (void)state;
    net n;
    net_init(&n, NULL);
    trylink t = {.inner = oasis_stack_link(n.a), .c.s = n.a};
    assert_non_null(t.inner);
    assert_non_null(t.inner->tx_lend);
    t.link = *t.inner; /* mtu, caps */
    t.link.send = trylink_send;
    t.link.send_offload = NULL;
    t.link.caps = 0;
    t.link.tx_lend = trylink_lend;
    t.link.tx_commit = trylink_commit;
    t.link.pcap = NULL;
    t.link.data = &t;
    oasis_stack_set_link(n.a, &t.link);
    ping_res pr = {0};
    assert_int_equal(oasis_ping(n.a, TEST_ADDR_B, 1, 1, 8, SEC, ping_cb, &pr), 0);
    run(&n, 2 * SEC);
    assert_int_equal(pr.done, 1);
    assert_int_equal(pr.err, 0);
    int sent = t.c.calls;
    dother o = {.rc = 1};
    oasis_ipaddr bip = oasis_ipaddr_v4(TEST_ADDR_B);
    assert_int_equal(oasis_tcp_listen(n.b, PORT, NULL, do_accept, NULL), 0);
    assert_int_equal(oasis_tcp_connect(n.a, &bip, PORT, NULL, do_connect, &o), 0);
    run(&n, 10 * SEC);
    assert_int_equal(o.reads, 1); /* the byte came through */
    assert_true(t.c.calls > sent + 2);
    assert_int_equal(t.c.busy, t.c.calls);
    test_net_fini(&n);
}

/* oasis_wire_destroy from inside the wire's calls: a stack's callback (in
 * a step), done() (between steps) and the observer (here in a top-level
 * send) are refused, and the wire goes on; after the run it goes. */
typedef struct wtry {
    oasis_wire *w;
    int calls, busy, pings;
} wtry;

static void wtry_once(wtry *t)
{
    t->calls++;
    t->busy += oasis_wire_destroy(t->w) == OASIS_EBUSY;
}

static void wire_ping_cb(oasis_stack *s, int err, uint16_t seq, uint64_t rtt_ns, void *ud)
{
    (void)s, (void)seq, (void)rtt_ns;
    wtry *t = ud;
    t->pings += err == 0;
    wtry_once(t);
}

static int wire_done_try(void *ud)
{
    wtry *t = ud;
    wtry_once(t);
    return t->pings == 2;
}

static void wire_observe_try(void *ud, const oasis_link *from, const oasis_link *to,
                             const uint8_t *frame, size_t len, int intact, uint64_t sent_ns,
                             uint64_t due_ns)
{
    (void)from, (void)to, (void)frame, (void)len, (void)intact, (void)sent_ns, (void)due_ns;
    wtry_once(ud);
}

static void test_wire_destroy_refused_inside(void **state)
{
    (void)state;
    net n;
    net_init(&n, NULL);
    wtry t = {.w = n.wire};
    oasis_wire_observe(n.wire, wire_observe_try, &t);
    assert_int_equal(oasis_ping(n.a, TEST_ADDR_B, 1, 1, 8, SEC, wire_ping_cb, &t), 0);
    assert_int_equal(t.calls, 1); /* the observer saw the ARP request */
    oasis_wire_observe(n.wire, NULL, NULL);
    assert_int_equal(oasis_wire_run(n.wire, wire_done_try, &t, 10 * SEC), OASIS_ETIMEDOUT);
    assert_int_equal(t.pings, 1); /* the ping callback's try did not end the wire */
    assert_int_equal(oasis_ping(n.a, TEST_ADDR_B, 1, 2, 8, SEC, wire_ping_cb, &t), 0);
    assert_int_equal(oasis_wire_run(n.wire, wire_done_try, &t, 10 * SEC), OASIS_OK);
    assert_int_equal(t.pings, 2);
    assert_true(t.calls > 4);
    assert_int_equal(t.busy, t.calls);
    test_net_fini(&n); /* destroys the wire: 0 now */
}

/* ---- DNS -------------------------------------------------------------------- */

/* tcp_timeout_ns is bounded as timeout_ns is (an hour): beyond it the
 * deadline now + tcp_timeout_ns could wrap into the past. */
static void test_dns_tcp_timeout_bounded(void **state)
{
    (void)state;
    net n;
    net_init(&n, NULL);
    oasis_dns_config dc;
    oasis_dns_config_init(&dc);
    dc.tcp_timeout_ns = UINT64_MAX;
    oasis_dns *r = (oasis_dns *)1;
    assert_int_equal(oasis_dns_create(n.a, &dc, &r), OASIS_EINVAL);
    assert_null(r);
    dc.tcp_timeout_ns = 3600 * SEC;
    assert_int_equal(oasis_dns_create(n.a, &dc, &r), 0);
    oasis_dns_destroy(r);
    test_net_fini(&n);
}

/* ---- DHCP ------------------------------------------------------------------- */

/* start_delay_max_ns UINT64_MAX: the first DISCOVER waits a random time
 * up to that (max + 1 wrapped to 0 made it "no delay"). */
static void test_dhcp_start_delay_largest(void **state)
{
    (void)state;
    net n;
    net_init(&n, NULL);
    oasis_dhcp_config dc;
    oasis_dhcp_config_init(&dc);
    dc.start_delay_max_ns = UINT64_MAX;
    oasis_dhcp *d;
    assert_int_equal(oasis_dhcp_create(n.a, &dc, &d), 0);
    assert_int_equal(oasis_dhcp_start(d), 0);
    run(&n, 10 * SEC);
    /* (Drawn uniformly from 2^64 ns: under 10 s with odds of 1 in 10^9.) */
    assert_int_equal(oasis_dhcp_get_counters(d)->tx_discovers, 0);
    assert_true(oasis_stack_next_deadline(n.a) > oasis_clock_now(n.clock));
    oasis_dhcp_destroy(d);
    test_net_fini(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock_advance_largest),
        cmocka_unit_test(test_stack_wire_misuse),
        cmocka_unit_test(test_ping_timeout_largest),
        cmocka_unit_test(test_ping6_timeout_largest),
        cmocka_unit_test(test_reasm_timeout_largest),
        cmocka_unit_test(test_pmtu_expire_largest),
        cmocka_unit_test(test_arp_ttl_largest),
        cmocka_unit_test(test_arp_retry_largest),
        cmocka_unit_test(test_wire_delays_largest),
        cmocka_unit_test(test_wire_attach_twice),
        cmocka_unit_test(test_wire_attach_two_wires),
        cmocka_unit_test(test_destroy_from_callbacks_refused),
        cmocka_unit_test(test_destroy_other_stack_from_callback),
        cmocka_unit_test(test_foreach_fn_closes_and_releases),
        cmocka_unit_test(test_foreach_skips_close_and_forget),
        cmocka_unit_test(test_dns_destroy_from_callback),
        cmocka_unit_test(test_dhcp_destroy_from_callback),
        cmocka_unit_test(test_metrics_misuse_from_read),
        cmocka_unit_test(test_destroy_sender_from_observer),
        cmocka_unit_test(test_wire_destroy_refused_inside),
        cmocka_unit_test(test_destroy_from_link_refused),
        cmocka_unit_test(test_dns_tcp_timeout_bounded),
        cmocka_unit_test(test_dhcp_start_delay_largest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
