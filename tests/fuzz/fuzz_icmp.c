/* ICMP parser; a message that parses is re-emitted in a copy and must parse
 * again to the same fields with the same bytes (checksum aside: 0 and 0xffff
 * both verify). */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "icmp/icmp_wire.h"
#include "oasis/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    oasis_icmp_hdr h;
    int err = oasis_icmp_parse(data, size, &h);
    FUZZ_CHECK(err == 0 || err == OASIS_ETRUNCATED || err == OASIS_ECHECKSUM);
    if (err)
        return 0;
    FUZZ_CHECK(h.payload == data + OASIS_ICMP_HLEN && h.payload_len == size - OASIS_ICMP_HLEN);

    uint8_t *copy = malloc(size);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    oasis_icmp_emit(copy, size, h.type, h.code, h.rest);
    oasis_icmp_hdr h2;
    FUZZ_CHECK(oasis_icmp_parse(copy, size, &h2) == 0);
    FUZZ_CHECK(h2.type == h.type && h2.code == h.code && h2.rest == h.rest);
    FUZZ_CHECK(memcmp(copy, data, 2) == 0 && memcmp(copy + 4, data + 4, size - 4) == 0);
    free(copy);
    return 0;
}
