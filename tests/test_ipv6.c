/* IPv6 over the in-memory wire and against a capturing link, on the
 * virtual clock: link-local addresses, DAD (and its conflict case),
 * neighbour discovery and its state machine, echo, SLAAC from RAs and its
 * lifetimes, reassembly, extension-header attacks, ICMPv6 error rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/bytes.h"
#include "core/checksum.h"
#include "core/stack_impl.h"
#include "ipv6/icmp6_wire.h"
#include "ipv6/ipv6.h"
#include "ipv6/ipv6_wire.h"
#include "ipv6/nd_wire.h"
#include "link/eth_wire.h"
#include "oasis/error.h"
#include "oasis/ipv6.h"
#include "oasis/oasis.h"
#include "testutil.h"

#define SEC OASIS_NS_PER_SEC

/* ---- two stacks on the wire ---- */

static void net6_init(test_net *n)
{
    memset(n, 0, sizeof *n);
    n->clock = oasis_clock_new_virtual(1000 * SEC);
    assert_int_equal(oasis_wire_create(n->clock, NULL, &n->wire), 0);
    oasis_stack_config cfg;
    test_stack_config(&cfg, n->clock, 1);
    cfg.ipv6 = 1;
    assert_int_equal(oasis_stack_create(&cfg, &n->a), 0);
    test_stack_config(&cfg, n->clock, 2);
    cfg.ipv6 = 1;
    assert_int_equal(oasis_stack_create(&cfg, &n->b), 0);
    assert_non_null(oasis_wire_attach(n->wire, n->a));
    assert_non_null(oasis_wire_attach(n->wire, n->b));
}

static int never(void *ud) { (void)ud; return 0; }

static void run_for(test_net *n, uint64_t ns) { oasis_wire_run(n->wire, never, NULL, ns); }

static oasis_ipv6_addr_info addr_of(oasis_stack *s, int origin)
{
    oasis_ipv6_addr_info a[8];
    size_t k = oasis_ipv6_addrs(s, a, 8);
    for (size_t i = 0; i < k; i++)
        if (a[i].origin == origin)
            return a[i];
    fail_msg("no address of origin %d", origin);
    return a[0];
}

typedef struct pingres {
    int done, err;
    uint64_t rtt;
} pingres;

static void on_ping(oasis_stack *s, int err, uint16_t seq, uint64_t rtt, void *ud)
{
    pingres *r = ud;
    (void)s;
    (void)seq;
    r->done = 1;
    r->err = err;
    r->rtt = rtt;
}

static void test_link_local_dad_and_ping(void **state)
{
    (void)state;
    test_net n;
    net6_init(&n);
    /* Before DAD completes the link-local address is tentative. */
    oasis_ipv6_addr_info a = addr_of(n.a, OASIS_IPV6_LINK_LOCAL);
    assert_int_equal(a.state, OASIS_IPV6_TENTATIVE);
    assert_true(oasis_ipaddr_is_link_local(&a.addr));
    run_for(&n, 3 * SEC);
    a = addr_of(n.a, OASIS_IPV6_LINK_LOCAL);
    oasis_ipv6_addr_info b = addr_of(n.b, OASIS_IPV6_LINK_LOCAL);
    assert_int_equal(a.state, OASIS_IPV6_PREFERRED);
    assert_int_equal(b.state, OASIS_IPV6_PREFERRED);
    assert_int_equal(oasis_stack_counters(n.a)->nd.dad_ok, 1);
    assert_int_equal(oasis_stack_counters(n.a)->nd.dad_conflicts, 0);
    /* RFC 7217: the identifier is not the MAC's EUI-64. */
    assert_false(a.addr.b[11] == 0xff && a.addr.b[12] == 0xfe);

    pingres r = {0};
    assert_int_equal(oasis_ping_addr(n.a, &b.addr, 7, 1, 56, 2 * SEC, on_ping, &r), 0);
    test_net_run_until(&n, &r.done, 5 * SEC);
    assert_true(r.done);
    assert_int_equal(r.err, 0);
    const oasis_counters *cb = oasis_stack_counters(n.b);
    assert_int_equal(cb->icmp6.in_echos, 1);
    assert_int_equal(cb->icmp6.out_echo_replies, 1);
    /* b learned a from the NS (STALE); a has b REACHABLE from the NA. */
    oasis_in6 bb;
    memcpy(bb.b, b.addr.b, 16);
    const ip6_neigh *e = oasis_nd_lookup(n.a, &bb);
    assert_non_null(e);
    assert_int_equal(e->state, NEIGH_REACHABLE);
    test_net_fini(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_local_dad_and_ping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
