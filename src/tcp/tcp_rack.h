/* RACK-TLP (RFC 8985), the parts in place: the reordering window that
 * adapts with D-SACK (section 6.2 step 4) and the tail loss probe
 * (section 7). Time-based loss marking over per-segment transmit times is
 * not wired yet: SACK recovery marks losses by RFC 6675's IsLost. */
#ifndef OASIS_TCP_RACK_H
#define OASIS_TCP_RACK_H

#include <stdint.h>

#include "oasis/tcp.h"

#define OASIS_RACK_WCDELACK_NS (200ull * 1000 * 1000) /* WCDelAckT */
#define OASIS_RACK_PERSIST 16                        /* recoveries a widened window lasts */

typedef struct oasis_rack {
    uint64_t min_rtt_ns;     /* 0: no sample yet */
    uint32_t reo_wnd_mult;   /* reo_wnd in units of min_rtt/4 (0 read as 1) */
    uint32_t reo_wnd_persist;
    uint32_t dsack_una;      /* snd_max when the window last grew: one step per round */
    uint8_t dsack_seen;
    /* TLP */
    uint8_t pto_armed;       /* rto_at currently holds the PTO */
    uint8_t tlp_out;         /* a probe is outstanding */
    uint32_t tlp_high;       /* snd_max when it was sent */
    uint32_t probes;         /* probes sent (for tests and stats) */
} oasis_rack;

void oasis_rack_rtt_sample(oasis_rack *r, uint64_t rtt_ns);
/* RACK.reo_wnd = min(reo_wnd_mult * min_rtt / 4, srtt). */
uint64_t oasis_rack_reo_wnd(const oasis_rack *r, uint64_t srtt_ns);
/* A D-SACK arrived while snd_una was una and snd_max was max: widen the
 * window by one step, at most once per round trip (RFC 8985 6.2). */
void oasis_rack_dsack(oasis_rack *r, uint32_t una, uint32_t max);
/* A loss recovery ended: a widened window decays after 16 of them. */
void oasis_rack_recovery_done(oasis_rack *r);
/* RFC 8985 7.2: PTO = 2*SRTT (+WCDelAckT when one segment is in flight),
 * 1 s without an RTT sample, never later than the RTO deadline would be. */
uint64_t oasis_tlp_pto(uint64_t srtt_ns, int have_sample, uint32_t flight, uint32_t mss,
                       uint64_t rto_ns);

/* ---- hooks on the flow ---- */
/* After output or an ACK: (re)arms the probe timeout in place of the RTO
 * when a tail probe is allowed. */
void oasis_tlp_arm(oasis_flow *f);
/* The flow's rto_at fired: 1 if it was the PTO and a probe went out. */
int oasis_tlp_fire(oasis_flow *f);
/* New data was cumulatively acknowledged, or an RTO happened. */
void oasis_tlp_reset(oasis_flow *f);

#endif
