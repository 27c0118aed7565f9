/* DHCPv6 messages: parse (lengths of RFC 8415 21 and RFC 3646) and
 * build. See dhcp6_wire.h. */
#include "dhcp6/dhcp6_wire.h"

#include "core/bytes.h"
#include "ipv6/nd_wire.h"
#include "oasis/error.h"

#include <string.h>

int oasis_dhcp6_domain_next(const uint8_t *body, size_t len, size_t *off, char *out)
{
    /* The same encoding as RFC 8106's DNSSL (RFC 1035 3.1, uncompressed). */
    return oasis_nd_dnssl_next(body, len, off, out);
}

static int domains_ok(const uint8_t *p, size_t len)
{
    char name[OASIS_ND_DNSSL_NAME_MAX + 1];
    size_t off = 0;
    int r;
    while ((r = oasis_dhcp6_domain_next(p, len, &off, name)) == 1)
        ;
    return r == 0;
}

static uint16_t status_of(const uint8_t *p, size_t len)
{
    (void)len; /* the text that may follow is not read */
    return oasis_get16(p);
}

/* The next option of p[*off..len) (RFC 8415 21.1: code, length, data):
 * 1 with *code, *body and *blen set and *off past it; 0 at the end;
 * OASIS_EMALFORMED when a header or body runs past len. */
static int next_opt(const uint8_t *p, size_t len, size_t *off, uint16_t *code,
                    const uint8_t **body, uint16_t *blen)
{
    if (*off >= len)
        return 0;
    if (len - *off < 4)
        return OASIS_EMALFORMED;
    *code = oasis_get16(p + *off);
    *blen = oasis_get16(p + *off + 2);
    if (*blen > len - *off - 4)
        return OASIS_EMALFORMED;
    *body = p + *off + 4;
    *off += 4u + *blen;
    return 1;
}

/* IAADDR body (RFC 8415 21.6). Returns 0 or OASIS_EMALFORMED; *use 0
 * when the address is to be dropped (preferred > valid). */
static int parse_iaaddr(const uint8_t *p, size_t len, oasis_dhcp6_iaaddr *a, int *use)
{
    if (len < 24)
        return OASIS_EMALFORMED;
    memcpy(a->addr.b, p, 16);
    a->preferred_s = oasis_get32(p + 16);
    a->valid_s = oasis_get32(p + 20);
    a->status = OASIS_D6S_NONE;
    size_t off = 24;
    uint16_t code, olen;
    const uint8_t *o;
    int r;
    while ((r = next_opt(p, len, &off, &code, &o, &olen)) == 1) {
        if (code == OASIS_D6O_STATUS_CODE) {
            if (olen < 2)
                return OASIS_EMALFORMED;
            a->status = status_of(o, olen);
        }
    }
    if (r)
        return r;
    *use = a->preferred_s <= a->valid_s;
    return OASIS_OK;
}

/* IA_NA body (RFC 8415 21.4). */
static int parse_ia_na(const uint8_t *p, size_t len, oasis_dhcp6_msg *m)
{
    if (len < 12)
        return OASIS_EMALFORMED;
    m->t1 = oasis_get32(p + 4);
    m->t2 = oasis_get32(p + 8);
    size_t off = 12;
    uint16_t code, olen;
    const uint8_t *o;
    int r;
    while ((r = next_opt(p, len, &off, &code, &o, &olen)) == 1) {
        if (code == OASIS_D6O_STATUS_CODE) {
            if (olen < 2)
                return OASIS_EMALFORMED;
            m->ia_status = status_of(o, olen);
        } else if (code == OASIS_D6O_IAADDR) {
            oasis_dhcp6_iaaddr a;
            int use = 0;
            if (parse_iaaddr(o, olen, &a, &use) != OASIS_OK)
                return OASIS_EMALFORMED;
            if (use && m->naddrs < OASIS_DHCP6_MAX_ADDRS)
                m->addrs[m->naddrs++] = a;
        }
    }
    return r;
}

static int parse_opt(oasis_dhcp6_msg *m, uint16_t code, const uint8_t *p, size_t len,
                     uint32_t want_iaid)
{
    switch (code) {
    case OASIS_D6O_CLIENTID:
    case OASIS_D6O_SERVERID: {
        const uint8_t **dst = code == OASIS_D6O_CLIENTID ? &m->client_id : &m->server_id;
        size_t *dlen = code == OASIS_D6O_CLIENTID ? &m->client_id_len : &m->server_id_len;
        if (len < 3 || len > OASIS_DHCP6_DUID_MAX || *dst)
            return OASIS_EMALFORMED;
        *dst = p;
        *dlen = len;
        return OASIS_OK;
    }
    case OASIS_D6O_PREFERENCE:
        if (len != 1)
            return OASIS_EMALFORMED;
        m->has_preference = 1;
        m->preference = p[0];
        return OASIS_OK;
    case OASIS_D6O_RAPID_COMMIT:
        if (len != 0)
            return OASIS_EMALFORMED;
        m->rapid_commit = 1;
        return OASIS_OK;
    case OASIS_D6O_STATUS_CODE:
        if (len < 2)
            return OASIS_EMALFORMED;
        m->status = status_of(p, len);
        return OASIS_OK;
    case OASIS_D6O_IA_NA:
        if (len < 12)
            return OASIS_EMALFORMED;
        if (m->has_ia || oasis_get32(p) != want_iaid)
            return OASIS_OK;
        m->has_ia = 1;
        {
            int r = parse_ia_na(p, len, m);
            /* 21.4: T1 > T2, both non-zero: the IA_NA is discarded and the
             * message read as if the server had not put it. */
            if (r == OASIS_OK && m->t1 && m->t2 && m->t1 > m->t2) {
                m->has_ia = 0;
                m->t1 = m->t2 = 0;
                m->ia_status = OASIS_D6S_NONE;
                m->naddrs = 0;
            }
            return r;
        }
    case OASIS_D6O_DNS_SERVERS:
        if (len % 16)
            return OASIS_EMALFORMED;
        for (size_t off = 0; off < len && m->ndns < OASIS_DHCP6_MAX_DNS_WIRE; off += 16)
            memcpy(m->dns[m->ndns++].b, p + off, 16);
        return OASIS_OK;
    case OASIS_D6O_DOMAIN_LIST:
        if (!domains_ok(p, len))
            return OASIS_EMALFORMED;
        m->domains = p;
        m->domains_len = len;
        return OASIS_OK;
    case OASIS_D6O_INFO_REFRESH_TIME:
    case OASIS_D6O_SOL_MAX_RT:
    case OASIS_D6O_INF_MAX_RT:
        if (len != 4)
            return OASIS_EMALFORMED;
        if (code == OASIS_D6O_INFO_REFRESH_TIME) {
            m->has_refresh = 1;
            m->refresh_s = oasis_get32(p);
        } else if (code == OASIS_D6O_SOL_MAX_RT) {
            m->sol_max_rt = oasis_get32(p);
        } else {
            m->inf_max_rt = oasis_get32(p);
        }
        return OASIS_OK;
    default:
        return OASIS_OK; /* RFC 8415 16: unknown options are ignored */
    }
}

int oasis_dhcp6_parse(const uint8_t *buf, size_t len, uint32_t want_iaid, oasis_dhcp6_msg *out)
{
    memset(out, 0, sizeof *out);
    out->status = OASIS_D6S_NONE;
    out->ia_status = OASIS_D6S_NONE;
    if (!buf || len < OASIS_DHCP6_HDR_LEN)
        return OASIS_ETRUNCATED;
    out->type = buf[0];
    out->xid = (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
    size_t off = OASIS_DHCP6_HDR_LEN;
    uint16_t code, olen;
    const uint8_t *o;
    int r;
    while ((r = next_opt(buf, len, &off, &code, &o, &olen)) == 1) {
        int err = parse_opt(out, code, o, olen, want_iaid);
        if (err)
            return err;
    }
    return r;
}

/* ---- building ---- */

static uint8_t *room(oasis_dhcp6_builder *b, size_t n)
{
    if (b->err || b->cap - b->len < n) {
        b->err = 1;
        return NULL;
    }
    uint8_t *p = b->buf + b->len;
    b->len += n;
    return p;
}

void oasis_dhcp6_build_start(oasis_dhcp6_builder *b, uint8_t *buf, size_t cap, uint8_t type,
                             uint32_t xid)
{
    b->buf = buf;
    b->cap = cap;
    b->len = 0;
    b->err = 0;
    uint8_t *p = room(b, OASIS_DHCP6_HDR_LEN);
    if (!p)
        return;
    p[0] = type;
    p[1] = (uint8_t)(xid >> 16);
    p[2] = (uint8_t)(xid >> 8);
    p[3] = (uint8_t)xid;
}

void oasis_dhcp6_build_opt(oasis_dhcp6_builder *b, uint16_t code, const void *data, size_t len)
{
    uint8_t *p = len <= 0xffff ? room(b, 4 + len) : NULL;
    if (!p) {
        b->err = 1;
        return;
    }
    oasis_put16(p, code);
    oasis_put16(p + 2, (uint16_t)len);
    if (len)
        memcpy(p + 4, data, len);
}

void oasis_dhcp6_build_opt16(oasis_dhcp6_builder *b, uint16_t code, uint16_t v)
{
    uint8_t d[2];
    oasis_put16(d, v);
    oasis_dhcp6_build_opt(b, code, d, 2);
}

void oasis_dhcp6_build_ia_na(oasis_dhcp6_builder *b, uint32_t iaid, uint32_t t1, uint32_t t2,
                             const oasis_in6 *addrs, const uint32_t *preferred,
                             const uint32_t *valid, size_t n)
{
    size_t body = 12 + n * (4 + 24);
    uint8_t *p = room(b, 4 + body);
    if (!p)
        return;
    oasis_put16(p, OASIS_D6O_IA_NA);
    oasis_put16(p + 2, (uint16_t)body);
    oasis_put32(p + 4, iaid);
    oasis_put32(p + 8, t1);
    oasis_put32(p + 12, t2);
    p += 16;
    for (size_t i = 0; i < n; i++, p += 28) {
        oasis_put16(p, OASIS_D6O_IAADDR);
        oasis_put16(p + 2, 24);
        memcpy(p + 4, addrs[i].b, 16);
        oasis_put32(p + 20, preferred[i]);
        oasis_put32(p + 24, valid[i]);
    }
}

size_t oasis_dhcp6_build_end(oasis_dhcp6_builder *b) { return b->err ? 0 : b->len; }
