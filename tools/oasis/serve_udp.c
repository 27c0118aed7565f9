/* `oasis serve`'s UDP echo (RFC 862: "When a datagram is received, the
 * data from it is sent back in an answering datagram") and discard (RFC
 * 863: thrown away, no response).
 *
 * An echo answers from the address and port the request was sent to, so a
 * transparent bind answers from the foreign address its client asked for;
 * a request to a broadcast or group address, which is no source of ours,
 * gets no answer (oasis_udp_send_from refuses it), nor does one from port
 * 0 or from a port of the small services (echo, discard, daytime, chargen,
 * time): two such services answering each other would loop for ever, as
 * inetd's builtin services guard against. Each is counted as refused. */
#include "serve_udp.h"

#include <inttypes.h>
#include <stdio.h>

static int loop_prone(uint16_t port)
{
    return port == 0 || port == 7 || port == 9 || port == 13 || port == 19 || port == 37;
}

static void on_echo(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport,
                    const oasis_ipaddr *dst, uint16_t dport, const uint8_t *data, size_t len,
                    void *ud)
{
    serve_udp *u = ud;
    if (!loop_prone(sport) && oasis_udp_send_from(s, dst, dport, src, sport, data, len) == 0)
        u->echoed++;
    else
        u->refused++;
}

static void on_discard(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport,
                       const oasis_ipaddr *dst, uint16_t dport, const uint8_t *data, size_t len,
                       void *ud)
{
    serve_udp *u = ud;
    (void)s, (void)src, (void)sport, (void)dst, (void)dport, (void)data, (void)len;
    u->discarded++;
}

static int bind_port(oasis_stack *s, serve_udp *u, uint16_t port, oasis_udp_recv_cb cb,
                     int transparent, const char *what)
{
    if (port == 0)
        return 0;
    int err = transparent ? oasis_udp_bind_transparent(s, port, cb, u)
                          : oasis_udp_bind(s, port, cb, u);
    if (err)
        fprintf(stderr, "oasis serve: cannot bind UDP port %u (%s): %s\n", port, what,
                oasis_strerror(err));
    return err;
}

int serve_udp_start(oasis_stack *s, serve_udp *u, int transparent)
{
    int err = bind_port(s, u, u->echo_port, on_echo, transparent, "echo");
    return err ? err : bind_port(s, u, u->discard_port, on_discard, transparent, "discard");
}

void serve_udp_report(const serve_udp *u)
{
    fprintf(stderr,
            "oasis serve: UDP: %" PRIu64 " echoed, %" PRIu64 " discarded, %" PRIu64 " refused\n",
            u->echoed, u->discarded, u->refused);
}
