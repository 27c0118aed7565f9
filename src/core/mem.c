#include "core/mem.h"
#include "core/stack_impl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *oasis_default_alloc(void *ud, void *ptr, size_t size)
{
    (void)ud;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
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
