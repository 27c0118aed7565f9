/* IPv6 (RFC 8200) for a host: input validation with a counter per reason,
 * the extension header chain (ipv6_wire.c walks it), delivery through the
 * stack's protocol table, output with source selection, next hop from
 * Neighbour Discovery, fragmentation. */
#include "ipv6/ipv6.h"

#include "core/bytes.h"
#include "core/compiler.h"
#include "core/mem.h"
#include "core/prng.h"
#include "core/siphash.h"
#include "core/stack_impl.h"
#include "ip/ipv4.h" /* the path MTU cache (ip/pmtu.c) */
#include "ip/proto.h"
#include "ipv6/icmp6_wire.h"
#include "link/eth.h"
#include "link/eth_wire.h"
#include "link/gso.h"
#include "oasis/error.h"

#include <string.h>

int oasis_ipv6_init(oasis_stack *s)
{
    oasis_ipv6 *v = oasis_calloc(s, 1, sizeof *v);
    if (!v)
        return OASIS_ENOMEM;
    s->ip6 = v;
    v->on = s->cfg.ipv6 != 0;
    v->cur_hop_limit = s->cfg.hop_limit ? s->cfg.hop_limit : 64;
    v->base_reachable_ns = ND_REACHABLE_TIME_NS;
    v->retrans_ns = ND_RETRANS_TIMER_NS;
    static const uint8_t zero[16];
    if (memcmp(s->cfg.ipv6_iid_key, zero, 16) != 0)
        memcpy(v->iid_key, s->cfg.ipv6_iid_key, 16);
    else
        memcpy(v->iid_key, s->secrets.iid_key, 16);
    memcpy(v->label_key, s->secrets.label_key, 16);
    memcpy(v->nd_key, s->secrets.nd_key, 16);
    oasis_reasm6_init(s);
    oasis_addrconf_init(s);
    oasis_ra_dns_init(s);
    int err = oasis_nd_init(s);
    if (!err)
        err = oasis_icmp6_init(s);
    if (err) {
        oasis_nd_fini(s);
        oasis_free(s, v);
        s->ip6 = NULL;
    }
    return err;
}

void oasis_ipv6_fini(oasis_stack *s)
{
    if (!s->ip6)
        return;
    oasis_icmp6_fini(s);
    oasis_addrconf_fini(s);
    oasis_ra_dns_fini(s);
    oasis_nd_fini(s);
    oasis_reasm6_fini(s);
    oasis_free(s, s->ip6);
    s->ip6 = NULL;
}

int oasis_ipv6_enabled(const oasis_stack *s) { return s && s->ip6 && s->ip6->on; }

void oasis_ipv6_link_up(oasis_stack *s)
{
    oasis_ipv6 *v = s->ip6;
    if (!v || !v->on || v->started)
        return;
    v->started = 1;
    oasis_addrconf_start(s);
}

uint32_t oasis_ipv6_link_mtu(const oasis_stack *s)
{
    const oasis_ipv6 *v = s->ip6;
    return v && v->link_mtu && v->link_mtu < s->mtu ? v->link_mtu : s->mtu;
}

ip6_addr *oasis_ipv6_find_addr(oasis_stack *s, const oasis_in6 *a)
{
    for (int i = 0; i < OASIS_IPV6_MAX_ADDRS; i++) {
        ip6_addr *x = &s->ip6->addrs[i];
        if (x->state && oasis_in6_eq(&x->a, a))
            return x;
    }
    return NULL;
}

/* Is x's solicited-node group one of ours? Tentative addresses included:
 * RFC 4862 5.4.2 joins before DAD. */
static int joined(const ip6_addr *x) { return x->state && x->state != OASIS_IPV6_DUPLICATE; }

/* All-nodes, the solicited-node groups of our addresses and the groups
 * the application joined. */
int oasis_ipv6_is_our_group(const oasis_stack *s, const oasis_in6 *g)
{
    if (oasis_in6_eq(g, &oasis_in6_all_nodes) || oasis_ipv6_app_member(s, g))
        return 1;
    for (int i = 0; i < OASIS_IPV6_MAX_ADDRS; i++) {
        const ip6_addr *x = &s->ip6->addrs[i];
        if (joined(x)) {
            oasis_in6 sn = oasis_in6_solicited_node(&x->a);
            if (oasis_in6_eq(&sn, g))
                return 1;
        }
    }
    return 0;
}

/* What the node takes through its loopback queue: the groups above and
 * ff01::1, interface-local all-nodes, which every node recognizes (RFC
 * 4291 2.8) and none takes from a link. */
int oasis_ipv6_is_node_group(const oasis_stack *s, const oasis_in6 *g)
{
    return oasis_in6_eq(g, &oasis_in6_all_nodes_iface) || oasis_ipv6_is_our_group(s, g);
}

/* The multicast filter a NIC keeps (RFC 2464 7: a group's frames go to
 * 33:33 and its last 32 bits): do frames to 33:33:low[0..3] carry one of
 * our groups? With IPv6 off, none do. */
int oasis_ipv6_wants_mac(const oasis_stack *s, const uint8_t low[4])
{
    if (!s->ip6 || !s->ip6->on)
        return 0;
    if (memcmp(low, oasis_in6_all_nodes.b + 12, 4) == 0)
        return 1;
    for (int i = 0; i < OASIS_IPV6_APP_GROUPS; i++) {
        const ip6_group *g = &s->ip6->app_groups[i];
        if (g->refs && memcmp(low, g->g.b + 12, 4) == 0)
            return 1;
    }
    for (int i = 0; i < OASIS_IPV6_MAX_ADDRS; i++) {
        const ip6_addr *x = &s->ip6->addrs[i];
        /* solicited-node: ff02::1:ff00:0/104 and the address's low 24 bits */
        if (joined(x) && low[0] == 0xff && memcmp(low + 1, x->a.b + 13, 3) == 0)
            return 1;
    }
    return 0;
}

static int usable(const ip6_addr *x)
{
    return x->state == OASIS_IPV6_PREFERRED || x->state == OASIS_IPV6_DEPRECATED;
}

int oasis_ipv6_src_usable(oasis_stack *s, const oasis_in6 *a)
{
    const ip6_addr *x = s->ip6 && s->ip6->on ? oasis_ipv6_find_addr(s, a) : NULL;
    return x && usable(x);
}

int oasis_ipv6_holds(oasis_stack *s, const oasis_in6 *a)
{
    const ip6_addr *x = s->ip6 && s->ip6->on ? oasis_ipv6_find_addr(s, a) : NULL;
    return x && joined(x);
}

int oasis_ipv6_is_loopback_dest(oasis_stack *s, const oasis_in6 *dst)
{
    if (oasis_in6_is_loopback(dst))
        return 1;
    /* RFC 4862 5.4: a tentative address is not assigned yet (a duplicate
     * may own it): what goes to it takes the link. */
    const ip6_addr *x = oasis_in6_is_multicast(dst) ? NULL : oasis_ipv6_find_addr(s, dst);
    return x && usable(x);
}

int oasis_ipv6_src_ok(oasis_stack *s, const oasis_in6 *src, const oasis_in6 *dst)
{
    if (!s->ip6 || !s->ip6->on)
        return 0;
    if (oasis_in6_is_loopback(src)) /* RFC 4291 2.5.3: never onto a link */
        return oasis_ipv6_is_loopback_dest(s, dst);
    return oasis_ipv6_src_usable(s, src);
}

static unsigned common_prefix(const oasis_in6 *a, const oasis_in6 *b)
{
    unsigned n = 0;
    for (int i = 0; i < 16; i++) {
        uint8_t x = a->b[i] ^ b->b[i];
        if (x == 0) {
            n += 8;
            continue;
        }
        while (!(x & 0x80)) {
            n++;
            x = (uint8_t)(x << 1);
        }
        break;
    }
    return n;
}

int oasis_ipv6_select_src(const oasis_stack *s, const oasis_in6 *dst, oasis_in6 *out)
{
    /* RFC 6724 5 rule 1 (prefer the destination itself): ::1 talks from
     * ::1, and an address of ours (past DAD) to itself, both through
     * loopback. */
    if (oasis_in6_is_loopback(dst)) {
        *out = *dst;
        return OASIS_OK;
    }
    /* Link-scope destinations (fe80::/10, ff02::/16, ff01::/16) take the
     * link-local address (RFC 6724 5 rule 2, scope). */
    int link_scope = oasis_in6_is_link_local(dst) ||
                     (oasis_in6_is_multicast(dst) && (dst->b[1] & 0x0f) <= 2);
    const ip6_addr *best = NULL;
    unsigned best_len = 0;
    for (int i = 0; i < OASIS_IPV6_MAX_ADDRS; i++) {
        const ip6_addr *x = &s->ip6->addrs[i];
        if (!usable(x))
            continue;
        if (oasis_in6_eq(&x->a, dst)) {
            *out = *dst;
            return OASIS_OK;
        }
        int ll = oasis_in6_is_link_local(&x->a);
        if (link_scope != ll)
            continue;
        unsigned cp = common_prefix(&x->a, dst);
        /* Rule 3: preferred over deprecated; rule 8: longest match. */
        if (!best || (best->state != OASIS_IPV6_PREFERRED && x->state == OASIS_IPV6_PREFERRED) ||
            (best->state == x->state && cp > best_len)) {
            best = x;
            best_len = cp;
        }
    }
    if (!best && !link_scope) /* a global destination and no global address */
        for (int i = 0; i < OASIS_IPV6_MAX_ADDRS && !best; i++)
            if (usable(&s->ip6->addrs[i]))
                best = &s->ip6->addrs[i];
    if (!best)
        return OASIS_ENOROUTE;
    *out = best->a;
    return OASIS_OK;
}

/* ---- output ---- */

static int send_packet(oasis_stack *s, oasis_pbuf *p, const oasis_in6 *dst, const oasis_in6 *next_hop)
{
    if (oasis_in6_is_multicast(dst)) {
        uint8_t mac[6];
        oasis_in6_multicast_mac(dst, mac);
        s->ctr.ipv6.out_mcast_pkts++;
        return oasis_eth_output(s, p, mac, OASIS_ETHERTYPE_IPV6);
    }
    return oasis_nd_output(s, p, next_hop);
}

/* RFC 8200 4.5: the unfragmentable part (fixed header and Hop-by-Hop) in
 * every fragment, then a fragment header, then 8-byte multiples of the
 * rest. p holds [fixed][hbh][payload]; hdr_len = 40 + hbh. */
static int fragment(oasis_stack *s, oasis_pbuf *p, size_t hdr_len, uint8_t proto,
                    const oasis_in6 *dst, const oasis_in6 *next_hop, uint32_t mtu)
{
    oasis_ipv6_counters *c = &s->ctr.ipv6;
    size_t chunk = (mtu - hdr_len - OASIS_IPV6_FRAG_HLEN) & ~(size_t)7;
    size_t total = p->len - hdr_len;
    /* RFC 7739: identifications nobody can predict. */
    uint32_t id = (uint32_t)oasis_prng_next(&s->prng);
    int first_err = OASIS_OK;

    for (size_t off = 0; off < total; off += chunk) {
        size_t n = total - off < chunk ? total - off : chunk;
        oasis_pbuf *f = oasis_pbuf_alloc(s, OASIS_ETH_HLEN, hdr_len + OASIS_IPV6_FRAG_HLEN + n);
        if (!f) {
            c->out_discards++;
            first_err = first_err ? first_err : OASIS_ENOMEM;
            continue;
        }
        memcpy(f->data, p->data, hdr_len);
        /* The last unfragmentable header now names the fragment header. */
        f->data[hdr_len == OASIS_IPV6_HLEN ? 6 : OASIS_IPV6_HLEN] = OASIS_NH_FRAGMENT;
        oasis_put16(f->data + 4, (uint16_t)(hdr_len - OASIS_IPV6_HLEN + OASIS_IPV6_FRAG_HLEN + n));
        oasis_ipv6_frag fh = {proto, (uint16_t)off, off + n < total, id};
        oasis_ipv6_frag_emit(f->data + hdr_len, &fh);
        memcpy(f->data + hdr_len + OASIS_IPV6_FRAG_HLEN, p->data + hdr_len + off, n);
        c->frag_creates++;
        int err = send_packet(s, f, dst, next_hop);
        if (err && !first_err)
            first_err = err;
    }
    oasis_pbuf_free(s, p);
    if (first_err)
        c->frag_fails++;
    else
        c->frag_oks++;
    return first_err;
}

/* A packet whose upper-layer checksum TCP left partial (for the link to
 * complete) is completed here when it goes nowhere near a link: loopback
 * and group copies. 0, or -1 when it cannot be. */
static int complete_csum(oasis_pbuf *p, size_t l4_off, uint8_t proto)
{
    if (!p->csum_partial)
        return 0;
    if (oasis_csum_complete(p->data, p->len, (uint16_t)l4_off,
                            proto == OASIS_IPPROTO_TCP ? 16 : 6) != OASIS_OK)
        return -1;
    p->csum_partial = 0;
    return 0;
}

/* The loopback path: a whole packet (never fragmented; a TCP super-segment
 * stays one, as on IPv4's) into the queue loopback.c drains from the next
 * poll. Takes p. */
static int loop_send(oasis_stack *s, oasis_pbuf *p, size_t l4_off, uint8_t proto)
{
    if (complete_csum(p, l4_off, proto) != 0) {
        s->ctr.ipv6.out_discards++;
        oasis_pbuf_free(s, p);
        return OASIS_EINVAL;
    }
    p->gso_size = 0;
    p->gso_segs = 0;
    return oasis_loop_output(s, p);
}

/* RFC 3493 5.2 IPV6_MULTICAST_LOOP (on by default) as RFC 1112 6.1 asks
 * of IPv4: a copy of what the transport marked (p->mc_loop: UDP, unless
 * the port says no) to a group we listen to goes through the loopback
 * queue, heard on the next poll; the original still takes the link. Our
 * own MLD and ND are never marked, so never come back as another node's. */
static void mcast_loop(oasis_stack *s, const oasis_pbuf *p, const oasis_in6 *dst, size_t l4_off,
                       uint8_t proto)
{
    if (!p->mc_loop || !oasis_ipv6_is_node_group(s, dst))
        return;
    oasis_pbuf *c = oasis_pbuf_alloc(s, OASIS_ETH_HLEN, p->len);
    if (!c) {
        s->ctr.ipv6.loop_drops++;
        return;
    }
    memcpy(c->data, p->data, p->len);
    c->csum_partial = p->csum_partial;
    loop_send(s, c, l4_off, proto);
}

uint32_t oasis_ipv6_flow_label(oasis_stack *s, const oasis_in6 *src, const oasis_in6 *dst,
                               uint8_t proto, uint16_t sport, uint16_t dport)
{
    oasis_ipv6 *v = s->ip6;
    uint8_t t[OASIS_IPV6_LABEL_TUPLE];
    memcpy(t, src->b, 16);
    memcpy(t + 16, dst->b, 16);
    t[32] = proto;
    oasis_put16(t + 33, sport);
    oasis_put16(t + 35, dport);
    if (v->label_last && memcmp(t, v->label_tuple, sizeof t) == 0)
        return v->label_last;
    uint32_t label = (uint32_t)oasis_siphash24(v->label_key, t, sizeof t) & 0xfffff;
    if (!label)
        label = 1;
    memcpy(v->label_tuple, t, sizeof t);
    v->label_last = label;
    return label;
}

/* The label of the TCP or UDP packet p (its ports first in p->data). */
static uint32_t label_of(oasis_stack *s, const oasis_pbuf *p, const oasis_in6 *src,
                         const oasis_in6 *dst, uint8_t proto)
{
    if (!s->cfg.ipv6_flow_labels || p->len < 4 ||
        (proto != OASIS_IPPROTO_TCP && proto != OASIS_IPPROTO_UDP))
        return 0;
    return oasis_ipv6_flow_label(s, src, dst, proto, oasis_get16(p->data), oasis_get16(p->data + 2));
}

int oasis_ipv6_output_hbh(oasis_stack *s, oasis_pbuf *p, const oasis_in6 *src,
                          const oasis_in6 *dst, uint8_t proto, uint8_t hop_limit,
                          uint8_t tclass, const uint8_t *hbh, size_t hbh_len)
{
    oasis_ipv6_counters *c = &s->ctr.ipv6;
    oasis_ipv6 *v = s->ip6;
    oasis_in6 from, next_hop = *dst;

    if (!p)
        return OASIS_EINVAL;
    c->out_requests++;
    /* RFC 4291 2.5.2: the unspecified address "must not be used as the
     * destination address of IPv6 packets" (as 0.0.0.0 has no route); nor
     * may an IPv4-mapped one (RFC 6890 2.2.3, ::ffff:0:0/96: Destination
     * False): it names an IPv4 node, which IPv4 reaches. */
    if (!v || !v->on || oasis_in6_is_unspecified(dst) || oasis_in6_is_v4mapped(dst)) {
        c->out_no_routes++;
        oasis_pbuf_free(s, p);
        return OASIS_ENOROUTE;
    }
    if (src) {
        from = *src;
    } else if (oasis_ipv6_select_src(s, dst, &from) != 0) {
        c->out_no_routes++;
        oasis_pbuf_free(s, p);
        return OASIS_ENOROUTE;
    }
    int mcast = oasis_in6_is_multicast(dst);
    /* RFC 4291 2.7: a node "must not originate a packet to a multicast
     * address whose scop field contains the reserved value 0". */
    if (mcast && oasis_in6_mcast_scope(dst) == OASIS_IN6_SCOPE_RESERVED) {
        c->out_discards++;
        oasis_pbuf_free(s, p);
        return OASIS_EINVAL;
    }
    int loop = !mcast && oasis_ipv6_is_loopback_dest(s, dst);
    /* RFC 4291 2.5.3: neither as source nor as destination does ::1
     * leave the node. */
    if ((!loop && oasis_in6_is_loopback(&from)) ||
        (!mcast && !loop && oasis_nd_next_hop_send(s, dst, &next_hop) != 0)) {
        c->out_no_routes++;
        oasis_pbuf_free(s, p);
        return OASIS_ENOROUTE;
    }
    uint32_t label = hbh_len ? 0 : label_of(s, p, &from, dst, proto);
    size_t plen = p->len + hbh_len;
    if (plen > 65535) {
        c->out_discards++;
        oasis_pbuf_free(s, p);
        return OASIS_EMSGSIZE;
    }
    uint8_t *x = hbh_len ? oasis_pbuf_push(p, hbh_len) : p->data;
    uint8_t *h = x ? oasis_pbuf_push(p, OASIS_IPV6_HLEN) : NULL;
    if (!h) {
        c->out_discards++;
        oasis_pbuf_free(s, p);
        return OASIS_EINVAL;
    }
    if (hbh_len) {
        memcpy(x, hbh, hbh_len);
        x[0] = proto;
    }
    oasis_ipv6_hdr ih;
    memset(&ih, 0, sizeof ih);
    ih.tclass = tclass;
    ih.flow = label;
    ih.payload_len = (uint16_t)plen;
    ih.next = hbh_len ? OASIS_NH_HOPOPTS : proto;
    /* To a group, 1 unless the sender says (RFC 3493 5.2's default for
     * IPV6_MULTICAST_HOPS, as RFC 1112 6.1 for IPv4). */
    ih.hop_limit = hop_limit ? hop_limit : oasis_in6_is_multicast(dst) ? 1 : v->cur_hop_limit;
    ih.src = from;
    ih.dst = *dst;
    oasis_ipv6_emit(h, &ih);
    size_t l4_off = OASIS_IPV6_HLEN + hbh_len;
    if (loop)
        return loop_send(s, p, l4_off, proto);
    if (mcast)
        mcast_loop(s, p, dst, l4_off, proto);
    /* RFC 4291 2.7: interface-local scope "is useful only for loopback
     * transmission of multicast": the copy above is all there is. */
    if (mcast && oasis_in6_mcast_scope(dst) == OASIS_IN6_SCOPE_IFACE) {
        oasis_pbuf_free(s, p);
        return OASIS_OK;
    }
    uint32_t mtu = oasis_ipv6_link_mtu(s);
    if (!mcast) {
        /* RFC 8201 4: after a Packet Too Big "the node must reduce the
         * size of the packets it is sending along the path"; no router
         * fragments for us, so what the transport did not size to the
         * path MTU (UDP, echo) is fragmented to it here. */
        oasis_ipaddr pd = oasis_ipaddr_v6(dst->b);
        mtu = oasis_pmtu_get(s, &pd);
    }
    /* A TCP super-segment is cut at the link boundary (oasis/link.h), by
     * pieces that fit, never fragmented. */
    if (p->len > mtu && !p->gso_size) {
        /* fragments carry the checksum whole: a partial one is completed */
        (void)complete_csum(p, l4_off, proto);
        return fragment(s, p, l4_off, proto, dst, &next_hop, mtu);
    }
    if (p->gso_size && p->gso_segs > 1)
        c->out_requests += p->gso_segs - 1u; /* a packet per piece, as IPv4's (RFC 4293) */
    return send_packet(s, p, dst, &next_hop);
}

int oasis_ipv6_output(oasis_stack *s, oasis_pbuf *p, const oasis_in6 *src, const oasis_in6 *dst,
                      uint8_t proto, uint8_t hop_limit)
{
    return oasis_ipv6_output_hbh(s, p, src, dst, proto, hop_limit, 0, NULL, 0);
}

int oasis_ipv6_output_tc(oasis_stack *s, oasis_pbuf *p, const oasis_in6 *src, const oasis_in6 *dst,
                         uint8_t proto, uint8_t hop_limit, uint8_t tclass)
{
    return oasis_ipv6_output_hbh(s, p, src, dst, proto, hop_limit, tclass, NULL, 0);
}

/* ---- the transmit cache (oasis_ipv6_txc) ---- */

_Static_assert(sizeof(((oasis_ipv6_txc *)0)->hdr) == OASIS_ETH_HLEN + OASIS_IPV6_HLEN,
               "the transmit cache holds one Ethernet and one IPv6 header");

/* Fills c for the flow's packets as oasis_ipv6_output_tc would send them,
 * or marks them the slow path's (nb NULL) until a generation moves:
 * caches off, an IP link, multicast, loopback, no route, a next hop that
 * is not resolved (the slow path queues for it and resolves). */
static void txc6_fill(oasis_stack *s, oasis_ipv6_txc *c, const uint8_t *src, const uint8_t *dst,
                      uint8_t proto, uint16_t sport, uint16_t dport, uint8_t hop)
{
    oasis_ipv6 *v = s->ip6;
    c->rt_gen = s->ip.rt_gen;
    c->nb_gen = v ? v->nd_gen : 0;
    c->hop = hop;
    c->nb = NULL;
    oasis_in6 a, b, next;
    memcpy(a.b, src, 16);
    memcpy(b.b, dst, 16);
    if (!v || !v->on || s->ip.txc_off || s->link_ip || oasis_in6_is_multicast(&b) ||
        oasis_in6_is_loopback(&a) || oasis_ipv6_is_loopback_dest(s, &b) ||
        oasis_nd_next_hop(s, &b, &next) != OASIS_OK)
        return;
    /* (Whatever next hop the slow path's oasis_nd_next_hop_send picks
     * when it differs from this one has no resolved entry.) */
    ip6_neigh *e = oasis_nd_resolved(s, &next);
    if (!e)
        return;
    oasis_ipaddr pd = oasis_ipaddr_v6(dst);
    c->mtu = oasis_pmtu_get(s, &pd);
    oasis_ipv6_hdr h;
    memset(&h, 0, sizeof h);
    if (s->cfg.ipv6_flow_labels && (proto == OASIS_IPPROTO_TCP || proto == OASIS_IPPROTO_UDP))
        h.flow = oasis_ipv6_flow_label(s, &a, &b, proto, sport, dport);
    h.next = proto;
    h.hop_limit = hop ? hop : v->cur_hop_limit;
    h.src = a;
    h.dst = b;
    oasis_eth_emit(c->hdr, e->mac, s->mac, OASIS_ETHERTYPE_IPV6);
    oasis_ipv6_emit(c->hdr + OASIS_ETH_HLEN, &h);
    c->nb = e;
}

int oasis_ipv6_txc_ready(oasis_stack *s, oasis_ipv6_txc *c, const uint8_t *src,
                         const uint8_t *dst, uint8_t proto, uint16_t sport, uint16_t dport,
                         uint8_t hop, size_t l4len)
{
    if (OASIS_UNLIKELY(c->rt_gen != s->ip.rt_gen || !s->ip6 || c->nb_gen != s->ip6->nd_gen ||
                       c->hop != hop))
        txc6_fill(s, c, src, dst, proto, sport, dport, hop);
    return c->nb && !s->ip.txc_off && l4len + OASIS_IPV6_HLEN <= c->mtu;
}

/* Writes c's headers in front of a packet of l4len transport bytes at
 * frame and counts it sent (segs pieces), as the slow path would; the
 * neighbour is used as oasis_nd_output uses it. */
static void txc6_write(oasis_stack *s, oasis_ipv6_txc *c, uint8_t *frame, size_t l4len,
                       uint8_t tclass, uint16_t segs)
{
    s->ctr.ipv6.out_requests += segs > 1 ? segs : 1u; /* a packet per piece (RFC 4293) */
    memcpy(frame, c->hdr, sizeof c->hdr);
    uint8_t *ip = frame + OASIS_ETH_HLEN;
    /* version 6, Traffic Class, the template's flow label (20 bits) */
    ip[0] = (uint8_t)(0x60 | tclass >> 4);
    ip[1] = (uint8_t)(tclass << 4 | (ip[1] & 0x0f));
    oasis_put16(ip + 4, (uint16_t)l4len);
    ip6_neigh *e = c->nb;
    oasis_nd_used_resolved(s, s->ip6, e, oasis_now(s));
    if (OASIS_UNLIKELY(e->state == NEIGH_STALE))
        oasis_nd_sent_stale(s, e);
}

int oasis_ipv6_output_frame(oasis_stack *s, oasis_ipv6_txc *c, uint8_t *frame, size_t l4len,
                            uint8_t tclass, int lent)
{
    txc6_write(s, c, frame, l4len, tclass, 1);
    size_t flen = sizeof c->hdr + l4len;
    return lent ? oasis_eth_commit(s, frame, flen) : oasis_eth_send_frame(s, frame, flen);
}

int oasis_ipv6_output_cached(oasis_stack *s, oasis_ipv6_txc *c, oasis_pbuf *p, const uint8_t *src,
                             const uint8_t *dst, uint8_t proto, uint16_t sport, uint16_t dport,
                             uint8_t hop, uint8_t tclass)
{
    /* A super-segment leaves whole, as from the slow path (the link
     * boundary cuts it); anything else must fit the path MTU unfragmented. */
    size_t l4len = p->len;
    if (!oasis_ipv6_txc_ready(s, c, src, dst, proto, sport, dport, hop, p->gso_size ? 0 : l4len) ||
        l4len > 65535 || oasis_pbuf_headroom(p) < sizeof c->hdr) {
        oasis_in6 a, b;
        memcpy(a.b, src, 16);
        memcpy(b.b, dst, 16);
        return oasis_ipv6_output_tc(s, p, &a, &b, proto, hop, tclass);
    }
    txc6_write(s, c, oasis_pbuf_push(p, sizeof c->hdr), l4len, tclass,
               p->gso_size ? p->gso_segs : 1);
    return oasis_eth_xmit(s, p);
}

int oasis_ipv6_send(oasis_stack *s, const oasis_ipaddr *dst, uint8_t proto, const void *data,
                    size_t len)
{
    if (!s || !dst || dst->family != OASIS_AF_INET6 || (len && !data))
        return OASIS_EINVAL;
    if (len > 65535)
        return OASIS_EMSGSIZE;
    oasis_pbuf *p = oasis_pbuf_alloc(s, OASIS_PBUF_HEADROOM, len);
    if (!p)
        return OASIS_ENOMEM;
    if (len)
        memcpy(p->data, data, len);
    oasis_in6 d;
    memcpy(d.b, dst->b, 16);
    return oasis_ipv6_output(s, p, NULL, &d, proto, 0);
}

/* ---- input ---- */

/* Maps a failed walk to its counter and, where RFC 8200 asks for one, a
 * Parameter Problem. */
static void walk_failed(oasis_stack *s, const uint8_t *pkt, size_t len, const oasis_ipv6_walk *w,
                        int link_mcast)
{
    oasis_ipv6_counters *c = &s->ctr.ipv6;
    switch (w->err) {
    case OASIS_W6_TRUNCATED: c->in_truncated++; break;
    case OASIS_W6_LIMIT: c->in_ext_limit++; break;
    case OASIS_W6_BAD_OPTION: c->in_bad_options++; break;
    case OASIS_W6_RH0: c->in_rh0++; break;
    case OASIS_W6_ROUTING: c->in_routing++; break;
    default: c->in_hdr_errors++; break;
    }
    if (w->icmp_code >= 0)
        oasis_icmp6_send_error(s, OASIS_ICMP6_PARAM_PROBLEM, (uint8_t)w->icmp_code, w->pointer,
                               pkt, len, link_mcast, w->icmp_mcast_ok);
}

/* From one of our usable addresses? No packet of ours comes back from the
 * link (ours to ourselves take the loopback queue, never the link, and
 * come in through oasis_ipv6_input_loop; DAD probes come from ::), so it is
 * forged, reflected or a duplicate's, and TCP or UDP would take it for our
 * own. Only an NA may carry it: a duplicate's NA for our address is how a
 * conflict shows after DAD (RFC 4862 5.4.4). Tentative addresses are not
 * usable: a node defending the address DAD probes answers from it. */
static int from_ourselves(oasis_stack *s, const oasis_ipv6_hdr *h, const oasis_ipv6_walk *w,
                          const uint8_t *pkt, size_t len)
{
    const ip6_addr *a = oasis_ipv6_find_addr(s, &h->src);
    if (!a || !usable(a))
        return 0;
    return !(w->proto == OASIS_NH_ICMPV6 && len > w->off && pkt[w->off] == OASIS_ICMP6_NA);
}

static int foreign6(oasis_stack *s, const oasis_in6 *d)
{
    return !oasis_in6_is_multicast(d) && !oasis_ipv6_is_loopback_dest(s, d) &&
           !oasis_ipv6_find_addr(s, d);
}

int oasis_ipv6_foreign(oasis_stack *s, const oasis_ipaddr *dst)
{
    oasis_in6 d;
    memcpy(d.b, dst->b, 16);
    return foreign6(s, &d);
}

/* A transparent stack (cfg.transparent) takes TCP and UDP to any global
 * unicast address as its own (accept_header lets it in, deliver keeps it
 * to those two, tcp.c and udp.c judge the rest): not link-local (a
 * neighbour's), unspecified or IPv4-mapped; multicast and loopback are
 * refused before. */
static int foreign_ok(const oasis_stack *s, const oasis_in6 *dst)
{
    return s->cfg.transparent && !oasis_in6_is_link_local(dst) && !oasis_in6_is_unspecified(dst) &&
           !oasis_in6_is_v4mapped(dst);
}

/* Hands the upper-layer data to its protocol; loop: it came through the
 * loopback queue, where our own sources belong. Returns 1 when the
 * protocol's handler took it. */
static int deliver(oasis_stack *s, const oasis_ipv6_hdr *h, const oasis_ipv6_walk *w,
                    const uint8_t *pkt, size_t len, int link_mcast, int loop)
{
    oasis_ipv6_counters *c = &s->ctr.ipv6;
    if (!loop && from_ourselves(s, h, w, pkt, len)) {
        c->in_addr_errors++;
        return 0;
    }
    /* A foreign address is a transparent stack's for TCP and UDP, and for
     * ICMPv6 errors (types below 128, RFC 4443 2.1) about what those sent
     * from it: a Packet Too Big comes back there (icmp6.c checks the quote). */
    int icmp6_error = w->proto == OASIS_NH_ICMPV6 && len > w->off && oasis_icmp6_is_error(pkt[w->off]);
    if (s->cfg.transparent && w->proto != OASIS_IPPROTO_TCP && w->proto != OASIS_IPPROTO_UDP &&
        !icmp6_error && foreign6(s, &h->dst)) {
        c->in_addr_errors++;
        return 0;
    }
    if (w->proto == OASIS_NH_NONE) { /* RFC 8200 4.7: nothing follows */
        c->in_discards++;
        return 0;
    }
    const oasis_ip_handler *hd = oasis_ip_handler_of(s, w->proto);
    if (!hd) {
        c->in_unknown_protos++;
        /* RFC 8200 4: Parameter Problem code 1 at the unknown value. */
        oasis_icmp6_send_error(s, OASIS_ICMP6_PARAM_PROBLEM, OASIS_ICMP6_PP_NEXTHDR, w->nh_off,
                               pkt, len, link_mcast, 0);
        return 0;
    }
    c->in_delivers++;
    oasis_ip_packet ip = {
        .family = OASIS_IP_FAMILY_V6,
        .proto = w->proto,
        .link_bcast = (uint8_t)(link_mcast || oasis_in6_is_multicast(&h->dst)),
        .tclass = h->tclass,
        .src6 = h->src.b,
        .dst6 = h->dst.b,
        .payload = pkt + w->off,
        .len = len - w->off,
        .net = h,
    };
    hd->input(s, &ip, hd->ud);
    return 1;
}

/* Header checks common to every packet; 0 when it is for us. */
static int accept_header(oasis_stack *s, const uint8_t *pkt, size_t len, oasis_ipv6_hdr *h)
{
    oasis_ipv6_counters *c = &s->ctr.ipv6;
    switch (oasis_ipv6_parse(pkt, len, h)) {
    case OASIS_OK:
        break;
    case OASIS_ETRUNCATED:
        c->in_truncated++;
        return -1;
    default:
        c->in_hdr_errors++;
        return -1;
    }
    /* RFC 4291 2.7 (multicast is no source), 2.5.3 (loopback never on a
     * link), 2.5.5.2 (an IPv4-mapped address stands for an IPv4 node inside
     * a host's API, never on the wire: as a source it could pass for
     * ::ffff:127.0.0.1 or a trusted IPv4 peer): as Linux, header errors. */
    if (oasis_in6_is_multicast(&h->src) || oasis_in6_is_loopback(&h->src) ||
        oasis_in6_is_v4mapped(&h->src) || oasis_in6_is_loopback(&h->dst)) {
        c->in_hdr_errors++;
        return -1;
    }
    if (oasis_in6_is_multicast(&h->dst)) {
        /* RFC 4291 2.7: scope 0 "must be silently dropped"; interface-
         * local packets from another node are discarded (erratum 3480,
         * as the BSDs do): neither can be one of our groups here. */
        if (oasis_in6_mcast_scope(&h->dst) <= OASIS_IN6_SCOPE_IFACE ||
            !oasis_ipv6_is_our_group(s, &h->dst)) {
            c->in_addr_errors++;
            return -1;
        }
        c->in_mcast_pkts++;
        return 0;
    }
    /* RFC 4862 5.4: a tentative address receives nothing but DAD's NS/NA,
     * which go to multicast groups. */
    const ip6_addr *a = oasis_ipv6_find_addr(s, &h->dst);
    if ((!a || !usable(a)) && !(!a && foreign_ok(s, &h->dst))) {
        c->in_addr_errors++;
        return -1;
    }
    return 0;
}

void oasis_ipv6_input_whole(oasis_stack *s, const uint8_t *pkt, size_t len, int link_mcast)
{
    oasis_ipv6_hdr h;
    oasis_ipv6_walk w;
    if (oasis_ipv6_parse(pkt, len, &h) != OASIS_OK) {
        s->ctr.ipv6.in_hdr_errors++;
        return;
    }
    h.fragmented = 1; /* reassembled */
    len = OASIS_IPV6_HLEN + h.payload_len;
    if (oasis_ipv6_walk_chain(pkt, len, &w) != OASIS_W6_OK) {
        walk_failed(s, pkt, len, &w, link_mcast);
        return;
    }
    if (w.frag) { /* a fragment inside a reassembled datagram */
        s->ctr.ipv6.in_hdr_errors++;
        return;
    }
    deliver(s, &h, &w, pkt, len, link_mcast, 0);
}

/* RFC 6946: a fragment with offset 0 and M 0 is the whole datagram; it is
 * processed alone, never mixed with fragments of the same ID. In place,
 * its Fragment header kept: an error about it quotes the packet as it came
 * and points into it (RFC 4443 2.4 c, 3.4), as Linux does. */
static void atomic_fragment(oasis_stack *s, oasis_ipv6_hdr *h, const uint8_t *pkt, size_t len,
                            oasis_ipv6_walk *w, int link_mcast)
{
    s->ctr.ipv6.atomic_frags++;
    if (oasis_ipv6_walk_past_fragment(pkt, len, w) != OASIS_W6_OK) {
        walk_failed(s, pkt, len, w, link_mcast);
        return;
    }
    if (w->frag) { /* a fragment inside a whole datagram */
        s->ctr.ipv6.in_hdr_errors++;
        return;
    }
    h->fragmented = 1; /* RFC 6980 5: ND drops it */
    deliver(s, h, w, pkt, len, link_mcast, 0);
}

/* The common case, ahead of the general path: a datagram for the
 * built-in TCP with no extension headers, between the two addresses of the
 * last TCP datagram the general path delivered to a unicast address
 * (oasis_ipv6.rx_gen), our addresses unchanged since. It passes every
 * check the general path makes and is counted as it would count it.
 * Anything else returns 0, uncounted, and takes the general path. */
static int tcp_direct6(oasis_stack *s, const uint8_t *pkt, size_t len)
{
    const oasis_ipv6 *v = s->ip6;
    if (v->rx_gen != s->ip.rt_gen || len < OASIS_IPV6_HLEN || pkt[0] >> 4 != 6 ||
        pkt[6] != OASIS_IPPROTO_TCP || !s->protos.tcp_builtin)
        return 0;
    size_t plen = oasis_get16(pkt + 4);
    if (plen == 0 || plen > len - OASIS_IPV6_HLEN ||
        !oasis_in6_bytes_eq(pkt + 24, v->rx_dst) || !oasis_in6_bytes_eq(pkt + 8, v->rx_src))
        return 0;
    uint8_t ecn = (pkt[1] >> 4) & 3; /* read first: the counters' stores may alias pkt */
    s->ctr.ipv6.in_receives++;
    s->ctr.ipv6.in_delivers++;
    oasis_tcp_input6_ecn(s, pkt + 8, pkt + 24, pkt + OASIS_IPV6_HLEN, plen, ecn);
    return 1;
}

void oasis_ipv6_input(oasis_stack *s, const uint8_t *pkt, size_t len, int link_mcast)
{
    oasis_ipv6_counters *c = &s->ctr.ipv6;
    oasis_ipv6_hdr h;
    oasis_ipv6_walk w;

    if (!s->ip6 || !s->ip6->on) {
        c->in_receives++;
        c->in_discards++;
        return;
    }
    if (!link_mcast && tcp_direct6(s, pkt, len))
        return;
    c->in_receives++;
    if (accept_header(s, pkt, len, &h) != 0)
        return;
    len = OASIS_IPV6_HLEN + h.payload_len; /* link padding off */
    if (oasis_ipv6_walk_chain(pkt, len, &w) != OASIS_W6_OK) {
        walk_failed(s, pkt, len, &w, link_mcast);
        return;
    }
    if (w.frag) {
        if (w.frag_offset == 0 && !w.frag_more)
            atomic_fragment(s, &h, pkt, len, &w, link_mcast);
        else
            oasis_reasm6_input(s, pkt, len, &w, link_mcast);
        return;
    }
    uint32_t gen = s->ip.rt_gen; /* (before the handler: it may change the addresses) */
    if (deliver(s, &h, &w, pkt, len, link_mcast, 0) && w.proto == OASIS_IPPROTO_TCP &&
        !link_mcast && !oasis_in6_is_multicast(&h.dst) && s->protos.tcp_builtin) {
        oasis_ipv6 *v = s->ip6;
        memcpy(v->rx_src, h.src.b, 16);
        memcpy(v->rx_dst, h.dst.b, 16);
        v->rx_gen = gen;
    }
}

void oasis_ipv6_input_loop(oasis_stack *s, const uint8_t *pkt, size_t len)
{
    oasis_ipv6_counters *c = &s->ctr.ipv6;
    oasis_ipv6_hdr h;
    oasis_ipv6_walk w;

    c->in_receives++;
    if (!s->ip6 || !s->ip6->on || oasis_ipv6_parse(pkt, len, &h) != OASIS_OK) {
        c->in_discards++;
        return;
    }
    /* The checks that keep ::1 and our own sources off the link do not
     * apply: this never was on one. It is still ours to take: ::1, an
     * address of ours (not one removed or found duplicate since it was
     * queued), a group we listen to. */
    if (oasis_in6_is_multicast(&h.dst)) {
        if (!oasis_ipv6_is_node_group(s, &h.dst)) {
            c->in_addr_errors++;
            return;
        }
        c->in_mcast_pkts++;
    } else if (!oasis_ipv6_is_loopback_dest(s, &h.dst)) {
        c->in_addr_errors++;
        return;
    }
    len = OASIS_IPV6_HLEN + h.payload_len;
    if (oasis_ipv6_walk_chain(pkt, len, &w) != OASIS_W6_OK || w.frag) {
        c->in_hdr_errors++; /* (we never queue a fragment) */
        return;
    }
    deliver(s, &h, &w, pkt, len, 0, 1);
}
