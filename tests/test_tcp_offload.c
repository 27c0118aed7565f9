/* Issue 13: TCP over links with offloads. Send side: super-segments of
 * whole MSS bounded by the window, counted per piece, their sub-MSS tail
 * held by Nagle like a segment of its own. Receive side: a GRO/TSO
 * segment of many MSS with its checksum partial or verified, counted in
 * MSS units for "ACK every second full-sized segment". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/checksum.h"
#include "core/stack_impl.h"
#include "link/gso.h"
#include "tcp/tcp_flow.h"
#include "tcp_harness.h"

#define PORT 80
#define MSS 1460u /* no timestamps: the whole MSS is payload */

typedef struct fx {
    tcp_harness h;
    th_app a;
    uint32_t iss;  /* ours */
    uint32_t pnxt; /* the peer's next sequence number */
    /* TSO link: super-segments seen (then cut into the harness's capture) */
    int tso;
    size_t supers;
    uint32_t super_payload[64];
    uint16_t super_gso[64];
    int (*plain_send)(oasis_link *, const uint8_t *, size_t);
} fx;

static fx *g_fx;

static int piece_to_harness(void *ud, uint8_t *frame, size_t len)
{
    fx *x = ud;
    return x->plain_send(&x->h.link, frame, len);
}

static int tso_send2(oasis_link *l, const uint8_t *frame, size_t len, const oasis_offload *off)
{
    fx *x = g_fx;
    (void)l;
    if (off->gso_type) {
        assert_true(x->supers < 64);
        x->super_gso[x->supers] = off->gso_size;
        x->super_payload[x->supers++] = (uint32_t)(len - off->hdr_len);
    }
    static uint8_t scratch[OASIS_GSO_SCRATCH];
    assert_true(oasis_gso_segment((uint8_t *)frame, len, off, scratch, sizeof scratch,
                                  piece_to_harness, x, NULL) > 0);
    return 0;
}

static void open_conn(fx *x, int tso)
{
    memset(x, 0, sizeof *x);
    g_fx = x;
    th_init(&x->h, NULL);
    if (tso) {
        x->plain_send = x->h.link.send;
        x->h.link.caps = OASIS_LINK_TSO4 | OASIS_LINK_CSUM_TX;
        x->h.link.send_offload = tso_send2;
    }
    th_app_init(&x->a);
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, OASIS_TCP_SYN, TH_PISN, 0);
    syn.has_mss = 1;
    syn.mss = MSS;
    syn.has_wscale = 1;
    syn.wscale = 7;
    x->iss = th_open_passive(&x->h, &x->a, PORT, &syn);
    x->pnxt = TH_PISN + 1;
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    th_clear(&x->h);
}

static void close_conn(fx *x)
{
    th_app_fini(&x->a);
    th_fini(&x->h);
}

/* ---- send side ---------------------------------------------------------- */

/* On a TSO link the initial window goes as one super-segment of whole MSS,
 * counted as the segments it stands for; the link sees each piece. */
static void test_super_segment_on_tso_link(void **state)
{
    (void)state;
    fx x;
    open_conn(&x, 1);
    uint64_t out0 = th_ctr(&x.h)->out_segs, req0 = x.h.s->ctr.ip.out_requests;
    static uint8_t buf[100000];
    assert_int_equal(oasis_tcp_write(x.a.flow, buf, sizeof buf, NULL, NULL), 0);
    th_poll(&x.h);
    uint32_t cwnd = x.a.flow->ext->cc.cwnd;
    assert_true(cwnd >= 2 * MSS);
    assert_int_equal(x.supers, 1);
    assert_int_equal(x.super_gso[0], MSS);
    assert_int_equal(x.super_payload[0], cwnd - cwnd % MSS);
    uint32_t n = x.super_payload[0] / MSS;
    oasis_tcp_hdr r;
    for (uint32_t i = 0; i < n; i++) {
        assert_true(th_pop(&x.h, &r));
        assert_int_equal(r.seq, x.iss + 1 + i * MSS);
        assert_int_equal(r.payload_len, MSS);
        assert_int_equal(r.flags & OASIS_TCP_PSH, 0); /* more data follows */
    }
    assert_false(th_pop(&x.h, &r));
    assert_int_equal(th_ctr(&x.h)->out_segs - out0, n);
    /* RFC 4293 ipSystemStatsOutRequests counts datagrams: each piece is
     * one (an ID of its own), as many as tcpOutSegs counts */
    assert_int_equal(x.h.s->ctr.ip.out_requests - req0, n);
    assert_int_equal(x.a.flow->segs_out, n + 1); /* and the SYN-ACK */
    close_conn(&x);
}

/* A super-segment's tail shorter than an MSS waits like a small segment
 * would (Nagle, RFC 9293 3.7.4): data is in flight and no push. */
static void test_nagle_holds_super_tail(void **state)
{
    (void)state;
    fx x;
    open_conn(&x, 0);
    static uint8_t buf[5 * MSS + 100];
    assert_int_equal(oasis_tcp_write(x.a.flow, buf, 1, NULL, NULL), 0);
    th_poll(&x.h);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x.h, &r));
    assert_int_equal(r.payload_len, 1);
    assert_int_equal(oasis_tcp_write(x.a.flow, buf, sizeof buf - 1, NULL, NULL), 0);
    th_poll(&x.h);
    int full = 0;
    while (th_pop(&x.h, &r)) {
        assert_int_equal(r.payload_len, MSS); /* never the 99-byte tail */
        full++;
    }
    assert_int_equal(full, 5);
    /* The ACK of everything in flight releases it. */
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, OASIS_TCP_ACK, x.pnxt, x.iss + 2 + 5 * MSS);
    th_inject(&x.h, &ack);
    th_poll(&x.h);
    assert_true(th_pop(&x.h, &r));
    assert_int_equal(r.payload_len, 99);
    close_conn(&x);
}

/* ---- receive side --------------------------------------------------------- */

/* A frame from the peer with k bytes of payload: IPv4 TCP, no options, its
 * checksum partial (the pseudo-header sum) unless full. */
static uint8_t *peer_frame(fx *x, uint32_t seq, size_t k, int full, size_t *len)
{
    *len = 14 + 20 + 20 + k;
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
    oasis_put16(tcp, TH_PPORT);
    oasis_put16(tcp + 2, PORT);
    oasis_put32(tcp + 4, seq);
    oasis_put32(tcp + 8, x->iss + 1);
    tcp[12] = 5 << 4;
    tcp[13] = OASIS_TCP_ACK;
    oasis_put16(tcp + 14, 65535);
    for (size_t i = 0; i < k; i++)
        tcp[20 + i] = (uint8_t)(seq + i);
    uint64_t sum = oasis_csum_pseudo(TH_PEER, TH_LOCAL, 6, (uint16_t)(20 + k));
    if (full) {
        c = oasis_csum_fold(oasis_csum_add(sum, tcp, 20 + k));
    } else {
        c = (uint16_t)~oasis_csum_fold(sum);
    }
    memcpy(tcp + 16, &c, 2);
    return f;
}

static void input(fx *x, uint32_t seq, size_t k, int full, const oasis_offload *off)
{
    size_t len;
    uint8_t *f = peer_frame(x, seq, k, full, &len);
    oasis_stack_input_offload(x->h.s, f, len, off);
    free(f);
    th_poll(&x->h);
}

/* A coalesced segment of 10 MSS with a partial checksum is taken (not
 * summed), counted as 10 segments, acknowledged at once; afterwards ACKs
 * still go every second MSS-sized segment, not every second 10-MSS one. */
static void test_gro_segment_counts_in_mss(void **state)
{
    (void)state;
    fx x;
    open_conn(&x, 0);
    oasis_offload gro = {OASIS_OFFLOAD_CSUM_PARTIAL, OASIS_GSO_TCPV4, MSS, 54, 34, 16};
    uint64_t in0 = th_ctr(&x.h)->in_segs;
    input(&x, x.pnxt, 10 * MSS, 0, &gro);
    x.pnxt += 10 * MSS;
    assert_int_equal(x.a.rx_len, 10 * MSS);
    assert_int_equal(th_ctr(&x.h)->in_csum_errors, 0);
    assert_int_equal(th_ctr(&x.h)->in_segs - in0, 10);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x.h, &r));
    assert_int_equal(r.ack, x.pnxt);
    assert_false(th_pop(&x.h, &r));
    /* One full-sized segment: the ACK is delayed... */
    input(&x, x.pnxt, MSS, 1, NULL);
    x.pnxt += MSS;
    assert_false(th_pop(&x.h, &r));
    /* ...and the second one draws it at once. */
    input(&x, x.pnxt, MSS, 1, NULL);
    x.pnxt += MSS;
    assert_true(th_pop(&x.h, &r));
    assert_int_equal(r.ack, x.pnxt);
    assert_int_equal(x.a.rx_len, 12 * MSS);
    close_conn(&x);
}

/* Only the link's word skips the sum: DATA_VALID or a partial checksum
 * whose start is the TCP header. The same wrong checksum on a plain frame,
 * or a partial one that points elsewhere, is an error. */
static void test_rx_checksum_trust(void **state)
{
    (void)state;
    fx x;
    open_conn(&x, 0);
    oasis_offload valid = {OASIS_OFFLOAD_CSUM_VALID, 0, 0, 0, 0, 0};
    oasis_offload elsewhere = {OASIS_OFFLOAD_CSUM_PARTIAL, 0, 0, 0, 14, 10};
    input(&x, x.pnxt, 100, 0, NULL); /* plain: the partial sum is wrong */
    assert_int_equal(th_ctr(&x.h)->in_csum_errors, 1);
    input(&x, x.pnxt, 100, 0, &elsewhere);
    assert_int_equal(th_ctr(&x.h)->in_csum_errors, 2);
    assert_int_equal(x.a.rx_len, 0);
    input(&x, x.pnxt, 100, 0, &valid);
    assert_int_equal(th_ctr(&x.h)->in_csum_errors, 2);
    assert_int_equal(x.a.rx_len, 100);
    close_conn(&x);
}

/* A long in-order segment, the kind whose checksum is summed while its
 * text is copied into the receive ring (tcp_input.c), after the ring has
 * storage: with a checksum the link vouched for (valid, or partial from a
 * trusted sender) it is taken without a sum whatever its field holds;
 * the same bytes from a plain link are a checksum error and nothing of
 * them is taken. */
static void test_rx_checksum_trust_long(void **state)
{
    (void)state;
    fx x;
    open_conn(&x, 0);
    oasis_offload valid = {OASIS_OFFLOAD_CSUM_VALID, 0, 0, 0, 0, 0};
    oasis_offload partial = {OASIS_OFFLOAD_CSUM_PARTIAL, 0, 0, 0, 34, 16};
    input(&x, x.pnxt, 1000, 1, NULL); /* intact: the ring gets storage */
    x.pnxt += 1000;
    assert_int_equal(x.a.rx_len, 1000);
    input(&x, x.pnxt, 1000, 0, NULL); /* plain: the partial sum is wrong */
    assert_int_equal(th_ctr(&x.h)->in_csum_errors, 1);
    assert_int_equal(x.a.rx_len, 1000);
    assert_int_equal(x.a.flow->rcv_nxt, x.pnxt);
    input(&x, x.pnxt, 1000, 0, &partial);
    x.pnxt += 1000;
    input(&x, x.pnxt, 1000, 0, &valid);
    x.pnxt += 1000;
    assert_int_equal(th_ctr(&x.h)->in_csum_errors, 1);
    assert_int_equal(x.a.rx_len, 3000);
    assert_int_equal(x.a.flow->rcv_nxt, x.pnxt);
    close_conn(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_super_segment_on_tso_link),
        cmocka_unit_test(test_nagle_holds_super_tail),
        cmocka_unit_test(test_gro_segment_counts_in_mss),
        cmocka_unit_test(test_rx_checksum_trust),
        cmocka_unit_test(test_rx_checksum_trust_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
