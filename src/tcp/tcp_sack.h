/* SACK on the send side (the RFC 6675 scoreboard: IsLost, SetPipe,
 * NextSeg) and D-SACK on the receive side (RFC 2883). What recovery does
 * with the scoreboard is decided in tcp_recovery.c.
 *
 * The scoreboard is a small, fixed, sorted list of disjoint SACKed ranges
 * inside (snd_una, snd_max]. It is advisory only: send-buffer bytes are freed
 * by the cumulative ACK alone (RFC 2018 8), so a receiver that reneges
 * (stops reporting a range) costs at most a retransmission timeout, never
 * data. A cumulative ACK that stops at or inside a SACKed range shows the
 * reneging: the scoreboard is dropped then, and kept across timeouts. Lost/pipe are
 * computed per hole (the gap before a SACKed range, or above the last one):
 * every byte of a hole has the same SACKed bytes above it, so RFC 6675's
 * IsLost is constant over a hole; RACK (RFC 8985) adds a lost prefix
 * (every unSACKed byte below rack.lost_below), which may end inside one.
 * Past OASIS_SACK_SB_MAX ranges the highest is forgotten; RACK's records
 * remember every SACKed segment, and the holes from the first forgotten
 * range up (sb.forgot_from) are read through them: NextSeg and the rescue
 * skip SACKed records, SetPipe and DeliveredData count them (a record
 * folded with others when its ring was full is SACKed only whole). */
#ifndef OASIS_TCP_SACK_H
#define OASIS_TCP_SACK_H

#include <stdint.h>

#include "oasis/tcp.h"
#include "tcp/tcp_rack.h"
#include "tcp/tcp_wire.h"

#define OASIS_SACK_SB_MAX 16  /* ranges kept; beyond, the highest is forgotten */
#define OASIS_SACK_DUPTHRESH 3

typedef struct oasis_sack_sb {
    oasis_sack_block r[OASIS_SACK_SB_MAX]; /* sorted, disjoint, non-adjacent */
    uint32_t n;
    /* A range was dropped for want of room (the highest): from forgot_from
     * on lies SACKed data the list may not hold (a range the peer reports
     * again may come back above it); RACK's records hold it, and the holes
     * there are read through them (tcp_sack.c). Until the cumulative ACK
     * reaches forgot_to (snd_max when the last range was dropped) or the
     * list is cleared. */
    uint8_t forgot;
    uint32_t forgot_from, forgot_to; /* [from, to): where forgotten ranges lie */
    /* D-SACK to report in the next segment we send (RFC 2883) */
    uint8_t dsack_pending;
    oasis_sack_block dsack;
    oasis_rack rack;         /* RACK-TLP state (tcp_rack.c) */
} oasis_sack_sb;

/* ---- pure scoreboard (no flow; unit-tested directly) ---- */
/* RFC 2883 4: the first of an ACK's nb SACK blocks reports a duplicate
 * (D-SACK) when it lies at or below the cumulative ACK una, or inside the
 * second block. The one test every D-SACK reader uses. */
int oasis_sack_is_dsack(const oasis_sack_block *b, uint32_t nb, uint32_t una);
void oasis_sb_clear(oasis_sack_sb *sb);
/* Records the blocks of an ACK whose cumulative point is una (snd_una after
 * the ACK); blocks outside (una, snd_max], empty ones and a D-SACK first
 * block are ignored. Returns the bytes newly SACKed. */
uint32_t oasis_sb_update(oasis_sack_sb *sb, uint32_t una, uint32_t snd_max,
                         const oasis_sack_block *b, uint32_t nb);
/* The cumulative ACK moved to una: forgets what lies below. */
void oasis_sb_advance(oasis_sack_sb *sb, uint32_t una);
int oasis_sb_is_sacked(const oasis_sack_sb *sb, uint32_t seq);
/* RFC 6675 IsLost: DupThresh SACKed ranges, or more than
 * (DupThresh-1)*mss SACKed bytes, above seq. */
int oasis_sb_is_lost(const oasis_sack_sb *sb, uint32_t seq, uint32_t mss);
/* RFC 6675 SetPipe over [una, snd_max): unSACKed bytes not deemed lost,
 * plus those retransmitted (below high_rxt) once more. */
uint32_t oasis_sb_pipe(const oasis_sack_sb *sb, uint32_t una, uint32_t snd_max, uint32_t high_rxt,
                       uint32_t mss);
/* RFC 6675 NextSeg rule 1 (the first lost byte above high_rxt; with RACK
 * that may lie above the highest SACK block too) and, if rule3, rule 3
 * (the first unSACKed byte above high_rxt below the highest SACKed byte):
 * sets *seq and *len (<= mss, within the hole) and returns 1, or 0. */
int oasis_sb_next_seg(const oasis_sack_sb *sb, uint32_t una, uint32_t snd_max, uint32_t high_rxt,
                      uint32_t mss, int rule3, uint32_t *seq, uint32_t *len);
/* RFC 6675 NextSeg rule 4 (rescue): the segment of up to mss bytes that
 * ends at the highest unSACKed byte below data_end; 0 if all is SACKed. */
int oasis_sb_rescue(const oasis_sack_sb *sb, uint32_t una, uint32_t data_end, uint32_t mss,
                    uint32_t *seq, uint32_t *len);
uint32_t oasis_sb_sacked_bytes(const oasis_sack_sb *sb);
/* The SACKed bytes in [una, snd_max): the list's, or RACK's records'
 * where the list forgot ranges (RFC 9937 DeliveredData counts them as
 * they are SACKed, not when the cumulative ACK covers them later). */
uint32_t oasis_sb_sacked_all(const oasis_sack_sb *sb, uint32_t una, uint32_t snd_max);
/* SACKed bytes inside [l, r). */
uint32_t oasis_sb_sacked_in(const oasis_sack_sb *sb, uint32_t l, uint32_t r);
/* For a resend from seq: the end of the SACKed range seq lies in (the
 * resend skips to it, RFC 2018 5), else seq itself. */
uint32_t oasis_sb_resend_from(const oasis_sack_sb *sb, uint32_t seq);
/* End of what IsLost deems lost by SACKs alone (DupThresh, not RACK):
 * every unSACKed byte in [una, end) is lost; una if none. */
uint32_t oasis_sb_dupthresh_end(const oasis_sack_sb *sb, uint32_t una, uint32_t mss);

/* ---- hooks on the flow ---- */
/* Scoreboard and RACK update from an ACK segment (before the cumulative
 * ACK is applied; no-op without SACK). */
void oasis_sack_input(oasis_flow *f, const oasis_tcp_hdr *h);
/* Timeout: RACK's loss marks go; the scoreboard stays (RFC 6675 5.1,
 * reneging is caught per ACK instead: see tcp_sack.c). */
void oasis_sack_on_rto(oasis_flow *f);
/* Receive side: a duplicate [left, right) arrived (D-SACK). */
void oasis_sack_note_dup(oasis_flow *f, uint32_t left, uint32_t right);
/* Receive side: [left, right) arrived out of order; what it repeats of the
 * first held range it overlaps is a duplicate (D-SACK). */
void oasis_sack_note_ofo(oasis_flow *f, uint32_t left, uint32_t right);
/* SACK blocks for an outgoing segment: a pending D-SACK first, then the
 * out-of-order ranges. */
uint32_t oasis_sack_fill(oasis_flow *f, oasis_sack_block *out, uint32_t max);

#endif
