#!/bin/sh
# bench/run.sh - the first measurement (make bench).
# On ONE throwaway cluster with fsync=on and synchronous_commit=on:
#   1. pgbench, 8 clients, one single-row INSERT per transaction (the
#      floor every durable receipt pays: one commit, one WAL flush);
#   2. motcua-intake at its highest sustainable rate (closed loop: as fast
#      as the clients get receipts);
#   3. receipt latency at 1,000 dossiers/s offered (open loop);
#   4. intake's peak resident memory (VmHWM).
# Prints a summary; BENCH_SECONDS (default 15) sets the pgbench duration
# and BENCH_COUNT (default 20000) the dossiers of the saturation run.
set -eu
build=${1:-build}
repo=$(pwd)
run="$repo/run/bench"
port=${MOTCUA_BENCH_PG_PORT:-55449}
intake_port=${MOTCUA_BENCH_INTAKE_PORT:-55565}
seconds=${BENCH_SECONDS:-15}
count=${BENCH_COUNT:-20000}
bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

cleanup() {
    [ -n "${intake_pid:-}" ] && kill -TERM "$intake_pid" 2>/dev/null && wait "$intake_pid" 2>/dev/null
    sh tests/pgtmp.sh stop "$run/pg" >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM

sh tests/pgtmp.sh stop "$run/pg" >/dev/null 2>&1 || true
rm -rf "$run"
mkdir -p "$run"
sh tests/pgtmp.sh start "$run/pg" "$port" -c fsync=on -c synchronous_commit=on -c shared_buffers=256MB
conninfo=$(sh tests/pgtmp.sh conninfo "$run/pg" "$port")

echo "== pgbench: 8 clients, 1 single-row INSERT per transaction, ${seconds}s"
psql "$conninfo" -X -q -c "CREATE TABLE bench_insert (id bigserial PRIMARY KEY, at timestamptz DEFAULT now(), payload text)"
printf "INSERT INTO bench_insert (payload) VALUES ('000.22.29.H26-251001-0001');\n" >"$run/insert.sql"
"$bindir/pgbench" -n -c 8 -j 2 -T "$seconds" -f "$run/insert.sql" \
    -h "$run/pg" -p "$port" -U postgres motcua >"$run/pgbench.txt" 2>&1
cat "$run/pgbench.txt" | grep -E "tps|latency average|number of transactions"
pg_tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$run/pgbench.txt" | head -n 1)

sed -e "s|^\(  *conninfo:\).*|\1 \"$conninfo\"|" \
    -e "s|^\(  *endpoint:\).*|\1 \"tcp://127.0.0.1:$intake_port\"|" \
    -e "s|^\(  *workers:\).*|\1 ${BENCH_WORKERS:-16}|" \
    -e "s|^\(  *level:\).*|\1 warning|" \
    -e "s|^\(  *procedures:\).*|\1 $repo/config/procedures.yaml|" \
    -e "s|^\(  *calendar:\).*|\1 $repo/config/calendar.yaml|" \
    config/motcua.yaml >"$run/motcua.yaml"
"$build/bin/motcua" -c "$run/motcua.yaml" migrate
"$build/bin/motcua-intake" -c "$run/motcua.yaml" 2>"$run/intake.log" &
intake_pid=$!
sleep 1

echo "== intake, closed loop (highest sustainable rate): $count dossiers, 32 clients"
"$build/bin/motcua" -c "$run/motcua.yaml" load --rate 0 --count "$count" --clients 32 2>"$run/load-max.err" | tee "$run/load-max.txt"
max_rate=$(sed -n 's/.* rate=\([0-9.]*\)\/s.*/\1/p' "$run/load-max.txt" | tail -n 1)

echo "== intake, open loop at 1,000/s offered: 15,000 dossiers, 64 clients"
"$build/bin/motcua" -c "$run/motcua.yaml" load --rate 1000 --count 15000 --clients 64 2>"$run/load-1000.err" | tee "$run/load-1000.txt"
p50=$(sed -n 's/.* p50=\([0-9.]*ms\).*/\1/p' "$run/load-1000.txt" | tail -n 1)
p99=$(sed -n 's/.* p99=\([0-9.]*ms\).*/\1/p' "$run/load-1000.txt" | tail -n 1)

rss=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$intake_pid/status")
kill -TERM "$intake_pid" && wait "$intake_pid" || true
intake_pid=""
ratio=$(awk -v a="${max_rate:-0}" -v b="${pg_tps:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
rows=$(psql "$conninfo" -X -qAt -c "SELECT count(*) FROM dossier")

echo
echo "== summary ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, fsync=on)"
printf '%-44s %s\n' "pgbench single-row insert tps (8 clients)" "${pg_tps:-?}"
printf '%-44s %s\n' "intake receipts/s (closed loop, 32 clients)" "${max_rate:-?}"
printf '%-44s %s\n' "ratio intake / pgbench" "$ratio"
printf '%-44s %s / %s\n' "receipt latency p50 / p99 at 1,000/s" "${p50:-?}" "${p99:-?}"
printf '%-44s %s MiB\n' "intake peak RSS (VmHWM)" "$(awk -v k="${rss:-0}" 'BEGIN { printf "%.1f", k / 1024 }')"
printf '%-44s %s\n' "dossiers stored" "$rows"
