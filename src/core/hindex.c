/* The hash index with an age list (hindex.h). */
#include "core/hindex.h"

#include "core/mem.h"
#include "oasis/error.h"

#include <string.h>

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

int oasis_hindex_insert(oasis_stack *s, oasis_hindex *x, oasis_hnode *n, uint32_t hash)
{
    if (!x->chains && !(x->chains = oasis_calloc(s, x->nchains, sizeof *x->chains)))
        return OASIS_ENOMEM;
    oasis_hnode **c = &x->chains[hash & (x->nchains - 1)];
    n->hash = hash;
    n->chain = *c;
    *c = n;
    n->newer = NULL;
    n->older = x->newest;
    if (x->newest)
        x->newest->newer = n;
    else
        x->oldest = n;
    x->newest = n;
    x->n++;
    return 0;
}

void oasis_hindex_remove(oasis_hindex *x, oasis_hnode *n)
{
    oasis_hnode **c = &x->chains[n->hash & (x->nchains - 1)];
    while (*c != n)
        c = &(*c)->chain;
    *c = n->chain;
    if (n->older)
        n->older->newer = n->newer;
    else
        x->oldest = n->newer;
    if (n->newer)
        n->newer->older = n->older;
    else
        x->newest = n->older;
    n->chain = n->older = n->newer = NULL;
    x->n--;
}
