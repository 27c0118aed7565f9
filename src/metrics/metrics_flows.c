/* The built-in per-flow source: one point per TCP flow, in the spirit of
 * Linux tcp_info, tagged with the flow's 4-tuple. */
#include "metrics/metrics_impl.h"

#include "oasis/error.h"

#include <stdio.h>

typedef struct flows_priv {
    metrics_flow_ops ops;
    oasis_stack *stack;
    uint32_t max_flows;
} flows_priv;

typedef struct flows_walk {
    oasis_metrics_emit *e;
    const flows_priv *fp;
    uint32_t seen;
    int rc;
} flows_walk;

_Static_assert(OASIS_TCP_TIME_WAIT == 10, "keep the state names in step with tcp.h");

const char *metrics_tcp_state_name(int st)
{
    /* Our own table, so reading flows needs no more of the TCP layer than
     * the two calls in metrics_flow_ops. */
    static const char *const names[] = {
        "CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED",
        "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK",
        "TIME_WAIT",
    };
    if (st < 0 || (size_t)st >= sizeof names / sizeof names[0])
        return "UNKNOWN";
    return names[st];
}

/* An address of either family (RFC 5952 text for IPv6); an info filled
 * with the IPv4 fields only (no family) is read from those. */
static int tag_addr(oasis_metrics_emit *e, const char *key, const oasis_ipaddr *ip, uint32_t a)
{
    char buf[OASIS_IPADDR_STRLEN];
    oasis_ipaddr v4 = oasis_ipaddr_v4(a);
    oasis_ipaddr_format(ip->family ? ip : &v4, buf);
    return oasis_metrics_tag(e, key, buf);
}

static int tag_port(oasis_metrics_emit *e, const char *key, uint16_t port)
{
    char buf[8];
    snprintf(buf, sizeof buf, "%u", (unsigned)port);
    return oasis_metrics_tag(e, key, buf);
}

static int emit_flow(oasis_metrics_emit *e, const oasis_tcp_info *ti)
{
    int rc = oasis_metrics_next_point(e);
    rc = rc ? rc : tag_addr(e, "local_addr", &ti->local, ti->local_addr);
    rc = rc ? rc : tag_port(e, "local_port", ti->local_port);
    rc = rc ? rc : tag_addr(e, "remote_addr", &ti->remote, ti->remote_addr);
    rc = rc ? rc : tag_port(e, "remote_port", ti->remote_port);
    rc = rc ? rc : oasis_metrics_field_string(e, "state", metrics_tcp_state_name((int)ti->state));
    const struct {
        const char *name;
        uint64_t v;
    } u[] = {
        {"srtt_ns", ti->srtt_ns}, {"rttvar_ns", ti->rttvar_ns}, {"rto_ns", ti->rto_ns},
        {"mss_send", ti->mss_send}, {"mss_recv", ti->mss_recv}, {"cwnd", ti->cwnd},
        {"ssthresh", ti->ssthresh}, {"bytes_in_flight", ti->bytes_in_flight},
        {"snd_wnd", ti->snd_wnd}, {"rcv_wnd", ti->rcv_wnd}, {"sndbuf", ti->sndbuf},
        {"rcvbuf", ti->rcvbuf}, {"retransmits", ti->retransmits},
        {"bytes_acked", ti->bytes_acked}, {"bytes_received", ti->bytes_received},
        {"segs_in", ti->segs_in}, {"segs_out", ti->segs_out},
    };
    /* From retransmits on, the fields only grow. */
    for (size_t i = 0; !rc && i < sizeof u / sizeof u[0]; i++)
        rc = i >= 12 ? oasis_metrics_field_counter(e, u[i].name, u[i].v)
                     : oasis_metrics_field_uint(e, u[i].name, u[i].v);
    return rc;
}

static void visit_flow(oasis_flow *flow, void *ud)
{
    flows_walk *w = ud;
    oasis_tcp_info ti;
    if (w->rc || w->seen >= w->fp->max_flows)
        return;
    if (w->fp->ops.get_info(flow, &ti) != 0)
        return; /* a flow that cannot tell is left out, not an error */
    w->seen++;
    w->rc = emit_flow(w->e, &ti);
}

static int read_flows(oasis_metrics_emit *e, void *ud)
{
    const flows_priv *fp = ud;
    flows_walk w = {e, fp, 0, 0};
    fp->ops.foreach_flow(fp->stack, visit_flow, &w);
    return w.rc;
}

int metrics_add_flows_with(oasis_metrics *m, oasis_stack *s, const metrics_flow_ops *ops,
                           const oasis_metric_tag *tags, size_t ntags, uint32_t max_flows)
{
    if (!m || !s || !ops || !ops->foreach_flow || !ops->get_info)
        return OASIS_EINVAL;
    flows_priv *fp = metrics_alloc(m, NULL, sizeof *fp);
    if (!fp)
        return OASIS_ENOMEM;
    fp->ops = *ops;
    fp->stack = s;
    fp->max_flows = max_flows ? max_flows : 256;
    return metrics_add_source_ex(m, "tcp_flow", tags, ntags, read_flows, fp, s, fp, NULL);
}
