/* Packetdrill scripts ported to the one-stack harness: google/packetdrill
 * gtests/net/tcp, folders a-m, and Linux's selftests/net/packetdrill
 * tcp_close_*, tcp_disorder_fin_in_FIN_WAIT, tcp_fast_recovery_*,
 * tcp_advmss_*. docs/packetdrill.md lists every script looked at.
 *
 * Conventions of the port. Sequence numbers are the scripts' relative
 * ones: 1 is the first byte after a side's SYN (O() ours, PS() the
 * peer's). A script line "> P. 1:10001(10000)" is a TSO burst; Oasis
 * sends no TSO here, so it is popped as the run of MSS-sized segments
 * covering the range. PSH is not compared. Script times are moved with
 * the virtual clock; where a script lets Linux answer at once and Oasis
 * may delay an ACK (RFC 5681 4.2, at most delack_ns), the port lets the
 * delayed-ACK timer run first and says so.
 * As packetdrill's runners, every test runs over IPv4 (cmocka group
 * "ipv4") and again over IPv6 (group "ipv6": th_init_run, a 1520-byte
 * link so that MSS 1460 holds); the mss tests are IPv4's (group
 * "ipv4_only"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/bytes.h"
#include "core/checksum.h"
#include "icmp/icmp_wire.h"
#include "ipv6/icmp6_wire.h"
#include "ip/ipv4_wire.h"
#include "link/eth_wire.h"
#include "tcp/tcp_flow.h"
#include "tcp_harness.h"

#define PORT 8080
#define A OASIS_TCP_ACK
#define F OASIS_TCP_FIN
#define S OASIS_TCP_SYN
#define R OASIS_TCP_RST
#define MS (OASIS_NS_PER_SEC / 1000)

typedef struct fx {
    tcp_harness h;
    th_app a;
    uint32_t iss;           /* our ISS */
    uint16_t lport, rport;  /* our port, the peer's */
} fx;

static uint8_t zeros[65536];
static int ipv6; /* the family of the group running: 1 IPv6 */

static void fx_init(fx *x, const oasis_tcp_config *cfg)
{
    memset(x, 0, sizeof *x);
    th_init_run(&x->h, cfg, ipv6);
    th_app_init(&x->a);
}

static void fx_fini(fx *x)
{
    th_fini(&x->h);
    th_app_fini(&x->a);
}

static oasis_tcp_config cubic_cfg(void)
{
    oasis_tcp_config c;
    oasis_stack_config sc;
    oasis_stack_config_init(&sc);
    c = sc.tcp;
    c.cc = OASIS_CC_CUBIC; /* Linux's default, which the scripts' figures assume */
    return c;
}

static uint32_t O(const fx *x, uint32_t n) { return x->iss + n; }
static uint32_t PS(uint32_t n) { return TH_PISN + n; }

static void syn_opts(oasis_tcp_hdr *h, uint16_t mss, int sack, int wscale)
{
    if (mss) {
        h->has_mss = 1;
        h->mss = mss;
    }
    h->sack_permitted = (uint8_t)sack;
    if (wscale >= 0) {
        h->has_wscale = 1;
        h->wscale = (uint8_t)wscale;
    }
}

/* listen; "< S 0:0(0) <mss, sackOK, wscale>"; "> S."; rtt later
 * "< . 1:1(0) ack 1"; accept. wscale -1: none. */
static oasis_tcp_hdr pd_accept(fx *x, uint16_t mss, int sack, int wscale, uint64_t rtt_ns)
{
    x->lport = PORT;
    x->rport = TH_PPORT;
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    syn_opts(&syn, mss, sack, wscale);
    th_inject(&x->h, &syn);
    oasis_tcp_hdr sa;
    assert_true(th_pop(&x->h, &sa));
    assert_int_equal(sa.flags, S | A);
    assert_int_equal(sa.ack, TH_PISN + 1);
    x->iss = sa.seq;
    th_advance(&x->h, rtt_ns);
    oasis_tcp_hdr ack = th_seg(TH_PPORT, PORT, A, PS(1), O(x, 1));
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    assert_int_equal(x->a.accepted, 1);
    return sa;
}

/* connect; "> S"; rtt later "< S. 0:0(0) ack 1 <opts>"; "> . 1:1(0) ack 1". */
static oasis_tcp_hdr pd_connect(fx *x, uint16_t mss, int sack, int wscale, uint64_t rtt_ns)
{
    assert_int_equal(oasis_tcp_connect(x->h.s, &x->h.peer, PORT, NULL, th_connect_cb, &x->a), 0);
    th_poll(&x->h);
    oasis_tcp_hdr syn, r;
    assert_true(th_pop(&x->h, &syn));
    assert_int_equal(syn.flags, S);
    x->iss = syn.seq;
    x->lport = syn.src_port;
    x->rport = PORT;
    th_advance(&x->h, rtt_ns);
    oasis_tcp_hdr sa = th_seg(PORT, x->lport, S | A, TH_PISN, O(x, 1));
    syn_opts(&sa, mss, sack, wscale);
    th_inject(&x->h, &sa);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, A);
    assert_int_equal(r.seq, O(x, 1));
    assert_int_equal(r.ack, PS(1));
    th_poll(&x->h);
    assert_int_equal(x->a.connected, 1);
    return syn;
}

/* "< flags pseq:pseq+len(len) ack oack <sack ...>": nsack pairs of our
 * relative sequence numbers. */
static void pd_in(fx *x, uint8_t flags, uint32_t pseq, uint32_t oack, size_t len,
                  const uint32_t *sack, int nsack)
{
    oasis_tcp_hdr s = th_seg(x->rport, x->lport, flags, PS(pseq), (flags & A) ? O(x, oack) : 0);
    s.payload = zeros;
    s.payload_len = len;
    for (int i = 0; i < nsack; i++) {
        s.sack[i].left = O(x, sack[2 * i]);
        s.sack[i].right = O(x, sack[2 * i + 1]);
    }
    s.sack_count = (uint8_t)nsack;
    th_inject(&x->h, &s);
}

static void pd_ack(fx *x, uint32_t oack) { pd_in(x, A, 1, oack, 0, NULL, 0); }

static void pd_sack(fx *x, uint32_t oack, uint32_t l, uint32_t r)
{
    pd_in(x, A, 1, oack, 0, (uint32_t[]){l, r}, 1);
}

/* "> flags s:e(e-s) ack pack": the segments covering [s, e), every one
 * with these flags (PSH aside) and ack. Returns the last one. */
static oasis_tcp_hdr pd_out(fx *x, uint8_t flags, uint32_t s, uint32_t e, uint32_t pack)
{
    oasis_tcp_hdr r;
    uint32_t at = s;
    th_poll(&x->h);
    do {
        assert_true(th_pop(&x->h, &r));
        assert_int_equal(r.flags & ~OASIS_TCP_PSH, flags);
        assert_int_equal(r.seq, O(x, at));
        if (flags & A)
            assert_int_equal(r.ack, PS(pack));
        at += (uint32_t)r.payload_len;
    } while (at != e && (int32_t)(at - e) < 0);
    assert_int_equal(at, e);
    return r;
}

static void pd_none(fx *x)
{
    th_poll(&x->h);
    if (getenv("PD_DEBUG"))
        for (oasis_tcp_hdr r; th_pop(&x->h, &r);)
            print_message("unexpected: flags %#x seq %u len %zu ack %u\n", r.flags,
                          r.seq - x->iss, r.payload_len, r.ack - TH_PISN);
    assert_int_equal(th_pending(&x->h), 0);
}

static void pd_write(fx *x, size_t n)
{
    assert_int_equal(oasis_tcp_write(x->a.flow, zeros, n, NULL, NULL), 0);
    th_poll(&x->h);
}

static void adv(fx *x, uint64_t ms) { th_advance(&x->h, ms * MS); }

static oasis_tcp_info info(const fx *x)
{
    oasis_tcp_info i;
    assert_int_equal(oasis_tcp_get_info(x->a.flow, &i), 0);
    return i;
}

/* "close(4)" with the FIN handshake of the scripts' clean-up: "> F."
 * at `fin`, "< F. 1:1(0) ack fin+1", "> . ack 2". */
static void pd_close_clean(fx *x, uint32_t fin)
{
    assert_int_equal(oasis_tcp_close(x->a.flow, th_close_cb, &x->a), 0);
    pd_out(x, F | A, fin, fin, 1);
    adv(x, 100);
    pd_in(x, F | A, 1, fin + 1, 0, NULL, 0);
    pd_out(x, A, fin + 1, fin + 1, 2);
    assert_int_equal(x->a.closed, 1);
    assert_int_equal(x->a.close_err, 0);
}

/* ==== close ================================================================ */

/* close/close-remote-fin-then-close.pkt (packetdrill) and
 * tcp_close_close-remote-fin-then-close.pkt (Linux): the peer's FIN is
 * ACKed at once, the read sees EOF, our close sends FIN (LAST_ACK), the
 * peer's ACK of it ends the connection, and a later segment for it draws
 * a RST <SEQ=SEG.ACK> (RFC 9293 3.10.7.1, CLOSED). */
static void test_close_remote_fin_then_close(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, NULL);
    pd_accept(&x, 1000, 1, 7, 0);
    assert_int_equal(oasis_tcp_read(x.a.flow, th_read_cb, &x.a), 0);
    adv(&x, 10);
    pd_in(&x, F | A, 1, 1, 0, NULL, 0);
    pd_out(&x, A, 1, 1, 2);
    assert_int_equal(x.a.eof, 1);
    adv(&x, 10);
    assert_int_equal(info(&x).state, OASIS_TCP_CLOSE_WAIT);
    assert_int_equal(oasis_tcp_close(x.a.flow, th_close_cb, &x.a), 0);
    pd_out(&x, F | A, 1, 1, 2);
    adv(&x, 10);
    pd_in(&x, A, 2, 2, 0, NULL, 0);
    th_poll(&x.h);
    assert_int_equal(x.a.closed, 1);
    assert_int_equal(x.a.close_err, 0);
    adv(&x, 10);
    pd_in(&x, A, 2, 2, 0, NULL, 0);
    pd_out(&x, R, 2, 2, 0);
    pd_none(&x);
    fx_fini(&x);
}

/* tcp_close_close-local-close-then-remote-fin.pkt (Linux): active open,
 * 1000 bytes out and acked, our close sends FIN (FIN_WAIT_1), its ACK
 * (FIN_WAIT_2), the peer's FIN is ACKed (TIME_WAIT: a repeated FIN is
 * ACKed again, RFC 9293 3.10.7.4). */
static void test_close_local_close_then_remote_fin(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, NULL);
    pd_connect(&x, 1000, 1, 6, 10 * MS);
    pd_write(&x, 1000);
    pd_out(&x, A, 1, 1001, 1);
    pd_ack(&x, 1001);
    assert_int_equal(oasis_tcp_close(x.a.flow, th_close_cb, &x.a), 0);
    pd_out(&x, F | A, 1001, 1001, 1);
    pd_ack(&x, 1002);
    assert_int_equal(info(&x).state, OASIS_TCP_FIN_WAIT_2);
    pd_in(&x, F | A, 1, 1002, 0, NULL, 0);
    pd_out(&x, A, 1002, 1002, 2);
    assert_int_equal(x.a.closed, 1);
    assert_int_equal(x.a.close_err, 0);
    pd_in(&x, F | A, 1, 1002, 0, NULL, 0);
    pd_out(&x, A, 1002, 1002, 2);
    pd_none(&x);
    fx_fini(&x);
}

/* tcp_close_close-on-syn-sent.pkt (Linux): close in SYN_SENT deletes the
 * TCB and sends nothing (RFC 9293 3.10.4); the SYN-ACK that arrives
 * afterwards finds no connection and draws RST <SEQ=SEG.ACK>. */
static void test_close_on_syn_sent(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, NULL);
    oasis_flow *f = NULL;
    assert_int_equal(
        oasis_tcp_connect_flow(x.h.s, &x.h.peer, PORT, NULL, th_connect_cb, &x.a, &f), 0);
    th_poll(&x.h);
    oasis_tcp_hdr syn;
    assert_true(th_pop(&x.h, &syn));
    assert_int_equal(syn.flags, S);
    x.iss = syn.seq;
    x.lport = syn.src_port;
    x.rport = PORT;
    assert_int_equal(oasis_tcp_close(f, th_close_cb, &x.a), 0);
    pd_none(&x);
    assert_int_equal(x.a.connect_err, OASIS_ECANCELED);
    assert_int_equal(x.a.closed, 1);
    assert_int_equal(x.a.close_err, 0);
    adv(&x, 100);
    oasis_tcp_hdr sa = th_seg(PORT, x.lport, S | A, TH_PISN, O(&x, 1));
    syn_opts(&sa, 1460, 0, 7);
    th_inject(&x.h, &sa);
    pd_out(&x, R, 1, 1, 0);
    pd_none(&x);
    fx_fini(&x);
}

/* tcp_close_no_rst.pkt (Linux): after the application read everything,
 * the peer resends the data with a FIN; it is ACKed (ack 1002) and our
 * close sends FIN, not RST: no data was left unread (RFC 2525 2.17).
 * Oasis answers the repeated data with a D-SACK block (RFC 2883), which
 * Linux's script notes it does not. */
static void test_close_no_rst(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, NULL);
    pd_accept(&x, 1000, 1, -1, 100 * MS);
    x.a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x.a.flow, th_read_cb, &x.a), 0);
    pd_in(&x, A, 1, 1, 1000, NULL, 0);
    adv(&x, 40); /* Linux quick-ACKs; Oasis may delay the ACK, RFC 5681 4.2 */
    pd_out(&x, A, 1, 1, 1001);
    assert_int_equal(x.a.rx_len, 1000);
    pd_in(&x, F | A, 1, 1, 1000, NULL, 0);
    adv(&x, 40);
    oasis_tcp_hdr r = pd_out(&x, A, 1, 1, 1002);
    assert_int_equal(r.sack_count, 1); /* D-SACK of the repeat */
    assert_int_equal(r.sack[0].left, PS(1));
    assert_int_equal(r.sack[0].right, PS(1001));
    assert_int_equal(x.a.eof, 1);
    assert_int_equal(oasis_tcp_close(x.a.flow, th_close_cb, &x.a), 0);
    pd_out(&x, F | A, 1, 1, 1002);
    pd_none(&x);
    fx_fini(&x);
}

/* tcp_disorder_fin_in_FIN_WAIT.pkt (Linux): after our FIN, the peer's
 * ACK of it (seq 2) overtakes the peer's own FIN (seq 1, old ack 1). The
 * old ACK is a duplicate to be ignored, not a reason to drop the segment
 * (RFC 9293 3.10.7.4, within RFC 5961 5.2's bound), so the FIN is taken
 * and ACKed. */
static void test_disorder_fin_in_fin_wait(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, NULL);
    pd_accept(&x, 1000, 1, 7, 0);
    assert_int_equal(oasis_tcp_shutdown(x.a.flow, OASIS_TCP_SHUT_WRITE), 0);
    pd_out(&x, F | A, 1, 1, 1);
    pd_in(&x, A, 2, 2, 0, NULL, 0);
    pd_in(&x, F | A, 1, 1, 0, NULL, 0);
    pd_out(&x, A, 2, 2, 2);
    assert_int_equal(info(&x).state, OASIS_TCP_TIME_WAIT);
    pd_none(&x);
    fx_fini(&x);
}

/* ==== fast_retransmit ===================================================== */

/* fast_retransmit/fr-4pkt.pkt: four segments out, no SACK, three
 * duplicate ACKs: fast retransmit of the first (RFC 5681 3.2), the full
 * ACK ends recovery, then a clean close. */
static void test_fr_4pkt(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, NULL);
    pd_accept(&x, 1460, 0, 7, 100 * MS);
    pd_write(&x, 5840);
    pd_out(&x, A, 1, 5841, 1);
    adv(&x, 100);
    pd_ack(&x, 1);
    pd_ack(&x, 1);
    pd_none(&x);
    pd_ack(&x, 1);
    pd_out(&x, A, 1, 1461, 1);
    pd_none(&x);
    adv(&x, 100);
    pd_ack(&x, 5841);
    pd_none(&x);
    adv(&x, 100);
    pd_close_clean(&x, 5841);
    fx_fini(&x);
}

/* fast_retransmit/fr-4pkt-sack.pkt: the same with SACK; the third
 * duplicate ACK SACKs three segments above the first, which is then lost
 * by RFC 6675's IsLost and resent. */
static void test_fr_4pkt_sack(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, NULL);
    pd_accept(&x, 1460, 1, 7, 100 * MS);
    pd_write(&x, 5840);
    pd_out(&x, A, 1, 5841, 1);
    adv(&x, 100);
    pd_sack(&x, 1, 1461, 2921);
    pd_sack(&x, 1, 1461, 4381);
    pd_none(&x);
    pd_sack(&x, 1, 1461, 5841);
    pd_out(&x, A, 1, 1461, 1);
    pd_none(&x);
    adv(&x, 100);
    pd_ack(&x, 5841);
    pd_none(&x);
    adv(&x, 100);
    pd_close_clean(&x, 5841);
    fx_fini(&x);
}

/* Pops whatever went out within `ms`, stepping the clock 1 ms at a time;
 * returns the first segment (0 when none) and the time taken. */
static int first_within(fx *x, uint64_t ms, oasis_tcp_hdr *r, uint64_t *took_ms)
{
    for (uint64_t t = 0; t <= ms; t++) {
        th_poll(&x->h);
        if (th_pop(&x->h, r)) {
            *took_ms = t;
            return 1;
        }
        adv(x, 1);
    }
    return 0;
}

/* fast_retransmit/fr-4pkt-fack-last-byte.pkt: of four segments only the
 * last byte is SACKed. That is no loss signal (RFC 6675 IsLost needs
 * DupThresh segments or more than 2*SMSS SACKed above; RACK, RFC 8985
 * 6.1, counts only wholly delivered segments): no fast retransmit. The
 * tail loss probe resends the last segment after PTO = 2*SRTT from the
 * last send (RFC 8985 7.2: 200 ms, the script's window is 100-105 ms
 * after the SACK, the PTO being re-armed from the SACK's arrival in
 * Linux), then the RTO resends the first (RTO = SRTT + 4*RTTVAR = 300 ms,
 * as the script), and slow start goes on from one segment
 * (RFC 5681 3.1). The timings are asserted as Oasis's, the order as the
 * script's. */
static void test_fr_4pkt_fack_last_byte(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, NULL);
    pd_accept(&x, 1000, 1, 7, 100 * MS);
    pd_write(&x, 4000);
    pd_out(&x, A, 1, 4001, 1);
    adv(&x, 100);
    pd_sack(&x, 1, 4000, 4001);
    pd_none(&x);
    oasis_tcp_hdr r;
    uint64_t took = 0;
    assert_true(first_within(&x, 400, &r, &took));
    assert_int_equal(r.seq, O(&x, 3001)); /* TLP: the last segment */
    assert_int_equal(r.payload_len, 1000);
    assert_true(took >= 95 && took <= 105);
    assert_true(first_within(&x, 700, &r, &took));
    assert_int_equal(r.seq, O(&x, 1)); /* RTO: the first */
    assert_int_equal(r.payload_len, 1000);
    assert_int_equal(th_ctr(&x.h)->timeouts, 1);
    assert_int_equal(th_ctr(&x.h)->fast_retrans, 0);
    pd_none(&x);
    adv(&x, 500);
    pd_in(&x, A, 1, 1001, 0, (uint32_t[]){4000, 4001}, 1);
    pd_out(&x, A, 1001, 3001, 1);
    pd_none(&x);
    adv(&x, 100);
    pd_in(&x, A, 1, 3001, 0, (uint32_t[]){4000, 4001}, 1);
    pd_out(&x, A, 3001, 4001, 1);
    pd_none(&x);
    adv(&x, 100);
    pd_ack(&x, 4001);
    pd_close_clean(&x, 4001);
    fx_fini(&x);
}

/* fast_retransmit/fr-4pkt-fack-last-mss.pkt: the last of four segments
 * is SACKed. RACK (RFC 8985 6.2) waits a reordering window before it
 * calls the first lost: nothing at the SACK, then the first segment
 * again from the reordering timer, RACK.rtt + reo_wnd after it was sent
 * (reo_wnd = min_RTT/4 = 25 ms; the script's +40 ms is Linux's timer
 * granularity on top). */
static void test_fr_4pkt_fack_last_mss(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, NULL);
    pd_accept(&x, 1000, 1, 7, 100 * MS);
    pd_write(&x, 4000);
    pd_out(&x, A, 1, 4001, 1);
    adv(&x, 100);
    pd_sack(&x, 1, 3001, 4001);
    pd_none(&x);
    oasis_tcp_hdr r;
    uint64_t took = 0;
    assert_true(first_within(&x, 40, &r, &took));
    assert_int_equal(r.seq, O(&x, 1));
    assert_int_equal(r.payload_len, 1000);
    assert_int_equal(took, 25);
    assert_int_equal(th_ctr(&x.h)->timeouts, 0);
    fx_fini(&x);
}

/* ==== limited_transmit ==================================================== */

/* limited_transmit/limited-transmit-sack.pkt: RFC 3042, each of the
 * first two duplicate ACKs (bringing new SACK information) sends one new
 * segment, cwnd unchanged; no fast retransmit: it was reordering. The
 * ACK of 3001 (3 MSS) resumes slow start. Here Oasis differs by one
 * segment: its byte counting takes up to L = 2 SMSS per ACK (RFC 3465
 * 2.2), so cwnd is 12 MSS, 9 in flight, and 3 segments go (the script
 * has Linux send 2 there and the last one on the next ACK). */
static void test_limited_transmit_sack(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, NULL);
    pd_accept(&x, 1000, 1, 7, 100 * MS);
    pd_write(&x, 15000);
    pd_out(&x, A, 1, 10001, 1);
    adv(&x, 110);
    pd_sack(&x, 1, 1001, 2001);
    pd_out(&x, A, 10001, 11001, 1);
    adv(&x, 10);
    pd_sack(&x, 1, 1001, 3001);
    pd_out(&x, A, 11001, 12001, 1);
    adv(&x, 10);
    pd_ack(&x, 3001);
    pd_out(&x, A, 12001, 15001, 1);
    pd_none(&x);
    adv(&x, 20);
    pd_ack(&x, 5001);
    pd_none(&x);
    for (uint32_t a = 7001; a <= 15001; a += 2000) {
        adv(&x, 20);
        pd_ack(&x, a);
        pd_none(&x);
    }
    assert_int_equal(th_ctr(&x.h)->fast_retrans, 0);
    adv(&x, 170);
    pd_close_clean(&x, 15001);
    fx_fini(&x);
}

/* ==== md5 ================================================================= */

/* Injects "< . 1:1(0) ack 1 <md5 ...,nop,nop>": a TCP-MD5 option (kind 19,
 * 18 bytes, RFC 2385), which Oasis does not implement. */
static void inject_md5_ack(fx *x)
{
    uint8_t seg[40];
    oasis_tcp_hdr h = th_seg(x->rport, x->lport, A, PS(1), O(x, 1));
    oasis_tcp_emit(seg, &h, 0, TH_PEER, TH_LOCAL);
    seg[12] = 10 << 4; /* 40-byte header */
    seg[20] = 19;
    seg[21] = 18;
    for (int i = 0; i < 16; i++)
        seg[22 + i] = (uint8_t)i;
    seg[38] = seg[39] = OASIS_TCPOPT_NOP;
    seg[16] = seg[17] = 0;
    uint16_t c = oasis_csum_fold(oasis_csum_add(th_pseudo(&x->h, sizeof seg), seg, sizeof seg));
    memcpy(seg + 16, &c, 2);
    th_send(&x->h, seg, sizeof seg, 0);
}

/* md5/md5-only-on-client-ack.pkt: the ACK that completes the handshake
 * carries a TCP-MD5 option the SYN did not. Linux (no key) drops it;
 * Oasis has no TCP-MD5 and skips the option as any unknown one (RFC 9293
 * MUST-68), so that ACK completes the handshake and the next two are
 * duplicates. Either way what the script checks holds: the listener
 * survives, the connection is accepted once and carries data. */
static void test_md5_only_on_client_ack(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, NULL);
    x.lport = PORT;
    x.rport = TH_PPORT;
    assert_int_equal(oasis_tcp_listen(x.h.s, PORT, NULL, th_accept_cb, &x.a), 0);
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    syn_opts(&syn, 1000, 1, 10);
    th_inject(&x.h, &syn);
    oasis_tcp_hdr sa;
    assert_true(th_pop(&x.h, &sa));
    assert_int_equal(sa.flags, S | A);
    x.iss = sa.seq;
    adv(&x, 10);
    inject_md5_ack(&x);
    adv(&x, 10);
    inject_md5_ack(&x);
    adv(&x, 10);
    pd_ack(&x, 1);
    th_poll(&x.h);
    assert_int_equal(x.a.accepted, 1);
    pd_none(&x);
    adv(&x, 10);
    pd_write(&x, 1000);
    pd_out(&x, A, 1, 1001, 1);
    assert_int_equal(th_ctr(&x.h)->syn_cookies_sent, 0);
    fx_fini(&x);
}

/* ==== fast_recovery (PRR) ================================================= */

/* Exactly these MSS-sized segments go out (relative starts), then none. */
static void expect_segs(fx *x, const uint32_t *starts, int n)
{
    th_poll(&x->h);
    for (int i = 0; i < n; i++) {
        oasis_tcp_hdr r;
        assert_true(th_pop(&x->h, &r));
        assert_int_equal(r.seq, O(x, starts[i]));
        assert_int_equal(r.payload_len, 1000);
        assert_int_equal(r.ack, PS(1));
    }
    pd_none(x);
}

#define SEGS(...)                                                                       \
    (const uint32_t[]){__VA_ARGS__}, (int)(sizeof((uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t))

static void cwnd_is(const fx *x, uint32_t cwnd, uint32_t ssthresh)
{
    oasis_tcp_info i = info(x);
    assert_int_equal(i.cwnd, cwnd);
    assert_int_equal(i.ssthresh, ssthresh);
}

/* Scripts of this folder assume Linux's CUBIC (beta 0.7, RFC 9438 4.6):
 * the port sets OASIS_CC_CUBIC, so ssthresh is 7 MSS after 10 in
 * flight, as the scripts assert. */
static void fx_init_cubic(fx *x)
{
    oasis_tcp_config c = cubic_cfg();
    fx_init(x, &c);
}

/* fast_recovery/prr-ss-10pkt-lost-1.pkt (and Linux's
 * tcp_fast_recovery_prr-ss-10pkt-lost-1.pkt): segment 1 of 10 lost. The
 * third SACK starts recovery with the fast retransmit, cwnd = ssthresh =
 * 7 MSS; pipe equals ssthresh throughout, so PRR sends one new segment
 * per segment SACKed (RFC 9937 PRR); the full ACK ends recovery at cwnd 7
 * (RFC 6675 5: cwnd = ssthresh), one more segment fits. As the script. */
static void test_prr_ss_10pkt_lost_1(void **state)
{
    (void)state;
    fx x;
    fx_init_cubic(&x);
    pd_accept(&x, 1000, 1, 7, 100 * MS);
    pd_write(&x, 10000);
    pd_out(&x, A, 1, 10001, 1);
    adv(&x, 110);
    pd_sack(&x, 1, 1001, 2001);
    adv(&x, 10);
    pd_sack(&x, 1, 1001, 3001);
    pd_none(&x);
    adv(&x, 10);
    pd_sack(&x, 1, 1001, 4001);
    expect_segs(&x, SEGS(1));
    cwnd_is(&x, 7000, 7000);
    adv(&x, 10);
    pd_write(&x, 7000);
    pd_none(&x);
    for (uint32_t k = 5001; k <= 10001; k += 1000) {
        adv(&x, 10);
        pd_sack(&x, 1, 1001, k);
        expect_segs(&x, SEGS(k + 5000));
    }
    adv(&x, 20);
    pd_ack(&x, 10001);
    expect_segs(&x, SEGS(16001));
    cwnd_is(&x, 7000, 7000);
    for (uint32_t a = 12001; a <= 16001; a += 2000) {
        adv(&x, 20);
        pd_ack(&x, a);
        pd_none(&x);
    }
    adv(&x, 20);
    pd_ack(&x, 17001);
    pd_none(&x);
    assert_int_equal(th_ctr(&x.h)->timeouts, 0);
    fx_fini(&x);
}

/* fast_recovery/prr-ss-30pkt-lost1_4.pkt (and Linux's copy): segments
 * 1-4 of 10 lost. On the third SACK, three segments are SACKed above
 * each of 1-4, so RFC 6675 IsLost holds for all four; pipe (3) is below
 * ssthresh (7). The SACKs advance no snd.una, so no SafeACK (RFC 9937 4):
 * PRR-CRB sends what each delivers, one segment per ACK, 1-4 on four
 * ACKs, as the script. The first partial ACK (a SafeACK) gives nothing to
 * send; the second allows RFC 6675's rescue retransmission (NextSeg rule
 * 4: the highest unSACKed segment, 3001:4001), which Linux does not
 * have. As in the script, recovery ends with cwnd = ssthresh = 7 MSS and
 * the next write sends 7 segments at once. */
static void test_prr_ss_30pkt_lost1_4(void **state)
{
    (void)state;
    fx x;
    fx_init_cubic(&x);
    pd_accept(&x, 1000, 1, 7, 10 * MS);
    pd_write(&x, 10000);
    pd_out(&x, A, 1, 10001, 1);
    adv(&x, 10);
    pd_sack(&x, 1, 4001, 5001);
    adv(&x, 2);
    pd_sack(&x, 1, 4001, 6001);
    pd_none(&x);
    pd_sack(&x, 1, 4001, 7001);
    expect_segs(&x, SEGS(1));
    pd_sack(&x, 1, 4001, 8001);
    expect_segs(&x, SEGS(1001));
    pd_sack(&x, 1, 4001, 9001);
    expect_segs(&x, SEGS(2001));
    pd_sack(&x, 1, 4001, 10001);
    expect_segs(&x, SEGS(3001));
    adv(&x, 10);
    pd_sack(&x, 1001, 4001, 10001);
    pd_none(&x);
    pd_sack(&x, 2001, 4001, 10001);
    expect_segs(&x, SEGS(3001)); /* the rescue */
    pd_sack(&x, 3001, 4001, 10001);
    pd_none(&x);
    pd_ack(&x, 10001);
    pd_none(&x);
    cwnd_is(&x, 7000, 7000);
    adv(&x, 10);
    pd_write(&x, 10000);
    expect_segs(&x, SEGS(10001, 11001, 12001, 13001, 14001, 15001, 16001));
    fx_fini(&x);
}

/* fast_recovery/prr-ss-30pkt-lost-1_4-11_16.pkt (and Linux's copy): 20
 * segments written, 1-4 and 11-16 lost. The first two SACKs each let a
 * new segment out (limited transmit, RFC 3042), the next four one
 * retransmission each and the two after one new segment each (PRR-CRB:
 * no SafeACK, RFC 9937 4); "ack 1001" advances snd.una with no further
 * loss, a SafeACK: PRR-SSRB sends two (14001:16001), as the script. Then
 * "ack 1001, SACK 2001:12001" shows the retransmissions of 2001-4001
 * delivered and the one of 1001:2001 (sent 2 ms before them) not: RACK
 * calls that retransmission lost (RFC 8985 2.2) and it goes again at once
 * with 16001 beside it, and every later segment on the script's ACK.
 * (RFC 6675 NextSeg only looks above HighRxt: before oasis_rack_lost_rtx
 * it waited for the RTO and Oasis sent new data there instead.) */
static void test_prr_ss_30pkt_lost_1_4_11_16(void **state)
{
    (void)state;
    fx x;
    fx_init_cubic(&x);
    pd_accept(&x, 1000, 1, 7, 10 * MS);
    pd_write(&x, 20000);
    pd_out(&x, A, 1, 10001, 1);
    adv(&x, 10);
    pd_sack(&x, 1, 4001, 5001);
    expect_segs(&x, SEGS(10001));
    adv(&x, 2);
    pd_sack(&x, 1, 4001, 6001);
    expect_segs(&x, SEGS(11001));
    for (uint32_t k = 7001; k <= 10001; k += 1000) {
        adv(&x, 2);
        pd_sack(&x, 1, 4001, k);
        expect_segs(&x, SEGS(k - 7000)); /* 1, 1001, 2001, 3001 */
    }
    adv(&x, 2);
    pd_sack(&x, 1, 4001, 11001);
    expect_segs(&x, SEGS(12001));
    adv(&x, 2);
    pd_sack(&x, 1, 4001, 12001);
    expect_segs(&x, SEGS(13001));
    adv(&x, 10);
    pd_sack(&x, 1001, 4001, 12001);
    expect_segs(&x, SEGS(14001, 15001));
    adv(&x, 2);
    pd_sack(&x, 1001, 2001, 12001);
    expect_segs(&x, SEGS(1001, 16001)); /* the lost retransmission at once */
    adv(&x, 2);
    pd_sack(&x, 1001, 2001, 13001);
    expect_segs(&x, SEGS(17001));
    adv(&x, 2);
    pd_sack(&x, 1001, 2001, 14001);
    expect_segs(&x, SEGS(18001));
    fx_fini(&x);
}

/* fast_recovery/prr-ss-ack-below-snd_una-cubic.pkt (and Linux's copy):
 * 1, 4001:5001 and 7001:8001 lost. The third SACK starts recovery with
 * the fast retransmit alone (PRR-CRB, no SafeACK, RFC 9937 4), as the
 * script. The ACK of 4001 advances snd.una, but Oasis's RACK marks
 * 9001:10001 lost on it (RACK.rtt is that of the most recently sent
 * segment delivered, the retransmission of 1, 12 ms; RFC 8985 6.2), a
 * further loss: no SafeACK, PRR-CRB sends the 2 MSS delivered (4001:6001)
 * where Linux sends 3 (4001:7001): its RACK.rtt is that of the last
 * segment its walk acknowledged (3001:4001, 22 ms), so it marks nothing
 * and takes the SafeACK. The script's point holds: the reordered ACK
 * below snd_una still has its SACK blocks used and the 2 MSS it newly
 * SACKs let PRR send two segments, the lost 7001:8001 and, Oasis having
 * marked it lost, 9001:10001 (Linux: new data, 10001:11001). */
static void test_prr_ss_ack_below_snd_una(void **state)
{
    (void)state;
    fx x;
    fx_init_cubic(&x);
    pd_accept(&x, 1000, 1, 8, 10 * MS);
    pd_write(&x, 10000);
    pd_out(&x, A, 1, 10001, 1);
    adv(&x, 10);
    pd_sack(&x, 1, 1001, 2001);
    pd_sack(&x, 1, 1001, 3001);
    pd_none(&x);
    pd_in(&x, A, 1, 1, 0, (uint32_t[]){1001, 3001, 8001, 9001}, 2);
    expect_segs(&x, SEGS(1));
    adv(&x, 12);
    pd_sack(&x, 4001, 8001, 9001);
    expect_segs(&x, SEGS(4001, 5001));
    pd_write(&x, 10000);
    pd_none(&x);
    adv(&x, 2);
    pd_sack(&x, 3001, 5001, 7001);
    expect_segs(&x, SEGS(7001, 9001));
    fx_fini(&x);
}

/* ==== mss ================================================================= */

/* mss/mss-setsockopt-tcp_maxseg-server.pkt: Oasis has no TCP_MAXSEG; the
 * port lowers the stack's MTU to 1140 instead, which makes our MSS 1100
 * as the socket option would. The SYN-ACK offers MSS 1100, the peer's
 * 1300 leaves the send MSS at 1100 (RFC 9293 3.7.1: the smaller), and the
 * initial window is 10 of those (RFC 6928): 11000 bytes of 12000. */
static void test_mss_server(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, NULL);
    assert_int_equal(oasis_stack_set_mtu(x.h.s, 1140), 0);
    oasis_tcp_hdr sa = pd_accept(&x, 1300, 0, 7, 100 * MS);
    assert_true(sa.has_mss);
    assert_int_equal(sa.mss, 1100);
    assert_int_equal(info(&x).mss_send, 1100);
    pd_write(&x, 12000);
    oasis_tcp_hdr r = pd_out(&x, A, 1, 11001, 1);
    assert_int_equal(r.payload_len, 1100);
    pd_none(&x);
    fx_fini(&x);
}

/* mss/mss-setsockopt-tcp_maxseg-client.pkt: the same for an active open:
 * the SYN offers 1100, the peer's 1460 leaves the send MSS at 1100, IW10
 * is 11000 bytes. */
static void test_mss_client(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, NULL);
    assert_int_equal(oasis_stack_set_mtu(x.h.s, 1140), 0);
    oasis_tcp_hdr syn = pd_connect(&x, 1460, 0, 7, 100 * MS);
    assert_true(syn.has_mss);
    assert_int_equal(syn.mss, 1100);
    assert_int_equal(info(&x).mss_send, 1100);
    pd_write(&x, 12000);
    oasis_tcp_hdr r = pd_out(&x, A, 1, 11001, 1);
    assert_int_equal(r.payload_len, 1100);
    pd_none(&x);
    fx_fini(&x);
}

/* ==== advmss (Linux selftests) ============================================ */

/* A router's fragmentation needed (RFC 1191) quoting our segment seg of
 * seg_len bytes (IP header and the first 8 bytes of TCP). */
static void frag_needed(fx *x, const oasis_tcp_hdr *seg, size_t seg_len, uint16_t mtu)
{
    th_icmp(&x->h, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_FRAG_NEEDED, mtu, seg, seg_len);
}

/* tcp_advmss_pmtu_ipv4.pkt (Linux): a fragmentation needed (MTU 1200)
 * makes the flow resend at MSS 1160; after a reset, a new connection
 * from the same peer is offered MSS 1460 in the SYN-ACK (RFC 1191 3.1:
 * the option says what we can receive, from the connected network's MTU,
 * and hosts should no longer lower it), yet sends at 1160, the path MTU
 * being cached per destination (10 minutes). The new flow's sub-MSS rest
 * of a write waits for the ACK (Nagle), where Linux sends it at once.
 * tcp_advmss_pmtu_ipv6.pkt (group ipv6) is the same over IPv6 on a link
 * of MTU 1520 (MSS 1460) with a Packet Too Big of 1280 (segments of
 * 1220), RFC 8201. */
static void test_advmss_pmtu(void **state)
{
    (void)state;
    uint32_t seg_max = ipv6 ? 1220 : 1160; /* the path MTU less 60 (40) */
    fx x;
    fx_init(&x, NULL);
    oasis_tcp_hdr sa = pd_accept(&x, 1460, 1, 8, 100 * MS);
    assert_int_equal(sa.mss, 1460);
    pd_write(&x, 1460);
    oasis_tcp_hdr seg = pd_out(&x, A, 1, 1461, 1);
    assert_int_equal(seg.payload_len, 1460);
    if (ipv6)
        th_icmp(&x.h, OASIS_ICMP6_PKT_TOO_BIG, 0, 1280, &seg, 1480);
    else
        frag_needed(&x, &seg, 1480, 1200);
    pd_out(&x, A, 1, 1 + seg_max, 1);
    pd_out(&x, A, 1 + seg_max, 1461, 1);
    pd_none(&x);
    pd_in(&x, R | A, 1, 1461, 0, NULL, 0);
    th_poll(&x.h);
    assert_int_equal(oasis_tcp_flow_error(x.a.flow), OASIS_ERESET);
    oasis_tcp_release(x.a.flow);
    assert_int_equal(oasis_tcp_unlisten(x.h.s, PORT), 0);
    th_app_fini(&x.a);
    th_app_init(&x.a);

    sa = pd_accept(&x, 1460, 1, 8, 0);
    assert_int_equal(sa.mss, 1460);
    pd_write(&x, 1460);
    pd_out(&x, A, 1, 1 + seg_max, 1);
    /* Nagle (RFC 1122 4.2.3.4): the rest is new data and waits for the
     * ACK of the full segment; Linux's Minshall variant sends it at once,
     * as the script expects. */
    pd_none(&x);
    pd_ack(&x, 1 + seg_max);
    pd_out(&x, A, 1 + seg_max, 1461, 1);
    pd_none(&x);
    pd_ack(&x, 1461);
    pd_close_clean(&x, 1461);
    fx_fini(&x);
}

static int group_ipv6(void **state)
{
    (void)state;
    ipv6 = 1;
    return 0;
}

int main(void)
{
    /* the MTU stands in for TCP_MAXSEG 1100, below IPv6's minimum link
     * MTU of 1280 (RFC 8200 5): IPv4 only */
    const struct CMUnitTest v4[] = {
        cmocka_unit_test(test_mss_server),
        cmocka_unit_test(test_mss_client),
    };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_remote_fin_then_close),
        cmocka_unit_test(test_close_local_close_then_remote_fin),
        cmocka_unit_test(test_close_on_syn_sent),
        cmocka_unit_test(test_close_no_rst),
        cmocka_unit_test(test_disorder_fin_in_fin_wait),
        cmocka_unit_test(test_fr_4pkt),
        cmocka_unit_test(test_fr_4pkt_sack),
        cmocka_unit_test(test_fr_4pkt_fack_last_byte),
        cmocka_unit_test(test_fr_4pkt_fack_last_mss),
        cmocka_unit_test(test_limited_transmit_sack),
        cmocka_unit_test(test_md5_only_on_client_ack),
        cmocka_unit_test(test_prr_ss_10pkt_lost_1),
        cmocka_unit_test(test_prr_ss_30pkt_lost1_4),
        cmocka_unit_test(test_prr_ss_30pkt_lost_1_4_11_16),
        cmocka_unit_test(test_prr_ss_ack_below_snd_una),
        cmocka_unit_test(test_advmss_pmtu),
    };
    int failed = cmocka_run_group_tests_name("ipv4", tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("ipv4_only", v4, NULL, NULL);
    return failed + cmocka_run_group_tests_name("ipv6", tests, group_ipv6, NULL);
}
