/* Classic pcap files (not pcapng): universally readable (tcpdump, tshark,
 * Wireshark) and trivially written. Nanosecond variant of the format.
 *
 * The stack hands us its own clock (monotonic, or virtual in tests), which
 * would show as 1970. The first frame anchors that clock to the wall clock
 * (CLOCK_REALTIME); later frames keep their exact spacing from the stack's
 * clock, so a capture lines up with tcpdump's and intervals stay true. */
#include "oasis/error.h"
#include "oasis/link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_SNAPLEN 262144u
#define LINKTYPE_ETHERNET 1u

struct oasis_pcap {
    FILE *f;
    int anchored;
    uint64_t offset_ns; /* wall clock minus the stack's clock (mod 2^64) */
};

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); } /* host order, as pcap allows */
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

int oasis_pcap_open(const char *path, oasis_pcap **out)
{
    if (!path || !out)
        return OASIS_EINVAL;
    oasis_pcap *p = calloc(1, sizeof *p);
    if (!p)
        return OASIS_ENOMEM;
    p->f = fopen(path, "wb");
    if (!p->f) {
        free(p);
        return OASIS_EIO;
    }
    uint8_t h[24];
    put32(h, PCAP_MAGIC_NS);
    put16(h + 4, 2);
    put16(h + 6, 4);
    put32(h + 8, 0);  /* thiszone */
    put32(h + 12, 0); /* sigfigs */
    put32(h + 16, PCAP_SNAPLEN);
    put32(h + 20, LINKTYPE_ETHERNET);
    if (fwrite(h, 1, sizeof h, p->f) != sizeof h) {
        fclose(p->f);
        free(p);
        return OASIS_EIO;
    }
    *out = p;
    return OASIS_OK;
}

int oasis_pcap_write(oasis_pcap *p, uint64_t ts_ns, const uint8_t *frame, size_t len)
{
    if (!p || (!frame && len))
        return OASIS_EINVAL;
    if (!p->anchored) {
        p->offset_ns = wall_ns() - ts_ns;
        p->anchored = 1;
    }
    ts_ns += p->offset_ns;
    uint32_t caplen = len > PCAP_SNAPLEN ? PCAP_SNAPLEN : (uint32_t)len;
    uint8_t h[16];
    put32(h, (uint32_t)(ts_ns / 1000000000u));
    put32(h + 4, (uint32_t)(ts_ns % 1000000000u));
    put32(h + 8, caplen);
    put32(h + 12, (uint32_t)len);
    if (fwrite(h, 1, sizeof h, p->f) != sizeof h || fwrite(frame, 1, caplen, p->f) != caplen)
        return OASIS_EIO;
    return OASIS_OK;
}

void oasis_pcap_close(oasis_pcap *p)
{
    if (!p)
        return;
    fclose(p->f);
    free(p);
}
