#!/usr/bin/env bash
# End-to-end tests of a vault in PostgreSQL, through the built binary, on the server named by
# DOSSIER_TEST_POSTGRES (`make test` starts a throwaway cluster: scripts/pg-cluster.sh run):
#   1. the concurrency test (scripts/concurrency-test.sh) with 8 clients on one database, each
#      running 25 mixed operations (deposit, grant, approve, package, revoke);
#   2. the story: init, staff, deposit, grant, approval, package, online package opened through
#      two `dossier serve` replicas on the same database with an open limit enforced across
#      them, revoke, rotate, doctor, audit verify;
#   3. a row edited with psql (a grant activated without its sign-off) is refused at use with
#      exit 3 and reported by doctor and audit verify;
#   4. a pg_dump of the vault holds none of the titles, names, tags, case references or reasons.
# Usage: scripts/postgres-test.sh PATH-TO-dossier
set -euo pipefail
dossier="${1:?usage: scripts/postgres-test.sh PATH-TO-dossier}"
case $dossier in /*) ;; *) dossier="$PWD/$dossier" ;; esac
here=$(cd "$(dirname "$0")" && pwd)
[ -n "${DOSSIER_TEST_POSTGRES:-}" ] || {
    echo "postgres-test: DOSSIER_TEST_POSTGRES is not set; run \`make test\`, which starts a throwaway cluster," >&2
    echo "postgres-test: or: scripts/pg-cluster.sh run scripts/postgres-test.sh $dossier" >&2
    exit 1
}
work=$(mktemp -d "${TMPDIR:-/tmp}/dossier-postgres.XXXXXX")
export XDG_STATE_HOME="$work/state"   # where dossier remembers the newest log entry it verified
servers=()
trap 'for s in "${servers[@]}"; do kill "$s" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"' EXIT
fail() { echo "postgres-test: FAIL: $*" >&2; exit 1; }
newdb() { "$here/pg-cluster.sh" createdb "$DOSSIER_TEST_POSTGRES"; }

# 1. Eight clients at once, each on its own connections, 25 mixed operations each (deposit,
# grant, approve by the other staff member, package, revoke; POSTGRES_TEST_SKIP_CONCURRENCY=1
# leaves it out, while developing).
[ "${POSTGRES_TEST_SKIP_CONCURRENCY:-0}" = 1 ] ||
CONCURRENCY_VAULT=$(newdb) CONCURRENCY_CLIENTS=8 CONCURRENCY_MIX=all "$here/concurrency-test.sh" "$dossier" | sed 's/^/postgres-test: /'

# 2. The story.
cd "$work"
export XDG_CONFIG_HOME="$work/config" DOSSIER_VAULT=$(newdb) DOSSIER_IDENTITY="$work/alice.key"
for who in alice bob service adams; do "$dossier" identity new -o "$who.key" --no-passphrase >/dev/null 2>&1; done
"$dossier" init --org postgres.example/dossier --name "Alice Secretname" --root-out "$work/org-root.key" --no-passphrase >/dev/null 2>&1 || fail "init"
"$dossier" staff add bob.key --name "Bob Secretname" >/dev/null || fail "staff add"
"$dossier" staff add service.key --name Service --service >/dev/null || fail "staff add --service"
head -c 3000000 /dev/urandom > big.bin
printf 'witness statement\n' > witness.txt
report=$("$dossier" deposit big.bin --kind expert-report --title "Secrettitle report" --tag secrettag --case SECRETCASE-1 --lang en 2>/dev/null) || fail "deposit"
witness=$("$dossier" deposit witness.txt --kind witness-testimony --title "Secrettitle witness" --lang en 2>/dev/null) || fail "deposit"
"$dossier" retrieve "$report" -o back.bin >/dev/null 2>&1 && cmp -s back.bin big.bin || fail "a 3 MB document does not read back as deposited"
[ "$("$dossier" search secrettitle | wc -l)" = 2 ] || fail "search does not find both documents"
adams=$("$dossier" counsel add adams.key --name "Adams Secretname" 2>/dev/null)
"$dossier" counsel vet "$adams" --until 2099-12-31 >/dev/null 2>&1
org=$("$dossier" org show --json | sed -n 's/.*"publicKey" : "\(.*\)".*/\1/p')
"$dossier" trust add "$org" --name Postgres >/dev/null 2>&1
offline=$("$dossier" grant "$report" --to "$adams" --for 2d -o offline.dpkg 2>/dev/null) || fail "grant"
mkdir opened && "$dossier" open offline.dpkg --identity adams.key -o opened >/dev/null 2>&1 || fail "the package does not open"
cmp -s opened/big.bin big.bin || fail "the package does not hold the document"

# Two replicas of the key-release service on the same database.
start_service() {
    DOSSIER_IDENTITY="$work/service.key" "$dossier" serve --listen 127.0.0.1:0 > "$1.out" 2> "$1.log" &
    servers+=($!)
    for _ in $(seq 1 100); do grep -q "listening on" "$1.log" 2>/dev/null && break; sleep 0.1; done
}
url_of() { sed -n 's|.*listening on \(http://[^ ]*\)/v1/open.*|\1|p' "$1.log"; }
start_service one; start_service two
one=$(url_of one); two=$(url_of two)
[ -n "$one" ] && [ -n "$two" ] || fail "the services did not start: $(cat one.log two.log)"
# A round-robin balancer on loopback in front of both: each connection goes to the next replica.
python3 - "${one##*:}" "${two##*:}" > lb.port 2> lb.log <<'PY' &
import socket, sys, threading
backends = [int(p) for p in sys.argv[1:]]
lb = socket.socket(); lb.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lb.bind(("127.0.0.1", 0)); lb.listen(64)
print(lb.getsockname()[1], flush=True)
def pipe(a, b):
    try:
        while (d := a.recv(65536)): b.sendall(d)
    except OSError: pass
    finally:
        for s in (a, b):
            try: s.shutdown(socket.SHUT_RDWR)
            except OSError: pass
n = 0
while True:
    c, _ = lb.accept()
    u = socket.create_connection(("127.0.0.1", backends[n % len(backends)])); n += 1
    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c), daemon=True).start()
PY
servers+=($!)
for _ in $(seq 1 50); do [ -s lb.port ] && break; sleep 0.1; done
balanced="http://127.0.0.1:$(cat lb.port)"
online=$("$dossier" grant "$witness" --to "$adams" --for 2d --online "$balanced" --max-opens 3 2>/dev/null) || fail "online grant"
"$dossier" approve "$online" --identity bob.key >/dev/null 2>&1 || fail "approve"
"$dossier" package "$online" -o online.dpkg >/dev/null 2>&1 || fail "package after approval"
# Six openings at once through the balancer, three through each replica: exactly three released.
for i in 1 2 3 4 5 6; do
    mkdir "o$i"
    ( if "$dossier" open online.dpkg --identity adams.key -o "o$i" >/dev/null 2>"o$i.err"; then echo 0; else echo $?; fi > "o$i.rc" ) &
done
wait_opens() { for i in 1 2 3 4 5 6; do while [ ! -s "o$i.rc" ]; do sleep 0.1; done; done; }
wait_opens
opened=0 refused=0
for i in 1 2 3 4 5 6; do
    if [ "$(cat "o$i.rc")" = 0 ]; then
        opened=$((opened + 1)); cmp -s "o$i/witness.txt" witness.txt || fail "opening $i gave other content"
    else
        refused=$((refused + 1))
    fi
done
[ "$opened" = 3 ] && [ "$refused" = 3 ] || fail "with --max-opens 3 through two replicas: $opened opened, $refused refused ($(cat o*.err | sort | uniq -c))"
releases=$("$dossier" audit log --action open --json | grep -c '"seq"' || true)
[ "$releases" = 3 ] || fail "$releases openings logged, 3 expected"
denials=$("$dossier" audit log --action deny --json | grep -c '"seq"' || true)
[ "$denials" = 3 ] || fail "$denials refusals logged, 3 expected (one entry per request)"
"$dossier" revoke "$offline" --reason "Secretreason withdrawn" >/dev/null 2>&1 || fail "revoke"
"$dossier" staff remove "$("$dossier" identity show bob.key 2>/dev/null | grep -o '[A-Z2-7]\{4\}-[A-Z2-7]\{4\}-[A-Z2-7]\{4\}-[A-Z2-7]\{4\}' | head -1)" >/dev/null 2>&1 ||
    fail "staff remove"
"$dossier" rotate >/dev/null 2>&1 || fail "rotate"
"$dossier" retrieve "$report" -o back2.bin >/dev/null 2>&1 && cmp -s back2.bin big.bin || fail "a document does not read back after rotation"
"$dossier" doctor --deep >doctor.out 2>&1 || { cat doctor.out >&2; fail "doctor reports damage"; }
"$dossier" audit verify >/dev/null 2>&1 || fail "the log does not verify"

# 4. What the database administrator sees.
pg_dump --no-owner "$DOSSIER_VAULT" > dump.sql 2>dump.err || fail "pg_dump: $(cat dump.err)"
for secret in Secrettitle secrettag SECRETCASE Secretname Secretreason "witness statement"; do
    ! grep -qi "$secret" dump.sql || fail "the pg_dump holds '$secret'"
done

# 3. A row edited with psql: the pending grant of the attack suite, made active by hand.
pending=$("$dossier" grant "$witness" --to "$adams" --for 2d --online "$balanced" 2>/dev/null) || fail "grant"
for s in "${servers[@]}"; do kill "$s" 2>/dev/null || true; done
psql -X -q -v ON_ERROR_STOP=1 "$DOSSIER_VAULT" -c "UPDATE grants SET state = 'active' WHERE id = '$pending'" >/dev/null || fail "psql"
set +e
"$dossier" package "$pending" -o edited.dpkg >/dev/null 2>package.err; rc=$?
set -e
[ "$rc" = 3 ] || fail "package of a grant activated with psql exited $rc, not 3: $(cat package.err)"
grep -q "edited outside dossier" package.err || fail "the refusal does not say the vault was edited: $(cat package.err)"
[ ! -e edited.dpkg ] || fail "a package was written for an edited grant"
set +e
"$dossier" doctor >/dev/null 2>&1; doctor_rc=$?
"$dossier" audit verify >/dev/null 2>&1; verify_rc=$?
set -e
[ "$doctor_rc" = 3 ] || fail "doctor exited $doctor_rc on an edited vault, not 3"
[ "$verify_rc" != 0 ] || fail "audit verify passed on an edited vault"

echo "postgres-test: the story passed on PostgreSQL: 3 MB deposit read back, package opened, $opened online openings of 3 allowed across 2 replicas ($refused refused), revoke, staff remove, rotate, doctor --deep and audit verify; a grant activated with psql refused (exit 3) and reported; pg_dump holds no title, name, tag, case or reason"
