/* lwIP port glue for the bench: Linux, gcc/clang, no OS services (NO_SYS). */
#ifndef BENCH_LWIP_ARCH_CC_H
#define BENCH_LWIP_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>

/* Release build, like Oasis's -DCMAKE_BUILD_TYPE=Release. */
#define LWIP_NOASSERT 1

#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) do { fprintf(stderr, "lwip: %s\n", x); abort(); } while (0)
#define LWIP_RAND() ((u32_t)random())

/* Byte order by the compiler's builtins, as a tuned port does (lwIP's
 * default is an out-of-line function per call). */
#define lwip_htons(x) ((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_ntohs(x) lwip_htons(x)
#define lwip_htonl(x) ((u32_t)__builtin_bswap32((u32_t)(x)))
#define lwip_ntohl(x) lwip_htonl(x)

#endif
