/* The byte ring behind send and receive buffers. */
#include "tcp/tcp_buf.h"
#include "core/compiler.h"

#include <string.h>

#include "core/checksum.h"
#include "core/mem.h"
#include "oasis/error.h"
#include "tcp/tcp_tune.h"

/* Storage index of offset off (off <= len <= size) from head: below twice
 * the size, one subtraction wraps it. 64-bit so a capacity above 2 GiB
 * cannot overflow. */
static uint32_t ring_pos(const oasis_ring *r, uint64_t off)
{
    uint64_t pos = (uint64_t)r->head + off;
    return (uint32_t)(pos < r->size ? pos : pos - r->size);
}

/* Frees storage kept for a reader (oasis_ring_lend). */
void oasis_ring_free_kept(oasis_stack *s, oasis_ring *r)
{
    if (!r->kept)
        return;
    oasis_tcp_mem_charge(s, -(int64_t)r->kept_size);
    oasis_free(s, r->kept);
    r->kept = NULL;
    r->kept_size = 0;
}

static void ring_release(oasis_stack *s, oasis_ring *r)
{
    oasis_ring_free_kept(s, r);
    if (r->mem)
        oasis_tcp_mem_charge(s, -(int64_t)r->size); /* the budget (tcp_tune.h) */
    oasis_free(s, r->mem);
    r->mem = NULL;
    r->size = 0;
    r->head = 0;
    r->len = 0;
    r->peak = 0;
    r->pin = NULL;
    r->pin_room = 0;
}

/* The ring drained: big storage goes back (an idle flow must stay cheap),
 * small storage stays for the next message. */
static void ring_drained(oasis_stack *s, oasis_ring *r)
{
    if (r->size > OASIS_RING_KEEP) {
        uint32_t peak = r->peak;
        ring_release(s, r);
        r->hint = peak;
        return;
    }
    r->head = 0;
    r->len = 0;
}

/* Storage size for `need` bytes: a power of two from OASIS_RING_SMALL,
 * at least double the current size, at most cap. */
static uint32_t grown_size(const oasis_ring *r, uint64_t need)
{
    uint64_t n = r->size ? (uint64_t)r->size * 2 : OASIS_RING_SMALL;
    while (n < need)
        n *= 2;
    return n < r->cap ? (uint32_t)n : r->cap;
}

/* Makes storage hold at least `need` bytes from head (need <= cap). Grown
 * storage is unwrapped: the stored bytes start at index 0. */
static int ring_reserve(oasis_stack *s, oasis_ring *r, uint64_t need)
{
    if (need > r->peak)
        r->peak = (uint32_t)need;
    if (need <= r->size)
        return 0;
    if (!r->mem && need < r->hint)
        need = r->hint < r->cap ? r->hint : r->cap;
    uint32_t size = grown_size(r, need);
    uint64_t used = r->len; /* bytes to keep, from head */
    if (r->head + used <= r->size && !r->lent) {
        /* Not wrapped: realloc keeps every byte at its index. */
        uint8_t *m = oasis_realloc(s, r->mem, size);
        if (!m)
            return OASIS_ENOMEM;
        oasis_tcp_mem_charge(s, (int64_t)size - (int64_t)(r->mem ? r->size : 0));
        r->mem = m;
        r->size = size;
        return 0;
    }
    uint8_t *m = oasis_malloc(s, size);
    if (!m)
        return OASIS_ENOMEM;
    uint32_t first = r->size - r->head < used ? r->size - r->head : (uint32_t)used;
    memcpy(m, r->mem + r->head, first);
    memcpy(m + first, r->mem, (size_t)(used - first));
    oasis_tcp_mem_charge(s, (int64_t)size - (int64_t)r->size);
    if (r->lent && !r->kept) {
        /* A reader holds bytes of this block (a read callback that
         * polled): it goes at unlend, still charged until then. Later
         * blocks were never lent out. */
        oasis_tcp_mem_charge(s, (int64_t)r->size);
        r->kept = r->mem;
        r->kept_size = r->size;
    } else {
        oasis_free(s, r->mem);
    }
    r->mem = m;
    r->size = size;
    r->head = 0;
    return 0;
}

/* Copies n bytes in at storage index pos, wrapping once. */
static void copy_in(oasis_ring *r, uint32_t pos, const uint8_t *src, uint32_t n)
{
    uint32_t first = r->size - pos < n ? r->size - pos : n;
    memcpy(r->mem + pos, src, first);
    if (n > first) /* wrapped */
        memcpy(r->mem, src + first, n - first);
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

void oasis_ring_clear(oasis_stack *s, oasis_ring *r)
{
    if (r->size > OASIS_RING_SMALL || r->pin) {
        ring_release(s, r);
        return;
    }
    r->head = 0;
    r->len = 0;
    r->peak = 0;
}

int oasis_ring_set_cap(oasis_stack *s, oasis_ring *r, uint32_t cap)
{
    if (r->len || r->pin)
        return OASIS_EINVAL;
    ring_release(s, r);
    r->cap = cap;
    return 0;
}

uint32_t oasis_ring_fit(const oasis_ring *r, uint64_t extra)
{
    uint32_t free = oasis_ring_free(r);
    uint64_t have = r->mem ? r->size : 0;
    uint64_t fit = have > r->len ? have - r->len : 0;
    /* The sizes ring_reserve would pick, smallest first: doubling the
     * storage, or for none the hint's power of two. */
    uint64_t sz = have * 2;
    if (!r->mem)
        for (sz = OASIS_RING_SMALL; sz < r->hint; sz *= 2)
            ;
    while (fit < free) {
        uint64_t to = sz < r->cap ? sz : r->cap;
        if (to <= have || to - have > extra)
            break;
        fit = to - r->len;
        sz *= 2;
    }
    return fit < free ? (uint32_t)fit : free;
}

uint32_t oasis_ring_write_slow(oasis_stack *s, oasis_ring *r, const void *data, uint32_t n)
{
    uint32_t room = oasis_ring_free(r);
    if (n > room)
        n = room;
    if (r->pin) {
        if (data != r->pin)
            return 0;
        /* The link read these bytes into place already. */
        if (n > r->pin_room)
            n = r->pin_room;
        r->pin = NULL;
        r->len += n;
        if (r->len > r->peak)
            r->peak = r->len;
        return n;
    }
    if (n == 0 || ring_reserve(s, r, (uint64_t)r->len + n))
        return 0;
    copy_in(r, ring_pos(r, r->len), data, n);
    r->len += n;
    return n;
}

uint32_t oasis_ring_pin(oasis_stack *s, oasis_ring *r, uint32_t want, uint8_t **p)
{
    *p = NULL;
    if (r->pin || want > oasis_ring_free(r))
        want = r->pin ? 0 : oasis_ring_free(r);
    if (want == 0)
        return 0;
    if (r->len == 0)
        r->head = 0; /* empty: the whole storage is one run */
    uint32_t peak = r->peak;
    int err = ring_reserve(s, r, (uint64_t)r->len + want);
    r->peak = peak; /* room asked for is not bytes held */
    if (err)
        return 0;
    /* From the end of the stored bytes to the end of storage, or to head
     * when they wrap (or fill it: no room). */
    uint32_t pos = ring_pos(r, r->len);
    uint32_t run = pos >= r->head && r->len < r->size ? r->size - pos : r->head - pos;
    if (run > want)
        run = want;
    if (run == 0)
        return 0;
    r->pin = r->mem + pos;
    r->pin_room = run;
    *p = r->pin;
    return run;
}

void oasis_ring_unpin(oasis_stack *s, oasis_ring *r)
{
    if (!r->pin)
        return;
    r->pin = NULL;
    r->pin_room = 0;
    if (r->len == 0)
        ring_drained(s, r);
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

/* A partial sum of bytes that sit at an odd offset in the whole: folded to
 * 16 bits and byte-swapped, it moves each byte to its lane (RFC 1071 2(B)). */
static uint64_t sum_swapped(uint64_t x)
{
    while (x >> 16)
        x = (x & 0xffff) + (x >> 16);
    return ((x & 0xff) << 8) | (x >> 8);
}

/* peek_csum of a range across the wrap: two runs, each summed apart. Out
 * of line: its loop's registers, saved and restored, cost the one-run
 * common case more than the copy of a small payload. */
static OASIS_NOINLINE uint64_t peek_csum_runs(const oasis_ring *r, uint32_t off, uint8_t *d, uint32_t n)
{
    const uint8_t *p;
    uint32_t got, done = 0;
    uint64_t sum = 0;
    while (n && (got = oasis_ring_span(r, off, &p)) != 0) {
        if (got > n)
            got = n;
        uint64_t part = oasis_csum_copy(d + done, p, got, 0);
        sum += (done & 1) ? sum_swapped(part) : part;
        sum = (sum & 0xffffffffu) + (sum >> 32);
        done += got;
        off += got;
        n -= got;
    }
    return sum;
}

OASIS_HOT OASIS_NOINLINE uint64_t oasis_ring_peek_csum_any(const oasis_ring *r, uint32_t off, void *dst,
                                                       uint32_t n)
{
    const uint8_t *p;
    if (oasis_ring_span(r, off, &p) >= n) /* one run (not across the wrap) */
        return oasis_csum_copy(dst, p, n, 0);
    return peek_csum_runs(r, off, dst, n);
}

/* The whole of it (oasis_ring_consume's slow path). */
void oasis_ring_consume_all(oasis_stack *s, oasis_ring *r)
{
    if (!r->pin) {
        ring_drained(s, r); /* the head goes back to the start */
        return;
    }
    /* pinned: unpin drains it (the room must stay) */
    r->head = ring_pos(r, r->len);
    r->len = 0;
}
