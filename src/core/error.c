#include "oasis/error.h"

static const struct {
    const char *name;
    const char *text;
} errs[OASIS_ERR_COUNT_] = {
    {"OASIS_OK", "success"},
    {"OASIS_EOF", "end of stream"},
    {"OASIS_ETIMEDOUT", "connection attempt timed out"},
    {"OASIS_EREFUSED", "connection attempt was refused"},
    {"OASIS_ECLOSED", "attempted to write to a closed flow"},
    {"OASIS_EINVAL", "invalid argument"},
    {"OASIS_ENOMEM", "out of memory"},
    {"OASIS_EBUSY", "operation already in progress"},
    {"OASIS_EADDRINUSE", "address or port already in use"},
    {"OASIS_ENOROUTE", "no route to host"},
    {"OASIS_EMSGSIZE", "message too long"},
    {"OASIS_ECANCELED", "operation canceled"},
    {"OASIS_ETRUNCATED", "packet truncated"},
    {"OASIS_EMALFORMED", "malformed packet"},
    {"OASIS_ECHECKSUM", "bad checksum"},
    {"OASIS_EUNREACH", "destination unreachable"},
    {"OASIS_EIO", "input/output error"},
    {"OASIS_ENOTSUP", "operation not supported"},
    {"OASIS_ENOENT", "no such entry"},
    {"OASIS_ERESET", "connection reset by peer"},
    {"OASIS_EAGAIN", "resource temporarily unavailable"},
    {"OASIS_EPERM", "permission denied"},
    {"OASIS_EBADDEST", "destination is not a unicast host address"},
    {"OASIS_EADDRNOTAVAIL", "local address not available (not ours, or removed)"},
    {"OASIS_EHOSTUNREACH", "host unreachable"},
    {"OASIS_ENETUNREACH", "network unreachable (ICMP)"},
    {"OASIS_EPROTOUNREACH", "protocol unreachable (ICMP)"},
};

/* err <= -COUNT, not -err >= COUNT: -INT_MIN overflows (clang's build
 * then read errs[INT_MIN]). */
const char *oasis_strerror(int err)
{
    if (err > 0 || err <= -OASIS_ERR_COUNT_)
        return "unknown error";
    return errs[-err].text;
}

const char *oasis_err_name(int err)
{
    if (err > 0 || err <= -OASIS_ERR_COUNT_)
        return "OASIS_E???";
    return errs[-err].name;
}
