#include "core/mem.h"
#include "core/stack_impl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef OASIS_ALLOC_FAIL
/* Allocation-failure injection, compiled into test builds only
 * (cmake -DOASIS_ALLOC_FAIL=ON; see docs/hardening.md).
 *
 *   OASIS_ALLOC_FAIL_N=n          allocation number n (1-based) fails; 0 or
 *                                 unset: none fails
 *   OASIS_ALLOC_FAIL_PERSIST=1    every allocation from n on fails
 *   OASIS_ALLOC_COUNT_FILE=path   at exit, the number of allocations made
 *                                 is written there (to learn the range of n)
 *
 * The counter is process-wide on purpose, and this is the one place where
 * Oasis has mutable global state: the test drivers run unmodified programs
 * (the cmocka suite) that create and destroy many stacks, registries and
 * buffers, and "the n-th allocation of the process" is the only numbering
 * that is stable across runs of such a program without changing its code.
 * It counts every allocation and resize that reaches the default allocator:
 * all of oasis_malloc/oasis_calloc/oasis_realloc for stacks that keep the
 * default, the stack handle itself, and metrics registries and line-protocol
 * buffers that use the default. Frees are never failed. Release builds do not
 * compile any of it. */
#include <stdatomic.h>
#include <stdio.h>

static atomic_ulong af_count;
static atomic_ulong af_hits;
static atomic_int af_ready;
static unsigned long af_fail_at;
static int af_persist;

/* Test-build entry point (declared by the test programs that use it):
 * how many allocations the hook has failed so far. */
unsigned long oasis_alloc_fail_hit(void);

unsigned long oasis_alloc_fail_hit(void) { return atomic_load(&af_hits); }

static void af_report(void)
{
    const char *path = getenv("OASIS_ALLOC_COUNT_FILE");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (f) {
        fprintf(f, "%lu\n", (unsigned long)atomic_load(&af_count));
        fclose(f);
    }
}

static void af_init(void)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&af_ready, &expected, 1))
        return;
    const char *n = getenv("OASIS_ALLOC_FAIL_N");
    const char *persist = getenv("OASIS_ALLOC_FAIL_PERSIST");
    af_fail_at = n ? strtoul(n, NULL, 10) : 0;
    af_persist = persist && *persist == '1';
    atexit(af_report);
}

static int af_should_fail(void)
{
    af_init();
    unsigned long n = atomic_fetch_add(&af_count, 1) + 1;
    if (af_fail_at == 0 || n < af_fail_at || (n > af_fail_at && !af_persist))
        return 0;
    atomic_fetch_add(&af_hits, 1);
    return 1;
}
#endif

void *oasis_default_alloc(void *ud, void *ptr, size_t size)
{
    (void)ud;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
#ifdef OASIS_ALLOC_FAIL
    if (af_should_fail())
        return NULL; /* like realloc: ptr stays valid */
#endif
    return realloc(ptr, size);
}

void *oasis_malloc(oasis_stack *s, size_t n)
{
    if (n == 0)
        n = 1;
    return s->alloc(s->alloc_ud, NULL, n);
}

void *oasis_calloc(oasis_stack *s, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = oasis_malloc(s, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *oasis_realloc(oasis_stack *s, void *p, size_t n)
{
    if (n == 0)
        n = 1;
    return s->alloc(s->alloc_ud, p, n);
}

void oasis_free(oasis_stack *s, void *p)
{
    if (p)
        s->alloc(s->alloc_ud, p, 0);
}
