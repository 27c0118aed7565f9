#!/usr/bin/env python3
"""Queries InfluxDB 1.x over HTTP for tests/influx/influx.sh.

  check.py BASE DB count             points stored, all measurements
  check.py BASE DB count-since NS    oasis_reporter points newer than NS
  check.py BASE DB compare DUMP      every line of the dump (but the totals)
                                     must be in the database, field for field
  check.py BASE DB last MEAS FIELD   last(FIELD) of MEAS
"""
import json
import sys
import urllib.parse
import urllib.request

LAYERS = ["link", "arp", "ipv4", "icmp", "udp", "tcp", "ipv6", "icmp6", "nd", "udp6", "oasis_reporter"]


def query(base, db, q):
    url = base + "/query?" + urllib.parse.urlencode({"db": db, "q": q, "epoch": "ns"})
    with urllib.request.urlopen(url, timeout=10) as r:
        res = json.load(r)["results"][0]
    if "error" in res:
        raise SystemExit("query error: %s (%s)" % (res["error"], q))
    return res.get("series", [])


def count(base, db, where=""):
    meas = ",".join('"%s"' % m for m in LAYERS)
    total = 0
    for s in query(base, db, "SELECT count(*) FROM %s %s" % (meas, where)):
        # Every point of a measurement has every field: the largest count is
        # the number of points.
        total += max(v for v in s["values"][0][1:] if v is not None)
    return total


def parse_line(line):
    """Our own simple dump lines: no escapes, integer fields only."""
    head, fields, ts = line.rsplit(" ", 2)
    meas, *tags = head.split(",")
    vals = {}
    for f in fields.split(","):
        k, v = f.split("=", 1)
        vals[k] = int(v.rstrip("iu"))
    return meas, dict(t.split("=", 1) for t in tags), vals, int(ts)


def compare(base, db, dump):
    checked = 0
    for line in open(dump):
        line = line.strip()
        if not line or line.startswith("oasis_reporter_final"):
            continue
        meas, tags, vals, ts = parse_line(line)
        series = query(base, db, 'SELECT * FROM "%s" WHERE time = %d AND host = \'%s\''
                       % (meas, ts, tags["host"]))
        if not series or len(series[0]["values"]) != 1:
            raise SystemExit("%s at %d: not in the database" % (meas, ts))
        row = dict(zip(series[0]["columns"], series[0]["values"][0]))
        for k, v in vals.items():
            if row.get(k) != v:
                raise SystemExit("%s.%s at %d: database %r, stack %r" % (meas, k, ts, row.get(k), v))
            checked += 1
    print(checked)


def main():
    base, db, cmd = sys.argv[1:4]
    if cmd == "count":
        print(count(base, db))
    elif cmd == "count-since":
        print(count(base, db, "WHERE time > %d" % int(sys.argv[4])))
    elif cmd == "compare":
        compare(base, db, sys.argv[4])
    elif cmd == "last":
        s = query(base, db, 'SELECT last("%s") FROM "%s"' % (sys.argv[5], sys.argv[4]))
        print(s[0]["values"][0][1] if s else "none")
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main()
