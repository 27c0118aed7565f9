/* DHCPv4 client: the wire format and every state and timer of the client,
 * on a virtual clock. The test plays the DHCP server (and any neighbour)
 * on a capturing link: it reads what the stack sends and injects replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "arp/arp_wire.h"
#include "core/bytes.h"
#include "core/stack_impl.h"
#include "dhcp/dhcp_wire.h"
#include "ip/ipv4_wire.h"
#include "link/eth_wire.h"
#include "oasis/dhcp.h"
#include "oasis/error.h"
#include "oasis/ip.h"
#include "oasis/metrics.h"
#include "oasis/udp.h"
#include "udp/udp_wire.h"

#define SEC OASIS_NS_PER_SEC
#define START_NS (1000 * SEC)
#define SERVER OASIS_IPV4(10, 0, 0, 254)
#define ROUTER OASIS_IPV4(10, 0, 0, 1)
#define OFFERED OASIS_IPV4(10, 0, 0, 50)
#define PEER OASIS_IPV4(10, 0, 0, 7)

static const uint8_t client_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t server_mac[6] = {0x02, 0, 0, 0, 0, 0xfe};
static const uint8_t other_mac[6] = {0x02, 0, 0, 0, 0, 0x33};

typedef struct frame {
    uint8_t data[2048];
    size_t len;
    uint64_t at;
} frame;

typedef struct harness {
    oasis_clock *clock;
    oasis_stack *s;
    oasis_link link;
    oasis_dhcp *d;
    frame q[256];
    size_t qhead, qlen;
    int answer_arp;           /* answer ARP requests (not probes) as server_mac */
    int events[32];
    int nevents;
    oasis_dhcp_lease last;    /* lease of the last event */
    int last_had_lease;
    oasis_dhcp_state state_at_event; /* the client's state in the last callback */
    int stop_in_cb;
} harness;

static int link_send(oasis_link *l, const uint8_t *f, size_t n)
{
    harness *h = l->data;
    assert_true(h->qlen < 256);
    assert_true(n <= sizeof h->q[0].data);
    frame *fr = &h->q[(h->qhead + h->qlen++) % 256];
    memcpy(fr->data, f, n);
    fr->len = n;
    fr->at = oasis_clock_now(h->clock);
    return 0;
}

static void on_event(oasis_dhcp *d, oasis_dhcp_event ev, const oasis_dhcp_lease *l, void *ud)
{
    harness *h = ud;
    assert_true(h->nevents < 32);
    h->events[h->nevents++] = (int)ev;
    h->last_had_lease = l != NULL;
    h->state_at_event = oasis_dhcp_get_state(d);
    if (l)
        h->last = *l;
    if (h->stop_in_cb)
        oasis_dhcp_stop(d, 0);
}

static void h_init_cfg(harness *h, const oasis_dhcp_config *dcfg, uint64_t seed)
{
    memset(h, 0, sizeof *h);
    h->clock = oasis_clock_new_virtual(START_NS);
    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg);
    memcpy(cfg.mac, client_mac, 6);
    cfg.clock = h->clock;
    cfg.seed = seed;
    cfg.addr = 0; /* no address until a lease is bound */
    assert_int_equal(oasis_stack_create(&cfg, &h->s), OASIS_OK);
    h->link.send = link_send;
    h->link.mtu = 1500;
    h->link.data = h;
    oasis_stack_set_link(h->s, &h->link);
    h->answer_arp = 1;
    oasis_dhcp_config c;
    if (dcfg)
        c = *dcfg;
    else
        oasis_dhcp_config_init(&c);
    c.cb = on_event;
    c.ud = h;
    assert_int_equal(oasis_dhcp_create(h->s, &c, &h->d), OASIS_OK);
}

static void h_init(harness *h) { h_init_cfg(h, NULL, 42); }

static void h_fini(harness *h)
{
    oasis_dhcp_destroy(h->d);
    oasis_stack_destroy(h->s);
    oasis_clock_free(h->clock);
}

static uint64_t now(harness *h) { return oasis_clock_now(h->clock); }

/* ---- injecting ---------------------------------------------------------- */

static void inject_ip(harness *h, const uint8_t eth_dst[6], const uint8_t eth_src[6], uint32_t src,
                      uint32_t dst, uint8_t proto, const uint8_t *payload, size_t n)
{
    uint8_t f[2048];
    oasis_eth_emit(f, eth_dst, eth_src, OASIS_ETHERTYPE_IPV4);
    oasis_ipv4_hdr ih;
    memset(&ih, 0, sizeof ih);
    ih.total_len = (uint16_t)(OASIS_IPV4_HLEN + n);
    ih.id = 1;
    ih.ttl = 64;
    ih.proto = proto;
    ih.src = src;
    ih.dst = dst;
    memcpy(f + OASIS_ETH_HLEN + OASIS_IPV4_HLEN, payload, n);
    oasis_ipv4_emit(f + OASIS_ETH_HLEN, &ih);
    oasis_stack_input(h->s, f, OASIS_ETH_HLEN + OASIS_IPV4_HLEN + n);
}

static void inject_udp_from(harness *h, const uint8_t eth_dst[6], uint16_t sport, uint32_t src,
                            uint32_t dst, const uint8_t *msg, size_t n)
{
    uint8_t u[1600];
    memcpy(u + OASIS_UDP_HLEN, msg, n);
    oasis_udp_emit(u, OASIS_UDP_HLEN + n, sport, 68, src, dst);
    inject_ip(h, eth_dst, server_mac, src, dst, OASIS_IPPROTO_UDP, u, OASIS_UDP_HLEN + n);
}

static void inject_udp(harness *h, const uint8_t eth_dst[6], uint32_t src, uint32_t dst,
                       const uint8_t *msg, size_t n)
{
    inject_udp_from(h, eth_dst, 67, src, dst, msg, n);
}

static void inject_arp(harness *h, uint16_t op, const uint8_t sha[6], uint32_t spa, uint32_t tpa,
                       const uint8_t eth_dst[6])
{
    uint8_t f[64] = {0};
    oasis_eth_emit(f, eth_dst, sha, OASIS_ETHERTYPE_ARP);
    oasis_arp_pkt p;
    memset(&p, 0, sizeof p);
    p.op = op;
    memcpy(p.sha, sha, 6);
    p.spa = spa;
    p.tpa = tpa;
    oasis_arp_emit(f + OASIS_ETH_HLEN, &p);
    oasis_stack_input(h->s, f, 60);
}

/* What the test server puts in a reply. */
typedef struct srv {
    uint8_t type;
    uint32_t xid;
    uint32_t yiaddr;
    uint32_t server;          /* option 54; 0: none */
    uint32_t lease;           /* option 51; 0: none */
    uint32_t t1, t2;          /* 0: none */
    uint32_t mask;            /* 0: none */
    uint32_t router;
    uint32_t dns[2];
    uint16_t mtu;
    const uint8_t *chaddr;    /* NULL: the client's */
    int lease_zero;           /* send option 51 with 0 */
    int t1_zero, t2_zero;     /* send option 58 / 59 with 0 */
    int server_raw;           /* send option 54 even when server is 0 */
    const uint8_t *cid;       /* option 61 echoed (RFC 6842); NULL: none */
    size_t cid_len;
    const uint8_t *extra;     /* whole options (code, length, data...) put before End */
    size_t extra_len;
} srv;

static srv srv_default(uint8_t type, uint32_t xid)
{
    srv r;
    memset(&r, 0, sizeof r);
    r.type = type;
    r.xid = xid;
    r.yiaddr = type == OASIS_DHCPNAK ? 0 : OFFERED;
    r.server = SERVER;
    r.lease = type == OASIS_DHCPNAK ? 0 : 100;
    r.mask = type == OASIS_DHCPNAK ? 0 : 0xffffff00u;
    r.router = type == OASIS_DHCPNAK ? 0 : ROUTER;
    r.dns[0] = OASIS_IPV4(10, 0, 0, 53);
    r.dns[1] = OASIS_IPV4(9, 9, 9, 9);
    if (type == OASIS_DHCPNAK)
        r.dns[0] = r.dns[1] = 0;
    return r;
}

static size_t build_reply(const srv *r, uint8_t *m)
{
    memset(m, 0, 576);
    m[0] = OASIS_BOOTREPLY;
    m[1] = 1;
    m[2] = 6;
    oasis_put32(m + 4, r->xid);
    oasis_put32(m + 16, r->yiaddr);
    memcpy(m + 28, r->chaddr ? r->chaddr : client_mac, 6);
    m[236] = 99, m[237] = 130, m[238] = 83, m[239] = 99;
    size_t i = 240;
    m[i++] = OASIS_DHO_MSG_TYPE, m[i++] = 1, m[i++] = r->type;
#define OPT32(code, v)                   \
    do {                                 \
        m[i++] = code;                   \
        m[i++] = 4;                      \
        oasis_put32(m + i, v);           \
        i += 4;                          \
    } while (0)
    if (r->server || r->server_raw)
        OPT32(OASIS_DHO_SERVER_ID, r->server);
    if (r->lease || r->lease_zero)
        OPT32(OASIS_DHO_LEASE_TIME, r->lease);
    if (r->t1 || r->t1_zero)
        OPT32(OASIS_DHO_T1, r->t1);
    if (r->t2 || r->t2_zero)
        OPT32(OASIS_DHO_T2, r->t2);
    if (r->mask)
        OPT32(OASIS_DHO_SUBNET_MASK, r->mask);
    if (r->router)
        OPT32(OASIS_DHO_ROUTER, r->router);
    if (r->dns[0]) {
        m[i++] = OASIS_DHO_DNS, m[i++] = 8;
        oasis_put32(m + i, r->dns[0]);
        oasis_put32(m + i + 4, r->dns[1]);
        i += 8;
    }
    if (r->mtu) {
        m[i++] = OASIS_DHO_MTU, m[i++] = 2;
        oasis_put16(m + i, r->mtu);
        i += 2;
    }
#undef OPT32
    if (r->cid) {
        m[i++] = OASIS_DHO_CLIENT_ID, m[i++] = (uint8_t)r->cid_len;
        memcpy(m + i, r->cid, r->cid_len);
        i += r->cid_len;
    }
    if (r->extra) {
        memcpy(m + i, r->extra, r->extra_len);
        i += r->extra_len;
    }
    m[i++] = OASIS_DHO_END;
    return i < 300 ? 300 : i;
}

/* A reply as a server on the link sends it: unicast to the client's MAC
 * and to ip_dst (the offered address before the client has one). */
static void reply_to(harness *h, const srv *r, uint32_t ip_dst)
{
    uint8_t m[576];
    size_t n = build_reply(r, m);
    inject_udp(h, client_mac, SERVER, ip_dst, m, n);
}

/* ---- reading what the stack sent ---------------------------------------- */

typedef struct sent {
    oasis_dhcp_msg m;
    uint8_t raw[1600];
    uint32_t ip_src, ip_dst;
    uint8_t eth_dst[6];
    uint64_t at;
} sent;

/* Answers ARP requests for anything but probes (spa 0) as server_mac; a
 * probe is kept for the test to read. Returns the next non-answered frame
 * or NULL. */
static frame *next_frame(harness *h)
{
    while (h->qlen) {
        frame *f = &h->q[h->qhead];
        h->qhead = (h->qhead + 1) % 256;
        h->qlen--;
        oasis_eth_hdr eh;
        assert_int_equal(oasis_eth_parse(f->data, f->len, &eh), OASIS_OK);
        if (eh.type == OASIS_ETHERTYPE_ARP) {
            oasis_arp_pkt p;
            assert_int_equal(oasis_arp_parse(eh.payload, eh.payload_len, &p), OASIS_OK);
            if (p.op == OASIS_ARP_REQUEST && p.spa != 0 && p.spa != p.tpa) {
                if (h->answer_arp)
                    inject_arp(h, OASIS_ARP_REPLY, server_mac, p.tpa, p.spa, client_mac);
                continue;
            }
        }
        return f;
    }
    return NULL;
}

/* The next DHCP message the client sent (ARP probes and announcements
 * before it are skipped and counted in *arps). Returns 1 or 0. */
static int pop_dhcp(harness *h, sent *out)
{
    frame *f;
    while ((f = next_frame(h))) {
        oasis_eth_hdr eh;
        oasis_eth_parse(f->data, f->len, &eh);
        if (eh.type != OASIS_ETHERTYPE_IPV4)
            continue;
        oasis_ipv4_hdr ih;
        assert_int_equal(oasis_ipv4_parse(eh.payload, eh.payload_len, &ih), OASIS_OK);
        if (ih.proto != OASIS_IPPROTO_UDP)
            continue;
        oasis_udp_hdr u;
        assert_int_equal(oasis_udp_parse(ih.payload, ih.payload_len, ih.src, ih.dst, &u), OASIS_OK);
        assert_int_equal(u.src_port, 68);
        assert_int_equal(u.dst_port, 67);
        memcpy(out->raw, u.payload, u.payload_len);
        assert_int_equal(oasis_dhcp_parse(out->raw, u.payload_len, &out->m), OASIS_OK);
        assert_int_equal(out->m.op, OASIS_BOOTREQUEST);
        assert_memory_equal(out->m.chaddr, client_mac, 6);
        out->ip_src = ih.src;
        out->ip_dst = ih.dst;
        memcpy(out->eth_dst, eh.dst, 6);
        out->at = f->at;
        return 1;
    }
    return 0;
}

/* ARP probes (spa 0) sent since the last call; other frames are dropped. */
static int count_probes(harness *h, uint32_t tpa)
{
    int n = 0;
    frame *f;
    while ((f = next_frame(h))) {
        oasis_eth_hdr eh;
        oasis_eth_parse(f->data, f->len, &eh);
        if (eh.type != OASIS_ETHERTYPE_ARP)
            continue;
        oasis_arp_pkt p;
        oasis_arp_parse(eh.payload, eh.payload_len, &p);
        if (p.spa == 0 && p.tpa == tpa && oasis_mac_is_broadcast(eh.dst))
            n++;
    }
    return n;
}

/* Moves the clock to t, firing each timer at its own deadline. */
static void run_until(harness *h, uint64_t t)
{
    for (;;) {
        uint64_t next = oasis_stack_next_deadline(h->s);
        if (next > t)
            break;
        oasis_clock_set(h->clock, next);
        oasis_stack_poll(h->s);
    }
    oasis_clock_set(h->clock, t);
    oasis_stack_poll(h->s);
}

static void advance(harness *h, uint64_t ns) { run_until(h, now(h) + ns); }

/* Runs until the client sends a DHCP message (at most `limit`). */
static int run_to_dhcp(harness *h, uint64_t limit, sent *out)
{
    uint64_t end = now(h) + limit;
    for (;;) {
        if (pop_dhcp(h, out))
            return 1;
        uint64_t next = oasis_stack_next_deadline(h->s);
        if (next > end)
            return 0;
        oasis_clock_set(h->clock, next);
        oasis_stack_poll(h->s);
    }
}

static int has_opt(const sent *s, uint8_t code)
{
    uint8_t b[256];
    return oasis_dhcp_opt_get(&s->m, code, b, sizeof b) >= 0;
}

static const oasis_dhcp_counters *ctr(harness *h) { return oasis_dhcp_get_counters(h->d); }

/* DISCOVER, OFFER, REQUEST, ACK, probes: the client is BOUND to OFFERED
 * with a lease `lease` (server options t1/t2 when not 0). Returns the time
 * the REQUEST went out (the lease's start). */
/* Starts the client and OFFERs it OFFERED: *req is the REQUEST it sends
 * (req->at is the lease's start). */
static void to_requesting(harness *h, sent *req)
{
    assert_int_equal(oasis_dhcp_start(h->d), OASIS_OK);
    assert_true(run_to_dhcp(h, 2 * SEC, req));
    assert_int_equal(req->m.msg_type, OASIS_DHCPDISCOVER);
    srv o = srv_default(OASIS_DHCPOFFER, req->m.xid);
    reply_to(h, &o, OFFERED);
    assert_true(pop_dhcp(h, req));
    assert_int_equal(req->m.msg_type, OASIS_DHCPREQUEST);
}

static uint64_t obtain(harness *h, uint32_t lease, uint32_t t1, uint32_t t2)
{
    sent s;
    to_requesting(h, &s);
    uint64_t req_at = s.at;
    srv a = srv_default(OASIS_DHCPACK, s.m.xid);
    a.lease = lease;
    a.t1 = t1;
    a.t2 = t2;
    reply_to(h, &a, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h->d), OASIS_DHCP_PROBING);
    /* The probes: at most 1 + 2 + 2 + 2 s. */
    uint64_t end = now(h) + 8 * SEC;
    while (oasis_dhcp_get_state(h->d) == OASIS_DHCP_PROBING && now(h) < end) {
        oasis_clock_set(h->clock, oasis_stack_next_deadline(h->s));
        oasis_stack_poll(h->s);
    }
    assert_int_equal(oasis_dhcp_get_state(h->d), OASIS_DHCP_BOUND);
    h->qlen = 0;
    return req_at;
}

/* ---- wire format ------------------------------------------------------- */

static size_t base_msg(uint8_t *m)
{
    srv r = srv_default(OASIS_DHCPACK, 7);
    return build_reply(&r, m);
}

static void test_wire_parse_reply(void **state)
{
    (void)state;
    uint8_t m[576];
    size_t n = base_msg(m);
    oasis_dhcp_msg msg;
    assert_int_equal(oasis_dhcp_parse(m, n, &msg), OASIS_OK);
    assert_int_equal(msg.op, OASIS_BOOTREPLY);
    assert_int_equal(msg.xid, 7);
    assert_int_equal(msg.msg_type, OASIS_DHCPACK);
    assert_int_equal(msg.yiaddr, OFFERED);
    assert_int_equal(msg.server_id, SERVER);
    assert_int_equal(msg.lease_time, 100);
    assert_int_equal(msg.subnet_mask, 0xffffff00u);
    assert_int_equal(msg.nrouters, 1);
    assert_int_equal(msg.routers[0], ROUTER);
    assert_int_equal(msg.ndns, 2);
    assert_int_equal(msg.dns[1], OASIS_IPV4(9, 9, 9, 9));
    assert_int_equal(oasis_dhcp_mask_prefix(0xffffff00u), 24);
    assert_int_equal(oasis_dhcp_mask_prefix(0xffff00ffu), -1);
    assert_int_equal(oasis_dhcp_mask_prefix(0xffffffffu), 32);
}

/* Every length is checked: truncations anywhere are refused. */
static void test_wire_truncated_and_bad_lengths(void **state)
{
    (void)state;
    uint8_t m[576];
    size_t n = base_msg(m);
    oasis_dhcp_msg msg;
    assert_int_equal(oasis_dhcp_parse(m, 239, &msg), OASIS_ETRUNCATED);
    assert_int_equal(oasis_dhcp_parse(NULL, 0, &msg), OASIS_ETRUNCATED);
    /* Cut inside an option: its length runs past the end. */
    assert_int_equal(oasis_dhcp_parse(m, 240 + 3 + 4, &msg), OASIS_EMALFORMED);
    /* Cut right after a code byte (no length). */
    assert_int_equal(oasis_dhcp_parse(m, 240 + 3 + 1, &msg), OASIS_EMALFORMED);
    /* Bad cookie. */
    m[236] = 98;
    assert_int_equal(oasis_dhcp_parse(m, n, &msg), OASIS_EMALFORMED);
    m[236] = 99;
    /* hlen over 16. */
    m[2] = 17;
    assert_int_equal(oasis_dhcp_parse(m, n, &msg), OASIS_EMALFORMED);
    m[2] = 6;
    /* A 3-byte lease time. */
    uint8_t x[576];
    memcpy(x, m, n);
    size_t i = 240;
    x[i++] = 53, x[i++] = 1, x[i++] = 5;
    x[i++] = 51, x[i++] = 3, x[i++] = 0, x[i++] = 0, x[i++] = 1;
    x[i++] = 255;
    assert_int_equal(oasis_dhcp_parse(x, i, &msg), OASIS_EMALFORMED);
    /* A router list that is not a multiple of 4. */
    i = 240 + 3;
    x[i++] = 3, x[i++] = 5, i += 5;
    x[i++] = 255;
    assert_int_equal(oasis_dhcp_parse(x, i, &msg), OASIS_EMALFORMED);
    /* A message type of 2 bytes; a message type 0; an MTU under 68. */
    i = 240;
    x[i++] = 53, x[i++] = 2, x[i++] = 5, x[i++] = 5, x[i++] = 255;
    assert_int_equal(oasis_dhcp_parse(x, i, &msg), OASIS_EMALFORMED);
    i = 240;
    x[i++] = 53, x[i++] = 1, x[i++] = 0, x[i++] = 255;
    assert_int_equal(oasis_dhcp_parse(x, i, &msg), OASIS_EMALFORMED);
    i = 240;
    x[i++] = 26, x[i++] = 2, x[i++] = 0, x[i++] = 67, x[i++] = 255;
    assert_int_equal(oasis_dhcp_parse(x, i, &msg), OASIS_EMALFORMED);
    /* An empty hostname. */
    i = 240;
    x[i++] = 12, x[i++] = 0, x[i++] = 255;
    assert_int_equal(oasis_dhcp_parse(x, i, &msg), OASIS_EMALFORMED);
}

/* Pads are skipped, End ends the field, nothing after End is read, a
 * field may also end without End. */
static void test_wire_pad_end(void **state)
{
    (void)state;
    uint8_t x[576] = {0};
    srv r = srv_default(OASIS_DHCPOFFER, 9);
    build_reply(&r, x);
    size_t i = 240;
    x[i++] = 0, x[i++] = 0; /* pads */
    x[i++] = 53, x[i++] = 1, x[i++] = 2;
    x[i++] = 0;
    x[i++] = 54, x[i++] = 4, x[i++] = 10, x[i++] = 0, x[i++] = 0, x[i++] = 254;
    x[i++] = 255;
    x[i++] = 51, x[i++] = 200; /* garbage after End: not read */
    oasis_dhcp_msg msg;
    assert_int_equal(oasis_dhcp_parse(x, i, &msg), OASIS_OK);
    assert_int_equal(msg.msg_type, OASIS_DHCPOFFER);
    assert_int_equal(msg.server_id, SERVER);
    assert_false(msg.have & OASIS_DHCP_HAVE_LEASE);
    /* No End: the field ends at the last byte. */
    assert_int_equal(oasis_dhcp_parse(x, 240 + 2 + 3 + 1 + 6, &msg), OASIS_OK);
    assert_int_equal(msg.server_id, SERVER);
}

/* RFC 2131 4.1 / RFC 2132 9.3: options continue in 'file' then 'sname';
 * RFC 3396: pieces of one option are concatenated. */
static void test_wire_overload_and_concat(void **state)
{
    (void)state;
    uint8_t x[300] = {0};
    x[0] = 2, x[1] = 1, x[2] = 6;
    x[236] = 99, x[237] = 130, x[238] = 83, x[239] = 99;
    size_t i = 240;
    x[i++] = 52, x[i++] = 1, x[i++] = 3; /* both fields */
    x[i++] = 53, x[i++] = 1, x[i++] = 5;
    x[i++] = 6, x[i++] = 2, x[i++] = 10, x[i++] = 0; /* first half of a DNS address */
    x[i++] = 255;
    size_t f = OASIS_DHCP_FILE_OFF;
    x[f++] = 6, x[f++] = 2, x[f++] = 0, x[f++] = 53; /* its second half */
    x[f++] = 51, x[f++] = 4, x[f++] = 0, x[f++] = 0, x[f++] = 0, x[f++] = 60;
    x[f++] = 255;
    size_t sn = OASIS_DHCP_SNAME_OFF;
    x[sn++] = 54, x[sn++] = 4, x[sn++] = 10, x[sn++] = 0, x[sn++] = 0, x[sn++] = 254;
    x[sn++] = 255;
    oasis_dhcp_msg msg;
    assert_int_equal(oasis_dhcp_parse(x, i, &msg), OASIS_OK);
    assert_int_equal(msg.overload, 3);
    assert_int_equal(msg.lease_time, 60);
    assert_int_equal(msg.server_id, SERVER);
    assert_int_equal(msg.ndns, 1);
    assert_int_equal(msg.dns[0], OASIS_IPV4(10, 0, 0, 53));
    /* Without overload, 'file' is not options. */
    x[242] = 0; /* overload value 0: invalid */
    assert_int_equal(oasis_dhcp_parse(x, i, &msg), OASIS_EMALFORMED);
    /* Pads instead: 'file' is not read, and the DNS piece left in the
     * options field alone (2 bytes) is no address list. */
    x[240] = 0, x[241] = 0, x[242] = 0;
    assert_int_equal(oasis_dhcp_parse(x, i, &msg), OASIS_EMALFORMED);
    x[246] = 0, x[247] = 0, x[248] = 0, x[249] = 0; /* the DNS piece too */
    assert_int_equal(oasis_dhcp_parse(x, i, &msg), OASIS_OK);
    assert_false(msg.have & OASIS_DHCP_HAVE_LEASE);
    assert_false(msg.have & OASIS_DHCP_HAVE_SERVER_ID);
    assert_int_equal(msg.ndns, 0);
    x[246] = 6, x[247] = 2, x[248] = 10, x[249] = 0;
    /* A malformed option inside an overloaded field is caught too. */
    x[240] = 52, x[241] = 1, x[242] = 1;
    x[OASIS_DHCP_FILE_OFF + 4 + 1] = 200; /* lease option length runs past 'file' */
    assert_int_equal(oasis_dhcp_parse(x, i, &msg), OASIS_EMALFORMED);
    /* Overload twice. */
    x[OASIS_DHCP_FILE_OFF + 4 + 1] = 4;
    x[240 + 3 + 3 + 4] = 52, x[240 + 3 + 3 + 5] = 1, x[240 + 3 + 3 + 6] = 1;
    assert_int_equal(oasis_dhcp_parse(x, 240 + 3 + 3 + 7, &msg), OASIS_EMALFORMED);
}

/* Parses a reply carrying the given options after the usual ones. */
static int parse_with(const uint8_t *opts, size_t len, oasis_dhcp_msg *msg)
{
    uint8_t m[1024];
    srv r = srv_default(OASIS_DHCPACK, 7);
    r.extra = opts;
    r.extra_len = len;
    size_t n = build_reply(&r, m);
    return oasis_dhcp_parse(m, n, msg);
}

/* RFC 3397 2: the domain search list in RFC 1035 form, compression
 * pointers counting from the first octet of the option data, which may
 * span several options (RFC 3396). Its section 3's example, split where
 * the RFC splits it. Option 15 (RFC 2132 3.17) is text. A name that does
 * not read spoils the option, not the message. */
static void test_wire_domain_search(void **state)
{
    (void)state;
    static const uint8_t example[] = {
        119, 9, 3, 'e', 'n', 'g', 5, 'a', 'p', 'p', 'l',
        119, 18, 'e', 3, 'c', 'o', 'm', 0, 9, 'm', 'a', 'r', 'k', 'e', 't', 'i', 'n', 'g',
        0xc0, 0x04,
    };
    oasis_dhcp_msg msg;
    assert_int_equal(parse_with(example, sizeof example, &msg), OASIS_OK);
    assert_true(msg.have & OASIS_DHCP_HAVE_SEARCH);
    assert_int_equal(msg.nsearch, 2);
    assert_string_equal(msg.search[0], "eng.apple.com");
    assert_string_equal(msg.search[1], "marketing.apple.com");
    assert_int_equal(msg.ignored, 0);

    /* A pointer to itself, forward, or past the data: the option goes. */
    static const uint8_t loops[] = {119, 6, 1, 'a', 0, 0xc0, 5, 0};
    static const uint8_t forward[] = {119, 7, 0xc0, 2, 1, 'a', 0, 1, 'b'};
    static const uint8_t past[] = {119, 4, 1, 'a', 0xc0, 40};
    static const uint8_t cut[] = {119, 3, 5, 'a', 'b'};
    static const uint8_t empty[] = {119, 0};
    const struct {
        const uint8_t *o;
        size_t n;
    } bad[] = {{loops, sizeof loops}, {forward, sizeof forward}, {past, sizeof past},
               {cut, sizeof cut}, {empty, sizeof empty}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse_with(bad[i].o, bad[i].n, &msg), OASIS_OK);
        assert_false(msg.have & OASIS_DHCP_HAVE_SEARCH);
        assert_int_equal(msg.nsearch, 0);
        assert_int_equal(msg.ignored, 1);
        assert_int_equal(msg.lease_time, 100); /* the rest still read */
    }

    /* Names a search list cannot use (a dot or a space inside a label,
     * the root) are skipped; the others kept, at most six. */
    static const uint8_t mixed[] = {
        119, 26, 3, 'a', '.', 'b', 0, 0, 1, 'x', 0, 2, 'y', ' ', 0,
        1, 'c', 0xc0, 6, 1, 'd', 0, 1, 'e', 0, 1, 'f', 0,
        119, 12, 1, 'g', 0, 1, 'h', 0, 1, 'i', 0, 1, 'j', 0,
    };
    assert_int_equal(parse_with(mixed, sizeof mixed, &msg), OASIS_OK);
    assert_int_equal(msg.nsearch, OASIS_DHCP_MAX_SEARCH);
    const char *want[] = {"x", "c.x", "d", "e", "f", "g"};
    for (int i = 0; i < OASIS_DHCP_MAX_SEARCH; i++)
        assert_string_equal(msg.search[i], want[i]);

    /* Option 15: text, a final dot or NUL allowed; not a name: left out. */
    static const uint8_t d1[] = {15, 10, 'l', 'a', 'n', '.', 't', 'e', 's', 't', '.', 0};
    assert_int_equal(parse_with(d1, sizeof d1, &msg), OASIS_OK);
    assert_string_equal(msg.domain, "lan.test");
    static const uint8_t d2[] = {15, 4, 'a', '.', '.', 'b'};
    static const uint8_t d3[] = {15, 3, 'a', 0, 'b'};
    static const uint8_t d4[] = {15, 3, 'a', ' ', 'b'};
    static const uint8_t d5[] = {15, 1, 0};
    const uint8_t *bad15[] = {d2, d3, d4, d5};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(parse_with(bad15[i], 2u + bad15[i][1], &msg), OASIS_OK);
        assert_false(msg.have & OASIS_DHCP_HAVE_DOMAIN);
        assert_string_equal(msg.domain, "");
        assert_int_equal(msg.ignored, 1);
    }
}

static void test_wire_build(void **state)
{
    (void)state;
    uint8_t buf[300];
    oasis_dhcp_builder b;
    oasis_dhcp_build_start(&b, buf, sizeof buf, OASIS_DHCPDISCOVER, 0x1234, 3, 0, 0, client_mac);
    oasis_dhcp_build_opt32(&b, OASIS_DHO_REQUESTED_IP, OFFERED);
    size_t n = oasis_dhcp_build_end(&b);
    assert_int_equal(n, 300);
    oasis_dhcp_msg m;
    assert_int_equal(oasis_dhcp_parse(buf, n, &m), OASIS_OK);
    assert_int_equal(m.op, OASIS_BOOTREQUEST);
    assert_int_equal(m.xid, 0x1234);
    assert_int_equal(m.secs, 3);
    assert_int_equal(m.requested_ip, OFFERED);
    /* Too small a buffer fails cleanly. */
    oasis_dhcp_build_start(&b, buf, 250, OASIS_DHCPDISCOVER, 1, 0, 0, 0, client_mac);
    uint8_t big[20] = {0};
    oasis_dhcp_build_opt(&b, 61, big, sizeof big);
    assert_int_equal(oasis_dhcp_build_end(&b), 0);
}

/* ---- the client -------------------------------------------------------- */

/* Lease obtained: DISCOVER from 0.0.0.0 to 255.255.255.255; the offer
 * unicast to the offered address is taken before we have an address; the
 * REQUEST names the server and the address; probes; the stack is set up. */
static void test_lease_obtained(void **state)
{
    (void)state;
    harness h;
    oasis_dhcp_config c;
    oasis_dhcp_config_init(&c);
    c.hostname = "oasis-test";
    h_init_cfg(&h, &c, 42);
    sent s;
    assert_int_equal(oasis_stack_addr(h.s), 0);
    assert_int_equal(oasis_dhcp_start(h.d), OASIS_OK);
    assert_int_equal(oasis_dhcp_start(h.d), OASIS_EBUSY);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    assert_true(now(&h) - START_NS <= SEC); /* the start delay */
    assert_int_equal(s.m.msg_type, OASIS_DHCPDISCOVER);
    assert_int_equal(s.ip_src, 0);
    assert_int_equal(s.ip_dst, 0xffffffffu);
    assert_true(oasis_mac_is_broadcast(s.eth_dst));
    assert_int_equal(s.m.flags, 0); /* unicast replies are fine */
    assert_true(has_opt(&s, OASIS_DHO_PARAM_LIST));
    uint8_t cid[16];
    assert_int_equal(oasis_dhcp_opt_get(&s.m, OASIS_DHO_CLIENT_ID, cid, sizeof cid), 7);
    assert_int_equal(cid[0], 1);
    assert_memory_equal(cid + 1, client_mac, 6);
    assert_string_equal(s.m.hostname, "oasis-test");
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_SELECTING);
    uint32_t xid = s.m.xid;

    srv o = srv_default(OASIS_DHCPOFFER, xid);
    reply_to(&h, &o, OFFERED); /* unicast to an address that is not ours yet */
    assert_int_equal(ctr(&h)->rx_offers, 1);
    assert_true(pop_dhcp(&h, &s));
    assert_int_equal(s.m.msg_type, OASIS_DHCPREQUEST);
    assert_int_equal(s.m.xid, xid);
    assert_int_equal(s.m.requested_ip, OFFERED);
    assert_int_equal(s.m.server_id, SERVER);
    assert_int_equal(s.m.ciaddr, 0);
    assert_int_equal(s.ip_dst, 0xffffffffu);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_REQUESTING);

    /* An ACK from a server we did not choose (it saw the broadcast
     * REQUEST, which told it no) is not taken. */
    srv a = srv_default(OASIS_DHCPACK, xid);
    a.server = OASIS_IPV4(10, 0, 0, 200);
    reply_to(&h, &a, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_REQUESTING);
    assert_int_equal(ctr(&h)->rx_unexpected, 1);
    assert_int_equal(ctr(&h)->rx_acks, 0);

    a = srv_default(OASIS_DHCPACK, xid);
    a.mtu = 1400;
    static const uint8_t domains[] = {
        OASIS_DHO_DOMAIN, 8, 'l', 'a', 'n', '.', 't', 'e', 's', 't',
        OASIS_DHO_DOMAIN_SEARCH, 10, 3, 'l', 'a', 'n', 4, 't', 'e', 's', 't', 0};
    a.extra = domains;
    a.extra_len = sizeof domains;
    reply_to(&h, &a, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_PROBING);
    assert_int_equal(oasis_stack_addr(h.s), 0); /* not before the probes */
    advance(&h, 10 * SEC);
    assert_int_equal(count_probes(&h, OFFERED), 3);
    assert_int_equal(ctr(&h)->probes_sent, 3);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_BOUND);
    assert_int_equal(oasis_stack_addr(h.s), OFFERED);
    assert_int_equal(oasis_stack_prefix_len(h.s), 24);
    assert_int_equal(oasis_stack_gateway(h.s), ROUTER);
    assert_int_equal(oasis_stack_mtu(h.s), 1400);
    assert_int_equal(h.nevents, 1);
    assert_int_equal(h.events[0], OASIS_DHCP_EV_BOUND);
    assert_int_equal(h.last.addr, OFFERED);
    assert_int_equal(h.last.ndns, 2);
    assert_int_equal(h.last.dns[0], OASIS_IPV4(10, 0, 0, 53));
    assert_int_equal(h.last.dns[1], OASIS_IPV4(9, 9, 9, 9));
    assert_int_equal(h.last.server, SERVER);
    assert_int_equal(h.last.lease_s, 100);
    assert_int_equal(h.last.t1_s, 50);
    assert_int_equal(h.last.t2_s, 87);
    assert_string_equal(h.last.domain, "lan.test");
    assert_int_equal(h.last.nsearch, 1);
    assert_string_equal(h.last.search[0], "lan.test");
    assert_int_equal(ctr(&h)->rx_opts_ignored, 0);
    assert_int_equal(ctr(&h)->binds, 1);
    oasis_dhcp_lease l;
    assert_int_equal(oasis_dhcp_get_lease(h.d, &l), OASIS_OK);
    assert_int_equal(l.expires_ns - l.acquired_ns, 100 * SEC);
    /* Now a host: UDP goes out from the leased address. */
    assert_int_equal(oasis_udp_send4(h.s, 5000, PEER, 9, "x", 1), OASIS_OK);
    h_fini(&h);
}

/* Renewed at T1: REQUEST unicast to the server with ciaddr and without
 * server id / requested address; the lease restarts at the REQUEST. */
static void test_renew_at_t1(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    uint64_t t0 = obtain(&h, 100, 0, 0);
    oasis_dhcp_lease l;
    oasis_dhcp_get_lease(h.d, &l);
    assert_int_equal(l.t1_ns, t0 + 50 * SEC);
    sent s;
    run_until(&h, l.t1_ns - 1);
    assert_false(pop_dhcp(&h, &s));
    run_until(&h, l.t1_ns);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_RENEWING);
    assert_true(pop_dhcp(&h, &s));
    assert_int_equal(s.m.msg_type, OASIS_DHCPREQUEST);
    assert_int_equal(s.ip_dst, SERVER);
    assert_int_equal(s.ip_src, OFFERED);
    assert_memory_equal(s.eth_dst, server_mac, 6);
    assert_int_equal(s.m.ciaddr, OFFERED);
    assert_false(has_opt(&s, OASIS_DHO_SERVER_ID));
    assert_false(has_opt(&s, OASIS_DHO_REQUESTED_IP));
    uint64_t req = now(&h);
    advance(&h, SEC);
    srv a = srv_default(OASIS_DHCPACK, s.m.xid);
    a.lease = 200;
    inject_udp(&h, client_mac, SERVER, OFFERED, (uint8_t[576]){0}, 0); /* runt: malformed */
    uint8_t m[576];
    size_t n = build_reply(&a, m);
    inject_udp(&h, client_mac, SERVER, OFFERED, m, n);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_BOUND);
    assert_int_equal(h.events[h.nevents - 1], OASIS_DHCP_EV_RENEWED);
    assert_int_equal(ctr(&h)->renewals, 1);
    assert_int_equal(ctr(&h)->rx_malformed, 1);
    oasis_dhcp_get_lease(h.d, &l);
    assert_int_equal(l.acquired_ns, req);
    assert_int_equal(l.expires_ns, req + 200 * SEC);
    assert_int_equal(l.t1_ns, req + 100 * SEC);
    assert_int_equal(oasis_stack_addr(h.s), OFFERED);
    h_fini(&h);
}

/* The server's T1/T2 options are used. */
static void test_t1_t2_options(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    uint64_t t0 = obtain(&h, 120, 10, 20);
    oasis_dhcp_lease l;
    oasis_dhcp_get_lease(h.d, &l);
    assert_int_equal(l.t1_ns, t0 + 10 * SEC);
    assert_int_equal(l.t2_ns, t0 + 20 * SEC);
    assert_int_equal(l.expires_ns, t0 + 120 * SEC);
    h_fini(&h);
    /* RFC 2131 4.4.5: "T1 MUST be earlier than T2, which, in turn, MUST
     * be earlier than" the expiry. A pair out of order falls back to the
     * defaults 0.5 and 0.875 (was T1 pulled back to T2: no RENEWING). */
    static const uint32_t bad[][2] = {
        {90, 60},  /* T1 after T2: T1 default, 60 > T2 = 60 is no order: T2 default */
        {60, 60},  /* equal */
        {10, 120}, /* T2 at the expiry: T2 default, the T1 given stays */
        {10, 130}, /* T2 past it */
        {110, 0},  /* T1 after the default T2 */
        {0, 30},   /* T2 under the default T1 */
    };
    static const uint32_t want[][2] = {{60, 105}, {60, 105}, {10, 105},
                                       {10, 105}, {60, 105}, {60, 105}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h_init(&h);
        t0 = obtain(&h, 120, bad[i][0], bad[i][1]);
        oasis_dhcp_get_lease(h.d, &l);
        assert_int_equal(l.t1_s, want[i][0]);
        assert_int_equal(l.t2_s, want[i][1]);
        assert_int_equal(l.t1_ns, t0 + want[i][0] * SEC);
        assert_int_equal(l.t2_ns, t0 + want[i][1] * SEC);
        assert_int_equal(l.expires_ns, t0 + 120 * SEC);
        h_fini(&h);
    }
}

/* T1 already past when the lease is bound (an ACK to a late retransmission,
 * the RFC 5227 probes take 4 to 7 s): RFC 2131 4.4.5, "At time T1 the
 * client moves to RENEWING state and sends (via unicast) a DHCPREQUEST":
 * it renews at once, not only at T2 with a broadcast. */
static void test_t1_passed_while_probing(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    sent s;
    to_requesting(&h, &s);
    uint64_t req_at = s.at;
    srv a = srv_default(OASIS_DHCPACK, s.m.xid);
    a.lease = 100;
    a.t1 = 1; /* over before the probes are */
    a.t2 = 50;
    reply_to(&h, &a, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_PROBING);
    while (ctr(&h)->binds == 0 && now(&h) < req_at + 10 * SEC) {
        oasis_clock_set(h.clock, oasis_stack_next_deadline(h.s));
        oasis_stack_poll(h.s);
    }
    assert_int_equal(ctr(&h)->binds, 1);
    uint64_t bound_at = now(&h);
    assert_true(bound_at >= req_at + 4 * SEC);
    /* The next DHCP message: the unicast REQUEST of RENEWING, at once. */
    assert_true(run_to_dhcp(&h, 60 * SEC, &s));
    assert_int_equal(s.m.msg_type, OASIS_DHCPREQUEST);
    assert_int_equal(s.at, bound_at); /* was T2, 50 s after the REQUEST */
    assert_int_equal(s.ip_dst, SERVER);
    assert_int_equal(s.m.ciaddr, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_RENEWING);
    h_fini(&h);
}

/* RFC 2131 4.4.5: at the end of the lease the client stops using the
 * address and goes back to INIT. A 3 s lease ends while its address is
 * still probed (RFC 5227 2.1.1: at least 4 s from the ACK): the client
 * never configures it, tells nothing, stops probing and DISCOVERs again
 * after 1 s; an ARP reply for the address then is no conflict. An ACK to
 * a retransmitted REQUEST whose lease was already over (counted from the
 * first REQUEST) is not probed at all, with or without probes. */
static void test_lease_expires_while_probing(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    sent s;
    to_requesting(&h, &s);
    uint64_t req_at = s.at;
    srv a = srv_default(OASIS_DHCPACK, s.m.xid);
    a.lease = 3;
    reply_to(&h, &a, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_PROBING);
    run_until(&h, req_at + 3 * SEC - 1);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_PROBING);
    assert_true(ctr(&h)->probes_sent >= 1);
    run_until(&h, req_at + 3 * SEC);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_INIT);
    assert_int_equal(ctr(&h)->expiries, 1);
    assert_int_equal(ctr(&h)->binds, 0);
    assert_int_equal(h.nevents, 0);
    assert_int_equal(oasis_stack_addr(h.s), 0);
    oasis_dhcp_lease l;
    assert_int_equal(oasis_dhcp_get_lease(h.d, &l), OASIS_ENOENT);
    uint64_t probes = ctr(&h)->probes_sent;
    inject_arp(&h, OASIS_ARP_REPLY, other_mac, OFFERED, 0, client_mac);
    assert_int_equal(ctr(&h)->conflicts, 0);
    h.qlen = 0;
    assert_true(run_to_dhcp(&h, 5 * SEC, &s));
    assert_int_equal(s.m.msg_type, OASIS_DHCPDISCOVER);
    assert_true(s.at >= req_at + 4 * SEC);
    assert_int_equal(ctr(&h)->probes_sent, probes);
    assert_int_equal(ctr(&h)->tx_declines, 0);
    assert_int_equal(h.nevents, 0);

    /* Over before the ACK: the REQUEST went out twice (4 s apart, +-1),
     * the lease of 2 s counts from the first. */
    srv o = srv_default(OASIS_DHCPOFFER, s.m.xid);
    reply_to(&h, &o, OFFERED);
    assert_true(pop_dhcp(&h, &s));
    assert_int_equal(s.m.msg_type, OASIS_DHCPREQUEST);
    assert_true(run_to_dhcp(&h, 6 * SEC, &s));
    assert_int_equal(s.m.msg_type, OASIS_DHCPREQUEST);
    a = srv_default(OASIS_DHCPACK, s.m.xid);
    a.lease = 2;
    reply_to(&h, &a, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_INIT);
    assert_int_equal(ctr(&h)->expiries, 2);
    assert_int_equal(ctr(&h)->binds, 0);
    assert_int_equal(ctr(&h)->probes_sent, probes);
    assert_int_equal(h.nevents, 0);
    h_fini(&h);

    oasis_dhcp_config c;
    oasis_dhcp_config_init(&c);
    c.probes = 0;
    h_init_cfg(&h, &c, 42);
    to_requesting(&h, &s);
    assert_true(run_to_dhcp(&h, 6 * SEC, &s));
    a = srv_default(OASIS_DHCPACK, s.m.xid);
    a.lease = 2;
    reply_to(&h, &a, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_INIT);
    assert_int_equal(ctr(&h)->binds, 0);
    assert_int_equal(ctr(&h)->expiries, 1);
    assert_int_equal(oasis_stack_addr(h.s), 0);
    assert_int_equal(h.nevents, 0);
    h_fini(&h);
}

/* A server that ACKs every REQUEST at once for `secs` of virtual time, with
 * the lease, T1 and T2 of *a; returns the REQUESTs it saw (stops at 1000:
 * a client renewing at once after every ACK never lets the clock move). */
static int ack_everything(harness *h, const srv *a, uint64_t secs)
{
    uint64_t end = now(h) + secs * SEC;
    int reqs = 0;
    sent s;
    while (reqs < 1000) {
        if (pop_dhcp(h, &s)) {
            if (s.m.msg_type == OASIS_DHCPREQUEST) {
                reqs++;
                srv r = *a;
                r.xid = s.m.xid;
                reply_to(h, &r, OFFERED);
            }
            continue;
        }
        uint64_t next = oasis_stack_next_deadline(h->s);
        if (next > end)
            break;
        oasis_clock_set(h->clock, next);
        oasis_stack_poll(h->s);
    }
    return reqs;
}

/* A T1 or T2 of 0, or a lease so short that half of it rounds to 0 s,
 * would put the renewal at the very instant the REQUEST went out: due at
 * once after every ACK, a renewal storm at the speed of the round trip.
 * A zero T1/T2 is read as absent (the 1/2 and 7/8 defaults, as dhcpcd
 * does), and no renewal comes sooner than 1 s after its REQUEST. */
static void test_zero_t1_t2_no_renewal_storm(void **state)
{
    (void)state;
    for (int kind = 0; kind < 3; kind++) {
        harness h;
        h_init(&h);
        srv a = srv_default(OASIS_DHCPACK, 0);
        if (kind == 0) { /* T1 0 */
            a.lease = 100;
            a.t1_zero = 1;
        } else if (kind == 1) { /* T1 and T2 0 */
            a.lease = 100;
            a.t1_zero = a.t2_zero = 1;
        } else { /* a 1 s lease: T1 = T2 = 0 by the defaults */
            a.lease = 1;
        }
        assert_int_equal(oasis_dhcp_start(h.d), OASIS_OK);
        sent s;
        assert_true(run_to_dhcp(&h, 2 * SEC, &s));
        srv o = srv_default(OASIS_DHCPOFFER, s.m.xid);
        reply_to(&h, &o, OFFERED);
        int reqs = ack_everything(&h, &a, 30);
        if (kind < 2) {
            /* T1 50 s: the first REQUEST and its probe, nothing more. */
            assert_int_equal(reqs, 1);
            oasis_dhcp_lease l;
            assert_int_equal(oasis_dhcp_get_lease(h.d, &l), OASIS_OK);
            assert_int_equal(l.t1_s, 50);
            assert_int_equal(l.t2_s, 87);
        } else {
            /* Bound after the probes, expired 1 s after the REQUEST: at
             * most one REQUEST per DISCOVER and probe round. */
            assert_true(reqs <= 10);
        }
        h_fini(&h);
    }
}

/* RFC 2132 9.7: the server identifier is the server's IP address. One of
 * 0.0.0.0, a broadcast, multicast or loopback address names no server:
 * an OFFER with one is unusable (the REQUEST would name no one), and in
 * an ACK it is ignored like a missing one, the lease's server being the
 * reply's source, so that RENEWING's unicast reaches somebody. */
static void test_server_id_not_unicast(void **state)
{
    (void)state;
    static const uint32_t bad[] = {0, 0xffffffffu, OASIS_IPV4(224, 0, 0, 1),
                                   OASIS_IPV4(127, 0, 0, 1)};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        harness h;
        h_init(&h);
        sent s;
        oasis_dhcp_start(h.d);
        assert_true(run_to_dhcp(&h, 2 * SEC, &s));
        srv o = srv_default(OASIS_DHCPOFFER, s.m.xid);
        o.server = bad[i];
        o.server_raw = 1;
        reply_to(&h, &o, OFFERED);
        assert_int_equal(ctr(&h)->rx_invalid, 1);
        assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_SELECTING);
        o.server = SERVER;
        reply_to(&h, &o, OFFERED);
        assert_true(pop_dhcp(&h, &s));
        assert_int_equal(s.m.msg_type, OASIS_DHCPREQUEST);
        srv a = srv_default(OASIS_DHCPACK, s.m.xid);
        a.server = bad[i];
        a.server_raw = 1;
        reply_to(&h, &a, OFFERED);
        advance(&h, 10 * SEC);
        assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_BOUND);
        oasis_dhcp_lease l;
        oasis_dhcp_get_lease(h.d, &l);
        assert_int_equal(l.server, SERVER); /* the ACK's source */
        h.qlen = 0;
        run_until(&h, l.t1_ns);
        assert_true(pop_dhcp(&h, &s));
        assert_int_equal(s.m.msg_type, OASIS_DHCPREQUEST);
        assert_int_equal(s.ip_dst, SERVER);
        assert_int_equal(ctr(&h)->tx_errors, 0);
        h_fini(&h);
    }
}

/* RFC 2132 3.8: option 6 lists the DNS servers "available to the client".
 * A broadcast, multicast, loopback or 0/8 address is none: a resolver
 * given 255.255.255.255 would broadcast every name it looks up to the
 * link and take no answer (RFC 5452 9.1). Such entries are dropped. */
static void test_dns_servers_unicast_only(void **state)
{
    (void)state;
    static const uint32_t bad[] = {0xffffffffu, OASIS_IPV4(224, 0, 0, 251),
                                   OASIS_IPV4(127, 0, 0, 53), OASIS_IPV4(0, 1, 2, 3)};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        harness h;
        h_init(&h);
        sent s;
        oasis_dhcp_start(h.d);
        assert_true(run_to_dhcp(&h, 2 * SEC, &s));
        srv o = srv_default(OASIS_DHCPOFFER, s.m.xid);
        reply_to(&h, &o, OFFERED);
        assert_true(pop_dhcp(&h, &s));
        srv a = srv_default(OASIS_DHCPACK, s.m.xid);
        a.dns[0] = bad[i];
        a.dns[1] = OASIS_IPV4(10, 0, 0, 53);
        reply_to(&h, &a, OFFERED);
        advance(&h, 10 * SEC);
        assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_BOUND);
        oasis_dhcp_lease l;
        oasis_dhcp_get_lease(h.d, &l);
        assert_int_equal(l.ndns, 1); /* was 2 */
        assert_int_equal(l.dns[0], OASIS_IPV4(10, 0, 0, 53));
        h_fini(&h);
    }
}

/* Server gone: RENEWING retransmits no earlier than 60 s (RFC 2131 4.4.5),
 * REBINDING at T2 broadcasts, and an ACK there extends the lease. */
static void test_server_gone_rebinding(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    obtain(&h, 1000, 0, 0); /* T1 500 s, T2 875 s */
    oasis_dhcp_lease l;
    oasis_dhcp_get_lease(h.d, &l);
    sent s;
    run_until(&h, l.t1_ns);
    assert_true(pop_dhcp(&h, &s));
    assert_int_equal(s.ip_dst, SERVER);
    /* Half of the 375 s to T2. */
    assert_true(run_to_dhcp(&h, 400 * SEC, &s));
    assert_int_equal(s.at, l.t1_ns + 187500 * OASIS_NS_PER_MS);
    assert_int_equal(s.ip_dst, SERVER);
    assert_true(run_to_dhcp(&h, 400 * SEC, &s)); /* 93.75 s later */
    assert_int_equal(s.at - l.t1_ns, 281250 * OASIS_NS_PER_MS);
    /* 93.75 s before T2: half is 46.9 s, under the 60 s minimum: 60 s. */
    assert_true(run_to_dhcp(&h, 400 * SEC, &s));
    assert_int_equal(s.at - l.t1_ns, 341250 * OASIS_NS_PER_MS);
    /* 33.75 s before T2: 60 s would pass T2, so the next message is the
     * REBINDING broadcast at T2. */
    assert_true(run_to_dhcp(&h, 400 * SEC, &s));
    assert_int_equal(s.at, l.t2_ns);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_REBINDING);
    assert_int_equal(s.ip_dst, 0xffffffffu);
    assert_true(oasis_mac_is_broadcast(s.eth_dst));
    assert_int_equal(s.ip_src, OFFERED);
    assert_int_equal(s.m.ciaddr, OFFERED);
    assert_false(has_opt(&s, OASIS_DHO_SERVER_ID));
    /* Another server answers the broadcast. */
    srv a = srv_default(OASIS_DHCPACK, s.m.xid);
    a.server = OASIS_IPV4(10, 0, 0, 253);
    a.lease = 1000;
    reply_to(&h, &a, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_BOUND);
    assert_int_equal(ctr(&h)->rebinds, 1);
    assert_int_equal(h.events[h.nevents - 1], OASIS_DHCP_EV_RENEWED);
    oasis_dhcp_get_lease(h.d, &l);
    assert_int_equal(l.server, OASIS_IPV4(10, 0, 0, 253));
    h_fini(&h);
}

typedef struct conn_rec {
    int done, err;
} conn_rec;

static void on_connect(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    conn_rec *c = ud;
    c->done = 1;
    c->err = err;
    oasis_tcp_release(f);
}

/* Lease expiry (no server at all): the address goes; a TCP connect in
 * progress on it fails with OASIS_EADDRNOTAVAIL at once; sends fail with
 * no route; the client starts over with a DISCOVER from 0.0.0.0. */
static void test_expiry_drops_address(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    obtain(&h, 100, 0, 0);
    oasis_dhcp_lease l;
    oasis_dhcp_get_lease(h.d, &l);
    conn_rec c = {0, 0};
    h.answer_arp = 0; /* the peer never answers: the connect stays pending */
    assert_int_equal(oasis_tcp_connect4(h.s, PEER, 80, NULL, on_connect, &c), OASIS_OK);
    sent s;
    run_until(&h, l.expires_ns - 1);
    while (pop_dhcp(&h, &s))
        assert_int_equal(s.m.msg_type, OASIS_DHCPREQUEST);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_REBINDING);
    assert_int_equal(c.done, 0);
    assert_int_equal(oasis_stack_addr(h.s), OFFERED);
    run_until(&h, l.expires_ns);
    assert_int_equal(ctr(&h)->expiries, 1);
    assert_int_equal(h.events[h.nevents - 1], OASIS_DHCP_EV_EXPIRED);
    assert_int_equal(h.last.addr, OFFERED);
    assert_int_equal(oasis_stack_addr(h.s), 0);
    assert_int_equal(oasis_dhcp_get_lease(h.d, &l), OASIS_ENOENT);
    assert_int_equal(c.done, 1);
    assert_int_equal(c.err, OASIS_EADDRNOTAVAIL);
    assert_int_equal(oasis_udp_send4(h.s, 5000, PEER, 9, "x", 1), OASIS_ENOROUTE);
    assert_int_equal(oasis_tcp_connect4(h.s, PEER, 80, NULL, on_connect, &c), OASIS_ENOROUTE);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    assert_int_equal(s.m.msg_type, OASIS_DHCPDISCOVER);
    assert_int_equal(s.ip_src, 0);
    h_fini(&h);
}

/* An established flow on the leased address ends with EADDRNOTAVAIL. */
typedef struct acc {
    oasis_flow *f;
    int read_err, reads;
} acc;

static void on_read(oasis_flow *f, int err, const uint8_t *d, size_t n, void *ud)
{
    acc *a = ud;
    a->reads++;
    a->read_err = err;
}

static void on_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    acc *a = ud;
    a->f = f;
    oasis_tcp_read(f, on_read, a);
}

static void on_write(oasis_flow *f, int err, void *ud) { *(int *)ud = err; }

static void inject_tcp(harness *h, uint8_t flags, uint32_t seq, uint32_t ack)
{
    uint8_t t[20] = {0};
    oasis_put16(t, 40000);
    oasis_put16(t + 2, 80);
    oasis_put32(t + 4, seq);
    oasis_put32(t + 8, ack);
    t[12] = 5 << 4;
    t[13] = flags;
    oasis_put16(t + 14, 65535);
    /* checksum over the pseudo-header */
    uint32_t sum = (PEER >> 16) + (PEER & 0xffff) + (OFFERED >> 16) + (OFFERED & 0xffff) + 6 + 20;
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)(t[i] << 8 | t[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    oasis_put16(t + 16, (uint16_t)~sum);
    inject_ip(h, client_mac, server_mac, PEER, OFFERED, OASIS_IPPROTO_TCP, t, 20);
}

static void test_expiry_ends_established_flow(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    obtain(&h, 100, 0, 0);
    acc a = {NULL, 0, 0};
    assert_int_equal(oasis_tcp_listen(h.s, 80, NULL, on_accept, &a), OASIS_OK);
    inject_tcp(&h, 0x02, 1000, 0); /* SYN */
    /* The SYN-ACK: find our ISN. */
    uint32_t iss = 0;
    frame *f;
    while ((f = next_frame(&h))) {
        oasis_eth_hdr eh;
        oasis_eth_parse(f->data, f->len, &eh);
        oasis_ipv4_hdr ih;
        if (eh.type == OASIS_ETHERTYPE_IPV4 &&
            oasis_ipv4_parse(eh.payload, eh.payload_len, &ih) == OASIS_OK &&
            ih.proto == OASIS_IPPROTO_TCP)
            iss = oasis_get32(ih.payload + 4);
    }
    inject_tcp(&h, 0x10, 1001, iss + 1); /* ACK */
    advance(&h, 1);
    assert_non_null(a.f);
    oasis_tcp_info info;
    oasis_tcp_get_info(a.f, &info);
    assert_int_equal(info.state, OASIS_TCP_ESTABLISHED);
    oasis_dhcp_lease l;
    oasis_dhcp_get_lease(h.d, &l);
    h.answer_arp = 0;
    run_until(&h, l.expires_ns);
    advance(&h, 1); /* the flow's callbacks run from the next poll */
    assert_int_equal(oasis_tcp_flow_error(a.f), OASIS_EADDRNOTAVAIL);
    assert_int_equal(a.reads, 1);
    assert_int_equal(a.read_err, OASIS_EOF);
    int werr = 1;
    oasis_tcp_write(a.f, "x", 1, on_write, &werr);
    advance(&h, 1);
    assert_int_equal(werr, OASIS_ECLOSED);
    assert_string_equal(oasis_tcp_flow_strerror(a.f), oasis_strerror(OASIS_EADDRNOTAVAIL));
    oasis_tcp_release(a.f);
    h_fini(&h);
}

/* NAK in REQUESTING: back to INIT; a new DISCOVER after a second. */
static void test_nak_returns_to_init(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    sent s;
    oasis_dhcp_start(h.d);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    srv o = srv_default(OASIS_DHCPOFFER, s.m.xid);
    reply_to(&h, &o, OFFERED);
    assert_true(pop_dhcp(&h, &s));
    /* A NAK from another server is not for us. */
    srv n = srv_default(OASIS_DHCPNAK, s.m.xid);
    n.server = OASIS_IPV4(10, 0, 0, 200);
    reply_to(&h, &n, 0xffffffffu);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_REQUESTING);
    assert_int_equal(ctr(&h)->rx_unexpected, 1);
    n.server = SERVER;
    reply_to(&h, &n, 0xffffffffu);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_INIT);
    assert_int_equal(ctr(&h)->rx_naks, 1);
    assert_int_equal(h.events[0], OASIS_DHCP_EV_NAK);
    assert_false(h.last_had_lease);
    uint64_t t = now(&h);
    assert_true(run_to_dhcp(&h, 5 * SEC, &s));
    assert_int_equal(s.m.msg_type, OASIS_DHCPDISCOVER);
    assert_int_equal(s.at - t, SEC);
    h_fini(&h);
}

/* RFC 2131 3.1 and 4.3.1 table 3: in REQUESTING only the server the
 * REQUEST named may answer, and its ACK and NAK carry its server
 * identifier. An ACK or NAK naming another server, or naming none (or no
 * unicast address) while it comes from another host, is counted
 * (RxUnexpected) and ignored; the chosen server's own ACK without the
 * option, from its address, is still taken. */
static void reply_from(harness *h, const srv *r, uint32_t src, uint32_t ip_dst)
{
    uint8_t m[576];
    size_t n = build_reply(r, m);
    inject_udp(h, client_mac, src, ip_dst, m, n);
}

static void test_requesting_only_chosen_server(void **state)
{
    (void)state;
    const uint32_t other = OASIS_IPV4(10, 0, 0, 200);
    harness h;
    h_init(&h);
    sent s;
    to_requesting(&h, &s);
    srv a = srv_default(OASIS_DHCPACK, s.m.xid);
    srv n = srv_default(OASIS_DHCPNAK, s.m.xid);
    a.server = n.server = other;          /* another server, by its id */
    reply_from(&h, &a, other, OFFERED);
    reply_from(&h, &n, other, 0xffffffffu);
    a.server = n.server = 0;              /* no id, from another host */
    reply_from(&h, &a, other, OFFERED);
    reply_from(&h, &n, other, 0xffffffffu);
    a.server_raw = n.server_raw = 1;      /* id 0.0.0.0, from another host */
    reply_from(&h, &a, other, OFFERED);
    reply_from(&h, &n, other, 0xffffffffu);
    assert_int_equal(ctr(&h)->rx_unexpected, 6);
    assert_int_equal(ctr(&h)->rx_acks, 0);
    assert_int_equal(ctr(&h)->rx_naks, 0);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_REQUESTING);
    /* The chosen server's ACK without its id, from its own address. */
    a.server_raw = 0;
    reply_from(&h, &a, SERVER, OFFERED);
    assert_int_equal(ctr(&h)->rx_acks, 1);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_PROBING);
    h_fini(&h);
}

/* RFC 6842 3: "If the two client identifiers do not match, the client
 * MUST silently discard the message." An OFFER, ACK or NAK with our xid
 * and chaddr but another client identifier (another one, ours cut short,
 * ours with a byte more) is counted (RxWrongClientId) and moves nothing;
 * with ours echoed, or none (RFC 2131 servers), it is taken. */
static void test_client_id_mismatch_discarded(void **state)
{
    (void)state;
    uint8_t mine[8] = {1}, other[8] = {1};
    memcpy(mine + 1, client_mac, 6);
    memcpy(other + 1, other_mac, 6);
    harness h;
    h_init(&h);
    sent s;
    oasis_dhcp_start(h.d);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    srv o = srv_default(OASIS_DHCPOFFER, s.m.xid);
    o.cid = other;
    o.cid_len = 7;
    reply_to(&h, &o, OFFERED);
    o.cid = mine;
    o.cid_len = 6;
    reply_to(&h, &o, OFFERED);
    o.cid_len = 8;
    reply_to(&h, &o, OFFERED);
    assert_int_equal(ctr(&h)->rx_wrong_client_id, 3);
    assert_int_equal(ctr(&h)->rx_offers, 0);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_SELECTING);
    assert_false(pop_dhcp(&h, &s));
    o.cid_len = 7;
    reply_to(&h, &o, OFFERED);
    assert_true(pop_dhcp(&h, &s));
    assert_int_equal(s.m.msg_type, OASIS_DHCPREQUEST);
    srv n = srv_default(OASIS_DHCPNAK, s.m.xid);
    n.cid = other;
    n.cid_len = 7;
    reply_to(&h, &n, 0xffffffffu);
    srv a = srv_default(OASIS_DHCPACK, s.m.xid);
    a.cid = other;
    a.cid_len = 7;
    reply_to(&h, &a, OFFERED);
    assert_int_equal(ctr(&h)->rx_wrong_client_id, 5);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_REQUESTING);
    a.cid = NULL;
    reply_to(&h, &a, OFFERED);
    assert_int_equal(ctr(&h)->rx_acks, 1);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_PROBING);
    h_fini(&h);
}

/* NAK while RENEWING: the address is removed at once. */
static void test_nak_in_renewing_drops_address(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    obtain(&h, 100, 0, 0);
    oasis_dhcp_lease l;
    oasis_dhcp_get_lease(h.d, &l);
    run_until(&h, l.t1_ns);
    sent s;
    assert_true(pop_dhcp(&h, &s));
    srv n = srv_default(OASIS_DHCPNAK, s.m.xid);
    reply_to(&h, &n, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_INIT);
    assert_int_equal(oasis_stack_addr(h.s), 0);
    assert_int_equal(h.events[h.nevents - 1], OASIS_DHCP_EV_NAK);
    assert_true(h.last_had_lease);
    assert_int_equal(h.last.addr, OFFERED);
    h_fini(&h);
}

/* RFC 5227: a reply from another MAC for the offered address during the
 * probe: DECLINE (broadcast, requested address and server id), nothing
 * configured, and DISCOVER again only after 10 s. */
static void test_decline_on_conflict(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    sent s;
    oasis_dhcp_start(h.d);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    srv o = srv_default(OASIS_DHCPOFFER, s.m.xid);
    reply_to(&h, &o, OFFERED);
    assert_true(pop_dhcp(&h, &s));
    srv a = srv_default(OASIS_DHCPACK, s.m.xid);
    reply_to(&h, &a, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_PROBING);
    advance(&h, 1500 * OASIS_NS_PER_MS);
    assert_true(count_probes(&h, OFFERED) >= 1);
    /* A reply from our own MAC (a looped probe) is no conflict. */
    inject_arp(&h, OASIS_ARP_REQUEST, client_mac, 0, OFFERED, (const uint8_t[6]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_PROBING);
    inject_arp(&h, OASIS_ARP_REPLY, other_mac, OFFERED, 0, client_mac);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_INIT);
    assert_int_equal(ctr(&h)->conflicts, 1);
    assert_int_equal(h.events[0], OASIS_DHCP_EV_CONFLICT);
    assert_int_equal(h.last.addr, OFFERED);
    assert_int_equal(oasis_stack_addr(h.s), 0);
    assert_true(pop_dhcp(&h, &s));
    assert_int_equal(s.m.msg_type, OASIS_DHCPDECLINE);
    assert_int_equal(s.ip_dst, 0xffffffffu);
    assert_int_equal(s.ip_src, 0);
    assert_int_equal(s.m.requested_ip, OFFERED);
    assert_int_equal(s.m.server_id, SERVER);
    uint64_t t = now(&h);
    assert_true(run_to_dhcp(&h, 20 * SEC, &s));
    assert_int_equal(s.m.msg_type, OASIS_DHCPDISCOVER);
    assert_int_equal(s.at - t, 10 * SEC);
    assert_int_equal(ctr(&h)->tx_declines, 1);
    h_fini(&h);
}

/* RFC 5227 2.1.1: "if the host experiences MAX_CONFLICTS or more address
 * conflicts on a given interface, then the host MUST limit the rate at
 * which it probes for new addresses on this interface to no more than one
 * attempted new address per RATE_LIMIT_INTERVAL" (10 and 60 s, section 9).
 * A server that hands out a taken address again and again (or a host that
 * claims every address) gets a DECLINE every 10 s at first, then one a
 * minute. */
static void test_conflicts_rate_limited(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    sent s;
    oasis_dhcp_start(h.d);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    for (int i = 1; i <= 12; i++) {
        assert_int_equal(s.m.msg_type, OASIS_DHCPDISCOVER);
        srv o = srv_default(OASIS_DHCPOFFER, s.m.xid);
        reply_to(&h, &o, OFFERED);
        assert_true(pop_dhcp(&h, &s));
        srv a = srv_default(OASIS_DHCPACK, s.m.xid);
        reply_to(&h, &a, OFFERED);
        assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_PROBING);
        inject_arp(&h, OASIS_ARP_REPLY, other_mac, OFFERED, 0, client_mac);
        assert_int_equal(ctr(&h)->conflicts, (uint64_t)i);
        uint64_t t = now(&h);
        assert_true(pop_dhcp(&h, &s));
        assert_int_equal(s.m.msg_type, OASIS_DHCPDECLINE);
        assert_true(run_to_dhcp(&h, 100 * SEC, &s));
        assert_int_equal(s.at - t, (i < 10 ? 10 : 60) * SEC); /* was 10 s every time */
    }
    h_fini(&h);
}

/* Another host probing for the same address at the same time is a
 * conflict too (RFC 5227 2.1.1). */
static void test_conflict_simultaneous_probe(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    sent s;
    oasis_dhcp_start(h.d);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    srv o = srv_default(OASIS_DHCPOFFER, s.m.xid);
    reply_to(&h, &o, OFFERED);
    assert_true(pop_dhcp(&h, &s));
    srv a = srv_default(OASIS_DHCPACK, s.m.xid);
    reply_to(&h, &a, OFFERED);
    static const uint8_t bc[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    inject_arp(&h, OASIS_ARP_REQUEST, other_mac, 0, OFFERED, bc);
    assert_int_equal(ctr(&h)->conflicts, 1);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_INIT);
    h_fini(&h);
}

/* INIT-REBOOT: a remembered address is asked for at once (broadcast,
 * requested address, no server id, ciaddr 0). */
static void test_init_reboot(void **state)
{
    (void)state;
    harness h;
    oasis_dhcp_config c;
    oasis_dhcp_config_init(&c);
    c.requested_addr = OFFERED;
    c.probes = 0;
    h_init_cfg(&h, &c, 42);
    sent s;
    oasis_dhcp_start(h.d);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_INIT_REBOOT);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_REBOOTING);
    assert_int_equal(s.m.msg_type, OASIS_DHCPREQUEST);
    assert_int_equal(s.m.requested_ip, OFFERED);
    assert_false(has_opt(&s, OASIS_DHO_SERVER_ID));
    assert_int_equal(s.m.ciaddr, 0);
    assert_int_equal(s.ip_dst, 0xffffffffu);
    assert_int_equal(ctr(&h)->tx_discovers, 0);
    srv a = srv_default(OASIS_DHCPACK, s.m.xid);
    reply_to(&h, &a, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_BOUND);
    assert_int_equal(oasis_stack_addr(h.s), OFFERED);
    assert_int_equal(h.events[0], OASIS_DHCP_EV_BOUND);
    h_fini(&h);

    /* NAK to the remembered address: INIT, DISCOVER. */
    h_init_cfg(&h, &c, 43);
    oasis_dhcp_start(h.d);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    srv n = srv_default(OASIS_DHCPNAK, s.m.xid);
    reply_to(&h, &n, 0xffffffffu);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_INIT);
    assert_true(run_to_dhcp(&h, 5 * SEC, &s));
    assert_int_equal(s.m.msg_type, OASIS_DHCPDISCOVER);
    h_fini(&h);
}

/* RFC 2131 4.1: retransmissions after 4, 8, 16, 32, 64, 64... s, each
 * within +-1 s; the same xid; REQUESTING gives up after its retries. */
/* RFC 2131 4.4.1: "The client SHOULD wait a random time between one and
 * ten seconds to desynchronize the use of DHCP at startup." By default the
 * first DISCOVER waits a random time in [0, 1 s] (a restart has a second
 * to spread over, a VM or container its boot); start_delay_max_ns = 10 s
 * spreads clients over ten, as the RFC has it for a whole network's power
 * failure. Over 40 seeds each: never beyond the bound, and spread. */
static void test_start_delay(void **state)
{
    (void)state;
    for (int ten = 0; ten < 2; ten++) {
        uint64_t max = ten ? 10 * SEC : SEC, lo = UINT64_MAX, hi = 0;
        for (uint64_t seed = 1; seed <= 40; seed++) {
            oasis_dhcp_config c;
            oasis_dhcp_config_init(&c);
            if (ten)
                c.start_delay_max_ns = max;
            harness h;
            h_init_cfg(&h, &c, seed);
            uint64_t t0 = now(&h);
            sent sd;
            oasis_dhcp_start(h.d);
            assert_true(run_to_dhcp(&h, 20 * SEC, &sd));
            assert_int_equal(sd.m.msg_type, OASIS_DHCPDISCOVER);
            uint64_t d = sd.at - t0;
            assert_true(d <= max);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
            h_fini(&h);
        }
        assert_true(hi - lo >= max / 2); /* random, not a constant */
    }
}

static void test_retransmission_backoff(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        harness h;
        h_init_cfg(&h, NULL, seed);
        sent s;
        oasis_dhcp_start(h.d);
        assert_true(run_to_dhcp(&h, 2 * SEC, &s));
        uint32_t xid = s.m.xid;
        uint64_t prev = s.at;
        uint64_t base = 4;
        for (int i = 0; i < 7; i++) {
            assert_true(run_to_dhcp(&h, 100 * SEC, &s));
            assert_int_equal(s.m.msg_type, OASIS_DHCPDISCOVER);
            assert_int_equal(s.m.xid, xid);
            uint64_t gap = s.at - prev;
            assert_true(gap >= (base - 1) * SEC);
            assert_true(gap <= (base + 1) * SEC);
            prev = s.at;
            base = base * 2 > 64 ? 64 : base * 2;
        }
        assert_int_equal(ctr(&h)->tx_retransmits, 7);
        /* secs counts from the first DISCOVER. */
        assert_true(s.m.secs >= 4 + 8 + 16 + 32 + 64 + 64 + 64 - 7);
        /* REQUESTING: four REQUESTs, then INIT. */
        srv o = srv_default(OASIS_DHCPOFFER, xid);
        reply_to(&h, &o, OFFERED);
        int reqs = 0;
        while (run_to_dhcp(&h, 100 * SEC, &s) && s.m.msg_type == OASIS_DHCPREQUEST)
            reqs++;
        assert_int_equal(reqs, 4);
        assert_int_equal(s.m.msg_type, OASIS_DHCPDISCOVER);
        assert_int_equal(ctr(&h)->request_timeouts, 1);
        h_fini(&h);
    }
}

/* RFC 2131 4.4.1: REQUESTs for an offer that get neither ACK nor NAK send
 * the client back to INIT, and the user SHOULD be told it restarts: one
 * TIMEOUT event, with the offer, after the last REQUEST's wait; then a
 * new DISCOVER (new xid). The callback may stop the client there. */
static void test_request_timeout_event(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    sent s;
    to_requesting(&h, &s);
    uint32_t xid = s.m.xid;
    int reqs = 1;
    while (reqs < 4) {
        assert_true(run_to_dhcp(&h, 100 * SEC, &s));
        assert_int_equal(s.m.msg_type, OASIS_DHCPREQUEST);
        reqs++;
        assert_int_equal(h.nevents, 0);
        assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_REQUESTING);
    }
    /* The last REQUEST's wait (32 s +- 1) ends in a DISCOVER. */
    uint64_t last_req = s.at;
    assert_true(run_to_dhcp(&h, 100 * SEC, &s));
    assert_int_equal(s.m.msg_type, OASIS_DHCPDISCOVER);
    assert_true(s.at - last_req >= 31 * SEC && s.at - last_req <= 33 * SEC);
    assert_int_not_equal(s.m.xid, xid);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_SELECTING);
    assert_int_equal(h.nevents, 1);
    assert_int_equal(h.events[0], OASIS_DHCP_EV_TIMEOUT);
    assert_int_equal(h.state_at_event, OASIS_DHCP_INIT);
    assert_true(h.last_had_lease);
    assert_int_equal(h.last.addr, OFFERED);
    assert_int_equal(h.last.server, SERVER);
    assert_int_equal(h.last.lease_s, 0);
    assert_int_equal(ctr(&h)->request_timeouts, 1);
    assert_int_equal(oasis_stack_addr(h.s), 0);
    /* SELECTING goes on retransmitting without another event. */
    advance(&h, 200 * SEC);
    assert_int_equal(h.nevents, 1);
    assert_string_equal(oasis_dhcp_event_name(OASIS_DHCP_EV_TIMEOUT), "TIMEOUT");
    h_fini(&h);

    /* Stopped from the callback: no DISCOVER follows. */
    h_init(&h);
    h.stop_in_cb = 1;
    to_requesting(&h, &s);
    advance(&h, 100 * SEC);
    assert_int_equal(h.nevents, 1);
    assert_int_equal(h.events[0], OASIS_DHCP_EV_TIMEOUT);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_STOPPED);
    while (pop_dhcp(&h, &s))
        assert_int_equal(s.m.msg_type, OASIS_DHCPREQUEST);
    advance(&h, 100 * SEC);
    assert_false(pop_dhcp(&h, &s));
    h_fini(&h);
}

/* An ACK to the last REQUEST, just before the client would give up: bound,
 * no TIMEOUT then or later. */
static void test_request_acked_no_timeout(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    sent s;
    to_requesting(&h, &s);
    for (int i = 1; i < 4; i++) {
        assert_true(run_to_dhcp(&h, 100 * SEC, &s));
        assert_int_equal(s.m.msg_type, OASIS_DHCPREQUEST);
    }
    srv a = srv_default(OASIS_DHCPACK, s.m.xid);
    a.lease = 1000;
    reply_to(&h, &a, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_PROBING);
    advance(&h, 100 * SEC);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_BOUND);
    assert_int_equal(h.nevents, 1);
    assert_int_equal(h.events[0], OASIS_DHCP_EV_BOUND);
    assert_int_equal(ctr(&h)->request_timeouts, 0);
    h_fini(&h);
}

/* REBOOTING unanswered: RFC 2131 3.2 lets the client use the remembered
 * address anyway (MAY); Oasis, which knows no lease for it, restarts at
 * INIT like REQUESTING (4.4.1) and tells the user the same way. */
static void test_reboot_timeout_event(void **state)
{
    (void)state;
    harness h;
    oasis_dhcp_config c;
    oasis_dhcp_config_init(&c);
    c.requested_addr = OFFERED;
    h_init_cfg(&h, &c, 42);
    sent s;
    oasis_dhcp_start(h.d);
    int reqs = 0;
    while (run_to_dhcp(&h, 100 * SEC, &s) && s.m.msg_type == OASIS_DHCPREQUEST) {
        assert_int_equal(s.m.requested_ip, OFFERED);
        assert_int_equal(h.nevents, 0);
        reqs++;
    }
    assert_int_equal(reqs, 4);
    assert_int_equal(s.m.msg_type, OASIS_DHCPDISCOVER);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_SELECTING);
    assert_int_equal(h.nevents, 1);
    assert_int_equal(h.events[0], OASIS_DHCP_EV_TIMEOUT);
    assert_int_equal(h.state_at_event, OASIS_DHCP_INIT);
    assert_true(h.last_had_lease);
    assert_int_equal(h.last.addr, OFFERED);
    assert_int_equal(h.last.server, 0);
    assert_int_equal(ctr(&h)->request_timeouts, 1);
    assert_int_equal(oasis_stack_addr(h.s), 0);
    h_fini(&h);
}

/* Malformed replies are counted and dropped; the state does not move. */
static void test_malformed_dropped(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    sent s;
    oasis_dhcp_start(h.d);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    srv o = srv_default(OASIS_DHCPOFFER, s.m.xid);
    uint8_t m[576];
    size_t n = build_reply(&o, m);
    /* The server id's length runs past the message. */
    inject_udp(&h, client_mac, SERVER, OFFERED, m, 240 + 3 + 4);
    /* Bad cookie. */
    uint8_t x[576];
    memcpy(x, m, n);
    x[239] = 0;
    inject_udp(&h, client_mac, SERVER, OFFERED, x, n);
    /* Short. */
    inject_udp(&h, client_mac, SERVER, OFFERED, m, 100);
    assert_int_equal(ctr(&h)->rx_malformed, 3);
    /* A BOOTREQUEST (another client's broadcast). */
    memcpy(x, m, n);
    x[0] = OASIS_BOOTREQUEST;
    inject_udp(&h, client_mac, SERVER, 0xffffffffu, x, n);
    assert_int_equal(ctr(&h)->rx_not_reply, 1);
    /* An offer without server id, or of a broadcast address: unusable. */
    srv bad = o;
    bad.server = 0;
    reply_to(&h, &bad, OFFERED);
    bad = o;
    bad.yiaddr = 0xffffffffu;
    reply_to(&h, &bad, OFFERED);
    assert_int_equal(ctr(&h)->rx_invalid, 2);
    /* An ACK in SELECTING. */
    srv ack = srv_default(OASIS_DHCPACK, s.m.xid);
    reply_to(&h, &ack, OFFERED);
    assert_int_equal(ctr(&h)->rx_unexpected, 1);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_SELECTING);
    assert_false(pop_dhcp(&h, &s));
    /* An ACK without lease time in REQUESTING: unusable. */
    reply_to(&h, &o, OFFERED);
    assert_true(pop_dhcp(&h, &s));
    ack.lease = 0;
    reply_to(&h, &ack, OFFERED);
    ack.lease = 100;
    ack.mask = 0xff00ff00u; /* not contiguous */
    reply_to(&h, &ack, OFFERED);
    ack.mask = 0xffffff00u;
    ack.lease = 0; /* a zero lease would expire at once */
    ack.lease_zero = 1;
    reply_to(&h, &ack, OFFERED);
    assert_int_equal(ctr(&h)->rx_invalid, 5);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_REQUESTING);
    h_fini(&h);
}

/* What a reply must be before it is read (RFC 2131 2, 3.1, 4.3.1, RFC
 * 2132 9.6): a BOOTREPLY for Ethernet (htype 1, hlen 6), carrying a DHCP
 * message type (a plain BOOTP reply has none), of a type the client
 * takes (FORCERENEW, type 9, RFC 3203, is not implemented: without the
 * authentication that RFC requires it must not move a client). The address
 * it gives must be some host's: not 0.0.0.0, loopback, multicast, the
 * limited broadcast or, in an ACK with a /24 mask, the subnet's network or
 * broadcast address. Each is counted and moves nothing; the control reply
 * is taken. */
static void test_reply_fields_checked(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    sent s;
    oasis_dhcp_start(h.d);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    srv o = srv_default(OASIS_DHCPOFFER, s.m.xid);
    uint8_t m[576];
    size_t n = build_reply(&o, m);
    m[1] = 6; /* IEEE 802 */
    inject_udp(&h, client_mac, SERVER, OFFERED, m, n);
    n = build_reply(&o, m);
    m[2] = 8; /* hlen */
    inject_udp(&h, client_mac, SERVER, OFFERED, m, n);
    assert_int_equal(ctr(&h)->rx_not_reply, 2);
    n = build_reply(&o, m);
    m[240] = OASIS_DHO_PAD, m[241] = OASIS_DHO_PAD, m[242] = OASIS_DHO_PAD; /* no option 53 */
    inject_udp(&h, client_mac, SERVER, OFFERED, m, n);
    assert_int_equal(ctr(&h)->rx_unexpected, 1);
    n = build_reply(&o, m);
    m[242] = 9; /* DHCPFORCERENEW */
    inject_udp(&h, client_mac, SERVER, OFFERED, m, n);
    assert_int_equal(ctr(&h)->rx_malformed, 1);
    static const uint32_t bad[] = {0, OASIS_IPV4(127, 0, 0, 1), OASIS_IPV4(224, 0, 0, 1),
                                   0xffffffffu, OASIS_IPV4(240, 0, 0, 1)};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        srv b = o;
        b.yiaddr = bad[i];
        reply_to(&h, &b, 0xffffffffu);
    }
    assert_int_equal(ctr(&h)->rx_invalid, 5);
    assert_int_equal(ctr(&h)->rx_offers, 0);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_SELECTING);
    assert_false(pop_dhcp(&h, &s));
    reply_to(&h, &o, OFFERED);
    assert_true(pop_dhcp(&h, &s));
    assert_int_equal(s.m.msg_type, OASIS_DHCPREQUEST);
    /* The ACK: the subnet's own network and broadcast addresses. */
    srv a = srv_default(OASIS_DHCPACK, s.m.xid);
    a.yiaddr = OASIS_IPV4(10, 0, 0, 0);
    reply_to(&h, &a, 0xffffffffu);
    a.yiaddr = OASIS_IPV4(10, 0, 0, 255);
    reply_to(&h, &a, 0xffffffffu);
    assert_int_equal(ctr(&h)->rx_invalid, 7);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_REQUESTING);
    a.yiaddr = OFFERED;
    reply_to(&h, &a, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_PROBING);
    h_fini(&h);
}

/* Replies with another xid or another chaddr are ignored. */
static void test_wrong_xid_chaddr_ignored(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    sent s;
    oasis_dhcp_start(h.d);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    srv o = srv_default(OASIS_DHCPOFFER, s.m.xid + 1);
    reply_to(&h, &o, OFFERED);
    assert_int_equal(ctr(&h)->rx_wrong_xid, 1);
    o.xid = s.m.xid;
    o.chaddr = other_mac;
    reply_to(&h, &o, OFFERED);
    assert_int_equal(ctr(&h)->rx_wrong_chaddr, 1);
    assert_int_equal(ctr(&h)->rx_offers, 0);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_SELECTING);
    assert_false(pop_dhcp(&h, &s));
    h_fini(&h);
}

/* RFC 2131 4.1: servers answer from port 67. The same OFFER, ACK and NAK
 * from port 6767 (a program on some host that sent to port 68) leave the
 * client where it was and are counted (RxWrongPort); from 67 they move it. */
static void test_reply_from_wrong_port(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    sent s;
    uint8_t m[576];
    size_t n;
    oasis_dhcp_start(h.d);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    srv o = srv_default(OASIS_DHCPOFFER, s.m.xid);
    n = build_reply(&o, m);
    inject_udp_from(&h, client_mac, 6767, SERVER, OFFERED, m, n);
    assert_int_equal(ctr(&h)->rx_wrong_port, 1);
    assert_int_equal(ctr(&h)->rx_offers, 0);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_SELECTING);
    assert_false(pop_dhcp(&h, &s));
    inject_udp_from(&h, client_mac, 67, SERVER, OFFERED, m, n);
    assert_int_equal(ctr(&h)->rx_offers, 1);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_REQUESTING);
    assert_true(pop_dhcp(&h, &s));
    assert_int_equal(s.m.msg_type, OASIS_DHCPREQUEST);

    srv nak = srv_default(OASIS_DHCPNAK, s.m.xid);
    n = build_reply(&nak, m);
    inject_udp_from(&h, client_mac, 6767, SERVER, OFFERED, m, n);
    srv a = srv_default(OASIS_DHCPACK, s.m.xid);
    n = build_reply(&a, m);
    inject_udp_from(&h, client_mac, 6767, SERVER, OFFERED, m, n);
    assert_int_equal(ctr(&h)->rx_wrong_port, 3);
    assert_int_equal(ctr(&h)->rx_naks, 0);
    assert_int_equal(ctr(&h)->rx_acks, 0);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_REQUESTING);
    assert_int_equal(h.nevents, 0);
    inject_udp_from(&h, client_mac, 67, SERVER, OFFERED, m, n);
    assert_int_equal(ctr(&h)->rx_acks, 1);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_PROBING);
    assert_int_equal(ctr(&h)->rx_wrong_port, 3);

    /* Exported as RxWrongPort. */
    oasis_metrics *mt;
    assert_int_equal(oasis_metrics_create(NULL, &mt), OASIS_OK);
    assert_int_equal(oasis_dhcp_add_metrics(mt, h.d, NULL, 0), OASIS_OK);
    oasis_metrics_snapshot snap;
    assert_int_equal(oasis_metrics_collect(mt, 1, &snap), OASIS_OK);
    int found = 0;
    for (size_t i = 0; i < snap.points[0].nfields; i++)
        if (strcmp(snap.points[0].fields[i].key, "RxWrongPort") == 0) {
            assert_int_equal(snap.points[0].fields[i].v.u, 3);
            found = 1;
        }
    assert_true(found);
    oasis_metrics_destroy(mt);
    h_fini(&h);
}

/* Offers to the broadcast address and to 255.255.255.255 are taken too;
 * without an address, other protocols to foreign addresses are not. */
static void test_unconfigured_receive(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    sent s;
    oasis_dhcp_start(h.d);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    uint64_t addr_errors = h.s->ctr.ip.in_addr_errors;
    inject_tcp(&h, 0x02, 1, 0); /* TCP to 10.0.0.50: not ours */
    assert_int_equal(h.s->ctr.ip.in_addr_errors, addr_errors + 1);
    srv o = srv_default(OASIS_DHCPOFFER, s.m.xid);
    uint8_t m[576];
    size_t n = build_reply(&o, m);
    static const uint8_t bc[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    inject_udp(&h, bc, SERVER, 0xffffffffu, m, n);
    assert_int_equal(ctr(&h)->rx_offers, 1);
    h_fini(&h);
}

/* Stop with release: DHCPRELEASE to the server and the address goes. */
static void test_stop_release(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    obtain(&h, 100, 0, 0);
    oasis_dhcp_stop(h.d, 1);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_STOPPED);
    assert_int_equal(oasis_stack_addr(h.s), 0);
    sent s;
    assert_true(pop_dhcp(&h, &s));
    assert_int_equal(s.m.msg_type, OASIS_DHCPRELEASE);
    /* The server's MAC was never learned: broadcast. */
    assert_int_equal(s.ip_dst, 0xffffffffu);
    assert_int_equal(s.m.ciaddr, OFFERED);
    assert_int_equal(s.m.server_id, SERVER);
    /* Nothing left to do once the broadcast's own copy (the stack is a
     * host of the link too) is delivered. */
    oasis_stack_poll(h.s);
    assert_int_equal(oasis_stack_next_deadline(h.s), UINT64_MAX);
    /* Start again. */
    assert_int_equal(oasis_dhcp_start(h.d), OASIS_OK);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    assert_int_equal(s.m.msg_type, OASIS_DHCPDISCOVER);
    /* Stop without release keeps the address. */
    h_fini(&h);
    h_init(&h);
    obtain(&h, 100, 0, 0);
    oasis_dhcp_stop(h.d, 0);
    assert_int_equal(oasis_stack_addr(h.s), OFFERED);
    assert_false(pop_dhcp(&h, &s));
    h_fini(&h);
    /* After a renewal the server's MAC is known: unicast. */
    h_init(&h);
    obtain(&h, 100, 0, 0);
    oasis_dhcp_lease l;
    oasis_dhcp_get_lease(h.d, &l);
    run_until(&h, l.t1_ns);
    assert_true(pop_dhcp(&h, &s));
    srv a = srv_default(OASIS_DHCPACK, s.m.xid);
    reply_to(&h, &a, OFFERED);
    oasis_dhcp_stop(h.d, 1);
    assert_true(pop_dhcp(&h, &s));
    assert_int_equal(s.m.msg_type, OASIS_DHCPRELEASE);
    assert_int_equal(s.ip_dst, SERVER);
    assert_memory_equal(s.eth_dst, server_mac, 6);
    h_fini(&h);
}

/* RFC 2131 3.1 step 4: the server "commits the binding for the client"
 * and then sends the ACK; 4.4.6: a client that "no longer requires use of
 * its assigned network address" sends DHCPRELEASE. Stopped with release
 * while it probes the acknowledged address (RFC 5227), the client gives
 * that lease back: a RELEASE (not a DECLINE: no one answered the probes,
 * and a DECLINE has the server set the address aside, 4.3.3), broadcast
 * from 0.0.0.0 since the address was never configured. Before, nothing
 * was sent and the server kept the address for the whole lease. */
static void test_stop_release_while_probing(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    sent s;
    oasis_dhcp_start(h.d);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    srv o = srv_default(OASIS_DHCPOFFER, s.m.xid);
    reply_to(&h, &o, OFFERED);
    assert_true(pop_dhcp(&h, &s));
    srv a = srv_default(OASIS_DHCPACK, s.m.xid);
    reply_to(&h, &a, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_PROBING);
    advance(&h, 1500 * OASIS_NS_PER_MS);
    oasis_dhcp_stop(h.d, 1);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_STOPPED);
    assert_int_equal(oasis_stack_addr(h.s), 0);
    assert_true(pop_dhcp(&h, &s)); /* was: nothing sent */
    assert_int_equal(s.m.msg_type, OASIS_DHCPRELEASE);
    assert_int_equal(s.ip_src, 0);
    assert_int_equal(s.ip_dst, 0xffffffffu);
    assert_int_equal(s.m.ciaddr, OFFERED);
    assert_int_equal(s.m.server_id, SERVER);
    assert_false(pop_dhcp(&h, &s));
    assert_int_equal(ctr(&h)->tx_releases, 1);
    assert_int_equal(ctr(&h)->tx_declines, 0);
    assert_int_equal(h.nevents, 0);
    oasis_stack_poll(h.s); /* the broadcast's own copy (test_stop_release) */
    assert_int_equal(oasis_stack_next_deadline(h.s), UINT64_MAX);
    h_fini(&h);
    /* Stopped without release while probing: nothing is sent. */
    h_init(&h);
    oasis_dhcp_start(h.d);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    o = srv_default(OASIS_DHCPOFFER, s.m.xid);
    reply_to(&h, &o, OFFERED);
    assert_true(pop_dhcp(&h, &s));
    a = srv_default(OASIS_DHCPACK, s.m.xid);
    reply_to(&h, &a, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_PROBING);
    oasis_dhcp_stop(h.d, 0);
    assert_false(pop_dhcp(&h, &s));
    h_fini(&h);
}

static void test_api_errors(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    oasis_dhcp *d2;
    assert_int_equal(oasis_dhcp_create(h.s, NULL, &d2), OASIS_EADDRINUSE);
    oasis_dhcp_config c;
    oasis_dhcp_config_init(&c);
    c.hostname = "";
    assert_int_equal(oasis_dhcp_create(h.s, &c, &d2), OASIS_EINVAL);
    oasis_dhcp_config_init(&c);
    c.client_id = (const uint8_t *)"x";
    c.client_id_len = 1;
    assert_int_equal(oasis_dhcp_create(h.s, &c, &d2), OASIS_EINVAL);
    assert_int_equal(oasis_dhcp_start(NULL), OASIS_EINVAL);
    oasis_dhcp_lease l;
    assert_int_equal(oasis_dhcp_get_lease(h.d, &l), OASIS_ENOENT);
    assert_string_equal(oasis_dhcp_state_name(OASIS_DHCP_INIT_REBOOT), "INIT-REBOOT");
    assert_string_equal(oasis_dhcp_event_name(OASIS_DHCP_EV_EXPIRED), "EXPIRED");
    oasis_dhcp_destroy(NULL);
    h_fini(&h);
}

/* The callback may stop the client: it stays stopped, the address the
 * lease gave stays (stop without release), no timer of it is left. */
static void test_stop_from_callback(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    h.stop_in_cb = 1;
    sent s;
    oasis_dhcp_start(h.d);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    srv o = srv_default(OASIS_DHCPOFFER, s.m.xid);
    reply_to(&h, &o, OFFERED);
    assert_true(pop_dhcp(&h, &s));
    srv a = srv_default(OASIS_DHCPACK, s.m.xid);
    reply_to(&h, &a, OFFERED);
    advance(&h, 10 * SEC);
    assert_int_equal(h.nevents, 1);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_STOPPED);
    assert_int_equal(oasis_stack_addr(h.s), OFFERED);
    advance(&h, 1000 * SEC);
    assert_int_equal(h.nevents, 1);
    assert_int_equal(ctr(&h)->tx_requests, 1);
    h_fini(&h);
}

/* ---- Rapid Commit (RFC 4039) ------------------------------------------- */

static const uint8_t rc_opt[] = {OASIS_DHO_RAPID_COMMIT, 0};

/* A reply carrying option 80 with no data (RFC 4039 4): the Rapid Commit
 * ACK the tests below answer a DISCOVER with. */
static srv srv_rapid(uint8_t type, uint32_t xid)
{
    srv r = srv_default(type, xid);
    r.extra = rc_opt;
    r.extra_len = sizeof rc_opt;
    return r;
}

/* The option as the client sends it: present, length 0. */
static int rapid_in(const sent *s)
{
    uint8_t b[4];
    return oasis_dhcp_opt_get(&s->m, OASIS_DHO_RAPID_COMMIT, b, sizeof b) == 0;
}

/* Option 80 has no data (RFC 4039 4): with length 0 it is read; with
 * another length it is left out and counted (the message still stands). */
static void test_wire_rapid_commit(void **state)
{
    (void)state;
    oasis_dhcp_msg msg;
    assert_int_equal(parse_with(rc_opt, sizeof rc_opt, &msg), OASIS_OK);
    assert_true(msg.have & OASIS_DHCP_HAVE_RAPID_COMMIT);
    assert_int_equal(msg.ignored, 0);
    const uint8_t bad[] = {OASIS_DHO_RAPID_COMMIT, 1, 0};
    assert_int_equal(parse_with(bad, sizeof bad, &msg), OASIS_OK);
    assert_false(msg.have & OASIS_DHCP_HAVE_RAPID_COMMIT);
    assert_int_equal(msg.ignored, 1);
    assert_int_equal(msg.lease_time, 100); /* the rest is read */
    assert_int_equal(parse_with(NULL, 0, &msg), OASIS_OK);
    assert_false(msg.have & OASIS_DHCP_HAVE_RAPID_COMMIT);
    /* Built with no data: code and a zero length. */
    uint8_t buf[300];
    oasis_dhcp_builder b;
    oasis_dhcp_build_start(&b, buf, sizeof buf, OASIS_DHCPDISCOVER, 1, 0, 0, 0, client_mac);
    oasis_dhcp_build_opt(&b, OASIS_DHO_RAPID_COMMIT, NULL, 0);
    assert_int_equal(oasis_dhcp_build_end(&b), 300);
    assert_int_equal(buf[243], OASIS_DHO_RAPID_COMMIT); /* after 53 (3 bytes) */
    assert_int_equal(buf[244], 0);
    assert_int_equal(buf[245], OASIS_DHO_END);
}

static void h_init_rapid(harness *h, int on)
{
    oasis_dhcp_config c;
    oasis_dhcp_config_init(&c);
    assert_int_equal(c.rapid_commit, 0); /* off unless asked */
    c.rapid_commit = on;
    h_init_cfg(h, &c, 42);
}

/* DHCP messages and ARP probes of OFFERED on the wire since the last
 * read (other frames dropped). */
static void count_wire(harness *h, int *dhcp, int *probes)
{
    *dhcp = *probes = 0;
    frame *f;
    while ((f = next_frame(h))) {
        oasis_eth_hdr eh;
        oasis_eth_parse(f->data, f->len, &eh);
        if (eh.type == OASIS_ETHERTYPE_ARP) {
            oasis_arp_pkt p;
            oasis_arp_parse(eh.payload, eh.payload_len, &p);
            if (p.spa == 0 && p.tpa == OFFERED)
                (*probes)++;
            continue;
        }
        oasis_ipv4_hdr ih;
        if (oasis_ipv4_parse(eh.payload, eh.payload_len, &ih) == OASIS_OK &&
            ih.proto == OASIS_IPPROTO_UDP)
            (*dhcp)++;
    }
}

/* RFC 4039 3: DISCOVER with option 80, ACK with option 80: the lease in
 * two messages. It is probed (RFC 5227) like any other before BOUND, and
 * starts when the DISCOVER went out. */
static void test_rapid_commit_lease(void **state)
{
    (void)state;
    harness h;
    h_init_rapid(&h, 1);
    sent s;
    assert_int_equal(oasis_dhcp_start(h.d), OASIS_OK);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    assert_int_equal(s.m.msg_type, OASIS_DHCPDISCOVER);
    assert_true(rapid_in(&s));
    srv a = srv_rapid(OASIS_DHCPACK, s.m.xid);
    reply_to(&h, &a, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_PROBING);
    assert_int_equal(oasis_stack_addr(h.s), 0); /* not before the probes */
    advance(&h, 10 * SEC);
    int ndhcp, nprobes;
    count_wire(&h, &ndhcp, &nprobes);
    assert_int_equal(ndhcp, 0); /* no REQUEST: the DISCOVER was all */
    assert_int_equal(nprobes, 3);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_BOUND);
    assert_int_equal(oasis_stack_addr(h.s), OFFERED);
    assert_int_equal(oasis_stack_gateway(h.s), ROUTER);
    assert_int_equal(h.nevents, 1);
    assert_int_equal(h.events[0], OASIS_DHCP_EV_BOUND);
    assert_int_equal(h.last.server, SERVER);
    assert_int_equal(h.last.acquired_ns, s.at);
    assert_int_equal(h.last.expires_ns, s.at + 100 * SEC);
    assert_int_equal(ctr(&h)->tx_discovers, 1);
    assert_int_equal(ctr(&h)->tx_requests, 0);
    assert_int_equal(ctr(&h)->rx_acks, 1);
    assert_int_equal(ctr(&h)->binds, 1);
    assert_int_equal(ctr(&h)->rapid_commits, 1);
    h_fini(&h);
}

/* Only an ACK with option 80 answers a DISCOVER: one without it, or with
 * an option 80 that has data, is no Rapid Commit and is ignored. */
static void test_rapid_ack_without_option_ignored(void **state)
{
    (void)state;
    harness h;
    h_init_rapid(&h, 1);
    sent s;
    assert_int_equal(oasis_dhcp_start(h.d), OASIS_OK);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    srv a = srv_default(OASIS_DHCPACK, s.m.xid);
    reply_to(&h, &a, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_SELECTING);
    assert_int_equal(ctr(&h)->rx_unexpected, 1);
    const uint8_t bad[] = {OASIS_DHO_RAPID_COMMIT, 1, 0};
    a.extra = bad;
    a.extra_len = sizeof bad;
    reply_to(&h, &a, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_SELECTING);
    assert_int_equal(ctr(&h)->rx_unexpected, 2);
    assert_int_equal(ctr(&h)->rx_acks, 0);
    advance(&h, 10 * SEC);
    int ndhcp, nprobes;
    count_wire(&h, &ndhcp, &nprobes);
    assert_int_equal(nprobes, 0);
    assert_int_equal(oasis_stack_addr(h.s), 0);
    h_fini(&h);
}

/* A server without Rapid Commit offers: the client requests as usual
 * (no option 80 in the REQUEST). A Rapid Commit ACK from another server
 * that comes after the offer was taken is not used (the first usable
 * reply wins). */
static void test_rapid_commit_offer_fallback(void **state)
{
    (void)state;
    harness h;
    h_init_rapid(&h, 1);
    sent s;
    to_requesting(&h, &s);
    assert_false(rapid_in(&s));
    assert_int_equal(s.m.requested_ip, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_REQUESTING);
    srv late = srv_rapid(OASIS_DHCPACK, s.m.xid);
    late.server = OASIS_IPV4(10, 0, 0, 200);
    late.yiaddr = OASIS_IPV4(10, 0, 0, 60);
    reply_to(&h, &late, late.yiaddr);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_REQUESTING);
    assert_int_equal(ctr(&h)->rx_unexpected, 1);
    srv a = srv_default(OASIS_DHCPACK, s.m.xid);
    reply_to(&h, &a, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_PROBING);
    advance(&h, 10 * SEC);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_BOUND);
    assert_int_equal(oasis_stack_addr(h.s), OFFERED);
    assert_int_equal(ctr(&h)->binds, 1);
    assert_int_equal(ctr(&h)->rapid_commits, 0);
    h_fini(&h);
}

/* Not configured: no option 80 in the DISCOVER, and an ACK with option 80
 * in SELECTING is not taken (RFC 4039 3: only a client that asked). */
static void test_rapid_commit_off(void **state)
{
    (void)state;
    harness h;
    h_init_rapid(&h, 0);
    sent s;
    assert_int_equal(oasis_dhcp_start(h.d), OASIS_OK);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    assert_int_equal(s.m.msg_type, OASIS_DHCPDISCOVER);
    assert_false(has_opt(&s, OASIS_DHO_RAPID_COMMIT));
    srv a = srv_rapid(OASIS_DHCPACK, s.m.xid);
    reply_to(&h, &a, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_SELECTING);
    assert_int_equal(ctr(&h)->rx_unexpected, 1);
    assert_int_equal(ctr(&h)->rx_acks, 0);
    h_fini(&h);
}

/* A Rapid Commit ACK for another transaction (xid) or another client
 * (chaddr) is not ours. */
static void test_rapid_ack_wrong_xid(void **state)
{
    (void)state;
    harness h;
    h_init_rapid(&h, 1);
    sent s;
    assert_int_equal(oasis_dhcp_start(h.d), OASIS_OK);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    srv a = srv_rapid(OASIS_DHCPACK, s.m.xid + 1);
    reply_to(&h, &a, OFFERED);
    assert_int_equal(ctr(&h)->rx_wrong_xid, 1);
    a.xid = s.m.xid;
    a.chaddr = other_mac;
    reply_to(&h, &a, OFFERED);
    assert_int_equal(ctr(&h)->rx_wrong_chaddr, 1);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_SELECTING);
    assert_int_equal(ctr(&h)->rx_acks, 0);
    h_fini(&h);
}

/* RFC 4039 3: option 80 goes in DISCOVER alone: not in the REQUESTs of
 * RENEWING, REBINDING or INIT-REBOOT, even when configured. */
static void test_rapid_commit_not_in_requests(void **state)
{
    (void)state;
    harness h;
    h_init_rapid(&h, 1);
    sent s;
    assert_int_equal(oasis_dhcp_start(h.d), OASIS_OK);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    srv a = srv_rapid(OASIS_DHCPACK, s.m.xid);
    a.t1 = 20;
    a.t2 = 40;
    reply_to(&h, &a, OFFERED);
    advance(&h, 10 * SEC);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_BOUND);
    h.qlen = 0;
    assert_true(run_to_dhcp(&h, 30 * SEC, &s)); /* T1 */
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_RENEWING);
    assert_int_equal(s.m.msg_type, OASIS_DHCPREQUEST);
    assert_false(has_opt(&s, OASIS_DHO_RAPID_COMMIT));
    while (oasis_dhcp_get_state(h.d) != OASIS_DHCP_REBINDING) { /* T2 */
        assert_true(run_to_dhcp(&h, 30 * SEC, &s));
        assert_false(has_opt(&s, OASIS_DHO_RAPID_COMMIT));
    }
    assert_int_equal(s.m.msg_type, OASIS_DHCPREQUEST);
    assert_int_equal(s.ip_dst, 0xffffffffu);
    h_fini(&h);

    /* INIT-REBOOT: the remembered address asked for by REQUEST. */
    oasis_dhcp_config c;
    oasis_dhcp_config_init(&c);
    c.rapid_commit = 1;
    c.requested_addr = OFFERED;
    h_init_cfg(&h, &c, 42);
    assert_int_equal(oasis_dhcp_start(h.d), OASIS_OK);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_REBOOTING);
    assert_int_equal(s.m.msg_type, OASIS_DHCPREQUEST);
    assert_false(has_opt(&s, OASIS_DHO_RAPID_COMMIT));
    h_fini(&h);
}

static void test_metrics_source(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    obtain(&h, 100, 0, 0);
    oasis_metrics *m;
    assert_int_equal(oasis_metrics_create(NULL, &m), OASIS_OK);
    assert_int_equal(oasis_dhcp_add_metrics(m, h.d, NULL, 0), OASIS_OK);
    oasis_metrics_snapshot snap;
    assert_int_equal(oasis_metrics_collect(m, 1, &snap), OASIS_OK);
    assert_int_equal(snap.count, 1);
    assert_string_equal(snap.points[0].measurement, "dhcp");
    int found = 0;
    for (size_t i = 0; i < snap.points[0].nfields; i++) {
        const oasis_metric_field *f = &snap.points[0].fields[i];
        if (strcmp(f->key, "Binds") == 0) {
            assert_int_equal(f->v.u, 1);
            found++;
        }
        if (strcmp(f->key, "State") == 0) {
            assert_string_equal(f->v.s, "BOUND");
            found++;
        }
        if (strcmp(f->key, "LeaseSeconds") == 0) {
            assert_int_equal(f->v.u, 100);
            found++;
        }
        if (strcmp(f->key, "RapidCommits") == 0) {
            assert_int_equal(f->v.u, 0);
            found++;
        }
    }
    assert_int_equal(found, 4);
    oasis_metrics_destroy(m);
    h_fini(&h);
}

/* ---- outside probes (a checker's, not the authors') ------------------------ */

/* Lease time 0xffffffff is "infinity" (RFC 2131 3.3): bound, and never a
 * renewal, rebinding or expiry however long the clock runs. */
static void test_probe_infinite_lease(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    obtain(&h, 0xffffffffu, 0, 0);
    oasis_dhcp_lease l;
    assert_int_equal(oasis_dhcp_get_lease(h.d, &l), 0);
    assert_int_equal(l.lease_s, 0xffffffffu);
    assert_true(l.expires_ns == UINT64_MAX);
    advance(&h, 60ull * 86400 * SEC);
    sent s;
    assert_false(pop_dhcp(&h, &s));
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_BOUND);
    assert_int_equal(oasis_stack_addr(h.s), OFFERED);
    assert_int_equal(ctr(&h)->expiries, 0);
    h_fini(&h);
}

/* A NAK while BOUND (nothing asked: RFC 2131 4.4 figure 5 has BOUND
 * discard DHCPNAK) moves nothing: the address stays. Then in RENEWING
 * the same NAK is an answer and ends the lease. */
static void test_probe_nak_while_bound(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    sent s;
    to_requesting(&h, &s);
    uint32_t xid = s.m.xid;
    srv a = srv_default(OASIS_DHCPACK, xid);
    reply_to(&h, &a, OFFERED);
    advance(&h, 10 * SEC);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_BOUND);
    h.qlen = 0;
    srv n = srv_default(OASIS_DHCPNAK, xid);
    reply_to(&h, &n, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_BOUND);
    assert_int_equal(oasis_stack_addr(h.s), OFFERED);
    assert_int_equal(ctr(&h)->rx_naks, 0);
    assert_int_equal(h.nevents, 1); /* BOUND only */
    h_fini(&h);
}

/* An OFFER whose option length runs past the end of the datagram is
 * counted malformed and moves nothing; the next good one is taken. */
static void test_probe_offer_option_overrun(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    sent s;
    assert_int_equal(oasis_dhcp_start(h.d), OASIS_OK);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    static const uint8_t overrun[] = {OASIS_DHO_HOSTNAME, 250, 'x', 'y'};
    srv o = srv_default(OASIS_DHCPOFFER, s.m.xid);
    o.extra = overrun;
    o.extra_len = sizeof overrun;
    uint8_t m[576];
    size_t len = build_reply(&o, m);
    assert_true(len < 240 + 250);
    inject_udp(&h, client_mac, SERVER, OFFERED, m, len);
    assert_int_equal(ctr(&h)->rx_malformed, 1);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_SELECTING);
    assert_false(pop_dhcp(&h, &s));
    srv good = srv_default(OASIS_DHCPOFFER, s.m.xid);
    reply_to(&h, &good, OFFERED);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_REQUESTING);
    h_fini(&h);
}

/* RFC 2132 9.3: an OFFER whose server identifier and lease sit in the
 * 'sname' and 'file' fields (overload 3): the REQUEST names that server. */
static void test_probe_overloaded_offer(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    sent s;
    assert_int_equal(oasis_dhcp_start(h.d), OASIS_OK);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    static const uint8_t ov[] = {OASIS_DHO_OVERLOAD, 1, 3};
    srv o = srv_default(OASIS_DHCPOFFER, s.m.xid);
    o.server = 0;
    o.lease = 0;
    o.extra = ov;
    o.extra_len = sizeof ov;
    uint8_t m[576];
    size_t len = build_reply(&o, m);
    uint8_t sn[7], fl[7];
    sn[0] = OASIS_DHO_SERVER_ID, sn[1] = 4;
    oasis_put32(sn + 2, SERVER);
    sn[6] = OASIS_DHO_END;
    fl[0] = OASIS_DHO_LEASE_TIME, fl[1] = 4;
    oasis_put32(fl + 2, 600);
    fl[6] = OASIS_DHO_END;
    memcpy(m + OASIS_DHCP_SNAME_OFF, sn, 7);
    memcpy(m + OASIS_DHCP_FILE_OFF, fl, 7);
    inject_udp(&h, client_mac, SERVER, OFFERED, m, len);
    assert_int_equal(ctr(&h)->rx_offers, 1);
    assert_true(pop_dhcp(&h, &s));
    assert_int_equal(s.m.msg_type, OASIS_DHCPREQUEST);
    assert_int_equal(s.m.server_id, SERVER);
    /* An ACK the same way: its lease time from 'file'. */
    srv a = srv_default(OASIS_DHCPACK, s.m.xid);
    a.server = 0;
    a.lease = 0;
    a.extra = ov;
    a.extra_len = sizeof ov;
    len = build_reply(&a, m);
    memcpy(m + OASIS_DHCP_SNAME_OFF, sn, 7);
    memcpy(m + OASIS_DHCP_FILE_OFF, fl, 7);
    inject_udp(&h, client_mac, SERVER, OFFERED, m, len);
    assert_int_equal(oasis_dhcp_get_state(h.d), OASIS_DHCP_PROBING);
    assert_int_equal(ctr(&h)->rx_acks, 1);
    h_fini(&h);
}


/* RFC 2131 3.1 step 3: so that relay agents forward the REQUEST to the
 * servers that heard the DISCOVER, "the DHCPREQUEST message MUST use the
 * same value in the DHCP message header's 'secs' field ... as the
 * original DHCPDISCOVER message". The DISCOVER goes again after ~4 s
 * (secs ~4); the offer to it comes 3 s later: the REQUEST, and each of
 * its retransmissions, carries that DISCOVER's secs, not the time since
 * the first one (before: 7, then 11...). */
static void test_request_secs_as_discover(void **state)
{
    (void)state;
    harness h;
    h_init(&h);
    sent s;
    assert_int_equal(oasis_dhcp_start(h.d), OASIS_OK);
    assert_true(run_to_dhcp(&h, 2 * SEC, &s));
    assert_int_equal(s.m.msg_type, OASIS_DHCPDISCOVER);
    assert_int_equal(s.m.secs, 0);
    assert_true(run_to_dhcp(&h, 10 * SEC, &s)); /* the retransmission */
    assert_int_equal(s.m.msg_type, OASIS_DHCPDISCOVER);
    uint16_t dsecs = s.m.secs;
    assert_true(dsecs >= 3);
    advance(&h, 3 * SEC);
    srv o = srv_default(OASIS_DHCPOFFER, s.m.xid);
    reply_to(&h, &o, OFFERED);
    for (int i = 0; i < 3; i++) {
        assert_true(run_to_dhcp(&h, 30 * SEC, &s));
        assert_int_equal(s.m.msg_type, OASIS_DHCPREQUEST);
        assert_int_equal(s.m.secs, dsecs);
        assert_int_equal(s.ip_dst, 0xffffffffu);
    }
    h_fini(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_parse_reply),
        cmocka_unit_test(test_wire_truncated_and_bad_lengths),
        cmocka_unit_test(test_wire_pad_end),
        cmocka_unit_test(test_wire_overload_and_concat),
        cmocka_unit_test(test_wire_domain_search),
        cmocka_unit_test(test_wire_build),
        cmocka_unit_test(test_lease_obtained),
        cmocka_unit_test(test_renew_at_t1),
        cmocka_unit_test(test_t1_t2_options),
        cmocka_unit_test(test_t1_passed_while_probing),
        cmocka_unit_test(test_lease_expires_while_probing),
        cmocka_unit_test(test_zero_t1_t2_no_renewal_storm),
        cmocka_unit_test(test_server_id_not_unicast),
        cmocka_unit_test(test_dns_servers_unicast_only),
        cmocka_unit_test(test_server_gone_rebinding),
        cmocka_unit_test(test_expiry_drops_address),
        cmocka_unit_test(test_expiry_ends_established_flow),
        cmocka_unit_test(test_nak_returns_to_init),
        cmocka_unit_test(test_requesting_only_chosen_server),
        cmocka_unit_test(test_client_id_mismatch_discarded),
        cmocka_unit_test(test_nak_in_renewing_drops_address),
        cmocka_unit_test(test_decline_on_conflict),
        cmocka_unit_test(test_conflict_simultaneous_probe),
        cmocka_unit_test(test_conflicts_rate_limited),
        cmocka_unit_test(test_init_reboot),
        cmocka_unit_test(test_start_delay),
        cmocka_unit_test(test_retransmission_backoff),
        cmocka_unit_test(test_request_timeout_event),
        cmocka_unit_test(test_request_acked_no_timeout),
        cmocka_unit_test(test_reboot_timeout_event),
        cmocka_unit_test(test_malformed_dropped),
        cmocka_unit_test(test_reply_fields_checked),
        cmocka_unit_test(test_wrong_xid_chaddr_ignored),
        cmocka_unit_test(test_reply_from_wrong_port),
        cmocka_unit_test(test_unconfigured_receive),
        cmocka_unit_test(test_stop_release),
        cmocka_unit_test(test_stop_release_while_probing),
        cmocka_unit_test(test_api_errors),
        cmocka_unit_test(test_stop_from_callback),
        cmocka_unit_test(test_wire_rapid_commit),
        cmocka_unit_test(test_rapid_commit_lease),
        cmocka_unit_test(test_rapid_ack_without_option_ignored),
        cmocka_unit_test(test_rapid_commit_offer_fallback),
        cmocka_unit_test(test_rapid_commit_off),
        cmocka_unit_test(test_rapid_ack_wrong_xid),
        cmocka_unit_test(test_rapid_commit_not_in_requests),
        cmocka_unit_test(test_metrics_source),
        cmocka_unit_test(test_probe_infinite_lease),
        cmocka_unit_test(test_probe_nak_while_bound),
        cmocka_unit_test(test_probe_offer_option_overrun),
        cmocka_unit_test(test_probe_overloaded_offer),
        cmocka_unit_test(test_request_secs_as_discover),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
