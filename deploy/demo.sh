#!/bin/sh
# demo.sh - the main job, end to end, on a throwaway PostgreSQL:
#   a cluster in run/demo; CURVE keys for the hub and every agency; the four
#   daemons (intake, router, lienthong, notify); one simulated agency per
#   desk and partner (police, social insurance, land registry, tax, ...);
#   every sample dossier (valid and invalid) plus a burst of generated ones;
#   progress while they flow; supplements for those returned for more
#   documents; a withdrawal; satisfaction ratings through the links of the
#   result notices; the ward's report (table, SVG chart, JSON) and overdue
#   list; a summary from the store; a clean stop. Two sections measure
#   Nghị định 118/2025 in the store: online dossiers waiting for acceptance
#   ("chờ tiếp nhận") and accepted by their desk within 8 working hours,
#   counted per desk; and a desk restarted with --extend-days whose two
#   counter dossiers are warned, extended and apologised for (Mẫu 04) before
#   their due date (exit 1 if the apology is not before the old due date).
#   Beside them a fake national portal (tests/fakeportal) receives every
#   dossier event from motcua-portal, which is killed with SIGKILL once
#   mid-demo and restarted;
#   at the end the events it received are compared with the store's, per
#   kind, and the demo fails (exit 1) on a duplicate, a dossier's events out
#   of order, or an event missing once the outbox has drained.
# Usage: deploy/demo.sh BUILD_DIR   (make demo)
set -eu
build=${1:-build}
repo=$(pwd)
run="$repo/run/demo"
# below the kernel's ephemeral range (32768-60999): an outgoing connection or
# another program's any-port bind can never be holding these when we start
port=${MOTCUA_DEMO_PG_PORT:-25439}
base=${MOTCUA_DEMO_INTAKE_PORT:-25555}
# the fake national portal (tests/fakeportal), also below the ephemeral range
portal_port=${MOTCUA_DEMO_PORTAL_PORT:-$((base + 6))}
# motcua-gateway: the citizen's pages, the ward's dashboard and the REST API (docs/web.md)
web_port=${MOTCUA_DEMO_GATEWAY_PORT:-$((base + 7))}
bin="$build/bin"
pids=""
bad_restarts=0   # processes stopped mid-demo (a desk restarted) that did not exit 0

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# fail WHAT WHY - one of the demo's own checks failed: say so loudly, exit 1
fail() {
    printf '\n\033[1;31mDEMO FAILED (%s): %s\033[0m\n' "$1" "$2"
    exit 1
}

stop_all() {
    for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
    pids=""
}
cleanup() {
    stop_all
    sh tests/pgtmp.sh stop "$run/pg" >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM

sh tests/pgtmp.sh stop "$run/pg" >/dev/null 2>&1 || true
rm -rf "$run"
mkdir -p "$run/keys" "$run/spool" "$run/logs" "$run/files" "$run/agency-state"
say "Starting a throwaway PostgreSQL in $run/pg"
sh tests/pgtmp.sh start "$run/pg" "$port"
conninfo=$(sh tests/pgtmp.sh conninfo "$run/pg" "$port")
psql_q() { psql "$conninfo" -X -qAt -c "$1"; }

# The apology section: a dossier of apology_procedure (1.009469, 7 working
# days, desk VAN_HOA_XA_HOI) filed at the counter must be due within
# warn_days working days of its receipt, on any day and at any hour (after
# the cut-off its 7 days count from the next working day: 8 at most), and
# more than rules.apology_before_days (1) working day away, so that the
# desk's extension is granted with its apology.
apology_procedure="1.009469"
apology_desk="VAN_HOA_XA_HOI"
warn_days=10

# The shipped configuration, pointed at this cluster, with ports of its own
# and short polling intervals so the demo moves briskly.
awk -v conninfo="$conninfo" -v repo="$repo" -v run="$run" -v base="$base" -v warn_days="$warn_days" \
    -v web_port="$web_port" '
    /^[a-z]/ { section = $1 }
    section == "database:" && $1 == "conninfo:" { print "  conninfo: \"" conninfo "\""
        # each daemon logs in as its own role (docs/store.md, "Roles")
        print "  login: {intake: \"user=motcua-intake\", router: \"user=motcua-router\","
        print "          lienthong: \"user=motcua-lienthong\", notify: \"user=motcua-notify\","
        print "          portal: \"user=motcua-portal\"}"; next }
    section == "files:" && $1 == "agencies:" { print "  agencies: " run "/agencies.yaml"; next }
    section == "files:" && $1 == "clients:" { print "  clients: " run "/clients.yaml"; next }
    section == "files:" && $1 == "staff:" { print "  staff: " run "/staff.yaml"; next }
    section == "files:" && $1 ~ /^(procedures|calendar|routing|notifications):$/ {
        name = $2; if (name !~ /^\//) name = repo "/config/" name; print "  " $1 " " name; next }
    section == "intake:" && $1 == "endpoint:" { print "  endpoint: \"tcp://127.0.0.1:" base "\""; next }
    section == "intake:" && $1 == "events_endpoint:" { print "  events_endpoint: \"ipc://" run "/intake-events\""; next }
    section == "intake:" && $1 == "server_key_file:" { print "  server_key_file: " run "/keys/intake.key"; next }
    section == "client:" && $1 == "key_file:" { print "  key_file: " run "/keys/QUAY_KIM_LIEN.key"; next }
    section == "router:" && $1 == "events_endpoint:" { print "  events_endpoint: \"tcp://127.0.0.1:" base + 2 "\""; next }
    section == "router:" && $1 == "poll_ms:" { print "  poll_ms: 300"; next }
    section == "router:" && $1 == "deadline_scan_ms:" { print "  deadline_scan_ms: 2000"; next }
    section == "lienthong:" && $1 == "endpoint:" { print "  endpoint: \"tcp://127.0.0.1:" base + 3 "\""; next }
    section == "lienthong:" && $1 == "events_endpoint:" { print "  events_endpoint: \"tcp://127.0.0.1:" base + 4 "\""; next }
    section == "lienthong:" && $1 == "server_key_file:" { print "  server_key_file: " run "/keys/lienthong.key"; next }
    section == "lienthong:" && $1 == "poll_ms:" { print "  poll_ms: 300"; next }
    section == "lienthong:" && $1 == "ack_timeout_ms:" { print "  ack_timeout_ms: 3000"; next }
    section == "notify:" && $1 == "spool_dir:" { print "  spool_dir: " run "/spool"; next }
    section == "notify:" && $1 == "poll_ms:" { print "  poll_ms: 300"; next }
    # the result notices link to the rating page of the demo gateway
    section == "gateway:" && $1 == "listen:" { print "  listen: \"127.0.0.1:" web_port "\""; next }
    section == "gateway:" && $1 == "key_file:" { print "  key_file: " run "/keys/MOTCUA_GATEWAY.key"; next }
    section == "gateway:" && $1 == "public_client:" { print "  public_client: CONG_DVC"; next }
    section == "gateway:" && $1 == "openapi_file:" { print "  openapi_file: " repo "/docs/openapi.json"; next }
    section == "gateway:" && $1 == "web_dir:" { print "  web_dir: " repo "/web"; next }
    section == "notify:" && $1 == "rating_url:" { print "  rating_url: \"http://127.0.0.1:" web_port "/danh-gia\""; next }
    # a wide warning horizon, so that a 7-working-day dossier is "due soon" on
    # the day it is received and the apology section below sees a warning,
    # an extension and the apology within seconds (the shipped default is 2)
    section == "rules:" && $1 == "warn_before_days:" { print "  warn_before_days: " warn_days "   # demo: shipped default 2"; next }
    { print }
' config/motcua.yaml >"$run/motcua.yaml"
# motcua-portal pushes to the fake portal, with a bearer token as a real
# portal would want; a short lease so a killed pusher's pushes are retried soon
(umask 077 && printf 'demo-portal-token-%s\n' "$(date +%s)" >"$run/keys/portal-token")
cat >>"$run/motcua.yaml" <<YAML

portal:
  url: "http://127.0.0.1:$portal_port/api/v1/events"
  token_file: "$run/keys/portal-token"
  poll_ms: 200
  retry_initial_ms: 200
  retry_max_ms: 2000
  batch: 32
  send_lease_ms: 3000
YAML
cp config/agencies.yaml "$run/agencies.yaml"
export MOTCUA_CONFIG="$run/motcua.yaml"
motcua() { "$bin/motcua" -c "$run/motcua.yaml" "$@"; }

say "CURVE keys: the hub and every agency (motcua keygen)"
agencies=$(sed -n 's/.*{code: *\([A-Z_]*\),.*/\1/p' "$run/agencies.yaml")
motcua keygen lienthong --dir "$run/keys" >/dev/null
for a in $agencies; do motcua keygen "$a" --dir "$run/keys" >/dev/null; done

say "Admitting the ward offices and the portal to intake (keygen, clients.yaml)"
motcua keygen intake --dir "$run/keys" >/dev/null
for c in QUAY_KIM_LIEN QUAY_VAN_MIEU CONG_DVC; do motcua keygen "$c" --dir "$run/keys" >/dev/null; done
cat >"$run/clients.yaml" <<YAML
clients:
  - {code: QUAY_KIM_LIEN, name: "Quầy một cửa phường Kim Liên (và Văn Miếu, cho bản demo)",
     role: counter, wards: ["00229", "00220"], public_key_file: keys/QUAY_KIM_LIEN.pub}
  - {code: QUAY_VAN_MIEU, name: "Quầy một cửa phường Văn Miếu - Quốc Tử Giám", role: counter,
     wards: ["00220"], public_key_file: keys/QUAY_VAN_MIEU.pub}
  - {code: CONG_DVC, name: "Cổng dịch vụ công", role: portal, wards: ["00229", "00220"],
     public_key_file: keys/CONG_DVC.pub}
YAML
# the web door: motcua-gateway acts for the citizen pages as the portal client (delegation)
motcua keygen MOTCUA_GATEWAY --dir "$run/keys" >/dev/null
cat >>"$run/clients.yaml" <<YAML
  - {code: MOTCUA_GATEWAY, name: "Cổng web một cửa (motcua-gateway)", role: gateway,
     public_key_file: keys/MOTCUA_GATEWAY.pub}
YAML
cat "$run/clients.yaml"
# the ward dashboard's demo login (staff.yaml holds only its hash: motcua staff-passwd)
staff_user=canbo.kimlien
staff_pass=kimlien-demo
printf 'staff:\n  - {username: %s, ward: "00229", password_hash: "%s"}\n' "$staff_user" \
    "$(echo "$staff_pass" | "$bin/motcua" -c "$run/motcua.yaml" staff-passwd)" >"$run/staff.yaml"

say "motcua config check && motcua migrate; one login role per daemon"
motcua config check
motcua migrate
for d in intake router lienthong notify portal; do
    psql_q "CREATE ROLE \"motcua-$d\" LOGIN IN ROLE motcua_$d" >/dev/null
done
echo "hub + $(echo "$agencies" | wc -w) agencies: $(echo $agencies)"

# without PIDS - the running processes but those
without() {
    out=""
    for p in $pids; do
        case " $1 " in *" $p "*) ;; *) out="$out $p" ;; esac
    done
    echo "$out"
}

# started NAME - wait until run/logs/NAME.log says event=started
started() {
    name=$1
    i=0
    until grep -q "event=started" "$run/logs/$name.log" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -ge 100 ]; then echo "$name did not start:"; cat "$run/logs/$name.log"; exit 1; fi
        sleep 0.1
    done
}

# start NAME ARGS... - a background process whose log is run/logs/NAME.log
start() {
    name=$1
    shift
    "$@" 2>"$run/logs/$name.log" &
    pids="$pids $!"
    started "$name"
}

say "Starting the daemons (logs in $run/logs)"
for d in intake router lienthong notify; do
    start "$d" "$bin/motcua-$d" -c "$run/motcua.yaml"
    echo "motcua-$d: $(grep -m1 'event=started' "$run/logs/$d.log" | sed 's/.*event=started //')"
done
start gateway "$bin/motcua-gateway" -c "$run/motcua.yaml"
echo "motcua-gateway: $(grep -m1 'event=started' "$run/logs/gateway.log" | sed 's/.*event=started //')"

say "Cổng Dịch vụ công (giả lập): a fake national portal on 127.0.0.1:$portal_port, and motcua-portal pushing to it"
# tests/fakeportal checks each POST against docs/portal.md, records it in
# portal-events.jsonl and answers 200; its summary (stdout) comes at SIGTERM
"$build/tests/fakeportal" --port "$portal_port" --events "$run/portal-events.jsonl" \
    --token-file "$run/keys/portal-token" --expect "$run/portal-store-events.txt" \
    >"$run/portal-summary.txt" 2>"$run/logs/fakeportal.log" &
fake_pid=$!
pids="$pids $fake_pid"
started fakeportal
start portal "$bin/motcua-portal" -c "$run/motcua.yaml"
portal_pid=$!
echo "fakeportal: $(grep -m1 'event=started' "$run/logs/fakeportal.log" | sed 's/.*event=started //')"
echo "motcua-portal: $(grep -m1 'event=started' "$run/logs/portal.log" | sed 's/.*event=started //')"

say "Starting one simulated agency per desk and partner (motcua-agency)"
for a in $agencies; do
    case $a in
        VPDK_DAT_DAI) opts="--delay-ms 4000 --outcomes approved=100" ;;   # a slow land registry
        CONG_AN_XA|BHXH) opts="--delay-ms 40 --outcomes approved=95,rejected=5" ;;
        *) opts="--delay-ms 30 --outcomes approved=85,rejected=3,needs_documents=12" ;;
    esac
    # shellcheck disable=SC2086
    start "agency-$a" "$bin/motcua-agency" -c "$run/motcua.yaml" --agency "$a" \
        --key "$run/keys/$a.key" --server-key "$run/keys/lienthong.pub" --credit 20 \
        --state-dir "$run/agency-state/$a" $opts
    if [ "$a" = "$apology_desk" ]; then apology_desk_pid=$! apology_desk_opts=$opts; fi
    echo "  $a ($opts)"
done

land_code=""
for f in config/samples/*.yaml; do
    say "motcua submit $f"
    set +e
    motcua submit "$f" >"$run/out.txt" 2>&1
    status=$?
    set -e
    cat "$run/out.txt"
    echo "(exit $status)"
    code=$(sed -n 's/.*Mã hồ sơ: *\([0-9A-Za-z.]*-[0-9]\{6\}-[0-9]*\).*/\1/p' "$run/out.txt" | head -n 1)
    case $f in *giay-chung-nhan-qsdd*) land_code=$code ;; esac
done

if [ -n "$land_code" ]; then
    say "The applicant withdraws $land_code (the land registry is slow): motcua withdraw"
    motcua withdraw "$land_code" --id "demo-withdraw-0001" --reason "Người dân xin rút hồ sơ để bổ sung giấy tờ nguồn gốc đất" || true
fi

say "A burst of generated dossiers: motcua load --rate 100 --count 300"
motcua load --rate 100 --count 300 --clients 16

# the pusher dies with its pushes in flight: the store knows a push started,
# not how it ended; the restarted one resends under the same event_id
say "kill -9 motcua-portal in the middle of the flow, then start it again"
acked=$(psql_q "SELECT count(*) FROM portal_outbox WHERE state = 1")
backlog=$(psql_q "SELECT count(*) FROM portal_outbox WHERE state = 0")
kill -KILL "$portal_pid"
wait "$portal_pid" 2>/dev/null || true
pids=$(without "$portal_pid")
leased=$(psql_q "SELECT count(*) FROM portal_outbox WHERE state = 0 AND attempts > 0 AND next_attempt_at > now()")
echo "motcua-portal killed (SIGKILL): $acked events acknowledged by the portal, $backlog in the outbox, $leased of them leased to the dead pusher"
start portal-restarted "$bin/motcua-portal" -c "$run/motcua.yaml"
portal_pid=$!
echo "motcua-portal restarted: $(grep -m1 'event=started' "$run/logs/portal-restarted.log" | sed 's/.*event=started //')"

# progress - dossiers by state, until nothing is moving or the time is up
progress() {
    limit=$1
    t=0
    while [ "$t" -lt "$limit" ]; do
        line=$(psql_q "SELECT string_agg(s || '=' || n, ' ' ORDER BY s) FROM (
                 SELECT CASE state WHEN 1 THEN 'tiếp_nhận' WHEN 2 THEN 'đã_phân_công' WHEN 3 THEN 'đang_xử_lý'
                        WHEN 4 THEN 'chờ_bổ_sung' WHEN 5 THEN 'có_kết_quả' WHEN 7 THEN 'đã_rút'
                        WHEN 8 THEN 'từ_chối' WHEN 9 THEN 'chờ_tiếp_nhận' WHEN 10 THEN 'đã_trả_lại'
                        ELSE state::text END AS s, count(*) AS n
                 FROM dossier GROUP BY 1) x")
        sent=$(psql_q "SELECT count(*) FROM notification WHERE state = 1")
        echo "t=${t}s  $line  notifications_sent=$sent"
        moving=$(psql_q "SELECT count(*) FROM dossier WHERE state IN (1, 2, 3, 9)")
        pending=$(psql_q "SELECT count(*) FROM notification WHERE state = 0")
        [ "$moving" -eq 0 ] && [ "$pending" -eq 0 ] && return 0
        if [ "$t" -eq 2 ] && [ -n "${2:-}" ]; then
            # what an operator watches (docs/operations.md "Monitoring"): the
            # backlog per stage and per agency, by age, while it moves
            echo "--- motcua stats (t=${t}s) ---"
            motcua stats || echo "motcua stats failed (exit $?)"
            echo "---"
        fi
        sleep 2
        t=$((t + 2))
    done
    return 0
}

say "Dossiers flowing: intake → router → desks and agencies → notify"
progress 40 stats

waiting=$(psql_q "SELECT code FROM dossier WHERE state = 4 ORDER BY id")
if [ -n "$waiting" ]; then
    say "$(echo "$waiting" | wc -l) dossiers were returned for more documents: the applicants supplement them (motcua supplement)"
    n=0
    for code in $waiting; do
        n=$((n + 1))
        cat >"$run/files/supplement-$n.yaml" <<YAML
submission_id: "demo-supplement-$n"
dossier_code: "$code"
note: "Bổ sung giấy tờ theo phiếu yêu cầu"
documents:
  - {type: BO_SUNG, name: "Giấy tờ bổ sung theo yêu cầu", media_type: application/pdf, size: 52000, sha256: "$(printf '%064d' "$n")", uri: "https://dvc.example.vn/files/bo-sung-$n.pdf", form: copy, copies: 1}
YAML
        if [ $n -eq 1 ]; then
            echo "--- $run/files/supplement-1.yaml"; cat "$run/files/supplement-1.yaml"
            motcua supplement "$run/files/supplement-$n.yaml" || true
        else
            motcua supplement "$run/files/supplement-$n.yaml" >/dev/null || true
        fi
    done
    progress 40
fi

# The result_ready and refused notices carry the rating link
# <notify.rating_url>?ma=<code>&t=<token>; an applicant who follows it rates
# the service once. Here the tokens are read from those notices' spool files.
say "Applicants rate the service from the link in their notice: motcua rate"
n=0
levels="very_satisfied satisfied very_satisfied satisfied not_satisfied very_satisfied"
for f in $(grep -lE '^Kind: (result_ready|refused)$' "$run"/spool/*.txt 2>/dev/null | head -n 36); do
    code=$(sed -n 's/^Dossier: //p' "$f" | head -n 1)
    token=$(sed -n 's/.*[?&]t=\([0-9a-f-]\{36\}\).*/\1/p' "$f" | head -n 1)
    [ -n "$code" ] && [ -n "$token" ] || continue
    n=$((n + 1))
    level=$(echo $levels | cut -d' ' -f$(( (n - 1) % 6 + 1 )))
    case $((n % 5)) in
        0) comment="Cán bộ hướng dẫn tận tình, trả kết quả đúng hẹn" ;;
        3) comment="Thời gian chờ ở bộ phận một cửa còn lâu" ;;
        *) comment="" ;;
    esac
    if [ $n -eq 1 ]; then
        # the token is the applicant's secret: shown shortened
        echo "--- the link in $f: $(grep -m1 -o 'https\{0,1\}://[^ ]*[?&]t=[0-9a-f]\{8\}' "$f")…"
        motcua rate "$code" --token "$token" --level "$level" --comment "$comment" --id "demo-rate-$n" || true
        echo "--- the same command again (a retry: the same answer, still one rating)"
        motcua rate "$code" --token "$token" --level "$level" --comment "$comment" --id "demo-rate-$n" >/dev/null && echo "exit 0"
        echo "--- a second rating of the same dossier under another id"
        motcua rate "$code" --token "$token" --level satisfied --id "demo-rate-again-$n" || echo "(exit $?)"
    else
        motcua rate "$code" --token "$token" --level "$level" --comment "$comment" --id "demo-rate-$n" >/dev/null || true
    fi
done
echo "ratings sent: $n; recorded in the store: $(psql_q "SELECT count(*) FROM rating")" \
     "($(psql_q "SELECT string_agg(l || '=' || c, ', ' ORDER BY level) FROM (SELECT level, CASE level
          WHEN 1 THEN 'rất_hài_lòng' WHEN 2 THEN 'hài_lòng' ELSE 'không_hài_lòng' END AS l, count(*) AS c
          FROM rating GROUP BY level) x"))"

first=$(psql_q "SELECT code FROM dossier WHERE procedure_code = '2.000986' AND state = 5 ORDER BY id LIMIT 1")
if [ -n "$first" ]; then
    say "The timeline of a liên thông dossier: motcua status $first"
    motcua status "$first"
fi
if [ -n "$land_code" ]; then
    say "The withdrawn dossier: motcua status $land_code"
    motcua status "$land_code"
fi

# ---- Online acceptance (Nghị định 118/2025 Điều 17): measured from the store
say "Online dossiers: 'chờ tiếp nhận' first, then accepted by their desk within 8 working hours (Điều 17)"
echo "Every online dossier was stored as PENDING_ACCEPTANCE with the 'submitted' event and the"
echo "acknowledgement notice; its desk answered the acceptance case (step 0): accepted (due date"
echo "counted from acceptance), asked for more, or refused. Per desk, from dossier, dossier_event,"
echo "agency_case (step 0) and notification:"
psql "$conninfo" -X -q -P pager=off <<'SQL'
WITH o AS (
  SELECT d.id, d.state, d.accepted_at, d.accept_due_at, c.agency,
         EXISTS (SELECT 1 FROM dossier_event e WHERE e.dossier_id = d.id AND e.kind = 'submitted') AS ev,
         EXISTS (SELECT 1 FROM notification n WHERE n.dossier_id = d.id AND n.kind = 'submitted'
                    AND n.state = 1) AS ack,
         -- asked for more at acceptance: a request before any `accepted` event
         EXISTS (SELECT 1 FROM dossier_event e WHERE e.dossier_id = d.id AND e.kind = 'supplement_requested'
                    AND NOT EXISTS (SELECT 1 FROM dossier_event a WHERE a.dossier_id = d.id
                                       AND a.kind = 'accepted' AND a.id < e.id)) AS asked
    FROM dossier d LEFT JOIN agency_case c ON c.dossier_id = d.id AND c.step = 0
   WHERE d.channel = 2)
SELECT CASE WHEN grouping(agency) = 1 THEN 'tổng' ELSE coalesce(agency, '-') END AS bàn_tiếp_nhận,
       count(*) AS nộp_trực_tuyến,
       count(*) FILTER (WHERE ev) AS sự_kiện_submitted,
       count(*) FILTER (WHERE ack) AS đã_gửi_xác_nhận,
       count(*) FILTER (WHERE accepted_at IS NOT NULL) AS đã_tiếp_nhận,
       count(*) FILTER (WHERE accepted_at <= accept_due_at) AS trong_8_giờ,
       count(*) FILTER (WHERE asked) AS yêu_cầu_bổ_sung,
       count(*) FILTER (WHERE accepted_at IS NULL AND state = 8) AS từ_chối,
       count(*) FILTER (WHERE state = 9) AS còn_chờ,
       count(*) FILTER (WHERE accepted_at IS NULL AND state NOT IN (8, 9)) AS khác
  FROM o GROUP BY ROLLUP (agency) ORDER BY grouping(agency), agency;
SQL
online=$(psql_q "SELECT count(*) FROM dossier WHERE channel = 2")
no_event=$(psql_q "SELECT count(*) FROM dossier d WHERE channel = 2 AND NOT EXISTS (SELECT 1
    FROM dossier_event e WHERE e.dossier_id = d.id AND e.kind = 'submitted')")
late_accept=$(psql_q "SELECT count(*) FROM dossier WHERE channel = 2 AND accepted_at > accept_due_at")
early_clock=$(psql_q "SELECT count(*) FROM dossier WHERE channel = 2 AND counted_from < accepted_at")
echo "checks: $online online dossiers; without a 'submitted' event: $no_event; accepted after their"
echo "8 working hours: $late_accept; processing time counted from before acceptance: $early_clock"
[ "$online" -gt 0 ] || fail "tiếp nhận trực tuyến" "no online dossier in the store"
[ "$no_event" -eq 0 ] || fail "tiếp nhận trực tuyến" "$no_event online dossiers have no 'submitted' event"
[ "$late_accept" -eq 0 ] || fail "tiếp nhận trực tuyến" "$late_accept online dossiers accepted after accept_due_at"
[ "$early_clock" -eq 0 ] || fail "tiếp nhận trực tuyến" "$early_clock online dossiers counted from before acceptance"
# one dossier the desk first asked for more, else any accepted one, with a
# single step so its timeline stays short (the liên thông one is above)
accepted_code=$(psql_q "SELECT code FROM dossier d WHERE channel = 2 AND accepted_at IS NOT NULL
      AND state = 5 AND procedure_code <> '2.000986'
    ORDER BY EXISTS (SELECT 1 FROM dossier_event e WHERE e.dossier_id = d.id
                        AND e.kind = 'supplement_requested') DESC, id LIMIT 1")
if [ -n "$accepted_code" ]; then
    say "An online dossier from submission to acceptance: motcua status $accepted_code"
    psql "$conninfo" -X -q -P pager=off -v code="$accepted_code" <<'SQL'
SELECT to_char(received_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'HH24:MI:SS DD/MM/YYYY') AS nộp_chờ_tiếp_nhận,
       to_char(accept_due_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'HH24:MI:SS DD/MM/YYYY') AS hạn_tiếp_nhận_8_giờ,
       to_char(accepted_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'HH24:MI:SS DD/MM/YYYY') AS tiếp_nhận,
       to_char(counted_from AT TIME ZONE 'Asia/Ho_Chi_Minh', 'HH24:MI:SS DD/MM/YYYY') AS tính_hạn_từ,
       to_char(due_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'HH24:MI DD/MM/YYYY') AS hẹn_trả_kết_quả
  FROM dossier WHERE code = :'code';
SQL
    ack=$(grep -l "^Dossier: $accepted_code\$" "$run"/spool/*.txt 2>/dev/null |
          xargs -r grep -l '^Kind: submitted$' | head -n 1)
    [ -z "$ack" ] || echo "the acknowledgement it received ($ack): $(sed -n 's/^Subject: //p' "$ack")"
    motcua status "$accepted_code"
fi

# ---- Warning, extension and apology before the due date (Điều 19 khoản 6)
say "An apology before the due date: warning, the desk's extension, Mẫu 04 (Điều 19 khoản 6)"
echo "rules (this demo's $run/motcua.yaml): warn_before_days: $warn_days (shipped: 2), apology_before_days: 1."
echo "$apology_desk is restarted with --extend-days 3: it proposes an extension on every warning"
echo "(and holds each case until its proposal is answered); two dossiers of $apology_procedure"
echo "(7 working days) are filed at the counter, so they are due within $warn_days working days."
# restart_desk LOG OPTIONS... - stop the apology desk's agency (SIGTERM) and
# start it again on the same journal with OPTIONS, logging to run/logs/LOG.log
restart_desk() {
    log=$1
    shift
    kill -TERM "$apology_desk_pid" 2>/dev/null || true
    wait "$apology_desk_pid" || bad_restarts=$((bad_restarts + 1))
    pids=$(without "$apology_desk_pid")
    start "$log" "$bin/motcua-agency" -c "$run/motcua.yaml" --agency "$apology_desk" \
        --key "$run/keys/$apology_desk.key" --server-key "$run/keys/lienthong.pub" --credit 20 \
        --state-dir "$run/agency-state/$apology_desk" "$@"
    apology_desk_pid=$!
}
restart_desk "agency-$apology_desk-extend" --delay-ms 30 --outcomes approved=100 --extend-days 3
echo "$apology_desk restarted: $(grep -m1 'event=started' "$run/logs/agency-$apology_desk-extend.log" | sed 's/.*event=started //')"
apology_codes=""
for n in 1 2; do
    # the online sample, filed at the counter: an online one would first
    # wait for acceptance by this very desk, which holds it (no warning)
    awk -v n="$n" '
        /^submission_id:/ { print "submission_id: \"demo-apology-" n "\""; print "received_by: \"Nguyễn Thị Lan\""; next }
        /^  channel:/ { print "  channel: direct"; next }
        /^  delivery:/ { print "  delivery: \"Nhận tại Bộ phận Một cửa\""; next }
        { print }' config/samples/noi-quy-lao-dong.yaml >"$run/files/apology-$n.yaml"
    motcua submit "$run/files/apology-$n.yaml" >"$run/out.txt" 2>&1 ||
        { cat "$run/out.txt"; fail "xin lỗi trước hạn" "motcua submit $run/files/apology-$n.yaml failed"; }
    code=$(sed -n 's/.*Mã hồ sơ: *\([0-9A-Za-z.]*-[0-9]\{6\}-[0-9]*\).*/\1/p' "$run/out.txt" | head -n 1)
    [ -n "$code" ] || { cat "$run/out.txt"; fail "xin lỗi trước hạn" "no dossier code in the receipt"; }
    echo "motcua submit $run/files/apology-$n.yaml: $code, $(grep -m1 'Thời gian trả kết quả' "$run/out.txt" | sed 's/^ *[0-9]*\. *//')"
    apology_codes="$apology_codes${apology_codes:+,}'$code'"
done
# bounded wait: the router's deadline scan (2 s here) warns them, the hub
# sends DueSoon, the desk proposes, the hub grants it and notify sends Mẫu 04
t=0
done_n=0
while [ "$t" -lt 60 ]; do
    done_n=$(psql_q "SELECT count(*) FROM dossier d WHERE code IN ($apology_codes) AND apology_at IS NOT NULL
        AND EXISTS (SELECT 1 FROM notification n WHERE n.dossier_id = d.id AND n.kind = 'apology' AND n.state = 1)")
    [ "$done_n" -ge 2 ] && break
    # one is enough after 10 s: the other may have been warned in the moment
    # between its receipt and its routing, when it had no case to flag
    [ "$done_n" -ge 1 ] && [ "$t" -ge 20 ] && break
    sleep 0.5
    t=$((t + 1))
done
echo "after $((t / 2)).$((t % 2 * 5))s: $done_n of 2 extended with their apology sent"
psql "$conninfo" -X -q -P pager=off <<SQL
SELECT d.code AS mã_hồ_sơ, to_char(e.at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'HH24:MI:SS.MS') AS lúc,
       e.actor AS bởi, e.kind AS sự_kiện, e.detail AS nội_dung
  FROM dossier_event e JOIN dossier d ON d.id = e.dossier_id
 WHERE d.code IN ($apology_codes) AND e.kind IN ('due_soon', 'extended', 'apology', 'extension_refused')
 ORDER BY e.id;
SQL
apology_code=$(psql_q "SELECT code FROM dossier d WHERE code IN ($apology_codes) AND apology_at IS NOT NULL
    AND EXISTS (SELECT 1 FROM notification n WHERE n.dossier_id = d.id AND n.kind = 'apology' AND n.state = 1)
    ORDER BY id LIMIT 1")
if [ -z "$apology_code" ]; then
    grep -h "due_soon\|extension" "$run/logs/agency-$apology_desk-extend.log" "$run/logs/lienthong.log" | tail -n 20
    fail "xin lỗi trước hạn" "no dossier of $apology_procedure was extended with an apology within 30 s"
fi
# old due date = the one the warning was raised for (warned_due); the checks
# are the rule's: issued before the old date, on an earlier day, sent, later new date
row=$(psql_q "SELECT extract(epoch FROM d.warned_due)::bigint, extract(epoch FROM d.due_at)::bigint,
        extract(epoch FROM d.apology_at)::bigint, extract(epoch FROM n.sent_at)::bigint,
        ((d.apology_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date < (d.warned_due AT TIME ZONE 'Asia/Ho_Chi_Minh')::date)
      FROM dossier d JOIN notification n ON n.dossier_id = d.id AND n.kind = 'apology'
     WHERE d.code = '$apology_code'")
old_due=$(echo "$row" | cut -d'|' -f1)
new_due=$(echo "$row" | cut -d'|' -f2)
apology_at=$(echo "$row" | cut -d'|' -f3)
sent_at=$(echo "$row" | cut -d'|' -f4)
earlier_day=$(echo "$row" | cut -d'|' -f5)
psql "$conninfo" -X -q -P pager=off -v code="$apology_code" <<'SQL'
SELECT d.code AS mã_hồ_sơ,
       to_char(d.warned_due AT TIME ZONE 'Asia/Ho_Chi_Minh', 'HH24:MI DD/MM/YYYY') AS hẹn_cũ,
       to_char(d.due_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'HH24:MI DD/MM/YYYY') AS hẹn_mới,
       to_char(d.apology_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'HH24:MI:SS DD/MM/YYYY') AS xin_lỗi_lúc,
       to_char(n.sent_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'HH24:MI:SS DD/MM/YYYY') AS thông_báo_gửi_lúc,
       d.extension_reason AS lý_do
  FROM dossier d JOIN notification n ON n.dossier_id = d.id AND n.kind = 'apology'
 WHERE d.code = :'code';
SQL
if [ -z "$old_due" ] || [ -z "$apology_at" ] || [ -z "$sent_at" ]; then
    fail "xin lỗi trước hạn" "$apology_code: no old due date, apology time or sent notice in the store"
fi
[ "$apology_at" -lt "$old_due" ] ||
    fail "xin lỗi trước hạn" "$apology_code: apology issued at $apology_at, not before the old due date $old_due"
[ "$sent_at" -lt "$old_due" ] ||
    fail "xin lỗi trước hạn" "$apology_code: apology notice sent at $sent_at, not before the old due date $old_due"
[ "$earlier_day" = "t" ] ||
    fail "xin lỗi trước hạn" "$apology_code: apology issued on the day of the old due date, not a day before"
[ "$new_due" -gt "$old_due" ] ||
    fail "xin lỗi trước hạn" "$apology_code: the new due date is not after the old one"
echo "checks: the apology was issued and sent $(( (old_due - apology_at) / 3600 )) hours before the old due date," \
     "on an earlier day (lienthong granted it only at least apology_before_days working day ahead" \
     "by calendar.yaml); the new date is later; the dossier was extended once"
say "The letter: motcua form apology $apology_code"
motcua form apology "$apology_code"
# the desk goes back to its usual run: nothing it holds waits for a warning
# that may not come (a dossier warned before its case was created is not
# warned twice for one due date)
# shellcheck disable=SC2086
restart_desk "agency-$apology_desk-again" $apology_desk_opts
echo "$apology_desk back to its usual run ($apology_desk_opts)"
t=0
while [ "$t" -lt 40 ] && [ "$(psql_q "SELECT count(*) FROM dossier WHERE code IN ($apology_codes) AND state IN (1, 2, 3)")" -gt 0 ]; do
    sleep 0.5
    t=$((t + 1))
done
say "The extended dossier's timeline: motcua status $apology_code"
motcua status "$apology_code"

today=$(TZ=Asia/Ho_Chi_Minh date +%F)
say "The ward's report for today: motcua report --from $today --to $today --ward 00229"
motcua report --from "$today" --to "$today" --ward 00229
motcua report --from "$today" --to "$today" --ward 00229 --format svg >"$run/report.svg"
motcua report --from "$today" --to "$today" --format json >"$run/report.json"
if command -v rsvg-convert >/dev/null 2>&1 && rsvg-convert -b white -o "$run/report.png" "$run/report.svg"; then
    echo "chart: $run/report.svg (and report.png); every ward as JSON: $run/report.json"
else
    echo "chart: $run/report.svg; every ward as JSON: $run/report.json"
fi
say "Overdue or due within 3 working days: motcua overdue --ward 00229 --days-left 3 --limit 10"
motcua overdue --ward 00229 --days-left 3 --limit 10

say "Summary from the store"
psql "$conninfo" -X -q -P pager=off <<'SQL'
\echo 'Received by channel (tiếp nhận theo kênh)'
SELECT CASE channel WHEN 1 THEN 'trực tiếp' WHEN 2 THEN 'trực tuyến' ELSE 'bưu chính' END AS kênh,
       count(*) AS hồ_sơ,
       count(*) FILTER (WHERE state = 5) AS có_kết_quả,
       count(*) FILTER (WHERE state = 8) AS từ_chối,
       count(*) FILTER (WHERE state = 7) AS đã_rút
  FROM dossier GROUP BY channel ORDER BY channel;
\echo 'Waiting, by stage (đang chờ ở đâu)'
SELECT CASE d.state WHEN 1 THEN 'chờ phân công' WHEN 2 THEN 'đã phân công' WHEN 3 THEN 'đang xử lý'
                    WHEN 4 THEN 'chờ bổ sung' END AS giai_đoạn,
       coalesce(c.agency, '-') AS tại, count(*) AS hồ_sơ
  FROM dossier d
  LEFT JOIN agency_case c ON c.dossier_id = d.id AND c.state IN (1, 2, 3, 7)
 WHERE d.state IN (1, 2, 3, 4)
 GROUP BY 1, 2 ORDER BY 1, 2;
\echo 'Steps handled, by desk or agency (bước xử lý)'
SELECT agency AS cơ_quan,
       count(*) FILTER (WHERE state = 4) AS xong,
       count(*) FILTER (WHERE state IN (1, 2, 3)) AS đang_chờ,
       count(*) FILTER (WHERE state = 6) AS hủy,
       count(*) FILTER (WHERE state = 5) AS thư_chết
  FROM agency_case GROUP BY agency ORDER BY agency;
\echo 'Notifications (thông báo)'
SELECT kind AS loại, count(*) FILTER (WHERE state = 1) AS đã_gửi,
       count(*) FILTER (WHERE state = 0) AS chờ_gửi, count(*) FILTER (WHERE state = 2) AS lỗi
  FROM notification GROUP BY kind ORDER BY kind;
\echo 'Idempotency: submission ids used more than once (must be empty)'
SELECT ward_code, submission_id, count(*) FROM dossier GROUP BY 1, 2 HAVING count(*) > 1;
SQL
echo "spool files (one per notification sent): $(ls "$run/spool" | wc -l)"
sample=$(ls "$run/spool" | head -n 1)
if [ -n "$sample" ]; then
    say "One notification as the applicant receives it ($run/spool/$sample)"
    cat "$run/spool/$sample"
fi

say "Cổng web (motcua-gateway): the citizen's pages and the ward's dashboard"
web="http://127.0.0.1:$web_port"
web_code=$(psql_q "SELECT d.code FROM dossier d WHERE d.state = 5 AND d.ward_code = '00229'
    AND NOT EXISTS (SELECT 1 FROM rating r WHERE r.dossier_id = d.id) ORDER BY d.id LIMIT 1")
web_token=$(psql_q "SELECT rating_token FROM dossier WHERE code = '$web_code'")
# the pages answer, and the dashboard's report is motcua report's (but for generated_at)
jar="$run/web-cookies.txt"
csrf=$(curl -s -c "$jar" "$web/v1/public/csrf" | sed -n 's/.*"token":"\([0-9a-f]*\)".*/\1/p')
web_state=$(curl -s -X POST -H 'Content-Type: application/json' \
    -d "{\"dossierCode\":\"$web_code\"}" "$web/v1/public/lookup" | sed -n 's/.*"state":"\([A-Z_]*\)".*/\1/p')
curl -s -b "$jar" -c "$jar" -H "X-CSRF-Token: $csrf" --data-urlencode "username=$staff_user" \
    --data-urlencode "password=$staff_pass" "$web/v1/staff/login" >/dev/null
curl -s -b "$jar" "$web/v1/staff/report?from=$today&to=$today" | sed 's/"generated_at":"[^"]*"//' >"$run/web-report.json"
motcua report --from "$today" --to "$today" --ward 00229 --format json | sed 's/"generated_at":"[^"]*"//' >"$run/cli-report.json"
for page in / /tra-cuu /danh-gia /phuong /static/motcua.css; do
    printf '%-20s HTTP %s\n' "GET $page" "$(curl -s -o /dev/null -w '%{http_code}' "$web$page")"
done
echo "lookup of $web_code without its secret: state $web_state (no history, nothing personal)"
if [ -s "$run/web-report.json" ] && cmp -s "$run/web-report.json" "$run/cli-report.json"; then
    echo "dashboard report (/v1/staff/report) = motcua report --format json, for 00229 today"
else
    fail "web dashboard" "/v1/staff/report differs from motcua report --format json ($run/web-report.json)"
fi
[ "$web_state" = "DOSSIER_STATE_RESULT_READY" ] || fail "web lookup" "the lookup page's backend answered '$web_state' for $web_code"
echo "Open in a browser (a phone-sized window works):"
echo "  tra cứu hồ sơ:   $web/tra-cuu?ma=$web_code   (mã bí mật: $web_token)"
echo "  đánh giá:        $web/danh-gia?ma=$web_code&t=$web_token"
echo "  trang của phường: $web/phuong   (đăng nhập: $staff_user / $staff_pass)"
if [ "${MOTCUA_DEMO_WAIT:-0}" = 1 ]; then
    printf 'MOTCUA_DEMO_WAIT=1: everything keeps running; press Enter to stop the demo. '
    read -r _ || true
fi

say "Stopping everything with SIGTERM (motcua-portal and the fake portal last)"
bad=$bad_restarts
others=$(without "$portal_pid $fake_pid")
for p in $others; do
    kill -TERM "$p" 2>/dev/null || true
done
for p in $others; do
    wait "$p" || bad=$((bad + 1))
done
pids="$portal_pid $fake_pid"

say "Cổng Dịch vụ công (giả lập): every dossier event, as the portal received it"
# no event is added any more: wait (bounded) until the outbox has pushed all
t=0
pending=$(psql_q "SELECT count(*) FROM portal_outbox WHERE state = 0")
while [ "$pending" -gt 0 ] && [ "$t" -lt 60 ]; do
    sleep 1
    t=$((t + 1))
    pending=$(psql_q "SELECT count(*) FROM portal_outbox WHERE state = 0")
done
echo "outbox drained in ${t}s: $pending events still pending"
kill -TERM "$portal_pid" 2>/dev/null || true
wait "$portal_pid" || bad=$((bad + 1))
# the store's side: every dossier_event with the event_id its outbox row gave
# it ("-" when it has none); the fake portal reads it when it stops
psql "$conninfo" -X -qAt -c "COPY (SELECT coalesce(o.event_id, '-') || ' ' || e.kind
    FROM dossier_event e LEFT JOIN portal_outbox o ON o.dossier_event_id = e.id ORDER BY e.id) TO STDOUT" \
    >"$run/portal-store-events.txt"
fake_status=0
kill -TERM "$fake_pid" 2>/dev/null || true
wait "$fake_pid" || fake_status=$?
pids=""
summary="$run/portal-summary.txt"
field() { sed -n "s/^fakeportal:.*[ :]$1=\([0-9]*\).*/\1/p" "$summary" | head -n 1; }
echo "Sự kiện hồ sơ theo loại: trong kho (dossier_event) và cổng giả lập đã nhận"
printf '%-24s %10s %10s\n' kind store portal
sed -n 's/^fakeportal: kind=\([a-z_0-9]*\) received=\([0-9]*\) store=\([0-9]*\)$/\1 \3 \2/p' "$summary" |
    sort | while read -r kind store got; do printf '%-24s %10s %10s\n' "$kind" "$store" "$got"; done
printf '%-24s %10s %10s\n' total "$(field store_events)" "$(field events)"
echo "$(field events) events of $(field dossiers) dossiers received; requests $(field requests)," \
     "resent after the crash of the pusher $(field resent) (same event_id and bytes, kept once)"
echo "$(field duplicates) duplicates, $(field out_of_order) out of order per dossier, $(field holes) holes," \
     "$(field missing) missing, $(field extra) extra, $(field rejected) rejected requests"
echo "motcua-portal was killed with SIGKILL once and restarted (see above); events in $run/portal-events.jsonl"
failed=""
[ "$fake_status" -eq 0 ] || failed="the fake portal found problems (exit $fake_status): $(tail -n 1 "$summary")"
[ "$pending" -eq 0 ] || failed="$failed; $pending events never left the outbox"
[ "$(field events)" = "$(psql_q "SELECT count(*) FROM dossier_event")" ] || failed="$failed; events received != dossier_event rows"
if [ -z "$failed" ]; then
    echo "0 duplicates, in order per dossier, none missing: measured by the fake portal against the store"
fi

echo "processes that did not exit 0: $bad"
# without the time at the front of each line (mc_log.h), equal lines count together
grep -h "event=stopped" "$run"/logs/*.log | sed 's/^\(<[0-9]>\)[0-9T:.-]*Z /\1/' | sort | uniq -c
if [ -n "$failed" ]; then
    grep -v ' kind=' "$summary" || true
    printf '\n\033[1;31mDEMO FAILED (Cổng Dịch vụ công giả lập): %s\033[0m\n' "${failed#; }"
    exit 1
fi
say "Demo finished. Logs, keys, spool and config are in $run"
