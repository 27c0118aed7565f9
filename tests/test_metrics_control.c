/* The metrics control port on the in-memory wire: stack A has the registry,
 * a reporter and the control port; stack B is the operator's client. Every
 * command answered in order, unknown ones refused, sources switched off for
 * the next collection, the reporter's interval changed, bounded lines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oasis/metrics_control.h"
#include "oasis/oasis.h"
#include "testutil.h"

#define SEC OASIS_NS_PER_SEC

typedef struct ctl_env {
    test_net net;
    oasis_metrics *m;
    oasis_reporter *r;
    oasis_metrics_control *ctl;
    oasis_flow *flow;
    int connected, eof;
    char rx[1 << 16];
    size_t rx_len;
} ctl_env;

static void cl_read(oasis_flow *flow, int err, const uint8_t *data, size_t len, void *ud)
{
    ctl_env *e = ud;
    if (err) {
        e->eof = 1;
        return;
    }
    assert_true(e->rx_len + len < sizeof e->rx);
    memcpy(e->rx + e->rx_len, data, len);
    e->rx_len += len;
    e->rx[e->rx_len] = '\0';
    assert_int_equal(oasis_tcp_read(flow, cl_read, e), 0);
}

static void cl_connected(oasis_stack *s, oasis_flow *flow, int err, void *ud)
{
    ctl_env *e = ud;
    (void)s;
    assert_int_equal(err, 0);
    e->flow = flow;
    e->connected = 1;
    assert_int_equal(oasis_tcp_read(flow, cl_read, e), 0);
}

static void run(ctl_env *e, uint64_t ns)
{
    int rc = oasis_wire_run(e->net.wire, NULL, NULL, ns);
    assert_true(rc == OASIS_ETIMEDOUT || rc == OASIS_EAGAIN);
}

static void env_init(ctl_env *e, int with_reporter)
{
    memset(e, 0, sizeof *e);
    test_net_init(&e->net, NULL, NULL);
    assert_int_equal(oasis_metrics_create(NULL, &e->m), 0);
    assert_int_equal(oasis_metrics_add_stack(e->m, e->net.a, NULL, 0), 0);
    if (with_reporter) {
        oasis_reporter_config rc;
        oasis_reporter_config_init(&rc);
        assert_int_equal(oasis_reporter_parse_url("tcp://10.0.0.2:8094", &rc, NULL, 0), 0);
        rc.interval_ns = 3600 * SEC; /* nothing is sent during the test */
        assert_int_equal(oasis_reporter_create(e->net.a, e->m, &rc, &e->r), 0);
    }
    oasis_control_config cc;
    oasis_control_config_init(&cc);
    cc.addr = TEST_ADDR_A;
    cc.port = 7070;
    assert_int_equal(oasis_metrics_control_create(e->net.a, e->m, e->r, &cc, &e->ctl), 0);
    assert_int_equal(oasis_tcp_connect4(e->net.b, TEST_ADDR_A, 7070, NULL, cl_connected, e), 0);
    run(e, SEC);
    assert_true(e->connected);
}

/* Sends text, returns everything answered (reset before). */
static const char *say(ctl_env *e, const char *text)
{
    e->rx_len = 0;
    e->rx[0] = '\0';
    assert_int_equal(oasis_tcp_write(e->flow, text, strlen(text), NULL, NULL), 0);
    run(e, SEC);
    return e->rx;
}

static void env_fini(ctl_env *e)
{
    if (e->eof)
        oasis_tcp_close(e->flow, NULL, NULL);
    else
        oasis_tcp_abort(e->flow);
    run(e, 5 * SEC);
    /* The connection is over: its flow went back to the server's stack
     * (the reporter, when there is one, keeps its own). */
    if (!e->r)
        assert_int_equal(oasis_stack_counters(e->net.a)->tcp.flows, 0);
    oasis_metrics_control_destroy(e->ctl);
    oasis_reporter_destroy(e->r);
    oasis_metrics_destroy(e->m);
    test_net_fini(&e->net);
}

static int has_point(oasis_metrics *m, const char *meas)
{
    oasis_metrics_snapshot snap;
    assert_int_equal(oasis_metrics_collect(m, 1, &snap), 0);
    for (size_t i = 0; i < snap.count; i++)
        if (strcmp(snap.points[i].measurement, meas) == 0)
            return 1;
    return 0;
}

static void test_list_enable_disable(void **state)
{
    (void)state;
    ctl_env e;
    env_init(&e, 1);
    assert_string_equal(say(&e, "list\n"), "source link on\nsource arp on\nsource ipv4 on\n"
                                           "source icmp on\nsource udp on\nsource tcp on\n"
                                           "source oasis_reporter on\nok 7 sources\n");
    assert_true(has_point(e.m, "udp"));
    assert_string_equal(say(&e, "disable udp\r\n"), "ok udp off (1)\n");
    assert_false(has_point(e.m, "udp")); /* the next collection lacks it */
    assert_true(has_point(e.m, "tcp"));
    assert_non_null(strstr(say(&e, "list\n"), "source udp off\n"));
    assert_string_equal(say(&e, "enable udp\n"), "ok udp on (1)\n");
    assert_true(has_point(e.m, "udp"));
    assert_string_equal(say(&e, "disable nosuch\n"), "error no source named 'nosuch'\n");
    assert_string_equal(say(&e, "disable\n"), "error usage: disable NAME\n");
    assert_false(e.eof);
    env_fini(&e);
}

/* Unknown commands refused, every command answered, in order, even when
 * they come in one segment. */
static void test_refused_and_ordered(void **state)
{
    (void)state;
    ctl_env e;
    env_init(&e, 0);
    assert_string_equal(say(&e, "frob\n"), "error unknown command 'frob' (try help)\n");
    assert_string_equal(say(&e, "\n"), "error empty command (try help)\n");
    assert_string_equal(say(&e, "list extra\n"), "error unknown command 'list' (try help)\n");
    assert_string_equal(say(&e, "interval\nflush\ndisable tcp\nfrob\n"),
                        "error no reporter is running\nerror no reporter is running\n"
                        "ok tcp off (1)\nerror unknown command 'frob' (try help)\n");
    const char *h = say(&e, "help\n");
    assert_non_null(strstr(h, "disable NAME"));
    assert_true(strlen(h) > 3 && strcmp(h + strlen(h) - 3, "ok\n") == 0);
    assert_false(e.eof);
    env_fini(&e);
}

static void test_interval_and_dump(void **state)
{
    (void)state;
    ctl_env e;
    env_init(&e, 1);
    assert_string_equal(say(&e, "interval\n"), "ok interval 3600000 ms\n");
    assert_string_equal(say(&e, "interval 250\n"), "ok interval 250 ms\n");
    assert_int_equal(oasis_reporter_interval(e.r), 250 * OASIS_NS_PER_MS);
    assert_string_equal(say(&e, "interval 5\n"), "error usage: interval [MS] (10..86400000)\n");
    assert_string_equal(say(&e, "interval 1x\n"), "error usage: interval [MS] (10..86400000)\n");
    assert_int_equal(oasis_reporter_interval(e.r), 250 * OASIS_NS_PER_MS);
    /* dump: line protocol of every enabled source, then the count. */
    say(&e, "disable arp\n");
    const char *d = say(&e, "dump\n");
    assert_true(strncmp(d, "link RxFrames=", 14) == 0);
    assert_non_null(strstr(d, "\ntcp ActiveOpens="));
    assert_null(strstr(d, "\narp "));
    assert_true(strlen(d) > 13 && strcmp(d + strlen(d) - 13, "\nok 6 points\n") == 0);
    env_fini(&e);
}

/* quit closes; an over-long line is refused and closes; however a
 * connection ends, its flow goes back to the stack. */
static void test_quit_and_long_line(void **state)
{
    (void)state;
    ctl_env e;
    env_init(&e, 0);
    assert_string_equal(say(&e, "quit\n"), "ok bye\n");
    assert_true(e.eof);
    env_fini(&e);

    env_init(&e, 0);
    char line[400];
    memset(line, 'x', sizeof line);
    line[sizeof line - 1] = '\0';
    assert_string_equal(say(&e, line), "error line too long\n");
    assert_true(e.eof);
    env_fini(&e);

    env_init(&e, 0); /* the client resets */
    say(&e, "help\n");
    assert_false(e.eof);
    env_fini(&e);
}

/* A silent client: connected, reads until the end. */
typedef struct quiet {
    oasis_flow *flow;
    int connected, eof, err;
    size_t got;
    int wrote;          /* write callbacks */
} quiet;

static void q_read(oasis_flow *flow, int err, const uint8_t *data, size_t len, void *ud)
{
    quiet *q = ud;
    (void)data;
    if (err) {
        q->eof = 1;
        q->err = err;
        return;
    }
    q->got += len;
    assert_int_equal(oasis_tcp_read(flow, q_read, q), 0);
}

static void q_connected(oasis_stack *s, oasis_flow *flow, int err, void *ud)
{
    quiet *q = ud;
    (void)s;
    assert_int_equal(err, 0);
    q->flow = flow;
    q->connected = 1;
    assert_int_equal(oasis_tcp_read(flow, q_read, q), 0);
}

static void q_wrote(oasis_flow *flow, int err, void *ud)
{
    (void)flow;
    quiet *q = ud;
    q->wrote += err == 0;
}

static void q_connect(ctl_env *e, quiet *q)
{
    memset(q, 0, sizeof *q);
    assert_int_equal(oasis_tcp_connect_flow4(e->net.b, TEST_ADDR_A, 7070, NULL, q_connected, q,
                                             &q->flow), 0);
    run(e, SEC);
    assert_true(q->connected);
}

/* max_conns silent clients no longer lock the operator out: a new
 * connection makes room by resetting the one that has waited longest for
 * a command, and idle_timeout_ns resets those that wait too long. */
static void test_room_and_idle(void **state)
{
    (void)state;
    ctl_env e;
    env_init(&e, 0);
    quiet q[4];
    for (int i = 0; i < 3; i++) /* with the operator's: max_conns (4) */
        q_connect(&e, &q[i]);
    run(&e, SEC);
    assert_string_equal(say(&e, "quit-not\n"), "error unknown command 'quit-not' (try help)\n");
    q_connect(&e, &q[3]); /* the fifth: the longest silent (q[0]) makes room */
    run(&e, SEC);
    assert_true(q[0].eof);
    assert_false(q[1].eof || q[2].eof || q[3].eof || e.eof);
    assert_string_equal(say(&e, "help\n") + strlen(e.rx) - 3, "ok\n"); /* still served */
    /* 300 s without a command: everyone is reset, the operator too. */
    run(&e, 301 * SEC);
    assert_true(q[1].eof && q[2].eof && q[3].eof && e.eof);
    for (int i = 0; i < 4; i++)
        oasis_tcp_release(q[i].flow);
    run(&e, 5 * SEC);
    assert_int_equal(oasis_stack_counters(e.net.a)->tcp.flows, 0);
    env_fini(&e);
}

/* After "error line too long" the server reads no more, yet a client that
 * keeps sending has its bytes taken (acknowledged and dropped), sees the
 * end and can finish: the connection's slot comes back. */
static void test_long_line_then_more(void **state)
{
    (void)state;
    ctl_env e;
    env_init(&e, 0);
    quiet q;
    q_connect(&e, &q);
    static uint8_t junk[1 << 20];
    memset(junk, 'a', sizeof junk);
    assert_int_equal(oasis_tcp_write(q.flow, junk, sizeof junk, q_wrote, &q), 0);
    run(&e, 10 * SEC);
    assert_int_equal(q.wrote, 1); /* every byte taken by the server */
    assert_true(q.eof);
    assert_int_equal(oasis_tcp_close(q.flow, NULL, NULL), 0);
    run(&e, 5 * SEC);
    oasis_tcp_release(q.flow);
    say(&e, "help\n");
    assert_false(e.eof);
    env_fini(&e);
}

/* 600 points that each carry the source's 8 tags of about 4 KB: a snapshot
 * of ~19 MB of line protocol, within the registry's default bounds. */
static int huge_read(oasis_metrics_emit *e, void *ud)
{
    (void)ud;
    for (int p = 0; p < 600; p++) {
        int err = oasis_metrics_field_int(e, "n", 1);
        err = err ? err : oasis_metrics_next_point(e);
        if (err)
            return err;
    }
    return 0;
}

/* A client that keeps only the last bytes of what it is sent. */
typedef struct tail_cl {
    oasis_flow *flow;
    size_t total;
    char tail[256];
    size_t tail_len;
} tail_cl;

static void tail_read(oasis_flow *flow, int err, const uint8_t *data, size_t len, void *ud)
{
    tail_cl *t = ud;
    if (err)
        return;
    t->total += len;
    size_t room = sizeof t->tail - 1;
    if (len >= room) {
        memcpy(t->tail, data + len - room, room);
        t->tail_len = room;
    } else {
        size_t keep = room - len < t->tail_len ? room - len : t->tail_len;
        memmove(t->tail, t->tail + t->tail_len - keep, keep);
        memcpy(t->tail + keep, data, len);
        t->tail_len = keep + len;
    }
    t->tail[t->tail_len] = '\0';
    assert_int_equal(oasis_tcp_read(flow, tail_read, t), 0);
}

static void tail_connected(oasis_stack *s, oasis_flow *flow, int err, void *ud)
{
    tail_cl *t = ud;
    (void)s;
    assert_int_equal(err, 0);
    t->flow = flow;
    assert_int_equal(oasis_tcp_read(flow, tail_read, t), 0);
}

/* A dump larger than an answer may be (16 MiB) stops after a whole line and
 * still ends with its "error" line, as every answer ends in "ok" or
 * "error": before, that line found no room left either, and the client
 * waited for it for good. */
static void test_dump_over_bound(void **state)
{
    (void)state;
    /* Lines of 32768 bytes ("huge" 4, 8 x ",tN=" 32, tag values 32706,
     * " n=1i" 5, the timestamp 20, '\n'): 512 of them fill the 16 MiB to
     * the byte. */
    static char v[4090];
    memset(v, 'v', sizeof v - 1);
    oasis_metric_tag tags[8];
    char keys[8][4];
    for (int i = 0; i < 8; i++) {
        snprintf(keys[i], sizeof keys[i], "t%d", i);
        tags[i] = (oasis_metric_tag){keys[i], v + (i < 2 ? 0 : 1)}; /* 4089 or 4088 */
    }
    ctl_env e;
    env_init(&e, 0);
    static const char *const layers[] = {"link", "arp", "ipv4", "icmp", "udp", "tcp"};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(oasis_metrics_enable(e.m, layers[i], 0), 1);
    assert_int_equal(oasis_metrics_add_source(e.m, "huge", tags, 8, huge_read, NULL, NULL), 0);
    tail_cl t = {0};
    assert_int_equal(oasis_tcp_connect4(e.net.b, TEST_ADDR_A, 7070, NULL, tail_connected, &t), 0);
    run(&e, SEC);
    assert_non_null(t.flow);
    assert_int_equal(oasis_tcp_write(t.flow, "dump\n", 5, NULL, NULL), 0);
    run(&e, 60 * SEC);
    assert_true(t.total > (16u << 20) - (64u << 10));
    const char *last = strrchr(t.tail, '\n');
    assert_non_null(last);
    assert_int_equal(last[1], '\0'); /* whole lines */
    while (last > t.tail && last[-1] != '\n')
        last--;
    assert_true(strncmp(last, "error ", 6) == 0);
    assert_non_null(strstr(last, " after "));
    /* The connection goes on. */
    t.tail_len = 0;
    assert_int_equal(oasis_tcp_write(t.flow, "disable huge\n", 13, NULL, NULL), 0);
    run(&e, SEC);
    assert_string_equal(t.tail, "ok huge off (1)\n");
    oasis_tcp_release(t.flow);
    env_fini(&e);
}

static void release_flow(oasis_flow *flow, void *ud)
{
    (*(int *)ud)++;
    oasis_tcp_release(flow);
}

/* The control port's connections are the library's, as the reporter's is:
 * the application's walk (tcp.h: "fn may close, abort or release any flow")
 * does not hand them out, nor does the tcp_flow source report them.
 * Before, an application closing every flow it walked released the
 * control port's handle under it (a use after free when the port next
 * touched it). */
static void test_walk_skips_connections(void **state)
{
    (void)state;
    ctl_env e;
    env_init(&e, 0);
    assert_true(strncmp(say(&e, "help\n"), "help ", 5) == 0);
    int visited = 0;
    oasis_tcp_foreach_flow(e.net.a, release_flow, &visited);
    assert_int_equal(visited, 0);
    assert_true(strncmp(say(&e, "help\n"), "help ", 5) == 0);
    assert_false(e.eof);
    env_fini(&e);
}

static void test_create_checks(void **state)
{
    (void)state;
    test_net net;
    oasis_metrics *m;
    oasis_metrics_control *c;
    oasis_control_config cc;
    test_net_init(&net, NULL, NULL);
    assert_int_equal(oasis_metrics_create(NULL, &m), 0);
    oasis_control_config_init(&cc);
    cc.port = 7070;
    assert_int_equal(oasis_metrics_control_create(net.a, m, NULL, &cc, &c), OASIS_EINVAL);
    cc.addr = TEST_ADDR_B; /* not this stack's */
    assert_int_equal(oasis_metrics_control_create(net.a, m, NULL, &cc, &c), OASIS_EINVAL);
    cc.addr = TEST_ADDR_A;
    cc.port = 0;
    assert_int_equal(oasis_metrics_control_create(net.a, m, NULL, &cc, &c), OASIS_EINVAL);
    cc.port = 7070;
    assert_int_equal(oasis_metrics_control_create(net.a, m, NULL, &cc, &c), 0);
    oasis_metrics_control *c2;
    assert_int_equal(oasis_metrics_control_create(net.a, m, NULL, &cc, &c2), OASIS_EADDRINUSE);
    oasis_metrics_control_destroy(c);
    oasis_metrics_destroy(m);
    test_net_fini(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_enable_disable),
        cmocka_unit_test(test_refused_and_ordered),
        cmocka_unit_test(test_interval_and_dump),
        cmocka_unit_test(test_quit_and_long_line),
        cmocka_unit_test(test_create_checks),
        cmocka_unit_test(test_room_and_idle),
        cmocka_unit_test(test_long_line_then_more),
        cmocka_unit_test(test_dump_over_bound),
        cmocka_unit_test(test_walk_skips_connections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
