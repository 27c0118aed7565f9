/* Out-of-order store: ranges, their bytes (first copy wins), SACK block
 * order. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/stack_impl.h"
#include "oasis/error.h"
#include "tcp/tcp_ofo.h"
#include "tcp/tcp_seq.h"

typedef struct fixture {
    struct oasis_stack stack;
    int live, fail;
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
    if (q && !p)
        f->live++;
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
    return live == 0 ? 0 : -1;
}

/* The byte a peer sends at sequence number q (tests check contents). */
static uint8_t pat(uint32_t q) { return (uint8_t)(q * 31u + (q >> 9)); }

/* Adds [l, r) carrying pat() bytes. */
static int add(oasis_stack *s, oasis_ofo *o, uint32_t l, uint32_t r)
{
    if (oasis_seq_lt(r, l))
        return oasis_ofo_add(s, o, l, r, NULL);
    uint32_t n = r - l;
    uint8_t *b = malloc(n ? n : 1);
    assert_non_null(b);
    for (uint32_t i = 0; i < n; i++)
        b[i] = pat(l + i);
    int err = oasis_ofo_add(s, o, l, r, b);
    free(b);
    return err;
}

/* Asserts the list is exactly the given [left, right) pairs. */
static void expect_ranges(const oasis_ofo *o, const uint32_t *lr, uint32_t n)
{
    assert_int_equal(o->n, n);
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(o->r[i].left, lr[2 * i]);
        assert_int_equal(o->r[i].right, lr[2 * i + 1]);
    }
}

#define EXPECT(o, ...)                                                                         \
    expect_ranges((o), (const uint32_t[]){__VA_ARGS__},                                        \
                  (uint32_t)(sizeof((const uint32_t[]){__VA_ARGS__}) / (2 * sizeof(uint32_t))))

static void test_sorted_insert(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    oasis_ofo o;
    oasis_ofo_init(&o, 16);
    assert_true(oasis_ofo_empty(&o));
    assert_null(o.r);
    assert_int_equal(add(s, &o, 300, 400), 0);
    assert_int_equal(add(s, &o, 100, 200), 0);
    assert_int_equal(add(s, &o, 500, 600), 0);
    assert_int_equal(add(s, &o, 210, 220), 0);
    assert_false(oasis_ofo_empty(&o));
    EXPECT(&o, 100, 200, 210, 220, 300, 400, 500, 600);
    /* More than the first allocation holds: grows. */
    assert_int_equal(add(s, &o, 700, 710), 0);
    assert_int_equal(add(s, &o, 50, 60), 0);
    EXPECT(&o, 50, 60, 100, 200, 210, 220, 300, 400, 500, 600, 700, 710);
    oasis_ofo_fini(s, &o);
    assert_null(o.r);
    assert_int_equal(o.n, 0);
    assert_int_equal(o.max, 16);
}

static void test_overlap_merge(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    oasis_ofo o;
    oasis_ofo_init(&o, 16);
    add(s, &o, 100, 200);
    add(s, &o, 150, 250);
    EXPECT(&o, 100, 250);
    add(s, &o, 50, 120);
    EXPECT(&o, 50, 250);
    add(s, &o, 120, 130); /* inside */
    EXPECT(&o, 50, 250);
    add(s, &o, 50, 250); /* identical */
    EXPECT(&o, 50, 250);
    add(s, &o, 400, 500);
    add(s, &o, 600, 700);
    add(s, &o, 800, 900);
    EXPECT(&o, 50, 250, 400, 500, 600, 700, 800, 900);
    add(s, &o, 450, 850); /* spans three */
    EXPECT(&o, 50, 250, 400, 900);
    add(s, &o, 0, 1000); /* swallows all */
    EXPECT(&o, 0, 1000);
    oasis_ofo_fini(s, &o);
}

static void test_adjacent_merge_and_holes(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    oasis_ofo o;
    oasis_ofo_init(&o, 16);
    add(s, &o, 100, 200);
    add(s, &o, 200, 300); /* abuts on the right */
    EXPECT(&o, 100, 300);
    add(s, &o, 50, 100); /* abuts on the left */
    EXPECT(&o, 50, 300);
    add(s, &o, 400, 500);
    add(s, &o, 600, 700);
    add(s, &o, 301, 399); /* leaves two one-byte holes */
    EXPECT(&o, 50, 300, 301, 399, 400, 500, 600, 700);
    add(s, &o, 300, 301);
    EXPECT(&o, 50, 399, 400, 500, 600, 700);
    add(s, &o, 399, 400);
    EXPECT(&o, 50, 500, 600, 700);
    add(s, &o, 500, 600); /* exactly the hole */
    EXPECT(&o, 50, 700);
    oasis_ofo_fini(s, &o);
}

static void test_empty_and_invalid(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    oasis_ofo o;
    oasis_ofo_init(&o, 4);
    assert_int_equal(add(s, &o, 100, 100), 0);
    assert_true(oasis_ofo_empty(&o));
    assert_int_equal(add(s, &o, 200, 100), OASIS_EINVAL);
    assert_true(oasis_ofo_empty(&o));
    oasis_sack_block b[4];
    assert_int_equal(oasis_ofo_sack(&o, b, 4), 0);
    assert_int_equal(oasis_ofo_advance(s, &o, 77, NULL), 77);
    /* clear forgets ranges and SACK history, keeps the storage. */
    add(s, &o, 10, 20);
    add(s, &o, 30, 40);
    oasis_ofo_clear(s, &o);
    assert_true(oasis_ofo_empty(&o));
    assert_int_equal(oasis_ofo_sack(&o, b, 4), 0);
    assert_non_null(o.r);
    add(s, &o, 50, 60);
    assert_int_equal(oasis_ofo_sack(&o, b, 4), 1);
    assert_int_equal(b[0].left, 50);
    oasis_ofo_fini(s, &o);
}

static void test_bound(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    oasis_ofo o;
    oasis_ofo_init(&o, 3);
    assert_int_equal(add(s, &o, 100, 200), 0);
    assert_int_equal(add(s, &o, 300, 400), 0);
    assert_int_equal(add(s, &o, 500, 600), 0);
    assert_int_equal(add(s, &o, 700, 800), OASIS_EAGAIN);
    assert_int_equal(add(s, &o, 0, 50), OASIS_EAGAIN);
    EXPECT(&o, 100, 200, 300, 400, 500, 600);
    assert_true(o.cap <= 3);
    /* Merging needs no new slot. */
    assert_int_equal(add(s, &o, 600, 650), 0);
    assert_int_equal(add(s, &o, 200, 300), 0);
    EXPECT(&o, 100, 400, 500, 650);
    assert_int_equal(add(s, &o, 700, 800), 0);
    assert_int_equal(add(s, &o, 900, 950), OASIS_EAGAIN);
    /* Advancing frees slots. */
    assert_int_equal(oasis_ofo_advance(s, &o, 100, NULL), 400);
    assert_int_equal(add(s, &o, 900, 950), 0);
    EXPECT(&o, 500, 650, 700, 800, 900, 950);
    oasis_ofo_fini(s, &o);

    /* A bound of 0 keeps nothing. */
    oasis_ofo_init(&o, 0);
    assert_int_equal(add(s, &o, 1, 2), OASIS_EAGAIN);
    oasis_ofo_fini(s, &o);
}

static void test_alloc_failure(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    oasis_ofo o;
    oasis_ofo_init(&o, 100);
    f->fail = 1;
    assert_int_equal(add(s, &o, 1, 2), OASIS_ENOMEM);
    assert_true(oasis_ofo_empty(&o));
    f->fail = 0;
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(add(s, &o, 10 * i, 10 * i + 5), 0);
    f->fail = 1; /* growing past the first 4 fails, the list is intact */
    assert_int_equal(add(s, &o, 100, 105), OASIS_ENOMEM);
    /* a merge needs room for the merged bytes: fails whole, nothing changed */
    assert_int_equal(add(s, &o, 5, 10), OASIS_ENOMEM);
    EXPECT(&o, 0, 5, 10, 15, 20, 25, 30, 35);
    assert_int_equal(o.bytes, 20);
    f->fail = 0;
    assert_int_equal(add(s, &o, 5, 10), 0);
    EXPECT(&o, 0, 15, 20, 25, 30, 35);
    oasis_ofo_fini(s, &o);
}

static void test_advance(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    oasis_ofo o;
    oasis_ofo_init(&o, 16);
    add(s, &o, 100, 200);
    add(s, &o, 300, 400);
    add(s, &o, 500, 600);
    /* rcv_nxt below the first range: nothing changes. */
    assert_int_equal(oasis_ofo_advance(s, &o, 50, NULL), 50);
    assert_int_equal(oasis_ofo_advance(s, &o, 99, NULL), 99);
    assert_int_equal(o.n, 3);
    /* Reaching the left edge pulls the range in. */
    assert_int_equal(oasis_ofo_advance(s, &o, 100, NULL), 200);
    EXPECT(&o, 300, 400, 500, 600);
    /* Inside a range. */
    assert_int_equal(oasis_ofo_advance(s, &o, 350, NULL), 400);
    EXPECT(&o, 500, 600);
    /* Exactly the right edge: dropped, nxt unchanged. */
    add(s, &o, 700, 800);
    assert_int_equal(oasis_ofo_advance(s, &o, 600, NULL), 600);
    EXPECT(&o, 700, 800);
    /* Past several ranges, landing inside the next. */
    add(s, &o, 900, 1000);
    add(s, &o, 1100, 1200);
    assert_int_equal(oasis_ofo_advance(s, &o, 1150, NULL), 1200);
    assert_true(oasis_ofo_empty(&o));
    oasis_ofo_fini(s, &o);
}

static void test_sack_order(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    oasis_ofo o;
    oasis_sack_block b[OASIS_TCP_MAX_SACK];
    oasis_ofo_init(&o, 16);
    add(s, &o, 100, 200); /* A */
    add(s, &o, 300, 400); /* B */
    add(s, &o, 500, 600); /* C */
    assert_int_equal(oasis_ofo_sack(&o, b, 4), 3);
    assert_int_equal(b[0].left, 500);
    assert_int_equal(b[1].left, 300);
    assert_int_equal(b[2].left, 100);
    assert_int_equal(o.last, 500);

    /* A segment inside A: A is the most recent. */
    add(s, &o, 150, 180);
    assert_int_equal(oasis_ofo_sack(&o, b, 4), 3);
    assert_int_equal(b[0].left, 100);
    assert_int_equal(b[0].right, 200);
    assert_int_equal(b[1].left, 500);
    assert_int_equal(b[2].left, 300);

    /* Extending B reports the merged block first. */
    add(s, &o, 400, 450);
    assert_int_equal(oasis_ofo_sack(&o, b, 2), 2);
    assert_int_equal(b[0].left, 300);
    assert_int_equal(b[0].right, 450);
    assert_int_equal(b[1].left, 100);

    /* Merging B and C: one block for both, first. */
    add(s, &o, 450, 500);
    assert_int_equal(oasis_ofo_sack(&o, b, 4), 2);
    assert_int_equal(b[0].left, 300);
    assert_int_equal(b[0].right, 600);
    assert_int_equal(b[1].left, 100);

    /* Six ranges: the four most recent first, then sequence order. */
    add(s, &o, 700, 710);
    add(s, &o, 720, 730);
    add(s, &o, 740, 750);
    add(s, &o, 760, 770);
    assert_int_equal(oasis_ofo_sack(&o, b, 4), 4);
    assert_int_equal(b[0].left, 760);
    assert_int_equal(b[1].left, 740);
    assert_int_equal(b[2].left, 720);
    assert_int_equal(b[3].left, 700);

    /* After advance the recent ranges that are gone are skipped. */
    assert_int_equal(oasis_ofo_advance(s, &o, 730, NULL), 730);
    assert_int_equal(oasis_ofo_sack(&o, b, 4), 2);
    assert_int_equal(b[0].left, 760);
    assert_int_equal(b[1].left, 740);
    assert_int_equal(oasis_ofo_sack(&o, b, 0), 0);
    oasis_ofo_fini(s, &o);
}

static void test_wraparound(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    oasis_ofo o;
    oasis_sack_block b[4];
    oasis_ofo_init(&o, 16);
    /* Added out of order across 2^32: sorted by sequence, not by value. */
    add(s, &o, 0x10, 0x20);
    add(s, &o, 0xffffff00u, 0xffffff80u);
    add(s, &o, 0xfffffff0u, 0xfffffff8u);
    EXPECT(&o, 0xffffff00u, 0xffffff80u, 0xfffffff0u, 0xfffffff8u, 0x10, 0x20);
    /* A range that itself wraps fills both holes. */
    add(s, &o, 0xffffff80u, 0x10);
    EXPECT(&o, 0xffffff00u, 0x20);
    assert_int_equal(oasis_ofo_sack(&o, b, 4), 1);
    assert_int_equal(b[0].left, 0xffffff00u);
    assert_int_equal(b[0].right, 0x20);
    /* Advance across the wrap. */
    add(s, &o, 0x40, 0x50);
    assert_int_equal(oasis_ofo_advance(s, &o, 0xfffffe00u, NULL), 0xfffffe00u);
    assert_int_equal(oasis_ofo_advance(s, &o, 0xffffff00u, NULL), 0x20);
    EXPECT(&o, 0x40, 0x50);
    assert_int_equal(oasis_ofo_advance(s, &o, 0x45, NULL), 0x50);
    assert_true(oasis_ofo_empty(&o));
    /* A range ending exactly at 2^32. */
    add(s, &o, 0xfffffff0u, 0);
    add(s, &o, 0, 0x10);
    EXPECT(&o, 0xfffffff0u, 0x10);
    oasis_ofo_fini(s, &o);
}

/* Random adds in a window that straddles 2^32, checked against a bitmap. */
static void test_random_against_bitmap(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    enum { WIN = 600 };
    const uint32_t base = 0xfffffe00u;
    uint32_t x = 7;
    for (int round = 0; round < 200; round++) {
        uint8_t bits[WIN] = {0};
        oasis_ofo o;
        oasis_ofo_init(&o, 1000);
        for (int k = 0; k < 40; k++) {
            x = x * 1103515245u + 12345u;
            uint32_t a = (x >> 8) % WIN;
            uint32_t len = 1 + (x >> 20) % 30;
            if (a + len > WIN)
                len = WIN - a;
            assert_int_equal(add(s, &o, base + a, base + a + len), 0);
            memset(bits + a, 1, len);
            /* The most recent block holds what was just added. */
            oasis_sack_block b[4];
            assert_true(oasis_ofo_sack(&o, b, 4) >= 1);
            assert_true(oasis_seq_le(b[0].left, base + a));
            assert_true(oasis_seq_ge(b[0].right, base + a + len));
        }
        /* The ranges are exactly the runs of the bitmap. */
        uint32_t i = 0, n = 0;
        while (i < WIN) {
            if (!bits[i]) {
                i++;
                continue;
            }
            uint32_t j = i;
            while (j < WIN && bits[j])
                j++;
            assert_true(n < o.n);
            assert_int_equal(o.r[n].left, base + i);
            assert_int_equal(o.r[n].right, base + j);
            n++;
            i = j;
        }
        assert_int_equal(n, o.n);
        /* Advancing from the base delivers the first run if it starts there. */
        uint32_t first_end = 0;
        while (first_end < WIN && bits[first_end])
            first_end++;
        assert_int_equal(oasis_ofo_advance(s, &o, base, NULL), base + first_end);
        oasis_ofo_fini(s, &o);
    }
}

/* Every byte held is the one first received for its sequence number. */
static void expect_bytes(const oasis_ofo *o, uint8_t (*want)(uint32_t))
{
    uint32_t total = 0;
    for (uint32_t i = 0; i < o->n; i++) {
        const oasis_ofo_range *r = &o->r[i];
        assert_true(r->size >= r->right - r->left);
        for (uint32_t q = r->left; q != r->right; q++)
            assert_int_equal(r->data[q - r->left], want(q));
        total += r->right - r->left;
    }
    assert_int_equal(o->bytes, total);
}

static uint8_t other(uint32_t q) { return (uint8_t)~pat(q); }

static int add_other(oasis_stack *s, oasis_ofo *o, uint32_t l, uint32_t r)
{
    uint8_t b[2048];
    for (uint32_t i = 0; i < r - l; i++)
        b[i] = other(l + i);
    return oasis_ofo_add(s, o, l, r, b);
}

/* Byte at q: pat() where [100,200) and [300,400) were first, other()
 * elsewhere. */
static uint8_t first_wins(uint32_t q)
{
    return ((q >= 100 && q < 200) || (q >= 300 && q < 400)) ? pat(q) : other(q);
}

/* Issue 11 item 37: overlapping data, the first copy wins, as in IP
 * reassembly. A later copy only fills the gaps. */
static void test_first_copy_wins(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    oasis_ofo o;
    oasis_ofo_init(&o, 16);
    add(s, &o, 100, 200);
    add(s, &o, 300, 400);
    /* covers both and the gaps around: only the gaps take its bytes */
    assert_int_equal(add_other(s, &o, 50, 450), 0);
    EXPECT(&o, 50, 450);
    expect_bytes(&o, first_wins);
    /* a duplicate of held bytes changes nothing */
    assert_int_equal(add_other(s, &o, 120, 180), 0);
    expect_bytes(&o, first_wins);
    /* delivered in order: the ring gets the first copies */
    oasis_ring ring;
    oasis_ring_init(&ring, 1000);
    assert_int_equal(oasis_ofo_advance(s, &o, 50, &ring), 450);
    assert_true(oasis_ofo_empty(&o));
    assert_int_equal(o.bytes, 0);
    uint8_t out[400];
    oasis_ring_peek(&ring, 0, out, 400);
    for (uint32_t q = 50; q < 450; q++)
        assert_int_equal(out[q - 50], first_wins(q));
    oasis_ring_fini(s, &ring);
    oasis_ofo_fini(s, &o);
}

/* Merges in every shape keep each byte's first copy, checked against a
 * model, and storage stays within twice what is held. */
static void test_random_contents(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    enum { WIN = 3000 };
    const uint32_t base = 0xfffff000u;
    uint32_t x = 99;
    for (int round = 0; round < 100; round++) {
        static uint8_t model[WIN], have[WIN];
        memset(have, 0, sizeof have);
        oasis_ofo o;
        oasis_ofo_init(&o, 1000);
        for (int k = 0; k < 60; k++) {
            x = x * 1103515245u + 12345u;
            uint32_t a = (x >> 8) % WIN, len = 1 + (x >> 20) % 200;
            if (a + len > WIN)
                len = WIN - a;
            uint8_t b[256];
            for (uint32_t i = 0; i < len; i++) {
                b[i] = (uint8_t)(x >> 3) ^ (uint8_t)i;
                if (!have[a + i]) {
                    have[a + i] = 1;
                    model[a + i] = b[i];
                }
            }
            assert_int_equal(oasis_ofo_add(s, &o, base + a, base + a + len, b), 0);
        }
        uint32_t held = 0, alloc = 0;
        for (uint32_t i = 0; i < o.n; i++) {
            const oasis_ofo_range *r = &o.r[i];
            for (uint32_t q = r->left; q != r->right; q++) {
                assert_true(have[q - base]);
                assert_int_equal(r->data[q - r->left], model[q - base]);
            }
            held += r->right - r->left;
            alloc += r->size;
        }
        uint32_t nhave = 0;
        for (uint32_t i = 0; i < WIN; i++)
            nhave += have[i];
        assert_int_equal(held, nhave);
        assert_int_equal(o.bytes, held);
        assert_true(alloc <= 2 * held);
        oasis_ofo_fini(s, &o);
    }
}

/* advance hands over what the ring takes and keeps the rest. */
static void test_advance_into_full_ring(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    oasis_ofo o;
    oasis_ring ring;
    oasis_ofo_init(&o, 16);
    oasis_ring_init(&ring, 60);
    add(s, &o, 10, 110);
    assert_int_equal(oasis_ofo_advance(s, &o, 10, &ring), 70);
    EXPECT(&o, 10, 110);
    uint8_t out[60];
    oasis_ring_consume(s, &ring, 0);
    oasis_ring_peek(&ring, 0, out, 60);
    for (uint32_t q = 10; q < 70; q++)
        assert_int_equal(out[q - 10], pat(q));
    oasis_ring_consume(s, &ring, 60);
    assert_int_equal(oasis_ofo_advance(s, &o, 70, &ring), 110);
    assert_true(oasis_ofo_empty(&o));
    oasis_ring_peek(&ring, 0, out, 40);
    for (uint32_t q = 70; q < 110; q++)
        assert_int_equal(out[q - 70], pat(q));
    oasis_ring_fini(s, &ring);
    oasis_ofo_fini(s, &o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sorted_insert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlap_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adjacent_merge_and_holes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_and_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_advance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sack_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wraparound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_against_bitmap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_copy_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_contents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_advance_into_full_ring, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
