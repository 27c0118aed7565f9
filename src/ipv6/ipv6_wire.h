/* IPv6 wire format (RFC 8200): the fixed header, the extension header chain
 * (walked with bounds), the fragment header, the pseudo-header checksum. */
#ifndef OASIS_IPV6_WIRE_H
#define OASIS_IPV6_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/checksum.h"

#define OASIS_IPV6_HLEN 40
#define OASIS_IPV6_FRAG_HLEN 8
#define OASIS_IPV6_MIN_MTU 1280

/* Next Header values (IANA). */
enum {
    OASIS_NH_HOPOPTS = 0,
    OASIS_NH_TCP = 6,
    OASIS_NH_UDP = 17,
    OASIS_NH_ROUTING = 43,
    OASIS_NH_FRAGMENT = 44,
    OASIS_NH_ESP = 50,
    OASIS_NH_AH = 51,
    OASIS_NH_ICMPV6 = 58,
    OASIS_NH_NONE = 59,
    OASIS_NH_DSTOPTS = 60,
};

/* An IPv6 address on the wire: 16 bytes, network order. */
typedef struct oasis_in6 {
    uint8_t b[16];
} oasis_in6;

typedef struct oasis_ipv6_hdr {
    uint8_t tclass;
    uint32_t flow;          /* 20 bits */
    uint16_t payload_len;   /* as on the wire */
    uint8_t next;           /* Next Header */
    uint8_t hop_limit;
    oasis_in6 src, dst;
    const uint8_t *pkt;     /* the header itself (parse only) */
    const uint8_t *payload; /* first byte after the fixed header */
    uint8_t fragmented;     /* parse: 0; input sets it for a datagram that came in
                             * fragments (reassembled, or an atomic fragment) */
} oasis_ipv6_hdr;

/* Parses the fixed header. len may exceed 40 + payload_len (link padding);
 * the payload is cut to payload_len. Returns 0, OASIS_ETRUNCATED (shorter
 * than 40 bytes, or payload_len beyond len) or OASIS_EMALFORMED (version not
 * 6, or payload_len 0 which only a jumbogram has: RFC 2675, not supported). */
int oasis_ipv6_parse(const uint8_t *buf, size_t len, oasis_ipv6_hdr *out);

/* Writes the 40-byte fixed header at buf. */
void oasis_ipv6_emit(uint8_t *buf, const oasis_ipv6_hdr *h);

/* Running checksum sum of the RFC 8200 8.1 pseudo-header from the 16-byte
 * addresses as they lie in a header: source, destination, the upper-layer
 * length as 32 bits, three zero bytes and the next header. Inline: TCP
 * input takes it for every segment. */
static inline uint64_t oasis_ipv6_pseudo_sum_at(const uint8_t *src, const uint8_t *dst,
                                                uint32_t len, uint8_t next)
{
    uint64_t sum = oasis_csum_add32(oasis_csum_add32(0, src, 4), dst, 4);
    return oasis_csum_add_be32(oasis_csum_add_be32(sum, len), next);
}

/* The same from two addresses. */
static inline uint64_t oasis_ipv6_pseudo_sum(const oasis_in6 *src, const oasis_in6 *dst,
                                             uint32_t len, uint8_t next)
{
    return oasis_ipv6_pseudo_sum_at(src->b, dst->b, len, next);
}

/* ---- the extension header chain ---- */

/* Bounds on what one packet may make us walk (RFC 8504 5.3 lets a host cap
 * these; Linux's defaults are 8 options): beyond them the packet is dropped
 * and counted, never answered. */
#define OASIS_IPV6_MAX_EXT_HDRS 8    /* extension headers in one packet */
#define OASIS_IPV6_MAX_OPTS 8        /* non-padding options in one header */
#define OASIS_IPV6_MAX_PAD 7         /* consecutive padding bytes (RFC 8504 5.3) */
#define OASIS_IPV6_MAX_EXT_BYTES 2048 /* bytes of extension headers in all */

/* Why the walk stopped short of an upper layer. */
typedef enum oasis_ipv6_walk_err {
    OASIS_W6_OK = 0,
    OASIS_W6_TRUNCATED,     /* a header runs past the packet */
    OASIS_W6_LIMIT,         /* too many headers, options, padding or bytes */
    OASIS_W6_HBH_NOT_FIRST, /* Hop-by-Hop anywhere but right after the fixed header */
    OASIS_W6_BAD_OPTION,    /* an option we do not know, action bits say discard */
    OASIS_W6_BAD_OPTLEN,    /* an option running past its header */
    OASIS_W6_ROUTING,       /* a routing header with Segments Left > 0 */
    OASIS_W6_RH0,           /* ... of type 0 (RFC 5095) */
    OASIS_W6_FRAG_LEN,      /* fragment: not a multiple of 8 bytes, or past 65535 */
    OASIS_W6_FRAG_NESTED,   /* a second fragment header */
} oasis_ipv6_walk_err;

/* The result of a walk. On an error, icmp_code/pointer say which Parameter
 * Problem (RFC 4443 3.4) may answer it (icmp_code < 0: none, drop
 * silently); icmp_mcast_ok: the answer is allowed even to a multicast
 * destination (option action bits 10, RFC 8200 4.2). pointer counts from the
 * start of the fixed header. */
typedef struct oasis_ipv6_walk {
    oasis_ipv6_walk_err err;
    int icmp_code;
    uint32_t pointer;
    int icmp_mcast_ok;
    /* OK: the upper layer (or 59, No Next Header) and where its data is. */
    uint8_t proto;
    uint32_t off;           /* of the upper-layer header, from the fixed header */
    uint32_t nh_off;        /* offset of the Next Header field that named proto */
    int nhdrs;              /* extension headers walked */
    /* A fragment header was met (walk stops there): */
    int frag;
    uint32_t frag_hdr_off;  /* where the fragment header starts */
    uint16_t frag_offset;   /* bytes (the field times 8) */
    int frag_more;
    uint32_t frag_id;
    uint8_t frag_next;      /* the Next Header inside the fragment header */
} oasis_ipv6_walk;

/* Walks the chain of the datagram pkt[0..len) (fixed header included; len =
 * 40 + payload_len) from the fixed header's Next Header. Hop-by-Hop and
 * Destination Options are checked option by option (Pad1, PadN and Router
 * Alert known; unknown ones by their action bits); a Routing header with
 * Segments Left 0 is skipped, any other is refused (we route nothing, and
 * RH0 is deprecated by RFC 5095); the walk stops at a Fragment header and
 * reports it (after a fragment header the rest belongs to the reassembled
 * datagram). Returns w->err. */
oasis_ipv6_walk_err oasis_ipv6_walk_chain(const uint8_t *pkt, size_t len, oasis_ipv6_walk *w);

/* Goes on with a walk w that stopped at an atomic fragment's Fragment
 * header (RFC 6946), from the header that one names, in place: what
 * follows is processed as the packet came, so an error quotes it as sent
 * and points into it (RFC 4443 2.4 c, 3.4). A second Fragment header stops
 * the walk again (w->frag). Returns w->err. */
oasis_ipv6_walk_err oasis_ipv6_walk_past_fragment(const uint8_t *pkt, size_t len, oasis_ipv6_walk *w);

/* The upper-layer header of pkt[0..len) found by skipping extension headers
 * by their lengths alone, whatever they hold (what they hold may be the
 * packet's fault), an Authentication Header (RFC 4302) included, though
 * the stack processes none, through a first fragment's Fragment header:
 * its offset in *off and protocol in *proto, 0; -1 when the chain is cut
 * short or the packet is a later fragment. For RFC 4443 2.4 (e), which
 * asks what a faulty packet carries. */
int oasis_ipv6_upper_layer(const uint8_t *pkt, size_t len, uint32_t *off, uint8_t *proto);

/* Fragment header (RFC 8200 4.5). */
typedef struct oasis_ipv6_frag {
    uint8_t next;
    uint16_t offset;        /* bytes, multiple of 8 */
    int more;
    uint32_t id;
} oasis_ipv6_frag;

int oasis_ipv6_frag_parse(const uint8_t *buf, size_t len, oasis_ipv6_frag *out);
void oasis_ipv6_frag_emit(uint8_t *buf, const oasis_ipv6_frag *f);

/* ---- addresses ---- */

/* Are the 16 bytes at a and b the same? Two 64-bit compares: what a
 * memcmp of 16 bytes becomes at best, and not a call to libc's, which
 * GCC made of it in some callers. */
static inline int oasis_in6_bytes_eq(const uint8_t *a, const uint8_t *b)
{
    uint64_t a0, a1, b0, b1;
    memcpy(&a0, a, 8);
    memcpy(&a1, a + 8, 8);
    memcpy(&b0, b, 8);
    memcpy(&b1, b + 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

static inline int oasis_in6_eq(const oasis_in6 *a, const oasis_in6 *b)
{
    return oasis_in6_bytes_eq(a->b, b->b);
}
static inline int oasis_in6_is_unspecified(const oasis_in6 *a)
{
    static const uint8_t z[16];
    return memcmp(a->b, z, 16) == 0;
}
static inline int oasis_in6_is_multicast(const oasis_in6 *a) { return a->b[0] == 0xff; }
/* A multicast address's scop field (RFC 4291 2.7): 0 reserved, 1
 * interface-local, 2 link-local, ... e global. */
enum { OASIS_IN6_SCOPE_RESERVED = 0, OASIS_IN6_SCOPE_IFACE = 1, OASIS_IN6_SCOPE_LINK = 2 };
static inline int oasis_in6_mcast_scope(const oasis_in6 *a) { return a->b[1] & 0x0f; }
static inline int oasis_in6_is_link_local(const oasis_in6 *a)
{
    return a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80;
}
static inline int oasis_in6_is_loopback(const oasis_in6 *a)
{
    static const uint8_t one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return memcmp(a->b, one, 16) == 0;
}
/* A unicast address another node may hold and be asked at: not
 * unspecified, multicast or loopback (what RDNSS and DHCPv6 name as
 * servers must be). */
static inline int oasis_in6_is_peer_unicast(const oasis_in6 *a)
{
    return !oasis_in6_is_unspecified(a) && !oasis_in6_is_multicast(a) && !oasis_in6_is_loopback(a);
}
/* ::ffff:0:0/96, an IPv4 address in IPv6 form (RFC 4291 2.5.5.2; also how
 * oasis_ipaddr holds IPv4 addresses). */
static inline int oasis_in6_is_v4mapped(const oasis_in6 *a)
{
    static const uint8_t pre[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(a->b, pre, 12) == 0;
}
/* ff02::1 (all nodes), ff02::2 (all routers), ff02::16 (MLDv2 routers);
 * ff01::1, all nodes of interface-local scope (RFC 4291 2.7.1). */
extern const oasis_in6 oasis_in6_all_nodes, oasis_in6_all_routers, oasis_in6_mldv2_routers,
    oasis_in6_all_nodes_iface;

/* The solicited-node multicast address of a (ff02::1:ffXX:XXXX, RFC 4291
 * 2.7.1). */
oasis_in6 oasis_in6_solicited_node(const oasis_in6 *a);
/* The Ethernet address of an IPv6 multicast group: 33:33 and the group's
 * last 32 bits (RFC 2464 7). */
void oasis_in6_multicast_mac(const oasis_in6 *group, uint8_t mac[6]);
/* Do a and b share their first plen bits (0..128)? */
int oasis_in6_prefix_eq(const oasis_in6 *a, const oasis_in6 *b, unsigned plen);

#endif
