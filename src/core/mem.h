/* All of Oasis's heap memory goes through the stack's allocator, so an
 * embedder can supply its own and tests can make the n-th allocation fail. */
#ifndef OASIS_CORE_MEM_H
#define OASIS_CORE_MEM_H

#include <stddef.h>

typedef struct oasis_stack oasis_stack;

void *oasis_malloc(oasis_stack *s, size_t n);
void *oasis_calloc(oasis_stack *s, size_t count, size_t size); /* zeroed; overflow-checked */
void *oasis_realloc(oasis_stack *s, void *p, size_t n);
void oasis_free(oasis_stack *s, void *p);

/* The libc allocator in oasis_alloc_fn form. */
void *oasis_default_alloc(void *ud, void *ptr, size_t size);

#endif
