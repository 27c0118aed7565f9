/* ECN in TCP (RFC 3168; RFC 9293 SHLD-8): negotiation in both roles for
 * each cfg.tcp.ecn value, which segments are ECN-capable, the receiver's
 * echo (CE -> ECE until CWR), the sender's reaction (one cwnd reduction
 * per window of data, CWR on the next new data), and a bulk transfer
 * through a wire that marks CE as an AQM router would. Hand-built segments
 * on the one-stack harness where a state is being checked; the segments
 * that must carry an IP ECN field go in through IP (proto.c's table), so
 * the hand-off from IP to TCP is tested too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/stack_impl.h"
#include "ip/ipv4_wire.h"
#include "link/eth_wire.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_seq.h"
#include "tcp_harness.h"
#include "testutil.h"

#define PORT 80
#define MSS 1000u
#define ECE OASIS_TCP_ECE
#define CWR OASIS_TCP_CWR

static const uint8_t PEER_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};

/* Sends seg from the peer inside an IPv4 datagram whose ECN field is ecn
 * (and DSCP 0), through the stack's Ethernet and IP input. */
static void inject_ip(tcp_harness *h, const oasis_tcp_hdr *seg, uint8_t ecn)
{
    size_t hl = OASIS_TCP_HLEN + oasis_tcp_options_len(seg);
    size_t n = OASIS_ETH_HLEN + OASIS_IPV4_HLEN + hl + seg->payload_len;
    uint8_t *f = calloc(1, n < 60 ? 60 : n);
    assert_non_null(f);
    oasis_eth_emit(f, oasis_stack_mac(h->s), PEER_MAC, OASIS_ETHERTYPE_IPV4);
    oasis_ipv4_hdr ip;
    memset(&ip, 0, sizeof ip);
    ip.tos = ecn;
    ip.total_len = (uint16_t)(n - OASIS_ETH_HLEN);
    ip.id = 1;
    ip.df = 1;
    ip.ttl = 64;
    ip.proto = OASIS_IPPROTO_TCP;
    ip.src = TH_PEER;
    ip.dst = TH_LOCAL;
    oasis_ipv4_emit(f + OASIS_ETH_HLEN, &ip);
    uint8_t *tcp = f + OASIS_ETH_HLEN + OASIS_IPV4_HLEN;
    if (seg->payload_len)
        memcpy(tcp + hl, seg->payload, seg->payload_len);
    oasis_tcp_emit(tcp, seg, seg->payload_len, TH_PEER, TH_LOCAL);
    oasis_stack_input(h->s, f, n < 60 ? 60 : n);
    free(f);
}

static oasis_tcp_config tcfg_ecn(uint8_t ecn)
{
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    c.tcp.ecn = ecn;
    return c.tcp;
}

static int info_ecn(oasis_flow *f)
{
    oasis_tcp_info i;
    assert_int_equal(oasis_tcp_get_info(f, &i), 0);
    return i.ecn;
}

/* ---- negotiation: active open ------------------------------------------------ */

/* Connects; returns the SYN (tos of its IP header in *tos). */
static oasis_tcp_hdr connect_syn(tcp_harness *h, th_app *a, uint8_t *tos)
{
    assert_int_equal(oasis_tcp_connect4(h->s, TH_PEER, PORT, NULL, th_connect_cb, a), 0);
    th_poll(h);
    oasis_tcp_hdr syn;
    assert_true(th_pop(h, &syn));
    assert_true(syn.flags & OASIS_TCP_SYN);
    *tos = h->last_tos;
    return syn;
}

/* The peer's SYN-ACK with extra flags; returns our ACK. */
static oasis_tcp_hdr answer_synack(tcp_harness *h, th_app *a, const oasis_tcp_hdr *syn,
                                   uint8_t extra)
{
    oasis_tcp_hdr sa = th_seg(PORT, syn->src_port, OASIS_TCP_SYN | OASIS_TCP_ACK | extra, TH_PISN,
                              syn->seq + 1);
    sa.has_mss = 1;
    sa.mss = MSS;
    th_inject(h, &sa);
    th_poll(h);
    assert_int_equal(a->connected, 1);
    oasis_tcp_hdr ack;
    assert_true(th_pop(h, &ack));
    return ack;
}

/* ecn = 1: the SYN is an ECN-setup SYN (ECE and CWR), itself Not-ECT
 * (6.1.1); an ECN-setup SYN-ACK (ECE alone) makes the flow ECN. */
static void test_active_ecn1_negotiates(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    oasis_tcp_config t = tcfg_ecn(1);
    th_init(&h, &t);
    th_app_init(&a);
    uint8_t tos;
    oasis_tcp_hdr syn = connect_syn(&h, &a, &tos);
    assert_int_equal(syn.flags & (ECE | CWR), ECE | CWR);
    assert_int_equal(tos & 3, OASIS_ECN_NOT_ECT);
    oasis_tcp_hdr ack = answer_synack(&h, &a, &syn, ECE);
    assert_int_equal(ack.flags, OASIS_TCP_ACK); /* no ECE/CWR on the third segment */
    assert_int_equal(h.last_tos & 3, OASIS_ECN_NOT_ECT);
    assert_int_equal(info_ecn(a.flow), 1);
    assert_int_equal(th_ctr(&h)->ecn_flows, 1);
    th_app_fini(&a);
    th_fini(&h);
}

/* The peer does not answer with ECE, or reflects ECE+CWR back (a broken
 * peer echoing reserved bits, 6.1.1.2): no ECN, data goes Not-ECT. */
static void active_declined(uint8_t synack_flags)
{
    tcp_harness h;
    th_app a;
    oasis_tcp_config t = tcfg_ecn(1);
    th_init(&h, &t);
    th_app_init(&a);
    uint8_t tos;
    oasis_tcp_hdr syn = connect_syn(&h, &a, &tos);
    answer_synack(&h, &a, &syn, synack_flags);
    assert_int_equal(info_ecn(a.flow), 0);
    assert_int_equal(th_ctr(&h)->ecn_flows, 0);
    static const uint8_t msg[100];
    assert_int_equal(oasis_tcp_write(a.flow, msg, sizeof msg, NULL, NULL), 0);
    th_poll(&h);
    oasis_tcp_hdr d;
    assert_true(th_pop(&h, &d));
    assert_int_equal(d.payload_len, sizeof msg);
    assert_int_equal(h.last_tos & 3, OASIS_ECN_NOT_ECT);
    assert_int_equal(d.flags & (ECE | CWR), 0);
    th_app_fini(&a);
    th_fini(&h);
}

static void test_active_ecn1_peer_without_ecn(void **state)
{
    (void)state;
    active_declined(0);
}

static void test_active_ecn1_reflected_flags(void **state)
{
    (void)state;
    active_declined(ECE | CWR);
}

/* ecn = 2 (the default) and 0: an active open does not ask, and an
 * unasked-for ECE on the SYN-ACK does not turn ECN on. */
static void active_no_ask(uint8_t ecn)
{
    tcp_harness h;
    th_app a;
    oasis_tcp_config t = tcfg_ecn(ecn);
    th_init(&h, &t);
    th_app_init(&a);
    uint8_t tos;
    oasis_tcp_hdr syn = connect_syn(&h, &a, &tos);
    assert_int_equal(syn.flags & (ECE | CWR), 0);
    answer_synack(&h, &a, &syn, ECE);
    assert_int_equal(info_ecn(a.flow), 0);
    th_app_fini(&a);
    th_fini(&h);
}

static void test_active_ecn2_does_not_ask(void **state)
{
    (void)state;
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    assert_int_equal(c.tcp.ecn, 2); /* Linux's default */
    active_no_ask(2);
}

static void test_active_ecn0_does_not_ask(void **state)
{
    (void)state;
    active_no_ask(0);
}

/* 6.1.1.1: the SYN retransmission goes without ECE/CWR, and a flow that
 * sent a non-ECN-setup SYN must not use ECN (6.1.1), even if the SYN-ACK
 * that comes answers the first SYN. */
static void test_syn_retransmission_falls_back(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    oasis_tcp_config t = tcfg_ecn(1);
    th_init(&h, &t);
    th_app_init(&a);
    uint8_t tos;
    oasis_tcp_hdr syn = connect_syn(&h, &a, &tos);
    assert_int_equal(syn.flags & (ECE | CWR), ECE | CWR);
    th_advance(&h, 1100 * OASIS_NS_PER_MS); /* initial RTO 1 s */
    oasis_tcp_hdr syn2;
    assert_true(th_pop(&h, &syn2));
    assert_int_equal(syn2.flags, OASIS_TCP_SYN);
    assert_int_equal(syn2.seq, syn.seq);
    answer_synack(&h, &a, &syn, ECE);
    assert_int_equal(info_ecn(a.flow), 0);
    th_app_fini(&a);
    th_fini(&h);
}

/* ---- negotiation: passive open ---------------------------------------------- */

/* A SYN with flags from the peer to a listener; returns the SYN-ACK. */
static oasis_tcp_hdr listen_synack(tcp_harness *h, th_app *a, uint8_t synflags)
{
    assert_int_equal(oasis_tcp_listen(h->s, PORT, NULL, th_accept_cb, a), 0);
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, OASIS_TCP_SYN | synflags, TH_PISN, 0);
    syn.has_mss = 1;
    syn.mss = MSS;
    th_inject(h, &syn);
    oasis_tcp_hdr sa;
    assert_true(th_pop(h, &sa));
    assert_int_equal(sa.flags & (OASIS_TCP_SYN | OASIS_TCP_ACK), OASIS_TCP_SYN | OASIS_TCP_ACK);
    assert_int_equal(h->last_tos & 3, OASIS_ECN_NOT_ECT); /* never ECT on a SYN-ACK */
    return sa;
}

static void complete_passive(tcp_harness *h, th_app *a, const oasis_tcp_hdr *sa)
{
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, OASIS_TCP_ACK, TH_PISN + 1, sa->seq + 1);
    th_inject(h, &ack);
    th_poll(h);
    assert_int_equal(a->accepted, 1);
}

/* ecn 1 and 2 accept: an ECN-setup SYN gets an ECN-setup SYN-ACK (ECE
 * without CWR); ecn 0 answers with a plain SYN-ACK. */
static void passive(uint8_t ecn, uint8_t synflags, int want)
{
    tcp_harness h;
    th_app a;
    oasis_tcp_config t = tcfg_ecn(ecn);
    th_init(&h, &t);
    th_app_init(&a);
    oasis_tcp_hdr sa = listen_synack(&h, &a, synflags);
    assert_int_equal(sa.flags & (ECE | CWR), want ? ECE : 0);
    complete_passive(&h, &a, &sa);
    assert_int_equal(info_ecn(a.flow), want);
    assert_int_equal(th_ctr(&h)->ecn_flows, (uint64_t)want);
    th_app_fini(&a);
    th_fini(&h);
}

static void test_passive_ecn2_accepts(void **state)
{
    (void)state;
    passive(2, ECE | CWR, 1);
}

static void test_passive_ecn1_accepts(void **state)
{
    (void)state;
    passive(1, ECE | CWR, 1);
}

static void test_passive_ecn0_declines(void **state)
{
    (void)state;
    passive(0, ECE | CWR, 0);
}

/* Only both flags make an ECN-setup SYN (a SYN with ECE alone, or CWR
 * alone, is not one: 6.1.1 "MUST NOT send an ECN-setup SYN-ACK"). */
static void test_passive_half_setup_syn_declined(void **state)
{
    (void)state;
    passive(2, ECE, 0);
    passive(2, CWR, 0);
    passive(2, 0, 0);
}

/* The peer's SYN retransmission without ECE/CWR reaches us in
 * SYN_RECEIVED: it sent a non-ECN-setup SYN, so the SYN-ACK we resend is
 * plain and the flow goes without ECN (6.1.1, the scenario of 6.1.1.1). */
static void test_passive_dup_syn_without_ecn(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    th_init(&h, NULL);
    th_app_init(&a);
    oasis_tcp_hdr sa = listen_synack(&h, &a, ECE | CWR);
    assert_int_equal(sa.flags & (ECE | CWR), ECE);
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, OASIS_TCP_SYN, TH_PISN, 0);
    th_inject(&h, &syn);
    oasis_tcp_hdr sa2;
    assert_true(th_pop(&h, &sa2));
    assert_int_equal(sa2.flags, OASIS_TCP_SYN | OASIS_TCP_ACK);
    complete_passive(&h, &a, &sa2);
    assert_int_equal(info_ecn(a.flow), 0);
    th_app_fini(&a);
    th_fini(&h);
}

/* A SYN cookie (backlog full) encodes no ECN: its SYN-ACK is plain. */
static void test_syn_cookie_without_ecn(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    th_init(&h, NULL);
    th_app_init(&a);
    oasis_listen_opts o = {.backlog = 1};
    assert_int_equal(oasis_tcp_listen(h.s, PORT, &o, th_accept_cb, &a), 0);
    oasis_tcp_hdr s1 = th_seg(TH_PPORT, PORT, OASIS_TCP_SYN | ECE | CWR, TH_PISN, 0);
    th_inject(&h, &s1);
    oasis_tcp_hdr r;
    assert_true(th_pop(&h, &r));
    assert_int_equal(r.flags, OASIS_TCP_SYN | OASIS_TCP_ACK | ECE);
    oasis_tcp_hdr s2 = th_seg(TH_PPORT + 1, PORT, OASIS_TCP_SYN | ECE | CWR, TH_PISN, 0);
    th_inject(&h, &s2);
    assert_true(th_pop(&h, &r));
    assert_int_equal(th_ctr(&h)->syn_cookies_sent, 1);
    assert_int_equal(r.flags, OASIS_TCP_SYN | OASIS_TCP_ACK);
    th_app_fini(&a);
    th_fini(&h);
}

static void test_config_rejects_unknown_ecn(void **state)
{
    (void)state;
    oasis_clock *clk = oasis_clock_new_virtual(TH_START_NS);
    oasis_stack_config c;
    test_stack_config(&c, clk, 1);
    c.tcp.ecn = 3; /* Linux's AccECN modes: not implemented */
    oasis_stack *s = NULL;
    assert_int_equal(oasis_stack_create(&c, &s), OASIS_EINVAL);
    oasis_clock_free(clk);
}

/* ---- an established ECN flow ---------------------------------------------- */

/* A passive ECN flow (ECN-setup SYN with MSS 1000, SACK as asked); the
 * peer's next sequence number is TH_PISN + 1; returns our ISS. */
static uint32_t open_ecn(tcp_harness *h, th_app *a, int sack)
{
    assert_int_equal(oasis_tcp_listen(h->s, PORT, NULL, th_accept_cb, a), 0);
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, OASIS_TCP_SYN | ECE | CWR, TH_PISN, 0);
    syn.has_mss = 1;
    syn.mss = MSS;
    syn.sack_permitted = (uint8_t)sack;
    th_inject(h, &syn);
    oasis_tcp_hdr sa;
    assert_true(th_pop(h, &sa));
    assert_int_equal(sa.flags, OASIS_TCP_SYN | OASIS_TCP_ACK | ECE);
    complete_passive(h, a, &sa);
    assert_int_equal(info_ecn(a->flow), 1);
    return sa.seq;
}

/* ECT(0) on new data only (6.1.2), beside the flow's DSCP; never on a pure
 * ACK (6.1.4), a retransmission (6.1.5), a window probe (6.1.6) or a FIN
 * alone. */
static void test_ect_only_on_new_data(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    th_init(&h, NULL);
    th_app_init(&a);
    uint32_t iss = open_ecn(&h, &a, 0);
    assert_int_equal(oasis_tcp_set_dscp(a.flow, 10), 0);
    static const uint8_t msg[500];
    assert_int_equal(oasis_tcp_write(a.flow, msg, sizeof msg, NULL, NULL), 0);
    th_poll(&h);
    oasis_tcp_hdr d;
    assert_true(th_pop(&h, &d));
    assert_int_equal(d.payload_len, sizeof msg);
    assert_int_equal(h.last_tos, 10 << 2 | OASIS_ECN_ECT0);
    assert_int_equal(d.flags & (ECE | CWR), 0);

    /* Lost: the RTO (200 ms: the handshake's RTT sample was 0) resends it
     * Not-ECT. */
    th_advance(&h, 250 * OASIS_NS_PER_MS);
    assert_true(th_pop(&h, &d));
    assert_int_equal(d.seq, iss + 1);
    assert_int_equal(d.payload_len, sizeof msg);
    assert_int_equal(h.last_tos, 10 << 2 | OASIS_ECN_NOT_ECT);
    /* (an RTO is a reduction: CWR will ride on the next NEW data, 6.1.2) */
    assert_int_equal(d.flags & CWR, 0);

    /* Peer data acknowledging it: our pure ACK is Not-ECT. */
    oasis_tcp_hdr p = th_seg(TH_PPORT, PORT, OASIS_TCP_ACK | OASIS_TCP_PSH, TH_PISN + 1,
                             iss + 1 + sizeof msg);
    p.window = 0; /* and close the window */
    p.payload = msg;
    p.payload_len = 100;
    th_inject(&h, &p);
    th_advance(&h, 50 * OASIS_NS_PER_MS); /* the delayed ACK */
    assert_true(th_pop(&h, &d));
    assert_int_equal(d.payload_len, 0);
    assert_int_equal(d.ack, TH_PISN + 1 + 100);
    assert_int_equal(h.last_tos, 10 << 2 | OASIS_ECN_NOT_ECT);

    /* New data meets the zero window: the probes are Not-ECT, no CWR. */
    assert_int_equal(oasis_tcp_write(a.flow, msg, sizeof msg, NULL, NULL), 0);
    th_poll(&h);
    assert_int_equal(th_pending(&h), 0);
    th_advance(&h, 2 * OASIS_NS_PER_SEC);
    assert_true(th_pop(&h, &d));
    assert_int_equal(d.payload_len, 0);
    assert_int_equal(h.last_tos & 3, OASIS_ECN_NOT_ECT);
    assert_int_equal(d.flags & CWR, 0);
    th_clear(&h);

    /* The window opens: the new data is ECT(0) and carries the CWR the
     * RTO's reduction left pending. */
    oasis_tcp_hdr w = th_seg(TH_PPORT, PORT, OASIS_TCP_ACK, TH_PISN + 101, iss + 1 + sizeof msg);
    th_inject(&h, &w);
    th_poll(&h);
    assert_true(th_pop(&h, &d));
    assert_int_equal(d.payload_len, sizeof msg);
    assert_int_equal(d.seq, iss + 1 + sizeof msg);
    assert_int_equal(h.last_tos, 10 << 2 | OASIS_ECN_ECT0);
    assert_int_equal(d.flags & CWR, CWR);

    /* A FIN alone is no data: Not-ECT. */
    oasis_tcp_hdr w2 = th_seg(TH_PPORT, PORT, OASIS_TCP_ACK, TH_PISN + 101, iss + 1 + 2 * sizeof msg);
    th_inject(&h, &w2);
    assert_int_equal(oasis_tcp_close(a.flow, th_close_cb, &a), 0);
    th_poll(&h);
    assert_true(th_pop(&h, &d));
    assert_true(d.flags & OASIS_TCP_FIN);
    assert_int_equal(d.payload_len, 0);
    assert_int_equal(h.last_tos & 3, OASIS_ECN_NOT_ECT);
    th_app_fini(&a);
    th_fini(&h);
}

/* A flow without ECN sends nothing ECN-capable and ignores CE. */
static void test_no_ecn_flow_is_not_ect(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    th_init(&h, NULL);
    th_app_init(&a);
    uint32_t iss = th_open_passive(&h, &a, PORT, NULL); /* SYN without ECE/CWR */
    assert_int_equal(info_ecn(a.flow), 0);
    static const uint8_t msg[300];
    assert_int_equal(oasis_tcp_write(a.flow, msg, sizeof msg, NULL, NULL), 0);
    th_poll(&h);
    oasis_tcp_hdr d;
    assert_true(th_pop(&h, &d));
    assert_int_equal(h.last_tos & 3, OASIS_ECN_NOT_ECT);
    oasis_tcp_hdr p = th_seg(TH_PPORT, PORT, OASIS_TCP_ACK, TH_PISN + 1, iss + 1 + sizeof msg);
    p.payload = msg;
    p.payload_len = 100;
    inject_ip(&h, &p, OASIS_ECN_CE);
    th_advance(&h, 50 * OASIS_NS_PER_MS);
    assert_true(th_pop(&h, &d));
    assert_int_equal(d.flags & ECE, 0);
    assert_int_equal(th_ctr(&h)->ecn_ce_segs, 0);
    th_app_fini(&a);
    th_fini(&h);
}

/* ---- the receiver: CE -> ECE until CWR (6.1.3) -------------------------------- */

static void test_ce_echoed_until_cwr(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    th_init(&h, NULL);
    th_app_init(&a);
    uint32_t iss = open_ecn(&h, &a, 0);
    a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(a.flow, th_read_cb, &a), 0);
    static uint8_t msg[100];
    uint32_t seq = TH_PISN + 1;
    oasis_tcp_hdr p, r;

    /* ECT(0) data: delayed ACK, no ECE. */
    p = th_seg(TH_PPORT, PORT, OASIS_TCP_ACK, seq, iss + 1);
    p.payload = msg;
    p.payload_len = sizeof msg;
    inject_ip(&h, &p, OASIS_ECN_ECT0);
    seq += sizeof msg;
    th_poll(&h);
    assert_int_equal(th_pending(&h), 0);
    th_advance(&h, 50 * OASIS_NS_PER_MS);
    assert_true(th_pop(&h, &r));
    assert_int_equal(r.flags & ECE, 0);

    /* CE: the ACK goes at once (the echo starts) with ECE. */
    p.seq = seq;
    inject_ip(&h, &p, OASIS_ECN_CE);
    seq += sizeof msg;
    assert_true(th_pop(&h, &r));
    assert_int_equal(r.ack, seq);
    assert_int_equal(r.flags & ECE, ECE);
    assert_int_equal(h.last_tos & 3, OASIS_ECN_NOT_ECT);
    assert_int_equal(th_ctr(&h)->ecn_ce_segs, 1);

    /* Unmarked data after it: still ECE, on every ACK. */
    for (int i = 0; i < 2; i++) {
        p.seq = seq;
        inject_ip(&h, &p, OASIS_ECN_ECT0);
        seq += sizeof msg;
        th_advance(&h, 50 * OASIS_NS_PER_MS);
        assert_true(th_pop(&h, &r));
        assert_int_equal(r.ack, seq);
        assert_int_equal(r.flags & ECE, ECE);
    }
    /* Our own data carries it too. */
    assert_int_equal(oasis_tcp_write(a.flow, msg, 10, NULL, NULL), 0);
    th_poll(&h);
    assert_true(th_pop(&h, &r));
    assert_int_equal(r.payload_len, 10);
    assert_int_equal(r.flags & ECE, ECE);

    /* An old duplicate marked CE is outside the window: ignored (6.1.5). */
    p.seq = seq - sizeof msg;
    inject_ip(&h, &p, OASIS_ECN_CE);
    th_clear(&h);
    assert_int_equal(th_ctr(&h)->ecn_ce_segs, 1);

    /* CWR: the echo stops (the data with CWR is ACKed at once). */
    p.seq = seq;
    p.ack = iss + 11;
    p.flags = OASIS_TCP_ACK | CWR;
    inject_ip(&h, &p, OASIS_ECN_ECT0);
    seq += sizeof msg;
    assert_true(th_pop(&h, &r));
    assert_int_equal(r.ack, seq);
    assert_int_equal(r.flags & ECE, 0);
    p.flags = OASIS_TCP_ACK;
    p.seq = seq;
    inject_ip(&h, &p, OASIS_ECN_ECT0);
    seq += sizeof msg;
    th_advance(&h, 50 * OASIS_NS_PER_MS);
    assert_true(th_pop(&h, &r));
    assert_int_equal(r.flags & ECE, 0);

    /* A CWR segment that is itself CE: the echo goes on. */
    p.seq = seq;
    p.flags = OASIS_TCP_ACK | CWR;
    inject_ip(&h, &p, OASIS_ECN_CE);
    seq += sizeof msg;
    assert_true(th_pop(&h, &r));
    assert_int_equal(r.flags & ECE, ECE);
    th_poll(&h);
    assert_int_equal(a.rx_len, 7 * sizeof msg);
    th_app_fini(&a);
    th_fini(&h);
}

/* 6.1.6: a window probe is exact in sequence, so its CE counts. */
static void test_ce_on_window_probe_echoed(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    oasis_tcp_config t = tcfg_ecn(2);
    t.rcvbuf = 1024;
    th_init(&h, &t);
    th_app_init(&a);
    uint32_t iss = open_ecn(&h, &a, 0);
    static uint8_t fill[1024];
    oasis_tcp_hdr p = th_seg(TH_PPORT, PORT, OASIS_TCP_ACK, TH_PISN + 1, iss + 1);
    p.payload = fill;
    p.payload_len = sizeof fill; /* fills the window: nobody reads */
    inject_ip(&h, &p, OASIS_ECN_ECT0);
    th_advance(&h, 50 * OASIS_NS_PER_MS);
    oasis_tcp_hdr r;
    assert_true(th_pop(&h, &r));
    assert_int_equal(r.window, 0);
    assert_int_equal(r.flags & ECE, 0);
    p.seq = TH_PISN + 1 + sizeof fill;
    p.payload_len = 1; /* a probe of one byte into the zero window */
    inject_ip(&h, &p, OASIS_ECN_CE);
    assert_true(th_pop(&h, &r));
    assert_int_equal(r.ack, TH_PISN + 1 + sizeof fill);
    assert_int_equal(r.flags & ECE, ECE);
    th_app_fini(&a);
    th_fini(&h);
}

/* ---- the sender: ECE -> one reduction per window, CWR (6.1.2) ----------------- */

static uint32_t cwnd_of(oasis_flow *f) { return f->ext->cc.cwnd; }
static uint32_t ssthresh_of(oasis_flow *f) { return f->ext->cc.ssthresh; }

/* Pops every segment the stack sent; returns how many carried data, and
 * checks each new one: ECT(0), CWR only where wanted. */
static int pop_data(tcp_harness *h, uint32_t *next, int *cwr_seen)
{
    int n = 0;
    oasis_tcp_hdr d;
    while (th_pop(h, &d)) {
        if (!d.payload_len)
            continue;
        assert_int_equal(d.seq, *next);
        assert_int_equal(h->last_tos & 3, OASIS_ECN_ECT0);
        if (d.flags & CWR)
            (*cwr_seen)++;
        *next += (uint32_t)d.payload_len;
        n++;
    }
    return n;
}

static void test_ece_reduces_once_per_window(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    th_init(&h, NULL);
    th_app_init(&a);
    uint32_t iss = open_ecn(&h, &a, 0);
    static uint8_t big[60 * MSS];
    assert_int_equal(oasis_tcp_write(a.flow, big, sizeof big, NULL, NULL), 0);
    th_poll(&h);
    uint32_t next = iss + 1;
    int cwr = 0;
    assert_int_equal(pop_data(&h, &next, &cwr), 10); /* IW10 */
    assert_int_equal(cwr, 0);
    uint32_t high = next; /* snd_max: the window of data the ECE is about */
    assert_int_equal(cwnd_of(a.flow), 10 * MSS);

    /* ECE on the ACK of the first two segments: cwnd and ssthresh to
     * FlightSize/2 = 5 MSS, no growth for the ACK itself. */
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, OASIS_TCP_ACK | ECE, TH_PISN + 1, iss + 1 + 2 * MSS);
    th_inject(&h, &ack);
    assert_int_equal(th_ctr(&h)->ecn_reductions, 1);
    assert_int_equal(th_ctr(&h)->delivered_ce, 2);
    assert_int_equal(ssthresh_of(a.flow), 5 * MSS);
    assert_int_equal(cwnd_of(a.flow), 5 * MSS);
    /* 8 MSS still in flight, cwnd 5: nothing goes out */
    assert_int_equal(pop_data(&h, &next, &cwr), 0);

    /* More ECE ACKs of that window: no second reduction, no growth. The
     * first new segment they let out carries CWR, the others do not. */
    for (uint32_t k = 3; k <= 10; k++) {
        ack.ack = iss + 1 + k * MSS;
        th_inject(&h, &ack);
        assert_int_equal(cwnd_of(a.flow), 5 * MSS);
    }
    assert_int_equal(th_ctr(&h)->ecn_reductions, 1);
    assert_int_equal(pop_data(&h, &next, &cwr), 5);
    assert_int_equal(cwr, 1);

    /* The ACK of the window's end (high) with ECE is still that window's. */
    assert_int_equal(high, iss + 1 + 10 * MSS);
    assert_int_equal(th_ctr(&h)->ecn_reductions, 1);

    /* An ACK beyond it without ECE: growth again (congestion avoidance). */
    ack.flags = OASIS_TCP_ACK;
    ack.ack = high + MSS;
    th_inject(&h, &ack);
    assert_int_equal(th_ctr(&h)->ecn_reductions, 1);
    pop_data(&h, &next, &cwr);
    assert_int_equal(cwr, 1);

    /* New CE in the next window (the receiver saw our CWR, then CE): a
     * second reduction, and CWR again on the next new data. */
    ack.flags = OASIS_TCP_ACK | ECE;
    ack.ack = high + 2 * MSS;
    uint32_t flight = next - ack.ack + MSS; /* before this ACK */
    th_inject(&h, &ack);
    assert_int_equal(th_ctr(&h)->ecn_reductions, 2);
    uint32_t want = flight / 2 > 2 * MSS ? flight / 2 : 2 * MSS;
    assert_int_equal(ssthresh_of(a.flow), want);
    ack.flags = OASIS_TCP_ACK;
    for (ack.ack += MSS; oasis_seq_lt(ack.ack, next); ack.ack += MSS)
        th_inject(&h, &ack);
    pop_data(&h, &next, &cwr);
    assert_int_equal(cwr, 2);
    assert_int_equal(th_ctr(&h)->retrans_segs, 0);
    th_app_fini(&a);
    th_fini(&h);
}

/* 6.1.2: at a window of one MSS cwnd can go no lower, and the sender
 * MUST reset the retransmit timer on ECE instead. (The window is set to
 * one MSS by hand: halving takes it there over two windows.) */
static void test_ece_at_one_mss_resets_rto(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    th_init(&h, NULL);
    th_app_init(&a);
    uint32_t iss = open_ecn(&h, &a, 0);
    static uint8_t big[3 * MSS];
    assert_int_equal(oasis_tcp_write(a.flow, big, sizeof big, NULL, NULL), 0);
    th_poll(&h);
    th_clear(&h);
    a.flow->ext->cc.cwnd = MSS;
    uint64_t armed = a.flow->ext->tm.rexmt;
    assert_true(armed != OASIS_TCP_NEVER);
    th_advance(&h, 100 * OASIS_NS_PER_MS); /* below the 200 ms RTO */
    /* a duplicate ACK with ECE: it acknowledges nothing, so only the
     * ECN rule moves the timer */
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, OASIS_TCP_ACK | ECE, TH_PISN + 1, iss + 1);
    th_inject(&h, &ack);
    assert_int_equal(th_ctr(&h)->ecn_reductions, 1);
    assert_int_equal(cwnd_of(a.flow), MSS);
    assert_int_equal(a.flow->ext->tm.rexmt, armed + 100 * OASIS_NS_PER_MS);
    th_app_fini(&a);
    th_fini(&h);
}

/* ECE on a flow that did not negotiate ECN means nothing. */
static void test_ece_ignored_without_ecn(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    th_init(&h, NULL);
    th_app_init(&a);
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, OASIS_TCP_SYN, TH_PISN, 0);
    syn.has_mss = 1;
    syn.mss = MSS;
    uint32_t iss = th_open_passive(&h, &a, PORT, &syn);
    static uint8_t big[20 * MSS];
    assert_int_equal(oasis_tcp_write(a.flow, big, sizeof big, NULL, NULL), 0);
    th_poll(&h);
    th_clear(&h);
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, OASIS_TCP_ACK | ECE, TH_PISN + 1, iss + 1 + 2 * MSS);
    th_inject(&h, &ack);
    assert_int_equal(th_ctr(&h)->ecn_reductions, 0);
    assert_true(cwnd_of(a.flow) > 10 * MSS); /* slow start went on */
    oasis_tcp_hdr d;
    while (th_pop(&h, &d))
        assert_int_equal(d.flags & CWR, 0);
    th_app_fini(&a);
    th_fini(&h);
}

/* Fast recovery is this window's reduction: an ECE during it (and for
 * that window) cuts nothing more; CWR goes on the first new data after
 * the fast retransmit, which itself carries neither CWR nor ECT. */
static void test_ece_during_fast_recovery(void **state)
{
    (void)state;
    tcp_harness h;
    th_app a;
    th_init(&h, NULL);
    th_app_init(&a);
    uint32_t iss = open_ecn(&h, &a, 0);
    static uint8_t big[40 * MSS];
    assert_int_equal(oasis_tcp_write(a.flow, big, sizeof big, NULL, NULL), 0);
    th_poll(&h);
    th_clear(&h);
    /* segment 1 lost: three duplicate ACKs (the third with ECE) */
    oasis_tcp_hdr dup = th_seg(TH_PPORT, PORT, OASIS_TCP_ACK, TH_PISN + 1, iss + 1);
    th_inject(&h, &dup);
    th_inject(&h, &dup);
    dup.flags |= ECE;
    th_inject(&h, &dup);
    assert_int_equal(th_ctr(&h)->fast_retrans, 1);
    assert_int_equal(th_ctr(&h)->ecn_reductions, 0);
    oasis_tcp_hdr d;
    int rexmit = 0, cwr_new = 0;
    while (th_pop(&h, &d)) {
        if (d.seq == iss + 1 && d.payload_len) {
            rexmit++;
            assert_int_equal(h.last_tos & 3, OASIS_ECN_NOT_ECT);
            assert_int_equal(d.flags & CWR, 0);
        } else if (d.payload_len && (d.flags & CWR)) {
            cwr_new++;
        }
    }
    assert_int_equal(rexmit, 1);
    uint32_t cwnd = cwnd_of(a.flow);
    /* 12 MSS out (limited transmit sent 2), cwnd 5 + 3: five more ECE
     * dupacks inflate it past the flight (no cut), one new segment goes */
    for (int i = 0; i < 5; i++) {
        th_inject(&h, &dup);
        assert_int_equal(th_ctr(&h)->ecn_reductions, 0);
    }
    assert_true(cwnd_of(a.flow) >= cwnd);
    th_poll(&h);
    while (th_pop(&h, &d))
        if (d.payload_len && (d.flags & CWR)) {
            cwr_new++;
            assert_int_equal(h.last_tos & 3, OASIS_ECN_ECT0);
        }
    assert_int_equal(cwr_new, 1);
    th_app_fini(&a);
    th_fini(&h);
}

/* The controllers' on_ecn (tcp_cc.h): halve / beta, never raise cwnd,
 * never below one MSS. */
static void test_cc_on_ecn(void **state)
{
    (void)state;
    const oasis_cc_ops *ops[2] = {oasis_cc_get(OASIS_CC_NEWRENO), oasis_cc_get(OASIS_CC_CUBIC)};
    for (int i = 0; i < 2; i++) {
        oasis_cc_state cc;
        ops[i]->init(&cc, MSS, 0);
        cc.cwnd = 20 * MSS;
        ops[i]->on_ecn(&cc, 20 * MSS, 1);
        assert_int_equal(cc.ssthresh, i == 0 ? 10 * MSS : 14 * MSS);
        assert_int_equal(cc.cwnd, cc.ssthresh);
        cc.cwnd = 2 * MSS;
        ops[i]->on_ecn(&cc, 2 * MSS, 2);
        assert_int_equal(cc.ssthresh, 2 * MSS);
        assert_int_equal(cc.cwnd, MSS); /* halved: ssthresh would not cut it */
        ops[i]->on_ecn(&cc, MSS, 3);
        assert_int_equal(cc.cwnd, MSS);
    }
}

/* ---- IP: the ECN field across reassembly (RFC 3168 5.3) ---------------------- */

/* One fragment (payload 16 bytes at off) of datagram id from the peer. */
static void fragment_in(tcp_harness *h, uint16_t id, uint16_t off, int more, uint8_t ecn)
{
    uint8_t f[OASIS_ETH_HLEN + OASIS_IPV4_HLEN + 16 + 30];
    memset(f, 0, sizeof f);
    oasis_eth_emit(f, oasis_stack_mac(h->s), PEER_MAC, OASIS_ETHERTYPE_IPV4);
    oasis_ipv4_hdr ip;
    memset(&ip, 0, sizeof ip);
    ip.tos = ecn;
    ip.total_len = OASIS_IPV4_HLEN + 16;
    ip.id = id;
    ip.mf = (uint8_t)more;
    ip.frag_off = off;
    ip.ttl = 64;
    ip.proto = 253; /* experimental: no handler, so nothing answers but IP */
    ip.src = TH_PEER;
    ip.dst = TH_LOCAL;
    oasis_ipv4_emit(f + OASIS_ETH_HLEN, &ip);
    oasis_stack_input(h->s, f, sizeof f);
}

static void proto_in(oasis_stack *s, const oasis_ip_packet *pkt, void *ud)
{
    (void)s;
    *(uint8_t *)ud = pkt->tclass & 3;
}

/* A CE fragment makes the datagram CE (the mark is not lost), unless
 * another fragment was Not-ECT: then it is dropped; fragments that agree
 * keep their field. Seen in the IP ECN counters at delivery. */
static void test_reassembly_keeps_ce(void **state)
{
    (void)state;
    tcp_harness h;
    th_init(&h, NULL);
    const oasis_ip_counters *c = &oasis_stack_counters(h.s)->ip;
    uint8_t last = 0xff;
    assert_int_equal(oasis_ip_register(h.s, 253, proto_in, NULL, &last), 0);
    fragment_in(&h, 1, 0, 1, OASIS_ECN_ECT0);
    fragment_in(&h, 1, 16, 0, OASIS_ECN_CE);
    assert_int_equal(c->reasm_oks, 1);
    assert_int_equal(c->in_ce_pkts, 1);
    assert_int_equal(last, OASIS_ECN_CE); /* the handler is told too */
    fragment_in(&h, 2, 16, 0, OASIS_ECN_CE); /* in any order */
    fragment_in(&h, 2, 0, 1, OASIS_ECN_ECT1);
    assert_int_equal(c->in_ce_pkts, 2);
    fragment_in(&h, 3, 0, 1, OASIS_ECN_NOT_ECT);
    fragment_in(&h, 3, 16, 0, OASIS_ECN_CE);
    assert_int_equal(c->reasm_oks, 2);
    assert_int_equal(c->reasm_fails, 1);
    assert_int_equal(c->in_ce_pkts, 2);
    fragment_in(&h, 4, 0, 1, OASIS_ECN_ECT0);
    fragment_in(&h, 4, 16, 0, OASIS_ECN_ECT0);
    assert_int_equal(c->in_ect0_pkts, 1);
    assert_int_equal(c->in_ce_pkts, 2);
    assert_int_equal(c->in_delivers, 3);
    th_fini(&h);
}

/* ---- the wire's congestion marking (oasis_impair.ce_mark, ce_queue_frames) --- */

typedef struct wrx {
    uint8_t f[16][128];
    size_t len[16];
    int n;
} wrx;

static void wire_rx(void *ud, const uint8_t *frame, size_t len)
{
    wrx *w = ud;
    assert_true(w->n < 16 && len <= sizeof w->f[0]);
    memcpy(w->f[w->n], frame, len);
    w->len[w->n++] = len;
}

static const uint8_t MAC_A[6] = {0x02, 0, 0, 0, 0, 0xa}, MAC_B[6] = {0x02, 0, 0, 0, 0, 0xb};

/* An IPv4 (or IPv6) frame A -> B with the ECN field ecn and 40 bytes of
 * payload; an ARP frame with v == 0. */
static void wire_send(oasis_link *l, int v, uint8_t ecn)
{
    uint8_t f[OASIS_ETH_HLEN + 40 + 40];
    memset(f, 0, sizeof f);
    oasis_eth_emit(f, MAC_B, MAC_A, v == 4 ? OASIS_ETHERTYPE_IPV4 : v == 6 ? 0x86dd : 0x0806);
    uint8_t *ip = f + OASIS_ETH_HLEN;
    if (v == 4) {
        oasis_ipv4_hdr h;
        memset(&h, 0, sizeof h);
        h.tos = (uint8_t)(0x28 | ecn); /* DSCP 10 */
        h.total_len = OASIS_IPV4_HLEN + 40;
        h.ttl = 64;
        h.proto = 253;
        h.src = OASIS_IPV4(10, 0, 0, 1);
        h.dst = OASIS_IPV4(10, 0, 0, 2);
        oasis_ipv4_emit(ip, &h);
    } else if (v == 6) {
        ip[0] = 0x60 | 0x02;          /* traffic class 0x28 | ecn across bytes 0 and 1 */
        ip[1] = (uint8_t)((0x8 | ecn) << 4);
        ip[5] = 40;
        ip[6] = 253;
        ip[7] = 64;
    }
    assert_int_equal(l->send(l, f, sizeof f), 0);
}

static int v4_ecn(const uint8_t *f) { return f[OASIS_ETH_HLEN + 1] & 3; }

static void test_wire_marks_ect_drops_not_ect(void **state)
{
    (void)state;
    oasis_clock *clk = oasis_clock_new_virtual(TH_START_NS);
    oasis_wire *w;
    assert_int_equal(oasis_wire_create(clk, NULL, &w), 0);
    wrx ra, rb;
    memset(&ra, 0, sizeof ra);
    memset(&rb, 0, sizeof rb);
    oasis_link *a = oasis_wire_attach_endpoint(w, MAC_A, wire_rx, &ra);
    oasis_link *b = oasis_wire_attach_endpoint(w, MAC_B, wire_rx, &rb);
    oasis_impair g;
    oasis_impair_init(&g);
    g.ce_mark = 1; /* every frame is congested */
    assert_int_equal(oasis_wire_impair(w, a, b, &g), 0);
    wire_send(a, 4, OASIS_ECN_ECT0);
    wire_send(a, 4, OASIS_ECN_ECT1);
    wire_send(a, 4, OASIS_ECN_CE);
    wire_send(a, 4, OASIS_ECN_NOT_ECT); /* dropped, as a router would */
    wire_send(a, 6, OASIS_ECN_ECT0);
    wire_send(a, 0, 0);                 /* ARP: never congested */
    oasis_wire_run(w, NULL, NULL, OASIS_NS_PER_SEC);
    assert_int_equal(rb.n, 5);
    for (int i = 0; i < 3; i++) {
        const uint8_t *ip = rb.f[i] + OASIS_ETH_HLEN;
        assert_int_equal(v4_ecn(rb.f[i]), OASIS_ECN_CE);
        assert_int_equal(ip[1] >> 2, 10); /* the DSCP stays */
        oasis_ipv4_hdr h;
        assert_int_equal(oasis_ipv4_parse(ip, rb.len[i] - OASIS_ETH_HLEN, &h), 0); /* checksum */
    }
    const uint8_t *ip6 = rb.f[3] + OASIS_ETH_HLEN;
    assert_int_equal((ip6[1] >> 4) & 3, OASIS_ECN_CE);
    assert_int_equal(((ip6[0] & 15) << 4 | ip6[1] >> 4) >> 2, 10);
    assert_int_equal(rb.f[4][13], 0x06);
    oasis_wire_stats st;
    assert_int_equal(oasis_wire_stats_get(w, a, b, &st), 0);
    assert_int_equal(st.ce_marked, 3);
    assert_int_equal(st.dropped_mark, 1);
    assert_int_equal(st.sent, st.delivered + st.dropped_mark);

    /* Queue threshold: 10 kbit/s, a 112-byte frame takes ~90 ms; frames
     * finding 2 or more ahead of them in the bottleneck are marked. */
    g.ce_mark = 0;
    g.rate_bps = 10000;
    g.ce_queue_frames = 2;
    assert_int_equal(oasis_wire_impair(w, a, b, &g), 0);
    rb.n = 0;
    for (int i = 0; i < 5; i++)
        wire_send(a, 4, OASIS_ECN_ECT0);
    oasis_wire_run(w, NULL, NULL, 10 * OASIS_NS_PER_SEC);
    assert_int_equal(rb.n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(v4_ecn(rb.f[i]), i < 2 ? OASIS_ECN_ECT0 : OASIS_ECN_CE);
    oasis_impair bad = g;
    bad.ce_mark = 1.5;
    assert_int_equal(oasis_wire_impair(w, a, b, &bad), OASIS_EINVAL);
    oasis_wire_destroy(w);
    oasis_clock_free(clk);
}

/* ---- through a congested wire ------------------------------------------------ */

typedef struct bulk {
    oasis_flow *tx, *rx;
    uint64_t total, sent, got;
    int bad, done;
} bulk;

static uint8_t pat(uint64_t i) { return (uint8_t)(i * 7 + (i >> 11)); }

static void bulk_write_cb(oasis_flow *f, int err, void *ud);

static void bulk_pump(bulk *b)
{
    static uint8_t chunk[16384];
    if (b->sent >= b->total)
        return;
    size_t n = b->total - b->sent < sizeof chunk ? (size_t)(b->total - b->sent) : sizeof chunk;
    for (size_t i = 0; i < n; i++)
        chunk[i] = pat(b->sent + i);
    b->sent += n;
    assert_int_equal(oasis_tcp_write(b->tx, chunk, n, bulk_write_cb, b), 0);
}

static void bulk_write_cb(oasis_flow *f, int err, void *ud)
{
    (void)f;
    assert_int_equal(err, 0);
    bulk_pump(ud);
}

static void bulk_read_cb(oasis_flow *f, int err, const uint8_t *d, size_t len, void *ud)
{
    bulk *b = ud;
    if (err) {
        b->done = 1;
        return;
    }
    for (size_t i = 0; i < len; i++)
        if (d[i] != pat(b->got + i))
            b->bad++;
    b->got += len;
    if (b->got == b->total)
        b->done = 1;
    oasis_tcp_read(f, bulk_read_cb, b);
}

static void bulk_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    bulk *b = ud;
    b->rx = f;
    oasis_tcp_read(f, bulk_read_cb, b);
}

static void bulk_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s;
    assert_int_equal(err, 0);
    bulk *b = ud;
    b->tx = f;
    bulk_pump(b);
}

static int bulk_done(void *ud) { return ((bulk *)ud)->done; }

/* A 4 MB transfer A -> B over a 20 Mbit/s bottleneck with a 1000-frame
 * queue (never full) that marks every frame finding 20 or more ahead of
 * it; returns the wire's stats of that direction, the flow's info in *i. */
static oasis_wire_stats congested_bulk(uint8_t ecn, oasis_tcp_counters *ca, oasis_tcp_info *i)
{
    oasis_wire_config wc;
    oasis_wire_config_init(&wc);
    wc.delay_ns = 5 * OASIS_NS_PER_MS;
    oasis_tcp_config t = tcfg_ecn(ecn);
    test_net n;
    test_net_init(&n, &wc, &t);
    oasis_impair imp;
    oasis_impair_init(&imp);
    imp.rate_bps = 20 * 1000 * 1000;
    imp.queue_frames = 1000;
    imp.ce_queue_frames = 20;
    assert_int_equal(oasis_wire_impair(n.wire, n.a->link, n.b->link, &imp), 0);
    bulk b;
    memset(&b, 0, sizeof b);
    b.total = 4u << 20;
    assert_int_equal(oasis_tcp_listen(n.b, 5001, NULL, bulk_accept, &b), 0);
    assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, 5001, NULL, bulk_connected, &b), 0);
    assert_int_equal(oasis_wire_run(n.wire, bulk_done, &b, 120 * OASIS_NS_PER_SEC), 0);
    assert_int_equal(b.got, b.total);
    assert_int_equal(b.bad, 0);
    assert_int_equal(oasis_tcp_get_info(b.tx, i), 0);
    *ca = n.a->ctr.tcp;
    oasis_wire_stats st;
    assert_int_equal(oasis_wire_stats_get(n.wire, n.a->link, n.b->link, &st), 0);
    test_net_fini(&n);
    return st;
}

/* With ECN the queue's signal arrives as marks: the transfer is intact,
 * cwnd came down on ECE (several times), and nothing was lost or resent.
 * Without ECN the same router drops instead, and the sender retransmits. */
static void test_bulk_through_marking_wire(void **state)
{
    (void)state;
    oasis_tcp_counters c;
    oasis_tcp_info i;
    oasis_wire_stats st = congested_bulk(1, &c, &i);
    assert_int_equal(i.ecn, 1);
    assert_true(st.ce_marked > 0);
    assert_int_equal(st.dropped_mark, 0);
    assert_int_equal(st.dropped_queue, 0);
    assert_true(c.ecn_reductions >= 2);
    assert_true(c.delivered_ce > 0);
    assert_int_equal(c.retrans_segs, 0);
    assert_int_equal(c.timeouts, 0);
    print_message("with ECN: %llu CE marks, %llu reductions, %llu retransmitted, cwnd %u\n",
                  (unsigned long long)st.ce_marked, (unsigned long long)c.ecn_reductions,
                  (unsigned long long)c.retrans_segs, i.cwnd);

    st = congested_bulk(2, &c, &i); /* the client does not ask */
    assert_int_equal(i.ecn, 0);
    assert_int_equal(st.ce_marked, 0);
    assert_true(st.dropped_mark > 0);
    assert_true(c.retrans_segs > 0);
    assert_int_equal(c.ecn_reductions, 0);
    print_message("without: %llu dropped instead, %llu retransmitted\n",
                  (unsigned long long)st.dropped_mark, (unsigned long long)c.retrans_segs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_active_ecn1_negotiates),
        cmocka_unit_test(test_active_ecn1_peer_without_ecn),
        cmocka_unit_test(test_active_ecn1_reflected_flags),
        cmocka_unit_test(test_active_ecn2_does_not_ask),
        cmocka_unit_test(test_active_ecn0_does_not_ask),
        cmocka_unit_test(test_syn_retransmission_falls_back),
        cmocka_unit_test(test_passive_ecn2_accepts),
        cmocka_unit_test(test_passive_ecn1_accepts),
        cmocka_unit_test(test_passive_ecn0_declines),
        cmocka_unit_test(test_passive_half_setup_syn_declined),
        cmocka_unit_test(test_passive_dup_syn_without_ecn),
        cmocka_unit_test(test_syn_cookie_without_ecn),
        cmocka_unit_test(test_config_rejects_unknown_ecn),
        cmocka_unit_test(test_ect_only_on_new_data),
        cmocka_unit_test(test_no_ecn_flow_is_not_ect),
        cmocka_unit_test(test_ce_echoed_until_cwr),
        cmocka_unit_test(test_ce_on_window_probe_echoed),
        cmocka_unit_test(test_ece_reduces_once_per_window),
        cmocka_unit_test(test_ece_at_one_mss_resets_rto),
        cmocka_unit_test(test_ece_ignored_without_ecn),
        cmocka_unit_test(test_ece_during_fast_recovery),
        cmocka_unit_test(test_cc_on_ecn),
        cmocka_unit_test(test_reassembly_keeps_ce),
        cmocka_unit_test(test_wire_marks_ect_drops_not_ect),
        cmocka_unit_test(test_bulk_through_marking_wire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
