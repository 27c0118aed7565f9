/* The packetdrill ports' fixture (pd_fixture.h). */
#include "pd_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

void pd_fx_init(pd_fx *x, const oasis_tcp_config *tcfg)
{
    memset(x, 0, sizeof *x);
    th_init(&x->h, tcfg);
    th_app_init(&x->a);
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
