/* TCP over IPv6 (issue 14): the one TCP layer between two dual-stack
 * stacks on the in-memory wire. Handshake and options (MSS = MTU - 60),
 * bulk data with a half-close, RST for a closed port, listeners of one or
 * both families, SYN cookies, ICMPv6 Packet Too Big lowering the MSS after
 * the RFC 5927 checks (forged ones ignored and counted, an MTU below 1280
 * discarded, RFC 8201 4), and the 16-byte addresses in the ISN and the
 * cookie MAC; the flow's DSCP and ECT(0) in the Traffic Class; RFC 6437
 * flow labels; TSO6 super-segments on a wire with offloads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/bytes.h"
#include "core/stack_impl.h"
#include "ipv6/icmp6_wire.h"
#include "ipv6/ipv6.h"
#include "ipv6/ipv6_wire.h"
#include "link/eth_wire.h"
#include "oasis/error.h"
#include "oasis/ipv6.h"
#include "oasis/oasis.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_isn.h"
#include "tcp/tcp_syncookie.h"
#include "testutil.h"

#define SEC OASIS_NS_PER_SEC
#define PORT 8080
#define BULK (2u << 20)

static uint8_t net6_ecn;     /* cfg.tcp.ecn of both stacks (test_traffic_class) */
static int net6_offload;     /* the wire's offloads (test_tso6) */

static void net6_init_delay(test_net *n, uint64_t delay_ns)
{
    oasis_wire_config wc;
    oasis_wire_config_init(&wc);
    wc.delay_ns = delay_ns;
    wc.offload = net6_offload;
    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg);
    cfg.tcp.ecn = net6_ecn;
    test_net_init6(n, &wc, &cfg.tcp);
}

static void net6_init(test_net *n) { net6_init_delay(n, 0); }

static int never(void *ud)
{
    (void)ud;
    return 0;
}

static uint8_t pattern(uint64_t i) { return (uint8_t)(i * 7 + (i >> 11)); }

/* ---- a server that counts what it reads, answers "ok" at EOF and closes;
 * a client that writes BULK bytes, shuts its side and reads the answer ---- */

typedef struct side {
    oasis_flow *flow;
    uint64_t got;
    int bad;          /* a byte that is not the pattern's */
    int eof, closed, conn_err, connected;
    char reply[16];
    size_t reply_len;
    size_t to_send;
    uint8_t dscp;      /* set on the flow before the client writes */
    oasis_tcp_info ti; /* at the handshake */
    oasis_ipaddr peer;
    uint16_t peer_port, local_port;
} side;

static void note_info(side *x, oasis_flow *f)
{
    assert_int_equal(oasis_tcp_get_info(f, &x->ti), 0);
    oasis_tcp_dst(f, &x->peer, &x->peer_port);
    oasis_tcp_src(f, NULL, &x->local_port);
    uint32_t v4 = 1;
    oasis_tcp_dst4(f, &v4, NULL);
    assert_int_equal(v4, 0);
}

static uint8_t bulk_buf[BULK];

static void srv_closed(oasis_flow *f, int err, void *ud)
{
    side *x = ud;
    assert_int_equal(err, 0);
    x->closed = 1;
    oasis_tcp_release(f);
}

static void srv_read(oasis_flow *f, int err, const uint8_t *d, size_t n, void *ud)
{
    side *x = ud;
    if (err == OASIS_EOF) {
        x->eof = 1;
        assert_int_equal(oasis_tcp_write(f, "ok", 2, NULL, NULL), 0);
        assert_int_equal(oasis_tcp_close(f, srv_closed, x), 0);
        return;
    }
    assert_int_equal(err, 0);
    for (size_t i = 0; i < n; i++)
        if (d[i] != pattern(x->got + i))
            x->bad = 1;
    x->got += n;
    assert_int_equal(oasis_tcp_read(f, srv_read, x), 0);
}

static void srv_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    side *x = ud;
    x->flow = f;
    x->connected++;
    note_info(x, f);
    assert_int_equal(oasis_tcp_read(f, srv_read, x), 0);
}

static void cli_closed(oasis_flow *f, int err, void *ud)
{
    side *x = ud;
    assert_int_equal(err, 0);
    x->closed = 1;
    (void)f;
}

static void cli_read(oasis_flow *f, int err, const uint8_t *d, size_t n, void *ud)
{
    side *x = ud;
    if (err == OASIS_EOF) {
        x->eof = 1;
        assert_int_equal(oasis_tcp_close(f, cli_closed, x), 0);
        return;
    }
    assert_int_equal(err, 0);
    if (x->reply_len + n <= sizeof x->reply) {
        memcpy(x->reply + x->reply_len, d, n);
        x->reply_len += n;
    }
    assert_int_equal(oasis_tcp_read(f, cli_read, x), 0);
}

static void cli_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s;
    side *x = ud;
    x->conn_err = err;
    if (err)
        return;
    x->flow = f;
    x->connected = 1;
    note_info(x, f);
    if (x->dscp)
        assert_int_equal(oasis_tcp_set_dscp(f, x->dscp), 0);
    if (x->to_send)
        assert_int_equal(oasis_tcp_write(f, bulk_buf, x->to_send, NULL, NULL), 0);
    /* Half-close: our FIN after the data; reading goes on. */
    assert_int_equal(oasis_tcp_shutdown(f, OASIS_TCP_SHUT_WRITE), 0);
    assert_int_equal(oasis_tcp_read(f, cli_read, x), 0);
}

static int both_closed(void *ud)
{
    side *x = ud;
    return x[0].closed && x[1].closed;
}

/* Every TCP segment on the wire, checked from first principles: the RFC
 * 8200 8.1 pseudo-header written out byte by byte, the sum over it and the
 * segment must fold to zero; SYNs carry MSS 1440. On a wire with offloads
 * (partial) a segment may instead hold the pseudo-header's sum in its
 * checksum field, for the link to complete (oasis/link.h); frames longer
 * than the MTU, super-segments, are counted. */
typedef struct wire_check {
    int partial;
    uint64_t segs, bad_csum, syns, syn_mss_1440;
    uint64_t supers, super_bytes;
} wire_check;

static uint32_t fold16(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint32_t)sum;
}

static void check_frame(void *ud, const oasis_link *from, const oasis_link *to,
                        const uint8_t *frame, size_t len, int intact, uint64_t sent_ns,
                        uint64_t due_ns)
{
    (void)from, (void)to, (void)intact, (void)sent_ns, (void)due_ns;
    wire_check *w = ud;
    if (len < 14 + 40 + 20 || oasis_get16(frame + 12) != 0x86dd || frame[14 + 6] != 6)
        return;
    const uint8_t *ip = frame + 14;
    size_t n = oasis_get16(ip + 4);
    assert_true(14 + 40 + n <= len);
    const uint8_t *seg = ip + 40;
    uint64_t pseudo = 0;
    for (int i = 0; i < 32; i += 2) /* source and destination addresses */
        pseudo += (uint32_t)(ip[8 + i] << 8 | ip[9 + i]);
    pseudo += (uint32_t)(n >> 16) + (uint32_t)(n & 0xffff); /* upper-layer length, 32 bits */
    pseudo += 6;                                            /* zero, zero, zero, next header */
    uint64_t sum = pseudo;
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(seg[i] << 8 | seg[i + 1]);
    if (n & 1)
        sum += (uint32_t)seg[n - 1] << 8;
    w->segs++;
    if (fold16(sum) != 0xffff && !(w->partial && oasis_get16(seg + 16) == fold16(pseudo)))
        w->bad_csum++;
    if (len > 14 + 1500) {
        w->supers++;
        w->super_bytes += n - (size_t)(seg[12] >> 4) * 4;
    }
    if (seg[13] & OASIS_TCP_SYN) {
        w->syns++;
        if (seg[20] == 2 && seg[21] == 4 && oasis_get16(seg + 22) == 1440)
            w->syn_mss_1440++;
    }
}

static void fill_bulk(void)
{
    for (uint64_t i = 0; i < BULK; i++)
        bulk_buf[i] = pattern(i);
}

/* After DAD, a client on n->a connects to a server on n->b (link-local);
 * the client writes x[0].to_send bytes of the pattern (after setting
 * x[0].dscp), half-closes and reads the answer. Returns when both ends
 * have closed; obs (with ud) sees every frame on the wire. */
static void run_pair(test_net *n, side x[2], oasis_wire_observer obs, void *ud)
{
    oasis_wire_run(n->wire, never, NULL, 3 * SEC); /* DAD */
    oasis_ipaddr lb = test_link_local(n->b);
    fill_bulk();
    oasis_wire_observe(n->wire, obs, ud);
    assert_int_equal(oasis_tcp_listen(n->b, PORT, NULL, srv_accept, &x[1]), 0);
    assert_int_equal(oasis_tcp_connect(n->a, &lb, PORT, NULL, cli_connected, &x[0]), 0);
    assert_int_equal(oasis_wire_run(n->wire, both_closed, x, 60 * SEC), 0);
}

static void test_handshake_bulk_half_close(void **state)
{
    (void)state;
    test_net n;
    net6_init(&n);
    side x[2]; /* client, server */
    memset(x, 0, sizeof x);
    x[0].to_send = BULK;
    wire_check wc;
    memset(&wc, 0, sizeof wc);
    run_pair(&n, x, check_frame, &wc);
    oasis_ipaddr la = test_link_local(n.a), lb = test_link_local(n.b);
    assert_true(wc.segs > BULK / 1440);
    assert_int_equal(wc.supers, 0); /* super-segments cut at the link boundary */
    assert_int_equal(wc.bad_csum, 0);
    assert_int_equal(wc.syns, 2); /* SYN, SYN-ACK: both offer MSS 1440 */
    assert_int_equal(wc.syn_mss_1440, 2);
    assert_int_equal(x[0].conn_err, 0);
    /* At the handshake both ends had negotiated every option, MSS = 1500 - 60. */
    for (int i = 0; i < 2; i++) {
        const oasis_tcp_info *ti = &x[i].ti;
        assert_int_equal(ti->mss_send, 1440);
        assert_int_equal(ti->mss_recv, 1440);
        assert_int_equal(ti->path_mtu, 1500);
        assert_true(ti->timestamps);
        assert_true(ti->sack);
        assert_true(ti->snd_wscale > 0 && ti->rcv_wscale > 0);
        assert_int_equal(ti->local_addr, 0); /* IPv4 fields: not an IPv4 flow */
        assert_int_equal(ti->remote_addr, 0);
        assert_true(oasis_ipaddr_eq(&ti->local, i ? &lb : &la));
        assert_true(oasis_ipaddr_eq(&ti->remote, i ? &la : &lb));
        assert_true(oasis_ipaddr_eq(&x[i].peer, i ? &la : &lb));
    }
    assert_int_equal(x[1].peer_port, x[0].local_port);
    assert_int_equal(x[0].peer_port, PORT);
    assert_int_equal(x[1].got, BULK);
    assert_false(x[1].bad);
    assert_true(x[1].eof);
    assert_int_equal(x[0].reply_len, 2); /* the server wrote after our FIN */
    assert_memory_equal(x[0].reply, "ok", 2);
    assert_int_equal(n.a->ctr.tcp.in_csum_errors + n.b->ctr.tcp.in_csum_errors, 0);
    assert_int_equal(n.a->ctr.tcp.in_errs + n.b->ctr.tcp.in_errs, 0);
    assert_true(n.b->ctr.ipv6.in_delivers > BULK / 1440);
    oasis_tcp_release(x[0].flow);
    test_net_fini(&n);
}

/* TSO6: the bulk above goes out as IPv6 super-segments of whole MSS,
 * which the wire (with offloads, as a veth pair) carries whole to the
 * other stack; every byte arrives in order. Without offloads the same
 * super-segments are cut at the link boundary: no frame is longer than
 * the MTU and every piece has a whole checksum (test_handshake_bulk_half_close). */
static void test_tso6(void **state)
{
    (void)state;
    net6_offload = 1;
    test_net n;
    net6_init(&n);
    net6_offload = 0;
    side x[2];
    memset(x, 0, sizeof x);
    x[0].to_send = BULK;
    wire_check wc;
    memset(&wc, 0, sizeof wc);
    wc.partial = 1;
    run_pair(&n, x, check_frame, &wc);

    assert_int_equal(x[1].got, BULK);
    assert_false(x[1].bad);
    assert_true(x[1].eof);
    assert_int_equal(x[0].reply_len, 2);
    /* Most of the data went as super-segments; every segment's checksum
     * field holds its pseudo-header's sum (or a whole checksum). */
    assert_true(wc.supers > 0);
    assert_true(wc.super_bytes > BULK / 2);
    assert_int_equal(wc.bad_csum, 0);
    /* The sender counts the segments they stand for; the link fewer frames. */
    const oasis_counters *a = oasis_stack_counters(n.a);
    assert_true(a->tcp.out_segs > BULK / 1428);
    assert_true(a->link.tx_frames < a->tcp.out_segs / 2);
    /* ... and IPv6 the packets: one per piece (RFC 4293 OutRequests), so
     * at least a packet per TCP segment (ND and MLD besides) */
    assert_true(a->ipv6.out_requests >= a->tcp.out_segs);
    assert_int_equal(n.b->ctr.tcp.in_csum_errors, 0);
    assert_int_equal(n.b->ctr.tcp.in_errs, 0);
    oasis_tcp_release(x[0].flow);
    test_net_fini(&n);
}

/* ---- the Traffic Class: per-flow DSCP and ECN over IPv6 ---- */

typedef struct tc_check {
    uint64_t data_marked, data_other, acks_ect;
} tc_check;

/* RFC 8200 7 / RFC 3168 5: the client's new data carries DSCP 46 and
 * ECT(0) in the Traffic Class; pure ACKs are never ECN-capable. */
static void check_tclass(void *ud, const oasis_link *from, const oasis_link *to,
                         const uint8_t *frame, size_t len, int intact, uint64_t sent_ns,
                         uint64_t due_ns)
{
    (void)from, (void)to, (void)intact, (void)sent_ns, (void)due_ns;
    tc_check *w = ud;
    if (len < 14 + 40 + 20 || oasis_get16(frame + 12) != 0x86dd || frame[14 + 6] != 6)
        return;
    const uint8_t *ip = frame + 14, *seg = ip + 40;
    uint8_t tclass = (uint8_t)((ip[0] & 0x0f) << 4 | ip[1] >> 4);
    size_t payload = oasis_get16(ip + 4) - (size_t)(seg[12] >> 4) * 4;
    if (seg[13] & (OASIS_TCP_SYN | OASIS_TCP_RST))
        return;
    if (!payload) {
        if (tclass & 3)
            w->acks_ect++;
        return;
    }
    if (oasis_get16(seg + 2) != PORT)
        return; /* the server's "ok" */
    if (tclass == (46 << 2 | 2))
        w->data_marked++;
    else
        w->data_other++;
}

static void test_traffic_class(void **state)
{
    (void)state;
    test_net n;
    net6_ecn = 1;
    net6_init(&n);
    net6_ecn = 0;
    side x[2];
    memset(x, 0, sizeof x);
    x[0].to_send = 256 * 1024;
    x[0].dscp = 46; /* EF */
    tc_check w;
    memset(&w, 0, sizeof w);
    run_pair(&n, x, check_tclass, &w);
    assert_true(x[0].ti.ecn && x[1].ti.ecn);
    assert_int_equal(x[1].got, 256 * 1024);
    assert_false(x[1].bad);
    assert_true(w.data_marked >= 256 * 1024 / 1440);
    assert_int_equal(w.data_other, 0);
    assert_int_equal(w.acks_ect, 0);
    oasis_tcp_release(x[0].flow);
    test_net_fini(&n);
}

/* ---- refused, families ---- */

static void on_conn(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s;
    side *x = ud;
    x->conn_err = err;
    x->connected = err == 0;
    x->flow = f;
}

static void count_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    side *x = ud;
    x->connected++;
    oasis_tcp_abort(f);
    oasis_tcp_release(f);
}

static void test_refused_and_families(void **state)
{
    (void)state;
    test_net n;
    net6_init(&n);
    oasis_wire_run(n.wire, never, NULL, 3 * SEC);
    oasis_ipaddr lb = test_link_local(n.b);
    oasis_ipaddr b4 = oasis_ipaddr_v4(TEST_ADDR_B);
    side c, srv;
    memset(&srv, 0, sizeof srv);

    /* No listener: the IPv6 SYN draws an RST (checksummed over the IPv6
     * pseudo-header, or the client would not take it). */
    memset(&c, 0, sizeof c);
    assert_int_equal(oasis_tcp_connect(n.a, &lb, 9, NULL, on_conn, &c), 0);
    oasis_wire_run(n.wire, never, NULL, SEC);
    assert_int_equal(c.conn_err, OASIS_EREFUSED);
    assert_int_equal(n.b->ctr.tcp.no_listener, 1);

    /* An IPv4-only listener refuses IPv6 and takes IPv4. */
    oasis_listen_opts o;
    memset(&o, 0, sizeof o);
    o.families = OASIS_TCP_LISTEN_V4;
    assert_int_equal(oasis_tcp_listen(n.b, 81, &o, count_accept, &srv), 0);
    memset(&c, 0, sizeof c);
    assert_int_equal(oasis_tcp_connect(n.a, &lb, 81, NULL, on_conn, &c), 0);
    oasis_wire_run(n.wire, never, NULL, SEC);
    assert_int_equal(c.conn_err, OASIS_EREFUSED);
    memset(&c, 0, sizeof c);
    assert_int_equal(oasis_tcp_connect(n.a, &b4, 81, NULL, on_conn, &c), 0);
    oasis_wire_run(n.wire, never, NULL, SEC);
    assert_int_equal(c.conn_err, 0);
    assert_int_equal(srv.connected, 1);
    oasis_tcp_abort(c.flow);

    /* IPv6 only: the other way round. */
    o.families = OASIS_TCP_LISTEN_V6;
    assert_int_equal(oasis_tcp_listen(n.b, 82, &o, count_accept, &srv), 0);
    memset(&c, 0, sizeof c);
    assert_int_equal(oasis_tcp_connect(n.a, &b4, 82, NULL, on_conn, &c), 0);
    oasis_wire_run(n.wire, never, NULL, SEC);
    assert_int_equal(c.conn_err, OASIS_EREFUSED);
    memset(&c, 0, sizeof c);
    assert_int_equal(oasis_tcp_connect(n.a, &lb, 82, NULL, on_conn, &c), 0);
    oasis_wire_run(n.wire, never, NULL, SEC);
    assert_int_equal(c.conn_err, 0);
    assert_int_equal(srv.connected, 2);
    oasis_tcp_abort(c.flow);

    /* The default takes both. */
    assert_int_equal(oasis_tcp_listen(n.b, 83, NULL, count_accept, &srv), 0);
    side c4, c6;
    memset(&c4, 0, sizeof c4);
    memset(&c6, 0, sizeof c6);
    assert_int_equal(oasis_tcp_connect(n.a, &b4, 83, NULL, on_conn, &c4), 0);
    assert_int_equal(oasis_tcp_connect(n.a, &lb, 83, NULL, on_conn, &c6), 0);
    oasis_wire_run(n.wire, never, NULL, SEC);
    assert_int_equal(c4.conn_err, 0);
    assert_int_equal(c6.conn_err, 0);
    assert_int_equal(srv.connected, 4);
    oasis_tcp_abort(c4.flow);
    oasis_tcp_abort(c6.flow);

    /* Bad destinations fail at once. */
    oasis_ipaddr bad;
    assert_int_equal(oasis_ipaddr_parse("ff02::1", &bad), 0);
    assert_int_equal(oasis_tcp_connect(n.a, &bad, 80, NULL, on_conn, &c), OASIS_EBADDEST);
    assert_int_equal(oasis_ipaddr_parse("::", &bad), 0);
    assert_int_equal(oasis_tcp_connect(n.a, &bad, 80, NULL, on_conn, &c), OASIS_EBADDEST);
    assert_int_equal(oasis_tcp_listen(n.b, 84, &(oasis_listen_opts){.families = 4}, count_accept,
                                      &srv),
                     OASIS_EINVAL);
    test_net_fini(&n);
}

/* ---- RFC 6437 flow labels ---- */

typedef struct label_check {
    oasis_stack *a, *b;
    oasis_ipaddr la, lb;
    uint64_t tcp_a, tcp_b, udp, wrong, zero;
} label_check;

/* The label a TCP or UDP packet should carry: its sender's keyed hash of
 * the tuple (both stacks hash their own way: each has its own key). */
static void check_label(void *ud, const oasis_link *from, const oasis_link *to,
                        const uint8_t *frame, size_t len, int intact, uint64_t sent_ns,
                        uint64_t due_ns)
{
    (void)from, (void)to, (void)intact, (void)sent_ns, (void)due_ns;
    label_check *w = ud;
    if (len < 14 + 40 + 8 || oasis_get16(frame + 12) != 0x86dd)
        return;
    const uint8_t *ip = frame + 14;
    uint8_t proto = ip[6];
    if (proto != 6 && proto != 17)
        return;
    uint32_t label = (uint32_t)(ip[1] & 0x0f) << 16 | (uint32_t)ip[2] << 8 | ip[3];
    oasis_in6 src, dst;
    memcpy(src.b, ip + 8, 16);
    memcpy(dst.b, ip + 24, 16);
    oasis_stack *s = memcmp(src.b, w->la.b, 16) == 0 ? w->a : w->b;
    if (!label) {
        w->zero++;
        return;
    }
    if (label != oasis_ipv6_flow_label(s, &src, &dst, proto, oasis_get16(ip + 40),
                                       oasis_get16(ip + 42)))
        w->wrong++;
    else if (proto == 17)
        w->udp++;
    else if (s == w->a)
        w->tcp_a++;
    else
        w->tcp_b++;
}

/* RFC 6437 3: "It is therefore RECOMMENDED that source hosts support the
 * flow label by setting the flow label field for all packets of a given
 * flow to the same value", drawn from a near-uniform distribution
 * (appendix A: a keyed hash of the tuple). Every segment of a connection
 * both ways, the RST for a closed port and a UDP datagram carry their
 * tuple's label; the two directions of one connection differ (different
 * keys, different tuples); with cfg.ipv6_flow_labels 0, every label is 0. */
static void test_flow_label(void **state)
{
    (void)state;
    test_net n;
    net6_init(&n);
    side x[2];
    memset(x, 0, sizeof x);
    x[0].to_send = 64 * 1024;
    label_check w;
    memset(&w, 0, sizeof w);
    w.a = n.a, w.b = n.b;
    oasis_wire_run(n.wire, never, NULL, 3 * SEC); /* DAD, for the addresses */
    w.la = test_link_local(n.a), w.lb = test_link_local(n.b);
    run_pair(&n, x, check_label, &w);
    assert_int_equal(x[1].got, 64 * 1024);
    assert_true(w.tcp_a > 64 * 1024 / 1440); /* data, SYN and FIN too */
    assert_true(w.tcp_b > 2);                 /* SYN-ACK, ACKs, "ok", FIN */
    assert_int_equal(w.wrong, 0);
    assert_int_equal(w.zero, 0);
    oasis_in6 a6, b6;
    memcpy(a6.b, w.la.b, 16);
    memcpy(b6.b, w.lb.b, 16);
    uint16_t cport = x[0].local_port;
    uint32_t ab = oasis_ipv6_flow_label(n.a, &a6, &b6, 6, cport, PORT);
    assert_true(ab != 0 && ab <= 0xfffff);
    assert_true(ab != oasis_ipv6_flow_label(n.b, &b6, &a6, 6, PORT, cport));
    assert_true(ab != oasis_ipv6_flow_label(n.a, &a6, &b6, 6, (uint16_t)(cport + 1), PORT));
    assert_int_equal(ab, oasis_ipv6_flow_label(n.a, &a6, &b6, 6, cport, PORT)); /* stable */
    oasis_tcp_release(x[0].flow);

    /* No flow state: the RST for a closed port; and a UDP datagram. */
    uint64_t tcp_b = w.tcp_b;
    side c;
    memset(&c, 0, sizeof c);
    assert_int_equal(oasis_tcp_connect(n.a, &w.lb, 9, NULL, on_conn, &c), 0);
    oasis_wire_run(n.wire, never, NULL, SEC);
    assert_int_equal(c.conn_err, OASIS_EREFUSED);
    assert_int_equal(w.tcp_b, tcp_b + 1);
    assert_int_equal(oasis_udp_send(n.a, 1000, &w.lb, 2000, "x", 1), 0);
    oasis_wire_run(n.wire, never, NULL, SEC);
    assert_int_equal(w.udp, 1);
    assert_int_equal(w.wrong + w.zero, 0);

    /* Off: the same exchanges carry 0. */
    n.a->cfg.ipv6_flow_labels = n.b->cfg.ipv6_flow_labels = 0;
    memset(&c, 0, sizeof c);
    assert_int_equal(oasis_tcp_connect(n.a, &w.lb, 9, NULL, on_conn, &c), 0);
    assert_int_equal(oasis_udp_send(n.a, 1000, &w.lb, 2000, "x", 1), 0);
    oasis_wire_run(n.wire, never, NULL, SEC);
    assert_int_equal(c.conn_err, OASIS_EREFUSED);
    assert_int_equal(w.zero, 3); /* SYN, RST, datagram */
    assert_int_equal(w.wrong, 0);
    oasis_wire_observe(n.wire, NULL, NULL);
    test_net_fini(&n);
}

/* ---- the local address of an open (RFC 1122 4.2.4.4, RFC 9293 MUST-43) ---- */

typedef struct seen {
    int n;
    oasis_ipaddr peer, local;
} seen;

static void note_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    seen *x = ud;
    x->n++;
    oasis_tcp_dst(f, &x->peer, NULL);
    oasis_tcp_src(f, &x->local, NULL);
    oasis_tcp_abort(f);
    oasis_tcp_release(f);
}

static oasis_ipaddr addr6(const char *text)
{
    oasis_ipaddr a;
    assert_int_equal(oasis_ipaddr_parse(text, &a), 0);
    return a;
}

/* Connects a to (dst, port) from local and runs a second: the connect's
 * error, or the error of the call itself when it fails at once. */
static int open_from(test_net *n, const oasis_ipaddr *local, const oasis_ipaddr *dst,
                     uint16_t port)
{
    oasis_connect_opts o;
    memset(&o, 0, sizeof o);
    if (local)
        o.local = *local;
    side c;
    memset(&c, 0, sizeof c);
    c.conn_err = 1;
    int rc = oasis_tcp_connect_opts(n->a, dst, port, &o, on_conn, &c, NULL);
    if (rc)
        return rc;
    oasis_wire_run(n->wire, never, NULL, SEC);
    if (c.conn_err == 0)
        oasis_tcp_abort(c.flow);
    return c.conn_err;
}

static void test_local_address(void **state)
{
    (void)state;
    test_net n;
    net6_init(&n);
    oasis_ipaddr a1 = addr6("2001:db8::a1"), a2 = addr6("2001:db8::a2");
    oasis_ipaddr b1 = addr6("2001:db8::b1"), b2 = addr6("2001:db8::b2");
    assert_int_equal(oasis_ipv6_add_addr(n.a, &a1, 64), 0);
    assert_int_equal(oasis_ipv6_add_addr(n.a, &a2, 64), 0);
    assert_int_equal(oasis_ipv6_add_addr(n.b, &b1, 64), 0);
    assert_int_equal(oasis_ipv6_add_addr(n.b, &b2, 64), 0);
    oasis_wire_run(n.wire, never, NULL, 3 * SEC); /* DAD */
    oasis_ipaddr la = test_link_local(n.a);
    oasis_ipaddr a4 = oasis_ipaddr_v4(TEST_ADDR_A), b4 = oasis_ipaddr_v4(TEST_ADDR_B);
    seen srv;
    memset(&srv, 0, sizeof srv);
    assert_int_equal(oasis_tcp_listen(n.b, 90, NULL, note_accept, &srv), 0);

    /* Active open: the SYN leaves from the address asked for, whichever
     * the stack would have picked. */
    const oasis_ipaddr *from[] = {&a1, &a2, &a1, &la};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(open_from(&n, from[i], &b1, 90), 0);
        assert_int_equal(srv.n, i + 1);
        assert_true(oasis_ipaddr_eq(&srv.peer, from[i]));
    }
    oasis_ipaddr any6 = addr6("::"), chosen;
    assert_int_equal(open_from(&n, &any6, &b1, 90), 0); /* "::": the stack's choice */
    chosen = srv.peer;
    assert_true(oasis_ipaddr_eq(&chosen, &a1) || oasis_ipaddr_eq(&chosen, &a2));
    assert_int_equal(open_from(&n, &a4, &b4, 90), 0); /* IPv4: the one address */
    assert_true(oasis_ipaddr_eq(&srv.peer, &a4));
    assert_int_equal(srv.n, 6);

    /* Not ours, the other family, not past DAD yet: refused at once, and
     * nothing is sent. */
    uint64_t out = n.a->ctr.tcp.out_segs;
    oasis_ipaddr stranger = addr6("2001:db8::99"), a3 = addr6("2001:db8::a3");
    oasis_ipaddr other4 = oasis_ipaddr_v4(OASIS_IPV4(10, 0, 0, 77));
    assert_int_equal(open_from(&n, &stranger, &b1, 90), OASIS_EADDRNOTAVAIL);
    assert_int_equal(open_from(&n, &b1, &b1, 90), OASIS_EADDRNOTAVAIL); /* the peer's */
    assert_int_equal(open_from(&n, &other4, &b4, 90), OASIS_EADDRNOTAVAIL);
    assert_int_equal(open_from(&n, &a4, &b1, 90), OASIS_EINVAL);
    assert_int_equal(open_from(&n, &a1, &b4, 90), OASIS_EINVAL);
    assert_int_equal(oasis_ipv6_add_addr(n.a, &a3, 64), 0);
    assert_int_equal(open_from(&n, &a3, &b1, 90), OASIS_EADDRNOTAVAIL); /* tentative */
    assert_int_equal(n.a->ctr.tcp.out_segs, out);
    oasis_wire_run(n.wire, never, NULL, 3 * SEC);
    assert_int_equal(open_from(&n, &a3, &b1, 90), 0);
    assert_true(oasis_ipaddr_eq(&srv.peer, &a3));

    /* Passive open on one address: SYNs to the others are refused as
     * to a closed port. */
    seen one;
    memset(&one, 0, sizeof one);
    oasis_listen_opts lo;
    memset(&lo, 0, sizeof lo);
    lo.local = b2;
    assert_int_equal(oasis_tcp_listen(n.b, 91, &lo, note_accept, &one), 0);
    uint64_t refused = n.b->ctr.tcp.no_listener;
    assert_int_equal(open_from(&n, NULL, &b1, 91), OASIS_EREFUSED);
    assert_int_equal(open_from(&n, NULL, &b4, 91), OASIS_EREFUSED);
    assert_int_equal(n.b->ctr.tcp.no_listener, refused + 2);
    assert_int_equal(one.n, 0);
    assert_int_equal(open_from(&n, NULL, &b2, 91), 0);
    assert_int_equal(one.n, 1);
    assert_true(oasis_ipaddr_eq(&one.local, &b2));
    /* An IPv4 one takes IPv4 only. */
    lo.local = b4;
    assert_int_equal(oasis_tcp_listen(n.b, 92, &lo, note_accept, &one), 0);
    assert_int_equal(open_from(&n, NULL, &b1, 92), OASIS_EREFUSED);
    assert_int_equal(open_from(&n, NULL, &b4, 92), 0);
    assert_int_equal(one.n, 2);
    assert_true(oasis_ipaddr_eq(&one.local, &b4));
    /* Not ours, or families that exclude it: refused; a tentative one is
     * held (its DAD may pass); "::" is every address. */
    lo.local = stranger;
    assert_int_equal(oasis_tcp_listen(n.b, 93, &lo, note_accept, &one), OASIS_EADDRNOTAVAIL);
    lo.local = a4;
    assert_int_equal(oasis_tcp_listen(n.b, 93, &lo, note_accept, &one), OASIS_EADDRNOTAVAIL);
    lo.local = b1;
    lo.families = OASIS_TCP_LISTEN_V4;
    assert_int_equal(oasis_tcp_listen(n.b, 93, &lo, note_accept, &one), OASIS_EINVAL);
    lo.families = 0;
    oasis_ipaddr b3 = addr6("2001:db8::b3");
    assert_int_equal(oasis_ipv6_add_addr(n.b, &b3, 64), 0);
    lo.local = b3;
    assert_int_equal(oasis_tcp_listen(n.b, 93, &lo, note_accept, &one), 0);
    lo.local = any6;
    assert_int_equal(oasis_tcp_listen(n.b, 94, &lo, note_accept, &one), 0);
    assert_int_equal(open_from(&n, NULL, &b4, 94), 0);
    assert_int_equal(open_from(&n, NULL, &b1, 94), 0);
    assert_int_equal(one.n, 4);
    test_net_fini(&n);
}

/* ---- SYN cookies over IPv6 ---- */

static int all_connected(void *ud)
{
    side *x = ud;
    for (int i = 0; i < 4; i++)
        if (!x[i].connected)
            return 0;
    return 1;
}

static void test_syn_cookies(void **state)
{
    (void)state;
    test_net n;
    net6_init(&n);
    oasis_wire_run(n.wire, never, NULL, 3 * SEC);
    oasis_ipaddr lb = test_link_local(n.b);
    side srv;
    memset(&srv, 0, sizeof srv);
    oasis_listen_opts o;
    memset(&o, 0, sizeof o);
    o.backlog = 2;
    o.paused = 1; /* established flows wait: the backlog stays full */
    assert_int_equal(oasis_tcp_listen(n.b, PORT, &o, srv_accept, &srv), 0);
    side c[4];
    memset(c, 0, sizeof c);
    for (int i = 0; i < 4; i++)
        assert_int_equal(oasis_tcp_connect(n.a, &lb, PORT, NULL, on_conn, &c[i]), 0);
    assert_int_equal(oasis_wire_run(n.wire, all_connected, c, 5 * SEC), 0);
    oasis_wire_run(n.wire, never, NULL, SEC / 10); /* the last ACKs reach b */
    const oasis_tcp_counters *t = &n.b->ctr.tcp;
    /* Two half-open, two by cookie (up to twice the backlog may wait). */
    assert_int_equal(t->syn_cookies_sent, 2);
    assert_int_equal(t->syn_cookies_ok, 2);
    assert_int_equal(t->syn_cookies_failed, 0);
    assert_int_equal(oasis_tcp_accept_waiting(n.b, PORT), 4);
    /* A cookie flow carries the MSS the cookie encodes (1440: MTU - 60). */
    oasis_flow *f = oasis_tcp_accept(n.b, PORT);
    int cookie_seen = 0;
    while (f) {
        oasis_tcp_info ti;
        assert_int_equal(oasis_tcp_get_info(f, &ti), 0);
        assert_int_equal(ti.mss_send, 1440);
        cookie_seen += !ti.timestamps; /* cookies carry no options but MSS */
        oasis_ipaddr peer;
        oasis_tcp_dst(f, &peer, NULL);
        assert_true(oasis_ipaddr_is_v6(&peer));
        oasis_tcp_release(f);
        f = oasis_tcp_accept(n.b, PORT);
    }
    assert_int_equal(cookie_seen, 2);
    test_net_fini(&n);
}

/* ---- Packet Too Big ---- */

/* An ICMPv6 error from b's address to a, quoting a segment a sent on f
 * (IPv6 header + TCP header) with ports and sequence given. */
static void inject_ptb(test_net *n, const oasis_ipaddr *from, const oasis_ipaddr *to,
                       uint16_t sport, uint16_t dport, uint32_t seq, uint32_t mtu)
{
    uint8_t q[40 + 20];
    memset(q, 0, sizeof q);
    oasis_ipv6_hdr ih;
    memset(&ih, 0, sizeof ih);
    ih.payload_len = 1400;
    ih.next = 6;
    ih.hop_limit = 64;
    memcpy(ih.src.b, to->b, 16);
    memcpy(ih.dst.b, from->b, 16);
    oasis_ipv6_emit(q, &ih);
    oasis_put16(q + 40, sport);
    oasis_put16(q + 42, dport);
    oasis_put32(q + 44, seq);
    q[52] = 5 << 4;
    q[53] = OASIS_TCP_ACK;

    uint8_t f[14 + 40 + 8 + sizeof q];
    oasis_eth_emit(f, oasis_stack_mac(n->a), oasis_stack_mac(n->b), OASIS_ETHERTYPE_IPV6);
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.payload_len = (uint16_t)(8 + sizeof q);
    h.next = 58;
    h.hop_limit = 64;
    memcpy(h.src.b, from->b, 16);
    memcpy(h.dst.b, to->b, 16);
    oasis_ipv6_emit(f + 14, &h);
    memcpy(f + 62, q, sizeof q);
    oasis_icmp6_finish(f + 54, 8 + sizeof q, OASIS_ICMP6_PKT_TOO_BIG, 0, mtu, &h.src, &h.dst);
    oasis_stack_input(n->a, f, sizeof f);
}

static int in_flight(void *ud)
{
    const side *x = ud;
    return x->connected && x->flow->snd_max - x->flow->snd_una > 1000;
}

static void test_packet_too_big(void **state)
{
    (void)state;
    test_net n;
    net6_init_delay(&n, OASIS_NS_PER_MS); /* a flight stays in flight a while */
    oasis_wire_run(n.wire, never, NULL, 3 * SEC);
    oasis_ipaddr la = test_link_local(n.a), lb = test_link_local(n.b);
    fill_bulk();
    side x[2];
    memset(x, 0, sizeof x);
    x[0].to_send = BULK;
    assert_int_equal(oasis_tcp_listen(n.b, PORT, NULL, srv_accept, &x[1]), 0);
    assert_int_equal(oasis_tcp_connect(n.a, &lb, PORT, NULL, cli_connected, &x[0]), 0);
    assert_int_equal(oasis_wire_run(n.wire, in_flight, &x[0], SEC), 0);
    oasis_flow *f = x[0].flow;
    assert_non_null(f);
    assert_true(f->snd_max != f->snd_una);
    uint16_t lp, rp;
    oasis_tcp_src(f, NULL, &lp);
    oasis_tcp_dst(f, NULL, &rp);
    const oasis_tcp_counters *t = &n.a->ctr.tcp;
    oasis_tcp_info ti;

    /* Forged: no such flow; a sequence not in flight; an MTU below 1280. */
    inject_ptb(&n, &lb, &la, (uint16_t)(lp + 1), rp, f->snd_una, 1280);
    assert_int_equal(t->icmp_no_flow, 1);
    inject_ptb(&n, &lb, &la, lp, rp, f->snd_max + 100000, 1280);
    assert_int_equal(t->icmp_out_of_window, 1);
    inject_ptb(&n, &lb, &la, lp, rp, f->snd_una, 1000);
    assert_int_equal(oasis_tcp_get_info(f, &ti), 0);
    assert_int_equal(ti.path_mtu, 1500);
    assert_int_equal(t->pmtu_mss_lowered, 0);
    assert_int_equal(n.a->ctr.ip.pmtu_below_min, 1);

    /* Genuine: the path MTU drops to 1280, segments to 1280 - 60. */
    inject_ptb(&n, &lb, &la, lp, rp, f->snd_una, 1280);
    assert_int_equal(t->pmtu_mss_lowered, 1);
    assert_int_equal(oasis_tcp_get_info(f, &ti), 0);
    assert_int_equal(ti.path_mtu, 1280);
    assert_int_equal(oasis_tcp_seg_mss(f), 1220);
    /* A larger one later is no decrease (RFC 8201 4: ignored). */
    inject_ptb(&n, &lb, &la, lp, rp, f->snd_una, 1400);
    assert_int_equal(oasis_tcp_get_info(f, &ti), 0);
    assert_int_equal(ti.path_mtu, 1280);

    assert_int_equal(oasis_wire_run(n.wire, both_closed, x, 60 * SEC), 0);
    assert_int_equal(x[1].got, BULK);
    assert_false(x[1].bad);
    oasis_tcp_release(x[0].flow);
    test_net_fini(&n);
}

/* ---- RFC 4861 7.3.1: TCP's progress confirms the neighbour ---- */

typedef struct echo {
    oasis_flow *cli, *srv;
    int one_way;           /* the server only reads: its segments are ACKs */
    uint64_t sent, echoed; /* bytes the client wrote, bytes it read back */
    uint64_t got;          /* bytes the server read */
} echo;

static void echo_srv_read(oasis_flow *f, int err, const uint8_t *d, size_t n, void *ud)
{
    echo *e = ud;
    if (err)
        return; /* released at the end */
    e->got += n;
    if (!e->one_way)
        assert_int_equal(oasis_tcp_write(f, d, n, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_read(f, echo_srv_read, e), 0);
}

static void echo_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    ((echo *)ud)->srv = f;
    assert_int_equal(oasis_tcp_read(f, echo_srv_read, ud), 0);
}

static void echo_cli_read(oasis_flow *f, int err, const uint8_t *d, size_t n, void *ud)
{
    (void)d;
    if (err)
        return;
    ((echo *)ud)->echoed += n;
    assert_int_equal(oasis_tcp_read(f, echo_cli_read, ud), 0);
}

static void echo_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s;
    assert_int_equal(err, 0);
    ((echo *)ud)->cli = f;
    assert_int_equal(oasis_tcp_read(f, echo_cli_read, ud), 0);
}

/* Everything written arrived (and came back, for an echo) and is
 * acknowledged. */
static int echo_caught_up(void *ud)
{
    const echo *e = ud;
    return e->cli && e->got == e->sent && (e->one_way || e->echoed == e->sent) &&
           e->cli->snd_una == e->cli->snd_max;
}

/* Five minutes of a byte every 2 s from the client, after 10 s of a bare
 * handshake; returns the Neighbor Solicitations each side sent (ns[0]
 * client, ns[1] server) after DAD. */
static void run_confirm(int one_way, uint64_t ns[2])
{
    test_net n;
    net6_init_delay(&n, OASIS_NS_PER_MS);
    oasis_wire_run(n.wire, never, NULL, 3 * SEC); /* DAD */
    oasis_ipaddr lb = test_link_local(n.b), la = test_link_local(n.a);
    const oasis_icmp6_counters *ca = &n.a->ctr.icmp6, *cb = &n.b->ctr.icmp6;
    uint64_t ns_a = ca->out_neigh_solicits, ns_b = cb->out_neigh_solicits;
    echo e = {.one_way = one_way};
    assert_int_equal(oasis_tcp_listen(n.b, PORT, NULL, echo_accept, &e), 0);
    assert_int_equal(oasis_tcp_connect(n.a, &lb, PORT, NULL, echo_connected, &e), 0);
    assert_int_equal(oasis_wire_run(n.wire, echo_caught_up, &e, SEC), 0);
    /* Nothing but the handshake for 10 s: the ACK of the SYN-ACK has to
     * confirm the server's entry, in DELAY since its NA. */
    oasis_wire_run(n.wire, never, NULL, 10 * SEC);
    uint64_t t0 = oasis_clock_now(n.clock);
    for (int i = 1; i <= 150; i++) {
        assert_int_equal(oasis_tcp_write(e.cli, "x", 1, NULL, NULL), 0);
        e.sent++;
        assert_int_equal(oasis_wire_run(n.wire, echo_caught_up, &e, SEC), 0);
        uint64_t now = oasis_clock_now(n.clock), at = t0 + (uint64_t)i * 2 * SEC;
        if (now < at)
            oasis_wire_run(n.wire, never, NULL, at - now);
    }
    assert_int_equal(e.got, 150);
    assert_int_equal(e.echoed, one_way ? 0 : 150);
    /* The entries did age (else the test proves nothing): ReachableTime
     * is at most 45 s of the 300 run. */
    assert_true(n.a->ip6->reachable_ns <= 45 * SEC && n.b->ip6->reachable_ns <= 45 * SEC);
    ns[0] = ca->out_neigh_solicits - ns_a;
    ns[1] = cb->out_neigh_solicits - ns_b;
    oasis_in6 a6, b6;
    memcpy(a6.b, la.b, 16);
    memcpy(b6.b, lb.b, 16);
    const ip6_neigh *na = oasis_nd_lookup(n.a, &b6), *nb = oasis_nd_lookup(n.b, &a6);
    assert_non_null(na);
    assert_non_null(nb);
    assert_int_equal(n.a->nd_delay + n.b->nd_delay,
                     (na->state == NEIGH_DELAY) + (nb->state == NEIGH_DELAY));
    oasis_tcp_release(e.cli);
    oasis_tcp_release(e.srv);
    test_net_fini(&n);
}

/* A flow that keeps exchanging data keeps its neighbours REACHABLE by
 * itself: each side's entry for the other goes STALE when ReachableTime
 * (15-45 s) runs out, DELAY at the next segment, and the peer's next sign
 * of progress confirms it, so in five minutes of an echo every 2 s no
 * Neighbor Solicitation is sent but the client's first, multicast, one.
 * The server's entry is in DELAY from its NA on, and the 10 s after the
 * handshake hold nothing but the ACK of its SYN-ACK (establish). Without
 * confirmations each DELAY turns into PROBE after 5 s: a unicast
 * solicitation per side about every half minute. */
static void test_echo_confirms_neighbour(void **state)
{
    (void)state;
    uint64_t ns[2];
    run_confirm(0, ns);
    assert_int_equal(ns[0], 1);
    assert_int_equal(ns[1], 0);
}

/* The two kinds of progress 7.3.1 names, one per side: the client's
 * segments are data, and only its peer's ACKs of them (new_ack) confirm
 * it; the server's are ACKs, which nothing acknowledges, and only "the
 * arrival of new (non-duplicate) data" (deliver_in_order) confirms it. */
static void test_one_way_confirms_neighbour(void **state)
{
    (void)state;
    uint64_t ns[2];
    run_confirm(1, ns);
    assert_int_equal(ns[0], 1);
    assert_int_equal(ns[1], 0);
}

/* ---- the 16-byte addresses in the ISN and the cookie MAC ---- */

static void test_isn_cookie_whole_address(void **state)
{
    (void)state;
    uint8_t key[16];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)(i * 13 + 1);
    oasis_ipaddr a, b, a2;
    assert_int_equal(oasis_ipaddr_parse("2001:db8::1", &a), 0);
    assert_int_equal(oasis_ipaddr_parse("2001:db8::2", &b), 0);
    /* The same low 32 bits, another prefix: must count. */
    assert_int_equal(oasis_ipaddr_parse("2001:db9::1", &a2), 0);
    uint64_t t = 5 * SEC;
    uint32_t i1 = oasis_tcp_isn(key, &a, 80, &b, 40000, t);
    assert_int_equal(oasis_tcp_isn(key, &a, 80, &b, 40000, t), i1);
    assert_int_not_equal(oasis_tcp_isn(key, &a2, 80, &b, 40000, t), i1);
    /* IPv4 10.0.0.1 and the IPv6 address ::ffff:10.0.0.1 are different. */
    oasis_ipaddr v4 = oasis_ipaddr_v4(OASIS_IPV4(10, 0, 0, 1)), m6;
    assert_int_equal(oasis_ipaddr_parse("::ffff:10.0.0.1", &m6), 0);
    oasis_ipaddr v4b = oasis_ipaddr_v4(OASIS_IPV4(10, 0, 0, 2)), m6b;
    assert_int_equal(oasis_ipaddr_parse("::ffff:10.0.0.2", &m6b), 0);
    assert_int_not_equal(oasis_tcp_isn(key, &v4, 80, &v4b, 1, t),
                         oasis_tcp_isn(key, &m6, 80, &m6b, 1, t));

    uint32_t c = oasis_syncookie_make(key, &a, 80, &b, 40000, 777, 1440, t);
    assert_int_equal(oasis_syncookie_check(key, &a, 80, &b, 40000, 777, c, t), 1440);
    assert_int_equal(oasis_syncookie_check(key, &a2, 80, &b, 40000, 777, c, t), 0);
    oasis_ipaddr b2;
    assert_int_equal(oasis_ipaddr_parse("3001:db8::2", &b2), 0);
    assert_int_equal(oasis_syncookie_check(key, &a, 80, &b2, 40000, 777, c, t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_bulk_half_close),
        cmocka_unit_test(test_tso6),
        cmocka_unit_test(test_traffic_class),
        cmocka_unit_test(test_flow_label),
        cmocka_unit_test(test_refused_and_families),
        cmocka_unit_test(test_local_address),
        cmocka_unit_test(test_syn_cookies),
        cmocka_unit_test(test_packet_too_big),
        cmocka_unit_test(test_isn_cookie_whole_address),
        cmocka_unit_test(test_echo_confirms_neighbour),
        cmocka_unit_test(test_one_way_confirms_neighbour),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
