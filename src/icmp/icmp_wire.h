/* ICMPv4 wire format (RFC 792). */
#ifndef OASIS_ICMP_WIRE_H
#define OASIS_ICMP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define OASIS_ICMP_HLEN 8
#define OASIS_ICMP_ECHO_REPLY 0
#define OASIS_ICMP_DEST_UNREACH 3
#define OASIS_ICMP_SOURCE_QUENCH 4
#define OASIS_ICMP_REDIRECT 5
#define OASIS_ICMP_ECHO 8
#define OASIS_ICMP_TIME_EXCEEDED 11
#define OASIS_ICMP_PARAM_PROBLEM 12
/* Destination unreachable codes */
#define OASIS_ICMP_NET_UNREACH 0
#define OASIS_ICMP_HOST_UNREACH 1
#define OASIS_ICMP_PROTO_UNREACH 2
#define OASIS_ICMP_PORT_UNREACH 3
#define OASIS_ICMP_FRAG_NEEDED 4

/* The error messages (RFC 792; RFC 1122 3.2.2 counts redirects among
 * them), as against queries such as echo. */
static inline int oasis_icmp_is_error(uint8_t type)
{
    return type == OASIS_ICMP_DEST_UNREACH || type == OASIS_ICMP_SOURCE_QUENCH ||
           type == OASIS_ICMP_REDIRECT || type == OASIS_ICMP_TIME_EXCEEDED ||
           type == OASIS_ICMP_PARAM_PROBLEM;
}

typedef struct oasis_icmp_hdr {
    uint8_t type, code;
    uint32_t rest;        /* bytes 4..7: echo id<<16|seq, next-hop MTU, ... */
    const uint8_t *payload;
    size_t payload_len;
} oasis_icmp_hdr;

/* Returns 0, OASIS_ETRUNCATED (< 8 bytes) or OASIS_ECHECKSUM (over the
 * whole message). */
int oasis_icmp_parse(const uint8_t *buf, size_t len, oasis_icmp_hdr *out);

/* Writes the 8-byte header at buf and the checksum over buf[0..len), where
 * the payload already sits at buf + 8. */
void oasis_icmp_emit(uint8_t *buf, size_t len, uint8_t type, uint8_t code, uint32_t rest);

#endif
