/* The impairment filter (oasis/impair.h): counts per wire frame (a
 * super-segment is cut first), the same draws from the same seed, each
 * stage's effect, configuration errors, corrupted frames losing the link's
 * checksum vouching on the way in, and TCP between two stacks through
 * filters on both ends (loss, reordering, duplication, corruption; with and
 * without offloads) ending with the data intact. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/bytes.h"
#include "core/checksum.h"
#include "core/sha256.h"
#include "oasis/impair.h"
#include "testutil.h"

/* ---- a capturing inner link ---------------------------------------------- */

#define CAP_MAX 4096

typedef struct cap {
    oasis_link link;
    uint64_t sends, offload_sends;
    uint32_t ids[CAP_MAX]; /* bytes 14..17 of each plain frame */
    size_t n;
    uint8_t last[2048];
    size_t last_len;
    oasis_sha256 trace;
} cap;

static void cap_record(cap *c, const uint8_t *frame, size_t len)
{
    if (c->n < CAP_MAX && len >= 18)
        c->ids[c->n++] = oasis_get32(frame + 14);
    c->last_len = len < sizeof c->last ? len : sizeof c->last;
    memcpy(c->last, frame, c->last_len);
    oasis_sha256_update(&c->trace, frame, len);
}

static int cap_send(oasis_link *l, const uint8_t *frame, size_t len)
{
    cap *c = l->data;
    c->sends++;
    cap_record(c, frame, len);
    return 0;
}

static int cap_send_offload(oasis_link *l, const uint8_t *frame, size_t len,
                            const oasis_offload *off)
{
    cap *c = l->data;
    (void)off;
    c->offload_sends++;
    cap_record(c, frame, len);
    return 0;
}

static void cap_init(cap *c, int offload)
{
    memset(c, 0, sizeof *c);
    c->link.send = cap_send;
    c->link.mtu = 1500;
    c->link.data = c;
    if (offload) {
        c->link.send_offload = cap_send_offload;
        c->link.caps = OASIS_LINK_TSO4 | OASIS_LINK_CSUM_TX;
        c->link.gso_max = OASIS_GSO_MAX;
    }
    oasis_sha256_init(&c->trace);
}

/* A plain IPv4-typed frame of len bytes numbered id (bytes 14..17). */
static void plain_frame(uint8_t *f, size_t len, uint32_t id)
{
    memset(f, 0, len);
    memset(f, 0xaa, 12);
    oasis_put16(f + 12, 0x0800);
    oasis_put32(f + 14, id);
    for (size_t i = 18; i < len; i++)
        f[i] = (uint8_t)(i * 13 + id);
}

static oasis_impair_link *make(cap *c, const oasis_impair *out, uint64_t seed)
{
    oasis_impair_link_config cfg;
    oasis_impair_link_config_init(&cfg);
    if (out)
        cfg.out = *out;
    cfg.seed = seed;
    oasis_impair_link *f = NULL;
    assert_int_equal(oasis_impair_link_create(&c->link, &cfg, &f), 0);
    assert_non_null(f);
    return f;
}

static void send_n(oasis_impair_link *f, size_t n, size_t len)
{
    uint8_t fr[1514];
    oasis_link *l = oasis_impair_link_link(f);
    for (size_t i = 0; i < n; i++) {
        plain_frame(fr, len, (uint32_t)i);
        assert_int_equal(l->send(l, fr, len), 0);
    }
}

static void check_balance(const oasis_impair_link *f, int dir)
{
    oasis_impair_link_stats st;
    assert_int_equal(oasis_impair_link_stats_get(f, dir, &st), 0);
    assert_true(st.sent + st.duplicated ==
                st.delivered + st.dropped_loss + st.dropped_burst + st.held);
}

/* ---- configuration -------------------------------------------------------- */

static void test_config_errors(void **state)
{
    (void)state;
    cap c;
    cap_init(&c, 0);
    oasis_impair_link_config cfg;
    oasis_impair_link *f = (oasis_impair_link *)1;
    oasis_impair_link_config_init(&cfg);
    assert_int_equal(oasis_impair_link_create(NULL, &cfg, &f), OASIS_EINVAL);
    assert_int_equal(oasis_impair_link_create(&c.link, NULL, &f), OASIS_EINVAL);
    assert_int_equal(oasis_impair_link_create(&c.link, &cfg, NULL), OASIS_EINVAL);
    oasis_link nosend = {0};
    assert_int_equal(oasis_impair_link_create(&nosend, &cfg, &f), OASIS_EINVAL);
    double bad[] = {-0.1, 1.5, NAN};
    for (size_t i = 0; i < 3; i++) {
        oasis_impair_link_config_init(&cfg);
        cfg.out.loss = bad[i];
        assert_int_equal(oasis_impair_link_create(&c.link, &cfg, &f), OASIS_EINVAL);
        oasis_impair_link_config_init(&cfg);
        cfg.in.corrupt = bad[i];
        assert_int_equal(oasis_impair_link_create(&c.link, &cfg, &f), OASIS_EINVAL);
        oasis_impair_link_config_init(&cfg);
        cfg.in.ge_loss_bad = bad[i];
        assert_int_equal(oasis_impair_link_create(&c.link, &cfg, &f), OASIS_EINVAL);
    }
    oasis_impair_link_config_init(&cfg);
    cfg.reorder_gap = 1001;
    assert_int_equal(oasis_impair_link_create(&c.link, &cfg, &f), OASIS_EINVAL);
    /* Stages that need a clock: refused, not ignored. */
    for (int k = 0; k < 8; k++) {
        oasis_impair_link_config_init(&cfg);
        oasis_impair *g = k & 1 ? &cfg.in : &cfg.out;
        switch (k / 2) {
        case 0: g->delay_ns = 1000; break;
        case 1: g->rate_bps = 1000000; break;
        case 2: g->reorder_delay_ns = 5; break;
        default: g->ge_p_good_bad = 0.1; g->ge_step_ns = 1000; break;
        }
        assert_int_equal(oasis_impair_link_create(&c.link, &cfg, &f), OASIS_ENOTSUP);
    }
    oasis_impair_link_config_init(&cfg);
    cfg.out.ce_mark = 0.5;
    assert_int_equal(oasis_impair_link_create(&c.link, &cfg, &f), OASIS_ENOTSUP);
    assert_true(f == (oasis_impair_link *)1); /* untouched on failure */

    f = make(&c, NULL, 1);
    oasis_impair_link_stats st;
    assert_int_equal(oasis_impair_link_stats_get(f, 2, &st), OASIS_EINVAL);
    assert_int_equal(oasis_impair_link_stats_get(f, OASIS_IMPAIR_IN, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_impair_link_stats_get(NULL, OASIS_IMPAIR_IN, &st), OASIS_EINVAL);
    /* The inner link's shape: no offloads offered that it lacks. */
    assert_int_equal(oasis_impair_link_link(f)->mtu, 1500);
    assert_null(oasis_impair_link_link(f)->send_offload);
    assert_int_equal(oasis_impair_link_link(f)->caps, 0);
    oasis_impair_link_destroy(f);
    oasis_impair_link_destroy(NULL);
    oasis_impair_link_flush(NULL, NULL);
    assert_null(oasis_impair_link_link(NULL));
}

/* ---- each stage ------------------------------------------------------------ */

static void test_loss_counts_and_seed(void **state)
{
    (void)state;
    oasis_impair g;
    oasis_impair_init(&g);
    g.loss = 0.1;
    uint8_t h[3][32];
    uint64_t lost[3];
    uint64_t seeds[3] = {7, 7, 8};
    for (int r = 0; r < 3; r++) {
        cap c;
        cap_init(&c, 0);
        oasis_impair_link *f = make(&c, &g, seeds[r]);
        send_n(f, 4000, 100);
        oasis_impair_link_stats st;
        oasis_impair_link_stats_get(f, OASIS_IMPAIR_OUT, &st);
        assert_int_equal(st.sent, 4000);
        assert_int_equal(st.delivered, c.sends);
        assert_int_equal(st.delivered + st.dropped_loss, 4000);
        assert_true(st.dropped_loss > 300 && st.dropped_loss < 500); /* ~400 */
        lost[r] = st.dropped_loss;
        check_balance(f, OASIS_IMPAIR_OUT);
        oasis_impair_link_stats_get(f, OASIS_IMPAIR_IN, &st);
        assert_int_equal(st.sent, 0);
        oasis_sha256_final(&c.trace, h[r]);
        oasis_impair_link_destroy(f);
    }
    /* A seed replays the run; another seed is another run. */
    assert_int_equal(lost[0], lost[1]);
    assert_memory_equal(h[0], h[1], 32);
    assert_memory_not_equal(h[0], h[2], 32);
}

static void test_burst_loss(void **state)
{
    (void)state;
    oasis_impair g;
    oasis_impair_init(&g);
    g.ge_p_good_bad = 0.01;
    g.ge_p_bad_good = 0.25; /* bursts of 4 frames on average */
    g.ge_loss_bad = 1;
    cap c;
    cap_init(&c, 0);
    oasis_impair_link *f = make(&c, &g, 3);
    send_n(f, 4000, 80);
    oasis_impair_link_stats st;
    oasis_impair_link_stats_get(f, OASIS_IMPAIR_OUT, &st);
    assert_int_equal(st.dropped_loss, 0);
    assert_true(st.dropped_burst > 60 && st.dropped_burst < 300); /* ~4000*0.038 = 152 */
    /* Losses come in runs: fewer gaps in the ids than frames lost. */
    size_t gaps = 0;
    for (size_t i = 1; i < c.n; i++)
        gaps += c.ids[i] != c.ids[i - 1] + 1;
    assert_true(gaps * 2 < st.dropped_burst);
    oasis_impair_link_destroy(f);
}

static void test_corrupt_one_bit_not_arp(void **state)
{
    (void)state;
    oasis_impair g;
    oasis_impair_init(&g);
    g.corrupt = 1;
    cap c;
    cap_init(&c, 0);
    oasis_impair_link *f = make(&c, &g, 5);
    oasis_link *l = oasis_impair_link_link(f);
    uint8_t fr[600];
    for (uint32_t i = 0; i < 200; i++) {
        plain_frame(fr, sizeof fr, i);
        assert_int_equal(l->send(l, fr, sizeof fr), 0);
        assert_int_equal(c.last_len, sizeof fr);
        int bits = 0;
        for (size_t k = 0; k < sizeof fr; k++) {
            uint8_t x = (uint8_t)(fr[k] ^ c.last[k]);
            assert_true(k >= 14 || x == 0); /* the Ethernet header is left alone */
            for (; x; x &= (uint8_t)(x - 1))
                bits++;
        }
        assert_int_equal(bits, 1);
    }
    /* ARP has no checksum: never corrupted. */
    plain_frame(fr, 60, 1);
    oasis_put16(fr + 12, 0x0806);
    assert_int_equal(l->send(l, fr, 60), 0);
    assert_memory_equal(c.last, fr, 60);
    oasis_impair_link_stats st;
    oasis_impair_link_stats_get(f, OASIS_IMPAIR_OUT, &st);
    assert_int_equal(st.corrupted, 200);
    assert_int_equal(st.delivered, 201);
    oasis_impair_link_destroy(f);
}

static void test_duplicate(void **state)
{
    (void)state;
    oasis_impair g;
    oasis_impair_init(&g);
    g.duplicate = 0.05;
    cap c;
    cap_init(&c, 0);
    oasis_impair_link *f = make(&c, &g, 9);
    send_n(f, 2000, 64);
    oasis_impair_link_stats st;
    oasis_impair_link_stats_get(f, OASIS_IMPAIR_OUT, &st);
    assert_true(st.duplicated > 50 && st.duplicated < 160);
    assert_int_equal(c.sends, 2000 + st.duplicated);
    /* A copy comes right after its original. */
    size_t twins = 0;
    for (size_t i = 1; i < c.n; i++)
        twins += c.ids[i] == c.ids[i - 1];
    assert_int_equal(twins, st.duplicated);
    check_balance(f, OASIS_IMPAIR_OUT);
    oasis_impair_link_destroy(f);
}

static void test_reorder_gap(void **state)
{
    (void)state;
    oasis_impair g;
    oasis_impair_init(&g);
    g.reorder = 0.05;
    cap c;
    cap_init(&c, 0);
    oasis_impair_link *f = make(&c, &g, 11); /* gap 3 */
    send_n(f, 2000, 64);
    oasis_impair_link_stats st;
    oasis_impair_link_stats_get(f, OASIS_IMPAIR_OUT, &st);
    assert_true(st.reordered > 50 && st.reordered < 160);
    check_balance(f, OASIS_IMPAIR_OUT);
    oasis_impair_link_flush(f, NULL);
    oasis_impair_link_stats_get(f, OASIS_IMPAIR_OUT, &st);
    assert_int_equal(st.held, 0);
    assert_int_equal(st.delivered, 2000);
    /* Every frame arrives exactly once; a late one is at most 3 + the
     * held ones around it behind where it belongs, and some are late. */
    static uint8_t seen[2000];
    memset(seen, 0, sizeof seen);
    size_t late = 0;
    for (size_t i = 0; i < c.n; i++) {
        assert_true(c.ids[i] < 2000);
        assert_int_equal(seen[c.ids[i]]++, 0);
        if (i > 0 && c.ids[i] < c.ids[i - 1])
            late++;
    }
    assert_int_equal(c.n, 2000);
    assert_true(late > 0);
    /* gap 1: a held frame swaps with the next one. */
    cap c1;
    cap_init(&c1, 0);
    g.reorder = 1; /* every frame is held, up to OASIS_IMPAIR_HELD_MAX */
    oasis_impair_link_config cfg;
    oasis_impair_link_config_init(&cfg);
    cfg.out = g;
    cfg.reorder_gap = 1;
    oasis_impair_link *f1;
    assert_int_equal(oasis_impair_link_create(&c1.link, &cfg, &f1), 0);
    send_n(f1, 4, 64);
    /* 0 held; 1 held, releases 0; 2 held, releases 1; 3 held, releases 2 */
    assert_int_equal(c1.n, 3);
    assert_int_equal(c1.ids[0], 0);
    assert_int_equal(c1.ids[2], 2);
    oasis_impair_link_flush(f1, NULL);
    assert_int_equal(c1.n, 4);
    oasis_impair_link_destroy(f1);
    oasis_impair_link_destroy(f);
}

/* Gilbert-Elliott on a clock (cfg.clock, ge_step_ns): a burst lasts a
 * time, not a number of frames. Frames 10 us apart inside 5 ms bad
 * periods are lost in long runs; the same chain seen one second apart
 * gives independent draws (a sender quiet for an RTO does not find the
 * burst that took its last frame still waiting). */
static double mean_loss_run(uint64_t gap_ns, uint64_t *lost_out)
{
    oasis_clock *clock = oasis_clock_new_virtual(1000 * OASIS_NS_PER_SEC);
    cap c;
    cap_init(&c, 0);
    oasis_impair_link_config cfg;
    oasis_impair_link_config_init(&cfg);
    cfg.out.ge_p_good_bad = 0.02;
    cfg.out.ge_p_bad_good = 0.2; /* bad for 5 steps = 5 ms on average */
    cfg.out.ge_loss_bad = 1;
    cfg.out.ge_step_ns = OASIS_NS_PER_MS;
    cfg.clock = clock;
    cfg.seed = 17;
    oasis_impair_link *f;
    assert_int_equal(oasis_impair_link_create(&c.link, &cfg, &f), 0);
    oasis_link *l = oasis_impair_link_link(f);
    uint8_t fr[100];
    size_t runs = 0, lost = 0, prev_delivered = 1;
    for (uint32_t i = 0; i < 20000; i++) {
        plain_frame(fr, sizeof fr, i);
        uint64_t before = c.sends;
        assert_int_equal(l->send(l, fr, sizeof fr), 0);
        int delivered = c.sends != before;
        if (!delivered) {
            lost++;
            runs += prev_delivered;
        }
        prev_delivered = delivered;
        oasis_clock_advance(clock, gap_ns);
    }
    oasis_impair_link_stats st;
    oasis_impair_link_stats_get(f, OASIS_IMPAIR_OUT, &st);
    assert_int_equal(st.dropped_burst, lost);
    *lost_out = lost;
    oasis_impair_link_destroy(f);
    oasis_clock_free(clock);
    return runs ? (double)lost / (double)runs : 0;
}

static void test_burst_on_clock(void **state)
{
    (void)state;
    uint64_t lost_close, lost_far;
    double close = mean_loss_run(10 * OASIS_NS_PER_US, &lost_close);
    double far = mean_loss_run(OASIS_NS_PER_SEC, &lost_far);
    printf("# mean loss run: %.1f frames 10 us apart, %.2f 1 s apart\n", close, far);
    assert_true(close > 100);
    assert_true(far < 1.5);
    /* both near the chain's stationary share, 0.02/0.22 = 9% */
    assert_true(lost_close > 800 && lost_close < 4000);
    assert_true(lost_far > 1200 && lost_far < 2500);
}

/* ---- super-segments ---------------------------------------------------------- */

#define SRC OASIS_IPV4(10, 0, 0, 1)
#define DST OASIS_IPV4(10, 0, 0, 2)
#define HLEN (14 + 20 + 20)

/* An IPv4 TCP super-segment of payload bytes, its checksum left partial. */
static uint8_t *super_frame(size_t payload, size_t *len, oasis_offload *off, uint16_t mss)
{
    *len = HLEN + payload;
    uint8_t *f = calloc(1, *len);
    assert_non_null(f);
    memset(f, 0xaa, 12);
    oasis_put16(f + 12, 0x0800);
    uint8_t *ip = f + 14, *tcp = f + 34;
    ip[0] = 0x45;
    oasis_put16(ip + 2, (uint16_t)(20 + 20 + payload));
    oasis_put16(ip + 6, 0x4000);
    ip[8] = 64;
    ip[9] = 6;
    oasis_put32(ip + 12, SRC);
    oasis_put32(ip + 16, DST);
    uint16_t ipc = oasis_csum_fold(oasis_csum_add(0, ip, 20));
    memcpy(ip + 10, &ipc, 2);
    oasis_put16(tcp, 80);
    oasis_put16(tcp + 2, 40000);
    oasis_put32(tcp + 4, 1000);
    oasis_put32(tcp + 8, 1);
    tcp[12] = 5 << 4;
    tcp[13] = 0x18; /* PSH ACK */
    oasis_put16(tcp + 14, 500);
    for (size_t i = 0; i < payload; i++)
        tcp[20 + i] = (uint8_t)(i * 7);
    uint16_t ps = (uint16_t)~oasis_csum_fold(oasis_csum_pseudo(SRC, DST, 6,
                                                               (uint16_t)(20 + payload)));
    memcpy(tcp + 16, &ps, 2);
    memset(off, 0, sizeof *off);
    off->flags = OASIS_OFFLOAD_CSUM_PARTIAL;
    off->gso_type = OASIS_GSO_TCPV4;
    off->gso_size = mss;
    off->hdr_len = HLEN;
    off->csum_start = 34;
    off->csum_offset = 16;
    return f;
}

static void test_super_segment_per_frame(void **state)
{
    (void)state;
    size_t len;
    oasis_offload off;
    uint8_t *ss = super_frame(40 * 1448, &len, &off, 1448);

    /* Nothing to do: the super-segment goes through whole. */
    cap c0;
    cap_init(&c0, 1);
    oasis_impair_link *f0 = make(&c0, NULL, 1);
    oasis_link *l0 = oasis_impair_link_link(f0);
    assert_int_equal(l0->caps, c0.link.caps);
    assert_int_equal(l0->gso_max, OASIS_GSO_MAX);
    assert_int_equal(l0->send_offload(l0, ss, len, &off), 0);
    assert_int_equal(c0.offload_sends, 1);
    assert_int_equal(c0.sends, 0);
    oasis_impair_link_destroy(f0);

    /* Loss acts on the 40 frames, each with its own checksums. */
    oasis_impair g;
    oasis_impair_init(&g);
    g.loss = 0.25;
    cap c;
    cap_init(&c, 1);
    oasis_impair_link *f = make(&c, &g, 21);
    oasis_link *l = oasis_impair_link_link(f);
    uint64_t delivered = 0;
    for (int k = 0; k < 10; k++) {
        uint64_t before = c.sends;
        assert_int_equal(l->send_offload(l, ss, len, &off), 0);
        delivered += c.sends - before;
        /* some of every 40 get through and some not, whatever the seed:
         * never the whole super-segment at once */
        assert_true(c.sends - before > 0 && c.sends - before < 40);
        assert_true(c.last_len <= 1514);
        /* the last frame out is a complete, valid TCP segment */
        uint8_t *ip = c.last + 14;
        size_t tl = oasis_get16(ip + 2);
        assert_int_equal(oasis_csum_fold(oasis_csum_add(0, ip, 20)), 0);
        uint64_t sum = oasis_csum_pseudo(SRC, DST, 6, (uint16_t)(tl - 20));
        assert_int_equal(oasis_csum_fold(oasis_csum_add(sum, ip + 20, tl - 20)), 0);
    }
    assert_int_equal(c.offload_sends, 0);
    oasis_impair_link_stats st;
    oasis_impair_link_stats_get(f, OASIS_IMPAIR_OUT, &st);
    assert_int_equal(st.sent, 400);
    assert_int_equal(st.segmented, 10);
    assert_int_equal(st.delivered, delivered);
    assert_int_equal(st.delivered + st.dropped_loss, 400);
    check_balance(f, OASIS_IMPAIR_OUT);
    oasis_impair_link_destroy(f);
    free(ss);
}

/* ---- the incoming direction with a stack ---------------------------------- */

/* An IPv4 UDP datagram to the stack (10.0.0.1) at a closed port. */
static size_t udp_frame(uint8_t *f, const uint8_t mac[6], size_t payload)
{
    size_t len = 14 + 20 + 8 + payload;
    memset(f, 0, len);
    memcpy(f, mac, 6);
    uint8_t peer[6] = {0x02, 0, 0, 0, 0, 9};
    memcpy(f + 6, peer, 6);
    oasis_put16(f + 12, 0x0800);
    uint8_t *ip = f + 14, *udp = f + 34;
    ip[0] = 0x45;
    oasis_put16(ip + 2, (uint16_t)(28 + payload));
    ip[8] = 64;
    ip[9] = 17;
    oasis_put32(ip + 12, OASIS_IPV4(10, 0, 0, 9));
    oasis_put32(ip + 16, TEST_ADDR_A);
    uint16_t ipc = oasis_csum_fold(oasis_csum_add(0, ip, 20));
    memcpy(ip + 10, &ipc, 2);
    oasis_put16(udp, 5555);
    oasis_put16(udp + 2, 7777);
    oasis_put16(udp + 4, (uint16_t)(8 + payload));
    for (size_t i = 0; i < payload; i++)
        udp[8 + i] = (uint8_t)(i * 3 + 1);
    uint64_t sum = oasis_csum_pseudo(OASIS_IPV4(10, 0, 0, 9), TEST_ADDR_A, 17,
                                     (uint16_t)(8 + payload));
    uint16_t c = (uint16_t)~oasis_csum_fold(oasis_csum_add(sum, udp, 8 + payload));
    memcpy(udp + 6, &c, 2);
    return len;
}

/* A corrupted frame that the link had vouched for (CSUM_VALID) must be
 * checked by the stack: the filter drops the flag, so the UDP checksum
 * catches every flip in the datagram and none reaches a port. */
static void test_in_corrupt_drops_csum_valid(void **state)
{
    (void)state;
    oasis_clock *clock = oasis_clock_new_virtual(1000 * OASIS_NS_PER_SEC);
    oasis_stack_config sc;
    test_stack_config(&sc, clock, 1);
    oasis_stack *s;
    assert_int_equal(oasis_stack_create(&sc, &s), 0);
    cap c;
    cap_init(&c, 0);
    oasis_stack_set_link(s, &c.link);
    oasis_impair_link_config cfg;
    oasis_impair_link_config_init(&cfg);
    cfg.in.corrupt = 1;
    oasis_impair_link *f;
    assert_int_equal(oasis_impair_link_create(&c.link, &cfg, &f), 0);
    oasis_stack_set_link(s, oasis_impair_link_link(f));
    uint8_t fr[1200];
    size_t len = udp_frame(fr, sc.mac, 1000);
    oasis_offload valid = {.flags = OASIS_OFFLOAD_CSUM_VALID};
    const oasis_counters *k = oasis_stack_counters(s);
    for (int i = 0; i < 300; i++)
        oasis_impair_link_input(f, s, fr, len, &valid);
    oasis_impair_link_stats st;
    oasis_impair_link_stats_get(f, OASIS_IMPAIR_IN, &st);
    assert_int_equal(st.corrupted, 300);
    assert_int_equal(k->udp.no_ports, 0); /* no corrupted datagram taken */
    assert_int_equal(k->udp.in_datagrams, 0);
    assert_true(k->udp.in_csum_errors > 200);
    assert_int_equal(k->ip.in_receives, 300);
    /* Every corrupted datagram is refused by some check: most by UDP's
     * checksum, those hit in the IP header by its checksum or before it
     * (version, header or total length) as header errors. */
    printf("# 300 corrupted: ip hdr errors %llu (csum %llu) truncated %llu addr %llu, udp "
           "errors %llu (csum %llu)\n",
           (unsigned long long)k->ip.in_hdr_errors, (unsigned long long)k->ip.in_csum_errors,
           (unsigned long long)k->ip.in_truncated, (unsigned long long)k->ip.in_addr_errors,
           (unsigned long long)k->udp.in_errors, (unsigned long long)k->udp.in_csum_errors);
    assert_int_equal(k->ip.in_hdr_errors + k->ip.in_truncated + k->ip.in_addr_errors +
                         k->udp.in_errors,
                     300);
    oasis_stack_set_link(s, &c.link); /* (the stack reads its link's fields) */
    oasis_impair_link_destroy(f);

    /* Unimpaired, the flag goes through: the datagrams reach the stack. */
    oasis_impair_link_config_init(&cfg);
    cfg.out.loss = 0.5; /* the other direction only */
    assert_int_equal(oasis_impair_link_create(&c.link, &cfg, &f), 0);
    oasis_stack_set_link(s, oasis_impair_link_link(f));
    for (int i = 0; i < 10; i++)
        oasis_impair_link_input(f, s, fr, len, &valid);
    assert_int_equal(k->udp.no_ports, 10);
    oasis_stack_destroy(s); /* before the filter it may still send on */
    oasis_impair_link_destroy(f);
    oasis_clock_free(clock);
}

/* A coalesced segment handed up (GRO) is cut and impaired per frame. */
static void test_in_gro_per_frame(void **state)
{
    (void)state;
    oasis_clock *clock = oasis_clock_new_virtual(1000 * OASIS_NS_PER_SEC);
    oasis_stack_config sc;
    test_stack_config(&sc, clock, 2); /* 10.0.0.2: the super-segment's DST */
    oasis_stack *s;
    assert_int_equal(oasis_stack_create(&sc, &s), 0);
    cap c;
    cap_init(&c, 0);
    oasis_impair_link_config cfg;
    oasis_impair_link_config_init(&cfg);
    cfg.in.duplicate = 0.2;
    cfg.in.loss = 0.1;
    oasis_impair_link *f;
    assert_int_equal(oasis_impair_link_create(&c.link, &cfg, &f), 0);
    oasis_stack_set_link(s, oasis_impair_link_link(f));
    size_t len;
    oasis_offload off;
    uint8_t *ss = super_frame(20 * 1000, &len, &off, 1000);
    memcpy(ss, sc.mac, 6);
    const oasis_counters *k = oasis_stack_counters(s);
    oasis_impair_link_input(f, s, ss, len, &off);
    oasis_impair_link_stats st;
    oasis_impair_link_stats_get(f, OASIS_IMPAIR_IN, &st);
    assert_int_equal(st.sent, 20);
    assert_int_equal(st.segmented, 1);
    assert_int_equal(k->link.rx_frames, st.delivered);
    assert_int_equal(k->tcp.in_segs, st.delivered); /* each a valid segment */
    assert_int_equal(k->tcp.in_csum_errors, 0);
    check_balance(f, OASIS_IMPAIR_IN);
    free(ss);
    oasis_stack_destroy(s);
    oasis_impair_link_destroy(f);
    oasis_clock_free(clock);
}

/* ---- TCP through filters on both ends --------------------------------------- */

typedef struct side {
    oasis_flow *flow;
    size_t to_send, sent, received;
    uint8_t *data;
    oasis_sha256 rx;
    int eof, closed, err;
} side;

static void closed_cb(oasis_flow *fl, int err, void *ud)
{
    side *s = ud;
    s->closed = 1;
    if (err)
        s->err = err;
    oasis_tcp_release(fl);
}

static void write_done(oasis_flow *fl, int err, void *ud)
{
    side *s = ud;
    if (err)
        s->err = err;
    else
        assert_int_equal(oasis_tcp_close(fl, closed_cb, s), 0);
}

static void read_cb(oasis_flow *fl, int err, const uint8_t *data, size_t len, void *ud)
{
    side *s = ud;
    if (err == OASIS_EOF) {
        s->eof = 1;
        return;
    }
    if (err) {
        s->err = err;
        return;
    }
    oasis_sha256_update(&s->rx, data, len);
    s->received += len;
    assert_int_equal(oasis_tcp_read(fl, read_cb, s), 0);
}

static void start(side *s, oasis_flow *fl)
{
    s->flow = fl;
    assert_int_equal(oasis_tcp_read(fl, read_cb, s), 0);
    assert_int_equal(oasis_tcp_write(fl, s->data, s->to_send, write_done, s), 0);
}

static void accept_cb(oasis_stack *st, oasis_flow *fl, void *ud) { start(ud, fl); }

static void connect_cb(oasis_stack *st, oasis_flow *fl, int err, void *ud)
{
    assert_int_equal(err, 0);
    start(ud, fl);
}

static int both_done(void *ud)
{
    side *s = ud;
    return (s[0].closed && s[1].closed && s[0].eof && s[1].eof) || s[0].err || s[1].err;
}

static void run_tcp(int offload)
{
    const size_t size = 2u << 20;
    side sd[2];
    for (int i = 0; i < 2; i++) {
        memset(&sd[i], 0, sizeof sd[i]);
        sd[i].to_send = size;
        sd[i].data = malloc(size);
        assert_non_null(sd[i].data);
        for (size_t j = 0; j < size; j++)
            sd[i].data[j] = (uint8_t)((j * 131 + (j >> 9) * 7 + (size_t)i * 77) & 0xff);
        oasis_sha256_init(&sd[i].rx);
    }
    oasis_wire_config wc;
    oasis_wire_config_init(&wc);
    wc.delay_ns = 200 * OASIS_NS_PER_US;
    wc.offload = offload;
    test_net n;
    test_net_init(&n, &wc, NULL);
    oasis_impair g;
    oasis_impair_init(&g);
    g.loss = 0.02;
    g.reorder = 0.02;
    g.duplicate = 0.01;
    g.corrupt = 0.005;
    oasis_impair_link_config cfg;
    oasis_impair_link_config_init(&cfg);
    cfg.out = g;
    cfg.seed = 42;
    oasis_impair_link *fa, *fb;
    assert_int_equal(oasis_impair_link_create(oasis_stack_link(n.a), &cfg, &fa), 0);
    cfg.seed = 43;
    assert_int_equal(oasis_impair_link_create(oasis_stack_link(n.b), &cfg, &fb), 0);
    oasis_stack_set_link(n.a, oasis_impair_link_link(fa));
    oasis_stack_set_link(n.b, oasis_impair_link_link(fb));
    assert_int_equal(oasis_tcp_listen(n.b, 5001, NULL, accept_cb, &sd[1]), 0);
    assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, 5001, NULL, connect_cb, &sd[0]), 0);
    assert_int_equal(oasis_wire_run(n.wire, both_done, sd, 600 * OASIS_NS_PER_SEC), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sd[i].err, 0);
        assert_int_equal(sd[i].received, size);
        uint8_t want[32], got[32];
        oasis_sha256 h;
        oasis_sha256_init(&h);
        oasis_sha256_update(&h, sd[1 - i].data, size);
        oasis_sha256_final(&h, want);
        oasis_sha256_final(&sd[i].rx, got);
        assert_memory_equal(want, got, 32);
    }
    oasis_impair_link_stats sa, sb;
    oasis_impair_link_stats_get(fa, OASIS_IMPAIR_OUT, &sa);
    oasis_impair_link_stats_get(fb, OASIS_IMPAIR_OUT, &sb);
    const oasis_counters *ka = oasis_stack_counters(n.a), *kb = oasis_stack_counters(n.b);
    printf("# offload %d: a sent %llu frames (lost %llu corrupted %llu reordered %llu dup %llu "
           "segmented %llu), retrans %llu timeouts %llu fast %llu dsack %llu; b csum errors "
           "ip %llu tcp %llu\n",
           offload, (unsigned long long)sa.sent, (unsigned long long)sa.dropped_loss,
           (unsigned long long)sa.corrupted, (unsigned long long)sa.reordered,
           (unsigned long long)sa.duplicated, (unsigned long long)sa.segmented,
           (unsigned long long)ka->tcp.retrans_segs, (unsigned long long)ka->tcp.timeouts,
           (unsigned long long)ka->tcp.fast_retrans, (unsigned long long)ka->tcp.dsack_recv,
           (unsigned long long)kb->ip.in_csum_errors, (unsigned long long)kb->tcp.in_csum_errors);
    assert_true(sa.dropped_loss > 0 && sa.corrupted > 0 && sa.reordered > 0 && sa.duplicated > 0);
    assert_true(ka->tcp.retrans_segs > 0 && kb->tcp.retrans_segs > 0);
    /* corrupted frames are caught by a checksum, never taken as data */
    assert_true(kb->ip.in_csum_errors + kb->tcp.in_csum_errors > 0);
    assert_true(ka->ip.in_csum_errors + ka->tcp.in_csum_errors > 0);
    if (offload)
        assert_true(sa.segmented > 0);
    else
        assert_int_equal(sa.segmented, 0);
    test_net_fini(&n);
    oasis_impair_link_destroy(fa);
    oasis_impair_link_destroy(fb);
    for (int i = 0; i < 2; i++)
        free(sd[i].data);
}

static void test_tcp_through_filters(void **state) { run_tcp(0); }
static void test_tcp_through_filters_offload(void **state) { run_tcp(1); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_loss_counts_and_seed),
        cmocka_unit_test(test_burst_loss),
        cmocka_unit_test(test_corrupt_one_bit_not_arp),
        cmocka_unit_test(test_duplicate),
        cmocka_unit_test(test_reorder_gap),
        cmocka_unit_test(test_burst_on_clock),
        cmocka_unit_test(test_super_segment_per_frame),
        cmocka_unit_test(test_in_corrupt_drops_csum_valid),
        cmocka_unit_test(test_in_gro_per_frame),
        cmocka_unit_test(test_tcp_through_filters),
        cmocka_unit_test(test_tcp_through_filters_offload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
