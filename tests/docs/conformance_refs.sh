#!/usr/bin/env bash
# docs/conformance.md must not drift from the tests: every test a row of
# the requirement matrix cites ("file.c: test_name", several separated by
# ';' or ', ', a trailing "(comment)" allowed) must be a test in
# tests/file.c (see `have` below); every row has a known status, a `tested`
# row cites at least one test, and the Summary's counts are the rows'.
# Args: SOURCE_DIR (the repository).
set -euo pipefail
SRC=${1:?usage: $0 SOURCE_DIR}
DOC="$SRC/docs/conformance.md"
[ -r "$DOC" ] || { echo "no $DOC"; exit 1; }

bad=0
err() { echo "conformance.md: $*"; bad=$((bad + 1)); }

declare -A count=()
rows=0 cites=0
# Every test function once ("file.c:test_name", paths below tests/): one
# grep, not one per citation (there are over a thousand). A test is a
# `static void test_x(`, or a macro's `NAME(test_x,` that defines one
# (test_tcp_see.c's FOLDER).
declare -A have=()
while IFS= read -r t; do
    have[$t]=1
done < <(cd "$SRC/tests" &&
    grep -rEo --include='*.c' '^(static void |[A-Z_]+\()test_[A-Za-z0-9_]+[(,]' . |
    sed -E 's#^\./##; s#:(static void |[A-Z_]+\()#:#; s#[(,]$##')
# Table rows: 6 cells (ReqID | Requirement | Level | How | Test | Status).
while IFS=$'\t' read -r line id test status; do
    rows=$((rows + 1))
    case "$status" in
    tested | "no test yet" | n/a | justified | "not met") ;;
    *) err "line $line ($id): unknown status '$status'" ;;
    esac
    count[$status]=$((${count[$status]:-0} + 1))
    if [ "$test" = "—" ] || [ -z "$test" ]; then
        [ "$status" != tested ] || err "line $line ($id): tested, but no test named"
        continue
    fi
    IFS=';' read -ra items <<<"$test"
    for item in "${items[@]}"; do
        re='^ *([A-Za-z0-9_./-]+\.c): (test_[A-Za-z0-9_]+(, test_[A-Za-z0-9_]+)*)( *\([^)]*\))? *$'
        if ! [[ "$item" =~ $re ]]; then
            err "line $line ($id): cannot read the test reference '$item'"
            continue
        fi
        file="$SRC/tests/${BASH_REMATCH[1]}"
        names=${BASH_REMATCH[2]}
        if [ ! -f "$file" ]; then
            err "line $line ($id): no file tests/${BASH_REMATCH[1]}"
            continue
        fi
        IFS=',' read -ra list <<<"$names"
        for name in "${list[@]}"; do
            name=${name// /}
            cites=$((cites + 1))
            [ -n "${have[${BASH_REMATCH[1]}:$name]:-}" ] ||
                err "line $line ($id): no test $name in tests/${BASH_REMATCH[1]}"
        done
    done
done < <(awk -F'|' '
    /^\| *ReqID *\|/ || /^\|---/ { next }
    /^\|/ && NF == 8 {
        for (i = 2; i <= 7; i++) { gsub(/^ +| +$/, "", $i) }
        printf "%d\t%s\t%s\t%s\n", NR, $2, $6, $7
    }' "$DOC")

[ "$rows" -gt 0 ] || err "no table rows found"

# "N rows: **A tested**, **B implemented with no test yet**, **C not
# applicable** ..., **D justified** ..., **E not met**" in the Summary.
summary=$(awk '/^## Summary/ { on = 1 } on' "$DOC" | tr '\n' ' ')
num() { grep -Eo "$1" <<<"$summary" | grep -Eo '[0-9]+' | head -1; }
check_num() { # regex want what
    local got
    got=$(num "$1" || true)
    [ "${got:-}" = "$2" ] || err "Summary says ${got:-nothing} $3, the rows $2"
}
check_num '[0-9]+ rows' "$rows" "rows"
check_num '\*\*[0-9]+ tested\*\*' "${count[tested]:-0}" "tested"
check_num '\*\*[0-9]+ implemented with no test yet\*\*' "${count[no test yet]:-0}" "with no test yet"
check_num '\*\*[0-9]+ not\s+applicable\*\*' "${count[n/a]:-0}" "not applicable"
check_num '\*\*[0-9]+ justified\*\*' "${count[justified]:-0}" "justified"
check_num '\*\*[0-9]+ not met\*\*' "${count[not met]:-0}" "not met"

if [ "$bad" -ne 0 ]; then
    echo "conformance_refs: $bad problem(s) in docs/conformance.md"
    exit 1
fi
echo "conformance_refs: $rows rows, $cites test references, all present"
