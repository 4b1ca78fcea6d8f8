/*
 * mc_store_route - routing and deadlines in the store (contract in
 * mc_store_route.h).
 *
 * Each batch is one explicit transaction driven from here with prepared
 * statements: the claim (FOR NO KEY UPDATE SKIP LOCKED) and the writes share
 * it, so a row is either fully processed and committed or released untouched
 * for the next instance. NO KEY: a dossier claimed here must not block the
 * KEY SHARE lock that another daemon's insert of a dossier_event or
 * notification takes through its foreign key (lienthong inserts events while
 * it holds agency_case rows that these batches update: with FOR UPDATE the two
 * deadlocked, 40P01, seen in the demo). Claimers still exclude each other. Statements inside a transaction never use
 * mc_store_exec's retry: repeating half a transaction on a new connection
 * would be wrong; the caller retries the whole batch at its next tick.
 */
#include "mc_store_route.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "mc_log.h"
#include "mc_store_int.h"
#include "mc_limits.h"

static const mc_stmt_t stmt_claim_received = {"route_claim", 1,
     "SELECT id, code, ward_code, procedure_code, extract(epoch FROM due_at)::bigint"
     " FROM dossier WHERE state = " MC_SQL(MC_DOSSIER_RECEIVED) " ORDER BY id LIMIT $1::integer FOR NO KEY UPDATE SKIP LOCKED"};
static const mc_stmt_t stmt_set_routed = {"route_set_routed", 2,
     "UPDATE dossier SET state = " MC_SQL(MC_DOSSIER_ROUTED) ", department = $2 WHERE id = $1::bigint AND state = " MC_SQL(MC_DOSSIER_RECEIVED)};
static const mc_stmt_t stmt_add_case = {"route_add_case", 10,
     "INSERT INTO agency_case (case_id, dossier_id, step, steps_total, agency, task, state,"
     " time_limit, time_unit, due_at) VALUES ($1, $2::bigint, $3::smallint, $4::smallint, $5,"
     " $6, $7::smallint, $8::integer, $9::smallint, to_timestamp($10::bigint))"};

static const mc_stmt_t stmt_claim_late = {"route_claim_late", 1,
     "SELECT id, code, procedure_code, state, extract(epoch FROM due_at)::bigint,"
     " late_notified_due IS NOT NULL, apology_at IS NOT NULL FROM dossier"
     " WHERE state IN (" MC_SQL_DOSSIER_RUNNING ") AND due_at < now() AND late_notified_due IS DISTINCT FROM due_at"
     " ORDER BY due_at LIMIT $1::integer FOR NO KEY UPDATE SKIP LOCKED"};
/* late_notified_due takes due_at itself, not its whole seconds: a due date
 * with a fraction would otherwise never compare equal and be reported at
 * every scan now that the scan no longer moves the date */
static const mc_stmt_t stmt_set_late = {"route_set_late", 2,
     "UPDATE dossier SET late_notified_due = due_at,"
     " due_at = coalesce(to_timestamp($2::bigint), due_at) WHERE id = $1::bigint"};
static const mc_stmt_t stmt_add_late_notice = {"route_add_late_notice", 6,
     "INSERT INTO notification (dossier_id, kind, dedupe_key, data)"
     " VALUES ($1::bigint, 'late', $2, jsonb_build_object('due_at', $3::bigint,"
     " 'new_due_at', $4::bigint, 'apology', $5::boolean, 'reason', $6::text))"
     " ON CONFLICT (dedupe_key) DO NOTHING"};

/* the closure of dossiers not supplemented in time; states: 4 WAITING_SUPPLEMENT, 10 RETURNED */
static const mc_stmt_t stmt_claim_unsupplemented = {"route_claim_unsupplemented", 1,
     "SELECT id, code, procedure_code, extract(epoch FROM supplement_due_at)::bigint FROM dossier"
     " WHERE state = " MC_SQL(MC_DOSSIER_WAITING_SUPPLEMENT) " AND supplement_due_at < now()"
     " ORDER BY supplement_due_at LIMIT $1::integer FOR NO KEY UPDATE SKIP LOCKED"};
static const mc_stmt_t stmt_set_returned = {"route_set_returned", 1,
     "UPDATE dossier SET state = " MC_SQL(MC_DOSSIER_RETURNED) ", returned_at = now() WHERE id = $1::bigint AND state = " MC_SQL(MC_DOSSIER_WAITING_SUPPLEMENT)};
static const mc_stmt_t stmt_return_cases = {"route_return_cases", 1,
     "SELECT mc_cases_return($1::bigint)"};
static const mc_stmt_t stmt_add_returned_notice = {"route_add_returned_notice", 3,
     "INSERT INTO notification (dossier_id, kind, dedupe_key, data)"
     " VALUES ($1::bigint, 'returned', $2, jsonb_build_object('supplement_due', $3::bigint))"
     " ON CONFLICT (dedupe_key) DO NOTHING"};

/* boundary-free reception (0016): overdue forwardings, each reported once */
static const mc_stmt_t stmt_claim_forwarding = {"route_claim_forwarding", 1,
     "SELECT id, code, ward_code, receiving_ward, extract(epoch FROM forward_due_at)::bigint"
     " FROM dossier WHERE receiving_ward IS NOT NULL AND forwarded_at IS NULL"
     " AND forward_overdue_at IS NULL AND forward_due_at < now() AND state IN (" MC_SQL(MC_DOSSIER_RECEIVED) ", " MC_SQL(MC_DOSSIER_ROUTED) ", " MC_SQL(MC_DOSSIER_IN_PROGRESS) ", " MC_SQL(MC_DOSSIER_WAITING_SUPPLEMENT) ")"
     " ORDER BY forward_due_at LIMIT $1::integer FOR NO KEY UPDATE SKIP LOCKED"};
static const mc_stmt_t stmt_set_forward_overdue = {"route_set_forward_overdue", 1,
     "UPDATE dossier SET forward_overdue_at = now() WHERE id = $1::bigint"
     " AND forward_overdue_at IS NULL"};

/* route_claim_read - row i of a routing claim (id, code, ward, procedure, a due date) */
static void route_claim_read(const PGresult *res, int i, mc_route_claim_t *c)
{
    memset(c, 0, sizeof *c);
    c->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
    mc_store_copy_text(c->code, sizeof c->code, res, i, 1);
    mc_store_copy_text(c->ward_code, sizeof c->ward_code, res, i, 2);
    mc_store_copy_text(c->procedure_code, sizeof c->procedure_code, res, i, 3);
    c->due_at = strtoll(PQgetvalue(res, i, 4), NULL, 10);
}

/* route_one - the writes for one claimed dossier */
static mc_store_rc_t route_one(mc_store_t *store, const mc_route_claim_t *c,
                               const mc_route_plan_t *plan, mc_err_t *err)
{
    char idt[MC_I64_TEXT];
    const char *p[10] = {mc_store_i64(idt, sizeof idt, c->id), plan->department};
    mc_store_rc_t rc = mc_store_run_retry(store, &stmt_set_routed, p, NULL, NULL, false, err);
    if (rc == MC_STORE_OK)
        rc = mc_store_add_event(store, c->id, "router", "routed", plan->detail, err);
    for (size_t i = 0; rc == MC_STORE_OK && i < plan->n_steps; i++) {
        const mc_plan_step_t *s = &plan->steps[i];
        char case_id[MC_CASE_ID_LEN + 1], step[24], total[24], state[16], limit[16], unit[16], due[24];
        snprintf(case_id, sizeof case_id, "%s/%zu", c->code, i + 1);
        snprintf(step, sizeof step, "%zu", i + 1);
        snprintf(total, sizeof total, "%zu", plan->n_steps);
        snprintf(state, sizeof state, "%d", i == 0 ? 1 : 0);
        snprintf(limit, sizeof limit, "%d", s->time_limit);
        snprintf(unit, sizeof unit, "%d", s->time_unit);
        const char *cp[10] = {case_id, idt, step, total, s->agency, s->task ? s->task : "",
                              state, limit, unit,
                              i == 0 ? mc_store_i64(due, sizeof due, plan->first_due_at) : NULL};
        rc = mc_store_run_retry(store, &stmt_add_case, cp, NULL, NULL, false, err);
    }
    return rc;
}

/* a scan's decide callback and its argument, handed to the row function by claim_batch */
typedef struct scan {
    union {
        mc_route_decide_fn          route;          /* route_row, acceptance_case_row */
        mc_accept_decide_fn         accept;         /* acceptance_row */
        mc_late_decide_fn           late;           /* late_row */
        mc_forwarding_decide_fn     forwarding;     /* forwarding_row */
        mc_unsupplemented_decide_fn unsupplemented; /* unsupplemented_row */
        mc_step_overdue_decide_fn   step_overdue;   /* step_overdue_row */
    } decide;  /* the daemon's decision, by scan */
    void *arg; /* its argument */
} scan_t;

/* one claimed row of a batch: decide and write it; *done when recorded */
typedef mc_store_rc_t (*batch_row_fn)(mc_store_t *store, const PGresult *res, int row,
                                      const scan_t *sc, bool *done, mc_err_t *err);

/* claim_batch - one transaction: claim up to limit rows with stmt ($1 the limit,
 * FOR NO KEY UPDATE SKIP LOCKED), hand each to row, commit; *claimed = rows locked
 * (claimed may be NULL), *marked = rows recorded; on failure nothing is kept */
static mc_store_rc_t claim_batch(mc_store_t *store, const mc_stmt_t *stmt, int limit,
                                 batch_row_fn row, const scan_t *sc, int *claimed, int *marked,
                                 mc_err_t *err)
{
    *marked = 0;
    if (claimed)
        *claimed = 0;
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit > 0 ? limit : 1);
    const char *p[1] = {lim};
    PGresult *res = NULL;
    mc_store_rc_t rc = mc_store_claim_begin(store, stmt, p, &res, err);
    if (rc != MC_STORE_OK)
        return rc;
    int n = PQntuples(res), done = 0;
    for (int i = 0; i < n && rc == MC_STORE_OK; i++) {
        bool recorded = false;
        rc = row(store, res, i, sc, &recorded, err);
        done += rc == MC_STORE_OK && recorded;
    }
    PQclear(res);
    if ((rc = mc_store_end(store, rc, err)) != MC_STORE_OK)
        return rc;
    if (claimed)
        *claimed = n;
    *marked = done;
    return MC_STORE_OK;
}

/* route_row - one RECEIVED dossier: decide its plan, then route it (or leave it RECEIVED:
 * its lock goes with the commit) */
static mc_store_rc_t route_row(mc_store_t *store, const PGresult *res, int i,
                               const scan_t *sc, bool *done, mc_err_t *err)
{
    mc_route_claim_t c;
    route_claim_read(res, i, &c);
    mc_route_plan_t plan = {0};
    if (sc->decide.route(sc->arg, &c, &plan) != 0 || plan.n_steps == 0 || !plan.department)
        return MC_STORE_OK;
    *done = true;
    return route_one(store, &c, &plan, err);
}

/* mc_store_route_batch - claim RECEIVED dossiers and route them in one transaction */
mc_store_rc_t mc_store_route_batch(mc_store_t *store, int limit, mc_route_decide_fn decide,
                                   void *arg, int *claimed, int *routed, mc_err_t *err)
{
    scan_t sc = {.decide.route = decide, .arg = arg};
    return claim_batch(store, &stmt_claim_received, limit, route_row, &sc, claimed, routed,
                       err);
}

static const mc_stmt_t stmt_claim_pending = {"route_claim_pending", 1,
     "SELECT id, code, ward_code, procedure_code, extract(epoch FROM accept_due_at)::bigint"
     " FROM dossier d WHERE state = " MC_SQL(MC_DOSSIER_PENDING_ACCEPTANCE) " AND NOT EXISTS (SELECT 1 FROM agency_case c"
     "   WHERE c.dossier_id = d.id AND c.step = 0)"
     " ORDER BY id LIMIT $1::integer FOR NO KEY UPDATE SKIP LOCKED"};
static const mc_stmt_t stmt_claim_accept_overdue = {"route_claim_accept_overdue", 1,
     "SELECT d.id, d.code, extract(epoch FROM d.accept_due_at)::bigint,"
     " coalesce((SELECT c.agency FROM agency_case c WHERE c.dossier_id = d.id AND c.step = 0), '')"
     " FROM dossier d WHERE d.state = " MC_SQL(MC_DOSSIER_PENDING_ACCEPTANCE) " AND d.accept_due_at < now()"
     " AND NOT EXISTS (SELECT 1 FROM dossier_event e WHERE e.dossier_id = d.id"
     "   AND e.kind = 'acceptance_overdue')"
     " ORDER BY d.accept_due_at LIMIT $1::integer FOR NO KEY UPDATE OF d SKIP LOCKED"};

/* acceptance_case_row - one pending online dossier: decide its desk, then its acceptance case */
static mc_store_rc_t acceptance_case_row(mc_store_t *store, const PGresult *res, int i,
                                         const scan_t *sc, bool *done, mc_err_t *err)
{
    mc_route_claim_t c;
    route_claim_read(res, i, &c);
    mc_route_plan_t plan = {0};
    if (sc->decide.route(sc->arg, &c, &plan) != 0 || plan.n_steps != 1 || !plan.department)
        return MC_STORE_OK; /* stays without a case; logged by decide */
    const mc_plan_step_t *s = &plan.steps[0];
    char idt[MC_I64_TEXT], case_id[MC_CASE_ID_LEN + 1], limit_text[16], unit[16], due[24];
    snprintf(case_id, sizeof case_id, "%s/0", c.code);
    snprintf(limit_text, sizeof limit_text, "%d", s->time_limit);
    snprintf(unit, sizeof unit, "%d", s->time_unit);
    const char *cp[10] = {case_id, mc_store_i64(idt, sizeof idt, c.id), "0", "0", plan.department,
                          s->task ? s->task : "", "1", limit_text, unit,
                          mc_store_i64(due, sizeof due, plan.first_due_at)};
    *done = true;
    return mc_store_run(store, &stmt_add_case, cp, NULL, NULL, err);
}

/* mc_store_acceptance_case_batch - give pending online dossiers their acceptance case */
mc_store_rc_t mc_store_acceptance_case_batch(mc_store_t *store, int limit,
                                             mc_route_decide_fn decide, void *arg, int *claimed,
                                             int *created, mc_err_t *err)
{
    scan_t sc = {.decide.route = decide, .arg = arg};
    return claim_batch(store, &stmt_claim_pending, limit, acceptance_case_row, &sc, claimed,
                       created, err);
}

/* acceptance_row - one dossier past its acceptance deadline: decide, then its event */
static mc_store_rc_t acceptance_row(mc_store_t *store, const PGresult *res, int i,
                                    const scan_t *sc, bool *done, mc_err_t *err)
{
    mc_accept_claim_t c = {0};
    c.id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
    mc_store_copy_text(c.code, sizeof c.code, res, i, 1);
    c.accept_due_at = strtoll(PQgetvalue(res, i, 2), NULL, 10);
    mc_store_copy_text(c.agency, sizeof c.agency, res, i, 3);
    const char *detail = NULL;
    if (sc->decide.accept(sc->arg, &c, &detail) != 0)
        return MC_STORE_OK;
    *done = true;
    return mc_store_add_event(store, c.id, "router", "acceptance_overdue", detail, err);
}

/* mc_store_acceptance_batch - flag pending dossiers past their acceptance deadline, once */
mc_store_rc_t mc_store_acceptance_batch(mc_store_t *store, int limit, mc_accept_decide_fn decide,
                                        void *arg, int *marked, mc_err_t *err)
{
    scan_t sc = {.decide.accept = decide, .arg = arg};
    return claim_batch(store, &stmt_claim_accept_overdue, limit, acceptance_row, &sc, NULL,
                       marked, err);
}

/* late_one - the writes for one overdue dossier */
static mc_store_rc_t late_one(mc_store_t *store, const mc_late_claim_t *c,
                              const mc_late_decision_t *d, mc_err_t *err)
{
    char idt[MC_I64_TEXT], was[24], now_due[24], key[128];
    mc_store_i64(idt, sizeof idt, c->id);
    mc_store_i64(was, sizeof was, c->due_at);
    const char *newp = d->new_due_at > 0 ? mc_store_i64(now_due, sizeof now_due, d->new_due_at) : NULL;
    const char *p1[2] = {idt, newp};
    mc_store_rc_t rc = mc_store_run_retry(store, &stmt_set_late, p1, NULL, NULL, false, err);
    if (rc == MC_STORE_OK)
        rc = mc_store_add_event(store, c->id, "router", "late", d->detail, err);
    if (rc == MC_STORE_OK) {
        snprintf(key, sizeof key, "%s/late/%" PRId64, c->code, c->due_at);
        const char *p2[6] = {idt, key, was, newp, c->apologized ? "true" : "false",
                             d->detail ? d->detail : ""};
        rc = mc_store_run_retry(store, &stmt_add_late_notice, p2, NULL, NULL, false, err);
    }
    return rc;
}

/* late_row - one overdue dossier: decide, then the late notice */
static mc_store_rc_t late_row(mc_store_t *store, const PGresult *res, int i,
                              const scan_t *sc, bool *done, mc_err_t *err)
{
    mc_late_claim_t c = {0};
    mc_store_claim_head(res, i, &c.id, c.code, sizeof c.code, c.procedure_code,
                        sizeof c.procedure_code, &c.state, &c.due_at);
    c.reappointed = strcmp(PQgetvalue(res, i, 5), "t") == 0;
    c.apologized = strcmp(PQgetvalue(res, i, 6), "t") == 0;
    mc_late_decision_t d = {0};
    if (sc->decide.late(sc->arg, &c, &d) != 0)
        return MC_STORE_OK;
    *done = true;
    return late_one(store, &c, &d, err);
}

/* mc_store_late_batch - claim overdue dossiers and record their late notices */
mc_store_rc_t mc_store_late_batch(mc_store_t *store, int limit, mc_late_decide_fn decide,
                                  void *arg, int *marked, mc_err_t *err)
{
    scan_t sc = {.decide.late = decide, .arg = arg};
    return claim_batch(store, &stmt_claim_late, limit, late_row, &sc, NULL, marked, err);
}

/* $1 limit: open steps past their own due date, not reported for it; the
 * first five columns as mc_store_claim_head reads them */
static const mc_stmt_t stmt_claim_step_overdue = {"route_claim_step_overdue", 1,
     "SELECT a.id, d.code, d.procedure_code, a.state,"
     " floor(extract(epoch FROM a.due_at))::bigint, a.dossier_id, a.step, a.steps_total, a.agency"
     " FROM agency_case a JOIN dossier d ON d.id = a.dossier_id"
     " WHERE a.state IN (" MC_SQL_CASE_OPEN ") AND a.due_at < now()"
     " AND a.overdue_noted_due IS DISTINCT FROM a.due_at ORDER BY a.due_at LIMIT $1::integer"
     " FOR NO KEY UPDATE OF a SKIP LOCKED"};
/* $1 agency_case.id: reported for its due date */
static const mc_stmt_t stmt_set_step_overdue = {"route_set_step_overdue", 1,
     "UPDATE agency_case SET overdue_noted_due = due_at, updated_at = now() WHERE id = $1::bigint"};

/* step_overdue_row - one overdue step: decide, then mark it and its event */
static mc_store_rc_t step_overdue_row(mc_store_t *store, const PGresult *res, int i,
                                      const scan_t *sc, bool *done, mc_err_t *err)
{
    mc_step_overdue_claim_t c = {0};
    char procedure[MC_PROCEDURE_CODE_LEN + 1];
    int state = 0;
    mc_store_claim_head(res, i, &c.case_id, c.code, sizeof c.code, procedure, sizeof procedure,
                        &state, &c.due_at);
    c.dossier_id = strtoll(PQgetvalue(res, i, 5), NULL, 10);
    c.step = atoi(PQgetvalue(res, i, 6));
    c.steps_total = atoi(PQgetvalue(res, i, 7));
    mc_store_copy_text(c.agency, sizeof c.agency, res, i, 8);
    const char *detail = NULL;
    if (sc->decide.step_overdue(sc->arg, &c, &detail) != 0)
        return MC_STORE_OK;
    char idt[MC_I64_TEXT];
    const char *p1[1] = {mc_store_i64(idt, sizeof idt, c.case_id)};
    mc_store_rc_t rc = mc_store_run_retry(store, &stmt_set_step_overdue, p1, NULL, NULL, false, err);
    if (rc == MC_STORE_OK)
        rc = mc_store_add_event(store, c.dossier_id, "router", "step_overdue", detail, err);
    *done = rc == MC_STORE_OK;
    return rc;
}

/* mc_store_step_overdue_batch - report overdue agency steps once per due date */
mc_store_rc_t mc_store_step_overdue_batch(mc_store_t *store, int limit,
                                          mc_step_overdue_decide_fn decide, void *arg,
                                          int *marked, mc_err_t *err)
{
    scan_t sc = {.decide.step_overdue = decide, .arg = arg};
    return claim_batch(store, &stmt_claim_step_overdue, limit, step_overdue_row, &sc, NULL, marked,
                       err);
}

/* forwarding_row - one overdue forwarding: decide, then mark it and its event */
static mc_store_rc_t forwarding_row(mc_store_t *store, const PGresult *res, int i,
                                    const scan_t *sc, bool *done, mc_err_t *err)
{
    mc_forwarding_claim_t c = {0};
    c.id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
    mc_store_copy_text(c.code, sizeof c.code, res, i, 1);
    mc_store_copy_text(c.ward_code, sizeof c.ward_code, res, i, 2);
    mc_store_copy_text(c.receiving_ward, sizeof c.receiving_ward, res, i, 3);
    c.forward_due_at = strtoll(PQgetvalue(res, i, 4), NULL, 10);
    mc_forwarding_decision_t d = {0};
    if (sc->decide.forwarding(sc->arg, &c, &d) != 0)
        return MC_STORE_OK;
    char idt[MC_I64_TEXT];
    const char *p1[1] = {mc_store_i64(idt, sizeof idt, c.id)};
    mc_store_rc_t rc = mc_store_run_retry(store, &stmt_set_forward_overdue, p1, NULL, NULL, false, err);
    if (rc == MC_STORE_OK)
        rc = mc_store_add_event(store, c.id, "router", "forward_overdue", d.detail, err);
    *done = true;
    return rc;
}

/* mc_store_forwarding_batch - claim overdue forwardings and record each once */
mc_store_rc_t mc_store_forwarding_batch(mc_store_t *store, int limit,
                                        mc_forwarding_decide_fn decide, void *arg, int *marked,
                                        mc_err_t *err)
{
    scan_t sc = {.decide.forwarding = decide, .arg = arg};
    return claim_batch(store, &stmt_claim_forwarding, limit, forwarding_row, &sc, NULL, marked,
                       err);
}

/* returned_one - the writes for one dossier not supplemented in time */
static mc_store_rc_t returned_one(mc_store_t *store, const mc_unsupplemented_claim_t *c,
                                  const mc_unsupplemented_decision_t *d, mc_err_t *err)
{
    char idt[MC_I64_TEXT], due[24], key[128];
    const char *p[3] = {mc_store_i64(idt, sizeof idt, c->id), key, mc_store_i64(due, sizeof due, c->supplement_due_at)};
    snprintf(key, sizeof key, "%s/returned", c->code);
    mc_store_rc_t rc = mc_store_run_retry(store, &stmt_set_returned, p, NULL, NULL, false, err);
    if (rc == MC_STORE_OK) /* after the state: the function cancels only a RETURNED dossier's steps */
        rc = mc_store_run_retry(store, &stmt_return_cases, p, NULL, NULL, false, err);
    if (rc == MC_STORE_OK)
        rc = mc_store_add_event(store, c->id, "router", "returned", d->detail, err);
    if (rc == MC_STORE_OK)
        rc = mc_store_run_retry(store, &stmt_add_returned_notice, p, NULL, NULL, false, err);
    return rc;
}

/* unsupplemented_row - one dossier whose supplement deadline passed: decide, then return it */
static mc_store_rc_t unsupplemented_row(mc_store_t *store, const PGresult *res, int i,
                                        const scan_t *sc, bool *done, mc_err_t *err)
{
    mc_unsupplemented_claim_t c = {0};
    c.id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
    mc_store_copy_text(c.code, sizeof c.code, res, i, 1);
    mc_store_copy_text(c.procedure_code, sizeof c.procedure_code, res, i, 2);
    c.supplement_due_at = strtoll(PQgetvalue(res, i, 3), NULL, 10);
    mc_unsupplemented_decision_t d = {0};
    if (sc->decide.unsupplemented(sc->arg, &c, &d) != 0)
        return MC_STORE_OK;
    *done = true;
    return returned_one(store, &c, &d, err);
}

/* mc_store_unsupplemented_batch - close the dossiers whose supplement did not come in time */
mc_store_rc_t mc_store_unsupplemented_batch(mc_store_t *store, int limit,
                                            mc_unsupplemented_decide_fn decide, void *arg,
                                            int *returned, mc_err_t *err)
{
    scan_t sc = {.decide.unsupplemented = decide, .arg = arg};
    return claim_batch(store, &stmt_claim_unsupplemented, limit, unsupplemented_row, &sc, NULL,
                       returned, err);
}
