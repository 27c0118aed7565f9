/* The per-flow source's calls into the TCP layer, in a file of their own so
 * that only programs that read flows link against them. */
#include "metrics/metrics_impl.h"

#include "oasis/tcp.h"

int oasis_metrics_add_tcp_flows(oasis_metrics *m, oasis_stack *s, const oasis_metric_tag *tags,
                                size_t ntags, uint32_t max_flows)
{
    const metrics_flow_ops ops = {oasis_tcp_foreach_flow, oasis_tcp_get_info};
    return metrics_add_flows_with(m, s, &ops, tags, ntags, max_flows);
}
