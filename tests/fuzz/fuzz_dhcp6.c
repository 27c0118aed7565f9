/* DHCPv6 message parser and client. Input: one control byte, then a
 * DHCPv6 message (the UDP payload).
 *   - The parser must accept or refuse it without reading out of bounds,
 *     and what it accepts must hold its invariants (counts within their
 *     arrays, DUIDs and the domain list inside the message).
 *   - Control bit 0: the message also goes to a client (bit 1: stateful,
 *     waiting in SOLICITING, else stateless in INFO-REQUESTING; bit 2:
 *     first a well-formed Advertise, so the message meets REQUESTING),
 *     with the xid of the client's last message patched in and, with bit
 *     3, our Client ID and a Server ID put in front of its options so it
 *     gets past the first checks; the client must stay in a valid state
 *     while time runs on. */
#include "fuzz.h"

#include <string.h>

#include "core/bytes.h"
#include "dhcp6/dhcp6_wire.h"
#include "ipv6/ipv6.h"
#include "ipv6/ipv6_wire.h"
#include "link/eth_wire.h"
#include "oasis/dhcp6.h"
#include "oasis/error.h"
#include "oasis/oasis.h"
#include "udp/udp_wire.h"

static uint8_t last_sent[1600];
static size_t last_len;

static int capture(oasis_link *l, const uint8_t *f, size_t n)
{
    (void)l;
    /* Keep the client's messages only (to port 547). */
    if (n <= sizeof last_sent && n >= 62 + 4 && f[20] == 17 && oasis_get16(f + 56) == 547) {
        memcpy(last_sent, f, n);
        last_len = n;
    }
    return 0;
}

static void check_msg(const uint8_t *p, size_t n)
{
    oasis_dhcp6_msg m;
    int err = oasis_dhcp6_parse(p, n, 1, &m);
    FUZZ_CHECK(err == 0 || err == OASIS_ETRUNCATED || err == OASIS_EMALFORMED);
    if (err)
        return;
    FUZZ_CHECK(n >= OASIS_DHCP6_HDR_LEN && m.xid <= 0xffffff);
    FUZZ_CHECK(m.naddrs <= OASIS_DHCP6_MAX_ADDRS && m.ndns <= OASIS_DHCP6_MAX_DNS_WIRE);
    FUZZ_CHECK(!m.client_id || (m.client_id >= p && m.client_id + m.client_id_len <= p + n));
    FUZZ_CHECK(!m.server_id || (m.server_id >= p && m.server_id + m.server_id_len <= p + n));
    for (uint8_t i = 0; i < m.naddrs; i++)
        FUZZ_CHECK(m.addrs[i].preferred_s <= m.addrs[i].valid_s);
    if (m.domains) {
        FUZZ_CHECK(m.domains >= p && m.domains + m.domains_len <= p + n);
        char name[256];
        size_t off = 0;
        int r;
        while ((r = oasis_dhcp6_domain_next(m.domains, m.domains_len, &off, name)) == 1)
            FUZZ_CHECK(off <= m.domains_len && strlen(name) <= 253);
        FUZZ_CHECK(r == 0);
    }
}

static uint32_t sent_xid(void)
{
    return last_len ? (uint32_t)last_sent[63] << 16 | (uint32_t)last_sent[64] << 8 | last_sent[65]
                    : 0;
}

static void inject(oasis_stack *s, const uint8_t *msg, size_t n)
{
    static uint8_t f[62 + 4096];
    static const uint8_t srv_mac[6] = {2, 0, 0, 0, 0, 0x53};
    static const oasis_in6 srv = {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53}};
    const oasis_in6 *ll = oasis_addrconf_link_local(s);
    if (!ll)
        return;
    if (n > 4096)
        n = 4096;
    oasis_eth_emit(f, oasis_stack_mac(s), srv_mac, OASIS_ETHERTYPE_IPV6);
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.payload_len = (uint16_t)(8 + n);
    h.next = 17;
    h.hop_limit = 64;
    h.src = srv;
    h.dst = *ll;
    oasis_ipv6_emit(f + 14, &h);
    memcpy(f + 62, msg, n);
    oasis_udp_emit6(f + 54, 8 + n, 547, 546, &srv, ll);
    oasis_stack_input(s, f, 62 + n);
}

static void run_client(uint8_t ctl, const uint8_t *p, size_t n)
{
    static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    static const uint8_t sid[] = {0, 2, 0, 10, 0, 3, 0, 1, 2, 0, 0, 0, 0, 0x53};
    oasis_clock *clock = oasis_clock_new_virtual(1000000000ull);
    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg);
    memcpy(cfg.mac, mac, 6);
    cfg.clock = clock;
    cfg.seed = 1;
    cfg.ipv6 = 1;
    cfg.dad_transmits = 0;
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
    oasis_dhcp6_config dc;
    oasis_dhcp6_config_init(&dc);
    dc.mode = ctl & 2 ? OASIS_DHCP6_STATEFUL : OASIS_DHCP6_STATELESS;
    dc.rapid_commit = (ctl & 16) != 0; /* a Reply to the Solicit may be the lease */
    oasis_dhcp6 *c;
    if (oasis_dhcp6_create(s, &dc, &c) == OASIS_OK) {
        last_len = 0;
        oasis_dhcp6_start(c);
        for (int i = 0; i < 4 && !last_len; i++) { /* past the start delay */
            uint64_t next = oasis_stack_next_deadline(s);
            if (next == UINT64_MAX)
                break;
            oasis_clock_set(clock, next);
            oasis_stack_poll(s);
        }
        static const uint8_t cid[] = {0, 1, 0, 10, 0, 3, 0, 1, 2, 0, 0, 0, 0, 1};
        if ((ctl & 6) == 6) { /* a well-formed Advertise first */
            uint8_t a[4 + sizeof cid + sizeof sid + 4 + 12 + 28 + 5] = {2};
            size_t k = 4;
            uint32_t x = sent_xid();
            a[1] = (uint8_t)(x >> 16), a[2] = (uint8_t)(x >> 8), a[3] = (uint8_t)x;
            memcpy(a + k, cid, sizeof cid), k += sizeof cid;
            memcpy(a + k, sid, sizeof sid), k += sizeof sid;
            uint8_t ia[] = {0, 3, 0, 40, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
                            0, 5, 0, 24, 0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x23,
                            0, 0, 0, 100, 0, 0, 0, 200};
            memcpy(a + k, ia, sizeof ia), k += sizeof ia;
            uint8_t pref[] = {0, 7, 0, 1, 255};
            memcpy(a + k, pref, sizeof pref), k += sizeof pref;
            inject(s, a, k);
        }
        static uint8_t m[4096];
        size_t len = n > 4096 - 64 ? 4096 - 64 : n;
        size_t k = 0;
        if (len >= 4) {
            memcpy(m, p, 4);
            uint32_t x = sent_xid();
            m[1] = (uint8_t)(x >> 16), m[2] = (uint8_t)(x >> 8), m[3] = (uint8_t)x;
            k = 4;
            if (ctl & 8) {
                memcpy(m + k, cid, sizeof cid), k += sizeof cid;
                memcpy(m + k, sid, sizeof sid), k += sizeof sid;
            }
            memcpy(m + k, p + 4, len - 4), k += len - 4;
        } else {
            memcpy(m, p, len), k = len;
        }
        inject(s, m, k);
        for (int i = 0; i < 8; i++) {
            uint64_t next = oasis_stack_next_deadline(s);
            if (next == UINT64_MAX)
                break;
            oasis_clock_set(clock, next);
            oasis_stack_poll(s);
        }
        FUZZ_CHECK(oasis_dhcp6_get_state(c) <= OASIS_DHCP6_DECLINING);
        oasis_dhcp6_stop(c, 1);
        oasis_dhcp6_destroy(c);
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
