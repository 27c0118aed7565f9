/* oasis_ipaddr: parse (RFC 4291 2.2), format (RFC 5952), compare, hash. */
#include "oasis/addr.h"

#include "core/siphash.h"
#include "oasis/error.h"
#include "oasis/ip.h"

#include <stdio.h>
#include <string.h>

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

oasis_ipaddr oasis_ipaddr_v4(uint32_t a)
{
    oasis_ipaddr r;
    memset(&r, 0, sizeof r);
    r.family = OASIS_AF_INET;
    memcpy(r.b, v4_mapped, 12);
    r.b[12] = (uint8_t)(a >> 24);
    r.b[13] = (uint8_t)(a >> 16);
    r.b[14] = (uint8_t)(a >> 8);
    r.b[15] = (uint8_t)a;
    return r;
}

oasis_ipaddr oasis_ipaddr_v6(const uint8_t b[16])
{
    oasis_ipaddr r;
    memset(&r, 0, sizeof r);
    if (!b)
        return r; /* family 0: no address */
    r.family = OASIS_AF_INET6;
    memcpy(r.b, b, 16);
    return r;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A dotted quad of exactly n characters at s (strict, via oasis_addr_parse). */
static int parse_quad_n(const char *s, size_t n, uint8_t out[4])
{
    char tmp[OASIS_IPV4_STRLEN];
    uint32_t v;
    if (n >= sizeof tmp)
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (oasis_addr_parse(tmp, &v) != 0)
        return -1;
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
    return 0;
}

/* RFC 4291 2.2: x:x:x:x:x:x:x:x, "::" once for one or more zero groups,
 * x:x:x:x:x:x:d.d.d.d. Groups are written into a 16-byte buffer; the groups
 * after "::" are moved to the end once their number is known. */
static int parse_v6(const char *s, size_t n, uint8_t out[16])
{
    uint8_t b[16];
    int groups = 0;   /* 16-bit groups written */
    int gap = -1;     /* group index where "::" stands */
    size_t i = 0;

    memset(b, 0, sizeof b);
    if (n >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
        if (i == n)
            goto done;
    } else if (n >= 1 && s[0] == ':') {
        return -1; /* a lone leading colon */
    }
    for (;;) {
        /* One group, or a dotted quad at the end. */
        size_t start = i;
        unsigned v = 0;
        int digits = 0;
        while (i < n && hexval(s[i]) >= 0) {
            v = v << 4 | (unsigned)hexval(s[i]);
            i++;
            digits++;
        }
        if (i < n && s[i] == '.') {
            /* The last 32 bits as a dotted quad: room for two groups needed. */
            if (groups > 6)
                return -1;
            if (parse_quad_n(s + start, n - start, b + 2 * groups) != 0)
                return -1;
            groups += 2;
            i = n;
            break;
        }
        if (digits == 0 || digits > 4 || groups == 8)
            return -1;
        b[2 * groups] = (uint8_t)(v >> 8);
        b[2 * groups + 1] = (uint8_t)v;
        groups++;
        if (i == n)
            break;
        if (s[i] != ':')
            return -1;
        i++;
        if (i < n && s[i] == ':') {
            if (gap >= 0)
                return -1; /* a second "::" */
            gap = groups;
            i++;
            if (i == n)
                break;
        } else if (i == n) {
            return -1; /* a trailing single colon */
        }
    }
done:
    if (gap >= 0) {
        /* "::" stands for at least one zero group (RFC 4291: "one or more"). */
        if (groups > 7)
            return -1;
        int tail = groups - gap;
        memmove(b + 16 - 2 * tail, b + 2 * gap, (size_t)(2 * tail));
        memset(b + 2 * gap, 0, (size_t)(16 - 2 * groups));
    } else if (groups != 8) {
        return -1;
    }
    memcpy(out, b, 16);
    return 0;
}

int oasis_ipaddr_parse(const char *s, oasis_ipaddr *out)
{
    if (!s || !out)
        return OASIS_EINVAL;
    size_t n = strlen(s);
    if (memchr(s, ':', n)) {
        uint8_t b[16];
        if (n >= OASIS_IPADDR_STRLEN || parse_v6(s, n, b) != 0)
            return OASIS_EINVAL;
        *out = oasis_ipaddr_v6(b);
        return OASIS_OK;
    }
    uint32_t v4;
    if (oasis_addr_parse(s, &v4) != 0)
        return OASIS_EINVAL;
    *out = oasis_ipaddr_v4(v4);
    return OASIS_OK;
}

int oasis_ipaddr_parse_host(const char *s, oasis_ipaddr *out)
{
    if (!s || !out)
        return OASIS_EINVAL;
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        char tmp[OASIS_IPADDR_STRLEN];
        oasis_ipaddr a;
        if (n - 2 >= sizeof tmp)
            return OASIS_EINVAL;
        memcpy(tmp, s + 1, n - 2);
        tmp[n - 2] = '\0';
        if (oasis_ipaddr_parse(tmp, &a) != 0 || a.family != OASIS_AF_INET6)
            return OASIS_EINVAL;
        *out = a;
        return OASIS_OK;
    }
    return oasis_ipaddr_parse(s, out);
}

int oasis_ipaddr_cidr_parse(const char *s, oasis_ipaddr *out, uint8_t *prefix_len)
{
    if (!s || !out || !prefix_len)
        return OASIS_EINVAL;
    const char *slash = strrchr(s, '/');
    char tmp[OASIS_IPADDR_STRLEN];
    oasis_ipaddr a;
    if (!slash || (size_t)(slash - s) >= sizeof tmp)
        return OASIS_EINVAL;
    memcpy(tmp, s, (size_t)(slash - s));
    tmp[slash - s] = '\0';
    if (oasis_ipaddr_parse(tmp, &a) != 0)
        return OASIS_EINVAL;
    const char *p = slash + 1;
    unsigned v = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 4) {
        v = v * 10 + (unsigned)(*p - '0');
        p++;
        digits++;
    }
    unsigned max = a.family == OASIS_AF_INET ? 32 : 128;
    if (*p != '\0' || digits == 0 || (digits > 1 && slash[1] == '0') || v > max)
        return OASIS_EINVAL;
    *out = a;
    *prefix_len = (uint8_t)v;
    return OASIS_OK;
}

char *oasis_ipaddr_format(const oasis_ipaddr *a, char *buf)
{
    if (!buf)
        return NULL;
    if (!a) {
        strcpy(buf, "?");
        return buf;
    }
    if (a->family == OASIS_AF_INET)
        return oasis_addr_format(oasis_ipaddr_to_v4(a), buf);
    if (a->family != OASIS_AF_INET6) {
        strcpy(buf, "?");
        return buf;
    }
    const uint8_t *b = a->b;
    char *p = buf;
    /* RFC 5952 5: IPv4-mapped addresses in mixed notation. */
    if (memcmp(b, v4_mapped, 12) == 0) {
        snprintf(buf, OASIS_IPADDR_STRLEN, "::ffff:%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
        return buf;
    }
    unsigned g[8];
    for (int i = 0; i < 8; i++)
        g[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
    /* 4.2.1-4.2.3: the longest run of zero groups, the first when tied, and
     * only a run of two or more. */
    int best = -1, best_len = 1;
    for (int i = 0; i < 8;) {
        if (g[i] != 0) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && g[j] == 0)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            *p++ = ':';
            *p++ = ':';
            i += best_len - 1;
            continue;
        }
        if (i > 0 && i != best + best_len)
            *p++ = ':';
        /* 4.1 no leading zeros; 4.3 lowercase. */
        p += snprintf(p, 6, "%x", g[i]);
    }
    *p = '\0';
    return buf;
}

int oasis_ipaddr_cmp(const oasis_ipaddr *a, const oasis_ipaddr *b)
{
    if (!a || !b) /* NULL sorts first */
        return (b == NULL) - (a == NULL);
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->b, b->b, 16);
}

uint64_t oasis_ipaddr_hash(const oasis_ipaddr *a, const uint8_t key[16])
{
    static const uint8_t zero_key[16];
    uint8_t m[17];
    if (!a)
        return 0;
    if (!key)
        key = zero_key;
    m[0] = a->family;
    memcpy(m + 1, a->b, 16);
    return oasis_siphash24(key, m, sizeof m);
}

int oasis_ipaddr_prefix_eq(const oasis_ipaddr *a, const oasis_ipaddr *b, unsigned prefix_len)
{
    if (!a || !b || a->family != b->family)
        return 0;
    unsigned bits = prefix_len + (a->family == OASIS_AF_INET ? 96 : 0);
    if (bits > 128)
        bits = 128;
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(a->b, b->b, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a->b[full] & mask) == (b->b[full] & mask);
}

int oasis_ipaddr_is_unspecified(const oasis_ipaddr *a)
{
    static const uint8_t zero[16];
    if (!a)
        return 0;
    if (a->family == OASIS_AF_INET)
        return oasis_ipaddr_to_v4(a) == 0;
    return a->family == OASIS_AF_INET6 && memcmp(a->b, zero, 16) == 0;
}

int oasis_ipaddr_is_loopback(const oasis_ipaddr *a)
{
    static const uint8_t one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (!a)
        return 0;
    if (a->family == OASIS_AF_INET)
        return a->b[12] == 127;
    return a->family == OASIS_AF_INET6 && memcmp(a->b, one, 16) == 0;
}

int oasis_ipaddr_is_multicast(const oasis_ipaddr *a)
{
    if (!a)
        return 0;
    if (a->family == OASIS_AF_INET)
        return (a->b[12] >> 4) == 0xe;
    return a->family == OASIS_AF_INET6 && a->b[0] == 0xff;
}

int oasis_ipaddr_is_link_local(const oasis_ipaddr *a)
{
    if (!a)
        return 0;
    if (a->family == OASIS_AF_INET)
        return a->b[12] == 169 && a->b[13] == 254;
    return a->family == OASIS_AF_INET6 && a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80;
}
