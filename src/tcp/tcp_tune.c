/* Buffer auto-tuning and the TCP memory budget (see tcp_tune.h). */
#include "tcp/tcp_tune.h"
#include "core/compiler.h"

#include "core/stack_impl.h"
#include "tcp/tcp_flow.h"

static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* Pressure ends below three quarters of the mark that started it, so a
 * stack near the mark does not flap in and out with every segment. */
static uint64_t pressure_mark(const oasis_stack *s)
{
    const oasis_tcp_config *c = &s->cfg.tcp;
    return c->mem_pressure ? c->mem_pressure : c->mem_limit - c->mem_limit / 4;
}

void oasis_tcp_mem_charge(oasis_stack *s, int64_t delta)
{
    oasis_tcp_counters *t = &s->ctr.tcp;
    t->mem_bytes += (uint64_t)delta;
    if (t->mem_bytes > t->mem_peak)
        t->mem_peak = t->mem_bytes;
    if (!s->tcp || !s->cfg.tcp.mem_limit)
        return;
    uint64_t mark = pressure_mark(s);
    if (!s->tcp->mem_pressure && t->mem_bytes >= mark) {
        s->tcp->mem_pressure = 1;
        t->mem_pressures++;
    } else if (s->tcp->mem_pressure && t->mem_bytes < mark - mark / 4) {
        s->tcp->mem_pressure = 0;
    }
}

/* (The exported pair below, inline here: every segment asks.) */
static int pressure(const oasis_stack *s) { return s->tcp && s->tcp->mem_pressure; }

static uint64_t mem_avail(const oasis_stack *s)
{
    uint64_t lim = s->cfg.tcp.mem_limit, used = s->ctr.tcp.mem_bytes;
    if (!lim)
        return UINT64_MAX;
    return used < lim ? lim - used : 0;
}

/* Storage ring r may still take. Under pressure only a ring holding less
 * than buf_min takes more, up to buf_min: the budget's last part (above
 * the pressure mark) stays for flows that hold next to nothing, so a new
 * connection's request and answer get through while stalled readers hold
 * the rest (Linux guarantees every socket tcp_rmem[0] and tcp_wmem[0]
 * under pressure in the same spirit). */
static uint64_t ring_avail(const oasis_stack *s, const oasis_ring *r)
{
    uint64_t avail = mem_avail(s);
    if (avail == UINT64_MAX || !pressure(s))
        return avail;
    uint64_t own = r->mem ? r->size : 0, min = s->cfg.tcp.buf_min;
    if (own >= min)
        return 0;
    return min - own < avail ? min - own : avail;
}

int oasis_tcp_mem_pressure(const oasis_stack *s) { return pressure(s); }

uint64_t oasis_tcp_mem_avail(const oasis_stack *s) { return mem_avail(s); }

/* ---- sizes ----------------------------------------------------------------- */

static int size_ok(uint32_t v) { return v == 0 || (v >= 1024 && v <= (1u << 30)); }

/* rcvbuf_max has the same floor (above 1 GiB it is the stack's limit
 * anyway): a tuned flow starts at min(rcvbuf_init, rcvbuf_max), so a few
 * bytes there made a window of a few bytes, a segment per byte or two. */
int oasis_tcp_bufsizes_valid(const oasis_tcp_bufsizes *b)
{
    return !b || (size_ok(b->sndbuf) && size_ok(b->rcvbuf) &&
                  (b->rcvbuf_max == 0 || b->rcvbuf_max >= 1024));
}

/* The largest receive buffer a tuned flow may reach: the stack's limit,
 * and what its window scale can advertise (the scale was chosen at SYN
 * time for the flow's own limit; without scaling 65535 is all a window
 * can say, so a larger buffer would only hold data nobody may send). */
static uint32_t rcv_max(const oasis_flow *f)
{
    if (f->rcv_fixed)
        return f->rcvbuf;
    uint64_t w = f->ws_ok ? (uint64_t)0xffff << f->rcv_wscale : 0xffff;
    uint32_t c = f->s->cfg.tcp.rcvbuf;
    return w < c ? (uint32_t)w : c;
}

static uint32_t snd_max(const oasis_flow *f)
{
    return f->snd_fixed ? f->sndbuf : f->s->cfg.tcp.sndbuf;
}

/* One side's start size; *fixed set when it is not tuned. */
static uint32_t side_init(oasis_stack *s, uint32_t size, uint32_t lim, uint32_t init,
                          uint32_t stack_max, unsigned *fixed, int *minbuf)
{
    const oasis_tcp_config *c = &s->cfg.tcp;
    if (size || !c->autotune) {
        *fixed = 1;
        return size ? size : stack_max;
    }
    *fixed = 0;
    uint32_t v = min_u32(init, lim && lim < stack_max ? lim : stack_max);
    if (oasis_tcp_mem_pressure(s) && c->buf_min && v > c->buf_min) {
        v = c->buf_min; /* new flows get minimum buffers under pressure */
        *minbuf = 1;
    }
    return v;
}

static void ring_cap(oasis_stack *s, oasis_ring *r, uint32_t cap)
{
    if (r->size > cap)
        oasis_ring_fini(s, r); /* cached storage larger than this flow's */
    r->cap = cap;
}

void oasis_tcp_tune_init(oasis_flow *f, const oasis_tcp_bufsizes *b)
{
    static const oasis_tcp_bufsizes none = {0, 0, 0};
    oasis_stack *s = f->s;
    const oasis_tcp_config *c = &s->cfg.tcp;
    if (!b)
        b = &none;
    int minbuf = 0;
    unsigned fx;
    f->sndbuf = side_init(s, b->sndbuf, 0, c->sndbuf_init, c->sndbuf, &fx, &minbuf);
    f->snd_fixed = fx & 1;
    f->rcvbuf = side_init(s, b->rcvbuf, b->rcvbuf_max, c->rcvbuf_init, c->rcvbuf, &fx, &minbuf);
    f->rcv_fixed = fx & 1;
    if (minbuf)
        s->ctr.tcp.mem_min_buf++;
    ring_cap(s, &f->ext->snd, f->sndbuf);
    ring_cap(s, &f->ext->rcv, f->rcvbuf);
    /* RFC 7323 2.3: the scale is fixed in the SYN, so it must cover the
     * largest buffer the flow may grow to. */
    uint32_t max = f->rcv_fixed ? f->rcvbuf
                                : b->rcvbuf_max && b->rcvbuf_max < c->rcvbuf ? b->rcvbuf_max
                                                                             : c->rcvbuf;
    uint8_t ws = 0;
    while (f->ws_ok && ws < 14 && (max >> ws) > 0xffff)
        ws++;
    f->rcv_wscale = ws & 0xf;
}

uint32_t oasis_tcp_tune_cookie_window(oasis_stack *s, const oasis_tcp_bufsizes *b)
{
    const oasis_tcp_config *c = &s->cfg.tcp;
    uint32_t w = b->rcvbuf ? b->rcvbuf : c->autotune ? min_u32(c->rcvbuf_init, c->rcvbuf) : c->rcvbuf;
    return min_u32(w, 0xffff);
}

void oasis_tcp_tune_lock(oasis_flow *f)
{
    f->rcv_fixed = f->snd_fixed = 1;
}

/* ---- growth ---------------------------------------------------------------- */

/* Raises one side's capacity to want (bounded by its limit); 1 if it grew. */
static int grow(oasis_flow *f, oasis_ring *r, uint32_t *size, uint32_t max, uint64_t want,
                uint64_t *grows)
{
    uint32_t to = want < max ? (uint32_t)want : max;
    if (to <= r->cap)
        return 0;
    if (pressure(f->s)) {
        f->s->ctr.tcp.mem_no_grow++; /* under pressure no buffer grows */
        return 0;
    }
    r->cap = to; /* storage follows lazily (tcp_buf.h) */
    *size = to;
    (*grows)++;
    return 1;
}

/* Below this RTT (Linux's tcp_rcvbuf_low_rtt, 1 ms) the receive buffer
 * grows gently: a round trip's worth is small there, a larger buffer only
 * spreads the flow over more cache (a short path's BDP is kilobytes), and
 * the extra round trips to reach the final size cost microseconds. */
#define LOW_RTT_NS (1000ull * 1000)
/* The right-sizing state lives in the extension; a flow that idles (all
 * read, all acked) between batches would lose its minimum RTT and start
 * each time from a sample taken at its grown size. Reads keep it at
 * least this long. */
#define KEEP_MIN_NS (100ull * 1000 * 1000)

/* The receiver's RTT, minimum-latched: the time the peer takes to send one
 * buffer's worth beyond what we have (Linux's tcp_rcv_rtt_measure, the
 * Dynamic Right-Sizing estimate). The last bytes of that need credit our
 * window update gives now, so the sample spans at least a round trip; it
 * is larger whenever the sender was not window-limited, which the minimum
 * discards. The handshake's sample counts too. The smoothed RTT is not
 * used: a queue inflates it, and on a path where processing is all the
 * delay (an in-memory wire) the time to move a larger window grows with
 * the window, so a smoothed figure would feed the growth it measures. */
static void rcv_rtt_measure(oasis_tcp_ext *x, uint32_t got, uint64_t now)
{
    if (x->rcvrtt_time && (int32_t)(got - x->rcvrtt_seq) >= 0) {
        /* A measure that ends at the instant it began took less than the
         * clock can resolve: it counts as the shortest RTT there is, 1 ns.
         * On a clock that ticks in milliseconds most round trips of a fast
         * path end in the same tick, and the few that cross a tick's edge
         * read as a whole tick; were those the minimum, a microsecond
         * path would be sized for a millisecond RTT. */
        uint64_t m = now > x->rcvrtt_time ? now - x->rcvrtt_time : 1;
        if (!x->rcvq_rtt || m < x->rcvq_rtt) {
            x->rcvq_rtt = m;
            x->rcvq_due = 0; /* a shorter RTT: the measure may end sooner */
        }
        x->rcvrtt_time = 0;
    }
    if (!x->rcvrtt_time) {
        x->rcvrtt_time = now;
        x->rcvrtt_seq = got + x->rcv.cap;
    }
}

/* The RTT the measures use: the smoothed RTT bounds the receiver's. For a
 * receiver that sends no data that is the handshake's sample (taken
 * before any queue formed), and a sample stretched by the process being
 * descheduled cannot exceed it. A handshake that ended in the clock
 * reading it began in (an in-memory wire, a millisecond tick on a LAN)
 * sampled 0: shorter than the clock can tell, as rcv_rtt_measure counts
 * it, and a bound like any other. */
static uint64_t rcv_rtt(const oasis_tcp_ext *x)
{
    uint64_t r = x->rcvq_rtt;
    if (x->rtt.have_sample) {
        uint64_t s = x->rtt.srtt_ns ? x->rtt.srtt_ns : 1;
        if (!r || s < r)
            r = s;
    }
    return r;
}

/* The shortest span a measure runs: one RTT, four on a low-RTT path,
 * where reads come in batches that are long next to the RTT. */
static uint64_t measure_span(uint64_t rtt) { return rtt < LOW_RTT_NS ? 4 * rtt : rtt; }

/* The measures span round trips in which the flow may fall quiet (a
 * window-limited transfer is silent most of each RTT): it keeps its
 * extension, and so this state, for two RTTs after each read while the
 * buffer may still grow (the smoothed RTT here: it says when data will
 * come again, and the first sample needs a round trip to complete), and
 * no less than KEEP_MIN_NS. The deadline is set half as far again, so
 * the reads of the next half keep need not move it; returns when it must
 * move next. */
static uint64_t keep_ext(oasis_flow *f, uint64_t now, uint64_t rtt)
{
    oasis_tcp_ext *x = f->ext;
    if (f->rcvbuf >= rcv_max(f))
        return OASIS_TCP_NEVER;
    uint64_t keep = x->rtt.srtt_ns > rtt ? x->rtt.srtt_ns : rtt;
    keep = keep > KEEP_MIN_NS / 2 ? 2 * keep : KEEP_MIN_NS;
    if (x->tm.tune == OASIS_TCP_NEVER || x->tm.tune < now + keep) {
        x->tm.tune = now + keep + keep / 2;
        oasis_tcp_timer_by(f, x->tm.tune);
    }
    return x->tm.tune - keep;
}

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

static void rcv_space_adjust(oasis_flow *f, uint64_t now);

/* Once per RTT, as Linux's tcp_rcv_space_adjust: a read before rcvq_due
 * only counts its bytes (the receiver's RTT sample, the batch). Always
 * inline: every read of a tuned flow runs this part. */
OASIS_HOT OASIS_ALWAYS_INLINE void oasis_tcp_rcv_adjust(oasis_flow *f, uint32_t n, uint64_t now)
{
    oasis_tcp_ext *x = f->ext;
    if (!x || f->rcv_fixed)
        return;
    /* The buffer must hold what piles up between the application's reads
     * (an application that polls, or the rounds of an in-memory wire): a
     * batch is what the buffer held when this read began. (Not the reads
     * of one clock instant: on a clock that ticks in milliseconds that is
     * a millisecond of a fast flow, megabytes the buffer never held.) */
    uint32_t held = x->rcv.len + n;
    if (held > x->rcvq_batch_max)
        x->rcvq_batch_max = held;
    rcv_rtt_measure(x, (uint32_t)f->bytes_received, now);
    if (now >= x->rcvq_due)
        rcv_space_adjust(f, now);
}

/* The measure, at most once per RTT. */
static OASIS_NOINLINE void rcv_space_adjust(oasis_flow *f, uint64_t now)
{
    oasis_tcp_ext *x = f->ext;
    uint64_t rtt = rcv_rtt(x);
    uint64_t keep_due = keep_ext(f, now, rtt);
    if (!rtt) {
        x->rcvq_due = 0;
        return;
    }
    uint64_t copied = f->bytes_received - x->rcv.len; /* consumed by the application */
    if (!x->rcvq_time) {
        x->rcvq_time = now;
        x->rcvq_copied = copied;
        x->rcvq_space = 0; /* no growth yet (this state goes when the flow idles) */
        x->rcvq_batch_max = 0;
        x->rcvq_due = min_u64(keep_due, now + measure_span(rtt));
        return;
    }
    /* Bytes consumed per round trip, measured over at least one RTT. A
     * measure that ran longer is scaled down to one RTT: the window a path
     * needs is its delivery rate times its RTT, not what piled up over a
     * longer stretch. */
    uint64_t span = now - x->rcvq_time;
    if (span < measure_span(rtt)) {
        x->rcvq_due = min_u64(keep_due, x->rcvq_time + measure_span(rtt));
        return;
    }
    uint64_t got = copied - x->rcvq_copied;
    if (span > rtt)
        got = got * rtt / span;
    /* What the buffer must hold: a round trip's worth, or one batch of
     * reads if that is more. */
    uint64_t use = got > x->rcvq_batch_max ? got : x->rcvq_batch_max;
    x->rcvq_batch_max = 0;
    /* Whether to grow. Until the buffer first grew: when more than half of
     * it was consumed in one RTT or in one batch. After that, rcvq_space
     * is a round trip's worth at the last growth (the rate then times the
     * RTT): only when the rate rose since, and on a low-RTT path by an
     * eighth. There the buffer grows in steps of a quarter or more, so a
     * window that limited the flow (or the application's batches did)
     * brings that much more data, while a flow that processing limits (an
     * in-memory wire, where a larger window only makes each round trip and
     * each batch longer) brings none, and its rate's jitter must not
     * ratchet the buffer up. */
    int up;
    if (!x->rcvq_space)
        up = use > x->rcv.cap / 2;
    else
        up = got > x->rcvq_space + (rtt < LOW_RTT_NS ? x->rcvq_space / 8 : 0);
    if (up) {
        uint64_t win;
        if (rtt < LOW_RTT_NS) {
            /* Low RTT: what it must hold and a quarter, plus a share that
             * grows with the RTT to twice at LOW_RTT_NS, where the rule
             * below takes over. */
            win = use + use / 4 + (use - use / 4) * rtt / LOW_RTT_NS;
        } else {
            /* Twice (the window we offer now is used one RTT later), plus
             * twice the growth over the last round for a sender still
             * doubling its window. */
            uint64_t space = x->rcvq_space ? x->rcvq_space : x->rcv.cap / 2;
            uint64_t more = use > space ? 2 * (2 * use * (use - space) / space) : 0;
            win = 2 * use + (more < 4 * use ? more : 4 * use);
        }
        if (grow(f, &x->rcv, &f->rcvbuf, rcv_max(f), win, &f->s->ctr.tcp.rcvbuf_grows) && f->in_table)
            oasis_tcp_window_update(f);
        x->rcvq_space = got > UINT32_MAX ? UINT32_MAX : got ? (uint32_t)got : 1;
    }
    x->rcvq_copied = copied;
    x->rcvq_time = now;
    x->rcvq_due = min_u64(keep_due, now + measure_span(rtt));
}

OASIS_HOT OASIS_ALWAYS_INLINE void oasis_tcp_snd_adjust(oasis_flow *f)
{
    oasis_tcp_ext *x = f->ext;
    if (!x || f->snd_fixed)
        return;
    uint64_t w = x->cc.cwnd < f->max_snd_wnd ? x->cc.cwnd : f->max_snd_wnd;
    if (2 * w <= x->snd.cap)
        return;
    /* At least double: a writer that keeps the buffer full has its ring's
     * storage follow every step, each a copy of all it holds, and cwnd
     * grows by an ACK's worth at a time (672 steps, copies of up to 4 MiB,
     * on a 50 ms path; 10 now). */
    uint64_t want = 2 * w > 2ull * x->snd.cap ? 2 * w : 2ull * x->snd.cap;
    if (grow(f, &x->snd, &f->sndbuf, snd_max(f), want, &f->s->ctr.tcp.sndbuf_grows) && x->wq.head)
        oasis_tcp_fill_sndbuf(f); /* writes waiting for room take it now */
}

/* ---- the budget -------------------------------------------------------------- */

uint32_t oasis_tcp_snd_room(oasis_flow *f)
{
    oasis_ring *r = &f->ext->snd;
    uint64_t avail = ring_avail(f->s, r);
    uint32_t free = oasis_ring_free(r);
    if (avail == UINT64_MAX)
        return free;
    uint32_t fit = oasis_ring_fit(r, avail);
    if (fit < free)
        f->s->ctr.tcp.mem_snd_limited++;
    if (fit == 0 && r->len == 0) {
        /* Nothing in flight will bring an ACK to try again: retry after a
         * minimum RTO (Linux's writers wait for memory the same way). */
        uint64_t at = oasis_now(f->s) + f->s->cfg.tcp.rto_min_ns;
        if (f->ext->tm.tune == OASIS_TCP_NEVER || f->ext->tm.tune > at) {
            f->ext->tm.tune = at;
            oasis_tcp_timer_by(f, at);
        }
    }
    return fit;
}

/* oasis_tcp_rcv_room at the limit (out of line: the common case is not). */
static OASIS_NOINLINE uint32_t rcv_room_limited(oasis_flow *f, uint32_t n)
{
    oasis_stack *s = f->s;
    oasis_ring *r = &f->ext->rcv;
    uint64_t avail = ring_avail(s, r);
    if (!oasis_ofo_empty(&f->ext->ofo)) {
        /* At the limit out-of-order data goes before in-order data. */
        oasis_ofo_clear(s, &f->ext->ofo);
        s->ctr.tcp.ofo_pruned++;
        avail = ring_avail(s, r);
    }
    uint32_t fit = oasis_ring_fit(r, avail);
    if (fit < n)
        s->ctr.tcp.rcvq_drops++;
    return fit < n ? fit : n;
}

OASIS_HOT OASIS_ALWAYS_INLINE uint32_t oasis_tcp_rcv_room(oasis_flow *f, uint32_t n)
{
    uint64_t avail = ring_avail(f->s, &f->ext->rcv);
    if (avail == UINT64_MAX || oasis_ring_fit(&f->ext->rcv, avail) >= n)
        return n;
    return rcv_room_limited(f, n);
}

uint32_t oasis_tcp_rcv_storable(oasis_flow *f, uint32_t want)
{
    uint64_t avail = ring_avail(f->s, &f->ext->rcv);
    if (avail == UINT64_MAX)
        return want;
    uint32_t fit = oasis_ring_fit(&f->ext->rcv, avail);
    return fit < want ? fit : want;
}

int oasis_tcp_ofo_allowed(oasis_flow *f)
{
    if (!pressure(f->s))
        return 1;
    f->s->ctr.tcp.ofo_mem_drops++;
    return 0;
}

uint32_t oasis_tcp_win_clamp(const oasis_flow *f)
{
    const oasis_stack *s = f->s;
    if (!pressure(s))
        return UINT32_MAX;
    /* At the limit no new room at all; under pressure four segments (as
     * Linux clamps rcv_ssthresh to 4 * advmss). */
    return mem_avail(s) ? 4u * f->mss_recv : 0;
}
