/* Two small intrusive structures for tables whose keys come from the wire
 * (reassembly's datagrams, the neighbour cache):
 *
 * - an age list (oasis_alist): entries oldest first, for expiry and
 *   eviction; each operation O(1);
 * - a hash index with an age list (oasis_hindex): lookup by a keyed hash
 *   the owner computes (SipHash with a secret, so a sender cannot aim its
 *   keys at one chain), entries in order of insertion. Every operation is
 *   O(1) but the walk of one chain.
 *
 * The owner embeds an oasis_alink or oasis_hnode in its entry, walks
 * oasis_hindex_chain() comparing keys itself, and gets the entry back with
 * oasis_container_of. An index's chains are allocated on its first
 * insertion (a stack that never sees a fragment holds none), sized for the
 * bound given at init. */
#ifndef OASIS_CORE_HINDEX_H
#define OASIS_CORE_HINDEX_H

#include <stdint.h>

typedef struct oasis_stack oasis_stack;

typedef struct oasis_alink {
    struct oasis_alink *older, *newer;
} oasis_alink;

typedef struct oasis_alist {
    oasis_alink *oldest, *newest;
    uint32_t n;
} oasis_alist;

/* Adds e as the newest, or as the oldest. */
void oasis_alist_push_newest(oasis_alist *l, oasis_alink *e);
void oasis_alist_push_oldest(oasis_alist *l, oasis_alink *e);
/* Takes e (which is in l) out. */
void oasis_alist_remove(oasis_alist *l, oasis_alink *e);

typedef struct oasis_hnode {
    struct oasis_hnode *chain; /* next in its chain */
    oasis_alink age;
    uint32_t hash;
} oasis_hnode;

typedef struct oasis_hindex {
    oasis_hnode **chains;  /* NULL until the first insertion */
    uint32_t nchains;      /* a power of two */
    oasis_alist ages;      /* its nodes' age links, oldest first */
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

/* The oldest node, or NULL; the one after n in age (newer), or NULL. */
oasis_hnode *oasis_hindex_oldest(const oasis_hindex *x);
oasis_hnode *oasis_hindex_newer(const oasis_hnode *n);

/* Adds n with its hash as the newest. OASIS_ENOMEM when the chains could
 * not be allocated (nothing changed), else 0. */
int oasis_hindex_insert(oasis_stack *s, oasis_hindex *x, oasis_hnode *n, uint32_t hash);
/* Takes n (which is in x) out. */
void oasis_hindex_remove(oasis_hindex *x, oasis_hnode *n);

#endif
