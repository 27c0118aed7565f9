/* Congestion control behind a small interface, so algorithms (NewReno now,
 * CUBIC later) plug in without touching the state machine. All sizes are
 * bytes. The state machine owns cwnd and ssthresh in oasis_cc_state and calls
 * the hooks at the events below; algorithms keep private state in `priv`.
 *
 * What stays with the state machine: counting duplicate ACKs, deciding
 * whether a third dupack may start recovery (RFC 6582 3.2 step 2: only if
 * the cumulative ACK is above `recover`; set recover = ISS after init and
 * recover = snd_nxt after an RTO), the retransmissions themselves, and
 * feeding on_ack only outside recovery. */
#ifndef OASIS_TCP_CC_H
#define OASIS_TCP_CC_H

#include <stdint.h>

#include "oasis/tcp.h"

typedef struct oasis_cc_state {
    uint32_t cwnd;
    uint32_t ssthresh;       /* UINT32_MAX until the first loss */
    uint32_t mss;            /* sender MSS (SMSS) */
    uint32_t bytes_acked;    /* ABC accumulator for congestion avoidance */
    int in_recovery;         /* fast recovery in progress */
    uint32_t recover;        /* NewReno: highest seq sent when recovery began */
    uint64_t priv[8];        /* algorithm-private */
} oasis_cc_state;

typedef struct oasis_cc_ops {
    const char *name;
    /* Connection established: zeroes the state, sets mss (536 if 0), the
     * initial window (RFC 6928: min(10*MSS, max(2*MSS, 14600))) and
     * ssthresh = UINT32_MAX. If the MSS changes later, set cc->mss. */
    void (*init)(oasis_cc_state *cc, uint32_t mss, uint64_t now_ns);
    /* New data acknowledged (outside recovery; ignored in recovery): `acked`
     * bytes, `flight` bytes in flight before this ACK (snd_nxt - snd_una
     * before the update); rtt_ns 0 if no sample. Any ACK of new data also
     * ends an RTO streak. NewReno grows cwnd only when the flow was using
     * it: flight >= cwnd/2 in slow start, flight + MSS > cwnd in congestion
     * avoidance (an application-limited flow keeps its window). */
    void (*on_ack)(oasis_cc_state *cc, uint32_t acked, uint32_t flight, uint64_t rtt_ns,
                   uint64_t now_ns);
    /* Third duplicate ACK: enter fast recovery. ssthresh = max(flight/2,
     * 2*MSS), cwnd = ssthresh + 3*MSS, recover = snd_nxt (the current
     * snd.nxt). */
    void (*on_enter_recovery)(oasis_cc_state *cc, uint32_t flight, uint32_t snd_nxt,
                              uint64_t now_ns);
    /* ACK during recovery. full: the ACK covers `recover`: exit recovery with
     * cwnd = min(ssthresh, max(flight, MSS) + MSS), `flight` being what is
     * still in flight AFTER this ACK. Otherwise a partial ACK of `acked`
     * bytes (RFC 6582 deflation: cwnd -= acked, += MSS if acked >= MSS,
     * never below MSS); the caller retransmits the next hole. */
    void (*on_recovery_ack)(oasis_cc_state *cc, uint32_t acked, int full, uint32_t flight,
                            uint64_t now_ns);
    /* Further duplicate ACK during recovery (window inflation: cwnd += MSS;
     * ignored outside recovery). */
    void (*on_dupack)(oasis_cc_state *cc);
    /* Retransmission timeout: ssthresh = max(flight/2, 2*MSS) (kept as it is
     * on a repeated timeout with no new data acked in between, RFC 5681
     * section 3.1), cwnd = 1 MSS, recovery abandoned. */
    void (*on_rto)(oasis_cc_state *cc, uint32_t flight, uint64_t now_ns);
    /* Idle restart (RFC 5681 4.1), optional (may be NULL): call before
     * sending after idle_ns without sending; if idle_ns > rto_ns, cwnd =
     * min(cwnd, initial window). */
    void (*on_idle)(oasis_cc_state *cc, uint64_t idle_ns, uint64_t rto_ns);
} oasis_cc_ops;

extern const oasis_cc_ops oasis_cc_newreno;

/* The ops for an algorithm (NULL if not built: CUBIC for now). */
const oasis_cc_ops *oasis_cc_get(oasis_cc_algo algo);

#endif
