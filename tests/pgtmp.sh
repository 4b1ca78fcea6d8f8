#!/bin/sh
# pgtmp.sh - a throwaway PostgreSQL cluster in a directory, for tests,
# the demo and the benchmark. Listens on a Unix socket inside DIR and on
# 127.0.0.1:PORT; trust authentication (it is private to this machine and
# dies with DIR).
#   pgtmp.sh start DIR PORT [postgres -c options...]   initdb if needed, start, create db "motcua"
#   pgtmp.sh stop DIR                                   fast shutdown
#   pgtmp.sh kill DIR                                   immediate shutdown (crash)
#   pgtmp.sh conninfo DIR PORT                          print the libpq conninfo
# As root, the server runs as the 'postgres' user (initdb refuses root).
set -eu
cmd=${1:?usage: pgtmp.sh start|stop|kill|conninfo DIR [PORT]}
dir=${2:?DIR missing}
case "$dir" in /*) ;; *) dir="$(pwd)/$dir" ;; esac   # absolute: the server runs elsewhere
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/initdb" ] || { echo "pgtmp: PostgreSQL server binaries not found (make deps)" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "$cmd" in
start)
    port=${3:?PORT missing}
    shift 3
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres "$dir"
        # the parent directories must let postgres reach DIR
        d=$dir; while [ "$d" != "/" ]; do chmod o+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
            { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c max_connections=200 $*" start >/dev/null ||
        { tail -n 20 "$dir/server.log" >&2; exit 1; }
    as_owner "$bindir/psql" -h "$dir" -p "$port" -U postgres -d postgres -qAt \
        -c "SELECT 1 FROM pg_database WHERE datname = 'motcua'" | grep -q 1 ||
        as_owner "$bindir/createdb" -h "$dir" -p "$port" -U postgres motcua
    ;;
stop)
    [ -f "$dir/data/postmaster.pid" ] || exit 0
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
kill)
    [ -f "$dir/data/postmaster.pid" ] || exit 0
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
    ;;
conninfo)
    port=${3:?PORT missing}
    echo "host=$dir port=$port user=postgres dbname=motcua"
    ;;
*)
    echo "pgtmp: unknown command $cmd" >&2
    exit 64
    ;;
esac
