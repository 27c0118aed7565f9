/* Buffer auto-tuning and the stack-wide TCP memory budget (issue 16).
 *
 * Sizes. Each side of a flow is either fixed (the application gave a size,
 * or cfg.autotune is off: f->rcv_fixed / snd_fixed) or tuned: it starts at
 * cfg.rcvbuf_init / sndbuf_init and only grows, up to the stack's limit
 * (cfg.rcvbuf / sndbuf) and, for the receive side, what the window scale
 * can advertise. The window scale is chosen at SYN time for the largest
 * receive buffer the flow may reach (its rcvbuf_max, else cfg.rcvbuf).
 *
 * Receive side: dynamic right-sizing (Linux's tcp_rcv_space_adjust), with
 * the corrections Linux made for short paths. The RTT is the receiver's
 * own, minimum-latched: the time the peer takes to send a buffer's worth
 * beyond what we hold (Linux's tcp_rcv_rtt_measure), bounded by the
 * smoothed RTT (a pure receiver's is its handshake sample). At least once
 * per RTT (four on a path under 1 ms) the bytes the application consumed
 * are scaled to one RTT (delivery rate x RTT) and compared with the last
 * growth: the buffer grows to hold that (or the largest batch read at one
 * instant, if more) twice over, plus twice the growth for a sender in slow
 * start; under 1 ms (Linux's tcp_rcvbuf_low_rtt) by a quarter plus a share
 * that grows with the RTT, and only when the rate rose by an eighth since
 * the last growth: a flow that processing limits (an in-memory wire) gains
 * nothing from a larger window, so its buffer stays small.
 *
 * Send side: at least twice the congestion window, bounded by the largest
 * window the peer ever offered (more could never be in flight), so the
 * application can queue the next window's worth while one is in flight. It
 * grows in doublings: a writer keeps the buffer full, and each step copies
 * its storage (tcp_buf.h).
 *
 * Budget: the storage of every ring and out-of-order range is charged to
 * s->ctr.tcp.mem_bytes as it is allocated or freed (tcp_buf.c, tcp_ofo.c).
 * What pressure and the limit do is in include/oasis/tcp.h (mem_limit). */
#ifndef OASIS_TCP_TUNE_H
#define OASIS_TCP_TUNE_H

#include <stdint.h>

#include "oasis/tcp.h"

/* Sizes 1 KiB..1 GiB or 0 (limits: any, clamped). NULL is valid. */
int oasis_tcp_bufsizes_valid(const oasis_tcp_bufsizes *b);
/* A new flow's buffers and window scale from its options (b may be NULL),
 * before its SYN or SYN-ACK goes out. */
void oasis_tcp_tune_init(oasis_flow *f, const oasis_tcp_bufsizes *b);
/* The window a SYN cookie offers for a listener's flows (no scaling). */
uint32_t oasis_tcp_tune_cookie_window(oasis_stack *s, const oasis_tcp_bufsizes *b);
/* The application consumed n received bytes at now: right-sizing
 * (tcp_dispatch.c). A read counts its bytes; the measure itself runs once
 * per RTT. */
void oasis_tcp_rcv_adjust(oasis_flow *f, uint32_t n, uint64_t now);
/* An ACK moved the congestion window: the send buffer follows (tcp_input.c). */
void oasis_tcp_snd_adjust(oasis_flow *f);
/* The application fixed both sizes (oasis_tcp_set_bufsizes). */
void oasis_tcp_tune_lock(oasis_flow *f);

/* Buffer storage allocated (delta > 0) or freed (< 0). */
void oasis_tcp_mem_charge(oasis_stack *s, int64_t delta);
/* 1 while the stack is under memory pressure. */
int oasis_tcp_mem_pressure(const oasis_stack *s);
/* Bytes of storage that may still be allocated before the limit
 * (UINT64_MAX: no limit). */
uint64_t oasis_tcp_mem_avail(const oasis_stack *s);
/* Bytes a flow's send ring may take now (the budget; at most its free room). */
uint32_t oasis_tcp_snd_room(oasis_flow *f);
/* Received in-order bytes the receive ring may take now, n at most: when
 * the limit is near the flow's out-of-order data goes first. */
uint32_t oasis_tcp_rcv_room(oasis_flow *f, uint32_t n);
/* Bytes the receive ring could store now, want at most, its storage
 * growing only as far as the budget lets it; counts nothing (zero-copy
 * receive asks before a segment has come: tcp_place.c). */
uint32_t oasis_tcp_rcv_storable(oasis_flow *f, uint32_t want);
/* 1 if out-of-order data may be kept now (no pressure). */
int oasis_tcp_ofo_allowed(oasis_flow *f);
/* The new room a window may offer under pressure (UINT32_MAX: no cut). */
uint32_t oasis_tcp_win_clamp(const oasis_flow *f);

#endif
