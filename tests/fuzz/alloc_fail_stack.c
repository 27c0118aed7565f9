/* Allocation-failure scenario: two stacks on the in-memory wire (ARP, ping,
 * UDP with fragments both ways, TCP connect / 20 KB transfer / close both
 * ways), run with allocation n failing, for every n the scenario reaches.
 *
 *   alloc_fail_stack            in-process sweep with the stacks' own
 *                               allocator: a clean run counts the
 *                               allocations (C), then for n = 1..C one run
 *                               where only allocation n fails and one where
 *                               every allocation from n on fails
 *   alloc_fail_stack --n=N [--persistent]   one such run (to replay)
 *   alloc_fail_stack --once     one run with the default allocator, for
 *                               alloc_fail.sh and the OASIS_ALLOC_FAIL hook
 *
 * What must hold in every run (else exit 1 with a message):
 *  - API calls return 0 or a documented error (ENOMEM, EAGAIN...);
 *  - every accepted request completes exactly once, never inside the call
 *    that started it; a refused one never completes;
 *  - bytes a reader gets are exactly the bytes written, in order (a prefix);
 *  - after the stacks are destroyed no block is left (own allocator);
 *  - a run without failure completes everything.
 * A run with a failure may end early (a dropped SYN that is never
 * retransmitted because the connect itself failed...): that is reported, not
 * judged, except that it must not crash or leak. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oasis/error.h"
#include "oasis/oasis.h"

#define ADDR_A OASIS_IPV4(10, 0, 0, 1)
#define ADDR_B OASIS_IPV4(10, 0, 0, 2)
#define TCP_BYTES 20000
#define UDP_BYTES 4000
#define MAX_REQS 64

#ifdef OASIS_ALLOC_FAIL
/* Defined in src/core/mem.c in OASIS_ALLOC_FAIL builds only. */
unsigned long oasis_alloc_fail_hit(void);
#endif

typedef struct req {
    int in_call, accepted, completions, err;
} req;

typedef struct run {
    /* allocator */
    unsigned long count, fail_at;
    int persistent, failed;
    long live;
    /* world */
    oasis_clock *clock;
    oasis_wire *wire;
    oasis_stack *a, *b;
    req reqs[MAX_REQS];
    int nreqs;
    /* progress */
    int pinged, udp_echoed;
    size_t udp_got;
    oasis_flow *client, *server;
    size_t tcp_got;
    int server_eof, client_eof, client_closed, server_closed;
    int violations;
    uint8_t udp_buf[UDP_BYTES];
} run;

static uint8_t pattern[TCP_BYTES];

static void violation(run *r, const char *what)
{
    fprintf(stderr, "VIOLATION (fail_at=%lu%s): %s\n", r->fail_at,
            r->persistent ? " persistent" : "", what);
    r->violations++;
}

#define CHECK(r, cond)                                                                          \
    do {                                                                                        \
        if (!(cond))                                                                            \
            violation((r), #cond);                                                              \
    } while (0)

/* ---- allocator ------------------------------------------------------------------ */

typedef struct blk {
    size_t size, pad;
} blk;

static void *af_alloc(void *ud, void *ptr, size_t size)
{
    run *r = ud;
    blk *h = ptr ? (blk *)ptr - 1 : NULL;
    if (size == 0) {
        if (h) {
            r->live--;
            free(h);
        }
        return NULL;
    }
    r->count++;
    if (r->fail_at && (r->count == r->fail_at || (r->persistent && r->count > r->fail_at))) {
        r->failed = 1;
        return NULL;
    }
    blk *n = realloc(h, sizeof *n + size);
    if (!n)
        return NULL;
    if (!h)
        r->live++;
    n->size = size;
    return n + 1;
}

/* ---- requests ------------------------------------------------------------------ */

static req *req_begin(run *r)
{
    if (r->nreqs >= MAX_REQS) {
        violation(r, "harness: too many requests");
        exit(1);
    }
    req *q = &r->reqs[r->nreqs++];
    memset(q, 0, sizeof *q);
    q->in_call = 1;
    return q;
}

static int req_end(run *r, req *q, int rc)
{
    q->in_call = 0;
    q->accepted = rc == 0;
    CHECK(r, rc == 0 || q->completions == 0);
    return rc;
}

static void req_done(run *r, req *q, int err)
{
    CHECK(r, !q->in_call);
    CHECK(r, q->completions == 0);
    q->completions++;
    q->err = err;
}

static run *stack_run(oasis_stack *s) { return oasis_stack_user_data(s); }
static run *flow_run(oasis_flow *f) { return stack_run(oasis_flow_stack(f)); }

/* Errors an API call may return when memory runs out or a peer is gone. */
static int rc_ok(int rc)
{
    return rc == 0 || rc == OASIS_ENOMEM || rc == OASIS_EAGAIN || rc == OASIS_ENOROUTE;
}

/* ---- ping and UDP ------------------------------------------------------------------ */

static void on_ping(oasis_stack *s, int err, uint16_t seq, uint64_t rtt, void *ud)
{
    run *r = stack_run(s);
    req_done(r, ud, err);
    (void)seq, (void)rtt;
    CHECK(r, err == 0 || err == OASIS_ETIMEDOUT || err == OASIS_EUNREACH || err == OASIS_ECANCELED);
    if (err == 0)
        r->pinged = 1;
}

static void on_udp_b(oasis_stack *s, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                     const uint8_t *data, size_t len, void *ud)
{
    run *r = stack_run(s);
    (void)dst, (void)dport, (void)ud;
    CHECK(r, len == UDP_BYTES && memcmp(data, pattern, len) == 0);
    CHECK(r, rc_ok(oasis_udp_send4(s, 7, src, sport, data, len)));
}

static void on_udp_a(oasis_stack *s, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                     const uint8_t *data, size_t len, void *ud)
{
    run *r = stack_run(s);
    (void)src, (void)sport, (void)dst, (void)dport, (void)ud;
    CHECK(r, len == UDP_BYTES && memcmp(data, pattern, len) == 0);
    r->udp_echoed = 1;
}

/* ---- TCP ------------------------------------------------------------------------------ */

static void on_close(oasis_flow *f, int err, void *ud)
{
    run *r = flow_run(f);
    req_done(r, ud, err);
    if (f == r->client) {
        r->client = NULL;
        r->client_closed = 1;
    } else {
        CHECK(r, f == r->server);
        r->server = NULL;
        r->server_closed = 1;
    }
    oasis_tcp_release(f);
}

static void close_flow(run *r, oasis_flow *f)
{
    req *q = req_begin(r);
    CHECK(r, rc_ok(req_end(r, q, oasis_tcp_close(f, on_close, q))));
}

static void on_server_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud);

static void server_read(run *r)
{
    req *q = req_begin(r);
    CHECK(r, rc_ok(req_end(r, q, oasis_tcp_read(r->server, on_server_read, q))));
}

static void on_server_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    run *r = flow_run(f);
    req_done(r, ud, err);
    if (err == 0) {
        CHECK(r, r->tcp_got + len <= TCP_BYTES &&
                     memcmp(data, pattern + r->tcp_got, len) == 0);
        r->tcp_got += len;
        server_read(r);
        return;
    }
    CHECK(r, err == OASIS_EOF || err == OASIS_ECANCELED);
    if (err == OASIS_EOF) {
        r->server_eof = 1;
        close_flow(r, f);
    }
}

static void on_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    run *r = stack_run(s);
    (void)ud;
    CHECK(r, r->server == NULL);
    r->server = f;
    server_read(r);
}

static void on_client_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    run *r = flow_run(f);
    req_done(r, ud, err);
    (void)data;
    CHECK(r, err == OASIS_EOF || err == OASIS_ECANCELED || (err == 0 && len == 0));
    if (err == OASIS_EOF)
        r->client_eof = 1;
}

static void on_written(oasis_flow *f, int err, void *ud)
{
    run *r = flow_run(f);
    req_done(r, ud, err);
    CHECK(r, err == 0 || err == OASIS_ECLOSED || err == OASIS_ETIMEDOUT || err == OASIS_ERESET ||
                 err == OASIS_ECANCELED);
    if (err == 0)
        close_flow(r, f);
}

static void on_connect(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    run *r = stack_run(s);
    req_done(r, ud, err);
    CHECK(r, (err == 0) == (f != NULL));
    if (!f)
        return;
    r->client = f;
    req *q = req_begin(r);
    CHECK(r, rc_ok(req_end(r, q, oasis_tcp_read(f, on_client_read, q))));
    q = req_begin(r);
    CHECK(r, rc_ok(req_end(r, q, oasis_tcp_write(f, pattern, TCP_BYTES, on_written, q))));
}

/* ---- the scenario ------------------------------------------------------------------------ */

static int make_stack(run *r, int n, int own_alloc, oasis_stack **out)
{
    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg);
    uint8_t mac[6] = {2, 0, 0, 0, 0, (uint8_t)n};
    memcpy(cfg.mac, mac, 6);
    cfg.addr = OASIS_IPV4(10, 0, 0, n);
    cfg.clock = r->clock;
    cfg.seed = (uint64_t)n * 7919u;
    if (own_alloc) {
        cfg.alloc = af_alloc;
        cfg.alloc_ud = r;
    }
    int rc = oasis_stack_create(&cfg, out);
    CHECK(r, rc == 0 || rc == OASIS_ENOMEM);
    if (rc == 0)
        oasis_stack_set_user_data(*out, r);
    return rc;
}

static int all_done(void *ud)
{
    run *r = ud;
    return r->pinged && r->udp_echoed && r->client_closed && r->server_closed && r->client_eof;
}

static void start_traffic(run *r)
{
    req *q = req_begin(r);
    CHECK(r, rc_ok(req_end(r, q, oasis_ping(r->a, ADDR_B, 1, 1, 56, 5 * OASIS_NS_PER_SEC,
                                            on_ping, q))));
    int rc = oasis_udp_bind4(r->b, 7, on_udp_b, r);
    CHECK(r, rc == 0 || rc == OASIS_ENOMEM);
    rc = oasis_udp_bind4(r->a, 5000, on_udp_a, r);
    CHECK(r, rc == 0 || rc == OASIS_ENOMEM);
    CHECK(r, rc_ok(oasis_udp_send4(r->a, 5000, ADDR_B, 7, pattern, UDP_BYTES)));
    rc = oasis_tcp_listen(r->b, 80, NULL, on_accept, r);
    CHECK(r, rc == 0 || rc == OASIS_ENOMEM);
    q = req_begin(r);
    CHECK(r, rc_ok(req_end(r, q, oasis_tcp_connect4(r->a, ADDR_B, 80, NULL, on_connect, q))));
}

static void check_requests(run *r)
{
    for (int i = 0; i < r->nreqs; i++)
        if (r->reqs[i].completions != (r->reqs[i].accepted ? 1 : 0))
            violation(r, "request completed != once");
}

/* One run; returns the number of violations. */
static int scenario(run *r, int own_alloc)
{
    r->clock = oasis_clock_new_virtual(1000 * OASIS_NS_PER_SEC);
    if (!r->clock || oasis_wire_create(r->clock, NULL, &r->wire) != 0) {
        fprintf(stderr, "harness: clock/wire\n");
        exit(2);
    }
    if (make_stack(r, 1, own_alloc, &r->a) == 0 && make_stack(r, 2, own_alloc, &r->b) == 0) {
        oasis_wire_attach(r->wire, r->a);
        oasis_wire_attach(r->wire, r->b);
        start_traffic(r);
        oasis_wire_run(r->wire, all_done, r, 600 * OASIS_NS_PER_SEC);
    }
    int done = all_done(r);
    if (getenv("ALLOC_FAIL_VERBOSE"))
        printf("fail_at=%lu%s: ping %d udp %d tcp %zu/%d eof %d/%d closed %d/%d\n", r->fail_at,
               r->persistent ? " persistent" : "", r->pinged, r->udp_echoed, r->tcp_got,
               TCP_BYTES, r->client_eof, r->server_eof, r->client_closed, r->server_closed);
    if (r->a)
        oasis_wire_detach(r->wire, r->a);
    if (r->b)
        oasis_wire_detach(r->wire, r->b);
    oasis_stack_destroy(r->a);
    oasis_stack_destroy(r->b);
    oasis_wire_destroy(r->wire);
    oasis_clock_free(r->clock);
    check_requests(r);
    if (own_alloc && r->live != 0)
        violation(r, "memory left after the stacks were destroyed (leak)");
    if (!r->failed && !done)
        violation(r, "the scenario did not complete without any allocation failure");
    return r->violations;
}

static int run_one(unsigned long n, int persistent, unsigned long *count, int *done)
{
    run *r = calloc(1, sizeof *r);
    if (!r)
        exit(2);
    r->fail_at = n;
    r->persistent = persistent;
    int v = scenario(r, 1);
    if (count)
        *count = r->count;
    if (done)
        *done = all_done(r);
    free(r);
    return v;
}

static int sweep(void)
{
    unsigned long total;
    int done;
    if (run_one(0, 0, &total, &done) != 0)
        return 1;
    unsigned long max = total;
    const char *env = getenv("ALLOC_FAIL_MAX");
    if (env && strtoul(env, NULL, 10) < max)
        max = strtoul(env, NULL, 10);
    int bad = 0;
    unsigned long recovered = 0;
    for (unsigned long n = 1; n <= max; n++) {
        bad += run_one(n, 0, NULL, &done) != 0;
        recovered += done;
        bad += run_one(n, 1, NULL, NULL) != 0;
    }
    printf("%lu allocations in a clean run; %lu single failures (%lu recovered fully) and "
           "%lu persistent ones: %d bad runs\n", total, max, recovered, max, bad);
    return bad != 0;
}

/* For the process-wide hook: default allocator, leaks left to LSan. */
static int once(void)
{
    run *r = calloc(1, sizeof *r);
    if (!r)
        return 2;
#ifdef OASIS_ALLOC_FAIL
    r->failed = getenv("OASIS_ALLOC_FAIL_N") && strtoul(getenv("OASIS_ALLOC_FAIL_N"), NULL, 10);
#endif
    int v = scenario(r, 0);
#ifdef OASIS_ALLOC_FAIL
    /* Did the hook fire? Only then may the scenario stop early. */
    if (r->failed && !oasis_alloc_fail_hit() && !all_done(r))
        v++, fprintf(stderr, "VIOLATION: incomplete although no allocation failed\n");
#endif
    free(r);
    return v != 0;
}

int main(int argc, char **argv)
{
    for (size_t i = 0; i < TCP_BYTES; i++)
        pattern[i] = (uint8_t)(i * 7 + i / 251);
    unsigned long n = 0;
    int persistent = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--once") == 0)
            return once();
        if (strncmp(argv[i], "--n=", 4) == 0)
            n = strtoul(argv[i] + 4, NULL, 10);
        else if (strcmp(argv[i], "--persistent") == 0)
            persistent = 1;
    }
    if (n) {
        int done;
        int v = run_one(n, persistent, NULL, &done);
        printf("fail_at=%lu%s: %s, %d violations\n", n, persistent ? " persistent" : "",
               done ? "completed" : "stopped early", v);
        return v != 0;
    }
    return sweep();
}
