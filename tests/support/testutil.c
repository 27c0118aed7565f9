#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void net_init(test_net *n, const oasis_wire_config *wcfg, const oasis_tcp_config *tcfg,
                     int ipv6)
{
    memset(n, 0, sizeof *n);
    n->clock = oasis_clock_new_virtual(1000 * OASIS_NS_PER_SEC);
    assert_non_null(n->clock);
    assert_int_equal(oasis_wire_create(n->clock, wcfg, &n->wire), 0);
    oasis_stack_config cfg;
    for (int i = 1; i <= 2; i++) {
        test_stack_config(&cfg, n->clock, i);
        if (tcfg)
            cfg.tcp = *tcfg;
        cfg.ipv6 = ipv6;
        assert_int_equal(oasis_stack_create(&cfg, i == 1 ? &n->a : &n->b), 0);
    }
    assert_non_null(oasis_wire_attach(n->wire, n->a));
    assert_non_null(oasis_wire_attach(n->wire, n->b));
}

void test_net_init(test_net *n, const oasis_wire_config *wcfg, const oasis_tcp_config *tcfg)
{
    net_init(n, wcfg, tcfg, 0);
}

void test_net_init6(test_net *n, const oasis_wire_config *wcfg, const oasis_tcp_config *tcfg)
{
    net_init(n, wcfg, tcfg, 1);
}

void test_net_fini(test_net *n)
{
    oasis_wire_detach(n->wire, n->a);
    oasis_wire_detach(n->wire, n->b);
    oasis_stack_destroy(n->a);
    oasis_stack_destroy(n->b);
    oasis_wire_destroy(n->wire);
    oasis_clock_free(n->clock);
}

static int flag_set(void *ud) { return *(const int *)ud != 0; }

int test_net_run_until(test_net *n, const int *flag, uint64_t timeout_ns)
{
    return oasis_wire_run(n->wire, flag_set, (void *)(uintptr_t)flag, timeout_ns);
}

void test_append(uint8_t **buf, size_t *len, size_t *cap, const void *data, size_t n)
{
    if (*len + n > *cap) {
        *cap = (*len + n) * 2;
        *buf = realloc(*buf, *cap);
        assert_non_null(*buf);
    }
    memcpy(*buf + *len, data, n);
    *len += n;
}

oasis_ipaddr test_link_local(oasis_stack *s)
{
    oasis_ipv6_addr_info a[8];
    size_t k = oasis_ipv6_addrs(s, a, 8);
    for (size_t i = 0; i < k && i < 8; i++)
        if (a[i].origin == OASIS_IPV6_LINK_LOCAL && a[i].state == OASIS_IPV6_PREFERRED)
            return a[i].addr;
    fail_msg("no preferred link-local address");
    return a[0].addr;
}
