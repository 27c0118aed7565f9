/* `oasis serve`'s UDP services: echo (RFC 862) and discard (RFC 863) on
 * the TCP services' ports. */
#ifndef OASIS_CLI_SERVE_UDP_H
#define OASIS_CLI_SERVE_UDP_H

#include "oasis/oasis.h"

#include <stdint.h>

typedef struct serve_udp {
    uint16_t echo_port, discard_port; /* 0: off */
    uint64_t echoed, discarded;       /* datagrams */
    uint64_t refused;                 /* echo requests not answered (see serve_udp.c) */
} serve_udp;

/* Binds the ports (transparent: on every address, oasis_udp_bind_transparent).
 * Returns 0 or the first bind's error, said on stderr. */
int serve_udp_start(oasis_stack *s, serve_udp *u, int transparent);

/* One line on stderr with the counts. */
void serve_udp_report(const serve_udp *u);

#endif
