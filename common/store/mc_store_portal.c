/*
 * mc_store_portal - the portal outbox (contract in mc_store_portal.h).
 *
 * Every step is one statement in its own transaction: the claim leases
 * (next_attempt_at past the push) instead of holding a row lock across the
 * network, like mc_store_notify; a crash costs one resend of the same event
 * once the lease runs out. Order per dossier comes from the claim taking
 * only the oldest pending row of each dossier: the next one becomes due
 * only when this one is acknowledged.
 * Outbox states in SQL: 0 pending, 1 acknowledged (migration 0011).
 */
#include "mc_store_portal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "mc_store_int.h"
#include "mc_limits.h"

#define PORTAL_MAX_ERROR 500 /* bytes of last_error kept */

/* the lock is taken in the CTE: FOR UPDATE cannot sit on an UPDATE ... FROM */
static const mc_stmt_t stmt_claim = {"portal_claim", 2,
     "WITH c AS (SELECT o.id FROM portal_outbox o WHERE o.state = " MC_SQL(MC_OUTBOX_PENDING)
     "           AND o.next_attempt_at <= now()"
     "           AND NOT EXISTS (SELECT 1 FROM portal_outbox p WHERE p.dossier_id = o.dossier_id"
     "                           AND p.state = " MC_SQL(MC_OUTBOX_PENDING) " AND p.id < o.id) /* the dossier's oldest */"
     "           ORDER BY o.next_attempt_at, o.id LIMIT $1::integer FOR UPDATE SKIP LOCKED)"
     " UPDATE portal_outbox o SET attempts = o.attempts + 1,"
     "  next_attempt_at = now() + $2::integer * interval '1 millisecond'"
     " FROM c WHERE o.id = c.id"
     " RETURNING o.id, o.event_id, o.code, o.seq, o.attempts, o.body"};
static const mc_stmt_t stmt_acked = {"portal_acked", 2,
     "UPDATE portal_outbox SET state = " MC_SQL(MC_OUTBOX_ACKED) ", sent_at = now(),"
     " last_status = $2::integer, last_error = NULL"
     " WHERE id = $1::bigint AND state = " MC_SQL(MC_OUTBOX_PENDING)};
static const mc_stmt_t stmt_retry = {"portal_retry", 5,
     "UPDATE portal_outbox SET next_attempt_at = now() + $3::integer * interval '1 millisecond',"
     " last_status = nullif($4::integer, 0), last_error = $5"
     " WHERE id = $1::bigint AND state = " MC_SQL(MC_OUTBOX_PENDING) " AND attempts = $2::integer"};

/* mc_portal_event_clear - free and zero */
void mc_portal_event_clear(mc_portal_event_t *event)
{
    if (!event)
        return;
    free(event->body);
    memset(event, 0, sizeof *event);
}

/* by_id - qsort order of claimed events: oldest first */
static int by_id(const void *a, const void *b)
{
    const mc_portal_event_t *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/* mc_store_portal_claim - lease the due heads */
mc_store_rc_t mc_store_portal_claim(mc_store_t *store, int max, int lease_ms,
                                    mc_portal_event_t *events, int *count, mc_err_t *err)
{
    *count = 0;
    mc_store_rc_t rc = mc_store_connect(store, err);
    if (rc != MC_STORE_OK)
        return rc;
    char max_text[16], lease_text[16];
    snprintf(max_text, sizeof max_text, "%d", max > 0 ? max : 1);
    snprintf(lease_text, sizeof lease_text, "%d", lease_ms);
    const char *p[2] = {max_text, lease_text};
    /* not retried on a new connection: a claim that committed on the dead one
     * would stay leased, unpushed, until its lease ran out */
    PGresult *res = mc_store_exec(store, &stmt_claim, p, NULL, NULL, false);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = mc_store_classify(store, store->main, res, stmt_claim.name, err);
        PQclear(res);
        return rc;
    }
    int n = PQntuples(res);
    for (int i = 0; i < n && i < max; i++) {
        mc_portal_event_t *e = &events[i];
        memset(e, 0, sizeof *e);
        e->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        mc_store_copy_text(e->event_id, sizeof e->event_id, res, i, 1);
        mc_store_copy_text(e->code, sizeof e->code, res, i, 2);
        e->seq = atoi(PQgetvalue(res, i, 3));
        e->attempts = atoi(PQgetvalue(res, i, 4));
        e->body = strdup(PQgetvalue(res, i, 5));
        if (!e->body) {
            /* the rows stay leased: pushed once the lease runs out */
            for (int j = 0; j < i; j++)
                mc_portal_event_clear(&events[j]);
            PQclear(res);
            mc_err_add(err, "store: portal_claim: out of memory");
            return MC_STORE_FAILED;
        }
        (*count)++;
    }
    PQclear(res);
    qsort(events, (size_t)*count, sizeof *events, by_id);
    return MC_STORE_OK;
}

/* update - run one write statement (safe to repeat); *rows changed */
static mc_store_rc_t update(mc_store_t *store, const mc_stmt_t *stmt, const char *const *params,
                            long *rows, mc_err_t *err)
{
    mc_store_rc_t rc = mc_store_connect(store, err);
    if (rc != MC_STORE_OK)
        return rc;
    PGresult *res = mc_store_exec(store, stmt, params, NULL, NULL, true);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        rc = mc_store_classify(store, store->main, res, stmt->name, err);
        PQclear(res);
        return rc;
    }
    *rows = strtol(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return MC_STORE_OK;
}

/* mc_store_portal_acked - state acknowledged */
mc_store_rc_t mc_store_portal_acked(mc_store_t *store, const mc_portal_event_t *event,
                                    int status, mc_err_t *err)
{
    char id_text[MC_I64_TEXT], status_text[16];
    snprintf(id_text, sizeof id_text, "%" PRId64, event->id);
    snprintf(status_text, sizeof status_text, "%d", status);
    const char *p[2] = {id_text, status_text};
    long rows = 0;
    return update(store, &stmt_acked, p, &rows, err);
}

/* mc_store_portal_retry - due again later, if still ours */
mc_store_rc_t mc_store_portal_retry(mc_store_t *store, const mc_portal_event_t *event,
                                    int delay_ms, int status, const char *error,
                                    bool *overtaken, mc_err_t *err)
{
    char id_text[MC_I64_TEXT], attempts_text[16], delay_text[16], status_text[16];
    char error_text[PORTAL_MAX_ERROR + 1];
    snprintf(id_text, sizeof id_text, "%" PRId64, event->id);
    snprintf(attempts_text, sizeof attempts_text, "%d", event->attempts);
    snprintf(delay_text, sizeof delay_text, "%d", delay_ms);
    snprintf(status_text, sizeof status_text, "%d", status);
    snprintf(error_text, sizeof error_text, "%s", error ? error : "failed");
    const char *p[5] = {id_text, attempts_text, delay_text, status_text, error_text};
    long rows = 0;
    mc_store_rc_t rc = update(store, &stmt_retry, p, &rows, err);
    *overtaken = rc == MC_STORE_OK && rows == 0;
    return rc;
}
