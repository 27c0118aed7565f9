/* Per-layer counters, kept in the stack handle (no global state).
 * Every dropped packet is counted under exactly one drop reason of the layer
 * that dropped it. Names follow the Linux MIB where one exists.
 * All counters are monotonically increasing except the gauges marked so.
 */
#ifndef OASIS_COUNTERS_H
#define OASIS_COUNTERS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oasis_link_counters {
    uint64_t rx_frames, rx_bytes;
    uint64_t tx_frames, tx_bytes;
    uint64_t tx_errors;          /* link send failed */
    uint64_t rx_malformed;       /* shorter than an Ethernet header */
    uint64_t rx_not_for_us;      /* unicast to another MAC, IPv6 multicast to a group we are not in */
    uint64_t rx_unknown_type;    /* ethertype we do not handle */
} oasis_link_counters;

typedef struct oasis_arp_counters {
    uint64_t rx_requests, rx_replies;
    uint64_t tx_requests, tx_replies, tx_gratuitous;
    uint64_t rx_malformed;
    uint64_t rx_not_for_us;      /* valid ARP whose target is not our address */
    uint64_t resolve_failed;     /* request retries ran out */
    uint64_t queue_drops;        /* packet waiting for resolution dropped (queue full or failure) */
    uint64_t cache_evictions;    /* entry pushed out by the size bound */
    uint64_t cache_expired;      /* entry aged out */
    uint64_t cache_entries;      /* gauge */
    uint64_t queue_superseded;   /* waiting TCP segment replaced by its newer copy */
    uint64_t rx_sha_mismatch;    /* sender MAC differs from the Ethernet source: dropped */
    uint64_t rx_bad_sender;      /* martian/broadcast/multicast sender: no entry */
    uint64_t rx_unsolicited;     /* reply nobody asked for: no entry */
    uint64_t cache_no_room;      /* stranger not cached: every candidate in active use */
    uint64_t mac_change_suspect; /* a live neighbour claimed a new MAC: old one kept */
    uint64_t mac_changes;        /* ... and the old MAC stopped answering: switched */
    uint64_t addr_conflicts;     /* another MAC claimed our address (RFC 5227) */
    uint64_t tx_defends;         /* announcements defending our address */
    uint64_t cache_refreshes;    /* entry in use at its lifetime's end: kept, re-verified by unicast */
} oasis_arp_counters;

typedef struct oasis_ip_counters {
    uint64_t in_receives;        /* InReceives */
    uint64_t in_delivers;        /* InDelivers */
    uint64_t in_hdr_errors;      /* InHdrErrors: bad version, IHL, checksum... */
    uint64_t in_csum_errors;     /* InCsumErrors: header checksum (also in InHdrErrors) */
    uint64_t in_truncated;       /* total length beyond the frame */
    uint64_t in_addr_errors;     /* InAddrErrors: not our address */
    uint64_t in_unknown_protos;  /* InUnknownProtos */
    uint64_t out_requests;       /* OutRequests */
    uint64_t out_no_routes;      /* OutNoRoutes */
    uint64_t out_discards;       /* OutDiscards (allocation, ARP queue...) */
    uint64_t reasm_reqds;        /* ReasmReqds: fragments received */
    uint64_t reasm_oks;          /* ReasmOKs */
    uint64_t reasm_fails;        /* ReasmFails: timeouts, bounds, bad fragments */
    uint64_t reasm_timeouts;     /* ReasmTimeout */
    uint64_t reasm_overflows;    /* dropped because the reassembly memory bound was hit */
    uint64_t reasm_too_many_frags; /* datagram in more pieces than a 576-byte path cuts:
                                    dropped whole (also in ReasmFails) */
    uint64_t reasm_bytes;        /* gauge: bytes held in reassembly */
    uint64_t frag_oks;           /* FragOKs */
    uint64_t frag_fails;         /* FragFails (DF set and too big) */
    uint64_t frag_creates;       /* FragCreates */
    uint64_t in_martians;        /* source no host may use (RFC 1122 3.2.1.3) */
    uint64_t in_source_routed;   /* LSRR/SSRR datagrams dropped (RFC 7126, as a Linux host) */
    uint64_t pmtu_lowered;       /* a destination's path MTU lowered (RFC 1191) */
    uint64_t pmtu_expired;       /* a lowered path MTU aged out (raise attempt) */
    uint64_t pmtu_evictions;     /* path MTU entry pushed out by the size bound */
    uint64_t pmtu_below_min;     /* IPv6 Packet Too Big under 1280 discarded (RFC 8201 4) */
    /* Loopback: datagrams to our own address or 127/8 never reach the link
     * (Linux's lo: tx_packets, rx_packets, rx_dropped). */
    uint64_t loop_tx_packets;    /* queued for delivery inside the stack */
    uint64_t loop_rx_packets;    /* taken from that queue into IP input */
    uint64_t loop_drops;         /* queue full (1000, netdev_max_backlog) */
    /* The ECN field of datagrams delivered to a protocol (RFC 3168; Linux's
     * IpExt InNoECTPkts, InECT1Pkts, InECT0Pkts, InCEPkts) */
    uint64_t in_noect_pkts, in_ect1_pkts, in_ect0_pkts, in_ce_pkts;
    /* IGMP (RFC 9776): messages in, of which malformed (short, bad checksum,
     * a query of no version's length or to the wrong address) and
     * queries taken; messages sent */
    uint64_t igmp_in_msgs, igmp_in_errors, igmp_in_queries, igmp_out_msgs;
} oasis_ip_counters;

typedef struct oasis_icmp_counters {
    uint64_t in_msgs, in_errors, in_csum_errors;
    uint64_t in_echos, in_echo_reps, in_dest_unreachs;
    uint64_t out_msgs, out_echos, out_echo_reps, out_dest_unreachs;
    uint64_t out_rate_limited;   /* errors not sent because of the rate limit */
    uint64_t in_time_excds, in_parm_probs, in_src_quenchs;
    uint64_t in_errors_unowned;  /* errors quoting no datagram of ours (bad quote,
                                    another source, no protocol to tell): dropped */
    uint64_t in_redirects;       /* InRedirects */
    uint64_t redirects_taken;    /* ... that changed a destination's first hop */
    uint64_t redirects_ignored;  /* ... not from the current first hop, naming a gateway
                                    off our subnet, quoting no datagram of ours, or off */
    uint64_t out_time_excds, out_parm_probs; /* OutTimeExcds (reassembly timeout), OutParmProbs */
} oasis_icmp_counters;

typedef struct oasis_udp_counters {
    uint64_t in_datagrams;       /* InDatagrams */
    uint64_t no_ports;           /* NoPorts */
    uint64_t in_errors;          /* InErrors (malformed, truncated, bad checksum) */
    uint64_t in_csum_errors;     /* InCsumErrors (also in InErrors) */
    uint64_t out_datagrams;      /* OutDatagrams */
    uint64_t zero_csum;          /* IPv6 datagrams with checksum 0: dropped (RFC 8200 8.1),
                                    also in InCsumErrors and InErrors as Linux counts them */
    uint64_t icmp_errors;        /* ICMP errors about our datagrams taken by a bound port */
    uint64_t icmp_no_port;       /* ... quoting a port no longer bound (or nothing to say) */
} oasis_udp_counters;

typedef struct oasis_tcp_counters {
    uint64_t active_opens;       /* ActiveOpens */
    uint64_t passive_opens;      /* PassiveOpens */
    uint64_t attempt_fails;      /* AttemptFails: SYN-SENT or SYN-RCVD to CLOSED (RFC 4022) */
    uint64_t estab_resets;       /* EstabResets: ESTABLISHED or CLOSE-WAIT to CLOSED, by a
                                    reset either way, an abort or a timeout (RFC 4022) */
    uint64_t curr_estab;         /* CurrEstab (gauge) */
    uint64_t in_segs;            /* InSegs */
    uint64_t out_segs;           /* OutSegs: sent, but not those with only retransmitted
                                    octets (RFC 4022; Linux's too) */
    uint64_t retrans_segs;       /* RetransSegs: sent with any retransmitted octet */
    uint64_t in_errs;            /* InErrs: malformed, truncated, bad checksum */
    uint64_t in_csum_errors;     /* InCsumErrors (also in InErrs) */
    uint64_t out_rsts;           /* OutRsts */
    uint64_t in_rsts;
    uint64_t no_listener;        /* segment to a port with no flow or listener */
    uint64_t closed_rsts_limited; /* RSTs to closed ports suppressed (rate limit) */
    uint64_t listen_overflows;   /* ListenOverflows: backlog full (a SYN-ACK with a cookie,
                                    or with twice the backlog full, nothing) */
    uint64_t challenge_acks;     /* RFC 5961 challenge ACKs sent */
    uint64_t challenge_acks_limited; /* challenge ACKs suppressed by the rate limit */
    uint64_t paws_drops;         /* PAWSEstab */
    uint64_t ts_missing;         /* non-RST segments without the negotiated TSopt (RFC 7323
                                    3.2): dropped under cfg.tcp.strict_timestamps */
    uint64_t out_of_window;      /* segments outside the receive window */
    uint64_t oow_acks_limited;   /* ACKs to unacceptable segments suppressed (rate limit) */
    uint64_t syn_fin_drops;      /* SYN+FIN to a listener, dropped */
    uint64_t ofo_queued;         /* out-of-order segments kept */
    uint64_t ofo_drops;          /* out-of-order segments dropped (bound) */
    uint64_t timeouts;           /* RTO expirations */
    uint64_t fast_retrans;       /* fast retransmits */
    uint64_t dsack_recv;         /* TCPDSACKRecv: ACKs whose first SACK block reports a
                                    duplicate (RFC 2883): a retransmission that was not
                                    needed, or a network duplicate */
    uint64_t keepalive_probes;
    uint64_t keepalive_drops;    /* flows killed by keepalive */
    uint64_t zero_window_probes;
    uint64_t delayed_acks;
    uint64_t syn_cookies_sent, syn_cookies_ok, syn_cookies_failed;
    uint64_t defer_accept_drops; /* TCPDeferAcceptDrop: pure ACKs of SYN cookies to a
                                    listener with defer_ns, no flow opened */
    uint64_t time_wait;          /* gauge: flows in TIME_WAIT */
    uint64_t time_wait_overflows; /* TIME_WAIT entries dropped or not kept (max_time_wait) */
    uint64_t flows;              /* gauge: flow objects alive */
    uint64_t icmp_no_flow;       /* ICMP error quoting no flow of ours: ignored (RFC 5927) */
    uint64_t icmp_out_of_window; /* ICMP error quoting a sequence not in flight: ignored */
    uint64_t icmp_hard_errors;   /* connection attempts ended by a hard ICMP error */
    uint64_t icmp_soft_errors;   /* soft ICMP errors remembered (reported on timeout) */
    uint64_t pmtu_mss_lowered;   /* flows whose MSS a fragmentation-needed lowered */
    uint64_t plpmtud_blackholes; /* full-size segments lost: MSS lowered (RFC 4821) */
    uint64_t plpmtud_probes;     /* probes of a larger MSS sent */
    uint64_t plpmtud_raised;     /* probes acknowledged: MSS raised */
    /* A flow's extension (timer, buffers, SACK, recovery): allocated when
     * the flow gets busy, given back when it goes idle. */
    uint64_t ext_allocs, ext_frees;
    uint64_t ext_drops;          /* segments dropped: no memory for the extension */
    /* ECN (RFC 3168) */
    uint64_t ecn_flows;          /* connections that negotiated ECN */
    uint64_t ecn_ce_segs;        /* CE-marked data segments accepted (echoed with ECE) */
    uint64_t ecn_reductions;     /* cwnd reductions answering ECE (at most one per window) */
    uint64_t delivered_ce;       /* TCPDeliveredCE: segments acknowledged by ACKs with ECE */
    /* Buffer memory and the budget (cfg.tcp.mem_limit; tcp.h) */
    uint64_t mem_bytes;          /* gauge: send, receive and out-of-order storage now */
    uint64_t mem_peak;           /* gauge: the most mem_bytes ever was (a high-water
                                  * mark counts no events: rate() of it means nothing) */
    uint64_t mem_pressures;      /* times memory pressure began */
    uint64_t mem_no_grow;        /* buffer growth refused under pressure */
    uint64_t mem_min_buf;        /* flows opened under pressure with buf_min buffers */
    uint64_t mem_win_clamp;      /* windows offered smaller under pressure */
    uint64_t rcvq_drops;         /* in-order segments (or parts) dropped at the limit */
    uint64_t ofo_mem_drops;      /* out-of-order segments dropped under pressure */
    uint64_t ofo_pruned;         /* out-of-order stores emptied for in-order data */
    uint64_t mem_snd_limited;    /* writes held back by the limit */
    uint64_t rcvbuf_grows, sndbuf_grows; /* auto-tuning steps */
    /* Header prediction (tcp_input.c), Linux's names */
    uint64_t hp_hits;            /* TCPHPHits: in-order data segments on the fast path */
    uint64_t hp_acks;            /* TCPHPAcks: pure ACKs on the fast path */
    uint64_t wscale_over_14;     /* SYNs whose window scale was above 14, used as 14
                                    (RFC 7323 2.3: "SHOULD log the error") */
} oasis_tcp_counters;

/* IPv6 (issue 14): names in metrics.c are Linux's /proc/net/snmp6 ones
 * where one exists (Ip6..., Icmp6...). */
typedef struct oasis_ipv6_counters {
    uint64_t in_receives;        /* Ip6InReceives */
    uint64_t in_hdr_errors;      /* Ip6InHdrErrors: version, payload length 0, bad source,
                                    HBH not first, option running past its header,
                                    fragment length */
    uint64_t in_truncated;       /* Ip6InTruncatedPkts: payload or a header past the frame */
    uint64_t in_addr_errors;     /* Ip6InAddrErrors: not for us (or a tentative address),
                                    or from our own address */
    uint64_t in_unknown_protos;  /* Ip6InUnknownProtos */
    uint64_t in_discards;        /* Ip6InDiscards: No Next Header, allocation */
    uint64_t in_delivers;        /* Ip6InDelivers */
    uint64_t in_mcast_pkts;      /* Ip6InMcastPkts */
    uint64_t in_ext_limit;       /* extension header bombs: headers, options, padding, bytes */
    uint64_t in_bad_options;     /* unknown option whose action bits say discard */
    uint64_t in_rh0;             /* RH0 with segments left (RFC 5095) */
    uint64_t in_routing;         /* other routing headers with segments left */
    uint64_t out_requests;       /* Ip6OutRequests */
    uint64_t out_discards;       /* Ip6OutDiscards */
    uint64_t out_no_routes;      /* Ip6OutNoRoutes */
    uint64_t out_mcast_pkts;     /* Ip6OutMcastPkts */
    uint64_t reasm_reqds;        /* Ip6ReasmReqds */
    uint64_t reasm_oks;          /* Ip6ReasmOKs */
    uint64_t reasm_fails;        /* Ip6ReasmFails */
    uint64_t reasm_timeouts;     /* Ip6ReasmTimeout */
    uint64_t reasm_overlaps;     /* overlapping fragments: datagram dropped (RFC 5722) */
    uint64_t reasm_overflows;    /* dropped for the reassembly memory bound */
    uint64_t reasm_too_many_frags; /* datagram in more fragments than any sender cuts:
                                    dropped whole (also in Ip6ReasmFails) */
    uint64_t reasm_bytes;        /* gauge */
    uint64_t atomic_frags;       /* offset 0, M 0: handled alone (RFC 6946) */
    uint64_t frag_oks;           /* Ip6FragOKs */
    uint64_t frag_fails;         /* Ip6FragFails */
    uint64_t frag_creates;       /* Ip6FragCreates */
    /* Loopback: packets to ::1 or to our own addresses past DAD, and group
     * copies (RFC 3493 IPV6_MULTICAST_LOOP), never reach the link; they
     * share IPv4's queue and are counted as IPv4's are above. */
    uint64_t loop_tx_packets;    /* queued for delivery inside the stack */
    uint64_t loop_rx_packets;    /* taken from that queue into IPv6 input */
    uint64_t loop_drops;         /* queue full, or no memory for a group copy */
} oasis_ipv6_counters;

typedef struct oasis_icmp6_counters {
    uint64_t in_msgs, in_errors, in_csum_errors;           /* Icmp6InMsgs (those in error too,
                                                              RFC 4293), InErrors, InCsumErrors */
    uint64_t in_dest_unreachs, in_pkt_too_bigs, in_time_excds, in_parm_problems;
    uint64_t in_echos, in_echo_replies;
    uint64_t in_mld_queries, in_mld_reports;
    uint64_t in_router_solicits, in_router_adverts, in_neigh_solicits, in_neigh_adverts,
        in_redirects;
    uint64_t out_msgs, out_errors; /* OutErrors: not sent for want of a buffer (RFC 4293
                                      icmpStatsOutErrors), in OutMsgs too */
    uint64_t out_dest_unreachs, out_time_excds, out_parm_problems;
    uint64_t out_echos, out_echo_replies;
    uint64_t out_router_solicits, out_neigh_solicits, out_neigh_adverts, out_mld_reports;
    uint64_t out_rate_limited;   /* errors not sent: rate limit */
    uint64_t in_errors_unowned;  /* errors quoting nothing of ours */
} oasis_icmp6_counters;

/* Neighbour Discovery and address configuration. */
typedef struct oasis_nd_counters {
    uint64_t bad_hop_limit;      /* ND message with hop limit != 255: dropped */
    uint64_t bad_messages;       /* malformed or against RFC 4861 validity rules */
    uint64_t not_for_us;         /* NS whose target is not ours */
    uint64_t resolve_failed;     /* address resolution gave up */
    uint64_t queue_drops;        /* packet waiting for resolution dropped */
    uint64_t cache_entries;      /* gauge */
    uint64_t cache_evictions;
    uint64_t cache_no_room;
    uint64_t dad_ok;             /* addresses that passed DAD */
    uint64_t dad_conflicts;      /* addresses found duplicate: not used */
    uint64_t addr_claimed;       /* someone advertised an address of ours (after DAD) */
    uint64_t slaac_addrs;        /* addresses formed from advertised prefixes */
    uint64_t ra_ignored;         /* RAs failing validation */
    uint64_t routers;            /* gauge: default routers */
    uint64_t prefixes;           /* gauge: on-link prefixes */
    uint64_t redirects;          /* redirects taken into the destination cache */
    uint64_t ra_timers_clamped;  /* RAs whose Reachable Time or Retrans Timer was out of
                                    bounds: raised to the floor or ignored (nd.c) */
    uint64_t dns_servers;        /* gauge: DNS servers from RAs (RFC 8106 RDNSS) */
    uint64_t dns_domains;        /* gauge: search domains from RAs (DNSSL) */
    uint64_t dns_opts_ignored;   /* RDNSS/DNSSL options malformed or past the bound, and
                                    servers not unicast: ignored */
} oasis_nd_counters;

typedef struct oasis_counters {
    oasis_link_counters link;
    oasis_arp_counters arp;
    oasis_ip_counters ip;
    oasis_icmp_counters icmp;
    oasis_udp_counters udp;
    oasis_tcp_counters tcp;
    oasis_ipv6_counters ipv6;
    oasis_icmp6_counters icmp6;
    oasis_nd_counters nd;
    oasis_udp_counters udp6;     /* UDP over IPv6 (metrics "udp6": Udp6InDatagrams ...) */
} oasis_counters;

#ifdef __cplusplus
}
#endif
#endif
