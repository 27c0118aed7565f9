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
]
COLS = [("oasis", None), ("lwip", None), ("linux", "loopback"), ("linux", "veth")]


def load(path):
    res = {}
    with open(path) as f:
        for line in f:
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


def target(row, better, o, lw, veth):
    """Issue 7's targets: 3x lwIP on every row (a third of its memory), and
    at least Linux veth on bulk at MTU 1500."""
    if o is None or lw is None:
        return "n/a"
    ok = o >= 3 * lw if better == "high" else o * 3 <= lw
    verdict = "3x lwIP: %s" % ("met" if ok else "MISSED")
    if row == "bulk_mtu1500" and veth is not None:
        verdict += "; >= veth: %s" % ("met" if o >= veth else "MISSED")
    return verdict


def write_csv(res, out):
    path = os.path.join(out, "results.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["row", "stack", "setup", "value", "unit", "note"])
        for (row, stack, setup), (v, unit, note) in sorted(res.items()):
            w.writerow([row, stack, setup, "%.6g" % v, unit, note])
    return path


def write_md(res, out):
    lines = ["# Oasis benchmarks", "",
             "One core each (taskset). Oasis: two stacks on the in-memory wire in one "
             "process; lwIP 2.1.3: two netifs back to back in one process (raw API, "
             "NO_SYS); Linux: loopback or a veth pair between two network namespaces. "
             "Memory: bytes per endpoint (socket) of an idle established flow, lower is "
             "better. Ratios are Oasis / other.", "",
             "| Benchmark | Unit | Oasis | lwIP | Linux lo | Linux veth | Oasis/lwIP "
             "| Oasis/Linux veth | Oasis/Linux lo | Target |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for row, title, unit, better in ROWS:
        o = get(res, row, "oasis")
        lw = get(res, row, "lwip")
        lo = get(res, row, "linux", "loopback")
        ve = get(res, row, "linux", "veth")
        if o is None and lw is None and lo is None and ve is None:
            continue
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            title, unit, fmt(o, unit), fmt(lw, unit), fmt(lo, unit), fmt(ve, unit),
            ratio(o, lw), ratio(o, ve), ratio(o, lo), target(row, better, o, lw, ve)))

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


def plot(res, out, name, rows, labels, ylabel, title, logscale=False):
    series = [("Oasis", "oasis", None), ("lwIP", "lwip", None),
              ("Linux loopback", "linux", "loopback"), ("Linux veth", "linux", "veth")]
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
    paths.append(plot(res, out, "memory", ["mem_10k", "mem_100k"],
                      ["10,000 flows", "100,000 flows"], "bytes per endpoint",
                      "Memory per idle established flow (lower is better)"))
    for p in paths:
        if p:
            print(p)


if __name__ == "__main__":
    main()
