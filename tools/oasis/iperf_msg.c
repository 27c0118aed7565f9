/* `oasis iperf`: iperf3's control messages, encoded and decoded with cJSON
 * (Debian's libcjson, the library iperf3 itself embeds). Every value from
 * the peer is type- and range-checked before use. */
#include "iperf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#ifdef OASIS_HAVE_CJSON
#include <cjson/cJSON.h>

void ipf_params_init(ipf_params *p)
{
    memset(p, 0, sizeof *p);
    p->tcp = 1;
    p->parallel = 1;
    p->len = IPF_DEFAULT_BLKSIZE;
}

static int add_num(cJSON *o, const char *k, double v)
{
    return cJSON_AddNumberToObject(o, k, v) != NULL;
}

char *ipf_params_encode(const ipf_params *p)
{
    cJSON *j = cJSON_CreateObject();
    int ok = j != NULL;
    ok = ok && cJSON_AddTrueToObject(j, "tcp");
    ok = ok && add_num(j, "omit", p->omit);
    ok = ok && add_num(j, "time", p->time);
    if (p->num)
        ok = ok && add_num(j, "num", (double)p->num);
    if (p->blockcount)
        ok = ok && add_num(j, "blockcount", (double)p->blockcount);
    if (p->mss)
        ok = ok && add_num(j, "MSS", p->mss);
    if (p->nodelay)
        ok = ok && cJSON_AddTrueToObject(j, "nodelay");
    ok = ok && add_num(j, "parallel", p->parallel);
    if (p->reverse)
        ok = ok && cJSON_AddTrueToObject(j, "reverse");
    if (p->window)
        ok = ok && add_num(j, "window", p->window);
    ok = ok && add_num(j, "len", p->len);
    ok = ok && add_num(j, "pacing_timer", 1000);
    /* The version iperf3 checks nothing against; says who we speak like. */
    ok = ok && cJSON_AddStringToObject(j, "client_version", "3.12");
    char *s = ok ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    return s;
}

/* A number member in [lo, hi] and integral: 1 found (in *out), 0 absent,
 * -1 present but wrong. */
static int get_uint(const cJSON *o, const char *k, double lo, double hi, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < lo ||
        v->valuedouble > hi || v->valuedouble != floor(v->valuedouble))
        return -1;
    *out = (uint64_t)v->valuedouble;
    return 1;
}

/* iperf3 marks flags with true; a present key counts, whatever its value
 * (get_parameters tests presence only). */
static int has(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k) != NULL;
}

static int fail(char *why, size_t whylen, int code, const char *msg, const char *key)
{
    snprintf(why, whylen, "%s%s%s", msg, key ? " " : "", key ? key : "");
    return code;
}

int ipf_params_decode(const char *buf, size_t len, ipf_params *p, char *why, size_t whylen)
{
    ipf_params_init(p);
    if (len > IPF_MAX_PARAMS_JSON)
        return fail(why, whylen, IPF_IERECVPARAMS, "parameters too long", NULL);
    cJSON *j = cJSON_ParseWithLength(buf, len);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return fail(why, whylen, IPF_IERECVPARAMS, "parameters are not a JSON object", NULL);
    }
    int rc = 0;
    uint64_t v;
    p->udp = has(j, "udp");
    p->sctp = has(j, "sctp");
    p->tcp = !p->udp && !p->sctp;
    p->reverse = has(j, "reverse");
    p->bidirectional = has(j, "bidirectional");
    p->nodelay = has(j, "nodelay");
    static const struct {
        const char *key;
        double lo, hi;
        int code;
    } nums[] = {
        {"omit", 0, IPF_MAX_TIME, IPF_IERECVPARAMS},
        {"time", 0, IPF_MAX_TIME, IPF_IERECVPARAMS},
        {"num", 0, 9007199254740992.0, IPF_IERECVPARAMS}, /* 2^53: exact in a double */
        {"blockcount", 0, 9007199254740992.0, IPF_IERECVPARAMS},
        {"parallel", 1, IPF_MAX_STREAMS, IPF_IENUMSTREAMS},
        {"len", 1, IPF_MAX_BLKSIZE, IPF_IEBLOCKSIZE},
        {"window", 0, IPF_MAX_WINDOW, IPF_IEBUFSIZE},
        {"MSS", 0, 65535, IPF_IERECVPARAMS},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0] && rc == 0; i++) {
        int g = get_uint(j, nums[i].key, nums[i].lo, nums[i].hi, &v);
        if (g < 0) {
            rc = fail(why, whylen, nums[i].code, "bad value for", nums[i].key);
            break;
        }
        if (g == 0)
            continue;
        switch (i) {
        case 0: p->omit = (uint32_t)v; break;
        case 1: p->time = (uint32_t)v; break;
        case 2: p->num = v; break;
        case 3: p->blockcount = v; break;
        case 4: p->parallel = (uint32_t)v; break;
        case 5: p->len = (uint32_t)v; break;
        case 6: p->window = (uint32_t)v; break;
        case 7: p->mss = (uint32_t)v; break;
        }
    }
    const cJSON *cv = cJSON_GetObjectItemCaseSensitive(j, "client_version");
    if (cJSON_IsString(cv) && cv->valuestring) {
        /* Kept printable only: it goes to our log. */
        size_t k = 0;
        for (const char *c = cv->valuestring; *c && k + 1 < sizeof p->client_version; c++)
            p->client_version[k++] = (*c >= 0x20 && *c < 0x7f) ? *c : '?';
        p->client_version[k] = 0;
    }
    if (rc == 0 && !p->tcp)
        rc = fail(why, whylen, IPF_IEUNIMP, "only TCP tests are supported", NULL);
    else if (rc == 0 && p->bidirectional)
        rc = fail(why, whylen, IPF_IEUNIMP, "--bidir is not supported", NULL);
    else if (rc == 0 && p->window && p->window < 1024)
        rc = fail(why, whylen, IPF_IEBUFSIZE, "window below 1 KiB", NULL);
    else if (rc == 0 && p->blockcount && p->blockcount > UINT64_MAX / p->len)
        rc = fail(why, whylen, IPF_IERECVPARAMS, "blockcount too large", NULL);
    cJSON_Delete(j);
    return rc;
}

char *ipf_results_encode(const ipf_results *r)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *arr = NULL;
    int ok = j != NULL;
    ok = ok && add_num(j, "cpu_util_total", r->cpu_total);
    ok = ok && add_num(j, "cpu_util_user", r->cpu_user);
    ok = ok && add_num(j, "cpu_util_system", r->cpu_system);
    ok = ok && add_num(j, "sender_has_retransmits", r->sender_has_retransmits);
    if (ok && r->congestion_used[0])
        ok = cJSON_AddStringToObject(j, "congestion_used", r->congestion_used) != NULL;
    ok = ok && (arr = cJSON_AddArrayToObject(j, "streams")) != NULL;
    for (size_t i = 0; ok && i < r->nstreams; i++) {
        const ipf_stream_result *s = &r->streams[i];
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(arr, o);
        if (!ok) {
            cJSON_Delete(o);
            break;
        }
        ok = add_num(o, "id", s->id) && add_num(o, "bytes", (double)s->bytes) &&
             add_num(o, "retransmits", (double)s->retransmits) && add_num(o, "jitter", 0) &&
             add_num(o, "errors", 0) && add_num(o, "packets", 0) &&
             add_num(o, "start_time", s->start_time) && add_num(o, "end_time", s->end_time);
    }
    char *out = ok ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    return out;
}

/* A finite number member, or def when absent or not a number. */
static double get_double(const cJSON *o, const char *k, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : def;
}

int ipf_results_decode(const char *buf, size_t len, ipf_results *r, char *why, size_t whylen)
{
    memset(r, 0, sizeof *r);
    if (len > IPF_MAX_RESULTS_JSON)
        return fail(why, whylen, -1, "results too long", NULL);
    cJSON *j = cJSON_ParseWithLength(buf, len);
    int rc = 0;
    if (!j || !cJSON_IsObject(j)) {
        rc = fail(why, whylen, -1, "results are not a JSON object", NULL);
        goto out;
    }
    /* get_results insists on these four, so do we. */
    static const char *const need[] = {"cpu_util_total", "cpu_util_user", "cpu_util_system",
                                       "sender_has_retransmits"};
    for (size_t i = 0; i < 4; i++)
        if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, need[i]))) {
            rc = fail(why, whylen, -1, "results without", need[i]);
            goto out;
        }
    r->cpu_total = get_double(j, "cpu_util_total", 0);
    r->cpu_user = get_double(j, "cpu_util_user", 0);
    r->cpu_system = get_double(j, "cpu_util_system", 0);
    /* iperf3 prints -1 as 18446744073709551615 (an int64 through %llu): any
     * value but 0 and 1 means "no retransmit figures". */
    double shr = get_double(j, "sender_has_retransmits", -1);
    r->sender_has_retransmits = shr == 1 ? 1 : shr == 0 ? 0 : -1;
    const cJSON *cc = cJSON_GetObjectItemCaseSensitive(j, "congestion_used");
    if (cJSON_IsString(cc) && cc->valuestring) {
        size_t k = 0;
        for (const char *c = cc->valuestring; *c && k + 1 < sizeof r->congestion_used; c++)
            r->congestion_used[k++] = (*c >= 0x20 && *c < 0x7f) ? *c : '?';
    }
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "streams");
    if (!cJSON_IsArray(arr)) {
        rc = fail(why, whylen, -1, "results without", "streams");
        goto out;
    }
    const cJSON *o;
    cJSON_ArrayForEach(o, arr)
    {
        if (r->nstreams == IPF_MAX_STREAMS) {
            rc = fail(why, whylen, -1, "too many streams in the results", NULL);
            goto out;
        }
        uint64_t id, bytes;
        if (!cJSON_IsObject(o) || get_uint(o, "id", 0, 1e6, &id) != 1 ||
            get_uint(o, "bytes", 0, 9007199254740992.0, &bytes) != 1) {
            rc = fail(why, whylen, -1, "a stream result without a valid id or bytes", NULL);
            goto out;
        }
        ipf_stream_result *s = &r->streams[r->nstreams++];
        s->id = (int)id;
        s->bytes = bytes;
        double rt = get_double(o, "retransmits", -1);
        s->retransmits = rt >= 0 && rt < 9007199254740992.0 ? (int64_t)rt : -1;
        s->start_time = get_double(o, "start_time", 0);
        s->end_time = get_double(o, "end_time", 0);
        if (s->start_time < 0 || s->start_time > 1e7)
            s->start_time = 0;
        if (s->end_time < s->start_time || s->end_time > 1e7)
            s->end_time = s->start_time;
    }
out:
    cJSON_Delete(j);
    return rc;
}

#else /* no cJSON: the subcommand says so and these are never reached */

void ipf_params_init(ipf_params *p)
{
    memset(p, 0, sizeof *p);
    p->tcp = 1;
    p->parallel = 1;
    p->len = IPF_DEFAULT_BLKSIZE;
}
char *ipf_params_encode(const ipf_params *p) { (void)p; return NULL; }
int ipf_params_decode(const char *buf, size_t len, ipf_params *p, char *why, size_t whylen)
{
    (void)buf, (void)len, (void)p;
    snprintf(why, whylen, "built without cJSON");
    return IPF_IEUNIMP;
}
char *ipf_results_encode(const ipf_results *r) { (void)r; return NULL; }
int ipf_results_decode(const char *buf, size_t len, ipf_results *r, char *why, size_t whylen)
{
    (void)buf, (void)len, (void)r;
    snprintf(why, whylen, "built without cJSON");
    return -1;
}
#endif

int ipf_stream_id(int k) { return k == 0 ? 1 : k + 2; }

void ipf_make_cookie(char cookie[IPF_COOKIE_SIZE], uint64_t (*rnd)(void *ud), void *ud)
{
    /* iperf3's make_cookie alphabet. */
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz234567";
    for (int i = 0; i < IPF_COOKIE_SIZE - 1; i++)
        cookie[i] = alpha[rnd(ud) % 32];
    cookie[IPF_COOKIE_SIZE - 1] = 0;
}

int ipf_cookie_printable(const uint8_t cookie[IPF_COOKIE_SIZE])
{
    for (int i = 0; i < IPF_COOKIE_SIZE - 1; i++)
        if (cookie[i] < 0x21 || cookie[i] > 0x7e)
            return 0;
    return cookie[IPF_COOKIE_SIZE - 1] == 0;
}
