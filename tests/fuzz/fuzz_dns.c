/* DNS response parser (src/dns/dns_wire.c). Input: a whole DNS message as
 * it comes off UDP or out of a TCP length prefix. Properties: nothing reads
 * out of bounds or loops (ASan, the driver's timeout); every name the
 * parser accepted reads again to at most 255 octets of well-formed labels;
 * the RCODE has 12 bits at most, more than the header's 4 only with an OPT;
 * answer extraction follows at most max_cname links; a TSIG RR reads within
 * the message and TSIG's checks of it return a verdict (RFC 8945). */
#include "fuzz.h"

#include <string.h>

#include "dns/dns_tsig.h"
#include "dns/dns_wire.h"
#include "oasis/dns.h"
#include "oasis/error.h"

static void check_name(const oasis_dns_name *n)
{
    FUZZ_CHECK(n->len >= 1 && n->len <= OASIS_DNS_MAX_NAME);
    size_t i = 0;
    while (n->b[i] != 0) {
        FUZZ_CHECK(n->b[i] <= OASIS_DNS_MAX_LABEL);
        i += 1 + (size_t)n->b[i];
        FUZZ_CHECK(i < n->len);
    }
    FUZZ_CHECK(i + 1 == n->len);
    char text[OASIS_DNS_NAME_STRLEN];
    oasis_dns_name_to_text(n, text, sizeof text);
    FUZZ_CHECK(strlen(text) < sizeof text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    oasis_dns_name n;
    /* Raw name reads at the first offsets, whatever the header says. */
    for (size_t off = 0; off < size && off < 48; off++) {
        size_t next = 0;
        int err = oasis_dns_name_read(data, size, off, &n, &next);
        FUZZ_CHECK(err == 0 || err == OASIS_ETRUNCATED || err == OASIS_EMALFORMED);
        if (err == 0) {
            check_name(&n);
            FUZZ_CHECK(next > off && next <= size);
        }
    }

    static oasis_dns_msg m;
    int err = oasis_dns_msg_parse(data, size, &m);
    FUZZ_CHECK(err == 0 || err == OASIS_ETRUNCATED || err == OASIS_EMALFORMED);
    if (err)
        return 0;
    check_name(&m.qname);
    /* RFC 6891 6.1.3: 12 bits, the header's 4 below; only an OPT adds more. */
    FUZZ_CHECK(m.rcode <= 0xfff && (m.rcode & 0xf) == (m.flags & 0xf));
    FUZZ_CHECK(m.has_opt || m.rcode == (m.flags & 0xf));
    FUZZ_CHECK(m.nan <= OASIS_DNS_MAX_RR && m.nns <= OASIS_DNS_MAX_RR);
    for (size_t i = 0; i < m.nan; i++) {
        const oasis_dns_rr *rr = &m.an[i];
        FUZZ_CHECK(oasis_dns_name_read(data, size, rr->name_off, &n, NULL) == 0);
        check_name(&n);
        FUZZ_CHECK(rr->rdata_off + rr->rdlen <= size);
        FUZZ_CHECK(rr->ttl <= 0x7fffffffu);
    }
    for (size_t i = 0; i < m.nns; i++) {
        uint32_t min;
        if (m.ns[i].type == 6 && m.ns[i].rclass == 1)
            FUZZ_CHECK(oasis_dns_soa_minimum(data, size, &m.ns[i], &min) == 0);
    }
    if (m.has_tsig) {
        oasis_dns_tsig_rr t;
        FUZZ_CHECK(m.tsig_off >= OASIS_DNS_HLEN && m.tsig_off < size);
        if (oasis_dns_tsig_rr_read(data, size, m.tsig_off, &t) == 0) {
            FUZZ_CHECK(t.mac_off + t.mac_size <= size);
            FUZZ_CHECK(t.other_off + t.other_len <= size);
            check_name(&t.name);
            check_name(&t.alg);
        }
        static oasis_dns_tsig_key key;
        static const uint8_t secret[4] = {1, 2, 3, 4};
        static const uint8_t req_mac[OASIS_DNS_TSIG_MAC_LEN];
        if (key.secret_len == 0)
            FUZZ_CHECK(oasis_dns_tsig_key_init(&key, "k.test", NULL, secret, 4, 300) == 0);
        oasis_dns_tsig_verdict v = oasis_dns_tsig_check(&key, 1700000000, req_mac, data, size, &m);
        FUZZ_CHECK(v >= OASIS_DNS_TSIG_OK && v <= OASIS_DNS_TSIG_MALFORMED);
    }
    static const uint16_t types[2] = {OASIS_DNS_TYPE_A, OASIS_DNS_TYPE_AAAA};
    for (int t = 0; t < 2; t++) {
        uint8_t addrs[4 * 16];
        oasis_dns_answer a;
        int rc = oasis_dns_answer_extract(data, size, &m, types[t], 8, addrs, 4, &a);
        FUZZ_CHECK(rc == 0 || rc == 1 || rc == OASIS_EMALFORMED);
        if (rc == 0) {
            FUZZ_CHECK(a.cnames <= 8 && a.naddr <= 4);
            check_name(&a.canonical);
        }
    }
    return 0;
}
