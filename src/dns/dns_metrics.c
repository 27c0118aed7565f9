/* The "dns" metrics source: a resolver's counters. */
#include "oasis/dns.h"
#include "oasis/error.h"
#include "oasis/metrics.h"

static int read_dns(oasis_metrics_emit *e, void *ud)
{
    const oasis_dns_counters *c = oasis_dns_get_counters(ud);
    const struct {
        const char *key;
        uint64_t v;
        int gauge;
    } f[] = {
        {"Requests", c->requests, 0},         {"CompletedOk", c->completed_ok, 0},
        {"Failed", c->failed, 0},             {"Canceled", c->canceled, 0},
        {"CacheHits", c->cache_hits, 0},      {"CacheMisses", c->cache_misses, 0},
        {"CacheEvictions", c->cache_evictions, 0}, {"CacheEntries", c->cache_entries, 1},
        {"UdpQueries", c->udp_queries, 0},    {"TcpQueries", c->tcp_queries, 0},
        {"Responses", c->responses, 0},       {"Mismatched", c->mismatched, 0},
        {"Malformed", c->malformed, 0},       {"Timeouts", c->timeouts, 0},
        {"Truncated", c->truncated, 0},       {"NxDomain", c->nxdomain, 0},
        {"NoData", c->nodata, 0},             {"ServFail", c->servfail, 0},
        {"Refused", c->refused, 0},           {"CnameFollowed", c->cname_followed, 0},
        {"SendErrors", c->send_errors, 0},    {"Referrals", c->referrals, 0},
        {"Unreachable", c->unreachable, 0},   {"Oversized", c->oversized, 0},
        {"EdnsFallbacks", c->edns_fallbacks, 0}, {"Coalesced", c->coalesced, 0},
        {"TsigVerified", c->tsig_verified, 0}, {"TsigUnsigned", c->tsig_unsigned, 0},
        {"TsigBadKey", c->tsig_badkey, 0},    {"TsigBadSig", c->tsig_badsig, 0},
        {"TsigBadTime", c->tsig_badtime, 0},  {"TsigBadTrunc", c->tsig_badtrunc, 0},
        {"TsigErrors", c->tsig_errors, 0},    {"SearchNext", c->search_next, 0},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        int err = f[i].gauge ? oasis_metrics_field_uint(e, f[i].key, f[i].v)
                             : oasis_metrics_field_counter(e, f[i].key, f[i].v);
        if (err)
            return err;
    }
    return OASIS_OK;
}

int oasis_dns_add_metrics(struct oasis_metrics *m, oasis_dns *r,
                          const struct oasis_metric_tag *tags, size_t ntags)
{
    if (!m || !r)
        return OASIS_EINVAL;
    return oasis_metrics_add_source(m, "dns", tags, ntags, read_dns, r, NULL);
}
