/* Two stacks on the in-memory wire, captured to a pcap: ARP, ping, UDP (one
 * datagram big enough to be fragmented), and a TCP connection that moves
 * data both ways and closes. check_pcap.sh then has tshark verify it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oasis/oasis.h"

struct ctx {
    int pinged, udp_got, connected, accepted, server_closed, client_closed;
    size_t server_rx;
    oasis_flow *client, *server;
    uint8_t buf[200000];
};

static void on_ping(oasis_stack *s, int err, uint16_t seq, uint64_t rtt, void *ud)
{
    struct ctx *c = ud;
    c->pinged = err == 0 ? 1 : -1;
}

static void on_udp(oasis_stack *s, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                   const uint8_t *data, size_t len, void *ud)
{
    struct ctx *c = ud;
    c->udp_got += (int)len;
}

static void on_server_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud);

static void on_server_closed(oasis_flow *f, int err, void *ud)
{
    ((struct ctx *)ud)->server_closed = 1;
    oasis_tcp_release(f);
}

static void on_server_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    struct ctx *c = ud;
    if (err == OASIS_EOF) {
        oasis_tcp_write(f, "bye", 3, NULL, NULL);
        oasis_tcp_close(f, on_server_closed, c);
        return;
    }
    if (err)
        return;
    c->server_rx += len;
    oasis_tcp_read(f, on_server_read, c);
}

static void on_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    struct ctx *c = ud;
    c->accepted = 1;
    c->server = f;
    oasis_tcp_read(f, on_server_read, c);
}

static void on_client_closed(oasis_flow *f, int err, void *ud)
{
    ((struct ctx *)ud)->client_closed = 1;
    oasis_tcp_release(f);
}

static void on_client_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    if (err == 0)
        oasis_tcp_read(f, on_client_read, ud);
}

static void on_connect(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    struct ctx *c = ud;
    if (err) {
        c->connected = -1;
        return;
    }
    c->connected = 1;
    c->client = f;
    oasis_tcp_write(f, c->buf, sizeof c->buf, NULL, NULL);
    oasis_tcp_read(f, on_client_read, c);
    oasis_tcp_close(f, on_client_closed, c);
}

static int done_ping(void *ud) { return ((struct ctx *)ud)->pinged != 0; }
static void on_udp6(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport,
                    const oasis_ipaddr *dst, uint16_t dport, const uint8_t *data, size_t len,
                    void *ud)
{
    (void)s;
    (void)src;
    (void)sport;
    (void)dst;
    (void)dport;
    (void)data;
    ((struct ctx *)ud)->udp_got += (int)len;
}

static int done_udp(void *ud) { return ((struct ctx *)ud)->udp_got >= 5000; }
static int done_tcp(void *ud)
{
    struct ctx *c = ud;
    return c->connected < 0 || (c->client_closed && c->server_closed);
}

static oasis_stack *mk(oasis_clock *clk, int n)
{
    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg);
    cfg.seed = (uint64_t)n; /* fixed: the same capture every run */
    uint8_t mac[6] = {2, 0, 0, 0, 0, (uint8_t)n};
    memcpy(cfg.mac, mac, 6);
    cfg.addr = OASIS_IPV4(10, 0, 0, n);
    cfg.clock = clk;
    cfg.seed = (uint64_t)n;
    cfg.ipv6 = 1; /* a dual-stack capture: DAD, MLD, NS/NA, echo, fragments */
    oasis_stack *s = NULL;
    if (oasis_stack_create(&cfg, &s) != 0) {
        fprintf(stderr, "stack_create failed\n");
        exit(1);
    }
    return s;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pcap_gen OUT.pcap\n");
        return 2;
    }
    static struct ctx c;
    for (size_t i = 0; i < sizeof c.buf; i++)
        c.buf[i] = (uint8_t)(i * 31 + 7);
    oasis_clock *clk = oasis_clock_new_virtual(1700000000ull * OASIS_NS_PER_SEC);
    oasis_wire *w;
    oasis_wire_config wc;
    oasis_wire_config_init(&wc);
    wc.delay_ns = 500 * OASIS_NS_PER_US;
    oasis_wire_create(clk, &wc, &w);
    oasis_stack *a = mk(clk, 1), *b = mk(clk, 2);
    oasis_link *la = oasis_wire_attach(w, a);
    oasis_wire_attach(w, b);
    oasis_pcap *pc;
    if (oasis_pcap_open(argv[1], &pc) != 0) {
        fprintf(stderr, "cannot open %s\n", argv[1]);
        return 1;
    }
    la->pcap = pc;

    int rc = 0;
    oasis_ping(a, OASIS_IPV4(10, 0, 0, 2), 7, 1, 56, OASIS_NS_PER_SEC, on_ping, &c);
    oasis_wire_run(w, done_ping, &c, 5 * OASIS_NS_PER_SEC);
    if (c.pinged != 1) {
        fprintf(stderr, "ping failed\n");
        rc = 1;
    }

    oasis_udp_bind4(b, 9000, on_udp, &c);
    oasis_udp_send4(a, 4000, OASIS_IPV4(10, 0, 0, 2), 9000, c.buf, 4000); /* fragmented */
    oasis_udp_send4(a, 4000, OASIS_IPV4(10, 0, 0, 2), 9000, c.buf, 1000);
    oasis_udp_send4(a, 4000, OASIS_IPV4(10, 0, 0, 2), 9001, c.buf, 10); /* port unreachable */
    oasis_wire_run(w, done_udp, &c, 5 * OASIS_NS_PER_SEC);
    if (c.udp_got != 5000) {
        fprintf(stderr, "udp got %d bytes\n", c.udp_got);
        rc = 1;
    }

    oasis_tcp_listen(b, 80, NULL, on_accept, &c);
    oasis_tcp_connect4(a, OASIS_IPV4(10, 0, 0, 2), 80, NULL, on_connect, &c);
    oasis_wire_run(w, done_tcp, &c, 120 * OASIS_NS_PER_SEC);
    if (c.server_rx != sizeof c.buf || !c.client_closed || !c.server_closed) {
        fprintf(stderr, "tcp: server got %zu of %zu, closed %d/%d\n", c.server_rx, sizeof c.buf,
                c.client_closed, c.server_closed);
        rc = 1;
    }
    /* IPv6: once DAD is done, echo to b's link-local address, small and
     * fragmented. */
    oasis_wire_run(w, NULL, NULL, 3 * OASIS_NS_PER_SEC);
    oasis_ipv6_addr_info ll;
    if (oasis_ipv6_addrs(b, &ll, 1) < 1 || ll.state != OASIS_IPV6_PREFERRED) {
        fprintf(stderr, "b has no IPv6 link-local address\n");
        rc = 1;
    }
    for (int i = 0; i < 2; i++) {
        c.pinged = 0;
        oasis_ping_addr(a, &ll.addr, 8, (uint16_t)(i + 1), i ? 4000 : 56, OASIS_NS_PER_SEC, on_ping,
                        &c);
        oasis_wire_run(w, done_ping, &c, 5 * OASIS_NS_PER_SEC);
        if (c.pinged != 1) {
            fprintf(stderr, "ping6 %d failed\n", i);
            rc = 1;
        }
    }
    /* UDP over IPv6: small and fragmented datagrams to b's link-local
     * address (mandatory checksums), and one to a closed port (ICMPv6
     * port unreachable quoting it). */
    oasis_udp_bind(b, 9100, on_udp6, &c);
    c.udp_got = 0;
    oasis_udp_send(a, 4100, &ll.addr, 9100, c.buf, 4000);
    oasis_udp_send(a, 4100, &ll.addr, 9100, c.buf, 1000);
    oasis_udp_send(a, 4100, &ll.addr, 9101, c.buf, 10);
    oasis_wire_run(w, done_udp, &c, 5 * OASIS_NS_PER_SEC);
    if (c.udp_got != 5000) {
        fprintf(stderr, "udp6 got %d bytes\n", c.udp_got);
        rc = 1;
    }
    /* let TIME_WAIT and timers drain */
    oasis_wire_run(w, NULL, NULL, 300 * OASIS_NS_PER_SEC);

    la->pcap = NULL;
    oasis_pcap_close(pc);
    oasis_wire_detach(w, a);
    oasis_wire_detach(w, b);
    oasis_stack_destroy(a);
    oasis_stack_destroy(b);
    oasis_wire_destroy(w);
    oasis_clock_free(clk);
    return rc;
}
