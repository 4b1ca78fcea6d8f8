/*
 * it_migrate - migrations on a large, live store (issue 13 point 2): a store
 * at schema 0004 filled by SQL with MOTCUA_MIGRATE_ROWS dossiers (default
 * 50,000 for make check; run once with 1000000 for the figure),
 * then every later migration applied by `motcua-admin migrate` while a
 * reader and a writer keep working on dossier over their own connections.
 *
 * Asserts: no read and no write waited a second or more; the migration
 * completed (the newest schema, every embedded migration applied, --status exit
 * codes 10 then 0); a lock not granted (a long transaction on dossier) is
 * retried with a logged backoff and then succeeds, and one never granted
 * fails after --lock-retries with a clear message; a CREATE INDEX
 * CONCURRENTLY left INVALID is dropped and rebuilt on the next run.
 * Prints the figures (rows, migration time, reads, longest read) so a run
 * can be reported.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "mc_migrations.h"
#include "mc_test.h"

#define DEFAULT_ROWS  50000L
#define MAX_WAIT_MS   1000   /* the longest a read or write may take */
#define MIGRATE_MS    600000 /* the longest the test waits for one migrate run */

static harness_t H;
static long rows_wanted;

/* the workload kept running while the migrations run */
typedef struct load {
    pthread_t      thread;  /* the worker */
    bool           write;   /* false: reads by id; true: an update by id */
    atomic_bool    stop;    /* set to end the loop */
    long           done;    /* statements that succeeded */
    long           failed;  /* statements that failed */
    int64_t        max_ms;  /* the longest one */
    struct timespec max_at; /* when it started (wall clock, to match the migration's log) */
    char           error[200]; /* the first failure's message */
} load_t;

static load_t reader = {.write = false}, writer = {.write = true};

/* load_loop - one statement by random id after another until stop */
static void *load_loop(void *arg)
{
    load_t *l = arg;
    PGconn *conn = PQconnectdb(H.conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        snprintf(l->error, sizeof l->error, "connect: %s", PQerrorMessage(conn));
        l->failed++;
        PQfinish(conn);
        return NULL;
    }
    unsigned seed = l->write ? 7u : 3u;
    const char *sql = l->write ? "UPDATE dossier SET payload = '\\x01'::bytea WHERE id = $1::bigint"
                               : "SELECT code, state FROM dossier WHERE id = $1::bigint";
    while (!atomic_load(&l->stop)) {
        char id[24];
        snprintf(id, sizeof id, "%ld", 1 + (long)(rand_r(&seed) % (unsigned)rows_wanted));
        const char *p[1] = {id};
        int64_t t0 = harness_now_ms();
        struct timespec at;
        clock_gettime(CLOCK_REALTIME, &at);
        PGresult *res = PQexecParams(conn, sql, 1, NULL, p, NULL, NULL, 0);
        int64_t ms = harness_now_ms() - t0;
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            l->done++;
        } else {
            if (!l->failed)
                snprintf(l->error, sizeof l->error, "%s", PQresultErrorMessage(res));
            l->failed++;
        }
        PQclear(res);
        if (ms > l->max_ms) {
            l->max_ms = ms;
            l->max_at = at;
        }
        if (l->write)
            usleep(2000); /* a steady trickle of writes, not a flood */
    }
    PQfinish(conn);
    return NULL;
}

/* admin - run motcua-admin -c CONFIG migrate ARGS... to completion, output in DIR/log; exit status */
static int admin(const char *log, const char *a1, const char *a2, const char *a3, const char *a4,
                 const char *a5, const char *a6)
{
    const char *args[] = {"-c", H.config, "migrate", a1, a2, a3, a4, a5, a6, NULL};
    pid_t pid = harness_spawn(&H, "motcua-admin", log, args);
    return pid > 0 ? harness_wait_exit(&pid, MIGRATE_MS) : -1;
}

/* log_has - does DIR/log contain text? */
static bool log_has(const char *log, const char *text)
{
    return harness_run("grep -q -- '%s' %s/%s", text, H.dir, log) == 0;
}

/* newest - the version of the newest embedded migration (the schema a full migrate reaches) */
static int newest(void)
{
    return mc_migrations[mc_migrations_count - 1].version;
}

MC_TEST(a_store_at_0004_with_many_dossiers)
{
    /* back to an empty schema, then the first four migrations only */
    PGresult *res = PQexec(H.db, "SET client_min_messages = warning;"
                                   " DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
    CHECK_INT(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    CHECK_INT(admin("to4.log", "--to", "4", NULL, NULL, NULL, NULL), 0);
    CHECK_INT(harness_count(&H, "SELECT max(version) FROM schema_migration", NULL), 4);
    int64_t t0 = harness_now_ms();
    char n[24];
    snprintf(n, sizeof n, "%ld", rows_wanted);
    const char *p[1] = {n};
    /* every tenth waits for a supplement (0015 fills it), a third are closed (0005) */
    res = PQexecParams(H.db,
                       "INSERT INTO dossier (code, ward_code, unit_id, receipt_day, seq,"
                       " procedure_code, channel, state, received_at, counted_from, due_at,"
                       " submission_id, payload)"
                       " SELECT 'M-' || g, '00229', 'U' || (g / 9000), DATE '2026-01-05',"
                       " (g % 9000) + 1, '1.001', 1,"
                       " CASE WHEN g % 10 = 0 THEN 4 WHEN g % 3 = 0 THEN 6 ELSE 3 END,"
                       " now() - interval '30 days', now() - interval '30 days',"
                       " now() + interval '10 days', 's' || g, '\\x00'::bytea"
                       " FROM generate_series(1, $1::bigint) g",
                       1, NULL, p, NULL, NULL, 0);
    CHECK_INT(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    res = PQexec(H.db, "ANALYZE dossier");
    PQclear(res);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier", NULL), rows_wanted);
    printf("# filled %ld dossiers in %lld ms\n", rows_wanted, (long long)(harness_now_ms() - t0));
    /* pending migrations: --status says which, and exits 10 */
    CHECK_INT(admin("status1.log", "--status", NULL, NULL, NULL, NULL, NULL), 10);
    CHECK(log_has("status1.log", "0005  0005_reports                  chưa áp dụng"));
    CHECK(log_has("status1.log", "0004  0004_step_overdue             đã áp dụng"));
}

MC_TEST(a_lock_not_granted_is_retried_while_reads_go_on)
{
    /* a long transaction that read dossier holds ACCESS SHARE: 0005's
     * ALTER TABLE cannot have its lock until it ends */
    PGconn *holder = PQconnectdb(H.conninfo);
    REQUIRE(PQstatus(holder) == CONNECTION_OK);
    PGresult *res = PQexec(holder, "BEGIN; SELECT count(*) FROM dossier WHERE id = 1;");
    CHECK_INT(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    const char *args[] = {"-c", H.config, "migrate", "--to", "5", "--lock-timeout", "300",
                          "--lock-retries", "40", NULL};
    pid_t pid = harness_spawn(&H, "motcua-admin", "to5.log", args);
    REQUIRE(pid > 0);
    bool retried = false;
    for (int64_t end = harness_now_ms() + 30000; !retried && harness_now_ms() < end;
         usleep(50000))
        retried = log_has("to5.log", "migration_lock_retry");
    CHECK(retried);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM schema_migration WHERE version = 5", NULL), 0);
    res = PQexec(holder, "COMMIT");
    PQclear(res);
    PQfinish(holder);
    CHECK_INT(harness_wait_exit(&pid, MIGRATE_MS), 0);
    CHECK(log_has("to5.log", "migration_applied version=5"));
    CHECK_INT(harness_count(&H, "SELECT max(version) FROM schema_migration", NULL), 5);
    /* the backfill reached every row */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE rating_token IS NULL"
                                " OR (state >= 5 AND closed_at IS NULL)", NULL), 0);
}

MC_TEST(every_later_migration_applies_while_reads_and_writes_go_on)
{
    int64_t t0 = harness_now_ms();
    CHECK_INT(admin("rest.log", NULL, NULL, NULL, NULL, NULL, NULL), 0);
    printf("# migrations 0006..newest on %ld dossiers: %lld ms\n", rows_wanted,
           (long long)(harness_now_ms() - t0));
    CHECK_INT(harness_count(&H, "SELECT max(version) FROM schema_migration", NULL), newest());
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM schema_migration", NULL), mc_migrations_count);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM pg_index WHERE NOT indisvalid", NULL), 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE state = 4"
                                " AND supplement_requests = 1 AND supplement_due_at IS NOT NULL",
                                NULL),
              rows_wanted / 10);
    CHECK_INT(admin("status2.log", "--status", NULL, NULL, NULL, NULL, NULL), 0);
    /* the same through motcua, which forwards to motcua-admin */
    CHECK_INT(harness_motcua(&H, "migrate --status"), 0);
    CHECK_INT(harness_run("grep -q '0020  0020_hot_claims               đã áp dụng' %s/motcua.out",
                          H.dir), 0);
}

MC_TEST(a_lock_never_granted_fails_clearly_then_an_invalid_index_is_rebuilt)
{
    /* what a CREATE INDEX CONCURRENTLY cut short leaves: the index INVALID
     * and the migration unrecorded */
    PGresult *res = PQexec(H.db,
                           "UPDATE pg_index SET indisvalid = false"
                           " WHERE indexrelid = 'agency_case_queued_idx'::regclass;"
                           " DELETE FROM schema_migration WHERE version = 20;");
    CHECK_INT(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    /* first with its table locked by a transaction that does not end: the
     * runner gives up after its retries, with a message that says why */
    PGconn *holder = PQconnectdb(H.conninfo);
    REQUIRE(PQstatus(holder) == CONNECTION_OK);
    res = PQexec(holder, "BEGIN; LOCK TABLE agency_case IN ACCESS EXCLUSIVE MODE;");
    CHECK_INT(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    CHECK_INT(admin("gaveup.log", "--lock-timeout", "100", "--lock-retries", "2", NULL, NULL), 1);
    CHECK(log_has("gaveup.log", "event=migration_lock_gave_up version=20 attempts=3"));
    CHECK(log_has("gaveup.log", "a lock was not granted within 100 ms, 3 times"));
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM schema_migration WHERE version = 20", NULL), 0);
    PQclear(PQexec(holder, "COMMIT"));
    PQfinish(holder);
    CHECK_INT(admin("again.log", NULL, NULL, NULL, NULL, NULL, NULL), 0);
    CHECK(log_has("again.log", "migration_invalid_index version=20 index=agency_case_queued_idx"));
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM pg_index WHERE NOT indisvalid", NULL), 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM pg_class WHERE relname = 'agency_case_queued_idx'",
                            NULL), 1);
    CHECK_INT(harness_count(&H, "SELECT max(version) FROM schema_migration", NULL), newest());
}

/* stop_load - end both loops and check what they saw */
MC_TEST(no_read_or_write_waited_a_second)
{
    atomic_store(&reader.stop, true);
    atomic_store(&writer.stop, true);
    pthread_join(reader.thread, NULL);
    pthread_join(writer.thread, NULL);
    printf("# reads %ld (failed %ld), longest %lld ms; writes %ld (failed %ld), longest %lld ms\n",
           reader.done, reader.failed, (long long)reader.max_ms, writer.done, writer.failed,
           (long long)writer.max_ms);
    char when[2][32];
    const load_t *both[2] = {&reader, &writer};
    for (int i = 0; i < 2; i++) {
        struct tm tm;
        gmtime_r(&both[i]->max_at.tv_sec, &tm);
        size_t n = strftime(when[i], sizeof when[i], "%H:%M:%S", &tm);
        snprintf(when[i] + n, sizeof when[i] - n, ".%03ld", both[i]->max_at.tv_nsec / 1000000);
    }
    printf("# longest read started at %s UTC, longest write at %s UTC\n", when[0], when[1]);
    if (reader.failed || writer.failed)
        printf("# first failure: %s %s\n", reader.error, writer.error);
    CHECK(reader.done > 100);
    CHECK(writer.done > 10);
    CHECK_INT(reader.failed, 0);
    CHECK_INT(writer.failed, 0);
    CHECK(reader.max_ms < MAX_WAIT_MS);
    CHECK(writer.max_ms < MAX_WAIT_MS);
}

int main(void)
{
    const char *env = getenv("MOTCUA_MIGRATE_ROWS");
    rows_wanted = env && atol(env) > 0 ? atol(env) : DEFAULT_ROWS;
    if (harness_setup(&H, "it_migrate", 1) != 0) {
        printf("not ok - setup\n");
        harness_teardown(&H);
        printf("it_migrate: 0 passed, 1 failed\n");
        return 1;
    }
    mc_test_run(a_store_at_0004_with_many_dossiers);
    if (pthread_create(&reader.thread, NULL, load_loop, &reader) != 0 ||
        pthread_create(&writer.thread, NULL, load_loop, &writer) != 0) {
        printf("not ok - load threads\n");
        harness_teardown(&H);
        printf("it_migrate: 1 passed, 1 failed\n");
        return 1;
    }
    mc_test_run(a_lock_not_granted_is_retried_while_reads_go_on);
    mc_test_run(every_later_migration_applies_while_reads_and_writes_go_on);
    mc_test_run(a_lock_never_granted_fails_clearly_then_an_invalid_index_is_rebuilt);
    mc_test_run(no_read_or_write_waited_a_second);
    harness_teardown(&H);
    return mc_test_done("it_migrate");
}
