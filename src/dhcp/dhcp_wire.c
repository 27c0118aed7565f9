/* DHCPv4 messages (RFC 2131 2 and 4.1, RFC 2132, RFC 3396). Every length
 * is checked against the field it lives in before a byte of it is read. */
#include "dhcp/dhcp_wire.h"

#include "core/bytes.h"
#include "dns/dns_wire.h"
#include "oasis/dns.h"
#include "oasis/error.h"

#include <string.h>

static const uint8_t magic[4] = {99, 130, 83, 99};

typedef int (*visit_fn)(void *ctx, uint8_t code, const uint8_t *data, size_t len);

/* Walks one field of options: pads skipped, End or the field's last byte
 * ends it; an option whose length runs past the field is malformed. */
static int walk_field(const uint8_t *p, size_t n, visit_fn visit, void *ctx)
{
    size_t i = 0;
    while (i < n) {
        uint8_t code = p[i];
        if (code == OASIS_DHO_PAD) {
            i++;
            continue;
        }
        if (code == OASIS_DHO_END)
            return OASIS_OK;
        if (n - i < 2)
            return OASIS_EMALFORMED; /* a code with no length byte */
        size_t l = p[i + 1];
        if (l > n - i - 2)
            return OASIS_EMALFORMED;
        if (visit) {
            int err = visit(ctx, code, p + i + 2, l);
            if (err)
                return err;
        }
        i += 2 + l;
    }
    return OASIS_OK;
}

/* The options field, then 'file', then 'sname' when overloaded
 * (RFC 2131 4.1 gives this order). */
static int walk_all(const uint8_t *buf, size_t len, uint8_t overload, visit_fn visit, void *ctx)
{
    int err = walk_field(buf + OASIS_DHCP_OPTIONS_OFF, len - OASIS_DHCP_OPTIONS_OFF, visit, ctx);
    if (!err && (overload & 1))
        err = walk_field(buf + OASIS_DHCP_FILE_OFF, OASIS_DHCP_FILE_LEN, visit, ctx);
    if (!err && (overload & 2))
        err = walk_field(buf + OASIS_DHCP_SNAME_OFF, OASIS_DHCP_SNAME_LEN, visit, ctx);
    return err;
}

typedef struct overload_ctx {
    int seen;
    int bad;
    uint8_t value;
} overload_ctx;

static int find_overload(void *vctx, uint8_t code, const uint8_t *data, size_t len)
{
    overload_ctx *c = vctx;
    if (code != OASIS_DHO_OVERLOAD)
        return OASIS_OK;
    /* One byte of 1..3, once: anything else makes the fields ambiguous. */
    if (c->seen || len != 1 || data[0] < 1 || data[0] > 3)
        c->bad = 1;
    c->seen = 1;
    c->value = len == 1 ? data[0] : 0;
    return OASIS_OK;
}

typedef struct gather_ctx {
    uint8_t code;
    uint8_t *dst;
    size_t cap;
    size_t total;
    int found;
} gather_ctx;

static int gather(void *vctx, uint8_t code, const uint8_t *data, size_t len)
{
    gather_ctx *g = vctx;
    if (code != g->code)
        return OASIS_OK;
    g->found = 1;
    if (g->total < g->cap) {
        size_t k = g->cap - g->total < len ? g->cap - g->total : len;
        memcpy(g->dst + g->total, data, k);
    }
    g->total += len;
    return OASIS_OK;
}

static int field_overload(const oasis_dhcp_msg *m) { return m->overload; }

long oasis_dhcp_opt_get(const oasis_dhcp_msg *m, uint8_t code, uint8_t *dst, size_t cap)
{
    gather_ctx g = {code, dst, cap, 0, 0};
    if (!m->buf || m->len < OASIS_DHCP_OPTIONS_OFF || code == OASIS_DHO_PAD ||
        code == OASIS_DHO_END)
        return -1;
    if (walk_all(m->buf, m->len, (uint8_t)field_overload(m), gather, &g) != OASIS_OK || !g.found)
        return -1;
    return (long)g.total;
}

/* Reads a fixed-size option: 1 when present with exactly n bytes, 0 when
 * absent, -1 when present with another length. */
static int get_fixed(const oasis_dhcp_msg *m, uint8_t code, uint8_t *dst, size_t n)
{
    uint8_t tmp[8];
    long l = oasis_dhcp_opt_get(m, code, tmp, sizeof tmp);
    if (l < 0)
        return 0;
    if ((size_t)l != n)
        return -1;
    memcpy(dst, tmp, n);
    return 1;
}

static int get_u32(oasis_dhcp_msg *m, uint8_t code, uint32_t *v, uint32_t bit)
{
    uint8_t b[4];
    int r = get_fixed(m, code, b, 4);
    if (r == 1) {
        *v = oasis_get32(b);
        m->have |= bit;
    }
    return r < 0 ? OASIS_EMALFORMED : OASIS_OK;
}

/* An address list (routers, DNS servers): a non-empty multiple of 4 bytes;
 * the first `max` are kept. */
static int get_addrs(oasis_dhcp_msg *m, uint8_t code, uint32_t *out, uint8_t *n, size_t max,
                     uint32_t bit)
{
    uint8_t b[4 * OASIS_DHCP_MAX_DNS_WIRE];
    size_t cap = 4 * max < sizeof b ? 4 * max : sizeof b;
    long l = oasis_dhcp_opt_get(m, code, b, cap);
    if (l < 0)
        return OASIS_OK;
    if (l == 0 || l % 4 != 0)
        return OASIS_EMALFORMED;
    size_t k = (size_t)l / 4 < max ? (size_t)l / 4 : max;
    for (size_t i = 0; i < k; i++)
        out[i] = oasis_get32(b + 4 * i);
    *n = (uint8_t)k;
    m->have |= bit;
    return OASIS_OK;
}

static void get_domains(oasis_dhcp_msg *m);

int oasis_dhcp_parse(const uint8_t *buf, size_t len, oasis_dhcp_msg *m)
{
    memset(m, 0, sizeof *m);
    if (!buf || len < OASIS_DHCP_OPTIONS_OFF)
        return OASIS_ETRUNCATED;
    if (memcmp(buf + OASIS_DHCP_FIXED_LEN, magic, 4) != 0)
        return OASIS_EMALFORMED;
    m->op = buf[0];
    m->htype = buf[1];
    m->hlen = buf[2];
    m->hops = buf[3];
    if (m->hlen > 16)
        return OASIS_EMALFORMED;
    m->xid = oasis_get32(buf + 4);
    m->secs = oasis_get16(buf + 8);
    m->flags = oasis_get16(buf + 10);
    m->ciaddr = oasis_get32(buf + 12);
    m->yiaddr = oasis_get32(buf + 16);
    m->siaddr = oasis_get32(buf + 20);
    m->giaddr = oasis_get32(buf + 24);
    memcpy(m->chaddr, buf + 28, 16);

    /* Overload may only be said in the options field itself. */
    overload_ctx oc = {0, 0, 0};
    int err = walk_field(buf + OASIS_DHCP_OPTIONS_OFF, len - OASIS_DHCP_OPTIONS_OFF, find_overload,
                         &oc);
    if (err)
        return err;
    if (oc.bad)
        return OASIS_EMALFORMED;
    m->overload = oc.value;
    /* Every field that holds options must be well formed. */
    err = walk_all(buf, len, m->overload, NULL, NULL);
    if (err)
        return err;
    m->buf = buf;
    m->len = len;

    uint8_t b[4];
    int r = get_fixed(m, OASIS_DHO_MSG_TYPE, b, 1);
    if (r < 0 || (r == 1 && (b[0] < OASIS_DHCPDISCOVER || b[0] > OASIS_DHCPINFORM)))
        return OASIS_EMALFORMED;
    m->msg_type = r == 1 ? b[0] : 0;
    if ((err = get_u32(m, OASIS_DHO_SUBNET_MASK, &m->subnet_mask, OASIS_DHCP_HAVE_MASK)) ||
        (err = get_u32(m, OASIS_DHO_LEASE_TIME, &m->lease_time, OASIS_DHCP_HAVE_LEASE)) ||
        (err = get_u32(m, OASIS_DHO_SERVER_ID, &m->server_id, OASIS_DHCP_HAVE_SERVER_ID)) ||
        (err = get_u32(m, OASIS_DHO_T1, &m->t1, OASIS_DHCP_HAVE_T1)) ||
        (err = get_u32(m, OASIS_DHO_T2, &m->t2, OASIS_DHCP_HAVE_T2)) ||
        (err = get_u32(m, OASIS_DHO_REQUESTED_IP, &m->requested_ip, OASIS_DHCP_HAVE_REQUESTED_IP)))
        return err;
    r = get_fixed(m, OASIS_DHO_MTU, b, 2);
    if (r < 0 || (r == 1 && oasis_get16(b) < 68)) /* RFC 2132 5.1: minimum 68 */
        return OASIS_EMALFORMED;
    if (r == 1) {
        m->mtu = oasis_get16(b);
        m->have |= OASIS_DHCP_HAVE_MTU;
    }
    if ((err = get_addrs(m, OASIS_DHO_ROUTER, m->routers, &m->nrouters, OASIS_DHCP_MAX_ROUTERS,
                         OASIS_DHCP_HAVE_ROUTER)) ||
        (err = get_addrs(m, OASIS_DHO_DNS, m->dns, &m->ndns, OASIS_DHCP_MAX_DNS_WIRE,
                         OASIS_DHCP_HAVE_DNS)))
        return err;
    get_domains(m);
    /* RFC 4039 4: Rapid Commit has no data. With some, it is no Rapid
     * Commit we can trust: left out like an unusable domain option. */
    long rl = oasis_dhcp_opt_get(m, OASIS_DHO_RAPID_COMMIT, b, sizeof b);
    if (rl == 0)
        m->have |= OASIS_DHCP_HAVE_RAPID_COMMIT;
    else if (rl > 0)
        m->ignored++;
    long hl = oasis_dhcp_opt_get(m, OASIS_DHO_HOSTNAME, (uint8_t *)m->hostname,
                                 sizeof m->hostname - 1);
    if (hl == 0) /* RFC 2132 3.14: minimum length 1 */
        return OASIS_EMALFORMED;
    if (hl > 0) {
        size_t k = (size_t)hl < sizeof m->hostname - 1 ? (size_t)hl : sizeof m->hostname - 1;
        m->hostname[k] = '\0';
        m->have |= OASIS_DHCP_HAVE_HOSTNAME;
    }
    return OASIS_OK;
}

/* A name in wire form that a search list can use: labels of letters,
 * digits, '-' and '_', not the root. Its text then has no escapes. */
static int usable_domain(const oasis_dns_name *n, char *out)
{
    if (n->len < 2)
        return 0; /* the root */
    for (size_t i = 0; i < n->len && n->b[i] != 0; i += 1 + (size_t)n->b[i])
        for (size_t k = 1; k <= n->b[i]; k++) {
            uint8_t c = n->b[i + k];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_'))
                return 0;
        }
    char text[OASIS_DNS_NAME_STRLEN];
    oasis_dns_name_to_text(n, text, sizeof text);
    if (strlen(text) >= OASIS_DHCP_DOMAIN_STRLEN)
        return 0;
    memcpy(out, text, strlen(text) + 1);
    return 1;
}

int oasis_dhcp_domain_text(const uint8_t *data, size_t len, char *out)
{
    char text[OASIS_DHCP_DOMAIN_STRLEN];
    oasis_dns_name n;
    /* RFC 2132 3.17: minimum length 1; some servers count a final NUL. */
    while (len > 0 && data[len - 1] == 0)
        len--;
    if (len == 0 || len >= sizeof text || memchr(data, 0, len))
        return OASIS_EMALFORMED;
    memcpy(text, data, len);
    text[len] = 0;
    if (oasis_dns_name_from_text(text, &n) != OASIS_OK || !usable_domain(&n, out))
        return OASIS_EMALFORMED;
    return OASIS_OK;
}

int oasis_dhcp_search_read(const uint8_t *data, size_t len,
                           char (*out)[OASIS_DHCP_DOMAIN_STRLEN], size_t max, size_t *n)
{
    size_t off = 0, k = 0;
    *n = 0;
    if (len == 0)
        return OASIS_EMALFORMED;
    /* RFC 3397 2: names one after another, in RFC 1035 form; a pointer
     * counts from the option data's first octet, so floor 0. Any name
     * that does not read spoils the option: the offsets of those after
     * it cannot be trusted. */
    while (off < len) {
        oasis_dns_name name;
        size_t next;
        if (oasis_dns_name_read_above(data, len, off, 0, &name, &next) != OASIS_OK)
            return OASIS_EMALFORMED;
        off = next;
        if (k < max && usable_domain(&name, out[k]))
            k++;
    }
    if (k == 0)
        return OASIS_EMALFORMED;
    *n = k;
    return OASIS_OK;
}

/* Options 15 and 119: unusable ones are counted and left out. */
static void get_domains(oasis_dhcp_msg *m)
{
    uint8_t b[1024]; /* 119 may be longer than one option (RFC 3396) */
    long l = oasis_dhcp_opt_get(m, OASIS_DHO_DOMAIN, b, sizeof b);
    if (l >= 0) {
        if ((size_t)l <= sizeof b && oasis_dhcp_domain_text(b, (size_t)l, m->domain) == 0)
            m->have |= OASIS_DHCP_HAVE_DOMAIN;
        else
            m->ignored++;
    }
    l = oasis_dhcp_opt_get(m, OASIS_DHO_DOMAIN_SEARCH, b, sizeof b);
    if (l >= 0) {
        size_t k;
        if ((size_t)l <= sizeof b &&
            oasis_dhcp_search_read(b, (size_t)l, m->search, OASIS_DHCP_MAX_SEARCH, &k) == 0) {
            m->nsearch = (uint8_t)k;
            m->have |= OASIS_DHCP_HAVE_SEARCH;
        } else {
            m->ignored++;
        }
    }
}

void oasis_dhcp_build_start(oasis_dhcp_builder *b, uint8_t *buf, size_t cap, uint8_t msg_type,
                            uint32_t xid, uint16_t secs, uint16_t flags, uint32_t ciaddr,
                            const uint8_t mac[6])
{
    b->buf = buf;
    b->cap = cap;
    b->len = 0;
    b->err = 0;
    if (cap < OASIS_DHCP_OPTIONS_OFF) {
        b->err = OASIS_EMSGSIZE;
        return;
    }
    memset(buf, 0, OASIS_DHCP_OPTIONS_OFF);
    buf[0] = OASIS_BOOTREQUEST;
    buf[1] = 1; /* Ethernet */
    buf[2] = 6;
    oasis_put32(buf + 4, xid);
    oasis_put16(buf + 8, secs);
    oasis_put16(buf + 10, flags);
    oasis_put32(buf + 12, ciaddr);
    memcpy(buf + 28, mac, 6);
    memcpy(buf + OASIS_DHCP_FIXED_LEN, magic, 4);
    b->len = OASIS_DHCP_OPTIONS_OFF;
    oasis_dhcp_build_opt(b, OASIS_DHO_MSG_TYPE, &msg_type, 1);
}

void oasis_dhcp_build_opt(oasis_dhcp_builder *b, uint8_t code, const void *data, size_t len)
{
    if (b->err)
        return;
    /* Room for this option and the End option after it. */
    if (len > 255 || b->cap - b->len < 2 + len + 1) {
        b->err = OASIS_EMSGSIZE;
        return;
    }
    b->buf[b->len] = code;
    b->buf[b->len + 1] = (uint8_t)len;
    if (len)
        memcpy(b->buf + b->len + 2, data, len);
    b->len += 2 + len;
}

void oasis_dhcp_build_opt32(oasis_dhcp_builder *b, uint8_t code, uint32_t v)
{
    uint8_t x[4];
    oasis_put32(x, v);
    oasis_dhcp_build_opt(b, code, x, 4);
}

void oasis_dhcp_build_opt16(oasis_dhcp_builder *b, uint8_t code, uint16_t v)
{
    uint8_t x[2];
    oasis_put16(x, v);
    oasis_dhcp_build_opt(b, code, x, 2);
}

size_t oasis_dhcp_build_end(oasis_dhcp_builder *b)
{
    if (b->err || b->cap - b->len < 1)
        return 0;
    b->buf[b->len++] = OASIS_DHO_END;
    if (b->len < OASIS_DHCP_MIN_LEN && b->cap >= OASIS_DHCP_MIN_LEN) {
        memset(b->buf + b->len, 0, OASIS_DHCP_MIN_LEN - b->len);
        b->len = OASIS_DHCP_MIN_LEN;
    }
    return b->len;
}

int oasis_dhcp_mask_prefix(uint32_t mask)
{
    uint32_t inv = ~mask;
    if (inv & (inv + 1)) /* the host part must be all ones from the bottom */
        return -1;
    int n = 0;
    while (n < 32 && (mask & (0x80000000u >> n)))
        n++;
    return n;
}
