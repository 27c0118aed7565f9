/* IPv4 addresses. (Helpers are named oasis_addr_*, oasis_cidr_*, oasis_netmask:
 * oasis_ipv4_* names belong to the IPv4 layer.)
 *
 * Oasis passes IPv4 addresses as uint32_t in HOST byte order everywhere in
 * its API: 10.0.0.1 is 0x0a000001. OASIS_IPV4(10,0,0,1) builds one.
 */
#ifndef OASIS_IP_H
#define OASIS_IP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OASIS_IPV4(a, b, c, d) \
    ((uint32_t)(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d)))

/* Length of the longest dotted quad plus NUL. */
#define OASIS_IPV4_STRLEN 16

/* Parses a dotted quad ("10.0.0.1"); strict: four decimal parts 0..255,
 * no leading/trailing garbage, no whitespace or signs, and no leading zeros
 * ("01.2.3.4" is refused: inet_aton would read it as octal). Returns 0 or
 * OASIS_EINVAL (also for s or out NULL); *out is untouched on error. */
int oasis_addr_parse(const char *s, uint32_t *out);

/* Formats addr into buf (at least OASIS_IPV4_STRLEN bytes); returns buf
 * (NULL for buf NULL). */
char *oasis_addr_format(uint32_t addr, char *buf);

/* Parses "10.0.0.1/24" into address and prefix length (0..32, decimal, no
 * leading zeros). Host bits are kept. Returns 0 or OASIS_EINVAL (also for
 * a NULL pointer; nothing written). */
int oasis_cidr_parse(const char *s, uint32_t *addr, uint8_t *prefix_len);

/* Netmask for a prefix length (0..32; larger counts as 32), host order. */
uint32_t oasis_netmask(uint8_t prefix_len);

/* Parses "02:00:00:00:00:01" into 6 bytes: exactly six 2-digit hex groups
 * (either case) separated by ':'. Returns 0 or OASIS_EINVAL (also for s or
 * mac NULL; mac untouched). */
int oasis_mac_parse(const char *s, uint8_t mac[6]);


/* ---- Protocol handlers -------------------------------------------------
 *
 * IP hands each datagram to the handler registered for its protocol number
 * (one table per stack; TCP 6, UDP 17 and ICMP 1 are registered by the
 * stack itself). ICMP errors (destination unreachable, time exceeded,
 * parameter problem, source quench) that quote a datagram we sent go to
 * the error hook of the protocol the quoted datagram carried, as Linux's
 * err_handler. A protocol number nobody registered draws an ICMP protocol
 * unreachable. */

typedef struct oasis_stack oasis_stack;

#define OASIS_IP_FAMILY_V4 4
#define OASIS_IP_FAMILY_V6 6

/* One datagram for a protocol handler, valid only during the call. */
typedef struct oasis_ip_packet {
    uint8_t family;             /* OASIS_IP_FAMILY_V4 or _V6 */
    uint8_t proto;              /* IP protocol number (IPv6: next header) */
    uint8_t link_bcast;         /* came to a link broadcast/multicast address */
    uint8_t tclass;             /* IPv4 TOS / IPv6 Traffic Class as received: DSCP << 2,
                                 * the ECN field (RFC 3168) in the low 2 bits */
    uint32_t src, dst;          /* IPv4 addresses, host order (family V4) */
    const uint8_t *src6, *dst6; /* IPv6 addresses, 16 bytes each (family V6) */
    const uint8_t *payload;     /* the transport header and its data */
    size_t len;
    const void *net;            /* the stack's own parse of the IP header */
} oasis_ip_packet;

/* An ICMP error about a datagram we sent, valid only during the call. */
typedef struct oasis_ip_error {
    uint8_t family;             /* of the ICMP message and the quoted datagram */
    uint8_t type, code;         /* ICMP type and code as received */
    uint8_t proto;              /* protocol of the quoted datagram */
    uint32_t info;              /* ICMP bytes 4..7 (parameter problem: pointer << 24) */
    uint32_t mtu;               /* fragmentation needed / Packet Too Big: the next-hop MTU
                                 * (RFC 1191, RFC 8201); from a router that gave none (0,
                                 * or not below the refused datagram) the RFC 1191 plateau
                                 * estimate; 0 for other errors */
    uint32_t reporter;          /* who sent the ICMP message (family V4) */
    uint32_t src, dst;          /* the quoted datagram's source (us) and destination (V4) */
    const uint8_t *src6, *dst6, *reporter6; /* the same for family V6 */
    const uint8_t *quote;       /* the quoted transport header onwards */
    size_t quote_len;           /* at least 8 */
} oasis_ip_error;

typedef void (*oasis_ip_input_fn)(oasis_stack *s, const oasis_ip_packet *pkt, void *ud);
typedef void (*oasis_ip_error_fn)(oasis_stack *s, const oasis_ip_error *err, void *ud);

/* Registers the handler of protocol number proto on stack s (the stack's
 * own are TCP 6, UDP 17, ICMP 1 and IGMP 2): input gets every complete
 * (reassembled) datagram for it addressed to us, error
 * (may be NULL) every ICMP error quoting one of its datagrams. Returns 0,
 * OASIS_EINVAL (no stack or no input), OASIS_EADDRINUSE (proto already has
 * a handler) or OASIS_ENOMEM (the table is full: OASIS_IP_MAX_PROTOS). */
#define OASIS_IP_MAX_PROTOS 12
int oasis_ip_register(oasis_stack *s, uint8_t proto, oasis_ip_input_fn input,
                      oasis_ip_error_fn error, void *ud);

/* Removes proto's handler: its datagrams draw protocol unreachables again.
 * Returns 0 or OASIS_ENOENT. */
int oasis_ip_unregister(oasis_stack *s, uint8_t proto);

/* Sends len bytes as the payload of one IPv4 datagram of protocol proto
 * from our address to dst (fragmented if larger than the MTU, unless df).
 * Returns 0, OASIS_ENOROUTE, OASIS_EMSGSIZE, OASIS_ENOMEM or OASIS_EINVAL. */
int oasis_ip_send(oasis_stack *s, uint32_t dst, uint8_t proto, const void *data, size_t len,
                  int df);

/* ---- IPv4 multicast (RFC 1112 level 2, RFC 1122 3.3.7) ---- */

/* Joins the multicast group (224.0.0.0/4) on the link: datagrams to it
 * are then ours (UDP delivers them to the bound port, as any datagram;
 * TCP never takes them), and IGMP tells the routers (RFC 9776, version 3,
 * falling back to version 2 or 1 while an older querier is heard). Joins
 * count: a group is left at its last oasis_ipv4_leave. 224.0.0.1 (all
 * systems) is always joined. Returns 0, OASIS_EINVAL (not a multicast
 * address), OASIS_ENOMEM (OASIS_IGMP_GROUPS groups joined already, or
 * out of memory). */
#define OASIS_IGMP_GROUPS 32
int oasis_ipv4_join(oasis_stack *s, uint32_t group);
/* Returns 0, OASIS_EINVAL or OASIS_ENOENT (not joined). */
int oasis_ipv4_leave(oasis_stack *s, uint32_t group);

#ifdef __cplusplus
}
#endif
#endif
