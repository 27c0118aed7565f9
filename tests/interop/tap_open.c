/* Opens and closes a TAP device N times; after each oasis_tap_open it sends
 * one ARP request for the kernel side's address at once and waits up to a
 * second for the answer. Linux starts the device's queue a moment after we
 * attach and drops what it sends to us until then, so without waiting for
 * the device to run the first answer is now and then lost (and the stack's
 * first ARP, ND or DHCP exchange costs a retransmission).
 *
 *   tap_open TAP KERNEL_IPV4 N      exit 0: every open answered; 1: not */
#include <arpa/inet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "oasis/error.h"
#include "oasis/tap.h"

static const uint8_t OUR_MAC[6] = {2, 0x4f, 0x0a, 0x4d, 0, 0x42};

static size_t arp_request(uint8_t *f, struct in_addr target)
{
    static const uint8_t hdr[] = {0, 1, 8, 0, 6, 4, 0, 1};
    struct in_addr us;
    inet_pton(AF_INET, "0.0.0.0", &us); /* an RFC 5227 probe: no address claimed */
    memset(f, 0xff, 6);
    memcpy(f + 6, OUR_MAC, 6);
    f[12] = 8, f[13] = 6;
    memcpy(f + 14, hdr, sizeof hdr);
    memcpy(f + 22, OUR_MAC, 6);
    memcpy(f + 28, &us, 4);
    memset(f + 32, 0, 6);
    memcpy(f + 38, &target, 4);
    memset(f + 42, 0, 18); /* padding to the 60-byte minimum */
    return 60;
}

static int is_reply(const uint8_t *f, ssize_t n, struct in_addr target)
{
    return n >= 42 && f[12] == 8 && f[13] == 6 && f[20] == 0 && f[21] == 2 &&
           memcmp(f + 28, &target, 4) == 0 && memcmp(f + 32, OUR_MAC, 6) == 0;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* IFF_RUNNING of the device, asked by name (the descriptor may be closed). */
static int running(const char *name)
{
    struct ifreq ifr;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0)
        r = !!(ifr.ifr_flags & IFF_RUNNING);
    if (s >= 0)
        close(s);
    return r;
}

int main(int argc, char **argv)
{
    struct in_addr target;
    if (argc != 4 || inet_pton(AF_INET, argv[2], &target) != 1) {
        fprintf(stderr, "usage: tap_open TAP KERNEL_IPV4 N\n");
        return 2;
    }
    int n = atoi(argv[3]), not_running = 0, unanswered = 0;
    for (int i = 0; i < n; i++) {
        oasis_tap_config cfg;
        oasis_tap *t;
        char err[256];
        oasis_tap_config_init(&cfg);
        cfg.name = argv[1];
        cfg.offload = OASIS_TAP_OFFLOAD_OFF; /* plain frames: no virtio-net header */
        int rc = oasis_tap_open(&cfg, &t, err, sizeof err);
        if (rc != OASIS_OK) {
            fprintf(stderr, "tap_open: %s [%s]\n", err, oasis_err_name(rc));
            return 2;
        }
        if (oasis_tap_running(t) != 1)
            not_running++;
        uint8_t f[2048];
        size_t len = arp_request(f, target);
        oasis_link *l = oasis_tap_link(t);
        if (l->send(l, f, len) != 0) {
            fprintf(stderr, "tap_open: cannot send on %s\n", argv[1]);
            return 2;
        }
        int answered = 0;
        for (uint64_t end = now_ms() + 1000; !answered && now_ms() < end;) {
            struct pollfd p = {.fd = oasis_tap_fd(t), .events = POLLIN};
            if (poll(&p, 1, (int)(end - now_ms())) <= 0)
                break;
            ssize_t k;
            while (!answered && (k = read(p.fd, f, sizeof f)) > 0)
                answered = is_reply(f, k, target);
        }
        unanswered += !answered;
        oasis_tap_close(t);
        /* Each open starts from a stopped device, as a program starting
         * does: closing turns the carrier off, and the kernel stops the
         * device just as lazily. */
        for (uint64_t end = now_ms() + 2000; running(argv[1]) && now_ms() < end;)
            nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    printf("tap_open: %d opens, %d not running when open returned, %d first requests unanswered\n",
           n, not_running, unanswered);
    return not_running || unanswered ? 1 : 0;
}
