#!/usr/bin/env bash
# oasis_stack_destroy and oasis_loop_destroy from a TAP loop's watcher and
# done predicate: refused with OASIS_EBUSY, and fine once the run returned.
TEST_NAME=interop_loop_busy
source "$(dirname "$0")/lib.sh"
LOOP_BUSY=${2:?usage: loop_busy.sh OASIS_BIN LOOP_BUSY_BIN}

setup_ns 1500
ns "$LOOP_BUSY" "$TAP" >"$TMP/loop_busy.log" 2>&1 || fail "$(cat "$TMP/loop_busy.log")"
pass "$(tail -n 1 "$TMP/loop_busy.log")"
