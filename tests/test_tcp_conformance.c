/* Tests for rows of docs/conformance.md that no other test asserts: each
 * names its requirement (RFC 9293 Appendix B ReqID or RFC section). Hand-
 * built segments against one stack, virtual clock.
 * The tests run over IPv4 (cmocka group "ipv4") and again over IPv6
 * (group "ipv6", th_init_af). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcp/tcp_flow.h"
#include "tcp/tcp_seq.h"
#include "tcp_harness.h"

#define PORT 80
#define A OASIS_TCP_ACK
#define S OASIS_TCP_SYN
#define R OASIS_TCP_RST
#define P OASIS_TCP_PSH
#define MS (1000u * 1000u)

typedef struct fx {
    tcp_harness h;
    th_app a;
    uint32_t iss;  /* our ISS */
    uint32_t pnxt; /* the peer's next sequence number */
} fx;

static int ipv6; /* the family of the group running: 1 IPv6 */

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    th_init_af(&x->h, NULL, ipv6);
    th_app_init(&x->a);
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

/* Passive open from a SYN built by the caller (NULL: no options). */
static void open_with(fx *x, const oasis_tcp_hdr *syn)
{
    x->iss = th_open_passive(&x->h, &x->a, PORT, syn);
    x->pnxt = TH_PISN + 1;
    th_clear(&x->h);
}

static oasis_tcp_hdr syn_mss(uint16_t mss)
{
    oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    s.has_mss = 1;
    s.mss = mss;
    return s;
}

static void write_bytes(fx *x, size_t n, int nodelay)
{
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    memset(buf, 'c', n);
    if (nodelay)
        assert_int_equal(oasis_tcp_write_nodelay(x->a.flow, buf, n, NULL, NULL), 0);
    else
        assert_int_equal(oasis_tcp_write(x->a.flow, buf, n, NULL, NULL), 0);
    free(buf);
    th_poll(&x->h);
}

/* MUST-15: a peer that sends no MSS option gets segments of at most 536
 * (IPv6: 1220, RFC 9293 3.7.1). */
static void test_mss_default(void **state)
{
    fx *x = *state;
    open_with(x, NULL);
    write_bytes(x, 2000, 0);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.payload_len, ipv6 ? 1220 : 536);
}

/* MUST-65: the MSS option only on SYNs. MUST-61/SHLD-27/MAY-15: a pushed
 * write cut into several segments carries PSH on its last segment only
 * and its short tail is not held back. */
static void test_mss_only_on_syn_and_psh_on_last(void **state)
{
    fx *x = *state;
    oasis_tcp_hdr syn = syn_mss(1000);
    open_with(x, &syn);
    write_bytes(x, 2500, 1);
    oasis_tcp_hdr r;
    size_t total = 0;
    int segs = 0;
    while (th_pop(&x->h, &r)) {
        assert_false(r.has_mss);
        if (r.payload_len == 0)
            continue;
        segs++;
        total += r.payload_len;
        if (total < 2500)
            assert_false(r.flags & P);
        else
            assert_true(r.flags & P);
    }
    assert_int_equal(segs, 3);
    assert_int_equal(total, 2500);
}

/* MUST-57 / RFC 1122 4.2.3.10: segments (SYNs included) to a multicast
 * address or from a broadcast address are dropped silently. IPv6 has no
 * broadcast: SYNs to groups we are in (all-nodes, our solicited-node
 * group, RFC 4291 2.7.1) and one from a multicast source (2.7). */
static void test_syn_to_multicast_or_from_broadcast_dropped(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
    static const uint8_t solicited[16] = {0xff, 0x02, [11] = 1, 0xff, 0, 0, 1};
    const oasis_ipaddr mc4 = oasis_ipaddr_v4(OASIS_IPV4(224, 0, 0, 1));
    const oasis_ipaddr bc4 = oasis_ipaddr_v4(0xffffffffu);
    const oasis_ipaddr all6 = oasis_ipaddr_v6(all_nodes), sol6 = oasis_ipaddr_v6(solicited);
    const oasis_ipaddr *p = &x->h.peer, *l = &x->h.local;
    const oasis_ipaddr *pairs[2][3][2] = {
        {{p, &mc4}, {&bc4, l}, {p, &bc4}},
        {{p, &all6}, {p, &sol6}, {&all6, l}},
    };
    for (size_t i = 0; i < 3; i++) {
        const oasis_ipaddr *src = pairs[ipv6][i][0], *dst = pairs[ipv6][i][1];
        oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
        uint8_t buf[OASIS_TCP_HLEN];
        oasis_tcp_emit_ps(buf, &s, 0, th_pseudo_addr(&x->h, src, dst, sizeof buf));
        th_send_addr(&x->h, src, dst, buf, sizeof buf, 0);
        th_poll(&x->h);
    }
    assert_int_equal(th_pending(&x->h), 0);
    assert_int_equal(x->a.accepted, 0);
    /* the same SYN from a unicast peer is answered: the listener works */
    oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    th_inject(&x->h, &s);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, S | A);
}

/* SHLD-2: an acceptable RST carrying data still resets the connection. */
static void test_rst_with_data_resets(void **state)
{
    fx *x = *state;
    open_with(x, NULL);
    oasis_tcp_hdr rst = th_seg(TH_PPORT, PORT, R, x->pnxt, 0);
    rst.payload = (const uint8_t *)"reason";
    rst.payload_len = 6;
    th_inject(&x->h, &rst);
    th_poll(&x->h);
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), OASIS_ERESET);
}

/* MUST-25: keep-alive is off unless asked for: three idle hours send
 * nothing and the flow stays established. */
static void test_keepalive_default_off(void **state)
{
    fx *x = *state;
    open_with(x, NULL);
    th_run_until(&x->h, th_now(&x->h) + 3ull * 3600 * OASIS_NS_PER_SEC);
    assert_int_equal(th_pending(&x->h), 0);
    oasis_tcp_info i;
    assert_int_equal(oasis_tcp_get_info(x->a.flow, &i), 0);
    assert_int_equal(i.state, OASIS_TCP_ESTABLISHED);
}

/* RFC 7323 2.3: a shift count above 14 is used as 14, and counted (the
 * RFC's "SHOULD log the error"). */
static void test_wscale_above_14_is_14(void **state)
{
    fx *x = *state;
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    syn.has_wscale = 1;
    syn.wscale = 20;
    open_with(x, &syn);
    assert_int_equal(x->a.flow->snd_wscale, 14);
    assert_int_equal(th_ctr(&x->h)->wscale_over_14, 1);
    oasis_tcp_info i;
    /* the handshake's ACK had window 65535: scaled by 2^14 */
    assert_int_equal(oasis_tcp_get_info(x->a.flow, &i), 0);
    assert_int_equal(i.snd_wnd, 65535u << 14);
}

/* RFC 7323 3.2 / 5.3: with timestamps negotiated, an in-sequence RST
 * without TSopt is still accepted (RSTs are not PAWS-checked). */
static void test_rst_without_timestamp_accepted(void **state)
{
    fx *x = *state;
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    syn.has_ts = 1;
    syn.ts_val = 5000;
    open_with(x, &syn);
    assert_true(x->a.flow->ts_ok);
    oasis_tcp_hdr rst = th_seg(TH_PPORT, PORT, R, x->pnxt, 0);
    th_inject(&x->h, &rst);
    th_poll(&x->h);
    assert_int_equal(oasis_tcp_flow_error(x->a.flow), OASIS_ERESET);
}

/* RFC 6298 5.3 and 5.2: an ACK of new data restarts the retransmission
 * timer at now + RTO; the ACK of everything stops it. */
static void test_rto_restarted_by_ack_stopped_when_all_acked(void **state)
{
    fx *x = *state;
    oasis_tcp_hdr syn = syn_mss(1000);
    open_with(x, &syn);
    assert_int_equal(oasis_tcp_set_nodelay(x->a.flow, 1), 0);
    assert_int_equal(oasis_tcp_ext_get(x->a.flow), 0); /* pinned: the test reads its internals */
    write_bytes(x, 2000, 0);
    th_clear(&x->h);
    uint64_t first = x->a.flow->ext->tm.rexmt;
    assert_true(first != OASIS_TCP_NEVER);
    th_advance(&x->h, 50 * MS);
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, x->pnxt, x->iss + 1 + 1000);
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    uint64_t rto = x->a.flow->ext->rtt.rto_ns << x->a.flow->ext->rtt.backoff;
    assert_int_equal(x->a.flow->ext->tm.rexmt, th_now(&x->h) + rto);
    ack.ack = x->iss + 1 + 2000;
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    assert_int_equal(x->a.flow->ext->tm.rexmt, OASIS_TCP_NEVER);
}

/* RFC 7323 3.2: "If a TSopt is received on a connection where TSopt was
 * not negotiated in the initial three-way handshake, the TSopt MUST be
 * ignored and the packet processed normally": an "old" TSval does not make
 * it a PAWS drop, and our ACK carries no TSopt. */
static void test_tsopt_ignored_when_not_negotiated(void **state)
{
    fx *x = *state;
    open_with(x, NULL);
    assert_false(x->a.flow->ts_ok);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    oasis_tcp_hdr d = th_seg(TH_PPORT, PORT, A | P, x->pnxt, x->iss + 1);
    d.has_ts = 1;
    d.ts_val = 7;
    d.ts_ecr = 0xdeadbeef;
    d.payload = (const uint8_t *)"abcd";
    d.payload_len = 4;
    th_inject(&x->h, &d);
    d.seq += 4;
    d.ts_val = 1; /* older still */
    th_inject(&x->h, &d);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 8);
    assert_int_equal(th_ctr(&x->h)->paws_drops, 0);
    th_advance(&x->h, 50 * MS); /* the delayed ACK */
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.ack, x->pnxt + 8);
    assert_false(r.has_ts);
}

/* RFC 7323 2.2 ("a Window Scale option in a segment without a SYN bit
 * MUST be ignored") and RFC 9293 3.7.1 (the MSS option is sent only in
 * SYNs): options of the SYN kind later in the connection change nothing. */
static void test_syn_options_after_handshake_ignored(void **state)
{
    fx *x = *state;
    oasis_tcp_hdr syn = syn_mss(1000);
    open_with(x, &syn);
    oasis_tcp_info i0, i1;
    assert_int_equal(oasis_tcp_get_info(x->a.flow, &i0), 0);
    oasis_tcp_hdr a = th_seg(TH_PPORT, PORT, A, x->pnxt, x->iss + 1);
    a.window = 1000;
    a.has_wscale = 1;
    a.wscale = 7;
    a.has_mss = 1;
    a.mss = 100;
    th_inject(&x->h, &a);
    assert_int_equal(oasis_tcp_get_info(x->a.flow, &i1), 0);
    assert_int_equal(x->a.flow->snd_wscale, 0);
    assert_int_equal(i1.snd_wnd, 1000);
    assert_int_equal(i1.mss_send, i0.mss_send);
    write_bytes(x, 900, 1);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.payload_len, 900);
}

/* RFC 5961 5.2: an ACK is acceptable only in [SND.UNA - MAX.SND.WND,
 * SND.NXT]; below it the segment is discarded, its text too, and an ACK
 * sent back. At the lower bound itself it is an old duplicate ACK, and
 * the text is taken. */
static void test_ack_below_max_snd_wnd_discarded(void **state)
{
    fx *x = *state;
    open_with(x, NULL);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    uint32_t una = x->iss + 1, maxw = x->a.flow->max_snd_wnd;
    assert_true(maxw > 0);
    oasis_tcp_hdr d = th_seg(TH_PPORT, PORT, A | P, x->pnxt, una - maxw - 1);
    d.payload = (const uint8_t *)"abcd";
    d.payload_len = 4;
    th_inject(&x->h, &d);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags & (A | S | R), A);
    assert_int_equal(r.seq, una);
    assert_int_equal(r.ack, x->pnxt);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 0);
    d.ack = una - maxw;
    th_inject(&x->h, &d);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 4);
}

/* RFC 9293 3.10.7.4, ESTABLISHED, fifth step: "If SND.UNA =< SEG.ACK =<
 * SND.NXT, the send window should be updated", then only by a segment
 * newer by SND.WL1/WL2. An old ACK (below SND.UNA, still within RFC 5961
 * 5.2's MAX.SND.WND, so its text is taken) must not move the window,
 * however new its SEG.SEQ: before, such a segment with window 0 closed
 * the window and held our next write (Linux's tcp_ack leaves the window
 * alone for an ACK below snd_una too). */
static void test_old_ack_does_not_update_window(void **state)
{
    fx *x = *state;
    open_with(x, NULL);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    uint32_t una = x->iss + 1;
    write_bytes(x, 100, 1);
    th_clear(&x->h);
    oasis_tcp_hdr d = th_seg(TH_PPORT, PORT, A | P, x->pnxt, una + 50); /* SND.UNA + 50 */
    d.payload = (const uint8_t *)"a";
    d.payload_len = 1;
    th_inject(&x->h, &d);
    assert_int_equal(x->a.flow->snd_una, una + 50);
    d.seq = x->pnxt + 1; /* newer than SND.WL1 */
    d.ack = una + 20;    /* older than SND.UNA */
    d.window = 0;
    d.payload = (const uint8_t *)"b";
    th_inject(&x->h, &d);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 2); /* its text is taken */
    assert_int_equal(x->a.flow->snd_wnd, 65535);
    th_clear(&x->h);
    write_bytes(x, 10, 1);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.seq, una + 100);
    assert_int_equal(r.payload_len, 10);
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
    const struct CMUnitTest tests[] = {
        T(test_mss_default),
        T(test_mss_only_on_syn_and_psh_on_last),
        T(test_syn_to_multicast_or_from_broadcast_dropped),
        T(test_rst_with_data_resets),
        T(test_keepalive_default_off),
        T(test_wscale_above_14_is_14),
        T(test_rst_without_timestamp_accepted),
        T(test_rto_restarted_by_ack_stopped_when_all_acked),
        T(test_tsopt_ignored_when_not_negotiated),
        T(test_syn_options_after_handshake_ignored),
        T(test_ack_below_max_snd_wnd_discarded),
        T(test_old_ack_does_not_update_window),
    };
    if (getenv("TCP_TEST"))
        cmocka_set_test_filter(getenv("TCP_TEST"));
    int failed = cmocka_run_group_tests_name("ipv4", tests, NULL, NULL);
    return failed + cmocka_run_group_tests_name("ipv6", tests, group_ipv6, NULL);
}
