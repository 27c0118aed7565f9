/* The shim and the two-stack set-up of vnetif.h. */
#include "vnetif.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

static uint32_t shim_rand(test_vnetif_shim *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return (uint32_t)(s->rng >> 11);
}

static int is_ipv4(const uint8_t *frame, size_t len)
{
    return len >= OASIS_ETH_HLEN && frame[12] == 0x08 && frame[13] == 0x00;
}

static int shim_send(oasis_link *link, const uint8_t *frame, size_t len)
{
    test_vnetif_shim *s = link->data;
    test_vnetif *n = s->net;
    uint64_t now = oasis_clock_now(n->clock);
    if (n->tap)
        n->tap(n->tap_ud, s == &n->sb, frame, len, now);
    if (n->cut && is_ipv4(frame, len)) {
        n->drops++;
        return 0;
    }
    switch (n->backend) {
    case VNETIF_TRAILING_BYTES: { /* Random.int 10 */
        size_t extra = shim_rand(s) % (VNETIF_MAX_TRAILING + 1);
        assert_true(len + extra <= sizeof n->pad);
        memcpy(n->pad, frame, len);
        memset(n->pad + len, 0, extra);
        n->padded += extra > 0;
        return s->port->send(s->port, n->pad, len + extra);
    }
    case VNETIF_NO_PAYLOAD_LOSS:
        if (len <= 100 && shim_rand(s) % 100 < 10) {
            n->drops++;
            return 0;
        }
        break;
    case VNETIF_MTU_ENFORCED:
        if (len - OASIS_ETH_HLEN > link->mtu) {
            n->oversize++;
            return OASIS_EMSGSIZE;
        }
        break;
    case VNETIF_DROP_1S_AFTER_1MB:
        n->sent_bytes += len;
        if (n->outage == VNETIF_OUTAGE_BEFORE && n->sent_bytes > 1000000) {
            n->outage = VNETIF_OUTAGE_ON;
            n->outage_until = now + OASIS_NS_PER_SEC;
        }
        if (n->outage == VNETIF_OUTAGE_ON && now >= n->outage_until)
            n->outage = VNETIF_OUTAGE_OVER;
        if (n->outage == VNETIF_OUTAGE_ON) {
            n->drops++;
            return 0;
        }
        break;
    default:
        break;
    }
    return s->port->send(s->port, frame, len);
}

/* Stack number i (1, 2) on the wire behind shim s. */
static oasis_stack *stack_on(test_vnetif *n, test_vnetif_shim *s, int i, uint64_t seed,
                             uint32_t mtu, int ipv6)
{
    oasis_stack_config cfg;
    oasis_stack *st;
    test_stack_config(&cfg, n->clock, i);
    cfg.seed = seed * 7919u + (uint64_t)i;
    cfg.mtu = mtu;
    cfg.ipv6 = ipv6;
    assert_int_equal(oasis_stack_create(&cfg, &st), 0);
    s->port = oasis_wire_attach(n->wire, st);
    assert_non_null(s->port);
    s->rng = (seed * 2 + (uint64_t)i) * 0x9e3779b97f4a7c15ull | 1;
    s->net = n;
    s->link.send = shim_send;
    s->link.mtu = mtu;
    s->link.data = s;
    oasis_stack_set_link(st, &s->link);
    assert_int_equal(oasis_stack_mtu(st), mtu);
    if (n->backend == VNETIF_UNIFORM_LOSS) {
        oasis_impair im;
        oasis_impair_init(&im);
        im.loss = 0.01;
        assert_int_equal(oasis_wire_impair(n->wire, s->port, NULL, &im), 0);
    }
    return st;
}

static void init(test_vnetif *n, test_vnetif_backend backend, uint64_t seed, uint32_t mtu_a,
                 uint32_t mtu_b, int ipv6)
{
    memset(n, 0, sizeof *n);
    assert_true(mtu_a <= VNETIF_MAX_MTU && mtu_b <= VNETIF_MAX_MTU);
    n->backend = backend;
    n->clock = oasis_clock_new_virtual(1000 * OASIS_NS_PER_SEC);
    assert_non_null(n->clock);
    oasis_wire_config wc;
    oasis_wire_config_init(&wc);
    wc.mtu = (mtu_a > mtu_b ? mtu_a : mtu_b) + VNETIF_MAX_TRAILING;
    wc.seed = seed;
    assert_int_equal(oasis_wire_create(n->clock, &wc, &n->wire), 0);
    n->a = stack_on(n, &n->sa, 1, seed, mtu_a, ipv6);
    n->b = stack_on(n, &n->sb, 2, seed, mtu_b, ipv6);
}

void test_vnetif_init(test_vnetif *n, test_vnetif_backend backend, uint64_t seed, uint32_t mtu_a,
                      uint32_t mtu_b)
{
    init(n, backend, seed, mtu_a, mtu_b, 0);
}

typedef struct want6 {
    oasis_stack *s[2];
    oasis_ipaddr addr[2];
} want6;

static int preferred(oasis_stack *s, const oasis_ipaddr *addr)
{
    oasis_ipv6_addr_info info[8];
    size_t k = oasis_ipv6_addrs(s, info, 8);
    for (size_t i = 0; i < k && i < 8; i++)
        if (oasis_ipaddr_eq(&info[i].addr, addr))
            return info[i].state == OASIS_IPV6_PREFERRED;
    return 0;
}

static int both_preferred(void *ud)
{
    const want6 *w = ud;
    return preferred(w->s[0], &w->addr[0]) && preferred(w->s[1], &w->addr[1]);
}

void test_vnetif_init6(test_vnetif *n, test_vnetif_backend backend, uint64_t seed,
                       const char *const addr6[2])
{
    init(n, backend, seed, 1500, 1500, 1);
    want6 w;
    w.s[0] = n->a;
    w.s[1] = n->b;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(oasis_ipaddr_parse(addr6[i], &w.addr[i]), 0);
        assert_int_equal(oasis_ipv6_add_addr(w.s[i], &w.addr[i], 64), 0);
    }
    assert_int_equal(oasis_wire_run(n->wire, both_preferred, &w, 30 * OASIS_NS_PER_SEC), 0);
}

void test_vnetif_fini(test_vnetif *n)
{
    oasis_stack_destroy(n->a);
    oasis_stack_destroy(n->b);
    oasis_wire_destroy(n->wire);
    oasis_clock_free(n->clock);
}
