/*
 * chaos - `make chaos`: the pipeline under load while everything fails.
 *
 * Usage: build/tests/chaos [--seed S] [--short] [--dossiers N] [--kills N]
 *        build/tests/chaos --selftest-logscan   (the log scan on a planted value)
 *        (CHAOS_SEED=S in the environment replays a run; MOTCUA_BUILD picks
 *        the build directory, MOTCUA_KEEP_TEST_DIR keeps the cluster.)
 *
 * A throwaway cluster (tests/harness) runs the real daemons (intake,
 * router, lienthong, notify) and one motcua-agency per agency of
 * config/agencies.yaml (with --state-dir when the agency supports it), an
 * outcome mix of approved=85,rejected=5,needs_documents=10, and notify
 * sending SMS to a fake gateway in this process (chaos_gateway.c). While
 * the applicants (chaos_load.c) hand in dossiers, supplement, withdraw and
 * rate, a seeded schedule kill -9s daemons and agencies (each restarted
 * after 0.1-3 s), stops PostgreSQL with `pg_ctl -m immediate` and starts it
 * again, SIGSTOPs one agency for 1.5 times the hub's lease (the half-open
 * case) and makes the SMS gateway fail for a while. Then it waits, bounded,
 * until `motcua queues --idle` says nothing is in flight and no dossier
 * waits for a supplement, and does the accounting (chaos_check.c). Once
 * every process has stopped, the logs are scanned for the personal values
 * the load submitted (chaos_logscan.c).
 *
 * Output: "chaos: seed S" first; the summary (acked, kills per process,
 * restarts, lost, duplicated, duplicate deliveries, stuck, drain time) as
 * the last lines. Exit 0 only when lost, duplicated, duplicate deliveries
 * and stuck are 0, "personal data in logs" is 0, and nothing else in the
 * accounting is wrong.
 */
#include "mc_states.h"
#include "chaos.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mc_transport.h"

#define START_TRIES    10   /* a process that does not come up after this many starts needs a person */
#define AGENCY_OUTCOMES "approved=85,rejected=5,needs_documents=10"
#define LEASE_MS       3000 /* lienthong.lease_ms we ask for when the hub knows leases */

/* a scheduled fault */
typedef enum ev_kind { EV_KILL, EV_PG, EV_CUT, EV_SMS } ev_kind_t;
typedef struct event {
    int64_t   at_ms;   /* from the start of the load */
    ev_kind_t kind;    /* what happens */
    int       proc;    /* EV_KILL, EV_CUT: which process */
    int       down_ms; /* how long it stays down / stopped / failing */
    bool      done;    /* fired */
} event_t;

static chaos_t C;                  /* the run (threads see it through their argument) */
static int     manual_fixes;       /* processes that never came back by themselves */
static int64_t pg_up_at;           /* when to start PostgreSQL again (ms), 0 = running */
static long    pii_hits = -1;      /* personal values found in our logs, -1 = not scanned */

/* chaos_rand - splitmix64 */
uint64_t chaos_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* chaos_mix - one draw for item n of the seed */
uint64_t chaos_mix(uint64_t seed, uint64_t n)
{
    uint64_t s = seed ^ (n * 0xd1b54a32d192ed03ull);
    return chaos_rand(&s);
}

/* chaos_conn - a private connection (threads must not share the harness's) */
PGconn *chaos_conn(chaos_t *c)
{
    PGconn *conn = PQconnectdb(c->h.conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

/* rel_ms - ms since the load started */
static int64_t rel_ms(void)
{
    return harness_now_ms() - C.t0;
}

/* start_proc - start process i (a daemon waits for READY=1); 0 when it runs */
static int start_proc(int i)
{
    chaos_proc_t *p = &C.procs[i];
    char log[128];
    p->runs++;
    if (!p->agency) {
        snprintf(log, sizeof log, "%s.log", p->name);
        p->pid = harness_start_daemon(&C.h, p->name, NULL, log);
    } else {
        char key[500], server[500], state[500];
        snprintf(key, sizeof key, "%s/%s.key", C.keys, p->name);
        snprintf(server, sizeof server, "%s/lienthong.pub", C.keys);
        snprintf(state, sizeof state, "%s/agency-state/%s", C.h.dir, p->name);
        snprintf(log, sizeof log, "agency-%s-%d.log", p->name, p->runs);
        const char *args[] = {"-c", C.h.config, "--agency", p->name, "--key", key,
                              "--server-key", server, "--delay-ms", "20", "--credit", "50",
                              "--outcomes", AGENCY_OUTCOMES,
                              C.state_dir ? "--state-dir" : NULL, state, NULL};
        p->pid = harness_spawn(&C.h, "motcua-agency", log, args);
    }
    if (p->pid <= 0) {
        p->pid = 0;
        p->failed_starts++;
        return -1;
    }
    return 0;
}

/* restart_due - start what is due; a failed start is tried again in 0.5 s */
static void restart_due(int64_t now)
{
    for (int i = 0; i < C.n_procs; i++) {
        chaos_proc_t *p = &C.procs[i];
        if (p->pid || !p->restart_at || p->restart_at > now || pg_up_at)
            continue;
        if (start_proc(i) == 0) {
            p->restarts++;
            p->restart_at = 0;
        } else if (p->failed_starts >= START_TRIES * (p->restarts + 1)) {
            manual_fixes++;
            p->restart_at = 0;
            printf("  chaos: %s does not come back after %d starts\n", p->name, START_TRIES);
        } else {
            p->restart_at = rel_ms() + 500;
        }
    }
}

/* reap - notice processes that exited without being told (crashes) and restart them */
static void reap(int64_t now)
{
    for (int i = 0; i < C.n_procs; i++) {
        chaos_proc_t *p = &C.procs[i];
        int st;
        if (p->pid <= 0 || waitpid(p->pid, &st, WNOHANG) != p->pid)
            continue;
        p->crashes++;
        printf("  chaos: %s exited by itself (%s %d) at %.1f s\n", p->name,
               WIFSIGNALED(st) ? "signal" : "status", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
               now / 1000.0);
        p->pid = 0;
        p->stopped = false;
        p->restart_at = now + 200;
    }
}

/* fire - one scheduled fault */
static void fire(event_t *e, int64_t now)
{
    e->done = true;
    chaos_proc_t *p = e->kind == EV_KILL || e->kind == EV_CUT ? &C.procs[e->proc] : NULL;
    switch (e->kind) {
    case EV_KILL:
        if (p->pid <= 0) {
            /* already down: the kill waits until it is up again, so every kill is a real one */
            e->done = false;
            e->at_ms = now + 500;
            return;
        }
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
        p->pid = 0;
        p->stopped = false;
        p->kills++;
        p->restart_at = now + e->down_ms;
        break;
    case EV_CUT:
        if (p->pid <= 0 || p->stopped)
            return;
        kill(p->pid, SIGSTOP);
        p->stopped = true;
        p->stops++;
        p->cont_at = now + e->down_ms;
        C.agency_cuts++;
        printf("  chaos: %.1f s: %s stopped for %d ms (lease %d ms)\n", now / 1000.0, p->name,
               e->down_ms, C.lease_ms);
        break;
    case EV_PG:
        /* our own connection would fail its next query: drop it, harness_db() reconnects */
        if (C.h.db)
            PQfinish(C.h.db);
        C.h.db = NULL;
        if (harness_run("sh tests/pgtmp.sh kill %s/pg >>%s/pgtmp.log 2>&1", C.h.dir, C.h.dir) == 0) {
            C.pg_restarts++;
            pg_up_at = now + e->down_ms;
            printf("  chaos: %.1f s: PostgreSQL stopped (immediate) for %d ms\n", now / 1000.0,
                   e->down_ms);
        }
        break;
    case EV_SMS:
        chaos_gateway_fail(C.gateway, e->down_ms);
        C.gateway_outages++;
        printf("  chaos: %.1f s: SMS gateway fails for %d ms\n", now / 1000.0, e->down_ms);
        break;
    }
}

/* tick - faults due, SIGCONTs, PostgreSQL back, crashes, restarts */
static void tick(event_t *ev, int n_ev)
{
    int64_t now = rel_ms();
    for (int i = 0; i < n_ev; i++)
        if (!ev[i].done && ev[i].at_ms <= now)
            fire(&ev[i], now);
    for (int i = 0; i < C.n_procs; i++) {
        chaos_proc_t *p = &C.procs[i];
        if (p->stopped && p->cont_at <= now) {
            kill(p->pid, SIGCONT);
            p->stopped = false;
        }
    }
    if (pg_up_at && pg_up_at <= now) {
        if (harness_pg_start(&C.h) == 0)
            pg_up_at = 0;
        else
            pg_up_at = now + 500;
    }
    reap(now);
    restart_due(now);
}

/* schedule - the seeded faults: kills over every process, one PostgreSQL crash, one cut, one SMS outage */
static int schedule(event_t *ev, uint64_t seed)
{
    uint64_t s = seed;
    int64_t span = (int64_t)C.opts.load_s * 1000;
    int n = 0, order[CHAOS_MAX_PROCS];
    /* the first round covers the daemons, then every agency once, in a seeded order */
    for (int i = 0; i < C.n_procs; i++)
        order[i] = i;
    for (int i = C.n_procs - 1; i > 4; i--) {
        int j = 4 + (int)(chaos_rand(&s) % (uint64_t)(i - 3));
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int k = 0; k < C.opts.kills; k++) {
        event_t *e = &ev[n++];
        e->kind = EV_KILL;
        e->proc = k < C.n_procs ? order[k] : (int)(chaos_rand(&s) % (uint64_t)C.n_procs);
        e->at_ms = span / 50 + (int64_t)(chaos_rand(&s) % (uint64_t)(span * 85 / 100));
        e->down_ms = chaos_rand(&s) % 2 ? 100 + (int)(chaos_rand(&s) % 500)
                                        : 1000 + (int)(chaos_rand(&s) % 2000);
    }
    ev[n++] = (event_t){span * 45 / 100 + (int64_t)(chaos_rand(&s) % (uint64_t)(span / 10)), EV_PG,
                        0, 1000 + (int)(chaos_rand(&s) % 2000), false};
    int agencies = C.n_procs - 4;
    ev[n++] = (event_t){span * 25 / 100 + (int64_t)(chaos_rand(&s) % (uint64_t)(span / 10)), EV_CUT,
                        4 + (int)(chaos_rand(&s) % (uint64_t)agencies), C.lease_ms * 3 / 2, false};
    ev[n++] = (event_t){span * 60 / 100 + (int64_t)(chaos_rand(&s) % (uint64_t)(span / 10)), EV_SMS,
                        0, C.opts.quick ? 3000 : 6000, false};
    return n;
}

/* lease_setup - ask the hub for LEASE_MS leases when it keeps sessions (migration 0006), else the test still runs */
static void lease_setup(void)
{
    long sessions = harness_count(&C.h, "SELECT count(*) FROM pg_tables"
                                        " WHERE tablename = 'agency_session'", NULL);
    if (sessions == 1 && harness_config_append(&C.h, "  lease_ms: %d\n", LEASE_MS) == 0 &&
        harness_motcua(&C.h, "config check") == 0) {
        C.lease_ms = LEASE_MS; /* the lienthong section ends the generated file */
        C.leases = true;
        return;
    }
    C.lease_ms = 3 * 500 * 2; /* no leases: a cut still outlasts 3 heartbeats twice over */
}

/* setup - cluster, config, gateway, every process */
static int setup(void)
{
    if (harness_setup(&C.h, "chaos", 4) != 0)
        return -1;
    char codes[CHAOS_MAX_AGENCIES][64];
    int n_agencies = 0;
    if (harness_pipeline_setup(&C.h, 300, 64, codes, CHAOS_MAX_AGENCIES, &n_agencies) != 0)
        return -1;
    snprintf(C.keys, sizeof C.keys, "%s/keys", C.h.dir);
    C.gateway = chaos_gateway_start(&C.gateway_port);
    if (!C.gateway)
        return -1;
    char to[200];
    snprintf(to, sizeof to, "sms_url: \"http://127.0.0.1:%d/sms\"", C.gateway_port);
    if (harness_config_copy(&C.h, C.h.config, "sms_url: \"\"", to) != 0)
        return -1;
    lease_setup();
    C.state_dir = harness_run("%s/bin/motcua-agency --help 2>&1 | grep -q -- --state-dir",
                              C.h.build) == 0 &&
                  harness_run("mkdir -p %s/agency-state", C.h.dir) == 0;
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_cfg_load(C.h.config, &C.cfg, &err) != 0) {
        printf("  chaos: %s", err.text);
        return -1;
    }
    static const char *const daemons[4] = {"intake", "router", "lienthong", "notify"};
    for (int i = 0; i < 4; i++)
        snprintf(C.procs[C.n_procs++].name, sizeof C.procs[0].name, "%s", daemons[i]);
    for (int i = 0; i < n_agencies && C.n_procs < CHAOS_MAX_PROCS; i++) {
        C.procs[C.n_procs].agency = true;
        memcpy(C.procs[C.n_procs++].name, codes[i], sizeof codes[i]); /* both 64 bytes */
    }
    for (int i = 0; i < C.n_procs; i++)
        if (start_proc(i) != 0) {
            printf("  chaos: %s did not start\n", C.procs[i].name);
            return -1;
        }
    printf("  chaos: %d agencies, state dir %s, lease %d ms%s, SMS gateway on port %d, dir %s\n",
           n_agencies, C.state_dir ? "yes" : "no (agency without --state-dir)", C.lease_ms,
           C.leases ? "" : " (hub without leases)", C.gateway_port, C.h.dir);
    return 0;
}

/* waiting_docs - our dossiers waiting for a supplement; -1 on error */
static long waiting_docs(void)
{
    return harness_count(&C.h, "SELECT count(*) FROM dossier WHERE state = " MC_SQL(MC_DOSSIER_WAITING_SUPPLEMENT)
                               " AND submission_id LIKE 'chaos-%'", NULL);
}

/* drain - wait until idle twice in a row (1 s apart) or the bound; its duration in ms, -1 if never */
static int64_t drain(event_t *ev, int n_ev)
{
    int64_t start = harness_now_ms(), deadline = start + (int64_t)C.opts.drain_s * 1000;
    int calm = 0;
    int64_t last_check = 0, last_print = start;
    while (harness_now_ms() < deadline) {
        tick(ev, n_ev);
        int64_t now = harness_now_ms();
        if (now - last_check >= 500) {
            last_check = now;
            bool idle = harness_run("%s/bin/motcua -c %s queues --idle >/dev/null 2>&1", C.h.build,
                                    C.h.config) == 0 && waiting_docs() == 0;
            calm = idle ? calm + 1 : 0;
            if (calm >= 3)
                return now - start;
            if (now - last_print >= 15000) {
                last_print = now;
                printf("  chaos: draining %.0f s:\n", (now - start) / 1000.0);
                harness_run("%s/bin/motcua -c %s queues | sed 's/^/    /'", C.h.build, C.h.config);
            }
        }
        usleep(50000);
    }
    printf("  chaos: no drain within %d s; the backlog:\n", C.opts.drain_s);
    harness_run("%s/bin/motcua -c %s queues | sed 's/^/    /'", C.h.build, C.h.config);
    return -1;
}

/* stop_all - SIGTERM everything; how many did not exit 0 */
static int stop_all(void)
{
    int unclean = 0;
    for (int i = C.n_procs - 1; i >= 0; i--) {
        chaos_proc_t *p = &C.procs[i];
        if (p->pid <= 0)
            continue;
        if (p->stopped)
            kill(p->pid, SIGCONT);
        int st = harness_stop_daemon(p->pid, SIGTERM);
        p->pid = 0;
        if (st != 0) {
            unclean++;
            printf("  chaos: %s stopped with status %d\n", p->name, st);
        }
    }
    return unclean;
}

/* scan_logs - the load's personal values against the run's logs; hits, -1 on error */
static long scan_logs(void)
{
    int64_t start = harness_now_ms();
    chaos_logscan_t *s = chaos_logscan_new();
    long hits = s ? 0 : -1;
    for (int i = 0; i < C.opts.dossiers && hits == 0; i++)
        if (chaos_logscan_add_sub(s, &C.subs[i].pii) != 0)
            hits = -1;
    if (hits == 0)
        hits = chaos_logscan_dir(s, C.h.dir);
    chaos_logscan_destroy(&s);
    printf("  chaos: log scan took %.2f s\n", (harness_now_ms() - start) / 1000.0);
    return hits;
}

/* parse_args - options and CHAOS_SEED; -1 on a bad command line */
static int parse_args(int argc, char **argv)
{
    const char *seed = getenv("CHAOS_SEED");
    C.opts.dossiers = -1;
    C.opts.kills = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--short") == 0)
            C.opts.quick = true;

        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = argv[++i];
        else if (strcmp(argv[i], "--dossiers") == 0 && i + 1 < argc)
            C.opts.dossiers = atoi(argv[++i]);
        else if (strcmp(argv[i], "--kills") == 0 && i + 1 < argc)
            C.opts.kills = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: chaos [--seed S] [--short] [--dossiers N] [--kills N]"
                            " | --selftest-logscan\n");
            return -1;
        }
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    C.opts.seed = seed && *seed ? strtoull(seed, NULL, 10)
                                : (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec;
    if (C.opts.dossiers < 0)
        C.opts.dossiers = C.opts.quick ? 300 : 3000;
    if (C.opts.kills < 0)
        C.opts.kills = C.opts.quick ? 8 : 40;
    C.opts.load_s = C.opts.quick ? 30 : 180;
    C.opts.drain_s = C.opts.quick ? 60 : 180;
    C.opts.clients = C.opts.quick ? 4 : 8;
    if (C.opts.dossiers < 1 || C.opts.dossiers > 1000000 || C.opts.kills < 0 || C.opts.kills > 1000) {
        fprintf(stderr, "chaos: --dossiers 1..1000000, --kills 0..1000\n");
        return -1;
    }
    return 0;
}

/* summary - the last lines */
static void summary(const chaos_result_t *r, int64_t drain_ms, int unclean, int rc)
{
    int kills = 0, restarts = 0, failed = 0, crashes = 0;
    printf("chaos: kills per process:");
    for (int i = 0; i < C.n_procs; i++) {
        const chaos_proc_t *p = &C.procs[i];
        printf(" %s=%d", p->name, p->kills);
        kills += p->kills;
        restarts += p->restarts;
        failed += p->failed_starts;
        crashes += p->crashes;
    }
    printf(" (total %d)\n", kills);
    printf("chaos: faults: PostgreSQL immediate stops %d, agency cut past its lease %d,"
           " SMS gateway outages %d\n", C.pg_restarts, C.agency_cuts, C.gateway_outages);
    printf("chaos: restarts %d (failed starts %d, crashes %d, unclean stops %d, needing a person %d)\n",
           restarts, failed, crashes, unclean, manual_fixes);
    printf("chaos: resends %ld, follow-ups acknowledged %ld, refused submissions %ld\n",
           atomic_load(&C.resends), atomic_load(&C.followups), r->refused);
    printf("chaos: agencies: double takes %ld, outcomes differing from the store %ld;"
           " notices missing %ld\n", r->double_takes, r->outcome_mismatch, r->missing_notices);
    printf("acked: %ld\n", r->acked);
    printf("lost: %ld\n", r->lost);
    printf("duplicated: %ld\n", r->duplicated);
    printf("duplicate deliveries: %ld\n", r->dup_deliveries);
    printf("stuck: %ld\n", r->stuck);
    printf("personal data in logs: %ld%s\n", pii_hits, pii_hits < 0 ? " (not scanned)" : "");
    if (drain_ms >= 0)
        printf("drain time: %.1f s\n", drain_ms / 1000.0);
    else
        printf("drain time: none within %d s\n", C.opts.drain_s);
    printf("chaos: %s (seed %llu)\n", rc == 0 ? "PASS" : "FAIL", (unsigned long long)C.opts.seed);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && strcmp(argv[1], "--selftest-logscan") == 0)
        return chaos_logscan_selftest() == 0 ? 0 : 1;
    if (parse_args(argc, argv) != 0)
        return 64;
    printf("chaos: seed %llu (replay: CHAOS_SEED=%llu)\n", (unsigned long long)C.opts.seed,
           (unsigned long long)C.opts.seed);
    printf("chaos: %s run: %d dossiers over %d s, %d kills\n", C.opts.quick ? "short" : "full",
           C.opts.dossiers, C.opts.load_s, C.opts.kills);
    signal(SIGPIPE, SIG_IGN);
    int64_t began = harness_now_ms();
    C.subs = calloc((size_t)C.opts.dossiers, sizeof *C.subs);
    event_t *ev = calloc((size_t)C.opts.kills + 3, sizeof *ev);
    chaos_result_t r;
    memset(&r, 0, sizeof r);
    int rc = 1, unclean = 0;
    int64_t drain_ms = -1;
    if (!C.subs || !ev || setup() != 0) {
        printf("  chaos: setup failed\n");
        harness_run("tail -n 5 %s/*.log >&2 2>/dev/null", C.h.dir);
    } else {
        int n_ev = schedule(ev, C.opts.seed);
        pthread_t threads[64];
        int n_threads = 0;
        C.t0 = harness_now_ms();
        if (chaos_load_start(&C, threads, &n_threads) != 0) {
            printf("  chaos: threads did not start\n");
            atomic_store(&C.stop, true);
        }
        /* the load and the faults; the submitters are the first threads */
        int64_t last_print = 0;
        while (!atomic_load(&C.stop)) {
            tick(ev, n_ev);
            bool pending = false;
            for (int i = 0; i < n_ev; i++)
                pending = pending || !ev[i].done;
            if (!pending && atomic_load(&C.submitting) == 0)
                break;
            if (rel_ms() - last_print >= 10000) {
                last_print = rel_ms();
                long acked = 0;
                for (int i = 0; i < C.opts.dossiers; i++)
                    acked += atomic_load(&C.subs[i].acked);
                printf("  chaos: %.0f s: %ld acked, %ld resends\n", rel_ms() / 1000.0, acked,
                       atomic_load(&C.resends));
            }
            usleep(20000);
        }
        for (int i = 0; i < n_threads - 1; i++)
            pthread_join(threads[i], NULL); /* they have returned: the loop saw none left */
        printf("  chaos: load done at %.1f s\n", rel_ms() / 1000.0);
        drain_ms = drain(ev, n_ev);
        atomic_store(&C.stop, true);
        if (n_threads > 0)
            pthread_join(threads[n_threads - 1], NULL);
        rc = chaos_check(&C, &r);
        unclean = stop_all();
        pii_hits = scan_logs(); /* every log is complete now */
        if (drain_ms < 0 || unclean || manual_fixes || pii_hits != 0)
            rc = 1;
    }
    stop_all();
    chaos_gateway_stop(&C.gateway);
    mc_cfg_destroy(&C.cfg);
    mc_transport_term();
    if (rc != 0)
        harness_run("grep -hE 'level=(crit|err)' %s/*.log 2>/dev/null | sort | uniq -c | sort -rn"
                    " | head -n 15", C.h.dir);
    harness_teardown(&C.h);
    printf("  chaos: whole run %.1f s\n", (harness_now_ms() - began) / 1000.0);
    summary(&r, drain_ms, unclean, rc);
    free(C.subs);
    free(ev);
    return rc;
}
