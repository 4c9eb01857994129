#!/usr/bin/env bash
# The main job end to end on a throwaway vault in a temporary folder, printing each step.
set -euo pipefail
dossier="${1:?usage: scripts/demo.sh PATH-TO-dossier}"
work=$(mktemp -d "${TMPDIR:-/tmp}/dossier-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

printf 'demo passphrase for staff\n' > staff.pass
chmod 600 staff.pass

step "Staff create an identity (passphrase from a file, as a script would)"
run "$dossier" identity new -o staff.key --passphrase-file staff.pass

step "Counsel create an identity and send its public line"
run "$dossier" identity new -o counsel.key --no-passphrase
run "$dossier" identity show counsel.key

step "A mistyped public line is caught by its checksum"
line=$("$dossier" identity show counsel.key | head -1)
typo="${line:0:20}x${line:21}"
[ "$typo" = "$line" ] && typo="${line:0:20}y${line:21}"
if "$dossier" identity show "$typo"; then echo "demo: a typo was not caught" >&2; exit 1; fi

step "Done: everything was created in $work and is removed now."
