/* ICMP (RFC 792, RFC 1122 3.2.2): echo replies, errors under the RFC 1122
 * rules and a token bucket, and the ping API. */
#include "icmp/icmp.h"

#include "core/bytes.h"
#include "core/mem.h"
#include "core/stack_impl.h"
#include "icmp/icmp_wire.h"
#include "ip/ipv4.h"
#include "ip/proto.h"
#include "oasis/error.h"
#include "oasis/icmp.h"

#include <string.h>

/* Largest ICMP payload that fits in a 65535-byte datagram. */
#define ICMP_MAX_PAYLOAD (65535u - OASIS_IPV4_HLEN - OASIS_ICMP_HLEN)

struct oasis_ping_req {
    oasis_ping_req *next;
    uint32_t dst;
    uint16_t id, seq;
    uint64_t sent_at;
    oasis_ping_cb cb;
    void *ud;
    int doomed;           /* its next hop failed: fails with OASIS_EUNREACH */
    oasis_timer timer;
};

/* A ping's doomed mark: its next hop failed, it fails with OASIS_EUNREACH
 * (DOOMED), and the run of fail_doomed in progress is failing it (FAILING). */
enum { DOOMED = 1, FAILING = 2 };

static void doomed_timer(oasis_stack *s, oasis_timer *t);

int oasis_icmp_init(oasis_stack *s)
{
    memset(&s->icmp, 0, sizeof s->icmp);
    oasis_timer_init(&s->icmp.doomed_timer, doomed_timer);
    s->icmp.tokens = s->cfg.icmp_burst;
    s->icmp.tokens_at = oasis_now(s);
    return OASIS_OK;
}

static void unlink_ping(oasis_stack *s, oasis_ping_req *r)
{
    oasis_ping_req **pp = &s->icmp.pings;
    while (*pp && *pp != r)
        pp = &(*pp)->next;
    if (*pp)
        *pp = r->next;
    oasis_timer_stop(s, &r->timer);
}

/* Runs the callback exactly once: the request is gone before it runs, so the
 * callback may start new pings. */
static void finish(oasis_stack *s, oasis_ping_req *r, int err)
{
    oasis_ping_cb cb = r->cb;
    void *ud = r->ud;
    uint16_t seq = r->seq;
    uint64_t rtt = err ? 0 : oasis_now(s) - r->sent_at;

    unlink_ping(s, r);
    oasis_free(s, r);
    cb(s, err, seq, rtt, ud);
}

void oasis_icmp_fini(oasis_stack *s)
{
    s->icmp.closed = 1;
    oasis_timer_stop(s, &s->icmp.doomed_timer);
    while (s->icmp.pings)
        finish(s, s->icmp.pings, OASIS_ECANCELED);
}

static oasis_ping_req *find_ping(oasis_stack *s, uint32_t peer, uint16_t id, uint16_t seq)
{
    oasis_ping_req *r = s->icmp.pings;
    while (r && !(r->dst == peer && r->id == id && r->seq == seq))
        r = r->next;
    return r;
}

/* Whether anyone may answer a ping to dst: a group's members and a
 * broadcast's hosts reply from their own unicast addresses (RFC 1122
 * 3.2.2.6: the reply's source is the "specific-destination" address). */
static int any_replier(const oasis_stack *s, uint32_t dst)
{
    return oasis_ipv4_is_multicast(dst) || oasis_ipv4_is_broadcast(s, dst);
}

/* The request an echo reply from peer answers: one to peer itself, or
 * one to a group or broadcast, which the first reply completes. */
static oasis_ping_req *find_replied(oasis_stack *s, uint32_t peer, uint16_t id, uint16_t seq)
{
    oasis_ping_req *r = s->icmp.pings;
    while (r && !(r->id == id && r->seq == seq && (r->dst == peer || any_replier(s, r->dst))))
        r = r->next;
    return r;
}

/* ---- errors ---- */

/* RFC 1122 3.2.2: never an error about an ICMP error, a datagram to a
 * broadcast or multicast address, a datagram whose source is not one host,
 * or a fragment other than the first. A datagram to 127/8 is ours too (it
 * only ever comes through the loopback queue). */
static int error_allowed(const oasis_stack *s, const oasis_ipv4_hdr *o)
{
    if (o->frag_off != 0 || o->link_bcast)
        return 0;
    if (!oasis_ipv4_is_loopback_dest(s, o->dst) &&
        (!oasis_ipv4_is_local(s, o->dst) || oasis_ipv4_is_broadcast(s, o->dst)))
        return 0;
    if (o->src == 0 || oasis_ipv4_is_broadcast(s, o->src) || oasis_ipv4_is_multicast(o->src))
        return 0;
    if (o->proto == OASIS_IPPROTO_ICMP && (o->payload_len < 1 || oasis_icmp_is_error(o->payload[0])))
        return 0;
    return 1;
}

/* Token bucket: icmp_rate_per_sec tokens a second, at most icmp_burst saved.
 * A rate of 0 means no limit. */
static int take_token(oasis_stack *s)
{
    oasis_icmp *ic = &s->icmp;
    uint64_t now = oasis_now(s);

    if (s->cfg.icmp_rate_per_sec == 0)
        return 1;
    ic->tokens += (double)(now - ic->tokens_at) * s->cfg.icmp_rate_per_sec / 1e9;
    ic->tokens_at = now;
    if (ic->tokens > s->cfg.icmp_burst)
        ic->tokens = s->cfg.icmp_burst;
    if (ic->tokens < 1.0)
        return 0;
    ic->tokens -= 1.0;
    return 1;
}

void oasis_icmp_send_error(oasis_stack *s, uint8_t type, uint8_t code, uint32_t rest,
                           const oasis_ipv4_hdr *orig)
{
    if (!error_allowed(s, orig))
        return;
    if (!take_token(s)) {
        s->ctr.icmp.out_rate_limited++;
        return;
    }
    size_t quote = orig->payload_len < 8 ? orig->payload_len : 8;
    size_t len = OASIS_ICMP_HLEN + orig->hdr_len + quote;
    oasis_pbuf *p = oasis_pbuf_alloc(s, OASIS_PBUF_HEADROOM, len);
    if (!p)
        return;
    memcpy(p->data + OASIS_ICMP_HLEN, orig->payload - orig->hdr_len, orig->hdr_len + quote);
    oasis_icmp_emit(p->data, len, type, code, rest);
    if (oasis_ipv4_output(s, p, orig->src, OASIS_IPPROTO_ICMP, 0) != OASIS_OK)
        return;
    s->ctr.icmp.out_msgs++;
    if (type == OASIS_ICMP_DEST_UNREACH)
        s->ctr.icmp.out_dest_unreachs++;
    else if (type == OASIS_ICMP_TIME_EXCEEDED)
        s->ctr.icmp.out_time_excds++;
    else if (type == OASIS_ICMP_PARAM_PROBLEM)
        s->ctr.icmp.out_parm_probs++;
}

/* ---- input ---- */

static void answer_echo(oasis_stack *s, const oasis_ipv4_hdr *ip, const oasis_icmp_hdr *m)
{
    /* No replies to broadcasts (no smurf amplifier; RFC 1122 allows this). */
    if (oasis_ipv4_is_broadcast(s, ip->dst))
        return;
    size_t len = OASIS_ICMP_HLEN + m->payload_len;
    oasis_pbuf *p = oasis_pbuf_alloc(s, OASIS_PBUF_HEADROOM, len);
    if (!p)
        return;
    memcpy(p->data + OASIS_ICMP_HLEN, m->payload, m->payload_len);
    oasis_icmp_emit(p->data, len, OASIS_ICMP_ECHO_REPLY, 0, m->rest);
    /* RFC 1122 3.2.2.6: Record Route and Timestamp come back, with us in
     * them. The time is not UT midnight-based: high bit set (RFC 791). */
    uint8_t opts[OASIS_IPV4_MAX_HLEN];
    size_t optlen = 0;
    if (ip->options_len) {
        uint32_t ms = (uint32_t)(oasis_now(s) / OASIS_NS_PER_MS % 86400000u);
        optlen = oasis_ipv4_echo_options(ip->options, ip->options_len, opts, s->addr,
                                         ms | 0x80000000u);
    }
    if (oasis_ipv4_output_opts(s, p, ip->src, OASIS_IPPROTO_ICMP, opts, optlen) == OASIS_OK) {
        s->ctr.icmp.out_msgs++;
        s->ctr.icmp.out_echo_reps++;
    }
}

/* ICMP's own error hook: an unreachable that quotes one of our echo
 * requests fails that ping. */
void oasis_icmp_echo_error(oasis_stack *s, const oasis_ip_error *e)
{
    if (e->family != OASIS_IP_FAMILY_V4 || e->type != OASIS_ICMP_DEST_UNREACH ||
        e->quote[0] != OASIS_ICMP_ECHO)
        return;
    oasis_ping_req *r =
        find_ping(s, e->dst, oasis_get16(e->quote + 4), oasis_get16(e->quote + 6));
    if (r)
        finish(s, r, OASIS_EUNREACH);
}

/* An error must go where the datagram it quotes came from (RFC 792): our
 * address, a 127/8 one (through loopback: the checks below), or on a
 * transparent stack the foreign address it was sent from (IPv4 lets only
 * errors in to such an address: foreign_ok). */
static int error_dst_ok(const oasis_stack *s, uint32_t dst, const uint8_t *quote)
{
    if (dst != oasis_get32(quote + 12))
        return 0;
    if (oasis_ipv4_is_loopback_dest(s, dst))
        return 1;
    /* Only TCP and UDP send from a foreign address (pings go from ours). */
    return s->cfg.transparent && oasis_ipv4_foreign(s, dst) &&
           (quote[9] == OASIS_IPPROTO_TCP || quote[9] == OASIS_IPPROTO_UDP);
}

/* An error message (RFC 792): it quotes the IP header and at least 8
 * bytes of a datagram we sent; the protocol that sent it hears of it
 * (RFC 1122 3.2.2: "MUST be passed to the transport layer"). Anything that
 * cannot be one of ours is counted and dropped (RFC 5927 4.1: the quoted
 * source must be our address, or the foreign one a transparent stack sent
 * from; the transport checks the rest). */
static void error_input(oasis_stack *s, const oasis_ipv4_hdr *ip, const oasis_icmp_hdr *m)
{
    oasis_icmp_counters *c = &s->ctr.icmp;
    const uint8_t *q = m->payload;
    size_t hlen = m->payload_len ? (size_t)(q[0] & 0x0f) * 4 : 0;
    if (m->payload_len < OASIS_IPV4_HLEN || (q[0] >> 4) != 4 || hlen < OASIS_IPV4_HLEN ||
        m->payload_len < hlen + 8 || !error_dst_ok(s, ip->dst, q)) {
        c->in_errors_unowned++;
        return;
    }
    /* A later fragment of a datagram we cut (offset not 0) quotes no
     * transport header, only the middle of our data: no protocol can tell
     * whose it was (as ICMPv6 does for RFC 4443 2.4 d; RFC 1812 4.3.2.7
     * has routers send none). */
    if (oasis_get16(q + 6) & 0x1fff) {
        c->in_errors_unowned++;
        return;
    }
    /* A datagram to ourselves (127/8, our address) goes through loopback,
     * never a link: an error about one that came from a link (its source
     * not ours: the martian check keeps ours off links) is forged. */
    if (!oasis_ipv4_is_loopback_dest(s, ip->src) &&
        oasis_ipv4_is_loopback_dest(s, oasis_get32(q + 16))) {
        c->in_errors_unowned++;
        return;
    }
    oasis_ip_error e = {
        .family = OASIS_IP_FAMILY_V4,
        .type = m->type,
        .code = m->code,
        .proto = q[9],
        .info = m->rest,
        .reporter = ip->src,
        .src = oasis_get32(q + 12),
        .dst = oasis_get32(q + 16),
        .quote = q + hlen,
        .quote_len = m->payload_len - hlen,
    };
    if (m->type == OASIS_ICMP_DEST_UNREACH && m->code == OASIS_ICMP_FRAG_NEEDED) {
        /* RFC 1191 4: the next-hop MTU in the low 16 bits. An old router
         * says 0 (and a next-hop MTU no smaller than the datagram it
         * refused is no answer either): the plateau below the datagram's
         * size (RFC 1191 5, 7). */
        uint32_t total = oasis_get16(q + 2);
        e.mtu = m->rest & 0xffff;
        if (e.mtu == 0 || e.mtu >= total) {
            /* RFC 1191 5, Note: 4.2BSD-derived routers quote the Total
             * Length plus the header length, so "If the Total Length field
             * returned is not less than the current PMTU estimate, it must
             * be reduced by 4 times the value of the returned Header
             * Length field" (else a path estimated at 1492 would meet
             * 1512, whose plateau 1492 is no decrease, for ever). */
            oasis_ipaddr to = oasis_ipaddr_v4(e.dst);
            if (total >= oasis_pmtu_get(s, &to) && total >= hlen)
                total -= (uint32_t)hlen;
            e.mtu = oasis_pmtu_plateau(total);
        }
    }
    if (!oasis_ip_error_deliver(s, &e))
        c->in_errors_unowned++;
}

void oasis_icmp_input(oasis_stack *s, const oasis_ipv4_hdr *ip)
{
    oasis_icmp_counters *c = &s->ctr.icmp;
    oasis_icmp_hdr m;

    c->in_msgs++;
    switch (oasis_icmp_parse(ip->payload, ip->payload_len, &m)) {
    case OASIS_OK:
        break;
    case OASIS_ECHECKSUM:
        c->in_csum_errors++;
        c->in_errors++; /* icmpInErrors: "bad ICMP checksums, bad length" (RFC 1213) */
        return;
    default:
        c->in_errors++;
        return;
    }
    switch (m.type) {
    case OASIS_ICMP_ECHO:
        c->in_echos++;
        answer_echo(s, ip, &m);
        break;
    case OASIS_ICMP_ECHO_REPLY: {
        c->in_echo_reps++;
        oasis_ping_req *r = find_replied(s, ip->src, (uint16_t)(m.rest >> 16), (uint16_t)m.rest);
        if (r)
            finish(s, r, OASIS_OK);
        break;
    }
    case OASIS_ICMP_DEST_UNREACH:
        c->in_dest_unreachs++;
        error_input(s, ip, &m);
        break;
    case OASIS_ICMP_SOURCE_QUENCH:
        c->in_src_quenchs++;
        error_input(s, ip, &m);
        break;
    case OASIS_ICMP_TIME_EXCEEDED:
        c->in_time_excds++;
        error_input(s, ip, &m);
        break;
    case OASIS_ICMP_PARAM_PROBLEM:
        c->in_parm_probs++;
        error_input(s, ip, &m);
        break;
    case OASIS_ICMP_REDIRECT:
        c->in_redirects++;
        if (ip->dst == s->addr &&
            oasis_ipv4_redirect_input(s, ip->src, m.code, m.rest, m.payload, m.payload_len))
            c->redirects_taken++;
        else
            c->redirects_ignored++;
        break;
    default:
        break;
    }
}

/* ---- ping ---- */

static void ping_timeout(oasis_stack *s, oasis_timer *t)
{
    finish(s, oasis_container_of(t, oasis_ping_req, timer), OASIS_ETIMEDOUT);
}

/* Marks the pings whose packets go through next_hop; a mark stays until
 * the ping is finished. Returns how many it marked. */
static int mark_doomed(oasis_stack *s, uint32_t next_hop)
{
    int n = 0;
    for (oasis_ping_req *r = s->icmp.pings; r; r = r->next) {
        if (oasis_ipv4_route(s, r->dst) == next_hop) {
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
    for (oasis_ping_req *r = s->icmp.pings; r; r = r->next)
        if (r->doomed)
            r->doomed = FAILING;
    for (;;) {
        oasis_ping_req *r = s->icmp.pings;
        while (r && r->doomed != FAILING)
            r = r->next;
        if (!r)
            break;
        finish(s, r, OASIS_EUNREACH);
    }
    for (oasis_ping_req *r = s->icmp.pings; r; r = r->next)
        if (r->doomed && !s->icmp.closed) {
            oasis_timer_start(s, &s->icmp.doomed_timer, oasis_now(s) + 1);
            break;
        }
}

static void doomed_timer(oasis_stack *s, oasis_timer *t)
{
    (void)t;
    fail_doomed(s);
}

void oasis_icmp_neighbour_failed(oasis_stack *s, uint32_t next_hop)
{
    mark_doomed(s, next_hop);
    fail_doomed(s);
}

/* An evicted unresolved entry's resolution failed too, and its queued
 * request went with it (RFC 1122 2.3.2.2 keeps it only until the address
 * "has been resolved"): its pings fail as after a failed resolution. But
 * eviction happens inside a send (or an input), so their callbacks run
 * from the timer step that follows, never inside that call. */
void oasis_icmp_neighbour_evicted(oasis_stack *s, uint32_t next_hop)
{
    if (mark_doomed(s, next_hop) && !s->icmp.closed && !oasis_timer_active(&s->icmp.doomed_timer))
        oasis_timer_start(s, &s->icmp.doomed_timer, oasis_now(s));
}

int oasis_ping(oasis_stack *s, uint32_t dst, uint16_t id, uint16_t seq, size_t payload_len,
               uint64_t timeout_ns, oasis_ping_cb cb, void *ud)
{
    if (!s || !cb || dst == 0 || timeout_ns == 0 || s->icmp.closed)
        return OASIS_EINVAL;
    if (payload_len > ICMP_MAX_PAYLOAD)
        return OASIS_EMSGSIZE;
    if (find_ping(s, dst, id, seq))
        return OASIS_EBUSY;
    /* Without an address only loopback has a source: 0.0.0.0 is one only
     * while the host learns its address (RFC 1122 3.2.1.3 (a)), which IP
     * allows for the limited broadcast (a DHCP client), not for a ping. */
    if (oasis_ipv4_route(s, dst) == 0 || (s->addr == 0 && !oasis_ipv4_is_loopback_dest(s, dst))) {
        s->ctr.ip.out_no_routes++;
        return OASIS_ENOROUTE;
    }
    size_t len = OASIS_ICMP_HLEN + payload_len;
    oasis_pbuf *p = oasis_pbuf_alloc(s, OASIS_PBUF_HEADROOM, len);
    oasis_ping_req *r = oasis_calloc(s, 1, sizeof *r);
    if (!p || !r) {
        if (p)
            oasis_pbuf_free(s, p);
        oasis_free(s, r);
        return OASIS_ENOMEM;
    }
    for (size_t i = 0; i < payload_len; i++)
        p->data[OASIS_ICMP_HLEN + i] = (uint8_t)i;
    oasis_icmp_emit(p->data, len, OASIS_ICMP_ECHO, 0, (uint32_t)id << 16 | seq);

    r->dst = dst;
    r->id = id;
    r->seq = seq;
    r->cb = cb;
    r->ud = ud;
    r->sent_at = oasis_now(s);
    oasis_timer_init(&r->timer, ping_timeout);
    /* Registered before sending, in case a link answers synchronously. */
    r->next = s->icmp.pings;
    s->icmp.pings = r;
    oasis_timer_start(s, &r->timer, oasis_deadline(r->sent_at, timeout_ns));

    int err = oasis_ipv4_output(s, p, dst, OASIS_IPPROTO_ICMP, 0);
    if (err && find_ping(s, dst, id, seq)) {
        unlink_ping(s, r);
        oasis_free(s, r);
        return err;
    }
    s->ctr.icmp.out_msgs++;
    s->ctr.icmp.out_echos++;
    return OASIS_OK;
}
