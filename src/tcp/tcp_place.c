/* Zero-copy receive into a flow's ring (see tcp_place.h). */
#include "tcp/tcp_place.h"

#include "core/stack_impl.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_ofo.h"
#include "tcp/tcp_tune.h"

#include <string.h>

#define ETH_HLEN 14u
#define IP_HLEN 20u

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* IPv4 (no options, not a fragment) carrying TCP: the TCP header length,
 * else 0. Only the fixed parts are looked at; the layers check the rest. */
static uint32_t tcp_hlen(const uint8_t *frame, size_t len)
{
    const uint8_t *ip = frame + ETH_HLEN;
    if (len < ETH_HLEN + IP_HLEN + 20 || be16(frame + 12) != 0x0800 || ip[0] != 0x45 ||
        ip[9] != 6 || (be16(ip + 6) & 0x3fff) != 0)
        return 0;
    uint32_t th = (uint32_t)(ip[IP_HLEN + 12] >> 4) * 4;
    return th >= 20 && ETH_HLEN + IP_HLEN + th <= len ? th : 0;
}

uint32_t oasis_tcp_place_learn(const uint8_t *frame, size_t len)
{
    uint32_t th = tcp_hlen(frame, len);
    if (!th || be16(frame + ETH_HLEN + 2) != len - ETH_HLEN)
        return 0;
    uint32_t hdr = ETH_HLEN + IP_HLEN + th;
    return len - hdr >= OASIS_PLACE_MIN ? hdr : 0;
}

int oasis_tcp_place_begin(oasis_stack *s, const uint8_t *hdr, uint32_t hdr_len,
                          oasis_tcp_place *pl)
{
    memset(pl, 0, sizeof *pl);
    if (!s || !s->tcp || (s->link && s->link->pcap) || hdr_len > OASIS_PLACE_HDR_MAX ||
        tcp_hlen(hdr, hdr_len) != hdr_len - ETH_HLEN - IP_HLEN)
        return 0; /* a capture writes the frame as read: it must be whole */
    const uint8_t *ip = hdr + ETH_HLEN, *th = ip + IP_HLEN;
    uint32_t laddr = be32(ip + 16), raddr = be32(ip + 12);
    uint16_t lport = be16(th + 2), rport = be16(th);
    oasis_ipaddr la = oasis_ipaddr_v4(laddr), ra = oasis_ipaddr_v4(raddr);
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
    *pl = (oasis_tcp_place){.dst = dst, .room = room, .hdr_len = hdr_len, .f = f,
                            .laddr = laddr, .raddr = raddr, .seq = f->rcv_nxt,
                            .lport = lport, .rport = rport};
    return 1;
}

oasis_place_result oasis_tcp_place_match(const oasis_tcp_place *pl, const uint8_t *frame,
                                         size_t len, const oasis_offload *off)
{
    /* Headers only: a longer payload than the room was cut short by the
     * read, but its headers (in the link's buffer) are whole. */
    if (!pl->dst || len <= pl->hdr_len ||
        tcp_hlen(frame, pl->hdr_len) != pl->hdr_len - ETH_HLEN - IP_HLEN)
        return OASIS_PLACE_OTHER;
    const uint8_t *ip = frame + ETH_HLEN, *th = ip + IP_HLEN;
    /* SYN, RST and URG take other paths than the ring; ACK is always on. */
    uint8_t flags = th[13];
    if (be16(ip + 2) != len - ETH_HLEN || be32(ip + 12) != pl->raddr ||
        be32(ip + 16) != pl->laddr || be16(th) != pl->rport || be16(th + 2) != pl->lport ||
        be32(th + 4) != pl->seq || !(flags & 0x10) || (flags & (0x02 | 0x04 | 0x20)))
        return OASIS_PLACE_OTHER;
    if (len - pl->hdr_len > pl->room)
        return OASIS_PLACE_TOO_BIG;
    /* The checksum is not summed again: the link must vouch for it (a
     * partial one must be this TCP header's). */
    int trusted = off && ((off->flags & OASIS_OFFLOAD_CSUM_VALID) ||
                          ((off->flags & OASIS_OFFLOAD_CSUM_PARTIAL) &&
                           off->csum_start == ETH_HLEN + IP_HLEN && off->csum_offset == 16));
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
