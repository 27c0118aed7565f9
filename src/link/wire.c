/* The in-memory wire: a switch inside one process. Each sent frame is copied
 * once per destination port into a channel (sender -> receiver) that may
 * impair it, then into a time-ordered queue (a binary heap keyed by delivery
 * time, ties broken by send order) and handed to the destination by
 * oasis_wire_step(), never from inside the sender's call, so a stack is
 * never re-entered while it is sending.
 *
 * The wire has no stack, so it allocates with libc. */
#define _POSIX_C_SOURCE 200809L
#include "oasis/wire.h"

#include "core/checksum.h"
#include "core/compiler.h"
#include "core/prng.h"
#include "core/stack_impl.h"
#include "link/gso.h"
#include "link/impair_core.h"
#include "oasis/error.h"
#include "oasis/stack.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ETH_HDR 14
#define REORDER_DELAY_DEFAULT_NS (1000u * 1000u)

/* wire_frame.has_off of a plain frame that went by a port's memo (port_send,
 * port_commit): its destination MAC is the unicast MAC of the stack at
 * port dst, which the wire found there (unicast_lookup), and which stays
 * while the port does (a stack's MAC never changes; a port is the one
 * stack's until it is detached, and then delivers nothing). deliver hands
 * it in without the compares that would find that again. */
#define WIRE_MAC_OK 2

typedef struct wire_frame {
    struct wire_frame *next; /* freelist link */
    uint64_t due, seq;
    uint32_t src, dst;
    uint32_t len, cap;
    int has_off;       /* offload wire: a super-segment or partial checksum (1), or
                        * WIRE_MAC_OK */
    oasis_offload off;
    uint8_t data[];
} wire_frame;

/* A frame inside a bottleneck: when its transmission ends, and its size. */
typedef struct bq_slot {
    uint64_t fin;
    uint32_t len;
} bq_slot;

typedef struct wire_chan {
    oasis_impair cfg;
    int plain;         /* cfg only delays: no random draw, no bottleneck (chan_plain) */
    int fixed;         /* plain without jitter: a frame is due a fixed delay after its send */
    int fast;          /* fixed, and the wire has no observer: port_send's common case */
    uint64_t delay;    /* the wire's delay and cfg's: a fixed channel's whole delay */
    oasis_impair_state im; /* random stream, Gilbert-Elliott state */
    uint64_t last_due; /* delivery time of the last in-order frame */
    /* Bottleneck: frames not yet fully transmitted, oldest first. */
    bq_slot *q;
    uint32_t qcap, qhead, qlen;
    uint64_t qbytes;
    uint64_t busy_until; /* when the last queued frame finishes */
    uint64_t carry;      /* remainder of len*8e9/rate, so the rate is exact */
    /* st counts all but deliveries and the common case's sends: frames are
     * counted as they are queued, by the stages (chan_push) and by the
     * common case (its sends, all queued), and oasis_wire_stats_get takes
     * those still in flight off for what was delivered. Delivery, once per
     * frame like the send, then touches no channel. */
    oasis_wire_stats st;
    uint64_t queued, queued_bytes; /* by chan_push */
    uint64_t fast_sent, fast_bytes; /* by chan_queue_fast */
} wire_chan;

typedef struct wire_port {
    oasis_link link; /* first: the link handed to the stack */
    oasis_wire *wire;
    oasis_stack *stack;   /* NULL for an endpoint */
    int on_wire_clock;    /* a stack that reads the wire's clock: takes its cached time */
    oasis_wire_rx_fn rx;  /* endpoint receiver */
    void *rx_ud;
    uint8_t mac[6];       /* endpoint MAC */
    uint32_t index;
    /* The port the last unicast frame from this one went to and its
     * destination MAC: a flow's frames all go the same way. Forgotten
     * (UINT32_MAX for the broadcast MAC, which floods anyway) whenever a
     * port comes or goes: a detached port's MAC changes (oasis_wire_detach). */
    uint32_t memo_dst;
    uint8_t memo_mac[6];
    wire_frame *lent; /* the frame buffer lent to the stack (port_lend), or NULL */
    oasis_impair out_default; /* for channels to ports attached later */
    wire_chan *out;           /* one channel per destination port */
} wire_port;

/* Buffers of this size (an MTU-1500 frame fits) are recycled instead of
 * freed; larger frames get a buffer of their own size. Thousands of frames
 * may be in flight behind a slow bottleneck, so none reserves 64 KiB. */
#define WIRE_FRAME_CAP 2048u
#define WIRE_FREELIST_MAX 256
/* Full-size frames of a jumbo wire (MTU above 2048) are recycled too, on a
 * list bounded in bytes. */
#define WIRE_BIGLIST_BYTES (1024u * 1024u)

struct oasis_wire {
    oasis_clock *clock;
    oasis_wire_config cfg;
    wire_port **ports;
    uint32_t nports;
    /* Per port, its stack when that reads the wire's clock (on_wire_clock),
     * else NULL: what the step polls at its cached instant, one load each. */
    oasis_stack **clocked;
    wire_frame **heap; /* min-heap on (due, seq) */
    uint32_t hlen, hcap;
    /* Fast path: frames due no earlier than the FIFO's last one (every
     * frame of an unimpaired, fixed-delay wire) are appended here in O(1);
     * the FIFO is sorted on (due, seq) by construction, so the next frame is
     * the earlier of its head and the heap's top. */
    wire_frame **fifo;
    uint32_t fhead, flen, fcap; /* fcap: a power of two (64, doubled) */
    /* The FIFO length at which the common send stops (the FIFO full, or
     * the wire: min(fcap, queue_frames - hlen)), and the due time of the
     * FIFO's last frame (meaningful while flen > 0): one compare each. */
    uint32_t fast_max;
    uint64_t ftail_due;
    uint64_t next_seq;
    wire_frame *freelist;
    uint32_t nfree;
    wire_frame *biglist; /* frames of big_cap bytes */
    uint32_t nbig;
    uint64_t drops;
    /* Real clocks only: the time read at the step's start and after every
     * WIRE_READ_FRAMES deliveries, used as the send time of frames sent
     * meanwhile and handed to the stacks (on the same clock) for their input
     * and timers. A virtual clock is read per round: it is cheap, and tests
     * may move it from inside a callback. */
    int now_cached;
    uint64_t now;
    oasis_wire_observer observer;
    void *observer_ud;
    uint8_t *scratch; /* offload wire: plain frames cut from a super-segment */
    /* Inside a step, a run or the observer: the stacks' callbacks, done()
     * and the observer run there, and the wire goes on when they return,
     * so oasis_wire_destroy is refused (OASIS_EBUSY). */
    uint32_t busy;
};

void oasis_wire_config_init(oasis_wire_config *cfg)
{
    if (!cfg)
        return;
    cfg->mtu = 1500;
    cfg->delay_ns = 0;
    cfg->queue_frames = 65536;
    cfg->seed = 1;
    cfg->offload = 0;
}

void oasis_impair_init(oasis_impair *cfg)
{
    if (cfg)
        memset(cfg, 0, sizeof *cfg);
}

/* A frame's due time adds up to four delays (the wire's, the direction's,
 * jitter, reorder hold) to the clock: each is cut to OASIS_WIRE_MAX_DELAY_NS
 * so that the sum cannot wrap round to a time in the past. */
static uint64_t delay_cut(uint64_t d)
{
    return d > OASIS_WIRE_MAX_DELAY_NS ? OASIS_WIRE_MAX_DELAY_NS : d;
}

int oasis_wire_create(oasis_clock *clock, const oasis_wire_config *cfg, oasis_wire **out)
{
    if (!clock || !out)
        return OASIS_EINVAL;
    oasis_wire *w = calloc(1, sizeof *w);
    if (!w)
        return OASIS_ENOMEM;
    w->clock = clock;
    if (cfg)
        w->cfg = *cfg;
    else
        oasis_wire_config_init(&w->cfg);
    w->cfg.delay_ns = delay_cut(w->cfg.delay_ns);
    if (w->cfg.mtu < 68 || w->cfg.mtu > 65535 || w->cfg.queue_frames == 0) {
        free(w);
        return OASIS_EINVAL;
    }
    *out = w;
    return OASIS_OK;
}

/* ---- frames and the time-ordered queue -------------------------------- */

/* The largest frame the wire carries: the size of a recycled big frame. */
static uint32_t big_cap(const oasis_wire *w) { return w->cfg.mtu + ETH_HDR; }

static OASIS_NOINLINE void frame_release_other(oasis_wire *w, wire_frame *f)
{
    if (f->cap == big_cap(w) && f->cap > WIRE_FRAME_CAP &&
        (uint64_t)(w->nbig + 1) * f->cap <= WIRE_BIGLIST_BYTES) {
        f->next = w->biglist;
        w->biglist = f;
        w->nbig++;
    } else {
        free(f);
    }
}

static void frame_release(oasis_wire *w, wire_frame *f)
{
    if (f->cap == WIRE_FRAME_CAP && w->nfree < WIRE_FREELIST_MAX) {
        f->next = w->freelist;
        w->freelist = f;
        w->nfree++;
    } else {
        frame_release_other(w, f);
    }
}

static OASIS_COLD wire_frame *frame_alloc(oasis_wire *w, size_t len);

static wire_frame *frame_get(oasis_wire *w, size_t len)
{
    if (len <= WIRE_FRAME_CAP && w->freelist) {
        wire_frame *f = w->freelist;
        w->freelist = f->next;
        w->nfree--;
        return f;
    }
    return frame_alloc(w, len);
}

/* frame_get without a small recycled frame: a big one, or a new one. */
static wire_frame *frame_alloc(oasis_wire *w, size_t len)
{
    if (len > WIRE_FRAME_CAP && len <= big_cap(w) && w->biglist) {
        wire_frame *f = w->biglist; /* len <= big_cap: port_send checks */
        w->biglist = f->next;
        w->nbig--;
        return f;
    }
    /* A super-segment (offload wire) gets a buffer of its own size. */
    size_t cap = len <= WIRE_FRAME_CAP ? WIRE_FRAME_CAP : len <= big_cap(w) ? big_cap(w) : len;
    wire_frame *f = malloc(sizeof *f + cap);
    if (f)
        f->cap = (uint32_t)cap;
    return f;
}

/* fast_max after fcap or hlen changed (hlen <= queue_frames: frame_copy
 * admits no frame beyond it). */
static void fast_max_set(oasis_wire *w)
{
    uint32_t room = w->cfg.queue_frames - w->hlen;
    w->fast_max = w->fcap < room ? w->fcap : room;
}

static int frame_before(const wire_frame *a, const wire_frame *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static int heap_push(oasis_wire *w, wire_frame *f)
{
    if (w->hlen == w->hcap) {
        uint32_t cap = w->hcap ? w->hcap * 2 : 64;
        wire_frame **h = realloc(w->heap, cap * sizeof *h);
        if (!h)
            return OASIS_ENOMEM;
        w->heap = h;
        w->hcap = cap;
    }
    f->seq = w->next_seq++;
    uint32_t i = w->hlen++;
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!frame_before(f, w->heap[parent]))
            break;
        w->heap[i] = w->heap[parent];
        i = parent;
    }
    w->heap[i] = f;
    fast_max_set(w);
    return OASIS_OK;
}

static OASIS_COLD int fifo_grow(oasis_wire *w)
{
    uint32_t cap = w->fcap ? w->fcap * 2 : 64;
    wire_frame **q = malloc(cap * sizeof *q);
    if (!q)
        return OASIS_ENOMEM;
    for (uint32_t i = 0; i < w->flen; i++)
        q[i] = w->fifo[(w->fhead + i) & (w->fcap - 1)];
    free(w->fifo);
    w->fifo = q;
    w->fcap = cap;
    w->fhead = 0;
    fast_max_set(w);
    return OASIS_OK;
}

/* Appends f to a FIFO with room. */
static void fifo_put(oasis_wire *w, wire_frame *f)
{
    f->seq = w->next_seq++;
    w->fifo[(w->fhead + w->flen) & (w->fcap - 1)] = f;
    w->flen++;
    w->ftail_due = f->due;
}

static int fifo_push(oasis_wire *w, wire_frame *f)
{
    if (w->flen == w->fcap && fifo_grow(w) != OASIS_OK)
        return OASIS_ENOMEM;
    fifo_put(w, f);
    return OASIS_OK;
}

static wire_frame *fifo_tail(const oasis_wire *w)
{
    return w->flen ? w->fifo[(w->fhead + w->flen - 1) & (w->fcap - 1)] : NULL;
}

/* Queues a frame: on the FIFO when that keeps it sorted, else the heap. */
static int queue_push(oasis_wire *w, wire_frame *f)
{
    wire_frame *t = fifo_tail(w);
    if (!t || f->due >= t->due)
        return fifo_push(w, f);
    return heap_push(w, f);
}

static uint32_t queued(const oasis_wire *w) { return w->hlen + w->flen; }

/* The next frame to deliver, or NULL. */
static wire_frame *queue_first(const oasis_wire *w)
{
    wire_frame *a = w->flen ? w->fifo[w->fhead] : NULL;
    wire_frame *b = w->hlen ? w->heap[0] : NULL;
    if (!a || (b && frame_before(b, a)))
        return b;
    return a;
}

static wire_frame *heap_pop(oasis_wire *w)
{
    wire_frame *top = w->heap[0];
    wire_frame *last = w->heap[--w->hlen];
    uint32_t i = 0, n = w->hlen;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && frame_before(w->heap[c + 1], w->heap[c]))
            c++;
        if (!frame_before(w->heap[c], last))
            break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (n > 0)
        w->heap[i] = last;
    fast_max_set(w);
    return top;
}

static void chan_free(wire_chan *c) { free(c->q); }

int oasis_wire_destroy(oasis_wire *w)
{
    if (!w)
        return OASIS_OK;
    if (w->busy)
        return OASIS_EBUSY;
    /* Stacks still attached lose their link (it goes with the wire) and
     * forget the wire (their destroy would detach them from it). */
    for (uint32_t i = 0; i < w->nports; i++)
        if (w->ports[i]->stack)
            oasis_wire_detach(w, w->ports[i]->stack);
    for (uint32_t i = 0; i < w->hlen; i++)
        free(w->heap[i]);
    free(w->heap);
    for (uint32_t i = 0; i < w->flen; i++)
        free(w->fifo[(w->fhead + i) & (w->fcap - 1)]);
    free(w->fifo);
    while (w->freelist) {
        wire_frame *f = w->freelist;
        w->freelist = f->next;
        free(f);
    }
    while (w->biglist) {
        wire_frame *f = w->biglist;
        w->biglist = f->next;
        free(f);
    }
    for (uint32_t i = 0; i < w->nports; i++) {
        for (uint32_t j = 0; j < w->nports; j++)
            chan_free(&w->ports[i]->out[j]);
        free(w->ports[i]->out);
        free(w->ports[i]->lent);
        free(w->ports[i]);
    }
    free(w->ports);
    free(w->clocked);
    free(w->scratch);
    free(w);
    return OASIS_OK;
}

/* ---- channels ---------------------------------------------------------- */

/* Does cfg only delay frames (delay, jitter)? Then no stage but the
 * delivery time acts on a frame or draws from the stream (chance() draws
 * nothing for a probability of 0; ce_queue_frames acts only behind a
 * bottleneck): what chan_send_off would do comes down to chan_send_plain. */
static int chan_plain(const oasis_impair *g)
{
    return g->loss == 0 && g->ge_p_good_bad == 0 && g->corrupt == 0 && g->reorder == 0 &&
           g->duplicate == 0 && g->rate_bps == 0 && g->ce_mark == 0;
}

/* What c's configuration and the wire's observer decide about its sends. */
static void chan_modes(const oasis_wire *w, wire_chan *c)
{
    c->plain = chan_plain(&c->cfg);
    c->fixed = c->plain && c->cfg.jitter_ns == 0;
    c->fast = c->fixed && !w->observer;
    c->delay = w->cfg.delay_ns + c->cfg.delay_ns; /* each cut: no wrap */
}

static void chan_init(oasis_wire *w, wire_chan *c, uint32_t from, uint32_t to,
                      const oasis_impair *cfg)
{
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    chan_modes(w, c);
    /* One stream per direction: what one direction carries never shifts the
     * other's random choices. */
    uint64_t mix = ((uint64_t)(from + 1) << 32 | (to + 1)) * 0x9e3779b97f4a7c15ull;
    oasis_prng_seed(&c->im.prng, w->cfg.seed ^ mix);
}

static int chance(wire_chan *c, double p) { return oasis_impair_chance(&c->im, p); }

/* Nanoseconds to transmit len bytes at the channel's rate; the remainder is
 * carried to the next frame so the long-run rate is exact. */
static uint64_t serialize_ns(wire_chan *c, uint32_t len)
{
    uint64_t bits_ns = (uint64_t)len * 8u * OASIS_NS_PER_SEC + c->carry;
    c->carry = bits_ns % c->cfg.rate_bps;
    return bits_ns / c->cfg.rate_bps;
}

static int bq_push(wire_chan *c, uint64_t fin, uint32_t len)
{
    if (c->qlen == c->qcap) {
        uint32_t cap = c->qcap ? c->qcap * 2 : 16;
        bq_slot *q = malloc(cap * sizeof *q);
        if (!q)
            return OASIS_ENOMEM;
        for (uint32_t i = 0; i < c->qlen; i++)
            q[i] = c->q[(c->qhead + i) % c->qcap];
        free(c->q);
        c->q = q;
        c->qcap = cap;
        c->qhead = 0;
    }
    c->q[(c->qhead + c->qlen) % c->qcap] = (bq_slot){fin, len};
    c->qlen++;
    c->qbytes += len;
    return OASIS_OK;
}

/* Frames in the bottleneck (waiting or in transmission) at time now. */
static uint32_t bottleneck_depth(wire_chan *c, uint64_t now)
{
    while (c->qlen && c->q[c->qhead].fin <= now) {
        c->qbytes -= c->q[c->qhead].len;
        c->qhead = (c->qhead + 1) % c->qcap;
        c->qlen--;
    }
    return c->qlen;
}

/* Puts a frame of len bytes into the bottleneck at time now. Returns 1 and
 * the time its last bit leaves in *fin, or 0 when the queue is full. */
static int bottleneck_admit(oasis_wire *w, wire_chan *c, uint64_t now, uint32_t len,
                            uint64_t *fin)
{
    bottleneck_depth(c, now);
    uint32_t max_frames = c->cfg.queue_frames;
    if (max_frames == 0 && c->cfg.queue_bytes == 0)
        max_frames = w->cfg.queue_frames;
    if (max_frames && c->qlen >= max_frames)
        return 0;
    if (c->cfg.queue_bytes && c->qbytes + len > c->cfg.queue_bytes)
        return 0;
    uint64_t start = c->busy_until > now ? c->busy_until : now;
    uint64_t end = start + serialize_ns(c, len);
    if (bq_push(c, end, len) != OASIS_OK)
        return 0;
    c->busy_until = end;
    *fin = end;
    return 1;
}

/* ---- congestion marking (wire.h): an ECN-capable AQM ------------------------ */

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd

/* The ECN field of an IP frame (RFC 3168 5), or -1 when it has none. */
static int frame_ecn(const uint8_t *data, uint32_t len)
{
    if (len < ETH_HDR + 2)
        return -1;
    uint16_t type = (uint16_t)(data[12] << 8 | data[13]);
    const uint8_t *ip = data + ETH_HDR;
    if (type == ETH_IPV4 && (ip[0] >> 4) == 4 && len >= ETH_HDR + 20)
        return ip[1] & 3;
    if (type == ETH_IPV6 && (ip[0] >> 4) == 6 && len >= ETH_HDR + 40)
        return (ip[1] >> 4) & 3;
    return -1;
}

/* Sets CE in a frame frame_ecn() found ECN-capable. */
static void frame_set_ce(uint8_t *data)
{
    uint8_t *ip = data + ETH_HDR;
    if ((ip[0] >> 4) == 6) {
        ip[1] |= 0x30; /* the traffic class straddles bytes 0 and 1 */
        return;
    }
    ip[1] |= 3;
    uint32_t ihl = (uint32_t)(ip[0] & 15) * 4;
    memset(ip + 10, 0, 2);
    uint16_t sum = oasis_csum_fold(oasis_csum_add(0, ip, ihl));
    memcpy(ip + 10, &sum, 2);
}

/* Is the frame congested as it arrives at time now? (Random draws only
 * when ce_mark is set: other configurations keep their streams.) */
static int chan_congested(wire_chan *c, uint64_t now)
{
    if (c->cfg.ce_queue_frames && c->cfg.rate_bps &&
        bottleneck_depth(c, now) >= c->cfg.ce_queue_frames)
        return 1;
    return chance(c, c->cfg.ce_mark);
}

/* Loss stages (random, then burst) for a frame leaving at t. Returns 1
 * when the frame is lost. */
static int chan_loses(wire_chan *c, uint64_t t)
{
    int r = oasis_impair_loses(&c->im, &c->cfg, t);
    c->st.dropped_loss += r == OASIS_IMPAIR_LOST;
    c->st.dropped_burst += r == OASIS_IMPAIR_BURST;
    return r != OASIS_IMPAIR_KEPT;
}

static wire_frame *frame_copy(oasis_wire *w, wire_chan *c, const uint8_t *data, uint32_t len)
{
    if (queued(w) >= w->cfg.queue_frames) {
        c->st.dropped_full++;
        w->drops++;
        return NULL;
    }
    wire_frame *f = frame_get(w, len);
    if (!f) {
        c->st.dropped_full++;
        w->drops++;
        return NULL;
    }
    f->len = len;
    f->has_off = 0;
    memcpy(f->data, data, len);
    return f;
}

/* Queues f for delivery; an allocation failure counts as a full wire. */
static int chan_push(oasis_wire *w, wire_chan *c, wire_frame *f)
{
    if (queue_push(w, f) == OASIS_OK) {
        c->queued++;
        c->queued_bytes += f->len;
        return 1;
    }
    free(f);
    c->st.dropped_full++;
    w->drops++;
    return 0;
}

/* Delivery time after delay and jitter, never before the previous frame. */
static uint64_t chan_due(oasis_wire *w, wire_chan *c, uint64_t t)
{
    uint64_t due = t + w->cfg.delay_ns + c->cfg.delay_ns;
    if (c->cfg.jitter_ns)
        due += oasis_prng_below(&c->im.prng, c->cfg.jitter_ns + 1);
    if (due < c->last_due)
        due = c->last_due;
    c->last_due = due;
    return due;
}

static void observe(oasis_wire *w, uint32_t src, uint32_t dst, const uint8_t *data,
                    uint32_t len, int intact, uint64_t sent, uint64_t due)
{
    if (!w->observer)
        return;
    /* Inside the sender's send: destroying that stack from the observer is
     * refused (its send goes on when this returns). */
    oasis_stack *s = w->ports[src]->stack;
    if (s)
        oasis_app_enter(s);
    w->busy++;
    w->observer(w->observer_ud, &w->ports[src]->link, &w->ports[dst]->link, data, len, intact,
                sent, intact ? due : 0);
    w->busy--;
    if (s)
        oasis_app_leave(s);
}

/* chan_send_off's stages for a channel that only delays (chan_plain): the
 * copy, the delivery time, the queue. */
static void chan_send_plain(oasis_wire *w, wire_chan *c, uint32_t src, uint32_t dst,
                            const uint8_t *data, uint32_t len, const oasis_offload *off,
                            uint64_t t)
{
    wire_frame *f = frame_copy(w, c, data, len);
    if (!f) {
        observe(w, src, dst, data, len, 0, t, 0);
        return;
    }
    f->src = src;
    f->dst = dst;
    if (off) {
        f->has_off = 1;
        f->off = *off;
    }
    f->due = chan_due(w, c, t);
    uint64_t due = f->due;
    int pushed = chan_push(w, c, f);
    observe(w, src, dst, data, len, pushed, t, due);
}

/* Every stage, in order: marking, the bottleneck, loss, corruption, the
 * delivery time, reordering, duplication. */
static OASIS_NOINLINE void chan_send_impaired(oasis_wire *w, wire_chan *c, uint32_t src, uint32_t dst,
                               const uint8_t *data, uint32_t len, const oasis_offload *off,
                               uint64_t t)
{
    const uint64_t sent = t;

    int mark = 0;
    if (c->cfg.ce_mark > 0 || c->cfg.ce_queue_frames) {
        int ecn = frame_ecn(data, len);
        if (ecn >= 0 && chan_congested(c, t)) {
            if (ecn == 0) {
                c->st.dropped_mark++; /* Not-ECT: the router drops it */
                observe(w, src, dst, data, len, 0, sent, 0);
                return;
            }
            mark = ecn != 3;
        }
    }
    if (c->cfg.rate_bps && !bottleneck_admit(w, c, t, len, &t)) {
        c->st.dropped_queue++;
        observe(w, src, dst, data, len, 0, sent, 0);
        return;
    }
    wire_frame *f = chan_loses(c, t) ? NULL : frame_copy(w, c, data, len);
    if (!f) {
        observe(w, src, dst, data, len, 0, sent, 0);
        return;
    }
    f->src = src;
    f->dst = dst;
    if (off) {
        f->has_off = 1;
        f->off = *off;
    }
    if (mark) {
        frame_set_ce(f->data);
        c->st.ce_marked++;
    }
    int intact = 1;
    if (chance(c, c->cfg.corrupt) && oasis_impair_corruptible(data, len)) {
        oasis_impair_flip(&c->im, f->data, len);
        c->st.corrupted++;
        intact = 0;
    }
    f->due = chan_due(w, c, t);
    if (chance(c, c->cfg.reorder)) {
        uint64_t hold = c->cfg.reorder_delay_ns ? c->cfg.reorder_delay_ns
                                                : REORDER_DELAY_DEFAULT_NS;
        f->due += hold;
        c->st.reordered++;
    }
    int dup = chance(c, c->cfg.duplicate);
    uint64_t due = f->due;
    int pushed = chan_push(w, c, f);
    observe(w, src, dst, data, len, pushed && intact, sent, due);
    if (!pushed || !dup)
        return;
    c->st.duplicated++;
    wire_frame *d = frame_copy(w, c, f->data, len);
    if (!d)
        return;
    d->src = src;
    d->dst = dst;
    d->due = f->due;
    d->has_off = f->has_off;
    d->off = f->off;
    chan_push(w, c, d);
}

static OASIS_NOINLINE void chan_send_staged(oasis_wire *w, wire_chan *c, uint32_t src,
                                            uint32_t dst, const uint8_t *data, uint32_t len,
                                            const oasis_offload *off, uint64_t t)
{
    if (c->plain)
        chan_send_plain(w, c, src, dst, data, len, off, t);
    else
        chan_send_impaired(w, c, src, dst, data, len, off, t);
}

/* A frame from port src to port dst: its common case (a fixed-delay
 * channel, a recycled buffer, room on the wire, due no earlier than the
 * FIFO's last frame) is chan_send_plain's result without its stages.
 * chan_fast_due says whether it applies (having changed nothing) and when
 * the frame is due; chan_queue_fast then puts a buffer taken off the
 * freelist on the FIFO. c: src's channel to dst. observed: the caller
 * tells an observer what chan_send_plain would have (fast_observe), as a
 * loan's commit does, so the simulator's checker sees lent frames too;
 * the copying case leaves an observed frame to the stages (testing for
 * the observer after the copy costs port_send registers). */
static OASIS_ALWAYS_INLINE int chan_fast_due(oasis_wire *w, wire_chan *c, uint32_t len,
                                             int observed, uint64_t *due)
{
    if (!w->now_cached && !oasis_clock_is_virtual(w->clock))
        return 0; /* (reading the time would be a call) */
    uint64_t t = w->now_cached ? w->now : oasis_clock_now(w->clock);
    uint64_t d = t + c->delay; /* chan_due without jitter */
    if (d < c->last_due)
        d = c->last_due;
    /* (fast_max: the room queue_push and frame_copy would find) */
    if (!(observed ? c->fixed : c->fast) || len > WIRE_FRAME_CAP || w->flen >= w->fast_max ||
        (w->flen && d < w->ftail_due))
        return 0;
    *due = d;
    return 1;
}

static OASIS_ALWAYS_INLINE void chan_queue_fast(oasis_wire *w, wire_chan *c, uint32_t src,
                                                uint32_t dst, wire_frame *f, uint32_t len,
                                                uint64_t due, int mac_ok)
{
    c->fast_sent++;
    c->fast_bytes += len;
    c->last_due = due;
    f->due = due;
    f->src = src;
    f->dst = dst;
    f->len = len;
    f->has_off = mac_ok ? WIRE_MAC_OK : 0;
    fifo_put(w, f); /* (chan_fast_due checked the room) */
}

/* The observer's word on a frame chan_queue_fast queued (the send time
 * read again as chan_fast_due read it: a cached or virtual time, which
 * nothing moved since). Out of line and last (a tail call): its caller
 * then saves no registers for it. */
static OASIS_NOINLINE int fast_observe(oasis_wire *w, const wire_frame *f)
{
    observe(w, f->src, f->dst, f->data, f->len, 1,
            w->now_cached ? w->now : oasis_clock_now(w->clock), f->due);
    return OASIS_OK;
}

/* The common case with a copy of data, which comes last so that nothing
 * waits for it; 0 when it does not apply, having changed nothing (in
 * port_send nothing is then live across the copy, and its other path is a
 * tail call: few registers to save). */
static OASIS_ALWAYS_INLINE int chan_send_fast(oasis_wire *w, wire_chan *c, uint32_t src,
                                              uint32_t dst, const uint8_t *data, uint32_t len,
                                              int mac_ok)
{
    wire_frame *f = w->freelist;
    uint64_t due;
    if (!f || !chan_fast_due(w, c, len, 0, &due))
        return 0;
    w->freelist = f->next;
    w->nfree--;
    chan_queue_fast(w, c, src, dst, f, len, due, mac_ok);
    memcpy(f->data, data, len);
    return 1;
}

/* A frame with or without offloads from port src to port dst: the common
 * case, else every stage. */
static void chan_send_off(oasis_wire *w, uint32_t src, uint32_t dst, const uint8_t *data,
                          uint32_t len, const oasis_offload *off)
{
    wire_chan *c = &w->ports[src]->out[dst];
    if (!off && chan_send_fast(w, c, src, dst, data, len, 0))
        return;
    c->st.sent++;
    c->st.bytes_sent += len;
    chan_send_staged(w, c, src, dst, data, len, off,
                     w->now_cached ? w->now : oasis_clock_now(w->clock));
}

static void chan_send(oasis_wire *w, uint32_t src, uint32_t dst, const uint8_t *data,
                      uint32_t len)
{
    chan_send_off(w, src, dst, data, len, NULL);
}

typedef struct piece_ctx {
    oasis_wire *w;
    uint32_t src, dst;
} piece_ctx;

static int piece_send(void *ud, uint8_t *frame, size_t len)
{
    piece_ctx *pc = ud;
    chan_send(pc->w, pc->src, pc->dst, frame, (uint32_t)len);
    return OASIS_OK;
}

/* Whatever acts on single frames: a bottleneck, loss, corruption,
 * reordering, duplication (delay and jitter move a super-segment whole). */
static int chan_impaired(const wire_chan *c)
{
    const oasis_impair *g = &c->cfg;
    return g->rate_bps || g->loss > 0 || g->ge_p_good_bad > 0 || g->corrupt > 0 ||
           g->reorder > 0 || g->duplicate > 0 || g->ce_mark > 0;
}

/* A frame with offloads for one destination: as it is to a stack over an
 * unimpaired direction, else cut into plain frames first (wire.h). */
static void chan_send_offload(oasis_wire *w, uint32_t src, uint32_t dst, const uint8_t *data,
                              uint32_t len, const oasis_offload *off)
{
    if (w->ports[dst]->stack && !chan_impaired(&w->ports[src]->out[dst])) {
        chan_send_off(w, src, dst, data, len, off);
        return;
    }
    if (!w->scratch && !(w->scratch = malloc(OASIS_GSO_SCRATCH)))
        return; /* lost, like a frame on a full wire */
    piece_ctx pc = {w, src, dst};
    oasis_gso_segment((uint8_t *)data, len, off, w->scratch, OASIS_GSO_SCRATCH, piece_send, &pc,
                      NULL);
}

/* ---- ports --------------------------------------------------------------- */

static const uint8_t *port_mac(const wire_port *p)
{
    return p->stack ? p->stack->mac : p->mac; /* (oasis_stack_mac, inline) */
}

/* The first port but p that owns the MAC a unicast frame is for, or
 * UINT32_MAX (broadcast, multicast, a MAC no port owns); remembered in p. */
static OASIS_NOINLINE uint32_t unicast_lookup(const oasis_wire *w, wire_port *p,
                                              const uint8_t *frame)
{
    if (frame[0] & 1)
        return UINT32_MAX;
    for (uint32_t i = 0; i < w->nports; i++) {
        if (i != p->index && memcmp(port_mac(w->ports[i]), frame, 6) == 0) {
            p->memo_dst = i;
            memcpy(p->memo_mac, frame, 6);
            return i;
        }
    }
    return UINT32_MAX;
}

static void memo_forget(oasis_wire *w)
{
    for (uint32_t i = 0; i < w->nports; i++) {
        memset(w->ports[i]->memo_mac, 0xff, 6);
        w->ports[i]->memo_dst = UINT32_MAX;
    }
}

static OASIS_NOINLINE void port_flood(oasis_wire *w, const wire_port *p, const uint8_t *frame,
                                      uint32_t len)
{
    for (uint32_t i = 0; i < w->nports; i++)
        if (i != p->index)
            chan_send(w, p->index, i, frame, len);
}

/* The frame's destination MAC is the memo's: two compares (memcmp's
 * result would be kept in a register across the copy). */
static int memo_hit(const wire_port *p, const uint8_t *frame)
{
    uint32_t a, b;
    uint16_t c, d;
    memcpy(&a, frame, 4);
    memcpy(&b, p->memo_mac, 4);
    memcpy(&c, frame + 4, 2);
    memcpy(&d, p->memo_mac + 4, 2);
    return a == b && c == d;
}

/* Switch semantics: unicast goes to the port that owns the MAC, broadcast,
 * multicast and unknown unicast to every other port. */
static OASIS_NOINLINE int port_send_any(oasis_wire *w, wire_port *p, const uint8_t *frame,
                                        uint32_t len)
{
    uint32_t d = memo_hit(p, frame) ? p->memo_dst : unicast_lookup(w, p, frame);
    if (d != UINT32_MAX)
        chan_send_off(w, p->index, d, frame, len, NULL);
    else
        port_flood(w, p, frame, len);
    return OASIS_OK; /* a lossy or full wire loses frames; not the sender's error */
}

/* The frame of a flow, which goes where the last did (the memo), by the
 * channel's common case; any other by port_send_any. */
OASIS_HOT static int port_send(oasis_link *link, const uint8_t *frame, size_t len)
{
    wire_port *p = (wire_port *)link;
    oasis_wire *w = p->wire;

    if (len - ETH_HDR > (size_t)w->cfg.mtu) /* (below ETH_HDR, it wraps) */
        return OASIS_EMSGSIZE;
    if (!memo_hit(p, frame) || p->memo_dst == UINT32_MAX ||
        !chan_send_fast(w, &p->out[p->memo_dst], p->index, p->memo_dst, frame, (uint32_t)len,
                        1))
        return port_send_any(w, p, frame, (uint32_t)len);
    return OASIS_OK;
}

/* Frame lending (link.h): the next recycled buffer, lent when the frame
 * would take port_send's common case if it went where the last did (the
 * memo). What the port's configuration decides is checked here; the rest
 * (the frame's destination, the time, the queue) by port_commit, which
 * then queues the lent buffer instead of a copy, or copies it as send. */
OASIS_HOT static uint8_t *port_lend(oasis_link *link, size_t len)
{
    wire_port *p = (wire_port *)link;
    oasis_wire *w = p->wire;
    wire_frame *f = w->freelist;
    if (p->lent || !f || len - ETH_HDR > WIRE_FRAME_CAP - ETH_HDR ||
        p->memo_dst == UINT32_MAX || !p->out[p->memo_dst].fixed ||
        (!w->now_cached && !oasis_clock_is_virtual(w->clock)))
        return NULL;
    w->freelist = f->next;
    w->nfree--;
    f->len = (uint32_t)len; /* the loan's size, until the commit */
    p->lent = f;
    return f->data;
}

/* A commit that is not the common case: what port_send does with the
 * frame (it copies it), or nothing (len 0, or more than was lent); the
 * buffer goes back to the freelist. */
static OASIS_NOINLINE int commit_other(oasis_wire *w, wire_port *p, wire_frame *f, size_t len)
{
    int err = len > f->len ? OASIS_EINVAL : len ? port_send(&p->link, f->data, len) : OASIS_OK;
    frame_release(w, f);
    return err;
}

/* Ends the loan: a frame for the memo's port by the channel's common case
 * is the lent buffer itself, queued as port_send would have queued its
 * copy (same statistics, delivery time and order). */
OASIS_HOT static int port_commit(oasis_link *link, uint8_t *buf, size_t len)
{
    wire_port *p = (wire_port *)link;
    oasis_wire *w = p->wire;
    wire_frame *f = p->lent;
    uint64_t due;
    if (!f || buf != f->data)
        return OASIS_EINVAL;
    p->lent = NULL;
    /* (ETH_HDR <= len <= the lent size, which port_lend checked) */
    if (len - ETH_HDR > f->len - ETH_HDR || !memo_hit(p, buf) || p->memo_dst == UINT32_MAX ||
        !chan_fast_due(w, &p->out[p->memo_dst], (uint32_t)len, 1, &due))
        return commit_other(w, p, f, len);
    chan_queue_fast(w, &p->out[p->memo_dst], p->index, p->memo_dst, f, (uint32_t)len, due, 1);
    if (w->observer)
        return fast_observe(w, f);
    return OASIS_OK;
}

static int port_send_offload(oasis_link *link, const uint8_t *frame, size_t len,
                             const oasis_offload *off)
{
    wire_port *p = (wire_port *)link;
    oasis_wire *w = p->wire;

    if (len < ETH_HDR || len > OASIS_GSO_MAX + ETH_HDR ||
        (!(off->gso_type & ~OASIS_GSO_ECN) && len > (size_t)w->cfg.mtu + ETH_HDR))
        return OASIS_EMSGSIZE;
    if (!(frame[0] & 1)) {
        for (uint32_t i = 0; i < w->nports; i++) {
            if (i != p->index && memcmp(port_mac(w->ports[i]), frame, 6) == 0) {
                chan_send_offload(w, p->index, i, frame, (uint32_t)len, off);
                return OASIS_OK;
            }
        }
    }
    for (uint32_t i = 0; i < w->nports; i++)
        if (i != p->index)
            chan_send_offload(w, p->index, i, frame, (uint32_t)len, off);
    return OASIS_OK;
}

/* Grows every port's channel array by one (for the new port at index n) and
 * creates the new port with n+1 channels. All or nothing. */
static wire_port *port_add(oasis_wire *w)
{
    uint32_t n = w->nports;
    wire_port **ports = realloc(w->ports, (n + 1) * sizeof *ports);
    if (!ports)
        return NULL;
    w->ports = ports;
    oasis_stack **clocked = realloc(w->clocked, (n + 1) * sizeof *clocked);
    if (!clocked)
        return NULL;
    w->clocked = clocked;
    clocked[n] = NULL;
    wire_port *p = calloc(1, sizeof *p);
    wire_chan *out = calloc(n + 1, sizeof *out);
    if (!p || !out) {
        free(p);
        free(out);
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++) {
        wire_chan *o = realloc(w->ports[i]->out, (n + 1) * sizeof *o);
        if (!o) {
            free(p);
            free(out);
            return NULL; /* arrays already grown stay usable: only sizes differ */
        }
        w->ports[i]->out = o;
    }
    oasis_impair none;
    oasis_impair_init(&none);
    for (uint32_t i = 0; i < n; i++) {
        chan_init(w, &w->ports[i]->out[n], i, n, &w->ports[i]->out_default);
        chan_init(w, &out[i], n, i, &none);
    }
    chan_init(w, &out[n], n, n, &none); /* never used: no port sends to itself */
    p->out = out;
    p->link.send = port_send;
    p->link.tx_lend = port_lend;
    p->link.tx_commit = port_commit;
    p->link.mtu = w->cfg.mtu;
    p->link.data = p;
    if (w->cfg.offload) {
        p->link.send_offload = port_send_offload;
        p->link.caps = OASIS_LINK_TSO4 | OASIS_LINK_TSO6 | OASIS_LINK_CSUM_TX |
                       OASIS_LINK_RX_GRO | OASIS_LINK_RX_CSUM;
        p->link.gso_max = OASIS_GSO_MAX;
    }
    p->wire = w;
    p->index = n;
    w->ports[w->nports++] = p;
    memo_forget(w);
    return p;
}

oasis_link *oasis_wire_attach(oasis_wire *w, oasis_stack *s)
{
    if (!w || !s)
        return NULL;
    /* A second port would outlive detach (it finds the first) and be
     * polled after the stack is destroyed; so would a port on another
     * wire, which goes on delivering to s while s sends here. */
    for (uint32_t i = 0; i < w->nports; i++)
        if (w->ports[i]->stack == s)
            return NULL;
    const oasis_link *cur = oasis_stack_link(s);
    if (cur && cur->send == port_send)
        return NULL;
    wire_port *p = port_add(w);
    if (!p)
        return NULL;
    p->stack = s;
    p->on_wire_clock = s->clock == w->clock; /* a stack's clock is its creation's */
    w->clocked[p->index] = p->on_wire_clock ? s : NULL;
    s->wire = w; /* oasis_stack_destroy detaches it */
    oasis_stack_set_link(s, &p->link);
    return &p->link;
}

int oasis_wire_detach(oasis_wire *w, oasis_stack *s)
{
    if (!w || !s)
        return OASIS_EINVAL;
    for (uint32_t i = 0; i < w->nports; i++) {
        wire_port *p = w->ports[i];
        if (p->stack != s)
            continue;
        /* The port stays (indices name channels) but is dead: no MAC
         * matches it and nothing is delivered to it. */
        p->stack = NULL;
        s->wire = NULL;
        p->on_wire_clock = 0;
        w->clocked[i] = NULL;
        p->rx = NULL;
        memset(p->mac, 0, sizeof p->mac);
        memo_forget(w);
        if (oasis_stack_link(s) == &p->link)
            oasis_stack_set_link(s, NULL);
        return OASIS_OK;
    }
    return OASIS_ENOENT;
}

oasis_link *oasis_wire_attach_endpoint(oasis_wire *w, const uint8_t mac[6], oasis_wire_rx_fn rx,
                                       void *ud)
{
    if (!w || !mac || !rx)
        return NULL;
    wire_port *p = port_add(w);
    if (!p)
        return NULL;
    memcpy(p->mac, mac, 6);
    p->rx = rx;
    p->rx_ud = ud;
    return &p->link;
}

/* ---- impairment config and stats --------------------------------------- */

static wire_port *port_of(const oasis_wire *w, const oasis_link *l)
{
    for (uint32_t i = 0; i < w->nports; i++)
        if (&w->ports[i]->link == l)
            return w->ports[i];
    return NULL;
}

static int prob_ok(double p) { return p >= 0 && p <= 1; } /* false for NaN */

static int impair_valid(const oasis_impair *g)
{
    return prob_ok(g->loss) && prob_ok(g->ge_p_good_bad) && prob_ok(g->ge_p_bad_good) &&
           prob_ok(g->ge_loss_good) && prob_ok(g->ge_loss_bad) && prob_ok(g->corrupt) &&
           prob_ok(g->reorder) && prob_ok(g->duplicate) && prob_ok(g->ce_mark);
}

/* New settings; the random stream, burst state and queue carry on. */
static void chan_configure(const oasis_wire *w, wire_chan *c, const oasis_impair *cfg)
{
    c->cfg = *cfg;
    chan_modes(w, c);
    c->carry = 0; /* a remainder of the old rate means nothing at the new one */
}

int oasis_wire_impair(oasis_wire *w, const oasis_link *from, const oasis_link *to,
                      const oasis_impair *cfg)
{
    oasis_impair none;
    oasis_impair_init(&none);
    if (!cfg)
        cfg = &none;
    if (!w || !impair_valid(cfg))
        return OASIS_EINVAL;
    oasis_impair cut = *cfg;
    cut.delay_ns = delay_cut(cut.delay_ns);
    cut.jitter_ns = delay_cut(cut.jitter_ns);
    cut.reorder_delay_ns = delay_cut(cut.reorder_delay_ns);
    cfg = &cut;
    wire_port *src = port_of(w, from);
    if (!src)
        return OASIS_EINVAL;
    if (to) {
        wire_port *dst = port_of(w, to);
        if (!dst || dst == src)
            return OASIS_EINVAL;
        chan_configure(w, &src->out[dst->index], cfg);
        return OASIS_OK;
    }
    src->out_default = *cfg;
    for (uint32_t i = 0; i < w->nports; i++)
        chan_configure(w, &src->out[i], cfg);
    return OASIS_OK;
}

static void stats_add(oasis_wire_stats *a, const oasis_wire_stats *b)
{
    a->sent += b->sent;
    a->bytes_sent += b->bytes_sent;
    a->delivered += b->delivered;
    a->bytes_delivered += b->bytes_delivered;
    a->dropped_loss += b->dropped_loss;
    a->dropped_burst += b->dropped_burst;
    a->dropped_queue += b->dropped_queue;
    a->dropped_full += b->dropped_full;
    a->corrupted += b->corrupted;
    a->reordered += b->reordered;
    a->duplicated += b->duplicated;
    a->ce_marked += b->ce_marked;
    a->dropped_mark += b->dropped_mark;
}

int oasis_wire_stats_get(const oasis_wire *w, const oasis_link *from, const oasis_link *to,
                         oasis_wire_stats *out)
{
    if (!w || !out)
        return OASIS_EINVAL;
    const wire_port *src = from ? port_of(w, from) : NULL;
    const wire_port *dst = to ? port_of(w, to) : NULL;
    if ((from && !src) || (to && !dst))
        return OASIS_EINVAL;
    memset(out, 0, sizeof *out);
    for (uint32_t i = 0; i < w->nports; i++) {
        if (src && src->index != i)
            continue;
        for (uint32_t j = 0; j < w->nports; j++) {
            if (dst && dst->index != j)
                continue;
            const wire_chan *c = &w->ports[i]->out[j];
            oasis_wire_stats st = c->st;
            st.sent += c->fast_sent;
            st.bytes_sent += c->fast_bytes;
            st.delivered = c->queued + c->fast_sent; /* less those in flight, below */
            st.bytes_delivered = c->queued_bytes + c->fast_bytes;
            stats_add(out, &st);
        }
    }
    for (uint32_t k = 0; k < w->flen + w->hlen; k++) {
        const wire_frame *f = k < w->flen ? w->fifo[(w->fhead + k) & (w->fcap - 1)]
                                          : w->heap[k - w->flen];
        if ((!src || f->src == src->index) && (!dst || f->dst == dst->index)) {
            out->delivered--;
            out->bytes_delivered -= f->len;
        }
    }
    return OASIS_OK;
}

uint64_t oasis_wire_drops(const oasis_wire *w) { return w ? w->drops : 0; }

void oasis_wire_observe(oasis_wire *w, oasis_wire_observer fn, void *ud)
{
    if (!w)
        return;
    w->observer = fn;
    w->observer_ud = fn ? ud : NULL;
    for (uint32_t i = 0; i < w->nports; i++)
        for (uint32_t j = 0; j < w->nports; j++)
            chan_modes(w, &w->ports[i]->out[j]);
}

/* ---- running ------------------------------------------------------------- */

/* deliver's other cases: offloads, a stack read off the clock itself (a
 * virtual clock, or not the wire's), a frame that did not go by a memo, an
 * endpoint, a detached port. */
static OASIS_NOINLINE void deliver_other(oasis_wire *w, const wire_port *p, const wire_frame *f)
{
    oasis_stack *s = p->stack;
    if (s && f->has_off == 1) {
        oasis_stack_input_offload(s, f->data, f->len, &f->off);
    } else if (s) {
        /* (oasis_stack_input's time when not the step's) */
        uint64_t now = w->now_cached && p->on_wire_clock ? w->now
                       : s->now_depth                    ? s->now_cache
                                                         : oasis_clock_now(s->clock);
        if (f->has_off == WIRE_MAC_OK)
            oasis_stack_input_unicast_at(s, f->data, f->len, now);
        else
            oasis_stack_input_at(s, f->data, f->len, now);
    } else if (p->rx)
        p->rx(p->rx_ud, f->data, f->len);
    /* else: a detached port; the frame falls on the floor */
}

/* cache: the step's copy for a real clock (w->now_cached set). */
static OASIS_ALWAYS_INLINE void deliver(oasis_wire *w, const wire_frame *f, int cache)
{
    oasis_stack *s = cache ? w->clocked[f->dst] : NULL;
    if (s && f->has_off == WIRE_MAC_OK)
        oasis_stack_input_unicast_at(s, f->data, f->len, w->now);
    else
        deliver_other(w, w->ports[f->dst], f);
}

/* Rounds of (deliver due frames, poll stacks) per step. Bounded so that a
 * steady stream (always something due on a real clock) still returns to
 * oasis_wire_run's done() check. */
#define WIRE_STEP_ROUNDS 64
/* Frames delivered on a real clock before the step reads it again. */
#define WIRE_READ_FRAMES 16

/* Delivers the frames due at now. With a cached send time, frames sent
 * during this round are due at `now` too: they wait for the next round
 * (seq >= limit), as they did when each send read a later clock. */
static OASIS_ALWAYS_INLINE size_t deliver_due(oasis_wire *w, uint64_t now, int cache)
{
    size_t n = 0;
    uint64_t limit = cache ? w->next_seq : UINT64_MAX;
    for (;;) {
        /* queue_first, and the pop from where it found the frame; an empty
         * heap (every frame of a fixed-delay wire) leaves the FIFO alone */
        wire_frame *f;
        if (!w->hlen) {
            if (!w->flen)
                return n;
            f = w->fifo[w->fhead];
            if (f->due > now || f->seq >= limit)
                return n;
            w->fhead = (w->fhead + 1) & (w->fcap - 1);
            w->flen--;
        } else {
            f = w->flen ? w->fifo[w->fhead] : NULL;
            int fifo = f && !frame_before(w->heap[0], f);
            if (!fifo)
                f = w->heap[0];
            if (f->due > now || f->seq >= limit)
                return n;
            if (fifo) {
                w->fhead = (w->fhead + 1) & (w->fcap - 1);
                w->flen--;
            } else {
                heap_pop(w);
            }
        }
        deliver(w, f, cache);
        frame_release(w, f);
        n++;
    }
}

/* oasis_wire_step in two copies, cache a constant in each: a real clock's
 * (cached instants) and a virtual one's. */
static OASIS_ALWAYS_INLINE size_t step(oasis_wire *w, int cache)
{
    size_t total = 0, n;
    int rounds = 0;
    /* A real clock is read at the step's start and then only after
     * WIRE_READ_FRAMES deliveries (a read costs ~25 ns, a tenth of a small
     * request/response, whose rounds carry a frame each), so an instant
     * stands for little work: a deadline set late in a long one would fire
     * early by the time it took (TLP, RACK). A frame sent in a round waits
     * for the next by its seq (deliver_due). A virtual clock is read at
     * every round: tests may move it from a callback. */
    uint64_t now = oasis_clock_now(w->clock);
    size_t frames = 0; /* delivered since the last read */
    w->now_cached = cache;
    for (;;) {
        w->now = now;
        n = deliver_due(w, now, cache);
        frames += n;
        for (uint32_t i = 0; i < w->nports; i++) {
            oasis_stack *s = cache ? w->clocked[i] : NULL;
            if (s)
                n += (size_t)oasis_stack_poll_at(s, now);
            else if (w->ports[i]->stack)
                n += (size_t)oasis_stack_poll(w->ports[i]->stack);
        }
        total += n;
        if (!n || ++rounds == WIRE_STEP_ROUNDS)
            break;
        if (!cache || frames >= WIRE_READ_FRAMES) {
            now = oasis_clock_now(w->clock);
            frames = 0;
        }
    }
    w->now_cached = 0;
    return total;
}

OASIS_HOT size_t oasis_wire_step(oasis_wire *w)
{
    if (!w)
        return 0;
    w->busy++;
    size_t n = oasis_clock_is_virtual(w->clock) ? step(w, 0) : step(w, 1);
    w->busy--;
    return n;
}

/* The earliest event at or after t: a frame in flight or a stack's
 * deadline. Only the first frame counts: when t is past it, a step has
 * yet to deliver it. */
static uint64_t next_from(const oasis_wire *w, uint64_t t)
{
    const wire_frame *first = queue_first(w);
    uint64_t next = first && first->due >= t ? first->due : UINT64_MAX;
    for (uint32_t i = 0; i < w->nports; i++) {
        if (!w->ports[i]->stack)
            continue;
        uint64_t d = oasis_stack_next_deadline(w->ports[i]->stack);
        if (d >= t && d < next)
            next = d;
    }
    return next;
}

uint64_t oasis_wire_next_deadline(const oasis_wire *w) { return w ? next_from(w, 0) : UINT64_MAX; }

static void sleep_until(const oasis_clock *c, uint64_t t)
{
    uint64_t now = oasis_clock_now(c);
    if (t <= now)
        return;
    uint64_t d = t - now;
    struct timespec ts = {(time_t)(d / OASIS_NS_PER_SEC), (long)(d % OASIS_NS_PER_SEC)};
    nanosleep(&ts, NULL);
}

/* A virtual clock at `now` with an event due that a step did not run: a
 * stack on a clock of its own that lags the wire's (one that rounds it
 * down to a tick) set that deadline in its time, so it is past for the wire
 * but not yet due for the stack, and the clock never goes back. Steps once
 * more at now (done() may have queued work), then moves on by 1 ns, 2, 4
 * ... until something runs, never past the next event after now. *nudge:
 * the next move (0: none yet). */
static OASIS_COLD uint64_t unstick(const oasis_wire *w, uint64_t now, uint64_t *nudge)
{
    uint64_t t = now;
    if (*nudge) {
        t = *nudge > UINT64_MAX - now ? UINT64_MAX : now + *nudge;
        uint64_t ev = next_from(w, now + 1);
        if (ev < t)
            t = ev;
    }
    if (*nudge < UINT64_MAX / 2)
        *nudge = *nudge ? *nudge * 2 : 1;
    return t;
}

static int run(oasis_wire *w, int (*done)(void *ud), void *ud, uint64_t timeout_ns);

int oasis_wire_run(oasis_wire *w, int (*done)(void *ud), void *ud, uint64_t timeout_ns)
{
    if (!w)
        return OASIS_EINVAL;
    w->busy++; /* done() runs between steps */
    int rc = run(w, done, ud, timeout_ns);
    w->busy--;
    return rc;
}

static int run(oasis_wire *w, int (*done)(void *ud), void *ud, uint64_t timeout_ns)
{
    uint64_t start = oasis_clock_now(w->clock);
    uint64_t end = timeout_ns > UINT64_MAX - start ? UINT64_MAX : start + timeout_ns;
    int virt = oasis_clock_is_virtual(w->clock);
    uint64_t nudge = 0;

    for (;;) {
        size_t n = oasis_wire_step(w);
        if (done && done(ud))
            return OASIS_OK;
        uint64_t next = oasis_wire_next_deadline(w);
        if (next == UINT64_MAX)
            return OASIS_EAGAIN;
        /* A real clock: the step's instant (w->now), read again only to
         * sleep; the timeout may be noticed one step late. */
        uint64_t now = virt ? oasis_clock_now(w->clock) : w->now;
        if (now >= end)
            return OASIS_ETIMEDOUT;
        if (virt && !n && next <= now)
            next = unstick(w, now, &nudge);
        else
            nudge = 0;
        if (next > end)
            next = end;
        if (virt)
            oasis_clock_set(w->clock, next);
        else if (next > now)
            sleep_until(w->clock, next);
    }
}
