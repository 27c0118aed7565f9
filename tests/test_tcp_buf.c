/* The byte ring: lazy storage, wraparound, out-of-order placement. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/checksum.h"
#include "core/mem.h"
#include "core/stack_impl.h"
#include "oasis/error.h"
#include "tcp/tcp_buf.h"

/* An allocator that counts live blocks and can be told to fail. */
typedef struct fixture {
    struct oasis_stack stack;
    int live, allocs, fail;
} fixture;

static void *count_alloc(void *ud, void *p, size_t n)
{
    fixture *f = ud;
    if (n == 0) {
        if (p)
            f->live--;
        free(p);
        return NULL;
    }
    if (f->fail)
        return NULL;
    void *q = realloc(p, n);
    if (q && !p) {
        f->live++;
        f->allocs++;
    }
    return q;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->stack.alloc = count_alloc;
    f->stack.alloc_ud = f;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    int live = f->live;
    free(f);
    return live == 0 ? 0 : -1; /* every test must leave nothing allocated */
}

static void test_lazy_alloc_and_free(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    oasis_ring r;
    oasis_ring_init(&r, 64);
    assert_null(r.mem);
    assert_int_equal(oasis_ring_free(&r), 64);
    assert_int_equal(oasis_ring_write(s, &r, "x", 0), 0);
    assert_null(r.mem);
    assert_int_equal(f->allocs, 0);

    assert_int_equal(oasis_ring_write(s, &r, "hello", 5), 5);
    assert_non_null(r.mem);
    assert_int_equal(f->live, 1);
    oasis_ring_consume(s, &r, 2);
    assert_non_null(r.mem);
    assert_int_equal(r.len, 3);
    oasis_ring_consume(s, &r, 3);
    /* Small storage is kept when the ring drains (no malloc per message). */
    assert_non_null(r.mem);
    assert_int_equal(f->live, 1);
    assert_int_equal(r.head, 0);

    /* Consuming more than stored is clamped; consuming nothing is harmless. */
    oasis_ring_consume(s, &r, 10);
    assert_int_equal(oasis_ring_write(s, &r, "abc", 3), 3);
    oasis_ring_consume(s, &r, 100);
    assert_int_equal(r.len, 0);
    assert_int_equal(f->allocs, 1);

    oasis_ring_write(s, &r, "abc", 3);
    oasis_ring_fini(s, &r);
    assert_null(r.mem);
    assert_int_equal(r.len, 0);
    assert_int_equal(f->live, 0);
    oasis_ring_fini(s, &r); /* twice is fine */
}

static void test_full_and_partial_write(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    oasis_ring r;
    uint8_t out[8];
    oasis_ring_init(&r, 8);
    assert_int_equal(oasis_ring_write(s, &r, "0123456789", 10), 8);
    assert_int_equal(oasis_ring_free(&r), 0);
    assert_int_equal(oasis_ring_write(s, &r, "z", 1), 0);
    oasis_ring_peek(&r, 0, out, 8);
    assert_memory_equal(out, "01234567", 8);
    oasis_ring_fini(s, &r);

    /* A zero-capacity ring takes nothing and never allocates. */
    oasis_ring_init(&r, 0);
    assert_int_equal(oasis_ring_write(s, &r, "a", 1), 0);
    assert_int_equal(f->allocs, 1);
    oasis_ring_fini(s, &r);
}

static void test_wraparound_and_span(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    oasis_ring r;
    const uint8_t *p;
    uint8_t out[16];
    oasis_ring_init(&r, 16);
    assert_int_equal(oasis_ring_write(s, &r, "ABCDEFGHIJ", 10), 10);
    oasis_ring_consume(s, &r, 8); /* head 8, "IJ" left */
    assert_int_equal(oasis_ring_write(s, &r, "klmnopqrstuvwxyz", 16), 14);
    assert_int_equal(r.len, 16);
    oasis_ring_peek(&r, 0, out, 16);
    assert_memory_equal(out, "IJklmnopqrstuvwx", 16);

    /* The first span runs to the end of storage, the second from its start. */
    assert_int_equal(oasis_ring_span(&r, 0, &p), 8);
    assert_memory_equal(p, "IJklmnop", 8);
    assert_int_equal(oasis_ring_span(&r, 8, &p), 8);
    assert_memory_equal(p, "qrstuvwx", 8);
    assert_int_equal(oasis_ring_span(&r, 5, &p), 3);
    assert_memory_equal(p, "nop", 3);
    assert_int_equal(oasis_ring_span(&r, 15, &p), 1);
    assert_int_equal(*p, 'x');
    assert_int_equal(oasis_ring_span(&r, 16, &p), 0);
    assert_null(p);
    assert_int_equal(oasis_ring_span(&r, 1000, &p), 0);

    /* Peek across the wrap at an offset, and a clamped peek. */
    oasis_ring_peek(&r, 6, out, 4);
    assert_memory_equal(out, "opqr", 4);
    memset(out, '.', sizeof out);
    oasis_ring_peek(&r, 14, out, 5);
    assert_memory_equal(out, "wx...", 5);

    oasis_ring_consume(s, &r, 12);
    assert_int_equal(oasis_ring_span(&r, 0, &p), 4);
    assert_memory_equal(p, "uvwx", 4);
    oasis_ring_consume(s, &r, 4);
    assert_int_equal(r.len, 0);

    /* An empty ring's span. */
    assert_int_equal(oasis_ring_span(&r, 0, &p), 0);
    assert_null(p);
    oasis_ring_fini(s, &r);
}

static void test_set_cap_only_when_empty(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    oasis_ring r;
    oasis_ring_init(&r, 4);
    assert_int_equal(oasis_ring_set_cap(s, &r, 8), 0);
    assert_int_equal(r.cap, 8);
    assert_int_equal(oasis_ring_write(s, &r, "12345678", 8), 8);
    assert_int_equal(oasis_ring_set_cap(s, &r, 16), OASIS_EINVAL);
    assert_int_equal(r.cap, 8);
    oasis_ring_consume(s, &r, 8);
    assert_int_equal(oasis_ring_set_cap(s, &r, 16), 0);
    assert_int_equal(oasis_ring_write(s, &r, "0123456789abcdefXYZ", 19), 16);
    oasis_ring_fini(s, &r);
}

static void test_alloc_failure(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    oasis_ring r;
    oasis_ring_init(&r, 16);
    f->fail = 1;
    assert_int_equal(oasis_ring_write(s, &r, "abc", 3), 0);
    assert_int_equal(r.len, 0);
    f->fail = 0;
    assert_int_equal(oasis_ring_write(s, &r, "abc", 3), 3);
    f->fail = 1; /* no further allocation is needed while storage exists */
    assert_int_equal(oasis_ring_write(s, &r, "def", 3), 3);
    f->fail = 0;
    oasis_ring_fini(s, &r);
}

/* A long random run against a flat model, with an odd capacity. */
static void test_random_against_model(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    enum { CAP = 37 };
    uint8_t model[CAP], tmp[CAP], data[CAP];
    uint32_t mlen = 0, x = 1;
    oasis_ring r;
    oasis_ring_init(&r, CAP);
    for (int it = 0; it < 100000; it++) {
        x = x * 1664525u + 1013904223u;
        uint32_t n = (x >> 8) % (CAP + 3);
        if ((x >> 28) & 1) {
            for (uint32_t i = 0; i < n && i < CAP; i++)
                data[i] = (uint8_t)(x + i);
            uint32_t want = n > CAP ? CAP : n;
            uint32_t took = oasis_ring_write(s, &r, data, want);
            assert_int_equal(took, want < CAP - mlen ? want : CAP - mlen);
            memcpy(model + mlen, data, took);
            mlen += took;
        } else {
            uint32_t c = n < mlen ? n : mlen;
            oasis_ring_consume(s, &r, n);
            memmove(model, model + c, mlen - c);
            mlen -= c;
        }
        assert_int_equal(r.len, mlen);
        assert_true(mlen == 0 || r.mem != NULL);
        oasis_ring_peek(&r, 0, tmp, mlen);
        assert_memory_equal(tmp, model, mlen);
        /* Two spans cover everything. */
        const uint8_t *p;
        uint32_t a = oasis_ring_span(&r, 0, &p);
        uint32_t b = oasis_ring_span(&r, a, &p);
        assert_int_equal(a + b, mlen);
    }
    oasis_ring_fini(s, &r);
}

/* Storage starts small, doubles up to cap as bytes are held (unwrapping a
 * wrapped ring), and big storage is freed when the ring drains. */
static void test_growth(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    enum { CAP = 100000 };
    static uint8_t in[CAP], out[CAP];
    for (uint32_t i = 0; i < CAP; i++)
        in[i] = (uint8_t)(i * 7 + (i >> 8));
    oasis_ring r;
    oasis_ring_init(&r, CAP);
    assert_int_equal(oasis_ring_write(s, &r, in, 100), 100);
    assert_int_equal(r.size, OASIS_RING_SMALL);
    /* Wrap the small storage, then grow it: bytes come out in order. */
    oasis_ring_consume(s, &r, 90);
    assert_int_equal(oasis_ring_write(s, &r, in + 100, OASIS_RING_SMALL - 20), OASIS_RING_SMALL - 20);
    assert_int_equal(r.size, OASIS_RING_SMALL); /* 4086 bytes fit, wrapped */
    assert_int_equal(oasis_ring_write(s, &r, in + OASIS_RING_SMALL + 80, 1000), 1000);
    assert_int_equal(r.size, 2 * OASIS_RING_SMALL);
    oasis_ring_peek(&r, 0, out, r.len);
    assert_memory_equal(out, in + 90, r.len);
    /* Fill to cap: storage never exceeds it. */
    uint32_t have = r.len, next = 90 + have;
    while (oasis_ring_free(&r)) {
        uint32_t n = oasis_ring_free(&r) < 3000 ? oasis_ring_free(&r) : 3000;
        assert_int_equal(oasis_ring_write(s, &r, in + (next % CAP), n < CAP - next % CAP ? n : CAP - next % CAP) > 0, 1);
        next = 90 + r.len;
    }
    assert_int_equal(r.size, CAP);
    assert_int_equal(r.len, CAP);
    /* Big storage is freed on drain; the next storage is made at the
     * drained peak at once (no regrowth through every power of two). */
    oasis_ring_consume(s, &r, CAP);
    assert_null(r.mem);
    assert_int_equal(f->live, 0);
    assert_int_equal(oasis_ring_write(s, &r, in, 10), 10);
    assert_int_equal(r.size, CAP);
    oasis_ring_consume(s, &r, 10);
    /* ...and a drain after a small fill forgets the old peak. */
    assert_null(r.mem);
    assert_int_equal(oasis_ring_write(s, &r, in, 10), 10);
    assert_int_equal(r.size, OASIS_RING_SMALL);
    oasis_ring_consume(s, &r, 10);
    assert_non_null(r.mem); /* small: kept */
    oasis_ring_fini(s, &r);
    /* Storage follows what is held: ten bytes never take more than the
     * small size (out-of-order data lives in tcp_ofo, not here). */
    oasis_ring_init(&r, CAP);
    assert_int_equal(oasis_ring_write(s, &r, in + 5, 10), 10);
    assert_int_equal(r.size, OASIS_RING_SMALL);
    oasis_ring_fini(s, &r);
    assert_null(r.mem);
    assert_int_equal(r.size, 0);
}

/* A random run with a capacity above the small size, so storage grows and
 * shrinks many times; checked against a model. */
static void test_growth_random(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    enum { CAP = OASIS_RING_KEEP + 3 * OASIS_RING_SMALL + 123 };
    static uint8_t model[CAP], tmp[CAP], data[CAP];
    uint32_t mlen = 0, x = 7;
    oasis_ring r;
    oasis_ring_init(&r, CAP);
    for (int it = 0; it < 20000; it++) {
        x = x * 1664525u + 1013904223u;
        uint32_t n = (x >> 4) % (CAP / 2);
        if ((x >> 28) & 1) {
            for (uint32_t i = 0; i < n; i++)
                data[i] = (uint8_t)(x + i * 3);
            uint32_t took = oasis_ring_write(s, &r, data, n);
            assert_int_equal(took, n < CAP - mlen ? n : CAP - mlen);
            memcpy(model + mlen, data, took);
            mlen += took;
        } else {
            uint32_t c = n < mlen ? n : mlen;
            oasis_ring_consume(s, &r, n);
            memmove(model, model + c, mlen - c);
            mlen -= c;
        }
        assert_int_equal(r.len, mlen);
        assert_true(r.size <= CAP);
        assert_true(mlen > 0 || r.size <= OASIS_RING_KEEP);
        assert_true(r.size == 0 || r.size >= r.len);
        oasis_ring_peek(&r, 0, tmp, mlen);
        assert_memory_equal(tmp, model, mlen);
    }
    oasis_ring_fini(s, &r);
}

/* peek_csum copies like peek and sums like oasis_csum_add, also when the
 * range wraps at an odd index (the second piece changes byte lanes). */
static void test_peek_csum(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    enum { CAP = 101 };
    uint8_t in[CAP], out[CAP];
    oasis_ring r;
    oasis_ring_init(&r, CAP);
    for (uint32_t head = 0; head < CAP; head += 7) {
        for (uint32_t i = 0; i < CAP; i++)
            in[i] = (uint8_t)(i * 31 + head);
        oasis_ring_write(s, &r, in, head);
        oasis_ring_consume(s, &r, head);
        assert_int_equal(oasis_ring_write(s, &r, in, CAP), CAP);
        for (uint32_t off = 0; off < 5; off++) {
            for (uint32_t n = 0; n + off <= CAP; n += 13) {
                uint64_t sum = oasis_ring_peek_csum(&r, off, out, n);
                assert_memory_equal(out, in + off, n);
                assert_int_equal(oasis_csum_fold(sum), oasis_csum(in + off, n));
            }
        }
        oasis_ring_consume(s, &r, CAP);
    }
    oasis_ring_fini(s, &r);
}

/* The same across the wrap: the ring keeps a byte so that its head moves
 * (a drained ring starts over at index 0), and every range, one run or
 * two, at even and odd offsets, sums and copies as the flat bytes do. */
static void test_peek_csum_wrapped(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    enum { CAP = 4096 }; /* the storage's size: writes past its end wrap */
    static uint8_t in[CAP], out[CAP];
    oasis_ring r;
    oasis_ring_init(&r, CAP);
    for (uint32_t head = 1; head < CAP; head += 509) {
        for (uint32_t i = 0; i < CAP; i++)
            in[i] = (uint8_t)(i * 7 + head);
        assert_int_equal(oasis_ring_write(s, &r, in, head + 1), head + 1);
        oasis_ring_consume(s, &r, head); /* one byte left, at index head */
        assert_int_equal(r.head, head);
        assert_int_equal(oasis_ring_write(s, &r, in + 1, CAP - 1), CAP - 1);
        /* The ring holds in[head..head+CAP-1] flattened: byte k is in[k + head]
         * for the first, in[k] after; compare against the flat copy. */
        static uint8_t flat[CAP];
        flat[0] = in[head];
        memcpy(flat + 1, in + 1, CAP - 1);
        for (uint32_t off = 0; off < 4; off++) {
            for (uint32_t n = 0; n + off <= CAP; n += 97) {
                uint64_t sum = oasis_ring_peek_csum(&r, off, out, n);
                assert_memory_equal(out, flat + off, n);
                assert_int_equal(oasis_csum_fold(sum), oasis_csum(flat + off, n));
            }
            uint32_t n = CAP - off; /* to the end, across the wrap */
            uint64_t sum = oasis_ring_peek_csum(&r, off, out, n);
            assert_memory_equal(out, flat + off, n);
            assert_int_equal(oasis_csum_fold(sum), oasis_csum(flat + off, n));
        }
        oasis_ring_consume(s, &r, CAP);
        assert_int_equal(r.len, 0);
    }
    oasis_ring_fini(s, &r);
}

/* A few bytes (1 to 7 take the inline path) at every offset of a ring
 * whose head sits at every index: in one run, up to the storage's end and
 * across it, each range copies and sums as the flat bytes do, and the
 * bytes around the copy stay. Small writes land at every index too. */
static void test_peek_csum_small(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    enum { CAP = 64 };
    uint8_t in[CAP], flat[CAP], out[16 + 2];
    oasis_ring r;
    oasis_ring_init(&r, CAP);
    for (uint32_t head = 0; head < CAP; head++) {
        for (uint32_t i = 0; i < CAP; i++)
            in[i] = (uint8_t)(i * 13 + head * 5 + 1);
        assert_int_equal(oasis_ring_write(s, &r, in, CAP), CAP);
        assert_int_equal(r.size, CAP);
        oasis_ring_consume(s, &r, head);
        /* refill in pieces of 1..7 bytes: the head's bytes wrap to the front */
        uint32_t k = 0;
        for (uint32_t piece = 1; k < head; piece = piece % 7 + 1) {
            uint32_t n = piece < head - k ? piece : head - k;
            assert_int_equal(oasis_ring_write(s, &r, in + k, n), n);
            k += n;
        }
        assert_int_equal(r.head, head);
        memcpy(flat, in + head, CAP - head);
        memcpy(flat + CAP - head, in, head);
        for (uint32_t off = 0; off < CAP; off++) {
            for (uint32_t n = 0; n <= 16 && off + n <= CAP; n++) {
                memset(out, 0xa5, sizeof out);
                uint64_t sum = oasis_ring_peek_csum(&r, off, out + 1, n);
                assert_memory_equal(out + 1, flat + off, n);
                assert_int_equal(out[0], 0xa5);
                assert_int_equal(out[n + 1], 0xa5);
                assert_int_equal(oasis_csum_fold(sum), oasis_csum(flat + off, n));
            }
        }
        oasis_ring_consume(s, &r, CAP);
    }
    oasis_ring_fini(s, &r);
}

/* Zero-copy receive: the pinned room is where the ring's next bytes go;
 * their own write takes them without a copy, any other write is refused
 * (it would land on them), and neither draining nor a change of capacity
 * moves or frees the storage while a link may be reading into it. */
static void test_pin(void **state)
{
    fixture *f = *state;
    struct oasis_stack *s = &f->stack;
    oasis_ring r;
    uint8_t *p, out[64], got[8];
    oasis_ring_init(&r, 64);
    assert_int_equal(oasis_ring_write(s, &r, "abcdefgh", 8), 8);
    oasis_ring_consume(s, &r, 2);
    /* Room from the end of the bytes to the end of storage. */
    uint32_t room = oasis_ring_pin(s, &r, 64, &p);
    assert_non_null(p);
    assert_true(room >= 8 && room <= 64 - 6);
    const uint8_t *span;
    assert_int_equal(oasis_ring_span(&r, 0, &span), 6);
    assert_ptr_equal(span + 6, p); /* right behind the stored bytes */
    uint8_t *q;
    assert_int_equal(oasis_ring_pin(s, &r, 8, &q), 0); /* one pin at a time */
    assert_null(q);
    /* The application drains the ring meanwhile: the storage stays. */
    oasis_ring_consume(s, &r, 6);
    assert_int_equal(r.len, 0);
    assert_non_null(r.mem);
    assert_ptr_equal(r.pin, p);
    assert_int_equal(oasis_ring_set_cap(s, &r, 128), OASIS_EINVAL);
    /* A write of other bytes would overwrite the room: refused. */
    assert_int_equal(oasis_ring_write(s, &r, "XY", 2), 0);
    memcpy(p, "ijkl", 4); /* the link's read */
    assert_int_equal(oasis_ring_write(s, &r, p, 4), 4);
    assert_null(r.pin);
    oasis_ring_peek(&r, 0, out, 4);
    assert_memory_equal(out, "ijkl", 4);
    /* Unpinned, writes go on as usual. */
    assert_int_equal(oasis_ring_write(s, &r, "mn", 2), 2);
    oasis_ring_peek(&r, 0, out, 6);
    assert_memory_equal(out, "ijklmn", 6);
    oasis_ring_consume(s, &r, 6);
    /* Pinned and let go unused: an empty ring is drained then. */
    assert_true(oasis_ring_pin(s, &r, 16, &p) >= 16);
    oasis_ring_unpin(s, &r);
    assert_null(r.pin);
    assert_int_equal(oasis_ring_write(s, &r, "op", 2), 2);
    oasis_ring_peek(&r, 0, got, 2);
    assert_memory_equal(got, "op", 2);
    /* A full ring has no room to offer. */
    assert_int_equal(oasis_ring_write(s, &r, out, 62), 62);
    assert_int_equal(oasis_ring_pin(s, &r, 16, &p), 0);
    assert_null(p);
    oasis_ring_fini(s, &r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lazy_alloc_and_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_and_partial_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wraparound_and_span, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_cap_only_when_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_growth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peek_csum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peek_csum_wrapped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peek_csum_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_growth_random, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_against_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pin, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
