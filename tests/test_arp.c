/* ARP: answers, learning, resolution with queued packets, retries and
 * failure, aging, the size bound, gratuitous ARP. One stack whose frames are
 * captured; the peer's frames are built by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "arp/arp.h"
#include "arp/arp_wire.h"
#include "core/stack_impl.h"
#include "ip/ipv4_wire.h"
#include "link/eth_wire.h"
#include "oasis/error.h"
#include "oasis/icmp.h"
#include "oasis/ip.h"
#include "oasis/udp.h"
#include "caplink.h"
#include "testutil.h"
#include "udp/udp_wire.h"

#define MAXF 128

typedef struct fx {
    oasis_clock *clock;
    oasis_stack *s;
    test_cap cap;
} fx;

static const uint8_t MAC_US[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t MAC_PEER[6] = {2, 0, 0, 0, 0, 2};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
#define US OASIS_IPV4(10, 0, 0, 1)
#define PEER OASIS_IPV4(10, 0, 0, 2)

static fx *fx_new(void (*tweak)(oasis_stack_config *))
{
    fx *f = test_calloc(1, sizeof *f);
    oasis_stack_config cfg;
    f->clock = oasis_clock_new_virtual(1000 * OASIS_NS_PER_SEC);
    test_stack_config(&cfg, f->clock, 1);
    if (tweak)
        tweak(&cfg);
    assert_int_equal(oasis_stack_create(&cfg, &f->s), 0);
    test_cap_attach(&f->cap, f->s, MAXF, 1500);
    return f;
}

static void fx_free(fx *f)
{
    oasis_stack_destroy(f->s);
    test_cap_fini(&f->cap);
    oasis_clock_free(f->clock);
    test_free(f);
}

static void advance_to(fx *f, uint64_t t)
{
    oasis_clock_set(f->clock, t);
    oasis_stack_poll(f->s);
}

static void inject_arp(fx *f, uint16_t op, const uint8_t sha[6], uint32_t spa, const uint8_t tha[6],
                       uint32_t tpa, const uint8_t eth_dst[6])
{
    test_inject_arp(f->s, sha, eth_dst, op, sha, spa, tha, tpa);
}

/* Parses captured frame i as ARP; fails the test if it is not. */
static oasis_arp_pkt cap_arp(const fx *f, size_t i, oasis_eth_hdr *eh)
{
    oasis_arp_pkt p;
    assert_true(i < f->cap.n);
    assert_int_equal(oasis_eth_parse(f->cap.frame[i], f->cap.len[i], eh), 0);
    assert_int_equal(eh->type, OASIS_ETHERTYPE_ARP);
    assert_int_equal(oasis_arp_parse(eh->payload, eh->payload_len, &p), 0);
    return p;
}

static const oasis_arp_counters *arpc(const fx *f) { return &oasis_stack_counters(f->s)->arp; }

/* ---- tests ---- */

static void test_gratuitous_on_start(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    oasis_eth_hdr eh;
    assert_int_equal(f->cap.n, 1);
    oasis_arp_pkt p = cap_arp(f, 0, &eh);
    assert_memory_equal(eh.dst, BCAST, 6);
    assert_int_equal(p.op, OASIS_ARP_REQUEST);
    assert_int_equal(p.spa, US);
    assert_int_equal(p.tpa, US);
    assert_memory_equal(p.sha, MAC_US, 6);
    assert_int_equal(arpc(f)->tx_gratuitous, 1);
    fx_free(f);
}

/* RFC 5227 2.3: ANNOUNCE_NUM (2) announcements, ANNOUNCE_INTERVAL (2 s)
 * apart; none more; a new address is claimed afresh and the old one's
 * pending announcement is not sent. */
static void test_gratuitous_announce_num(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    oasis_eth_hdr eh;
    uint64_t t0 = 1000 * OASIS_NS_PER_SEC, s1 = OASIS_NS_PER_SEC;
    assert_int_equal(f->cap.n, 1);
    advance_to(f, t0 + 2 * s1 - 1);
    assert_int_equal(f->cap.n, 1);
    advance_to(f, t0 + 2 * s1);
    assert_int_equal(f->cap.n, 2);
    oasis_arp_pkt p = cap_arp(f, 1, &eh);
    assert_memory_equal(eh.dst, BCAST, 6);
    assert_int_equal(p.op, OASIS_ARP_REQUEST);
    assert_int_equal(p.spa, US);
    assert_int_equal(p.tpa, US);
    advance_to(f, t0 + 60 * s1);
    assert_int_equal(f->cap.n, 2);
    assert_int_equal(arpc(f)->tx_gratuitous, 2);

    /* A new address: its own two, nothing more for the old one. */
    uint32_t other = OASIS_IPV4(10, 0, 0, 9);
    assert_int_equal(oasis_stack_set_ipv4(f->s, other, 24, 0), 0);
    assert_int_equal(f->cap.n, 3);
    assert_int_equal(cap_arp(f, 2, &eh).spa, other);
    assert_int_equal(oasis_stack_set_ipv4(f->s, US, 24, 0), 0);
    assert_int_equal(f->cap.n, 4);
    advance_to(f, t0 + 62 * s1);
    assert_int_equal(f->cap.n, 5);
    assert_int_equal(cap_arp(f, 4, &eh).spa, US);
    advance_to(f, t0 + 120 * s1);
    assert_int_equal(f->cap.n, 5);
    fx_free(f);
}

static void no_gratuitous(oasis_stack_config *c) { c->arp_gratuitous = 0; }

static void test_gratuitous_disabled(void **state)
{
    (void)state;
    fx *f = fx_new(no_gratuitous);
    assert_int_equal(f->cap.n, 0);
    assert_int_equal(arpc(f)->tx_gratuitous, 0);
    fx_free(f);
}

static void test_answers_request_and_learns(void **state)
{
    (void)state;
    static const uint8_t zero[6] = {0};
    fx *f = fx_new(no_gratuitous);
    uint8_t mac[6];
    oasis_eth_hdr eh;

    inject_arp(f, OASIS_ARP_REQUEST, MAC_PEER, PEER, zero, US, BCAST);
    assert_int_equal(f->cap.n, 1);
    oasis_arp_pkt p = cap_arp(f, 0, &eh);
    assert_memory_equal(eh.dst, MAC_PEER, 6);
    assert_int_equal(p.op, OASIS_ARP_REPLY);
    assert_memory_equal(p.sha, MAC_US, 6);
    assert_int_equal(p.spa, US);
    assert_memory_equal(p.tha, MAC_PEER, 6);
    assert_int_equal(p.tpa, PEER);
    assert_int_equal(arpc(f)->rx_requests, 1);
    assert_int_equal(arpc(f)->tx_replies, 1);
    /* The requester was learned (RFC 826: we are its target). */
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), 0);
    assert_memory_equal(mac, MAC_PEER, 6);

    /* A request for someone else: no answer, not learned. */
    static const uint8_t mac3[6] = {2, 0, 0, 0, 0, 3};
    inject_arp(f, OASIS_ARP_REQUEST, mac3, OASIS_IPV4(10, 0, 0, 3), zero, OASIS_IPV4(10, 0, 0, 4),
               BCAST);
    assert_int_equal(f->cap.n, 1);
    assert_int_equal(arpc(f)->rx_not_for_us, 1);
    assert_int_equal(oasis_arp_lookup(f->s, OASIS_IPV4(10, 0, 0, 3), mac), OASIS_ENOENT);

    /* ...and a known sender claiming a new MAC is suspect: PEER stays. */
    inject_arp(f, OASIS_ARP_REQUEST, mac3, PEER, zero, OASIS_IPV4(10, 0, 0, 4), BCAST);
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), 0);
    assert_memory_equal(mac, MAC_PEER, 6);
    assert_int_equal(arpc(f)->mac_change_suspect, 1);

    /* Malformed: too short. */
    uint8_t junk[OASIS_ETH_HLEN + 10];
    memset(junk, 0, sizeof junk);
    oasis_eth_emit(junk, BCAST, MAC_PEER, OASIS_ETHERTYPE_ARP);
    oasis_stack_input(f->s, junk, sizeof junk);
    assert_int_equal(arpc(f)->rx_malformed, 1);
    fx_free(f);
}

static void inject_reply_from_peer(fx *f)
{
    inject_arp(f, OASIS_ARP_REPLY, MAC_PEER, PEER, MAC_US, US, MAC_US);
}

static void test_resolution_delivers_queue_in_order(void **state)
{
    (void)state;
    fx *f = fx_new(no_gratuitous);
    oasis_eth_hdr eh;

    for (uint8_t i = 0; i < 5; i++)
        assert_int_equal(oasis_udp_send4(f->s, 1000, PEER, 2000, &i, 1), 0);
    /* One request only; the datagrams wait. */
    assert_int_equal(f->cap.n, 1);
    oasis_arp_pkt p = cap_arp(f, 0, &eh);
    assert_int_equal(p.op, OASIS_ARP_REQUEST);
    assert_int_equal(p.tpa, PEER);
    assert_memory_equal(eh.dst, BCAST, 6);
    assert_int_equal(f->s->arp.queued, 5);

    inject_reply_from_peer(f);
    assert_int_equal(f->cap.n, 6);
    for (size_t i = 0; i < 5; i++) {
        oasis_ipv4_hdr ip;
        oasis_udp_hdr u;
        assert_int_equal(oasis_eth_parse(f->cap.frame[1 + i], f->cap.len[1 + i], &eh), 0);
        assert_memory_equal(eh.dst, MAC_PEER, 6);
        assert_int_equal(eh.type, OASIS_ETHERTYPE_IPV4);
        assert_int_equal(oasis_ipv4_parse(eh.payload, eh.payload_len, &ip), 0);
        assert_int_equal(oasis_udp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &u), 0);
        assert_int_equal(u.payload_len, 1);
        assert_int_equal(u.payload[0], i);
    }
    assert_int_equal(f->s->arp.queued, 0);
    assert_int_equal(arpc(f)->queue_drops, 0);

    /* Resolved now: the next datagram goes out at once. */
    uint8_t x = 9;
    assert_int_equal(oasis_udp_send4(f->s, 1000, PEER, 2000, &x, 1), 0);
    assert_int_equal(f->cap.n, 7);
    fx_free(f);
}

static void test_retries_backoff_then_failure(void **state)
{
    (void)state;
    fx *f = fx_new(no_gratuitous);
    uint64_t t0 = oasis_stack_now(f->s), s1 = OASIS_NS_PER_SEC;
    uint8_t mac[6], x = 1;

    assert_int_equal(oasis_udp_send4(f->s, 1000, PEER, 2000, &x, 1), 0);
    assert_int_equal(oasis_udp_send4(f->s, 1000, PEER, 2000, &x, 1), 0);
    assert_int_equal(f->cap.n, 1);
    advance_to(f, t0 + s1 - 1);
    assert_int_equal(f->cap.n, 1);
    advance_to(f, t0 + s1); /* second request after 1 s */
    assert_int_equal(f->cap.n, 2);
    advance_to(f, t0 + 3 * s1 - 1);
    assert_int_equal(f->cap.n, 2);
    advance_to(f, t0 + 3 * s1); /* third after 2 s more */
    assert_int_equal(f->cap.n, 3);
    assert_int_equal(arpc(f)->tx_requests, 3);
    advance_to(f, t0 + 7 * s1 - 1);
    assert_int_equal(arpc(f)->resolve_failed, 0);
    advance_to(f, t0 + 7 * s1); /* waited 4 s for the last: give up */
    assert_int_equal(arpc(f)->resolve_failed, 1);
    assert_int_equal(arpc(f)->queue_drops, 2);
    assert_int_equal(f->s->arp.queued, 0);
    assert_int_equal(arpc(f)->cache_entries, 0);
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), OASIS_ENOENT);
    advance_to(f, t0 + 100 * s1);
    assert_int_equal(f->cap.n, 3);
    /* A late reply does not resurrect the entry (we were not asked). */
    fx_free(f);
}

/* A poll that comes late does not move the backoff: the requests after
 * it and the give-up stay at 1 + 2 + 4 s from the first, re-armed from
 * the instant each retry was due. A poll so late that the next retry is
 * past too sends one request, not two at once (RFC 1122 2.3.2.1: "The
 * recommended maximum rate is 1 per second per destination"): the next
 * one follows a second later, and the give-up still comes at 7 s. */
static void test_late_poll_keeps_retry_schedule(void **state)
{
    (void)state;
    fx *f = fx_new(no_gratuitous);
    uint64_t t0 = oasis_stack_now(f->s), ms = OASIS_NS_PER_MS;
    uint8_t x = 1;

    assert_int_equal(oasis_udp_send4(f->s, 1000, PEER, 2000, &x, 1), 0);
    assert_int_equal(arpc(f)->tx_requests, 1);
    advance_to(f, t0 + 1500 * ms); /* the 1 s retry, half a second late */
    assert_int_equal(arpc(f)->tx_requests, 2);
    advance_to(f, t0 + 3000 * ms - 1);
    assert_int_equal(arpc(f)->tx_requests, 2);
    advance_to(f, t0 + 3000 * ms); /* 1 + 2 s, as scheduled */
    assert_int_equal(arpc(f)->tx_requests, 3);
    advance_to(f, t0 + 7000 * ms - 1);
    assert_int_equal(arpc(f)->resolve_failed, 0);
    advance_to(f, t0 + 7000 * ms); /* 1 + 2 + 4 s */
    assert_int_equal(arpc(f)->resolve_failed, 1);
    assert_int_equal(arpc(f)->tx_requests, 3);

    /* Late past the second retry as well: one request now, the third a
     * second later, the give-up on time. */
    uint32_t p3 = OASIS_IPV4(10, 0, 0, 3);
    uint64_t t1 = oasis_stack_now(f->s);
    assert_int_equal(oasis_udp_send4(f->s, 1000, p3, 2000, &x, 1), 0);
    assert_int_equal(arpc(f)->tx_requests, 4);
    advance_to(f, t1 + 3500 * ms);
    assert_int_equal(arpc(f)->tx_requests, 5);
    advance_to(f, t1 + 4500 * ms - 1);
    assert_int_equal(arpc(f)->tx_requests, 5);
    advance_to(f, t1 + 4500 * ms);
    assert_int_equal(arpc(f)->tx_requests, 6);
    advance_to(f, t1 + 7000 * ms - 1);
    assert_int_equal(arpc(f)->resolve_failed, 1);
    advance_to(f, t1 + 7000 * ms);
    assert_int_equal(arpc(f)->resolve_failed, 2);
    assert_int_equal(arpc(f)->tx_requests, 6);
    fx_free(f);
}

/* An entry still carrying traffic at the end of its lifetime is kept and
 * asked again by unicast; answered, it lives on; unanswered after
 * cfg.arp_retries probes, it goes. Meanwhile datagrams still leave at once
 * for the known MAC instead of waiting behind a broadcast request. */
static void test_cache_refreshed_in_use(void **state)
{
    (void)state;
    static const uint8_t zero[6] = {0};
    fx *f = fx_new(no_gratuitous);
    uint64_t t0 = oasis_stack_now(f->s), ttl = 60 * OASIS_NS_PER_SEC, s1 = OASIS_NS_PER_SEC;
    uint8_t mac[6], x = 1;
    oasis_eth_hdr eh;

    inject_arp(f, OASIS_ARP_REQUEST, MAC_PEER, PEER, zero, US, BCAST);
    advance_to(f, t0 + ttl / 2);
    assert_int_equal(oasis_udp_send4(f->s, 1000, PEER, 2000, &x, 1), 0);
    size_t n = f->cap.n;
    advance_to(f, t0 + ttl);
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), 0);
    assert_int_equal(arpc(f)->cache_refreshes, 1);
    assert_int_equal(arpc(f)->cache_expired, 0);
    assert_int_equal(f->cap.n, n + 1);
    oasis_arp_pkt p = cap_arp(f, n, &eh);
    assert_memory_equal(eh.dst, MAC_PEER, 6); /* unicast, not broadcast */
    assert_int_equal(p.op, OASIS_ARP_REQUEST);
    assert_int_equal(p.tpa, PEER);

    /* Traffic meanwhile goes straight out to the known MAC. */
    assert_int_equal(oasis_udp_send4(f->s, 1000, PEER, 2000, &x, 1), 0);
    assert_int_equal(f->cap.n, n + 2);
    assert_int_equal(oasis_eth_parse(f->cap.frame[n + 1], f->cap.len[n + 1], &eh), 0);
    assert_int_equal(eh.type, OASIS_ETHERTYPE_IPV4);
    assert_memory_equal(eh.dst, MAC_PEER, 6);

    /* Answered: resolved for another lifetime. */
    inject_arp(f, OASIS_ARP_REPLY, MAC_PEER, PEER, MAC_US, US, MAC_US);
    uint64_t t1 = oasis_stack_now(f->s);
    advance_to(f, t1 + ttl - 1);
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), 0);
    assert_int_equal(arpc(f)->resolve_failed, 0);

    /* In use again at the next end of life, and this time nobody answers. */
    assert_int_equal(oasis_udp_send4(f->s, 1000, PEER, 2000, &x, 1), 0);
    advance_to(f, t1 + ttl);
    assert_int_equal(arpc(f)->cache_refreshes, 2);
    advance_to(f, t1 + ttl + s1);
    advance_to(f, t1 + ttl + 2 * s1);
    advance_to(f, t1 + ttl + 3 * s1 - 1);
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), 0);
    advance_to(f, t1 + ttl + 3 * s1);
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), OASIS_ENOENT);
    assert_int_equal(arpc(f)->tx_requests, 4); /* one answered probe, then arp_retries (3) unanswered */
    assert_int_equal(arpc(f)->resolve_failed, 1);
    assert_int_equal(arpc(f)->cache_expired, 0);
    fx_free(f);
}

static void test_cache_expires(void **state)
{
    (void)state;
    static const uint8_t zero[6] = {0};
    fx *f = fx_new(no_gratuitous);
    uint64_t t0 = oasis_stack_now(f->s), ttl = 60 * OASIS_NS_PER_SEC;
    uint8_t mac[6];

    inject_arp(f, OASIS_ARP_REQUEST, MAC_PEER, PEER, zero, US, BCAST);
    advance_to(f, t0 + ttl - 1);
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), 0);
    advance_to(f, t0 + ttl);
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), OASIS_ENOENT);
    assert_int_equal(arpc(f)->cache_expired, 1);
    assert_int_equal(arpc(f)->cache_entries, 0);

    /* A refresh halfway restarts the lifetime. */
    uint64_t t1 = oasis_stack_now(f->s);
    inject_arp(f, OASIS_ARP_REQUEST, MAC_PEER, PEER, zero, US, BCAST);
    advance_to(f, t1 + ttl / 2);
    inject_arp(f, OASIS_ARP_REPLY, MAC_PEER, PEER, MAC_US, US, MAC_US);
    advance_to(f, t1 + ttl);
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), 0);
    advance_to(f, t1 + ttl / 2 + ttl);
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), OASIS_ENOENT);
    fx_free(f);
}

static void small_cache(oasis_stack_config *c)
{
    c->arp_gratuitous = 0;
    c->arp_cache_size = 8;
    c->prefix_len = 16;
}

static void test_cache_size_bound(void **state)
{
    (void)state;
    static const uint8_t zero[6] = {0};
    fx *f = fx_new(small_cache);
    uint8_t mac[6];

    for (int i = 0; i < 1000; i++) {
        uint8_t m[6] = {2, 1, 0, 0, (uint8_t)(i >> 8), (uint8_t)i};
        inject_arp(f, OASIS_ARP_REQUEST, m, OASIS_IPV4(10, 0, 10 + i / 250, 1 + i % 250), zero, US,
                   BCAST);
        assert_true(arpc(f)->cache_entries <= 8);
    }
    assert_int_equal(arpc(f)->cache_entries, 8);
    assert_int_equal(arpc(f)->cache_evictions, 992);
    assert_int_equal(arpc(f)->tx_replies, 1000);
    /* The most recent senders stay; the oldest went. */
    assert_int_equal(oasis_arp_lookup(f->s, OASIS_IPV4(10, 0, 13, 250), mac), 0);
    assert_int_equal(oasis_arp_lookup(f->s, OASIS_IPV4(10, 0, 10, 1), mac), OASIS_ENOENT);
    fx_free(f);
}

static void two_entries(oasis_stack_config *c)
{
    c->arp_gratuitous = 0;
    c->arp_cache_size = 2;
}

typedef struct pingres {
    int calls, err;
} pingres;

/* Set while the test is inside a call into the stack that sends. */
static int in_send;

static void on_ping_outside(oasis_stack *s, int err, uint16_t seq, uint64_t rtt, void *ud)
{
    (void)s;
    (void)seq;
    (void)rtt;
    assert_false(in_send); /* never from inside the send that evicted */
    pingres *r = ud;
    r->calls++;
    r->err = err;
}

static int ping_in_send(fx *f, uint32_t dst, uint16_t seq, pingres *r)
{
    in_send = 1;
    int err = oasis_ping(f->s, dst, 1, seq, 8, 60 * OASIS_NS_PER_SEC, on_ping_outside, r);
    in_send = 0;
    return err;
}

/* A ping waiting on a resolution that fails gets OASIS_EUNREACH (ARP gave
 * up after its requests). An unresolved entry evicted for a new resolution
 * at the size bound has failed as well, its queued request dropped (RFC
 * 1122 2.3.2.2 saves it only until the address is resolved): its ping
 * fails on the stack's next step at the same instant, not at its own 60 s
 * timeout, and not inside the send that evicted it. */
static void test_evicted_unresolved_fails_ping_at_once(void **state)
{
    (void)state;
    fx *f = fx_new(two_entries);
    uint64_t t0 = oasis_stack_now(f->s), ms = OASIS_NS_PER_MS;
    uint32_t p3 = OASIS_IPV4(10, 0, 0, 3), p4 = OASIS_IPV4(10, 0, 0, 4);
    pingres r1 = {0}, r2 = {0}, r3 = {0};

    assert_int_equal(ping_in_send(f, PEER, 1, &r1), 0);
    advance_to(f, t0 + 500 * ms);
    assert_int_equal(ping_in_send(f, p3, 2, &r2), 0);
    advance_to(f, t0 + 1000 * ms);
    assert_int_equal(arpc(f)->cache_entries, 2);
    assert_int_equal(f->s->arp.queued, 2);
    assert_int_equal(arpc(f)->cache_evictions, 0);
    /* The cache is full: a third resolution evicts the least recently
     * used entry, PEER's, still unresolved, inside this send. */
    assert_int_equal(ping_in_send(f, p4, 3, &r3), 0);
    assert_int_equal(arpc(f)->cache_evictions, 1);
    assert_int_equal(f->s->arp.queued, 2);
    assert_int_equal(r1.calls, 0);
    uint64_t t = oasis_stack_now(f->s);
    advance_to(f, t); /* one step, no time passes */
    assert_int_equal(r1.calls, 1);
    assert_int_equal(r1.err, OASIS_EUNREACH);
    assert_int_equal(oasis_stack_now(f->s), t);
    assert_int_equal(r2.calls, 0); /* the other resolutions go on */
    assert_int_equal(r3.calls, 0);

    /* p3's resolution, not evicted, fails the normal way: three requests,
     * 1 + 2 + 4 s, then OASIS_EUNREACH, 7 s after it began. */
    static const uint64_t steps[] = {1500, 2000, 3500, 4000};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        advance_to(f, t0 + steps[i] * ms);
    assert_int_equal(arpc(f)->tx_requests, 2 + 3 + 3); /* PEER, p3, p4 */
    advance_to(f, t0 + 500 * ms + 7000 * ms - 1);
    assert_int_equal(r2.calls, 0);
    advance_to(f, t0 + 500 * ms + 7000 * ms);
    assert_int_equal(r2.calls, 1);
    assert_int_equal(r2.err, OASIS_EUNREACH);
    assert_int_equal(arpc(f)->resolve_failed, 1);
    assert_int_equal(r3.calls, 0);
    advance_to(f, t + 7000 * ms);
    assert_int_equal(r3.calls, 1);
    assert_int_equal(r3.err, OASIS_EUNREACH);
    assert_int_equal(r1.calls, 1);
    fx_free(f);
}

/* A sweep: every ping that ends starts one to the next address, until
 * budget runs out. */
typedef struct sweep {
    fx *f;
    int calls, budget;
    uint32_t next;
} sweep;

static void on_sweep_ping(oasis_stack *s, int err, uint16_t seq, uint64_t rtt, void *ud)
{
    (void)seq, (void)rtt;
    sweep *w = ud;
    if (err == OASIS_ECANCELED) /* the last one, at teardown */
        return;
    w->calls++;
    assert_int_equal(err, OASIS_EUNREACH);
    if (w->budget-- > 0)
        assert_int_equal(oasis_ping(s, w->next++, 1, 1, 8, 60 * OASIS_NS_PER_SEC, on_sweep_ping, w), 0);
}

/* Such a sweep over a full cache: each new ping evicts the other
 * unresolved entry, whose ping fails and starts another. One poll fails
 * only what was marked when it began; the rest fail from later steps,
 * 1 ns apart, so no poll runs for ever and the clock moves on. */
static void test_evicting_sweep_yields_each_poll(void **state)
{
    (void)state;
    fx *f = fx_new(two_entries);
    sweep w = {.f = f, .budget = 50, .next = OASIS_IPV4(10, 0, 0, 100)};
    assert_int_equal(oasis_ping(f->s, OASIS_IPV4(10, 0, 0, 3), 1, 1, 8, 60 * OASIS_NS_PER_SEC,
                                on_sweep_ping, &w), 0);
    assert_int_equal(oasis_ping(f->s, OASIS_IPV4(10, 0, 0, 4), 1, 1, 8, 60 * OASIS_NS_PER_SEC,
                                on_sweep_ping, &w), 0);
    /* A third address evicts 10.0.0.3's entry. */
    assert_int_equal(oasis_ping(f->s, OASIS_IPV4(10, 0, 0, 5), 1, 1, 8, 60 * OASIS_NS_PER_SEC,
                                on_sweep_ping, &w), 0);
    uint64_t t = oasis_stack_now(f->s);
    advance_to(f, t);
    assert_int_equal(w.calls, 1);
    advance_to(f, t + 1);
    assert_int_equal(w.calls, 2);
    for (int i = 2; i < 60 && w.budget >= 0; i++)
        advance_to(f, t + (uint64_t)i);
    assert_int_equal(w.calls, 51); /* the budget's pings, one per step */
    assert_true(arpc(f)->cache_evictions >= 50);
    fx_free(f);
}

/* UDP errors heard on port 1000; an error callback that sends again to the
 * address it hears of, once (resend). */
typedef struct udperrs {
    int calls, err, resend;
    uint32_t dst[4];
} udperrs;

static int in_cb;

static void on_recv_none(oasis_stack *s, uint32_t src, uint16_t sp, uint32_t dst, uint16_t dp,
                         const uint8_t *d, size_t n, void *ud)
{
    (void)s, (void)src, (void)sp, (void)dst, (void)dp, (void)d, (void)n, (void)ud;
}

static void on_udp_err_outside(oasis_stack *s, const oasis_udp_error *e, void *ud)
{
    udperrs *r = ud;
    assert_false(in_send); /* never inside the send that evicted */
    assert_false(in_cb);   /* nor inside another callback */
    assert_true(r->calls < 4);
    r->dst[r->calls++] = oasis_ipaddr_to_v4(&e->dst);
    r->err = e->err;
    assert_int_equal(e->type, 3); /* destination unreachable, host */
    assert_int_equal(e->code, 1);
    assert_int_equal(oasis_ipaddr_to_v4(&e->reporter), US);
    if (r->resend) {
        uint8_t x = 2;
        r->resend = 0;
        in_cb = 1;
        assert_int_equal(oasis_udp_send4(s, 1000, oasis_ipaddr_to_v4(&e->dst), 2000, &x, 1), 0);
        in_cb = 0;
    }
}

static int udp_in_send(fx *f, uint32_t dst)
{
    uint8_t x = 1;
    in_send = 1;
    int err = oasis_udp_send4(f->s, 1000, dst, 2000, &x, 1);
    in_send = 0;
    return err;
}

/* An unresolved entry evicted at the size bound takes its queued datagrams
 * with it; their transports are told as after a failed resolution (RFC
 * 4861 7.2.2 for ND; for ARP what Linux says, host unreachable): the UDP
 * error callback runs from the stack's next step at the same instant, not
 * inside the send that evicted the entry. Until then the datagram still
 * counts against cfg.arp_queue_len. A callback that sends again to the
 * same address starts a new resolution, which completes normally; the
 * entry that one evicts in turn is told on a later step, not inside the
 * callback. */
static void test_evicted_unresolved_tells_udp(void **state)
{
    (void)state;
    fx *f = fx_new(two_entries);
    uint64_t t0 = oasis_stack_now(f->s), ms = OASIS_NS_PER_MS;
    uint32_t p3 = OASIS_IPV4(10, 0, 0, 3), p4 = OASIS_IPV4(10, 0, 0, 4);
    udperrs r = {.resend = 1};
    assert_int_equal(oasis_udp_bind4(f->s, 1000, on_recv_none, &r), 0);
    assert_int_equal(oasis_udp_set_error_cb(f->s, 1000, on_udp_err_outside), 0);

    assert_int_equal(udp_in_send(f, PEER), 0);
    advance_to(f, t0 + 500 * ms);
    assert_int_equal(udp_in_send(f, p3), 0);
    advance_to(f, t0 + 1000 * ms);
    assert_int_equal(f->s->arp.queued, 2);
    assert_int_equal(udp_in_send(f, p4), 0); /* evicts PEER's entry */
    assert_int_equal(arpc(f)->cache_evictions, 1);
    assert_int_equal(arpc(f)->queue_drops, 1);
    assert_int_equal(r.calls, 0);
    assert_int_equal(f->s->arp.queued, 3); /* PEER's still counted */
    uint64_t t = oasis_stack_now(f->s);
    f->cap.n = 0;
    advance_to(f, t); /* one step, no time passes */
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.dst[0], PEER);
    assert_int_equal(r.err, OASIS_EHOSTUNREACH);
    /* The callback sent to PEER again: a new entry and a new request,
     * which evicted p3's entry, told one step later (1 ns on). */
    assert_int_equal(arpc(f)->cache_evictions, 2);
    assert_int_equal(f->cap.n, 1);
    oasis_eth_hdr eh;
    assert_int_equal(cap_arp(f, 0, &eh).tpa, PEER);
    assert_int_equal(f->s->arp.queued, 3); /* p4's, PEER's new one, p3's */
    advance_to(f, t + 1);
    assert_int_equal(r.calls, 2);
    assert_int_equal(r.dst[1], p3);
    assert_int_equal(f->s->arp.queued, 2);
    /* PEER answers: the datagram sent from the callback goes out. */
    inject_reply_from_peer(f);
    assert_int_equal(f->cap.n, 2);
    assert_int_equal(oasis_eth_parse(f->cap.frame[1], f->cap.len[1], &eh), 0);
    assert_int_equal(eh.type, OASIS_ETHERTYPE_IPV4);
    assert_memory_equal(eh.dst, MAC_PEER, 6);
    assert_int_equal(f->s->arp.queued, 1);
    /* p4's resolution, not evicted, fails the normal way after 7 s. */
    advance_to(f, t + 1000 * ms);
    advance_to(f, t + 3000 * ms);
    advance_to(f, t + 7000 * ms - 1);
    assert_int_equal(r.calls, 2);
    advance_to(f, t + 7000 * ms);
    assert_int_equal(r.calls, 3);
    assert_int_equal(r.dst[2], p4);
    assert_int_equal(r.err, OASIS_EHOSTUNREACH);
    assert_int_equal(f->s->arp.queued, 0);
    fx_free(f);
}

static void two_entries_short_queue(oasis_stack_config *c)
{
    two_entries(c);
    c->arp_queue_len = 2;
}

/* The datagrams of an evicted entry count against cfg.arp_queue_len until
 * they are told; a destroy before that frees them without telling. */
static void test_evicted_queue_stays_bounded(void **state)
{
    (void)state;
    fx *f = fx_new(two_entries_short_queue);
    uint32_t p3 = OASIS_IPV4(10, 0, 0, 3), p4 = OASIS_IPV4(10, 0, 0, 4);
    udperrs r = {0};
    assert_int_equal(oasis_udp_bind4(f->s, 1000, on_recv_none, &r), 0);
    assert_int_equal(oasis_udp_set_error_cb(f->s, 1000, on_udp_err_outside), 0);
    uint32_t p5 = OASIS_IPV4(10, 0, 0, 5);
    assert_int_equal(udp_in_send(f, PEER), 0);
    assert_int_equal(udp_in_send(f, p3), 0);
    /* PEER's evicted, still held; p4's first datagram takes the reserve
     * (arp_cache_size / 2 = 1 beyond arp_queue_len = 2) */
    assert_int_equal(udp_in_send(f, p4), 0);
    assert_int_equal(f->s->arp.queued, 3);
    /* p3's evicted and held too: the reserve is spent, p5's first waits not */
    assert_int_equal(udp_in_send(f, p5), OASIS_EAGAIN);
    assert_int_equal(f->s->arp.queued, 3);
    assert_int_equal(arpc(f)->queue_drops, 3); /* PEER's, p3's, p5's */
    advance_to(f, oasis_stack_now(f->s));
    assert_int_equal(r.calls, 2);
    assert_int_equal(r.dst[0], PEER);
    assert_int_equal(r.dst[1], p3);
    assert_int_equal(f->s->arp.queued, 1);
    assert_int_equal(udp_in_send(f, p5), 0); /* room again */
    /* p4's evicted and held, and still held at destroy with PEER's: freed,
     * nobody told. */
    assert_int_equal(udp_in_send(f, PEER), 0);
    assert_int_equal(arpc(f)->cache_evictions, 3); /* PEER, p3, p4 */
    assert_int_equal(f->s->arp.queued, 3);
    fx_free(f);
    assert_int_equal(r.calls, 2);
}

static void short_queue(oasis_stack_config *c)
{
    c->arp_gratuitous = 0;
    c->arp_queue_len = 4;
}

static void test_queue_bound(void **state)
{
    (void)state;
    fx *f = fx_new(short_queue);
    uint8_t x = 0;
    for (int i = 0; i < 4; i++)
        assert_int_equal(oasis_udp_send4(f->s, 1000, PEER, 2000, &x, 1), 0);
    assert_int_equal(oasis_udp_send4(f->s, 1000, PEER, 2000, &x, 1), OASIS_EAGAIN);
    /* RFC 1122 2.3.2.2: another unresolved neighbour still keeps its first
     * (beyond arp_queue_len, within half the cache), not its second. */
    assert_int_equal(oasis_udp_send4(f->s, 1000, OASIS_IPV4(10, 0, 0, 3), 2000, &x, 1), 0);
    assert_int_equal(oasis_udp_send4(f->s, 1000, OASIS_IPV4(10, 0, 0, 3), 2000, &x, 1),
                     OASIS_EAGAIN);
    assert_int_equal(arpc(f)->queue_drops, 2);
    assert_int_equal(f->s->arp.queued, 5);
    inject_reply_from_peer(f);
    assert_int_equal(f->s->arp.queued, 1);
    assert_int_equal(oasis_stack_counters(f->s)->link.tx_frames, 2 + 4); /* 2 requests, 4 datagrams */
    fx_free(f);
}

static void test_broadcast_without_arp(void **state)
{
    (void)state;
    fx *f = fx_new(no_gratuitous);
    oasis_eth_hdr eh;
    oasis_ipv4_hdr ip;
    uint8_t x = 0;

    assert_int_equal(oasis_udp_send4(f->s, 1000, 0xffffffffu, 2000, &x, 1), 0);
    assert_int_equal(oasis_udp_send4(f->s, 1000, OASIS_IPV4(10, 0, 0, 255), 2000, &x, 1), 0);
    assert_int_equal(f->cap.n, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(oasis_eth_parse(f->cap.frame[i], f->cap.len[i], &eh), 0);
        assert_int_equal(eh.type, OASIS_ETHERTYPE_IPV4);
        assert_memory_equal(eh.dst, BCAST, 6);
        assert_int_equal(oasis_ipv4_parse(eh.payload, eh.payload_len, &ip), 0);
    }
    assert_int_equal(arpc(f)->tx_requests, 0);
    fx_free(f);
}

/* Two stacks on the wire resolve each other and exchange datagrams. */
static int got;
static void on_recv(oasis_stack *s, uint32_t src, uint16_t sp, uint32_t dst, uint16_t dp,
                    const uint8_t *d, size_t n, void *ud)
{
    (void)s, (void)src, (void)sp, (void)dst, (void)dp, (void)d, (void)n, (void)ud;
    got++;
}

static void on_connect(oasis_stack *s, oasis_flow *fl, int err, void *ud)
{
    (void)s, (void)fl, (void)err, (void)ud;
}

/* How many captured frames are TCP SYNs. */
static int count_syns(const fx *f)
{
    int n = 0;
    for (size_t i = 0; i < f->cap.n; i++) {
        oasis_eth_hdr eh;
        oasis_ipv4_hdr ip;
        if (oasis_eth_parse(f->cap.frame[i], f->cap.len[i], &eh) == 0 &&
            eh.type == OASIS_ETHERTYPE_IPV4 && oasis_ipv4_parse(eh.payload, eh.payload_len, &ip) == 0 &&
            ip.proto == OASIS_IPPROTO_TCP && ip.payload_len >= 20 && (ip.payload[13] & 0x02))
            n++;
    }
    return n;
}

/* Issue 11 item 27: a SYN and its retransmission both waiting for ARP go
 * out as one SYN once the neighbour answers. */
static void test_queue_keeps_latest_copy_of_segment(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    f->cap.n = 0;
    uint64_t t0 = oasis_clock_now(f->clock);
    assert_int_equal(oasis_tcp_connect4(f->s, PEER, 80, NULL, on_connect, NULL), 0);
    advance_to(f, t0 + 1500 * OASIS_NS_PER_MS); /* SYN RTO (1 s) fired */
    assert_true(oasis_stack_counters(f->s)->tcp.retrans_segs >= 1);
    assert_int_equal(count_syns(f), 0);
    assert_int_equal(arpc(f)->queue_superseded, 1);
    inject_arp(f, OASIS_ARP_REPLY, MAC_PEER, PEER, MAC_US, US, MAC_US);
    assert_int_equal(count_syns(f), 1);
    fx_free(f);
}


/* Like inject_arp, with an Ethernet source that may differ from sha. */
static void inject_arp_from(fx *f, const uint8_t eth_src[6], uint16_t op, const uint8_t sha[6],
                            uint32_t spa, const uint8_t tha[6], uint32_t tpa,
                            const uint8_t eth_dst[6])
{
    test_inject_arp(f->s, eth_src, eth_dst, op, sha, spa, tha, tpa);
}

static const uint8_t MAC_EVIL[6] = {2, 0, 0, 0, 0, 0x66};

/* Item 7 (a): sha must be the frame's source. */
static void test_sha_must_match_eth_source(void **state)
{
    (void)state;
    static const uint8_t zero[6] = {0};
    fx *f = fx_new(no_gratuitous);
    uint8_t mac[6];
    inject_arp_from(f, MAC_EVIL, OASIS_ARP_REQUEST, MAC_PEER, PEER, zero, US, BCAST);
    assert_int_equal(f->cap.n, 0); /* not answered */
    assert_int_equal(arpc(f)->rx_sha_mismatch, 1);
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), OASIS_ENOENT);
    fx_free(f);
}

/* A sender whose hardware address is a group one (broadcast here, as the
 * frame's source too) gets no reply, which would reach every host, and no
 * entry: counted as a bad sender. */
static void test_group_sender_ignored(void **state)
{
    (void)state;
    static const uint8_t zero[6] = {0};
    static const uint8_t mcast[6] = {0x01, 0, 0x5e, 0, 0, 1};
    fx *f = fx_new(no_gratuitous);
    uint8_t mac[6];
    inject_arp_from(f, BCAST, OASIS_ARP_REQUEST, BCAST, PEER, zero, US, BCAST);
    inject_arp_from(f, mcast, OASIS_ARP_REQUEST, mcast, PEER, zero, US, BCAST);
    inject_arp_from(f, mcast, OASIS_ARP_REPLY, mcast, PEER, zero, US, BCAST);
    assert_int_equal(f->cap.n, 0);
    assert_int_equal(arpc(f)->rx_bad_sender, 3);
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), OASIS_ENOENT);
    /* the same request from an individual address is answered */
    inject_arp_from(f, MAC_PEER, OASIS_ARP_REQUEST, MAC_PEER, PEER, zero, US, BCAST);
    assert_int_equal(f->cap.n, 1);
    fx_free(f);
}

/* Item 7 (b): no entry from an unsolicited reply, a gratuitous request or a
 * martian sender; a request aimed at us and a reply to our request do. */
static void test_entries_only_when_solicited(void **state)
{
    (void)state;
    static const uint8_t zero[6] = {0};
    fx *f = fx_new(no_gratuitous);
    uint8_t mac[6], x = 1;
    inject_reply_from_peer(f); /* nobody asked */
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), OASIS_ENOENT);
    assert_int_equal(arpc(f)->rx_unsolicited, 1);
    inject_arp(f, OASIS_ARP_REQUEST, MAC_PEER, PEER, zero, PEER, BCAST); /* gratuitous */
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), OASIS_ENOENT);
    /* martian senders aimed at us: answered, never cached */
    inject_arp(f, OASIS_ARP_REQUEST, MAC_PEER, OASIS_IPV4(10, 0, 0, 0), zero, US, BCAST);
    inject_arp(f, OASIS_ARP_REQUEST, MAC_PEER, OASIS_IPV4(127, 0, 0, 1), zero, US, BCAST);
    assert_int_equal(oasis_arp_lookup(f->s, OASIS_IPV4(10, 0, 0, 0), mac), OASIS_ENOENT);
    assert_int_equal(oasis_arp_lookup(f->s, OASIS_IPV4(127, 0, 0, 1), mac), OASIS_ENOENT);
    assert_int_equal(arpc(f)->rx_bad_sender, 2);
    assert_int_equal(arpc(f)->cache_entries, 0);
    /* our request answered: learned */
    assert_int_equal(oasis_udp_send4(f->s, 1000, PEER, 2000, &x, 1), 0);
    inject_reply_from_peer(f);
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), 0);
    assert_memory_equal(mac, MAC_PEER, 6);
    fx_free(f);
}

/* Item 7 (c): a table full of forged senders does not push out the
 * neighbour we are sending through. */
static void test_flood_keeps_entry_in_use(void **state)
{
    (void)state;
    static const uint8_t zero[6] = {0};
    fx *f = fx_new(small_cache);
    uint8_t mac[6], x = 1;
    assert_int_equal(oasis_udp_send4(f->s, 1000, PEER, 2000, &x, 1), 0);
    inject_reply_from_peer(f);
    assert_int_equal(oasis_udp_send4(f->s, 1000, PEER, 2000, &x, 1), 0); /* in use */
    for (int i = 0; i < 50000; i++) {
        uint8_t m[6] = {2, 1, 0, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
        inject_arp(f, OASIS_ARP_REQUEST, m, OASIS_IPV4(10, 0, 10 + i / 250 % 200, 1 + i % 250),
                   zero, US, BCAST);
        f->cap.n = 0;
    }
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), 0);
    assert_memory_equal(mac, MAC_PEER, 6);
    assert_true(arpc(f)->cache_entries <= 8);
    fx_free(f);
}

/* Item 7 (d): a live neighbour's MAC changes only once the old MAC stops
 * answering our unicast probes. */
static void test_mac_change_needs_confirmation(void **state)
{
    (void)state;
    fx *f = fx_new(no_gratuitous);
    uint64_t t0 = oasis_stack_now(f->s), s1 = OASIS_NS_PER_SEC;
    uint8_t mac[6], x = 1;
    oasis_eth_hdr eh;
    assert_int_equal(oasis_udp_send4(f->s, 1000, PEER, 2000, &x, 1), 0);
    inject_reply_from_peer(f);
    f->cap.n = 0;
    /* forged reply claiming PEER */
    inject_arp(f, OASIS_ARP_REPLY, MAC_EVIL, PEER, MAC_US, US, MAC_US);
    assert_int_equal(arpc(f)->mac_change_suspect, 1);
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), 0);
    assert_memory_equal(mac, MAC_PEER, 6);
    oasis_arp_pkt p = cap_arp(f, 0, &eh); /* unicast probe to the old MAC */
    assert_memory_equal(eh.dst, MAC_PEER, 6);
    assert_int_equal(p.op, OASIS_ARP_REQUEST);
    assert_int_equal(p.tpa, PEER);
    /* traffic keeps going to the old MAC */
    assert_int_equal(oasis_udp_send4(f->s, 1000, PEER, 2000, &x, 1), 0);
    assert_int_equal(oasis_eth_parse(f->cap.frame[1], f->cap.len[1], &eh), 0);
    assert_memory_equal(eh.dst, MAC_PEER, 6);
    /* the old MAC answers: the claim is dropped for good */
    inject_reply_from_peer(f);
    advance_to(f, t0 + 30 * s1);
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), 0);
    assert_memory_equal(mac, MAC_PEER, 6);
    assert_int_equal(arpc(f)->mac_changes, 0);
    /* again, and this time the old MAC is gone: switch after the probes */
    uint64_t t1 = oasis_stack_now(f->s);
    inject_arp(f, OASIS_ARP_REPLY, MAC_EVIL, PEER, MAC_US, US, MAC_US);
    for (uint64_t k = 1; k <= 20; k++)
        advance_to(f, t1 + k * s1);
    assert_int_equal(arpc(f)->mac_changes, 1);
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), 0);
    assert_memory_equal(mac, MAC_EVIL, 6);
    fx_free(f);
}

/* RFC 1122 2.3.2.1: "A mechanism to prevent ARP flooding (repeatedly
 * sending an ARP Request for the same IP address, at a high rate) MUST be
 * included. The recommended maximum rate is 1 per second per
 * destination." Claims of another MAC for a live neighbour, each settled
 * by the old MAC's answer, come faster than that: the unicast probes they
 * draw go at most one a second per neighbour, and a change still needs
 * the old MAC silent. */
static void test_mac_claims_do_not_flood_probes(void **state)
{
    (void)state;
    fx *f = fx_new(no_gratuitous);
    uint64_t t0 = oasis_stack_now(f->s), ms = OASIS_NS_PER_SEC / 1000;
    uint8_t mac[6], x = 1;
    oasis_eth_hdr eh;
    assert_int_equal(oasis_udp_send4(f->s, 1000, PEER, 2000, &x, 1), 0);
    inject_reply_from_peer(f);
    f->cap.n = 0;
    /* 100 claims in a second, each answered by the old MAC at once. */
    for (uint64_t i = 0; i < 100; i++) {
        advance_to(f, t0 + i * 10 * ms);
        inject_arp(f, OASIS_ARP_REPLY, MAC_EVIL, PEER, MAC_US, US, MAC_US);
        inject_reply_from_peer(f);
    }
    size_t probes = 0;
    for (size_t i = 0; i < f->cap.n; i++) {
        oasis_arp_pkt p = cap_arp(f, i, &eh);
        if (p.op == OASIS_ARP_REQUEST && p.tpa == PEER)
            probes++;
    }
    assert_true(probes >= 1);
    assert_true(probes <= 2); /* (one at 0 s, perhaps one at 1 s) */
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), 0);
    assert_memory_equal(mac, MAC_PEER, 6);
    assert_int_equal(arpc(f)->mac_changes, 0);
    fx_free(f);
}

/* Item 7 (e): RFC 5227 2.4 (c): a conflict is counted and defended once
 * per DEFEND_INTERVAL (10 s). */
static void test_defends_own_address(void **state)
{
    (void)state;
    static const uint8_t zero[6] = {0};
    fx *f = fx_new(no_gratuitous);
    uint64_t t0 = oasis_stack_now(f->s), s1 = OASIS_NS_PER_SEC;
    oasis_eth_hdr eh;
    inject_arp(f, OASIS_ARP_REQUEST, MAC_EVIL, US, zero, US, BCAST);
    assert_int_equal(arpc(f)->addr_conflicts, 1);
    assert_int_equal(f->cap.n, 1);
    oasis_arp_pkt p = cap_arp(f, 0, &eh);
    assert_memory_equal(eh.dst, BCAST, 6);
    assert_memory_equal(p.sha, MAC_US, 6);
    assert_int_equal(p.spa, US);
    assert_int_equal(p.tpa, US);
    advance_to(f, t0 + 10 * s1 - 1);
    inject_arp(f, OASIS_ARP_REPLY, MAC_EVIL, US, MAC_US, US, MAC_US);
    assert_int_equal(arpc(f)->addr_conflicts, 2);
    assert_int_equal(f->cap.n, 1); /* within the interval: not defended */
    advance_to(f, t0 + 10 * s1);
    inject_arp(f, OASIS_ARP_REPLY, MAC_EVIL, US, MAC_US, US, MAC_US);
    assert_int_equal(f->cap.n, 2);
    assert_int_equal(arpc(f)->tx_defends, 2);
    fx_free(f);
}

/* Sends an ARP frame from MAC_PEER to us after mutate() had its 28 bytes
 * (a request from PEER for our address) and len of them. */
static void inject_raw_arp(fx *f, void (*mutate)(uint8_t *arp), size_t len)
{
    static const uint8_t zero[6] = {0};
    uint8_t buf[OASIS_ETH_HLEN + OASIS_ARP_LEN];
    oasis_arp_pkt p;
    memset(&p, 0, sizeof p);
    p.op = OASIS_ARP_REQUEST;
    memcpy(p.sha, MAC_PEER, 6);
    p.spa = PEER;
    memcpy(p.tha, zero, 6);
    p.tpa = US;
    oasis_eth_emit(buf, MAC_US, MAC_PEER, OASIS_ETHERTYPE_ARP);
    oasis_arp_emit(buf + OASIS_ETH_HLEN, &p);
    if (mutate)
        mutate(buf + OASIS_ETH_HLEN);
    oasis_stack_input(f->s, buf, OASIS_ETH_HLEN + len);
}

static void htype_802(uint8_t *a) { a[1] = 6; }
static void ptype_ipv6(uint8_t *a) { a[2] = 0x86, a[3] = 0xdd; }
static void hlen_8(uint8_t *a) { a[4] = 8; }
static void plen_16(uint8_t *a) { a[5] = 16; }
static void op_rarp(uint8_t *a) { a[7] = 3; }
static void op_zero(uint8_t *a) { a[7] = 0; }

/* RFC 826: a packet whose hardware type, protocol type or address lengths
 * are not Ethernet's and IPv4's, or whose opcode is neither request nor
 * reply, is not ours to read: counted, no answer, no entry. A request for
 * an address not ours is not answered (no proxy ARP); an RFC 5227 probe
 * (sender 0.0.0.0) for ours is, to its sender, and makes no entry. */
static void test_request_validation(void **state)
{
    (void)state;
    fx *f = fx_new(no_gratuitous);
    uint8_t mac[6];
    static void (*const bad[])(uint8_t *) = {htype_802, ptype_ipv6, hlen_8, plen_16, op_rarp,
                                              op_zero};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        inject_raw_arp(f, bad[i], OASIS_ARP_LEN);
        assert_int_equal(arpc(f)->rx_malformed, i + 1);
    }
    inject_raw_arp(f, NULL, OASIS_ARP_LEN - 1); /* truncated */
    assert_int_equal(arpc(f)->rx_malformed, 7);
    assert_int_equal(f->cap.n, 0);
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), OASIS_ENOENT);

    /* Not our address: no reply, no entry. */
    static const uint8_t zero[6] = {0};
    inject_arp(f, OASIS_ARP_REQUEST, MAC_PEER, PEER, zero, OASIS_IPV4(10, 0, 0, 77), BCAST);
    assert_int_equal(f->cap.n, 0);
    assert_int_equal(arpc(f)->rx_not_for_us, 1);
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), OASIS_ENOENT);

    /* A probe for our address: answered to the prober, nothing learnt. */
    inject_arp(f, OASIS_ARP_REQUEST, MAC_PEER, 0, zero, US, BCAST);
    assert_int_equal(f->cap.n, 1);
    oasis_eth_hdr eh;
    oasis_arp_pkt p = cap_arp(f, 0, &eh);
    assert_int_equal(p.op, OASIS_ARP_REPLY);
    assert_memory_equal(eh.dst, MAC_PEER, 6);
    assert_int_equal(p.spa, US);
    assert_memory_equal(p.sha, MAC_US, 6);
    assert_int_equal(arpc(f)->rx_bad_sender, 0);
    assert_int_equal(arpc(f)->cache_entries, 0);

    /* The request unchanged is answered, and its sender learnt. */
    inject_raw_arp(f, NULL, OASIS_ARP_LEN);
    assert_int_equal(f->cap.n, 2);
    assert_int_equal(oasis_arp_lookup(f->s, PEER, mac), 0);
    fx_free(f);
}

static void test_two_stacks_resolve(void **state)
{
    (void)state;
    test_net n;
    uint8_t mac[6];
    test_net_init(&n, NULL, NULL);
    got = 0;
    assert_int_equal(oasis_udp_bind4(n.b, 7, on_recv, NULL), 0);
    assert_int_equal(oasis_udp_send4(n.a, 1000, TEST_ADDR_B, 7, "x", 1), 0);
    assert_int_equal(test_net_run_until(&n, &got, OASIS_NS_PER_SEC), 0);
    assert_int_equal(oasis_arp_lookup(n.a, TEST_ADDR_B, mac), 0);
    assert_memory_equal(mac, MAC_PEER, 6);
    assert_int_equal(oasis_arp_lookup(n.b, TEST_ADDR_A, mac), 0);
    assert_memory_equal(mac, MAC_US, 6);
    test_net_fini(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gratuitous_on_start),
        cmocka_unit_test(test_gratuitous_announce_num),
        cmocka_unit_test(test_gratuitous_disabled),
        cmocka_unit_test(test_answers_request_and_learns),
        cmocka_unit_test(test_resolution_delivers_queue_in_order),
        cmocka_unit_test(test_retries_backoff_then_failure),
        cmocka_unit_test(test_late_poll_keeps_retry_schedule),
        cmocka_unit_test(test_cache_expires),
        cmocka_unit_test(test_cache_refreshed_in_use),
        cmocka_unit_test(test_cache_size_bound),
        cmocka_unit_test(test_evicted_unresolved_fails_ping_at_once),
        cmocka_unit_test(test_evicting_sweep_yields_each_poll),
        cmocka_unit_test(test_evicted_unresolved_tells_udp),
        cmocka_unit_test(test_evicted_queue_stays_bounded),
        cmocka_unit_test(test_queue_bound),
        cmocka_unit_test(test_broadcast_without_arp),
        cmocka_unit_test(test_queue_keeps_latest_copy_of_segment),
        cmocka_unit_test(test_request_validation),
        cmocka_unit_test(test_two_stacks_resolve),
        cmocka_unit_test(test_sha_must_match_eth_source),
        cmocka_unit_test(test_group_sender_ignored),
        cmocka_unit_test(test_entries_only_when_solicited),
        cmocka_unit_test(test_flood_keeps_entry_in_use),
        cmocka_unit_test(test_mac_change_needs_confirmation),
        cmocka_unit_test(test_mac_claims_do_not_flood_probes),
        cmocka_unit_test(test_defends_own_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
