/* The byte ring behind send and receive buffers. */
#include "tcp/tcp_buf.h"

#include <string.h>

#include "core/mem.h"
#include "oasis/error.h"

/* Storage index of offset off from head. 64-bit so a capacity above 2 GiB
 * cannot overflow. */
static uint32_t ring_pos(const oasis_ring *r, uint64_t off)
{
    return (uint32_t)(((uint64_t)r->head + off) % r->cap);
}

static int ring_alloc(oasis_stack *s, oasis_ring *r)
{
    if (r->mem)
        return 0;
    r->mem = oasis_malloc(s, r->cap);
    return r->mem ? 0 : OASIS_ENOMEM;
}

static void ring_release(oasis_stack *s, oasis_ring *r)
{
    oasis_free(s, r->mem);
    r->mem = NULL;
    r->head = 0;
    r->len = 0;
    r->ahead = 0;
}

/* Copies n bytes in at storage index pos, wrapping once. */
static void copy_in(oasis_ring *r, uint32_t pos, const uint8_t *src, uint32_t n)
{
    uint32_t first = r->cap - pos < n ? r->cap - pos : n;
    memcpy(r->mem + pos, src, first);
    memcpy(r->mem, src + first, n - first);
}

/* The end moved forward by n: bytes placed ahead are now n closer. */
static void end_moved(oasis_ring *r, uint32_t n)
{
    r->ahead = r->ahead > n ? r->ahead - n : 0;
}

void oasis_ring_init(oasis_ring *r, uint32_t cap)
{
    memset(r, 0, sizeof *r);
    r->cap = cap;
}

void oasis_ring_fini(oasis_stack *s, oasis_ring *r)
{
    ring_release(s, r);
}

int oasis_ring_set_cap(oasis_stack *s, oasis_ring *r, uint32_t cap)
{
    if (r->len || r->ahead)
        return OASIS_EINVAL;
    ring_release(s, r);
    r->cap = cap;
    return 0;
}

uint32_t oasis_ring_write(oasis_stack *s, oasis_ring *r, const void *data, uint32_t n)
{
    uint32_t room = oasis_ring_free(r);
    if (n > room)
        n = room;
    if (n == 0 || ring_alloc(s, r))
        return 0;
    copy_in(r, ring_pos(r, r->len), data, n);
    r->len += n;
    end_moved(r, n);
    return n;
}

int oasis_ring_write_at(oasis_stack *s, oasis_ring *r, uint32_t off, const void *data, uint32_t n)
{
    if ((uint64_t)off + n > oasis_ring_free(r))
        return OASIS_EINVAL;
    if (n == 0)
        return 0;
    if (ring_alloc(s, r))
        return OASIS_ENOMEM;
    copy_in(r, ring_pos(r, (uint64_t)r->len + off), data, n);
    if (off + n > r->ahead)
        r->ahead = off + n;
    return 0;
}

void oasis_ring_commit(oasis_ring *r, uint32_t n)
{
    if (n > r->ahead)
        n = r->ahead; /* never expose bytes that were not placed */
    r->len += n;
    end_moved(r, n);
}

void oasis_ring_drop_ahead(oasis_stack *s, oasis_ring *r)
{
    r->ahead = 0;
    if (r->len == 0)
        ring_release(s, r);
}

void oasis_ring_peek(const oasis_ring *r, uint32_t off, void *dst, uint32_t n)
{
    uint8_t *d = dst;
    const uint8_t *p;
    uint32_t got;
    while (n && (got = oasis_ring_span(r, off, &p)) != 0) {
        if (got > n)
            got = n;
        memcpy(d, p, got);
        d += got;
        off += got;
        n -= got;
    }
}

uint32_t oasis_ring_span(const oasis_ring *r, uint32_t off, const uint8_t **p)
{
    if (off >= r->len || !r->mem) {
        *p = NULL;
        return 0;
    }
    uint32_t pos = ring_pos(r, off);
    uint32_t run = r->len - off;
    if (run > r->cap - pos)
        run = r->cap - pos;
    *p = r->mem + pos;
    return run;
}

void oasis_ring_consume(oasis_stack *s, oasis_ring *r, uint32_t n)
{
    if (n > r->len)
        n = r->len;
    if (n == 0)
        return;
    r->head = ring_pos(r, n);
    r->len -= n;
    if (r->len == 0 && r->ahead == 0)
        ring_release(s, r);
}
