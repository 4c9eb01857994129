#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: a temporary directory, a free loopback port, a
# socket directory of its own, run as the `postgres` user (PostgreSQL refuses to run as root).
#
#   scripts/pg-cluster.sh start [DIR]   starts a cluster in DIR (default: a new temporary
#                                       directory), creates the database `dossier_test`, and
#                                       prints its URI on standard output (no password: the
#                                       cluster trusts loopback connections; it is a throwaway)
#   scripts/pg-cluster.sh stop DIR      stops the cluster in DIR and deletes DIR
#   scripts/pg-cluster.sh uri DIR       prints the URI of the running cluster in DIR
#   scripts/pg-cluster.sh run CMD...    starts a cluster in a new temporary directory, runs CMD
#                                       with DOSSIER_TEST_POSTGRES set to its URI, stops it
#                                       (whatever CMD did), and exits with CMD's status
#   scripts/pg-cluster.sh createdb URI  creates a new empty database on the server of URI
#                                       and prints its URI (tests use one per vault)
#   scripts/pg-cluster.sh standby PRIMARY DIR
#                                       makes DIR a streaming replica of the running cluster in
#                                       PRIMARY (pg_basebackup -R), starts it on a free loopback
#                                       port, makes it PRIMARY's synchronous standby
#                                       (synchronous_standby_names, synchronous_commit = on),
#                                       waits until PRIMARY reports it `sync`, prints its URI
#   scripts/pg-cluster.sh kill DIR      SIGKILLs the postmaster of the cluster in DIR, then the
#                                       processes it leaves (a machine that died)
#   scripts/pg-cluster.sh promote DIR   promotes the standby in DIR (pg_ctl promote) and waits
#                                       until it accepts writes
#
# The cluster listens on 127.0.0.1 only. `make test` starts one, exports its URI as
# DOSSIER_TEST_POSTGRES, runs the tests, and stops it.
set -euo pipefail

die() { echo "pg-cluster: $*" >&2; exit 1; }

bindir() {
    local d
    if command -v pg_config >/dev/null && d=$(pg_config --bindir 2>/dev/null) && [ -x "$d/initdb" ]; then echo "$d"; return; fi
    for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return; }; done
    die "no PostgreSQL server found; install Debian's postgresql package (scripts/install-deps.sh does)"
}

# Runs a command as the cluster's owner: `postgres` when we are root, ourselves otherwise.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    # Ask the kernel for a free port: bind port 0 on loopback and read what it chose.
    python3 - <<'EOF' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

start() {
    local dir="${1:-}" bin port
    bin=$(bindir)
    if [ -z "$dir" ]; then
        dir=$(mktemp -d "${TMPDIR:-/tmp}/dossier-pg.XXXXXX")
        echo "pg-cluster: the cluster is in $dir (stop it with: scripts/pg-cluster.sh stop $dir)" >&2
    else
        mkdir -p "$dir"
    fi
    chmod 0755 "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || die "there is no postgres user; install Debian's postgresql package"
        chown postgres: "$dir"
    fi
    # initdb and pg_ctl open /dev/null; on some machines it is mode 0600 and unusable by the
    # postgres user. Their standard streams go to files here, and if /dev/null is a character
    # device without read-write for everyone, root restores its usual mode (0666).
    # initdb runs its bootstrap steps through the shell with `> /dev/null`, so the postgres user
    # must be able to write it; a /dev/null that is not a character device is not ours to fix.
    [ -c /dev/null ] || die "/dev/null is not a character device on this machine; initdb cannot run"
    if ! as_owner test -w /dev/null; then
        [ "$(id -u)" -eq 0 ] || die "/dev/null is not writable by $(id -un); initdb cannot run"
        chmod 0666 /dev/null
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-instructions \
        > "$dir/initdb.log" 2>&1 < /dev/null || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    mkdir -p "$dir/socket"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/socket"
    local tries
    for tries in 1 2 3 4 5; do
        port=$(free_port)
        if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
            -o "-p $port -k $dir/socket -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" start \
            > "$dir/pg_ctl.log" 2>&1 < /dev/null; then
            break
        fi
        port=""
    done
    [ -n "$port" ] || { cat "$dir/server.log" >&2 2>/dev/null; die "the server did not start"; }
    echo "$port" > "$dir/port"
    as_owner "$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE dossier_test" \
        > "$dir/psql.log" 2>&1 < /dev/null || { cat "$dir/psql.log" >&2; die "cannot create the database"; }
    uri "$dir"
}

uri() {
    local dir="${1:?usage: pg-cluster.sh uri DIR}"
    [ -f "$dir/port" ] || die "$dir holds no cluster"
    echo "postgresql://postgres@127.0.0.1:$(cat "$dir/port")/dossier_test"
}

stop() {
    local dir="${1:?usage: pg-cluster.sh stop DIR}" bin
    [ -d "$dir/data" ] || die "$dir holds no cluster"
    bin=$(bindir)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop > /dev/null 2>&1 < /dev/null || true
    rm -rf "$dir"
}

run() {
    [ $# -gt 0 ] || die "usage: scripts/pg-cluster.sh run COMMAND..."
    local dir uri status=0
    dir=$(mktemp -d "${TMPDIR:-/tmp}/dossier-pg.XXXXXX")
    trap 'stop "$dir" 2>/dev/null || true' EXIT INT TERM
    uri=$(start "$dir")
    echo "pg-cluster: a throwaway PostgreSQL cluster is running at $uri" >&2
    DOSSIER_TEST_POSTGRES="$uri" "$@" || status=$?
    stop "$dir"
    trap - EXIT INT TERM
    return "$status"
}

# Runs SQL on the cluster in $1 as postgres; prints the result without headers.
sql() {
    as_owner "$(bindir)/psql" -X -q -At -h 127.0.0.1 -p "$(cat "$1/port")" -U postgres -d postgres -c "$2" < /dev/null
}

standby() {
    local primary="${1:?usage: pg-cluster.sh standby PRIMARY DIR}" dir="${2:?usage: pg-cluster.sh standby PRIMARY DIR}" bin port state tries
    bin=$(bindir)
    [ -f "$primary/port" ] || die "$primary holds no running cluster"
    mkdir -p "$dir/socket"
    chmod 0755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir" "$dir/socket"
    as_owner "$bin/pg_basebackup" -h 127.0.0.1 -p "$(cat "$primary/port")" -U postgres -D "$dir/data" -R -X stream -c fast \
        > "$dir/basebackup.log" 2>&1 < /dev/null || { cat "$dir/basebackup.log" >&2; die "pg_basebackup failed"; }
    # The standby names itself (cluster_name is its application_name towards the primary).
    for tries in 1 2 3 4 5; do
        port=$(free_port)
        if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
            -o "-p $port -k $dir/socket -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200 -c cluster_name=standby1 -c hot_standby=on" start \
            > "$dir/pg_ctl.log" 2>&1 < /dev/null; then
            break
        fi
        port=""
    done
    [ -n "$port" ] || { cat "$dir/server.log" >&2 2>/dev/null; die "the standby did not start"; }
    echo "$port" > "$dir/port"
    sql "$primary" "ALTER SYSTEM SET synchronous_standby_names = 'standby1'" >/dev/null || die "cannot name the synchronous standby"
    sql "$primary" "ALTER SYSTEM SET synchronous_commit = 'on'" >/dev/null
    sql "$primary" "SELECT pg_reload_conf()" >/dev/null
    for tries in $(seq 1 300); do
        state=$(sql "$primary" "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'" 2>/dev/null || true)
        [ "$state" = sync ] && { uri "$dir"; return; }
        sleep 0.1
    done
    die "the standby in $dir did not become synchronous (state: ${state:-none})"
}

kill_cluster() {
    local dir="${1:?usage: pg-cluster.sh kill DIR}" pid p
    [ -f "$dir/data/postmaster.pid" ] || die "$dir holds no running cluster"
    pid=$(head -n1 "$dir/data/postmaster.pid")
    # Its children first noted, then the postmaster killed, then what it left behind.
    local children
    children=$(ps -o pid= --ppid "$pid" 2>/dev/null || true)
    kill -KILL "$pid" || die "cannot SIGKILL the postmaster $pid"
    for p in $children; do kill -KILL "$p" 2>/dev/null || true; done
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.05
    done
    die "the postmaster $pid survived SIGKILL"
}

promote() {
    local dir="${1:?usage: pg-cluster.sh promote DIR}"
    as_owner "$(bindir)/pg_ctl" -D "$dir/data" -w -t 60 promote > "$dir/promote.log" 2>&1 < /dev/null ||
        { cat "$dir/promote.log" >&2; die "pg_ctl promote failed"; }
    for _ in $(seq 1 300); do
        [ "$(sql "$dir" "SELECT pg_is_in_recovery()" 2>/dev/null || true)" = f ] && return 0
        sleep 0.1
    done
    die "the promoted standby in $dir does not accept writes"
}

createdb() {
    local uri="${1:?usage: pg-cluster.sh createdb URI}" name
    name="dossier_t_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
    psql -X -q -v ON_ERROR_STOP=1 "$uri" -c "CREATE DATABASE $name" >/dev/null < /dev/null || die "cannot create a database"
    # The same URI with the database replaced (the path after the host, before any query).
    local base="${uri%%\?*}" query=""
    [ "$base" != "$uri" ] && query="?${uri#*\?}"
    echo "${base%/*}/$name$query"
}

case "${1:-}" in
    start) start "${2:-}" ;;
    run) shift; run "$@" ;;
    createdb) createdb "${2:-}" ;;
    standby) standby "${2:-}" "${3:-}" ;;
    kill) kill_cluster "${2:-}" ;;
    promote) promote "${2:-}" ;;
    stop) stop "${2:-}" ;;
    uri) uri "${2:-}" ;;
    *) die "usage: scripts/pg-cluster.sh start [DIR] | stop DIR | uri DIR | run COMMAND... | createdb URI | standby PRIMARY DIR | kill DIR | promote DIR" ;;
esac
