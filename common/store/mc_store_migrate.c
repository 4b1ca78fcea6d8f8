/*
 * mc_store_migrate - the migration runner (contract in mc_store.h): apply the
 * embedded migrations (mc_migrations.h) to a store that may be large and live.
 *
 * The runner's session has no statement_timeout (a migration may take as long
 * as its table needs) and a short lock_timeout: a statement that cannot get
 * its lock gives up after lock_timeout_ms instead of queueing behind a long
 * transaction while every reader queues behind it; the unit is retried after
 * a growing backoff, each retry logged, at most lock_retries times.
 *
 * Two kinds of migration file:
 *   - plain: the whole file and its schema_migration row in one transaction;
 *   - first line `-- motcua:no-transaction`: the statements one by one, each
 *     committing on its own (CREATE INDEX CONCURRENTLY cannot run in a
 *     transaction), the schema_migration row written only after all of them
 *     succeeded. Every statement must be idempotent, since a migration cut
 *     short (crash, lock not granted) runs again from its first statement:
 *     IF [NOT] EXISTS, CREATE OR REPLACE, DO blocks that look first. A CREATE
 *     INDEX CONCURRENTLY whose earlier attempt failed leaves an INVALID index
 *     that IF NOT EXISTS would keep: the runner drops it first. A statement
 *     preceded by a `-- motcua:batch` comment line is one batch of a backfill:
 *     it takes $1, a cursor (0 at first; the last id done), changes at most
 *     a bounded number of rows after it and returns one row (the next
 *     cursor or NULL when done, the rows changed); the runner runs it again
 *     with each new cursor, each batch its own short transaction. Statements
 *     from a `BEGIN;` to the next `COMMIT;` are one unit: one transaction,
 *     retried as a whole.
 * Concurrent runners serialise on an advisory lock.
 */
#include "mc_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libpq-fe.h>

#include "mc_log.h"
#include "mc_migrations.h"
#include "mc_store_int.h"

#define MIGRATE_LOCK_KEY      "7270010001" /* pg_advisory_lock key for migrations */
#define MIGRATE_MAX_BACKOFF   30000        /* ms: the longest wait between attempts */
#define MARK_NO_TRANSACTION   "-- motcua:no-transaction"
#define MARK_BATCH            "-- motcua:batch"
#define SQLSTATE_LOCK_TIMEOUT "55P03"      /* lock_not_available: lock_timeout expired */

/* one unit of work the runner may retry after a lock timeout */
typedef struct unit {
    const mc_migration_t *m;     /* the migration it belongs to */
    const char           *sql;   /* a statement, a BEGIN ... COMMIT group, or the whole file */
    bool                  batch; /* a `-- motcua:batch` statement: run once per cursor */
} unit_t;

/* mc_store_migrate_defaults - the documented defaults */
void mc_store_migrate_defaults(mc_store_migrate_opts_t *opts)
{
    opts->target = 0;
    opts->lock_timeout_ms = MC_STORE_MIGRATE_LOCK_TIMEOUT_MS;
    opts->lock_retries = MC_STORE_MIGRATE_LOCK_RETRIES;
    opts->backoff_ms = MC_STORE_MIGRATE_BACKOFF_MS;
}

/* sleep_ms - wait ms milliseconds (signals may cut it short: harmless here) */
static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* lock_timed_out - did res fail because a lock was not granted in time? */
static bool lock_timed_out(const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return state && strcmp(state, SQLSTATE_LOCK_TIMEOUT) == 0;
}

/* run_sql - one parameterless command (or script) on main. A lock timeout
 * sets *locked (when locked is not NULL) and adds nothing to err: the caller
 * retries; any other failure is classified into err. */
static mc_store_rc_t run_sql(mc_store_t *store, const char *sql, const char *what, bool *locked,
                             mc_err_t *err)
{
    PGresult *res = PQexec(store->main, sql);
    ExecStatusType st = PQresultStatus(res);
    mc_store_rc_t rc = MC_STORE_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        if (locked && lock_timed_out(res)) {
            *locked = true;
            rc = MC_STORE_FAILED;
        } else {
            rc = mc_store_classify(store, store->main, res, what, err);
        }
    }
    PQclear(res);
    return rc;
}

/* run_params - one parameterised command on main, classified into err */
static mc_store_rc_t run_params(mc_store_t *store, const char *sql, int n,
                                const char *const *params, const char *what, PGresult **out,
                                mc_err_t *err)
{
    PGresult *res = PQexecParams(store->main, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        mc_store_rc_t rc = mc_store_classify(store, store->main, res, what, err);
        PQclear(res);
        return rc;
    }
    if (out)
        *out = res;
    else
        PQclear(res);
    return MC_STORE_OK;
}

/* set_session - the runner's own session settings: statement_timeout 0, lock_timeout ms */
static mc_store_rc_t set_session(mc_store_t *store, int lock_timeout_ms, mc_err_t *err)
{
    char lock_ms[24];
    snprintf(lock_ms, sizeof lock_ms, "%d", lock_timeout_ms);
    const char *p[2] = {"0", lock_ms};
    return run_params(store,
                      "SELECT set_config('statement_timeout', $1, false),"
                      " set_config('lock_timeout', $2, false)",
                      2, p, "migrate session", NULL, err);
}

/* record - the migration's schema_migration row (in the caller's transaction, if any) */
static mc_store_rc_t record(mc_store_t *store, const mc_migration_t *m, mc_err_t *err)
{
    char vtext[16];
    snprintf(vtext, sizeof vtext, "%d", m->version);
    const char *p[2] = {vtext, m->name};
    return run_params(store,
                      "INSERT INTO schema_migration (version, name) VALUES ($1::integer, $2)"
                      " ON CONFLICT (version) DO NOTHING",
                      2, p, "migrate record", NULL, err);
}

/* is_space - SQL whitespace */
static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* dollar_tag_len - length of the dollar-quote tag ("$$", "$body$") at s, or 0 */
static size_t dollar_tag_len(const char *s)
{
    if (s[0] != '$')
        return 0;
    size_t n = 1;
    if (s[1] >= '0' && s[1] <= '9')
        return 0; /* $1: a parameter, not a quote */
    while (s[n] == '_' || (s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
           (n > 1 && s[n] >= '0' && s[n] <= '9'))
        n++;
    return s[n] == '$' ? n + 1 : 0;
}

/*
 * next_statement - the statement of sql starting at *pos: [*start, *end)
 * with its leading comments, *code the offset of its first character that
 * is not comment or space; *pos moves past it. Splits at semicolons outside
 * quotes, dollar quotes and comments. False when only comments are left.
 */
static bool next_statement(const char *sql, size_t *pos, size_t *start, size_t *code,
                           size_t *end)
{
    size_t i = *pos;
    bool seen = false;
    *start = i;
    while (sql[i]) {
        char c = sql[i];
        if (c == '-' && sql[i + 1] == '-') {
            while (sql[i] && sql[i] != '\n')
                i++;
            continue;
        }
        if (c == '/' && sql[i + 1] == '*') {
            const char *close = strstr(sql + i + 2, "*/");
            i = close ? (size_t)(close - sql) + 2 : strlen(sql);
            continue;
        }
        if (is_space(c)) {
            i++;
            continue;
        }
        if (!seen) {
            seen = true;
            *code = i;
        }
        size_t tag = dollar_tag_len(sql + i);
        if (c == '\'' || c == '"') {
            const char *close = strchr(sql + i + 1, c); /* '' inside: two closes, same result */
            i = close ? (size_t)(close - sql) + 1 : strlen(sql);
        } else if (tag) {
            const char *close = NULL;
            for (const char *p = sql + i + tag; (p = strchr(p, '$')) != NULL; p++)
                if (strncmp(p, sql + i, tag) == 0) {
                    close = p;
                    break;
                }
            i = close ? (size_t)(close - sql) + tag : strlen(sql);
        } else if (c == ';') {
            i++;
            break;
        } else {
            i++;
        }
    }
    *end = i;
    *pos = i;
    return seen;
}

/* next_word - the word at *s (up to space, '(' or ';'), *s moved past it; its length */
static size_t next_word(const char **s, const char **word)
{
    while (is_space(**s))
        (*s)++;
    size_t n = 0;
    while ((*s)[n] && !is_space((*s)[n]) && (*s)[n] != '(' && (*s)[n] != ';')
        n++;
    *word = *s;
    *s += n;
    return n;
}

/* word_is - is the n-character word w the keyword kw (any case)? */
static bool word_is(const char *w, size_t n, const char *kw)
{
    return strlen(kw) == n && strncasecmp(w, kw, n) == 0;
}

/* concurrent_index_name - the index a CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT
 * EXISTS] name statement builds, into name; false for any other statement */
static bool concurrent_index_name(const char *stmt, char *name, size_t size)
{
    const char *s = stmt, *w;
    size_t n = next_word(&s, &w);
    if (!word_is(w, n, "create"))
        return false;
    n = next_word(&s, &w);
    if (word_is(w, n, "unique"))
        n = next_word(&s, &w);
    if (!word_is(w, n, "index"))
        return false;
    n = next_word(&s, &w);
    if (!word_is(w, n, "concurrently"))
        return false;
    n = next_word(&s, &w);
    if (word_is(w, n, "if")) {
        next_word(&s, &w); /* not */
        next_word(&s, &w); /* exists */
        n = next_word(&s, &w);
    }
    if (n == 0 || n >= size || word_is(w, n, "on"))
        return false; /* an unnamed index: nothing to look for */
    memcpy(name, w, n);
    name[n] = '\0';
    return true;
}

/* drop_invalid_index - an INVALID index of that name (a CREATE INDEX CONCURRENTLY
 * cut short) dropped, so the CREATE ... IF NOT EXISTS about to run builds it */
static mc_store_rc_t drop_invalid_index(mc_store_t *store, const mc_migration_t *m,
                                        const char *name, bool *locked, mc_err_t *err)
{
    const char *p[1] = {name};
    PGresult *res = NULL;
    mc_store_rc_t rc = run_params(store,
                                  "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                                  " WHERE c.relname = $1 AND pg_table_is_visible(c.oid)"
                                  " AND NOT i.indisvalid",
                                  1, p, "migrate invalid index", &res, err);
    if (rc != MC_STORE_OK)
        return rc;
    bool invalid = PQntuples(res) > 0;
    PQclear(res);
    if (!invalid)
        return MC_STORE_OK;
    /* DROP INDEX takes no parameters: the name comes from the embedded,
     * reviewed migration file, quoted as an identifier */
    char *quoted = PQescapeIdentifier(store->main, name, strlen(name));
    if (!quoted) {
        mc_err_add(err, "store: migrate: cannot quote index name");
        return MC_STORE_FAILED;
    }
    size_t len = strlen(quoted) + 48;
    char *drop = malloc(len);
    if (!drop) {
        PQfreemem(quoted);
        mc_err_add(err, "store: migrate: out of memory");
        return MC_STORE_FAILED;
    }
    snprintf(drop, len, "DROP INDEX CONCURRENTLY IF EXISTS %s", quoted);
    PQfreemem(quoted);
    mc_log(MC_LOG_WARNING, "migration_invalid_index", "version=%d index=%s action=drop_rebuild",
           m->version, name);
    rc = run_sql(store, drop, "migrate drop invalid index", locked, err);
    free(drop);
    return rc;
}

/* run_batches - a `-- motcua:batch` statement again and again, each run its own
 * transaction: $1 is the cursor ("0" first), the row it returns the next cursor
 * (NULL: done) and the rows that batch changed. After a lock timeout the retry
 * starts again from "0": the batches already done change nothing more. */
static mc_store_rc_t run_batches(mc_store_t *store, const unit_t *u, bool *locked, mc_err_t *err)
{
    char cursor[32] = "0";
    long total = 0;
    int batches = 0;
    for (;;) {
        const char *p[1] = {cursor};
        PGresult *res = PQexecParams(store->main, u->sql, 1, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQnfields(res) < 2) {
            mc_store_rc_t rc = MC_STORE_FAILED;
            if (lock_timed_out(res))
                *locked = true;
            else if (PQresultStatus(res) != PGRES_TUPLES_OK)
                rc = mc_store_classify(store, store->main, res, u->m->name, err);
            else
                mc_err_add(err, "store: migrate %s: a batch statement must return one row"
                           " (next cursor, rows changed)", u->m->name);
            PQclear(res);
            return rc;
        }
        bool done = PQgetisnull(res, 0, 0);
        long rows = atol(PQgetvalue(res, 0, 1));
        if (!done)
            mc_store_copy_text(cursor, sizeof cursor, res, 0, 0);
        PQclear(res);
        total += rows;
        batches++;
        mc_log(MC_LOG_DEBUG, "migration_batch", "version=%d batch=%d rows=%ld cursor=%s",
               u->m->version, batches, rows, done ? "end" : cursor);
        if (done)
            break;
    }
    mc_log(MC_LOG_NOTICE, "migration_backfill", "version=%d batches=%d rows=%ld", u->m->version,
           batches, total);
    return MC_STORE_OK;
}

/* run_statement - one statement of a no-transaction migration, committing on its own */
static mc_store_rc_t run_statement(mc_store_t *store, const unit_t *u, bool *locked,
                                   mc_err_t *err)
{
    char index[64];
    mc_store_rc_t rc;
    if (concurrent_index_name(u->sql, index, sizeof index) &&
        (rc = drop_invalid_index(store, u->m, index, locked, err)) != MC_STORE_OK)
        return rc;
    if (u->batch)
        return run_batches(store, u, locked, err);
    rc = run_sql(store, u->sql, u->m->name, locked, err);
    /* a BEGIN ... COMMIT group cut short leaves its transaction open */
    if (rc != MC_STORE_OK && store->main && PQtransactionStatus(store->main) != PQTRANS_IDLE)
        PQclear(PQexec(store->main, "ROLLBACK"));
    return rc;
}

/* run_transaction - a plain migration: the file and its row in one transaction */
static mc_store_rc_t run_transaction(mc_store_t *store, const unit_t *u, bool *locked,
                                     mc_err_t *err)
{
    mc_store_rc_t rc;
    if ((rc = mc_store_begin(store, MC_TX_SCHEMA, err)) != MC_STORE_OK)
        return rc;
    /* a migration file is a fixed, reviewed script: a simple query runs all its statements */
    if ((rc = run_sql(store, u->sql, u->m->name, locked, err)) == MC_STORE_OK)
        rc = record(store, u->m, err);
    return mc_store_end(store, rc, err);
}

/* with_retry - run(u) again after a growing backoff while its lock is not granted */
static mc_store_rc_t with_retry(mc_store_t *store, const mc_store_migrate_opts_t *opts,
                                const unit_t *u,
                                mc_store_rc_t (*run)(mc_store_t *, const unit_t *, bool *,
                                                     mc_err_t *),
                                mc_err_t *err)
{
    int backoff = opts->backoff_ms;
    for (int attempt = 1;; attempt++) {
        bool locked = false;
        mc_store_rc_t rc = run(store, u, &locked, err);
        if (!locked)
            return rc;
        if (attempt > opts->lock_retries) {
            mc_log(MC_LOG_ERR, "migration_lock_gave_up", "version=%d attempts=%d lock_timeout_ms=%d",
                   u->m->version, attempt, opts->lock_timeout_ms);
            mc_err_add(err,
                       "store: migrate %s: a lock was not granted within %d ms, %d times: a long "
                       "transaction holds it (see pg_stat_activity); end it, or retry with a "
                       "longer --lock-timeout or more --lock-retries",
                       u->m->name, opts->lock_timeout_ms, attempt);
            return MC_STORE_FAILED;
        }
        mc_log(MC_LOG_WARNING, "migration_lock_retry",
               "version=%d attempt=%d of=%d lock_timeout_ms=%d backoff_ms=%d", u->m->version,
               attempt, opts->lock_retries + 1, opts->lock_timeout_ms, backoff);
        sleep_ms(backoff);
        backoff = backoff * 2 > MIGRATE_MAX_BACKOFF ? MIGRATE_MAX_BACKOFF : backoff * 2;
    }
}

/* apply_no_transaction - the statements of m one by one, then its row */
static mc_store_rc_t apply_no_transaction(mc_store_t *store, const mc_store_migrate_opts_t *opts,
                                          const mc_migration_t *m, mc_err_t *err)
{
    size_t pos = 0, start = 0, code = 0, end = 0;
    mc_store_rc_t rc = MC_STORE_OK;
    while (rc == MC_STORE_OK && next_statement(m->sql, &pos, &start, &code, &end)) {
        /* BEGIN; ... COMMIT; is one unit: run (and retried) as a whole */
        const char *w, *at = m->sql + code;
        size_t n = next_word(&at, &w);
        if (word_is(w, n, "begin")) {
            size_t s2, c2;
            do {
                if (!next_statement(m->sql, &pos, &s2, &c2, &end))
                    break;
                at = m->sql + c2;
                n = next_word(&at, &w);
            } while (!word_is(w, n, "commit"));
        }
        char *stmt = strndup(m->sql + code, end - code);
        char *lead = strndup(m->sql + start, code - start);
        if (!stmt || !lead) {
            free(stmt);
            free(lead);
            mc_err_add(err, "store: migrate: out of memory");
            return MC_STORE_FAILED;
        }
        unit_t u = {m, stmt, strstr(lead, MARK_BATCH) != NULL};
        rc = with_retry(store, opts, &u, run_statement, err);
        free(stmt);
        free(lead);
    }
    if (rc == MC_STORE_OK)
        rc = record(store, m, err);
    return rc;
}

/* apply - one migration, by its kind */
static mc_store_rc_t apply(mc_store_t *store, const mc_store_migrate_opts_t *opts,
                           const mc_migration_t *m, mc_err_t *err)
{
    mc_store_rc_t rc;
    bool no_transaction = strncmp(m->sql, MARK_NO_TRANSACTION, strlen(MARK_NO_TRANSACTION)) == 0;
    if (no_transaction) {
        rc = apply_no_transaction(store, opts, m, err);
    } else {
        unit_t u = {m, m->sql, false};
        rc = with_retry(store, opts, &u, run_transaction, err);
    }
    if (rc == MC_STORE_OK)
        mc_log(MC_LOG_NOTICE, "migration_applied", "version=%d name=%s transaction=%s",
               m->version, m->name, no_transaction ? "per_statement" : "one");
    return rc;
}

/* applied_versions - every recorded version (SELECT version ...), or NULL with err */
static PGresult *applied_versions(mc_store_t *store, const char *sql, mc_store_rc_t *rc,
                                  mc_err_t *err)
{
    PGresult *res = PQexec(store->main, sql);
    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        return res;
    *rc = mc_store_classify(store, store->main, res, "migrate version", err);
    PQclear(res);
    return NULL;
}

/* recorded_row - the row of res (first column version) holding version, or -1 */
static int recorded_row(const PGresult *res, int version)
{
    for (int r = 0; r < PQntuples(res); r++)
        if (atoi(PQgetvalue(res, r, 0)) == version)
            return r;
    return -1;
}

/* mc_store_migrate - every migration, the default waits */
mc_store_rc_t mc_store_migrate(mc_store_t *store, int *applied, int *version, mc_err_t *err)
{
    mc_store_migrate_opts_t opts;
    mc_store_migrate_defaults(&opts);
    return mc_store_migrate_with(store, &opts, applied, version, err);
}

/* mc_store_migrate_with - apply every embedded migration (up to opts->target) not recorded */
mc_store_rc_t mc_store_migrate_with(mc_store_t *store, const mc_store_migrate_opts_t *opts,
                                    int *applied, int *version, mc_err_t *err)
{
    *applied = 0;
    *version = 0;
    mc_store_rc_t rc = mc_store_connect_raw(store, err);
    if (rc != MC_STORE_OK)
        return rc;
    /* another runner holds the advisory lock for as long as it works: wait
     * for it without a lock timeout, then set ours */
    const char *lock_key[1] = {MIGRATE_LOCK_KEY};
    if ((rc = set_session(store, 0, err)) != MC_STORE_OK ||
        (rc = run_params(store, "SELECT pg_advisory_lock($1::bigint)", 1, lock_key,
                         "migrate lock", NULL, err)) != MC_STORE_OK ||
        (rc = set_session(store, opts->lock_timeout_ms, err)) != MC_STORE_OK)
        return rc;
    rc = run_sql(store,
                 "CREATE TABLE IF NOT EXISTS schema_migration ("
                 " version integer PRIMARY KEY, name text NOT NULL,"
                 " applied_at timestamptz NOT NULL DEFAULT now())",
                 "migrate table", NULL, err);
    if (rc != MC_STORE_OK)
        return rc;
    /* every recorded version, not just the highest: migrations made on two
     * branches at once land out of order (0008 before 0007), and one that
     * is missing must still be applied, never skipped for being "older" */
    PGresult *done = applied_versions(store, "SELECT version FROM schema_migration", &rc, err);
    if (!done)
        return rc;
    int current = 0;
    for (int r = 0; r < PQntuples(done); r++)
        if (atoi(PQgetvalue(done, r, 0)) > current)
            current = atoi(PQgetvalue(done, r, 0));
    for (int i = 0; i < mc_migrations_count; i++) {
        const mc_migration_t *m = &mc_migrations[i];
        if (recorded_row(done, m->version) >= 0 || (opts->target > 0 && m->version > opts->target))
            continue;
        if ((rc = apply(store, opts, m, err)) != MC_STORE_OK)
            break;
        if (m->version > current)
            current = m->version;
        (*applied)++;
    }
    PQclear(done);
    if (rc != MC_STORE_OK)
        return rc;
    *version = current;
    PQclear(PQexecParams(store->main, "SELECT pg_advisory_unlock($1::bigint)", 1, NULL, lock_key,
                         NULL, NULL, 0));
    return MC_STORE_OK;
}

/* mc_store_migrate_status - applied or pending, for each embedded migration */
mc_store_rc_t mc_store_migrate_status(mc_store_t *store, mc_store_migration_state_t *states,
                                      int *pending, mc_err_t *err)
{
    *pending = 0;
    mc_store_rc_t rc = mc_store_connect_raw(store, err);
    if (rc != MC_STORE_OK)
        return rc;
    PGresult *done = PQexec(store->main,
                            "SELECT version, to_char(applied_at, 'YYYY-MM-DD HH24:MI:SSOF')"
                            " FROM schema_migration");
    if (PQresultStatus(done) != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(done, PG_DIAG_SQLSTATE);
        bool empty = state && strcmp(state, "42P01") == 0; /* no table yet: all pending */
        if (!empty)
            rc = mc_store_classify(store, store->main, done, "migrate status", err);
        PQclear(done);
        if (!empty)
            return rc;
        done = NULL;
    }
    for (int i = 0; i < mc_migrations_count; i++) {
        mc_store_migration_state_t *s = &states[i];
        int row = done ? recorded_row(done, mc_migrations[i].version) : -1;
        s->version = mc_migrations[i].version;
        s->name = mc_migrations[i].name;
        s->applied = row >= 0;
        s->applied_at[0] = '\0';
        if (row >= 0)
            mc_store_copy_text(s->applied_at, sizeof s->applied_at, done, row, 1);
        else
            (*pending)++;
    }
    PQclear(done);
    return MC_STORE_OK;
}
