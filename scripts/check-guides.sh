#!/usr/bin/env bash
# Checks the translations of docs/counsel-guide.md against the English guide, which is
# authoritative. For each translation it checks that
#   - it has as many `##` and `###` headings as the English guide, in the same order, each at
#     the same level and with the same number ("## 3." or none);
#   - it has as many fenced code blocks as the English guide, and each section (the text under
#     one heading) has as many as the English section in the same place;
#   - every `$ dossier …` command line in the English guide's code blocks (continuation lines
#     of a command ending in `\` included) appears, unchanged, as a line of one of its code
#     blocks. A trailing `# comment` is ignored on both sides, since comments may be translated;
#     leading and trailing spaces are ignored too.
# Program output in code blocks is not compared: it may be translated once dossier prints
# translated messages.
# Needs only bash, coreutils, grep and awk (POSIX awk; mawk is enough).
# Usage: scripts/check-guides.sh [TRANSLATION.md ...]   (default: docs/counsel-guide.*.md)
# Exits 0 when every translation matches, 1 when one differs (each difference is printed with
# the file and the heading), 2 when a file is missing or a code block is left open.
set -euo pipefail
guides=()
for f in "$@"; do guides+=("$(realpath -m -- "$f")"); done   # before the cd below
cd "$(dirname "$0")/.."
english=docs/counsel-guide.md

if [ "${#guides[@]}" -eq 0 ]; then
    shopt -s nullglob
    guides=(docs/counsel-guide.*.md)
    shopt -u nullglob
fi
if [ "${#guides[@]}" -eq 0 ]; then
    echo "check-guides: no translation of $english found (docs/counsel-guide.LANG.md)" >&2
    exit 2
fi
for f in "$english" "${guides[@]}"; do
    if [ ! -f "$f" ]; then
        echo "check-guides: $f: no such file" >&2
        exit 2
    fi
done

# outline FILE: one line per section, tab-separated: heading level (0 for the text before the
# first heading), number of code blocks in the section, the heading. Headings are `##` and
# `###` lines outside code blocks; a fence is a line whose first non-blank characters are ```.
# Prints "UNCLOSED<TAB>line" last if a code block is never closed.
outline() {
    awk '
        /^[ \t]*```/ {
            if (!fence) { blocks[sec]++; opened = NR }
            fence = !fence
            next
        }
        fence { next }
        /^### / { sec++; level[sec] = 3; head[sec] = $0; next }
        /^## /  { sec++; level[sec] = 2; head[sec] = $0; next }
        END {
            for (i = 0; i <= sec; i++) printf "%d\t%d\t%s\n", level[i] + 0, blocks[i] + 0, head[i]
            if (fence) printf "UNCLOSED\t%d\n", opened
        }
    ' "$1"
}

# codelines FILE: every line inside its code blocks, tab-separated after the heading it is
# under, with leading and trailing blanks and a trailing ` # comment` removed. A line is marked
# "cmd" when it is a `$ dossier` command line or continues one (the line before ended in `\`).
codelines() {
    awk '
        /^[ \t]*```/ { fence = !fence; cont = 0; next }
        !fence { if ($0 ~ /^###? /) head = $0; next }
        {
            line = $0
            sub(/[ \t]+#[ \t].*$/, "", line)
            sub(/^[ \t]+/, "", line)
            sub(/[ \t]+$/, "", line)
            kind = "out"
            if (cont || line ~ /^\$ dossier( |$)/) kind = "cmd"
            cont = (kind == "cmd" && line ~ /\\$/)
            printf "%s\t%s\t%s\n", kind, head, line
        }
    ' "$1"
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-guides.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

outline "$english" >"$tmp/en.outline"
if grep -q '^UNCLOSED' "$tmp/en.outline"; then
    echo "check-guides: $english: the code block opened on line $(grep '^UNCLOSED' "$tmp/en.outline" | cut -f2) is never closed" >&2
    exit 2
fi
codelines "$english" | awk -F'\t' '$1 == "cmd"' >"$tmp/en.commands"
en_h2=$(awk -F'\t' '$1 == 2' "$tmp/en.outline" | wc -l)
en_h3=$(awk -F'\t' '$1 == 3' "$tmp/en.outline" | wc -l)
en_blocks=$(awk -F'\t' '{ n += $2 } END { print n + 0 }' "$tmp/en.outline")
en_commands=$(wc -l <"$tmp/en.commands")
echo "$english: $en_h2 '##' headings, $en_h3 '###' headings, $en_blocks code blocks, $en_commands dossier command lines"

status=0
for guide in "${guides[@]}"; do
    if [ "$guide" -ef "$english" ]; then continue; fi
    outline "$guide" >"$tmp/tr.outline"
    if grep -q '^UNCLOSED' "$tmp/tr.outline"; then
        echo "$guide: the code block opened on line $(grep '^UNCLOSED' "$tmp/tr.outline" | cut -f2) is never closed"
        status=2
        continue
    fi
    problems=0

    h2=$(awk -F'\t' '$1 == 2' "$tmp/tr.outline" | wc -l)
    h3=$(awk -F'\t' '$1 == 3' "$tmp/tr.outline" | wc -l)
    blocks=$(awk -F'\t' '{ n += $2 } END { print n + 0 }' "$tmp/tr.outline")
    if [ "$h2" -ne "$en_h2" ]; then
        echo "$guide: $h2 '##' headings, the English guide has $en_h2"
        problems=$((problems + 1))
    fi
    if [ "$h3" -ne "$en_h3" ]; then
        echo "$guide: $h3 '###' headings, the English guide has $en_h3"
        problems=$((problems + 1))
    fi
    if [ "$blocks" -ne "$en_blocks" ]; then
        echo "$guide: $blocks code blocks, the English guide has $en_blocks"
        problems=$((problems + 1))
    fi

    # Section by section: headings are paired in order and must have the same level and the
    # same number ("## 3." or none). The first pair that differs is reported and the comparison
    # stops there (every later pair would be shifted); before it, a differing number of code
    # blocks is reported for every section.
    awk -v g="$guide" -v count="$tmp/count" -F'\t' '
        function number(h) { return match(h, /^#+ [0-9]+\./) ? substr(h, 1, RLENGTH) : substr(h, 1, index(h, " ")) }
        NR == FNR { lv[FNR] = $1; bl[FNR] = $2; hd[FNR] = $3; en = FNR; next }
        { tlv[FNR] = $1; tbl[FNR] = $2; thd[FNR] = $3; tr = FNR }
        END {
            n = 0
            last = (en > tr) ? en : tr
            for (i = 1; i <= last; i++) {
                e = (i <= en) ? hd[i] : "(none)"; t = (i <= tr) ? thd[i] : "(none)"
                if (i == 1) { e = "(text before the first heading)"; t = e }
                if (i > en || i > tr || lv[i] != tlv[i] || number(hd[i]) != number(thd[i])) {
                    printf "%s: heading %d is \"%s\", the English guide has \"%s\" there (a heading is missing, added, renumbered or at another level)\n", g, i - 1, t, e
                    n++
                    break
                }
                if (bl[i] != tbl[i]) {
                    printf "%s: under \"%s\" (English \"%s\"): %d code block(s), the English guide has %d\n", g, t, e, tbl[i], bl[i]
                    n++
                }
            }
            print n > count
        }
    ' "$tmp/en.outline" "$tmp/tr.outline"
    problems=$((problems + $(cat "$tmp/count")))

    # Every English command line must be a line of one of the translation's code blocks.
    codelines "$guide" | cut -f3- >"$tmp/tr.code"
    awk -v g="$guide" -v count="$tmp/count" -F'\t' '
        NR == FNR { have[$0] = 1; next }
        !($3 in have) {
            printf "%s: missing command line (English guide, under \"%s\"): %s\n", g, $2, $3
            n++
        }
        END { print n + 0 > count }
    ' "$tmp/tr.code" "$tmp/en.commands"
    problems=$((problems + $(cat "$tmp/count")))

    if [ "$problems" -eq 0 ]; then
        echo "$guide: ok ($h2 '##' headings, $h3 '###' headings, $blocks code blocks, all $en_commands command lines)"
    else
        echo "$guide: $problems difference(s) from $english"
        [ "$status" -eq 0 ] && status=1
    fi
done
exit "$status"
