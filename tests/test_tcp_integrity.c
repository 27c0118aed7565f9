/* Integrity: 1 GiB each way between two stacks on the in-memory wire, both
 * directions at once, SHA-256 compared on both ends. Virtual clock, so the
 * run is deterministic; OASIS_INTEGRITY_MIB overrides the size (MiB). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/sha256.h"
#include "testutil.h"

#define CHUNK (128 * 1024)

typedef struct side {
    oasis_flow *flow;
    uint64_t to_send, generated, received;
    uint64_t prng;            /* generator state of what this side sends */
    oasis_sha256 tx, rx;
    uint8_t *bufs[2];
    int eof, closed, err;
} side;

static uint64_t total_bytes(void)
{
    const char *e = getenv("OASIS_INTEGRITY_MIB");
    uint64_t mib = e ? strtoull(e, NULL, 10) : 1024;
    return (mib ? mib : 1) << 20;
}

static void fill(side *s, uint8_t *buf, size_t n)
{
    uint64_t x = s->prng;
    for (size_t i = 0; i < n; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(buf + i, &x, n - i < 8 ? n - i : 8);
    }
    s->prng = x;
}

static void closed_cb(oasis_flow *f, int err, void *ud)
{
    side *s = ud;
    s->closed = 1;
    if (err)
        s->err = err;
    oasis_tcp_release(f);
}

static void write_done(oasis_flow *f, int err, void *ud);

static void write_next(side *s, uint8_t *buf)
{
    if (s->generated >= s->to_send)
        return;
    size_t n = s->to_send - s->generated < CHUNK ? (size_t)(s->to_send - s->generated) : CHUNK;
    fill(s, buf, n);
    oasis_sha256_update(&s->tx, buf, n);
    s->generated += n;
    assert_int_equal(oasis_tcp_write(s->flow, buf, n, write_done, s), 0);
    if (s->generated == s->to_send)
        assert_int_equal(oasis_tcp_close(s->flow, closed_cb, s), 0);
}

static void write_done(oasis_flow *f, int err, void *ud)
{
    side *s = ud;
    if (err) {
        s->err = err;
        return;
    }
    uint8_t *buf = s->bufs[0];
    s->bufs[0] = s->bufs[1];
    s->bufs[1] = buf;
    write_next(s, buf);
}

static void read_cb(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
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
    assert_true(len > 0);
    oasis_sha256_update(&s->rx, data, len);
    s->received += len;
    assert_int_equal(oasis_tcp_read(f, read_cb, s), 0);
}

static void start(side *s, oasis_flow *f)
{
    s->flow = f;
    assert_int_equal(oasis_tcp_read(f, read_cb, s), 0);
    uint8_t *b0 = s->bufs[0], *b1 = s->bufs[1];
    write_next(s, b0);
    write_next(s, b1);
}

static void accept_cb(oasis_stack *st, oasis_flow *f, void *ud) { start(ud, f); }

static void connect_cb(oasis_stack *st, oasis_flow *f, int err, void *ud)
{
    assert_int_equal(err, 0);
    start(ud, f);
}

static int both_done(void *ud)
{
    side *s = ud;
    return (s[0].closed && s[1].closed) || s[0].err || s[1].err;
}

static void init_side(side *s, uint64_t size, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->to_send = size;
    s->prng = seed;
    oasis_sha256_init(&s->tx);
    oasis_sha256_init(&s->rx);
    s->bufs[0] = malloc(CHUNK);
    s->bufs[1] = malloc(CHUNK);
    assert_non_null(s->bufs[0]);
    assert_non_null(s->bufs[1]);
}

static void digest(oasis_sha256 *c, uint8_t out[32]) { oasis_sha256_final(c, out); }

static void run_integrity(uint32_t mtu, int offload)
{
    uint64_t size = total_bytes();
    side sides[2];
    init_side(&sides[0], size, 0x1234567887654321ull); /* client a */
    init_side(&sides[1], size, 0x0fedcba987654321ull); /* server b */

    oasis_wire_config wc;
    oasis_wire_config_init(&wc);
    wc.mtu = mtu;
    wc.delay_ns = 50 * OASIS_NS_PER_US;
    wc.offload = offload;
    test_net n;
    test_net_init(&n, &wc, NULL);
    assert_int_equal(oasis_tcp_listen(n.b, 5001, NULL, accept_cb, &sides[1]), 0);
    assert_int_equal(oasis_tcp_connect4(n.a, TEST_ADDR_B, 5001, NULL, connect_cb, &sides[0]), 0);
    int r = oasis_wire_run(n.wire, both_done, sides, 3600 * OASIS_NS_PER_SEC);
    assert_int_equal(r, 0);
    assert_int_equal(sides[0].err, 0);
    assert_int_equal(sides[1].err, 0);

    for (int i = 0; i < 2; i++) {
        side *me = &sides[i], *peer = &sides[1 - i];
        uint8_t sent[32], got[32];
        assert_true(me->eof);
        assert_true(me->received == size);
        digest(&peer->tx, sent);
        digest(&me->rx, got);
        assert_memory_equal(sent, got, 32);
    }
    const oasis_counters *ca = oasis_stack_counters(n.a);
    printf("# %llu MiB each way at MTU %u: a out_segs=%llu retrans=%llu, virtual time %.3f s\n",
           (unsigned long long)(size >> 20), mtu, (unsigned long long)ca->tcp.out_segs,
           (unsigned long long)ca->tcp.retrans_segs,
           (double)(oasis_clock_now(n.clock) - 1000 * OASIS_NS_PER_SEC) / 1e9);
    if (offload) {
        /* The data went as super-segments: far fewer frames than the
         * MSS-sized segments they stand for (counted per piece). */
        const oasis_counters *cb = oasis_stack_counters(n.b);
        printf("# offload: a sent %llu frames for %llu segments\n",
               (unsigned long long)ca->link.tx_frames, (unsigned long long)ca->tcp.out_segs);
        assert_true(ca->link.tx_frames * 4 < ca->tcp.out_segs);
        assert_true(cb->link.rx_frames * 4 < cb->tcp.in_segs);
    }
    test_net_fini(&n);
    for (int i = 0; i < 2; i++) {
        free(sides[i].bufs[0]);
        free(sides[i].bufs[1]);
    }
}

static void test_integrity_both_ways_mtu1500(void **state) { run_integrity(1500, 0); }

/* Issue 13: the same with offloads on the wire (TSO super-segments and
 * partial checksums go through whole, like a veth pair). */
static void test_integrity_both_ways_mtu1500_offload(void **state) { run_integrity(1500, 1); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integrity_both_ways_mtu1500),
        cmocka_unit_test(test_integrity_both_ways_mtu1500_offload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
