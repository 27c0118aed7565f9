/* Oasis error codes: one enum shared by every call.
 *
 * Functions that can fail return 0 (OASIS_OK) or a negative oasis_err.
 * Completion callbacks receive the same values. OASIS_EOF is not a failure:
 * it is the end-of-stream status that a TCP read reports.
 */
#ifndef OASIS_ERROR_H
#define OASIS_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum oasis_err {
    OASIS_OK = 0,
    OASIS_EOF = -1,         /* end of stream: the peer closed and all data was read */
    OASIS_ETIMEDOUT = -2,   /* the peer stopped answering (SYN/data retries, keepalive) */
    OASIS_EREFUSED = -3,    /* the peer answered with a reset */
    OASIS_ECLOSED = -4,     /* the flow is closed; the data was not written */
    OASIS_EINVAL = -5,      /* invalid argument or API misuse */
    OASIS_ENOMEM = -6,      /* out of memory */
    OASIS_EBUSY = -7,       /* an operation of that kind is already pending */
    OASIS_EADDRINUSE = -8,  /* port already bound or listened on */
    OASIS_ENOROUTE = -9,    /* no route to the destination */
    OASIS_EMSGSIZE = -10,   /* datagram too large */
    OASIS_ECANCELED = -11,  /* the stack or layer was shut down before completion */
    OASIS_ETRUNCATED = -12, /* packet shorter than its headers or length fields say */
    OASIS_EMALFORMED = -13, /* packet field has an invalid value */
    OASIS_ECHECKSUM = -14,  /* packet checksum does not verify */
    OASIS_EUNREACH = -15,   /* destination unreachable (ARP resolution failed, ICMP) */
    OASIS_EIO = -16,        /* the link or the operating system failed */
    OASIS_ENOTSUP = -17,    /* not supported */
    OASIS_ENOENT = -18,     /* no such entry (port not listened on, ...) */
    OASIS_ERESET = -19,     /* the connection was reset by the peer after it was established */
    OASIS_EAGAIN = -20,     /* would block / queue full, try again later */
    OASIS_EPERM = -21,      /* permission denied (e.g. opening a TAP device) */
    OASIS_EBADDEST = -22,   /* not a unicast host address (broadcast, multicast, 0.0.0.0...) */
    OASIS_EADDRNOTAVAIL = -23, /* the local address is not ours, or was removed (a DHCP lease ended) */
    OASIS_EHOSTUNREACH = -24, /* a router said the host is unreachable (ICMP), or the TTL ran out,
                               * or the neighbour did not answer ARP / Neighbour Discovery */
    OASIS_ENETUNREACH = -25,  /* a router said the network is unreachable (ICMP) */
    OASIS_EPROTOUNREACH = -26, /* the host said it does not speak the protocol (ICMP) */
    OASIS_ERR_COUNT_ = 27
} oasis_err;

/* Human-readable text for an error code; never NULL (unknown codes get a
 * generic string). The strings are static. */
const char *oasis_strerror(int err);

/* Short symbolic name, e.g. "OASIS_ETIMEDOUT". */
const char *oasis_err_name(int err);

#ifdef __cplusplus
}
#endif
#endif
