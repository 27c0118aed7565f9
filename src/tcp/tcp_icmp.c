/* ICMP errors into TCP, and TCP's half of RFC 1191 path MTU discovery.
 *
 * RFC 1122 4.2.3.9 / RFC 9293 3.9.2.2: TCP MUST act on ICMP errors
 * (MUST-54), found through the quoted header.
 *  - Source quench: silently ignored (RFC 6633 / MUST-55).
 *  - Soft errors (destination unreachable 0, 1, 5 and the other codes that
 *    name a network or host, time exceeded, parameter problem): the
 *    connection MUST NOT be aborted (MUST-56); the error is remembered and
 *    reported at once as OASIS_TCP_EV_ICMP (RFC 9293 3.9.1.8 MUST-47) and
 *    again if the connection then times out (RFC 1122 4.2.3.9
 *    DISCUSSION, SHLD-25): oasis_tcp_flow_error says OASIS_EHOSTUNREACH
 *    rather than OASIS_ETIMEDOUT. Any segment from the peer forgets it.
 *    cfg.tcp.soft_errors_end_connect asks for RFC 5461's widely deployed
 *    exception instead: in SYN_SENT a soft error ends the attempt.
 *    A segment whose next hop did not resolve (ARP or ND gave up) arrives
 *    here the same way, as host/address unreachable (ip/unreach.c).
 *  - Hard errors (protocol unreachable, port unreachable): SHOULD abort
 *    (SHLD-26). A connection attempt (SYN_SENT) ends at once with
 *    OASIS_EPROTOUNREACH / OASIS_EREFUSED. In the synchronized states they
 *    count as soft, as RFC 5927 7.2 recommends (and Linux and the BSDs do):
 *    a blind attacker who can guess a 4-tuple must not be able to kill an
 *    established connection with one datagram.
 *  - Fragmentation needed (code 4): path MTU discovery (RFC 1191 6.4),
 *    below.
 * ICMPv6 (RFC 4443 3, RFC 4443 2.4, RFC 5927) maps the same way: destination
 * unreachable "no route" is a soft network error, "port unreachable" and
 * parameter problem "unrecognized next header" are the hard ones, the
 * other unreachable codes, time exceeded and parameter problems soft;
 * Packet Too Big is path MTU discovery (RFC 8201), with an MTU below 1280
 * discarded. The same checks come first.
 * RFC 5927 4.1/4.3 checks come first: the quoted 4-tuple must be one of our
 * connections and the quoted sequence number must lie in
 * [SND.UNA, SND.MAX] (SND.MAX: what was ever sent; SND.NXT may have gone
 * back for a retransmission), SND.MAX excluded in SYN-SENT. Anything else
 * is ignored and counted (TCPICMPNoFlow, OutOfWindowIcmps). */
#include "core/bytes.h"
#include "core/stack_impl.h"
#include "icmp/icmp_wire.h"
#include "ipv6/icmp6_wire.h"
#include "oasis/error.h"
#include "oasis/ip.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_sack.h"
#include "tcp/tcp_seq.h"


enum { ERR_IGNORE, ERR_SOFT, ERR_HARD, ERR_PMTU };

static int classify6(const oasis_ip_error *e, int *err)
{
    *err = OASIS_EHOSTUNREACH;
    switch (e->type) {
    case OASIS_ICMP6_DEST_UNREACH:
        if (e->code == OASIS_ICMP6_DU_PORT) {
            *err = OASIS_EREFUSED;
            return ERR_HARD;
        }
        if (e->code == OASIS_ICMP6_DU_NOROUTE)
            *err = OASIS_ENETUNREACH;
        return ERR_SOFT;
    case OASIS_ICMP6_PKT_TOO_BIG:
        return ERR_PMTU;
    case OASIS_ICMP6_TIME_EXCEEDED:
        return ERR_SOFT;
    case OASIS_ICMP6_PARAM_PROBLEM:
        if (e->code == 1) { /* unrecognized next header: no TCP there */
            *err = OASIS_EPROTOUNREACH;
            return ERR_HARD;
        }
        *err = OASIS_EMALFORMED;
        return ERR_SOFT;
    default:
        return ERR_IGNORE;
    }
}

static int classify(const oasis_ip_error *e, int *err)
{
    if (e->family == OASIS_IP_FAMILY_V6)
        return classify6(e, err);
    *err = OASIS_EHOSTUNREACH;
    switch (e->type) {
    case OASIS_ICMP_DEST_UNREACH:
        switch (e->code) {
        case OASIS_ICMP_PROTO_UNREACH:
            *err = OASIS_EPROTOUNREACH;
            return ERR_HARD;
        case OASIS_ICMP_PORT_UNREACH:
            *err = OASIS_EREFUSED;
            return ERR_HARD;
        case OASIS_ICMP_FRAG_NEEDED:
            return ERR_PMTU;
        case 0:  /* net unreachable */
        case 6:  /* destination network unknown */
        case 11: /* network unreachable for the type of service */
            *err = OASIS_ENETUNREACH;
            return ERR_SOFT;
        default: /* host unreachable, source route failed, prohibited... */
            return ERR_SOFT;
        }
    case OASIS_ICMP_TIME_EXCEEDED:
        return ERR_SOFT;
    case OASIS_ICMP_PARAM_PROBLEM:
        *err = OASIS_EMALFORMED;
        return ERR_SOFT;
    default: /* source quench (RFC 6633) and anything else */
        return ERR_IGNORE;
    }
}

void oasis_tcp_mss_changed(oasis_flow *f, int resend)
{
    f->ext->cc.mss = oasis_tcp_eff_mss(f);
    if (!resend || f->snd_una == f->snd_max || f->state < OASIS_TCP_ESTABLISHED)
        return;
    /* As Linux's tcp_simple_retransmit: everything in flight was sent at
     * the old size and is presumed lost; send it again from SND.UNA at the
     * new size, RTO-recovery style (old duplicate ACKs start no fast
     * retransmit) but with the congestion window untouched. */
    oasis_recovery *rc = &f->ext->rec;
    rc->state = OASIS_REC_RTO;
    rc->recover = f->snd_max;
    rc->dupacks = 0;
    rc->lt_segs = 0;
    oasis_sack_on_rto(f);
    f->ext->tm.tlp = f->ext->tm.reorder = OASIS_TCP_NEVER;
    f->snd_nxt = f->snd_una;
    f->rtt_timing = 0;
    oasis_tcp_output(f);
    oasis_tcp_arm_rto(f);
}

/* The MSS for a path MTU: less the IP (20 or 40 bytes) and TCP headers,
 * the MTU first raised to the family's floor (IPv4: OASIS_IPV4_MIN_PMTU,
 * below which our datagrams go without DF; IPv6: 1280). */
static uint32_t mtu_to_mss(const oasis_flow *f, uint32_t mtu)
{
    uint32_t floor = oasis_tcp_conn_v6(&f->c) ? 1280u : OASIS_IPV4_MIN_PMTU;
    return (mtu < floor ? floor : mtu) - 20 - oasis_tcp_ip_hlen(&f->c);
}

/* f's segments shrink to fit a path MTU of mtu (never grow here). */
static void pmtu_apply(oasis_flow *f, uint32_t mtu, int resend)
{
    uint32_t mss = mtu_to_mss(f, mtu);
    if (mss >= oasis_tcp_seg_mss(f) && (!f->ext->mss_icmp || mss >= f->ext->mss_icmp))
        return;
    f->ext->mss_icmp = (uint16_t)mss;
    f->ext->pmtu_until = oasis_pmtu_expires(f->s, &f->c.raddr);
    f->s->ctr.tcp.pmtu_mss_lowered++;
    oasis_tcp_mss_changed(f, resend);
}

void oasis_tcp_pmtu_init(oasis_flow *f)
{
    uint32_t mtu = oasis_pmtu_get(f->s, &f->c.raddr);
    if (mtu < oasis_tcp_link_mtu(f->s, &f->c.raddr))
        pmtu_apply(f, mtu, 0);
}

void oasis_tcp_pmtu_restore(oasis_flow *f)
{
    uint32_t mtu = oasis_pmtu_get(f->s, &f->c.raddr);
    if (mtu >= oasis_tcp_link_mtu(f->s, &f->c.raddr))
        return;
    f->ext->mss_icmp = (uint16_t)mtu_to_mss(f, mtu);
    f->ext->pmtu_until = oasis_pmtu_expires(f->s, &f->c.raddr);
}

void oasis_tcp_pmtu_check(oasis_flow *f)
{
    if (!f->ext->mss_icmp || oasis_now(f->s) < f->ext->pmtu_until)
        return;
    /* RFC 1191 6.3: the lowered estimate aged out; try the link's size
     * again (a router still too small will say so again). */
    f->ext->mss_icmp = 0;
    oasis_tcp_mss_changed(f, 0);
    oasis_tcp_pmtu_init(f); /* another flow may have refreshed the entry */
}

/* RFC 1191 6.4: lower the destination's path MTU; every flow to it shrinks
 * its segments, and this one resends what was in flight at the new size. */
static void frag_needed(oasis_flow *f, uint32_t mtu)
{
    oasis_stack *s = f->s;
    const oasis_ipaddr *dst = &f->c.raddr;
    oasis_pmtu_lower(s, dst, mtu); /* 0: no decrease (RFC 1191 6.3 ignores increases) */
    uint32_t path = oasis_pmtu_get(s, dst);
    if (path >= oasis_tcp_link_mtu(s, dst))
        return;
    /* An idle flow has no extension to lower: it reads the lowered entry
     * when it gets one back (oasis_tcp_pmtu_restore). */
    for (oasis_flow *g = oasis_tcp_flow_next(s, NULL); g; g = oasis_tcp_flow_next(s, g))
        if (g != f && g->in_table && g->ext && oasis_ipaddr_eq(&g->c.raddr, dst))
            pmtu_apply(g, path, 0);
    pmtu_apply(f, path, 1);
}

/* RFC 5927 4.1: SND.UNA =< SEG.SEQ < SND.NXT (SND.MAX here: NXT may have
 * gone back for a retransmission). SND.MAX itself is allowed where a
 * zero-length segment of ours (an ACK) can carry it, so that a flow that
 * only receives still hears of soft errors; in SYN-SENT nothing but the
 * SYN (at ISS) was ever sent, and a quote of ISS+1 is forged: it must not
 * end the attempt (FreeBSD tcp-testsuite rcv-icmp-hard-error-*). */
static int seq_in_flight(const oasis_flow *f, uint32_t seq)
{
    if (!oasis_seq_ge(seq, f->snd_una))
        return 0;
    if (oasis_seq_lt(seq, f->snd_max))
        return 1;
    return seq == f->snd_max && f->state != OASIS_TCP_SYN_SENT;
}

void oasis_tcp_icmp_error(oasis_stack *s, const oasis_ip_error *e)
{
    if (!s->tcp || e->quote_len < 8)
        return;
    oasis_ipaddr src, dst;
    if (e->family == OASIS_IP_FAMILY_V4) {
        src = oasis_ipaddr_v4(e->src);
        dst = oasis_ipaddr_v4(e->dst);
    } else if (e->family == OASIS_IP_FAMILY_V6 && e->src6 && e->dst6) {
        src = oasis_ipaddr_v6(e->src6);
        dst = oasis_ipaddr_v6(e->dst6);
    } else {
        return;
    }
    uint16_t sport = oasis_get16(e->quote), dport = oasis_get16(e->quote + 2);
    uint32_t seq = oasis_get32(e->quote + 4);
    oasis_tcp_conn *c = oasis_tcp_lookup(s, &src, sport, &dst, dport);
    if (!c || c->kind != OASIS_TCP_KIND_FLOW) {
        s->ctr.tcp.icmp_no_flow++; /* no connection (TIME_WAIT has nothing in flight) */
        return;
    }
    oasis_flow *f = (oasis_flow *)c;
    if (!seq_in_flight(f, seq)) {
        s->ctr.tcp.icmp_out_of_window++;
        return;
    }
    int err;
    int kind = classify(e, &err);
    if (kind == ERR_HARD && f->state != OASIS_TCP_SYN_SENT)
        kind = ERR_SOFT; /* RFC 5927 7.2 */
    if (oasis_tcp_ext_get(f)) {
        s->ctr.tcp.ext_drops++; /* no memory to act on it: as if lost */
        return;
    }
    f->busy++;
    switch (kind) {
    case ERR_PMTU:
        frag_needed(f, e->mtu);
        break;
    case ERR_HARD:
        s->ctr.tcp.icmp_hard_errors++;
        oasis_tcp_flow_end(f, err);
        break;
    case ERR_SOFT:
        s->ctr.tcp.icmp_soft_errors++;
        if (f->state == OASIS_TCP_SYN_SENT && s->cfg.tcp.soft_errors_end_connect) {
            oasis_tcp_flow_end(f, err); /* RFC 5461 4, asked for */
            break;
        }
        f->ext->soft_err = (int8_t)err;
        oasis_tcp_post_event(f, OASIS_TCP_EV_ICMP); /* RFC 9293 3.9.1.8 */
        break;
    default:
        break;
    }
    f->busy--;
    oasis_tcp_ext_put(f);
    oasis_tcp_maybe_free(f);
}
