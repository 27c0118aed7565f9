/* The flow table's lookup remembers the entry it found last (tcp.c). That
 * memo must never hand a segment to an entry that left the table: a flow
 * that ended (its handle still held, or freed and its slab slot reused) or
 * a TIME_WAIT entry that expired. Each test makes the entry the memo holds
 * leave the table and then sends to its tuple.
 * The table hashes a connection's tuple once (its first lookup), and its
 * chains stay whole however entries come and go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/stack_impl.h"
#include "core/checksum.h"
#include "ipv6/ipv6.h"
#include "link/eth_wire.h"
#include "tcp/tcp_wire.h"
#include "oasis/ip.h"
#include "oasis/ipv6.h"
#include "tcp/tcp_flow.h"
#include "tcp_harness.h"
#include "testutil.h"

#define PORT 80
#define P2 40001 /* a second peer port */
#define A OASIS_TCP_ACK
#define F OASIS_TCP_FIN
#define S OASIS_TCP_SYN
#define R OASIS_TCP_RST

typedef struct fx {
    tcp_harness h;
    th_app a;
} fx;

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    th_init(&x->h, NULL);
    th_app_init(&x->a);
    *state = x;
    return 0;
}

/* The same over IPv6: the IPv6 input's last flow (tcp.c, last6). */
static int setup6(void **state)
{
    fx *x = calloc(1, sizeof *x);
    th_init_af(&x->h, NULL, 1);
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

static void inject(fx *x, uint16_t pport, uint8_t flags, uint32_t seq, uint32_t ack,
                   const char *data)
{
    oasis_tcp_hdr s = th_seg(pport, PORT, flags, seq, ack);
    if (data) {
        s.payload = (const uint8_t *)data;
        s.payload_len = strlen(data);
    }
    th_inject(&x->h, &s);
}

static void expect(fx *x, uint8_t flags, uint32_t seq, uint32_t ack)
{
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags & ~OASIS_TCP_PSH, flags);
    assert_int_equal(r.seq, seq);
    if (flags & A)
        assert_int_equal(r.ack, ack);
}

static oasis_tcp_state state_of(oasis_flow *f)
{
    oasis_tcp_info i;
    assert_int_equal(oasis_tcp_get_info(f, &i), 0);
    return i.state;
}

/* Established passive flow from TH_PPORT that has just taken a data
 * segment (the lookup found it: the memo holds it). Returns our ISS. */
static uint32_t estab_with_data(fx *x)
{
    uint32_t iss = th_open_passive(&x->h, &x->a, PORT, NULL);
    inject(x, TH_PPORT, A, TH_PISN + 1, iss + 1, "hi");
    th_poll(&x->h);
    th_clear(&x->h);
    return iss;
}

/* The peer resets the flow; the application keeps its handle, so the TCB
 * (tuple and all) stays in memory, out of the table. A new SYN from the
 * same port is a new connection for the listener, not input for the dead
 * TCB (which would drop it silently). */
static void test_ended_flow_held_same_tuple_opens_anew(void **state)
{
    fx *x = *state;
    estab_with_data(x);
    oasis_flow *old = x->a.flow;
    inject(x, TH_PPORT, R, TH_PISN + 3, 0, NULL);
    th_poll(&x->h);
    assert_int_equal(state_of(old), OASIS_TCP_CLOSED);
    inject(x, TH_PPORT, S, TH_PISN + 100000, 0, NULL);
    oasis_tcp_hdr sa;
    assert_true(th_pop(&x->h, &sa));
    assert_int_equal(sa.flags, S | A);
    assert_int_equal(sa.ack, TH_PISN + 100001);
    inject(x, TH_PPORT, A, TH_PISN + 100001, sa.seq + 1, NULL);
    th_poll(&x->h);
    assert_int_equal(x->a.accepted, 2);
    assert_ptr_not_equal(x->a.flow, old);
    oasis_tcp_release(old);
}

/* A segment with the flow's ports and data at its RCV.NXT, from src to
 * dst (an address the harness answers no ARP for gets no reply out). */
static void inject_between(fx *x, uint32_t src, uint32_t dst, uint32_t seq, uint32_t ack)
{
    oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, A, seq, ack);
    uint8_t buf[64];
    memcpy(buf + OASIS_TCP_HLEN + oasis_tcp_options_len(&s), "xx", 2);
    size_t n = oasis_tcp_emit(buf, &s, 2, src, dst) + 2;
    oasis_tcp_input4(x->h.s, src, dst, buf, n);
    th_poll(&x->h);
    th_clear(&x->h);
}

/* The last IPv4 flow is found again by its whole tuple (tcp.c, last4): a
 * segment with its ports and sequence numbers but another source, or
 * another destination, is not the flow's (it goes to the listener). */
static void test_last_flow_needs_whole_tuple(void **state)
{
    fx *x = *state;
    uint32_t iss = estab_with_data(x); /* the flow was the last one found */
    uint32_t other = OASIS_IPV4(10, 0, 0, 3);
    uint64_t no_listener = th_ctr(&x->h)->no_listener;
    oasis_flow *f = x->a.flow;
    inject_between(x, other, TH_LOCAL, TH_PISN + 3, iss + 1);
    assert_int_equal(f->rcv_nxt, TH_PISN + 3); /* "hi" only */
    inject_between(x, TH_PEER, other, TH_PISN + 3, iss + 1);
    assert_int_equal(f->rcv_nxt, TH_PISN + 3);
    assert_int_equal(th_ctr(&x->h)->no_listener, no_listener + 1); /* not our address */
    /* The flow itself still takes its next segment. */
    inject(x, TH_PPORT, A, TH_PISN + 3, iss + 1, "xx");
    th_poll(&x->h);
    assert_int_equal(f->rcv_nxt, TH_PISN + 5);
}

/* The same for IPv6's last flow: another source or destination address
 * with the flow's ports and sequence numbers is not the flow's. */
static void inject_between6(fx *x, const oasis_ipaddr *src, const oasis_ipaddr *dst, uint32_t seq,
                            uint32_t ack)
{
    oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, A, seq, ack);
    uint8_t buf[64];
    size_t hl = OASIS_TCP_HLEN + oasis_tcp_options_len(&s);
    memcpy(buf + hl, "xx", 2);
    oasis_tcp_emit_ps(buf, &s, oasis_csum_add(0, buf + hl, 2), th_pseudo_addr(&x->h, src, dst, hl + 2));
    th_send_addr(&x->h, src, dst, buf, hl + 2, 0);
    th_poll(&x->h);
    th_clear(&x->h);
}

static void test_last_flow6_needs_whole_tuple(void **state)
{
    fx *x = *state;
    uint32_t iss = estab_with_data(x); /* the flow was the last one found */
    oasis_ipaddr other = oasis_ipaddr_v6((const uint8_t[16])TH_IN6(3));
    oasis_flow *f = x->a.flow;
    assert_ptr_equal(x->h.s->tcp->last6, f);
    inject_between6(x, &other, &x->h.local, TH_PISN + 3, iss + 1); /* (the listener's) */
    assert_int_equal(f->rcv_nxt, TH_PISN + 3); /* "hi" only */
    inject_between6(x, &x->h.peer, &other, TH_PISN + 3, iss + 1);
    assert_int_equal(f->rcv_nxt, TH_PISN + 3);
    /* The flow itself still takes its next segment. */
    inject(x, TH_PPORT, A, TH_PISN + 3, iss + 1, "xx");
    th_poll(&x->h);
    assert_int_equal(f->rcv_nxt, TH_PISN + 5);
}

/* IPv6's direct path (ipv6.c tcp_direct6) takes a flow's next segments
 * without looking through our addresses again, counted as the general
 * path counts them, while the addresses stay as they were: once the
 * peer's address is one of ours too, a segment from it comes "from
 * ourselves" and is dropped (in_addr_errors), as the general path drops it. */
static void test_direct6_follows_our_addresses(void **state)
{
    fx *x = *state;
    oasis_stack *s = x->h.s;
    uint32_t iss = estab_with_data(x);
    oasis_flow *f = x->a.flow;
    assert_int_equal(s->ip6->rx_gen, s->ip.rt_gen); /* the pair is remembered */
    const oasis_ipv6_counters *c = &s->ctr.ipv6;
    uint64_t rcv = c->in_receives, del = c->in_delivers, bad = c->in_addr_errors;
    inject(x, TH_PPORT, A, TH_PISN + 3, iss + 1, "xx");
    th_poll(&x->h);
    assert_int_equal(f->rcv_nxt, TH_PISN + 5);
    assert_int_equal(c->in_receives, rcv + 1);
    assert_int_equal(c->in_delivers, del + 1);
    assert_int_equal(oasis_ipv6_add_addr(s, &x->h.peer, 64), 0); /* (no DAD here) */
    inject(x, TH_PPORT, A, TH_PISN + 5, iss + 1, "yy");
    th_poll(&x->h);
    assert_int_equal(f->rcv_nxt, TH_PISN + 5);
    assert_int_equal(c->in_receives, rcv + 2);
    assert_int_equal(c->in_delivers, del + 1);
    assert_int_equal(c->in_addr_errors, bad + 1);
}

/* A frame from the peer to us: an IPv6 header (version ver, Payload Length
 * plen whatever the frame holds), with hbh an empty Hop-by-Hop Options
 * header (8 bytes of padding, counted in plen by the caller), the flow's
 * "xx" at seq and pad bytes of link padding after it. */
static void send_frame6_to(fx *x, const oasis_ipaddr *dst, uint8_t ver, uint16_t plen,
                           uint32_t seq, uint32_t ack, size_t pad, int hbh)
{
    oasis_tcp_hdr t = th_seg(TH_PPORT, PORT, A, seq, ack);
    uint8_t f[OASIS_ETH_HLEN + OASIS_IPV6_HLEN + 72];
    memset(f, 0, sizeof f);
    uint8_t *seg = f + OASIS_ETH_HLEN + OASIS_IPV6_HLEN + (hbh ? 8 : 0);
    if (hbh) { /* next header TCP, length 0 (8 bytes), a PadN option of 4 */
        seg[-8] = OASIS_NH_TCP;
        seg[-6] = 1;
        seg[-5] = 4;
    }
    size_t hl = OASIS_TCP_HLEN + oasis_tcp_options_len(&t);
    memcpy(seg + hl, "xx", 2);
    oasis_tcp_emit_ps(seg, &t, oasis_csum_add(0, seg + hl, 2),
                      th_pseudo_addr(&x->h, &x->h.peer, dst, hl + 2));
    memcpy(f, x->h.s->mac, 6);
    memcpy(f + 6, (const uint8_t[6]){0x02, 0, 0, 0, 0, 0x02}, 6);
    f[12] = 0x86;
    f[13] = 0xdd;
    oasis_ipv6_hdr ih;
    memset(&ih, 0, sizeof ih);
    ih.payload_len = plen;
    ih.next = hbh ? 0 : OASIS_NH_TCP;
    ih.hop_limit = 64;
    memcpy(ih.src.b, x->h.peer.b, 16);
    memcpy(ih.dst.b, dst->b, 16);
    oasis_ipv6_emit(f + OASIS_ETH_HLEN, &ih);
    f[OASIS_ETH_HLEN] = (uint8_t)(ver << 4 | (f[OASIS_ETH_HLEN] & 0x0f));
    oasis_stack_input(x->h.s, f, OASIS_ETH_HLEN + OASIS_IPV6_HLEN + (hbh ? 8 : 0) + hl + 2 + pad);
    th_poll(&x->h);
    th_clear(&x->h);
}

static void send_frame6(fx *x, uint8_t ver, uint16_t plen, uint32_t seq, uint32_t ack, size_t pad,
                        int hbh)
{
    send_frame6_to(x, &x->h.local, ver, plen, seq, ack, pad, hbh);
}

/* Datagrams between the remembered pair of addresses that the direct
 * path must leave to the general one, which counts them as it counts any:
 * a Payload Length past the frame (truncated), 0 (a jumbogram's, not
 * supported), a version other than 6, and a Hop-by-Hop Options header
 * before TCP (taken). Link padding after the payload is cut off on either
 * path. */
static void test_direct6_leaves_bad_headers(void **state)
{
    fx *x = *state;
    oasis_stack *s = x->h.s;
    uint32_t iss = estab_with_data(x);
    oasis_flow *f = x->a.flow;
    const oasis_ipv6_counters *c = &s->ctr.ipv6;
    assert_int_equal(s->ip6->rx_gen, s->ip.rt_gen);
    size_t n = OASIS_TCP_HLEN + 2;
    uint64_t trunc = c->in_truncated, hdr = c->in_hdr_errors, del = c->in_delivers;
    send_frame6(x, 6, (uint16_t)(n + 20), TH_PISN + 3, iss + 1, 0, 0);
    assert_int_equal(c->in_truncated, trunc + 1);
    send_frame6(x, 6, 0, TH_PISN + 3, iss + 1, 0, 0);
    send_frame6(x, 4, (uint16_t)n, TH_PISN + 3, iss + 1, 0, 0);
    assert_int_equal(c->in_hdr_errors, hdr + 2);
    assert_int_equal(c->in_delivers, del);
    assert_int_equal(f->rcv_nxt, TH_PISN + 3);
    send_frame6(x, 6, (uint16_t)n, TH_PISN + 3, iss + 1, 6, 0); /* padded: taken */
    assert_int_equal(c->in_delivers, del + 1);
    assert_int_equal(f->rcv_nxt, TH_PISN + 5);
    /* An extension header first: the general path walks the chain to TCP. */
    send_frame6(x, 6, (uint16_t)(n + 8), TH_PISN + 5, iss + 1, 0, 1);
    assert_int_equal(c->in_delivers, del + 2);
    assert_int_equal(f->rcv_nxt, TH_PISN + 7);
}

/* A multicast destination is never remembered: leaving a group moves no
 * generation, and a datagram to a group we left, in a frame to our own
 * MAC, is the general path's to refuse (in_addr_errors). */
static void test_direct6_no_group_pair(void **state)
{
    fx *x = *state;
    oasis_stack *s = x->h.s;
    uint32_t iss = estab_with_data(x);
    oasis_ipaddr g = oasis_ipaddr_v6((const uint8_t[16]){0xff, 0x02, [15] = 0x42});
    assert_int_equal(oasis_ipv6_join(s, &g), 0);
    const oasis_ipv6_counters *c = &s->ctr.ipv6;
    size_t n = OASIS_TCP_HLEN + 2;
    uint64_t del = c->in_delivers, bad = c->in_addr_errors;
    send_frame6_to(x, &g, 6, (uint16_t)n, TH_PISN + 3, iss + 1, 0, 0);
    assert_int_equal(c->in_delivers, del + 1); /* (TCP's to judge) */
    assert_int_equal(oasis_ipv6_leave(s, &g), 0);
    send_frame6_to(x, &g, 6, (uint16_t)n, TH_PISN + 3, iss + 1, 0, 0);
    assert_int_equal(c->in_delivers, del + 1);
    assert_int_equal(c->in_addr_errors, bad + 1);
}

static void count_in(oasis_stack *s, const oasis_ip_packet *pkt, void *ud)
{
    (void)s;
    (void)pkt;
    ++*(int *)ud;
}

/* An application's own TCP handler (oasis_ip_register) gets what the
 * direct path would have given the built-in TCP. */
static void test_direct6_only_builtin_tcp(void **state)
{
    fx *x = *state;
    oasis_stack *s = x->h.s;
    uint32_t iss = estab_with_data(x);
    int got = 0;
    assert_int_equal(oasis_ip_unregister(s, OASIS_IPPROTO_TCP), 0);
    assert_int_equal(oasis_ip_register(s, OASIS_IPPROTO_TCP, count_in, NULL, &got), 0);
    send_frame6(x, 6, OASIS_TCP_HLEN + 2, TH_PISN + 3, iss + 1, 0, 0);
    assert_int_equal(got, 1);
    assert_int_equal(x->a.flow->rcv_nxt, TH_PISN + 3);
}

/* Two stacks on a wire for test_last_flow_keeps_netmask_that_makes_us_broadcast:
 * the server reads all that comes. */
typedef struct wired {
    oasis_flow *srv, *cli;
    size_t got;
    int connected;
} wired;

static void wired_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    (void)data;
    if (!err) {
        ((wired *)ud)->got += len;
        assert_int_equal(oasis_tcp_read(f, wired_read, ud), 0);
    }
}

static void wired_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    ((wired *)ud)->srv = f;
    assert_int_equal(oasis_tcp_read(f, wired_read, ud), 0);
}

static void wired_connect(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s;
    assert_int_equal(err, 0);
    ((wired *)ud)->cli = f;
    ((wired *)ud)->connected = 1;
}

/* The last flow is found again only while our address and netmask stay,
 * as TCP refuses a segment to a broadcast address (in_errs). A new netmask
 * that would make our own address the subnet's broadcast is refused by
 * oasis_stack_set_ipv4 (RFC 1122 3.2.1.3 e: never a source), so the flow
 * and its shortcut go on: its next segment is taken. */
static void test_last_flow_keeps_netmask_that_makes_us_broadcast(void **state)
{
    (void)state;
    oasis_clock *clock = oasis_clock_new_virtual(1000 * OASIS_NS_PER_SEC);
    oasis_wire *w;
    assert_int_equal(oasis_wire_create(clock, NULL, &w), 0);
    oasis_stack_config cfg;
    oasis_stack *cs, *ss;
    test_stack_config(&cfg, clock, 2);
    assert_int_equal(oasis_stack_create(&cfg, &cs), 0);
    test_stack_config(&cfg, clock, 3); /* 10.0.0.3: the broadcast of 10.0.0.0/30 */
    assert_int_equal(oasis_stack_create(&cfg, &ss), 0);
    assert_non_null(oasis_wire_attach(w, cs));
    assert_non_null(oasis_wire_attach(w, ss));
    wired x = {0};
    assert_int_equal(oasis_tcp_listen(ss, PORT, NULL, wired_accept, &x), 0);
    assert_int_equal(oasis_tcp_connect4(cs, OASIS_IPV4(10, 0, 0, 3), PORT, NULL, wired_connect, &x), 0);
    oasis_wire_run(w, NULL, NULL, OASIS_NS_PER_SEC);
    assert_true(x.connected && x.srv);
    assert_int_equal(oasis_tcp_write(x.cli, "ab", 2, NULL, NULL), 0);
    oasis_wire_run(w, NULL, NULL, OASIS_NS_PER_SEC);
    assert_int_equal(x.got, 2); /* the server's last flow now */

    assert_int_equal(oasis_stack_set_ipv4(ss, OASIS_IPV4(10, 0, 0, 3), 30, 0), OASIS_EINVAL);
    assert_int_equal(oasis_stack_prefix_len(ss), 24);
    uint64_t errs = oasis_stack_counters(ss)->tcp.in_errs;
    assert_int_equal(oasis_tcp_write(x.cli, "cd", 2, NULL, NULL), 0);
    oasis_wire_run(w, NULL, NULL, 100 * OASIS_NS_PER_MS);
    assert_int_equal(x.got, 4);
    assert_true(oasis_stack_counters(ss)->tcp.in_errs == errs);

    oasis_tcp_release(x.cli);
    oasis_tcp_release(x.srv);
    oasis_wire_detach(w, cs);
    oasis_wire_detach(w, ss);
    oasis_stack_destroy(cs);
    oasis_stack_destroy(ss);
    oasis_wire_destroy(w);
    oasis_clock_free(clock);
}

/* The flow is reset and released (freed). A segment to its tuple finds no
 * flow and the listener answers it with a RST (RFC 9293 3.10.7.2). A new
 * flow from another port then takes the freed flow's slab slot; the old
 * tuple still gets a RST and the new flow is untouched. */
static void test_freed_flow_tuple_gets_rst(void **state)
{
    fx *x = *state;
    uint32_t iss = estab_with_data(x);
    oasis_flow *old = x->a.flow;
    uintptr_t old_addr = (uintptr_t)old;
    inject(x, TH_PPORT, R, TH_PISN + 3, 0, NULL);
    th_poll(&x->h);
    oasis_tcp_release(old);
    th_poll(&x->h);
    assert_int_equal(th_ctr(&x->h)->flows, 0);

    inject(x, TH_PPORT, A, TH_PISN + 3, iss + 1, "again");
    expect(x, R, iss + 1, 0);
    assert_int_equal(th_pending(&x->h), 0);

    /* A new flow from another port lands in the freed slot. */
    inject(x, P2, S, 7000, 0, NULL);
    oasis_tcp_hdr sa;
    assert_true(th_pop(&x->h, &sa));
    assert_int_equal(sa.flags, S | A);
    inject(x, P2, A, 7001, sa.seq + 1, NULL);
    th_poll(&x->h);
    assert_int_equal(x->a.accepted, 2);
    oasis_flow *nf = x->a.flow;
    assert_true((uintptr_t)nf == old_addr); /* the case this test is about */
    assert_int_equal(oasis_tcp_read(nf, th_read_cb, &x->a), 0);

    inject(x, TH_PPORT, A, TH_PISN + 3, iss + 1, "again");
    expect(x, R, iss + 1, 0);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 0); /* nothing reached the new flow */
    assert_int_equal(state_of(nf), OASIS_TCP_ESTABLISHED);
    oasis_tcp_info i;
    assert_int_equal(oasis_tcp_get_info(nf, &i), 0);
    assert_int_equal(i.bytes_received, 0);
    assert_int_equal(i.segs_in, 2); /* its SYN and its handshake's ACK */
    /* and the new flow's own segments still reach it */
    inject(x, P2, A, 7001, sa.seq + 1, "new");
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 3);
    assert_memory_equal(x->a.rx, "new", 3);
}

/* A TIME_WAIT entry answers the peer's retransmitted FIN (the memo holds
 * it), then 2*MSL passes and it is freed: the same FIN now finds nothing
 * and the listener resets it. */
static void test_expired_time_wait_entry_not_found(void **state)
{
    fx *x = *state;
    uint32_t iss = th_open_passive(&x->h, &x->a, PORT, NULL);
    oasis_tcp_close(x->a.flow, th_close_cb, &x->a);
    th_clear(&x->h);
    inject(x, TH_PPORT, F | A, TH_PISN + 1, iss + 2, NULL);
    expect(x, A, iss + 2, TH_PISN + 2);
    assert_int_equal(th_ctr(&x->h)->time_wait, 1);
    th_poll(&x->h);
    th_advance(&x->h, OASIS_NS_PER_SEC); /* past the TIME_WAIT ACK rate limit */
    inject(x, TH_PPORT, F | A, TH_PISN + 1, iss + 2, NULL); /* TIME_WAIT answers */
    expect(x, A, iss + 2, TH_PISN + 2);
    th_advance(&x->h, 61 * OASIS_NS_PER_SEC); /* 2*MSL with the default 30 s MSL */
    assert_int_equal(th_ctr(&x->h)->time_wait, 0);
    inject(x, TH_PPORT, F | A, TH_PISN + 1, iss + 2, NULL);
    expect(x, R, iss + 2, 0);
    assert_int_equal(th_ctr(&x->h)->time_wait, 0);
}


/* Tuples hashed so far by the stack's flow table. */
static uint64_t hashes(fx *x)
{
    return x->h.s->tcp->hashes;
}

/* A connection's tuple is hashed once, by its first lookup (the SYN's, or
 * the port choice of a connect): its insert takes that hash, its flow
 * leaves the table or makes way for its TIME_WAIT entry by the bucket its
 * chain ends in, and so does the TIME_WAIT entry when it expires. Both
 * ways round: we close first (TIME_WAIT here) and the peer does (LAST_ACK). */
static void test_connection_hashes_its_tuple_once(void **state)
{
    fx *x = *state;
    th_open_passive(&x->h, &x->a, PORT, NULL); /* the listener, and a flow that stays */
    th_clear(&x->h);
    for (int round = 0; round < 3; round++) {
        /* Passive open, we close first: TIME_WAIT, then its end. */
        uint64_t before = hashes(x);
        uint16_t pp = (uint16_t)(P2 + round);
        inject(x, pp, S, TH_PISN, 0, NULL);
        oasis_tcp_hdr r;
        assert_true(th_pop(&x->h, &r));
        uint32_t iss = r.seq;
        inject(x, pp, A, TH_PISN + 1, iss + 1, NULL);
        th_poll(&x->h);
        assert_int_equal(oasis_tcp_close(x->a.flow, NULL, NULL), 0);
        th_poll(&x->h);
        inject(x, pp, A | F, TH_PISN + 1, iss + 2, NULL);
        th_poll(&x->h);
        assert_int_equal(th_ctr(&x->h)->time_wait, 1);
        th_advance(&x->h, 61 * OASIS_NS_PER_SEC); /* 2*MSL with the default 30 s MSL */
        assert_int_equal(th_ctr(&x->h)->time_wait, 0);
        assert_int_equal(th_ctr(&x->h)->flows, 1);
        assert_int_equal(hashes(x) - before, 1);
        th_clear(&x->h);

        /* Active open, the peer closes first: LAST_ACK, then the end. */
        before = hashes(x);
        th_app b;
        th_app_init(&b);
        uint16_t lport;
        uint32_t ciss = th_open_active(&x->h, &b, 9000, &lport);
        oasis_tcp_hdr fin = th_seg(9000, lport, A | F, TH_PISN + 1, ciss + 1);
        th_inject(&x->h, &fin);
        th_poll(&x->h);
        assert_int_equal(oasis_tcp_close(b.flow, NULL, NULL), 0);
        th_poll(&x->h);
        oasis_tcp_hdr last = th_seg(9000, lport, A, TH_PISN + 2, ciss + 2);
        th_inject(&x->h, &last);
        th_poll(&x->h);
        assert_int_equal(th_ctr(&x->h)->flows, 1); /* only the first one left */
        assert_int_equal(hashes(x) - before, 1);
        th_app_fini(&b);
        th_clear(&x->h);
    }
}

/* An allocator that refuses everything while `refuse` is set. */
typedef struct refusing {
    int refuse;
} refusing;

static void *refusing_alloc(void *ud, void *ptr, size_t size)
{
    refusing *r = ud;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    return r->refuse ? NULL : realloc(ptr, size);
}

/* Entries of both families come and go in a scrambled order, first with
 * the table kept at its first size (it cannot grow: chains of dozens),
 * then growing: every entry in the table is found, and none that left. */
static void test_table_chains_stay_whole(void **state)
{
    (void)state;
    tcp_harness h;
    refusing rf = {0};
    th_init_alloc(&h, NULL, refusing_alloc, &rf);
    oasis_stack *s = h.s;
    oasis_tcp_layer *L = s->tcp;
    enum { N = 1500 };
    oasis_tcp_tw *e = calloc(N, sizeof *e);
    uint8_t *in = calloc(N, 1);
    assert_non_null(e);
    assert_non_null(in);
    for (int i = 0; i < N; i++) {
        oasis_tcp_conn *c = &e[i].c;
        c->kind = OASIS_TCP_KIND_TW;
        if (i % 3) {
            c->laddr = oasis_ipaddr_v4(TH_LOCAL);
            c->raddr = oasis_ipaddr_v4(TH_PEER + (uint32_t)(i % 7));
        } else {
            uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};
            c->laddr = oasis_ipaddr_v6(a);
            a[15] = (uint8_t)i;
            c->raddr = oasis_ipaddr_v6(a);
        }
        c->lport = (uint16_t)(1000 + i % 11);
        c->rport = (uint16_t)(20000 + i);
    }
    uint32_t nb = L->nbuckets;
    uint32_t count = L->count;
    uint32_t rnd = 12345;
    for (int pass = 0; pass < 2; pass++) {
        rf.refuse = pass == 0; /* first pass: no doubling */
        for (int step = 0; step < 6 * N; step++) {
            rnd = rnd * 1103515245u + 12345u;
            int i = (int)((rnd >> 8) % N);
            if (in[i]) {
                oasis_tcp_table_remove(s, &e[i].c);
                count--;
            } else {
                oasis_tcp_table_insert(s, &e[i].c);
                count++;
            }
            in[i] ^= 1;
            assert_int_equal(L->count, count);
            if (step % 97 == 0)
                for (int j = 0; j < N; j++) {
                    oasis_tcp_conn *c = &e[j].c;
                    oasis_tcp_conn *got =
                        oasis_tcp_lookup(s, &c->laddr, c->lport, &c->raddr, c->rport);
                    assert_ptr_equal(got, in[j] ? c : NULL);
                }
        }
        if (pass == 0)
            assert_int_equal(L->nbuckets, nb); /* chains of N / 2 / 64 on average */
    }
    assert_true(L->nbuckets > nb);
    for (int i = 0; i < N; i++)
        if (in[i])
            oasis_tcp_table_remove(s, &e[i].c);
    assert_int_equal(L->count, 0);
    for (int i = 0; i < N; i++) {
        oasis_tcp_conn *c = &e[i].c;
        assert_null(oasis_tcp_lookup(s, &c->laddr, c->lport, &c->raddr, c->rport));
    }
    th_fini(&h);
    free(e);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ended_flow_held_same_tuple_opens_anew, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_freed_flow_tuple_gets_rst, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_flow_needs_whole_tuple, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_flow6_needs_whole_tuple, setup6, teardown),
        cmocka_unit_test_setup_teardown(test_direct6_follows_our_addresses, setup6, teardown),
        cmocka_unit_test_setup_teardown(test_direct6_leaves_bad_headers, setup6, teardown),
        cmocka_unit_test_setup_teardown(test_direct6_no_group_pair, setup6, teardown),
        cmocka_unit_test_setup_teardown(test_direct6_only_builtin_tcp, setup6, teardown),
        cmocka_unit_test_setup_teardown(test_ended_flow_held_same_tuple_opens_anew, setup6,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_freed_flow_tuple_gets_rst, setup6, teardown),
        cmocka_unit_test_setup_teardown(test_expired_time_wait_entry_not_found, setup6, teardown),
        cmocka_unit_test(test_last_flow_keeps_netmask_that_makes_us_broadcast),
        cmocka_unit_test_setup_teardown(test_expired_time_wait_entry_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_hashes_its_tuple_once, setup, teardown),
        cmocka_unit_test(test_table_chains_stay_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
