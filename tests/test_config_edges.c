/* Every number in the stack's configuration at its edges: for each field
 * of oasis_stack_config and its oasis_tcp_config (limits, timers, retries,
 * rates, bounds) set to 0, 1, a small value and its type's maximum, one at a
 * time on stack A, oasis_stack_create answers 0 or OASIS_EINVAL; when it
 * takes the value, A and a default stack B on the in-memory wire run a
 * workout (TCP both ways with a listener on each side, UDP datagrams that
 * need fragmenting and reassembly both ways, pings, the same over IPv6
 * link-local) for a bounded time, and destroying A gives back every byte
 * it allocated. What the workout achieves is not asserted under an edge
 * value (a TTL of 0 or no retries may well stop it); that A never crashes,
 * reads out of bounds (ASan), leaks or runs away is. A control run with
 * the defaults shows the workout reaches every path it is meant to: its
 * transfers complete. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "oasis/oasis.h"
#include "countalloc.h"
#include "testutil.h"

#define SEC OASIS_NS_PER_SEC
#define A_ADDR OASIS_IPV4(10, 0, 0, 1)
#define B_ADDR OASIS_IPV4(10, 0, 0, 2)
#define BULK 40000
#define DGRAM 3000
#define STEP_BUDGET 200000 /* wire steps per run: edge timers must not spin */

/* ---- the workout ---- */

typedef struct side {
    oasis_flow *flow;
    size_t got;   /* bytes read */
    int eof, closed;
} side;

typedef struct work {
    oasis_stack *a, *b;
    side a_client, b_server, b_client, a_server; /* flow 1: A to B; flow 2: B to A */
    int udp_a, udp_b;                            /* datagrams of DGRAM bytes received */
    int pongs, pongs6;                           /* echo replies (either direction) */
    long steps;
} work;

static uint8_t g_bulk[BULK];

static void on_read(oasis_flow *f, int err, const uint8_t *d, size_t len, void *ud)
{
    (void)d;
    side *x = ud;
    if (err) {
        x->eof = 1;
        return;
    }
    x->got += len;
    oasis_tcp_read(f, on_read, x);
}

static void on_closed(oasis_flow *f, int err, void *ud)
{
    (void)err;
    side *x = ud;
    x->closed = 1;
    x->flow = NULL;
    oasis_tcp_release(f);
}

/* A server side echoes nothing: it reads to EOF, then closes. */
static void on_server_read(oasis_flow *f, int err, const uint8_t *d, size_t len, void *ud)
{
    side *x = ud;
    on_read(f, err, d, len, ud);
    if (err)
        oasis_tcp_close(f, on_closed, x);
}

static void accept_into(side *x, oasis_flow *f)
{
    if (x->flow) { /* one per side: a second is given back */
        oasis_tcp_release(f);
        return;
    }
    x->flow = f;
    oasis_tcp_read(f, on_server_read, x);
}

static void on_accept_b(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    accept_into(&((work *)ud)->b_server, f);
}

static void on_accept_a(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s;
    accept_into(&((work *)ud)->a_server, f);
}

static void on_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s;
    side *x = ud;
    if (err)
        return;
    x->flow = f;
    oasis_tcp_read(f, on_read, x);
    oasis_tcp_write(f, g_bulk, BULK, NULL, NULL);
    oasis_tcp_close(f, on_closed, x);
}

static void on_udp(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport,
                   const oasis_ipaddr *dst, uint16_t dport, const uint8_t *d, size_t len, void *ud)
{
    (void)src, (void)sport, (void)dst, (void)dport, (void)d;
    work *w = ud;
    if (len == DGRAM)
        (*(s == w->a ? &w->udp_a : &w->udp_b))++;
}

static void on_pong(oasis_stack *s, int err, uint16_t seq, uint64_t rtt_ns, void *ud)
{
    (void)s, (void)seq, (void)rtt_ns;
    if (!err)
        (*(int *)ud)++;
}

static int work_done(void *ud)
{
    work *w = ud;
    return ++w->steps >= STEP_BUDGET ||
           (w->a_client.closed && w->b_client.closed && w->b_server.closed &&
            w->a_server.closed && w->udp_a >= 2 && w->udp_b >= 2 && w->pongs >= 2 &&
            w->pongs6 >= 2);
}

/* The whole workout between A (config cfg) and a default B. Returns how far
 * it got; *leaked the bytes A's allocator still held after its destroy. */
static void workout(const oasis_stack_config *cfg, work *w, size_t *leaked)
{
    memset(w, 0, sizeof *w);
    oasis_clock *clock = oasis_clock_new_virtual(1000 * SEC);
    oasis_wire *wire;
    assert_int_equal(oasis_wire_create(clock, NULL, &wire), 0);
    test_counting cnt;
    memset(&cnt, 0, sizeof cnt);
    oasis_stack_config ca = *cfg, cb;
    ca.clock = clock;
    ca.alloc = test_count_alloc;
    ca.alloc_ud = &cnt;
    test_stack_config(&cb, clock, 2);
    cb.ipv6 = 1;
    assert_int_equal(oasis_stack_create(&ca, &w->a), 0);
    assert_int_equal(oasis_stack_create(&cb, &w->b), 0);
    assert_non_null(oasis_wire_attach(wire, w->a));
    assert_non_null(oasis_wire_attach(wire, w->b));
    /* Link-local addresses past DAD (an edge config may never get one). */
    oasis_wire_run(wire, work_done, w, 3 * SEC);
    w->steps = 0;

    oasis_tcp_listen(w->b, 7, NULL, on_accept_b, w);
    oasis_tcp_listen(w->a, 8, NULL, on_accept_a, w);
    oasis_tcp_connect4(w->a, B_ADDR, 7, NULL, on_connected, &w->a_client);
    oasis_tcp_connect4(w->b, A_ADDR, 8, NULL, on_connected, &w->b_client);
    oasis_udp_bind(w->a, 9, on_udp, w);
    oasis_udp_bind(w->b, 9, on_udp, w);
    static uint8_t dg[DGRAM];
    oasis_ipaddr ab = oasis_ipaddr_v4(B_ADDR), aa = oasis_ipaddr_v4(A_ADDR);
    for (int i = 0; i < 2; i++) {
        oasis_udp_send(w->a, 9, &ab, 9, dg, sizeof dg);
        oasis_udp_send(w->b, 9, &aa, 9, dg, sizeof dg);
    }
    oasis_ping(w->a, B_ADDR, 1, 1, 2000, 5 * SEC, on_pong, &w->pongs);
    oasis_ping(w->b, A_ADDR, 1, 2, 2000, 5 * SEC, on_pong, &w->pongs);
    oasis_ipv6_addr_info ia[8];
    size_t na = oasis_ipv6_addrs(w->a, ia, 8);
    oasis_ipaddr lb = test_link_local(w->b);
    for (size_t i = 0; i < na && i < 8; i++)
        if (ia[i].origin == OASIS_IPV6_LINK_LOCAL && ia[i].state == OASIS_IPV6_PREFERRED) {
            oasis_ping_addr(w->b, &ia[i].addr, 1, 3, 3000, 5 * SEC, on_pong, &w->pongs6);
            oasis_ping_addr(w->a, &lb, 1, 4, 3000, 5 * SEC, on_pong, &w->pongs6);
            oasis_udp_send(w->a, 9, &lb, 9, dg, sizeof dg);
            oasis_udp_send(w->b, 9, &ia[i].addr, 9, dg, sizeof dg);
        }
    oasis_wire_run(wire, work_done, w, 200 * SEC);

    oasis_wire_detach(wire, w->a);
    oasis_wire_detach(wire, w->b);
    oasis_stack_destroy(w->a);
    oasis_stack_destroy(w->b);
    oasis_wire_destroy(wire);
    oasis_clock_free(clock);
    *leaked = cnt.live;
}

/* The defaults: everything the workout does happens. */
static void test_control(void **state)
{
    (void)state;
    oasis_stack_config cfg;
    test_stack_config(&cfg, NULL, 1);
    cfg.ipv6 = 1;
    work w;
    size_t leaked;
    workout(&cfg, &w, &leaked);
    assert_int_equal(leaked, 0);
    assert_true(w.steps < STEP_BUDGET);
    assert_int_equal(w.b_server.got, BULK);
    assert_int_equal(w.a_server.got, BULK);
    assert_true(w.a_client.closed && w.b_client.closed);
    assert_int_equal(w.udp_a, 3); /* two over IPv4, one over IPv6 */
    assert_int_equal(w.udp_b, 3);
    assert_int_equal(w.pongs, 2);
    assert_int_equal(w.pongs6, 2);
}

/* ---- the fields ---- */

typedef struct field {
    const char *name;
    size_t off, size;
    int is_signed;
} field;

#define F(m) {#m, offsetof(oasis_stack_config, m), sizeof(((oasis_stack_config *)0)->m), \
              _Generic(((oasis_stack_config *)0)->m, int: 1, default: 0)}

static const field FIELDS[] = {
    F(ttl), F(prefix_len), F(mtu), F(gateway),
    F(arp_cache_size), F(arp_cache_ttl_ns), F(arp_retries), F(arp_retry_ns), F(arp_queue_len),
    F(arp_gratuitous), F(arp_announce_num),
    F(reasm_timeout_ns), F(reasm_max_bytes), F(reasm_max_datagrams),
    F(icmp_rate_per_sec), F(icmp_burst), F(icmp_redirects), F(pmtu_expire_ns),
    F(ipv6_slaac), F(nd_cache_size), F(nd_queue_len), F(dad_transmits), F(hop_limit),
    F(tcp.sndbuf), F(tcp.rcvbuf), F(tcp.msl_ns), F(tcp.rto_min_ns), F(tcp.rto_max_ns),
    F(tcp.rto_initial_ns), F(tcp.syn_retries), F(tcp.synack_retries), F(tcp.data_retries),
    F(tcp.delack_ns), F(tcp.backlog), F(tcp.max_ofo_segments), F(tcp.challenge_ack_limit),
    F(tcp.rst_rate_per_sec), F(tcp.rst_burst), F(tcp.max_time_wait), F(tcp.window_scaling),
    F(tcp.timestamps), F(tcp.sack), F(tcp.strict_timestamps), F(tcp.nodelay),
    F(tcp.fin_wait2_ns), F(tcp.max_write_reqs), F(tcp.r1_retries), F(tcp.dscp), F(tcp.ecn),
    F(tcp.autotune), F(tcp.sndbuf_init), F(tcp.rcvbuf_init), F(tcp.mem_limit),
    F(tcp.mem_pressure),
};

static void set_field(oasis_stack_config *cfg, const field *f, uint64_t v)
{
    uint8_t *p = (uint8_t *)cfg + f->off;
    switch (f->size) {
    case 1: { uint8_t x = (uint8_t)v; memcpy(p, &x, 1); break; }
    case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
    default: memcpy(p, &v, 8); break;
    }
}

/* 0, 1, a small value, the largest of the field's type (for a signed one
 * also -1). */
static size_t edge_values(const field *f, uint64_t *v)
{
    size_t n = 0;
    v[n++] = 0;
    v[n++] = 1;
    v[n++] = 7;
    v[n++] = f->size == 8 ? UINT64_MAX : (1ull << (8 * f->size - f->is_signed)) - 1;
    if (f->is_signed)
        v[n++] = UINT64_MAX; /* -1 once cut to the field's size */
    return n;
}

static void test_every_field_at_its_edges(void **state)
{
    (void)state;
    int taken = 0, refused = 0, whole = 0;
    for (size_t i = 0; i < sizeof FIELDS / sizeof FIELDS[0]; i++) {
        uint64_t v[5];
        size_t nv = edge_values(&FIELDS[i], v);
        for (size_t k = 0; k < nv; k++) {
            oasis_clock *clock = oasis_clock_new_virtual(1000 * SEC);
            oasis_stack_config cfg;
            test_stack_config(&cfg, clock, 1);
            cfg.ipv6 = 1;
            set_field(&cfg, &FIELDS[i], v[k]);
            oasis_stack *probe = NULL;
            int err = oasis_stack_create(&cfg, &probe);
            if (err) {
                if (err != OASIS_EINVAL)
                    fail_msg("%s = %llu: create says %s", FIELDS[i].name,
                             (unsigned long long)v[k], oasis_strerror(err));
                assert_null(probe);
                refused++;
                oasis_clock_free(clock);
                continue;
            }
            oasis_stack_destroy(probe);
            oasis_clock_free(clock);
            taken++;
            work w;
            size_t leaked;
            workout(&cfg, &w, &leaked);
            if (leaked)
                fail_msg("%s = %llu: %zu bytes not given back", FIELDS[i].name,
                         (unsigned long long)v[k], leaked);
            whole += w.b_server.got == BULK && w.a_server.got == BULK && w.pongs6 == 2;
        }
    }
    /* Both answers occur: the validation refuses some edges, takes others. */
    assert_true(taken > 100);
    assert_true(refused > 10);
    print_message("config edges: %d taken and worked out (%d of them in full), %d refused\n",
                  taken, whole, refused);
}

int main(void)
{
    for (size_t i = 0; i < sizeof g_bulk; i++)
        g_bulk[i] = (uint8_t)i;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_control),
        cmocka_unit_test(test_every_field_at_its_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
