/* The packetdrill ports' fixture (pd_fixture.h). */
#include "pd_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/checksum.h"
#include "tcp/tcp.h"

void pd_fx_init(pd_fx *x, const oasis_tcp_config *tcfg) { pd_fx_init_af(x, tcfg, 0); }

static void fx_init(pd_fx *x, const oasis_tcp_config *tcfg, int ipv6, int run)
{
    memset(x, 0, sizeof *x);
    if (run)
        th_init_run(&x->h, tcfg, ipv6);
    else
        th_init_af(&x->h, tcfg, ipv6);
    th_app_init(&x->a);
}

void pd_fx_init_af(pd_fx *x, const oasis_tcp_config *tcfg, int ipv6) { fx_init(x, tcfg, ipv6, 0); }
void pd_fx_init_run(pd_fx *x, const oasis_tcp_config *tcfg, int ipv6) { fx_init(x, tcfg, ipv6, 1); }

void pd_connect_to(pd_fx *x, uint16_t port)
{
    assert_int_equal(oasis_tcp_connect(x->h.s, &x->h.peer, port, NULL, th_connect_cb, &x->a), 0);
}

void pd_fx_fini(pd_fx *x)
{
    th_fini(&x->h);
    th_app_fini(&x->a);
}

uint32_t pd_os(const pd_fx *x, uint32_t n) { return x->iss + n; }
uint32_t pd_ps(uint32_t n) { return TH_PISN + n; }
void pd_adv(pd_fx *x, uint64_t ms) { th_advance(&x->h, ms * (OASIS_NS_PER_SEC / 1000)); }

oasis_tcp_info pd_info(const pd_fx *x)
{
    oasis_tcp_info i;
    assert_int_equal(oasis_tcp_get_info(x->a.flow, &i), 0);
    return i;
}

void pd_none(pd_fx *x)
{
    th_poll(&x->h);
    assert_int_equal(th_pending(&x->h), 0);
}

oasis_tcp_hdr pd_syn_opts(oasis_tcp_hdr h, uint16_t mss, int sack, int wscale)
{
    h.has_mss = mss != 0;
    h.mss = mss;
    h.sack_permitted = (uint8_t)sack;
    h.has_wscale = wscale >= 0;
    h.wscale = (uint8_t)(wscale >= 0 ? wscale : 0);
    return h;
}

void pd_inject(pd_fx *x, oasis_tcp_hdr seg, unsigned flags, uint8_t ip_ecn)
{
    seg.flags = (uint8_t)flags;
    size_t hl = OASIS_TCP_HLEN + oasis_tcp_options_len(&seg);
    size_t n = hl + seg.payload_len;
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    if (seg.payload_len)
        memcpy(buf + hl, seg.payload, seg.payload_len);
    oasis_tcp_emit_ps(buf, &seg, oasis_csum_add(0, buf + hl, seg.payload_len), th_pseudo(&x->h, n));
    if (flags & PD_AE) {
        buf[12] |= 0x01;
        buf[16] = buf[17] = 0;
        uint16_t c = oasis_csum_fold(oasis_csum_add(th_pseudo(&x->h, n), buf, n));
        memcpy(buf + 16, &c, 2);
    }
    th_send(&x->h, buf, n, ip_ecn);
    free(buf);
}

uint64_t pd_wait_seg(pd_fx *x, uint64_t ms, oasis_tcp_hdr *r)
{
    for (uint64_t t = 0; t <= ms; t++) {
        th_poll(&x->h);
        if (th_pop(&x->h, r))
            return t;
        pd_adv(x, 1);
    }
    fail_msg("nothing sent within %u ms", (unsigned)ms);
    return 0;
}
