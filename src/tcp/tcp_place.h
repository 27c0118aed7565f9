/* Zero-copy receive for links that read frames themselves (TAP).
 *
 * A bulk receiver's frames mostly continue the last one's flow in order.
 * Before a read the link asks where the payload of such a frame would go:
 * the room at the end of that flow's receive ring (pinned, tcp_buf.h). It
 * then reads the frame's headers into its own buffer and the payload
 * straight into the ring (readv). A frame that is that flow's next segment
 * (same headers' layout, sequence number rcv_nxt, a checksum the link
 * vouched for) is input with its payload where it lies: TCP takes it
 * without a copy (oasis_tcp_input points the segment's payload there). Any
 * other frame is gathered back into the link's buffer and input as usual,
 * so only the copy is saved, never a check. */
#ifndef OASIS_TCP_PLACE_H
#define OASIS_TCP_PLACE_H

#include <stddef.h>
#include <stdint.h>

#include "oasis/addr.h"
#include "oasis/link.h"

typedef struct oasis_stack oasis_stack;
typedef struct oasis_flow oasis_flow;

/* Payloads worth placing: a frame with fewer bytes is not learned from. */
#define OASIS_PLACE_MIN 4096u
/* Longest header of a placed frame: Ethernet, IPv6 without extension
 * headers (IPv4 without options is shorter), TCP with the most options. */
#define OASIS_PLACE_HDR_MAX (14u + 40u + 60u)

typedef struct oasis_tcp_place {
    uint8_t *dst;     /* where the payload goes (NULL: no placement) */
    uint32_t room;    /* contiguous bytes at dst */
    uint32_t hdr_len; /* header bytes before the payload (Ethernet on) */
    /* The stack's side: the flow (held until end) and what must match. */
    uint32_t ip_hlen; /* 20: IPv4, 40: IPv6 */
    oasis_flow *f;
    oasis_ipaddr laddr, raddr;
    uint32_t seq;
    uint16_t lport, rport;
} oasis_tcp_place;

/* The header length (Ethernet, IP, TCP) of a frame worth predicting the
 * next one from: TCP right after an IPv4 header without options or an
 * IPv6 header without extension headers, with at least OASIS_PLACE_MIN
 * payload bytes. 0 when it is not one. */
uint32_t oasis_tcp_place_learn(const uint8_t *frame, size_t len);

/* Before a read: hdr is the first hdr_len bytes of a frame _learn took.
 * Fills *pl with room in its flow's receive ring (pinned until _end) and
 * returns 1; 0 (pl->dst NULL) when there is none to offer: no such flow,
 * no receive buffer room, out-of-order data held, a pcap on the link. */
int oasis_tcp_place_begin(oasis_stack *s, const uint8_t *hdr, uint32_t hdr_len,
                          oasis_tcp_place *pl);

/* What a frame read around a placement turned out to be. */
typedef enum oasis_place_result {
    OASIS_PLACE_HIT,       /* the predicted segment, whole at pl->dst */
    OASIS_PLACE_OTHER,     /* another frame: flow, sequence number, flags, layout */
    OASIS_PLACE_TOO_BIG,   /* the predicted segment, its payload longer than the room */
    OASIS_PLACE_UNTRUSTED, /* the predicted segment, its checksum not vouched for */
} oasis_place_result;

/* After the read (pl->dst set): frame is len bytes, the first pl->hdr_len
 * in the link's buffer, the rest at pl->dst. Only a HIT may be input with
 * _input; anything else goes the copying way. */
oasis_place_result oasis_tcp_place_match(const oasis_tcp_place *pl, const uint8_t *frame,
                                         size_t len, const oasis_offload *off);

/* Inputs a frame _match accepted: as oasis_stack_input_offload, the
 * payload taken from pl->dst. */
void oasis_tcp_place_input(oasis_stack *s, oasis_tcp_place *pl, const uint8_t *frame,
                           size_t len, const oasis_offload *off);

/* Unpins the room and lets the flow go (every _begin that returned 1). */
void oasis_tcp_place_end(oasis_stack *s, oasis_tcp_place *pl);

#endif
