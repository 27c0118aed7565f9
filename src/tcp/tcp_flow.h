/* TCP internals shared by tcp.c (layer, table, dispatch), tcp_input.c,
 * tcp_output.c, tcp_timer.c and tcp_api.c.
 *
 * Memory: a flow (TCB) is a small core (oasis_flow) plus, while anything is
 * going on, an extension (oasis_tcp_ext: timer, rings, SACK, recovery,
 * requests); rings and out-of-order ranges allocate lazily inside it. An
 * idle established flow costs sizeof(oasis_flow) and its table slot.
 * TIME_WAIT keeps only a small oasis_tcp_tw in the table; all TIME_WAIT
 * entries last 2*MSL, so they sit in one FIFO behind one layer timer.
 *
 * Completions: API calls never run callbacks themselves. Whatever becomes
 * due marks the flow "ready" and links it on the layer's ready list; a
 * zero-delay layer timer (so: oasis_stack_poll) runs the callbacks.
 *
 * Lifetime: who holds the handle is one field, `life`, changed only by
 * oasis_tcp_set_life() (tcp.c), which refuses any other transition:
 *
 *   EMBRYO   -> APP       the connect/accept callback hands the flow over
 *                         (oasis_tcp_connect_flow: at once)
 *   EMBRYO   -> RELEASED  the attempt failed or was canceled before anyone
 *                         saw the handle
 *   APP      -> FINISHED  the close callback runs, abort, disconnect
 *   APP      -> RELEASED  a close with no callback completes
 *   FINISHED -> RELEASED  oasis_tcp_release()
 *
 * Requests are accepted only in APP. The TCB's memory goes when it is
 * RELEASED and nothing refers to it any more: out of the table (in_table),
 * off the dispatcher's list (ready), none of its callbacks running (busy).
 * The connection's own end (flow_end: out of the table) is independent of
 * the handle's: a finished connection's handle lives until it is released. */
#ifndef OASIS_TCP_FLOW_H
#define OASIS_TCP_FLOW_H

#include <stdint.h>

#include "core/hindex.h"
#include "core/pbuf.h"
#include "core/slab.h"
#include "core/timer.h"
#include "ip/ipv4.h"
#include "ipv6/ipv6.h"
#include "oasis/addr.h"
#include "oasis/tcp.h"
#include "tcp/tcp_buf.h"
#include "tcp/tcp_cc.h"
#include "tcp/tcp_ofo.h"
#include "tcp/tcp_plpmtud.h"
#include "tcp/tcp_recovery.h"
#include "tcp/tcp_rtt.h"
#include "tcp/tcp_sack.h"
#include "tcp/tcp_wire.h"

#define OASIS_TCP_NEVER UINT64_MAX

enum { OASIS_TCP_KIND_FLOW = 1, OASIS_TCP_KIND_TW = 2 };

/* What the flow table holds: a TCB or a TIME_WAIT entry, both start so.
 * The two addresses are of one family (laddr.family == raddr.family). */
typedef struct oasis_tcp_conn {
    struct oasis_tcp_conn *hnext;
    oasis_ipaddr laddr, raddr;
    uint16_t lport, rport;
    uint8_t kind;
} oasis_tcp_conn;

static inline int oasis_tcp_conn_v6(const oasis_tcp_conn *c)
{
    return c->raddr.family == OASIS_AF_INET6;
}
/* RFC 9293 3.7.1 (MUST-15): the send MSS without an MSS option, 536
 * (576 - 40) for IPv4, 1220 (1280 - 60) for IPv6. */
static inline uint32_t oasis_tcp_default_mss(const oasis_ipaddr *peer)
{
    return oasis_ipaddr_is_v6(peer) ? 1220u : 536u;
}
/* IP header bytes in front of the flow's segments (MSS = MTU - this). */
static inline uint32_t oasis_tcp_ip_hlen(const oasis_tcp_conn *c)
{
    return oasis_tcp_conn_v6(c) ? 40u : 20u;
}

typedef struct oasis_tcp_tw {
    oasis_tcp_conn c;
    oasis_alink age;                  /* in L->tws_by_expiry */
    uint64_t expire;
    uint32_t snd_nxt, rcv_nxt;
    uint32_t ts_recent, ts_offset;
    uint64_t oow_ack_at;              /* last ACK sent (rate limit, tcp_input.c) */
    uint16_t win;                     /* window field we advertise */
    uint8_t ts_ok;
    uint8_t wscale;                   /* win's (RCV.WND = win << wscale) */
} oasis_tcp_tw;

/* A queued write (write/writev, with or without no-delay). */
typedef struct oasis_tcp_wreq {
    struct oasis_tcp_wreq *next;
    oasis_flow_cb cb;
    void *ud;
    uint64_t end;      /* stream offset after its last byte (no-delay: wait for this ACK) */
    int err;
    uint8_t nodelay;
    uint8_t urgent;    /* oasis_tcp_write_urgent: pushed */
    uint8_t own;       /* SYN-SENT: the bytes were copied into the request (tcp_api.c) */
    uint32_t idx;      /* iov being copied */
    size_t off;        /* bytes of iov[idx] taken */
    size_t iovcnt;
    oasis_iovec *iov;  /* iovcnt entries, stored after the record */
} oasis_tcp_wreq;

typedef struct oasis_tcp_wq {
    oasis_tcp_wreq *head, *tail;
} oasis_tcp_wq;

typedef enum oasis_tcp_life {
    OASIS_TCP_LIFE_EMBRYO = 0, /* the stack's: opening, or passive and not yet accepted */
    OASIS_TCP_LIFE_APP,        /* the application's: requests accepted */
    OASIS_TCP_LIFE_FINISHED,   /* over: handle still valid, requests refused (OASIS_ECLOSED) */
    OASIS_TCP_LIFE_RELEASED    /* nobody outside holds it: freed once unreferenced */
} oasis_tcp_life;

/* What ended a flow (f->end_why), for oasis_tcp_flow_strerror(). */
enum {
    OASIS_TCP_END_NONE = 0, OASIS_TCP_END_SYN_TIMEOUT, OASIS_TCP_END_RETRIES,
    OASIS_TCP_END_KEEPALIVE, OASIS_TCP_END_FIN_WAIT2, OASIS_TCP_END_REFUSED,
    OASIS_TCP_END_RESET, OASIS_TCP_END_CANCELED, OASIS_TCP_END_ICMP
};

/* A flow's deadlines, one per purpose (OASIS_TCP_NEVER: not armed). The
 * flow's one oasis_timer runs at the earliest of them (tcp_timer.c). */
typedef struct oasis_tcp_deadlines {
    uint64_t rexmt;     /* retransmission timeout: data, FIN, SYN, SYN-ACK (RFC 6298) */
    uint64_t tlp;       /* tail loss probe timeout, PTO (RFC 8985 7.2) */
    uint64_t persist;   /* zero-window probe (RFC 9293 3.8.6.1, RFC 1122 4.2.2.17) */
    uint64_t keep;      /* keepalive probe, or its death (RFC 1122 4.2.3.6) */
    uint64_t fin_wait2; /* our FIN acked, the peer silent this long: give up */
    uint64_t delack;    /* delayed ACK (RFC 9293 3.8.6.3) */
    uint64_t reorder;   /* RACK reorder timer (RFC 8985 6.2 step 5) */
    uint64_t tune;      /* receive buffer right-sizing measures: the flow stays
                         * busy (keeps its extension) until this passes (tcp_tune.c) */
    uint64_t cc_keep;   /* an idle flow whose congestion control remembers a
                         * congestion event keeps its extension until this
                         * passes: an RTO after the last data sent (tcp.c) */
} oasis_tcp_deadlines;

/* Urgent data (tcp_urgent.c) and asynchronous reports (tcp_urgent.c):
 * rarely used, kept together (in the extension; the flow's own IP header
 * fields, tos and ttl, are in the flow). */
typedef struct oasis_tcp_extra {
    uint32_t snd_up;           /* SND.UP: after the last urgent byte (valid: snd_urg) */
    uint32_t rcv_up;           /* RCV.UP (valid: rcv_urg) */
    uint8_t snd_urg, rcv_urg;  /* urgent mode, each way */
    uint8_t ev_pending;        /* OASIS_TCP_EV_* bits (1 << ev) not yet reported */
    oasis_tcp_event_cb ev_cb;
    void *ev_ud;
} oasis_tcp_extra;

typedef struct oasis_tcp_listener {
    struct oasis_tcp_listener *next;
    uint16_t port;
    uint8_t has_ka;
    uint32_t backlog, pending; /* pending: half-open + not yet accepted */
    uint64_t cookie_at;        /* last SYN cookie sent (0: never), tcp_syncookie.c */
    oasis_keepalive ka;
    oasis_tcp_bufsizes bufs;   /* accepted flows' buffer sizes (tcp_tune.c) */
    oasis_accept_cb cb;
    void *ud;
    /* Accept control (tcp_api.c): established flows waiting to be taken,
     * oldest first, while paused or until their turn comes. */
    uint8_t paused;
    uint8_t families;          /* OASIS_TCP_LISTEN_V4 | _V6 */
    uint8_t transparent;       /* SYNs to any address too (cfg.transparent); port 0: any port */
    oasis_ipaddr local;        /* family 0: every address of ours */
    /* IP fields of the SYN-ACKs (cookies' too) and of every accepted
     * flow's segments: the TOS byte's DSCP bits (ECN bits 0) and the TTL
     * (0: cfg.ttl), from oasis_listen_opts or cfg.tcp.dscp. */
    uint8_t tos, ttl;
    uint32_t waiting;
    oasis_flow *acc_head, *acc_tail;
    /* Deferred hand-over (oasis_listen_opts.defer_ns; 0: none): the timer
     * runs when the oldest waiting flow's deferral ends. */
    uint64_t defer_ns;
    oasis_timer defer_timer;
} oasis_tcp_listener;

/* What only a flow with something going on needs: data in flight or
 * buffered, a deadline armed, a request or callback pending, the handshake.
 * Allocated when the flow needs it (oasis_tcp_ext_get) and given back once
 * the flow is idle again (oasis_tcp_ext_put), so an idle established flow
 * costs sizeof(oasis_flow) and a table slot. While it exists it owns the
 * congestion and RTT state; while it does not, the flow keeps the little
 * worth remembering across idle periods (idle_cwnd, idle_srtt_us, ...). */
typedef struct oasis_tcp_ext {
    struct oasis_flow *f;          /* back from the timer (and the cache link) */
    struct oasis_tcp_ext *next_free;
    oasis_timer timer;             /* one timer, at the earliest of tm */
    oasis_tcp_deadlines tm;
    uint64_t rtt_start;
    uint32_t push_seq, rtt_seq;
    uint32_t unacked;              /* segments received and not yet acked */
    uint32_t ka_sent;              /* keepalives unanswered, as wide as oasis_keepalive.probes */
    uint16_t retries;              /* RTOs of the head segment */
    uint16_t probes_out;           /* zero-window probes unanswered */
    uint16_t rcv_mss;              /* largest payload received (delayed ACK;
                                    * oasis_tcp_rcv_mss_init before any) */
    uint8_t persist_shift;         /* zero-window probe backoff exponent */
    uint8_t sack_n;
    int8_t soft_err;               /* last soft ICMP error, told on timeout (tcp_icmp.c) */
    uint16_t mss_icmp;             /* path MTU - 40 from ICMP (RFC 1191), 0: the link's;
                                    * from the per-destination cache again after idle */
    uint32_t fin_seq, rfin_seq;    /* our FIN / the peer's (no flow is idle past them) */
    uint64_t pmtu_until;           /* when mss_icmp ages out (raise attempt) */
    oasis_plpmtud plp;             /* packetization-layer PMTUD (tcp_plpmtud.c) */
    /* receive buffer right-sizing (tcp_tune.c): the last measure */
    uint64_t rcvq_time;            /* when it started (0: not yet) */
    uint64_t rcvq_copied;          /* bytes the application had consumed then */
    uint32_t rcvq_space;           /* most bytes consumed in one RTT so far */
    uint32_t rcvrtt_seq;           /* receiver's RTT measure ends when bytes_received passes it */
    uint64_t rcvrtt_time;          /* ... and began then (0: none running) */
    uint64_t rcvq_rtt;             /* smallest receiver RTT sample (0: none) */
    uint32_t rcvq_batch_max;       /* most held when a read began, in this measure */
    uint64_t rcvq_due;             /* before then a read only counts (0: check now) */

    /* transmit (tcp_output.c): the route, neighbour and headers of the
     * flow's segments, by its family (ipv4.c, ipv6.c), and the
     * pseudo-header sum less the length (0: not yet; the addresses never
     * change) with the ports' header word, set with it
     * (oasis_tcp_ports_word) */
    union {
        oasis_ipv4_txc txc;   /* an IPv4 flow's */
        oasis_ipv6_txc txc6;  /* an IPv6 flow's */
    };
    uint64_t pseudo;
    uint32_t ports_word;

    oasis_ring snd, rcv;
    oasis_ofo ofo;
    oasis_rtt rtt;
    oasis_cc_state cc;
    const oasis_cc_ops *ccops;
    oasis_sack_block sacks[OASIS_TCP_MAX_SACK]; /* last SACK blocks the peer sent */
    oasis_sack_sb sb;              /* SACK scoreboard, RACK, D-SACK (tcp_sack.c) */
    oasis_recovery rec;            /* loss recovery (tcp_recovery.c) */

    oasis_keepalive ka;
    oasis_tcp_extra x;             /* urgent, reports (a flow using them is never idle) */
    oasis_tcp_wq wq, ackq, doneq;  /* taking bytes / waiting for ACK / completed */
    uint32_t nreqs;                /* write requests in wq + ackq + doneq */
    /* The record of a write completed at once (all its bytes taken by the
     * call): it only carries the callback to the dispatcher, so the flow
     * keeps one instead of allocating one per write (oasis_tcp_req_free). */
    oasis_tcp_wreq done1;
    uint8_t done1_used;
    oasis_flow_cb close_cb;
    void *close_ud;
    union {
        oasis_connect_cb connect;
        oasis_accept_cb accept;
    } open_cb;
    void *open_ud;
    oasis_tcp_listener *lst;       /* passive flow not yet accepted */
    struct oasis_flow *acc_next, *acc_prev; /* lst's waiting queue */
    uint64_t acc_since;                     /* when it joined that queue */
    /* A client inside the library holds the handle (oasis_tcp_set_lib_owned):
     * not the application's, so oasis_tcp_foreach_flow skips it. Here, not
     * in the core, to keep idle flows small; such a flow is never idle, so
     * the extension (and the mark) stays while it lives. */
    uint8_t lib_owned;
} oasis_tcp_ext;

struct oasis_flow {
    oasis_tcp_conn c;
    uint8_t state;                 /* oasis_tcp_state */
    /* Small fields share bytes so that an IPv6 flow's core (two 16-byte
     * addresses) stays within 256 bytes with its table slot. */
    uint8_t snd_wscale : 4, rcv_wscale : 4; /* 0..14 */
    int8_t err;                    /* why it ended (oasis_tcp_flow_error) */
    uint8_t life : 2;              /* oasis_tcp_life: see the top of this file */
    uint8_t end_why : 4;           /* what ended it (oasis_tcp_flow_strerror), tcp.c */
    /* ECN (RFC 3168): ecn_ok: negotiated (before ESTABLISHED: still
     * offered); ecn_echo: CE seen, ECE on what we send until CWR comes;
     * ecn_cwr (below): cwnd was reduced, CWR on the next new data segment */
    uint8_t ecn_ok : 1, ecn_echo : 1;
    /* Declared after their flag, the counters take the high 7 bits of their
     * byte (little-endian ABIs): ++ and -- are then one add or subtract on
     * the byte, the carry falling off its top (6 instructions below). */
    uint8_t rcv_fixed : 1;         /* receive buffer size not auto-tuned (tcp_tune.h) */
    uint8_t busy : 7;              /* callbacks of this flow running (defers free) */
    uint8_t snd_fixed : 1;         /* send buffer size not auto-tuned */
    uint8_t hold : 7;              /* entry points using ext (defers giving it back) */
    uint8_t tos;                   /* IPv4 TOS byte / IPv6 traffic class: DSCP << 2 (ECN
                                    * bits the stack's) */
    uint8_t ttl;                   /* TTL / hop limit; 0: the stack's default */
    /* references (deferring the free) and pending events */
    unsigned in_table : 1, ready : 1, passive : 1, auto_release : 1;
    unsigned connect_pending : 1, accept_pending : 1, close_req : 1, close_done : 1;
    unsigned rd_shut : 1, wr_shut : 1;
    unsigned fin_queued : 1, fin_rcvd : 1, rfin_pending : 1, tlp_rearm : 1, ack_now : 1;
    unsigned ts_ok : 1, sack_ok : 1, ws_ok : 1, nodelay : 1, rtt_timing : 1, has_ka : 1;
    unsigned estab_counted : 1, acc_queued : 1;
    unsigned idle_rtt_ok : 1;
    unsigned ecn_cwr : 1;
    unsigned cc_algo : 2;          /* oasis_cc_algo: ext->ccops when ext comes back */
    unsigned idle_backoff : 5;     /* RTO backoff, saturated (Karn: only a sample resets it) */
    uint16_t mss_send, mss_recv;   /* MSS from the peer's option / ours */
    oasis_stack *s;
    struct oasis_flow *ready_next;
    oasis_tcp_ext *ext;            /* NULL while idle */

    /* send side (RFC 9293 names) */
    uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
    /* receive side */
    uint32_t irs, rcv_nxt, rcv_adv, last_ack_sent;
    uint32_t ts_recent, ts_offset;
    uint32_t sndbuf, rcvbuf;       /* ring capacities (ext->snd.cap, ext->rcv.cap) */
    /* kept while ext is NULL (ext->cc and ext->rtt own them otherwise) */
    uint32_t idle_cwnd, idle_ssthresh;
    /* srtt, rttvar (idle_rtt_ok), else the RTO without a sample (in srtt's
     * place; RFC 6298 5.7 may have raised it); saturated at 4.29 s */
    uint32_t idle_srtt_ns, idle_rttvar_ns;

    /* bytes taken into the send buffer: oasis_tcp_snd_written() */
    uint64_t snd_acked, bytes_received;
    uint32_t segs_in, segs_out, retransmits;
    uint32_t oow_ack_ms;           /* last ACK to an unacceptable segment, ms clock | 1
                                    * (0: none); kept while idle, or a flood of them would
                                    * each find the rate limit fresh */
    uint32_t last_rx_tick;         /* last segment accepted, clock >> OASIS_TCP_RX_TICK_SHIFT
                                    * (PAWS idle, RFC 7323 5.5: a shift, not a division
                                    * per segment) */
    uint32_t last_tx_ms;           /* last data segment sent, ms clock (idle restart; 32
                                    * bits keep an IPv6 flow's core within 256 bytes) */
    oasis_read_cb read_cb;
    void *read_ud;
    void *user_data;
};

#define OASIS_TCP_MEMO 4 /* lookup memo slots, a power of two */

struct oasis_tcp_layer {
    oasis_tcp_conn **buckets;
    uint32_t nbuckets, count;
    oasis_tcp_conn *memo[OASIS_TCP_MEMO]; /* entries lookups found last, by slot (tcp.c);
                                           * NULL (or the TIME_WAIT entry that took its
                                           * place) when one left the table */
    /* The IPv4 flow the last IPv4 segment went to, by its tuple as the
     * segment carries it (host order; ports: dst << 16 | src), and the
     * stack's address and netmask then; NULL when it left the table
     * (tcp.c). */
    oasis_flow *last4;
    uint32_t last4_src, last4_dst, last4_ports, last4_addr, last4_mask;
    /* The IPv6 flow the last IPv6 segment went to (its own tuple is
     * compared); NULL when it left the table. */
    oasis_flow *last6;
    oasis_tcp_conn hashed;         /* the tuple hashed last (hnext unused) and its hash */
    uint32_t hashed_val;
    uint64_t hashes;               /* tuples hashed (a test counts them) */
    uint64_t salt;
    uint8_t hash_key[16];          /* flow table SipHash key (from salt) */
    uint8_t isn_key[16];
    oasis_tcp_listener *listeners;
    oasis_slab flows;              /* every TCB lives here (no per-flow allocation); walked
                                    * with oasis_tcp_flow_next (no list links in the core) */
    oasis_flow *ready_head, *ready_tail; /* woken: next dispatch round */
    oasis_flow *round;                   /* the round being dispatched */
    oasis_flow *reading;                 /* its read callback is running (run_reads) */
    uint8_t dispatching;                 /* a round is running (nested poll) */
    uint8_t closing;                     /* disconnect/fini running: no new flows */
    uint8_t mem_pressure;                /* under memory pressure (tcp_tune.c) */
    uint8_t hp_off;                      /* test hook: header prediction off (tcp_input.c) */
    uint8_t tx_fast_off;                 /* test hook: output_one, xmit_plain off (tcp_output.c) */
    uint64_t disc_steps;                 /* flows disconnect looked at (a test counts them) */
    oasis_tcp_ext *ext_free;       /* extensions kept for reuse (tcp.c) */
    uint32_t ext_nfree;
    oasis_alist tws_by_expiry;     /* TIME_WAIT entries, first to expire first */
    oasis_slab tws;                /* TIME_WAIT entries: a connect/close loop keeps
                                    * hundreds coming and going, with no malloc each */
    oasis_timer tw_timer;
    uint64_t chack_window;         /* RFC 5961 rate limit: this second + 1 */
    uint32_t chack_count;          /* challenge ACKs left in this second */
    double rst_tokens;             /* closed-port RST bucket (tcp.c) */
    uint64_t rst_tokens_at;
    uint16_t next_port;            /* ephemeral port cursor */
    uint8_t have_next_isn;         /* test hook */
    uint32_t next_isn;
};

/* Every TCB of the stack in address order: the first (f NULL) or the one
 * after f. f may have been freed meanwhile (the walk goes on from its
 * address), so a walk may free flows as it goes. */
oasis_flow *oasis_tcp_flow_next(oasis_stack *s, const oasis_flow *f);

/* ---- tcp.c: layer, table, TIME_WAIT, flow lifetime ---- */
/* Counts a segment dropped as malformed (err: the parse's; a bad checksum
 * is OASIS_ECHECKSUM): InSegs, InCsumErrors, InErrs as RFC 4022. */
void oasis_tcp_count_bad(oasis_stack *s, int err);
oasis_tcp_conn *oasis_tcp_lookup(oasis_stack *s, const oasis_ipaddr *laddr, uint16_t lport,
                                 const oasis_ipaddr *raddr, uint16_t rport);
int oasis_tcp_table_insert(oasis_stack *s, oasis_tcp_conn *c);
void oasis_tcp_table_remove(oasis_stack *s, oasis_tcp_conn *c);
oasis_tcp_listener *oasis_tcp_find_listener(oasis_stack *s, uint16_t port);
/* A flow the listener l opens (a SYN, a cookie's ACK) takes from it what
 * it gives every accepted flow: its callback, keepalive, DSCP and TTL. */
void oasis_tcp_flow_adopt(oasis_flow *f, oasis_tcp_listener *l);
oasis_flow *oasis_tcp_flow_new(oasis_stack *s, const oasis_ipaddr *laddr,
                               const oasis_ipaddr *raddr, uint16_t lport, uint16_t rport);
/* Our source address towards raddr (IPv4: ours or 127/8; IPv6: RFC 6724):
 * 0 or OASIS_ENOROUTE. */
int oasis_tcp_source(oasis_stack *s, const oasis_ipaddr *raddr, oasis_ipaddr *laddr);
/* The same when the application may name it (want; NULL, family 0 or
 * unspecified: chosen as above): 0, OASIS_ENOROUTE, OASIS_EINVAL (want of
 * the other family) or OASIS_EADDRNOTAVAIL (not a source of ours). */
int oasis_tcp_source_given(oasis_stack *s, const oasis_ipaddr *raddr, const oasis_ipaddr *want,
                           oasis_ipaddr *laddr);
/* The address a listener is limited to (*local; family 0: none named):
 * want must be ours (IPv6: tentative included) and of a family in
 * *families (0: any), which becomes its own. 0, OASIS_EINVAL or
 * OASIS_EADDRNOTAVAIL. */
int oasis_tcp_listen_local(oasis_stack *s, const oasis_ipaddr *want, unsigned *families,
                           oasis_ipaddr *local);
/* The link MTU segments to raddr's family are cut to (IPv6: the RA's). */
uint32_t oasis_tcp_link_mtu(oasis_stack *s, const oasis_ipaddr *raddr);
uint32_t oasis_tcp_new_isn(oasis_stack *s, const oasis_tcp_conn *c);
/* Test hook: the next ISN the layer picks. */
void oasis_tcp_set_next_isn(oasis_stack *s, uint32_t isn);
uint16_t oasis_tcp_pick_port(oasis_stack *s, const oasis_ipaddr *laddr, const oasis_ipaddr *raddr,
                             uint16_t rport);
void oasis_tcp_set_state(oasis_flow *f, oasis_tcp_state st);
/* The only writer of f->life; aborts on a transition the table above lacks. */
void oasis_tcp_set_life(oasis_flow *f, oasis_tcp_life to);
/* As ext_put without a hold of one's own (the timer, the dispatcher, a
 * segment). A flow with bytes to read or to send is not idle: a busy
 * flow's usual state after a segment, asked here without a call. */
void oasis_tcp_ext_idle_slow(oasis_flow *f);
static inline void oasis_tcp_ext_idle(oasis_flow *f)
{
    if (f->ext && (f->ext->rcv.len | f->ext->snd.len))
        return;
    oasis_tcp_ext_idle_slow(f);
}
/* For a flow without an extension: a cached or new one, set up (no hold
 * taken). 0, or OASIS_ENOMEM. */
int oasis_tcp_ext_make(oasis_flow *f);
/* The flow's extension exists (allocated and set up if it did not; the
 * flow's hold count goes up): 0, or OASIS_ENOMEM. Pair with ext_put.
 * Inline: every write takes one. */
static inline int oasis_tcp_ext_get(oasis_flow *f)
{
    int err = f->ext ? 0 : oasis_tcp_ext_make(f);
    if (!err)
        f->hold++;
    return err;
}
/* Drops the hold; gives the extension back if the flow is idle (nothing in
 * flight, buffered, pending or armed) and nothing else holds it. */
static inline void oasis_tcp_ext_put(oasis_flow *f)
{
    if (f->hold)
        f->hold--;
    if (!f->hold && !f->busy)
        oasis_tcp_ext_idle(f);
}
/* The RTT state an idle flow kept (ext == NULL), as ext->rtt would have it. */
void oasis_tcp_idle_rtt(const oasis_flow *f, oasis_rtt *r);
/* The spare extensions give their ring storage back (oasis_tcp_trim). */
void oasis_tcp_ext_cache_trim(oasis_stack *s);
/* A flow that was idle got its extension only for cancel's RST: with the
 * handle finished nothing needs it (disconnect of a million idle flows
 * would otherwise leave each one holding one). */
void oasis_tcp_ext_drop_canceled(oasis_flow *f);
/* Frees the TCB if nothing refers to it any more. */
void oasis_tcp_maybe_free(oasis_flow *f);
/* The connection ends with err (0: orderly, OASIS_ERESET, OASIS_ETIMEDOUT,
 * OASIS_ECANCELED): out of the table, buffers freed, requests failed. */
void oasis_tcp_flow_end(oasis_flow *f, int err);
void oasis_tcp_enter_time_wait(oasis_flow *f);
void oasis_tcp_tw_input(oasis_stack *s, oasis_tcp_tw *tw, const oasis_tcp_hdr *h);
/* RFC 5961 rate limit: 1 if a challenge ACK may go out now (counts both ways). */
int oasis_tcp_challenge_allowed(oasis_stack *s);
/* Moves a request to the done list with err and wakes the flow. */
void oasis_tcp_req_done(oasis_flow *f, oasis_tcp_wreq *r, int err);
/* Gives a completed request's record back (the extension's own, or freed). */
void oasis_tcp_req_free(oasis_stack *s, oasis_tcp_ext *x, oasis_tcp_wreq *r);
void oasis_tcp_wq_push(oasis_tcp_wq *q, oasis_tcp_wreq *r);
oasis_tcp_wreq *oasis_tcp_wq_pop(oasis_tcp_wq *q);

/* ---- tcp_dispatch.c ---- */
/* Queues the flow for the dispatcher (its callbacks run at the next poll). */
void oasis_tcp_wake(oasis_flow *f);
/* Completes every pending request now with OASIS_ECANCELED (abort,
 * disconnect); API calls on the flow are refused from then on. */
void oasis_tcp_cancel_requests(oasis_flow *f);
/* Resets f if needed, cancels its requests and frees it (abort, disconnect). */
void oasis_tcp_cancel_flow(oasis_flow *f);
/* The read, write and close completions a cancel still owes (tcp_dispatch.c). */
void oasis_tcp_drain_canceled(oasis_flow *f);

/* ---- tcp_input.c ---- */
/* A segment's checksum left pending by its parse (h->sum_pending,
 * OASIS_TCP_SUM_DEFER), checked: 1 when it may be used, 0 when it is bad
 * (counted as a parse counts one: the caller drops it). Nothing pending:
 * 1. Every path but the predicted one's (which sums while it copies) asks
 * this before anything else. */
int oasis_tcp_sum_verify_slow(oasis_stack *s, const oasis_tcp_hdr *h);
static OASIS_ALWAYS_INLINE int oasis_tcp_sum_verify(oasis_stack *s, const oasis_tcp_hdr *h)
{
    return !h->sum_pending || oasis_tcp_sum_verify_slow(s, h);
}
void oasis_tcp_listen_input(oasis_stack *s, oasis_tcp_listener *l, const oasis_ipaddr *src,
                            const oasis_ipaddr *dst, const oasis_tcp_hdr *h);
void oasis_tcp_flow_input(oasis_flow *f, const oasis_tcp_hdr *h);
/* The same, always inline (with LTO also into tcp.c's IPv4 input). */
void oasis_tcp_flow_input_inline(oasis_flow *f, const oasis_tcp_hdr *h);
/* A SYN that ended a TIME_WAIT entry: as listen_input, with our ISS given. */
void oasis_tcp_listen_reopen(oasis_stack *s, oasis_tcp_listener *l, const oasis_ipaddr *src,
                             const oasis_ipaddr *dst, const oasis_tcp_hdr *h, uint32_t iss);
/* Applies the options of a received SYN (MSS, window scale, TS, SACK). */
void oasis_tcp_syn_options(oasis_flow *f, const oasis_tcp_hdr *h);
/* ACKs that answer unacceptable segments (and TIME_WAIT's): at most one per
 * OASIS_TCP_OOW_ACK_GAP_NS per flow (Linux tcp_invalid_ratelimit, 500 ms).
 * 1 if one may go now (*last updated), else counts oow_acks_limited. */
#define OASIS_TCP_OOW_ACK_GAP_NS (500 * OASIS_NS_PER_MS)
/* flow->last_rx_tick counts the clock in ticks of 2^30 ns (1.07 s). */
#define OASIS_TCP_RX_TICK_SHIFT 30
int oasis_tcp_oow_ack_allowed(oasis_stack *s, uint64_t *last);

/* ---- tcp_api.c ---- */
/* A passive flow leaves its listener (taken, ended, canceled): the backlog
 * slot is freed and the flow leaves the waiting queue. */
void oasis_tcp_listener_detach(oasis_flow *f);
/* The dispatcher found f established and not yet taken: hands it to the
 * listener's callback, or leaves it waiting (paused, or older flows first). */
void oasis_tcp_run_accept(oasis_flow *f);
/* A deferring listener's timer (oasis_tcp_listener.defer_timer). */
void oasis_tcp_defer_timer_fn(oasis_stack *s, oasis_timer *t);
/* Copies queued writes into the send buffer as room allows; queues the FIN
 * once close was asked for and every write was taken. */
void oasis_tcp_fill_sndbuf(oasis_flow *f);

/* ---- tcp_output.c ---- */
void oasis_tcp_output(oasis_flow *f);             /* sends what may be sent now */
/* The same without its first test (output_idle), which a write that
 * queued bytes would fail; right in any state. */
void oasis_tcp_output_queued(oasis_flow *f);
/* oasis_tcp_output_queued, then oasis_tcp_ext_put: for a write that took
 * a hold and whose n bytes (1 or more) at src the send ring holds at `to`
 * (oasis_ring_claim) but has not yet been given: they are copied there
 * first, or as the segment that sends them is built; OASIS_OK. */
int oasis_tcp_output_put(oasis_flow *f, const void *src, uint8_t *to, uint32_t n);
void oasis_tcp_force_output(oasis_flow *f);       /* persist timer, window open: SWS aside */
void oasis_tcp_send_ack(oasis_flow *f);
void oasis_tcp_send_syn(oasis_flow *f);           /* SYN or SYN-ACK by state */
void oasis_tcp_send_probe(oasis_flow *f);         /* keepalive / zero-window probe */
void oasis_tcp_send_rst_flow(oasis_flow *f);
void oasis_tcp_send_challenge_ack(oasis_flow *f);
/* PLPMTUD: sends len bytes of new data as one segment even if larger than
 * the current segment size (tcp_plpmtud.c); returns the bytes sent, 0 when
 * data or window are short. */
uint32_t oasis_tcp_send_mtu_probe(oasis_flow *f, uint32_t len);
/* Retransmits one segment from snd_una (fast retransmit, partial ACK). */
void oasis_tcp_retransmit_head(oasis_flow *f);
/* Resends len bytes of the send ring from seq (SACK recovery, TLP), with
 * our FIN if fin and they end where it sits; returns the data bytes that
 * went out (option room may clip the segment, and then the FIN stays). */
uint32_t oasis_tcp_xmit_data(oasis_flow *f, uint32_t seq, uint32_t len, int fin);
/* RST in reply to h (RFC 9293 3.10.7.1). */
void oasis_tcp_send_rst_reply(oasis_stack *s, const oasis_ipaddr *laddr,
                              const oasis_ipaddr *raddr, const oasis_tcp_hdr *h);
/* Sends a segment built in p (TCP header pushed, checksum done) from laddr
 * to raddr by their family's IP layer; takes p. tos/ttl: 0 for defaults. */
int oasis_tcp_ip_output(oasis_stack *s, oasis_pbuf *p, const oasis_ipaddr *laddr,
                        const oasis_ipaddr *raddr, uint8_t tos, uint8_t ttl);
/* The running pseudo-header sum of a segment of len bytes (either family). */
uint64_t oasis_tcp_pseudo_sum(const oasis_ipaddr *src, const oasis_ipaddr *dst, uint32_t len);
void oasis_tcp_tw_send_ack(oasis_stack *s, const oasis_tcp_tw *tw);
/* The MSS segments are cut to: the peer's, lowered by the path MTU (ICMP)
 * and by packetization-layer discovery. */
static inline uint32_t oasis_tcp_seg_mss(const oasis_flow *f)
{
    uint32_t m = f->mss_send;
    if (!f->ext)
        return m; /* idle: the cached path MTU applies when it comes back */
    if (f->ext->mss_icmp && f->ext->mss_icmp < m)
        m = f->ext->mss_icmp;
    if (f->ext->plp.mss && f->ext->plp.mss < m)
        m = f->ext->plp.mss;
    return m;
}
/* Largest payload of a data segment (MSS less the timestamp option);
 * inline: every ACK and every send asks. */
static inline uint32_t oasis_tcp_eff_mss(const oasis_flow *f)
{
    uint32_t m = oasis_tcp_seg_mss(f) - (f->ts_ok ? 12u : 0u);
    return m ? m : 1;
}

/* The largest payload the peer can send us: our MSS less the timestamp
 * option (what deliver_in_order's rcv_mss is capped at). */
static inline uint32_t oasis_tcp_rcv_full(const oasis_flow *f)
{
    return f->mss_recv - (f->ts_ok ? 12u : 0u);
}
/* rcv_mss before any text came. "Every second full-sized segment" (RFC
 * 9293 3.8.6.3, RFC 5681 4.2) counts in the SENDER's SMSS (RFC 5681 2),
 * which may lie below what we offered (a lower path MTU, the timestamp
 * option): start small, as Linux's tcp_initialize_rcv_mss (at most 536),
 * and let deliver_in_order raise it to the largest payload received. */
static inline uint16_t oasis_tcp_rcv_mss_init(const oasis_flow *f)
{
    uint32_t full = oasis_tcp_rcv_full(f);
    return (uint16_t)(full < 536u ? full : 536u);
}

/* ---- tcp_icmp.c ---- */
/* The segment size changed (path MTU, PLPMTUD): congestion control counts
 * in the new size, and what is in flight at the old size goes again at the
 * new one, without a congestion response (RFC 1191 6.5: "not ... an
 * indication of congestion"). */
void oasis_tcp_mss_changed(oasis_flow *f, int resend);
/* The flow's extension is back after idle: the destination's cached path
 * MTU applies again, quietly (nothing was in flight, nothing to count). */
void oasis_tcp_pmtu_restore(oasis_flow *f);
/* Before sending: a lowered path MTU whose cache entry aged out is raised
 * again (RFC 1191 6.3). */
void oasis_tcp_pmtu_check(oasis_flow *f);
/* The peer's MSS is known: a lowered path MTU cached for it applies. */
void oasis_tcp_pmtu_init(oasis_flow *f);
/* Sends a window update if reading opened the window enough. */
void oasis_tcp_window_update(oasis_flow *f);
uint32_t oasis_tcp_ts_now(const oasis_flow *f);
/* The same at a time the caller has read (oasis_now). */
static inline uint32_t oasis_tcp_ts_at(const oasis_flow *f, uint64_t now)
{
    return (uint32_t)(now / OASIS_NS_PER_MS) + f->ts_offset;
}

/* ---- tcp_timer.c: when each deadline is armed and what its expiry does ---- */
void oasis_tcp_timer_fn(oasis_stack *s, oasis_timer *t);
/* A deadline was just set to d: the timer runs no later than d (a heap
 * operation only when d is earlier than the timer). Every deadline set
 * goes through it (tcp_timer.c's invariant). */
void oasis_tcp_timer_by(oasis_flow *f, uint64_t d);
/* The timer runs if a deadline is armed (cheap: a running timer already
 * is no later than every deadline). */
void oasis_tcp_timer_update(oasis_flow *f);
/* Every deadline off (the flow ended). */
void oasis_tcp_timers_clear(oasis_flow *f);
/* RTO = now + backed-off RTO (RFC 6298 5.1, 5.3, 5.6). */
void oasis_tcp_arm_rto(oasis_flow *f);
void oasis_tcp_arm_delack(oasis_flow *f);
/* The same at now, oasis_now() read by the caller. */
void oasis_tcp_arm_delack_at(oasis_flow *f, uint64_t now);
/* Nothing in flight and the window too small to send: zero-window probing. */
void oasis_tcp_arm_persist(oasis_flow *f);
void oasis_tcp_stop_persist(oasis_flow *f);
/* RFC 8985 7.2: after new data was sent or new data was acknowledged,
 * (re)arms the PTO if a probe is allowed, else cancels it. */
void oasis_tcp_arm_tlp(oasis_flow *f);
/* Both, right after new data left an established flow in no recovery
 * (tcp_output.c output_one): the RTO when it is not running (RFC 6298
 * 5.1), the PTO as oasis_tcp_arm_tlp would set it; the flow's timer moved
 * once. mss: the flow's effective MSS. */
void oasis_tcp_arm_sent(oasis_flow *f, uint32_t mss, uint64_t now);
/* The flow entered FIN_WAIT_2 (cfg.fin_wait2_ns bounds it). */
void oasis_tcp_arm_fin_wait2(oasis_flow *f);
/* The handshake completed: handshake RTO state gives way to data's (RFC
 * 6298 5.7), keepalive starts. */
void oasis_tcp_timers_established(oasis_flow *f);
/* An acceptable segment arrived from the peer: keepalive, FIN_WAIT_2 and
 * the unanswered-probe count restart. */
void oasis_tcp_heard(oasis_flow *f);
/* The same at now, oasis_now() read by the caller (always inline). */
void oasis_tcp_heard_at(oasis_flow *f, uint64_t now);

/* ---- tcp_urgent.c: urgent data, asynchronous reports ---- */
/* URG and the urgent pointer for a segment starting at seq (send side). */
void oasis_tcp_urg_fill(const oasis_flow *f, oasis_tcp_hdr *h);
/* snd_una moved: urgent mode ends once everything urgent is acknowledged. */
void oasis_tcp_urg_acked(oasis_flow *f);
/* RFC 9293 3.10.7.4 sixth step: a segment with URG was accepted. */
void oasis_tcp_urg_input(oasis_flow *f, const oasis_tcp_hdr *h);
/* The application read up to the urgent pointer: urgent mode ends. */
void oasis_tcp_urg_consumed(oasis_flow *f);
/* Queues report ev for the flow's event callback (dispatcher). */
void oasis_tcp_post_event(oasis_flow *f, oasis_tcp_event ev);
/* The dispatcher's part: runs the pending reports. */
void oasis_tcp_run_events(oasis_flow *f);
/* Marks the bytes of a queued write urgent (tcp_api.c's submit_write). */
void oasis_tcp_urg_mark(oasis_flow *f, uint64_t stream_end);

/* Stream offset after the last byte taken into the send buffer: what was
 * acknowledged plus what the ring still holds (one count fewer in the
 * flow's core). */
static inline uint64_t oasis_tcp_snd_written(const oasis_flow *f)
{
    return f->snd_acked + (f->ext ? f->ext->snd.len : 0);
}

/* RFC 9293's "synchronized states": SYN_RECEIVED onwards (both ISNs known). */
static inline int oasis_tcp_synchronized(const oasis_flow *f)
{
    return f->state >= OASIS_TCP_SYN_RECEIVED;
}

#endif
