/* Out-of-order store: sorted array of ranges with their bytes, merged on
 * insert (first copy wins), bounded. */
#include "tcp/tcp_ofo.h"

#include <string.h>

#include "core/mem.h"
#include "oasis/error.h"
#include "tcp/tcp_seq.h"
#include "tcp/tcp_tune.h"

#define OFO_FIRST_CAP 4

void oasis_ofo_init(oasis_ofo *o, uint32_t max_ranges)
{
    memset(o, 0, sizeof *o);
    o->max = max_ranges;
}

/* Gives back one range: its bytes leave the count, its storage the
 * budget (tcp_tune.h) and the heap. The caller takes it out of r[]. */
static void range_release(oasis_stack *s, oasis_ofo *o, oasis_ofo_range *r)
{
    o->bytes -= r->right - r->left;
    oasis_tcp_mem_charge(s, -(int64_t)r->size);
    oasis_free(s, r->data);
}

static void free_data(oasis_stack *s, oasis_ofo *o)
{
    for (uint32_t i = 0; i < o->n; i++)
        range_release(s, o, &o->r[i]);
}

void oasis_ofo_fini(oasis_stack *s, oasis_ofo *o)
{
    free_data(s, o);
    oasis_free(s, o->r);
    uint32_t max = o->max;
    oasis_ofo_init(o, max);
}

void oasis_ofo_clear(oasis_stack *s, oasis_ofo *o)
{
    free_data(s, o);
    o->n = 0;
    o->bytes = 0;
    o->nrecent = 0;
}

/* Room for one more range, growing by doubling up to max. */
static int ofo_reserve(oasis_stack *s, oasis_ofo *o)
{
    if (o->n < o->cap)
        return 0;
    uint32_t cap = o->cap ? o->cap * 2 : OFO_FIRST_CAP;
    if (cap > o->max)
        cap = o->max;
    void *p = oasis_realloc(s, o->r, (size_t)cap * sizeof *o->r);
    if (!p)
        return OASIS_ENOMEM;
    o->r = p;
    o->cap = cap;
    return 0;
}

/* Puts left at the front of the recency list, dropping entries that now lie
 * in the same range [left, right) so that each range appears once. */
static void ofo_touch(oasis_ofo *o, uint32_t left, uint32_t right)
{
    uint32_t keep[OASIS_TCP_MAX_SACK];
    uint32_t k = 0;
    keep[k++] = left;
    for (uint32_t i = 0; i < o->nrecent && k < OASIS_TCP_MAX_SACK; i++)
        if (!oasis_seq_in(o->recent[i], left, right))
            keep[k++] = o->recent[i];
    memcpy(o->recent, keep, k * sizeof keep[0]);
    o->nrecent = k;
    o->last = left;
}

/* Copies the new bytes [from, to) of a segment that starts at `left` into
 * buf, which starts at sequence number base. */
static void copy_new(uint8_t *buf, uint32_t base, const uint8_t *data, uint32_t left, uint32_t from,
                     uint32_t to)
{
    if (oasis_seq_lt(from, to))
        memcpy(buf + (from - base), data + (from - left), to - from);
}

/* A new range at index i (the bound was checked). */
static int insert_new(oasis_stack *s, oasis_ofo *o, uint32_t i, uint32_t left, uint32_t right,
                      const uint8_t *data)
{
    int err = ofo_reserve(s, o);
    if (err)
        return err;
    uint8_t *buf = oasis_malloc(s, right - left);
    if (!buf)
        return OASIS_ENOMEM;
    memcpy(buf, data, right - left);
    oasis_tcp_mem_charge(s, right - left);
    memmove(o->r + i + 1, o->r + i, (o->n - i) * sizeof *o->r);
    o->n++;
    o->r[i] = (oasis_ofo_range){left, right, buf, right - left};
    o->bytes += right - left;
    return 0;
}

int oasis_ofo_add(oasis_stack *s, oasis_ofo *o, uint32_t left, uint32_t right,
                  const uint8_t *data)
{
    if (left == right)
        return 0;
    if (oasis_seq_lt(right, left))
        return OASIS_EINVAL;
    /* i: first range that ends at or after left (could touch or follow). */
    uint32_t i = 0;
    while (i < o->n && oasis_seq_lt(o->r[i].right, left))
        i++;
    /* [i, j): ranges that overlap or abut [left, right). */
    uint32_t j = i, nl = left, nr = right;
    while (j < o->n && oasis_seq_le(o->r[j].left, right)) {
        nl = oasis_seq_min(nl, o->r[j].left);
        nr = oasis_seq_max(nr, o->r[j].right);
        j++;
    }
    if (j == i) {
        if (o->n >= o->max)
            return OASIS_EAGAIN;
        int err = insert_new(s, o, i, left, right, data);
        if (err)
            return err;
        ofo_touch(o, left, right);
        return 0;
    }
    /* Merge into one buffer holding [nl, nr), range i's bytes first: grown
     * in place when i starts the merged range (a range extended to the
     * right, the usual case), else copied into new storage. */
    oasis_ofo_range *ri = &o->r[i];
    uint32_t need = nr - nl, ilen = ri->right - ri->left;
    if (ri->left == nl) {
        if (need > ri->size) {
            uint32_t size = ri->size * 2 > need ? ri->size * 2 : need;
            uint8_t *m = oasis_realloc(s, ri->data, size);
            if (!m)
                return OASIS_ENOMEM;
            oasis_tcp_mem_charge(s, (int64_t)size - (int64_t)ri->size);
            ri->data = m;
            ri->size = size;
        }
    } else {
        uint8_t *m = oasis_malloc(s, need);
        if (!m)
            return OASIS_ENOMEM;
        memcpy(m + (ri->left - nl), ri->data, ilen);
        oasis_tcp_mem_charge(s, (int64_t)need - (int64_t)ri->size);
        oasis_free(s, ri->data);
        ri->data = m;
        ri->size = need;
    }
    /* The old ranges' bytes stay; the new bytes fill only the gaps. */
    uint8_t *buf = ri->data;
    uint32_t pos = left;
    uint32_t added = 0;
    for (uint32_t k = i; k < j; k++) {
        oasis_ofo_range *rk = &o->r[k];
        uint32_t end = oasis_seq_min(rk->left, right);
        if (oasis_seq_lt(pos, end)) {
            copy_new(buf, nl, data, left, pos, end);
            added += end - pos;
        }
        if (k > i) {
            memcpy(buf + (rk->left - nl), rk->data, rk->right - rk->left);
            oasis_tcp_mem_charge(s, -(int64_t)rk->size);
            oasis_free(s, rk->data);
        }
        pos = oasis_seq_max(pos, rk->right);
    }
    if (oasis_seq_lt(pos, right)) {
        copy_new(buf, nl, data, left, pos, right);
        added += right - pos;
    }
    o->bytes += added;
    ri->left = nl;
    ri->right = nr;
    memmove(o->r + i + 1, o->r + j, (o->n - j) * sizeof *o->r);
    o->n -= j - i - 1;
    ofo_touch(o, nl, nr);
    return 0;
}

/* Drops the first `drop` ranges. */
static void drop_front(oasis_stack *s, oasis_ofo *o, uint32_t drop)
{
    if (!drop)
        return;
    for (uint32_t k = 0; k < drop; k++)
        range_release(s, o, &o->r[k]);
    memmove(o->r, o->r + drop, (o->n - drop) * sizeof *o->r);
    o->n -= drop;
}

uint32_t oasis_ofo_advance(oasis_stack *s, oasis_ofo *o, uint32_t nxt, oasis_ring *dst)
{
    uint32_t drop = 0;
    while (drop < o->n && oasis_seq_le(o->r[drop].right, nxt))
        drop++;
    drop_front(s, o, drop);
    if (o->n == 0 || oasis_seq_gt(o->r[0].left, nxt))
        return nxt;
    oasis_ofo_range *r = &o->r[0];
    uint32_t off = nxt - r->left, want = r->right - nxt;
    uint32_t took = dst ? oasis_ring_write(s, dst, r->data + off, want) : want;
    nxt += took;
    if (took == want)
        drop_front(s, o, 1);
    return nxt;
}

void oasis_ofo_trim(oasis_stack *s, oasis_ofo *o, uint32_t seq)
{
    while (o->n && oasis_seq_ge(o->r[o->n - 1].left, seq))
        range_release(s, o, &o->r[--o->n]);
    if (o->n && oasis_seq_gt(o->r[o->n - 1].right, seq)) {
        o->bytes -= o->r[o->n - 1].right - seq;
        o->r[o->n - 1].right = seq; /* (its storage stays, as charged) */
    }
}

/* Index of the range holding seq, or n. */
static uint32_t ofo_find(const oasis_ofo *o, uint32_t seq)
{
    for (uint32_t i = 0; i < o->n; i++)
        if (oasis_seq_in(seq, o->r[i].left, o->r[i].right))
            return i;
    return o->n;
}

static int already_out(const oasis_sack_block *out, uint32_t k, uint32_t left)
{
    for (uint32_t i = 0; i < k; i++)
        if (out[i].left == left)
            return 1;
    return 0;
}

uint32_t oasis_ofo_sack(const oasis_ofo *o, oasis_sack_block *out, uint32_t max)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < o->nrecent && k < max; i++) {
        uint32_t at = ofo_find(o, o->recent[i]);
        if (at < o->n && !already_out(out, k, o->r[at].left))
            out[k++] = (oasis_sack_block){o->r[at].left, o->r[at].right};
    }
    for (uint32_t i = 0; i < o->n && k < max; i++)
        if (!already_out(out, k, o->r[i].left))
            out[k++] = (oasis_sack_block){o->r[i].left, o->r[i].right};
    return k;
}
