/* Software segmentation (link/gso.c) of whatever frame and offloads:
 * besides the stack's own super-segments it cuts frames received with
 * offloads for a capture. Input: GSO type, gso_size, csum_start,
 * csum_offset, a flags byte, then the frame. Cut into scratch and in
 * place, the two must give the same frames; a TCP super-segment's pieces
 * carry its payload whole, in order, each within gso_size, and each
 * with a checksum that holds. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/checksum.h"
#include "core/stack_impl.h"
#include "link/gso.h"
#include "oasis/error.h"

typedef struct cut {
    size_t n, bytes;
    uint8_t *buf; /* every piece, back to back */
    size_t len[4096];
    size_t kept; /* pieces whose length was recorded (the first 4096) */
} cut;

static int collect(void *ud, uint8_t *frame, size_t len)
{
    cut *c = ud;
    FUZZ_CHECK(len <= OASIS_GSO_SCRATCH);
    uint8_t *b = realloc(c->buf, c->bytes + len);
    FUZZ_CHECK(b != NULL);
    c->buf = b;
    memcpy(c->buf + c->bytes, frame, len);
    c->bytes += len;
    if (c->kept < sizeof c->len / sizeof c->len[0])
        c->len[c->kept++] = len;
    c->n++;
    return c->n % 7 == 3 ? OASIS_ENOMEM : 0; /* an emit failing now and then */
}

/* The TCP checksum of a piece (IPv4 or IPv6, no options checked) holds. */
static void check_piece(const uint8_t *f, size_t len, int v6)
{
    const uint8_t *ip = f + 14;
    size_t l4, tlen;
    uint64_t sum;
    if (v6) {
        l4 = 14 + 40;
        tlen = oasis_get16(ip + 4);
        sum = oasis_csum_add(0, ip + 8, 32);
        sum = oasis_csum_add_be32(oasis_csum_add_be32(sum, (uint32_t)tlen), 6);
    } else {
        size_t ihl = (size_t)(ip[0] & 15) * 4;
        l4 = 14 + ihl;
        tlen = oasis_get16(ip + 2) - ihl;
        FUZZ_CHECK(oasis_csum(ip, ihl) == 0);
        sum = oasis_csum_pseudo(oasis_get32(ip + 12), oasis_get32(ip + 16), 6, (uint16_t)tlen);
    }
    FUZZ_CHECK(l4 + tlen == len);
    FUZZ_CHECK(oasis_csum_fold(oasis_csum_add(sum, f + l4, tlen)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    static const uint8_t types[] = {OASIS_GSO_NONE, OASIS_GSO_TCPV4, OASIS_GSO_TCPV6,
                                    OASIS_GSO_UDP};
    oasis_offload off = {0};
    uint8_t t = fuzz_u8(&in);
    off.gso_type = (uint8_t)(types[t & 3] | (t & 0x80));
    off.gso_size = fuzz_u16(&in);
    off.csum_start = fuzz_u16(&in);
    off.csum_offset = fuzz_u16(&in);
    off.flags = fuzz_u8(&in) & 3;
    size_t len = in.left;
    if (len > OASIS_GSO_SCRATCH)
        return 0;
    uint8_t *frame = malloc(len ? len : 1), *orig = malloc(len ? len : 1);
    uint8_t *scratch = malloc(OASIS_GSO_SCRATCH);
    FUZZ_CHECK(frame && orig && scratch);
    memcpy(frame, in.p, len);
    memcpy(orig, in.p, len);

    cut a = {0}, b = {0};
    int err_a = -1, err_b = -1;
    int na = oasis_gso_segment(frame, len, &off, scratch, OASIS_GSO_SCRATCH, collect, &a, &err_a);
    FUZZ_CHECK(memcmp(frame, orig, len) == 0); /* scratch: the frame untouched */
    int nb = oasis_gso_segment(frame, len, &off, NULL, 0, collect, &b, &err_b);
    FUZZ_CHECK(na == nb);
    FUZZ_CHECK(na < 0 ? na == OASIS_EMALFORMED || na == OASIS_ENOTSUP : (size_t)na == a.n);
    if (na > 0) {
        FUZZ_CHECK(a.bytes == b.bytes && memcmp(a.buf, b.buf, a.bytes) == 0);
        FUZZ_CHECK(err_a == (a.n >= 3 ? OASIS_ENOMEM : 0));
        uint8_t base = (uint8_t)(off.gso_type & ~OASIS_GSO_ECN);
        if ((base == OASIS_GSO_TCPV4 || base == OASIS_GSO_TCPV6) && off.gso_size) {
            /* headers + payload pieces: the payload whole, in order */
            int v6 = base == OASIS_GSO_TCPV6;
            size_t hlen = v6 ? 14 + 40 + (size_t)(orig[14 + 40 + 12] >> 4) * 4
                             : 14 + (size_t)(orig[14] & 15) * 4 +
                                   (size_t)(orig[14 + (orig[14] & 15) * 4 + 12] >> 4) * 4;
            size_t total = v6 ? 14 + 40 + (size_t)oasis_get16(orig + 14 + 4)
                              : 14 + (size_t)oasis_get16(orig + 14 + 2);
            size_t off_in = 0, payload = total - hlen;
            for (size_t i = 0; i < a.kept; i++) {
                const uint8_t *p = a.buf + off_in;
                size_t k = a.len[i] - hlen;
                FUZZ_CHECK(a.len[i] >= hlen && k <= off.gso_size);
                check_piece(p, a.len[i], v6);
                off_in += a.len[i];
            }
            if (a.kept == a.n)
                FUZZ_CHECK(a.bytes == a.n * hlen + payload);
        }
    }
    free(a.buf);
    free(b.buf);
    free(frame);
    free(orig);
    free(scratch);
    return 0;
}
