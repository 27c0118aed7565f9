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
 *  - memory: lwIP's own, as its defaults have it and as fast ports run it
 *    (memp pools for PCBs and segments, mem_malloc served from pools of
 *    fixed sizes, lwippools.h): per message this costs a free-list pop
 *    where libc's malloc cost ~15% of lwIP's instructions per rr round
 *    trip. BENCH_LWIP_MALLOC builds libc malloc for everything through a
 *    counting wrapper instead: that build (lwip-bench-malloc) is the one
 *    the memory rows count with.
 *  - LWIP_CHKSUM_ALGORITHM: lwIP's default (2) unless the build sets it;
 *    run_all.sh also builds 1 and 3 and reports lwIP's best.
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

#define MEM_ALIGNMENT 8
#ifdef BENCH_LWIP_MALLOC
#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 1
#define MEM_USE_POOLS 0
#else
#define MEM_LIBC_MALLOC 0
#define MEMP_MEM_MALLOC 0
#define MEM_USE_POOLS 1 /* mem_malloc from lwippools.h's sizes */
#define MEM_SIZE (64 * 1024 * 1024) /* no heap with pools; makes mem_size_t 32-bit */
#define MEMP_USE_CUSTOM_POOLS 1
#define MEM_USE_POOLS_TRY_BIGGER_POOL 1
/* Enough for a 4 MiB window of 1460-byte segments twice over (sent and
 * queued on the link) and the connection row's TIME_WAIT PCBs (lwIP
 * recycles the oldest when the pool is empty). */
#define MEMP_NUM_TCP_SEG 16384
#define MEMP_NUM_PBUF 16384
#define MEMP_NUM_TCP_PCB 4096
#define MEMP_NUM_TCP_PCB_LISTEN 16
#define MEMP_NUM_REASSDATA 5
#define MEMP_NUM_FRAG_PBUF 64
#define MEMP_NUM_ARP_QUEUE 64
#define PBUF_POOL_SIZE 64
#endif
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
