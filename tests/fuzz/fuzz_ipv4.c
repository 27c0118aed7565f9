/* IPv4 header parser. Properties: the payload lies inside the buffer and
 * ends at the total length; a header without options survives
 * emit(parse(x)) byte for byte (the checksum field may differ only as the
 * other encoding of zero, so it is checked by re-parsing instead). */
#include "fuzz.h"

#include <string.h>

#include "core/checksum.h"
#include "ip/ipv4_wire.h"
#include "oasis/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    oasis_ipv4_hdr h;
    int err = oasis_ipv4_parse(data, size, &h);
    FUZZ_CHECK(err == 0 || err == OASIS_ETRUNCATED || err == OASIS_EMALFORMED ||
               err == OASIS_ECHECKSUM);
    if (err)
        return 0;
    FUZZ_CHECK(h.hdr_len >= OASIS_IPV4_HLEN && h.hdr_len <= OASIS_IPV4_MAX_HLEN);
    FUZZ_CHECK(h.total_len >= h.hdr_len && h.total_len <= size);
    FUZZ_CHECK(h.payload == data + h.hdr_len && h.payload_len == (size_t)h.total_len - h.hdr_len);
    FUZZ_CHECK(h.options == data + OASIS_IPV4_HLEN &&
               h.options_len == (size_t)h.hdr_len - OASIS_IPV4_HLEN);
    FUZZ_CHECK(h.frag_off % 8 == 0);
    FUZZ_CHECK(oasis_csum(data, h.hdr_len) == 0);
    if (h.hdr_len != OASIS_IPV4_HLEN)
        return 0;

    uint8_t out[OASIS_IPV4_HLEN];
    oasis_ipv4_emit(out, &h);
    FUZZ_CHECK(memcmp(out, data, 10) == 0 && memcmp(out + 12, data + 12, 8) == 0);
    oasis_ipv4_hdr h2;
    FUZZ_CHECK(oasis_ipv4_parse(out, sizeof out, &h2) == 0 || h.total_len > sizeof out);
    return 0;
}
