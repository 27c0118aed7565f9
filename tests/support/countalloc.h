/* A byte-counting allocator for tests that bound a stack's memory: pass
 * test_count_alloc as oasis_stack_config.alloc with a test_counting as its
 * user data; `live` is the bytes allocated now, `peak` the most ever. */
#ifndef OASIS_TEST_COUNTALLOC_H
#define OASIS_TEST_COUNTALLOC_H

#include <stddef.h>

typedef struct test_counting {
    size_t live, peak;
    /* live as a malloc pays for it: each block rounded up to a glibc chunk
     * (its size plus an 8-byte header, a multiple of 16, at least 32), so
     * that many small allocations show what they really cost. */
    size_t chunked;
} test_counting;

void *test_count_alloc(void *ud, void *ptr, size_t size);

#endif
