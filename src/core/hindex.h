/* An intrusive hash index with an age list, for tables whose keys come from
 * the wire (reassembly's datagrams): lookup by a keyed hash the owner
 * computes (so a sender cannot aim its keys at one chain), and the entries
 * in order of insertion, oldest first, for expiry and eviction. Every
 * operation is O(1) but the walk of one chain.
 *
 * The owner embeds an oasis_hnode in its entry, hashes its key (SipHash
 * with a secret key), walks oasis_hindex_chain() comparing keys itself,
 * and gets the entry back with oasis_container_of. The chains are
 * allocated on the first insertion (a stack that never sees a fragment
 * holds none), sized for the bound given at init. */
#ifndef OASIS_CORE_HINDEX_H
#define OASIS_CORE_HINDEX_H

#include <stdint.h>

typedef struct oasis_stack oasis_stack;

typedef struct oasis_hnode {
    struct oasis_hnode *chain;        /* next in its chain */
    struct oasis_hnode *older, *newer;
    uint32_t hash;
} oasis_hnode;

typedef struct oasis_hindex {
    oasis_hnode **chains;  /* NULL until the first insertion */
    uint32_t nchains;      /* a power of two */
    uint32_t n;
    oasis_hnode *oldest, *newest;
} oasis_hindex;

/* Most chains an index takes (64 KiB of pointers, 512 KiB). */
#define OASIS_HINDEX_MAX_CHAINS 65536u

/* An empty index for at most `bound` entries (chains: the power of two at
 * or above it, from 16 to OASIS_HINDEX_MAX_CHAINS). */
void oasis_hindex_init(oasis_hindex *x, uint32_t bound);
/* Gives back the chains; the entries are the owner's (remove them first). */
void oasis_hindex_fini(oasis_stack *s, oasis_hindex *x);

/* The first node of hash's chain (follow ->chain), or NULL. */
static inline oasis_hnode *oasis_hindex_chain(const oasis_hindex *x, uint32_t hash)
{
    return x->chains ? x->chains[hash & (x->nchains - 1)] : 0;
}

/* Adds n with its hash as the newest. OASIS_ENOMEM when the chains could
 * not be allocated (nothing changed), else 0. */
int oasis_hindex_insert(oasis_stack *s, oasis_hindex *x, oasis_hnode *n, uint32_t hash);
/* Takes n (which is in x) out. */
void oasis_hindex_remove(oasis_hindex *x, oasis_hnode *n);

#endif
