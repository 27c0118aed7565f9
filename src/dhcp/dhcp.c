/* DHCPv4 client state machine (RFC 2131 4.4, figure 5) with the address
 * probe of RFC 5227 2.1 before an address is used. Messages are built and
 * read by dhcp_wire.c; this file holds the states, the timers and what
 * the stack is told. */
#include "oasis/dhcp.h"

#include "arp/arp.h"
#include "core/bytes.h"
#include "core/mem.h"
#include "core/prng.h"
#include "core/stack_impl.h"
#include "dhcp/dhcp_wire.h"
#include "ip/ipv4_wire.h"
#include "oasis/error.h"
#include "oasis/ip.h"
#include "oasis/metrics.h"
#include "oasis/udp.h"

#include <string.h>

#define SEC OASIS_NS_PER_SEC
/* RFC 2131 4.1: 4 s before the first retransmission, doubled up to 64 s,
 * each randomised by a uniform -1..+1 s. */
#define RTX_FIRST (4 * SEC)
#define RTX_MAX (64 * SEC)
/* RFC 2131 4.4.5: in RENEWING and REBINDING, wait half the time left
 * (until T2, or until expiry), down to a minimum of 60 s. */
#define RENEW_MIN (60 * SEC)
/* RFC 2131 4.4.1: after a DECLINE, wait at least 10 s. */
#define DECLINE_WAIT (10 * SEC)
/* RFC 5227 2.1.1 and 9: from MAX_CONFLICTS conflicts on, at most one new
 * address tried per RATE_LIMIT_INTERVAL. */
#define MAX_CONFLICTS 10
#define RATE_LIMIT_INTERVAL (60 * SEC)
/* After a NAK, or a lease that ran out before its probes were done: 1 s,
 * doubled for each such failure in a row up to 64 s, so a server that
 * refuses every request, or grants only leases shorter than the probes,
 * cannot make us loop at wire speed. */
#define RETRY_FIRST SEC
/* RFC 5227 2.1.1 and 9. */
#define PROBE_WAIT SEC
#define PROBE_MIN SEC
#define PROBE_MAX (2 * SEC)
#define ANNOUNCE_WAIT (2 * SEC)

#define MSG_BUF 576
#define INFINITE_LEASE 0xffffffffu

struct oasis_dhcp {
    oasis_stack *s;
    oasis_dhcp_config cfg;
    char hostname[64];
    uint8_t client_id[64];
    size_t client_id_len;

    oasis_dhcp_state state;
    uint32_t xid;
    uint64_t begin_ns;    /* this acquisition or renewal began (the secs field) */
    uint64_t sent_ns;     /* first REQUEST of this transaction: the lease starts here */
    uint16_t discover_secs; /* the secs of the last DISCOVER: the REQUESTs for its offer
                             * repeat it (RFC 2131 3.1 step 3) */
    uint32_t tries;       /* REQUESTs sent in REQUESTING/REBOOTING */
    uint64_t rto_ns;      /* base of the next retransmission delay */
    uint64_t retry_wait_ns; /* INIT delay after the last NAK or lease lost in probing */
    oasis_timer rtx;      /* start delay, retransmissions, probes */
    oasis_timer lease_timer; /* T1, T2, expiry */

    uint32_t offer_addr, offer_server;
    oasis_dhcp_lease pending; /* acknowledged, being probed */
    oasis_dhcp_lease lease;   /* in use */
    int have_lease;
    uint32_t probes_left;
    int rapid;      /* the lease being probed came by Rapid Commit (RFC 4039) */
    uint32_t in_cb; /* the application's callback runs: destroy is refused */

    oasis_dhcp_counters ctr;
};

static const char *const state_names[] = {
    "STOPPED", "INIT", "SELECTING", "REQUESTING", "PROBING",
    "BOUND", "RENEWING", "REBINDING", "INIT-REBOOT", "REBOOTING",
};

const char *oasis_dhcp_state_name(oasis_dhcp_state st)
{
    return (unsigned)st < sizeof state_names / sizeof state_names[0] ? state_names[st] : "?";
}

const char *oasis_dhcp_event_name(oasis_dhcp_event ev)
{
    static const char *const names[] = {"BOUND", "RENEWED", "EXPIRED", "NAK", "CONFLICT",
                                        "TIMEOUT"};
    return (unsigned)ev < sizeof names / sizeof names[0] ? names[ev] : "?";
}

void oasis_dhcp_config_init(oasis_dhcp_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->probes = 3;
    cfg->start_delay_max_ns = SEC;
    cfg->request_retries = 4;
}

/* ---- sending ---------------------------------------------------------- */

static uint64_t now_of(const oasis_dhcp *d) { return oasis_now(d->s); }

static void new_xid(oasis_dhcp *d) { d->xid = (uint32_t)oasis_prng_next(&d->s->prng); }

/* RFC 2131 4.1: the delay randomised by a uniform -1..+1 s. */
static uint64_t jitter(oasis_dhcp *d, uint64_t base)
{
    return base - SEC + oasis_prng_below(&d->s->prng, 2 * SEC + 1);
}

static uint16_t secs_field(const oasis_dhcp *d)
{
    uint64_t s = (now_of(d) - d->begin_ns) / SEC;
    return (uint16_t)(s > 65535 ? 65535 : s);
}

/* Options every DISCOVER and REQUEST carries: who we are and what we
 * want to hear about. */
static void common_opts(oasis_dhcp *d, oasis_dhcp_builder *b)
{
    static const uint8_t prl[] = {OASIS_DHO_SUBNET_MASK, OASIS_DHO_ROUTER, OASIS_DHO_DNS,
                                  OASIS_DHO_HOSTNAME,    OASIS_DHO_DOMAIN, OASIS_DHO_MTU,
                                  OASIS_DHO_BROADCAST,   OASIS_DHO_LEASE_TIME,
                                  OASIS_DHO_T1,          OASIS_DHO_T2,
                                  OASIS_DHO_DOMAIN_SEARCH};
    uint32_t mtu = d->s->mtu;
    /* RFC 2132 9.10: at least 576; what fits in one datagram of our MTU. */
    uint32_t max = mtu > 576 + 28 ? mtu - 28 : 576;
    oasis_dhcp_build_opt16(b, OASIS_DHO_MAX_SIZE, (uint16_t)(max > 65535 ? 65535 : max));
    oasis_dhcp_build_opt(b, OASIS_DHO_PARAM_LIST, prl, sizeof prl);
}

static void id_opts(oasis_dhcp *d, oasis_dhcp_builder *b)
{
    oasis_dhcp_build_opt(b, OASIS_DHO_CLIENT_ID, d->client_id, d->client_id_len);
    if (d->hostname[0])
        oasis_dhcp_build_opt(b, OASIS_DHO_HOSTNAME, d->hostname, strlen(d->hostname));
}

static void send_msg(oasis_dhcp *d, oasis_dhcp_builder *b, uint32_t dst)
{
    size_t n = oasis_dhcp_build_end(b);
    if (n == 0 || oasis_udp_send4(d->s, OASIS_DHCP_CLIENT_PORT, dst, OASIS_DHCP_SERVER_PORT, b->buf,
                                 n) != OASIS_OK)
        d->ctr.tx_errors++;
}

static void send_discover(oasis_dhcp *d)
{
    uint8_t buf[MSG_BUF];
    oasis_dhcp_builder b;
    d->discover_secs = secs_field(d);
    oasis_dhcp_build_start(&b, buf, sizeof buf, OASIS_DHCPDISCOVER, d->xid, d->discover_secs, 0, 0,
                           d->s->mac);
    id_opts(d, &b);
    /* RFC 4039 3: asked for in DISCOVER alone, and only when configured
     * (send_request never adds it). */
    if (d->cfg.rapid_commit)
        oasis_dhcp_build_opt(&b, OASIS_DHO_RAPID_COMMIT, NULL, 0);
    common_opts(d, &b);
    d->ctr.tx_discovers++;
    send_msg(d, &b, 0xffffffffu);
}

/* The REQUEST of each state (RFC 2131 4.3.2 table 5): server id and
 * requested address in REQUESTING, the address alone in REBOOTING, ciaddr
 * alone in RENEWING (unicast) and REBINDING (broadcast). */
static void send_request(oasis_dhcp *d)
{
    uint8_t buf[MSG_BUF];
    oasis_dhcp_builder b;
    int renew = d->state == OASIS_DHCP_RENEWING || d->state == OASIS_DHCP_REBINDING;
    uint32_t ciaddr = renew ? d->lease.addr : 0;
    /* RFC 2131 3.1 step 3: a REQUEST for an offer "MUST use the same value
     * in the DHCP message header's 'secs' field" as the DISCOVER, so that
     * relay agents forward it to the same servers. */
    uint16_t secs = d->state == OASIS_DHCP_REQUESTING ? d->discover_secs : secs_field(d);
    oasis_dhcp_build_start(&b, buf, sizeof buf, OASIS_DHCPREQUEST, d->xid, secs, 0, ciaddr,
                           d->s->mac);
    id_opts(d, &b);
    if (d->state == OASIS_DHCP_REQUESTING) {
        oasis_dhcp_build_opt32(&b, OASIS_DHO_REQUESTED_IP, d->offer_addr);
        oasis_dhcp_build_opt32(&b, OASIS_DHO_SERVER_ID, d->offer_server);
    } else if (d->state == OASIS_DHCP_REBOOTING) {
        oasis_dhcp_build_opt32(&b, OASIS_DHO_REQUESTED_IP, d->cfg.requested_addr);
    }
    common_opts(d, &b);
    d->ctr.tx_requests++;
    send_msg(d, &b, d->state == OASIS_DHCP_RENEWING ? d->lease.server : 0xffffffffu);
}

static void send_decline(oasis_dhcp *d, const oasis_dhcp_lease *l)
{
    uint8_t buf[MSG_BUF];
    oasis_dhcp_builder b;
    oasis_dhcp_build_start(&b, buf, sizeof buf, OASIS_DHCPDECLINE, d->xid, 0, 0, 0, d->s->mac);
    oasis_dhcp_build_opt(&b, OASIS_DHO_CLIENT_ID, d->client_id, d->client_id_len);
    oasis_dhcp_build_opt32(&b, OASIS_DHO_REQUESTED_IP, l->addr);
    oasis_dhcp_build_opt32(&b, OASIS_DHO_SERVER_ID, l->server);
    d->ctr.tx_declines++;
    send_msg(d, &b, 0xffffffffu);
}

/* RFC 2131 4.4.6: the lease l given back. Unicast when our address is
 * configured and the server's MAC known; else broadcast (the server
 * identifier says whose lease it is): the address goes right after this,
 * so an ARP answer for it would find no one to deliver to, and while it
 * is probed it is not ours yet (the stack has 0.0.0.0 and sends only
 * broadcasts). */
static void send_release(oasis_dhcp *d, const oasis_dhcp_lease *l)
{
    uint8_t buf[MSG_BUF];
    oasis_dhcp_builder b;
    new_xid(d);
    oasis_dhcp_build_start(&b, buf, sizeof buf, OASIS_DHCPRELEASE, d->xid, 0, 0, l->addr,
                           d->s->mac);
    oasis_dhcp_build_opt(&b, OASIS_DHO_CLIENT_ID, d->client_id, d->client_id_len);
    oasis_dhcp_build_opt32(&b, OASIS_DHO_SERVER_ID, l->server);
    d->ctr.tx_releases++;
    uint8_t mac[6];
    int known = d->s->addr == l->addr && oasis_arp_lookup(d->s, l->server, mac) == OASIS_OK;
    send_msg(d, &b, known ? l->server : 0xffffffffu);
}

/* ---- stack configuration ---------------------------------------------- */

static void notify(oasis_dhcp *d, oasis_dhcp_event ev, const oasis_dhcp_lease *l)
{
    if (!d->cfg.cb)
        return;
    d->in_cb++;
    d->cfg.cb(d, ev, l, d->cfg.ud);
    d->in_cb--;
}

static void set_watch(oasis_dhcp *d, int on);

/* Takes the lease's address away from the stack (flows on it end). */
static void unconfigure(oasis_dhcp *d)
{
    if (d->have_lease && d->s->addr == d->lease.addr)
        oasis_stack_set_ipv4(d->s, 0, d->lease.prefix_len, 0);
    d->have_lease = 0;
    oasis_timer_stop(d->s, &d->lease_timer);
}

/* The state's next boundary: T1 in BOUND, T2 in RENEWING, expiry in
 * REBINDING. One already past (T1 gone by while the address was probed)
 * fires at once, and lease_timer_fn moves on from there (RFC 2131 4.4.5). */
static void arm_lease_timer(oasis_dhcp *d)
{
    const oasis_dhcp_lease *l = &d->lease;
    uint64_t at = d->state == OASIS_DHCP_BOUND       ? l->t1_ns
                  : d->state == OASIS_DHCP_RENEWING ? l->t2_ns
                                                     : l->expires_ns;
    if (at == UINT64_MAX)
        oasis_timer_stop(d->s, &d->lease_timer);
    else
        oasis_timer_start(d->s, &d->lease_timer, at);
}

/* The lease in the stack: address, prefix, gateway, MTU. */
static void apply(oasis_dhcp *d)
{
    const oasis_dhcp_lease *l = &d->lease;
    oasis_stack_set_ipv4(d->s, l->addr, l->prefix_len, l->gateway);
    if (l->mtu)
        oasis_stack_set_mtu(d->s, l->mtu); /* refused when over the link's: kept as is */
}

/* ---- state changes ---------------------------------------------------- */

/* INIT: DISCOVER after `delay`. */
static void enter_init(oasis_dhcp *d, uint64_t delay)
{
    set_watch(d, 0);
    d->state = OASIS_DHCP_INIT;
    oasis_timer_start(d->s, &d->rtx, oasis_deadline(now_of(d), delay));
}

static uint64_t start_delay(oasis_dhcp *d)
{
    uint64_t max = d->cfg.start_delay_max_ns; /* [0, max]: max + 1 must not wrap to 0 */
    return max ? oasis_prng_below(&d->s->prng, max == UINT64_MAX ? max : max + 1) : 0;
}

static uint64_t next_retry_wait(oasis_dhcp *d)
{
    uint64_t w = d->retry_wait_ns;
    d->retry_wait_ns = w ? (w * 2 > RTX_MAX ? RTX_MAX : w * 2) : RETRY_FIRST;
    return d->retry_wait_ns;
}

/* Sends the first message of a new transaction in the state's way. */
static void begin(oasis_dhcp *d, oasis_dhcp_state st)
{
    uint64_t now = now_of(d);
    d->state = st;
    new_xid(d);
    d->begin_ns = now;
    d->sent_ns = now;
    d->tries = 1;
    d->rto_ns = RTX_FIRST;
    if (st == OASIS_DHCP_SELECTING)
        send_discover(d);
    else
        send_request(d);
    oasis_timer_start(d->s, &d->rtx, now + jitter(d, d->rto_ns));
}

/* RENEWING and REBINDING: the next retransmission, or none when the next
 * boundary (T2, expiry) comes first. */
static void renew_rtx(oasis_dhcp *d)
{
    uint64_t now = now_of(d);
    uint64_t end = d->state == OASIS_DHCP_RENEWING ? d->lease.t2_ns : d->lease.expires_ns;
    uint64_t wait = end > now ? (end - now) / 2 : 0;
    if (wait < RENEW_MIN)
        wait = RENEW_MIN;
    if (end != UINT64_MAX && now + wait >= end)
        oasis_timer_stop(d->s, &d->rtx);
    else
        oasis_timer_start(d->s, &d->rtx, now + wait);
}

static void enter_renew(oasis_dhcp *d, oasis_dhcp_state st)
{
    uint64_t now = now_of(d);
    d->state = st;
    new_xid(d);
    d->begin_ns = now;
    d->sent_ns = now;
    send_request(d);
    renew_rtx(d);
    arm_lease_timer(d);
}

static void expire(oasis_dhcp *d)
{
    oasis_dhcp_lease old = d->lease;
    d->ctr.expiries++;
    oasis_timer_stop(d->s, &d->rtx);
    unconfigure(d);
    enter_init(d, 0);
    notify(d, OASIS_DHCP_EV_EXPIRED, &old);
}

static void pending_expired(oasis_dhcp *d);

static void lease_timer_fn(oasis_stack *s, oasis_timer *t)
{
    oasis_dhcp *d = oasis_container_of(t, oasis_dhcp, lease_timer);
    uint64_t now = oasis_now(s);
    if (d->state == OASIS_DHCP_PROBING) { /* the acknowledged lease, not yet used */
        if (now >= d->pending.expires_ns)
            pending_expired(d);
        return;
    }
    if (!d->have_lease)
        return;
    if (now >= d->lease.expires_ns) {
        expire(d);
    } else if (now >= d->lease.t2_ns && d->state != OASIS_DHCP_REBINDING) {
        enter_renew(d, OASIS_DHCP_REBINDING);
    } else if (now >= d->lease.t1_ns && d->state == OASIS_DHCP_BOUND) {
        enter_renew(d, OASIS_DHCP_RENEWING);
    } else {
        arm_lease_timer(d);
    }
}

static void bind_lease(oasis_dhcp *d, const oasis_dhcp_lease *l, int extend)
{
    int same = d->have_lease && d->lease.addr == l->addr;
    if (!(extend && same)) {
        d->ctr.binds++;
        if (d->rapid)
            d->ctr.rapid_commits++;
    }
    d->rapid = 0;
    oasis_timer_stop(d->s, &d->rtx);
    set_watch(d, 0);
    d->lease = *l;
    d->have_lease = 1;
    d->retry_wait_ns = 0;
    d->state = OASIS_DHCP_BOUND;
    apply(d);
    arm_lease_timer(d);
    notify(d, extend && same ? OASIS_DHCP_EV_RENEWED : OASIS_DHCP_EV_BOUND, &d->lease);
}

/* ---- RFC 5227 probe --------------------------------------------------- */

/* RFC 2131 4.4.5: a lease that ends before the client receives an ACK
 * sends it back to INIT, the address no longer usable. One that ends while
 * its address is still probed (RFC 5227 2.1.1: 4 to 9 s) or even before
 * the ACK came (an ACK to a late retransmission) was never ours to use:
 * the client goes back to INIT without having configured it, instead of
 * binding an address whose lease is over and dropping it a moment later. */
static void pending_expired(oasis_dhcp *d)
{
    d->ctr.expiries++;
    oasis_timer_stop(d->s, &d->rtx);
    oasis_timer_stop(d->s, &d->lease_timer);
    set_watch(d, 0);
    enter_init(d, next_retry_wait(d));
}

static void conflict(oasis_dhcp *d)
{
    oasis_dhcp_lease l = d->pending;
    d->ctr.conflicts++;
    oasis_timer_stop(d->s, &d->rtx);
    oasis_timer_stop(d->s, &d->lease_timer);
    set_watch(d, 0);
    send_decline(d, &l);
    /* The count is never reset: a server that hands out the same taken
     * address to every host looks like a fresh start each time. */
    enter_init(d, d->ctr.conflicts >= MAX_CONFLICTS ? RATE_LIMIT_INTERVAL : DECLINE_WAIT);
    notify(d, OASIS_DHCP_EV_CONFLICT, &l);
}

/* RFC 5227 2.1.1: the address is taken if any ARP packet has it as
 * sender, or another host probes for it at the same time. */
static void arp_watch(oasis_stack *s, void *ud, uint16_t op, uint32_t spa, uint32_t tpa,
                      const uint8_t sha[6])
{
    oasis_dhcp *d = ud;
    uint32_t a = d->pending.addr;
    if (d->state != OASIS_DHCP_PROBING || memcmp(sha, s->mac, 6) == 0)
        return;
    if (spa == a || (op == 1 && spa == 0 && tpa == a))
        conflict(d);
}

static void set_watch(oasis_dhcp *d, int on)
{
    oasis_arp *a = &d->s->arp;
    if (on) {
        a->watch = arp_watch;
        a->watch_ud = d;
    } else if (a->watch_ud == d) {
        a->watch = NULL;
        a->watch_ud = NULL;
    }
}

static void start_probe(oasis_dhcp *d, const oasis_dhcp_lease *l)
{
    d->pending = *l;
    d->state = OASIS_DHCP_PROBING;
    if (now_of(d) >= l->expires_ns) {
        pending_expired(d);
        return;
    }
    if (d->cfg.probes == 0) {
        bind_lease(d, l, 0);
        return;
    }
    d->probes_left = d->cfg.probes;
    set_watch(d, 1);
    if (l->expires_ns != UINT64_MAX)
        oasis_timer_start(d->s, &d->lease_timer, l->expires_ns);
    oasis_timer_start(d->s, &d->rtx, now_of(d) + oasis_prng_below(&d->s->prng, PROBE_WAIT + 1));
}

static void probe_step(oasis_dhcp *d)
{
    uint64_t now = now_of(d);
    if (now >= d->pending.expires_ns) { /* its timer due at this very instant */
        pending_expired(d);
        return;
    }
    if (d->probes_left == 0) { /* ANNOUNCE_WAIT passed in silence */
        bind_lease(d, &d->pending, 0);
        return;
    }
    d->probes_left--;
    d->ctr.probes_sent++;
    oasis_arp_probe(d->s, d->pending.addr);
    uint64_t next = d->probes_left
                        ? PROBE_MIN + oasis_prng_below(&d->s->prng, PROBE_MAX - PROBE_MIN + 1)
                        : ANNOUNCE_WAIT;
    oasis_timer_start(d->s, &d->rtx, now + next);
}

/* ---- retransmission timer ------------------------------------------- */

static void rtx_fn(oasis_stack *s, oasis_timer *t)
{
    oasis_dhcp *d = oasis_container_of(t, oasis_dhcp, rtx);
    uint64_t now = oasis_now(s);

    switch (d->state) {
    case OASIS_DHCP_INIT:
        begin(d, OASIS_DHCP_SELECTING);
        return;
    case OASIS_DHCP_INIT_REBOOT:
        begin(d, OASIS_DHCP_REBOOTING);
        return;
    case OASIS_DHCP_SELECTING:
        d->rto_ns = d->rto_ns * 2 > RTX_MAX ? RTX_MAX : d->rto_ns * 2;
        d->ctr.tx_retransmits++;
        send_discover(d);
        oasis_timer_start(s, &d->rtx, now + jitter(d, d->rto_ns));
        return;
    case OASIS_DHCP_REQUESTING:
    case OASIS_DHCP_REBOOTING:
        if (d->tries >= d->cfg.request_retries) {
            /* RFC 2131 4.4.1: no ACK nor NAK after the retransmissions:
             * INIT again, and the user SHOULD hear that it restarts. */
            oasis_dhcp_lease asked;
            memset(&asked, 0, sizeof asked);
            int reboot = d->state == OASIS_DHCP_REBOOTING;
            asked.addr = reboot ? d->cfg.requested_addr : d->offer_addr;
            asked.server = reboot ? 0 : d->offer_server;
            d->ctr.request_timeouts++;
            enter_init(d, 0);
            notify(d, OASIS_DHCP_EV_TIMEOUT, &asked);
            return;
        }
        d->tries++;
        d->rto_ns = d->rto_ns * 2 > RTX_MAX ? RTX_MAX : d->rto_ns * 2;
        d->ctr.tx_retransmits++;
        send_request(d);
        oasis_timer_start(s, &d->rtx, now + jitter(d, d->rto_ns));
        return;
    case OASIS_DHCP_PROBING:
        probe_step(d);
        return;
    case OASIS_DHCP_RENEWING:
    case OASIS_DHCP_REBINDING:
        d->ctr.tx_retransmits++;
        send_request(d);
        renew_rtx(d);
        return;
    default:
        return;
    }
}

/* ---- receiving -------------------------------------------------------- */

/* RFC 1122 3.3.1.1 / the class of the address when no mask is given. */
static uint8_t classful_prefix(uint32_t a)
{
    uint32_t top = a >> 24;
    return top < 128 ? 8 : top < 192 ? 16 : 24;
}

/* An ACK made into a lease; 0, or OASIS_EMALFORMED when it cannot be used. */
static int lease_from_ack(oasis_dhcp *d, const oasis_dhcp_msg *m, uint32_t src,
                          oasis_dhcp_lease *l)
{
    memset(l, 0, sizeof *l);
    /* RFC 2131 4.3.1: a lease time MUST be in an ACK to a REQUEST. A zero
     * lease would expire at once and have us ask again at wire speed. */
    if (!(m->have & OASIS_DHCP_HAVE_LEASE) || m->lease_time == 0)
        return OASIS_EMALFORMED;
    int prefix = classful_prefix(m->yiaddr);
    if (m->have & OASIS_DHCP_HAVE_MASK) {
        prefix = oasis_dhcp_mask_prefix(m->subnet_mask);
        if (prefix < 1)
            return OASIS_EMALFORMED;
    }
    if (!oasis_ipv4_host_addr_ok(m->yiaddr, (uint8_t)prefix))
        return OASIS_EMALFORMED;
    l->addr = m->yiaddr;
    l->prefix_len = (uint8_t)prefix;
    l->netmask = oasis_netmask((uint8_t)prefix);
    /* RFC 2132 9.7: the server's address; one that is no unicast address
     * is ignored like a missing one (RENEWING unicasts to it). */
    l->server = (m->have & OASIS_DHCP_HAVE_SERVER_ID) && oasis_ipv4_host_addr_ok(m->server_id, 32)
                    ? m->server_id
                    : src;
    /* The first router on our subnet (another would need a route to it). */
    for (uint8_t i = 0; i < m->nrouters; i++) {
        uint32_t r = m->routers[i];
        if (r != l->addr && (r & l->netmask) == (l->addr & l->netmask) &&
            oasis_ipv4_host_addr_ok(r, l->prefix_len)) {
            l->gateway = r;
            break;
        }
    }
    /* RFC 2132 3.8: servers available to us; 0/8, loopback, broadcast or
     * multicast addresses name none. */
    for (uint8_t i = 0; i < m->ndns && l->ndns < OASIS_DHCP_MAX_DNS; i++)
        if (oasis_ipv4_host_addr_ok(m->dns[i], 32))
            l->dns[l->ndns++] = m->dns[i];
    if ((m->have & OASIS_DHCP_HAVE_MTU) && m->mtu >= 576)
        l->mtu = m->mtu;
    memcpy(l->hostname, m->hostname, sizeof l->hostname);
    memcpy(l->domain, m->domain, sizeof l->domain);
    memcpy(l->search, m->search, sizeof l->search);
    l->nsearch = m->nsearch;

    /* RFC 2131 4.4.5: "T1 defaults to (0.5 * duration_of_lease). T2
     * defaults to (0.875 * duration_of_lease)", and "T1 MUST be earlier
     * than T2, which, in turn, MUST be earlier than" the expiry. A server
     * value that breaks the order gives way to the default: T2 first (it
     * must be under the lease), then T1 (under that T2); a T2 so small
     * that even the default T1 is not under it goes back to its default
     * too. A zero T1 or T2 counts as absent (as dhcpcd reads it), and
     * neither comes sooner than 1 s after the REQUEST: a renewal due at
     * once after every ACK would renew at the speed of the round trip
     * (leases of 1 or 2 s, where whole seconds leave no room for the
     * order, get T1 = T2). */
    uint32_t lt = m->lease_time;
    l->lease_s = lt;
    uint64_t at = d->sent_ns;
    l->acquired_ns = at;
    if (lt == INFINITE_LEASE) {
        l->t1_s = l->t2_s = INFINITE_LEASE;
        l->t1_ns = l->t2_ns = l->expires_ns = UINT64_MAX;
        return OASIS_OK;
    }
    uint32_t t1_def = (uint32_t)(lt / 2), t2_def = (uint32_t)((uint64_t)lt * 7 / 8);
    uint32_t t2 = (m->have & OASIS_DHCP_HAVE_T2) && m->t2 != 0 && m->t2 < lt ? m->t2 : t2_def;
    uint32_t t1 = (m->have & OASIS_DHCP_HAVE_T1) && m->t1 != 0 && m->t1 < t2 ? m->t1 : t1_def;
    if (t1 >= t2)
        t2 = t2_def;
    if (t1 == 0)
        t1 = 1; /* a 1 s lease: T1 = T2 = expiry */
    if (t2 < t1)
        t2 = t1;
    l->t1_s = t1;
    l->t2_s = t2;
    l->t1_ns = at + (uint64_t)t1 * SEC;
    l->t2_ns = at + (uint64_t)t2 * SEC;
    l->expires_ns = at + (uint64_t)lt * SEC;
    return OASIS_OK;
}

static void on_offer(oasis_dhcp *d, const oasis_dhcp_msg *m)
{
    /* RFC 2131 4.3.1: an offer carries the server identifier, a unicast
     * address (the REQUEST names the server by it). */
    if (!(m->have & OASIS_DHCP_HAVE_SERVER_ID) || !oasis_ipv4_host_addr_ok(m->yiaddr, 32) ||
        !oasis_ipv4_host_addr_ok(m->server_id, 32)) {
        d->ctr.rx_invalid++;
        return;
    }
    d->ctr.rx_offers++;
    d->offer_addr = m->yiaddr;
    d->offer_server = m->server_id;
    /* The first acceptable offer: REQUEST it, same xid (RFC 2131 4.4.1). */
    uint64_t now = now_of(d);
    d->state = OASIS_DHCP_REQUESTING;
    d->sent_ns = now;
    d->tries = 1;
    d->rto_ns = RTX_FIRST;
    send_request(d);
    oasis_timer_start(d->s, &d->rtx, now + jitter(d, d->rto_ns));
}

/* In REQUESTING only the server we chose may grant or refuse (RFC 2131
 * 3.1: the others take the REQUEST as our refusal of their offers; 4.3.1
 * table 3: its ACK and NAK MUST carry its server identifier). One that
 * names no usable server is judged by its source address: it must then
 * come from the chosen server itself, or any host on the link could end
 * the exchange by leaving the option out. */
static int from_chosen_server(const oasis_dhcp *d, const oasis_dhcp_msg *m, uint32_t src)
{
    if (d->state != OASIS_DHCP_REQUESTING)
        return 1;
    if ((m->have & OASIS_DHCP_HAVE_SERVER_ID) && oasis_ipv4_host_addr_ok(m->server_id, 32))
        return m->server_id == d->offer_server;
    return src == d->offer_server;
}

static void on_ack(oasis_dhcp *d, const oasis_dhcp_msg *m, uint32_t src)
{
    oasis_dhcp_lease l;
    if (!from_chosen_server(d, m, src)) {
        d->ctr.rx_unexpected++;
        return;
    }
    if (lease_from_ack(d, m, src, &l) != OASIS_OK) {
        d->ctr.rx_invalid++;
        return;
    }
    d->ctr.rx_acks++;
    d->ctr.rx_opts_ignored += m->ignored;
    /* An ACK in SELECTING is a Rapid Commit (udp_in let no other in). */
    d->rapid = d->state == OASIS_DHCP_SELECTING;
    if (d->state == OASIS_DHCP_RENEWING || d->state == OASIS_DHCP_REBINDING) {
        if (l.addr == d->lease.addr) {
            if (d->state == OASIS_DHCP_RENEWING)
                d->ctr.renewals++;
            else
                d->ctr.rebinds++;
            bind_lease(d, &l, 1);
            return;
        }
        /* Another address: the old one goes (its flows end), the new is
         * probed like any new address. */
        unconfigure(d);
    }
    oasis_timer_stop(d->s, &d->rtx);
    start_probe(d, &l);
}

static void on_nak(oasis_dhcp *d, const oasis_dhcp_msg *m, uint32_t src)
{
    if (!from_chosen_server(d, m, src)) {
        d->ctr.rx_unexpected++;
        return;
    }
    d->ctr.rx_naks++;
    oasis_dhcp_lease old = d->lease;
    int had = d->have_lease;
    oasis_timer_stop(d->s, &d->rtx);
    unconfigure(d);
    d->cfg.requested_addr = 0; /* the remembered address is not ours any more */
    enter_init(d, next_retry_wait(d));
    notify(d, OASIS_DHCP_EV_NAK, had ? &old : NULL);
}

static void udp_in(oasis_stack *s, uint32_t src, uint16_t src_port, uint32_t dst, uint16_t dst_port,
                   const uint8_t *data, size_t len, void *ud)
{
    oasis_dhcp *d = ud;
    oasis_dhcp_msg m;

    /* RFC 2131 4.1: 67 is the 'DHCP server' port and 68 the client's
     * (RFC 951: the two ports reserved for BOOTP); servers and relay
     * agents send to us from 67. A datagram to 68 from another port is
     * some program on a host, not a server: it must not move the client
     * (dhcpcd's receive filter drops it too). */
    if (src_port != OASIS_DHCP_SERVER_PORT) {
        d->ctr.rx_wrong_port++;
        return;
    }
    if (oasis_dhcp_parse(data, len, &m) != OASIS_OK) {
        d->ctr.rx_malformed++;
        return;
    }
    if (m.op != OASIS_BOOTREPLY || m.htype != 1 || m.hlen != 6) {
        d->ctr.rx_not_reply++;
        return;
    }
    if (m.xid != d->xid) {
        d->ctr.rx_wrong_xid++;
        return;
    }
    if (memcmp(m.chaddr, s->mac, 6) != 0) {
        d->ctr.rx_wrong_chaddr++;
        return;
    }
    /* RFC 6842 3: a server echoes the client identifier; one that is not
     * ours says the reply is for another client (one that shares our
     * chaddr, or a forger's guess), and "the client MUST silently discard
     * the message". Absent is fine: RFC 2131 servers leave it out. */
    uint8_t cid[sizeof d->client_id + 1];
    long cl = oasis_dhcp_opt_get(&m, OASIS_DHO_CLIENT_ID, cid, sizeof cid);
    if (cl >= 0 && ((size_t)cl != d->client_id_len || memcmp(cid, d->client_id, (size_t)cl) != 0)) {
        d->ctr.rx_wrong_client_id++;
        return;
    }
    switch (d->state) {
    case OASIS_DHCP_SELECTING:
        if (m.msg_type == OASIS_DHCPOFFER) {
            on_offer(d, &m);
            return;
        }
        /* RFC 4039 3: an ACK answers our DISCOVER only when we asked for
         * Rapid Commit and it carries the option too; it is then the
         * lease, probed (RFC 5227) like any other before BOUND. Any other
         * ACK here is not for this exchange. */
        if (m.msg_type == OASIS_DHCPACK && d->cfg.rapid_commit &&
            (m.have & OASIS_DHCP_HAVE_RAPID_COMMIT)) {
            on_ack(d, &m, src);
            return;
        }
        break;
    case OASIS_DHCP_REQUESTING:
    case OASIS_DHCP_REBOOTING:
    case OASIS_DHCP_RENEWING:
    case OASIS_DHCP_REBINDING:
        if (m.msg_type == OASIS_DHCPACK) {
            on_ack(d, &m, src);
            return;
        }
        if (m.msg_type == OASIS_DHCPNAK) {
            on_nak(d, &m, src);
            return;
        }
        break;
    default:
        break;
    }
    d->ctr.rx_unexpected++;
}

/* ---- API --------------------------------------------------------------- */

int oasis_dhcp_create(oasis_stack *s, const oasis_dhcp_config *cfg, oasis_dhcp **out)
{
    oasis_dhcp_config def;
    if (!s || !out)
        return OASIS_EINVAL;
    *out = NULL;
    if (!cfg) {
        oasis_dhcp_config_init(&def);
        cfg = &def;
    }
    size_t hl = cfg->hostname ? strlen(cfg->hostname) : 0;
    if ((cfg->hostname && (hl == 0 || hl > 63)) ||
        (cfg->client_id && (cfg->client_id_len < 2 || cfg->client_id_len > 64)) ||
        cfg->request_retries == 0)
        return OASIS_EINVAL;
    oasis_dhcp *d = oasis_calloc(s, 1, sizeof *d);
    if (!d)
        return OASIS_ENOMEM;
    d->s = s;
    d->cfg = *cfg;
    d->cfg.hostname = NULL;
    d->cfg.client_id = NULL;
    if (hl)
        memcpy(d->hostname, cfg->hostname, hl);
    if (cfg->client_id) {
        memcpy(d->client_id, cfg->client_id, cfg->client_id_len);
        d->client_id_len = cfg->client_id_len;
    } else { /* RFC 2132 9.14: hardware type and address */
        d->client_id[0] = 1;
        memcpy(d->client_id + 1, s->mac, 6);
        d->client_id_len = 7;
    }
    oasis_timer_init(&d->rtx, rtx_fn);
    oasis_timer_init(&d->lease_timer, lease_timer_fn);
    int err = oasis_udp_bind4(s, OASIS_DHCP_CLIENT_PORT, udp_in, d);
    if (err) {
        oasis_free(s, d);
        return err;
    }
    oasis_stack_client_add(s);
    *out = d;
    return OASIS_OK;
}

int oasis_dhcp_start(oasis_dhcp *d)
{
    if (!d)
        return OASIS_EINVAL;
    if (d->state != OASIS_DHCP_STOPPED)
        return OASIS_EBUSY;
    d->retry_wait_ns = 0;
    if (d->cfg.requested_addr) {
        d->state = OASIS_DHCP_INIT_REBOOT;
        oasis_timer_start(d->s, &d->rtx, oasis_deadline(now_of(d), start_delay(d)));
    } else {
        enter_init(d, start_delay(d));
    }
    return OASIS_OK;
}

void oasis_dhcp_stop(oasis_dhcp *d, int release)
{
    if (!d)
        return;
    oasis_timer_stop(d->s, &d->rtx);
    oasis_timer_stop(d->s, &d->lease_timer);
    set_watch(d, 0);
    if (release && d->have_lease) {
        send_release(d, &d->lease);
        unconfigure(d);
    } else if (release && d->state == OASIS_DHCP_PROBING) {
        /* The server "commits the binding" before it sends the ACK (RFC
         * 2131 3.1 step 4). No probe was answered, so this is no DECLINE
         * (4.3.3: the server would "mark the network address as not
         * available"), just an assigned address we no longer require
         * (4.4.6): released, or the server holds it for the whole lease. */
        send_release(d, &d->pending);
    }
    d->have_lease = 0;
    d->state = OASIS_DHCP_STOPPED;
}

int oasis_dhcp_destroy(oasis_dhcp *d)
{
    if (!d)
        return OASIS_OK;
    if (d->in_cb)
        return OASIS_EBUSY; /* the code that called back goes on with d */
    oasis_dhcp_stop(d, 0);
    oasis_stack *s = d->s;
    oasis_udp_unbind(s, OASIS_DHCP_CLIENT_PORT);
    oasis_free(s, d);
    oasis_stack_client_del(s);
    return OASIS_OK;
}

oasis_dhcp_state oasis_dhcp_get_state(const oasis_dhcp *d)
{
    return d ? d->state : OASIS_DHCP_STOPPED;
}

int oasis_dhcp_get_lease(const oasis_dhcp *d, oasis_dhcp_lease *out)
{
    if (!d || !out)
        return OASIS_EINVAL;
    if (!d->have_lease)
        return OASIS_ENOENT;
    *out = d->lease;
    return OASIS_OK;
}

oasis_stack *oasis_dhcp_stack(const oasis_dhcp *d) { return d ? d->s : NULL; }

const oasis_dhcp_counters *oasis_dhcp_get_counters(const oasis_dhcp *d)
{
    return d ? &d->ctr : NULL;
}

/* ---- metrics ----------------------------------------------------------- */

#define DF(m, n) {n, offsetof(oasis_dhcp_counters, m)}
static const struct {
    const char *name;
    size_t off;
} dhcp_fields[] = {
    DF(tx_discovers, "TxDiscovers"),   DF(tx_requests, "TxRequests"),
    DF(tx_declines, "TxDeclines"),     DF(tx_releases, "TxReleases"),
    DF(tx_retransmits, "TxRetransmits"), DF(tx_errors, "TxErrors"),
    DF(rx_offers, "RxOffers"),         DF(rx_acks, "RxAcks"),
    DF(rx_naks, "RxNaks"),             DF(rx_malformed, "RxMalformed"),
    DF(rx_not_reply, "RxNotReply"),    DF(rx_wrong_xid, "RxWrongXid"),
    DF(rx_wrong_chaddr, "RxWrongChaddr"), DF(rx_wrong_port, "RxWrongPort"),
    DF(rx_unexpected, "RxUnexpected"),
    DF(rx_invalid, "RxInvalid"),       DF(probes_sent, "ProbesSent"),
    DF(conflicts, "Conflicts"),        DF(binds, "Binds"),
    DF(renewals, "Renewals"),          DF(rebinds, "Rebinds"),
    DF(expiries, "Expiries"),          DF(request_timeouts, "RequestTimeouts"),
    DF(rx_wrong_client_id, "RxWrongClientId"), DF(rx_opts_ignored, "RxOptsIgnored"),
    DF(rapid_commits, "RapidCommits"),
};
#undef DF

static int read_metrics(oasis_metrics_emit *e, void *ud)
{
    const oasis_dhcp *d = ud;
    const uint8_t *base = (const uint8_t *)&d->ctr;
    for (size_t i = 0; i < sizeof dhcp_fields / sizeof dhcp_fields[0]; i++) {
        uint64_t v;
        memcpy(&v, base + dhcp_fields[i].off, sizeof v);
        int err = oasis_metrics_field_counter(e, dhcp_fields[i].name, v);
        if (err)
            return err;
    }
    uint64_t lease = 0, left = 0;
    if (d->have_lease) {
        uint64_t now = oasis_now(d->s);
        lease = d->lease.lease_s;
        left = d->lease.expires_ns == UINT64_MAX ? lease
               : d->lease.expires_ns > now       ? (d->lease.expires_ns - now) / SEC
                                                 : 0;
    }
    int err = oasis_metrics_field_string(e, "State", oasis_dhcp_state_name(d->state));
    if (!err)
        err = oasis_metrics_field_uint(e, "LeaseSeconds", lease);
    if (!err)
        err = oasis_metrics_field_uint(e, "LeaseRemainingSeconds", left);
    return err;
}

int oasis_dhcp_add_metrics(oasis_metrics *m, oasis_dhcp *d, const oasis_metric_tag *tags,
                           size_t ntags)
{
    if (!m || !d)
        return OASIS_EINVAL;
    return oasis_metrics_add_source(m, "dhcp", tags, ntags, read_metrics, d, NULL);
}
