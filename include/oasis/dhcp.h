/* DHCPv4 client (RFC 2131, options of RFC 2132, address conflict
 * detection of RFC 5227).
 *
 * A client is a handle on one stack (no global state; one client per
 * stack, since it binds UDP port 68). It runs on the stack's clock and
 * timers (so tests drive it on a virtual clock) and uses the stack's PRNG
 * for transaction IDs and the randomised retransmission delays.
 *
 * The stack may be created with no address (cfg.addr 0): until a lease is
 * bound, DHCP messages go out from 0.0.0.0 to 255.255.255.255 and the
 * stack takes UDP datagrams to its MAC whatever their IP destination (a
 * server may unicast its offer to the offered address).
 *
 * States (RFC 2131 figure 5): INIT -> SELECTING (DISCOVER sent, waiting for
 * offers) -> REQUESTING (REQUEST for the first offer) -> PROBING (RFC 5227
 * ARP probes of the acknowledged address; a conflict sends DECLINE and
 * restarts after 10 s, 60 s from the 10th conflict on) -> BOUND. At T1
 * RENEWING (REQUEST unicast to the server; at once if T1 went by while the
 * address was probed), at T2 REBINDING (REQUEST broadcast to any server),
 * at the end of the lease the address is removed and the client starts
 * again at INIT. A lease that ends before its probes are done (or was
 * over when its ACK came) is not used: the client returns to INIT without
 * configuring it and without an event, waiting 1 s, then 2, 4... up to
 * 64 s for each such lease (or NAK) in a row.
 * Rapid Commit (RFC 4039, cfg.rapid_commit): the DISCOVER carries option
 * 80 (length 0), and in SELECTING an ACK that carries option 80 too is
 * taken as the lease at once (two messages instead of four); it goes
 * through PROBING like any ACK before BOUND. An OFFER (from a server that
 * does not do it) is still requested as usual; whichever usable reply
 * comes first wins (the client takes the first offer without waiting for
 * more). An ACK without option 80 in SELECTING is no rapid commit and is
 * ignored (rx_unexpected), as is every ACK there without cfg.rapid_commit.
 * Option 80 is only ever sent in DISCOVER, never in a REQUEST (REQUESTING,
 * RENEWING, REBINDING, INIT-REBOOT).
 * With a remembered address (cfg.requested_addr) the client starts in
 * INIT-REBOOT -> REBOOTING (REQUEST broadcast for that address).
 * REQUESTING and REBOOTING send cfg.request_retries REQUESTs; when none
 * is answered (no ACK, no NAK) the client goes back to INIT, sends a new
 * DISCOVER at once and tells the application (OASIS_DHCP_EV_TIMEOUT,
 * RFC 2131 4.4.1). It does not take RFC 2131 3.2's MAY of using the
 * remembered address anyway: it knows no lease for it.
 * A NAK in REQUESTING, REBOOTING, RENEWING or REBINDING returns to INIT
 * (and removes the address if it was in use).
 *
 * What the stack does with the lease: on bind, its address, prefix,
 * gateway (the first router on the subnet) and MTU (option 26, when it is
 * 576 or more and no larger than the link's) are set; the link MTU only
 * affects flows opened afterwards. On renew only the lease times change.
 * When the address goes (expiry, NAK, a new address, oasis_dhcp_stop with
 * release): every TCP flow on the old address ends at once, nothing more
 * is sent for it (no RST: the address is no longer ours), and
 * oasis_tcp_flow_error() / oasis_tcp_flow_strerror() say
 * OASIS_EADDRNOTAVAIL ("local address not available"). A connect still in
 * progress completes with OASIS_EADDRNOTAVAIL; reads deliver what was
 * already received, then OASIS_EOF; pending and later writes complete
 * with OASIS_ECLOSED (as after any end of a flow). Until the next bind the
 * stack has address 0.0.0.0: TCP connects fail with OASIS_ENOROUTE, UDP
 * sends other than to 255.255.255.255 fail with OASIS_ENOROUTE.
 *
 * Leases the client refuses (counted in rx_invalid): an ACK without lease
 * time or with a zero one, a non-contiguous netmask, an address that is no
 * host's (0/8, 127/8, multicast, 240/4, the subnet's network or broadcast
 * address), an offer without server identifier or with one that is no
 * unicast address (in an ACK such an identifier is ignored: the reply's
 * source is the server, and in REQUESTING that source must be the chosen
 * server, else the ACK or NAK counts in rx_unexpected). A T1 or T2 of 0
 * is read as absent; T1 < T2 < lease (RFC 2131 4.4.5) holds, a server's
 * value out of that order giving way to the default (1/2, 7/8); neither
 * comes sooner than 1 s after the REQUEST.
 */
#ifndef OASIS_DHCP_H
#define OASIS_DHCP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oasis_stack oasis_stack;
typedef struct oasis_dhcp oasis_dhcp;
typedef struct oasis_metrics oasis_metrics;
typedef struct oasis_metric_tag oasis_metric_tag;

typedef enum oasis_dhcp_state {
    OASIS_DHCP_STOPPED,     /* created, not started, or stopped */
    OASIS_DHCP_INIT,        /* waiting the random start delay, or 10 s (60) after a DECLINE */
    OASIS_DHCP_SELECTING,   /* DISCOVER sent, waiting for an offer (or a Rapid Commit ACK) */
    OASIS_DHCP_REQUESTING,  /* REQUEST sent for an offer */
    OASIS_DHCP_PROBING,     /* ACK received; ARP probes of the address (RFC 5227) */
    OASIS_DHCP_BOUND,
    OASIS_DHCP_RENEWING,    /* after T1: REQUEST unicast to the server */
    OASIS_DHCP_REBINDING,   /* after T2: REQUEST broadcast */
    OASIS_DHCP_INIT_REBOOT, /* starting with a remembered address */
    OASIS_DHCP_REBOOTING    /* REQUEST sent for the remembered address */
} oasis_dhcp_state;

/* What the callback is told. */
typedef enum oasis_dhcp_event {
    OASIS_DHCP_EV_BOUND,    /* a lease was obtained and the stack configured */
    OASIS_DHCP_EV_RENEWED,  /* the lease was extended (renew or rebind); same address */
    OASIS_DHCP_EV_EXPIRED,  /* the lease ran out: the address was removed */
    OASIS_DHCP_EV_NAK,      /* a server refused; the address (if any) was removed */
    OASIS_DHCP_EV_CONFLICT, /* the offered address answered an ARP probe: DECLINE sent */
    OASIS_DHCP_EV_TIMEOUT   /* no ACK nor NAK to the REQUESTs for an offer (REQUESTING) or
                             * for the remembered address (REBOOTING): the client is back in
                             * INIT and sends a DISCOVER at once (RFC 2131 4.4.1) */
} oasis_dhcp_event;

#define OASIS_DHCP_MAX_DNS 4
#define OASIS_DHCP_MAX_SEARCH 6       /* domains kept from option 119 */
#define OASIS_DHCP_DOMAIN_STRLEN 254  /* a domain as text: 253 characters and NUL */

/* A lease as the client holds it. Times are stack clock times (ns). */
typedef struct oasis_dhcp_lease {
    uint32_t addr;          /* host order */
    uint8_t prefix_len;
    uint32_t netmask;
    uint32_t gateway;       /* 0: none (no router option, or none on the subnet) */
    uint32_t server;        /* server identifier (option 54) */
    uint32_t dns[OASIS_DHCP_MAX_DNS]; /* DNS servers (option 6), in the server's order;
                                       * 0/8, loopback, broadcast, multicast left out */
    uint8_t ndns;
    uint32_t mtu;           /* option 26; 0: none */
    uint32_t lease_s;       /* lease time (option 51); 0xffffffff: infinite */
    uint32_t t1_s, t2_s;    /* renewal and rebinding times used (options 58/59 or 1/2 and 7/8) */
    uint64_t acquired_ns;   /* when the REQUEST that got this lease was sent (by Rapid
                             * Commit: the transaction's first DISCOVER) */
    uint64_t t1_ns, t2_ns, expires_ns; /* UINT64_MAX for an infinite lease */
    char hostname[64];      /* option 12 from the server; "" if none */
    char domain[OASIS_DHCP_DOMAIN_STRLEN]; /* option 15, the domain name ("" if none) */
    /* Option 119 (RFC 3397), the domain search list, first domains first.
     * For a resolver's search list (oasis_dns_set_search): these, or the
     * domain alone when there are none (as resolv.conf's "domain"). */
    char search[OASIS_DHCP_MAX_SEARCH][OASIS_DHCP_DOMAIN_STRLEN];
    uint8_t nsearch;
} oasis_dhcp_lease;

/* The application's callback; lease is the current lease (BOUND, RENEWED)
 * or the one that just ended (EXPIRED, NAK while bound) or the offer that
 * conflicted (CONFLICT: addr only), NULL for a NAK without lease. TIMEOUT:
 * the address that went unanswered, addr and server only (the offer's
 * server identifier; 0 for the remembered address, asked of any server);
 * every other field 0. Borrowed for the call. Events come from the
 * client's timers or from input, never from inside an API call. The
 * callback may call oasis_dhcp_stop(); oasis_dhcp_destroy() from it is
 * refused (OASIS_EBUSY), as is destroying the stack. */
typedef void (*oasis_dhcp_cb)(oasis_dhcp *d, oasis_dhcp_event ev, const oasis_dhcp_lease *lease,
                              void *ud);

typedef struct oasis_dhcp_config {
    const char *hostname;        /* option 12 in our messages; NULL: none. Copied, 1..63 bytes */
    const uint8_t *client_id;    /* option 61; NULL: type 1 + the stack's MAC (RFC 2132 9.14) */
    size_t client_id_len;        /* 2..64 when client_id is set */
    uint32_t requested_addr;     /* a remembered address: start in INIT-REBOOT (0: INIT) */
    uint32_t probes;             /* RFC 5227 ARP probes before using an address (3); 0: none */
    uint64_t start_delay_max_ns; /* random delay before the first DISCOVER (1 s). RFC 2131
                                  * 4.4.1 suggests 1..10 s after a power failure of a whole
                                  * network; one second desynchronises a restart. */
    uint32_t request_retries;    /* REQUESTs sent in REQUESTING/REBOOTING before INIT (4:
                                  * 0, 4, 8 and 16 s later; INIT at about 60 s) */
    int rapid_commit;            /* 1: ask for Rapid Commit (RFC 4039) in DISCOVER; default 0.
                                  * Off because every server on the link that does it
                                  * commits a lease to us at once, and all but the one
                                  * taken stay held until they expire: turn it on where
                                  * one server answers (or all commit leases), as
                                  * dnsmasq's --dhcp-rapid-commit documents too. */
    oasis_dhcp_cb cb;            /* may be NULL */
    void *ud;
} oasis_dhcp_config;

/* Defaults above (NULL is ignored). */
void oasis_dhcp_config_init(oasis_dhcp_config *cfg);

/* Creates a client on s and binds UDP port 68 (the client does nothing
 * until started). Returns 0, OASIS_EINVAL (bad config), OASIS_EADDRINUSE
 * (port 68 taken: another client) or OASIS_ENOMEM. Destroy it before the
 * stack. */
int oasis_dhcp_create(oasis_stack *s, const oasis_dhcp_config *cfg, oasis_dhcp **out);

/* Starts in INIT (or INIT-REBOOT with cfg.requested_addr). OASIS_EBUSY if
 * already running. */
int oasis_dhcp_start(oasis_dhcp *d);

/* Stops every timer. release 1: when a lease is held, sends DHCPRELEASE
 * to its server and removes the address (flows on it end as described
 * above); in PROBING, the lease just acknowledged (the server holds it
 * from its ACK on) is released too, broadcast, as the address was never
 * configured (RFC 2131 4.4.6); release 0: the stack keeps its address
 * (the application owns it from now). The client can be started again. */
void oasis_dhcp_stop(oasis_dhcp *d, int release);

/* Stops (without release), unbinds port 68 and frees. Returns 0 (NULL is
 * accepted), or OASIS_EBUSY, freeing nothing, from inside its own
 * callback: stop it there and destroy it once the callback returned. */
int oasis_dhcp_destroy(oasis_dhcp *d);

oasis_dhcp_state oasis_dhcp_get_state(const oasis_dhcp *d);
const char *oasis_dhcp_state_name(oasis_dhcp_state st);
const char *oasis_dhcp_event_name(oasis_dhcp_event ev);

/* The current lease: 0 (BOUND, RENEWING, REBINDING) or OASIS_ENOENT. */
int oasis_dhcp_get_lease(const oasis_dhcp *d, oasis_dhcp_lease *out);

oasis_stack *oasis_dhcp_stack(const oasis_dhcp *d);

/* Counters (all monotonic). */
typedef struct oasis_dhcp_counters {
    uint64_t tx_discovers, tx_requests, tx_declines, tx_releases;
    uint64_t tx_retransmits;     /* any message sent again after a timeout */
    uint64_t tx_errors;          /* the stack refused to send (no link, no memory...) */
    uint64_t rx_offers, rx_acks, rx_naks;
    uint64_t rx_malformed;       /* not a valid DHCP message (lengths, cookie, options) */
    uint64_t rx_not_reply;       /* op is not BOOTREPLY, or not Ethernet/6 */
    uint64_t rx_wrong_xid;       /* not our transaction */
    uint64_t rx_wrong_chaddr;    /* our xid but another client's hardware address */
    uint64_t rx_wrong_port;      /* to port 68 from a UDP port other than 67 (not a server's) */
    uint64_t rx_unexpected;      /* a message type the current state does not take, or an
                                  * ACK/NAK in REQUESTING from a server not chosen (by its
                                  * server id; by its source address when it names none) */
    uint64_t rx_invalid;         /* an offer/ACK we cannot use (no lease time, bad address or mask...) */
    uint64_t probes_sent;        /* RFC 5227 ARP probes */
    uint64_t conflicts;          /* probes that found the address taken (DECLINE) */
    uint64_t binds;              /* leases obtained (BOUND from INIT or INIT-REBOOT) */
    uint64_t renewals;           /* leases extended in RENEWING */
    uint64_t rebinds;            /* leases extended in REBINDING */
    uint64_t expiries;           /* leases that ran out (also one that ran out while its
                                  * address was probed, or before the ACK came: never used) */
    uint64_t request_timeouts;   /* REQUESTING/REBOOTING gave up: back to INIT (EV_TIMEOUT) */
    uint64_t rx_wrong_client_id; /* our xid and chaddr, but a client identifier (61) that is
                                  * not the one we send (RFC 6842 3: silently discarded) */
    uint64_t rx_opts_ignored;    /* a domain name (15) or domain search (119) option with no
                                  * valid name, or a Rapid Commit option (80) whose length
                                  * is not 0, in a reply we took: left out of the lease */
    uint64_t rapid_commits;      /* leases obtained by Rapid Commit (RFC 4039: a DISCOVER
                                  * and an ACK); also counted in binds */
} oasis_dhcp_counters;

const oasis_dhcp_counters *oasis_dhcp_get_counters(const oasis_dhcp *d);

/* Adds a metrics source, measurement "dhcp", reading this client: the
 * counters above as CamelCase counters (TxDiscovers, TxRequests,
 * TxDeclines, TxReleases, TxRetransmits, TxErrors, RxOffers, RxAcks, RxNaks,
 * RxMalformed, RxNotReply, RxWrongXid, RxWrongChaddr, RxWrongPort, RxUnexpected,
 * RxInvalid, ProbesSent, Conflicts, Binds, Renewals, Rebinds, Expiries,
 * RequestTimeouts, RxWrongClientId, RxOptsIgnored, RapidCommits) and the gauges State (string, e.g. "BOUND"),
 * LeaseSeconds and LeaseRemainingSeconds (0 without a lease). ud is d:
 * remove it (oasis_metrics_remove_by_ud) before destroying the client.
 * Returns 0, OASIS_EINVAL or OASIS_ENOMEM. */
int oasis_dhcp_add_metrics(oasis_metrics *m, oasis_dhcp *d, const oasis_metric_tag *tags,
                           size_t ntags);

#ifdef __cplusplus
}
#endif
#endif
