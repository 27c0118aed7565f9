/* HMAC-SHA-256 (RFC 2104 over FIPS 180-4's SHA-256, as RFC 4231 names it),
 * for DNS TSIG (RFC 8945, src/dns/dns_tsig_wire.c). Incremental: init with
 * the key, update with the pieces of the message, final. */
#ifndef OASIS_CORE_HMAC_SHA256_H
#define OASIS_CORE_HMAC_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "core/sha256.h"

#define OASIS_HMAC_SHA256_LEN 32
#define OASIS_SHA256_BLOCK 64

typedef struct oasis_hmac_sha256 {
    oasis_sha256 inner;
    uint8_t opad_key[OASIS_SHA256_BLOCK]; /* K xor opad, for the outer hash */
} oasis_hmac_sha256;

/* Any key length: RFC 2104 2 hashes a key longer than the block (64
 * octets) first and pads a shorter one with zeros. */
void oasis_hmac_sha256_init(oasis_hmac_sha256 *c, const uint8_t *key, size_t key_len);
void oasis_hmac_sha256_update(oasis_hmac_sha256 *c, const void *data, size_t len);
/* Writes the 32-octet MAC and wipes the key material from c. */
void oasis_hmac_sha256_final(oasis_hmac_sha256 *c, uint8_t out[OASIS_HMAC_SHA256_LEN]);

/* 1 when a[0..n) equals b[0..n), in a time that does not depend on where
 * they differ (a MAC check must not tell a forger how much he got right). */
int oasis_mem_equal_ct(const uint8_t *a, const uint8_t *b, size_t n);

#endif
