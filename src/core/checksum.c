#include "core/checksum.h"

#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define OASIS_BIG_ENDIAN 1
#else
#define OASIS_BIG_ENDIAN 0
#endif

/* Sums 32-bit halves of 64-bit loads into a 64-bit accumulator: 2^32 loads
 * before it could overflow, far beyond any packet, so the carries are folded
 * once at the end instead of on every add. */
uint64_t oasis_csum_add(uint64_t sum, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint64_t a = 0, b = 0;

    while (len >= 32) {
        uint64_t w[4];
        memcpy(w, p, 32);
        a += (w[0] & 0xffffffffu) + (w[0] >> 32) + (w[1] & 0xffffffffu) + (w[1] >> 32);
        b += (w[2] & 0xffffffffu) + (w[2] >> 32) + (w[3] & 0xffffffffu) + (w[3] >> 32);
        p += 32;
        len -= 32;
    }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        a += (w & 0xffffffffu) + (w >> 32);
        p += 8;
        len -= 8;
    }
    if (len >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        b += w;
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        a += w;
        p += 2;
        len -= 2;
    }
    if (len)
        b += OASIS_BIG_ENDIAN ? (uint64_t)p[0] << 8 : p[0];

    /* Fold the partial sums to 32 bits before adding to the caller's sum so
     * the running total cannot overflow across many calls. */
    uint64_t t = a + b;
    t = (t & 0xffffffffu) + (t >> 32);
    t = (t & 0xffffffffu) + (t >> 32);
    sum += t;
    sum = (sum & 0xffffffffu) + (sum >> 32);
    return sum;
}

uint16_t oasis_csum_fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

uint64_t oasis_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    uint8_t ph[12] = {
        (uint8_t)(src >> 24), (uint8_t)(src >> 16), (uint8_t)(src >> 8), (uint8_t)src,
        (uint8_t)(dst >> 24), (uint8_t)(dst >> 16), (uint8_t)(dst >> 8), (uint8_t)dst,
        0, proto, (uint8_t)(len >> 8), (uint8_t)len,
    };
    return oasis_csum_add(0, ph, sizeof ph);
}

uint16_t oasis_csum_ref(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint32_t sum = 0;
    size_t i;
    for (i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    uint16_t be = (uint16_t)~sum;
    /* Return it in memory order, like oasis_csum. */
    uint8_t out[2] = {(uint8_t)(be >> 8), (uint8_t)be};
    uint16_t r;
    memcpy(&r, out, 2);
    return r;
}
