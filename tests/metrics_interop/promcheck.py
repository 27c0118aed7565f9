#!/usr/bin/env python3
"""Prometheus HTTP API queries for tests/metrics_interop/prometheus.sh.

  promcheck.py BASE value QUERY        the first sample of an instant query
                                       (nothing printed when it is empty)
  promcheck.py BASE fetch OUT          the raw oasis_tcp_* and scrapes_total
                                       samples of the last 30 s, to OUT
  promcheck.py - compare OUT DUMP      the last scrape's samples in OUT
                                       against the stack's counters at that
                                       scrape, from the --metrics-dump of
                                       oasis serve; prints how many matched,
                                       the scrape, InSegs and OutSegs
"""
import json
import sys
import urllib.parse
import urllib.request


def query(base, q):
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
    with urllib.request.urlopen(url, timeout=10) as r:
        res = json.load(r)
    if res.get("status") != "success":
        raise SystemExit("query failed: %s (%s)" % (res, q))
    return res["data"]


def value(base, q):
    data = query(base, q)
    if data["result"]:
        print(data["result"][0]["value"][1])


def dump_scrape(path, scrape):
    """The tcp line of the dump taken at scrape number `scrape`."""
    for line in open(path):
        head, fields, _ts = line.rsplit(" ", 2)
        meas, *tags = head.split(",")
        tags = dict(t.split("=", 1) for t in tags)
        if meas == "tcp" and tags.get("scrape") == str(scrape):
            return {k: int(v.rstrip("i")) for k, v in (f.split("=", 1) for f in fields.split(","))}
    raise SystemExit("scrape %d is not in the dump" % scrape)


def fetch(base, out):
    # Raw samples with their own timestamps (a range vector).
    data = query(base, '{__name__=~"oasis_tcp_.*|oasis_prometheus_scrapes_total",'
                       'job="oasis",local_port=""}[30s]')
    with open(out, "w") as f:
        json.dump(data, f)


def compare(saved, dump):
    data = json.load(open(saved))
    series = {s["metric"]["__name__"]: [v for v in s["values"] if v[1] != "NaN"]
              for s in data["result"]}
    # The last scrape is the newest scrapes_total sample; every tcp series
    # has a sample at exactly its timestamp.
    scrapes = series.pop("oasis_prometheus_scrapes_total")
    ts, k = scrapes[-1][0], int(float(scrapes[-1][1]))
    want = dump_scrape(dump, k)
    matched = 0
    for field, v in want.items():
        name = None
        for n in ("oasis_tcp_%s_total" % field, "oasis_tcp_%s" % field):
            if n in series:
                name = n
        if name is None:
            raise SystemExit("no series for tcp field %s" % field)
        at = [float(x[1]) for x in series[name] if x[0] == ts]
        if not at:
            raise SystemExit("%s has no sample at the last scrape (t=%s)" % (name, ts))
        if int(at[0]) != v:
            raise SystemExit("%s: Prometheus has %s at scrape %d, the stack had %d"
                             % (name, at[0], k, v))
        matched += 1
    print("%d %d %d %d" % (matched, k, want["InSegs"], want["OutSegs"]))


if __name__ == "__main__":
    base, cmd = sys.argv[1], sys.argv[2]
    if cmd == "value":
        value(base, sys.argv[3])
    elif cmd == "fetch":
        fetch(base, sys.argv[3])
    elif cmd == "compare":
        compare(sys.argv[3], sys.argv[4])
    else:
        raise SystemExit(__doc__)
