/* DHCP message parser and client. Input: one control byte, then a DHCP
 * message (the UDP payload).
 *   - The parser must accept or refuse it without reading out of bounds;
 *     what it accepts must hold its invariants, and reading every option
 *     code back must stay inside the message.
 *   - Control bit 0: the message is also handed to a client waiting in
 *     SELECTING (bit 1: REQUESTING, after an offer), with the client's xid
 *     and MAC patched in so it gets past the first checks; the client must
 *     stay in a valid state and the stack must still run its timers.
 *     Bit 2: the client asks for Rapid Commit (RFC 4039), so an ACK with
 *     option 80 in SELECTING reaches the lease code and the probe. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "dhcp/dhcp_wire.h"
#include "ip/ipv4_wire.h"
#include "link/eth_wire.h"
#include "oasis/dhcp.h"
#include "oasis/error.h"
#include "oasis/oasis.h"
#include "udp/udp_wire.h"

static uint8_t last_sent[1600];
static size_t last_len;

static int capture(oasis_link *l, const uint8_t *f, size_t n)
{
    (void)l;
    if (n <= sizeof last_sent) {
        memcpy(last_sent, f, n);
        last_len = n;
    }
    return 0;
}

static void check_msg(const uint8_t *p, size_t n)
{
    oasis_dhcp_msg m;
    int err = oasis_dhcp_parse(p, n, &m);
    FUZZ_CHECK(err == 0 || err == OASIS_ETRUNCATED || err == OASIS_EMALFORMED);
    if (err)
        return;
    FUZZ_CHECK(n >= OASIS_DHCP_OPTIONS_OFF);
    FUZZ_CHECK(m.msg_type <= OASIS_DHCPINFORM);
    FUZZ_CHECK(m.overload <= 3);
    FUZZ_CHECK(m.nrouters <= OASIS_DHCP_MAX_ROUTERS && m.ndns <= OASIS_DHCP_MAX_DNS_WIRE);
    FUZZ_CHECK(memchr(m.hostname, 0, sizeof m.hostname) != NULL);
    FUZZ_CHECK(!(m.have & OASIS_DHCP_HAVE_MTU) || m.mtu >= 68);
    uint8_t buf[64];
    for (int code = 1; code < 255; code++) {
        long l = oasis_dhcp_opt_get(&m, (uint8_t)code, buf, sizeof buf);
        FUZZ_CHECK(l >= -1 && (l < 0 || (size_t)l <= n));
    }
}

/* The xid of the last DHCP message the stack sent (0 if none). */
static uint32_t sent_xid(void)
{
    if (last_len < OASIS_ETH_HLEN + OASIS_IPV4_HLEN + OASIS_UDP_HLEN + 8)
        return 0;
    return oasis_get32(last_sent + OASIS_ETH_HLEN + OASIS_IPV4_HLEN + OASIS_UDP_HLEN + 4);
}

static void inject(oasis_stack *s, const uint8_t mac[6], const uint8_t *msg, size_t n)
{
    static uint8_t f[OASIS_ETH_HLEN + OASIS_IPV4_HLEN + OASIS_UDP_HLEN + 4096];
    static const uint8_t server_mac[6] = {2, 0, 0, 0, 0, 0xfe};
    uint32_t src = 0x0a0000fe, dst = 0x0a000032;
    if (n > 4096)
        n = 4096;
    uint8_t *u = f + OASIS_ETH_HLEN + OASIS_IPV4_HLEN;
    memcpy(u + OASIS_UDP_HLEN, msg, n);
    oasis_udp_emit(u, OASIS_UDP_HLEN + n, 67, 68, src, dst);
    oasis_ipv4_hdr ih;
    memset(&ih, 0, sizeof ih);
    ih.total_len = (uint16_t)(OASIS_IPV4_HLEN + OASIS_UDP_HLEN + n);
    ih.ttl = 64;
    ih.proto = OASIS_IPPROTO_UDP;
    ih.src = src;
    ih.dst = dst;
    oasis_ipv4_emit(f + OASIS_ETH_HLEN, &ih);
    oasis_eth_emit(f, mac, server_mac, OASIS_ETHERTYPE_IPV4);
    oasis_stack_input(s, f, OASIS_ETH_HLEN + OASIS_IPV4_HLEN + OASIS_UDP_HLEN + n);
}

static void run_client(uint8_t ctl, const uint8_t *p, size_t n)
{
    static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    oasis_clock *clock = oasis_clock_new_virtual(1000000000ull);
    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg);
    memcpy(cfg.mac, mac, 6);
    cfg.clock = clock;
    cfg.seed = 1;
    oasis_stack *s;
    if (!clock || oasis_stack_create(&cfg, &s) != OASIS_OK) {
        oasis_clock_free(clock);
        return;
    }
    oasis_link link;
    memset(&link, 0, sizeof link);
    link.send = capture;
    link.mtu = 1500;
    oasis_stack_set_link(s, &link);
    oasis_dhcp_config dc;
    oasis_dhcp_config_init(&dc);
    dc.start_delay_max_ns = 0;
    dc.rapid_commit = (ctl & 4) != 0;
    oasis_dhcp *d;
    if (oasis_dhcp_create(s, &dc, &d) == OASIS_OK) {
        last_len = 0;
        oasis_dhcp_start(d);
        oasis_stack_poll(s);
        uint8_t *m = malloc(n > OASIS_DHCP_OPTIONS_OFF ? n : OASIS_DHCP_OPTIONS_OFF);
        if (m) {
            memcpy(m, p, n);
            size_t len = n;
            if (len >= OASIS_DHCP_OPTIONS_OFF) {
                oasis_put32(m + 4, sent_xid());
                memcpy(m + 28, mac, 6);
            }
            if (ctl & 2) {
                /* An offer first: a well-formed one. */
                uint8_t o[300] = {2, 1, 6};
                oasis_put32(o + 4, sent_xid());
                oasis_put32(o + 16, 0x0a000032);
                memcpy(o + 28, mac, 6);
                o[236] = 99, o[237] = 130, o[238] = 83, o[239] = 99;
                uint8_t opts[] = {53, 1, 2, 54, 4, 10, 0, 0, 254, 255};
                memcpy(o + 240, opts, sizeof opts);
                inject(s, mac, o, sizeof o);
            }
            inject(s, mac, m, len);
            free(m);
        }
        /* Whatever came in, time still moves the client on. */
        for (int i = 0; i < 8; i++) {
            uint64_t next = oasis_stack_next_deadline(s);
            if (next == UINT64_MAX)
                break;
            oasis_clock_set(clock, next);
            oasis_stack_poll(s);
        }
        FUZZ_CHECK(oasis_dhcp_get_state(d) <= OASIS_DHCP_REBOOTING);
        oasis_dhcp_destroy(d);
    }
    oasis_stack_destroy(s);
    oasis_clock_free(clock);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    uint8_t ctl = fuzz_u8(&in);
    check_msg(in.p, in.left);
    if (ctl & 1)
        run_client(ctl, in.p, in.left);
    return 0;
}
