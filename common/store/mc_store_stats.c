/*
 * mc_store_stats - the figures of `motcua stats` (contract in
 * mc_store_stats.h).
 *
 * The backlog is the queue view's own read (mc_store_queues_read), run in
 * this snapshot; this file adds two statements: dossiers by state, and the
 * receipts and results of the last 1 and 15 minutes.
 */
#include "mc_store_stats.h"

#include <stdlib.h>

#include "mc_store_int.h"

/* dossier.state and its count (index-only scan of dossier_state_idx) */
static const mc_stmt_t stmt_by_state = {"stats_by_state", 0,
    "SELECT state, count(*) FROM dossier GROUP BY state ORDER BY state"};

/* receipts (dossier_received_idx) and results (dossier_result_idx) of the last 1 and 15 minutes */
static const mc_stmt_t stmt_rates = {"stats_rates", 0,
    "SELECT (SELECT count(*) FROM dossier WHERE received_at > now() - interval '1 minute'),"
    "       (SELECT count(*) FROM dossier WHERE received_at > now() - interval '15 minutes'),"
    "       (SELECT count(*) FROM dossier WHERE result_at IS NOT NULL"
    "           AND result_at > now() - interval '1 minute'),"
    "       (SELECT count(*) FROM dossier WHERE result_at IS NOT NULL"
    "           AND result_at > now() - interval '15 minutes')"};

/* query - run stmt inside the snapshot; its rows, or NULL with the failure in *rc and err */
static PGresult *query(mc_store_t *store, const mc_stmt_t *stmt, mc_store_rc_t *rc, mc_err_t *err)
{
    PGresult *res = mc_store_exec(store, stmt, NULL, NULL, NULL, false);
    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        return res;
    *rc = mc_store_classify(store, store->main, res, stmt->name, err);
    PQclear(res);
    return NULL;
}

/* read_stats - every figure into arg (an mc_stats_t), inside the snapshot */
static mc_store_rc_t read_stats(mc_store_t *store, void *arg, mc_err_t *err)
{
    mc_stats_t *s = arg;
    mc_store_rc_t rc = mc_store_queues_read(store, &s->queues, err);
    if (rc != MC_STORE_OK)
        return rc;
    PGresult *res = query(store, &stmt_by_state, &rc, err);
    if (!res)
        return rc;
    for (int i = 0; i < PQntuples(res); i++) {
        int state = atoi(PQgetvalue(res, i, 0));
        if (state > 0 && state < MC_STATS_DOSSIER_STATES)
            s->dossiers[state] = strtol(PQgetvalue(res, i, 1), NULL, 10);
    }
    PQclear(res);
    if (!(res = query(store, &stmt_rates, &rc, err)))
        return rc;
    s->receipts_1m = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    s->receipts_15m = strtol(PQgetvalue(res, 0, 1), NULL, 10);
    s->results_1m = strtol(PQgetvalue(res, 0, 2), NULL, 10);
    s->results_15m = strtol(PQgetvalue(res, 0, 3), NULL, 10);
    PQclear(res);
    return MC_STORE_OK;
}

/* mc_store_stats - the figures in one snapshot */
mc_store_rc_t mc_store_stats(mc_store_t *store, mc_stats_t **out, mc_err_t *err)
{
    *out = NULL;
    mc_stats_t *s = calloc(1, sizeof *s);
    if (!s) {
        mc_err_add(err, "store: stats: out of memory");
        return MC_STORE_FAILED;
    }
    mc_store_rc_t rc = mc_store_snapshot(store, read_stats, s, err);
    if (rc != MC_STORE_OK) {
        mc_stats_destroy(&s);
        return rc;
    }
    *out = s;
    return MC_STORE_OK;
}

/* mc_stats_destroy - free and NULL */
void mc_stats_destroy(mc_stats_t **stats)
{
    if (!stats || !*stats)
        return;
    mc_queues_clear(&(*stats)->queues);
    free(*stats);
    *stats = NULL;
}
