#!/usr/bin/env bash
# Installs the Debian packages Dossier needs to build and test, if any are missing.
# Runs apt-get as root, or through sudo when available.
set -euo pipefail

# libcurl: the HTTP client (Foundation's URLSession) `dossier open` uses for online packages; the
# -dev package because release builds link Foundation statically (Makefile, RELEASE).
packages=(libsodium-dev libsqlite3-dev pkg-config libcurl4 libcurl4-openssl-dev)
# libpq (the PostgreSQL client library, linked through Sources/CLibPQ) and a PostgreSQL server
# with its contrib modules: `make test` runs the PostgreSQL backend's tests on a throwaway
# cluster (scripts/pg-cluster.sh), and the attack suite edits its rows with psql.
packages+=(libpq-dev postgresql postgresql-contrib)
# The sqlite3 shell: the attack suite (scripts/attack-test.sh) edits vaults with it, as an attacker would.
packages+=(sqlite3)
# make install writes the manual pages with python3 (scripts/man-pages.py); its test reads them with man.
command -v python3 >/dev/null || packages+=(python3)
command -v man >/dev/null || packages+=(man-db)
# Tools the benchmarks and end-to-end checks use.
if [ "${DOSSIER_BENCH_DEPS:-0}" = 1 ]; then packages+=(age hyperfine time); fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
