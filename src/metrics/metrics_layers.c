/* Built-in sources: one measurement per layer, read from oasis_counters.
 * Each layer is a table of (field name, offset); names follow the Linux MIB
 * (Ip, Icmp, Udp, Tcp and TcpExt in /proc/net/snmp and netstat) where one
 * exists, so dashboards made for Linux hosts read Oasis the same way. */
#include "metrics/metrics_impl.h"

#include "oasis/error.h"
#include "oasis/ipv6.h"

#include <stddef.h>
#include <string.h>

typedef struct layer_field {
    const char *name;
    size_t off;
} layer_field;

#define F(s, member, name) {name, offsetof(s, member)}

#define L(m, n) F(oasis_link_counters, m, n)
static const layer_field link_fields[] = {
    L(rx_frames, "RxFrames"), L(rx_bytes, "RxBytes"), L(tx_frames, "TxFrames"),
    L(tx_bytes, "TxBytes"), L(tx_errors, "TxErrors"), L(rx_malformed, "RxMalformed"),
    L(rx_not_for_us, "RxNotForUs"), L(rx_unknown_type, "RxUnknownType"),
};
#undef L

#define A(m, n) F(oasis_arp_counters, m, n)
static const layer_field arp_fields[] = {
    A(rx_requests, "RxRequests"), A(rx_replies, "RxReplies"), A(tx_requests, "TxRequests"),
    A(tx_replies, "TxReplies"), A(tx_gratuitous, "TxGratuitous"), A(rx_malformed, "RxMalformed"),
    A(rx_not_for_us, "RxNotForUs"), A(resolve_failed, "ResolveFailed"),
    A(queue_drops, "QueueDrops"), A(cache_evictions, "CacheEvictions"),
    A(cache_expired, "CacheExpired"), A(cache_entries, "CacheEntries"),
    A(queue_superseded, "QueueSuperseded"), A(rx_sha_mismatch, "RxShaMismatch"),
    A(rx_bad_sender, "RxBadSender"), A(rx_unsolicited, "RxUnsolicited"),
    A(cache_no_room, "CacheNoRoom"), A(mac_change_suspect, "MacChangeSuspect"),
    A(mac_changes, "MacChanges"), A(addr_conflicts, "AddrConflicts"),
    A(tx_defends, "TxDefends"), A(cache_refreshes, "CacheRefreshes"),
};
#undef A

#define I(m, n) F(oasis_ip_counters, m, n)
static const layer_field ip_fields[] = {
    I(in_receives, "InReceives"), I(in_delivers, "InDelivers"),
    I(in_hdr_errors, "InHdrErrors"), I(in_csum_errors, "InCsumErrors"),
    I(in_truncated, "InTruncatedPkts"), I(in_addr_errors, "InAddrErrors"),
    I(in_unknown_protos, "InUnknownProtos"), I(out_requests, "OutRequests"),
    I(out_no_routes, "OutNoRoutes"), I(out_discards, "OutDiscards"),
    I(reasm_reqds, "ReasmReqds"), I(reasm_oks, "ReasmOKs"), I(reasm_fails, "ReasmFails"),
    I(reasm_timeouts, "ReasmTimeout"), I(reasm_overflows, "ReasmOverflows"),
    I(reasm_too_many_frags, "ReasmTooManyFrags"),
    I(reasm_bytes, "ReasmBytes"), I(frag_oks, "FragOKs"), I(frag_fails, "FragFails"),
    I(frag_creates, "FragCreates"), I(in_martians, "InMartians"),
    I(in_source_routed, "InSrcRouted"),
    I(pmtu_lowered, "PMTULowered"), I(pmtu_expired, "PMTUExpired"),
    I(pmtu_evictions, "PMTUEvictions"), I(pmtu_below_min, "PMTUBelowMin"),
    I(loop_tx_packets, "LoopTxPackets"), I(loop_rx_packets, "LoopRxPackets"),
    I(loop_drops, "LoopDrops"),
    I(in_noect_pkts, "InNoECTPkts"), I(in_ect1_pkts, "InECT1Pkts"),
    I(in_ect0_pkts, "InECT0Pkts"), I(in_ce_pkts, "InCEPkts"),
    I(igmp_in_msgs, "IgmpInMsgs"), I(igmp_in_errors, "IgmpInErrors"),
    I(igmp_in_queries, "IgmpInQueries"), I(igmp_out_msgs, "IgmpOutMsgs"),
};
#undef I

#define C(m, n) F(oasis_icmp_counters, m, n)
static const layer_field icmp_fields[] = {
    C(in_msgs, "InMsgs"), C(in_errors, "InErrors"), C(in_csum_errors, "InCsumErrors"),
    C(in_echos, "InEchos"), C(in_echo_reps, "InEchoReps"),
    C(in_dest_unreachs, "InDestUnreachs"), C(out_msgs, "OutMsgs"), C(out_echos, "OutEchos"),
    C(out_echo_reps, "OutEchoReps"), C(out_dest_unreachs, "OutDestUnreachs"),
    C(out_rate_limited, "OutRateLimited"), C(in_time_excds, "InTimeExcds"),
    C(in_parm_probs, "InParmProbs"), C(in_src_quenchs, "InSrcQuenchs"),
    C(in_errors_unowned, "InErrorsUnowned"), C(in_redirects, "InRedirects"),
    C(redirects_taken, "RedirectsTaken"), C(redirects_ignored, "RedirectsIgnored"),
    C(out_time_excds, "OutTimeExcds"), C(out_parm_probs, "OutParmProbs"),
};
#undef C

#define U(m, n) F(oasis_udp_counters, m, n)
static const layer_field udp_fields[] = {
    U(in_datagrams, "InDatagrams"), U(no_ports, "NoPorts"), U(in_errors, "InErrors"),
    U(in_csum_errors, "InCsumErrors"), U(out_datagrams, "OutDatagrams"),
    U(zero_csum, "InZeroCsum"), U(icmp_errors, "IcmpErrors"), U(icmp_no_port, "IcmpNoPort"),
};
#undef U

#define T(m, n) F(oasis_tcp_counters, m, n)
static const layer_field tcp_fields[] = {
    T(active_opens, "ActiveOpens"), T(passive_opens, "PassiveOpens"),
    T(attempt_fails, "AttemptFails"), T(estab_resets, "EstabResets"),
    T(curr_estab, "CurrEstab"), T(in_segs, "InSegs"), T(out_segs, "OutSegs"),
    T(retrans_segs, "RetransSegs"), T(in_errs, "InErrs"), T(in_csum_errors, "InCsumErrors"),
    T(out_rsts, "OutRsts"), T(in_rsts, "InRsts"), T(no_listener, "NoListener"),
    T(closed_rsts_limited, "ClosedRstsLimited"),
    T(listen_overflows, "ListenOverflows"), T(challenge_acks, "TCPChallengeACK"),
    T(challenge_acks_limited, "TCPChallengeACKLimited"), T(paws_drops, "PAWSEstab"),
    T(ts_missing, "TCPTSMissing"),
    T(out_of_window, "OutOfWindowDrops"), T(oow_acks_limited, "TCPACKSkippedInvalid"),
    T(syn_fin_drops, "TCPSynFinDrop"), T(ofo_queued, "TCPOFOQueue"),
    T(ofo_drops, "TCPOFODrop"), T(timeouts, "TCPTimeouts"), T(fast_retrans, "TCPFastRetrans"),
    T(dsack_recv, "TCPDSACKRecv"),
    T(keepalive_probes, "TCPKeepAlive"), T(keepalive_drops, "KeepaliveDrops"),
    T(zero_window_probes, "TCPWinProbe"), T(delayed_acks, "DelayedACKs"),
    T(syn_cookies_sent, "SyncookiesSent"), T(syn_cookies_ok, "SyncookiesRecv"),
    T(syn_cookies_failed, "SyncookiesFailed"), T(defer_accept_drops, "TCPDeferAcceptDrop"), T(time_wait, "CurrTimeWait"),
    T(time_wait_overflows, "TCPTimeWaitOverflow"),
    T(flows, "CurrFlows"),
    T(icmp_no_flow, "TCPICMPNoFlow"), T(icmp_out_of_window, "OutOfWindowIcmps"),
    T(icmp_hard_errors, "TCPICMPHardErrors"), T(icmp_soft_errors, "TCPICMPSoftErrors"),
    T(pmtu_mss_lowered, "TCPPMTUMSSLowered"), T(plpmtud_blackholes, "TCPMTUPFail"),
    T(plpmtud_probes, "TCPMTUPProbes"), T(plpmtud_raised, "TCPMTUPSuccess"),
    T(ext_allocs, "FlowExtAllocs"), T(ext_frees, "FlowExtFrees"),
    T(ext_drops, "FlowExtDrops"),
    T(ecn_flows, "TCPECNFlows"), T(ecn_ce_segs, "TCPECNCESegs"),
    T(ecn_reductions, "TCPECNReductions"), T(delivered_ce, "TCPDeliveredCE"),
    T(mem_bytes, "TCPMemBytes"), T(mem_peak, "TCPMemPeakBytes"),
    T(mem_pressures, "TCPMemoryPressures"), T(mem_no_grow, "TCPMemNoGrow"),
    T(mem_min_buf, "TCPMemMinBuf"), T(mem_win_clamp, "TCPMemWinClamp"),
    T(rcvq_drops, "TCPRcvQDrop"), T(ofo_mem_drops, "TCPOFOMemDrop"),
    T(ofo_pruned, "OfoPruned"), T(mem_snd_limited, "TCPMemSndLimited"),
    T(rcvbuf_grows, "TCPRcvBufGrow"), T(sndbuf_grows, "TCPSndBufGrow"),
    T(hp_hits, "TCPHPHits"), T(hp_acks, "TCPHPAcks"),
    T(wscale_over_14, "TCPWinScaleOver14"),
};
#undef T

#define V(m, n) F(oasis_ipv6_counters, m, n)
static const layer_field ipv6_fields[] = {
    V(in_receives, "Ip6InReceives"), V(in_hdr_errors, "Ip6InHdrErrors"),
    V(in_truncated, "Ip6InTruncatedPkts"), V(in_addr_errors, "Ip6InAddrErrors"),
    V(in_unknown_protos, "Ip6InUnknownProtos"), V(in_discards, "Ip6InDiscards"),
    V(in_delivers, "Ip6InDelivers"), V(in_mcast_pkts, "Ip6InMcastPkts"),
    V(in_ext_limit, "Ip6InExtHdrLimit"), V(in_bad_options, "Ip6InBadOptions"),
    V(in_rh0, "Ip6InRH0"), V(in_routing, "Ip6InRoutingHdr"),
    V(out_requests, "Ip6OutRequests"), V(out_discards, "Ip6OutDiscards"),
    V(out_no_routes, "Ip6OutNoRoutes"), V(out_mcast_pkts, "Ip6OutMcastPkts"),
    V(reasm_reqds, "Ip6ReasmReqds"), V(reasm_oks, "Ip6ReasmOKs"),
    V(reasm_fails, "Ip6ReasmFails"), V(reasm_timeouts, "Ip6ReasmTimeout"),
    V(reasm_overlaps, "Ip6ReasmOverlaps"), V(reasm_overflows, "Ip6ReasmOverflows"),
    V(reasm_too_many_frags, "Ip6ReasmTooManyFrags"),
    V(reasm_bytes, "Ip6ReasmBytes"), V(atomic_frags, "Ip6AtomicFrags"),
    V(frag_oks, "Ip6FragOKs"), V(frag_fails, "Ip6FragFails"), V(frag_creates, "Ip6FragCreates"),
    V(loop_tx_packets, "Ip6LoopTxPackets"), V(loop_rx_packets, "Ip6LoopRxPackets"),
    V(loop_drops, "Ip6LoopDrops"),
};
#undef V

#define G(m, n) F(oasis_icmp6_counters, m, n)
static const layer_field icmp6_fields[] = {
    G(in_msgs, "Icmp6InMsgs"), G(in_errors, "Icmp6InErrors"),
    G(in_csum_errors, "Icmp6InCsumErrors"), G(in_dest_unreachs, "Icmp6InDestUnreachs"),
    G(in_pkt_too_bigs, "Icmp6InPktTooBigs"), G(in_time_excds, "Icmp6InTimeExcds"),
    G(in_parm_problems, "Icmp6InParmProblems"), G(in_echos, "Icmp6InEchos"),
    G(in_echo_replies, "Icmp6InEchoReplies"), G(in_mld_queries, "Icmp6InGroupMembQueries"),
    G(in_mld_reports, "Icmp6InGroupMembResponses"),
    G(in_router_solicits, "Icmp6InRouterSolicits"),
    G(in_router_adverts, "Icmp6InRouterAdvertisements"),
    G(in_neigh_solicits, "Icmp6InNeighborSolicits"),
    G(in_neigh_adverts, "Icmp6InNeighborAdvertisements"), G(in_redirects, "Icmp6InRedirects"),
    G(out_msgs, "Icmp6OutMsgs"), G(out_errors, "Icmp6OutErrors"),
    G(out_dest_unreachs, "Icmp6OutDestUnreachs"), G(out_time_excds, "Icmp6OutTimeExcds"),
    G(out_parm_problems, "Icmp6OutParmProblems"), G(out_echos, "Icmp6OutEchos"),
    G(out_echo_replies, "Icmp6OutEchoReplies"),
    G(out_router_solicits, "Icmp6OutRouterSolicits"),
    G(out_neigh_solicits, "Icmp6OutNeighborSolicits"),
    G(out_neigh_adverts, "Icmp6OutNeighborAdvertisements"),
    G(out_mld_reports, "Icmp6OutMLDv2Reports"), G(out_rate_limited, "Icmp6OutRateLimited"),
    G(in_errors_unowned, "Icmp6InErrorsUnowned"),
};
#undef G

/* UDP over IPv6 as Linux's /proc/net/snmp6 names it, then Oasis's own. */
#define U6(m, n) F(oasis_udp_counters, m, n)
static const layer_field udp6_fields[] = {
    U6(in_datagrams, "Udp6InDatagrams"), U6(no_ports, "Udp6NoPorts"),
    U6(in_errors, "Udp6InErrors"), U6(in_csum_errors, "Udp6InCsumErrors"),
    U6(out_datagrams, "Udp6OutDatagrams"), U6(zero_csum, "Udp6InZeroCsum"),
    U6(icmp_errors, "Udp6IcmpErrors"), U6(icmp_no_port, "Udp6IcmpNoPort"),
};
#undef U6

#define N(m, n) F(oasis_nd_counters, m, n)
static const layer_field nd_fields[] = {
    N(bad_hop_limit, "NdBadHopLimit"), N(bad_messages, "NdBadMessages"),
    N(not_for_us, "NdNotForUs"), N(resolve_failed, "NdResolveFailed"),
    N(queue_drops, "NdQueueDrops"), N(cache_entries, "NdCacheEntries"),
    N(cache_evictions, "NdCacheEvictions"), N(cache_no_room, "NdCacheNoRoom"),
    N(dad_ok, "DadOK"), N(dad_conflicts, "DadConflicts"), N(addr_claimed, "AddrClaimed"),
    N(slaac_addrs, "SlaacAddrs"), N(ra_ignored, "RaIgnored"), N(routers, "Routers"),
    N(prefixes, "Prefixes"), N(redirects, "Redirects"), N(ra_timers_clamped, "RaTimersClamped"),
    N(dns_servers, "RaDnsServers"), N(dns_domains, "RaDnsDomains"),
    N(dns_opts_ignored, "RaDnsOptsIgnored"),
};
#undef N
#undef F

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct layer_desc {
    const char *measurement;
    size_t off;                 /* of the layer's struct in oasis_counters */
    const layer_field *fields;
    size_t nfields;
} layer_desc;

static const layer_desc layers[] = {
    {"link", offsetof(oasis_counters, link), link_fields, COUNT(link_fields)},
    {"arp", offsetof(oasis_counters, arp), arp_fields, COUNT(arp_fields)},
    {"ipv4", offsetof(oasis_counters, ip), ip_fields, COUNT(ip_fields)},
    {"icmp", offsetof(oasis_counters, icmp), icmp_fields, COUNT(icmp_fields)},
    {"udp", offsetof(oasis_counters, udp), udp_fields, COUNT(udp_fields)},
    {"tcp", offsetof(oasis_counters, tcp), tcp_fields, COUNT(tcp_fields)},
    {"ipv6", offsetof(oasis_counters, ipv6), ipv6_fields, COUNT(ipv6_fields)},
    {"icmp6", offsetof(oasis_counters, icmp6), icmp6_fields, COUNT(icmp6_fields)},
    {"nd", offsetof(oasis_counters, nd), nd_fields, COUNT(nd_fields)},
    {"udp6", offsetof(oasis_counters, udp6), udp6_fields, COUNT(udp6_fields)},
};

/* What a layer source reads: where the counters are, found afresh on every
 * read for a stack (the getter) or fixed for a bare counters struct. */
typedef struct layer_priv {
    const layer_desc *desc;
    const oasis_counters *fixed;
    oasis_stack *stack;
    const oasis_counters *(*get)(const oasis_stack *s);
} layer_priv;

/* The current values among the counters (counters.h marks them "gauge"). */
static int is_gauge(const char *name)
{
    static const char *const gauges[] = {"CurrEstab", "CurrTimeWait", "CurrFlows", "TCPMemBytes",
                                         "TCPMemPeakBytes",
                                         "CacheEntries", "ReasmBytes", "Ip6ReasmBytes",
                                         "NdCacheEntries", "Routers", "Prefixes",
                                         "RaDnsServers", "RaDnsDomains"};
    for (size_t i = 0; i < sizeof gauges / sizeof gauges[0]; i++)
        if (strcmp(name, gauges[i]) == 0)
            return 1;
    return 0;
}

static int read_layer(oasis_metrics_emit *e, void *ud)
{
    const layer_priv *lp = ud;
    const oasis_counters *c = lp->fixed ? lp->fixed : lp->get(lp->stack);
    if (!c)
        return OASIS_EINVAL;
    const unsigned char *base = (const unsigned char *)c + lp->desc->off;
    for (size_t i = 0; i < lp->desc->nfields; i++) {
        uint64_t v;
        memcpy(&v, base + lp->desc->fields[i].off, sizeof v);
        const char *name = lp->desc->fields[i].name;
        int rc = is_gauge(name) ? oasis_metrics_field_uint(e, name, v)
                                : oasis_metrics_field_counter(e, name, v);
        if (rc)
            return rc;
    }
    return OASIS_OK;
}

/* The IPv4 layers come first in `layers`; the IPv6 ones (ipv6, icmp6,
 * nd, udp6) after them. */
#define NLAYERS_V4 6

/* Adds the first n layer sources; on failure the ones added are removed. */
static int add_layers(oasis_metrics *m, const oasis_counters *fixed, oasis_stack *s,
                      const oasis_counters *(*get)(const oasis_stack *), const void *key,
                      const oasis_metric_tag *tags, size_t ntags, size_t n)
{
    if (!m || !key)
        return OASIS_EINVAL;
    size_t before = oasis_metrics_source_count(m);
    for (size_t i = 0; i < n; i++) {
        layer_priv *lp = metrics_alloc(m, NULL, sizeof *lp);
        int rc = OASIS_ENOMEM;
        if (lp) {
            *lp = (layer_priv){&layers[i], fixed, s, get};
            rc = metrics_add_source_ex(m, layers[i].measurement, tags, ntags, read_layer, lp, key,
                                       lp, NULL);
        }
        if (rc) {
            /* Only this call's sources carry key at the tail; drop them. */
            while (oasis_metrics_source_count(m) > before)
                oasis_metrics_remove(m->tail);
            return rc;
        }
    }
    return OASIS_OK;
}

int oasis_metrics_add_counters(oasis_metrics *m, const oasis_counters *c,
                               const oasis_metric_tag *tags, size_t ntags)
{
    if (!c)
        return OASIS_EINVAL;
    return add_layers(m, c, NULL, NULL, c, tags, ntags, COUNT(layers));
}

int metrics_add_stack_layers(oasis_metrics *m, oasis_stack *s,
                             const oasis_counters *(*get)(const oasis_stack *),
                             const oasis_metric_tag *tags, size_t ntags)
{
    if (!s || !get)
        return OASIS_EINVAL;
    /* A stack without IPv6 has no IPv6 layers to report. */
    return add_layers(m, NULL, s, get, s, tags, ntags,
                      oasis_ipv6_enabled(s) ? COUNT(layers) : NLAYERS_V4);
}

const char *oasis_metrics_layer_field(const char *measurement, size_t i)
{
    if (!measurement)
        return NULL;
    for (size_t l = 0; l < COUNT(layers); l++) {
        if (strcmp(layers[l].measurement, measurement) == 0)
            return i < layers[l].nfields ? layers[l].fields[i].name : NULL;
    }
    return NULL;
}
