/* RACK-TLP (RFC 8985): the reordering window (section 6.2 step 4: zero
 * while no reordering was seen and either fast/RTO recovery is on or
 * DupThresh segments are SACKed; else min_RTT/4 times a multiplier that
 * D-SACKs grow), reordering detection (step 3), time-based loss marking
 * over per-segment transmit times (steps 1-5, the reorder timer of 7.2;
 * tcp_rack_segs.c) and the tail loss probe (section 7). RACK's losses feed
 * the SACK scoreboard (oasis_sb_is_lost), so recovery starts without
 * waiting for 3 dupacks. */
#ifndef OASIS_TCP_RACK_H
#define OASIS_TCP_RACK_H

#include <stdint.h>

#include "oasis/clock.h"
#include "oasis/tcp.h"
#include "tcp/tcp_wire.h"

#define OASIS_RACK_WCDELACK_NS (200ull * 1000 * 1000) /* WCDelAckT */
#define OASIS_RACK_PERSIST 16                        /* recoveries a widened window lasts */

#define OASIS_RACK_SEGS_MAX 4096 /* sent-segment records per flow (a 4 MiB flight of 1448-byte
                                 * segments: 2,897); beyond, the newest grows */
#define OASIS_RACK_SEGS_MIN 64
#define OASIS_RACK_DUPTHRESH 3   /* RFC 8985 DupThresh (= RFC 6675's) */
/* Floor of the reordering window in loss marking: ACK timing jitters by
 * about a clock tick (timestamps are in ms), so a window of 0 would call
 * a mere same-instant reordering a loss. */
#define OASIS_RACK_MIN_REO_NS (1000ull * 1000)

enum { OASIS_RACK_RETRANS = 1, OASIS_RACK_SACKED = 2, OASIS_RACK_LOST = 4 };

/* One transmission of [seq, end): the ring is kept in sequence order (new
 * data is appended at the top; a retransmission updates its records).
 * order: the flow's transmission count when it went (oasis_rack.tx_order),
 * which orders segments sent at the same clock reading as they went: a
 * retransmission and the new data sent right after it in one output call
 * share a time, and RFC 8985's tie rule (by sequence) would put the
 * retransmission first whichever went first. */
typedef struct oasis_rack_seg {
    uint64_t xmit_ns;
    uint32_t seq, end;
    uint32_t order;
    uint8_t flags;
} oasis_rack_seg;

typedef struct oasis_rack {
    uint64_t min_rtt_ns;     /* 0: no sample yet */
    uint32_t reo_wnd_mult;   /* reo_wnd in units of min_rtt/4 (0 read as 1) */
    uint32_t reo_wnd_persist;
    uint32_t dsack_una;      /* snd_max when the window last grew: one step per round */
    uint8_t dsack_seen;
    /* TLP */
    uint8_t tlp_out;         /* a probe is outstanding */
    uint8_t tlp_episode;     /* RFC 8985 7.4: 0 none, else OASIS_TLP_NEW / _RETRANS */
    uint32_t tlp_end;        /* TLP.end_seq: snd_max when the episode's probe went */
    uint32_t probes;         /* probes sent (for tests and stats) */
    /* time-based loss detection (tcp_rack_segs.c) */
    oasis_rack_seg *segs;    /* ring, power-of-two cap; NULL while nothing is in flight */
    uint32_t head, n, cap;
    uint32_t merged;         /* segments folded into the newest record (ring full) */
    uint32_t segs_sacked;    /* records SACKed (RACK.segs_sacked) */
    uint32_t fack;           /* RACK.fack: highest end delivered (step 3) */
    uint8_t have_fack;
    uint8_t reordering_seen; /* RACK.reordering_seen */
    uint8_t have_xmit;       /* xmit_ns/end_seq hold a delivered segment */
    uint8_t lost_valid;      /* lost_below is meaningful */
    uint64_t xmit_ns;        /* RACK.xmit_ts of the most recently sent delivered segment */
    uint32_t end_seq;        /* RACK.end_seq */
    uint32_t xmit_order;     /* its transmission's order (oasis_rack_seg.order) */
    uint32_t tx_order;       /* transmissions so far (the next one's order - 1) */
    uint64_t rtt_ns;         /* RACK.rtt */
    uint64_t ack_rtt_ns;     /* this ACK's RTT: the newest original segment it delivered
                              * (0: none), for congestion control (tcp_recovery.c) */
    uint32_t lost_below;     /* every unSACKed byte below is deemed lost */
    uint32_t marked;         /* segments RACK marked lost (tests and stats) */
    uint32_t marked_rtx;     /* of which retransmissions (a lost retransmission) */
} oasis_rack;

static inline void oasis_rack_rtt_sample(oasis_rack *r, uint64_t rtt_ns)
{
    if (rtt_ns && (r->min_rtt_ns == 0 || rtt_ns < r->min_rtt_ns))
        r->min_rtt_ns = rtt_ns;
}
/* min(reo_wnd_mult * min_rtt / 4, srtt): RACK.reo_wnd once reordering was
 * seen or outside recovery with fewer than DupThresh segments SACKed. */
uint64_t oasis_rack_reo_wnd(const oasis_rack *r, uint64_t srtt_ns);
/* RFC 8985 6.2 step 4 in full: 0 when !reordering_seen and (in_recovery
 * or segs_sacked >= DupThresh), else the above. */
uint64_t oasis_rack_reo_wnd_now(const oasis_rack *r, uint64_t srtt_ns, int in_recovery);
/* A D-SACK arrived while snd_una was una and snd_max was max: widen the
 * window by one step, at most once per round trip (RFC 8985 6.2). */
void oasis_rack_dsack(oasis_rack *r, uint32_t una, uint32_t max);
/* A loss recovery ended: a widened window decays after 16 of them. */
void oasis_rack_recovery_done(oasis_rack *r);
/* RFC 8985 7.2: PTO = 2*SRTT (+WCDelAckT when one segment is in flight),
 * 1 s without an RTT sample, never later than the RTO deadline would be. */
static inline uint64_t oasis_tlp_pto(uint64_t srtt_ns, int have_sample, uint32_t flight,
                                     uint32_t mss, uint64_t rto_ns)
{
    uint64_t pto = OASIS_NS_PER_SEC;
    if (have_sample) {
        pto = 2 * srtt_ns;
        if (flight <= mss)
            pto += OASIS_RACK_WCDELACK_NS; /* a lone segment may wait for a delayed ACK */
        else
            pto += OASIS_NS_PER_MS;        /* timer granularity */
    }
    return pto < rto_ns ? pto : rto_ns;
}

/* ---- hooks on the flow ---- */
/* The PTO (f->ext->tm.tlp, armed by tcp_timer.c) expired: sends the probe
 * (RFC 8985 7.3: new data if the window allows, else the last segment
 * again); 1 if one went out. The caller arms the RTO after it. */
int oasis_tlp_send_probe(oasis_flow *f);
/* New data was cumulatively acknowledged, or an RTO happened. */
void oasis_tlp_reset(oasis_flow *f);
/* TLP.is_retrans as tlp_episode holds it (0: no episode). */
enum { OASIS_TLP_NEW = 1, OASIS_TLP_RETRANS = 2 };
/* Pure: RFC 8985 7.4.2 TLP_process_ack for an acceptable ACK. dsack_end:
 * it carries a D-SACK block ending at TLP.end_seq (the probe arrived as a
 * duplicate: the original was not lost); bare_dup: a duplicate ACK with no
 * SACK block. Ends the episode as the RFC says; 1 when the probe resent
 * data and repaired a loss (an ACK beyond TLP.end_seq with no such sign),
 * which the caller MUST treat as a loss for congestion control. The
 * episode also ends at fast recovery and at RTO (7.1: tcp_recovery.c). */
int oasis_tlp_episode_ack(oasis_rack *r, uint32_t ack, int dsack_end, int bare_dup);

/* ---- time-based loss marking (tcp_rack_segs.c) ---- */
/* Pure, on the records: RFC 8985 RACK_detect_loss. Marks lost every
 * unSACKed segment sent before RACK.xmit_ts whose RACK.rtt + reo_wnd
 * elapsed; returns how many, *wait the longest time still to go (0: none). */
uint32_t oasis_rack_detect(oasis_rack *r, uint64_t now, uint64_t reo_wnd, uint64_t *wait);
/* The lowest retransmission RACK has judged lost since it went out (a
 * record both retransmitted and lost, not SACKed, ending above una, sent
 * before RACK.xmit_ts, not at the same instant), with the records right
 * after it that are the same while they fit whole in mss bytes: in *seq
 * and *len, from una on, at most mss. 1, or 0 when there is none. RFC
 * 6675's NextSeg looks above HighRxt only, so without this a lost
 * retransmission waited for the RTO (RFC 8985 2.2: RACK detects lost
 * retransmissions). */
int oasis_rack_lost_rtx(const oasis_rack *r, uint32_t una, uint32_t mss, uint32_t *seq,
                        uint32_t *len);
/* The same with any=1: the lowest record judged lost since it last went,
 * a retransmission or not (RTO recovery, after oasis_rack_mark_on_rto);
 * any=0 is oasis_rack_lost_rtx. */
int oasis_rack_lost_seg(const oasis_rack *r, uint32_t una, uint32_t mss, int any, uint32_t *seq,
                        uint32_t *len);
/* Bytes of the records oasis_rack_lost_seg(any) would resend in [una,
 * below); sacked (may be NULL): the bytes of the SACKed records there.
 * The records remember every SACKed segment; the scoreboard keeps
 * OASIS_SACK_SB_MAX ranges and forgets the highest beyond them. */
uint32_t oasis_rack_lost_bytes(const oasis_rack *r, uint32_t una, uint32_t below, int any,
                               uint32_t *sacked);
/* SACKed bytes of the records inside [l, e). */
uint32_t oasis_rack_sacked_in(const oasis_rack *r, uint32_t l, uint32_t e);
/* The first run of bytes inside [l, e) that no SACKed record covers:
 * 1 with [*s, *end), or 0 (all of it SACKed). Bytes no record holds count
 * as unSACKed. */
int oasis_rack_unsacked_run(const oasis_rack *r, uint32_t l, uint32_t e, uint32_t *s, uint32_t *end);
/* The receiver reneged (tcp_sack.c): no record counts as SACKed any more. */
void oasis_rack_reneged(oasis_rack *r);
/* xmit() sent len data bytes from seq (new or again). */
void oasis_rack_sent(oasis_flow *f, uint32_t seq, uint32_t len);
/* The same for new data in one piece: seq was snd_max (the caller may
 * have moved snd_max past it already), len > 0, SACK on; now: the time
 * the caller read for the segment. */
void oasis_rack_sent_new(oasis_flow *f, uint32_t seq, uint32_t len, uint64_t now);
/* An ACK with cumulative point una (after it) and h's SACK blocks arrived:
 * takes its RTT sample for min_RTT, updates RACK.xmit_ts/rtt, marks
 * losses, (re)arms the reorder timer. */
void oasis_rack_ack(oasis_flow *f, const oasis_tcp_hdr *h, uint32_t una);
/* The same for una == snd_max and no SACK blocks while the scoreboard is
 * empty (everything acknowledged: header prediction's case, the SACK
 * scoreboard has nothing to add or advance): the records go, nothing is
 * judged lost. now: oasis_now(). */
void oasis_rack_ack_all(oasis_flow *f, uint64_t now);
/* The reorder timer (f->ext->tm.reorder) fired. */
void oasis_rack_timeout(oasis_flow *f);
void oasis_rack_on_rto(oasis_rack *r);
/* RFC 8985 6.3, after oasis_rack_on_rto: marks lost the record at una
 * and every other not SACKed sent at least RACK.rtt + reo_wnd before now.
 * 1 when done; 0 (nothing marked) unless the records cover [una, end)
 * without a gap, each at most mss bytes: then the caller goes back to
 * snd_una instead. */
int oasis_rack_mark_on_rto(oasis_rack *r, uint32_t una, uint32_t end, uint32_t mss, uint64_t now,
                           uint64_t reo_wnd);
/* The same on the flow: una = snd_una, now, RACK.reo_wnd as an ACK
 * would compute it now. */
int oasis_rack_mark_on_rto_flow(oasis_flow *f, uint32_t end, uint32_t mss);
/* 1 when a record of at least len bytes is SACKed: a segment that size
 * (or a super-segment of them) crossed the path whole (tcp_plpmtud.c). */
int oasis_rack_sacked_len(const oasis_rack *r, uint32_t len);
void oasis_rack_segs_free(oasis_flow *f);

#endif
