/* Ethernet layer: frames in from the link, frames out to it. */
#ifndef OASIS_ETH_H
#define OASIS_ETH_H

#include <stddef.h>
#include <stdint.h>

#include "core/pbuf.h"

typedef struct oasis_stack oasis_stack;

/* Parses a received frame and dispatches to ARP or IPv4; counts and drops the
 * rest. */
void oasis_eth_input(oasis_stack *s, const uint8_t *frame, size_t len);

/* oasis_eth_input's dispatch by type, for a frame of OASIS_ETH_HLEN bytes
 * or more, counted, with a type (not an 802.3 length), found for us. */
void oasis_eth_input_for_us(oasis_stack *s, const uint8_t *frame, size_t len, int mcast);

/* Prepends the Ethernet header to p and sends it on the stack's link
 * (writing the pcap if any). Takes ownership of p. Returns 0 or an oasis_err. */
int oasis_eth_output(oasis_stack *s, oasis_pbuf *p, const uint8_t dst[6], uint16_t type);

/* Sends p, a whole frame with its Ethernet header in place (a transmit
 * cache's: ipv4.c), as oasis_eth_output does after writing the header.
 * Takes ownership of p. */
int oasis_eth_xmit(oasis_stack *s, oasis_pbuf *p);
/* The same for a plain frame (no offload) that is only borrowed. */
int oasis_eth_send_frame(oasis_stack *s, const uint8_t *frame, size_t len);

/* Frame lending (oasis/link.h): the link's memory for a plain frame of up
 * to len bytes, or NULL (no link, a link that does not lend, or cannot
 * now): the caller then builds the frame in a buffer of its own and sends
 * it with oasis_eth_send_frame. While the loan lasts the caller sends
 * nothing else; it ends with one of the two calls below. */
uint8_t *oasis_eth_lend(oasis_stack *s, size_t len);
/* Callers ask for frames of this size and more. A loan is a second call
 * to the link: about what copying 200 bytes costs (callgrind on the wire:
 * a loan gains from about 220 bytes of frame on). */
#define OASIS_ETH_LEND_MIN 256
/* Sends the first len bytes of the loan as oasis_eth_send_frame would have
 * sent them (capture, counters, the link's result). */
int oasis_eth_commit(oasis_stack *s, uint8_t *frame, size_t len);
/* Gives the loan back unsent. */
void oasis_eth_unlend(oasis_stack *s, uint8_t *frame);

#endif
