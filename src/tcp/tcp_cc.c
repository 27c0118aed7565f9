/* Congestion control registry. */
#include "tcp/tcp_cc.h"

#include <stddef.h>

const oasis_cc_ops *oasis_cc_get(oasis_cc_algo algo)
{
    switch (algo) {
    case OASIS_CC_NEWRENO:
        return &oasis_cc_newreno;
    default:
        return NULL; /* CUBIC is not built yet */
    }
}
