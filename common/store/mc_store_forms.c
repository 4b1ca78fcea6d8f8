/*
 * mc_store_forms - one dossier's data for the printed forms (contract in
 * mc_store_forms.h).
 *
 * Three statements in one read-only snapshot: the dossier with its stored
 * receipt, its events, its cases. The register (Mẫu 07) is one statement. Times travel as epoch seconds (0 for
 * NULL) so the caller formats them in local time with mc_calendar.
 */
#include "mc_store_forms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_store_int.h"
#include "mc_limits.h"

/* the receipt is the reply intake kept under the submission's idempotency key; the
 * extension's old and new appointment are those of its apology notification (0014) */
static const mc_stmt_t stmt_dossier = {"forms_dossier", 1,
    "SELECT d.id, d.code, d.ward_code, d.unit_id, d.procedure_code, coalesce(d.department, ''),"
    " d.submission_id, d.state, d.channel,"
    " extract(epoch FROM d.received_at)::bigint, extract(epoch FROM d.counted_from)::bigint,"
    " extract(epoch FROM d.due_at)::bigint,"
    " coalesce(extract(epoch FROM d.result_at)::bigint, 0),"
    " coalesce(extract(epoch FROM d.closed_at)::bigint, 0),"
    " coalesce(extract(epoch FROM d.late_notified_due)::bigint, 0),"
    " d.payload, nullif(k.response, ''::bytea) /* a tombstone: no receipt kept */,"
    " extract(epoch FROM now())::bigint,"
    " coalesce(extract(epoch FROM d.supplement_due_at)::bigint, 0),"
    " coalesce(extract(epoch FROM d.extended_at)::bigint, 0), coalesce(d.extension_reason, ''),"
    " coalesce(extract(epoch FROM d.apology_at)::bigint, 0),"
    " coalesce(ap.old_due, 0), coalesce(ap.new_due, 0)"
    " FROM dossier d LEFT JOIN idempotency_key k"
    "   ON k.scope = 'submit:' || d.ward_code AND k.key = d.submission_id"
    " LEFT JOIN LATERAL (SELECT (n.data->>'old_due')::bigint AS old_due,"
    "   (n.data->>'new_due')::bigint AS new_due FROM notification n"
    "   WHERE n.dossier_id = d.id AND n.kind = 'apology' ORDER BY n.id LIMIT 1) ap ON true"
    " WHERE d.code = $1"};
static const mc_stmt_t stmt_events = {"forms_events", 2,
    "SELECT extract(epoch FROM at)::bigint, actor, kind, detail FROM dossier_event"
    " WHERE dossier_id = $1::bigint ORDER BY id LIMIT $2::integer"};
/* sent_at: the sent_to_agency event's detail starts "bước N/M" (mc_store_cases.c) */
static const mc_stmt_t stmt_cases = {"forms_cases", 1,
    "SELECT a.step, a.steps_total, a.agency, a.task, a.state, coalesce(a.outcome, -1),"
    " coalesce(extract(epoch FROM a.due_at)::bigint, 0),"
    " coalesce((SELECT extract(epoch FROM min(e.at))::bigint FROM dossier_event e"
    "   WHERE e.dossier_id = a.dossier_id AND e.kind = 'sent_to_agency'"
    "   AND e.detail LIKE 'bước ' || a.step || '/%'), 0),"
    " CASE WHEN a.state = " MC_SQL(MC_CASE_DONE) " THEN extract(epoch FROM a.updated_at)::bigint ELSE 0 END,"
    " a.result"
    " FROM agency_case a WHERE a.dossier_id = $1::bigint ORDER BY a.step"};

/* the register: one ward's dossiers received in a period, limit + 1 to see "more" */
static const mc_stmt_t stmt_register = {"forms_register", 4,
    "SELECT d.code, d.procedure_code, coalesce(d.department, ''), d.state,"
    " extract(epoch FROM d.received_at)::bigint, extract(epoch FROM d.due_at)::bigint,"
    " coalesce((SELECT extract(epoch FROM min(e.at))::bigint FROM dossier_event e"
    "   WHERE e.dossier_id = d.id AND e.kind = 'routed'), 0),"
    " coalesce(extract(epoch FROM d.result_at)::bigint, 0),"
    " coalesce((SELECT extract(epoch FROM min(e.at))::bigint FROM dossier_event e"
    "   WHERE e.dossier_id = d.id AND e.kind = 'delivered'), 0),"
    " coalesce(extract(epoch FROM d.closed_at)::bigint, 0), d.payload"
    " FROM dossier d WHERE d.ward_code = $1"
    " AND d.received_at >= to_timestamp($2::bigint) AND d.received_at < to_timestamp($3::bigint)"
    " ORDER BY d.received_at, d.id LIMIT $4::integer + 1"};

/* query - run stmt, expecting rows; NULL with err filled on failure */
static PGresult *query(mc_store_t *store, const mc_stmt_t *stmt, const char *const *params,
                       mc_store_rc_t *rc, mc_err_t *err)
{
    PGresult *res = mc_store_exec(store, stmt, params, NULL, NULL, false);
    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        return res;
    *rc = mc_store_classify(store, store->main, res, stmt->name, err);
    PQclear(res);
    return NULL;
}

/* epoch - a bigint cell */
static int64_t epoch(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* read_dossier - the dossier row into f; its id into id */
static mc_store_rc_t read_dossier(mc_store_t *store, const char *code, mc_form_data_t *f,
                                  char *id, size_t id_size, mc_err_t *err)
{
    mc_store_rc_t rc = MC_STORE_OK;
    const char *p[1] = {code};
    PGresult *res = query(store, &stmt_dossier, p, &rc, err);
    if (!res)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return MC_STORE_NOT_FOUND;
    }
    mc_store_copy_text(id, id_size, res, 0, 0);
    mc_store_copy_text(f->code, sizeof f->code, res, 0, 1);
    mc_store_copy_text(f->ward_code, sizeof f->ward_code, res, 0, 2);
    mc_store_copy_text(f->unit_id, sizeof f->unit_id, res, 0, 3);
    mc_store_copy_text(f->procedure_code, sizeof f->procedure_code, res, 0, 4);
    mc_store_copy_text(f->department, sizeof f->department, res, 0, 5);
    mc_store_copy_text(f->submission_id, sizeof f->submission_id, res, 0, 6);
    f->state = atoi(PQgetvalue(res, 0, 7));
    f->channel = atoi(PQgetvalue(res, 0, 8));
    f->received_at = epoch(res, 0, 9);
    f->counted_from = epoch(res, 0, 10);
    f->due_at = epoch(res, 0, 11);
    f->result_at = epoch(res, 0, 12);
    f->closed_at = epoch(res, 0, 13);
    f->late_notified_due = epoch(res, 0, 14);
    f->taken_at = epoch(res, 0, 17);
    f->supplement_due_at = epoch(res, 0, 18);
    f->extended_at = epoch(res, 0, 19);
    mc_store_copy_text(f->extension_reason, sizeof f->extension_reason, res, 0, 20);
    f->apology_at = epoch(res, 0, 21);
    f->extension_old_due = epoch(res, 0, 22);
    f->extension_new_due = epoch(res, 0, 23);
    if (mc_store_unescape(res, 0, 15, &f->payload, &f->payload_len) != 0 ||
        (!PQgetisnull(res, 0, 16) &&
         mc_store_unescape(res, 0, 16, &f->reply, &f->reply_len) != 0)) {
        PQclear(res);
        mc_err_add(err, "store: forms: out of memory");
        return MC_STORE_FAILED;
    }
    PQclear(res);
    return MC_STORE_OK;
}

/* alloc_rows - zeroed room for res's rows (at least one); NULL with res cleared and err set */
static void *alloc_rows(PGresult *res, size_t each, mc_err_t *err)
{
    int n = PQntuples(res);
    void *rows = calloc(n ? (size_t)n : 1, each);
    if (!rows) {
        PQclear(res);
        mc_err_add(err, "store: forms: out of memory");
    }
    return rows;
}

/* read_events - the history into f */
static mc_store_rc_t read_events(mc_store_t *store, const char *id, mc_form_data_t *f,
                                 mc_err_t *err)
{
    mc_store_rc_t rc = MC_STORE_OK;
    char limit[16];
    snprintf(limit, sizeof limit, "%d", MC_FORM_MAX_EVENTS);
    const char *p[2] = {id, limit};
    PGresult *res = query(store, &stmt_events, p, &rc, err);
    if (!res)
        return rc;
    int n = PQntuples(res);
    if (!(f->events = alloc_rows(res, sizeof *f->events, err)))
        return MC_STORE_FAILED;
    for (int i = 0; i < n; i++)
        mc_store_read_event(res, i, &f->events[i]);
    f->n_events = (size_t)n;
    PQclear(res);
    return MC_STORE_OK;
}

/* read_cases - the agency steps into f */
static mc_store_rc_t read_cases(mc_store_t *store, const char *id, mc_form_data_t *f,
                                mc_err_t *err)
{
    mc_store_rc_t rc = MC_STORE_OK;
    const char *p[1] = {id};
    PGresult *res = query(store, &stmt_cases, p, &rc, err);
    if (!res)
        return rc;
    int n = PQntuples(res);
    if (!(f->cases = alloc_rows(res, sizeof *f->cases, err)))
        return MC_STORE_FAILED;
    for (int i = 0; i < n; i++) {
        mc_form_case_t *c = &f->cases[i];
        c->step = atoi(PQgetvalue(res, i, 0));
        c->steps_total = atoi(PQgetvalue(res, i, 1));
        mc_store_copy_text(c->agency, sizeof c->agency, res, i, 2);
        mc_store_copy_text(c->task, sizeof c->task, res, i, 3);
        c->state = (mc_form_case_state_t)atoi(PQgetvalue(res, i, 4));
        c->outcome = atoi(PQgetvalue(res, i, 5));
        c->due_at = epoch(res, i, 6);
        c->sent_at = epoch(res, i, 7);
        c->done_at = epoch(res, i, 8);
        f->n_cases = (size_t)i + 1; /* freed with f from here on */
        if (!PQgetisnull(res, i, 9) && mc_store_unescape(res, i, 9, &c->result, &c->result_len) != 0) {
            PQclear(res);
            mc_err_add(err, "store: forms: out of memory");
            return MC_STORE_FAILED;
        }
    }
    PQclear(res);
    return MC_STORE_OK;
}

/* what read_form reads: the dossier of code into f */
typedef struct form_read {
    const char     *code; /* the dossier's code */
    mc_form_data_t *f;    /* filled */
} form_read_t;

/* read_form - the dossier, its events and cases (inside the snapshot) */
static mc_store_rc_t read_form(mc_store_t *store, void *arg, mc_err_t *err)
{
    form_read_t *r = arg;
    char id[MC_I64_TEXT] = "";
    mc_store_rc_t rc = read_dossier(store, r->code, r->f, id, sizeof id, err);
    if (rc == MC_STORE_OK)
        rc = read_events(store, id, r->f, err);
    if (rc == MC_STORE_OK)
        rc = read_cases(store, id, r->f, err);
    return rc;
}

/* mc_store_form_data - the dossier, its events and cases in one snapshot */
mc_store_rc_t mc_store_form_data(mc_store_t *store, const char *code, mc_form_data_t **out,
                                 mc_err_t *err)
{
    *out = NULL;
    mc_form_data_t *f = calloc(1, sizeof *f);
    if (!f) {
        mc_err_add(err, "store: forms: out of memory");
        return MC_STORE_FAILED;
    }
    form_read_t read = {code, f};
    mc_store_rc_t rc = mc_store_snapshot(store, read_form, &read, err);
    if (rc != MC_STORE_OK) {
        mc_form_data_destroy(&f);
        return rc;
    }
    *out = f;
    return MC_STORE_OK;
}

/* mc_form_data_destroy - free and NULL */
void mc_form_data_destroy(mc_form_data_t **data)
{
    if (!data || !*data)
        return;
    mc_form_data_t *f = *data;
    for (size_t i = 0; i < f->n_cases; i++)
        free(f->cases[i].result);
    free(f->cases);
    free(f->events);
    free(f->payload);
    free(f->reply);
    free(f);
    *data = NULL;
}

/* mc_store_form_register - one ward's register for a period, one statement */
mc_store_rc_t mc_store_form_register(mc_store_t *store, const char *ward, int64_t from, int64_t to,
                                     int limit, mc_form_register_row_t **rows, size_t *n,
                                     bool *more, mc_err_t *err)
{
    *rows = NULL;
    *n = 0;
    *more = false;
    if (limit < 1 || limit > 10000) {
        mc_err_add(err, "store: forms: register limit %d out of 1..10000", limit);
        return MC_STORE_FAILED;
    }
    mc_store_rc_t rc = mc_store_connect(store, err);
    if (rc != MC_STORE_OK)
        return rc;
    char s_from[24], s_to[24], s_limit[16];
    snprintf(s_from, sizeof s_from, "%lld", (long long)from);
    snprintf(s_to, sizeof s_to, "%lld", (long long)to);
    snprintf(s_limit, sizeof s_limit, "%d", limit);
    const char *p[4] = {ward, s_from, s_to, s_limit};
    PGresult *res = query(store, &stmt_register, p, &rc, err);
    if (!res)
        return rc;
    int got = PQntuples(res);
    *more = got > limit;
    int keep = *more ? limit : got;
    mc_form_register_row_t *r = alloc_rows(res, sizeof *r, err);
    if (!r)
        return MC_STORE_FAILED;
    for (int i = 0; i < keep; i++) {
        mc_form_register_row_t *w = &r[i];
        mc_store_copy_text(w->code, sizeof w->code, res, i, 0);
        mc_store_copy_text(w->procedure_code, sizeof w->procedure_code, res, i, 1);
        mc_store_copy_text(w->department, sizeof w->department, res, i, 2);
        w->state = atoi(PQgetvalue(res, i, 3));
        w->received_at = epoch(res, i, 4);
        w->due_at = epoch(res, i, 5);
        w->routed_at = epoch(res, i, 6);
        w->result_at = epoch(res, i, 7);
        w->delivered_at = epoch(res, i, 8);
        w->closed_at = epoch(res, i, 9);
        if (mc_store_unescape(res, i, 10, &w->payload, &w->payload_len) != 0) {
            PQclear(res);
            mc_form_register_destroy(&r, (size_t)i);
            mc_err_add(err, "store: forms: out of memory");
            return MC_STORE_FAILED;
        }
    }
    PQclear(res);
    *rows = r;
    *n = (size_t)keep;
    return MC_STORE_OK;
}

/* mc_form_register_destroy - free the rows' payloads and the rows */
void mc_form_register_destroy(mc_form_register_row_t **rows, size_t n)
{
    if (!rows || !*rows)
        return;
    for (size_t i = 0; i < n; i++)
        free((*rows)[i].payload);
    free(*rows);
    *rows = NULL;
}
