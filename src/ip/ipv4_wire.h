/* IPv4 header wire format (RFC 791). */
#ifndef OASIS_IPV4_WIRE_H
#define OASIS_IPV4_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "core/checksum.h"

#define OASIS_IPV4_HLEN 20
#define OASIS_IPV4_MAX_HLEN 60
#define OASIS_IPPROTO_ICMP 1
#define OASIS_IPPROTO_TCP 6
#define OASIS_IPPROTO_UDP 17

typedef struct oasis_ipv4_hdr {
    uint8_t hdr_len;      /* bytes, 20..60 */
    uint8_t tos;
    uint16_t total_len;
    uint16_t id;
    uint8_t df, mf;
    uint16_t frag_off;    /* bytes (field * 8) */
    uint8_t ttl;
    uint8_t proto;
    uint32_t src, dst;    /* host order */
    const uint8_t *options;
    size_t options_len;
    const uint8_t *payload; /* total_len - hdr_len bytes; link padding excluded */
    size_t payload_len;
    uint8_t link_bcast;     /* arrived as a link-layer broadcast/multicast
                               (set by the receive path, not by parse) */
} oasis_ipv4_hdr;

/* Checks, in this order (the first failure is returned):
 *   buffer < 20 bytes                         OASIS_ETRUNCATED
 *   version != 4 or IHL < 5                   OASIS_EMALFORMED
 *   IHL * 4 > buffer                          OASIS_ETRUNCATED
 *   header checksum                           OASIS_ECHECKSUM
 *   total length < IHL * 4                    OASIS_EMALFORMED
 *   total length > buffer                     OASIS_ETRUNCATED
 *   reserved flag bit set                     OASIS_EMALFORMED
 *   options' structure: each option's length  OASIS_EMALFORMED
 *   >= 2 and inside the header (EOL ends the list, NOP is 1 byte; option
 *   contents are skipped, not interpreted).
 * Bytes past the total length (link padding) are ignored. */
int oasis_ipv4_parse(const uint8_t *buf, size_t len, oasis_ipv4_hdr *out);

/* An option list (len bytes, no header): the offset of the first option
 * that is not well formed (its type octet: a length byte missing, under
 * 2 or past the end), or len when all are. */
size_t oasis_ipv4_options_bad(const uint8_t *opt, size_t len);
/* Does a well-formed option list hold a Loose or Strict Source and Record
 * Route (RFC 791 types 131, 137)? */
int oasis_ipv4_options_source_route(const uint8_t *opt, size_t len);

/* A header oasis_ipv4_parse refused for its options alone (it passes
 * every other check): the offset from the header's start of the first
 * malformed option's type octet, for a Parameter Problem's pointer, and
 * the header read into out (payload and options as parse sets them).
 * 0 for any other header. */
size_t oasis_ipv4_option_fault(const uint8_t *buf, size_t len, oasis_ipv4_hdr *out);

/* RFC 1122 3.2.2.6: the Record Route and Timestamp options of a received
 * header's options (in, inlen bytes, found well formed by oasis_ipv4_parse)
 * as an answer returns them: our address (addr) or a timestamp (ts)
 * recorded where there is room, every other option left out. Writes them
 * to out (at least inlen + 3 bytes) padded with EOL to a multiple of 4;
 * returns that length (0: none to return). */
size_t oasis_ipv4_echo_options(const uint8_t *in, size_t inlen, uint8_t *out, uint32_t addr,
                               uint32_t ts);

/* 224.0.0.0/4 (RFC 1112 4), host order. */
static inline int oasis_ipv4_is_multicast(uint32_t a) { return (a >> 28) == 0xe; }

/* Can a be one host's own address on a subnet of prefix bits? Not 0/8
 * ("this network", RFC 1122 3.2.1.3 (a), (b)), 127/8 (never outside a
 * host, (g)), multicast or 240/4 (which holds the limited broadcast, (c)),
 * nor the subnet's network or directed-broadcast address ((d), (e)),
 * which /31 and /32 lack (RFC 3021). Host order. */
static inline int oasis_ipv4_host_addr_ok(uint32_t a, uint8_t prefix)
{
    uint32_t top = a >> 24;
    if (top == 0 || top == 127 || top >= 224)
        return 0;
    if (prefix < 31) {
        uint32_t host = prefix == 0 ? 0xffffffffu : 0xffffffffu >> prefix;
        if ((a & host) == 0 || (a & host) == host)
            return 0;
    }
    return 1;
}

/* The common datagram, judged in one go: version 4 with a 20-byte header
 * (no options), a correct header checksum, a total length from 20 to len,
 * neither the reserved flag nor a fragment's (MF, offset). Returns its total
 * length; 0 for any other, which oasis_ipv4_parse then judges. */
static inline size_t oasis_ipv4_plain(const uint8_t *buf, size_t len)
{
    if (len < OASIS_IPV4_HLEN || buf[0] != 0x45 || (oasis_get16(buf + 6) & 0xbfff) != 0)
        return 0;
    uint16_t total = oasis_get16(buf + 2);
    if (total < OASIS_IPV4_HLEN || total > len ||
        oasis_csum_fold(oasis_csum_add32(0, buf, OASIS_IPV4_HLEN / 4)) != 0)
        return 0;
    return total;
}

/* Writes a 20-byte header (options are not emitted; hdr_len is ignored)
 * with its checksum. */
void oasis_ipv4_emit(uint8_t *buf, const oasis_ipv4_hdr *h);
/* The same with optlen bytes of options (a multiple of 4, at most 40)
 * after the 20: the header length field and the checksum count them. */
void oasis_ipv4_emit_opts(uint8_t *buf, const oasis_ipv4_hdr *h, const uint8_t *opts,
                          size_t optlen);

#endif
