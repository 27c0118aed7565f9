/* Out-of-order range list: sorted array, merged on insert, bounded. */
#include "tcp/tcp_ofo.h"

#include <string.h>

#include "core/mem.h"
#include "oasis/error.h"
#include "tcp/tcp_seq.h"

#define OFO_FIRST_CAP 4

void oasis_ofo_init(oasis_ofo *o, uint32_t max_ranges)
{
    memset(o, 0, sizeof *o);
    o->max = max_ranges;
}

void oasis_ofo_fini(oasis_stack *s, oasis_ofo *o)
{
    oasis_free(s, o->r);
    uint32_t max = o->max;
    oasis_ofo_init(o, max);
}

void oasis_ofo_clear(oasis_ofo *o)
{
    o->n = 0;
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

int oasis_ofo_add(oasis_stack *s, oasis_ofo *o, uint32_t left, uint32_t right)
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
    uint32_t j = i;
    while (j < o->n && oasis_seq_le(o->r[j].left, right)) {
        left = oasis_seq_min(left, o->r[j].left);
        right = oasis_seq_max(right, o->r[j].right);
        j++;
    }
    if (j == i) {
        if (o->n >= o->max)
            return OASIS_EAGAIN;
        int err = ofo_reserve(s, o);
        if (err)
            return err;
        memmove(o->r + i + 1, o->r + i, (o->n - i) * sizeof *o->r);
        o->n++;
    } else {
        memmove(o->r + i + 1, o->r + j, (o->n - j) * sizeof *o->r);
        o->n -= j - i - 1;
    }
    o->r[i].left = left;
    o->r[i].right = right;
    ofo_touch(o, left, right);
    return 0;
}

uint32_t oasis_ofo_advance(oasis_ofo *o, uint32_t nxt)
{
    uint32_t drop = 0;
    while (drop < o->n && oasis_seq_le(o->r[drop].right, nxt))
        drop++;
    if (drop < o->n && oasis_seq_le(o->r[drop].left, nxt)) {
        nxt = o->r[drop].right;
        drop++;
    }
    if (drop) {
        memmove(o->r, o->r + drop, (o->n - drop) * sizeof *o->r);
        o->n -= drop;
    }
    return nxt;
}

/* Index of the range holding seq, or n. */
static uint32_t ofo_find(const oasis_ofo *o, uint32_t seq)
{
    for (uint32_t i = 0; i < o->n; i++)
        if (oasis_seq_in(seq, o->r[i].left, o->r[i].right))
            return i;
    return o->n;
}

static int already_out(const oasis_sack_block *out, uint32_t k, const oasis_sack_block *b)
{
    for (uint32_t i = 0; i < k; i++)
        if (out[i].left == b->left)
            return 1;
    return 0;
}

uint32_t oasis_ofo_sack(const oasis_ofo *o, oasis_sack_block *out, uint32_t max)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < o->nrecent && k < max; i++) {
        uint32_t at = ofo_find(o, o->recent[i]);
        if (at < o->n && !already_out(out, k, &o->r[at]))
            out[k++] = o->r[at];
    }
    for (uint32_t i = 0; i < o->n && k < max; i++)
        if (!already_out(out, k, &o->r[i]))
            out[k++] = o->r[i];
    return k;
}
