#!/usr/bin/env bash
# Crash safety, promise 7 of docs/threat-model.md. A worker runs deposits, retrievals, grants,
# packages, opens (counsel side), removals, rotations and checkpoints in a loop; each round the
# test waits until a dossier process of the round's operation is running, stops it, records
# how far it got (/proc/PID/stat and /proc/PID/io), and SIGKILLs the worker's process group.
# After every kill it checks that
#   - every output asked for (retrieve -o, open -o, grant/package -o) is absent or complete:
#     a document is exactly the deposited plaintext (by SHA-256), a package is accepted by
#     `inspect` and opens to the expected documents;
#   - no plaintext is left anywhere in the work folder, vault and configuration included, once
#     the checked outputs are removed (every deposited plaintext carries a marker string; only
#     the inputs' own folder is not searched);
#   - no temporary file is left under a name (the named fallback of AtomicOutput);
#   - `dossier doctor` and `dossier audit verify` pass (after a kill of `rotate` or `remove`,
#     doctor may report the clean-up of retired keys unfinished, and nothing else; then
#     `doctor --fix` must finish it and doctor pass);
#   - every deposit that reported success is retrievable byte for byte (unless its removal
#     was started).
# It ends with a table: kills per operation and how far into the operation they landed.
# Needs Linux /proc (stat, io, cmdline); fails rather than passing without it.
#
# With --postgres the vault is a new database on the server DOSSIER_TEST_POSTGRES names
# (scripts/pg-cluster.sh run sets it; without it the test fails): the client is killed while
# its transaction is open, and the checks are the same, with a pg_dump of the database searched
# for the marker (as text, and as the hex in which pg_dump writes bytea) as well.
# Usage: scripts/crash-test.sh [--postgres] [KILLS] [PATH-TO-dossier]
#        (default 200 kills; `make test` runs 5 on a folder and 5 on PostgreSQL)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
postgres=""
if [ "${1:-}" = --postgres ]; then
    postgres=1; shift
    [ -n "${DOSSIER_TEST_POSTGRES:-}" ] || {
        echo "crash-test: FAIL: --postgres needs DOSSIER_TEST_POSTGRES; run it as: scripts/pg-cluster.sh run scripts/crash-test.sh --postgres ..." >&2
        exit 1
    }
    command -v pg_dump >/dev/null || { echo "crash-test: FAIL: --postgres needs pg_dump" >&2; exit 1; }
fi
kills="${1:-200}"
dossier="${2:-$(swift build --show-bin-path)/dossier}"
case $dossier in /*) ;; *) dossier="$PWD/$dossier" ;; esac
top=$(mktemp -d "${TMPDIR:-/tmp}/dossier-crash.XXXXXX")
export XDG_STATE_HOME="$top/state"   # where dossier remembers the newest log entry it verified
inputs="$top/plaintext-inputs"   # the files deposited: the one folder the marker may be in
work="$top/work"                 # vault, keys, configuration, outputs: searched for plaintext
state="$top/state"               # what the worker reported, for the checks
wpid=""
cleanup() {
    if [ -n "$wpid" ]; then kill -KILL -- "-$wpid" 2>/dev/null || true; fi
    wait 2>/dev/null || true
    rm -rf "$top"
}
trap cleanup EXIT
k=0
fail() { echo "crash-test: FAIL after kill $k: $*" >&2; exit 1; }

[ -r /proc/self/stat ] && [ -r /proc/self/io ] && [ -r /proc/self/cmdline ] && [ -r /proc/uptime ] ||
    { echo "crash-test: FAIL: needs /proc (stat, io, cmdline, uptime) to aim and record the kills" >&2; exit 1; }
ticks=$(getconf CLK_TCK)

mkdir -p "$top/bin" "$inputs" "$work/out" "$state"
# A private copy, so that a rebuild during the test cannot swap the binary under it; named
# `dossier` so that its processes are recognised by their command name.
cp "$dossier" "$top/bin/dossier"
# Its messages (the localisation bundle) go with it: dossier looks for them beside itself.
resources="$(dirname "$dossier")/Dossier_dossier.resources"
[ -d "$resources" ] || { echo "crash-test: FAIL: $resources is missing (build dossier first)" >&2; exit 1; }
cp -R "$resources" "$top/bin/"
dossier="$top/bin/dossier"
cd "$work"
export DOSSIER_VAULT="$work/vault" DOSSIER_IDENTITY="$work/staff.key" XDG_CONFIG_HOME="$work/config"
if [ -n "$postgres" ]; then
    DOSSIER_VAULT=$("$here/pg-cluster.sh" createdb "$DOSSIER_TEST_POSTGRES") || { echo "crash-test: FAIL: cannot create a database" >&2; exit 1; }
fi
marker="DOSSIER-CRASH-PLAINTEXT-$RANDOM$RANDOM$RANDOM"
marker_hex=$(printf '%s' "$marker" | od -An -tx1 | tr -d ' \n')

"$dossier" identity new -o staff.key --no-passphrase >/dev/null 2>&1
"$dossier" identity new -o counsel.key --no-passphrase >/dev/null 2>&1
"$dossier" init --org example.org/crash-test --root-out "$top/org-root.key" --no-passphrase >/dev/null 2>&1
counsel=$("$dossier" counsel add counsel.key --name "Crash Counsel" 2>/dev/null)
"$dossier" counsel vet "$counsel" --until 2099-12-31 >/dev/null 2>&1
org=$("$dossier" org show 2>/dev/null | grep -o 'dossierorg1[a-z0-9]*' | head -n1)
[ -n "$org" ] || fail "cannot read the organisation's public key"
"$dossier" trust add "$org" --name "Crash Test" >/dev/null 2>&1

cd "$state"
: > ledger      # "id sha256 size name" of every deposit that reported success
: > removing    # ids whose removal was started
: > grants      # "grant-id doc..." of every grant that reported success
: > packages    # "path doc..." of every package known complete
: > outputs     # "retrieve PATH id" | "open DIR doc..." | "package PATH doc..." asked for since the last check
: > kills       # "operation ms-since-start bytes-read bytes-written payload-bytes" per kill

# Deposits whose removal was not started.
live() { awk 'FILENAME == ARGV[1] { gone[$1]; next } !($1 in gone)' removing ledger; }

deposit() {
    local name="doc-$1-$RANDOM$RANDOM.txt" id sum
    # Base64 lines each led by the marker, so that any piece of a plaintext holds it.
    head -c $((RANDOM * (RANDOM % 24 + 1))) /dev/urandom | base64 -w 48 | sed "s/^/$marker /" > "$inputs/$name"
    sum=$(sha256sum < "$inputs/$name" | cut -d' ' -f1)
    if id=$("$dossier" deposit "$inputs/$name" --kind expert-report --title "crash $1" 2>/dev/null); then
        echo "$id $sum $(stat -c %s "$inputs/$name") $name" >> ledger
    fi
}

remove_one() {
    local id
    id=$(live | shuf -n1 | cut -d' ' -f1)
    [ -n "$id" ] || return 0
    echo "$id" >> removing
    "$dossier" remove "$id" --reason "crash test" >/dev/null 2>&1 || true
}

# One operation; $1 names it, $2 numbers it.
operation() {
    local n=$2 id docs out g line
    case $1 in
        deposit) deposit "$n" ;;
        retrieve)
            id=$(live | shuf -n1 | cut -d' ' -f1)
            [ -n "$id" ] || return 0
            out="$work/out/r-$n.bin"
            echo "retrieve $out $id" >> outputs
            "$dossier" retrieve "$id" -o "$out" >/dev/null 2>&1 || true ;;
        grant)
            docs=$(live | shuf -n $((RANDOM % 2 + 1)) | cut -d' ' -f1 | xargs)
            [ -n "$docs" ] || return 0
            out="$work/out/g-$n.dpkg"
            echo "package $out $docs" >> outputs
            # shellcheck disable=SC2086
            if g=$("$dossier" grant $docs --to "$counsel" --for 1d -o "$out" 2>/dev/null); then
                echo "$g $docs" >> grants
                echo "$out $docs" >> packages
            fi ;;
        package)
            line=$(shuf -n1 grants)
            [ -n "$line" ] || return 0
            out="$work/out/p-$n.dpkg"
            echo "package $out ${line#* }" >> outputs
            if "$dossier" package "${line%% *}" -o "$out" >/dev/null 2>&1; then echo "$out ${line#* }" >> packages; fi ;;
        open)
            line=$(shuf -n1 packages)
            [ -n "$line" ] || return 0
            out="$work/out/o-$n"
            mkdir -p "$out"
            echo "open $out ${line#* }" >> outputs
            "$dossier" open "${line%% *}" --identity "$work/counsel.key" -o "$out" >/dev/null 2>&1 || true ;;
        remove) remove_one ;;
        rotate) "$dossier" rotate >/dev/null 2>&1 || true ;;
        checkpoint) "$dossier" audit checkpoint >/dev/null 2>&1 || true ;;
    esac
}

operations=(deposit retrieve open grant package remove rotate checkpoint)
# Random operations until killed: half of them the round's target ($2), so that it comes soon.
worker() {
    local round=$1 target=$2 n=0 op
    while true; do
        n=$((n + 1))
        if [ $((RANDOM % 2)) = 0 ]; then op=$target; else
            case $((RANDOM % 10)) in
                0|1|2|3) op=deposit ;; 4) op=retrieve ;; 5) op=open ;; 6) op=grant ;;
                7) op=package ;; 8) op=rotate ;; 9) op=checkpoint ;;
            esac
            # Keep the vault small, so that checking every deposit after each kill stays cheap.
            [ "$(live | wc -l)" -le 16 ] || op=remove
        fi
        operation "$op" "$round-$n"
    done
}

# Sets `fields` to process $1's /proc/PID/stat after its command name (state, ppid, pgrp, …,
# starttime is the 20th); fails when the process is gone or the line is cut short.
stat_fields() {
    local line
    { read -r line < "/proc/$1/stat"; } 2>/dev/null || return 1
    read -ra fields <<< "${line##*) }"
    [ "${#fields[@]}" -ge 20 ]
}
# Live dossier processes of the worker's process group: "pid starttime" per line, from /proc.
group_dossiers() {
    local f pid line
    for f in /proc/[0-9]*/stat; do
        pid=${f//[^0-9]/}
        { read -r line < "$f"; } 2>/dev/null || continue
        case $line in *" (dossier) "[RSD]" "*) ;; *) continue ;; esac
        stat_fields "$pid" && [ "${fields[2]}" = "$wpid" ] && echo "$pid ${fields[19]}"
    done
    return 0
}
# Whether anything of the worker's process group still runs (zombies excepted).
group_alive() {
    local f
    for f in /proc/[0-9]*/stat; do
        stat_fields "${f//[^0-9]/}" && [ "${fields[2]}" = "$wpid" ] && [ "${fields[0]}" != Z ] && return 0
    done
    return 1
}
# The operation a dossier command line names, as in `operations`.
operation_of() {
    local -a argv
    { mapfile -d '' -t argv < "/proc/$1/cmdline"; } 2>/dev/null || return 1
    case ${argv[1]:-} in
        audit) [ "${argv[2]:-}" = checkpoint ] && echo checkpoint || echo "audit-${argv[2]:-}" ;;
        *) echo "${argv[1]:-}" ;;
    esac
}
# The size of the plaintext operation $1 (process $2) stores or writes out, if known.
payload_of() {
    local -a argv
    # A process that has just exited (a zombie) has an empty command line: nothing is known.
    { mapfile -d '' -t argv < "/proc/$2/cmdline"; } 2>/dev/null || { echo 0; return; }
    [ "${#argv[@]}" -ge 3 ] || { echo 0; return; }
    case $1 in
        deposit) stat -c %s "${argv[2]}" 2>/dev/null || echo 0 ;;
        retrieve) awk -v id="${argv[2]}" '$1 == id { print $3; f = 1 } END { if (!f) print 0 }' ledger ;;
        open) awk -v p="${argv[2]}" 'FILENAME == ARGV[1] { if ($1 == p) for (i = 2; i <= NF; i++) want[$i]; next }
                                    $1 in want { s += $3 } END { print s + 0 }' packages ledger ;;
        *) echo 0 ;;
    esac
}

ms() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
# Per operation, adapted as the test goes: the longest random delay after it starts (ms), and
# the most bytes it may have written when stopped, where the size of its plaintext is unknown.
declare -A ceiling bytes
fields=()
for op in "${operations[@]}"; do ceiling[$op]=400; bytes[$op]=65536; done

# Starts a worker aimed at $1, waits for a dossier process running $1, stops it, records it,
# and kills the worker's whole process group. Retries when the process ends before the kill.
kill_during() {
    local target=$1 deadline=$(($(date +%s) + 120)) pid start delay line op uptime io rchar wchar w mode payload bound threshold seen key value counter tries=0
    set -m
    worker "$k" "$target" >/dev/null 2>&1 &
    wpid=$!
    set +m
    while true; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "no running '$target' to kill within 120 s"
        line=""
        while read -r pid start; do
            [ "$(operation_of "$pid")" = "$target" ] && { line="$pid $start"; break; }
        done < <(group_dossiers)
        if [ -z "$line" ]; then sleep 0.01; continue; fi
        read -r pid start <<< "$line"
        tries=$((tries + 1))
        # After many misses, fall back on time, whose delay shrinks until it hits.
        if [ $((RANDOM % 4)) = 0 ] || [ "$tries" -gt 20 ]; then
            # One kill in four at a random moment of the process's life, start-up included.
            mode=time
            delay=$(((RANDOM * 32768 + RANDOM) % ${ceiling[$target]}))
            sleep "$(ms "$delay")"
        else
            # Three in four once it has written a random number of bytes, up to the size of
            # its plaintext where known, else up to the most seen so far: start-up writes
            # nothing, and a write phase can be too short to hit by time. Builtins only, so
            # that no fork stands between the reading and the stop.
            mode=bytes
            payload=$(payload_of "$target" "$pid")
            # A deposit into PostgreSQL sends its ciphertext to a socket, which /proc/PID/io
            # does not count as written: aim it by the plaintext it has read instead.
            counter=wchar:
            [ -n "$postgres" ] && [ "$target" = deposit ] && counter=rchar:
            bound=$((payload > 0 ? payload : ${bytes[$target]}))
            threshold=$(((RANDOM * 32768 + RANDOM) % bound + 1))
            seen=0
            while true; do
                w=""
                { while read -r key value; do [ "$key" = "$counter" ] && { w=$value; break; }; done < "/proc/$pid/io"; } 2>/dev/null || true
                [ -n "$w" ] && [ "$w" -lt "$threshold" ] || break
                seen=$w
            done
            if [ -z "$w" ]; then
                # It ended first: it writes less than that, or all at once just before exit.
                if [ "$seen" -gt 0 ]; then bytes[$target]=$seen; else bytes[$target]=$((bytes[$target] * 3 / 4 + 1)); fi
                continue
            fi
        fi
        # Stop it, then make sure the stopped process is still the one found, running dossier.
        # (bash reads /proc files in pieces, so a line read while the process runs may come out
        # garbled: once it is stopped, a second reading is stable.)
        if kill -STOP "$pid" 2>/dev/null; then
            stat_fields "$pid" || stat_fields "$pid" || fields=()
            if [ "${#fields[@]}" -ge 20 ] && [ "${fields[19]}" = "$start" ] && [ "${fields[2]}" = "$wpid" ] && [ "${fields[0]}" != Z ] && op=$(operation_of "$pid") && [ "$op" = "$target" ]; then
                io=$(cat "/proc/$pid/io") || fail "cannot read /proc/$pid/io"
                read -r uptime _ < /proc/uptime
                rchar=$(awk '$1 == "rchar:" { print $2 }' <<< "$io")
                wchar=$(awk '$1 == "wchar:" { print $2 }' <<< "$io")
                echo "$op $(awk -v u="$uptime" -v s="$start" -v t="$ticks" 'BEGIN { printf "%d", (u - s / t) * 1000 }') $rchar $wchar $(payload_of "$op" "$pid")" >> kills
                kill -KILL -- "-$wpid"
                if [ "$mode" = time ]; then ceiling[$target]=$((ceiling[$target] * 9 / 8 + 1)); elif [ $((wchar * 5 / 4)) -gt "${bytes[$target]}" ]; then bytes[$target]=$((wchar * 5 / 4)); fi
                break
            fi
            kill -CONT "$pid" 2>/dev/null || true
        fi
        # It ended first: aim earlier next time.
        if [ "$mode" = time ]; then
            ceiling[$target]=$((ceiling[$target] * 3 / 4))
            [ "${ceiling[$target]}" -ge 5 ] || ceiling[$target]=5
        fi
    done
    wait "$wpid" 2>/dev/null || true
    local limit=$(($(date +%s) + 30))
    while group_alive; do
        [ "$(date +%s)" -lt "$limit" ] || fail "the worker's processes survive SIGKILL"
        sleep 0.02
    done
    wpid=""
}

sum_of() { awk -v id="$1" '$1 == id { print $2 }' ledger; }
name_of() { awk -v id="$1" '$1 == id { print $4 }' ledger; }

# Folder $1 holds only documents among ids $3..., each exactly the deposited plaintext; with
# $2 = all, every one of them.
check_documents() {
    local dir=$1 all=$2 id found=0 entry
    shift 2
    local -A want=()
    for id in "$@"; do want[$(name_of "$id")]=$(sum_of "$id"); done
    for entry in "$dir"/* "$dir"/.[!.]* "$dir"/..?*; do
        [ -e "$entry" ] || continue
        [ -f "$entry" ] || fail "$entry is not a regular file"
        [ -n "${want[${entry##*/}]:-}" ] || fail "$entry is not a document of its package (a leftover?)"
        [ "$(sha256sum < "$entry" | cut -d' ' -f1)" = "${want[${entry##*/}]}" ] ||
            fail "$entry exists but is not the deposited plaintext (partial or wrong)"
        found=$((found + 1))
    done
    [ "$all" != all ] || [ "$found" = $# ] || fail "$dir holds $found of the package's $# documents"
}

# Every output asked for since the last check is absent or complete; plaintext ones are
# removed once checked, packages are kept for later opens.
check_outputs() {
    local kind path rest
    while read -r kind path rest; do
        [ -e "$path" ] || continue
        case $kind in
            retrieve)
                [ "$(sha256sum < "$path" | cut -d' ' -f1)" = "$(sum_of "$rest")" ] ||
                    fail "retrieve output $path exists but is not document $rest (partial or wrong)"
                rm -f "$path" ;;
            open)
                # shellcheck disable=SC2086
                check_documents "$path" some $rest
                rm -rf "$path" ;;
            package)
                "$dossier" inspect "$path" >/dev/null 2>inspect.err || fail "package $path exists but inspect refuses it: $(cat inspect.err)"
                rm -rf "$top/opened" && mkdir "$top/opened"
                "$dossier" open "$path" --identity "$work/counsel.key" -o "$top/opened" >/dev/null 2>open.err ||
                    fail "package $path exists but does not open: $(cat open.err)"
                # shellcheck disable=SC2086
                check_documents "$top/opened" all $rest
                rm -rf "$top/opened"
                echo "$path $rest" >> packages ;;
        esac
    done < outputs
    : > outputs
    sort -u -o packages packages
}

check() {
    local id sum size name hits
    check_outputs
    hits=$(grep -rlaF --exclude-dir="${inputs##*/}" --exclude-dir=bin -- "$marker" "$top" | head -n5 | xargs || true)
    [ -z "$hits" ] || fail "plaintext left outside the requested outputs: $hits"
    if [ -n "$postgres" ]; then
        pg_dump --no-owner "$DOSSIER_VAULT" > "$top/dump.sql" 2>"$top/dump.err" || fail "pg_dump: $(cat "$top/dump.err")"
        ! grep -qaF -e "$marker" -e "$marker_hex" "$top/dump.sql" || fail "plaintext in the database (a pg_dump holds the marker)"
        rm -f "$top/dump.sql"
    fi
    hits=$(find "$top" \( -name '*.dossier-tmp-*' -o -name '*.dossier-new-*' \) | head -n5 | xargs)
    [ -z "$hits" ] || fail "temporary files left: $hits"
    if ! "$dossier" doctor >doctor.out 2>&1; then
        # A kill during the clean-up that follows a rotation or a removal (after the change
        # committed) leaves that clean-up owed: doctor must say so and nothing else, and
        # `doctor --fix` must finish it. Any other damage, or after any other operation, fails.
        case $1 in rotate|remove) ;; *) cat doctor.out >&2; fail "doctor reports damage" ;; esac
        if grep '^DAMAGE' doctor.out | grep -qv 'clean-up after a key rotation or a document removal is unfinished'; then
            cat doctor.out >&2; fail "doctor reports damage"
        fi
        "$dossier" doctor --fix >doctor.out 2>&1 || { cat doctor.out >&2; fail "doctor --fix does not finish the clean-up left by the kill"; }
        "$dossier" doctor >doctor.out 2>&1 || { cat doctor.out >&2; fail "doctor reports damage after doctor --fix"; }
        purges=$((purges + 1))
    fi
    "$dossier" audit verify >verify.out 2>&1 || { cat verify.out >&2; fail "the log does not verify"; }
    while read -r id sum size name; do
        rm -f "$top/check.bin"
        "$dossier" retrieve "$id" -o "$top/check.bin" >/dev/null 2>retrieve.err ||
            fail "deposit $id reported success but cannot be retrieved: $(cat retrieve.err)"
        [ "$(sha256sum < "$top/check.bin" | cut -d' ' -f1)" = "$sum" ] || fail "deposit $id changed"
        checked=$((checked + 1))
    done < <(live)
    rm -f "$top/check.bin"
    "$dossier" doctor --fix >/dev/null 2>&1 || true
}

# A few documents, a grant and its package, so that every operation has something to act on.
for n in 1 2 3; do deposit "seed-$n"; done
operation grant seed-4
[ "$(wc -l < ledger)" = 3 ] && [ -s packages ] || fail "cannot deposit and grant before the first kill"
checked=0 purges=0
started=$(date +%s)
for k in $(seq 1 "$kills"); do
    target=${operations[$(((k - 1) % ${#operations[@]}))]}
    kill_during "$target"
    check "$target"
done
seconds=$(($(date +%s) - started))

# How far into each operation the kills landed: how many after its first write, time since
# the process started, bytes it wrote, and, where the size of its plaintext is known (deposit, retrieve, open), those bytes
# as a share of it (the blob, or the document, is about as long as the plaintext).
spread() { sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%s/%s/%s", v[1], v[int((NR + 1) / 2)], v[NR]; else printf "-" }'; }
{
    printf '%-11s %5s %9s  %-16s  %-22s  %s\n' operation kills "in writes" "ms min/med/max" "KiB written min/med/max" "written, % of plaintext min/med/max"
    for op in "${operations[@]}"; do
        n=$(awk -v o="$op" '$1 == o' kills | wc -l)
        nw=$(awk -v o="$op" '$1 == o && $4 > 0' kills | wc -l)
        t=$(awk -v o="$op" '$1 == o { print $2 }' kills | spread)
        w=$(awk -v o="$op" '$1 == o { print int($4 / 1024) }' kills | spread)
        case $op in
            deposit|retrieve|open) p=$(awk -v o="$op" '$1 == o && $5 > 0 { print int(100 * $4 / $5) }' kills | spread) ;;
            *) p="" ;;
        esac
        printf '%-11s %5s %9s  %-16s  %-22s  %s\n' "$op" "$n" "$nw" "$t" "$w" "$p"
    done
}
echo "crash-test: ${postgres:+PostgreSQL: }$kills kills survived in $seconds s; $(wc -l < ledger) deposits reported, $checked retrievals checked byte for byte; every output absent or complete, no plaintext or temporary file left, doctor and audit verify passed after every kill ($purges kill(s) in a rotation's or removal's clean-up left it owed, which doctor reported and doctor --fix finished)"
