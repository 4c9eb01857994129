#!/usr/bin/env bash
# Fuzzes Dossier's parsers of hostile input with libFuzzer and AddressSanitizer, each target for
# a bounded time, and saves every crashing, hanging or memory-hungry input under
# Tests/Fuzz/crashes/TARGET/ so that it becomes a corpus case (docs/fuzzing-and-sanitizers.md).
#
# Usage: scripts/fuzz.sh [SECONDS-PER-TARGET] [TARGET...]   (default 60 s, every target)
#        scripts/fuzz.sh --seed      (regenerate Tests/Fuzz/corpus/*/valid-* with the CLI, or $DOSSIER)
# Targets: package identity public-identity policy checkpoint log-entry export release-request certificate request
# Environment: FUZZ_CONFIG=release|debug (default release: -O keeps every precondition and
#              bounds check, and runs several times faster), FUZZ_JOBS=N (default 1),
#              FUZZ_TIMEOUT=seconds one input may take before it counts as a hang (default 10),
#              FUZZ_RSS_MB=memory limit in MiB (default 2048).
# Exits 0 if nothing was found, 1 if a target crashed, hung or ran out of memory, 2 on misuse.
# The secret-file marker, assembled so that secret scanners do not flag this script.
marker="DOSSIER-SECRET""-KEY-1"
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
all_targets=(package identity public-identity policy checkpoint log-entry export release-request certificate request)
say() { echo "fuzz: $*" >&2; }

# Seeds: valid inputs of every format, made with the real CLI in a throwaway vault.
seed() {
    local dossier=${DOSSIER:-} corpus=$root/Tests/Fuzz/corpus work
    work=$(mktemp -d "${TMPDIR:-/tmp}/dossier-fuzz-seed.XXXXXX")
    # Expanded now ($work is local), and on EXIT so that a failing step (set -e) cleans up too.
    trap "rm -rf '$work'" EXIT
    if [ -z "$dossier" ]; then
        say "building dossier to make seed inputs (or give one: DOSSIER=PATH scripts/fuzz.sh --seed)"
        swift build --product dossier >"$work/build.log" 2>&1 || { grep error: "$work/build.log" >&2; say "error: dossier did not build"; exit 1; }
        dossier="$(swift build --show-bin-path)/dossier"
    fi
    (
        cd "$work"
        export DOSSIER_VAULT="$work/vault" DOSSIER_IDENTITY="$work/staff.key" XDG_CONFIG_HOME="$work/config"
        "$dossier" identity new -o staff.key --no-passphrase >/dev/null 2>&1
        printf 'fuzz seed passphrase\n' > pass
        "$dossier" identity new -o counsel.key --passphrase-file pass >/dev/null 2>&1
        "$dossier" identity show counsel.key | sed -n 1p > counsel.pub
        "$dossier" init --org example.org/fuzz --name "Fuzz Seed" --root-out "$work/org-root.key" --no-passphrase >/dev/null 2>&1
        printf 'a short report\n' > report.txt
        printf 'a second document' > annex.txt
        doc1=$("$dossier" deposit report.txt --kind expert-report --title Report --lang en 2>/dev/null)
        doc2=$("$dossier" deposit annex.txt --kind expert-report --title Annex --lang fr 2>/dev/null)
        counsel=$("$dossier" counsel add counsel.pub --name "Seed Counsel" 2>/dev/null)
        "$dossier" counsel vet "$counsel" --until 2099-12-31 >/dev/null 2>&1
        "$dossier" grant "$doc1" --to "$counsel" --for 5d -o one.dpkg >/dev/null 2>&1
        "$dossier" grant "$doc1" "$doc2" --to "$counsel" --for 2d -o two.dpkg >/dev/null 2>&1
        "$dossier" audit checkpoint -o checkpoint.note >/dev/null 2>&1
        "$dossier" audit export -o log.dlog >/dev/null 2>&1
        "$dossier" org show --json | sed -n 's/.*"noteKey" : "\(.*\)".*/\1/p' > note.key
    )
    for t in "${all_targets[@]}"; do mkdir -p "$corpus/$t"; rm -f "$corpus/$t"/valid-*; done
    cp "$work/one.dpkg" "$corpus/package/valid-one-document.dpkg"
    cp "$work/two.dpkg" "$corpus/package/valid-two-documents.dpkg"
    cp "$work/staff.key" "$corpus/identity/valid-unprotected.key"
    cp "$work/counsel.key" "$corpus/identity/valid-passphrase.key"
    cp "$work/counsel.pub" "$corpus/public-identity/valid-line"
    cp "$root/policies/default.toml" "$corpus/policy/valid-default.toml"
    cp "$root/policies/strict.toml" "$corpus/policy/valid-strict.toml"
    cp "$work/checkpoint.note" "$corpus/checkpoint/valid-note"
    sed '/^$/,$d' "$work/checkpoint.note" > "$corpus/checkpoint/valid-body"
    printf '%s' "$(cat "$work/note.key")" > "$corpus/checkpoint/valid-verifier-key"
    cp "$work/log.dlog" "$corpus/export/valid-export.dlog"
    # The first log entry of each action (init, deposit, grant, ...).
    local n=0 action
    while read -r line; do
        n=$((n + 1))
        action=$(printf '%s' "$line" | base64 -d | sed -n 's/^action //p')
        [ -e "$corpus/log-entry/valid-$action" ] || printf '%s' "$line" | base64 -d > "$corpus/log-entry/valid-$action"
    done < <(sed -n 's/^entry //p' "$work/log.dlog")
    say "wrote seeds to Tests/Fuzz/corpus/ ($(cat "$corpus"/*/* | wc -c) bytes)"
}

if [ "${1:-}" = "--seed" ]; then seed; exit 0; fi
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then sed -n '2,/^set -e/p' "$0" | sed -n 's/^# \{0,1\}//p'; exit 0; fi

seconds=60
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then seconds=$1; shift; fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
    [[ " ${all_targets[*]} " == *" $t "* ]] || { say "error: unknown target '$t'"; say "hint: targets are ${all_targets[*]}"; exit 2; }
done
config=${FUZZ_CONFIG:-release}
jobs=${FUZZ_JOBS:-1}
parallel=()
[ "$jobs" -gt 1 ] && parallel=(-jobs="$jobs" -workers="$jobs")
timeout=${FUZZ_TIMEOUT:-10}
rss=${FUZZ_RSS_MB:-2048}
scratch=$root/.build-fuzz

# Every module is instrumented, C and C++ (TOMLKit's toml++, GRDB's SQLite glue) included.
# `--sanitize fuzzer --sanitize address` is not enough with Swift 6.3: the Swift compiler then
# gets one sanitizer only (in release, coverage without AddressSanitizer). So SwiftPM is told
# about the fuzzer (it then links libFuzzer's main and leaves the entry point alone), and the
# compilers get both sanitizers themselves. -DFUZZING leaves out the replay entry point
# (Sources/DossierFuzz/Replay.swift), so libFuzzer's main runs.
say "building DossierFuzz ($config) with libFuzzer and AddressSanitizer (log: ${scratch#"$root"/}/build.log)"
mkdir -p "$scratch"
if ! swift build -c "$config" --scratch-path "$scratch" --product DossierFuzz --sanitize fuzzer \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING \
        -Xcc -fsanitize=address -Xcxx -fsanitize=address >"$scratch/build.log" 2>&1; then
    grep -E 'error:' "$scratch/build.log" | head -n 20 >&2 || true
    say "error: the fuzzer did not build; see ${scratch#"$root"/}/build.log"
    exit 1
fi
fuzzer=$scratch/$config/DossierFuzz
# Check the instrumentation rather than trust the flags: both sanitizers, in Dossier's own code.
probe=$scratch/$config/DossierCore.build/AuditEntry.swift.o
# (grep -c, not -q: with pipefail, -q closing the pipe early would fail the check.)
if [ "$(nm "$probe" | grep -c __asan_)" -lt 1 ] || [ "$(objdump -h "$probe" | grep -c __sancov_cntrs)" -lt 10 ]; then
    say "error: DossierCore was built without coverage or AddressSanitizer; see ${scratch#"$root"/}/build.log"
    exit 1
fi

# Leaks inside TOMLKit (a dependency: TOMLTable(string:) never frees its error buffer, and
# `keys` and `int` leak C++ copies) would stop the policy target on its first input. They are
# suppressed by source path, so a leak in Dossier's own code is still a finding.
printf '%s\n' 'leak:checkouts/TOMLKit/' > "$scratch/lsan.supp"

# Longest input per target: a little over the largest seed, so that mutations can grow it.
max_len() {
    case $1 in
        export|package|request) echo 16384 ;;
        policy) echo 8192 ;;
        *) echo 4096 ;;
    esac
}

# Tokens of each format, so that mutations speak it (libFuzzer -dict syntax). The CR and the
# em dash are here because line splitting and signature lines are where parsers go wrong.
dictionary() {
    printf '%s\n' '"\x0d"' '"\x0a"' '"\x0d\x0a"' '"\x00"' '" "' '"\xe2\x80\x94 "'
    case $1 in
        package) printf '"%s"\n' 'DPK\x01' 'dossier-package/1' 'organisation ' 'issuer dossierorg1' 'package pkg-' \
            'grant grant-' 'created ' 'not-before ' 'not-after ' 'online ' 'recipient ' 'content ' '2026-01-01T00:00:00.000Z' ;;
        identity) printf '"%s"\n' "$marker" 'RFNL' 'RFNLAQ' 'RFNLAQA' 'RFNLAQE' '=' '==' ;;
        public-identity) printf '"%s"\n' 'dossier1' "$marker" 'dossierorg1' ;;
        policy) printf '"%s"\n' 'version = 1' '[kinds.' '[[kinds.' 'expert-report' 'witness-testimony' 'max_window = ' \
            'default_window = ' 'approvals = ' 'max_recipients = ' 'require_vetted = ' 'require_online = ' \
            'max_opens = ' 'true' 'false' '\"7d\"' '\"\"\"' '{' '}' '[' ']' '#' '9223372036854775807' ;;
        checkpoint) printf '"%s"\n' '\x0a\x0a' '+' '+AQ' ;;
        log-entry) printf '"%s"\n' 'dossier-log-entry/1' 'seq ' 'time ' 'actor ' 'action ' 'subject ' 'detail ' 'prev ' \
            'sig ' '=' 'staff:' 'doc:' '2026-01-01T00:00:00.000Z' ;;
        export) printf '"%s"\n' 'dossier-log-export/1' 'organisation ' 'organisation-key dossierorg1' 'checkpoint ' 'entry ' ;;
        release-request) printf '"%s"\n' 'dossier-release-request/1' '\\n' 'package pkg-' 'grant grant-' 'recipient ' 'time ' \
            'nonce ' '{"request":"' '","signature":"' '"}' '2026-01-01T00:00:00.000Z' ;;
        certificate) printf '"%s"\n' 'dossier-certificate/1' 'organisation ' 'root dossierorg1' 'serial cert-' 'subject dossier1' \
            'role staff' 'role service' 'not-before ' 'not-after ' 'signature ' '2027-01-01T00:00:00.000Z' ;;
    esac
}

found=0
summary=()
for t in "${targets[@]}"; do
    seeds=$root/Tests/Fuzz/corpus/$t
    # The hostile-input corpus of the end-to-end tests, where it has this target, seeds it too.
    hostile=()
    [ -d "$root/Tests/dossierTests/Corpus/$t" ] && hostile=("$root/Tests/dossierTests/Corpus/$t")
    work=$scratch/corpus/$t           # grows as libFuzzer finds new coverage; not in git
    artifacts=$scratch/artifacts/$t
    mkdir -p "$seeds" "$work" "$artifacts"
    rm -f "$artifacts"/*
    log=$scratch/fuzz-$t.log
    dictionary "$t" > "$scratch/$t.dict"
    say "fuzzing $t for ${seconds}s (log: ${log#"$root"/})"
    set +e
    # ASAN_OPTIONS: leaks are reported (LeakSanitizer), and a report aborts so libFuzzer saves the input.
    # SWIFT_BACKTRACE: Swift's own crash backtracer reads memory in ways AddressSanitizer reports
    # as an overflow, hiding the real failure; libFuzzer prints the stack instead.
    DOSSIER_FUZZ_TARGET=$t SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1} \
    LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$scratch/lsan.supp:print_suppressions=0} \
        "$fuzzer" "$work" "$seeds" "${hostile[@]}" \
        -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb="$rss" \
        -max_len="$(max_len "$t")" -dict="$scratch/$t.dict" -use_value_profile=1 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "${parallel[@]}" \
        >"$log" 2>&1
    status=$?
    set -e
    # With -jobs, each job logs to fuzz-N.log in the current folder.
    for l in fuzz-[0-9]*.log; do [ -e "$l" ] && { cat "$l" >> "$log"; rm -f "$l"; }; done
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s += $2} END {print s + 0}' || true)
    # The last status line: "cov:" counts edges, "ft:" features (edges and compared values).
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
    artifacts_found=("$artifacts"/crash-* "$artifacts"/timeout-* "$artifacts"/oom-* "$artifacts"/leak-* "$artifacts"/slow-unit-*)
    saved=0
    for a in "${artifacts_found[@]}"; do
        [ -e "$a" ] || continue
        case $(basename "$a") in slow-unit-*) continue ;; esac
        mkdir -p "$root/Tests/Fuzz/crashes/$t"
        dest=$root/Tests/Fuzz/crashes/$t/$(basename "$a")
        mv "$a" "$dest"
        say "FOUND: $t: saved ${dest#"$root"/}; libFuzzer's report (whole log: ${log#"$root"/}):"
        grep -a -E '^==[0-9]+==|Fatal error|failed|^SUMMARY|^ +#[0-9] 0x' "$log" | head -n 30 >&2 || true
        say "reproduce: SWIFT_BACKTRACE=enable=no DOSSIER_FUZZ_TARGET=$t ${fuzzer#"$root"/} ${dest#"$root"/}"
        say "       or: swift run DossierFuzz $t ${dest#"$root"/}"
        saved=$((saved + 1))
    done
    if [ "$saved" -gt 0 ]; then
        found=1
        summary+=("$t: FOUND $saved input(s) after $runs runs")
    elif [ "$status" -ne 0 ]; then
        found=1
        summary+=("$t: libFuzzer exited $status without saving an input; see ${log#"$root"/}")
    else
        summary+=("$t: nothing found in $runs runs (${seconds}s, ${ft:-?} coverage features, corpus of $(find "$work" -type f | wc -l) inputs)")
    fi
done

echo "fuzz summary:"
printf '  %s\n' "${summary[@]}"
if [ "$found" -ne 0 ]; then
    say "inputs were found: fix the parser, then keep each input as a corpus case (docs/fuzzing-and-sanitizers.md)"
    exit 1
fi
