/* nd-flood: what a flood of Neighbour Solicitations from forged on-link
 * sources costs one stack, per NS, at a given neighbour cache size.
 *
 *   nd-flood CACHE COUNT     e.g. nd-flood 4096 200000
 *
 * Each NS comes from a new source with a Source Link-Layer Address option,
 * which RFC 4861 7.2.3 would have the stack learn, and is answered with an
 * NA; 2048 arrive per virtual second, so NUD's timers run as in a real
 * flood. Sixteen real neighbours are sent to and confirm reachability each
 * second. The figure is CPU time per NS (the link discards what the stack
 * sends); for instructions, run it under callgrind at two COUNTs and take
 * the difference (as bench/cgrt.sh does for round trips). The cache's
 * entries at the end and its counters are printed beside it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "ipv6/icmp6_wire.h"
#include "ipv6/ipv6_wire.h"
#include "ipv6/nd_wire.h"
#include "link/eth_wire.h"
#include "oasis/oasis.h"

#define SEC OASIS_NS_PER_SEC
#define PER_SECOND 2048
#define REAL 16

/* What the stack sends: counted, and the solicitations it sends for a
 * real neighbour's address (NUD's unicast probes, or a resolution anew
 * after its entry was pushed out) counted apart. */
typedef struct out_count {
    uint64_t frames, real_ns;
} out_count;

static int sink(oasis_link *l, const uint8_t *f, size_t n)
{
    out_count *o = l->data;
    o->frames++;
    if (n >= 78 && f[12] == 0x86 && f[13] == 0xdd && f[20] == OASIS_NH_ICMPV6 &&
        f[54] == OASIS_ICMP6_NS && f[62 + 11] == 0x77)
        o->real_ns++;
    return 0;
}

static void step(oasis_stack *s, oasis_clock *c, uint64_t ns)
{
    uint64_t end = oasis_clock_now(c) + ns;
    for (;;) {
        uint64_t d = oasis_stack_next_deadline(s);
        if (d > end)
            break;
        if (d > oasis_clock_now(c))
            oasis_clock_set(c, d);
        oasis_stack_poll(s);
    }
    oasis_clock_set(c, end);
    oasis_stack_poll(s);
}

/* An ICMPv6 ND message from src (MAC smac) to our address, into s. */
static void inject(oasis_stack *s, const oasis_in6 *src, const uint8_t smac[6],
                   const oasis_in6 *dst, const uint8_t *msg, size_t n)
{
    uint8_t f[128];
    oasis_eth_emit(f, oasis_stack_mac(s), smac, OASIS_ETHERTYPE_IPV6);
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.payload_len = (uint16_t)n;
    h.next = OASIS_NH_ICMPV6;
    h.hop_limit = 255;
    h.src = *src;
    h.dst = *dst;
    oasis_ipv6_emit(f + 14, &h);
    memcpy(f + 54, msg, n);
    oasis_icmp6_finish(f + 54, n, msg[0], msg[1], oasis_get32(msg + 4), src, dst);
    oasis_stack_input(s, f, 54 + n);
}

static void addr(oasis_in6 *a, uint8_t tag, uint32_t k)
{
    static const uint8_t base[16] = {0x20, 0x01, 0x0d, 0xb8};
    memcpy(a->b, base, 16);
    a->b[11] = tag;
    a->b[12] = (uint8_t)(k >> 24);
    a->b[13] = (uint8_t)(k >> 16);
    a->b[14] = (uint8_t)(k >> 8);
    a->b[15] = (uint8_t)k;
}

int main(int argc, char **argv)
{
    uint32_t cache = (uint32_t)bench_arg_double(argc, argv, 1, 4096);
    uint32_t count = (uint32_t)bench_arg_double(argc, argv, 2, 100000);
    oasis_clock *clock = oasis_clock_new_virtual(1000 * SEC);
    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg);
    cfg.clock = clock;
    cfg.seed = 1;
    cfg.ipv6 = 1;
    cfg.dad_transmits = 0;
    cfg.arp_gratuitous = 0;
    cfg.nd_cache_size = cache;
    oasis_stack *s;
    int err = oasis_stack_create(&cfg, &s);
    if (err) {
        fprintf(stderr, "nd-flood: stack: %s\n", oasis_strerror(err));
        return 1;
    }
    out_count out = {0, 0};
    oasis_link link = {.send = sink, .mtu = 1500, .data = &out};
    oasis_stack_set_link(s, &link);
    oasis_in6 me;
    addr(&me, 0, 1);
    oasis_ipaddr mine = oasis_ipaddr_v6(me.b);
    if (oasis_ipv6_add_addr(s, &mine, 64) != 0) {
        fprintf(stderr, "nd-flood: address\n");
        return 1;
    }
    step(s, clock, 3 * SEC);

    uint8_t msg[32];
    oasis_in6 real[REAL];
    for (uint32_t i = 0; i < REAL; i++) {
        addr(&real[i], 0x77, i);
        uint8_t mac[6] = {2, 0x77, 0, 0, 0, (uint8_t)i};
        oasis_ipaddr a = oasis_ipaddr_v6(real[i].b);
        oasis_udp_send(s, 1000, &a, 2000, "x", 1); /* starts its resolution */
        size_t n = oasis_nd_emit_na(msg, &real[i], OASIS_ND_NA_SOLICITED | OASIS_ND_NA_OVERRIDE, mac);
        inject(s, &real[i], mac, &me, msg, n);
    }

    uint64_t real_ns0 = out.real_ns;
    bench_span sp;
    bench_span_start(&sp);
    for (uint32_t k = 0; k < count; k++) {
        oasis_in6 src;
        addr(&src, 0x50, k);
        uint8_t mac[6] = {2, 0x50, (uint8_t)(k >> 24), (uint8_t)(k >> 16), (uint8_t)(k >> 8),
                          (uint8_t)k};
        size_t n = oasis_nd_emit_ns(msg, &me, mac);
        inject(s, &src, mac, &me, msg, n);
        if (k % PER_SECOND == PER_SECOND - 1) {
            step(s, clock, SEC);
            for (uint32_t i = 0; i < REAL; i++) {
                oasis_ipaddr a = oasis_ipaddr_v6(real[i].b);
                oasis_udp_send(s, 1000, &a, 2000, "x", 1);
                oasis_ipv6_confirm_reachable(s, &a);
            }
        }
    }
    bench_span_stop(&sp);

    const oasis_nd_counters *c = &oasis_stack_counters(s)->nd;
    char setup[64], note[192];
    snprintf(setup, sizeof setup, "NS from forged sources; cache %u", cache);
    snprintf(note, sizeof note,
             "%u NS; cache entries %" PRIu64 " evictions %" PRIu64 " no room %" PRIu64
             " NUD failed %" PRIu64 "; %" PRIu64 " frames out; %" PRIu64
             " NS for the 16 real neighbours",
             count, c->cache_entries, c->cache_evictions, c->cache_no_room, c->resolve_failed,
             out.frames, out.real_ns - real_ns0);
    char row[32];
    snprintf(row, sizeof row, "nd_flood_%u", cache);
    bench_result(row, "oasis", setup, count ? 1e9 * sp.cpu / count : 0, "ns CPU per NS", note);
    oasis_stack_destroy(s);
    oasis_clock_free(clock);
    return 0;
}
