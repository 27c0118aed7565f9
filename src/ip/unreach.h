/* Datagrams of ours whose next hop did not resolve (ARP or ND gave up, or
 * evicted the unresolved entry they waited on): their transports hear of
 * it as of a destination unreachable from ourselves. */
#ifndef OASIS_IP_UNREACH_H
#define OASIS_IP_UNREACH_H

#include <stddef.h>
#include <stdint.h>

#include "core/pbuf.h"
#include "core/timer.h"

/* Datagrams of evicted entries, told from the next timer step. Each stays
 * counted in the queue it waited in (arp.queued for IPv4, ip6->queued for
 * IPv6) until told, so cfg.arp_queue_len and cfg.nd_queue_len bound them
 * too; pbuf meta2 holds the family. */
typedef struct oasis_ip_unreach {
    oasis_pbuf *head, *tail;
    oasis_timer timer;
    int draining;
    int closed; /* stack teardown: nobody is told any more */
} oasis_ip_unreach;

int oasis_ip_unreach_init(oasis_stack *s);
void oasis_ip_unreach_fini(oasis_stack *s);

/* A datagram of ours (IPv4 or IPv6 header at dgram) that could not leave
 * because its next hop did not resolve: its transport hears of it as of a
 * destination unreachable from ourselves, host unreachable for IPv4 (what
 * Linux reports after a failed ARP) and address unreachable for IPv6
 * (RFC 4861 7.2.2 MUST). ICMP's own datagrams are left to the pings'
 * bookkeeping, and datagrams without a transport header to no one.
 * Call it from a timer step: a UDP error callback runs inside it. */
void oasis_ip_unreachable_local(oasis_stack *s, const uint8_t *dgram, size_t len);

/* The same for each datagram of a chain (linked by next, already out of
 * its queue's count), each freed after. From a timer step. */
void oasis_ip_unreachable_chain(oasis_stack *s, oasis_pbuf *chain);

/* The same from the next timer step, for a chain taken from an evicted
 * entry inside a send or an input, where no callback may run. The chain
 * is still counted in its queue (family OASIS_IP_FAMILY_V4: ARP's, V6:
 * ND's); datagrams nobody would hear of are freed and uncounted now. */
void oasis_ip_unreachable_later(oasis_stack *s, oasis_pbuf *chain, uint8_t family);

#endif
