/* The metrics registry: sources, and collecting them into a snapshot. */
#include "metrics/metrics_impl.h"

#include "core/mem.h"
#include "oasis/error.h"

#include <math.h>
#include <string.h>

void *metrics_alloc(oasis_metrics *m, void *p, size_t n)
{
    return m->cfg.alloc(m->cfg.alloc_ud, p, n ? n : 1);
}

void metrics_free(oasis_metrics *m, void *p)
{
    if (p)
        m->cfg.alloc(m->cfg.alloc_ud, p, 0);
}

int metrics_name_ok(const char *s)
{
    if (!s || !*s)
        return 0;
    size_t n = strcspn(s, "\n\r");
    return s[n] == '\0' && n <= OASIS_METRICS_MAX_STRING;
}

/* String field values may be empty; the other rules hold. */
static int value_ok(const char *s)
{
    if (!s)
        return 0;
    size_t n = strcspn(s, "\n\r");
    return s[n] == '\0' && n <= OASIS_METRICS_MAX_STRING;
}

void oasis_metrics_config_init(oasis_metrics_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->max_sources = 256;
    cfg->max_points = 4096;
    cfg->max_tags = 32;
    cfg->max_fields = 128;
    cfg->max_string_bytes = 1u << 20;
}

int oasis_metrics_create(const oasis_metrics_config *cfg, oasis_metrics **out)
{
    oasis_metrics_config c;
    if (!out)
        return OASIS_EINVAL;
    *out = NULL;
    if (cfg)
        c = *cfg;
    else
        oasis_metrics_config_init(&c);
    if (!c.max_sources || !c.max_points || !c.max_tags || !c.max_fields || !c.max_string_bytes)
        return OASIS_EINVAL;
    if (!c.alloc)
        c.alloc = oasis_default_alloc;
    oasis_metrics *m = c.alloc(c.alloc_ud, NULL, sizeof *m);
    if (!m)
        return OASIS_ENOMEM;
    memset(m, 0, sizeof *m);
    m->cfg = c;
    *out = m;
    return OASIS_OK;
}

static void source_free(oasis_metrics *m, oasis_metrics_source *src)
{
    metrics_free(m, src->priv);
    metrics_free(m, src->tags); /* one block: tags array, their strings, the name */
    metrics_free(m, src);
}

int oasis_metrics_destroy(oasis_metrics *m)
{
    if (!m)
        return OASIS_OK;
    if (m->collecting)
        return OASIS_EBUSY;
    while (m->head) {
        oasis_metrics_source *next = m->head->next;
        source_free(m, m->head);
        m->head = next;
    }
    while (m->chunks) {
        metrics_chunk *next = m->chunks->next;
        metrics_free(m, m->chunks);
        m->chunks = next;
    }
    metrics_free(m, m->points);
    metrics_free(m, m->pix);
    metrics_free(m, m->tags);
    metrics_free(m, m->fields);
    metrics_free(m, m);
    return OASIS_OK;
}

/* Tags are few: insertion sort keeps this short and allocation-free. */
static void sort_tags(oasis_metric_tag *t, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        oasis_metric_tag x = t[i];
        size_t j = i;
        for (; j > 0 && strcmp(t[j - 1].key, x.key) > 0; j--)
            t[j] = t[j - 1];
        t[j] = x;
    }
}

static int check_source_tags(const oasis_metrics *m, const oasis_metric_tag *tags, size_t n)
{
    if (n && !tags)
        return OASIS_EINVAL;
    if (n > m->cfg.max_tags)
        return OASIS_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!metrics_name_ok(tags[i].key) || !metrics_name_ok(tags[i].value))
            return OASIS_EINVAL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(tags[i].key, tags[j].key) == 0)
                return OASIS_EINVAL;
    }
    return OASIS_OK;
}

/* Copies name and tags into one block owned by the source. */
static int source_copy_strings(oasis_metrics *m, oasis_metrics_source *src, const char *name,
                               const oasis_metric_tag *tags, size_t n)
{
    size_t bytes = n * sizeof *tags + strlen(name) + 1;
    for (size_t i = 0; i < n; i++)
        bytes += strlen(tags[i].key) + strlen(tags[i].value) + 2;
    oasis_metric_tag *block = metrics_alloc(m, NULL, bytes);
    if (!block)
        return OASIS_ENOMEM;
    char *p = (char *)(block + n);
    for (size_t i = 0; i < n; i++) {
        size_t kl = strlen(tags[i].key) + 1, vl = strlen(tags[i].value) + 1;
        block[i].key = memcpy(p, tags[i].key, kl);
        p += kl;
        block[i].value = memcpy(p, tags[i].value, vl);
        p += vl;
    }
    src->name = memcpy(p, name, strlen(name) + 1);
    sort_tags(block, n);
    src->tags = block;
    src->ntags = n;
    return OASIS_OK;
}

int metrics_add_source_ex(oasis_metrics *m, const char *name, const oasis_metric_tag *tags,
                          size_t ntags, oasis_metrics_read_fn read, void *ud, const void *key,
                          void *priv, oasis_metrics_source **out)
{
    int rc = OASIS_EINVAL;
    if (!m || !read || !metrics_name_ok(name))
        goto fail;
    if (m->collecting) {
        rc = OASIS_EBUSY; /* collect walks the source list */
        goto fail;
    }
    if ((rc = check_source_tags(m, tags, ntags)) != 0)
        goto fail;
    rc = OASIS_ENOMEM;
    if (m->nsources >= m->cfg.max_sources)
        goto fail;
    oasis_metrics_source *src = metrics_alloc(m, NULL, sizeof *src);
    if (!src)
        goto fail;
    memset(src, 0, sizeof *src);
    if ((rc = source_copy_strings(m, src, name, tags, ntags)) != 0) {
        metrics_free(m, src);
        goto fail;
    }
    src->m = m;
    src->read = read;
    src->ud = ud;
    src->key = key;
    src->priv = priv;
    src->enabled = 1;
    if (m->tail)
        m->tail->next = src;
    else
        m->head = src;
    m->tail = src;
    m->nsources++;
    if (out)
        *out = src;
    return OASIS_OK;
fail:
    if (m)
        metrics_free(m, priv);
    return rc;
}

int oasis_metrics_add_source(oasis_metrics *m, const char *name, const oasis_metric_tag *tags,
                             size_t ntags, oasis_metrics_read_fn read, void *ud,
                             oasis_metrics_source **out)
{
    return metrics_add_source_ex(m, name, tags, ntags, read, ud, ud, NULL, out);
}

static void unlink_source(oasis_metrics *m, oasis_metrics_source *src, oasis_metrics_source *prev)
{
    if (prev)
        prev->next = src->next;
    else
        m->head = src->next;
    if (m->tail == src)
        m->tail = prev;
    m->nsources--;
    /* The last snapshot may point at this source's strings: forget it. */
    m->npoints = 0;
    source_free(m, src);
}

int oasis_metrics_remove(oasis_metrics_source *src)
{
    if (!src)
        return OASIS_EINVAL;
    oasis_metrics *m = src->m;
    if (m->collecting)
        return OASIS_EBUSY;
    oasis_metrics_source *prev = NULL;
    for (oasis_metrics_source *it = m->head; it; prev = it, it = it->next) {
        if (it == src) {
            unlink_source(m, src, prev);
            return OASIS_OK;
        }
    }
    return OASIS_ENOENT;
}

size_t oasis_metrics_remove_by_ud(oasis_metrics *m, const void *ud)
{
    size_t n = 0;
    if (!m || m->collecting)
        return 0;
    oasis_metrics_source *prev = NULL, *it = m->head;
    while (it) {
        oasis_metrics_source *next = it->next;
        if (it->key == ud) {
            unlink_source(m, it, prev);
            n++;
        } else {
            prev = it;
        }
        it = next;
    }
    return n;
}

void oasis_metrics_source_enable(oasis_metrics_source *src, int on)
{
    if (src)
        src->enabled = on != 0;
}

int oasis_metrics_source_enabled(const oasis_metrics_source *src)
{
    return src ? src->enabled : 0;
}

size_t oasis_metrics_enable(oasis_metrics *m, const char *name, int on)
{
    size_t n = 0;
    if (!m || !name)
        return 0;
    for (oasis_metrics_source *it = m->head; it; it = it->next) {
        if (strcmp(it->name, name) == 0) {
            it->enabled = on != 0;
            n++;
        }
    }
    return n;
}

int oasis_metrics_source_error(const oasis_metrics_source *src)
{
    return src ? src->last_error : OASIS_EINVAL;
}

const char *oasis_metrics_source_name(const oasis_metrics_source *src)
{
    return src ? src->name : NULL;
}

size_t oasis_metrics_source_count(const oasis_metrics *m)
{
    return m ? m->nsources : 0;
}

/* ---- snapshot storage ---------------------------------------------------- */

/* Grows *arr so it holds `need` elements, doubling, never past limit. */
static int grow(oasis_metrics *m, void **arr, size_t *cap, size_t need, size_t elem, size_t limit)
{
    if (need <= *cap)
        return OASIS_OK;
    if (need > limit)
        return OASIS_ENOMEM;
    size_t ncap = *cap ? *cap * 2 : 16;
    if (ncap < need)
        ncap = need;
    if (ncap > limit)
        ncap = limit;
    void *p = metrics_alloc(m, *arr, ncap * elem);
    if (!p)
        return OASIS_ENOMEM;
    *arr = p;
    *cap = ncap;
    return OASIS_OK;
}

/* Copies a string into the snapshot's chunks. */
static const char *snap_strdup(oasis_metrics *m, const char *s)
{
    size_t n = strlen(s) + 1;
    if (m->string_bytes + n > m->cfg.max_string_bytes)
        return NULL;
    metrics_chunk *c = m->cur_chunk;
    if (!c || c->used + n > METRICS_CHUNK) {
        if (c && c->next) {
            c = c->next;
        } else {
            if (m->nchunks > m->cfg.max_string_bytes / METRICS_CHUNK)
                return NULL;
            metrics_chunk *nc = metrics_alloc(m, NULL, sizeof *nc);
            if (!nc)
                return NULL;
            nc->next = NULL;
            if (c)
                c->next = nc;
            else
                m->chunks = nc;
            m->nchunks++;
            c = nc;
        }
        c->used = 0;
        m->cur_chunk = c;
    }
    char *p = memcpy(c->data + c->used, s, n);
    c->used += n;
    m->string_bytes += n;
    return p;
}

static int open_point(oasis_metrics_emit *e)
{
    oasis_metrics *m = e->m;
    oasis_metrics_source *src = e->src;
    if (e->open)
        return OASIS_OK;
    size_t need = m->npoints + 1;
    size_t pcap = m->points_cap, xcap = m->points_cap;
    if (grow(m, (void **)&m->points, &pcap, need, sizeof *m->points, m->cfg.max_points) ||
        grow(m, (void **)&m->pix, &xcap, need, sizeof *m->pix, m->cfg.max_points))
        return OASIS_ENOMEM;
    m->points_cap = pcap < xcap ? pcap : xcap;
    size_t tag_limit = (size_t)m->cfg.max_points * m->cfg.max_tags;
    if (grow(m, (void **)&m->tags, &m->tags_cap, m->ntags + src->ntags, sizeof *m->tags, tag_limit))
        return OASIS_ENOMEM;
    oasis_metric_point *p = &m->points[m->npoints];
    memset(p, 0, sizeof *p);
    p->measurement = src->name;
    p->ntags = src->ntags;
    m->pix[m->npoints].tag0 = m->ntags;
    m->pix[m->npoints].field0 = m->nfields;
    if (src->ntags)
        memcpy(m->tags + m->ntags, src->tags, src->ntags * sizeof *src->tags);
    m->ntags += src->ntags;
    m->npoints++;
    e->open = 1;
    return OASIS_OK;
}

/* Ends the open point: sorted tags, or dropped when it has no fields. */
static void close_point(oasis_metrics_emit *e)
{
    oasis_metrics *m = e->m;
    if (!e->open)
        return;
    e->open = 0;
    size_t i = m->npoints - 1;
    if (m->points[i].nfields == 0) {
        m->ntags = m->pix[i].tag0;
        m->nfields = m->pix[i].field0;
        m->npoints--;
        return;
    }
    if (m->points[i].ntags)
        sort_tags(m->tags + m->pix[i].tag0, m->points[i].ntags);
}

int oasis_metrics_next_point(oasis_metrics_emit *e)
{
    if (!e)
        return OASIS_EINVAL;
    close_point(e);
    return OASIS_OK;
}

/* Adds a field of the open point (opening one); the value is set by the
 * caller through the returned pointer. */
static int add_field(oasis_metrics_emit *e, const char *key, oasis_metric_field **out)
{
    if (!e || !metrics_name_ok(key))
        return OASIS_EINVAL;
    oasis_metrics *m = e->m;
    int rc = open_point(e);
    if (rc)
        return rc;
    oasis_metric_point *p = &m->points[m->npoints - 1];
    size_t f0 = m->pix[m->npoints - 1].field0;
    for (size_t i = 0; i < p->nfields; i++)
        if (strcmp(m->fields[f0 + i].key, key) == 0)
            return OASIS_EINVAL;
    if (p->nfields >= m->cfg.max_fields)
        return OASIS_ENOMEM;
    size_t limit = (size_t)m->cfg.max_points * m->cfg.max_fields;
    if (grow(m, (void **)&m->fields, &m->fields_cap, m->nfields + 1, sizeof *m->fields, limit))
        return OASIS_ENOMEM;
    const char *k = snap_strdup(m, key);
    if (!k)
        return OASIS_ENOMEM;
    oasis_metric_field *f = &m->fields[m->nfields++];
    memset(f, 0, sizeof *f);
    f->key = k;
    p->nfields++;
    *out = f;
    return OASIS_OK;
}

int oasis_metrics_field_int(oasis_metrics_emit *e, const char *key, int64_t v)
{
    oasis_metric_field *f;
    int rc = add_field(e, key, &f);
    if (rc)
        return rc;
    f->type = OASIS_METRIC_INT;
    f->v.i = v;
    return OASIS_OK;
}

int oasis_metrics_field_uint(oasis_metrics_emit *e, const char *key, uint64_t v)
{
    oasis_metric_field *f;
    int rc = add_field(e, key, &f);
    if (rc)
        return rc;
    f->type = OASIS_METRIC_UINT;
    f->v.u = v;
    return OASIS_OK;
}

int oasis_metrics_field_counter(oasis_metrics_emit *e, const char *key, uint64_t v)
{
    oasis_metric_field *f;
    int rc = add_field(e, key, &f);
    if (rc)
        return rc;
    f->type = OASIS_METRIC_UINT;
    f->v.u = v;
    f->counter = 1;
    return OASIS_OK;
}

int oasis_metrics_field_float(oasis_metrics_emit *e, const char *key, double v)
{
    oasis_metric_field *f;
    if (!isfinite(v))
        return OASIS_EINVAL;
    int rc = add_field(e, key, &f);
    if (rc)
        return rc;
    f->type = OASIS_METRIC_FLOAT;
    f->v.f = v;
    return OASIS_OK;
}

int oasis_metrics_field_bool(oasis_metrics_emit *e, const char *key, int v)
{
    oasis_metric_field *f;
    int rc = add_field(e, key, &f);
    if (rc)
        return rc;
    f->type = OASIS_METRIC_BOOL;
    f->v.b = v != 0;
    return OASIS_OK;
}

int oasis_metrics_field_string(oasis_metrics_emit *e, const char *key, const char *v)
{
    oasis_metric_field *f;
    if (!value_ok(v))
        return OASIS_EINVAL;
    /* Copy the value first: on failure no field is left half-made. */
    if (!e || !metrics_name_ok(key))
        return OASIS_EINVAL;
    const char *copy = snap_strdup(e->m, v);
    if (!copy)
        return OASIS_ENOMEM;
    int rc = add_field(e, key, &f);
    if (rc)
        return rc;
    f->type = OASIS_METRIC_STRING;
    f->v.s = copy;
    return OASIS_OK;
}

int oasis_metrics_tag(oasis_metrics_emit *e, const char *key, const char *value)
{
    if (!e || !metrics_name_ok(key) || !metrics_name_ok(value))
        return OASIS_EINVAL;
    oasis_metrics *m = e->m;
    int rc = open_point(e);
    if (rc)
        return rc;
    oasis_metric_point *p = &m->points[m->npoints - 1];
    size_t t0 = m->pix[m->npoints - 1].tag0;
    for (size_t i = 0; i < p->ntags; i++)
        if (strcmp(m->tags[t0 + i].key, key) == 0)
            return OASIS_EINVAL;
    if (p->ntags >= m->cfg.max_tags)
        return OASIS_ENOMEM;
    size_t limit = (size_t)m->cfg.max_points * m->cfg.max_tags;
    if (grow(m, (void **)&m->tags, &m->tags_cap, m->ntags + 1, sizeof *m->tags, limit))
        return OASIS_ENOMEM;
    const char *k = snap_strdup(m, key), *v = k ? snap_strdup(m, value) : NULL;
    if (!v)
        return OASIS_ENOMEM;
    m->tags[m->ntags].key = k;
    m->tags[m->ntags].value = v;
    m->ntags++;
    p->ntags++;
    return OASIS_OK;
}

/* ---- collecting ---------------------------------------------------------- */

static void snapshot_reset(oasis_metrics *m)
{
    m->npoints = m->ntags = m->nfields = 0;
    m->string_bytes = 0;
    m->cur_chunk = m->chunks;
    if (m->chunks)
        m->chunks->used = 0;
}

/* Reads one source; on failure its points are taken back out. */
static int read_source(oasis_metrics *m, oasis_metrics_source *src)
{
    size_t np = m->npoints, nt = m->ntags, nf = m->nfields;
    oasis_metrics_emit e = {m, src, 0};
    int rc = src->read(&e, src->ud);
    close_point(&e);
    if (rc) {
        m->npoints = np;
        m->ntags = nt;
        m->nfields = nf;
    }
    src->last_error = rc;
    return rc;
}

int oasis_metrics_collect(oasis_metrics *m, uint64_t timestamp_ns, oasis_metrics_snapshot *snap)
{
    if (!m || !snap)
        return OASIS_EINVAL;
    if (m->collecting)
        return OASIS_EBUSY; /* from a read callback: the snapshot is being built */
    memset(snap, 0, sizeof *snap);
    snapshot_reset(m);
    m->collecting++;
    for (oasis_metrics_source *src = m->head; src; src = src->next) {
        if (src->enabled && read_source(m, src) != 0)
            snap->failed_sources++;
    }
    m->collecting--;
    for (size_t i = 0; i < m->npoints; i++) {
        oasis_metric_point *p = &m->points[i];
        p->tags = p->ntags ? m->tags + m->pix[i].tag0 : NULL;
        p->fields = m->fields + m->pix[i].field0;
        p->timestamp_ns = timestamp_ns;
    }
    snap->points = m->points;
    snap->count = m->npoints;
    snap->timestamp_ns = timestamp_ns;
    return OASIS_OK;
}
