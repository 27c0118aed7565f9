/* ICMPv6 wire format (RFC 4443): the common header, the checksum over the
 * IPv6 pseudo-header, echo. Neighbour Discovery and MLD are in nd_wire.h. */
#ifndef OASIS_ICMP6_WIRE_H
#define OASIS_ICMP6_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "ipv6/ipv6_wire.h"

#define OASIS_ICMP6_HLEN 8 /* type, code, checksum and the 4-byte first word */

enum {
    OASIS_ICMP6_DEST_UNREACH = 1,
    OASIS_ICMP6_PKT_TOO_BIG = 2,
    OASIS_ICMP6_TIME_EXCEEDED = 3,
    OASIS_ICMP6_PARAM_PROBLEM = 4,
    OASIS_ICMP6_ECHO_REQUEST = 128,
    OASIS_ICMP6_ECHO_REPLY = 129,
    OASIS_ICMP6_MLD_QUERY = 130,
    OASIS_ICMP6_MLD_REPORT = 131,
    OASIS_ICMP6_MLD_DONE = 132,
    OASIS_ICMP6_RS = 133,
    OASIS_ICMP6_RA = 134,
    OASIS_ICMP6_NS = 135,
    OASIS_ICMP6_NA = 136,
    OASIS_ICMP6_REDIRECT = 137,
    OASIS_ICMP6_MLD2_REPORT = 143,
};

/* Destination Unreachable codes. */
enum { OASIS_ICMP6_DU_NOROUTE = 0, OASIS_ICMP6_DU_ADMIN = 1, OASIS_ICMP6_DU_ADDR = 3,
       OASIS_ICMP6_DU_PORT = 4 };
/* Parameter Problem codes. */
enum { OASIS_ICMP6_PP_HEADER = 0, OASIS_ICMP6_PP_NEXTHDR = 1, OASIS_ICMP6_PP_OPTION = 2,
       OASIS_ICMP6_PP_CHAIN = 3 };

typedef struct oasis_icmp6_hdr {
    uint8_t type, code;
    uint32_t word;          /* bytes 4..7: id/seq, MTU, pointer, reserved */
    const uint8_t *msg;     /* the whole message */
    size_t len;
    const uint8_t *body;    /* after the 8-byte header */
    size_t body_len;
} oasis_icmp6_hdr;

/* Parses an ICMPv6 message of len bytes that came from src to dst and checks
 * its checksum. Returns 0, OASIS_ETRUNCATED (under 8 bytes: every message
 * we read has its first word) or OASIS_ECHECKSUM. */
int oasis_icmp6_parse(const uint8_t *msg, size_t len, const oasis_in6 *src, const oasis_in6 *dst,
                      oasis_icmp6_hdr *out);

/* Writes type, code, word at msg and the checksum over msg[0..len) with the
 * pseudo-header (the rest of the message must be in place). */
void oasis_icmp6_finish(uint8_t *msg, size_t len, uint8_t type, uint8_t code, uint32_t word,
                        const oasis_in6 *src, const oasis_in6 *dst);

static inline int oasis_icmp6_is_error(uint8_t type) { return type < 128; }

#endif
