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
    return store;
}

/* mc_store_disconnect - drop the connection */
void mc_store_disconnect(mc_store_t *store)
{
    if (!store)
        return;
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
    first_line(res ? PQresultErrorMessage(res) : conn ? PQerrorMessage(conn) : "no connection",
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
        return MC_STORE_UNAVAILABLE;
    }
    return MC_STORE_FAILED;
}

/* ignore_notice - server NOTICEs ("already exists, skipping") are not events */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* open_one - connect one libpq connection with our session settings */
static PGconn *open_one(mc_store_t *store, const char *role, mc_err_t *err)
{
    char timeout[16], appname[64];
    snprintf(timeout, sizeof timeout, "%d", store->connect_timeout_s);
    snprintf(appname, sizeof appname, "motcua-%s", role);
    /* dbname with expand_dbname=1 takes a whole conninfo string or URI; a
     * daemon's carries its application_name and role (mc_cfg_use_role), so
     * ours is only the fallback */
    const char *keys[] = {"dbname", "connect_timeout", "fallback_application_name", NULL};
    const char *vals[] = {store->conninfo, timeout, appname, NULL};
    if (!*store->conninfo)
        keys[0] = "fallback_application_name", vals[0] = appname, keys[2] = NULL;
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        char line[256];
        mc_err_add(err, "store: connect (%s): %s", role,
                   first_line(conn ? PQerrorMessage(conn) : "out of memory", line, sizeof line));
        if (conn)
            PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, ignore_notice, NULL);
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

/* mc_store_exec - run a statement, preparing it on first use */
PGresult *mc_store_exec(mc_store_t *store, const mc_stmt_t *stmt, const char *const *params,
                        const int *lens, const int *fmts, bool retry_once)
{
    for (int attempt = 0;; attempt++) {
        PGconn *conn = store->main;
        if (!conn)
            return NULL;
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
    return PQsendQueryPrepared(store->main, stmt->name, stmt->nparams, params, lens, fmts, 0)
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
                                &stmt_create_dossier, &stmt_create_dossier_fwd, &stmt_commit};
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
    if (!sent || pipe_send(store, &stmt_commit, NULL, NULL, NULL) != 0 || pipe_sync(store) != 0)
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
    if (rc == MC_STORE_UNAVAILABLE) {
        /* the connection may have died while idle (PostgreSQL restarted), or the
         * batch was a deadlock victim: once more, on a new connection. Safe even
         * if the first COMMIT went through unseen: its keys are then found, and
         * each item gets its stored receipt (EXISTS), the same bytes. */
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

static const mc_stmt_t stmt_begin_snapshot = {"store_begin_snapshot", 0,
    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"};

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
    const mc_stmt_t *tx[] = {&stmt_begin_write, &stmt_commit};
    mc_store_rc_t rc = mc_store_connect(store, err);
    if (rc == MC_STORE_OK)
        rc = mc_store_prepare(store, tx, 2, err);
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

/* mc_store_pipe_commit - queue COMMIT; 0, or -1 */
int mc_store_pipe_commit(mc_store_t *store)
{
    return pipe_send(store, &stmt_commit, NULL, NULL, NULL);
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
