#!/usr/bin/env bash
# The exposition of `oasis serve --prometheus`, read from outside with a
# strict reader (prom_strict.py) and promtool, while flows over IPv4 and
# IPv6 are open (a host tag full of characters that need escaping is
# given too: it is the reporter's, and must stay out of the exposition):
#  - every line legal, names and label values escaped as the text format
#    0.0.4 says, HELP and TYPE once per family, no series twice;
#  - the flows' labels name both address families;
#  - no counter series decreases over successive scrapes;
#  - OpenMetrics: the same escapes, # EOF, read by the same rules.
# Args: OASIS_BIN
TEST_NAME=metrics_interop_prom_exposition
NS_TAG=${NS_TAG:-pmet}
MYDIR=$(cd "$(dirname "$0")" && pwd)
source "$MYDIR/../interop/lib.sh"
HOSTTAG='pm "x\y z,a=b'
L6=2001:db8:77::1
O6=2001:db8:77::2
TARGET=http://$OASIS_IP:9100/metrics

need curl promtool
setup_ns 1500
tap_ipv6 "$L6/64"
start_serve --quiet --prometheus 9100 --metrics-flows 64 --addr6 "$O6/64" --host-tag "$HOSTTAG"
wait_for "$TMP/serve.log" "ipv6 $O6/64 preferred \(static\)" 10
wait_for "$TMP/serve.log" "Prometheus metrics at $TARGET" 5

# Slow downloads over both families stay open across the scrapes.
bg dl4 curl -s --limit-rate 200k -o /dev/null "http://$OASIS_IP/bytes/100000000"
bg dl6 curl -6 -s --limit-rate 200k -o /dev/null "http://[$O6]/bytes/100000000"
sleep 1
for i in 1 2 3 4 5; do
    ns curl -sS --max-time 10 -o "$TMP/m$i.txt" "$TARGET" || fail "scrape $i"
    sleep 0.5
done
ns python3 "$MYDIR/prom_strict.py" "$TMP"/m{1,2,3,4,5}.txt >"$TMP/strict.log" 2>&1 || {
    sed 's/^/  /' "$TMP/strict.log" | grep -v '^  labels:' | head -40
    fail "the strict reader refused the exposition"
}
grep '^ok:' "$TMP/strict.log" | sed 's/^ok: //' | while read -r l; do log "ok: $l"; done
# The host tag is the reporter's (line protocol), not a Prometheus label.
if grep -qF 'pm "x' "$TMP/m5.txt"; then fail "the host tag leaked into the exposition"; fi
grep -q "^labels: '$L6'$" "$TMP/strict.log" || fail "no flow labelled with the IPv6 peer $L6"
grep -q "^labels: '$LINUX_IP'$" "$TMP/strict.log" || fail "no flow labelled with the IPv4 peer $LINUX_IP"
pass "flow series for both the IPv4 and the IPv6 peer"
ns promtool check metrics <"$TMP/m5.txt" >"$TMP/promtool.log" 2>&1 || true
if grep -Ev "camelCase|abbreviated units|^$" "$TMP/promtool.log" | grep -q .; then
    fail "promtool: $(grep -Ev 'camelCase|abbreviated units' "$TMP/promtool.log" | head -3)"
fi
pass "promtool check metrics: style remarks only"

ns curl -sS --max-time 10 -H 'Accept: application/openmetrics-text' -o "$TMP/om.txt" "$TARGET" ||
    fail "OpenMetrics scrape"
[ "$(tail -1 "$TMP/om.txt")" = "# EOF" ] || fail "OpenMetrics does not end in # EOF"
# The same reader, with # EOF taken off and counter and info families named
# as in the text format (OpenMetrics drops _total and _info from them).
python3 - "$TMP/om.txt" "$TMP/om1.txt" <<'PY'
import re, sys
src, out = sys.argv[1], sys.argv[2]
lines = open(src).read().split("\n")
counters = {l.split()[2] for l in lines if re.match(r"# TYPE \S+ counter$", l)}
infos = {l.split()[2] for l in lines if re.match(r"# TYPE \S+ info$", l)}
res = []
for l in lines:
    if l == "# EOF":
        continue
    m = re.match(r"# (HELP|TYPE) (\S+)( .*)?$", l)
    if m and m.group(2) in counters:
        l = "# %s %s_total%s" % (m.group(1), m.group(2), m.group(3) or "")
    elif m and m.group(2) in infos:
        l = "# %s %s_info%s" % (m.group(1), m.group(2), (m.group(3) or "").replace(" info", " gauge") if m.group(1) == "TYPE" else m.group(3) or "")
    elif m and m.group(1) == "HELP":
        pass
    res.append(l)
open(out, "w").write("\n".join(res))
PY
ns python3 "$MYDIR/prom_strict.py" "$TMP/om1.txt" >"$TMP/strict_om.log" 2>&1 || {
    sed 's/^/  /' "$TMP/strict_om.log" | grep -v '^  labels:' | head -20
    fail "the strict reader refused the OpenMetrics exposition"
}
grep -q "^labels: '$L6'$" "$TMP/strict_om.log" || fail "OpenMetrics: no flow labelled with $L6"
pass "OpenMetrics: the same names, escapes and families, # EOF last"
# The Prometheus project's own Python parsers (Debian's
# python3-prometheus-client; the system Python has it), OpenMetrics strict.
/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null ||
    fail "no prometheus_client for /usr/bin/python3 (scripts/deps.sh: python3-prometheus-client)"
/usr/bin/python3 - "$TMP/om.txt" "$TMP/m5.txt" >"$TMP/pyparse.log" 2>&1 <<'PY' || fail "prometheus_client: $(tail -1 "$TMP/pyparse.log")"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om
from prometheus_client.parser import text_string_to_metric_families as text
a = len(list(om(open(sys.argv[1]).read())))
b = len(list(text(open(sys.argv[2]).read())))
print(a, b)
PY
pass "prometheus_client parses both: $(cat "$TMP/pyparse.log") families (OpenMetrics, text)"
serve_alive "after the scrapes"
stop_pid "$SERVE_PID" "oasis serve"
