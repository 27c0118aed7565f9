/* The packetdrill ports' fixture (tests/test_tcp_pd_c.c, _pd_d.c): one
 * stack on the TCP harness, one application, and the script notation's
 * helpers. Sequence numbers in the scripts are relative: pd_os() is ours
 * (from our ISS), pd_ps() the peer's (from TH_PISN). */
#ifndef OASIS_PD_FIXTURE_H
#define OASIS_PD_FIXTURE_H

#include "tcp_harness.h"

typedef struct pd_fx {
    tcp_harness h;
    th_app a;
    uint32_t iss;          /* our ISS */
    uint16_t lport, rport; /* our port, the peer's */
} pd_fx;

/* Zeroes x and starts the harness with tcfg (a stack config's tcp part). */
void pd_fx_init(pd_fx *x, const oasis_tcp_config *tcfg);
/* The same, the peer talking IPv6 when ipv6 is 1 (th_init_af). */
void pd_fx_init_af(pd_fx *x, const oasis_tcp_config *tcfg, int ipv6);
/* The same with th_init_run: IPv6 on a 1520-byte link, as packetdrill's
 * runners have it. */
void pd_fx_init_run(pd_fx *x, const oasis_tcp_config *tcfg, int ipv6);
void pd_fx_fini(pd_fx *x);
/* "connect(..., peer:port)": an active open to the peer, of its family. */
void pd_connect_to(pd_fx *x, uint16_t port);
uint32_t pd_os(const pd_fx *x, uint32_t n);
uint32_t pd_ps(uint32_t n);
/* Advances the virtual clock by ms (running what falls due). */
void pd_adv(pd_fx *x, uint64_t ms);
/* The flow's oasis_tcp_info (asserted to succeed). */
oasis_tcp_info pd_info(const pd_fx *x);
/* Polls and asserts that the stack sent nothing. */
void pd_none(pd_fx *x);
/* AccECN's AE bit (the old NS, the low bit of the header's byte 12), above
 * the 8 flag bits Oasis knows: reserved to it (RFC 9293 3.1). */
#define PD_AE 0x100u
/* Sends seg from the peer with `flags` (PD_AE included: set in byte 12,
 * the checksum made good again) in an IP packet whose ECN field is
 * ip_ecn. */
void pd_inject(pd_fx *x, oasis_tcp_hdr seg, unsigned flags, uint8_t ip_ecn);
/* Steps the clock 1 ms at a time, up to ms, until a segment goes out;
 * returns the ms waited (the segment in *r). Fails the test if none. */
uint64_t pd_wait_seg(pd_fx *x, uint64_t ms, oasis_tcp_hdr *r);
/* h with the peer's SYN options: mss 0 and wscale -1 leave them out. */
oasis_tcp_hdr pd_syn_opts(oasis_tcp_hdr h, uint16_t mss, int sack, int wscale);

#endif
