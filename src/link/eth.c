#include "link/eth.h"
#include "core/compiler.h"

#include "arp/arp.h"
#include "core/stack_impl.h"
#include "ip/ipv4.h"
#include "ipv6/ipv6.h"
#include "link/eth_wire.h"
#include "link/gso.h"
#include "oasis/error.h"

#include <string.h>

/* Every type but IPv4, out of line: inlined (ARP and IPv6 input are),
 * they spread the IPv4 path's few hundred bytes over kilobytes of code.
 * The frame was found for us (mcast: to a group we are in) and at least
 * OASIS_ETH_HLEN long; IPv6 needs no more of its header. */
static OASIS_NOINLINE void other_input(oasis_stack *s, const uint8_t *frame, size_t len,
                                       int mcast)
{
    if (oasis_get16(frame + 12) == OASIS_ETHERTYPE_IPV6) {
        oasis_ipv6_input(s, frame + OASIS_ETH_HLEN, len - OASIS_ETH_HLEN, mcast);
        return;
    }
    oasis_eth_hdr eh;
    oasis_eth_parse(frame, len, &eh);
    switch (eh.type) {
    case OASIS_ETHERTYPE_ARP:
        oasis_arp_input(s, eh.payload, eh.payload_len, eh.src);
        break;
    default:
        s->ctr.link.rx_unknown_type++;
        break;
    }
}

/* What oasis_eth_parse checks, read in place (no header copied). */
OASIS_HOT OASIS_NOINLINE void oasis_eth_input(oasis_stack *s, const uint8_t *frame, size_t len)
{
    oasis_link_counters *c = &s->ctr.link;

    c->rx_frames++;
    c->rx_bytes += len;
    if (len < OASIS_ETH_HLEN) {
        c->rx_malformed++;
        return;
    }
    uint16_t type = oasis_get16(frame + 12);
    if (type < OASIS_ETH_MIN_TYPE) { /* an 802.3 length field (e.g. spanning tree): not ours to read */
        c->rx_unknown_type++;
        return;
    }
    /* A hub (or a TAP in promiscuous mode) shows us other hosts' unicast,
     * and a TAP every IPv6 multicast the kernel sends (MLD reports to
     * ff02::16, router solicitations to ff02::2): a NIC's multicast filter
     * would not have passed the groups we are not in. */
    int mcast = oasis_mac_is_multicast(frame);
    if ((!mcast && memcmp(frame, s->mac, 6) != 0) ||
        (mcast && frame[0] == 0x33 && frame[1] == 0x33 && !oasis_ipv6_wants_mac(s, frame + 2))) {
        c->rx_not_for_us++;
        return;
    }
    oasis_eth_input_for_us(s, frame, len, mcast);
}

/* A frame found for us (mcast: to a group we are in), by type: the IPv4
 * path once, for both oasis_eth_input and oasis_eth_input_unicast. */
OASIS_HOT OASIS_NOINLINE void oasis_eth_input_for_us(oasis_stack *s, const uint8_t *frame,
                                                     size_t len, int mcast)
{
    if (oasis_get16(frame + 12) == OASIS_ETHERTYPE_IPV4)
        oasis_ipv4_input(s, frame + OASIS_ETH_HLEN, len - OASIS_ETH_HLEN, mcast);
    else
        other_input(s, frame, len, mcast);
}

/* Counts what the link said of a frame of len bytes; returns err. */
static OASIS_ALWAYS_INLINE int tx_counted(oasis_stack *s, int err, size_t len)
{
    oasis_link_counters *c = &s->ctr.link;
    if (OASIS_UNLIKELY(err)) {
        c->tx_errors++;
    } else {
        c->tx_frames++;
        c->tx_bytes += len;
    }
    return err;
}

/* The link's functions are the application's code, run inside the stack's
 * calls, which go on with the stack when they return: around them,
 * oasis_stack_destroy is refused (OASIS_EBUSY), as from a callback. */

/* One plain frame to the link (and the capture). */
static OASIS_ALWAYS_INLINE int plain_send_inline(oasis_stack *s, const uint8_t *frame, size_t len)
{
    if (s->link->pcap)
        oasis_pcap_write(s->link->pcap, oasis_now(s), frame, len);
    oasis_app_enter(s);
    int err = s->link->send(s->link, frame, len);
    oasis_app_leave(s);
    return tx_counted(s, err, len);
}

static int plain_send(oasis_stack *s, const uint8_t *frame, size_t len)
{
    return plain_send_inline(s, frame, len);
}

/* Always inline: with LTO the transport's send takes them whole, as it
 * takes IPv4's header writing (ipv4.c). */
OASIS_HOT OASIS_ALWAYS_INLINE uint8_t *oasis_eth_lend(oasis_stack *s, size_t len)
{
    oasis_link *l = s->link;
    if (!l || !l->tx_lend)
        return NULL;
    oasis_app_enter(s);
    uint8_t *frame = l->tx_lend(l, len);
    oasis_app_leave(s);
    return frame;
}

OASIS_HOT OASIS_ALWAYS_INLINE int oasis_eth_commit(oasis_stack *s, uint8_t *frame, size_t len)
{
    oasis_link *l = s->link;
    if (l->pcap) /* (the frame is ours until the commit) */
        oasis_pcap_write(l->pcap, oasis_now(s), frame, len);
    oasis_app_enter(s);
    int err = l->tx_commit(l, frame, len);
    oasis_app_leave(s);
    return tx_counted(s, err, len);
}

void oasis_eth_unlend(oasis_stack *s, uint8_t *frame)
{
    oasis_app_enter(s);
    s->link->tx_commit(s->link, frame, 0);
    oasis_app_leave(s);
}

static int piece_send(void *ud, uint8_t *frame, size_t len)
{
    return plain_send(ud, frame, len);
}

/* The offloads of an IPv4 or IPv6 packet TCP built as a super-segment or
 * with a partial checksum (p->data: the Ethernet frame; IPv6's TCP and
 * UDP headers follow the fixed header, as this stack sends them). */
static void offload_of(const oasis_pbuf *p, oasis_offload *off)
{
    const uint8_t *ip = p->data + OASIS_ETH_HLEN;
    int v6 = oasis_get16(p->data + 12) == OASIS_ETHERTYPE_IPV6;
    uint16_t l4 = (uint16_t)(OASIS_ETH_HLEN + (v6 ? OASIS_IPV6_HLEN : (ip[0] & 15) * 4));
    uint8_t proto = v6 ? ip[6] : ip[9];
    memset(off, 0, sizeof *off);
    off->flags = OASIS_OFFLOAD_CSUM_PARTIAL;
    off->csum_start = l4;
    off->csum_offset = proto == OASIS_IPPROTO_TCP ? 16 : 6;
    if (p->gso_size) {
        off->gso_type = v6 ? OASIS_GSO_TCPV6 : OASIS_GSO_TCPV4;
        /* CWR (RFC 3168) belongs to the first piece only: say so, as
         * Linux's SKB_GSO_TCP_ECN / VIRTIO_NET_HDR_GSO_ECN do. */
        if (proto == OASIS_IPPROTO_TCP && (p->data[l4 + 13] & 0x80))
            off->gso_type |= OASIS_GSO_ECN;
        off->gso_size = p->gso_size;
        off->hdr_len = (uint16_t)(l4 + (p->data[l4 + 12] >> 4) * 4);
    }
}

/* The link boundary (oasis/link.h): a link that can take the frame as it
 * is gets it with its offloads; for any other the frame is cut into plain
 * frames here, in place, with complete checksums. */
static int link_boundary(oasis_stack *s, oasis_pbuf *p)
{
    oasis_link *l = s->link;
    oasis_offload off;
    offload_of(p, &off);
    uint32_t max = l->gso_max ? l->gso_max : OASIS_GSO_MAX;
    uint32_t tso = (off.gso_type & ~OASIS_GSO_ECN) == OASIS_GSO_TCPV6 ? OASIS_LINK_TSO6
                                                                       : OASIS_LINK_TSO4;
    int ok = l->send_offload && (l->caps & OASIS_LINK_CSUM_TX) &&
             (!p->gso_size || ((l->caps & tso) && p->len - OASIS_ETH_HLEN <= max));
    if (ok) {
        if (l->pcap)
            oasis_stack_pcap_offload(s, l->pcap, p->data, p->len, &off);
        oasis_app_enter(s);
        int err = l->send_offload(l, p->data, p->len, &off);
        oasis_app_leave(s);
        return tx_counted(s, err, p->len);
    }
    int err = OASIS_OK;
    if (oasis_gso_segment(p->data, p->len, &off, NULL, 0, piece_send, s, &err) < 0) {
        s->ctr.link.tx_errors++;
        return OASIS_EMSGSIZE;
    }
    return err;
}

int oasis_eth_output(oasis_stack *s, oasis_pbuf *p, const uint8_t dst[6], uint16_t type)
{
    uint8_t *h = oasis_pbuf_push(p, OASIS_ETH_HLEN);
    if (!h || !s->link) {
        s->ctr.link.tx_errors++;
        oasis_pbuf_free(s, p);
        return h ? OASIS_ENOROUTE : OASIS_EINVAL;
    }
    oasis_eth_emit(h, dst, s->mac, type);
    return oasis_eth_xmit(s, p);
}

OASIS_HOT OASIS_ALWAYS_INLINE int oasis_eth_send_frame(oasis_stack *s, const uint8_t *frame, size_t len)
{
    if (!s->link) {
        s->ctr.link.tx_errors++;
        return OASIS_ENOROUTE;
    }
    return plain_send_inline(s, frame, len);
}

int oasis_eth_xmit(oasis_stack *s, oasis_pbuf *p)
{
    int err;
    if (!s->link) {
        s->ctr.link.tx_errors++;
        err = OASIS_ENOROUTE;
    } else if (p->gso_size || p->csum_partial) {
        err = link_boundary(s, p);
    } else {
        err = plain_send(s, p->data, p->len);
    }
    oasis_pbuf_free(s, p);
    return err;
}
