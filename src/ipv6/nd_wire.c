/* Neighbour Discovery and MLDv2 wire formats (RFC 4861 4, RFC 3810 5). */
#include "ipv6/nd_wire.h"

#include "core/bytes.h"
#include "link/eth_wire.h"
#include "oasis/error.h"

#include <string.h>

/* The link-layer address option a message type carries (RFC 4861 4.6.1):
 * the source's in RS, RA and NS, the target's in NA and redirect. */
static uint8_t lla_option_of(uint8_t type)
{
    return type == OASIS_ICMP6_NA || type == OASIS_ICMP6_REDIRECT ? OASIS_ND_OPT_TLLA
                                                                 : OASIS_ND_OPT_SLLA;
}

/* An RA's RDNSS or DNSSL option p[0..olen). RFC 8106 5.1: an RDNSS
 * Length is 1 + 2 x servers, at least 3; 5.2: a DNSSL one at least 2. A
 * malformed option is skipped alone: the RA's other options stand. */
static void dns_opt(const uint8_t *p, size_t olen, oasis_nd_opts *o)
{
    int rdnss = p[0] == OASIS_ND_OPT_RDNSS;
    int *n = rdnss ? &o->nrdnss : &o->ndnssl;
    int ok = rdnss ? p[1] >= 3 && (p[1] & 1) : p[1] >= 2;
    if (!ok || *n == OASIS_ND_MAX_DNS_OPTS) {
        o->dns_opts_ignored++;
        return;
    }
    if (!rdnss) { /* every name must read; one bad name spoils the list */
        char name[OASIS_ND_DNSSL_NAME_MAX + 1];
        size_t off = 0;
        int r;
        while ((r = oasis_nd_dnssl_next(p + 8, olen - 8, &off, name)) == 1)
            ;
        if (r < 0) {
            o->dns_opts_ignored++;
            return;
        }
    }
    struct oasis_nd_dns_opt *d = rdnss ? &o->rdnss[*n] : &o->dnssl[*n];
    (*n)++;
    d->body = p + 8;
    d->len = olen - 8;
    d->lifetime_s = oasis_get32(p + 4);
}

static int label_byte_ok(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

int oasis_nd_dnssl_next(const uint8_t *body, size_t len, size_t *off, char *out)
{
    size_t i = *off, o = 0, wire = 1; /* wire: the name's encoded length, root byte included */
    if (i >= len || body[i] == 0) {
        for (; i < len; i++) /* padding: zeros to the option's end */
            if (body[i])
                return OASIS_EMALFORMED;
        *off = len;
        return 0;
    }
    for (;;) {
        if (i >= len)
            return OASIS_EMALFORMED;
        uint8_t l = body[i++];
        if (l == 0)
            break;
        if (l > 63 || l > len - i) /* 0x40 and up: pointers and other label types */
            return OASIS_EMALFORMED;
        wire += 1 + l;
        if (wire > 255)
            return OASIS_EMALFORMED;
        if (o)
            out[o++] = '.';
        for (uint8_t k = 0; k < l; k++) {
            if (!label_byte_ok(body[i + k]))
                return OASIS_EMALFORMED;
            out[o++] = (char)body[i + k];
        }
        i += l;
    }
    out[o] = 0;
    *off = i;
    return 1;
}

/* Options from p[0..len) of a message of `type`: each TLV's length (in
 * 8-byte units) is non-zero and inside the message. */
static int parse_opts(uint8_t type, const uint8_t *p, size_t len, oasis_nd_opts *o)
{
    memset(o, 0, sizeof *o);
    while (len > 0) {
        if (len < 2 || p[1] == 0)
            return OASIS_EMALFORMED;
        size_t olen = (size_t)p[1] * 8;
        if (olen > len)
            return OASIS_EMALFORMED;
        switch (p[0]) {
        case OASIS_ND_OPT_SLLA:
        case OASIS_ND_OPT_TLLA:
            /* The other message types' option is ignored whatever it holds
             * (6.1.1, 6.1.2, 7.1.1, 7.1.2, 8.1: "processed as normal"). */
            if (p[0] != lla_option_of(type))
                break;
            /* Ethernet: 6 bytes after type and length, an individual
             * address (a group one would make our unicast everyone's) */
            if (olen != 8 || oasis_mac_is_multicast(p + 2))
                return OASIS_EMALFORMED;
            if (p[0] == OASIS_ND_OPT_SLLA)
                o->slla = p + 2;
            else
                o->tlla = p + 2;
            break;
        case OASIS_ND_OPT_PREFIX:
            if (olen != 32 || p[2] > 128 || o->nprefix == OASIS_ND_MAX_PREFIXES) {
                o->prefixes_ignored++;
                break;
            }
            {
                oasis_nd_prefix *pf = &o->prefix[o->nprefix++];
                pf->plen = p[2];
                pf->onlink = (p[3] & 0x80) != 0;
                pf->autonomous = (p[3] & 0x40) != 0;
                pf->valid_s = oasis_get32(p + 4);
                pf->preferred_s = oasis_get32(p + 8);
                memcpy(pf->prefix.b, p + 16, 16);
            }
            break;
        case OASIS_ND_OPT_MTU:
            if (olen == 8) {
                o->has_mtu = 1;
                o->mtu = oasis_get32(p + 4);
            }
            break;
        case OASIS_ND_OPT_REDIRECTED:
            o->redirected = p + 8;
            o->redirected_len = olen - 8;
            break;
        case OASIS_ND_OPT_RDNSS:
        case OASIS_ND_OPT_DNSSL:
            if (type == OASIS_ICMP6_RA)
                dns_opt(p, olen, o);
            break;
        default:
            break;
        }
        p += olen;
        len -= olen;
    }
    return OASIS_OK;
}

int oasis_nd_parse(const uint8_t *msg, size_t len, oasis_nd_msg *out)
{
    size_t fixed;
    if (len < 4)
        return OASIS_ETRUNCATED;
    switch (msg[0]) {
    case OASIS_ICMP6_RS: fixed = 8; break;
    case OASIS_ICMP6_RA: fixed = 16; break;
    case OASIS_ICMP6_NS:
    case OASIS_ICMP6_NA: fixed = 24; break;
    case OASIS_ICMP6_REDIRECT: fixed = 40; break;
    default: return OASIS_EMALFORMED;
    }
    if (msg[1] != 0)
        return OASIS_EMALFORMED;
    if (len < fixed)
        return OASIS_ETRUNCATED;
    memset(out, 0, sizeof *out);
    out->type = msg[0];
    switch (msg[0]) {
    case OASIS_ICMP6_RA:
        out->cur_hop_limit = msg[4];
        out->ra_flags = msg[5];
        out->router_lifetime_s = oasis_get16(msg + 6);
        out->reachable_ms = oasis_get32(msg + 8);
        out->retrans_ms = oasis_get32(msg + 12);
        break;
    case OASIS_ICMP6_NA:
        out->na_flags = msg[4] & 0xe0;
        /* fall through */
    case OASIS_ICMP6_NS:
    case OASIS_ICMP6_REDIRECT:
        memcpy(out->target.b, msg + 8, 16);
        if (msg[0] == OASIS_ICMP6_REDIRECT) {
            memcpy(out->dest.b, msg + 24, 16);
            if (oasis_in6_is_multicast(&out->dest))
                return OASIS_EMALFORMED;
        } else if (oasis_in6_is_multicast(&out->target)) {
            return OASIS_EMALFORMED;
        }
        break;
    default:
        break;
    }
    return parse_opts(msg[0], msg + fixed, len - fixed, &out->opts);
}

static size_t put_lladdr(uint8_t *p, uint8_t type, const uint8_t *mac)
{
    if (!mac)
        return 0;
    p[0] = type;
    p[1] = 1;
    memcpy(p + 2, mac, 6);
    return 8;
}

size_t oasis_nd_emit_rs(uint8_t *buf, const uint8_t *slla)
{
    memset(buf, 0, 8);
    buf[0] = OASIS_ICMP6_RS;
    return 8 + put_lladdr(buf + 8, OASIS_ND_OPT_SLLA, slla);
}

size_t oasis_nd_emit_ns(uint8_t *buf, const oasis_in6 *target, const uint8_t *slla)
{
    memset(buf, 0, 8);
    buf[0] = OASIS_ICMP6_NS;
    memcpy(buf + 8, target->b, 16);
    return 24 + put_lladdr(buf + 24, OASIS_ND_OPT_SLLA, slla);
}

size_t oasis_nd_emit_na(uint8_t *buf, const oasis_in6 *target, uint8_t flags, const uint8_t *tlla)
{
    memset(buf, 0, 8);
    buf[0] = OASIS_ICMP6_NA;
    buf[4] = flags & 0xe0;
    memcpy(buf + 8, target->b, 16);
    return 24 + put_lladdr(buf + 24, OASIS_ND_OPT_TLLA, tlla);
}

/* RFC 3810 5.1.3: codes from 32768 up are a floating-point value. */
static uint32_t decode_mrc(uint16_t c)
{
    if (c < 32768)
        return c;
    uint32_t mant = c & 0x0fff, exp = (c >> 12) & 7;
    return (mant | 0x1000) << (exp + 3);
}

int oasis_mld_parse_query(const uint8_t *msg, size_t len, oasis_mld_query *out)
{
    if (len < 24)
        return OASIS_ETRUNCATED;
    if (msg[0] != OASIS_ICMP6_MLD_QUERY)
        return OASIS_EMALFORMED;
    memset(out, 0, sizeof *out);
    memcpy(out->group.b, msg + 8, 16);
    if (!oasis_in6_is_unspecified(&out->group) && !oasis_in6_is_multicast(&out->group))
        return OASIS_EMALFORMED;
    if (len == 24) { /* MLDv1 (RFC 2710): milliseconds as they are */
        out->max_resp_ms = oasis_get16(msg + 4);
        return OASIS_OK;
    }
    if (len < 28)
        return OASIS_ETRUNCATED;
    out->v2 = 1;
    out->max_resp_ms = decode_mrc(oasis_get16(msg + 4));
    out->nsources = oasis_get16(msg + 26);
    if ((size_t)out->nsources * 16 > len - 28)
        return OASIS_ETRUNCATED;
    out->sources = msg + 28;
    return OASIS_OK;
}

int oasis_mld_parse_report(const uint8_t *msg, size_t len)
{
    if (len < 8)
        return OASIS_ETRUNCATED;
    if (msg[0] != OASIS_ICMP6_MLD2_REPORT)
        return OASIS_EMALFORMED;
    int n = oasis_get16(msg + 6);
    size_t off = 8;
    for (int i = 0; i < n; i++) {
        if (len - off < 20)
            return OASIS_ETRUNCATED;
        size_t rec = 20 + (size_t)oasis_get16(msg + off + 2) * 16 + (size_t)msg[off + 1] * 4;
        if (rec > len - off)
            return OASIS_ETRUNCATED;
        off += rec;
    }
    return n;
}

size_t oasis_mld1_emit(uint8_t *buf, uint8_t type, const oasis_in6 *group)
{
    memset(buf, 0, 8); /* code, checksum, Maximum Response Delay 0, reserved */
    buf[0] = type;
    memcpy(buf + 8, group->b, 16);
    return 24;
}

int oasis_mld1_parse(const uint8_t *msg, size_t len, oasis_in6 *group)
{
    if (len < 24)
        return OASIS_ETRUNCATED;
    if (msg[0] != OASIS_ICMP6_MLD_REPORT && msg[0] != OASIS_ICMP6_MLD_DONE)
        return OASIS_EMALFORMED;
    memcpy(group->b, msg + 8, 16);
    return oasis_in6_is_multicast(group) ? OASIS_OK : OASIS_EMALFORMED;
}

size_t oasis_mld_emit_report(uint8_t *buf, const oasis_in6 *groups, int n, uint8_t rec_type)
{
    memset(buf, 0, 8);
    buf[0] = OASIS_ICMP6_MLD2_REPORT;
    oasis_put16(buf + 6, (uint16_t)n);
    uint8_t *r = buf + 8;
    for (int i = 0; i < n; i++, r += 20) {
        r[0] = rec_type;
        r[1] = 0;      /* aux data length */
        r[2] = r[3] = 0; /* sources */
        memcpy(r + 4, groups[i].b, 16);
    }
    return 8 + 20 * (size_t)n;
}

size_t oasis_mld_emit_record(uint8_t *buf, const oasis_in6 *group, uint8_t rec_type,
                             const oasis_in6 *src, int nsrc)
{
    memset(buf, 0, 8);
    buf[0] = OASIS_ICMP6_MLD2_REPORT;
    oasis_put16(buf + 6, 1);
    uint8_t *r = buf + 8;
    r[0] = rec_type;
    r[1] = 0; /* aux data length */
    oasis_put16(r + 2, (uint16_t)nsrc);
    memcpy(r + 4, group->b, 16);
    for (int i = 0; i < nsrc; i++)
        memcpy(r + 20 + 16 * (size_t)i, src[i].b, 16);
    return 28 + 16 * (size_t)nsrc;
}
