/* One-stack TCP test harness (smoltcp style): the stack under test sits on a
 * capturing link; the test plays the peer by injecting hand-built segments
 * and popping (parsed, checksum-verified) the segments the stack sent. The
 * link answers ARP (IPv6: Neighbour Solicitations) for the peer by itself.
 * Virtual clock. IPv4 by default; th_init_af(.., 1) plays the peer over
 * IPv6 (TH_LOCAL6 and TH_PEER6, no DAD), the same calls otherwise. */
#ifndef OASIS_TCP_HARNESS_H
#define OASIS_TCP_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "oasis/oasis.h"
#include "tcp/tcp_wire.h"

#define TH_LOCAL OASIS_IPV4(10, 0, 0, 1)  /* the stack under test */
#define TH_PEER OASIS_IPV4(10, 0, 0, 2)   /* the fake peer */
#define TH_START_NS (1000 * OASIS_NS_PER_SEC)
/* IPv6 mode's addresses (bytes of an oasis_ipaddr): 2001:db8::1/64, ::2, ::fe */
#define TH_IN6(last) {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last}
#define TH_LOCAL6 TH_IN6(1)
#define TH_PEER6 TH_IN6(2)
#define TH_ROUTER6 TH_IN6(0xfe)

typedef struct th_frame {
    uint8_t *data; /* TCP segment (IP payload) */
    size_t len;
    oasis_ipaddr src, dst;
    uint8_t tos, ttl, df;        /* its IP header's (IPv6: traffic class, hop limit, 0) */
} th_frame;

typedef struct tcp_harness {
    oasis_clock *clock;
    oasis_stack *s;
    oasis_link link;
    int ipv6;                    /* 1: the peer talks IPv6 */
    oasis_ipaddr local, peer;    /* the stack's and the peer's address, of that family */
    th_frame *q;                 /* captured TCP segments, FIFO */
    size_t qhead, qlen, qcap;
    uint8_t reply[128];          /* queued ARP or NA answer for the stack */
    size_t reply_len;            /* 0: none */
    uint8_t last[2048];          /* payload of the last popped segment */
    uint64_t other_frames;       /* non-TCP, non-ARP frames seen */
    uint8_t last_tos, last_ttl;  /* IPv4 TOS and TTL (IPv6: traffic class, hop
                                  * limit) of the last popped segment */
    uint8_t last_df;             /* and its DF bit (IPv6: 0) */
    uint64_t arp_requests;       /* ARP requests (NSs) the stack sent for the peer */
    uint64_t arp_unicast;        /* of which unicast (to the peer's MAC: a re-check) */
    int arp_mute;                /* 1: the peer stops answering them */
} tcp_harness;

/* tcfg NULL: stack defaults. */
void th_init(tcp_harness *h, const oasis_tcp_config *tcfg);
/* ipv6 1: the stack has TH_LOCAL6/64 (and IPv6's link-local address), the
 * peer is TH_PEER6; 0: th_init. */
void th_init_af(tcp_harness *h, const oasis_tcp_config *tcfg, int ipv6);
/* th_init_af as packetdrill's runners start a script: IPv6 on a 1520-byte
 * link (--mtu=1520), so that the scripts' MSS 1460 holds in both families. */
void th_init_run(tcp_harness *h, const oasis_tcp_config *tcfg, int ipv6);
void th_fini(tcp_harness *h);

/* A peer segment skeleton: ports, flags, seq/ack, window 65535, no options. */
oasis_tcp_hdr th_seg(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack);
/* Sends seg (options and payload/payload_len as set) from the peer. */
void th_inject(tcp_harness *h, const oasis_tcp_hdr *seg);
/* The pseudo-header sum of a len-byte segment between the peer and us. */
uint64_t th_pseudo(const tcp_harness *h, size_t len);
/* The same between src and dst (of the harness's family). */
uint64_t th_pseudo_addr(const tcp_harness *h, const oasis_ipaddr *src, const oasis_ipaddr *dst,
                        size_t len);
/* Sends the n-byte segment seg (checksum made) from the peer, in an IP
 * packet whose ECN field is ecn: IPv4 into TCP's input, IPv6 as a frame. */
void th_send(tcp_harness *h, const uint8_t *seg, size_t n, uint8_t ecn);
/* th_send from src to dst (IPv6: to a multicast dst, in a frame to its
 * group's MAC). */
void th_send_addr(tcp_harness *h, const oasis_ipaddr *src, const oasis_ipaddr *dst,
                  const uint8_t *seg, size_t n, uint8_t ecn);

/* Pops the oldest captured segment into out (payload valid until the next
 * pop). Returns 1, or 0 if none. Fails the test on a bad checksum. */
int th_pop(tcp_harness *h, oasis_tcp_hdr *out);
size_t th_pending(const tcp_harness *h);
void th_clear(tcp_harness *h);

/* Runs due timers (delivers any ARP answer first). */
void th_poll(tcp_harness *h);
/* Moves the clock to `t`, firing every timer at its own deadline on the way. */
void th_run_until(tcp_harness *h, uint64_t t);
void th_advance(tcp_harness *h, uint64_t delta_ns);
uint64_t th_now(const tcp_harness *h);

const oasis_tcp_counters *th_ctr(const tcp_harness *h);

/* ---- an application that records what its callbacks saw ---- */
typedef struct th_app {
    oasis_flow *flow;
    int accepted, connected, connect_err;
    uint8_t *rx;                 /* bytes read, in order */
    size_t rx_len, rx_cap;
    int reads, eof, read_err, auto_read;
    int writes_done, write_err;
    int closed, close_err;
} th_app;

void th_app_init(th_app *a);
void th_app_fini(th_app *a);
void th_accept_cb(oasis_stack *s, oasis_flow *flow, void *ud);
void th_connect_cb(oasis_stack *s, oasis_flow *flow, int err, void *ud);
/* Appends data; reads again while auto_read is set and the stream goes on. */
void th_read_cb(oasis_flow *flow, int err, const uint8_t *data, size_t len, void *ud);
void th_write_cb(oasis_flow *flow, int err, void *ud);
void th_close_cb(oasis_flow *flow, int err, void *ud);

#define TH_PPORT 40000 /* the peer's port */
#define TH_PISN 1000u  /* the peer's ISN */

/* Listens on port and completes a handshake from the peer (no options
 * unless syn is given: its options are used). Returns our ISS; the app has
 * the accepted flow. */
uint32_t th_open_passive(tcp_harness *h, th_app *a, uint16_t port, const oasis_tcp_hdr *syn);
/* Connects to the peer's port and completes the handshake as the peer
 * (no options). Returns our ISS; *lport gets our port. */
uint32_t th_open_active(tcp_harness *h, th_app *a, uint16_t port, uint16_t *lport);

/* A router's ICMP error (type, code, rest: the 4 bytes after the checksum)
 * quoting the IPv4 header of a datagram that carried seg (seg_len bytes
 * of TCP) from us to the peer, and the segment's first 8 bytes. IPv6: an
 * ICMPv6 error (type and code ICMPv6's) from TH_ROUTER6, the quote's
 * header an IPv6 one. */
#define TH_ROUTER OASIS_IPV4(10, 0, 0, 254)
void th_icmp(tcp_harness *h, uint8_t type, uint8_t code, uint32_t rest, const oasis_tcp_hdr *seg,
             size_t seg_len);

/* th_init with the stack's allocator set (e.g. a counting one). */
void th_init_alloc(tcp_harness *h, const oasis_tcp_config *tcfg, oasis_alloc_fn alloc, void *ud);

/* An ICMPv6 message (n bytes at msg, its checksum left to this) from src
 * at mac to dst, hop limit 255: what ND messages need. */
struct oasis_in6;
void th_icmp6_from(tcp_harness *h, const uint8_t *mac, const struct oasis_in6 *src,
                   const struct oasis_in6 *dst, const uint8_t *msg, size_t n);

#endif
