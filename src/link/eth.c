#include "link/eth.h"

#include "arp/arp.h"
#include "core/stack_impl.h"
#include "ip/ipv4.h"
#include "ipv6/ipv6.h"
#include "link/eth_wire.h"
#include "oasis/error.h"

#include <string.h>

void oasis_eth_input(oasis_stack *s, const uint8_t *frame, size_t len)
{
    oasis_link_counters *c = &s->ctr.link;
    oasis_eth_hdr eh;

    c->rx_frames++;
    c->rx_bytes += len;
    int err = oasis_eth_parse(frame, len, &eh);
    if (err == OASIS_ETRUNCATED) {
        c->rx_malformed++;
        return;
    }
    if (err) { /* an 802.3 length field (e.g. spanning tree): not ours to read */
        c->rx_unknown_type++;
        return;
    }
    /* A hub (or a TAP in promiscuous mode) shows us other hosts' unicast. */
    if (!oasis_mac_is_multicast(eh.dst) && memcmp(eh.dst, s->mac, 6) != 0) {
        c->rx_not_for_us++;
        return;
    }
    switch (eh.type) {
    case OASIS_ETHERTYPE_IPV4:
        oasis_ipv4_input(s, eh.payload, eh.payload_len, oasis_mac_is_multicast(eh.dst));
        break;
    case OASIS_ETHERTYPE_IPV6:
        oasis_ipv6_input(s, eh.payload, eh.payload_len, oasis_mac_is_multicast(eh.dst));
        break;
    case OASIS_ETHERTYPE_ARP:
        oasis_arp_input(s, eh.payload, eh.payload_len, eh.src);
        break;
    default:
        c->rx_unknown_type++;
        break;
    }
}

int oasis_eth_output(oasis_stack *s, oasis_pbuf *p, const uint8_t dst[6], uint16_t type)
{
    oasis_link_counters *c = &s->ctr.link;
    uint8_t *h = oasis_pbuf_push(p, OASIS_ETH_HLEN);
    int err = OASIS_OK;

    if (!h || !s->link) {
        c->tx_errors++;
        oasis_pbuf_free(s, p);
        return h ? OASIS_ENOROUTE : OASIS_EINVAL;
    }
    oasis_eth_emit(h, dst, s->mac, type);
    if (s->link->pcap)
        oasis_pcap_write(s->link->pcap, oasis_now(s), p->data, p->len);
    err = s->link->send(s->link, p->data, p->len);
    if (err) {
        c->tx_errors++;
    } else {
        c->tx_frames++;
        c->tx_bytes += p->len;
    }
    oasis_pbuf_free(s, p);
    return err;
}
