/* frag-flood: what a flood of first fragments that never complete costs one
 * stack, per fragment, when reassembly may hold many datagrams.
 *
 *   frag-flood DATAGRAMS COUNT [6]     e.g. frag-flood 4096 200000
 *
 * Each fragment (64 bytes of UDP payload, More Fragments set) starts a new
 * datagram: a new identification from one of 256 sources. The stack holds
 * at most DATAGRAMS of them (cfg.reasm_max_datagrams; cfg.reasm_max_bytes
 * is sized so the count, not the bytes, is the bound), so past that each
 * fragment evicts the oldest. Every 1024 fragments, one datagram is sent
 * whole in two fragments, and the count of those delivered is printed: the
 * flood must not stop real fragmented traffic. The figure is CPU time per
 * fragment, on a virtual clock (the link discards what the stack sends);
 * "6" floods over IPv6 instead.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "core/bytes.h"
#include "ip/ipv4_wire.h"
#include "ipv6/ipv6_wire.h"
#include "link/eth_wire.h"
#include "oasis/oasis.h"

#define SEC OASIS_NS_PER_SEC
#define PAYLOAD 64
#define REAL_EVERY 1024
#define MY4 OASIS_IPV4(10, 9, 0, 1)

static int sink(oasis_link *l, const uint8_t *f, size_t n)
{
    (void)l, (void)f, (void)n;
    return 0;
}

static void on_udp(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport, const oasis_ipaddr *dst,
                   uint16_t dport, const uint8_t *data, size_t len, void *ud)
{
    (void)s, (void)src, (void)sport, (void)dst, (void)dport, (void)data;
    if (len == 2 * PAYLOAD - 8)
        (*(uint64_t *)ud)++;
}

static const uint8_t peer_mac[6] = {2, 0, 0, 0, 0, 0x99};

/* One IPv4 fragment from 10.9.k.2: PAYLOAD bytes at byte offset off. */
static void frag4(oasis_stack *s, uint8_t k, uint16_t id, uint16_t off, int mf)
{
    uint8_t f[14 + 20 + PAYLOAD];
    oasis_eth_emit(f, oasis_stack_mac(s), peer_mac, OASIS_ETHERTYPE_IPV4);
    oasis_ipv4_hdr h;
    memset(&h, 0, sizeof h);
    h.hdr_len = 20;
    h.total_len = 20 + PAYLOAD;
    h.id = id;
    h.mf = (uint8_t)mf;
    h.frag_off = off;
    h.ttl = 64;
    h.proto = 17;
    h.src = OASIS_IPV4(10, 9, k, 2);
    h.dst = MY4;
    oasis_ipv4_emit(f + 14, &h);
    memset(f + 34, 0, PAYLOAD);
    if (off == 0) { /* the UDP header: port 7000, length of both halves, no checksum */
        oasis_put16(f + 34, 7000);
        oasis_put16(f + 36, 7000);
        oasis_put16(f + 38, 2 * PAYLOAD);
    }
    oasis_stack_input(s, f, sizeof f);
}

/* The same over IPv6 from fe80::k:2 style sources (link-local, on-link). */
static void frag6(oasis_stack *s, const oasis_in6 *me, uint8_t k, uint32_t id, uint16_t off, int mf)
{
    uint8_t f[14 + 40 + 8 + PAYLOAD];
    oasis_eth_emit(f, oasis_stack_mac(s), peer_mac, OASIS_ETHERTYPE_IPV6);
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.payload_len = 8 + PAYLOAD;
    h.next = 44;
    h.hop_limit = 64;
    memcpy(h.src.b, me->b, 16);
    h.src.b[14] = k;
    h.src.b[15] = 2;
    h.dst = *me;
    oasis_ipv6_emit(f + 14, &h);
    uint8_t *fh = f + 54;
    fh[0] = 17;
    fh[1] = 0;
    oasis_put16(fh + 2, (uint16_t)(off | (mf ? 1 : 0)));
    oasis_put32(fh + 4, id);
    memset(fh + 8, 0, PAYLOAD);
    if (off == 0) { /* IPv6 UDP needs its checksum: the two halves are zeros past the header */
        uint8_t *u = fh + 8;
        oasis_put16(u, 7000);
        oasis_put16(u + 2, 7000);
        oasis_put16(u + 4, 2 * PAYLOAD);
        uint32_t sum = 0;
        for (int i = 0; i < 16; i += 2)
            sum += oasis_get16(h.src.b + i) + oasis_get16(h.dst.b + i);
        sum += 2 * PAYLOAD + 17 + 7000 + 7000 + 2 * PAYLOAD;
        while (sum >> 16)
            sum = (sum & 0xffff) + (sum >> 16);
        oasis_put16(u + 6, (uint16_t)~sum);
    }
    oasis_stack_input(s, f, sizeof f);
}

int main(int argc, char **argv)
{
    uint32_t dgs = (uint32_t)bench_arg_double(argc, argv, 1, 4096);
    uint32_t count = (uint32_t)bench_arg_double(argc, argv, 2, 100000);
    int v6 = argc > 3 && !strcmp(argv[3], "6");
    oasis_clock *clock = oasis_clock_new_virtual(1000 * SEC);
    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg);
    cfg.clock = clock;
    cfg.seed = 1;
    cfg.ipv6 = v6;
    cfg.dad_transmits = 0;
    cfg.arp_gratuitous = 0;
    cfg.reasm_max_datagrams = dgs;
    cfg.reasm_max_bytes = dgs * 512u > (1u << 20) ? dgs * 512u : (1u << 20);
    oasis_stack *s;
    int err = oasis_stack_create(&cfg, &s);
    if (err) {
        fprintf(stderr, "frag-flood: stack: %s\n", oasis_strerror(err));
        return 1;
    }
    oasis_link link = {.send = sink, .mtu = 1500, .data = NULL};
    oasis_stack_set_link(s, &link);
    oasis_in6 me;
    memset(&me, 0, sizeof me);
    if (v6) {
        oasis_ipaddr a;
        oasis_ipaddr_parse("2001:db8::1", &a);
        memcpy(me.b, a.b, 16);
        err = oasis_ipv6_add_addr(s, &a, 64);
    } else {
        err = oasis_stack_set_ipv4(s, MY4, 16, 0);
    }
    uint64_t got = 0;
    if (err || oasis_udp_bind(s, 7000, on_udp, &got) != 0) {
        fprintf(stderr, "frag-flood: set-up failed\n");
        return 1;
    }
    oasis_clock_set(clock, oasis_clock_now(clock) + SEC);
    oasis_stack_poll(s);

    uint32_t real = 0;
    bench_span sp;
    bench_span_start(&sp);
    for (uint32_t k = 0; k < count; k++) {
        uint8_t src = (uint8_t)(k % 251);
        if (v6)
            frag6(s, &me, src, 0x10000u + k, 0, 1);
        else
            frag4(s, src, (uint16_t)(k / 251), 0, 1);
        if (k % REAL_EVERY == REAL_EVERY - 1) { /* a real datagram, whole */
            uint32_t id = 0x80000000u + real++;
            if (v6) {
                frag6(s, &me, 252, id, 0, 1);
                frag6(s, &me, 252, id, PAYLOAD, 0);
            } else {
                frag4(s, 252, (uint16_t)id, 0, 1);
                frag4(s, 252, (uint16_t)id, PAYLOAD, 0);
            }
            oasis_clock_set(clock, oasis_clock_now(clock) + SEC / 1000);
            oasis_stack_poll(s);
        }
    }
    bench_span_stop(&sp);

    const oasis_counters *c = oasis_stack_counters(s);
    char row[32], setup[64], note[160];
    snprintf(row, sizeof row, "frag_flood%s_%u", v6 ? "6" : "", dgs);
    snprintf(setup, sizeof setup, "IPv%d first fragments; %u datagrams held at most", v6 ? 6 : 4,
             dgs);
    snprintf(note, sizeof note,
             "%u fragments; overflows %" PRIu64 "; %" PRIu64 " of %u real datagrams delivered",
             count, v6 ? c->ipv6.reasm_overflows : c->ip.reasm_overflows, got, real);
    bench_result(row, "oasis", setup, count ? 1e9 * sp.cpu / count : 0, "ns CPU per fragment",
                 note);
    oasis_stack_destroy(s);
    oasis_clock_free(clock);
    return 0;
}
