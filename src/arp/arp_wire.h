/* ARP for IPv4 over Ethernet (RFC 826) wire format. */
#ifndef OASIS_ARP_WIRE_H
#define OASIS_ARP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define OASIS_ARP_LEN 28
#define OASIS_ARP_REQUEST 1
#define OASIS_ARP_REPLY 2

typedef struct oasis_arp_pkt {
    uint16_t op;
    uint8_t sha[6];
    uint32_t spa; /* host order */
    uint8_t tha[6];
    uint32_t tpa;
} oasis_arp_pkt;

/* Returns 0, OASIS_ETRUNCATED (< 28 bytes) or OASIS_EMALFORMED (hardware type
 * not Ethernet, protocol not IPv4, address lengths not 6/4, op not 1/2).
 * Trailing padding is ignored. */
int oasis_arp_parse(const uint8_t *buf, size_t len, oasis_arp_pkt *out);

/* Writes 28 bytes at buf. */
void oasis_arp_emit(uint8_t *buf, const oasis_arp_pkt *p);

#endif
