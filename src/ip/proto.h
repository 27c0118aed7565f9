/* The stack's table of protocol handlers (include/oasis/ip.h): IP hands
 * each datagram, and each ICMP error quoting one of ours, to the handler
 * registered for its protocol number. One table per stack, for both
 * address families. */
#ifndef OASIS_IP_PROTO_H
#define OASIS_IP_PROTO_H

#include <stdint.h>

#include "oasis/ip.h"

typedef struct oasis_ip_handler {
    oasis_ip_input_fn input;
    oasis_ip_error_fn error;
    void *ud;
    uint8_t proto;
} oasis_ip_handler;

/* slot[proto] is 1 + the index of its handler in h, 0 for none: one
 * lookup per datagram, and the table stays a few hundred bytes. */
typedef struct oasis_ip_protos {
    uint8_t slot[256];
    oasis_ip_handler h[OASIS_IP_MAX_PROTOS];
    /* TCP's entry is the built-in one: IPv4 may hand it segments directly
     * (oasis_tcp_input4_ecn) instead of through the table. */
    uint8_t tcp_builtin;
} oasis_ip_protos;

/* Registers TCP, UDP and ICMP (stack creation, before any traffic). */
int oasis_ip_protos_init(oasis_stack *s);
void oasis_ip_protos_fini(oasis_stack *s);

/* The handler of proto, or NULL. */
const oasis_ip_handler *oasis_ip_handler_of(const oasis_stack *s, uint8_t proto);

/* Hands an ICMP error to the error hook of e->proto; 1 if one took it. */
int oasis_ip_error_deliver(oasis_stack *s, const oasis_ip_error *e);

#endif
