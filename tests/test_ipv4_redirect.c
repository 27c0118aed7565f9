/* ICMP redirects (RFC 1122 3.2.2.2, 3.3.1.2, 3.3.1.4): a redirect from the
 * current first hop for a destination moves that destination to the
 * gateway it names; anything else is counted and ignored; a dead redirect
 * gateway, an address change or age sends the destination back to the
 * default gateway. Checked on the frames the stack sends: which MAC a
 * datagram to an off-link host goes to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/bytes.h"
#include "core/stack_impl.h"
#include "icmp/icmp_wire.h"
#include "ip/ipv4.h"
#include "ip/ipv4_wire.h"
#include "link/eth_wire.h"
#include "oasis/error.h"
#include "oasis/tcp.h"
#include "oasis/udp.h"
#include "tcp/tcp_wire.h"
#include "caplink.h"
#include "testutil.h"

#define US OASIS_IPV4(10, 0, 0, 1)
#define GW OASIS_IPV4(10, 0, 0, 2)  /* the default gateway */
#define GW2 OASIS_IPV4(10, 0, 0, 3) /* the better one a redirect names */
#define OTHER OASIS_IPV4(10, 0, 0, 5) /* a host on the link, no gateway */
#define FAR OASIS_IPV4(8, 8, 8, 8)
#define FAR2 OASIS_IPV4(9, 9, 9, 9)

static const uint8_t MAC_US[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t MAC_GW[6] = {2, 0, 0, 0, 0, 2};
static const uint8_t MAC_GW2[6] = {2, 0, 0, 0, 0, 3};
static const uint8_t MAC_OTHER[6] = {2, 0, 0, 0, 0, 5};

typedef struct fx {
    oasis_clock *clock;
    oasis_stack *s;
    test_cap cap;
} fx;

static fx *fx_new(int redirects)
{
    fx *f = test_calloc(1, sizeof *f);
    oasis_stack_config cfg;
    f->clock = oasis_clock_new_virtual(1000 * OASIS_NS_PER_SEC);
    test_stack_config(&cfg, f->clock, 1);
    cfg.arp_gratuitous = 0;
    cfg.gateway = GW;
    cfg.icmp_redirects = redirects;
    assert_int_equal(oasis_stack_create(&cfg, &f->s), 0);
    test_cap_attach(&f->cap, f->s, 64, 1500);
    test_learn_peer4(f->s, MAC_US, US, MAC_GW, GW);
    test_learn_peer4(f->s, MAC_US, US, MAC_GW2, GW2);
    test_learn_peer4(f->s, MAC_US, US, MAC_OTHER, OTHER);
    f->cap.n = 0;
    return f;
}

static void fx_free(fx *f)
{
    oasis_stack_destroy(f->s);
    test_cap_fini(&f->cap);
    oasis_clock_free(f->clock);
    test_free(f);
}

static const oasis_icmp_counters *icc(const fx *f) { return &oasis_stack_counters(f->s)->icmp; }

/* An ICMP message from `from` (at mac) to `to`. */
static void inject_icmp(fx *f, const uint8_t mac[6], uint32_t from, uint32_t to, const uint8_t *m,
                        size_t n)
{
    uint8_t frame[256];
    oasis_ipv4_hdr h;
    memset(&h, 0, sizeof h);
    h.total_len = (uint16_t)(OASIS_IPV4_HLEN + n);
    h.ttl = 64;
    h.proto = OASIS_IPPROTO_ICMP;
    h.src = from;
    h.dst = to;
    oasis_eth_emit(frame, MAC_US, mac, OASIS_ETHERTYPE_IPV4);
    oasis_ipv4_emit(frame + OASIS_ETH_HLEN, &h);
    memcpy(frame + OASIS_ETH_HLEN + OASIS_IPV4_HLEN, m, n);
    oasis_stack_input(f->s, frame, OASIS_ETH_HLEN + OASIS_IPV4_HLEN + n);
}

/* A redirect (code) from `from`, telling us to reach the destination of
 * the quoted datagram (qsrc -> qdst, UDP) through gw. */
static void redirect_full(fx *f, const uint8_t mac[6], uint32_t from, uint32_t to, uint8_t code,
                          uint32_t gw, uint32_t qsrc, uint32_t qdst)
{
    uint8_t m[8 + 28];
    oasis_ipv4_hdr q;
    memset(&q, 0, sizeof q);
    q.total_len = 28;
    q.ttl = 63;
    q.proto = OASIS_IPPROTO_UDP;
    q.src = qsrc;
    q.dst = qdst;
    oasis_ipv4_emit(m + 8, &q);
    memset(m + 28, 0, 8);
    oasis_icmp_emit(m, sizeof m, OASIS_ICMP_REDIRECT, code, gw);
    inject_icmp(f, mac, from, to, m, sizeof m);
}

static void redirect(fx *f, uint32_t dst, uint32_t gw)
{
    redirect_full(f, MAC_GW, GW, US, 1, gw, US, dst);
}

/* Sends a UDP datagram to dst and returns the MAC its frame went to
 * (broadcast: an ARP request). */
static const uint8_t *first_hop_mac(fx *f, uint32_t dst)
{
    f->cap.n = 0;
    assert_int_equal(oasis_udp_send4(f->s, 4000, dst, 53, "x", 1), 0);
    assert_int_equal(f->cap.n, 1);
    return f->cap.frame[0];
}

static int goes_to(fx *f, uint32_t dst, const uint8_t mac[6])
{
    return memcmp(first_hop_mac(f, dst), mac, 6) == 0;
}

static void test_redirect_moves_one_destination(void **state)
{
    (void)state;
    fx *f = fx_new(1);
    assert_true(goes_to(f, FAR, MAC_GW));
    redirect(f, FAR, GW2);
    assert_int_equal(icc(f)->in_redirects, 1);
    assert_int_equal(icc(f)->redirects_taken, 1);
    assert_int_equal(oasis_ipv4_route(f->s, FAR), GW2);
    assert_true(goes_to(f, FAR, MAC_GW2));
    assert_true(goes_to(f, FAR2, MAC_GW)); /* only that destination */

    /* A network redirect (code 0) counts for its one host (3.3.1.2). */
    redirect_full(f, MAC_GW, GW, US, 0, GW2, US, FAR2);
    assert_true(goes_to(f, FAR2, MAC_GW2));
    assert_true(goes_to(f, OASIS_IPV4(9, 9, 9, 10), MAC_GW));

    /* The new first hop may redirect again; the old one no longer can. */
    redirect_full(f, MAC_GW, GW, US, 1, OTHER, US, FAR);
    assert_true(goes_to(f, FAR, MAC_GW2));
    redirect_full(f, MAC_GW2, GW2, US, 1, OTHER, US, FAR);
    assert_true(goes_to(f, FAR, MAC_OTHER));
    assert_int_equal(icc(f)->redirects_taken, 3);
    assert_int_equal(icc(f)->redirects_ignored, 1);
    fx_free(f);
}

/* RFC 1122 3.2.2.2: "silently discarded if the new gateway address it
 * specifies is not on the same connected (sub-) net ... or if the source
 * of the Redirect is not the current first-hop gateway"; and no redirect
 * about a datagram we did not send or a host that is on our link. */
static void test_redirect_refused(void **state)
{
    (void)state;
    fx *f = fx_new(1);
    redirect_full(f, MAC_OTHER, OTHER, US, 1, GW2, US, FAR);      /* not the first hop */
    redirect(f, FAR, OASIS_IPV4(192, 168, 1, 1));                  /* off our subnet */
    redirect(f, FAR, US);                                          /* ourselves */
    redirect(f, FAR, OASIS_IPV4(10, 0, 0, 255));                   /* subnet broadcast */
    redirect(f, FAR, OASIS_IPV4(10, 0, 0, 0));                     /* subnet's network */
    redirect(f, FAR, 0);
    redirect(f, FAR, GW);                                          /* no change */
    redirect_full(f, MAC_GW, GW, US, 1, GW2, OTHER, FAR);          /* not our datagram */
    redirect(f, OTHER, GW2);                                       /* an on-link host */
    redirect(f, OASIS_IPV4(224, 0, 0, 9), GW2);                    /* multicast */
    redirect(f, OASIS_IPV4(127, 0, 0, 1), GW2);                    /* loopback */
    redirect_full(f, MAC_GW, GW, US, 4, GW2, US, FAR);             /* no such code */
    redirect_full(f, MAC_GW, GW, OASIS_IPV4(10, 0, 0, 255), 1, GW2, US, FAR); /* broadcast */
    assert_int_equal(icc(f)->in_redirects, 13);
    assert_int_equal(icc(f)->redirects_ignored, 13);
    assert_int_equal(icc(f)->redirects_taken, 0);
    assert_true(goes_to(f, FAR, MAC_GW));
    assert_true(goes_to(f, OTHER, MAC_OTHER));

    /* A quote cut short of the 8 data bytes. */
    uint8_t m[8 + 20];
    oasis_ipv4_hdr q;
    memset(&q, 0, sizeof q);
    q.total_len = 28;
    q.ttl = 63;
    q.proto = OASIS_IPPROTO_UDP;
    q.src = US;
    q.dst = FAR;
    oasis_ipv4_emit(m + 8, &q);
    oasis_icmp_emit(m, sizeof m, OASIS_ICMP_REDIRECT, 1, GW2);
    inject_icmp(f, MAC_GW, GW, US, m, sizeof m);
    assert_int_equal(icc(f)->redirects_ignored, 14);
    assert_true(goes_to(f, FAR, MAC_GW));
    fx_free(f);
}

static void test_redirects_off(void **state)
{
    (void)state;
    fx *f = fx_new(0);
    redirect(f, FAR, GW2);
    assert_int_equal(icc(f)->in_redirects, 1);
    assert_int_equal(icc(f)->redirects_ignored, 1);
    assert_true(goes_to(f, FAR, MAC_GW));
    fx_free(f);
}

/* 3.3.1.4: a redirect gateway that stops answering ARP is dead; its
 * destinations go back to the default gateway. */
static void test_dead_redirect_gateway(void **state)
{
    (void)state;
    fx *f = fx_new(1);
    uint32_t dead = OASIS_IPV4(10, 0, 0, 9); /* never answers */
    redirect(f, FAR, dead);
    const uint8_t *to = first_hop_mac(f, FAR);
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_memory_equal(to, bcast, 6); /* an ARP request for it */
    test_advance(f->s, f->clock, 60 * OASIS_NS_PER_SEC);
    assert_int_equal(oasis_ipv4_route(f->s, FAR), GW);
    test_learn_peer4(f->s, MAC_US, US, MAC_GW, GW); /* (its entry aged out meanwhile) */
    assert_true(goes_to(f, FAR, MAC_GW));
    fx_free(f);
}

static void test_redirect_ages_and_address_change(void **state)
{
    (void)state;
    fx *f = fx_new(1);
    redirect(f, FAR, GW2);
    test_advance(f->s, f->clock, 590 * OASIS_NS_PER_SEC);
    redirect(f, FAR2, GW2);
    assert_int_equal(oasis_ipv4_route(f->s, FAR), GW2);
    test_advance(f->s, f->clock, 20 * OASIS_NS_PER_SEC);
    assert_int_equal(oasis_ipv4_route(f->s, FAR), GW); /* aged out */
    assert_int_equal(oasis_ipv4_route(f->s, FAR2), GW2);

    /* The same configuration again (a DHCP renewal) keeps it; a new
     * gateway does not. */
    assert_int_equal(oasis_stack_set_ipv4(f->s, US, 24, GW), 0);
    assert_int_equal(oasis_ipv4_route(f->s, FAR2), GW2);
    assert_int_equal(oasis_stack_set_ipv4(f->s, US, 24, OTHER), 0);
    assert_int_equal(oasis_ipv4_route(f->s, FAR2), OTHER);
    fx_free(f);
}

/* The cache is bounded: the entry that ages out first makes way. */
static void test_redirect_cache_bounded(void **state)
{
    (void)state;
    fx *f = fx_new(1);
    for (uint32_t i = 0; i < OASIS_IPV4_REDIRECTS + 4; i++) {
        redirect(f, OASIS_IPV4(20, 0, 0, 1) + i, GW2);
        test_advance(f->s, f->clock, OASIS_NS_PER_SEC);
    }
    assert_int_equal(icc(f)->redirects_taken, OASIS_IPV4_REDIRECTS + 4);
    assert_int_equal(f->s->ip.redirect_count, OASIS_IPV4_REDIRECTS);
    for (uint32_t i = 0; i < OASIS_IPV4_REDIRECTS + 4; i++)
        assert_int_equal(oasis_ipv4_route(f->s, OASIS_IPV4(20, 0, 0, 1) + i), i < 4 ? GW : GW2);
    fx_free(f);
}

/* A TCP flow's segments leave through its transmit cache: the redirect
 * reaches them too. */
static void on_connect(oasis_stack *s, oasis_flow *fl, int err, void *ud)
{
    (void)s;
    assert_int_equal(err, 0);
    *(oasis_flow **)ud = fl;
}

static void pop_tcp(fx *f, size_t i, oasis_tcp_hdr *t, const uint8_t **mac)
{
    oasis_eth_hdr eh;
    oasis_ipv4_hdr ip;
    assert_true(i < f->cap.n);
    assert_int_equal(oasis_eth_parse(f->cap.frame[i], f->cap.len[i], &eh), 0);
    assert_int_equal(oasis_ipv4_parse(eh.payload, eh.payload_len, &ip), 0);
    assert_int_equal(ip.proto, OASIS_IPPROTO_TCP);
    assert_int_equal(oasis_tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, 1, t), 0);
    *mac = f->cap.frame[i];
}

static void test_redirect_reaches_tcp_flow(void **state)
{
    (void)state;
    fx *f = fx_new(1);
    oasis_flow *fl = NULL;
    assert_int_equal(oasis_tcp_connect4(f->s, FAR, 80, NULL, on_connect, &fl), 0);
    oasis_tcp_hdr syn;
    const uint8_t *mac;
    pop_tcp(f, 0, &syn, &mac);
    assert_memory_equal(mac, MAC_GW, 6);

    /* The SYN-ACK, through the gateway. */
    uint8_t frame[128];
    oasis_tcp_hdr sa;
    memset(&sa, 0, sizeof sa);
    sa.src_port = 80;
    sa.dst_port = syn.src_port;
    sa.seq = 5000;
    sa.ack = syn.seq + 1;
    sa.flags = OASIS_TCP_SYN | OASIS_TCP_ACK;
    sa.window = 65535;
    sa.has_mss = 1;
    sa.mss = 1460;
    oasis_ipv4_hdr h;
    memset(&h, 0, sizeof h);
    h.ttl = 64;
    h.proto = OASIS_IPPROTO_TCP;
    h.src = FAR;
    h.dst = US;
    uint8_t *tcp = frame + OASIS_ETH_HLEN + OASIS_IPV4_HLEN;
    size_t tl = oasis_tcp_emit(tcp, &sa, 0, FAR, US);
    h.total_len = (uint16_t)(OASIS_IPV4_HLEN + tl);
    oasis_eth_emit(frame, MAC_US, MAC_GW, OASIS_ETHERTYPE_IPV4);
    oasis_ipv4_emit(frame + OASIS_ETH_HLEN, &h);
    f->cap.n = 0;
    oasis_stack_input(f->s, frame, OASIS_ETH_HLEN + h.total_len);
    test_advance(f->s, f->clock, 1);
    assert_non_null(fl);
    assert_int_equal(oasis_tcp_set_nodelay(fl, 1), 0); /* (two small writes, no ACK between) */
    assert_int_equal(oasis_tcp_write(fl, "abc", 3, NULL, NULL), 0);
    test_advance(f->s, f->clock, 1);
    oasis_tcp_hdr t;
    pop_tcp(f, f->cap.n - 1, &t, &mac);
    assert_int_equal(t.payload_len, 3);
    assert_memory_equal(mac, MAC_GW, 6);

    redirect_full(f, MAC_GW, GW, US, 1, GW2, US, FAR);
    f->cap.n = 0;
    assert_int_equal(oasis_tcp_write(fl, "def", 3, NULL, NULL), 0);
    test_advance(f->s, f->clock, 1);
    assert_true(f->cap.n >= 1);
    pop_tcp(f, f->cap.n - 1, &t, &mac);
    assert_memory_equal(mac, MAC_GW2, 6);
    oasis_tcp_release(fl);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redirect_moves_one_destination),
        cmocka_unit_test(test_redirect_refused),
        cmocka_unit_test(test_redirects_off),
        cmocka_unit_test(test_dead_redirect_gateway),
        cmocka_unit_test(test_redirect_ages_and_address_change),
        cmocka_unit_test(test_redirect_cache_bounded),
        cmocka_unit_test(test_redirect_reaches_tcp_flow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
