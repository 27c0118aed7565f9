/* `oasis iperf`: the messages of iperf3's control protocol (esnet/iperf,
 * src/iperf_api.c: send_parameters/get_parameters, send_results/
 * get_results, JSON_write/JSON_read). Pure functions, no network: the
 * subcommand (iperf.c) and the unit tests use them.
 *
 * Wire format of the control connection: the client's 37-byte cookie (36
 * characters and a NUL), then one signed byte per state change, and JSON
 * objects each preceded by its length as a 4-byte big-endian integer. Each
 * data stream starts with the same cookie. */
#ifndef OASIS_TOOL_IPERF_H
#define OASIS_TOOL_IPERF_H

#include <stddef.h>
#include <stdint.h>

/* States (iperf_api.h). */
enum {
    IPF_TEST_START = 1,
    IPF_TEST_RUNNING = 2,
    IPF_TEST_END = 4,
    IPF_PARAM_EXCHANGE = 9,
    IPF_CREATE_STREAMS = 10,
    IPF_SERVER_TERMINATE = 11,
    IPF_CLIENT_TERMINATE = 12,
    IPF_EXCHANGE_RESULTS = 13,
    IPF_DISPLAY_RESULTS = 14,
    IPF_IPERF_START = 15,
    IPF_IPERF_DONE = 16,
    IPF_ACCESS_DENIED = -1,
    IPF_SERVER_ERROR = -2,
};

/* iperf3's error numbers that a SERVER_ERROR carries (iperf_api.h). */
enum { IPF_IENUMSTREAMS = 6, IPF_IEBLOCKSIZE = 7, IPF_IEBUFSIZE = 8, IPF_IEUNIMP = 13,
       IPF_IERECVPARAMS = 114 };

#define IPF_COOKIE_SIZE 37
#define IPF_MAX_STREAMS 128           /* iperf3's MAX_STREAMS */
#define IPF_MAX_BLKSIZE (1024 * 1024) /* iperf3's MAX_BLOCKSIZE */
#define IPF_DEFAULT_BLKSIZE (128 * 1024)
#define IPF_MAX_TIME 86400            /* iperf3's MAX_TIME, seconds */
#define IPF_MAX_WINDOW (1u << 30)     /* the stack's per-flow buffer bound */
/* A peer's JSON message is refused beyond these lengths: parameters are a
 * few hundred bytes; results grow with the stream count (~200 B each). */
#define IPF_MAX_PARAMS_JSON (64 * 1024)
#define IPF_MAX_RESULTS_JSON (1024 * 1024)

/* The test's parameters (client -> server). */
typedef struct ipf_params {
    int tcp;           /* "tcp" (or no protocol key: TCP, iperf3's default) */
    int udp, sctp;     /* unsupported here: the server answers SERVER_ERROR */
    int reverse, bidirectional;
    uint32_t time;     /* seconds; 0 with num/blockcount */
    uint64_t num;      /* bytes */
    uint64_t blockcount;
    uint32_t parallel; /* streams */
    uint32_t len;      /* block size */
    uint32_t window;   /* socket buffer size, 0: default */
    uint32_t mss;
    int nodelay;
    uint32_t omit;
    char client_version[32];
} ipf_params;

void ipf_params_init(ipf_params *p);

/* Encodes p as iperf3's client does (send_parameters). Returns a malloc'd
 * NUL-terminated string or NULL. */
char *ipf_params_encode(const ipf_params *p);

/* Decodes and checks a parameter message of len bytes (not NUL-terminated).
 * Returns 0, or an iperf3 error number (IPF_IE*) with why filled: the
 * message is malformed, a value is out of range, or asks for what this tool
 * does not do. */
int ipf_params_decode(const char *buf, size_t len, ipf_params *p, char *why, size_t whylen);

/* One stream's line in the results. */
typedef struct ipf_stream_result {
    int id;
    uint64_t bytes;
    int64_t retransmits; /* -1: not known */
    double start_time, end_time;
} ipf_stream_result;

typedef struct ipf_results {
    double cpu_total, cpu_user, cpu_system;
    int sender_has_retransmits; /* 1, 0 or -1 (we were the receiver) */
    char congestion_used[32];
    size_t nstreams;
    ipf_stream_result streams[IPF_MAX_STREAMS];
} ipf_results;

/* Encodes results as send_results does. malloc'd string or NULL. */
char *ipf_results_encode(const ipf_results *r);

/* Decodes a results message; at most IPF_MAX_STREAMS streams. 0 or -1 (with
 * why). */
int ipf_results_decode(const char *buf, size_t len, ipf_results *r, char *why, size_t whylen);

/* iperf3's stream numbering (iperf_add_stream): 1, then 3, 4, 5...: the
 * k-th stream created (k from 0). Results are matched by it. */
int ipf_stream_id(int k);

/* The cookie: 36 characters from iperf3's alphabet and a NUL. rnd gives
 * random bytes (the caller's source). */
void ipf_make_cookie(char cookie[IPF_COOKIE_SIZE], uint64_t (*rnd)(void *ud), void *ud);
/* 1 if the 37 bytes are a cookie that can be printed (36 printable
 * characters and a NUL). */
int ipf_cookie_printable(const uint8_t cookie[IPF_COOKIE_SIZE]);

#endif
