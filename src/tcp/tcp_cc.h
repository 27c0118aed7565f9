/* Congestion control behind a small interface, so algorithms (NewReno,
 * CUBIC) plug in without touching the state machine. All sizes are bytes.
 * cwnd and ssthresh live in oasis_cc_state and only the hooks below change
 * them; algorithms keep private state in `priv`.
 *
 * What stays with the loss-recovery module (tcp_recovery.c): counting
 * duplicate ACKs, deciding when recovery starts and ends, the
 * retransmissions, PRR's sending budget during SACK recovery, and calling
 * each hook only in the state it documents. */
#ifndef OASIS_TCP_CC_H
#define OASIS_TCP_CC_H

#include <stdint.h>

#include "oasis/tcp.h"

typedef struct oasis_cc_state {
    uint32_t cwnd;
    uint32_t ssthresh;       /* UINT32_MAX until the first loss */
    uint32_t mss;            /* sender MSS (SMSS) */
    uint32_t bytes_acked;    /* ABC accumulator for congestion avoidance */
    uint64_t priv[8];        /* algorithm-private */
} oasis_cc_state;

typedef struct oasis_cc_ops {
    const char *name;
    /* Connection established: zeroes the state, sets mss (536 if 0), the
     * initial window (RFC 6928: min(10*MSS, max(2*MSS, 14600))) and
     * ssthresh = UINT32_MAX. If the MSS changes later, set cc->mss. */
    void (*init)(oasis_cc_state *cc, uint32_t mss, uint64_t now_ns);
    /* New data acknowledged outside fast recovery: `acked` bytes, `flight`
     * bytes in flight before this ACK (snd_max - snd_una before the
     * update); rtt_ns 0 if no sample. Any ACK of new data also ends an RTO
     * streak. NewReno grows cwnd only when the flow was using it: flight >=
     * cwnd/2 in slow start, flight + MSS > cwnd in congestion avoidance
     * (an application-limited flow keeps its window; CUBIC's curve time
     * stands still then too, RFC 9438 5.8). */
    void (*on_ack)(oasis_cc_state *cc, uint32_t acked, uint32_t flight, uint64_t rtt_ns,
                   uint64_t now_ns);
    /* Fast recovery begins: ssthresh from `flight` (RFC 5681 eq. 4) for
     * NewReno, beta times cwnd for CUBIC (RFC 9438 4.6). sack 0 (RFC
     * 6582): cwnd = ssthresh + 3*MSS; sack 1 (RFC 6675 step 4.2): cwnd =
     * ssthresh, PRR paces the sending. */
    void (*on_enter_recovery)(oasis_cc_state *cc, uint32_t flight, int sack, uint64_t now_ns);
    /* ACK of new data during fast recovery. full: it covers the recovery
     * point, recovery ends: sack 1: cwnd = ssthresh (RFC 6675, RFC 9937);
     * sack 0: cwnd = min(ssthresh, max(flight, MSS) + MSS) (RFC 6582 3.2
     * step 3 option 1), `flight` being what is still in flight AFTER this
     * ACK. Otherwise a partial ACK of `acked` bytes: sack 0 deflates (cwnd
     * -= acked, += MSS if acked >= MSS, never below MSS); sack 1 leaves
     * cwnd alone. */
    void (*on_recovery_ack)(oasis_cc_state *cc, uint32_t acked, int full, int sack,
                            uint32_t flight, uint64_t now_ns);
    /* Further duplicate ACK during NewReno fast recovery (window inflation:
     * cwnd += MSS). */
    void (*on_dupack)(oasis_cc_state *cc);
    /* Retransmission timeout: ssthresh = max(flight/2, 2*MSS) (kept as it is
     * on a repeated timeout with no new data acked in between, RFC 5681
     * section 3.1), cwnd = 1 MSS. in_recovery: it interrupted a fast
     * recovery (the same congestion episode). */
    void (*on_rto)(oasis_cc_state *cc, uint32_t flight, int in_recovery, uint64_t now_ns);
    /* ECN-Echo (RFC 3168 6.1.2), outside recovery, at most once per window
     * of data: the congestion event a loss would be (ssthresh as
     * on_enter_recovery sets it, `flight` being the bytes in flight before
     * the ACK; CUBIC's W_max and epoch too, RFC 9438 4.6) and cwnd =
     * ssthresh, but never raised by it: a window already at or below that
     * is halved instead, down to one MSS. */
    void (*on_ecn)(oasis_cc_state *cc, uint32_t flight, uint64_t now_ns);
    /* Idle restart (RFC 5681 4.1), optional (may be NULL): called once
     * per idle period, before data goes out with nothing unacknowledged,
     * idle_ns (> 0, whole ms) since the last data sent; if idle_ns >
     * rto_ns, cwnd = min(cwnd, initial window). */
    void (*on_idle)(oasis_cc_state *cc, uint64_t idle_ns, uint64_t rto_ns, uint64_t now_ns);
    /* Optional (NULL: never): nonzero while the private state holds what
     * init would lose (CUBIC: a congestion event's windows still ahead).
     * An idle flow keeps only cwnd and ssthresh, so one whose controller
     * remembers keeps its extension until an RTO after its last send;
     * from then on_idle must forget the same history, so that a flow
     * looks the same whether or not it gave its extension back. */
    int (*remembers)(const oasis_cc_state *cc);
} oasis_cc_ops;

extern const oasis_cc_ops oasis_cc_newreno;
/* NewReno's on_ack, for a direct call on the per-ACK path (the default
 * controller: LTO inlines it there). */
void oasis_cc_newreno_on_ack(oasis_cc_state *cc, uint32_t acked, uint32_t flight, uint64_t rtt_ns,
                             uint64_t now_ns);

/* The ops for an algorithm (NULL if not built). */
const oasis_cc_ops *oasis_cc_get(oasis_cc_algo algo);

#endif
