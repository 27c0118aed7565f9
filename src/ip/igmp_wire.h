/* IGMP messages a host reads and writes (RFC 9776, which obsoletes RFC
 * 3376; RFC 2236 for version 2, RFC 1112 for version 1). */
#ifndef OASIS_IGMP_WIRE_H
#define OASIS_IGMP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define OASIS_IPPROTO_IGMP 2

#define OASIS_IGMP_QUERY 0x11
#define OASIS_IGMP_V1_REPORT 0x12
#define OASIS_IGMP_V2_REPORT 0x16
#define OASIS_IGMP_V2_LEAVE 0x17
#define OASIS_IGMP_V3_REPORT 0x22

/* Group record types (RFC 9776 4.2.12) a host without source lists uses. */
#define OASIS_IGMP_MODE_IS_EXCLUDE 2
#define OASIS_IGMP_CHANGE_TO_INCLUDE 3
#define OASIS_IGMP_CHANGE_TO_EXCLUDE 4

#define OASIS_IGMP_ALL_SYSTEMS 0xe0000001u  /* 224.0.0.1 */
#define OASIS_IGMP_ALL_ROUTERS 0xe0000002u  /* 224.0.0.2: v2 Leave */
#define OASIS_IGMP_V3_ROUTERS 0xe0000016u   /* 224.0.0.22: v3 Reports */

typedef struct oasis_igmp_msg {
    uint8_t type;
    uint8_t version;      /* of a query: 1, 2 or 3 (by length and Max Resp, RFC 9776 7.1) */
    uint64_t max_resp_ns; /* of a query: the Maximum Response Time */
    uint32_t group;       /* host order; 0 in a general query */
} oasis_igmp_msg;

/* Parses a message (the IP payload). Returns 0, OASIS_ETRUNCATED (under 8
 * bytes), OASIS_ECHECKSUM, or OASIS_EMALFORMED for a query of a length
 * no version has (9 to 11 bytes; RFC 9776 7.1: silently ignored). */
int oasis_igmp_parse(const uint8_t *buf, size_t len, oasis_igmp_msg *out);

/* An 8-byte version 1 or 2 message (report or leave) about group. */
size_t oasis_igmp_emit_v12(uint8_t *buf, uint8_t type, uint32_t group);

/* A version 3 report of n records (type rec_type, no sources) for the
 * groups; buf holds 8 + 8n bytes. Returns the length. */
size_t oasis_igmp_emit_v3(uint8_t *buf, const uint32_t *groups, size_t n, uint8_t rec_type);

#endif
