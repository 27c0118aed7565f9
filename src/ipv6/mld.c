/* MLD for the groups a host listens to: MLDv2 (RFC 3810 6), and MLDv1
 * (RFC 2710 4) while an MLDv1 querier is present (RFC 3810 8.2.1). The
 * model is ip/igmp.c.
 *
 * Invariants:
 * - The groups are our addresses' solicited-node groups and the
 *   application's (never ff02::1: RFC 3810 6); oasis_mld_sync compares
 *   them with the table and reports the difference. A slot is taken while
 *   its group is listened to, and after it is left until its TO_INCLUDE {}
 *   has gone out Robustness (2) times; every listened-to group has a slot,
 *   so a join takes a leaving slot if it must.
 * - One deadline per purpose, one timer at the earliest of them: the
 *   answer to an MLDv2 general query (general_at), a group's answer to a
 *   query about it (report_at; in MLDv1 to any query, RFC 2710 4), the
 *   state-change retransmission (change_at, with each group's count of
 *   reports still to send). A current-state answer says IS_EXCLUDE {}; a
 *   state change TO_EXCLUDE {} or TO_INCLUDE {}.
 * - Nothing a message says allocates: a query only brings a deadline
 *   earlier (an earlier pending answer stands), so a flood of them costs
 *   one report per group per Maximum Response Delay at most.
 * - We are an EXCLUDE {} (any-source) listener: the answer to a Multicast
 *   Address and Source Specific Query about sources B is IS_INCLUDE (B - {})
 *   (RFC 3810 6.3's table: EXCLUDE (A), B -> IS_IN (B-A)); B is kept per
 *   group up to OASIS_MLD_QUERY_SOURCES, past that the answer is the whole
 *   state, IS_EXCLUDE {}, which covers B. */
#include "ipv6/ipv6.h"

#include "core/prng.h"
#include "core/stack_impl.h"
#include "ipv6/nd_wire.h"
#include "oasis/error.h"

#include <string.h>

#define ROBUSTNESS 2 /* RFC 3810 9.1 */
/* RFC 3810 9.11 (MLDv2: 1 s), RFC 2710 7.10 (MLDv1: 10 s). */
#define UNSOLICITED_V2_NS (1 * OASIS_NS_PER_SEC)
#define UNSOLICITED_V1_NS (10 * OASIS_NS_PER_SEC)
/* RFC 3810 9.12: Robustness Variable (2) x Query Interval (125 s) + Query
 * Response Interval (10 s). */
#define OLDER_QUERIER_NS (260 * OASIS_NS_PER_SEC)

static void fire(oasis_stack *s, oasis_timer *t);

static int v1_mode(const oasis_stack *s)
{
    return s->ip6->mld.v1_until && oasis_now(s) < s->ip6->mld.v1_until;
}

static uint64_t within(oasis_stack *s, uint64_t span)
{
    return oasis_now(s) + (span ? oasis_prng_below(&s->prng, span) : 0) + 1;
}

static int add_group(oasis_in6 *out, int n, const oasis_in6 *g)
{
    for (int j = 0; j < n; j++)
        if (oasis_in6_eq(&out[j], g))
            return n;
    out[n] = *g;
    return n + 1;
}

/* The groups MLD reports, each once: our solicited-node groups and the
 * application's (all-nodes never: RFC 3810 6; oasis_ipv6_join refuses
 * scopes 0 and 1). */
static int groups(const oasis_stack *s, oasis_in6 *out)
{
    int n = 0;
    for (int i = 0; i < OASIS_IPV6_MAX_ADDRS; i++) {
        const ip6_addr *a = &s->ip6->addrs[i];
        if (!a->state || a->state == OASIS_IPV6_DUPLICATE)
            continue;
        oasis_in6 g = oasis_in6_solicited_node(&a->a);
        n = add_group(out, n, &g);
    }
    for (int i = 0; i < OASIS_IPV6_APP_GROUPS; i++) {
        const ip6_group *g = &s->ip6->app_groups[i];
        if (g->refs && !oasis_in6_eq(&g->g, &oasis_in6_all_nodes))
            n = add_group(out, n, &g->g);
    }
    return n;
}

int oasis_mld_reported(const oasis_stack *s, const oasis_in6 *g)
{
    oasis_in6 held[OASIS_IPV6_MAX_GROUPS];
    int n = groups(s, held);
    for (int i = 0; i < n; i++)
        if (oasis_in6_eq(&held[i], g))
            return 1;
    return 0;
}

/* The tail every MLD message shares (RFC 3810 5.2.13 / 5.2.14, RFC 2710
 * 3): from the link-local address (:: while there is none), hop limit 1, a
 * Router Alert in a Hop-by-Hop header (RFC 2711). Checksums the len bytes
 * the caller wrote at p->data as an ICMPv6 message of this type and word,
 * sends them to dst and counts them. */
static void mld_out(oasis_stack *s, oasis_pbuf *p, size_t len, uint8_t type, uint32_t word,
                    const oasis_in6 *dst)
{
    static const uint8_t router_alert[8] = {0, 0, 5, 2, 0, 0, 1, 0};
    static const oasis_in6 unspec;
    const oasis_in6 *ll = oasis_addrconf_link_local(s);
    const oasis_in6 *src = ll ? ll : &unspec;
    oasis_icmp6_finish(p->data, len, type, 0, word, src, dst);
    if (oasis_ipv6_output_hbh(s, p, src, dst, OASIS_NH_ICMPV6, 1, 0, router_alert,
                              sizeof router_alert) == OASIS_OK) {
        s->ctr.icmp6.out_msgs++;
        s->ctr.icmp6.out_mld_reports++;
    }
}

/* RFC 3810 5.2: one report with a record of rec_type for each of the n
 * groups, to ff02::16. */
static void send_v2(oasis_stack *s, const oasis_in6 *g, int n, uint8_t rec_type)
{
    if (n == 0 || !s->link)
        return;
    size_t len = 8 + 20 * (size_t)n;
    oasis_pbuf *p = oasis_pbuf_alloc(s, OASIS_PBUF_HEADROOM, len);
    if (!p) {
        oasis_icmp6_out_failed(s);
        return;
    }
    oasis_mld_emit_report(p->data, g, n, rec_type);
    mld_out(s, p, len, OASIS_ICMP6_MLD2_REPORT, (uint32_t)n, &oasis_in6_mldv2_routers);
}

/* MLDv1 (RFC 2710 3, 4): a Report goes to the group itself, a Done to
 * all-routers. */
static void send_v1(oasis_stack *s, uint8_t type, const oasis_in6 *g)
{
    if (!s->link)
        return;
    const oasis_in6 *dst = type == OASIS_ICMP6_MLD_DONE ? &oasis_in6_all_routers : g;
    oasis_pbuf *p = oasis_pbuf_alloc(s, OASIS_PBUF_HEADROOM, 24);
    if (!p) {
        oasis_icmp6_out_failed(s);
        return;
    }
    oasis_mld1_emit(p->data, type, g);
    mld_out(s, p, 24, type, 0, dst);
}

static void arm(oasis_stack *s)
{
    ip6_mld *m = &s->ip6->mld;
    uint64_t first = UINT64_MAX;
    if (m->general_at)
        first = m->general_at;
    if (m->change_at && m->change_at < first)
        first = m->change_at;
    for (int i = 0; i < OASIS_IPV6_MAX_GROUPS; i++)
        if (m->g[i].used && m->g[i].report_at && m->g[i].report_at < first)
            first = m->g[i].report_at;
    if (first == UINT64_MAX)
        oasis_timer_stop(s, &m->timer);
    else
        oasis_timer_start(s, &m->timer, first);
}

/* RFC 3810 6.3: IS_INCLUDE with the sources a query asked about (we
 * exclude none of them), in a report of its own. */
static void send_sources(oasis_stack *s, const ip6_mld_group *e)
{
    if (!s->link)
        return;
    size_t len = 28 + 16 * (size_t)e->nsrc;
    oasis_pbuf *p = oasis_pbuf_alloc(s, OASIS_PBUF_HEADROOM, len);
    if (!p) {
        oasis_icmp6_out_failed(s);
        return;
    }
    oasis_mld_emit_record(p->data, &e->g, OASIS_MLD2_IS_INCLUDE, e->src, e->nsrc);
    mld_out(s, p, len, OASIS_ICMP6_MLD2_REPORT, 1, &oasis_in6_mldv2_routers);
}

/* Sends the current state of the groups picked: in MLDv2 one report with
 * an IS_EXCLUDE {} record each (asked: IS_INCLUDE of the sources a query
 * asked about, for a group whose pending answer has some), in MLDv1 a
 * Report each. */
static void send_current(oasis_stack *s, ip6_mld_group **pick, int n, int asked)
{
    oasis_in6 g[OASIS_IPV6_MAX_GROUPS];
    int k = 0;
    for (int i = 0; i < n; i++) {
        pick[i]->v1_last = 1;
        if (v1_mode(s))
            send_v1(s, OASIS_ICMP6_MLD_REPORT, &pick[i]->g);
        else if (asked && pick[i]->nsrc)
            send_sources(s, pick[i]);
        else
            g[k++] = pick[i]->g;
        if (asked)
            pick[i]->nsrc = 0;
    }
    if (!v1_mode(s))
        send_v2(s, g, k, OASIS_MLD2_IS_EXCLUDE);
}

/* RFC 3810 6.2 rules 3-5: the sources a pending answer for e is about.
 * Rule 3 (none pending): the query's. Rule 4 (a group query, or the
 * pending answer about the whole group): the whole group. Rule 5: the
 * union. Past the room: the whole group. */
static void record_sources(ip6_mld_group *e, const oasis_mld_query *q)
{
    if (e->report_at && (!q->nsources || !e->nsrc)) {
        e->nsrc = 0;
        return;
    }
    if (!e->report_at)
        e->nsrc = 0;
    for (int i = 0; i < q->nsources; i++) {
        oasis_in6 a;
        memcpy(a.b, q->sources + 16 * (size_t)i, 16);
        int seen = 0;
        for (int j = 0; j < e->nsrc && !seen; j++)
            seen = oasis_in6_eq(&e->src[j], &a);
        if (seen)
            continue;
        if (e->nsrc == OASIS_MLD_QUERY_SOURCES) {
            e->nsrc = 0;
            return;
        }
        e->src[e->nsrc++] = a;
    }
}

/* RFC 3810 6.1: the state-change report of every group with reports still
 * to send (TO_EXCLUDE {} for a join, TO_INCLUDE {} for a leave), then the
 * next retransmission within the Unsolicited Report Interval. MLDv1 (RFC
 * 2710 4): a Report for a join; a Done for a leave, once, and only if ours
 * was the last Report for the group. */
static void send_changes(oasis_stack *s)
{
    ip6_mld *m = &s->ip6->mld;
    oasis_in6 join[OASIS_IPV6_MAX_GROUPS], leave[OASIS_IPV6_MAX_GROUPS];
    int nj = 0, nl = 0, more = 0, v1 = v1_mode(s);
    for (int i = 0; i < OASIS_IPV6_MAX_GROUPS; i++) {
        ip6_mld_group *e = &m->g[i];
        if (!e->used || !e->changes)
            continue;
        e->changes--;
        if (e->held) {
            join[nj++] = e->g;
            if (v1)
                send_v1(s, OASIS_ICMP6_MLD_REPORT, &e->g);
            e->v1_last = 1;
        } else {
            leave[nl++] = e->g;
            if (v1) {
                if (e->v1_last)
                    send_v1(s, OASIS_ICMP6_MLD_DONE, &e->g);
                e->changes = 0;
            }
        }
        if (!e->held && !e->changes)
            memset(e, 0, sizeof *e); /* left, and said so */
        else if (e->changes)
            more = 1;
    }
    if (!v1) {
        send_v2(s, join, nj, OASIS_MLD2_TO_EXCLUDE);
        send_v2(s, leave, nl, OASIS_MLD2_TO_INCLUDE);
    }
    m->change_at = more ? within(s, v1 ? UNSOLICITED_V1_NS : UNSOLICITED_V2_NS) : 0;
}

static ip6_mld_group *find(ip6_mld *m, const oasis_in6 *g)
{
    for (int i = 0; i < OASIS_IPV6_MAX_GROUPS; i++)
        if (m->g[i].used && oasis_in6_eq(&m->g[i].g, g))
            return &m->g[i];
    return NULL;
}

/* A slot for a group joined: its own (left, still saying so), a free one,
 * else a leaving one's (its remaining TO_INCLUDE is only robustness). */
static ip6_mld_group *slot_for(ip6_mld *m, const oasis_in6 *g)
{
    ip6_mld_group *e = find(m, g);
    for (int i = 0; i < OASIS_IPV6_MAX_GROUPS && !e; i++)
        if (!m->g[i].used)
            e = &m->g[i];
    for (int i = 0; i < OASIS_IPV6_MAX_GROUPS && !e; i++)
        if (!m->g[i].held)
            e = &m->g[i];
    return e;
}

void oasis_mld_sync(oasis_stack *s)
{
    oasis_ipv6 *v = s->ip6;
    ip6_mld *m = &v->mld;
    if (!v->started)
        return;
    oasis_in6 cur[OASIS_IPV6_MAX_GROUPS];
    int n = groups(s, cur), changed = 0;
    for (int i = 0; i < OASIS_IPV6_MAX_GROUPS; i++) {
        ip6_mld_group *e = &m->g[i];
        if (!e->used || !e->held)
            continue;
        int still = 0;
        for (int j = 0; j < n && !still; j++)
            still = oasis_in6_eq(&cur[j], &e->g);
        if (!still) { /* left: the change says it all */
            e->held = 0;
            e->changes = ROBUSTNESS;
            e->report_at = 0;
            changed = 1;
        }
    }
    for (int j = 0; j < n; j++) {
        ip6_mld_group *e = find(m, &cur[j]);
        if (e && e->held)
            continue;
        e = slot_for(m, &cur[j]);
        if (!e)
            continue; /* (cannot happen: a slot per group) */
        memset(e, 0, sizeof *e);
        e->g = cur[j];
        e->used = e->held = 1;
        e->changes = ROBUSTNESS;
        changed = 1;
    }
    if (changed)
        send_changes(s);
    arm(s);
}

void oasis_mld_resend(oasis_stack *s)
{
    ip6_mld *m = &s->ip6->mld;
    if (!s->ip6->started)
        return;
    for (int i = 0; i < OASIS_IPV6_MAX_GROUPS; i++)
        if (m->g[i].used && m->g[i].held)
            m->g[i].changes = ROBUSTNESS;
    send_changes(s);
    arm(s);
}

static void fire(oasis_stack *s, oasis_timer *t)
{
    (void)t;
    ip6_mld *m = &s->ip6->mld;
    uint64_t now = oasis_now(s);
    ip6_mld_group *pick[OASIS_IPV6_MAX_GROUPS];
    int n = 0;
    if (m->general_at && m->general_at <= now) {
        /* RFC 3810 6.3: a record for every group we listen to. */
        m->general_at = 0;
        for (int i = 0; i < OASIS_IPV6_MAX_GROUPS; i++)
            if (m->g[i].used && m->g[i].held)
                pick[n++] = &m->g[i];
        if (!v1_mode(s))
            send_current(s, pick, n, 0);
        n = 0;
    }
    for (int i = 0; i < OASIS_IPV6_MAX_GROUPS; i++) {
        ip6_mld_group *e = &m->g[i];
        if (e->used && e->report_at && e->report_at <= now) {
            e->report_at = 0;
            if (e->held)
                pick[n++] = e;
        }
    }
    send_current(s, pick, n, 1);
    if (m->change_at && m->change_at <= now)
        send_changes(s);
    arm(s);
}

void oasis_mld_query_input(oasis_stack *s, const oasis_mld_query *q)
{
    oasis_ipv6 *v = s->ip6;
    ip6_mld *m = &v->mld;
    if (!v->started)
        return;
    uint64_t now = oasis_now(s);
    uint64_t max_resp = (uint64_t)q->max_resp_ms * 1000000ull;
    /* RFC 3810 8.2.1: an MLDv1 query sets (or re-arms) the Older Version
     * Querier Present timer; until it runs out we speak MLDv1. */
    if (!q->v2)
        m->v1_until = now + OLDER_QUERIER_NS;
    int general = oasis_in6_is_unspecified(&q->group);
    ip6_mld_group *only = general ? NULL : find(m, &q->group);
    if (!general && (!only || !only->held))
        return; /* 6.2, RFC 2710 4: a query about a group we do not hold */
    uint64_t at = within(s, max_resp);
    if (v1_mode(s)) {
        /* RFC 2710 4: a delay per address; a running timer is reset only
         * if the new delay is shorter. */
        for (int i = 0; i < OASIS_IPV6_MAX_GROUPS; i++) {
            ip6_mld_group *e = &m->g[i];
            if (!e->used || !e->held || (only && e != only))
                continue;
            uint64_t mine = only ? at : within(s, max_resp);
            if (!e->report_at || e->report_at > mine)
                e->report_at = mine;
        }
    } else if (m->general_at && m->general_at <= at) {
        /* RFC 3810 6.2 rule 1: an answer to a general query due sooner
         * covers this query too. */
    } else if (general) {
        m->general_at = at; /* rule 2: it replaces the later pending one */
    } else {
        /* Rules 3-5: the sources asked about; the earlier deadline stands. */
        record_sources(only, q);
        if (!only->report_at || only->report_at > at)
            only->report_at = at;
    }
    arm(s);
}

void oasis_mld_v1_report_input(oasis_stack *s, const oasis_in6 *group)
{
    ip6_mld_group *e = find(&s->ip6->mld, group);
    if (!e || !e->held || !v1_mode(s))
        return;
    /* RFC 2710 4: another listener's Report while our timer runs for the
     * address: stop it, send nothing, and we are no longer the last to
     * have reported it (no Done when we leave). */
    if (e->report_at || e->changes) {
        e->report_at = 0;
        e->changes = 0;
        e->v1_last = 0;
        arm(s);
    }
}

void oasis_mld_init(oasis_stack *s) { oasis_timer_init(&s->ip6->mld.timer, fire); }

void oasis_mld_fini(oasis_stack *s) { oasis_timer_stop(s, &s->ip6->mld.timer); }
