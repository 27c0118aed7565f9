/* One stack on a link that keeps what it sends: for tests that drive a
 * stack with hand-built frames and read its answers back. */
#ifndef OASIS_CAPLINK_H
#define OASIS_CAPLINK_H
#include <stddef.h>
#include <stdint.h>
#include "oasis/oasis.h"

#define TEST_CAP_FRAME 2048 /* bytes a slot keeps (an MTU-1500 frame fits) */

typedef struct test_cap {
    oasis_link link; /* what the stack sends through */
    uint8_t (*frame)[TEST_CAP_FRAME];
    size_t *len;
    size_t n;    /* frames kept; a test sets it to 0 to forget them */
    size_t max;  /* slots */
    size_t lost; /* frames not kept: no slot left, or larger than a slot */
} test_cap;

/* Gives c max slots (test_calloc: leaks show) and makes it s's link with
 * the given MTU. */
void test_cap_attach(test_cap *c, oasis_stack *s, size_t max, uint32_t mtu);
void test_cap_fini(test_cap *c);

/* Moves the virtual clock ns ahead, polling s at every deadline on the way
 * so each timer runs at its own time. */
void test_advance(oasis_stack *s, oasis_clock *clock, uint64_t ns);

/* Hands s one ARP packet in an Ethernet frame from eth_src to eth_dst. */
void test_inject_arp(oasis_stack *s, const uint8_t eth_src[6], const uint8_t eth_dst[6],
                     uint16_t op, const uint8_t sha[6], uint32_t spa, const uint8_t tha[6],
                     uint32_t tpa);

/* Teaches s that peer_ip is at peer_mac: an ARP request from the peer for
 * us_ip, sent to us_mac. */
void test_learn_peer4(oasis_stack *s, const uint8_t us_mac[6], uint32_t us_ip,
                      const uint8_t peer_mac[6], uint32_t peer_ip);
#endif
