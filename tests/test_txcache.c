/* The transmit cache (ipv4.c oasis_ipv4_output_cached): a flow's IPv4
 * segments leave with the headers, neighbour and IP ID bucket it keeps.
 * It must send what the slow path sends, byte for byte and counter for
 * counter, and must notice when the neighbour's MAC changes, when the
 * neighbour's entry goes and when the route changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "arp/arp.h"
#include "arp/arp_wire.h"
#include "core/checksum.h"
#include "core/pbuf.h"
#include "core/stack_impl.h"
#include "ip/ipv4.h"
#include "ipv6/icmp6_wire.h"
#include "ipv6/ipv6.h"
#include "ipv6/nd_wire.h"
#include "link/eth_wire.h"
#include "oasis/error.h"
#include "oasis/ip.h"
#include "caplink.h"
#include "reclink.h"
#include "tcp/tcp_flow.h"
#include "tcp_harness.h"
#include "testutil.h"

/* ---- the same conversation with the cache and without ------------------ */

#define PORT 7007
#define A_SENDS 120000u
#define B_SENDS 70000u

static uint8_t data[A_SENDS > B_SENDS ? A_SENDS : B_SENDS];
static int g_nagle; /* the run's Nagle setting (variant.nagle) */

typedef struct side {
    oasis_flow *flow;
    size_t got, want;
    int eof, closed;
} side;

static void on_read(oasis_flow *f, int err, const uint8_t *d, size_t len, void *ud)
{
    side *sd = ud;
    (void)d;
    if (err) {
        sd->eof = 1;
        return;
    }
    sd->got += len;
    assert_int_equal(oasis_tcp_read(f, on_read, sd), 0);
}

static void on_closed(oasis_flow *f, int err, void *ud)
{
    side *sd = ud;
    (void)err;
    sd->closed = 1;
    oasis_tcp_release(f);
}

static void on_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    side *b = ud;
    (void)s;
    b->flow = f;
    assert_int_equal(oasis_tcp_read(f, on_read, b), 0);
    /* Small writes first (one segment each, Nagle aside), then bulk. */
    oasis_tcp_set_nodelay(f, !g_nagle);
    assert_int_equal(oasis_tcp_write(f, data, 1, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_write(f, data + 1, 99, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_write(f, data + 100, B_SENDS - 100, NULL, NULL), 0);
}

static void on_connect(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    side *a = ud;
    (void)s;
    assert_int_equal(err, 0);
    a->flow = f;
    assert_int_equal(oasis_tcp_read(f, on_read, a), 0);
    oasis_tcp_set_nodelay(f, !g_nagle);
    assert_int_equal(oasis_tcp_write(f, data, 1, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_write(f, data + 1, 1459, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_write(f, data + 1460, A_SENDS - 1460, NULL, NULL), 0);
}

typedef struct run_out {
    test_rec ra, rb;
    oasis_counters ca, cb;
    int cached; /* a's flow had its cache filled */
} run_out;

static int both_done(void *ud)
{
    side *s = ud;
    return s[0].got == s[0].want && s[1].got == s[1].want;
}

static int never(void *ud)
{
    (void)ud;
    return 0;
}

/* Requests and responses of sizes around the MSS (1448 with timestamps,
 * 1460 without), some after a silence longer than the RTO (idle
 * restart), with whatever loss the run has (tail loss probes, RTOs). */
static void request_response(test_net *n, side *sides)
{
    static const size_t sizes[] = {1, 100, 1447, 1448, 1449, 1460, 1461, 3000, 20, 7000};
    for (unsigned i = 0; i < 40; i++) {
        size_t len = sizes[i % (sizeof sizes / sizeof sizes[0])];
        if (i % 7 == 6) {
            /* A small segment after the silence restarts cwnd; a burst
             * right behind it shows the window it restarted from. */
            oasis_wire_run(n->wire, never, NULL, 3 * OASIS_NS_PER_SEC);
            sides[1].want += 1 + 40000;
            assert_int_equal(oasis_tcp_write(sides[0].flow, data, 1, NULL, NULL), 0);
            assert_int_equal(oasis_tcp_write(sides[0].flow, data, 40000, NULL, NULL), 0);
        }
        sides[1].want += len;
        assert_int_equal(oasis_tcp_write(sides[0].flow, data, len, NULL, NULL), 0);
        oasis_wire_run(n->wire, both_done, sides, 60 * OASIS_NS_PER_SEC);
        sides[0].want += len;
        assert_int_equal(oasis_tcp_write(sides[1].flow, data + 1, len, NULL, NULL), 0);
        oasis_wire_run(n->wire, both_done, sides, 60 * OASIS_NS_PER_SEC);
        assert_int_equal(sides[0].got, sides[0].want);
        assert_int_equal(sides[1].got, sides[1].want);
    }
    /* Both writing at once, a little at a time: writes find data held
     * out of order (SACK blocks due) and segments in flight. */
    for (unsigned i = 0; i < 300; i++) {
        size_t la = sizes[i % (sizeof sizes / sizeof sizes[0])];
        size_t lb = sizes[(i + 3) % (sizeof sizes / sizeof sizes[0])];
        sides[1].want += la;
        sides[0].want += lb;
        assert_int_equal(oasis_tcp_write(sides[0].flow, data, la, NULL, NULL), 0);
        assert_int_equal(oasis_tcp_write(sides[1].flow, data + 2, lb, NULL, NULL), 0);
        oasis_wire_run(n->wire, never, NULL, 40 * 1000);
    }
    oasis_wire_run(n->wire, both_done, sides, 60 * OASIS_NS_PER_SEC);
    assert_int_equal(sides[0].got, sides[0].want);
    assert_int_equal(sides[1].got, sides[1].want);
}

static int both_closed(void *ud)
{
    side *s = ud;
    return s[0].closed && s[1].closed && s[0].eof && s[1].eof;
}

/* How a run differs from the default conversation. */
typedef struct variant {
    int offload;  /* the wire's offloads */
    int slow;     /* transmit caches off */
    int fast_off; /* TCP's established-case transmit paths off (tx_fast_off) */
    int no_ts;    /* timestamps not negotiated */
    int ecn;      /* ECN negotiated */
    double loss;  /* random loss both ways (SACK blocks, recovery, RTOs) */
    int rr;       /* requests and responses after the bulk */
    int nagle;    /* Nagle's algorithm on (nodelay off) */
    uint32_t buf; /* fixed send and receive buffers (0: auto-tuned) */
    int lend;     /* frame lending: LEND_WIRE (the wire's), LEND_NONE, LEND_REFUSE */
    int v6;       /* over IPv6 (2001:db8::1 and ::2, on-link by their /64) */
    const char *pcap; /* a capture of A's frames to this file */
} variant;

enum { LEND_WIRE, LEND_NONE, LEND_REFUSE };

static size_t g_refused; /* loans asked of a LEND_REFUSE link */

static uint8_t *refuse_lend(oasis_link *link, size_t len)
{
    (void)link;
    (void)len;
    g_refused++;
    return NULL;
}

/* The link lends as the variant says: the wire's loans, none (the fields
 * NULL), or a link that refuses every one. */
static void set_lend(test_rec *r, int lend)
{
    if (lend == LEND_NONE) {
        r->link.tx_lend = NULL;
        r->link.tx_commit = NULL;
    } else if (lend == LEND_REFUSE) {
        r->link.tx_lend = refuse_lend;
    }
}

/* A and B talk both ways (small segments, then bulk; with offload:
 * super-segments and partial checksums), then close; every frame each
 * sends is recorded, and their counters. */
static void run_v(const variant *v, run_out *o)
{
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + (i >> 9));
    oasis_wire_config wcfg;
    oasis_wire_config_init(&wcfg);
    wcfg.offload = v->offload;
    wcfg.delay_ns = 100 * 1000;
    oasis_stack_config scfg;
    test_stack_config(&scfg, NULL, 1);
    oasis_tcp_config tcfg = scfg.tcp;
    tcfg.timestamps = !v->no_ts;
    tcfg.ecn = v->ecn ? 1 : 0;
    if (v->buf) {
        tcfg.autotune = 0;
        tcfg.sndbuf = tcfg.rcvbuf = v->buf;
    }
    g_nagle = v->nagle;
    test_net n;
    if (v->v6) {
        test_net_init6(&n, &wcfg, &tcfg);
        oasis_ipaddr a6 = oasis_ipaddr_v6((const uint8_t[16])TH_IN6(1));
        oasis_ipaddr b6 = oasis_ipaddr_v6((const uint8_t[16])TH_IN6(2));
        assert_int_equal(oasis_ipv6_add_addr(n.a, &a6, 64), 0);
        assert_int_equal(oasis_ipv6_add_addr(n.b, &b6, 64), 0);
        oasis_wire_run(n.wire, never, NULL, 3 * OASIS_NS_PER_SEC); /* DAD */
    } else {
        test_net_init(&n, &wcfg, &tcfg);
    }
    n.a->ip.txc_off = (uint8_t)v->slow;
    n.b->ip.txc_off = (uint8_t)v->slow;
    n.a->tcp->tx_fast_off = (uint8_t)v->fast_off;
    n.b->tcp->tx_fast_off = (uint8_t)v->fast_off;
    if (v->loss > 0) {
        oasis_impair imp;
        oasis_impair_init(&imp);
        imp.loss = v->loss;
        assert_int_equal(oasis_wire_impair(n.wire, oasis_stack_link(n.a), oasis_stack_link(n.b), &imp), 0);
        assert_int_equal(oasis_wire_impair(n.wire, oasis_stack_link(n.b), oasis_stack_link(n.a), &imp), 0);
    }
    oasis_pcap *pc = NULL;
    if (v->pcap) { /* (from the first frame the recording has) */
        assert_int_equal(oasis_pcap_open(v->pcap, &pc), 0);
        oasis_stack_link(n.a)->pcap = pc;
    }
    test_rec_wrap(&o->ra, n.a);
    test_rec_wrap(&o->rb, n.b);
    o->ra.inner->pcap = NULL;
    set_lend(&o->ra, v->lend);
    set_lend(&o->rb, v->lend);

    side sides[2];
    memset(sides, 0, sizeof sides);
    sides[0].want = B_SENDS;
    sides[1].want = A_SENDS;
    assert_int_equal(oasis_tcp_listen(n.b, PORT, NULL, on_accept, &sides[1]), 0);
    if (v->v6) {
        oasis_ipaddr b6 = oasis_ipaddr_v6((const uint8_t[16])TH_IN6(2));
        assert_int_equal(oasis_tcp_connect(n.a, &b6, PORT, NULL, on_connect, &sides[0]), 0);
    } else {
        assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, PORT, NULL, on_connect, &sides[0]), 0);
    }
    oasis_wire_run(n.wire, both_done, sides, 30 * OASIS_NS_PER_SEC);
    assert_int_equal(sides[0].got, B_SENDS);
    assert_int_equal(sides[1].got, A_SENDS);
    if (v->rr)
        request_response(&n, sides);
    const oasis_tcp_ext *xa = sides[0].flow->ext;
    o->cached = xa && (v->v6 ? xa->txc6.nb != NULL : xa->txc.nb != NULL);
    assert_int_equal(oasis_tcp_close(sides[0].flow, on_closed, &sides[0]), 0);
    assert_int_equal(oasis_tcp_close(sides[1].flow, on_closed, &sides[1]), 0);
    oasis_wire_run(n.wire, both_closed, sides, 30 * OASIS_NS_PER_SEC);
    assert_true(both_closed(sides));

    o->ca = n.a->ctr;
    o->cb = n.b->ctr;
    oasis_pcap_close(pc);
    test_rec_unwrap(&o->ra, n.a);
    test_rec_unwrap(&o->rb, n.b);
    test_net_fini(&n);
}

static void run(int offload, int slow, run_out *o)
{
    variant v = {.offload = offload, .slow = slow};
    run_v(&v, o);
}

static void assert_same_frames(run_out *slow, run_out *fast)
{
    test_rec_assert_same(&fast->ra, &slow->ra, 10);
    test_rec_assert_same(&fast->rb, &slow->rb, 0);
    /* Every layer counted alike: IP's requests, the link's frames and
     * bytes, TCP's segments, ARP's lookups. */
    assert_memory_equal(&slow->ca, &fast->ca, sizeof slow->ca);
    assert_memory_equal(&slow->cb, &fast->cb, sizeof slow->cb);
    test_rec_free(&slow->ra);
    test_rec_free(&slow->rb);
    test_rec_free(&fast->ra);
    test_rec_free(&fast->rb);
}

static void assert_same_run(run_out *slow, run_out *fast)
{
    assert_false(slow->cached);
    assert_true(fast->cached);
    assert_same_frames(slow, fast);
}

static void test_same_frames_as_slow_path(void **state)
{
    (void)state;
    static run_out slow, fast;
    run(0, 1, &slow);
    run(0, 0, &fast);
    assert_same_run(&slow, &fast);
}

static void test_same_frames_as_slow_path_offload(void **state)
{
    (void)state;
    static run_out slow, fast;
    run(1, 1, &slow);
    run(1, 0, &fast);
    assert_same_run(&slow, &fast);
}

/* IPv6's cache (ipv6.c oasis_ipv6_txc): the same, with requests and
 * responses (the 3 s silences let the neighbours' entries age through
 * STALE and DELAY, which the cache's sends must drive as the slow path's
 * do), with loss, and with offloads (super-segments by pbuf). */
static void slow_vs_cached(variant v)
{
    static run_out slow, fast;
    v.slow = 1;
    run_v(&v, &slow);
    v.slow = 0;
    run_v(&v, &fast);
    if (v.loss > 0) { /* (A's extension may be new at the end, an ACK still due) */
        assert_false(slow.cached);
        assert_same_frames(&slow, &fast);
        return;
    }
    assert_same_run(&slow, &fast);
}

static void test_same_frames_as_slow_path6(void **state)
{
    (void)state;
    slow_vs_cached((variant){.v6 = 1, .rr = 1});
    slow_vs_cached((variant){.v6 = 1, .rr = 1, .loss = 0.02});
    slow_vs_cached((variant){.v6 = 1, .rr = 1, .offload = 1});
}

/* ---- TCP's established-case paths (tcp_output.c output_one, xmit_plain) -- */

/* The same conversation with TCP's shortcuts on and off (the transmit
 * cache on both times): the same frames and counters, whatever the
 * options, ECN, loss (SACK blocks, recovery, RTOs) or offloads. */
static void fast_vs_general(variant v)
{
    static run_out general, fast;
    v.fast_off = 1;
    run_v(&v, &general);
    v.fast_off = 0;
    run_v(&v, &fast);
    if (!v.buf) { /* (a small buffer's flow may be idle at the end, its cache emptied) */
        assert_true(general.cached);
        assert_true(fast.cached);
    }
    assert_same_frames(&general, &fast);
}

static void test_fast_same_frames(void **state)
{
    (void)state;
    fast_vs_general((variant){.rr = 1});
}

static void test_fast_same_frames_no_ts(void **state)
{
    (void)state;
    fast_vs_general((variant){.no_ts = 1, .rr = 1});
}

static void test_fast_same_frames_ecn(void **state)
{
    (void)state;
    fast_vs_general((variant){.ecn = 1, .rr = 1});
}

static void test_fast_same_frames_loss(void **state)
{
    (void)state;
    fast_vs_general((variant){.loss = 0.02, .rr = 1});
    fast_vs_general((variant){.loss = 0.02, .no_ts = 1, .rr = 1});
}

static void test_fast_same_frames_nagle_small_window(void **state)
{
    (void)state;
    fast_vs_general((variant){.nagle = 1, .rr = 1});
    fast_vs_general((variant){.buf = 4000, .rr = 1});
    fast_vs_general((variant){.buf = 4000, .nagle = 1, .loss = 0.02, .rr = 1});
}

static void test_fast_same_frames_offload(void **state)
{
    (void)state;
    fast_vs_general((variant){.offload = 1, .rr = 1});
}

static void test_fast_same_frames6(void **state)
{
    (void)state;
    fast_vs_general((variant){.v6 = 1, .rr = 1});
    fast_vs_general((variant){.v6 = 1, .no_ts = 1, .loss = 0.02, .rr = 1});
    fast_vs_general((variant){.v6 = 1, .buf = 4000, .nagle = 1, .rr = 1});
}

/* ---- frame lending (oasis/link.h tx_lend, tx_commit) ------------------- */

/* The same conversation with the wire lending its frames' memory and with
 * a link that leaves the fields NULL (or refuses every loan): the same
 * frames byte for byte, the same counters; frames were built in loans. */
static void lend_vs_copy(variant v, int other)
{
    static run_out copied, lent;
    v.lend = other;
    g_refused = 0;
    run_v(&v, &copied);
    assert_int_equal(copied.ra.lent_frames + copied.rb.lent_frames, 0);
    if (other == LEND_REFUSE)
        assert_true(g_refused > 100);
    v.lend = LEND_WIRE;
    run_v(&v, &lent);
    assert_true(lent.ra.lent_frames > 20);
    assert_true(lent.rb.lent_frames > 20);
    /* Small frames are copied (OASIS_ETH_LEND_MIN), pure ACKs too. */
    assert_true(lent.ra.lent_frames < lent.ra.frames);
    assert_same_frames(&copied, &lent);
}

static void test_lend_same_frames(void **state)
{
    (void)state;
    lend_vs_copy((variant){.rr = 1}, LEND_NONE);
    lend_vs_copy((variant){.no_ts = 1, .rr = 1}, LEND_NONE);
    /* ECN's data segments are built by xmit_general, which lends too. */
    lend_vs_copy((variant){.ecn = 1, .rr = 1}, LEND_NONE);
}

static void test_lend_refused_goes_by_send(void **state)
{
    (void)state;
    lend_vs_copy((variant){.rr = 1}, LEND_REFUSE);
}

/* A lossy wire lends nothing (only its plain channels do), and nothing
 * changes. */
static void test_lend_lossy_wire_same_frames(void **state)
{
    (void)state;
    static run_out copied, lent;
    variant v = {.loss = 0.02, .rr = 1, .lend = LEND_NONE};
    run_v(&v, &copied);
    v.lend = LEND_WIRE;
    run_v(&v, &lent);
    assert_int_equal(lent.ra.lent_frames + lent.rb.lent_frames, 0);
    assert_same_frames(&copied, &lent);
}

static uint32_t rd32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A capture shows the frames built in loans like any other: the frames
 * A sent in the pcap (which has those it received too) are exactly the
 * frames its link got, in order. */
static void test_lend_pcap_captures(void **state)
{
    (void)state;
    char path[] = "/tmp/oasis-lend-pcap-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    static run_out o;
    variant v = {.rr = 1, .pcap = path};
    run_v(&v, &o);
    assert_true(o.ra.lent_frames > 20);

    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t hdr[24];
    assert_int_equal(fread(hdr, 1, sizeof hdr, f), sizeof hdr);
    /* the recording: per frame its offload, its length, its bytes */
    size_t at = 0, n = 0;
    static uint8_t buf[65536 + 16];
    uint8_t rec[16];
    const uint8_t *mac_a = o.ra.bytes + sizeof(oasis_offload) + 4 + 6; /* first frame's source */
    while (fread(rec, 1, sizeof rec, f) == sizeof rec) {
        uint32_t caplen = rd32le(rec + 8);
        assert_true(caplen <= sizeof buf && caplen >= 14);
        assert_int_equal(fread(buf, 1, caplen, f), caplen);
        if (memcmp(buf + 6, mac_a, 6) != 0)
            continue; /* received */
        at += sizeof(oasis_offload);
        assert_true(at + 4 <= o.ra.len);
        uint32_t len;
        memcpy(&len, o.ra.bytes + at, 4);
        at += 4;
        assert_int_equal(len, caplen);
        assert_memory_equal(o.ra.bytes + at, buf, caplen);
        at += caplen;
        n++;
    }
    fclose(f);
    unlink(path);
    assert_int_equal(n, o.ra.frames);
    assert_int_equal(at, o.ra.len);
    test_rec_free(&o.ra);
    test_rec_free(&o.rb);
}

/* ---- the timers a write arms (output_one: oasis_tcp_arm_sent) ---------- */

typedef struct armed {
    uint64_t rexmt, tlp, timer;
    int active;
} armed;

enum { ARM_PLAIN, ARM_NO_SACK, ARM_TLP_OUT, ARM_RETRIES, ARM_SACKED, ARM_LATE };

static void write1(tcp_harness *h, oasis_flow *f)
{
    static const uint8_t one = 'x';
    assert_int_equal(oasis_tcp_write(f, &one, 1, NULL, NULL), 0);
    th_poll(h);
}

/* An established flow to the harness's peer (SACK permitted but with
 * ARM_NO_SACK), a byte sent and acknowledged (an RTT sample), the state
 * cond puts it in, then a one-byte write: the deadlines it leaves. */
static armed arm_after_write(int fast_off, int cond)
{
    tcp_harness h;
    th_app app;
    th_init(&h, NULL);
    th_app_init(&app);
    h.s->tcp->tx_fast_off = (uint8_t)fast_off;
    assert_int_equal(oasis_tcp_connect4(h.s, TH_PEER, 80, NULL, th_connect_cb, &app), 0);
    th_poll(&h);
    oasis_tcp_hdr r;
    assert_true(th_pop(&h, &r));
    oasis_tcp_hdr sa = th_seg(80, r.src_port, OASIS_TCP_SYN | OASIS_TCP_ACK, TH_PISN, r.seq + 1);
    sa.sack_permitted = cond != ARM_NO_SACK;
    th_inject(&h, &sa);
    th_poll(&h);
    th_clear(&h);
    oasis_flow *f = app.flow;
    assert_non_null(f);
    assert_int_equal(f->sack_ok, cond != ARM_NO_SACK);
    oasis_tcp_set_nodelay(f, 1);
    uint32_t una = r.seq + 1;
    /* data left unread keeps the flow's extension */
    oasis_tcp_hdr d = th_seg(80, r.src_port, OASIS_TCP_ACK | OASIS_TCP_PSH, TH_PISN + 1, una);
    d.payload = (const uint8_t *)"unread";
    d.payload_len = 6;
    th_inject(&h, &d);
    th_advance(&h, OASIS_NS_PER_SEC / 2); /* its delayed ACK goes */
    th_clear(&h);
    write1(&h, f);
    th_advance(&h, 5 * OASIS_NS_PER_MS);
    oasis_tcp_hdr ack = th_seg(80, r.src_port, OASIS_TCP_ACK, TH_PISN + 7, ++una);
    th_inject(&h, &ack);
    th_poll(&h);
    switch (cond) {
    case ARM_TLP_OUT:
        f->ext->sb.rack.tlp_out = 1; /* (as if a probe were out) */
        break;
    case ARM_RETRIES:
        f->ext->retries = 1;
        break;
    case ARM_SACKED: /* two segments out, the second SACKed */
        write1(&h, f);
        write1(&h, f);
        ack.sack_count = 1;
        ack.sack[0].left = una + 1;
        ack.sack[0].right = una + 2;
        th_inject(&h, &ack);
        th_poll(&h);
        assert_int_equal(f->ext->sb.n, 1);
        assert_int_equal(f->ext->rec.state, OASIS_REC_OPEN);
        break;
    case ARM_LATE: /* a segment out, its RTO 1 ms away: the PTO is cut to it */
        write1(&h, f);
        th_advance(&h, f->ext->tm.rexmt - oasis_clock_now(h.clock) - OASIS_NS_PER_MS);
        break;
    default:
        break;
    }
    th_clear(&h);
    write1(&h, f);
    armed a = {f->ext->tm.rexmt, f->ext->tm.tlp, f->ext->timer.deadline,
               oasis_timer_active(&f->ext->timer)};
    th_clear(&h);
    th_app_fini(&app);
    th_fini(&h);
    return a;
}

static void test_fast_arms_as_general(void **state)
{
    (void)state;
    for (int cond = ARM_PLAIN; cond <= ARM_LATE; cond++) {
        armed g = arm_after_write(1, cond), q = arm_after_write(0, cond);
        assert_int_equal(g.rexmt, q.rexmt);
        assert_int_equal(g.tlp, q.tlp);
        assert_int_equal(g.active, q.active);
        assert_int_equal(g.timer, q.timer);
        assert_true(q.active);
        assert_int_not_equal(q.rexmt, OASIS_TCP_NEVER);
        if (cond == ARM_PLAIN) /* a probe scheduled, never after the RTO */
            assert_true(q.tlp != OASIS_TCP_NEVER && q.tlp <= q.rexmt && q.timer <= q.tlp);
        else if (cond == ARM_LATE)
            assert_true(q.tlp == q.rexmt && q.timer <= q.tlp);
        else
            assert_int_equal(q.tlp, OASIS_TCP_NEVER);
    }
}

/* ---- invalidation ------------------------------------------------------ */

static const uint8_t PEER_MAC[6] = {0x02, 0, 0, 0, 0, 0x02}; /* the harness's */
static const uint8_t NEW_MAC[6] = {0x02, 0, 0, 0, 0, 0x77};
static const uint8_t GW_MAC[6] = {0x02, 0, 0, 0, 0, 0xfe};
#define GW OASIS_IPV4(10, 0, 0, 254)

typedef struct fx {
    tcp_harness h;
    th_app app;
    test_rec r;
    uint32_t iss;
    uint16_t lport;
    uint32_t sent; /* bytes written so far */
} fx;

/* An established flow to the harness's peer that keeps its extension
 * (the peer's data stays unread), the link recorded; over IPv6 when ipv6. */
static void fx_init_af(fx *x, int ipv6)
{
    memset(x, 0, sizeof *x);
    th_init_af(&x->h, NULL, ipv6);
    th_app_init(&x->app);
    test_rec_wrap(&x->r, x->h.s);
}

/* fx_init_af's second half: the flow to the harness's peer. */
static void fx_connect(fx *x)
{
    x->iss = th_open_active(&x->h, &x->app, 80, &x->lport);
    oasis_tcp_hdr d = th_seg(80, x->lport, OASIS_TCP_ACK | OASIS_TCP_PSH, TH_PISN + 1, x->iss + 1);
    d.payload = (const uint8_t *)"unread";
    d.payload_len = 6;
    th_inject(&x->h, &d);
    th_advance(&x->h, OASIS_NS_PER_SEC / 2); /* its delayed ACK goes */
    th_clear(&x->h);
    oasis_tcp_set_nodelay(x->app.flow, 1);
}

static void fx_open_af(fx *x, int ipv6)
{
    fx_init_af(x, ipv6);
    fx_connect(x);
}

static void fx_open(fx *x) { fx_open_af(x, 0); }

static void fx_close(fx *x)
{
    test_rec_unwrap(&x->r, x->h.s);
    test_rec_free(&x->r);
    th_app_fini(&x->app);
    th_fini(&x->h);
}

/* Writes one byte; returns the segment's Ethernet destination, once it
 * went out (the peer acknowledges it). */
static void fx_send(fx *x, uint8_t mac[6])
{
    static const uint8_t one = 'x';
    assert_int_equal(oasis_tcp_write(x->app.flow, &one, 1, NULL, NULL), 0);
    th_poll(&x->h);
    oasis_tcp_hdr seg;
    assert_true(th_pop(&x->h, &seg));
    assert_int_equal(seg.payload_len, 1);
    assert_int_equal(seg.seq, x->iss + 1 + x->sent);
    x->sent++;
    memcpy(mac, x->r.last_dst, 6);
    oasis_tcp_hdr ack = th_seg(80, x->lport, OASIS_TCP_ACK, TH_PISN + 7, x->iss + 1 + x->sent);
    th_inject(&x->h, &ack);
    th_poll(&x->h);
    th_clear(&x->h);
}

/* An IPv6 flow open, one segment sent and acknowledged (the peer's
 * destination MAC in mac): its transmit cache holds the next hop now. */
static void fx_open6_cached(fx *x, uint8_t mac[6])
{
    fx_open_af(x, 1);
    fx_send(x, mac);
    assert_non_null(x->app.flow->ext->txc6.nb);
}

static void test_follows_mac_change(void **state)
{
    (void)state;
    fx x;
    fx_open(&x);
    uint8_t mac[6];
    fx_send(&x, mac);
    assert_memory_equal(mac, PEER_MAC, 6);
    assert_non_null(x.app.flow->ext->txc.nb); /* the cache was used */

    /* Another MAC claims the peer's address; the old one stops answering
     * the re-checks, so the change is real (arp.c). */
    x.h.arp_mute = 1;
    oasis_stack *s = x.h.s;
    test_inject_arp(s, NEW_MAC, oasis_stack_mac(s), OASIS_ARP_REPLY, NEW_MAC, TH_PEER,
                    oasis_stack_mac(s), TH_LOCAL);
    uint64_t before = s->ctr.arp.mac_changes;
    for (int i = 0; i < 20 && s->ctr.arp.mac_changes == before; i++)
        th_advance(&x.h, OASIS_NS_PER_SEC);
    assert_int_equal(s->ctr.arp.mac_changes, before + 1);
    x.h.arp_mute = 0;

    fx_send(&x, mac);
    assert_memory_equal(mac, NEW_MAC, 6);
    fx_close(&x);
}

static void test_follows_entry_removal(void **state)
{
    (void)state;
    fx x;
    fx_open(&x);
    uint8_t mac[6];
    fx_send(&x, mac);
    assert_non_null(x.app.flow->ext->txc.nb);

    /* The neighbour is asked again and stays silent: its entry goes. */
    oasis_stack *s = x.h.s;
    x.h.arp_mute = 1;
    oasis_arp_reverify(s, TH_PEER);
    uint64_t failed = s->ctr.arp.resolve_failed;
    for (int i = 0; i < 20 && s->ctr.arp.resolve_failed == failed; i++)
        th_advance(&x.h, OASIS_NS_PER_SEC);
    assert_int_equal(s->ctr.arp.resolve_failed, failed + 1);
    assert_non_null(x.app.flow->ext); /* the flow kept its cache all along */
    x.h.arp_mute = 0;

    /* The next segment waits for a fresh resolution: a broadcast request. */
    uint64_t asked = x.h.arp_requests, unicast = x.h.arp_unicast;
    fx_send(&x, mac);
    assert_int_equal(x.h.arp_requests, asked + 1);
    assert_int_equal(x.h.arp_unicast, unicast);
    assert_memory_equal(mac, PEER_MAC, 6);
    fx_close(&x);
}

static void test_follows_route_change(void **state)
{
    (void)state;
    fx x;
    fx_open(&x);
    oasis_stack *s = x.h.s;
    test_learn_peer4(s, oasis_stack_mac(s), TH_LOCAL, GW_MAC, GW);
    assert_int_equal(oasis_stack_set_ipv4(s, TH_LOCAL, 24, GW), 0);
    uint8_t mac[6];
    fx_send(&x, mac);
    assert_memory_equal(mac, PEER_MAC, 6); /* on-link */
    assert_non_null(x.app.flow->ext->txc.nb);

    /* A /32: the peer is off-link now, through the gateway. */
    assert_int_equal(oasis_stack_set_ipv4(s, TH_LOCAL, 32, GW), 0);
    fx_send(&x, mac);
    assert_memory_equal(mac, GW_MAC, 6);
    /* And back. */
    assert_int_equal(oasis_stack_set_ipv4(s, TH_LOCAL, 24, GW), 0);
    fx_send(&x, mac);
    assert_memory_equal(mac, PEER_MAC, 6);
    fx_close(&x);
}

/* The IPv4 header of the last frame r recorded. */
static const uint8_t *last_ip(const test_rec *r)
{
    const uint8_t *p = r->bytes, *ip = NULL;
    while (p < r->bytes + r->len) {
        uint32_t n;
        memcpy(&n, p + sizeof(oasis_offload), sizeof n);
        ip = p + sizeof(oasis_offload) + sizeof n + 14;
        p += sizeof(oasis_offload) + sizeof n + n;
    }
    assert_non_null(ip);
    return ip;
}

/* The cache holds the flow's TTL too: a segment after oasis_tcp_set_ttl
 * leaves with the new one (the cache refilled, its header sum right). */
static void test_follows_ttl_change(void **state)
{
    (void)state;
    fx x;
    fx_open(&x);
    uint8_t mac[6];
    fx_send(&x, mac);
    assert_non_null(x.app.flow->ext->txc.nb); /* the cache was used */
    assert_int_equal(last_ip(&x.r)[8], 64);
    assert_int_equal(oasis_tcp_set_ttl(x.app.flow, 7), 0);
    uint64_t out = x.h.s->ctr.ip.out_requests;
    fx_send(&x, mac);
    assert_int_equal(last_ip(&x.r)[8], 7);
    assert_int_equal(oasis_csum(last_ip(&x.r), 20), 0);
    assert_int_equal(x.app.flow->ext->txc.ttl, 7); /* through the cache */
    assert_true(x.h.s->ctr.ip.out_requests > out);
    assert_int_equal(oasis_tcp_set_ttl(x.app.flow, 0), 0);
    fx_send(&x, mac);
    assert_int_equal(last_ip(&x.r)[8], 64);
    fx_close(&x);
}

/* Datagrams sent through the cache count as the entry's use: a flood of
 * strangers' requests at the cache's size bound evicts others, never the
 * neighbour a flow is talking through (arp.c create_entry). */
static void test_keeps_neighbour_in_use(void **state)
{
    (void)state;
    fx x;
    fx_open(&x);
    oasis_stack *s = x.h.s;
    th_advance(&x.h, OASIS_NS_PER_SEC); /* the peer's entry: the oldest */
    uint8_t mac[6];
    fx_send(&x, mac);
    assert_non_null(x.app.flow->ext->txc.nb);
    uint32_t n = s->cfg.arp_cache_size + 16;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t m[6] = {0x02, 1, 0, 0, (uint8_t)(i >> 8), (uint8_t)i};
        test_learn_peer4(s, oasis_stack_mac(s), TH_LOCAL, m, OASIS_IPV4(10, 0, 1, 0) + i);
    }
    assert_true(s->ctr.arp.cache_evictions > 0);
    uint8_t got[6];
    assert_int_equal(oasis_arp_lookup(s, TH_PEER, got), 0);
    assert_memory_equal(got, PEER_MAC, 6);
    fx_close(&x);
}

/* ---- IPv6's cache (ipv6.c oasis_ipv6_txc) ---------------------------- */

static const oasis_in6 PEER6 = {TH_PEER6};

/* An NA from the peer (flags OASIS_ND_NA_*) giving mac as its address. */
static void peer_na(fx *x, uint8_t flags, const uint8_t *mac)
{
    uint8_t na[32];
    size_t n = oasis_nd_emit_na(na, &PEER6, flags, mac);
    oasis_in6 local = {TH_LOCAL6};
    th_icmp6_from(&x->h, mac, &PEER6, &local, na, n);
}

static const ip6_neigh *peer_entry(fx *x) { return oasis_nd_lookup(x->h.s, &PEER6); }

/* RFC 4861 7.2.5: an NA with Override and another link-layer address
 * changes the entry's; the flow's next segment goes to it. */
static void test_follows_mac_change6(void **state)
{
    (void)state;
    fx x;
    uint8_t mac[6];
    fx_open6_cached(&x, mac);
    assert_memory_equal(mac, PEER_MAC, 6);
    peer_na(&x, OASIS_ND_NA_OVERRIDE, NEW_MAC);
    assert_memory_equal(peer_entry(&x)->mac, NEW_MAC, 6);
    fx_send(&x, mac);
    assert_memory_equal(mac, NEW_MAC, 6);
    assert_non_null(x.app.flow->ext->txc6.nb);
    fx_close(&x);
}

/* The entry goes (NUD's unanswered probes, RFC 4861 7.3.3): the next
 * segment starts a new resolution, multicast, instead of leaving for the
 * freed slot's address. */
static void test_follows_entry_removal6(void **state)
{
    (void)state;
    fx x;
    uint8_t mac[6];
    fx_open6_cached(&x, mac);
    oasis_stack *s = x.h.s;
    x.h.arp_mute = 1;
    oasis_ipaddr peer = oasis_ipaddr_v6(PEER6.b);
    oasis_ipv6_negative_advice(s, &peer);
    /* a segment while the entry is probed: the cache holds it then */
    fx_send(&x, mac);
    assert_int_equal(peer_entry(&x)->state, NEIGH_PROBE);
    uint64_t failed = s->ctr.nd.resolve_failed;
    for (int i = 0; i < 20 && s->ctr.nd.resolve_failed == failed; i++)
        th_advance(&x.h, OASIS_NS_PER_SEC);
    assert_int_equal(s->ctr.nd.resolve_failed, failed + 1);
    assert_null(peer_entry(&x));
    x.h.arp_mute = 0;
    uint64_t asked = x.h.arp_requests, unicast = x.h.arp_unicast;
    fx_send(&x, mac);
    assert_int_equal(x.h.arp_requests, asked + 1);
    assert_int_equal(x.h.arp_unicast, unicast);
    assert_memory_equal(mac, PEER_MAC, 6);
    /* That segment went the slow way (nothing resolved to cache); the
     * answer resolved the entry, and the next one is the cache's again. */
    fx_send(&x, mac);
    assert_non_null(x.app.flow->ext->txc6.nb);
    fx_close(&x);
}

/* RFC 4861 7.3.3: "the first time a node sends a packet to a neighbor
 * whose entry is STALE, the sender changes the state to DELAY"; with no
 * confirmation within DELAY_FIRST_PROBE_TIME it probes by unicast. The
 * cache's sends count as such packets. */
static void test_stale_send_delays6(void **state)
{
    (void)state;
    fx x;
    uint8_t mac[6];
    fx_open6_cached(&x, mac);
    th_advance(&x.h, 60 * OASIS_NS_PER_SEC); /* past ReachableTime: STALE */
    assert_int_equal(peer_entry(&x)->state, NEIGH_STALE);
    static const uint8_t one = 'y';
    assert_int_equal(oasis_tcp_write(x.app.flow, &one, 1, NULL, NULL), 0);
    th_poll(&x.h);
    oasis_tcp_hdr seg;
    assert_true(th_pop(&x.h, &seg));
    assert_int_equal(seg.payload_len, 1);
    assert_non_null(x.app.flow->ext->txc6.nb); /* sent through the cache */
    assert_int_equal(peer_entry(&x)->state, NEIGH_DELAY);
    /* No acknowledgment confirms the peer: a unicast probe 5 s on. */
    uint64_t unicast = x.h.arp_unicast;
    th_advance(&x.h, ND_DELAY_FIRST_PROBE_NS + OASIS_NS_PER_SEC / 2);
    assert_true(x.h.arp_unicast > unicast);
    fx_close(&x);
}

/* The hop limit: the flow's (oasis_tcp_set_ttl), or the stack's, which
 * an RA's Cur Hop Limit sets (RFC 4861 6.3.4). */
static void test_follows_hop_limit6(void **state)
{
    (void)state;
    fx x;
    uint8_t mac[6];
    fx_open6_cached(&x, mac);
    assert_int_equal(x.h.last_ttl, 64);
    assert_int_equal(oasis_tcp_set_ttl(x.app.flow, 9), 0);
    fx_send(&x, mac);
    assert_int_equal(x.h.last_ttl, 9);
    assert_int_equal(x.app.flow->ext->txc6.hop, 9); /* through the cache */
    assert_int_equal(oasis_tcp_set_ttl(x.app.flow, 0), 0);
    fx_send(&x, mac);
    assert_int_equal(x.h.last_ttl, 64);
    /* An RA from a router on the link: hop limit 17, no default route. */
    uint8_t ra[16];
    memset(ra, 0, sizeof ra);
    ra[0] = OASIS_ICMP6_RA;
    ra[4] = 17;
    oasis_in6 router = {{0xfe, 0x80, [15] = 0xfe}}, all = {{0xff, 0x02, [15] = 1}};
    th_icmp6_from(&x.h, GW_MAC, &router, &all, ra, sizeof ra);
    assert_int_equal(x.h.s->ip6->cur_hop_limit, 17);
    fx_send(&x, mac);
    assert_int_equal(x.h.last_ttl, 17);
    assert_non_null(x.app.flow->ext->txc6.nb);
    fx_close(&x);
}

/* A lower link MTU (oasis_stack_set_mtu): the cache holds the new one
 * (what it would send whole, it checks against it) and the segments fit. */
static void test_follows_mtu6(void **state)
{
    (void)state;
    fx x;
    uint8_t mac[6];
    fx_open6_cached(&x, mac);
    assert_int_equal(x.app.flow->ext->txc6.mtu, 1500);
    oasis_stack *s = x.h.s;
    assert_int_equal(oasis_stack_set_mtu(s, 1280), 0);
    static uint8_t big[1400];
    assert_int_equal(oasis_tcp_write(x.app.flow, big, sizeof big, NULL, NULL), 0);
    th_poll(&x.h);
    oasis_tcp_hdr seg;
    size_t got = 0;
    while (th_pop(&x.h, &seg)) {
        assert_true(OASIS_IPV6_HLEN + OASIS_TCP_HLEN + oasis_tcp_options_len(&seg) + seg.payload_len <=
                    1280);
        got += seg.payload_len;
    }
    assert_int_equal(got, sizeof big);
    assert_int_equal(x.app.flow->ext->txc6.mtu, 1280);
    assert_non_null(x.app.flow->ext->txc6.nb);
    fx_close(&x);
}


/* An RA from router (link-local, at mac): router lifetime life seconds;
 * with onlink, also the /64 holding it as an on-link prefix (L set, A
 * clear: RFC 4861 4.6.2) valid and preferred for valid_s seconds. */
static void router_ra_prefix(fx *x, const oasis_in6 *router, const uint8_t *mac, uint16_t life,
                             const uint8_t *onlink, uint32_t valid_s)
{
    uint8_t ra[56];
    memset(ra, 0, sizeof ra);
    ra[0] = OASIS_ICMP6_RA;
    oasis_put16(ra + 6, life);
    ra[16] = OASIS_ND_OPT_SLLA;
    ra[17] = 1;
    memcpy(ra + 18, mac, 6);
    uint8_t *pio = ra + 24;
    if (onlink) {
        pio[0] = 3;
        pio[1] = 4;
        pio[2] = 64;
        pio[3] = 0x80;
        oasis_put32(pio + 4, valid_s);
        oasis_put32(pio + 8, valid_s);
        memcpy(pio + 16, onlink, 8);
    }
    oasis_in6 all = {{0xff, 0x02, [15] = 1}};
    th_icmp6_from(&x->h, mac, router, &all, ra, onlink ? 56 : 24);
}

static void router_ra(fx *x, const oasis_in6 *router, const uint8_t *mac, uint16_t life)
{
    router_ra_prefix(x, router, mac, life, NULL, 0);
}

/* RFC 4861 6.3.4: a prefix an RA marks on-link (L) makes its addresses
 * neighbours until its valid lifetime runs out; then (5.2) a destination
 * in it is off-link and the flow's next segment goes to the default
 * router. The cache holds the direct route until the expiry. */
static void test_follows_prefix_expiry6(void **state)
{
    (void)state;
    fx x;
    fx_init_af(&x, 1);
    oasis_in6 gw = {{0xfe, 0x80, [15] = 0xfe}};
    static const uint8_t far[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 2}; /* off our /64 */
    router_ra_prefix(&x, &gw, GW_MAC, 1800, far, 30); /* a default router; far's /64 on-link, 30 s */
    x.h.peer = oasis_ipaddr_v6(far);
    fx_connect(&x);
    uint8_t mac[6];
    fx_send(&x, mac);
    fx_send(&x, mac);
    assert_memory_equal(mac, PEER_MAC, 6); /* on-link: straight to it */
    assert_non_null(x.app.flow->ext->txc6.nb);
    th_advance(&x.h, 20 * OASIS_NS_PER_SEC);
    fx_send(&x, mac);
    assert_memory_equal(mac, PEER_MAC, 6);
    th_advance(&x.h, 11 * OASIS_NS_PER_SEC); /* past the valid lifetime */
    fx_send(&x, mac);
    assert_memory_equal(mac, GW_MAC, 6);
    fx_send(&x, mac);
    assert_memory_equal(mac, GW_MAC, 6);
    assert_non_null(x.app.flow->ext->txc6.nb);
    fx_close(&x);
}

/* RFC 4861 8.3: a Redirect from the first hop to an off-link destination
 * names a better one; the flow's next segment goes there. The new first
 * hop's address was known before (an RA from it), and the Redirect
 * carries no link-layer address, so only the route changed (no neighbour
 * entry did). */
static void test_follows_redirect6(void **state)
{
    (void)state;
    fx x;
    fx_init_af(&x, 1);
    oasis_in6 gw = {{0xfe, 0x80, [15] = 0xfe}}, gw2 = {{0xfe, 0x80, [15] = 0x77}};
    router_ra(&x, &gw, GW_MAC, 1800); /* the default router */
    router_ra(&x, &gw2, NEW_MAC, 0);  /* a router, not a default one */
    static const uint8_t far[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 2}; /* off our /64 */
    x.h.peer = oasis_ipaddr_v6(far);
    fx_connect(&x);
    uint8_t mac[6];
    fx_send(&x, mac); /* (its ACK confirms the router: REACHABLE) */
    fx_send(&x, mac);
    assert_memory_equal(mac, GW_MAC, 6);
    const oasis_ipv6_txc *c = &x.app.flow->ext->txc6;
    assert_non_null(c->nb);
    /* The cache is current, though an entry is in DELAY (the peer's
     * announcement was answered) and each ACK confirms the router again:
     * a neighbour that stays resolved with its address keeps every
     * cache. Only the Redirect can make it stale. */
    assert_int_equal(c->rt_gen, x.h.s->ip.rt_gen);
    assert_int_equal(c->nb_gen, x.h.s->ip6->nd_gen);

    uint8_t rd[40];
    memset(rd, 0, sizeof rd);
    rd[0] = OASIS_ICMP6_REDIRECT;
    memcpy(rd + 8, gw2.b, 16);
    memcpy(rd + 24, far, 16);
    oasis_in6 local = {TH_LOCAL6};
    uint64_t redirects = x.h.s->ctr.nd.redirects;
    uint32_t nb_gen = x.h.s->ip6->nd_gen;
    th_icmp6_from(&x.h, GW_MAC, &gw, &local, rd, sizeof rd);
    assert_int_equal(x.h.s->ctr.nd.redirects, redirects + 1);
    assert_int_equal(x.h.s->ip6->nd_gen, nb_gen); /* (no neighbour changed) */
    fx_send(&x, mac);
    assert_memory_equal(mac, NEW_MAC, 6);
    assert_non_null(x.app.flow->ext->txc6.nb);
    fx_close(&x);
}

/* The IPv4 header the cache writes checksums right for every TOS, length
 * and ID: the field is summed from the template's sum and the three fields
 * (ipv4.c txc_write), and the sums that need both folds (near 0xffff) come
 * up among these quarter million datagrams. */
static void test_header_sum_every_field(void **state)
{
    (void)state;
    fx x;
    fx_open(&x);
    oasis_stack *s = x.h.s;
    oasis_ipv4_txc c;
    memset(&c, 0, sizeof c);
    size_t n = 0;
    for (uint32_t tos = 0; tos < 256; tos++) {
        for (uint32_t len = 0; len < 1000; len++) {
            oasis_pbuf *p = oasis_pbuf_alloc(s, OASIS_PBUF_HEADROOM, len);
            assert_non_null(p);
            memset(p->data, (int)(len * 7), len);
            x.r.len = 0;
            assert_int_equal(oasis_ipv4_output_cached(s, &c, p, TH_PEER, OASIS_IPPROTO_UDP, (uint8_t)tos, 0), 0);
            const uint8_t *ip = x.r.bytes + sizeof(oasis_offload) + sizeof(uint32_t) + OASIS_ETH_HLEN;
            assert_int_equal(ip[1], tos);
            assert_int_equal(ip[2] << 8 | ip[3], len + OASIS_IPV4_HLEN);
            assert_int_equal(oasis_csum(ip, OASIS_IPV4_HLEN), 0);
            n++;
        }
        th_clear(&x.h);
    }
    assert_non_null(c.nb); /* (the cache sent them) */
    assert_int_equal(n, 256000);
    fx_close(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_frames_as_slow_path),
        cmocka_unit_test(test_same_frames_as_slow_path_offload),
        cmocka_unit_test(test_same_frames_as_slow_path6),
        cmocka_unit_test(test_fast_same_frames),
        cmocka_unit_test(test_fast_same_frames_no_ts),
        cmocka_unit_test(test_fast_same_frames_ecn),
        cmocka_unit_test(test_fast_same_frames_loss),
        cmocka_unit_test(test_fast_same_frames_offload),
        cmocka_unit_test(test_fast_same_frames_nagle_small_window),
        cmocka_unit_test(test_fast_same_frames6),
        cmocka_unit_test(test_lend_same_frames),
        cmocka_unit_test(test_lend_refused_goes_by_send),
        cmocka_unit_test(test_lend_lossy_wire_same_frames),
        cmocka_unit_test(test_lend_pcap_captures),
        cmocka_unit_test(test_fast_arms_as_general),
        cmocka_unit_test(test_follows_mac_change),
        cmocka_unit_test(test_follows_entry_removal),
        cmocka_unit_test(test_follows_route_change),
        cmocka_unit_test(test_follows_ttl_change),
        cmocka_unit_test(test_keeps_neighbour_in_use),
        cmocka_unit_test(test_header_sum_every_field),
        cmocka_unit_test(test_follows_mac_change6),
        cmocka_unit_test(test_follows_entry_removal6),
        cmocka_unit_test(test_stale_send_delays6),
        cmocka_unit_test(test_follows_hop_limit6),
        cmocka_unit_test(test_follows_mtu6),
        cmocka_unit_test(test_follows_redirect6),
        cmocka_unit_test(test_follows_prefix_expiry6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
