/* Software segmentation and checksum completion at the link boundary: what
 * a NIC does for TSO and checksum offload, for links (or captures) that
 * want plain frames. See oasis/link.h for the rules of a super-segment. */
#ifndef OASIS_LINK_GSO_H
#define OASIS_LINK_GSO_H

#include <stddef.h>
#include <stdint.h>

#include "oasis/link.h"

/* Completes a partial checksum: sums frame[start, len) (the field holds the
 * pseudo-header sum) and stores the checksum at start + off. Returns 0 or
 * OASIS_EMALFORMED when the field is not inside the frame. */
int oasis_csum_complete(uint8_t *frame, size_t len, uint16_t start, uint16_t off);

/* Receives one plain frame; returns 0 or a negative oasis_err. */
typedef int (*oasis_gso_emit_fn)(void *ud, uint8_t *frame, size_t len);

/* Hands emit the plain frames that the frame with offloads `off` stands
 * for: a TCP super-segment (OASIS_GSO_TCPV4, or OASIS_GSO_TCPV6 with TCP
 * right after the IPv6 header) cut into gso_size pieces, each with its own
 * headers and complete checksums; any other frame as it is, its partial
 * checksum completed.
 *
 * scratch NULL: the frame is rewritten in place (the headers of piece i
 * are written over the end of piece i-1's payload, which emit has already
 * consumed: no payload is copied). Else the frame is left untouched and
 * each frame is built in scratch (scratch_len >= headers + gso_size).
 *
 * Returns the number of frames emitted (all of them, even after an emit
 * failed) or, when nothing was emitted, a negative oasis_err:
 * OASIS_EMALFORMED for a super-segment whose headers do not parse,
 * OASIS_ENOTSUP for a GSO type other than TCPV4 and TCPV6. *first_err
 * (may be NULL) gets the first error emit returned (0: none). */
int oasis_gso_segment(uint8_t *frame, size_t len, const oasis_offload *off, uint8_t *scratch,
                      size_t scratch_len, oasis_gso_emit_fn emit, void *ud, int *first_err);

/* Pieces a TCP segment of payload bytes stands for (gso_size 0: one). */
static inline uint32_t oasis_gso_pieces(uint32_t payload, uint32_t gso_size)
{
    if (gso_size == 0 || payload <= gso_size)
        return 1;
    return (payload + gso_size - 1) / gso_size;
}

#endif
