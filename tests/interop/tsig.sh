#!/usr/bin/env bash
# TSIG (RFC 8945) against BIND: named in the namespace serves tsig.test
# and answers only queries signed with the key oasis-key (allow-query
# { key oasis-key; }). Oasis's resolver, given that key (--tsig), signs
# its query and takes the signed answer; without a key named refuses it;
# with the wrong secret or a key named does not know, named answers with
# an unsigned NOTAUTH (BADSIG, BADKEY), which Oasis does not believe (RFC
# 8945 5.4): it waits on for a signed answer and ends with "no DNS answer
# with a valid TSIG signature". huge.tsig.test (100 addresses) is
# truncated over UDP and asked again over TCP, signed and verified too.
TEST_NAME=interop_tsig
NS_TAG=${NS_TAG:-tsig}
source "$(dirname "$0")/lib.sh"
need named

setup_ns 1500
for i in $(seq 100 199); do ns ip addr add "10.77.0.$i/24" dev "$TAP"; done

secret() { python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'; }
KEY=$(secret)
OTHER=$(secret)
D="$TMP/named"
mkdir -p "$D"
{
    echo "\$TTL 300"
    echo "@ IN SOA ns.tsig.test. admin.tsig.test. 1 3600 600 86400 300"
    echo "@ IN NS ns.tsig.test."
    echo "ns IN A $LINUX_IP"
    echo "files IN A $LINUX_IP"
    for i in $(seq 100 199); do echo "huge IN A 10.77.0.$i"; done
} >"$D/tsig.test.zone"
cat >"$D/named.conf" <<CONF
key "oasis-key" { algorithm hmac-sha256; secret "$KEY"; };
options {
    directory "$D";
    pid-file "$D/named.pid";
    session-keyfile "$D/session.key";
    listen-on port 53 { $LINUX_IP; };
    listen-on-v6 { none; };
    recursion no;
    dnssec-validation no;
    querylog yes;
    allow-query { key oasis-key; };
};
controls { };
logging {
    channel out { stderr; severity info; print-category yes; };
    category default { out; };
    category queries { out; };
    category security { out; };
    category client { out; };
};
zone "tsig.test" { type primary; file "$D/tsig.test.zone"; };
CONF
bg named named -g -n 1 -4 -c "$D/named.conf"
wait_port 53
wait_for "$TMP/named.log" "running" 20

# 1. The right key: a signed query, a signed answer, verified.
oasis_run good 60 ping --verbose --dns "$LINUX_IP" --tsig "oasis-key:$KEY" -c 1 -W 2 files.tsig.test
[ "$RC" -eq 0 ] || fail "oasis ping with the key exited $RC"
grep -q "files.tsig.test is $LINUX_IP" "$TMP/good.log" || fail "no answer with the key"
grep -Eq "tsig verified 1, unsigned 0, badkey 0, badsig 0, badtime 0" "$TMP/good.log" ||
    fail "the answer was not verified once"
# named's query log: the query came with the key, signed (S), with EDNS (E).
grep -Eq "/key oasis-key \(files.tsig.test\): query: files.tsig.test IN A \+[A-Z]*S[A-Z]*E" \
    "$TMP/named.log" || fail "named logged no signed query"
grep -E "is $LINUX_IP|tsig verified" "$TMP/good.log" | sed 's/^/  /'
pass "signed query answered by named, its TSIG verified"

# 2. No key: named refuses (allow-query wants the key).
oasis_run nokey 60 ping --dns "$LINUX_IP" -c 1 -W 2 files.tsig.test
expect_eq "$RC" "1" "exit status without the key"
grep -q "refused" "$TMP/nokey.log" || fail "no word of the refusal"
pass "unsigned query refused by named"

# 3. The wrong secret: named's unsigned BADSIG is not believed.
oasis_run badsig 60 ping --verbose --dns "$LINUX_IP" --tsig "oasis-key:$OTHER" -c 1 -W 2 files.tsig.test
expect_eq "$RC" "1" "exit status with the wrong secret"
grep -q "no DNS answer with a valid TSIG signature" "$TMP/badsig.log" || fail "wrong secret: no TSIG error"
grep -Eq "tsig verified 0, unsigned 2," "$TMP/badsig.log" || fail "wrong secret: unsigned answers not counted"
grep -Eqi "badsig|invalid signature|tsig verify failure" "$TMP/named.log" ||
    fail "named did not see a bad signature"
grep -E "cannot resolve|tsig verified" "$TMP/badsig.log" | sed 's/^/  /'
pass "wrong secret: named answered BADSIG unsigned, Oasis refused it"

# 4. A key named does not know: BADKEY, unsigned, refused the same way.
oasis_run badkey 60 ping --verbose --dns "$LINUX_IP" --tsig "stranger-key:$KEY" -c 1 -W 2 files.tsig.test
expect_eq "$RC" "1" "exit status with an unknown key"
grep -q "no DNS answer with a valid TSIG signature" "$TMP/badkey.log" || fail "unknown key: no TSIG error"
grep -Eq "tsig verified 0, unsigned 2," "$TMP/badkey.log" || fail "unknown key: unsigned answers not counted"
grep -Eqi "badkey|unknown key|tsig verify failure" "$TMP/named.log" || fail "named did not see an unknown key"
pass "unknown key: named answered BADKEY unsigned, Oasis refused it"

# 5. A 1.6 KB answer: TC=1 over UDP, then a signed query over TCP.
oasis_run huge 60 ping --verbose --dns "$LINUX_IP" --tsig "oasis-key:$KEY" -c 1 -W 2 huge.tsig.test
[ "$RC" -eq 0 ] || fail "oasis ping huge.tsig.test exited $RC"
grep -Eq "huge.tsig.test is 10\.77\.0\.1[0-9][0-9] .*truncated 1, tcp queries 1" "$TMP/huge.log" ||
    fail "huge.tsig.test was not resolved over TCP after truncation"
grep -Eq "tsig verified 1, unsigned 0," "$TMP/huge.log" || fail "the TCP answer was not verified"
# ...and the TCP one (T after EDNS's version) with the key too.
grep -Eq "/key oasis-key \(huge.tsig.test\): query: huge.tsig.test IN A \+[A-Z]*S[A-Z]*E\([0-9]+\)T" \
    "$TMP/named.log" || fail "named logged no signed TCP query"
grep -E "huge.tsig.test is|tsig verified" "$TMP/huge.log" | sed 's/^/  /'
pass "TC=1, then a signed TCP query; its answer verified"
