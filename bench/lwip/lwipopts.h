/* lwIP options for the bench. Starting point: Debian's own lwipopts.h
 * (liblwip-dev 2.1.3: libc malloc for everything, checksum on copy, window
 * scaling), changed where the Debian build would be unfair or unusable here:
 *  - NO_SYS=1, raw API only: one thread, like Oasis; no sockets/netconn.
 *  - windows and send buffers of BENCH_LWIP_WND (default 4 MiB, Oasis's
 *    default), window scale 7. run_all.sh builds variants at 64 KiB,
 *    256 KiB, 1 MiB and 4 MiB and reports lwIP's best: its unsent-queue
 *    walk is O(n) per write, so big windows can be slower, not faster.
 *  - TCP_MSS 65440: the largest segment whose Ethernet frame fits lwIP's
 *    16-bit pbuf length; lwIP picks min(TCP_MSS, MTU - 40) per netif, so
 *    MTU 1500 and 9000 get 1460 and 8960.
 *  - IPv6, IGMP, UDP-Lite, forwarding off (unused; Oasis has none either).
 *  - allocations go through a counting wrapper (memory rows).
 *  - TCP_MSL 1 ms: TIME_WAIT ends at the next slow timer tick (<= 500 ms),
 *    so the connection-rate row does not run out of ports (Oasis runs it
 *    with a 2 ms TIME_WAIT, Linux with tcp_tw_reuse). */
#ifndef BENCH_LWIPOPTS_H
#define BENCH_LWIPOPTS_H

#include <stddef.h>

#define NO_SYS 1
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_TIMERS 1

#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 1
#define MEM_USE_POOLS 0
#define MEM_ALIGNMENT 8
void *bench_lwip_malloc(size_t n);
void *bench_lwip_calloc(size_t n, size_t size);
void bench_lwip_free(void *p);
#define mem_clib_malloc bench_lwip_malloc
#define mem_clib_calloc bench_lwip_calloc
#define mem_clib_free bench_lwip_free

#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_UDP 1
#define LWIP_UDPLITE 0
#define LWIP_IGMP 0
#define LWIP_DHCP 0
#define LWIP_AUTOIP 0
#define LWIP_DNS 0
#define IP_FORWARD 0
#define IP_REASSEMBLY 1
#define IP_FRAG 1
#define ARP_QUEUEING 1
#define ARP_QUEUE_LEN 10
#define LWIP_NETIF_TX_SINGLE_PBUF 1
#define LWIP_NETIF_LOOPBACK 0
#define LWIP_HAVE_LOOPIF 0
#define LWIP_SINGLE_NETIF 0

#define LWIP_TCP 1
#define TCP_MSS 65440
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 7
#ifndef BENCH_LWIP_WND
#define BENCH_LWIP_WND (4 * 1024 * 1024)
#endif
#define TCP_WND BENCH_LWIP_WND
#define TCP_SND_BUF BENCH_LWIP_WND
#define TCP_SND_QUEUELEN 16384
/* The raw API never reads TCP_SNDLOWAT; its check in init.c cannot hold
 * with a 64 KiB TCP_MSS, so the (advisory) sanity checks are off. */
#define LWIP_DISABLE_TCP_SANITY_CHECKS 1
#define TCP_MSL 1UL
#define TCP_LISTEN_BACKLOG 1
#define TCP_DEFAULT_LISTEN_BACKLOG 0xff
#define LWIP_TCP_KEEPALIVE 1
#define LWIP_CHECKSUM_ON_COPY 1
#define SO_REUSE 1
#define LWIP_TCP_TIMESTAMPS 0
#define TCP_QUEUE_OOSEQ 1
#define LWIP_TCP_SACK_OUT 0

#define LWIP_STATS 0
#define LWIP_STATS_DISPLAY 0

/* Two netifs on one subnet in one lwIP: route by source address. */
struct netif;
struct ip4_addr;
struct netif *bench_lwip_route(const struct ip4_addr *src, const struct ip4_addr *dest);
#define LWIP_HOOK_IP4_ROUTE_SRC(src, dest) bench_lwip_route(src, dest)

#endif
