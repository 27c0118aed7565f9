/* Shared by the fuzz targets. Each target defines LLVMFuzzerTestOneInput();
 * it is linked either with libFuzzer (clang) or with driver.c, a plain main()
 * that replays a corpus and a few thousand deterministic mutations, so every
 * build (gcc too) runs the targets as ordinary tests. */
#ifndef OASIS_FUZZ_H
#define OASIS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property that must hold whatever the input: abort, so that libFuzzer
 * records the input as a crash and the driver dies loudly. */
#define FUZZ_CHECK(cond)                                                                        \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond);      \
            abort();                                                                            \
        }                                                                                       \
    } while (0)

/* Reads the input front to back; reads past the end yield zeros, so a
 * target never has to check lengths for its control bytes. */
typedef struct fuzz_in {
    const uint8_t *p;
    size_t left;
} fuzz_in;

static inline uint8_t fuzz_u8(fuzz_in *in)
{
    if (!in->left)
        return 0;
    in->left--;
    return *in->p++;
}

static inline uint16_t fuzz_u16(fuzz_in *in)
{
    uint16_t hi = fuzz_u8(in);
    return (uint16_t)(hi << 8 | fuzz_u8(in));
}

static inline uint32_t fuzz_u32(fuzz_in *in)
{
    uint32_t hi = fuzz_u16(in);
    return hi << 16 | fuzz_u16(in);
}

#endif
