#!/bin/bash
# ha.sh - make ha: the reference deployment of docs/ha.md on one machine,
# under faults and continuous load; nothing lost.
#
# Hosts are network namespaces (mcha-<host>) joined by tests/ha/netlab.c (a
# userspace IP switch: this kernel has no netem nor NFQUEUE), addresses in
# 10.77.0.0/24 only inside them:
#   db1 db2 db3  etcd (v2 API on) + Patroni + PostgreSQL 15, synchronous mode
#   app1 app2    motcua-intake, -router, -lienthong, -notify on each
#   cl1          motcua-load (open loop, --trace) and one motcua-agency per agency
# Scenarios, each under load: switchover, kill -9 of the primary's host,
# partition of the primary's host, kill -9 of app1's daemons, latency + loss.
# After each: drain (bounded), then lost / duplicated / stuck against the
# store, and the write outage (longest gap between two receipts). A table at
# the end; exit 1 on any violation. Run as root (namespaces, TUN).
# Usage: tests/ha/ha.sh BUILD_DIR   (make ha). Environment: HA_RATE (load,
# default 40/s), HA_LINK_DELAY_MS / HA_LINK_LOSS (scenario e, per link:
# default 10 ms and 1 %, so 20 ms one way and about 2 % between two hosts),
# HA_LATENCY_S (how long scenario e lasts, default 15), HA_SYNC_STRICT
# (Patroni's synchronous_mode_strict, default false: docs/ha.md says why).
set -euo pipefail
build=${1:-build}
repo=$(pwd)
bin="$repo/$build/bin"
netlab_bin="$repo/$build/tests/ha-netlab"
run="$repo/run/ha"
etc="$run/etc"
P=mcha                       # namespace and TUN name prefix
NET=10.77.0
rate=${HA_RATE:-40}
link_delay=${HA_LINK_DELAY_MS:-10}
link_loss=${HA_LINK_LOSS:-1}
latency_s=${HA_LATENCY_S:-15}
sync_strict=${HA_SYNC_STRICT:-false}
pgbin=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
declare -A IP=([db1]=$NET.11 [db2]=$NET.12 [db3]=$NET.13 [app1]=$NET.21 [app2]=$NET.22 [cl1]=$NET.31)
HOSTS="db1 db2 db3 app1 app2 cl1"
DBS="db1 db2 db3"
AGENCIES=$(sed -n 's/.*{code: *\([A-Z_]*\),.*/\1/p' config/agencies.yaml)
t_start=$(date +%s)
failures=0
declare -a table=()

say() { printf '\n\033[1m== [%4ss] %s\033[0m\n' "$(($(date +%s) - t_start))" "$*"; }
die() { printf '\n\033[1;31mHA FAILED: %s\033[0m\n' "$*"; exit 1; }
# ns HOST CMD... - run CMD on HOST (in the background, `ip netns exec` itself:
# it execs CMD, so $! is CMD's pid)
ns() { local h=$1; shift; ip netns exec "$P-$h" "$@"; }

# cleanup - every namespace of ours with every process in it, the switch;
# idempotent: also what clears a crashed run's leftovers at start
cleanup() {
    local h pids
    for h in $HOSTS; do
        if ip netns list 2>/dev/null | grep -qw "^$P-$h"; then
            pids=$(ip netns pids "$P-$h" 2>/dev/null || true)
            [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
            ip netns del "$P-$h" 2>/dev/null || true
        fi
    done
    if [ -f "$run/netlab.pid" ]; then
        local p
        p=$(cat "$run/netlab.pid")
        # only our switch: a recycled pid may be anything
        if [ -r "/proc/$p/cmdline" ] && tr '\0' ' ' <"/proc/$p/cmdline" | grep -q "ha-netlab"; then
            kill -TERM "$p" 2>/dev/null || true
        fi
        rm -f "$run/netlab.pid"
    fi
}
trap 'rc=$?; cleanup; exit $rc' EXIT
trap 'exit 130' INT TERM

# wait_for WHAT SECONDS CMD... - until CMD succeeds (every 0.2 s); die after SECONDS
wait_for() {
    local what=$1 limit=$2 i=0
    shift 2
    until "$@" >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -lt $((limit * 5)) ] || die "$what: not within ${limit}s"
        sleep 0.2
    done
}

[ "$(id -u)" -eq 0 ] || die "make ha needs root (network namespaces, /dev/net/tun)"
for f in "$netlab_bin" "$bin/motcua" "$bin/motcua-load" /usr/bin/patroni /usr/bin/etcd; do
    [ -x "$f" ] || die "$f missing (make ha installs and builds them)"
done

say "Clearing leftovers of an earlier run; $run"
cleanup
rm -rf "$run"
mkdir -p "$run/logs" "$etc/keys"
# postgres (the user Patroni runs as) must reach its directories
d=$run; while [ "$d" != "/" ]; do chmod o+x "$d"; d=$(dirname "$d"); done

# ---- the network -----------------------------------------------------------
say "Hosts: network namespaces joined by netlab (delay, loss, partitions)"
args=()
for h in $HOSTS; do args+=("$h=$P-$h@${IP[$h]}"); done
"$netlab_bin" --fifo "$run/netlab.fifo" "${args[@]}" >"$run/netlab.out" 2>"$run/logs/netlab.log" &
echo $! >"$run/netlab.pid"
wait_for "netlab ready" 10 grep -q ready "$run/netlab.out"
for h in $HOSTS; do
    ip netns add "$P-$h"
    ip link set "$P-$h" netns "$P-$h"
    ip -n "$P-$h" addr add "${IP[$h]}/24" dev "$P-$h"
    ip -n "$P-$h" link set lo up
    ip -n "$P-$h" link set "$P-$h" up
    echo "  $h ${IP[$h]}"
done
# netlab CMD - one command to the switch (tests/ha/netlab.c)
netlab() { echo "$*" >"$run/netlab.fifo"; }

# ---- etcd and Patroni ------------------------------------------------------
peers=""; etcd_hosts=""
for h in $DBS; do
    peers="$peers${peers:+,}$h=http://${IP[$h]}:2380"
    etcd_hosts="$etcd_hosts${etcd_hosts:+,}${IP[$h]}:2379"
done

# start_etcd HOST - its member of the etcd cluster, v2 API on (Patroni's `etcd:`)
start_etcd() {
    local h=$1
    mkdir -p "$run/$h"
    ip netns exec "$P-$h" etcd --name "$h" --data-dir "$run/$h/etcd" --enable-v2=true \
        --listen-client-urls "http://${IP[$h]}:2379" --advertise-client-urls "http://${IP[$h]}:2379" \
        --listen-peer-urls "http://${IP[$h]}:2380" --initial-advertise-peer-urls "http://${IP[$h]}:2380" \
        --initial-cluster "$peers" --initial-cluster-token motcua-ha --initial-cluster-state new \
        >>"$run/logs/etcd-$h.log" 2>&1 &
    disown  # its end (kill -9 in a scenario) is not a job for this shell to report
}

# patroni_yml HOST - its Patroni configuration (docs/ha.md explains each value)
patroni_yml() {
    local h=$1
    cat <<YAML
scope: motcua-ha
name: $h
restapi:
  listen: ${IP[$h]}:8008
  connect_address: ${IP[$h]}:8008
etcd:
  hosts: $etcd_hosts
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 2
    retry_timeout: 4
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    synchronous_mode_strict: $sync_strict
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        max_connections: 200
        wal_keep_size: 256MB
  initdb:
  - encoding: UTF8
  - locale: C.UTF-8
  pg_hba:
  - local all all trust
  - host all all 127.0.0.1/32 trust
  - host all all $NET.0/24 trust
  - host replication all $NET.0/24 trust
postgresql:
  listen: ${IP[$h]}:5432
  connect_address: ${IP[$h]}:5432
  data_dir: $run/$h/data
  bin_dir: $pgbin
  pgpass: $run/$h/pgpass
  remove_data_directory_on_rewind_failure: true
  remove_data_directory_on_diverged_timelines: true
  authentication:
    superuser: {username: postgres, password: ha}
    replication: {username: replicator, password: ha}
  parameters:
    unix_socket_directories: $run/$h
YAML
}

# start_patroni HOST - Patroni (which runs PostgreSQL) as the postgres user
start_patroni() {
    local h=$1
    mkdir -p "$run/$h"
    patroni_yml "$h" >"$run/$h/patroni.yml"
    chown postgres "$run/$h" "$run/$h/patroni.yml"
    ip netns exec "$P-$h" runuser -u postgres -- /usr/bin/patroni "$run/$h/patroni.yml" >>"$run/logs/patroni-$h.log" 2>&1 &
    disown
}

# cluster - Patroni's view: one line per member "name role state lag", from any member's REST API
cluster() {
    local h
    for h in $DBS; do
        ns cl1 curl -sf --max-time 1 "http://${IP[$h]}:8008/cluster" 2>/dev/null |
            /usr/bin/python3 -c 'import json,sys
for m in json.load(sys.stdin)["members"]:
    print(m["name"], m["role"], m["state"], m.get("lag", 0))' && return 0
    done
    return 1
}
# leader - the member holding the leader key
leader() { cluster | awk '$2 == "leader" && $3 == "running" {print $1}'; }
# sync_standby - the synchronous standby
sync_standby() { cluster | awk '$2 == "sync_standby" && ($3 == "running" || $3 == "streaming") {print $1}'; }
# healthy - a running leader, a running sync standby, and a third running member
# (Patroni 3.0 says "running" of a replica; later versions say "streaming")
healthy() {
    local c
    c=$(cluster) || return 1
    [ "$(echo "$c" | awk '$2 == "leader" && $3 == "running"' | wc -l)" -eq 1 ] &&
    [ "$(echo "$c" | awk '$2 == "sync_standby" && ($3 == "running" || $3 == "streaming")' | wc -l)" -ge 1 ] &&
    [ "$(echo "$c" | awk '$3 == "running" || $3 == "streaming"' | wc -l)" -eq 3 ]
}
# leader_is_not HOST - a leader exists and it is not HOST
leader_is_not() { local l; l=$(leader) && [ -n "$l" ] && [ "$l" != "$1" ]; }

cat >"$run/patronictl.yml" <<YAML
scope: motcua-ha
etcd:
  hosts: $etcd_hosts
YAML
patronictl() { ns cl1 /usr/bin/patronictl -c "$run/patronictl.yml" "$@"; }

say "etcd (3 members, v2 API) and Patroni + PostgreSQL on db1 db2 db3"
for h in $DBS; do start_etcd "$h"; done
for h in $DBS; do wait_for "etcd on $h" 30 ns cl1 curl -sf --max-time 1 "http://${IP[$h]}:2379/health"; done
start_patroni db1
wait_for "a Patroni leader" 90 leader_is_not none
start_patroni db2
start_patroni db3
wait_for "a healthy Patroni cluster (leader, sync standby, replica)" 120 healthy
patronictl list

# ---- motcua: keys, configuration, schema ------------------------------------
mc() { "$bin/motcua" -c "$etc/cl1.yaml" "$@"; }
conninfo="host=${IP[db1]},${IP[db2]},${IP[db3]} port=5432,5432,5432 dbname=motcua user=postgres target_session_attrs=read-write"
for k in intake lienthong events QUAY_KIM_LIEN $AGENCIES; do
    "$bin/motcua" keygen "$k" --dir "$etc/keys" >/dev/null
done
sed 's|public_key_file: keys/|public_key_file: keys/|' config/agencies.yaml >"$etc/agencies.yaml"
cat >"$etc/clients.yaml" <<YAML
clients:
  - {code: QUAY_KIM_LIEN, name: "Quầy một cửa phường Kim Liên (make ha)", role: counter,
     wards: ["00229", "00220"], public_key_file: keys/QUAY_KIM_LIEN.pub}
YAML

# app_hosts - the application hosts of this run
app_hosts() { if [ "$multi" = 1 ]; then echo "app1 app2"; else echo "app1"; fi; }
# list KIND PORT - "[tcp://<app1>:PORT, tcp://<app2>:PORT]"
list() {
    local out="" h
    for h in $(app_hosts); do out="$out${out:+, }\"tcp://${IP[$h]}:$2\""; done
    echo "[$out]"
}

# multi_keys HOST - every key of several instances (issue 14; /work CONTRACT):
# the one place that knows them. Printed as lines to splice into the sections.
#   section "database" | "intake" | "router" | "lienthong" | "top"
multi_keys() {
    local h=$1 section=$2
    [ "$multi" = 1 ] || return 0
    case $section in
    database)
        echo "  keepalives_idle_s: 2"
        echo "  keepalives_interval_s: 1"
        echo "  keepalives_count: 3"
        echo "  tcp_user_timeout_ms: 6000" ;;
    intake)
        echo "  connect: $(list intake 5555)"
        echo "  events_connect: $(list intake 5556)" ;;
    router)
        echo "  events_connect: $(list router 5557)" ;;
    lienthong)
        echo "  connect: $(list lienthong 5560)"
        echo "  events_connect: $(list lienthong 5558)" ;;
    top)
        echo "events:"
        echo "  key_file: keys/events.key" ;;
    esac
}

# events_ep HOST KIND PORT - this instance's events PUB: tcp on its address
# with the multi-instance keys, else ipc:// in the host's directory
events_ep() {
    if [ "$multi" = 1 ]; then echo "tcp://${IP[$1]}:$3"; else echo "ipc://$run/$1/$2-events"; fi
}

# host_yml HOST - motcua.yaml of an application or client host
host_yml() {
    local h=$1 db_conninfo=$conninfo intake_host=$1 lt_host=$1
    # without database.keepalive keys the same values go in the conninfo (libpq's names)
    [ "$multi" = 1 ] || db_conninfo="$conninfo keepalives=1 keepalives_idle=2 keepalives_interval=1 keepalives_count=3 tcp_user_timeout=6000"
    case $h in cl1) intake_host=app1 lt_host=app1 ;; esac
    mkdir -p "$run/$h/spool"
    cat <<YAML
# generated by tests/ha/ha.sh for host $h (docs/ha.md)
database:
  conninfo: "$db_conninfo"
  connect_timeout_s: 2
  statement_timeout_ms: 5000
$(multi_keys "$h" database)
log:
  level: info
  summary_ms: 60000
files:
  procedures: $repo/config/procedures.yaml
  calendar: $repo/config/calendar.yaml
  routing: $repo/config/routing.yaml
  agencies: agencies.yaml
  notifications: $repo/config/notifications.yaml
  clients: clients.yaml
$(multi_keys "$h" top)
intake:
  endpoint: "tcp://${IP[$intake_host]}:5555"
  workers: 4
  retry_after_ms: 500
  reconnect_ms: 300
  events_endpoint: "$(events_ep "$h" intake 5556)"
  server_key_file: keys/intake.key
$(multi_keys "$h" intake)
router:
  events_endpoint: "$(events_ep "$h" router 5557)"
  poll_ms: 300
  deadline_scan_ms: 5000
$(multi_keys "$h" router)
lienthong:
  endpoint: "tcp://${IP[$lt_host]}:5560"
  events_endpoint: "$(events_ep "$h" lienthong 5558)"
  server_key_file: keys/lienthong.key
  heartbeat_ms: 1000
  ack_timeout_ms: 3000
  max_attempts: 1000
  poll_ms: 300
  lease_ms: 6000
$(multi_keys "$h" lienthong)
notify:
  spool_dir: $run/$h/spool
  sms_url: ""
  poll_ms: 300
  retry_initial_ms: 300
  retry_max_ms: 2000
  max_attempts: 1000
  send_lease_ms: 3000
client:
  timeout_ms: 3000
  retries: 2
  key_file: keys/QUAY_KIM_LIEN.key
YAML
    # the wards: the shipped ones
    sed -n '/^wards:/,$p' config/motcua.yaml
}

# the multi-instance keys (intake.connect, events.key_file, ...): the
# reference deployment needs them; a build that refuses them fails here
# rather than testing less than docs/ha.md describes
multi=1
host_yml cl1 >"$etc/probe.yaml"
"$bin/motcua" -c "$etc/probe.yaml" config check >"$run/logs/probe.log" 2>&1 ||
    die "motcua config check refuses the reference deployment's keys: $(head -c 300 "$run/logs/probe.log")"
say "Two application hosts (app1, app2), every daemon on each"
rm -f "$etc/probe.yaml"
for h in $(app_hosts) cl1; do host_yml "$h" >"$etc/$h.yaml"; done
ns cl1 "$bin/motcua" -c "$etc/cl1.yaml" config check

say "CREATE DATABASE motcua; motcua migrate (through the multi-host conninfo: the primary)"
ns cl1 env PGCONNECT_TIMEOUT=3 "$pgbin/psql" "${conninfo/dbname=motcua/dbname=postgres}" -X -qAt \
    -c "CREATE DATABASE motcua" >/dev/null
ns cl1 "$bin/motcua" -c "$etc/cl1.yaml" migrate
# sql QUERY - one query on the primary, from the client host
sql() { ns cl1 env PGCONNECT_TIMEOUT=3 "$pgbin/psql" "$conninfo" -X -qAt -c "$1"; }

# ---- the daemons -------------------------------------------------------------
declare -A dpid=()
# start_daemon HOST NAME - motcua-NAME on HOST, its log in logs/HOST-NAME.log
start_daemon() {
    local h=$1 d=$2 log="$run/logs/$1-$2.log"
    # a restart keeps the killed instance's log beside
    [ ! -e "$log" ] || mv "$log" "$log.$(date +%s%N)"
    ip netns exec "$P-$h" "$bin/motcua-$d" -c "$etc/$h.yaml" 2>>"$log" &
    dpid[$h-$d]=$!
    disown
    wait_for "motcua-$d on $h started" 30 grep -q "event=started" "$log"
}
start_app() { local d; for d in intake router lienthong notify; do start_daemon "$1" "$d"; done; }
# start_agency CODE - the agency on cl1, its hubs: lienthong.connect, else app1's
start_agency() {
    local a=$1 log="$run/logs/cl1-agency-$a.log" eps=()
    if [ "$multi" = 1 ]; then
        for h in $(app_hosts); do eps+=(--endpoint "tcp://${IP[$h]}:5560"); done
    else
        eps=(--endpoint "tcp://${IP[app1]}:5560")
    fi
    ip netns exec "$P-cl1" "$bin/motcua-agency" -c "$etc/cl1.yaml" --agency "$a" --key "$etc/keys/$a.key" \
        --server-key "$etc/keys/lienthong.pub" --credit 50 --delay-ms 20 --outcomes approved=100 \
        --state-dir "$run/cl1/agency-$a" "${eps[@]}" >>"$log" 2>&1 &
    disown
}

say "Daemons on $(app_hosts); agencies on cl1"
for h in $(app_hosts); do start_app "$h"; done
for a in $AGENCIES; do start_agency "$a"; done

# ---- load, checks ------------------------------------------------------------
load_pid=""
# load_start NAME - motcua-load on cl1 (open loop) with its receipt trace
load_start() {
    local name=$1 eps=()
    if [ "$multi" = 1 ]; then for h in $(app_hosts); do eps+=(--connect "tcp://${IP[$h]}:5555"); done; fi
    : >"$run/trace-$name"
    ip netns exec "$P-cl1" "$bin/motcua-load" -c "$etc/cl1.yaml" --rate "$rate" --count 1000000 --clients 32 \
        --duration-limit 300 --trace "$run/trace-$name" "${eps[@]}" \
        >"$run/logs/load-$name.out" 2>"$run/logs/load-$name.log" &
    load_pid=$!
}
# receipts NAME - receipts so far
receipts() { wc -l <"$run/trace-$1"; }
# receipts_after NAME MS N - N receipts after monotonic time MS
receipts_after() { [ "$(awk -v t="$2" '$1 > t' "$run/trace-$1" | wc -l)" -ge "$3" ]; }
# more_receipts NAME N - at least N receipts in all
more_receipts() { [ "$(receipts "$1")" -ge "$2" ]; }
load_stop() {
    kill -TERM "$load_pid" 2>/dev/null || true
    wait "$load_pid" 2>/dev/null || true
    load_pid=""
}

# stuck - dossiers of the load not final nor legitimately waiting (tests/chaos/chaos_check.c)
STUCK_SQL="SELECT count(*) FROM dossier d WHERE d.submission_id LIKE 'load-%' AND (
  d.state IN (1, 2, 3, 6, 9)
  OR (d.state = 4 AND NOT EXISTS (SELECT 1 FROM agency_case k WHERE k.dossier_id = d.id AND k.state = 7))
  OR EXISTS (SELECT 1 FROM agency_case k WHERE k.dossier_id = d.id AND k.state IN (1, 2, 3, 5))
  OR EXISTS (SELECT 1 FROM notification n WHERE n.dossier_id = d.id AND n.state <> 1))"
# (states: dossier 1 received 2 routed 3 in progress 4 waiting supplement 6 delivered
#  9 pending acceptance; case 1 queued 2 sent 3 acked 5 dead 7 paused; notification 1 sent)
drained() { [ "$(sql "$STUCK_SQL")" = 0 ]; }

# check NAME FAULT_MS - after the drain: lost, duplicated, stuck, outage; one table row
check() {
    local name=$1 fault_ms=$2 lost dup stuck outage n drain_s t0
    t0=$(date +%s)
    local i=0
    until drained 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 120 ] || break
        sleep 1
    done
    drain_s=$(($(date +%s) - t0))
    stuck=$(sql "$STUCK_SQL")
    n=$(receipts "$name")
    # every receipt's (code, submission_id) is one dossier
    lost=$(ns cl1 env PGCONNECT_TIMEOUT=3 "$pgbin/psql" "$conninfo" -X -qAt -v ON_ERROR_STOP=1 <<SQL
CREATE TEMP TABLE r (ms bigint, code text, sid text);
\\copy r FROM '$run/trace-$name' WITH (DELIMITER ' ')
SELECT count(*) FROM (SELECT DISTINCT code, sid FROM r) x
 WHERE NOT EXISTS (SELECT 1 FROM dossier d WHERE d.code = x.code AND d.submission_id = x.sid);
SQL
)
    dup=$(sql "SELECT (SELECT count(*) - count(DISTINCT submission_id) FROM dossier)
                    + (SELECT count(*) - count(DISTINCT code) FROM dossier)")
    # the longest gap between consecutive receipts from the fault on (ms)
    outage=$(awk -v t="$fault_ms" 'NR > 1 && $1 >= t && $1 - prev > max { max = $1 - prev } { prev = $1 } END { print max + 0 }' "$run/trace-$name")
    local verdict=ok
    if [ "$lost" != 0 ] || [ "$dup" != 0 ] || [ "$stuck" != 0 ] || [ "$n" -lt 100 ]; then
        verdict=FAILED; failures=$((failures + 1))
        [ "$stuck" = 0 ] || sql "SELECT 'open: dossier ' || d.state || ' case ' || coalesce(k.agency, '-') || '/' || coalesce(k.state, -1) || ': ' || count(*)
              FROM dossier d LEFT JOIN agency_case k ON k.dossier_id = d.id AND k.state IN (1, 2, 3, 5, 7)
             WHERE d.submission_id LIKE 'load-%' AND d.state NOT IN (5, 7, 8, 10) GROUP BY d.state, k.agency, k.state LIMIT 15"
    fi
    echo "  $name: receipts=$n lost=$lost duplicated=$dup stuck=$stuck outage_ms=$outage drain_s=$drain_s $verdict"
    table+=("$(printf '%-22s %9s %5s %11s %6s %10s %8s  %s' "$name" "$n" "$lost" "$dup" "$stuck" "$outage" "$drain_s" "$verdict")")
}
# trace_ms NAME - the monotonic time (ms) of the latest receipt: the fault's mark
trace_ms() { tail -n 1 "$run/trace-$1" | awk '{print $1}'; }

# scenario NAME - start the load, wait until receipts flow
scenario_begin() {
    say "Scenario $1 (load ${rate}/s)"
    load_start "$1"
    wait_for "$1: receipts flowing" 60 more_receipts "$1" $((rate * 3))
}
# scenario_end NAME FAULT_MS - receipts flow again, load stopped, checked
scenario_end() {
    local name=$1 mark=$2
    wait_for "$name: receipts after the fault" 90 receipts_after "$name" "$mark" $((rate * 3))
    load_stop
    check "$name" "$mark"
}

# ---- (a) switchover ----------------------------------------------------------
scenario_begin switchover
old=$(leader); cand=$(sync_standby)
mark=$(trace_ms switchover)
# what an operator sees meanwhile (docs/ha.md quotes it): motcua stats, 3 times a second
(for i in $(seq 1 30); do
    echo "--- $(date -u +%T.%N | cut -c1-12)"
    ns cl1 "$bin/motcua" -c "$etc/cl1.yaml" stats 2>&1 || echo "(exit $?)"
    sleep 0.3
 done >"$run/stats-switchover.txt") &
stats_pid=$!
echo "  patronictl switchover --leader $old --candidate $cand --force"
patronictl switchover --leader "$old" --candidate "$cand" --force
wait_for "switchover: $cand leads" 60 leader_is_not "$old"
wait "$stats_pid" || true
scenario_end switchover "$mark"
wait_for "switchover: cluster healthy again" 90 healthy

# ---- (b) kill -9 of the primary's host ----------------------------------------
scenario_begin kill-primary-host
old=$(leader)
mark=$(trace_ms kill-primary-host)
echo "  kill -9 every process on $old (Patroni, PostgreSQL, etcd)"
kill -KILL $(ip netns pids "$P-$old") 2>/dev/null || true
wait_for "kill-primary-host: a new leader" 60 leader_is_not "$old"
scenario_end kill-primary-host "$mark"
# the host comes back: its etcd member and Patroni (PostgreSQL rejoins, rewound)
rm -f "$run/$old/data/postmaster.pid"
start_etcd "$old"
start_patroni "$old"
wait_for "kill-primary-host: $old back, cluster healthy" 120 healthy

# ---- (c) partition of the primary's host ---------------------------------------
scenario_begin partition-primary
old=$(leader)
mark=$(trace_ms partition-primary)
echo "  netlab: part $old"
netlab part "$old"
wait_for "partition-primary: a new leader" 60 leader_is_not "$old"
wait_for "partition-primary: receipts after the fault" 90 receipts_after partition-primary "$mark" $((rate * 3))
netlab heal "$old"
scenario_end partition-primary "$mark"
wait_for "partition-primary: $old back, cluster healthy" 120 healthy

# ---- (d) loss of an application host -------------------------------------------
scenario_begin app-host-loss
mark=$(trace_ms app-host-loss)
echo "  kill -9 motcua-intake, -router, -lienthong, -notify on app1"
for d in intake router lienthong notify; do kill -KILL "${dpid[app1-$d]}" 2>/dev/null || true; done
if [ "$multi" = 1 ]; then
    # app2 carries on alone; app1 comes back after the check
    scenario_end app-host-loss "$mark"
    start_app app1
else
    start_app app1
    scenario_end app-host-loss "$mark"
fi

# ---- (e) latency and loss ---------------------------------------------------------
scenario_begin latency-loss
mark=$(trace_ms latency-loss)
echo "  netlab: every link $link_delay ms and $link_loss % loss ($((2 * link_delay)) ms one way between two hosts) for ${latency_s}s"
netlab set all delay "$link_delay" loss "$link_loss"
# the fault's length, not a wait for a result: what follows waits for conditions
sleep "$latency_s"
during=$(awk -v t="$mark" '$1 > t' "$run/trace-latency-loss" | wc -l)
echo "  receipts under latency and loss: $during in ${latency_s}s ($((during / latency_s))/s for ${rate}/s offered)"
netlab set all delay 0 loss 0
scenario_end latency-loss "$mark"

# ---- figures -------------------------------------------------------------------
say "Figures (load ${rate}/s; outage = longest gap between two receipts from the fault on)"
printf '%-22s %9s %5s %11s %6s %10s %8s  %s\n' scenario receipts lost duplicated stuck outage_ms drain_s verdict
for row in "${table[@]}"; do echo "$row"; done
echo "application hosts: $(app_hosts); total $(($(date +%s) - t_start)) s; logs in $run/logs"
[ "$failures" -eq 0 ] || die "$failures scenario(s) violated lost/duplicated/stuck = 0"
echo "make ha: passed"
