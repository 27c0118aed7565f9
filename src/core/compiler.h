/* Hints to the compiler, empty where it takes none. A hot function's rare
 * branch moved out of line keeps the registers it needs (and their saving
 * and restoring) off the common path. */
#ifndef OASIS_CORE_COMPILER_H
#define OASIS_CORE_COMPILER_H

#if defined(__GNUC__) || defined(__clang__)
#define OASIS_NOINLINE __attribute__((noinline))
#define OASIS_COLD __attribute__((cold, noinline))
/* A short inline fast path that must not become a call of its own (whose
 * register saving would cost more than the path). */
#define OASIS_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define OASIS_NOINLINE
#define OASIS_COLD
#define OASIS_ALWAYS_INLINE inline
#endif

#endif
