/* The public TCP API (include/oasis/tcp.h): requests are checked, queued and
 * started here; their callbacks run later from the dispatcher (tcp.c). */
#include <string.h>
#include <stdint.h>

#include "core/mem.h"
#include "core/compiler.h"
#include "core/stack_impl.h"
#include "ipv6/ipv6_wire.h"
#include "oasis/error.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_rack.h"
#include "tcp/tcp_seq.h"
#include "tcp/tcp_tune.h"

/* ---- opening --------------------------------------------------------------- */

/* Keepalive parameters that make sense (NULL: off). A zero interval or
 * zero probes would flood the peer with probes or declare a live flow dead
 * at once. A zero idle time is mirage-tcpip's own way to probe from the
 * start (its keepalive sends the first probe one interval into the
 * silence, and its test suite uses 0): keepalive_clamp makes it that. */
static int keepalive_valid(const oasis_keepalive *ka)
{
    return !ka || (ka->interval_ns > 0 && ka->probes > 0);
}

/* Durations are cut to OASIS_TCP_MAX_NS: the timers add them to the
 * clock, and UINT64_MAX ("never") would wrap round to a deadline in the
 * past, a probe on every poll. */
static oasis_keepalive keepalive_clamp(const oasis_keepalive *ka)
{
    oasis_keepalive k = *ka;
    if (k.after_ns == 0) /* not 0 itself: an answered probe would call the next at once */
        k.after_ns = k.interval_ns;
    if (k.after_ns > OASIS_TCP_MAX_NS)
        k.after_ns = OASIS_TCP_MAX_NS;
    if (k.interval_ns > OASIS_TCP_MAX_NS)
        k.interval_ns = OASIS_TCP_MAX_NS;
    return k;
}

static void set_keepalive(oasis_flow *f, const oasis_keepalive *ka)
{
    f->has_ka = ka != NULL;
    if (ka)
        f->ext->ka = keepalive_clamp(ka);
    f->ext->ka_sent = 0;
}

/* An IPv4-mapped IPv6 address (::ffff:0:0/96, of the IPv6 family): no
 * destination (RFC 6890 2.2.3). */
static int v4mapped6(const oasis_ipaddr *a)
{
    oasis_in6 d;
    memcpy(d.b, a->b, 16);
    return oasis_in6_is_v4mapped(&d);
}

static int start_connect(oasis_stack *s, const oasis_ipaddr *dst, uint16_t port,
                         const oasis_keepalive *keepalive, oasis_connect_cb cb, void *ud,
                         oasis_flow **flowp, const oasis_tcp_bufsizes *bufs,
                         const oasis_ipaddr *local)
{
    if (!s || !s->tcp || !cb || port == 0 || !keepalive_valid(keepalive) ||
        !oasis_tcp_bufsizes_valid(bufs))
        return OASIS_EINVAL;
    /* RFC 1122 4.2.3.10: fail now, not in 2 min */
    int derr;
    if (oasis_ipaddr_is_v4(dst))
        derr = oasis_ipv4_unicast_dest(s, oasis_ipaddr_to_v4(dst));
    else if (oasis_ipaddr_is_v6(dst))
        derr = oasis_ipaddr_is_unspecified(dst) || oasis_ipaddr_is_multicast(dst) || v4mapped6(dst)
                   ? OASIS_EBADDEST
                   : OASIS_OK;
    else
        derr = OASIS_EINVAL;
    if (derr)
        return derr;
    if (s->tcp->closing)
        return OASIS_ECANCELED; /* from a callback of disconnect: it would never end */
    oasis_ipaddr src; /* ENOROUTE: IPv6 off, or no usable address of ours */
    int serr = oasis_tcp_source_given(s, dst, local, &src);
    if (serr)
        return serr;
    uint16_t lport = oasis_tcp_pick_port(s, &src, dst, port);
    if (!lport)
        return OASIS_EADDRINUSE;
    oasis_flow *f = oasis_tcp_flow_new(s, &src, dst, lport, port);
    if (!f)
        return OASIS_ENOMEM;
    oasis_tcp_tune_init(f, bufs); /* before the SYN: its window, the scale */
    f->ext->open_cb.connect = cb;
    f->ext->open_ud = ud;
    f->connect_pending = 1;
    set_keepalive(f, keepalive);
    f->ecn_ok = s->cfg.tcp.ecn == 1; /* ask for ECN (RFC 3168) */
    oasis_tcp_set_state(f, OASIS_TCP_SYN_SENT);
    oasis_tcp_table_insert(s, &f->c);
    s->ctr.tcp.active_opens++;
    f->ext->rtt_start = oasis_now(s);
    oasis_tcp_send_syn(f);
    oasis_tcp_arm_rto(f);
    if (flowp) {
        oasis_tcp_set_life(f, OASIS_TCP_LIFE_APP);
        *flowp = f;
    }
    return OASIS_OK;
}

static int connect_addr(oasis_stack *s, const oasis_ipaddr *dst, uint16_t port,
                        const oasis_keepalive *keepalive, oasis_connect_cb cb, void *ud,
                        oasis_flow **flowp, const oasis_tcp_bufsizes *bufs,
                        const oasis_ipaddr *local)
{
    if (!dst)
        return OASIS_EINVAL;
    return start_connect(s, dst, port, keepalive, cb, ud, flowp, bufs, local);
}

int oasis_tcp_connect(oasis_stack *s, const oasis_ipaddr *dst, uint16_t port,
                      const oasis_keepalive *keepalive, oasis_connect_cb cb, void *ud)
{
    return connect_addr(s, dst, port, keepalive, cb, ud, NULL, NULL, NULL);
}

int oasis_tcp_connect4(oasis_stack *s, uint32_t dst, uint16_t port,
                       const oasis_keepalive *keepalive, oasis_connect_cb cb, void *ud)
{
    oasis_ipaddr a = oasis_ipaddr_v4(dst);
    return oasis_tcp_connect(s, &a, port, keepalive, cb, ud);
}

int oasis_tcp_connect_flow(oasis_stack *s, const oasis_ipaddr *dst, uint16_t port,
                           const oasis_keepalive *keepalive, oasis_connect_cb cb, void *ud,
                           oasis_flow **flow)
{
    if (!flow)
        return OASIS_EINVAL;
    *flow = NULL;
    return connect_addr(s, dst, port, keepalive, cb, ud, flow, NULL, NULL);
}

int oasis_tcp_connect_flow4(oasis_stack *s, uint32_t dst, uint16_t port,
                            const oasis_keepalive *keepalive, oasis_connect_cb cb, void *ud,
                            oasis_flow **flow)
{
    oasis_ipaddr a = oasis_ipaddr_v4(dst);
    return oasis_tcp_connect_flow(s, &a, port, keepalive, cb, ud, flow);
}

int oasis_tcp_connect_opts(oasis_stack *s, const oasis_ipaddr *dst, uint16_t port,
                           const oasis_connect_opts *opts, oasis_connect_cb cb, void *ud,
                           oasis_flow **flow)
{
    if (flow)
        *flow = NULL;
    return connect_addr(s, dst, port, opts ? opts->keepalive : NULL, cb, ud, flow,
                        opts ? &opts->bufs : NULL, opts ? &opts->local : NULL);
}

int oasis_tcp_connect_opts4(oasis_stack *s, uint32_t dst, uint16_t port,
                            const oasis_connect_opts *opts, oasis_connect_cb cb, void *ud,
                            oasis_flow **flow)
{
    oasis_ipaddr a = oasis_ipaddr_v4(dst);
    return oasis_tcp_connect_opts(s, &a, port, opts, cb, ud, flow);
}

int oasis_tcp_listen(oasis_stack *s, uint16_t port, const oasis_listen_opts *opts, oasis_accept_cb cb,
                     void *ud)
{
    int transparent = opts && opts->transparent;
    if (!s || !s->tcp || !cb || (port == 0 && !transparent) ||
        (transparent && !s->cfg.transparent) ||
        (opts && (!keepalive_valid(opts->keepalive) || !oasis_tcp_bufsizes_valid(&opts->bufs) ||
                  (opts->set_dscp && opts->dscp > 63))))
        return OASIS_EINVAL;
    unsigned fam = opts ? opts->families : 0;
    if (fam & ~(OASIS_TCP_LISTEN_V4 | OASIS_TCP_LISTEN_V6))
        return OASIS_EINVAL;
    /* RFC 1122 4.2.4.4: a passive OPEN may name the local address. */
    oasis_ipaddr local;
    int lerr = oasis_tcp_listen_local(s, opts ? &opts->local : NULL, &fam, &local);
    if (lerr)
        return lerr;
    if (transparent && local.family)
        return OASIS_EINVAL; /* every address, or one of ours: not both */
    if (!fam)
        fam = OASIS_TCP_LISTEN_V4 | OASIS_TCP_LISTEN_V6;
    if (s->tcp->closing)
        return OASIS_ECANCELED;
    if (oasis_tcp_find_listener(s, port))
        return OASIS_EADDRINUSE;
    oasis_tcp_listener *l = oasis_calloc(s, 1, sizeof *l);
    if (!l)
        return OASIS_ENOMEM;
    l->port = port;
    l->cb = cb;
    l->ud = ud;
    l->backlog = opts && opts->backlog ? opts->backlog : s->cfg.tcp.backlog;
    if (opts && opts->keepalive) {
        l->has_ka = 1;
        l->ka = keepalive_clamp(opts->keepalive);
    }
    l->paused = opts && opts->paused;
    l->families = (uint8_t)fam;
    l->transparent = (uint8_t)transparent;
    l->local = local;
    if (opts)
        l->bufs = opts->bufs;
    l->defer_ns = opts ? opts->defer_ns : 0;
    uint8_t dscp = opts && opts->set_dscp ? opts->dscp : s->cfg.tcp.dscp;
    l->tos = (uint8_t)((dscp & 0x3f) << 2);
    l->ttl = opts ? opts->ttl : 0;
    oasis_timer_init(&l->defer_timer, oasis_tcp_defer_timer_fn);
    l->next = s->tcp->listeners;
    s->tcp->listeners = l;
    return OASIS_OK;
}

int oasis_tcp_unlisten(oasis_stack *s, uint16_t port)
{
    if (!s || !s->tcp)
        return OASIS_EINVAL;
    oasis_tcp_listener **pp = &s->tcp->listeners;
    while (*pp && (*pp)->port != port)
        pp = &(*pp)->next;
    oasis_tcp_listener *l = *pp;
    if (!l)
        return OASIS_ENOENT;
    *pp = l->next;
    /* Half-open handshakes are reset; established flows not yet accepted
     * still reach the application (their callback was copied). */
    for (oasis_flow *f = oasis_tcp_flow_next(s, NULL); f; f = oasis_tcp_flow_next(s, f)) {
        if (!f->ext || f->ext->lst != l) /* idle flows were accepted long ago */
            continue;
        /* Flows left waiting in a paused backlog were never taken: they
         * go like half-open ones (a closed Linux listener resets them too). */
        if (f->state == OASIS_TCP_SYN_RECEIVED || f->acc_queued) {
            oasis_tcp_send_rst_flow(f);
            oasis_tcp_flow_end(f, OASIS_ECANCELED);
        }
        f->ext->lst = NULL;
    }
    oasis_timer_stop(s, &l->defer_timer);
    oasis_free(s, l);
    return OASIS_OK;
}

/* ---- accept control --------------------------------------------------------- */

static void acc_unqueue(oasis_tcp_listener *l, oasis_flow *f)
{
    if (!f->acc_queued)
        return;
    if (f->ext->acc_prev)
        f->ext->acc_prev->ext->acc_next = f->ext->acc_next;
    else
        l->acc_head = f->ext->acc_next;
    if (f->ext->acc_next)
        f->ext->acc_next->ext->acc_prev = f->ext->acc_prev;
    else
        l->acc_tail = f->ext->acc_prev;
    f->ext->acc_next = f->ext->acc_prev = NULL;
    f->acc_queued = 0;
    l->waiting--;
}

void oasis_tcp_listener_detach(oasis_flow *f)
{
    if (!f->ext) /* idle: accepted long ago */
        return;
    oasis_tcp_listener *l = f->ext->lst;
    f->ext->lst = NULL;
    if (!l) {
        f->acc_queued = 0; /* the listener went away (disconnect) */
        return;
    }
    acc_unqueue(l, f);
    l->pending--;
}

/* Takes f from its listener: the application owns it from here. The next
 * waiting flow is woken first (unless paused), so that the callback may
 * pause or even unlisten without the queue being touched afterwards. */
static void acc_take(oasis_flow *f)
{
    oasis_tcp_listener *l = f->ext->lst;
    f->accept_pending = 0;
    oasis_tcp_listener_detach(f);
    if (l && !l->paused && l->acc_head)
        oasis_tcp_wake(l->acc_head);
    oasis_tcp_set_life(f, OASIS_TCP_LIFE_APP);
}

static void acc_queue(oasis_tcp_listener *l, oasis_flow *f)
{
    if (f->acc_queued)
        return;
    f->ext->acc_prev = l->acc_tail;
    f->ext->acc_next = NULL;
    f->ext->acc_since = oasis_now(f->s);
    if (l->acc_tail)
        l->acc_tail->ext->acc_next = f;
    else
        l->acc_head = f;
    l->acc_tail = f;
    f->acc_queued = 1;
    l->waiting++;
}

/* Deferred hand-over: a waiting flow's turn may come once its peer has
 * spoken (data or a FIN; a reset or death takes it off the queue) or its
 * deferral is over. */
static int acc_ready(const oasis_tcp_listener *l, const oasis_flow *f, uint64_t now)
{
    return !l->defer_ns || f->ext->rcv.len || f->fin_rcvd ||
           now - f->ext->acc_since >= l->defer_ns;
}

/* The oldest waiting flow whose turn may come (the oldest of all without
 * deferral); NULL: none. */
static oasis_flow *acc_first(const oasis_tcp_listener *l, uint64_t now)
{
    oasis_flow *f = l->acc_head;
    while (f && !acc_ready(l, f, now))
        f = f->ext->acc_next;
    return f;
}

/* Runs when the oldest waiting flow's deferral ends (acc_since only grows
 * along the queue, so the head's ends first). */
void oasis_tcp_defer_timer_fn(oasis_stack *s, oasis_timer *t)
{
    (void)s;
    oasis_tcp_listener *l = oasis_container_of(t, oasis_tcp_listener, defer_timer);
    if (!l->paused && l->acc_head)
        oasis_tcp_wake(l->acc_head);
}

/* A deferring listener: f waits in the queue; the first flow ready goes to
 * the callback (woken if it is not f), else the timer waits for the head. */
static void run_accept_deferred(oasis_tcp_listener *l, oasis_flow *f)
{
    acc_queue(l, f);
    if (l->paused)
        return;
    oasis_flow *g = acc_first(l, oasis_now(f->s));
    if (!g) {
        oasis_timer_start(f->s, &l->defer_timer,
                          oasis_deadline(l->acc_head->ext->acc_since, l->defer_ns));
        return;
    }
    if (g != f) {
        oasis_tcp_wake(g);
        return;
    }
    acc_take(f);
    f->ext->open_cb.accept(f->s, f, f->ext->open_ud);
}

void oasis_tcp_run_accept(oasis_flow *f)
{
    oasis_tcp_listener *l = f->ext->lst;
    if (l && l->defer_ns) {
        run_accept_deferred(l, f);
        return;
    }
    if (l && (l->paused || (l->acc_head && l->acc_head != f))) {
        /* Wait in arrival order; the head is woken when its turn comes. */
        acc_queue(l, f);
        return;
    }
    acc_take(f);
    f->ext->open_cb.accept(f->s, f, f->ext->open_ud);
}

int oasis_tcp_accept_pause(oasis_stack *s, uint16_t port)
{
    oasis_tcp_listener *l = s && s->tcp ? oasis_tcp_find_listener(s, port) : NULL;
    if (!l)
        return OASIS_ENOENT;
    l->paused = 1;
    return OASIS_OK;
}

int oasis_tcp_accept_resume(oasis_stack *s, uint16_t port)
{
    oasis_tcp_listener *l = s && s->tcp ? oasis_tcp_find_listener(s, port) : NULL;
    if (!l)
        return OASIS_ENOENT;
    l->paused = 0;
    if (l->acc_head)
        oasis_tcp_wake(l->acc_head);
    return OASIS_OK;
}

oasis_flow *oasis_tcp_accept(oasis_stack *s, uint16_t port)
{
    oasis_tcp_listener *l = s && s->tcp ? oasis_tcp_find_listener(s, port) : NULL;
    oasis_flow *f = l ? acc_first(l, oasis_now(s)) : NULL;
    if (f)
        acc_take(f);
    return f;
}

uint32_t oasis_tcp_accept_waiting(oasis_stack *s, uint16_t port)
{
    oasis_tcp_listener *l = s && s->tcp ? oasis_tcp_find_listener(s, port) : NULL;
    if (!l || !l->defer_ns)
        return l ? l->waiting : 0;
    uint32_t n = 0;
    uint64_t now = oasis_now(s);
    for (oasis_flow *f = l->acc_head; f; f = f->ext->acc_next)
        n += (uint32_t)acc_ready(l, f, now);
    return n;
}

/* ---- reading --------------------------------------------------------------- */

/* Requests are taken only while the application holds a live handle; a
 * finished one answers OASIS_ECLOSED, a NULL one OASIS_EINVAL. */
static int check_flow(const oasis_flow *f)
{
    if (!f)
        return OASIS_EINVAL;
    return f->life == OASIS_TCP_LIFE_APP ? OASIS_OK : OASIS_ECLOSED;
}

int oasis_tcp_read(oasis_flow *f, oasis_read_cb cb, void *ud)
{
    int err = check_flow(f);
    if (err || !cb)
        return err ? err : OASIS_EINVAL;
    if (f->read_cb)
        return OASIS_EBUSY;
    f->read_cb = cb;
    f->read_ud = ud;
    /* From inside this flow's read callback, the dispatcher's read loop
     * (tcp_dispatch.c run_reads) goes on with it: no round needed. */
    if (f->s->tcp->reading == f)
        return OASIS_OK;
    if ((f->ext && f->ext->rcv.len) || f->fin_rcvd || f->rd_shut || !f->in_table)
        oasis_tcp_wake(f);
    return OASIS_OK;
}

/* ---- writing --------------------------------------------------------------- */

static void queue_fin(oasis_flow *f)
{
    f->fin_queued = 1;
    f->ext->fin_seq = f->snd_una + f->ext->snd.len;
    if (f->state == OASIS_TCP_ESTABLISHED)
        oasis_tcp_set_state(f, OASIS_TCP_FIN_WAIT_1);
    else if (f->state == OASIS_TCP_CLOSE_WAIT)
        oasis_tcp_set_state(f, OASIS_TCP_LAST_ACK);
}

/* Takes bytes of one request into the send ring; 1 when all were taken. */
static int take_bytes(oasis_flow *f, oasis_tcp_wreq *r)
{
    while (r->idx < r->iovcnt) {
        const oasis_iovec *v = &r->iov[r->idx];
        size_t left = v->len - r->off;
        if (left == 0) {
            r->idx++;
            r->off = 0;
            continue;
        }
        uint32_t chunk = left > (1u << 30) ? (1u << 30) : (uint32_t)left;
        uint32_t room = oasis_tcp_snd_room(f); /* the memory budget */
        if (chunk > room)
            chunk = room;
        if (chunk == 0)
            return 0;
        uint32_t n = oasis_ring_write(f->s, &f->ext->snd, (const uint8_t *)v->base + r->off, chunk);
        r->off += n;
        if (r->nodelay || r->urgent)
            f->ext->push_seq = f->snd_una + f->ext->snd.len;
        if (n < chunk)
            return 0;
    }
    return 1;
}

void oasis_tcp_fill_sndbuf(oasis_flow *f)
{
    oasis_tcp_wreq *r;
    if (f->state == OASIS_TCP_SYN_SENT)
        return; /* RFC 9293 3.10.2: queued until ESTABLISHED */
    while ((r = f->ext->wq.head) && take_bytes(f, r)) {
        oasis_tcp_wq_pop(&f->ext->wq);
        r->end = oasis_tcp_snd_written(f);
        if (r->nodelay && r->end > f->snd_acked)
            oasis_tcp_wq_push(&f->ext->ackq, r);
        else
            oasis_tcp_req_done(f, r, 0);
    }
    if ((f->close_req || f->wr_shut) && !f->fin_queued && !f->ext->wq.head)
        queue_fin(f);
}

static int can_write(const oasis_flow *f)
{
    return f->in_table && !f->close_req && !f->wr_shut &&
           (f->state == OASIS_TCP_ESTABLISHED || f->state == OASIS_TCP_CLOSE_WAIT ||
            f->state == OASIS_TCP_SYN_SENT);
}

static uint32_t max_write_reqs(const oasis_stack *s)
{
    return s->cfg.tcp.max_write_reqs ? s->cfg.tcp.max_write_reqs : OASIS_TCP_MAX_WRITE_REQS;
}

enum { WR_NODELAY = 1, WR_URGENT = 2 };

/* Stream offset after the last byte of the requests already queued. */
static uint64_t queued_end(const oasis_flow *f)
{
    uint64_t end = oasis_tcp_snd_written(f);
    for (const oasis_tcp_wreq *r = f->ext->wq.head; r; r = r->next)
        for (size_t i = r->idx; i < r->iovcnt; i++)
            end += r->iov[i].len - (i == r->idx ? r->off : 0);
    return end;
}

static int submit_write_queue(oasis_flow *f, const oasis_iovec *iov, size_t iovcnt, int how,
                              oasis_flow_cb cb, void *ud);

/* SYN-SENT: the send ring takes nothing before ESTABLISHED (RFC 9293
 * 3.10.2), so a write that fits is copied into its request instead: taken
 * within the call all the same (tcp.h). The bytes so held, or UINT64_MAX
 * when an earlier write waits with the caller's bytes (none is taken
 * ahead of it). */
static uint64_t syn_sent_held(const oasis_flow *f)
{
    uint64_t held = 0;
    for (const oasis_tcp_wreq *r = f->ext->wq.head; r; r = r->next) {
        if (!r->own)
            return UINT64_MAX;
        held += r->iov[0].len;
    }
    return held;
}

/* The send ring takes all n bytes or none, its storage growing only as far
 * as the memory budget lets it (oasis_tcp_snd_room), as for a queued
 * write; 1 when taken (n == 0 too). */
static OASIS_NOINLINE int snd_write_all_slow(oasis_flow *f, const void *data, size_t n)
{
    return n <= oasis_tcp_snd_room(f) &&
           oasis_ring_write_slow(f->s, &f->ext->snd, data, (uint32_t)n) == n;
}

/* (always inline: with LTO the usual write sits in its caller, the
 * request's path is submit_write_queue's) */
static OASIS_ALWAYS_INLINE int submit_write_held(oasis_flow *f, const oasis_iovec *iov, size_t iovcnt,
                                                 int how, oasis_flow_cb cb, void *ud)
{
    if ((iovcnt && !iov) || iovcnt > (1u << 20))
        return OASIS_EINVAL;
    /* Every piece has memory, no larger than any object can be (PTRDIFF_MAX:
     * a longer one is a length the caller got wrong, which the stack would
     * otherwise read past its buffer as room came), and the lengths add up
     * without wrapping (the send-buffer figures sum them). Misuse is told
     * before a full queue: EAGAIN would have the caller try the same call
     * again. */
    size_t total = 0;
    for (size_t i = 0; i < iovcnt; i++) {
        if ((!iov[i].base && iov[i].len) || iov[i].len > (size_t)PTRDIFF_MAX ||
            iov[i].len > SIZE_MAX - total)
            return OASIS_EINVAL;
        total += iov[i].len;
    }
    /* Each pending request costs memory beyond the send buffer: bounded,
     * so that a writer that never waits for completions is told to. */
    if (f->ext->nreqs && f->ext->nreqs >= max_write_reqs(f->s)) /* (the limit: 1 or more) */
        return OASIS_EAGAIN;
    /* Nothing queued ahead and room for every byte: the write is complete
     * once the ring has them (it takes all or nothing). Without a callback
     * there is nothing to report, so no request is made; with one, the
     * flow's own record carries the completion to the dispatcher (no
     * allocation). Either way the callback never runs inside this call. */
    oasis_tcp_ext *x = f->ext;
    if (!how && iovcnt == 1 && !x->wq.head && (!cb || !x->done1_used) && can_write(f) &&
        f->state != OASIS_TCP_SYN_SENT && (oasis_ring_write_in_place(&x->snd, iov[0].base, iov[0].len) ||
         snd_write_all_slow(f, iov[0].base, iov[0].len))) {
        if (cb) {
            oasis_tcp_wreq *r = &x->done1;
            x->done1_used = 1;
            r->cb = cb;
            r->ud = ud;
            x->nreqs++;
            oasis_tcp_req_done(f, r, 0);
        }
        oasis_tcp_output_queued(f); /* arms what it sets (tcp_timer.c timer_by) */
        return OASIS_OK;
    }
    return submit_write_queue(f, iov, iovcnt, how, cb, ud);
}

/* A write the ring does not take at once: a request in the write queue. */
static OASIS_NOINLINE int submit_write_queue(oasis_flow *f, const oasis_iovec *iov, size_t iovcnt,
                                             int how, oasis_flow_cb cb, void *ud)
{
    oasis_tcp_ext *x = f->ext;
    /* Nothing will ever take these bytes (closed for writing, reset, dead):
     * with a callback the request completes with OASIS_ECLOSED as every
     * completion does; without one the return value is the only word. */
    if (!cb && !can_write(f))
        return OASIS_ECLOSED;
    size_t own = 0; /* bytes copied into the request (SYN-SENT) */
    if (f->state == OASIS_TCP_SYN_SENT && can_write(f)) {
        size_t total = 0;
        for (size_t i = 0; i < iovcnt; i++)
            total += iov[i].len; /* (no wrap: submit_write_held checked) */
        uint64_t held = syn_sent_held(f), room = oasis_tcp_snd_room(f);
        if (total && held <= room && total <= room - held)
            own = total;
    }
    oasis_tcp_wreq *r = oasis_malloc(f->s, sizeof *r + (own ? sizeof *iov + own : iovcnt * sizeof *iov));
    if (!r)
        return OASIS_ENOMEM;
    memset(r, 0, sizeof *r);
    r->cb = cb;
    r->ud = ud;
    r->nodelay = (how & WR_NODELAY) ? 1 : 0;
    r->urgent = (how & WR_URGENT) ? 1 : 0;
    r->iovcnt = iovcnt;
    r->iov = (oasis_iovec *)(r + 1);
    if (own) {
        uint8_t *to = (uint8_t *)(r->iov + 1);
        for (size_t i = 0, at = 0; i < iovcnt; at += iov[i].len, i++)
            if (iov[i].len)
                memcpy(to + at, iov[i].base, iov[i].len);
        r->own = 1;
        r->iovcnt = 1;
        r->iov[0] = (oasis_iovec){to, own};
    } else if (iovcnt) {
        memcpy(r->iov, iov, iovcnt * sizeof *iov);
    }
    x->nreqs++;
    if (!can_write(f)) {
        oasis_tcp_req_done(f, r, OASIS_ECLOSED);
        return OASIS_OK;
    }
    if (r->urgent) {
        /* SND.UP: after the last byte of this write, wherever it will sit
         * (RFC 9293 3.10.2); announced at once, even while the bytes wait
         * for room in the send buffer. */
        uint64_t end = queued_end(f);
        for (size_t i = 0; i < iovcnt; i++)
            end += iov[i].len;
        oasis_tcp_urg_mark(f, end);
    }
    oasis_tcp_wq_push(&f->ext->wq, r);
    oasis_tcp_fill_sndbuf(f);
    oasis_tcp_output(f);
    oasis_tcp_timer_update(f);
    return OASIS_OK;
}

static int submit_write(oasis_flow *f, const oasis_iovec *iov, size_t iovcnt, int how,
                        oasis_flow_cb cb, void *ud)
{
    int err = check_flow(f);
    if (err || (err = oasis_tcp_ext_get(f)))
        return err;
    err = submit_write_held(f, iov, iovcnt, how, cb, ud);
    oasis_tcp_ext_put(f);
    return err;
}

/* oasis_tcp_write's other cases (out of line and a tail call: its common
 * case then keeps nothing across a call of its own). */
static OASIS_NOINLINE int write_other(oasis_flow *f, const void *data, size_t len, oasis_flow_cb cb,
                                      void *ud)
{
    oasis_iovec v = {data, len};
    return submit_write(f, &v, 1, 0, cb, ud);
}

/* The usual write (no callback, nothing pending, room in the ring as it
 * is) is submit_write_held's common case, asked here directly: no iovec,
 * no request count or piece checks. Anything else, errors included, goes
 * by submit_write, which answers as before. The ring holds the bytes
 * at once, and the send copies them in: into the frame in the same pass
 * when they go at once (oasis_tcp_output_put). */
int oasis_tcp_write(oasis_flow *f, const void *data, size_t len, oasis_flow_cb cb, void *ud)
{
    oasis_tcp_ext *x;
    uint8_t *to;
    if (f && !cb && f->life == OASIS_TCP_LIFE_APP && (x = f->ext) && !x->nreqs && data &&
        can_write(f) && f->state != OASIS_TCP_SYN_SENT && (to = oasis_ring_claim(&x->snd, len))) {
        f->hold++; /* (oasis_tcp_ext_get with the extension there) */
        /* arms what it sets (tcp_timer.c timer_by); ext_put */
        return oasis_tcp_output_put(f, data, to, (uint32_t)len);
    }
    return write_other(f, data, len, cb, ud);
}

int oasis_tcp_writev(oasis_flow *f, const oasis_iovec *iov, size_t iovcnt, oasis_flow_cb cb,
                     void *ud)
{
    return submit_write(f, iov, iovcnt, 0, cb, ud);
}

int oasis_tcp_write_nodelay(oasis_flow *f, const void *data, size_t len, oasis_flow_cb cb,
                            void *ud)
{
    oasis_iovec v = {data, len};
    return submit_write(f, &v, 1, WR_NODELAY, cb, ud);
}

int oasis_tcp_writev_nodelay(oasis_flow *f, const oasis_iovec *iov, size_t iovcnt,
                             oasis_flow_cb cb, void *ud)
{
    return submit_write(f, iov, iovcnt, WR_NODELAY, cb, ud);
}

int oasis_tcp_write_urgent(oasis_flow *f, const void *data, size_t len, oasis_flow_cb cb,
                           void *ud)
{
    if (f && len == 0)
        return OASIS_EINVAL; /* RFC 9293 3.8.5: at least one data octet */
    oasis_iovec v = {data, len};
    return submit_write(f, &v, 1, WR_URGENT, cb, ud);
}

/* ---- closing --------------------------------------------------------------- */

static int oasis_tcp_close_held(oasis_flow *f, oasis_flow_cb cb, void *ud)
{
    int err = check_flow(f);
    if (err)
        return err;
    if (f->close_req)
        return OASIS_EBUSY;
    f->close_req = 1;
    f->ext->close_cb = cb;
    f->ext->close_ud = ud;
    f->auto_release = cb == NULL; /* close and forget: the stack lets go */
    if (f->state == OASIS_TCP_SYN_SENT) {
        /* RFC 9293 3.10.4: delete the TCB; the connect callback hears
         * OASIS_ECANCELED, queued writes OASIS_ECLOSED, then close completes. */
        oasis_tcp_flow_end(f, OASIS_ECANCELED);
        return OASIS_OK;
    }
    if (!f->in_table) {
        f->close_done = 1; /* already over (reset, death) */
        oasis_tcp_wake(f);
        return OASIS_OK;
    }
    oasis_tcp_fill_sndbuf(f);
    oasis_tcp_output(f);
    oasis_tcp_timer_update(f);
    return OASIS_OK;
}

int oasis_tcp_close(oasis_flow *f, oasis_flow_cb cb, void *ud)
{
    int err = check_flow(f);
    if (err || (err = oasis_tcp_ext_get(f)))
        return err;
    err = oasis_tcp_close_held(f, cb, ud);
    oasis_tcp_ext_put(f);
    return err;
}

static int oasis_tcp_shutdown_held(oasis_flow *f, oasis_tcp_shutdown_how how)
{
    int err = check_flow(f);
    if (err)
        return err;
    if (how != OASIS_TCP_SHUT_READ && how != OASIS_TCP_SHUT_WRITE && how != OASIS_TCP_SHUT_READ_WRITE)
        return OASIS_EINVAL;
    if (how & OASIS_TCP_SHUT_READ) {
        /* Reads report OASIS_EOF from now on; what arrives is dropped as
         * it comes (still acknowledged, so the peer is not stalled). */
        f->rd_shut = 1;
        oasis_tcp_wake(f);
    }
    if ((how & OASIS_TCP_SHUT_WRITE) && !f->wr_shut) {
        f->wr_shut = 1;
        if (f->state == OASIS_TCP_SYN_SENT)
            return OASIS_OK; /* the FIN follows the queued writes once established */
        if (f->in_table) {
            oasis_tcp_fill_sndbuf(f);
            oasis_tcp_output(f);
            oasis_tcp_timer_update(f);
        }
    }
    return OASIS_OK;
}

int oasis_tcp_shutdown(oasis_flow *f, oasis_tcp_shutdown_how how)
{
    int err = check_flow(f);
    if (err || (err = oasis_tcp_ext_get(f)))
        return err;
    err = oasis_tcp_shutdown_held(f, how);
    oasis_tcp_ext_put(f);
    return err;
}

void oasis_tcp_abort(oasis_flow *f)
{
    if (!f)
        return;
    if (f->life == OASIS_TCP_LIFE_APP)
        oasis_tcp_cancel_flow(f);
    else if (f->life == OASIS_TCP_LIFE_FINISHED)
        /* From a callback of an abort (disconnect) still completing this
         * flow's requests: the rest complete now, so that this call too
         * returns with none pending. Elsewhere a finished flow owes none. */
        oasis_tcp_drain_canceled(f);
}

void oasis_tcp_release(oasis_flow *f)
{
    if (!f)
        return;
    if (f->life == OASIS_TCP_LIFE_APP) {
        /* Still open: as oasis_tcp_abort. Held meanwhile, since the
         * callbacks the abort runs may release the handle themselves. */
        f->busy++;
        oasis_tcp_cancel_flow(f);
        f->busy--;
    }
    if (f->life == OASIS_TCP_LIFE_FINISHED) {
        /* From a callback of an abort (disconnect, destroy) that is still
         * completing this flow's requests: the rest complete now, before
         * the handle goes, so that none comes after release returned. */
        oasis_tcp_drain_canceled(f);
        if (f->life == OASIS_TCP_LIFE_FINISHED)
            oasis_tcp_set_life(f, OASIS_TCP_LIFE_RELEASED);
    }
    oasis_tcp_maybe_free(f);
}

/* ---- attributes ------------------------------------------------------------ */

void oasis_tcp_dst(const oasis_flow *f, oasis_ipaddr *addr, uint16_t *port)
{
    if (addr) {
        if (f)
            *addr = f->c.raddr;
        else
            memset(addr, 0, sizeof *addr);
    }
    if (port)
        *port = f ? f->c.rport : 0;
}

void oasis_tcp_src(const oasis_flow *f, oasis_ipaddr *addr, uint16_t *port)
{
    if (addr) {
        if (f)
            *addr = f->c.laddr;
        else
            memset(addr, 0, sizeof *addr);
    }
    if (port)
        *port = f ? f->c.lport : 0;
}

void oasis_tcp_dst4(const oasis_flow *f, uint32_t *addr, uint16_t *port)
{
    oasis_ipaddr a;
    oasis_tcp_dst(f, &a, port);
    if (addr)
        *addr = oasis_ipaddr_to_v4(&a);
}

void oasis_tcp_src4(const oasis_flow *f, uint32_t *addr, uint16_t *port)
{
    oasis_ipaddr a;
    oasis_tcp_src(f, &a, port);
    if (addr)
        *addr = oasis_ipaddr_to_v4(&a);
}

int oasis_tcp_flow_error(const oasis_flow *f) { return f ? f->err : OASIS_EINVAL; }

int oasis_tcp_flow_soft_error(const oasis_flow *f)
{
    if (!f)
        return OASIS_EINVAL;
    return f->ext && f->life == OASIS_TCP_LIFE_APP && !f->err ? f->ext->soft_err : 0;
}

const char *oasis_tcp_flow_strerror(const oasis_flow *f)
{
    static const char *const why[] = {
        [OASIS_TCP_END_NONE] = "no error",
        [OASIS_TCP_END_SYN_TIMEOUT] = "connection attempt timed out",
        [OASIS_TCP_END_RETRIES] = "connection timed out: the peer stopped acknowledging data",
        [OASIS_TCP_END_KEEPALIVE] = "connection timed out: keepalive probes went unanswered",
        [OASIS_TCP_END_FIN_WAIT2] = "connection timed out: the peer never closed its side",
        [OASIS_TCP_END_REFUSED] = "connection attempt was refused",
        [OASIS_TCP_END_RESET] = "connection reset by peer",
        [OASIS_TCP_END_CANCELED] = "connection canceled by the application",
    };
    if (!f)
        return oasis_strerror(OASIS_EINVAL);
    if (f->end_why == OASIS_TCP_END_ICMP) {
        switch (f->err) {
        case OASIS_EREFUSED:
            return "connection attempt refused: port unreachable (ICMP)";
        case OASIS_EPROTOUNREACH:
            return "connection attempt failed: protocol unreachable (ICMP)";
        case OASIS_ENETUNREACH:
            return "connection timed out: network unreachable (ICMP)";
        case OASIS_EMALFORMED:
            return "connection timed out: parameter problem (ICMP)";
        default:
            return "connection timed out: host unreachable";
        }
    }
    if (f->end_why < sizeof why / sizeof why[0] && f->end_why != OASIS_TCP_END_NONE)
        return why[f->end_why];
    return f->err ? oasis_strerror(f->err) : why[OASIS_TCP_END_NONE];
}

static int oasis_tcp_set_nodelay_held(oasis_flow *f, int on)
{
    int err = check_flow(f);
    if (err)
        return err;
    f->nodelay = on ? 1 : 0;
    if (on && f->in_table)
        oasis_tcp_output(f);
    return OASIS_OK;
}

int oasis_tcp_set_nodelay(oasis_flow *f, int on)
{
    int err = check_flow(f);
    if (err || (err = oasis_tcp_ext_get(f)))
        return err;
    err = oasis_tcp_set_nodelay_held(f, on);
    oasis_tcp_ext_put(f);
    return err;
}

int oasis_tcp_set_dscp(oasis_flow *f, uint8_t dscp)
{
    int err = check_flow(f);
    if (err)
        return err;
    if (dscp > 63)
        return OASIS_EINVAL;
    f->tos = (uint8_t)((dscp << 2) | (f->tos & 3)); /* the ECN bits stay */
    return OASIS_OK;
}

int oasis_tcp_set_ttl(oasis_flow *f, uint8_t ttl)
{
    int err = check_flow(f);
    if (err)
        return err;
    f->ttl = ttl;
    return OASIS_OK;
}

static int oasis_tcp_set_cc_held(oasis_flow *f, oasis_cc_algo algo)
{
    const oasis_cc_ops *ops = oasis_cc_get(algo);
    if (check_flow(f))
        return check_flow(f);
    if (!ops || f->close_req || oasis_tcp_snd_written(f) ||
        oasis_seq_gt(f->snd_max, f->iss + 1))
        return OASIS_EINVAL;
    f->ext->ccops = ops;
    f->cc_algo = algo;
    if (oasis_tcp_synchronized(f)) /* nothing sent yet: its initial window */
        ops->init(&f->ext->cc, oasis_tcp_eff_mss(f), oasis_now(f->s));
    return OASIS_OK;
}

int oasis_tcp_set_cc(oasis_flow *f, oasis_cc_algo algo)
{
    int err = check_flow(f);
    if (err || (err = oasis_tcp_ext_get(f)))
        return err;
    err = oasis_tcp_set_cc_held(f, algo);
    oasis_tcp_ext_put(f);
    return err;
}

static int resize_ring(oasis_stack *s, oasis_ring *r, uint32_t cap)
{
    if (cap == r->cap)
        return OASIS_OK;
    return oasis_ring_set_cap(s, r, cap);
}

static int oasis_tcp_set_bufsizes_held(oasis_flow *f, uint32_t sndbuf, uint32_t rcvbuf)
{
    if (check_flow(f))
        return check_flow(f);
    if (sndbuf < 1024 || rcvbuf < 1024 || sndbuf > (1u << 30) || rcvbuf > (1u << 30))
        return OASIS_EINVAL;
    uint32_t adv = oasis_seq_gt(f->rcv_adv, f->rcv_nxt) ? f->rcv_adv - f->rcv_nxt : 0;
    if (rcvbuf < adv || (f->ext->snd.len && sndbuf != f->ext->snd.cap) || (f->ext->rcv.len && rcvbuf != f->ext->rcv.cap))
        return OASIS_EINVAL; /* would shrink what is promised or buffered */
    if (resize_ring(f->s, &f->ext->snd, sndbuf) || resize_ring(f->s, &f->ext->rcv, rcvbuf))
        return OASIS_EINVAL;
    f->sndbuf = sndbuf;
    f->rcvbuf = rcvbuf;
    oasis_tcp_tune_lock(f); /* sizes the application chose: no auto-tuning */
    return OASIS_OK;
}

int oasis_tcp_set_bufsizes(oasis_flow *f, uint32_t sndbuf, uint32_t rcvbuf)
{
    int err = check_flow(f);
    if (err || (err = oasis_tcp_ext_get(f)))
        return err;
    err = oasis_tcp_set_bufsizes_held(f, sndbuf, rcvbuf);
    oasis_tcp_ext_put(f);
    return err;
}

/* Storage of empty buffers goes back; rings and lists grow again on use. */
int oasis_tcp_trim(oasis_flow *f)
{
    int err = check_flow(f);
    if (err)
        return err;
    oasis_tcp_ext_cache_trim(f->s); /* the stack's spares too */
    if (!f->ext) /* idle: nothing else held */
        return OASIS_OK;
    if (f->ext->rcv.mem && f->ext->rcv.len == 0 && !f->ext->rcv.pin) /* pinned: a read lands there */
        oasis_ring_fini(f->s, &f->ext->rcv);
    if (f->ext->ofo.r && f->ext->ofo.n == 0)
        oasis_ofo_fini(f->s, &f->ext->ofo);
    if (f->ext->snd.mem && f->ext->snd.len == 0) /* nothing unsent or unacknowledged */
        oasis_ring_fini(f->s, &f->ext->snd);
    if (f->ext->sb.rack.segs && f->ext->sb.rack.n == 0 && f->snd_una == f->snd_max)
        oasis_rack_segs_free(f);
    return OASIS_OK;
}

static int oasis_tcp_set_keepalive_held(oasis_flow *f, const oasis_keepalive *keepalive)
{
    int err = check_flow(f);
    if (err)
        return err;
    if (!keepalive_valid(keepalive))
        return OASIS_EINVAL;
    set_keepalive(f, keepalive);
    f->ext->tm.keep = keepalive ? oasis_now(f->s) + f->ext->ka.after_ns : OASIS_TCP_NEVER;
    oasis_tcp_timer_by(f, f->ext->tm.keep);
    return OASIS_OK;
}

int oasis_tcp_set_keepalive(oasis_flow *f, const oasis_keepalive *keepalive)
{
    int err = check_flow(f);
    if (err || (err = oasis_tcp_ext_get(f)))
        return err;
    err = oasis_tcp_set_keepalive_held(f, keepalive);
    oasis_tcp_ext_put(f);
    return err;
}

void oasis_flow_set_user_data(oasis_flow *f, void *ud)
{
    if (f)
        f->user_data = ud;
}

void *oasis_flow_user_data(const oasis_flow *f) { return f ? f->user_data : NULL; }

oasis_stack *oasis_flow_stack(const oasis_flow *f) { return f ? f->s : NULL; }

/* ---- introspection --------------------------------------------------------- */

const char *oasis_tcp_state_name(oasis_tcp_state st)
{
    static const char *const names[] = {"CLOSED",      "LISTEN",     "SYN_SENT",   "SYN_RECEIVED",
                                        "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT",
                                        "CLOSING",     "LAST_ACK",   "TIME_WAIT"};
    if ((unsigned)st >= sizeof names / sizeof names[0])
        return "UNKNOWN";
    return names[st];
}

int oasis_tcp_get_info(const oasis_flow *f, oasis_tcp_info *info)
{
    if (!f || !info)
        return OASIS_EINVAL;
    memset(info, 0, sizeof *info);
    info->state = (oasis_tcp_state)f->state;
    info->local_addr = oasis_ipaddr_to_v4(&f->c.laddr); /* 0 for IPv6 */
    info->remote_addr = oasis_ipaddr_to_v4(&f->c.raddr);
    oasis_tcp_src(f, &info->local, NULL);
    oasis_tcp_dst(f, &info->remote, NULL);
    info->local_port = f->c.lport;
    info->remote_port = f->c.rport;
    if (f->ext) {
        info->srtt_ns = f->ext->rtt.srtt_ns;
        info->rttvar_ns = f->ext->rtt.rttvar_ns;
        info->rto_ns = oasis_rtt_rto(&f->ext->rtt);
        info->cwnd = f->ext->cc.cwnd;
        info->ssthresh = f->ext->cc.ssthresh;
        info->rcv_wnd = oasis_ring_free(&f->ext->rcv);
    } else { /* idle: what the flow kept */
        oasis_rtt r;
        oasis_tcp_idle_rtt(f, &r);
        info->srtt_ns = r.srtt_ns;
        info->rttvar_ns = r.rttvar_ns;
        info->rto_ns = oasis_rtt_rto(&r);
        info->cwnd = f->idle_cwnd;
        info->ssthresh = f->idle_ssthresh;
        info->rcv_wnd = f->rcvbuf;
    }
    info->mss_send = f->mss_send;
    info->mss_recv = f->mss_recv;
    info->path_mtu = (f->ext ? oasis_tcp_seg_mss(f) : f->mss_send) + 20 + oasis_tcp_ip_hlen(&f->c);
    info->bytes_in_flight = f->snd_max - f->snd_una;
    info->snd_wnd = f->snd_wnd;
    info->sndbuf = f->sndbuf;
    info->rcvbuf = f->rcvbuf;
    info->retransmits = f->retransmits;
    info->bytes_acked = f->snd_acked;
    info->bytes_received = f->bytes_received;
    info->segs_in = f->segs_in;
    info->segs_out = f->segs_out;
    info->snd_wscale = f->snd_wscale;
    info->rcv_wscale = f->rcv_wscale;
    info->timestamps = f->ts_ok;
    info->sack = f->sack_ok;
    info->ecn = f->ecn_ok && f->state != OASIS_TCP_SYN_SENT; /* SYN_SENT: only asked */
    return OASIS_OK;
}

/* Writes are still taken: room is 0 once writing is over (tcp.h). */
static int writing(const oasis_flow *f)
{
    return f->life == OASIS_TCP_LIFE_APP && can_write(f);
}

int oasis_tcp_get_sndbuf(const oasis_flow *f, oasis_tcp_sndbuf *out)
{
    if (!f || !out)
        return OASIS_EINVAL;
    memset(out, 0, sizeof *out);
    out->max_requests = max_write_reqs(f->s);
    if (!f->ext) { /* idle: empty */
        out->size = f->sndbuf;
        out->room = writing(f) ? f->sndbuf : 0;
        return OASIS_OK;
    }
    out->size = f->ext->snd.cap;
    /* snd_max - snd_una counts the FIN too once it is sent; the buffer
     * holds data only. */
    uint32_t sent = f->snd_max - f->snd_una;
    out->unacked = sent < f->ext->snd.len ? sent : f->ext->snd.len;
    out->unsent = f->ext->snd.len - out->unacked;
    out->room = writing(f) ? oasis_ring_free(&f->ext->snd) : 0;
    for (const oasis_tcp_wreq *r = f->ext->wq.head; r; r = r->next) {
        if (r->own) { /* SYN-SENT: taken, held until ESTABLISHED */
            uint32_t n = (uint32_t)(r->iov[0].len - r->off);
            out->unsent += n;
            out->room = out->room > n ? out->room - n : 0;
            continue;
        }
        for (size_t i = r->idx; i < r->iovcnt; i++)
            out->pending += r->iov[i].len - (i == r->idx ? r->off : 0);
    }
    out->requests = f->ext->nreqs;
    out->max_requests = max_write_reqs(f->s);
    return OASIS_OK;
}

void oasis_tcp_foreach_flow(oasis_stack *s, void (*fn)(oasis_flow *flow, void *ud), void *ud)
{
    if (!s || !s->tcp || !fn)
        return;
    /* fn may close, abort or release any flow (this one too) and run the
     * callbacks that follow: the slab walk goes on from f's address, never
     * reading f, as disconnect's does. Destroying the stack is refused.
     * A flow closed with no callback is in APP until the close completes,
     * but its handle was given back (tcp.h): not the application's. */
    oasis_app_enter(s);
    for (oasis_flow *f = oasis_tcp_flow_next(s, NULL); f; f = oasis_tcp_flow_next(s, f))
        if (f->life == OASIS_TCP_LIFE_APP && !f->auto_release && !(f->ext && f->ext->lib_owned))
            fn(f, ud);
    oasis_app_leave(s);
}

int oasis_tcp_set_lib_owned(oasis_flow *f)
{
    int err = f->ext ? 0 : oasis_tcp_ext_make(f);
    if (!err)
        f->ext->lib_owned = 1;
    return err;
}
