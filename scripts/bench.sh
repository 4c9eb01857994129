#!/usr/bin/env bash
# Benchmark: Dossier against age and against libsodium's cipher alone, side by side on the same
# file, in one run. Prints a table: seconds, MB/s, ratio to age, peak RSS.
# Usage: scripts/bench.sh PATH-TO-dossier     (make bench builds in release mode and calls this)
# Environment: BENCH_MIB (file size, default 1024), BENCH_RUNS (runs per operation, the fastest
# kept; default 1), BENCH_SCALE=1 to add the scale cases (50 recipients, 10,000-file deposit,
# list/search over it and over 100,000 documents, list --json, search over 100,000 titled in six scripts,
# a grant over a log of BENCH_DECISION_ENTRIES (default 1,000,000) entries, audit verify of
# 1,000,000 entries in full and from a saved state, --help).
# With DOSSIER_TEST_POSTGRES set to a server (make bench runs this script inside
# scripts/pg-cluster.sh run: a throwaway cluster on loopback), a second table: deposit and
# retrieve of the same file with the vault in a database of that server, beside the folder's
# figures of this run (time, throughput as a share of the folder's, peak RSS), with two floors
# measured without dossier (the server inserting the file itself; the rows sent to psql, which
# discards them), then `list` and `search` over BENCH_CATALOGUE (default 100,000) documents in
# a database.
set -euo pipefail
dossier="${1:?usage: scripts/bench.sh PATH-TO-dossier}"
mib="${BENCH_MIB:-1024}"
here="$(cd "$(dirname "$0")/.." && pwd)"
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/dossier-bench.XXXXXX")
export XDG_STATE_HOME="$work/state"
trap 'rm -rf "$work"' EXIT
cd "$work"
export DOSSIER_VAULT="$work/vault" DOSSIER_IDENTITY="$work/staff.key" XDG_CONFIG_HOME="$work/config"

for tool in age age-keygen cc; do command -v "$tool" >/dev/null || { echo "bench: $tool is missing (make bench installs it)" >&2; exit 1; }; done
cc -O2 -o sodium-limit "$here/Benchmarks/sodium-limit.c" $(pkg-config --cflags --libs libsodium)

echo "bench: preparing a ${mib} MiB file of random bytes in $work" >&2
head -c "$((mib * 1024 * 1024))" /dev/urandom > input.bin
bytes=$(stat -c %s input.bin)

# The staff identity has no passphrase, so the figures measure the content path; a
# passphrase adds one Argon2id run (see docs/performance.md).
"$dossier" identity new -o staff.key --no-passphrase >/dev/null 2>&1
"$dossier" identity new -o counsel.key --no-passphrase >/dev/null 2>&1
"$dossier" init --org example.org/bench --root-out "$work/org-root.key" --no-passphrase >/dev/null 2>&1
counsel=$("$dossier" counsel add counsel.key --name Bench 2>/dev/null)
"$dossier" counsel vet "$counsel" --until 2099-12-31 >/dev/null 2>&1
"$dossier" trust add "$("$dossier" org show --json | sed -n 's/.*"publicKey" : "\(.*\)".*/\1/p')" --name Bench >/dev/null 2>&1
age-keygen -o age.key 2>/dev/null
recipient=$(age-keygen -y age.key)

declare -A secs rss cpu
runs="${BENCH_RUNS:-1}"
measure() { # NAME [--clean PATH] COMMAND...: runs BENCH_RUNS times (removing PATH before each),
    # keeps the fastest run's wall time, its CPU time (user + system) and its peak RSS
    local name=$1; shift
    local clean=""
    if [ "$1" = --clean ]; then clean=$2; shift 2; fi
    local i s m u k
    secs[$name]=""
    for i in $(seq 1 "$runs"); do
        [ -n "$clean" ] && rm -rf "$clean"
        sync
        /usr/bin/time -f "%e %M %U %S" -o time.out "$@" >/dev/null 2>cmd.err || { cat cmd.err >&2; echo "bench: $name failed" >&2; exit 1; }
        read -r s m u k < time.out
        if [ -z "${secs[$name]}" ] || awk -v a="$s" -v b="${secs[$name]}" 'BEGIN { exit !(a < b) }'; then
            secs[$name]=$s
            rss[$name]=$m
            cpu[$name]=$(awk -v u="$u" -v k="$k" 'BEGIN { printf "%.2f", u + k }')
        fi
    done
}

cat input.bin > /dev/null
load=$(cut -d' ' -f1-3 /proc/loadavg)
measure "age encrypt"       --clean input.age age -r "$recipient" -o input.age input.bin
measure "age decrypt"       --clean output.age age -d -i age.key -o output.age input.age
rm -f input.age
# Dossier flushes what it writes before it reports success (fsync); age leaves it in the page
# cache. These rows time age with the same flush, for a like-for-like comparison.
measure "age encrypt+fsync" --clean input.age sh -c 'age -r "$1" -o input.age input.bin && sync input.age' sh "$recipient"
measure "age decrypt+fsync" --clean output.age sh -c 'age -d -i age.key -o output.age input.age && sync output.age' 
measure "libsodium encrypt" --clean input.limit ./sodium-limit encrypt input.bin input.limit
measure "libsodium decrypt" --clean output.limit ./sodium-limit decrypt input.limit output.limit
rm -f input.age output.age input.limit output.limit
measure "dossier deposit"   "$dossier" deposit input.bin --kind expert-report --title bench
doc=$("$dossier" list | cut -f1 | head -n1)
measure "dossier retrieve"  --clean output.bin "$dossier" retrieve "$doc" -o output.bin
cmp input.bin output.bin
measure "retrieve --sync"   --clean output.bin "$dossier" retrieve "$doc" -o output.bin --sync
cmp input.bin output.bin && rm -f output.bin
grant=$("$dossier" grant "$doc" --to "$counsel" --for 1d 2>/dev/null)
measure "package --sync"    --clean input.dpkg "$dossier" package "$grant" -o input.dpkg --sync
measure "dossier package"   --clean input.dpkg "$dossier" package "$grant" -o input.dpkg
mkdir -p opened
measure "dossier open"      --clean opened/input.bin "$dossier" open input.dpkg --identity counsel.key -o opened
cmp input.bin opened/input.bin
measure "open --sync"       --clean opened/input.bin "$dossier" open input.dpkg --identity counsel.key -o opened --sync
cmp input.bin opened/input.bin && rm -rf opened input.dpkg

row() { # NAME AGE-REFERENCE: the time, and the ratios to age and to age with fsync
    local s=${secs[$1]} m=${rss[$1]}
    local mbps ratio synced
    mbps=$(awk -v b="$bytes" -v s="$s" 'BEGIN { printf "%.0f", (s > 0 ? b / s / 1e6 : 0) }')
    ratio=$(awk -v a="${secs[$2]}" -v s="$s" 'BEGIN { printf "%.2f", (s > 0 ? a / s : 0) }')
    synced=$(awk -v a="${secs[$2+fsync]}" -v s="$s" 'BEGIN { printf "%.2f", (s > 0 ? a / s : 0) }')
    printf '| %-18s | %8.2f | %7s | %6s | %12s | %8.1f | %6s |\n' "$1" "$s" "$mbps" "$ratio" "$synced" "$(awk -v k="$m" 'BEGIN { print k / 1024 }')" "${cpu[$1]}"
}
echo
echo "File: ${mib} MiB ($bytes bytes) on $(nproc) cores; $(uname -m); $(date -u +%Y-%m-%d); fastest of $runs run(s); load before: $load"
echo "| operation          |  seconds |    MB/s | × age  | × age+fsync  | peak MiB |  cpu s |"
echo "|--------------------|----------|---------|--------|--------------|----------|--------|"
row "age encrypt" "age encrypt"; row "age decrypt" "age decrypt"
row "age encrypt+fsync" "age encrypt"; row "age decrypt+fsync" "age decrypt"
row "libsodium encrypt" "age encrypt"; row "libsodium decrypt" "age decrypt"
row "dossier deposit" "age encrypt"; row "dossier retrieve" "age decrypt"
row "dossier package" "age encrypt"; row "dossier open" "age decrypt"
row "retrieve --sync" "age decrypt"; row "package --sync" "age encrypt"; row "open --sync" "age decrypt"
echo "(× age: age's time divided by this one's; ≥ 1.00 means at least as fast as age. × age+fsync: the"
echo " same against age followed by a flush of its output. deposit always flushes its blob before it"
echo " records it; retrieve, package and open leave their output to the system, as age does, unless --sync.)"

if [ -n "${DOSSIER_TEST_POSTGRES:-}" ]; then
    # The same file through a vault in PostgreSQL on loopback, in the same run.
    pg=$("$here/scripts/pg-cluster.sh" createdb "$DOSSIER_TEST_POSTGRES")
    "$dossier" init --vault "$pg" --org example.org/bench-pg --root-out "$work/pg-root.key" --no-passphrase >/dev/null 2>&1
    measure "postgres deposit"  "$dossier" deposit input.bin --kind expert-report --title bench --vault "$pg"
    pgdoc=$("$dossier" list --vault "$pg" | cut -f1 | head -n1)
    measure "postgres retrieve" --clean output.bin "$dossier" retrieve "$pgdoc" -o output.bin --vault "$pg"
    cmp input.bin output.bin && rm -f output.bin
    # The server's own floor: the same bytes inserted by the server itself, read from the file by
    # the server (pg_read_binary_file, a superuser's function: the throwaway cluster's role) into
    # a table laid out as content_chunks (rows of 1 MiB stored out of line, uncompressed), one
    # statement committed as a deposit commits. No client, no cipher, no socket: what is left is
    # PostgreSQL's own work, which a deposit through it cannot beat.
    # A server where the role may not read files, or that cannot see this folder, has no
    # floor rows (said below the table).
    chmod 0711 "$work" && chmod 0644 input.bin
    pgfloor=$("$here/scripts/pg-cluster.sh" createdb "$DOSSIER_TEST_POSTGRES")
    floors=0
    if psql -X -q "$pgfloor" -c "CREATE TABLE floor (seq bigint PRIMARY KEY, data bytea NOT NULL)" \
        -c "ALTER TABLE floor ALTER COLUMN data SET STORAGE EXTERNAL" \
        -c "SELECT pg_read_binary_file('$work/input.bin', 0, 1)" >/dev/null 2>&1; then
        floors=1
        measure "postgres server alone" psql -X -q "$pgfloor" -c "TRUNCATE floor; INSERT INTO floor
            SELECT i, pg_read_binary_file('$work/input.bin', i * 1048576, 1048576)
            FROM generate_series(0, $(( (bytes + 1048575) / 1048576 - 1 ))::bigint) i"
        # The transfer's floor: the same rows sent to a client that only receives them (psql,
        # its output discarded), over the same loopback connection a retrieval uses. No cipher,
        # no file.
        measure "postgres transfer alone" psql -X -q "$pgfloor" -c "COPY (SELECT data FROM floor ORDER BY seq) TO STDOUT (FORMAT binary)"
    fi
    pgrow() { # NAME FOLDER-NAME
        printf '| %-9s | %9.2f | %9.2f | %6.0f | %6.0f | %15.2f | %11.1f | %11.1f |\n' "${1#postgres }" "${secs[$2]}" "${secs[$1]}" \
            "$(awk -v b="$bytes" -v s="${secs[$2]}" 'BEGIN { print (s > 0 ? b / s / 1e6 : 0) }')" \
            "$(awk -v b="$bytes" -v s="${secs[$1]}" 'BEGIN { print (s > 0 ? b / s / 1e6 : 0) }')" \
            "$(awk -v f="${secs[$2]}" -v p="${secs[$1]}" 'BEGIN { print (p > 0 ? f / p : 0) }')" \
            "$(awk -v k="${rss[$2]}" 'BEGIN { print k / 1024 }')" "$(awk -v k="${rss[$1]}" 'BEGIN { print k / 1024 }')"
    }
    echo
    echo "The same file, vault in PostgreSQL $(psql -X -At "$pg" -c 'SHOW server_version' 2>/dev/null | cut -d' ' -f1) on loopback (fsync on), against the folder in this run:"
    echo "| operation | folder s  | postgres s | folder MB/s | pg MB/s | pg × folder (throughput) | folder peak MiB | pg peak MiB |"
    echo "|-----------|-----------|-----------|--------|--------|-----------------|-------------|-------------|"
    pgrow "postgres deposit" "dossier deposit"
    pgrow "postgres retrieve" "dossier retrieve"
    if [ "$floors" = 1 ]; then
        pgrow "postgres server alone" "dossier deposit"
        pgrow "postgres transfer alone" "dossier retrieve"
    else
        echo "(no floor rows: the server's role may not read $work/input.bin with pg_read_binary_file)"
    fi
    echo "(peak MiB: the dossier process's peak RSS; the server's own memory and CPU are not counted)"
    if [ "$floors" = 1 ]; then
        echo "(server alone, against the deposit: the same bytes inserted by the server from the file"
        echo " itself, no client: the fastest a deposit through this server could be. transfer alone,"
        echo " against the retrieval: those rows sent over loopback to psql, which discards them: the"
        echo " fastest a retrieval through this connection could be. Their peak MiB is psql's)"
    fi
    # list and search over a catalogue of BENCH_CATALOGUE documents in a database.
    pgcat=$("$here/scripts/pg-cluster.sh" createdb "$DOSSIER_TEST_POSTGRES")
    docs="${BENCH_CATALOGUE:-100000}"
    "$(dirname "$dossier")/DossierBench" catalogue "$pgcat" pgcat.key "$docs"
    # The planner's statistics, which autovacuum would gather within a minute or so of a bulk
    # insert: without them it sorts the whole table instead of reading the deposit-order index.
    psql -X -q "$pgcat" -c "ANALYZE" >/dev/null
    pgmean() { # COMMAND...: mean seconds of 10 runs (hyperfine), or one run
        if command -v hyperfine >/dev/null; then
            hyperfine -N --warmup 2 --runs 10 --export-json m.json "$*" >/dev/null 2>&1
            sed -n 's/.*"mean": \([0-9.e-]*\).*/\1/p' m.json | head -n1 | awk '{ printf "%.3f", $1 }'
        else /usr/bin/time -f "%e" -o elapsed.out "$@" >/dev/null 2>&1; cat elapsed.out; fi
    }
    echo
    echo "| PostgreSQL scale case | measured |"
    echo "|---|---|"
    echo "| list, $("$dossier" list --vault "$pgcat" --identity pgcat.key | wc -l) documents (mean of 10) | $(pgmean "$dossier" list --vault "$pgcat" --identity pgcat.key) s |"
    echo "| search, same catalogue (mean of 10) | $(pgmean "$dossier" search "report 99999" --vault "$pgcat" --identity pgcat.key) s |"
    echo "| list --json, same catalogue (mean of 10) | $(pgmean "$dossier" list --json --vault "$pgcat" --identity pgcat.key) s |"
fi

# Seconds taken by a command (its output discarded).
seconds() { /usr/bin/time -f "%e" -o elapsed.out "$@" >/dev/null 2>&1 || true; cat elapsed.out; }

if [ "${BENCH_SCALE:-0}" = 1 ]; then
    echo
    echo "| scale case | measured |"
    echo "|---|---|"
    # 50 recipients: the extra time over a single-recipient package of a small document.
    printf 'small\n' > small.txt
    small=$("$dossier" deposit small.txt --kind supporting-material --title small)
    ids=()
    for i in $(seq 1 50); do
        "$dossier" identity new -o "r$i.key" --no-passphrase >/dev/null 2>&1
        id=$("$dossier" counsel add "r$i.key" --name "R$i" 2>/dev/null); ids+=("$id")
        "$dossier" counsel vet "$id" --until 2099-12-31 >/dev/null 2>&1
    done
    printf 'version = 1\n' > wide.toml
    for k in expert-report witness-testimony assurance-rebuttal supporting-material; do
        printf '[kinds.%s]\nmax_window = "30d"\ndefault_window = "7d"\napprovals = 1\nmax_recipients = 100\nrequire_vetted = true\nrequire_online = false\nmax_opens = 0\n' "$k" >> wide.toml
    done
    # The default policy asks for two sign-offs: a colleague approves the change.
    "$dossier" identity new -o colleague.key --no-passphrase >/dev/null 2>&1
    "$dossier" staff add colleague.key --name Colleague >/dev/null
    sha=$("$dossier" policy set wide.toml 2>/dev/null)
    "$dossier" policy approve "$sha" --identity colleague.key >/dev/null 2>&1
    g1=$("$dossier" grant "$small" --to "${ids[0]}" --for 1d 2>/dev/null)
    g50=$("$dossier" grant "$small" --to "${ids[@]}" --for 1d 2>/dev/null)
    t1=$(seconds "$dossier" package "$g1" -o one.dpkg)
    t50=$(seconds "$dossier" package "$g50" -o fifty.dpkg)
    echo "| package for 50 recipients, extra time over 1 | $(awk -v a="$t1" -v b="$t50" 'BEGIN { printf "%.0f ms", (b - a) * 1000 }') |"
    mkdir -p many
    for i in $(seq 1 10000); do printf 'file %d\n' "$i" > "many/f$i.txt"; done
    t=$(seconds "$dossier" deposit many/*.txt --kind supporting-material --title "many small files")
    echo "| deposit of 10,000 small files in one command | ${t} s |"
    # Decisions verify the signed log first: the whole log on a machine that never saw this
    # vault, only the entries since the last decision otherwise.
    rm -rf "$XDG_STATE_HOME"
    t=$(seconds "$dossier" package "$g1" -o cold.dpkg)
    echo "| package after 10,000 new log entries, first decision on this machine (every signature verified) | ${t} s |"
    t=$(seconds "$dossier" package "$g1" -o warm.dpkg)
    echo "| package again (entries already verified here: chain and facts only) | ${t} s |"
    t=$(seconds "$dossier" list)
    echo "| list, $("$dossier" list | wc -l) documents | ${t} s |"
    t=$(seconds "$dossier" search "file 9999")
    echo "| search, same catalogue | ${t} s |"
    t=$(seconds "$dossier" audit verify)
    echo "| audit verify, $("$dossier" audit log --json | grep -c '"seq"') entries | ${t} s |"
    # A catalogue of 100,000 documents (sealed metadata, no content), made by the benchmark
    # tool beside the binary; list and search timed by hyperfine (mean of 10) when present.
    docs="${BENCH_CATALOGUE:-100000}"
    "$(dirname "$dossier")/DossierBench" catalogue big-vault big.key "$docs"
    mean() { # COMMAND...: mean seconds of 10 runs (hyperfine), or one run
        if command -v hyperfine >/dev/null; then
            hyperfine -N --warmup 2 --runs 10 --export-json m.json "$*" >/dev/null 2>&1
            sed -n 's/.*"mean": \([0-9.e-]*\).*/\1/p' m.json | head -n1 | awk '{ printf "%.3f", $1 }'
        else seconds "$@"; fi
    }
    export DOSSIER_VAULT="$work/big-vault" DOSSIER_IDENTITY="$work/big.key"
    echo "| list, $("$dossier" list | wc -l) documents (mean of 10) | $(mean "$dossier" list) s |"
    echo "| search, same catalogue (mean of 10) | $(mean "$dossier" search "report 99999") s |"
    echo "| list --json, same catalogue (mean of 10) | $(mean "$dossier" list --json) s |"
    # The same number of documents titled in the six UN languages' scripts: search folds each
    # title that is not ASCII (docs/staff-guide.md, "How search compares text").
    "$(dirname "$dossier")/DossierBench" catalogue six-vault six.key "$docs" six-scripts
    export DOSSIER_VAULT="$work/six-vault" DOSSIER_IDENTITY="$work/six.key"
    echo "| search refutation, $docs documents in six scripts (mean of 10) | $(mean "$dossier" search refutation) s |"
    echo "| search ОТЧЕТ 99999 (finds отчёт), same catalogue (mean of 10) | $(mean "$dossier" search ОТЧЕТ 99999) s |"
    export DOSSIER_VAULT="$work/vault" DOSSIER_IDENTITY="$work/staff.key"
    # Decisions over a long log: the vault's log grown to BENCH_DECISION_ENTRIES (default
    # 1,000,000) with signed retrievals (most of a real log is retrievals, packages, openings).
    # A grant reads the log once (peak RSS beside the time); the first one on this machine
    # verifies every signature, so it is made first and not timed.
    grow="${BENCH_DECISION_ENTRIES:-1000000}"
    have=$("$dossier" audit log --json | grep -c '"seq"')
    if [ "$grow" -gt "$have" ]; then
        "$(dirname "$dossier")/DossierBench" log "$work/vault" "$work/staff.key" "$small" "$((grow - have))"
    fi
    "$dossier" grant "$small" --to "${ids[1]}" --for 1d >/dev/null 2>&1
    /usr/bin/time -f "%e %M" -o decision.out "$dossier" grant "$small" --to "${ids[2]}" --for 1d >/dev/null 2>&1
    read -r s m < decision.out
    echo "| grant on a log of $grow entries (already verified here; one read of the log) | ${s} s, peak $(awk -v k="$m" 'BEGIN { printf "%.0f", k / 1024 }') MiB |"
    # A long log: 1,000,000 signed entries written by an independent Python implementation.
    n="${BENCH_LOG_ENTRIES:-1000000}"
    fp=$(python3 "$here/Benchmarks/make-log-export.py" "$n" long.dlog)
    t=$(seconds "$dossier" audit verify --export long.dlog --org-fingerprint "$fp" --save-state long.state)
    echo "| audit verify --export, $n entries (and --save-state) | ${t} s |"
    python3 -c "import base64,sys
for l in open('long.dlog'):
    if l.startswith('checkpoint '): open('long.note','wb').write(base64.b64decode(l.split()[1])); break"
    t=$(seconds "$dossier" audit verify --export long.dlog --org-fingerprint "$fp" --from-checkpoint long.note)
    echo "| the same, --from-checkpoint (signatures skipped, every entry hashed; no new entries) | ${t} s |"
    echo "| the same, --from-state (no new entries; mean of 10) | $(mean "$dossier" audit verify --export long.dlog --org-fingerprint "$fp" --from-state long.state) s |"
    # The same log grown by 10,000 entries (the generator is deterministic: the first n are equal).
    python3 "$here/Benchmarks/make-log-export.py" "$((n + 10000))" longer.dlog >/dev/null
    echo "| --from-state, 10,000 new entries (mean of 10) | $(mean "$dossier" audit verify --export longer.dlog --org-fingerprint "$fp" --from-state long.state) s |"
    if command -v hyperfine >/dev/null; then
        t=$(hyperfine -N --warmup 3 --runs 20 --export-json h.json "$dossier --help" >/dev/null 2>&1 && sed -n 's/.*"mean": \([0-9.e-]*\).*/\1/p' h.json | head -n1)
        echo "| dossier --help (mean of 20) | $(awk -v t="$t" 'BEGIN { printf "%.1f ms", t * 1000 }') |"
    fi
fi
