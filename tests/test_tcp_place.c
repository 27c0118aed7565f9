/* Issue 13: zero-copy receive (tcp/tcp_place.h). A link (TAP) reads a bulk
 * frame's headers into its own buffer and its payload straight into the
 * flow's receive ring; TCP takes the payload where it lies. Here the test
 * plays the link: it asks for the room, "reads" a frame by hand (headers
 * to a buffer whose payload part is poisoned, payload to the room), and
 * checks that the application gets the true bytes at the room's address,
 * counted per MSS, while frames that are not the predicted segment are
 * refused the shortcut and nothing else can write over the room. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/checksum.h"
#include "core/stack_impl.h"
#include "ipv6/ipv6_wire.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_place.h"
#include "tcp_harness.h"
#include "testutil.h"

#define PORT 80
#define MSS 1460u
#define HDR 54u /* Ethernet, IPv4, TCP without options */

typedef struct fx {
    tcp_harness h;
    th_app a;
    uint32_t iss, pnxt;
    const uint8_t *first_data; /* where the application's first read pointed */
} fx;

static void read_cb(oasis_flow *flow, int err, const uint8_t *data, size_t len, void *ud)
{
    fx *x = ud;
    if (!err && len && !x->first_data)
        x->first_data = data;
    th_read_cb(flow, err, data, len, &x->a);
}

static void open_conn_cfg(fx *x, const oasis_tcp_config *tc)
{
    memset(x, 0, sizeof *x);
    th_init(&x->h, tc);
    th_app_init(&x->a);
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, OASIS_TCP_SYN, TH_PISN, 0);
    syn.has_mss = 1;
    syn.mss = MSS;
    syn.has_wscale = 1;
    syn.wscale = 7;
    x->iss = th_open_passive(&x->h, &x->a, PORT, &syn);
    x->pnxt = TH_PISN + 1;
    x->a.auto_read = 0; /* read_cb re-arms by hand */
    th_clear(&x->h);
}

static void open_conn(fx *x) { open_conn_cfg(x, NULL); }

static void arm_read(fx *x) { assert_int_equal(oasis_tcp_read(x->a.flow, read_cb, x), 0); }

static void close_conn(fx *x)
{
    th_app_fini(&x->a);
    th_fini(&x->h);
}

/* A frame from the peer with k payload bytes (pattern from seq), its TCP
 * checksum partial (the pseudo-header sum), as a TSO sender leaves it. */
static uint8_t *peer_frame(fx *x, uint32_t seq, size_t k, uint16_t sport, size_t *len)
{
    *len = HDR + k;
    uint8_t *f = calloc(1, *len);
    assert_non_null(f);
    memcpy(f, oasis_stack_mac(x->h.s), 6);
    static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
    memcpy(f + 6, peer_mac, 6);
    oasis_put16(f + 12, 0x0800);
    uint8_t *ip = f + 14, *tcp = f + 34;
    ip[0] = 0x45;
    oasis_put16(ip + 2, (uint16_t)(40 + k));
    oasis_put16(ip + 6, 0x4000);
    ip[8] = 64;
    ip[9] = 6;
    oasis_put32(ip + 12, TH_PEER);
    oasis_put32(ip + 16, TH_LOCAL);
    uint16_t c = oasis_csum(ip, 20);
    memcpy(ip + 10, &c, 2);
    oasis_put16(tcp, sport);
    oasis_put16(tcp + 2, PORT);
    oasis_put32(tcp + 4, seq);
    oasis_put32(tcp + 8, x->iss + 1);
    tcp[12] = 5 << 4;
    tcp[13] = OASIS_TCP_ACK;
    oasis_put16(tcp + 14, 65535);
    for (size_t i = 0; i < k; i++)
        tcp[20 + i] = (uint8_t)((seq + i) * 7);
    c = (uint16_t)~oasis_csum_fold(oasis_csum_pseudo(TH_PEER, TH_LOCAL, 6, (uint16_t)(20 + k)));
    memcpy(tcp + 16, &c, 2);
    return f;
}

static const oasis_offload gro = {OASIS_OFFLOAD_CSUM_PARTIAL, OASIS_GSO_TCPV4, MSS, HDR, 34, 16};

/* What readv does: headers into the link's buffer (the rest of it left
 * poisoned: TCP must not look there), payload into the room. */
static uint8_t *link_read(const oasis_tcp_place *pl, const uint8_t *frame, size_t len)
{
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    memset(buf, 0xEE, len);
    memcpy(buf, frame, pl->hdr_len);
    assert_true(len - pl->hdr_len <= pl->room);
    memcpy(pl->dst, frame + pl->hdr_len, len - pl->hdr_len);
    return buf;
}

static void check_rx(const fx *x, uint32_t seq0, size_t n)
{
    assert_int_equal(x->a.rx_len, n);
    for (size_t i = 0; i < n; i++)
        if (x->a.rx[i] != (uint8_t)((seq0 + i) * 7))
            fail_msg("byte %zu of the stream is wrong", i);
}

/* The predicted segment: taken from the room without a copy (the
 * application reads it at the room's address), counted per MSS, ACKed. */
static void test_payload_taken_in_place(void **state)
{
    (void)state;
    fx x;
    open_conn(&x);
    arm_read(&x);
    size_t k = 10 * MSS, len;
    uint8_t *f = peer_frame(&x, x.pnxt, k, TH_PPORT, &len);
    assert_int_equal(oasis_tcp_place_learn(f, len), HDR);
    oasis_tcp_place pl;
    assert_int_equal(oasis_tcp_place_begin(x.h.s, f, HDR, &pl), 1);
    assert_int_equal(pl.hdr_len, HDR);
    assert_true(pl.room >= k);
    uint8_t *buf = link_read(&pl, f, len);
    uint8_t *dst = pl.dst;
    assert_int_equal(oasis_tcp_place_match(&pl, buf, len, &gro), OASIS_PLACE_HIT);
    uint64_t in0 = th_ctr(&x.h)->in_segs, flow0 = x.a.flow->segs_in;
    oasis_tcp_place_input(x.h.s, &pl, buf, len, &gro);
    oasis_tcp_place_end(x.h.s, &pl);
    th_poll(&x.h);
    check_rx(&x, x.pnxt, k);
    assert_ptr_equal(x.first_data, dst); /* no copy: read where it was put */
    assert_int_equal(th_ctr(&x.h)->in_segs - in0, 10);
    assert_int_equal(x.a.flow->segs_in - flow0, 10);
    x.pnxt += (uint32_t)k;
    oasis_tcp_hdr r;
    assert_true(th_pop(&x.h, &r));
    assert_int_equal(r.ack, x.pnxt);
    free(buf);
    free(f);
    close_conn(&x);
}

/* Only the predicted segment with a vouched-for checksum is placed, and
 * the others say why: another port, an unexpected sequence number, a
 * header of another length, SYN/RST/URG are other frames; a checksum
 * nobody vouched for and a payload larger than the room are the predicted
 * segment, not placed. */
static void test_only_the_predicted_segment_matches(void **state)
{
    (void)state;
    fx x;
    open_conn(&x);
    size_t len;
    uint8_t *f = peer_frame(&x, x.pnxt, 8 * MSS, TH_PPORT, &len);
    oasis_tcp_place pl;
    assert_int_equal(oasis_tcp_place_begin(x.h.s, f, HDR, &pl), 1);
    assert_int_equal(oasis_tcp_place_match(&pl, f, len, &gro), OASIS_PLACE_HIT);
    oasis_offload valid = {OASIS_OFFLOAD_CSUM_VALID, 0, 0, 0, 0, 0};
    assert_int_equal(oasis_tcp_place_match(&pl, f, len, &valid), OASIS_PLACE_HIT);
    assert_int_equal(oasis_tcp_place_match(&pl, f, len, NULL), OASIS_PLACE_UNTRUSTED);
    oasis_offload plain = {0, 0, 0, 0, 0, 0};
    assert_int_equal(oasis_tcp_place_match(&pl, f, len, &plain), OASIS_PLACE_UNTRUSTED);
    oasis_offload elsewhere = {OASIS_OFFLOAD_CSUM_PARTIAL, 0, 0, 0, 14, 10};
    assert_int_equal(oasis_tcp_place_match(&pl, f, len, &elsewhere), OASIS_PLACE_UNTRUSTED);
    size_t l2;
    uint8_t *g = peer_frame(&x, x.pnxt, 8 * MSS, TH_PPORT + 1, &l2);
    assert_int_equal(oasis_tcp_place_match(&pl, g, l2, &gro), OASIS_PLACE_OTHER);
    free(g);
    g = peer_frame(&x, x.pnxt + 1, 8 * MSS, TH_PPORT, &l2);
    assert_int_equal(oasis_tcp_place_match(&pl, g, l2, &gro), OASIS_PLACE_OTHER);
    free(g);
    oasis_tcp_place tight = pl; /* room one byte short of the payload */
    tight.room = (uint32_t)(len - HDR - 1);
    assert_int_equal(oasis_tcp_place_match(&tight, f, len, &gro), OASIS_PLACE_TOO_BIG);
    tight.room++;
    assert_int_equal(oasis_tcp_place_match(&tight, f, len, &gro), OASIS_PLACE_HIT);
    static const uint8_t bad_flags[] = {OASIS_TCP_SYN, OASIS_TCP_RST, OASIS_TCP_URG};
    for (size_t i = 0; i < sizeof bad_flags; i++) {
        f[34 + 13] = OASIS_TCP_ACK | bad_flags[i];
        assert_int_equal(oasis_tcp_place_match(&pl, f, len, &gro), OASIS_PLACE_OTHER);
    }
    f[34 + 13] = OASIS_TCP_ACK;
    f[34 + 12] = 8 << 4; /* 12 bytes of options: the payload starts later */
    assert_int_equal(oasis_tcp_place_match(&pl, f, len, &gro), OASIS_PLACE_OTHER);
    f[34 + 12] = 5 << 4;
    f[14] = 0x46; /* IP options */
    assert_int_equal(oasis_tcp_place_match(&pl, f, len, &gro), OASIS_PLACE_OTHER);
    f[14] = 0x45;
    oasis_tcp_place_end(x.h.s, &pl);
    /* No room offered: a flow that is not there, a capture on the link. */
    g = peer_frame(&x, x.pnxt, 8 * MSS, TH_PPORT + 1, &l2);
    assert_int_equal(oasis_tcp_place_begin(x.h.s, g, HDR, &pl), 0);
    assert_null(pl.dst);
    free(g);
    x.h.link.pcap = (oasis_pcap *)&x; /* never written: begin only looks */
    assert_int_equal(oasis_tcp_place_begin(x.h.s, f, HDR, &pl), 0);
    x.h.link.pcap = NULL;
    /* Small payloads are not worth learning from. */
    g = peer_frame(&x, x.pnxt, OASIS_PLACE_MIN - 1, TH_PPORT, &l2);
    assert_int_equal(oasis_tcp_place_learn(g, l2), 0);
    free(g);
    free(f);
    close_conn(&x);
}

/* While the room is pinned, another segment of the same flow (fed from
 * inside the placed frame's processing, say) must not land on it: it is
 * refused like a segment for a full buffer, and the placed one then goes
 * through intact. */
static void test_room_not_overwritten(void **state)
{
    (void)state;
    fx x;
    open_conn(&x);
    arm_read(&x);
    size_t k = 6 * MSS, len, l2;
    uint8_t *f = peer_frame(&x, x.pnxt, k, TH_PPORT, &len);
    oasis_tcp_place pl;
    assert_int_equal(oasis_tcp_place_begin(x.h.s, f, HDR, &pl), 1);
    uint8_t *buf = link_read(&pl, f, len);
    /* A plain copy of the first 100 bytes with other contents. */
    uint8_t *g = peer_frame(&x, x.pnxt, 100, TH_PPORT, &l2);
    memset(g + HDR, 0x55, 100);
    oasis_offload valid = {OASIS_OFFLOAD_CSUM_VALID, 0, 0, 0, 0, 0};
    oasis_stack_input_offload(x.h.s, g, l2, &valid);
    assert_int_equal(x.a.flow->rcv_nxt, x.pnxt); /* not taken */
    assert_int_equal(oasis_tcp_place_match(&pl, buf, len, &gro), OASIS_PLACE_HIT);
    oasis_tcp_place_input(x.h.s, &pl, buf, len, &gro);
    oasis_tcp_place_end(x.h.s, &pl);
    th_poll(&x.h);
    check_rx(&x, x.pnxt, k);
    free(g);
    free(buf);
    free(f);
    close_conn(&x);
}

/* The room is storage for bytes to come: it comes out of the memory budget
 * (cfg.tcp.mem_limit) like any stored byte. A 48 KiB budget: the room
 * asked for (64 KiB) would take the ring's storage past it; it gets what
 * the budget has left, and the segment placed there arrives whole. */
static void test_room_within_budget(void **state)
{
    (void)state;
    oasis_stack_config sc;
    oasis_stack_config_init(&sc);
    oasis_tcp_config tc = sc.tcp;
    tc.mem_limit = 48 * 1024;
    fx x;
    open_conn_cfg(&x, &tc);
    arm_read(&x);
    oasis_tcp_place pl;
    size_t k = 8 * MSS, len;
    uint8_t *f = peer_frame(&x, x.pnxt, k, TH_PPORT, &len);
    assert_int_equal(oasis_tcp_place_begin(x.h.s, f, HDR, &pl), 1);
    const oasis_counters *c = oasis_stack_counters(x.h.s);
    assert_true(c->tcp.mem_peak <= tc.mem_limit);
    assert_true(pl.room >= k && pl.room < 65535u);
    uint8_t *buf = link_read(&pl, f, len);
    assert_int_equal(oasis_tcp_place_match(&pl, buf, len, &gro), OASIS_PLACE_HIT);
    oasis_tcp_place_input(x.h.s, &pl, buf, len, &gro);
    oasis_tcp_place_end(x.h.s, &pl);
    th_poll(&x.h);
    check_rx(&x, x.pnxt, k);
    assert_true(c->tcp.mem_peak <= tc.mem_limit);
    free(buf);
    free(f);
    close_conn(&x);
}

/* ---- IPv6: a TAP with TSO6 gets Linux's IPv6 uploads ---------------------- */

#define HDR6 74u /* Ethernet, IPv6, TCP without options */

typedef struct v6side {
    oasis_flow *flow;
    const uint8_t *first_data;
    uint8_t rx[16 * MSS];
    size_t got;
    int connected;
} v6side;

static void v6_read(oasis_flow *f, int err, const uint8_t *d, size_t n, void *ud)
{
    v6side *x = ud;
    if (err)
        return;
    if (!x->first_data)
        x->first_data = d;
    assert_true(x->got + n <= sizeof x->rx);
    memcpy(x->rx + x->got, d, n);
    x->got += n;
    assert_int_equal(oasis_tcp_read(f, v6_read, x), 0);
}

static void v6_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    v6side *x = ud;
    x->flow = f;
    assert_int_equal(oasis_tcp_read(f, v6_read, x), 0);
}

static void v6_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s;
    v6side *x = ud;
    assert_int_equal(err, 0);
    x->flow = f;
    x->connected = 1;
}

static int v6_never(void *ud)
{
    (void)ud;
    return 0;
}

/* A frame from b's flow to a's with k payload bytes (pattern from seq),
 * its TCP checksum partial over the IPv6 pseudo-header (RFC 8200 8.1). */
static uint8_t *peer_frame6(const test_net *n, const oasis_flow *srv, uint16_t sport,
                            const oasis_ipaddr *src, const oasis_ipaddr *dst, uint32_t seq,
                            size_t k, size_t *len)
{
    *len = HDR6 + k;
    uint8_t *f = calloc(1, *len);
    assert_non_null(f);
    memcpy(f, oasis_stack_mac(n->a), 6);
    memcpy(f + 6, oasis_stack_mac(n->b), 6);
    oasis_put16(f + 12, 0x86dd);
    uint8_t *ip = f + 14, *tcp = f + 54;
    ip[0] = 0x60;
    oasis_put16(ip + 4, (uint16_t)(20 + k));
    ip[6] = 6;
    ip[7] = 64;
    memcpy(ip + 8, src->b, 16);
    memcpy(ip + 24, dst->b, 16);
    oasis_put16(tcp, sport);
    oasis_put16(tcp + 2, PORT);
    oasis_put32(tcp + 4, seq);
    oasis_put32(tcp + 8, srv->snd_nxt);
    tcp[12] = 5 << 4;
    tcp[13] = OASIS_TCP_ACK;
    oasis_put16(tcp + 14, 65535);
    for (size_t i = 0; i < k; i++)
        tcp[20 + i] = (uint8_t)((seq + i) * 7);
    oasis_in6 s6, d6;
    memcpy(s6.b, src->b, 16);
    memcpy(d6.b, dst->b, 16);
    uint16_t c = (uint16_t)~oasis_csum_fold(oasis_ipv6_pseudo_sum(&s6, &d6, (uint32_t)(20 + k), 6));
    memcpy(tcp + 16, &c, 2);
    return f;
}

/* The predicted IPv6 segment (TCP right after the fixed header) is taken
 * from the room without a copy, counted per MSS; a checksum partial at
 * IPv4's offset is not vouched for, another source address is another
 * frame, and a frame with an extension header is not learned from. */
static void test_ipv6_payload_taken_in_place(void **state)
{
    (void)state;
    test_net n;
    test_net_init6(&n, NULL, NULL);
    oasis_wire_run(n.wire, v6_never, NULL, 3 * OASIS_NS_PER_SEC); /* DAD */
    oasis_ipaddr la = test_link_local(n.a), lb = test_link_local(n.b);
    static v6side srv, cli;
    memset(&srv, 0, sizeof srv);
    memset(&cli, 0, sizeof cli);
    assert_int_equal(oasis_tcp_listen(n.a, PORT, NULL, v6_accept, &srv), 0);
    assert_int_equal(oasis_tcp_connect(n.b, &la, PORT, NULL, v6_connected, &cli), 0);
    assert_int_equal(test_net_run_until(&n, &cli.connected, OASIS_NS_PER_SEC), 0);
    oasis_wire_run(n.wire, v6_never, NULL, OASIS_NS_PER_MS);
    assert_non_null(srv.flow);
    uint16_t sport;
    oasis_tcp_src(cli.flow, NULL, &sport);

    size_t k = 10 * MSS, len;
    uint32_t seq = srv.flow->rcv_nxt;
    uint8_t *f = peer_frame6(&n, srv.flow, sport, &lb, &la, seq, k, &len);
    assert_int_equal(oasis_tcp_place_learn(f, len), HDR6);
    oasis_tcp_place pl;
    assert_int_equal(oasis_tcp_place_begin(n.a, f, HDR6, &pl), 1);
    assert_int_equal(pl.hdr_len, HDR6);
    assert_true(pl.room >= k);
    uint8_t *buf = link_read(&pl, f, len);
    uint8_t *dst = pl.dst;
    const oasis_offload gro6 = {OASIS_OFFLOAD_CSUM_PARTIAL, OASIS_GSO_TCPV6, MSS, HDR6, 54, 16};
    const oasis_offload at_v4 = {OASIS_OFFLOAD_CSUM_PARTIAL, OASIS_GSO_TCPV6, MSS, HDR6, 34, 16};
    assert_int_equal(oasis_tcp_place_match(&pl, buf, len, &at_v4), OASIS_PLACE_UNTRUSTED);
    size_t l2;
    oasis_ipaddr other = lb;
    other.b[15] ^= 1;
    uint8_t *g = peer_frame6(&n, srv.flow, sport, &other, &la, seq, k, &l2);
    assert_int_equal(oasis_tcp_place_match(&pl, g, l2, &gro6), OASIS_PLACE_OTHER);
    g[14 + 6] = 0; /* Hop-by-Hop Options before TCP */
    assert_int_equal(oasis_tcp_place_learn(g, l2), 0);
    free(g);
    assert_int_equal(oasis_tcp_place_match(&pl, buf, len, &gro6), OASIS_PLACE_HIT);
    uint64_t in0 = n.a->ctr.tcp.in_segs;
    oasis_tcp_place_input(n.a, &pl, buf, len, &gro6);
    oasis_tcp_place_end(n.a, &pl);
    assert_int_equal(n.a->ctr.tcp.in_segs - in0, 10); /* one per MSS */
    oasis_wire_run(n.wire, v6_never, NULL, OASIS_NS_PER_MS);
    assert_int_equal(srv.got, k);
    for (size_t i = 0; i < k; i++)
        if (srv.rx[i] != (uint8_t)((seq + i) * 7))
            fail_msg("byte %zu of the stream is wrong", i);
    assert_ptr_equal(srv.first_data, dst); /* no copy: read where it was put */
    assert_int_equal(srv.flow->rcv_nxt, seq + (uint32_t)k);
    free(buf);
    free(f);
    oasis_tcp_abort(srv.flow);
    oasis_tcp_release(srv.flow);
    oasis_tcp_abort(cli.flow);
    oasis_tcp_release(cli.flow);
    test_net_fini(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_payload_taken_in_place),
        cmocka_unit_test(test_only_the_predicted_segment_matches),
        cmocka_unit_test(test_room_not_overwritten),
        cmocka_unit_test(test_room_within_budget),
        cmocka_unit_test(test_ipv6_payload_taken_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
