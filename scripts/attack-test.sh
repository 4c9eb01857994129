#!/usr/bin/env bash
# The attack suite of docs/threat-model.md, promise 19: someone who can edit the vault's database
# (a server administrator, a restored backup, one staff member with sqlite3) edits the rows that
# access decisions read. Each edit is made with the sqlite3 shell, never through dossier, on its
# own copy of one prepared vault, and must be
#   - refused at use: `grant` and `package` exit 3 (and change nothing), and `open` of an online
#     package through a running `dossier serve` gets no key (exit 69, the service answers 503);
#   - reported: `dossier doctor` and `dossier audit verify` fail and name what was edited.
# And a vault put back to an older copy in place is refused by the machine that saw it newer.
# Usage: scripts/attack-test.sh PATH-TO-dossier
set -euo pipefail
dossier="${1:?usage: scripts/attack-test.sh PATH-TO-dossier}"
case $dossier in /*) ;; *) dossier="$PWD/$dossier" ;; esac
command -v sqlite3 >/dev/null || { echo "attack-test: needs the sqlite3 shell (Debian package sqlite3)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/dossier-attack.XXXXXX")
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
failures=0
fail() { echo "attack-test: FAIL: $*" >&2; failures=$((failures + 1)); }

# start_service VAULT [PORT]: runs the service; sets $server and $service_url.
start_service() {
    DOSSIER_IDENTITY="$work/service.key" "$dossier" serve --vault "$1" --listen "127.0.0.1:${2:-$port}" 2> "$1.serve.log" &
    server=$!
    for _ in $(seq 1 600); do grep -q "listening on" "$1.serve.log" 2>/dev/null && break; sleep 0.1; done
    service_url=$(sed -n 's|.*listening on \(http://[^ ]*\)/v1/open.*|\1|p' "$1.serve.log")
    [ -n "$service_url" ] || { cat "$1.serve.log" >&2; echo "attack-test: the service did not start" >&2; exit 1; }
}
stop_service() { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; server=""; }

export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"
for who in alice bob service adams brown; do "$dossier" identity new -o "$who.key" --no-passphrase 2>/dev/null >/dev/null; done
export DOSSIER_VAULT="$work/vault" DOSSIER_IDENTITY="$work/alice.key"
"$dossier" init --org attack.example/dossier --name Alice --root-out "$work/root.key" --no-passphrase >/dev/null 2>&1
"$dossier" staff add bob.key --name Bob >/dev/null
"$dossier" staff add service.key --name Service --service >/dev/null
printf 'expert report\n' > report.txt
printf 'witness testimony\n' > witness.txt
report=$("$dossier" deposit report.txt --kind expert-report --title Report --lang en 2>/dev/null)
witness=$("$dossier" deposit witness.txt --kind witness-testimony --title Witness --lang en 2>/dev/null)
adams=$("$dossier" counsel add adams.key --name Adams 2>/dev/null)
brown=$("$dossier" counsel add brown.key --name Brown 2>/dev/null)
"$dossier" counsel vet "$adams" --until 2099-12-31 >/dev/null 2>&1
"$dossier" counsel vet "$brown" --until 2099-12-31 >/dev/null 2>&1
# The packages name the service's address: find a free port once; every copy's service uses it.
start_service "$work/vault" 0
url=$service_url
port=${url##*:}
stop_service
open_grant=$("$dossier" grant "$report" --to "$adams" --for 5d --online "$url" --max-opens 2 -o open.dpkg 2>/dev/null)
revoked_grant=$("$dossier" grant "$report" --to "$adams" --for 5d --online "$url" --max-opens 2 -o revoked.dpkg 2>/dev/null)
"$dossier" revoke "$revoked_grant" --reason "assurances withdrawn" >/dev/null 2>&1
brown_grant=$("$dossier" grant "$report" --to "$brown" --for 5d --online "$url" -o brown.dpkg 2>/dev/null)
"$dossier" counsel suspend "$brown" --reason "bar membership lapsed" >/dev/null 2>&1
pending_grant=$("$dossier" grant "$witness" --to "$adams" --for 2d --online "$url" 2>/dev/null)
org_key=$("$dossier" org show --json | sed -n 's/.*"publicKey" : "\(.*\)".*/\1/p')
"$dossier" trust add "$org_key" --name Attack >/dev/null 2>&1
"$dossier" doctor >/dev/null || { echo "attack-test: the prepared vault is not healthy" >&2; exit 1; }


# expect_code NAME CODE WORD COMMAND...: the command exits CODE and its standard error names WORD.
expect_code() {
    local name=$1 code=$2 word=$3; shift 3
    local got=0
    "$@" > out.txt 2> err.txt || got=$?
    if [ "$got" != "$code" ]; then fail "$name: \`$*\` exited $got, expected $code: $(head -c 400 err.txt)"; return; fi
    cat out.txt err.txt | grep -q -- "$word" || fail "$name: \`$*\` did not name '$word': $(head -c 400 err.txt)"
}

# attack NAME SQL: a fresh copy of the vault, edited with sqlite3.
attack() {
    rm -rf "$work/v-$1"; cp -r "$work/vault" "$work/v-$1"
    sqlite3 "$work/v-$1/vault.sqlite" "$2"
    export DOSSIER_VAULT="$work/v-$1"
}
# reported NAME WORD: doctor and audit verify both fail and name WORD.
reported() {
    expect_code "$1 (doctor)" 3 "$2" "$dossier" doctor
    expect_code "$1 (audit verify)" 3 "$2" "$dossier" audit verify
}
open_refused() {
    local name=$1 package=$2 key=$3
    start_service "$DOSSIER_VAULT"
    mkdir -p "out-$name"
    expect_code "$name (open through the service)" 69 "unavailable\|cannot decide" \
        "$dossier" open "$package" --identity "$key" -o "out-$name"
    [ -z "$(ls -A "out-$name")" ] || fail "$name: open wrote a file"
    grep -q "edited outside dossier" "$DOSSIER_VAULT.serve.log" || fail "$name: the service's log does not say the vault was edited"
    stop_service
}

later=$(date -u -d '+3 days' +%Y-%m-%dT%H:%M:%S.000Z)
results=()

# 1. A revoked online grant made active again, its limit lifted and its window stretched.
attack revoked "UPDATE grants SET state='active', revoked_at=NULL, max_opens=0, not_after='$later' WHERE id='$revoked_grant'"
expect_code "revoked grant reactivated (package)" 3 "$revoked_grant" "$dossier" package "$revoked_grant" -o again.dpkg
open_refused revoked revoked.dpkg adams.key
reported "revoked grant reactivated" "$revoked_grant"
results+=("revoked grant made active, limit lifted, window stretched")

# 2. A suspended counsel's suspension erased.
attack suspended "UPDATE counsel SET suspended_at=NULL WHERE id='$brown'"
expect_code "suspension erased (grant)" 3 "$brown" "$dossier" grant "$report" --to "$brown" --for 1d -o x.dpkg
expect_code "suspension erased (package)" 3 "$brown" "$dossier" package "$brown_grant" -o x.dpkg
open_refused suspended brown.dpkg brown.key
reported "suspension erased" "$brown"
results+=("counsel suspension erased")

# 3. A pending witness-testimony grant set active by one person.
attack pending "UPDATE grants SET state='active' WHERE id='$pending_grant'"
expect_code "pending grant activated (package)" 3 "$pending_grant" "$dossier" package "$pending_grant" -o x.dpkg
reported "pending grant activated" "$pending_grant"
results+=("pending grant set active")

# 4. A colleague's sign-off inserted.
bob=$("$dossier" identity show bob.key --json | sed -n 's/.*"fingerprint" : "\(.*\)".*/\1/p')
attack approval "INSERT INTO grant_approvals(grant_id, staff, approved_at) VALUES ('$pending_grant', '$bob', '2026-01-01T00:00:00.000Z'); UPDATE grants SET state='active' WHERE id='$pending_grant'"
expect_code "approval inserted (package)" 3 "$pending_grant" "$dossier" package "$pending_grant" -o x.dpkg
reported "approval inserted" "approvals"
results+=("sign-off by a colleague inserted")

# 5. A witness testimony relabelled as supporting material (one approval, offline, 90 days).
attack relabel "UPDATE documents SET kind='supporting-material' WHERE id='$witness'"
expect_code "kind relabelled (grant)" 3 "$witness" "$dossier" grant "$witness" --to "$adams" --for 60d -o x.dpkg
reported "kind relabelled" "$witness"
results+=("document kind relabelled")

# 6. The policy rewritten in place: witness testimony offline until 2035.
"$dossier" policy show > policy.toml
sed -e 's/max_window = "7d"/max_window = "3650d"/; s/approvals = 2/approvals = 1/; s/require_online = true/require_online = false/' policy.toml > permissive.toml
attack policy "UPDATE settings SET value=CAST(readfile('$work/permissive.toml') AS TEXT) WHERE key='policy'"
expect_code "policy rewritten (grant)" 3 "policy" "$dossier" grant "$witness" --to "$adams" --until 2035-01-01 -o x.dpkg
reported "policy rewritten" "policy"
results+=("policy rewritten in the settings row")

# 7. The open count erased after the limit was reached (the service counts signed openings).
export DOSSIER_VAULT="$work/vault"
start_service "$work/vault"
mkdir -p o1 o2 o3
"$dossier" open open.dpkg --identity adams.key -o o1 >/dev/null 2>&1 || fail "first opening refused"
"$dossier" open open.dpkg --identity adams.key -o o2 >/dev/null 2>&1 || fail "second opening refused"
stop_service
attack opens "DELETE FROM online_opens"
start_service "$DOSSIER_VAULT"
expect_code "open count erased (open)" 77 "open-limit\|opened" "$dossier" open open.dpkg --identity adams.key -o o3
stop_service
reported "open count erased" "openings"
results+=("open count erased after the limit")

# 8. The whole vault put back to an older copy in place (a revocation undone, log and rows
#    consistent): refused because this machine verified a longer log there before.
export XDG_STATE_HOME="$work/state"
rm -rf "$work/v-rollback"; cp -r "$work/vault" "$work/v-rollback"; cp -r "$work/v-rollback" "$work/older-copy"
export DOSSIER_VAULT="$work/v-rollback"
"$dossier" revoke "$open_grant" --reason "withdrawn" >/dev/null 2>&1
"$dossier" doctor >/dev/null || fail "rollback: doctor failed before the rollback"
rm -rf "$work/v-rollback"; mv "$work/older-copy" "$work/v-rollback"
expect_code "vault rolled back (package)" 3 "cut back" "$dossier" package "$open_grant" -o x.dpkg
expect_code "vault rolled back (doctor)" 3 "cut back" "$dossier" doctor
start_service "$work/v-rollback"
mkdir -p out-rollback
expect_code "vault rolled back (open through the service)" 69 "cannot decide" "$dossier" open open.dpkg --identity adams.key -o out-rollback
stop_service
[ -z "$(ls -A out-rollback)" ] || fail "rollback: open wrote a file"

results+=("whole vault put back to an older copy (revocation undone)")

# 9. The service's identity used to approve: refused by the tool, and never counted.
export DOSSIER_VAULT="$work/vault"
expect_code "service approves" 77 "key-release service" "$dossier" approve "$pending_grant" --identity service.key
expect_code "service deposits" 77 "key-release service" "$dossier" deposit report.txt --kind expert-report --title X --lang en --identity service.key
expect_code "staff identity runs the service" 77 "not the key-release service" "$dossier" serve --listen 127.0.0.1:0
results+=("service identity used to approve or deposit")

printf '%-60s %s\n' "attack (edit made with sqlite3)" "refused at use and reported"
for r in "${results[@]}"; do printf '%-60s %s\n' "$r" "checked"; done
if [ "$failures" -gt 0 ]; then echo "attack-test: $failures check(s) failed" >&2; exit 1; fi
echo "attack-test: every edit refused at use and reported"
