/* SipHash-2-4: a keyed hash (PRF) for values an attacker must not predict
 * or steer without the key. */
#ifndef OASIS_CORE_SIPHASH_H
#define OASIS_CORE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-2-4 of len bytes (key and words little endian, as in the paper). */
uint64_t oasis_siphash24(const uint8_t key[16], const void *data, size_t len);

#endif
