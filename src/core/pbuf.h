/* Packet buffers: one contiguous allocation with headroom in front, so each
 * layer on the way down prepends its header in place (no copies). A pbuf has
 * one owner at a time; output functions take ownership of the pbuf they are
 * given (they send, queue or free it). */
#ifndef OASIS_CORE_PBUF_H
#define OASIS_CORE_PBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct oasis_stack oasis_stack;

/* Room for Ethernet (14) + IPv4 with options (60) + TCP with options (60),
 * rounded up. */
#define OASIS_PBUF_HEADROOM 160

typedef struct oasis_pbuf {
    struct oasis_pbuf *next; /* for whoever queues it */
    uint8_t *data;           /* first byte of the packet */
    size_t len;              /* bytes from data */
    size_t cap;              /* bytes in mem */
    uint64_t meta;           /* queue owner's use (e.g. enqueue time) */
    uint32_t meta2;          /* queue owner's use (e.g. next hop) */
    /* A TCP super-segment or a partial checksum (set by TCP, read at the
     * link boundary, link/eth.c): payload bytes per piece (0: an ordinary
     * packet), the pieces (IP IDs reserved), the checksum left partial. */
    uint16_t gso_size, gso_segs;
    uint8_t csum_partial;
    /* Set by the transport (UDP): a datagram to an IPv4 group we are a
     * member of goes to our own members too (RFC 1112 6.1, ipv4.c). */
    uint8_t mc_loop;
    uint8_t mem[];
} oasis_pbuf;

/* Freed pbufs kept for reuse, per stack (see pbuf.c). */
typedef struct oasis_pbuf_cache {
    oasis_pbuf *small, *big;
    uint32_t nsmall, nbig;
    int on; /* set by oasis_stack_create, whose destroy drains the cache */
} oasis_pbuf_cache;

/* Frees the cached pbufs (stack teardown). */
void oasis_pbuf_cache_drain(oasis_stack *s);

/* A pbuf with `headroom` free bytes in front of `len` bytes of (uninitialised)
 * data; cap may be larger (buffers are recycled by size class). NULL on
 * allocation failure. oasis_pbuf_free(s, NULL) is a no-op. */
oasis_pbuf *oasis_pbuf_alloc(oasis_stack *s, size_t headroom, size_t len);
void oasis_pbuf_free(oasis_stack *s, oasis_pbuf *p);

static inline size_t oasis_pbuf_headroom(const oasis_pbuf *p) { return (size_t)(p->data - p->mem); }

/* Grows the packet at the front by n bytes (for a header); NULL if there is
 * not enough headroom. */
static inline uint8_t *oasis_pbuf_push(oasis_pbuf *p, size_t n)
{
    if (oasis_pbuf_headroom(p) < n)
        return NULL;
    p->data -= n;
    p->len += n;
    return p->data;
}

/* Removes n bytes from the front; NULL if the packet is shorter. */
static inline uint8_t *oasis_pbuf_pull(oasis_pbuf *p, size_t n)
{
    if (p->len < n)
        return NULL;
    p->data += n;
    p->len -= n;
    return p->data;
}

/* Shortens the packet to len bytes (no-op if already shorter). */
static inline void oasis_pbuf_trim(oasis_pbuf *p, size_t len)
{
    if (len < p->len)
        p->len = len;
}

#endif
