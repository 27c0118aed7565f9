/* TAP link: frames go through /dev/net/tun to the kernel's side of a TAP
 * device. IFF_NO_PI: every read or write is exactly one Ethernet frame, with
 * no packet-information prefix. With offloads (IFF_VNET_HDR) a 12-byte
 * virtio-net header precedes every frame both ways (link/virtio_net.c
 * reads and writes it). A TUN device (cfg.tun) is the same with IFF_TUN:
 * every read or write is one bare IP packet (after the virtio-net header,
 * whose offsets then count from the IP header), and the link is an IP link
 * (OASIS_LINK_IP). */
#include "oasis/tap.h"

#include "link/virtio_net.h"
#include "tcp/tcp_place.h"
#include "oasis/error.h"
#include "oasis/stack.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define TAP_ETH_HLEN 14
/* Largest frame the kernel may hand us: the largest IP datagram plus the
 * Ethernet header, whatever the device MTU says. */
#define TAP_BUF_SIZE (65535 + TAP_ETH_HLEN)
/* Frames per oasis_tap_input() call by default. Bursts of small frames (a
 * thousand clients connecting at once) overflow the kernel's queue for the
 * device while the stack runs timers and sends between batches: under
 * `wrk -c1000` batches of 1024 instead of 64 cut the kernel's tx_dropped on
 * a 1000-frame queue by about eight times. */
#define TAP_DEFAULT_BATCH 1024

struct oasis_tap {
    oasis_link link; /* link.data points back here */
    int fd;
    uint32_t mtu;
    char name[IFNAMSIZ];
    int vnet;        /* offloads on: a virtio-net header before every frame */
    int tun;         /* a TUN device: IP packets, no Ethernet header */
    int tso6;        /* the kernel takes (and may send) IPv6 TCP super-segments */
    uint64_t send_drops;
    uint64_t bad_headers;
    oasis_tap_place_counts place; /* zero-copy receive, frame by frame */
    oasis_tap_input_fn filter; /* oasis_tap_set_input_filter: frames go there */
    void *filter_ud;
    uint32_t pred_len;      /* headers of the last bulk data frame (tcp_place.h) */
    uint8_t pred[OASIS_PLACE_HDR_MAX];
    char status[200];
    uint8_t buf[OASIS_VNET_HDR_LEN + TAP_BUF_SIZE];
};

void oasis_tap_config_init(oasis_tap_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->name = "oasis0";
    cfg->running_wait_ms = 1000;
}

static int fail(char *errbuf, size_t errlen, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *errbuf, size_t errlen, int err, const char *fmt, ...)
{
    if (errbuf && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return err;
}

/* One frame, after its virtio-net header when offloads are on. */
static int tap_write(oasis_tap *t, const uint8_t *frame, size_t len, const oasis_offload *off)
{
    uint8_t hdr[OASIS_VNET_HDR_LEN];
    struct iovec iov[2];
    int cnt = 0;
    size_t total = len;
    if (t->vnet) {
        oasis_vnet_fill(hdr, off);
        iov[cnt++] = (struct iovec){hdr, sizeof hdr};
        total += sizeof hdr;
    }
    iov[cnt++] = (struct iovec){(void *)frame, len};
    for (;;) {
        ssize_t n = writev(t->fd, iov, cnt);
        if (n == (ssize_t)total)
            return OASIS_OK;
        if (n < 0 && errno == EINTR)
            continue;
        t->send_drops++;
        /* The kernel's backlog is full: the frame is lost, like on a wire. */
        if (n < 0 && (errno == EAGAIN || errno == ENOBUFS))
            return OASIS_EAGAIN;
        return OASIS_EIO;
    }
}

static int tap_send(oasis_link *link, const uint8_t *frame, size_t len)
{
    oasis_tap *t = link->data;

    if (len > (size_t)t->mtu + (t->tun ? 0 : TAP_ETH_HLEN)) {
        t->send_drops++;
        return OASIS_EMSGSIZE;
    }
    return tap_write(t, frame, len, NULL);
}

/* A super-segment or a partial checksum: the kernel does the rest. */
static int tap_send_offload(oasis_link *link, const uint8_t *frame, size_t len,
                            const oasis_offload *off)
{
    oasis_tap *t = link->data;

    if (!t->vnet || len > TAP_BUF_SIZE ||
        (!off->gso_type && len > (size_t)t->mtu + (t->tun ? 0 : TAP_ETH_HLEN))) {
        t->send_drops++;
        return OASIS_EMSGSIZE;
    }
    return tap_write(t, frame, len, off);
}

/* ioctls on interfaces go through any socket; no traffic is sent. */
static int ifreq_ioctl(unsigned long req, struct ifreq *ifr)
{
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0)
        return -1;
    int rc = ioctl(sock, req, ifr);
    int saved = errno;
    close(sock);
    errno = saved;
    return rc;
}

static int set_mtu(oasis_tap *t, uint32_t mtu, char *errbuf, size_t errlen)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, t->name, sizeof t->name);
    if (ifreq_ioctl(SIOCGIFMTU, &ifr) < 0)
        return fail(errbuf, errlen, OASIS_EIO, "cannot read the MTU of %s: %s", t->name,
                    strerror(errno));
    if (mtu == 0 || (uint32_t)ifr.ifr_mtu == mtu) {
        t->mtu = (uint32_t)ifr.ifr_mtu;
        return OASIS_OK;
    }
    ifr.ifr_mtu = (int)mtu;
    if (ifreq_ioctl(SIOCSIFMTU, &ifr) < 0) {
        if (errno == EPERM || errno == EACCES)
            return fail(errbuf, errlen, OASIS_EPERM,
                        "not allowed to set the MTU of %s to %u (needs CAP_NET_ADMIN): "
                        "run `ip link set %s mtu %u` as root first",
                        t->name, mtu, t->name, mtu);
        return fail(errbuf, errlen, OASIS_EIO, "cannot set the MTU of %s to %u: %s", t->name, mtu,
                    strerror(errno));
    }
    t->mtu = mtu;
    return OASIS_OK;
}

/* The kernel queues frames for us on the device's transmit queue; a burst
 * longer than it is dropped before we can read it. */
static int set_txqueuelen(oasis_tap *t, uint32_t qlen, char *errbuf, size_t errlen)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, t->name, sizeof t->name);
    if (ifreq_ioctl(SIOCGIFTXQLEN, &ifr) == 0 && (uint32_t)ifr.ifr_qlen == qlen)
        return OASIS_OK;
    ifr.ifr_qlen = (int)qlen;
    if (ifreq_ioctl(SIOCSIFTXQLEN, &ifr) < 0)
        return fail(errbuf, errlen, errno == EPERM ? OASIS_EPERM : OASIS_EIO,
                    "cannot set the transmit queue of %s to %u: %s (run `ip link set %s "
                    "txqueuelen %u` as root)",
                    t->name, qlen, strerror(errno), t->name, qlen);
    return OASIS_OK;
}

static int bring_up(oasis_tap *t, char *errbuf, size_t errlen)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, t->name, sizeof t->name);
    if (ifreq_ioctl(SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP))
        return OASIS_OK;
    ifr.ifr_flags |= IFF_UP;
    if (ifreq_ioctl(SIOCSIFFLAGS, &ifr) < 0)
        return fail(errbuf, errlen, errno == EPERM ? OASIS_EPERM : OASIS_EIO,
                    "cannot bring %s up: %s (run `ip link set %s up` as root)", t->name,
                    strerror(errno), t->name);
    return OASIS_OK;
}

/* The device's interface flags (IFF_UP, IFF_RUNNING, ...); -1 when the
 * kernel cannot be asked. */
static int dev_flags(const oasis_tap *t)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, t->name, sizeof t->name);
    return ifreq_ioctl(SIOCGIFFLAGS, &ifr) < 0 ? -1 : (unsigned short)ifr.ifr_flags;
}

int oasis_tap_running(const oasis_tap *t)
{
    if (!t)
        return OASIS_EINVAL;
    int fl = dev_flags(t);
    if (fl < 0)
        return OASIS_EIO;
    return (fl & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING);
}

/* Attaching turns the carrier on, but Linux activates the device's queue
 * from its link watch (a work item, run within a second): frames the
 * kernel sends to us before that are dropped. Wait for IFF_RUNNING, which
 * the same work sets, so the stack's first exchange (ARP, ND, DHCP) is
 * not lost. A device left down never runs: no wait then. */
static void wait_running(const oasis_tap *t, uint32_t ms)
{
    for (uint32_t waited = 0; waited < ms; waited++) {
        int fl = dev_flags(t);
        if (fl < 0 || !(fl & IFF_UP) || (fl & IFF_RUNNING))
            return;
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
}

static int open_tun(const char *name, char *errbuf, size_t errlen, int *fd_out)
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
        *fd_out = fd;
        return OASIS_OK;
    }
    if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
        return fail(errbuf, errlen, OASIS_ENOENT,
                    "cannot open /dev/net/tun: %s (is the tun module loaded? try `modprobe tun`)",
                    strerror(errno));
    if (errno == EACCES || errno == EPERM)
        return fail(errbuf, errlen, OASIS_EPERM,
                    "not allowed to open /dev/net/tun for %s: %s (run as root, or make the "
                    "device readable by your user)",
                    name, strerror(errno));
    return fail(errbuf, errlen, OASIS_EIO, "cannot open /dev/net/tun: %s", strerror(errno));
}

static int attach(oasis_tap *t, int create, int vnet, char *errbuf, size_t errlen)
{
    struct ifreq ifr;
    const char *kind = t->tun ? "TUN" : "TAP", *mode = t->tun ? "tun" : "tap";

    if (!create && if_nametoindex(t->name) == 0)
        return fail(errbuf, errlen, OASIS_ENOENT,
                    "no network device %s in this network namespace: create it with "
                    "`ip tuntap add dev %s mode %s user $USER` (as root)",
                    t->name, t->name, mode);
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, t->name, sizeof t->name);
    ifr.ifr_flags = (short)((t->tun ? IFF_TUN : IFF_TAP) | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0));
    if (ioctl(t->fd, TUNSETIFF, &ifr) == 0) {
        /* A persistent device keeps the offloads its last reader asked
         * for (TUNSETOFFLOAD outlives the descriptor). Left on, the kernel
         * hands us frames with partial checksums (only the pseudo-header
         * sum: every TCP segment is dropped as corrupt) and TSO
         * super-frames, neither of which plain frames can say. Best
         * effort: a kernel without the ioctl never had them set. */
        if (!vnet)
            (void)ioctl(t->fd, TUNSETOFFLOAD, 0UL);
        return OASIS_OK;
    }
    switch (errno) {
    case EPERM:
    case EACCES:
        return fail(errbuf, errlen, OASIS_EPERM,
                    "not allowed to attach to %s device %s: create it for your user with "
                    "`ip tuntap add dev %s mode %s user $USER`, or run with CAP_NET_ADMIN",
                    kind, t->name, t->name, mode);
    case EBUSY:
        return fail(errbuf, errlen, OASIS_EBUSY, "%s device %s is in use by another process",
                    kind, t->name);
    case EINVAL:
        return fail(errbuf, errlen, OASIS_EINVAL,
                    "%s exists but is not a %s device (a %s device or another kind of link?)",
                    t->name, kind, t->tun ? "TAP" : "TUN");
    default:
        return fail(errbuf, errlen, OASIS_EIO, "cannot attach to %s device %s: %s", kind, t->name,
                    strerror(errno));
    }
}

/* The virtio-net header in its 12-byte form, little-endian, and the
 * offloads we take: partial checksums, IPv4 and IPv6 TSO (not TSO_ECN:
 * the kernel then cuts ECN super-segments itself). A kernel that refuses
 * TSO6 (none since 2.6.27) still gets TSO4. Returns 0, or -1 with what
 * failed in t->status. */
static int vnet_setup(oasis_tap *t)
{
    int sz = OASIS_VNET_HDR_LEN, le = 1;
    const char *what = "TUNSETVNETHDRSZ";
    if (ioctl(t->fd, TUNSETVNETHDRSZ, &sz) == 0) {
        what = "TUNSETVNETLE";
        /* Legacy headers are in the host's order; little-endian hosts need
         * no switch, so only a big-endian one must have it. */
        int le_ok = ioctl(t->fd, TUNSETVNETLE, &le) == 0;
        uint16_t probe = 1;
        if (le_ok || *(uint8_t *)&probe == 1) {
            what = "TUNSETOFFLOAD";
            if (ioctl(t->fd, TUNSETOFFLOAD,
                      (unsigned long)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)) == 0) {
                t->tso6 = 1;
                return 0;
            }
            if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)) == 0)
                return 0;
        }
    }
    snprintf(t->status, sizeof t->status,
             "offloads off on %s: the kernel refused %s (%s); using plain frames", t->name, what,
             strerror(errno));
    return -1;
}

int oasis_tap_open(const oasis_tap_config *cfg, oasis_tap **out, char *errbuf, size_t errlen)
{
    if (errbuf && errlen)
        errbuf[0] = '\0';
    if (!cfg || !out || !cfg->name || !cfg->name[0] || strlen(cfg->name) >= IFNAMSIZ)
        return fail(errbuf, errlen, OASIS_EINVAL, "a TAP device name of 1 to %d characters is needed",
                    IFNAMSIZ - 1);
    if (cfg->mtu != 0 && (cfg->mtu < 576 || cfg->mtu > 65535))
        return fail(errbuf, errlen, OASIS_EINVAL, "MTU %u is out of range (576..65535)", cfg->mtu);
    *out = NULL;

    oasis_tap *t = calloc(1, sizeof *t);
    if (!t)
        return fail(errbuf, errlen, OASIS_ENOMEM, "out of memory");
    memcpy(t->name, cfg->name, strlen(cfg->name) + 1);
    t->fd = -1;
    t->tun = cfg->tun != 0;

    /* (a TUN device has no Ethernet header to leave room for) */
    uint32_t max_mtu = t->tun ? 65535u : OASIS_TAP_MAX_MTU;
    uint32_t mtu = cfg->mtu > max_mtu ? max_mtu : cfg->mtu;
    int err = open_tun(t->name, errbuf, errlen, &t->fd);
    int want = cfg->offload != OASIS_TAP_OFFLOAD_OFF;
    if (!err && want) {
        err = attach(t, cfg->create, 1, errbuf, errlen);
        if (!err && vnet_setup(t) == 0) {
            t->vnet = 1;
        } else if (cfg->offload == OASIS_TAP_OFFLOAD_ON) {
            if (!err)
                err = fail(errbuf, errlen, OASIS_ENOTSUP, "%s", t->status);
        } else {
            /* Fall back: a fresh descriptor attached without the header
             * (the flag cannot be taken back on an attached one). */
            if (!err) {
                close(t->fd);
                t->fd = -1;
                err = open_tun(t->name, errbuf, errlen, &t->fd);
            }
            if (err == OASIS_EINVAL && !t->status[0])
                snprintf(t->status, sizeof t->status,
                         "offloads off on %s: the kernel refused IFF_VNET_HDR; using plain frames",
                         t->name);
            if (err == OASIS_EINVAL || !err)
                err = attach(t, cfg->create, 0, errbuf, errlen);
        }
    } else if (!err) {
        err = attach(t, cfg->create, 0, errbuf, errlen);
        snprintf(t->status, sizeof t->status, "offloads off on %s (as asked)", t->name);
    }
    if (!err && t->vnet)
        snprintf(t->status, sizeof t->status,
                 "offloads on on %s: virtio-net header, partial checksums, %s both ways",
                 t->name, t->tso6 ? "TSO4 and TSO6" : "TSO4");
    if (!err)
        err = set_mtu(t, mtu, errbuf, errlen);
    if (!err && cfg->txqueuelen)
        err = set_txqueuelen(t, cfg->txqueuelen, errbuf, errlen);
    if (!err && cfg->up)
        err = bring_up(t, errbuf, errlen);
    if (err) {
        oasis_tap_close(t);
        return err;
    }
    wait_running(t, cfg->running_wait_ms);
    t->link.send = tap_send;
    t->link.mtu = t->mtu;
    t->link.data = t;
    if (t->vnet) {
        t->link.send_offload = tap_send_offload;
        t->link.caps = OASIS_LINK_TSO4 | (t->tso6 ? OASIS_LINK_TSO6 : 0) | OASIS_LINK_CSUM_TX |
                       OASIS_LINK_RX_GRO | OASIS_LINK_RX_CSUM;
        t->link.gso_max = OASIS_GSO_MAX;
    }
    if (t->tun)
        t->link.caps |= OASIS_LINK_IP;
    *out = t;
    return OASIS_OK;
}

void oasis_tap_close(oasis_tap *t)
{
    if (!t)
        return;
    if (t->fd >= 0)
        close(t->fd);
    free(t);
}

/* A NULL device: NULL link, fd -1, "" for the strings, 0 for the rest. */
oasis_link *oasis_tap_link(oasis_tap *t) { return t ? &t->link : NULL; }
int oasis_tap_fd(const oasis_tap *t) { return t ? t->fd : -1; }
const char *oasis_tap_name(const oasis_tap *t) { return t ? t->name : ""; }
uint32_t oasis_tap_mtu(const oasis_tap *t) { return t ? t->mtu : 0; }
uint64_t oasis_tap_send_drops(const oasis_tap *t) { return t ? t->send_drops : 0; }
int oasis_tap_offload(const oasis_tap *t) { return t ? t->vnet : 0; }
const char *oasis_tap_offload_status(const oasis_tap *t) { return t ? t->status : ""; }
uint64_t oasis_tap_bad_headers(const oasis_tap *t) { return t ? t->bad_headers : 0; }
uint64_t oasis_tap_rx_placed(const oasis_tap *t) { return t ? t->place.placed : 0; }

void oasis_tap_place_counts_get(const oasis_tap *t, oasis_tap_place_counts *out)
{
    if (!out)
        return;
    if (t)
        *out = t->place;
    else
        memset(out, 0, sizeof *out);
}

void oasis_tap_set_input_filter(oasis_tap *t, oasis_tap_input_fn fn, void *ud)
{
    if (!t)
        return;
    t->filter = fn;
    t->filter_ud = fn ? ud : NULL;
    t->pred_len = 0; /* no placement while a filter sees the frames */
}

/* A frame read around a placement that is input the usual way: its
 * payload comes back behind its headers (h bytes, vnet header included). */
static void gather(oasis_tap *t, const oasis_tcp_place *pl, size_t n, size_t h, size_t room)
{
    size_t pay = n - h, in_ring = pay < room ? pay : room;
    memmove(t->buf + h + in_ring, t->buf + h, pay - in_ring);
    memcpy(t->buf + h, pl->dst, in_ring);
}

/* Reads one frame; with offloads, the payload of a frame that continues
 * the last bulk data frame's flow goes straight into that flow's receive
 * ring (tcp_place.h). */
static ssize_t tap_read(oasis_tap *t, oasis_stack *s, oasis_tcp_place *pl, size_t *room)
{
    *room = 0;
    memset(pl, 0, sizeof *pl);
    if (!t->vnet || !t->pred_len)
        return read(t->fd, t->buf, sizeof t->buf);
    if (!oasis_tcp_place_begin(s, t->pred, t->pred_len, pl)) {
        ssize_t n = read(t->fd, t->buf, sizeof t->buf);
        if (n > 0)
            t->place.declined++;
        return n;
    }
    size_t h = OASIS_VNET_HDR_LEN + pl->hdr_len, rest = sizeof t->buf - h;
    *room = pl->room < rest ? pl->room : rest;
    struct iovec iov[3] = {
        {t->buf, h}, {pl->dst, *room}, {t->buf + h, rest - *room}};
    return readv(t->fd, iov, 3);
}

/* Offloads on: parses the virtio-net header and inputs the frame. */
static void vnet_frame(oasis_tap *t, oasis_stack *s, oasis_tcp_place *pl, size_t n, size_t room)
{
    oasis_offload off;
    size_t h = OASIS_VNET_HDR_LEN + pl->hdr_len;
    const uint8_t *frame = t->buf + OASIS_VNET_HDR_LEN;
    size_t len = n - OASIS_VNET_HDR_LEN;
    if (n < OASIS_VNET_HDR_LEN + 14 || oasis_vnet_parse(t->buf, len, &off) != OASIS_OK) {
        /* (14: an Ethernet header, or less than any IP packet's) */
        t->bad_headers++; /* not acted on: dropped */
        t->pred_len = 0;
        return;
    }
    oasis_place_result r = pl->dst ? oasis_tcp_place_match(pl, frame, len, &off)
                                   : OASIS_PLACE_OTHER;
    if (pl->dst) {
        t->place.placed += r == OASIS_PLACE_HIT;
        t->place.other += r == OASIS_PLACE_OTHER;
        t->place.too_big += r == OASIS_PLACE_TOO_BIG;
        t->place.untrusted += r == OASIS_PLACE_UNTRUSTED;
    }
    if (t->filter) {
        t->filter(t->filter_ud, s, frame, len, &off);
        return; /* nothing learnt: tap_read places nothing */
    }
    if (t->tun) { /* placement reads Ethernet frames: none here */
        oasis_stack_input_ip_offload(s, frame, len, &off);
        return;
    }
    if (r == OASIS_PLACE_HIT) {
        oasis_tcp_place_input(s, pl, frame, len, &off);
    } else {
        if (pl->dst && n > h)
            gather(t, pl, n, h, room);
        oasis_stack_input_offload(s, frame, len, &off);
    }
    /* The next frame is predicted from this one, if it carried bulk data. */
    t->pred_len = oasis_tcp_place_learn(frame, len);
    if (t->pred_len)
        memcpy(t->pred, frame, t->pred_len);
}

int oasis_tap_input(oasis_tap *t, oasis_stack *s, unsigned max_frames)
{
    if (!t || !s)
        return OASIS_EINVAL;
    if (max_frames == 0)
        max_frames = TAP_DEFAULT_BATCH;
    int got = 0;
    while ((unsigned)got < max_frames) {
        oasis_tcp_place pl;
        size_t room;
        ssize_t n = tap_read(t, s, &pl, &room);
        if (n <= 0) {
            int e = errno;
            oasis_tcp_place_end(s, &pl);
            if (n < 0 && e == EINTR)
                continue;
            if (n == 0 || e == EAGAIN || e == EWOULDBLOCK)
                break;
            return OASIS_EIO; /* e.g. EBADFD: the device was deleted */
        }
        got++;
        if (!t->vnet && t->filter)
            t->filter(t->filter_ud, s, t->buf, (size_t)n, NULL);
        else if (!t->vnet && t->tun)
            oasis_stack_input_ip(s, t->buf, (size_t)n);
        else if (!t->vnet)
            oasis_stack_input(s, t->buf, (size_t)n);
        else
            vnet_frame(t, s, &pl, (size_t)n, room);
        oasis_tcp_place_end(s, &pl);
    }
    return got;
}
