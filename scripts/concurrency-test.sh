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
# With CONCURRENCY_MIX=all (scripts/postgres-test.sh: 8 clients on one PostgreSQL database),
# each client runs 25 mixed operations instead, in rounds of five: deposit, grant, approve,
# package, revoke (of the previous round's grant; a deposit in the first round). The policy
# asks two sign-offs for the kind deposited, and there are two staff members: a client working
# as one has its grants approved by the other, half the clients each way. Every command must
# succeed or be refused as busy (75); every client must complete at least MIN_MIXED of its 25;
# the log must hold exactly one entry per success of each kind (no more, no fewer), each
# naming what the success named; every package opens to its document; every deposit reads
# back byte for byte; the log verifies and `doctor` reports no damage.
# Usage: scripts/concurrency-test.sh [PATH-TO-dossier]
# CONCURRENCY_VAULT: the vault to make (default: a folder; scripts/postgres-test.sh gives an
# empty PostgreSQL database); CONCURRENCY_CLIENTS: how many clients (default 4);
# CONCURRENCY_MIX: deposits (default) or all.
set -euo pipefail
dossier="${1:-$(swift build --show-bin-path)/dossier}"
clients=${CONCURRENCY_CLIENTS:-4} deposits=25 MIN_DEPOSITS=20 mix=${CONCURRENCY_MIX:-deposits} MIN_MIXED=20
case $mix in deposits|all) ;; *) echo "concurrency-test: CONCURRENCY_MIX must be deposits or all" >&2; exit 64 ;; esac
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
if [ "$mix" = all ]; then
    # A second staff member, and a policy that asks two sign-offs for expert reports (offline
    # packages allowed), itself approved by the second member as a policy change must be.
    "$dossier" identity new -o colleague.key --no-passphrase >/dev/null 2>&1
    colleague=$("$dossier" staff add colleague.key --name Colleague 2>/dev/null) || fail "staff add"
    "$dossier" org certify --root "$work/org-root.key" "$colleague" >/dev/null 2>&1 || fail "org certify"
    printf 'version = 1\n' > two-person.toml
    for k in expert-report witness-testimony assurance-rebuttal supporting-material; do
        printf '[kinds.%s]\nmax_window = "30d"\ndefault_window = "7d"\napprovals = 2\nmax_recipients = 5\nrequire_vetted = true\nrequire_online = false\nmax_opens = 0\n' "$k" >> two-person.toml
    done
    sha=$("$dossier" policy set two-person.toml 2>/dev/null) || fail "policy set"
    "$dossier" policy approve "$sha" --identity colleague.key >/dev/null 2>&1 || fail "policy approve"
fi

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

# One client of the mix: its own process, working as staff.key (odd clients) or colleague.key
# (even ones), its grants approved by the other. Writes c$c/log ("ok KIND ID [MORE]" or "busy
# KIND" per operation), c$c/deposited, c$c/granted (as `client` does) and c$c/times.
mixed_client() {
    local c=$1 i me other id rc doc="" grant="" packaged="" to_revoke="" out extra
    if [ $((c % 2)) = 1 ]; then me=staff.key other=colleague.key; else me=colleague.key other=staff.key; fi
    mkdir -p "c$c"
    date +%s%3N > "c$c/times"
    # run KIND COMMAND...: runs one operation; sets `id` to what it printed; 1 if it was busy.
    run() {
        local kind=$1; shift
        rc=0
        id=$("$@" 2>"c$c/err") || rc=$?
        if [ "$rc" = 0 ]; then echo "ok $kind ${id:-} ${extra:-}" >> "c$c/log"; return 0; fi
        [ "$rc" = 75 ] && grep -q "busy" "c$c/err" || { echo "client $c: $kind failed with $rc: $(cat "c$c/err")"; exit 1; }
        echo "busy $kind" >> "c$c/log"; echo busy >> "c$c/busy"
        return 1
    }
    for i in $(seq 1 "$deposits"); do
        extra=""
        case $(((i - 1) % 5)) in
            0) deposit_one ;;
            1) grant="" packaged=""
               [ -n "$doc" ] && run grant "$dossier" grant "$doc" --to "$counsel" --for 1d --identity "$me" && grant=$id ;;
            2) [ -n "$grant" ] && { extra=$grant; run approve "$dossier" approve "$grant" --identity "$other" || grant=""; } ;;
            3) if [ -n "$grant" ]; then
                   out="c$c/p$i.dpkg" extra="$grant"
                   if run package "$dossier" package "$grant" -o "$out" --identity "$me"; then echo "$out $doc" >> "c$c/granted"; packaged=$grant; fi
               fi ;;
            4) # The previous round's packaged grant is revoked; the first round deposits instead.
               if [ -n "$to_revoke" ]; then
                   extra=$to_revoke
                   run revoke "$dossier" revoke "$to_revoke" --reason "round $i" --identity "$me" || true
               else
                   deposit_one
               fi
               to_revoke=$packaged ;;
        esac
    done
    date +%s%3N >> "c$c/times"
}
# One deposit of the mix, by the client's own staff member.
deposit_one() {
    head -c $((1000 + RANDOM)) /dev/urandom > "c$c/f$i"
    if run deposit "$dossier" deposit "c$c/f$i" --kind expert-report --title "client $c file $i" --identity "$me"; then
        doc=$id; echo "$id c$c/f$i" >> "c$c/deposited"
    fi
}

pids=()
for c in $(seq 1 "$clients"); do if [ "$mix" = all ]; then mixed_client "$c" & else client "$c" & fi; pids+=($!); done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
[ "$status" = 0 ] || fail "a client failed with something other than 'vault busy'"

for c in $(seq 1 "$clients"); do
    if [ "$mix" = all ]; then
        n=$(grep -c '^ok ' "c$c/log" || true)
        [ "$n" -ge "$MIN_MIXED" ] || fail "client $c completed $n of its $deposits operations, fewer than $MIN_MIXED"
    else
        n=$({ cat "c$c/deposited" 2>/dev/null || true; } | wc -l)
        [ "$n" -ge "$MIN_DEPOSITS" ] || fail "client $c completed $n of $deposits deposits, fewer than $MIN_DEPOSITS"
    fi
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
if [ "$mix" = all ]; then
    # Exactly one entry per success of each kind, and each success's id in an entry of its kind.
    for kind in grant approve package revoke; do
        succeeded=$(cat c*/log | awk -v k="$kind" '$1 == "ok" && $2 == k' | wc -l)
        [ "$(count "$kind")" = "$succeeded" ] || fail "$succeeded ${kind}s succeeded, $(count "$kind") logged"
        "$dossier" audit log --action "$kind" --json > "$kind.json"
        for g in $(cat c*/log | awk -v k="$kind" '$1 == "ok" && $2 == k { print (k == "grant" ? $3 : $NF) }'); do
            grep -q "\"grant:$g\"" "$kind.json" || fail "$kind of $g succeeded but no $kind entry names it"
        done
    done
    [ "$(count grant)" -gt 0 ] && [ "$(count approve)" -gt 0 ] && [ "$(count package)" -gt 0 ] && [ "$(count revoke)" -gt 0 ] ||
        fail "not every kind of operation succeeded at least once"
else
    [ "$(count grant)" = "$granted" ] && [ "$(count package)" = "$granted" ] ||
        fail "$granted grants succeeded, $(count grant) grants and $(count package) packages logged"
fi
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
if [ "$mix" = all ]; then
    mixed=$(cat c*/log | awk '$1 == "ok" { n[$2]++ } END { printf "%d deposits, %d grants, %d approvals, %d packages, %d revocations", n["deposit"], n["grant"], n["approve"], n["package"], n["revoke"] }')
    echo "concurrency-test: $clients clients, 25 mixed operations each, two staff approving each other's grants: $mixed succeeded (at least $MIN_MIXED per client), $busy refused as busy; every document retrieved and every package opened byte for byte; one log entry per success, log verified"
else
    echo "concurrency-test: $clients clients: $deposited deposits (at least $MIN_DEPOSITS each) and $granted grants succeeded, $busy refused as busy; every document retrieved and every package opened byte for byte; log verified and complete"
fi
