/* IPv6 stack fuzz target: Neighbour Discovery, DAD, SLAAC, MLD, ICMPv6 and
 * reassembly through the whole input path.
 *
 * Per input, a fresh stack with IPv6 on (link-local address fe80::/64 and a
 * static 2001:db8::1/64, no DAD delay: dad_transmits 0) on a virtual clock
 * with a capturing link. The input is a list of records
 *   [tick][kind][len:16 BE][len bytes of body]
 * tick advances the clock (tick^3 * 4 us, up to ~66 s) before the record;
 * the stack's timers run after it. kind & 3:
 *   0 a raw IPv6 packet (Ethernet header added, to our MAC or to the
 *     multicast MAC of its destination)
 *   1 an ICMPv6 message from fe80::22 (kind & 4: from ::) to our link-local
 *     address (kind & 8: to all-nodes; kind & 16: to our solicited-node
 *     group), hop limit 255 (kind & 32: 64), checksum fixed
 *   2 a fragment of an ICMPv6 datagram to our link-local address: body[0]
 *     ID, body[1] offset / 8, body[2] & 1 more; the rest is data
 *   3 the application: body[0] & 3 picks ping fe80::22, ping a global
 *     address, add a static address from body[1..], join (body[1] even)
 *     or leave the group body[2..17]
 * Checked: no crash or sanitizer report; the neighbour cache, its queue and
 * the reassembly memory stay within their bounds; the stack's count of
 * entries in DELAY (which TCP's ACK path reads) is the cache's; every ping completes
 * exactly once; destroying the stack frees every byte. */
#include "fuzz.h"
#include "countalloc.h"

#include <string.h>

#include "core/bytes.h"
#include "core/stack_impl.h"
#include "ipv6/ipv6.h"
#include "ipv6/icmp6_wire.h"
#include "ipv6/ipv6_wire.h"
#include "link/eth_wire.h"
#include "oasis/error.h"
#include "oasis/oasis.h"

#define MAX_PINGS 64

typedef struct fz {
    oasis_clock *clock;
    oasis_stack *s;
    oasis_link link;
    test_counting mem; /* the stack's allocator (tests/support): leaks show without LSan */
    int pings_started, pings_done;
    int done[MAX_PINGS];
    uint16_t seq;
} fz;

static const uint8_t stack_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x22};
static const oasis_in6 PEER = {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x22}};

static int fz_send(oasis_link *l, const uint8_t *f, size_t len)
{
    (void)l;
    FUZZ_CHECK(len >= OASIS_ETH_HLEN && len <= OASIS_ETH_HLEN + 1500);
    return 0;
}

static void on_ping(oasis_stack *s, int err, uint16_t seq, uint64_t rtt, void *ud)
{
    fz *z = ud;
    (void)s;
    (void)err;
    (void)rtt;
    FUZZ_CHECK(seq < MAX_PINGS && !z->done[seq]);
    z->done[seq] = 1;
    z->pings_done++;
}

static void settle(fz *z)
{
    uint64_t now = oasis_clock_now(z->clock);
    for (int i = 0; i < 10000 && oasis_stack_next_deadline(z->s) <= now; i++)
        oasis_stack_poll(z->s);
}

static oasis_in6 our_ll(const fz *z)
{
    oasis_ipv6_addr_info a[8];
    size_t n = oasis_ipv6_addrs(z->s, a, 8);
    oasis_in6 r = {{0xfe, 0x80}};
    for (size_t i = 0; i < n && i < 8; i++)
        if (a[i].origin == OASIS_IPV6_LINK_LOCAL)
            memcpy(r.b, a[i].addr.b, 16);
    return r;
}

static void send_ip6(fz *z, const uint8_t *pkt, size_t len)
{
    uint8_t f[OASIS_ETH_HLEN + 1500];
    if (len > 1500)
        len = 1500;
    oasis_in6 dst = {{0}};
    if (len >= 40)
        memcpy(dst.b, pkt + 24, 16);
    if (oasis_in6_is_multicast(&dst))
        oasis_in6_multicast_mac(&dst, f);
    else
        memcpy(f, stack_mac, 6);
    memcpy(f + 6, peer_mac, 6);
    oasis_put16(f + 12, OASIS_ETHERTYPE_IPV6);
    memcpy(f + OASIS_ETH_HLEN, pkt, len);
    oasis_stack_input(z->s, f, OASIS_ETH_HLEN + len);
}

static void build(uint8_t *pkt, const oasis_in6 *src, const oasis_in6 *dst, uint8_t hop,
                  uint8_t nh, size_t plen)
{
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.payload_len = (uint16_t)plen;
    h.next = nh;
    h.hop_limit = hop;
    h.src = *src;
    h.dst = *dst;
    oasis_ipv6_emit(pkt, &h);
}

static void record(fz *z, uint8_t kind, const uint8_t *b, size_t n)
{
    uint8_t pkt[1500];
    static const oasis_in6 unspec;
    oasis_in6 ll = our_ll(z);
    switch (kind & 3) {
    case 0:
        send_ip6(z, b, n);
        break;
    case 1: {
        if (n > sizeof pkt - 40)
            n = sizeof pkt - 40;
        if (n < 8)
            return;
        oasis_in6 dst = ll;
        if (kind & 8)
            dst = oasis_in6_all_nodes;
        else if (kind & 16)
            dst = oasis_in6_solicited_node(&ll);
        const oasis_in6 *src = (kind & 4) ? &unspec : &PEER;
        build(pkt, src, &dst, (kind & 32) ? 64 : 255, OASIS_NH_ICMPV6, n);
        memcpy(pkt + 40, b, n);
        oasis_icmp6_finish(pkt + 40, n, b[0], b[1], oasis_get32(b + 4), src, &dst);
        send_ip6(z, pkt, 40 + n);
        break;
    }
    case 2: {
        if (n < 3)
            return;
        size_t d = n - 3;
        if (d > sizeof pkt - 48)
            d = sizeof pkt - 48;
        build(pkt, &PEER, &ll, 64, OASIS_NH_FRAGMENT, 8 + d);
        oasis_ipv6_frag f = {OASIS_NH_ICMPV6, (uint16_t)(b[1] * 8u), b[2] & 1, b[0]};
        oasis_ipv6_frag_emit(pkt + 40, &f);
        memcpy(pkt + 48, b + 3, d);
        send_ip6(z, pkt, 48 + d);
        break;
    }
    default: {
        uint8_t op = n ? b[0] & 3 : 0;
        if (op == 3 && n >= 18) { /* join (b[1] even) or leave a group */
            oasis_ipaddr a = oasis_ipaddr_v6(b + 2);
            int err = (b[1] & 1) ? oasis_ipv6_leave(z->s, &a) : oasis_ipv6_join(z->s, &a);
            FUZZ_CHECK(err == 0 || err == OASIS_EINVAL || err == OASIS_ENOENT ||
                       err == OASIS_ENOMEM);
            break;
        }
        if (op == 2 && n >= 17) {
            oasis_ipaddr a = oasis_ipaddr_v6(b + 1);
            int err = oasis_ipv6_add_addr(z->s, &a, 64);
            FUZZ_CHECK(err == 0 || err == OASIS_EINVAL || err == OASIS_EADDRINUSE ||
                       err == OASIS_ENOMEM);
            break;
        }
        if (z->seq >= MAX_PINGS)
            break;
        oasis_ipaddr dst = oasis_ipaddr_v6(PEER.b);
        if (op == 1)
            oasis_ipaddr_parse("2001:db8:5::9", &dst);
        size_t size = n > 1 ? b[1] * 16u : 8;
        if (oasis_ping_addr(z->s, &dst, 1, z->seq, size, 3 * OASIS_NS_PER_SEC, on_ping, z) == 0)
            z->pings_started++;
        z->seq++;
        break;
    }
    }
}

/* nd_delay is kept by the state changes (nd.c); recounted here. */
static void check_nd_delay(oasis_stack *s)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->ip6->nneigh; i++)
        n += s->ip6->neigh[i].state == NEIGH_DELAY;
    FUZZ_CHECK(s->nd_delay == n);
}

/* The RA DNS lists (RFC 8106) stay bounded and hold what the header
 * promises: unicast servers, host-name text, live entries only. */
static void check_ra_dns(oasis_stack *s)
{
    oasis_ipv6_dns_server d[OASIS_IPV6_MAX_DNS_SERVERS];
    oasis_ipv6_dns_domain dom[OASIS_IPV6_MAX_DNS_DOMAINS];
    size_t k = oasis_ipv6_dns_servers(s, d, OASIS_IPV6_MAX_DNS_SERVERS);
    size_t m = oasis_ipv6_dns_domains(s, dom, OASIS_IPV6_MAX_DNS_DOMAINS);
    uint64_t now = oasis_stack_now(s);
    FUZZ_CHECK(k <= OASIS_IPV6_MAX_DNS_SERVERS && m <= OASIS_IPV6_MAX_DNS_DOMAINS);
    FUZZ_CHECK(oasis_stack_counters(s)->nd.dns_servers == k);
    for (size_t i = 0; i < k; i++) {
        FUZZ_CHECK(oasis_ipaddr_is_v6(&d[i].addr) && d[i].addr.b[0] != 0xff);
        FUZZ_CHECK(!oasis_ipaddr_is_unspecified(&d[i].addr) && d[i].expires_ns > now);
    }
    for (size_t i = 0; i < m; i++) {
        size_t len = strnlen(dom[i].name, sizeof dom[i].name);
        FUZZ_CHECK(len > 0 && len <= OASIS_IPV6_DNS_NAME_MAX && dom[i].expires_ns > now);
        for (size_t j = 0; j < len; j++) {
            char c = dom[i].name[j];
            FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.');
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz z;
    memset(&z, 0, sizeof z);
    z.clock = oasis_clock_new_virtual(1000 * OASIS_NS_PER_SEC);
    FUZZ_CHECK(z.clock != NULL);
    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg);
    cfg.seed = 1;
    memcpy(cfg.mac, stack_mac, 6);
    cfg.addr = OASIS_IPV4(10, 0, 0, 1);
    cfg.clock = z.clock;
    cfg.alloc = test_count_alloc;
    cfg.alloc_ud = &z.mem;
    cfg.ipv6 = 1;
    cfg.dad_transmits = 0;
    cfg.nd_cache_size = 4;
    cfg.nd_queue_len = 8;
    cfg.reasm_max_bytes = 16384;
    cfg.reasm_max_datagrams = 4;
    cfg.arp_gratuitous = 0;
    FUZZ_CHECK(oasis_stack_create(&cfg, &z.s) == 0);
    oasis_ipaddr g;
    oasis_ipaddr_parse("2001:db8::1", &g);
    FUZZ_CHECK(oasis_ipv6_add_addr(z.s, &g, 64) == 0);
    z.link = (oasis_link){.send = fz_send, .mtu = 1500, .data = &z};
    oasis_stack_set_link(z.s, &z.link);
    settle(&z);

    fuzz_in in = {data, size};
    while (in.left >= 4) {
        uint8_t tick = fuzz_u8(&in), kind = fuzz_u8(&in);
        size_t len = fuzz_u16(&in);
        if (len > in.left)
            len = in.left;
        uint64_t t = (uint64_t)tick * tick * tick * 4000;
        oasis_clock_advance(z.clock, t);
        settle(&z);
        record(&z, kind, in.p, len);
        in.p += len;
        in.left -= len;
        settle(&z);
        const oasis_counters *c = oasis_stack_counters(z.s);
        FUZZ_CHECK(c->nd.cache_entries <= 4);
        FUZZ_CHECK(c->ipv6.reasm_bytes <= 16384);
        FUZZ_CHECK(oasis_ipv6_addrs(z.s, NULL, 0) <= 8);
        check_ra_dns(z.s);
        check_nd_delay(z.s);
        FUZZ_CHECK(oasis_nd_consistent(z.s));
    }
    oasis_stack_destroy(z.s);
    FUZZ_CHECK(z.pings_done == z.pings_started); /* the rest: ECANCELED at destroy */
    FUZZ_CHECK(z.mem.live == 0);
    oasis_clock_free(z.clock);
    return 0;
}
