/* The in-memory wire: a switch inside one process. Frames are copied into a
 * FIFO with their delivery time and handed to the destination stack by
 * oasis_wire_step(), never from inside the sender's call, so a stack is never
 * re-entered while it is sending. */
#define _POSIX_C_SOURCE 200809L
#include "oasis/wire.h"

#include "oasis/error.h"
#include "oasis/stack.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct wire_frame {
    struct wire_frame *next;
    uint64_t due;
    uint32_t src_port;
    uint32_t len, cap;
    uint8_t data[];
} wire_frame;

typedef struct wire_port {
    oasis_link link; /* first: the link handed to the stack */
    oasis_wire *wire;
    oasis_stack *stack;
    uint32_t index;
} wire_port;

/* Frames of up to this size are recycled instead of freed. */
#define WIRE_FRAME_CAP (65535 + 14)
#define WIRE_FREELIST_MAX 256

struct oasis_wire {
    oasis_clock *clock;
    oasis_wire_config cfg;
    wire_port **ports;
    uint32_t nports;
    wire_frame *head, *tail;
    uint32_t queued;
    wire_frame *freelist;
    uint32_t nfree;
    uint64_t drops;
};

void oasis_wire_config_init(oasis_wire_config *cfg)
{
    cfg->mtu = 1500;
    cfg->delay_ns = 0;
    cfg->queue_frames = 65536;
}

int oasis_wire_create(oasis_clock *clock, const oasis_wire_config *cfg, oasis_wire **out)
{
    if (!clock || !out)
        return OASIS_EINVAL;
    oasis_wire *w = calloc(1, sizeof *w);
    if (!w)
        return OASIS_ENOMEM;
    w->clock = clock;
    if (cfg)
        w->cfg = *cfg;
    else
        oasis_wire_config_init(&w->cfg);
    if (w->cfg.mtu < 68 || w->cfg.mtu > 65535 || w->cfg.queue_frames == 0) {
        free(w);
        return OASIS_EINVAL;
    }
    *out = w;
    return OASIS_OK;
}

static void frame_release(oasis_wire *w, wire_frame *f)
{
    if (f->cap == WIRE_FRAME_CAP && w->nfree < WIRE_FREELIST_MAX) {
        f->next = w->freelist;
        w->freelist = f;
        w->nfree++;
    } else {
        free(f);
    }
}

static wire_frame *frame_get(oasis_wire *w, size_t len)
{
    if (len <= WIRE_FRAME_CAP && w->freelist) {
        wire_frame *f = w->freelist;
        w->freelist = f->next;
        w->nfree--;
        return f;
    }
    size_t cap = len <= WIRE_FRAME_CAP ? WIRE_FRAME_CAP : len;
    wire_frame *f = malloc(sizeof *f + cap);
    if (f)
        f->cap = (uint32_t)cap;
    return f;
}

void oasis_wire_destroy(oasis_wire *w)
{
    if (!w)
        return;
    while (w->head) {
        wire_frame *f = w->head;
        w->head = f->next;
        free(f);
    }
    while (w->freelist) {
        wire_frame *f = w->freelist;
        w->freelist = f->next;
        free(f);
    }
    for (uint32_t i = 0; i < w->nports; i++)
        free(w->ports[i]);
    free(w->ports);
    free(w);
}

static int port_send(oasis_link *link, const uint8_t *frame, size_t len)
{
    wire_port *p = (wire_port *)link;
    oasis_wire *w = p->wire;

    if (len < 14 || len > (size_t)w->cfg.mtu + 14)
        return OASIS_EMSGSIZE;
    if (w->queued >= w->cfg.queue_frames) {
        w->drops++;
        return OASIS_OK; /* a full wire loses frames; it is not the sender's error */
    }
    wire_frame *f = frame_get(w, len);
    if (!f)
        return OASIS_ENOMEM;
    f->next = NULL;
    f->due = oasis_clock_now(w->clock) + w->cfg.delay_ns;
    f->src_port = p->index;
    f->len = (uint32_t)len;
    memcpy(f->data, frame, len);
    if (w->tail)
        w->tail->next = f;
    else
        w->head = f;
    w->tail = f;
    w->queued++;
    return OASIS_OK;
}

oasis_link *oasis_wire_attach(oasis_wire *w, oasis_stack *s)
{
    wire_port **ports = realloc(w->ports, (w->nports + 1) * sizeof *ports);
    if (!ports)
        return NULL;
    w->ports = ports;
    wire_port *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->link.send = port_send;
    p->link.mtu = w->cfg.mtu;
    p->link.data = p;
    p->wire = w;
    p->stack = s;
    p->index = w->nports;
    w->ports[w->nports++] = p;
    oasis_stack_set_link(s, &p->link);
    return &p->link;
}

/* Switch semantics: unicast goes to the port whose stack owns the MAC,
 * broadcast/multicast and unknown unicast go to every other port. */
static void deliver(oasis_wire *w, const wire_frame *f)
{
    const uint8_t *dst = f->data;
    if (!(dst[0] & 1)) {
        for (uint32_t i = 0; i < w->nports; i++) {
            wire_port *p = w->ports[i];
            if (i != f->src_port && memcmp(oasis_stack_mac(p->stack), dst, 6) == 0) {
                oasis_stack_input(p->stack, f->data, f->len);
                return;
            }
        }
    }
    for (uint32_t i = 0; i < w->nports; i++)
        if (i != f->src_port)
            oasis_stack_input(w->ports[i]->stack, f->data, f->len);
}

size_t oasis_wire_step(oasis_wire *w)
{
    size_t total = 0, n;
    do {
        n = 0;
        uint64_t now = oasis_clock_now(w->clock);
        while (w->head && w->head->due <= now) {
            wire_frame *f = w->head;
            w->head = f->next;
            if (!w->head)
                w->tail = NULL;
            w->queued--;
            deliver(w, f);
            frame_release(w, f);
            n++;
        }
        for (uint32_t i = 0; i < w->nports; i++)
            n += (size_t)oasis_stack_poll(w->ports[i]->stack);
        total += n;
    } while (n);
    return total;
}

uint64_t oasis_wire_next_deadline(const oasis_wire *w)
{
    uint64_t next = w->head ? w->head->due : UINT64_MAX;
    for (uint32_t i = 0; i < w->nports; i++) {
        uint64_t d = oasis_stack_next_deadline(w->ports[i]->stack);
        if (d < next)
            next = d;
    }
    return next;
}

static void sleep_until(const oasis_clock *c, uint64_t t)
{
    uint64_t now = oasis_clock_now(c);
    if (t <= now)
        return;
    uint64_t d = t - now;
    struct timespec ts = {(time_t)(d / OASIS_NS_PER_SEC), (long)(d % OASIS_NS_PER_SEC)};
    nanosleep(&ts, NULL);
}

int oasis_wire_run(oasis_wire *w, int (*done)(void *ud), void *ud, uint64_t timeout_ns)
{
    uint64_t start = oasis_clock_now(w->clock);
    uint64_t end = timeout_ns > UINT64_MAX - start ? UINT64_MAX : start + timeout_ns;

    for (;;) {
        oasis_wire_step(w);
        if (done && done(ud))
            return OASIS_OK;
        uint64_t next = oasis_wire_next_deadline(w);
        if (next == UINT64_MAX)
            return OASIS_EAGAIN;
        if (oasis_clock_now(w->clock) >= end)
            return OASIS_ETIMEDOUT;
        if (next > end)
            next = end;
        if (oasis_clock_is_virtual(w->clock))
            oasis_clock_set(w->clock, next);
        else
            sleep_until(w->clock, next);
    }
}

uint64_t oasis_wire_drops(const oasis_wire *w) { return w->drops; }
