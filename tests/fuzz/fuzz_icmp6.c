/* ICMPv6, Neighbour Discovery and MLDv2 wire formats. The first 32 bytes
 * are the pseudo-header's addresses, the rest the message. Properties: a
 * message that passes the checksum re-checksums to the same bytes; ND
 * parsing keeps every option inside the message, never takes a multicast
 * target, and rebuilt NS/NA parse back to the same target and address;
 * MLD report and query parsing stay inside the message. */
#include "fuzz.h"

#include <string.h>

#include "ipv6/icmp6_wire.h"
#include "ipv6/nd_wire.h"
#include "oasis/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 32)
        return 0;
    oasis_in6 src, dst;
    memcpy(src.b, data, 16);
    memcpy(dst.b, data + 16, 16);
    const uint8_t *m = data + 32;
    size_t n = size - 32;

    oasis_icmp6_hdr ic;
    int err = oasis_icmp6_parse(m, n, &src, &dst, &ic);
    FUZZ_CHECK(err == 0 || err == OASIS_ETRUNCATED || err == OASIS_ECHECKSUM);
    if (err == 0) {
        FUZZ_CHECK(ic.body == m + 8 && ic.body_len == n - 8);
        uint8_t *copy = malloc(n);
        FUZZ_CHECK(copy != NULL);
        memcpy(copy, m, n);
        oasis_icmp6_finish(copy, n, ic.type, ic.code, ic.word, &src, &dst);
        /* Same bytes, but for the two encodings of a zero sum. */
        FUZZ_CHECK(memcmp(copy, m, 2) == 0 && memcmp(copy + 4, m + 4, n - 4) == 0);
        free(copy);
    }

    /* ND parsing does not depend on the checksum. */
    oasis_nd_msg nd;
    err = oasis_nd_parse(m, n, &nd);
    FUZZ_CHECK(err == 0 || err == OASIS_ETRUNCATED || err == OASIS_EMALFORMED);
    if (err == 0) {
        FUZZ_CHECK(nd.type >= 133 && nd.type <= 137);
        const uint8_t *end = m + n;
        if (nd.opts.slla)
            FUZZ_CHECK(nd.opts.slla > m && nd.opts.slla + 6 <= end);
        if (nd.opts.tlla)
            FUZZ_CHECK(nd.opts.tlla > m && nd.opts.tlla + 6 <= end);
        if (nd.opts.redirected)
            FUZZ_CHECK(nd.opts.redirected + nd.opts.redirected_len <= end);
        FUZZ_CHECK(nd.opts.nprefix <= OASIS_ND_MAX_PREFIXES);
        for (int i = 0; i < nd.opts.nprefix; i++)
            FUZZ_CHECK(nd.opts.prefix[i].plen <= 128);
        if (nd.type == 135 || nd.type == 136) {
            FUZZ_CHECK(!oasis_in6_is_multicast(&nd.target));
            uint8_t b[32];
            size_t k = nd.type == 135 ? oasis_nd_emit_ns(b, &nd.target, nd.opts.slla)
                                      : oasis_nd_emit_na(b, &nd.target, nd.na_flags, nd.opts.tlla);
            oasis_nd_msg back;
            FUZZ_CHECK(oasis_nd_parse(b, k, &back) == 0);
            FUZZ_CHECK(oasis_in6_eq(&back.target, &nd.target));
        }
    }
    oasis_mld_query q;
    err = oasis_mld_parse_query(m, n, &q);
    if (err == 0 && q.v2)
        FUZZ_CHECK(28 + (size_t)q.nsources * 16 <= n);
    int recs = oasis_mld_parse_report(m, n);
    FUZZ_CHECK(recs >= 0 || recs == OASIS_ETRUNCATED || recs == OASIS_EMALFORMED);
    return 0;
}
