#include "core/timer.h"
#include "core/stack_impl.h"

static int before(const oasis_timer *a, const oasis_timer *b)
{
    if (a->deadline != b->deadline)
        return a->deadline < b->deadline;
    return a->seq < b->seq;
}

/* Links two heaps; returns the new root. */
static oasis_timer *meld(oasis_timer *a, oasis_timer *b)
{
    if (!a)
        return b;
    if (!b)
        return a;
    if (before(b, a)) {
        oasis_timer *t = a;
        a = b;
        b = t;
    }
    /* b becomes a's first child */
    b->prev = a;
    b->sibling = a->child;
    if (a->child)
        a->child->prev = b;
    a->child = b;
    a->sibling = NULL;
    a->prev = NULL;
    return a;
}

/* Two-pass pairing of a sibling list. Iterative to bound stack use. */
static oasis_timer *merge_pairs(oasis_timer *first)
{
    if (!first)
        return NULL;
    /* Pass 1: pair left to right, building a reversed list via `prev`. */
    oasis_timer *acc = NULL;
    while (first) {
        oasis_timer *a = first;
        oasis_timer *b = a->sibling;
        first = b ? b->sibling : NULL;
        a->sibling = a->prev = NULL;
        if (b)
            b->sibling = b->prev = NULL;
        oasis_timer *m = meld(a, b);
        m->sibling = acc;
        acc = m;
    }
    /* Pass 2: meld right to left. */
    oasis_timer *root = NULL;
    while (acc) {
        oasis_timer *next = acc->sibling;
        acc->sibling = NULL;
        root = meld(root, acc);
        acc = next;
    }
    return root;
}

void oasis_timer_init(oasis_timer *t, oasis_timer_fn fn)
{
    t->deadline = 0;
    t->seq = 0;
    t->fn = fn;
    t->child = t->sibling = t->prev = NULL;
    t->active = 0;
}

static void detach(oasis_timer_heap *h, oasis_timer *t)
{
    if (t == h->root) {
        h->root = merge_pairs(t->child);
    } else {
        /* Unlink t from its parent's child list or its left sibling. */
        if (t->prev->child == t)
            t->prev->child = t->sibling;
        else
            t->prev->sibling = t->sibling;
        if (t->sibling)
            t->sibling->prev = t->prev;
        oasis_timer *sub = merge_pairs(t->child);
        h->root = meld(h->root, sub);
    }
    t->child = t->sibling = t->prev = NULL;
    t->active = 0;
    h->count--;
}

void oasis_timer_stop(oasis_stack *s, oasis_timer *t)
{
    if (t->active)
        detach(&s->timers, t);
}

/* t in the heap moves to an earlier deadline (its key only falls, so its
 * subtree stays in order): cut it from its parent and meld it with the
 * root, without pairing up its children (the pairing heap's decrease-key).
 * The root stays where it is. */
static void decrease(oasis_timer_heap *h, oasis_timer *t, uint64_t deadline)
{
    t->deadline = deadline;
    t->seq = h->next_seq++;
    if (t == h->root)
        return;
    if (t->prev->child == t)
        t->prev->child = t->sibling;
    else
        t->prev->sibling = t->sibling;
    if (t->sibling)
        t->sibling->prev = t->prev;
    t->sibling = t->prev = NULL;
    h->root = meld(h->root, t);
}

void oasis_timer_start(oasis_stack *s, oasis_timer *t, uint64_t deadline)
{
    oasis_timer_heap *h = &s->timers;
    if (t->active == 1 && deadline < t->deadline) {
        decrease(h, t, deadline); /* TCP's timer_by: a deadline armed earlier */
        return;
    }
    if (t->active)
        detach(h, t);
    t->deadline = deadline;
    t->seq = h->next_seq++;
    t->child = t->sibling = t->prev = NULL;
    t->active = 1;
    h->root = meld(h->root, t);
    h->count++;
}

int oasis_timers_run(oasis_stack *s, uint64_t now)
{
    oasis_timer_heap *h = &s->timers;
    int n = 0;
    for (oasis_timer *t; (t = h->root) && t->deadline <= now;) {
        detach(h, t);
        n++;
        t->fn(s, t);
    }
    return n;
}

uint64_t oasis_timers_next(const oasis_stack *s)
{
    const oasis_timer *t = s->timers.root;
    return t ? t->deadline : UINT64_MAX;
}
