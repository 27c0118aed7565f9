/* TCP flows: the contract of MirageOS's Tcpip.Tcp.S (IPv4) in C.
 *
 * Model. A stack's TCP layer holds flows (connections) and listeners. Every
 * operation that waits is a request: it takes a completion callback and a
 * user-data pointer, returns 0 when the request was accepted (the callback
 * will run exactly once, never from inside the call that started it) or a
 * negative oasis_err when it was refused (the callback never runs).
 * Callbacks run from oasis_stack_input() / oasis_stack_poll(). The callback
 * of write, writev, write_nodelay and close may be NULL (fire and forget).
 *
 * Flow handles. The application holds a flow handle (oasis_flow *) from
 * the moment it is handed over (connect or accept callback, or
 * oasis_tcp_connect_flow) until it gives it back with oasis_tcp_release(),
 * or closes it with no close callback (see oasis_tcp_close), or destroys
 * the stack. Until then the handle stays valid whatever happens to the
 * connection: once the flow is finished (its close callback ran, or it was
 * aborted or canceled by oasis_tcp_disconnect) every request on it is
 * refused with OASIS_ECLOSED, while oasis_tcp_flow_error(), _src, _dst,
 * _get_info and user data still answer. So use after close is an error the
 * application sees, never undefined behaviour; only use after release is
 * (as with free()). The usual shape: release the handle in the close
 * callback. The stack keeps TIME_WAIT state on its own, apart from the
 * handle.
 *
 * Re-entrancy. oasis_stack_poll() may be called from a callback: it runs the
 * timers that are due; TCP callbacks woken meanwhile run when the outer
 * dispatch goes on, never nested inside another callback. While
 * oasis_tcp_disconnect() (or oasis_stack_destroy()) runs, connect and listen
 * called from the callbacks it triggers are refused with OASIS_ECANCELED.
 * oasis_stack_destroy() called from a callback frees nothing and returns
 * OASIS_EBUSY (stack.h).
 *
 * Addresses are oasis_ipaddr (addr.h): IPv4 or IPv6, one TCP layer for
 * both. The functions ending in 4 are thin IPv4 wrappers taking host-order
 * uint32_t (ip.h). Ports are host order.
 */
#ifndef OASIS_TCP_H
#define OASIS_TCP_H

#include <stddef.h>
#include <stdint.h>

#include "oasis/addr.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oasis_stack oasis_stack;
typedef struct oasis_flow oasis_flow;

/* Keepalive (contract's Keepalive.t): after `after_ns` of idleness a probe is
 * sent, then one every `interval_ns`; after `probes` unanswered probes the
 * flow is dead: reads return the data already received, then OASIS_EOF,
 * writes OASIS_ECLOSED, and oasis_tcp_flow_error() says OASIS_ETIMEDOUT.
 * interval_ns and probes must be non-zero (else OASIS_EINVAL from connect,
 * listen and set_keepalive); after_ns 0 means the first probe goes one
 * interval into the silence, as mirage-tcpip's keepalive does with 0.
 * Durations above OASIS_TCP_MAX_NS count as that. A probe
 * is a bare ACK at SND.UNA-1 (RFC 1122 4.2.3.6). Oasis answers every one;
 * Linux answers such a segment at most once per 500 ms
 * (tcp_invalid_ratelimit), so against it an interval under 1 s, as Linux's
 * own keepalive never uses, can end a live connection. */
typedef struct oasis_keepalive {
    uint64_t after_ns;
    uint64_t interval_ns;
    uint32_t probes;
} oasis_keepalive;

/* The longest duration the TCP layer keeps (2^62 ns, 146 years): longer
 * ones (keepalive, oasis_tcp_config's) count as this, so UINT64_MAX means
 * "as good as never" (the timers add durations to the clock: more would
 * wrap round to a deadline in the past). */
#define OASIS_TCP_MAX_NS (UINT64_C(1) << 62)

/* Congestion control algorithms (more arrive with later work). */
typedef enum oasis_cc_algo { OASIS_CC_NEWRENO = 0, OASIS_CC_CUBIC = 1 } oasis_cc_algo;

/* Per-stack TCP defaults (oasis_stack_config.tcp); flows may override some. */
typedef struct oasis_tcp_config {
    uint32_t sndbuf;            /* largest send buffer of a flow (4 MiB); with autotune
                                 * off, every flow's size */
    uint32_t rcvbuf;            /* largest receive buffer of a flow (4 MiB); the window
                                 * scale is chosen for it (or the flow's own limit) */
    /* Durations: above OASIS_TCP_MAX_NS they count as that. */
    uint64_t msl_ns;            /* TIME_WAIT lasts 2*MSL (MSL 30 s) */
    uint64_t rto_min_ns;        /* (200 ms) */
    uint64_t rto_max_ns;        /* (60 s) */
    uint64_t rto_initial_ns;    /* (1 s) */
    uint32_t syn_retries;       /* SYN retransmissions before Timeout (7: the attempt
                                 * gives up 183 s after the first SYN, RFC 9293 MUST-23) */
    uint32_t synack_retries;    /* (5) */
    uint32_t data_retries;      /* retransmissions of one segment before Timeout (15) */
    uint64_t delack_ns;         /* delayed ACK timer (40 ms); 0: no delay; 500 ms or
                                 * more: OASIS_EINVAL (RFC 1122 4.2.3.2: "MUST be
                                 * less than 0.5 seconds") */
    uint32_t backlog;           /* default listen backlog (128) */
    uint32_t max_ofo_segments;  /* out-of-order segments kept per flow (256) */
    uint32_t challenge_ack_limit; /* RFC 5961 challenge ACKs per second, stack-wide, on
                                     average (100): each second's budget is random in
                                     [limit/2, limit/2 + limit), as in Linux */
    uint32_t rst_rate_per_sec;  /* RSTs a second answering segments for closed ports (no
                                 * flow, no listener): a token bucket, so a flood of SYNs
                                 * cannot turn the stack into a reflector (200, FreeBSD's
                                 * icmplim; 0: no limit) */
    uint32_t rst_burst;         /* at most this many such RSTs saved up (50) */
    uint32_t max_time_wait;     /* TIME_WAIT entries kept; beyond it the oldest goes (4096;
                                 * 0: none kept) */
    int window_scaling, timestamps, sack; /* negotiate these options (1) */
    int strict_timestamps;      /* 1: a flow that negotiated timestamps drops a non-RST,
                                 * non-SYN segment without TSopt, as RFC 7323 3.2 says it
                                 * SHOULD. 0 (the default): takes it without the PAWS
                                 * check, as FreeBSD does by default, since deployed stacks
                                 * omit TSopt on keep-alives. Counted either way
                                 * (TCPTSMissing). 1 also lets a SYN with TSopt reopen
                                 * a TIME_WAIT whose connection had none (RFC 6191) */
    int nodelay;                /* default per-flow no-delay (0: Nagle on) */
    oasis_cc_algo cc;           /* (NEWRENO) */
    uint64_t fin_wait2_ns;      /* after our FIN is acked, a peer silent this long is dead
                                 * (close completes with OASIS_ETIMEDOUT); any segment
                                 * from the peer restarts it (120 s: twice rto_max, so a
                                 * live peer in backoff is heard first; keep it above
                                 * rto_max_ns. 0: wait for the peer's FIN for ever, as
                                 * RFC 9293 does; only keepalive then finds a vanished
                                 * peer) */
    uint32_t max_write_reqs;    /* write requests pending per flow before write answers
                                 * OASIS_EAGAIN (0: OASIS_TCP_MAX_WRITE_REQS) */
    uint32_t r1_retries;        /* R1 (RFC 9293 3.8.3): after this many retransmissions of
                                 * one segment (SYN included) the neighbour is re-checked
                                 * (ARP) and OASIS_TCP_EV_RETRANSMIT reported (3) */
    uint8_t dscp;               /* Diffserv codepoint of every flow's segments, SYNs
                                 * included (0; per flow: oasis_tcp_set_dscp) */
    uint8_t ecn;                /* Explicit Congestion Notification (RFC 3168), as Linux's
                                 * net.ipv4.tcp_ecn: 0 off (SYNs neither ask nor accept);
                                 * 1 active opens ask for it (SYN with ECE+CWR) and
                                 * passive ones accept it; 2 (the default, Linux's)
                                 * passive opens accept it when the SYN asks, active
                                 * ones do not ask. A SYN retransmission asks no more
                                 * and that flow then goes without (RFC 3168 6.1.1.1);
                                 * a flow opened from a SYN cookie never has ECN. With
                                 * ECN, new data goes out ECT(0) (never ACKs, window
                                 * probes or retransmissions), an ACK with ECE halves
                                 * cwnd at most once per window of data as a loss would,
                                 * and CE-marked data is echoed with ECE until CWR
                                 * (oasis_tcp_info.ecn says whether a flow has it) */
    /* Buffer auto-tuning (issue 16). With autotune on (1, the default) a
     * flow's buffers start at sndbuf_init/rcvbuf_init and grow while it
     * runs, up to sndbuf/rcvbuf (and the flow's own limits): the receive
     * buffer to about twice the bytes the application read in one round
     * trip (dynamic right-sizing, as Linux's tcp_rcv_space_adjust; under
     * 1 ms of RTT only while a larger window brings a higher rate), the
     * send buffer to at least twice the congestion window, in doublings
     * (bounded by the largest window the peer offered). A flow given a size (listen/connect
     * options, oasis_tcp_set_bufsizes) keeps it: no tuning on that side, as
     * SO_RCVBUF/SO_SNDBUF in Linux. Buffers never shrink while the flow
     * lives; the window's right edge never moves back. 0: every flow gets
     * sndbuf/rcvbuf. */
    int autotune;
    uint32_t sndbuf_init, rcvbuf_init; /* (64 KiB each; at most sndbuf/rcvbuf) */
    /* Stack-wide memory budget for TCP buffer memory: the storage of every
     * flow's send and receive rings and out-of-order data, as allocated
     * (oasis_counters tcp.mem_bytes; metric TCPMemBytes). 0: no limit (the
     * default). Above mem_pressure (0: three quarters of mem_limit) the
     * stack is under memory pressure until use falls below three quarters
     * of that mark: no buffer grows, new flows get buf_min buffers, only a
     * ring (one side of a flow) holding less than buf_min of storage takes
     * more, up to buf_min (the rest of the budget stays for flows that hold
     * next to nothing: a new connection's request and answer get through
     * while flows that stopped reading hold their memory), windows
     * offer at most 4 segments of new room (an edge already advertised
     * stays), out-of-order segments are dropped. At mem_limit received
     * in-order data that needs more storage is dropped (the flow's
     * out-of-order data goes first; the peer retransmits) and writes take
     * only what fits in storage already held (a flow holding none tries
     * again every rto_min_ns: writes are flow controlled by memory too).
     * Every such event is counted (TCPMemoryPressures, TCPMemNoGrow,
     * TCPMemMinBuf, TCPMemWinClamp, TCPRcvQDrop, TCPOFOMemDrop,
     * TCPMemSndLimited). */
    uint64_t mem_limit;
    uint64_t mem_pressure;
    uint32_t buf_min;           /* buffers of flows opened under pressure, and the
                                 * storage every ring may reach under it (4 KiB) */
    int soft_errors_end_connect; /* 1: a soft ICMP or ICMPv6 error about a connection
                                  * attempt (SYN_SENT: host or network unreachable,
                                  * time exceeded, parameter problem; also the next hop
                                  * not resolving, ip/unreach.c) ends it at once with
                                  * that error, as Linux and the BSDs do (RFC 5461 4:
                                  * no long wait before trying another address). 0 (the
                                  * default): RFC 9293 MUST-56; the attempt goes on,
                                  * the error is reported (OASIS_TCP_EV_ICMP) and told
                                  * again if the SYN retries run out. Connections past
                                  * SYN_SENT never end on a soft error either way */
} oasis_tcp_config;

#define OASIS_TCP_MAX_WRITE_REQS 4096u

/* Scatter/gather element for writev. */
typedef struct oasis_iovec {
    const void *base;
    size_t len;
} oasis_iovec;

/* ---- callbacks --------------------------------------------------------- */

/* Connect completion: flow is set when err == 0; err is OASIS_EREFUSED (the
 * peer reset), OASIS_ETIMEDOUT (SYN retries ran out) or the soft error that
 * explains that timeout (OASIS_EHOSTUNREACH: an ICMP host unreachable, or
 * no ARP/ND answer from the neighbour; OASIS_ENETUNREACH ...; see
 * OASIS_TCP_EV_ICMP), a hard ICMP error (OASIS_EPROTOUNREACH, or
 * OASIS_EREFUSED for a port unreachable) or OASIS_ECANCELED (closed or aborted
 * before it completed, disconnect, stack shut down) otherwise, and flow is
 * NULL (oasis_tcp_connect) or the handle oasis_tcp_connect_flow gave: that
 * flow is over (reads report OASIS_EOF, writes OASIS_ECLOSED, a close
 * completes at once); close or release it. */
typedef void (*oasis_connect_cb)(oasis_stack *s, oasis_flow *flow, int err, void *ud);

/* A listener's callback: one call per established flow, keepalive already
 * applied. The application owns the flow from here on. */
typedef void (*oasis_accept_cb)(oasis_stack *s, oasis_flow *flow, void *ud);

/* Read completion. err == 0: `data`/`len` hold at least one byte; the bytes
 * are borrowed (zero copy, straight from the receive buffer) and valid only
 * until the callback returns (copy what you keep). err == OASIS_EOF: end of
 * stream (see oasis_tcp_read). OASIS_ECANCELED: oasis_tcp_abort(),
 * oasis_tcp_disconnect() or stack shut down. */
typedef void (*oasis_read_cb)(oasis_flow *flow, int err, const uint8_t *data, size_t len,
                              void *ud);

/* Write/close completion: 0, OASIS_ECLOSED, OASIS_ETIMEDOUT, OASIS_ERESET,
 * OASIS_ECANCELED; a close of a flow whose attempt failed (connect_flow)
 * completes with the connect's error (OASIS_EREFUSED, ...), as
 * oasis_tcp_flow_error() says. Write and close callbacks may be NULL (fire
 * and forget). */
typedef void (*oasis_flow_cb)(oasis_flow *flow, int err, void *ud);

/* ---- operations -------------------------------------------------------- */

/* Active open to (dst, port) from an ephemeral port (49152..65535); dst
 * is an IPv4 or an IPv6 address (the source is chosen by the family's
 * layer: RFC 6724 for IPv6). keepalive may be NULL (none); it is copied.
 * OASIS_EADDRINUSE when no
 * ephemeral port is free towards (dst, port) (TIME_WAIT holds them for
 * 2*MSL). OASIS_EBADDEST at once for an address that is no single host's
 * (0.0.0.0, broadcast, multicast, 240/4, our subnet's network address;
 * ::, multicast, IPv4-mapped ::ffff:0:0/96 as an IPv6 address, RFC 6890
 * 2.2.3; RFC 1122 4.2.3.10), OASIS_ENOROUTE at once when nothing
 * routes dst (IPv6 off or no usable source address: OASIS_ENOROUTE too).
 * The SYN is retransmitted cfg.syn_retries times with exponential
 * backoff from cfg.rto_initial_ns (1, 2, 4... s, at most cfg.rto_max_ns)
 * before OASIS_ETIMEDOUT: 183 s by default. */
int oasis_tcp_connect(oasis_stack *s, const oasis_ipaddr *dst, uint16_t port,
                      const oasis_keepalive *keepalive, oasis_connect_cb cb, void *ud);
/* The same to an IPv4 address in host order. */
int oasis_tcp_connect4(oasis_stack *s, uint32_t dst, uint16_t port,
                       const oasis_keepalive *keepalive, oasis_connect_cb cb, void *ud);

/* Like oasis_tcp_connect, but the application holds the flow at once
 * (*flow) and must release it, also when the attempt fails. Before the
 * handshake completes it may write (queued until ESTABLISHED, RFC 9293
 * 3.10.2), read, shut down, close or abort it: close in SYN-SENT deletes
 * the TCB (RFC 9293 3.10.4), the connect callback gets OASIS_ECANCELED,
 * queued writes OASIS_ECLOSED, then close completes with 0; abort there
 * sends nothing and completes every request (the connect's too) with
 * OASIS_ECANCELED before it returns. */
int oasis_tcp_connect_flow(oasis_stack *s, const oasis_ipaddr *dst, uint16_t port,
                           const oasis_keepalive *keepalive, oasis_connect_cb cb, void *ud,
                           oasis_flow **flow);
int oasis_tcp_connect_flow4(oasis_stack *s, uint32_t dst, uint16_t port,
                            const oasis_keepalive *keepalive, oasis_connect_cb cb, void *ud,
                            oasis_flow **flow);

/* Address families a listener accepts (oasis_listen_opts.families). */
#define OASIS_TCP_LISTEN_V4 1u
#define OASIS_TCP_LISTEN_V6 2u

/* Buffer sizes of one flow, chosen before the handshake (the window in the
 * SYN or SYN-ACK and the window scale follow them). sndbuf/rcvbuf: a fixed
 * size, 1 KiB..1 GiB; auto-tuning is then off for that side. 0: tuned,
 * starting at cfg.sndbuf_init/rcvbuf_init and growing up to cfg.sndbuf /
 * cfg.rcvbuf. rcvbuf_max: a tuned receive buffer starts no larger and
 * grows no further than this either (0: the stack's limit; at least 1 KiB,
 * else OASIS_EINVAL, as for a fixed size); it sets the window scale, so it
 * is kept as 65535 << scale, i.e. rounded up to less than twice its value. */
typedef struct oasis_tcp_bufsizes {
    uint32_t sndbuf, rcvbuf;
    uint32_t rcvbuf_max;
} oasis_tcp_bufsizes;

/* Options of oasis_tcp_connect_opts; zero everywhere: as oasis_tcp_connect. */
typedef struct oasis_connect_opts {
    const oasis_keepalive *keepalive; /* NULL: none */
    oasis_tcp_bufsizes bufs;          /* zero: the stack's */
    /* The local address to open from (RFC 1122 4.2.4.4, RFC 9293 MUST-43):
     * family 0, 0.0.0.0 or ::: the stack chooses (RFC 6724 for IPv6).
     * IPv6: any address of ours past DAD, preferred or deprecated (an
     * explicit choice may use a deprecated one, RFC 6724 and RFC 4862
     * 5.5.4), link-local included, or ::1 when dst is ::1 or ours (it
     * never leaves the stack). IPv4: the one address the stack would use
     * anyway (the stack's, or dst itself on 127/8). */
    oasis_ipaddr local;
} oasis_connect_opts;

/* oasis_tcp_connect (flow NULL) or oasis_tcp_connect_flow (flow set) with
 * options; opts may be NULL. OASIS_EINVAL for a buffer size out of range
 * or a local address of the other family than dst; OASIS_EADDRNOTAVAIL
 * for a local address that is not ours (or still tentative, or found
 * duplicate). */
int oasis_tcp_connect_opts(oasis_stack *s, const oasis_ipaddr *dst, uint16_t port,
                           const oasis_connect_opts *opts, oasis_connect_cb cb, void *ud,
                           oasis_flow **flow);
int oasis_tcp_connect_opts4(oasis_stack *s, uint32_t dst, uint16_t port,
                            const oasis_connect_opts *opts, oasis_connect_cb cb, void *ud,
                            oasis_flow **flow);

typedef struct oasis_listen_opts {
    const oasis_keepalive *keepalive; /* NULL: none */
    uint32_t backlog;                 /* 0: the stack default */
    int paused;                       /* 1: start paused (oasis_tcp_accept_pause) */
    unsigned families;                /* OASIS_TCP_LISTEN_V4 | _V6; 0: both (the default:
                                       * a listener takes IPv4 and IPv6 SYNs alike) */
    oasis_tcp_bufsizes bufs;          /* every accepted flow's (zero: the stack's) */
    /* Only SYNs to this address of ours (RFC 1122 4.2.4.4's passive OPEN
     * with a local address); the others are answered as for a closed port.
     * Family 0, 0.0.0.0 or ::: every address of ours. IPv4: the stack's
     * address or one of 127/8; IPv6: an address the stack holds, tentative
     * included (its DAD may still pass), or ::1. It implies its family: families
     * must then be 0 or include it. */
    oasis_ipaddr local;
    /* Deferred hand-over, as Linux's TCP_DEFER_ACCEPT and FreeBSD's
     * accf_data, for protocols whose client speaks first (HTTP): an
     * established flow reaches the callback (or oasis_tcp_accept) only once
     * its peer has sent data or a FIN, or once it has waited defer_ns; a
     * flow that is ready goes before older ones that are not. Until then it
     * waits in the backlog (so SYNs beyond it get cookies), and the pure
     * ACK of a SYN cookie opens no flow at all (TCPDeferAcceptDrop): the
     * peer's first data, which carries the same cookie, does. So clients
     * that connect and say nothing hold no application slot, and at most
     * the backlog's worth of stack state. The price: past the backlog a
     * peer's first data, not its bare ACK, must find room in the queue
     * (twice the backlog), else it waits for the peer's retransmission;
     * size the backlog for the overload expected. 0: hand over at once. */
    uint64_t defer_ns;
    /* A transparent stack's listener (oasis_stack_config.transparent;
     * OASIS_EINVAL on another): it takes SYNs to any unicast address, not
     * only the stack's own, and an accepted flow's local address
     * (oasis_tcp_src) is the one its peer asked for. With port 0 it takes
     * every port that no other listener takes for the SYN's address: one
     * listener terminates every connection, as a tun2socks program wants.
     * local must then be unset. */
    int transparent;
    /* IP header fields of the SYN-ACKs (SYN cookies' too) and of every
     * accepted flow's segments, as oasis_tcp_set_dscp and oasis_tcp_set_ttl
     * set them on a flow (which may still change them after the accept):
     * with set_dscp 1, dscp (0..63; more is OASIS_EINVAL) instead of
     * cfg.tcp.dscp; ttl (1..255) instead of the stack's cfg.ttl (0). */
    uint8_t set_dscp, dscp;
    uint8_t ttl;
} oasis_listen_opts;

/* Accepts connections on port, on every address of ours, over IPv4 and
 * IPv6 (opts->families and opts->local narrow it, opts->transparent widens
 * it to every address and, with port 0, every port); opts may be NULL.
 * Returns OASIS_EADDRINUSE if the port is already listened on (one
 * listener per port, whatever its families and local address),
 * OASIS_EINVAL for a buffer size out of range (oasis_tcp_bufsizes), a
 * keepalive with a zero interval_ns or probes (after_ns 0 is valid, as
 * oasis_keepalive says), an unknown family bit or one that excludes
 * opts->local,
 * OASIS_EADDRNOTAVAIL for a local address not ours. SYNs beyond the
 * backlog (half-open plus
 * established but not yet handed to cb) are counted as listen_overflows and
 * answered with a SYN cookie (RFC 4987): no state is kept, and a flow opened
 * from a cookie has an MSS but no window scaling, SACK or timestamps. cb runs
 * from the dispatcher after the handshake. */
int oasis_tcp_listen(oasis_stack *s, uint16_t port, const oasis_listen_opts *opts, oasis_accept_cb cb,
                     void *ud);

/* Stops accepting on port (half-open handshakes on it are reset); flows
 * already established live on. Flows still waiting in a paused backlog
 * (below) were never taken: they are reset too. An established flow not
 * yet handed over (its handshake completed since the last dispatch, or in
 * the round whose accept callback unlistens) still goes to the callback,
 * with the listener's ud, after this returned: keep ud valid until the
 * stack's next poll has returned. OASIS_ENOENT if not listening. */
int oasis_tcp_unlisten(oasis_stack *s, uint16_t port);

/* Accept control, in the spirit of libuv's uv_listen + uv_accept: an
 * application that cannot take another connection right now (it is at its
 * own limit) pauses the listener instead of accepting and resetting.
 *
 * While a listener is paused its callback is not called. Handshakes still
 * complete, and established flows wait in the backlog, oldest first (a flow
 * joins the queue at the poll after its handshake); the peer may send data,
 * which is buffered and acknowledged as usual, and a waiting flow that the
 * peer resets or that dies is dropped from the queue. The backlog counts
 * half-open and waiting flows: once it is full, SYNs are answered with SYN
 * cookies (no state kept, see oasis_tcp_listen), and cookie ACKs open flows
 * that wait too, up to twice the backlog; beyond that SYNs are dropped
 * unanswered (in ListenOverflows; the peer's connect retries, as against Linux at
 * a full accept queue), and an ACK of a cookie sent before is dropped and
 * its retransmission tries again later (for as long as the cookie is
 * valid, 2 counter periods, see tcp_syncookie.h).
 *
 * oasis_tcp_accept_pause: stop calling back. oasis_tcp_accept_resume: the
 * waiting flows go to the callback in arrival order from the next poll on,
 * one at a time, so a callback that pauses again leaves the rest waiting in
 * order. oasis_tcp_accept: takes the oldest waiting flow now (paused or
 * not; the callback is not called for it) and returns it, NULL when none
 * waits. oasis_tcp_accept_waiting: how many established flows wait. With
 * defer_ns (oasis_listen_opts), both see only the flows whose turn may
 * come: those whose peer has spoken or whose deferral is over.
 * Pause and resume return 0 or OASIS_ENOENT (not listening on port). */
int oasis_tcp_accept_pause(oasis_stack *s, uint16_t port);
int oasis_tcp_accept_resume(oasis_stack *s, uint16_t port);
oasis_flow *oasis_tcp_accept(oasis_stack *s, uint16_t port);
uint32_t oasis_tcp_accept_waiting(oasis_stack *s, uint16_t port);

/* Waits for data. One read may be pending per flow (else OASIS_EBUSY).
 * After the peer's FIN, reads return the remaining data, then OASIS_EOF;
 * OASIS_EOF is sticky (later reads complete with it at once, on the next
 * poll). A reset or a keepalive/retransmission death also ends the stream:
 * the bytes received in order before it are still read, then OASIS_EOF;
 * oasis_tcp_flow_error() tells why (OASIS_ERESET or OASIS_ETIMEDOUT).
 * On a finished handle: OASIS_ECLOSED (refused; the callback never runs). */
int oasis_tcp_read(oasis_flow *flow, oasis_read_cb cb, void *ud);

/* Queues bytes for sending. The stack COPIES the bytes into the flow's send
 * buffer as room becomes available; the caller's buffer must stay valid until
 * the callback runs and may be reused from then on. Completes with 0 when
 * every byte was taken (not when the peer read them), OASIS_ECLOSED when the
 * flow was closed (by close, reset or death) before all bytes were taken.
 * When the send buffer is full the completion waits: writes are flow
 * controlled. Several writes may be pending; they are sent in order.
 * A write on a flow that is already closed (close called, reset, dead) is
 * accepted (returns 0) and its callback gets OASIS_ECLOSED on the next poll:
 * the contract's "write returns Closed"; without a callback the call
 * itself returns OASIS_ECLOSED, as nothing else would tell. Nagle applies unless the flow's
 * no-delay attribute is on. Pending requests are bounded per flow
 * (cfg.max_write_reqs): beyond, write is refused with OASIS_EAGAIN (wait
 * for a completion; oasis_tcp_get_sndbuf tells how full things are). On a
 * finished handle: OASIS_ECLOSED (refused). When every byte fits in the send
 * buffer and no earlier write waits, the bytes are taken within the call
 * (the buffer may be reused at once) and the callback still runs only on
 * the next poll, never inside the call; cb may be NULL (nothing is
 * reported). Without a callback nothing says when bytes not taken within
 * the call have been copied: the buffer must then stay valid until
 * oasis_tcp_get_sndbuf's pending is 0 (or the flow is finished or
 * released), so pass a callback, or write only what fits (its room).
 * OASIS_EINVAL for flow NULL, data NULL with len nonzero, or len over
 * PTRDIFF_MAX (no buffer is that long: a length gone wrong); the same
 * for each piece of oasis_tcp_writev. */
int oasis_tcp_write(oasis_flow *flow, const void *data, size_t len, oasis_flow_cb cb, void *ud);

/* Like oasis_tcp_write for several buffers, with the same rule for when
 * the bytes are taken (the iov array itself is always copied within the
 * call). OASIS_EINVAL also for iov NULL with iovcnt nonzero, iovcnt over
 * 2^20, or lengths whose sum passes SIZE_MAX. */
int oasis_tcp_writev(oasis_flow *flow, const oasis_iovec *iov, size_t iovcnt, oasis_flow_cb cb,
                     void *ud);

/* Like write, but sent at once without Nagle delay, and the callback runs
 * only when the peer has acknowledged every byte. */
int oasis_tcp_write_nodelay(oasis_flow *flow, const void *data, size_t len, oasis_flow_cb cb,
                            void *ud);
int oasis_tcp_writev_nodelay(oasis_flow *flow, const oasis_iovec *iov, size_t iovcnt,
                             oasis_flow_cb cb, void *ud);

/* Urgent data (RFC 9293 3.8.5; RFC 6093): like oasis_tcp_write, and the
 * bytes are marked urgent: from now until the peer acknowledges them, every
 * segment we send whose sequence number is below the end of this write
 * carries URG with the urgent pointer at the byte after the last urgent
 * one (RFC 9293 MUST-62; clipped to 65535 ahead of a segment, as Linux).
 * The bytes stay in the normal stream, in order (no out-of-band byte, the
 * RFC 6093 way) and are pushed (no Nagle delay). RFC 9293 SHLD-13: new
 * applications should not use it; it is here for old protocols (telnet,
 * FTP's ABOR). len 0: OASIS_EINVAL. */
int oasis_tcp_write_urgent(oasis_flow *flow, const void *data, size_t len, oasis_flow_cb cb,
                           void *ud);

/* Urgent bytes the application has yet to read: from the next byte a read
 * returns up to the peer's urgent pointer (bytes not yet arrived
 * included), 0 when nothing urgent is pending (RFC 9293 MUST-33). Reads
 * are not split at the pointer; an application that must know where the
 * urgent data ends reads on and counts this figure down. */
uint32_t oasis_tcp_urgent_pending(const oasis_flow *flow);

/* Asynchronous reports (RFC 9293 3.9.1.8, libuv style): events about a
 * flow that no request waits for. The callback runs from the dispatcher
 * (oasis_stack_poll / oasis_stack_input, never inside an API call), before
 * the read callback of the same round; several occurrences of one kind
 * between two rounds are reported once. Kinds may be added: ignore the
 * unknown ones. */
typedef enum oasis_tcp_event {
    /* The peer's urgent pointer arrived while nothing urgent was pending,
     * or advanced (RFC 9293 MUST-32); oasis_tcp_urgent_pending() says how
     * much. Reported also while our receive window is zero. */
    OASIS_TCP_EV_URGENT = 1,
    /* Delivery problem (RFC 9293 SHLD-9): a segment (or our SYN) was
     * retransmitted cfg.r1_retries times without an acknowledgment. The
     * flow goes on trying until data_retries/syn_retries run out (R2);
     * once per episode: an ACK of new data starts a new one. */
    OASIS_TCP_EV_RETRANSMIT = 2,
    /* An ICMP or ICMPv6 error about the flow's segments arrived and the
     * flow goes on (RFC 9293 3.9.1.8 MUST-47 lists "ICMP error message
     * arrived" among the reports; 3.9.2.2: soft errors, SHLD-25), or a
     * segment's next hop did not resolve (ARP or Neighbour Discovery gave
     * up). oasis_tcp_flow_soft_error() says which. Not reported: errors
     * that end the flow (the callbacks say), fragmentation needed / Packet
     * Too Big (path MTU discovery acts on it) and source quench (MUST-55). */
    OASIS_TCP_EV_ICMP = 3
} oasis_tcp_event;
typedef void (*oasis_tcp_event_cb)(oasis_flow *flow, oasis_tcp_event ev, void *ud);

/* Sets the flow's report routine (NULL: no reports, the default; RFC 9293
 * SHLD-20 lets the application turn them off). 0 or OASIS_ECLOSED. */
int oasis_tcp_set_event_cb(oasis_flow *flow, oasis_tcp_event_cb cb, void *ud);

/* Half-close: flushes pending writes, sends FIN. Reading goes on until
 * OASIS_EOF. The callback runs when the peer has closed too (or with an error
 * if the flow dies); every read and write issued before it (also from the
 * callbacks that precede it) completes before it, and none after: the
 * handle is finished when it runs (release it there). On a flow that
 * already ended (reset, death) it completes at the next poll with
 * oasis_tcp_flow_error(). A peer that acks our FIN but then falls silent
 * without sending its own is given up after cfg.fin_wait2_ns (120 s by
 * default; callback: OASIS_ETIMEDOUT); 0 waits for ever. Closing twice: OASIS_EBUSY; a finished handle:
 * OASIS_ECLOSED. With cb NULL (close and forget) the application gives the
 * handle back now: the stack finishes the close and frees the flow itself. */
int oasis_tcp_close(oasis_flow *flow, oasis_flow_cb cb, void *ud);

/* shutdown (mirage-tcpip 8): READ: reads report OASIS_EOF from now on (a
 * pending read at once, on the next poll), data that arrives is
 * acknowledged and dropped. WRITE: pending writes are flushed, then a FIN;
 * later writes complete with OASIS_ECLOSED; unlike close, nothing waits for
 * the peer's FIN and the handle stays the application's (close or release
 * it later). READ_WRITE: both. OASIS_EINVAL for another value; a finished
 * handle: OASIS_ECLOSED. */
typedef enum oasis_tcp_shutdown_how {
    OASIS_TCP_SHUT_READ = 1,
    OASIS_TCP_SHUT_WRITE = 2,
    OASIS_TCP_SHUT_READ_WRITE = 3
} oasis_tcp_shutdown_how;
int oasis_tcp_shutdown(oasis_flow *flow, oasis_tcp_shutdown_how how);

/* Sends RST (nothing in SYN-SENT) and ends the flow at once. Pending
 * requests complete with OASIS_ECANCELED before this returns (writes
 * already completed keep their status), in order: read, writes, close; the
 * handle is finished, still to be released. Safe from inside any callback,
 * of this flow or another. Called again from a callback that an abort or
 * oasis_tcp_disconnect() is running for this flow, it completes the
 * requests still owed before it returns too, each exactly once (the outer
 * call then finds none left); requests from such a callback (read, write,
 * close, shutdown) are refused with OASIS_ECLOSED. Otherwise a no-op on a
 * finished handle. */
void oasis_tcp_abort(oasis_flow *flow);

/* Gives the handle back: the pointer must not be used afterwards. A flow
 * still open is aborted first (as oasis_tcp_abort, callbacks included).
 * Safe from inside the flow's callbacks (the memory goes when they
 * return). NULL is accepted. */
void oasis_tcp_release(oasis_flow *flow);

/* Remote address and port (either pointer may be NULL). */
void oasis_tcp_dst(const oasis_flow *flow, oasis_ipaddr *addr, uint16_t *port);
/* Local address and port. */
void oasis_tcp_src(const oasis_flow *flow, oasis_ipaddr *addr, uint16_t *port);
/* The same as host-order IPv4 addresses (0 for an IPv6 flow). */
void oasis_tcp_dst4(const oasis_flow *flow, uint32_t *addr, uint16_t *port);
void oasis_tcp_src4(const oasis_flow *flow, uint32_t *addr, uint16_t *port);

/* Why the flow ended: 0 while alive or after an orderly close, else
 * OASIS_ERESET, OASIS_ETIMEDOUT, OASIS_ECANCELED (abort, disconnect), or
 * for an attempt that failed the connect callback's error (OASIS_EREFUSED
 * when the peer reset it, ...). */
int oasis_tcp_flow_error(const oasis_flow *flow);
/* The last soft error heard of while the flow lives (OASIS_TCP_EV_ICMP):
 * OASIS_EHOSTUNREACH, OASIS_ENETUNREACH, OASIS_EPROTOUNREACH, OASIS_EREFUSED
 * or OASIS_EMALFORMED; 0 when none, and again once a segment from the peer
 * shows the path works. If the flow then times out, oasis_tcp_flow_error()
 * says this rather than OASIS_ETIMEDOUT (RFC 1122 4.2.3.9). */
int oasis_tcp_flow_soft_error(const oasis_flow *flow);
/* The same in words that say what happened ("connection timed out:
 * keepalive probes went unanswered", "connection reset by peer", ...);
 * static string, never NULL. */
const char *oasis_tcp_flow_strerror(const oasis_flow *flow);

/* Send-side figures a sockets layer needs (SIOCOUTQ, SO_SNDBUF...). */
typedef struct oasis_tcp_sndbuf {
    uint32_t size;         /* send buffer capacity, bytes */
    uint32_t unsent;       /* in the buffer, not yet sent */
    uint32_t unacked;      /* sent, not yet acknowledged */
    uint32_t room;         /* the buffer can still take (0 once writing is over) */
    uint64_t pending;      /* bytes of write requests not yet taken into the buffer */
    uint32_t requests;     /* write requests not yet completed */
    uint32_t max_requests; /* the bound on those (cfg.max_write_reqs) */
} oasis_tcp_sndbuf;
int oasis_tcp_get_sndbuf(const oasis_flow *flow, oasis_tcp_sndbuf *out);

/* Per-flow no-delay attribute: when on, every write behaves as write with
 * Nagle off (completion semantics of write are unchanged). */
int oasis_tcp_set_nodelay(oasis_flow *flow, int on);
/* Per-flow congestion control (the stack default is oasis_tcp_config.cc).
 * Allowed until the flow has sent data: OASIS_EINVAL afterwards, for an
 * unknown algorithm, or on a flow that is closing; OASIS_ECLOSED on a
 * finished handle (as every setter). */
int oasis_tcp_set_cc(oasis_flow *flow, oasis_cc_algo algo);
/* Per-flow buffer sizes, 1 KiB..1 GiB (before data flows; resizing a buffer
 * that holds data, or shrinking the receive buffer below the window already
 * advertised, is refused with OASIS_EINVAL). Both sizes are then fixed:
 * auto-tuning is off for the flow. The window scale was fixed at the
 * handshake by the flow's largest receive buffer (its options, else
 * cfg.rcvbuf), so a receive buffer larger than 65535 << scale is only
 * partly advertised; give sizes at listen or connect to avoid that. */
int oasis_tcp_set_bufsizes(oasis_flow *flow, uint32_t sndbuf, uint32_t rcvbuf);
/* IP header fields of the flow's segments (RFC 9293 3.9.1.9, 3.9.2):
 * the Diffserv codepoint (0..63, RFC 2474; the two ECN bits below it are
 * the stack's) and the TTL (1..255; 0: back to the stack's cfg.ttl). They
 * apply to every segment sent from then on, retransmissions included, and
 * may change during the connection (SHLD-21; SHLD-23: better not). A flow
 * starts with cfg.tcp.dscp; set them on an oasis_tcp_connect_flow handle
 * at once and the SYN's retransmissions carry them. OASIS_EINVAL for a
 * value out of range. */
int oasis_tcp_set_dscp(oasis_flow *flow, uint8_t dscp);
int oasis_tcp_set_ttl(oasis_flow *flow, uint8_t ttl);

/* Keepalive for one flow (NULL: off); the idle clock restarts now. Probes
 * are sent in ESTABLISHED, CLOSE_WAIT and FIN_WAIT_2 (after our FIN was
 * acked: with cfg.fin_wait2_ns 0 they are what finds a vanished peer). */
int oasis_tcp_set_keepalive(oasis_flow *flow, const oasis_keepalive *keepalive);
/* Gives back the storage of the flow's empty buffers (receive and send
 * rings, out-of-order and sent-segment records; each grows again when used).
 * For servers that hold many idle connections: an idle flow then costs its
 * TCB only. 0, OASIS_ECLOSED (finished handle) or OASIS_EINVAL (NULL). */
int oasis_tcp_trim(oasis_flow *flow);

void oasis_flow_set_user_data(oasis_flow *flow, void *ud);
void *oasis_flow_user_data(const oasis_flow *flow);
oasis_stack *oasis_flow_stack(const oasis_flow *flow);

/* The IP layer's entry point: one TCP segment (IP payload) from src to dst,
 * both of one family (the pseudo-header checksum is the family's). The
 * stack's IPv4 and IPv6 layers call this themselves; it is public for
 * users who run their own IP layer. The segment is borrowed. */
void oasis_tcp_input(oasis_stack *s, const oasis_ipaddr *src, const oasis_ipaddr *dst,
                     const uint8_t *seg, size_t len);
/* The same for IPv4 (host-order addresses). */
void oasis_tcp_input4(oasis_stack *s, uint32_t src, uint32_t dst, const uint8_t *seg, size_t len);

/* Shuts the whole TCP layer down: every listener goes, every flow is reset,
 * every pending request completes with OASIS_ECANCELED before this returns
 * (connect and listen from those callbacks: OASIS_ECANCELED), also what an
 * abort whose callback called this still owed; handles the application
 * holds are finished, still to be released. Called again from a callback
 * it runs, it returns at once and the outer call completes the rest. Never
 * fails; the stack stays usable for other layers and new TCP work. */
void oasis_tcp_disconnect(oasis_stack *s);

/* RFC 9293 states. */
typedef enum oasis_tcp_state {
    OASIS_TCP_CLOSED, OASIS_TCP_LISTEN, OASIS_TCP_SYN_SENT, OASIS_TCP_SYN_RECEIVED,
    OASIS_TCP_ESTABLISHED, OASIS_TCP_FIN_WAIT_1, OASIS_TCP_FIN_WAIT_2, OASIS_TCP_CLOSE_WAIT,
    OASIS_TCP_CLOSING, OASIS_TCP_LAST_ACK, OASIS_TCP_TIME_WAIT
} oasis_tcp_state;

const char *oasis_tcp_state_name(oasis_tcp_state st);

/* Per-flow figures in the spirit of Linux tcp_info. */
typedef struct oasis_tcp_info {
    oasis_tcp_state state;
    uint32_t local_addr, remote_addr; /* IPv4 flows (host order); 0 for IPv6 */
    uint16_t local_port, remote_port;
    oasis_ipaddr local, remote;       /* either family */
    uint64_t srtt_ns, rttvar_ns, rto_ns;
    uint32_t mss_send, mss_recv;
    uint32_t cwnd, ssthresh;    /* bytes */
    uint32_t bytes_in_flight;
    uint32_t snd_wnd, rcv_wnd;  /* bytes */
    uint32_t sndbuf, rcvbuf;    /* buffer sizes now: tuned ones grow while the flow
                                   runs (oasis_tcp_config.autotune), fixed ones stay */
    uint64_t retransmits;       /* segments retransmitted */
    uint64_t bytes_acked, bytes_received;
    uint64_t segs_in, segs_out;
    uint8_t snd_wscale, rcv_wscale;
    int timestamps, sack;
    uint32_t path_mtu;          /* datagram size segments are cut to now: the link's,
                                   or lower by path MTU discovery (ICMP, RFC 1191;
                                   black-hole detection, RFC 4821) */
    int ecn;                    /* 1: ECN negotiated (RFC 3168; cfg.tcp.ecn) */
} oasis_tcp_info;

int oasis_tcp_get_info(const oasis_flow *flow, oasis_tcp_info *info);

/* Calls fn for every flow the application holds and has not finished
 * (metrics; closing idle flows); the flows of clients inside the library
 * (the DNS resolver's TCP tries, the metrics reporter's connection, the
 * connections of the metrics control port and of the Prometheus server)
 * are theirs, not visited. fn may
 * close, abort or release any flow, the one it was given too (as libuv's
 * uv_walk callback may uv_close): the walk goes on by address, so a flow
 * released meanwhile is never read again, and a flow finished before its turn is not visited. Callbacks
 * that an abort or release from fn runs follow the rules of tcp_abort.
 * Flows opened meanwhile may or may not be visited. oasis_stack_destroy()
 * from fn (or those callbacks) is refused with OASIS_EBUSY. */
void oasis_tcp_foreach_flow(oasis_stack *s, void (*fn)(oasis_flow *flow, void *ud), void *ud);

#ifdef __cplusplus
}
#endif
#endif
