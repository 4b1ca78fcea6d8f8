#!/bin/sh
# bench/report.sh - how fast `motcua report` answers on a province-sized
# store (make bench runs it after bench/run.sh).
#
# Fills a throwaway cluster with BENCH_REPORT_DOSSIERS dossiers (default
# 3,000,000) spread over 126 wards and two years (2025-2026, in receipt
# order, as a real store grows), about 10% of them rated and 8% asked for
# more documents, with the dossier_history rows their changes would have
# left (three per closed dossier), then times, each BENCH_REPORT_RUNS
# times (default 5):
#   * one ward's quarter (2025-Q3, the figure a ward clerk asks for);
#   * the whole store's quarter (every ward of the province);
#   * one ward's overdue list.
# Prints the median and the slowest run of each; the target is under 1 s
# for a quarter. The rows are written by SQL on the server (the generator
# is not what is measured); the report runs through the real CLI.
set -eu
build=${1:-build}
repo=$(pwd)
run="$repo/run/bench-report"
port=${MOTCUA_BENCH_REPORT_PG_PORT:-55451}
n=${BENCH_REPORT_DOSSIERS:-3000000}
runs=${BENCH_REPORT_RUNS:-5}

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

echo "== filling the store: $n dossiers, 126 wards, 2025-01-01 .. 2026-12-31"
start=$(date +%s)
# Ward 1 of 126 is Kim Liên (00229), so its share is n/126. Receipts are in
# time order; 22% direct, 77% online, 1% postal; due 7 days after receipt;
# dossiers older than 60 days are closed: 2% withdrawn, 2% refused, the
# rest resolved 0..9 days after receipt (late beyond 7).
psql "$conninfo" -X -q -v ON_ERROR_STOP=1 -v n="$n" <<'SQL'
\set batch 500000
SELECT set_config('bench.n', :'n', false);
DO $$
DECLARE
    n bigint := current_setting('bench.n')::bigint;
    lo bigint := 1;
    span interval := timestamptz '2027-01-01 00:00+07' - timestamptz '2025-01-01 00:00+07';
BEGIN
    WHILE lo <= n LOOP
        INSERT INTO dossier (code, ward_code, unit_id, receipt_day, seq, procedure_code, channel,
                             state, received_at, counted_from, due_at, submission_id, payload,
                             result_at, closed_at)
        SELECT 'BENCH-' || g, w.code, 'U' || w.code, (r.at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date,
               g, (ARRAY['1.001193','1.004222','2.000986','2.000635','2.000815','1.013978','1.009469'])[1 + g % 7],
               CASE WHEN g % 100 < 22 THEN 1 WHEN g % 100 < 99 THEN 2 ELSE 3 END,
               s.state, r.at, r.at, r.at + interval '7 days',
               'bench-' || g, '\x00'::bytea,
               CASE WHEN s.state = 5 THEN r.at + (g % 10) * interval '1 day' + interval '2 hours' END,
               CASE WHEN s.state IN (7, 8) THEN r.at + interval '1 day' END
          FROM generate_series(lo, least(lo + 499999, n)) g,
               LATERAL (SELECT timestamptz '2025-01-01 00:00+07' + span * ((g - 1)::float8 / n) AS at) r,
               LATERAL (SELECT CASE WHEN (g / 3) % 126 = 0 THEN '00229'
                                    ELSE lpad((10000 + (g / 3) % 126)::text, 5, '0') END AS code) w,
               LATERAL (SELECT CASE WHEN r.at > timestamptz '2026-11-01 00:00+07' THEN 3
                                    WHEN g % 50 = 0 THEN 7 WHEN g % 50 = 1 THEN 8
                                    ELSE 5 END AS state) s;
        lo := lo + 500000;
        COMMIT;
    END LOOP;
END $$;
-- dossier_history (migration 0008) as the daemons' trigger leaves it: each dossier was
-- routed (RECEIVED until +1 h) and taken up (ROUTED until +2 h); a closed one was IN_PROGRESS
-- until it closed. So the report's probe for the dossiers open at a period's end meets the
-- rows a real store holds (three per closed dossier), not an empty table.
INSERT INTO dossier_history (dossier_id, until, state, counted_from, due_at)
     SELECT id, received_at + interval '1 hour', 1, counted_from, due_at FROM dossier;
INSERT INTO dossier_history (dossier_id, until, state, counted_from, due_at)
     SELECT id, received_at + interval '2 hours', 2, counted_from, due_at FROM dossier;
INSERT INTO dossier_history (dossier_id, until, state, counted_from, due_at)
     SELECT id, closed_at, 3, counted_from, due_at FROM dossier WHERE closed_at IS NOT NULL;
INSERT INTO rating (dossier_id, level, rated_at)
     SELECT id, 1 + id % 3, closed_at + interval '1 hour' FROM dossier WHERE state = 5 AND id % 10 = 0;
-- without the portal outbox (migration 0011): its trigger takes one advisory lock per
-- event, and a statement of n/12 events runs out of the lock table; the report does
-- not read the outbox
ALTER TABLE dossier_event DISABLE TRIGGER portal_outbox;
INSERT INTO dossier_event (dossier_id, at, actor, kind)
     SELECT id, received_at + interval '1 day', 'bench', 'supplement_requested' FROM dossier WHERE id % 12 = 0;
ALTER TABLE dossier_event ENABLE TRIGGER portal_outbox;
VACUUM ANALYZE;
SQL
echo "   filled in $(( $(date +%s) - start )) s: $(psql "$conninfo" -X -qAt -c "SELECT count(*) FROM dossier") dossiers, $(psql "$conninfo" -X -qAt -c "SELECT count(*) FROM dossier_history") history rows, $(psql "$conninfo" -X -qAt -c "SELECT pg_size_pretty(pg_database_size(current_database()))")"

# time_runs LABEL ARGS... - run the CLI $runs times, print median and max in ms
time_runs() {
    label=$1
    shift
    : >"$run/times"
    i=0
    while [ "$i" -lt "$runs" ]; do
        t0=$(date +%s%N)
        $motcua "$@" >"$run/out" 2>"$run/err" || { echo "FAILED: $*"; cat "$run/err"; exit 1; }
        t1=$(date +%s%N)
        echo $(( (t1 - t0) / 1000000 )) >>"$run/times"
        i=$((i + 1))
    done
    sort -n "$run/times" | awk -v label="$label" '{ v[NR] = $1 } END {
        printf "%-52s median %5d ms   max %5d ms   (%d runs)\n", label, v[int((NR + 1) / 2)], v[NR], NR }'
}

echo "== report timings (the whole CLI: start, configuration, connect, query, print)"
time_runs "report one ward, 2025-Q3, json" report --quarter 2025-Q3 --ward 00229 --format json
grep -o "\"received\":{[^}]*}" "$run/out" | head -n 1 | sed "s/^/   ward figures: /"
time_runs "report one ward, 2025-Q3, table" report --quarter 2025-Q3 --ward 00229
time_runs "report whole store (126 wards), 2025-Q3, json" report --quarter 2025-Q3 --format json
grep -o "\"received\":{[^}]*}" "$run/out" | head -n 1 | sed "s/^/   store figures: /"
time_runs "report whole store, year 2025, json" report --from 2025-01-01 --to 2025-12-31 --format json
time_runs "overdue list, one ward" overdue --ward 00229 --format json
echo "== summary ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $n dossiers)"
