/* IPv6 fixed header and extension header chain. Properties: the payload
 * lies inside the buffer; the walk never points outside the packet; an
 * error that may be answered points inside it; a header survives
 * emit(parse(x)) byte for byte; a fragment's data fits in 65535 bytes. */
#include "fuzz.h"

#include <string.h>

#include "ipv6/ipv6_wire.h"
#include "oasis/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    oasis_ipv6_hdr h;
    int err = oasis_ipv6_parse(data, size, &h);
    FUZZ_CHECK(err == 0 || err == OASIS_ETRUNCATED || err == OASIS_EMALFORMED);
    if (err)
        return 0;
    FUZZ_CHECK(h.payload == data + OASIS_IPV6_HLEN);
    FUZZ_CHECK((size_t)OASIS_IPV6_HLEN + h.payload_len <= size);
    uint8_t out[OASIS_IPV6_HLEN];
    oasis_ipv6_emit(out, &h);
    FUZZ_CHECK(memcmp(out, data, OASIS_IPV6_HLEN) == 0);

    size_t len = OASIS_IPV6_HLEN + h.payload_len;
    oasis_ipv6_walk w;
    oasis_ipv6_walk_err e = oasis_ipv6_walk_chain(data, len, &w);
    FUZZ_CHECK(e == w.err);
    FUZZ_CHECK(w.nhdrs <= OASIS_IPV6_MAX_EXT_HDRS + 1);
    if (e == OASIS_W6_OK) {
        FUZZ_CHECK(w.off >= OASIS_IPV6_HLEN && w.off <= len);
        FUZZ_CHECK(w.nh_off < w.off);
        FUZZ_CHECK(w.off - OASIS_IPV6_HLEN <= OASIS_IPV6_MAX_EXT_BYTES);
        if (w.frag) {
            FUZZ_CHECK(w.frag_hdr_off + OASIS_IPV6_FRAG_HLEN <= len);
            size_t n = len - w.frag_hdr_off - OASIS_IPV6_FRAG_HLEN;
            FUZZ_CHECK(w.frag_offset + n <= 65535);
            FUZZ_CHECK(!w.frag_more || n % 8 == 0);
            oasis_ipv6_frag f;
            FUZZ_CHECK(oasis_ipv6_frag_parse(data + w.frag_hdr_off, 8, &f) == 0);
            uint8_t fo[8];
            oasis_ipv6_frag_emit(fo, &f);
            /* The same but for the reserved fields, which emit zeroes. */
            const uint8_t *fd = data + w.frag_hdr_off;
            FUZZ_CHECK(fo[0] == fd[0] && fo[1] == 0 && fo[2] == fd[2] &&
                       fo[3] == (fd[3] & 0xf9) && memcmp(fo + 4, fd + 4, 4) == 0);
        } else {
            FUZZ_CHECK(w.proto != OASIS_NH_HOPOPTS && w.proto != OASIS_NH_DSTOPTS &&
                       w.proto != OASIS_NH_ROUTING);
        }
    } else if (w.icmp_code >= 0) {
        FUZZ_CHECK(w.icmp_code <= 3);
        FUZZ_CHECK(w.pointer < len);
    }
    return 0;
}
