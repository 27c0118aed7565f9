/* Packetization-layer path MTU discovery for TCP (tcp_plpmtud.c). */
#ifndef OASIS_TCP_PLPMTUD_H
#define OASIS_TCP_PLPMTUD_H

#include <stdint.h>

typedef struct oasis_flow oasis_flow;

/* Below ~600 s (RFC 8899 5.1.1 PMTU_RAISE_TIMER) a lowered flow tries a
 * full-size probe again. */
#define OASIS_PLPMTUD_RAISE_NS (600ull * 1000000000ull)
/* Fallback sizes (MSS terms, IPv4): a 1280-byte path (the IPv6 minimum,
 * what tunnels commonly leave), then RFC 1122's 576-byte datagram. An
 * IPv6 flow falls to its 1280-byte path (1220) and no lower. */
#define OASIS_PLPMTUD_MSS_1280 1240u
#define OASIS_PLPMTUD_MSS_BASE 536u
/* Timeouts in a row of one full-size head segment that mean a black hole:
 * RFC 1122 4.2.3.5's R1 (3 retransmissions: the path, not a segment, is
 * in doubt), as Linux's tcp_retries1 before it probes (tcp_mtu_probing).
 * Two in a row are ordinary at a few per cent loss each way: the head's
 * retransmission or its ACK lost twice (about 1 RTO in 10 at 5%); the
 * size fell to 1240 and then 536 bytes for the 600 s raise interval in
 * most 16 MiB downloads through `--impair loss=0.05`. */
#define OASIS_PLPMTUD_RTOS 3u

typedef struct oasis_plpmtud {
    uint16_t mss;          /* segment cap found by black-hole detection, 0: none */
    uint16_t probe_mss;    /* size of the probe in flight, 0: none */
    uint8_t sending;       /* the probe is being built (xmit may exceed mss) */
    uint8_t probe_lost;    /* the probe's bytes had to be sent again */
    uint32_t probe_seq, probe_end;
    uint64_t raise_at;     /* when a probe of a larger size may go */
} oasis_plpmtud;

/* Retransmission timeout of a flow (after the retry count went up, before
 * the retransmission): the black-hole check. */
void oasis_plpmtud_on_rto(oasis_flow *f);
/* Start of an output round: a probe, if one is due. */
void oasis_plpmtud_output(oasis_flow *f);
/* The cumulative ACK moved: the probe's fate. */
void oasis_plpmtud_acked(oasis_flow *f);
/* xmit is (re)sending [seq, seq+len) that was sent before. */
void oasis_plpmtud_resent(oasis_flow *f, uint32_t seq, uint32_t len);

#endif
