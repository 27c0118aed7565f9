/* ICMP: echo replies, errors and their RFC 1122 limits, the rate limit, and
 * the ping API (on a wire with a virtual clock, and by hand). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "arp/arp_wire.h"
#include "core/bytes.h"
#include "core/checksum.h"
#include "core/stack_impl.h"
#include "icmp/icmp.h"
#include "icmp/icmp_wire.h"
#include "ip/ipv4.h"
#include "ip/ipv4_wire.h"
#include "link/eth_wire.h"
#include "oasis/error.h"
#include "oasis/icmp.h"
#include "oasis/ip.h"
#include "oasis/wire.h"
#include "caplink.h"
#include "countalloc.h"
#include "oasis/udp.h"
#include "testutil.h"

#define MAXF 64

typedef struct fx {
    oasis_clock *clock;
    oasis_stack *s;
    test_cap cap;
} fx;

static const uint8_t MAC_US[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t MAC_PEER[6] = {2, 0, 0, 0, 0, 2};
#define US OASIS_IPV4(10, 0, 0, 1)
#define PEER OASIS_IPV4(10, 0, 0, 2)

static fx *fx_new(void (*tweak)(oasis_stack_config *))
{
    fx *f = test_calloc(1, sizeof *f);
    oasis_stack_config cfg;
    f->clock = oasis_clock_new_virtual(1000 * OASIS_NS_PER_SEC);
    test_stack_config(&cfg, f->clock, 1);
    cfg.arp_gratuitous = 0;
    if (tweak)
        tweak(&cfg);
    assert_int_equal(oasis_stack_create(&cfg, &f->s), 0);
    test_cap_attach(&f->cap, f->s, MAXF, 1500);
    /* Learn PEER so answers go out at once. */
    test_learn_peer4(f->s, MAC_US, US, MAC_PEER, PEER);
    f->cap.n = 0;
    return f;
}

static void fx_free(fx *f)
{
    oasis_stack_destroy(f->s);
    test_cap_fini(&f->cap);
    oasis_clock_free(f->clock);
    test_free(f);
}

static const oasis_icmp_counters *icc(const fx *f) { return &oasis_stack_counters(f->s)->icmp; }

/* Sends an IPv4 datagram from PEER to dst in a frame to eth_dst. */
static void inject_ip_to(fx *f, const uint8_t eth_dst[6], uint32_t dst, uint8_t proto,
                         const uint8_t *pl, size_t n, uint8_t ttl)
{
    uint8_t frame[1600];
    oasis_ipv4_hdr h;
    memset(&h, 0, sizeof h);
    h.total_len = (uint16_t)(OASIS_IPV4_HLEN + n);
    h.id = 99;
    h.ttl = ttl;
    h.proto = proto;
    h.src = PEER;
    h.dst = dst;
    oasis_eth_emit(frame, eth_dst, MAC_PEER, OASIS_ETHERTYPE_IPV4);
    oasis_ipv4_emit(frame + OASIS_ETH_HLEN, &h);
    memcpy(frame + OASIS_ETH_HLEN + OASIS_IPV4_HLEN, pl, n);
    oasis_stack_input(f->s, frame, OASIS_ETH_HLEN + OASIS_IPV4_HLEN + n);
}

/* Sends an IPv4 datagram from PEER to dst with the given payload. */
static void inject_ip(fx *f, uint32_t dst, uint8_t proto, const uint8_t *pl, size_t n)
{
    inject_ip_to(f, MAC_US, dst, proto, pl, n, 64);
}

/* Parses captured frame i down to its ICMP message. */
static void cap_icmp(const fx *f, size_t i, oasis_ipv4_hdr *ip, oasis_icmp_hdr *m)
{
    oasis_eth_hdr eh;
    assert_true(i < f->cap.n);
    assert_int_equal(oasis_eth_parse(f->cap.frame[i], f->cap.len[i], &eh), 0);
    assert_int_equal(oasis_ipv4_parse(eh.payload, eh.payload_len, ip), 0);
    assert_int_equal(ip->proto, OASIS_IPPROTO_ICMP);
    assert_int_equal(oasis_icmp_parse(ip->payload, ip->payload_len, m), 0);
}

typedef struct ping_result {
    int calls;
    int err;
    uint16_t seq;
    uint64_t rtt;
} ping_result;

static void on_ping(oasis_stack *s, int err, uint16_t seq, uint64_t rtt, void *ud)
{
    (void)s;
    ping_result *r = ud;
    r->calls++;
    r->err = err;
    r->seq = seq;
    r->rtt = rtt;
}

/* ---- echo ---- */

static void test_echo_reply_to_hand_built_request(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    uint8_t msg[8 + 100];
    for (size_t i = 0; i < 100; i++)
        msg[8 + i] = (uint8_t)(i ^ 0x5a);
    oasis_icmp_emit(msg, sizeof msg, OASIS_ICMP_ECHO, 0, 0x12340007);
    inject_ip(f, US, OASIS_IPPROTO_ICMP, msg, sizeof msg);

    assert_int_equal(f->cap.n, 1);
    oasis_ipv4_hdr ip;
    oasis_icmp_hdr m;
    cap_icmp(f, 0, &ip, &m); /* parse checks the checksum */
    assert_int_equal(ip.src, US);
    assert_int_equal(ip.dst, PEER);
    assert_int_equal(m.type, OASIS_ICMP_ECHO_REPLY);
    assert_int_equal(m.code, 0);
    assert_int_equal(m.rest, 0x12340007);
    assert_int_equal(m.payload_len, 100);
    assert_memory_equal(m.payload, msg + 8, 100);
    assert_int_equal(icc(f)->in_echos, 1);
    assert_int_equal(icc(f)->out_echo_reps, 1);

    /* To the broadcast address: no answer. */
    inject_ip(f, OASIS_IPV4(10, 0, 0, 255), OASIS_IPPROTO_ICMP, msg, sizeof msg);
    assert_int_equal(f->cap.n, 1);
    assert_int_equal(icc(f)->in_echos, 2);

    /* Bad checksum, then a truncated message. */
    msg[20] ^= 1;
    inject_ip(f, US, OASIS_IPPROTO_ICMP, msg, sizeof msg);
    assert_int_equal(icc(f)->in_csum_errors, 1);
    assert_int_equal(icc(f)->in_errors, 1); /* InErrors counts bad checksums too */
    inject_ip(f, US, OASIS_IPPROTO_ICMP, msg, 5);
    assert_int_equal(icc(f)->in_errors, 2);
    assert_int_equal(f->cap.n, 1);
    fx_free(f);
}

/* ---- errors ---- */

static void test_protocol_unreachable(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    uint8_t pl[20];
    for (size_t i = 0; i < sizeof pl; i++)
        pl[i] = (uint8_t)i;
    inject_ip(f, US, 99, pl, sizeof pl);
    assert_int_equal(oasis_stack_counters(f->s)->ip.in_unknown_protos, 1);
    assert_int_equal(f->cap.n, 1);
    oasis_ipv4_hdr ip, q;
    oasis_icmp_hdr m;
    cap_icmp(f, 0, &ip, &m);
    assert_int_equal(ip.dst, PEER);
    assert_int_equal(m.type, OASIS_ICMP_DEST_UNREACH);
    assert_int_equal(m.code, OASIS_ICMP_PROTO_UNREACH);
    /* Quotes the whole header and the first 8 payload bytes. */
    assert_int_equal(m.payload_len, 28);
    assert_int_equal(oasis_ipv4_parse(m.payload, 20, &q), OASIS_ETRUNCATED); /* total says 40 */
    assert_int_equal(m.payload[9], 99);
    assert_memory_equal(m.payload + 20, pl, 8);
    assert_int_equal(icc(f)->out_dest_unreachs, 1);

    /* Not about a datagram sent to a broadcast address. */
    inject_ip(f, OASIS_IPV4(10, 0, 0, 255), 99, pl, sizeof pl);
    inject_ip(f, 0xffffffffu, 99, pl, sizeof pl);
    assert_int_equal(f->cap.n, 1);
    fx_free(f);
}

/* RFC 1122 3.2.2: no ICMP error about a datagram that came as a link-layer
 * broadcast or multicast, even when its IP destination is our unicast
 * address (RFC 1122 3.3.6: it is discarded before, as an address error);
 * and RFC 1122 3.2.1.7: a TTL of 0 or 1 does not stop delivery. */
static void test_no_error_about_link_broadcast(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
    uint8_t pl[20] = {0};
    inject_ip_to(f, bcast, US, 99, pl, sizeof pl, 64);
    inject_ip_to(f, mcast, US, 99, pl, sizeof pl, 64);
    assert_int_equal(oasis_stack_counters(f->s)->ip.in_addr_errors, 2);
    assert_int_equal(f->cap.n, 0);
    assert_int_equal(icc(f)->out_dest_unreachs, 0);
    /* The same datagram by unicast is answered, TTL 1 or even 0. */
    inject_ip_to(f, MAC_US, US, 99, pl, sizeof pl, 1);
    inject_ip_to(f, MAC_US, US, 99, pl, sizeof pl, 0);
    assert_int_equal(f->cap.n, 2);
    assert_int_equal(icc(f)->out_dest_unreachs, 2);
    fx_free(f);
}

/* oasis_icmp_send_error on hand-made "original" datagrams. */
static void error_about(fx *f, uint8_t proto, uint16_t frag_off, const uint8_t *pl, size_t n)
{
    uint8_t buf[128];
    oasis_ipv4_hdr h;
    memset(&h, 0, sizeof h);
    h.total_len = (uint16_t)(20 + n);
    h.frag_off = frag_off;
    h.ttl = 1;
    h.proto = proto;
    h.src = PEER;
    h.dst = US;
    oasis_ipv4_emit(buf, &h);
    memcpy(buf + 20, pl, n);
    assert_int_equal(oasis_ipv4_parse(buf, 20 + n, &h), 0);
    oasis_icmp_send_error(f->s, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_PORT_UNREACH, 0, &h);
}

static void test_no_error_about_errors_or_fragments(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    uint8_t unreach[8] = {OASIS_ICMP_DEST_UNREACH, 1, 0, 0, 0, 0, 0, 0};
    uint8_t echo[8] = {OASIS_ICMP_ECHO, 0, 0, 0, 0, 0, 0, 0};
    uint8_t udp[8] = {0};

    error_about(f, OASIS_IPPROTO_ICMP, 0, unreach, 8);
    assert_int_equal(f->cap.n, 0);
    error_about(f, OASIS_IPPROTO_UDP, 8, udp, 8); /* not the first fragment */
    assert_int_equal(f->cap.n, 0);
    error_about(f, OASIS_IPPROTO_ICMP, 0, echo, 8); /* an echo is not an error */
    assert_int_equal(f->cap.n, 1);
    error_about(f, OASIS_IPPROTO_UDP, 0, udp, 8);
    assert_int_equal(f->cap.n, 2);
    fx_free(f);
}

static void limited(oasis_stack_config *c)
{
    c->icmp_rate_per_sec = 10;
    c->icmp_burst = 5;
}

static void test_rate_limit(void **state)
{
    (void)state;
    fx *f = fx_new(limited);
    uint8_t pl[8] = {0};

    for (int i = 0; i < 20; i++)
        inject_ip(f, US, 99, pl, sizeof pl);
    assert_int_equal(f->cap.n, 5);
    assert_int_equal(icc(f)->out_rate_limited, 15);

    oasis_clock_advance(f->clock, 100 * OASIS_NS_PER_MS); /* one token */
    for (int i = 0; i < 3; i++)
        inject_ip(f, US, 99, pl, sizeof pl);
    assert_int_equal(f->cap.n, 6);
    assert_int_equal(icc(f)->out_rate_limited, 17);

    oasis_clock_advance(f->clock, 10 * OASIS_NS_PER_SEC); /* refills only to the burst */
    for (int i = 0; i < 10; i++)
        inject_ip(f, US, 99, pl, sizeof pl);
    assert_int_equal(f->cap.n, 11);
    assert_int_equal(icc(f)->out_rate_limited, 22);

    /* Echo replies are not errors: never limited. */
    uint8_t msg[8];
    oasis_icmp_emit(msg, sizeof msg, OASIS_ICMP_ECHO, 0, 1);
    for (int i = 0; i < 10; i++)
        inject_ip(f, US, OASIS_IPPROTO_ICMP, msg, sizeof msg);
    assert_int_equal(f->cap.n, 21);
    fx_free(f);
}

static void unlimited(oasis_stack_config *c) { c->icmp_rate_per_sec = 0; }
static void no_burst(oasis_stack_config *c) { c->icmp_burst = 0; }

/* The two edges stack.h states: a rate of 0 is no limit at all (the burst
 * then means nothing); a burst of 0 with a rate saves no token, so no
 * error is ever sent, however long the stack waits. */
static void test_rate_limit_edges(void **state)
{
    (void)state;
    uint8_t pl[8] = {0};
    fx *f = fx_new(unlimited);
    for (int i = 0; i < 60; i++) /* past the default burst of 50 */
        inject_ip(f, US, 99, pl, sizeof pl);
    assert_int_equal(f->cap.n, 60);
    assert_int_equal(icc(f)->out_rate_limited, 0);
    fx_free(f);

    f = fx_new(no_burst);
    for (int i = 0; i < 3; i++) {
        oasis_clock_advance(f->clock, 10 * OASIS_NS_PER_SEC);
        inject_ip(f, US, 99, pl, sizeof pl);
    }
    assert_int_equal(f->cap.n, 0);
    assert_int_equal(icc(f)->out_rate_limited, 3);
    fx_free(f);
}

/* Sends from PEER to dst a datagram of the given IP version whose header
 * carries the given options (a multiple of 4 bytes) and TOS, with an
 * 8-byte payload of protocol 99. */
static void inject_with_options(fx *f, const uint8_t eth_dst[6], uint32_t dst, const uint8_t *opt,
                                size_t optlen, uint8_t tos, uint8_t version)
{
    uint8_t frame[200];
    uint8_t *ip = frame + OASIS_ETH_HLEN;
    size_t hlen = OASIS_IPV4_HLEN + optlen;
    oasis_ipv4_hdr h;
    memset(&h, 0, sizeof h);
    h.total_len = (uint16_t)(hlen + 8);
    h.id = 7;
    h.ttl = 64;
    h.tos = tos;
    h.proto = 99;
    h.src = PEER;
    h.dst = dst;
    oasis_eth_emit(frame, eth_dst, MAC_PEER, OASIS_ETHERTYPE_IPV4);
    oasis_ipv4_emit(ip, &h);
    ip[0] = (uint8_t)(version << 4 | hlen / 4);
    memcpy(ip + OASIS_IPV4_HLEN, opt, optlen);
    memset(ip + hlen, 0xab, 8);
    ip[10] = ip[11] = 0;
    uint16_t c = oasis_csum(ip, hlen);
    memcpy(ip + 10, &c, 2);
    oasis_stack_input(f->s, frame, OASIS_ETH_HLEN + hlen + 8);
}

/* RFC 1122 3.2.2.5: a host SHOULD generate Parameter Problem; RFC 792: the
 * datagram is discarded and the pointer names the octet at fault (here
 * the malformed option's type octet). RFC 1122 3.2.2: with TOS 0, quoting
 * the header unchanged and 8 bytes; never about a broadcast. */
static void test_param_problem_for_bad_option(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    const oasis_ip_counters *ipc = &oasis_stack_counters(f->s)->ip;
    /* NOP, then a timestamp option (68) of length 0. */
    static const uint8_t zero_len[8] = {1, 68, 0, 5, 0, 0, 0, 0};
    inject_with_options(f, MAC_US, US, zero_len, sizeof zero_len, 0xb8, 4);
    assert_int_equal(ipc->in_hdr_errors, 1);
    assert_int_equal(ipc->in_unknown_protos, 0); /* not delivered */
    assert_int_equal(f->cap.n, 1);
    oasis_ipv4_hdr ip;
    oasis_icmp_hdr m;
    cap_icmp(f, 0, &ip, &m);
    assert_int_equal(ip.dst, PEER);
    assert_int_equal(ip.src, US);
    assert_int_equal(ip.tos, 0);
    assert_int_equal(m.type, OASIS_ICMP_PARAM_PROBLEM);
    assert_int_equal(m.code, 0);
    assert_int_equal(m.rest >> 24, 21); /* the timestamp option's type octet */
    assert_int_equal(m.payload_len, 28 + 8);
    assert_int_equal(m.payload[0], 0x47); /* the header as it came, options too */
    assert_int_equal(m.payload[1], 0xb8);
    assert_memory_equal(m.payload + 20, zero_len, 8);

    /* A length past the header's end; a last option with no room for its
     * length octet. */
    static const uint8_t too_long[4] = {7, 9, 4, 0};
    inject_with_options(f, MAC_US, US, too_long, sizeof too_long, 0, 4);
    static const uint8_t no_len[4] = {1, 1, 1, 130};
    inject_with_options(f, MAC_US, US, no_len, sizeof no_len, 0, 4);
    assert_int_equal(f->cap.n, 3);
    cap_icmp(f, 1, &ip, &m);
    assert_int_equal(m.rest >> 24, 20);
    cap_icmp(f, 2, &ip, &m);
    assert_int_equal(m.rest >> 24, 23);
    assert_int_equal(ipc->in_hdr_errors, 3);

    /* Well-formed options, unknown ones too, are ignored: delivered (to
     * no protocol 99 here: a protocol unreachable). */
    static const uint8_t unknown[4] = {0x9e, 4, 0, 0};
    inject_with_options(f, MAC_US, US, unknown, sizeof unknown, 0, 4);
    assert_int_equal(ipc->in_unknown_protos, 1);
    assert_int_equal(f->cap.n, 4);
    cap_icmp(f, 3, &ip, &m);
    assert_int_equal(m.type, OASIS_ICMP_DEST_UNREACH);

    /* Not about a datagram to a broadcast address, in a link broadcast, or
     * to another host; each still dropped and counted. */
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    inject_with_options(f, bcast, OASIS_IPV4(10, 0, 0, 255), zero_len, sizeof zero_len, 0, 4);
    inject_with_options(f, bcast, US, zero_len, sizeof zero_len, 0, 4);
    inject_with_options(f, MAC_US, OASIS_IPV4(10, 0, 0, 77), zero_len, sizeof zero_len, 0, 4);
    assert_int_equal(f->cap.n, 4);
    assert_int_equal(ipc->in_hdr_errors, 6);

    /* A header with another fault too (here version 5) is not answered:
     * only a datagram refused for its options alone is. */
    inject_with_options(f, MAC_US, US, zero_len, sizeof zero_len, 0, 5);
    assert_int_equal(f->cap.n, 4);
    assert_int_equal(ipc->in_hdr_errors, 7);
    fx_free(f);
}

/* Sends from PEER to us an ICMP message in a datagram whose header carries
 * the given options (a multiple of 4 bytes). */
static void inject_icmp_with_options(fx *f, const uint8_t *opt, size_t optlen, const uint8_t *msg,
                                     size_t n)
{
    uint8_t frame[300];
    uint8_t *ip = frame + OASIS_ETH_HLEN;
    size_t hlen = OASIS_IPV4_HLEN + optlen;
    oasis_ipv4_hdr h;
    memset(&h, 0, sizeof h);
    h.total_len = (uint16_t)(hlen + n);
    h.id = 8;
    h.ttl = 64;
    h.proto = OASIS_IPPROTO_ICMP;
    h.src = PEER;
    h.dst = US;
    oasis_eth_emit(frame, MAC_US, MAC_PEER, OASIS_ETHERTYPE_IPV4);
    oasis_ipv4_emit(ip, &h);
    ip[0] = (uint8_t)(0x40 | hlen / 4);
    memcpy(ip + OASIS_IPV4_HLEN, opt, optlen);
    memcpy(ip + hlen, msg, n);
    ip[10] = ip[11] = 0;
    uint16_t c = oasis_csum(ip, hlen);
    memcpy(ip + 10, &c, 2);
    oasis_stack_input(f->s, frame, OASIS_ETH_HLEN + hlen + n);
}

/* RFC 1122 3.2.2.6: a Record Route or Timestamp option in an Echo Request
 * SHOULD be updated to include the current host and returned in the
 * Echo Reply's header; other options are not returned. RFC 791: a full
 * record route is passed on as it is; a full timestamp counts an
 * overflow; flag 3 stamps only where the prespecified address is ours; a
 * time that is not from UT midnight has its high bit set. */
static void test_echo_returns_rr_and_ts(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    uint8_t msg[8 + 4] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4};
    oasis_icmp_emit(msg, sizeof msg, OASIS_ICMP_ECHO, 0, 0x00050001);
    /* RR with two empty slots, NOP, TS (flag 0) with two, an unknown one. */
    static const uint8_t opt[28] = {7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0,
                                    1,
                                    68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                    0x9e, 4, 0, 0};
    inject_icmp_with_options(f, opt, sizeof opt, msg, sizeof msg);
    assert_int_equal(f->cap.n, 1);
    oasis_ipv4_hdr ip;
    oasis_icmp_hdr m;
    cap_icmp(f, 0, &ip, &m);
    assert_int_equal(m.type, OASIS_ICMP_ECHO_REPLY);
    assert_int_equal(m.payload_len, 4);
    assert_int_equal(ip.options_len, 24);
    const uint8_t *o = ip.options;
    assert_int_equal(o[0], 7);
    assert_int_equal(o[1], 11);
    assert_int_equal(o[2], 8);
    assert_int_equal(oasis_get32(o + 3), US);
    assert_int_equal(oasis_get32(o + 7), 0);
    assert_int_equal(o[11], 68);
    assert_int_equal(o[12], 12);
    assert_int_equal(o[13], 9);
    assert_int_equal(o[14], 0);
    assert_true(oasis_get32(o + 15) & 0x80000000u);
    assert_int_equal(oasis_get32(o + 19), 0);
    assert_int_equal(o[23], 0); /* EOL padding */

    /* Full: the record route comes back as it came, the timestamp's
     * overflow goes up; flag 1 records our address with the time. */
    static const uint8_t full[20] = {7, 7, 8, 9, 9, 9, 9,
                                     68, 12, 5, 0x21, 0, 0, 0, 0, 0, 0, 0, 0,
                                     0};
    inject_icmp_with_options(f, full, sizeof full, msg, sizeof msg);
    cap_icmp(f, 1, &ip, &m);
    assert_int_equal(ip.options_len, 20);
    assert_memory_equal(ip.options, full, 7);
    assert_int_equal(ip.options[9], 13);
    assert_int_equal(ip.options[10], 0x21);
    assert_int_equal(oasis_get32(ip.options + 11), US);
    assert_true(oasis_get32(ip.options + 15) & 0x80000000u);
    static const uint8_t no_room[8] = {68, 8, 9, 0x10, 0, 0, 0, 0};
    inject_icmp_with_options(f, no_room, sizeof no_room, msg, sizeof msg);
    cap_icmp(f, 2, &ip, &m);
    assert_int_equal(ip.options_len, 8);
    assert_int_equal(ip.options[2], 9);
    assert_int_equal(ip.options[3], 0x20);

    /* Flag 3: stamped where the next address is ours, not elsewhere. */
    uint8_t pre[12] = {68, 12, 5, 3, 0, 0, 0, 0, 0, 0, 0, 0};
    oasis_put32(pre + 4, US);
    inject_icmp_with_options(f, pre, sizeof pre, msg, sizeof msg);
    cap_icmp(f, 3, &ip, &m);
    assert_int_equal(ip.options[2], 13);
    assert_true(oasis_get32(ip.options + 8) & 0x80000000u);
    oasis_put32(pre + 4, OASIS_IPV4(10, 0, 0, 99));
    inject_icmp_with_options(f, pre, sizeof pre, msg, sizeof msg);
    cap_icmp(f, 4, &ip, &m);
    assert_memory_equal(ip.options, pre, sizeof pre);

    /* Only other options: the reply has none. */
    static const uint8_t other[4] = {0x9e, 4, 0, 0};
    inject_icmp_with_options(f, other, sizeof other, msg, sizeof msg);
    cap_icmp(f, 5, &ip, &m);
    assert_int_equal(ip.options_len, 0);
    assert_int_equal(m.type, OASIS_ICMP_ECHO_REPLY);
    /* Options too short to hold a slot (well formed all the same): not
     * returned. */
    static const uint8_t stubs[8] = {7, 2, 68, 3, 5, 0, 0, 0};
    inject_icmp_with_options(f, stubs, sizeof stubs, msg, sizeof msg);
    cap_icmp(f, 6, &ip, &m);
    assert_int_equal(ip.options_len, 0);
    assert_int_equal(icc(f)->out_echo_reps, 7);
    fx_free(f);
}

/* RFC 1122 3.2.2: an ICMP message of unknown type is silently discarded;
 * 3.2.2.7 (Information), 3.2.2.8 (Timestamp) and 3.2.2.9 (Address Mask)
 * are not implemented, so their requests are unknown types here; 3.2.2.2:
 * a redirect is not acted on (Oasis keeps no per-destination routes). */
static void test_unknown_types_discarded(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    static const uint8_t types[] = {13, 15, 17, 10, 9, 42, 255};
    uint8_t msg[8 + 12] = {0};
    for (size_t i = 0; i < sizeof types; i++) {
        oasis_icmp_emit(msg, sizeof msg, types[i], 0, 0x00010001);
        inject_ip(f, US, OASIS_IPPROTO_ICMP, msg, sizeof msg);
    }
    assert_int_equal(icc(f)->in_msgs, sizeof types);
    assert_int_equal(icc(f)->in_errors, 0);
    assert_int_equal(f->cap.n, 0);

    /* A redirect (host, code 1) from PEER naming a new gateway for 8.8.8.8,
     * quoting a datagram of ours: the route stays the configured one. */
    uint8_t red[8 + 28];
    oasis_ipv4_hdr q;
    memset(&q, 0, sizeof q);
    q.total_len = 28;
    q.ttl = 64;
    q.proto = OASIS_IPPROTO_UDP;
    q.src = US;
    q.dst = OASIS_IPV4(8, 8, 8, 8);
    oasis_ipv4_emit(red + 8, &q);
    memset(red + 28, 0, 8);
    oasis_icmp_emit(red, sizeof red, 5, 1, OASIS_IPV4(10, 0, 0, 3));
    uint32_t before = oasis_ipv4_route(f->s, OASIS_IPV4(8, 8, 8, 8));
    inject_ip(f, US, OASIS_IPPROTO_ICMP, red, sizeof red);
    assert_int_equal(oasis_ipv4_route(f->s, OASIS_IPV4(8, 8, 8, 8)), before);
    assert_int_equal(f->cap.n, 0);
    fx_free(f);
}

/* ---- ping ---- */

static int ping_done(void *ud) { return ((ping_result *)ud)->calls != 0; }

static void test_ping_between_stacks(void **state)
{
    (void)state;
    test_net n;
    oasis_wire_config wc;
    ping_result r;
    uint64_t d = OASIS_NS_PER_MS;

    oasis_wire_config_init(&wc);
    wc.delay_ns = d;
    test_net_init(&n, &wc, NULL);
    /* Let the gratuitous ARPs land first. */
    oasis_clock_advance(n.clock, 10 * d);
    oasis_wire_step(n.wire);

    memset(&r, 0, sizeof r);
    assert_int_equal(oasis_ping(n.a, TEST_ADDR_B, 7, 1, 56, OASIS_NS_PER_SEC, on_ping, &r), 0);
    assert_int_equal(oasis_wire_run(n.wire, ping_done, &r, 10 * OASIS_NS_PER_SEC), 0);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.seq, 1);
    assert_int_equal(r.rtt, 4 * d); /* ARP request and reply, then the echo */

    memset(&r, 0, sizeof r);
    assert_int_equal(oasis_ping(n.a, TEST_ADDR_B, 7, 2, 1000, OASIS_NS_PER_SEC, on_ping, &r), 0);
    assert_int_equal(oasis_wire_run(n.wire, ping_done, &r, 10 * OASIS_NS_PER_SEC), 0);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.seq, 2);
    assert_int_equal(r.rtt, 2 * d); /* resolved: one round trip */

    /* A big ping is fragmented both ways and still matches. */
    memset(&r, 0, sizeof r);
    assert_int_equal(oasis_ping(n.a, TEST_ADDR_B, 7, 3, 5000, OASIS_NS_PER_SEC, on_ping, &r), 0);
    assert_int_equal(oasis_wire_run(n.wire, ping_done, &r, 10 * OASIS_NS_PER_SEC), 0);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.rtt, 2 * d);

    const oasis_icmp_counters *a = &oasis_stack_counters(n.a)->icmp;
    const oasis_icmp_counters *b = &oasis_stack_counters(n.b)->icmp;
    assert_int_equal(a->out_echos, 3);
    assert_int_equal(a->in_echo_reps, 3);
    assert_int_equal(b->in_echos, 3);
    assert_int_equal(b->out_echo_reps, 3);
    test_net_fini(&n);
}

/* A ping to a group is answered by its members from their own unicast
 * addresses (RFC 1122 3.2.2.6): any member's reply completes it. */
static void test_ping_multicast_group(void **state)
{
    (void)state;
    test_net n;
    ping_result r;
    const uint32_t group = OASIS_IPV4(239, 1, 2, 3);
    test_net_init(&n, NULL, NULL);
    assert_int_equal(oasis_ipv4_join(n.b, group), 0);
    oasis_wire_run(n.wire, NULL, NULL, 20 * OASIS_NS_PER_SEC); /* IGMP reports settle */

    memset(&r, 0, sizeof r);
    assert_int_equal(oasis_ping(n.a, group, 5, 1, 32, OASIS_NS_PER_SEC, on_ping, &r), 0);
    assert_int_equal(oasis_wire_run(n.wire, ping_done, &r, 10 * OASIS_NS_PER_SEC), 0);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.seq, 1);
    assert_int_equal(oasis_stack_counters(n.b)->icmp.out_echo_reps, 1);
    /* A group nobody joined times out. */
    memset(&r, 0, sizeof r);
    assert_int_equal(
        oasis_ping(n.a, OASIS_IPV4(239, 1, 2, 4), 5, 2, 32, OASIS_NS_PER_SEC, on_ping, &r), 0);
    assert_int_equal(oasis_wire_run(n.wire, ping_done, &r, 10 * OASIS_NS_PER_SEC), 0);
    assert_int_equal(r.err, OASIS_ETIMEDOUT);
    test_net_fini(&n);
}

/* A ping to the subnet or limited broadcast completes on the first
 * host's reply, whatever its address; a unicast ping still wants its
 * destination's. */
static void test_ping_broadcast_any_reply(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    const uint32_t dsts[2] = {OASIS_IPV4(10, 0, 0, 255), 0xffffffffu};
    for (int i = 0; i < 2; i++) {
        ping_result r;
        memset(&r, 0, sizeof r);
        f->cap.n = 0;
        assert_int_equal(oasis_ping(f->s, dsts[i], 3, (uint16_t)(10 + i), 8, OASIS_NS_PER_SEC,
                                    on_ping, &r),
                         0);
        assert_int_equal(f->cap.n, 1);
        oasis_ipv4_hdr ip;
        oasis_icmp_hdr m;
        cap_icmp(f, 0, &ip, &m);
        assert_int_equal(ip.dst, dsts[i]);
        uint8_t msg[8 + 8];
        memcpy(msg + 8, m.payload, 8);
        oasis_icmp_emit(msg, sizeof msg, OASIS_ICMP_ECHO_REPLY, 0, m.rest);
        inject_ip(f, US, OASIS_IPPROTO_ICMP, msg, sizeof msg); /* from PEER */
        assert_int_equal(r.calls, 1);
        assert_int_equal(r.err, 0);
    }
    /* Unicast to 10.0.0.3: PEER's reply with the same id and seq is not it. */
    ping_result r;
    memset(&r, 0, sizeof r);
    test_learn_peer4(f->s, MAC_US, US, MAC_PEER, OASIS_IPV4(10, 0, 0, 3));
    f->cap.n = 0;
    assert_int_equal(
        oasis_ping(f->s, OASIS_IPV4(10, 0, 0, 3), 3, 20, 8, OASIS_NS_PER_SEC, on_ping, &r), 0);
    assert_int_equal(f->cap.n, 1);
    oasis_ipv4_hdr ip;
    oasis_icmp_hdr m;
    cap_icmp(f, 0, &ip, &m);
    uint8_t msg[8 + 8];
    memcpy(msg + 8, m.payload, 8);
    oasis_icmp_emit(msg, sizeof msg, OASIS_ICMP_ECHO_REPLY, 0, m.rest);
    inject_ip(f, US, OASIS_IPPROTO_ICMP, msg, sizeof msg);
    assert_int_equal(r.calls, 0);
    fx_free(f);
    assert_int_equal(r.err, OASIS_ECANCELED);
}

/* RFC 1122 3.2.1.3 (a): 0.0.0.0 is a source only while the host learns
 * its address; a stack without one has no source for a ping, even to
 * 255.255.255.255, which it can send to (a DHCP client's UDP): refused
 * with OASIS_ENOROUTE, nothing sent. Loopback still answers. */
static void no_address(oasis_stack_config *cfg) { cfg->addr = 0; }

static void test_ping_without_address(void **state)
{
    (void)state;
    fx *f = fx_new(no_address);
    ping_result r;
    memset(&r, 0, sizeof r);
    f->cap.n = 0;
    assert_int_equal(oasis_ping(f->s, 0xffffffffu, 1, 1, 8, OASIS_NS_PER_SEC, on_ping, &r),
                     OASIS_ENOROUTE);
    assert_int_equal(oasis_ping(f->s, PEER, 1, 2, 8, OASIS_NS_PER_SEC, on_ping, &r),
                     OASIS_ENOROUTE);
    assert_int_equal(f->cap.n, 0);
    assert_int_equal(icc(f)->out_echos, 0);
    assert_int_equal(oasis_ping(f->s, OASIS_IPV4(127, 0, 0, 1), 1, 3, 8, OASIS_NS_PER_SEC,
                                on_ping, &r),
                     0);
    for (int i = 0; i < 4 && !r.calls; i++) {
        oasis_stack_poll(f->s);
        oasis_clock_advance(f->clock, 1); /* the reply waits a round */
    }
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.err, 0);
    assert_int_equal(f->cap.n, 0);
    fx_free(f);
}

static void test_ping_timeout_and_unreachable(void **state)
{
    (void)state;
    test_net n;
    ping_result r1, r2;
    test_net_init(&n, NULL, NULL);
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    uint64_t t0 = oasis_clock_now(n.clock);
    uint32_t nobody = OASIS_IPV4(10, 0, 0, 9);

    assert_int_equal(oasis_ping(n.a, nobody, 1, 1, 8, 500 * OASIS_NS_PER_MS, on_ping, &r1), 0);
    assert_int_equal(oasis_ping(n.a, nobody, 1, 2, 8, 60 * OASIS_NS_PER_SEC, on_ping, &r2), 0);
    assert_int_equal(oasis_wire_run(n.wire, ping_done, &r1, 10 * OASIS_NS_PER_SEC), 0);
    assert_int_equal(r1.err, OASIS_ETIMEDOUT);
    assert_int_equal(oasis_clock_now(n.clock) - t0, 500 * OASIS_NS_PER_MS);
    /* The other one fails when ARP gives up (1 + 2 + 4 s). */
    assert_int_equal(oasis_wire_run(n.wire, ping_done, &r2, 60 * OASIS_NS_PER_SEC), 0);
    assert_int_equal(r2.err, OASIS_EUNREACH);
    assert_int_equal(oasis_clock_now(n.clock) - t0, 7 * OASIS_NS_PER_SEC);
    oasis_wire_run(n.wire, NULL, NULL, 100 * OASIS_NS_PER_SEC);
    assert_int_equal(r1.calls, 1);
    assert_int_equal(r2.calls, 1);
    test_net_fini(&n);
}

static void test_ping_unreachable_reply_and_cancel(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    ping_result r1, r2;
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);

    assert_int_equal(oasis_ping(f->s, PEER, 9, 1, 16, OASIS_NS_PER_SEC, on_ping, &r1), 0);
    assert_int_equal(oasis_ping(f->s, PEER, 9, 2, 16, OASIS_NS_PER_SEC, on_ping, &r2), 0);
    assert_int_equal(f->cap.n, 2);
    /* A router says host unreachable, quoting the first request. */
    oasis_eth_hdr eh;
    assert_int_equal(oasis_eth_parse(f->cap.frame[0], f->cap.len[0], &eh), 0);
    uint8_t msg[8 + 28];
    memcpy(msg + 8, eh.payload, 28);
    oasis_icmp_emit(msg, sizeof msg, OASIS_ICMP_DEST_UNREACH, OASIS_ICMP_HOST_UNREACH, 0);
    inject_ip(f, US, OASIS_IPPROTO_ICMP, msg, sizeof msg);
    assert_int_equal(r1.calls, 1);
    assert_int_equal(r1.err, OASIS_EUNREACH);
    assert_int_equal(r2.calls, 0);
    assert_int_equal(icc(f)->in_dest_unreachs, 1);

    /* Misuse. */
    assert_int_equal(oasis_ping(f->s, PEER, 9, 2, 16, OASIS_NS_PER_SEC, on_ping, &r1), OASIS_EBUSY);
    assert_int_equal(oasis_ping(f->s, PEER, 9, 3, 16, OASIS_NS_PER_SEC, NULL, NULL), OASIS_EINVAL);
    assert_int_equal(oasis_ping(f->s, PEER, 9, 3, 16, 0, on_ping, &r1), OASIS_EINVAL);
    assert_int_equal(oasis_ping(f->s, PEER, 9, 3, 70000, OASIS_NS_PER_SEC, on_ping, &r1),
                     OASIS_EMSGSIZE);
    assert_int_equal(oasis_ping(f->s, OASIS_IPV4(8, 8, 8, 8), 9, 3, 16, OASIS_NS_PER_SEC, on_ping,
                                &r1),
                     OASIS_ENOROUTE);
    assert_int_equal(r1.calls, 1);

    /* Destroying the stack cancels what is left, once. */
    fx_free(f);
    assert_int_equal(r2.calls, 1);
    assert_int_equal(r2.err, OASIS_ECANCELED);
}

/* oasis_stack_destroy cancels a pending ping from inside the call: its
 * callback may still use the stack, and a UDP port it binds there must
 * go with the stack (the UDP layer's end came before ICMP's and left
 * that bind allocated for good). */
static test_counting cancel_mem;

static void count_mem(oasis_stack_config *cfg)
{
    cfg->alloc = test_count_alloc;
    cfg->alloc_ud = &cancel_mem;
}

static void on_udp_unused(oasis_stack *s, const oasis_ipaddr *src, uint16_t sp,
                          const oasis_ipaddr *dst, uint16_t dp, const uint8_t *d, size_t n,
                          void *ud)
{
    (void)s, (void)src, (void)sp, (void)dst, (void)dp, (void)d, (void)n, (void)ud;
}

static void on_ping_cancel_binds(oasis_stack *s, int err, uint16_t seq, uint64_t rtt, void *ud)
{
    on_ping(s, err, seq, rtt, ud);
    int rc = oasis_udp_bind(s, 5353, on_udp_unused, NULL);
    assert_true(rc == OASIS_OK || rc == OASIS_EINVAL);
}

static void test_ping_cancel_callback_binds_udp(void **state)
{
    (void)state;
    memset(&cancel_mem, 0, sizeof cancel_mem);
    fx *f = fx_new(count_mem);
    ping_result r;
    memset(&r, 0, sizeof r);
    assert_int_equal(oasis_ping(f->s, PEER, 9, 1, 16, UINT64_MAX, on_ping_cancel_binds, &r), 0);
    fx_free(f);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.err, OASIS_ECANCELED);
    assert_int_equal(cancel_mem.live, 0); /* nothing of the stack outlives it */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo_reply_to_hand_built_request),
        cmocka_unit_test(test_protocol_unreachable),
        cmocka_unit_test(test_no_error_about_link_broadcast),
        cmocka_unit_test(test_no_error_about_errors_or_fragments),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_rate_limit_edges),
        cmocka_unit_test(test_param_problem_for_bad_option),
        cmocka_unit_test(test_unknown_types_discarded),
        cmocka_unit_test(test_echo_returns_rr_and_ts),
        cmocka_unit_test(test_ping_between_stacks),
        cmocka_unit_test(test_ping_multicast_group),
        cmocka_unit_test(test_ping_broadcast_any_reply),
        cmocka_unit_test(test_ping_without_address),
        cmocka_unit_test(test_ping_timeout_and_unreachable),
        cmocka_unit_test(test_ping_unreachable_reply_and_cancel),
        cmocka_unit_test(test_ping_cancel_callback_binds_udp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
