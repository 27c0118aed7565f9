/* IP links: a TUN device, a VPN's tunnel, a point-to-point line, whose
 * frames are bare IPv4 and IPv6 packets (OASIS_LINK_IP, oasis/link.h).
 *
 * The layers above speak Ethernet: they build a frame with a 14-byte
 * header in front of the IP packet and hand it to s->link. For an IP link
 * s->link is the stack's own shim, whose send passes the packet behind
 * that header to the application's link. Received packets enter IPv4 or
 * IPv6 directly, with no header to strip. What an IP link has no use for,
 * resolving neighbours (arp.c, nd.c), DAD (addrconf.c) and routes beyond
 * the link (ipv4.c, nd.c), the layers skip on s->link_ip.
 *
 * The transmit caches (ipv4.c) hold a resolved neighbour; an IP link has
 * none, so they are off and IPv4 sends by the slow path, which costs a few
 * dozen instructions per packet, against a system call per packet for a
 * TUN device. */
#include "link/ip_link.h"

#include <string.h>

#include "core/stack_impl.h"
#include "ip/ipv4.h"
#include "ipv6/ipv6.h"
#include "link/eth_wire.h"

const uint8_t oasis_ip_link_far_end[6];

static int shim_send(oasis_link *shim, const uint8_t *frame, size_t len)
{
    oasis_link *app = shim->data;
    if (len < OASIS_ETH_HLEN)
        return OASIS_EINVAL;
    return app->send(app, frame + OASIS_ETH_HLEN, len - OASIS_ETH_HLEN);
}

/* A super-segment or a partial checksum: the offsets the layers computed
 * from the Ethernet header, taken from the IP header. */
static int shim_send_offload(oasis_link *shim, const uint8_t *frame, size_t len,
                             const oasis_offload *off)
{
    oasis_link *app = shim->data;
    if (len < OASIS_ETH_HLEN || off->csum_start < OASIS_ETH_HLEN)
        return OASIS_EINVAL;
    oasis_offload o = *off;
    o.csum_start = (uint16_t)(o.csum_start - OASIS_ETH_HLEN);
    if (o.hdr_len >= OASIS_ETH_HLEN)
        o.hdr_len = (uint16_t)(o.hdr_len - OASIS_ETH_HLEN);
    return app->send_offload(app, frame + OASIS_ETH_HLEN, len - OASIS_ETH_HLEN, &o);
}

void oasis_ip_link_attach(oasis_stack *s, oasis_link *link)
{
    int was_ip = s->link_ip;
    s->app_link = link;
    s->link_ip = link && (link->caps & OASIS_LINK_IP);
    s->ip.rt_ok = 0; /* the route memo: an IP link routes everything */
    if (!s->link_ip) {
        s->link = link;
        if (was_ip)
            s->ip.txc_off = 0;
        return;
    }
    memset(&s->ip_shim, 0, sizeof s->ip_shim);
    s->ip_shim.send = shim_send;
    s->ip_shim.mtu = link->mtu;
    s->ip_shim.pcap = link->pcap;
    s->ip_shim.data = link;
    if (link->send_offload) { /* (offsets from the IP header: link.h) */
        s->ip_shim.caps = link->caps & (OASIS_LINK_TSO4 | OASIS_LINK_TSO6 | OASIS_LINK_CSUM_TX);
        s->ip_shim.gso_max = link->gso_max;
        s->ip_shim.send_offload = shim_send_offload;
    }
    s->link = &s->ip_shim;
    s->ip.txc_off = 1;
}

/* The capture's copy of a received packet, behind the Ethernet header a
 * sent one has (from the far end's 00:.. to our MAC). */
static void capture(oasis_stack *s, const uint8_t *pkt, size_t len, uint16_t type)
{
    uint8_t *f = oasis_stack_gso_scratch(s);
    if (!f || len > OASIS_GSO_SCRATCH - OASIS_ETH_HLEN)
        return;
    oasis_eth_emit(f, s->mac, oasis_ip_link_far_end, type);
    memcpy(f + OASIS_ETH_HLEN, pkt, len);
    oasis_pcap_write(s->link->pcap, oasis_now(s), f, len + OASIS_ETH_HLEN);
}

void oasis_stack_input_ip(oasis_stack *s, const uint8_t *pkt, size_t len)
{
    oasis_stack_input_ip_offload(s, pkt, len, NULL);
}

void oasis_stack_input_ip_offload(oasis_stack *s, const uint8_t *pkt, size_t len,
                                  const oasis_offload *off)
{
    if (!s || !pkt)
        return;
    oasis_link_counters *c = &s->ctr.link;
    c->rx_frames++;
    c->rx_bytes += len;
    if (len == 0) {
        c->rx_malformed++;
        return;
    }
    unsigned version = pkt[0] >> 4;
    if (version != 4 && version != 6) {
        c->rx_unknown_type++;
        return;
    }
    if (off && !off->flags && !(off->gso_type & ~OASIS_GSO_ECN))
        off = NULL;
    if (off && (off->flags & OASIS_OFFLOAD_CSUM_PARTIAL) &&
        (size_t)off->csum_start + off->csum_offset + 2 > len) {
        c->rx_malformed++; /* a partial checksum outside the packet */
        return;
    }
    /* The cached instant, as oasis_stack_input's (a nested call keeps its
     * caller's), and the offloads the link vouched for, as
     * oasis_stack_input_offload's, with offsets from the IP header. */
    oasis_now_enter(s);
    oasis_rx_saved sv;
    oasis_rx_enter(s, pkt, len, off, &sv);
    uint16_t type = version == 4 ? OASIS_ETHERTYPE_IPV4 : OASIS_ETHERTYPE_IPV6;
    if (s->link && s->link->pcap)
        capture(s, pkt, len, type);
    if (version == 4)
        oasis_ipv4_input(s, pkt, len, 0);
    else
        oasis_ipv6_input(s, pkt, len, 0);
    oasis_rx_leave(s, &sv);
    oasis_now_leave(s);
}
