/* DHCPv6 client (RFC 8415): the states, the retransmission of section
 * 15, the exchanges of 18.2 and what the stack is told. Messages are
 * built and read by dhcp6_wire.c; the leased address lives in the
 * stack's address list (addrconf.c), which runs DAD and its lifetimes
 * and tells this client through the ip6->dhcp6 hooks.
 *
 * The RFC text was read through the search tool, whose corpus held only
 * the opening of RFC 8415 (and RFC 4242's); the constants below are
 * RFC 8415 7.6's table as commonly implemented (the lead may check them
 * against the full text). */
#include "oasis/dhcp6.h"

#include "core/bytes.h"
#include "core/mem.h"
#include "core/prng.h"
#include "core/stack_impl.h"
#include "dhcp6/dhcp6_wire.h"
#include "ipv6/ipv6.h"
#include "oasis/error.h"
#include "oasis/metrics.h"
#include "oasis/udp.h"

#include <string.h>

#define SEC OASIS_NS_PER_SEC
/* RFC 8415 7.6. */
#define SOL_MAX_DELAY SEC
#define SOL_TIMEOUT SEC
#define SOL_MAX_RT (3600 * SEC)
#define REQ_TIMEOUT SEC
#define REQ_MAX_RT (30 * SEC)
#define REQ_MAX_RC 10
#define REN_TIMEOUT (10 * SEC)
#define REN_MAX_RT (600 * SEC)
#define REB_TIMEOUT (10 * SEC)
#define REB_MAX_RT (600 * SEC)
#define INF_MAX_DELAY SEC
#define INF_TIMEOUT SEC
#define INF_MAX_RT (3600 * SEC)
#define DEC_TIMEOUT SEC
#define DEC_MAX_RC 4
#define REL_TIMEOUT SEC
#define REL_MAX_RC 4
/* RFC 8415 21.23 (RFC 4242 3.1). */
#define IRT_DEFAULT 86400u
#define IRT_MINIMUM 600u
/* RFC 8415 21.24, 21.25: SOL_MAX_RT and INF_MAX_RT a server may set. */
#define MAX_RT_MIN 60u
#define MAX_RT_MAX 86400u
#define INFINITY32 0xffffffffu
#define MSG_BUF 512

struct oasis_dhcp6 {
    oasis_stack *s;
    oasis_dhcp6_config cfg;
    uint8_t duid[OASIS_DHCP6_DUID_MAX];
    size_t duid_len;
    oasis_dhcp6_state state;

    /* The exchange running (RFC 8415 15). */
    uint32_t xid;
    uint8_t msg_type;
    int sent;               /* first message sent (else: in its start delay) */
    uint64_t start_ns;      /* first message of the exchange went */
    uint64_t last_tx_ns;    /* the latest (re)transmission */
    uint64_t rt, irt, mrt;
    uint32_t count, mrc;
    uint64_t mrd_end;       /* 0: no MRD */
    uint64_t sol_max_rt, inf_max_rt;
    oasis_timer rtx;
    oasis_timer lease_timer; /* T1, T2, information refresh */

    /* The best Advertise so far (RFC 8415 18.2.9). */
    int have_adv;
    uint8_t adv_pref;
    uint8_t adv_sid[OASIS_DHCP6_DUID_MAX];
    size_t adv_sid_len;
    oasis_in6 adv_addr;

    int have;               /* lease (or information) held */
    oasis_dhcp6_lease lease;
    oasis_in6 addr;         /* lease.addr as oasis_in6 */
    oasis_in6 declined;
    /* What a Release names once the lease is gone (18.2.7). */
    uint8_t rel_sid[OASIS_DHCP6_DUID_MAX];
    size_t rel_sid_len;
    oasis_in6 released;
    int removing;           /* our own removal: the hook is not an expiry */
    int rapid;              /* the address in DAD came by Rapid Commit (18.2.1) */
    uint32_t in_cb;
    oasis_dhcp6_counters ctr;
};

static const oasis_in6 all_servers = {{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2}};

const char *oasis_dhcp6_state_name(oasis_dhcp6_state st)
{
    static const char *const names[] = {"STOPPED", "WAITING-RA", "INFO-REQUESTING", "INFORMED",
                                        "SOLICITING", "REQUESTING", "DAD", "BOUND",
                                        "RENEWING", "REBINDING", "DECLINING", "RELEASING"};
    return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

const char *oasis_dhcp6_event_name(oasis_dhcp6_event ev)
{
    static const char *const names[] = {"INFO", "BOUND", "RENEWED", "EXPIRED", "DECLINED"};
    return (unsigned)ev < sizeof names / sizeof names[0] ? names[ev] : "?";
}

void oasis_dhcp6_config_init(oasis_dhcp6_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->mode = OASIS_DHCP6_AUTO;
    cfg->iaid = 1;
}

static uint64_t now_of(const oasis_dhcp6 *c) { return oasis_now(c->s); }

static void notify(oasis_dhcp6 *c, oasis_dhcp6_event ev, const oasis_dhcp6_lease *l)
{
    if (!c->cfg.cb)
        return;
    c->in_cb++;
    c->cfg.cb(c, ev, l, c->cfg.ud);
    c->in_cb--;
}

/* ---- sending ---------------------------------------------------------- */

/* RFC 8415 15: base + RAND * base, RAND uniform in -0.1..+0.1; positive
 * only for the first Solicit timeout. */
static uint64_t randomise(oasis_dhcp6 *c, uint64_t base, int positive)
{
    uint64_t tenth = base / 10;
    if (positive)
        return base + 1 + oasis_prng_below(&c->s->prng, tenth ? tenth : 1);
    return base - tenth + oasis_prng_below(&c->s->prng, 2 * tenth + 1);
}

static uint16_t elapsed_cs(const oasis_dhcp6 *c)
{
    /* RFC 8415 21.9: hundredths of a second, 0xffff from 655.35 s on. */
    uint64_t cs = (now_of(c) - c->start_ns) / (SEC / 100);
    return (uint16_t)(cs > 0xffff ? 0xffff : cs);
}

static void put_oro(oasis_dhcp6 *c, oasis_dhcp6_builder *b)
{
    /* RFC 8415 21.7: Solicit asks for SOL_MAX_RT, Information-request for
     * INF_MAX_RT and the refresh time (21.23). */
    uint8_t oro[10];
    size_t n = 0;
    oasis_put16(oro + n, OASIS_D6O_DNS_SERVERS), n += 2;
    oasis_put16(oro + n, OASIS_D6O_DOMAIN_LIST), n += 2;
    if (c->msg_type == OASIS_DHCP6_INFORMATION_REQUEST) {
        oasis_put16(oro + n, OASIS_D6O_INFO_REFRESH_TIME), n += 2;
        oasis_put16(oro + n, OASIS_D6O_INF_MAX_RT), n += 2;
    } else {
        oasis_put16(oro + n, OASIS_D6O_SOL_MAX_RT), n += 2;
    }
    oasis_dhcp6_build_opt(b, OASIS_D6O_ORO, oro, n);
}

static void put_ia(oasis_dhcp6 *c, oasis_dhcp6_builder *b, const oasis_in6 *a)
{
    static const uint32_t zero = 0;
    oasis_dhcp6_build_ia_na(b, c->cfg.iaid, 0, 0, a, &zero, &zero, a ? 1 : 0);
}

static void send_msg(oasis_dhcp6 *c, oasis_dhcp6_builder *b)
{
    size_t n = oasis_dhcp6_build_end(b);
    oasis_ipaddr dst = oasis_ipaddr_v6(all_servers.b);
    if (n == 0 || oasis_udp_send(c->s, OASIS_DHCP6_CLIENT_PORT, &dst, OASIS_DHCP6_SERVER_PORT,
                                 b->buf, n) != OASIS_OK)
        c->ctr.tx_errors++;
}

/* The exchange's message, as RFC 8415 18.2 builds each. */
static void send_current(oasis_dhcp6 *c)
{
    uint8_t buf[MSG_BUF];
    oasis_dhcp6_builder b;
    oasis_dhcp6_build_start(&b, buf, sizeof buf, c->msg_type, c->xid);
    oasis_dhcp6_build_opt(&b, OASIS_D6O_CLIENTID, c->duid, c->duid_len);
    oasis_dhcp6_build_opt16(&b, OASIS_D6O_ELAPSED_TIME, elapsed_cs(c));
    switch (c->msg_type) {
    case OASIS_DHCP6_SOLICIT:
        put_ia(c, &b, NULL);
        if (c->cfg.rapid_commit)
            oasis_dhcp6_build_opt(&b, OASIS_D6O_RAPID_COMMIT, NULL, 0);
        c->ctr.tx_solicits++;
        break;
    case OASIS_DHCP6_REQUEST:
        oasis_dhcp6_build_opt(&b, OASIS_D6O_SERVERID, c->adv_sid, c->adv_sid_len);
        put_ia(c, &b, &c->adv_addr);
        c->ctr.tx_requests++;
        break;
    case OASIS_DHCP6_RENEW:
        oasis_dhcp6_build_opt(&b, OASIS_D6O_SERVERID, c->lease.server_duid,
                              c->lease.server_duid_len);
        put_ia(c, &b, &c->addr);
        c->ctr.tx_renews++;
        break;
    case OASIS_DHCP6_REBIND:
        put_ia(c, &b, &c->addr);
        c->ctr.tx_rebinds++;
        break;
    case OASIS_DHCP6_DECLINE:
        oasis_dhcp6_build_opt(&b, OASIS_D6O_SERVERID, c->lease.server_duid,
                              c->lease.server_duid_len);
        put_ia(c, &b, &c->declined);
        c->ctr.tx_declines++;
        break;
    case OASIS_DHCP6_RELEASE:
        oasis_dhcp6_build_opt(&b, OASIS_D6O_SERVERID, c->rel_sid, c->rel_sid_len);
        put_ia(c, &b, &c->released);
        c->ctr.tx_releases++;
        break;
    default: /* Information-request */
        c->ctr.tx_info_requests++;
        break;
    }
    if (c->msg_type != OASIS_DHCP6_DECLINE && c->msg_type != OASIS_DHCP6_RELEASE)
        put_oro(c, &b);
    send_msg(c, &b);
}

/* ---- exchanges (RFC 8415 15) ---------------------------------------- */

/* One (re)transmission and the timeout after it. */
static void transmit(oasis_dhcp6 *c)
{
    uint64_t now = now_of(c);
    if (!c->sent) {
        c->sent = 1;
        c->start_ns = now;
        c->rt = randomise(c, c->irt, c->msg_type == OASIS_DHCP6_SOLICIT);
    } else {
        c->ctr.tx_retransmits++;
        c->rt = randomise(c, 2 * c->rt, 0);
        if (c->mrt && c->rt > c->mrt)
            c->rt = randomise(c, c->mrt, 0);
    }
    c->count++;
    c->last_tx_ns = now;
    send_current(c);
    uint64_t at = now + c->rt;
    if (c->mrd_end && at > c->mrd_end)
        at = c->mrd_end > now ? c->mrd_end : now;
    oasis_timer_start(c->s, &c->rtx, at);
}

static void begin(oasis_dhcp6 *c, oasis_dhcp6_state st, uint8_t type, uint64_t irt,
                  uint64_t mrt, uint32_t mrc, uint64_t mrd_end, uint64_t max_delay)
{
    c->state = st;
    c->msg_type = type;
    c->xid = (uint32_t)oasis_prng_next(&c->s->prng) & 0xffffff;
    c->sent = 0;
    c->count = 0;
    c->irt = irt;
    c->mrt = mrt;
    c->mrc = mrc;
    c->mrd_end = mrd_end;
    c->start_ns = now_of(c);
    if (max_delay) {
        oasis_timer_start(c->s, &c->rtx,
                          now_of(c) + oasis_prng_below(&c->s->prng, max_delay + 1));
        return;
    }
    transmit(c);
}

static void start_solicit(oasis_dhcp6 *c, int delay)
{
    c->have_adv = 0;
    begin(c, OASIS_DHCP6_SOLICITING, OASIS_DHCP6_SOLICIT, SOL_TIMEOUT, c->sol_max_rt, 0, 0,
          delay ? SOL_MAX_DELAY : 0);
}

static void start_info(oasis_dhcp6 *c)
{
    begin(c, OASIS_DHCP6_INFO_REQUESTING, OASIS_DHCP6_INFORMATION_REQUEST, INF_TIMEOUT,
          c->inf_max_rt, 0, 0, INF_MAX_DELAY);
}

static void start_request(oasis_dhcp6 *c)
{
    begin(c, OASIS_DHCP6_REQUESTING, OASIS_DHCP6_REQUEST, REQ_TIMEOUT, REQ_MAX_RT, REQ_MAX_RC, 0,
          0);
}

static void push_dns(oasis_dhcp6 *c)
{
    oasis_in6 sv[OASIS_DHCP6_MAX_DNS];
    const char *dn[OASIS_DHCP6_MAX_DOMAINS];
    for (uint8_t i = 0; i < c->lease.ndns; i++)
        memcpy(sv[i].b, c->lease.dns[i].b, 16);
    for (uint8_t i = 0; i < c->lease.ndomains; i++)
        dn[i] = c->lease.domains[i];
    oasis_ra_dns_set_dhcp6(c->s, sv, c->lease.ndns, dn, c->lease.ndomains);
}

/* Drops the leased address (ours to remove: no expiry event). */
static void drop_addr(oasis_dhcp6 *c)
{
    if (!c->lease.has_addr)
        return;
    c->removing = 1;
    oasis_addrconf_dhcp6_remove(c->s, &c->addr);
    c->removing = 0;
    c->lease.has_addr = 0;
    c->have = 0;
}

static void arm_lease_timer(oasis_dhcp6 *c)
{
    uint64_t at = c->state == OASIS_DHCP6_BOUND      ? c->lease.t1_ns
                  : c->state == OASIS_DHCP6_RENEWING ? c->lease.t2_ns
                  : c->state == OASIS_DHCP6_INFORMED ? c->lease.refresh_ns
                                                     : UINT64_MAX;
    if (at == UINT64_MAX)
        oasis_timer_stop(c->s, &c->lease_timer);
    else
        oasis_timer_start(c->s, &c->lease_timer, at);
}

static void start_renew(oasis_dhcp6 *c)
{
    begin(c, OASIS_DHCP6_RENEWING, OASIS_DHCP6_RENEW, REN_TIMEOUT, REN_MAX_RT, 0,
          c->lease.t2_ns, 0);
    arm_lease_timer(c);
}

static void start_rebind(oasis_dhcp6 *c)
{
    uint64_t end = c->lease.valid_until_ns;
    begin(c, OASIS_DHCP6_REBINDING, OASIS_DHCP6_REBIND, REB_TIMEOUT, REB_MAX_RT, 0,
          end == UINT64_MAX ? 0 : end, 0);
    arm_lease_timer(c);
}

static void expire(oasis_dhcp6 *c)
{
    oasis_dhcp6_lease old = c->lease;
    c->ctr.expiries++;
    c->lease.has_addr = 0;
    c->have = 0;
    oasis_timer_stop(c->s, &c->lease_timer);
    oasis_ra_dns_set_dhcp6(c->s, NULL, 0, NULL, 0);
    start_solicit(c, 1);
    notify(c, OASIS_DHCP6_EV_EXPIRED, &old);
}

/* MRC or MRD reached (RFC 8415 15: the exchange fails). */
static void exchange_failed(oasis_dhcp6 *c)
{
    switch (c->state) {
    case OASIS_DHCP6_REQUESTING:
        c->ctr.request_timeouts++;
        start_solicit(c, 0);
        return;
    case OASIS_DHCP6_DECLINING:
        start_solicit(c, 0);
        return;
    case OASIS_DHCP6_RENEWING:
        start_rebind(c);
        return;
    case OASIS_DHCP6_REBINDING:
        /* 18.2.5: the lifetimes are over; the address goes. */
        c->removing = 1;
        oasis_addrconf_dhcp6_remove(c->s, &c->addr);
        c->removing = 0;
        expire(c);
        return;
    case OASIS_DHCP6_RELEASING: /* 18.2.7: after REL_MAX_RC sends, done */
        c->sent = 0;
        c->state = OASIS_DHCP6_STOPPED;
        return;
    default:
        oasis_timer_stop(c->s, &c->rtx);
        return;
    }
}

static void rtx_fn(oasis_stack *s, oasis_timer *t)
{
    oasis_dhcp6 *c = oasis_container_of(t, oasis_dhcp6, rtx);
    (void)s;
    if (!c->sent) {
        transmit(c);
        return;
    }
    if (c->state == OASIS_DHCP6_SOLICITING && c->have_adv) {
        start_request(c); /* 18.2.1: the best Advertise of the first RT */
        return;
    }
    if ((c->mrc && c->count >= c->mrc) || (c->mrd_end && now_of(c) >= c->mrd_end)) {
        exchange_failed(c);
        return;
    }
    transmit(c);
}

static void lease_timer_fn(oasis_stack *s, oasis_timer *t)
{
    oasis_dhcp6 *c = oasis_container_of(t, oasis_dhcp6, lease_timer);
    uint64_t now = oasis_now(s);
    if (c->state == OASIS_DHCP6_INFORMED && now >= c->lease.refresh_ns) {
        start_info(c); /* RFC 8415 18.2.6: refresh */
        return;
    }
    if (c->state == OASIS_DHCP6_BOUND || c->state == OASIS_DHCP6_RENEWING) {
        if (now >= c->lease.t2_ns)
            start_rebind(c);
        else if (now >= c->lease.t1_ns && c->state == OASIS_DHCP6_BOUND)
            start_renew(c);
        else
            arm_lease_timer(c);
    }
}

/* ---- receiving -------------------------------------------------------- */

static uint64_t at_plus(uint64_t base, uint32_t s)
{
    return s == INFINITY32 ? UINT64_MAX : base + (uint64_t)s * SEC;
}

static void take_dns(oasis_dhcp6 *c, const oasis_dhcp6_msg *m)
{
    c->lease.ndns = 0;
    for (uint8_t i = 0; i < m->ndns && c->lease.ndns < OASIS_DHCP6_MAX_DNS; i++) {
        const oasis_in6 *a = &m->dns[i];
        if (oasis_in6_is_peer_unicast(a))
            c->lease.dns[c->lease.ndns++] = oasis_ipaddr_v6(a->b);
    }
    c->lease.ndomains = 0;
    size_t off = 0;
    char name[OASIS_DHCP6_NAME_MAX + 1];
    while (m->domains && c->lease.ndomains < OASIS_DHCP6_MAX_DOMAINS &&
           oasis_dhcp6_domain_next(m->domains, m->domains_len, &off, name) == 1)
        memcpy(c->lease.domains[c->lease.ndomains++], name, sizeof name);
    if (m->server_id) {
        memcpy(c->lease.server_duid, m->server_id, m->server_id_len);
        c->lease.server_duid_len = m->server_id_len;
    }
}

static int usable_addr(const oasis_in6 *a)
{
    return oasis_in6_is_peer_unicast(a) && !oasis_in6_is_link_local(a);
}

/* The IA_NA's address for us: `want` when given, else the first usable
 * one with a non-zero valid lifetime. */
static const oasis_dhcp6_iaaddr *pick_addr(const oasis_dhcp6_msg *m, const oasis_in6 *want)
{
    for (uint8_t i = 0; i < m->naddrs; i++) {
        const oasis_dhcp6_iaaddr *a = &m->addrs[i];
        if (a->status != OASIS_D6S_NONE && a->status != OASIS_D6S_SUCCESS)
            continue;
        if (want ? oasis_in6_eq(&a->addr, want) : usable_addr(&a->addr) && a->valid_s)
            return a;
    }
    return NULL;
}

/* RFC 8415 21.24, 21.25: a SOL_MAX_RT / INF_MAX_RT within 60..86400 s
 * becomes the parameter, the MRT of a Solicit / Information-request
 * running now as well. */
static void max_rt_update(oasis_dhcp6 *c, const oasis_dhcp6_msg *m)
{
    if (m->sol_max_rt >= MAX_RT_MIN && m->sol_max_rt <= MAX_RT_MAX) {
        c->sol_max_rt = (uint64_t)m->sol_max_rt * SEC;
        if (c->msg_type == OASIS_DHCP6_SOLICIT)
            c->mrt = c->sol_max_rt;
    }
    if (m->inf_max_rt >= MAX_RT_MIN && m->inf_max_rt <= MAX_RT_MAX) {
        c->inf_max_rt = (uint64_t)m->inf_max_rt * SEC;
        if (c->msg_type == OASIS_DHCP6_INFORMATION_REQUEST)
            c->mrt = c->inf_max_rt;
    }
}

static void on_info_reply(oasis_dhcp6 *c, const oasis_dhcp6_msg *m)
{
    uint64_t now = now_of(c);
    memset(&c->lease, 0, sizeof c->lease);
    take_dns(c, m);
    /* RFC 8415 21.23: absent: IRT_DEFAULT; under IRT_MINIMUM: raised. */
    uint32_t r = m->has_refresh ? m->refresh_s : IRT_DEFAULT;
    if (r < IRT_MINIMUM)
        r = IRT_MINIMUM;
    c->lease.refresh_s = r;
    c->lease.refresh_ns = at_plus(now, r);
    c->lease.acquired_ns = c->start_ns;
    c->lease.t1_ns = c->lease.t2_ns = c->lease.valid_until_ns = UINT64_MAX;
    c->have = 1;
    c->ctr.infos++;
    oasis_timer_stop(c->s, &c->rtx);
    c->state = OASIS_DHCP6_INFORMED;
    arm_lease_timer(c);
    push_dns(c);
    notify(c, OASIS_DHCP6_EV_INFO, &c->lease);
}

static void on_advertise(oasis_dhcp6 *c, const oasis_dhcp6_msg *m)
{
    max_rt_update(c, m);
    if (m->status == OASIS_D6S_NO_ADDRS_AVAIL ||
        (m->has_ia && m->ia_status != OASIS_D6S_NONE && m->ia_status != OASIS_D6S_SUCCESS)) {
        c->ctr.rx_status_errors++;
        return;
    }
    const oasis_dhcp6_iaaddr *a = m->has_ia ? pick_addr(m, NULL) : NULL;
    if (!a) {
        c->ctr.rx_invalid++;
        return;
    }
    c->ctr.rx_advertises++;
    uint8_t pref = m->has_preference ? m->preference : 0;
    if (!c->have_adv || pref > c->adv_pref) {
        c->have_adv = 1;
        c->adv_pref = pref;
        memcpy(c->adv_sid, m->server_id, m->server_id_len);
        c->adv_sid_len = m->server_id_len;
        c->adv_addr = a->addr;
    }
    /* 18.2.1: at once for preference 255, or after the first RT. */
    if (pref == 255 || c->count > 1)
        start_request(c);
}

/* T1 and T2 from the IA_NA (RFC 8415 21.4): 0 leaves them to the client,
 * 0.5 and 0.8 of the preferred lifetime. Returns 0 when T1 > T2. */
static int lease_times(oasis_dhcp6 *c, const oasis_dhcp6_msg *m, const oasis_dhcp6_iaaddr *a)
{
    if (m->t1 && m->t2 && m->t1 > m->t2)
        return 0;
    uint32_t pref = a->preferred_s;
    uint32_t t1 = m->t1, t2 = m->t2;
    if (pref == INFINITY32) {
        t1 = t1 ? t1 : INFINITY32;
        t2 = t2 ? t2 : INFINITY32;
    } else {
        /* The server leaves them to us: 0.5 and 0.8 of the preferred
         * lifetime, as RFC 8415 recommends. A deprecated address
         * (preferred 0) gives nothing to go by and would be renewed every
         * second until it expires: the valid lifetime's fractions then. */
        uint32_t by = pref ? pref : (a->valid_s == INFINITY32 ? INFINITY32 - 1 : a->valid_s);
        if (!t1)
            t1 = by / 2;
        if (!t2)
            t2 = (uint32_t)((uint64_t)by * 4 / 5);
        if (t2 < t1)
            t2 = t1;
        if (t1 == 0)
            t1 = t2 = 1; /* never renew at the speed of the round trip */
    }
    uint64_t base = c->last_tx_ns; /* the lease counts from the message answered */
    c->lease.has_addr = 1;
    c->lease.addr = oasis_ipaddr_v6(a->addr.b);
    c->lease.preferred_s = a->preferred_s;
    c->lease.valid_s = a->valid_s;
    c->lease.t1_s = t1;
    c->lease.t2_s = t2;
    c->lease.acquired_ns = base;
    c->lease.t1_ns = at_plus(base, t1);
    c->lease.t2_ns = at_plus(base, t2);
    c->lease.valid_until_ns = at_plus(base, a->valid_s);
    c->addr = a->addr;
    return 1;
}

/* A Reply to Request, Renew or Rebind, or (Rapid Commit) to Solicit. */
static void on_lease_reply(oasis_dhcp6 *c, const oasis_dhcp6_msg *m)
{
    int renew = c->state == OASIS_DHCP6_RENEWING || c->state == OASIS_DHCP6_REBINDING;
    int rapid = c->state == OASIS_DHCP6_SOLICITING;
    uint16_t st = m->has_ia ? m->ia_status : OASIS_D6S_NONE;
    if (m->status == OASIS_D6S_NOT_ON_LINK || st == OASIS_D6S_NOT_ON_LINK ||
        (!renew && st == OASIS_D6S_NO_ADDRS_AVAIL)) {
        c->ctr.rx_status_errors++;
        if (!renew && !rapid) /* (soliciting: another server may answer) */
            start_solicit(c, 0);
        return;
    }
    if (renew && st == OASIS_D6S_NO_BINDING) {
        /* 18.2.10.1: a Request to the server that responded (after a
         * Rebind, maybe not the lease's). */
        c->ctr.rx_status_errors++;
        memcpy(c->adv_sid, m->server_id, m->server_id_len);
        c->adv_sid_len = m->server_id_len;
        c->adv_addr = c->addr;
        start_request(c);
        return;
    }
    if ((st != OASIS_D6S_NONE && st != OASIS_D6S_SUCCESS) ||
        (m->status != OASIS_D6S_NONE && m->status != OASIS_D6S_SUCCESS)) {
        c->ctr.rx_status_errors++;
        return;
    }
    const oasis_dhcp6_iaaddr *a = m->has_ia ? pick_addr(m, renew ? &c->addr : NULL) : NULL;
    if (!a) {
        /* 18.2.10.1: a Reply to Renew or Rebind without our IA_NA is as
         * if not received, and a lease its IA_NA leaves out is left
         * unchanged: the address stays, the Renew / Rebind goes on. */
        c->ctr.rx_invalid++;
        return;
    }
    if (renew && a->valid_s == 0) {
        /* 18.2.10.1: the server no longer gives us the address. */
        c->ctr.rx_replies++;
        c->removing = 1;
        oasis_addrconf_dhcp6_remove(c->s, &c->addr);
        c->removing = 0;
        oasis_timer_stop(c->s, &c->rtx);
        expire(c);
        return;
    }
    oasis_dhcp6_lease old = c->lease;
    if (!lease_times(c, m, a)) {
        c->lease = old;
        c->ctr.rx_invalid++;
        return;
    }
    c->ctr.rx_replies++;
    take_dns(c, m);
    oasis_timer_stop(c->s, &c->rtx);
    uint64_t pref_until = at_plus(c->lease.acquired_ns, c->lease.preferred_s);
    if (renew) {
        if (c->state == OASIS_DHCP6_RENEWING)
            c->ctr.renewals++;
        else
            c->ctr.rebinds++;
        oasis_addrconf_dhcp6_update(c->s, &c->addr, c->lease.valid_until_ns, pref_until);
        c->state = OASIS_DHCP6_BOUND;
        c->have = 1;
        arm_lease_timer(c);
        push_dns(c);
        notify(c, OASIS_DHCP6_EV_RENEWED, &c->lease);
        return;
    }
    c->rapid = rapid;
    c->state = OASIS_DHCP6_DAD; /* the hook may bind inside the add (no DAD) */
    int err = oasis_addrconf_dhcp6_add(c->s, &c->addr, c->lease.valid_until_ns, pref_until);
    if (err) {
        c->lease.has_addr = 0;
        c->ctr.rx_invalid++;
        start_solicit(c, 1);
    }
}

static int duid_eq(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    return al == bl && memcmp(a, b, al) == 0;
}

static void udp_in(oasis_stack *s, const oasis_ipaddr *src, uint16_t src_port,
                   const oasis_ipaddr *dst, uint16_t dst_port, const uint8_t *data, size_t len,
                   void *ud)
{
    oasis_dhcp6 *c = ud;
    oasis_dhcp6_msg m;
    (void)s, (void)src, (void)dst, (void)dst_port;
    if (src->family != OASIS_AF_INET6 || src_port != OASIS_DHCP6_SERVER_PORT) {
        c->ctr.rx_wrong_port++;
        return;
    }
    if (oasis_dhcp6_parse(data, len, c->cfg.iaid, &m) != OASIS_OK) {
        c->ctr.rx_malformed++;
        return;
    }
    if (m.type != OASIS_DHCP6_ADVERTISE && m.type != OASIS_DHCP6_REPLY) {
        c->ctr.rx_unexpected++; /* Reconfigure is not supported */
        return;
    }
    int running = c->sent && c->state != OASIS_DHCP6_STOPPED &&
                  c->state != OASIS_DHCP6_WAITING_RA && c->state != OASIS_DHCP6_INFORMED &&
                  c->state != OASIS_DHCP6_DAD && c->state != OASIS_DHCP6_BOUND;
    if (!running || m.xid != c->xid) {
        c->ctr.rx_wrong_xid++;
        return;
    }
    /* RFC 8415 16.3, 16.10: a Server ID, and our Client ID. */
    if (!m.server_id) {
        c->ctr.rx_no_server_id++;
        return;
    }
    if (!m.client_id || !duid_eq(m.client_id, m.client_id_len, c->duid, c->duid_len)) {
        c->ctr.rx_wrong_client_id++;
        return;
    }
    if (m.type == OASIS_DHCP6_ADVERTISE) {
        if (c->state == OASIS_DHCP6_SOLICITING)
            on_advertise(c, &m);
        else
            c->ctr.rx_unexpected++;
        return;
    }
    /* 18.2.10: SOL_MAX_RT and INF_MAX_RT in any Reply are taken, even
     * when its status says failure. */
    max_rt_update(c, &m);
    if (m.status == OASIS_D6S_USE_MULTICAST) {
        c->ctr.rx_status_errors++; /* we multicast already: retransmission goes on */
        return;
    }
    switch (c->state) {
    case OASIS_DHCP6_SOLICITING:
        /* 18.2.1: with Rapid Commit asked for, a Reply that carries it
         * too is the lease; any other is discarded. */
        if (c->cfg.rapid_commit && m.rapid_commit)
            on_lease_reply(c, &m);
        else
            c->ctr.rx_unexpected++;
        return;
    case OASIS_DHCP6_INFO_REQUESTING:
        c->ctr.rx_replies++;
        on_info_reply(c, &m);
        return;
    case OASIS_DHCP6_REQUESTING:
    case OASIS_DHCP6_RENEWING:
    case OASIS_DHCP6_REBINDING:
        on_lease_reply(c, &m);
        return;
    case OASIS_DHCP6_DECLINING:
        c->ctr.rx_replies++;
        start_solicit(c, 0); /* 18.2.8: done with the declined address */
        return;
    case OASIS_DHCP6_RELEASING:
        /* 18.2.7: any Reply ends it, whatever its status says. */
        c->ctr.rx_replies++;
        oasis_timer_stop(c->s, &c->rtx);
        c->sent = 0;
        c->state = OASIS_DHCP6_STOPPED;
        return;
    default:
        c->ctr.rx_unexpected++;
        return;
    }
}

/* ---- hooks from the IPv6 layer ---------------------------------------- */

static void on_ra(oasis_stack *s, void *ud, uint8_t flags)
{
    oasis_dhcp6 *c = ud;
    (void)s;
    if (c->state != OASIS_DHCP6_WAITING_RA)
        return;
    if (flags & 0x80)
        start_solicit(c, 1);
    else if (flags & 0x40)
        start_info(c);
}

static void on_addr(oasis_stack *s, void *ud, const oasis_in6 *a, uint8_t state)
{
    oasis_dhcp6 *c = ud;
    (void)s;
    if (c->removing || !c->lease.has_addr || !oasis_in6_eq(a, &c->addr))
        return;
    if (state == OASIS_IPV6_PREFERRED || state == OASIS_IPV6_DEPRECATED) {
        if (c->state != OASIS_DHCP6_DAD)
            return;
        c->state = OASIS_DHCP6_BOUND;
        c->have = 1;
        c->ctr.binds++;
        c->ctr.rapid_commits += (uint64_t)c->rapid;
        arm_lease_timer(c);
        push_dns(c);
        notify(c, OASIS_DHCP6_EV_BOUND, &c->lease);
    } else if (state == OASIS_IPV6_DUPLICATE) {
        /* RFC 8415 18.2.10.1: Decline it, then start over. */
        oasis_dhcp6_lease d;
        memset(&d, 0, sizeof d);
        d.has_addr = 1;
        d.addr = c->lease.addr;
        c->declined = c->addr;
        c->ctr.declines_dad++;
        drop_addr(c);
        oasis_timer_stop(c->s, &c->lease_timer);
        begin(c, OASIS_DHCP6_DECLINING, OASIS_DHCP6_DECLINE, DEC_TIMEOUT, 0, DEC_MAX_RC, 0, 0);
        notify(c, OASIS_DHCP6_EV_DECLINED, &d);
    } else if (state == OASIS_IPV6_REMOVED) {
        oasis_timer_stop(c->s, &c->rtx);
        expire(c);
    }
}

/* ---- API --------------------------------------------------------------- */

int oasis_dhcp6_create(oasis_stack *s, const oasis_dhcp6_config *cfg, oasis_dhcp6 **out)
{
    oasis_dhcp6_config def;
    if (!s || !out)
        return OASIS_EINVAL;
    *out = NULL;
    if (!cfg) {
        oasis_dhcp6_config_init(&def);
        cfg = &def;
    }
    if (!oasis_ipv6_enabled(s) || s->ip6->dhcp6.ud ||
        (cfg->duid && (cfg->duid_len < 3 || cfg->duid_len > OASIS_DHCP6_DUID_MAX)) ||
        (unsigned)cfg->mode > OASIS_DHCP6_STATEFUL)
        return s->ip6 && s->ip6->dhcp6.ud ? OASIS_EADDRINUSE : OASIS_EINVAL;
    oasis_dhcp6 *c = oasis_calloc(s, 1, sizeof *c);
    if (!c)
        return OASIS_ENOMEM;
    c->s = s;
    c->cfg = *cfg;
    c->cfg.duid = NULL;
    if (cfg->duid) {
        memcpy(c->duid, cfg->duid, cfg->duid_len);
        c->duid_len = cfg->duid_len;
    } else { /* RFC 8415 11.4: DUID-LL, hardware type 1 (Ethernet) */
        c->duid[1] = 3;
        c->duid[3] = 1;
        memcpy(c->duid + 4, s->mac, 6);
        c->duid_len = 10;
    }
    c->sol_max_rt = SOL_MAX_RT;
    c->inf_max_rt = INF_MAX_RT;
    oasis_timer_init(&c->rtx, rtx_fn);
    oasis_timer_init(&c->lease_timer, lease_timer_fn);
    int err = oasis_udp_bind(s, OASIS_DHCP6_CLIENT_PORT, udp_in, c);
    if (err) {
        oasis_free(s, c);
        return err;
    }
    s->ip6->dhcp6.ra = on_ra;
    s->ip6->dhcp6.addr = on_addr;
    s->ip6->dhcp6.ud = c;
    oasis_stack_client_add(s);
    *out = c;
    return OASIS_OK;
}

int oasis_dhcp6_start(oasis_dhcp6 *c)
{
    if (!c)
        return OASIS_EINVAL;
    if (c->state == OASIS_DHCP6_RELEASING)
        oasis_dhcp6_stop(c, 0); /* the Release gives way to a new start */
    if (c->state != OASIS_DHCP6_STOPPED)
        return OASIS_EBUSY;
    switch (c->cfg.mode) {
    case OASIS_DHCP6_STATELESS:
        start_info(c);
        break;
    case OASIS_DHCP6_STATEFUL:
        start_solicit(c, 1);
        break;
    default:
        c->state = OASIS_DHCP6_WAITING_RA;
        if (c->s->ip6->ra_seen) /* an RA came before the start */
            on_ra(c->s, c, c->s->ip6->ra_flags);
        break;
    }
    return OASIS_OK;
}

void oasis_dhcp6_stop(oasis_dhcp6 *c, int release)
{
    if (!c)
        return;
    oasis_timer_stop(c->s, &c->rtx);
    oasis_timer_stop(c->s, &c->lease_timer);
    int release_now = release && c->lease.has_addr &&
                      (c->state == OASIS_DHCP6_BOUND || c->state == OASIS_DHCP6_RENEWING ||
                       c->state == OASIS_DHCP6_REBINDING || c->state == OASIS_DHCP6_DAD);
    if (release_now) {
        memcpy(c->rel_sid, c->lease.server_duid, c->lease.server_duid_len);
        c->rel_sid_len = c->lease.server_duid_len;
        c->released = c->addr;
        drop_addr(c);
    }
    if (c->have || c->lease.ndns || c->lease.ndomains)
        oasis_ra_dns_set_dhcp6(c->s, NULL, 0, NULL, 0);
    memset(&c->lease, 0, sizeof c->lease);
    c->have = 0;
    c->sent = 0;
    c->state = OASIS_DHCP6_STOPPED;
    if (release_now) /* 18.2.7: Release, retransmitted until a Reply */
        begin(c, OASIS_DHCP6_RELEASING, OASIS_DHCP6_RELEASE, REL_TIMEOUT, 0, REL_MAX_RC, 0, 0);
}

int oasis_dhcp6_destroy(oasis_dhcp6 *c)
{
    if (!c)
        return OASIS_OK;
    if (c->in_cb)
        return OASIS_EBUSY;
    oasis_dhcp6_stop(c, 0);
    oasis_udp_unbind(c->s, OASIS_DHCP6_CLIENT_PORT);
    memset(&c->s->ip6->dhcp6, 0, sizeof c->s->ip6->dhcp6);
    oasis_stack *s = c->s;
    oasis_free(s, c);
    oasis_stack_client_del(s);
    return OASIS_OK;
}

oasis_dhcp6_state oasis_dhcp6_get_state(const oasis_dhcp6 *c)
{
    return c ? c->state : OASIS_DHCP6_STOPPED;
}

int oasis_dhcp6_get_lease(const oasis_dhcp6 *c, oasis_dhcp6_lease *out)
{
    if (!c || !out)
        return OASIS_EINVAL;
    if (!c->have)
        return OASIS_ENOENT;
    *out = c->lease;
    return OASIS_OK;
}

const uint8_t *oasis_dhcp6_duid(const oasis_dhcp6 *c, size_t *len)
{
    if (!c)
        return NULL;
    if (len)
        *len = c->duid_len;
    return c->duid;
}

const oasis_dhcp6_counters *oasis_dhcp6_get_counters(const oasis_dhcp6 *c)
{
    return c ? &c->ctr : NULL;
}

/* ---- metrics ----------------------------------------------------------- */

static const struct {
    const char *name;
    size_t off;
} fields[] = {
    {"TxSolicits", offsetof(oasis_dhcp6_counters, tx_solicits)},
    {"TxRequests", offsetof(oasis_dhcp6_counters, tx_requests)},
    {"TxRenews", offsetof(oasis_dhcp6_counters, tx_renews)},
    {"TxRebinds", offsetof(oasis_dhcp6_counters, tx_rebinds)},
    {"TxReleases", offsetof(oasis_dhcp6_counters, tx_releases)},
    {"TxDeclines", offsetof(oasis_dhcp6_counters, tx_declines)},
    {"TxInfoRequests", offsetof(oasis_dhcp6_counters, tx_info_requests)},
    {"TxRetransmits", offsetof(oasis_dhcp6_counters, tx_retransmits)},
    {"TxErrors", offsetof(oasis_dhcp6_counters, tx_errors)},
    {"RxAdvertises", offsetof(oasis_dhcp6_counters, rx_advertises)},
    {"RxReplies", offsetof(oasis_dhcp6_counters, rx_replies)},
    {"RxMalformed", offsetof(oasis_dhcp6_counters, rx_malformed)},
    {"RxWrongPort", offsetof(oasis_dhcp6_counters, rx_wrong_port)},
    {"RxWrongXid", offsetof(oasis_dhcp6_counters, rx_wrong_xid)},
    {"RxNoServerId", offsetof(oasis_dhcp6_counters, rx_no_server_id)},
    {"RxWrongClientId", offsetof(oasis_dhcp6_counters, rx_wrong_client_id)},
    {"RxUnexpected", offsetof(oasis_dhcp6_counters, rx_unexpected)},
    {"RxStatusErrors", offsetof(oasis_dhcp6_counters, rx_status_errors)},
    {"RxInvalid", offsetof(oasis_dhcp6_counters, rx_invalid)},
    {"Binds", offsetof(oasis_dhcp6_counters, binds)},
    {"Renewals", offsetof(oasis_dhcp6_counters, renewals)},
    {"Rebinds", offsetof(oasis_dhcp6_counters, rebinds)},
    {"Expiries", offsetof(oasis_dhcp6_counters, expiries)},
    {"DeclinesDad", offsetof(oasis_dhcp6_counters, declines_dad)},
    {"Infos", offsetof(oasis_dhcp6_counters, infos)},
    {"RequestTimeouts", offsetof(oasis_dhcp6_counters, request_timeouts)},
    {"RapidCommits", offsetof(oasis_dhcp6_counters, rapid_commits)},
};

static int read_metrics(oasis_metrics_emit *e, void *ud)
{
    const oasis_dhcp6 *c = ud;
    const uint8_t *base = (const uint8_t *)&c->ctr;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        uint64_t v;
        memcpy(&v, base + fields[i].off, sizeof v);
        int err = oasis_metrics_field_counter(e, fields[i].name, v);
        if (err)
            return err;
    }
    uint64_t valid = 0, left = 0;
    if (c->lease.has_addr && c->have) {
        uint64_t now = oasis_now(c->s);
        valid = c->lease.valid_s;
        left = c->lease.valid_until_ns == UINT64_MAX ? valid
               : c->lease.valid_until_ns > now      ? (c->lease.valid_until_ns - now) / SEC
                                                    : 0;
    }
    int err = oasis_metrics_field_string(e, "State", oasis_dhcp6_state_name(c->state));
    if (!err)
        err = oasis_metrics_field_uint(e, "ValidSeconds", valid);
    if (!err)
        err = oasis_metrics_field_uint(e, "ValidRemainingSeconds", left);
    return err;
}

int oasis_dhcp6_add_metrics(oasis_metrics *m, oasis_dhcp6 *c, const oasis_metric_tag *tags,
                            size_t ntags)
{
    if (!m || !c)
        return OASIS_EINVAL;
    return oasis_metrics_add_source(m, "dhcp6", tags, ntags, read_metrics, c, NULL);
}
