/* SACK on the send side (RFC 6675 scoreboard, loss recovery with PRR,
 * RFC 6937) and D-SACK on the receive side (RFC 2883).
 *
 * The scoreboard is a small, fixed, sorted list of disjoint SACKed ranges
 * inside (snd_una, snd_max]. It is advisory only: send-buffer bytes are freed
 * by the cumulative ACK alone, so a receiver that reneges (stops reporting a
 * range) costs at most a retransmission timeout, never data. Lost/pipe are
 * computed per hole (the gap before a SACKed range): every byte of a hole
 * has the same SACKed bytes above it, so IsLost is constant over a hole. */
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
    uint32_t high_rxt;       /* HighRxt: highest byte retransmitted in recovery, +1 */
    uint32_t recovery_point; /* RecoveryPoint (HighData when recovery began) */
    /* PRR (RFC 6937) */
    uint32_t prr_delivered, prr_out, recover_fs;
    uint32_t rtx_bytes;      /* retransmitted in this recovery (part of prr_out) */
    uint32_t max_at_entry;   /* snd_max when recovery began (new data = growth) */
    uint32_t sndcnt;         /* PRR allowance granted by the last ACK */
    uint32_t out_at_ack;     /* prr_out when it was granted */
    uint8_t active;          /* SACK recovery in progress */
    /* D-SACK to report in the next segment we send (RFC 2883) */
    uint8_t dsack_pending;
    oasis_sack_block dsack;
    oasis_rack rack;         /* RACK-TLP state (tcp_rack.c) */
} oasis_sack_sb;

/* ---- pure scoreboard (no flow; unit-tested directly) ---- */
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
/* RFC 6675 SetPipe over [una, snd_max). */
uint32_t oasis_sb_pipe(const oasis_sack_sb *sb, uint32_t una, uint32_t snd_max, uint32_t mss);
/* RFC 6675 NextSeg rules 1 (lost hole) and, if rule3, 3 (any hole below
 * the highest SACKed byte), limited to bytes above HighRxt: sets *seq and
 * *len (<= mss) and returns 1, or 0 when there is nothing to resend. */
int oasis_sb_next_seg(const oasis_sack_sb *sb, uint32_t una, uint32_t snd_max, uint32_t mss,
                      int rule3, uint32_t *seq, uint32_t *len);
uint32_t oasis_sb_sacked_bytes(const oasis_sack_sb *sb);

/* RFC 6937 PRR-SSRB: bytes that may be sent on this ACK. */
uint32_t oasis_prr_sndcnt(uint32_t prr_delivered, uint32_t prr_out, uint32_t recover_fs,
                          uint32_t ssthresh, uint32_t pipe, uint32_t delivered, uint32_t mss);

/* ---- hooks called by tcp_input.c / tcp_output.c / tcp_timer.c ---- */
/* Scoreboard update from an ACK segment (before the cumulative ACK is
 * applied); returns newly SACKed bytes (0 without SACK). */
uint32_t oasis_sack_input(oasis_flow *f, const oasis_tcp_hdr *h);
/* After the ACK was applied (acked: bytes the cumulative ACK advanced):
 * enters, drives (PRR) or ends SACK recovery. */
void oasis_sack_ack_done(oasis_flow *f, uint32_t acked, uint32_t sacked);
/* 1 if SACK recovery owns the ACK (NewReno rules must stand aside). */
int oasis_sack_recovering(const oasis_flow *f);
/* Bytes the send loop should count in flight (pipe in recovery). */
uint32_t oasis_sack_inflight(const oasis_flow *f);
/* In recovery: retransmits holes while cwnd - pipe allows. */
void oasis_sack_output(oasis_flow *f);
void oasis_sack_on_rto(oasis_flow *f);
/* Receive side: a duplicate [left, right) arrived (D-SACK). */
void oasis_sack_note_dup(oasis_flow *f, uint32_t left, uint32_t right);
/* Receive side: [left, right) arrived again inside an out-of-order range. */
void oasis_sack_note_ofo(oasis_flow *f, uint32_t left, uint32_t right);
/* SACK blocks for an outgoing segment: a pending D-SACK first, then the
 * out-of-order ranges. */
uint32_t oasis_sack_fill(oasis_flow *f, oasis_sack_block *out, uint32_t max);

#endif
