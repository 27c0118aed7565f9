#include "caplink.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "arp/arp_wire.h"
#include "link/eth_wire.h"

static int cap_send(oasis_link *l, const uint8_t *f, size_t len)
{
    test_cap *c = l->data;
    if (c->n < c->max && len <= TEST_CAP_FRAME) {
        memcpy(c->frame[c->n], f, len);
        c->len[c->n++] = len;
    } else {
        c->lost++;
    }
    return 0;
}

void test_cap_attach(test_cap *c, oasis_stack *s, size_t max, uint32_t mtu)
{
    memset(c, 0, sizeof *c);
    c->frame = test_calloc(max, sizeof *c->frame);
    c->len = test_calloc(max, sizeof *c->len);
    c->max = max;
    c->link.send = cap_send;
    c->link.mtu = mtu;
    c->link.data = c;
    oasis_stack_set_link(s, &c->link);
}

void test_cap_fini(test_cap *c)
{
    test_free(c->frame);
    test_free(c->len);
    c->frame = NULL;
    c->len = NULL;
    c->max = c->n = 0;
}

void test_advance(oasis_stack *s, oasis_clock *clock, uint64_t ns)
{
    uint64_t end = oasis_clock_now(clock) + ns;
    for (;;) {
        uint64_t d = oasis_stack_next_deadline(s);
        if (d > end)
            break;
        if (d > oasis_clock_now(clock))
            oasis_clock_set(clock, d);
        oasis_stack_poll(s);
    }
    oasis_clock_set(clock, end);
    oasis_stack_poll(s);
}

void test_inject_arp(oasis_stack *s, const uint8_t eth_src[6], const uint8_t eth_dst[6],
                     uint16_t op, const uint8_t sha[6], uint32_t spa, const uint8_t tha[6],
                     uint32_t tpa)
{
    uint8_t buf[OASIS_ETH_HLEN + OASIS_ARP_LEN];
    oasis_arp_pkt p;
    memset(&p, 0, sizeof p);
    p.op = op;
    memcpy(p.sha, sha, 6);
    p.spa = spa;
    memcpy(p.tha, tha, 6);
    p.tpa = tpa;
    oasis_eth_emit(buf, eth_dst, eth_src, OASIS_ETHERTYPE_ARP);
    oasis_arp_emit(buf + OASIS_ETH_HLEN, &p);
    oasis_stack_input(s, buf, sizeof buf);
}

void test_learn_peer4(oasis_stack *s, const uint8_t us_mac[6], uint32_t us_ip,
                      const uint8_t peer_mac[6], uint32_t peer_ip)
{
    static const uint8_t zero[6];
    test_inject_arp(s, peer_mac, us_mac, OASIS_ARP_REQUEST, peer_mac, peer_ip, zero, us_ip);
}
