#!/bin/sh
# demo.sh - the main job, end to end, on a throwaway PostgreSQL:
# start a cluster in run/demo, migrate, start motcua-intake, hand in every
# sample dossier (valid ones get receipts, invalid ones their rejection),
# retry one to show idempotency, push a short burst of generated dossiers,
# print a report from the store, stop everything cleanly.
# Usage: deploy/demo.sh BUILD_DIR   (make demo)
set -eu
build=${1:-build}
repo=$(pwd)
run="$repo/run/demo"
port=${MOTCUA_DEMO_PG_PORT:-55439}
intake_port=${MOTCUA_DEMO_INTAKE_PORT:-55555}
bin="$build/bin"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

cleanup() {
    if [ -n "${intake_pid:-}" ] && kill -0 "$intake_pid" 2>/dev/null; then
        kill -TERM "$intake_pid" 2>/dev/null || true
        wait "$intake_pid" 2>/dev/null || true
    fi
    sh tests/pgtmp.sh stop "$run/pg" >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM

sh tests/pgtmp.sh stop "$run/pg" >/dev/null 2>&1 || true
rm -rf "$run"
mkdir -p "$run"
say "Starting a throwaway PostgreSQL in $run/pg"
sh tests/pgtmp.sh start "$run/pg" "$port"
conninfo=$(sh tests/pgtmp.sh conninfo "$run/pg" "$port")

# the shipped configuration, pointed at this cluster, with the daemons on
# ports of their own so the demo does not collide with an installed motcua
base=$intake_port
awk -v conninfo="$conninfo" -v repo="$repo" -v run="$run" -v base="$base" '
    /^[a-z]/ { section = $1 }
    section == "database:" && $1 == "conninfo:" { print "  conninfo: \"" conninfo "\""; next }
    section == "files:" && $1 ~ /^(procedures|calendar|routing|agencies|notifications):$/ {
        name = $2; if (name !~ /^\//) name = repo "/config/" name; print "  " $1 " " name; next }
    section == "intake:" && $1 == "endpoint:" { print "  endpoint: \"tcp://127.0.0.1:" base "\""; next }
    section == "intake:" && $1 == "events_endpoint:" { print "  events_endpoint: \"tcp://127.0.0.1:" base + 1 "\""; next }
    section == "router:" && $1 == "events_endpoint:" { print "  events_endpoint: \"tcp://127.0.0.1:" base + 2 "\""; next }
    section == "lienthong:" && $1 == "endpoint:" { print "  endpoint: \"tcp://127.0.0.1:" base + 3 "\""; next }
    section == "lienthong:" && $1 == "events_endpoint:" { print "  events_endpoint: \"tcp://127.0.0.1:" base + 4 "\""; next }
    section == "lienthong:" && $1 == "server_key_file:" { print "  server_key_file: " run "/keys/lienthong.key"; next }
    section == "notify:" && $1 == "spool_dir:" { print "  spool_dir: " run "/spool"; next }
    { print }
' config/motcua.yaml >"$run/motcua.yaml"
export MOTCUA_CONFIG="$run/motcua.yaml"
motcua() { "$bin/motcua" -c "$run/motcua.yaml" "$@"; }

say "motcua config check"
motcua config check
say "motcua migrate"
motcua migrate

say "Starting motcua-intake (log: $run/intake.log)"
"$bin/motcua-intake" -c "$run/motcua.yaml" 2>"$run/intake.log" &
intake_pid=$!
i=0
until grep -q "event=started" "$run/intake.log" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 100 ] || { echo "intake did not start:"; cat "$run/intake.log"; exit 1; }
    kill -0 "$intake_pid" 2>/dev/null || { echo "intake exited:"; cat "$run/intake.log"; exit 1; }
    sleep 0.1
done

first_code=""
for f in config/samples/*.yaml; do
    say "motcua submit $f"
    set +e
    motcua submit "$f" >"$run/out.txt" 2>&1
    status=$?
    set -e
    cat "$run/out.txt"
    echo "(exit $status)"
    if [ $status -eq 0 ] && [ -z "$first_code" ]; then
        first_code=$(sed -n 's/.*Mã hồ sơ[^0-9]*\([0-9A-Za-z.]*-[0-9]\{6\}-[0-9]*\).*/\1/p' "$run/out.txt" | head -n 1)
        first_file=$f
    fi
done

if [ -n "$first_code" ]; then
    say "Retrying $first_file (same submission_id): same receipt, no second dossier"
    motcua submit --json "$first_file"
    say "motcua status $first_code"
    motcua status "$first_code"
fi

say "A burst of generated dossiers: motcua load --rate 200 --count 600"
motcua load --rate 200 --count 600 --clients 16

say "Report from the store"
psql "$conninfo" -X -q -P pager=off <<'SQL'
\echo 'Dossiers received, by channel'
SELECT CASE channel WHEN 1 THEN 'trực tiếp' WHEN 2 THEN 'trực tuyến' ELSE 'bưu chính' END AS kênh,
       count(*) AS hồ_sơ
  FROM dossier GROUP BY channel ORDER BY channel;
\echo 'Dossiers received, by procedure'
SELECT procedure_code AS thủ_tục, count(*) AS hồ_sơ, min(code) AS mã_đầu, max(code) AS mã_cuối
  FROM dossier GROUP BY procedure_code ORDER BY procedure_code;
\echo 'Due dates (hẹn trả) of the sample dossiers'
SELECT code AS mã_hồ_sơ, procedure_code AS thủ_tục,
       to_char(received_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'DD/MM/YYYY HH24:MI') AS nhận_lúc,
       to_char(due_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'DD/MM/YYYY HH24:MI') AS hẹn_trả
  FROM dossier WHERE submission_id NOT LIKE 'load-%' ORDER BY id;
\echo 'Idempotency: submission ids used more than once (must be empty)'
SELECT ward_code, submission_id, count(*) FROM dossier GROUP BY 1, 2 HAVING count(*) > 1;
SQL

say "Stopping motcua-intake with SIGTERM"
kill -TERM "$intake_pid"
wait "$intake_pid" && echo "motcua-intake exited 0"
intake_pid=""
grep -E "event=(started|stopping|stopped)" "$run/intake.log" || true
say "Demo finished. Logs and config are in $run"
