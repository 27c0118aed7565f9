/* ICMPv6 (RFC 4443): input and dispatch (ND and MLD to nd.c/addrconf.c),
 * echo replies, errors under the rules of 2.4 with a token bucket, errors
 * received handed to the protocol that sent the quoted packet, and ping. */
#include "ipv6/ipv6.h"

#include "core/bytes.h"
#include "core/mem.h"
#include "core/stack_impl.h"
#include "ip/ipv4.h" /* the path MTU cache (ip/pmtu.c) */
#include "ip/proto.h"
#include "ipv6/icmp6_wire.h"
#include "ipv6/nd_wire.h"
#include "oasis/error.h"

#include <string.h>

struct oasis_ping6_req {
    oasis_ping6_req *next;
    oasis_in6 dst;
    uint16_t id, seq;
    uint64_t sent_at;
    oasis_ping_cb cb;
    void *ud;
    int doomed;
    oasis_timer timer;
};

static void icmp6_in(oasis_stack *s, const oasis_ip_packet *pkt, void *ud);
static void icmp6_err(oasis_stack *s, const oasis_ip_error *e, void *ud);
/* A ping's doomed mark: its next hop failed, it fails with OASIS_EUNREACH
 * (DOOMED), and the run of fail_doomed in progress is failing it (FAILING). */
enum { DOOMED = 1, FAILING = 2 };

static void doomed_timer(oasis_stack *s, oasis_timer *t);

int oasis_icmp6_init(oasis_stack *s)
{
    oasis_ipv6 *v = s->ip6;
    oasis_timer_init(&v->doomed_timer, doomed_timer);
    v->tokens = s->cfg.icmp_burst;
    v->tokens_at = oasis_now(s);
    return oasis_ip_register(s, OASIS_NH_ICMPV6, icmp6_in, icmp6_err, NULL);
}

static oasis_ping6_req *find_ping(oasis_stack *s, const oasis_in6 *peer, uint16_t id, uint16_t seq)
{
    oasis_ping6_req *r = s->ip6->pings;
    while (r && !(r->id == id && r->seq == seq && oasis_in6_eq(&r->dst, peer)))
        r = r->next;
    return r;
}

/* The request an echo reply from peer answers: one to peer itself, or
 * one to a group, which any member may answer (RFC 4443 4.2) and the
 * first answer completes. */
static oasis_ping6_req *find_replied(oasis_stack *s, const oasis_in6 *peer, uint16_t id,
                                     uint16_t seq)
{
    oasis_ping6_req *r = s->ip6->pings;
    while (r && !(r->id == id && r->seq == seq &&
                  (oasis_in6_eq(&r->dst, peer) || oasis_in6_is_multicast(&r->dst))))
        r = r->next;
    return r;
}

static void unlink_ping(oasis_stack *s, oasis_ping6_req *r)
{
    oasis_ping6_req **pp = &s->ip6->pings;
    while (*pp && *pp != r)
        pp = &(*pp)->next;
    if (*pp)
        *pp = r->next;
    oasis_timer_stop(s, &r->timer);
}

static void finish(oasis_stack *s, oasis_ping6_req *r, int err)
{
    oasis_ping_cb cb = r->cb;
    void *ud = r->ud;
    uint16_t seq = r->seq;
    uint64_t rtt = err ? 0 : oasis_now(s) - r->sent_at;
    unlink_ping(s, r);
    oasis_free(s, r);
    cb(s, err, seq, rtt, ud);
}

void oasis_icmp6_fini(oasis_stack *s)
{
    s->ip6->closed = 1;
    oasis_timer_stop(s, &s->ip6->doomed_timer);
    while (s->ip6->pings)
        finish(s, s->ip6->pings, OASIS_ECANCELED);
}

static int take_token(oasis_stack *s)
{
    oasis_ipv6 *v = s->ip6;
    uint64_t now = oasis_now(s);
    if (s->cfg.icmp_rate_per_sec == 0)
        return 1;
    v->tokens += (double)(now - v->tokens_at) * s->cfg.icmp_rate_per_sec / 1e9;
    v->tokens_at = now;
    if (v->tokens > s->cfg.icmp_burst)
        v->tokens = s->cfg.icmp_burst;
    if (v->tokens < 1.0)
        return 0;
    v->tokens -= 1.0;
    return 1;
}

/* RFC 4293 icmpStatsOutErrors: a message ICMPv6 "did not send due to
 * problems discovered within ICMP, such as a lack of buffers" (never one
 * that went out, nor one IP could not route); OutMsgs, the messages it
 * "attempted to send", includes them. */
void oasis_icmp6_out_failed(oasis_stack *s)
{
    s->ctr.icmp6.out_msgs++;
    s->ctr.icmp6.out_errors++;
}

int oasis_icmp6_send(oasis_stack *s, const oasis_in6 *src, const oasis_in6 *dst, uint8_t hop_limit,
                     const uint8_t *msg, size_t len)
{
    oasis_in6 from;
    if (src) {
        from = *src;
    } else if (oasis_ipv6_select_src(s, dst, &from) != 0) {
        s->ctr.ipv6.out_no_routes++;
        return OASIS_ENOROUTE;
    }
    oasis_pbuf *p = oasis_pbuf_alloc(s, OASIS_PBUF_HEADROOM, len);
    if (!p) {
        oasis_icmp6_out_failed(s);
        return OASIS_ENOMEM;
    }
    memcpy(p->data, msg, len);
    oasis_icmp6_finish(p->data, len, msg[0], msg[1], oasis_get32(msg + 4), &from, dst);
    int err = oasis_ipv6_output(s, p, &from, dst, OASIS_NH_ICMPV6, hop_limit);
    if (!err)
        s->ctr.icmp6.out_msgs++;
    return err;
}

/* Is the packet an ICMPv6 error or a redirect (RFC 4443 2.4 e.1, e.2)?
 * Asked of packets whose extension headers may be what is wrong with them
 * (an unknown option, a misplaced Hop-by-Hop header, RH0) and of first
 * fragments (reassembly timeouts): the headers are skipped by length. */
static int is_icmp_error_or_redirect(const uint8_t *pkt, size_t len)
{
    uint32_t off;
    uint8_t proto;
    if (oasis_ipv6_upper_layer(pkt, len, &off, &proto) != 0)
        return 0;
    if (proto != OASIS_NH_ICMPV6 || off >= len)
        return 0;
    return oasis_icmp6_is_error(pkt[off]) || pkt[off] == OASIS_ICMP6_REDIRECT;
}

void oasis_icmp6_send_error(oasis_stack *s, uint8_t type, uint8_t code, uint32_t word,
                            const uint8_t *pkt, size_t len, int link_mcast, int mcast_ok)
{
    oasis_icmp6_counters *c = &s->ctr.icmp6;
    oasis_in6 osrc, odst;
    if (len < OASIS_IPV6_HLEN)
        return;
    memcpy(osrc.b, pkt + 8, 16);
    memcpy(odst.b, pkt + 24, 16);
    /* RFC 4443 2.4 (e): never about an error or a redirect, never to a
     * source that is no single node, never about a multicast packet except
     * Packet Too Big and Parameter Problem code 2 whose option asked for it. */
    if (oasis_in6_is_unspecified(&osrc) || oasis_in6_is_multicast(&osrc))
        return;
    int mcast = oasis_in6_is_multicast(&odst) || link_mcast;
    if (mcast && !(type == OASIS_ICMP6_PKT_TOO_BIG ||
                   (type == OASIS_ICMP6_PARAM_PROBLEM && code == OASIS_ICMP6_PP_OPTION && mcast_ok)))
        return;
    if (is_icmp_error_or_redirect(pkt, len))
        return;
    /* Nothing about a packet to a transparent stack's foreign address: the
     * error would come from an address of ours, not from the one the
     * sender thinks it reached (ICMP's error_allowed refuses it too). */
    if (!mcast && s->cfg.transparent) {
        oasis_ipaddr d = oasis_ipaddr_v6(odst.b);
        if (oasis_ipv6_foreign(s, &d))
            return;
    }
    /* (f): rate-limited. */
    if (!take_token(s)) {
        c->out_rate_limited++;
        return;
    }
    /* The source: the address the packet went to when it is ours, else the
     * one we would use to reach its sender. */
    oasis_in6 from;
    const ip6_addr *a = oasis_ipv6_find_addr(s, &odst);
    if (a && (a->state == OASIS_IPV6_PREFERRED || a->state == OASIS_IPV6_DEPRECATED))
        from = odst;
    else if (oasis_ipv6_select_src(s, &osrc, &from) != 0)
        return;
    /* As much of the packet as fits in the minimum MTU. */
    size_t quote = len;
    if (quote > OASIS_IPV6_MIN_MTU - OASIS_IPV6_HLEN - OASIS_ICMP6_HLEN)
        quote = OASIS_IPV6_MIN_MTU - OASIS_IPV6_HLEN - OASIS_ICMP6_HLEN;
    oasis_pbuf *p = oasis_pbuf_alloc(s, OASIS_PBUF_HEADROOM, OASIS_ICMP6_HLEN + quote);
    if (!p) {
        oasis_icmp6_out_failed(s);
        return;
    }
    memcpy(p->data + OASIS_ICMP6_HLEN, pkt, quote);
    oasis_icmp6_finish(p->data, OASIS_ICMP6_HLEN + quote, type, code, word, &from, &osrc);
    if (oasis_ipv6_output(s, p, &from, &osrc, OASIS_NH_ICMPV6, 0) != OASIS_OK)
        return;
    c->out_msgs++;
    switch (type) {
    case OASIS_ICMP6_DEST_UNREACH: c->out_dest_unreachs++; break;
    case OASIS_ICMP6_TIME_EXCEEDED: c->out_time_excds++; break;
    case OASIS_ICMP6_PARAM_PROBLEM: c->out_parm_problems++; break;
    default: break;
    }
}

/* RFC 4443 4.2: the reply carries the request's identifier, sequence and
 * data; to a multicast request it comes from a unicast address of ours. */
static void answer_echo(oasis_stack *s, const oasis_ipv6_hdr *ip, const oasis_icmp6_hdr *m)
{
    if (oasis_in6_is_unspecified(&ip->src))
        return;
    oasis_pbuf *p = oasis_pbuf_alloc(s, OASIS_PBUF_HEADROOM, m->len);
    if (!p) {
        oasis_icmp6_out_failed(s);
        return;
    }
    oasis_in6 from;
    if (!oasis_in6_is_multicast(&ip->dst))
        from = ip->dst;
    else if (oasis_ipv6_select_src(s, &ip->src, &from) != 0) {
        oasis_pbuf_free(s, p);
        return;
    }
    memcpy(p->data + OASIS_ICMP6_HLEN, m->body, m->body_len);
    oasis_icmp6_finish(p->data, m->len, OASIS_ICMP6_ECHO_REPLY, 0, m->word, &from, &ip->src);
    if (oasis_ipv6_output(s, p, &from, &ip->src, OASIS_NH_ICMPV6, 0) == OASIS_OK) {
        s->ctr.icmp6.out_msgs++;
        s->ctr.icmp6.out_echo_replies++;
    }
}

/* An error about a packet we sent (RFC 4443 3): its upper layer hears of
 * it. The quoted packet's source must be ours (RFC 5927 4.1); the quote
 * must reach 8 bytes into the upper-layer header. */
static void error_input(oasis_stack *s, const oasis_ipv6_hdr *ip, const oasis_icmp6_hdr *m)
{
    oasis_icmp6_counters *c = &s->ctr.icmp6;
    const uint8_t *q = m->body;
    size_t qlen = m->body_len;
    oasis_ipv6_walk w;
    oasis_in6 qsrc;
    if (qlen < OASIS_IPV6_HLEN + 8 || (q[0] >> 4) != 6) {
        c->in_errors_unowned++;
        return;
    }
    memcpy(qsrc.b, q + 8, 16);
    /* ::1 is ours in an error from ::1 only: no link carries that
     * (accept_header), so it came through loopback. */
    int ours = oasis_ipv6_find_addr(s, &qsrc) != NULL ||
               (oasis_in6_is_loopback(&qsrc) && oasis_in6_is_loopback(&ip->src));
    /* A transparent stack's flows send from foreign addresses: an error
     * about one must go to that address (ipv6.c lets only errors in there),
     * and only TCP and UDP send from one (checked once the chain is walked). */
    int foreign = !ours && s->cfg.transparent && oasis_in6_eq(&qsrc, &ip->dst) &&
                  !oasis_in6_is_multicast(&ip->dst);
    size_t full = OASIS_IPV6_HLEN + (size_t)oasis_get16(q + 4);
    if (full < qlen)
        qlen = full;
    if ((!ours && !foreign) || oasis_ipv6_walk_chain(q, qlen, &w) != OASIS_W6_OK) {
        c->in_errors_unowned++;
        return;
    }
    /* A datagram we fragmented: an error about its first fragment (a
     * Packet Too Big from a narrower link, RFC 8201 4) names the upper
     * layer after the Fragment header (RFC 4443 2.4 d); a later fragment
     * names none. */
    if (w.frag) {
        uint32_t off;
        uint8_t proto;
        if (w.frag_offset != 0 || oasis_ipv6_upper_layer(q, qlen, &off, &proto) != 0) {
            c->in_errors_unowned++;
            return;
        }
        w.off = off;
        w.proto = proto;
    }
    if (qlen - w.off < 8 ||
        (foreign && w.proto != OASIS_IPPROTO_TCP && w.proto != OASIS_IPPROTO_UDP)) {
        c->in_errors_unowned++;
        return;
    }
    /* A packet to ourselves (::1, an address of ours) goes through
     * loopback, never a link: an error about one that came from a link
     * (its source not ours: from_ourselves keeps ours off links) is
     * forged, and must not lower that path's MTU or fail its flow. */
    oasis_in6 qdst;
    memcpy(qdst.b, q + 24, 16);
    if (!oasis_ipv6_is_loopback_dest(s, &ip->src) && oasis_ipv6_is_loopback_dest(s, &qdst)) {
        c->in_errors_unowned++;
        return;
    }
    oasis_ip_error e = {
        .family = OASIS_IP_FAMILY_V6,
        .type = m->type,
        .code = m->code,
        .proto = w.proto,
        .info = m->word,
        .src6 = q + 8,
        .dst6 = q + 24,
        .reporter6 = ip->src.b,
        .quote = q + w.off,
        .quote_len = qlen - w.off,
    };
    if (m->type == OASIS_ICMP6_PKT_TOO_BIG)
        e.mtu = m->word;
    if (!oasis_ip_error_deliver(s, &e))
        c->in_errors_unowned++;
}

/* ICMPv6's own error hook: an unreachable quoting one of our echo
 * requests fails that ping; a Packet Too Big quoting one lowers the path
 * MTU (RFC 8201 4), so the next ping of that size is fragmented to fit.
 * Either must quote a ping still outstanding (RFC 8201 4's validation). */
static void icmp6_err(oasis_stack *s, const oasis_ip_error *e, void *ud)
{
    (void)ud;
    if (e->family != OASIS_IP_FAMILY_V6 || e->quote[0] != OASIS_ICMP6_ECHO_REQUEST ||
        (e->type != OASIS_ICMP6_DEST_UNREACH && e->type != OASIS_ICMP6_PKT_TOO_BIG))
        return;
    oasis_in6 dst;
    memcpy(dst.b, e->dst6, 16);
    oasis_ping6_req *r = find_ping(s, &dst, oasis_get16(e->quote + 4), oasis_get16(e->quote + 6));
    if (!r)
        return;
    if (e->type == OASIS_ICMP6_PKT_TOO_BIG) {
        oasis_ipaddr d = oasis_ipaddr_v6(e->dst6);
        oasis_pmtu_lower(s, &d, e->mtu);
        return;
    }
    finish(s, r, OASIS_EUNREACH);
}

static void icmp6_in(oasis_stack *s, const oasis_ip_packet *pkt, void *ud)
{
    oasis_icmp6_counters *c = &s->ctr.icmp6;
    const oasis_ipv6_hdr *ip = pkt->net;
    oasis_icmp6_hdr m;
    (void)ud;
    if (pkt->family != OASIS_IP_FAMILY_V6)
        return;
    /* RFC 4293 icmpStatsInMsgs "includes all those counted by
     * icmpStatsInErrors" (as ICMP's and Linux's). */
    c->in_msgs++;
    switch (oasis_icmp6_parse(pkt->payload, pkt->len, &ip->src, &ip->dst, &m)) {
    case OASIS_OK:
        break;
    case OASIS_ECHECKSUM:
        c->in_csum_errors++;
        c->in_errors++; /* as ICMP's and Linux's InErrors */
        return;
    default:
        c->in_errors++;
        return;
    }
    switch (m.type) {
    case OASIS_ICMP6_ECHO_REQUEST:
        c->in_echos++;
        answer_echo(s, ip, &m);
        break;
    case OASIS_ICMP6_ECHO_REPLY: {
        c->in_echo_replies++;
        oasis_ping6_req *r = find_replied(s, &ip->src, (uint16_t)(m.word >> 16), (uint16_t)m.word);
        if (r)
            finish(s, r, OASIS_OK);
        break;
    }
    case OASIS_ICMP6_DEST_UNREACH:
        c->in_dest_unreachs++;
        error_input(s, ip, &m);
        break;
    case OASIS_ICMP6_PKT_TOO_BIG:
        c->in_pkt_too_bigs++;
        error_input(s, ip, &m);
        break;
    case OASIS_ICMP6_TIME_EXCEEDED:
        c->in_time_excds++;
        error_input(s, ip, &m);
        break;
    case OASIS_ICMP6_PARAM_PROBLEM:
        c->in_parm_problems++;
        error_input(s, ip, &m);
        break;
    case OASIS_ICMP6_MLD_QUERY: {
        /* RFC 3810 5.1.14: from a link-local source, hop limit 1. */
        oasis_mld_query q;
        c->in_mld_queries++;
        if (!oasis_in6_is_link_local(&ip->src) || ip->hop_limit != 1 ||
            oasis_mld_parse_query(m.msg, m.len, &q) != OASIS_OK) {
            c->in_errors++;
            break;
        }
        oasis_mld_query_input(s, &q);
        break;
    }
    case OASIS_ICMP6_MLD_REPORT: {
        /* RFC 2710 3, 4: another listener's MLDv1 Report, link-local, hop
         * limit 1, to the address it names, may answer for us. */
        oasis_in6 g;
        c->in_mld_reports++;
        if (!oasis_in6_is_link_local(&ip->src) || ip->hop_limit != 1 ||
            oasis_mld1_parse(m.msg, m.len, &g) != OASIS_OK || !oasis_in6_eq(&g, &ip->dst)) {
            c->in_errors++;
            break;
        }
        oasis_mld_v1_report_input(s, &g);
        break;
    }
    case OASIS_ICMP6_MLD_DONE:
    case OASIS_ICMP6_MLD2_REPORT:
        c->in_mld_reports++; /* other listeners: a host has nothing to do */
        break;
    case OASIS_ICMP6_RS:
    case OASIS_ICMP6_RA:
    case OASIS_ICMP6_NS:
    case OASIS_ICMP6_NA:
    case OASIS_ICMP6_REDIRECT:
        oasis_nd_input(s, ip, m.msg, m.len);
        break;
    default:
        /* RFC 4443 2.4 (a): an error of unknown type goes to the upper
         * layer of the quoted packet (which may have nothing to say of
         * it); (b): an unknown informational message is dropped. */
        if (oasis_icmp6_is_error(m.type))
            error_input(s, ip, &m);
        break;
    }
}

/* ---- ping ---- */

static void ping_timeout(oasis_stack *s, oasis_timer *t)
{
    finish(s, oasis_container_of(t, oasis_ping6_req, timer), OASIS_ETIMEDOUT);
}

/* Marks the pings whose packets go through next_hop; a mark stays until
 * the ping is finished. Returns how many it marked. */
static int mark_doomed(oasis_stack *s, const oasis_in6 *next_hop)
{
    int n = 0;
    for (oasis_ping6_req *r = s->ip6->pings; r; r = r->next) {
        oasis_in6 nh;
        if (oasis_nd_next_hop(s, &r->dst, &nh) == 0 && oasis_in6_eq(&nh, next_hop)) {
            if (!r->doomed)
                r->doomed = DOOMED;
            n++;
        }
    }
    return n;
}

/* Fails the pings marked so far. A callback may start pings (which must
 * not fail here) and, by evicting an unresolved entry, mark others: those
 * fail from the next timer step, 1 ns on, so that a callback that keeps
 * pinging new addresses cannot keep one poll going for ever. */
static void fail_doomed(oasis_stack *s)
{
    for (oasis_ping6_req *r = s->ip6->pings; r; r = r->next)
        if (r->doomed)
            r->doomed = FAILING;
    for (;;) {
        oasis_ping6_req *r = s->ip6->pings;
        while (r && r->doomed != FAILING)
            r = r->next;
        if (!r)
            break;
        finish(s, r, OASIS_EUNREACH);
    }
    for (oasis_ping6_req *r = s->ip6->pings; r; r = r->next)
        if (r->doomed && !s->ip6->closed) {
            oasis_timer_start(s, &s->ip6->doomed_timer, oasis_now(s) + 1);
            break;
        }
}

static void doomed_timer(oasis_stack *s, oasis_timer *t)
{
    (void)t;
    fail_doomed(s);
}

void oasis_icmp6_neighbour_failed(oasis_stack *s, const oasis_in6 *next_hop)
{
    mark_doomed(s, next_hop);
    fail_doomed(s);
}

/* RFC 4861 7.2.2: when resolution fails, every packet that waited for it
 * gets an address unreachable. An evicted entry's resolution failed too,
 * but eviction happens inside a send (or an input): the pings' callbacks
 * run from the timer step that follows, never inside that call. */
void oasis_icmp6_neighbour_evicted(oasis_stack *s, const oasis_in6 *next_hop)
{
    if (mark_doomed(s, next_hop) && !s->ip6->closed && !oasis_timer_active(&s->ip6->doomed_timer))
        oasis_timer_start(s, &s->ip6->doomed_timer, oasis_now(s));
}

static int ping6(oasis_stack *s, const oasis_in6 *dst, uint16_t id, uint16_t seq,
                 size_t payload_len, uint64_t timeout_ns, oasis_ping_cb cb, void *ud)
{
    oasis_ipv6 *v = s->ip6;
    if (!v || !v->on || v->closed || oasis_in6_is_unspecified(dst) || oasis_in6_is_v4mapped(dst))
        return OASIS_EINVAL;
    if (payload_len > 65535 - OASIS_ICMP6_HLEN)
        return OASIS_EMSGSIZE;
    if (find_ping(s, dst, id, seq))
        return OASIS_EBUSY;
    oasis_in6 from, nh;
    /* (::1 and our own addresses need no next hop: loopback) */
    if (oasis_ipv6_select_src(s, dst, &from) != 0 ||
        (!oasis_in6_is_multicast(dst) && !oasis_ipv6_is_loopback_dest(s, dst) &&
         oasis_nd_next_hop(s, dst, &nh) != 0)) {
        s->ctr.ipv6.out_no_routes++;
        return OASIS_ENOROUTE;
    }
    size_t len = OASIS_ICMP6_HLEN + payload_len;
    oasis_pbuf *p = oasis_pbuf_alloc(s, OASIS_PBUF_HEADROOM, len);
    oasis_ping6_req *r = oasis_calloc(s, 1, sizeof *r);
    if (!p || !r) {
        oasis_icmp6_out_failed(s);
        oasis_pbuf_free(s, p);
        oasis_free(s, r);
        return OASIS_ENOMEM;
    }
    for (size_t i = 0; i < payload_len; i++)
        p->data[OASIS_ICMP6_HLEN + i] = (uint8_t)i;
    oasis_icmp6_finish(p->data, len, OASIS_ICMP6_ECHO_REQUEST, 0, (uint32_t)id << 16 | seq, &from,
                       dst);
    /* To a group: a copy for ourselves too, answered as any member's
     * (IPV6_MULTICAST_LOOP is on by default, RFC 3493 5.2). */
    p->mc_loop = (uint8_t)oasis_in6_is_multicast(dst);
    r->dst = *dst;
    r->id = id;
    r->seq = seq;
    r->cb = cb;
    r->ud = ud;
    r->sent_at = oasis_now(s);
    oasis_timer_init(&r->timer, ping_timeout);
    r->next = v->pings;
    v->pings = r;
    oasis_timer_start(s, &r->timer, oasis_deadline(r->sent_at, timeout_ns));
    int err = oasis_ipv6_output(s, p, &from, dst, OASIS_NH_ICMPV6, 0);
    if (err && find_ping(s, dst, id, seq)) {
        unlink_ping(s, r);
        oasis_free(s, r);
        return err;
    }
    s->ctr.icmp6.out_msgs++;
    s->ctr.icmp6.out_echos++;
    return OASIS_OK;
}

int oasis_ping_addr(oasis_stack *s, const oasis_ipaddr *dst, uint16_t id, uint16_t seq,
                    size_t payload_len, uint64_t timeout_ns, oasis_ping_cb cb, void *ud)
{
    if (!s || !dst || !cb || timeout_ns == 0)
        return OASIS_EINVAL;
    if (dst->family == OASIS_AF_INET)
        return oasis_ping(s, oasis_ipaddr_to_v4(dst), id, seq, payload_len, timeout_ns, cb, ud);
    if (dst->family != OASIS_AF_INET6)
        return OASIS_EINVAL;
    oasis_in6 d;
    memcpy(d.b, dst->b, 16);
    return ping6(s, &d, id, seq, payload_len, timeout_ns, cb, ud);
}
