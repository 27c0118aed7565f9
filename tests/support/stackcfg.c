/* test_stack_config (testutil.h), apart from the cmocka helpers so that
 * the fuzz targets, built without cmocka, configure their stacks alike. */
#include "testutil.h"

#include <string.h>

void test_stack_config(oasis_stack_config *cfg, oasis_clock *clock, int n)
{
    oasis_stack_config_init(cfg);
    uint8_t mac[6] = {0x02, 0, 0, 0, 0, (uint8_t)n};
    memcpy(cfg->mac, mac, 6);
    cfg->addr = OASIS_IPV4(10, 0, 0, n);
    cfg->prefix_len = 24;
    cfg->clock = clock;
    cfg->seed = (uint64_t)n * 7919u;
}
