/* TSIG (RFC 8945) wire format and MAC input. */
#include "dns/dns_tsig_wire.h"

#include "core/bytes.h"
#include "oasis/error.h"

#include <string.h>

int oasis_dns_tsig_key_init(oasis_dns_tsig_key *key, const char *name, const char *alg,
                            const uint8_t *secret, size_t secret_len, uint16_t fudge)
{
    memset(key, 0, sizeof *key);
    if (!name || oasis_dns_name_from_text(name, &key->name) != 0 || key->name.len < 2)
        return OASIS_EINVAL; /* the root is no key name */
    if (oasis_dns_name_from_text(alg ? alg : "hmac-sha256", &key->alg) != 0)
        return OASIS_EINVAL;
    oasis_dns_name_lower(&key->name);
    oasis_dns_name_lower(&key->alg);
    oasis_dns_name want;
    oasis_dns_name_from_text("hmac-sha256", &want);
    if (!oasis_dns_name_equal(&key->alg, &want))
        return OASIS_EINVAL;
    if (!secret || secret_len == 0 || secret_len > OASIS_DNS_TSIG_SECRET_MAX)
        return OASIS_EINVAL;
    memcpy(key->secret, secret, secret_len);
    key->secret_len = secret_len;
    key->fudge = fudge;
    return OASIS_OK;
}

static void put48(uint8_t *p, uint64_t v)
{
    oasis_put16(p, (uint16_t)(v >> 32));
    oasis_put32(p + 2, (uint32_t)v);
}

/* 4.3.3: key name, CLASS, TTL, algorithm, Time Signed, Fudge, Error,
 * Other Len, Other Data. */
static void digest_variables(oasis_hmac_sha256 *h, const oasis_dns_tsig_key *key,
                             uint64_t time_signed, uint16_t fudge, uint16_t error,
                             const uint8_t *other, uint16_t other_len)
{
    uint8_t v[16];
    oasis_hmac_sha256_update(h, key->name.b, key->name.len);
    oasis_put16(v, OASIS_DNS_CLASS_ANY);
    oasis_put32(v + 2, 0);
    oasis_hmac_sha256_update(h, v, 6);
    oasis_hmac_sha256_update(h, key->alg.b, key->alg.len);
    put48(v, time_signed);
    oasis_put16(v + 6, fudge);
    oasis_put16(v + 8, error);
    oasis_put16(v + 10, other_len);
    oasis_hmac_sha256_update(h, v, 12);
    if (other_len)
        oasis_hmac_sha256_update(h, other, other_len);
}

int oasis_dns_tsig_sign(uint8_t *msg, size_t *len, size_t cap, const oasis_dns_tsig_key *key,
                        uint64_t now_s, uint8_t mac[OASIS_DNS_TSIG_MAC_LEN])
{
    size_t n = *len;
    size_t rdlen = key->alg.len + 6 + 2 + 2 + OASIS_DNS_TSIG_MAC_LEN + 2 + 2 + 2;
    if (n < OASIS_DNS_HLEN || cap < n || cap - n < key->name.len + 10 + rdlen)
        return OASIS_EMSGSIZE;

    /* 4.3.1: the request as it is, before the TSIG RR and ARCOUNT's +1. */
    oasis_hmac_sha256 h;
    oasis_hmac_sha256_init(&h, key->secret, key->secret_len);
    oasis_hmac_sha256_update(&h, msg, n);
    digest_variables(&h, key, now_s, key->fudge, 0, NULL, 0);
    oasis_hmac_sha256_final(&h, mac);

    /* 4.2: NAME the key, TYPE TSIG, CLASS ANY, TTL 0; names uncompressed. */
    uint8_t *p = msg + n;
    memcpy(p, key->name.b, key->name.len);
    p += key->name.len;
    oasis_put16(p, OASIS_DNS_TYPE_TSIG);
    oasis_put16(p + 2, OASIS_DNS_CLASS_ANY);
    oasis_put32(p + 4, 0);
    oasis_put16(p + 8, (uint16_t)rdlen);
    p += 10;
    memcpy(p, key->alg.b, key->alg.len);
    p += key->alg.len;
    put48(p, now_s);
    oasis_put16(p + 6, key->fudge);
    oasis_put16(p + 8, OASIS_DNS_TSIG_MAC_LEN);
    p += 10;
    memcpy(p, mac, OASIS_DNS_TSIG_MAC_LEN);
    p += OASIS_DNS_TSIG_MAC_LEN;
    oasis_put16(p, oasis_get16(msg)); /* Original ID */
    oasis_put16(p + 2, 0);            /* Error */
    oasis_put16(p + 4, 0);            /* Other Len */
    p += 6;
    oasis_put16(msg + 10, (uint16_t)(oasis_get16(msg + 10) + 1));
    *len = (size_t)(p - msg);
    return OASIS_OK;
}

int oasis_dns_tsig_rr_read(const uint8_t *msg, size_t len, size_t off, oasis_dns_tsig_rr *out)
{
    size_t p;
    memset(out, 0, sizeof *out);
    out->off = off;
    if (oasis_dns_name_read(msg, len, off, &out->name, &p) || len - p < 10)
        return OASIS_EMALFORMED;
    /* 4.2: CLASS ANY, TTL 0. */
    if (oasis_get16(msg + p) != OASIS_DNS_TYPE_TSIG ||
        oasis_get16(msg + p + 2) != OASIS_DNS_CLASS_ANY || oasis_get32(msg + p + 4) != 0)
        return OASIS_EMALFORMED;
    size_t rd = p + 10, end = rd + oasis_get16(msg + p + 8);
    if (end > len)
        return OASIS_EMALFORMED;
    /* The algorithm's name lies within the rdata. */
    if (oasis_dns_name_read(msg, end, rd, &out->alg, &p) || end - p < 10)
        return OASIS_EMALFORMED;
    out->time_signed = (uint64_t)oasis_get16(msg + p) << 32 | oasis_get32(msg + p + 2);
    out->fudge = oasis_get16(msg + p + 6);
    out->mac_size = oasis_get16(msg + p + 8);
    p += 10;
    if (end - p < (size_t)out->mac_size + 6)
        return OASIS_EMALFORMED;
    out->mac_off = p;
    p += out->mac_size;
    out->orig_id = oasis_get16(msg + p);
    out->error = oasis_get16(msg + p + 2);
    out->other_len = oasis_get16(msg + p + 4);
    p += 6;
    if (end - p != out->other_len)
        return OASIS_EMALFORMED;
    out->other_off = p;
    oasis_dns_name_lower(&out->name);
    oasis_dns_name_lower(&out->alg);
    return OASIS_OK;
}

void oasis_dns_tsig_response_mac(const oasis_dns_tsig_key *key, const uint8_t *req_mac,
                                 size_t req_mac_len, const uint8_t *msg,
                                 const oasis_dns_tsig_rr *t, uint8_t out[OASIS_DNS_TSIG_MAC_LEN])
{
    oasis_hmac_sha256 h;
    uint8_t hdr[OASIS_DNS_HLEN], sz[2];

    oasis_hmac_sha256_init(&h, key->secret, key->secret_len);
    oasis_put16(sz, (uint16_t)req_mac_len);
    oasis_hmac_sha256_update(&h, sz, 2);
    oasis_hmac_sha256_update(&h, req_mac, req_mac_len);
    /* The header as it was before the TSIG RR was added (4.3.1). */
    memcpy(hdr, msg, sizeof hdr);
    oasis_put16(hdr, t->orig_id);
    oasis_put16(hdr + 10, (uint16_t)(oasis_get16(hdr + 10) - 1));
    oasis_hmac_sha256_update(&h, hdr, sizeof hdr);
    oasis_hmac_sha256_update(&h, msg + OASIS_DNS_HLEN, t->off - OASIS_DNS_HLEN);
    digest_variables(&h, key, t->time_signed, t->fudge, t->error, msg + t->other_off,
                     t->other_len);
    oasis_hmac_sha256_final(&h, out);
}
