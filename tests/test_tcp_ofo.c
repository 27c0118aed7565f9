/* Out-of-order range tracking and SACK block order. */
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
    assert_int_equal(oasis_ofo_add(s, &o, 300, 400), 0);
    assert_int_equal(oasis_ofo_add(s, &o, 100, 200), 0);
    assert_int_equal(oasis_ofo_add(s, &o, 500, 600), 0);
    assert_int_equal(oasis_ofo_add(s, &o, 210, 220), 0);
    assert_false(oasis_ofo_empty(&o));
    EXPECT(&o, 100, 200, 210, 220, 300, 400, 500, 600);
    /* More than the first allocation holds: grows. */
    assert_int_equal(oasis_ofo_add(s, &o, 700, 710), 0);
    assert_int_equal(oasis_ofo_add(s, &o, 50, 60), 0);
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
    oasis_ofo_add(s, &o, 100, 200);
    oasis_ofo_add(s, &o, 150, 250);
    EXPECT(&o, 100, 250);
    oasis_ofo_add(s, &o, 50, 120);
    EXPECT(&o, 50, 250);
    oasis_ofo_add(s, &o, 120, 130); /* inside */
    EXPECT(&o, 50, 250);
    oasis_ofo_add(s, &o, 50, 250); /* identical */
    EXPECT(&o, 50, 250);
    oasis_ofo_add(s, &o, 400, 500);
    oasis_ofo_add(s, &o, 600, 700);
    oasis_ofo_add(s, &o, 800, 900);
    EXPECT(&o, 50, 250, 400, 500, 600, 700, 800, 900);
    oasis_ofo_add(s, &o, 450, 850); /* spans three */
    EXPECT(&o, 50, 250, 400, 900);
    oasis_ofo_add(s, &o, 0, 1000); /* swallows all */
    EXPECT(&o, 0, 1000);
    oasis_ofo_fini(s, &o);
}

static void test_adjacent_merge_and_holes(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    oasis_ofo o;
    oasis_ofo_init(&o, 16);
    oasis_ofo_add(s, &o, 100, 200);
    oasis_ofo_add(s, &o, 200, 300); /* abuts on the right */
    EXPECT(&o, 100, 300);
    oasis_ofo_add(s, &o, 50, 100); /* abuts on the left */
    EXPECT(&o, 50, 300);
    oasis_ofo_add(s, &o, 400, 500);
    oasis_ofo_add(s, &o, 600, 700);
    oasis_ofo_add(s, &o, 301, 399); /* leaves two one-byte holes */
    EXPECT(&o, 50, 300, 301, 399, 400, 500, 600, 700);
    oasis_ofo_add(s, &o, 300, 301);
    EXPECT(&o, 50, 399, 400, 500, 600, 700);
    oasis_ofo_add(s, &o, 399, 400);
    EXPECT(&o, 50, 500, 600, 700);
    oasis_ofo_add(s, &o, 500, 600); /* exactly the hole */
    EXPECT(&o, 50, 700);
    oasis_ofo_fini(s, &o);
}

static void test_empty_and_invalid(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    oasis_ofo o;
    oasis_ofo_init(&o, 4);
    assert_int_equal(oasis_ofo_add(s, &o, 100, 100), 0);
    assert_true(oasis_ofo_empty(&o));
    assert_int_equal(oasis_ofo_add(s, &o, 200, 100), OASIS_EINVAL);
    assert_true(oasis_ofo_empty(&o));
    oasis_sack_block b[4];
    assert_int_equal(oasis_ofo_sack(&o, b, 4), 0);
    assert_int_equal(oasis_ofo_advance(&o, 77), 77);
    /* clear forgets ranges and SACK history, keeps the storage. */
    oasis_ofo_add(s, &o, 10, 20);
    oasis_ofo_add(s, &o, 30, 40);
    oasis_ofo_clear(&o);
    assert_true(oasis_ofo_empty(&o));
    assert_int_equal(oasis_ofo_sack(&o, b, 4), 0);
    assert_non_null(o.r);
    oasis_ofo_add(s, &o, 50, 60);
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
    assert_int_equal(oasis_ofo_add(s, &o, 100, 200), 0);
    assert_int_equal(oasis_ofo_add(s, &o, 300, 400), 0);
    assert_int_equal(oasis_ofo_add(s, &o, 500, 600), 0);
    assert_int_equal(oasis_ofo_add(s, &o, 700, 800), OASIS_EAGAIN);
    assert_int_equal(oasis_ofo_add(s, &o, 0, 50), OASIS_EAGAIN);
    EXPECT(&o, 100, 200, 300, 400, 500, 600);
    assert_true(o.cap <= 3);
    /* Merging needs no new slot. */
    assert_int_equal(oasis_ofo_add(s, &o, 600, 650), 0);
    assert_int_equal(oasis_ofo_add(s, &o, 200, 300), 0);
    EXPECT(&o, 100, 400, 500, 650);
    assert_int_equal(oasis_ofo_add(s, &o, 700, 800), 0);
    assert_int_equal(oasis_ofo_add(s, &o, 900, 950), OASIS_EAGAIN);
    /* Advancing frees slots. */
    assert_int_equal(oasis_ofo_advance(&o, 100), 400);
    assert_int_equal(oasis_ofo_add(s, &o, 900, 950), 0);
    EXPECT(&o, 500, 650, 700, 800, 900, 950);
    oasis_ofo_fini(s, &o);

    /* A bound of 0 keeps nothing. */
    oasis_ofo_init(&o, 0);
    assert_int_equal(oasis_ofo_add(s, &o, 1, 2), OASIS_EAGAIN);
    oasis_ofo_fini(s, &o);
}

static void test_alloc_failure(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    oasis_ofo o;
    oasis_ofo_init(&o, 100);
    f->fail = 1;
    assert_int_equal(oasis_ofo_add(s, &o, 1, 2), OASIS_ENOMEM);
    assert_true(oasis_ofo_empty(&o));
    f->fail = 0;
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(oasis_ofo_add(s, &o, 10 * i, 10 * i + 5), 0);
    f->fail = 1; /* growing past the first 4 fails, the list is intact */
    assert_int_equal(oasis_ofo_add(s, &o, 100, 105), OASIS_ENOMEM);
    assert_int_equal(oasis_ofo_add(s, &o, 5, 10), 0); /* a merge still works */
    EXPECT(&o, 0, 15, 20, 25, 30, 35);
    f->fail = 0;
    oasis_ofo_fini(s, &o);
}

static void test_advance(void **state)
{
    fixture *f = *state;
    oasis_stack *s = &f->stack;
    oasis_ofo o;
    oasis_ofo_init(&o, 16);
    oasis_ofo_add(s, &o, 100, 200);
    oasis_ofo_add(s, &o, 300, 400);
    oasis_ofo_add(s, &o, 500, 600);
    /* rcv_nxt below the first range: nothing changes. */
    assert_int_equal(oasis_ofo_advance(&o, 50), 50);
    assert_int_equal(oasis_ofo_advance(&o, 99), 99);
    assert_int_equal(o.n, 3);
    /* Reaching the left edge pulls the range in. */
    assert_int_equal(oasis_ofo_advance(&o, 100), 200);
    EXPECT(&o, 300, 400, 500, 600);
    /* Inside a range. */
    assert_int_equal(oasis_ofo_advance(&o, 350), 400);
    EXPECT(&o, 500, 600);
    /* Exactly the right edge: dropped, nxt unchanged. */
    oasis_ofo_add(s, &o, 700, 800);
    assert_int_equal(oasis_ofo_advance(&o, 600), 600);
    EXPECT(&o, 700, 800);
    /* Past several ranges, landing inside the next. */
    oasis_ofo_add(s, &o, 900, 1000);
    oasis_ofo_add(s, &o, 1100, 1200);
    assert_int_equal(oasis_ofo_advance(&o, 1150), 1200);
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
    oasis_ofo_add(s, &o, 100, 200); /* A */
    oasis_ofo_add(s, &o, 300, 400); /* B */
    oasis_ofo_add(s, &o, 500, 600); /* C */
    assert_int_equal(oasis_ofo_sack(&o, b, 4), 3);
    assert_int_equal(b[0].left, 500);
    assert_int_equal(b[1].left, 300);
    assert_int_equal(b[2].left, 100);
    assert_int_equal(o.last, 500);

    /* A segment inside A: A is the most recent. */
    oasis_ofo_add(s, &o, 150, 180);
    assert_int_equal(oasis_ofo_sack(&o, b, 4), 3);
    assert_int_equal(b[0].left, 100);
    assert_int_equal(b[0].right, 200);
    assert_int_equal(b[1].left, 500);
    assert_int_equal(b[2].left, 300);

    /* Extending B reports the merged block first. */
    oasis_ofo_add(s, &o, 400, 450);
    assert_int_equal(oasis_ofo_sack(&o, b, 2), 2);
    assert_int_equal(b[0].left, 300);
    assert_int_equal(b[0].right, 450);
    assert_int_equal(b[1].left, 100);

    /* Merging B and C: one block for both, first. */
    oasis_ofo_add(s, &o, 450, 500);
    assert_int_equal(oasis_ofo_sack(&o, b, 4), 2);
    assert_int_equal(b[0].left, 300);
    assert_int_equal(b[0].right, 600);
    assert_int_equal(b[1].left, 100);

    /* Six ranges: the four most recent first, then sequence order. */
    oasis_ofo_add(s, &o, 700, 710);
    oasis_ofo_add(s, &o, 720, 730);
    oasis_ofo_add(s, &o, 740, 750);
    oasis_ofo_add(s, &o, 760, 770);
    assert_int_equal(oasis_ofo_sack(&o, b, 4), 4);
    assert_int_equal(b[0].left, 760);
    assert_int_equal(b[1].left, 740);
    assert_int_equal(b[2].left, 720);
    assert_int_equal(b[3].left, 700);

    /* After advance the recent ranges that are gone are skipped. */
    assert_int_equal(oasis_ofo_advance(&o, 730), 730);
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
    oasis_ofo_add(s, &o, 0x10, 0x20);
    oasis_ofo_add(s, &o, 0xffffff00u, 0xffffff80u);
    oasis_ofo_add(s, &o, 0xfffffff0u, 0xfffffff8u);
    EXPECT(&o, 0xffffff00u, 0xffffff80u, 0xfffffff0u, 0xfffffff8u, 0x10, 0x20);
    /* A range that itself wraps fills both holes. */
    oasis_ofo_add(s, &o, 0xffffff80u, 0x10);
    EXPECT(&o, 0xffffff00u, 0x20);
    assert_int_equal(oasis_ofo_sack(&o, b, 4), 1);
    assert_int_equal(b[0].left, 0xffffff00u);
    assert_int_equal(b[0].right, 0x20);
    /* Advance across the wrap. */
    oasis_ofo_add(s, &o, 0x40, 0x50);
    assert_int_equal(oasis_ofo_advance(&o, 0xfffffe00u), 0xfffffe00u);
    assert_int_equal(oasis_ofo_advance(&o, 0xffffff00u), 0x20);
    EXPECT(&o, 0x40, 0x50);
    assert_int_equal(oasis_ofo_advance(&o, 0x45), 0x50);
    assert_true(oasis_ofo_empty(&o));
    /* A range ending exactly at 2^32. */
    oasis_ofo_add(s, &o, 0xfffffff0u, 0);
    oasis_ofo_add(s, &o, 0, 0x10);
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
            assert_int_equal(oasis_ofo_add(s, &o, base + a, base + a + len), 0);
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
        assert_int_equal(oasis_ofo_advance(&o, base), base + first_end);
        oasis_ofo_fini(s, &o);
    }
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
