/* Links: how frames leave and enter a stack.
 *
 * A link is a small struct that the link's owner fills in: `send` puts one
 * Ethernet frame on the medium (or, optionally, the link lends the stack the
 * memory of its next frame: tx_lend and tx_commit). Frames that arrive are handed to the stack
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
typedef struct oasis_stack oasis_stack;

/* ---- offloads ------------------------------------------------------------
 *
 * A link may do some of the per-packet work itself (a virtio-net device, a
 * TAP with IFF_VNET_HDR, a NIC, the in-memory wire when asked). What it can
 * do is a set of OASIS_LINK_* bits in oasis_link.caps; a frame that uses an
 * offload travels with an oasis_offload that says how (the virtio-net
 * header's fields, in host byte order, offsets from the Ethernet header).
 *
 * Sending. With TSO4 (TSO6) the stack hands send_offload() IPv4 (IPv6)
 * TCP "super-segments" of up to gso_max bytes of IP datagram (64 KiB at
 * most): one IP and TCP header in front of many MSS of payload; IPv6's TCP
 * header follows the fixed header, with no extension header between. The
 * link cuts them into gso_size pieces exactly as RFC 9293 segments would
 * be: sequence numbers advance, the IPv4 ID increases by one per piece
 * (the stack reserved them), options (timestamps) are copied to every
 * piece, PSH and FIN stay on the last piece only, CWR on the first only
 * (OASIS_GSO_ECN), and every piece gets its own IP and TCP checksums. With CSUM_TX the stack may leave
 * the TCP or UDP checksum partial: the field holds the folded pseudo-header
 * sum (not complemented), and the link sums from csum_start to the end and
 * stores the result at csum_start + csum_offset. TSO4 and TSO6 need CSUM_TX:
 * super-segments are always sent partial. Without these bits, or without
 * send_offload, the stack sends plain frames no longer than the MTU with
 * complete checksums (it cuts super-segments itself at the link boundary,
 * so TCP has one code path).
 *
 * Receiving. Any link may hand oasis_stack_input_offload() a frame with
 * CSUM_VALID (the link verified the TCP/UDP checksum, virtio's DATA_VALID)
 * or CSUM_PARTIAL (the frame comes from a trusted local sender that left the
 * checksum partial, virtio's NEEDS_CSUM: the stack does not verify it), and
 * TCP segments larger than the MTU (coalesced by GRO/LRO, or a local
 * sender's TSO, gso_size giving the piece size). RX_GRO and RX_CSUM only say
 * that the link may do so (e.g. for a tool to report); the stack accepts
 * such frames from any link. Delayed ACKs and segment counters count a
 * large segment as the pieces it stands for. */
#define OASIS_LINK_TSO4 (1u << 0)   /* takes IPv4 TCP super-segments (needs CSUM_TX) */
#define OASIS_LINK_TSO6 (1u << 1)   /* same for IPv6 TCP (needs CSUM_TX) */
#define OASIS_LINK_CSUM_TX (1u << 2) /* completes partial TCP/UDP checksums */
#define OASIS_LINK_RX_GRO (1u << 3)  /* may hand up coalesced TCP segments */
#define OASIS_LINK_RX_CSUM (1u << 4) /* may mark frames checksum-valid or partial */
/* An IP link: a TUN device, a VPN's tunnel, a point-to-point line. Its
 * frames are bare IPv4 and IPv6 packets, with no Ethernet header, so there
 * is nothing to resolve: no ARP, no Neighbour Discovery address resolution
 * and no Duplicate Address Detection (as Linux on a NOARP device), and
 * every destination is reached through the link, on-link or not (the
 * gateway, if any, is not asked for). send gets one IP packet per call;
 * received packets go to oasis_stack_input_ip(). Offloads work as on
 * Ethernet (TSO4, TSO6, CSUM_TX with send_offload; received packets with
 * oasis_stack_input_ip_offload), but every offset (csum_start, hdr_len)
 * counts from the IP header, as a TUN device's virtio-net header does.
 * tx_lend is not used on an IP link.
 * A pcap capture shows each packet behind an Ethernet header with the
 * stack's MAC on one side and 00:00:00:00:00:00 for the far end. The link
 * is read when oasis_stack_set_link() attaches it: set caps before. */
#define OASIS_LINK_IP (1u << 5)

/* oasis_offload.flags */
#define OASIS_OFFLOAD_CSUM_PARTIAL 0x01 /* checksum left partial (virtio NEEDS_CSUM) */
#define OASIS_OFFLOAD_CSUM_VALID 0x02   /* checksum already verified (virtio DATA_VALID) */

/* oasis_offload.gso_type (virtio-net's values) */
#define OASIS_GSO_NONE 0
#define OASIS_GSO_TCPV4 1
#define OASIS_GSO_UDP 3 /* UFO: one UDP datagram larger than the MTU */
#define OASIS_GSO_TCPV6 4
#define OASIS_GSO_ECN 0x80 /* with TCP: the first piece keeps CWR, the others lose it */

/* Largest IP datagram of a super-segment (the IPv4 total length field). */
#define OASIS_GSO_MAX 65535u

typedef struct oasis_offload {
    uint8_t flags;        /* OASIS_OFFLOAD_* */
    uint8_t gso_type;     /* OASIS_GSO_*; NONE: an ordinary frame */
    uint16_t gso_size;    /* payload bytes per piece (GSO frames) */
    uint16_t hdr_len;     /* Ethernet + IP + TCP header bytes (GSO frames; 0: unknown) */
    uint16_t csum_start;  /* CSUM_PARTIAL: offset of the TCP/UDP header in the frame */
    uint16_t csum_offset; /* CSUM_PARTIAL: checksum field's offset from csum_start */
} oasis_offload;

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
    /* Offloads (see above). caps 0 and send_offload NULL: a plain link. */
    uint32_t caps;
    /* TSO4, TSO6: largest super-segment, as IP datagram bytes (0: OASIS_GSO_MAX). */
    uint32_t gso_max;
    /* Sends one frame that uses offloads (off never NULL; a frame without
     * any goes through send). Same contract as send. */
    int (*send_offload)(oasis_link *link, const uint8_t *frame, size_t len,
                        const oasis_offload *off);
    /* Frame lending (optional; both NULL: every frame goes through send).
     * A link whose frames live in memory of its own (an AF_XDP or netmap
     * TX slot, a virtio ring, the in-memory wire's queue) may lend the
     * stack that memory, so the stack builds a frame in place and nothing
     * is copied.
     *
     * tx_lend asks for room for one plain frame of len bytes (Ethernet
     * header included, no offloads). It returns memory of at least len
     * bytes that the stack may write until it calls tx_commit, or NULL when
     * the link cannot lend now (the stack then builds the frame in its own
     * buffer and calls send, as without lending). At most one loan is
     * outstanding per link: a second tx_lend before tx_commit returns NULL,
     * and the stack calls neither send nor send_offload while it holds one.
     *
     * tx_commit ends the loan: it sends the first len bytes of buf (the
     * memory tx_lend returned) as send would have sent a copy of them, and
     * returns what send would (0 or a negative oasis_err, counted as
     * tx_errors by the stack). len 0 sends nothing and returns 0: the stack
     * changed its mind. A buf that is not the loan's, or no loan, gives
     * OASIS_EINVAL and changes nothing; len above the lent size gives
     * OASIS_EINVAL and ends the loan without sending. Once tx_commit has
     * returned, whatever it returned, the memory is the link's again.
     *
     * The stack writes a lent frame to the pcap capture (above) before it
     * commits it, so a capture shows it like any other. A link sets both
     * fields or neither. */
    uint8_t *(*tx_lend)(oasis_link *link, size_t len);
    int (*tx_commit)(oasis_link *link, uint8_t *buf, size_t len);
};

/* oasis_stack_input() for a frame that comes with offload information
 * (off NULL: a plain frame). A partial checksum region outside the frame
 * makes the frame malformed (counted in rx_malformed and dropped). */
void oasis_stack_input_offload(oasis_stack *s, const uint8_t *frame, size_t len,
                               const oasis_offload *off);

/* Hands one received IP packet (IPv4 or IPv6, by its version field; no
 * Ethernet header) to the stack, as an IP link's frames come (see
 * OASIS_LINK_IP; borrowed: the stack copies what it keeps). A packet that
 * is empty or of another version is counted in the link's rx_malformed or
 * rx_unknown_type and dropped; IPv4 and IPv6 check the rest. */
void oasis_stack_input_ip(oasis_stack *s, const uint8_t *pkt, size_t len);
/* The same with offload information (off NULL: a plain packet), offsets
 * from the IP header; a partial checksum outside the packet counts in
 * rx_malformed and the packet is dropped. */
void oasis_stack_input_ip_offload(oasis_stack *s, const uint8_t *pkt, size_t len,
                                  const oasis_offload *off);

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
