/* Impairment filter (oasis/impair.h): a link in front of another that runs
 * every wire frame through oasis_impair's per-frame stages (impair_core.h,
 * shared with the in-memory wire). Super-segments are cut with the
 * software GSO (gso.h) first, so each frame meets the stages on its own.
 *
 * In front of an IP link (OASIS_LINK_IP: a TUN device) the filter is an
 * IP link too. The stages and the GSO read Ethernet frames, so an impaired
 * direction puts each packet behind a 14-byte header of its own (wrap:
 * offload offsets move with it) and takes it off again when the packet
 * leaves (emit), to the inner link or to oasis_stack_input_ip_offload.
 *
 * Buffers are per direction: the stack sends from inside an input (an
 * ACK), so an incoming frame being cut or corrupted must not share memory
 * with the outgoing ones; a direction never re-enters itself. */
#include "oasis/impair.h"

#include "core/stack_impl.h"
#include "link/gso.h"
#include "link/impair_core.h"
#include "oasis/error.h"
#include "oasis/stack.h"

#include <stdlib.h>
#include <string.h>

#define REORDER_GAP_DEFAULT 3u
#define REORDER_GAP_MAX 1000u

typedef struct held_frame {
    uint8_t *buf;
    size_t cap, len;
    uint32_t left; /* frames still to overtake it */
    int copies;    /* 2 when it was duplicated too */
    int has_off;
    oasis_offload off;
} held_frame;

typedef struct impair_dir {
    oasis_impair cfg;
    int active; /* any stage on: frames go one by one through the stages */
    oasis_impair_state st;
    oasis_impair_link_stats stats;
    held_frame held[OASIS_IMPAIR_HELD_MAX];
    uint8_t *scratch; /* a super-segment's frames are built here */
    uint8_t *work;    /* a copy to corrupt (the frame is borrowed) */
    uint8_t *wrap;    /* an IP link's packet behind an Ethernet header */
} impair_dir;

struct oasis_impair_link {
    oasis_link link; /* link.data points back here */
    oasis_link *inner;
    uint32_t gap;
    impair_dir dir[2];
    oasis_stack *stack; /* the stack of the input under way (IN delivery) */
    oasis_clock *clock; /* for ge_step_ns (NULL: the chain steps per frame) */
    int ip;             /* the inner link is an IP link: packets, not frames */
};

void oasis_impair_link_config_init(oasis_impair_link_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    oasis_impair_init(&cfg->out);
    oasis_impair_init(&cfg->in);
    cfg->seed = 1;
}

static int prob_ok(double p) { return p >= 0 && p <= 1; } /* false for NaN */

static int dir_valid(const oasis_impair *g)
{
    return prob_ok(g->loss) && prob_ok(g->ge_p_good_bad) && prob_ok(g->ge_p_bad_good) &&
           prob_ok(g->ge_loss_good) && prob_ok(g->ge_loss_bad) && prob_ok(g->corrupt) &&
           prob_ok(g->reorder) && prob_ok(g->duplicate) && prob_ok(g->ce_mark);
}

/* The stages that need timers, which the filter does not run; the
 * Gilbert-Elliott chain on time needs at least a clock to read. */
static int dir_timed(const oasis_impair *g, const oasis_clock *clock)
{
    return g->delay_ns || g->jitter_ns || g->rate_bps || g->queue_frames || g->queue_bytes ||
           g->reorder_delay_ns || (g->ge_step_ns && !clock) || g->ce_mark > 0 ||
           g->ce_queue_frames;
}

static int dir_active(const oasis_impair *g)
{
    return g->loss > 0 || g->ge_p_good_bad > 0 || g->corrupt > 0 || g->reorder > 0 ||
           g->duplicate > 0;
}

/* ---- an IP link's packets as frames ------------------------------------ */

#define WRAP_HLEN 14u

/* off with its offsets moved by delta bytes (those it uses). */
static oasis_offload off_moved(const oasis_offload *off, int delta)
{
    oasis_offload o = *off;
    if (o.flags & OASIS_OFFLOAD_CSUM_PARTIAL)
        o.csum_start = (uint16_t)(o.csum_start + delta);
    if (o.gso_type & ~OASIS_GSO_ECN)
        o.hdr_len = (uint16_t)(o.hdr_len + delta);
    return o;
}

/* The packet behind an Ethernet header in direction d's buffer (the type
 * from its IP version), NULL when it does not fit. */
static const uint8_t *wrap(impair_dir *dir, const uint8_t *pkt, size_t len)
{
    if (len > OASIS_GSO_SCRATCH - WRAP_HLEN)
        return NULL;
    memset(dir->wrap, 0, 12);
    int v6 = len && pkt[0] >> 4 == 6;
    dir->wrap[12] = v6 ? 0x86 : 0x08;
    dir->wrap[13] = v6 ? 0xdd : 0x00;
    memcpy(dir->wrap + WRAP_HLEN, pkt, len);
    return dir->wrap;
}

/* ---- the stages ---------------------------------------------------------- */

/* Hands one frame on: to the inner link (OUT) or the stack (IN); an IP
 * link's packet without the header wrap gave it. */
static int emit(oasis_impair_link *f, int d, const uint8_t *frame, size_t len,
                const oasis_offload *off)
{
    f->dir[d].stats.delivered++;
    oasis_offload moved;
    if (f->ip) {
        frame += WRAP_HLEN;
        len -= WRAP_HLEN;
        if (off) {
            moved = off_moved(off, -(int)WRAP_HLEN);
            off = &moved;
        }
    }
    if (d == OASIS_IMPAIR_IN) {
        if (f->ip)
            oasis_stack_input_ip_offload(f->stack, frame, len, off);
        else
            oasis_stack_input_offload(f->stack, frame, len, off);
        return OASIS_OK;
    }
    if (off && f->inner->send_offload)
        return f->inner->send_offload(f->inner, frame, len, off);
    return f->inner->send(f->inner, frame, len);
}

static void release(oasis_impair_link *f, int d, held_frame *h)
{
    impair_dir *dir = &f->dir[d];
    h->left = 0;
    dir->stats.held -= (uint64_t)h->copies;
    int copies = h->copies;
    h->copies = 0;
    for (int i = 0; i < copies; i++)
        emit(f, d, h->buf, h->len, h->has_off ? &h->off : NULL);
}

/* A frame of direction d went by: frames held there come one nearer to
 * release, and those it was the last to overtake leave now. skip: a frame
 * held by this very pass (it does not overtake itself). IN frames leave
 * only while a stack is known (f->stack). */
static void tick(oasis_impair_link *f, int d, const held_frame *skip)
{
    impair_dir *dir = &f->dir[d];
    if (!dir->stats.held || (d == OASIS_IMPAIR_IN && !f->stack))
        return;
    for (int i = 0; i < OASIS_IMPAIR_HELD_MAX; i++) {
        held_frame *h = &dir->held[i];
        if (!h->copies || h == skip)
            continue;
        if (--h->left == 0)
            release(f, d, h);
    }
}

/* Keeps a copy of the frame for later; NULL when every slot is taken (or
 * no memory): the frame then goes through in order. */
static held_frame *hold(impair_dir *dir, uint32_t gap, const uint8_t *frame, size_t len,
                        const oasis_offload *off, int copies)
{
    for (int i = 0; i < OASIS_IMPAIR_HELD_MAX; i++) {
        held_frame *h = &dir->held[i];
        if (h->copies)
            continue;
        if (h->cap < len) {
            uint8_t *b = realloc(h->buf, len);
            if (!b)
                return NULL;
            h->buf = b;
            h->cap = len;
        }
        memcpy(h->buf, frame, len);
        h->len = len;
        h->left = gap;
        h->copies = copies;
        h->has_off = off != NULL;
        if (off)
            h->off = *off;
        dir->stats.held += (uint64_t)copies;
        return h;
    }
    return NULL;
}

/* One wire frame through direction d's stages, in oasis_impair's order:
 * loss, burst loss, corruption, reordering, duplication. Returns what
 * handing it on returned (0 when it was lost or held). */
static int pass(oasis_impair_link *f, int d, const uint8_t *frame, size_t len,
                const oasis_offload *off)
{
    impair_dir *dir = &f->dir[d];
    const oasis_impair *g = &dir->cfg;
    dir->stats.sent++;
    dir->stats.bytes_sent += len;
    uint64_t t = g->ge_step_ns && f->clock ? oasis_clock_now(f->clock) : 0;
    int lost = oasis_impair_loses(&dir->st, g, t);
    if (lost) {
        dir->stats.dropped_loss += lost == OASIS_IMPAIR_LOST;
        dir->stats.dropped_burst += lost == OASIS_IMPAIR_BURST;
        tick(f, d, NULL);
        return OASIS_OK;
    }
    if (oasis_impair_chance(&dir->st, g->corrupt) && oasis_impair_corruptible(frame, len)) {
        if (frame != dir->work)
            memcpy(dir->work, frame, len);
        oasis_impair_flip(&dir->st, dir->work, len);
        frame = dir->work;
        off = NULL; /* whatever vouched for the checksum no longer does */
        dir->stats.corrupted++;
    }
    int reorder = oasis_impair_chance(&dir->st, g->reorder);
    int dup = oasis_impair_chance(&dir->st, g->duplicate);
    dir->stats.duplicated += (uint64_t)dup;
    const held_frame *h = reorder ? hold(dir, f->gap, frame, len, off, 1 + dup) : NULL;
    int rc = OASIS_OK;
    if (h) {
        dir->stats.reordered++;
    } else {
        rc = emit(f, d, frame, len, off);
        if (dup)
            emit(f, d, frame, len, off);
    }
    tick(f, d, h);
    return rc;
}

/* ---- the outgoing direction ---------------------------------------------- */

/* An incoming frame counts as time passing for frames held going out: the
 * peer's ACK for the frames before the last one held releases it. */
static void tick_out(oasis_impair_link *f) { tick(f, OASIS_IMPAIR_OUT, NULL); }

static int filter_send(oasis_link *link, const uint8_t *frame, size_t len)
{
    oasis_impair_link *f = link->data;
    impair_dir *dir = &f->dir[OASIS_IMPAIR_OUT];
    if (!dir->active)
        return f->inner->send(f->inner, frame, len);
    if (f->ip) {
        if (!(frame = wrap(dir, frame, len)))
            return OASIS_EMSGSIZE;
        len += WRAP_HLEN;
    }
    return pass(f, OASIS_IMPAIR_OUT, frame, len, NULL);
}

typedef struct piece_ctx {
    oasis_impair_link *f;
    int d;
} piece_ctx;

static int piece(void *ud, uint8_t *frame, size_t len)
{
    piece_ctx *pc = ud;
    return pass(pc->f, pc->d, frame, len, NULL);
}

/* Cuts a frame with offloads into plain frames with complete checksums
 * and passes each; a frame the software GSO cannot cut goes on whole, its
 * fate one frame's. */
static int pass_offload(oasis_impair_link *f, int d, const uint8_t *frame, size_t len,
                        const oasis_offload *off)
{
    impair_dir *dir = &f->dir[d];
    piece_ctx pc = {f, d};
    int first_err = 0;
    int n = oasis_gso_segment((uint8_t *)frame, len, off, dir->scratch, OASIS_GSO_SCRATCH,
                              piece, &pc, &first_err);
    if (n < 0)
        return pass(f, d, frame, len, off);
    if (n > 1 || off->gso_type != OASIS_GSO_NONE)
        dir->stats.segmented++;
    return first_err;
}

static int filter_send_offload(oasis_link *link, const uint8_t *frame, size_t len,
                               const oasis_offload *off)
{
    oasis_impair_link *f = link->data;
    impair_dir *dir = &f->dir[OASIS_IMPAIR_OUT];
    if (!dir->active)
        return f->inner->send_offload(f->inner, frame, len, off);
    oasis_offload moved;
    if (f->ip) {
        if (!(frame = wrap(dir, frame, len)))
            return OASIS_EMSGSIZE;
        len += WRAP_HLEN;
        moved = off_moved(off, (int)WRAP_HLEN);
        off = &moved;
    }
    return pass_offload(f, OASIS_IMPAIR_OUT, frame, len, off);
}

/* ---- the incoming direction ---------------------------------------------- */

void oasis_impair_link_input(oasis_impair_link *f, oasis_stack *s, const uint8_t *frame,
                             size_t len, const oasis_offload *off)
{
    if (!f || !s)
        return;
    tick_out(f);
    impair_dir *dir = &f->dir[OASIS_IMPAIR_IN];
    if (!dir->active) {
        if (f->ip)
            oasis_stack_input_ip_offload(s, frame, len, off);
        else
            oasis_stack_input_offload(s, frame, len, off);
        return;
    }
    oasis_offload moved;
    if (f->ip) {
        const uint8_t *w = wrap(dir, frame, len);
        if (!w) { /* longer than any IP packet: the stack's to refuse */
            oasis_stack_input_ip_offload(s, frame, len, off);
            return;
        }
        frame = w;
        len += WRAP_HLEN;
        if (off) {
            moved = off_moved(off, (int)WRAP_HLEN);
            off = &moved;
        }
    }
    f->stack = s;
    if (off && (off->gso_type != OASIS_GSO_NONE || (off->flags & OASIS_OFFLOAD_CSUM_PARTIAL)))
        pass_offload(f, OASIS_IMPAIR_IN, frame, len, off);
    else
        pass(f, OASIS_IMPAIR_IN, frame, len, off);
}

void oasis_impair_link_flush(oasis_impair_link *f, oasis_stack *s)
{
    if (!f)
        return;
    for (int d = 0; d < 2; d++) {
        if (d == OASIS_IMPAIR_IN) {
            if (!s)
                continue;
            f->stack = s;
        }
        for (int i = 0; i < OASIS_IMPAIR_HELD_MAX; i++)
            if (f->dir[d].held[i].copies)
                release(f, d, &f->dir[d].held[i]);
    }
}

/* ---- lifetime ------------------------------------------------------------ */

int oasis_impair_link_create(oasis_link *inner, const oasis_impair_link_config *cfg,
                             oasis_impair_link **out)
{
    if (!inner || !cfg || !out || !inner->send || !dir_valid(&cfg->out) ||
        !dir_valid(&cfg->in) || cfg->reorder_gap > REORDER_GAP_MAX)
        return OASIS_EINVAL;
    if (dir_timed(&cfg->out, cfg->clock) || dir_timed(&cfg->in, cfg->clock))
        return OASIS_ENOTSUP;
    oasis_impair_link *f = calloc(1, sizeof *f);
    if (!f)
        return OASIS_ENOMEM;
    f->inner = inner;
    f->clock = cfg->clock;
    f->ip = (inner->caps & OASIS_LINK_IP) != 0;
    f->gap = cfg->reorder_gap ? cfg->reorder_gap : REORDER_GAP_DEFAULT;
    const oasis_impair *g[2] = {&cfg->out, &cfg->in};
    for (int d = 0; d < 2; d++) {
        impair_dir *dir = &f->dir[d];
        dir->cfg = *g[d];
        dir->active = dir_active(g[d]);
        /* One stream per direction, as on the wire: what one direction
         * carries never shifts the other's draws. */
        oasis_prng_seed(&dir->st.prng, cfg->seed ^ ((uint64_t)(d + 1) * 0x9e3779b97f4a7c15ull));
        if (!dir->active)
            continue;
        dir->scratch = malloc(OASIS_GSO_SCRATCH);
        dir->work = malloc(OASIS_GSO_SCRATCH);
        dir->wrap = f->ip ? malloc(OASIS_GSO_SCRATCH) : NULL;
        if (!dir->scratch || !dir->work || (f->ip && !dir->wrap)) {
            oasis_impair_link_destroy(f);
            return OASIS_ENOMEM;
        }
    }
    f->link.send = filter_send;
    f->link.send_offload = inner->send_offload ? filter_send_offload : NULL;
    f->link.mtu = inner->mtu;
    f->link.caps = (inner->send_offload ? inner->caps : 0) | (inner->caps & OASIS_LINK_IP);
    f->link.gso_max = inner->gso_max;
    f->link.data = f;
    *out = f;
    return OASIS_OK;
}

void oasis_impair_link_destroy(oasis_impair_link *f)
{
    if (!f)
        return;
    for (int d = 0; d < 2; d++) {
        for (int i = 0; i < OASIS_IMPAIR_HELD_MAX; i++)
            free(f->dir[d].held[i].buf);
        free(f->dir[d].scratch);
        free(f->dir[d].work);
        free(f->dir[d].wrap);
    }
    free(f);
}

oasis_link *oasis_impair_link_link(oasis_impair_link *f) { return f ? &f->link : NULL; }

int oasis_impair_link_stats_get(const oasis_impair_link *f, int dir,
                                oasis_impair_link_stats *out)
{
    if (!f || !out || (dir != OASIS_IMPAIR_OUT && dir != OASIS_IMPAIR_IN))
        return OASIS_EINVAL;
    *out = f->dir[dir].stats;
    return OASIS_OK;
}
