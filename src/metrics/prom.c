/* Prometheus text format 0.0.4 and OpenMetrics 1.0.0 encoder (see
 * oasis/metrics_prom.h for the mapping from points to families).
 *
 * A snapshot lists points, each with its fields; an exposition lists
 * families, each with its samples, and a family must not be split. So every
 * (point, field) gets its family name, the pairs are sorted by name and
 * snapshot order, and each run of one name is written as one family. */
#include "metrics/metrics_impl.h"
#include "oasis/metrics_prom.h"

#include "oasis/error.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct prom_ent {
    const char *name; /* sanitised family base name, in the arena */
    uint32_t pt, fi;  /* point, field */
} prom_ent;

static int name_char(int c, int label)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || (!label && c == ':');
}

size_t oasis_prom_sanitize(char *out, size_t outlen, const char *in, int label)
{
    size_t n = 0;
    if (!out)
        outlen = 0; /* as snprintf(NULL, 0, ...): only the length */
#define PUT(ch)                                                                                 \
    do {                                                                                        \
        if (n + 1 < outlen)                                                                     \
            out[n] = (ch);                                                                      \
        n++;                                                                                    \
    } while (0)
    if (!in)
        in = "";
    if (label)
        while (in[0] == '_' && in[1] == '_' && in[2] == '_')
            in++;
    if (label && in[0] == '_' && in[1] == '_')
        in++; /* "__" starts the names Prometheus keeps for itself */
    if (!*in || (*in >= '0' && *in <= '9'))
        PUT('_');
    for (const char *p = in; *p; p++)
        PUT(name_char((unsigned char)*p, label) ? *p : '_');
#undef PUT
    if (outlen)
        out[n < outlen ? n : outlen - 1] = '\0';
    return n;
}

static int put(oasis_lp_buf *b, const char *s, size_t n)
{
    if (n > b->max - b->len)
        return OASIS_EMSGSIZE;
    if (b->len + n > b->cap) {
        size_t ncap = b->cap > 256 ? b->cap : 256;
        while (ncap < b->len + n)
            ncap *= 2;
        if (ncap > b->max)
            ncap = b->max;
        char *d = b->alloc(b->alloc_ud, b->data, ncap);
        if (!d)
            return OASIS_ENOMEM;
        b->data = d;
        b->cap = ncap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return OASIS_OK;
}

static int puts_(oasis_lp_buf *b, const char *s) { return put(b, s, strlen(s)); }

/* The length of the UTF-8 sequence at s (RFC 3629: no over-long forms, no
 * surrogates, nothing above U+10FFFF), 0 if the bytes there are not one. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4                      ? 4
                                                             : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0; /* (a NUL ends the string here too) */
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) || (c == 0xf0 && s[1] < 0x90) ||
        (c == 0xf4 && s[1] > 0x8f))
        return 0;
    return n;
}

/* Label values: '\', '"' and newline escaped. HELP: '\' and newline, and
 * '"' in OpenMetrics. Both formats are UTF-8 (a Prometheus refuses the
 * whole scrape over one label value that is not): a byte that begins no
 * UTF-8 sequence becomes U+FFFD. */
static int put_escaped(oasis_lp_buf *b, const char *s, int quote)
{
    for (const char *p = s; *p;) {
        const char *e = NULL;
        size_t n = utf8_len((const unsigned char *)p);
        if (*p == '\\')
            e = "\\\\";
        else if (*p == '\n')
            e = "\\n";
        else if (*p == '"' && quote)
            e = "\\\"";
        else if (n == 0)
            e = "\xef\xbf\xbd";
        int rc = e ? puts_(b, e) : put(b, p, n);
        if (rc)
            return rc;
        p += n ? n : 1;
    }
    return OASIS_OK;
}

static int cmp_ent(const void *a, const void *b)
{
    const prom_ent *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    if (x->pt != y->pt)
        return x->pt < y->pt ? -1 : 1;
    return x->fi < y->fi ? -1 : x->fi > y->fi;
}

static int ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

enum { KIND_GAUGE, KIND_COUNTER, KIND_INFO };

static int field_kind(const oasis_metric_field *f)
{
    if (f->type == OASIS_METRIC_STRING)
        return KIND_INFO;
    return f->counter && (f->type == OASIS_METRIC_UINT || f->type == OASIS_METRIC_INT ||
                          f->type == OASIS_METRIC_FLOAT)
               ? KIND_COUNTER
               : KIND_GAUGE;
}

/* Does the sanitised label key of tags[i] repeat one of tags[0..i)? */
static int label_dup(const oasis_metric_point *p, size_t i, const char *key)
{
    char k[OASIS_METRICS_MAX_STRING + 3];
    for (size_t j = 0; j < i; j++) {
        oasis_prom_sanitize(k, sizeof k, p->tags[j].key, 1);
        if (strcmp(k, key) == 0)
            return 1;
    }
    return 0;
}

static int put_value(oasis_lp_buf *b, const oasis_metric_field *f)
{
    char num[64];
    switch (f->type) {
    case OASIS_METRIC_INT: snprintf(num, sizeof num, "%" PRId64, f->v.i); break;
    case OASIS_METRIC_UINT: snprintf(num, sizeof num, "%" PRIu64, f->v.u); break;
    case OASIS_METRIC_FLOAT: metrics_format_double(num, sizeof num, f->v.f); break;
    case OASIS_METRIC_BOOL: snprintf(num, sizeof num, "%d", f->v.b ? 1 : 0); break;
    default: snprintf(num, sizeof num, "1"); break; /* info */
    }
    return puts_(b, num);
}

/* One sample line: NAME{labels} VALUE. Returns 1 (nothing written) when an
 * info sample's label would repeat a tag's. */
static int put_sample(oasis_lp_buf *b, const char *name, const oasis_metric_point *p,
                      const oasis_metric_field *f, int kind)
{
    char key[OASIS_METRICS_MAX_STRING + 3], ikey[OASIS_METRICS_MAX_STRING + 3];
    if (kind == KIND_INFO) {
        oasis_prom_sanitize(ikey, sizeof ikey, f->key, 1);
        if (label_dup(p, p->ntags, ikey))
            return 1;
    }
    int rc = puts_(b, name);
    int first = 1;
    for (size_t i = 0; !rc && i < p->ntags; i++) {
        oasis_prom_sanitize(key, sizeof key, p->tags[i].key, 1);
        if (label_dup(p, i, key))
            continue;
        rc = puts_(b, first ? "{" : ",");
        rc = rc ? rc : puts_(b, key);
        rc = rc ? rc : puts_(b, "=\"");
        rc = rc ? rc : put_escaped(b, p->tags[i].value, 1);
        rc = rc ? rc : puts_(b, "\"");
        first = 0;
    }
    if (!rc && kind == KIND_INFO) {
        rc = puts_(b, first ? "{" : ",");
        rc = rc ? rc : puts_(b, ikey);
        rc = rc ? rc : puts_(b, "=\"");
        rc = rc ? rc : put_escaped(b, f->v.s, 1);
        rc = rc ? rc : puts_(b, "\"");
        first = 0;
    }
    if (!rc && !first)
        rc = puts_(b, "}");
    rc = rc ? rc : puts_(b, " ");
    rc = rc ? rc : put_value(b, f);
    return rc ? rc : puts_(b, "\n");
}

/* The family of ents[0..n) (all of one name). */
static int put_family(oasis_lp_buf *b, const oasis_metrics_snapshot *snap, const prom_ent *ents,
                      size_t n, unsigned flags)
{
    const oasis_metric_point *p0 = &snap->points[ents[0].pt];
    const oasis_metric_field *f0 = &p0->fields[ents[0].fi];
    int kind = field_kind(f0), om = (flags & OASIS_PROM_OPENMETRICS) != 0;
    const char *suffix = kind == KIND_COUNTER ? "_total" : kind == KIND_INFO ? "_info" : "";
    /* base: the name without the suffix; sample: base + suffix. */
    char base[3 * OASIS_METRICS_MAX_STRING], sample[3 * OASIS_METRICS_MAX_STRING + 8];
    snprintf(base, sizeof base, "%s", ents[0].name);
    if (*suffix && ends_with(base, suffix) && strlen(base) > strlen(suffix))
        base[strlen(base) - strlen(suffix)] = '\0';
    snprintf(sample, sizeof sample, "%s%s", base, suffix);
    const char *family = om ? base : sample;
    const char *type = kind == KIND_COUNTER ? "counter" : kind == KIND_INFO && om ? "info" : "gauge";

    int rc = puts_(b, "# HELP ");
    rc = rc ? rc : puts_(b, family);
    rc = rc ? rc : puts_(b, " Oasis metric: measurement ");
    rc = rc ? rc : put_escaped(b, p0->measurement, om);
    rc = rc ? rc : puts_(b, ", field ");
    rc = rc ? rc : put_escaped(b, f0->key, om);
    rc = rc ? rc : puts_(b, kind == KIND_INFO ? " (its value is the label)\n# TYPE " : "\n# TYPE ");
    rc = rc ? rc : puts_(b, family);
    rc = rc ? rc : puts_(b, " ");
    rc = rc ? rc : puts_(b, type);
    rc = rc ? rc : puts_(b, "\n");
    for (size_t i = 0; !rc && i < n; i++) {
        const oasis_metric_point *p = &snap->points[ents[i].pt];
        const oasis_metric_field *f = &p->fields[ents[i].fi];
        /* A family has one type: samples of another kind under the same
         * name are left out. */
        if ((field_kind(f) == KIND_INFO) != (kind == KIND_INFO))
            continue;
        int r = put_sample(b, sample, p, f, kind);
        rc = r > 0 ? 0 : r;
    }
    return rc;
}

int oasis_prom_encode(oasis_lp_buf *b, const oasis_metrics_snapshot *snap, const char *prefix,
                      unsigned flags)
{
    if (!b || !snap || (snap->count && !snap->points))
        return OASIS_EINVAL;
    if (!prefix)
        prefix = "oasis_";
    size_t start = b->len, nents = 0, arena = 0;
    for (size_t i = 0; i < snap->count; i++) {
        const oasis_metric_point *p = &snap->points[i];
        if (!p->measurement || (p->nfields && !p->fields) || (p->ntags && !p->tags))
            return OASIS_EINVAL;
        for (size_t j = 0; j < p->ntags; j++)
            if (!p->tags[j].key || !p->tags[j].value)
                return OASIS_EINVAL;
        for (size_t j = 0; j < p->nfields; j++) {
            const oasis_metric_field *f = &p->fields[j];
            if (!f->key || (f->type == OASIS_METRIC_STRING && !f->v.s))
                return OASIS_EINVAL;
            /* Sanitising may add one '_' in front; never more bytes. */
            arena += strlen(prefix) + strlen(p->measurement) + strlen(f->key) + 3;
            nents++;
        }
    }
    prom_ent *ents = nents ? b->alloc(b->alloc_ud, NULL, nents * sizeof *ents) : NULL;
    char *names = arena ? b->alloc(b->alloc_ud, NULL, arena) : NULL;
    char *tmp = arena ? b->alloc(b->alloc_ud, NULL, arena) : NULL;
    int rc = OASIS_OK;
    if (nents && (!ents || !names || !tmp)) {
        rc = OASIS_ENOMEM;
        goto out;
    }
    size_t k = 0, used = 0;
    for (size_t i = 0; i < snap->count; i++) {
        const oasis_metric_point *p = &snap->points[i];
        for (size_t j = 0; j < p->nfields; j++) {
            /* "oasis_reporter" under the prefix "oasis_" stays oasis_reporter_... */
            size_t pl = strlen(prefix);
            const char *pre = strncmp(p->measurement, prefix, pl) == 0 ? "" : prefix;
            int n = snprintf(tmp, arena, "%s%s_%s", pre, p->measurement, p->fields[j].key);
            size_t len = oasis_prom_sanitize(names + used, arena - used, tmp, 0);
            (void)n;
            ents[k++] = (prom_ent){names + used, (uint32_t)i, (uint32_t)j};
            used += len + 1;
        }
    }
    if (nents)
        qsort(ents, nents, sizeof *ents, cmp_ent);
    for (size_t i = 0; !rc && i < nents;) {
        size_t j = i + 1;
        while (j < nents && strcmp(ents[j].name, ents[i].name) == 0)
            j++;
        rc = put_family(b, snap, ents + i, j - i, flags);
        i = j;
    }
    if (!rc && (flags & OASIS_PROM_OPENMETRICS))
        rc = puts_(b, "# EOF\n");
out:
    if (rc)
        b->len = start;
    if (ents)
        b->alloc(b->alloc_ud, ents, 0);
    if (names)
        b->alloc(b->alloc_ud, names, 0);
    if (tmp)
        b->alloc(b->alloc_ud, tmp, 0);
    return rc;
}

/* ---- content negotiation (RFC 9110 12.5.1) ------------------------------- */

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int eq_ci(const char *s, size_t n, const char *w)
{
    if (strlen(w) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != w[i])
            return 0;
    return 1;
}

/* q of one element's parameters ("; q=0.5"), 1000ths; 1000 when absent. */
static int qvalue(const char *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i] == ';') {
            size_t a = i + 1;
            while (a < n && (p[a] == ' ' || p[a] == '\t'))
                a++;
            if (a + 1 < n && lower((unsigned char)p[a]) == 'q' && p[a + 1] == '=') {
                double q = strtod(p + a + 2, NULL); /* "0.5", "1", "0" */
                if (q < 0)
                    q = 0;
                if (q > 1)
                    q = 1;
                return (int)(q * 1000 + 0.5);
            }
        }
    }
    return 1000;
}

unsigned oasis_prom_negotiate(const char *accept)
{
    int q_om = -1, q_text = -1, q_any = -1;
    if (!accept)
        return 0;
    const char *p = accept;
    while (*p) {
        size_t n = strcspn(p, ",");
        size_t a = 0, m;
        while (a < n && (p[a] == ' ' || p[a] == '\t'))
            a++;
        m = a;
        while (m < n && p[m] != ';' && p[m] != ' ' && p[m] != '\t')
            m++;
        int q = qvalue(p + m, n - m);
        if (eq_ci(p + a, m - a, "application/openmetrics-text"))
            q_om = q > q_om ? q : q_om;
        else if (eq_ci(p + a, m - a, "text/plain"))
            q_text = q > q_text ? q : q_text;
        else if (eq_ci(p + a, m - a, "*/*") || eq_ci(p + a, m - a, "text/*"))
            q_any = q > q_any ? q : q_any;
        p += n + (p[n] == ',');
    }
    if (q_text < 0)
        q_text = q_any;
    return q_om > 0 && q_om >= q_text ? OASIS_PROM_OPENMETRICS : 0;
}
