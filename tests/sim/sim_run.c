/* Runs one case: two stacks on an impaired wire, a TCP transfer in both
 * directions at once, then checks what the contract promises:
 *  - every byte arrives exactly once and in order (compared as it arrives,
 *    and by SHA-256 at the end), or, when the link is cut for good, what
 *    arrived is a prefix of what was sent and both sides end with the
 *    contract's errors;
 *  - every request's callback runs exactly once, never from inside the call
 *    that started it, and never after the flow's close callback;
 *  - both sides close cleanly; nothing is left in the stacks after 2*MSL;
 *  - every allocation is given back once the stacks are destroyed.
 * The first failure is recorded in the result; the run goes on to teardown
 * so ASan and the allocator count see everything. */
#include "sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/prng.h"
#include "core/sha256.h"

#define PORT 5000
#define NO_TIME UINT64_MAX
#define DRAIN_NS (10 * 60 * OASIS_NS_PER_SEC)

typedef struct sim sim;

typedef struct side {
    sim *sim;
    int id;
    oasis_stack *stack;
    oasis_link *link;
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
    if (!callback_ok(s, f, "write", err) || s->sim->teardown)
        return;
    if (err == 0) {
        pump(s);
        return;
    }
    if (err != OASIS_ECLOSED && err != OASIS_ETIMEDOUT && err != OASIS_ERESET &&
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
    if (!callback_ok(s, f, "close", err))
        return;
    if (err != 0 && err != OASIS_ECLOSED && err != OASIS_ETIMEDOUT && err != OASIS_ERESET &&
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
    if (err == 0 && !f)
        fail(m, "%c: connect succeeded without a flow", 'A' + s->id);
    if (err == 0 && f)
        start_side(s, f);
    else if (err != OASIS_ETIMEDOUT && err != OASIS_EREFUSED && err != OASIS_EUNREACH &&
             !(err == OASIS_ECANCELED && m->teardown))
        fail(m, "%c: connect completed with %s", 'A' + s->id, oasis_err_name(err));
}

static void accept_cb(oasis_stack *st, oasis_flow *f, void *ud)
{
    side *s = ud;
    if (++s->accepts > 1) {
        fail(s->sim, "%c: a second flow was accepted", 'A' + s->id);
        oasis_tcp_release(f);
        return;
    }
    start_side(s, f);
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

static int run_done(void *ud)
{
    sim *m = ud;
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

/* ---- setup, checks, teardown ------------------------------------------- */

static int make_side(sim *m, int id)
{
    side *s = &m->s[id];
    s->sim = m;
    s->id = id;
    s->app = &m->c->app[id];
    s->connect_err = 0;
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
    if (s->app->sndbuf)
        cfg.tcp.sndbuf = s->app->sndbuf;
    if (s->app->rcvbuf)
        cfg.tcp.rcvbuf = s->app->rcvbuf;
    cfg.tcp.nodelay = s->app->nodelay;
    if (oasis_stack_create(&cfg, &s->stack) != 0)
        return -1;
    s->link = oasis_wire_attach(m->wire, s->stack);
    if (!s->link)
        return -1;
    if (m->o->pcap) {
        char path[1024];
        snprintf(path, sizeof path, "%s-%c.pcap", m->o->pcap, 'a' + id);
        if (oasis_pcap_open(path, &s->pcap) == 0)
            s->link->pcap = s->pcap;
    }
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
    else if (s->close_err == OASIS_ERESET || s->close_err == OASIS_ETIMEDOUT)
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
    m->r->retransmits = oasis_stack_counters(m->s[0].stack)->tcp.retrans_segs +
                        oasis_stack_counters(m->s[1].stack)->tcp.retrans_segs;
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
               "rx %llu eof %d (%s) close %s\n",
               'A' + i, (unsigned long long)k->tcp.retrans_segs,
               (unsigned long long)k->tcp.timeouts, (unsigned long long)k->tcp.fast_retrans,
               (unsigned long long)k->ip.in_csum_errors, (unsigned long long)k->tcp.in_csum_errors,
               (unsigned long long)m->s[i].rx, m->s[i].eof, oasis_err_name(m->s[i].eof_why),
               oasis_err_name(m->s[i].close_err));
    }
    printf("  virtual time %.3fs with the drain after the close\n", (now(m) - m->t0) / 1e9);
}

static void start_transfer(sim *m)
{
    const sim_case *c = m->c;
    side *cl = &m->s[c->client], *sv = &m->s[!c->client];
    static const oasis_keepalive ka = {20 * OASIS_NS_PER_SEC, 5 * OASIS_NS_PER_SEC, 3};
    const oasis_keepalive *kap = c->cut == CUT_FOREVER ? &ka : NULL;
    oasis_listen_opts lo = {.keepalive = kap};
    int rc = oasis_tcp_listen(sv->stack, PORT, &lo, accept_cb, sv);
    if (rc != 0) {
        fail(m, "listen failed with %s", oasis_err_name(rc));
        return;
    }
    cl->in_call = 1;
    rc = oasis_tcp_connect(cl->stack, oasis_stack_addr(sv->stack), PORT, kap, connect_cb, cl);
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
    wc.seed = c->seed;
    if (!m->clock || oasis_wire_create(m->clock, &wc, &m->wire) != 0 || make_side(m, 0) ||
        make_side(m, 1)) {
        fail(m, "setup failed");
    } else {
        set_cut(m, 0);
        m->t0 = now(m);
        start_transfer(m);
        if (r->ok)
            run_loop(m);
        r->virt_ns = now(m) - m->t0;
        if (r->ok) {
            for (int i = 0; i < 2; i++) {
                if (c->cut == CUT_FOREVER)
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
    }
    oasis_wire_destroy(m->wire);
    oasis_clock_free(m->clock);
    free(m);
}
