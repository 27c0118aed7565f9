/* The slab (core/slab.c) that holds TCP flow cores: objects come zeroed
 * and distinct, freed ones are reused, a page goes back to the stack's
 * allocator once empty (one spare kept until trim), and a failing
 * allocator leaves the slab as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/slab.h"
#include "countalloc.h"
#include "oasis/oasis.h"

/* The counting allocator, failing while `fail` is set. */
typedef struct flaky {
    test_counting mem;
    int fail;
    unsigned long calls;
} flaky;

static void *flaky_alloc(void *ud, void *ptr, size_t size)
{
    flaky *fl = ud;
    if (size && fl->fail)
        return NULL;
    fl->calls++;
    return test_count_alloc(&fl->mem, ptr, size);
}

static oasis_stack *make_stack(flaky *fl)
{
    oasis_clock *clock = oasis_clock_new_virtual(0);
    assert_non_null(clock);
    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg);
    cfg.clock = clock;
    cfg.alloc = flaky_alloc;
    cfg.alloc_ud = fl;
    cfg.addr = OASIS_IPV4(10, 0, 0, 1);
    cfg.prefix_len = 24;
    oasis_stack *s = NULL;
    assert_int_equal(oasis_stack_create(&cfg, &s), 0);
    return s;
}

static void drop_stack(oasis_stack *s)
{
    oasis_clock *clock = oasis_stack_clock(s);
    oasis_stack_destroy(s);
    oasis_clock_free(clock);
}

enum { SIZE = 240, N = 500 };

static void test_alloc_free_pages(void **state)
{
    (void)state;
    flaky fl;
    memset(&fl, 0, sizeof fl);
    oasis_stack *s = make_stack(&fl);
    oasis_slab sl;
    oasis_slab_init(&sl, SIZE);
    assert_int_equal(sl.size, SIZE);
    size_t base = fl.mem.live;
    static unsigned char *obj[N];
    for (int i = 0; i < N; i++) {
        obj[i] = oasis_slab_alloc(s, &sl);
        assert_non_null(obj[i]);
        for (int k = 0; k < SIZE; k++)
            assert_int_equal(obj[i][k], 0);
        memset(obj[i], 0xa5, SIZE); /* distinct: no other object is touched */
    }
    assert_int_equal(sl.live, N);
    uint32_t pages = sl.npages;
    /* Pages and the page table: nothing per object; the pages grew with
     * the use (small first ones), the unused rest under a full page. */
    assert_int_equal(fl.mem.live - base, sl.bytes + sl.cap * sizeof(void *));
    assert_true(sl.bytes >= (size_t)N * SIZE);
    assert_true(sl.bytes - (size_t)N * SIZE <= OASIS_SLAB_PAGE);
    assert_true(pages > 1);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < SIZE; j++)
            assert_int_equal(obj[i][j], 0xa5);
    /* Every other object back, then taken again: no new page. */
    for (int i = 0; i < N; i += 2)
        oasis_slab_free(s, &sl, obj[i]);
    for (int i = 0; i < N; i += 2) {
        obj[i] = oasis_slab_alloc(s, &sl);
        assert_non_null(obj[i]);
        assert_int_equal(obj[i][SIZE - 1], 0); /* zeroed again */
    }
    assert_int_equal(sl.npages, pages);
    /* Everything back: the pages go, one stays as the spare. */
    for (int i = N - 1; i >= 0; i--)
        oasis_slab_free(s, &sl, obj[i]);
    assert_int_equal(sl.live, 0);
    assert_int_equal(sl.npages, 0);
    assert_non_null(sl.spare);
    assert_true(sl.bytes <= OASIS_SLAB_PAGE);
    assert_int_equal(fl.mem.live - base, sl.bytes + sl.cap * sizeof(void *));
    /* The spare serves the next object without the allocator. */
    unsigned long calls = fl.calls;
    void *p = oasis_slab_alloc(s, &sl);
    assert_non_null(p);
    assert_int_equal(fl.calls, calls);
    oasis_slab_free(s, &sl, p);
    oasis_slab_trim(s, &sl);
    assert_int_equal(fl.mem.live, base);
    oasis_slab_fini(s, &sl);
    drop_stack(s);
}

static void test_allocator_fails(void **state)
{
    (void)state;
    flaky fl;
    memset(&fl, 0, sizeof fl);
    oasis_stack *s = make_stack(&fl);
    oasis_slab sl;
    oasis_slab_init(&sl, SIZE);
    size_t base = fl.mem.live;
    fl.fail = 1; /* no page */
    assert_null(oasis_slab_alloc(s, &sl));
    assert_int_equal(sl.live, 0);
    assert_int_equal(fl.mem.live, base);
    fl.fail = 0;
    void *first[OASIS_SLAB_MIN_OBJS];
    for (uint32_t i = 0; i < OASIS_SLAB_MIN_OBJS; i++) /* a first page this small */
        assert_non_null(first[i] = oasis_slab_alloc(s, &sl));
    assert_int_equal(sl.npages, 1);
    assert_true(sl.bytes < 2 * OASIS_SLAB_MIN_OBJS * SIZE);
    fl.fail = 1; /* the first page is full: the next object needs one */
    assert_null(oasis_slab_alloc(s, &sl));
    assert_int_equal(sl.live, OASIS_SLAB_MIN_OBJS);
    fl.fail = 0;
    void *p = oasis_slab_alloc(s, &sl);
    assert_non_null(p);
    oasis_slab_free(s, &sl, p);
    for (uint32_t i = 0; i < OASIS_SLAB_MIN_OBJS; i++)
        oasis_slab_free(s, &sl, first[i]);
    oasis_slab_fini(s, &sl); /* spare and table go */
    assert_int_equal(fl.mem.live, base);
    drop_stack(s);
}

/* Objects still out when the slab ends go with their pages (a stack torn
 * down with flows the application never released). */
static void test_fini_with_objects(void **state)
{
    (void)state;
    flaky fl;
    memset(&fl, 0, sizeof fl);
    oasis_stack *s = make_stack(&fl);
    oasis_slab sl;
    oasis_slab_init(&sl, 100);
    assert_int_equal(sl.size, 104);
    size_t base = fl.mem.live;
    for (int i = 0; i < 1000; i++)
        assert_non_null(oasis_slab_alloc(s, &sl));
    oasis_slab_fini(s, &sl);
    assert_int_equal(fl.mem.live, base);
    drop_stack(s);
}

/* The walk over live objects (oasis_slab_next, how the TCP layer visits
 * every flow): each live object once, in address order, none of the freed
 * ones; a walk that frees the object it stands on (disconnect) goes on
 * from its address, even when its page went back to the allocator. */
static void test_walk(void **state)
{
    (void)state;
    flaky fl;
    memset(&fl, 0, sizeof fl);
    oasis_stack *s = make_stack(&fl);
    oasis_slab sl;
    oasis_slab_init(&sl, SIZE);
    assert_null(oasis_slab_next(&sl, NULL)); /* empty */
    static unsigned char *obj[N];
    static unsigned char live[N];
    for (int i = 0; i < N; i++) {
        obj[i] = oasis_slab_alloc(s, &sl);
        assert_non_null(obj[i]);
        live[i] = 1;
    }
    /* Free a pattern that leaves holes, whole words of a bitmap (more
     * than 64 in a row) and whole pages empty. */
    for (int i = 0; i < N; i++)
        if (i % 3 == 0 || (i >= 100 && i < 300)) {
            oasis_slab_free(s, &sl, obj[i]);
            live[i] = 0;
        }
    size_t want = 0;
    for (int i = 0; i < N; i++)
        want += live[i];
    assert_int_equal(sl.live, want);
    size_t seen = 0;
    uintptr_t last = 0;
    for (unsigned char *p = oasis_slab_next(&sl, NULL); p; p = oasis_slab_next(&sl, p)) {
        assert_true((uintptr_t)p > last); /* address order: each once */
        last = (uintptr_t)p;
        int k = -1;
        for (int i = 0; i < N; i++)
            if (obj[i] == p)
                k = i;
        assert_true(k >= 0);
        assert_int_equal(live[k], 1);
        seen++;
    }
    assert_int_equal(seen, want);
    /* Free everything while walking, each object as it is visited. */
    seen = 0;
    for (unsigned char *p = oasis_slab_next(&sl, NULL); p; p = oasis_slab_next(&sl, p)) {
        oasis_slab_free(s, &sl, p);
        seen++;
    }
    assert_int_equal(seen, want);
    assert_int_equal(sl.live, 0);
    assert_null(oasis_slab_next(&sl, NULL));
    oasis_slab_fini(s, &sl);
    drop_stack(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_free_pages),
        cmocka_unit_test(test_allocator_fails),
        cmocka_unit_test(test_fini_with_objects),
        cmocka_unit_test(test_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
