/* mirage-tcpip's test backends (its test/vnetif_backends.ml) for Oasis:
 * two stacks on the in-memory wire, each behind a link shim in front of
 * its wire port that does to every frame the stack sends what the backend
 * does. The mirage ports (test_mirage_tcp, test_mirage_lower) share it so
 * a backend means one thing in both. */
#ifndef OASIS_VNETIF_H
#define OASIS_VNETIF_H
#include <stddef.h>
#include <stdint.h>
#include "link/eth_wire.h"
#include "oasis/oasis.h"

/* The largest MTU a stack here may have (the suite's jumbo frames) and
 * the most bytes Trailing_bytes adds (Random.int 10). */
#define VNETIF_MAX_MTU 9000
#define VNETIF_MAX_TRAILING 9

typedef enum test_vnetif_backend {
    /* Basic: every frame delivered unchanged. */
    VNETIF_BASIC,
    /* Trailing_bytes: 0..9 zero bytes after each frame, which the
     * receiver must trim by the IP length (RFC 1122 3.3.6's padding). */
    VNETIF_TRAILING_BYTES,
    /* Uniform_packet_loss: 1% of frames lost each way; the wire's own
     * impairment, so its stats (dropped_loss) count them. */
    VNETIF_UNIFORM_LOSS,
    /* Uniform_no_payload_packet_loss: 10% of frames of 100 bytes or less
     * lost (mirage's stand-in for segments without payload). */
    VNETIF_NO_PAYLOAD_LOSS,
    /* Mtu_enforced: a frame whose IP packet exceeds the sender's MTU is
     * refused (OASIS_EMSGSIZE), not cut or passed on. */
    VNETIF_MTU_ENFORCED,
    /* Drop_1_second_after_1_megabyte: once 1 MB went (both directions
     * together, as mirage's one backend sees them), every frame is lost
     * for a second, once. */
    VNETIF_DROP_1S_AFTER_1MB,
} test_vnetif_backend;

/* Drop_1_second_after_1_megabyte's outage: not yet, on, over. */
enum { VNETIF_OUTAGE_BEFORE, VNETIF_OUTAGE_ON, VNETIF_OUTAGE_OVER };

typedef struct test_vnetif test_vnetif;

typedef struct test_vnetif_shim {
    oasis_link link;  /* the stack's */
    oasis_link *port; /* the wire's */
    uint64_t rng;     /* one stream per direction: a seed replays a run */
    test_vnetif *net;
} test_vnetif_shim;

struct test_vnetif {
    oasis_clock *clock;
    oasis_wire *wire;
    oasis_stack *a, *b; /* 10.0.0.1 and 10.0.0.2, as test_net's */
    test_vnetif_shim sa, sb;
    test_vnetif_backend backend;
    /* mirage's On_off_switch for IPv4: while set, every IPv4 frame is
     * lost (ARP still goes: the neighbour caches stay right, so what is
     * lost is what TCP sent). */
    int cut;
    /* Sees every frame a stack sends (from: 0 a, 1 b) before the shim
     * acts on it, so also those the backend or the cut lose. */
    void (*tap)(void *ud, int from, const uint8_t *frame, size_t len, uint64_t now);
    void *tap_ud;
    /* frames the shim lost (no-payload loss, the outage, cut), padded
     * with trailing bytes, refused by Mtu_enforced */
    uint64_t drops, padded, oversize;
    /* Drop_1_second_after_1_megabyte: bytes sent both ways, the outage */
    uint64_t sent_bytes, outage_until;
    int outage;
    uint8_t pad[VNETIF_MAX_MTU + OASIS_ETH_HLEN + VNETIF_MAX_TRAILING]; /* a padded frame */
};

/* Two IPv4 stacks with MTUs mtu_a and mtu_b (up to VNETIF_MAX_MTU) behind
 * the backend; seed drives the wire, the stacks and the shims. Asserts on
 * failure. */
void test_vnetif_init(test_vnetif *n, test_vnetif_backend backend, uint64_t seed, uint32_t mtu_a,
                      uint32_t mtu_b);
/* The same at MTU 1500 with IPv6 on both and addr6[0] on a, addr6[1] on
 * b (/64), returning once both are preferred (past DAD; a probe lost to
 * the backend is silence to DAD: the address is ours all the same). */
void test_vnetif_init6(test_vnetif *n, test_vnetif_backend backend, uint64_t seed,
                       const char *const addr6[2]);
void test_vnetif_fini(test_vnetif *n);
#endif
