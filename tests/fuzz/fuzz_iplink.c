/* A stack on an IP link (OASIS_LINK_IP: a TUN device), fed packets with
 * oasis_stack_input_ip().
 *
 * Per input, a fresh transparent stack (cfg.transparent; 10.0.0.1, fd00::1)
 * on a virtual clock with an IP link that records what it is given, a TCP
 * listener (80) whose flows echo, a transparent listener of every port
 * (echo too), a UDP echo port (7) and a transparent UDP echo of every port
 * and address (answering from it), and an active open to 10.0.0.2:9000. The
 * input is a list of records [tick][flags][len:16 BE][len bytes]: tick
 * advances the clock (tick^2 * 1 ms) and oasis_stack_poll() runs after
 * the record. flags & 1: the record's IPv4 or IPv6 header and TCP, UDP or
 * ICMP checksums are fixed (IPv6 when the first byte has bit 0x20, total
 * or payload length, addresses to and from the stack, the destination
 * left as it is with flags & 2: a foreign one), so that half the inputs
 * get past the checksums; else the bytes go in as they are. flags & 4: the
 * link vouches for the checksum (CSUM_VALID); flags & 8: a TCP GSO frame
 * of gso_size flags (a GRO'd super-segment).
 *
 * Checked: no crash or sanitizer report; everything the stack hands the
 * link is an IPv4 or IPv6 packet (no Ethernet header, no ARP) whose length
 * field agrees with its size and which fits the MTU; destroying the stack
 * frees every byte. */
#include "fuzz.h"
#include "countalloc.h"
#include "testutil.h"

#include <string.h>

#include "core/bytes.h"
#include "core/checksum.h"
#include "ip/ipv4_wire.h"
#include "oasis/error.h"
#include "oasis/oasis.h"

#define STACK_IP OASIS_IPV4(10, 0, 0, 1)
#define PEER_IP OASIS_IPV4(10, 0, 0, 2)
#define MTU 1500

static const uint8_t stack6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t peer6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

static size_t sent;

static int link_send(oasis_link *l, const uint8_t *pkt, size_t len)
{
    (void)l;
    sent++;
    FUZZ_CHECK(len >= 20 && len <= MTU);
    unsigned v = pkt[0] >> 4;
    FUZZ_CHECK(v == 4 || v == 6);
    if (v == 4)
        FUZZ_CHECK(oasis_get16(pkt + 2) == len);
    else
        FUZZ_CHECK(len >= 40 && oasis_get16(pkt + 4) + 40u == len);
    return OASIS_OK;
}

static void echo_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    (void)ud;
    if (err) {
        oasis_tcp_release(f);
        return;
    }
    oasis_tcp_write(f, data, len, NULL, NULL);
    oasis_tcp_read(f, echo_read, NULL);
}

static void on_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    (void)s, (void)ud;
    oasis_tcp_read(f, echo_read, NULL);
}

static void on_connect(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    (void)s, (void)ud;
    if (!err)
        oasis_tcp_read(f, echo_read, NULL);
}

static void on_udp(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport, const oasis_ipaddr *dst,
                   uint16_t dport, const uint8_t *data, size_t len, void *ud)
{
    (void)dst, (void)dport, (void)ud;
    oasis_udp_send(s, 7, src, sport, data, len);
}

static void on_udp_any(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport,
                       const oasis_ipaddr *dst, uint16_t dport, const uint8_t *data, size_t len,
                       void *ud)
{
    (void)ud;
    oasis_udp_send_from(s, dst, dport, src, sport, data, len);
}

/* The transport checksum of an IPv4 (v6 0) or IPv6 packet, fixed. */
static void fix_l4(uint8_t *l4, size_t n, uint8_t proto, uint64_t pseudo)
{
    size_t at = proto == OASIS_IPPROTO_TCP ? 16 : proto == OASIS_IPPROTO_UDP ? 6 : 2;
    if (proto != OASIS_IPPROTO_TCP && proto != OASIS_IPPROTO_UDP && proto != OASIS_IPPROTO_ICMP &&
        proto != 58)
        return;
    if (n < at + 2)
        return;
    memset(l4 + at, 0, 2);
    uint64_t sum = oasis_csum_add(proto == OASIS_IPPROTO_ICMP ? 0 : pseudo, l4, n);
    uint16_t c = oasis_csum_fold(sum); /* (complemented: checksum.h) */
    if (proto == OASIS_IPPROTO_UDP && c == 0)
        c = 0xffff;
    memcpy(l4 + at, &c, 2);
}

static void fix(uint8_t *p, size_t n, int foreign)
{
    if (n && !(p[0] & 0x20)) { /* IPv4 (4 is 0100, 6 is 0110) */
        if (n < 20)
            return;
        p[0] = 0x45;
        oasis_put16(p + 2, (uint16_t)n);
        oasis_put16(p + 6, 0); /* no fragments */
        oasis_put32(p + 12, PEER_IP);
        if (!foreign)
            oasis_put32(p + 16, STACK_IP);
        memset(p + 10, 0, 2);
        uint16_t c = oasis_csum_fold(oasis_csum_add(0, p, 20));
        memcpy(p + 10, &c, 2);
        fix_l4(p + 20, n - 20, p[9],
               oasis_csum_pseudo(PEER_IP, oasis_get32(p + 16), p[9], (uint16_t)(n - 20)));
        return;
    }
    if (n < 40)
        return;
    p[0] = 0x60;
    oasis_put16(p + 4, (uint16_t)(n - 40));
    memcpy(p + 8, peer6, 16);
    if (!foreign)
        memcpy(p + 24, stack6, 16);
    uint8_t ph[40] = {0};
    memcpy(ph, peer6, 16);
    memcpy(ph + 16, p + 24, 16);
    oasis_put32(ph + 32, (uint32_t)(n - 40));
    ph[39] = p[6];
    fix_l4(p + 40, n - 40, p[6], oasis_csum_add(0, ph, sizeof ph));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    test_counting count = {0};
    oasis_clock *clock = oasis_clock_new_virtual(1);
    FUZZ_CHECK(clock != NULL);
    oasis_stack_config cfg;
    test_stack_config(&cfg, clock, 1);
    cfg.ipv6 = 1;
    cfg.transparent = 1;
    cfg.alloc = test_count_alloc;
    cfg.alloc_ud = &count;
    oasis_stack *s = NULL;
    FUZZ_CHECK(oasis_stack_create(&cfg, &s) == 0);
    oasis_link link = {.send = link_send, .mtu = MTU, .caps = OASIS_LINK_IP};
    oasis_stack_set_link(s, &link);
    oasis_ipaddr a6 = oasis_ipaddr_v6(stack6);
    FUZZ_CHECK(oasis_ipv6_add_addr(s, &a6, 64) == 0);
    FUZZ_CHECK(oasis_tcp_listen(s, 80, NULL, on_accept, NULL) == 0);
    oasis_listen_opts any = {.transparent = 1};
    FUZZ_CHECK(oasis_tcp_listen(s, 0, &any, on_accept, NULL) == 0);
    FUZZ_CHECK(oasis_udp_bind(s, 7, on_udp, NULL) == 0);
    FUZZ_CHECK(oasis_udp_bind_transparent(s, 0, on_udp_any, NULL) == 0);
    oasis_ipaddr peer = oasis_ipaddr_v4(PEER_IP);
    FUZZ_CHECK(oasis_tcp_connect(s, &peer, 9000, NULL, on_connect, NULL) == 0);
    oasis_stack_poll(s);

    static uint8_t pkt[65536];
    fuzz_in in = {data, size};
    while (in.left) {
        uint8_t tick = fuzz_u8(&in), flags = fuzz_u8(&in);
        size_t len = fuzz_u16(&in);
        if (len > in.left)
            len = in.left;
        memcpy(pkt, in.p, len);
        in.p += len;
        in.left -= len;
        oasis_clock_advance(clock, (uint64_t)tick * tick * OASIS_NS_PER_MS);
        if (flags & 1)
            fix(pkt, len, flags & 2);
        oasis_offload off = {0};
        if (flags & 4)
            off.flags = OASIS_OFFLOAD_CSUM_VALID;
        if (flags & 8) {
            off.gso_type = len && (pkt[0] & 0x20) ? OASIS_GSO_TCPV6 : OASIS_GSO_TCPV4;
            off.gso_size = flags ? flags : 1;
        }
        oasis_stack_input_ip_offload(s, pkt, len, (flags & 12) ? &off : NULL);
        oasis_stack_poll(s);
    }
    oasis_clock_advance(clock, 300 * OASIS_NS_PER_SEC);
    oasis_stack_poll(s);
    FUZZ_CHECK(oasis_stack_destroy(s) == 0);
    FUZZ_CHECK(count.live == 0);
    oasis_clock_free(clock);
    return 0;
}
