/* Whole-stack fuzz target.
 *
 * Per input, a fresh stack (10.0.0.1) on a virtual clock with a capturing
 * link, a UDP echo port (7, both families), the IPv4 group 239.1.2.3
 * joined, the peer as default gateway, a TCP listener (80), an ESTABLISHED flow
 * (peer 10.0.0.2:40000 -> 80, made by injecting a hand-built handshake) with
 * data queued both ways, and an active open to the peer's port 9000 in
 * SYN_SENT. The harness plays the peer's ARP (it answers the stack's
 * requests) so that nothing waits on resolution.
 *
 * The input is a list of records:
 *   [tick][kind][len:16 BE][len bytes of body]
 * tick advances the clock (tick^3 * 4 us: up to ~66 s) before the record, and
 * oasis_stack_poll() runs after it. kind:
 *   0x80 set   application action (body[0] picks it, body[1] its size;
 *              body[0] & 0x40: join or leave a multicast group)
 *   low 2 bits 0 raw Ethernet frame, untouched
 *              1 IPv4 packet: Ethernet header added; version, IHL, total
 *                length, addresses (unless 0x04) and the IP/TCP/UDP/ICMP
 *                checksums fixed
 *              2 TCP segment of conversation (kind >> 4) & 3 (0 the
 *                established flow, 1 the active open, 2-3 new peers):
 *                ports set, seq/ack relative to what each side sent so far
 *                (unless 0x08), IP + Ethernet added
 *              3 ARP packet: Ethernet header added
 *   0x40       leave checksums as they are (modes 1 and 2)
 * So about half the inputs carry valid checksums and reach the TCP state
 * machine, and relative sequence numbers let the fuzzer stay in window.
 *
 * An input of odd length runs on a transparent stack (cfg.transparent), so
 * frames to foreign addresses (mode 1 with 0x04, or raw) reach TCP and UDP
 * too: a listener of every port and address, and a UDP bind of every port
 * that echoes from the address it was sent to. Even lengths keep the
 * ordinary stack, which drops them.
 *
 * Checked: no crash or sanitizer report, every accepted request completes
 * exactly once and never inside the call that started it, the ARP cache and
 * reassembly bounds hold, and destroying the stack frees every byte. */
#include "fuzz.h"
#include "countalloc.h"

#include <inttypes.h>
#include <string.h>

#include "core/bytes.h"
#include "core/checksum.h"
#include "ip/ipv4_wire.h"
#include "link/eth_wire.h"
#include "oasis/error.h"
#include "oasis/oasis.h"
#include "tcp/tcp_wire.h"

#define STACK_IP OASIS_IPV4(10, 0, 0, 1)
#define PEER_IP OASIS_IPV4(10, 0, 0, 2)
#define PEER_ISN 0x10000000u
#define LISTEN_PORT 80
#define UDP_PORT 7
#define MAX_FLOWS 16
#define MAX_REQS 2048
#define NCONV 4

static const uint8_t stack_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x02};

/* Bytes the application writes (stay valid for as long as writes pend). */
static const uint8_t pattern[65536] = {1, 2, 3, 4, 5, 6, 7, 8};

/* One TCP conversation as the peer sees it. */
typedef struct conv {
    uint16_t stack_port, peer_port;
    uint32_t stack_nxt; /* highest sequence end the stack sent */
    uint32_t peer_nxt;  /* next in-order sequence number of the peer */
    int known;          /* stack_nxt valid */
} conv;

typedef struct req {
    int in_call;     /* the call that started it has not returned yet */
    int completions; /* must end at 1 for every accepted request */
    int accepted;
    int flow;        /* index in fz.flows, or -1 */
} req;

typedef struct flow_slot {
    oasis_flow *f;
    int dead;        /* handle freed (close callback ran, or aborted) */
    int reading;
} flow_slot;

typedef struct fz {
    oasis_clock *clock;
    oasis_stack *s;
    oasis_link link;
    test_counting mem; /* the stack's allocator (tests/support): leaks show without LSan */
    int arp_reply_due;
    conv convs[NCONV];
    flow_slot flows[MAX_FLOWS];
    int nflows;
    req reqs[MAX_REQS];
    int nreqs;
    int accepted_main; /* flows index of the established flow, or -1 */
    uint16_t ip_id;
} fz;

/* ---- requests ---------------------------------------------------------------- */

static req *req_new(fz *z, int flow)
{
    if (z->nreqs >= MAX_REQS)
        return NULL;
    req *r = &z->reqs[z->nreqs++];
    memset(r, 0, sizeof *r);
    r->flow = flow;
    r->in_call = 1;
    return r;
}

/* Called with what the starting call returned. */
static void req_started(req *r, int rc)
{
    r->in_call = 0;
    r->accepted = rc == 0;
    if (rc != 0)
        FUZZ_CHECK(r->completions == 0); /* refused: the callback never runs */
}

static void req_complete(req *r)
{
    FUZZ_CHECK(!r->in_call);
    FUZZ_CHECK(++r->completions == 1);
}

static fz *flow_fz(oasis_flow *f) { return oasis_stack_user_data(oasis_flow_stack(f)); }

static void arm_read(fz *z, int idx);

static void on_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    req *r = ud;
    req_complete(r);
    fz *z = flow_fz(f);
    flow_slot *fs = &z->flows[r->flow];
    FUZZ_CHECK(fs->f == f && !fs->dead);
    fs->reading = 0;
    if (err == 0) {
        FUZZ_CHECK(data && len > 0);
        arm_read(z, r->flow);
    }
}

static void arm_read(fz *z, int idx)
{
    flow_slot *fs = &z->flows[idx];
    if (fs->dead || fs->reading)
        return;
    req *r = req_new(z, idx);
    if (!r)
        return;
    int rc = oasis_tcp_read(fs->f, on_read, r);
    req_started(r, rc);
    fs->reading = rc == 0;
}

static int flow_add(fz *z, oasis_flow *f)
{
    if (z->nflows >= MAX_FLOWS)
        return -1;
    int idx = z->nflows++;
    z->flows[idx] = (flow_slot){f, 0, 0};
    arm_read(z, idx);
    return idx;
}

static void on_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    fz *z = ud;
    FUZZ_CHECK(f && oasis_flow_stack(f) == s);
    int idx = flow_add(z, f);
    if (z->accepted_main < 0)
        z->accepted_main = idx;
}

static void on_connect(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    req *r = ud;
    req_complete(r);
    FUZZ_CHECK((err == 0) == (f != NULL));
    if (f)
        flow_add(oasis_stack_user_data(s), f);
}

static void on_flow_done(oasis_flow *f, int err, void *ud)
{
    req *r = ud;
    req_complete(r);
    (void)f;
    (void)err;
}

static void on_close(oasis_flow *f, int err, void *ud)
{
    req *r = ud;
    req_complete(r);
    (void)err;
    flow_slot *fs = &flow_fz(f)->flows[r->flow];
    FUZZ_CHECK(fs->f == f && !fs->dead);
    fs->dead = 1;
    oasis_tcp_release(f); /* the handle is freed once we return */
}

static void on_ping(oasis_stack *s, int err, uint16_t seq, uint64_t rtt, void *ud)
{
    (void)s, (void)err, (void)seq, (void)rtt;
    req_complete(ud);
}

/* The echo port takes both families (IPv6 datagrams arrive in raw frames). */
static void on_udp(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport,
                   const oasis_ipaddr *dst, uint16_t dport, const uint8_t *data, size_t len,
                   void *ud)
{
    (void)dport, (void)ud;
    FUZZ_CHECK(len == 0 || data);
    FUZZ_CHECK(src->family == dst->family);
    /* Echo a little back: exercises the send path from inside input. */
    oasis_udp_send(s, UDP_PORT, src, sport, data, len > 64 ? 64 : len);
}

/* The transparent bind: echoes from the address the datagram went to. */
static void on_udp_any(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport,
                       const oasis_ipaddr *dst, uint16_t dport, const uint8_t *data, size_t len,
                       void *ud)
{
    (void)ud;
    FUZZ_CHECK(len == 0 || data);
    FUZZ_CHECK(src->family == dst->family);
    oasis_udp_send_from(s, dst, dport, src, sport, data, len > 64 ? 64 : len);
}

static void on_udp4(oasis_stack *s, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                    const uint8_t *data, size_t len, void *ud)
{
    (void)dst, (void)dport, (void)ud;
    FUZZ_CHECK(len == 0 || data);
    oasis_udp_send4(s, UDP_PORT, src, sport, data, len > 64 ? 64 : len);
}

static void on_udp_err(oasis_stack *s, const oasis_udp_error *e, void *ud)
{
    (void)s, (void)ud;
    FUZZ_CHECK(e->err < 0 && e->src_port == UDP_PORT);
}

/* The transparent bind's errors: about a datagram from any port, and from
 * an address of the error's family. */
static void on_udp_err_any(oasis_stack *s, const oasis_udp_error *e, void *ud)
{
    (void)s, (void)ud;
    FUZZ_CHECK(e->err < 0);
    FUZZ_CHECK((e->src.family == OASIS_AF_INET6) == (e->family == OASIS_AF_INET6));
}

/* ---- the peer: what the stack sends ---------------------------------------- */

static void track_tcp(fz *z, const oasis_ipv4_hdr *ip)
{
    oasis_tcp_hdr t;
    if (oasis_tcp_parse(ip->payload, ip->payload_len, ip->src, ip->dst, 0, &t) != 0)
        return;
    uint32_t end = t.seq + (uint32_t)t.payload_len + !!(t.flags & OASIS_TCP_SYN) +
                   !!(t.flags & OASIS_TCP_FIN);
    for (int i = 0; i < NCONV; i++) {
        conv *c = &z->convs[i];
        if (c->stack_port == 0 && i == 1 && t.dst_port == 9000 && (t.flags & OASIS_TCP_SYN))
            c->stack_port = t.src_port; /* the active open's ephemeral port */
        if (c->stack_port != t.src_port || c->peer_port != t.dst_port)
            continue;
        if (!c->known || (int32_t)(end - c->stack_nxt) > 0)
            c->stack_nxt = end;
        c->known = 1;
    }
}

static int fz_send(oasis_link *l, const uint8_t *frame, size_t len)
{
    fz *z = l->data;
    oasis_eth_hdr e;
    if (oasis_eth_parse(frame, len, &e) != 0)
        return 0;
    FUZZ_CHECK(memcmp(e.src, stack_mac, 6) == 0);
    if (e.type == OASIS_ETHERTYPE_ARP) {
        /* Answer later, from the harness loop: the stack must not be
         * re-entered from its own send. */
        z->arp_reply_due = 1;
        return 0;
    }
    oasis_ipv4_hdr ip;
    if (e.type == OASIS_ETHERTYPE_IPV4 && oasis_ipv4_parse(e.payload, e.payload_len, &ip) == 0 &&
        ip.proto == OASIS_IPPROTO_TCP && ip.frag_off == 0 && !ip.mf)
        track_tcp(z, &ip);
    return 0;
}

/* ---- frames to the stack ------------------------------------------------------ */

static void inject(fz *z, const uint8_t *frame, size_t len)
{
    oasis_stack_input(z->s, frame, len);
}

static void send_arp_reply(fz *z)
{
    uint8_t f[OASIS_ETH_HLEN + 28];
    oasis_eth_emit(f, stack_mac, peer_mac, OASIS_ETHERTYPE_ARP);
    uint8_t *a = f + OASIS_ETH_HLEN;
    oasis_put16(a, 1);
    oasis_put16(a + 2, 0x0800);
    a[4] = 6, a[5] = 4;
    oasis_put16(a + 6, 2);
    memcpy(a + 8, peer_mac, 6);
    oasis_put32(a + 14, PEER_IP);
    memcpy(a + 18, stack_mac, 6);
    oasis_put32(a + 24, STACK_IP);
    inject(z, f, sizeof f);
}

/* Runs timers and plays the peer's ARP until the stack is quiet. */
static void settle(fz *z)
{
    for (int i = 0; i < 8; i++) {
        oasis_stack_poll(z->s);
        if (!z->arp_reply_due)
            break;
        z->arp_reply_due = 0;
        send_arp_reply(z);
    }
}

/* Fixes the transport checksum of an unfragmented datagram (ip points at the
 * IPv4 header, hlen its length, plen the payload length). */
static void fix_l4(uint8_t *ip, size_t hlen, size_t plen)
{
    uint8_t *l4 = ip + hlen;
    uint32_t src = oasis_get32(ip + 12), dst = oasis_get32(ip + 16);
    uint8_t proto = ip[9];
    size_t off;
    if (proto == OASIS_IPPROTO_TCP && plen >= 20)
        off = 16;
    else if (proto == OASIS_IPPROTO_UDP && plen >= 8)
        off = 6;
    else if ((proto == OASIS_IPPROTO_ICMP || proto == 2 /* IGMP */) && plen >= 8)
        off = 2;
    else
        return;
    if (proto == OASIS_IPPROTO_TCP && ((l4[12] >> 4) < 5 || (size_t)(l4[12] >> 4) * 4 > plen))
        l4[12] = (uint8_t)(0x50 | (l4[12] & 0x0f));
    if (proto == OASIS_IPPROTO_UDP)
        oasis_put16(l4 + 4, (uint16_t)plen);
    l4[off] = l4[off + 1] = 0;
    uint64_t sum = proto == OASIS_IPPROTO_ICMP || proto == 2
                       ? 0
                       : oasis_csum_pseudo(src, dst, proto, (uint16_t)plen);
    uint16_t c = oasis_csum_fold(oasis_csum_add(sum, l4, plen));
    if (proto == OASIS_IPPROTO_UDP && c == 0)
        c = 0xffff;
    memcpy(l4 + off, &c, 2);
}

/* Mode 1: body is an IPv4 packet, made acceptable unless told otherwise. */
static void inject_ip(fz *z, uint8_t kind, const uint8_t *body, size_t len)
{
    uint8_t f[OASIS_ETH_HLEN + 4096];
    if (len > 4096)
        len = 4096;
    oasis_eth_emit(f, stack_mac, peer_mac, OASIS_ETHERTYPE_IPV4);
    uint8_t *ip = f + OASIS_ETH_HLEN;
    memcpy(ip, body, len);
    if (len >= 20 && !(kind & 0x40)) {
        size_t ihl = ip[0] & 0x0f;
        if (ihl < 5 || ihl * 4 > len)
            ihl = 5;
        ip[0] = (uint8_t)(0x40 | ihl);
        oasis_put16(ip + 2, (uint16_t)len);
        ip[6] &= 0x7f; /* reserved flag */
        if (!(kind & 0x04)) {
            oasis_put32(ip + 12, PEER_IP);
            oasis_put32(ip + 16, STACK_IP);
        }
        if ((oasis_get16(ip + 6) & 0x3fff) == 0)
            fix_l4(ip, ihl * 4, len - ihl * 4);
        ip[10] = ip[11] = 0;
        uint16_t c = oasis_csum(ip, ihl * 4);
        memcpy(ip + 10, &c, 2);
    }
    inject(z, f, OASIS_ETH_HLEN + len);
}

/* Mode 2: body is a TCP segment of one conversation. */
static void inject_tcp(fz *z, uint8_t kind, const uint8_t *body, size_t len)
{
    uint8_t f[OASIS_ETH_HLEN + 20 + 4096];
    if (len > 4096)
        len = 4096;
    size_t slen = len < 20 ? 20 : len;
    uint8_t *ip = f + OASIS_ETH_HLEN, *seg = ip + 20;
    memset(seg, 0, 20);
    memcpy(seg, body, len);

    conv *c = &z->convs[(kind >> 4) & 3];
    int fix = !(kind & 0x40);
    if (c->stack_port)
        oasis_put16(seg, c->peer_port), oasis_put16(seg + 2, c->stack_port);
    uint32_t seq = oasis_get32(seg + 4);
    if (!(kind & 0x08)) {
        oasis_put32(seg + 4, c->peer_nxt + seq);
        oasis_put32(seg + 8, c->stack_nxt + oasis_get32(seg + 8));
    }
    if (fix && ((seg[12] >> 4) < 5 || (size_t)(seg[12] >> 4) * 4 > slen))
        seg[12] = (uint8_t)(0x50 | (seg[12] & 0x0f));

    oasis_ipv4_hdr h = {.total_len = (uint16_t)(20 + slen), .id = z->ip_id++, .df = 1, .ttl = 64,
                        .proto = OASIS_IPPROTO_TCP, .src = PEER_IP, .dst = STACK_IP};
    oasis_ipv4_emit(ip, &h);
    if (fix)
        fix_l4(ip, 20, slen);
    oasis_eth_emit(f, stack_mac, peer_mac, OASIS_ETHERTYPE_IPV4);
    inject(z, f, OASIS_ETH_HLEN + 20 + slen);

    /* An in-order segment moves the peer's sequence on, so the next one can
     * say "0" again. */
    if (!(kind & 0x08) && seq == 0 && (seg[12] >> 4) * 4 <= slen) {
        size_t data = slen - (size_t)(seg[12] >> 4) * 4;
        c->peer_nxt += (uint32_t)data + !!(seg[13] & OASIS_TCP_SYN) + !!(seg[13] & OASIS_TCP_FIN);
    }
}

static void inject_arp(fz *z, uint8_t kind, const uint8_t *body, size_t len)
{
    uint8_t f[OASIS_ETH_HLEN + 64];
    if (len > 64)
        len = 64;
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    oasis_eth_emit(f, (kind & 0x04) ? bcast : stack_mac, peer_mac, OASIS_ETHERTYPE_ARP);
    memcpy(f + OASIS_ETH_HLEN, body, len);
    inject(z, f, OASIS_ETH_HLEN + len);
}

/* ---- application actions ------------------------------------------------------- */

static int main_flow(fz *z)
{
    int i = z->accepted_main;
    return i >= 0 && !z->flows[i].dead ? i : -1;
}

static void app_write(fz *z, int idx, size_t n, int nodelay)
{
    req *r = req_new(z, idx);
    if (!r)
        return;
    oasis_flow *f = z->flows[idx].f;
    int rc = nodelay ? oasis_tcp_write_nodelay(f, pattern, n, on_flow_done, r)
                     : oasis_tcp_write(f, pattern, n, on_flow_done, r);
    req_started(r, rc);
}

static void app_close(fz *z, int idx)
{
    req *r = req_new(z, idx);
    if (!r)
        return;
    req_started(r, oasis_tcp_close(z->flows[idx].f, on_close, r));
}

static void app_connect(fz *z, uint16_t port)
{
    req *r = req_new(z, -1);
    if (r)
        req_started(r, oasis_tcp_connect4(z->s, PEER_IP, port, NULL, on_connect, r));
}

static void app_ping(fz *z, size_t n)
{
    req *r = req_new(z, -1);
    if (r)
        req_started(r, oasis_ping(z->s, PEER_IP, 1, (uint16_t)z->nreqs, n, OASIS_NS_PER_SEC,
                                  on_ping, r));
}

static void app_flow_action(fz *z, int idx, uint8_t what, uint8_t arg)
{
    oasis_flow *f = z->flows[idx].f;
    oasis_keepalive ka = {OASIS_NS_PER_SEC * (1 + arg % 8), OASIS_NS_PER_SEC, 1 + arg % 3};
    switch (what) {
    case 0: app_write(z, idx, (size_t)arg * 256 + 1, 0); break;
    case 1: app_write(z, idx, (size_t)arg * 16 + 1, 1); break;
    case 2: app_close(z, idx); break;
    case 3:
        oasis_tcp_release(f);
        z->flows[idx].dead = 1;
        break;
    case 4: arm_read(z, idx); break;
    case 5: oasis_tcp_set_nodelay(f, arg & 1); break;
    case 6: oasis_tcp_set_keepalive(f, &ka); break;
    default: {
        oasis_tcp_info info;
        FUZZ_CHECK(oasis_tcp_get_info(f, &info) == 0);
        break;
    }
    }
}

static void app_action(fz *z, const uint8_t *body, size_t len)
{
    uint8_t what = len > 0 ? body[0] : 0, arg = len > 1 ? body[1] : 0;
    if (what < 0x80) {
        /* Flow actions: low 3 bits pick the action, the rest the flow. */
        int idx = (what >> 3) % (z->nflows ? z->nflows : 1);
        if (what >> 3 == 0)
            idx = main_flow(z);
        if (idx >= 0 && idx < z->nflows && !z->flows[idx].dead)
            app_flow_action(z, idx, what & 7, arg);
        return;
    }
    if (what & 0x40) { /* IPv4 multicast: join or leave one of four groups */
        uint32_t g = OASIS_IPV4(239, 1, 2, 3 + ((arg >> 1) & 3));
        if (arg & 1)
            oasis_ipv4_leave(z->s, g);
        else
            oasis_ipv4_join(z->s, g);
        return;
    }
    switch (what & 7) {
    case 0: oasis_udp_send4(z->s, UDP_PORT, PEER_IP, 9, pattern, (size_t)arg * 64); break;
    case 1: app_connect(z, (uint16_t)(9000 + (arg & 3))); break;
    case 2: app_ping(z, (size_t)arg * 8); break;
    case 3: oasis_tcp_unlisten(z->s, LISTEN_PORT); break;
    case 4: oasis_tcp_listen(z->s, LISTEN_PORT, NULL, on_accept, z); break;
    case 5: oasis_udp_unbind(z->s, UDP_PORT); break;
    case 6:
        /* Odd sizes bind IPv4 only. */
        if (arg & 1)
            oasis_udp_bind4(z->s, UDP_PORT, on_udp4, z);
        else
            oasis_udp_bind(z->s, UDP_PORT, on_udp, z);
        oasis_udp_set_error_cb(z->s, UDP_PORT, on_udp_err);
        break;
    default:
        oasis_tcp_disconnect(z->s);
        for (int i = 0; i < z->nflows; i++)
            z->flows[i].dead = 1; /* every handle was freed */
        break;
    }
}

/* ---- setup --------------------------------------------------------------------- */

static void peer_segment(fz *z, uint8_t flags, uint32_t seq, uint32_t ack, int syn_opts)
{
    uint8_t f[OASIS_ETH_HLEN + 20 + 60];
    oasis_tcp_hdr t = {.src_port = 40000, .dst_port = LISTEN_PORT, .seq = seq, .ack = ack,
                       .flags = flags, .window = 65535, .has_ts = 1, .ts_val = 100};
    if (syn_opts) {
        t.has_mss = t.has_wscale = t.sack_permitted = 1;
        t.mss = 1460;
        t.wscale = 7;
    }
    uint8_t *seg = f + OASIS_ETH_HLEN + 20;
    size_t hlen = oasis_tcp_emit(seg, &t, 0, PEER_IP, STACK_IP);
    oasis_ipv4_hdr h = {.total_len = (uint16_t)(20 + hlen), .ttl = 64, .df = 1,
                        .proto = OASIS_IPPROTO_TCP, .src = PEER_IP, .dst = STACK_IP};
    oasis_ipv4_emit(f + OASIS_ETH_HLEN, &h);
    oasis_eth_emit(f, stack_mac, peer_mac, OASIS_ETHERTYPE_IPV4);
    inject(z, f, OASIS_ETH_HLEN + 20 + hlen);
    settle(z);
}

static int setup(fz *z, int transparent)
{
    memset(z, 0, sizeof *z);
    z->accepted_main = -1;
    z->clock = oasis_clock_new_virtual(1000 * OASIS_NS_PER_SEC);
    if (!z->clock)
        return -1;
    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg);
    cfg.seed = 1; /* fixed: an input replays bit for bit */
    memcpy(cfg.mac, stack_mac, 6);
    cfg.addr = STACK_IP;
    cfg.gateway = PEER_IP; /* off-link goes through the peer (and its redirects count) */
    cfg.clock = z->clock;
    cfg.alloc = test_count_alloc;
    cfg.alloc_ud = &z->mem;
    /* Small bounds, so that inputs reach them. */
    cfg.arp_cache_size = 4;
    cfg.arp_queue_len = 8;
    cfg.reasm_max_bytes = 16384;
    cfg.reasm_max_datagrams = 4;
    /* Dual stack: raw frames (mode 0) reach IPv6, ICMPv6 and ND too. */
    cfg.ipv6 = 1;
    cfg.nd_cache_size = 4;
    cfg.nd_queue_len = 8;
    cfg.tcp.sndbuf = cfg.tcp.rcvbuf = 16384;
    cfg.tcp.max_ofo_segments = 8;
    cfg.tcp.backlog = 4;
    cfg.transparent = transparent;
    if (oasis_stack_create(&cfg, &z->s) != 0)
        return -1;
    oasis_stack_set_user_data(z->s, z);
    z->link = (oasis_link){.send = fz_send, .mtu = 1500, .data = z};
    oasis_stack_set_link(z->s, &z->link);
    settle(z);
    FUZZ_CHECK(oasis_udp_bind(z->s, UDP_PORT, on_udp, z) == 0);
    FUZZ_CHECK(oasis_udp_set_error_cb(z->s, UDP_PORT, on_udp_err) == 0);
    FUZZ_CHECK(oasis_tcp_listen(z->s, LISTEN_PORT, NULL, on_accept, z) == 0);
    if (transparent) {
        oasis_listen_opts any = {.transparent = 1};
        FUZZ_CHECK(oasis_tcp_listen(z->s, 0, &any, on_accept, z) == 0);
        FUZZ_CHECK(oasis_udp_bind_transparent(z->s, 0, on_udp_any, z) == 0);
        FUZZ_CHECK(oasis_udp_set_error_cb(z->s, 0, on_udp_err_any) == 0);
    }
    /* A multicast group, so IGMP queries and datagrams to it are taken. */
    FUZZ_CHECK(oasis_ipv4_join(z->s, OASIS_IPV4(239, 1, 2, 3)) == 0);

    z->convs[0] = (conv){LISTEN_PORT, 40000, 0, PEER_ISN + 1, 0};
    z->convs[1] = (conv){0, 9000, 0, 0x20000000u, 0};
    z->convs[2] = (conv){LISTEN_PORT, 40002, 0, 0x30000000u, 0};
    z->convs[3] = (conv){LISTEN_PORT, 40003, 0, 0x40000000u, 0};

    peer_segment(z, OASIS_TCP_SYN, PEER_ISN, 0, 1);
    FUZZ_CHECK(z->convs[0].known); /* the SYN-ACK came back */
    peer_segment(z, OASIS_TCP_ACK, PEER_ISN + 1, z->convs[0].stack_nxt, 0);
    FUZZ_CHECK(main_flow(z) >= 0);
    app_write(z, main_flow(z), 3000, 0);
    app_connect(z, 9000);
    settle(z);
    return 0;
}

static void check_bounds(const fz *z)
{
    const oasis_counters *c = oasis_stack_counters(z->s);
    FUZZ_CHECK(c->arp.cache_entries <= 4);
    FUZZ_CHECK(c->ip.reasm_bytes <= 16384);
    FUZZ_CHECK(c->ipv6.reasm_bytes <= 16384);
    FUZZ_CHECK(c->nd.cache_entries <= 4);
}

/* FUZZ_VERBOSE=1: what an input reached, to see whether seeds go deep. */
static void report(const fz *z)
{
    const oasis_counters *c = oasis_stack_counters(z->s);
    fprintf(stderr,
            "link rx %" PRIu64 " tx %" PRIu64 " | arp rx %" PRIu64 "/%" PRIu64 " | ip in %" PRIu64
            " deliv %" PRIu64 " reasm ok %" PRIu64 " | icmp in %" PRIu64 " out %" PRIu64
            " | udp in %" PRIu64 " out %" PRIu64 " | udp6 in %" PRIu64 " out %" PRIu64
            " noport %" PRIu64 " zerocsum %" PRIu64 " | tcp in %" PRIu64 " out %" PRIu64
            " estab %" PRIu64 " passive %" PRIu64 " rst in %" PRIu64 " ofo %" PRIu64
            " retrans %" PRIu64 " | flows %d reqs %d\n",
            c->link.rx_frames, c->link.tx_frames, c->arp.rx_requests, c->arp.rx_replies,
            c->ip.in_receives, c->ip.in_delivers, c->ip.reasm_oks, c->icmp.in_msgs,
            c->icmp.out_msgs, c->udp.in_datagrams, c->udp.out_datagrams, c->udp6.in_datagrams,
            c->udp6.out_datagrams, c->udp6.no_ports, c->udp6.zero_csum, c->tcp.in_segs,
            c->tcp.out_segs, c->tcp.curr_estab, c->tcp.passive_opens, c->tcp.in_rsts,
            c->tcp.ofo_queued, c->tcp.retrans_segs, z->nflows, z->nreqs);
}

static void teardown(fz *z)
{
    check_bounds(z);
    if (getenv("FUZZ_VERBOSE"))
        report(z);
    oasis_stack_destroy(z->s);
    for (int i = 0; i < z->nreqs; i++)
        FUZZ_CHECK(z->reqs[i].completions == (z->reqs[i].accepted ? 1 : 0));
    FUZZ_CHECK(z->mem.live == 0);
    oasis_clock_free(z->clock);
}

/* One record: advance the clock, act, let the stack settle. */
static void run_record(fz *z, uint8_t tick, uint8_t kind, const uint8_t *body, size_t len)
{
    oasis_clock_advance(z->clock, (uint64_t)tick * tick * tick * 4000);
    if (kind & 0x80)
        app_action(z, body, len);
    else if ((kind & 3) == 0)
        inject(z, body, len);
    else if ((kind & 3) == 1)
        inject_ip(z, kind, body, len);
    else if ((kind & 3) == 2)
        inject_tcp(z, kind, body, len);
    else
        inject_arp(z, kind, body, len);
    settle(z);
    check_bounds(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz *z = malloc(sizeof *z); /* fresh per input: runs are reproducible */
    if (!z)
        return 0;
    if (setup(z, (int)(size & 1)) == 0) {
        fuzz_in in = {data, size};
        while (in.left >= 4) {
            uint8_t tick = fuzz_u8(&in), kind = fuzz_u8(&in);
            size_t len = fuzz_u16(&in);
            if (len > in.left)
                len = in.left;
            run_record(z, tick, kind, in.p, len);
            in.p += len;
            in.left -= len;
        }
        teardown(z);
    } else {
        oasis_stack_destroy(z->s);
        oasis_clock_free(z->clock);
    }
    free(z);
    return 0;
}
