# tap.sh - the counting every shell test shares (sourced, from the worktree
# root, after setting TEST_NAME): ok/not_ok print "ok - what" / "not ok -
# what" and count; finish prints "$TEST_NAME: N passed, N failed" like every
# test program (tests/run.sh reads that line) and exits 0 only when
# something passed and nothing failed.
passed=0
failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; failed=$((failed + 1)); }
finish() {
    echo "$TEST_NAME: $passed passed, $failed failed"
    [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
    exit $?
}
