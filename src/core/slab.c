/* Slab of fixed-size objects (slab.h). */
#include "core/slab.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

struct oasis_slab_page {
    oasis_slab_page *next, *prev; /* sl->avail */
    void *free;                   /* objects given back, linked through their first word */
    uint32_t used;                /* objects handed out */
    uint32_t carved;              /* objects handed out at least once (from the front) */
    uint32_t cap;                 /* objects the page holds */
    uint64_t live[];              /* bit i: object i is handed out (oasis_slab_next) */
};

/* Objects start after the header and its bitmap, 8-byte aligned as the
 * page (an allocation) is: the stack's objects need no more (pointers,
 * uint64_t). Rounding to 16 would cost a 232-byte flow core 8 bytes. */
#define ALIGN 8u

/* Header bytes for a page of up to n objects (one bitmap word per 64). */
static size_t hdr_bytes(size_t n)
{
    size_t h = sizeof(oasis_slab_page) + (n + 63) / 64 * sizeof(uint64_t);
    return (h + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

void oasis_slab_init(oasis_slab *sl, size_t size)
{
    memset(sl, 0, sizeof *sl);
    if (size < sizeof(void *))
        size = sizeof(void *);
    sl->size = (uint32_t)((size + ALIGN - 1) & ~(size_t)(ALIGN - 1));
    size_t n = OASIS_SLAB_PAGE / sl->size;
    while (n && hdr_bytes(n) + n * sl->size > OASIS_SLAB_PAGE)
        n--;
    if (n < OASIS_SLAB_MIN_OBJS)
        abort(); /* objects this big do not belong in a slab */
    sl->per_page = (uint32_t)n;
    sl->hdr = (uint32_t)hdr_bytes(n); /* every page's, the small ones' too */
}

static size_t page_bytes(const oasis_slab *sl, uint32_t cap)
{
    return sl->hdr + (size_t)cap * sl->size;
}

static unsigned char *obj_at(const oasis_slab *sl, oasis_slab_page *pg, uint32_t i)
{
    return (unsigned char *)pg + sl->hdr + (size_t)i * sl->size;
}

/* A new page holds half of what is in use (4 objects at least, a full
 * page at most): a stack with a few flows does not pay for 16 KiB, and
 * the slack stays under a third of what is in use on the way up. */
static uint32_t next_cap(const oasis_slab *sl)
{
    size_t cap = sl->live / 2;
    if (cap < OASIS_SLAB_MIN_OBJS)
        cap = OASIS_SLAB_MIN_OBJS;
    return cap > sl->per_page ? sl->per_page : (uint32_t)cap;
}

static void page_release(oasis_stack *s, oasis_slab *sl, oasis_slab_page *pg)
{
    if (!pg)
        return;
    sl->bytes -= page_bytes(sl, pg->cap);
    oasis_free(s, pg);
}

static void avail_push(oasis_slab *sl, oasis_slab_page *pg)
{
    pg->prev = NULL;
    pg->next = sl->avail;
    if (sl->avail)
        sl->avail->prev = pg;
    sl->avail = pg;
}

static void avail_remove(oasis_slab *sl, oasis_slab_page *pg)
{
    if (pg->prev)
        pg->prev->next = pg->next;
    else
        sl->avail = pg->next;
    if (pg->next)
        pg->next->prev = pg->prev;
    pg->next = pg->prev = NULL;
}

/* Index of the first page at or above address a. */
static uint32_t lower_bound(const oasis_slab *sl, uintptr_t a)
{
    uint32_t lo = 0, hi = sl->npages;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if ((uintptr_t)sl->pages[mid] < a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Enters pg into the sorted table: 0, or -1 when the table cannot grow. */
static int page_insert(oasis_stack *s, oasis_slab *sl, oasis_slab_page *pg)
{
    if (sl->npages == sl->cap) {
        uint32_t cap = sl->cap ? sl->cap * 2 : 8;
        oasis_slab_page **np = oasis_realloc(s, sl->pages, cap * sizeof *np);
        if (!np)
            return -1;
        sl->pages = np;
        sl->cap = cap;
    }
    uint32_t i = lower_bound(sl, (uintptr_t)pg);
    memmove(&sl->pages[i + 1], &sl->pages[i], (sl->npages - i) * sizeof *sl->pages);
    sl->pages[i] = pg;
    sl->npages++;
    return 0;
}

void *oasis_slab_alloc(oasis_stack *s, oasis_slab *sl)
{
    oasis_slab_page *pg = sl->avail;
    if (!pg) {
        pg = sl->spare;
        sl->spare = NULL;
        uint32_t cap = pg ? pg->cap : next_cap(sl);
        if (!pg) {
            if (!(pg = oasis_malloc(s, page_bytes(sl, cap))))
                return NULL;
            sl->bytes += page_bytes(sl, cap);
        }
        memset(pg, 0, sl->hdr);
        pg->cap = cap;
        if (page_insert(s, sl, pg)) {
            sl->spare = pg; /* kept for the next try */
            return NULL;
        }
        avail_push(sl, pg);
    }
    unsigned char *obj = pg->free;
    if (obj)
        memcpy(&pg->free, obj, sizeof pg->free);
    else
        obj = obj_at(sl, pg, pg->carved++);
    size_t i = (size_t)(obj - obj_at(sl, pg, 0)) / sl->size;
    pg->live[i / 64] |= (uint64_t)1 << (i % 64);
    if (++pg->used == pg->cap)
        avail_remove(sl, pg);
    sl->live++;
    memset(obj, 0, sl->size);
    return obj;
}

void oasis_slab_free(oasis_stack *s, oasis_slab *sl, void *p)
{
    if (!p)
        return;
    uintptr_t a = (uintptr_t)p;
    /* The page holding p: the last one that starts at or below it. */
    uint32_t i = lower_bound(sl, a + 1);
    if (i == 0)
        abort(); /* not from this slab: a bug in the stack */
    oasis_slab_page *pg = sl->pages[--i];
    if (a >= (uintptr_t)pg + page_bytes(sl, pg->cap))
        abort();
    size_t k = (size_t)((unsigned char *)p - obj_at(sl, pg, 0)) / sl->size;
    pg->live[k / 64] &= ~((uint64_t)1 << (k % 64));
    if (pg->used == pg->cap)
        avail_push(sl, pg);
    memcpy(p, &pg->free, sizeof pg->free);
    pg->free = p;
    pg->used--;
    sl->live--;
    if (pg->used)
        return;
    /* Empty: out of the table; it becomes the spare (an older one goes). */
    avail_remove(sl, pg);
    memmove(&sl->pages[i], &sl->pages[i + 1], (sl->npages - i - 1) * sizeof *sl->pages);
    sl->npages--;
    page_release(s, sl, sl->spare);
    sl->spare = pg;
}

void *oasis_slab_next(const oasis_slab *sl, const void *p)
{
    uint32_t pi = 0, i = 0;
    if (p) {
        /* p's page if it still has one, else the first page above p: p
         * itself is never looked at (it may be gone). */
        uintptr_t a = (uintptr_t)p;
        pi = lower_bound(sl, a + 1);
        if (pi > 0) {
            oasis_slab_page *pg = sl->pages[pi - 1];
            uintptr_t first = (uintptr_t)obj_at(sl, pg, 0);
            if (a >= first && a < (uintptr_t)pg + page_bytes(sl, pg->cap)) {
                pi--;
                i = (uint32_t)((a - first) / sl->size) + 1;
            }
        }
    }
    for (; pi < sl->npages; pi++, i = 0) {
        oasis_slab_page *pg = sl->pages[pi];
        while (i < pg->carved) {
            uint64_t w = pg->live[i / 64] >> (i % 64);
            if (!w) {
                i = (i / 64 + 1) * 64; /* none left in this word */
                continue;
            }
            while (!(w & 1)) {
                w >>= 1;
                i++;
            }
            return obj_at(sl, pg, i);
        }
    }
    return NULL;
}

void oasis_slab_trim(oasis_stack *s, oasis_slab *sl)
{
    page_release(s, sl, sl->spare);
    sl->spare = NULL;
    if (sl->npages == 0) {
        oasis_free(s, sl->pages);
        sl->pages = NULL;
        sl->cap = 0;
    }
}

void oasis_slab_fini(oasis_stack *s, oasis_slab *sl)
{
    for (uint32_t i = 0; i < sl->npages; i++)
        page_release(s, sl, sl->pages[i]);
    sl->npages = 0;
    sl->avail = NULL;
    sl->live = 0;
    oasis_slab_trim(s, sl);
}
