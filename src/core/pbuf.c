#include "core/pbuf.h"
#include "core/mem.h"
#include "core/stack_impl.h"

#include <stdint.h>

/* Under AddressSanitizer a cached pbuf is poisoned, so a use after free is
 * still caught although the memory is not returned to the allocator. */
#if defined(__SANITIZE_ADDRESS__)
#define PBUF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PBUF_ASAN 1
#endif
#endif
#ifdef PBUF_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Two size classes are recycled: small (ACKs, control segments) and one
 * that holds a full frame at the stack's MTU. Steady traffic then reuses
 * the same few buffers instead of calling malloc and free per segment.
 * The cache is bounded in count and bytes, so an idle stack keeps little. */
#define PBUF_SMALL_CAP 256u
#define PBUF_CACHE_MAX 64u
#define PBUF_CACHE_BYTES (256u * 1024u)

static size_t big_cap(const oasis_stack *s) { return (size_t)s->mtu + OASIS_PBUF_HEADROOM; }

/* The class list for a buffer of cap bytes, and the class's size; NULL when
 * it is in none. */
static oasis_pbuf **class_of(oasis_stack *s, size_t cap, size_t *class_cap, uint32_t **n)
{
    if (cap <= PBUF_SMALL_CAP) {
        *class_cap = PBUF_SMALL_CAP;
        *n = &s->pbufs.nsmall;
        return &s->pbufs.small;
    }
    if (cap <= big_cap(s)) {
        *class_cap = big_cap(s);
        *n = &s->pbufs.nbig;
        return &s->pbufs.big;
    }
    return NULL;
}

oasis_pbuf *oasis_pbuf_alloc(oasis_stack *s, size_t headroom, size_t len)
{
    if (headroom > SIZE_MAX / 2 || len > SIZE_MAX / 2)
        return NULL;
    size_t cap = headroom + len, ccap = cap;
    uint32_t *n = NULL;
    oasis_pbuf **list = class_of(s, cap, &ccap, &n);
    oasis_pbuf *p = list ? *list : NULL;
    if (p) {
        UNPOISON(p, sizeof *p + ccap);
        *list = p->next;
        (*n)--;
    } else {
        p = oasis_malloc(s, sizeof *p + ccap);
        if (!p)
            return NULL;
        p->cap = ccap;
    }
    p->next = NULL;
    p->data = p->mem + headroom;
    p->len = len;
    p->meta = 0;
    p->meta2 = 0;
    p->gso_size = 0;
    p->gso_segs = 0;
    p->csum_partial = 0;
    p->mc_loop = 0;
    return p;
}

void oasis_pbuf_free(oasis_stack *s, oasis_pbuf *p)
{
    if (!p)
        return;
    size_t ccap = 0;
    uint32_t *n = NULL;
    oasis_pbuf **list = class_of(s, p->cap, &ccap, &n);
    /* Only exact class sizes go back (the MTU, hence the class, may have
     * changed since the buffer was made). */
    if (s->pbufs.on && list && p->cap == ccap && *n < PBUF_CACHE_MAX &&
        (*n + 1) * (sizeof *p + ccap) <= PBUF_CACHE_BYTES) {
        p->next = *list;
        *list = p;
        (*n)++;
        POISON(p, sizeof *p + ccap);
        return;
    }
    oasis_free(s, p);
}

static void drain(oasis_stack *s, oasis_pbuf **list, uint32_t *n)
{
    while (*list) {
        oasis_pbuf *p = *list;
        UNPOISON(p, sizeof *p);
        UNPOISON(p, sizeof *p + p->cap);
        *list = p->next;
        oasis_free(s, p);
    }
    *n = 0;
}

void oasis_pbuf_cache_drain(oasis_stack *s)
{
    drain(s, &s->pbufs.small, &s->pbufs.nsmall);
    drain(s, &s->pbufs.big, &s->pbufs.nbig);
}
