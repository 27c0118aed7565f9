#!/usr/bin/env python3
"""Reads what fake_influx.py received (DIR/lines.lp), by the line protocol's
own escaping rules (InfluxDB line protocol: measurement escapes ',' and ' ';
tag keys, tag values and field keys escape ',', '=' and ' ').

  rep_check.py FILE last FIELD          FIELD of the newest oasis_reporter point
  rep_check.py FILE count MEAS A B      MEAS points stamped in [A, B] (ns)
  rep_check.py FILE hosts               the host tag values, one a line (repr)
  rep_check.py FILE unique              distinct lines
"""
import sys


def split_unescaped(s, sep):
    """Splits s at each sep not preceded by a backslash escape."""
    out, cur, i = [], [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            cur.append(s[i:i + 2])
            i += 2
            continue
        if c == sep:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    out.append("".join(cur))
    return out


def unescape(s, chars):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s) and s[i + 1] in chars:
            out.append(s[i + 1])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def parse(line):
    """(measurement, {tag: value}, {field: raw value}, timestamp)."""
    parts = split_unescaped(line, " ")
    if len(parts) != 3:
        raise ValueError("not three sections: %r" % line)
    head, fields, ts = parts
    mt = split_unescaped(head, ",")
    meas = unescape(mt[0], ", ")
    tags = {}
    for t in mt[1:]:
        kv = split_unescaped(t, "=")
        if len(kv) != 2:
            raise ValueError("bad tag %r in %r" % (t, line))
        tags[unescape(kv[0], ",= ")] = unescape(kv[1], ",= ")
    fs = {}
    for f in split_unescaped(fields, ","):
        kv = split_unescaped(f, "=")
        if len(kv) != 2:
            raise ValueError("bad field %r in %r" % (f, line))
        fs[unescape(kv[0], ",= ")] = kv[1]
    return meas, tags, fs, int(ts)


def points(path):
    try:
        data = open(path, encoding="utf-8").read()
    except OSError:
        return []
    return [parse(l) for l in data.split("\n") if l]


def main():
    path, cmd = sys.argv[1], sys.argv[2]
    pts = points(path)
    if cmd == "last":
        rep = [p for p in pts if p[0] == "oasis_reporter"]
        if not rep:
            print("")
            return
        p = max(rep, key=lambda p: p[3])
        print(p[2].get(sys.argv[3], "").rstrip("iu"))
    elif cmd == "count":
        a, b = int(sys.argv[4]), int(sys.argv[5])
        print(len({p[3] for p in pts if p[0] == sys.argv[3] and a <= p[3] <= b}))
    elif cmd == "hosts":
        for h in sorted({p[1].get("host") for p in pts if "host" in p[1]}):
            print(repr(h))
    elif cmd == "unique":
        print(len(set(l for l in open(path).read().split("\n") if l)))


main()
