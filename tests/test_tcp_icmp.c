/* ICMP errors into TCP (RFC 1122 4.2.3.9, RFC 9293 3.9.2.2, RFC 5461),
 * the RFC 5927 checks, RFC 1191 path MTU discovery and packetization-layer
 * black-hole detection (RFC 4821), on the virtual clock. The test plays
 * both the peer and the router that reports errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "icmp/icmp_wire.h"
#include "ip/ipv4_wire.h"
#include "link/eth_wire.h"
#include "oasis/error.h"
#include "oasis/oasis.h"
#include "tcp/tcp_flow.h"
#include "tcp_harness.h"

#define PORT 80

/* A router's ICMP error quoting the IP header of a datagram that carried
 * the TCP segment seg (of seg_len bytes) from us to the peer, and its
 * first 8 bytes. */
static void icmp_about(tcp_harness *h, uint8_t type, uint8_t code, uint32_t rest,
                       const oasis_tcp_hdr *seg, size_t seg_len)
{
    th_icmp(h, type, code, rest, seg, seg_len);
}

static const oasis_ip_counters *ipc(const tcp_harness *h)
{
    return &oasis_stack_counters(h->s)->ip;
}

/* No timestamps, SACK or window scaling: segment sizes are plain. */
/* end_connect: cfg.tcp.soft_errors_end_connect. */
static void setup_with(tcp_harness *h, th_app *a, int end_connect)
{
    oasis_stack_config d;
    oasis_stack_config_init(&d);
    oasis_tcp_config t = d.tcp;
    t.timestamps = 0;
    t.sack = 0;
    t.window_scaling = 0;
    t.soft_errors_end_connect = end_connect;
    th_init(h, &t);
    th_app_init(a);
}

static void setup(tcp_harness *h, th_app *a) { setup_with(h, a, 0); }

/* A connection attempt to the peer; its SYN in *syn. */
static oasis_flow *attempt(tcp_harness *h, th_app *a, oasis_tcp_hdr *syn)
{
    oasis_flow *f = NULL;
    assert_int_equal(oasis_tcp_connect_flow4(h->s, TH_PEER, PORT, NULL, th_connect_cb, a, &f), 0);
    th_poll(h);
    assert_true(th_pop(h, syn));
    assert_int_equal(syn->flags, OASIS_TCP_SYN);
    return f;
}

static void teardown(tcp_harness *h, th_app *a)
{
    th_app_fini(a);
    th_fini(h);
}

/* A passive flow whose peer offered MSS 1460; returns our ISS + 1. */
/* Runs the clock from deadline to deadline, dropping whatever is sent
 * (the path loses it all), until the flow has had n timeouts. */
static void run_to_timeouts(tcp_harness *h, uint64_t n)
{
    while (th_ctr(h)->timeouts < n) {
        th_clear(h);
        th_run_until(h, oasis_stack_next_deadline(h->s));
    }
}

static uint32_t open_1460(tcp_harness *h, th_app *a)
{
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, OASIS_TCP_SYN, TH_PISN, 0);
    syn.has_mss = 1;
    syn.mss = 1460;
    return th_open_passive(h, a, PORT, &syn) + 1;
}

static uint8_t *pattern(size_t n)
{
    uint8_t *p = malloc(n);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7);
    return p;
}

static uint32_t path_mtu(const th_app *a)
{
    oasis_tcp_info info;
    assert_int_equal(oasis_tcp_get_info(a->flow, &info), 0);
    return info.path_mtu;
}

static void ack(tcp_harness *h, uint32_t seq_ack)
{
    oasis_tcp_hdr x = th_seg(TH_PPORT, PORT, OASIS_TCP_ACK, TH_PISN + 1, seq_ack);
    th_inject(h, &x);
}

/* RFC 1191: a fragmentation-needed quoting a segment in flight lowers the
 * path MTU; what was sent at the old size goes again at the new one, new
 * data too; the estimate ages out after 10 minutes (RFC 1191 6.3). */
static void test_frag_needed_lowers_mss(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    setup(&h, &a);
    uint32_t una = open_1460(&h, &a);
    assert_int_equal(path_mtu(&a), 1500);
    uint8_t *data = pattern(6000);
    assert_int_equal(oasis_tcp_write(a.flow, data, 6000, th_write_cb, &a), 0);
    th_poll(&h);
    oasis_tcp_hdr first, r;
    assert_true(th_pop(&h, &first));
    assert_int_equal(first.seq, una);
    assert_int_equal(first.payload_len, 1460);
    th_clear(&h);

    icmp_about(&h, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_FRAG_NEEDED, 1280, &first, 1480);
    assert_int_equal(th_ctr(&h)->pmtu_mss_lowered, 1);
    assert_int_equal(ipc(&h)->pmtu_lowered, 1);
    assert_int_equal(path_mtu(&a), 1280);
    /* The too-big segment goes again at once, at the new size, and so
     * does the rest. */
    assert_true(th_pop(&h, &r));
    assert_int_equal(r.seq, una);
    assert_int_equal(r.payload_len, 1240);
    assert_memory_equal(r.payload, data, 1240);
    while (th_pop(&h, &r))
        assert_true(r.payload_len <= 1240);
    /* The same report again (one per dropped segment) changes nothing. */
    icmp_about(&h, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_FRAG_NEEDED, 1280, &first, 1480);
    assert_int_equal(th_ctr(&h)->pmtu_mss_lowered, 1);
    assert_int_equal(th_pending(&h), 0);
    /* An increase is ignored (RFC 1191 6.3). */
    icmp_about(&h, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_FRAG_NEEDED, 1400, &first, 1480);
    assert_int_equal(path_mtu(&a), 1280);
    /* A forged tiny MTU does not go below 576 for TCP (RFC 5927 7.2). */
    icmp_about(&h, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_FRAG_NEEDED, 100, &first, 1280);
    assert_int_equal(path_mtu(&a), 576);

    /* Everything acknowledged; ten minutes later the link's size again. */
    ack(&h, una + 6000);
    th_poll(&h);
    th_clear(&h);
    th_advance(&h, 601 * OASIS_NS_PER_SEC);
    assert_int_equal(oasis_tcp_write(a.flow, data, 3000, th_write_cb, &a), 0);
    th_poll(&h);
    assert_true(th_pop(&h, &r));
    assert_int_equal(r.payload_len, 1460);
    assert_int_equal(path_mtu(&a), 1500);
    assert_int_equal(ipc(&h)->pmtu_expired, 1);
    free(data);
    teardown(&h, &a);
}

/* RFC 1191 5, 7: a router that predates RFC 1191 reports no next-hop MTU
 * (0), and a 4.2BSD-derived one quotes the Total Length plus the header
 * length. "If the Total Length field returned is not less than the current
 * PMTU estimate, it must be reduced by 4 times the value of the returned
 * Header Length field" before the plateau search. Without that, a path at
 * 1492 meets the quoted 1512, whose plateau is 1492 again: no decrease,
 * and the flow stalls until black-hole detection. */
static void test_frag_needed_old_router_converges(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    setup(&h, &a);
    uint32_t una = open_1460(&h, &a);
    uint8_t *data = pattern(6000);
    assert_int_equal(oasis_tcp_write(a.flow, data, 6000, th_write_cb, &a), 0);
    th_poll(&h);
    oasis_tcp_hdr first, r;
    assert_true(th_pop(&h, &first));
    assert_int_equal(first.payload_len, 1460);
    th_clear(&h);

    /* Our 1500-byte datagram, quoted as 1520 long: the plateau below 1500. */
    icmp_about(&h, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_FRAG_NEEDED, 0, &first, 1500);
    assert_int_equal(path_mtu(&a), 1492);
    assert_true(th_pop(&h, &r));
    assert_int_equal(r.seq, una);
    assert_int_equal(r.payload_len, 1452);
    th_clear(&h);

    /* The 1492-byte one, quoted as 1512 (the next hop takes 1006): the
     * plateau below 1492, and the segment goes again at that size. */
    icmp_about(&h, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_FRAG_NEEDED, 0, &r, 1492);
    assert_int_equal(path_mtu(&a), 1006);
    assert_int_equal(ipc(&h)->pmtu_lowered, 2);
    assert_true(th_pop(&h, &r));
    assert_int_equal(r.seq, una);
    assert_int_equal(r.payload_len, 966);
    free(data);
    teardown(&h, &a);
}

/* RFC 1191 6.4 / RFC 8201 4: a report lowers the path MTU for every flow
 * to the destination. One of them idle (its extension given back, as an
 * idle established flow has) is skipped without a crash (the walk used to
 * write through its NULL extension: oasis serve died on the first Packet
 * Too Big while another connection from the same host sat idle), and
 * takes the lowered size from the destination's entry when it sends. */
static void test_frag_needed_with_an_idle_flow_to_the_peer(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    setup(&h, &a);
    uint32_t una = open_1460(&h, &a);
    oasis_flow *busy = a.flow;
    /* A second connection from the same peer, another port, left idle. */
    oasis_tcp_hdr syn = th_seg(TH_PPORT + 1, PORT, OASIS_TCP_SYN, TH_PISN, 0), r;
    syn.has_mss = 1;
    syn.mss = 1460;
    th_inject(&h, &syn);
    assert_true(th_pop(&h, &r));
    assert_int_equal(r.flags, OASIS_TCP_SYN | OASIS_TCP_ACK);
    oasis_tcp_hdr x = th_seg(TH_PPORT + 1, PORT, OASIS_TCP_ACK, TH_PISN + 1, r.seq + 1);
    th_inject(&h, &x);
    th_poll(&h);
    assert_int_equal(a.accepted, 2);
    oasis_flow *idle = a.flow;
    a.flow = busy;
    assert_null(idle->ext); /* the precondition: nothing to lower in place */

    uint8_t *data = pattern(3000);
    assert_int_equal(oasis_tcp_write(busy, data, 3000, th_write_cb, &a), 0);
    th_poll(&h);
    oasis_tcp_hdr first;
    assert_true(th_pop(&h, &first));
    assert_int_equal(first.seq, una);
    th_clear(&h);
    icmp_about(&h, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_FRAG_NEEDED, 1280, &first, 1480);
    assert_int_equal(path_mtu(&a), 1280);
    assert_true(th_pop(&h, &r));
    assert_int_equal(r.payload_len, 1240);
    th_clear(&h);
    /* The idle one writes: 1240-byte segments from its first. */
    assert_int_equal(oasis_tcp_write(idle, data, 3000, th_write_cb, &a), 0);
    th_poll(&h);
    assert_true(th_pop(&h, &r));
    assert_int_equal(r.dst_port, TH_PPORT + 1);
    assert_int_equal(r.payload_len, 1240);
    free(data);
    teardown(&h, &a);
}

/* RFC 1191 2, 3: a path MTU under 576 (OASIS_IPV4_MIN_PMTU, TCP's floor)
 * ends discovery by clearing DF, so that a router fragments the 576-byte
 * datagrams; with DF they could never pass and discovery would not
 * converge. Above the floor DF stays; when the estimate ages out, DF
 * comes back (the transmit cache is refilled both times). */
static void test_path_under_576_clears_df(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    setup(&h, &a);
    uint32_t una = open_1460(&h, &a);
    uint8_t *data = pattern(6000);
    assert_int_equal(oasis_tcp_write(a.flow, data, 1000, th_write_cb, &a), 0);
    th_poll(&h);
    oasis_tcp_hdr first, r;
    assert_true(th_pop(&h, &first));
    assert_int_equal(h.last_df, 1);
    th_clear(&h);
    icmp_about(&h, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_FRAG_NEEDED, 1000, &first, 1020);
    assert_true(th_pop(&h, &r));
    assert_int_equal(r.payload_len, 960);
    assert_int_equal(h.last_df, 1); /* 1000 >= 576: still discovering */
    th_clear(&h);
    icmp_about(&h, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_FRAG_NEEDED, 296, &r, 980);
    assert_int_equal(ipc(&h)->pmtu_lowered, 2);
    assert_int_equal(path_mtu(&a), 576);
    /* What goes now, resent and new data alike, goes without DF. */
    assert_int_equal(oasis_tcp_write(a.flow, data, 4000, th_write_cb, &a), 0);
    uint32_t end = una;
    size_t n = 0;
    for (int round = 0; round < 20 && end != una + 5000; round++) {
        th_poll(&h);
        while (th_pop(&h, &r)) {
            assert_int_equal(h.last_df, 0);
            assert_true(r.payload_len <= 536);
            if ((int32_t)(r.seq + r.payload_len - end) > 0)
                end = r.seq + r.payload_len;
            n++;
        }
        ack(&h, end);
    }
    assert_int_equal(end, una + 5000);
    assert_true(n >= 10);
    /* Ten minutes on, the estimate ages out: 1460-byte segments, DF set. */
    th_poll(&h);
    th_clear(&h);
    th_advance(&h, 601 * OASIS_NS_PER_SEC);
    assert_int_equal(th_pending(&h), 0);
    assert_int_equal(oasis_tcp_write(a.flow, data, 3000, th_write_cb, &a), 0);
    th_poll(&h);
    assert_true(th_pop(&h, &r));
    assert_int_equal(r.payload_len, 1460);
    assert_int_equal(h.last_df, 1);
    assert_int_equal(ipc(&h)->pmtu_expired, 1);
    free(data);
    teardown(&h, &a);
}

/* RFC 5927 4.1/4.3: an error quoting no flow of ours, or a sequence
 * number not in flight, is ignored and counted. */
static void test_forged_icmp_ignored_and_counted(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    setup(&h, &a);
    uint32_t una = open_1460(&h, &a);
    uint8_t *data = pattern(3000);
    assert_int_equal(oasis_tcp_write(a.flow, data, 3000, th_write_cb, &a), 0);
    th_poll(&h);
    oasis_tcp_hdr first, r;
    assert_true(th_pop(&h, &first));
    th_clear(&h);

    oasis_tcp_hdr forged = first;
    forged.dst_port = (uint16_t)(first.dst_port + 1); /* no such connection */
    icmp_about(&h, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_FRAG_NEEDED, 576, &forged, 1480);
    assert_int_equal(th_ctr(&h)->icmp_no_flow, 1);

    forged = first;
    forged.seq = una + 3000 + 100000; /* never sent */
    icmp_about(&h, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_FRAG_NEEDED, 576, &forged, 1480);
    forged.seq = una - 1; /* already acknowledged */
    icmp_about(&h, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_FRAG_NEEDED, 576, &forged, 1480);
    icmp_about(&h, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_HOST_UNREACH, 0, &forged, 1480);
    assert_int_equal(th_ctr(&h)->icmp_out_of_window, 3);

    assert_int_equal(th_ctr(&h)->pmtu_mss_lowered, 0);
    assert_int_equal(th_ctr(&h)->icmp_soft_errors, 0);
    assert_int_equal(ipc(&h)->pmtu_lowered, 0);
    assert_int_equal(path_mtu(&a), 1500);
    assert_int_equal(th_pending(&h), 0); /* nothing resent */
    ack(&h, una + 1460);
    th_poll(&h);
    while (th_pop(&h, &r))
        if (r.payload_len)
            assert_int_equal(r.payload_len, 1460 < 3000 - 2920 ? 1460 : r.payload_len);
    free(data);
    teardown(&h, &a);
}

/* RFC 4821: a path that drops full-size segments and sends no ICMP. The
 * third timeout in a row of a full-size segment lowers the segment size
 * and the retransmission goes small; the transfer then completes. After
 * the raise interval one full-size probe goes; acknowledged, the cap goes. */
static void test_black_hole_detected_without_icmp(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    setup(&h, &a);
    uint32_t una = open_1460(&h, &a);
    const size_t n = 20000;
    uint8_t *data = pattern(n);
    assert_int_equal(oasis_tcp_write(a.flow, data, n, th_write_cb, &a), 0);
    th_poll(&h);
    oasis_tcp_hdr r;
    /* The black hole: everything above 1280 bytes vanishes. */
    uint32_t got = 0;
    for (int round = 0; round < 200 && got < n; round++) {
        int acked = 0;
        while (th_pop(&h, &r)) {
            if (r.payload_len + 40 > 1280)
                continue; /* dropped by the path */
            if (r.seq == una + got && r.payload_len) {
                assert_memory_equal(r.payload, data + got, r.payload_len);
                got += (uint32_t)r.payload_len;
                acked = 1;
            }
        }
        if (acked) {
            ack(&h, una + got);
            th_poll(&h);
        } else {
            uint64_t next = oasis_stack_next_deadline(h.s);
            if (next > th_now(&h) + 3600 * OASIS_NS_PER_SEC)
                break; /* nothing left to wait for: the flow gave up */
            th_run_until(&h, next); /* the next timer */
        }
    }
    assert_int_equal(got, n);
    assert_int_equal(th_ctr(&h)->plpmtud_blackholes, 1);
    assert_int_equal(path_mtu(&a), 1280);
    assert_int_equal(ipc(&h)->pmtu_lowered, 0); /* no ICMP came */

    /* Ten minutes on, with data to send: one probe at the full size. */
    th_clear(&h);
    th_advance(&h, 601 * OASIS_NS_PER_SEC);
    assert_int_equal(oasis_tcp_write(a.flow, data, n, th_write_cb, &a), 0);
    th_poll(&h);
    assert_true(th_pop(&h, &r));
    assert_int_equal(r.payload_len, 1460);
    assert_int_equal(th_ctr(&h)->plpmtud_probes, 1);
    uint32_t end = r.seq + (uint32_t)r.payload_len;
    th_clear(&h);
    ack(&h, end); /* the path grew back: the probe arrived */
    th_poll(&h);
    assert_int_equal(th_ctr(&h)->plpmtud_raised, 1);
    assert_int_equal(path_mtu(&a), 1500);
    free(data);
    teardown(&h, &a);
}

/* The same black hole on an IPv6 path: RFC 8200 5 gives every IPv6 path
 * 1280 bytes, and RFC 8899 5.1.2 makes that the base PLPMTU, so the
 * segments fall to 1280 - 60 at once and no lower (before, IPv4's 1240 made
 * 1300-byte packets that the 1280-byte path lost too, and the next three
 * timeouts took the flow down to 536). */
static void test_black_hole_ipv6_falls_to_1280(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    oasis_stack_config d;
    oasis_stack_config_init(&d);
    oasis_tcp_config t = d.tcp;
    t.timestamps = 0;
    t.sack = 0;
    t.window_scaling = 0;
    th_init_af(&h, &t, 1);
    th_app_init(&a);
    uint32_t una = open_1460(&h, &a);
    assert_int_equal(path_mtu(&a), 1500);
    const size_t n = 20000;
    uint8_t *data = pattern(n);
    assert_int_equal(oasis_tcp_write(a.flow, data, n, th_write_cb, &a), 0);
    th_poll(&h);
    oasis_tcp_hdr r;
    uint32_t got = 0;
    for (int round = 0; round < 200 && got < n; round++) {
        int acked = 0;
        while (th_pop(&h, &r)) {
            if (r.payload_len + 60 > 1280)
                continue; /* dropped by the path */
            if (r.seq == una + got && r.payload_len) {
                assert_memory_equal(r.payload, data + got, r.payload_len);
                got += (uint32_t)r.payload_len;
                acked = 1;
            }
        }
        if (acked) {
            ack(&h, una + got);
            th_poll(&h);
        } else {
            uint64_t next = oasis_stack_next_deadline(h.s);
            if (next > th_now(&h) + 3600 * OASIS_NS_PER_SEC)
                break;
            th_run_until(&h, next);
        }
    }
    assert_int_equal(got, n);
    assert_int_equal(th_ctr(&h)->plpmtud_blackholes, 1);
    assert_int_equal(path_mtu(&a), 1280);
    free(data);
    teardown(&h, &a);
}

/* RFC 8899 4.3: a black hole is the loss of the size itself. Full-size
 * segments sent after the head and SACKed show the path carries them: the
 * head's fast retransmission and two timeouts lost in a row (a burst of
 * loss, found with `--impair burst=...` against Linux: the segment size
 * fell to 1240, then 536 bytes for ten minutes) are ordinary loss, and
 * the segment size stays. */
static void test_burst_loss_is_not_a_black_hole(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    oasis_stack_config d;
    oasis_stack_config_init(&d);
    oasis_tcp_config t = d.tcp;
    t.timestamps = 0;
    t.window_scaling = 0; /* SACK on (the default) */
    th_init(&h, &t);
    th_app_init(&a);
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, OASIS_TCP_SYN, TH_PISN, 0);
    syn.has_mss = 1;
    syn.mss = 1460;
    syn.sack_permitted = 1;
    uint32_t una = th_open_passive(&h, &a, PORT, &syn) + 1;
    const size_t n = 8 * 1460;
    uint8_t *data = pattern(n);
    assert_int_equal(oasis_tcp_write(a.flow, data, n, th_write_cb, &a), 0);
    th_poll(&h);
    oasis_tcp_hdr r;
    size_t sent = 0;
    while (th_pop(&h, &r))
        sent += r.payload_len;
    assert_int_equal(sent, n);
    /* The head segment is lost; the seven after it arrive: SACKed. */
    for (uint32_t k = 2; k <= 8; k++) {
        oasis_tcp_hdr x = th_seg(TH_PPORT, PORT, OASIS_TCP_ACK, TH_PISN + 1, una);
        x.sack_count = 1;
        x.sack[0].left = una + 1460;
        x.sack[0].right = una + k * 1460;
        th_inject(&h, &x);
        th_poll(&h);
    }
    /* Its retransmissions are lost too: the fast one and two timeouts. */
    th_clear(&h);
    run_to_timeouts(&h, 2);
    assert_true(th_pop(&h, &r));
    assert_int_equal(r.seq, una);
    assert_int_equal(r.payload_len, 1460); /* still full size */
    assert_int_equal(th_ctr(&h)->plpmtud_blackholes, 0);
    assert_int_equal(path_mtu(&a), 1500);
    ack(&h, una + (uint32_t)n); /* this one arrived */
    th_poll(&h);
    assert_int_equal(a.flow ? path_mtu(&a) : 1500, 1500);
    free(data);
    teardown(&h, &a);
}

/* RFC 1122 4.2.3.5 R1 / RFC 8899 4.3: two timeouts in a row of a
 * full-size head segment are ordinary loss at a few per cent each way
 * (the retransmission or its ACK lost twice); the size stays. Against
 * Linux through `--impair loss=0.05` the second one lowered it to 1240,
 * then 536 bytes for 600 s, in most 16 MiB downloads. The third in a row
 * (OASIS_PLPMTUD_RTOS) is a black hole. */
static void test_two_timeouts_are_not_a_black_hole(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    setup(&h, &a);
    uint32_t una = open_1460(&h, &a);
    const size_t n = 4 * 1460;
    uint8_t *data = pattern(n);
    assert_int_equal(oasis_tcp_write(a.flow, data, n, th_write_cb, &a), 0);
    th_poll(&h);
    oasis_tcp_hdr r;
    run_to_timeouts(&h, 2);
    assert_true(th_pop(&h, &r));
    assert_int_equal(r.seq, una);
    assert_int_equal(r.payload_len, 1460); /* still full size */
    assert_int_equal(th_ctr(&h)->plpmtud_blackholes, 0);
    assert_int_equal(path_mtu(&a), 1500);
    /* The third timeout in a row: the size itself is what is lost. */
    run_to_timeouts(&h, 3);
    assert_int_equal(th_ctr(&h)->plpmtud_blackholes, 1);
    assert_true(th_pop(&h, &r));
    assert_int_equal(r.seq, una);
    assert_true(r.payload_len < 1460);
    free(data);
    teardown(&h, &a);
}

/* RFC 1122 4.2.3.9 / RFC 5461: a hard error while the SYN is out ends the
 * attempt at once with a specific error. */
static void test_hard_error_in_syn_sent_ends_connect(void **state)
{
    (void)state;
    static const struct {
        uint8_t code;
        int err;
    } cases[] = {
        {OASIS_ICMP_PORT_UNREACH, OASIS_EREFUSED},
        {OASIS_ICMP_PROTO_UNREACH, OASIS_EPROTOUNREACH},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tcp_harness h;
        th_app a;
        setup(&h, &a);
        oasis_tcp_hdr syn;
        oasis_flow *f = attempt(&h, &a, &syn);
        icmp_about(&h, OASIS_ICMP_DEST_UNREACH, cases[i].code, 0, &syn, 44);
        th_poll(&h);
        assert_int_equal(a.connected, 1);
        assert_int_equal(a.connect_err, cases[i].err);
        assert_int_equal(oasis_tcp_flow_error(f), cases[i].err);
        assert_non_null(strstr(oasis_tcp_flow_strerror(f), "(ICMP)"));
        assert_int_equal(th_ctr(&h)->icmp_hard_errors, 1);
        assert_int_equal(th_ctr(&h)->attempt_fails, 1);
        oasis_tcp_release(f);
        teardown(&h, &a);
    }
}

/* Soft errors (host unreachable, time exceeded) do not end the attempt
 * (MUST-56); when it then times out the error says why (SHLD-25). A source
 * quench is ignored (RFC 6633). */
static void test_soft_error_then_timeout_says_unreachable(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    setup(&h, &a);
    oasis_tcp_hdr syn;
    oasis_flow *f = attempt(&h, &a, &syn);
    icmp_about(&h, OASIS_ICMP_SOURCE_QUENCH, 0, 0, &syn, 44);
    assert_int_equal(th_ctr(&h)->icmp_soft_errors, 0);
    icmp_about(&h, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_HOST_UNREACH, 0, &syn, 44);
    th_poll(&h);
    assert_int_equal(a.connected, 0);
    assert_int_equal(th_ctr(&h)->icmp_soft_errors, 1);
    th_advance(&h, 300 * OASIS_NS_PER_SEC); /* every SYN retry runs out */
    assert_int_equal(a.connected, 1);
    assert_int_equal(a.connect_err, OASIS_EHOSTUNREACH);
    assert_int_equal(oasis_tcp_flow_error(f), OASIS_EHOSTUNREACH);
    assert_non_null(strstr(oasis_tcp_flow_strerror(f), "host unreachable"));
    oasis_tcp_release(f);
    teardown(&h, &a);
}

/* RFC 5461 4, asked for with cfg.tcp.soft_errors_end_connect: a soft error
 * about the SYN ends the attempt at once, with the error it names, and no
 * SYN follows. (The default waits: the test above.) */
static void test_soft_error_ends_connect_when_asked(void **state)
{
    (void)state;
    static const struct {
        uint8_t type, code;
        uint32_t rest;
        int err;
    } cases[] = {
        {OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_HOST_UNREACH, 0, OASIS_EHOSTUNREACH},
        {OASIS_ICMP_DEST_UNREACH, 0, 0, OASIS_ENETUNREACH},
        {OASIS_ICMP_TIME_EXCEEDED, 0, 0, OASIS_EHOSTUNREACH},
        {OASIS_ICMP_PARAM_PROBLEM, 0, 12u << 24, OASIS_EMALFORMED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tcp_harness h;
        th_app a;
        setup_with(&h, &a, 1);
        oasis_tcp_hdr syn;
        oasis_flow *f = attempt(&h, &a, &syn);
        icmp_about(&h, OASIS_ICMP_SOURCE_QUENCH, 0, 0, &syn, 44); /* still ignored */
        th_poll(&h);
        assert_int_equal(a.connected, 0);
        icmp_about(&h, cases[i].type, cases[i].code, cases[i].rest, &syn, 44);
        th_poll(&h);
        assert_int_equal(a.connected, 1);
        assert_int_equal(a.connect_err, cases[i].err);
        assert_int_equal(oasis_tcp_flow_error(f), cases[i].err);
        assert_int_equal(th_ctr(&h)->icmp_soft_errors, 1);
        assert_int_equal(th_ctr(&h)->icmp_hard_errors, 0);
        assert_int_equal(th_ctr(&h)->attempt_fails, 1);
        th_advance(&h, 10 * OASIS_NS_PER_SEC);
        assert_false(th_pop(&h, &syn)); /* no SYN retransmission */
        oasis_tcp_release(f);
        teardown(&h, &a);
    }
}

/* In a synchronized state a hard error is only soft (RFC 5927 7.2): the
 * connection lives; a segment from the peer forgets the error. */
static void test_hard_error_established_is_soft(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    setup(&h, &a);
    uint32_t una = open_1460(&h, &a);
    uint8_t *data = pattern(1000);
    assert_int_equal(oasis_tcp_write(a.flow, data, 1000, th_write_cb, &a), 0);
    th_poll(&h);
    oasis_tcp_hdr seg;
    assert_true(th_pop(&h, &seg));
    icmp_about(&h, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_PORT_UNREACH, 0, &seg, 1020);
    th_poll(&h);
    oasis_tcp_info info;
    assert_int_equal(oasis_tcp_get_info(a.flow, &info), 0);
    assert_int_equal(info.state, OASIS_TCP_ESTABLISHED);
    assert_int_equal(th_ctr(&h)->icmp_hard_errors, 0);
    assert_int_equal(th_ctr(&h)->icmp_soft_errors, 1);
    ack(&h, una + 1000);
    th_poll(&h);
    assert_int_equal(a.writes_done, 1);
    free(data);
    teardown(&h, &a);
}

/* RFC 9293 MUST-56 and MUST-55 on an established flow: destination
 * unreachable codes 0, 1 and 5, time exceeded and parameter problem
 * quoting data in flight abort nothing (they are soft), a source quench
 * is discarded silently (RFC 6633: not even remembered). */
static void never_abort_established(int end_connect)
{
    tcp_harness h;
    th_app a;
    setup_with(&h, &a, end_connect);
    uint32_t una = open_1460(&h, &a);
    uint8_t *data = pattern(1000);
    assert_int_equal(oasis_tcp_write(a.flow, data, 1000, th_write_cb, &a), 0);
    th_poll(&h);
    oasis_tcp_hdr seg;
    assert_true(th_pop(&h, &seg));
    icmp_about(&h, OASIS_ICMP_SOURCE_QUENCH, 0, 0, &seg, 1020);
    assert_int_equal(th_ctr(&h)->icmp_soft_errors, 0);
    static const uint8_t unreach[] = {0, 1, 5};
    for (size_t i = 0; i < sizeof unreach; i++)
        icmp_about(&h, OASIS_ICMP_DEST_UNREACH, unreach[i], 0, &seg, 1020);
    icmp_about(&h, OASIS_ICMP_TIME_EXCEEDED, 0, 0, &seg, 1020);
    icmp_about(&h, OASIS_ICMP_PARAM_PROBLEM, 0, 12u << 24, &seg, 1020);
    th_poll(&h);
    oasis_tcp_info info;
    assert_int_equal(oasis_tcp_get_info(a.flow, &info), 0);
    assert_int_equal(info.state, OASIS_TCP_ESTABLISHED);
    assert_int_equal(th_ctr(&h)->icmp_hard_errors, 0);
    assert_int_equal(th_ctr(&h)->icmp_soft_errors, 5);
    assert_int_equal(a.closed, 0);
    ack(&h, una + 1000);
    th_poll(&h);
    assert_int_equal(a.writes_done, 1);
    assert_int_equal(a.write_err, 0);
    free(data);
    teardown(&h, &a);
}

/* ... whether or not soft errors end connection attempts (they are past). */
static void test_icmp_errors_never_abort_established(void **state)
{
    (void)state;
    never_abort_established(0);
    never_abort_established(1);
}

/* RFC 9293 3.9.1.8 (MUST-47): "the conditions that are reported
 * asynchronously to the application MUST include: ICMP error message
 * arrived". A soft error on an established flow is reported as
 * OASIS_TCP_EV_ICMP, from the dispatcher, with its reason in
 * oasis_tcp_flow_soft_error(); a segment from the peer forgets it. Source
 * quench (MUST-55) and fragmentation needed (path MTU discovery) are not
 * reported. */
typedef struct evcount {
    int icmp, other, soft;
} evcount;

static void on_ev(oasis_flow *f, oasis_tcp_event ev, void *ud)
{
    evcount *e = ud;
    if (ev == OASIS_TCP_EV_ICMP) {
        e->icmp++;
        e->soft = oasis_tcp_flow_soft_error(f);
    } else {
        e->other++;
    }
}

static void test_soft_error_reported_asynchronously(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    evcount e = {0};
    setup(&h, &a);
    uint32_t una = open_1460(&h, &a);
    assert_int_equal(oasis_tcp_set_event_cb(a.flow, on_ev, &e), 0);
    uint8_t *data = pattern(1000);
    assert_int_equal(oasis_tcp_write(a.flow, data, 1000, th_write_cb, &a), 0);
    th_poll(&h);
    oasis_tcp_hdr seg;
    assert_true(th_pop(&h, &seg));
    assert_int_equal(oasis_tcp_flow_soft_error(a.flow), 0);
    icmp_about(&h, OASIS_ICMP_SOURCE_QUENCH, 0, 0, &seg, 1020);
    icmp_about(&h, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_FRAG_NEEDED, 1200, &seg, 1020);
    th_poll(&h);
    assert_int_equal(e.icmp, 0);
    assert_int_equal(oasis_tcp_flow_soft_error(a.flow), 0);
    icmp_about(&h, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_NET_UNREACH, 0, &seg, 1020);
    assert_int_equal(e.icmp, 0); /* not inside the input: from the dispatcher */
    th_poll(&h);
    assert_int_equal(e.icmp, 1);
    assert_int_equal(e.soft, OASIS_ENETUNREACH);
    icmp_about(&h, OASIS_ICMP_TIME_EXCEEDED, 0, 0, &seg, 1020);
    th_poll(&h);
    assert_int_equal(e.icmp, 2);
    assert_int_equal(e.soft, OASIS_EHOSTUNREACH);
    assert_int_equal(oasis_tcp_flow_soft_error(a.flow), OASIS_EHOSTUNREACH);
    assert_int_equal(oasis_tcp_flow_error(a.flow), 0);
    ack(&h, una + 1000); /* the path works */
    th_poll(&h);
    assert_int_equal(oasis_tcp_flow_soft_error(a.flow), 0);
    assert_int_equal(e.icmp, 2);
    assert_int_equal(e.other, 0);
    /* Reports turned off (SHLD-20): still remembered, not reported. */
    assert_int_equal(oasis_tcp_set_event_cb(a.flow, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_write(a.flow, data, 100, th_write_cb, &a), 0);
    th_poll(&h);
    while (th_pop(&h, &seg))
        ;
    icmp_about(&h, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_HOST_UNREACH, 0, &seg, 120);
    th_poll(&h);
    assert_int_equal(e.icmp, 2);
    assert_int_equal(oasis_tcp_flow_soft_error(a.flow), OASIS_EHOSTUNREACH);
    assert_int_equal(oasis_tcp_flow_soft_error(NULL), OASIS_EINVAL);
    free(data);
    teardown(&h, &a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frag_needed_lowers_mss),
        cmocka_unit_test(test_frag_needed_old_router_converges),
        cmocka_unit_test(test_frag_needed_with_an_idle_flow_to_the_peer),
        cmocka_unit_test(test_path_under_576_clears_df),
        cmocka_unit_test(test_forged_icmp_ignored_and_counted),
        cmocka_unit_test(test_black_hole_detected_without_icmp),
        cmocka_unit_test(test_black_hole_ipv6_falls_to_1280),
        cmocka_unit_test(test_burst_loss_is_not_a_black_hole),
        cmocka_unit_test(test_two_timeouts_are_not_a_black_hole),
        cmocka_unit_test(test_hard_error_in_syn_sent_ends_connect),
        cmocka_unit_test(test_soft_error_then_timeout_says_unreachable),
        cmocka_unit_test(test_soft_error_ends_connect_when_asked),
        cmocka_unit_test(test_hard_error_established_is_soft),
        cmocka_unit_test(test_icmp_errors_never_abort_established),
        cmocka_unit_test(test_soft_error_reported_asynchronously),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
