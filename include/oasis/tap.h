/* TAP link (Linux): puts a stack on a TAP device, so it talks Ethernet to
 * the kernel (and, through it, to anything the kernel routes to).
 *
 * The kernel side of the device is an ordinary interface: give it an
 * address and bring it up with `ip`, and Linux programs reach the stack as a
 * host on that subnet. A device made with
 *     ip tuntap add dev oasis0 mode tap user $USER
 * can be opened by that user without any privilege; creating a device or
 * changing its MTU needs CAP_NET_ADMIN.
 *
 * The TAP file descriptor is non-blocking. oasis_tap_input() reads the
 * frames that are ready (a batch, up to a limit) and hands each to the
 * stack; the link's send writes one frame per call. To drive a stack, either
 * use the event loop in loop.h, or wait on oasis_tap_fd() in your own loop:
 *
 *     for (;;) {
 *         wait until oasis_tap_fd(tap) is readable or
 *             oasis_stack_next_deadline(s) has come (clock time);
 *         oasis_tap_input(tap, s, 64);
 *         oasis_stack_poll(s);
 *     }
 *
 * A TAP handle has no stack of its own, so it uses libc's allocator.
 */
#ifndef OASIS_TAP_H
#define OASIS_TAP_H

#include <stddef.h>
#include <stdint.h>

#include "oasis/link.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oasis_stack oasis_stack;
typedef struct oasis_tap oasis_tap;

/* The largest MTU a Linux TAP device takes: 65535 minus the Ethernet
 * header. An MTU above it (e.g. 65535) is lowered to it. */
#define OASIS_TAP_MAX_MTU 65521u

typedef struct oasis_tap_config {
    const char *name; /* device name, e.g. "oasis0" (required, < 16 bytes) */
    uint32_t mtu;     /* 0: keep the device's MTU; else set it (576..65535) */
    int create;       /* 1: create the device if it does not exist (0) */
    int up;           /* 1: bring the kernel side up (IFF_UP) after opening (0) */
    uint32_t txqueuelen; /* 0: keep; else set the kernel side's transmit queue
                          * (frames waiting for us to read; Linux's default
                          * for TAP is 1000, and a burst beyond it is dropped
                          * and counted in the kernel's tx_dropped). Bursts of
                          * many connections want 10000 or more. Needs
                          * CAP_NET_ADMIN (`ip link set DEV txqueuelen N`). */
    int offload;      /* OASIS_TAP_OFFLOAD_AUTO (0), _ON or _OFF: see below */
    uint32_t running_wait_ms; /* how long oasis_tap_open waits, at most, for an
                               * up device to be running (1000 from
                               * oasis_tap_config_init; 0: no wait). Linux turns
                               * the carrier on when we attach but starts the
                               * device's transmit queue a moment later (its
                               * link watch, usually some ms): until then
                               * whatever the kernel sends to us, such as the
                               * answer to our first ARP request, is dropped. */
    int tun;          /* 1: a TUN device (`ip tuntap add dev NAME mode tun`):
                       * bare IP packets, no Ethernet, and the link is an IP
                       * link (OASIS_LINK_IP in oasis/link.h: no ARP, no
                       * Neighbour Discovery, every destination through the
                       * device). Offloads work as on a TAP, with offsets
                       * from the IP header (link.h); the input filter's fn
                       * gets IP packets and hands them on with
                       * oasis_stack_input_ip_offload().
                       * 0: a TAP device (the default). */
} oasis_tap_config;

/* Offloads through the virtio-net header (IFF_VNET_HDR, TUNSETOFFLOAD with
 * TUN_F_CSUM | TUN_F_TSO4): the kernel hands us TCP segments of up to
 * 64 KiB with checksums left partial, and takes super-segments from us
 * (oasis/link.h), so a bulk transfer costs a few syscalls per 64 KiB
 * instead of one per 1500-byte frame.
 *   AUTO: on when the kernel supports it, else plain frames (see
 *         oasis_tap_offload_status() for why);
 *   ON:   on, or oasis_tap_open fails (OASIS_ENOTSUP) when it cannot be;
 *   OFF:  plain frames, one per read or write. Plain frames also turn
 *         off the offloads an earlier reader of a persistent device left
 *         set (TUNSETOFFLOAD outlives its descriptor), else the kernel
 *         would still send partial checksums. */
enum { OASIS_TAP_OFFLOAD_AUTO = 0, OASIS_TAP_OFFLOAD_ON = 1, OASIS_TAP_OFFLOAD_OFF = 2 };

/* Fills cfg with the defaults (NULL is ignored). */
void oasis_tap_config_init(oasis_tap_config *cfg);

/* Opens the TAP device. Returns 0, or:
 *   OASIS_ENOENT  no such device (and cfg.create is 0), or no /dev/net/tun
 *   OASIS_EPERM   not allowed to open /dev/net/tun, attach to the device,
 *                 create it or change its MTU
 *   OASIS_EBUSY   another process has the device open
 *   OASIS_EINVAL  bad config, or the name belongs to a device of the other
 *                 kind (TUN for a TAP, TAP for a TUN) or not a tuntap one
 *   OASIS_EIO     any other failure of the operating system
 *   OASIS_ENOMEM
 * On failure, when errbuf is not NULL, a sentence saying what went wrong and
 * how to fix it is written there (errlen bytes at most, NUL-terminated). */
int oasis_tap_open(const oasis_tap_config *cfg, oasis_tap **out, char *errbuf, size_t errlen);
/* (OASIS_ENOTSUP too: offload ON asked and the kernel refused it.) */

/* Closes the device (a device this call created goes away with it). The
 * stack must not send on the link afterwards. NULL is accepted. */
void oasis_tap_close(oasis_tap *t);

/* The link to hand to oasis_stack_set_link(). Its MTU is the device's.
 * The getters from here on answer a NULL t with NULL, -1 (the fd), ""
 * (the strings) or 0. */
oasis_link *oasis_tap_link(oasis_tap *t);

/* 1 when the kernel side is up and running (IFF_RUNNING: frames sent to us
 * are delivered), 0 when not, OASIS_EIO when the device cannot be asked. */
int oasis_tap_running(const oasis_tap *t);

/* The non-blocking file descriptor (readable when frames wait). */
int oasis_tap_fd(const oasis_tap *t);

const char *oasis_tap_name(const oasis_tap *t);

/* The device's MTU after opening (what cfg.mtu asked for, lowered to
 * OASIS_TAP_MAX_MTU; or the device's own when cfg.mtu was 0). */
uint32_t oasis_tap_mtu(const oasis_tap *t);

/* Reads up to max_frames frames that are ready (0: a default batch of 1024)
 * and hands each to s with oasis_stack_input() (a TUN device's packets
 * with oasis_stack_input_ip()). Returns the number of
 * frames read (0 when none was waiting) or OASIS_EIO when the device failed
 * (e.g. it was deleted). */
int oasis_tap_input(oasis_tap *t, oasis_stack *s, unsigned max_frames);

/* Receives a frame read from the TAP device instead of the stack (off:
 * its offload information, NULL for a plain frame); the frame is borrowed
 * until fn returns. fn hands it on with oasis_stack_input_offload() (from
 * a TUN device: an IP packet, for oasis_stack_input_ip_offload()), or
 * drops, delays or alters it: e.g. oasis_impair_link_input (impair.h). */
typedef void (*oasis_tap_input_fn)(void *ud, oasis_stack *s, const uint8_t *frame, size_t len,
                                   const oasis_offload *off);

/* Sends every frame oasis_tap_input() reads to fn(ud, s, ...) instead of
 * the stack s it was given; fn NULL: to the stack again. While fn is set,
 * no payload is read straight into a flow's receive buffer (zero-copy
 * placement, below): fn sees every frame whole. NULL t is ignored. */
void oasis_tap_set_input_filter(oasis_tap *t, oasis_tap_input_fn fn, void *ud);

/* 1 when offloads are on (see oasis_tap_config.offload). */
int oasis_tap_offload(const oasis_tap *t);

/* One sentence on the offloads: on, off as asked, or off because the
 * kernel refused them (and what it said). For a log line. */
const char *oasis_tap_offload_status(const oasis_tap *t);

/* Frames read with a virtio-net header the stack must not act on (unknown
 * flags or GSO type, a checksum field outside the frame, ...): counted
 * and dropped. */
uint64_t oasis_tap_bad_headers(const oasis_tap *t);
/* Frames whose TCP payload was read straight into its flow's receive
 * buffer (offloads on; no copy in the stack). */
uint64_t oasis_tap_rx_placed(const oasis_tap *t);

/* Zero-copy receive, frame by frame (offloads on). After a frame that
 * carried bulk data, the next read offers its payload room in that flow's
 * receive buffer; each frame read so is counted once. How often a frame is
 * placed depends on timing (an application slower than the link keeps its
 * buffer full), never on correctness: the others are copied and checked as
 * usual. */
typedef struct oasis_tap_place_counts {
    uint64_t placed;    /* read straight into the flow's receive buffer */
    uint64_t declined;  /* the flow offered no room: buffer full, data out of
                           order held, flow busy or gone */
    uint64_t too_big;   /* the predicted segment, longer than the room offered */
    uint64_t untrusted; /* the predicted segment, its checksum not vouched for
                           by the kernel: summed by the stack instead */
    uint64_t other;     /* another frame: another flow, sequence number, flags */
} oasis_tap_place_counts;

/* Copies the counts to *out (zeros for a NULL tap). */
void oasis_tap_place_counts_get(const oasis_tap *t, oasis_tap_place_counts *out);

/* Frames the kernel refused on send (its queue was full) and other send
 * failures; these are also counted in the stack's tx_errors. */
uint64_t oasis_tap_send_drops(const oasis_tap *t);

#ifdef __cplusplus
}
#endif
#endif
