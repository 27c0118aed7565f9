/* DHCPv4 wire format (RFC 2131 2, RFC 2132): the fixed BOOTP header, the
 * magic cookie and the options, including option overload (52) into the
 * 'file' and 'sname' fields and long options split in several pieces
 * (RFC 3396). No state: the client (dhcp.c) builds on it. */
#ifndef OASIS_DHCP_WIRE_H
#define OASIS_DHCP_WIRE_H

#include "oasis/dhcp.h"

#include <stddef.h>
#include <stdint.h>

#define OASIS_DHCP_SERVER_PORT 67
#define OASIS_DHCP_CLIENT_PORT 68

/* Fixed header up to (not including) the magic cookie: op .. file. */
#define OASIS_DHCP_FIXED_LEN 236
#define OASIS_DHCP_SNAME_OFF 44
#define OASIS_DHCP_SNAME_LEN 64
#define OASIS_DHCP_FILE_OFF 108
#define OASIS_DHCP_FILE_LEN 128
#define OASIS_DHCP_OPTIONS_OFF 240 /* after the 4-byte magic cookie */
/* RFC 1542 2.1: relays may drop BOOTP messages under 300 bytes. */
#define OASIS_DHCP_MIN_LEN 300

#define OASIS_BOOTREQUEST 1
#define OASIS_BOOTREPLY 2
#define OASIS_DHCP_FLAG_BROADCAST 0x8000

/* Message types (option 53). */
enum {
    OASIS_DHCPDISCOVER = 1, OASIS_DHCPOFFER, OASIS_DHCPREQUEST, OASIS_DHCPDECLINE,
    OASIS_DHCPACK, OASIS_DHCPNAK, OASIS_DHCPRELEASE, OASIS_DHCPINFORM
};

/* Option codes we read or write. */
enum {
    OASIS_DHO_PAD = 0,
    OASIS_DHO_SUBNET_MASK = 1,
    OASIS_DHO_ROUTER = 3,
    OASIS_DHO_DNS = 6,
    OASIS_DHO_HOSTNAME = 12,
    OASIS_DHO_DOMAIN = 15,
    OASIS_DHO_DOMAIN_SEARCH = 119, /* RFC 3397 */
    OASIS_DHO_MTU = 26,
    OASIS_DHO_BROADCAST = 28,
    OASIS_DHO_REQUESTED_IP = 50,
    OASIS_DHO_LEASE_TIME = 51,
    OASIS_DHO_OVERLOAD = 52,
    OASIS_DHO_MSG_TYPE = 53,
    OASIS_DHO_SERVER_ID = 54,
    OASIS_DHO_PARAM_LIST = 55,
    OASIS_DHO_MESSAGE = 56,
    OASIS_DHO_MAX_SIZE = 57,
    OASIS_DHO_T1 = 58,
    OASIS_DHO_T2 = 59,
    OASIS_DHO_CLIENT_ID = 61,
    OASIS_DHO_RAPID_COMMIT = 80, /* RFC 4039 4: length 0 */
    OASIS_DHO_END = 255,
};

#define OASIS_DHCP_MAX_ROUTERS 4
#define OASIS_DHCP_MAX_DNS_WIRE 8

/* Presence bits of oasis_dhcp_msg.have. */
enum {
    OASIS_DHCP_HAVE_MASK = 1u << 0,
    OASIS_DHCP_HAVE_ROUTER = 1u << 1,
    OASIS_DHCP_HAVE_DNS = 1u << 2,
    OASIS_DHCP_HAVE_MTU = 1u << 3,
    OASIS_DHCP_HAVE_LEASE = 1u << 4,
    OASIS_DHCP_HAVE_SERVER_ID = 1u << 5,
    OASIS_DHCP_HAVE_T1 = 1u << 6,
    OASIS_DHCP_HAVE_T2 = 1u << 7,
    OASIS_DHCP_HAVE_REQUESTED_IP = 1u << 8,
    OASIS_DHCP_HAVE_HOSTNAME = 1u << 9,
    OASIS_DHCP_HAVE_DOMAIN = 1u << 10,
    OASIS_DHCP_HAVE_SEARCH = 1u << 11,
    OASIS_DHCP_HAVE_RAPID_COMMIT = 1u << 12,
};

/* A parsed message: the header fields and the options the client uses,
 * each checked for its length (RFC 2132). Addresses are host order. */
typedef struct oasis_dhcp_msg {
    uint8_t op, htype, hlen, hops;
    uint32_t xid;
    uint16_t secs, flags;
    uint32_t ciaddr, yiaddr, siaddr, giaddr;
    uint8_t chaddr[16];
    uint32_t have;              /* OASIS_DHCP_HAVE_* */
    uint8_t msg_type;           /* 53; 0: none (a plain BOOTP message) */
    uint8_t overload;           /* 52: 1 file, 2 sname, 3 both; 0 none */
    uint32_t subnet_mask;       /* 1 */
    uint32_t routers[OASIS_DHCP_MAX_ROUTERS]; /* 3: the first ones */
    uint8_t nrouters;
    uint32_t dns[OASIS_DHCP_MAX_DNS_WIRE];   /* 6: the first ones */
    uint8_t ndns;
    uint16_t mtu;               /* 26 */
    uint32_t lease_time;        /* 51, seconds (0xffffffff: infinite) */
    uint32_t server_id;         /* 54 */
    uint32_t t1, t2;            /* 58, 59, seconds */
    uint32_t requested_ip;      /* 50 */
    char hostname[64];          /* 12, NUL-terminated, truncated to 63 */
    char domain[OASIS_DHCP_DOMAIN_STRLEN]; /* 15, a DNS name as text, no final dot */
    char search[OASIS_DHCP_MAX_SEARCH][OASIS_DHCP_DOMAIN_STRLEN]; /* 119 (RFC 3397): the
                                 * first names, as text, no final dot */
    uint8_t nsearch;
    uint8_t ignored;            /* options 15 and 119 that held no valid names, option 80
                                 * with a length other than 0: left out, the message
                                 * still used */
    /* Where the options live, for oasis_dhcp_opt_get (borrowed: the
     * parsed buffer must outlive these). */
    const uint8_t *buf;
    size_t len;
} oasis_dhcp_msg;

/* Parses a DHCP message (the UDP payload). Checks: the fixed header and
 * the magic cookie are there (OASIS_ETRUNCATED), hlen <= 16, every option's
 * length stays inside its field and the option overload (52) is one byte
 * of 1..3 found in the options field (else OASIS_EMALFORMED). Options are
 * read from the options field, then 'file', then 'sname' (RFC 2131 4.1);
 * a field ends at its End option or at its last byte; pads are skipped. An
 * option that appears more than once is the concatenation of its pieces
 * (RFC 3396). Known options with a wrong length (a 3-byte lease time, a
 * router list that is not a multiple of 4, a message type other than 1
 * byte, an MTU under 68...) are OASIS_EMALFORMED. Rapid Commit (80) sets
 * OASIS_DHCP_HAVE_RAPID_COMMIT with length 0 (RFC 4039 4); with another
 * length it is counted in `ignored` and not taken. Returns 0 and fills out. */
int oasis_dhcp_parse(const uint8_t *buf, size_t len, oasis_dhcp_msg *out);

/* Domain names as DHCP carries them, apart from the rest of the message
 * (an unusable one leaves its option out; the message still counts):
 * option 15 (RFC 2132 3.17) is text; option 119 (RFC 3397 2) a list of
 * names in DNS wire form, compression pointers counting from the start of
 * the (concatenated) option data. A name is taken only when its labels
 * hold letters, digits, '-' and '_' alone (what a search list can use)
 * and its text fits OASIS_DHCP_DOMAIN_STRLEN; the root is no domain. */
int oasis_dhcp_domain_text(const uint8_t *data, size_t len, char *out);
int oasis_dhcp_search_read(const uint8_t *data, size_t len,
                           char (*out)[OASIS_DHCP_DOMAIN_STRLEN], size_t max, size_t *n);

/* Concatenates every piece of option `code` of a parsed message into
 * dst (at most cap bytes). Returns the option's total length (which may
 * exceed cap: only cap bytes were copied), or -1 when it is absent. */
long oasis_dhcp_opt_get(const oasis_dhcp_msg *m, uint8_t code, uint8_t *dst, size_t cap);

/* Writes messages: the header, then options, then the End option and
 * padding to OASIS_DHCP_MIN_LEN. Every call checks the room left; after
 * the first one that does not fit, b->err is set and the rest are no-ops. */
typedef struct oasis_dhcp_builder {
    uint8_t *buf;
    size_t cap, len;
    int err;
} oasis_dhcp_builder;

/* Starts a BOOTREQUEST: op 1, htype 1 (Ethernet), hlen 6, the given xid,
 * secs, flags, ciaddr and chaddr, the magic cookie and option 53. */
void oasis_dhcp_build_start(oasis_dhcp_builder *b, uint8_t *buf, size_t cap, uint8_t msg_type,
                            uint32_t xid, uint16_t secs, uint16_t flags, uint32_t ciaddr,
                            const uint8_t mac[6]);
void oasis_dhcp_build_opt(oasis_dhcp_builder *b, uint8_t code, const void *data, size_t len);
void oasis_dhcp_build_opt32(oasis_dhcp_builder *b, uint8_t code, uint32_t v);
void oasis_dhcp_build_opt16(oasis_dhcp_builder *b, uint8_t code, uint16_t v);
/* Ends the options and pads; returns the message length or 0 (b->err). */
size_t oasis_dhcp_build_end(oasis_dhcp_builder *b);

/* A netmask's prefix length, or -1 when its ones are not contiguous. */
int oasis_dhcp_mask_prefix(uint32_t mask);

#endif
