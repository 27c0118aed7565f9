/* The dispatcher: completions (connect, accept, read, write, close) never
 * run inside the API call that caused them. Whatever becomes due wakes the
 * flow onto the layer's ready list and marks the stack (tcp_due: the
 * instant of the first wake); the next oasis_stack_poll() runs the
 * callbacks after the timers due. Also cancel (abort, disconnect), which
 * runs the callbacks at once because the application asked for it. */
#include "core/stack_impl.h"
#include "core/compiler.h"
#include "oasis/error.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_seq.h"
#include "tcp/tcp_tune.h"

OASIS_HOT void oasis_tcp_wake(oasis_flow *f)
{
    oasis_tcp_layer *L = f->s->tcp;
    if (f->ready)
        return;
    f->ready = 1;
    f->ready_next = NULL;
    if (L->ready_tail)
        L->ready_tail->ready_next = f;
    else
        L->ready_head = f;
    L->ready_tail = f;
    /* A running dispatch takes this flow in a later round, or marks the
     * stack again when it stops (oasis_tcp_dispatch); a mark stays. */
    oasis_stack *s = f->s;
    if (!L->dispatching && s->tcp_due == UINT64_MAX)
        s->tcp_due = oasis_now(s);
}

#define LIFE_APP OASIS_TCP_LIFE_APP

/* The connect callback's error for a failed attempt. */
static int connect_error(const oasis_flow *f)
{
    return f->err ? f->err : OASIS_ETIMEDOUT;
}

static void run_open(oasis_flow *f)
{
    oasis_stack *s = f->s;
    int opened = oasis_seq_gt(f->snd_una, f->iss);
    if (f->connect_pending && (opened || f->state == OASIS_TCP_CLOSED)) {
        f->connect_pending = 0;
        int held = f->life != OASIS_TCP_LIFE_EMBRYO; /* oasis_tcp_connect_flow */
        if (opened) {
            if (!held)
                oasis_tcp_set_life(f, LIFE_APP);
            if (f->in_table && (f->ext->wq.head || f->wr_shut)) {
                /* written or shut before the handshake completed */
                oasis_tcp_fill_sndbuf(f);
                oasis_tcp_output(f);
                oasis_tcp_timer_update(f);
            }
            f->ext->open_cb.connect(s, f, 0, f->ext->open_ud);
        } else {
            if (!held)
                oasis_tcp_set_life(f, OASIS_TCP_LIFE_RELEASED);
            f->ext->open_cb.connect(s, held ? f : NULL, connect_error(f), f->ext->open_ud);
        }
    }
    if (f->accept_pending)
        oasis_tcp_run_accept(f); /* tcp_api.c: accept control */
}

/* Bytes waiting to be read (an idle flow has no extension: none). */
static uint32_t rcv_len(const oasis_flow *f) { return f->ext ? f->ext->rcv.len : 0; }

static int read_eof(const oasis_flow *f)
{
    return f->rd_shut || (rcv_len(f) == 0 && (f->fin_rcvd || f->state == OASIS_TCP_CLOSED ||
                                              f->state == OASIS_TCP_TIME_WAIT));
}

static void run_reads(oasis_flow *f)
{
    if (f->rd_shut && rcv_len(f)) {
        /* shut for reading: what arrives is acknowledged and dropped */
        oasis_ring_consume(f->s, &f->ext->rcv, f->ext->rcv.len);
        if (f->in_table)
            oasis_tcp_window_update(f);
    }
    oasis_read_cb cb;
    while ((cb = f->read_cb) && f->life == LIFE_APP) {
        void *ud = f->read_ud;
        oasis_tcp_ext *x = f->ext; /* stays while busy; may come from a callback */
        if (x && x->rcv.len && !f->rd_shut) {
            const uint8_t *p;
            uint32_t n = oasis_ring_front(&x->rcv, &p);
            f->read_cb = NULL;
            /* A read issued from this callback is served by this loop:
             * oasis_tcp_read need not wake the flow for another round. */
            oasis_tcp_layer *L = f->s->tcp;
            oasis_flow *outer = L->reading;
            L->reading = f;
            oasis_ring_lend(&x->rcv); /* p stays valid if a poll from cb delivers more */
            cb(f, 0, p, n, ud);
            oasis_ring_unlend(f->s, &x->rcv);
            L->reading = outer;
            if (!x->rcv.mem) {
                if (f->read_cb)
                    oasis_tcp_wake(f);
                break;
            }
            oasis_ring_consume(f->s, &x->rcv, n);
            oasis_tcp_urg_consumed(f);
            /* right-sizing (tcp_tune.c), at the poll's cached instant */
            oasis_tcp_rcv_adjust(f, n, f->s->now_cache);
            if (f->in_table)
                oasis_tcp_window_update(f);
            /* Everything read and the stream goes on (request/response):
             * a read issued meanwhile waits for data, as the next turn of
             * the loop would find. (A FIN, a shutdown or data that a
             * callback brought wakes the flow again or leaves bytes.) */
            if (!x->rcv.len && f->state == OASIS_TCP_ESTABLISHED)
                return;
        } else if (read_eof(f)) {
            f->read_cb = NULL;
            cb(f, OASIS_EOF, NULL, 0, ud);
            break; /* a new read gets EOF on the next round */
        } else {
            break;
        }
    }
}

static void run_done(oasis_flow *f)
{
    oasis_tcp_wreq *r;
    while (f->life == LIFE_APP && f->ext && (r = oasis_tcp_wq_pop(&f->ext->doneq))) {
        oasis_flow_cb cb = r->cb;
        void *ud = r->ud;
        int err = r->err;
        oasis_tcp_req_free(f->s, f->ext, r);
        f->ext->nreqs--;
        if (cb)
            cb(f, err, ud);
    }
}

/* The close completion comes last: every read and write issued before it,
 * also from the callbacks of this very round, completes first, and the
 * handle is FINISHED before the close callback runs, so nothing issued from
 * it is accepted (exactly once, none after close). */
static void run_close(oasis_flow *f)
{
    if (f->life != LIFE_APP)
        return;
    if (f->connect_pending) { /* closed in SYN-SENT by a write callback of this round */
        run_open(f);
        if (f->life != LIFE_APP)
            return;
    }
    if (f->read_cb && !read_eof(f))
        return; /* a pending read still gets its data first */
    if (f->read_cb) {
        oasis_read_cb rcb = f->read_cb;
        f->read_cb = NULL;
        rcb(f, OASIS_EOF, NULL, 0, f->read_ud);
        if (f->life != LIFE_APP)
            return;
    }
    run_done(f);
    if (f->life != LIFE_APP)
        return;
    if (f->read_cb || f->ext->doneq.head) {
        oasis_tcp_wake(f); /* issued from those callbacks: next round */
        return;
    }
    oasis_flow_cb cb = f->ext->close_cb;
    f->ext->close_cb = NULL;
    int err = f->err == OASIS_ECANCELED ? 0 : f->err; /* closed in SYN-SENT: as asked */
    oasis_tcp_set_life(f, f->auto_release ? OASIS_TCP_LIFE_RELEASED : OASIS_TCP_LIFE_FINISHED);
    if (cb)
        cb(f, err, f->ext->close_ud);
}

static void dispatch_flow(oasis_flow *f)
{
    f->busy++;
    if (f->connect_pending || f->accept_pending)
        run_open(f);
    oasis_tcp_run_events(f); /* tcp_urgent.c: urgent before the bytes are read */
    run_reads(f);
    /* An attempt that a callback of this round closed (SYN-SENT: tcp.h)
     * tells its connect callback before the writes and the close. */
    if (f->connect_pending)
        run_open(f);
    if (f->ext && f->ext->doneq.head) /* most rounds complete no write */
        run_done(f);
    if (f->close_done)
        run_close(f);
    f->busy--;
    oasis_tcp_ext_idle(f);
    oasis_tcp_maybe_free(f);
}

#define DISPATCH_ROUNDS 64

/* Runs inside poll_run (stack.c): the stack's time is cached throughout. */
OASIS_HOT void oasis_tcp_dispatch(oasis_stack *s)
{
    oasis_tcp_layer *L = s->tcp;
    /* oasis_stack_poll() called from one of our callbacks lands here again:
     * the outer dispatch owns the round and takes whatever was woken meanwhile
     * once the current round is done. While oasis_tcp_disconnect runs (a poll
     * from one of its cancel callbacks), nothing woken runs either: the flows
     * it has not reached yet are canceled with their callbacks there, and a
     * passive flow is not handed over after its listener went. */
    if (L->dispatching)
        return;
    if (L->closing) {
        s->tcp_due = UINT64_MAX; /* disconnect's end dispatches what is left */
        return;
    }
    L->dispatching = 1;
    s->tcp_due = UINT64_MAX; /* this dispatch takes every flow woken */
    /* Each round takes the flows woken so far; wakes from their callbacks
     * form the next round. After DISPATCH_ROUNDS the rest waits a
     * nanosecond (for a poll after it), so callbacks that keep re-arming
     * themselves cannot hold oasis_stack_poll() forever. The round lives
     * in the layer so that disconnect/abort from a callback can unlink
     * flows from it. */
    for (int round = 0; round < DISPATCH_ROUNDS && L->ready_head; round++) {
        L->round = L->ready_head;
        L->ready_head = L->ready_tail = NULL;
        oasis_flow *f;
        while ((f = L->round)) {
            L->round = f->ready_next;
            f->ready = 0;
            f->ready_next = NULL;
            dispatch_flow(f);
        }
    }
    L->dispatching = 0;
    if (L->ready_head)
        s->tcp_due = oasis_now(s) + 1;
}

/* Unlinks f from the ready list or the round (O(n), abort/disconnect only). */
static void ready_unlink(oasis_flow *f)
{
    oasis_tcp_layer *L = f->s->tcp;
    if (!f->ready)
        return;
    oasis_flow **pp, *prev = NULL;
    for (pp = &L->ready_head; *pp; prev = *pp, pp = &(*pp)->ready_next) {
        if (*pp == f) {
            *pp = f->ready_next;
            if (L->ready_tail == f)
                L->ready_tail = prev;
            goto out;
        }
    }
    for (pp = &L->round; *pp; pp = &(*pp)->ready_next) {
        if (*pp == f) {
            *pp = f->ready_next;
            break;
        }
    }
out:
    f->ready = 0;
    f->ready_next = NULL;
}

/* Moves the handle on from APP (or EMBRYO) for good: requests issued from
 * the callbacks that follow are refused. */
static void finish_life(oasis_flow *f)
{
    if (f->life == OASIS_TCP_LIFE_EMBRYO && !f->connect_pending)
        oasis_tcp_set_life(f, OASIS_TCP_LIFE_RELEASED);
    else if (f->life == LIFE_APP)
        oasis_tcp_set_life(f, f->auto_release ? OASIS_TCP_LIFE_RELEASED : OASIS_TCP_LIFE_FINISHED);
}

void oasis_tcp_cancel_requests(oasis_flow *f)
{
    oasis_stack *s = f->s;
    int held = f->life != OASIS_TCP_LIFE_EMBRYO;
    finish_life(f);
    f->busy++;
    oasis_app_enter(s); /* callbacks from abort, release, disconnect: no destroy */
    oasis_tcp_wreq *r;
    /* An idle flow (no extension) has no requests, no pending open or close. */
    oasis_tcp_ext *x = f->ext;
    while (x && (r = oasis_tcp_wq_pop(&x->wq)))
        oasis_tcp_wq_push(&x->doneq, r), r->err = OASIS_ECANCELED;
    while (x && (r = oasis_tcp_wq_pop(&x->ackq)))
        oasis_tcp_wq_push(&x->doneq, r), r->err = OASIS_ECANCELED;
    if (f->connect_pending) {
        f->connect_pending = 0;
        if (f->life == OASIS_TCP_LIFE_EMBRYO)
            oasis_tcp_set_life(f, OASIS_TCP_LIFE_RELEASED);
        f->ext->open_cb.connect(s, held ? f : NULL, OASIS_ECANCELED, f->ext->open_ud);
    }
    f->accept_pending = 0;
    oasis_tcp_drain_canceled(f);
    oasis_app_leave(s);
    f->busy--;
}

/* The completions a cancel owes, in order: the read, the writes, the
 * close. oasis_tcp_release calls it too: released from one of these
 * callbacks, the handle gets the rest before release returns, never after
 * (the application frees their user data once it has let go). */
void oasis_tcp_drain_canceled(oasis_flow *f)
{
    oasis_tcp_ext *x = f->ext;
    oasis_tcp_wreq *r;
    f->busy++;
    oasis_app_enter(f->s);
    if (f->read_cb) {
        oasis_read_cb cb = f->read_cb;
        f->read_cb = NULL;
        cb(f, OASIS_ECANCELED, NULL, 0, f->read_ud);
    }
    while (x && (r = oasis_tcp_wq_pop(&x->doneq))) {
        oasis_flow_cb cb = r->cb;
        void *ud = r->ud;
        int err = r->err;
        oasis_tcp_req_free(f->s, x, r);
        x->nreqs--;
        if (cb)
            cb(f, err, ud);
    }
    if (x && x->close_cb) {
        oasis_flow_cb cb = x->close_cb;
        x->close_cb = NULL;
        cb(f, OASIS_ECANCELED, x->close_ud);
    }
    oasis_app_leave(f->s);
    f->busy--;
}

void oasis_tcp_cancel_flow(oasis_flow *f)
{
    oasis_stack *s = f->s;
    /* The RST goes out through the flow's output path, which needs the
     * extension; without memory for it the peer learns from its own
     * retransmissions (as if the RST were lost). */
    int was_idle = !f->ext;
    int held = oasis_tcp_ext_get(f) == OASIS_OK;
    if (held && f->in_table && f->state != OASIS_TCP_SYN_SENT)
        oasis_tcp_send_rst_flow(f);
    if (f->in_table && !f->err) {
        f->err = OASIS_ECANCELED;
        f->end_why = OASIS_TCP_END_CANCELED;
    }
    oasis_tcp_set_state(f, OASIS_TCP_CLOSED);
    if (f->in_table)
        oasis_tcp_table_remove(s, &f->c);
    if (f->ext)
        oasis_timer_stop(s, &f->ext->timer);
    oasis_tcp_listener_detach(f);
    ready_unlink(f);
    oasis_tcp_cancel_requests(f);
    if (held)
        oasis_tcp_ext_put(f);
    if (was_idle)
        oasis_tcp_ext_drop_canceled(f); /* it had nothing pending: nothing lost */
    oasis_tcp_maybe_free(f);
}
