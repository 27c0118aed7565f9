/* Metrics registry: sources, enable/disable, snapshots, bounds, built-in
 * layer sources (on a counters struct and on two stacks on a wire), the
 * per-flow source (on fake flows), and a snapshot through the encoder. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics_impl.h"
#include "oasis/oasis.h"
#include "oasis/metrics.h"
#include "testutil.h"

/* ---- helpers ---------------------------------------------------------------- */

static oasis_metrics *mk(const oasis_metrics_config *cfg)
{
    oasis_metrics *m = NULL;
    assert_int_equal(oasis_metrics_create(cfg, &m), 0);
    assert_non_null(m);
    return m;
}

static const oasis_metric_field *field(const oasis_metric_point *p, const char *key)
{
    for (size_t i = 0; i < p->nfields; i++)
        if (strcmp(p->fields[i].key, key) == 0)
            return &p->fields[i];
    return NULL;
}

static const char *tag(const oasis_metric_point *p, const char *key)
{
    for (size_t i = 0; i < p->ntags; i++)
        if (strcmp(p->tags[i].key, key) == 0)
            return p->tags[i].value;
    return NULL;
}

static uint64_t ufield(const oasis_metric_point *p, const char *key)
{
    const oasis_metric_field *f = field(p, key);
    if (!f)
        fail_msg("%s has no field %s", p->measurement, key);
    assert_int_equal(f->type, OASIS_METRIC_UINT);
    return f->v.u;
}

/* The point of measurement meas whose tag key has value val (NULL: any). */
static const oasis_metric_point *find(const oasis_metrics_snapshot *s, const char *meas,
                                      const char *key, const char *val)
{
    for (size_t i = 0; i < s->count; i++) {
        const oasis_metric_point *p = &s->points[i];
        if (strcmp(p->measurement, meas) == 0 && (!key || (tag(p, key) && !strcmp(tag(p, key), val))))
            return p;
    }
    return NULL;
}

static void assert_tags_sorted(const oasis_metric_point *p)
{
    for (size_t i = 1; i < p->ntags; i++)
        assert_true(strcmp(p->tags[i - 1].key, p->tags[i].key) < 0);
}

/* Counts calls and can fail from the n-th one on; ud is an alloc_counter. */
typedef struct alloc_counter {
    long calls;     /* allocations and resizes */
    long fail_from; /* <0: never */
    long live;
} alloc_counter;

static void *counting_alloc(void *ud, void *ptr, size_t size)
{
    alloc_counter *ac = ud;
    if (size == 0) {
        if (ptr)
            ac->live--;
        free(ptr);
        return NULL;
    }
    if (ac->fail_from >= 0 && ac->calls >= ac->fail_from)
        return NULL;
    ac->calls++;
    void *p = realloc(ptr, size);
    if (p && !ptr)
        ac->live++;
    return p;
}

/* ---- an application source -------------------------------------------------- */

typedef struct app_stats {
    int64_t temp;
    uint64_t hits;
    double load;
    int up;
    const char *mode;
    int reads;
} app_stats;

static int read_app(oasis_metrics_emit *e, void *ud)
{
    app_stats *a = ud;
    a->reads++;
    int rc = oasis_metrics_field_int(e, "temp", a->temp);
    rc = rc ? rc : oasis_metrics_field_uint(e, "hits", a->hits);
    rc = rc ? rc : oasis_metrics_field_float(e, "load", a->load);
    rc = rc ? rc : oasis_metrics_field_bool(e, "up", a->up);
    rc = rc ? rc : oasis_metrics_field_string(e, "mode", a->mode);
    return rc;
}

static void test_create_destroy(void **state)
{
    (void)state;
    oasis_metrics *m = NULL;
    oasis_metrics_config cfg;
    oasis_metrics_config_init(&cfg);
    assert_int_equal(cfg.max_sources, 256);
    assert_int_equal(oasis_metrics_create(NULL, NULL), OASIS_EINVAL);
    cfg.max_points = 0;
    assert_int_equal(oasis_metrics_create(&cfg, &m), OASIS_EINVAL);
    assert_null(m);
    m = mk(NULL);
    oasis_metrics_snapshot snap;
    assert_int_equal(oasis_metrics_collect(m, 5, &snap), 0);
    assert_int_equal(snap.count, 0);
    assert_int_equal(oasis_metrics_collect(m, 5, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_collect(NULL, 5, &snap), OASIS_EINVAL);
    oasis_metrics_destroy(m);
    oasis_metrics_destroy(NULL);
}

static void test_custom_source(void **state)
{
    (void)state;
    oasis_metrics *m = mk(NULL);
    app_stats a = {-5, 42, 0.75, 1, "busy", 0};
    oasis_metric_tag tags[] = {{"zone", "eu"}, {"host", "h1"}, {"app", "web"}};
    oasis_metrics_source *src = NULL;
    assert_int_equal(oasis_metrics_add_source(m, "app", tags, 3, read_app, &a, &src), 0);
    assert_non_null(src);
    assert_string_equal(oasis_metrics_source_name(src), "app");
    assert_true(oasis_metrics_source_enabled(src));

    oasis_metrics_snapshot snap;
    assert_int_equal(oasis_metrics_collect(m, 123456789, &snap), 0);
    assert_int_equal(snap.count, 1);
    assert_int_equal(snap.failed_sources, 0);
    assert_int_equal(snap.timestamp_ns, 123456789);
    const oasis_metric_point *p = &snap.points[0];
    assert_string_equal(p->measurement, "app");
    assert_int_equal(p->timestamp_ns, 123456789);
    assert_int_equal(p->ntags, 3);
    assert_string_equal(p->tags[0].key, "app");
    assert_string_equal(p->tags[1].key, "host");
    assert_string_equal(p->tags[2].key, "zone");
    assert_string_equal(p->tags[2].value, "eu");
    assert_int_equal(p->nfields, 5);
    assert_string_equal(p->fields[0].key, "temp");
    assert_int_equal(p->fields[0].type, OASIS_METRIC_INT);
    assert_int_equal(p->fields[0].v.i, -5);
    assert_int_equal(p->fields[1].v.u, 42);
    assert_int_equal(p->fields[2].type, OASIS_METRIC_FLOAT);
    assert_true(p->fields[2].v.f == 0.75);
    assert_int_equal(p->fields[3].type, OASIS_METRIC_BOOL);
    assert_int_equal(p->fields[3].v.b, 1);
    assert_int_equal(p->fields[4].type, OASIS_METRIC_STRING);
    assert_string_equal(p->fields[4].v.s, "busy");

    /* values are read afresh at every snapshot; strings are copies */
    char mode[8] = "idle";
    a.hits = 43;
    a.mode = mode;
    assert_int_equal(oasis_metrics_collect(m, 2, &snap), 0);
    mode[0] = 'X';
    assert_int_equal(snap.points[0].fields[1].v.u, 43);
    assert_string_equal(snap.points[0].fields[4].v.s, "idle");
    assert_int_equal(a.reads, 2);
    /* the caller's tag array is copied: changing it later changes nothing */
    tags[0].value = "us";
    assert_int_equal(oasis_metrics_collect(m, 3, &snap), 0);
    assert_string_equal(tag(&snap.points[0], "zone"), "eu");
    oasis_metrics_destroy(m);
}

static void test_add_source_invalid(void **state)
{
    (void)state;
    oasis_metrics *m = mk(NULL);
    app_stats a = {0, 0, 0, 0, "", 0};
    oasis_metric_tag dup[] = {{"k", "1"}, {"k", "2"}};
    oasis_metric_tag empty_v[] = {{"k", ""}};
    oasis_metric_tag nl[] = {{"k", "a\nb"}};
    assert_int_equal(oasis_metrics_add_source(m, "", NULL, 0, read_app, &a, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_add_source(m, NULL, NULL, 0, read_app, &a, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_add_source(m, "x\n", NULL, 0, read_app, &a, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_add_source(m, "x", NULL, 0, NULL, &a, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_add_source(m, "x", NULL, 1, read_app, &a, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_add_source(m, "x", dup, 2, read_app, &a, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_add_source(m, "x", empty_v, 1, read_app, &a, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_add_source(m, "x", nl, 1, read_app, &a, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_add_source(NULL, "x", NULL, 0, read_app, &a, NULL), OASIS_EINVAL);
    char longname[OASIS_METRICS_MAX_STRING + 2];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(oasis_metrics_add_source(m, longname, NULL, 0, read_app, &a, NULL),
                     OASIS_EINVAL);
    longname[OASIS_METRICS_MAX_STRING] = '\0';
    assert_int_equal(oasis_metrics_add_source(m, longname, NULL, 0, read_app, &a, NULL), 0);
    assert_int_equal(oasis_metrics_source_count(m), 1);
    oasis_metrics_destroy(m);
}

static void test_enable_disable(void **state)
{
    (void)state;
    oasis_metrics *m = mk(NULL);
    app_stats a = {1, 1, 1, 1, "a", 0}, b = {2, 2, 2, 0, "b", 0}, c = {3, 3, 3, 0, "c", 0};
    oasis_metric_tag ta = {"n", "a"}, tb = {"n", "b"};
    oasis_metrics_source *sa, *sb, *sc;
    assert_int_equal(oasis_metrics_add_source(m, "app", &ta, 1, read_app, &a, &sa), 0);
    assert_int_equal(oasis_metrics_add_source(m, "app", &tb, 1, read_app, &b, &sb), 0);
    assert_int_equal(oasis_metrics_add_source(m, "other", NULL, 0, read_app, &c, &sc), 0);
    oasis_metrics_snapshot snap;
    assert_int_equal(oasis_metrics_collect(m, 1, &snap), 0);
    assert_int_equal(snap.count, 3);
    /* points come in the order sources were added */
    assert_string_equal(tag(&snap.points[0], "n"), "a");
    assert_string_equal(tag(&snap.points[1], "n"), "b");
    assert_string_equal(snap.points[2].measurement, "other");

    oasis_metrics_source_enable(sb, 0);
    assert_false(oasis_metrics_source_enabled(sb));
    assert_int_equal(oasis_metrics_collect(m, 2, &snap), 0);
    assert_int_equal(snap.count, 2);
    assert_null(find(&snap, "app", "n", "b"));
    assert_int_equal(b.reads, 1); /* a disabled source is not even read */

    assert_int_equal(oasis_metrics_enable(m, "app", 0), 2);
    assert_int_equal(oasis_metrics_collect(m, 3, &snap), 0);
    assert_int_equal(snap.count, 1);
    assert_string_equal(snap.points[0].measurement, "other");
    assert_int_equal(oasis_metrics_enable(m, "nothing", 0), 0);
    assert_int_equal(oasis_metrics_enable(m, "app", 1), 2);
    assert_int_equal(oasis_metrics_collect(m, 4, &snap), 0);
    assert_int_equal(snap.count, 3);
    oasis_metrics_destroy(m);
}

static void test_remove(void **state)
{
    (void)state;
    oasis_metrics *m = mk(NULL);
    app_stats a = {1, 1, 1, 1, "a", 0}, b = {2, 2, 2, 0, "b", 0};
    oasis_metrics_source *s1, *s2, *s3;
    assert_int_equal(oasis_metrics_add_source(m, "one", NULL, 0, read_app, &a, &s1), 0);
    assert_int_equal(oasis_metrics_add_source(m, "two", NULL, 0, read_app, &b, &s2), 0);
    assert_int_equal(oasis_metrics_add_source(m, "three", NULL, 0, read_app, &a, &s3), 0);
    assert_int_equal(oasis_metrics_remove_by_ud(m, &a), 2);
    assert_int_equal(oasis_metrics_source_count(m), 1);
    oasis_metrics_snapshot snap;
    assert_int_equal(oasis_metrics_collect(m, 1, &snap), 0);
    assert_int_equal(snap.count, 1);
    assert_string_equal(snap.points[0].measurement, "two");
    /* the tail moved correctly: adding after removals still appends */
    assert_int_equal(oasis_metrics_add_source(m, "four", NULL, 0, read_app, &a, &s1), 0);
    oasis_metrics_remove(s2);
    assert_int_equal(oasis_metrics_source_count(m), 1);
    assert_int_equal(oasis_metrics_add_source(m, "five", NULL, 0, read_app, &b, NULL), 0);
    assert_int_equal(oasis_metrics_collect(m, 1, &snap), 0);
    assert_int_equal(snap.count, 2);
    assert_string_equal(snap.points[0].measurement, "four");
    assert_string_equal(snap.points[1].measurement, "five");
    assert_int_equal(oasis_metrics_remove_by_ud(m, NULL), 0);
    oasis_metrics_remove(NULL);
    oasis_metrics_destroy(m);
}

/* ---- several points per source, emit errors -------------------------------- */

static int read_multi(oasis_metrics_emit *e, void *ud)
{
    int n = *(int *)ud;
    for (int i = 0; i < n; i++) {
        char v[16];
        snprintf(v, sizeof v, "peer%d", i);
        assert_int_equal(oasis_metrics_next_point(e), 0);
        assert_int_equal(oasis_metrics_tag(e, "peer", v), 0);
        if (i == 1)
            continue; /* a point without fields is dropped */
        assert_int_equal(oasis_metrics_field_int(e, "n", i), 0);
    }
    return 0;
}

static void test_multi_point(void **state)
{
    (void)state;
    oasis_metrics *m = mk(NULL);
    int n = 4;
    oasis_metric_tag t = {"site", "x"};
    assert_int_equal(oasis_metrics_add_source(m, "peers", &t, 1, read_multi, &n, NULL), 0);
    oasis_metrics_snapshot snap;
    assert_int_equal(oasis_metrics_collect(m, 9, &snap), 0);
    assert_int_equal(snap.count, 3);
    assert_string_equal(tag(&snap.points[0], "peer"), "peer0");
    assert_string_equal(tag(&snap.points[1], "peer"), "peer2");
    assert_string_equal(tag(&snap.points[2], "peer"), "peer3");
    for (size_t i = 0; i < snap.count; i++) {
        assert_int_equal(snap.points[i].ntags, 2);
        assert_string_equal(tag(&snap.points[i], "site"), "x");
        assert_tags_sorted(&snap.points[i]);
        assert_int_equal(snap.points[i].nfields, 1);
    }
    n = 0;
    assert_int_equal(oasis_metrics_collect(m, 9, &snap), 0);
    assert_int_equal(snap.count, 0);
    oasis_metrics_destroy(m);
}

static int read_checks(oasis_metrics_emit *e, void *ud)
{
    (void)ud;
    assert_int_equal(oasis_metrics_field_float(e, "nan", NAN), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_field_float(e, "inf", INFINITY), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_field_float(e, "ninf", -INFINITY), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_field_int(e, "", 1), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_field_int(e, NULL, 1), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_field_int(e, "a\nb", 1), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_field_string(e, "s", "x\ny"), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_field_string(e, "s", NULL), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_tag(e, "t", ""), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_field_int(e, "ok", 1), 0);
    assert_int_equal(oasis_metrics_field_int(e, "ok", 2), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_field_uint(e, "ok", 2), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_tag(e, "site", "dup-of-source-tag"), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_tag(e, "t", "1"), 0);
    assert_int_equal(oasis_metrics_tag(e, "t", "2"), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_field_string(e, "empty", ""), 0);
    assert_int_equal(oasis_metrics_next_point(NULL), OASIS_EINVAL);
    return 0; /* errors ignored: the valid fields stay */
}

static void test_emit_errors(void **state)
{
    (void)state;
    oasis_metrics *m = mk(NULL);
    oasis_metric_tag t = {"site", "x"};
    assert_int_equal(oasis_metrics_add_source(m, "chk", &t, 1, read_checks, NULL, NULL), 0);
    oasis_metrics_snapshot snap;
    assert_int_equal(oasis_metrics_collect(m, 1, &snap), 0);
    assert_int_equal(snap.count, 1);
    const oasis_metric_point *p = &snap.points[0];
    assert_int_equal(p->nfields, 2);
    assert_int_equal(field(p, "ok")->v.i, 1);
    assert_string_equal(field(p, "empty")->v.s, "");
    assert_int_equal(p->ntags, 2);
    assert_string_equal(tag(p, "t"), "1");
    assert_string_equal(tag(p, "site"), "x");
    oasis_metrics_destroy(m);
}

static int read_failing(oasis_metrics_emit *e, void *ud)
{
    (void)ud;
    oasis_metrics_field_int(e, "partial", 1);
    oasis_metrics_next_point(e);
    oasis_metrics_field_int(e, "partial", 2);
    return OASIS_EIO;
}

static void test_failing_source(void **state)
{
    (void)state;
    oasis_metrics *m = mk(NULL);
    app_stats a = {1, 1, 1, 1, "a", 0}, b = {2, 2, 2, 0, "b", 0};
    oasis_metrics_source *bad;
    assert_int_equal(oasis_metrics_add_source(m, "a", NULL, 0, read_app, &a, NULL), 0);
    assert_int_equal(oasis_metrics_add_source(m, "bad", NULL, 0, read_failing, NULL, &bad), 0);
    assert_int_equal(oasis_metrics_add_source(m, "b", NULL, 0, read_app, &b, NULL), 0);
    oasis_metrics_snapshot snap;
    assert_int_equal(oasis_metrics_collect(m, 1, &snap), 0);
    assert_int_equal(snap.failed_sources, 1);
    assert_int_equal(oasis_metrics_source_error(bad), OASIS_EIO);
    assert_int_equal(snap.count, 2);
    assert_string_equal(snap.points[0].measurement, "a");
    assert_string_equal(snap.points[1].measurement, "b");
    assert_int_equal(snap.points[1].nfields, 5);
    assert_string_equal(snap.points[1].fields[4].v.s, "b");
    oasis_metrics_source_enable(bad, 0);
    assert_int_equal(oasis_metrics_collect(m, 1, &snap), 0);
    assert_int_equal(snap.failed_sources, 0);
    oasis_metrics_destroy(m);
}

/* ---- bounds ---------------------------------------------------------------- */

static int read_n_points(oasis_metrics_emit *e, void *ud)
{
    int n = *(int *)ud;
    for (int i = 0; i < n; i++) {
        int rc = oasis_metrics_next_point(e);
        rc = rc ? rc : oasis_metrics_field_int(e, "i", i);
        if (rc)
            return rc;
    }
    return 0;
}

static int read_n_fields(oasis_metrics_emit *e, void *ud)
{
    int n = *(int *)ud;
    for (int i = 0; i < n; i++) {
        char k[16];
        snprintf(k, sizeof k, "f%d", i);
        int rc = oasis_metrics_field_int(e, k, i);
        if (rc)
            return rc;
    }
    return 0;
}

static int read_n_tags(oasis_metrics_emit *e, void *ud)
{
    int n = *(int *)ud;
    for (int i = 0; i < n; i++) {
        char k[16];
        snprintf(k, sizeof k, "t%d", i);
        int rc = oasis_metrics_tag(e, k, "v");
        if (rc)
            return rc;
    }
    return oasis_metrics_field_int(e, "x", 1);
}

static void test_bounds(void **state)
{
    (void)state;
    oasis_metrics_config cfg;
    oasis_metrics_config_init(&cfg);
    cfg.max_sources = 3;
    cfg.max_points = 5;
    cfg.max_fields = 4;
    cfg.max_tags = 3;
    oasis_metrics *m = mk(&cfg);
    int np = 3, nf = 4, nt = 2;
    oasis_metrics_source *pts, *flds, *tgs;
    assert_int_equal(oasis_metrics_add_source(m, "p", NULL, 0, read_n_points, &np, &pts), 0);
    assert_int_equal(oasis_metrics_add_source(m, "f", NULL, 0, read_n_fields, &nf, &flds), 0);
    oasis_metric_tag st = {"src", "1"};
    assert_int_equal(oasis_metrics_add_source(m, "t", &st, 1, read_n_tags, &nt, &tgs), 0);
    assert_int_equal(oasis_metrics_add_source(m, "x", NULL, 0, read_n_tags, &nt, NULL),
                     OASIS_ENOMEM);
    oasis_metrics_snapshot snap;
    assert_int_equal(oasis_metrics_collect(m, 1, &snap), 0);
    assert_int_equal(snap.failed_sources, 0);
    assert_int_equal(snap.count, 5); /* 3 + 1 + 1: at the bound exactly */
    assert_int_equal(snap.points[4].ntags, 3); /* 1 source tag + 2: at the bound */

    np = 4; /* 4 + 1 + 1 > 5: the last source in line fails whole */
    assert_int_equal(oasis_metrics_collect(m, 1, &snap), 0);
    assert_int_equal(snap.failed_sources, 1);
    assert_int_equal(oasis_metrics_source_error(pts), 0);
    assert_int_equal(oasis_metrics_source_error(tgs), OASIS_ENOMEM);
    assert_int_equal(snap.count, 5);
    np = 6; /* more than the bound alone: fails, the others fit */
    assert_int_equal(oasis_metrics_collect(m, 1, &snap), 0);
    assert_int_equal(oasis_metrics_source_error(pts), OASIS_ENOMEM);
    assert_int_equal(oasis_metrics_source_error(tgs), 0);
    assert_int_equal(snap.count, 2);
    np = 1;
    nf = 5; /* fields per point */
    nt = 3; /* tags per point, with the source's */
    assert_int_equal(oasis_metrics_collect(m, 1, &snap), 0);
    assert_int_equal(oasis_metrics_source_error(flds), OASIS_ENOMEM);
    assert_int_equal(oasis_metrics_source_error(tgs), OASIS_ENOMEM);
    assert_int_equal(snap.failed_sources, 2);
    assert_int_equal(snap.count, 1);
    oasis_metrics_destroy(m);

    /* string bytes: keys and values are copied under one bound */
    oasis_metrics_config_init(&cfg);
    cfg.max_string_bytes = 64;
    m = mk(&cfg);
    int ten = 10; /* 10 keys "f0".."f9": 30 bytes */
    assert_int_equal(oasis_metrics_add_source(m, "f", NULL, 0, read_n_fields, &ten, &flds), 0);
    assert_int_equal(oasis_metrics_collect(m, 1, &snap), 0);
    assert_int_equal(snap.count, 1);
    ten = 30; /* 10*3 + 20*4 = 110 bytes > 64 */
    assert_int_equal(oasis_metrics_collect(m, 1, &snap), 0);
    assert_int_equal(snap.count, 0);
    assert_int_equal(oasis_metrics_source_error(flds), OASIS_ENOMEM);
    oasis_metrics_destroy(m);
}

/* Many long strings over several chunks, reused snapshot after snapshot
 * without new allocations. */
static int read_long_strings(oasis_metrics_emit *e, void *ud)
{
    (void)ud;
    char v[OASIS_METRICS_MAX_STRING + 1];
    memset(v, 'v', sizeof v - 1);
    v[sizeof v - 1] = '\0';
    for (int i = 0; i < 10; i++) {
        char k[8];
        snprintf(k, sizeof k, "s%d", i);
        v[0] = (char)('0' + i);
        int rc = oasis_metrics_field_string(e, k, v);
        if (rc)
            return rc;
    }
    return 0;
}

static void test_steady_state_no_alloc(void **state)
{
    (void)state;
    alloc_counter ac = {0, -1, 0};
    oasis_metrics_config cfg;
    oasis_metrics_config_init(&cfg);
    cfg.alloc = counting_alloc;
    cfg.alloc_ud = &ac;
    oasis_metrics *m = mk(&cfg);
    app_stats a = {1, 1, 1, 1, "a", 0};
    int n = 50;
    assert_int_equal(oasis_metrics_add_source(m, "app", NULL, 0, read_app, &a, NULL), 0);
    assert_int_equal(oasis_metrics_add_source(m, "many", NULL, 0, read_n_points, &n, NULL), 0);
    assert_int_equal(oasis_metrics_add_source(m, "long", NULL, 0, read_long_strings, NULL, NULL), 0);
    oasis_metrics_snapshot snap;
    assert_int_equal(oasis_metrics_collect(m, 1, &snap), 0);
    assert_int_equal(snap.count, 52);
    const oasis_metric_point *lp = find(&snap, "long", NULL, NULL);
    assert_non_null(lp);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(strlen(lp->fields[i].v.s), OASIS_METRICS_MAX_STRING);
        assert_int_equal(lp->fields[i].v.s[0], '0' + i);
    }
    long calls = ac.calls;
    for (int i = 0; i < 5; i++)
        assert_int_equal(oasis_metrics_collect(m, 1, &snap), 0);
    assert_int_equal(ac.calls, calls);
    assert_int_equal(snap.count, 52);
    oasis_metrics_destroy(m);
    assert_int_equal(ac.live, 0);
}

/* Every allocation failing in turn: errors, never crashes or leaks. */
static void test_alloc_failures(void **state)
{
    (void)state;
    for (long fail = 0; fail < 60; fail++) {
        alloc_counter ac = {0, fail, 0};
        oasis_metrics_config cfg;
        oasis_metrics_config_init(&cfg);
        cfg.alloc = counting_alloc;
        cfg.alloc_ud = &ac;
        oasis_metrics *m = NULL;
        if (oasis_metrics_create(&cfg, &m) != 0) {
            assert_null(m);
            continue;
        }
        app_stats a = {1, 1, 1, 1, "a", 0};
        int n = 40;
        oasis_counters c;
        memset(&c, 0, sizeof c);
        oasis_metric_tag t = {"k", "v"};
        int rc = oasis_metrics_add_source(m, "app", &t, 1, read_app, &a, NULL);
        assert_true(rc == 0 || rc == OASIS_ENOMEM);
        rc = oasis_metrics_add_source(m, "many", NULL, 0, read_n_points, &n, NULL);
        assert_true(rc == 0 || rc == OASIS_ENOMEM);
        rc = oasis_metrics_add_counters(m, &c, &t, 1);
        assert_true(rc == 0 || rc == OASIS_ENOMEM);
        if (rc)
            assert_int_equal(oasis_metrics_remove_by_ud(m, &c), 0); /* all or none */
        oasis_metrics_snapshot snap;
        assert_int_equal(oasis_metrics_collect(m, 1, &snap), 0);
        for (size_t i = 0; i < snap.count; i++)
            assert_true(snap.points[i].nfields > 0);
        oasis_metrics_destroy(m);
        assert_int_equal(ac.live, 0);
    }
}

/* ---- built-in layer sources on a counters struct ---------------------------- */

#define NLAYERS 10   /* link arp ipv4 icmp udp tcp ipv6 icmp6 nd udp6 */
#define NLAYERS_V4 6 /* a stack without IPv6: the first six */

/* Each layer struct is all uint64_t: give every counter its own value. */
static void fill_counters(oasis_counters *c)
{
    uint64_t *layers[] = {(uint64_t *)&c->link, (uint64_t *)&c->arp, (uint64_t *)&c->ip,
                          (uint64_t *)&c->icmp, (uint64_t *)&c->udp, (uint64_t *)&c->tcp,
                          (uint64_t *)&c->ipv6, (uint64_t *)&c->icmp6, (uint64_t *)&c->nd,
                          (uint64_t *)&c->udp6};
    size_t sizes[] = {sizeof c->link, sizeof c->arp, sizeof c->ip,  sizeof c->icmp, sizeof c->udp,
                      sizeof c->tcp,  sizeof c->ipv6, sizeof c->icmp6, sizeof c->nd,
                      sizeof c->udp6};
    for (size_t l = 0; l < NLAYERS; l++)
        for (size_t k = 0; k < sizes[l] / sizeof(uint64_t); k++)
            layers[l][k] = (l + 1) * 1000 + k;
}

static const struct {
    const char *meas;
    size_t size;
    uint64_t base;
} layer_info[] = {
    {"link", sizeof(oasis_link_counters), 1000}, {"arp", sizeof(oasis_arp_counters), 2000},
    {"ipv4", sizeof(oasis_ip_counters), 3000},   {"icmp", sizeof(oasis_icmp_counters), 4000},
    {"udp", sizeof(oasis_udp_counters), 5000},   {"tcp", sizeof(oasis_tcp_counters), 6000},
    {"ipv6", sizeof(oasis_ipv6_counters), 7000}, {"icmp6", sizeof(oasis_icmp6_counters), 8000},
    {"nd", sizeof(oasis_nd_counters), 9000},     {"udp6", sizeof(oasis_udp_counters), 10000},
};

static void test_layer_sources_counters(void **state)
{
    (void)state;
    oasis_counters c;
    fill_counters(&c);
    oasis_metrics *m = mk(NULL);
    oasis_metric_tag t = {"stack", "s1"};
    assert_int_equal(oasis_metrics_add_counters(m, &c, &t, 1), 0);
    assert_int_equal(oasis_metrics_add_counters(m, NULL, &t, 1), OASIS_EINVAL);
    assert_int_equal(oasis_metrics_source_count(m), NLAYERS);
    oasis_metrics_snapshot snap;
    assert_int_equal(oasis_metrics_collect(m, 77, &snap), 0);
    assert_int_equal(snap.count, NLAYERS);
    for (size_t l = 0; l < NLAYERS; l++) {
        const oasis_metric_point *p = &snap.points[l];
        assert_string_equal(p->measurement, layer_info[l].meas);
        assert_string_equal(tag(p, "stack"), "s1");
        /* every counter of the struct is exported, in struct order: a
         * counter added to counters.h without a name fails here */
        assert_int_equal(p->nfields, layer_info[l].size / sizeof(uint64_t));
        for (size_t i = 0; i < p->nfields; i++) {
            assert_int_equal(p->fields[i].type, OASIS_METRIC_UINT);
            assert_int_equal(p->fields[i].v.u, layer_info[l].base + i);
            assert_string_equal(p->fields[i].key, oasis_metrics_layer_field(p->measurement, i));
        }
        assert_null(oasis_metrics_layer_field(p->measurement, p->nfields));
    }
    assert_null(oasis_metrics_layer_field("nope", 0));
    assert_null(oasis_metrics_layer_field(NULL, 0));
    /* values are live: read at each snapshot */
    c.tcp.active_opens = 999999;
    assert_int_equal(oasis_metrics_collect(m, 78, &snap), 0);
    assert_int_equal(ufield(find(&snap, "tcp", NULL, NULL), "ActiveOpens"), 999999);
    assert_int_equal(oasis_metrics_remove_by_ud(m, &c), NLAYERS);
    oasis_metrics_destroy(m);
}

/* Every current value counters.h marks "gauge" is exported as one (field
 * counter 0: Prometheus TYPE gauge), every other field as a counter. RFC
 * 4022 tcpCurrEstab is a Gauge32; the RA DNS lists' sizes go down too. */
static void test_layer_gauges(void **state)
{
    (void)state;
    static const char *const gauges[] = {
        "CurrEstab", "CurrTimeWait", "CurrFlows", "TCPMemBytes", "TCPMemPeakBytes", "CacheEntries", "ReasmBytes",
        "Ip6ReasmBytes", "NdCacheEntries", "Routers", "Prefixes", "RaDnsServers", "RaDnsDomains"};
    oasis_counters c;
    fill_counters(&c);
    oasis_metrics *m = mk(NULL);
    assert_int_equal(oasis_metrics_add_counters(m, &c, NULL, 0), 0);
    oasis_metrics_snapshot snap;
    assert_int_equal(oasis_metrics_collect(m, 1, &snap), 0);
    size_t seen = 0;
    for (size_t l = 0; l < snap.count; l++) {
        const oasis_metric_point *p = &snap.points[l];
        for (size_t i = 0; i < p->nfields; i++) {
            int gauge = 0;
            for (size_t g = 0; g < sizeof gauges / sizeof gauges[0]; g++)
                gauge |= strcmp(p->fields[i].key, gauges[g]) == 0;
            seen += (size_t)gauge;
            if (p->fields[i].counter == gauge)
                fail_msg("%s %s: counter %d", p->measurement, p->fields[i].key, p->fields[i].counter);
        }
    }
    assert_int_equal(seen, sizeof gauges / sizeof gauges[0]);
    oasis_metrics_destroy(m);
}

/* The Linux MIB names, each mapped to the counter it must report. */
static void test_layer_mib_names(void **state)
{
    (void)state;
    oasis_counters c;
    fill_counters(&c);
    oasis_metrics *m = mk(NULL);
    assert_int_equal(oasis_metrics_add_counters(m, &c, NULL, 0), 0);
    oasis_metrics_snapshot snap;
    assert_int_equal(oasis_metrics_collect(m, 1, &snap), 0);
    const struct {
        const char *meas, *name;
        const uint64_t *v;
    } want[] = {
        {"tcp", "ActiveOpens", &c.tcp.active_opens}, {"tcp", "PassiveOpens", &c.tcp.passive_opens},
        {"tcp", "AttemptFails", &c.tcp.attempt_fails}, {"tcp", "EstabResets", &c.tcp.estab_resets},
        {"tcp", "CurrEstab", &c.tcp.curr_estab}, {"tcp", "InSegs", &c.tcp.in_segs},
        {"tcp", "OutSegs", &c.tcp.out_segs}, {"tcp", "RetransSegs", &c.tcp.retrans_segs},
        {"tcp", "InErrs", &c.tcp.in_errs}, {"tcp", "OutRsts", &c.tcp.out_rsts},
        {"tcp", "InCsumErrors", &c.tcp.in_csum_errors},
        {"tcp", "ListenOverflows", &c.tcp.listen_overflows},
        {"tcp", "PAWSEstab", &c.tcp.paws_drops}, {"tcp", "TCPTimeouts", &c.tcp.timeouts},
        {"tcp", "TCPOFOQueue", &c.tcp.ofo_queued}, {"tcp", "TCPOFODrop", &c.tcp.ofo_drops},
        {"tcp", "SyncookiesSent", &c.tcp.syn_cookies_sent},
        {"ipv4", "InReceives", &c.ip.in_receives}, {"ipv4", "InDelivers", &c.ip.in_delivers},
        {"ipv4", "InHdrErrors", &c.ip.in_hdr_errors}, {"ipv4", "InAddrErrors", &c.ip.in_addr_errors},
        {"ipv4", "InUnknownProtos", &c.ip.in_unknown_protos},
        {"ipv4", "OutRequests", &c.ip.out_requests}, {"ipv4", "OutNoRoutes", &c.ip.out_no_routes},
        {"ipv4", "OutDiscards", &c.ip.out_discards}, {"ipv4", "ReasmReqds", &c.ip.reasm_reqds},
        {"ipv4", "ReasmOKs", &c.ip.reasm_oks}, {"ipv4", "ReasmFails", &c.ip.reasm_fails},
        {"ipv4", "ReasmTimeout", &c.ip.reasm_timeouts}, {"ipv4", "FragOKs", &c.ip.frag_oks},
        {"ipv4", "FragFails", &c.ip.frag_fails}, {"ipv4", "FragCreates", &c.ip.frag_creates},
        {"ipv4", "InCsumErrors", &c.ip.in_csum_errors},
        {"udp", "InDatagrams", &c.udp.in_datagrams}, {"udp", "NoPorts", &c.udp.no_ports},
        {"udp", "InErrors", &c.udp.in_errors}, {"udp", "InCsumErrors", &c.udp.in_csum_errors},
        {"udp", "OutDatagrams", &c.udp.out_datagrams},
        {"udp6", "Udp6InDatagrams", &c.udp6.in_datagrams}, {"udp6", "Udp6NoPorts", &c.udp6.no_ports},
        {"udp6", "Udp6InErrors", &c.udp6.in_errors},
        {"udp6", "Udp6InCsumErrors", &c.udp6.in_csum_errors},
        {"udp6", "Udp6OutDatagrams", &c.udp6.out_datagrams},
        {"icmp6", "Icmp6InMsgs", &c.icmp6.in_msgs}, {"icmp6", "Icmp6OutMsgs", &c.icmp6.out_msgs},
        {"icmp6", "Icmp6InDestUnreachs", &c.icmp6.in_dest_unreachs},
        {"icmp6", "Icmp6OutDestUnreachs", &c.icmp6.out_dest_unreachs},
        {"icmp6", "Icmp6InEchos", &c.icmp6.in_echos},
        {"icmp6", "Icmp6OutEchoReplies", &c.icmp6.out_echo_replies},
        {"icmp", "InMsgs", &c.icmp.in_msgs}, {"icmp", "InErrors", &c.icmp.in_errors},
        {"icmp", "InCsumErrors", &c.icmp.in_csum_errors}, {"icmp", "InEchos", &c.icmp.in_echos},
        {"icmp", "InEchoReps", &c.icmp.in_echo_reps},
        {"icmp", "InDestUnreachs", &c.icmp.in_dest_unreachs},
        {"icmp", "OutMsgs", &c.icmp.out_msgs}, {"icmp", "OutEchos", &c.icmp.out_echos},
        {"icmp", "OutEchoReps", &c.icmp.out_echo_reps},
        {"icmp", "OutDestUnreachs", &c.icmp.out_dest_unreachs},
        {"link", "RxFrames", &c.link.rx_frames}, {"link", "RxUnknownType", &c.link.rx_unknown_type},
        {"arp", "QueueDrops", &c.arp.queue_drops}, {"arp", "CacheEntries", &c.arp.cache_entries},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const oasis_metric_point *p = find(&snap, want[i].meas, NULL, NULL);
        assert_non_null(p);
        if (ufield(p, want[i].name) != *want[i].v)
            fail_msg("%s.%s", want[i].meas, want[i].name);
    }
    /* field names are unique within each measurement */
    for (size_t i = 0; i < snap.count; i++)
        for (size_t a = 0; a < snap.points[i].nfields; a++)
            for (size_t b = 0; b < a; b++)
                assert_true(strcmp(snap.points[i].fields[a].key, snap.points[i].fields[b].key));
    oasis_metrics_destroy(m);
}

/* ---- the per-flow source, on fake flows -------------------------------------- */

typedef struct fake_tcp {
    oasis_tcp_info info[4];
    size_t n;
    int fail_index; /* get_info fails for this flow (-1: none) */
} fake_tcp;

/* The fake "stack" pointer is the fake_tcp itself; flows point into info[]. */
static void fake_foreach(oasis_stack *s, void (*fn)(oasis_flow *flow, void *ud), void *ud)
{
    fake_tcp *ft = (fake_tcp *)(void *)s;
    for (size_t i = 0; i < ft->n; i++)
        fn((oasis_flow *)(void *)&ft->info[i], ud);
}

static int fake_get_info(const oasis_flow *flow, oasis_tcp_info *info)
{
    const oasis_tcp_info *ti = (const oasis_tcp_info *)(const void *)flow;
    if (ti->snd_wscale == 99)
        return OASIS_EINVAL;
    *info = *ti;
    return 0;
}

static const metrics_flow_ops fake_ops = {fake_foreach, fake_get_info};

static void fake_flow(oasis_tcp_info *ti, uint16_t lport, uint16_t rport, oasis_tcp_state st)
{
    memset(ti, 0, sizeof *ti);
    ti->state = st;
    ti->local_addr = OASIS_IPV4(10, 0, 0, 1);
    ti->remote_addr = OASIS_IPV4(192, 168, 255, 7);
    ti->local_port = lport;
    ti->remote_port = rport;
    ti->srtt_ns = 1500000;
    ti->rttvar_ns = 250000;
    ti->rto_ns = 201000000;
    ti->mss_send = 1460;
    ti->mss_recv = 1400;
    ti->cwnd = 14600;
    ti->ssthresh = UINT32_MAX;
    ti->bytes_in_flight = 2920;
    ti->snd_wnd = 65535;
    ti->rcv_wnd = 131072;
    ti->sndbuf = 262144;
    ti->rcvbuf = 196608;
    ti->retransmits = 3;
    ti->bytes_acked = 1ull << 33;
    ti->bytes_received = 12345;
    ti->segs_in = 10;
    ti->segs_out = 11;
}

static void test_flow_source(void **state)
{
    (void)state;
    fake_tcp ft;
    memset(&ft, 0, sizeof ft);
    fake_flow(&ft.info[0], 80, 50000, OASIS_TCP_ESTABLISHED);
    fake_flow(&ft.info[1], 80, 50001, OASIS_TCP_TIME_WAIT);
    fake_flow(&ft.info[2], 443, 50002, OASIS_TCP_SYN_SENT);
    ft.info[2].snd_wscale = 99; /* this one cannot tell: left out */
    fake_flow(&ft.info[3], 22, 50003, OASIS_TCP_CLOSE_WAIT);
    ft.n = 4;
    oasis_stack *fs = (oasis_stack *)(void *)&ft;

    oasis_metrics *m = mk(NULL);
    oasis_metric_tag t = {"stack", "a"};
    assert_int_equal(metrics_add_flows_with(m, fs, &fake_ops, &t, 1, 0), 0);
    assert_int_equal(metrics_add_flows_with(m, NULL, &fake_ops, &t, 1, 0), OASIS_EINVAL);
    oasis_metrics_snapshot snap;
    assert_int_equal(oasis_metrics_collect(m, 5, &snap), 0);
    assert_int_equal(snap.count, 3);
    const oasis_metric_point *p = &snap.points[0];
    assert_string_equal(p->measurement, "tcp_flow");
    assert_int_equal(p->ntags, 5);
    assert_tags_sorted(p);
    assert_string_equal(tag(p, "local_addr"), "10.0.0.1");
    assert_string_equal(tag(p, "local_port"), "80");
    assert_string_equal(tag(p, "remote_addr"), "192.168.255.7");
    assert_string_equal(tag(p, "remote_port"), "50000");
    assert_string_equal(tag(p, "stack"), "a");
    assert_string_equal(field(p, "state")->v.s, "ESTABLISHED");
    assert_int_equal(ufield(p, "srtt_ns"), 1500000);
    assert_int_equal(ufield(p, "rttvar_ns"), 250000);
    assert_int_equal(ufield(p, "rto_ns"), 201000000);
    assert_int_equal(ufield(p, "cwnd"), 14600);
    assert_int_equal(ufield(p, "ssthresh"), UINT32_MAX);
    assert_int_equal(ufield(p, "bytes_in_flight"), 2920);
    assert_int_equal(ufield(p, "retransmits"), 3);
    assert_int_equal(ufield(p, "bytes_acked"), 1ull << 33);
    assert_int_equal(ufield(p, "bytes_received"), 12345);
    assert_int_equal(ufield(p, "snd_wnd"), 65535);
    assert_int_equal(ufield(p, "rcv_wnd"), 131072);
    assert_int_equal(ufield(p, "sndbuf"), 262144);
    assert_int_equal(ufield(p, "rcvbuf"), 196608);
    assert_int_equal(field(p, "rcvbuf")->counter, 0); /* a size: a gauge */
    assert_int_equal(field(p, "retransmits")->counter, 1);
    assert_int_equal(ufield(p, "mss_send"), 1460);
    assert_int_equal(ufield(p, "segs_out"), 11);
    assert_string_equal(field(&snap.points[1], "state")->v.s, "TIME_WAIT");
    assert_string_equal(tag(&snap.points[2], "local_port"), "22");
    assert_string_equal(field(&snap.points[2], "state")->v.s, "CLOSE_WAIT");

    /* the cap on flows per snapshot */
    oasis_metrics_remove_by_ud(m, fs);
    assert_int_equal(metrics_add_flows_with(m, fs, &fake_ops, NULL, 0, 2), 0);
    assert_int_equal(oasis_metrics_collect(m, 5, &snap), 0);
    assert_int_equal(snap.count, 2);
    /* no flows: no points, no failure */
    ft.n = 0;
    assert_int_equal(oasis_metrics_collect(m, 5, &snap), 0);
    assert_int_equal(snap.count, 0);
    assert_int_equal(snap.failed_sources, 0);
    oasis_metrics_destroy(m);

    assert_string_equal(metrics_tcp_state_name(OASIS_TCP_CLOSED), "CLOSED");
    assert_string_equal(metrics_tcp_state_name(OASIS_TCP_SYN_RECEIVED), "SYN_RECEIVED");
    assert_string_equal(metrics_tcp_state_name(OASIS_TCP_LAST_ACK), "LAST_ACK");
    assert_string_equal(metrics_tcp_state_name(42), "UNKNOWN");
    assert_string_equal(metrics_tcp_state_name(-1), "UNKNOWN");
}

/* ---- two stacks on a wire --------------------------------------------------- */

static void udp_sink(oasis_stack *s, uint32_t src, uint16_t sp, uint32_t dst, uint16_t dp,
                     const uint8_t *data, size_t len, void *ud)
{
    (void)s, (void)src, (void)sp, (void)dst, (void)dp, (void)data, (void)len;
    (*(int *)ud)++;
}

static void ping_done(oasis_stack *s, int err, uint16_t seq, uint64_t rtt, void *ud)
{
    (void)s, (void)seq, (void)rtt;
    *(int *)ud = err == 0 ? 1 : 2;
}

/* Every field of every layer point equals the stack's counter (same order
 * as the struct, checked by test_layer_sources_counters). */
static void check_against_counters_n(const oasis_metrics_snapshot *snap, const char *name,
                                     const oasis_counters *c, size_t n)
{
    const uint64_t *layers[] = {(const uint64_t *)&c->link, (const uint64_t *)&c->arp,
                                (const uint64_t *)&c->ip,   (const uint64_t *)&c->icmp,
                                (const uint64_t *)&c->udp,  (const uint64_t *)&c->tcp,
                                (const uint64_t *)&c->ipv6, (const uint64_t *)&c->icmp6,
                                (const uint64_t *)&c->nd, (const uint64_t *)&c->udp6};
    for (size_t l = 0; l < n; l++) {
        const oasis_metric_point *p = find(snap, layer_info[l].meas, name ? "stack" : NULL, name);
        assert_non_null(p);
        for (size_t i = 0; i < p->nfields; i++)
            assert_int_equal(p->fields[i].v.u, layers[l][i]);
    }
}

static void check_against_counters(const oasis_metrics_snapshot *snap, const char *name,
                                   const oasis_counters *c)
{
    check_against_counters_n(snap, name, c, NLAYERS_V4);
}

static void test_two_stacks(void **state)
{
    (void)state;
    test_net net;
    test_net_init(&net, NULL, NULL);
    oasis_metrics *m = mk(NULL);
    oasis_metric_tag ta = {"stack", "a"}, tb = {"stack", "b"};
    assert_int_equal(oasis_metrics_add_stack(m, net.a, &ta, 1), 0);
    assert_int_equal(oasis_metrics_add_stack(m, net.b, &tb, 1), 0);
    assert_int_equal(oasis_metrics_add_stack(m, NULL, &tb, 1), OASIS_EINVAL);

    int got = 0, pinged = 0;
    assert_int_equal(oasis_udp_bind4(net.b, 7, udp_sink, &got), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(oasis_udp_send4(net.a, 1234, TEST_ADDR_B, 7, "hello", 5), 0);
    oasis_wire_run(net.wire, NULL, NULL, 5 * OASIS_NS_PER_SEC);
    assert_int_equal(oasis_udp_send4(net.a, 1234, TEST_ADDR_B, 9, "nobody", 6), 0);
    assert_int_equal(oasis_ping(net.a, TEST_ADDR_B, 1, 1, 32, OASIS_NS_PER_SEC, ping_done, &pinged),
                     0);
    test_net_run_until(&net, &pinged, 5 * OASIS_NS_PER_SEC);
    oasis_wire_run(net.wire, NULL, NULL, OASIS_NS_PER_SEC);
    assert_int_equal(got, 3);
    assert_int_equal(pinged, 1);

    oasis_metrics_snapshot snap;
    assert_int_equal(oasis_metrics_collect(m, 1, &snap), 0);
    assert_int_equal(snap.count, 2 * NLAYERS_V4); /* IPv4-only stacks */
    assert_int_equal(snap.failed_sources, 0);
    const oasis_metric_point *ua = find(&snap, "udp", "stack", "a");
    const oasis_metric_point *ub = find(&snap, "udp", "stack", "b");
    assert_int_equal(ufield(ua, "OutDatagrams"), 4);
    assert_int_equal(ufield(ub, "InDatagrams"), 3);
    assert_int_equal(ufield(ub, "NoPorts"), 1);
    const oasis_metric_point *ia = find(&snap, "icmp", "stack", "a");
    const oasis_metric_point *ib = find(&snap, "icmp", "stack", "b");
    assert_int_equal(ufield(ia, "OutEchos"), 1);
    assert_int_equal(ufield(ia, "InEchoReps"), 1);
    assert_int_equal(ufield(ib, "InEchos"), 1);
    assert_int_equal(ufield(ib, "OutEchoReps"), 1);
    assert_int_equal(ufield(ib, "OutDestUnreachs"), 1); /* port 9 */
    assert_int_equal(ufield(ia, "InDestUnreachs"), 1);
    assert_true(ufield(find(&snap, "ipv4", "stack", "b"), "InReceives") >= 5);
    assert_true(ufield(find(&snap, "link", "stack", "a"), "TxFrames") >= 5);
    assert_true(ufield(find(&snap, "arp", "stack", "a"), "RxReplies") >= 1);
    check_against_counters(&snap, "a", oasis_stack_counters(net.a));
    check_against_counters(&snap, "b", oasis_stack_counters(net.b));

    /* the whole snapshot goes through the encoder */
    oasis_lp_buf b;
    oasis_lp_buf_init(&b, 1 << 16, NULL, NULL);
    size_t next, rejected;
    assert_int_equal(oasis_lp_encode_points(&b, snap.points, snap.count, 0, &next, &rejected), 0);
    assert_int_equal(next, 2 * NLAYERS_V4);
    assert_int_equal(rejected, 0);
    size_t lines = 0;
    for (size_t i = 0; i < b.len; i++)
        lines += b.data[i] == '\n';
    assert_int_equal(lines, 2 * NLAYERS_V4);
    char *text = malloc(b.len + 1);
    assert_non_null(text);
    memcpy(text, b.data, b.len);
    text[b.len] = '\0';
    assert_non_null(strstr(text, "udp,stack=b InDatagrams=3i,NoPorts=1i,InErrors=0i,"
                                 "InCsumErrors=0i,OutDatagrams=0i,InZeroCsum=0i,IcmpErrors=0i,"
                                 "IcmpNoPort=0i 1\n"));
    free(text);
    oasis_lp_buf_free(&b);

    /* disabling a layer for every stack at once */
    assert_int_equal(oasis_metrics_enable(m, "arp", 0), 2);
    assert_int_equal(oasis_metrics_collect(m, 2, &snap), 0);
    assert_int_equal(snap.count, 2 * NLAYERS_V4 - 2);
    assert_null(find(&snap, "arp", NULL, NULL));

    /* a stack going away takes its sources with it */
    assert_int_equal(oasis_metrics_remove_by_ud(m, net.a), NLAYERS_V4);
    assert_int_equal(oasis_metrics_collect(m, 3, &snap), 0);
    assert_int_equal(snap.count, NLAYERS_V4 - 1);
    assert_null(find(&snap, "udp", "stack", "a"));
    oasis_metrics_destroy(m);
    test_net_fini(&net);
}

/* A stack running IPv6 adds the ipv6, icmp6, nd and udp6 sources. */
static void test_dual_stack_sources(void **state)
{
    (void)state;
    oasis_clock *clk = oasis_clock_new_virtual(0);
    oasis_stack_config cfg;
    test_stack_config(&cfg, clk, 1);
    cfg.ipv6 = 1;
    oasis_stack *s;
    assert_int_equal(oasis_stack_create(&cfg, &s), 0);
    oasis_metrics *m = mk(NULL);
    assert_int_equal(oasis_metrics_add_stack(m, s, NULL, 0), 0);
    assert_int_equal(oasis_metrics_source_count(m), NLAYERS);
    oasis_metrics_snapshot snap;
    assert_int_equal(oasis_metrics_collect(m, 1, &snap), 0);
    assert_non_null(find(&snap, "ipv6", NULL, NULL));
    assert_non_null(find(&snap, "nd", NULL, NULL));
    assert_non_null(find(&snap, "udp6", NULL, NULL));
    const oasis_metric_point *p = find(&snap, "icmp6", NULL, NULL);
    assert_non_null(p);
    assert_int_equal(ufield(p, "Icmp6InEchos"), 0);
    check_against_counters_n(&snap, NULL, oasis_stack_counters(s), NLAYERS);
    oasis_metrics_destroy(m);
    oasis_stack_destroy(s);
    oasis_clock_free(clk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_destroy),
        cmocka_unit_test(test_custom_source),
        cmocka_unit_test(test_add_source_invalid),
        cmocka_unit_test(test_enable_disable),
        cmocka_unit_test(test_remove),
        cmocka_unit_test(test_multi_point),
        cmocka_unit_test(test_emit_errors),
        cmocka_unit_test(test_failing_source),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_steady_state_no_alloc),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_layer_sources_counters),
        cmocka_unit_test(test_layer_mib_names),
        cmocka_unit_test(test_layer_gauges),
        cmocka_unit_test(test_flow_source),
        cmocka_unit_test(test_two_stacks),
        cmocka_unit_test(test_dual_stack_sources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
