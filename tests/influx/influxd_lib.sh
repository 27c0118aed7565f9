# A private InfluxDB 1.x for the tests in this folder (sourced after
# tests/interop/lib.sh): data in $TMP, every service but HTTP off.

# write_influx_conf HTTP_ADDR: the config file, HTTP on HTTP_ADDR
# (host:port) only, RPC on the namespace's loopback.
write_influx_conf() {
    cat >"$TMP/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:8088"
[meta]
  dir = "$TMP/influx/meta"
[data]
  dir = "$TMP/influx/data"
  wal-dir = "$TMP/influx/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[subscriber]
  enabled = false
[retention]
  enabled = false
[shard-precreation]
  enabled = false
[continuous_queries]
  enabled = false
[ifql]
  enabled = false
[http]
  enabled = true
  bind-address = "$1"
  log-enabled = true
  pprof-enabled = false
CONF
}

# start_influx BASE_URL: starts influxd in the namespace (INFLUX_PID) and
# waits until BASE_URL/ping answers, 30 s at most.
INFLUX_RUNS=0
start_influx() {
    INFLUX_RUNS=$((INFLUX_RUNS + 1))
    bg "influxd$INFLUX_RUNS" influxd -config "$TMP/influxdb.conf"
    INFLUX_PID=$BG_PID
    local i
    for ((i = 0; i < 300; i++)); do
        [ "$(ns curl -s -o /dev/null -w '%{http_code}' "$1/ping")" = 204 ] && return 0
        kill -0 "$INFLUX_PID" 2>/dev/null || fail "influxd exited at start"
        sleep 0.1
    done
    fail "influxd did not answer /ping within 30 s"
}
