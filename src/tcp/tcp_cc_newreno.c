/* NewReno: RFC 5681 slow start, congestion avoidance and fast recovery, with
 * the RFC 6582 partial-ACK rules, RFC 3465 byte counting and the RFC 6928
 * initial window. tcp_recovery.c decides when each event happens (dupack
 * counting, the recovery point, retransmissions); this file only moves
 * cwnd and ssthresh. */
#include "tcp/tcp_cc.h"
#include "core/compiler.h"

#include <string.h>

#define IW_BYTES 14600u    /* RFC 6928 */
#define DEFAULT_MSS 536u   /* RFC 9293: when the peer said nothing */
#define ABC_L 2u           /* RFC 3465: at most L*SMSS per ACK in slow start */

/* priv[0]: consecutive RTOs without new data acknowledged (RFC 5681 keeps
 * ssthresh when the same segment times out again). */
#define RTO_STREAK(cc) ((cc)->priv[0])

static uint32_t sat_add(uint32_t a, uint32_t b)
{
    return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

static uint32_t max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }
static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

static uint32_t initial_window(uint32_t mss)
{
    uint64_t floor = (uint64_t)mss * 2 > IW_BYTES ? (uint64_t)mss * 2 : IW_BYTES;
    uint64_t iw = (uint64_t)mss * 10 < floor ? (uint64_t)mss * 10 : floor;
    return iw > UINT32_MAX ? UINT32_MAX : (uint32_t)iw;
}

/* ssthresh after a loss: max(FlightSize / 2, 2*SMSS) (RFC 5681 eq. 4). */
static uint32_t loss_ssthresh(const oasis_cc_state *cc, uint32_t flight)
{
    return max_u32(flight / 2, sat_add(cc->mss, cc->mss));
}

static void nr_init(oasis_cc_state *cc, uint32_t mss, uint64_t now_ns)
{
    memset(cc, 0, sizeof *cc);
    cc->mss = mss ? mss : DEFAULT_MSS;
    cc->cwnd = initial_window(cc->mss);
    cc->ssthresh = UINT32_MAX; /* "arbitrarily high" until the first loss */
}

/* RFC 7661 spirit: only a flow that used its window learns that a bigger
 * one is safe. Slow start may double per RTT, so half a window in flight
 * counts as using it; in congestion avoidance the window must be full to
 * within one segment. */
static int cwnd_limited(const oasis_cc_state *cc, uint32_t flight)
{
    if (cc->cwnd < cc->ssthresh)
        return (uint64_t)flight * 2 >= cc->cwnd;
    return sat_add(flight, cc->mss) > cc->cwnd;
}

/* (always inline: tcp_recovery.c calls it directly, and with LTO an
 * application-limited flow's ACK takes its early return without a call) */
OASIS_HOT OASIS_ALWAYS_INLINE void oasis_cc_newreno_on_ack(oasis_cc_state *cc, uint32_t acked,
                                                           uint32_t flight, uint64_t rtt_ns,
                                                           uint64_t now_ns)
{
    RTO_STREAK(cc) = 0;
    if (acked == 0 || !cwnd_limited(cc, flight))
        return;
    if (cc->cwnd < cc->ssthresh) {
        /* Slow start with ABC; what overshoots ssthresh is left for
         * congestion avoidance to count. */
        uint32_t inc = min_u32(acked, ABC_L * cc->mss);
        uint32_t to_ss = cc->ssthresh - cc->cwnd;
        if (inc <= to_ss) {
            cc->cwnd = sat_add(cc->cwnd, inc);
            return;
        }
        cc->cwnd = cc->ssthresh;
        acked = inc - to_ss;
    }
    /* Congestion avoidance: one SMSS per cwnd of bytes acknowledged. */
    cc->bytes_acked = sat_add(cc->bytes_acked, acked);
    if (cc->bytes_acked >= cc->cwnd) {
        cc->bytes_acked -= cc->cwnd;
        cc->cwnd = sat_add(cc->cwnd, cc->mss);
    }
}

static void nr_on_enter_recovery(oasis_cc_state *cc, uint32_t flight, int sack, uint64_t now_ns)
{
    cc->ssthresh = loss_ssthresh(cc, flight);
    /* RFC 5681: the three dupacks left the network; with SACK, pipe counts
     * what left and PRR paces the sending instead (RFC 6675 4.2). */
    cc->cwnd = sack ? cc->ssthresh : sat_add(cc->ssthresh, 3 * cc->mss);
    cc->bytes_acked = 0;
}

static void nr_on_recovery_ack(oasis_cc_state *cc, uint32_t acked, int full, int sack,
                               uint32_t flight, uint64_t now_ns)
{
    RTO_STREAK(cc) = 0;
    if (full) {
        /* RFC 6675 / 9937: PRR brought the flight down to ssthresh; RFC
         * 6582 3.2 step 3, option 1: no burst beyond what is in flight. */
        cc->cwnd = sack ? cc->ssthresh
                        : min_u32(cc->ssthresh, sat_add(max_u32(flight, cc->mss), cc->mss));
        cc->bytes_acked = 0;
        return;
    }
    if (sack)
        return;
    /* Partial ACK: deflate by what was acked, add back one SMSS if at least
     * that much was acked, so about ssthresh stays in flight. */
    uint32_t c = cc->cwnd > acked ? cc->cwnd - acked : 0;
    if (acked >= cc->mss)
        c = sat_add(c, cc->mss);
    cc->cwnd = max_u32(c, cc->mss);
}

static void nr_on_dupack(oasis_cc_state *cc)
{
    cc->cwnd = sat_add(cc->cwnd, cc->mss); /* one more segment left the network */
}

static void nr_on_rto(oasis_cc_state *cc, uint32_t flight, int in_recovery, uint64_t now_ns)
{
    if (RTO_STREAK(cc) == 0)
        cc->ssthresh = loss_ssthresh(cc, flight);
    RTO_STREAK(cc)++;
    cc->cwnd = cc->mss; /* loss window: one segment */
    cc->bytes_acked = 0;
}

/* RFC 3168 6.1.2: "halves the congestion window and reduces the slow
 * start threshold", cwnd bounded below by one MSS. */
static void nr_on_ecn(oasis_cc_state *cc, uint32_t flight, uint64_t now_ns)
{
    (void)now_ns;
    cc->ssthresh = loss_ssthresh(cc, flight);
    cc->cwnd = cc->cwnd > cc->ssthresh ? cc->ssthresh : max_u32(cc->cwnd / 2, cc->mss);
    cc->bytes_acked = 0;
}

/* RFC 5681 4.1: after an idle period longer than the RTO, restart from
 * min(IW, cwnd) since the ACK clock is gone. */
static void nr_on_idle(oasis_cc_state *cc, uint64_t idle_ns, uint64_t rto_ns, uint64_t now_ns)
{
    (void)now_ns;
    if (idle_ns > rto_ns)
        cc->cwnd = min_u32(cc->cwnd, initial_window(cc->mss));
}

const oasis_cc_ops oasis_cc_newreno = {
    .name = "newreno",
    .init = nr_init,
    .on_ack = oasis_cc_newreno_on_ack,
    .on_enter_recovery = nr_on_enter_recovery,
    .on_recovery_ack = nr_on_recovery_ack,
    .on_dupack = nr_on_dupack,
    .on_rto = nr_on_rto,
    .on_ecn = nr_on_ecn,
    .on_idle = nr_on_idle,
};
