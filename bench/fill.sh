# bench/fill.sh - fill the store with N dossiers, fast (sourced by bench/run.sh
# and bench/report.sh, POSIX sh). What the rows are: bench/fill.sql.
#
# fill_store N [SECONDS [PREFIX]]
#   On the migrated database of $conninfo: drops the filled tables' keys and
#   indexes (definitions kept). With SECONDS > 0, the fill must fit in about
#   that long: it first times the dossier statement alone on 50,000 rows
#   (then TRUNCATEd) and writes at most as many dossiers as that speed, over
#   FILL_COST (7: the whole fill took 5.8-6.6 times its dossier statement
#   here), allows in SECONDS, in 100,000s (never fewer than 100,000); the
#   count written is left in $fill_n, the reason in PREFIX.reason. Then writes
#   the dossiers with one INSERT ...
#   SELECT generate_series, then the rows of the other tables with one
#   statement each, two sessions at a time (2 cores), recreates the keys,
#   indexes and foreign keys from their definitions (two sessions; the GiST
#   index, the slowest, alone in one), re-enables the triggers, VACUUM
#   ANALYZE (so that no autovacuum of the fill runs during what is measured
#   next) and CHECKPOINT (likewise). Records under PREFIX (default
#   store.fill): dossiers, rows, seconds of each phase, rows_per_s of each
#   table's statement and of the whole fill, database size.
# Needs: $conninfo, $repo, $run, put, say (bench/lib.sh).

# fill_psql PHASE N - one phase of bench/fill.sql for dossiers 1..N
fill_psql() {
    psql "$conninfo" -X -q -v ON_ERROR_STOP=1 -v phase="$1" -v n="$2" -v lo=1 -v hi="$2" \
        -f "$repo/bench/fill.sql" >/dev/null
}

# fill_now - seconds since the epoch with ns, for the phase timings
fill_now() {
    date +%s.%N
}

# fill_since T - seconds since T, 2 decimals
fill_since() {
    awk -v a="$1" -v b="$(fill_now)" 'BEGIN { printf "%.2f", b - a }'
}

# fill_lane TABLE... - the given table phases one after the other, each
# timed into $run/fill.TABLE.s (run in the background, one session each)
fill_lane() {
    for t in "$@"; do
        t0=$(fill_now)
        fill_psql "$t" "$fill_n" || return 1
        fill_since "$t0" >"$run/fill.$t.s"
    done
}

# fill_ddl_lanes - bench_fill_ddl's statements in session files
# $run/fill.lane{1,2}.g{1,2,3}.sql: group 1 the keys, 2 the indexes (the
# GiST alone in lane 1), 3 the foreign keys (they need the keys); each
# group shared out between the two lanes
fill_ddl_lanes() {
    for g in 1 2 3; do
        for l in 1 2; do
            printf "SET maintenance_work_mem = '256MB';\n" >"$run/fill.lane$l.g$g.sql"
        done
    done
    q "SELECT ord, create_sql LIKE '% USING gist %', create_sql FROM bench_fill_ddl ORDER BY ord, create_sql" |
        awk -F '|' -v dir="$run" '{
            lane = (n[$1]++ % 2) + 1
            if ($1 == 2) lane = ($2 == "t") ? 1 : 2
            sql = $0; sub(/^[^|]*[|][^|]*[|]/, "", sql)
            print sql ";" >> (dir "/fill.lane" lane ".g" $1 ".sql") }'
}

fill_store() {
    fill_n=$1
    pre=${3:-store.fill}
    fill_t0=$(fill_now)
    fill_psql drop "$fill_n" || return 1
    if [ "${2:-0}" -gt 0 ]; then
        t0=$(fill_now)
        fill_psql dossier 50000 || return 1
        cal=$(fill_since "$t0")
        q "TRUNCATE dossier" || return 1
        fit=$(awk -v s="$2" -v c="$cal" 'BEGIN { n = int(s * 50000 / (c * 7) / 100000) * 100000
                                               print (n < 100000 ? 100000 : n) }')
        put "$pre.calibration.dossiers_per_s" "$(div 50000 "$cal" %.0f)"
        put "$pre.calibration.seconds_allowed" "$2"
        if [ "$fit" -lt "$fill_n" ]; then
            put_text "$pre.reason" "budget: $2 s left for the fill; its dossier statement wrote $(div 50000 "$cal" %.0f) dossiers/s here, and the whole fill takes about 7 times as long (the other tables, then the keys and indexes: the GiST index dominates), so $fill_n would take about $(awk -v n="$fill_n" -v c="$cal" 'BEGIN { printf "%d", n / 50000 * c * 7 }') s"
            fill_n=$fit
        fi
    fi
    say "filling the store: $fill_n dossiers and the rows they leave (bench/fill.sql)"
    fill_lane dossier || return 1
    say "  dossiers written in $(cat "$run/fill.dossier.s") s; the other tables, two sessions"
    fill_lane history case & l1=$!
    fill_lane event notice rating & l2=$!
    wait "$l1" || return 1
    wait "$l2" || return 1
    rows_t=$(fill_since "$fill_t0")
    say "  rows written in ${rows_t} s; keys, indexes and foreign keys, two sessions"
    # the groups in order (keys, indexes, foreign keys), two sessions within each
    fill_ddl_lanes
    t0=$(fill_now)
    for g in 1 2 3; do
        for l in 1 2; do
            psql "$conninfo" -X -q -v ON_ERROR_STOP=1 -f "$run/fill.lane$l.g$g.sql" >/dev/null &
            eval "ddl_pid$l=\$!"
        done
        wait "$ddl_pid1" || return 1
        wait "$ddl_pid2" || return 1
    done
    fill_psql finish "$fill_n" || return 1
    ddl_t=$(fill_since "$t0")
    say "  keys and indexes built in ${ddl_t} s; VACUUM ANALYZE, CHECKPOINT"
    t0=$(fill_now)
    { q "VACUUM ANALYZE dossier" && q "VACUUM ANALYZE rating" && q "VACUUM ANALYZE agency_case"; } & l1=$!
    { q "VACUUM ANALYZE dossier_history" && q "VACUUM ANALYZE dossier_event" &&
      q "VACUUM ANALYZE notification"; } & l2=$!
    wait "$l1" || return 1
    wait "$l2" || return 1
    q "CHECKPOINT" || return 1
    vac_t=$(fill_since "$t0")
    total_t=$(fill_since "$fill_t0")

    rows=0
    for t in dossier history event case notice rating; do
        case $t in
            history) tbl=dossier_history ;; event) tbl=dossier_event ;;
            case) tbl=agency_case ;; notice) tbl=notification ;; *) tbl=$t ;;
        esac
        r=$(q "SELECT count(*) FROM $tbl")
        rows=$((rows + r))
        put "$pre.tables.$tbl.rows" "$r"
        put "$pre.tables.$tbl.seconds" "$(cat "$run/fill.$t.s")"
        put "$pre.tables.$tbl.rows_per_s" "$(div "$r" "$(cat "$run/fill.$t.s")" %.0f)"
    done
    put "$pre.dossiers" "$fill_n"
    put "$pre.rows" "$rows"
    put "$pre.seconds.rows" "$rows_t"
    put "$pre.seconds.keys_and_indexes" "$ddl_t"
    put "$pre.seconds.vacuum_checkpoint" "$vac_t"
    put "$pre.seconds.total" "$total_t"
    put "$pre.rows_per_s" "$(div "$rows" "$rows_t" %.0f)"
    put "$pre.database_mb" "$(q "SELECT pg_database_size(current_database()) / 1048576")"
    say "  filled in ${total_t} s: $rows rows ($(get "$pre.rows_per_s") rows/s written), $(get "$pre.database_mb") MB"
}
