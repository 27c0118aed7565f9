#include "core/pbuf.h"
#include "core/mem.h"

#include <stdint.h>

oasis_pbuf *oasis_pbuf_alloc(oasis_stack *s, size_t headroom, size_t len)
{
    if (headroom > SIZE_MAX / 2 || len > SIZE_MAX / 2)
        return NULL;
    size_t cap = headroom + len;
    oasis_pbuf *p = oasis_malloc(s, sizeof *p + cap);
    if (!p)
        return NULL;
    p->next = NULL;
    p->cap = cap;
    p->data = p->mem + headroom;
    p->len = len;
    p->meta = 0;
    p->meta2 = 0;
    return p;
}

void oasis_pbuf_free(oasis_stack *s, oasis_pbuf *p) { oasis_free(s, p); }
