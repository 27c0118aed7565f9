/* Neighbour Discovery (RFC 4861 4) and MLDv2 (RFC 3810 5) wire formats:
 * messages and options, parsed from whole ICMPv6 messages whose checksum
 * oasis_icmp6_parse has checked. Context rules (hop limit 255, source and
 * destination addresses) belong to nd.c. */
#ifndef OASIS_ND_WIRE_H
#define OASIS_ND_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "ipv6/icmp6_wire.h"
#include "ipv6/ipv6_wire.h"

/* Option types (RFC 4861 4.6). */
enum {
    OASIS_ND_OPT_SLLA = 1,
    OASIS_ND_OPT_TLLA = 2,
    OASIS_ND_OPT_PREFIX = 3,
    OASIS_ND_OPT_REDIRECTED = 4,
    OASIS_ND_OPT_MTU = 5,
    OASIS_ND_OPT_RDNSS = 25, /* RFC 8106 5.1 */
    OASIS_ND_OPT_DNSSL = 31, /* RFC 8106 5.2 */
};

/* RDNSS and DNSSL options kept from one RA (each may list several
 * servers or names); more are counted in dns_opts_ignored. */
#define OASIS_ND_MAX_DNS_OPTS 4

/* Prefix options kept from one RA; more are counted and ignored. */
#define OASIS_ND_MAX_PREFIXES 8

/* NA flags (first byte of the first word). */
#define OASIS_ND_NA_ROUTER 0x80
#define OASIS_ND_NA_SOLICITED 0x40
#define OASIS_ND_NA_OVERRIDE 0x20
/* RA flags. */
#define OASIS_ND_RA_MANAGED 0x80
#define OASIS_ND_RA_OTHER 0x40

typedef struct oasis_nd_prefix {
    uint8_t plen;
    int onlink, autonomous;   /* L and A flags */
    uint32_t valid_s, preferred_s; /* 0xffffffff: infinity */
    oasis_in6 prefix;
} oasis_nd_prefix;

typedef struct oasis_nd_opts {
    const uint8_t *slla, *tlla;     /* 6-byte Ethernet addresses, or NULL */
    int has_mtu;
    uint32_t mtu;
    const uint8_t *redirected;      /* the quoted packet, or NULL */
    size_t redirected_len;
    oasis_nd_prefix prefix[OASIS_ND_MAX_PREFIXES];
    int nprefix;
    int prefixes_ignored;           /* beyond the bound or malformed */
    /* RA only: the RDNSS options' server lists (body: 16 bytes a server)
     * and the DNSSL options' name lists (body: wire-format names, then
     * zero padding), each with its Lifetime in seconds. */
    struct oasis_nd_dns_opt {
        const uint8_t *body;
        size_t len;
        uint32_t lifetime_s;        /* 0xffffffff: infinity; 0: withdraw */
    } rdnss[OASIS_ND_MAX_DNS_OPTS], dnssl[OASIS_ND_MAX_DNS_OPTS];
    int nrdnss, ndnssl;
    int dns_opts_ignored;           /* malformed (RFC 8106 5.1/5.2 lengths, bad
                                       names) or beyond the bound */
} oasis_nd_opts;

typedef struct oasis_nd_msg {
    uint8_t type;
    /* RA */
    uint8_t cur_hop_limit, ra_flags;
    uint16_t router_lifetime_s;
    uint32_t reachable_ms, retrans_ms;
    /* NS, NA, redirect */
    oasis_in6 target;
    oasis_in6 dest;                 /* redirect */
    uint8_t na_flags;               /* NA: R, S, O */
    oasis_nd_opts opts;
} oasis_nd_msg;

/* Parses an RS, RA, NS, NA or redirect (the whole ICMPv6 message): code 0,
 * the fixed part present, every option of non-zero length inside the
 * message (RFC 4861 6.1, 7.1, 8.1: otherwise the message is discarded),
 * the message type's own link-layer address option (SLLA in RS, RA, NS;
 * TLLA in NA, redirect) of exactly 8 bytes (Ethernet), NS/NA/redirect
 * targets not multicast. Unknown options, and defined ones the message
 * type does not use, are skipped (RFC 4861 4.6, 6.1, 7.1, 8.1).
 * Returns 0, OASIS_ETRUNCATED or OASIS_EMALFORMED. */
int oasis_nd_parse(const uint8_t *msg, size_t len, oasis_nd_msg *out);

/* The next name of a DNSSL option body (RFC 8106 5.2: names as RFC 1035
 * 3.1 encodes them, no compression, zero padding after the last) from
 * body[*off], as text without the final dot into out (room for
 * OASIS_ND_DNSSL_NAME_MAX + 1 bytes), *off moved past it. Returns 1 (a
 * name), 0 (only padding left) or OASIS_EMALFORMED: a compression pointer
 * or other label type, a name running past the body or over 255 bytes,
 * a label byte outside letters, digits, '-' and '_',
 * or padding that is not all zero. */
#define OASIS_ND_DNSSL_NAME_MAX 253
int oasis_nd_dnssl_next(const uint8_t *body, size_t len, size_t *off, char *out);

/* Builders: write the message at buf (room for 32 bytes, RA/redirect
 * aside) without the checksum, which oasis_icmp6_finish adds; return the
 * length. lladdr NULL: no link-layer option. */
size_t oasis_nd_emit_rs(uint8_t *buf, const uint8_t *slla);
size_t oasis_nd_emit_ns(uint8_t *buf, const oasis_in6 *target, const uint8_t *slla);
size_t oasis_nd_emit_na(uint8_t *buf, const oasis_in6 *target, uint8_t flags, const uint8_t *tlla);

/* ---- MLDv2 (RFC 3810) ---- */

enum { OASIS_MLD2_IS_INCLUDE = 1, OASIS_MLD2_IS_EXCLUDE = 2, OASIS_MLD2_TO_INCLUDE = 3,
       OASIS_MLD2_TO_EXCLUDE = 4 };

typedef struct oasis_mld_query {
    int v2;                      /* 28+ bytes: an MLDv2 query */
    uint32_t max_resp_ms;        /* decoded Maximum Response Code */
    oasis_in6 group;             /* :: for a general query */
    uint16_t nsources;
    const uint8_t *sources;      /* nsources x 16 bytes, inside the message */
} oasis_mld_query;

/* Parses an MLD query (type 130): 24 bytes (MLDv1) or 28 + 16 * sources
 * (MLDv2, RFC 3810 5.1). 0, OASIS_ETRUNCATED or OASIS_EMALFORMED. */
int oasis_mld_parse_query(const uint8_t *msg, size_t len, oasis_mld_query *out);

/* Checks an MLDv2 report (type 143): every record's sources and aux data
 * inside the message. Returns the record count or a negative oasis_err. */
int oasis_mld_parse_report(const uint8_t *msg, size_t len);

/* An MLDv2 report with one record of `rec_type` and no sources per group
 * (join: TO_EXCLUDE or IS_EXCLUDE with no sources; leave: TO_INCLUDE), at
 * buf (room for 8 + 20 * n bytes), without checksum. Returns the length. */
size_t oasis_mld_emit_report(uint8_t *buf, const oasis_in6 *groups, int n, uint8_t rec_type);

/* An MLDv2 report with one record, of `rec_type`, for group with nsrc
 * sources (RFC 3810 5.2.4), at buf (room for 28 + 16 * nsrc bytes),
 * without checksum. Returns the length. */
size_t oasis_mld_emit_record(uint8_t *buf, const oasis_in6 *group, uint8_t rec_type,
                             const oasis_in6 *src, int nsrc);

/* An MLDv1 Report (131) or Done (132) for group (RFC 2710 3), at buf (24
 * bytes), without checksum. Returns 24. */
size_t oasis_mld1_emit(uint8_t *buf, uint8_t type, const oasis_in6 *group);

/* Parses an MLDv1 Report (131) or Done (132) (RFC 2710 3: 24 bytes or
 * more, its Multicast Address a multicast one) into *group. 0,
 * OASIS_ETRUNCATED or OASIS_EMALFORMED. */
int oasis_mld1_parse(const uint8_t *msg, size_t len, oasis_in6 *group);

#endif
