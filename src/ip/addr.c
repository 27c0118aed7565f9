/* Address text helpers. Parsing is strict on purpose: an address that one
 * reader (inet_aton) takes as octal and another as decimal, or one with
 * trailing junk, is a configuration error better reported than guessed. */
#include "oasis/error.h"
#include "oasis/ip.h"

#include <stdio.h>

/* A decimal number 0..max: 1..3 digits, no sign, no leading zero (so "01"
 * and "00" are refused, "0" is fine). Returns the position after it or NULL. */
static const char *parse_dec(const char *s, unsigned max, unsigned *out)
{
    unsigned v = 0;
    int n = 0;
    while (s[n] >= '0' && s[n] <= '9') {
        if (n == 3)
            return NULL;
        v = v * 10 + (unsigned)(s[n] - '0');
        n++;
    }
    if (n == 0 || (n > 1 && s[0] == '0') || v > max)
        return NULL;
    *out = v;
    return s + n;
}

/* A dotted quad at s; returns the position after it or NULL. */
static const char *parse_quad(const char *s, uint32_t *out)
{
    uint32_t a = 0;
    for (int i = 0; i < 4; i++) {
        unsigned part;
        if (i > 0 && *s++ != '.')
            return NULL;
        s = parse_dec(s, 255, &part);
        if (!s)
            return NULL;
        a = a << 8 | part;
    }
    *out = a;
    return s;
}

int oasis_addr_parse(const char *s, uint32_t *out)
{
    uint32_t a;
    if (!s || !out)
        return OASIS_EINVAL;
    const char *end = parse_quad(s, &a);
    if (!end || *end != '\0')
        return OASIS_EINVAL;
    *out = a;
    return OASIS_OK;
}

char *oasis_addr_format(uint32_t addr, char *buf)
{
    if (!buf)
        return NULL;
    snprintf(buf, OASIS_IPV4_STRLEN, "%u.%u.%u.%u", (unsigned)(addr >> 24), (unsigned)(addr >> 16 & 0xff),
             (unsigned)(addr >> 8 & 0xff), (unsigned)(addr & 0xff));
    return buf;
}

int oasis_cidr_parse(const char *s, uint32_t *addr, uint8_t *prefix_len)
{
    uint32_t a;
    unsigned p;
    if (!s || !addr || !prefix_len)
        return OASIS_EINVAL;
    const char *end = parse_quad(s, &a);
    if (!end || *end != '/')
        return OASIS_EINVAL;
    end = parse_dec(end + 1, 32, &p);
    if (!end || *end != '\0')
        return OASIS_EINVAL;
    *addr = a;
    *prefix_len = (uint8_t)p;
    return OASIS_OK;
}

uint32_t oasis_netmask(uint8_t prefix_len)
{
    /* Shifting a 32-bit value by 32 is undefined, hence the special cases. */
    if (prefix_len == 0)
        return 0;
    if (prefix_len >= 32)
        return 0xffffffffu;
    return 0xffffffffu << (32 - prefix_len);
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int oasis_mac_parse(const char *s, uint8_t mac[6])
{
    uint8_t m[6];
    if (!s || !mac)
        return OASIS_EINVAL;
    for (int i = 0; i < 6; i++) {
        if (i > 0 && *s++ != ':')
            return OASIS_EINVAL;
        int hi = hex_digit(s[0]);
        int lo = hi < 0 ? -1 : hex_digit(s[1]);
        if (lo < 0)
            return OASIS_EINVAL;
        m[i] = (uint8_t)(hi << 4 | lo);
        s += 2;
    }
    if (*s != '\0')
        return OASIS_EINVAL;
    for (int i = 0; i < 6; i++)
        mac[i] = m[i];
    return OASIS_OK;
}
