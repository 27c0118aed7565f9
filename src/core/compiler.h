/* Hints to the compiler, empty where it takes none. A hot function's rare
 * branch moved out of line keeps the registers it needs (and their saving
 * and restoring) off the common path. */
#ifndef OASIS_CORE_COMPILER_H
#define OASIS_CORE_COMPILER_H

#if defined(__GNUC__) || defined(__clang__)
#define OASIS_NOINLINE __attribute__((noinline))
#define OASIS_COLD __attribute__((cold, noinline))
#else
#define OASIS_NOINLINE
#define OASIS_COLD
#endif

#endif
