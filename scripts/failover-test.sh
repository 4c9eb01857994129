#!/usr/bin/env bash
# Failover without loss (docs/deployment.md, section 5; docs/threat-model.md, promise 7).
# On this machine: a primary and its synchronous standby (scripts/pg-cluster.sh start, then
# standby: pg_basebackup -R, synchronous_standby_names, synchronous_commit = on), each on a
# loopback port. CLIENTS clients (default 4), each a shell process running one dossier process
# per command, deposit (and every fifth time grant, writing a package) through a multi-host URI
# with target_session_attrs=read-write. During the load the primary's postmaster is SIGKILLed
# (and the processes it leaves: a machine that died), the standby is promoted with
# `pg_ctl promote`, and the clients go on through the same URI. Then, on the new primary alone:
#   - the log exported from the old primary just before the kill is, entry for entry and byte
#     for byte, the beginning of the new primary's log; `audit verify` and `doctor` pass;
#   - every deposit that reported success is listed, has exactly one deposit entry in the log
#     and is retrieved with the SHA-256 of what was deposited; every grant that reported success
#     is logged and its package opens (counsel side) to that document;
#   - every command that failed exited 75 or 69 with a `hint:` line, had started before the
#     standby was promoted, and is at most one per client (the one in flight at the kill); a
#     failed deposit left nothing unless its outcome was reported unknown (75: the connection
#     was lost during COMMIT), and then it is whole; a failed grant wrote no package;
#   - every listed document is one that a client attempted, and the log holds exactly one
#     deposit entry per listed document;
#   - every client succeeded again after the promotion, through the multi-host URI.
# Fails (non-zero) when any check fails, and when PostgreSQL is missing.
# Usage: scripts/failover-test.sh PATH-TO-dossier      (make test runs it)
set -euo pipefail
dossier="${1:?usage: scripts/failover-test.sh PATH-TO-dossier}"
case $dossier in /*) ;; *) dossier="$PWD/$dossier" ;; esac
here=$(cd "$(dirname "$0")" && pwd)
clients=${CLIENTS:-4}
work=$(mktemp -d "${TMPDIR:-/tmp}/dossier-failover.XXXXXX")
chmod 0755 "$work"   # the clusters' owner (postgres) must reach its directories inside
primary="$work/primary" standby="$work/standby"
pids=()
cleanup() {
    touch "$work/stop" 2>/dev/null || true
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -d "$primary/data" ] && "$here/pg-cluster.sh" stop "$primary" 2>/dev/null
    [ -d "$standby/data" ] && "$here/pg-cluster.sh" stop "$standby" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "failover-test: FAIL: $*" >&2; exit 1; }
now() { date +%s%3N; }

"$here/pg-cluster.sh" start "$primary" > /dev/null || fail "cannot start the primary"
"$here/pg-cluster.sh" standby "$primary" "$standby" > /dev/null || fail "cannot start a synchronous standby"
p1=$(cat "$primary/port") p2=$(cat "$standby/port")
cd "$work"
export XDG_STATE_HOME="$work/state" XDG_CONFIG_HOME="$work/config" DOSSIER_IDENTITY="$work/staff.key"
export DOSSIER_VAULT="postgresql://postgres@127.0.0.1:$p1,127.0.0.1:$p2/dossier_test?target_session_attrs=read-write&connect_timeout=2"
new_primary="postgresql://postgres@127.0.0.1:$p2/dossier_test"

"$dossier" identity new -o staff.key --no-passphrase >/dev/null 2>&1
"$dossier" identity new -o counsel.key --no-passphrase >/dev/null 2>&1
"$dossier" init --org example.org/failover --root-out "$work/org-root.key" --no-passphrase >/dev/null 2>&1 || fail "init"
counsel=$("$dossier" counsel add counsel.key --name Counsel 2>/dev/null) || fail "counsel add"
"$dossier" counsel vet "$counsel" --until 2099-12-31 >/dev/null 2>&1 || fail "counsel vet"
org=$("$dossier" org show 2>/dev/null | grep -o 'dossierorg1[a-z0-9]*' | head -n1)
"$dossier" trust add "$org" --name Failover >/dev/null 2>&1 || fail "trust add"

# One client. Each command is a line of c$c/log: "START END RESULT KIND NAME ID-OR-RC [EXTRA]".
client() {
    local c=$1 i=0 id rc start file sum last=""
    mkdir -p "c$c"
    while [ ! -e stop ]; do
        i=$((i + 1))
        file="c$c/f$i"
        head -c $((1000 + RANDOM * 4)) /dev/urandom > "$file"
        sum=$(sha256sum < "$file" | cut -d' ' -f1)
        start=$(now)
        if id=$("$dossier" deposit "$file" --kind expert-report --title "failover-c$c-$i" 2>"c$c/e$i"); then
            echo "$start $(now) ok deposit failover-c$c-$i $id $sum" >> "c$c/log"; last=$id
        else
            rc=$?; echo "$start $(now) failed deposit failover-c$c-$i $rc $sum c$c/e$i" >> "c$c/log"
        fi
        if [ $((i % 5)) = 0 ] && [ -n "$last" ]; then
            start=$(now)
            if id=$("$dossier" grant "$last" --to "$counsel" --for 1d -o "c$c/g$i.dpkg" 2>"c$c/g$i.err"); then
                echo "$start $(now) ok grant c$c/g$i.dpkg $id $last" >> "c$c/log"
            else
                rc=$?; echo "$start $(now) failed grant c$c/g$i.dpkg $rc $last c$c/g$i.err" >> "c$c/log"
            fi
        fi
    done
}
successes() { cat c*/log 2>/dev/null | awk '$3 == "ok"' | wc -l; }

for c in $(seq 1 "$clients"); do client "$c" & pids+=($!); done
deadline=$(($(date +%s) + 60))
until [ "$(successes)" -ge $((clients * 4)) ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "the clients made fewer than $((clients * 4)) changes in 60 s"
    sleep 0.1
done
# The log as the old primary holds it, then the kill while the clients are running.
"$dossier" audit export -o before.dlog >/dev/null 2>export.err || fail "audit export before the kill: $(cat export.err)"
before_kill=$(successes)
killed=$(now)
"$here/pg-cluster.sh" kill "$primary" || fail "cannot kill the primary"
sleep 1
"$here/pg-cluster.sh" promote "$standby" || fail "cannot promote the standby"
promoted=$(now)
# Each client must succeed at least twice more, through the same multi-host URI.
deadline=$(($(date +%s) + 90))
while true; do
    behind=0
    for c in $(seq 1 "$clients"); do
        n=$(awk -v t="$promoted" '$3 == "ok" && $1 > t' "c$c/log" | wc -l)
        [ "$n" -ge 2 ] || behind=$((behind + 1))
    done
    [ "$behind" = 0 ] && break
    [ "$(date +%s)" -lt "$deadline" ] || fail "$behind client(s) did not succeed twice within 90 s of the promotion"
    sleep 0.2
done
touch stop
for p in "${pids[@]}"; do wait "$p" || fail "a client died"; done
pids=()

# Everything below reads the new primary alone.
export DOSSIER_VAULT="$new_primary"
"$dossier" audit verify >verify.out 2>&1 || { cat verify.out >&2; fail "audit verify fails on the new primary"; }
"$dossier" doctor --deep >doctor.out 2>&1 || { cat doctor.out >&2; fail "doctor reports damage on the new primary"; }
"$dossier" audit export -o after.dlog >/dev/null 2>export.err || fail "audit export after: $(cat export.err)"
grep '^entry ' before.dlog > before.entries
grep '^entry ' after.dlog | head -n "$(wc -l < before.entries)" | cmp -s - before.entries ||
    fail "the new primary's log does not begin with the entries exported from the old primary"
"$dossier" audit log --action deposit --json > deposits.json
"$dossier" list > listed.tsv

cat c*/log > all.log
ok_deposits=0 failed=0 unknown=0 ok_grants=0
while read -r start end result kind name rest; do
    set -- $rest
    if [ "$result" = ok ]; then
        case $kind in
            deposit)
                id=$1 sum=$2 ok_deposits=$((ok_deposits + 1))
                [ "$(grep -c "\"doc:$id\"" deposits.json)" = 1 ] || fail "deposit $id ($name) reported success but has $(grep -c "\"doc:$id\"" deposits.json) deposit entries"
                rm -f back.bin
                "$dossier" retrieve "$id" -o back.bin >/dev/null 2>retrieve.err || fail "deposit $id ($name) reported success but cannot be retrieved: $(cat retrieve.err)"
                [ "$(sha256sum < back.bin | cut -d' ' -f1)" = "$sum" ] || fail "deposit $id ($name) came back different" ;;
            grant)
                grant=$1 doc=$2 ok_grants=$((ok_grants + 1))
                [ "$("$dossier" audit log --action grant --json | grep -c "\"grant:$grant\"")" -ge 1 ] || fail "grant $grant reported success but is not logged"
                rm -rf opened && mkdir opened
                "$dossier" open "$name" --identity counsel.key -o opened >/dev/null 2>open.err || fail "the package of grant $grant does not open: $(cat open.err)"
                want=$(awk -v d="$doc" '$3 == "ok" && $4 == "deposit" && $6 == d { print $7 }' all.log)
                [ "$(sha256sum < opened/* | cut -d' ' -f1)" = "$want" ] || fail "the package of grant $grant does not hold $doc" ;;
        esac
        continue
    fi
    # A failure: 75 or 69, with a hint, started before the promotion.
    rc=$1 err=${!#}
    failed=$((failed + 1))
    [ "$rc" = 75 ] || [ "$rc" = 69 ] || fail "$kind $name failed with exit $rc, not 75 or 69: $(cat "$err")"
    grep -q 'hint:' "$err" || fail "$kind $name failed without a hint: $(cat "$err")"
    [ "$start" -lt "$promoted" ] || fail "$kind $name started after the promotion and still failed: $(cat "$err")"
    case $kind in
        deposit)
            if listed_id=$(awk -F'\t' -v t="$name" '$0 ~ ("\t" t "(\t|$)") { print $1 }' listed.tsv) && [ -n "$listed_id" ]; then
                [ "$rc" = 75 ] && grep -q "may or may not" "$err" || fail "deposit $name failed with exit $rc but is in the vault"
                unknown=$((unknown + 1))
                rm -f back.bin
                "$dossier" retrieve "$listed_id" -o back.bin >/dev/null 2>&1 && [ "$(sha256sum < back.bin | cut -d' ' -f1)" = "$2" ] ||
                    fail "deposit $name, of unknown outcome, is in the vault but not whole"
            fi ;;
        grant) [ ! -e "$name" ] || fail "grant $name failed but wrote its package" ;;
    esac
done < all.log
for c in $(seq 1 "$clients"); do
    n=$(awk '$3 == "failed"' "c$c/log" | wc -l)
    [ "$n" -le 1 ] || fail "client $c had $n failed commands; only the one in flight at the kill may fail"
done
# Nothing in the vault that no client attempted; one deposit entry per document.
attempted=$(awk '$4 == "deposit" { print $5 }' all.log | sort)
awk -F'\t' '{ for (i = 2; i <= NF; i++) if ($i ~ /^failover-c[0-9]+-[0-9]+$/) { print $1 "\t" $i; break } }' listed.tsv > titled.tsv
documents=$(wc -l < listed.tsv)
[ "$(wc -l < titled.tsv)" = "$documents" ] || fail "$documents documents listed, $(wc -l < titled.tsv) of them with a client's title"
while IFS=$'\t' read -r id title; do
    grep -qx -- "$title" <<< "$attempted" || fail "document $id ($title) is in the vault but no client deposited it"
done < titled.tsv
entries=$(grep -c '"seq"' deposits.json || true)
[ "$documents" = "$entries" ] || fail "$documents documents listed, $entries deposit entries"
[ "$documents" = $((ok_deposits + unknown)) ] || fail "$documents documents listed, $ok_deposits deposits reported success and $unknown of unknown outcome committed"

echo "failover-test: primary SIGKILLed after $before_kill changes, standby promoted $((promoted - killed)) ms later; $clients clients: $ok_deposits deposits and $ok_grants grants reported success, all present on the new primary (content by SHA-256, one log entry each, packages opened); $failed command(s) in flight failed with 75/69 and a hint ($unknown committed whole with outcome unknown); the old primary's log is the new one's beginning byte for byte; audit verify and doctor --deep pass"
