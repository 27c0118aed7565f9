/* The layer sources' call into a stack, kept apart so that the registry and
 * the encoder link without the stack. */
#include "metrics/metrics_impl.h"

#include "oasis/stack.h"

int oasis_metrics_add_stack(oasis_metrics *m, oasis_stack *s, const oasis_metric_tag *tags,
                            size_t ntags)
{
    return metrics_add_stack_layers(m, s, oasis_stack_counters, tags, ntags);
}
