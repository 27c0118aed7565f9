/* oasis-demo: the README's first command. Two Oasis stacks on the in-memory
 * wire, one process, one thread:
 *   1. an echo exchange (port 7),
 *   2. a bulk transfer (default 1 GiB) client -> server, SHA-256 computed on
 *      both ends, with a progress line,
 *   3. a half-close: the client's close sends FIN after the data; the server
 *      reads to end-of-stream, then answers with its digest over the
 *      half-closed flow, and the client reads it after its own FIN,
 * then a summary of throughput and counters. Exits 1 if anything differs.
 *
 * Everything runs in one thread, so the end-to-end figure is bounded by the
 * SHA-256 and pattern work as much as by the stack. The summary times that
 * work separately and prints the stack's own figure beside it. SHA-256 comes
 * from OpenSSL's libcrypto when the build found it (SHA-NI/AVX2 code), else
 * from the library's portable implementation.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"
#include "oasis/oasis.h"

#ifdef OASIS_DEMO_LIBCRYPTO
#include <openssl/crypto.h>
#include <openssl/evp.h>
/* One SHA-256 context: libcrypto's EVP (fast) or the built-in one. */
typedef struct demo_sha {
    EVP_MD_CTX *ctx;
} demo_sha;
static void sha_init(demo_sha *h)
{
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
        fprintf(stderr, "oasis-demo: libcrypto SHA-256 unavailable\n");
        exit(1);
    }
}
static void sha_update(demo_sha *h, const void *p, size_t n) { EVP_DigestUpdate(h->ctx, p, n); }
static void sha_final(demo_sha *h, uint8_t out[32])
{
    unsigned int len = 32;
    EVP_DigestFinal_ex(h->ctx, out, &len);
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
}
static const char *sha_name(void) { return OpenSSL_version(OPENSSL_VERSION); }
#else
typedef oasis_sha256 demo_sha;
static void sha_init(demo_sha *h) { oasis_sha256_init(h); }
static void sha_update(demo_sha *h, const void *p, size_t n) { oasis_sha256_update(h, p, n); }
static void sha_final(demo_sha *h, uint8_t out[32]) { oasis_sha256_final(h, out); }
static const char *sha_name(void) { return "built-in portable C (no libcrypto at build time)"; }
#endif

#define CHUNK (256 * 1024)
#define ECHO_PORT 7
#define BULK_PORT 5001
#define ECHO_ROUNDS 100

typedef struct demo {
    oasis_clock *clock;
    oasis_wire *wire;
    oasis_stack *client, *server;
    uint64_t size;
    int quiet;
    int failed;
    const char *phase;

    /* echo */
    oasis_flow *echo_c;
    int echo_round, echo_done;
    char echo_msg[64];
    size_t echo_got;
    char echo_buf[64];

    /* bulk, client side */
    oasis_flow *bulk_c;
    uint64_t generated;   /* bytes produced and handed to write */
    uint64_t prng;
    uint8_t *bufs[2];
    demo_sha sha_tx;
    char reply[160];
    size_t reply_len;
    int client_closed;

    /* bulk, server side */
    uint64_t received;
    demo_sha sha_rx;
    int server_eof, server_closed;
    char rx_hex[65];

    uint64_t t_start, t_end, last_progress;
    uint64_t hash_ns, fill_ns; /* time spent outside the stack, both ends */
} demo;

static void fail(demo *d, const char *what, int err)
{
    fprintf(stderr, "\noasis-demo: %s failed in %s: %s\n", what, d->phase, oasis_strerror(err));
    d->failed = 1;
}

/* ---- echo ---------------------------------------------------------------- */

static void echo_server_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud);

static void echo_server_closed(oasis_flow *f, int err, void *ud) { oasis_tcp_release(f); }

static void echo_server_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    if (err) { /* EOF: the client is done */
        oasis_tcp_close(f, echo_server_closed, ud);
        return;
    }
    oasis_tcp_write(f, data, len, NULL, NULL); /* copies: data may go away */
    oasis_tcp_read(f, echo_server_read, ud);
}

static void echo_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    oasis_tcp_set_nodelay(f, 1);
    oasis_tcp_read(f, echo_server_read, ud);
}

static void echo_send(demo *d);

static void echo_client_closed(oasis_flow *f, int err, void *ud)
{
    demo *d = ud;
    d->echo_done = 1;
    oasis_tcp_release(f); /* the handle is ours until we give it back */
}

static void echo_client_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    demo *d = ud;
    if (err) {
        fail(d, "echo read", err);
        return;
    }
    size_t want = strlen(d->echo_msg);
    if (d->echo_got + len > want) {
        fail(d, "echo (too many bytes)", OASIS_EINVAL);
        return;
    }
    memcpy(d->echo_buf + d->echo_got, data, len);
    d->echo_got += len;
    if (d->echo_got < want) {
        oasis_tcp_read(f, echo_client_read, d);
        return;
    }
    if (memcmp(d->echo_buf, d->echo_msg, want) != 0) {
        fail(d, "echo (bytes differ)", OASIS_EINVAL);
        return;
    }
    if (++d->echo_round == ECHO_ROUNDS)
        oasis_tcp_close(f, echo_client_closed, d);
    else
        echo_send(d);
}

static void echo_send(demo *d)
{
    snprintf(d->echo_msg, sizeof d->echo_msg, "hello oasis #%d", d->echo_round);
    d->echo_got = 0;
    int err = oasis_tcp_write_nodelay(d->echo_c, d->echo_msg, strlen(d->echo_msg), NULL, NULL);
    if (!err)
        err = oasis_tcp_read(d->echo_c, echo_client_read, d);
    if (err)
        fail(d, "echo write", err);
}

static void echo_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    demo *d = ud;
    if (err) {
        fail(d, "echo connect", err);
        return;
    }
    d->echo_c = f;
    echo_send(d);
}

/* ---- bulk ---------------------------------------------------------------- */

static void fill(demo *d, uint8_t *buf, size_t n)
{
    /* xorshift64 words: cheap, deterministic, not compressible by accident */
    uint64_t x = d->prng;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(buf + i, &x, 8);
    }
    for (size_t i = n & ~(size_t)7; i < n; i++)
        buf[i] = (uint8_t)x;
    d->prng = x;
}

static void bulk_client_closed(oasis_flow *f, int err, void *ud)
{
    demo *d = ud;
    if (err)
        fail(d, "bulk close", err);
    d->client_closed = 1;
    oasis_tcp_release(f);
}

static void bulk_write_done(oasis_flow *f, int err, void *ud);

/* Keeps two CHUNK-sized writes in flight, each from its own buffer: a
 * buffer is refilled only once its write completed (the stack copied it). */
static void bulk_write_next(demo *d, uint8_t *buf)
{
    if (d->generated >= d->size)
        return;
    size_t n = d->size - d->generated < CHUNK ? (size_t)(d->size - d->generated) : CHUNK;
    uint64_t t0 = oasis_clock_now(d->clock);
    fill(d, buf, n);
    uint64_t t1 = oasis_clock_now(d->clock);
    sha_update(&d->sha_tx, buf, n);
    d->fill_ns += t1 - t0;
    d->hash_ns += oasis_clock_now(d->clock) - t1;
    d->generated += n;
    int err = oasis_tcp_write(d->bulk_c, buf, n, bulk_write_done, d);
    if (err) {
        fail(d, "bulk write", err);
        return;
    }
    if (d->generated >= d->size) {
        /* Half-close: FIN goes after the queued data. */
        err = oasis_tcp_close(d->bulk_c, bulk_client_closed, d);
        if (err)
            fail(d, "bulk close", err);
    }
}

static void bulk_write_done(oasis_flow *f, int err, void *ud)
{
    demo *d = ud;
    if (err) {
        fail(d, "bulk write", err);
        return;
    }
    /* Writes complete in order, so the oldest buffer is free again. */
    uint8_t *buf = d->bufs[0];
    d->bufs[0] = d->bufs[1];
    d->bufs[1] = buf;
    bulk_write_next(d, buf);
}

static void reply_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    demo *d = ud;
    if (err == OASIS_EOF)
        return; /* the server closed: bulk_client_closed runs next */
    if (err) {
        fail(d, "reply read", err);
        return;
    }
    size_t room = sizeof d->reply - 1 - d->reply_len;
    if (len > room)
        len = room;
    memcpy(d->reply + d->reply_len, data, len);
    d->reply_len += len;
    oasis_tcp_read(f, reply_read, d);
}

static void bulk_connected(oasis_stack *s, oasis_flow *f, int err, void *ud)
{
    demo *d = ud;
    if (err) {
        fail(d, "bulk connect", err);
        return;
    }
    d->bulk_c = f;
    d->t_start = oasis_clock_now(d->clock);
    oasis_tcp_read(f, reply_read, d);
    uint8_t *b0 = d->bufs[0], *b1 = d->bufs[1];
    bulk_write_next(d, b0);
    bulk_write_next(d, b1);
}

static void bulk_server_closed(oasis_flow *f, int err, void *ud)
{
    demo *d = ud;
    if (err)
        fail(d, "server close", err);
    d->server_closed = 1;
    oasis_tcp_release(f);
}

static void bulk_server_read(oasis_flow *f, int err, const uint8_t *data, size_t len, void *ud)
{
    demo *d = ud;
    if (err == OASIS_EOF) {
        /* Half-closed by the client: we may still write. */
        uint8_t dig[32];
        char msg[160];
        d->t_end = oasis_clock_now(d->clock);
        d->server_eof = 1;
        sha_final(&d->sha_rx, dig);
        oasis_sha256_hex(dig, d->rx_hex);
        int n = snprintf(msg, sizeof msg, "received %" PRIu64 " bytes sha256 %s", d->received,
                         d->rx_hex);
        int e = oasis_tcp_write(f, msg, (size_t)n, NULL, NULL);
        if (!e)
            e = oasis_tcp_close(f, bulk_server_closed, d);
        if (e)
            fail(d, "server reply", e);
        return;
    }
    if (err) {
        fail(d, "server read", err);
        return;
    }
    uint64_t t0 = oasis_clock_now(d->clock);
    sha_update(&d->sha_rx, data, len);
    d->hash_ns += oasis_clock_now(d->clock) - t0;
    d->received += len;
    oasis_tcp_read(f, bulk_server_read, d);
}

static void bulk_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    oasis_tcp_read(f, bulk_server_read, ud);
}

/* ---- driver -------------------------------------------------------------- */

static void progress(demo *d, int final)
{
    uint64_t now = oasis_clock_now(d->clock);
    if (d->quiet || (!final && now - d->last_progress < 250 * OASIS_NS_PER_MS))
        return;
    d->last_progress = now;
    double secs = (double)(now - d->t_start) / 1e9;
    double gbps = secs > 0 ? (double)d->received * 8 / secs / 1e9 : 0;
    fprintf(stderr, "\rbulk: %7.1f / %.1f MiB received  %6.2f Gbit/s end to end%s", d->received / 1048576.0,
            d->size / 1048576.0, gbps, final ? "\n" : "");
}

static int echo_finished(void *ud)
{
    demo *d = ud;
    return d->failed || d->echo_done;
}

static int bulk_finished(void *ud)
{
    demo *d = ud;
    if (d->t_start)
        progress(d, 0);
    return d->failed || (d->client_closed && d->server_closed);
}

static oasis_stack *make_stack(demo *d, int host)
{
    oasis_stack_config cfg;
    oasis_stack_config_init(&cfg);
    uint8_t mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x00, (uint8_t)host};
    memcpy(cfg.mac, mac, 6);
    cfg.addr = OASIS_IPV4(10, 0, 0, host);
    cfg.prefix_len = 24;
    cfg.clock = d->clock;
    cfg.seed = 0x0a515 + (uint64_t)host;
    oasis_stack *s = NULL;
    int err = oasis_stack_create(&cfg, &s);
    if (err) {
        fprintf(stderr, "oasis-demo: stack: %s\n", oasis_strerror(err));
        exit(1);
    }
    return s;
}

static void print_counters(const char *name, oasis_stack *s)
{
    const oasis_counters *c = oasis_stack_counters(s);
    printf("  %-6s tcp in=%" PRIu64 " out=%" PRIu64 " retrans=%" PRIu64 " active=%" PRIu64
           " passive=%" PRIu64 " | ip in=%" PRIu64 " out=%" PRIu64 " | link tx=%" PRIu64
           " rx=%" PRIu64 " frames\n",
           name, c->tcp.in_segs, c->tcp.out_segs, c->tcp.retrans_segs, c->tcp.active_opens,
           c->tcp.passive_opens, c->ip.in_receives, c->ip.out_requests, c->link.tx_frames,
           c->link.rx_frames);
}

static void usage(void)
{
    printf("usage: oasis-demo [--size BYTES[K|M|G]] [--mtu N] [--quiet]\n"
           "Two Oasis stacks on an in-memory wire: echo, a checked bulk transfer\n"
           "(SHA-256 on both ends) and a half-close. Default size 1G, MTU 1500.\n");
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    uint64_t mul = 1;
    if (*end == 'K' || *end == 'k')
        mul = 1024, end++;
    else if (*end == 'M' || *end == 'm')
        mul = 1024 * 1024, end++;
    else if (*end == 'G' || *end == 'g')
        mul = 1024ull * 1024 * 1024, end++;
    if (end == s || *end || v == 0 || v > UINT64_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

int main(int argc, char **argv)
{
    static demo dd;
    demo *d = &dd;
    uint32_t mtu = 1500;
    d->size = 1024ull * 1024 * 1024;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--size") && i + 1 < argc) {
            if (parse_size(argv[++i], &d->size)) {
                fprintf(stderr, "oasis-demo: bad --size '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--mtu") && i + 1 < argc) {
            mtu = (uint32_t)strtoul(argv[++i], NULL, 10);
            if (mtu < 576 || mtu > 65535) {
                fprintf(stderr, "oasis-demo: --mtu must be 576..65535\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--quiet")) {
            d->quiet = 1;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage();
            return 0;
        } else {
            fprintf(stderr, "oasis-demo: unknown argument '%s' (try --help)\n", argv[i]);
            return 2;
        }
    }

    d->clock = oasis_clock_new_monotonic();
    oasis_wire_config wc;
    oasis_wire_config_init(&wc);
    wc.mtu = mtu;
    if (!d->clock || oasis_wire_create(d->clock, &wc, &d->wire)) {
        fprintf(stderr, "oasis-demo: out of memory\n");
        return 1;
    }
    d->server = make_stack(d, 1);
    d->client = make_stack(d, 2);
    oasis_wire_attach(d->wire, d->server);
    oasis_wire_attach(d->wire, d->client);
    d->bufs[0] = malloc(CHUNK);
    d->bufs[1] = malloc(CHUNK);
    d->prng = 0x9e3779b97f4a7c15ull;
    sha_init(&d->sha_tx);
    sha_init(&d->sha_rx);
    printf("oasis-demo: server 10.0.0.1, client 10.0.0.2, in-memory wire, MTU %u\n", mtu);
    fflush(stdout);

    d->phase = "echo";
    oasis_tcp_listen(d->server, ECHO_PORT, NULL, echo_accept, d);
    oasis_tcp_connect4(d->client, OASIS_IPV4(10, 0, 0, 1), ECHO_PORT, NULL, echo_connected, d);
    oasis_wire_run(d->wire, echo_finished, d, 30 * OASIS_NS_PER_SEC);
    if (!d->echo_done && !d->failed)
        fail(d, "echo", OASIS_ETIMEDOUT);
    if (!d->failed)
        printf("echo: %d round trips ok\n", ECHO_ROUNDS);

    if (!d->failed) {
        d->phase = "bulk";
        oasis_tcp_listen(d->server, BULK_PORT, NULL, bulk_accept, d);
        oasis_tcp_connect4(d->client, OASIS_IPV4(10, 0, 0, 1), BULK_PORT, NULL, bulk_connected, d);
        int r = oasis_wire_run(d->wire, bulk_finished, d, 3600 * OASIS_NS_PER_SEC);
        if (r && !d->failed)
            fail(d, "bulk", r == OASIS_EAGAIN ? OASIS_EIO : r);
        progress(d, 1);
    }

    int rc = d->failed;
    if (!d->failed) {
        uint8_t dig[32];
        char tx_hex[65], expect[160];
        sha_final(&d->sha_tx, dig);
        oasis_sha256_hex(dig, tx_hex);
        snprintf(expect, sizeof expect, "received %" PRIu64 " bytes sha256 %s", d->size, tx_hex);
        printf("sent     %" PRIu64 " bytes sha256 %s\n", d->size, tx_hex);
        printf("server:  %.*s\n", (int)d->reply_len, d->reply);
        if (d->reply_len != strlen(expect) || memcmp(d->reply, expect, d->reply_len) != 0) {
            printf("FAIL: digests differ\n");
            rc = 1;
        } else {
            double secs = (double)(d->t_end - d->t_start) / 1e9;
            printf("half-close: server answered after the client's FIN; both sides closed\n");
            double bits = (double)d->size * 8;
            double hash = (double)d->hash_ns / 1e9, gen = (double)d->fill_ns / 1e9;
            double stack = secs - hash - gen;
            printf("bulk: %.2f s wall, %.2f Gbit/s end to end (one thread: both stacks, the pattern\n"
                   "      generator and SHA-256 on both ends)\n",
                   secs, bits / secs / 1e9);
            printf("  SHA-256 of both ends' bytes: %.2f s, %.2f Gbit/s hashed (%s)\n", hash,
                   hash > 0 ? 2 * bits / hash / 1e9 : 0.0, sha_name());
            printf("  pattern generator:  %.2f s\n", gen);
            if (stack > 0)
                printf("  stack alone (wall minus hashing and generating): %.2f s, %.2f Gbit/s\n",
                       stack, bits / stack / 1e9);
        }
    }
    printf("counters:\n");
    print_counters("server", d->server);
    print_counters("client", d->client);
    printf("%s\n", rc ? "oasis-demo: FAILED" : "oasis-demo: OK");

    oasis_wire_detach(d->wire, d->client);
    oasis_wire_detach(d->wire, d->server);
    oasis_stack_destroy(d->client);
    oasis_stack_destroy(d->server);
    oasis_wire_destroy(d->wire);
    oasis_clock_free(d->clock);
    free(d->bufs[0]);
    free(d->bufs[1]);
    return rc;
}
