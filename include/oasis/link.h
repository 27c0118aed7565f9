/* Links: how frames leave and enter a stack.
 *
 * A link is a small struct that the link's owner fills in: `send` puts one
 * Ethernet frame on the medium. Frames that arrive are handed to the stack
 * with oasis_stack_input(). Oasis ships two links (the in-memory wire in
 * wire.h and a TAP device in tap.h); users can write their own, e.g. for a
 * tun2socks program or an RTOS driver.
 */
#ifndef OASIS_LINK_H
#define OASIS_LINK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oasis_pcap oasis_pcap;
typedef struct oasis_link oasis_link;

struct oasis_link {
    /* Send one frame (Ethernet header included, no FCS). The frame is only
     * borrowed: the link copies what it needs before returning. Returns 0 or
     * a negative oasis_err (counted as tx_errors by the stack). */
    int (*send)(oasis_link *link, const uint8_t *frame, size_t len);
    /* Largest IP datagram the link carries (the MTU, e.g. 1500). */
    uint32_t mtu;
    /* Optional capture: when set, the stack writes every frame it sends and
     * every frame it receives on this link to this pcap file. */
    oasis_pcap *pcap;
    /* Owner's data. */
    void *data;
};

/* pcap writer (classic libpcap format, LINKTYPE_ETHERNET, nanosecond
 * timestamps). Opens path for writing; returns 0 or an oasis_err. */
int oasis_pcap_open(const char *path, oasis_pcap **out);
/* Appends one frame stamped ts_ns of the stack's clock. The capture shows
 * wall-clock time: the first frame is stamped with the current
 * CLOCK_REALTIME and later ones keep their distance from it on ts_ns. */
int oasis_pcap_write(oasis_pcap *p, uint64_t ts_ns, const uint8_t *frame, size_t len);
/* Flushes and closes; NULL is accepted. */
void oasis_pcap_close(oasis_pcap *p);

#ifdef __cplusplus
}
#endif
#endif
