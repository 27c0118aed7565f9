/* Helpers shared by tests: stacks on an in-memory wire with a virtual clock. */
#ifndef OASIS_TESTUTIL_H
#define OASIS_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "oasis/oasis.h"

typedef struct test_net {
    oasis_clock *clock;
    oasis_wire *wire;
    oasis_stack *a, *b; /* 10.0.0.1 (02:00:00:00:00:01) and 10.0.0.2 (...:02) */
} test_net;

#define TEST_ADDR_A OASIS_IPV4(10, 0, 0, 1)
#define TEST_ADDR_B OASIS_IPV4(10, 0, 0, 2)

/* Fills cfg for host number n (1..254) on 10.0.0.0/24 with the clock. */
void test_stack_config(oasis_stack_config *cfg, oasis_clock *clock, int n);

/* Two stacks on one wire (wcfg may be NULL; tcfg may be NULL for defaults,
 * else applied to both stacks). Asserts on failure. */
void test_net_init(test_net *n, const oasis_wire_config *wcfg, const oasis_tcp_config *tcfg);
/* The same with IPv6 on both stacks: their link-local addresses are
 * tentative until DAD has run (about 3 s of the wire's clock). */
void test_net_init6(test_net *n, const oasis_wire_config *wcfg, const oasis_tcp_config *tcfg);
void test_net_fini(test_net *n);

/* Runs the wire until *flag becomes nonzero or timeout (clock time). Returns
 * oasis_wire_run's result. */
int test_net_run_until(test_net *n, const int *flag, uint64_t timeout_ns);

/* s's preferred IPv6 link-local address (after DAD); fails the test when
 * it has none. */
oasis_ipaddr test_link_local(oasis_stack *s);

/* Appends n bytes of data to the growable buffer *buf (*len used, *cap
 * allocated; doubles as needed). Asserts on failure. */
void test_append(uint8_t **buf, size_t *len, size_t *cap, const void *data, size_t n);

#endif
