/* RFC 9293 Appendix B rows about connection failures (3.8.3: R1, R2),
 * the IP fields of a flow (3.9.1.9, 3.9.2: Diffserv, TTL) and what IP
 * does with source routes, each test naming its ReqID. Hand-built
 * segments against one stack, virtual clock.
 * The tests run over IPv4 (cmocka group "ipv4") and again over IPv6
 * (group "ipv6", th_init_af): ARP's re-check is NUD's
 * there, TOS the Traffic Class, TTL the Hop Limit; IPv4's options in group
 * "ipv4_only". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arp/arp.h"
#include "core/bytes.h"
#include "core/checksum.h"
#include "ipv6/ipv6.h"
#include "link/eth_wire.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_seq.h"
#include "tcp_harness.h"

#define PORT 80
#define A OASIS_TCP_ACK
#define S OASIS_TCP_SYN
#define SEC OASIS_NS_PER_SEC
#define MS OASIS_NS_PER_MS

typedef struct fx {
    tcp_harness h;
    th_app a;
    uint32_t iss;
    uint32_t pnxt;
    int events[8];
} fx;

static int ipv6; /* the family of the group running: 1 IPv6 */

static int setup_cfg(void **state, const oasis_tcp_config *cfg)
{
    fx *x = calloc(1, sizeof *x);
    th_init_af(&x->h, cfg, ipv6);
    th_app_init(&x->a);
    *state = x;
    return 0;
}

static int setup(void **state) { return setup_cfg(state, NULL); }

static int teardown(void **state)
{
    fx *x = *state;
    th_fini(&x->h);
    th_app_fini(&x->a);
    free(x);
    return 0;
}

static void on_event(oasis_flow *flow, oasis_tcp_event ev, void *ud)
{
    (void)flow;
    fx *x = ud;
    assert_true(ev < 8);
    x->events[ev]++;
}

static void open_flow(fx *x)
{
    x->iss = th_open_passive(&x->h, &x->a, PORT, NULL);
    x->pnxt = TH_PISN + 1;
    th_clear(&x->h);
}

/* Runs to the flow's next retransmission timeout; 1 if it fired and
 * something was sent. */
static int next_rto(fx *x)
{
    uint64_t t = x->a.flow->ext->tm.rexmt;
    if (t == OASIS_TCP_NEVER)
        return 0;
    th_run_until(&x->h, t);
    int n = 0;
    oasis_tcp_hdr r;
    while (th_pop(&x->h, &r))
        n++;
    return n > 0;
}

/* MUST-20 (b), SHLD-9, SHLD-10: after the third retransmission of the same
 * segment (R1 = 3) the neighbour is checked again (a unicast ARP request
 * to the MAC in use: negative advice to IP) and the application hears of
 * the delivery problem, once per episode; not before. An ACK of the data
 * ends the episode and a later one is reported again. */
static void test_r1_negative_advice_and_report(void **state)
{
    fx *x = *state;
    open_flow(x);
    assert_int_equal(oasis_tcp_set_event_cb(x->a.flow, on_event, x), 0);
    assert_int_equal(oasis_tcp_write(x->a.flow, "hello", 5, NULL, NULL), 0);
    th_poll(&x->h);
    th_clear(&x->h);
    uint64_t arp0 = x->h.arp_unicast;
    for (int i = 1; i <= 2; i++) {
        assert_true(next_rto(x));
        th_poll(&x->h);
        assert_int_equal(x->a.flow->ext->retries, i);
        assert_int_equal(x->h.arp_unicast, arp0);
        assert_int_equal(x->events[OASIS_TCP_EV_RETRANSMIT], 0);
    }
    assert_true(next_rto(x)); /* the third retransmission: R1 */
    th_poll(&x->h);
    assert_int_equal(x->a.flow->ext->retries, 3);
    assert_int_equal(x->h.arp_unicast, arp0 + 1);
    assert_int_equal(x->events[OASIS_TCP_EV_RETRANSMIT], 1);
    assert_true(next_rto(x)); /* beyond R1: reported once only */
    th_poll(&x->h);
    assert_int_equal(x->events[OASIS_TCP_EV_RETRANSMIT], 1);
    oasis_tcp_info i;
    assert_int_equal(oasis_tcp_get_info(x->a.flow, &i), 0);
    assert_int_equal(i.state, OASIS_TCP_ESTABLISHED); /* R2 is far */

    /* the peer answers: the episode is over; a new one is reported anew */
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, x->pnxt, x->iss + 6);
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    assert_int_equal(oasis_tcp_write(x->a.flow, "again", 5, NULL, NULL), 0);
    th_poll(&x->h);
    th_clear(&x->h);
    for (int k = 0; k < 3; k++)
        assert_true(next_rto(x));
    th_poll(&x->h);
    assert_int_equal(x->events[OASIS_TCP_EV_RETRANSMIT], 2);
}

/* 1 if the stack knows the peer's link address (ARP, IPv6: ND). */
static int peer_known(fx *x)
{
    uint8_t mac[6];
    if (!ipv6)
        return oasis_arp_lookup(x->h.s, TH_PEER, mac) == 0;
    oasis_in6 peer;
    memcpy(peer.b, x->h.peer.b, 16);
    const ip6_neigh *n = oasis_nd_lookup(x->h.s, &peer);
    return n && n->state != NEIGH_INCOMPLETE;
}

/* Negative advice acts on the neighbour: when the re-checked neighbour
 * stays silent its ARP entry goes, and the next datagram asks for it by
 * broadcast again (IPv6: NUD's unicast probes, then the entry is deleted
 * and a multicast NS asks anew, RFC 4861 7.3.3). */
static void test_r1_silent_neighbour_is_forgotten(void **state)
{
    fx *x = *state;
    open_flow(x);
    assert_true(peer_known(x));
    assert_int_equal(oasis_tcp_write(x->a.flow, "hello", 5, NULL, NULL), 0);
    th_poll(&x->h);
    th_clear(&x->h);
    x->h.arp_mute = 1; /* the neighbour has gone */
    uint64_t req0 = x->h.arp_unicast;
    for (int k = 0; k < 3; k++)
        th_run_until(&x->h, x->a.flow->ext->tm.rexmt);
    th_clear(&x->h);
    assert_int_equal(x->h.arp_unicast, req0 + 1);
    assert_true(peer_known(x)); /* kept while asked */
    th_advance(&x->h, 3 * SEC + 1); /* cfg.arp_retries unicast requests, 1 s apart */
    assert_int_equal(x->h.arp_unicast, req0 + 3);
    assert_false(peer_known(x));
    /* the next datagram (the next retransmission) asks by broadcast */
    uint64_t bcast = x->h.arp_requests - x->h.arp_unicast;
    th_run_until(&x->h, x->a.flow->ext->tm.rexmt);
    assert_int_equal(x->h.arp_requests - x->h.arp_unicast, bcast + 1);
}

/* MUST-22, MUST-23, SHLD-9 for SYNs: a SYN is retransmitted for at least
 * three minutes before the attempt fails (183 s with the defaults), R1
 * gives negative advice and a report (on an oasis_tcp_connect_flow
 * handle) as for data. */
static void test_syn_r2_three_minutes(void **state)
{
    fx *x = *state;
    oasis_flow *f = NULL;
    uint64_t t0 = th_now(&x->h);
    assert_int_equal(
        oasis_tcp_connect_flow(x->h.s, &x->h.peer, 8080, NULL, th_connect_cb, &x->a, &f), 0);
    assert_int_equal(oasis_tcp_set_event_cb(f, on_event, x), 0);
    uint64_t arp0 = x->h.arp_unicast;
    int syns = 0;
    uint64_t last_syn = 0;
    while (th_now(&x->h) < t0 + 180 * SEC) {
        th_advance(&x->h, 100 * MS);
        oasis_tcp_hdr r;
        while (th_pop(&x->h, &r)) {
            assert_int_equal(r.flags, S);
            syns++;
            last_syn = th_now(&x->h);
        }
    }
    assert_int_equal(x->a.connected, 0); /* still trying at 3 minutes */
    assert_int_equal(syns, 1 + 7);
    assert_true(last_syn >= t0 + 123 * SEC);
    assert_true(x->h.arp_unicast > arp0);
    assert_int_equal(x->events[OASIS_TCP_EV_RETRANSMIT], 1);
    th_run_until(&x->h, t0 + 184 * SEC);
    assert_int_equal(x->a.connected, 1);
    assert_int_equal(x->a.connect_err, OASIS_ETIMEDOUT);
    oasis_tcp_release(f);
}

/* SHLD-11: R2 for data is over 100 s even on a fast path (RTO at its
 * 200 ms floor): a peer silent for 100 s has not yet killed the flow. */
static void test_data_r2_over_100s(void **state)
{
    fx *x = *state;
    open_flow(x);
    assert_int_equal(oasis_tcp_write(x->a.flow, "hello", 5, NULL, NULL), 0);
    th_poll(&x->h);
    uint64_t t0 = th_now(&x->h);
    assert_true(x->a.flow->ext->tm.rexmt - t0 <= 1 * SEC);
    th_run_until(&x->h, t0 + 100 * SEC);
    th_clear(&x->h);
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), 0);
    th_run_until(&x->h, t0 + 3600 * SEC);
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), OASIS_ETIMEDOUT);
}

static int setup_dscp10(void **state)
{
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.dscp = 10;
    return setup_cfg(state, &c.tcp);
}

/* Pops every segment sent so far; all must carry tos and ttl; returns
 * how many there were. */
static int expect_ip_fields(fx *x, uint8_t tos, uint8_t ttl)
{
    int n = 0;
    oasis_tcp_hdr r;
    while (th_pop(&x->h, &r)) {
        assert_int_equal(x->h.last_tos, tos);
        assert_int_equal(x->h.last_ttl, ttl);
        n++;
    }
    return n;
}

/* MUST-48, SHLD-22: the stack's default Diffserv codepoint is on every
 * segment of a flow, the SYN-ACK included (cfg.tcp.dscp 10: TOS byte
 * 40); the application sets its own per flow (EF, 46: TOS 0xb8), passed
 * unchanged to IP; SHLD-21: it may change during the connection, and
 * retransmissions carry the current value. Out of range: OASIS_EINVAL. */
static void test_dscp_on_the_wire(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    th_inject(&x->h, &syn);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, S | A);
    assert_int_equal(x->h.last_tos, 10 << 2);
    x->iss = r.seq;
    x->pnxt = TH_PISN + 1;
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, x->pnxt, x->iss + 1);
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    assert_non_null(x->a.flow);
    assert_int_equal(oasis_tcp_write(x->a.flow, "a", 1, NULL, NULL), 0);
    th_poll(&x->h);
    assert_int_equal(expect_ip_fields(x, 10 << 2, 64), 1);

    assert_int_equal(oasis_tcp_set_dscp(x->a.flow, 64), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_set_dscp(x->a.flow, 46), 0);
    th_run_until(&x->h, x->a.flow->ext->tm.rexmt); /* the retransmission of "a" */
    assert_int_equal(expect_ip_fields(x, 0xb8, 64), 1);
    ack.ack = x->iss + 2;
    th_inject(&x->h, &ack);
    assert_int_equal(oasis_tcp_write(x->a.flow, "b", 1, NULL, NULL), 0);
    th_poll(&x->h);
    assert_int_equal(expect_ip_fields(x, 0xb8, 64), 1);
    assert_int_equal(oasis_tcp_set_dscp(x->a.flow, 0), 0); /* and back */
    ack.ack = x->iss + 3;
    th_inject(&x->h, &ack);
    assert_int_equal(oasis_tcp_write(x->a.flow, "c", 1, NULL, NULL), 0);
    th_poll(&x->h);
    assert_int_equal(expect_ip_fields(x, 0, 64), 1);
}

/* Pops one segment, which must have flags and the IP fields tos, ttl;
 * returns its sequence number. */
static uint32_t pop_fields(fx *x, uint8_t flags, uint8_t tos, uint8_t ttl)
{
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags & (S | A | OASIS_TCP_FIN | OASIS_TCP_RST), flags);
    assert_int_equal(x->h.last_tos, tos);
    assert_int_equal(x->h.last_ttl, ttl);
    return r.seq;
}

/* A listener gives its SYN-ACKs and accepted flows its own DSCP and TTL
 * (oasis_listen_opts), SYN cookies' SYN-ACKs and the flows they open
 * included; without them, the stack's (cfg.tcp.dscp 10 here, TTL 64),
 * also on a cookie's SYN-ACK, which once went out with TOS 0. A listener
 * may ask for DSCP 0 over the stack's 10. DSCP 64: OASIS_EINVAL. */
static void test_listener_dscp_ttl(void **state)
{
    fx *x = *state;
    oasis_listen_opts o = {.backlog = 1, .set_dscp = 1, .dscp = 46, .ttl = 9};
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, &o, th_accept_cb, &x->a), 0);
    oasis_listen_opts d = {.backlog = 1};
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT + 1, &d, th_accept_cb, &x->a), 0);
    oasis_listen_opts z = {.set_dscp = 1};
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT + 2, &z, th_accept_cb, &x->a), 0);
    oasis_listen_opts bad = {.set_dscp = 1, .dscp = 64};
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT + 3, &bad, th_accept_cb, &x->a), OASIS_EINVAL);

    /* PORT: a stateful SYN-ACK, then (backlog full) a cookie's. */
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    th_inject(&x->h, &syn);
    uint32_t iss = pop_fields(x, S | A, 0xb8, 9);
    oasis_tcp_hdr syn2 = th_seg(TH_PPORT + 1, PORT, S, TH_PISN, 0);
    th_inject(&x->h, &syn2);
    uint32_t cookie = pop_fields(x, S | A, 0xb8, 9);
    assert_int_equal(th_ctr(&x->h)->syn_cookies_sent, 1);
    /* Both complete; each accepted flow sends with the listener's fields. */
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, TH_PISN + 1, iss + 1);
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    assert_non_null(x->a.flow);
    assert_int_equal(oasis_tcp_write(x->a.flow, "a", 1, NULL, NULL), 0);
    th_poll(&x->h);
    pop_fields(x, A, 0xb8, 9);
    oasis_flow *first = x->a.flow;
    oasis_tcp_hdr ack2 = th_seg(TH_PPORT + 1, PORT, A, TH_PISN + 1, cookie + 1);
    th_inject(&x->h, &ack2);
    th_poll(&x->h);
    assert_true(x->a.flow != first);
    assert_int_equal(oasis_tcp_write(x->a.flow, "b", 1, NULL, NULL), 0);
    th_poll(&x->h);
    pop_fields(x, A, 0xb8, 9);
    oasis_tcp_release(first);
    oasis_tcp_release(x->a.flow);
    x->a.flow = NULL;
    th_clear(&x->h);

    /* PORT + 1: the stack's DSCP on both kinds of SYN-ACK. */
    syn = th_seg(TH_PPORT + 2, PORT + 1, S, TH_PISN, 0);
    th_inject(&x->h, &syn);
    pop_fields(x, S | A, 10 << 2, 64);
    syn2 = th_seg(TH_PPORT + 3, PORT + 1, S, TH_PISN, 0);
    th_inject(&x->h, &syn2);
    pop_fields(x, S | A, 10 << 2, 64);
    assert_int_equal(th_ctr(&x->h)->syn_cookies_sent, 2);

    /* PORT + 2: DSCP 0 asked for. */
    syn = th_seg(TH_PPORT + 4, PORT + 2, S, TH_PISN, 0);
    th_inject(&x->h, &syn);
    pop_fields(x, S | A, 0, 64);
}

/* MUST-49: the TTL of TCP segments is configurable: the stack's cfg.ttl
 * (64) by default, per flow with oasis_tcp_set_ttl (also an active open's
 * SYN retransmissions), 0 goes back to the stack's. */
static void test_ttl_on_the_wire(void **state)
{
    fx *x = *state;
    oasis_flow *f = NULL;
    assert_int_equal(
        oasis_tcp_connect_flow(x->h.s, &x->h.peer, 8080, NULL, th_connect_cb, &x->a, &f), 0);
    th_poll(&x->h);
    assert_int_equal(expect_ip_fields(x, 0, 64), 1); /* the first SYN: the stack's */
    assert_int_equal(oasis_tcp_set_ttl(f, 7), 0);
    assert_int_equal(oasis_tcp_set_dscp(f, 8), 0);
    th_run_until(&x->h, f->ext->tm.rexmt);
    assert_int_equal(expect_ip_fields(x, 8 << 2, 7), 1); /* the retransmitted SYN */
    assert_int_equal(oasis_tcp_set_ttl(f, 0), 0);
    th_run_until(&x->h, f->ext->tm.rexmt);
    assert_int_equal(expect_ip_fields(x, 8 << 2, 64), 1);
    oasis_tcp_release(f);
}

/* A SYN from the peer in a whole Ethernet frame, with IP options opt
 * (a multiple of 4 bytes, at most 40). */
static void inject_syn_with_ip_options(fx *x, const uint8_t *opt, size_t optlen)
{
    uint8_t f[14 + 60 + 20];
    memset(f, 0, sizeof f);
    static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
    oasis_eth_emit(f, oasis_stack_mac(x->h.s), peer_mac, OASIS_ETHERTYPE_IPV4);
    uint8_t *ip = f + 14;
    size_t ihl = 20 + optlen;
    ip[0] = (uint8_t)(0x40 | (ihl / 4));
    oasis_put16(ip + 2, (uint16_t)(ihl + 20));
    ip[8] = 64;
    ip[9] = 6;
    oasis_put32(ip + 12, TH_PEER);
    oasis_put32(ip + 16, TH_LOCAL);
    memcpy(ip + 20, opt, optlen);
    uint16_t sum = oasis_csum(ip, ihl);
    memcpy(ip + 10, &sum, 2); /* the sum is in network order already */
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    oasis_tcp_emit(ip + ihl, &syn, 0, TH_PEER, TH_LOCAL);
    oasis_stack_input(x->h.s, f, 14 + ihl + 20);
    th_poll(&x->h);
}

/* MUST-51..53, SHLD-24 are not taken up: Oasis never sends a source
 * route and, as RFC 7126 advises and a Linux host does, drops datagrams
 * that carry one (LSRR 131, SSRR 137), counted; a SYN with another option
 * (Record Route, 7) or none is answered. */
static void test_source_routed_dropped(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    const oasis_ip_counters *ipc = &oasis_stack_counters(x->h.s)->ip;
    /* LSRR with one hop (10.0.0.9) already used, then EOL */
    const uint8_t lsrr[8] = {131, 7, 8, 10, 0, 0, 9, 0};
    const uint8_t ssrr[8] = {137, 7, 8, 10, 0, 0, 9, 0};
    const uint8_t nop_lsrr[12] = {1, 1, 1, 1, 131, 7, 8, 10, 0, 0, 9, 0};
    inject_syn_with_ip_options(x, lsrr, sizeof lsrr);
    inject_syn_with_ip_options(x, ssrr, sizeof ssrr);
    inject_syn_with_ip_options(x, nop_lsrr, sizeof nop_lsrr);
    assert_int_equal(ipc->in_source_routed, 3);
    assert_int_equal(th_pending(&x->h), 0);
    assert_int_equal(th_ctr(&x->h)->passive_opens, 0);
    const uint8_t rr[8] = {7, 7, 4, 0, 0, 0, 0, 0};
    inject_syn_with_ip_options(x, rr, sizeof rr);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, S | A);
    assert_int_equal(ipc->in_source_routed, 3);
}

/* Passive open with timestamps: the peer's SYN says TSval 5000. */
static void open_ts(fx *x)
{
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    syn.has_ts = 1;
    syn.ts_val = 5000;
    x->iss = th_open_passive(&x->h, &x->a, PORT, &syn);
    x->pnxt = TH_PISN + 1;
    th_clear(&x->h);
    assert_true(x->a.flow->ts_ok);
}

static void send_ts_data(fx *x, uint32_t tsval)
{
    oasis_tcp_hdr d = th_seg(TH_PPORT, PORT, A, x->pnxt, x->iss + 1);
    d.has_ts = 1;
    d.ts_val = tsval;
    d.payload = (const uint8_t *)"data";
    d.payload_len = 4;
    th_inject(&x->h, &d);
    th_poll(&x->h);
}

/* RFC 7323 5.5: TS.Recent older than 24 days (no segment accepted since)
 * is invalid: a segment whose TSval looks older is accepted then, and its
 * TSval becomes TS.Recent; before 24 days PAWS drops it. */
static void test_ts_recent_invalid_after_24_days(void **state)
{
    fx *x = *state;
    open_ts(x);
    uint64_t t0 = th_now(&x->h);
    th_run_until(&x->h, t0 + 23ull * 24 * 3600 * SEC);
    send_ts_data(x, 4000); /* "older" than 5001 */
    assert_int_equal(th_ctr(&x->h)->paws_drops, 1);
    assert_int_equal(x->a.flow->rcv_nxt, x->pnxt);
    th_run_until(&x->h, t0 + 25ull * 24 * 3600 * SEC);
    send_ts_data(x, 4000);
    assert_int_equal(th_ctr(&x->h)->paws_drops, 1);
    assert_int_equal(x->a.flow->rcv_nxt, x->pnxt + 4);
    assert_int_equal(x->a.flow->ts_recent, 4000);
}

/* RFC 7323 5.5 at the edge: idle 100 ms less than 24 days, TS.Recent
 * still holds (PAWS drops the "older" segment), whatever the phase of the
 * clock (the flow counts idle time in ticks of 2^30 ns, ~1.07 s: here
 * its last segment comes just before a tick ends); idle 24 days and 2 s,
 * it is invalid. */
static void test_ts_recent_valid_until_24_days(void **state)
{
    fx *x = *state;
    const uint64_t tick = 1ull << 30;
    uint64_t t = (th_now(&x->h) / tick + 2) * tick - 2 * MS;
    th_run_until(&x->h, t);
    open_ts(x);
    uint64_t t0 = th_now(&x->h);
    assert_true(t0 % tick >= tick - 2 * MS); /* the handshake took no time */
    th_run_until(&x->h, t0 + 24ull * 24 * 3600 * SEC - 100 * MS);
    send_ts_data(x, 4000); /* "older" than 5001 */
    assert_int_equal(th_ctr(&x->h)->paws_drops, 1);
    assert_int_equal(x->a.flow->rcv_nxt, x->pnxt);
    th_run_until(&x->h, t0 + 24ull * 24 * 3600 * SEC + 2 * SEC);
    send_ts_data(x, 4000);
    assert_int_equal(th_ctr(&x->h)->paws_drops, 1);
    assert_int_equal(x->a.flow->rcv_nxt, x->pnxt + 4);
}

/* RFC 7323 5.4: the timestamp clock ticks once a millisecond (between
 * 1 ms and 1 s per tick). */
static void test_timestamp_clock_1ms(void **state)
{
    fx *x = *state;
    open_ts(x);
    assert_int_equal(oasis_tcp_write(x->a.flow, "a", 1, NULL, NULL), 0);
    th_poll(&x->h);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_true(r.has_ts);
    uint32_t t1 = r.ts_val;
    th_advance(&x->h, 1500 * MS);
    th_clear(&x->h);
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, x->pnxt, x->iss + 2);
    ack.has_ts = 1;
    ack.ts_val = 6000;
    th_inject(&x->h, &ack);
    assert_int_equal(oasis_tcp_write(x->a.flow, "b", 1, NULL, NULL), 0);
    th_poll(&x->h);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.ts_val - t1, 1500);
}

static int setup_rto_min_1s(void **state)
{
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.rto_min_ns = 1 * SEC;
    return setup_cfg(state, &c.tcp);
}

/* RFC 6298 2.4: the minimum RTO is configurable per stack; configured to
 * the RFC's 1 s it holds however short the measured RTT (the default is
 * 200 ms, as Linux's TCP_RTO_MIN). */
static void test_rto_min_configured_1s(void **state)
{
    fx *x = *state;
    open_flow(x);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(oasis_tcp_write(x->a.flow, "a", 1, NULL, NULL), 0);
        th_poll(&x->h);
        th_clear(&x->h);
        th_advance(&x->h, 1 * MS); /* a 1 ms path */
        oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, x->pnxt, x->iss + 2 + (uint32_t)i);
        th_inject(&x->h, &ack);
        th_poll(&x->h);
    }
    oasis_tcp_info info; /* the flow is idle: its RTT state as it kept it */
    assert_int_equal(oasis_tcp_get_info(x->a.flow, &info), 0);
    assert_true(info.srtt_ns > 0 && info.srtt_ns < 5 * MS);
    assert_int_equal(info.rto_ns, 1 * SEC);
    assert_int_equal(oasis_tcp_write(x->a.flow, "z", 1, NULL, NULL), 0);
    th_poll(&x->h);
    uint64_t sent = th_now(&x->h);
    th_clear(&x->h);
    th_run_until(&x->h, sent + 999 * MS);
    assert_int_equal(th_pending(&x->h), 0); /* no retransmission before 1 s */
    th_run_until(&x->h, sent + 1 * SEC);
    assert_int_equal(th_pending(&x->h), 1);
}

/* SHLD-15, SHLD-16: when the peer shrinks its window (moves the right edge
 * left), no new data goes beyond the new edge; data already sent inside it
 * is retransmitted normally; new data flows again once it opens. */
static void test_no_new_data_into_shrunk_window(void **state)
{
    fx *x = *state;
    const uint32_t mss = ipv6 ? 1220 : 536; /* no MSS option: RFC 9293 3.7.1 */
    open_flow(x);
    oasis_tcp_hdr w = th_seg(TH_PPORT, PORT, A, x->pnxt, x->iss + 1);
    w.window = (uint16_t)(5 * mss); /* the peer sent no MSS: segments of mss */
    th_inject(&x->h, &w);
    th_poll(&x->h);
    assert_int_equal(oasis_tcp_set_nodelay(x->a.flow, 1), 0);
    uint8_t buf[10000];
    memset(buf, 'w', sizeof buf);
    assert_int_equal(oasis_tcp_write(x->a.flow, buf, sizeof buf, NULL, NULL), 0);
    th_poll(&x->h);
    uint32_t edge = x->iss + 1 + 5 * mss, maxseq = 0;
    oasis_tcp_hdr r;
    while (th_pop(&x->h, &r))
        maxseq = r.seq + (uint32_t)r.payload_len;
    assert_int_equal(maxseq, edge); /* the window's worth went out */
    /* ACK of two segments with a window of one: the right edge moves
     * from 5 to 3 segments' worth */
    w.ack = x->iss + 1 + 2 * mss;
    w.window = (uint16_t)mss;
    th_inject(&x->h, &w);
    th_poll(&x->h);
    while (th_pop(&x->h, &r))
        assert_true(r.payload_len == 0 || oasis_seq_le(r.seq + (uint32_t)r.payload_len, edge));
    /* the RTO resends from snd_una, within the new edge */
    th_run_until(&x->h, x->a.flow->ext->tm.rexmt);
    int resent = 0;
    while (th_pop(&x->h, &r)) {
        if (!r.payload_len)
            continue;
        resent++;
        assert_int_equal(r.seq, x->iss + 1 + 2 * mss);
        assert_true(oasis_seq_le(r.seq + (uint32_t)r.payload_len, x->iss + 1 + 3 * mss));
    }
    assert_true(resent >= 1);
    /* everything acked, window open: new data again */
    w.ack = edge;
    w.window = 65535;
    th_inject(&x->h, &w);
    th_poll(&x->h);
    int fresh = 0;
    while (th_pop(&x->h, &r))
        if (r.payload_len && oasis_seq_ge(r.seq, edge))
            fresh++;
    assert_true(fresh > 0);
}

static int group_ipv6(void **state)
{
    (void)state;
    ipv6 = 1;
    return 0;
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    /* IPv4's header options */
    const struct CMUnitTest v4[] = {
        T(test_source_routed_dropped),
    };
    const struct CMUnitTest tests[] = {
        T(test_r1_negative_advice_and_report),
        T(test_r1_silent_neighbour_is_forgotten),
        T(test_syn_r2_three_minutes),
        T(test_data_r2_over_100s),
        cmocka_unit_test_setup_teardown(test_dscp_on_the_wire, setup_dscp10, teardown),
        cmocka_unit_test_setup_teardown(test_listener_dscp_ttl, setup_dscp10, teardown),
        T(test_ttl_on_the_wire),
        T(test_ts_recent_invalid_after_24_days),
        T(test_ts_recent_valid_until_24_days),
        T(test_timestamp_clock_1ms),
        cmocka_unit_test_setup_teardown(test_rto_min_configured_1s, setup_rto_min_1s, teardown),
        T(test_no_new_data_into_shrunk_window),
    };
    if (getenv("TCP_TEST"))
        cmocka_set_test_filter(getenv("TCP_TEST"));
    int failed = cmocka_run_group_tests_name("ipv4", tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("ipv4_only", v4, NULL, NULL);
    return failed + cmocka_run_group_tests_name("ipv6", tests, group_ipv6, NULL);
}
