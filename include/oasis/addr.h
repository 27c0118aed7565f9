/* One address type for both families (issue 14).
 *
 * An oasis_ipaddr is a family tag and 16 bytes in network order. An IPv4
 * address is kept in its IPv4-mapped form (::ffff:a.b.c.d, RFC 4291 2.5.5.2)
 * so comparing and hashing need no case split; the family still tells an
 * IPv4 address from the IPv6 address ::ffff:a.b.c.d, which are different
 * things on the wire. Values are plain structs: copy, compare with
 * oasis_ipaddr_cmp (never memcmp a struct with padding), hash with
 * oasis_ipaddr_hash.
 *
 * The IPv4-only helpers of ip.h (host-order uint32_t) stay as they are;
 * oasis_ipaddr_v4 / oasis_ipaddr_to_v4 convert.
 */
#ifndef OASIS_ADDR_H
#define OASIS_ADDR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { OASIS_AF_INET = 4, OASIS_AF_INET6 = 6 };

typedef struct oasis_ipaddr {
    uint8_t family;   /* OASIS_AF_INET or OASIS_AF_INET6; 0: none */
    uint8_t b[16];    /* network order; IPv4 as ::ffff:a.b.c.d */
} oasis_ipaddr;

/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" plus NUL (as INET6_ADDRSTRLEN). */
#define OASIS_IPADDR_STRLEN 46

/* An IPv4 address (host order, as everywhere in ip.h). */
oasis_ipaddr oasis_ipaddr_v4(uint32_t host_order);
/* An IPv6 address from its 16 bytes (network order); b NULL gives family 0
 * (no address). */
oasis_ipaddr oasis_ipaddr_v6(const uint8_t b[16]);
/* The IPv4 address in host order (0 for anything but an OASIS_AF_INET).
 * Inline: TCP converts its flow's addresses for every segment. */
static inline uint32_t oasis_ipaddr_to_v4(const oasis_ipaddr *a)
{
    if (a->family != OASIS_AF_INET)
        return 0;
    return (uint32_t)a->b[12] << 24 | (uint32_t)a->b[13] << 16 | (uint32_t)a->b[14] << 8 | a->b[15];
}

static inline int oasis_ipaddr_is_v4(const oasis_ipaddr *a) { return a->family == OASIS_AF_INET; }
static inline int oasis_ipaddr_is_v6(const oasis_ipaddr *a) { return a->family == OASIS_AF_INET6; }

/* Parses a dotted quad (strict, as oasis_addr_parse) into an IPv4 address, or
 * any RFC 4291 2.2 text form of an IPv6 address: up to eight groups of 1-4
 * hex digits (either case), one "::", an optional dotted quad in the last 32
 * bits. No brackets, no zone ("%eth0"), no prefix. Returns 0 or OASIS_EINVAL
 * (*out untouched; also for s or out NULL). */
int oasis_ipaddr_parse(const char *s, oasis_ipaddr *out);

/* Parses "[2001:db8::1]" or "2001:db8::1" or "10.0.0.1": the brackets of a
 * URL host (RFC 3986 3.2.2) are accepted around an IPv6 address only. */
int oasis_ipaddr_parse_host(const char *s, oasis_ipaddr *out);

/* Parses "2001:db8::1/64" or "10.0.0.1/24" (prefix 0..128 or 0..32, decimal,
 * no leading zeros). Host bits are kept. 0 or OASIS_EINVAL. */
int oasis_ipaddr_cidr_parse(const char *s, oasis_ipaddr *out, uint8_t *prefix_len);

/* Formats a into buf (at least OASIS_IPADDR_STRLEN bytes) and returns buf.
 * IPv4: a dotted quad. IPv6: the RFC 5952 canonical form: lowercase hex,
 * no leading zeros, the longest run of two or more zero groups (the first
 * of equal runs) as "::", never "::" for a single zero group, and
 * IPv4-mapped addresses as ::ffff:a.b.c.d (RFC 5952 5). A family other than
 * the two, or a NULL, gives "?"; buf NULL: returns NULL. */
char *oasis_ipaddr_format(const oasis_ipaddr *a, char *buf);

/* Total order: family first, then the bytes. 0 when equal; NULL sorts
 * before any address. */
int oasis_ipaddr_cmp(const oasis_ipaddr *a, const oasis_ipaddr *b);
static inline int oasis_ipaddr_eq(const oasis_ipaddr *a, const oasis_ipaddr *b)
{
    return oasis_ipaddr_cmp(a, b) == 0;
}

/* A keyed hash (SipHash-2-4 of family and bytes): for tables an outsider
 * must not be able to aim at, use a secret key. a NULL: 0; key NULL: an
 * all-zero key. */
uint64_t oasis_ipaddr_hash(const oasis_ipaddr *a, const uint8_t key[16]);

/* Do a and b share their first prefix_len bits (same family required; the
 * prefix counts in the family's own bits: 0..32 for IPv4, 0..128 for IPv6,
 * more as all of them)? 0 when either is NULL. */
int oasis_ipaddr_prefix_eq(const oasis_ipaddr *a, const oasis_ipaddr *b, unsigned prefix_len);

/* Classification (IPv6 per RFC 4291; IPv4 likewise for the first three).
 * 0 for NULL. */
int oasis_ipaddr_is_unspecified(const oasis_ipaddr *a); /* 0.0.0.0, :: */
int oasis_ipaddr_is_loopback(const oasis_ipaddr *a);    /* 127/8, ::1 */
int oasis_ipaddr_is_multicast(const oasis_ipaddr *a);   /* 224/4, ff00::/8 */
int oasis_ipaddr_is_link_local(const oasis_ipaddr *a);  /* 169.254/16, fe80::/10 */

#ifdef __cplusplus
}
#endif
#endif
