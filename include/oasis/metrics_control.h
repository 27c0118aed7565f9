/* A runtime control port for metrics, on the stack's own TCP (in the
 * spirit of MirageOS's mirage-monitoring). Off unless created; it listens
 * on the address and port the application names.
 *
 * Line protocol: one command per line (LF or CRLF, at most 256 bytes); every
 * command gets an answer whose last line starts with "ok" or "error";
 * commands are handled one at a time, in order.
 *
 *   help                  the commands, then "ok"
 *   list                  "source NAME on|off" per source, then "ok N sources"
 *   enable NAME           every source named NAME is read again: "ok NAME on (K)"
 *   disable NAME          ... no longer read (reporter and scrapes): "ok NAME off (K)"
 *   interval [MS]         the reporter's interval: show it, or set it (10..86400000)
 *   dump                  a snapshot now, in line protocol, then "ok N points"
 *                         (up to 16 MiB: a longer one stops after a whole
 *                         line, then "error ... after N points")
 *   flush                 the reporter collects and sends a snapshot now
 *   quit                  "ok bye", then the connection is closed
 * Anything else: "error unknown command 'X' (try help)". A longer line:
 * "error line too long" and the connection is closed.
 *
 * Example:
 *   > list
 *   < source link on
 *   < source tcp on
 *   < ok 2 sources
 *   > disable tcp
 *   < ok tcp off (1)
 *   > interval 500
 *   < ok interval 500 ms
 *   > frob
 *   < error unknown command 'frob' (try help)
 */
#ifndef OASIS_METRICS_CONTROL_H
#define OASIS_METRICS_CONTROL_H

#include <stdint.h>

#include "oasis/metrics.h"
#include "oasis/metrics_reporter.h"
#include "oasis/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oasis_metrics_control oasis_metrics_control;

typedef struct oasis_control_config {
    uint32_t addr;      /* must be the stack's address (host order); required */
    uint16_t port;      /* required */
    uint32_t max_conns; /* at once (4); one more makes room: the connection that
                         * has waited longest for a command is reset */
    uint64_t idle_timeout_ns; /* a connection that has waited this long for a
                               * command (or for the client to take its answer)
                               * is reset (300 s; 0: never) */
} oasis_control_config;

/* Fills cfg with the defaults above (NULL is ignored). */
void oasis_control_config_init(oasis_control_config *cfg);

/* Listens on cfg->port of s for control connections to m and, if r is not
 * NULL, its reporter (interval, flush). Returns 0, OASIS_EINVAL (no port,
 * an address that is not the stack's), OASIS_EADDRINUSE or OASIS_ENOMEM.
 * Destroy it before s, m and r. */
int oasis_metrics_control_create(oasis_stack *s, oasis_metrics *m, oasis_reporter *r,
                                 const oasis_control_config *cfg, oasis_metrics_control **out);
void oasis_metrics_control_destroy(oasis_metrics_control *c);

#ifdef __cplusplus
}
#endif
#endif
