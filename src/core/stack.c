#include "core/stack_impl.h"
#include "core/compiler.h"

#include "core/mem.h"
#include "ipv6/ipv6.h"
#include "link/eth.h"
#include "link/ip_link.h"
#include "link/eth_wire.h"
#include "link/gso.h"
#include "ip/ipv4_wire.h"
#include "oasis/error.h"
#include "oasis/ip.h"
#include "oasis/wire.h"

#include <string.h>

void oasis_stack_config_init(oasis_stack_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->prefix_len = 24;
    cfg->ttl = 64;
    cfg->arp_cache_size = 256;
    cfg->arp_cache_ttl_ns = 60 * OASIS_NS_PER_SEC;
    cfg->arp_retries = 3;
    cfg->arp_retry_ns = OASIS_NS_PER_SEC;
    cfg->arp_queue_len = 64;
    cfg->arp_gratuitous = 1;
    cfg->arp_announce_num = 2;
    cfg->reasm_timeout_ns = 30 * OASIS_NS_PER_SEC;
    cfg->reasm_max_bytes = 256 * 1024;
    cfg->reasm_max_datagrams = 64;
    cfg->icmp_rate_per_sec = 100;
    cfg->icmp_burst = 50;
    cfg->icmp_redirects = 1;
    cfg->pmtu_expire_ns = 600 * OASIS_NS_PER_SEC;

    oasis_tcp_config *t = &cfg->tcp;
    t->sndbuf = 4u << 20;
    t->rcvbuf = 4u << 20;
    t->msl_ns = 30 * OASIS_NS_PER_SEC;
    t->rto_min_ns = 200 * OASIS_NS_PER_MS;
    t->rto_max_ns = 60 * OASIS_NS_PER_SEC;
    t->rto_initial_ns = OASIS_NS_PER_SEC;
    /* RFC 9293 MUST-23: SYNs for at least 3 minutes. 7 retransmissions
     * (1, 2, 4 ... s, capped by rto_max_ns) give up 183 s after the first
     * (Linux's 6 give up at 127 s). */
    t->syn_retries = 7;
    t->synack_retries = 5;
    t->data_retries = 15;
    t->delack_ns = 40 * OASIS_NS_PER_MS;
    t->backlog = 128;
    t->max_ofo_segments = 256;
    t->challenge_ack_limit = 100;
    t->rst_rate_per_sec = 200;
    t->rst_burst = 50;
    t->max_time_wait = 4096;
    t->window_scaling = 1;
    t->timestamps = 1;
    t->sack = 1;
    t->nodelay = 0;
    t->cc = OASIS_CC_NEWRENO;
    /* Twice the largest RTO: a live peer backing off at rto_max is heard
     * (and the bound restarted) before it runs out. */
    t->fin_wait2_ns = 2 * t->rto_max_ns;
    t->max_write_reqs = OASIS_TCP_MAX_WRITE_REQS;
    t->r1_retries = 3; /* RFC 9293 SHLD-10 */
    t->ecn = 2;        /* accept ECN, do not ask (Linux's default) */
    /* Auto-tuning from 64 KiB (Linux starts its receive window there too);
     * sndbuf/rcvbuf above are the limits. No memory budget by default. */
    t->autotune = 1;
    t->sndbuf_init = 64u << 10;
    t->rcvbuf_init = 64u << 10;
    t->buf_min = 4u << 10;

    cfg->ipv6_slaac = 1;
    cfg->ipv6_flow_labels = 1;
    cfg->nd_cache_size = 256;
    cfg->nd_queue_len = 64;
    cfg->dad_transmits = 1;
    cfg->hop_limit = 64;
}

/* An own IPv4 configuration a host may use (oasis_stack_set_ipv4): addr 0
 * (none) or a unicast host address of its subnet, and a gateway that is 0
 * or a unicast address. */
static int ipv4_config_ok(uint32_t addr, uint8_t prefix_len, uint32_t gateway)
{
    if (prefix_len > 32)
        return 0;
    if (addr != 0 && !oasis_ipv4_host_addr_ok(addr, prefix_len))
        return 0;
    return gateway == 0 || (gateway != addr && oasis_ipv4_host_addr_ok(gateway, 32));
}

static int config_valid(const oasis_stack_config *cfg)
{
    if (!cfg->clock || !ipv4_config_ok(cfg->addr, cfg->prefix_len, cfg->gateway))
        return 0;
    if (cfg->mtu != 0 && (cfg->mtu < 576 || cfg->mtu > 65535))
        return 0;
    if (cfg->arp_cache_size == 0 || cfg->reasm_max_datagrams == 0)
        return 0;
    /* The neighbour cache is one array, allocated whole (ipv6/nd.c): a
     * bound keeps it sane. */
    if (cfg->nd_cache_size > OASIS_ND_CACHE_MAX)
        return 0;
    if (cfg->tcp.sndbuf < 1024 || cfg->tcp.rcvbuf < 1024 || cfg->tcp.sndbuf > (1u << 30) ||
        cfg->tcp.rcvbuf > (1u << 30))
        return 0;
    if (cfg->tcp.autotune && (cfg->tcp.sndbuf_init < 1024 || cfg->tcp.rcvbuf_init < 1024 ||
                              cfg->tcp.sndbuf_init > (1u << 30) || cfg->tcp.rcvbuf_init > (1u << 30)))
        return 0;
    if (cfg->tcp.mem_limit && cfg->tcp.mem_pressure > cfg->tcp.mem_limit)
        return 0;
    if (cfg->tcp.rto_min_ns == 0 || cfg->tcp.rto_min_ns > cfg->tcp.rto_max_ns)
        return 0;
    /* RFC 1122 4.2.3.2: an ACK's delay "MUST be less than 0.5 seconds". */
    if (cfg->tcp.delack_ns >= 500 * OASIS_NS_PER_MS)
        return 0;
    if (cfg->tcp.ecn > 2)
        return 0; /* Linux's 3..5 (AccECN) are not implemented */
    /* RFC 1191 6.3, RFC 8201 4: no attempt to detect a path MTU increase
     * less than 5 minutes after a too-big message. */
    if (cfg->pmtu_expire_ns != 0 && cfg->pmtu_expire_ns < 300 * OASIS_NS_PER_SEC)
        return 0;
    return 1;
}

/* Layers in bottom-up order; torn down in reverse. UDP's end comes after
 * ICMP's: the ping callbacks that ICMP's end runs (OASIS_ECANCELED) may
 * still bind a port, which UDP's end then frees. */
static const struct {
    int (*init)(oasis_stack *);
    void (*fini)(oasis_stack *);
} layers[] = {
    {oasis_arp_init, oasis_arp_fini},   {oasis_ipv4_init, oasis_ipv4_fini},
    {oasis_ip_protos_init, oasis_ip_protos_fini},
    {oasis_ip_unreach_init, oasis_ip_unreach_fini},
    {oasis_udp_init, oasis_udp_fini},   {oasis_icmp_init, oasis_icmp_fini},
    {oasis_tcp_init, oasis_tcp_fini},   {oasis_ipv6_init, oasis_ipv6_fini},
};
#define NLAYERS (sizeof layers / sizeof layers[0])

/* TCP's timers add these to the clock: UINT64_MAX ("never") would wrap
 * round to a deadline in the past (tcp.h, OASIS_TCP_MAX_NS). */
static void tcp_durations_clamp(oasis_tcp_config *t)
{
    uint64_t *d[] = {&t->msl_ns, &t->rto_min_ns, &t->rto_max_ns, &t->rto_initial_ns,
                     &t->delack_ns, &t->fin_wait2_ns};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
        if (*d[i] > OASIS_TCP_MAX_NS)
            *d[i] = OASIS_TCP_MAX_NS;
}

/* The handle's allocation, rounded up to whole 4 KiB. Every object the
 * stack allocates later sits after it on the heap, and request/response
 * speed depends on where those land relative to each other (not on the
 * instructions: callgrind counts the same). 8 or 24 more bytes in
 * oasis_stack, one counter, made 1-byte request/response 9-17% slower;
 * rounded, such growth moves nothing else (bench/README.md, "Placement"). */
#define STACK_ALLOC_SIZE ((sizeof(oasis_stack) + 4095) / 4096 * 4096)

int oasis_stack_create(const oasis_stack_config *cfg, oasis_stack **out)
{
    if (!cfg || !out)
        return OASIS_EINVAL;
    *out = NULL;
    if (!config_valid(cfg))
        return OASIS_EINVAL;

    oasis_alloc_fn alloc = cfg->alloc ? cfg->alloc : oasis_default_alloc;
    oasis_stack *s = alloc(cfg->alloc_ud, NULL, STACK_ALLOC_SIZE);
    if (!s)
        return OASIS_ENOMEM;
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    tcp_durations_clamp(&s->cfg.tcp);
    s->tcp_due = UINT64_MAX;
    s->now_cache = OASIS_NOW_NONE;
    s->alloc = alloc;
    s->alloc_ud = cfg->alloc_ud;
    s->clock = cfg->clock;
    memcpy(s->mac, cfg->mac, 6);
    s->addr = cfg->addr;
    s->netmask = oasis_netmask(cfg->prefix_len);
    s->mtu = cfg->mtu ? cfg->mtu : 1500;
    int serr = oasis_secrets_init(&s->secrets, cfg->seed);
    if (serr) {
        oasis_free(s, s);
        return serr;
    }
    if (cfg->seed)
        oasis_prng_seed(&s->prng, cfg->seed);
    else
        oasis_prng_seed_state(&s->prng, s->secrets.prng_seed);

    for (size_t i = 0; i < NLAYERS; i++) {
        int err = layers[i].init(s);
        if (err) {
            while (i-- > 0)
                layers[i].fini(s);
            oasis_free(s, s);
            return err;
        }
    }
    s->pbufs.on = 1;
    *out = s;
    return OASIS_OK;
}

int oasis_stack_destroy(oasis_stack *s)
{
    if (!s)
        return OASIS_OK;
    /* From a callback: the calls that ran it go on with the stack when it
     * returns, so nothing may go now (as libuv's uv_loop_close). */
    if (s->now_depth || s->app_depth)
        return OASIS_EBUSY;
    if (s->clients)
        return OASIS_EBUSY; /* a client made on it still lives (stack_impl.h) */
    /* The callbacks the layers' ends run (requests canceled) are inside
     * this call too: destroy from them is refused the same way. */
    oasis_app_enter(s);
    for (size_t i = NLAYERS; i-- > 0;)
        layers[i].fini(s);
    /* After the layers' last frames (the RSTs of the flows reset): frames
     * still on the wire for this stack are dropped, not delivered to it. */
    if (s->wire)
        oasis_wire_detach(s->wire, s);
    oasis_pbuf_cache_drain(s);
    oasis_free(s, s->gso_scratch);
    oasis_free(s, s);
    return OASIS_OK;
}

void oasis_stack_set_link(oasis_stack *s, oasis_link *link)
{
    if (!s)
        return;
    oasis_ip_link_attach(s, link); /* s->link: link, or an IP link's shim */
    oasis_ipv4_redirects_clear(s);
    oasis_ipv4_route_changed(s);
    if (link && s->cfg.mtu == 0 && link->mtu >= 576)
        s->mtu = link->mtu;
    if (link) {
        oasis_arp_claim(s);
        oasis_igmp_link_up(s);
        oasis_ipv6_link_up(s);
    }
}

oasis_link *oasis_stack_link(oasis_stack *s) { return s ? s->app_link : NULL; }

int oasis_stack_set_ipv4(oasis_stack *s, uint32_t addr, uint8_t prefix_len, uint32_t gateway)
{
    if (!s || !ipv4_config_ok(addr, prefix_len, gateway))
        return OASIS_EINVAL;
    uint32_t old = s->addr;
    /* (A DHCP renewal sets the same again: redirects stay.) */
    if (addr != old || oasis_netmask(prefix_len) != s->netmask || gateway != s->cfg.gateway)
        oasis_ipv4_redirects_clear(s);
    s->addr = s->cfg.addr = addr;
    s->cfg.prefix_len = prefix_len;
    s->netmask = oasis_netmask(prefix_len);
    s->cfg.gateway = gateway;
    oasis_ipv4_route_changed(s);
    if (old && old != addr)
        oasis_tcp_addr_lost(s, old);
    if (addr != old)
        oasis_arp_claim(s);
    return OASIS_OK;
}

uint32_t oasis_stack_gateway(const oasis_stack *s) { return s ? s->cfg.gateway : 0; }
uint8_t oasis_stack_prefix_len(const oasis_stack *s) { return s ? s->cfg.prefix_len : 0; }

int oasis_stack_set_mtu(oasis_stack *s, uint32_t mtu)
{
    if (!s || mtu < 576 || mtu > 65535 || (s->link && s->link->mtu && mtu > s->link->mtu))
        return OASIS_EINVAL;
    s->mtu = mtu;
    oasis_ipv4_route_changed(s); /* (IPv6's transmit caches hold the MTU) */
    return OASIS_OK;
}

OASIS_NOINLINE uint64_t oasis_now_read(const oasis_stack *s)
{
    return s->now_depth ? s->now_cache : oasis_clock_now(s->clock);
}

/* Enters the cached-time section at `now` (outermost level only: a nested
 * call keeps its caller's instant). */
static void now_enter_at(oasis_stack *s, uint64_t now)
{
    if (s->now_depth++ == 0)
        s->now_cache = now;
}

/* A frame fed from inside another one's processing (an application's
 * callback, a tunnel): its caller's instant, and it vouches for nothing. */
static OASIS_NOINLINE void input_nested(oasis_stack *s, const uint8_t *frame, size_t len)
{
    s->now_depth++;
    if (s->link && s->link->pcap)
        oasis_pcap_write(s->link->pcap, s->now_cache, frame, len);
    uint8_t csum_ok = s->rx_csum_ok;
    s->rx_csum_ok = 0;
    oasis_eth_input(s, frame, len);
    s->rx_csum_ok = csum_ok;
    oasis_now_leave(s);
}

/* The outermost input's entry at now (captured, if a pcap is on): 1, and
 * the caller inputs the frame and leaves; 0 when an input is running
 * already, which took the frame as a nested one. Outermost, no offloads
 * are vouched for (rx_csum_ok is 0 outside oasis_stack_input_offload,
 * which restores it). */
static OASIS_ALWAYS_INLINE int input_enter_at(oasis_stack *s, const uint8_t *frame, size_t len,
                                              uint64_t now)
{
    if (s->now_depth) {
        input_nested(s, frame, len);
        return 0;
    }
    s->now_depth = 1;
    s->now_cache = now;
    if (s->link && s->link->pcap)
        oasis_pcap_write(s->link->pcap, now, frame, len);
    return 1;
}

void oasis_stack_input_at(oasis_stack *s, const uint8_t *frame, size_t len, uint64_t now)
{
    if (!frame || !input_enter_at(s, frame, len, now))
        return;
    oasis_eth_input(s, frame, len);
    oasis_now_leave(s);
}

/* oasis_stack_input_at for a frame the link vouches is OASIS_ETH_HLEN bytes
 * or more and sent to this stack's own unicast MAC (the wire's switched
 * frames): oasis_eth_input's counters and result without its length and
 * address compares. Always inline: the wire's step takes it whole. */
OASIS_ALWAYS_INLINE void oasis_stack_input_unicast_at(oasis_stack *s, const uint8_t *frame,
                                                      size_t len, uint64_t now)
{
    if (!input_enter_at(s, frame, len, now))
        return;
    oasis_link_counters *c = &s->ctr.link;
    c->rx_frames++;
    c->rx_bytes += len;
    /* (an 802.3 length field goes to other_input, which counts it unknown as
     * oasis_eth_input would have) */
    oasis_eth_input_for_us(s, frame, len, 0);
    oasis_now_leave(s);
}

/* The poll that has something to run (out of line: the polls that find
 * nothing save no registers for it). */
static OASIS_HOT OASIS_NOINLINE int poll_run(oasis_stack *s, uint64_t now)
{
    now_enter_at(s, now);
    int n = oasis_timers_run(s, s->now_cache);
    /* The TCP callbacks come after the timers (counted as one more). */
    if (s->tcp_due <= s->now_cache) {
        oasis_tcp_dispatch(s);
        n++;
    }
    oasis_now_leave(s);
    return n;
}

OASIS_HOT int oasis_stack_poll_at(oasis_stack *s, uint64_t now)
{
    /* Most polls of a busy wire find nothing due (a nested poll goes by
     * its caller's instant, as the run would). */
    uint64_t at = s->now_depth ? s->now_cache : now;
    if (s->tcp_due > at && !oasis_timers_due(&s->timers, at))
        return 0;
    return poll_run(s, now);
}

uint8_t *oasis_stack_gso_scratch(oasis_stack *s)
{
    if (!s->gso_scratch)
        s->gso_scratch = oasis_malloc(s, OASIS_GSO_SCRATCH);
    return s->gso_scratch;
}

typedef struct pcap_piece {
    oasis_pcap *pcap;
    uint64_t ts;
} pcap_piece;

static int pcap_piece_fn(void *ud, uint8_t *frame, size_t len)
{
    pcap_piece *pp = ud;
    return oasis_pcap_write(pp->pcap, pp->ts, frame, len);
}

void oasis_stack_pcap_offload(oasis_stack *s, oasis_pcap *pcap, const uint8_t *frame, size_t len,
                              const oasis_offload *off)
{
    /* The capture shows what a wire between the two ends would carry:
     * super-segments cut into their pieces, partial checksums completed,
     * so tshark sees ordinary frames with correct checksums. */
    uint8_t *scratch = oasis_stack_gso_scratch(s);
    pcap_piece pp = {pcap, oasis_now(s)};
    if (!scratch || oasis_gso_segment((uint8_t *)frame, len, off, scratch, OASIS_GSO_SCRATCH,
                                      pcap_piece_fn, &pp, NULL) < 0)
        oasis_pcap_write(pcap, pp.ts, frame, len); /* as it came */
}

void oasis_stack_input_offload(oasis_stack *s, const uint8_t *frame, size_t len,
                               const oasis_offload *off)
{
    if (!s)
        return;
    if (!off || (!off->flags && !(off->gso_type & ~OASIS_GSO_ECN))) {
        oasis_stack_input(s, frame, len);
        return;
    }
    if (!frame)
        return;
    if ((off->flags & OASIS_OFFLOAD_CSUM_PARTIAL) &&
        (off->csum_start < OASIS_ETH_HLEN || (size_t)off->csum_start + off->csum_offset + 2 > len)) {
        s->ctr.link.rx_frames++;
        s->ctr.link.rx_malformed++;
        return;
    }
    now_enter_at(s, s->now_depth ? s->now_cache : oasis_clock_now(s->clock));
    if (s->link && s->link->pcap)
        oasis_stack_pcap_offload(s, s->link->pcap, frame, len, off);
    oasis_rx_saved sv;
    oasis_rx_enter(s, frame, len, off, &sv);
    oasis_eth_input(s, frame, len);
    oasis_rx_leave(s, &sv);
    oasis_now_leave(s);
}

void oasis_stack_input(oasis_stack *s, const uint8_t *frame, size_t len)
{
    if (!s || !frame)
        return;
    oasis_stack_input_at(s, frame, len, s->now_depth ? s->now_cache : oasis_clock_now(s->clock));
}

int oasis_stack_poll(oasis_stack *s)
{
    if (!s)
        return 0;
    return oasis_stack_poll_at(s, s->now_depth ? s->now_cache : oasis_clock_now(s->clock));
}

uint64_t oasis_stack_next_deadline(const oasis_stack *s)
{
    if (!s)
        return UINT64_MAX;
    uint64_t next = oasis_timers_next(s);
    return s->tcp_due < next ? s->tcp_due : next;
}

/* The getters answer 0 / NULL for a NULL stack (stack.h). */
uint64_t oasis_stack_now(const oasis_stack *s) { return s ? oasis_now(s) : 0; }
oasis_clock *oasis_stack_clock(const oasis_stack *s) { return s ? s->clock : NULL; }
uint32_t oasis_stack_addr(const oasis_stack *s) { return s ? s->addr : 0; }
const uint8_t *oasis_stack_mac(const oasis_stack *s) { return s ? s->mac : NULL; }
uint32_t oasis_stack_mtu(const oasis_stack *s) { return s ? s->mtu : 0; }
const oasis_counters *oasis_stack_counters(const oasis_stack *s) { return s ? &s->ctr : NULL; }
void oasis_stack_set_user_data(oasis_stack *s, void *ud)
{
    if (s)
        s->user_data = ud;
}
void *oasis_stack_user_data(const oasis_stack *s) { return s ? s->user_data : NULL; }
