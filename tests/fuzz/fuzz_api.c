/* Public TCP API fuzz target (tcp.h against its documentation).
 *
 * Per input, two stacks (10.0.0.1 and 10.0.0.2) on the in-memory wire with a
 * virtual clock. The input is a list of operations: [op][operand bytes...]
 * (reads past the end give zeros). Operations are the public calls of tcp.h
 * on either stack or on a flow handle the harness holds: listen, unlisten,
 * connect (both kinds), read, write/writev/write_nodelay/writev_nodelay of
 * generated lengths, close (with and without callback), shutdown (every how,
 * invalid ones too), abort, release, set_bufsizes, set_nodelay,
 * set_keepalive, accept pause/resume/pull, disconnect, NULL misuse; and the
 * world around them: wire impairments (loss, corruption, reordering,
 * duplication), advancing the virtual clock, running the wire.
 *
 * Re-entry mode (bit 2 of the input's first byte; a script of 1..32 bytes
 * follows it): every callback, UDP receive included, may call back into the
 * stacks as tcp.h allows, up to REENTER_DEPTH deep: poll its stack or step
 * the wire (so more data arrives for the flow whose read callback runs),
 * write, close, shut down, pause or resume reading, abort or release its
 * own flow, or run any operation of the main loop. The stacks then have
 * IPv6 and UDP binds, and may connect to themselves (the loopback queue).
 *
 * Extended re-entry mode (bits 2 and 3): the stacks also have fd00::1/64
 * and fd00::2/64; connects go to the peer's IPv6 addresses (global and
 * link-local), their own, ::1, 127.0.0.1, fd00::9 (nobody) or :: and
 * ff02::1, from a chosen local address or not; listeners take IPv4, IPv6
 * or both, on any address or one (ours, ::1, 127.0.0.1, the peer's, our
 * link-local); and walks (oasis_tcp_foreach_flow) run from the main loop
 * and from every callback, their fn closing, aborting, releasing or
 * writing to the flow it is given or another one, trying to destroy the
 * stack, walking again and re-entering like any callback.
 *
 * Data written on a flow is a known pattern by stream offset (byte k of the
 * stream written by the side on local port p is (k + key(p)) % 251), so the
 * reader can check what it gets.
 *
 * Checked on every step (abort() on violation):
 *  - no callback runs inside an API call (other than abort, release,
 *    disconnect and destroy, which complete pending requests), and no
 *    request's callback runs inside the call that started it;
 *  - a reader receives exactly a prefix of what the other side wrote, in
 *    order, never more; OASIS_EOF is sticky;
 *  - every accepted request completes exactly once (all of them by the time
 *    the stacks are destroyed); a close callback runs at most once, after
 *    every read and write issued before it; no callback on a flow after
 *    oasis_tcp_release returned for it;
 *  - misuse answers the documented error code (finished handle: ECLOSED;
 *    second read: EBUSY; second close: EBUSY; bad shutdown how, bad buffer
 *    size, bad keepalive: EINVAL; listen twice: EADDRINUSE; unlisten/pause
 *    of a port not listened on: ENOENT; NULL handles: EINVAL);
 *  - no callback on a flow after its close callback or after an abort of
 *    it returned; a connect_flow handle's connect callback comes before its
 *    close callback; TCP callbacks of one stack never nest (outside abort,
 *    release, disconnect); connect and listen from a callback that
 *    disconnect runs are refused;
 *  - a UDP callback sees its own datagram's IPv4 options (none for IPv6 or
 *    a loopback destination), also after it polled; none outside callbacks;
 *  - a listener hands over only flows of its families, to its local
 *    address if it has one; bad families or a local address that is not
 *    ours answer EINVAL and EADDRNOTAVAIL;
 *  - a walk hands fn only flows of its stack that the application holds
 *    and has not finished (not released, closed with no callback, aborted,
 *    closed), each at most once, and every flow held and unfinished from
 *    the walk's start to its end exactly once; no callback inside the
 *    walk but those fn runs; destroy from fn answers EBUSY;
 *  - destroying the stacks gives back every byte they allocated (the
 *    allocator counts; ASan/LSan watch the rest). */
#include "fuzz.h"
#include "countalloc.h"
#include "testutil.h"

#include <string.h>

#include "oasis/error.h"
#include "oasis/oasis.h"
#include "oasis/wire.h"

#define NSTK 2
#define MAXF 24
#define MAXC 48
#define MAXR 8192
#define NPORTS 3 /* 80, 81 may be listened on; 82 never */
#define PERIOD 251u
#define MAXLEN (256u * 1024u)
#define MAXOPS 400

static uint8_t pat[MAXLEN + PERIOD];

/* One connection, seen from its two ends. End e is on stack stk[e]; both
 * ends are on one stack when it connects to itself (re-entry mode). */
typedef struct conn {
    int stk[2];
    oasis_ipaddr addr[2]; /* local address of end e */
    uint16_t port[2];     /* local port of end e */
    int attached[2];
    uint64_t written[2]; /* bytes end e wrote (accepted writes) */
    uint64_t got[2];     /* bytes end e read */
    uint64_t taken[2];   /* end of end e's last write that completed with 0 */
    int fin_eof[2];      /* end e read EOF after an orderly close */
    uint64_t eof_got[2]; /* ... after reading this many bytes */
} conn;

typedef struct slot {
    oasis_flow *f;
    int stk, conn, end; /* its stack, connection record and end of it */
    int finished;  /* every request is now refused with ECLOSED */
    int released;  /* oasis_tcp_release returned: no callback any more */
    int gone;      /* given back by close(NULL): the handle is the stack's */
    int reading, closing, close_cbs, eof;
    int wr_shut, rd_shut; /* shutdown(WRITE), shutdown(READ) returned 0 */
    uint64_t got;         /* bytes this handle read */
    int outstanding; /* reads and writes with a callback not yet completed */
    int autoread;    /* read again from the read callback */
    int cb_action;   /* 1: abort, 2: release from the next read callback */
    int release_in_close;
    int connect_pending; /* connect_flow's callback has yet to run */
    int final;           /* close callback ran or abort returned: no callback now */
} slot;

enum { R_CONNECT, R_CONNECT_FLOW, R_READ, R_WRITE, R_CLOSE };

typedef struct req {
    int kind, slot, in_call, completions, accepted, counted;
    int after_end; /* write issued after close or shutdown(WRITE) */
    uint64_t end;  /* stream offset after the write's bytes */
} req;

typedef struct fz {
    oasis_clock *clock;
    oasis_wire *wire;
    oasis_stack *s[NSTK];
    oasis_link *link[NSTK];
    test_counting mem[NSTK]; /* each stack's allocator (tests/support) */
    int listening[NSTK][NPORTS];
    int paused[NSTK][NPORTS];
    int unlistened[NSTK][NPORTS]; /* unlisten returned 0 since the last disconnect */
    slot slots[MAXF];
    int nslots;
    conn conns[MAXC];
    int nconns;
    req reqs[MAXR];
    int nreqs;
    int in_api;   /* inside a call that must not run callbacks */
    int verbose;  /* FUZZ_VERBOSE: trace the operations */
    int canceling; /* inside abort, release, disconnect or destroy */
    int disconnecting[NSTK]; /* inside oasis_tcp_disconnect(s[i]) */
    int tcp_cbs[NSTK];       /* TCP callbacks of stack i running now */
    int cbs[NSTK];           /* callbacks of stack i running now, UDP too */
    int in_wire;             /* inside oasis_wire_step or oasis_wire_run */
    /* Re-entry mode (the input's first byte has bit 2): callbacks call back
     * into the stacks as a short script at the input's front says, read
     * cyclically so that a few bytes drive many callbacks (see reenter). */
    const uint8_t *script;
    size_t script_len, script_pos;
    int depth;   /* re-entering callbacks on the C stack now */
    int budget;  /* re-entries left for this input */
    int tearing; /* the stacks are being destroyed: no re-entry */
    /* Extended re-entry mode (bits 2 and 3): IPv6 addresses of our own
     * (fd00::1 and fd00::2, each stack's link-local), connects and
     * listeners of both families, and walks (oasis_tcp_foreach_flow). */
    int ext;
    oasis_ipaddr v6[NSTK], ll[NSTK];
    unsigned lfam[NSTK][NPORTS];     /* the listener's families (0: both) */
    oasis_ipaddr llocal[NSTK][NPORTS]; /* its local address (family 0: any) */
    int walks;                       /* walks on the C stack now */
} fz;

static const uint16_t ports[NPORTS] = {80, 81, 82};

/* ---- helpers --------------------------------------------------------------- */

static int is_err(int rc, int a) { return rc == a || rc == OASIS_ENOMEM; }

/* What a call on a held handle returns: ECLOSED once its flow has
 * finished, else err when the call is refused (busy, bad arguments), else
 * 0. A macro so that a failed check names the calling line. */
#define CHECK_RC(rc, finished, refused, err)                                                    \
    do {                                                                                        \
        if (finished)                                                                           \
            FUZZ_CHECK(is_err(rc, OASIS_ECLOSED));                                              \
        else if (refused)                                                                       \
            FUZZ_CHECK(is_err(rc, err));                                                        \
        else                                                                                    \
            FUZZ_CHECK(rc == 0);                                                                \
    } while (0)

static uint8_t key_of(uint16_t port) { return (uint8_t)((port * 7u) % PERIOD); }

static const uint8_t *pat_at(uint64_t off, uint16_t port)
{
    return pat + (off + key_of(port)) % PERIOD;
}

static req *req_new(fz *z, int kind, int sl)
{
    if (z->nreqs >= MAXR)
        return NULL;
    req *r = &z->reqs[z->nreqs++];
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->slot = sl;
    r->in_call = 1;
    return r;
}

static void req_started(fz *z, req *r, int rc)
{
    r->in_call = 0;
    r->accepted = rc == 0;
    if (rc != 0) {
        FUZZ_CHECK(r->completions == 0);
        z->nreqs--; /* the last one: give it back */
        FUZZ_CHECK(r == &z->reqs[z->nreqs]);
    }
}

static void req_complete(fz *z, req *r)
{
    FUZZ_CHECK(!r->in_call);
    FUZZ_CHECK(++r->completions == 1);
    if (r->slot >= 0) {
        slot *sl = &z->slots[r->slot];
        FUZZ_CHECK(!sl->released);
        FUZZ_CHECK(!sl->final);
        if (r->counted)
            sl->outstanding--;
    }
}

static fz *stk_fz(oasis_stack *s) { return oasis_stack_user_data(s); }
static fz *flow_fz(oasis_flow *f) { return stk_fz(oasis_flow_stack(f)); }

static int stk_index(fz *z, oasis_stack *s)
{
    for (int i = 0; i < NSTK; i++)
        if (z->s[i] == s)
            return i;
    FUZZ_CHECK(0);
    return -1;
}

/* Whether a is an address of stack i: its IPv4 one, 127/8, ::1, or (in
 * extended mode) its IPv6 ones. */
static int addr_of(fz *z, int i, const oasis_ipaddr *a)
{
    if (oasis_ipaddr_is_loopback(a))
        return 1;
    if (oasis_ipaddr_is_v4(a))
        return oasis_ipaddr_to_v4(a) == OASIS_IPV4(10, 0, 0, 1 + i);
    return z->ext && (oasis_ipaddr_eq(a, &z->v6[i]) || oasis_ipaddr_eq(a, &z->ll[i]));
}

/* The stack a flow's remote address belongs to: its own (a connection to
 * itself) or the other one (also for 10.0.0.9, whom nobody answers). */
static int peer_stack(fz *z, int i, const oasis_ipaddr *ra)
{
    return addr_of(z, i, ra) ? i : 1 - i;
}

/* The connection record of stack i's flow f: the newest one with its
 * stacks, addresses and ports whose end is free, else a new one (an
 * IPv4 and an IPv6 connection may share the ports). *end: f's end. */
static int conn_attach(fz *z, int i, oasis_flow *f, int accepted, int *end)
{
    uint16_t lp = 0, rp = 0;
    oasis_ipaddr la, ra;
    oasis_tcp_src(f, &la, &lp);
    oasis_tcp_dst(f, &ra, &rp);
    int j = peer_stack(z, i, &ra);
    for (int c = z->nconns - 1; c >= 0; c--) {
        conn *k = &z->conns[c];
        for (int e = 0; e < 2; e++) {
            if (k->stk[e] != i || k->port[e] != lp || k->stk[1 - e] != j || k->port[1 - e] != rp ||
                !oasis_ipaddr_eq(&k->addr[e], &la) || !oasis_ipaddr_eq(&k->addr[1 - e], &ra))
                continue;
            /* A listener may open the same connection again: a SYN-cookie
             * ACK still in flight after we aborted the first flow
             * (RFC 4987) carries the stream on from its start. */
            if (k->attached[e] && !accepted)
                goto fresh;
            k->attached[e] = 1;
            *end = e;
            return c;
        }
    }
fresh:
    if (z->nconns >= MAXC)
        return -1;
    conn *k = &z->conns[z->nconns];
    memset(k, 0, sizeof *k);
    k->stk[0] = i;
    k->stk[1] = j;
    k->port[0] = lp;
    k->port[1] = rp;
    k->addr[0] = la;
    k->addr[1] = ra;
    k->attached[0] = 1;
    *end = 0;
    return z->nconns++;
}

static void on_event(oasis_flow *f, oasis_tcp_event ev, void *ud);

static int slot_new(fz *z, int i, oasis_flow *f, int accepted)
{
    if (z->verbose) {
        uint16_t lp = 0, rp = 0;
        oasis_tcp_src(f, NULL, &lp);
        oasis_tcp_dst(f, NULL, &rp);
        fprintf(stderr, "  new slot %d: stack %d %u->%u\n", z->nslots, i, lp, rp);
    }
    if (z->nslots >= MAXF)
        return -1;
    int end = 0, c = conn_attach(z, i, f, accepted, &end);
    if (c < 0)
        return -1;
    slot *sl = &z->slots[z->nslots];
    memset(sl, 0, sizeof *sl);
    sl->f = f;
    sl->stk = i;
    sl->conn = c;
    sl->end = end;
    oasis_flow_set_user_data(f, sl);
    if (z->script_len) /* re-entry mode: reports re-enter too */
        FUZZ_CHECK(oasis_tcp_set_event_cb(f, on_event, z) == 0 || oasis_tcp_flow_error(f) != 0);
    return z->nslots++;
}

/* Abort and release complete the flow's pending requests before they
 * return; called again from those callbacks (nested) they return at once,
 * before the outer call has completed the rest. */
static int outer(fz *z) { return z->canceling == 0; }

/* The requests a callback of the abort (or of the abort inside release)
 * makes on the flow are refused with ECLOSED, so it counts as finished
 * from the start; once the call returns nothing more runs for it. */
static void h_abort(fz *z, oasis_flow *f)
{
    slot *sl = oasis_flow_user_data(f);
    if (sl)
        sl->finished = 1;
    z->canceling++;
    oasis_tcp_abort(f);
    z->canceling--;
    if (sl)
        sl->final = 1;
}

static void h_release(fz *z, oasis_flow *f)
{
    slot *sl = oasis_flow_user_data(f);
    if (sl)
        sl->finished = 1;
    z->canceling++;
    oasis_tcp_release(f);
    z->canceling--;
    if (sl)
        sl->final = 1;
}

/* Inside oasis_tcp_disconnect of the flow's stack the flow may be reset
 * already or not yet (its turn to come): ECLOSED and the ordinary answer
 * are both right, and ECLOSED means it is finished. */
static int finished_now(fz *z, slot *sl, int rc)
{
    if (!sl->finished && z->disconnecting[sl->stk] && rc == OASIS_ECLOSED)
        sl->finished = 1;
    return sl->finished;
}

/* ---- callbacks ------------------------------------------------------------ */

static void cb_enter(fz *z) { FUZZ_CHECK(z->in_api == 0); }

static void do_read(fz *z, int si);
static void reenter(fz *z, int i, int si);

/* A TCP callback of stack i begins. tcp.h: TCP callbacks never nest inside
 * another of the same stack (a poll from one defers those it wakes), but
 * abort, release and disconnect complete requests inside the callback that
 * called them. */
static int tcp_cb_begin(fz *z, oasis_stack *s)
{
    int i = stk_index(z, s);
    cb_enter(z);
    FUZZ_CHECK(z->tcp_cbs[i] == 0 || z->canceling);
    z->tcp_cbs[i]++;
    z->cbs[i]++;
    return i;
}

/* ... and ends, after it re-entered the stack (si: its flow's slot, -1 for
 * none) while it still counts as running. */
static void tcp_cb_end(fz *z, int i, int si)
{
    reenter(z, i, si);
    z->tcp_cbs[i]--;
    z->cbs[i]--;
}

/* data holds the stream's bytes from offset off on, written from port. */
static void check_bytes(const uint8_t *data, size_t len, uint64_t off, uint16_t port)
{
    for (size_t done = 0; done < len;) { /* a read may exceed the pattern table */
        size_t n = len - done < MAXLEN ? len - done : MAXLEN;
        FUZZ_CHECK(memcmp(data + done, pat_at(off + done, port), n) == 0);
        done += n;
    }
}

static void read_cb(fz *z, oasis_flow *f, int err, const uint8_t *data, size_t len, req *r)
{
    if (z->verbose)
        fprintf(stderr, "  read cb slot %d err %d len %zu\n", r->slot, err, len);
    FUZZ_CHECK(r->kind == R_READ);
    req_complete(z, r);
    slot *sl = &z->slots[r->slot];
    FUZZ_CHECK(sl->f == f);
    FUZZ_CHECK(sl->reading);
    sl->reading = 0;
    if (err == 0) {
        FUZZ_CHECK(data && len > 0);
        FUZZ_CHECK(!sl->eof);     /* end of stream is sticky */
        FUZZ_CHECK(!sl->rd_shut); /* reads report EOF after shutdown(READ) */
        conn *k = &z->conns[sl->conn];
        int me = sl->end, peer = 1 - me;
        if (z->verbose)
            fprintf(stderr, "  slot %d conn %d ports %u/%u got %llu written %llu\n", r->slot,
                    sl->conn, k->port[0], k->port[1], (unsigned long long)sl->got,
                    (unsigned long long)k->written[peer]);
        FUZZ_CHECK(sl->got + len <= k->written[peer]);
        check_bytes(data, len, sl->got, k->port[peer]);
        k->got[me] += len;
        sl->got += len;
    } else if (err == OASIS_EOF) {
        sl->eof = 1;
        /* An orderly end (the peer's FIN, no reset or death, not our
         * shutdown(READ)) comes after every byte the peer's stack took. */
        conn *k = &z->conns[sl->conn];
        if (oasis_tcp_flow_error(f) == 0 && !sl->rd_shut && !sl->finished) {
            k->fin_eof[sl->end] = 1;
            k->eof_got[sl->end] = sl->got;
            FUZZ_CHECK(sl->got >= k->taken[1 - sl->end]);
        }
    } else {
        FUZZ_CHECK(err == OASIS_ECANCELED);
    }
    if (sl->gone)
        return;
    if (sl->cb_action == 1 && !sl->finished) {
        sl->cb_action = 0;
        h_abort(z, f);
        FUZZ_CHECK(!outer(z) || sl->outstanding == 0);
        return;
    }
    if (sl->cb_action == 2) {
        sl->cb_action = 0;
        h_release(z, f);
        sl->released = 1;
        FUZZ_CHECK(!outer(z) || sl->outstanding == 0);
        return;
    }
    if (sl->autoread && err == 0)
        do_read(z, r->slot);
}

static void on_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    fz *z = flow_fz(f);
    req *r = ud;
    slot *sl = &z->slots[r->slot];
    uint64_t off = sl->got;
    uint16_t port = z->conns[sl->conn].port[1 - sl->end];
    int i = tcp_cb_begin(z, oasis_flow_stack(f));
    read_cb(z, f, err, data, len, r);
    tcp_cb_end(z, i, r->slot);
    /* tcp.h: the borrowed bytes stay valid until the callback returns,
     * whatever it did meanwhile (a poll that brought more data for this
     * flow, a release of it) */
    if (err == 0)
        check_bytes(data, len, off, port);
}

static void on_write(oasis_flow *f, int err, void *ud)
{
    fz *z = flow_fz(f);
    req *r = ud;
    int i = tcp_cb_begin(z, oasis_flow_stack(f));
    if (z->verbose)
        fprintf(stderr, "  write cb slot %d err %d\n", r->slot, err);
    FUZZ_CHECK(r->kind == R_WRITE);
    req_complete(z, r);
    FUZZ_CHECK(z->slots[r->slot].f == f);
    /* After close or shutdown(WRITE) a write completes with ECLOSED. */
    FUZZ_CHECK(!r->after_end || err == OASIS_ECLOSED || err == OASIS_ECANCELED);
    if (err == 0) {
        slot *sl = &z->slots[r->slot];
        conn *k = &z->conns[sl->conn];
        if (r->end > k->taken[sl->end])
            k->taken[sl->end] = r->end;
        /* taken bytes come before the FIN the peer already read */
        FUZZ_CHECK(!k->fin_eof[1 - sl->end] || k->eof_got[1 - sl->end] >= r->end);
    }
    FUZZ_CHECK(err == 0 || err == OASIS_ECLOSED || err == OASIS_ETIMEDOUT || err == OASIS_ERESET ||
               err == OASIS_ECANCELED);
    tcp_cb_end(z, i, r->slot);
}

static void on_close(oasis_flow *f, int err, void *ud)
{
    fz *z = flow_fz(f);
    req *r = ud;
    int i = tcp_cb_begin(z, oasis_flow_stack(f));
    if (z->verbose)
        fprintf(stderr, "  close cb slot %d err %d outstanding %d\n", r->slot, err,
                z->slots[r->slot].outstanding);
    FUZZ_CHECK(r->kind == R_CLOSE);
    req_complete(z, r);
    slot *sl = &z->slots[r->slot];
    FUZZ_CHECK(sl->f == f);
    FUZZ_CHECK(++sl->close_cbs == 1);
    /* Every read and write issued before it completed before it, and a
     * connect_flow's connect callback too (tcp.h: connect, writes, close). */
    FUZZ_CHECK(sl->outstanding == 0);
    FUZZ_CHECK(!sl->connect_pending);
    /* On a flow that had ended: oasis_tcp_flow_error() (a failed attempt's
     * connect error included). */
    FUZZ_CHECK(err == 0 || err == OASIS_ECLOSED || err == OASIS_ETIMEDOUT || err == OASIS_ERESET ||
               err == OASIS_ECANCELED || err == oasis_tcp_flow_error(f));
    sl->finished = 1;
    sl->final = 1; /* nothing on this handle after its close callback */
    if (sl->release_in_close) {
        h_release(z, f);
        sl->released = 1;
    }
    tcp_cb_end(z, i, r->slot);
}

/* tcp.h: reports (urgent data, retransmission trouble, ICMP) run from the
 * dispatcher like the other callbacks, so the same rules hold: never after
 * the handle's last callback or its release. */
static void on_event(oasis_flow *f, oasis_tcp_event ev, void *ud)
{
    fz *z = flow_fz(f);
    slot *sl = oasis_flow_user_data(f);
    int i = tcp_cb_begin(z, oasis_flow_stack(f));
    FUZZ_CHECK(ud == z && sl && sl->f == f);
    int si = (int)(sl - z->slots);
    if (z->verbose)
        fprintf(stderr, "  event cb slot %d ev %d\n", si, (int)ev);
    FUZZ_CHECK(!sl->released && !sl->final);
    FUZZ_CHECK(ev == OASIS_TCP_EV_URGENT || ev == OASIS_TCP_EV_RETRANSMIT ||
               ev == OASIS_TCP_EV_ICMP);
    tcp_cb_end(z, i, si);
}

/* Returns the slot of the flow it hands over, -1 for none. */
static int connect_cb(fz *z, oasis_stack *s, oasis_flow *f, int err, req *r)
{
    if (z->verbose)
        fprintf(stderr, "  connect cb slot %d err %d\n", r->slot, err);
    FUZZ_CHECK(r->kind == R_CONNECT || r->kind == R_CONNECT_FLOW);
    req_complete(z, r);
    FUZZ_CHECK(err == 0 || err == OASIS_EREFUSED || err == OASIS_ETIMEDOUT ||
               err == OASIS_ECANCELED || err == OASIS_EUNREACH || err == OASIS_EHOSTUNREACH ||
               err == OASIS_ENETUNREACH || err == OASIS_EPROTOUNREACH);
    if (r->kind == R_CONNECT_FLOW) {
        slot *sl = &z->slots[r->slot];
        FUZZ_CHECK(f == sl->f);
        sl->connect_pending = 0;
        /* A failed attempt is over, but the handle is not finished
         * (tcp.h: reads report EOF, writes ECLOSED, close completes). */
        return r->slot;
    }
    if (err) {
        FUZZ_CHECK(f == NULL);
        return -1;
    }
    FUZZ_CHECK(f && oasis_flow_stack(f) == s);
    int si = slot_new(z, stk_index(z, s), f, 0);
    if (si < 0)
        h_release(z, f);
    return si;
}

static void on_connect(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    fz *z = stk_fz(s);
    int i = tcp_cb_begin(z, s);
    int si = connect_cb(z, s, f, err, ud);
    tcp_cb_end(z, i, si);
}

static void on_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    fz *z = stk_fz(s);
    int i = tcp_cb_begin(z, s);
    FUZZ_CHECK(ud == z);
    FUZZ_CHECK(f && oasis_flow_stack(f) == s);
    /* Only a listener that is there and not paused calls back, or one
     * unlistened after the flow was established (tcp.h: established flows
     * live on; the flow is handed over as if it had not gone). */
    uint16_t lp = 0;
    oasis_tcp_src(f, NULL, &lp);
    int p = lp == ports[0] ? 0 : lp == ports[1] ? 1 : -1;
    FUZZ_CHECK(p >= 0);
    FUZZ_CHECK(z->unlistened[i][p] || (z->listening[i][p] && !z->paused[i][p]));
    if (!z->unlistened[i][p]) {
        /* tcp.h: only SYNs of its families, to its local address if set */
        oasis_ipaddr la;
        oasis_tcp_src(f, &la, NULL);
        unsigned fam = z->lfam[i][p], want = oasis_ipaddr_is_v6(&la) ? OASIS_TCP_LISTEN_V6
                                                                     : OASIS_TCP_LISTEN_V4;
        FUZZ_CHECK(fam == 0 || (fam & want));
        const oasis_ipaddr *ll = &z->llocal[i][p];
        FUZZ_CHECK(!ll->family || oasis_ipaddr_is_unspecified(ll) || oasis_ipaddr_eq(ll, &la));
    }
    int si = slot_new(z, i, f, 1);
    if (si < 0)
        h_release(z, f);
    tcp_cb_end(z, i, si);
}

/* ---- operations ------------------------------------------------------------- */

static void do_read(fz *z, int si)
{
    slot *sl = &z->slots[si];
    req *r = req_new(z, R_READ, si);
    if (!r)
        return;
    z->in_api++;
    int rc = oasis_tcp_read(sl->f, on_read, r);
    z->in_api--;
    req_started(z, r, rc);
    CHECK_RC(rc, finished_now(z, sl, rc), sl->reading, OASIS_EBUSY);
    if (rc == 0) {
        sl->reading = 1;
        sl->outstanding++;
        r->counted = 1;
    }
}

static size_t gen_len(fuzz_in *in)
{
    uint8_t k = fuzz_u8(in);
    switch (k >> 6) {
    case 0: return k & 63;
    case 1: return fuzz_u8(in) * 8u + (k & 7);
    case 2: return fuzz_u16(in);
    default: return ((size_t)fuzz_u16(in) << 2) % MAXLEN;
    }
}

static void do_write(fz *z, int si, fuzz_in *in)
{
    slot *sl = &z->slots[si];
    uint8_t how = fuzz_u8(in);
    size_t len = gen_len(in);
    conn *k = &z->conns[sl->conn];
    uint16_t port = k->port[sl->end];
    uint64_t off = k->written[sl->end];
    int withcb = !(how & 0x80);
    req *r = withcb ? req_new(z, R_WRITE, si) : NULL;
    if (withcb && !r)
        return;
    if (r)
        r->after_end = sl->closing || sl->wr_shut;
    int rc;
    /* re-entry mode: urgent data too, so that urgent reports re-enter */
    int urgent = z->script_len && (how & 0x40) && (how & 3) == 0;
    z->in_api++;
    if ((how & 3) == 0 || (how & 3) == 2) {
        const uint8_t *p = pat_at(off, port);
        if (urgent)
            rc = oasis_tcp_write_urgent(sl->f, p, len, r ? on_write : NULL, r);
        else if ((how & 3) == 0)
            rc = oasis_tcp_write(sl->f, p, len, r ? on_write : NULL, r);
        else
            rc = oasis_tcp_write_nodelay(sl->f, p, len, r ? on_write : NULL, r);
    } else {
        oasis_iovec iov[4];
        size_t n = 1 + ((how >> 2) & 3), used = 0;
        for (size_t i = 0; i < n; i++) {
            size_t part = i + 1 == n ? len - used : (len - used) / 2;
            iov[i].base = pat_at(off + used, port);
            iov[i].len = part;
            used += part;
        }
        if ((how & 3) == 1)
            rc = oasis_tcp_writev(sl->f, iov, n, r ? on_write : NULL, r);
        else
            rc = oasis_tcp_writev_nodelay(sl->f, iov, n, r ? on_write : NULL, r);
    }
    z->in_api--;
    if (r)
        req_started(z, r, rc);
    if (urgent && len == 0)
        FUZZ_CHECK(is_err(rc, OASIS_EINVAL) || (sl->finished && rc == OASIS_ECLOSED));
    else if (finished_now(z, sl, rc))
        FUZZ_CHECK(is_err(rc, OASIS_ECLOSED));
    else if (!withcb && rc == OASIS_ECLOSED) /* nothing would take them: tcp.h */
        FUZZ_CHECK(sl->closing || sl->wr_shut || oasis_tcp_flow_error(sl->f) != 0);
    else
        FUZZ_CHECK(rc == 0 || is_err(rc, OASIS_EAGAIN));
    if (rc == 0) {
        k->written[sl->end] += len;
        if (r) {
            sl->outstanding++;
            r->counted = 1;
            r->end = off + len;
        }
    }
}

static void do_close(fz *z, int si, uint8_t how)
{
    slot *sl = &z->slots[si];
    int withcb = !(how & 1);
    req *r = withcb ? req_new(z, R_CLOSE, si) : NULL;
    if (withcb && !r)
        return;
    z->in_api++;
    int rc = oasis_tcp_close(sl->f, r ? on_close : NULL, r);
    z->in_api--;
    if (r)
        req_started(z, r, rc);
    CHECK_RC(rc, finished_now(z, sl, rc), sl->closing, OASIS_EBUSY);
    if (rc == 0) {
        sl->closing = 1;
        sl->release_in_close = (how >> 1) & 1;
        if (!withcb)
            sl->gone = 1; /* the handle is the stack's now */
    }
}

static int pick_slot(fz *z, fuzz_in *in)
{
    uint8_t b = fuzz_u8(in);
    if (!z->nslots)
        return -1;
    int si = b % z->nslots;
    slot *sl = &z->slots[si];
    if (sl->released || sl->gone)
        return -1;
    return si;
}

static oasis_ipaddr addr_parse(const char *text)
{
    oasis_ipaddr a;
    FUZZ_CHECK(oasis_ipaddr_parse(text, &a) == 0);
    return a;
}

/* Where stack i connects to (a's bits 1-3); returns 1 for an address
 * that is no single host's (EBADDEST). IPv4: the peer, the stack itself
 * (re-entry mode: its loopback queue), 10.0.0.9 (nobody: ARP fails). */
static int pick_dst4(fz *z, int i, uint8_t a, oasis_ipaddr *dst)
{
    uint32_t d;
    int bad = 0;
    switch ((a >> 1) & 7) {
    case 6: d = OASIS_IPV4(0, 0, 0, 0); bad = 1; break;
    case 7: d = OASIS_IPV4(10, 0, 0, 255); bad = 1; break;
    case 5: d = OASIS_IPV4(10, 0, 0, 9); break;
    case 4: d = OASIS_IPV4(10, 0, 0, z->script_len ? 1 + i : 2 - i); break;
    default: d = OASIS_IPV4(10, 0, 0, 2 - i); break;
    }
    *dst = oasis_ipaddr_v4(d);
    return bad;
}

/* Extended mode: the peer's IPv6 addresses (global, link-local), the
 * stack's own and ::1 (the loopback queue), 127.0.0.1, fd00::9 (nobody:
 * Neighbour Discovery fails), :: and ff02::1 (tcp.h: EBADDEST). */
static int pick_dst6(fz *z, int i, uint8_t a, oasis_ipaddr *dst)
{
    switch ((a >> 1) & 7) {
    case 0: case 1: *dst = z->v6[1 - i]; return 0;
    case 2: *dst = oasis_ipaddr_v4(OASIS_IPV4(127, 0, 0, 1)); return 0;
    case 3: *dst = z->ll[1 - i]; return 0;
    case 4: *dst = z->v6[i]; return 0;
    case 5: *dst = addr_parse("::1"); return 0;
    case 6: *dst = addr_parse("fd00::9"); return 0;
    default: *dst = addr_parse(a & 0x80 ? "ff02::1" : "::"); return 1;
    }
}

/* A local address of stack i to connect to dst from (connect_opts.local):
 * for IPv6 any of its addresses, or ::1 when dst is its own (tcp.h). */
static oasis_ipaddr own_local(fz *z, int i, const oasis_ipaddr *dst, uint8_t d)
{
    if (oasis_ipaddr_is_v4(dst))
        return oasis_ipaddr_is_loopback(dst) ? *dst : oasis_ipaddr_v4(OASIS_IPV4(10, 0, 0, 1 + i));
    switch ((d >> 2) % 3) {
    case 0: return z->v6[i];
    case 1: return z->ll[i];
    default: return addr_of(z, i, dst) ? addr_parse("::1") : z->v6[i];
    }
}

/* v6: the extended mode's destinations (pick_dst6), else IPv4 ones. */
static void do_connect(fz *z, fuzz_in *in, int with_flow, int v6)
{
    uint8_t a = fuzz_u8(in), b = fuzz_u8(in);
    int i = a & 1;
    oasis_ipaddr dst;
    int bad = v6 ? pick_dst6(z, i, a, &dst) : pick_dst4(z, i, a, &dst);
    uint16_t port = ports[(a >> 4) % NPORTS];
    oasis_keepalive ka = {(b & 3) * OASIS_NS_PER_SEC, ((b >> 2) & 3) * OASIS_NS_PER_SEC / 2,
                          (b >> 4) & 3};
    const oasis_keepalive *kp = (b & 0x40) ? &ka : NULL;
    int badka = kp && (!ka.interval_ns || !ka.probes) /* after 0: probes from the start */;
    oasis_connect_opts o = {.keepalive = kp};
    int badlocal = 0; /* 1: not ours (EADDRNOTAVAIL); 2: the other family (EINVAL) */
    if (b & 0x80) {
        uint8_t c = fuzz_u8(in), d = fuzz_u8(in);
        o.bufs.sndbuf = (c & 15) ? 512u << (c & 15) : 0;
        o.bufs.rcvbuf = (c >> 4) ? 512u << (c >> 4) : 0;
        int four = oasis_ipaddr_is_v4(&dst);
        if ((d & 3) == 1) {
            o.local = own_local(z, i, &dst, d);
        } else if ((d & 3) == 2) {
            o.local = four ? oasis_ipaddr_v4(OASIS_IPV4(10, 0, 0, 77)) : addr_parse("fd00::77");
            badlocal = 1;
        } else if ((d & 3) == 3) {
            o.local = four ? addr_parse("2001:db8::1") : oasis_ipaddr_v4(OASIS_IPV4(10, 0, 0, 1 + i));
            badlocal = 2;
        }
    }
    int badbuf = (o.bufs.sndbuf && o.bufs.sndbuf < 1024) || (o.bufs.rcvbuf && o.bufs.rcvbuf < 1024);
    int si = -1;
    if (with_flow && z->nslots >= MAXF)
        return;
    req *r = req_new(z, with_flow ? R_CONNECT_FLOW : R_CONNECT, -1);
    if (!r)
        return;
    oasis_flow *f = NULL;
    z->in_api++;
    int rc = v6 ? oasis_tcp_connect_opts(z->s[i], &dst, port, &o, on_connect, r, with_flow ? &f : NULL)
                : oasis_tcp_connect_opts4(z->s[i], oasis_ipaddr_to_v4(&dst), port, &o, on_connect, r,
                                          with_flow ? &f : NULL);
    z->in_api--;
    /* tcp.h: connect from a callback that disconnect runs is refused */
    FUZZ_CHECK(!z->disconnecting[i] || rc != 0);
    if (z->disconnecting[i] && rc == OASIS_ECANCELED) {
        req_started(z, r, rc);
        return;
    }
    if (with_flow && rc == 0) {
        FUZZ_CHECK(f != NULL);
        si = slot_new(z, i, f, 0);
        FUZZ_CHECK(si >= 0 || z->nconns >= MAXC);
        if (si < 0) {
            /* no record for it: give it back at once (its connect
             * completes with ECANCELED inside release) */
            r->slot = -1;
            r->in_call = 0;
            r->accepted = 1;
            h_release(z, f);
            return;
        }
        r->slot = si;
        z->slots[si].connect_pending = 1;
    }
    req_started(z, r, rc);
    if (bad)
        FUZZ_CHECK(is_err(rc, OASIS_EBADDEST) || ((badka || badbuf) && is_err(rc, OASIS_EINVAL)));
    else if (badka || badbuf)
        FUZZ_CHECK(is_err(rc, OASIS_EINVAL));
    else if (badlocal)
        FUZZ_CHECK(is_err(rc, badlocal == 1 ? OASIS_EADDRNOTAVAIL : OASIS_EINVAL));
    else
        FUZZ_CHECK(rc == 0 || is_err(rc, OASIS_EADDRINUSE));
}

/* Extended mode (c): a listener's families and local address (tcp.h:
 * an unknown family bit, or families that exclude the local address's,
 * EINVAL; a local address not ours, EADDRNOTAVAIL). *bad gets the codes
 * that may answer (the order of the checks is the stack's). */
static void listen_where(fz *z, int i, uint8_t c, oasis_listen_opts *o, int bad[2])
{
    static const unsigned fams[4] = {0, OASIS_TCP_LISTEN_V4, OASIS_TCP_LISTEN_V6,
                                     OASIS_TCP_LISTEN_V4 | OASIS_TCP_LISTEN_V6};
    o->families = fams[c & 3];
    switch ((c >> 2) & 7) {
    case 0: break;
    case 1: o->local = z->v6[i]; break;
    case 2: o->local = addr_parse("::1"); break;
    case 3: o->local = oasis_ipaddr_v4(OASIS_IPV4(10, 0, 0, 1 + i)); break;
    case 4: o->local = oasis_ipaddr_v4(OASIS_IPV4(127, 0, 0, 1)); break;
    case 5: o->local = z->v6[1 - i]; bad[1] = OASIS_EADDRNOTAVAIL; break;
    case 6: o->local = z->ll[i]; break;
    default: o->families = 4; break; /* no such family */
    }
    unsigned need = !o->local.family ? 0
                    : oasis_ipaddr_is_v6(&o->local) ? OASIS_TCP_LISTEN_V6 : OASIS_TCP_LISTEN_V4;
    if ((o->families & ~3u) || (o->families && need && !(o->families & need)))
        bad[0] = OASIS_EINVAL;
}

static void do_listen(fz *z, uint8_t a, uint8_t b, int ext, uint8_t c)
{
    int i = a & 1, p = (a >> 1) % 2; /* 80 or 81 */
    oasis_keepalive ka = {(b & 3) * OASIS_NS_PER_SEC, ((b >> 2) & 3) * OASIS_NS_PER_SEC / 3,
                          (b >> 4) & 3};
    oasis_listen_opts o = {.keepalive = (b & 0x40) ? &ka : NULL,
                           .backlog = (a >> 2) & 3,
                           .paused = (a >> 4) & 1,
                           /* deferred hand-over: none, 1 ms or 1 s */
                           .defer_ns = (b & 0x80) ? ((b & 0x10) ? OASIS_NS_PER_SEC : OASIS_NS_PER_MS) : 0};
    int badka = o.keepalive && (!ka.interval_ns || !ka.probes) /* after 0: probes from the start */;
    if (a & 0x80)
        o.bufs.rcvbuf = o.bufs.sndbuf = 2048u << ((a >> 5) & 3);
    int bad[2] = {badka ? OASIS_EINVAL : 0, 0}; /* the codes that may answer */
    if (ext)
        listen_where(z, i, c, &o, bad);
    z->in_api++;
    int rc = oasis_tcp_listen(z->s[i], ports[p], &o, on_accept, z);
    z->in_api--;
    /* tcp.h: listen from a callback that disconnect runs is refused */
    FUZZ_CHECK(!z->disconnecting[i] || rc != 0);
    if (z->disconnecting[i] && rc == OASIS_ECANCELED)
        return;
    int refused = (bad[0] && is_err(rc, bad[0])) || (bad[1] && is_err(rc, bad[1]));
    if (z->listening[i][p])
        FUZZ_CHECK(is_err(rc, OASIS_EADDRINUSE) || refused);
    else if (bad[0] || bad[1])
        FUZZ_CHECK(refused);
    else
        FUZZ_CHECK(rc == 0 || rc == OASIS_ENOMEM);
    if (rc == 0) {
        z->listening[i][p] = 1;
        z->paused[i][p] = o.paused;
        z->lfam[i][p] = o.families;
        z->llocal[i][p] = o.local;
    }
}

static void do_flow_misc(fz *z, int si, uint8_t op, fuzz_in *in)
{
    slot *sl = &z->slots[si];
    oasis_flow *f = sl->f;
    int rc = 0;
    switch (op) {
    case 0: { /* shutdown */
        uint8_t how = fuzz_u8(in) % 5;
        z->in_api++;
        rc = oasis_tcp_shutdown(f, (oasis_tcp_shutdown_how)how);
        z->in_api--;
        CHECK_RC(rc, finished_now(z, sl, rc), how == 0 || how == 4, OASIS_EINVAL);
        if (rc == 0 && (how & 1))
            sl->rd_shut = 1;
        if (rc == 0 && (how & 2))
            sl->wr_shut = 1;
        break;
    }
    case 1: { /* set_bufsizes */
        uint8_t c = fuzz_u8(in);
        uint32_t snd = 256u << (c & 15), rcv = 256u << (c >> 4);
        z->in_api++;
        rc = oasis_tcp_set_bufsizes(f, snd, rcv);
        z->in_api--;
        if (finished_now(z, sl, rc))
            FUZZ_CHECK(is_err(rc, OASIS_ECLOSED));
        else if (snd < 1024 || rcv < 1024 || snd > (1u << 30) || rcv > (1u << 30))
            FUZZ_CHECK(is_err(rc, OASIS_EINVAL));
        else
            FUZZ_CHECK(rc == 0 || is_err(rc, OASIS_EINVAL));
        break;
    }
    case 2: /* set_nodelay */
        z->in_api++;
        rc = oasis_tcp_set_nodelay(f, fuzz_u8(in) & 1);
        z->in_api--;
        FUZZ_CHECK(finished_now(z, sl, rc) ? is_err(rc, OASIS_ECLOSED) : rc == 0);
        break;
    case 3: { /* set_keepalive */
        uint8_t b = fuzz_u8(in);
        oasis_keepalive ka = {(b & 3) * OASIS_NS_PER_SEC, ((b >> 2) & 3) * OASIS_NS_PER_SEC / 4,
                              (b >> 4) & 3};
        const oasis_keepalive *kp = (b & 0x40) ? &ka : NULL;
        int badka = kp && (!ka.interval_ns || !ka.probes) /* after 0: probes from the start */;
        z->in_api++;
        rc = oasis_tcp_set_keepalive(f, kp);
        z->in_api--;
        CHECK_RC(rc, finished_now(z, sl, rc), badka, OASIS_EINVAL);
        break;
    }
    case 4: { /* read-only queries and trim: never fail on a held handle */
        oasis_tcp_info info;
        oasis_tcp_sndbuf sb;
        z->in_api++;
        rc = oasis_tcp_get_info(f, &info);
        FUZZ_CHECK(rc == 0);
        rc = oasis_tcp_get_sndbuf(f, &sb);
        FUZZ_CHECK(rc == 0);
        FUZZ_CHECK(oasis_tcp_flow_strerror(f) != NULL);
        rc = oasis_tcp_flow_soft_error(f); /* 0 or a soft error, none once ended */
        FUZZ_CHECK(rc == 0 || (!sl->finished && (rc == OASIS_EHOSTUNREACH || rc == OASIS_ENETUNREACH ||
                                                 rc == OASIS_EPROTOUNREACH || rc == OASIS_EREFUSED ||
                                                 rc == OASIS_EMALFORMED)));
        rc = oasis_tcp_trim(f);
        FUZZ_CHECK(finished_now(z, sl, rc) ? is_err(rc, OASIS_ECLOSED) : rc == 0);
        oasis_tcp_dst(f, NULL, NULL);
        oasis_tcp_src(f, NULL, NULL);
        (void)oasis_tcp_urgent_pending(f);
        z->in_api--;
        break;
    }
    case 5: /* callback behaviour */
        sl->autoread = fuzz_u8(in) & 1;
        sl->cb_action = fuzz_u8(in) % 3;
        break;
    }
}

static void do_impair(fz *z, fuzz_in *in)
{
    uint8_t a = fuzz_u8(in), b = fuzz_u8(in);
    int i = a & 1;
    if (a & 2) {
        FUZZ_CHECK(oasis_wire_impair(z->wire, z->link[i], NULL, NULL) == 0);
        return;
    }
    oasis_impair im;
    oasis_impair_init(&im);
    im.loss = (b & 7) / 10.0;
    im.corrupt = ((b >> 3) & 3) / 10.0;
    im.reorder = ((b >> 5) & 1) * 0.2;
    im.duplicate = ((b >> 6) & 1) * 0.2;
    if (b & 0x80)
        im.loss = 1.0; /* cut */
    im.delay_ns = (uint64_t)((a >> 2) & 7) * OASIS_NS_PER_MS;
    FUZZ_CHECK(oasis_wire_impair(z->wire, z->link[i], NULL, &im) == 0);
}

/* NULL and foreign-state misuse that the header says answers an error. */
static void do_misuse(fz *z, uint8_t a)
{
    oasis_iovec iov = {NULL, 5};
    z->in_api++;
    FUZZ_CHECK(oasis_tcp_read(NULL, on_read, NULL) == OASIS_EINVAL);
    FUZZ_CHECK(oasis_tcp_write(NULL, pat, 1, NULL, NULL) == OASIS_EINVAL);
    FUZZ_CHECK(oasis_tcp_close(NULL, NULL, NULL) == OASIS_EINVAL);
    FUZZ_CHECK(oasis_tcp_trim(NULL) == OASIS_EINVAL);
    oasis_tcp_release(NULL);
    oasis_tcp_abort(NULL);
    FUZZ_CHECK(oasis_tcp_unlisten(z->s[a & 1], 82) == OASIS_ENOENT);
    FUZZ_CHECK(oasis_tcp_accept_pause(z->s[a & 1], 82) == OASIS_ENOENT);
    FUZZ_CHECK(oasis_tcp_accept(z->s[a & 1], 82) == NULL);
    if (z->nslots) {
        slot *sl = &z->slots[(a >> 1) % z->nslots];
        if (!sl->released && !sl->gone) {
            /* a NULL callback for read; a NULL base with a length */
            int rc = oasis_tcp_read(sl->f, NULL, NULL);
            FUZZ_CHECK(is_err(rc, finished_now(z, sl, rc) ? OASIS_ECLOSED : OASIS_EINVAL));
            rc = oasis_tcp_writev(sl->f, &iov, 1, NULL, NULL);
            FUZZ_CHECK(is_err(rc, finished_now(z, sl, rc) ? OASIS_ECLOSED : OASIS_EINVAL));
            rc = oasis_tcp_writev(sl->f, NULL, 1, NULL, NULL);
            FUZZ_CHECK(is_err(rc, finished_now(z, sl, rc) ? OASIS_ECLOSED : OASIS_EINVAL));
        }
    }
    z->in_api--;
}

/* The whole TCP layer of stack i goes: every flow finished, every
 * request completed before it returns, every listener gone. */
static void do_disconnect(fz *z, int i)
{
    z->canceling++;
    z->disconnecting[i]++;
    oasis_tcp_disconnect(z->s[i]);
    z->disconnecting[i]--;
    z->canceling--;
    if (z->disconnecting[i])
        return; /* nested: returned at once, the outer call does the rest */
    for (int si = 0; si < z->nslots; si++) {
        slot *sl = &z->slots[si];
        if (sl->stk != i)
            continue;
        sl->finished = sl->final = 1;
        if (!sl->released && !sl->gone)
            FUZZ_CHECK(sl->outstanding == 0);
    }
    z->listening[i][0] = z->listening[i][1] = 0;
    z->unlistened[i][0] = z->unlistened[i][1] = 0; /* disconnect hands nothing over */
}

static void flow_abort(fz *z, int si)
{
    slot *sl = &z->slots[si];
    h_abort(z, sl->f);
    FUZZ_CHECK(sl->outstanding == 0);
    FUZZ_CHECK(!sl->reading);
}

static void flow_release(fz *z, int si)
{
    slot *sl = &z->slots[si];
    h_release(z, sl->f);
    sl->released = 1;
    FUZZ_CHECK(sl->outstanding == 0);
}

/* Inside disconnect of stack i a listener may be gone already. */
static void check_listener_rc(fz *z, int i, int p, int rc)
{
    if (z->disconnecting[i])
        FUZZ_CHECK(rc == 0 || rc == OASIS_ENOENT);
    else
        FUZZ_CHECK(z->listening[i][p] ? rc == 0 : rc == OASIS_ENOENT);
}

static void do_udp(fz *z, fuzz_in *in);
static void do_udp_bind(fz *z, uint8_t a);
static void step(fz *z, fuzz_in *in);
static void do_walk(fz *z, fuzz_in *in);

static void wire_step(fz *z)
{
    z->in_wire++;
    (void)oasis_wire_step(z->wire);
    z->in_wire--;
}

static void wire_run(fz *z, uint64_t t)
{
    z->in_wire++;
    (void)oasis_wire_run(z->wire, NULL, NULL, t);
    z->in_wire--;
}

static void step(fz *z, fuzz_in *in)
{
    /* re-entry mode adds UDP: send, and unbind or bind again; the extended
     * mode IPv6 connects and listeners, and walks */
    uint8_t op = fuzz_u8(in) % (z->ext ? 30 : z->script_len ? 26 : 24);
    int si;
    if (z->verbose)
        fprintf(stderr, "op %d (t=%llu ms)\n", op,
                (unsigned long long)(oasis_clock_now(z->clock) / OASIS_NS_PER_MS));
    switch (op) {
    case 0: {
        uint8_t a = fuzz_u8(in);
        do_listen(z, a, fuzz_u8(in), 0, 0);
        break;
    }
    case 1: {
        uint8_t a = fuzz_u8(in);
        int i = a & 1, p = (a >> 1) % 2;
        z->in_api++;
        int rc = oasis_tcp_unlisten(z->s[i], ports[p]);
        z->in_api--;
        check_listener_rc(z, i, p, rc);
        if (rc == 0)
            z->unlistened[i][p] = 1;
        z->listening[i][p] = 0;
        z->paused[i][p] = 0;
        break;
    }
    case 2: case 3:
        do_connect(z, in, op == 2, 0);
        break;
    case 4: case 5:
        if ((si = pick_slot(z, in)) >= 0)
            do_read(z, si);
        break;
    case 6: case 7: case 8:
        if ((si = pick_slot(z, in)) >= 0)
            do_write(z, si, in);
        break;
    case 9:
        if ((si = pick_slot(z, in)) >= 0)
            do_close(z, si, fuzz_u8(in));
        break;
    case 10:
        if ((si = pick_slot(z, in)) >= 0)
            flow_abort(z, si);
        break;
    case 11:
        if ((si = pick_slot(z, in)) >= 0)
            flow_release(z, si);
        break;
    case 12: case 13: {
        uint8_t sub = fuzz_u8(in);
        if ((si = pick_slot(z, in)) >= 0)
            do_flow_misc(z, si, sub % 6, in);
        break;
    }
    case 14: {
        uint8_t a = fuzz_u8(in);
        int i = a & 1, p = (a >> 1) % 2;
        z->in_api++;
        int rc = (a & 4) ? oasis_tcp_accept_resume(z->s[i], ports[p])
                         : oasis_tcp_accept_pause(z->s[i], ports[p]);
        z->in_api--;
        check_listener_rc(z, i, p, rc);
        if (rc == 0)
            z->paused[i][p] = !(a & 4);
        break;
    }
    case 15: {
        uint8_t a = fuzz_u8(in);
        int i = a & 1, p = (a >> 1) % 2;
        z->in_api++;
        uint32_t waiting = oasis_tcp_accept_waiting(z->s[i], ports[p]);
        oasis_flow *f = oasis_tcp_accept(z->s[i], ports[p]);
        z->in_api--;
        FUZZ_CHECK((f != NULL) == (waiting > 0));
        if (f && slot_new(z, i, f, 1) < 0)
            h_release(z, f);
        break;
    }
    case 16:
        do_impair(z, in);
        break;
    case 17: case 18: {
        uint8_t a = fuzz_u8(in);
        uint64_t d = (uint64_t)(a & 63) * (uint64_t)(a & 63) * (a & 64 ? OASIS_NS_PER_SEC / 4
                                                                         : OASIS_NS_PER_MS);
        oasis_clock_advance(z->clock, d);
        wire_step(z);
        break;
    }
    case 19: case 20: case 21: {
        uint8_t a = fuzz_u8(in);
        uint64_t t = (uint64_t)(a & 31) * (a & 32 ? 10 * OASIS_NS_PER_SEC : 20 * OASIS_NS_PER_MS);
        wire_run(z, t ? t : OASIS_NS_PER_MS);
        break;
    }
    case 22: {
        uint8_t a = fuzz_u8(in);
        if ((a & 0xf0) == 0xf0) { /* rare: the whole TCP layer goes */
            do_disconnect(z, a & 1);
        } else {
            do_misuse(z, a);
        }
        break;
    }
    case 23:
        if ((si = pick_slot(z, in)) >= 0)
            do_misuse(z, (uint8_t)(si << 1));
        break;
    case 24:
        do_udp(z, in);
        break;
    case 25:
        do_udp_bind(z, fuzz_u8(in));
        break;
    case 26: case 27:
        do_connect(z, in, op == 26, 1);
        break;
    case 28: {
        uint8_t a = fuzz_u8(in), b = fuzz_u8(in);
        do_listen(z, a, b, 1, fuzz_u8(in));
        break;
    }
    case 29:
        do_walk(z, in);
        break;
    }
}


/* ---- re-entry: callbacks that call back into the stacks ------------------- */

#define REENTER_DEPTH 3    /* callbacks re-entering inside one another */
#define REENTER_BUDGET 256 /* re-entries per input: bounds the run time */
#define UDP_PORT 53        /* bound for both families on both stacks */
#define UDP_PORT4 54       /* bound for IPv4 only */

static int flow_held(fz *z, int si)
{
    return si >= 0 && !z->slots[si].released && !z->slots[si].gone;
}

/* From a flow's own callback: what tcp.h lets a callback do to its flow. */
static void own_flow_op(fz *z, int si, uint8_t op, fuzz_in *in)
{
    slot *sl = &z->slots[si];
    switch (op & 7) {
    case 0: do_write(z, si, in); break;
    case 1: do_close(z, si, fuzz_u8(in)); break;
    case 2: do_flow_misc(z, si, 0, in); break; /* shutdown */
    case 3: /* pause reading (no read pending after this one), or resume */
        sl->autoread = !sl->autoread;
        if (sl->autoread && !sl->reading)
            do_read(z, si);
        break;
    case 4: flow_abort(z, si); break;
    case 5: flow_release(z, si); break;
    case 6: do_flow_misc(z, si, 1 + fuzz_u8(in) % 5, in); break;
    case 7: do_write(z, si, in); (void)oasis_stack_poll(z->s[sl->stk]); break;
    }
}

/* Polls and steps (the ones that deliver more data to the flow whose
 * callback runs, the loopback queue's and the other stack's), or any
 * operation of the main loop. */
static void stack_op(fz *z, int i, uint8_t op, fuzz_in *in)
{
    switch (op & 7) {
    case 0: (void)oasis_stack_poll(z->s[i]); break;
    case 1: wire_step(z); break;
    case 2:
        oasis_clock_advance(z->clock, (uint64_t)(fuzz_u8(in) & 63) * OASIS_NS_PER_MS);
        (void)oasis_stack_poll(z->s[i]);
        break;
    case 3: { /* stack.h, wire.h: destroy from inside their code frees nothing */
        int k = fuzz_u8(in) & 1;
        if (z->cbs[k])
            FUZZ_CHECK(oasis_stack_destroy(z->s[k]) == OASIS_EBUSY);
        if (z->in_wire)
            FUZZ_CHECK(oasis_wire_destroy(z->wire) == OASIS_EBUSY);
        break;
    }
    default: /* bit 5: and poll, so that what it sent arrives in here */
        step(z, in);
        if (op & 0x20)
            (void)oasis_stack_poll(z->s[i]);
        break;
    }
}

/* Called at the end of every callback (stack i; si: the flow's slot, -1
 * for none). The script's next byte says: nothing (bit 7 clear), an
 * operation on the callback's own flow (bit 6) or on the stacks; the
 * operands follow it. */
#define CYC_BUF 24 /* bytes an operation may take from a cyclic script */

/* The next CYC_BUF bytes of a script read cyclically from pos. */
static fuzz_in cyc_in(const uint8_t *script, size_t len, size_t pos, uint8_t buf[CYC_BUF])
{
    for (size_t k = 0; k < CYC_BUF; k++)
        buf[k] = script[(pos + k) % len];
    return (fuzz_in){buf, CYC_BUF};
}

static void reenter(fz *z, int i, int si)
{
    if (!z->script_len || z->tearing || z->depth >= REENTER_DEPTH || z->budget <= 0)
        return;
    uint8_t buf[CYC_BUF];
    fuzz_in in = cyc_in(z->script, z->script_len, z->script_pos, buf);
    uint8_t b = fuzz_u8(&in);
    z->script_pos = (z->script_pos + 1) % z->script_len;
    if (!(b & 0x80))
        return;
    z->budget--;
    z->depth++;
    if (z->verbose)
        fprintf(stderr, "%*sre-enter stack %d slot %d: 0x%02x\n", 2 * z->depth, "", i, si, b);
    if ((b & 0x40) && flow_held(z, si))
        own_flow_op(z, si, b, &in);
    else
        stack_op(z, i, b, &in);
    z->depth--;
    /* the operands it took (nested re-entries moved the cursor on too) */
    z->script_pos = (z->script_pos + CYC_BUF - 1 - in.left) % z->script_len;
}

/* ---- walks (extended mode): oasis_tcp_foreach_flow ------------------------- */

#define WALK_DEPTH 2 /* walks inside one another's fn */

/* One walk of stack stk: its own short script (one byte per visit, read
 * cyclically; operands follow it) and what it saw. */
typedef struct walk {
    fz *z;
    int stk;
    const uint8_t *script;
    size_t len, pos;
    int nslots;          /* slots when it began (later ones may be visited or not) */
    uint8_t due[MAXF];   /* held and not finished when it began */
    uint8_t visits[MAXF];
} walk;

/* tcp.h: the walk visits the flows the application holds and has not
 * finished: not one released, closed with no callback (given back), or
 * finished (its close callback ran, aborted, disconnect). */
static int walk_due(fz *z, int si, int stk)
{
    slot *sl = &z->slots[si];
    return sl->stk == stk && !sl->released && !sl->gone && !sl->finished;
}

/* fn: checks the flow it is given, then does what the walk's script says
 * (tcp.h: fn may close, abort or release any flow, the one it was given
 * too; destroy is refused) and re-enters like every callback. */
static void visit(oasis_flow *f, void *ud)
{
    walk *w = ud;
    fz *z = w->z;
    FUZZ_CHECK(z->in_api > 0); /* only from inside the walk's call */
    FUZZ_CHECK(f && oasis_flow_stack(f) == z->s[w->stk]);
    slot *sl = oasis_flow_user_data(f);
    FUZZ_CHECK(sl && sl >= z->slots && sl < z->slots + z->nslots && sl->f == f);
    int si = (int)(sl - z->slots);
    if (z->verbose)
        fprintf(stderr, "%*svisit stack %d slot %d\n", 2 * z->walks, "", w->stk, si);
    FUZZ_CHECK(walk_due(z, si, w->stk));
    FUZZ_CHECK(++w->visits[si] == 1);
    z->in_api--; /* fn may call what a callback may */
    uint8_t buf[CYC_BUF];
    fuzz_in in = cyc_in(w->script, w->len, w->pos, buf);
    uint8_t b = fuzz_u8(&in);
    switch (b & 7) {
    case 0: break;
    case 1: do_close(z, si, fuzz_u8(&in)); break;
    case 2: flow_abort(z, si); break;
    case 3: flow_release(z, si); break;
    case 4: { /* another flow, perhaps one whose turn is still to come */
        int other = pick_slot(z, &in);
        if (other >= 0)
            (b & 8) ? flow_abort(z, other) : flow_release(z, other);
        break;
    }
    case 5: /* stack.h: destroy from fn frees nothing */
        FUZZ_CHECK(oasis_stack_destroy(z->s[w->stk]) == OASIS_EBUSY);
        break;
    case 6: do_write(z, si, &in); break;
    case 7: /* a walk inside the walk, of either stack */
        do_walk(z, &in);
        break;
    }
    w->pos = (w->pos + CYC_BUF - in.left) % w->len;
    if (flow_held(z, si) || (b & 0x80))
        reenter(z, w->stk, flow_held(z, si) ? si : -1);
    z->in_api++;
}

/* A walk of one stack; its script (1..8 bytes) follows. */
static void do_walk(fz *z, fuzz_in *in)
{
    uint8_t a = fuzz_u8(in);
    walk w;
    memset(&w, 0, sizeof w);
    w.z = z;
    w.stk = a & 1;
    w.len = 1 + ((a >> 1) & 7);
    w.script = in->p;
    if (w.len > in->left)
        w.len = in->left;
    in->p += w.len;
    in->left -= w.len;
    if (!w.len || z->walks >= WALK_DEPTH || z->tearing)
        return;
    w.nslots = z->nslots;
    for (int si = 0; si < z->nslots; si++)
        w.due[si] = (uint8_t)walk_due(z, si, w.stk);
    z->walks++;
    z->cbs[w.stk]++; /* stack.h: destroy from fn is refused */
    z->in_api++;     /* no callback inside the walk, but those fn runs */
    oasis_tcp_foreach_flow(z->s[w.stk], visit, &w);
    z->in_api--;
    z->cbs[w.stk]--;
    z->walks--;
    /* Every flow due at the start and still due now was visited once
     * (inside a disconnect of the stack some are finished already). */
    if (z->disconnecting[w.stk])
        return;
    for (int si = 0; si < w.nslots; si++)
        if (w.due[si] && walk_due(z, si, w.stk))
            FUZZ_CHECK(w.visits[si] == 1);
}

/* ---- UDP (re-entry mode) ---------------------------------------------------- */

/* A datagram's first byte says whether it was sent with IPv4 options (a
 * Router Alert, RFC 2113: no hop changes it); the rest is the pattern. */
static const uint8_t ra_opt[4] = {0x94, 0x04, 0x00, 0x00};
static uint8_t udp_buf[4096];

static void udp_check(fz *z, oasis_stack *s, const oasis_ipaddr *src, const oasis_ipaddr *dst,
                      uint16_t dport, const uint8_t *data, size_t len)
{
    FUZZ_CHECK(len >= 1 && len <= sizeof udp_buf);
    FUZZ_CHECK(memcmp(data + 1, pat_at(0, dport), len - 1) == 0);
    /* udp.h: the options of this datagram, as sent; none for IPv6, none
     * to a loopback destination (our own address, 127/8). */
    int loop = oasis_ipaddr_eq(src, dst) || oasis_ipaddr_is_loopback(dst);
    int want = data[0] == 1 && oasis_ipaddr_is_v4(dst) && !loop;
    size_t olen = 99;
    const uint8_t *o = oasis_udp_rx_options(s, &olen);
    if (want)
        FUZZ_CHECK(o && olen == sizeof ra_opt && memcmp(o, ra_opt, olen) == 0);
    else
        FUZZ_CHECK(o == NULL && olen == 0);
    (void)z;
}

static void on_udp(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport,
                   const oasis_ipaddr *dst, uint16_t dport, const uint8_t *data, size_t len,
                   void *ud)
{
    fz *z = ud;
    int i = stk_index(z, s);
    (void)sport;
    cb_enter(z);
    z->cbs[i]++;
    if (z->verbose)
        fprintf(stderr, "  udp cb stack %d port %u len %zu\n", stk_index(z, s), dport, len);
    udp_check(z, s, src, dst, dport, data, len);
    reenter(z, i, -1);
    /* what the callback did meanwhile (a datagram of the other family
     * delivered by its poll) leaves this datagram's view alone */
    udp_check(z, s, src, dst, dport, data, len);
    z->cbs[i]--;
}

static void on_udp4(oasis_stack *s, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                    const uint8_t *data, size_t len, void *ud)
{
    oasis_ipaddr a = oasis_ipaddr_v4(src), b = oasis_ipaddr_v4(dst);
    on_udp(s, &a, sport, &b, dport, data, len, ud);
}

static void do_udp_bind(fz *z, uint8_t a)
{
    int i = a & 1;
    uint16_t port = (a & 2) ? UDP_PORT4 : UDP_PORT;
    z->in_api++;
    int rc = oasis_udp_unbind(z->s[i], port);
    if (rc == OASIS_ENOENT)
        rc = port == UDP_PORT ? oasis_udp_bind(z->s[i], port, on_udp, z)
                              : oasis_udp_bind4(z->s[i], port, on_udp4, z);
    z->in_api--;
    FUZZ_CHECK(rc == 0 || rc == OASIS_ENOMEM);
}

/* A datagram from stack i to the other stack, itself, 127.0.0.1 or ::1,
 * to a bound port or not (ICMP port unreachable), with options or not. */
static void do_udp(fz *z, fuzz_in *in)
{
    uint8_t a = fuzz_u8(in), b = fuzz_u8(in);
    int i = a & 1, opts = (a & 0x20) != 0;
    uint16_t dport = (a & 0x40) ? 55 : (a & 2) ? UDP_PORT4 : UDP_PORT;
    size_t len = 1 + (size_t)b * ((a & 0x80) && !opts ? 16 : 4);
    oasis_ipaddr dst;
    switch ((a >> 2) & 3) {
    case 0: dst = oasis_ipaddr_v4(OASIS_IPV4(10, 0, 0, 2 - i)); break;
    case 1: dst = oasis_ipaddr_v4(OASIS_IPV4(10, 0, 0, 1 + i)); break;
    case 2: dst = oasis_ipaddr_v4(OASIS_IPV4(127, 0, 0, 1)); break;
    default: FUZZ_CHECK(oasis_ipaddr_parse("::1", &dst) == 0); opts = 0; break;
    }
    udp_buf[0] = (uint8_t)opts;
    memcpy(udp_buf + 1, pat_at(0, dport), len - 1);
    z->in_api++;
    int rc = opts ? oasis_udp_send4_opts(z->s[i], 1000, oasis_ipaddr_to_v4(&dst), dport, ra_opt,
                                         sizeof ra_opt, udp_buf, len)
                  : oasis_udp_send(z->s[i], 1000, &dst, dport, udp_buf, len);
    z->in_api--;
    FUZZ_CHECK(rc == 0 || rc == OASIS_ENOMEM || rc == OASIS_EAGAIN);
}

/* Extended mode: fd00::1/64 and fd00::2/64 (on the wire's link), and each
 * stack's link-local address. */
static void setup_v6(fz *z, int i)
{
    z->v6[i] = addr_parse(i ? "fd00::2" : "fd00::1");
    FUZZ_CHECK(oasis_ipv6_add_addr(z->s[i], &z->v6[i], 64) == 0);
    oasis_ipv6_addr_info ai[8];
    size_t n = oasis_ipv6_addrs(z->s[i], ai, 8);
    for (size_t k = 0; k < n && k < 8; k++)
        if (ai[k].origin == OASIS_IPV6_LINK_LOCAL)
            z->ll[i] = ai[k].addr;
    FUZZ_CHECK(oasis_ipaddr_is_v6(&z->ll[i]));
}

/* how & 4: re-entry mode. Its script follows (a length byte, then that
 * many bytes); the stacks then have IPv6 (::1 for UDP) and UDP binds.
 * how & 12: extended re-entry mode, IPv6 addresses and walks too. */
static void setup(fz *z, uint8_t how, fuzz_in *in)
{
    memset(z, 0, sizeof *z);
    if (how & 4) {
        size_t n = 1 + fuzz_u8(in) % 32;
        z->script = in->p;
        z->script_len = n < in->left ? n : in->left;
        z->ext = (how & 8) && z->script_len;
        in->p += z->script_len;
        in->left -= z->script_len;
        z->budget = REENTER_BUDGET;
    }
    z->clock = oasis_clock_new_virtual(1000 * OASIS_NS_PER_SEC);
    FUZZ_CHECK(z->clock);
    oasis_wire_config wc;
    oasis_wire_config_init(&wc);
    wc.delay_ns = OASIS_NS_PER_MS;
    FUZZ_CHECK(oasis_wire_create(z->clock, &wc, &z->wire) == 0);
    for (int i = 0; i < NSTK; i++) {
        oasis_stack_config cfg;
        test_stack_config(&cfg, z->clock, i + 1);
        cfg.arp_gratuitous = 0;
        cfg.tcp.max_write_reqs = 64; /* reach EAGAIN */
        cfg.alloc = test_count_alloc;
        cfg.alloc_ud = &z->mem[i];
        if (z->script_len) {
            cfg.ipv6 = 1;
            cfg.dad_transmits = 0;
        }
        FUZZ_CHECK(oasis_stack_create(&cfg, &z->s[i]) == 0);
        oasis_stack_set_user_data(z->s[i], z);
        z->link[i] = oasis_wire_attach(z->wire, z->s[i]);
        FUZZ_CHECK(z->link[i]);
        if (z->script_len) {
            FUZZ_CHECK(oasis_udp_bind(z->s[i], UDP_PORT, on_udp, z) == 0);
            FUZZ_CHECK(oasis_udp_bind4(z->s[i], UDP_PORT4, on_udp4, z) == 0);
        }
        if (z->ext)
            setup_v6(z, i);
    }
}

static void teardown(fz *z, uint8_t how)
{
    if (z->verbose) {
        for (int c = 0; c < z->nconns; c++) {
            conn *k = &z->conns[c];
            fprintf(stderr, "conn %d: ports %u/%u written %llu/%llu read %llu/%llu\n", c,
                    k->port[0], k->port[1], (unsigned long long)k->written[0],
                    (unsigned long long)k->written[1], (unsigned long long)k->got[0],
                    (unsigned long long)k->got[1]);
        }
        for (int si = 0; si < z->nslots; si++) {
            slot *sl = &z->slots[si];
            fprintf(stderr, "slot %d: stack %d conn %d fin %d rel %d gone %d eof %d closes %d\n", si,
                    sl->stk, sl->conn, sl->finished, sl->released, sl->gone, sl->eof,
                    sl->close_cbs);
        }
        fprintf(stderr, "requests %d\n", z->nreqs);
        for (int i = 0; i < NSTK; i++)
            fprintf(stderr, "stack %d: syn cookies sent %llu ok %llu\n", i,
                    (unsigned long long)oasis_stack_counters(z->s[i])->tcp.syn_cookies_sent,
                    (unsigned long long)oasis_stack_counters(z->s[i])->tcp.syn_cookies_ok);
    }
    /* Give back every handle still held: abort first or not. */
    for (int si = 0; si < z->nslots; si++) {
        slot *sl = &z->slots[si];
        if (sl->released || sl->gone)
            continue;
        if (how & 1)
            flow_abort(z, si);
        if (sl->released) /* by a callback of the abort */
            continue;
        flow_release(z, si);
    }
    if (how & 2)
        wire_run(z, 5 * OASIS_NS_PER_SEC);
    z->tearing = 1;
    for (int i = 0; i < NSTK; i++) {
        FUZZ_CHECK(oasis_wire_detach(z->wire, z->s[i]) == 0);
        z->canceling++;
        oasis_stack_destroy(z->s[i]);
        z->canceling--;
        FUZZ_CHECK(z->mem[i].live == 0);
    }
    /* Every accepted request completed exactly once. */
    for (int r = 0; r < z->nreqs; r++)
        if (z->reqs[r].accepted)
            FUZZ_CHECK(z->reqs[r].completions == 1);
    oasis_wire_destroy(z->wire);
    oasis_clock_free(z->clock);
}

static fz the_fz;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!pat[1])
        for (size_t i = 0; i < sizeof pat; i++)
            pat[i] = (uint8_t)(i % PERIOD);
    fuzz_in in = {data, size};
    fz *z = &the_fz;
    uint8_t how = fuzz_u8(&in);
    setup(z, how, &in);
    z->verbose = getenv("FUZZ_VERBOSE") != NULL;
    for (int n = 0; n < MAXOPS && in.left; n++) {
        step(z, &in);
        for (int i = 0; i < NSTK && z->script_len; i++) { /* udp.h: NULL outside a callback */
            size_t olen = 99;
            FUZZ_CHECK(oasis_udp_rx_options(z->s[i], &olen) == NULL && olen == 0);
        }
    }
    teardown(z, how);
    return 0;
}
