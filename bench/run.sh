#!/bin/sh
# bench/run.sh - the measurement of issue 11 (make bench, with bench/report.sh).
#
# On ONE throwaway cluster (tests/pgtmp.sh) with fsync=on and
# synchronous_commit=on, with the real binaries of BUILD (default build):
#   1. pgbench: one single-row INSERT per transaction with 1, 8 and 32
#      clients (the floor every durable write pays: one commit, one WAL
#      flush), and 50-row multi-row INSERTs with 8 clients (rows/s: what the
#      cluster commits when work is batched);
#   2. motcua-intake alone: closed loop, 32 clients (receipts/s), and
#      receipt latency p50/p99 at 1,000 dossiers/s offered (open loop);
#   3. END TO END (bench/e2e.sh): intake, router, lienthong, notify and the
#      agencies answering at once, for a one-step procedure (1.004222, the
#      desk only, 7 working days, filed at the counter) and an inter-agency one (2.000986, the desk + 3 partners,
#      online: the desk's acceptance first): dossiers/s from the first
#      submit until every dossier is closed and every notice sent, stage
#      lags, CPU per daemon and per backend, write transactions, WAL
#      records, bytes and fsyncs per dossier, peak RSS per daemon;
#   4. every throughput also as a ratio to pgbench, 8 clients, of this run;
#   5. latency tolerance: the inter-agency run again with lienthong's
#      PostgreSQL connection and the agencies' link to lienthong each behind
#      a userspace delay line (build/bench/delayproxy, bench/delayproxy.c;
#      this kernel has no netem) at 2 and 20 ms each way;
#   6. the same with millions of dossiers stored: the store filled by
#      bench/fill.sh (as many as the budget lets it write, up to 5 million),
#      then the one-step end to end and intake's closed loop again, as
#      ratios to the empty store, and `motcua report` timed on it
#      (bench/report.sh).
# Progress lines while it runs; at the end a table, and the JSON in
# bench/results/<UTC time>-<short commit>.json and bench/results/latest.json
# (keys: bench/results/README.md).
#
# Knobs (environment): BENCH_SECONDS (10) each pgbench run; BENCH_COUNT
# (20000) dossiers of the intake closed loop; BENCH_LATENCY_COUNT (15000)
# dossiers at 1,000/s; BENCH_INTAKE_LIMIT (25) s each intake load may take
# (--duration-limit: the figures then cover what was answered);
# BENCH_E2E_COUNT (3000) dossiers per one-step end-to-end run (empty and
# filled store); BENCH_E2E_LT_COUNT (1500) for the inter-agency one;
# BENCH_E2E_TIMEOUT (600) and BENCH_E2E_CAP (120) s each end-to-end run may
# take, and BENCH_BUDGET (870) s for the whole bench: an end-to-end run still
# going when one runs out stops there and reports what completed
# (timed_out: true); BENCH_DELAYS_MS ("2 20") the delay lines' delays,
# BENCH_DELAY_COUNT (300) dossiers and BENCH_DELAY_TIMEOUT (60) s per delay
# run; BENCH_STORE_DOSSIERS (5000000) dossiers asked of the fill (fewer when
# the budget left, less BENCH_STORE_RESERVE (200) s for the runs on the
# filled store, does not allow them: the reason is in the JSON);
# BENCH_REPORT_RUNS (3) runs of each report timing; BENCH_WORKERS (16)
# intake workers; BENCH_SKIP ("" or words of: pgbench intake e2e-one e2e-lt
# latency store); MOTCUA_BENCH_PG_PORT (55449), MOTCUA_BENCH_INTAKE_PORT
# (55565: intake; +3 lienthong, +10 and +11 the delay lines).
# Usage: bench/run.sh [BUILD]
set -eu
build=${1:-build}
repo=$(pwd)
run="$repo/run/bench"
port=${MOTCUA_BENCH_PG_PORT:-55449}
base_port=${MOTCUA_BENCH_INTAKE_PORT:-55565}
seconds=${BENCH_SECONDS:-10}
count=${BENCH_COUNT:-20000}
lat_count=${BENCH_LATENCY_COUNT:-15000}
e2e_count=${BENCH_E2E_COUNT:-3000}
e2e_lt_count=${BENCH_E2E_LT_COUNT:-1500}
skip=" ${BENCH_SKIP:-} "
delays=${BENCH_DELAYS_MS:-2 20}
delay_count=${BENCH_DELAY_COUNT:-300}
delay_timeout=${BENCH_DELAY_TIMEOUT:-60}
store_asked=${BENCH_STORE_DOSSIERS:-5000000}
store_reserve=${BENCH_STORE_RESERVE:-200}
report_runs=${BENCH_REPORT_RUNS:-3}
intake_limit=${BENCH_INTAKE_LIMIT:-25}
e2e_cap=${BENCH_E2E_CAP:-120}
bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
bench_t0=$(date +%s)
kv="$run/results.tsv"
. "$repo/bench/lib.sh"
. "$repo/bench/e2e.sh"
. "$repo/bench/fill.sh"

e2e_pids=""
cleanup() {
    e2e_stop
    sh tests/pgtmp.sh stop "$run/pg" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# bench_config OUT PROCEDURES ROUTING DIR - the shipped motcua.yaml pointed
# at this cluster, the bench's keys and DIR (spool, event sockets)
bench_config() {
    awk -v conninfo="$conninfo" -v repo="$repo" -v run="$run" -v dir="$4" -v base="$base_port" \
        -v procs="$2" -v routing="$3" -v workers="${BENCH_WORKERS:-16}" '
        /^[a-z]/ { section = $1 }
        section == "database:" && $1 == "conninfo:" { print "  conninfo: \"" conninfo "\""; next }
        section == "log:" && $1 == "level:" { print "  level: notice"; next }
        section == "files:" && $1 == "procedures:" { print "  procedures: " procs; next }
        section == "files:" && $1 == "routing:" { print "  routing: " routing; next }
        section == "files:" && $1 == "agencies:" { print "  agencies: " run "/agencies.yaml"; next }
        section == "files:" && $1 == "clients:" { print "  clients: " run "/clients.yaml"; next }
        section == "files:" && $1 ~ /^(calendar|notifications):$/ { print "  " $1 " " repo "/config/" $2; next }
        section == "intake:" && $1 == "endpoint:" { print "  endpoint: \"tcp://127.0.0.1:" base "\""; next }
        section == "intake:" && $1 == "workers:" { print "  workers: " workers; next }
        section == "intake:" && $1 == "server_key_file:" { print "  server_key_file: " run "/keys/intake.key"; next }
        $1 == "events_endpoint:" { name = section; sub(/:$/, "", name); print "  events_endpoint: \"ipc://" dir "/" name "-events\""; next }
        section == "client:" && $1 == "key_file:" { print "  key_file: " run "/keys/QUAY_KIM_LIEN.key"; next }
        section == "lienthong:" && $1 == "endpoint:" { print "  endpoint: \"tcp://127.0.0.1:" base + 3 "\""; next }
        section == "lienthong:" && $1 == "server_key_file:" { print "  server_key_file: " run "/keys/lienthong.key"; next }
        section == "notify:" && $1 == "spool_dir:" { print "  spool_dir: " dir "/spool"; next }
        { print }' "$repo/config/motcua.yaml" >"$1"
}

# pgbench_run LABEL CLIENTS SCRIPT - tps of one pgbench run into pgbench.LABEL.tps
pgbench_run() {
    threads=$2
    [ "$threads" -gt 2 ] && threads=2
    "$bindir/pgbench" -n -c "$2" -j "$threads" -T "$seconds" -f "$3" \
        -h "$run/pg" -p "$port" -U postgres motcua >"$run/pgbench-$1.txt" 2>&1
    tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$run/pgbench-$1.txt" | head -n 1)
    lat=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$run/pgbench-$1.txt" | head -n 1)
    put "pgbench.$1.clients" "$2"
    put "pgbench.$1.tps" "$(div "$tps" 1 %.0f)"
    put "pgbench.$1.latency_avg_ms" "$lat"
}

sh tests/pgtmp.sh stop "$run/pg" >/dev/null 2>&1 || true
rm -rf "$run"
mkdir -p "$run/keys" "$run/intake/spool"
: >"$kv"
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
put "started" "$started"
put_text "commit" "$commit"
put "dirty" "$(git -C "$repo" status --porcelain 2>/dev/null | grep -qv '^??' && echo true || echo false)"
put "nproc" "$(nproc)"
put "cpu" "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
put_text "postgresql" "$("$bindir/postgres" --version | sed -n 's/^postgres (PostgreSQL) \([0-9.]*\).*/\1/p')"
put "settings.fsync" "on"
put "settings.synchronous_commit" "on"

say "throwaway cluster in $run/pg (fsync=on, synchronous_commit=on)"
sh tests/pgtmp.sh start "$run/pg" "$port" -c fsync=on -c synchronous_commit=on -c shared_buffers=256MB
conninfo=$(sh tests/pgtmp.sh conninfo "$run/pg" "$port")

# keys: intake, the hub, the counter the load generator speaks for, every agency
motcua_k() { "$build/bin/motcua" keygen "$1" --dir "$run/keys" >/dev/null; }
cp config/agencies.yaml "$run/agencies.yaml"
mkdir -p "$run/keys"
for k in intake lienthong QUAY_KIM_LIEN $(sed -n 's/.*{code: *\([A-Z0-9_]*\),.*/\1/p' "$run/agencies.yaml"); do
    motcua_k "$k"
done
# agencies.yaml names keys/CODE.pub relative to its directory: $run/keys
cat >"$run/clients.yaml" <<YAML
clients:
  - {code: QUAY_KIM_LIEN, name: "Quầy một cửa (tải thử)", role: counter,
     wards: ["00229", "00220"], public_key_file: keys/QUAY_KIM_LIEN.pub}
YAML
bench_config "$run/motcua.yaml" "$repo/config/procedures.yaml" "$repo/config/routing.yaml" "$run/intake"
"$build/bin/motcua" -c "$run/motcua.yaml" migrate >/dev/null

case $skip in *" pgbench "*) ;; *)
    q "CREATE TABLE bench_insert (id bigserial PRIMARY KEY, at timestamptz DEFAULT now(), payload text)" >/dev/null
    printf "INSERT INTO bench_insert (payload) VALUES ('000.22.29.H26-251001-0001');\n" >"$run/insert.sql"
    awk 'BEGIN { printf "INSERT INTO bench_insert (payload) VALUES "
                 for (i = 1; i <= 50; i++) printf "%s(%c000.22.29.H26-251001-%04d%c)", (i > 1 ? ", " : ""), 39, i, 39
                 print ";" }' >"$run/insert50.sql"
    for c in 1 8 32; do
        say "pgbench: $c client(s), one single-row INSERT per transaction, ${seconds}s"
        pgbench_run "single_c$c" "$c" "$run/insert.sql"
        say "  $(get "pgbench.single_c$c.tps") tps"
    done
    say "pgbench: 8 clients, one 50-row INSERT per transaction, ${seconds}s"
    pgbench_run "batch50_c8" 8 "$run/insert50.sql"
    put "pgbench.batch50_c8.rows_per_s" "$(div "$(get pgbench.batch50_c8.tps)" 0.02 %.0f)"
    say "  $(get pgbench.batch50_c8.rows_per_s) rows/s"
    q "DROP TABLE bench_insert" >/dev/null
;; esac

# intake_run PREFIX [open] - motcua-intake alone on the current database:
# the closed loop (receipts/s) into PREFIX.closed_loop, with "open" also the
# latency at 1,000/s offered into PREFIX.at_1000 and the peak RSS
intake_run() {
    "$build/bin/motcua-intake" -c "$run/motcua.yaml" 2>"$run/intake/intake-$1.log" &
    e2e_pids=$!
    i=0
    until grep -q "event=started" "$run/intake/intake-$1.log" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 200 ] || { cat "$run/intake/intake-$1.log" >&2; exit 1; }
        sleep 0.05
    done
    say "intake alone, closed loop: $count dossiers, 32 clients"
    "$build/bin/motcua" -c "$run/motcua.yaml" load --rate 0 --count "$count" --clients 32 \
        --duration-limit "$intake_limit" >"$run/load-max-$1.txt" 2>"$run/load-max-$1.err" || say "  not every request answered (see $run/load-max-$1.err)"
    put "$1.closed_loop.clients" 32
    put "$1.closed_loop.dossiers" "$(sed -n 's/.*acked=\([0-9]*\).*/\1/p' "$run/load-max-$1.txt")"
    put "$1.closed_loop.receipts_per_s" "$(sed -n 's/.* rate=\([0-9.]*\)\/s.*/\1/p' "$run/load-max-$1.txt")"
    say "  $(cat "$run/load-max-$1.txt")"
    if [ "${2:-}" = open ]; then
        say "intake alone, open loop at 1,000/s offered: $lat_count dossiers, 64 clients"
        "$build/bin/motcua" -c "$run/motcua.yaml" load --rate 1000 --count "$lat_count" --clients 64 \
            --duration-limit "$intake_limit" >"$run/load-1000.txt" 2>"$run/load-1000.err" || say "  not every request answered (see $run/load-1000.err)"
        put "$1.at_1000.dossiers" "$(sed -n 's/.*acked=\([0-9]*\).*/\1/p' "$run/load-1000.txt")"
        for p in p50 p90 p99 max; do
            put "$1.at_1000.latency_ms.$p" "$(sed -n "s/.* $p=\([0-9.]*\)ms.*/\1/p" "$run/load-1000.txt")"
        done
        put "$1.at_1000.timeouts" "$(sed -n 's/.* timeouts=\([0-9]*\).*/\1/p' "$run/load-1000.txt")"
        say "  $(cat "$run/load-1000.txt")"
        put "$1.rss_peak_mb" "$(div "$(hwm_kb "$e2e_pids")" 1024 %.1f)"
    fi
    e2e_stop
}

case $skip in *" intake "*) ;; *) intake_run intake open ;; esac

e2e_timeout=$e2e_cap
case $skip in *" e2e-one "*) ;; *) e2e one_step 1.004222 5 "$e2e_count" direct ;; esac
case $skip in *" e2e-lt "*) ;; *) e2e inter_agency 2.000986 5 "$e2e_lt_count" ;; esac

# latency tolerance: the inter-agency run again with lienthong's PostgreSQL
# and the agencies' link to lienthong each behind a delay line
case $skip in *" latency "*) ;; *)
    # (not $d: e2e uses it)
    for delay_ms in $delays; do
        e2e_timeout=$delay_timeout
        e2e "inter_agency_delay_${delay_ms}ms" 2.000986 5 "$delay_count" - fresh "$delay_ms"
        e2e_timeout=$e2e_cap
        put "e2e.inter_agency_delay_${delay_ms}ms.ratio_to_no_delay" \
            "$(div "$(get "e2e.inter_agency_delay_${delay_ms}ms.dossiers_per_s")" "$(get e2e.inter_agency.dossiers_per_s)")"
    done
;; esac

# the same with millions of dossiers stored: as many as the budget lets the
# fill write (bench/fill.sh times its speed first), BENCH_STORE_RESERVE s kept
# for what runs on the filled store
case $skip in *" store "*) ;; *)
    left=$(( ${BENCH_BUDGET:-870} - ($(date +%s) - bench_t0) ))
    put "store.dossiers_asked" "$store_asked"
    put "store.budget_left_s" "$left"
    if [ $((left - store_reserve)) -ge 60 ]; then
        psql "${conninfo%dbname=*}dbname=postgres" -X -q -v ON_ERROR_STOP=1 \
            -c "DROP DATABASE IF EXISTS motcua WITH (FORCE)" -c "CREATE DATABASE motcua"
        "$build/bin/motcua" -c "$run/motcua.yaml" migrate >/dev/null
        fill_store "$store_asked" $((left - store_reserve)) store.fill
        put "store.dossiers" "$fill_n"
        # the end-to-end run first: intake alone leaves RECEIVED dossiers of the
        # whole catalog that the end-to-end run's router (one procedure) would skip
        e2e one_step_stored 1.004222 5 "$e2e_count" direct keep
        intake_run store.intake
        put "store.ratio_to_empty.intake_closed_loop" \
            "$(div "$(get store.intake.closed_loop.receipts_per_s)" "$(get intake.closed_loop.receipts_per_s)")"
        put "store.ratio_to_empty.e2e_one_step" \
            "$(div "$(get e2e.one_step_stored.dossiers_per_s)" "$(get e2e.one_step.dossiers_per_s)")"
        left=$(( ${BENCH_BUDGET:-870} - ($(date +%s) - bench_t0) ))
        if [ "$left" -ge 40 ]; then
            say "motcua report on the filled store (bench/report.sh), $report_runs runs each"
            : >"$run/report.kv"
            BENCH_REPORT_CONNINFO=$conninfo BENCH_REPORT_RUNS=$report_runs BENCH_REPORT_KV="$run/report.kv" \
                sh bench/report.sh "$build" >"$run/report.txt" 2>&1 || say "  report failed (see $run/report.txt)"
            while read -r slug med max; do
                put "store.report_ms.$slug.median" "$med"
                put "store.report_ms.$slug.max" "$max"
            done <"$run/report.kv"
            sed -n 's/^report\|^overdue/  &/p' "$run/report.txt" | while read -r l; do say "  $l"; done
        else
            put_text "store.report_skipped" "budget: $left s left"
        fi
    else
        put_text "store.skipped" "budget: $left s left, $store_reserve kept for the runs on the filled store"
        say "the filled store skipped: ${left}s left of the budget"
    fi
;; esac

# every throughput as a ratio to pgbench single-row insert, 8 clients
ref=$(get pgbench.single_c8.tps)
for k in pgbench.single_c1.tps pgbench.single_c32.tps pgbench.batch50_c8.rows_per_s \
         intake.closed_loop.receipts_per_s e2e.one_step.dossiers_per_s e2e.inter_agency.dossiers_per_s; do
    v=$(get "$k")
    [ -n "$v" ] && put "ratio_to_pgbench_c8.${k%.*}" "$(div "$v" "$ref")"
done
# peak RSS per daemon over every section that ran it
for d in intake router lienthong notify; do
    m=$(awk -F '\t' -v d="$d" '($1 == "intake.rss_peak_mb" && d == "intake") || $1 ~ "^e2e\\.[a-z0-9_]*\\.rss_peak_mb\\." d "$" {
        if ($2 + 0 > m) m = $2 + 0 } END { if (m) print m }' "$kv")
    [ -n "$m" ] && put "rss_peak_mb.$d" "$m"
done
put "seconds" "$(( $(date +%s) - bench_t0 ))"

mkdir -p "$repo/bench/results"
out="$repo/bench/results/$(date -u +%Y%m%dT%H%M%SZ)-$commit.json"
kv_json >"$out"
cp "$out" "$repo/bench/results/latest.json"

# the table: one row per figure that was measured
row() {
    v=$(get "$2")
    [ -n "$v" ] || return 0
    r=""
    [ -n "${3:-}" ] && r=$(get "$3")
    printf '%-58s %14s %10s\n' "$1" "$v" "${r:+${r}×}"
}
echo
echo "== summary: $started, commit $commit, $(get nproc) cores, PostgreSQL $(get postgresql), fsync=on, synchronous_commit=on"
printf '%-58s %14s %10s\n' "figure" "value" "/ pgbench8"
row "pgbench single-row insert, 1 client (tps)" pgbench.single_c1.tps ratio_to_pgbench_c8.pgbench.single_c1
row "pgbench single-row insert, 8 clients (tps)" pgbench.single_c8.tps
row "pgbench single-row insert, 32 clients (tps)" pgbench.single_c32.tps ratio_to_pgbench_c8.pgbench.single_c32
row "pgbench 50-row insert, 8 clients (rows/s)" pgbench.batch50_c8.rows_per_s ratio_to_pgbench_c8.pgbench.batch50_c8
row "intake closed loop, 32 clients (receipts/s)" intake.closed_loop.receipts_per_s ratio_to_pgbench_c8.intake.closed_loop
row "receipt latency at 1,000/s: p50 (ms)" intake.at_1000.latency_ms.p50
row "receipt latency at 1,000/s: p99 (ms)" intake.at_1000.latency_ms.p99
row "intake alone: peak RSS (MB)" intake.rss_peak_mb
for l in one_step inter_agency one_step_stored $(for d in $delays; do echo "inter_agency_delay_${d}ms"; done); do
    [ -n "$(get "e2e.$l.dossiers_per_s")" ] || continue
    t=""
    [ "$(get "e2e.$l.timed_out")" = true ] && t=" (TIMED OUT)"
    echo "-- end to end, $l: procedure $(get "e2e.$l.procedure"), $(get "e2e.$l.steps") steps, $(get "e2e.$l.completed")/$(get "e2e.$l.dossiers") closed in $(get "e2e.$l.seconds") s$t"
    row "  dossiers/s (first submit -> last notice sent)" "e2e.$l.dossiers_per_s" "ratio_to_pgbench_c8.e2e.$l"
    row "  ratio to the run without delay lines" "e2e.$l.ratio_to_no_delay"
    row "  agency reconnects (hub silent too long)" "e2e.$l.agency_reconnects"
    for s in received_to_routed routed_to_result result_to_last_notice received_to_last_notice; do
        p50=$(get "e2e.$l.lag_ms.$s.p50") p99=$(get "e2e.$l.lag_ms.$s.p99")
        [ -n "$p50" ] && printf '%-58s %14s\n' "  lag $s p50 / p99 (ms)" "$p50 / $p99"
    done
    for k in write_xacts commits wal_records wal_bytes wal_fsyncs rows_inserted rows_updated \
             rows_hot_updated notices notify_fsyncs; do
        row "  per dossier: $k" "e2e.$l.per_dossier.$k"
    done
    row "  per notice: notify fsyncs (spool)" "e2e.$l.per_notice.notify_fsyncs"
    for d in intake router lienthong notify agencies; do
        row "  CPU ms per dossier: $d" "e2e.$l.cpu_ms_per_dossier.$d"
    done
    for d in intake router lienthong notify; do
        row "  CPU ms per dossier: PostgreSQL backends of $d" "e2e.$l.backend_cpu_ms_per_dossier.$d"
    done
done
if [ -n "$(get store.fill.dossiers)" ]; then
    echo "-- the filled store: $(get store.fill.dossiers) dossiers (asked: $(get store.dossiers_asked))"
    [ -n "$(get store.fill.reason)" ] && echo "  fewer: $(get store.fill.reason)"
    row "  fill: rows written" store.fill.rows
    row "  fill: rows/s (INSERT ... SELECT, keys and indexes off)" store.fill.rows_per_s
    row "  fill: seconds, keys and indexes rebuilt" store.fill.seconds.keys_and_indexes
    row "  fill: seconds in all" store.fill.seconds.total
    row "  intake closed loop on it (receipts/s)" store.intake.closed_loop.receipts_per_s store.ratio_to_empty.intake_closed_loop
    row "  one-step end to end on it (dossiers/s)" e2e.one_step_stored.dossiers_per_s store.ratio_to_empty.e2e_one_step
    echo "  (the second column here: ratio to the empty store)"
    for r in ward_quarter_json ward_quarter_table store_quarter_json store_year_json overdue_ward; do
        row "  motcua report $r: median (ms)" "store.report_ms.$r.median"
    done
fi
for d in intake router lienthong notify; do
    row "peak RSS (VmHWM, MB) over the whole bench: $d" "rss_peak_mb.$d"
done
echo "(whole bench: $(get seconds) s; JSON: $out)"
