#!/usr/bin/env bash
# `make install` and `make uninstall` (Makefile): the dossier binary, its manual pages and its
# shell completions, under a prefix, as a Unix tool installs.
#
#   scripts/install.sh install PREFIX BIN-DIR    (BIN-DIR holds the dossier binary to install)
#   scripts/install.sh uninstall PREFIX
#
# install puts, and uninstall removes exactly:
#   PREFIX/bin/dossier
#   PREFIX/bin/Dossier_dossier.resources/ (the messages of counsel's commands in six languages,
#     docs/translations.md: SwiftPM's resource bundle, which the binary looks for beside itself)
#   PREFIX/share/man/man1/dossier.1, dossier-COMMAND.1, ... (scripts/man-pages.py: one page per
#     command, from the commands' own help)
#   PREFIX/share/bash-completion/completions/dossier
#   PREFIX/share/zsh/site-functions/_dossier
#   PREFIX/share/fish/vendor_completions.d/dossier.fish
# (completions from `dossier --generate-completion-script`). Pages and completions are made in
# English (LC_ALL=C), whatever the locale of whoever installs. Folders are made as needed and
# left in place by uninstall. DESTDIR, if set, is put before PREFIX (staged installs, packages).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
action="${1:?usage: scripts/install.sh install PREFIX BIN-DIR | uninstall PREFIX}"
prefix="${DESTDIR:-}${2:?usage: scripts/install.sh install PREFIX BIN-DIR | uninstall PREFIX}"
man1="$prefix/share/man/man1"
bash_dir="$prefix/share/bash-completion/completions"
zsh_dir="$prefix/share/zsh/site-functions"
fish_dir="$prefix/share/fish/vendor_completions.d"

case "$action" in
install)
    bin="${3:?usage: scripts/install.sh install PREFIX BIN-DIR}/dossier"
    [ -x "$bin" ] || { echo "install: no dossier binary at $bin (make install builds it)" >&2; exit 1; }
    resources="$(dirname "$bin")/Dossier_dossier.resources"
    [ -f "$resources/en.lproj/Localizable.strings" ] || { echo "install: no resource bundle at $resources (make install builds it)" >&2; exit 1; }
    export LC_ALL=C
    command -v python3 >/dev/null || { echo "install: python3 is needed to write the manual pages" >&2; exit 1; }
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    "$here/scripts/man-pages.py" "$bin" "$work/man" > "$work/pages"
    for shell in bash zsh fish; do "$bin" --generate-completion-script "$shell" > "$work/completion.$shell"; done
    install -d "$prefix/bin" "$man1" "$bash_dir" "$zsh_dir" "$fish_dir"
    install -m 0755 "$bin" "$prefix/bin/dossier"
    rm -rf "$prefix/bin/Dossier_dossier.resources"
    (cd "$resources" && find . -type f) | while read -r f; do
        install -D -m 0644 "$resources/$f" "$prefix/bin/Dossier_dossier.resources/${f#./}"
    done
    while read -r page; do install -m 0644 "$work/man/$page" "$man1/$page"; done < "$work/pages"
    install -m 0644 "$work/completion.bash" "$bash_dir/dossier"
    install -m 0644 "$work/completion.zsh" "$zsh_dir/_dossier"
    install -m 0644 "$work/completion.fish" "$fish_dir/dossier.fish"
    echo "install: dossier, its messages, $(wc -l < "$work/pages") manual pages and bash, zsh and fish completions in $prefix" >&2
    ;;
uninstall)
    rm -rf "$prefix/bin/Dossier_dossier.resources"
    rm -f "$prefix/bin/dossier" "$man1/dossier.1" "$man1"/dossier-*.1 \
          "$bash_dir/dossier" "$zsh_dir/_dossier" "$fish_dir/dossier.fish"
    echo "uninstall: removed dossier, its messages, its manual pages and its completions from $prefix" >&2
    ;;
*)
    echo "usage: scripts/install.sh install PREFIX BIN-DIR | uninstall PREFIX" >&2; exit 64 ;;
esac
