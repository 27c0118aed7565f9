/* The per-stack pbuf cache: freed pbufs of the two size classes are reused,
 * the cache is bounded, other sizes are not kept, and destroying the stack
 * returns everything to the allocator. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/pbuf.h"
#include "core/stack_impl.h"
#include "oasis/oasis.h"

typedef struct counter {
    long live, allocs;
} counter;

static void *count_alloc(void *ud, void *p, size_t n)
{
    counter *c = ud;
    if (n == 0) {
        if (p)
            c->live--;
        free(p);
        return NULL;
    }
    void *q = realloc(p, n);
    if (q && !p) {
        c->live++;
        c->allocs++;
    }
    return q;
}

typedef struct fx {
    counter ctr;
    oasis_clock *clock;
    oasis_stack *s;
} fx;

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    x->clock = oasis_clock_new_virtual(0);
    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg);
    cfg.seed = 1; /* fixed: a test replays bit for bit */
    cfg.clock = x->clock;
    cfg.addr = OASIS_IPV4(10, 0, 0, 1);
    cfg.alloc = count_alloc;
    cfg.alloc_ud = &x->ctr;
    assert_int_equal(oasis_stack_create(&cfg, &x->s), 0);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fx *x = *state;
    oasis_stack_destroy(x->s);
    long live = x->ctr.live;
    oasis_clock_free(x->clock);
    free(x);
    return live == 0 ? 0 : -1; /* the cache is drained at destroy */
}

static void test_reuse(void **state)
{
    fx *x = *state;
    oasis_pbuf *a = oasis_pbuf_alloc(x->s, OASIS_PBUF_HEADROOM, 1460);
    assert_non_null(a);
    memset(a->data, 0x5a, a->len);
    oasis_pbuf_free(x->s, a);
    long allocs = x->ctr.allocs;
    /* Same class, different request: the cached buffer comes back, reset. */
    oasis_pbuf *b = oasis_pbuf_alloc(x->s, 54, 1000);
    assert_ptr_equal(a, b);
    assert_int_equal(x->ctr.allocs, allocs);
    assert_int_equal(oasis_pbuf_headroom(b), 54);
    assert_int_equal(b->len, 1000);
    assert_null(b->next);
    oasis_pbuf_free(x->s, b);
    /* Small buffers have their own class. */
    oasis_pbuf *c = oasis_pbuf_alloc(x->s, OASIS_PBUF_HEADROOM, 20);
    oasis_pbuf_free(x->s, c);
    oasis_pbuf *d = oasis_pbuf_alloc(x->s, OASIS_PBUF_HEADROOM, 40);
    assert_ptr_equal(c, d);
    oasis_pbuf_free(x->s, d);
    oasis_pbuf_free(x->s, NULL);
}

static void test_bounded(void **state)
{
    fx *x = *state;
    enum { N = 300 };
    oasis_pbuf *p[N];
    long base = x->ctr.live;
    for (int i = 0; i < N; i++)
        assert_non_null(p[i] = oasis_pbuf_alloc(x->s, OASIS_PBUF_HEADROOM, 1000));
    for (int i = 0; i < N; i++)
        oasis_pbuf_free(x->s, p[i]);
    assert_true(x->ctr.live - base <= 64);
    /* A buffer larger than a frame at the MTU is never kept. */
    long live = x->ctr.live;
    oasis_pbuf *big = oasis_pbuf_alloc(x->s, OASIS_PBUF_HEADROOM, 70000);
    assert_non_null(big);
    oasis_pbuf_free(x->s, big);
    assert_int_equal(x->ctr.live, live);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
