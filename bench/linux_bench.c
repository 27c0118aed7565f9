/* linux-bench: the Linux kernel's request/response, connection-rate and
 * memory rows (bulk comes from iperf3). One process, one thread, blocking
 * sockets: the kernel moves loopback and veth packets in softirq context on
 * the sending CPU, so server and client calls can simply alternate, like
 * Oasis's two stacks in one thread. run_all.sh pins it to one core.
 *
 *   linux-bench [-s SERVER_NETNS] [-c CLIENT_NETNS] -a SERVER_ADDR MODE ARGS
 *   MODE: rr SIZE SECONDS | crr SECONDS | mem FLOWS
 *
 * With -s/-c the server and client sockets are made in those network
 * namespaces (names under /run/netns), e.g. the two ends of a veth pair.
 *
 * With -r PORT the two ends are separate processes (paths.sh): `rr` is only
 * the client, connecting to a server at SERVER_ADDR:PORT from -c's
 * namespace, and `echo` is only a server (blocking read, write back what was
 * read) on SERVER_ADDR:PORT in -s's namespace, one connection at a time,
 * until killed. -p names the server's stack in rr's RESULT line. -a takes an
 * IPv4 or an IPv6 address.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

#define PORT 5001
#define CRR_MSG 64

static const char *g_server_ns, *g_client_ns, *g_setup = "loopback", *g_peer = "remote";
static struct sockaddr_storage g_sa; /* -a: the address (IPv4 or IPv6), port 0 */
static socklen_t g_sa_len;
static uint16_t g_remote_port; /* -r: the other end is another process */

static void die(const char *what)
{
    fprintf(stderr, "linux-bench: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void enter_ns(const char *name)
{
    static const char *current; /* setns is not free: skip it when already there */
    if (!name || name == current)
        return;
    current = name;
    char path[256];
    snprintf(path, sizeof path, "/run/netns/%s", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
        die(path);
    close(fd);
}

/* -a's address (an IPv4 or IPv6 literal) as g_sa; 0 when it is neither. */
static int set_addr(const char *s)
{
    struct sockaddr_in *a4 = (struct sockaddr_in *)&g_sa;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&g_sa;
    memset(&g_sa, 0, sizeof g_sa);
    if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        g_sa_len = sizeof *a4;
        return 1;
    }
    memset(&g_sa, 0, sizeof g_sa);
    if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        g_sa_len = sizeof *a6;
        return 1;
    }
    return 0;
}

/* g_sa with port. */
static struct sockaddr_storage sa_port(uint16_t port)
{
    struct sockaddr_storage sa = g_sa;
    if (sa.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&sa)->sin6_port = htons(port);
    else
        ((struct sockaddr_in *)&sa)->sin_port = htons(port);
    return sa;
}

static int tcp_socket(const char *ns)
{
    enter_ns(ns);
    int fd = socket(g_sa.ss_family, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket");
    return fd;
}

static int listen_on(uint16_t port, int backlog)
{
    int fd = tcp_socket(g_server_ns), one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_storage sa = sa_port(port);
    if (bind(fd, (struct sockaddr *)&sa, g_sa_len) < 0 || listen(fd, backlog) < 0)
        die("bind/listen");
    return fd;
}

static int connect_to(uint16_t port)
{
    int fd = tcp_socket(g_client_ns);
    struct sockaddr_storage sa = sa_port(port);
    if (connect(fd, (struct sockaddr *)&sa, g_sa_len) < 0)
        die("connect");
    return fd;
}

static void nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void read_full(int fd, char *buf, size_t n)
{
    while (n) {
        ssize_t r = read(fd, buf, n);
        if (r <= 0)
            die("read");
        buf += r;
        n -= (size_t)r;
    }
}

static void write_full(int fd, const char *buf, size_t n)
{
    while (n) {
        ssize_t r = write(fd, buf, n);
        if (r <= 0)
            die("write");
        buf += r;
        n -= (size_t)r;
    }
}

static char g_buf[65536], g_rx[65536];

/* -r: the client's half of run_rr, the server being another process. The
 * rate is per wall-clock second: the client's own wait for a CPU is part of
 * each round trip here, as it is for the server. */
static int run_rr_remote(size_t size, double seconds)
{
    int c = connect_to(g_remote_port);
    nodelay(c);
    bench_span sp;
    bench_span_start(&sp);
    uint64_t n = 0, t = sp.wall0, stop = t + (uint64_t)(seconds * 1e9);
    while (t < stop) {
        write_full(c, g_buf, size);
        read_full(c, g_rx, size);
        n++;
        if ((n & 63) == 0)
            t = bench_now_ns();
    }
    bench_span_stop(&sp);
    double rate = (double)n / sp.wall;
    char row[32], note[160];
    snprintf(row, sizeof row, "%s_rr_%zuB", g_sa.ss_family == AF_INET6 ? "path6" : "path", size);
    snprintf(note, sizeof note, "client busy %.0f%% of wall %.2f s (run delay %.2f s), %.1f us CPU per round trip",
             100.0 * sp.cpu / sp.wall, sp.wall, sp.wall - sp.eff, n ? 1e6 * sp.cpu / (double)n : 0.0);
    bench_result(row, g_peer, g_setup, rate, "trans/s", note);
    fprintf(stderr, "%s %s rr %zu B: %.0f/s (%s)\n", g_peer, g_setup, size, rate, note);
    close(c);
    return 0;
}

/* -r echo: a plain blocking echo server for run_rr_remote's baseline. */
static _Noreturn void run_echo(void)
{
    int l = listen_on(g_remote_port, 16);
    for (;;) {
        int s = accept(l, NULL, NULL);
        if (s < 0)
            die("accept");
        nodelay(s);
        /* A client gone mid-write ends its connection, not the server. */
        ssize_t r;
        while ((r = read(s, g_rx, sizeof g_rx)) > 0) {
            ssize_t w = 0;
            while (w < r) {
                ssize_t k = send(s, g_rx + w, (size_t)(r - w), MSG_NOSIGNAL);
                if (k <= 0)
                    break;
                w += k;
            }
            if (w < r)
                break;
        }
        close(s);
    }
}

static int run_rr(size_t size, double seconds)
{
    if (g_remote_port)
        return run_rr_remote(size, seconds);
    int l = listen_on(PORT, 16);
    int c = connect_to(PORT);
    int s = accept(l, NULL, NULL);
    if (s < 0)
        die("accept");
    nodelay(c);
    nodelay(s);
    bench_span sp;
    bench_span_start(&sp);
    uint64_t n = 0, t = sp.wall0, stop = t + (uint64_t)(seconds * 1e9);
    while (t < stop) {
        write_full(c, g_buf, size);
        read_full(s, g_rx, size);
        write_full(s, g_buf, size);
        read_full(c, g_rx, size);
        n++;
        if ((n & 63) == 0)
            t = bench_now_ns();
    }
    bench_span_stop(&sp);
    double rate = (double)n / sp.eff;
    char row[32], note[128];
    snprintf(row, sizeof row, "rr_%zuB", size);
    bench_span_note(&sp, note, sizeof note);
    bench_result(row, "linux", g_setup, rate, "trans/s", note);
    fprintf(stderr, "linux %s rr %zu B: %.0f/s (%s)\n", g_setup, size, rate, note);
    close(c);
    close(s);
    close(l);
    return 0;
}

static int run_crr(double seconds)
{
    int l = listen_on(PORT, 1024);
    bench_span sp;
    bench_span_start(&sp);
    uint64_t n = 0, stop = sp.wall0 + (uint64_t)(seconds * 1e9);
    while (bench_now_ns() < stop) {
        int c = connect_to(PORT);
        int s = accept(l, NULL, NULL);
        if (s < 0)
            die("accept");
        nodelay(c);
        nodelay(s);
        write_full(c, g_buf, CRR_MSG);
        read_full(s, g_rx, CRR_MSG);
        write_full(s, g_buf, CRR_MSG);
        read_full(c, g_rx, CRR_MSG);
        close(c);
        if (read(s, g_rx, 1) != 0) /* the client's FIN */
            die("expected EOF");
        close(s);
        n++;
    }
    bench_span_stop(&sp);
    double rate = (double)n / sp.eff;
    char note[160];
    bench_span_note(&sp, note, sizeof note);
    strncat(note, "; tcp_tw_reuse=1", sizeof note - strlen(note) - 1);
    bench_result("crr", "linux", g_setup, rate, "conn/s", note);
    fprintf(stderr, "linux %s crr: %.0f/s (%s)\n", g_setup, rate, note);
    close(l);
    return 0;
}

/* Kernel slab memory in bytes (/proc/meminfo Slab:). */
static long slab_bytes(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Slab: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb * 1024;
}

#define MEM_PORTS_PER 50000
#define MEM_PER_CHILD 4000 /* 8,000 descriptors: under a 20,000 hard limit */

/* One child holds flows [first, first + n): connects and accepts them on
 * the inherited listeners, says so on `ready`, and keeps them open until
 * `hold` reaches end of file (the parent is done measuring). */
static void mem_child(const int *lfd, uint32_t first, uint32_t n, int ready, int hold)
{
    int *fds = calloc(2 * (size_t)n, sizeof *fds);
    if (!fds)
        die("calloc");
    for (uint32_t k = 0; k < n; k++) {
        uint32_t port = (first + k) / MEM_PORTS_PER;
        fds[2 * k] = connect_to((uint16_t)(PORT + port));
        if ((fds[2 * k + 1] = accept(lfd[port], NULL, NULL)) < 0)
            die("accept");
    }
    char c = 1, buf;
    if (write(ready, &c, 1) != 1)
        die("ready");
    while (read(hold, &buf, 1) > 0)
        ;
    _exit(0);
}

/* Flows are spread over child processes because a process may hold only
 * RLIMIT_NOFILE descriptors (and raising it needs CAP_SYS_RESOURCE); where
 * a socket's descriptor lives does not change its kernel memory. */
static int run_mem(uint32_t flows)
{
    uint32_t nports = (flows + MEM_PORTS_PER - 1) / MEM_PORTS_PER;
    int *lfd = calloc(nports, sizeof *lfd);
    int ready[2], hold[2];
    if (!lfd || pipe(ready) < 0 || pipe(hold) < 0)
        die("setup");
    for (uint32_t p = 0; p < nports; p++)
        lfd[p] = listen_on((uint16_t)(PORT + p), 4096);
    sleep(1);
    long before = slab_bytes();
    uint32_t children = 0;
    for (uint32_t first = 0; first < flows; first += MEM_PER_CHILD, children++) {
        uint32_t n = flows - first < MEM_PER_CHILD ? flows - first : MEM_PER_CHILD;
        pid_t pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0) {
            close(ready[0]);
            close(hold[1]);
            mem_child(lfd, first, n, ready[1], hold[0]);
        }
        char c;
        if (read(ready[0], &c, 1) != 1) /* one child at a time: the accept queues stay short */
            die("child failed");
    }
    sleep(1); /* let delayed ACKs and RCU frees settle */
    long after = slab_bytes();
    close(hold[1]);
    while (wait(NULL) > 0)
        ;
    double per_end = (double)(after - before) / (2.0 * flows);
    char row[32];
    snprintf(row, sizeof row, "mem_%uk", flows / 1000);
    bench_result(row, "linux", g_setup, per_end, "bytes",
                 "per endpoint (socket); /proc/meminfo Slab delta incl. file+inode+dentry; "
                 "system-wide so other processes add noise");
    fprintf(stderr, "linux mem %u flows (%u processes): slab %+ld B -> %.0f B per endpoint\n",
            flows, children, after - before, per_end);
    for (uint32_t p = 0; p < nports; p++)
        close(lfd[p]);
    free(lfd);
    return 0;
}

int main(int argc, char **argv)
{
    int opt;
    set_addr("127.0.0.1");
    while ((opt = getopt(argc, argv, "s:c:a:n:r:p:")) != -1) {
        if (opt == 'r') {
            long port = strtol(optarg, NULL, 10);
            if (port <= 0 || port > 65535)
                return 2;
            g_remote_port = (uint16_t)port;
        } else if (opt == 'p')
            g_peer = optarg;
        else if (opt == 's')
            g_server_ns = optarg;
        else if (opt == 'c')
            g_client_ns = optarg;
        else if (opt == 'a' && !set_addr(optarg))
            return 2;
        else if (opt == 'n')
            g_setup = optarg;
    }
    memset(g_buf, 'x', sizeof g_buf);
    char **a = argv + optind;
    int n = argc - optind;
    if (n >= 1 && !strcmp(a[0], "rr"))
        return run_rr((size_t)bench_arg_double(n, a, 1, 1), bench_arg_double(n, a, 2, 3));
    if (n >= 1 && !strcmp(a[0], "echo") && g_remote_port)
        run_echo();
    if (n >= 1 && !strcmp(a[0], "crr"))
        return run_crr(bench_arg_double(n, a, 1, 3));
    if (n >= 1 && !strcmp(a[0], "mem"))
        return run_mem((uint32_t)bench_arg_double(n, a, 1, 10000));
    fprintf(stderr, "usage: linux-bench [-s NETNS] [-c NETNS] [-a ADDR] [-n LABEL] "
                    "rr SIZE SECONDS | crr SECONDS | mem FLOWS\n"
                    "       linux-bench [-c NETNS] -a ADDR -r PORT [-p PEER] [-n LABEL] "
                    "rr SIZE SECONDS\n"
                    "       linux-bench [-s NETNS] -a ADDR -r PORT echo\n");
    return 2;
}
