/* Security hardening of the stack as a whole: secrets from the OS (RFC 6528,
 * RFC 4987), randomised challenge-ACK budget (RFC 5961 10, CVE-2016-5696),
 * IP IDs that leak no global count (RFC 6864), connects to addresses TCP
 * must not use (RFC 1122 4.2.3.10), wall-clock pcap timestamps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/stack_impl.h"
#include "oasis/error.h"
#include "oasis/ip.h"
#include "oasis/link.h"
#include "oasis/stack.h"
#include "oasis/tcp.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_isn.h"
#include "tcp/tcp_syncookie.h"
#include "testutil.h"

/* The cookie functions take oasis_ipaddr; these tests speak IPv4. */
static uint32_t cookie_make4(const uint8_t key[16], uint32_t la, uint16_t lp, uint32_t ra,
                             uint16_t rp, uint32_t irs, uint16_t mss, uint64_t now)
{
    oasis_ipaddr l = oasis_ipaddr_v4(la), r = oasis_ipaddr_v4(ra);
    return oasis_syncookie_make(key, &l, lp, &r, rp, irs, mss, now);
}

static oasis_stack *mk(oasis_clock *clk, uint64_t seed)
{
    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg); /* seed left at its default unless given */
    cfg.clock = clk;
    cfg.addr = OASIS_IPV4(10, 0, 0, 1);
    cfg.mac[0] = 2;
    if (seed)
        cfg.seed = seed;
    oasis_stack *s = NULL;
    assert_int_equal(oasis_stack_create(&cfg, &s), OASIS_OK);
    return s;
}

/* The ISN and cookie a stack would pick for one fixed 4-tuple and time. */
static uint32_t isn_of(oasis_stack *s)
{
    oasis_ipaddr l = oasis_ipaddr_v4(OASIS_IPV4(10, 0, 0, 1)), r = oasis_ipaddr_v4(OASIS_IPV4(10, 0, 0, 9));
    return oasis_tcp_isn(s->tcp->isn_key, &l, 80, &r, 40000, 5 * OASIS_NS_PER_SEC);
}

static uint32_t cookie_of(oasis_stack *s)
{
    return cookie_make4(s->secrets.cookie_key, OASIS_IPV4(10, 0, 0, 1), 80,
                                OASIS_IPV4(10, 0, 0, 9), 40000, 12345, 1460,
                                5 * OASIS_NS_PER_SEC);
}

/* Item 1: with the default configuration two unrelated stacks share no
 * secret; only an explicit (insecure) seed makes them repeat. */
static void test_default_secrets_differ(void **state)
{
    (void)state;
    oasis_clock *clk = oasis_clock_new_virtual(0);
    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg);
    assert_int_equal(cfg.seed, 0); /* 0: secrets from the OS */

    oasis_stack *a = mk(clk, 0), *b = mk(clk, 0);
    assert_int_not_equal(isn_of(a), isn_of(b));
    assert_int_not_equal(cookie_of(a), cookie_of(b));
    assert_memory_not_equal(a->secrets.isn_key, b->secrets.isn_key, 16);
    assert_memory_not_equal(a->secrets.cookie_key, b->secrets.cookie_key, 16);
    assert_true(a->tcp->salt != b->tcp->salt);
    assert_true(a->secrets.prng_seed[0] != b->secrets.prng_seed[0]);
    /* The cookie MAC has a key of its own, not the ISN key. */
    assert_memory_not_equal(a->secrets.isn_key, a->secrets.cookie_key, 16);
    oasis_stack_destroy(a);
    oasis_stack_destroy(b);
    oasis_clock_free(clk);
}

static void test_fixed_seed_repeats(void **state)
{
    (void)state;
    oasis_clock *clk = oasis_clock_new_virtual(0);
    oasis_stack *a = mk(clk, 42), *b = mk(clk, 42), *c = mk(clk, 43);
    assert_int_equal(isn_of(a), isn_of(b));
    assert_int_equal(cookie_of(a), cookie_of(b));
    assert_true(a->tcp->salt == b->tcp->salt);
    assert_true(oasis_prng_next(&a->prng) == oasis_prng_next(&b->prng));
    assert_int_not_equal(isn_of(a), isn_of(c));
    assert_memory_not_equal(a->secrets.isn_key, a->secrets.cookie_key, 16);
    oasis_stack_destroy(a);
    oasis_stack_destroy(b);
    oasis_stack_destroy(c);
    oasis_clock_free(clk);
}

/* ---- item 3: challenge-ACK budget, random per second ---- */

/* Each second's budget lies in [limit/2, limit/2 + limit) and differs from
 * second to second, so an attacker cannot learn how many challenge ACKs a
 * flow of ours used (CVE-2016-5696). */
static void test_challenge_ack_budget_random_per_second(void **state)
{
    (void)state;
    oasis_clock *clk = oasis_clock_new_virtual(0);
    oasis_stack *s = mk(clk, 7);
    uint32_t limit = s->cfg.tcp.challenge_ack_limit, seen[40];
    assert_int_equal(limit, 100);
    int distinct = 0;
    for (int sec = 0; sec < 40; sec++) {
        oasis_clock_set(clk, (uint64_t)sec * OASIS_NS_PER_SEC + 123);
        uint32_t n = 0;
        while (oasis_tcp_challenge_allowed(s) && n < 10 * limit)
            n++;
        /* Spent: the rest of this second gets nothing. */
        oasis_clock_set(clk, (uint64_t)sec * OASIS_NS_PER_SEC + OASIS_NS_PER_SEC - 1);
        assert_false(oasis_tcp_challenge_allowed(s));
        assert_true(n >= limit / 2 && n < limit / 2 + limit);
        seen[sec] = n;
        int dup = 0;
        for (int j = 0; j < sec; j++)
            dup |= seen[j] == n;
        distinct += !dup;
    }
    assert_true(distinct >= 20);
    oasis_stack_destroy(s);
    oasis_clock_free(clk);
}

/* ---- item 6: connect only to a unicast host with a route ---- */

static int connect_calls;

static void on_connect(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s, (void)f, (void)err, (void)ud;
    connect_calls++;
}

static void test_connect_bad_destinations_fail_at_once(void **state)
{
    (void)state;
    oasis_clock *clk = oasis_clock_new_virtual(0);
    oasis_stack *s = mk(clk, 1); /* 10.0.0.1/24, no gateway */
    static const uint32_t bad[] = {
        0,                          OASIS_IPV4(0, 0, 0, 7),   0xffffffffu,
        OASIS_IPV4(10, 0, 0, 255),  OASIS_IPV4(10, 0, 0, 0),  OASIS_IPV4(224, 0, 0, 1),
        OASIS_IPV4(239, 1, 2, 3),   OASIS_IPV4(240, 0, 0, 1),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(oasis_tcp_connect4(s, bad[i], 80, NULL, on_connect, NULL), OASIS_EBADDEST);
    /* Nothing routes this: no gateway. (Our own address and 127/8 go
     * through loopback: test_loopback.c.) */
    assert_int_equal(oasis_tcp_connect4(s, OASIS_IPV4(8, 8, 8, 8), 80, NULL, on_connect, NULL),
                     OASIS_ENOROUTE);
    const oasis_counters *c = oasis_stack_counters(s);
    assert_int_equal(c->tcp.active_opens, 0);
    assert_int_equal(c->ip.out_requests, 0);
    assert_int_equal(connect_calls, 0);
    assert_int_equal(oasis_stack_next_deadline(s), UINT64_MAX); /* no SYN timer */
    /* An on-link host is fine. */
    assert_int_equal(oasis_tcp_connect4(s, OASIS_IPV4(10, 0, 0, 2), 80, NULL, on_connect, NULL), 0);
    assert_int_equal(c->tcp.active_opens, 1);
    assert_string_equal(oasis_err_name(OASIS_EBADDEST), "OASIS_EBADDEST");
    oasis_stack_destroy(s);
    oasis_clock_free(clk);
}

/* ---- item 36: pcap timestamps are wall-clock time ---- */

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void test_pcap_wall_clock(void **state)
{
    (void)state;
    char path[] = "/tmp/oasis-sec-pcap-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    oasis_pcap *pc;
    assert_int_equal(oasis_pcap_open(path, &pc), 0);
    uint8_t frame[60] = {0};
    /* The pcap reads CLOCK_REALTIME; time() may read a coarser clock a
     * tick behind it, so around a second's boundary a stamp could pass
     * `after`: both bounds come from the same clock. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t before = ts.tv_sec;
    /* The stack's clock: 5 ns after its origin, then 1.5 s later. */
    assert_int_equal(oasis_pcap_write(pc, 5, frame, sizeof frame), 0);
    assert_int_equal(oasis_pcap_write(pc, 5 + 1500 * OASIS_NS_PER_MS, frame, sizeof frame), 0);
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t after = ts.tv_sec;
    oasis_pcap_close(pc);

    uint8_t buf[24 + 2 * (16 + 60)];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(buf, 1, sizeof buf, f), sizeof buf);
    fclose(f);
    unlink(path);
    const uint8_t *r1 = buf + 24, *r2 = r1 + 16 + 60;
    uint64_t t1 = (uint64_t)rd32(r1) * OASIS_NS_PER_SEC + rd32(r1 + 4);
    uint64_t t2 = (uint64_t)rd32(r2) * OASIS_NS_PER_SEC + rd32(r2 + 4);
    /* Stamped with today's date, not 1970... */
    assert_true(rd32(r1) >= (uint64_t)before && rd32(r1) <= (uint64_t)after);
    /* ...and the stack's intervals kept exactly. */
    assert_int_equal(t2 - t1, 1500 * OASIS_NS_PER_MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_secrets_differ),
        cmocka_unit_test(test_fixed_seed_repeats),
        cmocka_unit_test(test_connect_bad_destinations_fail_at_once),
        cmocka_unit_test(test_challenge_ack_budget_random_per_second),
        cmocka_unit_test(test_pcap_wall_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
