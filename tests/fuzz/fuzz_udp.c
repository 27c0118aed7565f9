/* UDP parser. Input: 8 bytes of pseudo-header addresses, then the datagram.
 * A datagram that parses is re-emitted (with a computed checksum) and must
 * parse again to the same ports, length and payload. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "oasis/error.h"
#include "udp/udp_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    uint32_t src = fuzz_u32(&in), dst = fuzz_u32(&in);
    oasis_udp_hdr h;
    int err = oasis_udp_parse(in.p, in.left, src, dst, &h);
    FUZZ_CHECK(err == 0 || err == OASIS_ETRUNCATED || err == OASIS_EMALFORMED ||
               err == OASIS_ECHECKSUM);
    if (err)
        return 0;
    FUZZ_CHECK(h.len >= OASIS_UDP_HLEN && h.len <= in.left);
    FUZZ_CHECK(h.payload == in.p + OASIS_UDP_HLEN && h.payload_len == (size_t)h.len - OASIS_UDP_HLEN);

    uint8_t *copy = malloc(h.len);
    if (!copy)
        return 0;
    memcpy(copy, in.p, h.len);
    oasis_udp_emit(copy, h.len, h.src_port, h.dst_port, src, dst);
    oasis_udp_hdr h2;
    FUZZ_CHECK(oasis_udp_parse(copy, h.len, src, dst, &h2) == 0);
    FUZZ_CHECK(h2.csum != 0); /* an emitted datagram always carries a checksum */
    FUZZ_CHECK(h2.src_port == h.src_port && h2.dst_port == h.dst_port && h2.len == h.len);
    FUZZ_CHECK(memcmp(h2.payload, h.payload, h.payload_len) == 0);
    free(copy);
    return 0;
}
