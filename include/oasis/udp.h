/* UDP over IPv4 and IPv6: bind a port with a receive callback, send
 * datagrams. Addresses are oasis_ipaddr (addr.h) of either family; the
 * IPv4-only forms (suffix 4) take host-order uint32_t as ip.h does. */
#ifndef OASIS_UDP_H
#define OASIS_UDP_H

#include <stddef.h>
#include <stdint.h>

#include "oasis/addr.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oasis_stack oasis_stack;

/* Called for each datagram that arrives on a bound port; src and dst are of
 * the datagram's family (dst may be a broadcast or multicast address).
 * Everything passed is borrowed: valid only until the callback returns. */
typedef void (*oasis_udp_recv_cb)(oasis_stack *s, const oasis_ipaddr *src, uint16_t src_port,
                                  const oasis_ipaddr *dst, uint16_t dst_port, const uint8_t *data,
                                  size_t len, void *ud);

/* Binds a local port for both families. Returns 0, OASIS_EADDRINUSE,
 * OASIS_EINVAL (port 0 or no callback) or OASIS_ENOMEM. Datagrams to
 * unbound ports are answered with ICMP / ICMPv6 port unreachable. */
int oasis_udp_bind(oasis_stack *s, uint16_t port, oasis_udp_recv_cb cb, void *ud);

/* A transparent stack's bind (oasis_stack_config.transparent; OASIS_EINVAL
 * on another): port takes datagrams to any unicast address, not only the
 * stack's own, and the callback's dst says which (answer from it with
 * oasis_udp_send_from). Port 0: every port no other bind takes (an
 * ordinary bind takes only the stack's own addresses), so that one bind
 * sees every datagram, as a tun2socks program wants. A datagram to a
 * foreign address that no bind takes is dropped (counted in no_ports)
 * without an ICMP error: one would come from the stack's own address.
 * ICMP errors about what it sent from a foreign address (an unreachable,
 * a Packet Too Big) come to the bind that takes datagrams at that address
 * and port, through oasis_udp_set_error_cb (port 0 for the bind of every
 * port); oasis_udp_error.src names the address. */
int oasis_udp_bind_transparent(oasis_stack *s, uint16_t port, oasis_udp_recv_cb cb, void *ud);

/* Unbinds; returns OASIS_ENOENT if the port was not bound. */
int oasis_udp_unbind(oasis_stack *s, uint16_t port);

/* Sends one datagram to dst (either family; copied: data may be reused on
 * return). Datagrams larger than the MTU are fragmented. Over IPv6 the
 * checksum is always sent (RFC 8200 8.1). A datagram to the subnet
 * broadcast or 255.255.255.255 also reaches the stack's own port dst_port
 * (as on Linux: a broadcast is addressed to the sender's host too), from
 * the stack's poll, never inside the call, whatever
 * oasis_udp_set_multicast_loop says. Returns 0 when the datagram was
 * handed to IP (it may still wait for address resolution), or OASIS_EINVAL,
 * OASIS_EMSGSIZE (over 65507 bytes for IPv4, 65527 for IPv6),
 * OASIS_ENOROUTE (also: IPv6 off, no usable IPv6 source address yet, or
 * an IPv4-mapped IPv6 address ::ffff:a.b.c.d of family OASIS_AF_INET6,
 * which RFC 6890 2.2.3 allows as no destination: send the OASIS_AF_INET
 * address),
 * OASIS_ENOMEM, OASIS_EAGAIN (resolution queue full). */
int oasis_udp_send(oasis_stack *s, uint16_t src_port, const oasis_ipaddr *dst, uint16_t dst_port,
                   const void *data, size_t len);

/* oasis_udp_send from the local address src (RFC 1122 4.1.3.5): e.g. a
 * server answering from the address a request came to (the receive
 * callback's dst). src NULL or unspecified (0.0.0.0, ::): the stack picks,
 * as oasis_udp_send. Otherwise src must be of dst's family and ours: for
 * IPv4 the address the stack sends to dst from (its one address; for
 * 127/8, dst's own), for IPv6 one of its addresses past Duplicate Address
 * Detection (link-local, SLAAC or static; deprecated allowed); on a
 * transparent stack (oasis_stack_config.transparent) also any unicast
 * address that is not ours, not loopback and, for IPv6, not link-local:
 * a foreign address a datagram came to. Returns as
 * oasis_udp_send, or OASIS_EADDRNOTAVAIL (src is not such an address,
 * e.g. a multicast dst a request came to, a tentative or removed address;
 * nothing is sent), OASIS_EINVAL (families differ). */
int oasis_udp_send_from(oasis_stack *s, const oasis_ipaddr *src, uint16_t src_port,
                        const oasis_ipaddr *dst, uint16_t dst_port, const void *data, size_t len);

/* An ICMP or ICMPv6 error quoting a datagram sent from a bound port
 * (RFC 1122 4.1.3.3: UDP passes them up). err: OASIS_EREFUSED (port
 * unreachable), OASIS_EPROTOUNREACH, OASIS_ENETUNREACH, OASIS_EHOSTUNREACH
 * (other unreachables, time exceeded), OASIS_EMSGSIZE (fragmentation
 * needed / Packet Too Big; mtu is the reported MTU), OASIS_EMALFORMED
 * (parameter problem). A datagram whose next hop did not resolve (ARP or
 * Neighbour Discovery gave up) is reported the same way, as a destination
 * unreachable from our own address (reporter): OASIS_EHOSTUNREACH, ICMP
 * type 3 code 1 for IPv4, ICMPv6 type 1 code 3 (RFC 4861 7.2.2). Valid
 * during the callback only. */
typedef struct oasis_udp_error {
    int err;
    uint8_t family;             /* OASIS_AF_INET or OASIS_AF_INET6 */
    uint8_t type, code;         /* the ICMP message's */
    uint32_t mtu;
    uint16_t src_port;          /* ours */
    oasis_ipaddr dst;           /* where the quoted datagram went */
    uint16_t dst_port;
    oasis_ipaddr reporter;      /* who sent the error */
    oasis_ipaddr src;           /* where the quoted datagram came from: our
                                   address, or on a transparent stack the
                                   foreign one it was sent from */
} oasis_udp_error;
typedef void (*oasis_udp_error_cb)(oasis_stack *s, const oasis_udp_error *e, void *ud);

/* Sets the error callback of a bound port (it gets the bind's ud); NULL
 * turns it off (the default: errors are counted and dropped). Returns 0,
 * OASIS_EINVAL or OASIS_ENOENT (port not bound). */
int oasis_udp_set_error_cb(oasis_stack *s, uint16_t port, oasis_udp_error_cb cb);

/* The IPv4 TTL or IPv6 hop limit of the datagrams a bound port sends to
 * multicast groups (1..255; 0 restores the default). The default is 1:
 * a group datagram stays on the link unless the application says
 * otherwise (RFC 1112 6.1; RFC 3493 5.2's IPV6_MULTICAST_HOPS). Unicast
 * datagrams keep cfg.ttl / cfg.hop_limit. Returns 0, OASIS_EINVAL or
 * OASIS_ENOENT (port not bound). */
int oasis_udp_set_multicast_hops(oasis_stack *s, uint16_t port, uint8_t hops);

/* Whether a bound port's datagrams to a group this stack has joined
 * (oasis_ipv4_join; oasis_ipv6_join, and ff02::1, always joined) are also
 * delivered to the stack's own members: on by default, as RFC 1112 6.1
 * asks ("a copy of the outgoing datagram must be looped-back for local
 * delivery, unless inhibited by the sender") and as RFC 3493 5.2's
 * IPV6_MULTICAST_LOOP defaults. The copy arrives from the stack's poll,
 * never inside the send call, with the datagram's own source address.
 * Returns 0, OASIS_EINVAL or OASIS_ENOENT (port not bound). */
int oasis_udp_set_multicast_loop(oasis_stack *s, uint16_t port, int on);

/* ---- IPv4-only forms (host-order addresses) ---- */

typedef void (*oasis_udp_recv4_cb)(oasis_stack *s, uint32_t src, uint16_t src_port, uint32_t dst,
                                   uint16_t dst_port, const uint8_t *data, size_t len, void *ud);

/* Binds a port for IPv4 only: IPv6 datagrams to it are treated as to an
 * unbound port. Returns as oasis_udp_bind. */
int oasis_udp_bind4(oasis_stack *s, uint16_t port, oasis_udp_recv4_cb cb, void *ud);

/* oasis_udp_send to the IPv4 address dst. */
int oasis_udp_send4(oasis_stack *s, uint16_t src_port, uint32_t dst, uint16_t dst_port,
                    const void *data, size_t len);

/* ---- IPv4 options (RFC 1122 4.1.3.2) ---- */

/* Inside a receive callback: the IP options of the IPv4 datagram being
 * delivered, as they arrived (*len bytes, EOL padding included). NULL
 * with *len 0 when it had none, for IPv6, or outside a receive callback.
 * Valid until the callback returns. (Source-routed datagrams never get
 * here: IPv4 drops them.) */
const uint8_t *oasis_udp_rx_options(const oasis_stack *s, size_t *len);

/* oasis_udp_send4 with the IPv4 options opts (optlen bytes, at most 40;
 * padded with EOL to a multiple of 4) in the datagram's header. They must
 * be well formed (RFC 791: EOL, NOP, or type, length >= 2, value within
 * the list), else OASIS_EINVAL; a source route (LSRR, SSRR) is
 * OASIS_ENOTSUP. A datagram with options is never fragmented: larger than
 * the path MTU with them, it is OASIS_EMSGSIZE. To a loopback destination
 * (our address, 127/8), or while the stack has no address, it goes
 * without them. optlen 0 is oasis_udp_send4. Otherwise returns as
 * oasis_udp_send. */
int oasis_udp_send4_opts(oasis_stack *s, uint16_t src_port, uint32_t dst, uint16_t dst_port,
                         const uint8_t *opts, size_t optlen, const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
