/* `oasis`: try the Oasis stack against Linux on a TAP device. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: oasis COMMAND [options]\n"
    "Runs the Oasis TCP/IP stack (IPv4 and IPv6) on a Linux TAP device, or on a\n"
    "TUN device (--tun).\n\n"
    "Commands:\n"
    "  serve     echo, discard, hash and HTTP servers\n"
    "  get       download a URL over HTTP and print its SHA-256\n"
    "  ping      send ICMP echo requests\n"
    "  nc        connect to a TCP port; stdin to it, it to stdout\n"
    "  pattern   write the test pattern of /bytes/N to stdout\n"
    "  iperf     iperf3-compatible throughput test, server or client\n\n"
    "'oasis COMMAND --help' tells more. Set-up (as root, once):\n"
    "  ip tuntap add dev oasis0 mode tap user $USER\n"
    "  ip addr add 10.77.0.1/24 dev oasis0 && ip link set oasis0 up\n";

int cmd_pattern(int argc, char **argv)
{
    uint64_t n, off = 0;
    static pattern pat; /* 64 KiB: too big for the stack frame */
    uint8_t buf[65536];

    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        fputs("Usage: oasis pattern N\nWrites the N bytes that http://.../bytes/N serves: byte i is\n"
              "(i mod 251 + i div 65536) mod 256. N may end in K, M, G (binary units).\n",
              stdout);
        return EXIT_OK;
    }
    if (argc != 2 || parse_size(argv[1], &n) != 0) {
        fprintf(stderr, "oasis pattern: want one size, e.g. 1M\n");
        return EXIT_USAGE;
    }
    pattern_init(&pat);
    while (off < n) {
        size_t k = n - off < sizeof buf ? (size_t)(n - off) : sizeof buf;
        pattern_fill(&pat, off, buf, k);
        if (fwrite(buf, 1, k, stdout) != k)
            return EXIT_FAIL;
        off += k;
    }
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        {"serve", cmd_serve}, {"get", cmd_get}, {"ping", cmd_ping},
        {"nc", cmd_nc},       {"pattern", cmd_pattern}, {"iperf", cmd_iperf},
    };

    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "oasis: unknown command '%s'\n%s", argv[1], usage);
    return EXIT_USAGE;
}
