/* Byte ring for a flow's send or receive buffer. `cap` is the logical
 * capacity (the buffer size TCP advertises and limits writes by); the
 * storage behind it starts small on first use (OASIS_RING_SMALL, or the
 * first write rounded up to a power of two) and doubles as more bytes are
 * held, up to cap. When the ring drains, storage larger than
 * OASIS_RING_SMALL is freed; small storage is kept, so a chatty flow with
 * small messages does not allocate per message while an idle flow holds at
 * most OASIS_RING_SMALL per ring. Capacity may be changed while empty.
 *
 * Bytes are only appended at the end and taken from the front, and storage
 * grows only when more bytes are held than it has room for, so it stays
 * under twice the most bytes held since it was made. Out-of-order receive
 * data does not live here: tcp_ofo holds it (in its own storage) until it
 * is in order. Offsets are relative to the first stored byte (head). */
#ifndef OASIS_TCP_BUF_H
#define OASIS_TCP_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/checksum.h"
#include "core/compiler.h"

typedef struct oasis_stack oasis_stack;

#define OASIS_RING_SMALL 4096u
/* Drained storage up to this size is kept: freeing and re-allocating it per
 * segment (a jumbo segment is read as soon as it lands) made glibc trim and
 * re-fault its heap on every segment. */
#define OASIS_RING_KEEP (16u * 1024u)

typedef struct oasis_ring {
    uint8_t *mem;   /* NULL until needed */
    uint32_t cap;   /* capacity in bytes */
    uint32_t size;  /* bytes of storage at mem (<= cap; 0 when mem is NULL) */
    uint32_t head;  /* offset of the first byte */
    uint32_t len;   /* bytes stored */
    uint32_t peak;  /* most bytes held since storage was made */
    uint32_t hint;  /* peak when big storage was last freed: the next
                       allocation's size, so a bursty flow does not regrow
                       through every power of two after each drain */
    uint8_t *pin;   /* room a link reads a payload into (oasis_ring_pin) */
    uint32_t pin_room;
    uint8_t *kept;  /* storage grown out of while lent (oasis_ring_lend) */
    uint32_t kept_size;
    uint8_t lent;   /* the front bytes are lent in place to a reader */
} oasis_ring;

void oasis_ring_init(oasis_ring *r, uint32_t cap);
/* Frees the storage; the ring is empty afterwards (and reusable). */
void oasis_ring_fini(oasis_stack *s, oasis_ring *r);
/* Drops the bytes held; storage of OASIS_RING_SMALL or less is kept (for
 * the next flow that takes a cached extension), bigger storage is freed. */
void oasis_ring_clear(oasis_stack *s, oasis_ring *r);
/* The bytes at the front are lent in place (a read callback's borrowed
 * data) until oasis_ring_unlend. Meanwhile bytes may still be appended
 * (a poll from that callback delivers more), but storage that must grow
 * moves into a new block and the old one is kept until unlend, so the
 * lent bytes stay where the reader was told they are. */
static inline void oasis_ring_lend(oasis_ring *r) { r->lent = 1; }
void oasis_ring_free_kept(oasis_stack *s, oasis_ring *r);
static inline void oasis_ring_unlend(oasis_stack *s, oasis_ring *r)
{
    r->lent = 0;
    if (r->kept) /* rare: storage grew under the reader */
        oasis_ring_free_kept(s, r);
}
/* Changes capacity; only while empty (else OASIS_EINVAL). */
int oasis_ring_set_cap(oasis_stack *s, oasis_ring *r, uint32_t cap);

static inline uint32_t oasis_ring_free(const oasis_ring *r) { return r->cap - r->len; }

/* Bytes that may be appended now (at most the free capacity) with the
 * storage growing by no more than `extra` bytes (a memory budget). */
uint32_t oasis_ring_fit(const oasis_ring *r, uint64_t extra);

/* Appends up to n bytes; returns how many were taken (0 on allocation
 * failure or when full). */
uint32_t oasis_ring_write_slow(oasis_stack *s, oasis_ring *r, const void *data, uint32_t n);
/* memcpy, with fewer than 8 bytes (a request's or a response's few) moved
 * here: a call to memcpy costs more than these moves. */
static OASIS_ALWAYS_INLINE void oasis_ring_copy(uint8_t *d, const void *src, uint32_t n)
{
    const uint8_t *p = src;
    if (n >= 64) {
        oasis_copy_long(d, p, n);
    } else if (n >= 8) {
        memcpy(d, p, n);
    } else if (n >= 4) { /* two 4-byte moves, overlapping below 8 */
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n >= 2) {
        uint16_t a, b;
        memcpy(&a, p, 2);
        memcpy(&b, p + n - 2, 2);
        memcpy(d, &a, 2);
        memcpy(d + n - 2, &b, 2);
    } else if (n) {
        d[0] = p[0];
    }
}

/* Where n more bytes go when the storage takes them as it is: after the
 * stored ones, before its end (not wrapped, not pinned, no growth); NULL
 * when it does not. Bytes written there are not held until
 * oasis_ring_commit (free storage: the ring is unchanged meanwhile). */
static OASIS_ALWAYS_INLINE uint8_t *oasis_ring_tail(const oasis_ring *r, uint32_t n)
{
    uint64_t end = (uint64_t)r->head + r->len;
    return !r->pin && end + n <= r->size ? r->mem + end : NULL;
}

/* Holds the n bytes (at most the free capacity) written at
 * oasis_ring_tail(r, n). Returns n. */
static OASIS_ALWAYS_INLINE uint32_t oasis_ring_commit(oasis_ring *r, uint32_t n)
{
    r->len += n;
    if (r->len > r->peak)
        r->peak = r->len;
    return n;
}

/* oasis_ring_write of 1 to free-capacity bytes (0 < n <= oasis_ring_free,
 * which the caller found): the inline case asks only about the storage,
 * that the bytes fit after the stored ones, before its end (not wrapped,
 * not pinned, no growth). Bytes written at oasis_ring_tail already (a
 * received segment's text, copied there while summed: tcp_input.c) are
 * data itself: held where they are. */
static OASIS_ALWAYS_INLINE uint32_t oasis_ring_write_fit(oasis_stack *s, oasis_ring *r, const void *data,
                                                         uint32_t n)
{
    uint64_t end = (uint64_t)r->head + r->len;
    if (!r->pin && end + n <= r->size) {
        if (r->mem + end != data)
            oasis_ring_copy(r->mem + end, data, n);
        return oasis_ring_commit(r, n);
    }
    return oasis_ring_write_slow(s, r, data, n);
}

static OASIS_ALWAYS_INLINE uint32_t oasis_ring_write(oasis_stack *s, oasis_ring *r, const void *data,
                                                     uint32_t n)
{
    if (n && n <= r->cap - r->len)
        return oasis_ring_write_fit(s, r, data, n);
    return oasis_ring_write_slow(s, r, data, n);
}

/* Holds 1 to free-capacity bytes when the storage takes them as it is,
 * after the stored ones (no growth, no wrap), and returns where they go;
 * else NULL and nothing was held. The caller writes them there before
 * anything reads the ring (the send side's common case, which may copy
 * them into its frame in the same pass; the caller decides whether
 * storage may grow: the memory budget). */
static OASIS_ALWAYS_INLINE uint8_t *oasis_ring_claim(oasis_ring *r, size_t n)
{
    /* oasis_ring_write's common case; n - 1 < free: 1 to free bytes, in
     * one compare */
    uint64_t end = (uint64_t)r->head + r->len;
    if (n - 1 < (size_t)(r->cap - r->len) && !r->pin && end + n <= r->size) {
        oasis_ring_commit(r, (uint32_t)n);
        return r->mem + end;
    }
    return NULL;
}

/* oasis_ring_claim's bytes copied in: 1 when taken, else 0 and nothing
 * was. */
static OASIS_ALWAYS_INLINE int oasis_ring_write_in_place(oasis_ring *r, const void *data, size_t n)
{
    uint8_t *d = oasis_ring_claim(r, n);
    if (d)
        oasis_ring_copy(d, data, (uint32_t)n);
    return d != NULL;
}

/* Zero-copy receive (tcp_place.c): storage for up to `want` more bytes
 * (bounded by the free capacity) and the contiguous room at the end of the
 * stored bytes, where a link then reads a payload itself. Returns the room
 * (0: none, on allocation failure) and sets *p. While pinned the storage
 * neither moves nor is freed, and the only write taken is the pinned
 * bytes' own (data == *p, no copy); any other is refused (returns 0, as
 * when full), since it would land on them. That write or unpin ends it. */
uint32_t oasis_ring_pin(oasis_stack *s, oasis_ring *r, uint32_t want, uint8_t **p);
void oasis_ring_unpin(oasis_stack *s, oasis_ring *r);

/* Copies n bytes starting at offset off (off + n <= len) out to dst. A range
 * beyond len is clamped: only the stored bytes are copied. */
void oasis_ring_peek(const oasis_ring *r, uint32_t off, void *dst, uint32_t n);

/* Same as peek, and returns the running checksum (oasis_csum_add's) of the
 * bytes copied: a segment's payload is summed while it is copied out. */
uint64_t oasis_ring_peek_csum_any(const oasis_ring *r, uint32_t off, void *dst, uint32_t n);
static OASIS_ALWAYS_INLINE uint64_t oasis_ring_peek_csum(const oasis_ring *r, uint32_t off, void *dst,
                                                         uint32_t n)
{
    /* 1 to 7 bytes in one run (a request's or a response's few): moved
     * and summed here, without the calls. */
    if (n - 1 < 7 && (uint64_t)off + n <= r->len) {
        uint64_t pos = (uint64_t)r->head + off; /* below twice the size */
        if (OASIS_UNLIKELY(pos >= r->size))
            pos -= r->size;
        if (OASIS_LIKELY(pos + n <= r->size))
            return oasis_csum_copy_small(dst, r->mem + pos, n, 0);
    }
    return oasis_ring_peek_csum_any(r, off, dst, n);
}

/* The longest contiguous run starting at offset off: sets *p, returns its
 * length (0 and *p = NULL if off >= len). At most two calls cover any range:
 * the run ends at len or at the wrap. For zero-copy reads and
 * checksum-while-copy. The pointer is valid until the next write/consume. */
static inline uint32_t oasis_ring_span(const oasis_ring *r, uint32_t off, const uint8_t **p)
{
    if (off >= r->len) {
        *p = NULL;
        return 0;
    }
    uint64_t pos = (uint64_t)r->head + off; /* below twice the size */
    if (pos >= r->size)
        pos -= r->size;
    uint32_t run = r->len - off;
    if (run > r->size - pos)
        run = r->size - (uint32_t)pos;
    *p = r->mem + pos;
    return run;
}

/* oasis_ring_span(r, 0, p) of a ring that holds bytes (len > 0). */
static inline uint32_t oasis_ring_front(const oasis_ring *r, const uint8_t **p)
{
    uint32_t run = r->size - r->head; /* head < size */
    *p = r->mem + r->head;
    return r->len < run ? r->len : run;
}

/* Drops n bytes from the front (clamped to len); frees storage larger than
 * OASIS_RING_KEEP when it becomes empty. */
void oasis_ring_consume_all(oasis_stack *s, oasis_ring *r);
static inline void oasis_ring_consume(oasis_stack *s, oasis_ring *r, uint32_t n)
{
    if (n < r->len) {
        uint64_t pos = (uint64_t)r->head + n;
        r->head = (uint32_t)(pos < r->size ? pos : pos - r->size);
        r->len -= n;
    } else if (r->len) {
        oasis_ring_consume_all(s, r);
    }
}

#endif
