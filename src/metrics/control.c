/* The metrics control port (oasis/metrics_control.h).
 *
 * Like the Prometheus server: a connection either waits for a line (one
 * read pending) or writes one answer (no read pending), so answers go out
 * in order and unhandled bytes stay under LINE_MAX. A conn is freed in its
 * close callback, or right after an abort (`dead` makes the callbacks that
 * abort runs return at once). */
#include "oasis/metrics_control.h"

#include "oasis/error.h"
#include "oasis/tcp.h"

#include "core/mem.h"
#include "core/stack_impl.h"
#include "core/timer.h"
#include "metrics/metrics_impl.h"
#include "tcp/tcp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LINE_MAX_BYTES 256
#define OUT_MAX (16u << 20)

typedef struct cconn cconn;

struct oasis_metrics_control {
    oasis_stack *s;
    oasis_metrics *m;
    oasis_reporter *r;
    oasis_control_config cfg;
    int listening;
    cconn *conns;
    uint32_t nconns;
    oasis_timer idle;   /* armed while conns exist and cfg.idle_timeout_ns */
};

struct cconn {
    oasis_metrics_control *ctl;
    oasis_flow *flow;
    cconn *prev, *next;
    char in[LINE_MAX_BYTES + 2];
    size_t in_len;
    uint64_t since;     /* accepted, or its last answer taken: the wait began */
    int reading, writing, closing, dead, failed, bye;
    oasis_lp_buf out;
};

static void conn_process(cconn *c);

static void conn_free(cconn *c)
{
    oasis_metrics_control *ctl = c->ctl;
    if (c->prev)
        c->prev->next = c->next;
    else
        ctl->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    ctl->nconns--;
    oasis_lp_buf_free(&c->out);
    oasis_free(ctl->s, c);
}

static void conn_abort(cconn *c)
{
    c->dead = 1;
    oasis_tcp_release(c->flow); /* aborts it: pending callbacks see `dead` */
    conn_free(c);
}

static void on_closed(oasis_flow *flow, int err, void *ud)
{
    cconn *c = ud;
    (void)err;
    if (c->dead)
        return; /* called from conn_abort's release */
    oasis_tcp_release(flow); /* the handle is ours until given back */
    conn_free(c);
}

static void conn_close(cconn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    if (oasis_tcp_close(c->flow, on_closed, c) != 0)
        conn_abort(c);
}

/* ---- output ---------------------------------------------------------------------- */

static void out_printf(cconn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out_printf(cconn *c, const char *fmt, ...)
{
    char line[LINE_MAX_BYTES * 2];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = (int)sizeof line - 1;
    /* Through the encoder's buffer: the same growth and bound. */
    oasis_lp_buf *b = &c->out;
    if ((size_t)n > b->max - b->len)
        return;
    if (b->len + (size_t)n > b->cap) {
        size_t ncap = b->cap ? b->cap : 512;
        while (ncap < b->len + (size_t)n)
            ncap *= 2;
        char *d = b->alloc(b->alloc_ud, b->data, ncap);
        if (!d)
            return;
        b->data = d;
        b->cap = ncap;
    }
    memcpy(b->data + b->len, line, (size_t)n);
    b->len += (size_t)n;
}

static void on_written(oasis_flow *flow, int err, void *ud)
{
    cconn *c = ud;
    (void)flow;
    if (c->dead)
        return;
    c->writing = 0;
    c->since = oasis_now(c->ctl->s);
    if (err || c->bye) {
        /* Nothing reads any more: what still comes is acknowledged and
         * dropped, so a peer that keeps sending reaches its FIN and the
         * slot comes back. */
        oasis_tcp_shutdown(c->flow, OASIS_TCP_SHUT_READ);
        conn_close(c);
    } else {
        conn_process(c);
    }
}

static void flush_out(cconn *c)
{
    c->writing = 1;
    if (oasis_tcp_write(c->flow, c->out.data, c->out.len, on_written, c) != 0) {
        c->writing = 0;
        c->failed = 1;
    }
}

/* ---- commands ---------------------------------------------------------------------- */

static uint64_t unix_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void cmd_dump(cconn *c)
{
    oasis_metrics_snapshot snap;
    size_t next = 0, rejected = 0;
    if (oasis_metrics_collect(c->ctl->m, unix_ns(), &snap) != 0) {
        out_printf(c, "error collect failed\n");
        return;
    }
    /* The lines stop short of the bound by one closing line: a dump cut
     * there still ends in "error", as every answer ends in ok or error. */
    size_t max = c->out.max;
    c->out.max = max - LINE_MAX_BYTES * 2;
    int rc = oasis_lp_encode_points(&c->out, snap.points, snap.count, 0, &next, &rejected);
    c->out.max = max;
    if (rc)
        out_printf(c, "error %s after %zu points\n", oasis_strerror(rc), next);
    else
        out_printf(c, "ok %zu points\n", snap.count - rejected);
}

static void cmd_enable(cconn *c, const char *name, int on)
{
    if (!*name) {
        out_printf(c, "error usage: %s NAME\n", on ? "enable" : "disable");
        return;
    }
    size_t n = oasis_metrics_enable(c->ctl->m, name, on);
    if (n == 0)
        out_printf(c, "error no source named '%.64s'\n", name);
    else
        out_printf(c, "ok %s %s (%zu)\n", name, on ? "on" : "off", n);
}

static void cmd_interval(cconn *c, const char *arg)
{
    oasis_reporter *r = c->ctl->r;
    if (!r) {
        out_printf(c, "error no reporter is running\n");
        return;
    }
    if (*arg) {
        char *end;
        unsigned long long ms = strtoull(arg, &end, 10);
        if (*end || arg[0] < '0' || arg[0] > '9' || ms < 10 || ms > 86400000ull) {
            out_printf(c, "error usage: interval [MS] (10..86400000)\n");
            return;
        }
        oasis_reporter_set_interval(r, ms * 1000000ull);
    }
    out_printf(c, "ok interval %llu ms\n",
               (unsigned long long)(oasis_reporter_interval(r) / 1000000ull));
}

static const char help_text[] =
    "help                 this text\n"
    "list                 the sources and whether they are read\n"
    "enable NAME          read the sources named NAME again\n"
    "disable NAME         stop reading the sources named NAME\n"
    "interval [MS]        show or set the reporter's interval\n"
    "dump                 one snapshot now, in line protocol\n"
    "flush                the reporter sends a snapshot now\n"
    "quit                 close this connection\n";

static void run_command(cconn *c, char *line)
{
    char *arg = line + strcspn(line, " \t");
    if (*arg) {
        *arg++ = '\0';
        arg += strspn(arg, " \t");
        size_t n = strlen(arg);
        while (n && (arg[n - 1] == ' ' || arg[n - 1] == '\t'))
            arg[--n] = '\0';
    }
    if (strcmp(line, "help") == 0 && !*arg) {
        out_printf(c, "%s", help_text);
        out_printf(c, "ok\n");
    } else if (strcmp(line, "list") == 0 && !*arg) {
        size_t n = 0;
        for (oasis_metrics_source *s = c->ctl->m->head; s; s = s->next, n++)
            out_printf(c, "source %s %s\n", s->name, s->enabled ? "on" : "off");
        out_printf(c, "ok %zu sources\n", n);
    } else if (strcmp(line, "enable") == 0) {
        cmd_enable(c, arg, 1);
    } else if (strcmp(line, "disable") == 0) {
        cmd_enable(c, arg, 0);
    } else if (strcmp(line, "interval") == 0) {
        cmd_interval(c, arg);
    } else if (strcmp(line, "dump") == 0 && !*arg) {
        cmd_dump(c);
    } else if (strcmp(line, "flush") == 0 && !*arg) {
        if (c->ctl->r && oasis_reporter_flush(c->ctl->r) == 0)
            out_printf(c, "ok\n");
        else
            out_printf(c, "error no reporter is running\n");
    } else if (strcmp(line, "quit") == 0 && !*arg) {
        out_printf(c, "ok bye\n");
        c->bye = 1;
    } else if (!*line) {
        out_printf(c, "error empty command (try help)\n");
    } else {
        out_printf(c, "error unknown command '%.64s' (try help)\n", line);
    }
}

/* ---- the connection ---------------------------------------------------------------- */

static void on_read(oasis_flow *flow, int err, const uint8_t *data, size_t len, void *ud)
{
    cconn *c = ud;
    (void)flow;
    if (c->dead)
        return;
    c->reading = 0;
    if (err) {
        conn_close(c);
        return;
    }
    size_t room = sizeof c->in - c->in_len;
    size_t take = len < room ? len : room;
    memcpy(c->in + c->in_len, data, take);
    c->in_len += take;
    if (take < len && !memchr(c->in, '\n', c->in_len)) {
        c->in_len = sizeof c->in; /* conn_process says it is too long */
    } else if (take < len) {
        /* More than one line's room arrived at once: the bytes that did not
         * fit would be lost, and a control client waits for its answers. */
        oasis_lp_buf_reset(&c->out);
        out_printf(c, "error send one command at a time\n");
        c->bye = 1;
        flush_out(c);
        if (c->failed)
            conn_abort(c);
        return;
    }
    conn_process(c);
}

static void conn_process(cconn *c)
{
    if (c->writing || c->closing || c->reading)
        return;
    char *nl = memchr(c->in, '\n', c->in_len);
    if (!nl) {
        if (c->in_len > LINE_MAX_BYTES) {
            oasis_lp_buf_reset(&c->out);
            out_printf(c, "error line too long\n");
            c->bye = 1;
            flush_out(c);
            if (c->failed)
                conn_abort(c);
            return;
        }
        c->reading = 1;
        if (oasis_tcp_read(c->flow, on_read, c) != 0) {
            c->reading = 0;
            conn_close(c);
        }
        return;
    }
    size_t n = (size_t)(nl - c->in);
    char line[LINE_MAX_BYTES + 2];
    memcpy(line, c->in, n);
    line[n] = '\0';
    if (n && line[n - 1] == '\r')
        line[n - 1] = '\0';
    memmove(c->in, nl + 1, c->in_len - n - 1);
    c->in_len -= n + 1;
    oasis_lp_buf_reset(&c->out);
    if (n > LINE_MAX_BYTES) {
        out_printf(c, "error line too long\n");
        c->bye = 1;
    } else {
        run_command(c, line);
    }
    flush_out(c);
    if (c->failed)
        conn_abort(c);
}

/* At max_conns the connection that has waited longest for a command makes
 * room (one whose answer the client leaves untaken, or that is closing,
 * only when none waits), as the Prometheus server does: else max_conns
 * silent clients lock the operator out for as long as they like. */
static int older(const cconn *c, const cconn *than)
{
    if (!than)
        return 1;
    int stuck = c->writing || c->closing, than_stuck = than->writing || than->closing;
    if (stuck != than_stuck)
        return !stuck;
    return c->since < than->since;
}

static void make_room(oasis_metrics_control *ctl)
{
    cconn *victim = NULL;
    for (cconn *c = ctl->conns; c; c = c->next)
        if (older(c, victim))
            victim = c;
    if (victim)
        conn_abort(victim);
}

/* Resets the connections that have waited cfg.idle_timeout_ns (`since`),
 * then sleeps until the next one would have. */
static void idle_fn(oasis_stack *s, oasis_timer *t)
{
    oasis_metrics_control *ctl = oasis_container_of(t, oasis_metrics_control, idle);
    uint64_t now = oasis_now(s), limit = ctl->cfg.idle_timeout_ns, first = UINT64_MAX;
    for (cconn *c = ctl->conns, *next; c; c = next) {
        next = c->next;
        if (now - c->since >= limit)
            conn_abort(c);
        else if (c->since < first)
            first = c->since;
    }
    if (first != UINT64_MAX)
        oasis_timer_start(s, t, oasis_deadline(first, limit));
}

static void on_accept(oasis_stack *s, oasis_flow *flow, void *ud)
{
    oasis_metrics_control *ctl = ud;
    uint32_t la;
    uint16_t lp;
    oasis_tcp_src4(flow, &la, &lp);
    if (la == ctl->cfg.addr && ctl->nconns >= ctl->cfg.max_conns)
        make_room(ctl);
    cconn *c = ctl->nconns < ctl->cfg.max_conns && la == ctl->cfg.addr
                   ? oasis_calloc(s, 1, sizeof *c)
                   : NULL;
    /* The connection is the library's: the application's walk must not
     * hand it out to be closed or released (tcp.h). */
    if (!c || oasis_tcp_set_lib_owned(flow) != 0) {
        oasis_free(s, c);
        oasis_tcp_release(flow);
        return;
    }
    c->ctl = ctl;
    c->flow = flow;
    c->since = oasis_now(s);
    oasis_lp_buf_init(&c->out, OUT_MAX, s->alloc, s->alloc_ud);
    c->next = ctl->conns;
    if (ctl->conns)
        ctl->conns->prev = c;
    ctl->conns = c;
    ctl->nconns++;
    if (ctl->cfg.idle_timeout_ns && !oasis_timer_active(&ctl->idle))
        oasis_timer_start(s, &ctl->idle, oasis_deadline(c->since, ctl->cfg.idle_timeout_ns));
    conn_process(c);
}

void oasis_control_config_init(oasis_control_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->max_conns = 4;
    cfg->idle_timeout_ns = 300 * OASIS_NS_PER_SEC;
}

int oasis_metrics_control_create(oasis_stack *s, oasis_metrics *m, oasis_reporter *r,
                                 const oasis_control_config *cfg, oasis_metrics_control **out)
{
    if (!s || !m || !cfg || !out || cfg->port == 0 || cfg->max_conns == 0 || cfg->addr == 0 ||
        cfg->addr != oasis_stack_addr(s))
        return OASIS_EINVAL;
    *out = NULL;
    oasis_metrics_control *ctl = oasis_calloc(s, 1, sizeof *ctl);
    if (!ctl)
        return OASIS_ENOMEM;
    ctl->s = s;
    ctl->m = m;
    ctl->r = r;
    ctl->cfg = *cfg;
    oasis_timer_init(&ctl->idle, idle_fn);
    int err = oasis_tcp_listen(s, cfg->port, NULL, on_accept, ctl);
    if (err) {
        oasis_free(s, ctl);
        return err;
    }
    ctl->listening = 1;
    oasis_stack_client_add(s);
    *out = ctl;
    return 0;
}

void oasis_metrics_control_destroy(oasis_metrics_control *ctl)
{
    if (!ctl)
        return;
    if (ctl->listening)
        oasis_tcp_unlisten(ctl->s, ctl->cfg.port);
    oasis_timer_stop(ctl->s, &ctl->idle);
    while (ctl->conns)
        conn_abort(ctl->conns);
    oasis_stack *s = ctl->s;
    oasis_free(s, ctl);
    oasis_stack_client_del(s);
}
