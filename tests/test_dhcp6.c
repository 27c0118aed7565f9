/* DHCPv6 client (RFC 8415) on a capturing link and the virtual clock: the
 * wire parser's length checks, the stateless exchange (RA O flag,
 * Information-request, DNS options, refresh time), the stateful one
 * (Solicit, Advertise, Request, Reply, DAD, Renew at T1, Rebind at T2,
 * expiry, Decline, Release), the retransmission timing of section 15, and
 * every check on a reply. The test plays router and server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/bytes.h"
#include "core/stack_impl.h"
#include "dhcp6/dhcp6_wire.h"
#include "ipv6/icmp6_wire.h"
#include "ipv6/ipv6.h"
#include "ipv6/ipv6_wire.h"
#include "ipv6/nd_wire.h"
#include "link/eth_wire.h"
#include "oasis/dhcp6.h"
#include "oasis/error.h"
#include "oasis/metrics.h"
#include "oasis/oasis.h"
#include "udp/udp_wire.h"
#include "caplink.h"
#include "testutil.h"

#define SEC OASIS_NS_PER_SEC
#define MS (SEC / 1000)
#define MAXF 512

static const uint8_t MAC_SRV[6] = {2, 0, 0, 0, 0, 0x53};
static const oasis_in6 SRV = {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53}};
static const oasis_in6 ROUTER = {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01}};
static const oasis_in6 LEASED = {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x23}};
static const oasis_in6 DNS1 = {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53}};
static const uint8_t SRV_DUID[] = {0, 3, 0, 1, 2, 0, 0, 0, 0, 0x53};
static const oasis_in6 UNSPEC;

typedef struct fx {
    oasis_clock *clock;
    oasis_stack *s;
    test_cap cap;
    oasis_dhcp6 *c;
    int ev[16];
    int nev;
    oasis_dhcp6_lease last;
    int dns_cb;
    int try_destroy; /* the callback tries to destroy client and stack, then stops */
    int busy;
    int release_on_bound; /* the callback stops the client with release on BOUND */
    int removed6;         /* address callback: DHCP6 addresses REMOVED */
} fx;

static void on_addr6(oasis_stack *s, const oasis_ipv6_addr_info *a, void *ud)
{
    (void)s;
    fx *x = ud;
    x->removed6 += a->origin == OASIS_IPV6_DHCP6 && a->state == OASIS_IPV6_REMOVED;
}

static void on_ev(oasis_dhcp6 *c, oasis_dhcp6_event ev, const oasis_dhcp6_lease *l, void *ud)
{
    fx *x = ud;
    (void)c;
    assert_true(x->nev < 16);
    x->ev[x->nev++] = (int)ev;
    x->last = *l;
    if (x->release_on_bound && ev == OASIS_DHCP6_EV_BOUND)
        oasis_dhcp6_stop(c, 1);
    if (x->try_destroy) {
        x->busy += oasis_dhcp6_destroy(c) == OASIS_EBUSY;
        x->busy += oasis_stack_destroy(x->s) == OASIS_EBUSY;
        oasis_dhcp6_stop(c, 0); /* allowed */
    }
}

static void on_dns(oasis_stack *s, void *ud)
{
    (void)s;
    ((fx *)ud)->dns_cb++;
}

static void advance(fx *x, uint64_t ns) { test_advance(x->s, x->clock, ns); }
static uint64_t now(fx *x) { return oasis_clock_now(x->clock); }
static const oasis_dhcp6_counters *ctr(fx *x) { return oasis_dhcp6_get_counters(x->c); }

static void fx_start_rc(fx *x, oasis_dhcp6_mode mode, uint32_t dad, int rapid_commit)
{
    memset(x, 0, sizeof *x);
    oasis_stack_config cfg;
    x->clock = oasis_clock_new_virtual(1000 * SEC);
    test_stack_config(&cfg, x->clock, 1);
    cfg.arp_gratuitous = 0;
    cfg.ipv6 = 1;
    cfg.dad_transmits = dad;
    assert_int_equal(oasis_stack_create(&cfg, &x->s), 0);
    test_cap_attach(&x->cap, x->s, MAXF, 1500);
    oasis_ipv6_set_dns_cb(x->s, on_dns, x);
    advance(x, 3 * SEC); /* link-local past DAD */
    x->cap.n = 0;
    oasis_dhcp6_config c;
    oasis_dhcp6_config_init(&c);
    c.mode = mode;
    c.rapid_commit = rapid_commit;
    c.cb = on_ev;
    c.ud = x;
    assert_int_equal(oasis_dhcp6_create(x->s, &c, &x->c), 0);
    assert_int_equal(oasis_dhcp6_start(x->c), 0);
}

static void fx_start(fx *x, oasis_dhcp6_mode mode, uint32_t dad)
{
    fx_start_rc(x, mode, dad, 0);
}

static void fx_stop(fx *x)
{
    assert_int_equal(oasis_dhcp6_destroy(x->c), 0);
    oasis_stack_destroy(x->s);
    test_cap_fini(&x->cap);
    oasis_clock_free(x->clock);
}

/* The i-th captured frame as a DHCPv6 message to the servers' port: 1
 * (parsed into m, its send time not kept) or 0. */
static int frame_msg(fx *x, size_t i, oasis_dhcp6_msg *m)
{
    const uint8_t *f = x->cap.frame[i];
    size_t n = x->cap.len[i];
    if (n < 62 || oasis_get16(f + 12) != OASIS_ETHERTYPE_IPV6 || f[20] != 17 ||
        oasis_get16(f + 56) != OASIS_DHCP6_SERVER_PORT)
        return 0;
    static const uint8_t grp[16] = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2};
    assert_memory_equal(f + 38, grp, 16);
    assert_int_equal(oasis_dhcp6_parse(f + 62, n - 62, 1, m), 0);
    return 1;
}

/* How many DHCPv6 messages were captured; the last in *m. */
static size_t sent(fx *x, oasis_dhcp6_msg *m)
{
    size_t k = 0;
    oasis_dhcp6_msg t;
    for (size_t i = 0; i < x->cap.n; i++)
        if (frame_msg(x, i, &t)) {
            k++;
            if (m)
                *m = t;
        }
    return k;
}

/* Advances in steps of 1 ms until a DHCPv6 message is captured (cap
 * emptied first); returns the time it went out. */
static uint64_t next_msg(fx *x, oasis_dhcp6_msg *m, uint64_t limit)
{
    x->cap.n = 0;
    uint64_t t0 = now(x);
    while (sent(x, m) == 0) {
        assert_true(now(x) - t0 <= limit);
        advance(x, MS);
    }
    return now(x);
}

/* ---- the server's messages ---- */

typedef struct srv {
    uint8_t type;
    uint32_t xid;
    int no_sid, no_cid;
    const uint8_t *cid;         /* NULL: the client's */
    size_t cid_len;
    int status;                 /* top-level; -1 none */
    int ia;                     /* put an IA_NA */
    uint32_t iaid, t1, t2;
    int ia_status;              /* -1 none */
    int naddr;
    oasis_in6 addr;
    uint32_t pref, valid;
    int ndns;
    int domains;
    int refresh;                /* -1: none */
    int preference;             /* -1: none */
    int rapid;                  /* put a Rapid Commit option */
    int bad_tail;               /* an option running past the end */
    uint32_t sol_max_rt;        /* option 82; 0: none */
    const uint8_t *sid;         /* NULL: SRV_DUID */
    size_t sid_len;
} srv;

static srv srv_msg(fx *x, uint8_t type, uint32_t xid)
{
    srv r;
    memset(&r, 0, sizeof r);
    (void)x;
    r.type = type;
    r.xid = xid;
    r.status = r.ia_status = r.refresh = r.preference = -1;
    r.iaid = 1;
    r.addr = LEASED;
    r.pref = 200;
    r.valid = 300;
    return r;
}

/* A message whose IA_NA holds the leased address (LEASED). */
static srv srv_lease(fx *x, uint8_t type, uint32_t xid)
{
    srv r = srv_msg(x, type, xid);
    r.ia = 1;
    r.naddr = 1;
    return r;
}

static size_t build(fx *x, const srv *r, uint8_t *buf, size_t cap)
{
    oasis_dhcp6_builder b;
    oasis_dhcp6_build_start(&b, buf, cap, r->type, r->xid);
    if (!r->no_cid) {
        size_t l = 0;
        const uint8_t *d = r->cid ? r->cid : oasis_dhcp6_duid(x->c, &l);
        oasis_dhcp6_build_opt(&b, OASIS_D6O_CLIENTID, d, r->cid ? r->cid_len : l);
    }
    if (!r->no_sid)
        oasis_dhcp6_build_opt(&b, OASIS_D6O_SERVERID, r->sid ? r->sid : SRV_DUID,
                              r->sid ? r->sid_len : sizeof SRV_DUID);
    if (r->status >= 0) {
        uint8_t st[6] = {0, (uint8_t)r->status, 'n', 'o', 'p', 'e'};
        oasis_dhcp6_build_opt(&b, OASIS_D6O_STATUS_CODE, st, sizeof st);
    }
    if (r->rapid)
        oasis_dhcp6_build_opt(&b, OASIS_D6O_RAPID_COMMIT, NULL, 0);
    if (r->preference >= 0) {
        uint8_t p = (uint8_t)r->preference;
        oasis_dhcp6_build_opt(&b, OASIS_D6O_PREFERENCE, &p, 1);
    }
    if (r->ia) {
        uint8_t ia[12 + 28 + 6];
        size_t n = 12;
        oasis_put32(ia, r->iaid);
        oasis_put32(ia + 4, r->t1);
        oasis_put32(ia + 8, r->t2);
        if (r->naddr) {
            oasis_put16(ia + n, OASIS_D6O_IAADDR);
            oasis_put16(ia + n + 2, 24);
            memcpy(ia + n + 4, r->addr.b, 16);
            oasis_put32(ia + n + 20, r->pref);
            oasis_put32(ia + n + 24, r->valid);
            n += 28;
        }
        if (r->ia_status >= 0) {
            oasis_put16(ia + n, OASIS_D6O_STATUS_CODE);
            oasis_put16(ia + n + 2, 2);
            oasis_put16(ia + n + 4, (uint16_t)r->ia_status);
            n += 6;
        }
        oasis_dhcp6_build_opt(&b, OASIS_D6O_IA_NA, ia, n);
    }
    if (r->ndns)
        oasis_dhcp6_build_opt(&b, OASIS_D6O_DNS_SERVERS, DNS1.b, 16);
    if (r->domains) {
        static const uint8_t dl[] = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0};
        oasis_dhcp6_build_opt(&b, OASIS_D6O_DOMAIN_LIST, dl, sizeof dl);
    }
    if (r->refresh >= 0) {
        uint8_t v[4];
        oasis_put32(v, (uint32_t)r->refresh);
        oasis_dhcp6_build_opt(&b, OASIS_D6O_INFO_REFRESH_TIME, v, 4);
    }
    if (r->sol_max_rt) {
        uint8_t v[4];
        oasis_put32(v, r->sol_max_rt);
        oasis_dhcp6_build_opt(&b, OASIS_D6O_SOL_MAX_RT, v, 4);
    }
    size_t n = oasis_dhcp6_build_end(&b);
    assert_true(n > 0);
    if (r->bad_tail) { /* an option header claiming 40 bytes, 2 there */
        static const uint8_t t[] = {0, 23, 0, 40, 0, 0};
        memcpy(buf + n, t, sizeof t);
        n += sizeof t;
    }
    return n;
}

static void inject_udp(fx *x, uint16_t sport, const uint8_t *msg, size_t n)
{
    uint8_t f[1600];
    const oasis_in6 *ll = oasis_addrconf_link_local(x->s);
    oasis_eth_emit(f, oasis_stack_mac(x->s), MAC_SRV, OASIS_ETHERTYPE_IPV6);
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.payload_len = (uint16_t)(8 + n);
    h.next = 17;
    h.hop_limit = 64;
    h.src = SRV;
    h.dst = *ll;
    oasis_ipv6_emit(f + 14, &h);
    memcpy(f + 62, msg, n);
    oasis_udp_emit6(f + 54, 8 + n, sport, OASIS_DHCP6_CLIENT_PORT, &SRV, ll);
    oasis_stack_input(x->s, f, 62 + n);
}

static void reply(fx *x, const srv *r)
{
    uint8_t buf[512];
    size_t n = build(x, r, buf, sizeof buf - 8);
    inject_udp(x, OASIS_DHCP6_SERVER_PORT, buf, n);
}

static void inject_ra(fx *x, uint8_t flags)
{
    uint8_t f[200];
    uint8_t b[16] = {134, 0, 0, 0, 64, flags, 0x07, 0x08};
    oasis_eth_emit(f, (const uint8_t[6]){0x33, 0x33, 0, 0, 0, 1}, MAC_SRV, OASIS_ETHERTYPE_IPV6);
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.payload_len = sizeof b;
    h.next = OASIS_NH_ICMPV6;
    h.hop_limit = 255;
    h.src = ROUTER;
    h.dst = oasis_in6_all_nodes;
    oasis_ipv6_emit(f + 14, &h);
    memcpy(f + 54, b, sizeof b);
    oasis_icmp6_finish(f + 54, sizeof b, 134, 0, oasis_get32(b + 4), &ROUTER, &h.dst);
    oasis_stack_input(x->s, f, 54 + sizeof b);
}

static int has_opt(fx *x, uint16_t code)
{
    /* The last captured message's raw options. */
    for (size_t i = x->cap.n; i-- > 0;) {
        oasis_dhcp6_msg m;
        if (!frame_msg(x, i, &m))
            continue;
        const uint8_t *p = x->cap.frame[i] + 62;
        size_t n = x->cap.len[i] - 62;
        for (size_t off = 4; off + 4 <= n; off += 4 + oasis_get16(p + off + 2))
            if (oasis_get16(p + off) == code)
                return 1;
        return 0;
    }
    return 0;
}

static uint16_t elapsed_of_last(fx *x)
{
    for (size_t i = x->cap.n; i-- > 0;) {
        oasis_dhcp6_msg m;
        if (!frame_msg(x, i, &m))
            continue;
        const uint8_t *p = x->cap.frame[i] + 62;
        size_t n = x->cap.len[i] - 62;
        for (size_t off = 4; off + 4 <= n; off += 4 + oasis_get16(p + off + 2))
            if (oasis_get16(p + off) == OASIS_D6O_ELAPSED_TIME)
                return oasis_get16(p + off + 4);
    }
    fail();
    return 0;
}

/* ---- wire ---- */

static void test_wire_lengths(void **state)
{
    (void)state;
    oasis_dhcp6_msg m;
    uint8_t b[128] = {7};
    assert_int_equal(oasis_dhcp6_parse(b, 3, 1, &m), OASIS_ETRUNCATED);
    /* A good Reply: header, server id. */
    uint8_t ok[] = {7, 1, 2, 3, 0, 2, 0, 3, 0, 3, 9};
    assert_int_equal(oasis_dhcp6_parse(ok, sizeof ok, 1, &m), 0);
    assert_int_equal(m.xid, 0x010203);
    assert_int_equal(m.server_id_len, 3);
    /* Option running past the end; option header cut short. */
    uint8_t past[] = {7, 1, 2, 3, 0, 2, 0, 9, 0, 3, 9};
    assert_int_equal(oasis_dhcp6_parse(past, sizeof past, 1, &m), OASIS_EMALFORMED);
    assert_int_equal(oasis_dhcp6_parse(ok, sizeof ok - 5, 1, &m), OASIS_EMALFORMED);
    /* DUID of 2 bytes; two Server IDs. */
    uint8_t shortd[] = {7, 1, 2, 3, 0, 2, 0, 2, 0, 3};
    assert_int_equal(oasis_dhcp6_parse(shortd, sizeof shortd, 1, &m), OASIS_EMALFORMED);
    uint8_t twice[] = {7, 1, 2, 3, 0, 2, 0, 3, 0, 3, 9, 0, 2, 0, 3, 0, 3, 9};
    assert_int_equal(oasis_dhcp6_parse(twice, sizeof twice, 1, &m), OASIS_EMALFORMED);
    /* Preference of 2 bytes, DNS list of 17, refresh of 3, status of 1. */
    uint8_t pref[] = {7, 0, 0, 0, 0, 7, 0, 2, 1, 1};
    assert_int_equal(oasis_dhcp6_parse(pref, sizeof pref, 1, &m), OASIS_EMALFORMED);
    memset(b, 0, sizeof b);
    b[0] = 7;
    b[5] = 23;
    b[7] = 17;
    assert_int_equal(oasis_dhcp6_parse(b, 8 + 17, 1, &m), OASIS_EMALFORMED);
    b[7] = 16;
    assert_int_equal(oasis_dhcp6_parse(b, 8 + 16, 1, &m), 0);
    assert_int_equal(m.ndns, 1);
    uint8_t rf[] = {7, 0, 0, 0, 0, 32, 0, 3, 0, 0, 1};
    assert_int_equal(oasis_dhcp6_parse(rf, sizeof rf, 1, &m), OASIS_EMALFORMED);
    uint8_t st[] = {7, 0, 0, 0, 0, 13, 0, 1, 0};
    assert_int_equal(oasis_dhcp6_parse(st, sizeof st, 1, &m), OASIS_EMALFORMED);
    /* Rapid Commit: empty (RFC 8415 21.14), else malformed. */
    uint8_t rc[] = {7, 0, 0, 0, 0, 14, 0, 0, 0, 14, 0, 1, 0};
    assert_int_equal(oasis_dhcp6_parse(rc, 8, 1, &m), 0);
    assert_true(m.rapid_commit);
    assert_int_equal(oasis_dhcp6_parse(rc, 4, 1, &m), 0);
    assert_false(m.rapid_commit);
    assert_int_equal(oasis_dhcp6_parse(rc, sizeof rc, 1, &m), OASIS_EMALFORMED);
    /* Domain list: a compression pointer is refused. */
    uint8_t dl[] = {7, 0, 0, 0, 0, 24, 0, 2, 0xc0, 4};
    assert_int_equal(oasis_dhcp6_parse(dl, sizeof dl, 1, &m), OASIS_EMALFORMED);
    /* IA_NA: short; an IAADDR short inside it; another IAID skipped; an
     * address with preferred > valid dropped. */
    uint8_t ia[4 + 4 + 12 + 4 + 24] = {7, 0, 0, 0, 0, 3, 0, 11};
    assert_int_equal(oasis_dhcp6_parse(ia, 8 + 11, 1, &m), OASIS_EMALFORMED);
    ia[7] = 12 + 4 + 24;
    oasis_put32(ia + 8, 1);
    oasis_put16(ia + 20, OASIS_D6O_IAADDR);
    oasis_put16(ia + 22, 23);
    assert_int_equal(oasis_dhcp6_parse(ia, 8 + 12 + 4 + 23, 1, &m), OASIS_EMALFORMED);
    oasis_put16(ia + 22, 24);
    memcpy(ia + 24, LEASED.b, 16);
    oasis_put32(ia + 40, 10);
    oasis_put32(ia + 44, 20);
    assert_int_equal(oasis_dhcp6_parse(ia, sizeof ia, 1, &m), 0);
    assert_true(m.has_ia);
    assert_int_equal(m.naddrs, 1);
    assert_int_equal(oasis_dhcp6_parse(ia, sizeof ia, 2, &m), 0);
    assert_false(m.has_ia);
    oasis_put32(ia + 40, 30);
    assert_int_equal(oasis_dhcp6_parse(ia, sizeof ia, 1, &m), 0);
    assert_int_equal(m.naddrs, 0);
}

/* ---- stateless ---- */

/* RA with O=1, M=0: an Information-request within INF_MAX_DELAY with
 * DUID-LL, Elapsed Time 0 and an ORO for 23, 24, 32; replies that fail a
 * check leave the client waiting; the good one gives the DNS servers and
 * domains, merged ahead of the RA's, and the refresh time. */
static void test_stateless_checks(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, OASIS_DHCP6_AUTO, 1);
    advance(&x, 5 * SEC);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_WAITING_RA);
    assert_int_equal(sent(&x, NULL), 0);
    inject_ra(&x, 0x40);
    oasis_dhcp6_msg m;
    uint64_t t0 = now(&x);
    uint64_t t = next_msg(&x, &m, 2 * SEC);
    assert_true(t - t0 <= SEC);
    assert_int_equal(m.type, OASIS_DHCP6_INFORMATION_REQUEST);
    assert_false(m.has_ia);
    assert_non_null(m.client_id);
    const uint8_t duid[] = {0, 3, 0, 1};
    assert_int_equal(m.client_id_len, 10);
    assert_memory_equal(m.client_id, duid, 4);
    assert_memory_equal(m.client_id + 4, oasis_stack_mac(x.s), 6);
    assert_int_equal(elapsed_of_last(&x), 0);
    assert_true(has_opt(&x, OASIS_D6O_ORO));
    uint32_t xid = m.xid;

    srv r = srv_msg(&x, OASIS_DHCP6_REPLY, xid ^ 1);
    r.ndns = 1;
    r.domains = 1;
    r.refresh = 1000;
    reply(&x, &r);
    assert_int_equal(ctr(&x)->rx_wrong_xid, 1);
    r.xid = xid;
    r.no_sid = 1;
    reply(&x, &r);
    assert_int_equal(ctr(&x)->rx_no_server_id, 1);
    r.no_sid = 0;
    static const uint8_t other[] = {0, 3, 0, 1, 2, 0, 0, 0, 0, 9};
    r.cid = other;
    r.cid_len = sizeof other;
    reply(&x, &r);
    assert_int_equal(ctr(&x)->rx_wrong_client_id, 1);
    r.cid = NULL;
    r.no_cid = 1;
    reply(&x, &r);
    assert_int_equal(ctr(&x)->rx_wrong_client_id, 2);
    r.no_cid = 0;
    r.bad_tail = 1;
    reply(&x, &r);
    assert_int_equal(ctr(&x)->rx_malformed, 1);
    uint8_t junk[8] = {7};
    inject_udp(&x, 548, junk, sizeof junk);
    assert_int_equal(ctr(&x)->rx_wrong_port, 1);
    /* UseMulticast (RFC 8415 18.2.10): we multicast already; dropped. */
    r.bad_tail = 0;
    r.status = OASIS_D6S_USE_MULTICAST;
    reply(&x, &r);
    assert_int_equal(ctr(&x)->rx_status_errors, 1);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_INFO_REQUESTING);
    assert_int_equal(x.nev, 0);
    r.status = -1;

    reply(&x, &r);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_INFORMED);
    assert_int_equal(x.nev, 1);
    assert_int_equal(x.ev[0], OASIS_DHCP6_EV_INFO);
    assert_int_equal(x.last.ndns, 1);
    assert_memory_equal(x.last.dns[0].b, DNS1.b, 16);
    assert_int_equal(x.last.ndomains, 1);
    assert_string_equal(x.last.domains[0], "example.test");
    assert_int_equal(x.last.refresh_s, 1000);
    oasis_ipv6_dns_server sv[8];
    assert_int_equal(oasis_ipv6_dns_servers(x.s, sv, 8), 1);
    assert_memory_equal(sv[0].addr.b, DNS1.b, 16);
    assert_int_equal(sv[0].source, OASIS_IPV6_DNS_FROM_DHCP6);
    oasis_ipv6_dns_domain dd[8];
    assert_int_equal(oasis_ipv6_dns_domains(x.s, dd, 8), 1);
    assert_string_equal(dd[0].name, "example.test");
    assert_int_equal(x.dns_cb, 1);
    /* A late copy of the reply: the exchange is over. */
    reply(&x, &r);
    assert_int_equal(ctr(&x)->rx_wrong_xid, 2);

    /* Refresh at 1000 s (+ up to INF_MAX_DELAY), with a new xid. */
    x.cap.n = 0;
    advance(&x, 1000 * SEC - (now(&x) - t) - 2 * MS);
    assert_int_equal(sent(&x, NULL), 0);
    t = next_msg(&x, &m, 1100 * MS);
    assert_int_equal(m.type, OASIS_DHCP6_INFORMATION_REQUEST);
    assert_int_not_equal(m.xid, xid);
    /* Stop withdraws the servers. */
    oasis_dhcp6_stop(x.c, 1);
    assert_int_equal(oasis_ipv6_dns_servers(x.s, sv, 8), 0);
    fx_stop(&x);
}

/* RFC 8415 21.23: under IRT_MINIMUM (600 s) is raised to it; absent is
 * IRT_DEFAULT (86400 s). */
static void test_refresh_bounds(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        fx x;
        fx_start(&x, OASIS_DHCP6_STATELESS, 1);
        oasis_dhcp6_msg m;
        next_msg(&x, &m, 2 * SEC);
        srv r = srv_msg(&x, OASIS_DHCP6_REPLY, m.xid);
        r.refresh = k == 0 ? 100 : -1;
        reply(&x, &r);
        uint32_t want = k == 0 ? 600 : 86400;
        assert_int_equal(x.last.refresh_s, want);
        x.cap.n = 0;
        advance(&x, (uint64_t)want * SEC - 10 * MS);
        assert_int_equal(sent(&x, NULL), 0);
        next_msg(&x, &m, 1100 * MS);
        fx_stop(&x);
    }
}

/* RFC 8415 15: RT1 = IRT +- 10 %, RTn = 2 RTn-1 +- 10 %, capped at
 * MRT +- 10 % (INF_MAX_RT 3600 s); Elapsed Time grows. */
static void test_retransmission_timing(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, OASIS_DHCP6_STATELESS, 1);
    oasis_dhcp6_msg m;
    uint64_t prev = next_msg(&x, &m, 2 * SEC);
    uint32_t xid = m.xid;
    uint64_t rt_prev = 0;
    uint64_t first = prev;
    for (int i = 0; i < 16; i++) {
        uint64_t t = next_msg(&x, &m, 4000 * SEC);
        assert_int_equal(m.xid, xid);
        uint64_t rt = t - prev;
        if (i == 0) {
            assert_true(rt >= 900 * MS - MS && rt <= 1100 * MS + MS);
        } else if (2 * rt_prev * 9 / 10 <= 3600 * SEC) {
            uint64_t lo = 2 * rt_prev - 2 * rt_prev / 10, hi = 2 * rt_prev + 2 * rt_prev / 10;
            if (hi > 3960 * SEC)
                hi = 3960 * SEC;
            assert_true(rt + MS >= (lo < 3240 * SEC ? lo : 3240 * SEC) && rt <= hi + MS);
        } else {
            assert_true(rt + MS >= 3240 * SEC && rt <= 3960 * SEC + MS);
        }
        uint64_t cs = (t - first) / (10 * MS);
        uint16_t el = elapsed_of_last(&x);
        assert_int_equal(el, cs > 0xffff ? 0xffff : cs);
        rt_prev = rt;
        prev = t;
    }
    assert_true(rt_prev >= 3240 * SEC); /* reached the cap */
    assert_int_equal(ctr(&x)->tx_retransmits, 16);
    fx_stop(&x);
}

/* The first Solicit waits 0..SOL_MAX_DELAY; its first RT is above IRT
 * (RAND > 0, section 15), at most 1.1 s. */
static void test_solicit_timing(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed < 6; seed++) {
        fx x;
        fx_start(&x, OASIS_DHCP6_AUTO, 1);
        x.s->prng.s[0] ^= seed;
        inject_ra(&x, 0xc0);
        uint64_t t0 = now(&x);
        oasis_dhcp6_msg m;
        uint64_t t1 = next_msg(&x, &m, 2 * SEC);
        assert_true(t1 - t0 <= SEC);
        assert_int_equal(m.type, OASIS_DHCP6_SOLICIT);
        assert_true(m.has_ia);
        assert_true(has_opt(&x, OASIS_D6O_ELAPSED_TIME));
        uint64_t t2 = next_msg(&x, &m, 2 * SEC);
        assert_true(t2 - t1 > SEC && t2 - t1 <= 1100 * MS + MS);
        fx_stop(&x);
    }
}

/* ---- stateful ---- */

/* Solicit -> Advertise -> Request -> Reply; returns with the client in
 * DAD (dad 1) or BOUND (dad 0). */
static void lease(fx *x, uint32_t t1, uint32_t t2)
{
    oasis_dhcp6_msg m;
    inject_ra(x, 0x80);
    next_msg(x, &m, 2 * SEC);
    assert_int_equal(m.type, OASIS_DHCP6_SOLICIT);
    srv a = srv_lease(x, OASIS_DHCP6_ADVERTISE, m.xid);
    a.ndns = 1;
    reply(x, &a);
    assert_int_equal(ctr(x)->rx_advertises, 1);
    /* 18.2.1: the first RT collects Advertises; then the Request. */
    assert_int_equal(oasis_dhcp6_get_state(x->c), OASIS_DHCP6_SOLICITING);
    next_msg(x, &m, 2 * SEC);
    assert_int_equal(m.type, OASIS_DHCP6_REQUEST);
    assert_int_not_equal(m.xid, a.xid);
    assert_non_null(m.server_id);
    assert_memory_equal(m.server_id, SRV_DUID, sizeof SRV_DUID);
    assert_true(m.has_ia && m.naddrs == 1);
    assert_memory_equal(m.addrs[0].addr.b, LEASED.b, 16);
    srv r = srv_lease(x, OASIS_DHCP6_REPLY, m.xid);
    r.t1 = t1;
    r.t2 = t2;
    r.ndns = 1;
    reply(x, &r);
}

static oasis_ipv6_addr_info leased_info(fx *x, int *found)
{
    oasis_ipv6_addr_info a[8], z;
    size_t n = oasis_ipv6_addrs(x->s, a, 8);
    memset(&z, 0, sizeof z);
    *found = 0;
    for (size_t i = 0; i < n && i < 8; i++)
        if (a[i].origin == OASIS_IPV6_DHCP6) {
            *found = 1;
            return a[i];
        }
    return z;
}

static void test_stateful_lease_renew_rebind_release(void **state)
{
    (void)state;
    fx x;
    int found;
    fx_start(&x, OASIS_DHCP6_AUTO, 1);
    lease(&x, 100, 160);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_DAD);
    oasis_ipv6_addr_info ai = leased_info(&x, &found);
    assert_true(found);
    assert_int_equal(ai.state, OASIS_IPV6_TENTATIVE);
    assert_int_equal(ai.prefix_len, 128);
    assert_int_equal(x.nev, 0);
    advance(&x, 3 * SEC);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_BOUND);
    assert_int_equal(x.nev, 1);
    assert_int_equal(x.ev[0], OASIS_DHCP6_EV_BOUND);
    assert_true(x.last.has_addr);
    assert_memory_equal(x.last.addr.b, LEASED.b, 16);
    assert_int_equal(x.last.t1_s, 100);
    assert_int_equal(x.last.t2_s, 160);
    ai = leased_info(&x, &found);
    assert_int_equal(ai.state, OASIS_IPV6_PREFERRED);
    oasis_ipv6_dns_server sv[8];
    assert_int_equal(oasis_ipv6_dns_servers(x.s, sv, 8), 1);

    /* T1: Renew with the server's id, lease held. */
    uint64_t t1 = x.last.t1_ns;
    oasis_dhcp6_msg m;
    x.cap.n = 0;
    advance(&x, t1 - now(&x) - MS);
    assert_int_equal(sent(&x, NULL), 0);
    next_msg(&x, &m, 2 * MS);
    assert_int_equal(m.type, OASIS_DHCP6_RENEW);
    assert_non_null(m.server_id);
    assert_memory_equal(m.addrs[0].addr.b, LEASED.b, 16);
    srv r = srv_lease(&x, OASIS_DHCP6_REPLY, m.xid);
    r.t1 = 100;
    r.t2 = 160;
    reply(&x, &r);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_BOUND);
    assert_int_equal(x.ev[x.nev - 1], OASIS_DHCP6_EV_RENEWED);
    assert_int_equal(ctr(&x)->renewals, 1);

    /* Next T1 unanswered: Renews (REN_TIMEOUT 10 s) until T2, then a
     * Rebind without server id. */
    uint64_t t2 = x.last.t2_ns;
    advance(&x, x.last.t1_ns - now(&x));
    size_t renews0 = ctr(&x)->tx_renews;
    advance(&x, t2 - now(&x) - MS);
    assert_int_equal(ctr(&x)->tx_renews - renews0, 2); /* at T1 + ~10 s and + ~30 s */
    assert_int_equal(ctr(&x)->tx_rebinds, 0);
    next_msg(&x, &m, 2 * MS);
    assert_int_equal(m.type, OASIS_DHCP6_REBIND);
    assert_null(m.server_id);
    r = srv_msg(&x, OASIS_DHCP6_REPLY, m.xid);
    r.ia = 1;
    r.naddr = 1;
    reply(&x, &r); /* T1 and T2 0: 0.5 and 0.8 of preferred (200) */
    assert_int_equal(ctr(&x)->rebinds, 1);
    assert_int_equal(x.last.t1_s, 100);
    assert_int_equal(x.last.t2_s, 160);

    /* Stop with release: a Release, the address gone. */
    x.cap.n = 0;
    oasis_dhcp6_stop(x.c, 1);
    assert_int_equal(sent(&x, &m), 1);
    assert_int_equal(m.type, OASIS_DHCP6_RELEASE);
    assert_non_null(m.server_id);
    leased_info(&x, &found);
    assert_false(found);
    assert_int_equal(oasis_ipv6_dns_servers(x.s, sv, 8), 0);
    fx_stop(&x);
}

/* Nobody answers Renew nor Rebind: when the valid lifetime ends the
 * address is removed, the client says EXPIRED and solicits again. */
static void test_expiry(void **state)
{
    (void)state;
    fx x;
    int found;
    fx_start(&x, OASIS_DHCP6_AUTO, 0);
    lease(&x, 0, 0);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_BOUND);
    uint64_t end = x.last.valid_until_ns;
    advance(&x, end - now(&x) - MS);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_REBINDING);
    leased_info(&x, &found);
    assert_true(found);
    advance(&x, 2 * MS);
    leased_info(&x, &found);
    assert_false(found);
    assert_int_equal(x.ev[x.nev - 1], OASIS_DHCP6_EV_EXPIRED);
    assert_int_equal(ctr(&x)->expiries, 1);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_SOLICITING);
    fx_stop(&x);
}

/* RFC 8415 18.2.10.1: DAD finds the address in use: Decline it (with
 * Server ID and the address), then Solicit again. */
static void test_dad_decline(void **state)
{
    (void)state;
    fx x;
    int found;
    fx_start(&x, OASIS_DHCP6_AUTO, 1);
    lease(&x, 100, 160);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_DAD);
    uint8_t na[32];
    size_t n = oasis_nd_emit_na(na, &LEASED, OASIS_ND_NA_OVERRIDE, MAC_SRV);
    uint8_t f[200];
    oasis_eth_emit(f, (const uint8_t[6]){0x33, 0x33, 0, 0, 0, 1}, MAC_SRV, OASIS_ETHERTYPE_IPV6);
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    h.payload_len = (uint16_t)n;
    h.next = OASIS_NH_ICMPV6;
    h.hop_limit = 255;
    h.src = LEASED;
    h.dst = oasis_in6_all_nodes;
    oasis_ipv6_emit(f + 14, &h);
    memcpy(f + 54, na, n);
    oasis_icmp6_finish(f + 54, n, na[0], na[1], oasis_get32(na + 4), &LEASED, &h.dst);
    x.cap.n = 0;
    oasis_stack_input(x.s, f, 54 + n);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_DECLINING);
    assert_int_equal(x.ev[x.nev - 1], OASIS_DHCP6_EV_DECLINED);
    assert_int_equal(ctr(&x)->declines_dad, 1);
    leased_info(&x, &found);
    assert_false(found);
    oasis_dhcp6_msg m;
    assert_int_equal(sent(&x, &m), 1);
    assert_int_equal(m.type, OASIS_DHCP6_DECLINE);
    assert_non_null(m.server_id);
    assert_int_equal(m.naddrs, 1);
    assert_memory_equal(m.addrs[0].addr.b, LEASED.b, 16);
    srv r = srv_msg(&x, OASIS_DHCP6_REPLY, m.xid);
    reply(&x, &r);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_SOLICITING);
    fx_stop(&x);
}

/* Status codes: an Advertise with NoAddrsAvail is ignored; a Reply with
 * UseMulticast is dropped (the Request is retransmitted); a Reply whose
 * IA_NA says NoAddrsAvail sends the client back to Solicit. */
static void test_status_codes(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, OASIS_DHCP6_STATEFUL, 1);
    oasis_dhcp6_msg m;
    next_msg(&x, &m, 2 * SEC);
    srv a = srv_msg(&x, OASIS_DHCP6_ADVERTISE, m.xid);
    a.status = OASIS_D6S_NO_ADDRS_AVAIL;
    reply(&x, &a);
    assert_int_equal(ctr(&x)->rx_status_errors, 1);
    assert_int_equal(ctr(&x)->rx_advertises, 0);
    a.status = -1;
    a.ia = 1; /* no address in it */
    reply(&x, &a);
    assert_int_equal(ctr(&x)->rx_invalid, 1);
    a.naddr = 1;
    a.preference = 255; /* at once */
    x.cap.n = 0;
    reply(&x, &a);
    assert_int_equal(sent(&x, &m), 1);
    assert_int_equal(m.type, OASIS_DHCP6_REQUEST);
    srv r = srv_msg(&x, OASIS_DHCP6_REPLY, m.xid);
    r.status = OASIS_D6S_USE_MULTICAST;
    reply(&x, &r);
    assert_int_equal(ctr(&x)->rx_status_errors, 2);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_REQUESTING);
    r.status = -1;
    r.ia = 1;
    r.ia_status = OASIS_D6S_NO_ADDRS_AVAIL;
    reply(&x, &r);
    assert_int_equal(ctr(&x)->rx_status_errors, 3);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_SOLICITING);
    fx_stop(&x);
}

/* 18.2.10.1: NoBinding in the Reply to a Renew makes the client Request. */
static void test_renew_no_binding(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, OASIS_DHCP6_AUTO, 0);
    lease(&x, 100, 160);
    oasis_dhcp6_msg m;
    advance(&x, x.last.t1_ns - now(&x) - MS);
    next_msg(&x, &m, 2 * MS);
    assert_int_equal(m.type, OASIS_DHCP6_RENEW);
    srv r = srv_msg(&x, OASIS_DHCP6_REPLY, m.xid);
    r.ia = 1;
    r.ia_status = OASIS_D6S_NO_BINDING;
    x.cap.n = 0;
    reply(&x, &r);
    assert_int_equal(sent(&x, &m), 1);
    assert_int_equal(m.type, OASIS_DHCP6_REQUEST);
    assert_memory_equal(m.addrs[0].addr.b, LEASED.b, 16);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_REQUESTING);
    fx_stop(&x);
}

/* REQ_MAX_RC (10) Requests unanswered: back to Solicit; T1 > T2 in the
 * Reply is refused. */
static void test_request_limit_and_bad_times(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, OASIS_DHCP6_STATEFUL, 1);
    oasis_dhcp6_msg m;
    next_msg(&x, &m, 2 * SEC);
    srv a = srv_lease(&x, OASIS_DHCP6_ADVERTISE, m.xid);
    a.preference = 255;
    reply(&x, &a);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_REQUESTING);
    sent(&x, &m);
    srv r = srv_lease(&x, OASIS_DHCP6_REPLY, m.xid);
    r.t1 = 200;
    r.t2 = 100;
    reply(&x, &r);
    assert_int_equal(ctr(&x)->rx_invalid, 1);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_REQUESTING);
    advance(&x, 400 * SEC);
    assert_int_equal(ctr(&x)->tx_requests, 10);
    assert_int_equal(ctr(&x)->request_timeouts, 1);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_SOLICITING);
    fx_stop(&x);
}

/* Stopped without release, the address stays; a client started again
 * is granted it anew and binds it without a second DAD. */
static void test_restart_keeps_address(void **state)
{
    (void)state;
    fx x;
    int found;
    fx_start(&x, OASIS_DHCP6_AUTO, 1);
    lease(&x, 100, 160);
    advance(&x, 3 * SEC);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_BOUND);
    oasis_dhcp6_stop(x.c, 0);
    leased_info(&x, &found);
    assert_true(found);
    assert_int_equal(oasis_dhcp6_start(x.c), 0);
    oasis_dhcp6_msg m;
    next_msg(&x, &m, 2 * SEC);
    assert_int_equal(m.type, OASIS_DHCP6_SOLICIT);
    srv a = srv_lease(&x, OASIS_DHCP6_ADVERTISE, m.xid);
    a.preference = 255;
    x.cap.n = 0;
    reply(&x, &a);
    assert_int_equal(sent(&x, &m), 1);
    srv r = srv_lease(&x, OASIS_DHCP6_REPLY, m.xid);
    reply(&x, &r);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_BOUND);
    assert_int_equal(ctr(&x)->binds, 2);
    assert_int_equal(ctr(&x)->rx_invalid, 0);
    fx_stop(&x);
}

/* From the callback, destroying the client or the stack is refused
 * (OASIS_EBUSY); stop is allowed; destroy works afterwards. */
static void test_destroy_from_callback(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, OASIS_DHCP6_STATELESS, 1);
    x.try_destroy = 1;
    oasis_dhcp6_msg m;
    next_msg(&x, &m, 2 * SEC);
    srv r = srv_msg(&x, OASIS_DHCP6_REPLY, m.xid);
    reply(&x, &r);
    assert_int_equal(x.nev, 1);
    assert_int_equal(x.busy, 2);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_STOPPED);
    fx_stop(&x);
}

/* Stop with release from the BOUND callback (which runs inside DAD's
 * completion): the address goes once, and nothing of it is left running
 * (no second REMOVED when its lifetime would have ended). */
static void test_release_from_bound_callback(void **state)
{
    (void)state;
    fx x;
    int found;
    fx_start(&x, OASIS_DHCP6_AUTO, 1);
    oasis_ipv6_set_addr_cb(x.s, on_addr6, &x);
    x.release_on_bound = 1;
    lease(&x, 100, 160);
    advance(&x, 3 * SEC);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_RELEASING); /* nobody answers */
    leased_info(&x, &found);
    assert_false(found);
    assert_int_equal(x.removed6, 1);
    advance(&x, 1000 * SEC);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_STOPPED);
    assert_int_equal(x.removed6, 1);
    assert_int_equal(ctr(&x)->tx_releases, 4); /* REL_MAX_RC */
    fx_stop(&x);
}

/* RFC 8415 18.2.7: the Release is retransmitted as section 15 says
 * (REL_TIMEOUT 1 s doubling, each -0.1..+0.1 randomised) with the same
 * transaction ID, until a Reply or REL_MAX_RC (4) sends; a Reply ends it
 * at once, whatever its status. start abandons it. */
static void test_release_retransmitted(void **state)
{
    (void)state;
    fx x;
    oasis_dhcp6_msg m;
    fx_start(&x, OASIS_DHCP6_AUTO, 0);
    lease(&x, 100, 160);
    x.cap.n = 0;
    oasis_dhcp6_stop(x.c, 1);
    uint64_t t0 = now(&x);
    assert_int_equal(sent(&x, &m), 1);
    assert_int_equal(m.type, OASIS_DHCP6_RELEASE);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_RELEASING);
    uint32_t xid = m.xid;
    /* Sends at about 0, 1, 3 and 7 s; none after the fourth. */
    const uint64_t due[] = {1 * SEC, 3 * SEC, 7 * SEC};
    for (int i = 0; i < 3; i++) {
        uint64_t at = next_msg(&x, &m, 10 * SEC) - t0;
        assert_int_equal(m.type, OASIS_DHCP6_RELEASE);
        assert_int_equal(m.xid, xid);
        assert_true(at >= due[i] - due[i] / 5 && at <= due[i] + due[i] / 5);
    }
    x.cap.n = 0;
    advance(&x, 60 * SEC);
    assert_int_equal(sent(&x, &m), 0);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_STOPPED);
    assert_int_equal(ctr(&x)->tx_releases, 4);
    assert_int_equal(ctr(&x)->tx_retransmits >= 3, 1);
    fx_stop(&x);

    /* A Reply (here NoBinding) ends it: no more Releases. */
    fx_start(&x, OASIS_DHCP6_AUTO, 0);
    lease(&x, 100, 160);
    x.cap.n = 0;
    oasis_dhcp6_stop(x.c, 1);
    assert_int_equal(sent(&x, &m), 1);
    srv r = srv_msg(&x, OASIS_DHCP6_REPLY, m.xid);
    r.status = 3; /* NoBinding */
    reply(&x, &r);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_STOPPED);
    x.cap.n = 0;
    advance(&x, 30 * SEC);
    assert_int_equal(sent(&x, &m), 0);
    assert_int_equal(ctr(&x)->tx_releases, 1);
    fx_stop(&x);

    /* start while releasing: the Release gives way. */
    fx_start(&x, OASIS_DHCP6_STATEFUL, 0);
    lease(&x, 100, 160);
    oasis_dhcp6_stop(x.c, 1);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_RELEASING);
    assert_int_equal(oasis_dhcp6_start(x.c), 0);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_SOLICITING);
    fx_stop(&x);
}

/* A Reply that deprecates the address (preferred lifetime 0) with T1 and
 * T2 left to the client: renewed at 0.5 of the valid lifetime, not every
 * second until it expires. */
static void test_deprecated_address_no_renew_storm(void **state)
{
    (void)state;
    fx x;
    oasis_dhcp6_msg m;
    fx_start(&x, OASIS_DHCP6_AUTO, 0);
    lease(&x, 100, 160);
    advance(&x, x.last.t1_ns - now(&x) - MS);
    next_msg(&x, &m, 2 * SEC);
    assert_int_equal(m.type, OASIS_DHCP6_RENEW);
    srv r = srv_lease(&x, OASIS_DHCP6_REPLY, m.xid);
    r.pref = 0;
    r.valid = 300;
    reply(&x, &r);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_BOUND);
    assert_int_equal(x.last.t1_s, 150);
    assert_int_equal(x.last.t2_s, 240);
    size_t renews = ctr(&x)->tx_renews;
    advance(&x, 120 * SEC);
    assert_int_equal(ctr(&x)->tx_renews, renews); /* was one a second */
    advance(&x, 35 * SEC);
    assert_int_equal(ctr(&x)->tx_renews, renews + 1); /* at 150 s (its retry is at ~160) */
    fx_stop(&x);
}

/* RFC 8415 18.2.10.1: a Reply to Renew or Rebind that leaves our IA_NA
 * out is taken as not received (the Renew goes on), and one whose IA_NA
 * leaves our address out leaves that lease unchanged: either way the
 * address stays, until a Reply renews it, gives it a valid lifetime of 0
 * or its own lifetime ends. */
static void test_renew_reply_without_our_address(void **state)
{
    (void)state;
    fx x;
    int found;
    oasis_dhcp6_msg m;
    fx_start(&x, OASIS_DHCP6_AUTO, 0);
    lease(&x, 100, 160);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_BOUND);
    advance(&x, x.last.t1_ns - now(&x) - MS);
    next_msg(&x, &m, 2 * MS);
    assert_int_equal(m.type, OASIS_DHCP6_RENEW);
    srv r = srv_msg(&x, OASIS_DHCP6_REPLY, m.xid); /* no IA_NA at all */
    reply(&x, &r);
    leased_info(&x, &found);
    assert_true(found);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_RENEWING);
    assert_int_equal(ctr(&x)->expiries, 0);
    r.ia = 1; /* an IA_NA without our address */
    reply(&x, &r);
    leased_info(&x, &found);
    assert_true(found);
    assert_int_equal(ctr(&x)->expiries, 0);
    r.naddr = 1; /* another address only */
    r.addr.b[15] ^= 0x40;
    reply(&x, &r);
    leased_info(&x, &found);
    assert_true(found);
    assert_int_equal(ctr(&x)->expiries, 0);
    /* The Renew goes on, and the lease is renewed by a good Reply. */
    next_msg(&x, &m, 20 * SEC);
    assert_int_equal(m.type, OASIS_DHCP6_RENEW);
    r = srv_lease(&x, OASIS_DHCP6_REPLY, m.xid);
    r.t1 = 100;
    r.t2 = 160;
    reply(&x, &r);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_BOUND);
    assert_int_equal(ctr(&x)->renewals, 1);
    /* A valid lifetime of 0 for our address does remove it. */
    advance(&x, x.last.t1_ns - now(&x) - MS);
    next_msg(&x, &m, 2 * MS);
    r = srv_lease(&x, OASIS_DHCP6_REPLY, m.xid);
    r.pref = r.valid = 0;
    reply(&x, &r);
    leased_info(&x, &found);
    assert_false(found);
    assert_int_equal(ctr(&x)->expiries, 1);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_SOLICITING);
    fx_stop(&x);
}

/* RFC 8415 21.4: an IA_NA with T1 > T2 (both non-zero) is discarded and
 * the message read as if it were not there; an Advertise left with no
 * address is ignored (18.2.9), even at preference 255. */
static void test_advertise_t1_above_t2(void **state)
{
    (void)state;
    fx x;
    oasis_dhcp6_msg m;
    fx_start(&x, OASIS_DHCP6_STATEFUL, 0);
    next_msg(&x, &m, 2 * SEC);
    assert_int_equal(m.type, OASIS_DHCP6_SOLICIT);
    srv a = srv_lease(&x, OASIS_DHCP6_ADVERTISE, m.xid);
    a.t1 = 200;
    a.t2 = 100;
    a.preference = 255;
    x.cap.n = 0;
    reply(&x, &a);
    assert_int_equal(sent(&x, NULL), 0);
    assert_int_equal(ctr(&x)->rx_advertises, 0);
    assert_int_equal(ctr(&x)->rx_invalid, 1);
    next_msg(&x, &m, 3 * SEC);
    assert_int_equal(m.type, OASIS_DHCP6_SOLICIT); /* not a Request */
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_SOLICITING);
    /* The same with T1 0 (the client's choice) is taken. */
    a.xid = m.xid;
    a.t1 = 0;
    x.cap.n = 0;
    reply(&x, &a);
    assert_int_equal(sent(&x, &m), 1);
    assert_int_equal(m.type, OASIS_DHCP6_REQUEST);
    fx_stop(&x);
}

/* RFC 8415 18.2.10: SOL_MAX_RT in a Reply is taken even when the Reply
 * says failure (here NoAddrsAvail to a Request): the Solicits that follow
 * back off to about 60 s, not to the default 3600 s. An Advertise
 * ignored for its status sets it as well, for the Solicit running. */
static void test_reply_sol_max_rt(void **state)
{
    (void)state;
    fx x;
    oasis_dhcp6_msg m;
    fx_start(&x, OASIS_DHCP6_STATEFUL, 0);
    next_msg(&x, &m, 2 * SEC);
    srv a = srv_lease(&x, OASIS_DHCP6_ADVERTISE, m.xid);
    a.preference = 255;
    x.cap.n = 0;
    reply(&x, &a);
    assert_int_equal(sent(&x, &m), 1);
    assert_int_equal(m.type, OASIS_DHCP6_REQUEST);
    srv r = srv_msg(&x, OASIS_DHCP6_REPLY, m.xid);
    r.ia = 1;
    r.ia_status = OASIS_D6S_NO_ADDRS_AVAIL;
    r.sol_max_rt = 60;
    reply(&x, &r);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_SOLICITING);
    uint64_t s0 = ctr(&x)->tx_solicits;
    /* 1+2+4+...+32 s, then 60 s +-10%: over 30 in 2000 s; with 3600 s
     * as the cap, 11. */
    advance(&x, 2000 * SEC);
    assert_true(ctr(&x)->tx_solicits - s0 >= 30);
    fx_stop(&x);

    /* 18.2.9, 21.24: an Advertise ignored for NoAddrsAvail still sets
     * SOL_MAX_RT, for the Solicit running too. */
    fx_start(&x, OASIS_DHCP6_STATEFUL, 0);
    next_msg(&x, &m, 2 * SEC);
    a = srv_msg(&x, OASIS_DHCP6_ADVERTISE, m.xid);
    a.status = OASIS_D6S_NO_ADDRS_AVAIL;
    a.sol_max_rt = 60;
    reply(&x, &a);
    assert_int_equal(ctr(&x)->rx_status_errors, 1);
    s0 = ctr(&x)->tx_solicits;
    advance(&x, 2000 * SEC);
    assert_true(ctr(&x)->tx_solicits - s0 >= 30);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_SOLICITING);
    fx_stop(&x);
}

/* Probes that hold: a Reconfigure while BOUND (not supported) is counted
 * and dropped, nothing sent, the lease kept (RFC 8415 18.2.11 needs
 * Reconfigure Accept, never sent); a Reply to Request whose only address
 * has valid lifetime 0 gives nothing (rx_invalid) and the Request goes on;
 * an Advertise whose only address is link-local is not taken. */
static void test_reconfigure_and_unusable_addresses(void **state)
{
    (void)state;
    fx x;
    int found;
    oasis_dhcp6_msg m;
    fx_start(&x, OASIS_DHCP6_STATEFUL, 0);
    next_msg(&x, &m, 2 * SEC);
    srv a = srv_lease(&x, OASIS_DHCP6_ADVERTISE, m.xid);
    a.preference = 255;
    a.addr = SRV; /* link-local */
    x.cap.n = 0;
    reply(&x, &a);
    assert_int_equal(sent(&x, NULL), 0);
    assert_int_equal(ctr(&x)->rx_invalid, 1);
    a.addr = LEASED;
    reply(&x, &a);
    assert_int_equal(sent(&x, &m), 1);
    assert_int_equal(m.type, OASIS_DHCP6_REQUEST);
    srv r = srv_lease(&x, OASIS_DHCP6_REPLY, m.xid);
    r.pref = r.valid = 0;
    reply(&x, &r);
    assert_int_equal(ctr(&x)->rx_invalid, 2);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_REQUESTING);
    leased_info(&x, &found);
    assert_false(found);
    r.pref = 200;
    r.valid = 300;
    reply(&x, &r);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_BOUND);
    srv rc = srv_msg(&x, OASIS_DHCP6_RECONFIGURE, 0);
    x.cap.n = 0;
    reply(&x, &rc);
    assert_int_equal(ctr(&x)->rx_unexpected, 1);
    assert_int_equal(sent(&x, NULL), 0);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_BOUND);
    leased_info(&x, &found);
    assert_true(found);
    fx_stop(&x);
}

/* RFC 8415 18.2.10.1: NoBinding in the Reply to a Rebind, from a server
 * other than the lease's, sends a Request to the server that responded. */
static void test_rebind_no_binding_other_server(void **state)
{
    (void)state;
    fx x;
    oasis_dhcp6_msg m;
    static const uint8_t OTHER[] = {0, 3, 0, 1, 2, 0, 0, 0, 0, 0x54};
    fx_start(&x, OASIS_DHCP6_AUTO, 0);
    lease(&x, 100, 160);
    advance(&x, x.last.t2_ns - now(&x) - MS);
    next_msg(&x, &m, 2 * MS);
    assert_int_equal(m.type, OASIS_DHCP6_REBIND);
    srv r = srv_msg(&x, OASIS_DHCP6_REPLY, m.xid);
    r.sid = OTHER;
    r.sid_len = sizeof OTHER;
    r.ia = 1;
    r.ia_status = OASIS_D6S_NO_BINDING;
    x.cap.n = 0;
    reply(&x, &r);
    assert_int_equal(sent(&x, &m), 1);
    assert_int_equal(m.type, OASIS_DHCP6_REQUEST);
    assert_non_null(m.server_id);
    assert_int_equal(m.server_id_len, sizeof OTHER);
    assert_memory_equal(m.server_id, OTHER, sizeof OTHER);
    assert_memory_equal(m.addrs[0].addr.b, LEASED.b, 16);
    fx_stop(&x);
}

/* ---- Rapid Commit (RFC 8415 18.2.1, 21.14) ---- */

/* Asked for: the Solicit carries the option; a Reply without it, or one
 * that gives no address, leaves the Solicit running (same transaction);
 * the Reply with it and an address is the lease: DAD, then BOUND, with
 * no Request on the wire. Renew and Rebind do not carry the option. */
static void test_rapid_commit(void **state)
{
    (void)state;
    fx x;
    fx_start_rc(&x, OASIS_DHCP6_STATEFUL, 1, 1);
    oasis_dhcp6_msg m;
    next_msg(&x, &m, 2 * SEC);
    assert_int_equal(m.type, OASIS_DHCP6_SOLICIT);
    assert_true(m.rapid_commit);
    uint32_t xid = m.xid;
    srv r = srv_lease(&x, OASIS_DHCP6_REPLY, xid);
    r.t1 = 100;
    r.t2 = 160;
    reply(&x, &r); /* no Rapid Commit in it: discarded */
    assert_int_equal(ctr(&x)->rx_unexpected, 1);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_SOLICITING);
    r.rapid = 1;
    r.naddr = 0;
    r.ia_status = OASIS_D6S_NO_ADDRS_AVAIL; /* this server has none */
    reply(&x, &r);
    assert_int_equal(ctr(&x)->rx_status_errors, 1);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_SOLICITING);
    next_msg(&x, &m, 2 * SEC); /* the Solicit goes on, same transaction */
    assert_int_equal(m.type, OASIS_DHCP6_SOLICIT);
    assert_int_equal(m.xid, xid);
    r.naddr = 1;
    r.ia_status = -1;
    r.ndns = 1;
    x.cap.n = 0;
    reply(&x, &r);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_DAD);
    advance(&x, 3 * SEC);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_BOUND);
    assert_int_equal(x.nev, 1);
    assert_int_equal(x.ev[0], OASIS_DHCP6_EV_BOUND);
    assert_memory_equal(x.last.addr.b, LEASED.b, 16);
    assert_int_equal(x.last.t1_s, 100);
    assert_int_equal(x.last.server_duid_len, sizeof SRV_DUID);
    assert_memory_equal(x.last.server_duid, SRV_DUID, sizeof SRV_DUID);
    assert_int_equal(ctr(&x)->tx_requests, 0);
    assert_int_equal(ctr(&x)->binds, 1);
    assert_int_equal(ctr(&x)->rapid_commits, 1);
    assert_int_equal(ctr(&x)->rx_replies, 1);
    /* T1: the Renew names the server and carries no Rapid Commit. */
    advance(&x, x.last.t1_ns - now(&x) - MS);
    next_msg(&x, &m, 2 * MS);
    assert_int_equal(m.type, OASIS_DHCP6_RENEW);
    assert_false(m.rapid_commit);
    assert_memory_equal(m.server_id, SRV_DUID, sizeof SRV_DUID);
    fx_stop(&x);
}

/* Not asked for (the default): the Solicit carries no option, and a
 * Reply that does is discarded. */
static void test_rapid_commit_off(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, OASIS_DHCP6_STATEFUL, 1);
    oasis_dhcp6_msg m;
    next_msg(&x, &m, 2 * SEC);
    assert_int_equal(m.type, OASIS_DHCP6_SOLICIT);
    assert_false(m.rapid_commit);
    srv r = srv_lease(&x, OASIS_DHCP6_REPLY, m.xid);
    r.rapid = 1;
    reply(&x, &r);
    assert_int_equal(ctr(&x)->rx_unexpected, 1);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_SOLICITING);
    fx_stop(&x);
}

/* Asked for, but the server answers with an Advertise: the four-message
 * exchange, whose Request carries no Rapid Commit; no rapid bind counted. */
static void test_rapid_commit_advertise_fallback(void **state)
{
    (void)state;
    fx x;
    fx_start_rc(&x, OASIS_DHCP6_STATEFUL, 0, 1);
    oasis_dhcp6_msg m;
    next_msg(&x, &m, 2 * SEC);
    assert_true(m.rapid_commit);
    srv a = srv_lease(&x, OASIS_DHCP6_ADVERTISE, m.xid);
    a.preference = 255;
    x.cap.n = 0;
    reply(&x, &a);
    assert_int_equal(sent(&x, &m), 1);
    assert_int_equal(m.type, OASIS_DHCP6_REQUEST);
    assert_false(m.rapid_commit);
    srv r = srv_lease(&x, OASIS_DHCP6_REPLY, m.xid);
    reply(&x, &r);
    assert_int_equal(oasis_dhcp6_get_state(x.c), OASIS_DHCP6_BOUND);
    assert_int_equal(ctr(&x)->binds, 1);
    assert_int_equal(ctr(&x)->rapid_commits, 0);
    fx_stop(&x);
}

static void test_api(void **state)
{
    (void)state;
    fx x;
    fx_start(&x, OASIS_DHCP6_AUTO, 1);
    oasis_dhcp6 *other;
    assert_int_equal(oasis_dhcp6_create(x.s, NULL, &other), OASIS_EADDRINUSE);
    assert_int_equal(oasis_dhcp6_start(x.c), OASIS_EBUSY);
    oasis_dhcp6_lease l;
    assert_int_equal(oasis_dhcp6_get_lease(x.c, &l), OASIS_ENOENT);
    assert_string_equal(oasis_dhcp6_state_name(OASIS_DHCP6_BOUND), "BOUND");
    oasis_metrics *mt;
    assert_int_equal(oasis_metrics_create(NULL, &mt), 0);
    assert_int_equal(oasis_dhcp6_add_metrics(mt, x.c, NULL, 0), 0);
    oasis_metrics_remove_by_ud(mt, x.c);
    oasis_metrics_destroy(mt);
    fx_stop(&x);
    /* IPv6 off: refused. */
    oasis_clock *ck = oasis_clock_new_virtual(0);
    oasis_stack_config cfg;
    test_stack_config(&cfg, ck, 1);
    cfg.ipv6 = 0;
    oasis_stack *s;
    assert_int_equal(oasis_stack_create(&cfg, &s), 0);
    assert_int_equal(oasis_dhcp6_create(s, NULL, &other), OASIS_EINVAL);
    oasis_stack_destroy(s);
    oasis_clock_free(ck);
    (void)UNSPEC;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_lengths),
        cmocka_unit_test(test_stateless_checks),
        cmocka_unit_test(test_refresh_bounds),
        cmocka_unit_test(test_retransmission_timing),
        cmocka_unit_test(test_solicit_timing),
        cmocka_unit_test(test_stateful_lease_renew_rebind_release),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_dad_decline),
        cmocka_unit_test(test_status_codes),
        cmocka_unit_test(test_renew_no_binding),
        cmocka_unit_test(test_request_limit_and_bad_times),
        cmocka_unit_test(test_restart_keeps_address),
        cmocka_unit_test(test_destroy_from_callback),
        cmocka_unit_test(test_release_from_bound_callback),
        cmocka_unit_test(test_release_retransmitted),
        cmocka_unit_test(test_deprecated_address_no_renew_storm),
        cmocka_unit_test(test_renew_reply_without_our_address),
        cmocka_unit_test(test_advertise_t1_above_t2),
        cmocka_unit_test(test_reply_sol_max_rt),
        cmocka_unit_test(test_reconfigure_and_unusable_addresses),
        cmocka_unit_test(test_rebind_no_binding_other_server),
        cmocka_unit_test(test_rapid_commit),
        cmocka_unit_test(test_rapid_commit_off),
        cmocka_unit_test(test_rapid_commit_advertise_fallback),
        cmocka_unit_test(test_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
