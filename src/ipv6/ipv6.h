/* IPv6 layer state and internal API: input/output (ipv6.c), reassembly
 * (reasm6.c), ICMPv6 (icmp6.c), Neighbour Discovery (nd.c), addresses, DAD,
 * SLAAC (addrconf.c), MLD (mld.c). One oasis_ipv6 per stack, allocated when the
 * stack is created; it owns every piece of IPv6 state. */
#ifndef OASIS_IPV6_LAYER_H
#define OASIS_IPV6_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "core/hindex.h"
#include "core/pbuf.h"
#include "core/timer.h"
#include "ipv6/ipv6_wire.h"
#include "oasis/ip.h"
#include "oasis/ipv6.h"

typedef struct oasis_stack oasis_stack;
typedef struct oasis_reasm6 oasis_reasm6;
typedef struct oasis_ping6_req oasis_ping6_req;

#define OASIS_IPV6_MAX_ADDRS 8
#define OASIS_IPV6_MAX_ROUTERS 4
#define OASIS_IPV6_MAX_PREFIXES 8
/* Groups an MLD report may name: solicited-node ones, the application's. */
#define OASIS_IPV6_MAX_GROUPS (OASIS_IPV6_MAX_ADDRS + OASIS_IPV6_APP_GROUPS)
/* Fragments held for one datagram. Senders cut to the path MTU, never
 * below 1280 (RFC 8200 5): 65535 bytes then take at most 54 fragments. */
#define OASIS_IPV6_REASM_MAX_FRAGS 64
#define OASIS_IPV6_LABEL_TUPLE 37 /* source, destination, protocol, ports */

/* RFC 4861 10 and RFC 4862 5.5.3 constants. */
#define ND_MAX_MULTICAST_SOLICIT 3
#define ND_MAX_UNICAST_SOLICIT 3
#define ND_REACHABLE_TIME_NS (30ull * 1000000000ull)
#define ND_RETRANS_TIMER_NS (1ull * 1000000000ull)
#define ND_DELAY_FIRST_PROBE_NS (5ull * 1000000000ull)
#define ND_MAX_RTR_SOLICITATION_DELAY_NS (1ull * 1000000000ull)
#define ND_RTR_SOLICITATION_INTERVAL_NS (4ull * 1000000000ull)
#define ND_MAX_RTR_SOLICITATIONS 3
#define ND_TWO_HOURS_NS (7200ull * 1000000000ull)
/* Bounds on an RA's Reachable Time and Retrans Timer (nd.c ra_input). */
#define ND_RA_TIMER_MAX_MS 3600000u /* RFC 4861 6.2.1 MAX (1 h) */
#define ND_RA_REACHABLE_MIN_MS 100u
#define ND_RA_RETRANS_MIN_MS 10u
/* ReachableTime is drawn again at least this often (RFC 4861 6.3.4). */
#define ND_REACHABLE_REDRAW_NS (3600ull * 1000000000ull)
#define IDGEN_RETRIES 3 /* RFC 7217 6 */
/* A neighbour entry something was sent through this recently is in
 * active use: an entry learnt from a message nobody asked for (an NS, RS,
 * RA or redirect from a new source) never takes its slot (nd.c). As long
 * as Linux's gc_stale_time, and ARP's cache lifetime. */
#define ND_IN_USE_NS (60ull * 1000000000ull)
/* Entries a learnt neighbour looks at for a slot to take: bounded work
 * per message, whatever the cache size. */
#define ND_UNSOLICITED_LOOK 8

typedef struct ip6_addr {
    oasis_in6 a;
    uint8_t plen;
    uint8_t state;        /* oasis_ipv6_addr_state; 0: slot free */
    uint8_t origin;       /* oasis_ipv6_addr_origin */
    uint8_t dad_sent;     /* DAD solicitations sent so far */
    uint8_t dad_counter;  /* RFC 7217 DAD_Counter */
    uint64_t valid_until, preferred_until; /* UINT64_MAX: infinite */
    oasis_timer timer;    /* DAD, then the lifetimes */
} ip6_addr;

typedef enum { NEIGH_INCOMPLETE = 1, NEIGH_REACHABLE, NEIGH_STALE, NEIGH_DELAY, NEIGH_PROBE } neigh_state;

typedef struct ip6_neigh ip6_neigh;
struct ip6_neigh {
    oasis_in6 ip;
    uint8_t mac[6];
    uint8_t state;        /* neigh_state; 0: slot free */
    uint8_t is_router;
    uint8_t probes;
    uint64_t used;        /* last packet sent through it; 0: none yet */
    oasis_timer timer;
    oasis_pbuf *q_head, *q_tail; /* waiting for resolution */
    uint32_t qlen;
    ip6_neigh *hnext;     /* its hash chain; free: the free list */
    oasis_alink use;      /* in its use list (oasis_ipv6 nd_use) */
};

typedef struct ip6_router {
    oasis_in6 ip;
    uint64_t expires;     /* 0: slot free */
} ip6_router;

typedef struct ip6_prefix {
    oasis_in6 prefix;
    uint8_t plen;
    uint64_t expires;     /* 0: slot free; UINT64_MAX infinite */
} ip6_prefix;

/* A redirect's word (RFC 4861 8.3): dst is better reached through hop. */
#define OASIS_IPV6_MAX_REDIRECTS 16
typedef struct ip6_redirect {
    oasis_in6 dst, hop;
    uint8_t used;
} ip6_redirect;

/* A group the application joined (oasis_ipv6_join); refs 0: slot free. */
typedef struct ip6_group {
    oasis_in6 g;
    uint32_t refs;
} ip6_group;

/* MLD (mld.c): one named deadline per purpose, never one field for two.
 * A group's slot lives while it is listened to, and after it is left
 * until its TO_INCLUDE {} has gone out Robustness times. 0: no deadline. */
/* Sources a pending answer to Multicast Address and Source Specific
 * Queries keeps per group (RFC 3810 6.2 rules 3, 5); past them the answer
 * is the group's whole state (IS_EXCLUDE {}), which covers them. */
#define OASIS_MLD_QUERY_SOURCES 8

typedef struct ip6_mld_group {
    oasis_in6 g;
    oasis_in6 src[OASIS_MLD_QUERY_SOURCES]; /* the sources asked about (report_at) */
    uint8_t nsrc;       /* 0: the answer is about the whole group */
    uint8_t used;       /* slot taken */
    uint8_t held;       /* listened to now; 0: left, the leave still going out */
    uint8_t changes;    /* state-change reports still to send for it (RFC 3810 6.1) */
    uint8_t v1_last;    /* ours was the last Report for it (RFC 2710 4's flag) */
    uint64_t report_at; /* the answer to a query about it (MLDv1: any query) */
} ip6_mld_group;

typedef struct ip6_mld {
    ip6_mld_group g[OASIS_IPV6_MAX_GROUPS];
    uint64_t general_at; /* MLDv2: the answer to a general query (RFC 3810 6.2) */
    uint64_t change_at;  /* the next state-change retransmission (RFC 3810 6.1) */
    uint64_t v1_until;   /* MLDv1 compatibility mode until then (RFC 3810 8.2.1: the
                            Older Version Querier Present timer); 0: MLDv2 */
    oasis_timer timer;   /* at the earliest deadline above */
} ip6_mld;

/* DNS configuration an RA gave (RFC 8106; ra_dns.c). */
typedef struct ip6_dns_server {
    oasis_in6 addr;
    uint64_t expires;     /* 0: slot free; UINT64_MAX infinite */
} ip6_dns_server;

typedef struct ip6_dns_domain {
    char name[OASIS_IPV6_DNS_NAME_MAX + 1];
    uint64_t expires;     /* 0: slot free; UINT64_MAX infinite */
} ip6_dns_domain;

typedef struct oasis_ipv6 {
    int on;               /* cfg.ipv6 */
    int started;          /* the link came up: addresses configured */
    uint32_t link_mtu;    /* an RA's MTU option (RFC 4861 6.3.4), 0: none; it only
                           * lowers s->mtu, which is read afresh (oasis_stack_set_mtu
                           * may change it: RFC 8201 3, the first hop's MTU) */
    uint8_t cur_hop_limit;
    uint64_t base_reachable_ns, reachable_ns, retrans_ns;
    uint64_t reachable_drawn; /* when reachable_ns was drawn */
    uint8_t iid_key[16];
    /* RFC 6437 flow labels: the key, and the tuple labelled last with its
     * label (a flow's packets come in runs: one hash a run, not a packet) */
    uint8_t label_key[16];
    uint8_t label_tuple[OASIS_IPV6_LABEL_TUPLE];
    uint32_t label_last; /* 0: nothing memoised */

    ip6_addr addrs[OASIS_IPV6_MAX_ADDRS];
    /* The addresses of the last TCP datagram to a unicast address the
     * general path delivered: the destination passed accept_header, the
     * source from_ourselves, against the addresses as they were at rx_gen
     * (ip.rt_gen, which every change of an address's state moves). Until it
     * moves, tcp_direct6 takes datagrams between the same two addresses
     * without scanning the table again. */
    uint8_t rx_src[16], rx_dst[16];
    uint32_t rx_gen; /* 0: nothing remembered (ip.rt_gen is never 0) */
    oasis_ipv6_addr_cb addr_cb;
    void *addr_cb_ud;

    ip6_neigh *neigh;     /* cfg.nd_cache_size slots */
    uint32_t nneigh;
    /* The cache's index (nd.c alone keeps it): hash chains by address,
     * keyed so a sender cannot aim its addresses at one chain; the free
     * slots; the INCOMPLETE entries ([0]) and the resolved ones ([1]) each
     * in order of use, which eviction takes from. */
    ip6_neigh **nd_chain;
    uint32_t nd_chains;   /* a power of two */
    uint8_t nd_key[16];
    ip6_neigh *nd_free;
    /* Entries of one kind in order of last use, least recent first:
     * entries never used first of all, and one that changes kind joins its
     * new list as the newest. */
    oasis_alist nd_use[2];
    /* While ns_input answers a neighbour it had no room to cache: the
     * link-layer address the answer goes to (oasis_nd_output); else NULL. */
    const uint8_t *nd_reply_mac;
    oasis_in6 nd_reply_ip;
    uint32_t nd_gen;      /* never 0; changes when an entry is freed, resolved or
                           * made INCOMPLETE, or changes its link-layer address:
                           * what a transmit cache (oasis_ipv6_txc) took from the
                           * cache (nd.c nd_changed) */
    uint32_t queued;      /* packets waiting, all entries */

    ip6_router routers[OASIS_IPV6_MAX_ROUTERS];
    uint32_t router_turn, router_last; /* 6.3.6 round-robin: slot asked next, slot last sent to */
    ip6_prefix prefixes[OASIS_IPV6_MAX_PREFIXES];
    ip6_redirect redirects[OASIS_IPV6_MAX_REDIRECTS]; /* destination cache */
    uint32_t redirect_next;  /* slot replaced next when full */
    oasis_timer lists_timer; /* router and prefix expiry */
    ip6_dns_server dns_servers[OASIS_IPV6_MAX_DNS_SERVERS]; /* in the order learnt */
    ip6_dns_domain dns_domains[OASIS_IPV6_MAX_DNS_DOMAINS];
    oasis_timer dns_timer;   /* their expiry */
    /* DNS configuration a DHCPv6 client gave (ra_dns.c owns the merged
     * view; expires 0: slot free, else UINT64_MAX). */
    ip6_dns_server dhcp6_servers[OASIS_IPV6_MAX_DNS_SERVERS];
    ip6_dns_domain dhcp6_domains[OASIS_IPV6_MAX_DNS_DOMAINS];
    oasis_ipv6_dns_cb dns_cb;
    void *dns_cb_ud;

    int rs_sent;          /* router solicitations sent */
    int ra_seen;
    uint8_t ra_flags;     /* M (0x80) and O (0x40) of the last RA taken */
    /* The DHCPv6 client's hooks (dhcp6.c; one client per stack): RAs
     * taken, and state changes of the addresses of origin DHCP6. */
    struct {
        void (*ra)(oasis_stack *s, void *ud, uint8_t flags);
        void (*addr)(oasis_stack *s, void *ud, const oasis_in6 *a, uint8_t state);
        void *ud;
    } dhcp6;
    oasis_timer rs_timer;

    ip6_group app_groups[OASIS_IPV6_APP_GROUPS];
    ip6_mld mld;

    /* reassembly */
    oasis_hindex reasm;   /* datagrams being reassembled (reasm6.c) */
    uint32_t reasm_bytes;
    oasis_timer reasm_timer;

    /* ICMPv6 */
    double tokens;
    uint64_t tokens_at;
    oasis_ping6_req *pings;
    oasis_timer doomed_timer; /* fails pings marked by oasis_icmp6_neighbour_evicted */
    int closed;
} oasis_ipv6;

int oasis_ipv6_init(oasis_stack *s);
void oasis_ipv6_fini(oasis_stack *s);
/* The link is attached: form the link-local address, start DAD for every
 * address, solicit routers. */
void oasis_ipv6_link_up(oasis_stack *s);
/* IPv6's link MTU: the stack's (oasis_stack_set_mtu), lowered by an RA's
 * MTU option. */
uint32_t oasis_ipv6_link_mtu(const oasis_stack *s);

/* One IPv6 packet (Ethernet payload); link_mcast: the frame went to a
 * link-layer multicast or broadcast address. */
void oasis_ipv6_input(oasis_stack *s, const uint8_t *pkt, size_t len, int link_mcast);

/* A reassembled datagram, its fragment header gone: the
 * whole chain is walked again; another fragment header is an error. */
void oasis_ipv6_input_whole(oasis_stack *s, const uint8_t *pkt, size_t len, int link_mcast);

/* Sends the upper-layer data in p (headroom for 40 + 8 + 14 bytes) from src
 * (NULL: chosen for dst) to dst. hop_limit 0: the default. Fragments when
 * larger than the MTU. Takes p. Returns 0 or an oasis_err. */
int oasis_ipv6_output(oasis_stack *s, oasis_pbuf *p, const oasis_in6 *src, const oasis_in6 *dst,
                      uint8_t proto, uint8_t hop_limit);
/* The same with a Traffic Class (DSCP << 2 | ECN, RFC 8200 7; TCP's per-flow
 * DSCP and ECT mark). */
int oasis_ipv6_output_tc(oasis_stack *s, oasis_pbuf *p, const oasis_in6 *src, const oasis_in6 *dst,
                         uint8_t proto, uint8_t hop_limit, uint8_t tclass);
/* The same with a pre-built Hop-by-Hop header (MLD's Router Alert). */
int oasis_ipv6_output_hbh(oasis_stack *s, oasis_pbuf *p, const oasis_in6 *src,
                          const oasis_in6 *dst, uint8_t proto, uint8_t hop_limit,
                          uint8_t tclass, const uint8_t *hbh, size_t hbh_len);

/* A flow's IPv6 transmit cache, as IPv4's oasis_ipv4_txc: how its packets
 * leave (next hop and neighbour resolved, path MTU, flow label, Ethernet
 * and IPv6 headers ready), so each is a copy and three stores instead of
 * a next-hop choice, a neighbour-cache scan and a header built field by
 * field. The transport keeps it zeroed (empty) in its flow state; only
 * ipv6.c reads or writes it. It holds for one source, destination,
 * protocol and port pair, the flow's, and is checked on every use against
 * the generations of the routing state (ip.rt_gen, which IPv6's prefixes,
 * routers, redirects, addresses, RA parameters and path MTUs move too)
 * and of the neighbour cache (ip6->nd_gen). */
typedef struct oasis_ipv6_txc {
    uint32_t rt_gen, nb_gen;  /* the generations when filled (0: empty) */
    ip6_neigh *nb;            /* the next hop's entry (NULL: the slow path's) */
    uint32_t mtu;             /* the path MTU when filled */
    uint8_t hop;              /* the hop limit asked (0: the stack's) */
    uint8_t hdr[14 + 40];     /* Ethernet header, then IPv6's with Traffic
                               * Class and Payload Length 0 */
} oasis_ipv6_txc;

/* 1 when c (a flow's own: src, dst, proto and ports never change) sends a
 * packet of l4len transport bytes as oasis_ipv6_output_tc would, without
 * fragments; else 0 (loopback, multicast, an IP link, no route, a next hop
 * not resolved, larger than the path MTU, caches off): the slow path's.
 * Refills c when stale. src, dst: 16 bytes each. */
int oasis_ipv6_txc_ready(oasis_stack *s, oasis_ipv6_txc *c, const uint8_t *src,
                         const uint8_t *dst, uint8_t proto, uint16_t sport, uint16_t dport,
                         uint8_t hop, size_t l4len);
/* After oasis_ipv6_txc_ready said 1: writes c's headers at frame (the
 * transport's bytes at frame + sizeof c->hdr, checksum complete), counts
 * the packet sent and hands the frame to the link: borrowed, or the
 * link's loan when lent (oasis_eth_lend; this ends it). */
int oasis_ipv6_output_frame(oasis_stack *s, oasis_ipv6_txc *c, uint8_t *frame, size_t l4len,
                            uint8_t tclass, int lent);
/* The same for a pbuf (a super-segment, a partial checksum, or a packet
 * too long for the transport's frame): through c when it covers p, else
 * by oasis_ipv6_output_tc. Takes p. */
int oasis_ipv6_output_cached(oasis_stack *s, oasis_ipv6_txc *c, oasis_pbuf *p, const uint8_t *src,
                             const uint8_t *dst, uint8_t proto, uint16_t sport, uint16_t dport,
                             uint8_t hop, uint8_t tclass);

/* RFC 6437 3: the flow label of the packets from src:sport to dst:dport
 * of proto, the same for all of them and drawn (appendix A) as a keyed
 * hash of that tuple, so that nothing off the host can predict it and no
 * state is needed (a SYN cookie's SYN-ACK, a RST and the flow's own
 * segments agree). Never 0 (RFC 6437 2: 0 marks unlabelled packets). */
uint32_t oasis_ipv6_flow_label(oasis_stack *s, const oasis_in6 *src, const oasis_in6 *dst,
                               uint8_t proto, uint16_t sport, uint16_t dport);
/* Source address for dst (RFC 6724 in short: link-local for link-local and
 * link-scope multicast destinations, else the preferred global address
 * sharing the longest prefix, else any usable one). 0 or OASIS_ENOROUTE. */
int oasis_ipv6_select_src(const oasis_stack *s, const oasis_in6 *dst, oasis_in6 *out);

/* Loopback (the queue is ip/loopback.c's): is dst ::1 or one of our
 * unicast addresses past DAD (RFC 4862 5.4: a tentative one is not ours
 * yet)? Packets to it never reach the link: oasis_ipv6_output queues them
 * and they come back through oasis_ipv6_input_loop from the next poll,
 * never inside the call that sent. */
int oasis_ipv6_is_loopback_dest(oasis_stack *s, const oasis_in6 *dst);
void oasis_ipv6_input_loop(oasis_stack *s, const uint8_t *pkt, size_t len);
/* May a packet to dst go from src: one of our addresses past DAD, or ::1
 * towards a loopback destination (RFC 4291 2.5.3: ::1 never on a link)?
 * 1 or 0; 0 with IPv6 off. */
int oasis_ipv6_src_ok(oasis_stack *s, const oasis_in6 *src, const oasis_in6 *dst);

/* Did the application join g (oasis_ipv6_join)? */
int oasis_ipv6_app_member(const oasis_stack *s, const oasis_in6 *g);

/* Is a one of our unicast addresses (tentative: those count only when
 * tentative_ok), or a multicast group we listen to? */
ip6_addr *oasis_ipv6_find_addr(oasis_stack *s, const oasis_in6 *a);
/* 1 when dst (IPv6) is no address of ours, ::1 or a group: on a
 * transparent stack (cfg.transparent) a foreign one TCP may answer for. */
int oasis_ipv6_foreign(oasis_stack *s, const oasis_ipaddr *dst);
int oasis_ipv6_is_our_group(const oasis_stack *s, const oasis_in6 *g);
/* Those and ff01::1: the groups the loopback queue delivers. */
int oasis_ipv6_is_node_group(const oasis_stack *s, const oasis_in6 *g);
/* May a flow send from a (ours, past DAD: RFC 4862 5.4 forbids a tentative
 * source; deprecated allowed)? And do we hold a at all (tentative
 * included, duplicates not)? 1 or 0; 0 with IPv6 off. */
int oasis_ipv6_src_usable(oasis_stack *s, const oasis_in6 *a);
int oasis_ipv6_holds(oasis_stack *s, const oasis_in6 *a);
/* Do Ethernet frames to 33:33:low[0..3] carry one of those groups? */
int oasis_ipv6_wants_mac(const oasis_stack *s, const uint8_t low[4]);

/* reasm6.c */
void oasis_reasm6_init(oasis_stack *s);
void oasis_reasm6_fini(oasis_stack *s);
/* One fragment (pkt: the whole packet; w: its walk, which stopped at the
 * fragment header). */
void oasis_reasm6_input(oasis_stack *s, const uint8_t *pkt, size_t len, const oasis_ipv6_walk *w,
                        int link_mcast);

/* icmp6.c */
int oasis_icmp6_init(oasis_stack *s);
void oasis_icmp6_fini(oasis_stack *s);
/* Sends an ICMPv6 error about the packet pkt[0..len) (fixed header first)
 * unless RFC 4443 2.4 (e) forbids it or the rate limit says no. mcast_ok:
 * allowed even if pkt went to a multicast address (Packet Too Big,
 * Parameter Problem code 2 with option action 10). */
void oasis_icmp6_send_error(oasis_stack *s, uint8_t type, uint8_t code, uint32_t word,
                            const uint8_t *pkt, size_t len, int link_mcast, int mcast_ok);
/* Sends an ICMPv6 message msg[0..len) (type, code and body in place; the
 * checksum is filled in). */
/* An ICMPv6 message not sent for want of a buffer: OutMsgs and OutErrors
 * (RFC 4293 icmpStatsOutErrors). */
void oasis_icmp6_out_failed(oasis_stack *s);
int oasis_icmp6_send(oasis_stack *s, const oasis_in6 *src, const oasis_in6 *dst, uint8_t hop_limit,
                     const uint8_t *msg, size_t len);
/* Address resolution for next_hop failed: pings through it fail (from a
 * timer: the callbacks run here). */
void oasis_icmp6_neighbour_failed(oasis_stack *s, const oasis_in6 *next_hop);
/* The INCOMPLETE entry of next_hop was evicted with its waiting packets,
 * perhaps inside a send: pings through it are marked and fail on the
 * stack's next timer step, no callback runs here. */
void oasis_icmp6_neighbour_evicted(oasis_stack *s, const oasis_in6 *next_hop);

/* nd.c */
int oasis_nd_init(oasis_stack *s);
void oasis_nd_fini(oasis_stack *s);
/* Hands the finished packet p to the link for next_hop: at once when its
 * MAC is known, else queued while resolution runs. Takes p. */
int oasis_nd_output(oasis_stack *s, oasis_pbuf *p, const oasis_in6 *next_hop);
/* An ND message (type 133..137) with its IPv6 header. */
void oasis_nd_input(oasis_stack *s, const oasis_ipv6_hdr *ip, const uint8_t *msg, size_t len);
/* Next hop for dst: dst when on-link (link-local, an on-link prefix, a
 * prefix of our static addresses), else the default router. 0 or
 * OASIS_ENOROUTE. */
int oasis_nd_next_hop(oasis_stack *s, const oasis_in6 *dst, oasis_in6 *out);
/* The same for a packet about to be sent: when no default router is known
 * reachable, each call takes the next one in turn (RFC 4861 6.3.6), where
 * oasis_nd_next_hop, which sends nothing, names the one last taken. */
int oasis_nd_next_hop_send(oasis_stack *s, const oasis_in6 *dst, oasis_in6 *out);
/* Negative advice from TCP (RFC 9293 3.8.3 (b)): the neighbour dst goes
 * through is probed now, unicast (RFC 4861 7.3.3 PROBE). No-op for an
 * IPv4 address, an unknown or incomplete neighbour, or one being probed. */
void oasis_ipv6_negative_advice(oasis_stack *s, const oasis_ipaddr *dst);
/* Router solicitations (RFC 4861 6.3.7): started once the link-local
 * address passed DAD. */
void oasis_nd_start_rs(oasis_stack *s);
/* The entry for ip, or NULL (tests). */
const ip6_neigh *oasis_nd_lookup(const oasis_stack *s, const oasis_in6 *ip);
/* A packet went out through e: it is now the most recently used of its
 * kind (oasis_nd_output, and the transmit cache through
 * oasis_nd_used_resolved). */
void oasis_nd_used(oasis_stack *s, ip6_neigh *e);

/* The same for a resolved entry at now, inline for the transmit cache:
 * most packets go to the neighbour already newest. */
static inline void oasis_nd_used_resolved(oasis_stack *s, oasis_ipv6 *v, ip6_neigh *e, uint64_t now)
{
    if (v->nd_use[1].newest == &e->use)
        e->used = now;
    else
        oasis_nd_used(s, e);
}
/* The cache's index agrees with its entries: every entry found by its
 * address and on the use list of its kind, the lists and the free list
 * adding up to the cache. 1 when so (tests and fuzzers ask). */
int oasis_nd_consistent(const oasis_stack *s);
/* ip's entry when resolved (any state but INCOMPLETE), else NULL. */
ip6_neigh *oasis_nd_resolved(oasis_stack *s, const oasis_in6 *ip);
/* A packet went to e while STALE (by a transmit cache): DELAY starts, as
 * when oasis_nd_output sends one (RFC 4861 7.3.3). */
void oasis_nd_sent_stale(oasis_stack *s, ip6_neigh *e);

/* ra_dns.c */
struct oasis_nd_opts;
void oasis_ra_dns_init(oasis_stack *s);
void oasis_ra_dns_fini(oasis_stack *s);
/* An RA's RDNSS and DNSSL options, from a router that passed validation. */
void oasis_ra_dns_input(oasis_stack *s, const struct oasis_nd_opts *o);
/* Replaces the DHCPv6 client's servers and domains (n 0: none); the DNS
 * callback runs when the set changed. Bad addresses are left out as for
 * RDNSS. Extra entries past the maximum are dropped. */
void oasis_ra_dns_set_dhcp6(oasis_stack *s, const oasis_in6 *servers, size_t nservers,
                            const char *const *domains, size_t ndomains);

/* addrconf.c */
void oasis_addrconf_init(oasis_stack *s);
void oasis_addrconf_start(oasis_stack *s);
void oasis_addrconf_fini(oasis_stack *s);
/* DAD: an NS (from ::) or an NA for target arrived from someone else. */
void oasis_addrconf_dad_conflict(oasis_stack *s, ip6_addr *a);
/* An RA's prefix information option (RFC 4862 5.5.3). */
struct oasis_nd_prefix;
void oasis_addrconf_prefix(oasis_stack *s, const struct oasis_nd_prefix *p);

/* mld.c: MLDv2 (RFC 3810) for the groups we listen to, MLDv1 (RFC 2710)
 * while an MLDv1 querier is present (RFC 3810 8.2.1). */
void oasis_mld_init(oasis_stack *s);
void oasis_mld_fini(oasis_stack *s);
/* The groups we listen to (our addresses' solicited-node groups, the
 * application's) may have changed: state-change reports for the
 * difference (RFC 3810 6.1). */
void oasis_mld_sync(oasis_stack *s);
/* Reports can now come from the link-local address (RFC 3810 5.2.13):
 * every group's state-change report again. */
void oasis_mld_resend(oasis_stack *s);
/* Is g among the groups MLD reports? */
int oasis_mld_reported(const oasis_stack *s, const oasis_in6 *g);
/* A valid query arrived (RFC 3810 6.2, RFC 2710 4). */
struct oasis_mld_query;
void oasis_mld_query_input(oasis_stack *s, const struct oasis_mld_query *q);
/* Another node's MLDv1 Report for group arrived (RFC 2710 4). */
void oasis_mld_v1_report_input(oasis_stack *s, const oasis_in6 *group);
/* A DHCPv6-leased address (/128, origin OASIS_IPV6_DHCP6): added and
 * put through DAD (lifetimes in ns on the stack clock, UINT64_MAX
 * infinite), given new lifetimes, or removed. add returns 0 (also when
 * the address is a DHCP6 one already, e.g. of a client stopped without
 * release: it takes the new lifetimes and its state is reported again),
 * OASIS_EADDRINUSE (held otherwise, or duplicate) or OASIS_ENOMEM. The client
 * hears of DAD's outcome and of the removal through v->dhcp6.addr. */
int oasis_addrconf_dhcp6_add(oasis_stack *s, const oasis_in6 *a, uint64_t valid_until,
                             uint64_t preferred_until);
void oasis_addrconf_dhcp6_update(oasis_stack *s, const oasis_in6 *a, uint64_t valid_until,
                                 uint64_t preferred_until);
void oasis_addrconf_dhcp6_remove(oasis_stack *s, const oasis_in6 *a);
/* The first address that is preferred (or deprecated) and link-local. */
const oasis_in6 *oasis_addrconf_link_local(const oasis_stack *s);
/* RFC 7217 interface identifier (low 64 bits) for prefix and counter. */
void oasis_addrconf_stable_iid(const oasis_stack *s, const oasis_in6 *prefix, uint8_t counter,
                               oasis_in6 *out);

#endif
