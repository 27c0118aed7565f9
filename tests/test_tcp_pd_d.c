/* Packetdrill scripts ported to the one-stack harness: Linux's
 * tools/testing/selftests/net/packetdrill scripts tcp_basic_*,
 * tcp_blocking_* (the Linux copies), tcp_dsack_mult, tcp_ecn_* and the
 * classic-ECN half of tcp_accecn_*. docs/packetdrill.md has the verdict
 * for every one of them.
 *
 * Conventions as in test_tcp_pd_c.c: sequence numbers are the scripts'
 * relative ones (pd_os() ours, pd_ps() the peer's); no TSO, so a script's
 * "1:2001(2000)" is the run of MSS-sized segments covering it; PSH is not
 * compared; script times move the virtual clock; a blocking call is the
 * asynchronous request it stands for.
 * As packetdrill's runners, every test runs over IPv4 (cmocka group
 * "ipv4") and again over IPv6 (group "ipv6": th_init_run, a 1520-byte
 * link so that MSS 1460 holds).
 *
 * AccECN (RFC 9768) puts its ACE field in AE (the old NS bit, the low bit
 * of the TCP header's byte 12), CWR and ECE. Oasis implements RFC 3168
 * only: to it AE is a reserved bit, ignored on receipt and zero when sent
 * (RFC 9293 3.1), so an AccECN SYN (AE, CWR, ECE all set) is an ECN-setup
 * SYN and is answered with RFC 3168's ECN-setup SYN-ACK (ECE alone), which
 * RFC 9768 3.1.2 (Table 2) has the AccECN client take as "classic ECN
 * feedback". The ports below check that answer and what follows it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/checksum.h"
#include "tcp/tcp.h"
#include "tcp/tcp_flow.h"
#include "pd_fixture.h"

#define PORT 8080
#define A OASIS_TCP_ACK
#define S OASIS_TCP_SYN
#define R OASIS_TCP_RST
#define F OASIS_TCP_FIN
#define P OASIS_TCP_PSH
#define E OASIS_TCP_ECE
#define W OASIS_TCP_CWR
#define MS (OASIS_NS_PER_SEC / 1000)
#define AE PD_AE

typedef pd_fx fx;

static uint8_t zeros[100000];
static int ipv6; /* the family of the group running: 1 IPv6 */

/* ecn: cfg.tcp.ecn (Linux's net.ipv4.tcp_ecn for 0..2). */
static void fx_init(fx *x, uint8_t ecn)
{
    oasis_stack_config sc;
    oasis_stack_config_init(&sc);
    sc.tcp.ecn = ecn;
    pd_fx_init_run(x, &sc.tcp, ipv6);
}

/* "< flags pseq:pseq+len(len) ack oack" from the peer, window win. */
static void in(fx *x, unsigned flags, uint32_t pseq, size_t len, uint32_t oack, uint16_t win,
               uint8_t ip_ecn)
{
    oasis_tcp_hdr s = th_seg(x->rport, x->lport, 0, pd_ps(pseq), pd_os(x, oack));
    s.window = win;
    s.payload = zeros;
    s.payload_len = len;
    pd_inject(x, s, flags, ip_ecn);
}

/* Pops the next segment we sent (polling first); checks its reserved
 * bits (AE among them) are zero, as RFC 9293 3.1 has them generated. */
static oasis_tcp_hdr pop(fx *x)
{
    oasis_tcp_hdr r;
    th_poll(&x->h);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(x->h.last[12] & 0x0f, 0);
    return r;
}

/* "> flags seq:seq+len(len) ack pack" (PSH not compared); returns the
 * IP ECN field it went with. */
static uint8_t out(fx *x, uint8_t flags, uint32_t seq, size_t len, uint32_t pack)
{
    oasis_tcp_hdr r = pop(x);
    assert_int_equal(r.flags & ~P, flags);
    assert_int_equal(r.seq, pd_os(x, seq));
    assert_int_equal(r.ack, pd_ps(pack));
    assert_int_equal(r.payload_len, len);
    return x->h.last_tos & 3;
}


/* listen (sndbuf 0: tuned); "< syn_flags 0:0(0) <mss, sackOK, wscale>"
 * in an IP datagram with ip_ecn; returns the SYN-ACK (checked: SYN, ACK,
 * ack 1, Not-ECT, reserved bits zero). The handshake's ACK is the
 * caller's (finish_passive). */
static oasis_tcp_hdr syn_in(fx *x, unsigned syn_flags, uint8_t ip_ecn, uint16_t mss, int sack,
                            int wscale, uint16_t win, uint32_t sndbuf)
{
    oasis_listen_opts lo;
    memset(&lo, 0, sizeof lo);
    lo.bufs.sndbuf = sndbuf;
    x->lport = PORT;
    x->rport = TH_PPORT;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, &lo, th_accept_cb, &x->a), 0);
    oasis_tcp_hdr syn = pd_syn_opts(th_seg(TH_PPORT, PORT, 0, TH_PISN, 0), mss, sack, wscale);
    syn.window = win;
    pd_inject(x, syn, syn_flags, ip_ecn);
    oasis_tcp_hdr sa = pop(x);
    assert_int_equal(sa.flags & (S | A), S | A);
    assert_int_equal(sa.ack, pd_ps(1));
    assert_int_equal(x->h.last_tos & 3, OASIS_ECN_NOT_ECT); /* RFC 3168 6.1.1 */
    x->iss = sa.seq;
    return sa;
}

/* "< . 1:1(0) ack 1 win" ; accept returns. */
static void finish_passive(fx *x, unsigned flags, uint16_t win, uint8_t ip_ecn)
{
    assert_int_equal(x->a.accepted, 0);
    in(x, flags, 1, 0, 1, win, ip_ecn);
    th_poll(&x->h);
    assert_int_equal(x->a.accepted, 1);
}

/* connect; "> S 0:0(0) <mss 1460, sackOK, TS, wscale>" with syn_flags;
 * then "< synack_flags 0:0(0) ack 1 <mss, sackOK, wscale>" (no
 * timestamps) 50 ms later; connect returns. */
static void connect_open(fx *x, uint8_t syn_flags, unsigned synack_flags, uint8_t ip_ecn,
                         uint16_t mss, int wscale, uint16_t win)
{
    pd_connect_to(x, PORT);
    oasis_tcp_hdr syn = pop(x);
    assert_int_equal(syn.flags, syn_flags);
    assert_int_equal(x->h.last_tos & 3, OASIS_ECN_NOT_ECT);
    assert_true(syn.has_mss);
    assert_int_equal(syn.mss, 1460);
    assert_true(syn.sack_permitted);
    assert_true(syn.has_ts);
    assert_true(syn.has_wscale);
    x->iss = syn.seq;
    x->lport = syn.src_port;
    x->rport = PORT;
    pd_adv(x, 50);
    oasis_tcp_hdr sa = pd_syn_opts(th_seg(PORT, x->lport, 0, TH_PISN, pd_os(x, 1)), mss, 1, wscale);
    sa.window = win;
    pd_inject(x, sa, synack_flags, ip_ecn);
    th_poll(&x->h);
    assert_int_equal(x->a.connected, 1);
    assert_int_equal(x->a.connect_err, 0);
}

/* "< flags seq:seq+len(len) ack ackn win <opts>": a segment from the peer
 * built byte by byte, for options Oasis has no field for (olen a
 * multiple of 4). */
static void raw_in(fx *x, uint8_t flags, uint32_t seq, uint32_t ackn, uint16_t win,
                   const uint8_t *opts, size_t olen, size_t len)
{
    uint8_t buf[OASIS_TCP_HLEN + 40 + 64];
    size_t hl = OASIS_TCP_HLEN + olen, n = hl + len;
    assert_true(olen % 4 == 0 && olen <= 40 && len <= 64);
    memset(buf, 0, n);
    const uint32_t w[] = {(uint32_t)x->rport << 16 | x->lport, seq, ackn,
                          (uint32_t)(hl / 4) << 28 | (uint32_t)flags << 16 | win};
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 4; b++)
            buf[4 * i + b] = (uint8_t)(w[i] >> (24 - 8 * b));
    memcpy(buf + OASIS_TCP_HLEN, opts, olen);
    uint16_t c = oasis_csum_fold(oasis_csum_add(th_pseudo(&x->h, n), buf, n));
    memcpy(buf + 16, &c, 2);
    th_send(&x->h, buf, n, 0);
}

/* ==== tcp_basic_* ========================================================== */

/* tcp_basic_client.pkt: a minimal active open, first to close. The SYN
 * offers MSS 1460, SACK, timestamps and a window scale; the SYN-ACK has
 * no timestamps, so our ACK has none (RFC 7323 3.2); 1000 bytes out and
 * acked; close sends FIN at once (nothing unsent, RFC 9293 3.10.4), the
 * peer's FIN,ACK is acknowledged and the flow goes to TIME-WAIT, which
 * acknowledges a repeated FIN again (RFC 9293 3.10.7.4). */
static void test_basic_client(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, 2);
    connect_open(&x, S, S | A, 0, 1460, 7, 65535);
    oasis_tcp_hdr r = pop(&x);
    assert_int_equal(r.flags, A);
    assert_int_equal(r.ack, pd_ps(1));
    assert_false(r.has_ts);
    assert_int_equal(oasis_tcp_write(x.a.flow, zeros, 1000, NULL, NULL), 0);
    out(&x, A, 1, 1000, 1);
    pd_none(&x);
    in(&x, A, 1, 0, 1001, 257, 0);
    assert_int_equal(pd_info(&x).snd_wnd, 257u << 7);
    assert_int_equal(oasis_tcp_close(x.a.flow, th_close_cb, &x.a), 0);
    out(&x, F | A, 1001, 0, 1);
    in(&x, F | A, 1, 0, 1002, 257, 0);
    out(&x, A, 1002, 0, 2);
    pd_none(&x);
    assert_int_equal(x.a.closed, 1);
    assert_int_equal(x.a.close_err, 0);
    in(&x, F | A, 1, 0, 1002, 257, 0); /* TIME-WAIT acknowledges it again */
    out(&x, A, 1002, 0, 2);
    pd_none(&x);
    pd_fx_fini(&x);
}

/* tcp_basic_server.pkt: a minimal passive open, the peer first to close.
 * The SYN-ACK offers MSS 1460, SACK and a window scale (no timestamps:
 * the SYN had none); the listener is closed once the connection is
 * accepted and the connection goes on; 1000 bytes in are acknowledged
 * and read; the peer's FIN is acknowledged; our close then sends FIN,
 * and its ACK ends the connection. Linux ACKs the data at once (quick-ACK
 * at a connection's start) and the FIN after its 40 ms delayed ACK;
 * Oasis delays the ACK of the lone data segment by its delayed-ACK time,
 * 40 ms (RFC 5681 4.2: SHOULD delay, under 500 ms, at least every second
 * full-sized segment), and ACKs the FIN at once. */
static void test_basic_server(void **state)
{
    (void)state;
    fx x;
    oasis_tcp_hdr r;
    fx_init(&x, 2);
    oasis_tcp_hdr sa = syn_in(&x, S, 0, 1000, 1, 8, 65535, 0);
    assert_int_equal(sa.flags, S | A);
    assert_int_equal(sa.mss, 1460);
    assert_true(sa.sack_permitted);
    assert_true(sa.has_wscale);
    assert_false(sa.has_ts);
    finish_passive(&x, A, 257, 0);
    assert_int_equal(oasis_tcp_unlisten(x.h.s, PORT), 0); /* close(3) */
    in(&x, P | A, 1, 1000, 1, 257, 0);
    assert_int_equal(pd_wait_seg(&x, 500, &r), 40); /* delayed ACK (Linux: at once) */
    assert_int_equal(r.flags, A);
    assert_int_equal(r.ack, pd_ps(1001));
    assert_int_equal(oasis_tcp_read(x.a.flow, th_read_cb, &x.a), 0);
    th_poll(&x.h);
    assert_int_equal(x.a.rx_len, 1000);
    in(&x, F | A, 1001, 0, 1, 257, 0);
    assert_int_equal(pd_wait_seg(&x, 500, &r), 0); /* at once (Linux: 40 ms later) */
    assert_int_equal(r.flags, A);
    assert_int_equal(r.seq, pd_os(&x, 1));
    assert_int_equal(r.ack, pd_ps(1002));
    assert_int_equal(pd_info(&x).state, OASIS_TCP_CLOSE_WAIT);
    assert_int_equal(oasis_tcp_close(x.a.flow, th_close_cb, &x.a), 0);
    out(&x, F | A, 1, 0, 1002);
    in(&x, A, 1002, 0, 2, 257, 0);
    th_poll(&x.h);
    assert_int_equal(x.a.closed, 1);
    assert_int_equal(x.a.close_err, 0);
    pd_none(&x);
    pd_fx_fini(&x);
}

/* ==== tcp_blocking_* (Linux copies) ======================================== */

/* tcp_blocking_blocking-accept.pkt (Linux's copy; google's blocking-accept
 * is test_tcp_pd_c's): accept issued before the SYN blocks until the
 * handshake's ACK; the SYN-ACK to a SYN with MSS 1000 and window scale 7
 * only offers MSS 1460 and a scale; a 2000-byte write goes at once, as
 * two segments of the peer's MSS (one TSO burst on Linux). */
static void test_linux_blocking_accept(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, 2);
    pd_adv(&x, 100);
    oasis_tcp_hdr sa = syn_in(&x, S, 0, 1000, 0, 7, 32792, 0);
    assert_int_equal(sa.flags, S | A);
    assert_int_equal(sa.mss, 1460);
    assert_true(sa.has_wscale);
    assert_false(sa.sack_permitted);
    assert_false(sa.has_ts);
    pd_adv(&x, 100);
    th_poll(&x.h);
    finish_passive(&x, A, 257, 0);
    pd_adv(&x, 100);
    assert_int_equal(oasis_tcp_write(x.a.flow, zeros, 2000, NULL, NULL), 0);
    out(&x, A, 1, 1000, 1);
    out(&x, A, 1001, 1000, 1);
    pd_none(&x);
    pd_fx_fini(&x);
}

/* Pops what went out since `from` (in order); returns where it ends. */
static uint32_t sent_to(fx *x, uint32_t from)
{
    oasis_tcp_hdr r;
    th_poll(&x->h);
    while (th_pop(&x->h, &r)) {
        assert_int_equal(r.seq, pd_os(x, from));
        from += (uint32_t)r.payload_len;
    }
    return from;
}

/* tcp_blocking_blocking-write.pkt: SO_SNDBUF 21000, which Linux doubles
 * to 42000; a write of 61000 blocks; ACKs free room and the write returns
 * at the ACK after which the rest fits. Oasis's send buffer is the
 * doubled figure given directly (the listener's bufs.sndbuf, as
 * oasis_tcp_set_bufsizes wants the receive size too: bytes of data,
 * no per-segment overhead as in Linux's sk_wmem accounting, which is why
 * Linux needs the ACK of 36001 where 35001 does not do). The write takes
 * 42000 bytes at once and is pending with 19000; the ACK of 10001 leaves
 * 9000 pending (no completion); the next ACK, of everything sent (Oasis
 * grew cwnd by 2 SMSS per ACK, RFC 3465 2.2, so 22001 where Linux had
 * sent 30001) makes room for the rest and the write completes. */
static void test_blocking_write(void **state)
{
    (void)state;
    fx x;
    oasis_tcp_sndbuf b;
    fx_init(&x, 2);
    pd_adv(&x, 100);
    syn_in(&x, S, 0, 1000, 0, 0, 50000, 42000);
    pd_adv(&x, 100);
    finish_passive(&x, A, 50000, 0);
    assert_int_equal(oasis_tcp_get_sndbuf(x.a.flow, &b), 0);
    assert_int_equal(b.size, 42000);
    assert_int_equal(oasis_tcp_write(x.a.flow, zeros, 61000, th_write_cb, &x.a), 0);
    th_poll(&x.h);
    assert_int_equal(oasis_tcp_get_sndbuf(x.a.flow, &b), 0);
    assert_int_equal(b.pending, 19000);
    assert_int_equal(x.a.writes_done, 0); /* blocks */
    uint32_t next = sent_to(&x, 1);
    assert_int_equal(next, 10001);
    pd_adv(&x, 100);
    in(&x, A, 1, 0, 10001, 50000, 0);
    th_poll(&x.h);
    assert_int_equal(oasis_tcp_get_sndbuf(x.a.flow, &b), 0);
    assert_int_equal(b.pending, 9000);
    assert_int_equal(x.a.writes_done, 0); /* still blocks */
    next = sent_to(&x, next);
    assert_true(next > 10001);
    pd_adv(&x, 100);
    in(&x, A, 1, 0, next, 50000, 0);
    th_poll(&x.h);
    assert_int_equal(x.a.writes_done, 1); /* woken */
    assert_int_equal(x.a.write_err, 0);
    pd_fx_fini(&x);
}

/* ==== tcp_dsack_mult ======================================================= */

/* Checks an ACK of pack with exactly the n SACK blocks in bl (pairs of
 * the peer's relative numbers), first block first. */
static void ack_sack(fx *x, uint32_t pack, const uint32_t *bl, int n)
{
    oasis_tcp_hdr r = pop(x);
    assert_int_equal(r.flags, A);
    assert_int_equal(r.seq, pd_os(x, 1));
    assert_int_equal(r.ack, pd_ps(pack));
    assert_int_equal(r.sack_count, n);
    for (int i = 0; i < n; i++) {
        assert_int_equal(r.sack[i].left, pd_ps(bl[2 * i]));
        assert_int_equal(r.sack[i].right, pd_ps(bl[2 * i + 1]));
    }
}

/* tcp_dsack_mult.pkt: SACK blocks newest first as islands form and merge
 * (RFC 2018 4), each out-of-order segment acknowledged at once (RFC 5681
 * 4.2); then a segment 1:6001 filling the hole and repeating 1001:3001
 * and 4001:5001: the ACK of 6001 carries a D-SACK of the first repeated
 * block, 1001:3001, then the island above (RFC 2883 4: the first block
 * is the duplicate; 4.1.2 reports one); 6001:8001 repeats 7001:8001:
 * D-SACK of it with the ACK of 8001; 1:1001 again: D-SACK 1:1001 below
 * the cumulative ACK (RFC 2883 4.1.1). */
static void test_dsack_mult(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, 2);
    syn_in(&x, S, 0, 1000, 1, 7, 32792, 0);
    pd_adv(&x, 100);
    finish_passive(&x, A, 1024, 0);
    x.a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x.a.flow, th_read_cb, &x.a), 0);
    in(&x, P | A, 1001, 1000, 1, 1024, 0);
    ack_sack(&x, 1, (const uint32_t[]){1001, 2001}, 1);
    in(&x, P | A, 2001, 1000, 1, 1024, 0);
    ack_sack(&x, 1, (const uint32_t[]){1001, 3001}, 1);
    in(&x, P | A, 4001, 1000, 1, 1024, 0);
    ack_sack(&x, 1, (const uint32_t[]){4001, 5001, 1001, 3001}, 2);
    in(&x, P | A, 7001, 1000, 1, 1024, 0);
    ack_sack(&x, 1, (const uint32_t[]){7001, 8001, 4001, 5001, 1001, 3001}, 3);
    in(&x, P | A, 1, 6000, 1, 1024, 0);
    ack_sack(&x, 6001, (const uint32_t[]){1001, 3001, 7001, 8001}, 2);
    in(&x, P | A, 6001, 2000, 1, 1024, 0);
    ack_sack(&x, 8001, (const uint32_t[]){7001, 8001}, 1);
    in(&x, P | A, 1, 1000, 1, 1024, 0);
    ack_sack(&x, 8001, (const uint32_t[]){1, 1001}, 1);
    pd_none(&x);
    assert_int_equal(x.a.rx_len, 8000);
    pd_fx_fini(&x);
}

/* ==== tcp_fastopen_server_basic-non-tfo-listener ======================== */

/* tcp_fastopen_server_basic-non-tfo-listener.pkt: a listener without
 * TCP Fast Open gets a SYN with 10 bytes and a Fast Open cookie (option
 * 34, RFC 7413). Oasis has no Fast Open: the option is ignored (RFC 9293
 * MUST-6), the SYN's text is not acknowledged (SYN-ACK ack 1, no Fast
 * Open option, so the client sends the data again) and no window scale
 * or timestamps go back for a SYN without them (RFC 7323 2.2, 3.2); accept waits for the handshake's ACK, which carries 30 bytes
 * (the 10 again and 20 more), and the read returns those 30. */
static void test_fastopen_server_basic_non_tfo_listener(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, 2);
    x.lport = PORT;
    x.rport = TH_PPORT;
    assert_int_equal(oasis_tcp_listen(x.h.s, PORT, NULL, th_accept_cb, &x.a), 0);
    static const uint8_t fo[16] = {2, 4, 0x05, 0xb4, 4, 2, 34, 10, 0xc1, 0xc2, 0xc3, 0xc4,
                                   0xc5, 0xc6, 0xc7, 0xc8};
    raw_in(&x, S, pd_ps(0), 0, 32792, fo, sizeof fo, 10);
    oasis_tcp_hdr sa = pop(&x);
    assert_int_equal(sa.flags, S | A);
    assert_int_equal(sa.ack, pd_ps(1));
    assert_int_equal(sa.mss, 1460);
    assert_true(sa.sack_permitted);
    assert_false(sa.has_wscale);
    assert_false(sa.has_ts);
    assert_int_equal(x.h.last[12] >> 4, 7); /* MSS, SACK-permitted, padding: no option 34 */
    x.iss = sa.seq;
    th_poll(&x.h);
    assert_int_equal(x.a.accepted, 0); /* accept: EAGAIN */
    in(&x, A, 1, 30, 1, 5840, 0);
    th_poll(&x.h);
    assert_int_equal(x.a.accepted, 1);
    assert_int_equal(oasis_tcp_read(x.a.flow, th_read_cb, &x.a), 0);
    th_poll(&x.h);
    assert_int_equal(x.a.rx_len, 30);
    pd_fx_fini(&x);
}

/* ==== tcp_ecn_* ============================================================ */

/* tcp_ecn_ecn-uses-ect0.pkt: with ECN asked for (cfg.tcp.ecn 1, the
 * script's tcp_ecn=1) the SYN has ECE and CWR, the SYN-ACK ECE; the
 * handshake's ACK is Not-ECT and data goes out ECT(0), not ECT(1)
 * (RFC 3168 6.1.1, 5: ECT(0) or ECT(1); RFC 8311 makes ECT(1) L4S's). */
static void test_ecn_uses_ect0(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, 1);
    connect_open(&x, S | E | W, S | E | A, 0, 1000, 6, 32767);
    assert_int_equal(out(&x, A, 1, 0, 1), OASIS_ECN_NOT_ECT);
    assert_int_equal(pd_info(&x).ecn, 1);
    pd_adv(&x, 2);
    assert_int_equal(oasis_tcp_write(x.a.flow, zeros, 1000, NULL, NULL), 0);
    assert_int_equal(out(&x, A, 1, 1000, 1), OASIS_ECN_ECT0);
    pd_fx_fini(&x);
}

/* ==== tcp_accecn_*: what a classic-ECN host does with an AccECN peer ===== */

/* An ECN-setup exchange as the server: SYN with syn_flags (AE, CWR, ECE:
 * AccECN's request; CWR, ECE: RFC 3168's) in an IP datagram with
 * syn_ecn. The SYN-ACK is RFC 3168's ECN-setup SYN-ACK, ECE alone: no
 * CWR, no AE (a reserved bit to Oasis, zero when sent). The peer's ACK
 * (ack_flags; an AccECN client that fell back sends a plain ACK) opens
 * the flow with ECN; 1000 bytes go out ECT(0) with no ECE, CWR or AE. */
static void classic_server(uint8_t ecn, unsigned syn_flags, uint8_t syn_ecn, unsigned ack_flags,
                           uint8_t ack_ecn)
{
    fx x;
    fx_init(&x, ecn);
    oasis_tcp_hdr sa = syn_in(&x, syn_flags, syn_ecn, 1050, 1, 8, 32792, 0);
    assert_int_equal(sa.flags, S | A | E);
    pd_adv(&x, 50);
    finish_passive(&x, ack_flags, 320, ack_ecn);
    assert_int_equal(pd_info(&x).ecn, 1);
    pd_adv(&x, 10);
    assert_int_equal(oasis_tcp_write(x.a.flow, zeros, 1000, NULL, NULL), 0);
    assert_int_equal(out(&x, A, 1, 1000, 1), OASIS_ECN_ECT0);
    pd_none(&x);
    pd_fx_fini(&x);
}

/* tcp_accecn_accecn_to_rfc3168.pkt: an AccECN SYN (AE, CWR, ECE) to a
 * host with RFC 3168 ECN: answered with ECE alone, the answer RFC 9768
 * 3.1.2 Table 2 has the client take as classic ECN; data ECT(0). Both
 * of Oasis's accepting settings (1, and 2, the default) answer so. */
static void test_accecn_accecn_to_rfc3168(void **state)
{
    (void)state;
    classic_server(1, S | AE | W | E, OASIS_ECN_NOT_ECT, A, OASIS_ECN_NOT_ECT);
    classic_server(2, S | AE | W | E, OASIS_ECN_NOT_ECT, A, OASIS_ECN_NOT_ECT);
}

/* tcp_accecn_rfc3168_to_fallback.pkt: an RFC 3168 SYN (CWR, ECE) to a
 * host that would offer AccECN: RFC 3168's exchange, data ECT(0). For
 * Oasis the same as the next. */
static void test_accecn_rfc3168_to_fallback(void **state)
{
    (void)state;
    classic_server(2, S | W | E, OASIS_ECN_NOT_ECT, A, OASIS_ECN_NOT_ECT);
}

/* tcp_accecn_rfc3168_to_rfc3168.pkt: RFC 3168 on both sides. */
static void test_accecn_rfc3168_to_rfc3168(void **state)
{
    (void)state;
    classic_server(1, S | W | E, OASIS_ECN_NOT_ECT, A, OASIS_ECN_NOT_ECT);
}

/* tcp_accecn_syn_ce.pkt, _syn_ect0.pkt, _syn_ect1.pkt: the AccECN SYN
 * arrives CE, ECT(0) or ECT(1) marked (RFC 8311 4.3 lets an experiment
 * send an ECN-capable SYN). An AccECN server reflects the codepoint in
 * its SYN-ACK's ACE field (RFC 9768 3.1.1, n/a here); RFC 3168 has no
 * feedback for it, and the exchange is RFC 3168's whatever the mark: the
 * SYN-ACK ECE alone and Not-ECT (6.1.1), no ECE held for the CE (the echo
 * is for data, 6.1.3), data ECT(0). */
static void test_accecn_syn_ce(void **state)
{
    (void)state;
    classic_server(2, S | AE | W | E, OASIS_ECN_CE, A, OASIS_ECN_NOT_ECT);
}

static void test_accecn_syn_ect0(void **state)
{
    (void)state;
    classic_server(2, S | AE | W | E, OASIS_ECN_ECT0, A, OASIS_ECN_NOT_ECT);
}

static void test_accecn_syn_ect1(void **state)
{
    (void)state;
    classic_server(2, S | AE | W | E, OASIS_ECN_ECT1, A, OASIS_ECN_NOT_ECT);
}

/* tcp_accecn_serverside_only.pkt's opening as a classic server meets it:
 * after our ECE-only SYN-ACK, a client that (wrongly) stayed in AccECN
 * mode sends its ACK ECT(0) with CWR set (ACE = 2). To RFC 3168 that is
 * a pure ACK with CWR, which only ends an echo Oasis is not sending
 * (6.1.3); the ECN field of a pure ACK is not acted on. The flow still
 * has ECN and sends ECT(0) data without ECE. */
static void test_accecn_serverside_only(void **state)
{
    (void)state;
    classic_server(2, S | AE | W | E, OASIS_ECN_NOT_ECT, A | W, OASIS_ECN_ECT0);
}

/* A retransmitted SYN in SYN-RECEIVED: first_flags then second_flags.
 * The flow has ECN only if both were ECN-setup SYNs (RFC 3168 6.1.1: a
 * host that received a non-ECN-setup SYN does not use ECN; Oasis's
 * SYN-ACK retransmission drops ECE then, and never adds it). */
static void syn_then_syn(unsigned first_flags, uint8_t first_ecn, unsigned second_flags,
                         uint8_t second_ecn, int ecn_after)
{
    fx x;
    fx_init(&x, 2);
    oasis_tcp_hdr sa = syn_in(&x, first_flags, first_ecn, 1460, 1, 8, 32792, 0);
    int first_setup = (first_flags & (W | E)) == (W | E);
    assert_int_equal(sa.flags, first_setup ? (S | A | E) : (S | A));
    pd_adv(&x, 100);
    oasis_tcp_hdr syn = pd_syn_opts(th_seg(TH_PPORT, PORT, 0, TH_PISN, 0), 1460, 1, 8);
    syn.window = 32792;
    pd_inject(&x, syn, second_flags, second_ecn);
    oasis_tcp_hdr sa2 = pop(&x);
    assert_int_equal(sa2.seq, pd_os(&x, 0));
    assert_int_equal(sa2.flags, ecn_after ? (S | A | E) : (S | A));
    assert_int_equal(x.h.last_tos & 3, OASIS_ECN_NOT_ECT);
    pd_adv(&x, 100);
    finish_passive(&x, A, 320, OASIS_ECN_NOT_ECT);
    assert_int_equal(pd_info(&x).ecn, ecn_after);
    pd_adv(&x, 10);
    assert_int_equal(oasis_tcp_write(x.a.flow, zeros, 100, NULL, NULL), 0);
    assert_int_equal(out(&x, A, 1, 100, 1), ecn_after ? OASIS_ECN_ECT0 : OASIS_ECN_NOT_ECT);
    pd_fx_fini(&x);
}

/* tcp_accecn_accecn_then_notecn_syn.pkt: an AccECN SYN (ECT(0)), then
 * the same SYN again without ECN flags: the second SYN-ACK has no ECE,
 * the flow no ECN, data Not-ECT, as the script's data. */
static void test_accecn_accecn_then_notecn_syn(void **state)
{
    (void)state;
    syn_then_syn(S | AE | W | E, OASIS_ECN_ECT0, S, OASIS_ECN_NOT_ECT, 0);
}

/* tcp_accecn_notecn_then_accecn_syn.pkt: a plain SYN, then an AccECN
 * SYN (ECT(0)) with the same ISN: the SYN-ACK again without ECE, no ECN,
 * data Not-ECT, as the script. */
static void test_accecn_notecn_then_accecn_syn(void **state)
{
    (void)state;
    syn_then_syn(S, OASIS_ECN_NOT_ECT, S | AE | W | E, OASIS_ECN_ECT0, 0);
}

/* As the client (cfg.tcp.ecn 1: Oasis's SYN is RFC 3168's, CWR and ECE,
 * never AE): the SYN-ACK has synack_flags; the flow has ECN iff expect;
 * the handshake's ACK is Not-ECT without ECE/CWR; 100 bytes go out ECT(0)
 * or Not-ECT; close sends FIN (Not-ECT: no data), the peer's RST ends the
 * flow. */
static void classic_client(unsigned synack_flags, int expect)
{
    fx x;
    fx_init(&x, 1);
    connect_open(&x, S | E | W, synack_flags, OASIS_ECN_NOT_ECT, 1460, 8, 32767);
    assert_int_equal(out(&x, A, 1, 0, 1), OASIS_ECN_NOT_ECT);
    assert_int_equal(pd_info(&x).ecn, expect);
    assert_int_equal(oasis_tcp_write(x.a.flow, zeros, 100, NULL, NULL), 0);
    assert_int_equal(out(&x, A, 1, 100, 1), expect ? OASIS_ECN_ECT0 : OASIS_ECN_NOT_ECT);
    assert_int_equal(oasis_tcp_close(x.a.flow, th_close_cb, &x.a), 0);
    assert_int_equal(out(&x, F | A, 101, 0, 1), OASIS_ECN_NOT_ECT);
    pd_adv(&x, 100);
    in(&x, R | A, 1, 0, 102, 4242, OASIS_ECN_NOT_ECT);
    th_poll(&x.h);
    assert_int_equal(x.a.closed, 1);
    pd_none(&x);
    pd_fx_fini(&x);
}

/* tcp_accecn_serverside_accecn_disabled1.pkt: the server answers with AE
 * and ECE (1|0|1, the old ECN-nonce answer). To a classic client AE is a
 * reserved bit (RFC 9293 3.1: ignored), and ECE without CWR is an
 * ECN-setup SYN-ACK (RFC 3168 6.1.1): ECN is on, data ECT(0). (The
 * script's AccECN client goes to AccECN mode, RFC 9768 3.1.3: n/a.) */
static void test_accecn_serverside_accecn_disabled1(void **state)
{
    (void)state;
    classic_client(S | A | AE | E, 1);
}

/* tcp_accecn_serverside_accecn_disabled2.pkt: a classic server (0|0|1):
 * RFC 3168 ECN, data ECT(0), FIN Not-ECT, as the script. */
static void test_accecn_serverside_accecn_disabled2(void **state)
{
    (void)state;
    classic_client(S | A | E, 1);
}

/* tcp_accecn_serverside_ecn_disabled.pkt: a server without ECN (0|0|0):
 * no ECN, every segment Not-ECT. */
static void test_accecn_serverside_ecn_disabled(void **state)
{
    (void)state;
    classic_client(S | A, 0);
}

/* tcp_accecn_serverside_broken.pkt: a server reflecting every flag
 * (1|1|1). ECE with CWR is no ECN-setup SYN-ACK (RFC 3168 6.1.1): no
 * ECN, as the script. */
static void test_accecn_serverside_broken(void **state)
{
    (void)state;
    classic_client(S | A | AE | W | E, 0);
}

/* tcp_accecn_acc_ecn_disabled.pkt (tcp_ecn=1) and tcp_accecn_ecn3.pkt
 * (tcp_ecn=4, "RFC 3168 for the SYN"): the SYN asks for RFC 3168 ECN
 * (CWR, ECE; no AE), the SYN-ACK has no ECE: no ECN, Not-ECT data. */
static void test_accecn_acc_ecn_disabled(void **state)
{
    (void)state;
    classic_client(S | A, 0);
}

static void test_accecn_ecn3(void **state)
{
    (void)state;
    classic_client(S | A, 0);
}

/* tcp_accecn_clientside_disabled.pkt (tcp_ecn=5: AccECN for passive
 * opens only): the client asks for nothing. Oasis's default (2) likewise
 * accepts ECN on passive opens and does not ask on active ones: a plain
 * SYN, a plain SYN-ACK, no ECN. */
static void test_accecn_clientside_disabled(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, 2);
    connect_open(&x, S, S | A, OASIS_ECN_NOT_ECT, 1460, 8, 32767);
    assert_int_equal(out(&x, A, 1, 0, 1), OASIS_ECN_NOT_ECT);
    assert_int_equal(pd_info(&x).ecn, 0);
    pd_none(&x);
    pd_fx_fini(&x);
}

/* The client scripts where an AccECN SYN-ACK (0|1|0: CWR alone, ACE =
 * 2) and then another SYN-ACK (repeat_flags, in an IP datagram with
 * repeat_ecn) reach an ESTABLISHED client. To a classic client CWR
 * without ECE is no ECN-setup SYN-ACK (RFC 3168 6.1.1): no ECN. The
 * repeated SYN-ACK is an old duplicate below RCV.NXT: acknowledged
 * (RFC 9293 3.10.7.4 first, RFC 5961 4's challenge ACK is the same
 * segment), nothing else; the flow goes on without ECN. */
static void synack_again(unsigned repeat_flags, uint8_t repeat_ecn)
{
    fx x;
    fx_init(&x, 1);
    connect_open(&x, S | E | W, S | A | W, OASIS_ECN_NOT_ECT, 1460, 8, 32767);
    assert_int_equal(out(&x, A, 1, 0, 1), OASIS_ECN_NOT_ECT);
    assert_int_equal(pd_info(&x).ecn, 0);
    pd_adv(&x, 100);
    oasis_tcp_hdr sa = pd_syn_opts(th_seg(PORT, x.lport, 0, TH_PISN, pd_os(&x, 1)), 1460, 1, 8);
    sa.window = 32767;
    pd_inject(&x, sa, repeat_flags, repeat_ecn);
    assert_int_equal(out(&x, A, 1, 0, 1), OASIS_ECN_NOT_ECT);
    pd_none(&x);
    assert_int_equal(pd_info(&x).state, OASIS_TCP_ESTABLISHED);
    assert_int_equal(pd_info(&x).ecn, 0);
    assert_int_equal(oasis_tcp_write(x.a.flow, zeros, 100, NULL, NULL), 0);
    assert_int_equal(out(&x, A, 1, 100, 1), OASIS_ECN_NOT_ECT);
    pd_fx_fini(&x);
}

/* tcp_accecn_no_ecn_after_accecn.pkt: the repeat is a plain SYN-ACK. */
static void test_accecn_no_ecn_after_accecn(void **state)
{
    (void)state;
    synack_again(S | A, OASIS_ECN_NOT_ECT);
}

/* tcp_accecn_3rd_ack_after_synack_rxmt.pkt: the repeat is a plain
 * SYN-ACK marked ECT(0). */
static void test_accecn_3rd_ack_after_synack_rxmt(void **state)
{
    (void)state;
    synack_again(S | A, OASIS_ECN_ECT0);
}

/* tcp_accecn_synack_rexmit.pkt: the AccECN SYN-ACK itself repeated. */
static void test_accecn_synack_rexmit(void **state)
{
    (void)state;
    synack_again(S | A | W, OASIS_ECN_NOT_ECT);
}

static int group_ipv6(void **state)
{
    (void)state;
    ipv6 = 1;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_client),
        cmocka_unit_test(test_basic_server),
        cmocka_unit_test(test_linux_blocking_accept),
        cmocka_unit_test(test_blocking_write),
        cmocka_unit_test(test_dsack_mult),
        cmocka_unit_test(test_fastopen_server_basic_non_tfo_listener),
        cmocka_unit_test(test_ecn_uses_ect0),
        cmocka_unit_test(test_accecn_accecn_to_rfc3168),
        cmocka_unit_test(test_accecn_rfc3168_to_fallback),
        cmocka_unit_test(test_accecn_rfc3168_to_rfc3168),
        cmocka_unit_test(test_accecn_syn_ce),
        cmocka_unit_test(test_accecn_syn_ect0),
        cmocka_unit_test(test_accecn_syn_ect1),
        cmocka_unit_test(test_accecn_serverside_only),
        cmocka_unit_test(test_accecn_accecn_then_notecn_syn),
        cmocka_unit_test(test_accecn_notecn_then_accecn_syn),
        cmocka_unit_test(test_accecn_serverside_accecn_disabled1),
        cmocka_unit_test(test_accecn_serverside_accecn_disabled2),
        cmocka_unit_test(test_accecn_serverside_ecn_disabled),
        cmocka_unit_test(test_accecn_serverside_broken),
        cmocka_unit_test(test_accecn_acc_ecn_disabled),
        cmocka_unit_test(test_accecn_ecn3),
        cmocka_unit_test(test_accecn_clientside_disabled),
        cmocka_unit_test(test_accecn_no_ecn_after_accecn),
        cmocka_unit_test(test_accecn_3rd_ack_after_synack_rxmt),
        cmocka_unit_test(test_accecn_synack_rexmit),
    };
    int failed = cmocka_run_group_tests_name("ipv4", tests, NULL, NULL);
    return failed + cmocka_run_group_tests_name("ipv6", tests, group_ipv6, NULL);
}
