/* DNS stub resolver: the wire format on hand-built messages (every
 * malformed-name case), and the resolver on the virtual clock against
 * scripted servers on other stacks of an in-memory wire: retries and
 * failover, TC=1 then TCP, CNAME chains and their bound, the cache's TTL and
 * size bound, negative answers, replies with the wrong ID, source or
 * question. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/bytes.h"
#include "core/prng.h"
#include "core/stack_impl.h"
#include "core/hmac_sha256.h"
#include "dns/dns_wire.h"
#include "oasis/dns.h"
#include "oasis/error.h"
#include "oasis/ipv6.h"
#include "oasis/udp.h"
#include "oasis/ip.h"
#include "oasis/metrics.h"
#include "oasis/oasis.h"
#include "testutil.h"

/* ---- building messages ------------------------------------------------------ */

typedef struct pkt {
    uint8_t b[2048];
    size_t n;
} pkt;

static void p8(pkt *p, uint8_t v) { p->b[p->n++] = v; }
static void p16(pkt *p, uint16_t v)
{
    oasis_put16(p->b + p->n, v);
    p->n += 2;
}
static void p32(pkt *p, uint32_t v)
{
    oasis_put32(p->b + p->n, v);
    p->n += 4;
}
static void pbytes(pkt *p, const void *d, size_t n)
{
    memcpy(p->b + p->n, d, n);
    p->n += n;
}
/* An uncompressed name from dotted text. */
static void pname(pkt *p, const char *text)
{
    oasis_dns_name n;
    assert_int_equal(oasis_dns_name_from_text(text, &n), 0);
    pbytes(p, n.b, n.len);
}
static void pptr(pkt *p, uint16_t off) { p16(p, (uint16_t)(0xc000 | off)); }

static void hdr(pkt *p, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns,
                uint16_t ar)
{
    p->n = 0;
    p16(p, id);
    p16(p, flags);
    p16(p, qd);
    p16(p, an);
    p16(p, ns);
    p16(p, ar);
}

/* A resource record header after its owner name. */
static void rrh(pkt *p, uint16_t type, uint32_t ttl, uint16_t rdlen)
{
    p16(p, type);
    p16(p, OASIS_DNS_CLASS_IN);
    p32(p, ttl);
    p16(p, rdlen);
}

static void a_rr_ptr(pkt *p, uint16_t owner, uint32_t ttl, uint32_t addr)
{
    pptr(p, owner);
    rrh(p, OASIS_DNS_TYPE_A, ttl, 4);
    p32(p, addr);
}

#define RESP (OASIS_DNS_F_QR | OASIS_DNS_F_RD | OASIS_DNS_F_RA)

/* ---- the wire format ---------------------------------------------------------- */

/* Reads from a heap copy of exactly the message's size, so that under ASan
 * any read past its end is caught (the pkt buffer itself is larger). */
static int read_name_at(const pkt *p, size_t off, oasis_dns_name *n, size_t *next)
{
    uint8_t *copy = malloc(p->n ? p->n : 1);
    assert_non_null(copy);
    memcpy(copy, p->b, p->n);
    int err = oasis_dns_name_read(copy, p->n, off, n, next);
    free(copy);
    return err;
}

static void test_name_text_roundtrip(void **state)
{
    (void)state;
    oasis_dns_name n;
    char buf[OASIS_DNS_NAME_STRLEN];
    assert_int_equal(oasis_dns_name_from_text("files.test", &n), 0);
    assert_int_equal(n.len, 12);
    oasis_dns_name_to_text(&n, buf, sizeof buf);
    assert_string_equal(buf, "files.test");
    assert_int_equal(oasis_dns_name_from_text("files.test.", &n), 0);
    assert_int_equal(n.len, 12);
    /* A dot inside a label cannot pass for two labels in the text. */
    const uint8_t odd[] = {3, 'a', '.', 'b', 0};
    memcpy(n.b, odd, sizeof odd);
    n.len = sizeof odd;
    oasis_dns_name_to_text(&n, buf, sizeof buf);
    assert_string_equal(buf, "a\\046b");
    /* RFC 1035 5.1's escapes read back: \DDD and \X, one label each. */
    oasis_dns_name e;
    assert_int_equal(oasis_dns_name_from_text("a\\046b", &e), 0);
    assert_true(oasis_dns_name_equal(&e, &n));
    assert_int_equal(oasis_dns_name_from_text("a\\.b.", &e), 0);
    assert_true(oasis_dns_name_equal(&e, &n));
    assert_int_equal(oasis_dns_name_from_text("\\097\\\\", &e), 0);
    assert_int_equal(e.len, 4);
    assert_memory_equal(e.b, "\x02" "a\\" "\x00", 4);
    assert_int_equal(oasis_dns_name_from_text("a\\", &e), OASIS_EINVAL);   /* lone backslash */
    assert_int_equal(oasis_dns_name_from_text("\\256", &e), OASIS_EINVAL); /* over 255 */
    assert_int_equal(oasis_dns_name_from_text("\\25", &e), OASIS_EINVAL);  /* two digits */
    assert_int_equal(oasis_dns_name_from_text("\\.", &e), 0);             /* a dot, not the root */
    assert_int_equal(e.len, 3);
    assert_true(oasis_dns_text_is_absolute("a.b."));
    assert_false(oasis_dns_text_is_absolute("a\\."));
    assert_true(oasis_dns_text_is_absolute("a\\\\."));
    assert_false(oasis_dns_text_is_absolute("a.b"));
    /* Every octet survives text and back; a label counts octets, not
     * characters: 63 escaped ones fit, 64 do not. */
    for (int c = 0; c < 256; c++) {
        const uint8_t one[] = {2, (uint8_t)c, 'x', 0};
        memcpy(n.b, one, sizeof one);
        n.len = sizeof one;
        oasis_dns_name_to_text(&n, buf, sizeof buf);
        assert_int_equal(oasis_dns_name_from_text(buf, &e), 0);
        assert_int_equal(e.len, n.len);
        assert_memory_equal(e.b, n.b, n.len);
    }
    char esc[300] = "";
    for (int i = 0; i < 63; i++)
        strcat(esc, "\\000");
    assert_int_equal(oasis_dns_name_from_text(esc, &e), 0);
    assert_int_equal(e.len, 65);
    strcat(esc, "\\000");
    assert_int_equal(oasis_dns_name_from_text(esc, &e), OASIS_EINVAL);

    char label[70];
    memset(label, 'x', 64);
    label[64] = 0;
    assert_int_equal(oasis_dns_name_from_text(label, &n), OASIS_EINVAL); /* label of 64 */
    label[63] = 0;
    assert_int_equal(oasis_dns_name_from_text(label, &n), 0);
    assert_int_equal(oasis_dns_name_from_text("a..b", &n), OASIS_EINVAL);
    assert_int_equal(oasis_dns_name_from_text("", &n), OASIS_EINVAL);
    /* 255 octets fit, 256 do not: 4 labels of 62 (252) + "a" (2) + root = 255. */
    char big[300];
    size_t o = 0;
    for (int i = 0; i < 4; i++) {
        memset(big + o, 'y', 62);
        o += 62;
        big[o++] = '.';
    }
    big[o++] = 'a';
    big[o] = 0;
    assert_int_equal(oasis_dns_name_from_text(big, &n), 0);
    assert_int_equal(n.len, 255);
    big[o++] = 'b';
    big[o] = 0;
    assert_int_equal(oasis_dns_name_from_text(big, &n), OASIS_EINVAL);
}

static void test_name_compression_valid(void **state)
{
    (void)state;
    pkt p;
    oasis_dns_name n;
    size_t next;
    hdr(&p, 1, RESP, 1, 1, 0, 0);
    pname(&p, "www.example.com"); /* at 12 */
    p16(&p, 1);
    p16(&p, 1);
    size_t at = p.n;
    p8(&p, 3);
    pbytes(&p, "ftp", 3);
    pptr(&p, 16); /* -> "example.com" inside the question */
    assert_int_equal(read_name_at(&p, at, &n, &next), 0);
    assert_int_equal(next, at + 6);
    oasis_dns_name want;
    oasis_dns_name_from_text("ftp.example.com", &want);
    assert_true(oasis_dns_name_equal(&n, &want));
    /* Case-insensitive equality. */
    oasis_dns_name_from_text("FTP.Example.COM", &want);
    assert_true(oasis_dns_name_equal(&n, &want));
    /* A pointer to a name that itself ends in a pointer further back. */
    size_t at2 = p.n;
    p8(&p, 1);
    p8(&p, 'x');
    pptr(&p, (uint16_t)at);
    assert_int_equal(read_name_at(&p, at2, &n, &next), 0);
    oasis_dns_name_from_text("x.ftp.example.com", &want);
    assert_true(oasis_dns_name_equal(&n, &want));
    assert_int_equal(next, at2 + 4);
}

static void test_name_pointer_loops(void **state)
{
    (void)state;
    pkt p;
    oasis_dns_name n;
    hdr(&p, 1, RESP, 1, 0, 0, 0);
    /* A pointer to itself. */
    pptr(&p, 12);
    assert_int_equal(read_name_at(&p, 12, &n, NULL), OASIS_EMALFORMED);
    /* Two pointers pointing at each other: at 14 -> 16, at 16 -> 14. */
    hdr(&p, 1, RESP, 1, 0, 0, 0);
    p8(&p, 1);
    p8(&p, 'a'); /* 12: "a" then pointer */
    pptr(&p, 16);
    pptr(&p, 14);
    assert_int_equal(read_name_at(&p, 12, &n, NULL), OASIS_EMALFORMED);
    assert_int_equal(read_name_at(&p, 16, &n, NULL), OASIS_EMALFORMED);
    /* A label that swallows the pointer before it: 12: c0 0e? no, 12 -> 16
     * is forward. Backwards each time yet a loop: 20: label of 3 covering
     * 21..23, 24: pointer -> 20 (backwards from 24 but not below 20's
     * region): read from 26 -> 20 -> label -> 24 -> 20 ... */
    hdr(&p, 1, RESP, 1, 0, 0, 0);
    while (p.n < 20)
        p8(&p, 0);
    p8(&p, 3);
    pbytes(&p, "abc", 3); /* 20..23 */
    pptr(&p, 20);         /* 24 */
    pptr(&p, 24);         /* 26: -> 24 -> 20 -> "abc" -> 24 (not below 20): loop */
    assert_int_equal(read_name_at(&p, 26, &n, NULL), OASIS_EMALFORMED);
    assert_int_equal(read_name_at(&p, 24, &n, NULL), OASIS_EMALFORMED);
}

static void test_name_pointer_bounds(void **state)
{
    (void)state;
    pkt p;
    oasis_dns_name n;
    /* Forward pointer (to a valid name further on). */
    hdr(&p, 1, RESP, 1, 0, 0, 0);
    pptr(&p, 14);
    pname(&p, "a");
    assert_int_equal(read_name_at(&p, 12, &n, NULL), OASIS_EMALFORMED);
    /* Pointer past the end of the message. */
    hdr(&p, 1, RESP, 1, 0, 0, 0);
    pname(&p, "abc");
    size_t at = p.n;
    pptr(&p, 0x3fff);
    assert_int_equal(read_name_at(&p, at, &n, NULL), OASIS_EMALFORMED);
    /* Pointer into the header (backwards, in bounds, but no name lives
     * there): ID 01 'a' and flags 00 00 would read as the name "a". */
    hdr(&p, 0x0161, 0, 1, 0, 0, 0);
    pptr(&p, 0);
    assert_int_equal(read_name_at(&p, 12, &n, NULL), OASIS_EMALFORMED);
    /* A pointer cut in half at the end. */
    hdr(&p, 1, RESP, 1, 0, 0, 0);
    pname(&p, "abc");
    at = p.n;
    p8(&p, 0xc0);
    assert_int_equal(read_name_at(&p, at, &n, NULL), OASIS_ETRUNCATED);
}

/* Each pointer lands strictly below the last, so no loop, but a chain of
 * pointers to pointers adds no octet to the name and the 255-octet bound
 * never stops it: a 64 KiB answer whose thousands of owner names each
 * begin a 16000-pointer chain cost half a second to parse. RFC 1035
 * 4.1.4: a pointer stands for "a prior occurance of the same name"; a
 * name of at most 255 octets has at most 127 labels (2.3.4), so no
 * honest name needs more than 128 pointers to be read. */
static void test_name_pointer_chain_bounded(void **state)
{
    (void)state;
    pkt p;
    oasis_dns_name n;
    /* The longest honest chain: a.a.a...a (127 labels, 255 octets), each
     * label written once and the rest of the name by pointer. */
    hdr(&p, 1, RESP, 1, 0, 0, 0);
    size_t prev = p.n;
    pname(&p, "a");
    for (int i = 1; i < 127; i++) {
        size_t at = p.n;
        p8(&p, 1);
        p8(&p, 'a');
        pptr(&p, (uint16_t)prev);
        prev = at;
    }
    assert_int_equal(read_name_at(&p, prev, &n, NULL), OASIS_OK);
    assert_int_equal(n.len, 255);
    /* 200 pointers, each to the one before, down to the name "a". */
    hdr(&p, 1, RESP, 1, 0, 0, 0);
    prev = p.n;
    pname(&p, "a");
    for (int i = 0; i < 200; i++) {
        size_t at = p.n;
        pptr(&p, (uint16_t)prev);
        prev = at;
    }
    assert_int_equal(read_name_at(&p, prev, &n, NULL), OASIS_EMALFORMED); /* was OK */
}

static void test_name_label_limits(void **state)
{
    (void)state;
    pkt p;
    oasis_dns_name n;
    /* Length octets 0x40..0xbf: labels over 63 / obsolete extended labels. */
    hdr(&p, 1, RESP, 1, 0, 0, 0);
    p8(&p, 64);
    for (int i = 0; i < 64; i++)
        p8(&p, 'a');
    p8(&p, 0);
    assert_int_equal(read_name_at(&p, 12, &n, NULL), OASIS_EMALFORMED);
    hdr(&p, 1, RESP, 1, 0, 0, 0);
    p8(&p, 0x80);
    p8(&p, 0);
    assert_int_equal(read_name_at(&p, 12, &n, NULL), OASIS_EMALFORMED);
    /* 63 is fine. */
    hdr(&p, 1, RESP, 1, 0, 0, 0);
    p8(&p, 63);
    for (int i = 0; i < 63; i++)
        p8(&p, 'a');
    p8(&p, 0);
    assert_int_equal(read_name_at(&p, 12, &n, NULL), 0);
    assert_int_equal(n.len, 65);
}

static void test_name_too_long(void **state)
{
    (void)state;
    pkt p;
    oasis_dns_name n;
    /* 4 labels of 63 (256 octets) + root: 257 > 255, uncompressed. */
    hdr(&p, 1, RESP, 1, 0, 0, 0);
    for (int l = 0; l < 4; l++) {
        p8(&p, 63);
        for (int i = 0; i < 63; i++)
            p8(&p, 'a');
    }
    p8(&p, 0);
    assert_int_equal(read_name_at(&p, 12, &n, NULL), OASIS_EMALFORMED);
    /* Exactly 255: 3 x 63 + 61 + root = 192 + 62 + 1 = 255. */
    hdr(&p, 1, RESP, 1, 0, 0, 0);
    for (int l = 0; l < 3; l++) {
        p8(&p, 63);
        for (int i = 0; i < 63; i++)
            p8(&p, 'a');
    }
    p8(&p, 61);
    for (int i = 0; i < 61; i++)
        p8(&p, 'b');
    p8(&p, 0);
    assert_int_equal(read_name_at(&p, 12, &n, NULL), 0);
    assert_int_equal(n.len, 255);
    /* Over 255 only through compression: a 200-octet name and 2 labels of
     * 40 in front of a pointer to it (each part is short, the whole not). */
    hdr(&p, 1, RESP, 1, 0, 0, 0);
    for (int l = 0; l < 3; l++) {
        p8(&p, 65 - 2); /* 64 each: 192 */
        for (int i = 0; i < 63; i++)
            p8(&p, 'c');
    }
    p8(&p, 0); /* 193 octets at 12 */
    size_t at = p.n;
    for (int l = 0; l < 2; l++) {
        p8(&p, 40);
        for (int i = 0; i < 40; i++)
            p8(&p, 'd');
    }
    pptr(&p, 12);
    assert_int_equal(read_name_at(&p, at, &n, NULL), OASIS_EMALFORMED);
}

static void test_name_truncated(void **state)
{
    (void)state;
    pkt p;
    oasis_dns_name n;
    hdr(&p, 1, RESP, 1, 0, 0, 0);
    p8(&p, 5);
    pbytes(&p, "abc", 3); /* label runs past the end... */
    memcpy(p.b + p.n, "de\0", 3); /* ...into bytes that are not the message's */
    assert_int_equal(read_name_at(&p, 12, &n, NULL), OASIS_ETRUNCATED);
    hdr(&p, 1, RESP, 1, 0, 0, 0);
    p8(&p, 3);
    pbytes(&p, "abc", 3); /* no terminating zero */
    assert_int_equal(read_name_at(&p, 12, &n, NULL), OASIS_ETRUNCATED);
    hdr(&p, 1, RESP, 1, 0, 0, 0);
    assert_int_equal(read_name_at(&p, 12, &n, NULL), OASIS_ETRUNCATED); /* nothing at all */
}

/* A complete answer for "a.test" A with one record 10.0.0.9 TTL 60. */
static void simple_answer(pkt *p, uint16_t id)
{
    hdr(p, id, RESP, 1, 1, 0, 0);
    pname(p, "a.test");
    p16(p, OASIS_DNS_TYPE_A);
    p16(p, OASIS_DNS_CLASS_IN);
    a_rr_ptr(p, 12, 60, OASIS_IPV4(10, 0, 0, 9));
}

static void test_msg_parse(void **state)
{
    (void)state;
    pkt p;
    oasis_dns_msg m;
    simple_answer(&p, 0x1234);
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), 0);
    assert_int_equal(m.id, 0x1234);
    assert_int_equal(m.nan, 1);
    assert_int_equal(m.an[0].ttl, 60);
    assert_int_equal(m.an[0].rdlen, 4);
    /* Every truncation of it fails, none crashes. */
    for (size_t cut = 0; cut < p.n; cut++)
        assert_int_not_equal(oasis_dns_msg_parse(p.b, cut, &m), 0);
    /* RFC 2181 8: a TTL with the top bit set reads as 0. */
    oasis_put32(p.b + p.n - 10, 0x80000005u);
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), 0);
    assert_int_equal(m.an[0].ttl, 0);
    /* An A record of 5 octets. */
    hdr(&p, 1, RESP, 1, 1, 0, 0);
    pname(&p, "a.test");
    p16(&p, 1);
    p16(&p, 1);
    pptr(&p, 12);
    rrh(&p, OASIS_DNS_TYPE_A, 5, 5);
    p32(&p, 1);
    p8(&p, 0);
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), OASIS_EMALFORMED);
    /* Not a response; no question; two questions. */
    simple_answer(&p, 1);
    p.b[2] &= 0x7f;
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), OASIS_EMALFORMED);
    simple_answer(&p, 1);
    oasis_put16(p.b + 4, 0);
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), OASIS_EMALFORMED);
    /* rdlength past the end. */
    simple_answer(&p, 1);
    oasis_put16(p.b + p.n - 6, 40);
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), OASIS_ETRUNCATED);
    /* AAAA: 16 octets (RFC 3596 2.2). */
    hdr(&p, 1, RESP, 1, 1, 0, 0);
    pname(&p, "a.test");
    p16(&p, OASIS_DNS_TYPE_AAAA);
    p16(&p, 1);
    pptr(&p, 12);
    rrh(&p, OASIS_DNS_TYPE_AAAA, 5, 16);
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    pbytes(&p, v6, 16);
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), 0);
    uint8_t addrs[16 * 4];
    oasis_dns_answer a;
    assert_int_equal(oasis_dns_answer_extract(p.b, p.n, &m, OASIS_DNS_TYPE_AAAA, 8, addrs, 4, &a),
                     0);
    assert_int_equal(a.naddr, 1);
    assert_memory_equal(addrs, v6, 16);
    oasis_put16(p.b + p.n - 18, 4); /* AAAA of 4 octets */
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n - 12, &m), OASIS_EMALFORMED);
    /* A CNAME whose rdata holds more than its name. */
    hdr(&p, 1, RESP, 1, 1, 0, 0);
    pname(&p, "a.test");
    p16(&p, 1);
    p16(&p, 1);
    pptr(&p, 12);
    rrh(&p, OASIS_DNS_TYPE_CNAME, 5, 4);
    pptr(&p, 12);
    p16(&p, 0);
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), OASIS_EMALFORMED);
    /* A malformed name in the answer's owner. */
    hdr(&p, 1, RESP, 1, 1, 0, 0);
    pname(&p, "a.test");
    p16(&p, 1);
    p16(&p, 1);
    pptr(&p, (uint16_t)p.n);
    rrh(&p, OASIS_DNS_TYPE_A, 5, 4);
    p32(&p, 1);
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), OASIS_EMALFORMED);
    /* TC=1: only the question need be there. */
    hdr(&p, 1, RESP | OASIS_DNS_F_TC, 1, 3, 0, 0);
    pname(&p, "a.test");
    p16(&p, 1);
    p16(&p, 1);
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), 0);
    assert_true(m.flags & OASIS_DNS_F_TC);
}

/* "a.test" CNAME chain of `links` links (a.test -> c1.test -> ... ->
 * cN.test), then the A record of the last name. Names compressed. */
static void chain_answer(pkt *p, uint16_t id, int links, int with_a)
{
    hdr(p, id, RESP, 1, (uint16_t)(links + (with_a ? 1 : 0)), 0, 0);
    pname(p, "a.test");
    p16(p, OASIS_DNS_TYPE_A);
    p16(p, OASIS_DNS_CLASS_IN);
    uint16_t owner = 12;
    for (int i = 1; i <= links; i++) {
        pptr(p, owner);
        rrh(p, OASIS_DNS_TYPE_CNAME, 100, 5);
        uint16_t target = (uint16_t)p->n;
        p8(p, 2);
        p8(p, 'c');
        p8(p, (uint8_t)('0' + i));
        pptr(p, 14); /* "test" */
        owner = target;
    }
    if (with_a)
        a_rr_ptr(p, owner, 50, OASIS_IPV4(10, 0, 0, 77));
}

static void test_cname_extract(void **state)
{
    (void)state;
    pkt p;
    oasis_dns_msg m;
    uint8_t addrs[4 * 16];
    oasis_dns_answer a;
    char text[OASIS_DNS_NAME_STRLEN];
    chain_answer(&p, 1, 3, 1);
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), 0);
    assert_int_equal(oasis_dns_answer_extract(p.b, p.n, &m, OASIS_DNS_TYPE_A, 8, addrs, 16, &a), 0);
    assert_int_equal(a.cnames, 3);
    assert_int_equal(a.naddr, 1);
    assert_int_equal(oasis_get32(addrs), OASIS_IPV4(10, 0, 0, 77));
    assert_int_equal(a.ttl, 50);
    oasis_dns_name_to_text(&a.canonical, text, sizeof text);
    assert_string_equal(text, "c3.test");
    /* The bound. */
    assert_int_equal(oasis_dns_answer_extract(p.b, p.n, &m, OASIS_DNS_TYPE_A, 2, addrs, 16, &a), 1);
    assert_int_equal(oasis_dns_answer_extract(p.b, p.n, &m, OASIS_DNS_TYPE_A, 3, addrs, 16, &a), 0);
    /* A loop: a.test -> c1.test -> a.test. */
    hdr(&p, 1, RESP, 1, 2, 0, 0);
    pname(&p, "a.test");
    p16(&p, 1);
    p16(&p, 1);
    pptr(&p, 12);
    rrh(&p, OASIS_DNS_TYPE_CNAME, 100, 5);
    uint16_t c1 = (uint16_t)p.n;
    p8(&p, 2);
    p8(&p, 'c');
    p8(&p, '1');
    pptr(&p, 14);
    pptr(&p, c1);
    rrh(&p, OASIS_DNS_TYPE_CNAME, 100, 2);
    pptr(&p, 12);
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), 0);
    assert_int_equal(oasis_dns_answer_extract(p.b, p.n, &m, OASIS_DNS_TYPE_A, 8, addrs, 16, &a), 1);
}

/* RFC 1034 3.6.2: "CNAME loops signalled as an error". A chain that takes
 * more links than the answer has records has used one twice: a loop, found
 * whatever cfg.max_cname allows (a large bound must not spin over it). */
static void cname_loop(pkt *p)
{
    /* a.test CNAME c1.test, c1.test CNAME a.test */
    hdr(p, 1, RESP, 1, 2, 0, 0);
    pname(p, "a.test");
    p16(p, 1);
    p16(p, 1);
    pptr(p, 12);
    rrh(p, OASIS_DNS_TYPE_CNAME, 100, 5);
    uint16_t c1 = (uint16_t)p->n;
    p8(p, 2);
    p8(p, 'c');
    p8(p, '1');
    pptr(p, 14);
    pptr(p, c1);
    rrh(p, OASIS_DNS_TYPE_CNAME, 100, 2);
    pptr(p, 12);
}

static void test_cname_loop_bounded_by_answer(void **state)
{
    (void)state;
    pkt p;
    oasis_dns_msg m;
    uint8_t addrs[4 * 16];
    oasis_dns_answer a;
    cname_loop(&p);
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), 0);
    assert_int_equal(oasis_dns_answer_extract(p.b, p.n, &m, OASIS_DNS_TYPE_A, 1000000, addrs, 16,
                                              &a),
                     1);
    assert_true(a.cnames <= m.nan + 1); /* was 1000001 */
}

/* ---- the resolver against scripted servers --------------------------------- */

#define SRV1 OASIS_IPV4(10, 0, 0, 2)
#define SRV2 OASIS_IPV4(10, 0, 0, 3)
#define START_NS (1000 * OASIS_NS_PER_SEC)

typedef struct net3 net3;
/* Builds the answer to one query; returns 0 to stay silent. */
typedef int (*answer_fn)(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out);

struct net3 {
    oasis_clock *clock;
    oasis_wire *wire;
    oasis_stack *a, *srv[2];
    oasis_dns *r;
    answer_fn answer;
    answer_fn tcp_answer;
    int queries[2];        /* UDP queries each server saw */
    int tcp_queries;
    char last_qname[2][OASIS_DNS_NAME_STRLEN];
    uint32_t last_src;
    uint16_t last_sport, last_id;
    uint16_t sports[16];
    int nsports;
    uint64_t query_at[16];
    int step;              /* free for the scripts */
    /* the callback's view */
    int done, calls, status;
    oasis_dns_result res;
    char canonical[OASIS_DNS_NAME_STRLEN];
    char resname[OASIS_DNS_NAME_STRLEN]; /* res.name, copied */
    uint64_t done_at;
    int in_resolve;        /* set while oasis_dns_resolve runs */
    /* TCP server */
    uint8_t tin[1024];
    size_t tin_len;
    uint16_t tcp_overstate; /* added to the length prefix of each TCP answer */
    int tcp_close;          /* close the connection after each TCP answer */
    /* set: TCP queries go to it instead of tcp_answer (it writes what it
     * wants on f: split segments, odd length prefixes, large answers) */
    void (*tcp_raw)(net3 *n, oasis_flow *f, const uint8_t *q, size_t qlen);
    /* the last query each way, as sent */
    uint8_t lastq[2][600];
    size_t lastq_len[2];
    uint8_t last_tcpq[600];
    size_t last_tcpq_len;
};

static void on_srv_udp(oasis_stack *s, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                       const uint8_t *d, size_t len, void *ud)
{
    net3 *n = ud;
    int i = s == n->srv[0] ? 0 : 1;
    n->queries[i]++;
    assert_true(len <= sizeof n->lastq[i]);
    memcpy(n->lastq[i], d, len);
    n->lastq_len[i] = len;
    n->last_src = src;
    n->last_sport = sport;
    n->last_id = oasis_get16(d);
    if (n->nsports < 16) {
        n->query_at[n->nsports] = oasis_stack_now(s);
        n->sports[n->nsports++] = sport;
    }
    oasis_dns_name qn;
    if (oasis_dns_name_read(d, len, 12, &qn, NULL) == 0)
        oasis_dns_name_to_text(&qn, n->last_qname[i], sizeof n->last_qname[i]);
    pkt out;
    out.n = 0;
    if (n->answer && n->answer(n, i, d, len, &out))
        assert_int_equal(oasis_udp_send4(s, 53, src, sport, out.b, out.n), 0);
}

static void on_tcp_srv_read(oasis_flow *f, int err, const uint8_t *d, size_t len, void *ud)
{
    net3 *n = ud;
    if (err) {
        oasis_tcp_close(f, NULL, NULL);
        return;
    }
    memcpy(n->tin + n->tin_len, d, len);
    n->tin_len += len;
    if (n->tin_len < 2 || n->tin_len < 2u + oasis_get16(n->tin)) {
        assert_int_equal(oasis_tcp_read(f, on_tcp_srv_read, n), 0);
        return;
    }
    n->tcp_queries++;
    n->last_tcpq_len = oasis_get16(n->tin);
    assert_true(n->last_tcpq_len <= sizeof n->last_tcpq);
    memcpy(n->last_tcpq, n->tin + 2, n->last_tcpq_len);
    if (n->tcp_raw) {
        n->tcp_raw(n, f, n->tin + 2, oasis_get16(n->tin));
        n->tin_len = 0;
        if (oasis_tcp_read(f, on_tcp_srv_read, n) != 0)
            oasis_tcp_close(f, NULL, NULL);
        return;
    }
    static pkt out; /* must outlive the write: one exchange at a time */
    pkt body;
    body.n = 0;
    if (n->tcp_answer(n, 0, n->tin + 2, oasis_get16(n->tin), &body)) {
        out.n = 0;
        p16(&out, (uint16_t)(body.n + n->tcp_overstate));
        pbytes(&out, body.b, body.n);
        assert_int_equal(oasis_tcp_write(f, out.b, out.n, NULL, NULL), 0);
        if (n->tcp_close) {
            oasis_tcp_close(f, NULL, NULL);
            return;
        }
    }
    n->tin_len = 0;
    assert_int_equal(oasis_tcp_read(f, on_tcp_srv_read, n), 0);
}

static void on_tcp_srv_accept(oasis_stack *s, oasis_flow *f, void *ud)
{
    net3 *n = ud;
    n->tin_len = 0;
    assert_int_equal(oasis_tcp_read(f, on_tcp_srv_read, n), 0);
}

static void net3_init(net3 *n, const oasis_dns_config *dcfg, int nservers)
{
    memset(n, 0, sizeof *n);
    n->clock = oasis_clock_new_virtual(START_NS);
    assert_int_equal(oasis_wire_create(n->clock, NULL, &n->wire), 0);
    oasis_stack_config cfg;
    test_stack_config(&cfg, n->clock, 1);
    assert_int_equal(oasis_stack_create(&cfg, &n->a), 0);
    assert_non_null(oasis_wire_attach(n->wire, n->a));
    for (int i = 0; i < 2; i++) {
        test_stack_config(&cfg, n->clock, 2 + i);
        assert_int_equal(oasis_stack_create(&cfg, &n->srv[i]), 0);
        assert_non_null(oasis_wire_attach(n->wire, n->srv[i]));
        assert_int_equal(oasis_udp_bind4(n->srv[i], 53, on_srv_udp, n), 0);
    }
    assert_int_equal(oasis_tcp_listen(n->srv[0], 53, NULL, on_tcp_srv_accept, n), 0);
    assert_int_equal(oasis_dns_create(n->a, dcfg, &n->r), 0);
    uint32_t servers[2] = {SRV1, SRV2};
    assert_int_equal(oasis_dns_set_servers(n->r, servers, (size_t)nservers), 0);
}

static void net3_fini(net3 *n)
{
    oasis_dns_destroy(n->r);
    oasis_wire_detach(n->wire, n->a);
    for (int i = 0; i < 2; i++)
        oasis_wire_detach(n->wire, n->srv[i]);
    oasis_stack_destroy(n->a);
    for (int i = 0; i < 2; i++)
        oasis_stack_destroy(n->srv[i]);
    oasis_wire_destroy(n->wire);
    oasis_clock_free(n->clock);
}

static void on_resolved(oasis_dns_req *req, int status, const oasis_dns_result *res, void *ud)
{
    net3 *n = ud;
    assert_false(n->in_resolve); /* never inside the call that started it */
    n->calls++;
    n->done = 1;
    n->status = status;
    n->done_at = oasis_clock_now(n->clock);
    memset(&n->res, 0, sizeof n->res);
    n->canonical[0] = 0;
    if (status == 0) {
        assert_non_null(res);
        n->res = *res;
        snprintf(n->canonical, sizeof n->canonical, "%s", res->canonical);
        snprintf(n->resname, sizeof n->resname, "%s", res->name);
    } else {
        assert_null(res);
    }
}

static int flag(void *ud) { return *(const int *)ud != 0; }

/* Resolves name and runs the wire until the callback ran (asserts it did). */
static void resolve(net3 *n, const char *name)
{
    n->done = 0;
    n->in_resolve = 1;
    assert_int_equal(oasis_dns_resolve(n->r, name, OASIS_DNS_INET, on_resolved, n, NULL), 0);
    n->in_resolve = 0;
    assert_int_equal(n->done, 0);
    assert_int_equal(oasis_wire_run(n->wire, flag, &n->done, 600 * OASIS_NS_PER_SEC), 0);
    assert_int_equal(n->done, 1);
}

static const oasis_dns_counters *ctr(net3 *n) { return oasis_dns_get_counters(n->r); }

/* Where q's question ends (the OPT of an EDNS query follows it). */
static size_t question_end(const uint8_t *q, size_t qlen)
{
    oasis_dns_name qn;
    size_t next;
    assert_int_equal(oasis_dns_name_read(q, qlen, 12, &qn, &next), 0);
    assert_true(next + 4 <= qlen);
    return next + 4;
}

/* Copies the question of q into out's header + question, flags and counts
 * given (no additional section: no OPT). */
static void reply_head(pkt *out, const uint8_t *q, size_t qlen, uint16_t flags, uint16_t an,
                       uint16_t ns)
{
    hdr(out, oasis_get16(q), flags, 1, an, ns, 0);
    pbytes(out, q + 12, question_end(q, qlen) - 12);
}

static uint32_t answer_addr = OASIS_IPV4(10, 0, 0, 9);
static uint32_t answer_ttl = 60;

static int ans_a(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    reply_head(out, q, qlen, RESP, 1, 0);
    a_rr_ptr(out, 12, answer_ttl, answer_addr + (uint32_t)server);
    return 1;
}

static void test_resolve_basic(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_a;
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.res.count, 1);
    assert_int_equal(n.res.addr[0], answer_addr);
    assert_string_equal(n.canonical, "files.test");
    assert_int_equal(n.res.ttl_s, 60);
    assert_int_equal(n.res.from_cache, 0);
    assert_string_equal(n.last_qname[0], "files.test");
    assert_int_equal(ctr(&n)->udp_queries, 1);
    assert_int_equal(ctr(&n)->responses, 1);
    assert_int_equal(ctr(&n)->completed_ok, 1);
    /* A dotted quad needs no server and still calls back later. */
    resolve(&n, "192.0.2.7");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.res.addr[0], OASIS_IPV4(192, 0, 2, 7));
    assert_int_equal(ctr(&n)->udp_queries, 1);
    /* Bad names are refused at once. */
    assert_int_equal(oasis_dns_resolve(n.r, "a..b", OASIS_DNS_INET, on_resolved, &n, NULL),
                     OASIS_DNS_EBADNAME);
    assert_string_equal(oasis_dns_strerror(OASIS_DNS_ENXDOMAIN), "name does not exist (NXDOMAIN)");
    net3_fini(&n);
}

/* RFC 5452: IDs and ports differ from query to query. */
static void test_random_ids_and_ports(void **state)
{
    (void)state;
    oasis_dns_config cfg;
    oasis_dns_config_init(&cfg);
    cfg.cache_entries = 0;
    net3 n;
    net3_init(&n, &cfg, 1);
    n.answer = ans_a;
    uint16_t ids[8];
    for (int i = 0; i < 8; i++) {
        resolve(&n, "files.test");
        assert_int_equal(n.status, 0);
        ids[i] = n.last_id;
    }
    assert_int_equal(n.nsports, 8);
    int same_port = 0, same_id = 0;
    for (int i = 0; i < 8; i++)
        for (int j = i + 1; j < 8; j++) {
            same_port += n.sports[i] == n.sports[j];
            same_id += ids[i] == ids[j];
        }
    assert_true(same_port <= 1 && same_id <= 1);
    for (int i = 0; i < 8; i++)
        assert_true(n.sports[i] >= 1024);
    net3_fini(&n);
}

/* RFC 5452 9.2: "Resolver implementations SHOULD provide means to avoid
 * usage of certain ports." Two resolvers built alike draw the same first
 * port P; one told to avoid P uses another. Lists too long, or a count
 * without a list, are refused. */
static uint16_t first_port(const oasis_dns_config *cfg)
{
    net3 n;
    net3_init(&n, cfg, 1);
    n.answer = ans_a;
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.nsports, 1);
    uint16_t p = n.sports[0];
    net3_fini(&n);
    return p;
}

static void test_avoid_ports(void **state)
{
    (void)state;
    oasis_dns_config cfg;
    oasis_dns_config_init(&cfg);
    uint16_t p = first_port(&cfg);
    assert_int_equal(first_port(&cfg), p); /* the same draw */
    uint16_t avoid[3] = {1024, p, 65535};
    cfg.avoid_ports = avoid;
    cfg.navoid_ports = 3;
    uint16_t q = first_port(&cfg);
    assert_int_not_equal(q, p); /* was p */
    assert_true(q >= 1024);

    oasis_stack *s;
    oasis_clock *clock = oasis_clock_new_virtual(START_NS);
    oasis_stack_config scfg;
    test_stack_config(&scfg, clock, 1);
    assert_int_equal(oasis_stack_create(&scfg, &s), 0);
    oasis_dns *r;
    cfg.navoid_ports = OASIS_DNS_MAX_AVOID_PORTS + 1;
    assert_int_equal(oasis_dns_create(s, &cfg, &r), OASIS_EINVAL);
    cfg.avoid_ports = NULL;
    cfg.navoid_ports = 1;
    assert_int_equal(oasis_dns_create(s, &cfg, &r), OASIS_EINVAL);
    oasis_stack_destroy(s);
    oasis_clock_free(clock);
}

/* RFC 5452 9.2: "Use an unpredictable source port" and "an unpredictable
 * query ID". The stack's PRNG is no source for them: core/prng.h says its
 * state can be recovered from its outputs, and those go on the wire (DHCP
 * xids, ports). Knowing that state must not tell the next port and ID:
 * they are not the draws the PRNG gives from any nearby point. */
static void test_ids_ports_not_from_stack_prng(void **state)
{
    (void)state;
    oasis_dns_config cfg;
    oasis_dns_config_init(&cfg);
    cfg.cache_entries = 0;
    net3 n;
    net3_init(&n, &cfg, 1);
    n.answer = ans_a;
    int predicted = 0;
    uint16_t ports[8], ids[8];
    for (int i = 0; i < 8; i++) {
        oasis_prng known = n.a->prng; /* what an attacker who recovered it knows */
        resolve(&n, "files.test");
        assert_int_equal(n.status, 0);
        ports[i] = n.last_sport;
        ids[i] = n.last_id;
        for (int skip = 0; skip < 32; skip++) {
            oasis_prng p = known;
            for (int k = 0; k < skip; k++)
                oasis_prng_next(&p);
            uint16_t port = (uint16_t)(1024 + oasis_prng_below(&p, 65536 - 1024));
            uint16_t id = (uint16_t)oasis_prng_next(&p);
            predicted += port == n.last_sport && id == n.last_id;
        }
    }
    assert_int_equal(predicted, 0); /* was 8 */
    /* A new resolver on the same stack does not draw the same sequence
     * again (whoever saw the first one's queries would know it). */
    oasis_dns_destroy(n.r);
    assert_int_equal(oasis_dns_create(n.a, &cfg, &n.r), 0);
    uint32_t srv1 = SRV1;
    assert_int_equal(oasis_dns_set_servers(n.r, &srv1, 1), 0);
    int again = 0;
    for (int i = 0; i < 8; i++) {
        resolve(&n, "files.test");
        again += n.last_sport == ports[i] && n.last_id == ids[i];
    }
    assert_int_equal(again, 0);
    net3_fini(&n);
}

static int ans_drop_first(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    if (server == 0)
        return 0; /* server 1 is dead */
    return ans_a(n, server, q, qlen, out);
}

static void test_retry_failover(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 2);
    n.answer = ans_drop_first;
    uint64_t t0 = oasis_clock_now(n.clock);
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.res.addr[0], answer_addr + 1); /* from server 2 */
    assert_int_equal(n.queries[0], 1);
    assert_int_equal(n.queries[1], 1);
    assert_int_equal(ctr(&n)->timeouts, 1);
    /* Server 2 was asked only after server 1's timeout (1 s). */
    assert_true(n.query_at[1] >= t0 + OASIS_NS_PER_SEC);
    assert_true(n.query_at[1] < t0 + 2 * OASIS_NS_PER_SEC);
    /* A new port for the new try. */
    assert_int_not_equal(n.sports[0], n.sports[1]);
    net3_fini(&n);
}

static int ans_none(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out) { return 0; }

static void test_all_servers_silent(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 2);
    n.answer = ans_none;
    uint64_t t0 = oasis_clock_now(n.clock);
    resolve(&n, "files.test");
    assert_int_equal(n.status, OASIS_DNS_ETIMEDOUT);
    /* 2 rounds over 2 servers; the wait doubles in the second round. */
    assert_int_equal(n.queries[0], 2);
    assert_int_equal(n.queries[1], 2);
    assert_int_equal(ctr(&n)->timeouts, 4);
    assert_true(n.done_at >= t0 + 6 * OASIS_NS_PER_SEC);
    assert_true(n.done_at < t0 + 7 * OASIS_NS_PER_SEC);
    assert_true(n.query_at[2] >= t0 + 2 * OASIS_NS_PER_SEC);
    assert_true(n.query_at[3] >= t0 + 4 * OASIS_NS_PER_SEC);
    net3_fini(&n);
}

static int ans_servfail_first(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    if (server == 0) {
        reply_head(out, q, qlen, RESP | OASIS_DNS_RCODE_SERVFAIL, 0, 0);
        return 1;
    }
    return ans_a(n, server, q, qlen, out);
}

static void test_servfail_fails_over_at_once(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 2);
    n.answer = ans_servfail_first;
    uint64_t t0 = oasis_clock_now(n.clock);
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.res.addr[0], answer_addr + 1);
    assert_int_equal(ctr(&n)->timeouts, 0);
    assert_int_equal(ctr(&n)->servfail, 1);
    assert_true(n.done_at < t0 + OASIS_NS_PER_SEC / 2);
    /* Only one server, which fails: SERVFAIL after every try. */
    net3_fini(&n);
    net3_init(&n, NULL, 1);
    n.answer = ans_servfail_first;
    resolve(&n, "files.test");
    assert_int_equal(n.status, OASIS_DNS_ESERVFAIL);
    assert_int_equal(n.queries[0], 2);
    net3_fini(&n);
}

/* A server whose port 53 is closed answers with ICMP port unreachable
 * (its stack's own, RFC 1122 4.1.3.1): the next server is asked at once,
 * not after the timeout; with no other server the request fails with
 * OASIS_DNS_ENETWORK instead of waiting out every try. (Virtual clock.) */
static void test_port_unreachable_fails_over_at_once(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 2);
    n.answer = ans_a;
    assert_int_equal(oasis_udp_unbind(n.srv[0], 53), 0);
    uint64_t t0 = oasis_clock_now(n.clock);
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.res.addr[0], answer_addr + 1); /* from server 2 */
    assert_int_equal(ctr(&n)->unreachable, 1);
    assert_int_equal(ctr(&n)->timeouts, 0);
    assert_true(n.done_at < t0 + OASIS_NS_PER_SEC / 2);
    net3_fini(&n);

    net3_init(&n, NULL, 1);
    n.answer = ans_a;
    assert_int_equal(oasis_udp_unbind(n.srv[0], 53), 0);
    t0 = oasis_clock_now(n.clock);
    resolve(&n, "files.test");
    assert_int_equal(n.status, OASIS_DNS_ENETWORK);
    assert_int_equal(ctr(&n)->unreachable, 2); /* each of the two attempts */
    assert_int_equal(ctr(&n)->timeouts, 0);
    assert_true(n.done_at < t0 + OASIS_NS_PER_SEC / 2);
    net3_fini(&n);
}

/* RFC 1035 4.1.1 RCODEs: REFUSED (5) is its own error; FORMERR (1),
 * NOTIMP (4) and the rest of the error codes read as the server failing.
 * Each moves on to the next server at once (no timeout waited). FORMERR
 * and NOTIMP without OPT to an EDNS query first make the resolver ask that
 * server once more without OPT (RFC 6891 7), and without OPT for the rest
 * of the request: 3 queries per server instead of 2. */
static uint8_t rcode_given;
static int ans_rcode(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    reply_head(out, q, qlen, (uint16_t)(RESP | rcode_given), 0, 0);
    return 1;
}

static void test_error_rcodes(void **state)
{
    (void)state;
    static const struct {
        uint8_t rcode;
        int status;
    } cases[] = {
        {OASIS_DNS_RCODE_REFUSED, OASIS_DNS_EREFUSED},  {OASIS_DNS_RCODE_SERVFAIL, OASIS_DNS_ESERVFAIL},
        {OASIS_DNS_RCODE_FORMERR, OASIS_DNS_ESERVFAIL}, {OASIS_DNS_RCODE_NOTIMP, OASIS_DNS_ESERVFAIL},
        {9, OASIS_DNS_ESERVFAIL},                       {15, OASIS_DNS_ESERVFAIL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        net3 n;
        net3_init(&n, NULL, 2);
        n.answer = ans_rcode;
        rcode_given = cases[i].rcode;
        uint64_t t0 = oasis_clock_now(n.clock);
        resolve(&n, "files.test");
        assert_int_equal(n.status, cases[i].status);
        int fallback = cases[i].rcode == OASIS_DNS_RCODE_FORMERR ||
                       cases[i].rcode == OASIS_DNS_RCODE_NOTIMP;
        assert_int_equal(n.queries[0], 2 + fallback);
        assert_int_equal(n.queries[1], 2 + fallback);
        assert_int_equal(ctr(&n)->edns_fallbacks, fallback ? 2 : 0);
        assert_int_equal(ctr(&n)->timeouts, 0);
        assert_true(n.done_at < t0 + OASIS_NS_PER_SEC);
        if (cases[i].status == OASIS_DNS_EREFUSED)
            assert_int_equal(ctr(&n)->refused, 4);
        else
            assert_int_equal(ctr(&n)->servfail, 4);
        assert_int_equal(ctr(&n)->cache_entries, 0);
        net3_fini(&n);
    }
}

/* UDP says TC=1 with no records; TCP gives the whole answer. */
static int ans_truncated(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    reply_head(out, q, qlen, RESP | OASIS_DNS_F_TC, 0, 0);
    return 1;
}

static int ans_tcp_many(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    reply_head(out, q, qlen, RESP, 40, 0);
    for (uint32_t i = 0; i < 40; i++)
        a_rr_ptr(out, 12, 120, OASIS_IPV4(10, 1, 0, 1) + i);
    return 1;
}

static void test_truncation_then_tcp(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_truncated;
    n.tcp_answer = ans_tcp_many;
    resolve(&n, "big.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.tcp_queries, 1);
    assert_int_equal(ctr(&n)->truncated, 1);
    assert_int_equal(ctr(&n)->tcp_queries, 1);
    assert_int_equal(n.res.count, OASIS_DNS_MAX_ADDRS);
    assert_int_equal(n.res.addr[0], OASIS_IPV4(10, 1, 0, 1));
    assert_int_equal(n.res.ttl_s, 120);
    /* The connection is closed afterwards. */
    oasis_wire_run(n.wire, NULL, NULL, 10 * OASIS_NS_PER_SEC);
    assert_int_equal(oasis_stack_counters(n.a)->tcp.curr_estab, 0);
    net3_fini(&n);
}

/* A TCP answer that still says TC=1, with a record in it. RFC 2181 9:
 * "When a DNS client receives a reply with TC set, it should ignore that
 * response" (it may hold a partial RRSet). Over TCP there is no larger
 * channel left, so the try failed: next server; never "no address". */
static int ans_tc_first(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    if (server == 0)
        return ans_truncated(n, server, q, qlen, out);
    return ans_a(n, server, q, qlen, out);
}

static int ans_tcp_tc_one(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    reply_head(out, q, qlen, RESP | OASIS_DNS_F_TC, 1, 0);
    a_rr_ptr(out, 12, 120, OASIS_IPV4(10, 1, 0, 7));
    return 1;
}

static void test_tcp_answer_with_tc(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_truncated;
    n.tcp_answer = ans_tcp_tc_one;
    resolve(&n, "big.test");
    assert_int_equal(n.status, OASIS_DNS_EMALFORMED); /* was ENODATA */
    assert_int_equal(n.tcp_queries, 2);               /* one per round */
    assert_int_equal(ctr(&n)->malformed, 2);
    assert_int_equal(ctr(&n)->nodata, 0);
    net3_fini(&n);
    /* With a second server the request goes on there and succeeds. */
    net3_init(&n, NULL, 2);
    n.answer = ans_tc_first;
    n.tcp_answer = ans_tcp_tc_one;
    resolve(&n, "big.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.res.addr[0], answer_addr + 1);
    assert_int_equal(n.tcp_queries, 1);
    assert_int_equal(ctr(&n)->timeouts, 0);
    net3_fini(&n);
}

/* A TCP answer whose length prefix says more than the server sends before
 * closing: a truncated message, counted malformed, and the request ends
 * saying so rather than "no server answered in time" (RFC 1035 4.2.2:
 * the prefix gives the message's length). */
static void test_tcp_answer_cut_short(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_truncated;
    n.tcp_answer = ans_a;
    n.tcp_overstate = 10;
    n.tcp_close = 1;
    uint64_t t0 = oasis_clock_now(n.clock);
    resolve(&n, "big.test");
    assert_int_equal(n.tcp_queries, 2);
    assert_int_equal(n.status, OASIS_DNS_EMALFORMED); /* was ETIMEDOUT */
    assert_int_equal(ctr(&n)->malformed, 2);
    assert_int_equal(ctr(&n)->timeouts, 0);
    assert_true(n.done_at < t0 + OASIS_NS_PER_SEC); /* no timeout waited */
    net3_fini(&n);
}

/* TC=1 over UDP, and TCP to that server refused (RST to the SYN: no
 * listener). The try failed at once, as a port unreachable over UDP ends
 * one: the next server is asked (here over UDP, it answers), and when
 * every try ends so the request says OASIS_DNS_ENETWORK ("no server could
 * be reached"), counted in unreachable, with no timeout waited. Before,
 * the refusal left no trace: the request ended with OASIS_DNS_ETIMEDOUT. */
static int ans_tc_first_server(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    if (server == 0)
        return ans_truncated(n, server, q, qlen, out);
    return ans_a(n, server, q, qlen, out);
}

static void test_tcp_refused_fails_over(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_truncated;
    assert_int_equal(oasis_tcp_unlisten(n.srv[0], 53), 0);
    uint64_t t0 = oasis_clock_now(n.clock);
    resolve(&n, "big.test");
    assert_int_equal(n.status, OASIS_DNS_ENETWORK); /* was ETIMEDOUT */
    assert_int_equal(n.queries[0], 2);              /* one per round */
    assert_int_equal(ctr(&n)->tcp_queries, 2);
    assert_int_equal(ctr(&n)->unreachable, 2);
    assert_int_equal(ctr(&n)->timeouts, 0);
    assert_true(n.done_at < t0 + OASIS_NS_PER_SEC / 2);
    net3_fini(&n);
    /* A second server answers: the request ends well, still at once. */
    net3_init(&n, NULL, 2);
    n.answer = ans_tc_first_server;
    assert_int_equal(oasis_tcp_unlisten(n.srv[0], 53), 0);
    t0 = oasis_clock_now(n.clock);
    resolve(&n, "big.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.res.addr[0], answer_addr + 1);
    assert_int_equal(ctr(&n)->unreachable, 1);
    assert_int_equal(ctr(&n)->timeouts, 0);
    assert_true(n.done_at < t0 + OASIS_NS_PER_SEC / 2);
    net3_fini(&n);
}

static int ans_chain3(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    chain_answer(out, oasis_get16(q), 3, 1);
    return 1;
}

static void test_cname_chain_and_bound(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_chain3;
    resolve(&n, "a.test");
    assert_int_equal(n.status, 0);
    assert_string_equal(n.canonical, "c3.test");
    assert_int_equal(n.res.addr[0], OASIS_IPV4(10, 0, 0, 77));
    assert_int_equal(n.res.ttl_s, 50);
    assert_int_equal(ctr(&n)->cname_followed, 3);
    net3_fini(&n);

    oasis_dns_config cfg;
    oasis_dns_config_init(&cfg);
    cfg.max_cname = 2;
    net3_init(&n, &cfg, 1);
    n.answer = ans_chain3;
    resolve(&n, "a.test");
    assert_int_equal(n.status, OASIS_DNS_ECNAME);
    assert_int_equal(n.queries[0], 1);
    net3_fini(&n);
}

static int ans_cname_loop(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    cname_loop(out);
    oasis_put16(out->b, oasis_get16(q));
    return 1;
}

/* The resolver with no practical bound of its own: ECNAME at once. */
static void test_cname_loop_unbounded_config(void **state)
{
    (void)state;
    oasis_dns_config cfg;
    oasis_dns_config_init(&cfg);
    cfg.max_cname = UINT32_MAX;
    net3 n;
    net3_init(&n, &cfg, 1);
    n.answer = ans_cname_loop;
    resolve(&n, "a.test");
    assert_int_equal(n.status, OASIS_DNS_ECNAME);
    assert_int_equal(n.queries[0], 1);
    assert_true(ctr(&n)->cname_followed <= 3);
    net3_fini(&n);
}

/* The answer stops at a CNAME: the target is asked next, and the links
 * of both answers count against the bound together. */
static int ans_cname_split(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    oasis_dns_name qn;
    char text[OASIS_DNS_NAME_STRLEN];
    oasis_dns_name_read(q, qlen, 12, &qn, NULL);
    oasis_dns_name_to_text(&qn, text, sizeof text);
    if (strcmp(text, "a.test") == 0) {
        chain_answer(out, oasis_get16(q), 2, 0); /* a -> c1 -> c2, no A */
        return 1;
    }
    if (strcmp(text, "c2.test") == 0) {
        /* c2.test CNAME c9.x, c9.x A 10.0.0.99 */
        reply_head(out, q, qlen, RESP, 2, 0);
        pptr(out, 12);
        rrh(out, OASIS_DNS_TYPE_CNAME, 100, 6);
        uint16_t target = (uint16_t)out->n;
        pname(out, "c9.x");
        a_rr_ptr(out, target, 40, OASIS_IPV4(10, 0, 0, 99));
        return 1;
    }
    return 0;
}

static void test_cname_requery(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_cname_split;
    resolve(&n, "a.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.queries[0], 2);
    assert_string_equal(n.last_qname[0], "c2.test");
    assert_string_equal(n.canonical, "c9.x");
    assert_int_equal(n.res.addr[0], OASIS_IPV4(10, 0, 0, 99));
    assert_int_equal(ctr(&n)->cname_followed, 3);
    net3_fini(&n);
    /* With a bound of 2 the third link (in the second answer) is too many. */
    oasis_dns_config cfg;
    oasis_dns_config_init(&cfg);
    cfg.max_cname = 2;
    net3_init(&n, &cfg, 1);
    n.answer = ans_cname_split;
    resolve(&n, "a.test");
    assert_int_equal(n.status, OASIS_DNS_ECNAME);
    net3_fini(&n);
}

static void test_cache_ttl(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_a;
    answer_ttl = 30;
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.queries[0], 1);
    oasis_clock_advance(n.clock, 10 * OASIS_NS_PER_SEC);
    resolve(&n, "FILES.test."); /* the same name */
    assert_int_equal(n.status, 0);
    assert_int_equal(n.queries[0], 1);
    assert_int_equal(n.res.from_cache, 1);
    assert_int_equal(n.res.ttl_s, 20);
    assert_int_equal(n.res.addr[0], answer_addr);
    assert_int_equal(ctr(&n)->cache_hits, 1);
    /* Past the TTL: asked again. */
    oasis_clock_advance(n.clock, 21 * OASIS_NS_PER_SEC);
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.queries[0], 2);
    assert_int_equal(n.res.from_cache, 0);
    /* TTL 0 is never cached. */
    answer_ttl = 0;
    oasis_dns_cache_flush(n.r);
    resolve(&n, "zero.test");
    resolve(&n, "zero.test");
    assert_int_equal(n.queries[0], 4);
    answer_ttl = 60;
    net3_fini(&n);
}

static void test_cache_bound(void **state)
{
    (void)state;
    oasis_dns_config cfg;
    oasis_dns_config_init(&cfg);
    cfg.cache_entries = 2;
    net3 n;
    net3_init(&n, &cfg, 1);
    n.answer = ans_a;
    resolve(&n, "one.test");
    oasis_clock_advance(n.clock, OASIS_NS_PER_SEC);
    resolve(&n, "two.test");
    oasis_clock_advance(n.clock, OASIS_NS_PER_SEC);
    resolve(&n, "one.test"); /* hit: one is now the most recently used */
    assert_int_equal(n.queries[0], 2);
    oasis_clock_advance(n.clock, OASIS_NS_PER_SEC);
    resolve(&n, "three.test"); /* evicts two */
    assert_int_equal(ctr(&n)->cache_evictions, 1);
    assert_int_equal(ctr(&n)->cache_entries, 2);
    resolve(&n, "one.test");
    assert_int_equal(n.queries[0], 3);
    resolve(&n, "two.test");
    assert_int_equal(n.queries[0], 4);
    net3_fini(&n);
}

/* NXDOMAIN with an SOA in authority (TTL 60, MINIMUM 10). */
static int ans_nxdomain(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    reply_head(out, q, qlen, RESP | OASIS_DNS_RCODE_NXDOMAIN, 0, 1);
    pname(out, "test");
    size_t rdlen_at = out->n + 8;
    rrh(out, OASIS_DNS_TYPE_SOA, 60, 0);
    size_t start = out->n;
    pname(out, "ns.test");
    pname(out, "admin.test");
    p32(out, 1);
    p32(out, 7200);
    p32(out, 3600);
    p32(out, 86400);
    p32(out, 10);
    oasis_put16(out->b + rdlen_at, (uint16_t)(out->n - start));
    return 1;
}

/* RFC 2308 5: "Negative responses without SOA records SHOULD NOT be
 * cached as there is no way to prevent the negative responses looping
 * forever between a pair of servers even with a short TTL." NXDOMAIN and
 * NODATA with an empty authority section are asked again each time. */
static void test_negative_without_soa_not_cached(void **state)
{
    (void)state;
    static const uint8_t rcodes[] = {OASIS_DNS_RCODE_NXDOMAIN, OASIS_DNS_RCODE_NOERROR};
    static const int want[] = {OASIS_DNS_ENXDOMAIN, OASIS_DNS_ENODATA};
    for (size_t i = 0; i < 2; i++) {
        net3 n;
        net3_init(&n, NULL, 1);
        n.answer = ans_rcode;
        rcode_given = rcodes[i];
        resolve(&n, "nope.test");
        assert_int_equal(n.status, want[i]);
        resolve(&n, "nope.test");
        assert_int_equal(n.status, want[i]);
        assert_int_equal(n.queries[0], 2);
        assert_int_equal(ctr(&n)->cache_hits, 0);
        assert_int_equal(ctr(&n)->cache_entries, 0);
        net3_fini(&n);
    }
}

/* RFC 2181 5.2: an RRSet whose TTLs differ is used "as if all TTLs in the
 * RRSet had been set to the value of the lowest TTL in the RRSet". Two A
 * records of TTL 30 and 50: the answer lives 30 s. */
static int ans_two_ttls(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    reply_head(out, q, qlen, RESP, 2, 0);
    a_rr_ptr(out, 12, 30, answer_addr);
    a_rr_ptr(out, 12, 50, answer_addr + 1);
    return 1;
}

static void test_rrset_least_ttl(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_two_ttls;
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.res.count, 2);
    assert_int_equal(n.res.ttl_s, 30);
    oasis_clock_advance(n.clock, 31 * OASIS_NS_PER_SEC);
    resolve(&n, "files.test");
    assert_int_equal(n.queries[0], 2); /* the cached answer ended with the least TTL */
    net3_fini(&n);
}

/* A server that does not recurse answers with a referral: NOERROR, no
 * answer, NS records in authority, no SOA. RFC 2308 2.2: NODATA is
 * NOERROR with no relevant answer where "the authority section will
 * contain an SOA record, or there will be no NS records there"; a referral
 * is neither, so the name is not known to lack an address: the next server
 * is asked (as glibc's stub does with a "referred query"). */
static int ans_referral_first(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    if (server == 1)
        return ans_a(n, server, q, qlen, out);
    reply_head(out, q, qlen, OASIS_DNS_F_QR | OASIS_DNS_F_RD, 0, 1); /* RA clear */
    pname(out, "test");
    rrh(out, OASIS_DNS_TYPE_NS, 3600, 9);
    pname(out, "ns.test");
    return 1;
}

static void test_referral_is_not_nodata(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 2);
    n.answer = ans_referral_first;
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0); /* was ENODATA from server 1 */
    assert_int_equal(n.res.addr[0], answer_addr + 1);
    assert_int_equal(ctr(&n)->referrals, 1);
    assert_int_equal(ctr(&n)->nodata, 0);
    assert_int_equal(ctr(&n)->timeouts, 0); /* at once, not after a timeout */
    net3_fini(&n);
    /* Only servers that refer: refused, and nothing cached. */
    net3_init(&n, NULL, 1);
    n.answer = ans_referral_first;
    resolve(&n, "files.test");
    assert_int_equal(n.status, OASIS_DNS_EREFUSED);
    assert_int_equal(n.queries[0], 2);
    assert_int_equal(ctr(&n)->referrals, 2);
    assert_int_equal(ctr(&n)->cache_entries, 0);
    net3_fini(&n);
}

static void test_negative_cache(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_nxdomain;
    resolve(&n, "nope.test");
    assert_int_equal(n.status, OASIS_DNS_ENXDOMAIN);
    assert_int_equal(ctr(&n)->nxdomain, 1);
    oasis_clock_advance(n.clock, 9 * OASIS_NS_PER_SEC);
    resolve(&n, "nope.test");
    assert_int_equal(n.status, OASIS_DNS_ENXDOMAIN);
    assert_int_equal(n.queries[0], 1); /* from the cache */
    oasis_clock_advance(n.clock, 2 * OASIS_NS_PER_SEC);
    resolve(&n, "nope.test");
    assert_int_equal(n.queries[0], 2); /* min(60, 10) = 10 s is over */
    net3_fini(&n);
}

/* As resolve(), for a family. */
static void resolve_fam(net3 *n, const char *name, oasis_dns_family fam)
{
    n->done = 0;
    n->in_resolve = 1;
    assert_int_equal(oasis_dns_resolve(n->r, name, fam, on_resolved, n, NULL), 0);
    n->in_resolve = 0;
    assert_int_equal(oasis_wire_run(n->wire, flag, &n->done, 600 * OASIS_NS_PER_SEC), 0);
    assert_int_equal(n->done, 1);
}

/* Names starting "empty" have no data (NOERROR, SOA TTL 60, MINIMUM 10),
 * names starting "flip" an A record on the first query only, the rest do
 * not exist (ans_nxdomain). */
static int ans_neg_by_name(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    const char *name = n->last_qname[server];
    if (strncmp(name, "flip", 4) == 0 && n->step++ == 0)
        return ans_a(n, server, q, qlen, out);
    ans_nxdomain(n, server, q, qlen, out);
    if (strncmp(name, "empty", 5) == 0)
        out->b[3] &= 0xf0; /* RCODE NOERROR: no data */
    return 1;
}

/* RFC 2308 5: "A negative answer that resulted from a name error
 * (NXDOMAIN) should be cached such that it can be retrieved and returned
 * in response to another query for the same <QNAME, QCLASS>", and one of
 * no data for "the same <QNAME, QTYPE, QCLASS>". The name error of an A
 * query answers the AAAA query (and the other way round) for the
 * negative TTL, min(SOA TTL, MINIMUM) = 10 s; no data answers its type
 * only. Before, both were cached per type: the AAAA query asked again. */
static void test_nxdomain_cached_per_name(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_neg_by_name;
    resolve_fam(&n, "nope.test", OASIS_DNS_INET);
    assert_int_equal(n.status, OASIS_DNS_ENXDOMAIN);
    assert_int_equal(n.queries[0], 1);
    resolve_fam(&n, "NOPE.test", OASIS_DNS_INET6);
    assert_int_equal(n.status, OASIS_DNS_ENXDOMAIN);
    assert_int_equal(n.queries[0], 1); /* was 2 */
    assert_int_equal(ctr(&n)->cache_hits, 1);
    /* No data is about the type asked only. */
    resolve_fam(&n, "empty.test", OASIS_DNS_INET);
    assert_int_equal(n.status, OASIS_DNS_ENODATA);
    resolve_fam(&n, "empty.test", OASIS_DNS_INET6);
    assert_int_equal(n.status, OASIS_DNS_ENODATA);
    assert_int_equal(n.queries[0], 3);
    resolve_fam(&n, "empty.test", OASIS_DNS_INET6);
    assert_int_equal(n.queries[0], 3);
    /* The negative TTL (10 s) is over: asked again, by AAAA; that name
     * error answers A in turn. */
    oasis_clock_advance(n.clock, 11 * OASIS_NS_PER_SEC);
    resolve_fam(&n, "nope.test", OASIS_DNS_INET6);
    assert_int_equal(n.queries[0], 4);
    resolve_fam(&n, "nope.test", OASIS_DNS_INET);
    assert_int_equal(n.status, OASIS_DNS_ENXDOMAIN);
    assert_int_equal(n.queries[0], 4);
    /* A cached address, then a name error for another type: the name is
     * gone, and the address with it. */
    resolve_fam(&n, "flip.test", OASIS_DNS_INET);
    assert_int_equal(n.status, 0);
    resolve_fam(&n, "flip.test", OASIS_DNS_INET6);
    assert_int_equal(n.status, OASIS_DNS_ENXDOMAIN);
    assert_int_equal(n.queries[0], 6);
    resolve_fam(&n, "flip.test", OASIS_DNS_INET);
    assert_int_equal(n.status, OASIS_DNS_ENXDOMAIN);
    assert_int_equal(n.queries[0], 6);
    /* The search list's candidates hit the cache the same way: the AAAA
     * search asks nothing after the A one. */
    static const char *const dom[] = {"a.test"};
    assert_int_equal(oasis_dns_set_search(n.r, dom, 1), 0);
    resolve_fam(&n, "nope", OASIS_DNS_INET);
    assert_int_equal(n.status, OASIS_DNS_ENXDOMAIN);
    assert_int_equal(n.queries[0], 8); /* nope.a.test, nope */
    resolve_fam(&n, "nope", OASIS_DNS_INET6);
    assert_int_equal(n.status, OASIS_DNS_ENXDOMAIN);
    assert_int_equal(n.queries[0], 8);
    net3_fini(&n);
}

/* Before the real answer: one with the wrong ID, one from the wrong port,
 * one for another question, one from another host. Each carries a
 * different address; only the real one may be taken. */
static int ans_forged_first(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    pkt f;
    uint16_t id = oasis_get16(q);
    oasis_stack *s = n->srv[0];
    /* wrong ID */
    reply_head(&f, q, qlen, RESP, 1, 0);
    oasis_put16(f.b, (uint16_t)(id ^ 0x5555));
    a_rr_ptr(&f, 12, 60, OASIS_IPV4(6, 6, 6, 1));
    assert_int_equal(oasis_udp_send4(s, 53, n->last_src, n->last_sport, f.b, f.n), 0);
    /* wrong source port */
    reply_head(&f, q, qlen, RESP, 1, 0);
    a_rr_ptr(&f, 12, 60, OASIS_IPV4(6, 6, 6, 2));
    assert_int_equal(oasis_udp_send4(s, 5353, n->last_src, n->last_sport, f.b, f.n), 0);
    /* wrong question (another name, right ID) */
    hdr(&f, id, RESP, 1, 1, 0, 0);
    pname(&f, "evil.test");
    p16(&f, 1);
    p16(&f, 1);
    a_rr_ptr(&f, 12, 60, OASIS_IPV4(6, 6, 6, 3));
    assert_int_equal(oasis_udp_send4(s, 53, n->last_src, n->last_sport, f.b, f.n), 0);
    /* wrong question type (AAAA) */
    reply_head(&f, q, qlen, RESP, 0, 0);
    oasis_put16(f.b + f.n - 4, OASIS_DNS_TYPE_AAAA);
    assert_int_equal(oasis_udp_send4(s, 53, n->last_src, n->last_sport, f.b, f.n), 0);
    /* wrong source address: the other server sends it */
    reply_head(&f, q, qlen, RESP, 1, 0);
    a_rr_ptr(&f, 12, 60, OASIS_IPV4(6, 6, 6, 4));
    assert_int_equal(oasis_udp_send4(n->srv[1], 53, n->last_src, n->last_sport, f.b, f.n), 0);
    /* garbage with the right ID: ignored too (counted malformed) */
    hdr(&f, id, RESP, 1, 0, 0, 0);
    p8(&f, 0xc0);
    assert_int_equal(oasis_udp_send4(s, 53, n->last_src, n->last_sport, f.b, f.n), 0);
    return ans_a(n, server, q, qlen, out);
}

static void test_forged_replies_ignored(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_forged_first;
    /* Let server 2 learn our MAC first, so its forgery is not held by ARP. */
    assert_int_equal(oasis_udp_send4(n.srv[1], 53, TEST_ADDR_A, 9, "x", 1), 0);
    oasis_wire_run(n.wire, NULL, NULL, 5 * OASIS_NS_PER_SEC);
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.res.count, 1);
    assert_int_equal(n.res.addr[0], answer_addr);
    assert_int_equal(ctr(&n)->mismatched, 5);
    assert_int_equal(ctr(&n)->malformed, 1);
    assert_int_equal(ctr(&n)->responses, 1);
    net3_fini(&n);
}

/* RFC 5452 9.1: a reply counts only when, among the rest, its destination
 * address is the query's source address. The server's own answer (right
 * source, port, ID and question) sent to the subnet's broadcast address or
 * to 255.255.255.255 is not an answer to us: counted, ignored. */
static int ans_broadcast_first(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    static const uint32_t to[] = {OASIS_IPV4(10, 0, 0, 255), 0xffffffffu};
    for (size_t i = 0; i < 2; i++) {
        pkt f;
        reply_head(&f, q, qlen, RESP, 1, 0);
        a_rr_ptr(&f, 12, 60, OASIS_IPV4(6, 6, 6, 10 + (uint32_t)i));
        assert_int_equal(oasis_udp_send4(n->srv[0], 53, to[i], n->last_sport, f.b, f.n), 0);
    }
    return ans_a(n, server, q, qlen, out);
}

static void test_reply_to_broadcast_ignored(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_broadcast_first;
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.res.addr[0], answer_addr); /* was 6.6.6.10 */
    assert_int_equal(ctr(&n)->mismatched, 2);
    net3_fini(&n);
}

/* RFC 1035 4.1.1 and RFC 5452 9.1: before the real answer, replies from
 * the right address and port with the right ID, each breaking one more
 * rule: QR clear (a query, not a response), OPCODE 2 (not an answer to a
 * standard query), two questions, no question, QCLASS CH instead of IN.
 * Each carries another address; none may be taken. The real answer spells
 * the question in capitals: QNAME compares without case (RFC 1035 2.3.3),
 * so it is ours. */
static void send_forged(net3 *n, pkt *f)
{
    assert_int_equal(oasis_udp_send4(n->srv[0], 53, n->last_src, n->last_sport, f->b, f->n), 0);
}

static int ans_rule_breakers_first(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    pkt f;
    size_t qend = question_end(q, qlen);
    reply_head(&f, q, qlen, OASIS_DNS_F_RD, 1, 0); /* QR clear */
    a_rr_ptr(&f, 12, 60, OASIS_IPV4(6, 6, 6, 1));
    send_forged(n, &f);
    reply_head(&f, q, qlen, RESP | 2u << 11, 1, 0); /* OPCODE STATUS */
    a_rr_ptr(&f, 12, 60, OASIS_IPV4(6, 6, 6, 2));
    send_forged(n, &f);
    reply_head(&f, q, qlen, RESP, 1, 0); /* the question twice */
    pbytes(&f, q + 12, qend - 12);
    oasis_put16(f.b + 4, 2);
    a_rr_ptr(&f, 12, 60, OASIS_IPV4(6, 6, 6, 3));
    send_forged(n, &f);
    hdr(&f, oasis_get16(q), RESP, 0, 1, 0, 0); /* no question */
    pbytes(&f, q + 12, qend - 12 - 4);
    rrh(&f, OASIS_DNS_TYPE_A, 60, 4);
    p32(&f, OASIS_IPV4(6, 6, 6, 4));
    send_forged(n, &f);
    reply_head(&f, q, qlen, RESP, 1, 0); /* QCLASS CH */
    oasis_put16(f.b + f.n - 2, 3);
    a_rr_ptr(&f, 12, 60, OASIS_IPV4(6, 6, 6, 5));
    send_forged(n, &f);
    reply_head(out, q, qlen, RESP, 1, 0);
    for (size_t i = 12; i < qend - 4; i++)
        if (out->b[i] >= 'a' && out->b[i] <= 'z')
            out->b[i] = (uint8_t)(out->b[i] - 'a' + 'A');
    a_rr_ptr(out, 12, 60, answer_addr);
    return 1;
}

static void test_reply_header_and_question_checked(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_rule_breakers_first;
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.res.count, 1);
    assert_int_equal(n.res.addr[0], answer_addr);
    assert_int_equal(ctr(&n)->malformed, 4);
    assert_int_equal(ctr(&n)->mismatched, 1);
    assert_int_equal(ctr(&n)->responses, 1);
    assert_int_equal(n.queries[0], 1);
    net3_fini(&n);
}

/* RFC 2181 5.4.1: only the answer section, for the question asked, gives
 * the answer; glue and additional data are not trusted for it. NOERROR
 * with, in the answer section, an A of another owner and an A of the
 * question's name in class CH; in authority, the zone's SOA; in the
 * additional section, an A of the question's name: none of them is an
 * address for files.test, so it is NODATA. The same A in the answer
 * section (the control) is taken. */
static int ans_addresses_elsewhere(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    reply_head(out, q, qlen, RESP, 2, 1);
    pname(out, "evil.test");
    rrh(out, OASIS_DNS_TYPE_A, 60, 4);
    p32(out, OASIS_IPV4(6, 6, 6, 1));
    pptr(out, 12);
    p16(out, OASIS_DNS_TYPE_A);
    p16(out, 3); /* CH */
    p32(out, 60);
    p16(out, 4);
    p32(out, OASIS_IPV4(6, 6, 6, 2));
    pname(out, "test");
    size_t rdlen_at = out->n + 8;
    rrh(out, OASIS_DNS_TYPE_SOA, 60, 0);
    size_t start = out->n;
    pname(out, "ns.test");
    pname(out, "admin.test");
    p32(out, 1);
    p32(out, 7200);
    p32(out, 3600);
    p32(out, 86400);
    p32(out, 10);
    oasis_put16(out->b + rdlen_at, (uint16_t)(out->n - start));
    a_rr_ptr(out, 12, 60, OASIS_IPV4(6, 6, 6, 3));
    oasis_put16(out->b + 10, 1); /* ARCOUNT */
    return 1;
}

static void test_only_answer_section_believed(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_addresses_elsewhere;
    resolve(&n, "files.test");
    assert_int_equal(n.status, OASIS_DNS_ENODATA);
    assert_int_equal(ctr(&n)->nodata, 1);
    assert_int_equal(ctr(&n)->completed_ok, 0);
    n.answer = ans_a;
    resolve(&n, "other.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.res.addr[0], answer_addr);
    net3_fini(&n);
}

/* RFC 2181 9: "When a DNS client receives a reply with TC set, it should
 * ignore that response, and query again, using a mechanism, such as a TCP
 * connection, that will permit larger replies." A TC=1 reply that carries
 * an address gives nothing: the TCP answer is the one taken. */
static int ans_truncated_with_addr(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    reply_head(out, q, qlen, RESP | OASIS_DNS_F_TC, 1, 0);
    a_rr_ptr(out, 12, 60, OASIS_IPV4(6, 6, 6, 6));
    return 1;
}

static void test_truncated_reply_not_used(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_truncated_with_addr;
    n.tcp_answer = ans_a;
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.res.count, 1);
    assert_int_equal(n.res.addr[0], answer_addr);
    assert_int_equal(ctr(&n)->truncated, 1);
    assert_int_equal(n.tcp_queries, 1);
    net3_fini(&n);
}

/* RFC 5452 5: a forger gains "if it can force the target resolver to have
 * multiple equivalent (identical QNAME, QTYPE, and QCLASS) outstanding
 * queries at any one time". Requests for a question already out join it:
 * one query on the wire, every callback told, each with its own name. */
typedef struct joined {
    int calls, status;
    uint32_t addr;
    char name[32];
} joined;

static void on_joined(oasis_dns_req *req, int status, const oasis_dns_result *res, void *ud)
{
    joined *j = ud;
    j->calls++;
    j->status = status;
    if (status == 0) {
        j->addr = res->addr[0];
        snprintf(j->name, sizeof j->name, "%s", res->name);
    }
}

static int all_called(void *ud)
{
    const joined *j = ud;
    return j[0].calls && j[1].calls && j[2].calls;
}

static void test_equivalent_queries_coalesced(void **state)
{
    (void)state;
    oasis_dns_config cfg;
    oasis_dns_config_init(&cfg);
    cfg.cache_entries = 0;
    net3 n;
    net3_init(&n, &cfg, 1);
    n.answer = ans_a;
    joined j[4];
    memset(j, 0, sizeof j);
    oasis_dns_req *req3;
    const oasis_dns_family v4 = OASIS_DNS_INET, v6 = OASIS_DNS_INET6;
    assert_int_equal(oasis_dns_resolve(n.r, "files.test", v4, on_joined, &j[0], NULL), 0);
    assert_int_equal(oasis_dns_resolve(n.r, "FILES.Test", v4, on_joined, &j[1], NULL), 0);
    /* Another type is another question. */
    assert_int_equal(oasis_dns_resolve(n.r, "files.test", v6, on_joined, &j[2], NULL), 0);
    assert_int_equal(oasis_dns_resolve(n.r, "files.test", v4, on_joined, &j[3], &req3), 0);
    oasis_dns_cancel(req3); /* a follower leaves */
    assert_int_equal(oasis_wire_run(n.wire, all_called, j, 60 * OASIS_NS_PER_SEC), 0);
    oasis_wire_run(n.wire, NULL, NULL, 5 * OASIS_NS_PER_SEC);
    assert_int_equal(n.queries[0], 2); /* was 3: the A question twice */
    assert_int_equal(ctr(&n)->coalesced, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(j[i].calls, 1);
        assert_int_equal(j[i].status, 0);
        assert_int_equal(j[i].addr, answer_addr);
    }
    assert_string_equal(j[0].name, "files.test");
    assert_string_equal(j[1].name, "FILES.Test");
    assert_int_equal(j[2].calls, 1);
    assert_int_equal(j[2].status, OASIS_DNS_ENODATA);
    assert_int_equal(j[3].calls, 0);
    assert_int_equal(ctr(&n)->completed_ok, 2);

    /* The first one canceled: its query goes on for the one that joined. */
    oasis_dns_req *lead;
    memset(j, 0, sizeof j);
    assert_int_equal(oasis_dns_resolve(n.r, "x.test", OASIS_DNS_INET, on_joined, &j[0], &lead), 0);
    assert_int_equal(oasis_dns_resolve(n.r, "x.test", OASIS_DNS_INET, on_joined, &j[1], NULL), 0);
    oasis_dns_cancel(lead);
    oasis_wire_run(n.wire, NULL, NULL, 5 * OASIS_NS_PER_SEC);
    assert_int_equal(j[0].calls, 0);
    assert_int_equal(j[1].calls, 1);
    assert_int_equal(j[1].status, 0);
    assert_int_equal(n.queries[0], 3);

    /* Destroyed with both pending: each is told, once. */
    memset(j, 0, sizeof j);
    assert_int_equal(oasis_dns_resolve(n.r, "y.test", OASIS_DNS_INET, on_joined, &j[0], NULL), 0);
    assert_int_equal(oasis_dns_resolve(n.r, "y.test", OASIS_DNS_INET, on_joined, &j[1], NULL), 0);
    oasis_dns_destroy(n.r);
    n.r = NULL;
    assert_int_equal(j[0].calls, 1);
    assert_int_equal(j[1].calls, 1);
    assert_int_equal(j[1].status, OASIS_DNS_ECANCELED);
    net3_fini(&n);
}

/* A canceled leader asks on only for those that follow it: when the last
 * of them cancels too, its query ends (no retries, its port unbound). */
static void on_never(oasis_dns_req *req, int status, const oasis_dns_result *res, void *ud);

static void on_udp_nothing(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport,
                           const oasis_ipaddr *dst, uint16_t dport, const uint8_t *data, size_t len,
                           void *ud)
{
    (void)s, (void)src, (void)sport, (void)dst, (void)dport, (void)data, (void)len, (void)ud;
}

static void test_canceled_leader_ends_with_its_followers(void **state)
{
    (void)state;
    oasis_dns_config cfg;
    oasis_dns_config_init(&cfg);
    cfg.cache_entries = 0;
    cfg.attempts = 4; /* 4 s of tries on 1 server */
    net3 n;
    net3_init(&n, &cfg, 1);
    n.answer = ans_none;
    oasis_dns_req *lead, *fol;
    assert_int_equal(oasis_dns_resolve(n.r, "gone.test", OASIS_DNS_INET, on_never, NULL, &lead), 0);
    assert_int_equal(oasis_dns_resolve(n.r, "gone.test", OASIS_DNS_INET, on_never, NULL, &fol), 0);
    oasis_wire_run(n.wire, NULL, NULL, OASIS_NS_PER_SEC / 10);
    assert_int_equal(n.queries[0] + n.queries[1], 1);
    assert_int_equal(n.nsports, 1);
    assert_int_equal(oasis_dns_cancel(lead), 0);
    assert_int_equal(oasis_dns_cancel(fol), 0);
    oasis_wire_run(n.wire, NULL, NULL, 30 * OASIS_NS_PER_SEC);
    assert_int_equal(n.queries[0] + n.queries[1], 1); /* no retry after both left */
    assert_int_equal(ctr(&n)->canceled, 2);
    /* its port is free again */
    assert_int_equal(oasis_udp_bind(n.a, n.sports[0], on_udp_nothing, NULL), 0);
    oasis_udp_unbind(n.a, n.sports[0]);

    /* The follower leaving first changes nothing: the leader asks on. */
    assert_int_equal(oasis_dns_resolve(n.r, "kept.test", OASIS_DNS_INET, on_never, NULL, &lead), 0);
    assert_int_equal(oasis_dns_resolve(n.r, "kept.test", OASIS_DNS_INET, on_never, NULL, &fol), 0);
    oasis_wire_run(n.wire, NULL, NULL, OASIS_NS_PER_SEC / 10);
    assert_int_equal(oasis_dns_cancel(fol), 0);
    int before = n.queries[0] + n.queries[1];
    oasis_wire_run(n.wire, NULL, NULL, 3 * OASIS_NS_PER_SEC / 2);
    assert_true(n.queries[0] + n.queries[1] > before);
    assert_int_equal(oasis_dns_cancel(lead), 0);
    net3_fini(&n);
}

/* A request that joined another is as much in its callback as the one it
 * joined: canceling itself or destroying the resolver from there is
 * refused (OASIS_EBUSY), and every request is told once. */
typedef struct selfcancel {
    oasis_dns *r;
    oasis_dns_req *req[2];
    int calls[2], busy;
} selfcancel;

static void on_selfcancel(oasis_dns_req *req, int status, const oasis_dns_result *res, void *ud)
{
    (void)status, (void)res;
    selfcancel *c = ud;
    int i = req == c->req[1];
    c->calls[i]++;
    c->busy += oasis_dns_cancel(req) == OASIS_EBUSY;
    c->busy += oasis_dns_destroy(c->r) == OASIS_EBUSY;
}

static void test_joined_request_callback_busy(void **state)
{
    (void)state;
    oasis_dns_config cfg;
    oasis_dns_config_init(&cfg);
    cfg.cache_entries = 0;
    net3 n;
    net3_init(&n, &cfg, 1);
    n.answer = ans_a;
    selfcancel c = {.r = n.r};
    assert_int_equal(oasis_dns_resolve(n.r, "z.test", OASIS_DNS_INET, on_selfcancel, &c, &c.req[0]), 0);
    assert_int_equal(oasis_dns_resolve(n.r, "z.test", OASIS_DNS_INET, on_selfcancel, &c, &c.req[1]), 0);
    assert_int_equal(ctr(&n)->coalesced, 1);
    oasis_wire_run(n.wire, NULL, NULL, 5 * OASIS_NS_PER_SEC);
    assert_int_equal(c.calls[0], 1);
    assert_int_equal(c.calls[1], 1);
    assert_int_equal(c.busy, 4);
    net3_fini(&n);
}

/* RFC 5452 9.2: "Use multiple different source ports simultaneously in
 * case of multiple outstanding queries". Four questions out at once go
 * from four ports. */
static int all_four(void *ud)
{
    const joined *j = ud;
    return j[0].calls && j[1].calls && j[2].calls && j[3].calls;
}

static void test_outstanding_queries_own_ports(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_a;
    joined j[4];
    memset(j, 0, sizeof j);
    static const char *const names[] = {"a.test", "b.test", "c.test", "d.test"};
    for (int i = 0; i < 4; i++)
        assert_int_equal(oasis_dns_resolve(n.r, names[i], OASIS_DNS_INET, on_joined, &j[i], NULL),
                         0);
    assert_int_equal(oasis_wire_run(n.wire, all_four, j, 60 * OASIS_NS_PER_SEC), 0);
    assert_int_equal(n.nsports, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(j[i].status, 0);
        for (int k = i + 1; k < 4; k++)
            assert_int_not_equal(n.sports[i], n.sports[k]);
    }
    net3_fini(&n);
}

/* RFC 5452 4.6: "Once any packet has matched the previous four conditions
 * ..., no further responses are generally accepted." The server answers
 * twice, right both times but for the address: the first is the answer,
 * the second finds no one waiting. */
static int ans_twice(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    pkt f;
    ans_a(n, server, q, qlen, &f);
    send_forged(n, &f);
    reply_head(out, q, qlen, RESP, 1, 0);
    a_rr_ptr(out, 12, 60, OASIS_IPV4(6, 6, 6, 6));
    return 1;
}

static void test_first_answer_wins(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_twice;
    resolve(&n, "files.test");
    oasis_wire_run(n.wire, NULL, NULL, 5 * OASIS_NS_PER_SEC);
    assert_int_equal(n.calls, 1);
    assert_int_equal(n.status, 0);
    assert_int_equal(n.res.count, 1);
    assert_int_equal(n.res.addr[0], answer_addr);
    assert_int_equal(ctr(&n)->responses, 1);
    net3_fini(&n);
}

/* Malformed answers with the right ID: never taken, the request ends
 * as malformed once the tries are over. */
static int malformed_kind;
static int ans_malformed(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    reply_head(out, q, qlen, RESP, 1, 0);
    switch (malformed_kind) {
    case 0: pptr(out, (uint16_t)out->n); break;     /* owner: pointer to itself */
    case 1: pptr(out, 0x3ff0); break;               /* out of bounds */
    case 2: pptr(out, (uint16_t)(out->n + 2)); break; /* forward */
    case 3: p8(out, 0x41); break;                   /* label of 65 */
    case 4: pptr(out, 4); break;                    /* into the header */
    default: p8(out, 5); pbytes(out, "ab", 2); return 1; /* truncated label */
    }
    rrh(out, OASIS_DNS_TYPE_A, 60, 4);
    p32(out, OASIS_IPV4(6, 6, 6, 6));
    return 1;
}

static void test_malformed_answers(void **state)
{
    (void)state;
    for (malformed_kind = 0; malformed_kind <= 5; malformed_kind++) {
        net3 n;
        net3_init(&n, NULL, 1);
        n.answer = ans_malformed;
        resolve(&n, "files.test");
        assert_int_equal(n.status, OASIS_DNS_EMALFORMED);
        assert_int_equal(ctr(&n)->malformed, 2);
        assert_int_equal(ctr(&n)->completed_ok, 0);
        net3_fini(&n);
    }
}

static void on_never(oasis_dns_req *req, int status, const oasis_dns_result *res, void *ud)
{
    fail_msg("a canceled request called back");
}

static void test_cancel(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_none;
    oasis_dns_req *req;
    assert_int_equal(oasis_dns_resolve(n.r, "files.test", OASIS_DNS_INET, on_never, &n, &req), 0);
    /* Sent on the first poll; cancel while it waits. */
    assert_int_equal(oasis_wire_run(n.wire, NULL, NULL, 500 * OASIS_NS_PER_MS), OASIS_ETIMEDOUT);
    assert_int_equal(n.queries[0], 1);
    oasis_dns_cancel(req);
    oasis_wire_run(n.wire, NULL, NULL, 30 * OASIS_NS_PER_SEC);
    assert_int_equal(n.queries[0], 1);
    assert_int_equal(ctr(&n)->canceled, 1);
    /* Its port is free again: binding every port above 1023 works. */
    int bound = 0;
    for (uint32_t p = 1024; p < 65536; p++)
        bound += oasis_udp_unbind(n.a, (uint16_t)p) == OASIS_OK;
    assert_int_equal(bound, 0);
    /* Destroy with a request pending: ECANCELED. */
    n.done = 0;
    assert_int_equal(oasis_dns_resolve(n.r, "x.test", OASIS_DNS_INET, on_resolved, &n, NULL), 0);
    oasis_dns_destroy(n.r);
    n.r = NULL;
    assert_int_equal(n.status, OASIS_DNS_ECANCELED);
    net3_fini(&n);
}

static void test_metrics_source(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_a;
    resolve(&n, "files.test");
    oasis_metrics *m;
    assert_int_equal(oasis_metrics_create(NULL, &m), 0);
    assert_int_equal(oasis_dns_add_metrics(m, n.r, NULL, 0), 0);
    oasis_metrics_snapshot snap;
    assert_int_equal(oasis_metrics_collect(m, 1, &snap), 0);
    assert_int_equal(snap.count, 1);
    assert_string_equal(snap.points[0].measurement, "dns");
    int seen = 0;
    for (size_t i = 0; i < snap.points[0].nfields; i++)
        if (strcmp(snap.points[0].fields[i].key, "UdpQueries") == 0) {
            assert_int_equal(snap.points[0].fields[i].v.u, 1);
            seen = 1;
        }
    assert_true(seen);
    oasis_metrics_destroy(m);
    net3_fini(&n);
}


/* ---- EDNS(0), RFC 6891 ------------------------------------------------------ */

/* The OPT of a query as the resolver sends it: right after the question,
 * the only additional record. present 0 when the query has none. */
typedef struct qopt {
    int present;
    uint16_t size; /* CLASS: the requestor's UDP payload size */
    uint32_t ttl;  /* EXTENDED-RCODE, VERSION, DO, Z */
    uint16_t rdlen;
} qopt;

static qopt query_opt(const uint8_t *q, size_t qlen)
{
    qopt o;
    memset(&o, 0, sizeof o);
    size_t e = question_end(q, qlen);
    if (oasis_get16(q + 10) == 0) {
        assert_int_equal(qlen, e);
        return o;
    }
    assert_int_equal(oasis_get16(q + 10), 1);
    assert_int_equal(qlen, e + OASIS_DNS_OPT_LEN);
    assert_int_equal(q[e], 0); /* owner: the root */
    assert_int_equal(oasis_get16(q + e + 1), OASIS_DNS_TYPE_OPT);
    o.present = 1;
    o.size = oasis_get16(q + e + 3);
    o.ttl = oasis_get32(q + e + 5);
    o.rdlen = oasis_get16(q + e + 9);
    return o;
}

/* Appends an OPT RR (root owner) and counts it in ARCOUNT. */
static void popt(pkt *p, uint16_t size, uint8_t ext_rcode, uint16_t flags)
{
    p8(p, 0);
    p16(p, OASIS_DNS_TYPE_OPT);
    p16(p, size);
    p32(p, (uint32_t)ext_rcode << 24 | flags);
    p16(p, 0);
    oasis_put16(p->b + 10, (uint16_t)(oasis_get16(p->b + 10) + 1));
}

static void test_edns_opt_in_query(void **state)
{
    (void)state;
    oasis_dns_config cfg;
    oasis_dns_config_init(&cfg);
    assert_int_equal(cfg.edns_udp_size, 1232); /* DNS Flag Day 2020 */
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_a;
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0);
    /* RFC 6891 6.1.2/6.1.3: root owner, TYPE 41, CLASS the payload size,
     * TTL 0 (EXTENDED-RCODE 0, VERSION 0, DO 0), no options. */
    qopt o = query_opt(n.lastq[0], n.lastq_len[0]);
    assert_true(o.present); /* was absent */
    assert_int_equal(o.size, 1232);
    assert_int_equal(o.ttl, 0);
    assert_int_equal(o.rdlen, 0);
    net3_fini(&n);

    cfg.edns_udp_size = 4096;
    net3_init(&n, &cfg, 1);
    n.answer = ans_a;
    resolve(&n, "files.test");
    assert_int_equal(query_opt(n.lastq[0], n.lastq_len[0]).size, 4096);
    net3_fini(&n);

    /* 0: EDNS off, a plain RFC 1035 query. */
    cfg.edns_udp_size = 0;
    net3_init(&n, &cfg, 1);
    n.answer = ans_a;
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0);
    assert_false(query_opt(n.lastq[0], n.lastq_len[0]).present);
    net3_fini(&n);

    /* The TCP query after TC=1 carries the OPT as well. */
    net3_init(&n, NULL, 1);
    n.answer = ans_truncated;
    n.tcp_answer = ans_tcp_many;
    resolve(&n, "big.test");
    assert_int_equal(n.status, 0);
    o = query_opt(n.last_tcpq, n.last_tcpq_len);
    assert_true(o.present);
    assert_int_equal(o.size, 1232);
    net3_fini(&n);

    /* Below 512 is refused (RFC 6891 6.2.5 would read it as 512). */
    oasis_stack *s;
    oasis_clock *clock = oasis_clock_new_virtual(START_NS);
    oasis_stack_config scfg;
    test_stack_config(&scfg, clock, 1);
    assert_int_equal(oasis_stack_create(&scfg, &s), 0);
    oasis_dns *r;
    cfg.edns_udp_size = 511;
    assert_int_equal(oasis_dns_create(s, &cfg, &r), OASIS_EINVAL);
    cfg.edns_udp_size = 1;
    assert_int_equal(oasis_dns_create(s, &cfg, &r), OASIS_EINVAL);
    cfg.edns_udp_size = 512;
    assert_int_equal(oasis_dns_create(s, &cfg, &r), 0);
    oasis_dns_destroy(r);
    cfg.edns_udp_size = 65535;
    assert_int_equal(oasis_dns_create(s, &cfg, &r), 0);
    oasis_dns_destroy(r);
    oasis_stack_destroy(s);
    oasis_clock_free(clock);
}

/* 60 A records for the question: 988 octets, 999 with an OPT. */
#define BIG_N 60
static void big_answer(pkt *out, const uint8_t *q, size_t qlen, int with_opt)
{
    reply_head(out, q, qlen, RESP, BIG_N, 0);
    for (uint32_t i = 0; i < BIG_N; i++)
        a_rr_ptr(out, 12, 120, OASIS_IPV4(10, 2, 0, 1) + i);
    if (with_opt)
        popt(out, 1232, 0, 0);
}

/* A server as RFC 6891 wants: the whole answer when it fits what the
 * query allows (512 without OPT, 6.2.3's size with one), else TC=1 with
 * just the question (and its OPT, 7). */
static int ans_big(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    qopt o = query_opt(q, qlen);
    big_answer(out, q, qlen, o.present);
    size_t room = o.present && o.size > 512 ? o.size : 512;
    if (out->n <= room)
        return 1;
    reply_head(out, q, qlen, RESP | OASIS_DNS_F_TC, 0, 0);
    if (o.present)
        popt(out, 1232, 0, 0);
    return 1;
}

/* A broken server: the whole answer whatever the query allowed. */
static int ans_big_always(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    big_answer(out, q, qlen, query_opt(q, qlen).present);
    return 1;
}

static void test_edns_large_udp_answer(void **state)
{
    (void)state;
    oasis_dns_config cfg;
    oasis_dns_config_init(&cfg);
    cfg.cache_entries = 0;
    net3 n;
    net3_init(&n, &cfg, 1);
    n.answer = ans_big;
    n.tcp_answer = ans_big_always;
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.res.count, OASIS_DNS_MAX_ADDRS);
    assert_int_equal(n.res.addr[0], OASIS_IPV4(10, 2, 0, 1));
    assert_int_equal(n.tcp_queries, 0); /* was 1: TC=1, then TCP */
    assert_int_equal(ctr(&n)->truncated, 0);
    assert_int_equal(ctr(&n)->tcp_queries, 0);
    assert_int_equal(ctr(&n)->udp_queries, 1);
    net3_fini(&n);

    /* EDNS off: the same server sets TC=1 and TCP brings the answer. */
    cfg.edns_udp_size = 0;
    net3_init(&n, &cfg, 1);
    n.answer = ans_big;
    n.tcp_answer = ans_big_always;
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.res.count, OASIS_DNS_MAX_ADDRS);
    assert_int_equal(ctr(&n)->truncated, 1);
    assert_int_equal(n.tcp_queries, 1);
    assert_false(query_opt(n.last_tcpq, n.last_tcpq_len).present);
    net3_fini(&n);

    /* EDNS off and a server that sends 988 octets anyway (RFC 1035 4.2.1:
     * at most 512 over UDP): refused, counted, each try waits for a valid
     * answer that never comes. */
    net3_init(&n, &cfg, 1);
    n.answer = ans_big_always;
    resolve(&n, "files.test");
    assert_int_equal(n.status, OASIS_DNS_EMALFORMED); /* was 0 */
    assert_int_equal(ctr(&n)->oversized, 2);
    assert_int_equal(ctr(&n)->timeouts, 2);
    assert_int_equal(ctr(&n)->responses, 0);
    net3_fini(&n);

    /* With EDNS the bound is the size advertised: 999 octets pass at 999,
     * not at 998. */
    cfg.edns_udp_size = 999;
    net3_init(&n, &cfg, 1);
    n.answer = ans_big_always;
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(ctr(&n)->oversized, 0);
    net3_fini(&n);
    cfg.edns_udp_size = 998;
    net3_init(&n, &cfg, 1);
    n.answer = ans_big_always;
    resolve(&n, "files.test");
    assert_int_equal(n.status, OASIS_DNS_EMALFORMED);
    assert_int_equal(ctr(&n)->oversized, 2);
    net3_fini(&n);
}

/* simple_answer ("a.test" A 10.0.0.9) with an OPT in the additional
 * section, CLASS 4096, EXTENDED-RCODE ext, DO set, one option
 * (code 10, 8 octets). */
static void answer_with_opt(pkt *p, uint8_t ext)
{
    simple_answer(p, 1);
    oasis_put16(p->b + 10, 1);
    p8(p, 0);
    p16(p, OASIS_DNS_TYPE_OPT);
    p16(p, 4096);
    p32(p, (uint32_t)ext << 24 | 0x8000u);
    p16(p, 12);
    p16(p, 10);
    p16(p, 8);
    pbytes(p, "cookie!!", 8);
}

static void test_edns_opt_parse(void **state)
{
    (void)state;
    pkt p;
    oasis_dns_msg m;
    answer_with_opt(&p, 0);
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), 0);
    assert_true(m.has_opt);
    assert_int_equal(m.opt_udp_size, 4096);
    assert_int_equal(m.opt_version, 0);
    assert_int_equal(m.opt_flags, 0x8000);
    assert_int_equal(m.rcode, 0);
    assert_int_equal(m.nan, 1);
    /* Every truncation of it fails, none crashes. */
    for (size_t cut = 0; cut < p.n; cut++)
        assert_int_not_equal(oasis_dns_msg_parse(p.b, cut, &m), 0);
    /* Without OPT: no has_opt. */
    simple_answer(&p, 1);
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), 0);
    assert_false(m.has_opt);

    /* Two OPTs (6.1.1: "MUST be the only OPT RR"). */
    answer_with_opt(&p, 0);
    popt(&p, 512, 0, 0);
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), OASIS_EMALFORMED); /* was 0 */
    /* An owner that is not the root (6.1.2: "MUST be 0"). */
    simple_answer(&p, 1);
    oasis_put16(p.b + 10, 1);
    pptr(&p, 12);
    p16(&p, OASIS_DNS_TYPE_OPT);
    p16(&p, 1232);
    p32(&p, 0);
    p16(&p, 0);
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), OASIS_EMALFORMED);
    /* In the answer section (6.1.1: the additional section only). */
    simple_answer(&p, 1);
    oasis_put16(p.b + 6, 2);
    p8(&p, 0);
    p16(&p, OASIS_DNS_TYPE_OPT);
    p16(&p, 1232);
    p32(&p, 0);
    p16(&p, 0);
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), OASIS_EMALFORMED);
    /* An option whose length runs past the rdata (6.1.2). */
    answer_with_opt(&p, 0);
    oasis_put16(p.b + p.n - 10, 9);
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), OASIS_EMALFORMED);
    /* Rdata too short for an option's code and length. */
    answer_with_opt(&p, 0);
    oasis_put16(p.b + p.n - 14, 2);
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n - 10, &m), OASIS_EMALFORMED);
    /* A bad record after the OPT still spoils the message. */
    answer_with_opt(&p, 0);
    oasis_put16(p.b + 10, 2);
    p8(&p, 0xc0);
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), OASIS_ETRUNCATED);
}

/* Extended RCODE (RFC 6891 6.1.3): the OPT's 8 bits above the header's 4. */
static void test_edns_extended_rcode_parse(void **state)
{
    (void)state;
    pkt p;
    oasis_dns_msg m;
    answer_with_opt(&p, 1);
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), 0);
    assert_int_equal(m.rcode, OASIS_DNS_RCODE_BADVERS); /* was 0 */
    answer_with_opt(&p, 0xff);
    p.b[3] |= OASIS_DNS_RCODE_NXDOMAIN;
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), 0);
    assert_int_equal(m.rcode, 0xff3);
    /* The TTL's top bit is EXTENDED-RCODE's, not a negative TTL to clamp. */
    answer_with_opt(&p, 0x80);
    assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), 0);
    assert_int_equal(m.rcode, 0x800);
}

/* Server 1 spoils its answer's OPT as malformed_opt says; server 2 is fine. */
static int malformed_opt;
static int ans_bad_opt_first(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    if (server == 1)
        return ans_a(n, server, q, qlen, out);
    ans_a(n, server, q, qlen, out);
    if (malformed_opt == 0) { /* two OPTs */
        popt(out, 1232, 0, 0);
        popt(out, 1232, 0, 0);
    } else { /* owner "a.test", not the root */
        pptr(out, 12);
        p16(out, OASIS_DNS_TYPE_OPT);
        p16(out, 1232);
        p32(out, 0);
        p16(out, 0);
        oasis_put16(out->b + 10, 1);
    }
    return 1;
}

static void test_edns_malformed_opt_dropped(void **state)
{
    (void)state;
    for (malformed_opt = 0; malformed_opt < 2; malformed_opt++) {
        net3 n;
        net3_init(&n, NULL, 2);
        n.answer = ans_bad_opt_first;
        resolve(&n, "files.test");
        assert_int_equal(n.status, 0);
        assert_int_equal(n.res.addr[0], answer_addr + 1); /* was + 0: server 1's taken */
        assert_int_equal(ctr(&n)->malformed, 1);
        assert_int_equal(ctr(&n)->timeouts, 1); /* dropped; its try ran out */
        net3_fini(&n);
    }
}

/* A server without EDNS (RFC 6891 7): FORMERR (or NOTIMP) and no OPT to a
 * query with one, a plain answer to a query without. */
static uint8_t noedns_rcode;
static int noedns_silent; /* stay silent to queries without OPT */
static int ans_no_edns(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    if (query_opt(q, qlen).present) {
        reply_head(out, q, qlen, (uint16_t)(RESP | noedns_rcode), 0, 0);
        return 1;
    }
    if (noedns_silent)
        return 0;
    return ans_a(n, server, q, qlen, out);
}

static void test_edns_formerr_fallback(void **state)
{
    (void)state;
    static const uint8_t rcodes[] = {OASIS_DNS_RCODE_FORMERR, OASIS_DNS_RCODE_NOTIMP};
    oasis_dns_config cfg;
    oasis_dns_config_init(&cfg);
    cfg.cache_entries = 0;
    noedns_silent = 0;
    for (size_t i = 0; i < sizeof rcodes; i++) {
        noedns_rcode = rcodes[i];
        net3 n;
        net3_init(&n, &cfg, 1);
        n.answer = ans_no_edns;
        resolve(&n, "files.test");
        assert_int_equal(n.status, 0); /* was ESERVFAIL */
        assert_int_equal(n.res.addr[0], answer_addr);
        assert_int_equal(n.queries[0], 2);
        assert_false(query_opt(n.lastq[0], n.lastq_len[0]).present);
        assert_int_equal(ctr(&n)->edns_fallbacks, 1);
        assert_int_equal(ctr(&n)->servfail, 0);
        assert_int_equal(ctr(&n)->timeouts, 0);
        /* Remembered per request only: the next one tries EDNS again. */
        resolve(&n, "files.test");
        assert_int_equal(n.status, 0);
        assert_int_equal(n.queries[0], 4);
        assert_int_equal(ctr(&n)->edns_fallbacks, 2);
        net3_fini(&n);
    }

    /* Within the request it holds: the server answers nothing without
     * OPT, so after the fallback the request's next round also goes
     * without OPT (3 queries, not OPT/plain twice). */
    noedns_rcode = OASIS_DNS_RCODE_FORMERR;
    noedns_silent = 1;
    net3 n;
    net3_init(&n, &cfg, 1);
    n.answer = ans_no_edns;
    resolve(&n, "files.test");
    assert_int_equal(n.status, OASIS_DNS_ETIMEDOUT);
    assert_int_equal(n.queries[0], 3);
    assert_int_equal(ctr(&n)->edns_fallbacks, 1);
    assert_int_equal(ctr(&n)->timeouts, 2);
    net3_fini(&n);
    noedns_silent = 0;

    /* EDNS off: FORMERR is the server failing, no second query. */
    cfg.edns_udp_size = 0;
    net3_init(&n, &cfg, 1);
    n.answer = ans_rcode;
    rcode_given = OASIS_DNS_RCODE_FORMERR;
    resolve(&n, "files.test");
    assert_int_equal(n.status, OASIS_DNS_ESERVFAIL);
    assert_int_equal(n.queries[0], 2);
    assert_int_equal(ctr(&n)->edns_fallbacks, 0);
    net3_fini(&n);
}

/* FORMERR with an OPT is about our OPT, from a server that speaks EDNS
 * (RFC 6891 7): no fallback, the server failed. */
static int ans_formerr_with_opt(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    reply_head(out, q, qlen, RESP | OASIS_DNS_RCODE_FORMERR, 0, 0);
    popt(out, 1232, 0, 0);
    return 1;
}

static void test_edns_formerr_with_opt_no_fallback(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_formerr_with_opt;
    resolve(&n, "files.test");
    assert_int_equal(n.status, OASIS_DNS_ESERVFAIL);
    assert_int_equal(n.queries[0], 2);
    assert_true(query_opt(n.lastq[0], n.lastq_len[0]).present);
    assert_int_equal(ctr(&n)->edns_fallbacks, 0);
    assert_int_equal(ctr(&n)->servfail, 2);
    net3_fini(&n);
}

/* Server 1: NOERROR in the header, an address, and an OPT whose
 * EXTENDED-RCODE 1 makes the RCODE 16, BADVERS. */
static int ans_badvers_first(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    ans_a(n, server, q, qlen, out);
    if (server == 0)
        popt(out, 1232, 1, 0);
    return 1;
}

static void test_edns_extended_rcode(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 2);
    n.answer = ans_badvers_first;
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.res.addr[0], answer_addr + 1); /* was + 0: BADVERS taken for NOERROR */
    assert_int_equal(ctr(&n)->servfail, 1);
    assert_int_equal(ctr(&n)->edns_fallbacks, 0);
    assert_int_equal(ctr(&n)->timeouts, 0);
    net3_fini(&n);
}

/* RFC 6891 7: without an OPT in the query the responder "MUST NOT include
 * an OPT record in its response". With EDNS off, server 1's reply (NOERROR,
 * an address, and an OPT whose EXTENDED-RCODE would make it BADVERS) is a
 * plain RFC 1035 answer: its OPT is an unknown additional record, the
 * header's RCODE stands, the address is taken. */
static void test_opt_in_reply_to_plain_query(void **state)
{
    (void)state;
    oasis_dns_config cfg;
    oasis_dns_config_init(&cfg);
    cfg.edns_udp_size = 0;
    net3 n;
    net3_init(&n, &cfg, 2);
    n.answer = ans_badvers_first;
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0);
    assert_false(query_opt(n.lastq[0], n.lastq_len[0]).present);
    assert_int_equal(n.res.addr[0], answer_addr); /* was + 1: BADVERS read */
    assert_int_equal(ctr(&n)->servfail, 0);
    assert_int_equal(n.queries[1], 0);
    net3_fini(&n);
}

/* ---- a server over IPv6 (issue 14) ------------------------------------------ */

typedef struct srv6 {
    int queries;
    int forge;             /* answer the next query to the client's IPv4 address */
    oasis_ipaddr last_src;
    uint16_t last_sport;
    uint8_t aaaa[16];
} srv6;

/* Answers every question with one AAAA record (and counts it). */
static void on_srv6_udp(oasis_stack *s, const oasis_ipaddr *src, uint16_t sport,
                        const oasis_ipaddr *dst, uint16_t dport, const uint8_t *d, size_t len,
                        void *ud)
{
    srv6 *v = ud;
    (void)dst;
    v->queries++;
    v->last_src = *src;
    v->last_sport = sport;
    pkt out;
    out.n = 0;
    reply_head(&out, d, len, RESP, 1, 0);
    pptr(&out, 12);
    rrh(&out, OASIS_DNS_TYPE_AAAA, 300, 16);
    pbytes(&out, v->aaaa, 16);
    oasis_ipaddr to = *src;
    if (v->forge) {
        v->forge = 0;
        to = oasis_ipaddr_v4(TEST_ADDR_A);
    }
    assert_int_equal(oasis_udp_send(s, dport, &to, sport, out.b, out.n), 0);
}

static void test_ipv6_server(void **state)
{
    (void)state;
    test_net n;
    memset(&n, 0, sizeof n);
    n.clock = oasis_clock_new_virtual(START_NS);
    assert_int_equal(oasis_wire_create(n.clock, NULL, &n.wire), 0);
    oasis_stack_config cfg;
    test_stack_config(&cfg, n.clock, 1);
    cfg.ipv6 = 1;
    assert_int_equal(oasis_stack_create(&cfg, &n.a), 0);
    test_stack_config(&cfg, n.clock, 2);
    cfg.ipv6 = 1;
    assert_int_equal(oasis_stack_create(&cfg, &n.b), 0);
    assert_non_null(oasis_wire_attach(n.wire, n.a));
    assert_non_null(oasis_wire_attach(n.wire, n.b));
    oasis_wire_run(n.wire, NULL, NULL, 3 * OASIS_NS_PER_SEC); /* DAD */
    oasis_ipv6_addr_info ai;
    assert_int_equal(oasis_ipv6_addrs(n.b, &ai, 1), 1);
    assert_int_equal(ai.state, OASIS_IPV6_PREFERRED);

    srv6 v;
    memset(&v, 0, sizeof v);
    oasis_ipaddr want;
    assert_int_equal(oasis_ipaddr_parse("2001:db8::99", &want), 0);
    memcpy(v.aaaa, want.b, 16);
    assert_int_equal(oasis_udp_bind(n.b, 53, on_srv6_udp, &v), 0);

    oasis_dns *r;
    assert_int_equal(oasis_dns_create(n.a, NULL, &r), 0);
    oasis_ipaddr bad[2] = {ai.addr, {0}};
    assert_int_equal(oasis_dns_set_servers_addr(r, bad, 2), OASIS_EINVAL); /* no family */
    assert_int_equal(oasis_ipaddr_parse("::", &bad[1]), 0);
    assert_int_equal(oasis_dns_set_servers_addr(r, bad, 2), OASIS_EINVAL); /* unspecified */
    oasis_ipaddr servers[2] = {ai.addr, oasis_ipaddr_v4(TEST_ADDR_B)};
    assert_int_equal(oasis_dns_set_servers_addr(r, servers, 2), 0);
    oasis_ipaddr got[4];
    assert_int_equal(oasis_dns_servers_addr(r, got, 4), 2);
    assert_true(oasis_ipaddr_eq(&got[0], &ai.addr));
    uint32_t v4[4];
    assert_int_equal(oasis_dns_servers(r, v4, 4), 1); /* the IPv4 ones */
    assert_int_equal(v4[0], TEST_ADDR_B);

    /* AAAA asked of the IPv6 server, over IPv6. */
    net3 res; /* only the callback's fields */
    memset(&res, 0, sizeof res);
    res.clock = n.clock;
    assert_int_equal(oasis_dns_resolve(r, "v6.test", OASIS_DNS_INET6, on_resolved, &res, NULL), 0);
    assert_int_equal(oasis_wire_run(n.wire, flag, &res.done, 30 * OASIS_NS_PER_SEC), 0);
    assert_int_equal(res.status, 0);
    assert_int_equal(res.res.family, OASIS_DNS_INET6);
    assert_int_equal(res.res.count, 1);
    assert_memory_equal(res.res.addr6[0], want.b, 16);
    assert_int_equal(v.queries, 1);
    assert_int_equal(v.last_src.family, OASIS_AF_INET6);
    assert_true(oasis_ipaddr_is_link_local(&v.last_src));
    assert_int_equal(oasis_stack_counters(n.a)->udp6.out_datagrams, 1);
    assert_int_equal(oasis_stack_counters(n.a)->udp6.in_datagrams, 1);

    /* A reply from the server's IPv4 address (right port, ID and question)
     * is not the IPv6 server's: ignored. The try times out and the next
     * server, that IPv4 address, is asked over IPv4 and answers. */
    v.forge = 1;
    res.done = 0;
    assert_int_equal(oasis_dns_resolve(r, "other.test", OASIS_DNS_INET6, on_resolved, &res, NULL),
                     0);
    assert_int_equal(oasis_wire_run(n.wire, flag, &res.done, 30 * OASIS_NS_PER_SEC), 0);
    assert_int_equal(res.status, 0);
    assert_int_equal(oasis_dns_get_counters(r)->mismatched, 1);
    assert_int_equal(oasis_dns_get_counters(r)->timeouts, 1);
    assert_int_equal(v.queries, 3);
    assert_int_equal(v.last_src.family, OASIS_AF_INET);
    oasis_dns_destroy(r);
    test_net_fini(&n);
}

/* ---- TSIG, RFC 8945 ------------------------------------------------------------ */

/* The test's side of TSIG is built by hand from the HMAC primitive, not
 * from dns_tsig_wire.c, so a mistake there cannot cancel out. */
#define TSIG_NOW 1700000000ull /* the wall-clock time the tests set */
static const char tsig_key_name[] = "oasis-key.test";
static const uint8_t tsig_secret[32] = {0x4f, 0x61, 0x73, 0x69, 0x73, 0x20, 0x74, 0x73, 0x69, 0x67, 0x01,
                                        0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
                                        0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16};

static void tsig_config(oasis_dns_config *cfg, oasis_dns_tsig *t)
{
    oasis_dns_config_init(cfg);
    memset(t, 0, sizeof *t);
    t->key_name = tsig_key_name;
    t->secret = tsig_secret;
    t->secret_len = sizeof tsig_secret;
    cfg->tsig = t;
}

static void tsig_net_init(net3 *n, int nservers)
{
    oasis_dns_config cfg;
    oasis_dns_tsig t;
    tsig_config(&cfg, &t);
    net3_init(n, &cfg, nservers);
    assert_int_equal(oasis_dns_set_time(n->r, TSIG_NOW), 0);
}

/* How a response is signed (or mis-signed). */
typedef struct tsig_how {
    const char *key;      /* owner name of the TSIG RR */
    const char *alg;
    const uint8_t *secret;
    int64_t skew;         /* Time Signed = TSIG_NOW + skew */
    uint16_t fudge;
    uint16_t mac_size;    /* octets of the MAC sent (32: whole) */
    uint16_t error;       /* TSIG Error */
    int flip;             /* flip a bit of the MAC */
    int none;             /* no TSIG RR at all */
    uint64_t other_time;  /* non-zero: Other Data, a 48-bit time (BADTIME's, 5.2.3) */
} tsig_how;

static tsig_how tsig_good(void)
{
    tsig_how h = {tsig_key_name, "hmac-sha256", tsig_secret, 0, 300, 32, 0, 0, 0, 0};
    return h;
}

/* The request's MAC: the query's TSIG RR is last, its MAC 6 octets before
 * the end (Original ID, Error, Other Len 0 follow it). */
static const uint8_t *query_mac(const uint8_t *q, size_t qlen)
{
    assert_true(qlen > 38);
    assert_int_equal(oasis_get16(q + qlen - 6 - 32 - 2), 32);
    return q + qlen - 6 - 32;
}

static void put_name_lower(oasis_hmac_sha256 *h, const char *text)
{
    oasis_dns_name n;
    assert_int_equal(oasis_dns_name_from_text(text, &n), 0);
    oasis_dns_name_lower(&n);
    oasis_hmac_sha256_update(h, n.b, n.len);
}

/* Appends the TSIG RR to the response out (to query q), as h says. */
static void tsig_sign_reply(pkt *out, const uint8_t *q, size_t qlen, const tsig_how *h)
{
    if (h->none)
        return;
    uint64_t ts = (uint64_t)((int64_t)TSIG_NOW + h->skew);
    uint8_t v[12], mac[32], sz[2], other[6];
    uint16_t olen = h->other_time ? 6 : 0;
    oasis_put16(other, (uint16_t)(h->other_time >> 32));
    oasis_put32(other + 2, (uint32_t)h->other_time);
    oasis_hmac_sha256 c;
    /* RFC 8945 4.3.2: request MAC (size first), the response without its
     * TSIG, then the variables of 4.3.3. */
    oasis_hmac_sha256_init(&c, h->secret, 32);
    oasis_put16(sz, 32);
    oasis_hmac_sha256_update(&c, sz, 2);
    oasis_hmac_sha256_update(&c, query_mac(q, qlen), 32);
    oasis_hmac_sha256_update(&c, out->b, out->n);
    put_name_lower(&c, h->key);
    oasis_put16(v, OASIS_DNS_CLASS_ANY);
    oasis_put32(v + 2, 0);
    oasis_hmac_sha256_update(&c, v, 6);
    put_name_lower(&c, h->alg);
    oasis_put16(v, (uint16_t)(ts >> 32));
    oasis_put32(v + 2, (uint32_t)ts);
    oasis_put16(v + 6, h->fudge);
    oasis_put16(v + 8, h->error);
    oasis_put16(v + 10, olen);
    oasis_hmac_sha256_update(&c, v, 12);
    oasis_hmac_sha256_update(&c, other, olen);
    oasis_hmac_sha256_final(&c, mac);
    if (h->flip)
        mac[3] ^= 0x10;

    oasis_dns_name alg;
    assert_int_equal(oasis_dns_name_from_text(h->alg, &alg), 0);
    pname(out, h->key);
    p16(out, OASIS_DNS_TYPE_TSIG);
    p16(out, OASIS_DNS_CLASS_ANY);
    p32(out, 0);
    p16(out, (uint16_t)(alg.len + 16 + h->mac_size + olen));
    pbytes(out, alg.b, alg.len);
    p16(out, (uint16_t)(ts >> 32));
    p32(out, (uint32_t)ts);
    p16(out, h->fudge);
    p16(out, h->mac_size);
    pbytes(out, mac, h->mac_size);
    p16(out, oasis_get16(q)); /* Original ID */
    p16(out, h->error);
    p16(out, olen);
    pbytes(out, other, olen);
    oasis_put16(out->b + 10, (uint16_t)(oasis_get16(out->b + 10) + 1));
}

static uint32_t tsig_addr = OASIS_IPV4(10, 0, 0, 77);

static void tsig_answer(pkt *out, const uint8_t *q, size_t qlen, uint32_t addr, const tsig_how *h)
{
    reply_head(out, q, qlen, RESP, 1, 0);
    a_rr_ptr(out, 12, 60, addr);
    tsig_sign_reply(out, q, qlen, h);
}

static int ans_tsig_good(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    tsig_how h = tsig_good();
    tsig_answer(out, q, qlen, tsig_addr, &h);
    return 1;
}

/* RFC 8945 4.2, 4.3.1, 5.1: the query carries one TSIG RR, last, after
 * the OPT, whose MAC is HMAC-SHA256 of the query before it and the TSIG
 * variables; Time Signed is the time given, Fudge 300. Checked with the
 * test's own digest. */
static void check_signed_query(const uint8_t *q, size_t qlen)
{
    size_t p = question_end(q, qlen);
    assert_int_equal(oasis_get16(q + 10), 2); /* OPT and TSIG */
    p += OASIS_DNS_OPT_LEN;                   /* the OPT first */
    size_t tsig_at = p;
    oasis_dns_name kn;
    assert_int_equal(oasis_dns_name_read(q, qlen, p, &kn, &p), 0);
    char text[OASIS_DNS_NAME_STRLEN];
    oasis_dns_name_to_text(&kn, text, sizeof text);
    assert_string_equal(text, tsig_key_name);
    assert_int_equal(oasis_get16(q + p), OASIS_DNS_TYPE_TSIG);
    assert_int_equal(oasis_get16(q + p + 2), OASIS_DNS_CLASS_ANY);
    assert_int_equal(oasis_get32(q + p + 4), 0);
    assert_int_equal(p + 10 + oasis_get16(q + p + 8), qlen); /* the last record */
    p += 10;
    oasis_dns_name alg;
    assert_int_equal(oasis_dns_name_read(q, qlen, p, &alg, &p), 0);
    oasis_dns_name_to_text(&alg, text, sizeof text);
    assert_string_equal(text, "hmac-sha256");
    uint64_t ts = (uint64_t)oasis_get16(q + p) << 32 | oasis_get32(q + p + 2);
    assert_true(ts >= TSIG_NOW && ts <= TSIG_NOW + 60);
    assert_int_equal(oasis_get16(q + p + 6), 300);
    assert_int_equal(oasis_get16(q + p + 8), 32);
    assert_int_equal(oasis_get16(q + p + 10 + 32), oasis_get16(q)); /* Original ID */
    assert_int_equal(oasis_get16(q + p + 12 + 32), 0);              /* Error */
    assert_int_equal(oasis_get16(q + p + 14 + 32), 0);              /* Other Len */

    uint8_t hdr[12], v[12], mac[32];
    memcpy(hdr, q, 12);
    oasis_put16(hdr + 10, 1); /* ARCOUNT before the TSIG was added */
    oasis_hmac_sha256 c;
    oasis_hmac_sha256_init(&c, tsig_secret, sizeof tsig_secret);
    oasis_hmac_sha256_update(&c, hdr, 12);
    oasis_hmac_sha256_update(&c, q + 12, tsig_at - 12);
    put_name_lower(&c, tsig_key_name);
    oasis_put16(v, OASIS_DNS_CLASS_ANY);
    oasis_put32(v + 2, 0);
    oasis_hmac_sha256_update(&c, v, 6);
    put_name_lower(&c, "hmac-sha256");
    memcpy(v, q + p, 8);   /* Time Signed, Fudge */
    oasis_put32(v + 8, 0); /* Error, Other Len */
    oasis_hmac_sha256_update(&c, v, 12);
    oasis_hmac_sha256_final(&c, mac);
    assert_memory_equal(mac, q + p + 10, 32);
}

static void test_tsig_signed_query_and_answer(void **state)
{
    (void)state;
    net3 n;
    tsig_net_init(&n, 1);
    n.answer = ans_tsig_good;
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.res.addr[0], tsig_addr);
    check_signed_query(n.lastq[0], n.lastq_len[0]);
    assert_int_equal(ctr(&n)->tsig_verified, 1);
    assert_int_equal(ctr(&n)->responses, 1);
    assert_int_equal(ctr(&n)->udp_queries, 1);
    net3_fini(&n);
}

/* Over TCP after TC=1: the TCP query is signed too (its own ID and MAC)
 * and its answer verified. */
static int ans_tsig_tc(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    reply_head(out, q, qlen, RESP | OASIS_DNS_F_TC, 0, 0);
    return 1;
}

static tsig_how tcp_how;
static int ans_tsig_tcp(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    tsig_answer(out, q, qlen, tsig_addr, &tcp_how);
    return 1;
}

static void test_tsig_over_tcp(void **state)
{
    (void)state;
    for (int bad = 0; bad <= 1; bad++) {
        net3 n;
        tsig_net_init(&n, 1);
        n.answer = ans_tsig_tc;
        n.tcp_answer = ans_tsig_tcp;
        tcp_how = tsig_good();
        tcp_how.flip = bad;
        resolve(&n, "files.test");
        check_signed_query(n.last_tcpq, n.last_tcpq_len);
        if (!bad) {
            assert_int_equal(n.status, 0);
            assert_int_equal(n.res.addr[0], tsig_addr);
            assert_int_equal(ctr(&n)->tsig_verified, 1);
            assert_int_equal(n.tcp_queries, 1);
        } else {
            /* Over TCP a refused answer ends the try at once: the next
             * round asks again (UDP, TC=1, TCP), then the request fails. */
            assert_int_equal(n.status, OASIS_DNS_ETSIG);
            assert_int_equal(ctr(&n)->tsig_badsig, 2);
            assert_int_equal(ctr(&n)->tsig_verified, 0);
            assert_int_equal(n.tcp_queries, 2);
            assert_int_equal(ctr(&n)->timeouts, 0);
        }
        net3_fini(&n);
    }
}

/* Each refused reply comes first, from the server, with our ID and
 * question, and a forged address; the genuine signed answer follows.
 * RFC 8945 5.4: the refused one is no acceptable response, the client
 * waits on for a signed one: the answer taken is the genuine one, and the
 * refusal is counted. */
enum { BAD_MAC, BAD_KEYNAME, BAD_ALG, BAD_UNSIGNED, BAD_EMPTY_MAC, BAD_TIME_EARLY, BAD_TIME_LATE,
       BAD_TRUNC_SHORT, BAD_MAC_LONG, BAD_SECRET, BAD_KINDS };
static int bad_kind;

static tsig_how bad_how(int kind)
{
    static const uint8_t other_secret[32] = {1};
    tsig_how h = tsig_good();
    switch (kind) {
    case BAD_MAC: h.flip = 1; break;
    case BAD_KEYNAME: h.key = "other-key.test"; break;
    case BAD_ALG: h.alg = "hmac-sha512"; break;
    case BAD_UNSIGNED: h.none = 1; break;
    case BAD_EMPTY_MAC: h.mac_size = 0; h.error = 17; break; /* a server's BADKEY (5.3.2) */
    case BAD_TIME_EARLY: h.skew = -301; break;
    case BAD_TIME_LATE: h.skew = 301; break;
    case BAD_TRUNC_SHORT: h.mac_size = 10; break; /* under max(10, 32/2) = 16 */
    case BAD_MAC_LONG: h.mac_size = 33; break;    /* over the hash */
    case BAD_SECRET: h.secret = other_secret; break;
    }
    return h;
}

static const uint64_t *bad_counter(net3 *n, int kind)
{
    const oasis_dns_counters *c = ctr(n);
    switch (kind) {
    case BAD_MAC: case BAD_SECRET: return &c->tsig_badsig;
    case BAD_KEYNAME: case BAD_ALG: return &c->tsig_badkey;
    case BAD_UNSIGNED: case BAD_EMPTY_MAC: return &c->tsig_unsigned;
    case BAD_TIME_EARLY: case BAD_TIME_LATE: return &c->tsig_badtime;
    default: return &c->tsig_badtrunc;
    }
}

static void send_bad_reply(net3 *n, const uint8_t *q, size_t qlen, int kind)
{
    pkt f;
    tsig_how h = bad_how(kind);
    uint8_t mac33[33];
    if (kind == BAD_MAC_LONG) {
        /* A 33-octet MAC field: the genuine MAC and one more octet. */
        tsig_how g = tsig_good();
        tsig_answer(&f, q, qlen, OASIS_IPV4(6, 6, 6, 6), &g);
        memcpy(mac33, f.b + f.n - 6 - 32, 32);
        mac33[32] = 0;
        f.n -= 6 + 32 + 2;
        p16(&f, 33);
        pbytes(&f, mac33, 33);
        p16(&f, oasis_get16(q));
        p16(&f, 0);
        p16(&f, 0);
        /* the RDLENGTH grows by one */
        size_t rdlen_at = f.n - 6 - 33 - 2 - 2 - 6 - 13 - 2; /* back over the rdata */
        oasis_put16(f.b + rdlen_at, (uint16_t)(oasis_get16(f.b + rdlen_at) + 1));
    } else {
        tsig_answer(&f, q, qlen, OASIS_IPV4(6, 6, 6, 6), &h);
    }
    assert_int_equal(oasis_udp_send4(n->srv[0], 53, n->last_src, n->last_sport, f.b, f.n), 0);
}

static int ans_bad_then_good(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    send_bad_reply(n, q, qlen, bad_kind);
    return ans_tsig_good(n, server, q, qlen, out);
}

static void test_tsig_refused_replies_counted(void **state)
{
    (void)state;
    for (bad_kind = 0; bad_kind < BAD_KINDS; bad_kind++) {
        net3 n;
        tsig_net_init(&n, 1);
        n.answer = ans_bad_then_good;
        resolve(&n, "files.test");
        assert_int_equal(n.status, 0);
        assert_int_equal(n.res.addr[0], tsig_addr);
        assert_int_equal(*bad_counter(&n, bad_kind), 1);
        assert_int_equal(ctr(&n)->malformed, 0);
        assert_int_equal(ctr(&n)->tsig_verified, 1);
        assert_int_equal(ctr(&n)->responses, 1);
        assert_int_equal(ctr(&n)->udp_queries, 1);
        net3_fini(&n);
    }
}

/* Only refused replies: every try waits out its timeout (nothing ends it
 * early), then the request fails with OASIS_DNS_ETSIG, not a timeout. */
static int ans_bad_only(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    send_bad_reply(n, q, qlen, bad_kind);
    return 0;
}

static void test_tsig_only_refused_replies(void **state)
{
    (void)state;
    int kinds[] = {BAD_MAC, BAD_UNSIGNED, BAD_EMPTY_MAC, BAD_TIME_EARLY};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        bad_kind = kinds[i];
        net3 n;
        tsig_net_init(&n, 1);
        n.answer = ans_bad_only;
        uint64_t t0 = oasis_clock_now(n.clock);
        resolve(&n, "files.test");
        assert_int_equal(n.status, OASIS_DNS_ETSIG);
        assert_string_equal(oasis_dns_strerror(n.status),
                            "no DNS answer with a valid TSIG signature");
        assert_int_equal(*bad_counter(&n, bad_kind), 2);
        assert_int_equal(ctr(&n)->timeouts, 2);
        assert_int_equal(ctr(&n)->responses, 0);
        assert_true(n.done_at - t0 >= 3 * OASIS_NS_PER_SEC); /* 1 s, then 2 s */
        net3_fini(&n);
    }
}

/* The edges RFC 8945 allows: Time Signed exactly Fudge away, a MAC
 * truncated to 16 octets (5.2.2.1: compared on its length), the names in
 * another case (4.3.3: canonical form). */
static tsig_how edge_how;
static int ans_tsig_edge(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    tsig_answer(out, q, qlen, tsig_addr, &edge_how);
    return 1;
}

static void test_tsig_edges_accepted(void **state)
{
    (void)state;
    for (int i = 0; i < 4; i++) {
        edge_how = tsig_good();
        if (i == 0)
            edge_how.skew = -300;
        else if (i == 1)
            edge_how.skew = 300;
        else if (i == 2)
            edge_how.mac_size = 16;
        else
            edge_how.key = "OASIS-Key.TEST", edge_how.alg = "HMAC-SHA256";
        net3 n;
        tsig_net_init(&n, 1);
        n.answer = ans_tsig_edge;
        resolve(&n, "files.test");
        assert_int_equal(n.status, 0);
        assert_int_equal(ctr(&n)->tsig_verified, 1);
        net3_fini(&n);
    }
}

/* The resolver's time moves with the stack's clock: after 400 s a
 * response signed at the time set is outside its 300 s fudge. */
static void test_tsig_time_follows_stack_clock(void **state)
{
    (void)state;
    net3 n;
    tsig_net_init(&n, 1);
    n.answer = ans_tsig_good; /* signs at TSIG_NOW, whatever the clock */
    assert_int_equal(oasis_clock_advance(n.clock, 400 * OASIS_NS_PER_SEC), 0);
    resolve(&n, "files.test");
    assert_int_equal(n.status, OASIS_DNS_ETSIG);
    assert_int_equal(ctr(&n)->tsig_badtime, 2);
    /* Told the time again, the resolver accepts it. */
    assert_int_equal(oasis_dns_set_time(n.r, TSIG_NOW), 0);
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0);
    net3_fini(&n);
}

/* A verified answer whose TSIG Error is set (the server's signed BADTIME,
 * 5.3.2): it is the server speaking; the next server is asked at once.
 * Its Other Data says the server's time is an hour ahead: 5.4.3, the
 * client "MUST NOT adjust any clocks" on it; the next answer, signed at
 * our time, still verifies. */
static int ans_signed_badtime_first(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    if (server == 1)
        return ans_tsig_good(n, server, q, qlen, out);
    tsig_how h = tsig_good();
    h.error = 18;
    h.other_time = TSIG_NOW + 3600;
    reply_head(out, q, qlen, RESP | OASIS_DNS_RCODE_NOTAUTH, 0, 0);
    tsig_sign_reply(out, q, qlen, &h);
    return 1;
}

static void test_tsig_signed_error_fails_over(void **state)
{
    (void)state;
    net3 n;
    tsig_net_init(&n, 2);
    n.answer = ans_signed_badtime_first;
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(ctr(&n)->tsig_errors, 1);
    assert_int_equal(ctr(&n)->tsig_verified, 1);
    assert_int_equal(ctr(&n)->timeouts, 0);
    assert_int_equal(n.queries[1], 1);
    net3_fini(&n);
}

/* The key is checked at creation; no time, no query. */
static void test_tsig_config(void **state)
{
    (void)state;
    oasis_dns_config cfg;
    oasis_dns_tsig t;
    net3 n;
    net3_init(&n, NULL, 1);
    oasis_dns *r;
    tsig_config(&cfg, &t);
    t.algorithm = "hmac-md5";
    assert_int_equal(oasis_dns_create(n.a, &cfg, &r), OASIS_EINVAL);
    tsig_config(&cfg, &t);
    t.secret_len = 0;
    assert_int_equal(oasis_dns_create(n.a, &cfg, &r), OASIS_EINVAL);
    t.secret_len = OASIS_DNS_TSIG_SECRET_MAX + 1;
    assert_int_equal(oasis_dns_create(n.a, &cfg, &r), OASIS_EINVAL);
    tsig_config(&cfg, &t);
    t.key_name = "a..b";
    assert_int_equal(oasis_dns_create(n.a, &cfg, &r), OASIS_EINVAL);
    tsig_config(&cfg, &t);
    t.algorithm = "HMAC-SHA256.";
    assert_int_equal(oasis_dns_create(n.a, &cfg, &r), 0);
    uint32_t srv = SRV1;
    assert_int_equal(oasis_dns_set_servers(r, &srv, 1), 0);
    assert_int_equal(oasis_dns_resolve(r, "files.test", OASIS_DNS_INET, on_resolved, &n, NULL),
                     OASIS_DNS_ENOTIME);
    oasis_dns_destroy(n.r);
    n.r = r;
    /* A literal asks no server, so it needs no signature nor the time. */
    resolve(&n, "192.0.2.7");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.res.addr[0], OASIS_IPV4(192, 0, 2, 7));
    assert_int_equal(oasis_dns_set_time(r, 1ull << 48), OASIS_EINVAL);
    assert_int_equal(oasis_dns_set_time(r, TSIG_NOW), 0);
    n.answer = ans_tsig_good;
    resolve(&n, "files.test");
    assert_int_equal(n.status, 0);
    net3_fini(&n);
}

/* RFC 8945 5.2: the TSIG RR must be the last record of the additional
 * section; one anywhere else makes the message malformed. */
static void test_tsig_rr_must_be_last(void **state)
{
    (void)state;
    pkt p;
    oasis_dns_msg m;
    for (int where = 0; where < 4; where++) {
        hdr(&p, 7, RESP, 1, where == 0, where == 1, (uint16_t)(where >= 2 ? 2 : 1));
        pname(&p, "files.test");
        p16(&p, OASIS_DNS_TYPE_A);
        p16(&p, OASIS_DNS_CLASS_IN);
        /* a TSIG-typed record (its rdata does not matter to the parse) */
        pname(&p, "k.test");
        p16(&p, OASIS_DNS_TYPE_TSIG);
        p16(&p, OASIS_DNS_CLASS_ANY);
        p32(&p, 0);
        p16(&p, 0);
        if (where == 0 || where == 1 || where == 2)
            a_rr_ptr(&p, 12, 60, 1); /* another record after it */
        if (where == 3) {
            /* last: accepted */
            p.b[11] = 1;
            assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), 0);
            assert_true(m.has_tsig);
            assert_int_equal(m.tsig_off, 12 + 12 + 4);
        } else {
            assert_int_equal(oasis_dns_msg_parse(p.b, p.n, &m), OASIS_EMALFORMED);
        }
    }
}

/* ---- the search list (resolv.conf's rules, dns.h) -------------------------- */

/* What the scripted zone does with a name; anything not listed does not
 * exist (NXDOMAIN without SOA: never cached). */
enum { Z_A = 1, Z_NODATA, Z_SERVFAIL, Z_REFUSED, Z_SILENT };
static const struct zone_entry {
    const char *name;
    int what;
} *zone;
/* The names asked, in order (repeats of one name in a row kept once). */
static char asked[16][OASIS_DNS_NAME_STRLEN];
static int nasked;

static int ans_zone(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    const char *name = n->last_qname[server];
    if (nasked == 0 || strcmp(asked[nasked - 1], name) != 0) {
        assert_true(nasked < 16);
        snprintf(asked[nasked++], sizeof asked[0], "%s", name);
    }
    int what = 0;
    for (const struct zone_entry *z = zone; z && z->name; z++)
        if (strcasecmp(z->name, name) == 0)
            what = z->what;
    switch (what) {
    case Z_A:
        return ans_a(n, server, q, qlen, out);
    case Z_NODATA:
        reply_head(out, q, qlen, RESP, 0, 0);
        return 1;
    case Z_SERVFAIL:
        reply_head(out, q, qlen, RESP | OASIS_DNS_RCODE_SERVFAIL, 0, 0);
        return 1;
    case Z_REFUSED:
        reply_head(out, q, qlen, RESP | OASIS_DNS_RCODE_REFUSED, 0, 0);
        return 1;
    case Z_SILENT:
        return 0;
    default:
        reply_head(out, q, qlen, RESP | OASIS_DNS_RCODE_NXDOMAIN, 0, 0);
        return 1;
    }
}

static void search_net(net3 *n, uint32_t ndots, const char *const *dom, size_t ndom)
{
    oasis_dns_config cfg;
    oasis_dns_config_init(&cfg);
    cfg.ndots = ndots;
    cfg.cache_entries = 0; /* each case asks afresh */
    net3_init(n, &cfg, 1);
    n->answer = ans_zone;
    assert_int_equal(oasis_dns_set_search(n->r, dom, ndom), 0);
}

/* Resolves name with the zone z; the names asked must be want (NULL
 * ended) and the outcome status. */
static void search_case(net3 *n, const struct zone_entry *z, const char *name, int status,
                        const char *const *want)
{
    zone = z;
    nasked = 0;
    resolve(n, name);
    int k = 0;
    for (int i = 0; getenv("DNS_DEBUG") && i < nasked; i++)
        fprintf(stderr, "asked %s\n", asked[i]);
    for (; want[k]; k++) {
        assert_true(k < nasked);
        assert_string_equal(asked[k], want[k]);
    }
    assert_int_equal(nasked, k);
    assert_int_equal(n->status, status);
    if (status == 0)
        assert_string_equal(n->resname, name); /* as given */
}

/* resolv.conf(5): a name with fewer than ndots dots is tried with each
 * search domain in turn, then as given; one with ndots or more as given
 * first; one that ends in a dot as given only. */
static void test_search_order(void **state)
{
    (void)state;
    static const char *const dom[] = {"a.test", "b.test"};
    net3 n;
    search_net(&n, 1, dom, 2);

    static const struct zone_entry z1[] = {{"host.b.test", Z_A}, {NULL, 0}};
    search_case(&n, z1, "host", 0, (const char *[]){"host.a.test", "host.b.test", NULL});
    assert_string_equal(n.canonical, "host.b.test");

    static const struct zone_entry z2[] = {{"www.x.a.test", Z_A}, {NULL, 0}};
    search_case(&n, z2, "www.x", 0, (const char *[]){"www.x", "www.x.a.test", NULL});
    assert_string_equal(n.canonical, "www.x.a.test");

    search_case(&n, z1, "host.", OASIS_DNS_ENXDOMAIN, (const char *[]){"host", NULL});
    search_case(&n, NULL, "nope", OASIS_DNS_ENXDOMAIN,
                (const char *[]){"nope.a.test", "nope.b.test", "nope", NULL});
    /* The name as given answers when the domains do not. */
    static const struct zone_entry z3[] = {{"solo", Z_A}, {NULL, 0}};
    search_case(&n, z3, "solo", 0, (const char *[]){"solo.a.test", "solo.b.test", "solo", NULL});
    assert_string_equal(n.canonical, "solo");
    /* One application request each, the later candidates counted apart. */
    assert_int_equal(ctr(&n)->requests, 5);
    assert_int_equal(ctr(&n)->search_next, 1 + 1 + 2 + 2);
    assert_int_equal(ctr(&n)->completed_ok, 3);
    assert_int_equal(ctr(&n)->failed, 2);
    net3_fini(&n);

    /* ndots 2: one dot is not enough to go first. */
    search_net(&n, 2, dom, 2);
    search_case(&n, z2, "www.x", 0, (const char *[]){"www.x.a.test", NULL});
    /* ndots 0: every name as given first. */
    net3_fini(&n);
    search_net(&n, 0, dom, 2);
    search_case(&n, z1, "host", 0, (const char *[]){"host", "host.a.test", "host.b.test", NULL});
    net3_fini(&n);
}

/* The root in the search list makes the name as given, which is asked
 * once, at its first place; and the dots that count are the ones between
 * labels: an escaped one is inside a label. */
static void test_search_root_and_escapes(void **state)
{
    (void)state;
    net3 n;
    static const char *const root_last[] = {"a.test", "."};
    search_net(&n, 1, root_last, 2);
    search_case(&n, NULL, "host", OASIS_DNS_ENXDOMAIN,
                (const char *[]){"host.a.test", "host", NULL});
    /* As given first (ndots reached): the root adds no second ask. */
    search_case(&n, NULL, "www.x", OASIS_DNS_ENXDOMAIN,
                (const char *[]){"www.x", "www.x.a.test", NULL});
    /* One label holding a dot has no dot to count, and does not end the
     * name: the list is tried first. */
    static const struct zone_entry z[] = {{"a\\046b.a.test", Z_A}, {NULL, 0}};
    search_case(&n, z, "a\\.b", 0, (const char *[]){"a\\046b.a.test", NULL});
    search_case(&n, NULL, "x\\.", OASIS_DNS_ENXDOMAIN,
                (const char *[]){"x\\046.a.test", "x\\046", NULL});
    net3_fini(&n);

    static const char *const root_first[] = {".", "a.test"};
    search_net(&n, 1, root_first, 2);
    search_case(&n, NULL, "host", OASIS_DNS_ENXDOMAIN,
                (const char *[]){"host", "host.a.test", NULL});
    net3_fini(&n);
}

/* Only "not here" outcomes move on (NXDOMAIN, no data, SERVFAIL, as
 * glibc's res_search does); an answer, REFUSED or silence ends the search
 * at once. The status told: the name as given when asked first, else no
 * data, else SERVFAIL, else the last one's. */
static void test_search_continue_rules(void **state)
{
    (void)state;
    static const char *const dom[] = {"a.test", "b.test"};
    net3 n;
    search_net(&n, 1, dom, 2);

    static const struct zone_entry nodata[] = {{"h.a.test", Z_NODATA}, {NULL, 0}};
    search_case(&n, nodata, "h", OASIS_DNS_ENODATA, (const char *[]){"h.a.test", "h.b.test", "h", NULL});
    static const struct zone_entry sf[] = {{"h.a.test", Z_SERVFAIL}, {NULL, 0}};
    search_case(&n, sf, "h", OASIS_DNS_ESERVFAIL, (const char *[]){"h.a.test", "h.b.test", "h", NULL});
    static const struct zone_entry sf_then_a[] = {{"h.a.test", Z_SERVFAIL}, {"h.b.test", Z_A},
                                                  {NULL, 0}};
    search_case(&n, sf_then_a, "h", 0, (const char *[]){"h.a.test", "h.b.test", NULL});
    static const struct zone_entry both[] = {{"h.a.test", Z_SERVFAIL}, {"h.b.test", Z_NODATA},
                                             {NULL, 0}};
    search_case(&n, both, "h", OASIS_DNS_ENODATA, (const char *[]){"h.a.test", "h.b.test", "h", NULL});
    static const struct zone_entry refused[] = {{"h.a.test", Z_REFUSED}, {"h.b.test", Z_A},
                                                {NULL, 0}};
    search_case(&n, refused, "h", OASIS_DNS_EREFUSED, (const char *[]){"h.a.test", NULL});
    static const struct zone_entry silent[] = {{"h.a.test", Z_SILENT}, {"h.b.test", Z_A},
                                               {NULL, 0}};
    search_case(&n, silent, "h", OASIS_DNS_ETIMEDOUT, (const char *[]){"h.a.test", NULL});
    /* A search that stops still tells "no data" when a candidate had the
     * name (here the name as given is refused, as dnsmasq refuses what it
     * cannot forward). */
    static const struct zone_entry nodata_refused[] = {{"h.a.test", Z_NODATA}, {"h", Z_REFUSED},
                                                       {NULL, 0}};
    search_case(&n, nodata_refused, "h", OASIS_DNS_ENODATA,
                (const char *[]){"h.a.test", "h.b.test", "h", NULL});
    /* Asked first, the name as given has the last word. */
    static const struct zone_entry first_nx[] = {{"w.x.a.test", Z_NODATA}, {NULL, 0}};
    search_case(&n, first_nx, "w.x", OASIS_DNS_ENXDOMAIN,
                (const char *[]){"w.x", "w.x.a.test", "w.x.b.test", NULL});
    static const struct zone_entry first_nodata[] = {{"w.x", Z_NODATA}, {NULL, 0}};
    search_case(&n, first_nodata, "w.x", OASIS_DNS_ENODATA,
                (const char *[]){"w.x", "w.x.a.test", "w.x.b.test", NULL});
    net3_fini(&n);
}

/* A domain that would make the name pass 255 octets is skipped; the list
 * a request began with is the one it keeps. */
static void test_search_long_names_and_snapshot(void **state)
{
    (void)state;
    char longdom[256], name[80];
    /* 3 labels of 63 and one of 50: 4 * 1 + 189 + 50 + 1 = 244 octets. */
    snprintf(longdom, sizeof longdom, "%.63s.%.63s.%.63s.%.50s",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
             "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
             "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
             "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd");
    const char *dom[] = {longdom, "b.test"};
    net3 n;
    search_net(&n, 1, dom, 2);
    snprintf(name, sizeof name, "%s", "twelve-chars"); /* 14 octets: 244 - 1 + 14 > 255 */
    static const struct zone_entry z[] = {{"twelve-chars.b.test", Z_A}, {NULL, 0}};
    search_case(&n, z, name, 0, (const char *[]){"twelve-chars.b.test", NULL});
    /* "ab" (4 octets) still fits: 3 + 244 = 247. */
    char first[300];
    snprintf(first, sizeof first, "ab.%s", longdom);
    search_case(&n, NULL, "ab", OASIS_DNS_ENXDOMAIN,
                (const char *[]){first, "ab.b.test", "ab", NULL});
    net3_fini(&n);

    /* The list changes while a request runs: it keeps the one it began with. */
    static const char *const two[] = {"a.test", "b.test"}, *const other[] = {"c.test"};
    search_net(&n, 1, two, 2);
    zone = NULL;
    nasked = 0;
    n.done = 0;
    assert_int_equal(oasis_dns_resolve(n.r, "h", OASIS_DNS_INET, on_resolved, &n, NULL), 0);
    assert_int_equal(oasis_dns_set_search(n.r, other, 1), 0);
    assert_int_equal(oasis_wire_run(n.wire, flag, &n.done, 60 * OASIS_NS_PER_SEC), 0);
    assert_int_equal(nasked, 3);
    assert_string_equal(asked[1], "h.b.test");
    search_case(&n, NULL, "h", OASIS_DNS_ENXDOMAIN, (const char *[]){"h.c.test", "h", NULL});
    net3_fini(&n);
}

/* oasis_dns_set_search's checks, and the list read back. */
static void test_search_api(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    static const char *const seven[] = {"a", "b", "c", "d", "e", "f", "g"};
    assert_int_equal(oasis_dns_set_search(n.r, seven, 7), OASIS_EINVAL);
    static const char *const bad[] = {"ok.test", "no..dots"};
    assert_int_equal(oasis_dns_set_search(n.r, bad, 2), OASIS_DNS_EBADNAME);
    static const char *const null_one[] = {"ok.test", NULL};
    assert_int_equal(oasis_dns_set_search(n.r, null_one, 2), OASIS_EINVAL);
    assert_int_equal(oasis_dns_set_search(NULL, seven, 1), OASIS_EINVAL);
    assert_int_equal(oasis_dns_search(n.r, NULL, 0), 0); /* the refused calls set nothing */
    static const char *const good[] = {"Lan.Test.", "."};
    assert_int_equal(oasis_dns_set_search(n.r, good, 2), 0);
    char out[OASIS_DNS_MAX_SEARCH][OASIS_DNS_NAME_STRLEN];
    assert_int_equal(oasis_dns_search(n.r, out, OASIS_DNS_MAX_SEARCH), 2);
    assert_string_equal(out[0], "Lan.Test");
    assert_string_equal(out[1], "");
    assert_int_equal(oasis_dns_set_search(n.r, NULL, 0), 0);
    assert_int_equal(oasis_dns_search(n.r, out, OASIS_DNS_MAX_SEARCH), 0);
    net3_fini(&n);

    oasis_dns_config cfg;
    oasis_dns_config_init(&cfg);
    assert_int_equal(cfg.ndots, 1);
    cfg.ndots = 16;
    oasis_dns *r;
    oasis_stack *s;
    oasis_clock *c = oasis_clock_new_virtual(START_NS);
    oasis_stack_config scfg;
    test_stack_config(&scfg, c, 1);
    assert_int_equal(oasis_stack_create(&scfg, &s), 0);
    assert_int_equal(oasis_dns_create(s, &cfg, &r), OASIS_EINVAL);
    oasis_stack_destroy(s);
    oasis_clock_free(c);
}

/* Cancel between candidates' queries: no callback, the candidate's query
 * and port go. Destroy while one runs: ECANCELED, once. Two requests for
 * the same short name share each candidate's question (RFC 5452 5). */
static void test_search_cancel_destroy_coalesce(void **state)
{
    (void)state;
    static const char *const dom[] = {"a.test", "b.test"};
    static const struct zone_entry z[] = {{"h.b.test", Z_SILENT}, {NULL, 0}};
    net3 n;
    search_net(&n, 1, dom, 2);
    zone = z;
    nasked = 0;
    oasis_dns_req *req;
    assert_int_equal(oasis_dns_resolve(n.r, "h", OASIS_DNS_INET, on_never, &n, &req), 0);
    /* h.a.test: NXDOMAIN; then h.b.test waits for an answer. */
    assert_int_equal(oasis_wire_run(n.wire, NULL, NULL, 500 * OASIS_NS_PER_MS), OASIS_ETIMEDOUT);
    assert_int_equal(nasked, 2);
    assert_int_equal(oasis_dns_cancel(req), 0);
    oasis_wire_run(n.wire, NULL, NULL, 30 * OASIS_NS_PER_SEC);
    assert_int_equal(nasked, 2);
    assert_int_equal(n.queries[0], 2); /* no retry of h.b.test */
    assert_int_equal(ctr(&n)->canceled, 1);
    int bound = 0;
    for (uint32_t p = 1024; p < 65536; p++)
        bound += oasis_udp_unbind(n.a, (uint16_t)p) == OASIS_OK;
    assert_int_equal(bound, 0);

    joined j[3];
    memset(j, 0, sizeof j);
    static const struct zone_entry z2[] = {{"k.b.test", Z_A}, {NULL, 0}};
    zone = z2;
    nasked = 0;
    int q0 = n.queries[0];
    assert_int_equal(oasis_dns_resolve(n.r, "k", OASIS_DNS_INET, on_joined, &j[0], NULL), 0);
    assert_int_equal(oasis_dns_resolve(n.r, "K", OASIS_DNS_INET, on_joined, &j[1], NULL), 0);
    assert_int_equal(oasis_dns_resolve(n.r, "k.", OASIS_DNS_INET, on_joined, &j[2], NULL), 0);
    assert_int_equal(oasis_wire_run(n.wire, all_called, j, 60 * OASIS_NS_PER_SEC), 0);
    assert_int_equal(j[0].status, 0);
    assert_int_equal(j[1].status, 0);
    assert_string_equal(j[1].name, "K");
    assert_int_equal(j[2].status, OASIS_DNS_ENXDOMAIN);
    /* k.a.test, k.b.test and k: once each (k. and K's last one coalesce
     * with nothing; k. is asked by itself). */
    assert_int_equal(n.queries[0] - q0, 3);

    memset(j, 0, sizeof j);
    zone = z;
    assert_int_equal(oasis_dns_resolve(n.r, "h", OASIS_DNS_INET, on_joined, &j[0], NULL), 0);
    assert_int_equal(oasis_wire_run(n.wire, NULL, NULL, 500 * OASIS_NS_PER_MS), OASIS_ETIMEDOUT);
    assert_int_equal(j[0].calls, 0);
    oasis_dns_destroy(n.r);
    n.r = NULL;
    assert_int_equal(j[0].calls, 1);
    assert_int_equal(j[0].status, OASIS_DNS_ECANCELED);
    net3_fini(&n);
}


/* ---- outside probes (a checker's, not the authors') ------------------------ */

/* Each answer holds one CNAME and nothing else: a.test -> b.test, and
 * b.test -> a.test, so the loop closes only across two answers (the
 * re-query of a target, RFC 1034 3.6.2: "CNAME loops signalled as an
 * error"). The server goes silent after 40 queries so that a resolver
 * that does not see the loop still ends (by timing out). */
static int ans_cname_loop_split(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    oasis_dns_name qn;
    char text[OASIS_DNS_NAME_STRLEN];
    if (n->queries[server] > 40)
        return 0;
    oasis_dns_name_read(q, qlen, 12, &qn, NULL);
    oasis_dns_name_to_text(&qn, text, sizeof text);
    reply_head(out, q, qlen, RESP, 1, 0);
    pptr(out, 12);
    rrh(out, OASIS_DNS_TYPE_CNAME, 100, 8);
    pname(out, strcmp(text, "a.test") == 0 ? "b.test" : "a.test");
    return 1;
}

static void test_probe_cname_loop_across_answers(void **state)
{
    (void)state;
    oasis_dns_config cfg;
    oasis_dns_config_init(&cfg);
    cfg.max_cname = UINT32_MAX; /* dns.h: "(a loop ends sooner)" */
    net3 n;
    net3_init(&n, &cfg, 1);
    n.answer = ans_cname_loop_split;
    resolve(&n, "a.test");
    assert_int_equal(n.status, OASIS_DNS_ECNAME); /* was ETIMEDOUT after 41 queries */
    assert_true(n.queries[0] <= 4);
    net3_fini(&n);
    /* A long chain of distinct names across answers is no loop: followed
     * to its end within the bound (c1 -> c2 -> ... -> c6, then an A). */
    net3_init(&n, &cfg, 1);
    n.answer = ans_cname_split;
    resolve(&n, "a.test");
    assert_int_equal(n.status, 0);
    assert_string_equal(n.canonical, "c9.x");
    net3_fini(&n);
}

/* Names at the bounds of RFC 1035 2.3.4 through the API: 253 characters
 * (255 octets on the wire) are asked, 254 without a final dot are not;
 * labels of 63 and 64; octets above 127 (IDN-ish, RFC 2181 11) go out as
 * they are. */
static void test_probe_name_bounds_on_wire(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_a;
    char name[300];
    /* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
    memset(name, 'a', 253);
    name[63] = name[127] = name[191] = '.';
    name[253] = 0;
    resolve(&n, name);
    assert_int_equal(n.status, 0);
    assert_int_equal(n.lastq_len[0] >= 12 + 255 + 4, 1);
    assert_int_equal(oasis_get16(n.lastq[0] + 12 + 255), OASIS_DNS_TYPE_A);
    name[253] = '.';
    name[254] = 0; /* the same name with its final dot */
    resolve(&n, name);
    assert_int_equal(n.status, 0);
    name[253] = 'a'; /* 254 characters: 256 octets */
    int rc = oasis_dns_resolve(n.r, name, OASIS_DNS_INET, on_resolved, &n, NULL);
    assert_int_equal(rc, OASIS_DNS_EBADNAME);
    char l63[80], l64[80];
    memset(l63, 'x', 63);
    strcpy(l63 + 63, ".test");
    memset(l64, 'x', 64);
    strcpy(l64 + 64, ".test");
    resolve(&n, l63);
    assert_int_equal(n.status, 0);
    assert_int_equal(oasis_dns_resolve(n.r, l64, OASIS_DNS_INET, on_resolved, &n, NULL),
                     OASIS_DNS_EBADNAME);
    resolve(&n, "\xc3\xa9t\xc3\xa9.test");
    assert_int_equal(n.status, 0);
    assert_string_equal(n.last_qname[0], "\\195\\169t\\195\\169.test");
    assert_string_equal(n.resname, "\xc3\xa9t\xc3\xa9.test");
    n.done = 0;
    assert_int_equal(oasis_dns_resolve(n.r, ".", OASIS_DNS_INET, on_resolved, &n, NULL), 0);
    assert_int_equal(oasis_wire_run(n.wire, flag, &n.done, 600 * OASIS_NS_PER_SEC), 0);
    net3_fini(&n);
}

/* TCP answers written one octet per write, each after the last was taken
 * (RFC 7766 8: the length prefix and the message may arrive in any
 * pieces): the resolver puts them back together. */
typedef struct drip {
    oasis_flow *f;
    uint8_t b[2048];
    size_t n, at;
} drip;
static drip dripper;

static void drip_next(oasis_flow *f, int err, void *ud)
{
    drip *d = ud;
    if (err || d->at >= d->n)
        return;
    d->at++;
    oasis_tcp_write_nodelay(f, d->b + d->at - 1, 1, drip_next, d);
}

static void tcp_drip(net3 *n, oasis_flow *f, const uint8_t *q, size_t qlen)
{
    pkt body;
    body.n = 0;
    ans_a(n, 0, q, qlen, &body);
    dripper.n = 0;
    oasis_put16(dripper.b, (uint16_t)body.n);
    memcpy(dripper.b + 2, body.b, body.n);
    dripper.n = body.n + 2;
    dripper.at = 0;
    drip_next(f, 0, &dripper);
}

/* A length prefix of 0 (no message: malformed), then one of 65535 the
 * server never fills before closing (cut short): each try fails as
 * malformed, neither hangs the request. */
static uint16_t raw_prefix;
static void tcp_bad_prefix(net3 *n, oasis_flow *f, const uint8_t *q, size_t qlen)
{
    static uint8_t b[64];
    oasis_put16(b, raw_prefix);
    memset(b + 2, 0, sizeof b - 2);
    oasis_tcp_write_nodelay(f, b, raw_prefix ? sizeof b : 2, NULL, NULL);
    if (raw_prefix)
        oasis_tcp_shutdown(f, OASIS_TCP_SHUT_WRITE);
}

static void test_probe_tcp_pieces_and_prefixes(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_truncated;
    n.tcp_raw = tcp_drip;
    uint64_t segs0 = oasis_stack_counters(n.srv[0])->tcp.out_segs;
    resolve(&n, "drip.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.res.addr[0], answer_addr);
    assert_int_equal(n.tcp_queries, 1);
    /* it did come in pieces: more segments than the handshake's and one */
    assert_true(oasis_stack_counters(n.srv[0])->tcp.out_segs - segs0 > 20);
    net3_fini(&n);

    for (int k = 0; k < 2; k++) {
        net3_init(&n, NULL, 1);
        n.answer = ans_truncated;
        n.tcp_raw = tcp_bad_prefix;
        raw_prefix = k == 0 ? 0 : 65535;
        uint64_t t0 = oasis_clock_now(n.clock);
        resolve(&n, "prefix.test");
        assert_int_equal(n.status, OASIS_DNS_EMALFORMED);
        assert_int_equal(n.tcp_queries, 2); /* one per round */
        assert_int_equal(ctr(&n)->malformed, 2);
        if (k == 1)
            assert_true(n.done_at < t0 + 2 * OASIS_NS_PER_SEC); /* no TCP timeout waited */
        net3_fini(&n);
    }
}

/* 1000 records in one TCP answer (16 kB): all read, 16 addresses handed
 * over. */
static void tcp_thousand(net3 *n, oasis_flow *f, const uint8_t *q, size_t qlen)
{
    static uint8_t big[2 + 20000];
    size_t qe = question_end(q, qlen);
    uint8_t *m = big + 2;
    size_t o = 0;
    oasis_put16(m, oasis_get16(q));
    oasis_put16(m + 2, RESP);
    oasis_put16(m + 4, 1);
    oasis_put16(m + 6, 1000);
    oasis_put16(m + 8, 0);
    oasis_put16(m + 10, 0);
    memcpy(m + 12, q + 12, qe - 12);
    o = qe;
    for (uint32_t i = 0; i < 1000; i++) {
        oasis_put16(m + o, 0xc00c);
        oasis_put16(m + o + 2, OASIS_DNS_TYPE_A);
        oasis_put16(m + o + 4, OASIS_DNS_CLASS_IN);
        oasis_put32(m + o + 6, 300);
        oasis_put16(m + o + 10, 4);
        oasis_put32(m + o + 12, OASIS_IPV4(10, 2, 0, 0) + i);
        o += 16;
    }
    oasis_put16(big, (uint16_t)o);
    assert_int_equal(oasis_tcp_write(f, big, o + 2, NULL, NULL), 0);
}

static void test_probe_thousand_records(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_truncated;
    n.tcp_raw = tcp_thousand;
    resolve(&n, "many.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.res.count, OASIS_DNS_MAX_ADDRS);
    assert_int_equal(n.res.addr[15], OASIS_IPV4(10, 2, 0, 15));
    net3_fini(&n);
}

/* RFC 1035 4.1.1: RCODE 3 says "the domain name referenced in the query
 * does not exist"; RFC 6604 2.1: after CNAMEs it is about the last name
 * of the chain. A reply that says so and still carries an address for
 * that name contradicts itself: the RCODE is believed (as glibc's and
 * musl's stub resolvers do), not the record. */
static int ans_nx_with_a(net3 *n, int server, const uint8_t *q, size_t qlen, pkt *out)
{
    reply_head(out, q, qlen, RESP | OASIS_DNS_RCODE_NXDOMAIN, 1, 0);
    a_rr_ptr(out, 12, 60, answer_addr);
    return 1;
}

static void test_probe_nxdomain_with_address(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_nx_with_a;
    resolve(&n, "gone.test");
    assert_int_equal(n.status, OASIS_DNS_ENXDOMAIN);
    assert_int_equal(ctr(&n)->nxdomain, 1);
    net3_fini(&n);
}


/* RFC 1123 2.1: "The host SHOULD check the string syntactically for a
 * dotted-decimal number before looking it up in the Domain Name System",
 * and dns.h: a dotted quad resolves to itself at once (on the next poll).
 * Asked for IPv6 it has no address of that family: OASIS_DNS_ENODATA on
 * the next poll, no server asked, with a search list too (before: an AAAA
 * query for the name "192.0.2.7", then for "192.0.2.7.lan.test", and a
 * timeout). */
static void test_dotted_quad_inet6_not_asked(void **state)
{
    (void)state;
    net3 n;
    net3_init(&n, NULL, 1);
    n.answer = ans_none;
    static const char *const dom[] = {"lan.test"};
    assert_int_equal(oasis_dns_set_search(n.r, dom, 1), 0);
    n.done = 0;
    n.in_resolve = 1;
    assert_int_equal(oasis_dns_resolve(n.r, "192.0.2.7", OASIS_DNS_INET6, on_resolved, &n, NULL),
                     0);
    n.in_resolve = 0;
    assert_int_equal(n.done, 0);
    oasis_wire_run(n.wire, NULL, NULL, 30 * OASIS_NS_PER_SEC);
    assert_int_equal(n.calls, 1);
    assert_int_equal(n.status, OASIS_DNS_ENODATA);
    assert_true(n.done_at < START_NS + OASIS_NS_PER_SEC / 10);
    assert_int_equal(n.queries[0], 0);
    assert_int_equal(ctr(&n)->udp_queries, 0);
    /* The same quad for IPv4 is still itself. */
    resolve(&n, "192.0.2.7");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.res.addr[0], OASIS_IPV4(192, 0, 2, 7));
    assert_int_equal(n.queries[0], 0);
    net3_fini(&n);
}

/* The TCP query after TC=1 is taken and the server hangs up with no
 * answer at all: a FIN (k 0) or a RST (k 1) after the handshake. The try
 * failed at once, as a server failure (no answer will come: nothing timed
 * out), the next server is asked; when all end so, the request says
 * OASIS_DNS_ESERVFAIL. Before, it ended at once with OASIS_DNS_ETIMEDOUT
 * ("no DNS server answered in time") and no timeout counted. */
static int raw_abort;
static void tcp_hang_up(net3 *n, oasis_flow *f, const uint8_t *q, size_t qlen)
{
    if (raw_abort)
        oasis_tcp_abort(f);
    else
        oasis_tcp_shutdown(f, OASIS_TCP_SHUT_WRITE);
}

static void test_tcp_hang_up_is_server_failure(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        net3 n;
        net3_init(&n, NULL, 1);
        n.answer = ans_truncated;
        n.tcp_raw = tcp_hang_up;
        raw_abort = k;
        uint64_t t0 = oasis_clock_now(n.clock);
        resolve(&n, "hangup.test");
        assert_int_equal(n.status, OASIS_DNS_ESERVFAIL); /* was ETIMEDOUT */
        assert_int_equal(n.tcp_queries, 2);
        assert_int_equal(ctr(&n)->servfail, 2);
        assert_int_equal(ctr(&n)->unreachable, 0);
        assert_int_equal(ctr(&n)->timeouts, 0);
        assert_true(n.done_at < t0 + OASIS_NS_PER_SEC / 2);
        net3_fini(&n);
    }
    /* The second server answers over UDP. */
    net3 n;
    net3_init(&n, NULL, 2);
    n.answer = ans_tc_first_server;
    n.tcp_raw = tcp_hang_up;
    raw_abort = 0;
    resolve(&n, "hangup.test");
    assert_int_equal(n.status, 0);
    assert_int_equal(n.res.addr[0], answer_addr + 1);
    assert_int_equal(ctr(&n)->timeouts, 0);
    net3_fini(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_text_roundtrip),
        cmocka_unit_test(test_name_compression_valid),
        cmocka_unit_test(test_name_pointer_loops),
        cmocka_unit_test(test_name_pointer_bounds),
        cmocka_unit_test(test_name_pointer_chain_bounded),
        cmocka_unit_test(test_name_label_limits),
        cmocka_unit_test(test_name_too_long),
        cmocka_unit_test(test_name_truncated),
        cmocka_unit_test(test_msg_parse),
        cmocka_unit_test(test_cname_extract),
        cmocka_unit_test(test_cname_loop_bounded_by_answer),
        cmocka_unit_test(test_resolve_basic),
        cmocka_unit_test(test_search_order),
        cmocka_unit_test(test_search_root_and_escapes),
        cmocka_unit_test(test_search_continue_rules),
        cmocka_unit_test(test_search_long_names_and_snapshot),
        cmocka_unit_test(test_search_api),
        cmocka_unit_test(test_search_cancel_destroy_coalesce),
        cmocka_unit_test(test_random_ids_and_ports),
        cmocka_unit_test(test_ids_ports_not_from_stack_prng),
        cmocka_unit_test(test_avoid_ports),
        cmocka_unit_test(test_retry_failover),
        cmocka_unit_test(test_all_servers_silent),
        cmocka_unit_test(test_servfail_fails_over_at_once),
        cmocka_unit_test(test_port_unreachable_fails_over_at_once),
        cmocka_unit_test(test_error_rcodes),
        cmocka_unit_test(test_truncation_then_tcp),
        cmocka_unit_test(test_tcp_answer_with_tc),
        cmocka_unit_test(test_tcp_answer_cut_short),
        cmocka_unit_test(test_tcp_refused_fails_over),
        cmocka_unit_test(test_cname_chain_and_bound),
        cmocka_unit_test(test_cname_loop_unbounded_config),
        cmocka_unit_test(test_cname_requery),
        cmocka_unit_test(test_cache_ttl),
        cmocka_unit_test(test_cache_bound),
        cmocka_unit_test(test_negative_cache),
        cmocka_unit_test(test_nxdomain_cached_per_name),
        cmocka_unit_test(test_negative_without_soa_not_cached),
        cmocka_unit_test(test_rrset_least_ttl),
        cmocka_unit_test(test_referral_is_not_nodata),
        cmocka_unit_test(test_forged_replies_ignored),
        cmocka_unit_test(test_reply_to_broadcast_ignored),
        cmocka_unit_test(test_reply_header_and_question_checked),
        cmocka_unit_test(test_only_answer_section_believed),
        cmocka_unit_test(test_truncated_reply_not_used),
        cmocka_unit_test(test_equivalent_queries_coalesced),
        cmocka_unit_test(test_canceled_leader_ends_with_its_followers),
        cmocka_unit_test(test_joined_request_callback_busy),
        cmocka_unit_test(test_outstanding_queries_own_ports),
        cmocka_unit_test(test_first_answer_wins),
        cmocka_unit_test(test_malformed_answers),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_metrics_source),
        cmocka_unit_test(test_ipv6_server),
        cmocka_unit_test(test_edns_opt_in_query),
        cmocka_unit_test(test_edns_large_udp_answer),
        cmocka_unit_test(test_edns_opt_parse),
        cmocka_unit_test(test_edns_extended_rcode_parse),
        cmocka_unit_test(test_edns_malformed_opt_dropped),
        cmocka_unit_test(test_edns_formerr_fallback),
        cmocka_unit_test(test_edns_formerr_with_opt_no_fallback),
        cmocka_unit_test(test_edns_extended_rcode),
        cmocka_unit_test(test_opt_in_reply_to_plain_query),
        cmocka_unit_test(test_tsig_signed_query_and_answer),
        cmocka_unit_test(test_tsig_over_tcp),
        cmocka_unit_test(test_tsig_refused_replies_counted),
        cmocka_unit_test(test_tsig_only_refused_replies),
        cmocka_unit_test(test_tsig_edges_accepted),
        cmocka_unit_test(test_tsig_time_follows_stack_clock),
        cmocka_unit_test(test_tsig_signed_error_fails_over),
        cmocka_unit_test(test_tsig_config),
        cmocka_unit_test(test_tsig_rr_must_be_last),
        cmocka_unit_test(test_probe_cname_loop_across_answers),
        cmocka_unit_test(test_probe_name_bounds_on_wire),
        cmocka_unit_test(test_probe_tcp_pieces_and_prefixes),
        cmocka_unit_test(test_probe_thousand_records),
        cmocka_unit_test(test_probe_nxdomain_with_address),
        cmocka_unit_test(test_dotted_quad_inet6_not_asked),
        cmocka_unit_test(test_tcp_hang_up_is_server_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
