#!/bin/sh
# run.sh - run every test program and add up their results.
# Usage: tests/run.sh BUILD_DIR
# Each program prints "<name>: N passed, N failed"; this prints the total
# last, as "N passed, N failed", and exits non-zero if anything failed,
# crashed, or if no test ran at all.
set -u
build=${1:-build}
total_pass=0
total_fail=0
crashed=""
ran=0
log_dir="$build/test-logs"
mkdir -p "$log_dir"
for t in "$build"/tests/test_* "$build"/tests/it_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    ran=$((ran + 1))
    start=$(date +%s)
    MOTCUA_BUILD="$build" "$t" >"$log_dir/$name.log" 2>&1
    status=$?
    end=$(date +%s)
    line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed$" "$log_dir/$name.log" | tail -n 1)
    if [ -z "$line" ]; then
        crashed="$crashed $name"
        total_fail=$((total_fail + 1))
        echo "CRASH $name (exit $status, no summary) - last lines of $log_dir/$name.log:"
        tail -n 30 "$log_dir/$name.log" | sed 's/^/    /'
        continue
    fi
    p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed/\1/')
    f=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed/\2/')
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    if [ "$f" -gt 0 ] || [ "$status" -ne 0 ]; then
        echo "FAIL $line ($((end - start))s)"
        grep -E "^(not ok|  FAIL)" "$log_dir/$name.log" | sed 's/^/    /'
        [ "$f" -gt 0 ] || total_fail=$((total_fail + 1))
    else
        echo "ok   $line ($((end - start))s)"
    fi
done
echo "$total_pass passed, $total_fail failed"
[ "$ran" -gt 0 ] && [ "$total_pass" -gt 0 ] && [ "$total_fail" -eq 0 ]
