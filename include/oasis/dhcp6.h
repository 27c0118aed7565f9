/* DHCPv6 client (RFC 8415): stateless configuration (Information-request
 * / Reply: DNS servers and search domains, RFC 3646) and stateful
 * addresses (one IA_NA: Solicit / Advertise / Request / Reply, Renew at
 * T1, Rebind at T2, Decline when Duplicate Address Detection finds the
 * address taken, Release on stop).
 *
 * A client is a handle on one stack with IPv6 on (no global state; one
 * client per stack: it binds UDP port 546). It runs on the stack's clock
 * and timers and draws transaction IDs and retransmission jitter from the
 * stack's seeded PRNG. Messages go to All_DHCP_Relay_Agents_and_Servers
 * (ff02::1:2) from the link-local address; the client never uses a
 * server's unicast address (no Server Unicast option is honoured).
 *
 * Mode: OASIS_DHCP6_AUTO waits for a Router Advertisement and follows its
 * flags (RFC 4861 4.2): M=1 runs the stateful exchange (which also asks
 * for DNS configuration), O=1 with M=0 the stateless one, neither: nothing
 * (the client waits for a later RA). STATELESS and STATEFUL start at once.
 * Once an exchange started, later RAs do not change the mode.
 *
 * Retransmission follows RFC 8415 15: the first timeout IRT, then doubled,
 * capped at MRT, each randomised by a factor RAND in -0.1..+0.1 (the first
 * Solicit timeout only upwards); MRC / MRD end the exchange where 7.6
 * gives them (Request: 10 messages, then Solicit again; Renew: until T2;
 * Rebind: until the addresses' valid lifetimes end; Decline: 5 messages).
 * The first Solicit and Information-request wait a random 0..1 s
 * (SOL_MAX_DELAY, INF_MAX_DELAY). Every message carries an Elapsed Time
 * option (hundredths of a second since the exchange began, first 0).
 *
 * The client DUID is DUID-LL (RFC 8415 11.4: type 3, hardware type 1, the
 * stack's MAC) unless the configuration gives one. The IAID is fixed
 * (cfg.iaid, default 1).
 *
 * Rapid Commit (cfg.rapid_commit, default off; RFC 8415 18.2.1, 21.14):
 * the Solicit carries an empty Rapid Commit option, and a Reply to it that
 * carries one too is the lease, taken as a Reply to a Request is (DAD,
 * then BOUND). A Reply in SOLICITING without the option, or without
 * cfg.rapid_commit, is discarded (rx_unexpected); one whose status says
 * the server gives no address is counted and the Solicit goes on. A
 * server without Rapid Commit answers with an Advertise, and the
 * four-message exchange follows as usual. Request, Renew, Rebind and
 * Information-request never carry the option. Off by default for the
 * reason RFC 3315 22.14 gives: when several servers answer, each commits
 * an address, and all but the one we take stay unused until their
 * lifetimes end.
 *
 * Replies are checked (each failure counted, the message dropped, the
 * state unchanged): the transaction ID is the one of the exchange running;
 * a Server ID option is present; the Client ID option is ours; the option
 * lengths of RFC 8415 21 (dhcp6_wire.h). An Advertise with status
 * NoAddrsAvail, or without an address for our IA_NA, is ignored (18.2.9).
 * A Reply with status UseMulticast is dropped (we multicast already; the
 * retransmission goes on). A Reply to Request whose IA_NA says
 * NoAddrsAvail or NotOnLink sends the client back to Solicit; a Reply to
 * Renew or Rebind that says NoBinding makes it send a Request (18.2.10.1).
 *
 * The leased address is added to the stack as a /128 (origin
 * OASIS_IPV6_DHCP6, ipv6.h) and goes through DAD: the lease is BOUND only
 * once DAD passed; a duplicate is declined and the client solicits again.
 * The stack's address list owns the lifetimes: when the valid lifetime
 * runs out the address is removed and the client starts over.
 *
 * DNS: servers (option 23) and domains (24) of the last Reply go to the
 * stack's IPv6 DNS list ahead of the RAs' (oasis_ipv6_dns_servers, the
 * DNS callback of ipv6.h); stop and destroy take them away.
 */
#ifndef OASIS_DHCP6_H
#define OASIS_DHCP6_H

#include <stddef.h>
#include <stdint.h>

#include "oasis/addr.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oasis_stack oasis_stack;
typedef struct oasis_dhcp6 oasis_dhcp6;
typedef struct oasis_metrics oasis_metrics;
typedef struct oasis_metric_tag oasis_metric_tag;

typedef enum oasis_dhcp6_mode {
    OASIS_DHCP6_AUTO,       /* follow the M and O flags of Router Advertisements */
    OASIS_DHCP6_STATELESS,  /* Information-request only */
    OASIS_DHCP6_STATEFUL,   /* an address (IA_NA) and the configuration with it */
} oasis_dhcp6_mode;

typedef enum oasis_dhcp6_state {
    OASIS_DHCP6_STOPPED,
    OASIS_DHCP6_WAITING_RA,  /* AUTO: no RA with M or O yet */
    OASIS_DHCP6_INFO_REQUESTING, /* Information-request sent (or its start delay) */
    OASIS_DHCP6_INFORMED,    /* stateless configuration held; refresh later */
    OASIS_DHCP6_SOLICITING,  /* Solicit sent (or its start delay), collecting Advertises
                              * (and, with rapid_commit, a Reply) */
    OASIS_DHCP6_REQUESTING,  /* Request sent to the chosen server */
    OASIS_DHCP6_DAD,         /* leased address in Duplicate Address Detection */
    OASIS_DHCP6_BOUND,
    OASIS_DHCP6_RENEWING,    /* after T1 */
    OASIS_DHCP6_REBINDING,   /* after T2 */
    OASIS_DHCP6_DECLINING,   /* DAD failed: Decline sent */
    OASIS_DHCP6_RELEASING,   /* stopped with release: Release sent, awaiting its Reply */
} oasis_dhcp6_state;

typedef enum oasis_dhcp6_event {
    OASIS_DHCP6_EV_INFO,     /* stateless configuration received or refreshed */
    OASIS_DHCP6_EV_BOUND,    /* an address leased and past DAD */
    OASIS_DHCP6_EV_RENEWED,  /* lifetimes extended (Renew or Rebind) */
    OASIS_DHCP6_EV_EXPIRED,  /* the address's valid lifetime ended: removed */
    OASIS_DHCP6_EV_DECLINED, /* DAD found the leased address in use: declined */
} oasis_dhcp6_event;

#define OASIS_DHCP6_MAX_DNS 4
#define OASIS_DHCP6_MAX_DOMAINS 4
#define OASIS_DHCP6_NAME_MAX 253

/* What the client holds. Times are stack clock times (ns); UINT64_MAX:
 * infinite. */
typedef struct oasis_dhcp6_lease {
    int has_addr;                /* 0 in stateless mode */
    oasis_ipaddr addr;           /* the leased address (/128) */
    uint32_t preferred_s, valid_s;
    uint32_t t1_s, t2_s;         /* used (the server's, or 0.5 and 0.8 of preferred) */
    uint64_t acquired_ns;        /* when the exchange that got it began */
    uint64_t t1_ns, t2_ns, valid_until_ns;
    uint8_t server_duid[130];
    size_t server_duid_len;
    oasis_ipaddr dns[OASIS_DHCP6_MAX_DNS]; /* option 23, server's order */
    uint8_t ndns;
    char domains[OASIS_DHCP6_MAX_DOMAINS][OASIS_DHCP6_NAME_MAX + 1]; /* option 24 */
    uint8_t ndomains;
    uint32_t refresh_s;          /* stateless: the refresh time used (option 32, else
                                  * 86400; at least 600) */
    uint64_t refresh_ns;         /* stateless: when the next Information-request goes */
} oasis_dhcp6_lease;

/* The callback: lease is the current one (INFO, BOUND, RENEWED), the one
 * that ended (EXPIRED) or the declined address (DECLINED: has_addr and
 * addr only). Borrowed for the call. Events come from timers and input,
 * never from an API call. The callback may call oasis_dhcp6_stop();
 * oasis_dhcp6_destroy() from it is refused (OASIS_EBUSY). */
typedef void (*oasis_dhcp6_cb)(oasis_dhcp6 *c, oasis_dhcp6_event ev,
                               const oasis_dhcp6_lease *lease, void *ud);

typedef struct oasis_dhcp6_config {
    oasis_dhcp6_mode mode;       /* AUTO */
    const uint8_t *duid;         /* NULL: DUID-LL of the stack's MAC; else copied, 3..130 */
    size_t duid_len;
    uint32_t iaid;               /* 1 */
    int rapid_commit;            /* 1: Rapid Commit in the Solicit (see above); default 0 */
    oasis_dhcp6_cb cb;           /* may be NULL */
    void *ud;
} oasis_dhcp6_config;

/* Fills cfg with the defaults above (NULL is ignored). */
void oasis_dhcp6_config_init(oasis_dhcp6_config *cfg);

/* Creates a client on s (IPv6 on) and binds UDP port 546. Returns 0,
 * OASIS_EINVAL (IPv6 off, bad config), OASIS_EADDRINUSE (port taken) or
 * OASIS_ENOMEM. Destroy it before the stack. */
int oasis_dhcp6_create(oasis_stack *s, const oasis_dhcp6_config *cfg, oasis_dhcp6 **out);

/* Starts (see the mode above). OASIS_EBUSY if running. */
int oasis_dhcp6_start(oasis_dhcp6 *c);

/* Stops. release 1: with a leased address, removes the address and sends
 * a Release (RFC 8415 18.2.7), retransmitted (REL_TIMEOUT 1 s, doubled,
 * REL_MAX_RC 4 sends) in state RELEASING until the server's Reply or the
 * last timeout, then STOPPED; no event is reported for it. release 0:
 * every timer stops and the address stays with the stack until its valid
 * lifetime ends. Either way the DNS configuration learnt is withdrawn.
 * oasis_dhcp6_start from RELEASING abandons the Release; destroy does too
 * (wait for STOPPED first to give the server its Reply). */
void oasis_dhcp6_stop(oasis_dhcp6 *c, int release);

/* Stops (release 0), unbinds and frees. 0, or OASIS_EBUSY from inside its
 * callback. NULL is accepted. */
int oasis_dhcp6_destroy(oasis_dhcp6 *c);

oasis_dhcp6_state oasis_dhcp6_get_state(const oasis_dhcp6 *c);
const char *oasis_dhcp6_state_name(oasis_dhcp6_state st);
const char *oasis_dhcp6_event_name(oasis_dhcp6_event ev);

/* The current lease or information: 0 (INFORMED, BOUND, RENEWING,
 * REBINDING) or OASIS_ENOENT. */
int oasis_dhcp6_get_lease(const oasis_dhcp6 *c, oasis_dhcp6_lease *out);

/* The client DUID it sends (length in *len). */
const uint8_t *oasis_dhcp6_duid(const oasis_dhcp6 *c, size_t *len);

typedef struct oasis_dhcp6_counters {
    uint64_t tx_solicits, tx_requests, tx_renews, tx_rebinds, tx_releases, tx_declines,
        tx_info_requests;
    uint64_t tx_retransmits;     /* any message sent again after a timeout */
    uint64_t tx_errors;          /* the stack refused to send */
    uint64_t rx_advertises, rx_replies;
    uint64_t rx_malformed;       /* lengths or options (dhcp6_wire.h) */
    uint64_t rx_wrong_port;      /* not from UDP port 547 */
    uint64_t rx_wrong_xid;       /* not the transaction running (or none running) */
    uint64_t rx_no_server_id;    /* no Server ID option */
    uint64_t rx_wrong_client_id; /* Client ID missing or not ours */
    uint64_t rx_unexpected;      /* a type the state does not take */
    uint64_t rx_status_errors;   /* UseMulticast, NoAddrsAvail, NotOnLink, NoBinding... */
    uint64_t rx_invalid;         /* a reply we cannot use (no usable address, T1 > T2) */
    uint64_t binds, renewals, rebinds, expiries, declines_dad, infos;
    uint64_t request_timeouts;   /* REQ_MAX_RC Requests unanswered: Solicit again */
    uint64_t rapid_commits;      /* leases bound from a Reply to a Solicit (Rapid Commit) */
} oasis_dhcp6_counters;

const oasis_dhcp6_counters *oasis_dhcp6_get_counters(const oasis_dhcp6 *c);

/* Adds a metrics source, measurement "dhcp6": the counters above in
 * CamelCase (TxSolicits, ..., RapidCommits) and the gauges State
 * (string), ValidSeconds and ValidRemainingSeconds (0 without an
 * address). ud is c: remove it (oasis_metrics_remove_by_ud) before
 * destroying the client. 0, OASIS_EINVAL or OASIS_ENOMEM. */
int oasis_dhcp6_add_metrics(oasis_metrics *m, oasis_dhcp6 *c, const oasis_metric_tag *tags,
                            size_t ntags);

#ifdef __cplusplus
}
#endif
#endif
