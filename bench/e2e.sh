# bench/e2e.sh - one END TO END run (sourced by bench/run.sh, POSIX sh).
#
# e2e LABEL PROCEDURE FINAL_STATE COUNT [direct|-] [keep|fresh] [DELAY_MS]
#   On the cluster of run.sh ($conninfo, $run, $kv), with a catalog holding
#   only PROCEDURE (and its routing entry): starts motcua-intake, -router,
#   -lienthong and -notify (spool channel only: no gateway) and one
#   motcua-agency per desk or partner of the procedure's plan, answering at
#   once (--delay-ms 0 --outcomes approved=100); submits COUNT dossiers
#   through `motcua load` (closed loop, 32 clients, ward 00229); waits,
#   bounded by BENCH_E2E_TIMEOUT seconds (default 600) and by what is left of
#   BENCH_BUDGET (default 870 s since the bench started, less 30), until every one of
#   them is in FINAL_STATE and none of their notifications is pending.
#   Records under e2e.LABEL: dossiers/s from the first submit until then
#   (completed / seconds; timed_out true when the bound came first),
#   per-stage lag (dossier_event: received/submitted -> routed -> result),
#   CPU per daemon and per PostgreSQL backend (application_name motcua-*),
#   write transactions (xids assigned), commits, WAL records, bytes and
#   fsyncs per dossier, peak RSS per daemon, notify's fsync calls (the spool's;
#   perf stat on its syscall tracepoints, when perf works). The daemons are
#   stopped before the statistics are read, so their backends have flushed
#   theirs.
#   "keep": on the database as it is (the filled store, bench/fill.sh), not a
#   fresh one; only the dossiers and notifications written after the start
#   (ids above the highest before) are counted.
#   DELAY_MS (default 0: none): lienthong's PostgreSQL connection and the
#   agencies' connection to lienthong each go through a delay line
#   (build/bench/delayproxy, DELAY_MS each way), so each of their round
#   trips costs 2 x DELAY_MS more.

# e2e_catalog PROCEDURE DIR [direct] - DIR/procedures.yaml and
# DIR/routing.yaml with only PROCEDURE (the catalog files' list items,
# copied verbatim; with "direct", no online filing, so that every dossier is
# received at the counter, not accepted online by the desk first)
e2e_catalog() {
    e2e_only "$1" code <"$repo/config/procedures.yaml" |
        if [ "${3:-}" = direct ]; then
            sed -e 's/^    channels:.*/    channels: [direct, postal]   # bench: no online filing/' \
                -e 's/^    online_level:.*/    online_level: "không"/' \
                -e '/^    fee_rule:/s/ online: [0-9]*,//'
        else
            cat
        fi >"$2/procedures.yaml"
    e2e_only "$1" procedure <"$repo/config/routing.yaml" >"$2/routing.yaml"
    grep -q "^  - procedure:" "$2/routing.yaml" || echo "procedures: []" >"$2/routing.yaml"
}

# e2e_only CODE KEY - stdin's "procedures:" list with only the item whose KEY is CODE
e2e_only() {
    awk -v code="\"$1\"" -v key="$2:" '
        /^procedures:/ { print; inlist = 1; next }
        !inlist { print; next }
        $1 == "-" && $2 == key { keep = ($3 == code) }
        keep { print }'
}

# e2e_agencies DIR - the agencies of the procedure's plan: the desk and the steps
e2e_agencies() {
    { sed -n 's/^    department: *\([A-Z0-9_]*\).*/\1/p' "$1/routing.yaml"
      sed -n 's/^    department: *\([A-Z0-9_]*\).*/\1/p; s/.*{agency: *\([A-Z0-9_]*\),.*/\1/p' "$1/procedures.yaml"
    } | awk 'NF && !seen[$1]++'
}

# e2e_start NAME LOG CMD... - start a process, remember its pid in $e2e_pids
# ($e2e_proxies for a delay line: stopped after the daemons that use it)
e2e_start() {
    name=$1 log=$2
    shift 2
    "$@" 2>"$log" &
    case $name in
        proxy_*) e2e_proxies="${e2e_proxies:-} $!" ;;
        *) e2e_pids="$e2e_pids $!" ;;
    esac
    eval "pid_$name=$!"
    i=0
    until grep -q "event=started" "$log" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -ge 200 ] || ! kill -0 "$!" 2>/dev/null; then
            echo "bench: $name did not start:" >&2
            cat "$log" >&2
            return 1
        fi
        sleep 0.05
    done
}

# e2e_stop - SIGTERM every process of the run, then wait for each; the
# delay lines last, so no daemon loses its link while it stops
e2e_stop() {
    for p in $e2e_pids; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $e2e_pids; do wait "$p" 2>/dev/null || true; done
    for p in ${e2e_proxies:-}; do kill -TERM "$p" 2>/dev/null || true; done
    for p in ${e2e_proxies:-}; do wait "$p" 2>/dev/null || true; done
    e2e_pids="" e2e_proxies=""
}

# pg_counters - "xid commits wal_records wal_fpi wal_bytes wal_write wal_sync
# inserts updates hot_updates deletes" (the xid horizon counts the
# transactions that wrote; xact_commit counts read-only ones too)
pg_counters() {
    q "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
              (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()),
              wal_records, wal_fpi, wal_bytes, wal_write, wal_sync,
              t.ins, t.upd, t.hot, t.del
         FROM pg_stat_wal,
              (SELECT sum(n_tup_ins) AS ins, sum(n_tup_upd) AS upd, sum(n_tup_hot_upd) AS hot,
                      sum(n_tup_del) AS del FROM pg_stat_user_tables) t" | tr '|' ' '
}

e2e() {
    label=$1 proc=$2 final=$3 n=$4 only=${5:-} keep=${6:-fresh} delay=${7:-0}
    dir="$run/e2e-$label"
    timeout=${BENCH_E2E_TIMEOUT:-600}
    [ -n "${e2e_timeout:-}" ] && [ "$e2e_timeout" -lt "$timeout" ] && timeout=$e2e_timeout
    # and never past the bench's budget (BENCH_BUDGET s from its start, less
    # 30 s for the summary): a slow pipeline gives a partial figure, on time
    left=$(( ${BENCH_BUDGET:-870} - 30 - ($(date +%s) - bench_t0) ))
    [ "$left" -lt 30 ] && left=30
    [ "$left" -lt "$timeout" ] && timeout=$left
    mkdir -p "$dir/spool" "$dir/logs"
    if [ "$keep" != keep ]; then
        # a fresh database: nothing of an earlier section waits in its queues
        psql "${conninfo%dbname=*}dbname=postgres" -X -q -v ON_ERROR_STOP=1 \
            -c "DROP DATABASE IF EXISTS motcua WITH (FORCE)" -c "CREATE DATABASE motcua" || return 1
    fi
    e2e_catalog "$proc" "$dir" "$only"
    bench_config "$dir/motcua.yaml" "$dir/procedures.yaml" "$dir/routing.yaml" "$dir"
    "$build/bin/motcua" -c "$dir/motcua.yaml" migrate >/dev/null || return 1
    # what was there before: only what comes after is this run's
    base=$(q "SELECT coalesce(max(id), 0) FROM dossier")
    nbase=$(q "SELECT coalesce(max(id), 0) FROM notification")
    agencies=$(e2e_agencies "$dir")
    steps=$(grep -c "{agency:" "$dir/procedures.yaml" || true)
    say "end to end '$label': procedure $proc ($((steps + 1)) steps: $(echo $agencies)), $n dossiers"
    put "e2e.$label.procedure" "$proc"
    put "e2e.$label.steps" "$((steps + 1))"
    put "e2e.$label.agencies" "$(echo $agencies)"
    put "e2e.$label.dossiers" "$n"
    put "e2e.$label.store_dossiers_before" "$base"
    put "e2e.$label.delay_ms" "$delay"
    if [ "$only" = direct ]; then
        put "e2e.$label.filed" "counter (direct)"
    else
        put "e2e.$label.filed" "catalog channels (online: the desk accepts first, step 0)"
    fi

    e2e_pids=""
    lt_conf="$dir/motcua.yaml" ag_endpoint="tcp://127.0.0.1:$((base_port + 3))"
    if [ "$delay" -gt 0 ]; then
        # the delay lines: lienthong -> PostgreSQL (TCP), agencies -> lienthong
        e2e_start proxy_pg "$dir/logs/proxy-pg.log" "$build/bench/delayproxy" \
            "$((base_port + 10))" "$port" "$delay" || return 1
        e2e_start proxy_lt "$dir/logs/proxy-lt.log" "$build/bench/delayproxy" \
            "$((base_port + 11))" "$((base_port + 3))" "$delay" || return 1
        lt_conf="$dir/motcua-lienthong.yaml" ag_endpoint="tcp://127.0.0.1:$((base_port + 11))"
        sed "s|^  conninfo: .*|  conninfo: \"host=127.0.0.1 port=$((base_port + 10)) user=postgres dbname=motcua\"|" \
            "$dir/motcua.yaml" >"$lt_conf"
    fi
    for d in intake router lienthong notify; do
        c="$dir/motcua.yaml"
        [ "$d" = lienthong ] && c=$lt_conf
        e2e_start "$d" "$dir/logs/$d.log" "$build/bin/motcua-$d" -c "$c" || return 1
    done
    for a in $agencies; do
        e2e_start "agency_$a" "$dir/logs/agency-$a.log" "$build/bin/motcua-agency" -c "$dir/motcua.yaml" \
            --agency "$a" --key "$run/keys/$a.key" --server-key "$run/keys/lienthong.pub" \
            --endpoint "$ag_endpoint" --credit 32 --delay-ms 0 --outcomes approved=100 || return 1
    done
    # notify's fsync calls (the spool's), counted by the kernel: no tracing stop
    perf_pid=""
    if perf stat -e syscalls:sys_enter_fsync -x, -o "$dir/perf.probe" true >/dev/null 2>&1; then
        perf stat -e syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync -x, -o "$dir/perf.txt" \
            -p "$pid_notify" >/dev/null 2>&1 &
        perf_pid=$!
    fi

    for d in intake router lienthong notify; do
        eval "cpu0_$d=\$(cpu_ms \$pid_$d)"
    done
    backend_cpu "$dir/backends.before"
    set -- $(pg_counters)
    xid0=$1 commit0=$2 rec0=$3 fpi0=$4 bytes0=$5 write0=$6 sync0=$7
    ins0=$8 upd0=$9 hot0=${10} del0=${11}

    t0=$(date +%s%N)
    "$build/bin/motcua" -c "$dir/motcua.yaml" load --rate 0 --count "$n" --clients 32 --ward 00229 \
        >"$dir/load.txt" 2>"$dir/load.err" || say "load: not every request answered (see $dir/load.err)"
    submit_s=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
    say "  $n submitted in ${submit_s}s ($(sed -n 's/.* rate=\([0-9.]*\/s\).*/\1/p' "$dir/load.txt")); waiting for the pipeline"

    # wait, bounded, until every dossier is closed and every notice sent
    last=0 done_n=0 pending=1 timed_out=false
    while :; do
        set -- $(q "SELECT (SELECT count(*) FROM dossier
                             WHERE id > $base AND procedure_code = '$proc' AND state = $final),
                           (SELECT count(*) FROM notification WHERE id > $nbase AND state = 0),
                           (SELECT count(*) FROM notification WHERE id > $nbase AND state = 1)" | tr '|' ' ')
        done_n=$1 pending=$2 sent=$3
        now=$(date +%s%N)
        el=$(( (now - t0) / 1000000000 ))
        [ "$done_n" -ge "$n" ] && [ "$pending" -eq 0 ] && break
        if [ "$el" -ge "$timeout" ]; then
            say "  TIMEOUT after ${timeout}s: $done_n of $n closed, $pending notices pending"
            timed_out=true
            break
        fi
        if [ $((el - last)) -ge 5 ]; then
            say "  t=${el}s closed=$done_n/$n notices sent=$sent pending=$pending"
            last=$el
        fi
        sleep 0.2
    done
    t1=$(date +%s%N)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')

    # CPU and memory while the processes still live
    for d in intake router lienthong notify; do
        eval "p=\$pid_$d; c0=\$cpu0_$d"
        put "e2e.$label.cpu_ms_per_dossier.$d" "$(div "$(( $(cpu_ms "$p") - c0 ))" "$n")"
        put "e2e.$label.rss_peak_mb.$d" "$(div "$(hwm_kb "$p")" 1024 %.1f)"
    done
    ag_cpu=0
    for a in $agencies; do
        eval "p=\$pid_agency_$a"
        ag_cpu=$((ag_cpu + $(cpu_ms "$p")))
    done
    put "e2e.$label.cpu_ms_per_dossier.agencies" "$(div "$ag_cpu" "$n")"
    # an agency that heard nothing from the hub for its silence limit reconnects
    put "e2e.$label.agency_reconnects" "$(cat "$dir"/logs/agency-*.log | grep -c "event=hub_silent" || true)"
    backend_cpu "$dir/backends.after"
    awk 'NR == FNR { before[$2] = $3; next }
         { used[$1] += $3 - ($2 in before ? before[$2] : 0) }
         END { for (a in used) print a, used[a] }' "$dir/backends.before" "$dir/backends.after" |
        sort | while read -r app ms; do
            put "e2e.$label.backend_cpu_ms_per_dossier.${app#motcua-}" "$(div "$ms" "$n")"
        done
    if [ -n "$perf_pid" ]; then
        kill -INT "$perf_pid" 2>/dev/null || true
        wait "$perf_pid" 2>/dev/null || true
    fi
    e2e_stop

    set -- $(pg_counters)
    put "e2e.$label.completed" "$done_n"
    put "e2e.$label.timed_out" "$timed_out"
    put "e2e.$label.seconds" "$secs"
    put "e2e.$label.submit_seconds" "$submit_s"
    put "e2e.$label.dossiers_per_s" "$(div "$done_n" "$secs" %.1f)"
    put "e2e.$label.per_dossier.write_xacts" "$(div "$(($1 - xid0))" "$n" %.2f)"
    put "e2e.$label.per_dossier.commits" "$(div "$(($2 - commit0))" "$n" %.2f)"
    put "e2e.$label.per_dossier.wal_records" "$(div "$(($3 - rec0))" "$n" %.1f)"
    put "e2e.$label.per_dossier.wal_fpi" "$(div "$(($4 - fpi0))" "$n" %.2f)"
    put "e2e.$label.per_dossier.wal_bytes" "$(div "$(($5 - bytes0))" "$n" %.0f)"
    put "e2e.$label.per_dossier.wal_writes" "$(div "$(($6 - write0))" "$n" %.2f)"
    put "e2e.$label.per_dossier.wal_fsyncs" "$(div "$(($7 - sync0))" "$n" %.2f)"
    put "e2e.$label.per_dossier.rows_inserted" "$(div "$(($8 - ins0))" "$n" %.2f)"
    put "e2e.$label.per_dossier.rows_updated" "$(div "$(($9 - upd0))" "$n" %.2f)"
    put "e2e.$label.per_dossier.rows_hot_updated" "$(div "$((${10} - hot0))" "$n" %.2f)"
    put "e2e.$label.per_dossier.rows_deleted" "$(div "$((${11} - del0))" "$n" %.2f)"
    notices=$(q "SELECT count(*) FROM notification WHERE id > $nbase")
    put "e2e.$label.per_dossier.notices" "$(div "$notices" "$n" %.2f)"
    fsyncs=$(awk -F, '$3 ~ /sys_enter_f(data)?sync$/ && $1 ~ /^[0-9]+$/ { s += $1; ok = 1 } END { if (ok) print s }' \
        "$dir/perf.txt" 2>/dev/null)
    if [ -n "$fsyncs" ]; then
        put "e2e.$label.notify.fsyncs" "$fsyncs"
        put "e2e.$label.per_notice.notify_fsyncs" "$(div "$fsyncs" "$notices" %.2f)"
        put "e2e.$label.per_dossier.notify_fsyncs" "$(div "$fsyncs" "$n" %.2f)"
    fi

    # per-stage lag from the dossier's events, in ms: p50 and p99
    q "WITH n AS (SELECT dossier_id, max(sent_at) AS noticed FROM notification
                  WHERE id > $nbase GROUP BY dossier_id),
       e AS (
           SELECT d.id,
                  min(ev.at) FILTER (WHERE ev.kind IN ('received', 'submitted')) AS received,
                  min(ev.at) FILTER (WHERE ev.kind = 'routed') AS routed,
                  min(ev.at) FILTER (WHERE ev.kind = 'result_ready') AS result,
                  min(n.noticed) AS noticed
             FROM dossier d JOIN dossier_event ev ON ev.dossier_id = d.id
                  LEFT JOIN n ON n.dossier_id = d.id
            WHERE d.id > $base AND d.procedure_code = '$proc' GROUP BY d.id),
       lag AS (
           SELECT 'received_to_routed' AS stage, extract(epoch FROM routed - received) * 1000 AS ms FROM e
           UNION ALL SELECT 'routed_to_result', extract(epoch FROM result - routed) * 1000 FROM e
           UNION ALL SELECT 'result_to_last_notice', extract(epoch FROM noticed - result) * 1000 FROM e
           UNION ALL SELECT 'received_to_last_notice', extract(epoch FROM noticed - received) * 1000 FROM e)
       SELECT stage, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
              round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1)
         FROM lag WHERE ms IS NOT NULL GROUP BY stage" |
        while IFS='|' read -r stage p50 p99; do
            put "e2e.$label.lag_ms.$stage.p50" "$p50"
            put "e2e.$label.lag_ms.$stage.p99" "$p99"
        done
    say "  $done_n of $n closed with every notice sent in ${secs}s: $(get "e2e.$label.dossiers_per_s") dossiers/s"
}
