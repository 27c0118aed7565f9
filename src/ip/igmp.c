/* IPv4 multicast groups of a host (RFC 1112 level 2, RFC 1122 3.3.7):
 * the application joins and leaves groups; IGMP tells the routers (RFC
 * 9776, formerly RFC 3376: version 3, with the version 1 and 2 host
 * compatibility modes of its section 7).
 *
 * Invariants:
 * - A group is a member while users > 0. A group left stays in the table
 *   (users 0) only until its state-change report has gone out Robustness
 *   (2) times, then its slot is free. 224.0.0.1 is always a member and is
 *   never reported (RFC 9776 5).
 * - Nothing an incoming message says allocates: queries only bring
 *   deadlines earlier (an earlier pending answer stands), so a flood of
 *   them costs one report per group per Maximum Response Time at most.
 * - One timer, at the earliest deadline: the general-query answer
 *   (general_at, version 3), a group's answer (report_at), or a group's
 *   state-change retransmission (change_at).
 * - The mode follows the oldest querier heard in the last 260 s (Older
 *   Version Querier Present Timeout: Robustness 2 x Query Interval 125 s
 *   + Query Response Interval 10 s, RFC 9776 8.12-8.13). */
#include <string.h>

#include "core/mem.h"
#include "core/prng.h"
#include "core/stack_impl.h"
#include "ip/igmp_wire.h"
#include "ip/ipv4.h"
#include "oasis/error.h"

#define OLDER_QUERIER_NS (260 * OASIS_NS_PER_SEC)
#define UNSOLICITED_V3_NS (1 * OASIS_NS_PER_SEC)   /* RFC 9776 8.11 */
#define UNSOLICITED_V2_NS (10 * OASIS_NS_PER_SEC)  /* RFC 2236 8.10 */
#define ROBUSTNESS 2

typedef struct igmp_group {
    uint32_t addr;      /* 0: free slot */
    uint16_t users;     /* joins not yet left */
    uint8_t changes;    /* state-change reports still to send */
    uint64_t change_at; /* the next of them (0: none) */
    uint64_t report_at; /* an answer to a query (0: none) */
} igmp_group;

struct oasis_igmp {
    igmp_group g[OASIS_IGMP_GROUPS];
    uint64_t v1_until, v2_until; /* older queriers heard: compatibility mode */
    uint64_t general_at;         /* version 3: the answer to a general query */
    oasis_timer timer;
};

static int mode(oasis_stack *s)
{
    uint64_t now = oasis_now(s);
    oasis_igmp *m = s->ip.igmp;
    return now < m->v1_until ? 1 : now < m->v2_until ? 2 : 3;
}

/* IGMP's IP header (RFC 9776 4, RFC 2236 2): TTL 1, a Router Alert
 * option (RFC 2113); version 3 also with precedence Internetwork Control. */
static void send_msg(oasis_stack *s, const uint8_t *msg, size_t len, uint32_t dst, int v1)
{
    static const uint8_t router_alert[4] = {0x94, 0x04, 0, 0};
    if (!s->link)
        return;
    oasis_pbuf *p = oasis_pbuf_alloc(s, OASIS_PBUF_HEADROOM, len);
    if (!p)
        return;
    memcpy(p->data, msg, len);
    uint8_t tos = msg[0] == OASIS_IGMP_V3_REPORT ? 0xc0 : 0;
    /* Version 1 has no Router Alert (RFC 1112 predates it). */
    int err = oasis_ipv4_output_ctl(s, p, dst, OASIS_IPPROTO_IGMP, tos, 1, router_alert,
                                    v1 ? 0 : sizeof router_alert);
    if (err == OASIS_OK)
        s->ctr.ip.igmp_out_msgs++;
}

/* A version 3 report of every member group (current state) or of one. */
static void report_v3(oasis_stack *s, const igmp_group *only, uint8_t rec_type)
{
    uint32_t groups[OASIS_IGMP_GROUPS];
    uint8_t msg[8 + 8 * OASIS_IGMP_GROUPS];
    size_t n = 0;
    oasis_igmp *m = s->ip.igmp;
    if (only) {
        groups[n++] = only->addr;
    } else {
        for (int i = 0; i < OASIS_IGMP_GROUPS; i++)
            if (m->g[i].addr && m->g[i].users)
                groups[n++] = m->g[i].addr;
    }
    if (n)
        send_msg(s, msg, oasis_igmp_emit_v3(msg, groups, n, rec_type), OASIS_IGMP_V3_ROUTERS, 0);
}

/* A group's membership in the version the routers speak. */
static void report_group(oasis_stack *s, const igmp_group *g, int current)
{
    uint8_t msg[8];
    switch (mode(s)) {
    case 1:
        if (g->users)
            send_msg(s, msg, oasis_igmp_emit_v12(msg, OASIS_IGMP_V1_REPORT, g->addr), g->addr, 1);
        break; /* (version 1 has no leave) */
    case 2:
        if (g->users)
            send_msg(s, msg, oasis_igmp_emit_v12(msg, OASIS_IGMP_V2_REPORT, g->addr), g->addr, 0);
        else
            send_msg(s, msg, oasis_igmp_emit_v12(msg, OASIS_IGMP_V2_LEAVE, g->addr),
                     OASIS_IGMP_ALL_ROUTERS, 0);
        break;
    default:
        report_v3(s, g, current ? OASIS_IGMP_MODE_IS_EXCLUDE
                                : g->users ? OASIS_IGMP_CHANGE_TO_EXCLUDE
                                           : OASIS_IGMP_CHANGE_TO_INCLUDE);
        break;
    }
}

static void arm(oasis_stack *s)
{
    oasis_igmp *m = s->ip.igmp;
    uint64_t first = m->general_at ? m->general_at : UINT64_MAX;
    for (int i = 0; i < OASIS_IGMP_GROUPS; i++) {
        const igmp_group *g = &m->g[i];
        if (g->change_at && g->change_at < first)
            first = g->change_at;
        if (g->report_at && g->report_at < first)
            first = g->report_at;
    }
    if (first == UINT64_MAX)
        oasis_timer_stop(s, &m->timer);
    else
        oasis_timer_start(s, &m->timer, first);
}

static uint64_t within(oasis_stack *s, uint64_t span)
{
    return oasis_now(s) + (span ? oasis_prng_below(&s->prng, span) : 0) + 1;
}

/* A join or the last leave: report now, then ROBUSTNESS - 1 more times. */
static void changed(oasis_stack *s, igmp_group *g)
{
    g->report_at = 0; /* the change says it all */
    report_group(s, g, 0);
    g->changes = ROBUSTNESS - 1;
    g->change_at = within(s, mode(s) == 3 ? UNSOLICITED_V3_NS : UNSOLICITED_V2_NS);
    arm(s);
}

static void fire(oasis_stack *s, oasis_timer *t)
{
    (void)t;
    oasis_igmp *m = s->ip.igmp;
    uint64_t now = oasis_now(s);
    if (m->general_at && m->general_at <= now) {
        m->general_at = 0;
        if (mode(s) == 3)
            report_v3(s, NULL, OASIS_IGMP_MODE_IS_EXCLUDE);
    }
    for (int i = 0; i < OASIS_IGMP_GROUPS; i++) {
        igmp_group *g = &m->g[i];
        if (!g->addr)
            continue;
        if (g->report_at && g->report_at <= now) {
            g->report_at = 0;
            if (g->users)
                report_group(s, g, 1);
        }
        if (g->change_at && g->change_at <= now) {
            report_group(s, g, 0);
            g->changes--;
            g->change_at = g->changes ? within(s, UNSOLICITED_V3_NS) : 0;
        }
        if (!g->users && !g->change_at)
            memset(g, 0, sizeof *g); /* left, and said so */
    }
    arm(s);
}

static igmp_group *find(oasis_igmp *m, uint32_t group)
{
    for (int i = 0; m && i < OASIS_IGMP_GROUPS; i++)
        if (m->g[i].addr == group)
            return &m->g[i];
    return NULL;
}

int oasis_igmp_member(const oasis_stack *s, uint32_t group)
{
    if (group == OASIS_IGMP_ALL_SYSTEMS)
        return 1;
    const igmp_group *g = find(s->ip.igmp, group);
    return g && g->users;
}

int oasis_ipv4_join(oasis_stack *s, uint32_t group)
{
    if (!s || !oasis_ipv4_is_multicast(group))
        return OASIS_EINVAL;
    if (group == OASIS_IGMP_ALL_SYSTEMS)
        return OASIS_OK; /* always a member, never reported */
    if (!s->ip.igmp) {
        s->ip.igmp = oasis_calloc(s, 1, sizeof *s->ip.igmp);
        if (!s->ip.igmp)
            return OASIS_ENOMEM;
        oasis_timer_init(&s->ip.igmp->timer, fire);
    }
    igmp_group *g = find(s->ip.igmp, group);
    if (!g) {
        g = find(s->ip.igmp, 0);
        if (!g)
            return OASIS_ENOMEM;
        g->addr = group;
    }
    if (g->users == UINT16_MAX)
        return OASIS_ENOMEM;
    if (g->users++ == 0)
        changed(s, g);
    return OASIS_OK;
}

int oasis_ipv4_leave(oasis_stack *s, uint32_t group)
{
    if (!s || !oasis_ipv4_is_multicast(group))
        return OASIS_EINVAL;
    if (group == OASIS_IGMP_ALL_SYSTEMS)
        return OASIS_OK;
    igmp_group *g = find(s->ip.igmp, group);
    if (!g || !g->users)
        return OASIS_ENOENT;
    if (--g->users == 0) {
        if (mode(s) == 1) /* version 1 has no leave: the slot is free */
            memset(g, 0, sizeof *g);
        else
            changed(s, g);
        arm(s);
    }
    return OASIS_OK;
}

/* RFC 9776 5.2 (version 3: no suppression; the answer to a general query
 * covers every group) and RFC 2236 3 (versions 1, 2: one answer per
 * group, at a random time within Max Resp; another host's report for the
 * group answers for us). */
static void query(oasis_stack *s, const oasis_igmp_msg *q)
{
    oasis_igmp *m = s->ip.igmp;
    uint64_t now = oasis_now(s);
    if (q->version == 1)
        m->v1_until = now + OLDER_QUERIER_NS;
    else if (q->version == 2)
        m->v2_until = now + OLDER_QUERIER_NS;
    uint64_t at = within(s, q->max_resp_ns);
    if (q->group == 0 && mode(s) == 3) {
        if (!m->general_at || m->general_at > at)
            m->general_at = at;
    } else {
        for (int i = 0; i < OASIS_IGMP_GROUPS; i++) {
            igmp_group *g = &m->g[i];
            if (!g->users || (q->group && q->group != g->addr))
                continue;
            uint64_t mine = q->group ? at : within(s, q->max_resp_ns);
            if (!g->report_at || g->report_at > mine)
                g->report_at = mine;
        }
    }
    arm(s);
}

/* Does the header carry a Router Alert option (RFC 2113: type 148, length
 * 4)? The parser proved the options well formed. */
static int router_alert(const oasis_ipv4_hdr *ip)
{
    const uint8_t *o = ip->options;
    size_t i = 0, n = ip->options_len;
    while (i < n && o[i] != 0) {
        if (o[i] == 1) { /* NOP */
            i++;
            continue;
        }
        if (o[i] == 148 && o[i + 1] == 4)
            return 1;
        i += o[i + 1];
    }
    return 0;
}

void oasis_igmp_input(oasis_stack *s, const oasis_ipv4_hdr *ip)
{
    oasis_ip_counters *c = &s->ctr.ip;
    oasis_igmp_msg msg;
    c->igmp_in_msgs++;
    if (oasis_igmp_parse(ip->payload, ip->payload_len, &msg) != OASIS_OK) {
        c->igmp_in_errors++;
        return;
    }
    oasis_igmp *m = s->ip.igmp;
    if (!m)
        return; /* in no group but all-systems, which is never reported */
    switch (msg.type) {
    case OASIS_IGMP_QUERY:
        /* A general query goes to all-systems, a group's to the group.
         * RFC 3376 9.1: "Hosts SHOULD ignore v2 or v3
         * Queries without the Router-Alert option" (a forgery from off the
         * link; version 1 predates the option). */
        if ((msg.group == 0 && ip->dst != OASIS_IGMP_ALL_SYSTEMS) ||
            (msg.group != 0 && (!oasis_ipv4_is_multicast(msg.group) || ip->dst != msg.group)) ||
            (msg.version >= 2 && !router_alert(ip))) {
            c->igmp_in_errors++;
            return;
        }
        c->igmp_in_queries++;
        query(s, &msg);
        break;
    case OASIS_IGMP_V1_REPORT:
    case OASIS_IGMP_V2_REPORT: {
        igmp_group *g = find(m, msg.group);
        if (g && mode(s) != 3 && ip->dst == msg.group)
            g->report_at = 0; /* RFC 2236 3: someone answered for the group */
        break;
    }
    default:
        break;
    }
}

void oasis_igmp_link_up(oasis_stack *s)
{
    oasis_igmp *m = s->ip.igmp;
    for (int i = 0; m && i < OASIS_IGMP_GROUPS; i++)
        if (m->g[i].users)
            changed(s, &m->g[i]);
}

void oasis_igmp_fini(oasis_stack *s)
{
    if (!s->ip.igmp)
        return;
    oasis_timer_stop(s, &s->ip.igmp->timer);
    oasis_free(s, s->ip.igmp);
    s->ip.igmp = NULL;
}
