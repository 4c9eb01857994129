#!/usr/bin/env bash
# Load test of the key-release service (not part of `make test`): builds in release mode, runs
# the service on a loopback port, fires REQUESTS concurrent open requests (default 200) twice
# (no open limit; an open limit of 50), prints requests per second and latency percentiles,
# and checks that the log holds exactly one entry per request. Exits non-zero if it does not.
# Usage: scripts/load-test.sh [REQUESTS]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib --product KeyReleaseLoad >&2
exec "$(swift build -c release --static-swift-stdlib --show-bin-path)/KeyReleaseLoad" "${1:-200}"
