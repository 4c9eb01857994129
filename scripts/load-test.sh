#!/usr/bin/env bash
# Load test of the key-release service (not part of `make test`): builds in release mode, runs
# the service on a loopback port, fires REQUESTS concurrent open requests (default 200) twice
# (no open limit; an open limit of 50), prints requests per second and latency percentiles,
# and checks that the log holds exactly one entry per request. Exits non-zero if it does not.
#
# With --postgres, the same on a vault in a throwaway PostgreSQL cluster (scripts/pg-cluster.sh
# run), served by two `dossier serve` processes (replicas) on the one database, the requests
# sent to them in turn: never more releases than the limit across both, one entry per request.
# It fails, rather than passing, when PostgreSQL is missing.
# Usage: scripts/load-test.sh [--postgres] [REQUESTS]
set -euo pipefail
cd "$(dirname "$0")/.."
postgres=""
if [ "${1:-}" = --postgres ]; then postgres=1; shift; fi
swift build -c release --static-swift-stdlib --product KeyReleaseLoad >&2
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)
if [ -z "$postgres" ]; then exec "$bin/KeyReleaseLoad" "${1:-200}"; fi
swift build -c release --static-swift-stdlib --product dossier >&2
exec scripts/pg-cluster.sh run sh -c '"$1/KeyReleaseLoad" "$2" --postgres "$(scripts/pg-cluster.sh createdb "$DOSSIER_TEST_POSTGRES")" --dossier "$1/dossier" --replicas 2' \
    sh "$bin" "${1:-200}"
