#!/bin/sh
# systemd_units.sh - the units in deploy/systemd, checked against the
# installed layout without installing anything (run by test_systemd_units).
#
# Contract: builds a throwaway root with the layout the units expect
# (/usr/bin/motcua-* as stub executables, the units in /etc/systemd/system,
# the host's own system units so targets resolve, the motcua user made by
# motcua.sysusers.conf) and checks, one test each:
#   - every service scores <= MAX_EXPOSURE in
#     `systemd-analyze security --offline=yes` (the score of each unit is
#     printed; docs/security.md records them);
#   - `systemd-analyze verify` prints nothing and succeeds for all units;
#   - both checks can fail: a bare unit scores above the limit and a unit
#     whose binary is missing fails verify (so a broken parser cannot pass);
#   - motcua.sysusers.conf and motcua.tmpfiles.conf apply (tmpfiles only as
#     root: it chowns).
# Prints "ok - name" / "not ok - name" and, last,
# "test_systemd_units: N passed, N failed" like every test program. Without
# systemd-analyze on the machine it says so and counts one skip as passed:
# deploy/install-deps.sh installs systemd, so CI never takes that path.
# Usage: sh tests/unit/systemd_units.sh [UNITS_DIR]   (from the worktree root)
set -u
units_dir=$(cd "${1:-deploy/systemd}" && pwd) || exit 1   # absolute: --root= would read a relative one inside the root
MAX_EXPOSURE=2.0
passed=0
failed=0

ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; failed=$((failed + 1)); }
finish() {
    echo "test_systemd_units: $passed passed, $failed failed"
    [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
    exit $?
}

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "skip - systemd-analyze not found: install the systemd package (deploy/install-deps.sh does); units not checked"
    passed=1
    finish
fi
echo "# $(systemd-analyze --version | head -n 1)"

root=$(mktemp -d "${TMPDIR:-/tmp}/motcua-units.XXXXXX") || exit 1
trap 'rm -rf "$root"' EXIT INT TERM
mkdir -p "$root/etc/systemd/system" "$root/usr/bin" "$root/usr/lib/systemd/system" \
         "$root/etc/motcua/keys"
# the host's system units: sysinit.target, network-online.target, ... (merged /usr or not)
for d in /usr/lib/systemd/system /lib/systemd/system; do
    [ -d "$d" ] && cp -R "$d/." "$root/usr/lib/systemd/system/" && break
done

# stub - an executable at PATH inside the root, like the installed binary
stub() {
    mkdir -p "$root$(dirname "$1")"
    printf '#!/bin/sh\nexit 0\n' >"$root$1"
    chmod 755 "$root$1"
}

services=""
for f in "$units_dir"/*.service "$units_dir"/*.target "$units_dir"/*.timer; do
    [ -f "$f" ] || continue
    cp "$f" "$root/etc/systemd/system/"
    case "$f" in *.service) services="$services $(basename "$f")" ;; esac
    # every Exec*= binary, without its prefixes (-@:+!)
    for bin in $(sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\([^ ]*\).*/\1/p' "$f"); do
        stub "$bin"
    done
done
units=$(cd "$root/etc/systemd/system" && ls)
[ -n "$services" ] && ok "units found:$services" || not_ok "no .service in $units_dir"

# score UNIT - the overall exposure systemd-analyze gives UNIT in the root
score() {
    systemd-analyze security --offline=yes --root="$root" "$1" 2>&1 |
        sed -n 's/^.*Overall exposure level for [^:]*: \([0-9.]*\).*$/\1/p'
}
# at_most A B - A <= B as decimals
at_most() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }

for u in $services; do
    s=$(score "$u")
    if [ -n "$s" ] && at_most "$s" "$MAX_EXPOSURE"; then
        ok "security $u: exposure $s <= $MAX_EXPOSURE"
    else
        not_ok "security $u: exposure '${s}' > $MAX_EXPOSURE"
        systemd-analyze security --offline=yes --root="$root" "$u" 2>&1 | grep '✗' | sed 's/^/    /'
    fi
done

# shellcheck disable=SC2086
out=$(systemd-analyze verify --root="$root" --recursive-errors=no $units 2>&1)
rc=$?
if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
    ok "verify: $(echo $units) clean"
else
    not_ok "verify: exit $rc"
    echo "$out" | sed 's/^/    /'
fi

# the controls: a unit with no sandbox, a unit whose binary is not installed
printf '[Service]\nExecStart=/usr/bin/motcua-control\n' >"$root/etc/systemd/system/control-bare.service"
stub /usr/bin/motcua-control
s=$(score control-bare.service)
if [ -n "$s" ] && ! at_most "$s" "$MAX_EXPOSURE"; then
    ok "control: a bare unit scores $s > $MAX_EXPOSURE"
else
    not_ok "control: a bare unit scores '${s}', expected > $MAX_EXPOSURE"
fi
printf '[Service]\nExecStart=/usr/bin/motcua-absent\n' >"$root/etc/systemd/system/control-absent.service"
if out=$(systemd-analyze verify --root="$root" --recursive-errors=no control-absent.service 2>&1) ||
   [ -z "$out" ]; then
    not_ok "control: verify accepted a unit whose binary is missing"
else
    ok "control: verify refuses a unit whose binary is missing"
fi

# the motcua user and the spool directory, made the way an install makes them
if out=$(systemd-sysusers --root="$root" "$units_dir/motcua.sysusers.conf" 2>&1) &&
   grep -q '^motcua:' "$root/etc/passwd"; then
    ok "sysusers: user motcua created"
else
    not_ok "sysusers: $out"
fi
uid=$(sed -n 's/^motcua:[^:]*:\([0-9]*\):.*/\1/p' "$root/etc/passwd" 2>/dev/null)
if [ "$(id -u)" -ne 0 ]; then
    echo "# tmpfiles: not checked (it chowns; run as root to check it)"
elif out=$(systemd-tmpfiles --root="$root" --create "$units_dir/motcua.tmpfiles.conf" 2>&1) &&
     [ "$(stat -c '%a %u' "$root/var/spool/motcua" 2>/dev/null)" = "750 $uid" ]; then
    ok "tmpfiles: /var/spool/motcua 0750 motcua"
else
    not_ok "tmpfiles: $out $(stat -c '%a %u' "$root/var/spool/motcua" 2>&1), motcua is $uid"
fi
finish
