#include "arp/arp_wire.h"
#include "core/bytes.h"
#include "oasis/error.h"

#include <string.h>

#define ARP_HTYPE_ETHER 1
#define ARP_PTYPE_IPV4 0x0800

/* Layout (RFC 826, Ethernet/IPv4): htype(2) ptype(2) hlen(1) plen(1) op(2)
 * sha(6) spa(4) tha(6) tpa(4). */
int oasis_arp_parse(const uint8_t *buf, size_t len, oasis_arp_pkt *out)
{
    if (len < OASIS_ARP_LEN)
        return OASIS_ETRUNCATED;
    uint16_t op = oasis_get16(buf + 6);
    if (oasis_get16(buf) != ARP_HTYPE_ETHER || oasis_get16(buf + 2) != ARP_PTYPE_IPV4 ||
        buf[4] != 6 || buf[5] != 4)
        return OASIS_EMALFORMED;
    if (op != OASIS_ARP_REQUEST && op != OASIS_ARP_REPLY)
        return OASIS_EMALFORMED;
    out->op = op;
    memcpy(out->sha, buf + 8, 6);
    out->spa = oasis_get32(buf + 14);
    memcpy(out->tha, buf + 18, 6);
    out->tpa = oasis_get32(buf + 24);
    return OASIS_OK;
}

void oasis_arp_emit(uint8_t *buf, const oasis_arp_pkt *p)
{
    oasis_put16(buf, ARP_HTYPE_ETHER);
    oasis_put16(buf + 2, ARP_PTYPE_IPV4);
    buf[4] = 6;
    buf[5] = 4;
    oasis_put16(buf + 6, p->op);
    memcpy(buf + 8, p->sha, 6);
    oasis_put32(buf + 14, p->spa);
    memcpy(buf + 18, p->tha, 6);
    oasis_put32(buf + 24, p->tpa);
}
