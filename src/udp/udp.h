/* UDP layer. */
#ifndef OASIS_UDP_LAYER_H
#define OASIS_UDP_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "ip/ipv4_wire.h"

typedef struct oasis_stack oasis_stack;
typedef struct oasis_udp_port oasis_udp_port;

typedef struct oasis_udp {
    oasis_udp_port *binds;    /* bound ports (list; few per stack) */
} oasis_udp;

int oasis_udp_init(oasis_stack *s);
void oasis_udp_fini(oasis_stack *s);

/* One UDP datagram; ip is the parsed IPv4 header (payload = the datagram). */
void oasis_udp_input(oasis_stack *s, const oasis_ipv4_hdr *ip);

#endif
