#!/usr/bin/env python3
"""VictoriaMetrics queries for tests/metrics_interop/victoria.sh.

  vmcheck.py BASE count NAME SINCE_NS   samples of series NAME newer than SINCE_NS
  vmcheck.py BASE compare DUMP          every tcp field of the dump's final
                                        snapshot must be in VictoriaMetrics at
                                        the dump's timestamp; prints how many
"""
import json
import sys
import urllib.parse
import urllib.request


def flush(base):
    urllib.request.urlopen(base + "/internal/force_flush", timeout=10).read()


def export(base, match):
    flush(base)
    url = base + "/api/v1/export?" + urllib.parse.urlencode({"match[]": match})
    out = []
    with urllib.request.urlopen(url, timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.strip():
                out.append(json.loads(line))
    return out


def count(base, name, since_ns):
    since_ms = int(since_ns) // 1000000
    n = 0
    for s in export(base, name):
        n += sum(1 for t in s["timestamps"] if t > since_ms)
    print(n)


def compare(base, dump):
    for line in open(dump):
        head, fields, ts = line.rsplit(" ", 2)
        meas = head.split(",")[0]
        if meas == "tcp":
            want = {k: int(v.rstrip("i")) for k, v in (f.split("=", 1) for f in fields.split(","))}
            ts_ms = int(ts) // 1000000
            break
    else:
        raise SystemExit("no tcp line in the dump")
    # VictoriaMetrics keeps milliseconds: the last periodic report can share
    # the final snapshot's millisecond, and then both are there. Counters
    # only grow and the final snapshot is the later one, so it is the
    # largest sample of that millisecond; a lost final point leaves only
    # the smaller one and fails.
    matched = 0
    for field, v in want.items():
        got = []
        for s in export(base, "tcp_" + field):
            got += [int(x) for t, x in zip(s["timestamps"], s["values"]) if t == ts_ms]
        if not got:
            raise SystemExit("tcp_%s has no sample at the final snapshot (%d ms)" % (field, ts_ms))
        if max(got) != v:
            raise SystemExit("tcp_%s: VictoriaMetrics has %s at %d ms, the stack had %d"
                             % (field, sorted(got), ts_ms, v))
        matched += 1
    print(matched, want["InSegs"])


if __name__ == "__main__":
    base, cmd = sys.argv[1], sys.argv[2]
    if cmd == "count":
        count(base, sys.argv[3], sys.argv[4])
    elif cmd == "compare":
        compare(base, sys.argv[3])
    else:
        raise SystemExit(__doc__)
