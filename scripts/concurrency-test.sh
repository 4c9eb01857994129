#!/usr/bin/env bash
# Concurrency, promise 8 of docs/threat-model.md: 4 clients, each a separate shell process
# running separate dossier processes, make 25 deposits and 5 grants (with packages) on one
# vault at once. Every command must succeed, or fail with the documented "vault busy, retry"
# error (exit 75) after a bounded wait; and
#   - every client must complete at least MIN_DEPOSITS deposits (a vault that refuses
#     everything as busy fails), and the clients must have run at the same time;
#   - afterwards every deposited document is retrieved and compared byte for byte with what
#     was deposited, and every package opens (counsel side) to the documents granted;
#   - the log verifies and holds exactly one entry per success (deposits, grants, packages,
#     then the retrievals); `doctor` reports no damage.
# Usage: scripts/concurrency-test.sh [PATH-TO-dossier]
# CONCURRENCY_VAULT: the vault to make (default: a folder; scripts/postgres-test.sh gives an
# empty PostgreSQL database); CONCURRENCY_CLIENTS: how many clients (default 4).
set -euo pipefail
dossier="${1:-$(swift build --show-bin-path)/dossier}"
clients=${CONCURRENCY_CLIENTS:-4} deposits=25 MIN_DEPOSITS=20
work=$(mktemp -d "${TMPDIR:-/tmp}/dossier-concurrency.XXXXXX")
export XDG_STATE_HOME="$work/state"   # where dossier remembers the newest log entry it verified
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
export DOSSIER_VAULT="${CONCURRENCY_VAULT:-$work/vault}" DOSSIER_IDENTITY="$work/staff.key" XDG_CONFIG_HOME="$work/config"
fail() { echo "concurrency-test: FAIL: $*" >&2; exit 1; }

"$dossier" identity new -o staff.key --no-passphrase >/dev/null 2>&1
"$dossier" identity new -o counsel.key --no-passphrase >/dev/null 2>&1
"$dossier" init --org example.org/concurrency --root-out "$work/org-root.key" --no-passphrase >/dev/null 2>&1
counsel=$("$dossier" counsel add counsel.key --name "Counsel" 2>/dev/null)
"$dossier" counsel vet "$counsel" --until 2099-12-31 >/dev/null 2>&1
org=$("$dossier" org show 2>/dev/null | grep -o 'dossierorg1[a-z0-9]*' | head -n1)
[ -n "$org" ] || fail "cannot read the organisation's public key"
"$dossier" trust add "$org" --name "Concurrency" >/dev/null 2>&1

# One client: its own process, running one dossier process per command. Writes
# c$c/deposited ("id file"), c$c/granted ("package id"), c$c/busy, c$c/times (start, end).
client() {
    local c=$1 i id doc rc
    mkdir -p "c$c"
    date +%s%3N > "c$c/times"
    for i in $(seq 1 "$deposits"); do
        head -c $((1000 + RANDOM)) /dev/urandom > "c$c/f$i"
        if id=$("$dossier" deposit "c$c/f$i" --kind expert-report --title "client $c file $i" 2>"c$c/err"); then
            echo "$id c$c/f$i" >> "c$c/deposited"
        else
            rc=$?
            [ "$rc" = 75 ] && grep -q "busy" "c$c/err" || { echo "client $c: deposit failed with $rc: $(cat "c$c/err")"; exit 1; }
            echo busy >> "c$c/busy"
        fi
        if [ $((i % 5)) = 0 ] && [ -s "c$c/deposited" ]; then
            doc=$(tail -n1 "c$c/deposited" | cut -d' ' -f1)
            if "$dossier" grant "$doc" --to "$counsel" --for 1d -o "c$c/p$i.dpkg" >/dev/null 2>"c$c/err"; then
                echo "c$c/p$i.dpkg $doc" >> "c$c/granted"
            else
                rc=$?
                [ "$rc" = 75 ] && grep -q "busy" "c$c/err" || { echo "client $c: grant failed with $rc: $(cat "c$c/err")"; exit 1; }
                echo busy >> "c$c/busy"
            fi
        fi
    done
    date +%s%3N >> "c$c/times"
}

pids=()
for c in $(seq 1 "$clients"); do client "$c" & pids+=($!); done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
[ "$status" = 0 ] || fail "a client failed with something other than 'vault busy'"

for c in $(seq 1 "$clients"); do
    n=$({ cat "c$c/deposited" 2>/dev/null || true; } | wc -l)
    [ "$n" -ge "$MIN_DEPOSITS" ] || fail "client $c completed $n of $deposits deposits, fewer than $MIN_DEPOSITS"
done
# Every client started before any other finished: they really ran at the same time.
[ "$(awk 'FNR == 1 { s = $1 > s ? $1 : s } FNR == 2 && (e == "" || $1 < e) { e = $1 } END { print (s < e) }' c*/times)" = 1 ] ||
    fail "the clients did not overlap in time"

deposited=$(cat c*/deposited | wc -l)
granted=$({ cat c*/granted 2>/dev/null || true; } | wc -l)
busy=$({ cat c*/busy 2>/dev/null || true; } | wc -l)
count() { "$dossier" audit log --action "$1" --json | grep -c '"seq"' || true; }
"$dossier" audit verify >/dev/null 2>&1 || fail "the log does not verify"
[ "$(count deposit)" = "$deposited" ] || fail "$deposited deposits succeeded, $(count deposit) logged"
[ "$(count grant)" = "$granted" ] && [ "$(count package)" = "$granted" ] ||
    fail "$granted grants succeeded, $(count grant) grants and $(count package) packages logged"
listed=$("$dossier" list | wc -l)
[ "$listed" = "$deposited" ] || fail "$deposited deposits succeeded, $listed listed"

# Every document reads back exactly as deposited, from the vault and from its package.
while read -r id file; do
    rm -f retrieved
    "$dossier" retrieve "$id" -o retrieved >/dev/null 2>err || fail "deposit $id ($file) cannot be retrieved: $(cat err)"
    cmp -s retrieved "$file" || fail "deposit $id is not what $file held"
done < <(cat c*/deposited)
declare -A file_of
while read -r id file; do file_of[$id]=$file; done < <(cat c*/deposited)
while read -r package id; do
    rm -rf opened && mkdir opened
    "$dossier" open "$package" --identity counsel.key -o opened >/dev/null 2>err || fail "$package does not open: $(cat err)"
    [ "$(find opened -type f | wc -l)" = 1 ] || fail "$package did not open to exactly one document"
    cmp -s opened/* "${file_of[$id]}" || fail "$package does not hold what ${file_of[$id]} held"
done < <(cat c*/granted 2>/dev/null || true)
[ "$(count retrieve)" = "$deposited" ] || fail "$deposited retrievals, $(count retrieve) logged"
"$dossier" audit verify >/dev/null 2>&1 || fail "the log does not verify after the retrievals"
"$dossier" doctor >doctor.out 2>&1 || { cat doctor.out >&2; fail "doctor reports damage"; }
echo "concurrency-test: $clients clients: $deposited deposits (at least $MIN_DEPOSITS each) and $granted grants succeeded, $busy refused as busy; every document retrieved and every package opened byte for byte; log verified and complete"
