/* The protocol handler table (include/oasis/ip.h): a protocol registered
 * by the application receives its datagrams and the ICMP errors quoting
 * its own datagrams; unregistered numbers draw protocol unreachables;
 * registration limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "arp/arp_wire.h"
#include "icmp/icmp_wire.h"
#include "ip/ipv4_wire.h"
#include "link/eth_wire.h"
#include "oasis/error.h"
#include "oasis/ip.h"
#include "oasis/oasis.h"
#include "caplink.h"
#include "testutil.h"

#define MAXF 16
#define MYPROTO 253 /* RFC 3692 experimentation */

typedef struct fx {
    oasis_clock *clock;
    oasis_stack *s;
    test_cap cap;
    /* what the handler saw */
    int inputs, errors;
    uint8_t got[64];
    size_t got_len;
    uint32_t got_src;
    oasis_ip_error err;
    uint8_t err_quote[64];
} fx;

static const uint8_t MAC_US[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t MAC_PEER[6] = {2, 0, 0, 0, 0, 2};
#define US OASIS_IPV4(10, 0, 0, 1)
#define PEER OASIS_IPV4(10, 0, 0, 2)
#define ROUTER OASIS_IPV4(10, 0, 0, 254)

static void inject(fx *x, uint32_t src, uint8_t proto, const uint8_t *pl, size_t n)
{
    uint8_t frame[1600];
    oasis_ipv4_hdr h;
    memset(&h, 0, sizeof h);
    h.total_len = (uint16_t)(OASIS_IPV4_HLEN + n);
    h.id = 7;
    h.ttl = 64;
    h.proto = proto;
    h.src = src;
    h.dst = US;
    oasis_eth_emit(frame, MAC_US, MAC_PEER, OASIS_ETHERTYPE_IPV4);
    oasis_ipv4_emit(frame + OASIS_ETH_HLEN, &h);
    memcpy(frame + OASIS_ETH_HLEN + OASIS_IPV4_HLEN, pl, n);
    oasis_stack_input(x->s, frame, OASIS_ETH_HLEN + OASIS_IPV4_HLEN + n);
}

static int setup(void **state)
{
    fx *x = test_calloc(1, sizeof *x);
    oasis_stack_config cfg;
    x->clock = oasis_clock_new_virtual(1000 * OASIS_NS_PER_SEC);
    test_stack_config(&cfg, x->clock, 1);
    cfg.arp_gratuitous = 0;
    assert_int_equal(oasis_stack_create(&cfg, &x->s), 0);
    test_cap_attach(&x->cap, x->s, MAXF, 1500);
    /* Learn PEER's MAC so datagrams go out at once. */
    test_learn_peer4(x->s, MAC_US, US, MAC_PEER, PEER);
    x->cap.n = 0;
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fx *x = *state;
    oasis_stack_destroy(x->s);
    test_cap_fini(&x->cap);
    oasis_clock_free(x->clock);
    test_free(x);
    return 0;
}

static void my_input(oasis_stack *s, const oasis_ip_packet *pkt, void *ud)
{
    (void)s;
    fx *x = ud;
    x->inputs++;
    assert_int_equal(pkt->family, OASIS_IP_FAMILY_V4);
    assert_int_equal(pkt->proto, MYPROTO);
    assert_int_equal(pkt->dst, US);
    x->got_src = pkt->src;
    x->got_len = pkt->len < sizeof x->got ? pkt->len : sizeof x->got;
    memcpy(x->got, pkt->payload, x->got_len);
}

static void my_error(oasis_stack *s, const oasis_ip_error *e, void *ud)
{
    (void)s;
    fx *x = ud;
    x->errors++;
    x->err = *e;
    assert_true(e->quote_len >= 8 && e->quote_len <= sizeof x->err_quote);
    memcpy(x->err_quote, e->quote, e->quote_len);
}

static const oasis_counters *ctr(const fx *x) { return oasis_stack_counters(x->s); }

/* A datagram of a registered protocol reaches its handler; without the
 * handler it draws an ICMP protocol unreachable (RFC 1122 3.2.2.1). */
static void test_custom_protocol_receives(void **state)
{
    fx *x = *state;
    const uint8_t msg[] = "hello, protocol 253";
    inject(x, PEER, MYPROTO, msg, sizeof msg);
    assert_int_equal(x->inputs, 0);
    assert_int_equal(ctr(x)->ip.in_unknown_protos, 1);
    assert_int_equal(x->cap.n, 1); /* the protocol unreachable */

    assert_int_equal(oasis_ip_register(x->s, MYPROTO, my_input, my_error, x), 0);
    x->cap.n = 0;
    inject(x, PEER, MYPROTO, msg, sizeof msg);
    assert_int_equal(x->inputs, 1);
    assert_int_equal(x->got_src, PEER);
    assert_int_equal(x->got_len, sizeof msg);
    assert_memory_equal(x->got, msg, sizeof msg);
    assert_int_equal(ctr(x)->ip.in_unknown_protos, 1);
    assert_int_equal(x->cap.n, 0);

    assert_int_equal(oasis_ip_unregister(x->s, MYPROTO), 0);
    inject(x, PEER, MYPROTO, msg, sizeof msg);
    assert_int_equal(x->inputs, 1);
    assert_int_equal(ctr(x)->ip.in_unknown_protos, 2);
}

/* The custom protocol sends with oasis_ip_send; a router's ICMP error
 * quoting that datagram reaches the protocol's error hook with type,
 * code, next-hop MTU and the quoted transport bytes. */
static void test_custom_protocol_gets_icmp_errors(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_ip_register(x->s, MYPROTO, my_input, my_error, x), 0);
    uint8_t data[1400] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(oasis_ip_send(x->s, PEER, MYPROTO, data, sizeof data, 1), 0);
    assert_int_equal(x->cap.n, 1);
    const uint8_t *ip = x->cap.frame[0] + OASIS_ETH_HLEN;
    assert_int_equal(ip[9], MYPROTO);

    /* Fragmentation needed, next-hop MTU 1280 (RFC 1191), from a router. */
    uint8_t icmp[8 + 28];
    memcpy(icmp + 8, ip, 28);
    oasis_icmp_emit(icmp, sizeof icmp, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_FRAG_NEEDED, 1280);
    inject(x, ROUTER, OASIS_IPPROTO_ICMP, icmp, sizeof icmp);
    assert_int_equal(x->errors, 1);
    assert_int_equal(x->err.family, OASIS_IP_FAMILY_V4);
    assert_int_equal(x->err.type, OASIS_ICMP_DEST_UNREACH);
    assert_int_equal(x->err.code, OASIS_ICMP_FRAG_NEEDED);
    assert_int_equal(x->err.proto, MYPROTO);
    assert_int_equal(x->err.mtu, 1280);
    assert_int_equal(x->err.reporter, ROUTER);
    assert_int_equal(x->err.src, US);
    assert_int_equal(x->err.dst, PEER);
    assert_int_equal(x->err.quote_len, 8);
    assert_memory_equal(x->err_quote, data, 8);

    /* A router that gives no next-hop MTU (or one the datagram fitted):
     * the RFC 1191 7 plateau below the refused datagram's 1420 bytes. */
    oasis_icmp_emit(icmp, sizeof icmp, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_FRAG_NEEDED, 0);
    inject(x, ROUTER, OASIS_IPPROTO_ICMP, icmp, sizeof icmp);
    assert_int_equal(x->err.mtu, 1006);
    oasis_icmp_emit(icmp, sizeof icmp, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_FRAG_NEEDED, 1500);
    inject(x, ROUTER, OASIS_IPPROTO_ICMP, icmp, sizeof icmp);
    assert_int_equal(x->err.mtu, 1006);
    x->errors = 1;

    /* Time exceeded reaches it too. */
    oasis_icmp_emit(icmp, sizeof icmp, OASIS_ICMP_TIME_EXCEEDED, 0, 0);
    inject(x, ROUTER, OASIS_IPPROTO_ICMP, icmp, sizeof icmp);
    assert_int_equal(x->errors, 2);
    assert_int_equal(x->err.type, OASIS_ICMP_TIME_EXCEEDED);
    assert_int_equal(x->err.mtu, 0);
    assert_int_equal(ctr(x)->icmp.in_time_excds, 1);

    /* A quote whose source is not our address is nobody's: dropped and
     * counted (RFC 5927 4.1). */
    uint32_t other = OASIS_IPV4(10, 0, 0, 9);
    uint8_t forged[8 + 28];
    memcpy(forged + 8, ip, 28);
    forged[8 + 12] = (uint8_t)(other >> 24);
    forged[8 + 13] = (uint8_t)(other >> 16);
    forged[8 + 14] = (uint8_t)(other >> 8);
    forged[8 + 15] = (uint8_t)other;
    oasis_icmp_emit(forged, sizeof forged, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_HOST_UNREACH, 0);
    inject(x, ROUTER, OASIS_IPPROTO_ICMP, forged, sizeof forged);
    assert_int_equal(x->errors, 2);
    assert_int_equal(ctr(x)->icmp.in_errors_unowned, 1);

    /* A quote of a datagram to ourselves (our address, 127/8), which went
     * through loopback and never took a link, from a router on the link:
     * forged, dropped and counted. */
    const uint32_t selves[2] = {US, OASIS_IPV4(127, 0, 0, 1)};
    for (int i = 0; i < 2; i++) {
        memcpy(forged + 8, ip, 28);
        forged[8 + 16] = (uint8_t)(selves[i] >> 24);
        forged[8 + 17] = (uint8_t)(selves[i] >> 16);
        forged[8 + 18] = (uint8_t)(selves[i] >> 8);
        forged[8 + 19] = (uint8_t)selves[i];
        oasis_icmp_emit(forged, sizeof forged, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_FRAG_NEEDED,
                        576);
        inject(x, ROUTER, OASIS_IPPROTO_ICMP, forged, sizeof forged);
        assert_int_equal(x->errors, 2);
        assert_int_equal(ctr(x)->icmp.in_errors_unowned, 2 + i);
    }

    /* A quote shorter than the IP header and 8 bytes: dropped, counted. */
    oasis_icmp_emit(icmp, 8 + 24, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_HOST_UNREACH, 0);
    inject(x, ROUTER, OASIS_IPPROTO_ICMP, icmp, 8 + 24);
    assert_int_equal(x->errors, 2);
    assert_int_equal(ctr(x)->icmp.in_errors_unowned, 4);

    /* Without an error hook the error is counted as nobody's. */
    assert_int_equal(oasis_ip_unregister(x->s, MYPROTO), 0);
    assert_int_equal(oasis_ip_register(x->s, MYPROTO, my_input, NULL, x), 0);
    oasis_icmp_emit(icmp, sizeof icmp, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_HOST_UNREACH, 0);
    inject(x, ROUTER, OASIS_IPPROTO_ICMP, icmp, sizeof icmp);
    assert_int_equal(x->errors, 2);
    assert_int_equal(ctr(x)->icmp.in_errors_unowned, 5);
}

/* An error quoting a later fragment of a datagram we cut (offset not 0)
 * quotes no transport header: its "first 8 bytes" are the middle of our
 * data, and the protocol would read ports or a sequence number out of it
 * (oasis_ip_error.quote is "the quoted transport header onwards"). It is
 * nobody's: dropped and counted, as IPv6 does (RFC 4443 2.4 d's later
 * fragment names no upper layer); routers send none (RFC 1812 4.3.2.7).
 * The first fragment's error still reaches the protocol. */
static void test_error_about_later_fragment_dropped(void **state)
{
    fx *x = *state;
    assert_int_equal(oasis_ip_register(x->s, MYPROTO, my_input, my_error, x), 0);
    static uint8_t data[3000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 13);
    assert_int_equal(oasis_ip_send(x->s, PEER, MYPROTO, data, sizeof data, 0), 0);
    assert_int_equal(x->cap.n, 3);
    const uint8_t *first = x->cap.frame[0] + OASIS_ETH_HLEN;
    const uint8_t *later = x->cap.frame[1] + OASIS_ETH_HLEN;
    assert_int_equal(first[6] & 0x3f, 0x20); /* MF, offset 0 */
    assert_true((later[6] & 0x1f) != 0 || later[7] != 0);
    uint8_t icmp[8 + 28];
    memcpy(icmp + 8, later, 28);
    oasis_icmp_emit(icmp, sizeof icmp, OASIS_ICMP_TIME_EXCEEDED, 0, 0);
    inject(x, ROUTER, OASIS_IPPROTO_ICMP, icmp, sizeof icmp);
    assert_int_equal(x->errors, 0);
    assert_int_equal(ctr(x)->icmp.in_errors_unowned, 1);
    memcpy(icmp + 8, first, 28);
    oasis_icmp_emit(icmp, sizeof icmp, OASIS_ICMP_TIME_EXCEEDED, 0, 0);
    inject(x, ROUTER, OASIS_IPPROTO_ICMP, icmp, sizeof icmp);
    assert_int_equal(x->errors, 1);
    assert_memory_equal(x->err_quote, data, 8);
}

static void noop_input(oasis_stack *s, const oasis_ip_packet *pkt, void *ud)
{
    (void)s;
    (void)pkt;
    (void)ud;
}

static void test_register_limits(void **state)
{
    fx *x = *state;
    /* The stack's own transports are taken. */
    assert_int_equal(oasis_ip_register(x->s, 6, noop_input, NULL, NULL), OASIS_EADDRINUSE);
    assert_int_equal(oasis_ip_register(x->s, 17, noop_input, NULL, NULL), OASIS_EADDRINUSE);
    assert_int_equal(oasis_ip_register(x->s, 1, noop_input, NULL, NULL), OASIS_EADDRINUSE);
    assert_int_equal(oasis_ip_register(NULL, 200, noop_input, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_ip_register(x->s, 200, NULL, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_ip_unregister(x->s, 200), OASIS_ENOENT);
    int added = 0;
    for (int p = 100; p < 100 + OASIS_IP_MAX_PROTOS; p++) {
        int err = oasis_ip_register(x->s, (uint8_t)p, noop_input, NULL, NULL);
        if (err == OASIS_ENOMEM)
            break;
        assert_int_equal(err, 0);
        added++;
    }
    assert_true(added > 0 && added <= OASIS_IP_MAX_PROTOS - 3);
    assert_int_equal(oasis_ip_register(x->s, 250, noop_input, NULL, NULL), OASIS_ENOMEM);
    /* A freed slot is reused. */
    assert_int_equal(oasis_ip_unregister(x->s, 100), 0);
    assert_int_equal(oasis_ip_register(x->s, 250, noop_input, NULL, NULL), 0);
    /* TCP still works through the table: a segment to a closed port draws an RST. */
    x->cap.n = 0;
    uint8_t seg[20] = {0x30, 0x39, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff};
    /* checksum over the pseudo header */
    uint32_t sum = (US >> 16) + (US & 0xffff) + (PEER >> 16) + (PEER & 0xffff) + 6 + 20;
    for (size_t i = 0; i < sizeof seg; i += 2)
        sum += (uint32_t)(seg[i] << 8 | seg[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    seg[16] = (uint8_t)(~sum >> 8);
    seg[17] = (uint8_t)~sum;
    inject(x, PEER, 6, seg, sizeof seg);
    assert_int_equal(ctr(x)->tcp.in_segs, 1);
    assert_int_equal(ctr(x)->tcp.out_rsts, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_custom_protocol_receives, setup, teardown),
        cmocka_unit_test_setup_teardown(test_custom_protocol_gets_icmp_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_about_later_fragment_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register_limits, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
