/* Zero-copy receive into a flow's ring (see tcp_place.h). */
#include "tcp/tcp_place.h"

#include "core/stack_impl.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_ofo.h"
#include "tcp/tcp_tune.h"

#include <string.h>

#define ETH_HLEN 14u
#define IP4_HLEN 20u
#define IP6_HLEN 40u

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The IP header's length of a frame carrying TCP right after it: IPv4
 * without options and not a fragment, or IPv6 with no extension header;
 * else 0. Only the fixed parts are looked at; the layers check the rest. */
static uint32_t ip_hlen(const uint8_t *frame, size_t len)
{
    const uint8_t *ip = frame + ETH_HLEN;
    if (len < ETH_HLEN + IP6_HLEN)
        return 0;
    uint16_t type = be16(frame + 12);
    if (type == 0x0800 && ip[0] == 0x45 && ip[9] == 6 && (be16(ip + 6) & 0x3fff) == 0)
        return IP4_HLEN;
    if (type == 0x86dd && (ip[0] >> 4) == 6 && ip[6] == 6)
        return IP6_HLEN;
    return 0;
}

/* The IP header's length through *iph, and the TCP header's length, of a
 * frame ip_hlen takes; 0 when it is not one or the headers do not fit. */
static uint32_t tcp_hlen(const uint8_t *frame, size_t len, uint32_t *iph)
{
    uint32_t ih = ip_hlen(frame, len);
    if (!ih || len < ETH_HLEN + ih + 20)
        return 0;
    uint32_t th = (uint32_t)(frame[ETH_HLEN + ih + 12] >> 4) * 4;
    *iph = ih;
    return th >= 20 && ETH_HLEN + ih + th <= len ? th : 0;
}

/* The frame's length as its IP header gives it. */
static size_t ip_frame_len(const uint8_t *frame, uint32_t ih)
{
    const uint8_t *ip = frame + ETH_HLEN;
    return ih == IP4_HLEN ? ETH_HLEN + (size_t)be16(ip + 2)
                          : ETH_HLEN + IP6_HLEN + (size_t)be16(ip + 4);
}

/* The source (raddr) and destination (laddr) of the frame's IP header. */
static void ip_addrs(const uint8_t *frame, uint32_t ih, oasis_ipaddr *raddr, oasis_ipaddr *laddr)
{
    const uint8_t *ip = frame + ETH_HLEN;
    if (ih == IP4_HLEN) {
        *raddr = oasis_ipaddr_v4(be32(ip + 12));
        *laddr = oasis_ipaddr_v4(be32(ip + 16));
    } else {
        *raddr = oasis_ipaddr_v6(ip + 8);
        *laddr = oasis_ipaddr_v6(ip + 24);
    }
}

uint32_t oasis_tcp_place_learn(const uint8_t *frame, size_t len)
{
    uint32_t ih, th = tcp_hlen(frame, len, &ih);
    if (!th || ip_frame_len(frame, ih) != len)
        return 0;
    uint32_t hdr = ETH_HLEN + ih + th;
    return len - hdr >= OASIS_PLACE_MIN ? hdr : 0;
}

int oasis_tcp_place_begin(oasis_stack *s, const uint8_t *hdr, uint32_t hdr_len,
                          oasis_tcp_place *pl)
{
    memset(pl, 0, sizeof *pl);
    uint32_t ih = 0;
    if (!s || !s->tcp || (s->link && s->link->pcap) || hdr_len > OASIS_PLACE_HDR_MAX ||
        tcp_hlen(hdr, hdr_len, &ih) != hdr_len - ETH_HLEN - ih)
        return 0; /* a capture writes the frame as read: it must be whole */
    const uint8_t *th = hdr + ETH_HLEN + ih;
    oasis_ipaddr la, ra;
    ip_addrs(hdr, ih, &ra, &la);
    uint16_t lport = be16(th + 2), rport = be16(th);
    oasis_tcp_conn *c = oasis_tcp_lookup(s, &la, lport, &ra, rport);
    if (!c || c->kind != OASIS_TCP_KIND_FLOW)
        return 0;
    oasis_flow *f = (oasis_flow *)c;
    /* States that take data, and no out-of-order hold (the next in-order
     * bytes would merge with it). */
    if (f->fin_rcvd || (f->state != OASIS_TCP_ESTABLISHED && f->state != OASIS_TCP_FIN_WAIT_1 &&
                        f->state != OASIS_TCP_FIN_WAIT_2))
        return 0;
    /* Held until _end: neither the flow nor its rings may go meanwhile
     * (the segment would take the extension back from an idle flow too). */
    if (oasis_tcp_ext_get(f))
        return 0;
    f->busy++;
    uint8_t *dst = NULL;
    uint32_t room = 0;
    /* The room comes out of the memory budget like any stored byte. */
    if (oasis_ofo_empty(&f->ext->ofo))
        room = oasis_ring_pin(s, &f->ext->rcv, oasis_tcp_rcv_storable(f, 65535u), &dst);
    if (room < OASIS_PLACE_MIN) {
        *pl = (oasis_tcp_place){.f = f};
        oasis_tcp_place_end(s, pl);
        return 0;
    }
    *pl = (oasis_tcp_place){.dst = dst, .room = room, .hdr_len = hdr_len, .ip_hlen = ih,
                            .f = f, .laddr = la, .raddr = ra, .seq = f->rcv_nxt,
                            .lport = lport, .rport = rport};
    return 1;
}

oasis_place_result oasis_tcp_place_match(const oasis_tcp_place *pl, const uint8_t *frame,
                                         size_t len, const oasis_offload *off)
{
    /* Headers only: a longer payload than the room was cut short by the
     * read, but its headers (in the link's buffer) are whole. */
    uint32_t ih = 0;
    if (!pl->dst || len <= pl->hdr_len ||
        tcp_hlen(frame, pl->hdr_len, &ih) != pl->hdr_len - ETH_HLEN - ih || ih != pl->ip_hlen)
        return OASIS_PLACE_OTHER;
    const uint8_t *th = frame + ETH_HLEN + ih;
    oasis_ipaddr la, ra;
    ip_addrs(frame, ih, &ra, &la);
    /* SYN, RST and URG take other paths than the ring; ACK is always on. */
    uint8_t flags = th[13];
    if (ip_frame_len(frame, ih) != len || !oasis_ipaddr_eq(&ra, &pl->raddr) ||
        !oasis_ipaddr_eq(&la, &pl->laddr) || be16(th) != pl->rport || be16(th + 2) != pl->lport ||
        be32(th + 4) != pl->seq || !(flags & 0x10) || (flags & (0x02 | 0x04 | 0x20)))
        return OASIS_PLACE_OTHER;
    if (len - pl->hdr_len > pl->room)
        return OASIS_PLACE_TOO_BIG;
    /* The checksum is not summed again: the link must vouch for it (a
     * partial one must be this TCP header's). */
    int trusted = off && ((off->flags & OASIS_OFFLOAD_CSUM_VALID) ||
                          ((off->flags & OASIS_OFFLOAD_CSUM_PARTIAL) &&
                           off->csum_start == ETH_HLEN + ih && off->csum_offset == 16));
    return trusted ? OASIS_PLACE_HIT : OASIS_PLACE_UNTRUSTED;
}

void oasis_tcp_place_input(oasis_stack *s, oasis_tcp_place *pl, const uint8_t *frame,
                           size_t len, const oasis_offload *off)
{
    /* Saved and restored: a frame fed from inside this one's processing. */
    const uint8_t *o_stub = s->rx_place_stub;
    const uint8_t *o_dst = s->rx_place_dst;
    s->rx_place_stub = frame + pl->hdr_len;
    s->rx_place_dst = pl->dst;
    oasis_stack_input_offload(s, frame, len, off);
    s->rx_place_stub = o_stub;
    s->rx_place_dst = o_dst;
}

void oasis_tcp_place_end(oasis_stack *s, oasis_tcp_place *pl)
{
    oasis_flow *f = pl->f;
    if (!f)
        return;
    pl->f = NULL;
    pl->dst = NULL;
    if (f->ext)
        oasis_ring_unpin(s, &f->ext->rcv);
    f->busy--;
    oasis_tcp_ext_put(f);
    oasis_tcp_maybe_free(f);
}
