/* `oasis serve`: echo, discard, hash and HTTP servers on a TAP device.
 *
 * Every connection is a `conn`. Its flow is released exactly once: in the
 * close callback of oasis_tcp_close() (conn_free runs there too) or by
 * oasis_tcp_release() (conn_free right after). Callbacks that arrive while a
 * conn is being torn down do nothing. */
#include "cli.h"
#include "http.h"
#include "report.h"

#include "core/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (256 * 1024)

typedef enum { SVC_ECHO, SVC_DISCARD, SVC_HASH, SVC_HTTP } svc_kind;
static const char *const svc_names[] = {"echo", "discard", "hash", "http"};

typedef struct server server;
typedef struct conn conn;

/* One body write in flight: which conn and which buffer. */
typedef struct wslot {
    conn *c;
    uint8_t *data;
} wslot;

struct conn {
    server *srv;
    oasis_flow *flow;
    svc_kind kind;
    conn *prev, *next;
    char peer[32];
    int closing, aborting;

    uint8_t *buf; /* echo: the chunk being echoed */
    size_t cap;

    oasis_sha256 sha; /* discard and hash */
    uint64_t bytes;
    char reply[128];

    char *req; /* http: request bytes not handled yet */
    size_t req_len;
    uint64_t skip;      /* request body bytes still to drop */
    int keep_alive;
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
    oasis_keepalive ka;
    int ka_given;
    unsigned max_conns;
    int quiet, no_hash;
    report_opts rep; /* --influx and friends (report.c) */
} serve_opts;

struct server {
    net *n;
    serve_opts o;
    pattern pat;
    conn *conns;
    unsigned nconns;
    int shutting_down;
};

static void http_start(conn *c);
static void http_try_request(conn *c);

/* ---- connection lifetime ------------------------------------------------ */

static void conn_free(conn *c)
{
    server *srv = c->srv;
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
    oasis_tcp_release(flow);
    if (!c->srv->shutting_down)
        conn_free(c);
}

static void conn_close(conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
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
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

static void response_done(conn *c)
{
    if (c->body_fd >= 0) {
        close(c->body_fd);
        c->body_fd = -1;
    }
    if (c->keep_alive)
        http_try_request(c);
    else
        conn_close(c);
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

/* Keeps two chunks queued: while the stack sends one we fill the other. */
static void http_pump(conn *c)
{
    while (c->inflight < 2 && (c->body_left > 0 || c->head_len > 0)) {
        wslot *w = &c->slot[c->next_fill];
        if (!w->data && !(w->data = malloc(CHUNK))) {
            conn_abort(c);
            return;
        }
        w->c = c;
        long n = fill_chunk(c, w->data, CHUNK);
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

static void set_head(conn *c, int status, const char *ctype, uint64_t len)
{
    if (status >= 400 && status != 404 && status != 405)
        c->keep_alive = 0;
    c->head_len = (size_t)snprintf(c->head, sizeof c->head,
                                   "HTTP/1.1 %d %s\r\nServer: oasis/0.1\r\nContent-Type: %s\r\n"
                                   "Content-Length: %llu\r\n%s%s\r\n",
                                   status, status_text(status), ctype, (unsigned long long)len,
                                   status == 405 ? "Allow: GET, HEAD\r\n" : "",
                                   c->keep_alive ? "" : "Connection: close\r\n");
    c->body_off = 0;
    c->body_left = 0;
}

static void respond(conn *c, int status, const char *ctype, uint64_t len, int head_only)
{
    set_head(c, status, ctype, len);
    c->body_left = head_only ? 0 : len;
    http_pump(c);
}

/* Small bodies (errors, the index page) travel in the head's buffer. */
static void respond_text(conn *c, int status, const char *text, int head_only)
{
    size_t tl = strlen(text);
    set_head(c, status, "text/plain; charset=utf-8", tl);
    if (!head_only && c->head_len + tl <= sizeof c->head) {
        memcpy(c->head + c->head_len, text, tl);
        c->head_len += tl;
    }
    http_pump(c);
}

static const char index_text[] =
    "Oasis HTTP server\n"
    "  /bytes/N   N bytes of the test pattern (N may end in K, M, G: binary units);\n"
    "             byte i is (i mod 251 + i div 65536) mod 256\n"
    "  /PATH      a file under the served directory (--root)\n";

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

/* Opens a regular file under the root (index.html for a directory).
 * Returns an fd, or -status. */
static int open_file(const server *srv, const char *path, struct stat *st)
{
    char full[4096];
    if (!srv->o.root || !path_safe(path))
        return -404;
    int n = snprintf(full, sizeof full, "%s%s", srv->o.root, path);
    if (n < 0 || (size_t)n >= sizeof full - 12)
        return -414;
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == EACCES ? -403 : -404;
    if (fstat(fd, st) == 0 && S_ISDIR(st->st_mode)) {
        close(fd);
        strcat(full, "/index.html");
        fd = open(full, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -404;
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -404;
    }
    return fd;
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
    if (strcmp(r->path, "/") == 0) {
        respond_text(c, 200, index_text, head_only);
        return;
    }
    if (strncmp(r->path, "/bytes/", 7) == 0) {
        if (parse_size(r->path + 7, &n) != 0 || n > (1ull << 50)) {
            respond_text(c, 400, "bad size\n", head_only);
            return;
        }
        log_line(c, "%s %s 200 %llu", r->method, r->path, (unsigned long long)n);
        respond(c, 200, "application/octet-stream", n, head_only);
        return;
    }
    int fd = open_file(c->srv, r->path, &st);
    if (fd < 0) {
        log_line(c, "%s %s %d", r->method, r->path, -fd);
        respond_text(c, -fd, -fd == 404 ? "not found\n" : "refused\n", head_only);
        return;
    }
    c->body_fd = fd;
    log_line(c, "%s %s 200 %llu", r->method, r->path, (unsigned long long)st.st_size);
    respond(c, 200, content_type(r->path), (uint64_t)st.st_size, head_only);
}

/* ---- HTTP: requests ----------------------------------------------------- */

static void drop_front(conn *c, size_t n)
{
    memmove(c->req, c->req + n, c->req_len - n);
    c->req_len -= n;
}

static void on_http_read(oasis_flow *flow, int err, const uint8_t *data, size_t len, void *ud)
{
    conn *c = ud;
    (void)flow;
    if (conn_gone(c) || c->closing)
        return;
    if (err) {
        conn_close(c); /* the client is done (EOF) or gone */
        return;
    }
    if (c->skip) {
        size_t d = c->skip < len ? (size_t)c->skip : len;
        c->skip -= d;
        data += d;
        len -= d;
    }
    size_t room = HTTP_MAX_HEAD - c->req_len;
    if (len > room) {
        /* More than a head's worth without an end: answer and hang up. */
        c->keep_alive = 0;
        respond_text(c, 431, "request head too large\n", 0);
        return;
    }
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
    long end = http_head_end(c->req, c->req_len);

    if (end == 0) {
        http_read(c);
        return;
    }
    if (end < 0) {
        c->keep_alive = 0;
        respond_text(c, 431, "request head too large\n", 0);
        return;
    }
    int st = http_parse_request(c->req, (size_t)end, &r);
    drop_front(c, (size_t)end);
    if (st) {
        c->keep_alive = 0;
        respond_text(c, st, status_text(st), 0);
        return;
    }
    /* A body we do not want: drop it, here or as it arrives. */
    size_t d = r.content_length < c->req_len ? (size_t)r.content_length : c->req_len;
    drop_front(c, d);
    c->skip = r.content_length - d;
    c->keep_alive = r.keep_alive;
    route(c, &r);
}

static void http_start(conn *c)
{
    c->req = malloc(HTTP_MAX_HEAD);
    if (!c->req) {
        conn_abort(c);
        return;
    }
    http_try_request(c);
}

/* ---- accepting ---------------------------------------------------------- */

static void on_accept(oasis_stack *s, oasis_flow *flow, svc_kind kind, server *srv)
{
    (void)s;
    conn *c = srv->nconns < srv->o.max_conns ? calloc(1, sizeof *c) : NULL;
    if (!c) {
        oasis_tcp_release(flow);
        return;
    }
    uint32_t a;
    uint16_t p;
    char ip[OASIS_IPV4_STRLEN];
    oasis_tcp_dst(flow, &a, &p);
    snprintf(c->peer, sizeof c->peer, "%s:%u", oasis_addr_format(a, ip), p);
    c->srv = srv;
    c->flow = flow;
    c->kind = kind;
    c->body_fd = -1;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->nconns++;
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
    oasis_listen_opts lo = {.keepalive = srv->o.ka_given ? &srv->o.ka : NULL};
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
    "Runs TCP servers on Oasis, on a TAP device, until interrupted.\n\n"
    "  --echo-port N     echo (RFC 862) on port N (7; 0: off)\n"
    "  --discard-port N  discard (RFC 863) on port N (9; 0: off); logs each\n"
    "                    connection's byte count and SHA-256\n"
    "  --hash-port N     reads until the peer's FIN, then answers\n"
    "                    \"<sha256> <bytes>\\n\" and closes (5001; 0: off)\n"
    "  --http-port N     HTTP/1.1 file server (80; 0: off): /bytes/N streams N\n"
    "                    bytes of a test pattern, other paths come from --root\n"
    "  --root DIR        serve files from DIR (default: none)\n"
    "  --keepalive A,I,P probe idle flows after A s, every I s, P probes\n"
    "  --max-conns N     connections at once (256; each HTTP one may hold 0.5 MiB)\n"
    "  --no-hash         discard does not hash (for speed tests)\n"
    "  --quiet           no line per connection\n"
    "  -h, --help        this text\n\n";

enum { S_ECHO = 1, S_DISCARD, S_HASH, S_HTTP, S_ROOT, S_KA, S_MAX, S_QUIET, S_NOHASH };

static const struct option serve_own[] = {
    {"echo-port", required_argument, NULL, S_ECHO},
    {"discard-port", required_argument, NULL, S_DISCARD},
    {"hash-port", required_argument, NULL, S_HASH},
    {"http-port", required_argument, NULL, S_HTTP},
    {"root", required_argument, NULL, S_ROOT},
    {"keepalive", required_argument, NULL, S_KA},
    {"max-conns", required_argument, NULL, S_MAX},
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
        so->root = arg;
        return 0;
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

int cmd_serve(int argc, char **argv)
{
    static const serve_opts defaults = {7, 9, 5001, 80, NULL, {0, 0, 0}, 0, 256, 0, 0,
                                        {NULL, 0, NULL, 0, 0, 0, NULL}};
    server *srv = calloc(1, sizeof *srv);
    net n;
    net_opts no;

    if (!srv)
        return EXIT_SETUP;
    srv->o = defaults;
    net_opts_init(&no);
    int rc = parse_args(argc, argv, &srv->o, &no);
    if (rc) {
        free(srv);
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    pattern_init(&srv->pat);
    cli_install_signals();
    if ((rc = net_up(&n, &no)) != 0) {
        free(srv);
        return rc;
    }
    srv->n = &n;
    if (listen_on(srv, srv->o.echo_port, accept_echo, "echo") ||
        listen_on(srv, srv->o.discard_port, accept_discard, "discard") ||
        listen_on(srv, srv->o.hash_port, accept_hash, "hash") ||
        listen_on(srv, srv->o.http_port, accept_http, "http")) {
        net_down(&n);
        free(srv);
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
        free(srv);
        return EXIT_SETUP;
    }

    rc = oasis_loop_run(n.loop, NULL, NULL, UINT64_MAX);
    if (rc)
        fprintf(stderr, "oasis serve: the TAP device failed: %s\n", oasis_strerror(rc));
    if (report_finish(rep, &n) != EXIT_OK && !rc)
        rc = OASIS_EIO; /* the dump a test waits for is missing */
    /* Pending requests complete with OASIS_ECANCELED during destroy; the
     * flag makes their callbacks leave the conns alone. */
    srv->shutting_down = 1;
    net_down(&n);
    free_all(srv);
    free(srv);
    return rc ? EXIT_FAIL : EXIT_OK;
}
