/* The Internet checksum (RFC 1071).
 *
 * Sums are kept in "memory order": the 16-bit result of oasis_csum_fold() is
 * to be stored into the packet with memcpy (not htons), and a packet whose
 * checksum field is correct sums (with the field included) to 0 after fold.
 * When summing a packet in pieces, every piece but the last must have an
 * even length.
 */
#ifndef OASIS_CORE_CHECKSUM_H
#define OASIS_CORE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Adds the bytes of buf to the running sum (start with 0). */
uint64_t oasis_csum_add(uint64_t sum, const void *buf, size_t len);

/* Copies len bytes from src to dst (not overlapping) and adds them to the
 * running sum, as oasis_csum_add(sum, src, len) would: one pass over the
 * payload instead of two when building a segment. */
uint64_t oasis_csum_copy(void *dst, const void *src, size_t len, uint64_t sum);

/* Folds a running sum and returns its one's complement: the checksum field. */
uint16_t oasis_csum_fold(uint64_t sum);

/* Checksum of one buffer. */
static inline uint16_t oasis_csum(const void *buf, size_t len)
{
    return oasis_csum_fold(oasis_csum_add(0, buf, len));
}

/* Running sum of the IPv4 pseudo-header (addresses host order, length of the
 * transport header plus payload). */
uint64_t oasis_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

/* The plain byte-by-byte RFC 1071 algorithm, kept as the reference that the
 * fast version is tested against. Returns the checksum field (memory order,
 * like oasis_csum). */
uint16_t oasis_csum_ref(const void *buf, size_t len);

#endif
