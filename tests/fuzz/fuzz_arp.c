/* ARP parser, and emit(parse(x)) == x for the 28 packet bytes. */
#include "fuzz.h"

#include <string.h>

#include "arp/arp_wire.h"
#include "oasis/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    oasis_arp_pkt p;
    int err = oasis_arp_parse(data, size, &p);
    FUZZ_CHECK(err == 0 || err == OASIS_ETRUNCATED || err == OASIS_EMALFORMED);
    if (err)
        return 0;
    FUZZ_CHECK(p.op == OASIS_ARP_REQUEST || p.op == OASIS_ARP_REPLY);

    uint8_t out[OASIS_ARP_LEN];
    oasis_arp_emit(out, &p);
    FUZZ_CHECK(memcmp(out, data, OASIS_ARP_LEN) == 0);
    return 0;
}
