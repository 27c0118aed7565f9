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

#endif
