/* SHA-256 (FIPS 180-4), for integrity checks in tools, tests and the demo,
 * and under HMAC-SHA-256 (core/hmac_sha256.h) for DNS TSIG. */
#ifndef OASIS_CORE_SHA256_H
#define OASIS_CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct oasis_sha256 {
    uint32_t h[8];
    uint64_t bytes;
    uint8_t buf[64];
    uint32_t buflen;
} oasis_sha256;

void oasis_sha256_init(oasis_sha256 *c);
void oasis_sha256_update(oasis_sha256 *c, const void *data, size_t len);
void oasis_sha256_final(oasis_sha256 *c, uint8_t out[32]);
/* Lower-case hex of a digest into hex (65 bytes with the NUL). */
void oasis_sha256_hex(const uint8_t digest[32], char hex[65]);

#endif
