/* IPv4 addresses. (Helpers are named oasis_addr_*, oasis_cidr_*, oasis_netmask:
 * oasis_ipv4_* names belong to the IPv4 layer.)
 *
 * Oasis passes IPv4 addresses as uint32_t in HOST byte order everywhere in
 * its API: 10.0.0.1 is 0x0a000001. OASIS_IPV4(10,0,0,1) builds one.
 */
#ifndef OASIS_IP_H
#define OASIS_IP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OASIS_IPV4(a, b, c, d) \
    ((uint32_t)(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d)))

/* Length of the longest dotted quad plus NUL. */
#define OASIS_IPV4_STRLEN 16

/* Parses a dotted quad ("10.0.0.1"); strict: four decimal parts 0..255,
 * no leading/trailing garbage, no whitespace or signs, and no leading zeros
 * ("01.2.3.4" is refused: inet_aton would read it as octal). Returns 0 or
 * OASIS_EINVAL; *out is untouched on error. */
int oasis_addr_parse(const char *s, uint32_t *out);

/* Formats addr into buf (at least OASIS_IPV4_STRLEN bytes); returns buf. */
char *oasis_addr_format(uint32_t addr, char *buf);

/* Parses "10.0.0.1/24" into address and prefix length (0..32, decimal, no
 * leading zeros). Host bits are kept. Returns 0 or OASIS_EINVAL. */
int oasis_cidr_parse(const char *s, uint32_t *addr, uint8_t *prefix_len);

/* Netmask for a prefix length (0..32; larger counts as 32), host order. */
uint32_t oasis_netmask(uint8_t prefix_len);

/* Parses "02:00:00:00:00:01" into 6 bytes: exactly six 2-digit hex groups
 * (either case) separated by ':'. Returns 0 or OASIS_EINVAL. */
int oasis_mac_parse(const char *s, uint8_t mac[6]);

#ifdef __cplusplus
}
#endif
#endif
