/* Congestion control registry. */
#include "tcp/tcp_cc.h"
#include "tcp/tcp_cc_cubic.h"

#include <stddef.h>

const oasis_cc_ops *oasis_cc_get(oasis_cc_algo algo)
{
    switch (algo) {
    case OASIS_CC_NEWRENO:
        return &oasis_cc_newreno;
    case OASIS_CC_CUBIC:
        return &oasis_cc_cubic;
    default:
        return NULL;
    }
}
