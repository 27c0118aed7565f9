/* UDP (RFC 768, RFC 1122 4.1): bound ports with receive callbacks; every
 * datagram we send carries a checksum, received ones are checked unless the
 * sender sent none. */
#include "udp/udp.h"

#include "core/mem.h"
#include "core/stack_impl.h"
#include "icmp/icmp.h"
#include "icmp/icmp_wire.h"
#include "ip/ipv4.h"
#include "oasis/error.h"
#include "oasis/udp.h"
#include "udp/udp_wire.h"

#include <string.h>

/* Largest payload in a 65535-byte datagram behind bare IP and UDP headers. */
#define UDP_MAX_PAYLOAD (65535u - OASIS_IPV4_HLEN - OASIS_UDP_HLEN)

struct oasis_udp_port {
    oasis_udp_port *next;
    uint16_t port;
    oasis_udp_recv_cb cb;
    void *ud;
};

int oasis_udp_init(oasis_stack *s)
{
    s->udp.binds = NULL;
    return OASIS_OK;
}

void oasis_udp_fini(oasis_stack *s)
{
    while (s->udp.binds) {
        oasis_udp_port *b = s->udp.binds;
        s->udp.binds = b->next;
        oasis_free(s, b);
    }
}

static oasis_udp_port **find(oasis_stack *s, uint16_t port)
{
    oasis_udp_port **pp = &s->udp.binds;
    while (*pp && (*pp)->port != port)
        pp = &(*pp)->next;
    return pp;
}

int oasis_udp_bind(oasis_stack *s, uint16_t port, oasis_udp_recv_cb cb, void *ud)
{
    if (!s || port == 0 || !cb)
        return OASIS_EINVAL;
    if (*find(s, port))
        return OASIS_EADDRINUSE;
    oasis_udp_port *b = oasis_calloc(s, 1, sizeof *b);
    if (!b)
        return OASIS_ENOMEM;
    b->port = port;
    b->cb = cb;
    b->ud = ud;
    b->next = s->udp.binds;
    s->udp.binds = b;
    return OASIS_OK;
}

int oasis_udp_unbind(oasis_stack *s, uint16_t port)
{
    if (!s)
        return OASIS_EINVAL;
    oasis_udp_port **pp = find(s, port);
    oasis_udp_port *b = *pp;
    if (!b)
        return OASIS_ENOENT;
    *pp = b->next;
    oasis_free(s, b);
    return OASIS_OK;
}

int oasis_udp_send(oasis_stack *s, uint16_t src_port, uint32_t dst, uint16_t dst_port,
                   const void *data, size_t len)
{
    if (!s || src_port == 0 || dst_port == 0 || (!data && len))
        return OASIS_EINVAL;
    if (len > UDP_MAX_PAYLOAD)
        return OASIS_EMSGSIZE;
    size_t ulen = OASIS_UDP_HLEN + len;
    oasis_pbuf *p = oasis_pbuf_alloc(s, OASIS_PBUF_HEADROOM, ulen);
    if (!p)
        return OASIS_ENOMEM;
    if (len)
        memcpy(p->data + OASIS_UDP_HLEN, data, len);
    oasis_udp_emit(p->data, ulen, src_port, dst_port, oasis_ipv4_source(s, dst), dst);
    int err = oasis_ipv4_output(s, p, dst, OASIS_IPPROTO_UDP, 0);
    if (err == OASIS_OK)
        s->ctr.udp.out_datagrams++;
    return err;
}

void oasis_udp_input(oasis_stack *s, const oasis_ipv4_hdr *ip)
{
    oasis_udp_counters *c = &s->ctr.udp;
    oasis_udp_hdr u;

    switch (oasis_udp_parse_ex(ip->payload, ip->payload_len, ip->src, ip->dst,
                               !oasis_rx_csum_trusted(s, ip->payload), &u)) {
    case OASIS_OK:
        break;
    case OASIS_ECHECKSUM:
        c->in_csum_errors++;
        return;
    default:
        c->in_errors++;
        return;
    }
    oasis_udp_port *b = *find(s, u.dst_port);
    if (!b) {
        c->no_ports++;
        oasis_icmp_send_error(s, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_PORT_UNREACH, 0, ip);
        return;
    }
    c->in_datagrams++;
    /* The callback may unbind (freeing b): nothing touches b afterwards. */
    b->cb(s, ip->src, u.src_port, ip->dst, u.dst_port, u.payload, u.payload_len, b->ud);
}
