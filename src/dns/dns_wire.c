/* DNS wire format (RFC 1035 section 4, RFC 3596 for AAAA, RFC 6891's OPT). */
#include "dns/dns_wire.h"

#include "core/bytes.h"
#include "oasis/error.h"

#include <stdio.h>
#include <string.h>

/* One octet of a label's text at *p (RFC 1035 5.1): "\DDD" is the octet
 * DDD (0-255), "\X" is X itself (so "\." is a dot inside a label), any
 * other character is itself. Advances *p; -1 on a lone backslash or a
 * DDD over 255. */
static int text_octet(const char **p)
{
    const char *s = *p;
    if (*s != '\\') {
        *p = s + 1;
        return (uint8_t)*s;
    }
    s++;
    if (*s >= '0' && *s <= '9') {
        if (!(s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'))
            return -1; /* exactly three digits */
        int v = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
        *p = s + 3;
        return v <= 255 ? v : -1;
    }
    if (*s == 0)
        return -1;
    *p = s + 1;
    return (uint8_t)*s;
}

int oasis_dns_name_from_text(const char *text, oasis_dns_name *out)
{
    if (!text || !out || !*text)
        return OASIS_EINVAL;
    out->len = 0;
    if (strcmp(text, ".") == 0) {
        out->b[0] = 0;
        out->len = 1;
        return OASIS_OK;
    }
    const char *p = text;
    while (*p) {
        /* A label runs to the next unescaped dot; its length octet is
         * written once its octets are counted. */
        size_t at = out->len++, n = 0;
        while (*p && *p != '.') {
            int c = text_octet(&p);
            if (c < 0 || n == OASIS_DNS_MAX_LABEL)
                return OASIS_EINVAL;
            /* Room for this octet and the root's zero octet. */
            if (out->len + 2 > OASIS_DNS_MAX_NAME)
                return OASIS_EINVAL;
            out->b[out->len++] = (uint8_t)c;
            n++;
        }
        if (n == 0)
            return OASIS_EINVAL;
        out->b[at] = (uint8_t)n;
        if (*p == '.')
            p++; /* a trailing dot ends the loop with *p == 0 */
    }
    out->b[out->len++] = 0;
    return OASIS_OK;
}

int oasis_dns_text_is_absolute(const char *text)
{
    int dot = 0;
    for (const char *p = text; p && *p;) {
        dot = *p == '.';
        if (dot)
            p++;
        else if (text_octet(&p) < 0)
            return 0;
    }
    return dot;
}

static int plain_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

void oasis_dns_name_to_text(const oasis_dns_name *n, char *buf, size_t cap)
{
    size_t o = 0, i = 0;
    if (cap == 0)
        return;
    buf[0] = 0;
    while (i < n->len && n->b[i] != 0) {
        size_t l = n->b[i++];
        if (o != 0 && o + 1 < cap)
            buf[o++] = '.';
        for (size_t k = 0; k < l && i < n->len; k++, i++) {
            uint8_t c = n->b[i];
            if (plain_char(c)) {
                if (o + 1 < cap)
                    buf[o++] = (char)c;
            } else if (o + 4 < cap) {
                snprintf(buf + o, cap - o, "\\%03u", c);
                o += 4;
            }
        }
    }
    buf[o < cap ? o : cap - 1] = 0;
}

static uint8_t lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c; }

int oasis_dns_name_equal(const oasis_dns_name *a, const oasis_dns_name *b)
{
    if (a->len != b->len)
        return 0;
    /* Length octets are below 64, so lowercasing them changes nothing. */
    for (size_t i = 0; i < a->len; i++)
        if (lower(a->b[i]) != lower(b->b[i]))
            return 0;
    return 1;
}

void oasis_dns_name_lower(oasis_dns_name *n)
{
    for (size_t i = 0; i < n->len; i++)
        n->b[i] = lower(n->b[i]);
}

int oasis_dns_name_concat(const oasis_dns_name *rel, const oasis_dns_name *dom,
                          oasis_dns_name *out)
{
    if (rel->len < 1 || dom->len < 1 || rel->len - 1 + dom->len > OASIS_DNS_MAX_NAME)
        return OASIS_EINVAL;
    size_t k = rel->len - 1; /* rel's labels without its root octet */
    oasis_dns_name n;
    memcpy(n.b, rel->b, k);
    memcpy(n.b + k, dom->b, dom->len);
    n.len = k + dom->len;
    *out = n;
    return OASIS_OK;
}

int oasis_dns_name_read(const uint8_t *msg, size_t len, size_t off, oasis_dns_name *out,
                        size_t *next)
{
    return oasis_dns_name_read_above(msg, len, off, OASIS_DNS_HLEN, out, next);
}

int oasis_dns_name_read_above(const uint8_t *msg, size_t len, size_t off, size_t floor,
                              oasis_dns_name *out, size_t *next)
{
    size_t pos = off, o = 0, after = 0;
    /* Every pointer must land below the lowest place read so far: targets
     * strictly decrease, so no loop can form however labels overlap
     * pointers, and the walk ends within len/2 jumps. */
    size_t lowest = off;
    int jumped = 0;
    /* Pointers to pointers add no octet, so the 255-octet bound does not
     * stop a chain of them; 127 labels at most (2.3.4), one pointer to
     * reach each and one more, is all an honest name needs. */
    unsigned jumps = 0;

    for (;;) {
        if (pos >= len)
            return OASIS_ETRUNCATED;
        uint8_t c = msg[pos];
        if ((c & 0xc0) == 0xc0) {
            if (pos + 1 >= len)
                return OASIS_ETRUNCATED;
            size_t target = (size_t)(c & 0x3f) << 8 | msg[pos + 1];
            if (target >= lowest || target < floor)
                return OASIS_EMALFORMED; /* forward, self, loop, or into the header */
            if (++jumps > OASIS_DNS_MAX_JUMPS)
                return OASIS_EMALFORMED;
            if (!jumped)
                after = pos + 2;
            jumped = 1;
            lowest = target;
            pos = target;
            continue;
        }
        if (c & 0xc0)
            return OASIS_EMALFORMED; /* 01 and 10: no label is longer than 63 */
        if (o + 1 + c > OASIS_DNS_MAX_NAME)
            return OASIS_EMALFORMED; /* over 255 octets with the root's zero */
        if (c == 0) {
            out->b[o++] = 0;
            pos++;
            break;
        }
        if (pos + 1 + c > len)
            return OASIS_ETRUNCATED;
        /* This label plus at least the final zero must still fit. */
        if (o + 1 + c + 1 > OASIS_DNS_MAX_NAME)
            return OASIS_EMALFORMED;
        memcpy(out->b + o, msg + pos, 1 + (size_t)c);
        o += 1 + (size_t)c;
        pos += 1 + (size_t)c;
    }
    out->len = o;
    if (next)
        *next = jumped ? after : pos;
    return OASIS_OK;
}

int oasis_dns_query_build(uint8_t *buf, size_t cap, uint16_t id, const oasis_dns_name *qname,
                          uint16_t qtype, uint16_t edns_size, size_t *out_len)
{
    size_t n = OASIS_DNS_HLEN + qname->len + 4;
    size_t opt = edns_size ? OASIS_DNS_OPT_LEN : 0;
    if (n + opt > cap)
        return OASIS_EMSGSIZE;
    memset(buf, 0, OASIS_DNS_HLEN);
    oasis_put16(buf, id);
    oasis_put16(buf + 2, OASIS_DNS_F_RD);
    oasis_put16(buf + 4, 1); /* QDCOUNT */
    memcpy(buf + OASIS_DNS_HLEN, qname->b, qname->len);
    oasis_put16(buf + OASIS_DNS_HLEN + qname->len, qtype);
    oasis_put16(buf + OASIS_DNS_HLEN + qname->len + 2, OASIS_DNS_CLASS_IN);
    if (opt) {
        /* RFC 6891 6.1.2: NAME 0 (root), TYPE OPT, CLASS the requestor's
         * UDP payload size, TTL 0 (EXTENDED-RCODE 0, VERSION 0, DO 0, Z 0,
         * 6.1.3), RDLEN 0 (no options). */
        uint8_t *o = buf + n;
        o[0] = 0;
        oasis_put16(o + 1, OASIS_DNS_TYPE_OPT);
        oasis_put16(o + 3, edns_size);
        oasis_put32(o + 5, 0);
        oasis_put16(o + 9, 0);
        oasis_put16(buf + 10, 1); /* ARCOUNT */
    }
    *out_len = n + opt;
    return OASIS_OK;
}

/* One resource record at *off: checks its owner name, fixed fields and
 * rdata bounds, and the rdata of the types we read. */
static int read_rr(const uint8_t *msg, size_t len, size_t *off, oasis_dns_rr *rr)
{
    oasis_dns_name scratch;
    size_t p;
    int err = oasis_dns_name_read(msg, len, *off, &scratch, &p);
    if (err)
        return err;
    if (len - p < 10)
        return OASIS_ETRUNCATED;
    rr->name_off = *off;
    rr->type = oasis_get16(msg + p);
    rr->rclass = oasis_get16(msg + p + 2);
    uint32_t ttl = oasis_get32(msg + p + 4);
    rr->ttl = (ttl & 0x80000000u) ? 0 : ttl; /* RFC 2181 8 */
    rr->rdlen = oasis_get16(msg + p + 8);
    rr->rdata_off = p + 10;
    if (len - rr->rdata_off < rr->rdlen)
        return OASIS_ETRUNCATED;
    size_t end = rr->rdata_off + rr->rdlen;

    if (rr->rclass == OASIS_DNS_CLASS_IN) {
        switch (rr->type) {
        case OASIS_DNS_TYPE_A:
            if (rr->rdlen != 4)
                return OASIS_EMALFORMED;
            break;
        case OASIS_DNS_TYPE_AAAA:
            if (rr->rdlen != 16)
                return OASIS_EMALFORMED;
            break;
        case OASIS_DNS_TYPE_CNAME: {
            size_t q;
            /* The name must be read within the rdata (pointers may leave it). */
            err = oasis_dns_name_read(msg, end, rr->rdata_off, &scratch, &q);
            if (err)
                return OASIS_EMALFORMED;
            if (q != end)
                return OASIS_EMALFORMED;
            break;
        }
        case OASIS_DNS_TYPE_SOA: {
            uint32_t min;
            if (oasis_dns_soa_minimum(msg, len, rr, &min))
                return OASIS_EMALFORMED;
            break;
        }
        default:
            break;
        }
    }
    *off = end;
    return OASIS_OK;
}

int oasis_dns_soa_minimum(const uint8_t *msg, size_t len, const oasis_dns_rr *rr,
                          uint32_t *minimum)
{
    oasis_dns_name scratch;
    size_t end = rr->rdata_off + rr->rdlen, p;
    if (end > len)
        return OASIS_EMALFORMED;
    /* MNAME, RNAME, then SERIAL REFRESH RETRY EXPIRE MINIMUM. */
    if (oasis_dns_name_read(msg, end, rr->rdata_off, &scratch, &p) ||
        oasis_dns_name_read(msg, end, p, &scratch, &p) || end - p != 20)
        return OASIS_EMALFORMED;
    uint32_t v = oasis_get32(msg + p + 16);
    *minimum = (v & 0x80000000u) ? 0 : v;
    return OASIS_OK;
}

/* The OPT pseudo-RR rr (read_rr checked its bounds) into m (RFC 6891 6.1). */
static int read_opt(const uint8_t *msg, size_t len, const oasis_dns_rr *rr, oasis_dns_msg *m)
{
    oasis_dns_name owner;
    /* 6.1.1: "it MUST be the only OPT RR in that message". */
    if (m->has_opt)
        return OASIS_EMALFORMED;
    /* 6.1.2: NAME "MUST be 0 (root domain)". */
    if (oasis_dns_name_read(msg, len, rr->name_off, &owner, NULL) || owner.len != 1)
        return OASIS_EMALFORMED;
    /* The options, {OPTION-CODE, OPTION-LENGTH, OPTION-DATA} each (6.1.2),
     * must fill the rdata exactly. None is understood here; unknown ones
     * are ignored (6.1.2). */
    size_t p = rr->rdata_off, end = rr->rdata_off + rr->rdlen;
    while (p < end) {
        if (end - p < 4 || end - p - 4 < oasis_get16(msg + p + 2))
            return OASIS_EMALFORMED;
        p += 4 + (size_t)oasis_get16(msg + p + 2);
    }
    /* CLASS and the raw TTL sit before RDLEN (read_rr clamps its ttl by
     * RFC 2181 8, which does not apply to this TTL: it holds flags). */
    uint32_t ttl = oasis_get32(msg + rr->rdata_off - 6);
    m->has_opt = 1;
    m->opt_udp_size = oasis_get16(msg + rr->rdata_off - 8);
    m->opt_version = (uint8_t)(ttl >> 16);
    m->opt_flags = (uint16_t)ttl;
    /* 6.1.3: EXTENDED-RCODE is the upper 8 bits of a 12-bit RCODE whose
     * lower 4 are the header's. */
    m->rcode = (uint16_t)((ttl >> 24) << 4 | (m->flags & 0xf));
    return OASIS_OK;
}

int oasis_dns_msg_parse(const uint8_t *msg, size_t len, oasis_dns_msg *out)
{
    if (len < OASIS_DNS_HLEN)
        return OASIS_ETRUNCATED;
    out->id = oasis_get16(msg);
    out->flags = oasis_get16(msg + 2);
    out->rcode = (uint16_t)(out->flags & 0xf);
    out->qdcount = oasis_get16(msg + 4);
    out->ancount = oasis_get16(msg + 6);
    out->nscount = oasis_get16(msg + 8);
    out->arcount = oasis_get16(msg + 10);
    out->nan = out->nns = 0;
    out->has_opt = 0;
    out->opt_udp_size = 0;
    out->opt_version = 0;
    out->opt_flags = 0;
    out->has_tsig = 0;
    out->tsig_off = 0;
    /* A response (QR) to a standard query (opcode 0) with our one question. */
    if (!(out->flags & OASIS_DNS_F_QR) || ((out->flags >> 11) & 0xf) != 0 || out->qdcount != 1)
        return OASIS_EMALFORMED;

    size_t off;
    int err = oasis_dns_name_read(msg, len, OASIS_DNS_HLEN, &out->qname, &off);
    if (err)
        return err;
    if (len - off < 4)
        return OASIS_ETRUNCATED;
    out->qtype = oasis_get16(msg + off);
    out->qclass = oasis_get16(msg + off + 2);
    off += 4;
    if (out->flags & OASIS_DNS_F_TC)
        return OASIS_OK; /* the rest is asked again over TCP */

    for (unsigned i = 0; i < out->ancount; i++) {
        oasis_dns_rr rr;
        if ((err = read_rr(msg, len, &off, &rr)) != 0)
            return err;
        /* RFC 6891 6.1.1: an OPT belongs in the additional section only;
         * RFC 8945 5.2: a TSIG too, as its last record. */
        if (rr.type == OASIS_DNS_TYPE_OPT || rr.type == OASIS_DNS_TYPE_TSIG)
            return OASIS_EMALFORMED;
        if (out->nan < OASIS_DNS_MAX_RR)
            out->an[out->nan++] = rr;
    }
    for (unsigned i = 0; i < out->nscount; i++) {
        oasis_dns_rr rr;
        if ((err = read_rr(msg, len, &off, &rr)) != 0)
            return err;
        if (rr.type == OASIS_DNS_TYPE_OPT || rr.type == OASIS_DNS_TYPE_TSIG)
            return OASIS_EMALFORMED;
        if (out->nns < OASIS_DNS_MAX_RR)
            out->ns[out->nns++] = rr;
    }
    for (unsigned i = 0; i < out->arcount; i++) {
        oasis_dns_rr rr;
        if ((err = read_rr(msg, len, &off, &rr)) != 0)
            return err;
        if (rr.type == OASIS_DNS_TYPE_OPT && (err = read_opt(msg, len, &rr, out)) != 0)
            return err;
        if (rr.type == OASIS_DNS_TYPE_TSIG) {
            /* RFC 8945 5.2: the TSIG RR must be the last record of the
             * additional section (so there is one at most). */
            if (i + 1 != out->arcount)
                return OASIS_EMALFORMED;
            out->has_tsig = 1;
            out->tsig_off = rr.name_off;
        }
    }
    return OASIS_OK;
}

static uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }

int oasis_dns_answer_extract(const uint8_t *msg, size_t len, const oasis_dns_msg *m,
                             uint16_t qtype, unsigned max_cname, uint8_t *addrs, size_t max_addr,
                             oasis_dns_answer *out)
{
    size_t alen = qtype == OASIS_DNS_TYPE_AAAA ? 16 : 4;
    oasis_dns_name owner;

    memset(out, 0, sizeof *out);
    out->canonical = m->qname;
    out->ttl = UINT32_MAX;
    for (;;) {
        uint32_t ttl = UINT32_MAX;
        for (size_t i = 0; i < m->nan; i++) {
            const oasis_dns_rr *rr = &m->an[i];
            if (rr->type != qtype || rr->rclass != OASIS_DNS_CLASS_IN || rr->rdlen != alen)
                continue;
            if (oasis_dns_name_read(msg, len, rr->name_off, &owner, NULL))
                return OASIS_EMALFORMED;
            if (!oasis_dns_name_equal(&owner, &out->canonical))
                continue;
            ttl = min32(ttl, rr->ttl); /* RFC 2181 5.2: differing TTLs, use the least */
            if (out->naddr < max_addr)
                memcpy(addrs + alen * out->naddr++, msg + rr->rdata_off, alen);
        }
        if (out->naddr > 0) {
            out->ttl = min32(out->ttl, ttl);
            break;
        }
        const oasis_dns_rr *cn = NULL;
        for (size_t i = 0; i < m->nan && !cn; i++) {
            const oasis_dns_rr *rr = &m->an[i];
            if (rr->type != OASIS_DNS_TYPE_CNAME || rr->rclass != OASIS_DNS_CLASS_IN)
                continue;
            if (oasis_dns_name_read(msg, len, rr->name_off, &owner, NULL))
                return OASIS_EMALFORMED;
            if (oasis_dns_name_equal(&owner, &out->canonical))
                cn = rr;
        }
        if (!cn)
            break; /* the chain ends without an address here */
        /* Past max_cname, or past one link per record of the answer: a
         * chain that long has taken a record twice, a loop (RFC 1034 3.6.2),
         * caught however large max_cname is. */
        if (++out->cnames > max_cname || out->cnames > m->nan)
            return 1;
        if (oasis_dns_name_read(msg, cn->rdata_off + cn->rdlen, cn->rdata_off, &out->canonical,
                                NULL))
            return OASIS_EMALFORMED;
        out->ttl = min32(out->ttl, cn->ttl);
    }
    int ns = 0;
    for (size_t i = 0; i < m->nns; i++) {
        uint32_t min;
        const oasis_dns_rr *rr = &m->ns[i];
        if (rr->rclass != OASIS_DNS_CLASS_IN)
            continue;
        if (rr->type == OASIS_DNS_TYPE_NS)
            ns = 1;
        if (rr->type == OASIS_DNS_TYPE_SOA && !out->neg_ttl_known &&
            oasis_dns_soa_minimum(msg, len, rr, &min) == 0) {
            out->neg_ttl_known = 1;
            out->neg_ttl = min32(rr->ttl, min); /* RFC 2308 5 */
        }
    }
    out->referral = ns && !out->neg_ttl_known; /* RFC 2308 2.2 */
    return OASIS_OK;
}
