/*
 * mc_store_int - internals shared by the files of the store module
 * (common/store/mc_store*.c) and nobody else: the store's struct, statements
 * prepared on first use, and error classification. Daemons include
 * mc_store.h only.
 */
#ifndef MC_STORE_INT_H
#define MC_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "mc_states.h"
#include "mc_store.h"

#define MC_STORE_MAX_STMTS 64 /* statements one store may prepare */

/* a statement: prepared on first use on its connection, then reused */
typedef struct mc_stmt {
    const char *name;    /* prepared statement name, unique in the program */
    int         nparams; /* number of parameters */
    const char *sql;     /* the statement: parameters only, never built from input */
} mc_stmt_t;

struct mc_store {
    char            *conninfo;             /* as configured (may hold a password: never logged) */
    int              connect_timeout_s;    /* libpq connect_timeout */
    int              statement_timeout_ms; /* server-side statement_timeout, 0 = none */
    PGconn          *main;                 /* the connection: synchronous commits */
    bool             prepared;             /* connected and schema checked */
    const mc_stmt_t *prepared_stmts[MC_STORE_MAX_STMTS]; /* prepared on these connections */
    int              n_prepared;           /* entries in prepared_stmts */
    mc_store_tcp_t   tcp;                  /* keepalive defaults of every connection (conninfo wins) */
    int              code_gap;             /* > 0: counters move by this on a new timeline (mc_store_set_code_gap) */
    bool             commit_pending;       /* a COMMIT or autocommit statement was sent, its answer not read */
    bool             sync_cancelled;       /* the server warned that this connection's sync-rep wait was cancelled */
    bool             unknown;              /* a commit's outcome is unknown: nothing is answered before a barrier */
};

/*
 * mc_store_exec - run stmt with text/binary parameters, preparing it on
 * first use. retry_once: if the connection turns out dead, reconnect and
 * run it again (only for statements safe to repeat). Returns the result
 * (PQclear it) or NULL when no connection could be had.
 */
PGresult *mc_store_exec(mc_store_t *store, const mc_stmt_t *stmt, const char *const *params,
                        const int *lens, const int *fmts, bool retry_once);

/* mc_store_connect_raw - connect with the session settings, no schema check, no
 * prepared statements (the migration runner, before the schema exists) */
mc_store_rc_t mc_store_connect_raw(mc_store_t *store, mc_err_t *err);

/* mc_store_classify - a failed result: UNAVAILABLE (and disconnect) or FAILED, message in err */
mc_store_rc_t mc_store_classify(mc_store_t *store, PGconn *conn, const PGresult *res,
                                const char *what, mc_err_t *err);

/* mc_store_unescape - a text-format bytea cell into malloc'd bytes */
int mc_store_unescape(const PGresult *res, int row, int col, uint8_t **bytes, size_t *len);

/* mc_store_copy_text - bounded copy of a text cell */
void mc_store_copy_text(char *dst, size_t size, const PGresult *res, int row, int col);

/* mc_store_read_event - row i of an events query (at epoch, actor, kind, detail) into e */
void mc_store_read_event(const PGresult *res, int i, mc_store_event_t *e);

/* mc_store_run - run stmt on main inside the caller's transaction (no retry), expecting a
 * command or rows; a failure is classified into err */
mc_store_rc_t mc_store_run(mc_store_t *store, const mc_stmt_t *stmt, const char *const *params,
                           const int *lens, const int *fmts, mc_err_t *err);

/* mc_store_run_retry - mc_store_run, retried on a new connection when retry (only where
 * nothing of the transaction was done yet: BEGIN, or a statement outside one) */
mc_store_rc_t mc_store_run_retry(mc_store_t *store, const mc_stmt_t *stmt,
                                 const char *const *params, const int *lens, const int *fmts,
                                 bool retry, mc_err_t *err);

/* mc_store_key_lookup - stmt (SELECT request_sha256, response FROM idempotency_key WHERE
 * scope = $1 AND key = $2): OK (not known), EXISTS (fingerprint and answer in *existing,
 * free with mc_stored_response_clear), or a failure classified into err */
mc_store_rc_t mc_store_key_lookup(mc_store_t *store, const mc_stmt_t *stmt, const char *scope,
                                  const char *key, bool retry, mc_stored_response_t *existing,
                                  mc_err_t *err);

/* --- transactions: the one way the store begins and ends them ----------------
 *
 * Every transaction of the store begins with mc_store_begin and ends with
 * mc_store_commit, mc_store_rollback or mc_store_end (which picks one of the
 * two by the outcome); mc_store_snapshot wraps a whole read-only snapshot.
 * Inside, statements run through mc_store_run (never retried: repeating half
 * a transaction on a new connection would be wrong). The kinds: */
typedef enum mc_tx_kind {
    MC_TX_WRITE,              /* READ COMMITTED read-write: every claim (FOR [NO KEY] UPDATE
                                 SKIP LOCKED) and state change, with its event and notification */
    MC_TX_SNAPSHOT_READ_ONLY, /* REPEATABLE READ READ ONLY: a report, the queue view, a form:
                                 every figure from one snapshot while the daemons keep writing */
    MC_TX_SCHEMA,             /* a migration with its schema_migration row (mc_store_migrate
                                 only): on the connection as it is, no schema check, no retry */
} mc_tx_kind_t;

/* mc_store_begin - connect (except MC_TX_SCHEMA) and BEGIN a transaction of kind; BEGIN is
 * retried once on a fresh connection, since nothing of the transaction was done yet */
mc_store_rc_t mc_store_begin(mc_store_t *store, mc_tx_kind_t kind, mc_err_t *err);

/* mc_store_commit - COMMIT, classified (a COMMIT whose answer was lost is unknown: callers
 * retry by idempotency key, never by repeating); the caller rolls back on failure */
mc_store_rc_t mc_store_commit(mc_store_t *store, mc_err_t *err);

/* mc_store_rollback - give up the open transaction, if the connection is still there (a lost
 * connection has abandoned it already) */
void mc_store_rollback(mc_store_t *store);

/* mc_store_end - COMMIT when rc is OK, else (or when COMMIT fails) ROLLBACK; the outcome */
mc_store_rc_t mc_store_end(mc_store_t *store, mc_store_rc_t rc, mc_err_t *err);

/* reads one snapshot's rows into arg (mc_store_snapshot) */
typedef mc_store_rc_t (*mc_store_read_fn)(mc_store_t *store, void *arg, mc_err_t *err);

/* mc_store_snapshot - read(store, arg, err) inside one MC_TX_SNAPSHOT_READ_ONLY transaction;
 * the first failure */
mc_store_rc_t mc_store_snapshot(mc_store_t *store, mc_store_read_fn read, void *arg,
                                mc_err_t *err);

/* mc_store_claim_begin - a deadline scan's batch (one MC_TX_WRITE transaction): begin, then
 * claim (a SELECT ... FOR UPDATE SKIP LOCKED whose rows start with id, code, procedure_code,
 * state, due_at epoch); *rows on OK (the caller clears them), else rolled back */
mc_store_rc_t mc_store_claim_begin(mc_store_t *store, const mc_stmt_t *claim,
                                   const char *const *params, PGresult **rows, mc_err_t *err);

/* mc_store_claim_head - the first five columns of claimed row i */
void mc_store_claim_head(const PGresult *rows, int i, int64_t *id, char *code, size_t code_size,
                         char *procedure_code, size_t procedure_size, int *state, int64_t *due_at);

/* mc_store_i64 - decimal text of v into buf; buf */
const char *mc_store_i64(char *buf, size_t size, int64_t v);

/* mc_store_add_event - a dossier_event (at now()) of dossier id, in the caller's transaction
 * (detail NULL reads ""; never personal data) */
mc_store_rc_t mc_store_add_event(mc_store_t *store, int64_t id, const char *actor,
                                 const char *kind, const char *detail, mc_err_t *err);

/* --- pipeline mode (libpq): many statements per round trip ------------------
 *
 * A batch opens the pipeline (mc_store_pipe_open), queues statements
 * (mc_store_pipe_send, _begin, _commit), sends them with a sync point
 * (mc_store_pipe_sync), reads one result per queued statement in order
 * (mc_store_pipe_result, checked with mc_store_pipe_ok: after a failure the
 * rest come PGRES_PIPELINE_ABORTED), then the sync point (mc_store_pipe_end),
 * and closes it (mc_store_pipe_close). Used by mc_store_create_dossiers and
 * mc_store_cases_batch. */

/* mc_store_prepare - stmts prepared on main unless they are already (a pipeline cannot
 * prepare on first use as mc_store_exec does) */
mc_store_rc_t mc_store_prepare(mc_store_t *store, const mc_stmt_t *const *stmts, size_t n,
                               mc_err_t *err);

/* mc_store_pipe_open - connect, prepare stmts (and BEGIN, COMMIT), enter pipeline mode */
mc_store_rc_t mc_store_pipe_open(mc_store_t *store, const mc_stmt_t *const *stmts, size_t n,
                                 mc_err_t *err);

/* mc_store_pipe_close - leave pipeline mode; rc, or UNAVAILABLE (disconnected) if it cannot */
mc_store_rc_t mc_store_pipe_close(mc_store_t *store, mc_store_rc_t rc, mc_err_t *err);

/* mc_store_pipe_send - queue a prepared statement; 0, or -1 */
int mc_store_pipe_send(mc_store_t *store, const mc_stmt_t *stmt, const char *const *params,
                       const int *lens, const int *fmts);

/* mc_store_pipe_begin - queue a read-write BEGIN; 0, or -1 */
int mc_store_pipe_begin(mc_store_t *store);

/* mc_store_pipe_commit - queue COMMIT, preceded by a WAL write whose result the pipeline
 * hides, so that the COMMIT waits for the synchronous standby even when the transaction
 * wrote nothing (its answers may replay what an unknown commit left); 0, or -1 */
int mc_store_pipe_commit(mc_store_t *store);

/* mc_store_pipe_result - the next queued statement's result (NULL: connection lost); PQclear it */
PGresult *mc_store_pipe_result(mc_store_t *store);

/* mc_store_pipe_ok - res is want, else classified into err (PIPELINE_ABORTED: FAILED) */
mc_store_rc_t mc_store_pipe_ok(mc_store_t *store, PGresult *res, ExecStatusType want,
                               const char *what, mc_err_t *err);

/* mc_store_pipe_sync - send what was queued, with a sync point; 0, or -1 */
int mc_store_pipe_sync(mc_store_t *store);

/* mc_store_pipe_end - read the sync point: true when it came */
bool mc_store_pipe_end(mc_store_t *store);

/* mc_store_id_array - "{1,2,3}" of n ids (an int8[] parameter), malloc'd; NULL when out of memory */
char *mc_store_id_array(const int64_t *ids, size_t n);

#endif
