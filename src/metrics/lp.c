/* InfluxDB line protocol encoder. One point is one line:
 *   measurement[,tag=value...] field=value[,field=value...] [timestamp]\n
 * A point is validated whole before a byte is written, so a refused point
 * leaves the buffer as it was and the reporter never sends half a line. */
#include "metrics/metrics_impl.h"

#include "core/mem.h"
#include "oasis/error.h"

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Characters that get a backslash, per element. */
#define ESC_MEASUREMENT ", "
#define ESC_KEY ",= " /* tag keys, tag values, field keys */

/* Characters that some reader takes as escaped after a backslash, per
 * element: InfluxDB 1.x also unescapes '=' and '"' in measurements and '"'
 * in field keys (a\=b is measurement a=b); VictoriaMetrics and InfluxDB 3
 * read a doubled backslash as one, InfluxDB 1.x as two. */
#define AMBIG_MEASUREMENT ", =\"\\"
#define AMBIG_TAG ",= \\"
#define AMBIG_FIELD_KEY ",= \"\\"

void oasis_lp_buf_init(oasis_lp_buf *b, size_t max, oasis_alloc_fn alloc, void *alloc_ud)
{
    if (!b)
        return;
    memset(b, 0, sizeof *b);
    b->max = max;
    b->alloc = alloc ? alloc : oasis_default_alloc;
    b->alloc_ud = alloc_ud;
}

void oasis_lp_buf_reset(oasis_lp_buf *b)
{
    if (b)
        b->len = 0;
}

void oasis_lp_buf_free(oasis_lp_buf *b)
{
    if (!b)
        return;
    if (b->data)
        b->alloc(b->alloc_ud, b->data, 0);
    b->data = NULL;
    b->len = b->cap = 0;
}

static int buf_reserve(oasis_lp_buf *b, size_t extra)
{
    if (extra > b->max - b->len)
        return OASIS_EMSGSIZE;
    size_t need = b->len + extra;
    if (need <= b->cap)
        return OASIS_OK;
    size_t ncap = b->cap > 128 ? b->cap : 128;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    if (ncap > b->max)
        ncap = b->max;
    char *p = b->alloc(b->alloc_ud, b->data, ncap);
    if (!p)
        return OASIS_ENOMEM;
    b->data = p;
    b->cap = ncap;
    return OASIS_OK;
}

static int put(oasis_lp_buf *b, const char *s, size_t n)
{
    int rc = buf_reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return OASIS_OK;
}

/* Copies s with a backslash before each character of esc, a run of plain
 * characters at a time. */
static int put_escaped(oasis_lp_buf *b, const char *s, const char *esc)
{
    int rc = OASIS_OK;
    while (*s && !rc) {
        size_t n = strcspn(s, esc);
        if (n)
            rc = put(b, s, n);
        s += n;
        if (*s && !rc) {
            char pair[2] = {'\\', *s++};
            rc = put(b, pair, 2);
        }
    }
    return rc;
}

/* ---- validation ----------------------------------------------------------- */

/* A backslash right before a character a reader takes as escaped there
 * (ambig), or at the very end (the separator after it), would be read as
 * an escape of that character: the line would not mean what we wrote. */
static int name_ok(const char *s, const char *ambig)
{
    if (!metrics_name_ok(s))
        return 0;
    for (const char *p = strchr(s, '\\'); p; p = strchr(p + 1, '\\')) {
        if (p[1] == '\0' || strchr(ambig, p[1]))
            return 0;
    }
    return 1;
}

int metrics_lp_tag_ok(const char *s)
{
    return name_ok(s, AMBIG_TAG);
}

/* InfluxDB refuses a point with a tag or field named "time" (its
 * timestamp's column): the whole batch would come back 400 "partial
 * write", though the other points were stored. */
static int reserved_key(const char *k)
{
    return strcmp(k, "time") == 0;
}

static int tags_ok(const oasis_metric_point *p)
{
    if (p->ntags && !p->tags)
        return 0;
    for (size_t i = 0; i < p->ntags; i++) {
        if (!name_ok(p->tags[i].key, AMBIG_TAG) || !name_ok(p->tags[i].value, AMBIG_TAG) ||
            reserved_key(p->tags[i].key))
            return 0;
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->tags[i].key, p->tags[j].key) == 0)
                return 0;
    }
    return 1;
}

static int field_ok(const oasis_metric_field *f, unsigned flags)
{
    if (!name_ok(f->key, AMBIG_FIELD_KEY) || reserved_key(f->key))
        return OASIS_EINVAL;
    switch (f->type) {
    case OASIS_METRIC_INT:
    case OASIS_METRIC_BOOL:
        return OASIS_OK;
    case OASIS_METRIC_UINT:
        return (flags & OASIS_LP_UNSIGNED) || f->v.u <= INT64_MAX ? OASIS_OK : OASIS_ENOTSUP;
    case OASIS_METRIC_FLOAT:
        return isfinite(f->v.f) ? OASIS_OK : OASIS_EINVAL;
    case OASIS_METRIC_STRING:
        if (!f->v.s || strcspn(f->v.s, "\n\r") != strlen(f->v.s))
            return OASIS_EINVAL;
        return OASIS_OK;
    }
    return OASIS_EINVAL;
}

static int point_ok(const oasis_metric_point *p, unsigned flags)
{
    /* '#' starts a comment line; InfluxDB 1.x skips a tab at the start of
     * a line as whitespace (the measurement would lose it). */
    if (!p || !name_ok(p->measurement, AMBIG_MEASUREMENT) || p->measurement[0] == '#' ||
        p->measurement[0] == '\t')
        return OASIS_EINVAL;
    if (!tags_ok(p) || p->nfields == 0 || !p->fields)
        return OASIS_EINVAL;
    for (size_t i = 0; i < p->nfields; i++) {
        int rc = field_ok(&p->fields[i], flags);
        if (rc)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->fields[i].key, p->fields[j].key) == 0)
                return OASIS_EINVAL;
    }
    if (!(flags & OASIS_LP_NO_TIMESTAMP) && p->timestamp_ns > INT64_MAX)
        return OASIS_EINVAL;
    return OASIS_OK;
}

/* ---- values --------------------------------------------------------------- */

/* The locale may say ',' for the decimal point; line protocol wants '.'. */
static void fix_decimal_point(char *buf)
{
    const char *dp = localeconv()->decimal_point;
    size_t dl = dp ? strlen(dp) : 0;
    if (dl == 0 || (dl == 1 && dp[0] == '.'))
        return;
    char *at = strstr(buf, dp);
    if (at) {
        *at = '.';
        memmove(at + 1, at + dl, strlen(at + dl) + 1);
    }
}

/* Shortest of 15..17 significant digits that reads back as the same double
 * (17 always does for IEEE 754 binary64). */
void metrics_format_double(char *buf, size_t cap, double v)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    fix_decimal_point(buf);
}

static int put_string_value(oasis_lp_buf *b, const char *s)
{
    int rc = put(b, "\"", 1);
    rc = rc ? rc : put_escaped(b, s, "\"\\");
    return rc ? rc : put(b, "\"", 1);
}

static int put_field_value(oasis_lp_buf *b, const oasis_metric_field *f, unsigned flags)
{
    char num[64];
    switch (f->type) {
    case OASIS_METRIC_INT:
        snprintf(num, sizeof num, "%" PRId64 "i", f->v.i);
        break;
    case OASIS_METRIC_UINT:
        snprintf(num, sizeof num, "%" PRIu64 "%c", f->v.u, (flags & OASIS_LP_UNSIGNED) ? 'u' : 'i');
        break;
    case OASIS_METRIC_FLOAT:
        metrics_format_double(num, sizeof num, f->v.f);
        break;
    case OASIS_METRIC_BOOL:
        snprintf(num, sizeof num, "%s", f->v.b ? "true" : "false");
        break;
    case OASIS_METRIC_STRING:
        return put_string_value(b, f->v.s);
    default:
        return OASIS_EINVAL;
    }
    return put(b, num, strlen(num));
}

/* ---- lines ----------------------------------------------------------------- */

/* Tags in key order without sorting the caller's array: each round picks the
 * smallest key above the previous one (keys are distinct, checked before). */
static int put_tags(oasis_lp_buf *b, const oasis_metric_point *p)
{
    const char *prev = NULL;
    for (size_t n = 0; n < p->ntags; n++) {
        const oasis_metric_tag *best = NULL;
        for (size_t i = 0; i < p->ntags; i++) {
            const oasis_metric_tag *t = &p->tags[i];
            if ((!prev || strcmp(t->key, prev) > 0) && (!best || strcmp(t->key, best->key) < 0))
                best = t;
        }
        int rc = put(b, ",", 1);
        rc = rc ? rc : put_escaped(b, best->key, ESC_KEY);
        rc = rc ? rc : put(b, "=", 1);
        rc = rc ? rc : put_escaped(b, best->value, ESC_KEY);
        if (rc)
            return rc;
        prev = best->key;
    }
    return OASIS_OK;
}

static int put_line(oasis_lp_buf *b, const oasis_metric_point *p, unsigned flags)
{
    int rc = put_escaped(b, p->measurement, ESC_MEASUREMENT);
    rc = rc ? rc : put_tags(b, p);
    for (size_t i = 0; !rc && i < p->nfields; i++) {
        rc = put(b, i ? "," : " ", 1);
        rc = rc ? rc : put_escaped(b, p->fields[i].key, ESC_KEY);
        rc = rc ? rc : put(b, "=", 1);
        rc = rc ? rc : put_field_value(b, &p->fields[i], flags);
    }
    if (!rc && !(flags & OASIS_LP_NO_TIMESTAMP)) {
        char ts[32];
        snprintf(ts, sizeof ts, " %" PRIu64, p->timestamp_ns);
        rc = put(b, ts, strlen(ts));
    }
    return rc ? rc : put(b, "\n", 1);
}

int oasis_lp_encode_point(oasis_lp_buf *b, const oasis_metric_point *p, unsigned flags)
{
    if (!b)
        return OASIS_EINVAL;
    int rc = point_ok(p, flags);
    if (rc)
        return rc;
    size_t len0 = b->len;
    rc = put_line(b, p, flags);
    if (rc)
        b->len = len0;
    return rc;
}

int oasis_lp_encode_points(oasis_lp_buf *b, const oasis_metric_point *points, size_t n,
                           unsigned flags, size_t *next, size_t *rejected)
{
    if (!b || !next || (n && !points))
        return OASIS_EINVAL;
    size_t i = 0, bad = 0;
    int rc = OASIS_OK;
    for (; i < n; i++) {
        rc = oasis_lp_encode_point(b, &points[i], flags);
        if (rc == OASIS_OK)
            continue;
        if (rc == OASIS_ENOMEM || (rc == OASIS_EMSGSIZE && b->len > 0))
            break;
        bad++; /* invalid, or too big for a whole buffer */
        rc = OASIS_OK;
    }
    *next = i;
    if (rejected)
        *rejected = bad;
    return rc;
}
