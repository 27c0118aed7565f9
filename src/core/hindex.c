/* The age list and the hash index (hindex.h). */
#include "core/hindex.h"

#include "core/mem.h"
#include "core/timer.h"
#include "oasis/error.h"

#include <stddef.h>
#include <string.h>

void oasis_alist_push_newest(oasis_alist *l, oasis_alink *e)
{
    e->newer = NULL;
    e->older = l->newest;
    if (l->newest)
        l->newest->newer = e;
    else
        l->oldest = e;
    l->newest = e;
    l->n++;
}

void oasis_alist_push_oldest(oasis_alist *l, oasis_alink *e)
{
    e->older = NULL;
    e->newer = l->oldest;
    if (l->oldest)
        l->oldest->older = e;
    else
        l->newest = e;
    l->oldest = e;
    l->n++;
}

void oasis_alist_remove(oasis_alist *l, oasis_alink *e)
{
    if (e->older)
        e->older->newer = e->newer;
    else
        l->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        l->newest = e->older;
    e->older = e->newer = NULL;
    l->n--;
}

void oasis_hindex_init(oasis_hindex *x, uint32_t bound)
{
    memset(x, 0, sizeof *x);
    x->nchains = 16;
    while (x->nchains < bound && x->nchains < OASIS_HINDEX_MAX_CHAINS)
        x->nchains <<= 1;
}

void oasis_hindex_fini(oasis_stack *s, oasis_hindex *x)
{
    oasis_free(s, x->chains);
    x->chains = NULL;
}

static oasis_hnode *of_age(oasis_alink *a) { return a ? oasis_container_of(a, oasis_hnode, age) : NULL; }

oasis_hnode *oasis_hindex_oldest(const oasis_hindex *x) { return of_age(x->ages.oldest); }

oasis_hnode *oasis_hindex_newer(const oasis_hnode *n) { return of_age(n->age.newer); }

int oasis_hindex_insert(oasis_stack *s, oasis_hindex *x, oasis_hnode *n, uint32_t hash)
{
    if (!x->chains && !(x->chains = oasis_calloc(s, x->nchains, sizeof *x->chains)))
        return OASIS_ENOMEM;
    oasis_hnode **c = &x->chains[hash & (x->nchains - 1)];
    n->hash = hash;
    n->chain = *c;
    *c = n;
    oasis_alist_push_newest(&x->ages, &n->age);
    return 0;
}

void oasis_hindex_remove(oasis_hindex *x, oasis_hnode *n)
{
    oasis_hnode **c = &x->chains[n->hash & (x->nchains - 1)];
    while (*c != n)
        c = &(*c)->chain;
    *c = n->chain;
    n->chain = NULL;
    oasis_alist_remove(&x->ages, &n->age);
}
