/* Oasis: a userspace TCP/IPv4 stack. Include this for the whole API. */
#ifndef OASIS_OASIS_H
#define OASIS_OASIS_H

#include "oasis/addr.h"
#include "oasis/clock.h"
#include "oasis/counters.h"
#include "oasis/dns.h"
#include "oasis/error.h"
#include "oasis/icmp.h"
#include "oasis/impair.h"
#include "oasis/ip.h"
#include "oasis/ipv6.h"
#include "oasis/link.h"
#include "oasis/metrics.h"
#include "oasis/stack.h"
#include "oasis/tcp.h"
#include "oasis/udp.h"
#include "oasis/wire.h"

#define OASIS_VERSION_MAJOR 0
#define OASIS_VERSION_MINOR 1
#define OASIS_VERSION_PATCH 0

#endif
