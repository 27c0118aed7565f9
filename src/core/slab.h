/* A slab: objects of one size carved from pages that come from the
 * stack's allocator (so a counting allocator sees the pages, and fault
 * injection can fail them). Used for TCP flow cores (and TIME_WAIT
 * entries, which a connect/close loop churns by the hundred): a million as
 * separate allocations cost a chunk header each (malloc: 8-16 B, a
 * counting allocator's header on top) and leave holes between the
 * short-lived allocations of the handshake; packed in pages they cost
 * their size plus ~0.3 %.
 *
 * A page's objects are handed out from its free list, then from the part
 * never used yet (so a fresh page is not touched all at once). A free
 * finds its page by address in the sorted page table (binary search). A
 * page whose objects are all back goes back to the allocator, except one
 * kept as a spare so that a flow opening and closing over and over does
 * not allocate and free a page each time (oasis_slab_trim lets it go).
 * Each page keeps a bitmap of the objects handed out, so the live objects
 * can be walked (oasis_slab_next): the slab is the TCP layer's list of
 * every flow, with no links in the flows themselves.
 * One owner (the stack's layer), single-threaded, no global state. */
#ifndef OASIS_CORE_SLAB_H
#define OASIS_CORE_SLAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct oasis_stack oasis_stack;
typedef struct oasis_slab_page oasis_slab_page;

typedef struct oasis_slab {
    uint32_t size;            /* object size, a multiple of 8 */
    uint32_t per_page;        /* objects in a full-size page */
    uint32_t hdr;             /* page header bytes (its bitmap of live objects included) */
    oasis_slab_page *avail;   /* pages with an object to give, doubly linked */
    oasis_slab_page *spare;   /* an empty page kept for the next allocation */
    oasis_slab_page **pages;  /* every page but the spare, sorted by address */
    uint32_t npages, cap;
    size_t live;              /* objects handed out */
    size_t bytes;             /* held in pages, the spare's included */
} oasis_slab;

/* Bytes of a full-size slab page (one allocation of the stack's
 * allocator); the first pages are smaller (half of what is in use, at
 * least OASIS_SLAB_MIN_OBJS objects). */
#define OASIS_SLAB_PAGE 16384u
#define OASIS_SLAB_MIN_OBJS 4u

void oasis_slab_init(oasis_slab *sl, size_t size);
/* A zeroed object, or NULL when the allocator fails. */
void *oasis_slab_alloc(oasis_stack *s, oasis_slab *sl);
/* p came from oasis_slab_alloc on sl; NULL is a no-op. */
void oasis_slab_free(oasis_stack *s, oasis_slab *sl, void *p);
/* The live object after p in address order (p NULL: the first), or NULL
 * at the end. p need not be live any more (freed meanwhile, its page
 * gone): only its address is used. So objects may be freed during a walk;
 * one allocated during it may or may not be visited. */
void *oasis_slab_next(const oasis_slab *sl, const void *p);
/* The spare page goes back to the allocator. */
void oasis_slab_trim(oasis_stack *s, oasis_slab *sl);
/* Every page goes, with whatever objects are still in them. */
void oasis_slab_fini(oasis_stack *s, oasis_slab *sl);

#endif
