/* The deterministic fault simulator: one seed picks a case (impairments of
 * each direction, transfer sizes, TCP options, application behaviour, link
 * cuts), runs two stacks through it on a virtual clock, and checks the
 * outcome. Same seed, same run, so any failure replays with --seed. */
#ifndef OASIS_SIM_H
#define OASIS_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "oasis/oasis.h"

enum sim_cut { CUT_NONE, CUT_OUTAGE, CUT_FOREVER };
enum sim_write_mode { WM_WRITE, WM_WRITEV, WM_NODELAY };

/* What one side's application does. */
typedef struct sim_app {
    uint64_t size;           /* bytes this side sends */
    uint32_t max_chunk;      /* a write is 1..max_chunk bytes */
    uint32_t max_writes;     /* writes pending at once */
    int write_mode;          /* sim_write_mode */
    double pause_prob;       /* after a read, stop reading for a while... */
    uint64_t pause_max_ns;   /* ...up to this long (slow reader: zero windows) */
    uint32_t sndbuf, rcvbuf; /* 0: the stack default */
    int nodelay;
} sim_app;

typedef struct sim_case {
    uint64_t seed;
    uint32_t mtu;
    oasis_impair imp[2];     /* [0]: A -> B, [1]: B -> A */
    sim_app app[2];          /* [0]: A, [1]: B */
    int client;              /* 0: A connects to B; 1: B connects to A */
    oasis_tcp_config tcp;    /* both stacks */
    uint32_t arp_announce_num; /* 0: the stack default */
    int cut;                 /* sim_cut */
    uint64_t cut_at_ns, cut_len_ns; /* after the connect call */
    uint64_t limit_ns;       /* virtual time allowed */
} sim_case;

typedef struct sim_opts {
    uint64_t max_size;       /* largest transfer per direction */
    const char *pcap;        /* write <pcap>-a.pcap and -b.pcap */
    int verbose;
    int offload;             /* the wire offers offloads (oasis_wire_config.offload) */
    int ipv6;                /* the flow runs over IPv6 (link-local addresses; MTU >= 1280) */
    int ip_link;             /* both stacks on IP links (OASIS_LINK_IP, a TUN device's kind),
                                transparent, the client connecting to a foreign address */
    int transparent;         /* the server transparent, the client connecting to a foreign
                                address (over Ethernet: through the server as its gateway) */
} sim_opts;

typedef struct sim_result {
    int ok;
    char why[512];           /* first failure, empty when ok */
    char note[512];          /* a legitimate but unusual ending, empty if none */
    uint64_t virt_ns;        /* virtual time the case took */
    uint64_t frames;         /* frames the wire carried */
    uint64_t retransmits;
    uint64_t dsacks;         /* D-SACKs received: needless retransmissions or duplicates */
    uint64_t duplicated;     /* frames the wire duplicated */
    uint64_t timeouts;       /* RTO expirations, both sides */
    uint8_t fingerprint[32]; /* digest of what happened, for determinism */
} sim_result;

void sim_case_from_seed(uint64_t seed, const sim_opts *o, sim_case *c);
void sim_case_print(const sim_case *c);
void sim_run(const sim_case *c, const sim_opts *o, sim_result *r);

#endif
