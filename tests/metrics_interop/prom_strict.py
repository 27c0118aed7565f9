#!/usr/bin/env python3
"""A strict reader of the Prometheus text format 0.0.4, for
prom_exposition.sh (not trusting Oasis's own encoder tests).

Usage: prom_strict.py FILE...   (successive scrapes, oldest first)

Per file: every line is '# HELP', '# TYPE', another comment, or a sample;
metric and label names are legal (label names not '__'-prefixed); label
values use only the escapes \\\\, \\" and \\n; HELP and TYPE at most once per
family and before its samples; a family's samples are contiguous; a
counter's samples end in _total, an info family's in _info; values are
floats; no series twice. Across files: no counter series decreases.
Prints 'ok: ...' per check group or 'FAIL: ...' lines; exit 1 on failure.
Prints 'labels: V' for every distinct label value, for the caller."""
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LNAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
FLOAT = re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?|Inf|NaN)$")
errors = []


def err(f, ln, what):
    errors.append("%s:%d: %s" % (f, ln, what))


def parse_labels(s, i, f, ln):
    """s[i] == '{'. Returns (labels tuple, index after '}')."""
    i += 1
    labels = []
    while True:
        if s[i] == "}":
            return tuple(labels), i + 1
        m = LNAME.match(s, i)
        if not m:
            raise ValueError("bad label name at %r" % s[i:i + 20])
        name = m.group(0)
        if name.startswith("__"):
            raise ValueError("reserved label name %r" % name)
        i = m.end()
        if s[i:i + 2] != '="':
            raise ValueError("no =\" after label %r" % name)
        i += 2
        v = []
        while True:
            c = s[i]
            if c == "\\":
                e = s[i + 1]
                if e not in '\\"n':
                    raise ValueError("bad escape \\%s in label %r" % (e, name))
                v.append({"\\": "\\", '"': '"', "n": "\n"}[e])
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise ValueError("raw newline in a label value")
            else:
                v.append(c)
                i += 1
        if name in [l[0] for l in labels]:
            raise ValueError("label %r twice" % name)
        labels.append((name, "".join(v)))
        if s[i] == ",":
            i += 1
        elif s[i] != "}":
            raise ValueError("no , or } after label %r" % name)


def read(f):
    text = open(f, encoding="utf-8").read()
    if not text.endswith("\n"):
        err(f, 0, "does not end in a newline")
    helps, types, done = {}, {}, set()
    series = {}
    current = None
    for ln, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("#"):
            p = line.split(" ", 3)
            if len(p) >= 3 and p[1] in ("HELP", "TYPE"):
                fam = p[2]
                if not NAME.fullmatch(fam):
                    err(f, ln, "bad family name %r" % fam)
                d = helps if p[1] == "HELP" else types
                if fam in d:
                    err(f, ln, "%s of %s twice" % (p[1], fam))
                if fam in done:
                    err(f, ln, "%s of %s after its samples" % (p[1], fam))
                if p[1] == "TYPE":
                    if len(p) != 4 or p[3] not in ("counter", "gauge", "histogram", "summary", "untyped"):
                        err(f, ln, "bad TYPE line %r" % line)
                    else:
                        types[fam] = p[3]
                else:
                    helps[fam] = p[3] if len(p) == 4 else ""
                    h = helps[fam]
                    if re.search(r"\\[^\\n]", h.replace("\\\\", "")):
                        err(f, ln, "HELP of %s has an escape other than \\\\ or \\n" % fam)
                if current != fam:
                    if fam in done:
                        err(f, ln, "family %s split" % fam)
                    if current:
                        done.add(current)
                    current = fam
            continue
        if not line.strip():
            err(f, ln, "empty line")
            continue
        m = NAME.match(line)
        if not m:
            err(f, ln, "bad sample line %r" % line[:60])
            continue
        name = m.group(0)
        i = m.end()
        labels = ()
        try:
            if i < len(line) and line[i] == "{":
                labels, i = parse_labels(line + "\n", i, f, ln)
        except (ValueError, IndexError) as e:
            err(f, ln, "%s: %r" % (e, line[:80]))
            continue
        rest = line[i:]
        if not rest.startswith(" "):
            err(f, ln, "no space before the value: %r" % line[:80])
            continue
        parts = rest[1:].split(" ")
        if len(parts) not in (1, 2) or not FLOAT.match(parts[0]):
            err(f, ln, "bad value %r" % rest)
            continue
        fam = name
        for suf in ("_total", "_info", "_bucket", "_sum", "_count"):
            if name.endswith(suf) and name[: -len(suf)] in types:
                fam = name[: -len(suf)]
        if fam not in types:
            fam = name
        if fam != current:
            if fam in done:
                err(f, ln, "family %s split" % fam)
            if current:
                done.add(current)
            current = fam
        typ = types.get(fam, "untyped")
        if typ == "counter" and not name.endswith("_total"):
            err(f, ln, "counter sample %s without _total" % name)
        key = (name, tuple(sorted(labels)))
        if key in series:
            err(f, ln, "series twice: %s%r" % key)
        series[key] = (float(parts[0]), typ)
    return series


scrapes = [read(f) for f in sys.argv[1:]]
if not errors:
    print("ok: %d scrapes, %s series each: names, labels, escapes, HELP/TYPE once, families whole, no duplicates"
          % (len(scrapes), "/".join(str(len(s)) for s in scrapes)))
dec = 0
for a, b in zip(scrapes, scrapes[1:]):
    for k, (v, typ) in a.items():
        if typ == "counter" and k in b and b[k][0] < v:
            dec += 1
            errors.append("counter %s%r went from %s to %s" % (k[0], k[1], v, b[k][0]))
if not dec:
    print("ok: no counter series decreased across %d scrapes" % len(scrapes))
vals = set()
for s in scrapes:
    for (name, labels) in s:
        for k, v in labels:
            vals.add(v)
for v in sorted(vals):
    print("labels: %r" % v)
for e in errors[:30]:
    print("FAIL: " + e)
sys.exit(1 if errors else 0)
