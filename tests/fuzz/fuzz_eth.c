/* Ethernet header parser, and emit(parse(x)) == x for the header bytes. */
#include "fuzz.h"

#include <string.h>

#include "link/eth_wire.h"
#include "oasis/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    oasis_eth_hdr h;
    int err = oasis_eth_parse(data, size, &h);
    FUZZ_CHECK(err == 0 || err == OASIS_ETRUNCATED || err == OASIS_EMALFORMED);
    if (err)
        return 0;
    FUZZ_CHECK(size >= OASIS_ETH_HLEN && h.type >= 0x0600);
    FUZZ_CHECK(h.payload == data + OASIS_ETH_HLEN && h.payload_len == size - OASIS_ETH_HLEN);

    uint8_t out[OASIS_ETH_HLEN];
    oasis_eth_emit(out, h.dst, h.src, h.type);
    FUZZ_CHECK(memcmp(out, data, OASIS_ETH_HLEN) == 0);
    return 0;
}
