/* IPv6 (issue 14): addresses of the interface and their configuration,
 * ping over IPv6. Turn IPv6 on with cfg.ipv6 = 1 (stack.h); when the link
 * is attached the stack forms its link-local address (RFC 7217 stable
 * interface identifier), runs Duplicate Address Detection (RFC 4862) on
 * every address, solicits routers and forms addresses from advertised
 * prefixes (SLAAC), answers Neighbour Discovery (RFC 4861), echo requests
 * (RFC 4443) and MLD queries (RFC 3810).
 */
#ifndef OASIS_IPV6_H
#define OASIS_IPV6_H

#include <stddef.h>
#include <stdint.h>

#include "oasis/addr.h"
#include "oasis/icmp.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oasis_stack oasis_stack;

typedef enum oasis_ipv6_addr_state {
    OASIS_IPV6_TENTATIVE = 1, /* DAD running: not used yet */
    OASIS_IPV6_PREFERRED,     /* in use */
    OASIS_IPV6_DEPRECATED,    /* preferred lifetime over: kept for existing traffic */
    OASIS_IPV6_DUPLICATE,     /* DAD found another node using it: never used */
    OASIS_IPV6_REMOVED,       /* (callback only) valid lifetime over, or given up */
} oasis_ipv6_addr_state;

typedef enum oasis_ipv6_addr_origin {
    OASIS_IPV6_LINK_LOCAL = 1, /* fe80::/64, formed by the stack */
    OASIS_IPV6_STATIC,         /* oasis_ipv6_add_addr */
    OASIS_IPV6_SLAAC,          /* from a router's prefix (RFC 4862 5.5.3) */
    OASIS_IPV6_DHCP6,          /* leased by a DHCPv6 server (dhcp6.h), /128 */
} oasis_ipv6_addr_origin;

typedef struct oasis_ipv6_addr_info {
    oasis_ipaddr addr;
    uint8_t prefix_len;
    uint8_t state;               /* oasis_ipv6_addr_state */
    uint8_t origin;              /* oasis_ipv6_addr_origin */
    uint64_t valid_until_ns;     /* stack clock; UINT64_MAX: forever */
    uint64_t preferred_until_ns;
} oasis_ipv6_addr_info;

/* 1 when the stack runs IPv6 (cfg.ipv6), else 0. */
int oasis_ipv6_enabled(const oasis_stack *s);

/* Adds a static address (DAD runs on it once the link is attached, or at
 * once if it is). Returns 0, OASIS_EINVAL (s or addr NULL, IPv6 off, not
 * an address a host may send from: not of the IPv6 family, ::, ::1,
 * multicast, or IPv4-mapped ::ffff:0:0/96, which RFC 6890 2.2.3 allows
 * neither as source nor destination; prefix over 128), OASIS_EADDRINUSE
 * (already there) or OASIS_ENOMEM (no free slot). */
int oasis_ipv6_add_addr(oasis_stack *s, const oasis_ipaddr *addr, uint8_t prefix_len);

/* Copies up to max of the interface's addresses into out; returns how many
 * there are in all. */
size_t oasis_ipv6_addrs(const oasis_stack *s, oasis_ipv6_addr_info *out, size_t max);

/* Called when an address changes state (tentative -> preferred after DAD,
 * -> duplicate, -> deprecated, -> removed). The info is valid during the
 * call only. NULL turns it off. */
typedef void (*oasis_ipv6_addr_cb)(oasis_stack *s, const oasis_ipv6_addr_info *info, void *ud);
void oasis_ipv6_set_addr_cb(oasis_stack *s, oasis_ipv6_addr_cb cb, void *ud);

/* DNS configuration from Router Advertisements (RFC 8106): the recursive
 * DNS servers of RDNSS options and the search domains of DNSSL options,
 * each kept until the lifetime its last RA gave runs out (a lifetime of 0
 * withdraws it). A server must be unicast: multicast, unspecified and
 * loopback addresses are ignored; link-local ones are kept (the stack has
 * one interface, so they need no zone). At most OASIS_IPV6_MAX_DNS_SERVERS
 * servers and OASIS_IPV6_MAX_DNS_DOMAINS domains are kept: when full, a
 * new one takes the place of the one that expires first, if that expires
 * before the new one would. A malformed option (RFC 8106 5.1, 5.2
 * lengths, a DNSSL name that does not decode or holds a byte other than
 * letters, digits, '-' and '_') is ignored on its own and counted
 * (nd.dns_opts_ignored); the RA's other options still apply.
 *
 * The stack does not hand these to a resolver itself: an application
 * gives them to oasis_dns_set_servers_addr (dns.h), after the servers of
 * a DHCP lease, which RFC 8106 5.3.1 says take precedence. */
#define OASIS_IPV6_MAX_DNS_SERVERS 4
#define OASIS_IPV6_MAX_DNS_DOMAINS 4
#define OASIS_IPV6_DNS_NAME_MAX 253
/* The most oasis_ipv6_dns_servers / _domains return: as many from a
 * DHCPv6 client as from RAs (below). */
#define OASIS_IPV6_DNS_SERVERS_LISTED (2 * OASIS_IPV6_MAX_DNS_SERVERS)
#define OASIS_IPV6_DNS_DOMAINS_LISTED (2 * OASIS_IPV6_MAX_DNS_DOMAINS)

typedef enum oasis_ipv6_dns_source {
    OASIS_IPV6_DNS_FROM_RA = 1,   /* RDNSS / DNSSL option of an RA */
    OASIS_IPV6_DNS_FROM_DHCP6,    /* options 23 / 24 of a DHCPv6 Reply (dhcp6.h) */
} oasis_ipv6_dns_source;

typedef struct oasis_ipv6_dns_server {
    oasis_ipaddr addr;
    uint64_t expires_ns;         /* stack clock; UINT64_MAX: infinite (DHCPv6 ones: held
                                  * until the client replaces or drops them) */
    uint8_t source;              /* oasis_ipv6_dns_source */
} oasis_ipv6_dns_server;

typedef struct oasis_ipv6_dns_domain {
    char name[OASIS_IPV6_DNS_NAME_MAX + 1]; /* e.g. "example.com", no final dot */
    uint64_t expires_ns;
    uint8_t source;              /* oasis_ipv6_dns_source */
} oasis_ipv6_dns_domain;

/* Copy up to max entries; return how many there are in all (0 with IPv6
 * off or s NULL). This is the one list for both sources: first those a
 * DHCPv6 client (dhcp6.h) learnt, in the server's order (RFC 8106 5.3.1:
 * DHCP's come first), then the RAs' in the order they were first learnt,
 * an address or name that DHCPv6 gave too left out. At most
 * OASIS_IPV6_MAX_DNS_SERVERS (OASIS_IPV6_MAX_DNS_DOMAINS) of each source. */
size_t oasis_ipv6_dns_servers(const oasis_stack *s, oasis_ipv6_dns_server *out, size_t max);
size_t oasis_ipv6_dns_domains(const oasis_stack *s, oasis_ipv6_dns_domain *out, size_t max);

/* Called once after an RA added or removed servers or domains, when
 * some expired, and when a DHCPv6 client's set changed; not when an RA
 * only renews lifetimes. Read the lists with
 * the two functions above, from inside the callback or later. NULL turns
 * it off. */
typedef void (*oasis_ipv6_dns_cb)(oasis_stack *s, void *ud);
void oasis_ipv6_set_dns_cb(oasis_stack *s, oasis_ipv6_dns_cb cb, void *ud);

/* ---- multicast groups (RFC 4291 2.7, MLDv2: RFC 3810) ---- */

/* Joins the IPv6 multicast group on the link: datagrams to it are then
 * ours (UDP delivers them to the bound port, as any datagram; TCP never
 * takes them), and MLD tells the routers and snooping switches (version
 * 2, or version 1 while an MLDv1 querier is heard: RFC 3810 8). Joins
 * count: a group is left at its last oasis_ipv6_leave. The link-scope
 * all-nodes group ff02::1 is always joined and never reported (RFC 3810
 * 6). Returns 0, OASIS_EINVAL (IPv6 off, not an IPv6 multicast address,
 * or one of scope 0 or 1, which never leaves the node), OASIS_ENOMEM
 * (OASIS_IPV6_APP_GROUPS groups joined already). */
#define OASIS_IPV6_APP_GROUPS 16
int oasis_ipv6_join(oasis_stack *s, const oasis_ipaddr *group);
/* Returns 0, OASIS_EINVAL or OASIS_ENOENT (not joined). */
int oasis_ipv6_leave(oasis_stack *s, const oasis_ipaddr *group);

/* oasis_ping for either family: an IPv6 destination sends an ICMPv6 echo
 * request (RFC 4443 4.1), an IPv4 one calls oasis_ping. OASIS_EUNREACH also
 * when Neighbour Discovery cannot resolve the next hop, or gives up on it
 * when the cache evicts its unresolved entry for another (then from the
 * stack's next poll, never inside the call that evicted). To an IPv6
 * group (ff02::1, say), the first member's reply completes it, and the
 * stack answers its own request (multicast loop); to ff01::/16 the
 * request never leaves the node; to a group of reserved scope 0 it is
 * refused with OASIS_EINVAL (RFC 4291 2.7), and so is an IPv4-mapped
 * IPv6 address (::ffff:0:0/96, no destination: RFC 6890 2.2.3). */
int oasis_ping_addr(oasis_stack *s, const oasis_ipaddr *dst, uint16_t id, uint16_t seq,
                    size_t payload_len, uint64_t timeout_ns, oasis_ping_cb cb, void *ud);

/* Sends len bytes as one IPv6 packet of next header proto to dst from the
 * address the stack selects (fragmented when larger than the MTU). Returns
 * 0, OASIS_EINVAL, OASIS_ENOROUTE (also for ::, and an IPv4-mapped
 * ::ffff:0:0/96, which RFC 6890 2.2.3 allows as no destination),
 * OASIS_EMSGSIZE or OASIS_ENOMEM. */
int oasis_ipv6_send(oasis_stack *s, const oasis_ipaddr *dst, uint8_t proto, const void *data,
                    size_t len);

/* The next hop the stack would send a packet for dst to, without sending
 * anything: dst itself when it is on-link (link-local, multicast, in an
 * on-link prefix of an RA or of a static address, or the target of a
 * redirect), else the default router. Returns 0 (*next_hop set, when not
 * NULL), OASIS_ENOROUTE (off-link and no default router known yet: RFC
 * 4943, nothing is assumed on-link) or OASIS_EINVAL (IPv6 off, s or dst
 * NULL, dst not IPv6). A tool that starts with an off-link destination
 * waits for this to turn 0 as the first RA arrives. */
int oasis_ipv6_route(oasis_stack *s, const oasis_ipaddr *dst, oasis_ipaddr *next_hop);

/* Upper-layer reachability confirmation (RFC 4861 7.3.1): the caller has
 * proof that dst is reachable (TCP saw new data acknowledged, a reply came).
 * The neighbour used as dst's next hop (the router for an off-link
 * destination) becomes REACHABLE again without a probe. Nothing happens
 * for an IPv4 address, with IPv6 off, or when there is no complete
 * neighbour entry (resolution is never skipped). Oasis's TCP confirms by
 * itself; this is for protocols over UDP with their own proof (a reply to
 * a request sent). */
void oasis_ipv6_confirm_reachable(oasis_stack *s, const oasis_ipaddr *dst);

#ifdef __cplusplus
}
#endif
#endif
