/* UDP parser. Input: 8 bytes of pseudo-header addresses, then the datagram.
 * A datagram that parses is re-emitted (with a computed checksum) and must
 * parse again to the same ports, length and payload. The same bytes go
 * through the IPv6 parser too (addresses fe80::SRC and fe80::DST): a zero
 * checksum is refused there, and what parses round-trips likewise. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "oasis/error.h"
#include "ipv6/ipv6_wire.h"
#include "udp/udp_wire.h"

static void check_v6(const uint8_t *p, size_t n, uint32_t src, uint32_t dst)
{
    oasis_in6 s6 = {{0xfe, 0x80}}, d6 = {{0xfe, 0x80}};
    memcpy(s6.b + 12, &src, 4);
    memcpy(d6.b + 12, &dst, 4);
    oasis_udp_hdr h;
    int err = oasis_udp_parse6(p, n, &s6, &d6, 1, &h);
    FUZZ_CHECK(err == 0 || err == OASIS_ETRUNCATED || err == OASIS_EMALFORMED ||
               err == OASIS_ECHECKSUM || err == OASIS_ENOTSUP);
    FUZZ_CHECK(err != 0 || (n >= 8 && (p[6] | p[7]) != 0)); /* zero never passes */
    if (err)
        return;
    FUZZ_CHECK(h.len >= OASIS_UDP_HLEN && h.len <= n);
    uint8_t *copy = malloc(h.len);
    if (!copy)
        return;
    memcpy(copy, p, h.len);
    oasis_udp_emit6(copy, h.len, h.src_port, h.dst_port, &s6, &d6);
    oasis_udp_hdr h2;
    FUZZ_CHECK(oasis_udp_parse6(copy, h.len, &s6, &d6, 1, &h2) == 0);
    FUZZ_CHECK(memcmp(copy + 6, p + 6, 2) == 0); /* the same checksum */
    uint16_t c = oasis_udp_csum6(p, h.len, &s6, &d6); /* ignores the field */
    FUZZ_CHECK(memcmp(&c, p + 6, 2) == 0);
    FUZZ_CHECK(h2.src_port == h.src_port && h2.dst_port == h.dst_port && h2.len == h.len);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    uint32_t src = fuzz_u32(&in), dst = fuzz_u32(&in);
    check_v6(in.p, in.left, src, dst);
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
