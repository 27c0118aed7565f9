/* UDP layer. */
#ifndef OASIS_UDP_LAYER_H
#define OASIS_UDP_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "ip/ipv4_wire.h"
#include "oasis/ip.h"

typedef struct oasis_stack oasis_stack;
typedef struct oasis_udp_port oasis_udp_port;

typedef struct oasis_udp {
    oasis_udp_port *binds;    /* bound ports (list; few per stack) */
    const oasis_ipv4_hdr *rx_v4; /* the IPv4 datagram a receive callback is given */
} oasis_udp;

int oasis_udp_init(oasis_stack *s);
void oasis_udp_fini(oasis_stack *s);

/* One UDP datagram of either family from the protocol table. */
void oasis_udp_input(oasis_stack *s, const oasis_ip_packet *pkt);
/* An ICMP or ICMPv6 error quoting one of our datagrams (its error hook). */
void oasis_udp_icmp_error(oasis_stack *s, const oasis_ip_error *e);

#endif
