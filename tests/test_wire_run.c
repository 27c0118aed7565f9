/* How the in-memory wire drives its stacks on a clock that is not virtual
 * (the benchmarks' case): how often a step reads the clock, callbacks from
 * the step and never from inside the call that started them. The clock is
 * a custom one that counts its reads and moves a microsecond per read, like
 * a real clock that someone reads. And how oasis_wire_run drives stacks
 * whose clock lags the wire's virtual one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "oasis/oasis.h"
#include "testutil.h"

typedef struct fake_clock {
    uint64_t t;
    uint64_t reads;
} fake_clock;

static uint64_t fake_now(void *ud)
{
    fake_clock *c = ud;
    c->reads++;
    c->t += 1000;
    return c->t;
}

/* A tick clock on a virtual one: it rounds the time down to the
 * millisecond, so it lags the wire's clock. */
static uint64_t tick_now(void *ud)
{
    return oasis_clock_now(ud) / OASIS_NS_PER_MS * OASIS_NS_PER_MS;
}

typedef struct rig {
    fake_clock fc;
    oasis_clock *clock;  /* the stacks' */
    oasis_clock *vclock; /* the wire's, when it is not the stacks' (NULL) */
    oasis_wire *wire;
    oasis_stack *a, *b;
    oasis_link *la, *lb;
    oasis_flow *client, *server;
    int in_api;        /* set around our own API calls */
    uint64_t replies;  /* responses the client read */
    uint64_t requests; /* requests the server read */
    uint64_t stop_at;  /* no new request after this many replies */
} rig;

static rig *g_rig;

/* ticks: the wire on a virtual clock with the given delay, the stacks on
 * a tick clock over it; else both on the fake clock. */
static void rig_init(rig *r, int ticks, uint64_t delay_ns)
{
    memset(r, 0, sizeof *r);
    r->fc.t = 1000 * OASIS_NS_PER_SEC;
    if (ticks) {
        r->vclock = oasis_clock_new_virtual(r->fc.t);
        assert_non_null(r->vclock);
        r->clock = oasis_clock_new_custom(tick_now, r->vclock);
    } else {
        r->clock = oasis_clock_new_custom(fake_now, &r->fc);
    }
    assert_non_null(r->clock);
    oasis_wire_config wc;
    oasis_wire_config_init(&wc);
    wc.delay_ns = delay_ns;
    assert_int_equal(oasis_wire_create(r->vclock ? r->vclock : r->clock, &wc, &r->wire), 0);
    oasis_stack_config cfg;
    test_stack_config(&cfg, r->clock, 1);
    assert_int_equal(oasis_stack_create(&cfg, &r->a), 0);
    test_stack_config(&cfg, r->clock, 2);
    assert_int_equal(oasis_stack_create(&cfg, &r->b), 0);
    assert_non_null(r->la = oasis_wire_attach(r->wire, r->a));
    assert_non_null(r->lb = oasis_wire_attach(r->wire, r->b));
    g_rig = r;
}

static void rig_fini(rig *r)
{
    oasis_wire_detach(r->wire, r->a);
    oasis_wire_detach(r->wire, r->b);
    oasis_stack_destroy(r->a);
    oasis_stack_destroy(r->b);
    oasis_wire_destroy(r->wire);
    oasis_clock_free(r->clock);
    oasis_clock_free(r->vclock);
}

/* Steps until *flag, moving the fake clock to the next deadline when a
 * step finds nothing to do (no sleeping on a clock that is not real). */
static void run_until(rig *r, const int *flag)
{
    for (int i = 0; i < 100000 && !*flag; i++) {
        if (oasis_wire_step(r->wire))
            continue;
        uint64_t next = oasis_wire_next_deadline(r->wire);
        assert_true(next != UINT64_MAX);
        if (next > r->fc.t)
            r->fc.t = next;
    }
    assert_true(*flag);
}

static void client_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud);

static void send_request(rig *r)
{
    r->in_api = 1;
    assert_int_equal(oasis_tcp_write(r->client, (const uint8_t *)"q", 1, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_read(r->client, client_read, r), 0);
    r->in_api = 0;
}

static void client_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    rig *r = ud;
    assert_false(r->in_api);
    if (err == OASIS_ECANCELED)
        return; /* rig_fini destroys the stack under the pending read */
    assert_int_equal(err, 0);
    assert_int_equal(len, 1);
    assert_int_equal(data[0], 'r');
    r->replies++;
    if (r->replies < r->stop_at)
        send_request(r);
}

static void server_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    rig *r = ud;
    assert_false(r->in_api);
    if (err)
        return;
    assert_int_equal(len, 1);
    assert_int_equal(data[0], 'q');
    r->requests++;
    r->in_api = 1;
    assert_int_equal(oasis_tcp_write(f, (const uint8_t *)"r", 1, NULL, NULL), 0);
    assert_int_equal(oasis_tcp_read(f, server_read, r), 0);
    r->in_api = 0;
}

static int g_accepted, g_connected;

static void on_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    rig *r = ud;
    r->server = f;
    oasis_tcp_set_nodelay(f, 1);
    assert_int_equal(oasis_tcp_read(f, server_read, r), 0);
    g_accepted = 1;
}

static void on_connect(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    rig *r = ud;
    assert_int_equal(err, 0);
    r->client = f;
    oasis_tcp_set_nodelay(f, 1);
    g_connected = 1;
}

static void rig_connect(rig *r)
{
    g_accepted = g_connected = 0;
    assert_int_equal(oasis_tcp_listen(r->a, 80, NULL, on_accept, r), 0);
    assert_int_equal(oasis_tcp_connect4(r->b, TEST_ADDR_A, 80, NULL, on_connect, r), 0);
    run_until(r, &g_connected);
    run_until(r, &g_accepted);
}

static uint64_t frames_delivered(rig *r)
{
    oasis_wire_stats st;
    assert_int_equal(oasis_wire_stats_get(r->wire, NULL, NULL, &st), 0);
    return st.delivered;
}

/* A step reads a real clock at its start and then once per 16 frames
 * delivered, not once per round: a request/response exchange delivers one
 * frame a round. */
static void test_step_reads_clock_per_frames(void **state)
{
    (void)state;
    rig r;
    rig_init(&r, 0, 0);
    rig_connect(&r);
    r.stop_at = 1000;
    send_request(&r);
    for (int i = 0; i < 2; i++) {
        uint64_t reads = r.fc.reads, frames = frames_delivered(&r), replies = r.replies;
        oasis_wire_step(r.wire);
        reads = r.fc.reads - reads;
        frames = frames_delivered(&r) - frames;
        assert_true(frames >= 32);
        assert_true(reads >= 2); /* time moves within a step */
        assert_true(reads <= 1 + frames / 16);
        assert_true(r.replies >= replies + frames / 2 - 1);
        assert_true(r.replies < r.stop_at);
    }
    rig_fini(&r);
}

/* An endpoint that answers each frame it receives with the frames of its
 * script, so that they are sent from inside a step: on a real clock only
 * those take the wire's common case (its cached time). */
typedef struct script_frame {
    const uint8_t *dst;
    uint16_t type;
    size_t len;
} script_frame;

typedef struct scripted {
    oasis_link *link;
    uint8_t mac[6];
    const script_frame *script;
    size_t n;
} scripted;

/* A frame of len bytes to dst from src, of the given type, its payload
 * zeros (an IPv4 header of version 0). */
static void send_typed(oasis_link *l, const uint8_t dst[6], const uint8_t src[6], uint16_t type,
                       size_t len)
{
    uint8_t f[60] = {0};
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = (uint8_t)(type >> 8);
    f[13] = (uint8_t)type;
    assert_int_equal(l->send(l, f, len), 0);
}

static void scripted_rx(void *ud, const uint8_t *frame, size_t len)
{
    scripted *e = ud;
    (void)len;
    if (memcmp(frame, e->mac, 6) != 0)
        return; /* a's broadcasts */
    for (size_t i = 0; i < e->n; i++)
        send_typed(e->link, e->script[i].dst, e->mac, e->script[i].type, e->script[i].len);
}

/* On a real clock a frame the wire switches by its memo of the last
 * destination (the common case) goes into the stack without the length and
 * address compares; the stack counts it as one switched by looking its
 * MAC up: the same link and IPv4 counters, an 802.3 length field counted
 * as an unknown type, not handed to IPv4. */
static void test_memo_frames_counted_as_looked_up(void **state)
{
    (void)state;
    rig r;
    rig_init(&r, 0, 0);
    /* a alone with the endpoints: b's announcements would count too */
    assert_int_equal(oasis_wire_detach(r.wire, r.b), 0);
    oasis_wire_step(r.wire); /* (and what b sent on attaching) */
    static const uint8_t nobody[6] = {0x02, 0, 0, 0, 0xee, 0x09};
    uint8_t mac_a[6];
    memcpy(mac_a, oasis_stack_mac(r.a), 6);
    /* looked up, then by the memo: two bad IPv4 headers, an 802.3 length
     * field, a bare header; then a MAC nobody owns (flooded) */
    const script_frame script[] = {
        {mac_a, 0x0800, 60}, {mac_a, 0x0800, 60}, {mac_a, 0x0100, 60},
        {mac_a, 0x0800, 14}, {mac_a, 0x0800, 60}, {nobody, 0x0800, 60},
    };
    scripted e = {.mac = {0x02, 0, 0, 0, 0xee, 0x01}, .script = script, .n = 6};
    scripted trigger = {.mac = {0x02, 0, 0, 0, 0xee, 0x02}};
    assert_non_null(e.link = oasis_wire_attach_endpoint(r.wire, e.mac, scripted_rx, &e));
    assert_non_null(trigger.link =
                        oasis_wire_attach_endpoint(r.wire, trigger.mac, scripted_rx, &trigger));
    /* frames for the wire to recycle: the common case takes one */
    for (int i = 0; i < 8; i++)
        send_typed(trigger.link, nobody, trigger.mac, 0x0800, 60);
    oasis_wire_step(r.wire);
    oasis_link_counters l0 = oasis_stack_counters(r.a)->link;
    oasis_ip_counters i0 = oasis_stack_counters(r.a)->ip;
    send_typed(trigger.link, e.mac, trigger.mac, 0x0800, 60);
    oasis_wire_step(r.wire);
    const oasis_link_counters *l = &oasis_stack_counters(r.a)->link;
    const oasis_ip_counters *ip = &oasis_stack_counters(r.a)->ip;
    assert_int_equal(l->rx_frames - l0.rx_frames, 6);
    assert_int_equal(l->rx_bytes - l0.rx_bytes, 5 * 60 + 14);
    assert_int_equal(l->rx_unknown_type - l0.rx_unknown_type, 1);
    assert_int_equal(l->rx_malformed - l0.rx_malformed, 0);
    assert_int_equal(l->rx_not_for_us - l0.rx_not_for_us, 1);
    assert_int_equal(ip->in_receives - i0.in_receives, 4);
    assert_int_equal(ip->in_hdr_errors - i0.in_hdr_errors, 3);
    rig_fini(&r);
}

static int g_done_calls;

/* Bounds a run that does not move on: without the guard it spun for ever
 * at one instant, its timeout never reached. */
static int spun(void) { return ++g_done_calls > 100000; }

static int connected_done(void *ud)
{
    (void)ud;
    return spun() || (g_connected && g_accepted);
}

static int replies_done(void *ud)
{
    rig *r = ud;
    return spun() || r->replies >= r->stop_at;
}

/* Stacks on a clock that lags the wire's virtual clock set deadlines that
 * are past in the wire's time but not due in their own (losses make TLP and
 * RACK timers fire off the millisecond): oasis_wire_run moves the virtual
 * clock on until they are, instead of spinning at one instant. */
static void test_run_with_lagging_clock(void **state)
{
    (void)state;
    rig r;
    rig_init(&r, 1, 300 * OASIS_NS_PER_US);
    assert_int_equal(oasis_tcp_listen(r.a, 80, NULL, on_accept, &r), 0);
    assert_int_equal(oasis_tcp_connect4(r.b, TEST_ADDR_A, 80, NULL, on_connect, &r), 0);
    g_accepted = g_connected = g_done_calls = 0;
    assert_int_equal(oasis_wire_run(r.wire, connected_done, &r, 10 * OASIS_NS_PER_SEC), 0);
    assert_true(g_done_calls <= 100000);
    oasis_impair loss;
    oasis_impair_init(&loss);
    loss.loss = 0.2;
    assert_int_equal(oasis_wire_impair(r.wire, r.la, NULL, &loss), 0);
    assert_int_equal(oasis_wire_impair(r.wire, r.lb, NULL, &loss), 0);
    r.stop_at = 100;
    send_request(&r);
    g_done_calls = 0;
    assert_int_equal(oasis_wire_run(r.wire, replies_done, &r, 60 * OASIS_NS_PER_SEC), 0);
    assert_true(g_done_calls <= 100000);
    assert_int_equal(r.replies, 100);
    rig_fini(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step_reads_clock_per_frames),
        cmocka_unit_test(test_run_with_lagging_clock),
        cmocka_unit_test(test_memo_frames_counted_as_looked_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
