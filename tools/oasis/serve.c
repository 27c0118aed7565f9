/* `oasis serve`: echo, discard, hash and HTTP servers on a TAP device
 * (echo and discard over UDP too: serve_udp.c).
 *
 * Every connection is a `conn`. Its flow is released exactly once: in the
 * close callback of oasis_tcp_close() (conn_free runs there too) or by
 * oasis_tcp_release() (conn_free right after). Callbacks that arrive while a
 * conn is being torn down do nothing.
 *
 * Limits. --max-conns is shared by every service. At the limit the
 * listeners are paused (oasis_tcp_accept_pause): new connections wait in
 * the backlog (then SYN cookies) instead of being accepted and reset, and
 * while some wait, HTTP responses say "Connection: close" so that slots
 * turn over in arrival order. A sweep (timerfd, a few times per timeout)
 * closes connections idle longer than their service's idle timeout and
 * HTTP requests whose head is not complete by its deadline (slowloris),
 * and, when others wait, the longest-idle connections first. */
#include "cli.h"
#include "http.h"
#include "report.h"
#include "serve_udp.h"

#include "core/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define CHUNK (256 * 1024)
/* A connection whose close has not completed this long after we sent our
 * FIN (the peer never closes) gives its slot back with a reset. */
#define CLOSE_LINGER_NS (5 * OASIS_NS_PER_SEC)
/* When others wait for a slot, connections idle at least this long (between
 * requests, or silent) are closed to make room, longest-idle first. */
#define EVICT_MIN_IDLE_NS (2 * OASIS_NS_PER_SEC)
#define NSVC 4
/* Connections idle this long give their (empty) stack buffers back. */
#define TRIM_IDLE_NS (OASIS_NS_PER_SEC)

typedef enum { SVC_ECHO, SVC_DISCARD, SVC_HASH, SVC_HTTP } svc_kind;
static const char *const svc_names[] = {"echo", "discard", "hash", "http"};

typedef struct server server;
typedef struct conn conn;

/* One body write in flight: which conn and which buffer. */
typedef struct wslot {
    conn *c;
    uint8_t *data;
    size_t cap; /* data's size */
} wslot;

struct conn {
    server *srv;
    oasis_flow *flow;
    svc_kind kind;
    conn *prev, *next;
    char peer[OASIS_IPADDR_STRLEN + 8]; /* [v6]:port */
    int closing, aborting;
    uint64_t last_active; /* last byte read or write completed (ns) */
    uint64_t close_at;    /* when closing started */
    uint64_t head_deadline; /* http: complete request head due (0: none) */
    int in_response;      /* http: a response (or its 408) is being sent */
    uint64_t acked;       /* http: bytes the peer had acknowledged at the last sweep */
    uint64_t trimmed_at;  /* last_active when the flow's buffers were given back */

    uint8_t *buf; /* echo: the chunk being echoed */
    size_t cap;

    oasis_sha256 sha; /* discard and hash */
    uint64_t bytes;
    char reply[128];

    uint64_t bytes_in; /* http: bytes read from the peer, all requests */
    char *req; /* http: request bytes not handled yet */
    size_t req_len, req_cap;
    uint64_t skip;      /* request body bytes still to drop */
    int dechunk;        /* a chunked request body is being dropped */
    http_chunked chunk;
    int keep_alive, minor;
    int body_fd;        /* -1: the pattern */
    uint64_t body_off, body_left;
    char head[1024];    /* response head (and small bodies), sent first */
    size_t head_len;
    wslot slot[2];
    unsigned next_fill, inflight;
};

typedef struct serve_opts {
    uint16_t echo_port, discard_port, hash_port, http_port;
    const char *root;
    int root_fd;         /* --root, opened O_PATH: files resolve beneath it */
    int follow_symlinks; /* let symlinks leave the root (nginx's default) */
    oasis_keepalive ka;
    int ka_given;
    unsigned max_conns, backlog;
    uint64_t idle_ns[NSVC]; /* per service; 0: never */
    uint64_t header_ns;     /* complete request head within this (0: never) */
    uint64_t defer_ns;      /* HTTP flows come once they said something (0: at once) */
    int quiet, no_hash;
    report_opts rep; /* --influx and friends (report.c) */
} serve_opts;

struct server {
    net *n;
    serve_opts o;
    pattern pat;
    conn *conns;
    unsigned nconns, peak; /* peak: most conns since the heap was last trimmed */
    unsigned nclosing;     /* conns closing: they no longer count towards the limit */
    int shutting_down, paused;
    int tfd;               /* sweep timer */
    serve_udp udp;         /* echo and discard over UDP */
};

static void http_start(conn *c);
static void http_try_request(conn *c);
static void http_read(conn *c);

/* ---- connection lifetime ------------------------------------------------ */

static uint64_t now_ns(const server *srv) { return oasis_stack_now(srv->n->stack); }

static uint16_t svc_port(const server *srv, int k)
{
    const uint16_t ports[NSVC] = {srv->o.echo_port, srv->o.discard_port, srv->o.hash_port,
                                  srv->o.http_port};
    return ports[k];
}

/* At the limit every listener pauses: new connections wait in the backlog. */
static void set_paused(server *srv, int on)
{
    if (srv->paused == on || srv->shutting_down)
        return;
    srv->paused = on;
    for (int k = 0; k < NSVC; k++)
        if (svc_port(srv, k))
            on ? oasis_tcp_accept_pause(srv->n->stack, svc_port(srv, k))
               : oasis_tcp_accept_resume(srv->n->stack, svc_port(srv, k));
}

/* Established connections waiting in the listeners' backlogs. */
static unsigned waiting(const server *srv)
{
    unsigned n = 0;
    for (int k = 0; k < NSVC; k++)
        if (svc_port(srv, k))
            n += oasis_tcp_accept_waiting(srv->n->stack, svc_port(srv, k));
    return n;
}

/* Conns that count towards --max-conns: a closing one has done its work
 * (and is reset after CLOSE_LINGER_NS if the peer never closes). */
static unsigned active(const server *srv) { return srv->nconns - srv->nclosing; }

static void conn_free(conn *c)
{
    server *srv = c->srv;
    if (c->closing)
        srv->nclosing--;
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->nconns--;
    if (c->body_fd >= 0)
        close(c->body_fd);
    free(c->slot[0].data);
    free(c->slot[1].data);
    free(c->buf);
    free(c->req);
    free(c);
    if (active(srv) < srv->o.max_conns)
        set_paused(srv, 0);
}

/* Callbacks return at once when this says the conn is going away. */
static int conn_gone(const conn *c) { return c->aborting || c->srv->shutting_down; }

static void conn_abort(conn *c)
{
    c->aborting = 1;
    oasis_tcp_release(c->flow); /* pending callbacks run now and see `aborting` */
    conn_free(c);
}

static void on_closed(oasis_flow *flow, int err, void *ud)
{
    conn *c = ud;
    (void)err;
    if (c->aborting)
        return; /* called from conn_abort's release, which frees c after it */
    oasis_tcp_release(flow);
    if (!c->srv->shutting_down)
        conn_free(c);
}

static void conn_close(conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    c->close_at = now_ns(c->srv);
    c->srv->nclosing++;
    if (active(c->srv) < c->srv->o.max_conns)
        set_paused(c->srv, 0);
    if (oasis_tcp_close(c->flow, on_closed, c) != 0)
        conn_abort(c);
}

static void log_line(const conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void log_line(const conn *c, const char *fmt, ...)
{
    if (c->srv->o.quiet)
        return;
    va_list ap;
    printf("%s peer=%s ", svc_names[c->kind], c->peer);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* ---- echo --------------------------------------------------------------- */

static void echo_read(conn *c);

static void on_echo_written(oasis_flow *flow, int err, void *ud)
{
    conn *c = ud;
    (void)flow;
    if (conn_gone(c))
        return;
    c->last_active = now_ns(c->srv);
    /* The copy is not needed between messages: idle echo connections hold
     * no buffer. */
    free(c->buf);
    c->buf = NULL;
    c->cap = 0;
    if (err)
        conn_close(c);
    else
        echo_read(c);
}

static void on_echo_read(oasis_flow *flow, int err, const uint8_t *data, size_t len, void *ud)
{
    conn *c = ud;
    if (conn_gone(c) || c->closing)
        return;
    if (err) {
        conn_close(c);
        return;
    }
    if (len > c->cap) {
        uint8_t *b = realloc(c->buf, len);
        if (!b) {
            conn_abort(c);
            return;
        }
        c->buf = b;
        c->cap = len;
    }
    memcpy(c->buf, data, len);
    c->bytes += len;
    c->last_active = now_ns(c->srv);
    if (oasis_tcp_write(flow, c->buf, len, on_echo_written, c) != 0)
        conn_close(c);
}

static void echo_read(conn *c)
{
    if (oasis_tcp_read(c->flow, on_echo_read, c) != 0)
        conn_close(c);
}

/* ---- discard and hash --------------------------------------------------- */

static void sink_read(conn *c);

static void on_reply_written(oasis_flow *flow, int err, void *ud)
{
    (void)flow;
    (void)err;
    (void)ud; /* close, called right after the write, reports the outcome */
}

static void sink_finish(conn *c)
{
    uint8_t d[32];
    char hex[65];
    oasis_sha256_final(&c->sha, d);
    oasis_sha256_hex(d, hex);
    int ferr = oasis_tcp_flow_error(c->flow);
    log_line(c, "bytes=%llu sha256=%s%s%s", (unsigned long long)c->bytes,
             c->srv->o.no_hash && c->kind == SVC_DISCARD ? "-" : hex, ferr ? " error=" : "",
             ferr ? oasis_err_name(ferr) : "");
    if (c->kind == SVC_HASH && !ferr) {
        /* Data sent after the peer's FIN: the half-close test reads it. */
        int n = snprintf(c->reply, sizeof c->reply, "%s %llu\n", hex, (unsigned long long)c->bytes);
        if (oasis_tcp_write(c->flow, c->reply, (size_t)n, on_reply_written, c) != 0) {
            conn_close(c);
            return;
        }
    }
    conn_close(c);
}

static void on_sink_read(oasis_flow *flow, int err, const uint8_t *data, size_t len, void *ud)
{
    conn *c = ud;
    (void)flow;
    if (conn_gone(c) || c->closing)
        return;
    if (err) {
        sink_finish(c);
        return;
    }
    if (!(c->srv->o.no_hash && c->kind == SVC_DISCARD))
        oasis_sha256_update(&c->sha, data, len);
    c->bytes += len;
    c->last_active = now_ns(c->srv);
    sink_read(c);
}

static void sink_read(conn *c)
{
    if (oasis_tcp_read(c->flow, on_sink_read, c) != 0)
        conn_close(c);
}

/* ---- HTTP: responses ---------------------------------------------------- */

static const char *status_text(int st)
{
    switch (st) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

/* Buffers of a connection between requests go back to the allocator: an
 * idle keep-alive connection holds only its conn. */
static void release_buffers(conn *c)
{
    free(c->slot[0].data);
    free(c->slot[1].data);
    c->slot[0].data = c->slot[1].data = NULL;
    c->next_fill = 0;
    if (c->req_len == 0) {
        free(c->req);
        c->req = NULL;
        c->req_cap = 0;
    }
}

static void response_done(conn *c)
{
    if (c->body_fd >= 0) {
        close(c->body_fd);
        c->body_fd = -1;
    }
    c->in_response = 0;
    release_buffers(c); /* also before a close: it may wait seconds for the peer's FIN */
    if (c->keep_alive) {
        c->head_deadline = 0; /* the next request's clock starts with its first byte */
        http_try_request(c);
    } else {
        conn_close(c);
    }
}

static void http_pump(conn *c);

static void on_body_written(oasis_flow *flow, int err, void *ud)
{
    wslot *w = ud;
    conn *c = w->c;
    (void)flow;
    if (conn_gone(c))
        return;
    c->inflight--;
    c->last_active = now_ns(c->srv);
    if (err) {
        conn_close(c);
        return;
    }
    if (c->closing)
        return;
    if (c->body_left > 0)
        http_pump(c);
    else if (c->inflight == 0)
        response_done(c);
}

/* Fills buf with the head (first chunk only) and up to cap body bytes. */
static long fill_chunk(conn *c, uint8_t *buf, size_t cap)
{
    size_t n = c->head_len;
    memcpy(buf, c->head, n);
    c->head_len = 0;
    size_t body = c->body_left < cap - n ? (size_t)c->body_left : cap - n;
    if (body && c->body_fd >= 0) {
        ssize_t r = pread(c->body_fd, buf + n, body, (off_t)c->body_off);
        if (r != (ssize_t)body)
            return -1; /* file shrank under us: the promised length is a lie now */
    } else if (body) {
        pattern_fill(&c->srv->pat, c->body_off, buf + n, body);
    }
    c->body_off += body;
    c->body_left -= body;
    return (long)(n + body);
}

/* Keeps two chunks queued: while the stack sends one we fill the other.
 * A chunk is no larger than what is left to send, so small responses cost
 * small allocations. */
static void http_pump(conn *c)
{
    while (c->inflight < 2 && (c->body_left > 0 || c->head_len > 0)) {
        wslot *w = &c->slot[c->next_fill];
        if (!w->data) {
            /* What is left only shrinks, so the first fill of a slot is
             * its largest: a 100-byte answer costs a few hundred bytes,
             * not 256 KiB (500 `ab` clients had the heap at 75 MB). */
            uint64_t left = c->head_len + c->body_left;
            w->cap = left < CHUNK ? (size_t)left : CHUNK;
            if (!(w->data = malloc(w->cap))) {
                conn_abort(c);
                return;
            }
        }
        w->c = c;
        long n = fill_chunk(c, w->data, w->cap);
        if (n < 0) {
            conn_abort(c);
            return;
        }
        c->next_fill ^= 1;
        c->inflight++;
        if (oasis_tcp_write(c->flow, w->data, (size_t)n, on_body_written, w) != 0) {
            c->inflight--;
            conn_close(c);
            return;
        }
    }
}

/* Response head. `extra` holds more header lines (each ending in CRLF). */
static void set_head(conn *c, int status, const char *ctype, uint64_t len, const char *extra)
{
    server *srv = c->srv;
    if (status >= 400 && status != 404 && status != 405 && status != 416)
        c->keep_alive = 0;
    /* Others wait for a slot: this connection makes room after its answer
     * (the client learns it before sending another request, so nothing is
     * lost to a race). */
    if (c->keep_alive && active(srv) >= srv->o.max_conns && waiting(srv) > 0)
        c->keep_alive = 0;
    /* HTTP/1.0 keep-alive is opt-in and must be confirmed (RFC 9112 9.3 and
     * appendix C.2.2); HTTP/1.1 persists unless told otherwise. */
    const char *conn_hdr = !c->keep_alive ? "Connection: close\r\n"
                           : c->minor == 0 ? "Connection: keep-alive\r\n"
                                           : "";
    c->head_len = (size_t)snprintf(c->head, sizeof c->head,
                                   "HTTP/1.1 %d %s\r\nServer: oasis/0.1\r\nContent-Type: %s\r\n"
                                   "Content-Length: %llu\r\n%s%s%s\r\n",
                                   status, status_text(status), ctype, (unsigned long long)len,
                                   status == 405 ? "Allow: GET, HEAD\r\n" : "",
                                   extra ? extra : "", conn_hdr);
    c->body_off = 0;
    c->body_left = 0;
    c->in_response = 1;
}

/* Sends [off, off + len) of the body source (file or pattern). */
static void respond(conn *c, int status, const char *ctype, uint64_t off, uint64_t len,
                    const char *extra, int head_only)
{
    set_head(c, status, ctype, len, extra);
    c->body_off = off;
    c->body_left = head_only ? 0 : len;
    http_pump(c);
}

/* Small bodies (errors, the index page) travel in the head's buffer. */
static void respond_text_x(conn *c, int status, const char *text, const char *extra, int head_only)
{
    size_t tl = strlen(text);
    set_head(c, status, "text/plain; charset=utf-8", tl, extra);
    if (!head_only && c->head_len + tl <= sizeof c->head) {
        memcpy(c->head + c->head_len, text, tl);
        c->head_len += tl;
    }
    http_pump(c);
}

static void respond_text(conn *c, int status, const char *text, int head_only)
{
    respond_text_x(c, status, text, NULL, head_only);
}

/* A body of `size` bytes, or the part the Range header asks for (RFC 9110
 * 14: 206 with Content-Range, 416 when no byte of it exists). */
static void respond_body(conn *c, const http_request *r, const char *ctype, uint64_t size,
                         int head_only)
{
    char extra[128];
    uint64_t off = 0, n = size;
    int rr = strcmp(r->method, "GET") == 0 ? http_resolve_range(r, size, &off, &n) : 1;
    if (rr < 0) {
        snprintf(extra, sizeof extra, "Accept-Ranges: bytes\r\nContent-Range: bytes */%llu\r\n",
                 (unsigned long long)size);
        log_line(c, "%s %s 416", r->method, r->path);
        if (c->body_fd >= 0) {
            close(c->body_fd);
            c->body_fd = -1;
        }
        respond_text_x(c, 416, "range not satisfiable\n", extra, head_only);
        return;
    }
    if (rr == 0) {
        snprintf(extra, sizeof extra, "Accept-Ranges: bytes\r\nContent-Range: bytes %llu-%llu/%llu\r\n",
                 (unsigned long long)off, (unsigned long long)(off + n - 1),
                 (unsigned long long)size);
        log_line(c, "%s %s 206 %llu-%llu/%llu", r->method, r->path, (unsigned long long)off,
                 (unsigned long long)(off + n - 1), (unsigned long long)size);
        respond(c, 206, ctype, off, n, extra, head_only);
        return;
    }
    log_line(c, "%s %s 200 %llu", r->method, r->path, (unsigned long long)size);
    respond(c, 200, ctype, 0, size, "Accept-Ranges: bytes\r\n", head_only);
}

static const char index_text[] =
    "Oasis HTTP server\n"
    "  /bytes/N   N bytes of the test pattern (N may end in K, M, G: binary units);\n"
    "             byte i is (i mod 251 + i div 65536) mod 256\n"
    "  /PATH      a file under the served directory (--root); a directory's\n"
    "             index.html\n";

/* ---- HTTP: routing ------------------------------------------------------ */

static const char *content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot && (strcmp(dot, ".html") == 0 || strcmp(dot, ".htm") == 0))
        return "text/html; charset=utf-8";
    if (dot && strcmp(dot, ".txt") == 0)
        return "text/plain; charset=utf-8";
    return "application/octet-stream";
}

static int path_safe(const char *p)
{
    /* No ".." segment may climb out of the root. */
    for (const char *s = p; (s = strstr(s, "..")) != NULL; s += 2)
        if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
            return 0;
    return 1;
}

/* openat2 (Linux 5.6), which glibc 2.36 does not wrap. RESOLVE_BENEATH
 * fails with EXDEV any resolution that would leave dirfd: "..", absolute
 * paths and symlinks (absolute, or relative ones climbing out) alike, in
 * the kernel, so no rename racing the check can win. */
static int open_beneath(const serve_opts *o, const char *rel)
{
    struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
                           .resolve = o->follow_symlinks ? 0 : RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
    return (int)syscall(SYS_openat2, o->root_fd, rel, &how, sizeof how);
}

static int open_status(void)
{
    return errno == EACCES || errno == EXDEV || errno == ELOOP ? -403 : -404;
}

/* Opens a regular file under the root: a directory's index.html when the
 * path ends in '/'. Returns an fd, -status, or -301 for a directory named
 * without its final '/' (relative links in its index resolve against the
 * directory only with it). A symlink leading out of the root is 403
 * unless --follow-symlinks (nginx's disable_symlinks answers 403 too). */
static int open_file(const server *srv, const char *path, struct stat *st)
{
    char rel[4096];
    if (!srv->o.root || !path_safe(path))
        return -404;
    /* The path is absolute in the URL's space, relative to the root here
     * ("//x" is the root's x, as it was when the root was prefixed). */
    const char *r = path + strspn(path, "/");
    int n = snprintf(rel, sizeof rel, "%s", *r ? r : ".");
    if (n < 0 || (size_t)n >= sizeof rel - 12)
        return -414;
    /* O_NONBLOCK: opening a FIFO (or a device) must not block the one
     * thread every connection shares; it changes nothing for the regular
     * files served (the S_ISREG check below turns the others away). */
    int fd = open_beneath(&srv->o, rel);
    if (fd < 0)
        return open_status();
    if (fstat(fd, st) == 0 && S_ISDIR(st->st_mode)) {
        close(fd);
        if (path[strlen(path) - 1] != '/')
            return -301;
        strcat(rel, "/index.html");
        fd = open_beneath(&srv->o, rel);
        if (fd < 0)
            return open_status();
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -404;
    }
    return fd;
}

/* 301 to path + "/": the Location is absolute-path, resolved by the
 * client against the request's URI (RFC 9110 10.2.2). The path goes out
 * percent-encoded where it must be. */
static void redirect_dir(conn *c, const http_request *r, int head_only)
{
    char extra[sizeof r->path * 3 + 32];
    size_t o = (size_t)snprintf(extra, sizeof extra, "Location: ");
    static const char hex[] = "0123456789ABCDEF";
    for (const char *p = r->path; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch <= 0x20 || ch >= 0x7f || ch == '%' || ch == '?' || ch == '#') {
            extra[o++] = '%';
            extra[o++] = hex[ch >> 4];
            extra[o++] = hex[ch & 15];
        } else {
            extra[o++] = (char)ch;
        }
    }
    snprintf(extra + o, sizeof extra - o, "/\r\n");
    log_line(c, "%s %s 301", r->method, r->path);
    respond_text_x(c, 301, "moved: add a final /\n", extra, head_only);
}

static void route(conn *c, const http_request *r)
{
    int head_only = strcmp(r->method, "HEAD") == 0;
    uint64_t n;
    struct stat st;

    if (!head_only && strcmp(r->method, "GET") != 0) {
        respond_text(c, 405, "method not allowed\n", 0);
        return;
    }
    if (strncmp(r->path, "/bytes/", 7) == 0) {
        if (parse_size(r->path + 7, &n) != 0 || n > (1ull << 50)) {
            respond_text(c, 400, "bad size\n", head_only);
            return;
        }
        respond_body(c, r, "application/octet-stream", n, head_only);
        return;
    }
    int fd = open_file(c->srv, r->path, &st);
    if (fd == -301) {
        redirect_dir(c, r, head_only);
        return;
    }
    if (fd < 0 && strcmp(r->path, "/") == 0) {
        respond_text(c, 200, index_text, head_only); /* no root, or no index.html in it */
        return;
    }
    if (fd < 0) {
        log_line(c, "%s %s %d", r->method, r->path, -fd);
        respond_text(c, -fd, -fd == 404 ? "not found\n" : "refused\n", head_only);
        return;
    }
    c->body_fd = fd;
    respond_body(c, r, content_type(r->path[strlen(r->path) - 1] == '/' ? "index.html" : r->path),
                 (uint64_t)st.st_size, head_only);
}

/* ---- HTTP: requests ----------------------------------------------------- */

static void drop_front(conn *c, size_t n)
{
    memmove(c->req, c->req + n, c->req_len - n);
    c->req_len -= n;
}

static void drop_bytes(void *ud, const uint8_t *data, size_t len)
{
    (void)ud;
    (void)data;
    (void)len;
}

/* Feeds a chunked request body we do not want to the decoder: the bytes
 * it took (all of them unless the body ended), or -1 when the framing is
 * malformed: then nothing tells where the next request starts, so the
 * caller answers 400 and closes (no response is in flight: reads wait
 * while one is). */
static long drop_chunked(conn *c, const uint8_t *data, size_t len)
{
    long n = http_chunked_feed(&c->chunk, data, len, drop_bytes, NULL);
    if (n >= 0 && http_chunked_done(&c->chunk))
        c->dechunk = 0;
    return n;
}

static void bad_body(conn *c)
{
    log_line(c, "malformed chunked request body");
    c->dechunk = 0;
    c->keep_alive = 0;
    respond_text(c, 400, "malformed chunked body\n", 0);
}

static void on_http_read(oasis_flow *flow, int err, const uint8_t *data, size_t len, void *ud)
{
    conn *c = ud;
    (void)flow;
    if (conn_gone(c) || c->closing || c->in_response)
        return; /* in_response: the 408 of a late head is on its way */
    if (err) {
        conn_close(c); /* the client is done (EOF) or gone */
        return;
    }
    uint64_t now = now_ns(c->srv);
    c->last_active = now;
    c->bytes_in += len;
    if (c->skip) {
        size_t d = c->skip < len ? (size_t)c->skip : len;
        c->skip -= d;
        data += d;
        len -= d;
        if (len == 0) {
            http_read(c);
            return;
        }
    }
    if (c->dechunk) {
        long d = drop_chunked(c, data, len);
        if (d < 0) {
            bad_body(c);
            return;
        }
        data += d;
        len -= (size_t)d;
        if (len == 0) {
            http_read(c);
            return;
        }
    }
    /* One read may bring a head and more than a head's room behind it (the
     * body, the next requests): the buffer holds them for the moment (the
     * head is read and its body dropped at once) and shrinks back to
     * HTTP_MAX_HEAD on a later read. A head itself must end within
     * HTTP_MAX_HEAD (http_head_end), else 431. */
    size_t need = c->req_len + len, cap = need > HTTP_MAX_HEAD ? need : HTTP_MAX_HEAD;
    if (!c->req || cap != c->req_cap) {
        char *p = realloc(c->req, cap);
        if (!p) {
            conn_abort(c);
            return;
        }
        c->req = p;
        c->req_cap = cap;
    }
    /* A head's clock starts with its first byte (for the first request:
     * with the connection). Trickling bytes do not restart it. */
    if (c->req_len == 0 && c->head_deadline == 0 && c->srv->o.header_ns)
        c->head_deadline = now + c->srv->o.header_ns;
    memcpy(c->req + c->req_len, data, len);
    c->req_len += len;
    http_try_request(c);
}

static void http_read(conn *c)
{
    if (oasis_tcp_read(c->flow, on_http_read, c) != 0)
        conn_close(c);
}

static void http_try_request(conn *c)
{
    http_request r;
    if (c->req)
        drop_front(c, http_empty_lines(c->req, c->req_len));
    long end = c->req ? http_head_end(c->req, c->req_len) : 0;

    if (end == 0) {
        http_read(c);
        return;
    }
    if (end < 0) {
        c->keep_alive = 0;
        respond_text(c, 431, "request head too large\n", 0);
        return;
    }
    c->head_deadline = 0;
    int st = http_parse_request(c->req, (size_t)end, &r);
    drop_front(c, (size_t)end);
    if (st) {
        c->keep_alive = 0;
        c->minor = 1;
        respond_text(c, st, status_text(st), 0);
        return;
    }
    /* A body we do not want: drop it, here or as it arrives. */
    size_t d = r.content_length < c->req_len ? (size_t)r.content_length : c->req_len;
    drop_front(c, d);
    c->skip = r.content_length - d;
    if (r.chunked) {
        http_chunked_init(&c->chunk);
        c->dechunk = 1;
        long took = drop_chunked(c, (const uint8_t *)c->req, c->req_len);
        if (took < 0) {
            c->minor = r.minor;
            bad_body(c);
            return;
        }
        drop_front(c, (size_t)took);
    }
    c->keep_alive = r.keep_alive;
    c->minor = r.minor;
    route(c, &r);
}

static void http_start(conn *c)
{
    if (c->srv->o.header_ns)
        c->head_deadline = c->last_active + c->srv->o.header_ns;
    http_read(c);
}

/* ---- sweeping: timeouts and making room --------------------------------- */

/* A request head that missed its deadline gets 408 and the connection
 * closes (RFC 9110 15.5.9); a connection that sent nothing is just closed. */
static void head_timeout(conn *c)
{
    log_line(c, "request head timeout%s", c->bytes_in ? "" : " (nothing read)");
    c->head_deadline = 0;
    c->keep_alive = 0;
    c->minor = 1;
    if (c->req_len == 0) {
        conn_close(c);
        return;
    }
    respond_text(c, 408, "request head timeout\n", 0);
}

/* May this conn be closed to make room? HTTP: only between requests or in
 * a request head, never during a response. */
static int evictable(const conn *c)
{
    return !c->closing && !(c->kind == SVC_HTTP && (c->in_response || c->skip || c->dechunk));
}

static int by_last_active(const void *a, const void *b)
{
    const conn *x = *(conn *const *)a, *y = *(conn *const *)b;
    return x->last_active < y->last_active ? -1 : x->last_active > y->last_active;
}

/* Frees slots for connections waiting in the backlog: closes the
 * longest-idle connections first (idle for EVICT_MIN_IDLE_NS at least),
 * and resets connections whose close never completes. */
static void make_room(server *srv, uint64_t now, unsigned want)
{
    conn **v = malloc(srv->nconns * sizeof *v);
    unsigned n = 0;
    if (!v)
        return;
    for (conn *c = srv->conns; c; c = c->next)
        if (evictable(c) && now - c->last_active >= EVICT_MIN_IDLE_NS)
            v[n++] = c;
    qsort(v, n, sizeof *v, by_last_active);
    for (unsigned i = 0; i < n && i < want; i++) {
        /* HTTP: what the client had done, for whoever reads the log
         * (ab opens connections it never writes on once it has started
         * all its -n requests). */
        const char *what = "";
        if (v[i]->kind == SVC_HTTP)
            what = v[i]->req_len ? ", request head unfinished"
                   : v[i]->bytes_in ? ", between requests" : ", nothing read";
        log_line(v[i], "closed to make room (idle %.1f s%s)",
                 (double)(now - v[i]->last_active) / 1e9, what);
        if (v[i]->kind == SVC_HTTP && v[i]->req_len > 0)
            head_timeout(v[i]);
        else
            conn_close(v[i]);
    }
    free(v);
}

/* A response's progress is what the peer acknowledges. A reader that
 * stops (a window kept at zero, or a client gone without a word) holds its
 * connection and buffers for the idle timeout only, as nginx's
 * send_timeout; else TCP would keep it for its whole retry budget, or for
 * ever while zero-window probes are answered. */
static int response_stalled(conn *c, uint64_t now, uint64_t idle)
{
    oasis_tcp_info ti;
    if (oasis_tcp_get_info(c->flow, &ti) == 0 && ti.bytes_acked != c->acked) {
        c->acked = ti.bytes_acked;
        c->last_active = now;
    }
    return idle && now - c->last_active >= idle;
}

static void sweep(server *srv)
{
    uint64_t now = now_ns(srv);
    conn *next;
    for (conn *c = srv->conns; c; c = next) {
        next = c->next; /* c may be freed (abort) */
        uint64_t idle = srv->o.idle_ns[c->kind];
        if (c->closing) {
            if (now - c->close_at >= CLOSE_LINGER_NS)
                conn_abort(c);
        } else if (c->kind == SVC_HTTP && !c->in_response && c->head_deadline &&
                   now >= c->head_deadline) {
            head_timeout(c);
        } else if (c->kind == SVC_HTTP && c->in_response) {
            if (response_stalled(c, now, idle)) {
                log_line(c, "response stalled %.1f s: reset",
                         (double)(now - c->last_active) / 1e9);
                conn_abort(c); /* a close would wait for the unsent body */
            }
        } else if (idle && now - c->last_active >= idle) {
            /* Not evictable(): a request body that stopped coming (skip,
             * dechunk) is idle too; only make_room spares it. */
            log_line(c, "idle timeout");
            conn_close(c);
        } else if (now - c->last_active >= TRIM_IDLE_NS && c->trimmed_at != c->last_active &&
                   !c->in_response) {
            /* Idle a while: the stack gives back the flow's empty buffers. */
            oasis_tcp_trim(c->flow);
            c->trimmed_at = c->last_active;
        }
    }
    unsigned w = waiting(srv);
    if (w && active(srv) >= srv->o.max_conns)
        make_room(srv, now, w);
    /* After a burst, give the heap's free memory back to the system. */
    if (srv->peak >= 64 && srv->nconns <= srv->peak / 4) {
        malloc_trim(0);
        srv->peak = srv->nconns;
    }
}

static void on_tick(oasis_loop *l, int fd, short revents, void *ud)
{
    uint64_t expirations;
    (void)l;
    (void)revents;
    if (read(fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
        return;
    sweep(ud);
}

/* The sweep runs a few times per shortest timeout (10 ms .. 250 ms). */
static int start_sweeper(server *srv)
{
    uint64_t t = 250 * OASIS_NS_PER_MS;
    for (int k = 0; k < NSVC; k++)
        if (srv->o.idle_ns[k] && srv->o.idle_ns[k] / 8 < t)
            t = srv->o.idle_ns[k] / 8;
    if (srv->o.header_ns && srv->o.header_ns / 8 < t)
        t = srv->o.header_ns / 8;
    if (t < 10 * OASIS_NS_PER_MS)
        t = 10 * OASIS_NS_PER_MS;
    srv->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (srv->tfd < 0)
        return -1;
    struct itimerspec its = {{(time_t)(t / OASIS_NS_PER_SEC), (long)(t % OASIS_NS_PER_SEC)},
                             {(time_t)(t / OASIS_NS_PER_SEC), (long)(t % OASIS_NS_PER_SEC)}};
    if (timerfd_settime(srv->tfd, 0, &its, NULL) != 0 ||
        oasis_loop_watch(srv->n->loop, srv->tfd, POLLIN, on_tick, srv) != 0)
        return -1;
    return 0;
}

/* ---- accepting ---------------------------------------------------------- */

static void on_accept(oasis_stack *s, oasis_flow *flow, svc_kind kind, server *srv)
{
    (void)s;
    /* Paused at the limit, the stack keeps new connections waiting, so
     * this is the out-of-memory case. */
    conn *c = active(srv) < srv->o.max_conns ? calloc(1, sizeof *c) : NULL;
    if (!c) {
        oasis_tcp_release(flow);
        return;
    }
    oasis_ipaddr a;
    uint16_t p;
    char ip[OASIS_IPADDR_STRLEN];
    oasis_tcp_dst(flow, &a, &p);
    if (oasis_ipaddr_is_v6(&a)) /* [2001:db8::1]:port, as in URLs */
        snprintf(c->peer, sizeof c->peer, "[%s]:%u", oasis_ipaddr_format(&a, ip), p);
    else
        snprintf(c->peer, sizeof c->peer, "%s:%u", oasis_ipaddr_format(&a, ip), p);
    c->srv = srv;
    c->flow = flow;
    c->kind = kind;
    c->body_fd = -1;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->nconns++;
    if (srv->nconns > srv->peak)
        srv->peak = srv->nconns;
    if (active(srv) >= srv->o.max_conns)
        set_paused(srv, 1);
    c->last_active = now_ns(srv);
    oasis_flow_set_user_data(flow, c);
    oasis_sha256_init(&c->sha);
    switch (kind) {
    case SVC_ECHO: echo_read(c); break;
    case SVC_DISCARD:
    case SVC_HASH: sink_read(c); break;
    case SVC_HTTP: http_start(c); break;
    }
}

static void accept_echo(oasis_stack *s, oasis_flow *f, void *ud) { on_accept(s, f, SVC_ECHO, ud); }
static void accept_discard(oasis_stack *s, oasis_flow *f, void *ud) { on_accept(s, f, SVC_DISCARD, ud); }
static void accept_hash(oasis_stack *s, oasis_flow *f, void *ud) { on_accept(s, f, SVC_HASH, ud); }
static void accept_http(oasis_stack *s, oasis_flow *f, void *ud) { on_accept(s, f, SVC_HTTP, ud); }

static int listen_on(server *srv, uint16_t port, oasis_accept_cb cb, const char *what)
{
    oasis_listen_opts lo = {.keepalive = srv->o.ka_given ? &srv->o.ka : NULL,
                            .backlog = srv->o.backlog,
                            .defer_ns = cb == accept_http ? srv->o.defer_ns : 0,
                            .transparent = srv->n->opt.transparent};
    if (port == 0)
        return 0;
    int err = oasis_tcp_listen(srv->n->stack, port, &lo, cb, srv);
    if (err)
        fprintf(stderr, "oasis serve: cannot listen on port %u (%s): %s\n", port, what,
                oasis_strerror(err));
    return err;
}

/* ---- command line ------------------------------------------------------- */

static const char serve_usage[] =
    "Usage: oasis serve [options]\n"
    "Runs TCP (and UDP echo and discard) servers on Oasis, on a TAP device,\n"
    "until interrupted. With --transparent they answer on every address.\n\n"
    "  --echo-port N     echo (RFC 862) on TCP and UDP port N (7; 0: off)\n"
    "  --discard-port N  discard (RFC 863) on TCP and UDP port N (9; 0: off);\n"
    "                    logs each connection's byte count and SHA-256\n"
    "  --hash-port N     reads until the peer's FIN, then answers\n"
    "                    \"<sha256> <bytes>\\n\" and closes (5001; 0: off)\n"
    "  --http-port N     HTTP/1.1 file server (80; 0: off): /bytes/N streams N\n"
    "                    bytes of a test pattern, other paths come from --root\n"
    "  --root DIR        serve files from DIR (default: none); a symlink that\n"
    "                    leads out of DIR is refused with 403\n"
    "  --follow-symlinks let symlinks lead out of --root's DIR\n"
    "  --keepalive A,I,P probe idle flows after A s, every I s, P probes\n"
    "  --max-conns N     connections at once, all services together (256; an HTTP\n"
    "                    one holds up to 0.5 MiB while it sends). At the limit new\n"
    "                    connections wait in the backlog; while some wait, HTTP\n"
    "                    answers close their connection and the longest-idle\n"
    "                    connections are closed to make room\n"
    "  --backlog N       established or half-open connections waiting per port\n"
    "                    (1024); beyond it, SYN cookies\n"
    "  --idle-timeout [SVC=]S  close a connection of service SVC (echo, discard,\n"
    "                    hash, http; none: all) after S s without traffic (http\n"
    "                    60, others 300; 0: never)\n"
    "  --header-timeout S  an HTTP request head must be complete S s after its\n"
    "                    first byte (the first request: after the connection\n"
    "                    opened), else 408 and close (20; 0: never)\n"
    "  --defer-accept S  an HTTP connection takes a slot (--max-conns) only once\n"
    "                    its client sent something, or after S s of silence\n"
    "                    (its header timeout starts then; 0, the default: at\n"
    "                    once). Silent clients then cost no slot;\n"
    "                    but past the backlog, a client's first data must find\n"
    "                    room in it (its bare ACK opens nothing)\n"
    "  --no-hash         discard does not hash (for speed tests)\n"
    "  --quiet           no line per connection\n"
    "  -h, --help        this text\n\n";

enum { S_ECHO = 1, S_DISCARD, S_HASH, S_HTTP, S_ROOT, S_KA, S_MAX, S_QUIET, S_NOHASH,
       S_BACKLOG, S_IDLE, S_HEADER, S_FOLLOW, S_DEFER };

static const struct option serve_own[] = {
    {"echo-port", required_argument, NULL, S_ECHO},
    {"discard-port", required_argument, NULL, S_DISCARD},
    {"hash-port", required_argument, NULL, S_HASH},
    {"http-port", required_argument, NULL, S_HTTP},
    {"root", required_argument, NULL, S_ROOT},
    {"follow-symlinks", no_argument, NULL, S_FOLLOW},
    {"keepalive", required_argument, NULL, S_KA},
    {"max-conns", required_argument, NULL, S_MAX},
    {"backlog", required_argument, NULL, S_BACKLOG},
    {"idle-timeout", required_argument, NULL, S_IDLE},
    {"header-timeout", required_argument, NULL, S_HEADER},
    {"defer-accept", required_argument, NULL, S_DEFER},
    {"quiet", no_argument, NULL, S_QUIET},
    {"no-hash", no_argument, NULL, S_NOHASH},
    REPORT_LONG_OPTIONS,
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int port_arg(const char *arg, uint16_t *port)
{
    uint64_t v;
    if (parse_u64(arg, 65535, &v) != 0) {
        fprintf(stderr, "oasis serve: invalid port '%s'\n", arg);
        return -1;
    }
    *port = (uint16_t)v;
    return 0;
}

static int serve_option(void *ctx, int c, const char *arg)
{
    serve_opts *so = ctx;
    uint64_t v;
    struct stat st;
    switch (c) {
    case S_ECHO: return port_arg(arg, &so->echo_port);
    case S_DISCARD: return port_arg(arg, &so->discard_port);
    case S_HASH: return port_arg(arg, &so->hash_port);
    case S_HTTP: return port_arg(arg, &so->http_port);
    case S_ROOT:
        if (stat(arg, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "oasis serve: --root %s is not a directory\n", arg);
            return -1;
        }
        if (so->root_fd >= 0)
            close(so->root_fd); /* given twice: the last one counts */
        so->root_fd = open(arg, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (so->root_fd < 0) {
            fprintf(stderr, "oasis serve: --root %s: %s\n", arg, strerror(errno));
            return -1;
        }
        so->root = arg;
        /* Files are opened beneath the root by openat2 (open_file). */
        int probe = open_beneath(so, ".");
        if (probe < 0) {
            fprintf(stderr, "oasis serve: --root needs openat2 (Linux 5.6): %s\n", strerror(errno));
            return -1;
        }
        close(probe);
        return 0;
    case S_FOLLOW: so->follow_symlinks = 1; return 0;
    case S_KA:
        if (parse_keepalive(arg, &so->ka) != 0) {
            fprintf(stderr, "oasis serve: invalid --keepalive '%s' (want AFTER,INTERVAL,PROBES)\n", arg);
            return -1;
        }
        so->ka_given = 1;
        return 0;
    case S_MAX:
        if (parse_u64(arg, 1u << 20, &v) != 0 || v == 0) {
            fprintf(stderr, "oasis serve: invalid --max-conns '%s'\n", arg);
            return -1;
        }
        so->max_conns = (unsigned)v;
        return 0;
    case S_BACKLOG:
        if (parse_u64(arg, 1u << 20, &v) != 0 || v == 0) {
            fprintf(stderr, "oasis serve: invalid --backlog '%s'\n", arg);
            return -1;
        }
        so->backlog = (unsigned)v;
        return 0;
    case S_IDLE: {
        const char *eq = strchr(arg, '=');
        int k = -1;
        for (int i = 0; eq && i < NSVC; i++)
            if (strlen(svc_names[i]) == (size_t)(eq - arg) && strncmp(arg, svc_names[i], (size_t)(eq - arg)) == 0)
                k = i;
        if ((eq && k < 0) || parse_seconds(eq ? eq + 1 : arg, &v) != 0) {
            fprintf(stderr, "oasis serve: invalid --idle-timeout '%s' (want [SERVICE=]SECONDS)\n", arg);
            return -1;
        }
        for (int i = 0; i < NSVC; i++)
            if (k < 0 || i == k)
                so->idle_ns[i] = v;
        return 0;
    }
    case S_HEADER:
        if (parse_seconds(arg, &so->header_ns) != 0) {
            fprintf(stderr, "oasis serve: invalid --header-timeout '%s'\n", arg);
            return -1;
        }
        return 0;
    case S_DEFER:
        if (parse_seconds(arg, &so->defer_ns) != 0) {
            fprintf(stderr, "oasis serve: invalid --defer-accept '%s'\n", arg);
            return -1;
        }
        return 0;
    case S_QUIET: so->quiet = 1; return 0;
    case S_NOHASH: so->no_hash = 1; return 0;
    default: return report_option(&so->rep, c, arg) == 1 ? 0 : -1;
    }
}

static int parse_args(int argc, char **argv, serve_opts *so, net_opts *no)
{
    int rc = net_getopt(argc, argv, "h", serve_own, serve_usage, report_options_help, no,
                        serve_option, so);
    if (rc == 0 && optind < argc) {
        fprintf(stderr, "oasis serve: unexpected argument '%s'\n", argv[optind]);
        rc = -1;
    }
    if (rc < 0)
        fprintf(stderr, "Try 'oasis serve --help'.\n");
    return rc;
}

static void free_all(server *srv)
{
    srv->shutting_down = 1;
    while (srv->conns)
        conn_free(srv->conns);
}

/* The server's own descriptors and memory (the connections are gone). */
static void srv_free(server *srv)
{
    if (srv->tfd >= 0)
        close(srv->tfd);
    if (srv->o.root_fd >= 0)
        close(srv->o.root_fd);
    free(srv);
}

int cmd_serve(int argc, char **argv)
{
    static const serve_opts defaults = {
        .echo_port = 7, .discard_port = 9, .hash_port = 5001, .http_port = 80,
        .root_fd = -1, .max_conns = 256, .backlog = 1024,
        .idle_ns = {300 * OASIS_NS_PER_SEC, 300 * OASIS_NS_PER_SEC, 300 * OASIS_NS_PER_SEC,
                    60 * OASIS_NS_PER_SEC},
        .header_ns = 20 * OASIS_NS_PER_SEC};
    server *srv = calloc(1, sizeof *srv);
    net n;
    net_opts no;

    if (!srv)
        return EXIT_SETUP;
    srv->o = defaults;
    srv->tfd = -1;
    net_opts_init(&no);
    int rc = parse_args(argc, argv, &srv->o, &no);
    if (rc) {
        srv_free(srv);
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    pattern_init(&srv->pat);
    cli_install_signals();
    no.addr_events = 1; /* "ready" is followed by the IPv6 addresses as they come */
    if ((rc = net_up(&n, &no)) != 0) {
        srv_free(srv);
        return rc;
    }
    srv->n = &n;
    srv->udp.echo_port = srv->o.echo_port;
    srv->udp.discard_port = srv->o.discard_port;
    if (listen_on(srv, srv->o.echo_port, accept_echo, "echo") ||
        listen_on(srv, srv->o.discard_port, accept_discard, "discard") ||
        listen_on(srv, srv->o.hash_port, accept_hash, "hash") ||
        listen_on(srv, srv->o.http_port, accept_http, "http") ||
        serve_udp_start(n.stack, &srv->udp, n.opt.transparent)) {
        net_down(&n);
        srv_free(srv);
        return EXIT_SETUP;
    }
    if (start_sweeper(srv) != 0) {
        fprintf(stderr, "oasis serve: cannot start the timeout sweep: %s\n", strerror(errno));
        net_down(&n);
        srv_free(srv);
        return EXIT_SETUP;
    }
    char ip[OASIS_IPV4_STRLEN];
    printf("oasis serve: ready on %s, %s/%u, mtu %u (echo %u, discard %u, hash %u, http %u)\n",
           n.opt.tap, oasis_addr_format(n.opt.addr, ip), n.opt.prefix, oasis_tap_mtu(n.tap),
           srv->o.echo_port, srv->o.discard_port, srv->o.hash_port, srv->o.http_port);
    fflush(stdout);
    report *rep = NULL;
    if (report_start(&rep, &srv->o.rep, &n) != EXIT_OK) {
        net_down(&n);
        srv_free(srv);
        return EXIT_SETUP;
    }

    rc = oasis_loop_run(n.loop, NULL, NULL, UINT64_MAX);
    if (rc)
        fprintf(stderr, "oasis serve: the TAP device failed: %s\n", oasis_strerror(rc));
    oasis_loop_counts lc;
    oasis_loop_counts_get(n.loop, &lc);
    fprintf(stderr, "oasis serve: TAP: %" PRIu64 " wakeups, %" PRIu64 " frames, %" PRIu64 " empty reads\n",
            lc.wakeups, lc.frames, lc.empty_reads);
    serve_udp_report(&srv->udp);
    if (report_finish(rep, &n) != EXIT_OK && !rc)
        rc = OASIS_EIO; /* the dump a test waits for is missing */
    /* Pending requests complete with OASIS_ECANCELED during destroy; the
     * flag makes their callbacks leave the conns alone. */
    srv->shutting_down = 1;
    net_down(&n);
    free_all(srv);
    srv_free(srv);
    return rc ? EXIT_FAIL : EXIT_OK;
}
