/* UDP (RFC 768, RFC 1122 4.1) over IPv4 and IPv6: bound ports with receive
 * callbacks; every datagram we send carries a checksum. Received IPv4
 * datagrams are checked unless the sender sent none; over IPv6 the
 * checksum is mandatory and a zero one is dropped (RFC 8200 8.1). Both
 * families arrive through the protocol table (src/ip/proto.c), and so do
 * the ICMP and ICMPv6 errors quoting our datagrams. */
#include "udp/udp.h"

#include "core/bytes.h"
#include "core/checksum.h"
#include "core/mem.h"
#include "core/stack_impl.h"
#include "icmp/icmp.h"
#include "icmp/icmp_wire.h"
#include "ip/ipv4.h"
#include "ipv6/icmp6_wire.h"
#include "ipv6/ipv6.h"
#include "oasis/error.h"
#include "oasis/udp.h"
#include "udp/udp_wire.h"

#include <string.h>

/* Largest payload in a 65535-byte datagram behind bare IP and UDP headers;
 * IPv6's payload length does not count its 40-byte header. */
#define UDP_MAX_PAYLOAD (65535u - OASIS_IPV4_HLEN - OASIS_UDP_HLEN)
#define UDP6_MAX_PAYLOAD (65535u - OASIS_UDP_HLEN)

struct oasis_udp_port {
    oasis_udp_port *next;
    uint16_t port;
    uint8_t v4_only;         /* bound with oasis_udp_bind4 */
    oasis_udp_recv_cb cb;    /* exactly one of cb and cb4 */
    oasis_udp_recv4_cb cb4;
    oasis_udp_error_cb err_cb;
    void *ud;
    uint8_t mcast_hops;      /* TTL / hop limit to groups; 0: the IP default (1) */
    uint8_t mcast_noloop;    /* 1: our own group datagrams (IPv4 and IPv6) are not looped back */
    uint8_t transparent;     /* oasis_udp_bind_transparent: any address too (port 0: any port) */
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

static int bind_port(oasis_stack *s, uint16_t port, oasis_udp_recv_cb cb, oasis_udp_recv4_cb cb4,
                     void *ud, int transparent)
{
    if (!s || (port == 0 && !transparent) || (!cb && !cb4) || (transparent && !s->cfg.transparent))
        return OASIS_EINVAL;
    if (*find(s, port))
        return OASIS_EADDRINUSE;
    oasis_udp_port *b = oasis_calloc(s, 1, sizeof *b);
    if (!b)
        return OASIS_ENOMEM;
    b->port = port;
    b->cb = cb;
    b->cb4 = cb4;
    b->v4_only = cb4 != NULL;
    b->transparent = (uint8_t)(transparent != 0);
    b->ud = ud;
    b->next = s->udp.binds;
    s->udp.binds = b;
    return OASIS_OK;
}

int oasis_udp_bind(oasis_stack *s, uint16_t port, oasis_udp_recv_cb cb, void *ud)
{
    return cb ? bind_port(s, port, cb, NULL, ud, 0) : OASIS_EINVAL;
}

int oasis_udp_bind4(oasis_stack *s, uint16_t port, oasis_udp_recv4_cb cb, void *ud)
{
    return cb ? bind_port(s, port, NULL, cb, ud, 0) : OASIS_EINVAL;
}

int oasis_udp_bind_transparent(oasis_stack *s, uint16_t port, oasis_udp_recv_cb cb, void *ud)
{
    return cb ? bind_port(s, port, cb, NULL, ud, 1) : OASIS_EINVAL;
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

/* A bound port's record for a setter: NULL with *err OASIS_EINVAL (no
 * stack) or OASIS_ENOENT (not bound), else *err 0. */
static oasis_udp_port *bound(oasis_stack *s, uint16_t port, int *err)
{
    oasis_udp_port *b = s ? *find(s, port) : NULL;
    *err = !s ? OASIS_EINVAL : b ? OASIS_OK : OASIS_ENOENT;
    return b;
}

int oasis_udp_set_error_cb(oasis_stack *s, uint16_t port, oasis_udp_error_cb cb)
{
    int err;
    oasis_udp_port *b = bound(s, port, &err);
    if (b)
        b->err_cb = cb;
    return err;
}

int oasis_udp_set_multicast_hops(oasis_stack *s, uint16_t port, uint8_t hops)
{
    int err;
    oasis_udp_port *b = bound(s, port, &err);
    if (b)
        b->mcast_hops = hops;
    return err;
}

int oasis_udp_set_multicast_loop(oasis_stack *s, uint16_t port, int on)
{
    int err;
    oasis_udp_port *b = bound(s, port, &err);
    if (b)
        b->mcast_noloop = !on;
    return err;
}

/* The bound port a group datagram leaves from, whose TTL / hop limit and
 * loopback it takes; NULL for unicast or an unbound port (the defaults:
 * IP's TTL, and loopback on, RFC 1112 6.1, RFC 3493 5.2). */
static const oasis_udp_port *group_sender(oasis_stack *s, uint16_t src_port, int mcast)
{
    return mcast ? *find(s, src_port) : NULL;
}

/* opts: IPv4 options (olen bytes, checked and padded: oasis_udp_send4_opts),
 * or none (olen 0). from: a transparent stack's foreign source (checked,
 * no options), or 0: the stack's. */
static int send_v4(oasis_stack *s, uint32_t from, uint16_t src_port, uint32_t dst,
                   uint16_t dst_port, const uint8_t *opts, size_t olen, const void *data,
                   size_t len)
{
    if (len > UDP_MAX_PAYLOAD)
        return OASIS_EMSGSIZE;
    size_t ulen = OASIS_UDP_HLEN + len;
    oasis_pbuf *p = oasis_pbuf_alloc(s, OASIS_PBUF_HEADROOM, ulen);
    if (!p)
        return OASIS_ENOMEM;
    if (len)
        memcpy(p->data + OASIS_UDP_HLEN, data, len);
    oasis_udp_emit(p->data, ulen, src_port, dst_port, from ? from : oasis_ipv4_source(s, dst), dst);
    int mcast = oasis_ipv4_is_multicast(dst);
    const oasis_udp_port *b = group_sender(s, src_port, mcast);
    p->mc_loop = (uint8_t)(mcast && !(b && b->mcast_noloop));
    int err = from ? oasis_ipv4_output_from(s, p, from, dst, OASIS_IPPROTO_UDP, 0, 0, 0)
                   : oasis_ipv4_output_ctl(s, p, dst, OASIS_IPPROTO_UDP, 0, b ? b->mcast_hops : 0,
                                           opts, olen);
    if (err == OASIS_OK)
        s->ctr.udp.out_datagrams++;
    return err;
}

/* from: the source the application chose (already checked), or NULL. */
static int send_v6(oasis_stack *s, const oasis_in6 *from, uint16_t src_port,
                   const oasis_ipaddr *dst, uint16_t dst_port, const void *data, size_t len)
{
    if (len > UDP6_MAX_PAYLOAD)
        return OASIS_EMSGSIZE;
    if (!oasis_ipv6_enabled(s))
        return OASIS_ENOROUTE;
    oasis_in6 d, src;
    memcpy(d.b, dst->b, 16);
    /* The checksum covers the source address, so it is chosen here. */
    if (from)
        src = *from;
    else if (oasis_ipv6_select_src(s, &d, &src) != OASIS_OK) {
        s->ctr.ipv6.out_no_routes++;
        return OASIS_ENOROUTE;
    }
    size_t ulen = OASIS_UDP_HLEN + len;
    oasis_pbuf *p = oasis_pbuf_alloc(s, OASIS_PBUF_HEADROOM, ulen);
    if (!p)
        return OASIS_ENOMEM;
    if (len)
        memcpy(p->data + OASIS_UDP_HLEN, data, len);
    oasis_udp_emit6(p->data, ulen, src_port, dst_port, &src, &d);
    int mcast = oasis_in6_is_multicast(&d);
    const oasis_udp_port *b = group_sender(s, src_port, mcast);
    p->mc_loop = (uint8_t)(mcast && !(b && b->mcast_noloop));
    int err = oasis_ipv6_output(s, p, &src, &d, OASIS_IPPROTO_UDP, b ? b->mcast_hops : 0);
    if (err == OASIS_OK)
        s->ctr.udp6.out_datagrams++;
    return err;
}

int oasis_udp_send(oasis_stack *s, uint16_t src_port, const oasis_ipaddr *dst, uint16_t dst_port,
                   const void *data, size_t len)
{
    if (!s || !dst || src_port == 0 || dst_port == 0 || (!data && len))
        return OASIS_EINVAL;
    if (dst->family == OASIS_AF_INET)
        return send_v4(s, 0, src_port, oasis_ipaddr_to_v4(dst), dst_port, NULL, 0, data, len);
    if (dst->family == OASIS_AF_INET6)
        return send_v6(s, NULL, src_port, dst, dst_port, data, len);
    return OASIS_EINVAL;
}

int oasis_udp_send_from(oasis_stack *s, const oasis_ipaddr *src, uint16_t src_port,
                        const oasis_ipaddr *dst, uint16_t dst_port, const void *data, size_t len)
{
    if (!src || oasis_ipaddr_is_unspecified(src))
        return oasis_udp_send(s, src_port, dst, dst_port, data, len);
    if (!s || !dst || src->family != dst->family || src_port == 0 || dst_port == 0 ||
        (!data && len))
        return OASIS_EINVAL;
    if (dst->family == OASIS_AF_INET) {
        /* One address: the source IP gives every destination (ours, or
         * 127/8's own for loopback) is the only one it can be. */
        uint32_t d = oasis_ipaddr_to_v4(dst), from = oasis_ipaddr_to_v4(src);
        if (from == oasis_ipv4_source(s, d))
            return send_v4(s, 0, src_port, d, dst_port, NULL, 0, data, len);
        /* A transparent stack answers from the foreign address a request
         * came to: a unicast one, not ours or loopback. */
        if (!s->cfg.transparent || !oasis_ipv4_foreign(s, from) || oasis_ipv4_is_multicast(d))
            return OASIS_EADDRNOTAVAIL;
        return send_v4(s, from, src_port, d, dst_port, NULL, 0, data, len);
    }
    if (dst->family != OASIS_AF_INET6)
        return OASIS_EINVAL;
    oasis_in6 from;
    memcpy(from.b, src->b, 16);
    /* Ours and past DAD (RFC 4862 5.4: never a tentative source), or ::1
     * towards ::1 or ourselves (RFC 4291 2.5.3: never onto the link). */
    oasis_in6 to;
    memcpy(to.b, dst->b, 16);
    if (!oasis_ipv6_src_ok(s, &from, &to) &&
        !(s->cfg.transparent && oasis_ipv6_foreign(s, src) && !oasis_in6_is_multicast(&to) &&
          !oasis_in6_is_link_local(&from) && !oasis_in6_is_unspecified(&from)))
        return OASIS_EADDRNOTAVAIL;
    return send_v6(s, &from, src_port, dst, dst_port, data, len);
}

int oasis_udp_send4_opts(oasis_stack *s, uint16_t src_port, uint32_t dst, uint16_t dst_port,
                         const uint8_t *opts, size_t optlen, const void *data, size_t len)
{
    if (!optlen)
        return oasis_udp_send4(s, src_port, dst, dst_port, data, len);
    if (!s || !opts || optlen > OASIS_IPV4_MAX_HLEN - OASIS_IPV4_HLEN || src_port == 0 ||
        dst_port == 0 || (!data && len) || oasis_ipv4_options_bad(opts, optlen) != optlen)
        return OASIS_EINVAL;
    if (oasis_ipv4_options_source_route(opts, optlen))
        return OASIS_ENOTSUP; /* Oasis neither sends nor takes source routes */
    uint8_t padded[OASIS_IPV4_MAX_HLEN - OASIS_IPV4_HLEN] = {0}; /* EOL to a 4-byte multiple */
    memcpy(padded, opts, optlen);
    size_t olen = (optlen + 3) & ~(size_t)3;
    oasis_ipaddr d = oasis_ipaddr_v4(dst);
    /* Options and fragments do not mix here (RFC 791 copies some options
     * into every fragment, others into the first): one datagram or none. */
    if (OASIS_IPV4_HLEN + olen + OASIS_UDP_HLEN + len > oasis_pmtu_get(s, &d))
        return OASIS_EMSGSIZE;
    return send_v4(s, 0, src_port, dst, dst_port, padded, olen, data, len);
}

int oasis_udp_send4(oasis_stack *s, uint16_t src_port, uint32_t dst, uint16_t dst_port,
                    const void *data, size_t len)
{
    if (!s || src_port == 0 || dst_port == 0 || (!data && len))
        return OASIS_EINVAL;
    return send_v4(s, 0, src_port, dst, dst_port, NULL, 0, data, len);
}

/* Is dst no address of ours (only a transparent stack takes such)? */
static int foreign(oasis_stack *s, const oasis_ipaddr *dst)
{
    if (!s->cfg.transparent)
        return 0;
    if (dst->family == OASIS_AF_INET6)
        return oasis_ipv6_foreign(s, dst);
    return oasis_ipv4_foreign(s, oasis_ipaddr_to_v4(dst));
}

/* The bind that takes datagrams of dst's family on port, or NULL: the
 * port's (transparent ones also for a foreign dst), else a transparent
 * stack's bind of every port. With none, the port unreachable is ICMP's
 * to send or not (never about a foreign address: error_allowed, icmp6.c). */
static oasis_udp_port *taker(oasis_stack *s, uint16_t port, const oasis_ipaddr *dst)
{
    oasis_udp_port *b = *find(s, port);
    if (b && (!b->v4_only || dst->family == OASIS_AF_INET) && (b->transparent || !foreign(s, dst)))
        return b;
    b = s->cfg.transparent ? *find(s, 0) : NULL;
    return b; /* (port 0 is bound only transparent, for both families) */
}

static void deliver(oasis_stack *s, oasis_udp_port *b, const oasis_ipaddr *src,
                    const oasis_ipaddr *dst, const oasis_udp_hdr *u)
{
    /* The callback may unbind (freeing b): nothing touches b afterwards. */
    if (b->cb4)
        b->cb4(s, oasis_ipaddr_to_v4(src), u->src_port, oasis_ipaddr_to_v4(dst), u->dst_port,
               u->payload, u->payload_len, b->ud);
    else
        b->cb(s, src, u->src_port, dst, u->dst_port, u->payload, u->payload_len, b->ud);
}

static void input_v4(oasis_stack *s, const oasis_ipv4_hdr *ip)
{
    oasis_udp_counters *c = &s->ctr.udp;
    oasis_udp_hdr u;

    switch (oasis_udp_parse_ex(ip->payload, ip->payload_len, ip->src, ip->dst,
                               !oasis_rx_csum_trusted(s, ip->payload), &u)) {
    case OASIS_OK:
        break;
    case OASIS_ECHECKSUM:
        c->in_csum_errors++;
        c->in_errors++; /* as IPv6's below and Linux count it */
        return;
    default:
        c->in_errors++;
        return;
    }
    oasis_ipaddr src = oasis_ipaddr_v4(ip->src), dst = oasis_ipaddr_v4(ip->dst);
    oasis_udp_port *b = taker(s, u.dst_port, &dst);
    if (!b) {
        c->no_ports++;
        oasis_icmp_send_error(s, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_PORT_UNREACH, 0, ip);
        return;
    }
    c->in_datagrams++;
    const oasis_ipv4_hdr *outer = s->udp.rx_v4; /* (a callback may feed the stack) */
    s->udp.rx_v4 = ip;
    deliver(s, b, &src, &dst, &u);
    s->udp.rx_v4 = outer;
}

const uint8_t *oasis_udp_rx_options(const oasis_stack *s, size_t *len)
{
    const oasis_ipv4_hdr *ip = s ? s->udp.rx_v4 : NULL;
    if (len)
        *len = ip ? ip->options_len : 0;
    return ip && ip->options_len ? ip->options : NULL;
}

/* RFC 4443 3.1 code 4 (icmp6 refuses it for multicast destinations). A
 * link with checksum offload may have handed us the datagram with only the
 * pseudo-header sum in its checksum field: the quote carries the real one,
 * as the datagram was on the wire. */
static void port_unreachable6(oasis_stack *s, const oasis_ip_packet *pkt, const oasis_udp_hdr *u)
{
    const oasis_ipv6_hdr *ip = pkt->net;
    const uint8_t *q = ip->pkt;
    size_t whole = (size_t)(pkt->payload + pkt->len - ip->pkt);
    uint8_t fixed[OASIS_IPV6_MIN_MTU];
    size_t off = (size_t)(pkt->payload - ip->pkt);
    if (s->rx_csum_start != 0 && oasis_rx_csum_trusted(s, pkt->payload) &&
        off + OASIS_UDP_HLEN <= sizeof fixed) {
        size_t n = whole < sizeof fixed ? whole : sizeof fixed;
        memcpy(fixed, q, n);
        uint16_t c = oasis_udp_csum6(pkt->payload, u->len, &ip->src, &ip->dst);
        memcpy(fixed + off + 6, &c, 2); /* as oasis_csum_fold gives it: wire order */
        q = fixed;
        whole = n;
    }
    oasis_icmp6_send_error(s, OASIS_ICMP6_DEST_UNREACH, OASIS_ICMP6_DU_PORT, 0, q, whole,
                           pkt->link_bcast, 0);
}

static void input_v6(oasis_stack *s, const oasis_ip_packet *pkt)
{
    oasis_udp_counters *c = &s->ctr.udp6;
    const oasis_ipv6_hdr *ip = pkt->net;
    oasis_udp_hdr u;

    switch (oasis_udp_parse6(pkt->payload, pkt->len, &ip->src, &ip->dst,
                             !oasis_rx_csum_trusted(s, pkt->payload), &u)) {
    case OASIS_OK:
        break;
    case OASIS_ECHECKSUM:
        c->in_csum_errors++;
        c->in_errors++;
        return;
    case OASIS_ENOTSUP: /* zero checksum: Linux counts it a checksum error */
        c->zero_csum++;
        c->in_csum_errors++;
        c->in_errors++;
        return;
    default:
        c->in_errors++;
        return;
    }
    oasis_ipaddr src = oasis_ipaddr_v6(ip->src.b), dst = oasis_ipaddr_v6(ip->dst.b);
    oasis_udp_port *b = taker(s, u.dst_port, &dst);
    if (!b) {
        c->no_ports++;
        port_unreachable6(s, pkt, &u);
        return;
    }
    c->in_datagrams++;
    /* No IPv4 options here, also inside an IPv4 datagram's callback that
     * polled (loopback) or fed the stack. */
    const oasis_ipv4_hdr *outer = s->udp.rx_v4;
    s->udp.rx_v4 = NULL;
    deliver(s, b, &src, &dst, &u);
    s->udp.rx_v4 = outer;
}

void oasis_udp_input(oasis_stack *s, const oasis_ip_packet *pkt)
{
    if (pkt->family == OASIS_IP_FAMILY_V4)
        input_v4(s, pkt->net);
    else if (pkt->family == OASIS_IP_FAMILY_V6)
        input_v6(s, pkt);
}

/* What an ICMP (v4 or v6) error means for a UDP sender. */
static int error_code(const oasis_ip_error *e)
{
    if (e->family == OASIS_IP_FAMILY_V4) {
        switch (e->type) {
        case OASIS_ICMP_DEST_UNREACH:
            switch (e->code) {
            case OASIS_ICMP_PORT_UNREACH: return OASIS_EREFUSED;
            case OASIS_ICMP_PROTO_UNREACH: return OASIS_EPROTOUNREACH;
            case OASIS_ICMP_NET_UNREACH: return OASIS_ENETUNREACH;
            case OASIS_ICMP_FRAG_NEEDED: return OASIS_EMSGSIZE;
            default: return OASIS_EHOSTUNREACH;
            }
        case OASIS_ICMP_TIME_EXCEEDED: return OASIS_EHOSTUNREACH;
        case OASIS_ICMP_PARAM_PROBLEM: return OASIS_EMALFORMED;
        default: return 0; /* source quench: nothing to tell (RFC 6633) */
        }
    }
    switch (e->type) {
    case OASIS_ICMP6_DEST_UNREACH:
        switch (e->code) {
        case OASIS_ICMP6_DU_PORT: return OASIS_EREFUSED;
        case OASIS_ICMP6_DU_NOROUTE: return OASIS_ENETUNREACH;
        default: return OASIS_EHOSTUNREACH;
        }
    case OASIS_ICMP6_PKT_TOO_BIG: return OASIS_EMSGSIZE;
    case OASIS_ICMP6_TIME_EXCEEDED: return OASIS_EHOSTUNREACH;
    case OASIS_ICMP6_PARAM_PROBLEM:
        return e->code == OASIS_ICMP6_PP_NEXTHDR ? OASIS_EPROTOUNREACH : OASIS_EMALFORMED;
    default: return 0;
    }
}

/* An ICMP error quoting one of our datagrams (IP checked that the quoted
 * source is our address, or the foreign one a transparent stack sent
 * from): the bind that takes datagrams at the quoted source address and
 * port hears of it. */
void oasis_udp_icmp_error(oasis_stack *s, const oasis_ip_error *e)
{
    int v6 = e->family == OASIS_IP_FAMILY_V6;
    oasis_udp_counters *c = v6 ? &s->ctr.udp6 : &s->ctr.udp;
    if (e->quote_len < OASIS_UDP_HLEN)
        return;
    int err = error_code(e);
    oasis_ipaddr src = v6 ? oasis_ipaddr_v6(e->src6) : oasis_ipaddr_v4(e->src);
    oasis_udp_port *b = taker(s, oasis_get16(e->quote), &src);
    if (!err || !b) {
        c->icmp_no_port++;
        return;
    }
    c->icmp_errors++;
    /* RFC 8201 4: a Packet Too Big about one of our datagrams (its source
     * address ours, its source port bound: the validation 4 asks for)
     * lowers the path MTU, so IPv6 fragments the next ones to fit. */
    if (v6 && e->type == OASIS_ICMP6_PKT_TOO_BIG) {
        oasis_ipaddr dst = oasis_ipaddr_v6(e->dst6);
        oasis_pmtu_lower(s, &dst, e->mtu);
    }
    if (!b->err_cb)
        return;
    oasis_udp_error ue = {
        .err = err,
        .family = v6 ? OASIS_AF_INET6 : OASIS_AF_INET,
        .type = e->type,
        .code = e->code,
        .mtu = e->mtu,
        .src = src,
        .src_port = oasis_get16(e->quote),
        .dst_port = oasis_get16(e->quote + 2),
    };
    if (v6) {
        ue.dst = oasis_ipaddr_v6(e->dst6);
        ue.reporter = oasis_ipaddr_v6(e->reporter6);
    } else {
        ue.dst = oasis_ipaddr_v4(e->dst);
        ue.reporter = oasis_ipaddr_v4(e->reporter);
    }
    b->err_cb(s, &ue, b->ud);
}
