/* DHCPv6 wire format (RFC 8415 8, 21; DNS options of RFC 3646): the
 * 4-byte client/server header, the options a client reads (each checked
 * for its length) and a builder for the messages it sends. No state: the
 * client (dhcp6.c) builds on it. */
#ifndef OASIS_DHCP6_WIRE_H
#define OASIS_DHCP6_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "ipv6/ipv6_wire.h"

#define OASIS_DHCP6_CLIENT_PORT 546
#define OASIS_DHCP6_SERVER_PORT 547
#define OASIS_DHCP6_HDR_LEN 4

/* Message types (RFC 8415 7.3). */
enum {
    OASIS_DHCP6_SOLICIT = 1, OASIS_DHCP6_ADVERTISE, OASIS_DHCP6_REQUEST, OASIS_DHCP6_CONFIRM,
    OASIS_DHCP6_RENEW, OASIS_DHCP6_REBIND, OASIS_DHCP6_REPLY, OASIS_DHCP6_RELEASE,
    OASIS_DHCP6_DECLINE, OASIS_DHCP6_RECONFIGURE, OASIS_DHCP6_INFORMATION_REQUEST
};

/* Option codes (RFC 8415 21, RFC 3646). */
enum {
    OASIS_D6O_CLIENTID = 1,
    OASIS_D6O_SERVERID = 2,
    OASIS_D6O_IA_NA = 3,
    OASIS_D6O_IAADDR = 5,
    OASIS_D6O_ORO = 6,
    OASIS_D6O_PREFERENCE = 7,
    OASIS_D6O_ELAPSED_TIME = 8,
    OASIS_D6O_STATUS_CODE = 13,
    OASIS_D6O_RAPID_COMMIT = 14,
    OASIS_D6O_DNS_SERVERS = 23,
    OASIS_D6O_DOMAIN_LIST = 24,
    OASIS_D6O_INFO_REFRESH_TIME = 32,
    OASIS_D6O_SOL_MAX_RT = 82,
    OASIS_D6O_INF_MAX_RT = 83,
};

/* Status codes (RFC 8415 21.13). */
enum {
    OASIS_D6S_SUCCESS = 0, OASIS_D6S_UNSPEC_FAIL, OASIS_D6S_NO_ADDRS_AVAIL, OASIS_D6S_NO_BINDING,
    OASIS_D6S_NOT_ON_LINK, OASIS_D6S_USE_MULTICAST
};

/* RFC 8415 11.1: a DUID is a 2-byte type and at most 128 bytes more. */
#define OASIS_DHCP6_DUID_MAX 130
#define OASIS_DHCP6_MAX_ADDRS 4
#define OASIS_DHCP6_MAX_DNS_WIRE 8
/* "no status code option": the status is Success (RFC 8415 21.13). */
#define OASIS_D6S_NONE 0xffff

typedef struct oasis_dhcp6_iaaddr {
    oasis_in6 addr;
    uint32_t preferred_s, valid_s;
    uint16_t status;            /* its own status code option; OASIS_D6S_NONE */
} oasis_dhcp6_iaaddr;

/* A parsed message. Pointers point into the parsed buffer. */
typedef struct oasis_dhcp6_msg {
    uint8_t type;
    uint32_t xid;               /* 24 bits */
    const uint8_t *client_id;   /* option 1 body; NULL: absent */
    size_t client_id_len;
    const uint8_t *server_id;   /* option 2 body; NULL: absent */
    size_t server_id_len;
    uint16_t status;            /* top-level status code; OASIS_D6S_NONE */
    int has_preference;
    uint8_t preference;
    int rapid_commit;           /* option 14 present (RFC 8415 21.14: empty) */
    /* The IA_NA whose IAID is the one asked for (others are skipped). */
    int has_ia;
    uint32_t t1, t2;
    uint16_t ia_status;         /* OASIS_D6S_NONE */
    oasis_dhcp6_iaaddr addrs[OASIS_DHCP6_MAX_ADDRS]; /* the first ones */
    uint8_t naddrs;
    oasis_in6 dns[OASIS_DHCP6_MAX_DNS_WIRE]; /* option 23: the first ones */
    uint8_t ndns;
    const uint8_t *domains;     /* option 24 body (names checked); NULL: absent */
    size_t domains_len;
    int has_refresh;
    uint32_t refresh_s;         /* option 32 */
    uint32_t sol_max_rt, inf_max_rt; /* options 82, 83; 0: absent */
} oasis_dhcp6_msg;

/* Parses a client/server message (the UDP payload). Checks: the 4-byte
 * header (OASIS_ETRUNCATED), every option inside the message and every
 * sub-option inside its IA_NA or IAADDR, and the lengths RFC 8415 21
 * gives: a DUID of 3..130 bytes and at most one of each, a 1-byte
 * preference, an empty Rapid Commit, a status code of 2 bytes or more,
 * an IA_NA of 12 or more, an IAADDR of 24 or more, 4-byte refresh and
 * max-RT options, a DNS server list that is a multiple of 16 (RFC 3646
 * 3), a domain list whose names decode (RFC 3646 4, RFC 1035 3.1, no
 * compression). Otherwise OASIS_EMALFORMED. The IA_NA of IAID want_iaid
 * is read (the first if several); the others are skipped. An IAADDR
 * whose preferred lifetime exceeds its valid one is dropped (RFC 8415
 * 21.6); an IA_NA with T1 > T2, both non-zero, is discarded (has_ia 0,
 * RFC 8415 21.4). Returns 0. */
int oasis_dhcp6_parse(const uint8_t *buf, size_t len, uint32_t want_iaid, oasis_dhcp6_msg *out);

/* The next name of an option 24 body from body[*off] as text (no final
 * dot; room for 254 bytes), *off moved past it: 1, 0 at the end, or
 * OASIS_EMALFORMED. */
int oasis_dhcp6_domain_next(const uint8_t *body, size_t len, size_t *off, char *out);

/* Writes a message. After the first write that does not fit, err is set
 * and the rest are no-ops. */
typedef struct oasis_dhcp6_builder {
    uint8_t *buf;
    size_t cap, len;
    int err;
} oasis_dhcp6_builder;

void oasis_dhcp6_build_start(oasis_dhcp6_builder *b, uint8_t *buf, size_t cap, uint8_t type,
                             uint32_t xid);
void oasis_dhcp6_build_opt(oasis_dhcp6_builder *b, uint16_t code, const void *data, size_t len);
void oasis_dhcp6_build_opt16(oasis_dhcp6_builder *b, uint16_t code, uint16_t v);
/* An IA_NA holding n IAADDRs (addresses with lifetimes; n may be 0). */
void oasis_dhcp6_build_ia_na(oasis_dhcp6_builder *b, uint32_t iaid, uint32_t t1, uint32_t t2,
                             const oasis_in6 *addrs, const uint32_t *preferred,
                             const uint32_t *valid, size_t n);
/* The message length, or 0 (err). */
size_t oasis_dhcp6_build_end(oasis_dhcp6_builder *b);

#endif
