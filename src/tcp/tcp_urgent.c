/* Urgent data (RFC 9293 3.8.5, 3.10.7.4 sixth step; RFC 6093) and the
 * flow's asynchronous reports (RFC 9293 3.9.1.8).
 *
 * Urgent bytes travel in the normal stream, in order; only the pointer is
 * special. MUST-62: the pointer is the sequence number of the byte AFTER
 * the last urgent one (RFC 6093 2: the RFC 1122 reading; SEG.UP =
 * SEG.SEQ + urgent field). Send side: SND.UP is set when the application
 * writes urgent bytes, and every segment that starts below it carries URG
 * until the peer has acknowledged it. Receive side: RCV.UP follows the
 * largest pointer received (MUST-31: any length, also beyond the
 * segment or the window), the application is told when it appears or
 * advances (MUST-32) and can ask how much is left to read (MUST-33). */
#include "core/stack_impl.h"
#include "oasis/error.h"
#include "tcp/tcp_flow.h"
#include "tcp/tcp_seq.h"

void oasis_tcp_urg_mark(oasis_flow *f, uint64_t stream_end)
{
    /* Stream offset o is sequence number ISS + 1 + o (the SYN takes ISS). */
    uint32_t up = f->iss + 1 + (uint32_t)stream_end;
    if (!f->ext->x.snd_urg || oasis_seq_gt(up, f->ext->x.snd_up))
        f->ext->x.snd_up = up; /* the pointer never recedes */
    f->ext->x.snd_urg = 1;
}

void oasis_tcp_urg_fill(const oasis_flow *f, oasis_tcp_hdr *h)
{
    if (!f->ext->x.snd_urg || (h->flags & (OASIS_TCP_SYN | OASIS_TCP_RST)) ||
        !(h->flags & OASIS_TCP_ACK) || !oasis_seq_lt(h->seq, f->ext->x.snd_up))
        return;
    uint32_t d = f->ext->x.snd_up - h->seq;
    /* The field is 16 bits: a pointer further ahead is sent as 65535 and
     * moves on with later segments (Linux does the same). */
    h->flags |= OASIS_TCP_URG;
    h->urg = (uint16_t)(d > 0xffffu ? 0xffffu : d);
}

void oasis_tcp_urg_acked(oasis_flow *f)
{
    if (f->ext->x.snd_urg && oasis_seq_ge(f->snd_una, f->ext->x.snd_up))
        f->ext->x.snd_urg = 0;
}

/* Sequence number of the next byte a read returns. */
static uint32_t read_seq(const oasis_flow *f)
{
    return f->rcv_nxt - (f->fin_rcvd ? 1u : 0u) - f->ext->rcv.len;
}

void oasis_tcp_urg_input(oasis_flow *f, const oasis_tcp_hdr *h)
{
    if (f->state != OASIS_TCP_ESTABLISHED && f->state != OASIS_TCP_FIN_WAIT_1 &&
        f->state != OASIS_TCP_FIN_WAIT_2)
        return; /* after the peer's FIN: ignored (3.10.7.4) */
    uint32_t up = h->seq + h->urg;
    /* A pointer at or below what the application has read marks nothing
     * (a zero field, a stale segment): robust to invalid values. */
    if (!oasis_seq_gt(up, read_seq(f)))
        return;
    if (f->ext->x.rcv_urg && !oasis_seq_gt(up, f->ext->x.rcv_up))
        return; /* RCV.UP <- max(RCV.UP, SEG.UP): no advance, no report */
    f->ext->x.rcv_up = up;
    f->ext->x.rcv_urg = 1;
    oasis_tcp_post_event(f, OASIS_TCP_EV_URGENT);
}

void oasis_tcp_urg_consumed(oasis_flow *f)
{
    if (f->ext->x.rcv_urg && !oasis_seq_gt(f->ext->x.rcv_up, read_seq(f)))
        f->ext->x.rcv_urg = 0; /* back to "normal mode" */
}

uint32_t oasis_tcp_urgent_pending(const oasis_flow *f)
{
    if (!f || !f->ext || !f->ext->x.rcv_urg) /* idle: never in urgent mode */
        return 0;
    uint32_t rd = read_seq(f);
    return oasis_seq_gt(f->ext->x.rcv_up, rd) ? f->ext->x.rcv_up - rd : 0;
}

/* ---- asynchronous reports --------------------------------------------------- */

void oasis_tcp_post_event(oasis_flow *f, oasis_tcp_event ev)
{
    if (!f->ext || !f->ext->x.ev_cb)
        return; /* reports turned off (SHLD-20); a flow with them on is never idle */
    f->ext->x.ev_pending |= (uint8_t)(1u << ev);
    oasis_tcp_wake(f);
}

void oasis_tcp_run_events(oasis_flow *f)
{
    while (f->ext && f->ext->x.ev_pending && f->life == OASIS_TCP_LIFE_APP) {
        if (!f->ext->x.ev_cb) {
            f->ext->x.ev_pending = 0;
            return;
        }
        unsigned ev = 0;
        while (!(f->ext->x.ev_pending & (1u << ev)))
            ev++;
        f->ext->x.ev_pending &= (uint8_t)~(1u << ev);
        f->ext->x.ev_cb(f, (oasis_tcp_event)ev, f->ext->x.ev_ud);
    }
}

int oasis_tcp_set_event_cb(oasis_flow *f, oasis_tcp_event_cb cb, void *ud)
{
    if (!f)
        return OASIS_EINVAL;
    if (f->life != OASIS_TCP_LIFE_APP)
        return OASIS_ECLOSED;
    if (!cb && !f->ext)
        return OASIS_OK; /* idle: none set */
    int err = oasis_tcp_ext_get(f); /* a flow with reports on keeps it */
    if (err)
        return err;
    f->ext->x.ev_cb = cb;
    f->ext->x.ev_ud = ud;
    if (!cb)
        f->ext->x.ev_pending = 0;
    oasis_tcp_ext_put(f);
    return OASIS_OK;
}
