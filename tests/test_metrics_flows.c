/* The per-flow source and the tcp layer source on real TCP: two stacks on a
 * wire (virtual clock), one connection carrying data, read through the
 * registry. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "oasis/metrics.h"
#include "oasis/oasis.h"
#include "testutil.h"

typedef struct conn {
    oasis_flow *client, *server;
    int connected, accepted, written;
    size_t received;
} conn;

static void on_connect(oasis_stack *s, oasis_flow *flow, int err, void *ud)
{
    (void)s;
    conn *c = ud;
    assert_int_equal(err, 0);
    c->client = flow;
    c->connected = 1;
}

static void on_read(oasis_flow *flow, int err, const uint8_t *data, size_t len, void *ud)
{
    (void)data;
    conn *c = ud;
    if (err == 0) {
        c->received += len;
        oasis_tcp_read(flow, on_read, c);
    }
}

static void on_accept(oasis_stack *s, oasis_flow *flow, void *ud)
{
    (void)s;
    conn *c = ud;
    c->server = flow;
    c->accepted = 1;
    assert_int_equal(oasis_tcp_read(flow, on_read, c), 0);
}

static void on_written(oasis_flow *flow, int err, void *ud)
{
    (void)flow;
    assert_int_equal(err, 0);
    ((conn *)ud)->written = 1;
}

static int all_received(void *ud)
{
    return ((conn *)ud)->received == 100000;
}

static const oasis_metric_field *field(const oasis_metric_point *p, const char *key)
{
    for (size_t i = 0; i < p->nfields; i++)
        if (strcmp(p->fields[i].key, key) == 0)
            return &p->fields[i];
    fail_msg("no field %s", key);
    return NULL;
}

static const char *tag(const oasis_metric_point *p, const char *key)
{
    for (size_t i = 0; i < p->ntags; i++)
        if (strcmp(p->tags[i].key, key) == 0)
            return p->tags[i].value;
    return NULL;
}

static const oasis_metric_point *find(const oasis_metrics_snapshot *s, const char *meas,
                                      const char *stack)
{
    for (size_t i = 0; i < s->count; i++)
        if (!strcmp(s->points[i].measurement, meas) && !strcmp(tag(&s->points[i], "stack"), stack))
            return &s->points[i];
    return NULL;
}

static void test_flows_on_a_connection(void **state)
{
    (void)state;
    test_net net;
    oasis_wire_config wc;
    oasis_wire_config_init(&wc);
    wc.delay_ns = OASIS_NS_PER_MS; /* an RTT that is not 0 (srtt below) */
    test_net_init(&net, &wc, NULL);
    oasis_metrics *m = NULL;
    assert_int_equal(oasis_metrics_create(NULL, &m), 0);
    oasis_metric_tag ta = {"stack", "a"}, tb = {"stack", "b"};
    assert_int_equal(oasis_metrics_add_stack(m, net.a, &ta, 1), 0);
    assert_int_equal(oasis_metrics_add_stack(m, net.b, &tb, 1), 0);
    assert_int_equal(oasis_metrics_add_tcp_flows(m, net.a, &ta, 1, 0), 0);
    assert_int_equal(oasis_metrics_add_tcp_flows(m, net.b, &tb, 1, 0), 0);

    oasis_metrics_snapshot snap;
    assert_int_equal(oasis_metrics_collect(m, 1, &snap), 0);
    assert_int_equal(snap.count, 12); /* no flows yet: layer points only */

    conn c;
    memset(&c, 0, sizeof c);
    static uint8_t data[100000];
    memset(data, 'x', sizeof data);
    assert_int_equal(oasis_tcp_listen(net.b, 80, NULL, on_accept, &c), 0);
    assert_int_equal(oasis_tcp_connect4(net.a, TEST_ADDR_B, 80, NULL, on_connect, &c), 0);
    test_net_run_until(&net, &c.connected, 10 * OASIS_NS_PER_SEC);
    assert_true(c.connected);
    assert_int_equal(oasis_tcp_write(c.client, data, sizeof data, on_written, &c), 0);
    oasis_wire_run(net.wire, all_received, &c, 30 * OASIS_NS_PER_SEC);
    assert_int_equal(c.received, sizeof data);
    assert_true(c.accepted);
    oasis_wire_run(net.wire, NULL, NULL, OASIS_NS_PER_SEC); /* the last (delayed) ACK */

    assert_int_equal(oasis_metrics_collect(m, 2, &snap), 0);
    assert_int_equal(snap.failed_sources, 0);
    assert_int_equal(snap.count, 14);
    const oasis_metric_point *fa = find(&snap, "tcp_flow", "a");
    const oasis_metric_point *fb = find(&snap, "tcp_flow", "b");
    assert_non_null(fa);
    assert_non_null(fb);
    assert_string_equal(tag(fa, "local_addr"), "10.0.0.1");
    assert_string_equal(tag(fa, "remote_addr"), "10.0.0.2");
    assert_string_equal(tag(fa, "remote_port"), "80");
    assert_string_equal(tag(fb, "local_port"), "80");
    assert_string_equal(tag(fb, "remote_port"), tag(fa, "local_port"));
    assert_string_equal(field(fa, "state")->v.s, "ESTABLISHED");
    assert_string_equal(field(fb, "state")->v.s, "ESTABLISHED");
    assert_int_equal(field(fa, "bytes_acked")->v.u, sizeof data);
    assert_int_equal(field(fb, "bytes_received")->v.u, sizeof data);
    assert_int_equal(field(fa, "bytes_in_flight")->v.u, 0);
    assert_true(field(fa, "srtt_ns")->v.u > 0);
    assert_true(field(fa, "rto_ns")->v.u > 0);
    assert_true(field(fa, "cwnd")->v.u > 0);
    assert_true(field(fb, "rcv_wnd")->v.u > 0);
    assert_true(field(fa, "segs_out")->v.u > 0);

    const oasis_metric_point *ta_p = find(&snap, "tcp", "a");
    const oasis_metric_point *tb_p = find(&snap, "tcp", "b");
    assert_int_equal(field(ta_p, "ActiveOpens")->v.u, 1);
    assert_int_equal(field(tb_p, "PassiveOpens")->v.u, 1);
    assert_int_equal(field(ta_p, "CurrEstab")->v.u, 1);
    assert_int_equal(field(tb_p, "CurrEstab")->v.u, 1);
    /* One flow a stack: its segments in are all the stack's (RFC 4022
     * tcpInSegs), the passive one's SYN included (Linux's tcpi_segs_in
     * counts it too). */
    assert_int_equal(field(fa, "segs_in")->v.u, field(ta_p, "InSegs")->v.u);
    assert_int_equal(field(fb, "segs_in")->v.u, field(tb_p, "InSegs")->v.u);
    assert_true(field(tb_p, "InSegs")->v.u >= 100000 / 1460);

    /* the flows go through the encoder */
    oasis_lp_buf b;
    oasis_lp_buf_init(&b, 1 << 16, NULL, NULL);
    assert_int_equal(oasis_lp_encode_point(&b, fa, 0), 0);
    assert_true(b.len > 0);
    assert_memory_equal(b.data, "tcp_flow,local_addr=10.0.0.1,local_port=", 40);
    oasis_lp_buf_free(&b);

    /* abort: the flow is gone from the next snapshot */
    oasis_tcp_release(c.client);
    oasis_wire_run(net.wire, NULL, NULL, OASIS_NS_PER_SEC);
    assert_int_equal(oasis_metrics_collect(m, 3, &snap), 0);
    assert_null(find(&snap, "tcp_flow", "a"));

    assert_int_equal(oasis_metrics_remove_by_ud(m, net.a), 7);
    assert_int_equal(oasis_metrics_remove_by_ud(m, net.b), 7);
    oasis_metrics_destroy(m);
    test_net_fini(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flows_on_a_connection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
