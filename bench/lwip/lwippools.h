/* Sizes mem_malloc serves from (MEM_USE_POOLS, see lwipopts.h): a pbuf
 * header plus a request, an MTU-1500 frame, a jumbo frame, a 64 KiB
 * segment (at most 65527: memp sizes are 16-bit). Enough of each for bulk
 * at a 4 MiB window: segments kept for retransmission plus their copies
 * queued on the link. */
#if MEM_USE_POOLS
LWIP_MALLOC_MEMPOOL_START
LWIP_MALLOC_MEMPOOL(8192, 256)
LWIP_MALLOC_MEMPOOL(8192, 1600)
LWIP_MALLOC_MEMPOOL(1024, 9100)
LWIP_MALLOC_MEMPOOL(512, 65520)
LWIP_MALLOC_MEMPOOL_END
#endif
