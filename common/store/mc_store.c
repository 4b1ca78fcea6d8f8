/*
 * mc_store - PostgreSQL, the source of truth (contract in mc_store.h).
 *
 * One connection per store, committing synchronously. A dossier's number is taken
 * in the transaction that creates it: the row lock on a ward's counter is
 * then held across the WAL flush, which is why intake creates its dossiers
 * in batches, one transaction (and one flush) per batch of the receipts that
 * arrived together (mc_store_create_dossiers).
 */
#include "mc_store.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "mc_log.h"
#include "mc_migrations.h"
#include "mc_store_int.h"
#include "mc_limits.h"

static const mc_stmt_t stmt_begin_write = {"store_begin", 0, "BEGIN"};
static const mc_stmt_t stmt_commit = {"store_commit", 0, "COMMIT"};
static const mc_stmt_t stmt_begin_snapshot = {"store_begin_snapshot", 0,
    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"};
/* one submission key at a time: a concurrent attempt with the same key (from
 * another intake) waits here until the first one's transaction ends, then
 * finds its key instead of taking a number. A transaction lock, taken in the
 * receiving transaction before the key is looked up; two keys that share a
 * hash only wait for each other. */
static const mc_stmt_t stmt_key_lock = {"key_xact_lock", 2,
     "SELECT pg_advisory_xact_lock(7270011, hashtext($1 || ' ' || $2))"};
/* the key's stored answer, or the ward's next number (migration 0001); in the
 * receiving transaction, so the number commits with its dossier */
static const mc_stmt_t stmt_receive_code = {"receive_code", 4,
     "SELECT seq, request_sha256, response FROM mc_reserve_code($1, $2, $3, $4::date)"};
static const mc_stmt_t stmt_create_dossier = {"create_dossier", 20,
     "SELECT created, dossier_id, request_sha256, response FROM mc_create_dossier("
     "$1, $2, $3, $4, $5, $6, $7::date, $8::integer, $9, $10::smallint,"
     " to_timestamp($11::bigint), to_timestamp($12::bigint), to_timestamp($13::bigint),"
     " $14, $15, $16, $17, $18::uuid, $19::smallint, to_timestamp($20::bigint))"};
/* a dossier received at another ward than its competent one (migration 0016) */
static const mc_stmt_t stmt_create_dossier_fwd = {"create_dossier_fwd", 23,
     "SELECT created, dossier_id, request_sha256, response FROM mc_create_dossier("
     "$1, $2, $3, $4, $5, $6, $7::date, $8::integer, $9, $10::smallint,"
     " to_timestamp($11::bigint), to_timestamp($12::bigint), to_timestamp($13::bigint),"
     " $14, $15, $16, $17, $18::uuid, $19::smallint, to_timestamp($20::bigint),"
     " $21, to_timestamp($22::bigint), $23)"};
/* what makes a COMMIT wait for the synchronous standby even when its transaction wrote
 * nothing: a transactional message takes an xid AND writes WAL, so the COMMIT flushes
 * and waits up to an LSN past every commit before it (an xid alone does not:
 * RecordTransactionCommit waits only when the transaction wrote WAL before its commit
 * record; measured: SELECT txid_current() committed at once with the standby down).
 * Logical decoding sees a message with prefix "motcua", which consumers skip. */
#define MC_STORE_WAL_WRITE "pg_logical_emit_message(true, 'motcua', 'durable')"
/* queued before every pipelined COMMIT (pipe_commit_send): a batch whose items were all
 * found done already (a replayed receipt, a duplicate ack or result) writes nothing, yet
 * what it answers may come from a transaction whose wait for the standby was cancelled
 * (another instance's, or ours before a crash); with this its COMMIT returns only once
 * that is on the standby. Only such a batch writes the message: one that took an xid
 * wrote WAL with it (our statements take one only by inserting, updating or locking a
 * row, each WAL-logged), so its own COMMIT already waits past every commit before it.
 * pipe_result skips its result (by the column's name). */
static const mc_stmt_t stmt_durable = {"store_durable", 0,
    "SELECT CASE WHEN pg_current_xact_id_if_assigned() IS NULL THEN " MC_STORE_WAL_WRITE
    " END AS motcua_durable"};
static const mc_stmt_t stmt_dossier_by_code = {"dossier_by_code", 1,
     "SELECT id, code, ward_code, procedure_code, state, channel,"
     " extract(epoch FROM received_at)::bigint, extract(epoch FROM counted_from)::bigint,"
     " extract(epoch FROM due_at)::bigint, rating_token::text,"
     " coalesce(extract(epoch FROM accept_due_at)::bigint, 0),"
     " coalesce(extract(epoch FROM accepted_at)::bigint, 0), coalesce(receiving_ward, '')"
     " FROM dossier WHERE code = $1"};
static const mc_stmt_t stmt_dossier_events = {"dossier_events", 2,
     "SELECT at_s, actor, kind, detail FROM ("
     " SELECT id, extract(epoch FROM at)::bigint AS at_s, actor, kind, detail"
     " FROM dossier_event WHERE dossier_id = $1::bigint ORDER BY id DESC LIMIT $2::integer"
     ") newest ORDER BY id"};

/* mc_store_new - an unconnected store */
mc_store_t *mc_store_new(const char *conninfo, int connect_timeout_s, int statement_timeout_ms)
{
    mc_store_t *store = calloc(1, sizeof *store);
    if (!store)
        return NULL;
    store->conninfo = strdup(conninfo ? conninfo : "");
    if (!store->conninfo) {
        free(store);
        return NULL;
    }
    store->connect_timeout_s = connect_timeout_s > 0 ? connect_timeout_s : 2;
    store->statement_timeout_ms = statement_timeout_ms > 0 ? statement_timeout_ms : 0;
    store->tcp = (mc_store_tcp_t){MC_STORE_KEEPALIVES_IDLE_S, MC_STORE_KEEPALIVES_INTERVAL_S,
                                  MC_STORE_KEEPALIVES_COUNT, MC_STORE_TCP_USER_TIMEOUT_MS};
    return store;
}

/* mc_store_set_tcp - keepalive defaults of the next connections */
void mc_store_set_tcp(mc_store_t *store, const mc_store_tcp_t *tcp)
{
    if (store && tcp)
        store->tcp = *tcp;
}

/* mc_store_set_code_gap - move counters by gap on a new timeline (intake) */
void mc_store_set_code_gap(mc_store_t *store, int gap)
{
    if (store)
        store->code_gap = gap > 0 ? gap : 0;
}

/* mc_store_disconnect - drop the connection; a commit still in flight on it
 * (or whose synchronous-replication wait was cancelled) has an unknown
 * outcome from now on, until a new connection's barrier commits */
void mc_store_disconnect(mc_store_t *store)
{
    if (!store)
        return;
    if (store->main && (store->commit_pending || store->sync_cancelled)) {
        if (!store->unknown)
            mc_log(MC_LOG_WARNING, "store_commit_unknown", "cause=%s",
                   store->sync_cancelled ? "sync_replication_wait_cancelled" : "connection_lost");
        store->unknown = true;
    }
    store->commit_pending = false;
    store->sync_cancelled = false;
    if (store->main)
        PQfinish(store->main);
    store->main = NULL;
    store->prepared = false;
    store->n_prepared = 0;
}

/* mc_store_destroy - disconnect, free, NULL the pointer */
void mc_store_destroy(mc_store_t **store_p)
{
    if (!store_p || !*store_p)
        return;
    mc_store_disconnect(*store_p);
    free((*store_p)->conninfo);
    free(*store_p);
    *store_p = NULL;
}

/* mc_store_connected - the connection up as far as libpq knows */
bool mc_store_connected(const mc_store_t *store)
{
    return store && store->main && store->prepared && PQstatus(store->main) == CONNECTION_OK;
}

/* first_line - the first line of a libpq message, for one-line logs */
static const char *first_line(const char *msg, char *buf, size_t size)
{
    size_t n = 0;
    while (msg && msg[n] && msg[n] != '\n' && n + 1 < size) {
        buf[n] = msg[n];
        n++;
    }
    buf[n] = '\0';
    return buf;
}

/* mc_store_classify - is a failed result a lost server (retry later) or a real error? */
mc_store_rc_t mc_store_classify(mc_store_t *store, PGconn *conn, const PGresult *res,
                              const char *what, mc_err_t *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    char line[256];
    first_line(res ? PQresultErrorMessage(res)
               : conn ? PQerrorMessage(conn)
               : store->unknown ? "commit outcome unknown (connection dropped; see store_commit_unknown)"
                                : "no connection",
               line, sizeof line);
    bool lost = !conn || PQstatus(conn) != CONNECTION_OK || !state ||
                strncmp(state, "08", 2) == 0 ||     /* connection exception */
                strcmp(state, "57P01") == 0 ||      /* admin shutdown */
                strcmp(state, "57P02") == 0 ||      /* crash shutdown */
                strcmp(state, "57P03") == 0 ||      /* cannot connect now */
                strcmp(state, "53300") == 0 ||      /* too many connections */
                /* a deadlock or serialisation victim: nothing was committed and
                 * the same call again will work; a fresh connection also drops
                 * the aborted transaction the caller may not roll back */
                strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0;
    mc_err_add(err, "store: %s: %s%s%s", what, line, state ? " sqlstate=" : "", state ? state : "");
    if (lost) {
        mc_store_disconnect(store);
        if (store->unknown)
            mc_err_set_code(err, MC_ERR_UNKNOWN_COMMIT);
        return MC_STORE_UNAVAILABLE;
    }
    return MC_STORE_FAILED;
}

/* contains - does text (may be NULL) contain part? */
static bool contains(const char *text, const char *part)
{
    return text && strstr(text, part);
}

/* on_notice - server NOTICEs ("already exists, skipping") are not events, except
 * the WARNING of syncrep.c (PostgreSQL 15, SyncRepWaitForLSN): "canceling wait
 * for synchronous replication due to user request" (SQLSTATE 01000, a query
 * cancel: pg_cancel_backend or a client's cancel request) or "canceling the
 * wait for synchronous replication and terminating connection due to
 * administrator command" (57P01), both with the detail "The transaction has
 * already committed locally, but might not have been replicated to the
 * standby.": the COMMIT then answers success, yet a failover may lose it.
 * Matched by its English text and, for a server whose messages are
 * translated, by any WARNING 01000/57P01 while a commit is awaited (nothing
 * of ours raises warnings: a false alarm costs one barrier and a retry). */
static void on_notice(void *arg, const PGresult *res)
{
    mc_store_t *store = arg;
    const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (!severity || strcmp(severity, "WARNING") != 0)
        return;
    bool text = contains(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY), "synchronous replication") ||
                contains(PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL), "committed locally");
    bool code = state && (strcmp(state, "01000") == 0 || strcmp(state, "57P01") == 0);
    if (text || (code && store->commit_pending))
        store->sync_cancelled = true;
}

/* mc_store_conn_error - libpq's connect error (one line per host tried, with
 * tab-indented hints) as one line: the lines joined with " | ", any
 * password=... replaced by ***; into buf, which it returns */
const char *mc_store_conn_error(const char *msg, char *buf, size_t size)
{
    size_t n = 0;
    bool line_start = true;
    if (size == 0)
        return buf;
    for (const char *c = msg ? msg : ""; *c && n + 1 < size; c++) {
        if (*c == '\n' || *c == '\r') {
            line_start = true;
            continue;
        }
        if (line_start && (*c == ' ' || *c == '\t'))
            continue;
        if (line_start && n > 0) {
            for (const char *sep = " | "; *sep && n + 1 < size; sep++)
                buf[n++] = *sep;
        }
        line_start = false;
        if (strncmp(c, "password=", 9) == 0) {
            for (const char *r = "password=***"; *r && n + 1 < size; r++)
                buf[n++] = *r;
            while (c[1] && c[1] != ' ' && c[1] != '\n')
                c++;
            continue;
        }
        buf[n++] = *c;
    }
    buf[n] = '\0';
    return buf;
}

/* open_one - connect one libpq connection with our session settings */
static PGconn *open_one(mc_store_t *store, const char *role, mc_err_t *err)
{
    char timeout[16], appname[64];
    snprintf(timeout, sizeof timeout, "%d", store->connect_timeout_s);
    snprintf(appname, sizeof appname, "motcua-%s", role);
    /* dbname with expand_dbname=1 takes a whole conninfo string or URI; a
     * daemon's carries its application_name and role (mc_cfg_use_role), so
     * ours is only the fallback. Keywords are processed in order, the last
     * value kept: the keepalive defaults come before dbname, so a conninfo
     * that sets them wins (libpq, PQconnectdbParams) */
    char idle[16], interval[16], count[16], user_timeout[16];
    snprintf(idle, sizeof idle, "%d", store->tcp.keepalives_idle_s);
    snprintf(interval, sizeof interval, "%d", store->tcp.keepalives_interval_s);
    snprintf(count, sizeof count, "%d", store->tcp.keepalives_count);
    snprintf(user_timeout, sizeof user_timeout, "%d", store->tcp.tcp_user_timeout_ms);
    const char *keys[] = {"keepalives", "keepalives_idle", "keepalives_interval",
                          "keepalives_count", "tcp_user_timeout", "dbname", "connect_timeout",
                          "fallback_application_name", NULL};
    const char *vals[] = {"1", idle, interval, count, user_timeout, store->conninfo, timeout,
                          appname, NULL};
    if (!*store->conninfo) /* libpq's environment only: no dbname to expand */
        keys[5] = "fallback_application_name", vals[5] = appname, keys[7] = NULL;
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        char line[1024];
        mc_err_add(err, "store: connect (%s): %s", role,
                   mc_store_conn_error(conn ? PQerrorMessage(conn) : "out of memory", line,
                                       sizeof line));
        if (conn)
            PQfinish(conn);
        return NULL;
    }
    PQsetNoticeReceiver(conn, on_notice, store);
    char stmt_timeout[24];
    snprintf(stmt_timeout, sizeof stmt_timeout, "%d", store->statement_timeout_ms);
    const char *params[2][2] = {
        {"statement_timeout", stmt_timeout},
        {"synchronous_commit", "on"},
    };
    for (int i = 0; i < 2; i++) {
        PGresult *res = PQexecParams(conn, "SELECT set_config($1, $2, false)", 2, NULL,
                                     params[i], NULL, NULL, 0);
        bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
        if (!ok) {
            char line[256];
            mc_err_add(err, "store: session setup (%s): %s", role,
                       first_line(PQresultErrorMessage(res), line, sizeof line));
        }
        PQclear(res);
        if (!ok) {
            PQfinish(conn);
            return NULL;
        }
    }
    return conn;
}

/* mc_store_connect_raw - the connection, no prepared statements (for migrate) */
mc_store_rc_t mc_store_connect_raw(mc_store_t *store, mc_err_t *err)
{
    if (store->main && PQstatus(store->main) == CONNECTION_OK)
        return MC_STORE_OK;
    mc_store_disconnect(store);
    if (!(store->main = open_one(store, "main", err)))
        return MC_STORE_UNAVAILABLE;
    return MC_STORE_OK;
}

/* the durability barrier of a new connection (one round trip): on a primary, a
 * transaction that writes WAL and takes an xid (MC_STORE_WAL_WRITE) and so
 * commits with a flush that, under synchronous_commit on, waits for the
 * synchronous standbys (RecordTransactionCommit -> SyncRepWaitForLSN) up to an
 * LSN beyond every commit before it; on a standby, nothing. With it, the
 * settings that decide whether an acknowledged commit survives a failover
 * (risk_check). */
static const char barrier_sql[] =
    "SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE " MC_STORE_WAL_WRITE " END,"
    " current_setting('synchronous_commit'), current_setting('synchronous_standby_names'),"
    " (SELECT count(*) FROM pg_stat_replication), pg_is_in_recovery()";

/* what the last connection of this process found (log the risk once per change) */
static atomic_int replication_risk = 0; /* 0 not known yet, 1 safe, 2 failover may lose work */

/* risk_check - one warning line when acknowledged work could be lost on a failover:
 * a primary with standbys but no synchronous standby named, or a commit level below on */
static void risk_check(const PGresult *res)
{
    const char *level = PQgetvalue(res, 0, 1);
    const char *names = PQgetvalue(res, 0, 2);
    long standbys = strtol(PQgetvalue(res, 0, 3), NULL, 10);
    bool primary = strcmp(PQgetvalue(res, 0, 4), "f") == 0;
    bool sync_level = strcmp(level, "on") == 0 || strcmp(level, "remote_apply") == 0;
    int risk = primary && standbys > 0 && (!sync_level || !*names) ? 2 : 1;
    if (atomic_exchange(&replication_risk, risk) != risk && risk == 2)
        mc_log(MC_LOG_WARNING, "replication_not_synchronous",
               "synchronous_commit=%s synchronous_standby_names=%s standbys=%ld"
               " effect=a_failover_may_lose_acknowledged_work", level, *names ? "set" : "empty",
               standbys);
}

/* durability_barrier - a new connection's first commit: OK when it committed cleanly (every
 * outcome left unknown before it is now durable); a cancelled wait or a lost connection
 * leaves the outcome unknown (UNAVAILABLE, MC_ERR_UNKNOWN_COMMIT: retried on the caller's
 * next connect, after its backoff); any failure drops the connection */
static mc_store_rc_t durability_barrier(mc_store_t *store, mc_err_t *err)
{
    store->commit_pending = true; /* an autocommit statement: it commits */
    PGresult *res = PQexec(store->main, barrier_sql);
    mc_store_rc_t rc = MC_STORE_OK;
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state && strcmp(state, "25006") == 0) {
        /* a read-only session (default_transaction_read_only: a report login)
         * commits nothing of its own: no barrier to wait for */
        store->commit_pending = false;
    } else if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = mc_store_classify(store, store->main, res, "durability barrier", err);
    } else if (store->sync_cancelled) {
        mc_err_add(err, "store: durability barrier: the wait for synchronous replication was "
                        "cancelled: outcome still unknown");
        mc_store_disconnect(store);
        rc = MC_STORE_UNAVAILABLE;
    } else {
        store->commit_pending = false;
        if (store->unknown)
            mc_log(MC_LOG_INFO, "store_commit_resolved", "barrier=committed");
        store->unknown = false;
        risk_check(res);
    }
    PQclear(res);
    if (rc != MC_STORE_OK) {
        mc_store_disconnect(store); /* FAILED too: nothing is answered before the barrier */
        if (store->unknown)
            mc_err_set_code(err, MC_ERR_UNKNOWN_COMMIT);
        return rc;
    }
    return MC_STORE_OK;
}

/* follow_timeline - intake: the counters moved forward if the primary's timeline changed
 * since the store last noted it (mc_store_set_code_gap, migration 0024) */
static mc_store_rc_t follow_timeline(mc_store_t *store, mc_err_t *err)
{
    char gap[16];
    snprintf(gap, sizeof gap, "%d", store->code_gap);
    const char *p[1] = {gap};
    PGresult *res = PQexecParams(store->main,
                                 "SELECT timeline, previous, moved FROM mc_follow_timeline($1::integer)",
                                 1, NULL, p, NULL, NULL, 0);
    mc_store_rc_t rc = MC_STORE_OK;
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        rc = mc_store_classify(store, store->main, res, "follow_timeline", err);
        if (rc == MC_STORE_FAILED) /* no codes from an unchecked primary */
            mc_store_disconnect(store);
    } else if (!PQgetisnull(res, 0, 2) && atoi(PQgetvalue(res, 0, 2)) > 0) {
        mc_log(MC_LOG_WARNING, "code_counters_moved", "timeline=%s previous=%s counters=%s gap=%d",
               PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
               store->code_gap);
    }
    PQclear(res);
    return rc;
}

/* mc_store_connect - connect and check the schema is as new as this binary */
mc_store_rc_t mc_store_connect(mc_store_t *store, mc_err_t *err)
{
    if (mc_store_connected(store))
        return MC_STORE_OK;
    mc_store_rc_t rc = mc_store_connect_raw(store, err);
    if (rc != MC_STORE_OK)
        return rc;
    /* statements are prepared on first use (mc_store_exec); here we only make
     * sure they will find the tables and functions they expect */
    PGresult *res = PQexec(store->main, "SELECT coalesce(max(version), 0) FROM schema_migration");
    int want = mc_migrations_count > 0 ? mc_migrations[mc_migrations_count - 1].version : 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (state && strcmp(state, "42P01") == 0) {
            mc_err_add(err, "store: the database has no motcua schema: run 'motcua migrate'");
            rc = MC_STORE_FAILED;
            mc_store_disconnect(store);
        } else {
            rc = mc_store_classify(store, store->main, res, "schema version", err);
        }
        PQclear(res);
        return rc;
    }
    int have = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (have < want) {
        mc_err_add(err, "store: schema version %d is older than this program's %d: run 'motcua migrate'",
                   have, want);
        mc_store_disconnect(store);
        return MC_STORE_FAILED;
    }
    rc = durability_barrier(store, err);
    if (rc == MC_STORE_OK && store->code_gap > 0)
        rc = follow_timeline(store, err);
    if (rc != MC_STORE_OK)
        return rc;
    store->prepared = true;
    return MC_STORE_OK;
}

/* is_prepared - has this statement been prepared on the current connections? */
static bool is_prepared(const mc_store_t *store, const mc_stmt_t *stmt)
{
    for (int i = 0; i < store->n_prepared; i++)
        if (store->prepared_stmts[i] == stmt)
            return true;
    return false;
}

/* outcome_unknown - after a result: true when the server warned that the
 * synchronous-replication wait of the commit in flight was cancelled (its
 * success may not survive a failover): the connection is dropped and the
 * outcome stays unknown until a new connection's barrier. Otherwise a
 * connection still up has answered the commit in flight, if any; a lost one
 * leaves it pending (mc_store_classify drops it: unknown) */
static bool outcome_unknown(mc_store_t *store)
{
    if (!store->main)
        return false;
    if (store->sync_cancelled) {
        mc_store_disconnect(store);
        return true;
    }
    if (PQstatus(store->main) == CONNECTION_OK)
        store->commit_pending = false;
    return false;
}

/* mc_store_exec - run a statement, preparing it on first use */
PGresult *mc_store_exec(mc_store_t *store, const mc_stmt_t *stmt, const char *const *params,
                        const int *lens, const int *fmts, bool retry_once)
{
    for (int attempt = 0;; attempt++) {
        PGconn *conn = store->main;
        if (!conn)
            return NULL;
        /* a COMMIT, or a statement outside a transaction (it commits itself) */
        store->commit_pending = stmt == &stmt_commit ||
                                (PQtransactionStatus(conn) == PQTRANS_IDLE &&
                                 stmt != &stmt_begin_write && stmt != &stmt_begin_snapshot);
        PGresult *res = NULL;
        if (!is_prepared(store, stmt)) {
            res = PQprepare(conn, stmt->name, stmt->sql, stmt->nparams, NULL);
            if (PQresultStatus(res) == PGRES_COMMAND_OK) {
                PQclear(res);
                res = NULL;
                /* invariant: the table is sized for every statement the store has */
                if (store->n_prepared >= MC_STORE_MAX_STMTS) {
                    mc_log(MC_LOG_ERR, "invariant_broken", "what=too_many_statements");
                    return NULL;
                }
                store->prepared_stmts[store->n_prepared++] = stmt;
            }
        }
        if (!res)
            res = PQexecPrepared(conn, stmt->name, stmt->nparams, params, lens, fmts, 0);
        if (outcome_unknown(store)) {
            PQclear(res); /* a success that may not survive a failover: unknown */
            return NULL;
        }
        if (PQstatus(conn) == CONNECTION_OK || !retry_once || attempt > 0)
            return res;
        /* the connection was dead (PostgreSQL restarted since we last used it):
         * reconnect and run once more; callers pass retry_once only for
         * statements that are safe to repeat */
        PQclear(res);
        mc_store_disconnect(store);
        mc_err_t ignored;
        mc_err_clear(&ignored);
        if (mc_store_connect(store, &ignored) != MC_STORE_OK)
            return NULL;
    }
}

/* mc_stored_response_clear - free and zero */
void mc_stored_response_clear(mc_stored_response_t *response)
{
    if (!response)
        return;
    free(response->bytes);
    memset(response, 0, sizeof *response);
}

/* mc_store_unescape - a text-format bytea column into malloc'd bytes */
int mc_store_unescape(const PGresult *res, int row, int col, uint8_t **bytes, size_t *len)
{
    size_t n = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, col), &n);
    if (!raw)
        return -1;
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy) {
        PQfreemem(raw);
        return -1;
    }
    memcpy(copy, raw, n);
    PQfreemem(raw);
    *bytes = copy;
    *len = n;
    return 0;
}

/* read_response - columns (sha, response) of a row into an mc_stored_response_t */
static int read_response(const PGresult *res, int row, int col_sha, int col_resp,
                         mc_stored_response_t *out)
{
    uint8_t *sha = NULL;
    size_t sha_len = 0;
    if (mc_store_unescape(res, row, col_sha, &sha, &sha_len) != 0)
        return -1;
    if (sha_len != 32) {
        free(sha);
        return -1;
    }
    memcpy(out->request_sha256, sha, 32);
    free(sha);
    return mc_store_unescape(res, row, col_resp, &out->bytes, &out->length);
}

/* date_text - "YYYY-MM-DD" */
static void date_text(mc_date_t d, char buf[16])
{
    snprintf(buf, 16, "%04d-%02d-%02d", d.year % 10000, d.month % 100, d.day % 100);
}

/* pipe_send - queue a prepared statement in main's pipeline; 0, or -1 */
static int pipe_send(mc_store_t *store, const mc_stmt_t *stmt, const char *const *params,
                     const int *lens, const int *fmts)
{
    if (stmt == &stmt_commit) /* in doubt from now until the sync point is read */
        store->commit_pending = true;
    return PQsendQueryPrepared(store->main, stmt->name, stmt->nparams, params, lens, fmts, 0)
               ? 0 : -1;
}

/* pipe_commit_send - queue stmt_durable and COMMIT; 0, or -1 */
static int pipe_commit_send(mc_store_t *store)
{
    return pipe_send(store, &stmt_durable, NULL, NULL, NULL) == 0 &&
                   pipe_send(store, &stmt_commit, NULL, NULL, NULL) == 0
               ? 0 : -1;
}

/* pipe_result - the result of the pipeline's next query (its closing NULL read
 * too), or NULL when none came (connection lost) */
static PGresult *pipe_result(mc_store_t *store)
{
    PGresult *res = PQgetResult(store->main);
    if (res) {
        PGresult *end = PQgetResult(store->main); /* NULL: the query's results end */
        PQclear(end);
    }
    if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQnfields(res) == 1 &&
        strcmp(PQfname(res, 0), "motcua_durable") == 0) { /* pipe_commit_send's, not asked for */
        PQclear(res);
        return pipe_result(store);
    }
    if (store->sync_cancelled && store->main) { /* the COMMIT's success may not survive */
        PQclear(res);
        mc_store_disconnect(store);
        return NULL;
    }
    return res;
}

/* pipe_ok - a query's result: OK, or classified (an earlier failure makes
 * every later query PGRES_PIPELINE_ABORTED: the first failure tells) */
static mc_store_rc_t pipe_ok(mc_store_t *store, PGresult *res, ExecStatusType want,
                             const char *what, mc_err_t *err)
{
    ExecStatusType st = PQresultStatus(res);
    if (res && st == want)
        return MC_STORE_OK;
    if (st == PGRES_PIPELINE_ABORTED) {
        mc_err_add(err, "store: %s: aborted by an earlier statement", what);
        return MC_STORE_FAILED;
    }
    return mc_store_classify(store, store->main, res, what, err);
}

/* pipe_sync - mark the end of what was queued and send it all; 0, or -1 */
static int pipe_sync(mc_store_t *store)
{
    return PQpipelineSync(store->main) == 1 ? 0 : -1;
}

/* pipe_end - read the sync point of pipe_sync: true when it came */
static bool pipe_end(mc_store_t *store)
{
    PGresult *res = PQgetResult(store->main);
    bool ok = res && PQresultStatus(res) == PGRES_PIPELINE_SYNC;
    PQclear(res);
    if (ok && outcome_unknown(store))
        ok = false; /* dropped: the caller classifies a lost connection */
    return ok;
}

/* read_code - a receive_code row: the number (OK, *seq) or the key's stored
 * response (EXISTS, in r->existing) */
static mc_store_rc_t read_code(const PGresult *res, int *seq, mc_new_dossier_result_t *r,
                               mc_err_t *err)
{
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
        *seq = atoi(PQgetvalue(res, 0, 0));
        return MC_STORE_OK;
    }
    if (PQntuples(res) == 1 && read_response(res, 0, 1, 2, &r->existing) == 0)
        return MC_STORE_EXISTS;
    mc_err_add(err, "store: receive_code: bad stored response");
    return MC_STORE_FAILED;
}

/* the parameters of one mc_create_dossier call (bound texts and their buffers) */
typedef struct create_args {
    char        day[16], seq[16], chan[8], rec[24], cnt[24], due[24], state[8], acc[24], fwd[24];
    const char *p[23];    /* the parameters */
    int         lens[23]; /* lengths of the binary ones */
    int         fmts[23]; /* 1 = binary */
} create_args_t;

/* create_args - the parameters to create d with number seq */
static void create_args(const mc_new_dossier_t *d, int seq, create_args_t *a)
{
    memset(a, 0, sizeof *a);
    date_text(d->day, a->day);
    snprintf(a->seq, sizeof a->seq, "%d", seq);
    snprintf(a->chan, sizeof a->chan, "%d", d->channel);
    snprintf(a->rec, sizeof a->rec, "%" PRId64, d->received_at);
    snprintf(a->cnt, sizeof a->cnt, "%" PRId64, d->counted_from);
    snprintf(a->due, sizeof a->due, "%" PRId64, d->due_at);
    snprintf(a->state, sizeof a->state, "%d", d->state ? d->state : 1);
    snprintf(a->acc, sizeof a->acc, "%" PRId64, d->accept_due_at);
    snprintf(a->fwd, sizeof a->fwd, "%" PRId64, d->forward_due_at);
    /* a pending online dossier has no processing time yet: NULL, not 1970 */
    const char *p[23] = {d->scope, d->key, (const char *)d->request_sha256, d->code,
                         d->ward_code, d->unit_id, a->day, a->seq, d->procedure_code,
                         a->chan, a->rec, d->counted_from ? a->cnt : NULL,
                         d->due_at ? a->due : NULL, (const char *)d->payload,
                         (const char *)d->response, d->event_actor, d->event_detail, d->secret,
                         a->state, d->accept_due_at ? a->acc : NULL, d->receiving_ward, a->fwd,
                         d->forward_detail ? d->forward_detail : ""};
    memcpy(a->p, p, sizeof p);
    a->lens[2] = 32, a->fmts[2] = 1; /* bytea parameters go binary: no escaping */
    a->lens[13] = (int)d->payload_len, a->fmts[13] = 1;
    a->lens[14] = (int)d->response_len, a->fmts[14] = 1;
}

/* read_created - an mc_create_dossier row: created (OK) or the key's first
 * response (EXISTS: a concurrent attempt under the same key won) */
static mc_store_rc_t read_created(const PGresult *res, mc_new_dossier_result_t *r, mc_err_t *err)
{
    if (PQntuples(res) != 1) {
        mc_err_add(err, "store: create_dossier: no row");
        return MC_STORE_FAILED;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
        r->id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        return MC_STORE_OK;
    }
    if (read_response(res, 0, 2, 3, &r->existing) == 0) {
        r->id = PQgetisnull(res, 0, 1) ? 0 : strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        return MC_STORE_EXISTS;
    }
    mc_err_add(err, "store: create_dossier: bad stored response");
    return MC_STORE_FAILED;
}

/* clear_results - results[0..n) back to nothing, each with rc */
static void clear_results(mc_new_dossier_result_t *results, size_t n, mc_store_rc_t rc)
{
    for (size_t i = 0; i < n; i++) {
        mc_stored_response_clear(&results[i].existing);
        memset(&results[i], 0, sizeof results[i]);
        results[i].rc = rc;
    }
}

/* prepare_receiving - every statement of a batch prepared before the pipeline
 * (a pipeline cannot prepare on first use as mc_store_exec does) */
static mc_store_rc_t prepare_receiving(mc_store_t *store, mc_err_t *err)
{
    const mc_stmt_t *stmts[] = {&stmt_begin_write, &stmt_key_lock, &stmt_receive_code,
                                &stmt_create_dossier, &stmt_create_dossier_fwd, &stmt_durable,
                                &stmt_commit};
    return mc_store_prepare(store, stmts, sizeof stmts / sizeof stmts[0], err);
}

/* mc_store_prepare - stmts prepared on main unless they are already */
mc_store_rc_t mc_store_prepare(mc_store_t *store, const mc_stmt_t *const *stmts, size_t n,
                               mc_err_t *err)
{
    for (size_t i = 0; i < n; i++) {
        if (is_prepared(store, stmts[i]))
            continue;
        PGresult *res = PQprepare(store->main, stmts[i]->name, stmts[i]->sql, stmts[i]->nparams,
                                  NULL);
        mc_store_rc_t rc = PQresultStatus(res) == PGRES_COMMAND_OK
                               ? MC_STORE_OK
                               : mc_store_classify(store, store->main, res, stmts[i]->name, err);
        PQclear(res);
        if (rc != MC_STORE_OK)
            return rc;
        if (store->n_prepared >= MC_STORE_MAX_STMTS) { /* invariant: the table has room */
            mc_err_add(err, "store: too many statements");
            return MC_STORE_FAILED;
        }
        store->prepared_stmts[store->n_prepared++] = stmts[i];
    }
    return MC_STORE_OK;
}

/* receive_codes - round trip 1: BEGIN and every item's key lock and number
 * (or stored response); then pack each numbered item. seqs[i] = 0 for a key
 * already used (results[i].rc = EXISTS). */
static mc_store_rc_t receive_codes(mc_store_t *store, mc_new_dossier_t *items, size_t n,
                                   mc_new_dossier_result_t *results, int *seqs, mc_err_t *err)
{
    bool sent = pipe_send(store, &stmt_begin_write, NULL, NULL, NULL) == 0;
    for (size_t i = 0; i < n && sent; i++) {
        char day[16];
        date_text(items[i].day, day);
        const char *p[4] = {items[i].scope, items[i].key, items[i].unit_id, day};
        sent = pipe_send(store, &stmt_key_lock, p, NULL, NULL) == 0 &&
               pipe_send(store, &stmt_receive_code, p, NULL, NULL) == 0;
    }
    if (!sent || pipe_sync(store) != 0)
        return mc_store_classify(store, store->main, NULL, "receive_codes", err);
    PGresult *res = pipe_result(store);
    mc_store_rc_t rc = pipe_ok(store, res, PGRES_COMMAND_OK, "begin", err);
    PQclear(res);
    for (size_t i = 0; i < n; i++) {
        res = pipe_result(store); /* the key's lock */
        mc_store_rc_t one = pipe_ok(store, res, PGRES_TUPLES_OK, "key_lock", err);
        PQclear(res);
        res = pipe_result(store);
        if (one == MC_STORE_OK)
            one = pipe_ok(store, res, PGRES_TUPLES_OK, "receive_code", err);
        if (one == MC_STORE_OK)
            one = read_code(res, &seqs[i], &results[i], err);
        PQclear(res);
        results[i].rc = one;
        if (rc == MC_STORE_OK && one < 0)
            rc = one;
    }
    if (!pipe_end(store) && rc == MC_STORE_OK)
        rc = mc_store_classify(store, store->main, NULL, "receive_codes sync", err);
    for (size_t i = 0; i < n && rc == MC_STORE_OK; i++) /* the daemon's receipts, numbered */
        if (results[i].rc == MC_STORE_OK &&
            items[i].pack(items[i].pack_arg, seqs[i], &items[i], err) != 0)
            rc = MC_STORE_FAILED;
    return rc;
}

/* create_all - round trip 2: every numbered item's rows, then COMMIT */
static mc_store_rc_t create_all(mc_store_t *store, mc_new_dossier_t *items, size_t n,
                                mc_new_dossier_result_t *results, const int *seqs,
                                mc_err_t *err)
{
    bool sent = true;
    for (size_t i = 0; i < n && sent; i++) {
        if (results[i].rc != MC_STORE_OK)
            continue;
        create_args_t a;
        create_args(&items[i], seqs[i], &a);
        /* the 20-parameter statement ignores the last three */
        sent = pipe_send(store, items[i].receiving_ward ? &stmt_create_dossier_fwd
                                                        : &stmt_create_dossier,
                         a.p, a.lens, a.fmts) == 0;
    }
    if (!sent || pipe_commit_send(store) != 0 || pipe_sync(store) != 0)
        return mc_store_classify(store, store->main, NULL, "create_all", err);
    mc_store_rc_t rc = MC_STORE_OK;
    for (size_t i = 0; i < n; i++) {
        if (results[i].rc != MC_STORE_OK)
            continue;
        PGresult *res = pipe_result(store);
        mc_store_rc_t one = pipe_ok(store, res, PGRES_TUPLES_OK, "create_dossier", err);
        if (one == MC_STORE_OK)
            one = read_created(res, &results[i], err);
        PQclear(res);
        results[i].rc = one;
        if (rc == MC_STORE_OK && one < 0)
            rc = one;
    }
    PGresult *res = pipe_result(store); /* COMMIT: only its answer says it is durable */
    mc_store_rc_t commit = pipe_ok(store, res, PGRES_COMMAND_OK, "commit", err);
    PQclear(res);
    if (rc == MC_STORE_OK)
        rc = commit;
    if (!pipe_end(store) && rc == MC_STORE_OK)
        rc = mc_store_classify(store, store->main, NULL, "create_all sync", err);
    return rc;
}

/* receive_batch - items[0..n) in one transaction, two round trips (libpq
 * pipeline mode): all committed, or none (every result then carries the
 * failure). A failed statement aborts the rest of its pipeline and the
 * transaction, which is then rolled back. */
static mc_store_rc_t receive_batch(mc_store_t *store, mc_new_dossier_t *items, size_t n,
                                   mc_new_dossier_result_t *results, mc_err_t *err)
{
    clear_results(results, n, MC_STORE_OK);
    int seqs[n];
    memset(seqs, 0, sizeof seqs);
    mc_store_rc_t rc = mc_store_connect(store, err);
    if (rc == MC_STORE_OK)
        rc = prepare_receiving(store, err);
    if (rc == MC_STORE_OK && PQenterPipelineMode(store->main) != 1)
        rc = mc_store_classify(store, store->main, NULL, "pipeline", err);
    if (rc == MC_STORE_OK) {
        rc = receive_codes(store, items, n, results, seqs, err);
        if (rc == MC_STORE_OK)
            rc = create_all(store, items, n, results, seqs, err);
        if (store->main && PQexitPipelineMode(store->main) != 1) {
            mc_err_add(err, "store: pipeline left unfinished");
            mc_store_disconnect(store); /* its transaction dies with it */
            rc = MC_STORE_UNAVAILABLE;
        }
    }
    if (rc != MC_STORE_OK) {
        mc_store_rollback(store);
        clear_results(results, n, rc);
    }
    return rc;
}

/* mc_store_create_dossiers - one transaction for all; one each when an item fails */
mc_store_rc_t mc_store_create_dossiers(mc_store_t *store, mc_new_dossier_t *items, size_t n,
                                       mc_new_dossier_result_t *results, mc_err_t *err)
{
    if (n == 0)
        return MC_STORE_OK;
    mc_store_rc_t rc = receive_batch(store, items, n, results, err);
    if (rc == MC_STORE_UNAVAILABLE && !(err && err->code == MC_ERR_UNKNOWN_COMMIT)) {
        /* the connection may have died while idle (PostgreSQL restarted), or the
         * batch was a deadlock victim: once more, on a new connection. Not after
         * an unknown commit: the receipts are then answered by the clients'
         * retries under the same keys, once the truth is durable (mc_store.h) */
        mc_err_t again;
        mc_err_clear(&again);
        rc = receive_batch(store, items, n, results, &again);
        if (rc == MC_STORE_OK)
            mc_err_clear(err);
    }
    if (rc == MC_STORE_OK || rc == MC_STORE_UNAVAILABLE || n == 1)
        return rc;
    /* one item failed and took the batch with it: each alone, so it fails alone */
    mc_log_error(MC_LOG_WARNING, "store_batch_split", err, "items=%zu", n);
    mc_store_rc_t first = MC_STORE_OK;
    for (size_t i = 0; i < n; i++) {
        mc_err_t one;
        mc_err_clear(&one);
        mc_store_rc_t r = receive_batch(store, &items[i], 1, &results[i], &one);
        if (r != MC_STORE_OK && first == MC_STORE_OK) {
            char line[256];
            first = r;
            mc_err_clear(err);
            mc_err_add(err, "%s", mc_err_first(&one, line, sizeof line));
        }
    }
    return first;
}

/* mc_store_copy_text - bounded copy of a result cell */
void mc_store_copy_text(char *dst, size_t size, const PGresult *res, int row, int col)
{
    snprintf(dst, size, "%s", PQgetvalue(res, row, col));
}

/* mc_store_dossier_status - the dossier row and its newest events */
mc_store_rc_t mc_store_dossier_status(mc_store_t *store, const char *code, size_t max_events,
                                      mc_dossier_status_t **status, mc_err_t *err)
{
    *status = NULL;
    mc_store_rc_t rc = mc_store_connect(store, err);
    if (rc != MC_STORE_OK)
        return rc;
    const char *p1[1] = {code};
    PGresult *res = mc_store_exec(store, &stmt_dossier_by_code, p1, NULL, NULL, true);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = mc_store_classify(store, store->main, res, "dossier_by_code", err);
        PQclear(res);
        return rc;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return MC_STORE_NOT_FOUND;
    }
    mc_dossier_status_t *s = calloc(1, sizeof *s);
    if (!s) {
        PQclear(res);
        mc_err_add(err, "store: out of memory");
        return MC_STORE_FAILED;
    }
    s->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    mc_store_copy_text(s->code, sizeof s->code, res, 0, 1);
    mc_store_copy_text(s->ward_code, sizeof s->ward_code, res, 0, 2);
    mc_store_copy_text(s->procedure_code, sizeof s->procedure_code, res, 0, 3);
    s->state = atoi(PQgetvalue(res, 0, 4));
    s->channel = atoi(PQgetvalue(res, 0, 5));
    s->received_at = strtoll(PQgetvalue(res, 0, 6), NULL, 10);
    s->counted_from = strtoll(PQgetvalue(res, 0, 7), NULL, 10);
    s->due_at = strtoll(PQgetvalue(res, 0, 8), NULL, 10);
    mc_store_copy_text(s->secret, sizeof s->secret, res, 0, 9);
    s->accept_due_at = strtoll(PQgetvalue(res, 0, 10), NULL, 10);
    s->accepted_at = strtoll(PQgetvalue(res, 0, 11), NULL, 10);
    mc_store_copy_text(s->receiving_ward, sizeof s->receiving_ward, res, 0, 12);
    PQclear(res);

    char id_text[MC_I64_TEXT], limit_text[24];
    snprintf(id_text, sizeof id_text, "%" PRId64, s->id);
    snprintf(limit_text, sizeof limit_text, "%zu", max_events ? (max_events > 10000 ? 10000 : max_events) : 1);
    const char *p2[2] = {id_text, limit_text};
    res = mc_store_exec(store, &stmt_dossier_events, p2, NULL, NULL, true);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = mc_store_classify(store, store->main, res, "dossier_events", err);
        PQclear(res);
        mc_dossier_status_destroy(&s);
        return rc;
    }
    int n = PQntuples(res);
    s->events = calloc(n ? (size_t)n : 1, sizeof *s->events);
    if (!s->events) {
        PQclear(res);
        mc_dossier_status_destroy(&s);
        mc_err_add(err, "store: out of memory");
        return MC_STORE_FAILED;
    }
    for (int i = 0; i < n; i++)
        mc_store_read_event(res, i, &s->events[i]);
    s->n_events = (size_t)n;
    PQclear(res);
    *status = s;
    return MC_STORE_OK;
}

/* mc_store_read_event - row i (at epoch, actor, kind, detail) of an events query into e */
void mc_store_read_event(const PGresult *res, int i, mc_store_event_t *e)
{
    e->at = strtoll(PQgetvalue(res, i, 0), NULL, 10);
    mc_store_copy_text(e->actor, sizeof e->actor, res, i, 1);
    mc_store_copy_text(e->kind, sizeof e->kind, res, i, 2);
    mc_store_copy_text(e->detail, sizeof e->detail, res, i, 3);
}

/* mc_dossier_status_destroy - free and NULL */
void mc_dossier_status_destroy(mc_dossier_status_t **status)
{
    if (!status || !*status)
        return;
    free((*status)->events);
    free(*status);
    *status = NULL;
}

/* mc_store_run - one statement of the caller's transaction: never retried,
 * since repeating half a transaction on a new connection would be wrong */
mc_store_rc_t mc_store_run(mc_store_t *store, const mc_stmt_t *stmt, const char *const *params,
                           const int *lens, const int *fmts, mc_err_t *err)
{
    return mc_store_run_retry(store, stmt, params, lens, fmts, false, err);
}

/* mc_store_run_retry - mc_store_run; retry only where nothing of a transaction was done yet */
mc_store_rc_t mc_store_run_retry(mc_store_t *store, const mc_stmt_t *stmt,
                                 const char *const *params, const int *lens, const int *fmts,
                                 bool retry, mc_err_t *err)
{
    PGresult *res = mc_store_exec(store, stmt, params, lens, fmts, retry);
    ExecStatusType st = PQresultStatus(res);
    mc_store_rc_t rc = MC_STORE_OK;
    if (!res || (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK))
        rc = mc_store_classify(store, store->main, res, stmt->name, err);
    PQclear(res);
    return rc;
}


/* mc_store_begin - BEGIN a transaction of kind (mc_store_int.h says when each is used) */
mc_store_rc_t mc_store_begin(mc_store_t *store, mc_tx_kind_t kind, mc_err_t *err)
{
    if (kind == MC_TX_SCHEMA) /* the schema may be older than this binary: no check, no retry */
        return store->main ? mc_store_run_retry(store, &stmt_begin_write, NULL, NULL, NULL,
                                                false, err)
                           : MC_STORE_UNAVAILABLE;
    mc_store_rc_t rc = mc_store_connect(store, err);
    if (rc != MC_STORE_OK)
        return rc;
    return mc_store_run_retry(store,
                              kind == MC_TX_SNAPSHOT_READ_ONLY ? &stmt_begin_snapshot
                                                               : &stmt_begin_write,
                              NULL, NULL, NULL, true, err);
}

/* mc_store_commit - COMMIT, never retried */
mc_store_rc_t mc_store_commit(mc_store_t *store, mc_err_t *err)
{
    if (!store->main)
        return MC_STORE_UNAVAILABLE; /* the connection went: the server rolled back */
    return mc_store_run_retry(store, &stmt_commit, NULL, NULL, NULL, false, err);
}

/* mc_store_rollback - a simple query: accepted even in an aborted transaction */
void mc_store_rollback(mc_store_t *store)
{
    if (store->main && PQstatus(store->main) == CONNECTION_OK) {
        PGresult *res = PQexec(store->main, "ROLLBACK");
        PQclear(res);
    }
}

/* mc_store_end - COMMIT if rc is OK, else (or if COMMIT fails) ROLLBACK; the outcome */
mc_store_rc_t mc_store_end(mc_store_t *store, mc_store_rc_t rc, mc_err_t *err)
{
    if (rc == MC_STORE_OK)
        rc = mc_store_commit(store, err);
    if (rc != MC_STORE_OK)
        mc_store_rollback(store);
    return rc;
}

/* mc_store_snapshot - begin a read-only snapshot, read, end it */
mc_store_rc_t mc_store_snapshot(mc_store_t *store, mc_store_read_fn read, void *arg,
                                mc_err_t *err)
{
    mc_store_rc_t rc = mc_store_begin(store, MC_TX_SNAPSHOT_READ_ONLY, err);
    if (rc != MC_STORE_OK)
        return rc;
    /* read-only: COMMIT and ROLLBACK are the same; COMMIT also reports a broken link */
    return mc_store_end(store, read(store, arg, err), err);
}

/* mc_store_key_lookup - one idempotency_key row: its fingerprint and stored answer */
mc_store_rc_t mc_store_key_lookup(mc_store_t *store, const mc_stmt_t *stmt, const char *scope,
                                  const char *key, bool retry, mc_stored_response_t *existing,
                                  mc_err_t *err)
{
    const char *p[2] = {scope, key};
    PGresult *res = mc_store_exec(store, stmt, p, NULL, NULL, retry);
    mc_store_rc_t rc = MC_STORE_OK;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = mc_store_classify(store, store->main, res, stmt->name, err);
    } else if (PQntuples(res) == 1) {
        uint8_t *sha = NULL;
        size_t sha_len = 0;
        if (mc_store_unescape(res, 0, 0, &sha, &sha_len) == 0 && sha_len == 32 &&
            mc_store_unescape(res, 0, 1, &existing->bytes, &existing->length) == 0) {
            memcpy(existing->request_sha256, sha, 32);
            rc = MC_STORE_EXISTS;
        } else {
            mc_err_add(err, "store: %s: bad stored response", stmt->name);
            rc = MC_STORE_FAILED;
        }
        free(sha);
    }
    PQclear(res);
    return rc;
}

/* mc_store_claim_begin - a deadline scan's batch: begin, then the claim; on failure rolled
 * back and classified */
mc_store_rc_t mc_store_claim_begin(mc_store_t *store, const mc_stmt_t *claim,
                                   const char *const *params, PGresult **rows, mc_err_t *err)
{
    *rows = NULL;
    mc_store_rc_t rc = mc_store_begin(store, MC_TX_WRITE, err);
    if (rc != MC_STORE_OK)
        return rc;
    PGresult *res = mc_store_exec(store, claim, params, NULL, NULL, false);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = mc_store_classify(store, store->main, res, claim->name, err);
        PQclear(res);
        mc_store_rollback(store);
        return rc;
    }
    *rows = res;
    return MC_STORE_OK;
}

/* mc_store_claim_head - the columns every claimed dossier row starts with */
void mc_store_claim_head(const PGresult *rows, int i, int64_t *id, char *code, size_t code_size,
                         char *procedure_code, size_t procedure_size, int *state, int64_t *due_at)
{
    *id = strtoll(PQgetvalue(rows, i, 0), NULL, 10);
    mc_store_copy_text(code, code_size, rows, i, 1);
    mc_store_copy_text(procedure_code, procedure_size, rows, i, 2);
    *state = atoi(PQgetvalue(rows, i, 3));
    *due_at = strtoll(PQgetvalue(rows, i, 4), NULL, 10);
}

static const mc_stmt_t stmt_add_event = {"store_add_event", 4,
     "INSERT INTO dossier_event (dossier_id, at, actor, kind, detail)"
     " VALUES ($1::bigint, now(), $2, $3, $4)"};

/* mc_store_i64 - decimal text of an integer into buf */
const char *mc_store_i64(char *buf, size_t size, int64_t v)
{
    snprintf(buf, size, "%" PRId64, v);
    return buf;
}

/* mc_store_add_event - one history line of dossier id inside the caller's transaction */
mc_store_rc_t mc_store_add_event(mc_store_t *store, int64_t id, const char *actor,
                                 const char *kind, const char *detail, mc_err_t *err)
{
    char idt[MC_I64_TEXT];
    const char *p[4] = {mc_store_i64(idt, sizeof idt, id), actor, kind, detail ? detail : ""};
    return mc_store_run(store, &stmt_add_event, p, NULL, NULL, err);
}

/* --- pipeline mode for the other store files (mc_store_int.h) -------------- */

/* mc_store_pipe_open - connect, prepare stmts with BEGIN and COMMIT, enter pipeline mode */
mc_store_rc_t mc_store_pipe_open(mc_store_t *store, const mc_stmt_t *const *stmts, size_t n,
                                 mc_err_t *err)
{
    const mc_stmt_t *tx[] = {&stmt_begin_write, &stmt_durable, &stmt_commit};
    mc_store_rc_t rc = mc_store_connect(store, err);
    if (rc == MC_STORE_OK)
        rc = mc_store_prepare(store, tx, 3, err);
    if (rc == MC_STORE_OK)
        rc = mc_store_prepare(store, stmts, n, err);
    if (rc == MC_STORE_OK && PQenterPipelineMode(store->main) != 1)
        rc = mc_store_classify(store, store->main, NULL, "pipeline", err);
    return rc;
}

/* mc_store_pipe_close - leave pipeline mode: a connection that cannot is dropped (its
 * transaction dies with it) and the outcome becomes UNAVAILABLE */
mc_store_rc_t mc_store_pipe_close(mc_store_t *store, mc_store_rc_t rc, mc_err_t *err)
{
    if (store->main && PQexitPipelineMode(store->main) != 1) {
        mc_err_add(err, "store: pipeline left unfinished");
        mc_store_disconnect(store);
        return MC_STORE_UNAVAILABLE;
    }
    return rc;
}

/* mc_store_pipe_send - queue a prepared statement; 0, or -1 */
int mc_store_pipe_send(mc_store_t *store, const mc_stmt_t *stmt, const char *const *params,
                       const int *lens, const int *fmts)
{
    return pipe_send(store, stmt, params, lens, fmts);
}

/* mc_store_pipe_begin - queue a read-write BEGIN; 0, or -1 */
int mc_store_pipe_begin(mc_store_t *store)
{
    return pipe_send(store, &stmt_begin_write, NULL, NULL, NULL);
}

/* mc_store_pipe_commit - queue COMMIT, made to wait for the standby (stmt_durable); 0, or -1 */
int mc_store_pipe_commit(mc_store_t *store)
{
    return pipe_commit_send(store);
}

/* mc_store_pipe_result - the next queued statement's result (NULL: connection lost) */
PGresult *mc_store_pipe_result(mc_store_t *store)
{
    return pipe_result(store);
}

/* mc_store_pipe_ok - a queued statement's result is want, else classified */
mc_store_rc_t mc_store_pipe_ok(mc_store_t *store, PGresult *res, ExecStatusType want,
                               const char *what, mc_err_t *err)
{
    return pipe_ok(store, res, want, what, err);
}

/* mc_store_pipe_sync - send what was queued, with a sync point; 0, or -1 */
int mc_store_pipe_sync(mc_store_t *store)
{
    return pipe_sync(store);
}

/* mc_store_pipe_end - read the sync point: true when it came */
bool mc_store_pipe_end(mc_store_t *store)
{
    return pipe_end(store);
}

/* mc_store_id_array - "{1,2,3}" of n ids (an int8[] parameter), malloc'd; NULL when out of memory */
char *mc_store_id_array(const int64_t *ids, size_t n)
{
    char *text = malloc(n * MC_I64_TEXT + 3);
    if (!text)
        return NULL;
    size_t used = 0;
    text[used++] = '{';
    for (size_t i = 0; i < n; i++)
        used += (size_t)sprintf(text + used, "%s%" PRId64, i ? "," : "", ids[i]);
    text[used++] = '}';
    text[used] = '\0';
    return text;
}
