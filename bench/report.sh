#!/bin/sh
# bench/report.sh - how fast `motcua report` answers on a province-sized
# store (make bench's bench/run.sh runs it on its filled store).
#
# Alone: fills a throwaway cluster with BENCH_REPORT_DOSSIERS dossiers
# (default 3,000,000) with bench/fill.sh (the store it makes: bench/fill.sql:
# 126 wards, the two years before today, in receipt order, every dossier
# closed, with its history, events, case, notices and ratings). With
# BENCH_REPORT_CONNINFO: no cluster, no fill, the store of that conninfo
# (bench/run.sh's, already filled). Then times, each BENCH_REPORT_RUNS times
# (default 5):
#   * one ward's quarter (2025-Q3, the figure a ward clerk asks for);
#   * the whole store's quarter (every ward of the province), and year;
#   * one ward's overdue list.
# Prints the median and the slowest run of each (and, with
# BENCH_REPORT_KV=FILE, appends "slug median_ms max_ms" lines to FILE); the
# target is under 1 s for a quarter. The rows are written by SQL on the
# server (the generator is not what is measured); the report runs through
# the real CLI.
set -eu
build=${1:-build}
repo=$(pwd)
run="$repo/run/bench-report"
port=${MOTCUA_BENCH_REPORT_PG_PORT:-55451}
n=${BENCH_REPORT_DOSSIERS:-3000000}
runs=${BENCH_REPORT_RUNS:-5}
kv="$run/results.tsv"
bench_t0=$(date +%s)
. "$repo/bench/lib.sh"
. "$repo/bench/fill.sh"

mkdir -p "$run"
if [ -n "${BENCH_REPORT_CONNINFO:-}" ]; then
    conninfo=$BENCH_REPORT_CONNINFO
else
    cleanup() {
        sh tests/pgtmp.sh stop "$run/pg" >/dev/null 2>&1 || true
    }
    trap cleanup EXIT INT TERM
    sh tests/pgtmp.sh stop "$run/pg" >/dev/null 2>&1 || true
    rm -rf "$run"
    mkdir -p "$run"
    sh tests/pgtmp.sh start "$run/pg" "$port" -c fsync=on -c shared_buffers=512MB \
        -c max_wal_size=4GB -c maintenance_work_mem=256MB >/dev/null
    conninfo=$(sh tests/pgtmp.sh conninfo "$run/pg" "$port")
fi
: >"$kv"
sed -e "s|^\(  *conninfo:\).*|\1 \"$conninfo\"|" \
    -e "s|^\(  *level:\).*|\1 warning|" \
    -e "s|^\(  *procedures:\).*|\1 $repo/config/procedures.yaml|" \
    -e "s|^\(  *calendar:\).*|\1 $repo/config/calendar.yaml|" \
    -e "s|^\(  *routing:\).*|\1 $repo/config/routing.yaml|" \
    -e "s|^\(  *agencies:\).*|\1 $repo/config/agencies.yaml|" \
    -e "s|^\(  *notifications:\).*|\1 $repo/config/notifications.yaml|" \
    config/motcua.yaml >"$run/motcua.yaml"
motcua="$build/bin/motcua -c $run/motcua.yaml"
$motcua migrate >/dev/null

if [ -z "${BENCH_REPORT_CONNINFO:-}" ]; then
    echo "== filling the store: $n dossiers"
    fill_store "$n"
fi
echo "   store: $(q "SELECT count(*) FROM dossier") dossiers, $(q "SELECT count(*) FROM dossier_history") history rows, $(q "SELECT pg_size_pretty(pg_database_size(current_database()))")"

# time_runs SLUG LABEL ARGS... - run the CLI $runs times, print median and max in ms
time_runs() {
    slug=$1 label=$2
    shift 2
    : >"$run/times"
    i=0
    while [ "$i" -lt "$runs" ]; do
        t0=$(date +%s%N)
        $motcua "$@" >"$run/out" 2>"$run/err" || { echo "FAILED: $*"; cat "$run/err"; exit 1; }
        t1=$(date +%s%N)
        echo $(( (t1 - t0) / 1000000 )) >>"$run/times"
        i=$((i + 1))
    done
    sort -n "$run/times" | awk -v label="$label" -v slug="$slug" -v kv="${BENCH_REPORT_KV:-}" '{ v[NR] = $1 } END {
        printf "%-52s median %5d ms   max %5d ms   (%d runs)\n", label, v[int((NR + 1) / 2)], v[NR], NR
        if (kv != "") printf "%s %d %d\n", slug, v[int((NR + 1) / 2)], v[NR] >> kv }'
}

echo "== report timings (the whole CLI: start, configuration, connect, query, print)"
time_runs ward_quarter_json "report one ward, 2025-Q3, json" report --quarter 2025-Q3 --ward 00229 --format json
grep -o "\"received\":{[^}]*}" "$run/out" | head -n 1 | sed "s/^/   ward figures: /"
time_runs ward_quarter_table "report one ward, 2025-Q3, table" report --quarter 2025-Q3 --ward 00229
time_runs store_quarter_json "report whole store (126 wards), 2025-Q3, json" report --quarter 2025-Q3 --format json
grep -o "\"received\":{[^}]*}" "$run/out" | head -n 1 | sed "s/^/   store figures: /"
time_runs store_year_json "report whole store, year 2025, json" report --from 2025-01-01 --to 2025-12-31 --format json
time_runs overdue_ward "overdue list, one ward" overdue --ward 00229 --format json
echo "== summary ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $n dossiers)"
