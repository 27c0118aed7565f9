#!/usr/bin/env python3
"""Turns the RESULT lines of the bench programs into results.csv,
results.md and PNG plots (gnuplot).

    report.py RAW_RESULTS OUT_DIR
"""
import csv
import os
import subprocess
import sys

ROWS = [
    ("bulk_mtu1500", "Bulk, one flow, MTU 1500", "Gbit/s", "high"),
    ("bulk_mtu9000", "Bulk, one flow, MTU 9000", "Gbit/s", "high"),
    ("bulk_mtu65535", "Bulk, one flow, MTU 65535", "Gbit/s", "high"),
    ("rr_1B", "Request/response, 1 B", "trans/s", "high"),
    ("rr_1024B", "Request/response, 1 KiB", "trans/s", "high"),
    ("crr", "Connect + 64 B req/resp + close", "conn/s", "high"),
    ("mem_10k", "Memory per idle flow, 10,000 flows", "bytes", "low"),
    ("mem_100k", "Memory per idle flow, 100,000 flows", "bytes", "low"),
    ("mem_1000k", "Memory per idle flow, 1,000,000 flows", "bytes", "low"),
    ("mem_10k_rss", "Process RSS, both ends, 10,000 flows", "MiB", "low"),
    ("mem_100k_rss", "Process RSS, both ends, 100,000 flows", "MiB", "low"),
    ("mem_1000k_rss", "Process RSS, both ends, 1,000,000 flows", "MiB", "low"),
]
COLS = [("oasis", None), ("lwip", None), ("linux", "loopback"), ("linux", "veth")]


LOADS = []  # (when, "l1 l5 l15", cores) from run_all.sh's LOAD lines

# Default buffer settings of the unsuffixed builds (the sweep adds "@size").
DEFAULT_SETTING = {"oasis": "auto-tuned (default)", "lwip": "4096k"}
PATH_PEERS = ("linux", "slirp4netns", "pasta")


def load(path):
    res = {}
    with open(path) as f:
        for line in f:
            if line.startswith("LOAD,"):
                parts = line.rstrip("\n").split(",")
                if len(parts) >= 4:
                    LOADS.append((parts[1], parts[2], parts[3]))
                continue
            if not line.startswith("RESULT,"):
                continue
            _, row, stack, setup, value, unit, note = line.rstrip("\n").split(",", 6)
            res[(row, stack, setup)] = (float(value), unit, note)
    return res


def get(res, row, stack, setup=None):
    for (r, s, st), v in res.items():
        if r == row and s == stack and (setup is None or st == setup):
            return v[0]
    return None


def best(res, row, prefix, better):
    """A stack's best figure over its settings: (value, setting) or (None, None)."""
    found = []
    for (r, st, _), v in res.items():
        if r != row:
            continue
        if st == prefix:
            found.append((v[0], DEFAULT_SETTING.get(prefix, "default")))
        elif st.startswith(prefix + "@"):
            found.append((v[0], st.split("@", 1)[1]))
    if not found:
        return None, None
    return (max if better == "high" else min)(found, key=lambda x: x[0])


def settings(res, prefix):
    """The settings a stack ran with, default first, then by size."""
    out = set()
    for (_, st, _) in res:
        if st == prefix:
            out.add("")
        elif st.startswith(prefix + "@"):
            out.add(st.split("@", 1)[1])
    def key(x):  # sizes ("64k") by size, then named builds ("alg1") by name
        size = x.rstrip("k")
        return (x != "", not size.isdigit(), int(size) if size.isdigit() else 0, x)
    return sorted(out, key=key)


def fmt(v, unit):
    if v is None:
        return "n/a"
    if unit == "Gbit/s":
        return "%.2f" % v
    if v >= 1e6:
        return "%.2fM" % (v / 1e6)
    if v >= 1e4:
        return "%.1fk" % (v / 1e3)
    return "%.0f" % v


def ratio(a, b):
    return "%.2fx" % (a / b) if a is not None and b else "n/a"


def target(row, better, o, lw, veth, auto=None):
    """Issue 13's in-memory target: bulk without offloads >= 1.5x lwIP at its
    best, at least Linux veth at every MTU; issue 16's: the auto-tuned
    default within 10% of Oasis's best fixed buffers, request/response
    >= 1.5x lwIP; issue 7's 3x lwIP for connections."""
    if row.startswith("mem_") and o is not None:
        # Issue 16: an idle flow <= 256 B all included; a million flows,
        # both ends, within 512 MiB of process RSS.
        if row.endswith("_rss"):
            return "<= 512 MiB: %s" % ("met" if o <= 512 else "MISSED") \
                if row == "mem_1000k_rss" else "n/a"
        return "<= 256 B: %s" % ("met" if o <= 256 else "MISSED")
    if o is None or lw is None:
        return "n/a"
    if row.startswith("bulk_"):
        verdict = ">= 1.5x lwIP best: %s" % ("met" if o >= 1.5 * lw else "MISSED")
        if veth is not None:
            verdict += "; >= veth: %s" % ("met" if o >= veth else "MISSED")
        if auto is not None:
            verdict += "; auto-tuned within 10%% of best: %s" % (
                "met" if auto >= 0.9 * o else "MISSED")
        return verdict
    if row.startswith("rr_"):
        return ">= 1.5x lwIP best: %s" % ("met" if o >= 1.5 * lw else "MISSED")
    ok = o >= 3 * lw if better == "high" else o * 3 <= lw
    return "3x lwIP: %s" % ("met" if ok else "MISSED")


def write_csv(res, out):
    path = os.path.join(out, "results.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["row", "stack", "setup", "value", "unit", "note"])
        for (row, stack, setup), (v, unit, note) in sorted(res.items()):
            w.writerow([row, stack, setup, "%.6g" % v, unit, note])
    return path


def write_md(res, out):
    lines = ["# Oasis benchmarks", ""]
    if LOADS:
        lines += ["Load during the run (1/5/15-minute load averages, %s cores): %s. The "
                  "machine is shared: absolute figures drift from run to run; the ratios "
                  "of one run are the headline." % (
                      LOADS[0][2], ", ".join("%s %s" % (w, l) for w, l, _ in LOADS)), ""]
    lines += ["## In memory, one core", "",
              "One core each (taskset). Oasis: two stacks on the in-memory wire in one "
              "process; lwIP 2.1.3: two netifs back to back in one process (raw API, "
              "NO_SYS); Linux: loopback or a veth pair between two network namespaces. "
              "Every peer at its best: lwIP on its own memory pools, TCP_WND = TCP_SND_BUF swept over 64k, 256k, "
              "1024k and 4096k (checksum algorithm 2), and alg1/alg3 (its checksum algorithms 1 and 3 at 64k), Oasis's per-flow buffers auto-tuned (its default: 64 KiB "
              "start, 4 MiB limit) and fixed at 64k, 256k, 1024k, 4096k and 16384k; the best setting is named beside the figure. Memory: "
              "bytes per endpoint (socket) of an idle established flow, lower is better. "
              "Ratios are Oasis at its best / other.", "",
              "| Benchmark | Unit | Oasis (defaults) | Oasis best (buffers) | lwIP best (TCP_WND) "
              "| Linux lo | Linux veth | Oasis best/lwIP best | Oasis best/Linux veth | Target |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for row, title, unit, better in ROWS:
        o = get(res, row, "oasis")
        ob, obs = best(res, row, "oasis", better)
        lw, lws = best(res, row, "lwip", better)
        lo = get(res, row, "linux", "loopback")
        ve = get(res, row, "linux", "veth")
        if o is None and lw is None and lo is None and ve is None:
            continue
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            title, unit, fmt(o, unit),
            "%s (%s)" % (fmt(ob, unit), obs) if ob is not None else "n/a",
            "%s (%s)" % (fmt(lw, unit), lws) if lw is not None else "n/a",
            fmt(lo, unit), fmt(ve, unit),
            ratio(ob, lw), ratio(ob, ve), target(row, better, ob, lw, ve, o)))

    for prefix, name in (("lwip", "lwIP: TCP_WND = TCP_SND_BUF"),
                         ("oasis", "Oasis: sndbuf = rcvbuf per flow")):
        sets = settings(res, prefix)
        if len(sets) < 2:
            continue
        lines += ["", "### Sweep, %s" % name, "",
                  "| Benchmark | Unit | " + " | ".join(
                      DEFAULT_SETTING[prefix] if x == "" else x for x in sets) + " |",
                  "|---|---|" + "---:|" * len(sets)]
        for row, title, unit, better in ROWS:
            vals = [get(res, row, prefix if x == "" else prefix + "@" + x) for x in sets]
            if all(v is None for v in vals):
                continue
            lines.append("| %s | %s | %s |" % (title, unit, " | ".join(fmt(v, unit) for v in vals)))

    prows = [(m, d) for m in (1500, 9000, 65520) for d in ("out", "in")
             if any(r == "path_%s_mtu%d" % (d, m) for (r, _, _) in res)]
    if prows:
        oasis_names = sorted({st for (r, st, _) in res if r.startswith("path_")
                              and st not in PATH_PEERS})
        lines += ["", "## The real paths: a stack in a namespace and the Linux kernel", "",
                  "iperf3 (`oasis iperf -s` for Oasis) for %s per direction, receiver's "
                  "wall-clock Gbit/s, nothing pinned. \"out\": the namespace side sends "
                  "to Linux; \"in\": Linux sends to it. Oasis: `oasis iperf -s` on a TAP "
                  "device in a private namespace, the kernel's iperf3 -c on the other side. "
                  "Linux veth: iperf3 between two namespaces (TSO/GRO on). slirp4netns and "
                  "pasta: iperf3 -c from a namespace they serve to iperf3 -s on the host's "
                  "loopback (rootlesskit's method)." % "the run's seconds", "",
                  "| MTU | Direction | " + " | ".join("Oasis TAP (%s)" % n for n in oasis_names)
                  + " | Linux veth | slirp4netns | pasta | Oasis/veth | Oasis/slirp4netns "
                  "| Oasis/pasta | Target (MTU 1500: >= 10 Gbit/s, >= 0.8x veth, >= 3x "
                  "slirp4netns and pasta) |",
                  "|---:|---|" + "---:|" * (len(oasis_names) + 6) + "---|"]
        for m, d in prows:
            row = "path_%s_mtu%d" % (d, m)
            os_ = [get(res, row, n) for n in oasis_names]
            o = max([v for v in os_ if v is not None], default=None)
            ve, sl, pa = (get(res, row, p) for p in PATH_PEERS)
            verdict = ""
            if m == 1500 and o is not None:
                checks = [("10 Gbit/s", o >= 10)]
                if ve:
                    checks.append(("0.8x veth", o >= 0.8 * ve))
                if sl:
                    checks.append(("3x slirp4netns", o >= 3 * sl))
                if pa:
                    checks.append(("3x pasta", o >= 3 * pa))
                verdict = "; ".join("%s %s" % (n, "met" if ok else "MISSED") for n, ok in checks)
            lines.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                m, d, " | ".join(fmt(v, "Gbit/s") for v in os_), fmt(ve, "Gbit/s"),
                fmt(sl, "Gbit/s"), fmt(pa, "Gbit/s"), ratio(o, ve), ratio(o, sl), ratio(o, pa),
                verdict))

    p6rows = [(m, d) for m in (1500, 9000, 65520) for d in ("out", "in")
              if any(r == "path6_%s_mtu%d" % (d, m) for (r, _, _) in res)]
    if p6rows:
        names6 = sorted({st for (r, st, _) in res if r.startswith("path6_")
                         and st not in PATH_PEERS})
        lines += ["", "### The real paths over IPv6", "",
                  "The same with static IPv6 addresses: Oasis and the veth pair only.", "",
                  "| MTU | Direction | " + " | ".join("Oasis TAP (%s)" % n for n in names6)
                  + " | Linux veth | Oasis/veth |",
                  "|---:|---|" + "---:|" * (len(names6) + 2)]
        for m, d in p6rows:
            row = "path6_%s_mtu%d" % (d, m)
            os_ = [get(res, row, n) for n in names6]
            o = max([v for v in os_ if v is not None], default=None)
            ve = get(res, row, PATH_PEERS[0])
            lines.append("| %d | %s | %s | %s | %s |" % (
                m, d, " | ".join(fmt(v, "Gbit/s") for v in os_), fmt(ve, "Gbit/s"), ratio(o, ve)))

    for pre, fam in (("path", "IPv4"), ("path6", "IPv6")):
        rrs = [z for z in (1, 1024) if any(r == "%s_rr_%dB" % (pre, z) for (r, _, _) in res)]
        if not rrs:
            continue
        names = sorted({st for (r, st, _) in res if r.startswith(pre + "_rr_")
                        and st not in PATH_PEERS})
        lines += ["", "### Request/response on the real paths" + (" over IPv6" if pre == "path6" else ""),
                  "",
                  "MTU 1500, %s, one message at a time: linux-bench's client "
                  "(blocking write, read until all is back, TCP_NODELAY) in the kernel-side "
                  "namespace against `oasis serve --echo-port` on the TAP, or against "
                  "linux-bench's echo server across a veth pair; two processes, nothing "
                  "pinned, wall-clock round trips per second." % fam, "",
                  "| Message | " + " | ".join("Oasis TAP (%s)" % n for n in names)
                  + " | Linux veth | Oasis/veth |",
                  "|---:|" + "---:|" * (len(names) + 2)]
        for z in rrs:
            row = "%s_rr_%dB" % (pre, z)
            os_ = [get(res, row, n) for n in names]
            o = max([v for v in os_ if v is not None], default=None)
            ve = get(res, row, PATH_PEERS[0])
            lines.append("| %d B | %s | %s | %s |" % (
                z, " | ".join(fmt(v, "trans/s") for v in os_), fmt(ve, "trans/s"), ratio(o, ve)))

    mc = get(res, "xcheck_memcpy", "machine")
    cs = get(res, "xcheck_csum", "oasis")
    if mc:
        lines += ["", "## Cross check: the cost of touching each byte", "",
                  "| Figure | Gbit/s | Oasis bulk as share of it (MTU 1500 / 9000 / 65535) |",
                  "|---|---:|---|"]
        bulks = [get(res, "bulk_mtu%d" % m, "oasis") for m in (1500, 9000, 65535)]
        for name, v in (("memcpy, 1460 B pieces over a 4 MiB ring", mc),
                        ("oasis_csum_add, same pieces", cs)):
            if v:
                shares = " / ".join("%.0f%%" % (100 * b / v) if b else "n/a" for b in bulks)
                lines.append("| %s | %.1f | %s |" % (name, v, shares))
        if cs:
            # One copy into the send ring, one out of it into the frame, one
            # frame copy on the wire, one into the receive ring, plus a
            # checksum on send and one on receive: the ideal with that design.
            bound = 1 / (4 / mc + 2 / cs)
            lines.append("")
            lines.append("A stack that copies every byte 4 times (send ring, frame, wire, "
                         "receive ring) and checksums it twice could at best reach "
                         "1/(4/memcpy + 2/csum) = %.1f Gbit/s on this machine." % bound)

    lines += ["", "## Notes per figure", ""]
    for (row, stack, setup), (v, unit, note) in sorted(res.items()):
        lines.append("- `%s` %s (%s): %s %s%s" % (row, stack, setup, fmt(v, unit), unit,
                                                  " - " + note if note else ""))
    path = os.path.join(out, "results.md")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def plot(res, out, name, rows, labels, ylabel, title, logscale=False, series=None, better="high"):
    series = series or [("Oasis defaults", "oasis", None), ("Oasis best", "best:oasis", None),
                        ("lwIP best", "best:lwip", None),
                        ("Linux loopback", "linux", "loopback"), ("Linux veth", "linux", "veth")]

    def get(res, r, stack, setup):  # "best:X": X at its best setting
        if stack.startswith("best:"):
            return best(res, r, stack[5:], better)[0]
        return globals()["get"](res, r, stack, setup)
    series = [s for s in series if any(get(res, r, s[1], s[2]) is not None for r in rows)]
    if not series:
        return None
    dat = os.path.join(out, name + ".dat")
    with open(dat, "w") as f:
        f.write("label " + " ".join('"%s"' % s[0] for s in series) + "\n")
        for r, lab in zip(rows, labels):
            vals = [get(res, r, s[1], s[2]) for s in series]
            f.write('"%s" %s\n' % (lab, " ".join("%g" % v if v is not None else "NaN"
                                                 for v in vals)))
    png = os.path.join(out, name + ".png")
    gp = ["set terminal pngcairo size 900,500 font 'Sans,10'", "set output '%s'" % png,
          "set title '%s'" % title, "set ylabel '%s'" % ylabel,
          "set style data histogram", "set style histogram clustered gap 1",
          "set style fill solid 0.8 border -1", "set key top left", "set grid ytics",
          "set yrange [0:*]" if not logscale else "set logscale y",
          "plot " + ", ".join("'%s' using %d:xtic(1) title columnheader(%d)" % (dat, i + 2, i + 2)
                              for i in range(len(series)))]
    try:
        subprocess.run(["gnuplot"], input="\n".join(gp) + "\n", text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print("report.py: gnuplot failed for %s: %s" % (name, e), file=sys.stderr)
        return None
    return png


def main():
    raw, out = sys.argv[1], sys.argv[2]
    res = load(raw)
    paths = [write_csv(res, out), write_md(res, out)]
    paths.append(plot(res, out, "bulk", ["bulk_mtu1500", "bulk_mtu9000", "bulk_mtu65535"],
                      ["MTU 1500", "MTU 9000", "MTU 65535"], "Gbit/s",
                      "Bulk throughput, one flow, one core"))
    paths.append(plot(res, out, "rr", ["rr_1B", "rr_1024B", "crr"],
                      ["req/resp 1 B", "req/resp 1 KiB", "connections (CRR)"],
                      "per second (log scale)", "Round trips and connections per second, one core",
                      logscale=True))
    prow = [(m, d) for m in (1500, 9000, 65520) for d in ("out", "in")]
    pser = [("Oasis TAP", "oasis", None), ("Oasis TAP, offloads", "oasis+offload", None),
            ("Linux veth", "linux", None),
            ("slirp4netns", "slirp4netns", None), ("pasta", "pasta", None)]
    paths.append(plot(res, out, "paths", ["path_%s_mtu%d" % (d, m) for m, d in prow],
                      ["%d %s" % (m, d) for m, d in prow], "Gbit/s",
                      "A stack in a namespace and Linux: out = it sends, in = Linux sends",
                      series=pser))
    paths.append(plot(res, out, "memory", ["mem_10k", "mem_100k", "mem_1000k"],
                      ["10,000 flows", "100,000 flows", "1,000,000 flows"], "bytes per endpoint",
                      "Memory per idle established flow (lower is better)", better="low"))
    for p in paths:
        if p:
            print(p)


if __name__ == "__main__":
    main()
