/* The virtio-net header (virtio 1.x 5.1.6, struct virtio_net_hdr and its
 * 12-byte forms virtio_net_hdr_mrg_rxbuf / virtio_net_hdr_v1): what a TAP
 * opened with IFF_VNET_HDR puts in front of every frame, both ways. Only
 * the bytes live here; tap.c does the I/O. Multi-byte fields are
 * little-endian (the TAP is put in little-endian mode, TUNSETVNETLE).
 *
 *   0 flags        NEEDS_CSUM 1, DATA_VALID 2 (RSC_INFO 4 is not for TAP)
 *   1 gso_type     NONE 0, TCPV4 1, UDP 3, TCPV6 4 (UDP_L4 5), | ECN 0x80
 *   2 hdr_len      bytes of headers (a hint)
 *   4 gso_size     payload bytes per piece
 *   6 csum_start   where the partial checksum's sum starts
 *   8 csum_offset  the checksum field's offset from csum_start
 *  10 num_buffers  (12-byte form only; the kernel ignores it on TAP) */
#ifndef OASIS_LINK_VIRTIO_NET_H
#define OASIS_LINK_VIRTIO_NET_H

#include <stddef.h>
#include <stdint.h>

#include "oasis/link.h"

#define OASIS_VNET_HDR_LEN 12     /* the size we ask for (TUNSETVNETHDRSZ) */
#define OASIS_VNET_HDR_LEN_MIN 10 /* the kernel's default */

#define OASIS_VNET_F_NEEDS_CSUM 1
#define OASIS_VNET_F_DATA_VALID 2
#define OASIS_VNET_GSO_UDP_L4 5

/* Reads the header in front of a frame of frame_len bytes into *out.
 * Returns 0, or OASIS_EMALFORMED for a header the stack must not act on:
 * unknown flag bits, an unknown GSO type (UDP_L4 included: we never offer
 * it), ECN without a TCP type, a GSO type without gso_size, a partial
 * checksum whose field lies outside the frame or inside the Ethernet
 * header, or headers longer than the frame. */
int oasis_vnet_parse(const uint8_t *hdr, size_t frame_len, oasis_offload *out);

/* Writes the OASIS_VNET_HDR_LEN-byte header for a frame sent with off (NULL:
 * a plain frame, all zero). */
void oasis_vnet_fill(uint8_t *hdr, const oasis_offload *off);

/* Hands one read of a TAP with the header (n bytes: header, then frame)
 * to s. Returns 0, or OASIS_EMALFORMED for a bad header (or a read shorter
 * than one): the frame is dropped and the caller counts it. */
typedef struct oasis_stack oasis_stack;
int oasis_vnet_input(oasis_stack *s, const uint8_t *buf, size_t n);

#endif
