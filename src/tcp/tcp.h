/* TCP layer: what the rest of the stack sees of it. */
#ifndef OASIS_TCP_LAYER_H
#define OASIS_TCP_LAYER_H

typedef struct oasis_stack oasis_stack;
typedef struct oasis_tcp_layer oasis_tcp_layer;

typedef struct oasis_ip_error oasis_ip_error;

int oasis_tcp_init(oasis_stack *s);
void oasis_tcp_fini(oasis_stack *s);

/* TCP's error hook in the protocol table (tcp_icmp.c): an ICMP error
 * quoting one of our segments. */
void oasis_tcp_icmp_error(oasis_stack *s, const oasis_ip_error *e);

#include <stddef.h>
#include <stdint.h>

#include "oasis/addr.h"

/* oasis_tcp_input with the ECN field (RFC 3168) of the IP header that
 * carried the segment (the protocol table's entry, ip/proto.c). */
void oasis_tcp_input_ecn(oasis_stack *s, const oasis_ipaddr *src, const oasis_ipaddr *dst,
                         const uint8_t *seg, size_t len, uint8_t ecn);

/* The same for IPv4 (host-order addresses): IPv4's input calls it directly
 * when the built-in TCP is the protocol table's entry (ipv4.c). */
void oasis_tcp_input4_ecn(oasis_stack *s, uint32_t src, uint32_t dst, const uint8_t *seg,
                          size_t len, uint8_t ecn);
/* The same for IPv6 (the addresses' 16 bytes each, as in the header). */
void oasis_tcp_input6_ecn(oasis_stack *s, const uint8_t *src, const uint8_t *dst,
                          const uint8_t *seg, size_t len, uint8_t ecn);

/* Runs the callbacks of the flows woken so far (oasis_stack_poll, when
 * the stack's tcp_due has come: see tcp_dispatch.c). */
void oasis_tcp_dispatch(oasis_stack *s);

/* Our address addr went away: flows on it end with OASIS_EADDRNOTAVAIL. */
void oasis_tcp_addr_lost(oasis_stack *s, uint32_t addr);

/* A flow that a client inside the library opened through the public API
 * (the DNS resolver's TCP try, the metrics reporter's connection) is
 * marked as the library's as soon as it has the handle: the application's
 * walk (oasis_tcp_foreach_flow) never hands it out, so the application
 * cannot release a handle it does not own. 0, or OASIS_ENOMEM (the mark
 * lives in the flow's extension): the caller then lets the flow go. */
typedef struct oasis_flow oasis_flow;
int oasis_tcp_set_lib_owned(oasis_flow *f);

#endif
