/* Loss recovery: what the sender does between noticing a loss and having
 * it repaired. One state per flow (oasis_recovery.state) and one place
 * that decides: tcp_recovery.c. See the top of that file for the RFC
 * clauses and the invariants.
 *
 * Callers: tcp_input.c brackets the cumulative-ACK update of every
 * acceptable ACK with oasis_recovery_ack_begin/_end; tcp_output.c asks
 * for retransmissions first (oasis_recovery_output) and then for the
 * window the send loop may fill (oasis_recovery_cwnd); tcp_timer.c reports
 * a retransmission timeout (oasis_recovery_on_rto); RACK's reorder timer
 * reports new losses (oasis_recovery_losses). */
#ifndef OASIS_TCP_RECOVERY_H
#define OASIS_TCP_RECOVERY_H

#include <stdint.h>

#include "oasis/tcp.h"
#include "tcp/tcp_wire.h"

typedef enum oasis_rec_state {
    OASIS_REC_OPEN = 0, /* nothing being repaired */
    OASIS_REC_NEWRENO,  /* RFC 6582 fast recovery (no SACK) */
    OASIS_REC_SACK,     /* RFC 6675 recovery paced by PRR (RFC 9937); SACK and RTO
                           last: tcp_output.c's idle test is state < SACK */
    OASIS_REC_RTO,      /* after a timeout, until all data sent before it is acked */
} oasis_rec_state;

typedef struct oasis_recovery {
    uint8_t state;          /* oasis_rec_state */
    uint8_t dupacks;        /* RFC 5681 duplicate ACKs in a row */
    uint8_t lt_segs;        /* RFC 3042 segments granted by the 1st and 2nd dupack */
    uint8_t rescue_set;     /* RFC 6675 RescueRxt is defined for this recovery */
    uint32_t recover;       /* RFC 6582 recover = RFC 6675 RecoveryPoint: snd_max at entry */
    uint32_t lt_start;      /* snd_max at the first dupack (limited transmit) */
    uint32_t high_rxt;      /* RFC 6675 HighRxt: end of the highest retransmission */
    uint32_t rescue_end;    /* RFC 6675 RescueRxt + 1: rule 4 waits for snd_una past it */
    /* PRR (RFC 9937): prr_out = rtx_bytes + (snd_max - max_at_entry) */
    uint32_t prr_delivered, recover_fs;
    uint32_t rtx_bytes;     /* retransmitted in this recovery */
    uint32_t max_at_entry;  /* snd_max when recovery began (its growth is new data) */
    uint32_t sndcnt;        /* PRR allowance granted by the last ACK */
    uint32_t out_at_ack;    /* prr_out when it was granted */
    /* RFC 3168 6.1.2: one reduction per window of data. ecn_cut: cwnd was
     * reduced (ECE, fast recovery or RTO) and no ACK beyond ecn_high (snd_max
     * then) has come yet: ECE is not answered again, cwnd does not grow */
    uint8_t ecn_cut;
    uint32_t ecn_high;
    /* the ACK being processed, saved by oasis_recovery_ack_begin and read
     * up to its oasis_recovery_ack_end only (the short form keeps ack_una
     * and ack_flight in its caller, and sets ack_echo* alone); ack_echo: it
     * echoes a timestamp (RFC 7323 4.1), ack_echo_ms: TS.now - TSecr then,
     * the one RTT sample both RACK and the RTO estimator take from it */
    uint32_t ack_una, ack_flight, ack_sacked;
    /* in SACK recovery, what was judged lost before it (RFC 9937 SafeACK):
     * RACK's count of lost retransmissions and the end of the lost prefix */
    uint32_t ack_rtx_lost, ack_lost_end;
    uint8_t ack_echo;
    int32_t ack_echo_ms;
} oasis_recovery;

/* RFC 9937 PRR: bytes that may be sent on this ACK (pure); safe_ack: the
 * ACK advanced snd.una and indicated no further loss (SafeACK). */
uint32_t oasis_prr_sndcnt(uint32_t prr_delivered, uint32_t prr_out, uint32_t recover_fs,
                          uint32_t ssthresh, uint32_t pipe, uint32_t delivered, int safe_ack,
                          uint32_t mss);

/* ---- hooks on the flow ---- */
/* Connection established: OPEN, nothing to repair. */
void oasis_recovery_init(oasis_flow *f);
/* Before an acceptable ACK moves snd_una: SACK scoreboard and RACK. */
void oasis_recovery_ack_begin(oasis_flow *f, const oasis_tcp_hdr *h);
/* After snd_una moved (or not): dupacks, congestion control, entering,
 * driving and leaving recovery. rtt_ns: the ACK's RTT sample (0: none). */
void oasis_recovery_ack_end(oasis_flow *f, const oasis_tcp_hdr *h, uint64_t rtt_ns);
/* Header prediction's short form of ack_begin/ack_end (tcp_input.c), for
 * an ACK of everything sent (h->ack == snd_max) while recovery is OPEN,
 * nothing is SACKed and the ACK has no SACK block and no ECE: the same
 * effects without the scoreboard and loss checks that cannot find anything.
 * now: oasis_now(), read once by the caller. */
void oasis_recovery_all_acked_begin(oasis_flow *f, const oasis_tcp_hdr *h, uint64_t now);
/* una, flight: snd_una and snd_max - snd_una before the ACK. */
void oasis_recovery_all_acked_end(oasis_flow *f, uint32_t una, uint32_t flight, uint64_t rtt_ns,
                                  uint64_t now);
/* RACK marked losses outside an ACK (its reorder timer). */
void oasis_recovery_losses(oasis_flow *f);
/* Retransmission timeout: collapse cwnd, forget RACK marks (the SACK
 * scoreboard stays: RTO recovery skips what it holds;
 * oasis_recovery_rto_resend then marks afresh). */
void oasis_recovery_on_rto(oasis_flow *f);
/* After oasis_recovery_on_rto (and the RTO's backoff), with SACK: RFC
 * 8985 6.3 marks what is lost by RACK's records and the first
 * unacknowledged segment goes again now; 1 when done so (snd_nxt stays;
 * RTO recovery resends what is marked lost, within the window, then new
 * data). 0: the records do not tell (no SACK, gaps, a smaller MSS): the
 * caller goes back to snd_una (go-back-N, RFC 2018 5 skipping SACKed
 * ranges). */
int oasis_recovery_rto_resend(oasis_flow *f);
/* Start of every output call: retransmissions the state allows. */
void oasis_recovery_output(oasis_flow *f);
/* The send loop resends from snd_nxt (below snd_max, after a timeout) and
 * the scoreboard is not empty: 1 when snd_nxt lay in a SACKed range and
 * moved past it. A resend is whole segments as Linux's, so it may still
 * overlap the start of a range that is not segment-aligned. */
int oasis_recovery_resend_skip(oasis_flow *f);
/* The window the send loop fills with new data (bytes from snd_una). */
uint32_t oasis_recovery_cwnd(const oasis_flow *f);
/* 1 in fast (NewReno or SACK) recovery. */
int oasis_recovery_fast(const oasis_flow *f);
/* 1 in fast or RTO recovery (RFC 8985 6.2 step 4). */
int oasis_recovery_any(const oasis_flow *f);

#endif
