/* ARP: neighbour resolution for IPv4 over Ethernet. */
#ifndef OASIS_ARP_H
#define OASIS_ARP_H

#include <stddef.h>
#include <stdint.h>

#include "core/hindex.h"
#include "core/pbuf.h"
#include "core/timer.h"

typedef struct oasis_stack oasis_stack;
typedef struct oasis_arp_entry oasis_arp_entry;

/* Packets one unresolved neighbour may hold: enough for a maximum-size UDP
 * datagram fragmented for a 1500-byte MTU (45 fragments), so the first
 * datagram to a new neighbour is not lost. cfg.arp_queue_len bounds the
 * whole stack on top of this. */
#define OASIS_ARP_ENTRY_QUEUE 48

/* Layer state, embedded in the stack. Each entry carries its own timer
 * (retry while incomplete, expiry once resolved), so an idle stack has no
 * periodic wakeups. */
typedef struct oasis_arp {
    oasis_arp_entry **buckets; /* hash table of entries */
    uint32_t nbuckets;
    uint32_t queued;           /* packets waiting for resolution, all entries */
    /* Bumped when an entry's MAC changes, it resolves or it goes: the
     * transmit caches (ipv4.c) filled before are stale (never 0). */
    uint32_t gen;
    oasis_alist lru;           /* every entry, least recently used first
                                * (evicted first); lru.n: how many */
    uint64_t defend_at;        /* last defence of our address (RFC 5227) */
    uint8_t defended;
    /* RFC 5227 2.3: a claimed address is announced ANNOUNCE_NUM times,
     * ANNOUNCE_INTERVAL apart; announce_timer sends the ones after the first
     * while the address is still announce_addr. */
    oasis_timer announce_timer;
    uint32_t announce_addr;
    uint8_t announce_left;
    /* Address conflict detection (RFC 5227 2.1) of an address not yet
     * ours: every valid ARP packet is shown to watch (the DHCP client). */
    void (*watch)(oasis_stack *s, void *ud, uint16_t op, uint32_t spa, uint32_t tpa,
                  const uint8_t sha[6]);
    void *watch_ud;
} oasis_arp;

int oasis_arp_init(oasis_stack *s);
void oasis_arp_fini(oasis_stack *s);

/* One ARP packet (the Ethernet payload) and the frame's source MAC. */
void oasis_arp_input(oasis_stack *s, const uint8_t *pkt, size_t len, const uint8_t eth_src[6]);

/* Sends the IPv4 datagram in p to the neighbour next_hop: at once when its
 * address is cached, else queued (bounded) while a request goes out.
 * Takes ownership of p. Returns 0 (sent or queued) or an oasis_err
 * (OASIS_EAGAIN queue full, OASIS_ENOMEM). */
int oasis_arp_output(oasis_stack *s, uint32_t next_hop, oasis_pbuf *p);

/* For a transmit cache (ipv4.c): the entry of the resolved neighbour ip
 * and its MAC in mac, or NULL (unknown or unresolved). The entry stays
 * valid, its MAC the same, while arp.gen does. */
oasis_arp_entry *oasis_arp_neighbour(oasis_stack *s, uint32_t ip, uint8_t mac[6]);
/* A datagram went to e through a transmit cache: e counts as used, as
 * oasis_arp_output counts it (least recently used goes first, and an entry
 * in use is kept from strangers' requests). */
void oasis_arp_used(oasis_stack *s, oasis_arp_entry *e);

/* Broadcasts a gratuitous ARP for our address. */
void oasis_arp_announce(oasis_stack *s);

/* Our address changed (or the link came up): the RFC 5227 2.3
 * announcements of the new one, the first now and the rest ANNOUNCE_INTERVAL
 * apart on the stack's clock (when cfg.arp_gratuitous); none left pending
 * for an address we no longer have. */
void oasis_arp_claim(oasis_stack *s);

/* Broadcasts an RFC 5227 probe for ip: a request with sender address
 * 0.0.0.0 and target ip. Returns 0 or an oasis_err. */
int oasis_arp_probe(oasis_stack *s, uint32_t ip);

/* Negative advice from above (RFC 1122 2.3.2.1, 3.3.1.4): a resolved
 * neighbour is asked, unicast, whether it still holds ip; traffic keeps
 * its MAC meanwhile. An answer keeps the entry; cfg.arp_retries requests
 * unanswered and the entry goes (the next datagram broadcasts a request).
 * No-op for an unknown, incomplete or already re-checked neighbour. */
void oasis_arp_reverify(oasis_stack *s, uint32_t ip);

/* Looks a neighbour up in the cache: 0 and its MAC, or OASIS_ENOENT. */
int oasis_arp_lookup(oasis_stack *s, uint32_t ip, uint8_t mac[6]);

#endif
