/*
 * mc_store_followup - supplement, withdraw and rate in the store (contract in
 * mc_store_followup.h).
 *
 * One explicit MC_TX_WRITE transaction per request (mc_store_int.h): the key
 * lookup, the dossier's lock, decide, the writes and the key with its reply.
 * Statements inside it never use mc_store_exec's retry: repeating half a
 * transaction on a new connection would be wrong; intake's client retries
 * the whole request by its key.
 */
#include "mc_store_followup.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "mc_store_int.h"
#include "mc_limits.h"

static const mc_stmt_t stmt_key_lookup = {"followup_key", 2,
     "SELECT request_sha256, response FROM idempotency_key WHERE scope = $1 AND key = $2"};
/* the rating's token and whether a rating exists are read under the same
 * lock, so decide judges a rating against what the commit will see */
static const mc_stmt_t stmt_lock_dossier = {"followup_lock", 1,
     "SELECT id, code, ward_code, procedure_code, state, extract(epoch FROM due_at)::bigint,"
     " payload, rating_token::text,"
     " EXISTS (SELECT 1 FROM rating r WHERE r.dossier_id = dossier.id),"
     " accept_due_at IS NOT NULL AND accepted_at IS NULL, coalesce(receiving_ward, '')"
     " FROM dossier WHERE code = $1 FOR NO KEY UPDATE"};
static const mc_stmt_t stmt_key_insert = {"followup_key_insert", 5,
     "INSERT INTO idempotency_key (scope, key, request_sha256, dossier_id, response)"
     " VALUES ($1, $2, $3, $4::bigint, $5) ON CONFLICT (scope, key) DO NOTHING RETURNING 1"};
static const mc_stmt_t stmt_supplement = {"followup_supplement", 4,
     "UPDATE dossier SET payload = $2, state = " MC_SQL(MC_DOSSIER_IN_PROGRESS) ", paused_at = NULL,"
     " counted_from = to_timestamp($3::bigint), due_at = to_timestamp($4::bigint)"
     " WHERE id = $1::bigint AND state = " MC_SQL(MC_DOSSIER_WAITING_SUPPLEMENT)};
/* a supplement before acceptance: back to PENDING_ACCEPTANCE (9), no due date */
static const mc_stmt_t stmt_supplement_unaccepted = {"followup_supplement_unaccepted", 3,
     "UPDATE dossier SET payload = $2, state = " MC_SQL(MC_DOSSIER_PENDING_ACCEPTANCE) ", paused_at = NULL, counted_from = NULL,"
     " due_at = NULL, accept_due_at = to_timestamp($3::bigint)"
     " WHERE id = $1::bigint AND state = " MC_SQL(MC_DOSSIER_WAITING_SUPPLEMENT) " AND accepted_at IS NULL"};
/* the agency steps change through functions (migration 0010): intake holds
 * no privilege on agency_case, only EXECUTE on these two transitions */
static const mc_stmt_t stmt_resume_cases = {"followup_resume_cases", 2,
     "SELECT mc_cases_resume($1::bigint, to_timestamp($2::bigint))"};
static const mc_stmt_t stmt_withdraw = {"followup_withdraw", 1,
     "UPDATE dossier SET state = " MC_SQL(MC_DOSSIER_WITHDRAWN) " WHERE id = $1::bigint AND (state < " MC_SQL_DOSSIER_OPEN_BELOW " OR state = " MC_SQL(MC_DOSSIER_PENDING_ACCEPTANCE) ")"};
static const mc_stmt_t stmt_cancel_cases = {"followup_cancel_cases", 1,
     "SELECT mc_cases_cancel($1::bigint)"};
static const mc_stmt_t stmt_add_withdraw_notice = {"followup_withdraw_notice", 3,
     "INSERT INTO notification (dossier_id, kind, dedupe_key, data)"
     " VALUES ($1::bigint, 'withdrawn', $2, jsonb_build_object('reason', $3::text))"
     " ON CONFLICT (dedupe_key) DO NOTHING"};
/* no ON CONFLICT: decide saw no rating under the dossier's lock, so a
 * conflict here is a bug worth a failed transaction, not a silent no-op */
static const mc_stmt_t stmt_add_rating = {"followup_add_rating", 3,
     "INSERT INTO rating (dossier_id, level, comment) VALUES ($1::bigint, $2::smallint, $3)"};

/* apply_change - the writes of an accepted follow-up (key first: a lost race is EXISTS) */
static mc_store_rc_t apply_change(mc_store_t *store, const mc_followup_t *req,
                                  const mc_followup_row_t *row, const mc_followup_change_t *ch,
                                  mc_err_t *err)
{
    char idt[MC_I64_TEXT], cnt[24], due[24], key[96];
    mc_store_i64(idt, sizeof idt, row->id);
    const char *pk[5] = {req->scope, req->key, (const char *)req->request_sha256, idt,
                         (const char *)ch->response};
    int lens[5] = {0, 0, 32, 0, (int)ch->response_len}, fmts[5] = {0, 0, 1, 0, 1};
    PGresult *res = mc_store_exec(store, &stmt_key_insert, pk, lens, fmts, false);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        mc_store_rc_t rc = mc_store_classify(store, store->main, res, "followup_key_insert", err);
        PQclear(res);
        return rc;
    }
    int inserted = PQntuples(res);
    PQclear(res);
    if (inserted == 0)
        return MC_STORE_EXISTS; /* same key for another dossier, committed meanwhile */
    mc_store_rc_t rc;
    const char *actor = ch->actor ? ch->actor : "intake";
    if (req->kind == MC_FOLLOWUP_SUPPLEMENT) {
        bool unaccepted = ch->accept_due_at > 0;
        const char *p[4] = {idt, (const char *)ch->payload,
                            mc_store_i64(cnt, sizeof cnt, unaccepted ? ch->accept_due_at : ch->counted_from),
                            mc_store_i64(due, sizeof due, unaccepted ? ch->accept_due_at : ch->due_at)};
        int pl[4] = {0, (int)ch->payload_len, 0, 0}, pf[4] = {0, 1, 0, 0};
        rc = mc_store_run_retry(store, unaccepted ? &stmt_supplement_unaccepted : &stmt_supplement, p, pl, pf,
                    false, err);
        if (rc == MC_STORE_OK) {
            const char *pc[2] = {idt, due};
            rc = mc_store_run_retry(store, &stmt_resume_cases, pc, NULL, NULL, false, err);
        }
        if (rc == MC_STORE_OK)
            rc = mc_store_add_event(store, row->id, actor, "supplemented", ch->detail, err);
    } else if (req->kind == MC_FOLLOWUP_RATE) {
        char level[16];
        snprintf(level, sizeof level, "%d", ch->level);
        const char *p[3] = {idt, level, ch->comment ? ch->comment : ""};
        rc = mc_store_run_retry(store, &stmt_add_rating, p, NULL, NULL, false, err);
        if (rc == MC_STORE_OK)
            rc = mc_store_add_event(store, row->id, actor, "rated", ch->detail, err);
    } else {
        const char *p[1] = {idt};
        rc = mc_store_run_retry(store, &stmt_withdraw, p, NULL, NULL, false, err);
        if (rc == MC_STORE_OK)
            rc = mc_store_run_retry(store, &stmt_cancel_cases, p, NULL, NULL, false, err);
        if (rc == MC_STORE_OK)
            rc = mc_store_add_event(store, row->id, actor, "withdrawn", ch->detail, err);
        if (rc == MC_STORE_OK) {
            snprintf(key, sizeof key, "%s/withdrawn", row->code);
            const char *pn[3] = {idt, key, ch->reason ? ch->reason : ""};
            rc = mc_store_run_retry(store, &stmt_add_withdraw_notice, pn, NULL, NULL, false, err);
        }
    }
    return rc;
}

/* mc_store_followup - a supplement, withdrawal or rating, idempotent by (scope, key) */
mc_store_rc_t mc_store_followup(mc_store_t *store, const mc_followup_t *req,
                                mc_stored_response_t *existing, bool *refused, mc_err_t *err)
{
    *refused = false;
    mc_store_rc_t rc = mc_store_connect(store, err);
    if (rc != MC_STORE_OK)
        return rc;
    /* a plain retry is answered without taking any lock */
    rc = mc_store_key_lookup(store, &stmt_key_lookup, req->scope, req->key, true,
                                 existing, err);
    if (rc != MC_STORE_OK)
        return rc;
    if ((rc = mc_store_begin(store, MC_TX_WRITE, err)) != MC_STORE_OK)
        return rc;
    const char *p[1] = {req->code};
    PGresult *res = mc_store_exec(store, &stmt_lock_dossier, p, NULL, NULL, false);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = mc_store_classify(store, store->main, res, "followup_lock", err);
        PQclear(res);
        mc_store_rollback(store);
        return rc;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        mc_store_rollback(store);
        return MC_STORE_NOT_FOUND;
    }
    mc_followup_row_t row = {0};
    uint8_t *payload = NULL;
    row.id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    mc_store_copy_text(row.code, sizeof row.code, res, 0, 1);
    mc_store_copy_text(row.ward_code, sizeof row.ward_code, res, 0, 2);
    mc_store_copy_text(row.procedure_code, sizeof row.procedure_code, res, 0, 3);
    row.state = atoi(PQgetvalue(res, 0, 4));
    row.due_at = strtoll(PQgetvalue(res, 0, 5), NULL, 10);
    mc_store_copy_text(row.rating_token, sizeof row.rating_token, res, 0, 7);
    row.rated = strcmp(PQgetvalue(res, 0, 8), "t") == 0;
    row.unaccepted = strcmp(PQgetvalue(res, 0, 9), "t") == 0;
    mc_store_copy_text(row.receiving_ward, sizeof row.receiving_ward, res, 0, 10);
    int bad = mc_store_unescape(res, 0, 6, &payload, &row.payload_len);
    PQclear(res);
    if (bad) {
        mc_err_add(err, "store: followup_lock: out of memory");
        mc_store_rollback(store);
        return MC_STORE_FAILED;
    }
    row.payload = payload;
    /* with the dossier locked, a concurrent twin has either committed its key or not started */
    rc = mc_store_key_lookup(store, &stmt_key_lookup, req->scope, req->key, false,
                                 existing, err);
    mc_followup_change_t change = {0};
    int decision = 0;
    if (rc == MC_STORE_OK) {
        decision = req->decide(req->arg, &row, &change);
        if (decision < 0) {
            mc_err_add(err, "followup: could not decide");
            rc = MC_STORE_FAILED;
        } else if (decision == 0) {
            rc = apply_change(store, req, &row, &change, err);
        }
    }
    free(payload);
    if (rc == MC_STORE_OK && decision == 0)
        rc = mc_store_commit(store, err);
    if (rc != MC_STORE_OK || decision != 0)
        mc_store_rollback(store);
    if (rc == MC_STORE_EXISTS && !existing->bytes) {
        /* lost the key to a concurrent request after the lock: read what it stored */
        rc = mc_store_key_lookup(store, &stmt_key_lookup, req->scope, req->key, true,
                                 existing, err);
        if (rc == MC_STORE_OK) {
            mc_err_add(err, "store: followup: idempotency key vanished");
            rc = MC_STORE_FAILED;
        }
    }
    *refused = rc == MC_STORE_OK && decision == 1;
    return rc;
}
