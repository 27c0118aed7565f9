/* The stack's secrets: keys that must be unknown to anyone off the host,
 * drawn from the operating system (getrandom) unless the user asked for a
 * fixed seed (tests, the simulator: insecure by design). */
#ifndef OASIS_CORE_SECRETS_H
#define OASIS_CORE_SECRETS_H

#include <stddef.h>
#include <stdint.h>

typedef struct oasis_secrets {
    uint8_t isn_key[16];    /* RFC 6528 ISN function F */
    uint8_t cookie_key[16]; /* RFC 4987 SYN-cookie MAC: its own key */
    uint8_t ipid_key[16];   /* RFC 6864 / Linux ip_idents: IP ID bucket hash */
    uint64_t hash_salt;     /* flow-table hash, so buckets cannot be aimed at */
    uint64_t prng_seed[4];  /* the PRNG's state (jitter, ports, offsets) */
    uint8_t iid_key[16];    /* RFC 7217 secret_key: stable IPv6 interface identifiers */
    uint8_t label_key[16];  /* RFC 6437 3 / appendix A: IPv6 flow labels */
    uint8_t nd_key[16];     /* the neighbour cache's hash chains (nd.c) */
    uint8_t reasm_key[16];  /* reassembly's hash chains (reasm.c, reasm6.c) */
} oasis_secrets;

/* Fills sec: from getrandom() when seed is 0, else derived from seed alone
 * (same seed, same secrets). Returns 0 or OASIS_EIO when the operating
 * system has no randomness to give. */
int oasis_secrets_init(oasis_secrets *sec, uint64_t seed);

/* Reads n random bytes from the operating system. 0 or OASIS_EIO. */
int oasis_os_random(void *buf, size_t n);

#endif
