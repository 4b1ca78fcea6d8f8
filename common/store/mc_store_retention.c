/*
 * mc_store_retention - expired keys and retired dossiers (contract in
 * mc_store_retention.h).
 *
 * A dossier's export line is built by PostgreSQL (to_jsonb of each row, the
 * payload and results as hex bytea), one JSON object per dossier with every
 * row that is deleted with it, so the archive holds all the store held.
 * The deletes go child tables first (foreign keys), each by the batch's ids
 * as one bigint[] parameter.
 */
#include "mc_store_retention.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_store_int.h"

/* the keys that may go: old enough, not a tombstone already, and no
 * extension key of a running dossier */
#define KEYS_EXPIRED \
    " FROM idempotency_key k LEFT JOIN dossier d ON d.id = k.dossier_id" \
    " WHERE k.created_at < to_timestamp($1::bigint) AND k.response <> ''::bytea" \
    " AND (left(k.scope, 10) <> 'extension:' OR d.closed_at IS NOT NULL)"

static const mc_stmt_t stmt_keys_count = {"retention_keys_count", 1,
    "SELECT count(*)" KEYS_EXPIRED};
/* a submission's key whose dossier remains becomes a tombstone (no stored
 * receipt, a fingerprint no request has: a late retry is refused as a
 * duplicate, migration 0023); every other expired key is deleted */
static const mc_stmt_t stmt_keys_expire = {"retention_keys_expire", 2,
    "WITH x AS (SELECT k.scope, k.key,"
    "   left(k.scope, 7) = 'submit:' AND k.dossier_id IS NOT NULL AS tomb" KEYS_EXPIRED
    "   ORDER BY k.created_at LIMIT $2::integer FOR UPDATE OF k SKIP LOCKED),"
    " t AS (UPDATE idempotency_key i SET request_sha256 = decode(repeat('00', 32), 'hex'),"
    "   response = ''::bytea FROM x WHERE x.tomb AND i.scope = x.scope AND i.key = x.key"
    "   RETURNING 1),"
    " g AS (DELETE FROM idempotency_key i USING x WHERE NOT x.tomb AND i.scope = x.scope"
    "   AND i.key = x.key RETURNING 1)"
    " SELECT (SELECT count(*) FROM t) + (SELECT count(*) FROM g)"};

static const mc_stmt_t stmt_pending = {"retention_pending", 1,
    "SELECT id FROM notification WHERE id = ANY($1::bigint[])"
    " AND state = " MC_SQL(MC_NOTIFICATION_PENDING)};

/* closed, and closed before $1 (closed_at >= received_at: the received_at
 * bound lets dossier_received_idx find them), with nothing still to send: a
 * pending notice or portal event keeps its dossier until it is settled */
#define DOSSIERS_RETIRED \
    " FROM dossier d WHERE d.received_at < to_timestamp($1::bigint)" \
    " AND d.closed_at < to_timestamp($1::bigint)" \
    " AND d.state IN (" MC_SQL(MC_DOSSIER_RESULT_READY) ", " MC_SQL(MC_DOSSIER_DELIVERED) ", " \
    MC_SQL(MC_DOSSIER_WITHDRAWN) ", " MC_SQL(MC_DOSSIER_REFUSED) ", " \
    MC_SQL(MC_DOSSIER_RETURNED) ")" \
    " AND NOT EXISTS (SELECT 1 FROM notification n WHERE n.dossier_id = d.id" \
    "   AND n.state = " MC_SQL(MC_NOTIFICATION_PENDING) ")" \
    " AND NOT EXISTS (SELECT 1 FROM portal_outbox o WHERE o.dossier_id = d.id" \
    "   AND o.state = " MC_SQL(MC_OUTBOX_PENDING) ")"

/* the rows of table t (alias r) of the dossier, as a JSON array in id order */
#define ROWS_OF(t) \
    "coalesce((SELECT jsonb_agg(to_jsonb(r) ORDER BY r.id) FROM " t " r" \
    " WHERE r.dossier_id = d.id), '[]'::jsonb)"

static const mc_stmt_t stmt_dossiers_count = {"retention_dossiers_count", 1,
    "SELECT count(*)" DOSSIERS_RETIRED};
static const mc_stmt_t stmt_dossiers_lock = {"retention_dossiers_lock", 2,
    "SELECT d.id, jsonb_build_object('schema', 'motcua.archive.v1',"
    " 'exported_at', now(), 'dossier', to_jsonb(d),"
    " 'events', " ROWS_OF("dossier_event") ", 'history', " ROWS_OF("dossier_history") ","
    " 'cases', " ROWS_OF("agency_case") ","
    " 'notifications', coalesce((SELECT jsonb_agg(to_jsonb(n) || jsonb_build_object("
    "   'attempt_log', coalesce((SELECT jsonb_agg(to_jsonb(t) ORDER BY t.id)"
    "   FROM notification_attempt t WHERE t.notification_id = n.id), '[]'::jsonb)) ORDER BY n.id)"
    "   FROM notification n WHERE n.dossier_id = d.id), '[]'::jsonb),"
    " 'rating', (SELECT to_jsonb(r) FROM rating r WHERE r.dossier_id = d.id),"
    " 'portal_outbox', " ROWS_OF("portal_outbox") ")::text"
    DOSSIERS_RETIRED " ORDER BY d.received_at, d.id LIMIT $2::integer FOR UPDATE OF d SKIP LOCKED"};

/* only this transaction may delete from the append-only history (migration 0023) */
static const mc_stmt_t stmt_purge_mode = {"retention_purge_mode", 0,
    "SELECT set_config('motcua.retention', 'purge', true)"};

/* children first: nothing may still point at a row when it goes */
static const mc_stmt_t stmt_deletes[] = {
    {"retention_del_outbox", 1, "DELETE FROM portal_outbox WHERE dossier_id = ANY($1::bigint[])"},
    {"retention_del_attempts", 1,
     "DELETE FROM notification_attempt WHERE notification_id IN"
     " (SELECT id FROM notification WHERE dossier_id = ANY($1::bigint[]))"},
    {"retention_del_notes", 1, "DELETE FROM notification WHERE dossier_id = ANY($1::bigint[])"},
    {"retention_del_cases", 1, "DELETE FROM agency_case WHERE dossier_id = ANY($1::bigint[])"},
    {"retention_del_rating", 1, "DELETE FROM rating WHERE dossier_id = ANY($1::bigint[])"},
    {"retention_del_history", 1,
     "DELETE FROM dossier_history WHERE dossier_id = ANY($1::bigint[])"},
    {"retention_del_events", 1, "DELETE FROM dossier_event WHERE dossier_id = ANY($1::bigint[])"},
    {"retention_del_keys", 1, "DELETE FROM idempotency_key WHERE dossier_id = ANY($1::bigint[])"},
    {"retention_del_dossiers", 1, "DELETE FROM dossier WHERE id = ANY($1::bigint[])"},
};

/* count_rows - the count(*) of stmt with `before` into *n */
static mc_store_rc_t count_rows(mc_store_t *store, const mc_stmt_t *stmt, int64_t before, long *n,
                                mc_err_t *err)
{
    char b[24];
    const char *p[1] = {mc_store_i64(b, sizeof b, before)};
    PGresult *res = mc_store_exec(store, stmt, p, NULL, NULL, true);
    mc_store_rc_t rc = MC_STORE_OK;
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        rc = mc_store_classify(store, store->main, res, stmt->name, err);
    else
        *n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return rc;
}

/* mc_store_keys_expire - batches of tombstones and deletes, each committed on its own */
mc_store_rc_t mc_store_keys_expire(mc_store_t *store, int64_t before, int batch, bool dry_run,
                                   long *n, mc_err_t *err)
{
    *n = 0;
    mc_store_rc_t rc = mc_store_connect(store, err);
    if (rc != MC_STORE_OK)
        return rc;
    if (dry_run)
        return count_rows(store, &stmt_keys_count, before, n, err);
    char b[24], l[16];
    snprintf(l, sizeof l, "%d", batch);
    const char *p[2] = {mc_store_i64(b, sizeof b, before), l};
    for (;;) {
        /* one statement outside a transaction: repeating it after a lost connection is safe */
        PGresult *res = mc_store_exec(store, &stmt_keys_expire, p, NULL, NULL, true);
        if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
            rc = mc_store_classify(store, store->main, res, stmt_keys_expire.name, err);
            PQclear(res);
            return rc;
        }
        long done = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        *n += done;
        if (done < batch)
            return MC_STORE_OK;
    }
}

/* mc_store_notifications_pending - which of ids are still pending */
mc_store_rc_t mc_store_notifications_pending(mc_store_t *store, const int64_t *ids, size_t n,
                                             bool *pending, mc_err_t *err)
{
    for (size_t i = 0; i < n; i++)
        pending[i] = false;
    if (n == 0)
        return MC_STORE_OK;
    mc_store_rc_t rc = mc_store_connect(store, err);
    if (rc != MC_STORE_OK)
        return rc;
    char *array = mc_store_id_array(ids, n);
    if (!array) {
        mc_err_add(err, "store: notifications_pending: out of memory");
        return MC_STORE_FAILED;
    }
    const char *p[1] = {array};
    PGresult *res = mc_store_exec(store, &stmt_pending, p, NULL, NULL, true);
    free(array);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = mc_store_classify(store, store->main, res, stmt_pending.name, err);
        PQclear(res);
        return rc;
    }
    for (int r = 0; r < PQntuples(res); r++) {
        int64_t id = strtoll(PQgetvalue(res, r, 0), NULL, 10);
        for (size_t i = 0; i < n; i++)
            if (ids[i] == id)
                pending[i] = true;
    }
    PQclear(res);
    return MC_STORE_OK;
}

/* retire_locked - the batch locked in rows: export it durably, then delete it (in the
 * caller's transaction) */
static mc_store_rc_t retire_locked(mc_store_t *store, const PGresult *rows,
                                   mc_retention_write_fn write, void *arg, mc_err_t *err)
{
    size_t n = (size_t)PQntuples(rows);
    int64_t *ids = calloc(n, sizeof *ids);
    const char **lines = calloc(n, sizeof *lines);
    char *array = NULL;
    mc_store_rc_t rc = MC_STORE_OK;
    if (!ids || !lines) {
        mc_err_add(err, "store: retire: out of memory");
        rc = MC_STORE_FAILED;
    }
    for (size_t i = 0; i < n && rc == MC_STORE_OK; i++) {
        ids[i] = strtoll(PQgetvalue(rows, (int)i, 0), NULL, 10);
        lines[i] = PQgetvalue(rows, (int)i, 1);
        if (strchr(lines[i], '\n')) { /* jsonb text never has one: one line per dossier */
            mc_err_add(err, "store: retire: export of dossier %" PRId64 " spans lines", ids[i]);
            rc = MC_STORE_FAILED;
        }
    }
    /* durable before anything is deleted */
    if (rc == MC_STORE_OK && write(arg, lines, n, err) != 0)
        rc = MC_STORE_FAILED;
    if (rc == MC_STORE_OK && !(array = mc_store_id_array(ids, n))) {
        mc_err_add(err, "store: retire: out of memory");
        rc = MC_STORE_FAILED;
    }
    if (rc == MC_STORE_OK)
        rc = mc_store_run(store, &stmt_purge_mode, NULL, NULL, NULL, err);
    const char *p[1] = {array};
    for (size_t i = 0; i < sizeof stmt_deletes / sizeof stmt_deletes[0] && rc == MC_STORE_OK; i++)
        rc = mc_store_run(store, &stmt_deletes[i], p, NULL, NULL, err);
    free(array);
    free(lines);
    free(ids);
    return rc;
}

/* mc_store_dossiers_retire - one batch: lock, export, delete, commit */
mc_store_rc_t mc_store_dossiers_retire(mc_store_t *store, int64_t before, int batch, bool dry_run,
                                       mc_retention_write_fn write, void *arg, long *n,
                                       mc_err_t *err)
{
    *n = 0;
    mc_store_rc_t rc = mc_store_connect(store, err);
    if (rc != MC_STORE_OK)
        return rc;
    if (dry_run)
        return count_rows(store, &stmt_dossiers_count, before, n, err);
    if ((rc = mc_store_begin(store, MC_TX_WRITE, err)) != MC_STORE_OK)
        return rc;
    char b[24], l[16];
    snprintf(l, sizeof l, "%d", batch);
    const char *p[2] = {mc_store_i64(b, sizeof b, before), l};
    PGresult *rows = mc_store_exec(store, &stmt_dossiers_lock, p, NULL, NULL, false);
    if (PQresultStatus(rows) != PGRES_TUPLES_OK)
        rc = mc_store_classify(store, store->main, rows, stmt_dossiers_lock.name, err);
    else if (PQntuples(rows) > 0)
        rc = retire_locked(store, rows, write, arg, err);
    long locked = rc == MC_STORE_OK ? PQntuples(rows) : 0;
    PQclear(rows);
    rc = mc_store_end(store, rc, err);
    if (rc == MC_STORE_OK)
        *n = locked;
    return rc;
}
