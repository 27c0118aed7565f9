/* HMAC (RFC 2104) over SHA-256: H(K xor opad, H(K xor ipad, text)). */
#include "core/hmac_sha256.h"

#include <string.h>

void oasis_hmac_sha256_init(oasis_hmac_sha256 *c, const uint8_t *key, size_t key_len)
{
    uint8_t k[OASIS_SHA256_BLOCK] = {0};
    uint8_t ipad[OASIS_SHA256_BLOCK];

    if (key_len > OASIS_SHA256_BLOCK) {
        oasis_sha256 h;
        oasis_sha256_init(&h);
        oasis_sha256_update(&h, key, key_len);
        oasis_sha256_final(&h, k);
    } else if (key_len) {
        memcpy(k, key, key_len);
    }
    for (size_t i = 0; i < OASIS_SHA256_BLOCK; i++) {
        ipad[i] = (uint8_t)(k[i] ^ 0x36);
        c->opad_key[i] = (uint8_t)(k[i] ^ 0x5c);
    }
    oasis_sha256_init(&c->inner);
    oasis_sha256_update(&c->inner, ipad, sizeof ipad);
    memset(k, 0, sizeof k);
    memset(ipad, 0, sizeof ipad);
}

void oasis_hmac_sha256_update(oasis_hmac_sha256 *c, const void *data, size_t len)
{
    oasis_sha256_update(&c->inner, data, len);
}

void oasis_hmac_sha256_final(oasis_hmac_sha256 *c, uint8_t out[OASIS_HMAC_SHA256_LEN])
{
    uint8_t ih[32];
    oasis_sha256 outer;
    oasis_sha256_final(&c->inner, ih);
    oasis_sha256_init(&outer);
    oasis_sha256_update(&outer, c->opad_key, sizeof c->opad_key);
    oasis_sha256_update(&outer, ih, sizeof ih);
    oasis_sha256_final(&outer, out);
    memset(c, 0, sizeof *c);
    memset(ih, 0, sizeof ih);
}

int oasis_mem_equal_ct(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (uint8_t)(a[i] ^ b[i]);
    return d == 0;
}
