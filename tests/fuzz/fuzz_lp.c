/* InfluxDB line-protocol encoder (oasis_lp_encode_point / _points).
 *
 * Input: [flags][max:16][timestamp:64][ntags|nfields<<4] then strings and
 * values (see read_point). Strings draw mostly from the characters that
 * need escaping. Properties, from the contract in include/oasis/metrics.h:
 *  - a point the contract calls invalid is refused (OASIS_EINVAL, or
 *    OASIS_ENOTSUP for a uint over INT64_MAX without OASIS_LP_UNSIGNED);
 *  - any refusal leaves the buffer byte for byte as it was;
 *  - an accepted point appends exactly one line that an independent
 *    line-protocol reader (below) parses back to the same measurement, tags
 *    (sorted), fields, values and timestamp;
 *  - the buffer never exceeds its max, and the batch encoder only ever
 *    leaves whole lines;
 *  - with a failing allocator nothing leaks and nothing crashes. */
#include "fuzz.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "oasis/error.h"
#include "oasis/metrics.h"

#define MAXN 8
#define STRCAP 80

typedef struct lp_case {
    unsigned flags;
    int fail_alloc;
    size_t max;
    char strs[1 + 2 * MAXN + 2 * MAXN][STRCAP];
    int nstr;
    oasis_metric_tag tags[MAXN];
    oasis_metric_field fields[MAXN];
    oasis_metric_point p;
    size_t live;   /* allocator: live blocks */
} lp_case;

/* ---- input ------------------------------------------------------------------ */

static const char alphabet[] = " ,=\\\"\n\r#\tabcxyzAZ09._-u";

/* A string (NULL when the length byte is 0xff). */
static const char *read_str(lp_case *c, fuzz_in *in)
{
    uint8_t n = fuzz_u8(in);
    if (n == 0xff)
        return NULL;
    char *s = c->strs[c->nstr++];
    size_t len = n % (STRCAP - 1);
    for (size_t i = 0; i < len; i++) {
        uint8_t b = fuzz_u8(in);
        s[i] = b >= 0x80 ? (char)b : alphabet[b % (sizeof alphabet - 1)];
    }
    s[len] = 0;
    return s;
}

static uint64_t read_u64(fuzz_in *in)
{
    uint64_t hi = fuzz_u32(in);
    return hi << 32 | fuzz_u32(in);
}

static void read_field(lp_case *c, fuzz_in *in, oasis_metric_field *f)
{
    f->key = read_str(c, in);
    f->type = (oasis_metric_type)(fuzz_u8(in) % 5);
    uint64_t v;
    switch (f->type) {
    case OASIS_METRIC_INT: f->v.i = (int64_t)read_u64(in); break;
    case OASIS_METRIC_UINT: f->v.u = read_u64(in); break;
    case OASIS_METRIC_FLOAT:
        v = read_u64(in);
        memcpy(&f->v.f, &v, sizeof v);
        break;
    case OASIS_METRIC_BOOL: f->v.b = fuzz_u8(in) & 1; break;
    default: f->v.s = read_str(c, in); break;
    }
}

static void read_point(lp_case *c, fuzz_in *in)
{
    uint8_t fl = fuzz_u8(in);
    c->flags = fl & 3;
    c->fail_alloc = (fl >> 2) & 1;
    c->max = (size_t)fuzz_u16(in) + 1;
    c->p.timestamp_ns = read_u64(in);
    uint8_t counts = fuzz_u8(in);
    c->p.ntags = counts % MAXN;
    c->p.nfields = (counts >> 4) % MAXN;
    c->p.measurement = read_str(c, in);
    for (size_t i = 0; i < c->p.ntags; i++) {
        c->tags[i].key = read_str(c, in);
        c->tags[i].value = read_str(c, in);
    }
    for (size_t i = 0; i < c->p.nfields; i++)
        read_field(c, in, &c->fields[i]);
    c->p.tags = c->tags;
    c->p.fields = c->fields;
}

/* ---- the contract's validity rules ------------------------------------------ */

/* Non-empty, no newline, and no backslash that ends the name or precedes a
 * character a reader unescapes in this position (the set given). */
static int name_ok(const char *s, const char *escaped)
{
    if (!s || !*s)
        return 0;
    for (const char *q = s; *q; q++) {
        if (*q == '\n' || *q == '\r')
            return 0;
        if (*q == '\\' && (q[1] == 0 || strchr(escaped, q[1])))
            return 0;
    }
    return 1;
}

/* 1 valid, 0 invalid, -1 the contract does not say (any error is fine). */
static int point_valid(const lp_case *c)
{
    const oasis_metric_point *p = &c->p;
    /* metrics.h: a backslash before what some reader unescapes there, a
     * '#' or tab first in the measurement, a key "time": refused. */
    if (!name_ok(p->measurement, ", =\"\\") || p->measurement[0] == '#' ||
        p->measurement[0] == '\t' || p->nfields == 0)
        return 0;
    for (size_t i = 0; i < p->ntags; i++) {
        if (!name_ok(p->tags[i].key, ",= \\") || !name_ok(p->tags[i].value, ",= \\") ||
            strcmp(p->tags[i].key, "time") == 0)
            return 0;
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->tags[i].key, p->tags[j].key) == 0)
                return 0;
    }
    int unknown = 0;
    for (size_t i = 0; i < p->nfields; i++) {
        const oasis_metric_field *f = &p->fields[i];
        if (!name_ok(f->key, ",= \"\\") || strcmp(f->key, "time") == 0)
            return 0;
        for (size_t j = 0; j < i; j++)
            if (strcmp(f->key, p->fields[j].key) == 0)
                return 0;
        if (f->type == OASIS_METRIC_FLOAT && !isfinite(f->v.f))
            return 0;
        if (f->type == OASIS_METRIC_STRING) {
            if (!f->v.s)
                unknown = 1;
            else if (strchr(f->v.s, '\n') || strchr(f->v.s, '\r'))
                return 0;
        }
    }
    if (p->timestamp_ns > INT64_MAX)
        return (c->flags & OASIS_LP_NO_TIMESTAMP) ? -1 : 0;
    return unknown ? -1 : 1;
}

static int uint_unsupported(const lp_case *c)
{
    if (c->flags & OASIS_LP_UNSIGNED)
        return 0;
    for (size_t i = 0; i < c->p.nfields; i++)
        if (c->fields[i].type == OASIS_METRIC_UINT && c->fields[i].v.u > INT64_MAX)
            return 1;
    return 0;
}

/* ---- an independent line-protocol reader ------------------------------------- */

/* Reads a name up to an unescaped character of `stops`, undoing the
 * backslash escapes of `escaped`. */
static const char *read_name(const char *q, const char *end, const char *stops,
                             const char *escaped, char *out, size_t cap)
{
    size_t n = 0;
    while (q < end && !strchr(stops, *q)) {
        if (*q == '\\' && q + 1 < end && strchr(escaped, q[1]))
            q++;
        FUZZ_CHECK(n + 1 < cap);
        out[n++] = *q++;
    }
    out[n] = 0;
    return q;
}

static const char *read_quoted(const char *q, const char *end, char *out, size_t cap)
{
    size_t n = 0;
    FUZZ_CHECK(q < end && *q == '"');
    for (q++; q < end && *q != '"'; q++) {
        if (*q == '\\' && q + 1 < end && (q[1] == '"' || q[1] == '\\'))
            q++;
        FUZZ_CHECK(n + 1 < cap);
        out[n++] = *q;
    }
    FUZZ_CHECK(q < end);
    out[n] = 0;
    return q + 1;
}

static void check_value(const oasis_metric_field *f, const char *tok, unsigned flags)
{
    char want[64];
    switch (f->type) {
    case OASIS_METRIC_INT: snprintf(want, sizeof want, "%" PRId64 "i", f->v.i); break;
    case OASIS_METRIC_UINT:
        snprintf(want, sizeof want, "%" PRIu64 "%c", f->v.u,
                 (flags & OASIS_LP_UNSIGNED) ? 'u' : 'i');
        break;
    case OASIS_METRIC_BOOL: snprintf(want, sizeof want, "%s", f->v.b ? "true" : "false"); break;
    case OASIS_METRIC_FLOAT: {
        char *e;
        FUZZ_CHECK(strspn(tok, "0123456789.eE+-") == strlen(tok) && *tok);
        double d = strtod(tok, &e);
        FUZZ_CHECK(*e == 0 && d == f->v.f && signbit(d) == signbit(f->v.f));
        return;
    }
    default: FUZZ_CHECK(strcmp(tok, f->v.s) == 0); return;
    }
    FUZZ_CHECK(strcmp(tok, want) == 0);
}

static int cmp_tag(const void *a, const void *b)
{
    return strcmp(((const oasis_metric_tag *)a)->key, ((const oasis_metric_tag *)b)->key);
}

/* line[0..len) is one line ending in '\n'. */
static void check_line(const lp_case *c, const char *line, size_t len)
{
    const char *q = line, *end = line + len - 1;
    FUZZ_CHECK(len > 0 && line[len - 1] == '\n' && !memchr(line, '\n', len - 1));
    char tok[8 * STRCAP + 64];
    q = read_name(q, end, ", ", ", ", tok, sizeof tok);
    FUZZ_CHECK(strcmp(tok, c->p.measurement) == 0);

    oasis_metric_tag sorted[MAXN];
    memcpy(sorted, c->tags, c->p.ntags * sizeof sorted[0]);
    qsort(sorted, c->p.ntags, sizeof sorted[0], cmp_tag);
    for (size_t i = 0; i < c->p.ntags; i++) {
        FUZZ_CHECK(q < end && *q == ',');
        q = read_name(q + 1, end, ",= ", ",= ", tok, sizeof tok);
        FUZZ_CHECK(strcmp(tok, sorted[i].key) == 0 && q < end && *q == '=');
        q = read_name(q + 1, end, ", ", ",= ", tok, sizeof tok);
        FUZZ_CHECK(strcmp(tok, sorted[i].value) == 0);
    }
    for (size_t i = 0; i < c->p.nfields; i++) {
        FUZZ_CHECK(q < end && *q == (i ? ',' : ' '));
        q = read_name(q + 1, end, ",= ", ",= ", tok, sizeof tok);
        FUZZ_CHECK(strcmp(tok, c->fields[i].key) == 0 && q < end && *q == '=');
        q++;
        if (c->fields[i].type == OASIS_METRIC_STRING)
            q = read_quoted(q, end, tok, sizeof tok);
        else
            q = read_name(q, end, ", ", "", tok, sizeof tok);
        check_value(&c->fields[i], tok, c->flags);
    }
    if (c->flags & OASIS_LP_NO_TIMESTAMP) {
        FUZZ_CHECK(q == end);
        return;
    }
    char want[32];
    snprintf(want, sizeof want, " %" PRIu64, c->p.timestamp_ns);
    FUZZ_CHECK((size_t)(end - q) == strlen(want) && memcmp(q, want, strlen(want)) == 0);
}

/* ---- allocator ------------------------------------------------------------------- */

static void *lp_alloc(void *ud, void *ptr, size_t size)
{
    lp_case *c = ud;
    if (size == 0) {
        if (ptr)
            c->live--;
        free(ptr);
        return NULL;
    }
    if (c->fail_alloc)
        return NULL;
    void *n = realloc(ptr, size);
    if (n && !ptr)
        c->live++;
    return n;
}

/* ---- the target -------------------------------------------------------------------- */

static void check_single(lp_case *c, oasis_lp_buf *b)
{
    /* A line already in the buffer must survive whatever happens next. */
    static const char first[] = "m f=1i 1\n";
    oasis_metric_field f1 = {.key = "f", .type = OASIS_METRIC_INT, .v.i = 1};
    oasis_metric_point p1 = {.measurement = "m", .fields = &f1, .nfields = 1, .timestamp_ns = 1};
    int rc = oasis_lp_encode_point(b, &p1, 0);
    FUZZ_CHECK(rc == 0 || rc == OASIS_EMSGSIZE || rc == OASIS_ENOMEM);
    FUZZ_CHECK(rc != 0 || (b->len == sizeof first - 1 && memcmp(b->data, first, b->len) == 0));
    size_t before = b->len;

    rc = oasis_lp_encode_point(b, &c->p, c->flags);
    int valid = point_valid(c);
    if (valid == 0)
        FUZZ_CHECK(rc == OASIS_EINVAL || (rc == OASIS_ENOTSUP && uint_unsupported(c)));
    else if (valid == 1 && uint_unsupported(c))
        FUZZ_CHECK(rc == OASIS_ENOTSUP);
    else if (valid == 1)
        FUZZ_CHECK(rc == 0 || rc == OASIS_EMSGSIZE || rc == OASIS_ENOMEM);
    FUZZ_CHECK(b->len <= b->max);
    if (rc != 0) {
        FUZZ_CHECK(b->len == before);
        FUZZ_CHECK(before == 0 || memcmp(b->data, first, before) == 0);
        return;
    }
    FUZZ_CHECK(valid != 0);
    check_line(c, b->data + before, b->len - before);
}

static void check_batch(lp_case *c, oasis_lp_buf *b)
{
    oasis_metric_point pts[3] = {c->p, c->p, c->p};
    size_t next = 0, rejected = 0;
    oasis_lp_buf_reset(b);
    int rc = oasis_lp_encode_points(b, pts, 3, c->flags, &next, &rejected);
    FUZZ_CHECK(rc == 0 || rc == OASIS_EMSGSIZE || rc == OASIS_ENOMEM);
    FUZZ_CHECK(next <= 3 && rejected <= next && (rc != 0 || next == 3));
    FUZZ_CHECK(b->len <= b->max && (b->len == 0 || b->data[b->len - 1] == '\n'));
    /* Identical points: either all rejected or all accepted. */
    FUZZ_CHECK(rejected == 0 || rejected == next);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lp_case *c = calloc(1, sizeof *c);
    if (!c)
        return 0;
    fuzz_in in = {data, size};
    read_point(c, &in);
    oasis_lp_buf b;
    oasis_lp_buf_init(&b, c->max, lp_alloc, c);
    check_single(c, &b);
    check_batch(c, &b);
    oasis_lp_buf_free(&b);
    FUZZ_CHECK(c->live == 0);
    free(c);
    return 0;
}
