/* The stack handle: one Ethernet interface with one IPv4 address and every
 * layer above it (ARP, IPv4, ICMP, UDP, TCP). All state hangs off this
 * handle; there is no global state, so any number of stacks may live in one
 * process. A stack is single-threaded: call it from one thread at a time.
 *
 * Driving a stack: hand received frames to oasis_stack_input(), and call
 * oasis_stack_poll() at or after oasis_stack_next_deadline() to run timers.
 * The in-memory wire (wire.h) and the TAP loop (tap.h) do this for you.
 */
#ifndef OASIS_STACK_H
#define OASIS_STACK_H

#include <stddef.h>
#include <stdint.h>

#include "oasis/clock.h"
#include "oasis/counters.h"
#include "oasis/link.h"
#include "oasis/tcp.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oasis_stack oasis_stack;

/* Allocator in the style of Lua's: (ud, NULL, n) allocates, (ud, p, n)
 * resizes, (ud, p, 0) frees and returns NULL. Must return NULL on failure. */
typedef void *(*oasis_alloc_fn)(void *ud, void *ptr, size_t size);

/* The largest neighbour cache (cfg.nd_cache_size). */
#define OASIS_ND_CACHE_MAX 4096u

typedef struct oasis_stack_config {
    uint8_t mac[6];
    uint32_t addr;        /* host order; 0 (none) or a host's address, as
                           * oasis_stack_set_ipv4 takes */
    uint8_t prefix_len;   /* subnet: addr/prefix_len is on-link */
    uint32_t gateway;     /* 0: no default route */
    uint32_t mtu;         /* 0: take the link's MTU when the link is set */
    oasis_clock *clock;   /* required; borrowed, must outlive the stack */
    /* 0 (the default): the ISN key (RFC 6528), the SYN-cookie key (RFC 4987),
     * the hash salts and the PRNG come from the OS (getrandom). Non-zero:
     * all of them derive from this seed alone. INSECURE: anyone who knows
     * or guesses the seed predicts ISNs and forges SYN cookies; only for
     * tests and simulations that must replay bit for bit. */
    uint64_t seed;
    oasis_alloc_fn alloc; /* NULL: libc */
    void *alloc_ud;
    uint8_t ttl;          /* default TTL of datagrams we send (64) */

    /* Durations below (..._ns) are added to the clock saturating:
     * UINT64_MAX is "never", not a deadline wrapped into the past. */

    /* ARP */
    uint32_t arp_cache_size;     /* entries (256) */
    uint64_t arp_cache_ttl_ns;   /* a resolved entry ages out after this (60 s) */
    uint32_t arp_retries;        /* requests before giving up (3) */
    uint64_t arp_retry_ns;       /* first retry interval, doubled each try (1 s) */
    uint32_t arp_queue_len;      /* packets waiting for resolution, whole stack (64); a
                                  * neighbour's first one waits past it, within
                                  * arp_cache_size / 2 more (RFC 1122 2.3.2.2) */
    int arp_gratuitous;          /* announce our address when it is set or the link comes up (1) */
    uint32_t arp_announce_num;   /* announcements, 2 s apart (RFC 5227 ANNOUNCE_NUM: 2; 0 as 1) */

    /* Reassembly: IPv4 and IPv6 each keep these bounds apart */
    uint64_t reasm_timeout_ns;   /* (30 s) */
    uint32_t reasm_max_bytes;    /* memory bound over all datagrams (256 KiB); below one
                                  * datagram's bookkeeping (0, say) every fragment is
                                  * dropped and counted in reasm_fails */
    uint32_t reasm_max_datagrams;/* datagrams in progress at once (64) */

    /* ICMP and ICMPv6 errors: token bucket (RFC 4443 2.4 f), one per family;
     * echo replies are not errors and never limited */
    uint32_t icmp_rate_per_sec;  /* errors a second (100); 0: no limit */
    uint32_t icmp_burst;         /* tokens saved up at most (50); 0 with a rate:
                                  * no error is ever sent */
    int icmp_redirects;          /* 1 (the default): a redirect from the current first hop
                                    for a destination changes it (RFC 1122 3.2.2.2); 0:
                                    redirects are counted and ignored */
    uint64_t pmtu_expire_ns;     /* a lowered path MTU is forgotten after this (600 s,
                                    RFC 1191 6.3; under 300 s is refused: RFC 8201 4's
                                    5-minute floor); 0: never */

    /* Transparent: the stack answers for every unicast address, as a
     * transparent proxy or a tun2socks-style program does. TCP segments
     * and UDP datagrams to an address not its own, that reach it (through
     * an IP link, or routed to its MAC with it as the gateway), go to TCP
     * and UDP as if the address were its own. TCP: a listener with
     * oasis_listen_opts.transparent takes their SYNs (on its port, or on
     * every port), the flow's local address (oasis_tcp_src) is the one
     * the peer asked for, and everything the flow sends comes from it;
     * with no such listener the SYN is answered by a reset from that
     * address, as a closed port. UDP: oasis_udp_bind_transparent, and
     * oasis_udp_send_from answers from the foreign address. ICMP and
     * ICMPv6 errors about what they sent from such an address come back
     * to them (path MTU discovery; oasis_udp_set_error_cb). Other
     * protocols and ICMP messages to such addresses are dropped as before,
     * and no ICMP error is sent about them. 0 (the default): only the
     * stack's own addresses. */
    int transparent;

    oasis_tcp_config tcp;        /* defaults for every flow; see tcp.h */

    /* IPv6 (ipv6.h) */
    int ipv6;                    /* 1: IPv6 on the link: link-local address, DAD, router
                                    solicitation, SLAAC. 0 (the default): IPv4 only */
    int ipv6_slaac;              /* form addresses from advertised prefixes (1) */
    int ipv6_flow_labels;        /* RFC 6437 3: every TCP and UDP packet of a flow (its
                                  * addresses, ports and protocol) carries one label, a
                                  * keyed hash of them (1); 0: the label is 0 */
    uint32_t nd_cache_size;      /* neighbour entries (256; 0 as 256; at most
                                  * OASIS_ND_CACHE_MAX, else OASIS_EINVAL) */
    uint32_t nd_queue_len;       /* packets waiting for resolution, whole stack (64); a
                                  * neighbour's first one waits past it, within
                                  * nd_cache_size / 2 more (RFC 4861 7.2.2) */
    uint32_t dad_transmits;      /* DupAddrDetectTransmits (1); 0: no DAD */
    uint8_t hop_limit;           /* of the IPv6 packets we send (64) */
    /* RFC 7217 secret_key of stable interface identifiers. All zero: the
     * stack's own secret (random per run unless cfg.seed is set; give a
     * saved key for addresses that survive restarts). */
    uint8_t ipv6_iid_key[16];
} oasis_stack_config;

/* Fills cfg with the defaults above (mac, addr and clock still to be set).
 * NULL is ignored. */
void oasis_stack_config_init(oasis_stack_config *cfg);

/* Creates a stack. Returns 0, OASIS_EINVAL (no clock, bad prefix, an
 * address or gateway oasis_stack_set_ipv4 refuses, MTU under 576...),
 * OASIS_ENOMEM or OASIS_EIO (the OS gave no random bytes). */
int oasis_stack_create(const oasis_stack_config *cfg, oasis_stack **out);

/* Shuts the TCP layer down (pending requests complete with OASIS_ECANCELED)
 * and frees everything, flow handles not yet released included; a stack
 * on a wire is detached from it first (frames still in flight to it are
 * dropped). Returns 0 (NULL is accepted), or OASIS_EBUSY, freeing nothing,
 * when called from inside any code the stack runs: a callback of any layer
 * (TCP, UDP, ICMP, DNS, DHCP, IPv6 addresses), a timer, the fn of
 * oasis_tcp_foreach_flow, a TAP loop's watcher or done predicate, the
 * functions of the link it sends on (send, send_offload, tx_lend,
 * tx_commit), or a callback that this very call runs. The calls that ran
 * the callback go on
 * using the stack when it returns: destroy it after the outermost one
 * (oasis_stack_input/poll, oasis_wire_step, oasis_loop_run, ...) returned,
 * e.g. once oasis_loop_stop() made the loop return. OASIS_EBUSY too while
 * a client made on the stack lives (oasis_dns, oasis_dhcp, oasis_dhcp6,
 * oasis_reporter, oasis_prom_server, oasis_metrics_control): destroy
 * those first. */
int oasis_stack_destroy(oasis_stack *s);

/* Attaches the link the stack sends on (borrowed). Sends a gratuitous ARP if
 * configured. If cfg.mtu was 0 the link's MTU becomes the stack's MTU. A
 * link with OASIS_LINK_IP in caps is an IP link (link.h): its fields are
 * read here, so set them before. s NULL: nothing happens. */
void oasis_stack_set_link(oasis_stack *s, oasis_link *link);
/* The link given to oasis_stack_set_link (NULL: none, or s NULL). */
oasis_link *oasis_stack_link(oasis_stack *s);

/* Hands one received Ethernet frame to the stack (borrowed: the stack copies
 * what it keeps). Malformed frames are counted and dropped; s or frame NULL:
 * nothing happens. */
void oasis_stack_input(oasis_stack *s, const uint8_t *frame, size_t len);

/* Runs every timer that is due at the clock's current time. Returns how many
 * timers fired (0 for s NULL). May be called from a callback (see tcp.h,
 * Re-entrancy). */
int oasis_stack_poll(oasis_stack *s);

/* The earliest timer deadline (clock time, ns), or UINT64_MAX if none (or
 * s NULL). */
uint64_t oasis_stack_next_deadline(const oasis_stack *s);

/* The getters below answer 0 (NULL for pointers) when s is NULL. */
uint64_t oasis_stack_now(const oasis_stack *s);
oasis_clock *oasis_stack_clock(const oasis_stack *s);
uint32_t oasis_stack_addr(const oasis_stack *s);
const uint8_t *oasis_stack_mac(const oasis_stack *s);
uint32_t oasis_stack_mtu(const oasis_stack *s);

/* Changes the stack's IPv4 configuration (the DHCP client does this on
 * bind and expiry). addr 0 removes the address: the stack then sends only
 * to 255.255.255.255 (from 0.0.0.0) and takes UDP to its MAC whatever its
 * IP destination (RFC 2131 4.1). When the address changes or goes, every
 * TCP flow on the old one ends with OASIS_EADDRNOTAVAIL. A new address is
 * announced with a gratuitous ARP (cfg.arp_gratuitous). Returns 0 or
 * OASIS_EINVAL, nothing changed: s NULL, prefix_len over 32, or an addr
 * or gateway no host may use as its own (RFC 1122 3.2.1.3): 0.x.y.z other
 * than 0, 127/8, multicast, 240/4 (255.255.255.255 included), the
 * subnet's network or broadcast address (below /31: RFC 3021), or a
 * gateway equal to addr. */
int oasis_stack_set_ipv4(oasis_stack *s, uint32_t addr, uint8_t prefix_len, uint32_t gateway);
uint32_t oasis_stack_gateway(const oasis_stack *s);
uint8_t oasis_stack_prefix_len(const oasis_stack *s);

/* Sets the MTU (576..65535, no larger than the link's when one is set);
 * flows opened afterwards use it. Returns 0 or OASIS_EINVAL. */
int oasis_stack_set_mtu(oasis_stack *s, uint32_t mtu);

/* The stack's counters (live; read at any time; NULL for s NULL). */
const oasis_counters *oasis_stack_counters(const oasis_stack *s);

/* An opaque pointer for the application (set: s NULL is ignored). */
void oasis_stack_set_user_data(oasis_stack *s, void *ud);
void *oasis_stack_user_data(const oasis_stack *s);

#ifdef __cplusplus
}
#endif
#endif
