/* The stub resolver (src/dns/dns.c) against a hostile server.
 *
 * Per input, two stacks on the in-memory wire with a virtual clock: the
 * client (10.0.0.1) runs a resolver, the "server" (10.0.0.2) answers on
 * UDP and TCP port 53 with what the input says. The input's first bytes
 * configure the resolver (cache, EDNS, attempts, ndots, TSIG off, a search
 * list of up to three domains) and start up to four requests (names from a
 * small set: short, dotted, absolute, a literal; A or AAAA), each perhaps
 * cancelled after a number of wire steps. Every query the server gets
 * consumes a reply script from the input: silence, or a reply whose
 * header and question are copied from the query (so it matches: ID,
 * question) with flags, counts and the record bytes from the input, or
 * the raw bytes with only the ID patched in. So the fuzzer reaches what
 * follows a matching reply: CNAME re-queries, EDNS fallback, truncation
 * and TCP, negative caching, the search list's next candidate.
 *
 * Checked (abort() on violation):
 *  - every request accepted calls back exactly once, never inside
 *    oasis_dns_resolve, unless cancelled before (then never);
 *  - a status is 0 or a documented OASIS_DNS_E* value; status 0 comes
 *    with 1..OASIS_DNS_MAX_ADDRS addresses of the family asked and the
 *    name as given;
 *  - after the wire runs out of time, destroying the resolver ends the
 *    rest with OASIS_DNS_ECANCELED; the stacks then give back every byte
 *    they allocated. */
#include "fuzz.h"
#include "countalloc.h"
#include "testutil.h"

#include <string.h>

#include "core/bytes.h"
#include "oasis/dns.h"
#include "oasis/error.h"
#include "oasis/oasis.h"
#include "oasis/wire.h"

#define NREQ 4
#define MAX_REPLY 1400

typedef struct req {
    int accepted, canceled, calls, status;
    int cancel_after; /* wire steps before cancel (0: never) */
    oasis_dns_req *h;
    const char *name;
    oasis_dns_family fam;
} req;

typedef struct fz {
    fuzz_in in;
    oasis_clock *clock;
    oasis_wire *wire;
    oasis_stack *cli, *srv;
    test_counting mem[2];
    oasis_dns *r;
    req reqs[NREQ];
    int in_resolve;
    /* TCP server */
    uint8_t tin[2 + 1024];
    size_t tin_len;
    uint8_t tout[2 + MAX_REPLY];
} fz;

static fz the_fz;

static const char *const names[] = {"h", "h.x", "h.", "files.test", "a.b.c.test", "1.2.3.4",
                                    "Files.Test.", "x"};
static const char *const domains[] = {"a.test", "b.test", "test"};

static int known_status(int st)
{
    return st == 0 || (st <= OASIS_DNS_ENXDOMAIN && st >= OASIS_DNS_ENOTIME);
}

static void on_resolved(oasis_dns_req *h, int status, const oasis_dns_result *res, void *ud)
{
    req *q = ud;
    (void)h;
    FUZZ_CHECK(!the_fz.in_resolve); /* never inside the call that started it */
    FUZZ_CHECK(!q->canceled);
    q->calls++;
    q->status = status;
    FUZZ_CHECK(q->calls == 1);
    FUZZ_CHECK(known_status(status));
    if (status == 0) {
        FUZZ_CHECK(res && res->count >= 1 && res->count <= OASIS_DNS_MAX_ADDRS);
        FUZZ_CHECK(res->family == q->fam);
        FUZZ_CHECK(strcmp(res->name, q->name) == 0);
        FUZZ_CHECK(res->canonical != NULL);
    } else {
        FUZZ_CHECK(res == NULL);
    }
}

/* Where the query's question ends (its name, type, class), 0 if it does
 * not parse (ours always do). */
static size_t question_end(const uint8_t *q, size_t len)
{
    size_t off = 12;
    while (off < len && q[off] != 0)
        off += 1 + (size_t)q[off];
    return off + 5 <= len ? off + 5 : 0;
}

/* The reply the input scripts for query q; its length, 0 for silence. */
static size_t script_reply(fz *z, const uint8_t *q, size_t qlen, uint8_t *out)
{
    uint8_t kind = fuzz_u8(&z->in);
    size_t qend = question_end(q, qlen);
    if (kind % 4 == 0 || qend == 0)
        return 0;
    size_t n = 0;
    size_t body = fuzz_u8(&z->in) % 200;
    if (kind % 4 == 3) { /* raw bytes, our ID */
        for (; n < body + 2 && n < MAX_REPLY; n++)
            out[n] = fuzz_u8(&z->in);
        if (n >= 2)
            memcpy(out, q, 2);
        return n;
    }
    memcpy(out, q, 2);             /* ID */
    out[2] = 0x80 | fuzz_u8(&z->in); /* QR, then opcode, AA, TC, RD from the input */
    out[3] = fuzz_u8(&z->in);      /* RA, Z, RCODE */
    oasis_put16(out + 4, 1);
    oasis_put16(out + 6, fuzz_u8(&z->in) % 4);
    oasis_put16(out + 8, fuzz_u8(&z->in) % 3);
    oasis_put16(out + 10, fuzz_u8(&z->in) % 3);
    n = 12;
    memcpy(out + n, q + 12, qend - 12);
    n += qend - 12;
    if (kind % 4 == 2) { /* one A/AAAA record for the question, then the rest */
        int v6 = oasis_get16(q + qend - 4) == 28;
        out[n++] = 0xc0, out[n++] = 12;
        oasis_put16(out + n, v6 ? 28 : 1), n += 2;
        oasis_put16(out + n, 1), n += 2;
        oasis_put32(out + n, fuzz_u8(&z->in)), n += 4;
        oasis_put16(out + n, v6 ? 16 : 4), n += 2;
        for (int i = 0; i < (v6 ? 16 : 4); i++)
            out[n++] = fuzz_u8(&z->in);
    }
    for (size_t i = 0; i < body && n < MAX_REPLY; i++)
        out[n++] = fuzz_u8(&z->in);
    return n;
}

static void on_udp(oasis_stack *s, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                   const uint8_t *d, size_t len, void *ud)
{
    fz *z = ud;
    uint8_t out[MAX_REPLY];
    (void)dst, (void)dport;
    size_t n = script_reply(z, d, len, out);
    if (n)
        (void)oasis_udp_send4(s, 53, src, sport, out, n);
}

static void on_tcp_read(oasis_flow *f, int err, const uint8_t *d, size_t len, void *ud)
{
    fz *z = ud;
    if (err) {
        oasis_tcp_close(f, NULL, NULL);
        return;
    }
    if (z->tin_len + len > sizeof z->tin) {
        oasis_tcp_abort(f);
        oasis_tcp_release(f);
        return;
    }
    memcpy(z->tin + z->tin_len, d, len);
    z->tin_len += len;
    if (z->tin_len >= 2 && z->tin_len >= 2u + oasis_get16(z->tin)) {
        size_t n = script_reply(z, z->tin + 2, oasis_get16(z->tin), z->tout + 2);
        z->tin_len = 0;
        if (n) {
            oasis_put16(z->tout, (uint16_t)n);
            (void)oasis_tcp_write(f, z->tout, n + 2, NULL, NULL); /* one at a time */
        } else if (fuzz_u8(&z->in) & 1) {
            oasis_tcp_close(f, NULL, NULL);
            return;
        }
    }
    (void)oasis_tcp_read(f, on_tcp_read, z);
}

static void on_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    fz *z = ud;
    (void)s;
    z->tin_len = 0;
    (void)oasis_tcp_read(f, on_tcp_read, z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz *z = &the_fz;
    memset(z, 0, sizeof *z);
    z->in = (fuzz_in){data, size};
    z->clock = oasis_clock_new_virtual(1000 * OASIS_NS_PER_SEC);
    FUZZ_CHECK(z->clock);
    oasis_wire_config wc;
    oasis_wire_config_init(&wc);
    wc.delay_ns = OASIS_NS_PER_MS;
    FUZZ_CHECK(oasis_wire_create(z->clock, &wc, &z->wire) == 0);
    oasis_stack **st[2] = {&z->cli, &z->srv};
    for (int i = 0; i < 2; i++) {
        oasis_stack_config cfg;
        test_stack_config(&cfg, z->clock, i + 1);
        cfg.arp_gratuitous = 0;
        cfg.alloc = test_count_alloc;
        cfg.alloc_ud = &z->mem[i];
        FUZZ_CHECK(oasis_stack_create(&cfg, st[i]) == 0);
        FUZZ_CHECK(oasis_wire_attach(z->wire, *st[i]));
    }
    FUZZ_CHECK(oasis_udp_bind4(z->srv, 53, on_udp, z) == 0);
    FUZZ_CHECK(oasis_tcp_listen(z->srv, 53, NULL, on_accept, z) == 0);

    uint8_t c = fuzz_u8(&z->in);
    oasis_dns_config dc;
    oasis_dns_config_init(&dc);
    dc.cache_entries = (c & 1) ? 8 : 0;
    dc.edns_udp_size = (c & 2) ? 0 : OASIS_DNS_EDNS_UDP_SIZE;
    dc.attempts = 1 + (c >> 2 & 1);
    dc.ndots = c >> 3 & 3;
    dc.max_cname = 1 + (c >> 5 & 3);
    dc.timeout_ns = 200 * OASIS_NS_PER_MS;
    dc.tcp_timeout_ns = OASIS_NS_PER_SEC;
    FUZZ_CHECK(oasis_dns_create(z->cli, &dc, &z->r) == 0);
    uint32_t srv = OASIS_IPV4(10, 0, 0, 2);
    FUZZ_CHECK(oasis_dns_set_servers(z->r, &srv, 1) == 0);
    uint8_t s = fuzz_u8(&z->in);
    size_t nd = s % 4;
    FUZZ_CHECK(oasis_dns_set_search(z->r, domains, nd) == 0);

    int nreq = 1 + (s >> 2) % NREQ;
    for (int i = 0; i < nreq; i++) {
        req *q = &z->reqs[i];
        uint8_t b = fuzz_u8(&z->in);
        q->name = names[b % (sizeof names / sizeof names[0])];
        q->fam = (b & 8) ? OASIS_DNS_INET6 : OASIS_DNS_INET;
        q->cancel_after = (b >> 4) & 7;
        z->in_resolve = 1;
        int err = oasis_dns_resolve(z->r, q->name, q->fam, on_resolved, q, &q->h);
        z->in_resolve = 0;
        FUZZ_CHECK(q->calls == 0); /* never inside the call */
        FUZZ_CHECK(err == 0 || known_status(err));
        q->accepted = err == 0;
        if (!q->accepted)
            FUZZ_CHECK(q->h == NULL);
    }
    /* Run: step by step, cancelling where the input said. */
    for (int step = 1; step <= 40; step++) {
        (void)oasis_wire_run(z->wire, NULL, NULL, 100 * OASIS_NS_PER_MS);
        for (int i = 0; i < nreq; i++) {
            req *q = &z->reqs[i];
            if (q->accepted && !q->calls && !q->canceled && q->cancel_after == step) {
                FUZZ_CHECK(oasis_dns_cancel(q->h) == 0);
                q->canceled = 1;
            }
        }
    }
    if (getenv("FUZZ_VERBOSE")) {
        const oasis_dns_counters *k = oasis_dns_get_counters(z->r);
        for (int i = 0; i < nreq; i++)
            fprintf(stderr, "req %d %s: accepted %d canceled %d calls %d status %d\n", i,
                    z->reqs[i].name, z->reqs[i].accepted, z->reqs[i].canceled, z->reqs[i].calls,
                    z->reqs[i].status);
        fprintf(stderr, "udp %llu tcp %llu responses %llu search_next %llu\n",
                (unsigned long long)k->udp_queries, (unsigned long long)k->tcp_queries,
                (unsigned long long)k->responses, (unsigned long long)k->search_next);
    }
    FUZZ_CHECK(oasis_dns_destroy(z->r) == 0);
    for (int i = 0; i < nreq; i++) {
        req *q = &z->reqs[i];
        if (q->accepted && !q->canceled)
            FUZZ_CHECK(q->calls == 1);
        if (q->canceled)
            FUZZ_CHECK(q->calls == 0);
    }
    for (int i = 0; i < 2; i++) {
        FUZZ_CHECK(oasis_wire_detach(z->wire, *st[i]) == 0);
        oasis_stack_destroy(*st[i]);
        FUZZ_CHECK(z->mem[i].live == 0);
    }
    oasis_wire_destroy(z->wire);
    oasis_clock_free(z->clock);
    return 0;
}
