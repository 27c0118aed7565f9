/* TCP header and options parser. Input: one control byte (bit 0: verify the
 * checksum), 8 bytes of pseudo-header addresses, then the segment.
 * Properties: payload inside the buffer, option values within their bounds,
 * and a parsed header emitted again (options in Linux's layout) parses back
 * to the same fields and payload, with a valid checksum. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "oasis/error.h"
#include "tcp/tcp_wire.h"

static void check_roundtrip(const oasis_tcp_hdr *h, uint32_t src, uint32_t dst)
{
    oasis_tcp_hdr e = *h;
    e.hdr_len = 0;
    e.payload = NULL;
    size_t olen = oasis_tcp_options_len(&e);
    FUZZ_CHECK(olen % 4 == 0 && olen <= OASIS_TCP_MAX_HLEN - OASIS_TCP_HLEN);

    size_t total = OASIS_TCP_HLEN + olen + h->payload_len;
    uint8_t *buf = malloc(total);
    if (!buf)
        return;
    memcpy(buf + OASIS_TCP_HLEN + olen, h->payload, h->payload_len);
    size_t hlen = oasis_tcp_emit(buf, &e, h->payload_len, src, dst);
    FUZZ_CHECK(hlen == OASIS_TCP_HLEN + olen);

    oasis_tcp_hdr r;
    FUZZ_CHECK(oasis_tcp_parse(buf, total, src, dst, 1, &r) == 0);
    FUZZ_CHECK(r.hdr_len == hlen && r.payload_len == h->payload_len);
    FUZZ_CHECK(memcmp(r.payload, h->payload, h->payload_len) == 0);
    FUZZ_CHECK(r.src_port == h->src_port && r.dst_port == h->dst_port);
    FUZZ_CHECK(r.seq == h->seq && r.ack == h->ack && r.flags == h->flags);
    FUZZ_CHECK(r.window == h->window && r.urg == h->urg);
    FUZZ_CHECK(r.has_mss == h->has_mss && (!h->has_mss || r.mss == h->mss));
    FUZZ_CHECK(r.has_wscale == h->has_wscale && (!h->has_wscale || r.wscale == h->wscale));
    FUZZ_CHECK(r.sack_permitted == h->sack_permitted && r.has_ts == h->has_ts);
    FUZZ_CHECK(!h->has_ts || (r.ts_val == h->ts_val && r.ts_ecr == h->ts_ecr));
    /* SACK blocks that do not fit next to the other options are dropped
     * from the end; the rest come back in order. */
    FUZZ_CHECK(r.sack_count <= h->sack_count);
    /* The other options take at most 20 bytes, leaving room for 2 blocks. */
    FUZZ_CHECK(r.sack_count >= (h->sack_count < 2 ? h->sack_count : 2));
    for (unsigned i = 0; i < r.sack_count; i++)
        FUZZ_CHECK(r.sack[i].left == h->sack[i].left && r.sack[i].right == h->sack[i].right);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    int verify = fuzz_u8(&in) & 1;
    uint32_t src = fuzz_u32(&in), dst = fuzz_u32(&in);

    oasis_tcp_hdr h;
    int err = oasis_tcp_parse(in.p, in.left, src, dst, verify, &h);
    FUZZ_CHECK(err == 0 || err == OASIS_ETRUNCATED || err == OASIS_EMALFORMED ||
               err == OASIS_ECHECKSUM);
    if (err)
        return 0;
    FUZZ_CHECK(h.hdr_len >= OASIS_TCP_HLEN && h.hdr_len <= OASIS_TCP_MAX_HLEN && h.hdr_len % 4 == 0);
    FUZZ_CHECK(h.hdr_len <= in.left);
    FUZZ_CHECK(h.payload == in.p + h.hdr_len && h.payload_len == in.left - h.hdr_len);
    FUZZ_CHECK(h.sack_count <= OASIS_TCP_MAX_SACK);
    if (h.payload_len + OASIS_TCP_MAX_HLEN <= 65535)
        check_roundtrip(&h, src, dst);
    return 0;
}
