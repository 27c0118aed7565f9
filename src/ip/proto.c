/* Protocol handler table: registration, and the built-in transports'
 * entries. Both families deliver through it (a handler sees pkt->family). */
#include "ip/proto.h"
#include "ip/igmp_wire.h"

#include "core/pbuf.h"
#include "core/stack_impl.h"
#include "icmp/icmp.h"
#include "ip/ipv4.h"
#include "oasis/error.h"
#include "oasis/tcp.h"
#include "tcp/tcp.h"
#include "udp/udp.h"

#include <string.h>

static void tcp_in(oasis_stack *s, const oasis_ip_packet *pkt, void *ud);

int oasis_ip_register(oasis_stack *s, uint8_t proto, oasis_ip_input_fn input,
                      oasis_ip_error_fn error, void *ud)
{
    if (!s || !input)
        return OASIS_EINVAL;
    oasis_ip_protos *t = &s->protos;
    if (t->slot[proto])
        return OASIS_EADDRINUSE;
    for (uint8_t i = 0; i < OASIS_IP_MAX_PROTOS; i++) {
        if (t->h[i].input)
            continue;
        t->h[i] = (oasis_ip_handler){input, error, ud, proto};
        t->slot[proto] = (uint8_t)(i + 1);
        if (proto == OASIS_IPPROTO_TCP)
            t->tcp_builtin = input == tcp_in;
        return OASIS_OK;
    }
    return OASIS_ENOMEM;
}

int oasis_ip_unregister(oasis_stack *s, uint8_t proto)
{
    if (!s || !s->protos.slot[proto])
        return OASIS_ENOENT;
    memset(&s->protos.h[s->protos.slot[proto] - 1], 0, sizeof(oasis_ip_handler));
    s->protos.slot[proto] = 0;
    if (proto == OASIS_IPPROTO_TCP)
        s->protos.tcp_builtin = 0;
    return OASIS_OK;
}

const oasis_ip_handler *oasis_ip_handler_of(const oasis_stack *s, uint8_t proto)
{
    uint8_t i = s->protos.slot[proto];
    return i ? &s->protos.h[i - 1] : NULL;
}

int oasis_ip_error_deliver(oasis_stack *s, const oasis_ip_error *e)
{
    const oasis_ip_handler *h = oasis_ip_handler_of(s, e->proto);
    if (!h || !h->error)
        return 0;
    h->error(s, e, h->ud);
    return 1;
}

int oasis_ip_send(oasis_stack *s, uint32_t dst, uint8_t proto, const void *data, size_t len,
                  int df)
{
    if (!s || (len && !data))
        return OASIS_EINVAL;
    if (len > 65535 - OASIS_IPV4_HLEN)
        return OASIS_EMSGSIZE;
    oasis_pbuf *p = oasis_pbuf_alloc(s, OASIS_PBUF_HEADROOM, len);
    if (!p)
        return OASIS_ENOMEM;
    if (len)
        memcpy(p->data, data, len);
    return oasis_ipv4_output(s, p, dst, proto, df);
}

/* ---- the built-in transports ---- */

/* TCP and UDP speak both families; TCP is told the ECN field (RFC 3168). */
static void tcp_in(oasis_stack *s, const oasis_ip_packet *pkt, void *ud)
{
    (void)ud;
    if (pkt->family == OASIS_IP_FAMILY_V4) {
        oasis_tcp_input4_ecn(s, pkt->src, pkt->dst, pkt->payload, pkt->len, pkt->tclass & 3);
    } else if (pkt->family == OASIS_IP_FAMILY_V6) {
        oasis_tcp_input6_ecn(s, pkt->src6, pkt->dst6, pkt->payload, pkt->len, pkt->tclass & 3);
    }
}

static void udp_in(oasis_stack *s, const oasis_ip_packet *pkt, void *ud)
{
    (void)ud;
    oasis_udp_input(s, pkt);
}

static void udp_err(oasis_stack *s, const oasis_ip_error *e, void *ud)
{
    (void)ud;
    oasis_udp_icmp_error(s, e);
}

static void icmp_in(oasis_stack *s, const oasis_ip_packet *pkt, void *ud)
{
    (void)ud;
    if (pkt->family != OASIS_IP_FAMILY_V4)
        return;
    oasis_icmp_input(s, pkt->net);
}

static void igmp_in(oasis_stack *s, const oasis_ip_packet *pkt, void *ud)
{
    (void)ud;
    if (pkt->family == OASIS_IP_FAMILY_V4)
        oasis_igmp_input(s, pkt->net);
}

static void tcp_err(oasis_stack *s, const oasis_ip_error *e, void *ud)
{
    (void)ud;
    oasis_tcp_icmp_error(s, e);
}

static void icmp_err(oasis_stack *s, const oasis_ip_error *e, void *ud)
{
    (void)ud;
    oasis_icmp_echo_error(s, e);
}

int oasis_ip_protos_init(oasis_stack *s)
{
    memset(&s->protos, 0, sizeof s->protos);
    int err = oasis_ip_register(s, OASIS_IPPROTO_TCP, tcp_in, tcp_err, NULL);
    if (!err)
        err = oasis_ip_register(s, OASIS_IPPROTO_UDP, udp_in, udp_err, NULL);
    if (!err)
        err = oasis_ip_register(s, OASIS_IPPROTO_ICMP, icmp_in, icmp_err, NULL);
    if (!err)
        err = oasis_ip_register(s, OASIS_IPPROTO_IGMP, igmp_in, NULL, NULL);
    return err;
}

void oasis_ip_protos_fini(oasis_stack *s) { memset(&s->protos, 0, sizeof s->protos); }
