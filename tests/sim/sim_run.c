/* Runs one case: two stacks on an impaired wire, a TCP transfer in both
 * directions at once, then checks what the contract promises:
 *  - every byte arrives exactly once and in order (compared as it arrives,
 *    and by SHA-256 at the end), or, when the link is cut for good, what
 *    arrived is a prefix of what was sent and both sides end with the
 *    contract's errors;
 *  - every request's callback runs exactly once, never from inside the call
 *    that started it, and never after the flow's close callback;
 *  - both sides close cleanly; nothing is left in the stacks after 2*MSL;
 *  - every allocation is given back once the stacks are destroyed;
 *  - no side ever retracts a window it advertised (on every segment);
 *  - a Timeout is accepted only when the link's history, as the wire's
 *    observer saw it, accounts for it (see timeout_justified).
 * The first failure is recorded in the result; the run goes on to teardown
 * so ASan and the allocator count see everything. */
#include "sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/prng.h"
#include "core/sha256.h"
#include "ip/ipv4_wire.h"
#include "ipv6/ipv6_wire.h"
#include "oasis/ipv6.h"
#include "link/eth_wire.h"
#include "tcp/tcp_seq.h"
#include "tcp/tcp_wire.h"

#define PORT 5000
#define NO_TIME UINT64_MAX
#define DRAIN_NS (10 * 60 * OASIS_NS_PER_SEC)

typedef struct sim sim;

/* One TCP segment a side sent and what the wire did with it. */
typedef struct seg_rec {
    uint64_t sent, due;      /* due: when it arrived intact; 0: lost or corrupted */
    uint32_t seq, ack, len;  /* len counts SYN and FIN */
    uint8_t flags;
} seg_rec;

typedef struct side {
    sim *sim;
    int id;
    oasis_stack *stack;
    oasis_link *link;        /* the wire's port this side's frames leave by */
    oasis_link tun;          /* --ip-link: the stack's link (OASIS_LINK_IP) over that port */
    uint8_t ep_mac[6];       /* --ip-link: the port's address (an endpoint's, not the stack's) */
    oasis_pcap *pcap;
    long live_allocs;
    const sim_app *app;
    uint8_t *tx;             /* what this side sends */

    oasis_flow *flow;        /* NULL before connect/accept and after close */
    int had_flow;
    int in_call;             /* inside an oasis_tcp_* call of this side */
    int connect_cbs, connect_err, accepts;

    uint64_t tx_queued;
    int writes_issued, writes_done, write_err;
    oasis_iovec iov[2];

    uint64_t rx;
    oasis_sha256 rx_hash;
    int reads_issued, reads_done, reading;
    int paused;
    uint64_t resume_at;
    int eof, eof_why;

    int close_req, close_cbs, close_err;
    uint64_t timeout_at;     /* first Timeout the application was told of (0: none) */

    seg_rec *segs;           /* every TCP segment this side sent, in order */
    size_t nsegs, capsegs;
    int wscale;              /* window scale offered in our SYN, -1: none */
    int edge_valid;
    uint32_t edge;           /* rightmost window edge advertised so far */
    int syn_sent;
    uint32_t iss;            /* sequence number of our last SYN (or SYN-ACK) */
    int reopens;             /* SYNs with another ISS than the last one's */
} side;

struct sim {
    const sim_case *c;
    const sim_opts *o;
    sim_result *r;
    oasis_prng rng;          /* the applications' choices */
    oasis_clock *clock;
    oasis_wire *wire;
    side s[2];
    uint64_t t0;
    int cut_started, cut_healed;
    int teardown;
};

static void fail(sim *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(sim *m, const char *fmt, ...)
{
    if (!m->r->ok)
        return;
    m->r->ok = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->r->why, sizeof m->r->why, fmt, ap);
    va_end(ap);
}

static uint64_t now(const sim *m) { return oasis_clock_now(m->clock); }

/* Counts live blocks, so a leak shows even without ASan. */
static void *count_alloc(void *ud, void *ptr, size_t size)
{
    side *s = ud;
    if (size == 0) {
        if (ptr)
            s->live_allocs--;
        free(ptr);
        return NULL;
    }
    void *p = realloc(ptr, size);
    if (p && !ptr)
        s->live_allocs++;
    return p;
}

/* ---- callbacks --------------------------------------------------------- */

static void pump(side *s);
static void start_read(side *s);

/* Common checks at every flow callback. */
static int callback_ok(side *s, oasis_flow *f, const char *what, int err)
{
    sim *m = s->sim;
    if (s->in_call)
        fail(m, "%c: %s callback ran inside the call that started it", 'A' + s->id, what);
    if (f != s->flow || !s->flow) {
        fail(m, "%c: %s callback for a flow the application no longer holds (err %s)",
             'A' + s->id, what, oasis_err_name(err));
        return 0;
    }
    if (err == OASIS_ECANCELED && !m->teardown)
        fail(m, "%c: %s canceled while the stack was alive", 'A' + s->id, what);
    return 1;
}

/* A flow that timed out says ETIMEDOUT, or EHOSTUNREACH when a failed
 * address resolution (ARP under a loss burst) was its last soft error
 * (RFC 1122 4.2.3.9): the same ending, judged the same way. */
static int timed_out(int err) { return err == OASIS_ETIMEDOUT || err == OASIS_EHOSTUNREACH; }

static void note_timeout(side *s, int err)
{
    if (timed_out(err) && !s->timeout_at)
        s->timeout_at = now(s->sim);
}

static void check_bytes(side *s, const uint8_t *data, size_t len)
{
    sim *m = s->sim;
    const side *peer = &m->s[!s->id];
    if (s->rx + len > peer->app->size) {
        fail(m, "%c: received %llu bytes, more than the %llu sent", 'A' + s->id,
             (unsigned long long)(s->rx + len), (unsigned long long)peer->app->size);
        return;
    }
    if (memcmp(data, peer->tx + s->rx, len) != 0) {
        size_t i = 0;
        while (data[i] == peer->tx[s->rx + i])
            i++;
        fail(m, "%c: byte %llu differs from what %c sent", 'A' + s->id,
             (unsigned long long)(s->rx + i), 'A' + !s->id);
    }
}

static void read_cb(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    side *s = ud;
    sim *m = s->sim;
    s->reads_done++;
    s->reading = 0;
    if (!callback_ok(s, f, "read", err))
        return;
    if (err == OASIS_EOF) {
        s->eof = 1;
        s->eof_why = oasis_tcp_flow_error(f);
        note_timeout(s, s->eof_why);
        return;
    }
    if (err != 0) {
        if (err != OASIS_ECANCELED)
            fail(m, "%c: read completed with %s", 'A' + s->id, oasis_err_name(err));
        return;
    }
    if (len == 0 || !data) {
        fail(m, "%c: read completed with no data", 'A' + s->id);
        return;
    }
    check_bytes(s, data, len);
    oasis_sha256_update(&s->rx_hash, data, len);
    s->rx += len;
    if (!s->close_req && s->app->pause_prob > 0 &&
        oasis_prng_double(&m->rng) < s->app->pause_prob) {
        s->paused = 1;
        s->resume_at = now(m) + 1 + oasis_prng_below(&m->rng, s->app->pause_max_ns);
        return;
    }
    start_read(s);
}

static void write_cb(oasis_flow *f, int err, void *ud)
{
    side *s = ud;
    s->writes_done++;
    note_timeout(s, err);
    if (!callback_ok(s, f, "write", err) || s->sim->teardown)
        return;
    if (err == 0) {
        pump(s);
        return;
    }
    if (err != OASIS_ECLOSED && !timed_out(err) && err != OASIS_ERESET &&
        err != OASIS_ECANCELED)
        fail(s->sim, "%c: write completed with %s", 'A' + s->id, oasis_err_name(err));
    if (!s->write_err)
        s->write_err = err;
    pump(s); /* may close now */
}

static void close_cb(oasis_flow *f, int err, void *ud)
{
    side *s = ud;
    sim *m = s->sim;
    s->close_cbs++;
    note_timeout(s, err);
    if (!callback_ok(s, f, "close", err))
        return;
    if (err != 0 && err != OASIS_ECLOSED && !timed_out(err) && err != OASIS_ERESET &&
        err != OASIS_ECANCELED)
        fail(m, "%c: close completed with %s", 'A' + s->id, oasis_err_name(err));
    if (s->reading)
        fail(m, "%c: close completed before the pending read", 'A' + s->id);
    if (s->writes_done != s->writes_issued)
        fail(m, "%c: close completed with %d writes pending", 'A' + s->id,
             s->writes_issued - s->writes_done);
    s->close_err = err;
    s->flow = NULL;
    oasis_tcp_release(f); /* the handle goes back to the stack */
}

/* ---- the application --------------------------------------------------- */

static void start_read(side *s)
{
    s->paused = 0;
    if (!s->flow || s->eof || s->reading || s->sim->teardown)
        return;
    s->in_call = 1;
    int rc = oasis_tcp_read(s->flow, read_cb, s);
    s->in_call = 0;
    if (rc != 0) {
        fail(s->sim, "%c: read refused with %s", 'A' + s->id, oasis_err_name(rc));
        return;
    }
    s->reading = 1;
    s->reads_issued++;
}

static int issue_write(side *s, size_t n)
{
    const uint8_t *p = s->tx + s->tx_queued;
    int rc;
    s->in_call = 1;
    switch (s->app->write_mode) {
    case WM_WRITEV:
        s->iov[0] = (oasis_iovec){p, n / 2};
        s->iov[1] = (oasis_iovec){p + n / 2, n - n / 2};
        rc = oasis_tcp_writev(s->flow, s->iov, 2, write_cb, s);
        break;
    case WM_NODELAY:
        rc = oasis_tcp_write_nodelay(s->flow, p, n, write_cb, s);
        break;
    default:
        rc = oasis_tcp_write(s->flow, p, n, write_cb, s);
        break;
    }
    s->in_call = 0;
    return rc;
}

static void request_close(side *s)
{
    s->close_req = 1;
    start_read(s); /* a paused reader reads on to the end */
    s->in_call = 1;
    int rc = oasis_tcp_close(s->flow, close_cb, s);
    s->in_call = 0;
    if (rc != 0) {
        fail(s->sim, "%c: close refused with %s", 'A' + s->id, oasis_err_name(rc));
        oasis_tcp_release(s->flow);
        s->flow = NULL;
    }
}

/* Keeps up to max_writes writes pending; closes once every byte was taken
 * (or a write failed) and every write completed. */
static void pump(side *s)
{
    const sim_app *a = s->app;
    while (s->flow && !s->close_req && !s->write_err && s->tx_queued < a->size &&
           s->writes_issued - s->writes_done < (int)a->max_writes) {
        uint64_t left = a->size - s->tx_queued;
        uint64_t most = left < a->max_chunk ? left : a->max_chunk;
        size_t n = 1 + (size_t)oasis_prng_below(&s->sim->rng, most);
        int rc = issue_write(s, n);
        if (rc != 0) {
            fail(s->sim, "%c: write refused with %s", 'A' + s->id, oasis_err_name(rc));
            s->write_err = rc;
            break;
        }
        s->writes_issued++;
        s->tx_queued += n;
    }
    int all_taken = s->tx_queued == a->size || s->write_err;
    if (s->flow && !s->close_req && all_taken && s->writes_done == s->writes_issued)
        request_close(s);
}

static void start_side(side *s, oasis_flow *f)
{
    s->flow = f;
    s->had_flow = 1;
    oasis_flow_set_user_data(f, s);
    start_read(s);
    pump(s);
}

static void connect_cb(oasis_stack *st, oasis_flow *f, int err, void *ud)
{
    side *s = ud;
    sim *m = s->sim;
    s->connect_cbs++;
    if (s->in_call)
        fail(m, "%c: connect callback ran inside oasis_tcp_connect", 'A' + s->id);
    if (s->connect_cbs > 1) {
        fail(m, "%c: connect callback ran twice", 'A' + s->id);
        return;
    }
    s->connect_err = err;
    note_timeout(s, err);
    if (err == 0 && !f)
        fail(m, "%c: connect succeeded without a flow", 'A' + s->id);
    if (err == 0 && f)
        start_side(s, f);
    else if (!timed_out(err) && err != OASIS_EREFUSED && err != OASIS_EUNREACH &&
             !(err == OASIS_ECANCELED && m->teardown))
        fail(m, "%c: connect completed with %s", 'A' + s->id, oasis_err_name(err));
}

/* The address the client asks for: not the server's (it is transparent). */
static oasis_ipaddr foreign_dst(const sim *m)
{
    oasis_ipaddr a;
    oasis_ipaddr_parse(m->o->ipv6 ? "2001:db8::7" : "198.51.100.7", &a);
    return a;
}

static void accept_cb(oasis_stack *st, oasis_flow *f, void *ud)
{
    side *s = ud;
    if (++s->accepts > 1) {
        fail(s->sim, "%c: a second flow was accepted", 'A' + s->id);
        oasis_tcp_release(f);
        return;
    }
    oasis_ipaddr local, want = foreign_dst(s->sim);
    oasis_tcp_src(f, &local, NULL);
    if (s->sim->o->transparent && !oasis_ipaddr_eq(&local, &want))
        fail(s->sim, "%c: the transparent flow's local address is not the one asked for",
             'A' + s->id);
    /* An earlier embryo gave up (note_handshake_timeout), a later SYN
     * made this flow: the application was told of no Timeout. */
    s->timeout_at = 0;
    start_side(s, f);
}

/* ---- what the link did -------------------------------------------------- */

/* RFC 9293 3.8.6 (SHLD-14) and RFC 7323 2.4: the right edge of the window
 * a side offers (ACK + window, scaled) never moves left. With scaling, the
 * edge may come out up to 2^shift - 1 bytes short by rounding the field
 * down; a larger step back is a retraction. Checked on every segment sent,
 * lost or not. */
static void check_window(side *s, const oasis_tcp_hdr *h, uint64_t t)
{
    const side *peer = &s->sim->s[!s->id];
    if (h->flags & OASIS_TCP_SYN) {
        /* A SYN with another ISS opens another connection on the same
         * ports (a listener answering a duplicate SYN that arrived after
         * the close): its window owes nothing to the last one's. */
        if (s->syn_sent && h->seq != s->iss) {
            s->edge_valid = 0;
            s->reopens++;
        }
        s->syn_sent = 1;
        s->iss = h->seq;
        s->wscale = h->has_wscale ? (h->wscale > 14 ? 14 : h->wscale) : -1;
    }
    if (!(h->flags & OASIS_TCP_ACK) || (h->flags & OASIS_TCP_RST))
        return;
    /* The window of a SYN-ACK is never scaled (RFC 7323 2.2). */
    int shift = 0;
    if (!(h->flags & OASIS_TCP_SYN) && s->wscale >= 0 && peer->wscale >= 0)
        shift = s->wscale;
    uint32_t edge = h->ack + ((uint32_t)h->window << shift);
    int32_t slack = (int32_t)(1u << shift) - 1;
    if (s->edge_valid && (int32_t)(edge - s->edge) < -slack)
        fail(s->sim,
             "%c: retracted its window at %.6fs: right edge %u (ack %u, window %u<<%d) after "
             "%u had been offered",
             'A' + s->id, (t - s->sim->t0) / 1e9, edge, h->ack, h->window, shift, s->edge);
    if (!s->edge_valid || oasis_seq_gt(edge, s->edge)) {
        s->edge = edge;
        s->edge_valid = 1;
    }
}

/* The wire's observer: records each TCP segment a side sends with its fate
 * and checks its window. Runs inside the sender's send call: it only looks. */
static void on_frame(void *ud, const oasis_link *from, const oasis_link *to, const uint8_t *frame,
                     size_t len, int intact, uint64_t sent, uint64_t due)
{
    sim *m = ud;
    side *s = from == m->s[0].link ? &m->s[0] : from == m->s[1].link ? &m->s[1] : NULL;
    oasis_eth_hdr eth;
    oasis_ipv4_hdr ip;
    oasis_ipv6_hdr ip6;
    oasis_tcp_hdr h;
    if (!s || oasis_eth_parse(frame, len, &eth) != 0)
        return;
    if (eth.type == 0x86dd) { /* --ipv6: TCP right after the fixed header */
        if (oasis_ipv6_parse(eth.payload, eth.payload_len, &ip6) != 0 ||
            ip6.next != OASIS_IPPROTO_TCP ||
            oasis_tcp_parse_sum(ip6.payload, ip6.payload_len, 0, 0, &h) != 0)
            return;
    } else if (eth.type != 0x0800 || oasis_ipv4_parse(eth.payload, eth.payload_len, &ip) != 0 ||
               ip.proto != OASIS_IPPROTO_TCP || ip.frag_off != 0 || ip.mf ||
               oasis_tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, 0, &h) != 0) {
        return;
    }
    if (s->nsegs == s->capsegs) {
        size_t cap = s->capsegs ? s->capsegs * 2 : 256;
        seg_rec *v = realloc(s->segs, cap * sizeof *v);
        if (!v) {
            fail(m, "out of memory for the segment history");
            return;
        }
        s->segs = v;
        s->capsegs = cap;
    }
    seg_rec *r = &s->segs[s->nsegs++];
    r->sent = sent;
    r->due = intact ? due : 0;
    r->seq = h.seq;
    r->ack = h.ack;
    r->len = (uint32_t)h.payload_len + ((h.flags & OASIS_TCP_SYN) ? 1u : 0u) +
             ((h.flags & OASIS_TCP_FIN) ? 1u : 0u);
    r->flags = h.flags;
    check_window(s, &h, sent);
}

/* Was side x's Timeout the link's doing? x gave up at x->timeout_at. U is
 * the highest ACK of the peer that reached x intact (x's ISS if none did):
 * x gave up on the segment that holds sequence number U. Every copy of that
 * segment x sent (an "attempt") was either lost, or reached the peer, which
 * then owed an answer that acknowledges it (an ACK past U, or an RST), and
 * by the definition of U that answer never reached x: it must have been
 * lost on the wire. So the Timeout is justified when every attempt was lost
 * or can be paired with its own lost answer sent after the attempt
 * arrived. An attempt that arrived and drew no answer at all means a stack
 * dropped a segment it should have taken or answered: not justified. With
 * nothing outstanding (a FIN_WAIT_2 bound, keepalive, persist) it is
 * justified when nothing from the peer arrived intact for the last
 * minute (or the FIN_WAIT_2 bound, if shorter). Returns 1 when justified;
 * `why` says what the history showed either way. */
static int timeout_justified(const sim *m, const side *x, char *why, size_t n)
{
    const side *y = &m->s[!x->id];
    uint64_t end = x->timeout_at;
    char c = (char)('A' + x->id);
    int have_u = 0;
    uint32_t u = 0;
    uint64_t last_in = 0;
    for (size_t j = 0; j < y->nsegs; j++) {
        const seg_rec *r = &y->segs[j];
        /* At the same instant the timers run first: a segment due at `end`
         * came too late to count. */
        if (!r->due || r->due >= end)
            continue;
        if (r->due > last_in)
            last_in = r->due;
        if ((r->flags & OASIS_TCP_ACK) && !(r->flags & OASIS_TCP_RST) &&
            (!have_u || oasis_seq_gt(r->ack, u))) {
            u = r->ack;
            have_u = 1;
        }
    }
    for (size_t i = 0; i < x->nsegs && !have_u; i++)
        if (x->segs[i].flags & OASIS_TCP_SYN) {
            u = x->segs[i].seq;
            have_u = 1;
        }
    unsigned attempts = 0, lost = 0, answered = 0;
    size_t j = 0;
    for (size_t i = 0; i < x->nsegs && x->segs[i].sent <= end; i++) {
        const seg_rec *a = &x->segs[i];
        if (!have_u || !a->len || !oasis_seq_le(a->seq, u) || !oasis_seq_lt(u, a->seq + a->len))
            continue;
        attempts++;
        if (!a->due) {
            lost++;
            continue;
        }
        /* Its own lost answer: the next one sent after it arrived. */
        for (; j < y->nsegs && y->segs[j].sent <= end; j++) {
            const seg_rec *b = &y->segs[j];
            int answers = (b->flags & OASIS_TCP_RST) ||
                          ((b->flags & OASIS_TCP_ACK) && oasis_seq_gt(b->ack, u));
            if (b->sent >= a->due && answers && !b->due)
                break;
        }
        if (j < y->nsegs && y->segs[j].sent <= end) {
            answered++;
            j++;
            continue;
        }
        snprintf(why, n,
                 "%c: Timeout at %.3fs not justified by the link: of %u sends of seq %u, %u were "
                 "lost, %u lost their answer, and the one that arrived at %.3fs drew no answer "
                 "the link lost",
                 c, (end - m->t0) / 1e9, attempts, u, lost, answered, (a->due - m->t0) / 1e9);
        return 0;
    }
    if (attempts) {
        snprintf(why, n,
                 "%c: Timeout at %.3fs justified by the link: %u sends of seq %u, %u lost on the "
                 "way, %u answers lost",
                 c, (end - m->t0) / 1e9, attempts, u, lost, answered);
        return 1;
    }
    uint64_t quiet = 60 * OASIS_NS_PER_SEC;
    if (m->c->tcp.fin_wait2_ns && m->c->tcp.fin_wait2_ns < quiet)
        quiet = m->c->tcp.fin_wait2_ns;
    int ok = last_in + quiet <= end;
    snprintf(why, n, "%c: Timeout at %.3fs with nothing outstanding; the peer's last segment "
             "arrived %.3fs before%s",
             c, (end - m->t0) / 1e9, (end - last_in) / 1e9,
             ok ? " (justified)" : ": not justified by the link");
    return ok;
}

/* Cases without a cut for good: a Timeout needs the link's history behind
 * it. Returns 1 when some side timed out and every Timeout was justified
 * (the outcome is then judged as for a cut link), 0 when none timed out;
 * fails the case for an unjustified one. */
static int timeouts_justified(sim *m)
{
    int any = 0;
    char why[2][240] = {"", ""};
    for (int i = 0; i < 2; i++) {
        const side *s = &m->s[i];
        if (!s->timeout_at)
            continue;
        any = 1;
        if (!timeout_justified(m, s, why[i], sizeof why[i])) {
            fail(m, "%s", why[i]);
            return 0;
        }
    }
    if (any)
        snprintf(m->r->note, sizeof m->r->note, "%s%s%s", why[0], why[0][0] && why[1][0] ? "; " : "",
                 why[1]);
    return any;
}

/* ---- events and the run loop ------------------------------------------- */

static int side_settled(const sim *m, const side *s)
{
    if (s->had_flow)
        return s->flow == NULL;
    if (s->id == m->c->client)
        return s->connect_cbs > 0;
    const side *client = &m->s[m->c->client];
    return client->connect_cbs > 0 && (client->connect_err != 0 || client->flow == NULL);
}

static int settled(const sim *m) { return side_settled(m, &m->s[0]) && side_settled(m, &m->s[1]); }

static uint64_t next_event(const sim *m)
{
    const sim_case *c = m->c;
    uint64_t t = NO_TIME;
    for (int i = 0; i < 2; i++)
        if (m->s[i].paused && m->s[i].flow && m->s[i].resume_at < t)
            t = m->s[i].resume_at;
    if (c->cut != CUT_NONE && !m->cut_started && m->t0 + c->cut_at_ns < t)
        t = m->t0 + c->cut_at_ns;
    if (c->cut == CUT_OUTAGE && m->cut_started && !m->cut_healed &&
        m->t0 + c->cut_at_ns + c->cut_len_ns < t)
        t = m->t0 + c->cut_at_ns + c->cut_len_ns;
    return t;
}

static void set_cut(sim *m, int cut)
{
    oasis_impair dead;
    oasis_impair_init(&dead);
    dead.loss = 1;
    oasis_wire_impair(m->wire, m->s[0].link, m->s[1].link, cut ? &dead : &m->c->imp[0]);
    oasis_wire_impair(m->wire, m->s[1].link, m->s[0].link, cut ? &dead : &m->c->imp[1]);
}

static void fire_events(sim *m)
{
    uint64_t t = now(m);
    for (int i = 0; i < 2; i++)
        if (m->s[i].paused && m->s[i].flow && m->s[i].resume_at <= t)
            start_read(&m->s[i]);
    const sim_case *c = m->c;
    if (c->cut != CUT_NONE && !m->cut_started && m->t0 + c->cut_at_ns <= t) {
        m->cut_started = 1;
        set_cut(m, 1);
    }
    if (c->cut == CUT_OUTAGE && m->cut_started && !m->cut_healed &&
        m->t0 + c->cut_at_ns + c->cut_len_ns <= t) {
        m->cut_healed = 1;
        set_cut(m, 0);
    }
}

/* The listener's side of a handshake that never completed (every SYN-ACK
 * or its ACK lost) ends inside the stack, unseen by the application:
 * AttemptFails says when, and the time is judged as a Timeout is. */
static void note_handshake_timeout(sim *m)
{
    side *s = &m->s[!m->c->client];
    if (!s->had_flow && !s->timeout_at &&
        oasis_stack_counters(s->stack)->tcp.attempt_fails > 0)
        s->timeout_at = now(m);
}

static int run_done(void *ud)
{
    sim *m = ud;
    note_handshake_timeout(m);
    return !m->r->ok || settled(m) || next_event(m) <= now(m);
}

static void describe_side(const side *s, char *buf, size_t n)
{
    oasis_tcp_info ti;
    if (s->flow && oasis_tcp_get_info(s->flow, &ti) == 0)
        snprintf(buf, n,
                 "%c: %s rx %llu/%llu sent %llu/%llu, cwnd %u ssthresh %u flight %u snd_wnd %u "
                 "rcv_wnd %u rto %.3fs retrans %llu%s",
                 'A' + s->id, oasis_tcp_state_name(ti.state), (unsigned long long)s->rx,
                 (unsigned long long)s->sim->s[!s->id].app->size,
                 (unsigned long long)s->tx_queued, (unsigned long long)s->app->size, ti.cwnd,
                 ti.ssthresh, ti.bytes_in_flight, ti.snd_wnd, ti.rcv_wnd, ti.rto_ns / 1e9,
                 (unsigned long long)ti.retransmits, s->paused ? " (reader paused)" : "");
    else
        snprintf(buf, n, "%c: no flow (had %d, connect %s, close %s), rx %llu", 'A' + s->id,
                 s->had_flow, oasis_err_name(s->connect_err), oasis_err_name(s->close_err),
                 (unsigned long long)s->rx);
}

static void fail_stuck(sim *m, const char *what)
{
    char a[300], b[300];
    describe_side(&m->s[0], a, sizeof a);
    describe_side(&m->s[1], b, sizeof b);
    fail(m, "%s after %.1fs virtual; %s; %s", what, (now(m) - m->t0) / 1e9, a, b);
}

static void run_loop(sim *m)
{
    uint64_t deadline = m->t0 + m->c->limit_ns;
    for (;;) {
        fire_events(m);
        if (!m->r->ok || settled(m))
            return;
        uint64_t t = now(m);
        if (t >= deadline) {
            fail_stuck(m, "not finished");
            return;
        }
        uint64_t next = next_event(m);
        uint64_t until = next < deadline ? next : deadline;
        int rc = oasis_wire_run(m->wire, run_done, m, until - t);
        if (rc == OASIS_EAGAIN && now(m) < until) {
            if (next == NO_TIME && !settled(m)) {
                fail_stuck(m, "idle (no frame, no timer) but not finished");
                return;
            }
            oasis_clock_set(m->clock, until);
        }
    }
}

/* ---- --ip-link: each stack on an IP link carried by the wire ---------- */

/* The wire carries Ethernet frames: an IP link's packet goes out behind a
 * header from this side's endpoint to the peer's, as a tunnel would carry
 * it; the peer's endpoint hands what is behind the header to its stack
 * (oasis_stack_input_ip). The stacks stay attached to the wire too, which
 * runs their timers; no frame is addressed to those ports, but what a
 * stack broadcast there while its link was still the port (its ARP and
 * MLD at attach time) reaches the other ports, the endpoints included,
 * which take only what the far endpoint sent. */
static int tun_send(oasis_link *l, const uint8_t *pkt, size_t len)
{
    side *s = l->data;
    uint8_t frame[OASIS_ETH_HLEN + 65536];
    if (len == 0 || len > sizeof frame - OASIS_ETH_HLEN)
        return OASIS_EINVAL;
    uint16_t type = pkt[0] >> 4 == 6 ? 0x86dd : 0x0800;
    oasis_eth_emit(frame, s->sim->s[!s->id].ep_mac, s->ep_mac, type);
    memcpy(frame + OASIS_ETH_HLEN, pkt, len);
    return s->link->send(s->link, frame, OASIS_ETH_HLEN + len);
}

static void tun_rx(void *ud, const uint8_t *frame, size_t len)
{
    side *s = ud;
    const side *far = &s->sim->s[!s->id];
    if (!s->sim->teardown && len >= OASIS_ETH_HLEN && !memcmp(frame + 6, far->ep_mac, 6))
        oasis_stack_input_ip(s->stack, frame + OASIS_ETH_HLEN, len - OASIS_ETH_HLEN);
}

static int tun_attach(sim *m, side *s)
{
    uint8_t mac[6] = {0x02, 0, 0, 0, 1, (uint8_t)(s->id + 1)};
    memcpy(s->ep_mac, mac, 6);
    if (!oasis_wire_attach(m->wire, s->stack))
        return -1;
    s->link = oasis_wire_attach_endpoint(m->wire, s->ep_mac, tun_rx, s);
    if (!s->link)
        return -1;
    s->tun = (oasis_link){.send = tun_send, .mtu = s->link->mtu, .caps = OASIS_LINK_IP,
                          .data = s, .pcap = s->pcap};
    oasis_stack_set_link(s->stack, &s->tun);
    if (m->o->ipv6) {
        oasis_ipaddr a;
        oasis_ipaddr_parse(s->id ? "fd00::2" : "fd00::1", &a);
        if (oasis_ipv6_add_addr(s->stack, &a, 128) != 0)
            return -1;
    }
    return 0;
}

/* ---- setup, checks, teardown ------------------------------------------- */

static int make_side(sim *m, int id)
{
    side *s = &m->s[id];
    s->sim = m;
    s->id = id;
    s->app = &m->c->app[id];
    s->connect_err = 0;
    s->wscale = -1;
    oasis_sha256_init(&s->rx_hash);
    s->tx = malloc(s->app->size ? s->app->size : 1);
    if (!s->tx)
        return -1;
    oasis_prng g;
    oasis_prng_seed(&g, m->c->seed * 2 + (uint64_t)id + 0x5eed);
    for (uint64_t i = 0; i < s->app->size; i += 8) {
        uint64_t x = oasis_prng_next(&g);
        for (uint64_t k = 0; k < 8 && i + k < s->app->size; k++)
            s->tx[i + k] = (uint8_t)(x >> (8 * k));
    }

    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg);
    uint8_t mac[6] = {0x02, 0, 0, 0, 0, (uint8_t)(id + 1)};
    memcpy(cfg.mac, mac, 6);
    cfg.addr = OASIS_IPV4(10, 0, 0, id + 1);
    cfg.prefix_len = 24;
    cfg.clock = m->clock;
    cfg.seed = m->c->seed * 4 + (uint64_t)id + 1;
    cfg.alloc = count_alloc;
    cfg.alloc_ud = s;
    cfg.tcp = m->c->tcp;
    if (m->c->arp_announce_num)
        cfg.arp_announce_num = m->c->arp_announce_num;
    if (s->app->sndbuf)
        cfg.tcp.sndbuf = s->app->sndbuf;
    if (s->app->rcvbuf)
        cfg.tcp.rcvbuf = s->app->rcvbuf;
    cfg.tcp.nodelay = s->app->nodelay;
    if (m->o->ipv6) {
        cfg.ipv6 = 1;
        cfg.dad_transmits = 0; /* the link-local address is usable at once */
    }
    cfg.transparent = m->o->transparent;
    if (m->o->transparent && !m->o->ip_link)
        cfg.gateway = OASIS_IPV4(10, 0, 0, 2 - id); /* the foreign address is the peer's */
    if (oasis_stack_create(&cfg, &s->stack) != 0)
        return -1;
    if (m->o->pcap) {
        char path[1024];
        snprintf(path, sizeof path, "%s-%c.pcap", m->o->pcap, 'a' + id);
        oasis_pcap_open(path, &s->pcap);
    }
    if (m->o->ip_link ? tun_attach(m, s) != 0 : !(s->link = oasis_wire_attach(m->wire, s->stack)))
        return -1;
    if (!m->o->ip_link)
        s->link->pcap = s->pcap;
    return 0;
}

static void check_side_clean(sim *m, const side *s)
{
    const side *peer = &m->s[!s->id];
    char c = (char)('A' + s->id);
    if (!s->had_flow)
        fail(m, "%c: never got a flow (connect %s, %d accepts)", c, oasis_err_name(s->connect_err),
             s->accepts);
    else if (s->rx != peer->app->size)
        fail(m, "%c: received %llu of %llu bytes", c, (unsigned long long)s->rx,
             (unsigned long long)peer->app->size);
    else if (!s->eof || s->eof_why != 0)
        fail(m, "%c: stream ended with eof %d, flow error %s", c, s->eof,
             oasis_err_name(s->eof_why));
    else if (s->write_err)
        fail(m, "%c: a write failed with %s", c, oasis_err_name(s->write_err));
    else if (s->close_err == OASIS_ERESET || timed_out(s->close_err))
        /* Everything arrived, but the ACKs of our FIN kept getting lost
         * until the peer's TIME_WAIT ended: TCP allows this ending. */
        snprintf(m->r->note, sizeof m->r->note,
                 "%c: close ended with %s after the whole transfer", c,
                 oasis_err_name(s->close_err));
    else if (s->close_err)
        fail(m, "%c: close completed with %s", c, oasis_err_name(s->close_err));
    if (!m->r->ok)
        return;
    oasis_sha256 tx;
    uint8_t want[32], got[32];
    oasis_sha256_init(&tx);
    oasis_sha256_update(&tx, peer->tx, peer->app->size);
    oasis_sha256_final(&tx, want);
    oasis_sha256 rx = s->rx_hash;
    oasis_sha256_final(&rx, got);
    if (memcmp(want, got, 32) != 0)
        fail(m, "%c: SHA-256 of the received stream differs", c);
}

/* A cut link ends with the contract's errors: what arrived is a prefix of
 * what was sent (checked as it arrived) and a flow that did not finish
 * says why. */
static void check_side_cut(sim *m, const side *s)
{
    const side *peer = &m->s[!s->id];
    if (!s->had_flow || !s->eof)
        return;
    /* An orderly end of stream means the peer's FIN came after all its data. */
    if (s->rx != peer->app->size && s->eof_why == 0)
        fail(m, "%c: stream ended early (%llu of %llu bytes) without an error", 'A' + s->id,
             (unsigned long long)s->rx, (unsigned long long)peer->app->size);
}

static void check_drained(sim *m)
{
    for (int i = 0; i < 2 && m->r->ok; i++) {
        const oasis_tcp_counters *t = &oasis_stack_counters(m->s[i].stack)->tcp;
        if (t->flows != 0 || t->time_wait != 0)
            fail(m, "%c: %llu flows (%llu in TIME_WAIT) left %.0fs after both sides closed",
                 'A' + i, (unsigned long long)t->flows, (unsigned long long)t->time_wait,
                 DRAIN_NS / 1e9);
    }
}

static void check_accounting(sim *m, const side *s)
{
    char c = (char)('A' + s->id);
    if (s->writes_done != s->writes_issued)
        fail(m, "%c: %d write callbacks for %d writes", c, s->writes_done, s->writes_issued);
    if (s->reads_done != s->reads_issued)
        fail(m, "%c: %d read callbacks for %d reads", c, s->reads_done, s->reads_issued);
    if (s->close_cbs != s->close_req)
        fail(m, "%c: %d close callbacks for %d closes", c, s->close_cbs, s->close_req);
    if (s->id == m->c->client && s->connect_cbs != 1)
        fail(m, "%c: %d connect callbacks", c, s->connect_cbs);
    if (s->live_allocs != 0)
        fail(m, "%c: %ld allocations not freed", c, s->live_allocs);
}

static void fingerprint(sim *m)
{
    oasis_sha256 h;
    oasis_sha256_init(&h);
    uint64_t t = now(m) - m->t0;
    oasis_sha256_update(&h, &t, sizeof t);
    oasis_wire_stats st[2];
    oasis_wire_stats_get(m->wire, m->s[0].link, m->s[1].link, &st[0]);
    oasis_wire_stats_get(m->wire, m->s[1].link, m->s[0].link, &st[1]);
    oasis_sha256_update(&h, st, sizeof st);
    for (int i = 0; i < 2; i++) {
        const side *s = &m->s[i];
        int v[6] = {s->eof_why, s->close_err, s->connect_err, s->write_err, s->reads_done,
                    s->writes_done};
        oasis_sha256_update(&h, &s->rx, sizeof s->rx);
        oasis_sha256_update(&h, v, sizeof v);
    }
    oasis_sha256_final(&h, m->r->fingerprint);
    m->r->frames = st[0].delivered + st[1].delivered;
    m->r->duplicated = st[0].duplicated + st[1].duplicated;
    m->r->retransmits = oasis_stack_counters(m->s[0].stack)->tcp.retrans_segs +
                        oasis_stack_counters(m->s[1].stack)->tcp.retrans_segs;
    m->r->dsacks = oasis_stack_counters(m->s[0].stack)->tcp.dsack_recv +
                   oasis_stack_counters(m->s[1].stack)->tcp.dsack_recv;
    m->r->timeouts = oasis_stack_counters(m->s[0].stack)->tcp.timeouts +
                     oasis_stack_counters(m->s[1].stack)->tcp.timeouts;
}

static void print_summary(sim *m)
{
    for (int i = 0; i < 2; i++) {
        oasis_wire_stats st;
        oasis_wire_stats_get(m->wire, m->s[i].link, m->s[!i].link, &st);
        const oasis_counters *k = oasis_stack_counters(m->s[i].stack);
        printf("  %c->%c wire: sent %llu delivered %llu lost %llu burst %llu queue %llu "
               "corrupt %llu reorder %llu dup %llu\n",
               'A' + i, 'A' + !i, (unsigned long long)st.sent, (unsigned long long)st.delivered,
               (unsigned long long)st.dropped_loss, (unsigned long long)st.dropped_burst,
               (unsigned long long)st.dropped_queue, (unsigned long long)st.corrupted,
               (unsigned long long)st.reordered, (unsigned long long)st.duplicated);
        printf("  %c tcp: retrans %llu timeouts %llu fast_retrans %llu csum_err ip %llu tcp %llu; "
               "rx %llu eof %d (%s) close %s; SYNs of another connection %d\n",
               'A' + i, (unsigned long long)k->tcp.retrans_segs,
               (unsigned long long)k->tcp.timeouts, (unsigned long long)k->tcp.fast_retrans,
               (unsigned long long)k->ip.in_csum_errors, (unsigned long long)k->tcp.in_csum_errors,
               (unsigned long long)m->s[i].rx, m->s[i].eof, oasis_err_name(m->s[i].eof_why),
               oasis_err_name(m->s[i].close_err), m->s[i].reopens);
    }
    printf("  virtual time %.3fs with the drain after the close\n", (now(m) - m->t0) / 1e9);
}

static void start_transfer(sim *m)
{
    const sim_case *c = m->c;
    side *cl = &m->s[c->client], *sv = &m->s[!c->client];
    static const oasis_keepalive ka = {20 * OASIS_NS_PER_SEC, 5 * OASIS_NS_PER_SEC, 3};
    const oasis_keepalive *kap = c->cut == CUT_FOREVER ? &ka : NULL;
    oasis_listen_opts lo = {.keepalive = kap, .transparent = m->o->transparent};
    int rc = oasis_tcp_listen(sv->stack, PORT, &lo, accept_cb, sv);
    if (rc != 0) {
        fail(m, "listen failed with %s", oasis_err_name(rc));
        return;
    }
    oasis_ipaddr dst = oasis_ipaddr_v4(oasis_stack_addr(sv->stack));
    if (m->o->transparent) {
        dst = foreign_dst(m);
    } else if (m->o->ipv6) {
        /* The server's link-local address (the only one: no router). */
        oasis_ipv6_addr_info ai[8];
        size_t k = oasis_ipv6_addrs(sv->stack, ai, 8);
        if (k == 0 || ai[0].state != OASIS_IPV6_PREFERRED) {
            fail(m, "no usable IPv6 address on the server");
            return;
        }
        dst = ai[0].addr;
    }
    cl->in_call = 1;
    rc = oasis_tcp_connect(cl->stack, &dst, PORT, kap, connect_cb, cl);
    cl->in_call = 0;
    if (rc != 0)
        fail(m, "connect refused with %s", oasis_err_name(rc));
}

void sim_run(const sim_case *c, const sim_opts *o, sim_result *r)
{
    memset(r, 0, sizeof *r);
    r->ok = 1;
    sim *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(r->why, sizeof r->why, "out of memory");
        r->ok = 0;
        return;
    }
    m->c = c;
    m->o = o;
    m->r = r;
    oasis_prng_seed(&m->rng, c->seed ^ 0xa99u);
    m->clock = oasis_clock_new_virtual(1000 * OASIS_NS_PER_SEC);
    oasis_wire_config wc;
    oasis_wire_config_init(&wc);
    wc.mtu = c->mtu;
    if (o->ipv6 && wc.mtu < 1280)
        wc.mtu = 1280; /* RFC 8200 5: IPv6 needs 1280 */
    wc.offload = o->offload;
    wc.seed = c->seed;
    if (!m->clock || oasis_wire_create(m->clock, &wc, &m->wire) != 0 || make_side(m, 0) ||
        make_side(m, 1)) {
        fail(m, "setup failed");
    } else {
        set_cut(m, 0);
        oasis_wire_observe(m->wire, on_frame, m);
        m->t0 = now(m);
        start_transfer(m);
        if (r->ok)
            run_loop(m);
        r->virt_ns = now(m) - m->t0;
        if (r->ok) {
            int cut = c->cut == CUT_FOREVER || timeouts_justified(m);
            for (int i = 0; i < 2 && r->ok; i++) {
                if (cut)
                    check_side_cut(m, &m->s[i]);
                else
                    check_side_clean(m, &m->s[i]);
            }
        }
        if (r->ok) {
            oasis_wire_run(m->wire, NULL, NULL, DRAIN_NS);
            check_drained(m);
        }
        fingerprint(m);
        if (o->verbose)
            print_summary(m);
    }
    m->teardown = 1;
    for (int i = 0; i < 2; i++)
        oasis_wire_detach(m->wire, m->s[i].stack);
    for (int i = 0; i < 2; i++) {
        oasis_stack_destroy(m->s[i].stack);
        m->s[i].flow = NULL;
    }
    for (int i = 0; i < 2; i++) {
        if (m->s[i].stack)
            check_accounting(m, &m->s[i]);
        oasis_pcap_close(m->s[i].pcap);
        free(m->s[i].tx);
        free(m->s[i].segs);
    }
    oasis_wire_destroy(m->wire);
    oasis_clock_free(m->clock);
    free(m);
}
