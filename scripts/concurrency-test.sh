#!/usr/bin/env bash
# Concurrency: 4 processes, each doing 25 deposits and 5 grants (with packages), on one vault
# at once. Every command must succeed, or fail with the documented "vault busy, retry" error
# (exit 75) after a bounded wait; the log must verify and hold exactly one entry per success.
# Usage: scripts/concurrency-test.sh [PATH-TO-dossier]
set -euo pipefail
dossier="${1:-$(swift build --show-bin-path)/dossier}"
work=$(mktemp -d "${TMPDIR:-/tmp}/dossier-concurrency.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
export DOSSIER_VAULT="$work/vault" DOSSIER_IDENTITY="$work/staff.key"

"$dossier" identity new -o staff.key --no-passphrase >/dev/null 2>&1
"$dossier" identity new -o counsel.key --no-passphrase >/dev/null 2>&1
"$dossier" init --org example.org/concurrency >/dev/null 2>&1
counsel=$("$dossier" counsel add counsel.key --name "Counsel" 2>/dev/null)
"$dossier" counsel vet "$counsel" --until 2099-12-31 >/dev/null 2>&1

client() {
    local c=$1
    mkdir -p "c$c"
    for i in $(seq 1 25); do
        head -c $((1000 + RANDOM)) /dev/urandom > "c$c/f$i"
        if id=$("$dossier" deposit "c$c/f$i" --kind expert-report --title "client $c file $i" 2>"c$c/err"); then
            echo "$id" >> "c$c/deposited"
        else
            rc=$?
            [ "$rc" = 75 ] && grep -q "busy" "c$c/err" || { echo "client $c: deposit failed with $rc: $(cat "c$c/err")"; exit 1; }
            echo busy >> "c$c/busy"
        fi
        if [ $((i % 5)) = 0 ] && [ -s "c$c/deposited" ]; then
            doc=$(tail -n1 "c$c/deposited")
            if "$dossier" grant "$doc" --to "$counsel" --for 1d -o "c$c/p$i.dpkg" >/dev/null 2>"c$c/err"; then
                echo "$doc" >> "c$c/granted"
            else
                rc=$?
                [ "$rc" = 75 ] && grep -q "busy" "c$c/err" || { echo "client $c: grant failed with $rc: $(cat "c$c/err")"; exit 1; }
                echo busy >> "c$c/busy"
            fi
        fi
    done
}

pids=()
for c in 1 2 3 4; do client "$c" & pids+=($!); done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
[ "$status" = 0 ] || { echo "concurrency-test: FAIL: a client failed with something other than 'vault busy'" >&2; exit 1; }

deposited=$({ cat c*/deposited 2>/dev/null || true; } | wc -l)
granted=$({ cat c*/granted 2>/dev/null || true; } | wc -l)
busy=$({ cat c*/busy 2>/dev/null || true; } | wc -l)
"$dossier" audit verify >/dev/null || { echo "concurrency-test: FAIL: the log does not verify" >&2; exit 1; }
logged_deposits=$("$dossier" audit log --action deposit --json | grep -c '"seq"')
logged_grants=$("$dossier" audit log --action grant --json | grep -c '"seq"' || true)
logged_packages=$("$dossier" audit log --action package --json | grep -c '"seq"' || true)
[ "$logged_deposits" = "$deposited" ] || { echo "concurrency-test: FAIL: $deposited deposits succeeded, $logged_deposits logged" >&2; exit 1; }
[ "$logged_grants" = "$granted" ] && [ "$logged_packages" = "$granted" ] || {
    echo "concurrency-test: FAIL: $granted grants succeeded, $logged_grants grants and $logged_packages packages logged" >&2; exit 1; }
listed=$("$dossier" list | wc -l)
[ "$listed" = "$deposited" ] || { echo "concurrency-test: FAIL: $deposited deposits succeeded, $listed listed" >&2; exit 1; }
"$dossier" doctor >/dev/null || { echo "concurrency-test: FAIL: doctor" >&2; exit 1; }
echo "concurrency-test: 4 clients: $deposited deposits and $granted grants succeeded, $busy refused as busy; log verified and complete"
