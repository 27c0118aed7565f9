/* Hostile-input catalogue (issue 8), TCP: bad options, SYN floods and SYN
 * cookies, blind RST/SYN injection (RFC 5961), ACKs of unsent data, data
 * beyond the window, a peer that holds a zero window or never reads,
 * sequence and timestamp wraparound, tiny and huge MSS. One-stack harness;
 * a counting allocator checks the memory each attack may cost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/checksum.h"
#include "ip/ipv4_wire.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_syncookie.h"
#include "countalloc.h"
#include "tcp_harness.h"

/* The cookie functions take oasis_ipaddr; these tests speak IPv4. */
static uint32_t cookie_make4(const uint8_t key[16], uint32_t la, uint16_t lp, uint32_t ra,
                             uint16_t rp, uint32_t irs, uint16_t mss, uint64_t now)
{
    oasis_ipaddr l = oasis_ipaddr_v4(la), r = oasis_ipaddr_v4(ra);
    return oasis_syncookie_make(key, &l, lp, &r, rp, irs, mss, now);
}

static uint16_t cookie_check4(const uint8_t key[16], uint32_t la, uint16_t lp, uint32_t ra,
                              uint16_t rp, uint32_t irs, uint32_t c, uint64_t now)
{
    oasis_ipaddr l = oasis_ipaddr_v4(la), r = oasis_ipaddr_v4(ra);
    return oasis_syncookie_check(key, &l, lp, &r, rp, irs, c, now);
}

#define PORT 80
#define A OASIS_TCP_ACK
#define S OASIS_TCP_SYN
#define R OASIS_TCP_RST


typedef struct fx {
    tcp_harness h;
    th_app a;
    test_counting mem;
    uint32_t iss;
} fx;

static fx *fx_new(const oasis_tcp_config *tcfg)
{
    fx *x = calloc(1, sizeof *x);
    assert_non_null(x);
    th_init_alloc(&x->h, tcfg, test_count_alloc, &x->mem);
    th_app_init(&x->a);
    return x;
}

static void fx_free(fx *x)
{
    th_fini(&x->h);
    assert_int_equal(x->mem.live, 0);
    th_app_fini(&x->a);
    free(x);
}

static oasis_tcp_config base_cfg(void)
{
    oasis_stack_config c;
    oasis_stack_config_init(&c);
    return c.tcp;
}

/* Established passive flow from TH_PPORT (no options). */
static fx *fx_estab(const oasis_tcp_config *tcfg)
{
    fx *x = fx_new(tcfg);
    x->iss = th_open_passive(&x->h, &x->a, PORT, NULL);
    th_clear(&x->h);
    return x;
}

static void inject(fx *x, uint8_t flags, uint32_t seq, uint32_t ack, const void *data, size_t n)
{
    oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, flags, seq, ack);
    s.payload = data;
    s.payload_len = n;
    th_inject(&x->h, &s);
}

static oasis_tcp_state state_of(const oasis_flow *f)
{
    oasis_tcp_info i;
    assert_int_equal(oasis_tcp_get_info(f, &i), 0);
    return i.state;
}

/* ---- TCP option lengths -------------------------------------------------- */

/* A SYN with 4 option bytes, valid checksum: only the option is wrong. */
static void inject_syn_opts(fx *x, const uint8_t opt[4])
{
    oasis_tcp_hdr h = th_seg(TH_PPORT, PORT, S, 1, 0);
    uint8_t seg[24];
    oasis_tcp_emit(seg, &h, 0, TH_PEER, TH_LOCAL);
    seg[12] = 6 << 4;
    memcpy(seg + 20, opt, 4);
    seg[16] = seg[17] = 0;
    uint64_t sum = oasis_csum_pseudo(TH_PEER, TH_LOCAL, OASIS_IPPROTO_TCP, sizeof seg);
    uint16_t cs = oasis_csum_fold(oasis_csum_add(sum, seg, sizeof seg));
    memcpy(seg + 16, &cs, 2); /* native order, as oasis_csum gives it */
    oasis_tcp_input4(x->h.s, TH_PEER, TH_LOCAL, seg, sizeof seg);
}

static void test_option_lengths(void **state)
{
    (void)state;
    fx *x = fx_new(NULL);
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    static const uint8_t bad[][4] = {
        {OASIS_TCPOPT_MSS, 0, 5, 0xb4},   /* length 0 */
        {OASIS_TCPOPT_TS, 1, 0, 0},       /* length 1 */
        {99, 0, 0, 0},                    /* unknown kind, length 0 */
        {99, 1, 0, 0},                    /* unknown kind, length 1 */
        {OASIS_TCPOPT_WSCALE, 8, 7, 0},   /* runs past the header */
        {99, 40, 0, 0},                   /* unknown kind past the header */
        {OASIS_TCPOPT_NOP, OASIS_TCPOPT_NOP, OASIS_TCPOPT_NOP, OASIS_TCPOPT_MSS}, /* no length byte */
    };
    size_t live0 = x->mem.live;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t e0 = th_ctr(&x->h)->in_errs;
        inject_syn_opts(x, bad[i]);
        assert_int_equal(th_ctr(&x->h)->in_errs, e0 + 1);
        assert_int_equal(th_ctr(&x->h)->in_csum_errors, 0);
        assert_int_equal(th_pending(&x->h), 0); /* no SYN-ACK, no RST */
        assert_int_equal(th_ctr(&x->h)->flows, 0);
        assert_int_equal(x->mem.live, live0);
    }
    static const uint8_t good[4] = {OASIS_TCPOPT_MSS, 4, 5, 0xb4};
    inject_syn_opts(x, good);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, S | A);
    fx_free(x);
}

/* ---- SYN flood and SYN cookies (RFC 4987) ---------------------------------- */

#define FLOOD 2000
#define BACKLOG 8

static void test_syn_flood_cookies(void **state)
{
    (void)state;
    oasis_tcp_config c = base_cfg();
    fx *x = fx_new(&c);
    oasis_listen_opts o = {.backlog = BACKLOG};
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, &o, th_accept_cb, &x->a), 0);
    size_t live0 = x->mem.live;
    /* Spoofed SYNs from many tuples (ports here: the harness resolves only
     * one peer address), with the options a real client sends. */
    for (uint32_t i = 0; i < FLOOD; i++) {
        oasis_tcp_hdr s = th_seg((uint16_t)(1024 + i), PORT, S, i * 7919u, 0);
        s.has_mss = 1;
        s.mss = 1460;
        s.has_ts = 1;
        s.ts_val = i;
        s.has_wscale = 1;
        s.wscale = 7;
        s.sack_permitted = 1;
        th_inject(&x->h, &s);
    }
    const oasis_tcp_counters *k = th_ctr(&x->h);
    /* Half-open state is bounded by the backlog; the rest got cookies. */
    assert_int_equal(k->flows, BACKLOG);
    assert_int_equal(k->listen_overflows, FLOOD - BACKLOG);
    assert_int_equal(k->syn_cookies_sent, FLOOD - BACKLOG);
    assert_true(x->mem.live - live0 < BACKLOG * (sizeof(oasis_flow) + sizeof(oasis_tcp_ext) + 512));
    assert_int_equal(th_pending(&x->h), FLOOD);
    oasis_tcp_hdr r;
    for (int i = 0; i < BACKLOG; i++)
        assert_true(th_pop(&x->h, &r));
    assert_true(th_pop(&x->h, &r)); /* the first cookie SYN-ACK */
    assert_int_equal(r.flags, S | A);
    assert_int_equal(r.ack, (uint32_t)BACKLOG * 7919u + 1);
    assert_true(r.has_mss);
    assert_false(r.has_ts || r.has_wscale || r.sack_permitted); /* documented */
    th_clear(&x->h);

    /* A legitimate client during the flood: SYN, cookie SYN-ACK, ACK. */
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S, 5000, 0);
    syn.has_mss = 1;
    syn.mss = 1400;
    th_inject(&x->h, &syn);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, S | A);
    uint32_t cookie = r.seq;
    uint8_t hello[5] = "hello";
    th_advance(&x->h, 3 * OASIS_NS_PER_SEC);
    inject(x, A | OASIS_TCP_PSH, 5001, cookie + 1, hello, 5);
    assert_int_equal(k->syn_cookies_ok, 1);
    th_poll(&x->h);
    assert_int_equal(x->a.accepted, 1);
    assert_int_equal(state_of(x->a.flow), OASIS_TCP_ESTABLISHED);
    oasis_tcp_info info;
    oasis_tcp_get_info(x->a.flow, &info);
    assert_int_equal(info.mss_send, 1360); /* the table entry below 1400 */
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 5); /* the data riding on the ACK */
    assert_memory_equal(x->a.rx, "hello", 5);
    assert_int_equal(oasis_tcp_write(x->a.flow, "world", 5, th_write_cb, &x->a), 0);
    th_poll(&x->h);
    int got = 0;
    while (th_pop(&x->h, &r))
        if (r.payload_len == 5 && r.seq == cookie + 1 && r.ack == 5006)
            got = 1;
    assert_true(got);

    /* Forged cookie ACKs from another tuple: its own cookie off by one,
     * the peer ISN wrong, the MSS bits tampered, another tuple's cookie. */
    th_clear(&x->h);
    uint16_t p2 = TH_PPORT - 1;
    oasis_tcp_hdr syn2 = th_seg(p2, PORT, S, 9000, 0);
    th_inject(&x->h, &syn2);
    assert_true(th_pop(&x->h, &r));
    uint32_t c2 = r.seq;
    oasis_tcp_hdr f = th_seg(p2, PORT, A, 9001, c2 + 2);
    th_inject(&x->h, &f);
    f.seq = 9002, f.ack = c2 + 1;
    th_inject(&x->h, &f);
    f.seq = 9001, f.ack = (c2 ^ (1u << 24)) + 1;
    th_inject(&x->h, &f);
    f.ack = cookie + 1;
    th_inject(&x->h, &f);
    assert_int_equal(k->syn_cookies_failed, 4);
    assert_int_equal(k->syn_cookies_ok, 1);
    assert_int_equal(th_pending(&x->h), 4); /* each answered with RST */
    while (th_pop(&x->h, &r))
        assert_true(r.flags & R);
    fx_free(x);
}

/* A cookie ACK that comes too late (two counter periods) is refused even
 * while the listener keeps sending cookies. */
static void test_cookie_expires(void **state)
{
    (void)state;
    oasis_tcp_config c = base_cfg();
    c.synack_retries = 100; /* keep the backlog full the whole time */
    fx *x = fx_new(&c);
    oasis_listen_opts o = {.backlog = 1};
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, &o, th_accept_cb, &x->a), 0);
    inject(x, S, 1, 0, NULL, 0); /* fills the backlog (port TH_PPORT) */
    oasis_tcp_hdr syn = th_seg(TH_PPORT + 1, PORT, S, 100, 0), r;
    th_inject(&x->h, &syn);
    th_clear(&x->h); /* the cookie SYN-ACK is the last one sent */
    th_inject(&x->h, &syn);
    assert_true(th_pop(&x->h, &r));
    uint32_t cookie = r.seq;
    /* Still sending cookies 2.2 periods later, then the late ACK. */
    th_advance(&x->h, 2 * OASIS_SYNCOOKIE_PERIOD_NS + OASIS_SYNCOOKIE_PERIOD_NS / 5);
    oasis_tcp_hdr other = th_seg(TH_PPORT + 2, PORT, S, 5, 0);
    th_inject(&x->h, &other);
    while (th_pop(&x->h, &r)) /* also lets ARP (aged out meanwhile) finish */
        ;
    oasis_tcp_hdr ack = th_seg(TH_PPORT + 1, PORT, A, 101, cookie + 1);
    th_inject(&x->h, &ack);
    assert_int_equal(th_ctr(&x->h)->syn_cookies_failed, 1);
    assert_int_equal(th_ctr(&x->h)->syn_cookies_ok, 0);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, R);
    th_poll(&x->h);
    assert_int_equal(x->a.accepted, 0);
    fx_free(x);
}

/* A stray ACK to a listener that never sent cookies is not checked at all
 * (plain RST, nothing counted). */
static void test_stray_ack_no_cookie(void **state)
{
    (void)state;
    fx *x = fx_new(NULL);
    assert_int_equal(oasis_tcp_listen(x->h.s, PORT, NULL, th_accept_cb, &x->a), 0);
    inject(x, A, 1, 12345, NULL, 0);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, R);
    assert_int_equal(th_ctr(&x->h)->syn_cookies_failed, 0);
    fx_free(x);
}

static void test_syncookie_values(void **state)
{
    (void)state;
    const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    uint64_t t0 = 12345 * OASIS_NS_PER_SEC;
    uint32_t c = cookie_make4(key, 1, 80, 2, 4000, 777, 1460, t0);
    assert_int_equal(cookie_check4(key, 1, 80, 2, 4000, 777, c, t0), 1460);
    /* Valid in its period and the next, not after. */
    uint64_t p = OASIS_SYNCOOKIE_PERIOD_NS;
    assert_int_equal(cookie_check4(key, 1, 80, 2, 4000, 777, c, t0 + p), 1460);
    assert_int_equal(cookie_check4(key, 1, 80, 2, 4000, 777, c, t0 + 2 * p), 0);
    assert_int_equal(cookie_check4(key, 1, 80, 2, 4000, 777, c, t0 - p), 0);
    /* Bound to the tuple, the peer's ISN and the key. */
    assert_int_equal(cookie_check4(key, 1, 80, 2, 4001, 777, c, t0), 0);
    assert_int_equal(cookie_check4(key, 1, 80, 3, 4000, 777, c, t0), 0);
    assert_int_equal(cookie_check4(key, 1, 80, 2, 4000, 778, c, t0), 0);
    uint8_t k2[16];
    memcpy(k2, key, 16);
    k2[0] ^= 1;
    assert_int_equal(cookie_check4(k2, 1, 80, 2, 4000, 777, c, t0), 0);
    /* MSS: the largest table entry not above the peer's; under 64: 64. */
    static const uint16_t in[] = {1, 64, 300, 536, 1459, 1460, 9000};
    static const uint16_t out[] = {64, 64, 256, 536, 1440, 1460, 1460};
    for (int i = 0; i < 7; i++) {
        uint32_t ci = cookie_make4(key, 1, 80, 2, 4000, 9, in[i], t0);
        assert_int_equal(cookie_check4(key, 1, 80, 2, 4000, 9, ci, t0), out[i]);
        /* Flipping any single bit breaks it (24-bit MAC). */
        for (int b = 0; b < 32; b++)
            assert_int_equal(cookie_check4(key, 1, 80, 2, 4000, 9, ci ^ (1u << b), t0), 0);
    }
}

/* ---- blind RST / SYN (RFC 5961) -------------------------------------------- */

static void test_blind_rst(void **state)
{
    (void)state;
    fx *x = fx_estab(NULL);
    const oasis_tcp_counters *k = th_ctr(&x->h);
    uint32_t rn = TH_PISN + 1;
    oasis_tcp_hdr r;
    /* Outside the window: ignored, no answer. */
    inject(x, R, rn + 0x80000000u, 0, NULL, 0);
    inject(x, R, rn - 1, 0, NULL, 0);
    assert_int_equal(th_pending(&x->h), 0);
    assert_int_equal(k->out_of_window, 2);
    assert_int_equal(state_of(x->a.flow), OASIS_TCP_ESTABLISHED);
    /* In the window but not exact: challenge ACK, flow lives. */
    inject(x, R, rn + 1000, 0, NULL, 0);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, A);
    assert_int_equal(r.ack, rn);
    assert_int_equal(r.seq, x->iss + 1);
    assert_int_equal(k->challenge_acks, 1);
    assert_int_equal(state_of(x->a.flow), OASIS_TCP_ESTABLISHED);
    /* Exact: reset. */
    inject(x, R, rn, 0, NULL, 0);
    assert_int_equal(th_pending(&x->h), 0);
    assert_int_equal(k->estab_resets, 1);
    assert_int_equal(k->curr_estab, 0);
    fx_free(x);
}

static void test_blind_syn_established(void **state)
{
    (void)state;
    oasis_tcp_config c = base_cfg();
    c.challenge_ack_limit = 5;
    fx *x = fx_estab(&c);
    const oasis_tcp_counters *k = th_ctr(&x->h);
    for (int i = 0; i < 20; i++)
        inject(x, S, TH_PISN + 1 + (uint32_t)i * 100, 0, NULL, 0);
    /* The budget of a second is random in [3, 8) for a limit of 5. */
    uint64_t sent = k->challenge_acks;
    assert_true(sent >= 3 && sent <= 7);
    assert_int_equal(k->challenge_acks_limited, 20 - sent);
    assert_int_equal(th_pending(&x->h), sent);
    oasis_tcp_hdr r;
    while (th_pop(&x->h, &r)) {
        assert_int_equal(r.flags, A);
        assert_int_equal(r.ack, TH_PISN + 1);
    }
    assert_int_equal(state_of(x->a.flow), OASIS_TCP_ESTABLISHED);
    assert_int_equal(k->estab_resets, 0);
    /* The limit is per second. */
    th_advance(&x->h, OASIS_NS_PER_SEC);
    th_clear(&x->h);
    inject(x, S, TH_PISN + 1, 0, NULL, 0);
    assert_int_equal(th_pending(&x->h), 1);
    assert_int_equal(k->challenge_acks, sent + 1);
    fx_free(x);
}

/* ---- ACK of unsent data, data beyond the window ---------------------------- */

static void test_ack_of_unsent_data(void **state)
{
    (void)state;
    fx *x = fx_estab(NULL);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    uint8_t d[100];
    memset(d, 'x', sizeof d);
    /* Acknowledges 1000 bytes we never sent: dropped, data included, and
     * answered with an ACK that states where we are (RFC 9293 3.10.7.4). */
    inject(x, A, TH_PISN + 1, x->iss + 1 + 1000, d, sizeof d);
    th_poll(&x->h);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.flags, A);
    assert_int_equal(r.ack, TH_PISN + 1);
    assert_int_equal(r.seq, x->iss + 1);
    assert_int_equal(x->a.rx_len, 0);
    oasis_tcp_info i;
    oasis_tcp_get_info(x->a.flow, &i);
    assert_int_equal(i.bytes_acked, 0);
    /* The same data with a sane ACK goes through. */
    inject(x, A, TH_PISN + 1, x->iss + 1, d, sizeof d);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 100);
    fx_free(x);
}

static void test_data_beyond_window(void **state)
{
    (void)state;
    oasis_tcp_config c = base_cfg();
    c.rcvbuf = 4096;
    fx *x = fx_estab(&c);
    const oasis_tcp_counters *k = th_ctr(&x->h);
    uint8_t d[3000];
    memset(d, 'y', sizeof d);
    uint32_t rn = TH_PISN + 1;
    size_t live0 = x->mem.live;
    /* Wholly beyond the 4096-byte window. */
    inject(x, A, rn + 5000, x->iss + 1, d, 1000);
    assert_int_equal(k->out_of_window, 1);
    assert_int_equal(k->ofo_queued, 0);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.ack, rn);
    /* 3000 fit, the next 3000 are cut at the window's edge. */
    inject(x, A, rn, x->iss + 1, d, 3000);
    inject(x, A, rn + 3000, x->iss + 1, d, 3000);
    th_clear(&x->h);
    oasis_tcp_info i;
    oasis_tcp_get_info(x->a.flow, &i);
    assert_int_equal(i.bytes_received, 4096);
    assert_int_equal(i.rcv_wnd, 0);
    /* Window closed: anything with data is outside it. */
    uint64_t oow = k->out_of_window;
    inject(x, A, rn + 4096, x->iss + 1, d, 1);
    assert_int_equal(k->out_of_window, oow + 1);
    assert_true(th_pop(&x->h, &r));
    assert_int_equal(r.ack, rn + 4096);
    assert_int_equal(r.window, 0);
    assert_true(x->mem.live - live0 <= 4096 + 256);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 4096);
    fx_free(x);
}

/* ---- peers that stall --------------------------------------------------- */

static void test_zero_window_forever(void **state)
{
    (void)state;
    oasis_tcp_config c = base_cfg();
    c.sndbuf = 16384; /* smaller than the write, so the write must wait */
    fx *x = fx_estab(&c);
    const oasis_tcp_counters *k = th_ctr(&x->h);
    oasis_tcp_hdr z = th_seg(TH_PPORT, PORT, A, TH_PISN + 1, x->iss + 1);
    z.window = 0;
    th_inject(&x->h, &z);
    static uint8_t buf[100000];
    assert_int_equal(oasis_tcp_write(x->a.flow, buf, sizeof buf, th_write_cb, &x->a), 0);
    th_poll(&x->h);
    assert_int_equal(th_pending(&x->h), 0); /* nothing may go out */
    size_t live0 = x->mem.live;
    uint64_t last = th_now(&x->h), prev_gap = 0, hour = 3600 * OASIS_NS_PER_SEC;
    uint64_t end = last + 2 * hour;
    int probes = 0, grew = 0;
    while (th_now(&x->h) < end) {
        th_advance(&x->h, OASIS_NS_PER_SEC);
        oasis_tcp_hdr r;
        while (th_pop(&x->h, &r)) {
            assert_int_equal(r.payload_len, 0);
            assert_int_equal(r.seq, x->iss); /* snd_una - 1 */
            uint64_t gap = th_now(&x->h) - last;
            assert_true(gap + OASIS_NS_PER_SEC >= prev_gap); /* never shrinks */
            assert_true(gap <= 61 * OASIS_NS_PER_SEC);       /* capped at rto_max */
            grew += gap > prev_gap + OASIS_NS_PER_SEC;
            prev_gap = gap;
            last = th_now(&x->h);
            probes++;
            th_inject(&x->h, &z); /* "still zero" */
        }
    }
    assert_true(grew >= 4); /* backoff 1, 2, 4, 8, ... s */
    assert_true(probes >= 100);
    assert_int_equal(k->zero_window_probes, (uint64_t)probes);
    assert_int_equal(state_of(x->a.flow), OASIS_TCP_ESTABLISHED);
    assert_int_equal(x->a.writes_done, 0); /* the write waits */
    assert_true(x->mem.peak - live0 < 4096);
    /* The window opens: data flows again. */
    z.window = 65535;
    th_inject(&x->h, &z);
    oasis_tcp_hdr r;
    assert_true(th_pop(&x->h, &r));
    assert_true(r.payload_len > 0);
    assert_int_equal(r.seq, x->iss + 1);
    fx_free(x);
}

static void test_peer_never_reads(void **state)
{
    (void)state;
    oasis_tcp_config c = base_cfg();
    c.sndbuf = 16384;
    fx *x = fx_estab(&c);
    static uint8_t buf[4096];
    size_t live0 = x->mem.live;
    for (int i = 0; i < 200; i++)
        assert_int_equal(oasis_tcp_write(x->a.flow, buf, sizeof buf, th_write_cb, &x->a), 0);
    size_t queued = x->mem.live - live0; /* the 200 requests themselves */
    /* The peer ACKs what arrives but its window only shrinks (it never
     * reads its 20000-byte buffer). */
    uint32_t got = 0, wnd = 20000;
    for (int round = 0; round < 2000; round++) {
        th_advance(&x->h, 10 * OASIS_NS_PER_MS);
        oasis_tcp_hdr r;
        while (th_pop(&x->h, &r)) {
            if (r.seq == x->iss + 1 + got && r.payload_len)
                got += (uint32_t)r.payload_len;
            oasis_tcp_hdr a = th_seg(TH_PPORT, PORT, A, TH_PISN + 1, x->iss + 1 + got);
            a.window = (uint16_t)(wnd - got);
            th_inject(&x->h, &a);
        }
    }
    assert_int_equal(got, wnd); /* exactly the window, never more */
    assert_int_equal(state_of(x->a.flow), OASIS_TCP_ESTABLISHED);
    /* Writes complete as the buffer drains into the window, then wait. */
    assert_true(x->a.writes_done <= (int)((wnd + c.sndbuf) / sizeof buf));
    assert_true(x->a.writes_done < 200);
    assert_true(x->mem.peak - live0 <= queued + c.sndbuf + 4096);
    fx_free(x);
}

/* ---- wraparound -------------------------------------------------------- */

static void test_sequence_wraparound(void **state)
{
    (void)state;
    fx *x = fx_new(NULL);
    oasis_tcp_set_next_isn(x->h.s, 0xfffffff0u);
    uint32_t pisn = 0xffffff00u;
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S, pisn, 0);
    x->iss = th_open_passive(&x->h, &x->a, PORT, &syn);
    assert_int_equal(x->iss, 0xfffffff0u);
    th_clear(&x->h);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    /* 600 bytes in 100-byte pieces across 2^32, pieces 3 and 4 swapped. */
    uint8_t d[600];
    for (int i = 0; i < 600; i++)
        d[i] = (uint8_t)(i * 7);
    static const int order[6] = {0, 1, 3, 2, 4, 5};
    for (int j = 0; j < 6; j++) {
        int i = order[j];
        inject(x, A, pisn + 1 + (uint32_t)i * 100, x->iss + 1, d + i * 100, 100);
    }
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 600);
    assert_memory_equal(x->a.rx, d, 600);
    assert_int_equal(th_ctr(&x->h)->out_of_window, 0);
    /* And our own stream across 2^32. */
    th_clear(&x->h);
    assert_int_equal(oasis_tcp_write(x->a.flow, d, sizeof d, th_write_cb, &x->a), 0);
    oasis_tcp_hdr r;
    uint32_t sent = 0;
    for (int k = 0; k < 10 && sent < 600; k++) {
        th_poll(&x->h);
        while (th_pop(&x->h, &r))
            if (r.seq == x->iss + 1 + sent)
                sent += (uint32_t)r.payload_len;
        inject(x, A, pisn + 601, x->iss + 1 + sent, NULL, 0); /* Nagle waits for it */
    }
    assert_int_equal(sent, 600);
    th_poll(&x->h);
    assert_int_equal(x->a.writes_done, 1);
    assert_int_equal(x->a.write_err, 0);
    fx_free(x);
}

static void test_timestamp_wraparound(void **state)
{
    (void)state;
    fx *x = fx_new(NULL); /* timestamps on by default */
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    syn.has_ts = 1;
    syn.ts_val = 0xfffffff0u;
    x->iss = th_open_passive(&x->h, &x->a, PORT, &syn);
    th_clear(&x->h);
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    const oasis_tcp_counters *k = th_ctr(&x->h);
    uint8_t d[50];
    memset(d, 'z', sizeof d);
    /* TSval 0xfffffff2, 0xfffffffa, 2, 10, ... : newer each time, across 0. */
    uint32_t ts = 0xfffffff2u;
    for (int i = 0; i < 6; i++, ts += 8) {
        oasis_tcp_hdr s = th_seg(TH_PPORT, PORT, A, TH_PISN + 1 + (uint32_t)i * 50, x->iss + 1);
        s.has_ts = 1;
        s.ts_val = ts;
        s.payload = d;
        s.payload_len = 50;
        th_inject(&x->h, &s);
    }
    th_poll(&x->h);
    assert_int_equal(k->paws_drops, 0);
    assert_int_equal(x->a.rx_len, 300);
    /* Once an ACK covered them, the next in-order segment moves TS.Recent
     * past the wrap (RFC 7323 4.3), and a TSval from before the wrap is old
     * now: PAWS drops it. */
    th_advance(&x->h, OASIS_NS_PER_SEC);
    oasis_tcp_hdr nw = th_seg(TH_PPORT, PORT, A, TH_PISN + 301, x->iss + 1);
    nw.has_ts = 1;
    nw.ts_val = ts;
    nw.payload = d;
    nw.payload_len = 50;
    th_inject(&x->h, &nw);
    assert_int_equal(x->a.rx_len, 300);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 350);
    assert_int_equal(k->paws_drops, 0);
    oasis_tcp_hdr old = th_seg(TH_PPORT, PORT, A, TH_PISN + 351, x->iss + 1);
    old.has_ts = 1;
    old.ts_val = 0xfffffffau;
    old.payload = d;
    old.payload_len = 50;
    th_inject(&x->h, &old);
    th_poll(&x->h);
    assert_int_equal(k->paws_drops, 1);
    assert_int_equal(x->a.rx_len, 350);
    fx_free(x);
}

/* ---- MSS extremes -------------------------------------------------------- */

/* The peer's MSS is clamped to at least 64 bytes (tcp_input.c): below that
 * headers would be most of every segment (Linux's floor is 48 bytes of
 * payload, 88 with headers; 64 sits between and keeps data >= 61%). */
static void check_segments(uint16_t peer_mss, uint32_t want)
{
    fx *x = fx_new(NULL);
    oasis_tcp_hdr syn = th_seg(TH_PPORT, PORT, S, TH_PISN, 0);
    syn.has_mss = 1;
    syn.mss = peer_mss;
    x->iss = th_open_passive(&x->h, &x->a, PORT, &syn);
    th_clear(&x->h);
    static uint8_t d[3000];
    assert_int_equal(oasis_tcp_write(x->a.flow, d, sizeof d, th_write_cb, &x->a), 0);
    th_poll(&x->h);
    oasis_tcp_hdr r;
    uint32_t n = 0, full = 0;
    while (th_pop(&x->h, &r)) {
        assert_true(r.payload_len <= want);
        full += r.payload_len == want;
        n++;
    }
    assert_true(n >= 2);
    assert_true(full >= 1);
    oasis_tcp_info i;
    oasis_tcp_get_info(x->a.flow, &i);
    assert_int_equal(i.mss_send, want);
    fx_free(x);
}

static void test_tiny_mss(void **state)
{
    (void)state;
    check_segments(0, 64);
    check_segments(1, 64);
    check_segments(63, 64);
    check_segments(88, 88);
}

static void test_huge_mss(void **state)
{
    (void)state;
    check_segments(65535, 1460); /* our MTU 1500 less 40 */
}

/* Issue 11 item 10: 1,000 out-of-window segments drew 1,000 ACKs. ACKs to
 * unacceptable segments are now limited per flow to one per 500 ms (Linux
 * tcp_invalid_ratelimit) and the rest counted; old data (a retransmission
 * whose sender missed our ACK) is still answered every time. */
static void test_out_of_window_acks_limited(void **state)
{
    (void)state;
    fx *x = fx_estab(NULL);
    const oasis_tcp_counters *k = th_ctr(&x->h);
    uint32_t rn = TH_PISN + 1;
    for (int i = 0; i < 1000; i++)
        inject(x, A, rn + 0x40000000u + (uint32_t)i, x->iss + 1, NULL, 0);
    assert_int_equal(th_pending(&x->h), 1);
    assert_int_equal(k->oow_acks_limited, 999);
    assert_int_equal(k->out_of_window, 1000);
    th_clear(&x->h);
    /* old data: always answered (with the ACK it lacks) */
    inject(x, A, rn, x->iss + 1, "abcd", 4);
    th_advance(&x->h, 100 * OASIS_NS_PER_MS);
    th_clear(&x->h);
    for (int i = 0; i < 5; i++)
        inject(x, A, rn, x->iss + 1, "abcd", 4);
    assert_int_equal(th_pending(&x->h), 5);
    th_clear(&x->h);
    /* the limit is per 500 ms */
    th_advance(&x->h, 500 * OASIS_NS_PER_MS);
    inject(x, A, rn + 0x40000000u, x->iss + 1, NULL, 0);
    inject(x, A, rn + 0x40000000u, x->iss + 1, NULL, 0);
    assert_int_equal(th_pending(&x->h), 1);
    th_clear(&x->h);
    /* data beyond the 64 KiB we advertised (though inside the 4 MiB
     * buffer) is limited the same way */
    th_advance(&x->h, 500 * OASIS_NS_PER_MS);
    for (int i = 0; i < 100; i++)
        inject(x, A, rn + 100000 + (uint32_t)i * 10, x->iss + 1, "0123456789", 10);
    assert_int_equal(th_pending(&x->h), 1);
    assert_int_equal(k->ofo_queued, 0);
    assert_int_equal(state_of(x->a.flow), OASIS_TCP_ESTABLISHED);
    fx_free(x);
}

/* Issue 11 item 5: a 1-byte segment 4 MiB ahead, when 64 KiB was
 * advertised, added 4 MiB. Out-of-order data is now taken only within the
 * window we advertised and costs what it holds, not its distance. */
static void test_ofo_far_ahead_costs_what_it_holds(void **state)
{
    (void)state;
    fx *x = fx_estab(NULL); /* 4 MiB buffer, no window scaling: 65535 advertised */
    const oasis_tcp_counters *k = th_ctr(&x->h);
    uint32_t rn = TH_PISN + 1;
    x->a.auto_read = 1;
    assert_int_equal(oasis_tcp_read(x->a.flow, th_read_cb, &x->a), 0);
    size_t live0 = x->mem.live;
    x->mem.peak = live0;
    inject(x, A, rn + (4u << 20) - 1, x->iss + 1, "x", 1); /* in the buffer, not the window */
    assert_int_equal(k->out_of_window, 1);
    assert_int_equal(k->ofo_queued, 0);
    inject(x, A, rn + 60000, x->iss + 1, "y", 1); /* in the window: kept */
    assert_int_equal(k->ofo_queued, 1);
    assert_true(x->mem.peak - live0 < 2048);
    /* the hole fills: everything arrives, in order */
    static uint8_t fill[60000];
    memset(fill, 'f', sizeof fill);
    for (uint32_t off = 0; off < sizeof fill; off += 1000)
        inject(x, A, rn + off, x->iss + 1, fill + off, 1000);
    th_poll(&x->h);
    assert_int_equal(x->a.rx_len, 60001);
    assert_int_equal(x->a.rx[60000], 'y');
    fx_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_option_lengths),
        cmocka_unit_test(test_syn_flood_cookies),
        cmocka_unit_test(test_cookie_expires),
        cmocka_unit_test(test_stray_ack_no_cookie),
        cmocka_unit_test(test_syncookie_values),
        cmocka_unit_test(test_blind_rst),
        cmocka_unit_test(test_blind_syn_established),
        cmocka_unit_test(test_ack_of_unsent_data),
        cmocka_unit_test(test_data_beyond_window),
        cmocka_unit_test(test_out_of_window_acks_limited),
        cmocka_unit_test(test_ofo_far_ahead_costs_what_it_holds),
        cmocka_unit_test(test_zero_window_forever),
        cmocka_unit_test(test_peer_never_reads),
        cmocka_unit_test(test_sequence_wraparound),
        cmocka_unit_test(test_timestamp_wraparound),
        cmocka_unit_test(test_tiny_mss),
        cmocka_unit_test(test_huge_mss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
