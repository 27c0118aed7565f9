/* UDP: bind a port with a receive callback, send datagrams. */
#ifndef OASIS_UDP_H
#define OASIS_UDP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oasis_stack oasis_stack;

/* Called for each datagram that arrives on a bound port. `data` is borrowed:
 * it is valid only until the callback returns. */
typedef void (*oasis_udp_recv_cb)(oasis_stack *s, uint32_t src, uint16_t src_port, uint32_t dst,
                                  uint16_t dst_port, const uint8_t *data, size_t len, void *ud);

/* Binds a local port. Returns 0, OASIS_EADDRINUSE, OASIS_EINVAL (port 0 or
 * no callback) or OASIS_ENOMEM. Datagrams to unbound ports are answered with
 * ICMP port unreachable. */
int oasis_udp_bind(oasis_stack *s, uint16_t port, oasis_udp_recv_cb cb, void *ud);

/* Unbinds; returns OASIS_ENOENT if the port was not bound. */
int oasis_udp_unbind(oasis_stack *s, uint16_t port);

/* Sends one datagram (copied: data may be reused on return). Datagrams larger
 * than the MTU are fragmented. Returns 0 when the datagram was handed to IP
 * (it may still wait for ARP resolution), or OASIS_EMSGSIZE (over 65507
 * bytes), OASIS_ENOROUTE, OASIS_ENOMEM, OASIS_EAGAIN (ARP queue full). */
int oasis_udp_send(oasis_stack *s, uint16_t src_port, uint32_t dst, uint16_t dst_port,
                   const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
