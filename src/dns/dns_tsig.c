/* A TSIG client's checks of a response (RFC 8945 5.4). */
#include "dns/dns_tsig.h"

oasis_dns_tsig_verdict oasis_dns_tsig_check(const oasis_dns_tsig_key *key, uint64_t now_s,
                                            const uint8_t req_mac[OASIS_DNS_TSIG_MAC_LEN],
                                            const uint8_t *msg, size_t len,
                                            const oasis_dns_msg *m)
{
    oasis_dns_tsig_rr t;
    uint8_t mac[OASIS_DNS_TSIG_MAC_LEN];

    /* 5.4: no TSIG RR in a response expected signed is a format error. */
    if (!m->has_tsig)
        return OASIS_DNS_TSIG_UNSIGNED;
    if (oasis_dns_tsig_rr_read(msg, len, m->tsig_off, &t) != 0)
        return OASIS_DNS_TSIG_MALFORMED;
    /* 5.2.1: our key, our algorithm (names compare in any case). */
    if (!oasis_dns_name_equal(&t.name, &key->name) || !oasis_dns_name_equal(&t.alg, &key->alg))
        return OASIS_DNS_TSIG_BADKEY;
    /* 5.3.2: a server's BADKEY or BADSIG answer carries no MAC; nothing
     * vouches for it, so it is no answer (5.4). */
    if (t.mac_size == 0)
        return OASIS_DNS_TSIG_UNSIGNED;
    /* 5.2.2.1: longer than the hash, or shorter than the larger of 10
     * octets and half the hash, is refused. */
    if (t.mac_size > OASIS_DNS_TSIG_MAC_LEN || t.mac_size < OASIS_DNS_TSIG_MIN_MAC)
        return OASIS_DNS_TSIG_BADTRUNC;
    oasis_dns_tsig_response_mac(key, req_mac, OASIS_DNS_TSIG_MAC_LEN, msg, &t, mac);
    if (!oasis_mem_equal_ct(mac, msg + t.mac_off, t.mac_size))
        return OASIS_DNS_TSIG_BADSIG;
    /* 5.2.3: our time within Time Signed plus or minus Fudge. */
    uint64_t skew = now_s > t.time_signed ? now_s - t.time_signed : t.time_signed - now_s;
    if (skew > t.fudge)
        return OASIS_DNS_TSIG_BADTIME;
    if (t.error != 0)
        return OASIS_DNS_TSIG_ERROR;
    return OASIS_DNS_TSIG_OK;
}
