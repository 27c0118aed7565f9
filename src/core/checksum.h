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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Adds the bytes of buf to the running sum (start with 0). */
uint64_t oasis_csum_add(uint64_t sum, const void *buf, size_t len);

/* Copies len bytes from src to dst (not overlapping) and adds them to the
 * running sum, as oasis_csum_add(sum, src, len) would: one pass over the
 * payload instead of two when building a segment. */
uint64_t oasis_csum_copy(void *dst, const void *src, size_t len, uint64_t sum);

/* A received segment's text copied out while the segment is summed: the
 * len bytes after the first skip (even) at seg copied to dst (not
 * overlapping), and all skip + len added to the running sum; the same as
 * oasis_csum_copy(dst, seg + skip, len, oasis_csum_add(sum, seg, skip)),
 * in one call (a header of up to 62 bytes and 32 bytes of text or more:
 * the vectors take the header too). */
uint64_t oasis_csum_copy_after(void *dst, const void *seg, size_t skip, size_t len, uint64_t sum);

/* memcpy of dst and src (not overlapping), by the vectors the sums use
 * when the CPU has them: for a segment's payload, fewer instructions than
 * the C library's memcpy. */
void oasis_copy_long(void *dst, const void *src, size_t len);

/* The sum of the 0..7 bytes at src, copied to dst: whole 16-bit words
 * in their lanes, then the odd byte. oasis_csum_copy's short tail; inline,
 * because a request's or a response's few bytes cost less to move and add
 * here than a call. Below 2^33. */
static inline uint64_t oasis_csum_copy_tail(void *dst, const void *src, size_t len)
{
    uint8_t *d = dst;
    const uint8_t *p = src;
    uint64_t t = 0;
    if (len >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        memcpy(d, &w, 4);
        t += w;
        p += 4;
        d += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        memcpy(d, &w, 2);
        t += w;
        p += 2;
        d += 2;
        len -= 2;
    }
    if (len) {
        d[0] = p[0];
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        t += (uint64_t)p[0] << 8;
#else
        t += p[0];
#endif
    }
    return t;
}

/* oasis_csum_copy_tail with a second destination: each piece stored in
 * both (a write's few bytes, into the send ring and the frame at once). */
static inline uint64_t oasis_csum_copy2_tail(void *d1, void *d2, const void *src, size_t len)
{
    uint8_t *d = d1, *e = d2;
    const uint8_t *p = src;
    uint64_t t = 0;
    if (len >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        memcpy(d, &w, 4);
        memcpy(e, &w, 4);
        t += w;
        p += 4;
        d += 4;
        e += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        memcpy(d, &w, 2);
        memcpy(e, &w, 2);
        t += w;
        p += 2;
        d += 2;
        e += 2;
        len -= 2;
    }
    if (len) {
        d[0] = e[0] = p[0];
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        t += (uint64_t)p[0] << 8;
#else
        t += p[0];
#endif
    }
    return t;
}

/* The sum of the 0..7 bytes at src (an even offset from the start):
 * whole 16-bit words in their lanes, then the odd byte. Below 2^33. */
static inline uint64_t oasis_csum_tail(const void *src, size_t len)
{
    const uint8_t *p = src;
    uint64_t t = 0;
    if (len >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        t += w;
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        t += w;
        p += 2;
        len -= 2;
    }
    if (len) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        t += (uint64_t)p[0] << 8;
#else
        t += p[0];
#endif
    }
    return t;
}

/* oasis_csum_add of fewer than 8 bytes at an even offset, inline: the
 * same running sum. */
static inline uint64_t oasis_csum_add_small(uint64_t sum, const void *buf, size_t len)
{
    sum += oasis_csum_tail(buf, len); /* below 2^34 */
    return (sum & 0xffffffffu) + (sum >> 32);
}

/* oasis_csum_copy of fewer than 8 bytes, inline (see above): the same
 * running sum. */
static inline uint64_t oasis_csum_copy_small(void *dst, const void *src, size_t len, uint64_t sum)
{
    sum += oasis_csum_copy_tail(dst, src, len); /* below 2^34 */
    return (sum & 0xffffffffu) + (sum >> 32);
}

/* oasis_csum_copy into two destinations (neither overlapping src): the
 * len bytes at src copied to d1 and to d2 and added to the running sum,
 * in one pass over them. A write sent at once (tcp_output.c) puts its
 * bytes in the send ring, for retransmission, and in the frame. */
uint64_t oasis_csum_copy2_any(void *d1, void *d2, const void *src, size_t len, uint64_t sum);
static inline uint64_t oasis_csum_copy2(void *d1, void *d2, const void *src, size_t len, uint64_t sum)
{
    if (len < 8) { /* a request's or a response's few bytes: inline */
        sum += oasis_csum_copy2_tail(d1, d2, src, len); /* below 2^34 */
        return (sum & 0xffffffffu) + (sum >> 32);
    }
    return oasis_csum_copy2_any(d1, d2, src, len, sum);
}

/* Whether the vector summer (AVX2, when the CPU has it: chosen at load
 * time) sums and copies buffers of 64 bytes and more; off, the portable
 * code does. For tests, which check both on the same inputs. Returns
 * whether it is in use now. Not for use while another thread sums. */
bool oasis_csum_use_simd(bool on);

/* Folds a running sum and returns its one's complement: the checksum field.
 * Inline and without a loop: every segment folds twice. The upper half of
 * x plus x rotated by half its width is the end-around-carry sum of x's
 * halves (the carry out of the lower half lands in it), so each halving
 * takes a rotate and an add. */
static inline uint16_t oasis_csum_fold(uint64_t sum)
{
    uint32_t s = (uint32_t)((sum + (sum >> 32 | sum << 32)) >> 32);
    s += s >> 16 | s << 16;
    return (uint16_t)~(s >> 16);
}

/* Adds the n 32-bit words at buf to the running sum: what oasis_csum_add
 * gives for 4*n bytes, inline, for headers (IPv4, TCP: a few words, the
 * loop unrolled where n is known). Pairs of words as 64-bit words added
 * with carry (GCC: add, adc); the carries count 1 each, as 2^64 is 1
 * modulo 2^16 - 1. */
static inline uint64_t oasis_csum_add32(uint64_t sum, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    uint64_t t = sum, c = 0;
    for (size_t i = 0; i + 2 <= n; i += 2) {
        uint64_t w;
        memcpy(&w, p + 4 * i, 8);
        t += w;
        c += t < w;
    }
    if (n & 1) {
        uint32_t w;
        memcpy(&w, p + 4 * (n - 1), 4);
        t += w;
        c += t < w;
    }
    /* c < n: t + c wraps at most once; one fold then keeps the running sum
     * below 2^33, as oasis_csum_add does. */
    t += c;
    t += t < c;
    return (t & 0xffffffffu) + (t >> 32);
}

/* Adds v as the 32-bit big-endian field it is on the wire: a
 * pseudo-header's length (IPv6's field, IPv4's low half of a word) on top
 * of a sum of the rest. */
static inline uint64_t oasis_csum_add_be32(uint64_t sum, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    uint32_t w;
    memcpy(&w, b, 4);
    return sum + w;
}

/* Checksum of one buffer. */
static inline uint16_t oasis_csum(const void *buf, size_t len)
{
    return oasis_csum_fold(oasis_csum_add(0, buf, len));
}

/* A host-order 32-bit value as the native word its big-endian bytes make. */
static inline uint32_t oasis_csum_be32(uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return v;
#elif defined(__GNUC__) || defined(__clang__)
    return __builtin_bswap32(v); /* (GCC took the shifts below apart again
                                  * where v is made of two 16-bit fields) */
#else
    return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
#endif
}

/* Running sum of the IPv4 pseudo-header (addresses host order, length of the
 * transport header plus payload): its 12 bytes as three 32-bit words (each
 * two 16-bit lanes), summed without building the header. Inline: every
 * segment in and out takes one. */
static inline uint64_t oasis_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    return (uint64_t)oasis_csum_be32(src) + oasis_csum_be32(dst) +
           oasis_csum_be32((uint32_t)proto << 16 | len);
}

/* The plain byte-by-byte RFC 1071 algorithm, kept as the reference that the
 * fast version is tested against. Returns the checksum field (memory order,
 * like oasis_csum). */
uint16_t oasis_csum_ref(const void *buf, size_t len);

#endif
