#!/usr/bin/env bash
# The main job end to end on a throwaway vault in a temporary folder, printing each step:
# staff make a vault and deposit, counsel make an identity, staff vet and grant, counsel open,
# the policy refuses what it must, a removed member's packages are refused, and the log verifies.
#
# DOSSIER_DEMO_VAULT chooses where the vault lives: a folder (default: one in the temporary
# folder) or a postgresql:// URI of an empty database (`make demo-postgres` runs the story on a
# throwaway cluster). On PostgreSQL, the checks of what is stored read a pg_dump of the
# database, and the copies of the vault that Bob and an attacker make are made with
# `dossier vault copy` and edited with psql.
#
# With DOSSIER_DEMO_ROLES=1 as well (`make demo-postgres`), the URI is a superuser's on a
# throwaway server, standing for the database administrator: the demo makes the roles and the
# database `dossier` of docs/deployment.md, section 2 (the SQL is read from that file), Alice
# initialises the vault as the owner role, the owner applies the grants, and then Alice, Bob
# and the key-release service each work through a role of their own (alice, bob, keyrelease).
set -euo pipefail
dossier="${1:?usage: scripts/demo.sh PATH-TO-dossier}"
scripts=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/dossier-demo.XXXXXX")
export XDG_STATE_HOME="$work/state"   # where dossier remembers the newest log entry it verified
server=""
copies=""   # databases made for the edited copies (PostgreSQL), dropped at the end
drop_copies() {
    local uri
    for uri in $copies; do
        psql -X -q "${admin_vault:-$DOSSIER_VAULT}" -c "DROP DATABASE IF EXISTS ${uri##*/} WITH (FORCE)" >/dev/null 2>&1 || true
    done
}
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; drop_copies; rm -rf "$work"' EXIT
cd "$work"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" >&2; "$@"; }
# A command that must fail: show it, and stop the demo if it does not.
refused() { printf '$ %s   # must be refused\n' "$*" >&2; if "$@"; then echo "demo: expected a refusal" >&2; exit 1; fi; }

# Each person has their own configuration folder (the counsel's trust store lives there).
mkdir -p staff counsel offline
printf 'demo passphrase for the first staff member\n' > staff/alice.pass
# offline/ stands for a USB stick kept in a safe, away from the vault and the laptops.
printf 'demo passphrase for the organisation root\n' > offline/root.pass
chmod 600 staff/alice.pass offline/root.pass
export DOSSIER_VAULT="${DOSSIER_DEMO_VAULT:-$work/vault}"
case "$DOSSIER_VAULT" in postgresql:*|postgres:*) on_postgres=1 ;; *) on_postgres="" ;; esac
# With separate roles: the administrator's URI, and --vault options that make a command run as
# the owner, as Bob or as the service (each empty otherwise: everyone uses DOSSIER_VAULT).
roles="" admin_vault="" as_owner=() as_bob=() as_service=()
if [ -n "$on_postgres" ] && [ "${DOSSIER_DEMO_ROLES:-0}" = 1 ]; then
    roles=1 admin_vault=$DOSSIER_VAULT
    pg_server=${DOSSIER_VAULT#*://}; pg_server=${pg_server#*@}; pg_server=${pg_server%%/*}
    as_owner=(--vault "postgresql://dossier_owner@$pg_server/dossier")
    as_bob=(--vault "postgresql://bob@$pg_server/dossier")
    as_service=(--vault "postgresql://keyrelease@$pg_server/dossier")
    DOSSIER_VAULT="postgresql://alice@$pg_server/dossier"
fi
# The Nth block of SQL in docs/deployment.md, section 2 (1: the roles, 2: the grants).
deployment_sql() {
    awk -v n="$1" '/^## 2\./ { in2 = 1 } /^## 3\./ { in2 = 0 } in2 && /^```sql$/ { k++; on = (k == n); next } /^```$/ { on = 0 } on' \
        "$scripts/../docs/deployment.md"
}

# Whether TEXT is anywhere in what the vault stores (its folder, or a dump of its database).
stored_contains() {
    if [ -n "$on_postgres" ]; then
        pg_dump --no-owner "${admin_vault:-$DOSSIER_VAULT}" > vault-dump.sql
        grep -qa "$1" vault-dump.sql
    else
        grep -rqa "$1" "$DOSSIER_VAULT"
    fi
}
# A copy of the vault that someone edits, named by the variable $1: a folder copied with cp, or
# (on PostgreSQL) a new database on the same server copied with `dossier vault copy`.
copy_vault() {
    local name="$1" where
    if [ -z "$on_postgres" ]; then
        where="$work/${name//_/-}"
        cp -r "$DOSSIER_VAULT" "$where" || { echo "demo: cannot copy the vault folder" >&2; exit 1; }
    else
        where=$("$scripts/pg-cluster.sh" createdb "${admin_vault:-$DOSSIER_VAULT}") || return 1
        copies="$copies $where"
        run "$dossier" vault copy "$DOSSIER_VAULT" "$where" || { echo "demo: vault copy failed" >&2; exit 1; }
    fi
    printf -v "$name" '%s' "$where"
}
# Runs SQL on a copy made by copy_vault: sqlite3 (through python3) or psql.
edit_vault() {
    local where="$1" sql="$2"
    if [ -z "$on_postgres" ]; then
        python3 -c 'import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute(sys.argv[2]); db.commit()' "$where/vault.sqlite" "$sql"
    else
        psql -X -q -v ON_ERROR_STOP=1 "$where" -c "$sql"
    fi
}

step "Staff create identities (passphrase from a file, as a script would; normally it is asked on the terminal)"
run "$dossier" identity new -o staff/alice.key --passphrase-file staff/alice.pass
run "$dossier" identity new -o staff/bob.key --no-passphrase

if [ -n "$roles" ]; then
    step "The database administrator makes an owner role, a role per staff member and one for the service (docs/deployment.md, section 2)"
    deployment_sql 1 | sed 's/^/    /'
    deployment_sql 1 | psql -X -q -v ON_ERROR_STOP=1 "$admin_vault" -f - || { echo "demo: the roles could not be made" >&2; exit 1; }
fi

step "Alice creates the vault; the organisation root goes to its own file, kept offline"
export DOSSIER_IDENTITY="$work/staff/alice.key" DOSSIER_PASSPHRASE_FILE="$work/staff/alice.pass"
run "$dossier" init "${as_owner[@]}" --org example.org/dossier --name "Alice" --root-out offline/org-root.key --root-passphrase-file offline/root.pass
if [ -n "$roles" ]; then
    echo "(as the owner role, which owns the tables; now the owner grants staff and service what their commands need)"
    deployment_sql 2 | psql -X -q -v ON_ERROR_STOP=1 "${as_owner[1]}" -f - || { echo "demo: the grants could not be applied" >&2; exit 1; }
    echo "from here on Alice works as the role alice, Bob as bob, the key-release service as keyrelease"
fi
ls -l offline/org-root.key
head -1 offline/org-root.key
if stored_contains "DOSSIER-ORGANISATION-ROOT"; then echo "demo: the root is in the vault" >&2; exit 1; fi
echo "the vault holds only the root's public key; the root certified Alice for 30 days"

step "Alice adds Bob; the root holder certifies him (briefly, so that the demo can show expiry)"
bob_id=$(run "$dossier" staff add staff/bob.key --name "Bob")
echo "$bob_id"
run "$dossier" org certify --root offline/org-root.key --root-passphrase-file offline/root.pass --for 40s "$bob_id"
run "$dossier" org certificates

step "Deposit sample documents of each kind"
printf 'Expert report on prison conditions in the requesting state.\n' > prison-conditions.txt
printf 'Testimony of witness W-17: what happened after the arrest.\n' > testimony-w17.txt
printf 'Rebuttal of the diplomatic assurances of 3 March.\n' > assurances-rebuttal.txt
head -c 300000 /dev/urandom > annex-photos.bin
report=$(run "$dossier" deposit prison-conditions.txt --kind expert-report --title "Prison conditions" --lang en --case EXT-2026-014)
echo "$report"
witness=$(run "$dossier" deposit testimony-w17.txt --kind witness-testimony --title "Testimony W-17" --lang fr --case EXT-2026-014)
echo "$witness"
run "$dossier" deposit assurances-rebuttal.txt annex-photos.bin --kind assurance-rebuttal --title "Rebuttal of assurances" --lang en --tag urgent
run "$dossier" list
run "$dossier" search prison
run "$dossier" retrieve "$report" -o retrieved.txt
cmp prison-conditions.txt retrieved.txt && echo "retrieved byte for byte"
if stored_contains "Prison conditions\|prison-conditions\|W-17"; then echo "demo: metadata found in the clear" >&2; exit 1; fi
if [ -n "$on_postgres" ]; then echo "a pg_dump of the database holds no title, file name or content in the clear"
else echo "the vault folder holds no title, file name or content in the clear"; fi

step "Counsel create an identity and send the public line"
run "$dossier" identity new -o counsel/adams.key --no-passphrase
run "$dossier" identity show counsel/adams.key

step "Staff register and vet the counsel"
counsel_id=$(run "$dossier" counsel add counsel/adams.key --name "J. Adams" --jurisdiction UK)
echo "$counsel_id"
refused "$dossier" grant "$report" --to "$counsel_id" --for 5d -o refused.dpkg
run "$dossier" counsel vet "$counsel_id" --until 2099-12-31 --note "bar membership checked"

step "Grant the expert report for 5 days: the package is written at once"
run "$dossier" grant "$report" --to "$counsel_id" --for 5d --case EXT-2026-014 -o report.dpkg

step "The key-release service runs with its own identity, which can sign openings, refusals and received requests, nothing else (here on a free loopback port)"
run "$dossier" identity new -o staff/service.key --no-passphrase
service_id=$(run "$dossier" staff add staff/service.key --name "Key-release service" --service)
echo "$service_id"
echo "the root holder certifies it, so that counsel can check the receipts it signs"
run "$dossier" org certify --root offline/org-root.key --root-passphrase-file offline/root.pass --role service "$service_id"
refused "$dossier" approve grant-aaaaaaaaaaaaa --identity staff/service.key "${as_service[@]}"
printf '$ %s\n' "dossier serve --identity staff/service.key${as_service[*]:+ ${as_service[*]}} --listen 127.0.0.1:0 --verbose &" >&2
DOSSIER_PASSPHRASE_FILE= "$dossier" serve --identity staff/service.key "${as_service[@]}" --listen 127.0.0.1:0 --verbose 2> serve.log &
server=$!
for _ in $(seq 1 100); do grep -q "listening on" serve.log 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's|.*listening on \(http://[^ ]*\)/v1/open.*|\1|p' serve.log)
[ -n "$url" ] || { cat serve.log >&2; echo "demo: the service did not start" >&2; exit 1; }
echo "service at $url"

step "Witness testimony: online only, two people; Alice grants, Bob approves"
refused "$dossier" grant "$witness" --to "$counsel_id" --for 30d --online "$url"
refused "$dossier" grant "$witness" --to "$counsel_id" --for 2d
grant_id=$(run "$dossier" grant "$witness" --to "$counsel_id" --for 2d --online "$url" --max-opens 2)
echo "$grant_id"
refused "$dossier" approve "$grant_id"
run "$dossier" approve "$grant_id" --identity staff/bob.key "${as_bob[@]}"
run "$dossier" package "$grant_id" -o witness.dpkg

step "Counsel trust the organisation's key (after comparing the fingerprint by phone) and open"
org_key=$("$dossier" org show --json | sed -n 's/.*"publicKey" : "\(.*\)".*/\1/p')
export XDG_CONFIG_HOME="$work/counsel/config"
unset DOSSIER_IDENTITY DOSSIER_PASSPHRASE_FILE
run "$dossier" trust add "$org_key" --name "Example Defence Project"
run "$dossier" inspect report.dpkg
mkdir -p counsel/inbox
run "$dossier" open report.dpkg --identity counsel/adams.key -o counsel/inbox
run "$dossier" open witness.dpkg --identity counsel/adams.key -o counsel/inbox
cmp testimony-w17.txt counsel/inbox/testimony-w17.txt && echo "opened byte for byte, the key released by the service"
run "$dossier" open witness.dpkg --identity counsel/adams.key -o counsel/inbox --force
refused "$dossier" open witness.dpkg --identity counsel/adams.key -o counsel/inbox --force
echo "the third opening was refused: the grant allows two"

step "First contact: a new counsel sends a sealed request through the service, with an attachment"
export DOSSIER_IDENTITY="$work/staff/alice.key" DOSSIER_PASSPHRASE_FILE="$work/staff/alice.pass"
"$dossier" org show --intake-certificate > intake.cert
echo "the organisation publishes its intake certificate (signed by the root) beside its key:"
cat intake.cert
(export XDG_CONFIG_HOME="$work/counsel/config"; unset DOSSIER_IDENTITY DOSSIER_PASSPHRASE_FILE
 run "$dossier" identity new -o counsel/baker.key --no-passphrase
 run "$dossier" trust intake intake.cert
 printf 'We act for Mr P. in extradition proceedings; we need existing reports on prison conditions.\n' > counsel/letter.txt
 printf 'Extradition request of the requesting state, 40 pages.\n' > counsel/extradition-request.pdf
 run "$dossier" request new --org "Example Defence Project" --identity counsel/baker.key --need reports --lang ar --lang en \
     --jurisdiction "Requesting State" --court "Westminster Magistrates' Court" --hearing 2027-03-15 \
     --message-file counsel/letter.txt --attach counsel/extradition-request.pdf -o counsel/request.drq --send "$url" > counsel/request.id
 cat counsel/request.id
 ls -l counsel/request.drq.receipt
 run "$dossier" request status --identity counsel/baker.key --request counsel/request.drq --send "$url")
request_id=$(cat counsel/request.id)
if stored_contains "Westminster\|Mr P\.\|40 pages"; then echo "demo: request content found in the clear" >&2; exit 1; fi
echo "the vault holds no court, message or attachment of the request in the clear"

step "Staff read it (logged), register the sender from it, and answer it with a grant"
run "$dossier" requests --state new
run "$dossier" requests show "$request_id"
baker_id=$(run "$dossier" counsel add --from-request "$request_id" --name "B. Baker" --jurisdiction UK)
echo "$baker_id"
run "$dossier" counsel vet "$baker_id" --until 2099-12-31 --note "called back on the chambers' number"
run "$dossier" grant "$report" --to "$baker_id" --for 5d --answer "$request_id" -o answer.dpkg
(export XDG_CONFIG_HOME="$work/counsel/config"; unset DOSSIER_IDENTITY DOSSIER_PASSPHRASE_FILE
 run "$dossier" request status --identity counsel/baker.key --request counsel/request.drq --send "$url"
 mkdir -p counsel/baker
 echo "the package names the request it answers (inside the seal):"
 run "$dossier" open answer.dpkg --identity counsel/baker.key -o counsel/baker)
run "$dossier" audit log --action request-receive
run "$dossier" audit log --action request-read
unset DOSSIER_IDENTITY DOSSIER_PASSPHRASE_FILE

step "A tampered package is refused and leaves nothing behind"
cp report.dpkg tampered.dpkg
printf 'X' | dd of=tampered.dpkg bs=1 seek=200 conv=notrunc 2>/dev/null
mkdir -p counsel/tampered
refused "$dossier" open tampered.dpkg --identity counsel/adams.key -o counsel/tampered
[ -z "$(ls -A counsel/tampered)" ] && echo "nothing was written"

step "Revocation after sending: an online package stops opening at once"
export DOSSIER_IDENTITY="$work/staff/alice.key" DOSSIER_PASSPHRASE_FILE="$work/staff/alice.pass"
online_grant=$(run "$dossier" grant "$report" --to "$counsel_id" --for 5d --online "$url" -o report-online.dpkg)
(export XDG_CONFIG_HOME="$work/counsel/config"; unset DOSSIER_IDENTITY DOSSIER_PASSPHRASE_FILE
 mkdir -p counsel/before counsel/after
 run "$dossier" open report-online.dpkg --identity counsel/adams.key -o counsel/before)
run "$dossier" revoke "$online_grant" --reason "assurances withdrawn"
(export XDG_CONFIG_HOME="$work/counsel/config"; unset DOSSIER_IDENTITY DOSSIER_PASSPHRASE_FILE
 refused "$dossier" open report-online.dpkg --identity counsel/adams.key -o counsel/after)
[ -z "$(ls -A counsel/after)" ] && echo "revoked: nothing was written"
run "$dossier" revoke "$grant_id" --reason "witness asked to withdraw"
refused "$dossier" package "$grant_id" -o again.dpkg

step "Bob keeps a copy of the vault, makes an online package, and is removed"
export DOSSIER_IDENTITY="$work/staff/alice.key" DOSSIER_PASSPHRASE_FILE="$work/staff/alice.pass"
if [ -n "$on_postgres" ]; then
    echo "(Bob can read the database: he copies it into a folder of his own, which needs no key)"
    run "$dossier" vault copy "${as_bob[1]:-$DOSSIER_VAULT}" bob-copy
else
    cp -r vault bob-copy
fi
run env DOSSIER_IDENTITY="$work/staff/bob.key" DOSSIER_PASSPHRASE_FILE= "$dossier" grant "$report" --to "$counsel_id" --for 5d --online "$url" -o bob-online.dpkg "${as_bob[@]}"
if [ -n "$roles" ]; then
    # A staff role may not VACUUM: the removal commits, and the owner purges the retired keys.
    printf '$ %s   # commits; exit 75 says the owner must purge\n' "dossier staff remove $bob_id" >&2
    rc=0; "$dossier" staff remove "$bob_id" || rc=$?
    [ "$rc" = 75 ] || { echo "demo: staff remove as a staff role exited $rc, not 75 (purge owed to the owner)" >&2; exit 1; }
    run "$dossier" doctor --fix "${as_owner[@]}"
else
    run "$dossier" staff remove "$bob_id"
fi
run "$dossier" org certificates
refused env DOSSIER_IDENTITY="$work/staff/bob.key" DOSSIER_PASSPHRASE_FILE= "$dossier" list "${as_bob[@]}"
echo "the vault refuses Bob, and his certificate is revoked"
if [ -n "$roles" ]; then
    echo "the database administrator drops Bob's role too (docs/deployment.md, section 2):"
    printf '$ psql -c "DROP ROLE bob"\n' >&2
    psql -X -q -v ON_ERROR_STOP=1 "$admin_vault" -c "DROP ROLE bob" || { echo "demo: cannot drop Bob's role" >&2; exit 1; }
fi
(export XDG_CONFIG_HOME="$work/counsel/config"; unset DOSSIER_IDENTITY DOSSIER_PASSPHRASE_FILE
 mkdir -p counsel/from-bob
 echo "online, the service refuses Bob's package at once, though his certificate has not expired:"
 refused "$dossier" open bob-online.dpkg --identity counsel/adams.key -o counsel/from-bob)

step "With his old copy Bob still signs a package; counsel see who signed it and refuse it once his certificate expires"
run env DOSSIER_VAULT="$work/bob-copy" DOSSIER_IDENTITY="$work/staff/bob.key" DOSSIER_PASSPHRASE_FILE= \
    "$dossier" grant "$report" --to "$counsel_id" --for 5d -o bob-offline.dpkg
(export XDG_CONFIG_HOME="$work/counsel/config"; unset DOSSIER_IDENTITY DOSSIER_PASSPHRASE_FILE
 run "$dossier" inspect bob-offline.dpkg
 echo "(an offline reader cannot know Bob was removed: the bound is his certificate's validity)"
 for _ in $(seq 1 60); do "$dossier" inspect bob-offline.dpkg --json | grep -q '"certificateState" : "EXPIRED"' && break; sleep 1; done
 run "$dossier" inspect bob-offline.dpkg
 refused "$dossier" open bob-offline.dpkg --identity counsel/adams.key -o counsel/from-bob
 [ -z "$(ls -A counsel/from-bob)" ] && echo "nothing was written")

step "The vault checks out: blobs, leftovers and the signed log chain"
run "$dossier" doctor --deep

step "Auditors: a signed checkpoint, the log reviewed, and verified with no secret"
run "$dossier" audit checkpoint -o checkpoint-1.note
cat checkpoint-1.note
run "$dossier" audit log --document "$report"
run "$dossier" audit log --action deny
run "$dossier" audit log --action open
run "$dossier" audit exposure "$counsel_id"
fingerprint=$("$dossier" org show --json | sed -n 's/.*"fingerprint" : "\(.*\)".*/\1/p')
run "$dossier" audit export -o log.dlog
(unset DOSSIER_VAULT DOSSIER_IDENTITY DOSSIER_PASSPHRASE_FILE
 run "$dossier" audit verify --export log.dlog --org-fingerprint "$fingerprint" --checkpoint checkpoint-1.note)

step "Editing one log entry in the database is detected"
if copy_vault tampered_vault; then
    if [ -n "$on_postgres" ]; then
        edit_vault "$tampered_vault" "UPDATE audit_log SET entry = convert_to(replace(convert_from(entry, 'UTF8'), 'time 20', 'time 19'), 'UTF8') WHERE seq = 3"
    else
        edit_vault "$tampered_vault" "UPDATE audit_log SET entry = CAST(replace(CAST(entry AS TEXT), 'time 20', 'time 19') AS BLOB) WHERE seq = 3"
    fi
    refused "$dossier" audit verify --vault "$tampered_vault"
else
    echo "skipped on PostgreSQL: no database could be created for the tampered copy (the role may not CREATE DATABASE)"
fi

step "Whoever hosts the database revives the revoked witness grant: refused at use, and reported"
if copy_vault edited_vault; then
    edit_vault "$edited_vault" "UPDATE grants SET state = 'active', revoked_at = NULL WHERE id = '$grant_id'"
    refused "$dossier" package "$grant_id" -o revived.dpkg --vault "$edited_vault"
    refused "$dossier" doctor --vault "$edited_vault"
    refused "$dossier" audit verify --vault "$edited_vault"
else
    echo "skipped on PostgreSQL: no database could be created for the edited copy (the role may not CREATE DATABASE)"
fi

step "An HTML report for auditors (self-contained; open it in a browser)"
run "$dossier" audit report -o report.html --org-fingerprint "$fingerprint"
[ -n "${DOSSIER_DEMO_KEEP_REPORT:-}" ] && cp report.html "$DOSSIER_DEMO_KEEP_REPORT"

kill "$server" && wait "$server" 2>/dev/null || true
server=""
echo "the service's decisions:"; cat serve.log

step "Done: everything was created in $work and is removed now."
