/* IPv4: input validation and dispatch, routing, fragmentation on output,
 * reassembly on input. */
#ifndef OASIS_IPV4_H
#define OASIS_IPV4_H

#include "oasis/addr.h"
#include <stddef.h>
#include <stdint.h>

#include "core/hindex.h"
#include "core/pbuf.h"
#include "core/timer.h"
#include "ip/ipv4_wire.h"

typedef struct oasis_stack oasis_stack;
typedef struct oasis_reasm oasis_reasm;
typedef struct oasis_igmp oasis_igmp;

/* IP ID counters, one per hash bucket of (source, destination, protocol)
 * as Linux's ip_idents: a peer sees only its own bucket move, so our IDs
 * reveal nothing about traffic to others (RFC 6864 5.1, idle scans). */
#define OASIS_IP_IDENTS 2048

/* Path MTU cache (pmtu.c, RFC 1191): destinations whose path MTU an ICMP
 * fragmentation-needed lowered below the link's, each until it ages out.
 * Bounded: the oldest entry makes way for a new one. */
#define OASIS_PMTU_ENTRIES 32
typedef struct oasis_pmtu_entry {
    oasis_ipaddr dst;  /* either family (RFC 1191, RFC 8201); family 0: free */
    uint32_t mtu;
    uint64_t expires;  /* stack clock; OASIS_TIMER_NEVER-like UINT64_MAX: never */
} oasis_pmtu_entry;

/* Redirects (redirect.c, RFC 1122 3.2.2.2): destinations a gateway told
 * us to reach through another gateway on our subnet. Bounded: when full,
 * the entry that ages out first makes way. */
#define OASIS_IPV4_REDIRECTS 16
typedef struct oasis_ipv4_redirect {
    uint32_t dst, gw;  /* gw 0: free */
    uint64_t expires;
} oasis_ipv4_redirect;

/* Layer state, embedded in the stack. */
typedef struct oasis_ipv4 {
    uint16_t ident[OASIS_IP_IDENTS];
    uint32_t ident_ms[OASIS_IP_IDENTS]; /* last use of each bucket (ms) */
    /* The last (source, destination, protocol) hashed and its bucket: a
     * flow sends to one peer, so the hash runs once, not per datagram. */
    uint32_t memo_src, memo_dst, memo_bucket;
    uint8_t memo_proto, memo_ok;
    /* The last destination output routed and how (ipv4.c route_of), keyed
     * by all the decision reads: a new address, prefix or gateway is a
     * different key, never a stale answer. */
    uint32_t rt_dst, rt_addr, rt_mask, rt_gw, rt_next_hop;
    uint8_t rt_kind, rt_ok;
    /* Bumped whenever routing may have changed (address, prefix, gateway,
     * link) or a path MTU did (DF: oasis_ipv4_df_ok): transmit caches
     * filled before are stale (never 0). */
    uint32_t rt_gen;
    uint8_t txc_off;          /* test hook: transmit caches unused (slow path only) */
    /* The source the direct path found not martian last, and the address
     * and netmask it judged by (ipv4.c tcp_direct): a flow's datagrams
     * come from one. */
    uint32_t rx_src, rx_addr, rx_mask;
    oasis_hindex reasm;       /* datagrams being reassembled (reasm.c) */
    uint32_t reasm_bytes;
    oasis_timer reasm_timer;
    oasis_pmtu_entry pmtu[OASIS_PMTU_ENTRIES];
    oasis_ipv4_redirect redirects[OASIS_IPV4_REDIRECTS];
    oasis_igmp *igmp;              /* groups joined (igmp.c); NULL until the first join */
    uint8_t redirect_count;        /* entries in use (0: oasis_ipv4_route looks at none) */
    oasis_timer redirect_timer;    /* the first entry to age out */
    uint8_t pmtu_any;              /* an entry was ever written (else no scan: pmtu.c) */
    /* Loopback (loopback.c): datagrams to ourselves, delivered from poll;
     * IPv4 and IPv6 share the queue. */
    oasis_pbuf *loop_head, *loop_tail;
    uint32_t loop_len;
    int loop_draining;
    oasis_timer loop_timer;
} oasis_ipv4;

/* A flow's transmit cache, in the spirit of Linux's dst and hh caches:
 * how datagrams to one destination leave (next hop resolved, Ethernet and
 * IPv4 headers ready, the IP ID bucket), so each one is a copy and a few
 * stores. The transport keeps it in its flow state (zeroed: empty); only
 * ipv4.c reads or writes it. Checked on every use against the generations
 * of the route (ip.rt_gen) and neighbour (arp.gen) tables it came from. */
typedef struct oasis_ipv4_txc {
    uint32_t rt_gen, nb_gen;  /* the tables' generations when filled (0: empty) */
    uint32_t dst;
    uint32_t hsum;            /* sum of the IPv4 header's words in hdr, folded, host order */
    struct oasis_arp_entry *nb; /* the neighbour (NULL: this destination takes the slow path) */
    uint16_t bucket;          /* IP ID bucket of (source, dst, proto) */
    uint8_t proto, ttl;       /* as asked (ttl 0: the stack's) */
    uint32_t src;             /* 0: the stack's address; else a foreign one (a flow of a
                               * transparent stack, cfg.transparent), which the cache
                               * never covers: the slow path sends from it */
    uint8_t hdr[14 + 20];     /* Ethernet header, then IPv4's with TOS, length, ID and
                               * checksum 0 */
} oasis_ipv4_txc;

int oasis_ipv4_init(oasis_stack *s);
void oasis_ipv4_fini(oasis_stack *s);

/* One IPv4 datagram (the Ethernet payload, link padding allowed).
 * link_bcast: the frame was sent to a link broadcast or multicast address,
 * so nothing may answer it with an ICMP error (RFC 1122 3.2.2). */
void oasis_ipv4_input(oasis_stack *s, const uint8_t *pkt, size_t len, int link_bcast);

/* RFC 1122 3.2.1.3: a source address no single host may use (0/8, 127/8,
 * multicast, 240/4, broadcast, our subnet's network and broadcast
 * addresses, our own address). */
int oasis_ipv4_is_martian(const oasis_stack *s, uint32_t src);

/* Sends the transport segment in p (with headroom) from our address to dst.
 * Fragments when it exceeds the MTU and df is 0; with df set and too big:
 * OASIS_EMSGSIZE. Takes ownership of p. Returns 0 (sent or queued for ARP)
 * or an oasis_err. */
int oasis_ipv4_output(oasis_stack *s, oasis_pbuf *p, uint32_t dst, uint8_t proto, int df);
/* The same with the header's TOS byte (Diffserv and ECN) and TTL given by
 * the transport (a flow's own, RFC 9293 3.9.2); ttl 0: cfg.ttl. */
int oasis_ipv4_output_tt(oasis_stack *s, oasis_pbuf *p, uint32_t dst, uint8_t proto, int df,
                         uint8_t tos, uint8_t ttl);
/* The same from src (0: the stack's address, as oasis_ipv4_output_tt): a
 * transparent stack (cfg.transparent) answers from the foreign address a
 * peer sent to. */
/* 1 when addr is a unicast address that is not ours (not 0, ours, a
 * broadcast, multicast or loopback): on a transparent stack
 * (cfg.transparent) one TCP and UDP answer for. */
int oasis_ipv4_foreign(const oasis_stack *s, uint32_t addr);
int oasis_ipv4_output_from(oasis_stack *s, oasis_pbuf *p, uint32_t src, uint32_t dst, uint8_t proto,
                           int df, uint8_t tos, uint8_t ttl);

/* As oasis_ipv4_output (DF clear, TOS 0) with IP options opts (optlen
 * bytes, a multiple of 4, at most 40) after the header. Without options,
 * to a loopback destination, or when the whole would exceed the MTU (the
 * options would have to follow the fragmentation rules) it is sent
 * without them. */
int oasis_ipv4_output_opts(oasis_stack *s, oasis_pbuf *p, uint32_t dst, uint8_t proto,
                           const uint8_t *opts, size_t optlen);
/* As oasis_ipv4_output_opts with the TOS and TTL given (0: the default
 * TTL); optlen 0 sends no options (IGMP: igmp.c). */
int oasis_ipv4_output_ctl(oasis_stack *s, oasis_pbuf *p, uint32_t dst, uint8_t proto, uint8_t tos,
                          uint8_t ttl, const uint8_t *opts, size_t optlen);

/* IPv4 multicast groups (igmp.c). Is group one we take datagrams to
 * (joined, or 224.0.0.1)? */
int oasis_igmp_member(const oasis_stack *s, uint32_t group);
void oasis_igmp_input(oasis_stack *s, const oasis_ipv4_hdr *ip);
/* The link came up: the routers hear of every group again. */
void oasis_igmp_link_up(oasis_stack *s);
void oasis_igmp_fini(oasis_stack *s);
/* As oasis_ipv4_output_tt with DF set, through the flow's transmit cache c
 * (filled here when stale or empty): the same datagram, counters, ID and
 * capture as the slow path, in fewer steps. Destinations it does not
 * cover (loopback, no route, an unresolved neighbour, a datagram needing
 * the slow path's checks) go the slow way. */
int oasis_ipv4_output_cached(oasis_stack *s, oasis_ipv4_txc *c, oasis_pbuf *p, uint32_t dst,
                             uint8_t proto, uint8_t tos, uint8_t ttl);
/* A small datagram without a pbuf: when oasis_ipv4_cached_frame_ok says
 * c sends len transport bytes to dst as one plain frame (c current and
 * covering dst, within the MTU), the transport builds them at frame +
 * sizeof c->hdr of a frame of its own (complete checksum, no offload) and
 * oasis_ipv4_output_frame writes the headers and hands the frame (borrowed)
 * to the link: what oasis_ipv4_output_cached would send, without the
 * pbuf's allocation. lent: the frame is the link's loan (oasis_eth_lend),
 * which this ends (oasis_eth_commit). now_ms: the stack's time in ms
 * (oasis_now / OASIS_NS_PER_MS), which the sending transport has read. */
int oasis_ipv4_cached_frame_ok(oasis_stack *s, oasis_ipv4_txc *c, uint32_t dst, uint8_t proto,
                               uint8_t ttl, size_t len);
int oasis_ipv4_output_frame(oasis_stack *s, oasis_ipv4_txc *c, uint8_t *frame, size_t len,
                            uint8_t tos, int lent, uint32_t now_ms);
/* Both in one call, for a transport that builds its segment first: sends
 * the frame and returns 1 when c covers it, else returns 0 having sent
 * nothing, a loan still outstanding (the caller sends the segment the slow
 * way, after oasis_eth_unlend). c: a connection's own cache that has
 * covered its peer before (c->nb was set), so the destination and protocol
 * it holds are the frame's. */
int oasis_ipv4_try_frame(oasis_stack *s, oasis_ipv4_txc *c, uint8_t ttl, uint8_t *frame,
                         size_t len, uint8_t tos, int lent, uint32_t now_ms);
/* Routing may have changed (address, prefix, gateway, link, path MTU;
 * IPv6's prefixes, routers, redirects, addresses and RA parameters too):
 * every transmit cache, of either family, is stale. */
void oasis_ipv4_route_changed(oasis_stack *s);

/* Next hop for dst (dst itself if on-link, broadcast or multicast, or
 * delivered by loopback: our own address and 127/8; else the gateway a
 * redirect named for dst, else the default gateway); 0 when there is no
 * route: no gateway, dst 0. */
uint32_t oasis_ipv4_route(const oasis_stack *s, uint32_t dst);

/* Redirects (redirect.c). oasis_ipv4_redirect_input takes an ICMP
 * redirect from `from` (code, the gateway it names, the quoted datagram)
 * and returns 1 if it changed the route, 0 if it was ignored. */
void oasis_ipv4_redirect_init(oasis_stack *s);
void oasis_ipv4_redirect_fini(oasis_stack *s);
int oasis_ipv4_redirect_input(oasis_stack *s, uint32_t from, uint8_t code, uint32_t gw,
                              const uint8_t *quote, size_t len);
/* The gateway a redirect named for dst, or 0. */
uint32_t oasis_ipv4_redirected(const oasis_stack *s, uint32_t dst);
/* gw stopped answering ARP: destinations redirected to it go back to the
 * default gateway (RFC 1122 3.3.1.4). */
void oasis_ipv4_redirects_via_lost(oasis_stack *s, uint32_t gw);
/* Our address, prefix, gateway or link changed: every redirect goes. */
void oasis_ipv4_redirects_clear(oasis_stack *s);

/* Loopback (loopback.c). A datagram to our own address or to 127/8 never
 * reaches the link: it is queued and fed to IP input from the next poll
 * (never from inside the output call, so no callback nests in the call
 * that sent). The source of such a datagram is the destination itself for
 * 127/8 (a flow to 127.0.0.5 is 127.0.0.5 <-> 127.0.0.5, ports apart), our
 * address otherwise. */
int oasis_ipv4_is_loopback_dest(const oasis_stack *s, uint32_t dst);
uint32_t oasis_ipv4_source(const oasis_stack *s, uint32_t dst);
/* Takes a whole datagram (header included), IPv4 or IPv6 (ipv6.c queues
 * its own loopback packets here too). Returns 0 or OASIS_EAGAIN (queue
 * full, dropped). */
int oasis_loop_output(oasis_stack *s, oasis_pbuf *p);
void oasis_loop_init(oasis_stack *s);
void oasis_loop_fini(oasis_stack *s);
/* IP input for a datagram that came back through loopback: the checks that
 * keep our own and 127/8 addresses off the wire do not apply. */
void oasis_ipv4_input_loop(oasis_stack *s, const uint8_t *pkt, size_t len);

/* Negative advice (RFC 1122 3.3.1.4): a transport sees no answers from
 * dst (TCP's R1). The neighbour that routes dst is asked again, unicast,
 * whether it is still there (ARP); if it is not, its entry goes and the
 * next datagram resolves it afresh. */
void oasis_ipv4_negative_advice(oasis_stack *s, uint32_t dst);

/* Can a connection (TCP) go to dst? OASIS_EBADDEST for an address that is
 * no single host's (0.0.0.0, broadcast, multicast, 240/4, our subnet's
 * network or broadcast address: RFC 1122 4.2.3.10), OASIS_ENOROUTE when
 * nothing routes it (no address yet, off-link with no gateway), else 0
 * (our own address and 127/8 go through loopback). */
int oasis_ipv4_unicast_dest(const oasis_stack *s, uint32_t dst);

/* Is addr ours, or a broadcast we accept (limited or subnet-directed)? */
int oasis_ipv4_is_local(const oasis_stack *s, uint32_t addr);
int oasis_ipv4_is_broadcast(const oasis_stack *s, uint32_t addr);
/* oasis_ipv4_is_broadcast for a host at `ours` with `netmask`, inline (TCP
 * checks both addresses of every segment): the limited broadcast, or the
 * subnet-directed one, which /31 and /32 lack (RFC 3021). */
static inline int oasis_ipv4_bcast_for(uint32_t addr, uint32_t ours, uint32_t netmask)
{
    return addr == 0xffffffffu || (ours != 0 && netmask < 0xfffffffeu && addr == (ours | ~netmask));
}

/* Hands a complete, validated datagram to its transport (ipv4.c); h->payload
 * must be preceded in memory by the h->hdr_len header bytes, because ICMP
 * errors quote them. */
void oasis_ipv4_deliver(oasis_stack *s, const oasis_ipv4_hdr *h);

/* Path MTU (pmtu.c), for destinations of both families. The MTU of the
 * path to dst: the cached value while it is fresh, else the link's (IPv6:
 * the RA's MTU when it set one). */
uint32_t oasis_pmtu_get(oasis_stack *s, const oasis_ipaddr *dst);
/* When the cached lowered MTU of dst ages out (UINT64_MAX: no entry or
 * never). */
uint64_t oasis_pmtu_expires(oasis_stack *s, const oasis_ipaddr *dst);
/* A fragmentation-needed / Packet Too Big the transport vouched for (RFC
 * 5927): lowers the path MTU of dst to mtu (IPv4: not below 68, RFC 1191
 * 3; IPv6: an MTU below 1280 is discarded, RFC 8201 4). Returns the new
 * path MTU, or 0 when this is no decrease (RFC 1191 6.3, RFC 8201 4:
 * increases are ignored). */
uint32_t oasis_pmtu_lower(oasis_stack *s, const oasis_ipaddr *dst, uint32_t mtu);
/* RFC 1191 7: the MTU to assume when a router reports none (mtu 0): the
 * next plateau below the size of the datagram it refused. */
uint32_t oasis_pmtu_plateau(uint32_t total_len);
/* The smallest path MTU transports size their datagrams for: 576 bytes
 * cross every IPv4 path, in fragments if need be (RFC 791, RFC 1122
 * 3.3.3), while a forged tiny MTU would make a flow send confetti (RFC
 * 5927 7.2). Below it, discovery ends the other way RFC 1191 2 allows:
 * datagrams to dst go without DF and the router fragments them (Linux:
 * min_pmtu locks the route's MTU and clears DF); else they could never
 * fit and discovery would not converge (RFC 1191 3 says it MUST). */
#define OASIS_IPV4_MIN_PMTU 576u
/* 0 when dst's path MTU is below OASIS_IPV4_MIN_PMTU: send without DF. */
int oasis_ipv4_df_ok(oasis_stack *s, uint32_t dst);

/* Reassembly (reasm.c). oasis_reasm_input takes one validated fragment
 * (copied) and delivers the datagram once it is complete. */
void oasis_reasm_init(oasis_stack *s);
void oasis_reasm_fini(oasis_stack *s);
void oasis_reasm_input(oasis_stack *s, const oasis_ipv4_hdr *h);

#endif
