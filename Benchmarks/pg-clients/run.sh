#!/usr/bin/env bash
# libpq against PostgresNIO on one workload (issue 18; docs/performance.md, "libpq and
# PostgresNIO on this machine"): builds both clients of this package in release mode, starts a
# throwaway PostgreSQL cluster (scripts/pg-cluster.sh run: a free loopback port, stopped
# afterwards), runs each client RUNS times (default 3; the two take turns, so that a busy minute
# of the machine falls on both), each under /usr/bin/time -v, and prints a table.
#
#   Benchmarks/pg-clients/run.sh
#   RUNS=5 Benchmarks/pg-clients/run.sh
#
# Each client, on one connection, in a table it drops and creates anew: (a) 2,000 sequential
# `SELECT $1::int` after 100 untimed ones, (b) 4,096 INSERTs of 64 KiB bytea (256 MiB) in one
# transaction, (c) one `SELECT data … ORDER BY id`, streamed and checked row by row. MB is 10^6
# bytes. Not part of `make test`; the first build of postgres-nio takes several minutes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
RUNS=${RUNS:-3}

measure() { # BIN: runs inside the cluster, DOSSIER_TEST_POSTGRES set
    local bin=$1 tmp r c order line rss cpu
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    echo "PostgreSQL server: $(psql -X -At "$DOSSIER_TEST_POSTGRES" -c 'SHOW server_version' < /dev/null)," \
        "libpq $(pkg-config --modversion libpq), postgres-nio $(resolved postgres-nio)," \
        "swift-nio $(resolved swift-nio); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
    for r in $(seq 1 "$RUNS"); do
        if [ $((r % 2)) -eq 1 ]; then order="libpq nio"; else order="nio libpq"; fi
        for c in $order; do
            /usr/bin/time -v -o "$tmp/time" "$bin/$c-client" "$DOSSIER_TEST_POSTGRES" > "$tmp/out" < /dev/null ||
                { cat "$tmp/time" >&2; echo "run.sh: $c-client failed" >&2; exit 1; }
            rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tmp/time")
            cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$tmp/time")
            line="run=$r $(cat "$tmp/out") rss_kib=$rss cpu_s=$cpu"
            echo "$line" >> "$tmp/all"
        done
    done
    echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    table "$tmp/all"
}

resolved() { # NAME: its version in Package.resolved
    tr -d ' \n' < "$here/Package.resolved" | grep -o "\"identity\":\"$1\"[^}]*\"version\":\"[^\"]*\"" |
        sed 's/.*"version":"//; s/"$//'
}

table() { # FILE of key=value lines: one row per run, then the median of each client's runs
    awk -v runs="$RUNS" '
        function v(key,   i, kv) { for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) return kv[2] } }
        function median(client, key,   n, a, i, j, t) {
            n = 0
            for (i = 1; i <= count; i++) if (who[i] == client) a[++n] = val[i, key]
            for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        BEGIN {
            split("rt_p50_us rt_p99_us rt_total_ms insert_MBps read_MBps rss_mib cpu_s", keys, " ")
            print "| client | run | (a) p50 µs | (a) p99 µs | (a) total ms | (b) insert MB/s | (c) read MB/s | peak RSS MiB | client CPU s |"
            print "|---|---|---|---|---|---|---|---|---|"
        }
        {
            count++; who[count] = v("client")
            for (k in keys) val[count, keys[k]] = v(keys[k])
            val[count, "rss_mib"] = v("rss_kib") / 1024
            printf "| %s | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f |\n", who[count], v("run"),
                v("rt_p50_us"), v("rt_p99_us"), v("rt_total_ms"), v("insert_MBps"), v("read_MBps"), val[count, "rss_mib"], v("cpu_s")
        }
        END {
            split("libpq nio", clients, " ")
            for (c = 1; c <= 2; c++)
                printf "| **%s** | median of %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f |\n", clients[c], runs,
                    median(clients[c], "rt_p50_us"), median(clients[c], "rt_p99_us"), median(clients[c], "rt_total_ms"),
                    median(clients[c], "insert_MBps"), median(clients[c], "read_MBps"), median(clients[c], "rss_mib"),
                    median(clients[c], "cpu_s")
        }' "$1"
    echo "((a) 2,000 sequential SELECT \$1::int; (b) 256 MiB as 4,096 rows of 64 KiB bytea in one transaction;"
    echo " (c) the same rows read back in order by one query; MB = 10^6 bytes; peak RSS and CPU time (user +"
    echo " system, the whole process: connect, all three steps, and the checks) of the client, not the server)"
}

if [ "${1:-}" = --measure ]; then measure "$2"; exit; fi

DOSSIER_BENCH_DEPS=1 "$root/scripts/install-deps.sh"
cd "$here"
swift build -c release --product libpq-client
swift build -c release --product nio-client
bin=$(swift build -c release --show-bin-path)
echo "binaries (swift build -c release, Swift runtime linked dynamically): libpq-client" \
    "$(stat -c %s "$bin/libpq-client") bytes, nio-client $(stat -c %s "$bin/nio-client") bytes"
"$root/scripts/pg-cluster.sh" run "$here/run.sh" --measure "$bin"
