#!/usr/bin/env bash
# Crash safety: deposit, grant, package, rotate and remove in a loop, kill the dossier process
# with SIGKILL at random moments, and after every kill check that
#   - `dossier doctor` and `dossier audit verify` pass,
#   - every deposit that reported success is retrievable byte for byte (unless removed),
#   - no temporary or plaintext file is left anywhere in the work folder.
# Usage: scripts/crash-test.sh [KILLS] [PATH-TO-dossier]   (default 50 kills; `make test` runs 5)
set -euo pipefail
kills="${1:-50}"
dossier="${2:-$(swift build --show-bin-path)/dossier}"
work=$(mktemp -d "${TMPDIR:-/tmp}/dossier-crash.XXXXXX")
trap 'kill -9 $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
# Run a private copy, so that a rebuild during the test cannot swap the binary under it.
cp "$dossier" "$work/dossier-under-test"
dossier="$work/dossier-under-test"
export DOSSIER_VAULT="$work/vault" DOSSIER_IDENTITY="$work/staff.key" XDG_CONFIG_HOME="$work/config"
fail() { echo "crash-test: FAIL after kill $k: $*" >&2; exit 1; }

"$dossier" identity new -o staff.key --no-passphrase >/dev/null 2>&1
"$dossier" identity new -o counsel.key --no-passphrase >/dev/null 2>&1
"$dossier" init --org example.org/crash-test >/dev/null 2>&1
counsel=$("$dossier" counsel add counsel.key --name "Crash Counsel" 2>/dev/null)
"$dossier" counsel vet "$counsel" --until 2099-12-31 >/dev/null 2>&1
mkdir -p in out
: > ledger      # "id sha256" of every deposit that reported success
: > removing    # ids whose removal was started

# One worker: random operations, forever, until killed.
worker() {
    local n=0
    while true; do
        n=$((n + 1))
        case $((RANDOM % 10)) in
            0|1|2|3|4)
                f="in/file-$n-$RANDOM.bin"
                head -c $((RANDOM * (RANDOM % 40 + 1))) /dev/urandom > "$f"
                if id=$("$dossier" deposit "$f" --kind expert-report --title "crash $n" 2>/dev/null); then
                    echo "$id $(sha256sum < "$f" | cut -d' ' -f1)" >> ledger
                fi ;;
            5|6)
                id=$(shuf -n1 ledger 2>/dev/null | cut -d' ' -f1)
                [ -n "$id" ] && grep -qx "$id" removing || {
                    [ -n "$id" ] && "$dossier" grant "$id" --to "$counsel" --for 1d -o "out/p-$n.dpkg" >/dev/null 2>&1 || true; } ;;
            7)  "$dossier" rotate >/dev/null 2>&1 || true ;;
            8)  id=$(shuf -n1 ledger 2>/dev/null | cut -d' ' -f1)
                if [ -n "$id" ] && ! grep -qx "$id" removing; then
                    echo "$id" >> removing
                    "$dossier" remove "$id" --reason "crash test" >/dev/null 2>&1 || true
                fi ;;
            9)  "$dossier" audit checkpoint >/dev/null 2>&1 || true ;;
        esac
    done
}

checked=0
started=$(date +%s)
for k in $(seq 1 "$kills"); do
    # The worker gets its own process group (job control on), so that one SIGKILL reaches the
    # dossier process it is running, however deeply nested in command substitutions.
    set -m
    worker 2>/dev/null &
    wpid=$!
    set +m
    sleep "0.$((RANDOM % 9 + 1))"
    kill -KILL -- "-$wpid" 2>/dev/null || true
    wait "$wpid" 2>/dev/null || true
    # Nothing of the worker may survive the kill.
    while pgrep -g "$wpid" >/dev/null 2>&1; do sleep 0.05; done

    "$dossier" doctor >doctor.out 2>&1 || { cat doctor.out >&2; fail "doctor reports damage"; }
    "$dossier" audit verify >verify.out 2>&1 || { cat verify.out >&2; fail "the log does not verify"; }
    # Leftovers: anonymous temporaries vanish with the process, so nothing may remain.
    leftovers=$(find "$work" \( -name '*.dossier-tmp-*' -o -name '*.dossier-new-*' \) | head -5)
    [ -z "$leftovers" ] || fail "temporary files left: $leftovers"
    [ -z "$(ls -A vault/blobs/tmp 2>/dev/null)" ] || fail "temporary blobs left in vault/blobs/tmp"
    # Every reported deposit is still there, byte for byte (removed ones excepted).
    while read -r id sum; do
        grep -qx "$id" removing && continue
        rm -f check.bin
        "$dossier" retrieve "$id" -o check.bin >/dev/null 2>retrieve.err || fail "deposit $id reported success but cannot be retrieved: $(cat retrieve.err)"
        [ "$(sha256sum < check.bin | cut -d' ' -f1)" = "$sum" ] || fail "deposit $id changed"
        checked=$((checked + 1))
    done < ledger
    rm -f check.bin
    "$dossier" doctor --fix >/dev/null 2>&1 || true
done
deposits=$(wc -l < ledger)
echo "crash-test: $kills kills survived in $(( $(date +%s) - started )) s; $deposits deposits reported, $checked retrievals checked byte for byte; doctor and audit verify passed after every kill; no temporary file left"
