/* IPv4 (RFC 791, host requirements of RFC 1122 3.2.1): input validation and
 * dispatch, routing over one interface, fragmentation on output. Reassembly
 * lives in reasm.c. */
#include "ip/ipv4.h"
#include "ip/igmp_wire.h"

#include "arp/arp.h"
#include "core/bytes.h"
#include "core/checksum.h"
#include "core/compiler.h"
#include "core/mem.h"
#include "core/siphash.h"
#include "core/prng.h"
#include "core/stack_impl.h"
#include "icmp/icmp.h"
#include "icmp/icmp_wire.h"
#include "link/eth.h"
#include "link/eth_wire.h"
#include "oasis/error.h"
#include "ip/proto.h"
#include "tcp/tcp.h"

#include <string.h>

int oasis_ipv4_init(oasis_stack *s)
{
    memset(&s->ip, 0, sizeof s->ip);
    s->ip.rt_gen = 1;
    oasis_reasm_init(s);
    oasis_loop_init(s);
    oasis_ipv4_redirect_init(s);
    return OASIS_OK;
}

void oasis_ipv4_fini(oasis_stack *s)
{
    oasis_igmp_fini(s);
    oasis_ipv4_redirect_fini(s);
    oasis_loop_fini(s);
    oasis_reasm_fini(s);
}


int oasis_ipv4_is_broadcast(const oasis_stack *s, uint32_t addr)
{
    return oasis_ipv4_bcast_for(addr, s->addr, s->netmask);
}

int oasis_ipv4_is_local(const oasis_stack *s, uint32_t addr)
{
    return (s->addr != 0 && addr == s->addr) || oasis_ipv4_is_broadcast(s, addr);
}

uint32_t oasis_ipv4_route(const oasis_stack *s, uint32_t dst)
{
    if (oasis_ipv4_is_loopback_dest(s, dst))
        return dst; /* loopback: never ARPed for, see oasis_ipv4_output */
    if (dst == 0)
        return 0;
    if (oasis_ipv4_is_broadcast(s, dst) || oasis_ipv4_is_multicast(dst))
        return dst;
    if (s->addr != 0 && (dst & s->netmask) == (s->addr & s->netmask))
        return dst;
    if (s->ip.redirect_count) {
        uint32_t gw = oasis_ipv4_redirected(s, dst);
        if (gw)
            return gw;
    }
    /* An IP link reaches every destination (oasis/link.h). */
    return s->cfg.gateway || !s->link_ip ? s->cfg.gateway : dst;
}

/* How a datagram to dst leaves (route_of). */
enum { RT_UNICAST, RT_BCAST, RT_MCAST, RT_LOOP };

/* The route to dst: its kind, and the next hop (0: none). Remembered for
 * the last dst: every segment of a flow asks the same. */
static uint8_t route_of(oasis_stack *s, uint32_t dst, uint32_t *next_hop)
{
    oasis_ipv4 *ip = &s->ip;
    if (!ip->rt_ok || ip->rt_dst != dst || ip->rt_addr != s->addr || ip->rt_mask != s->netmask ||
        ip->rt_gw != s->cfg.gateway) {
        uint8_t kind = RT_UNICAST;
        if (oasis_ipv4_is_loopback_dest(s, dst))
            kind = RT_LOOP;
        else if (oasis_ipv4_is_broadcast(s, dst))
            kind = RT_BCAST;
        else if (oasis_ipv4_is_multicast(dst))
            kind = RT_MCAST;
        ip->rt_next_hop = kind == RT_LOOP ? dst : oasis_ipv4_route(s, dst);
        ip->rt_kind = kind;
        ip->rt_dst = dst;
        ip->rt_addr = s->addr;
        ip->rt_mask = s->netmask;
        ip->rt_gw = s->cfg.gateway;
        ip->rt_ok = 1;
    }
    *next_hop = ip->rt_next_hop;
    return ip->rt_kind;
}

/* Hands one complete datagram (header in front of the payload) to the link:
 * broadcasts and multicasts go out without ARP. */
static int send_datagram(oasis_stack *s, oasis_pbuf *p, uint32_t dst, uint8_t kind,
                         uint32_t next_hop)
{
    if (kind == RT_BCAST) {
        static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        return oasis_eth_output(s, p, bcast, OASIS_ETHERTYPE_IPV4);
    }
    if (kind == RT_MCAST) {
        /* RFC 1112 6.4: 01:00:5e and the low 23 bits of the group. */
        uint8_t mac[6] = {0x01, 0x00, 0x5e, (uint8_t)((dst >> 16) & 0x7f), (uint8_t)(dst >> 8),
                          (uint8_t)dst};
        return oasis_eth_output(s, p, mac, OASIS_ETHERTYPE_IPV4);
    }
    return oasis_arp_output(s, next_hop, p);
}

/* The ID bucket of datagrams to dst: a keyed hash, so an outsider can
 * neither find nor aim at another host's bucket. */
static uint32_t ident_bucket(oasis_stack *s, uint32_t dst, uint8_t proto)
{
    oasis_ipv4 *ip = &s->ip;
    if (!ip->memo_ok || ip->memo_src != s->addr || ip->memo_dst != dst || ip->memo_proto != proto) {
        uint8_t m[9];
        oasis_put32(m, s->addr);
        oasis_put32(m + 4, dst);
        m[8] = proto;
        ip->memo_bucket = (uint32_t)oasis_siphash24(s->secrets.ipid_key, m, sizeof m) &
                          (OASIS_IP_IDENTS - 1);
        ip->memo_src = s->addr;
        ip->memo_dst = dst;
        ip->memo_proto = proto;
        ip->memo_ok = 1;
    }
    return ip->memo_bucket;
}

/* The next ID of bucket b, for count datagrams. Like Linux, a bucket left
 * alone for t ms jumps by a random amount below t, so even a peer sharing
 * it cannot count what was sent between its probes. */
static OASIS_ALWAYS_INLINE uint16_t ident_take(oasis_stack *s, uint32_t b, uint16_t count,
                                               uint32_t now_ms)
{
    uint32_t idle = now_ms - s->ip.ident_ms[b];
    uint16_t delta = 1;
    if (idle != 0) {
        s->ip.ident_ms[b] = now_ms;
        delta = (uint16_t)(delta + oasis_prng_below(&s->prng, idle < 65536 ? idle : 65536));
    }
    s->ip.ident[b] = (uint16_t)(s->ip.ident[b] + delta);
    uint16_t id = s->ip.ident[b];
    /* A super-segment's pieces take the IDs after the first (link.h). */
    if (count > 1)
        s->ip.ident[b] = (uint16_t)(s->ip.ident[b] + count - 1);
    return id;
}

static uint16_t next_ident(oasis_stack *s, uint32_t dst, uint8_t proto, uint16_t count)
{
    return ident_take(s, ident_bucket(s, dst, proto), count,
                      (uint32_t)(oasis_now(s) / OASIS_NS_PER_MS));
}

/* src 0: the stack's own source for dst. */
static void fill_header(const oasis_stack *s, oasis_ipv4_hdr *h, uint32_t src, uint32_t dst,
                        uint8_t proto, uint16_t id, uint8_t tos, uint8_t ttl)
{
    memset(h, 0, sizeof *h);
    h->hdr_len = OASIS_IPV4_HLEN;
    h->id = id;
    h->tos = tos;
    /* RFC 1112 6.1: a multicast datagram whose sender names no TTL gets
     * 1, so that going past the link is an explicit choice. */
    h->ttl = ttl ? ttl : oasis_ipv4_is_multicast(dst) ? 1 : s->cfg.ttl ? s->cfg.ttl : 64;
    h->proto = proto;
    h->src = src ? src : oasis_ipv4_source(s, dst);
    h->dst = dst;
}

/* Copies one piece of p's payload into a fragment of its own and sends it. */
static int send_fragment(oasis_stack *s, const oasis_ipv4_hdr *tmpl, const uint8_t *data,
                         size_t off, size_t len, int more, uint8_t kind, uint32_t next_hop)
{
    oasis_pbuf *f = oasis_pbuf_alloc(s, OASIS_ETH_HLEN + OASIS_IPV4_HLEN, len);
    if (!f) {
        s->ctr.ip.out_discards++;
        return OASIS_ENOMEM;
    }
    memcpy(f->data, data + off, len);
    oasis_ipv4_hdr h = *tmpl;
    h.total_len = (uint16_t)(OASIS_IPV4_HLEN + len);
    h.frag_off = (uint16_t)off;
    h.mf = (uint8_t)more;
    oasis_ipv4_emit(oasis_pbuf_push(f, OASIS_IPV4_HLEN), &h);
    s->ctr.ip.frag_creates++;
    return send_datagram(s, f, tmpl->dst, kind, next_hop);
}

/* RFC 791: every fragment but the last carries a multiple of 8 bytes. We
 * send no options, so none need copying. Returns the first error. */
static int fragment(oasis_stack *s, oasis_pbuf *p, const oasis_ipv4_hdr *tmpl, uint8_t kind,
                    uint32_t next_hop)
{
    size_t chunk = ((size_t)s->mtu - OASIS_IPV4_HLEN) & ~(size_t)7;
    int first_err = OASIS_OK;

    for (size_t off = 0; off < p->len; off += chunk) {
        size_t n = p->len - off < chunk ? p->len - off : chunk;
        int err = send_fragment(s, tmpl, p->data, off, n, off + n < p->len, kind, next_hop);
        if (err && !first_err)
            first_err = err;
    }
    oasis_pbuf_free(s, p);
    if (!first_err)
        s->ctr.ip.frag_oks++;
    return first_err;
}

int oasis_ipv4_output(oasis_stack *s, oasis_pbuf *p, uint32_t dst, uint8_t proto, int df)
{
    return oasis_ipv4_output_tt(s, p, dst, proto, df, 0, 0);
}

/* RFC 1112 6.1: "If the sending host is itself a member of the
 * destination group on the outgoing interface, a copy of the outgoing
 * datagram must be looped-back for local delivery, unless inhibited by the
 * sender." A broadcast is addressed to every host of the link, the
 * sender too (RFC 919: a host is a recipient of a datagram to one of
 * its broadcast addresses), and Linux and the BSDs loop a copy of each,
 * whatever IP_MULTICAST_LOOP says. A whole copy (header h, options,
 * payload) goes through the loopback queue, so our members and ports hear
 * it on the next poll, never inside the send call; the original still goes
 * onto the link. Of group datagrams, only what the transport marked
 * (p->mc_loop: UDP, unless the port says no) loops: our own IGMP reports
 * must not come back as another member's. */
static void loop_copy(oasis_stack *s, const oasis_pbuf *p, uint8_t kind, oasis_ipv4_hdr *h,
                      const uint8_t *opts, size_t optlen)
{
    if (kind == RT_MCAST ? !p->mc_loop || !oasis_igmp_member(s, h->dst) : kind != RT_BCAST)
        return;
    size_t hlen = OASIS_IPV4_HLEN + optlen;
    oasis_pbuf *c = oasis_pbuf_alloc(s, hlen, p->len);
    if (!c) {
        s->ctr.ip.loop_drops++;
        return;
    }
    memcpy(c->data, p->data, p->len);
    uint8_t *hdr = oasis_pbuf_push(c, hlen);
    h->total_len = (uint16_t)c->len;
    if (optlen)
        oasis_ipv4_emit_opts(hdr, h, opts, optlen);
    else
        oasis_ipv4_emit(hdr, h);
    oasis_loop_output(s, c);
}

int oasis_ipv4_output_tt(oasis_stack *s, oasis_pbuf *p, uint32_t dst, uint8_t proto, int df,
                         uint8_t tos, uint8_t ttl)
{
    return oasis_ipv4_output_from(s, p, 0, dst, proto, df, tos, ttl);
}

int oasis_ipv4_output_from(oasis_stack *s, oasis_pbuf *p, uint32_t src, uint32_t dst, uint8_t proto,
                           int df, uint8_t tos, uint8_t ttl)
{
    oasis_ip_counters *c = &s->ctr.ip;
    oasis_ipv4_hdr h;

    if (!p)
        return OASIS_EINVAL;
    c->out_requests++;
    if (df && !oasis_ipv4_df_ok(s, dst))
        df = 0; /* a path under 576: the router fragments (ipv4.h) */
    uint32_t next_hop;
    uint8_t kind = route_of(s, dst, &next_hop);
    if (kind == RT_LOOP) {
        /* Never fragmented: the queue carries whole datagrams. */
        if (p->len > 65535 - OASIS_IPV4_HLEN || !oasis_pbuf_push(p, OASIS_IPV4_HLEN)) {
            c->out_discards++;
            oasis_pbuf_free(s, p);
            return OASIS_EMSGSIZE;
        }
        fill_header(s, &h, src, dst, proto, next_ident(s, dst, proto, 1), tos, ttl);
        h.df = (uint8_t)(df != 0);
        h.total_len = (uint16_t)p->len;
        oasis_ipv4_emit(p->data, &h);
        if (p->csum_partial) {
            /* Loopback completes what TCP left partial; a super-segment
             * stays whole (no MTU here), like Linux's lo. */
            uint8_t *l4 = p->data + OASIS_IPV4_HLEN;
            size_t l4len = p->len - OASIS_IPV4_HLEN;
            uint16_t sum = oasis_csum_fold(oasis_csum_add(0, l4, l4len));
            memcpy(l4 + (proto == OASIS_IPPROTO_TCP ? 16 : 6), &sum, 2);
            p->csum_partial = 0;
            p->gso_size = 0;
        }
        return oasis_loop_output(s, p);
    }
    /* RFC 4293 ipSystemStatsOutRequests counts datagrams: a super-segment
     * the link cuts is one per piece (each has an ID of its own, and TCP
     * counts each in tcpOutSegs); on loopback above it stays one. */
    if (p->gso_size && p->gso_segs > 1)
        c->out_requests += p->gso_segs - 1u;
    /* Without an address only the limited broadcast may go out, from
     * 0.0.0.0 (RFC 1122 3.2.1.3, RFC 2131 4.1: a DHCP client). */
    if (next_hop == 0 || (s->addr == 0 && dst != 0xffffffffu)) {
        c->out_no_routes++;
        oasis_pbuf_free(s, p);
        return OASIS_ENOROUTE;
    }
    if (p->len > 65535 - OASIS_IPV4_HLEN) {
        c->out_discards++;
        oasis_pbuf_free(s, p);
        return OASIS_EMSGSIZE;
    }
    fill_header(s, &h, src, dst, proto, next_ident(s, dst, proto, p->gso_segs), tos, ttl);
    loop_copy(s, p, kind, &h, NULL, 0);
    /* A super-segment is cut at the link boundary into pieces TCP sized
     * for the MTU (tcp_output.c). */
    if (!p->gso_size && p->len + OASIS_IPV4_HLEN > s->mtu) {
        if (df) {
            c->frag_fails++;
            oasis_pbuf_free(s, p);
            return OASIS_EMSGSIZE;
        }
        return fragment(s, p, &h, kind, next_hop);
    }
    h.df = (uint8_t)(df != 0);
    h.total_len = (uint16_t)(p->len + OASIS_IPV4_HLEN);
    uint8_t *hdr = oasis_pbuf_push(p, OASIS_IPV4_HLEN);
    if (!hdr) {
        c->out_discards++;
        oasis_pbuf_free(s, p);
        return OASIS_EINVAL; /* caller left no headroom */
    }
    oasis_ipv4_emit(hdr, &h);
    return send_datagram(s, p, dst, kind, next_hop);
}

int oasis_ipv4_output_opts(oasis_stack *s, oasis_pbuf *p, uint32_t dst, uint8_t proto,
                           const uint8_t *opts, size_t optlen)
{
    return oasis_ipv4_output_ctl(s, p, dst, proto, 0, 0, opts, optlen);
}

int oasis_ipv4_output_ctl(oasis_stack *s, oasis_pbuf *p, uint32_t dst, uint8_t proto, uint8_t tos,
                          uint8_t ttl, const uint8_t *opts, size_t optlen)
{
    size_t hlen = OASIS_IPV4_HLEN + optlen;
    uint32_t next_hop;
    if (!p || !optlen || optlen % 4 || hlen > OASIS_IPV4_MAX_HLEN || p->len + hlen > s->mtu ||
        oasis_pbuf_headroom(p) < hlen + OASIS_ETH_HLEN || s->addr == 0)
        return oasis_ipv4_output_tt(s, p, dst, proto, 0, tos, ttl);
    uint8_t kind = route_of(s, dst, &next_hop);
    if (kind == RT_LOOP || next_hop == 0)
        return oasis_ipv4_output_tt(s, p, dst, proto, 0, tos, ttl);
    s->ctr.ip.out_requests++;
    oasis_ipv4_hdr h;
    fill_header(s, &h, 0, dst, proto, next_ident(s, dst, proto, 1), tos, ttl);
    loop_copy(s, p, kind, &h, opts, optlen);
    uint8_t *hdr = oasis_pbuf_push(p, hlen);
    h.total_len = (uint16_t)p->len;
    oasis_ipv4_emit_opts(hdr, &h, opts, optlen);
    return send_datagram(s, p, dst, kind, next_hop);
}

void oasis_ipv4_route_changed(oasis_stack *s)
{
    if (++s->ip.rt_gen == 0)
        s->ip.rt_gen = 1;
}

_Static_assert(sizeof(((oasis_ipv4_txc *)0)->hdr) == OASIS_ETH_HLEN + OASIS_IPV4_HLEN,
               "the transmit cache holds one Ethernet and one IPv4 header");

/* Fills c for datagrams to dst as oasis_ipv4_output_tt would send them
 * (DF set unless oasis_ipv4_df_ok says no), or marks dst as the slow path's (nb NULL) until a table
 * changes: loopback, broadcast, no route, an unresolved neighbour. */
static void txc_fill(oasis_stack *s, oasis_ipv4_txc *c, uint32_t dst, uint8_t proto, uint8_t ttl)
{
    c->rt_gen = s->ip.rt_gen;
    c->nb_gen = s->arp.gen;
    c->dst = dst;
    c->proto = proto;
    c->ttl = ttl;
    c->nb = NULL;
    uint32_t next_hop;
    uint8_t mac[6];
    if (c->src || s->addr == 0 || route_of(s, dst, &next_hop) != RT_UNICAST || next_hop == 0)
        return;
    oasis_arp_entry *e = oasis_arp_neighbour(s, next_hop, mac);
    if (!e)
        return;
    oasis_ipv4_hdr h;
    fill_header(s, &h, 0, dst, proto, 0, 0, ttl);
    h.df = (uint8_t)oasis_ipv4_df_ok(s, dst);
    oasis_eth_emit(c->hdr, mac, s->mac, OASIS_ETHERTYPE_IPV4);
    uint8_t *ip = c->hdr + OASIS_ETH_HLEN;
    oasis_ipv4_emit(ip, &h);
    memset(ip + 10, 0, 2); /* (TOS, length and ID are 0 here) */
    uint16_t folded = (uint16_t)~oasis_csum_fold(oasis_csum_add32(0, ip, 5));
    c->hsum = oasis_get16((const uint8_t *)&folded); /* host order (txc_write) */
    c->bucket = (uint16_t)ident_bucket(s, dst, proto);
    c->nb = e;
}

/* c, current for (dst, proto, ttl): 1 when it covers dst (a resolved
 * neighbour, the cache in use), else 0 (the slow path's). */
static int txc_ready(oasis_stack *s, oasis_ipv4_txc *c, uint32_t dst, uint8_t proto, uint8_t ttl)
{
    if (s->ip.txc_off)
        return 0;
    if (c->rt_gen != s->ip.rt_gen || c->nb_gen != s->arp.gen || c->dst != dst ||
        c->proto != proto || c->ttl != ttl)
        txc_fill(s, c, dst, proto, ttl);
    return c->nb != NULL;
}

/* Writes c's headers in front of a datagram of total bytes (IPv4 header
 * included) at frame, for segs datagrams' IDs, and counts it sent. now_ms:
 * the time in ms (the transport's send has it). */
static OASIS_ALWAYS_INLINE void txc_write(oasis_stack *s, oasis_ipv4_txc *c, uint8_t *frame,
                                          size_t total, uint8_t tos, uint16_t segs, uint32_t now_ms)
{
    s->ctr.ip.out_requests += segs > 1 ? segs : 1u; /* datagrams: each piece (RFC 4293) */
    memcpy(frame, c->hdr, sizeof c->hdr);
    uint8_t *ip = frame + OASIS_ETH_HLEN;
    ip[1] = tos;
    oasis_put16(ip + 2, (uint16_t)total);
    /* The template's sum and the three fields' (a one's complement sum is
     * the same in either byte order): below 2^18, two folds end it. */
    uint32_t sum = c->hsum + tos + (uint16_t)total;
    uint16_t id = ident_take(s, c->bucket, segs, now_ms);
    oasis_put16(ip + 4, id);
    sum += id;
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    oasis_put16(ip + 10, (uint16_t)~sum);
    oasis_arp_used(s, c->nb);
}

int oasis_ipv4_output_cached(oasis_stack *s, oasis_ipv4_txc *c, oasis_pbuf *p, uint32_t dst,
                             uint8_t proto, uint8_t tos, uint8_t ttl)
{
    /* What the slow path would refuse or cut goes there, to be counted. */
    size_t total = p->len + OASIS_IPV4_HLEN;
    if (!txc_ready(s, c, dst, proto, ttl) || total > 65535 || (!p->gso_size && total > s->mtu) ||
        oasis_pbuf_headroom(p) < sizeof c->hdr)
        return oasis_ipv4_output_from(s, p, c->src, dst, proto, 1, tos, ttl);
    txc_write(s, c, oasis_pbuf_push(p, sizeof c->hdr), total, tos, p->gso_segs,
              (uint32_t)(oasis_now(s) / OASIS_NS_PER_MS));
    return oasis_eth_xmit(s, p);
}

int oasis_ipv4_cached_frame_ok(oasis_stack *s, oasis_ipv4_txc *c, uint32_t dst, uint8_t proto,
                               uint8_t ttl, size_t len)
{
    return txc_ready(s, c, dst, proto, ttl) && len + OASIS_IPV4_HLEN <= s->mtu;
}

/* Both always inline: the transport's send takes them whole (with LTO),
 * without a call and a second set of saved registers per segment. */
OASIS_HOT OASIS_ALWAYS_INLINE int oasis_ipv4_output_frame(oasis_stack *s, oasis_ipv4_txc *c,
                                                          uint8_t *frame, size_t len, uint8_t tos,
                                                          int lent, uint32_t now_ms)
{
    txc_write(s, c, frame, len + OASIS_IPV4_HLEN, tos, 1, now_ms);
    if (lent)
        return oasis_eth_commit(s, frame, sizeof c->hdr + len);
    return oasis_eth_send_frame(s, frame, sizeof c->hdr + len);
}

OASIS_HOT OASIS_ALWAYS_INLINE int oasis_ipv4_try_frame(oasis_stack *s, oasis_ipv4_txc *c, uint8_t ttl,
                                                       uint8_t *frame, size_t len, uint8_t tos,
                                                       int lent, uint32_t now_ms)
{
    /* txc_ready for the destination and protocol the cache holds (its
     * own: they never change), which it refills from them when stale */
    if (s->ip.txc_off)
        return 0;
    if (OASIS_UNLIKELY(c->rt_gen != s->ip.rt_gen || c->nb_gen != s->arp.gen || c->ttl != ttl))
        txc_fill(s, c, c->dst, c->proto, ttl);
    if (OASIS_UNLIKELY(!c->nb || len + OASIS_IPV4_HLEN > s->mtu))
        return 0;
    oasis_ipv4_output_frame(s, c, frame, len, tos, lent, now_ms);
    return 1;
}

void oasis_ipv4_negative_advice(oasis_stack *s, uint32_t dst)
{
    uint32_t next_hop = oasis_ipv4_route(s, dst);
    if (next_hop)
        oasis_arp_reverify(s, next_hop);
}

static void count_delivered(oasis_ip_counters *c, uint8_t tos)
{
    /* RFC 3168 5: the ECN field picks the counter (a lookup, not a
     * chain of compares). */
    static const uint16_t ecn_ctr[4] = {
        offsetof(oasis_ip_counters, in_noect_pkts), offsetof(oasis_ip_counters, in_ect1_pkts),
        offsetof(oasis_ip_counters, in_ect0_pkts), offsetof(oasis_ip_counters, in_ce_pkts)};
    c->in_delivers++;
    (*(uint64_t *)((char *)c + ecn_ctr[tos & 3]))++;
}

void oasis_ipv4_deliver(oasis_stack *s, const oasis_ipv4_hdr *h)
{
    const oasis_ip_handler *hd = oasis_ip_handler_of(s, h->proto);
    if (!hd) {
        s->ctr.ip.in_unknown_protos++;
        oasis_icmp_send_error(s, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_PROTO_UNREACH, 0, h);
        return;
    }
    count_delivered(&s->ctr.ip, h->tos);
    oasis_ip_packet pkt = {
        .family = OASIS_IP_FAMILY_V4,
        .proto = h->proto,
        .link_bcast = h->link_bcast,
        .tclass = h->tos,
        .src = h->src,
        .dst = h->dst,
        .payload = h->payload,
        .len = h->payload_len,
        .net = h,
    };
    hd->input(s, &pkt, hd->ud);
}

/* Martian sources (RFC 1122 3.2.1.3): 0/8 ("this network", only while
 * booting), 127/8, multicast and 240/4 (which holds 255.255.255.255),
 * our subnet's network and broadcast addresses, and our own address (a
 * loop or a spoof). Answering them would make us reflect or ARP for an
 * address no host owns. */
int oasis_ipv4_is_martian(const oasis_stack *s, uint32_t src)
{
    if (!oasis_ipv4_host_addr_ok(src, 32)) /* the class rules alone */
        return 1;
    if (s->addr == 0)
        return 0;
    if (src == s->addr)
        return 1;
    /* /31 and /32 have neither (RFC 3021). */
    return s->netmask < 0xfffffffeu &&
           (src == (s->addr & s->netmask) || src == (s->addr | ~s->netmask));
}

int oasis_ipv4_unicast_dest(const oasis_stack *s, uint32_t dst)
{
    uint32_t top = dst >> 24;
    if (top == 0 || top >= 224 || oasis_ipv4_is_broadcast(s, dst))
        return OASIS_EBADDEST;
    if (s->addr != 0 && s->netmask < 0xfffffffeu && dst == (s->addr & s->netmask))
        return OASIS_EBADDEST;
    if (s->addr == 0 || oasis_ipv4_route(s, dst) == 0)
        return OASIS_ENOROUTE;
    return OASIS_OK;
}

/* A Loose or Strict Source and Record Route option (RFC 791 types 131,
 * 137). The options were found well formed by the parser. */
static int source_routed(const oasis_ipv4_hdr *h)
{
    return oasis_ipv4_options_source_route(h->options, h->options_len);
}

static OASIS_NOINLINE void ipv4_input(oasis_stack *s, const uint8_t *pkt, size_t len,
                                       int link_bcast, int loop);
static int tcp_direct(oasis_stack *s, const uint8_t *pkt, size_t len);

void oasis_ipv4_input(oasis_stack *s, const uint8_t *pkt, size_t len, int link_bcast)
{
    /* The general path apart (not inlined here): its registers and its
     * header stay off the direct path's way. */
    if (!link_bcast && tcp_direct(s, pkt, len))
        return;
    ipv4_input(s, pkt, len, link_bcast, 0);
}

void oasis_ipv4_input_loop(oasis_stack *s, const uint8_t *pkt, size_t len)
{
    ipv4_input(s, pkt, len, 0, 1);
}

/* The common case, ahead of the general path: a plain datagram (no
 * options, not a fragment: ipv4_wire.h) from a proper source to our
 * address, for the built-in TCP. It passes every check ipv4_input makes and
 * is counted as it would count it. Anything else returns 0, uncounted, and
 * takes the general path, which judges and counts it. */
static int tcp_direct(oasis_stack *s, const uint8_t *pkt, size_t len)
{
    size_t total = oasis_ipv4_plain(pkt, len);
    if (!total || pkt[9] != OASIS_IPPROTO_TCP || !s->protos.tcp_builtin)
        return 0;
    uint32_t src = oasis_get32(pkt + 12), dst = oasis_get32(pkt + 16);
    if (s->addr == 0 || dst != s->addr)
        return 0;
    oasis_ipv4 *ip = &s->ip;
    if (src != ip->rx_src || s->addr != ip->rx_addr || s->netmask != ip->rx_mask) {
        if (oasis_ipv4_is_martian(s, src))
            return 0;
        ip->rx_src = src;
        ip->rx_addr = s->addr;
        ip->rx_mask = s->netmask;
    }
    uint8_t tos = pkt[1]; /* read once: the counters' stores may alias pkt */
    s->ctr.ip.in_receives++;
    count_delivered(&s->ctr.ip, tos);
    oasis_tcp_input4_ecn(s, src, dst, pkt + OASIS_IPV4_HLEN, total - OASIS_IPV4_HLEN, tos & 3);
    return 1;
}

/* RFC 1122 3.2.2.5: a host SHOULD send Parameter Problem; RFC 792: about
 * a datagram discarded for its header, the pointer at the octet at fault.
 * Only for a malformed option (the one header fault whose octet is
 * known), and only about a datagram we would otherwise have taken: to us,
 * from a proper source (oasis_icmp_send_error checks the rest of RFC 1122
 * 3.2.2: no error about a broadcast, a fragment past the first, an error). */
static void option_problem(oasis_stack *s, const uint8_t *pkt, size_t len, int link_bcast)
{
    oasis_ipv4_hdr h;
    size_t at = oasis_ipv4_option_fault(pkt, len, &h);
    if (!at || !oasis_ipv4_is_local(s, h.dst) || oasis_ipv4_is_martian(s, h.src))
        return;
    h.link_bcast = (uint8_t)(link_bcast != 0);
    oasis_icmp_send_error(s, OASIS_ICMP_PARAM_PROBLEM, 0, (uint32_t)at << 24, &h);
}

/* An unfragmented ICMP error message: what a transparent stack takes for
 * a foreign address, since its flows send from such addresses and a
 * router's Fragmentation Needed about them comes back there (RFC 1191).
 * Echo and every other message stay for the stack's own addresses. */
static int icmp_error_whole(const oasis_ipv4_hdr *h)
{
    if (h->proto != OASIS_IPPROTO_ICMP || h->mf || h->frag_off || !h->payload_len)
        return 0;
    /* (A redirect is about the route, which only our own address has.) */
    return oasis_icmp_is_error(h->payload[0]) && h->payload[0] != OASIS_ICMP_REDIRECT;
}

/* A transparent stack (cfg.transparent) takes TCP and UDP to any unicast
 * address as its own (tcp.c and udp.c judge the rest), and ICMP errors
 * about what it sent from one (icmp.c checks the quote): not 0, multicast,
 * broadcast or loopback, sent unicast on the link, and the stack has an
 * address to route its answers by. */
static int foreign_ok(const oasis_stack *s, const oasis_ipv4_hdr *h)
{
    return s->cfg.transparent && s->addr != 0 &&
           (h->proto == OASIS_IPPROTO_TCP || h->proto == OASIS_IPPROTO_UDP ||
            icmp_error_whole(h)) &&
           !h->link_bcast && oasis_ipv4_foreign(s, h->dst);
}

int oasis_ipv4_foreign(const oasis_stack *s, uint32_t addr)
{
    return addr != 0 && !oasis_ipv4_is_local(s, addr) && !oasis_ipv4_is_multicast(addr) &&
           (addr >> 24) != 127;
}

static void ipv4_input(oasis_stack *s, const uint8_t *pkt, size_t len, int link_bcast, int loop)
{
    oasis_ip_counters *c = &s->ctr.ip;
    oasis_ipv4_hdr h;

    c->in_receives++;
    switch (oasis_ipv4_parse(pkt, len, &h)) {
    case OASIS_OK:
        break;
    case OASIS_ETRUNCATED:
        c->in_truncated++;
        return;
    case OASIS_ECHECKSUM:
        c->in_csum_errors++;
        c->in_hdr_errors++; /* InHdrErrors counts bad checksums too (RFC 1213, Linux) */
        return;
    default:
        c->in_hdr_errors++;
        if (!loop)
            option_problem(s, pkt, len, link_bcast);
        return;
    }
    /* No TTL check: a host must not drop a datagram for a TTL under 2
     * (RFC 1122 3.2.1.7); TTL only bounds forwarding, which we never do. */
    h.link_bcast = (uint8_t)(link_bcast != 0);
    /* Without an address, UDP to our MAC is ours whatever its destination:
     * a DHCP server may unicast its offer to the address it offers
     * (RFC 2131 4.1). */
    if (!loop && !oasis_ipv4_is_local(s, h.dst) && !oasis_igmp_member(s, h.dst) &&
        !(s->addr == 0 && h.proto == OASIS_IPPROTO_UDP) && !foreign_ok(s, &h)) {
        c->in_addr_errors++;
        return;
    }
    /* RFC 1122 3.3.6: our unicast address in a link broadcast or multicast
     * frame is a sender's mistake or a spoof aimed past switches' filters:
     * silently discarded, as the SHOULD says. */
    if (link_bcast && s->addr != 0 && h.dst == s->addr) {
        c->in_addr_errors++;
        return;
    }
    /* A switch's IGMP querier has no address of its own: its queries come
     * from 0.0.0.0 (RFC 4541), and Linux takes 0.0.0.0 for IGMP and
     * the local groups (224.0.0.0/24) as such. */
    if (!loop && oasis_ipv4_is_martian(s, h.src) &&
        !(h.src == 0 && (h.proto == OASIS_IPPROTO_IGMP || (h.dst >> 8) == 0xe00000))) {
        c->in_martians++;
        return;
    }
    /* Source routing lets a sender pick the path, and our replies' if we
     * honoured the return route (RFC 9293 MUST-53): a spoofing tool, so
     * RFC 7126 advises dropping it and a Linux host does
     * (accept_source_route 0). We neither send nor accept it. */
    if (h.options_len && source_routed(&h)) {
        c->in_source_routed++;
        return;
    }
    if (h.mf || h.frag_off) {
        oasis_reasm_input(s, &h);
        return;
    }
    oasis_ipv4_deliver(s, &h);
}
