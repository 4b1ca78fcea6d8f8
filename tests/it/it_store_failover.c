/*
 * it_store_failover - a store that follows the primary (issue 14 part 2;
 * common/store/mc_store.c, migration 0024, docs/reliability.md "Several
 * hosts: failover"), on real PostgreSQL clusters.
 *
 * 1. Every connection carries the keepalive and tcp_user_timeout defaults
 *    (PQconninfo of the live connection); a value in the conninfo wins.
 * 2. A multi-host conninfo whose first host is dead connects to the second;
 *    when every host is dead, the one error line names each of them.
 * 3. Codes: when the primary's timeline is not the one the store noted,
 *    intake's next connection moves the day's counters forward by
 *    database.code_gap_after_failover before numbering; a number whose code
 *    a dossier has is skipped.
 * 4. A connection lost during COMMIT (terminated while a deferred check
 *    runs) is MC_ERR_UNKNOWN_COMMIT, resolved by the next connection.
 * 5. With a standby streaming asynchronously, a program that connects logs
 *    replication_not_synchronous; with it synchronous, not.
 *    Unknown commits, with a real synchronous standby (pg_basebackup,
 *    synchronous_standby_names '*'), stopped: a COMMIT waiting for it is
 *    cancelled (pg_cancel_backend, as an operator or a failover would) and
 *    PostgreSQL answers success with its warning: the store says
 *    MC_ERR_UNKNOWN_COMMIT; the next connection's barrier is unknown too
 *    while the standby is away; intake answers a retryable rejection, never
 *    the receipt; with the standby back, the client's retry gets the receipt
 *    of the dossier that was committed, and there is one dossier.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "mc_store_int.h"
#include "mc_test.h"

static harness_t H;       /* the primary and intake */
static int standby_port;  /* the synchronous standby's port (test 4) */

/* conninfo_value - keyword's value in a live connection's options, or "" */
static const char *conninfo_value(PGconn *conn, const char *keyword, char *buf, size_t size)
{
    buf[0] = '\0';
    PQconninfoOption *opts = PQconninfo(conn);
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, keyword) == 0 && o->val)
            snprintf(buf, size, "%s", o->val);
    PQconninfoFree(opts);
    return buf;
}

/* tcp_conninfo - the test database over TCP on port, plus extra */
static void tcp_conninfo(char *buf, size_t size, const char *hosts, const char *ports,
                         const char *extra)
{
    snprintf(buf, size, "host=%s port=%s user=postgres dbname=motcua %s", hosts, ports, extra);
}

MC_TEST(keepalive_defaults_and_conninfo_override)
{
    char ci[512], port[16], v[64];
    snprintf(port, sizeof port, "%d", H.pg_port);
    tcp_conninfo(ci, sizeof ci, "127.0.0.1", port, "");
    mc_store_t *s = mc_store_new(ci, 5, 0);
    mc_err_t err;
    mc_err_clear(&err);
    REQUIRE(s && mc_store_connect(s, &err) == MC_STORE_OK);
    CHECK_STR(conninfo_value(s->main, "keepalives", v, sizeof v), "1");
    CHECK_STR(conninfo_value(s->main, "keepalives_idle", v, sizeof v), "5");
    CHECK_STR(conninfo_value(s->main, "keepalives_interval", v, sizeof v), "2");
    CHECK_STR(conninfo_value(s->main, "keepalives_count", v, sizeof v), "3");
    CHECK_STR(conninfo_value(s->main, "tcp_user_timeout", v, sizeof v), "10000");
    mc_store_destroy(&s);

    /* the configured values, and the conninfo's over them */
    tcp_conninfo(ci, sizeof ci, "127.0.0.1", port, "keepalives_idle=7 tcp_user_timeout=0");
    s = mc_store_new(ci, 5, 0);
    mc_store_tcp_t tcp = {11, 4, 6, 20000};
    mc_store_set_tcp(s, &tcp);
    REQUIRE(s && mc_store_connect(s, &err) == MC_STORE_OK);
    CHECK_STR(conninfo_value(s->main, "keepalives_idle", v, sizeof v), "7");
    CHECK_STR(conninfo_value(s->main, "tcp_user_timeout", v, sizeof v), "0");
    CHECK_STR(conninfo_value(s->main, "keepalives_interval", v, sizeof v), "4");
    CHECK_STR(conninfo_value(s->main, "keepalives_count", v, sizeof v), "6");
    mc_store_destroy(&s);
}

MC_TEST(multi_host_follows_the_live_one_and_names_every_dead_one)
{
    int dead1 = harness_free_port(H.pg_port), dead2 = harness_free_port(dead1);
    char ci[512], ports[64];
    snprintf(ports, sizeof ports, "%d,%d", dead1, H.pg_port);
    tcp_conninfo(ci, sizeof ci, "127.0.0.1,127.0.0.1", ports,
                 "target_session_attrs=read-write password=s3cret");
    mc_store_t *s = mc_store_new(ci, 5, 0);
    mc_err_t err;
    mc_err_clear(&err);
    REQUIRE(s && mc_store_connect(s, &err) == MC_STORE_OK);
    CHECK_INT(atoi(PQport(s->main)), H.pg_port);
    mc_store_destroy(&s);

    snprintf(ports, sizeof ports, "%d,%d", dead1, dead2);
    tcp_conninfo(ci, sizeof ci, "127.0.0.1,127.0.0.1", ports, "target_session_attrs=read-write");
    s = mc_store_new(ci, 5, 0);
    REQUIRE(s);
    CHECK(mc_store_connect(s, &err) == MC_STORE_UNAVAILABLE);
    char line[1024], want1[32], want2[32];
    mc_err_first(&err, line, sizeof line);
    snprintf(want1, sizeof want1, "port %d failed", dead1);
    snprintf(want2, sizeof want2, "port %d failed", dead2);
    CHECK(strstr(line, want1) != NULL);
    CHECK(strstr(line, want2) != NULL);
    CHECK_INT(err.count, 1); /* one message, one line */
    mc_store_destroy(&s);

    /* a password that would appear in a message is redacted */
    mc_store_conn_error("bad\n\tpassword=s3cret host=x\nsecond", line, sizeof line);
    CHECK_STR(line, "bad | password=*** host=x | second");
}

/* submit - one dossier under sid: its receipt code into code (64 bytes) and 0; the
 * rejection's retryable flag into *retryable and 1; -1 without a reply */
static int submit(const char *sid, char *code, int *retryable, int timeout_ms)
{
    harness_dossier_t d;
    harness_dossier_init(&d, sid);
    Motcua__V1__IntakeReply *r = NULL;
    if (harness_request(&H, &d.request, timeout_ms, &r) != 0 || !r)
        return -1;
    int rc = -1;
    if (r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT) {
        snprintf(code, 64, "%s", r->receipt->dossier_code);
        rc = 0;
    } else if (r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION) {
        printf("  %s: %s\n", sid, harness_reason_name(r->rejection->reason));
        if (retryable)
            *retryable = r->rejection->retryable;
        rc = 1;
    }
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    return rc;
}

/* seq_of - the NNNN of a code */
static int seq_of(const char *code)
{
    const char *dash = strrchr(code, '-');
    return dash ? atoi(dash + 1) : -1;
}

/* sql - a statement on the assertion connection; 0 or -1 */
static int sql(const char *text)
{
    return harness_exec(&H, text);
}

/* drop_intake_connections - end intake's sessions (its next batch reconnects) */
static int drop_intake_connections(void)
{
    if (sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'motcua-intake'") != 0)
        return -1;
    return harness_wait_count(&H, "SELECT count(*) FROM pg_stat_activity"
                                  " WHERE application_name = 'motcua-intake'", NULL, 0, 10000) == 0
               ? 0 : -1;
}

MC_TEST(new_timeline_moves_counters_and_taken_codes_are_skipped)
{
    char first[64], moved[64], skipped[64];
    REQUIRE(submit("fo-code-1", first, NULL, 10000) == 0);
    int n = seq_of(first);
    CHECK(n >= 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM store_timeline", NULL), 1);
    /* the primary as intake last saw it was another timeline: a promotion happened */
    REQUIRE(sql("UPDATE store_timeline SET timeline = timeline + 1") == 0);
    REQUIRE(drop_intake_connections() == 0);
    REQUIRE(submit("fo-code-2", moved, NULL, 10000) == 0);
    CHECK_INT(seq_of(moved), n + MC_STORE_CODE_GAP + 1);
    CHECK(harness_run("grep -q 'code_counters_moved' %s/intake.log", H.dir) == 0);
    /* noted: the next connection moves nothing */
    REQUIRE(drop_intake_connections() == 0);
    REQUIRE(submit("fo-code-3", skipped, NULL, 10000) == 0);
    CHECK_INT(seq_of(skipped), n + MC_STORE_CODE_GAP + 2);
    /* a counter set back (a restored backup): the taken numbers are skipped */
    char back[128];
    snprintf(back, sizeof back, "UPDATE dossier_code_counter SET last_seq = %d",
             n + MC_STORE_CODE_GAP);
    REQUIRE(sql(back) == 0);
    REQUIRE(submit("fo-code-4", skipped, NULL, 10000) == 0);
    CHECK_INT(seq_of(skipped), n + MC_STORE_CODE_GAP + 3);
    CHECK_INT(harness_count(&H, "SELECT count(DISTINCT code) - count(*) FROM dossier", NULL), 0);
}

/* pg_as_owner - the shell prefix that runs a PostgreSQL program as the data's owner */
#define PG_BIN "bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1); " \
               "as=''; [ \"$(id -u)\" -eq 0 ] && as='runuser -u postgres --'; "

/* standby_start - a streaming standby of H's cluster in DIR/standby (made once) */
static int standby_start(void)
{
    if (standby_port == 0) {
        standby_port = harness_free_port(H.pg_port);
        if (harness_run("mkdir -p %s/standby && { [ \"$(id -u)\" -ne 0 ] || chown postgres %s/standby; } && "
                        PG_BIN "$as $bin/pg_basebackup -h %s/pg -p %d -U postgres -D %s/standby/data"
                        " -R -X stream -c fast >%s/basebackup.log 2>&1",
                        H.dir, H.dir, H.dir, H.pg_port, H.dir, H.dir) != 0)
            return -1;
    }
    return harness_run("sh tests/pgtmp.sh start %s/standby %d -c fsync=off >>%s/pgtmp.log 2>&1",
                       H.dir, standby_port, H.dir) == 0 ? 0 : -1;
}

/* standby_stop - fast shutdown of the standby */
static int standby_stop(void)
{
    return harness_run("sh tests/pgtmp.sh stop %s/standby >>%s/pgtmp.log 2>&1", H.dir, H.dir);
}

/* wait_sync - the standby streaming as the synchronous one */
static int wait_sync(void)
{
    return harness_wait_count(&H, "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'",
                              NULL, 1, 15000) == 1 ? 0 : -1;
}

/* stop_sync_waiter - wait for a backend waiting for the standby, then cancel its wait
 * (or terminate it: terminate); 0 or -1 */
static int stop_sync_waiter(bool terminate)
{
    if (harness_wait_count(&H, "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'",
                           NULL, 1, 15000) != 1)
        return -1;
    /* OFFSET 0: the filter runs first, so we never cancel ourselves */
    return harness_count(&H, terminate
                                 ? "SELECT count(*) FROM (SELECT pid FROM pg_stat_activity WHERE"
                                   " wait_event = 'SyncRep' OFFSET 0) w WHERE pg_terminate_backend(w.pid)"
                                 : "SELECT count(*) FROM (SELECT pid FROM pg_stat_activity WHERE"
                                   " wait_event = 'SyncRep' OFFSET 0) w WHERE pg_cancel_backend(w.pid)",
                         NULL) == 1 ? 0 : -1;
}

/* cancel_sync_waiter - stop_sync_waiter(false) */
static int cancel_sync_waiter(void)
{
    return stop_sync_waiter(false);
}

/* a store call run on a thread while the test cancels its wait */
typedef struct store_call {
    mc_store_t   *store; /* the store */
    bool          write; /* a write transaction (BEGIN; stmt or stmt_take_xid; COMMIT), else connect */
    const mc_stmt_t *stmt; /* the write's statement; NULL = stmt_take_xid */
    mc_store_rc_t rc;    /* its outcome */
    mc_err_t      err;   /* its error */
} store_call_t;

/* a write: WAL and an xid (an xid alone commits without waiting for the standby) */
static const mc_stmt_t stmt_take_xid = {"it_take_xid", 0,
                                        "SELECT pg_logical_emit_message(true, 'it', 'write')"};

/* store_call_main - the call of arg */
static void *store_call_main(void *arg)
{
    store_call_t *c = arg;
    mc_err_clear(&c->err);
    if (!c->write) {
        c->rc = mc_store_connect(c->store, &c->err);
        return NULL;
    }
    c->rc = mc_store_begin(c->store, MC_TX_WRITE, &c->err);
    if (c->rc == MC_STORE_OK)
        c->rc = mc_store_run(c->store, c->stmt ? c->stmt : &stmt_take_xid, NULL, NULL, NULL,
                             &c->err);
    c->rc = mc_store_end(c->store, c->rc, &c->err);
    return NULL;
}

/* stopped_call - run the call on a thread, cancel its wait for the standby (or terminate
 * its backend); its outcome */
static mc_store_rc_t stopped_call(store_call_t *c, bool terminate)
{
    pthread_t t;
    if (pthread_create(&t, NULL, store_call_main, c) != 0)
        return MC_STORE_FAILED;
    int cancelled = stop_sync_waiter(terminate);
    pthread_join(t, NULL);
    if (cancelled != 0 || c->rc != MC_STORE_UNAVAILABLE) {
        char line[512];
        printf("  store call: cancelled=%d rc=%d err=%s\n", cancelled, (int)c->rc,
               mc_err_first(&c->err, line, sizeof line));
    }
    return cancelled == 0 ? c->rc : MC_STORE_FAILED;
}

/* cancelled_call - stopped_call with a cancel */
static mc_store_rc_t cancelled_call(store_call_t *c)
{
    return stopped_call(c, false);
}

/* a submission run on a thread */
typedef struct submit_call {
    const char *sid;       /* submission_id */
    char        code[64];  /* receipt code */
    int         retryable; /* rejection: retryable */
    int         rc;        /* submit's outcome */
} submit_call_t;

/* submit_main - submit arg's dossier */
static void *submit_main(void *arg)
{
    submit_call_t *c = arg;
    c->rc = submit(c->sid, c->code, &c->retryable, 20000);
    return NULL;
}

/* a row whose deferred check sleeps at COMMIT: a COMMIT that takes long enough to be cut */
static const mc_stmt_t stmt_slow_commit = {"it_slow_commit", 0, "INSERT INTO it_slow VALUES (1)"};

MC_TEST(connection_lost_during_commit_is_unknown)
{
    REQUIRE(sql("CREATE TABLE it_slow (x integer)") == 0);
    REQUIRE(sql("CREATE FUNCTION it_sleep() RETURNS trigger LANGUAGE plpgsql AS"
                " $$ BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$") == 0);
    REQUIRE(sql("CREATE CONSTRAINT TRIGGER it_slow_check AFTER INSERT ON it_slow"
                " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION it_sleep()") == 0);
    mc_store_t *s = mc_store_new(H.conninfo, 5, 0);
    store_call_t call = {.store = s, .write = true, .stmt = &stmt_slow_commit};
    REQUIRE(s && mc_store_connect(s, &call.err) == MC_STORE_OK);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, store_call_main, &call) == 0);
    /* OFFSET 0: the filter runs first, so we never end ourselves */
    CHECK(harness_wait_count(&H, "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'",
                             NULL, 1, 15000) == 1);
    CHECK(harness_count(&H, "SELECT count(*) FROM (SELECT pid FROM pg_stat_activity WHERE"
                            " wait_event = 'PgSleep' OFFSET 0) w WHERE pg_terminate_backend(w.pid)",
                        NULL) == 1);
    pthread_join(t, NULL);
    CHECK_INT(call.rc, MC_STORE_UNAVAILABLE);
    CHECK_INT(call.err.code, MC_ERR_UNKNOWN_COMMIT);
    /* resolved by the next connection's barrier */
    mc_err_clear(&call.err);
    CHECK_INT(mc_store_connect(s, &call.err), MC_STORE_OK);
    CHECK_INT(call.err.code, MC_ERR_NONE);
    mc_store_destroy(&s);
}

MC_TEST(unknown_commit_is_never_done_and_is_resolved_by_retry)
{
    REQUIRE(standby_start() == 0);
    /* a standby, asynchronous: a program that connects says a failover may lose work */
    REQUIRE(harness_wait_count(&H, "SELECT count(*) FROM pg_stat_replication", NULL, 1, 15000) == 1);
    CHECK(harness_motcua(&H, "queues") == 0);
    CHECK(harness_run("grep -q 'event=replication_not_synchronous' %s/motcua.out", H.dir) == 0);
    REQUIRE(sql("ALTER SYSTEM SET synchronous_standby_names = '*'") == 0);
    REQUIRE(sql("SELECT pg_reload_conf()") == 0);
    REQUIRE(wait_sync() == 0);
    CHECK(harness_motcua(&H, "queues") == 0);
    CHECK(harness_run("grep -q 'replication_not_synchronous' %s/motcua.out", H.dir) != 0);
    mc_store_t *s = mc_store_new(H.conninfo, 5, 2000), *s2 = mc_store_new(H.conninfo, 5, 2000);
    store_call_t call = {.store = s, .write = false}, call2 = {.store = s2, .write = true};
    REQUIRE(s && mc_store_connect(s, &call.err) == MC_STORE_OK); /* barrier with the standby up */
    REQUIRE(s2 && mc_store_connect(s2, &call2.err) == MC_STORE_OK);
    char code[64];
    REQUIRE(submit("fo-sync-warm", code, NULL, 10000) == 0);

    REQUIRE(standby_stop() == 0);
    /* a COMMIT waiting for the standby, cancelled: committed locally, unknown */
    call.write = true;
    CHECK_INT(cancelled_call(&call), MC_STORE_UNAVAILABLE);
    CHECK_INT(call.err.code, MC_ERR_UNKNOWN_COMMIT);
    CHECK(!mc_store_connected(s));
    /* the connection lost during a COMMIT (terminated while it waits): unknown */
    CHECK_INT(stopped_call(&call2, true), MC_STORE_UNAVAILABLE);
    CHECK_INT(call2.err.code, MC_ERR_UNKNOWN_COMMIT);
    mc_store_destroy(&s2);
    /* the next connection's barrier waits for the standby too: still unknown */
    call.write = false;
    CHECK_INT(cancelled_call(&call), MC_STORE_UNAVAILABLE);
    CHECK_INT(call.err.code, MC_ERR_UNKNOWN_COMMIT);

    /* intake: the receipt's commit cancelled the same way: a retryable rejection */
    submit_call_t sub = {.sid = "fo-sync-1"};
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, submit_main, &sub) == 0);
    CHECK(cancel_sync_waiter() == 0);
    pthread_join(t, NULL);
    CHECK_INT(sub.rc, 1);
    CHECK_INT(sub.retryable, 1);
    CHECK(harness_run("grep -q 'store_commit_unknown' %s/intake.log", H.dir) == 0);
    /* committed locally: the truth the retry must find, not a second dossier */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE submission_id = $1",
                            "fo-sync-1"), 1);

    /* the standby back: the barrier commits; the client's retry gets that dossier's receipt */
    REQUIRE(standby_start() == 0);
    REQUIRE(wait_sync() == 0);
    mc_err_clear(&call.err);
    CHECK_INT(mc_store_connect(s, &call.err), MC_STORE_OK);
    char again[64] = "";
    int rc = -1;
    int64_t deadline = harness_now_ms() + 15000;
    while ((rc = submit("fo-sync-1", again, NULL, 10000)) == 1 && harness_now_ms() < deadline)
        usleep(100000); /* intake reconnects after intake.reconnect_ms */
    CHECK_INT(rc, 0);
    char want[64] = "";
    PGresult *res = PQexecParams(harness_db(&H), "SELECT code FROM dossier WHERE submission_id = $1",
                                 1, NULL, (const char *const[]){"fo-sync-1"}, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        snprintf(want, sizeof want, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    CHECK_STR(again, want);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE submission_id = $1",
                            "fo-sync-1"), 1);
    mc_store_destroy(&s);
    sql("ALTER SYSTEM RESET synchronous_standby_names");
    sql("SELECT pg_reload_conf()");
    standby_stop();
}

int main(void)
{
    if (harness_setup(&H, "it_store_failover", 2) != 0 || harness_start_intake(&H) != 0) {
        printf("not ok - setup\n");
        harness_teardown(&H);
        printf("it_store_failover: 0 passed, 1 failed\n");
        return 1;
    }
    mc_test_run(keepalive_defaults_and_conninfo_override);
    mc_test_run(multi_host_follows_the_live_one_and_names_every_dead_one);
    mc_test_run(new_timeline_moves_counters_and_taken_codes_are_skipped);
    mc_test_run(connection_lost_during_commit_is_unknown);
    mc_test_run(unknown_commit_is_never_done_and_is_resolved_by_retry);
    standby_stop();
    harness_teardown(&H);
    return mc_test_done("it_store_failover");
}
