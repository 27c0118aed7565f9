/* ICMP errors into TCP (RFC 1122 4.2.3.9, RFC 5461, RFC 5927). */
#include "core/stack_impl.h"
#include "oasis/ip.h"
#include "tcp/tcp_flow.h"

void oasis_tcp_icmp_error(oasis_stack *s, const oasis_ip_error *e)
{
    (void)s;
    (void)e;
}
