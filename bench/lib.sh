# bench/lib.sh - helpers shared by bench/run.sh and bench/e2e.sh (sourced,
# POSIX sh). Contract:
#   * results are key/value lines in $kv ("a.b.c<TAB>value"); kv_json turns
#     them into one nested JSON object (dots are levels; a value that looks
#     like a number is written as one, anything else as a string; put_text
#     forces a string);
#   * say prints a progress line "[+SSSs] text" on stdout (t from $bench_t0);
#   * the /proc readers return 0 for a process that is gone, never fail.
# Needs: $kv, $bench_t0, $conninfo (for q).

clk_tck=$(getconf CLK_TCK)

# say TEXT - one progress line, seconds since the bench started
say() {
    printf '[+%4ds] %s\n' "$(( $(date +%s) - bench_t0 ))" "$*"
}

# put KEY VALUE - record one result (a number, null, true or false, else text)
put() {
    printf '%s\t%s\n' "$1" "$2" >>"$kv"
}

# put_text KEY VALUE - record one result that is text even if it looks like a number
put_text() {
    printf '%s\ts:%s\n' "$1" "$2" >>"$kv"
}

# get KEY - the last value recorded for KEY (empty if none)
get() {
    awk -F '\t' -v k="$1" '$1 == k { v = $2 } END { sub(/^s:/, "", v); print v }' "$kv"
}

# q SQL - one psql query, unaligned tuples only
q() {
    psql "$conninfo" -X -qAt -v ON_ERROR_STOP=1 -c "$1"
}

# div A B [FORMAT] - A / B with awk, "null" when B is 0 or either is empty
div() {
    awk -v a="$1" -v b="$2" -v f="${3:-%.3f}" 'BEGIN {
        if (a == "" || b == "" || b + 0 == 0) print "null"; else printf f "\n", a / b }'
}

# cpu_ms PID - user + system CPU of a process in ms (0 if gone)
cpu_ms() {
    awk -v hz="$clk_tck" '{ sub(/^.*\) /, ""); print int(($12 + $13) * 1000 / hz) }' \
        "/proc/$1/stat" 2>/dev/null || echo 0
}

# hwm_kb PID - peak resident set size (VmHWM) in kB (0 if gone)
hwm_kb() {
    awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# backend_cpu FILE - "application_name pid cpu_ms" per motcua backend into FILE
backend_cpu() {
    q "SELECT application_name, pid FROM pg_stat_activity
        WHERE application_name LIKE 'motcua-%' AND datname = current_database()" |
        while IFS='|' read -r app pid; do
            echo "$app $pid $(cpu_ms "$pid")"
        done >"$1"
}

# kv_json - the recorded results as one nested JSON object, on stdout
kv_json() {
    awk -F '\t' '
        function isnum(v) { return v ~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/ }
        function esc(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, " ", s); return s }
        # emit(path, depth) - the object at path (root = "")
        function emit(path, depth,    i, n, c, pad, full, sep) {
            n = nkids[path]; pad = sprintf("%" (2 * depth + 2) "s", "")
            printf "{\n"
            for (i = 1; i <= n; i++) {
                c = kid[path, i]; full = path == "" ? c : path "." c
                sep = i < n ? "," : ""
                printf "%s\"%s\": ", pad, esc(c)
                if ((full in val) && val[full] ~ /^s:/) {
                    printf "\"%s\"%s\n", esc(substr(val[full], 3)), sep
                } else if (full in val) {
                    if (val[full] == "null" || val[full] == "true" || val[full] == "false" || isnum(val[full]))
                        printf "%s%s\n", val[full], sep
                    else
                        printf "\"%s\"%s\n", esc(val[full]), sep
                } else {
                    emit(full, depth + 1); printf "%s\n", sep
                }
            }
            printf "%s}", sprintf("%" (2 * depth) "s", "")
        }
        {
            val[$1] = $2; n = split($1, part, "."); path = ""
            for (i = 1; i <= n; i++) {
                full = path == "" ? part[i] : path "." part[i]
                if (!((path, part[i]) in seen)) { seen[path, part[i]] = 1; kid[path, ++nkids[path]] = part[i] }
                path = full
            }
        }
        END { emit("", 0); printf "\n" }' "$kv"
}
