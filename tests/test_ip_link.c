/* IP links (OASIS_LINK_IP, oasis/link.h): two stacks joined by a link
 * that carries bare IPv4 and IPv6 packets, as a TUN device or a VPN's
 * tunnel does. Every packet either stack sends is checked to be an IP
 * packet (version 4 or 6, nothing of Ethernet or ARP in front); nothing
 * is resolved (no ARP, no Neighbour Solicitation, no DAD wait); every
 * destination is reached through the link, so point-to-point /32 and
 * /128 addresses with no gateway talk to each other. Virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "icmp/icmp_wire.h"
#include "ip/ipv4_wire.h"
#include "ipv6/icmp6_wire.h"
#include "ipv6/ipv6_wire.h"
#include "oasis/oasis.h"

#define QMAX 4096
#define ADDR_A OASIS_IPV4(10, 9, 0, 1)
#define ADDR_B OASIS_IPV4(10, 9, 0, 2)
#define MS OASIS_NS_PER_MS
#define SEC OASIS_NS_PER_SEC

/* One end of the link: what its stack sent, queued for the other end. */
typedef struct end {
    oasis_link link;
    oasis_stack *s;
    uint8_t *q[QMAX];
    size_t qlen[QMAX];
    oasis_offload qoff[QMAX]; /* gso_type or flags set: sent with offloads */
    size_t head, n;
    unsigned sent, v4, v6, not_ip;
    unsigned supersegs, bad_offsets; /* offload sends: GSO ones, offsets not from IP */
    oasis_impair_link *filter; /* impairments in front of this end's stack (or NULL) */
    size_t router_mtu; /* a router on the way out: bigger packets dropped, ICMP back */
    unsigned too_big;  /* packets it dropped */
} end;

static void router_drop(end *from, const uint8_t *p, size_t len);

typedef struct net {
    oasis_clock *clock;
    end a, b;
} net;

static int end_queue(end *e, const uint8_t *pkt, size_t len, const oasis_offload *off);

static int end_send(oasis_link *l, const uint8_t *pkt, size_t len)
{
    return end_queue(l->data, pkt, len, NULL);
}

/* Offsets count from the IP header (link.h): the transport header starts
 * right after IPv4's 20 bytes or IPv6's 40 (the stack sends no options or
 * extension headers with offloads). */
static int end_send_offload(oasis_link *l, const uint8_t *pkt, size_t len, const oasis_offload *off)
{
    end *e = l->data;
    size_t ip = len && pkt[0] >> 4 == 6 ? 40 : 20;
    if (off->csum_start != ip || (off->gso_type && (off->hdr_len < ip + 20 || off->hdr_len > len)))
        e->bad_offsets++;
    if (off->gso_type)
        e->supersegs++;
    return end_queue(e, pkt, len, off);
}

static int end_queue(end *e, const uint8_t *pkt, size_t len, const oasis_offload *off)
{
    e->sent++;
    unsigned v = len ? pkt[0] >> 4 : 0;
    if (v == 4)
        e->v4++;
    else if (v == 6)
        e->v6++;
    else
        e->not_ip++;
    if (e->n == QMAX)
        return OASIS_EAGAIN;
    uint8_t *c = malloc(len ? len : 1);
    assert_non_null(c);
    memcpy(c, pkt, len);
    size_t at = (e->head + e->n++) % QMAX;
    e->q[at] = c;
    e->qlen[at] = len;
    memset(&e->qoff[at], 0, sizeof e->qoff[at]);
    if (off)
        e->qoff[at] = *off;
    return OASIS_OK;
}

static void end_init(end *e, oasis_clock *clock, int n, uint32_t addr, int ipv6, int transparent)
{
    memset(e, 0, sizeof *e);
    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg);
    uint8_t mac[6] = {0x02, 0, 0, 0, 0, (uint8_t)n};
    memcpy(cfg.mac, mac, 6);
    cfg.addr = addr;
    cfg.prefix_len = 32; /* point to point: nobody else is on-link */
    cfg.clock = clock;
    cfg.seed = (uint64_t)n * 7919u;
    cfg.ipv6 = ipv6;
    cfg.transparent = transparent;
    assert_int_equal(oasis_stack_create(&cfg, &e->s), 0);
    e->link.send = end_send;
    e->link.mtu = 1500;
    e->link.caps = OASIS_LINK_IP;
    e->link.data = e;
    oasis_stack_set_link(e->s, &e->link);
}

/* b_transparent: B answers for every address (cfg.transparent). */
static void net_init_t(net *n, int ipv6, int b_transparent)
{
    n->clock = oasis_clock_new_virtual(0);
    assert_non_null(n->clock);
    end_init(&n->a, n->clock, 1, ADDR_A, ipv6, 0);
    end_init(&n->b, n->clock, 2, ADDR_B, ipv6, b_transparent);
}

static void net_init(net *n, int ipv6) { net_init_t(n, ipv6, 0); }

static void end_drain(end *e)
{
    while (e->n) {
        free(e->q[e->head]);
        e->head = (e->head + 1) % QMAX;
        e->n--;
    }
}

static void net_fini(net *n)
{
    assert_int_equal(oasis_stack_destroy(n->a.s), 0);
    assert_int_equal(oasis_stack_destroy(n->b.s), 0);
    end_drain(&n->a);
    end_drain(&n->b);
    oasis_clock_free(n->clock);
}

/* Hands the to stack every packet from queued (one pass: what it sends
 * back waits for the next). Returns how many went. */
static size_t deliver(end *from, end *to)
{
    size_t k = from->n;
    for (size_t i = 0; i < k; i++) {
        uint8_t *p = from->q[from->head];
        size_t len = from->qlen[from->head];
        oasis_offload off = from->qoff[from->head];
        from->head = (from->head + 1) % QMAX;
        from->n--;
        if (from->router_mtu && len > from->router_mtu) {
            router_drop(from, p, len);
            free(p);
            continue;
        }
        /* As a TUN device hands a local sender's packets on: partial
         * checksums and super-segments as they are. */
        if (to->filter)
            oasis_impair_link_input(to->filter, to->s, p, len,
                                    off.flags || off.gso_type ? &off : NULL);
        else if (off.flags || off.gso_type)
            oasis_stack_input_ip_offload(to->s, p, len, &off);
        else
            oasis_stack_input_ip(to->s, p, len);
        free(p);
    }
    return k;
}

/* Runs the link (each packet takes 1 ms) until *flag or timeout. */
static void run_until(net *n, const int *flag, uint64_t timeout)
{
    uint64_t end_at = oasis_clock_now(n->clock) + timeout;
    while (!(flag && *flag) && oasis_clock_now(n->clock) < end_at) {
        oasis_stack_poll(n->a.s);
        oasis_stack_poll(n->b.s);
        if (n->a.n || n->b.n) {
            oasis_clock_advance(n->clock, MS);
            deliver(&n->a, &n->b);
            deliver(&n->b, &n->a);
            continue;
        }
        uint64_t d = oasis_stack_next_deadline(n->a.s), e = oasis_stack_next_deadline(n->b.s);
        uint64_t next = d < e ? d : e;
        if (next > end_at)
            next = end_at;
        uint64_t now = oasis_clock_now(n->clock);
        oasis_clock_advance(n->clock, next > now ? next - now : MS);
    }
}

/* ---- a TCP echo: the server sends back what it reads ---- */

#define BYTES (64 * 1024)

typedef struct echo {
    oasis_flow *srv, *cli;
    int connected, connect_err;
    oasis_ipaddr srv_local, srv_remote;
    uint8_t out[BYTES];
    uint8_t back[BYTES];
    size_t got;
    int done;
} echo;

static void srv_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    if (err)
        return;
    oasis_tcp_write(f, data, len, NULL, NULL); /* (taken within the call: no loss) */
    oasis_tcp_read(f, srv_read, ud);
}

static void on_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    echo *e = ud;
    (void)s;
    e->srv = f;
    oasis_tcp_src(f, &e->srv_local, NULL);
    oasis_tcp_dst(f, &e->srv_remote, NULL);
    oasis_tcp_read(f, srv_read, e);
}

static void cli_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    echo *e = ud;
    if (err)
        return;
    assert_true(e->got + len <= BYTES);
    memcpy(e->back + e->got, data, len);
    e->got += len;
    if (e->got == BYTES)
        e->done = 1;
    else
        oasis_tcp_read(f, cli_read, e);
}

static void on_connect(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    echo *e = ud;
    (void)s;
    e->connected = 1;
    e->connect_err = err;
    if (err)
        return;
    e->cli = f;
    assert_int_equal(oasis_tcp_write(f, e->out, BYTES, NULL, NULL), 0);
    oasis_tcp_read(f, cli_read, e);
}

static echo E; /* the listeners' user data */

/* The echo from a to dst:port, which b answers for (its own address, or
 * any when its listener, already there, is transparent), then the checks
 * every test makes on what crossed the link. */
static void echo_to(net *n, const oasis_ipaddr *dst, uint16_t port, const oasis_ipaddr *src)
{
    memset(&E, 0, sizeof E);
    for (size_t i = 0; i < BYTES; i++)
        E.out[i] = (uint8_t)(i * 31 + 7);
    assert_int_equal(oasis_tcp_connect(n->a.s, dst, port, NULL, on_connect, &E), 0);
    run_until(n, &E.done, 60 * SEC);
    assert_int_equal(E.connect_err, 0);
    assert_true(E.done);
    assert_memory_equal(E.back, E.out, BYTES);
    assert_true(oasis_ipaddr_eq(&E.srv_local, dst));
    assert_true(oasis_ipaddr_eq(&E.srv_remote, src));
    oasis_ipaddr cli_remote;
    oasis_tcp_dst(E.cli, &cli_remote, NULL);
    assert_true(oasis_ipaddr_eq(&cli_remote, dst));
    oasis_tcp_release(E.cli);
    oasis_tcp_release(E.srv);
}

static void echo_over(net *n, const oasis_ipaddr *dst, const oasis_ipaddr *src)
{
    assert_int_equal(oasis_tcp_listen(n->b.s, 80, NULL, on_accept, &E), 0);
    echo_to(n, dst, 80, src);
}

static void no_link_layer(const net *n)
{
    const end *ends[2] = {&n->a, &n->b};
    for (int i = 0; i < 2; i++) {
        const end *x = ends[i];
        assert_true(x->sent > 0);
        assert_int_equal(x->not_ip, 0);
        const oasis_counters *c = oasis_stack_counters(x->s);
        assert_int_equal(c->arp.tx_requests, 0);
        assert_int_equal(c->arp.tx_gratuitous, 0);
        assert_int_equal(c->icmp6.out_neigh_solicits, 0);
        assert_int_equal(c->link.tx_errors, 0);
    }
}

/* IPv4 between two /32 addresses, no gateway: on an Ethernet link A would
 * have no route to B (and would ARP for it); on an IP link the packets go
 * through the link at once. */
static void test_tcp4(void **state)
{
    (void)state;
    net n;
    net_init(&n, 0);
    oasis_ipaddr b = oasis_ipaddr_v4(ADDR_B), a = oasis_ipaddr_v4(ADDR_A);
    echo_over(&n, &b, &a);
    assert_true(n.a.v4 > 0 && n.b.v4 > 0);
    no_link_layer(&n);
    net_fini(&n);
}

/* The application's link is what the stack reports, not the stack's
 * Ethernet face in front of it. */
static void test_link_is_the_applications(void **state)
{
    (void)state;
    net n;
    net_init(&n, 0);
    assert_ptr_equal(oasis_stack_link(n.a.s), &n.a.link);
    net_fini(&n);
}

/* IPv6 with static /128 addresses, usable at once: no DAD (a second of
 * waiting on Ethernet) and no Neighbour Solicitation for the peer. The
 * connection completes within the first virtual second. */
static void test_tcp6_at_once(void **state)
{
    (void)state;
    net n;
    net_init(&n, 1);
    oasis_ipaddr a6, b6;
    assert_int_equal(oasis_ipaddr_parse("fd00:9::1", &a6), 0);
    assert_int_equal(oasis_ipaddr_parse("fd00:9::2", &b6), 0);
    assert_int_equal(oasis_ipv6_add_addr(n.a.s, &a6, 128), 0);
    assert_int_equal(oasis_ipv6_add_addr(n.b.s, &b6, 128), 0);
    uint64_t t0 = oasis_clock_now(n.clock);
    echo_over(&n, &b6, &a6);
    assert_true(n.a.v6 > 0 && n.b.v6 > 0);
    assert_true(oasis_clock_now(n.clock) - t0 < SEC); /* virtual time: no DAD wait */
    no_link_layer(&n);
    net_fini(&n);
}

typedef struct small {
    int pinged, ping_err;
    int udp_got;
    oasis_ipaddr udp_src, udp_dst;
    uint8_t udp_data[16];
    size_t udp_len;
} small;

static void on_ping(oasis_stack *s, int err, uint16_t seq, uint64_t rtt, void *ud)
{
    small *m = ud;
    (void)s, (void)seq, (void)rtt;
    m->pinged = 1;
    m->ping_err = err;
}

static void on_udp(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport, const oasis_ipaddr *dst,
                   uint16_t dport, const uint8_t *data, size_t len, void *ud)
{
    small *m = ud;
    (void)s, (void)sport, (void)dport;
    m->udp_got = 1;
    m->udp_src = *src;
    m->udp_dst = *dst;
    m->udp_len = len < sizeof m->udp_data ? len : sizeof m->udp_data;
    memcpy(m->udp_data, data, m->udp_len);
}

/* ICMP echo and a UDP datagram cross the link like TCP. */
static void test_ping_and_udp(void **state)
{
    (void)state;
    net n;
    net_init(&n, 0);
    small m;
    memset(&m, 0, sizeof m);
    assert_int_equal(oasis_ping(n.a.s, ADDR_B, 7, 1, 56, 5 * SEC, on_ping, &m), 0);
    run_until(&n, &m.pinged, 10 * SEC);
    assert_int_equal(m.ping_err, 0);
    assert_int_equal(oasis_udp_bind(n.b.s, 5353, on_udp, &m), 0);
    oasis_ipaddr b = oasis_ipaddr_v4(ADDR_B), a = oasis_ipaddr_v4(ADDR_A);
    assert_int_equal(oasis_udp_send(n.a.s, 4000, &b, 5353, "hello", 5), 0);
    run_until(&n, &m.udp_got, 5 * SEC);
    assert_int_equal(m.udp_len, 5);
    assert_memory_equal(m.udp_data, "hello", 5);
    assert_true(oasis_ipaddr_eq(&m.udp_src, &a));
    assert_true(oasis_ipaddr_eq(&m.udp_dst, &b));
    no_link_layer(&n);
    net_fini(&n);
}

/* What is not an IP packet is counted and dropped, and nothing answers. */
static void test_bad_packets(void **state)
{
    (void)state;
    net n;
    net_init(&n, 0);
    const oasis_counters *c = oasis_stack_counters(n.b.s);
    uint64_t frames = c->link.rx_frames;
    oasis_stack_input_ip(n.b.s, NULL, 20);       /* ignored, not counted */
    oasis_stack_input_ip(NULL, (const uint8_t *)"x", 1);
    uint8_t empty[1] = {0};
    oasis_stack_input_ip(n.b.s, empty, 0);
    assert_int_equal(c->link.rx_malformed, 1);
    uint8_t v5[20] = {0x55};
    oasis_stack_input_ip(n.b.s, v5, sizeof v5);
    assert_int_equal(c->link.rx_unknown_type, 1);
    /* An ARP request, as an Ethernet link would carry it: version 0. */
    uint8_t arp[28] = {0x00, 0x01, 0x08, 0x00, 6, 4, 0, 1};
    oasis_stack_input_ip(n.b.s, arp, sizeof arp);
    assert_int_equal(c->link.rx_unknown_type, 2);
    uint64_t trunc = c->ip.in_truncated;
    uint8_t short4[12] = {0x45, 0, 0, 40};
    oasis_stack_input_ip(n.b.s, short4, sizeof short4);
    assert_int_equal(c->ip.in_truncated, trunc + 1);
    assert_int_equal(c->link.rx_frames, frames + 4);
    oasis_stack_poll(n.b.s);
    assert_int_equal(n.b.n, 0);
    net_fini(&n);
}

/* ---- a transparent stack (cfg.transparent): B answers for every address ---- */

static oasis_ipaddr addr(const char *text)
{
    oasis_ipaddr a;
    assert_int_equal(oasis_ipaddr_parse(text, &a), 0);
    return a;
}

/* One listener of every port takes connections to any address, over IPv4
 * and IPv6: each flow's local address and port are what the peer asked
 * for, and everything B sends comes from them (A's flows complete). */
static void test_transparent_any_port(void **state)
{
    (void)state;
    net n;
    net_init_t(&n, 1, 1);
    oasis_ipaddr a6 = addr("fd00:9::1"), b6 = addr("fd00:9::2");
    assert_int_equal(oasis_ipv6_add_addr(n.a.s, &a6, 128), 0);
    assert_int_equal(oasis_ipv6_add_addr(n.b.s, &b6, 128), 0);
    oasis_listen_opts lo = {.transparent = 1};
    assert_int_equal(oasis_tcp_listen(n.b.s, 0, &lo, on_accept, &E), 0);
    oasis_ipaddr a4 = oasis_ipaddr_v4(ADDR_A);
    oasis_ipaddr far4 = addr("198.51.100.7"), far4b = addr("203.0.113.9");
    oasis_ipaddr far6 = addr("2001:db8::7");
    echo_to(&n, &far4, 443, &a4);
    assert_int_equal(oasis_ipaddr_to_v4(&E.srv_local), OASIS_IPV4(198, 51, 100, 7));
    echo_to(&n, &far4b, 80, &a4);
    echo_to(&n, &far6, 8443, &a6);
    /* B's own address still answers too. */
    oasis_ipaddr b4 = oasis_ipaddr_v4(ADDR_B);
    echo_to(&n, &b4, 22, &a4);
    no_link_layer(&n);
    net_fini(&n);
}

typedef struct refused {
    int done, err;
} refused;

static void on_refused(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    refused *r = ud;
    (void)s;
    r->done = 1;
    r->err = err;
    if (f)
        oasis_tcp_release(f);
}

/* A SYN to a foreign address that no transparent listener takes is
 * answered as a closed port would be: a reset from that address (A's
 * connect is refused); a port's ordinary listener does not take it. */
static void test_transparent_closed_port_resets(void **state)
{
    (void)state;
    net n;
    net_init_t(&n, 1, 1);
    oasis_ipaddr a6 = addr("fd00:9::1");
    assert_int_equal(oasis_ipv6_add_addr(n.a.s, &a6, 128), 0);
    memset(&E, 0, sizeof E);
    assert_int_equal(oasis_tcp_listen(n.b.s, 80, NULL, on_accept, &E), 0);
    const char *far[] = {"198.51.100.7", "2001:db8::7"};
    for (int i = 0; i < 2; i++) {
        oasis_ipaddr dst = addr(far[i]);
        refused r = {0};
        assert_int_equal(oasis_tcp_connect(n.a.s, &dst, 80, NULL, on_refused, &r), 0);
        run_until(&n, &r.done, 10 * SEC);
        assert_true(r.done);
        assert_int_equal(r.err, OASIS_EREFUSED);
        assert_null(E.srv);
    }
    net_fini(&n);
}

/* Without cfg.transparent a packet to a foreign address is dropped and
 * counted, and B answers nothing; a transparent listener is refused. */
static void test_not_transparent_drops(void **state)
{
    (void)state;
    net n;
    net_init(&n, 0);
    oasis_listen_opts lo = {.transparent = 1};
    assert_int_equal(oasis_tcp_listen(n.b.s, 0, &lo, on_accept, &E), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_listen(n.b.s, 80, &lo, on_accept, &E), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_listen(n.b.s, 0, NULL, on_accept, &E), OASIS_EINVAL);
    assert_int_equal(oasis_tcp_listen(n.b.s, 80, NULL, on_accept, &E), 0);
    const oasis_counters *c = oasis_stack_counters(n.b.s);
    uint64_t addr_errs = c->ip.in_addr_errors;
    oasis_ipaddr far4 = addr("198.51.100.7");
    refused r = {0};
    assert_int_equal(oasis_tcp_connect(n.a.s, &far4, 80, NULL, on_refused, &r), 0);
    run_until(&n, NULL, 2 * SEC);
    assert_false(r.done);
    assert_true(c->ip.in_addr_errors > addr_errs);
    assert_int_equal(n.b.sent, 0);
    net_fini(&n);
}


typedef struct took {
    int n;
    oasis_ipaddr local[4];
    uint16_t port[4];
    oasis_flow *f[4];
} took;

static void on_took(oasis_stack *s, oasis_flow *f, void *ud)
{
    took *t = ud;
    (void)s;
    assert_true(t->n < 4);
    oasis_tcp_src(f, &t->local[t->n], &t->port[t->n]);
    t->f[t->n++] = f;
}

typedef struct opened {
    int n, errs;
    oasis_flow *f[4];
} opened;

static void on_opened(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    opened *o = ud;
    (void)s;
    if (err)
        o->errs++;
    else
        o->f[o->n++] = f;
}

/* Past the backlog a transparent listener of every port answers with SYN
 * cookies (RFC 4987) from the foreign address and port asked for, and the
 * flows the cookies open keep them. */
static void test_transparent_syn_cookies(void **state)
{
    (void)state;
    net n;
    net_init_t(&n, 0, 1);
    took t = {0};
    oasis_listen_opts lo = {.transparent = 1, .backlog = 2, .paused = 1};
    assert_int_equal(oasis_tcp_listen(n.b.s, 0, &lo, on_took, &t), 0);
    const char *dsts[] = {"198.51.100.7", "198.51.100.8", "203.0.113.9"};
    const uint16_t ports[] = {443, 8443, 25};
    opened o = {0};
    for (int i = 0; i < 3; i++) {
        oasis_ipaddr d = addr(dsts[i]);
        assert_int_equal(oasis_tcp_connect(n.a.s, &d, ports[i], NULL, on_opened, &o), 0);
        run_until(&n, NULL, SEC);
    }
    assert_int_equal(o.n, 3);
    assert_int_equal(o.errs, 0);
    const oasis_counters *c = oasis_stack_counters(n.b.s);
    assert_int_equal(c->tcp.syn_cookies_sent, 1); /* the third: backlog 2 waiting */
    assert_int_equal(c->tcp.syn_cookies_ok, 1);
    assert_int_equal(oasis_tcp_accept_resume(n.b.s, 0), 0);
    run_until(&n, NULL, SEC);
    assert_int_equal(t.n, 3);
    for (int i = 0; i < 3; i++) {
        int found = 0;
        for (int k = 0; k < 3; k++) {
            oasis_ipaddr d = addr(dsts[k]);
            found += oasis_ipaddr_eq(&t.local[i], &d) && t.port[i] == ports[k];
        }
        assert_int_equal(found, 1);
        oasis_tcp_release(t.f[i]);
        oasis_tcp_release(o.f[i]);
    }
    net_fini(&n);
}

/* A transparent stack takes TCP and UDP for a foreign address, not ICMP:
 * an echo request to one is dropped. A datagram to a foreign address that
 * no transparent bind takes (only the port's ordinary one) is dropped
 * too, counted, and answered by nothing (an ICMP or ICMPv6 error would
 * come from the stack's own address). A listener may not be both transparent and
 * limited to one address. */
static void test_transparent_no_icmp_no_unbound_udp(void **state)
{
    (void)state;
    net n;
    net_init_t(&n, 1, 1);
    oasis_listen_opts lo = {.transparent = 1, .local = oasis_ipaddr_v4(ADDR_B)};
    assert_int_equal(oasis_tcp_listen(n.b.s, 0, &lo, on_accept, &E), OASIS_EINVAL);
    oasis_ipaddr a6 = addr("fd00:9::1"), b6 = addr("fd00:9::2");
    assert_int_equal(oasis_ipv6_add_addr(n.a.s, &a6, 128), 0);
    assert_int_equal(oasis_ipv6_add_addr(n.b.s, &b6, 128), 0); /* (a source for an error) */
    small m;
    memset(&m, 0, sizeof m);
    assert_int_equal(oasis_udp_bind(n.b.s, 53, on_udp, &m), 0);
    run_until(&n, NULL, SEC); /* (start-up packets: MLD, RS) */
    unsigned sent = n.b.sent;
    const oasis_counters *c = oasis_stack_counters(n.b.s);
    uint64_t addr_errs = c->ip.in_addr_errors, no4 = c->udp.no_ports, no6 = c->udp6.no_ports;
    assert_int_equal(oasis_ping(n.a.s, OASIS_IPV4(198, 51, 100, 7), 7, 1, 56, 2 * SEC, on_ping, &m),
                     0);
    oasis_ipaddr far4 = addr("198.51.100.7"), far6 = addr("2001:db8::7");
    assert_int_equal(oasis_udp_send(n.a.s, 4000, &far4, 53, "q", 1), 0);
    assert_int_equal(oasis_udp_send(n.a.s, 4000, &far6, 53, "q", 1), 0);
    run_until(&n, &m.pinged, 5 * SEC);
    assert_int_equal(m.ping_err, OASIS_ETIMEDOUT);
    assert_int_equal(m.udp_got, 0);
    assert_int_equal(c->ip.in_addr_errors, addr_errs + 1);
    assert_int_equal(c->udp.no_ports, no4 + 1);
    assert_int_equal(c->udp6.no_ports, no6 + 1);
    assert_int_equal(n.b.sent, sent);
    net_fini(&n);
}

/* B's UDP echo of every port and address: answers from where it was sent. */
static void udp_echo(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport, const oasis_ipaddr *dst,
                     uint16_t dport, const uint8_t *data, size_t len, void *ud)
{
    int *n = ud;
    (*n)++;
    assert_int_equal(oasis_udp_send_from(s, dst, dport, src, sport, data, len), 0);
}

/* One transparent bind of every port answers datagrams to any address,
 * from that address, over IPv4 and IPv6; the port's ordinary bind still
 * takes the stack's own address, and foreign ones go to the transparent
 * bind. Without cfg.transparent such a bind is refused. */
static void test_transparent_udp(void **state)
{
    (void)state;
    net n;
    net_init_t(&n, 1, 1);
    oasis_ipaddr a6 = addr("fd00:9::1");
    assert_int_equal(oasis_ipv6_add_addr(n.a.s, &a6, 128), 0);
    int echoed = 0;
    small own;
    memset(&own, 0, sizeof own);
    assert_int_equal(oasis_udp_bind_transparent(n.b.s, 0, udp_echo, &echoed), 0);
    assert_int_equal(oasis_udp_bind(n.b.s, 7, on_udp, &own), 0);
    small m;
    assert_int_equal(oasis_udp_bind(n.a.s, 4000, on_udp, &m), 0);
    const char *dsts[] = {"198.51.100.7", "203.0.113.9", "2001:db8::7", "198.51.100.7"};
    const uint16_t ports[] = {53, 5353, 53, 7};
    for (int i = 0; i < 4; i++) {
        memset(&m, 0, sizeof m);
        oasis_ipaddr dst = addr(dsts[i]);
        assert_int_equal(oasis_udp_send(n.a.s, 4000, &dst, ports[i], "hello", 5), 0);
        run_until(&n, &m.udp_got, 5 * SEC);
        assert_int_equal(m.udp_len, 5);
        assert_memory_equal(m.udp_data, "hello", 5);
        assert_true(oasis_ipaddr_eq(&m.udp_src, &dst)); /* the reply came from there */
    }
    assert_int_equal(echoed, 4);
    assert_int_equal(own.udp_got, 0);
    oasis_ipaddr b4 = oasis_ipaddr_v4(ADDR_B);
    assert_int_equal(oasis_udp_send(n.a.s, 4000, &b4, 7, "own", 3), 0);
    run_until(&n, &own.udp_got, 5 * SEC);
    assert_int_equal(own.udp_len, 3);
    assert_int_equal(echoed, 4);
    no_link_layer(&n);
    net_fini(&n);
    /* An ordinary stack refuses the bind and a foreign source. */
    net_init(&n, 0);
    assert_int_equal(oasis_udp_bind_transparent(n.b.s, 0, udp_echo, &echoed), OASIS_EINVAL);
    assert_int_equal(oasis_udp_bind_transparent(n.b.s, 53, udp_echo, &echoed), OASIS_EINVAL);
    oasis_ipaddr far4 = addr("198.51.100.7"), a4 = oasis_ipaddr_v4(ADDR_A);
    assert_int_equal(oasis_udp_send_from(n.b.s, &far4, 53, &a4, 4000, "x", 1), OASIS_EADDRNOTAVAIL);
    net_fini(&n);
}

/* ---- ICMP errors about what a transparent stack sent from a foreign address ---- */

/* An ICMP (IPv4 quote) or ICMPv6 (IPv6 quote) error from a router to the
 * address to, quoting qlen bytes of a packet, handed to e's stack as the
 * link would. */
static void icmp_error_to(end *e, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *quote,
                          size_t qlen, const uint8_t *to)
{
    uint8_t pkt[1280];
    size_t hlen = quote[0] >> 4 == 4 ? OASIS_IPV4_HLEN : 40, n = hlen + 8 + qlen;
    assert_true(n <= sizeof pkt);
    memset(pkt, 0, sizeof pkt);
    memcpy(pkt + hlen + 8, quote, qlen);
    if (hlen == OASIS_IPV4_HLEN) {
        oasis_icmp_emit(pkt + hlen, 8 + qlen, type, code, rest);
        oasis_ipv4_hdr ih;
        memset(&ih, 0, sizeof ih);
        ih.total_len = (uint16_t)n;
        ih.ttl = 64;
        ih.proto = OASIS_IPPROTO_ICMP;
        ih.src = OASIS_IPV4(10, 9, 0, 254);
        ih.dst = oasis_get32(to);
        oasis_ipv4_emit(pkt, &ih);
    } else {
        oasis_ipv6_hdr h;
        memset(&h, 0, sizeof h);
        h.payload_len = (uint16_t)(8 + qlen);
        h.next = OASIS_NH_ICMPV6;
        h.hop_limit = 64;
        oasis_ipaddr r = addr("fd00:9::fe");
        memcpy(h.src.b, r.b, 16);
        memcpy(h.dst.b, to, 16);
        oasis_ipv6_emit(pkt, &h);
        oasis_icmp6_finish(pkt + hlen, 8 + qlen, type, code, rest, &h.src, &h.dst);
    }
    oasis_stack_input_ip(e->s, pkt, n);
}

/* A router's error about packet p, which it dropped: IPv4 Fragmentation
 * Needed quoting the header and 8 bytes (RFC 792, RFC 1191), or an ICMPv6
 * Packet Too Big quoting what fits in 1280 bytes (RFC 4443 3.2). */
static void icmp_too_big(end *e, const uint8_t *p, size_t len, uint32_t mtu, const uint8_t *to)
{
    if (p[0] >> 4 == 4)
        icmp_error_to(e, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_FRAG_NEEDED, mtu, p,
                      (size_t)(p[0] & 0x0f) * 4 + 8, to);
    else
        icmp_error_to(e, OASIS_ICMP6_PKT_TOO_BIG, 0, mtu, p, len < 1280 - 48 ? len : 1280 - 48,
                      to);
}

/* The router drops a packet bigger than its next link and says so to the
 * packet's source. Its first error goes to another address than the
 * source (a forgery, or a router's mistake): counted as nobody's, and no
 * flow shrinks for it. */
static void router_drop(end *from, const uint8_t *p, size_t len)
{
    int v4 = p[0] >> 4 == 4;
    const uint8_t *src = v4 ? p + 12 : p + 8;
    const oasis_counters *c = oasis_stack_counters(from->s);
    from->too_big++;
    if (from->too_big == 1) {
        uint8_t other[16];
        memcpy(other, src, 16);
        other[v4 ? 3 : 15] ^= 1;
        uint64_t unowned = v4 ? c->icmp.in_errors_unowned : c->icmp6.in_errors_unowned;
        icmp_too_big(from, p, len, (uint32_t)from->router_mtu, other);
        assert_int_equal(v4 ? c->icmp.in_errors_unowned : c->icmp6.in_errors_unowned, unowned + 1);
        assert_int_equal(c->tcp.pmtu_mss_lowered, 0);
    }
    icmp_too_big(from, p, len, (uint32_t)from->router_mtu, src);
}

/* A transparent stack's flow sends from the foreign address its client
 * asked for, so a router's Fragmentation Needed or Packet Too Big about
 * its segments comes back to that address: the stack takes it (RFC 1191,
 * RFC 8201), the flow shrinks its segments to the path and the echo
 * completes through the narrow router; nothing is counted as an address
 * error. Without it the flow would lean on black-hole detection. */
static void test_transparent_pmtu(void **state)
{
    (void)state;
    for (int v6 = 0; v6 < 2; v6++) {
        net n;
        net_init_t(&n, 1, 1);
        oasis_ipaddr a6 = addr("fd00:9::1");
        assert_int_equal(oasis_ipv6_add_addr(n.a.s, &a6, 128), 0);
        oasis_listen_opts lo = {.transparent = 1};
        assert_int_equal(oasis_tcp_listen(n.b.s, 0, &lo, on_accept, &E), 0);
        run_until(&n, NULL, SEC); /* (start-up packets: MLD, RS) */
        n.b.router_mtu = v6 ? 1280 : 1000;
        const oasis_counters *c = oasis_stack_counters(n.b.s);
        uint64_t addr_errs = v6 ? c->ipv6.in_addr_errors : c->ip.in_addr_errors;
        oasis_ipaddr far = addr(v6 ? "2001:db8::7" : "198.51.100.7"), a4 = oasis_ipaddr_v4(ADDR_A);
        echo_to(&n, &far, 443, v6 ? &a6 : &a4);
        assert_true(n.b.too_big >= 2);
        assert_int_equal(c->tcp.pmtu_mss_lowered, 1);
        assert_int_equal(v6 ? c->ipv6.in_addr_errors : c->ip.in_addr_errors, addr_errs);
        assert_int_equal(v6 ? c->icmp6.in_errors_unowned : c->icmp.in_errors_unowned, 1);
        assert_int_equal(c->tcp.timeouts, 0); /* (no black-hole wait) */
        net_fini(&n);
    }
}

typedef struct udp_errs {
    int n;
    oasis_udp_error last;
} udp_errs;

static void udp_ignore(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport,
                       const oasis_ipaddr *dst, uint16_t dport, const uint8_t *data, size_t len,
                       void *ud)
{
    (void)s, (void)src, (void)sport, (void)dst, (void)dport, (void)data, (void)len, (void)ud;
}

static void on_udp_error(oasis_stack *s, const oasis_udp_error *e, void *ud)
{
    udp_errs *u = ud;
    (void)s;
    u->n++;
    u->last = *e;
}

/* A datagram a transparent bind sent from a foreign address to a closed
 * port comes back as a port unreachable to that address: the bind that
 * takes that address and port hears of it, with the address; the port's
 * ordinary bind, which takes only the stack's own, hears of the errors
 * about what it sent from there. Over IPv4 and IPv6, the errors coming
 * from the peer's stack. */
static void test_transparent_udp_errors(void **state)
{
    (void)state;
    net n;
    net_init_t(&n, 1, 1);
    oasis_ipaddr a6 = addr("fd00:9::1"), b6 = addr("fd00:9::2");
    assert_int_equal(oasis_ipv6_add_addr(n.a.s, &a6, 128), 0);
    assert_int_equal(oasis_ipv6_add_addr(n.b.s, &b6, 128), 0);
    udp_errs any, own;
    memset(&any, 0, sizeof any);
    memset(&own, 0, sizeof own);
    assert_int_equal(oasis_udp_bind_transparent(n.b.s, 0, udp_ignore, &any), 0);
    assert_int_equal(oasis_udp_set_error_cb(n.b.s, 0, on_udp_error), 0);
    assert_int_equal(oasis_udp_bind(n.b.s, 53, udp_ignore, &own), 0);
    assert_int_equal(oasis_udp_set_error_cb(n.b.s, 53, on_udp_error), 0);
    run_until(&n, NULL, SEC);
    oasis_ipaddr a4 = oasis_ipaddr_v4(ADDR_A);
    const char *from[] = {"198.51.100.7", "2001:db8::7"};
    const oasis_ipaddr *to[] = {&a4, &a6};
    for (int i = 0; i < 2; i++) {
        oasis_ipaddr far = addr(from[i]);
        int before = any.n;
        assert_int_equal(oasis_udp_send_from(n.b.s, &far, 53, to[i], 4000, "x", 1), 0);
        run_until(&n, NULL, SEC);
        assert_int_equal(any.n, before + 1);
        assert_int_equal(any.last.err, OASIS_EREFUSED);
        assert_true(oasis_ipaddr_eq(&any.last.src, &far));
        assert_int_equal(any.last.src_port, 53);
        assert_true(oasis_ipaddr_eq(&any.last.dst, to[i]));
        assert_int_equal(any.last.dst_port, 4000);
        assert_int_equal(own.n, 0);
    }
    /* From the stack's own address: the ordinary bind's. */
    oasis_ipaddr b4 = oasis_ipaddr_v4(ADDR_B);
    assert_int_equal(oasis_udp_send_from(n.b.s, &b4, 53, &a4, 4000, "x", 1), 0);
    run_until(&n, NULL, SEC);
    assert_int_equal(own.n, 1);
    assert_true(oasis_ipaddr_eq(&own.last.src, &b4));
    assert_int_equal(any.n, 2);
    net_fini(&n);
}

/* Only TCP and UDP send from a foreign address: an error to one that
 * quotes an echo request from it is nobody's, even when the request's
 * destination, identifier and sequence are those of a ping of ours still
 * waiting (which would fail with OASIS_EUNREACH if it were taken). */
static void test_transparent_foreign_error_not_a_pings(void **state)
{
    (void)state;
    for (int v6 = 0; v6 < 2; v6++) {
        net n;
        net_init_t(&n, 1, 1);
        oasis_ipaddr b6 = addr("fd00:9::2");
        assert_int_equal(oasis_ipv6_add_addr(n.b.s, &b6, 128), 0);
        run_until(&n, NULL, SEC);
        oasis_ipaddr far = addr(v6 ? "2001:db8::7" : "198.51.100.7");
        oasis_ipaddr nobody = addr(v6 ? "fd00:9::77" : "10.9.0.77"); /* (A drops it) */
        small m;
        memset(&m, 0, sizeof m);
        assert_int_equal(oasis_ping_addr(n.b.s, &nobody, 7, 1, 8, 2 * SEC, on_ping, &m), 0);
        uint8_t q[48 + 8];
        memset(q, 0, sizeof q);
        size_t ql;
        if (!v6) {
            oasis_ipv4_hdr ih;
            memset(&ih, 0, sizeof ih);
            ih.total_len = 20 + 16;
            ih.ttl = 64;
            ih.proto = OASIS_IPPROTO_ICMP;
            ih.src = oasis_ipaddr_to_v4(&far);
            ih.dst = oasis_ipaddr_to_v4(&nobody);
            oasis_ipv4_emit(q, &ih);
            q[20] = OASIS_ICMP_ECHO;
            ql = 28;
        } else {
            oasis_ipv6_hdr h;
            memset(&h, 0, sizeof h);
            h.payload_len = 16;
            h.next = OASIS_NH_ICMPV6;
            h.hop_limit = 64;
            memcpy(h.src.b, far.b, 16);
            memcpy(h.dst.b, nobody.b, 16);
            oasis_ipv6_emit(q, &h);
            q[40] = OASIS_ICMP6_ECHO_REQUEST;
            ql = 48;
        }
        oasis_put16(q + ql - 4, 7); /* the ping's identifier and sequence */
        oasis_put16(q + ql - 2, 1);
        const oasis_counters *c = oasis_stack_counters(n.b.s);
        uint64_t unowned = v6 ? c->icmp6.in_errors_unowned : c->icmp.in_errors_unowned;
        uint8_t type = v6 ? OASIS_ICMP6_DEST_UNREACH : OASIS_ICMP_DEST_UNREACH;
        icmp_error_to(&n.b, type, v6 ? 3 : 1, 0, q, ql, far.b + (v6 ? 0 : 12));
        assert_int_equal(v6 ? c->icmp6.in_errors_unowned : c->icmp.in_errors_unowned, unowned + 1);
        run_until(&n, &m.pinged, 5 * SEC);
        assert_int_equal(m.ping_err, OASIS_ETIMEDOUT);
        net_fini(&n);
    }
}

/* An IP link with offloads (a TUN device with its virtio-net header):
 * TCP goes out as super-segments with partial checksums whose offsets
 * count from the IP header, over IPv4 and IPv6, and the peer takes them
 * whole; the echo's bytes come back intact. */
static void test_offloads(void **state)
{
    (void)state;
    net n;
    net_init(&n, 1);
    end *ends[2] = {&n.a, &n.b};
    for (int i = 0; i < 2; i++) {
        ends[i]->link.caps |= OASIS_LINK_TSO4 | OASIS_LINK_TSO6 | OASIS_LINK_CSUM_TX;
        ends[i]->link.send_offload = end_send_offload;
        ends[i]->link.mtu = 1500;
        oasis_stack_set_link(ends[i]->s, &ends[i]->link); /* (caps are read here) */
    }
    oasis_ipaddr a6 = addr("fd00:9::1"), b6 = addr("fd00:9::2");
    assert_int_equal(oasis_ipv6_add_addr(n.a.s, &a6, 128), 0);
    assert_int_equal(oasis_ipv6_add_addr(n.b.s, &b6, 128), 0);
    oasis_ipaddr a4 = oasis_ipaddr_v4(ADDR_A), b4 = oasis_ipaddr_v4(ADDR_B);
    echo_over(&n, &b4, &a4);
    unsigned v4_supersegs = n.a.supersegs + n.b.supersegs;
    assert_true(v4_supersegs > 0);
    echo_to(&n, &b6, 80, &a6);
    assert_true(n.a.supersegs + n.b.supersegs > v4_supersegs);
    assert_int_equal(n.a.bad_offsets + n.b.bad_offsets, 0);
    assert_int_equal(oasis_stack_counters(n.b.s)->tcp.in_csum_errors, 0);
    no_link_layer(&n);
    net_fini(&n);
}

/* The impairment filter (oasis/impair.h) in front of an IP link is an IP
 * link too: it loses, corrupts, reorders and duplicates packets both ways,
 * the inner link gets nothing but IP packets, received ones reach the stack
 * as IP packets, and TCP over IPv4 and IPv6 gets every byte through. With
 * offloads, super-segments cross the link whole and the receiving filter
 * cuts them (offsets from the IP header) before its stages. */
static void filters_on(net *n, const oasis_impair *out_a, const oasis_impair *out_b,
                       const oasis_impair *in)
{
    end *ends[2] = {&n->a, &n->b};
    for (int i = 0; i < 2; i++) {
        oasis_impair_link_config cfg;
        oasis_impair_link_config_init(&cfg);
        cfg.out = i ? *out_b : *out_a;
        cfg.in = *in;
        cfg.seed = 7 + (uint64_t)i;
        assert_int_equal(oasis_impair_link_create(&ends[i]->link, &cfg, &ends[i]->filter), 0);
        oasis_link *l = oasis_impair_link_link(ends[i]->filter);
        assert_true(l->caps & OASIS_LINK_IP);
        oasis_stack_set_link(ends[i]->s, l);
    }
}

static void filters_off(net *n)
{
    oasis_impair_link_destroy(n->a.filter);
    oasis_impair_link_destroy(n->b.filter);
}

static oasis_impair_link_stats filter_stats(const net *n, int dir)
{
    oasis_impair_link_stats t, st;
    memset(&t, 0, sizeof t);
    const end *ends[2] = {&n->a, &n->b};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(oasis_impair_link_stats_get(ends[i]->filter, dir, &st), 0);
        assert_true(st.sent + st.duplicated ==
                    st.delivered + st.dropped_loss + st.dropped_burst + st.held);
        t.sent += st.sent;
        t.dropped_loss += st.dropped_loss;
        t.corrupted += st.corrupted;
        t.reordered += st.reordered;
        t.duplicated += st.duplicated;
        t.segmented += st.segmented;
    }
    return t;
}

static void test_impair_filter(void **state)
{
    (void)state;
    oasis_impair g;
    oasis_impair_init(&g);
    g.loss = 0.04;
    g.reorder = 0.04;
    g.duplicate = 0.03;
    g.corrupt = 0.03;
    for (int offload = 0; offload < 2; offload++) {
        net n;
        net_init(&n, 1);
        if (offload) {
            end *ends[2] = {&n.a, &n.b};
            for (int i = 0; i < 2; i++) {
                ends[i]->link.caps |= OASIS_LINK_TSO4 | OASIS_LINK_TSO6 | OASIS_LINK_CSUM_TX;
                ends[i]->link.send_offload = end_send_offload;
            }
        }
        oasis_impair none;
        oasis_impair_init(&none);
        /* With offloads A's filter cuts its stack's super-segments on the
         * way out; B's cross the link whole and A's filter cuts them on the
         * way in. */
        filters_on(&n, &g, offload ? &none : &g, &g);
        oasis_ipaddr a6 = addr("fd00:9::1"), b6 = addr("fd00:9::2");
        assert_int_equal(oasis_ipv6_add_addr(n.a.s, &a6, 128), 0);
        assert_int_equal(oasis_ipv6_add_addr(n.b.s, &b6, 128), 0);
        oasis_ipaddr a4 = oasis_ipaddr_v4(ADDR_A), b4 = oasis_ipaddr_v4(ADDR_B);
        echo_over(&n, &b4, &a4);
        echo_to(&n, &b6, 80, &a6);
        assert_true(n.a.v4 > 0 && n.a.v6 > 0);
        no_link_layer(&n);
        oasis_impair_link_stats in = filter_stats(&n, OASIS_IMPAIR_IN);
        assert_true(in.dropped_loss > 0 && in.corrupted > 0 && in.reordered > 0 &&
                    in.duplicated > 0);
        oasis_impair_link_stats out = filter_stats(&n, OASIS_IMPAIR_OUT);
        assert_true(out.dropped_loss > 0 && out.corrupted > 0 && out.reordered > 0 &&
                    out.duplicated > 0);
        if (offload) {
            assert_int_equal(n.a.supersegs, 0);
            assert_true(n.b.supersegs > 0);
            assert_int_equal(n.a.bad_offsets + n.b.bad_offsets, 0);
            assert_true(in.segmented > 0 && out.segmented > 0);
        }
        /* Corrupted packets were caught by a checksum, never taken as data. */
        const oasis_counters *ca = oasis_stack_counters(n.a.s), *cb = oasis_stack_counters(n.b.s);
        assert_true(ca->ip.in_csum_errors + ca->tcp.in_csum_errors + cb->ip.in_csum_errors +
                        cb->tcp.in_csum_errors >
                    0);
        net_fini(&n);
        filters_off(&n);
    }
}

/* A partial checksum outside the packet is counted and dropped. */
static void test_offload_bad_csum_start(void **state)
{
    (void)state;
    net n;
    net_init(&n, 0);
    const oasis_counters *c = oasis_stack_counters(n.b.s);
    uint8_t pkt[40] = {0x45, 0, 0, 40};
    oasis_offload off = {.flags = OASIS_OFFLOAD_CSUM_PARTIAL, .csum_start = 30, .csum_offset = 16};
    oasis_stack_input_ip_offload(n.b.s, pkt, sizeof pkt, &off);
    assert_int_equal(c->link.rx_malformed, 1);
    net_fini(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp4),
        cmocka_unit_test(test_link_is_the_applications),
        cmocka_unit_test(test_tcp6_at_once),
        cmocka_unit_test(test_ping_and_udp),
        cmocka_unit_test(test_bad_packets),
        cmocka_unit_test(test_transparent_any_port),
        cmocka_unit_test(test_transparent_closed_port_resets),
        cmocka_unit_test(test_not_transparent_drops),
        cmocka_unit_test(test_transparent_no_icmp_no_unbound_udp),
        cmocka_unit_test(test_transparent_udp),
        cmocka_unit_test(test_transparent_syn_cookies),
        cmocka_unit_test(test_transparent_pmtu),
        cmocka_unit_test(test_transparent_udp_errors),
        cmocka_unit_test(test_transparent_foreign_error_not_a_pings),
        cmocka_unit_test(test_offloads),
        cmocka_unit_test(test_impair_filter),
        cmocka_unit_test(test_offload_bad_csum_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
