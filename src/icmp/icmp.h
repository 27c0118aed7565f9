/* ICMP: echo replies, error generation (rate-limited), the ping API. */
#ifndef OASIS_ICMP_LAYER_H
#define OASIS_ICMP_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "core/timer.h"
#include "ip/ipv4_wire.h"
#include "oasis/ip.h"

typedef struct oasis_stack oasis_stack;
typedef struct oasis_ping_req oasis_ping_req;

typedef struct oasis_icmp {
    double tokens;            /* error rate limit: token bucket */
    uint64_t tokens_at;       /* when tokens was last refilled */
    oasis_ping_req *pings;    /* outstanding echo requests */
    oasis_timer doomed_timer; /* fails pings marked by oasis_icmp_neighbour_evicted */
    int closed;               /* fini ran: no new pings */
} oasis_icmp;

int oasis_icmp_init(oasis_stack *s);
void oasis_icmp_fini(oasis_stack *s);

/* One ICMP message; ip is the parsed IPv4 header (payload = the message). */
void oasis_icmp_input(oasis_stack *s, const oasis_ipv4_hdr *ip);

/* Sends an ICMP error about the datagram `orig` (its IPv4 header and what
 * follows; the first 8 payload bytes are quoted; orig->payload must be
 * preceded in memory by its orig->hdr_len header bytes, as after
 * oasis_ipv4_parse), unless RFC 1122 forbids it
 * (orig is an ICMP error, a broadcast, a non-first fragment) or the rate
 * limit says no (counted). */
void oasis_icmp_send_error(oasis_stack *s, uint8_t type, uint8_t code, uint32_t rest,
                           const oasis_ipv4_hdr *orig);

/* ICMP's error hook in the protocol table: an unreachable quoting one of
 * our echo requests fails that ping. */
void oasis_icmp_echo_error(oasis_stack *s, const oasis_ip_error *e);

/* ARP gave up on next_hop: pings routed through it fail with OASIS_EUNREACH
 * (from ARP's timer: the callbacks run here). */
void oasis_icmp_neighbour_failed(oasis_stack *s, uint32_t next_hop);
/* ARP evicted next_hop's unresolved entry with its waiting packets,
 * perhaps inside a send or an input: pings routed through it are marked
 * and fail with OASIS_EUNREACH on the stack's next timer step; no callback
 * runs here. */
void oasis_icmp_neighbour_evicted(oasis_stack *s, uint32_t next_hop);

#endif
