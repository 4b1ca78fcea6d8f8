/*
 * mc_store_extend - the due_soon scan, the DueSoon flags and the extension
 * with its apology (contract in mc_store_extend.h).
 *
 * Each call is one explicit transaction driven from here with prepared
 * statements, as in mc_store_route.c: the claim or lock and the writes share
 * it, so a dossier is either fully warned / extended and committed, or
 * untouched.
 */
#include "mc_store_extend.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "mc_store_int.h"
#include "mc_limits.h"

/* ROUTED or IN_PROGRESS only: a RECEIVED dossier has no step yet to flag, and
 * warning it would spend the warning for that due date on nobody; NO KEY: see
 * mc_store_route.c (no deadlock with lienthong's event inserts) */
static const mc_stmt_t stmt_claim_due_soon = {"extend_claim_due_soon", 2,
     "SELECT id, code, procedure_code, state, extract(epoch FROM due_at)::bigint,"
     " extended_at IS NOT NULL FROM dossier"
     " WHERE state IN (" MC_SQL(MC_DOSSIER_ROUTED) ", " MC_SQL(MC_DOSSIER_IN_PROGRESS) ") AND due_at > now() AND due_at <= to_timestamp($2::bigint)"
     " AND warned_due IS DISTINCT FROM due_at"
     " ORDER BY due_at LIMIT $1::integer FOR NO KEY UPDATE SKIP LOCKED"};
static const mc_stmt_t stmt_set_warned = {"extend_set_warned", 1,
     "UPDATE dossier SET warned_due = due_at WHERE id = $1::bigint"};
static const mc_stmt_t stmt_warn_cases = {"extend_warn_cases", 1,
     "UPDATE agency_case SET warn_pending = true, updated_at = now()"
     " WHERE dossier_id = $1::bigint AND state IN (" MC_SQL_CASE_OPEN ")"};
static const mc_stmt_t stmt_warnings = {"extend_warnings", 2,
     "SELECT a.case_id, a.revision, coalesce(extract(epoch FROM a.due_at)::bigint, 0),"
     " extract(epoch FROM d.due_at)::bigint, coalesce(a.lease_session, '')"
     " FROM agency_case a JOIN dossier d ON d.id = a.dossier_id"
     " WHERE a.agency = $1 AND a.warn_pending AND a.state = " MC_SQL(MC_CASE_ACKED)
     " ORDER BY a.id LIMIT $2::integer"};
static const mc_stmt_t stmt_rewarnings = {"extend_rewarnings", 4,
     "SELECT a.case_id, a.revision, coalesce(extract(epoch FROM a.due_at)::bigint, 0),"
     " extract(epoch FROM d.due_at)::bigint, coalesce(a.lease_session, ''), a.id"
     " FROM agency_case a JOIN dossier d ON d.id = a.dossier_id"
     " WHERE a.agency = $1 AND a.state = " MC_SQL(MC_CASE_ACKED) " AND NOT a.warn_pending"
     " AND ($2 = '' OR a.lease_session = $2) AND a.id > $3::bigint"
     " AND d.state IN (" MC_SQL_DOSSIER_RUNNING ") AND d.warned_due = d.due_at AND d.due_at > now()"
     " AND d.extended_at IS NULL"
     " AND NOT EXISTS (SELECT 1 FROM idempotency_key k WHERE k.scope = 'extension:' || a.agency"
     " AND left(k.key, length(a.case_id || '/' || a.revision || '/'))"
     " = a.case_id || '/' || a.revision || '/')"
     " ORDER BY a.id LIMIT $4::integer"};
static const mc_stmt_t stmt_warned = {"extend_warned", 1,
     "UPDATE agency_case SET warn_pending = false WHERE case_id = $1 AND warn_pending"};
static const mc_stmt_t stmt_key_lookup = {"extend_key", 2,
     "SELECT request_sha256, response FROM idempotency_key WHERE scope = $1 AND key = $2"};
static const mc_stmt_t stmt_key_insert = {"extend_key_insert", 5,
     "INSERT INTO idempotency_key (scope, key, request_sha256, dossier_id, response)"
     " VALUES ($1, $2, $3, $4::bigint, $5) ON CONFLICT (scope, key) DO NOTHING RETURNING 1"};
static const mc_stmt_t stmt_lock_case = {"extend_lock_case", 1,
     "SELECT a.agency, a.state, a.revision, a.step, d.id, d.code, d.state,"
     " extract(epoch FROM d.due_at)::bigint, d.extended_at IS NOT NULL"
     " FROM agency_case a JOIN dossier d ON d.id = a.dossier_id"
     " WHERE a.case_id = $1 FOR NO KEY UPDATE OF a, d"};
static const mc_stmt_t stmt_extend_dossier = {"extend_dossier", 3,
     "UPDATE dossier SET due_at = to_timestamp($2::bigint), extended_at = now(),"
     " extension_reason = $3, apology_at = now() WHERE id = $1::bigint"};
static const mc_stmt_t stmt_extend_case = {"extend_case", 2,
     "UPDATE agency_case SET due_at = to_timestamp($2::bigint), updated_at = now()"
     " WHERE case_id = $1"};
static const mc_stmt_t stmt_apology_notice = {"extend_apology_notice", 5,
     "INSERT INTO notification (dossier_id, kind, dedupe_key, data)"
     " VALUES ($1::bigint, 'apology', $2, jsonb_build_object('reason', $3::text,"
     " 'old_due', $4::text, 'new_due', $5::text)) ON CONFLICT (dedupe_key) DO NOTHING"};

/* warn_one - the writes for one dossier due soon */
static mc_store_rc_t warn_one(mc_store_t *store, const mc_due_soon_claim_t *c,
                              const char *detail, mc_err_t *err)
{
    char idt[MC_I64_TEXT];
    const char *p[1] = {mc_store_i64(idt, sizeof idt, c->id)};
    mc_store_rc_t rc = mc_store_run(store, &stmt_set_warned, p, NULL, NULL, err);
    if (rc == MC_STORE_OK)
        rc = mc_store_add_event(store, c->id, "router", "due_soon", detail, err);
    if (rc == MC_STORE_OK)
        rc = mc_store_run(store, &stmt_warn_cases, p, NULL, NULL, err);
    return rc;
}

/* mc_store_due_soon_batch - claim dossiers due within the horizon and warn them */
mc_store_rc_t mc_store_due_soon_batch(mc_store_t *store, int limit, int64_t horizon,
                                      mc_due_soon_decide_fn decide, void *arg, int *marked,
                                      mc_err_t *err)
{
    *marked = 0;
    char lim[16], hz[24];
    snprintf(lim, sizeof lim, "%d", limit > 0 ? limit : 1);
    const char *p[2] = {lim, mc_store_i64(hz, sizeof hz, horizon)};
    PGresult *res = NULL;
    mc_store_rc_t rc = mc_store_claim_begin(store, &stmt_claim_due_soon, p, &res, err);
    if (rc != MC_STORE_OK)
        return rc;
    int n = PQntuples(res), done = 0;
    for (int i = 0; i < n && rc == MC_STORE_OK; i++) {
        mc_due_soon_claim_t c = {0};
        mc_store_claim_head(res, i, &c.id, c.code, sizeof c.code, c.procedure_code,
                            sizeof c.procedure_code, &c.state, &c.due_at);
        c.extended = strcmp(PQgetvalue(res, i, 5), "t") == 0;
        const char *detail = NULL;
        if (decide(arg, &c, &detail) != 0)
            continue;
        rc = warn_one(store, &c, detail, err);
        if (rc == MC_STORE_OK)
            done++;
    }
    PQclear(res);
    rc = mc_store_end(store, rc, err);
    if (rc == MC_STORE_OK)
        *marked = done;
    return rc;
}

/* read_rows - a warnings query's rows into req (at most req->max) */
static void read_rows(const PGresult *res, mc_warn_req_t *req)
{
    bool has_id = PQnfields(res) > 5;
    for (int i = 0; i < PQntuples(res) && req->n < req->max; i++) {
        mc_case_warning_t *w = &req->out[req->n++];
        mc_store_copy_text(w->case_id, sizeof w->case_id, res, i, 0);
        w->revision = atoi(PQgetvalue(res, i, 1));
        w->due_at = strtoll(PQgetvalue(res, i, 2), NULL, 10);
        w->dossier_due_at = strtoll(PQgetvalue(res, i, 3), NULL, 10);
        mc_store_copy_text(w->session, sizeof w->session, res, i, 4);
        w->id = has_id ? strtoll(PQgetvalue(res, i, 5), NULL, 10) : 0;
    }
}

/* pipe_results - the results of n queued statements (each TUPLES_OK or COMMAND_OK as want),
 * rows read into reqs[i] when reqs, then the sync point: the first failure, or OK */
static mc_store_rc_t pipe_results(mc_store_t *store, ExecStatusType want, mc_warn_req_t *reqs,
                                  size_t n, const char *what, mc_err_t *err)
{
    mc_store_rc_t rc = MC_STORE_OK;
    for (size_t i = 0; i < n; i++) {
        PGresult *res = mc_store_pipe_result(store);
        mc_store_rc_t one = mc_store_pipe_ok(store, res, want, what, err);
        if (one == MC_STORE_OK && reqs)
            read_rows(res, &reqs[i]);
        if (rc == MC_STORE_OK)
            rc = one;
        PQclear(res);
    }
    if (!mc_store_pipe_end(store) && rc == MC_STORE_OK)
        rc = mc_store_classify(store, store->main, NULL, what, err);
    return rc;
}

/* pipe_many - stmt n times in ONE round trip (pipelined, one implicit transaction), the
 * i-th with params[i * stmt->nparams ...]; results as pipe_results */
static mc_store_rc_t pipe_many(mc_store_t *store, const mc_stmt_t *stmt, const char *const *params,
                               size_t n, ExecStatusType want, mc_warn_req_t *reqs, mc_err_t *err)
{
    if (n == 0)
        return MC_STORE_OK;
    const mc_stmt_t *stmts[] = {stmt};
    mc_store_rc_t rc = mc_store_pipe_open(store, stmts, 1, err);
    bool sent = rc == MC_STORE_OK;
    for (size_t i = 0; i < n && sent; i++)
        sent = mc_store_pipe_send(store, stmt, params + i * (size_t)stmt->nparams, NULL, NULL) == 0;
    if (rc == MC_STORE_OK && (!sent || mc_store_pipe_sync(store) != 0))
        rc = mc_store_classify(store, store->main, NULL, stmt->name, err);
    else if (rc == MC_STORE_OK)
        rc = pipe_results(store, want, reqs, n, stmt->name, err);
    return mc_store_pipe_close(store, rc, err);
}

/* the text parameters of one warnings read */
typedef struct warn_params {
    char lim[24];   /* max */
    char after[24]; /* after_id */
} warn_params_t;

/* warnings_round - stmt (stmt_warnings or stmt_rewarnings) for every req in ONE round
 * trip; every req's n is 0 unless it all came */
static mc_store_rc_t warnings_round(mc_store_t *store, const mc_stmt_t *stmt, mc_warn_req_t *reqs,
                                    size_t n_reqs, mc_err_t *err)
{
    for (size_t i = 0; i < n_reqs; i++)
        reqs[i].n = 0;
    warn_params_t *wp = calloc(n_reqs + 1, sizeof *wp);
    const char **p = calloc(n_reqs * 4 + 1, sizeof *p);
    if (!wp || !p) {
        free(wp);
        free(p);
        mc_err_add(err, "store: out of memory");
        return MC_STORE_FAILED;
    }
    bool re = stmt == &stmt_rewarnings;
    size_t k = 0;
    for (size_t i = 0; i < n_reqs; i++) {
        snprintf(wp[i].lim, sizeof wp[i].lim, "%zu", reqs[i].max);
        p[k++] = reqs[i].agency;
        if (re) {
            p[k++] = reqs[i].session ? reqs[i].session : "";
            p[k++] = mc_store_i64(wp[i].after, sizeof wp[i].after, reqs[i].after_id);
        }
        p[k++] = wp[i].lim;
    }
    mc_store_rc_t rc = pipe_many(store, stmt, p, n_reqs, PGRES_TUPLES_OK, reqs, err);
    free(wp);
    free(p);
    for (size_t i = 0; i < n_reqs && rc != MC_STORE_OK; i++)
        reqs[i].n = 0;
    return rc;
}

/* mc_store_cases_warnings - acked cases of every req's agency still to be warned */
mc_store_rc_t mc_store_cases_warnings(mc_store_t *store, mc_warn_req_t *reqs, size_t n_reqs,
                                      mc_err_t *err)
{
    return warnings_round(store, &stmt_warnings, reqs, n_reqs, err);
}

/* mc_store_cases_rewarnings - held cases warned for their due date, not extended nor answered */
mc_store_rc_t mc_store_cases_rewarnings(mc_store_t *store, mc_warn_req_t *reqs, size_t n_reqs,
                                        mc_err_t *err)
{
    return warnings_round(store, &stmt_rewarnings, reqs, n_reqs, err);
}

/* mc_store_cases_warned - the DueSoons went out: clear the flags, one round trip */
mc_store_rc_t mc_store_cases_warned(mc_store_t *store, const char *const *case_ids, size_t n,
                                    mc_err_t *err)
{
    return pipe_many(store, &stmt_warned, case_ids, n, PGRES_COMMAND_OK, NULL, err);
}

/* extend_apply - the writes of a decided request, key first */
static mc_store_rc_t extend_apply(mc_store_t *store, const mc_extension_req_t *req,
                                  const char *scope, const char *key,
                                  const mc_extension_row_t *row, const mc_extension_change_t *ch,
                                  mc_err_t *err)
{
    char idt[MC_I64_TEXT], old_due[24], new_due[24], dedupe[96];
    mc_store_i64(idt, sizeof idt, row->dossier_id);
    const char *pk[5] = {scope, key, (const char *)req->request_sha256, idt,
                         (const char *)ch->response};
    int lens[5] = {0, 0, 32, 0, (int)ch->response_len}, fmts[5] = {0, 0, 1, 0, 1};
    mc_store_rc_t rc = mc_store_run(store, &stmt_key_insert, pk, lens, fmts, err);
    if (rc != MC_STORE_OK || !ch->accepted) {
        if (rc == MC_STORE_OK)
            rc = mc_store_add_event(store, row->dossier_id, req->agency, "extension_refused", ch->detail,
                           err);
        return rc;
    }
    const char *pd[3] = {idt, mc_store_i64(new_due, sizeof new_due, ch->new_due_at), req->reason};
    rc = mc_store_run(store, &stmt_extend_dossier, pd, NULL, NULL, err);
    if (rc == MC_STORE_OK) {
        const char *pc[2] = {req->case_id, new_due};
        rc = mc_store_run(store, &stmt_extend_case, pc, NULL, NULL, err);
    }
    if (rc == MC_STORE_OK)
        rc = mc_store_add_event(store, row->dossier_id, req->agency, "extended", ch->detail, err);
    if (rc == MC_STORE_OK)
        rc = mc_store_add_event(store, row->dossier_id, "lienthong", "apology", ch->apology, err);
    if (rc == MC_STORE_OK) {
        snprintf(dedupe, sizeof dedupe, "%s/apology", row->code);
        const char *pn[5] = {idt, dedupe, req->reason, mc_store_i64(old_due, sizeof old_due, row->due_at),
                             new_due};
        rc = mc_store_run(store, &stmt_apology_notice, pn, NULL, NULL, err);
    }
    return rc;
}

/* lock_case - the case and its dossier under lock; *verdict says whether decide may look */
static mc_store_rc_t lock_case(mc_store_t *store, const mc_extension_req_t *req,
                               mc_extension_row_t *row, mc_case_verdict_t *verdict,
                               mc_err_t *err)
{
    const char *p[1] = {req->case_id};
    PGresult *res = mc_store_exec(store, &stmt_lock_case, p, NULL, NULL, false);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        mc_store_rc_t rc = mc_store_classify(store, store->main, res, stmt_lock_case.name, err);
        PQclear(res);
        return rc;
    }
    *verdict = MC_VERDICT_ACCEPTED;
    int revision = req->revision > 0 ? req->revision : 1;
    if (PQntuples(res) != 1)
        *verdict = MC_VERDICT_UNKNOWN;
    else if (strcmp(PQgetvalue(res, 0, 0), req->agency) != 0)
        *verdict = MC_VERDICT_NOT_YOURS;
    else if (atoi(PQgetvalue(res, 0, 2)) != revision)
        *verdict = MC_VERDICT_STALE;
    else if (atoi(PQgetvalue(res, 0, 1)) == MC_CASE_QUEUED ||
             atoi(PQgetvalue(res, 0, 1)) == MC_CASE_SENT)
        *verdict = MC_VERDICT_NOT_SENT; /* offered again (a lease ran out): acked soon */
    else if (atoi(PQgetvalue(res, 0, 1)) != MC_CASE_ACKED)
        *verdict = MC_VERDICT_CLOSED;
    if (*verdict == MC_VERDICT_ACCEPTED) {
        row->step = atoi(PQgetvalue(res, 0, 3));
        row->dossier_id = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
        mc_store_copy_text(row->code, sizeof row->code, res, 0, 5);
        row->dossier_state = atoi(PQgetvalue(res, 0, 6));
        row->due_at = strtoll(PQgetvalue(res, 0, 7), NULL, 10);
        row->extended = strcmp(PQgetvalue(res, 0, 8), "t") == 0;
    }
    PQclear(res);
    return MC_STORE_OK;
}

/* mc_store_extension - decide and record one ExtensionRequest, idempotently */
mc_store_rc_t mc_store_extension(mc_store_t *store, const mc_extension_req_t *req,
                                 mc_stored_response_t *existing, mc_case_verdict_t *verdict,
                                 bool *notified, mc_err_t *err)
{
    *notified = false;
    *verdict = MC_VERDICT_UNKNOWN;
    char scope[96], key[200], hex[65];
    snprintf(scope, sizeof scope, "extension:%s", req->agency);
    snprintf(key, sizeof key, "%s/%d/%s", req->case_id, req->revision > 0 ? req->revision : 1,
             sodium_bin2hex(hex, sizeof hex, req->request_sha256, 32));
    mc_store_rc_t rc = mc_store_begin(store, MC_TX_WRITE, err);
    if (rc != MC_STORE_OK)
        return rc;
    mc_extension_row_t row = {0};
    /* the lock first: a twin request waits here, then finds the stored answer */
    rc = lock_case(store, req, &row, verdict, err);
    if (rc == MC_STORE_OK) {
        rc = mc_store_key_lookup(store, &stmt_key_lookup, scope, key, false, existing, err);
        if (rc == MC_STORE_EXISTS) {
            *verdict = MC_VERDICT_DUPLICATE;
            mc_store_rollback(store);
            return MC_STORE_OK;
        }
    }
    if (rc != MC_STORE_OK || *verdict != MC_VERDICT_ACCEPTED) {
        mc_store_rollback(store);
        return rc;
    }
    mc_extension_change_t ch = {0};
    if (req->decide(req->arg, &row, &ch) != 0 || !ch.response) {
        mc_store_rollback(store);
        mc_err_add(err, "extension: could not decide");
        return MC_STORE_FAILED;
    }
    rc = extend_apply(store, req, scope, key, &row, &ch, err);
    if (rc == MC_STORE_OK)
        rc = mc_store_commit(store, err);
    if (rc != MC_STORE_OK) {
        mc_store_rollback(store);
        return rc;
    }
    *verdict = ch.accepted ? MC_VERDICT_ACCEPTED : MC_VERDICT_CONFLICT;
    *notified = ch.accepted;
    return MC_STORE_OK;
}
