/* RACK reordering window and the tail loss probe (RFC 8985). See
 * tcp_rack.h. When the PTO is armed is tcp_timer.c's (f->ext->tm.tlp); what a
 * probe sends is here. */
#include "core/stack_impl.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_rack.h"
#include "tcp/tcp_seq.h"

uint64_t oasis_rack_reo_wnd(const oasis_rack *r, uint64_t srtt_ns)
{
    uint64_t mult = r->reo_wnd_mult ? r->reo_wnd_mult : 1;
    uint64_t w = mult * (r->min_rtt_ns / 4);
    return srtt_ns && w > srtt_ns ? srtt_ns : w;
}

uint64_t oasis_rack_reo_wnd_now(const oasis_rack *r, uint64_t srtt_ns, int in_recovery)
{
    /* No reordering seen: be as quick as DupThresh would be once recovery
     * runs or three segments are SACKed. */
    if (!r->reordering_seen && (in_recovery || r->segs_sacked >= OASIS_RACK_DUPTHRESH))
        return 0;
    return oasis_rack_reo_wnd(r, srtt_ns);
}

void oasis_rack_dsack(oasis_rack *r, uint32_t una, uint32_t max)
{
    /* One step per round trip: a burst of D-SACKs from one reordering
     * event must not blow the window up. */
    if (r->dsack_seen && oasis_seq_lt(una, r->dsack_una))
        return;
    r->dsack_seen = 1;
    r->dsack_una = max;
    if (r->reo_wnd_mult == 0)
        r->reo_wnd_mult = 1;
    if (r->reo_wnd_mult < 64)
        r->reo_wnd_mult++; /* bounded: the window is capped by SRTT anyway */
    r->reo_wnd_persist = OASIS_RACK_PERSIST;
}

void oasis_rack_recovery_done(oasis_rack *r)
{
    if (r->reo_wnd_persist && --r->reo_wnd_persist == 0)
        r->reo_wnd_mult = 1;
}

/* ---- on the flow ----------------------------------------------------------- */

/* Data bytes sent and not yet acked (the FIN aside). */
static uint32_t data_out(const oasis_flow *f)
{
    uint32_t n = f->snd_max - f->snd_una;
    if (f->fin_queued && oasis_seq_gt(f->snd_max, f->ext->fin_seq))
        n--;
    return n;
}

/* RFC 8985 7.3: new data if there is some and the peer's window takes
 * it, else the last segment again; our FIN is part of the tail whenever it
 * is queued behind the data (it rides with the new segment, or is resent
 * with the last one, or alone when only the FIN is outstanding). */
int oasis_tlp_send_probe(oasis_flow *f)
{
    oasis_rack *r = &f->ext->sb.rack;
    if (f->snd_una == f->snd_max || f->snd_nxt != f->snd_max)
        return 0;
    uint32_t mss = oasis_tcp_eff_mss(f), out = data_out(f);
    uint32_t avail = f->ext->snd.len > out ? f->ext->snd.len - out : 0;
    uint32_t room = f->snd_wnd > f->snd_max - f->snd_una ? f->snd_wnd - (f->snd_max - f->snd_una) : 0;
    int fin_out = f->fin_queued && oasis_seq_gt(f->snd_max, f->ext->fin_seq);
    uint8_t kind;
    if (avail && room >= (avail < mss ? avail : mss)) {
        oasis_tcp_force_output(f); /* new data: one segment, cwnd aside */
        kind = OASIS_TLP_NEW;
    } else if (out || fin_out) {
        uint32_t len = out < mss ? out : mss;
        oasis_tcp_xmit_data(f, f->snd_una + out - len, len, 1);
        kind = OASIS_TLP_RETRANS;
    } else {
        return 0;
    }
    r->tlp_out = 1;
    /* 7.4: the episode is the first probe's until an ACK ends it (Oasis
     * may probe again after snd_una moves; 7.3 would wait: see
     * docs/conformance.md) */
    if (!r->tlp_episode) {
        r->tlp_episode = kind;
        r->tlp_end = f->snd_max;
    }
    r->probes++;
    return 1;
}

void oasis_tlp_reset(oasis_flow *f)
{
    f->ext->sb.rack.tlp_out = 0;
}

int oasis_tlp_episode_ack(oasis_rack *r, uint32_t ack, int dsack_end, int bare_dup)
{
    if (!r->tlp_episode || oasis_seq_lt(ack, r->tlp_end))
        return 0;
    /* new data delivered; the probe a duplicate (D-SACK); beyond the
     * probe with neither sign: it repaired the loss; a bare duplicate ACK
     * (no SACK to tell): the RFC's case 2, no loss assumed. An ACK of
     * exactly TLP.end_seq otherwise waits for the next. */
    int repaired = r->tlp_episode == OASIS_TLP_RETRANS && !dsack_end && oasis_seq_gt(ack, r->tlp_end);
    if (r->tlp_episode == OASIS_TLP_NEW || dsack_end || repaired || bare_dup)
        r->tlp_episode = 0;
    return repaired;
}
