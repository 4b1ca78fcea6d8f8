/*
 * mc_store_report - the periodic report, the overdue list (contract in
 * mc_store_report.h, rules in docs/reports.md).
 *
 * How the report stays fast on a province-sized store: every dossier that
 * can appear in a period's figures was either received in the period or
 * was open at its start (a dossier closed in the period and received
 * before it was open at the start). So the report reads exactly those two
 * sets, through dossier_received_idx / dossier_ward_received_idx and the
 * GiST index on tstzrange(received_at, closed_at), and aggregates them in
 * one pass with GROUPING SETS: the total, each procedure, each month of
 * receipt, each month of result. Requests for more documents and ratings
 * come from their own tables in two more small queries; all three run in
 * one REPEATABLE READ snapshot.
 */
#include "mc_store_report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_store_int.h"

/* the dossiers a period sees, with the flags the rules need (docs/reports.md) */
#define REPORT_BASE                                                                          \
    "WITH r AS ("                                                                            \
    "  SELECT procedure_code, channel, state, received_at, closed_at, result_at, due_at,"    \
    "         counted_from, late_notified_due, paused_at FROM dossier"                       \
    "   WHERE received_at >= to_timestamp($1::bigint) AND received_at < to_timestamp($2::bigint)" \
    "     AND ($3::text = '' OR ward_code = $3::text)"                                       \
    "     AND ($4::text = '' OR procedure_code = $4::text)"                                  \
    "  UNION ALL"                                                                            \
    "  SELECT procedure_code, channel, state, received_at, closed_at, result_at, due_at,"    \
    "         counted_from, late_notified_due, paused_at FROM dossier"                       \
    "   WHERE tstzrange(received_at, closed_at, '[]') @> to_timestamp($1::bigint)"           \
    "     AND received_at < to_timestamp($1::bigint)"                                        \
    "     AND ($3::text = '' OR ward_code = $3::text)"                                       \
    "     AND ($4::text = '' OR procedure_code = $4::text)),"                                \
    " c AS ("                                                                                \
    "  SELECT procedure_code, channel, received_at >= to_timestamp($1::bigint) AS fresh,"    \
    "         state IN (5, 6) AND closed_at >= to_timestamp($1::bigint)"                     \
    "           AND closed_at < to_timestamp($2::bigint) AS resolved,"                       \
    "         state = 7 AND closed_at >= to_timestamp($1::bigint)"                           \
    "           AND closed_at < to_timestamp($2::bigint) AS withdrawn,"                      \
    "         state = 8 AND closed_at >= to_timestamp($1::bigint)"                           \
    "           AND closed_at < to_timestamp($2::bigint) AS refused,"                        \
    "         closed_at IS NULL OR closed_at >= to_timestamp($2::bigint) AS open_end,"       \
    "         coalesce(late_notified_due >= counted_from, false) AS apologised,"             \
    "         coalesce(due_at > late_notified_due, false) AS new_appointment,"               \
    "         coalesce(result_at, closed_at) AS done_at, due_at, late_notified_due,"         \
    "         coalesce(state = 4 AND paused_at < to_timestamp($2::bigint), false) AS paused_end," \
    "         received_at FROM r),"                                                          \
    " k AS ("                                                                                \
    "  SELECT *, resolved AND (done_at > due_at OR apologised) AS late,"                     \
    "         resolved AND NOT (done_at > due_at OR apologised)"                             \
    "           AND (done_at AT TIME ZONE 'UTC' + $5::integer * interval '1 second')::date"  \
    "             < (due_at AT TIME ZONE 'UTC' + $5::integer * interval '1 second')::date AS early," \
    "         open_end AND NOT paused_end AND (due_at < least(to_timestamp($2::bigint), now())" \
    "           OR (apologised AND late_notified_due < to_timestamp($2::bigint))) AS overdue_end," \
    "         CASE WHEN fresh THEN to_char(received_at AT TIME ZONE 'UTC'"                   \
    "           + $5::integer * interval '1 second', 'YYYY-MM') END AS rmonth,"              \
    "         CASE WHEN resolved THEN to_char(done_at AT TIME ZONE 'UTC'"                    \
    "           + $5::integer * interval '1 second', 'YYYY-MM') END AS cmonth"               \
    "    FROM c)"

/* one pass: () total, (procedure_code), (rmonth) receipts per month, (cmonth) results per month */
static const mc_stmt_t stmt_report_main = {"report_main", false, 5,
    REPORT_BASE
    " SELECT grouping(procedure_code), grouping(rmonth), grouping(cmonth),"
    "        procedure_code, rmonth, cmonth,"
    "        count(*) FILTER (WHERE NOT fresh),"
    "        count(*) FILTER (WHERE fresh AND channel = 1),"
    "        count(*) FILTER (WHERE fresh AND channel = 2),"
    "        count(*) FILTER (WHERE fresh AND channel = 3),"
    "        count(*) FILTER (WHERE early),"
    "        count(*) FILTER (WHERE resolved AND NOT late AND NOT early),"
    "        count(*) FILTER (WHERE late),"
    "        count(*) FILTER (WHERE late AND apologised AND new_appointment),"
    "        count(*) FILTER (WHERE late AND apologised AND new_appointment AND done_at <= due_at),"
    "        count(*) FILTER (WHERE open_end AND NOT overdue_end),"
    "        count(*) FILTER (WHERE overdue_end),"
    "        count(*) FILTER (WHERE refused),"
    "        count(*) FILTER (WHERE withdrawn)"
    "   FROM k GROUP BY GROUPING SETS ((), (procedure_code), (rmonth), (cmonth))"};

/* dossiers asked for more documents in the period (once each, however often asked) */
static const mc_stmt_t stmt_report_supplements = {"report_supplements", false, 4,
    "SELECT grouping(d.procedure_code), d.procedure_code, count(DISTINCT e.dossier_id)"
    "  FROM dossier_event e JOIN dossier d ON d.id = e.dossier_id"
    " WHERE e.kind = 'supplement_requested'"
    "   AND e.at >= to_timestamp($1::bigint) AND e.at < to_timestamp($2::bigint)"
    "   AND ($3::text = '' OR d.ward_code = $3::text)"
    "   AND ($4::text = '' OR d.procedure_code = $4::text)"
    " GROUP BY GROUPING SETS ((), (d.procedure_code))"};

/* ratings given in the period */
static const mc_stmt_t stmt_report_ratings = {"report_ratings", false, 4,
    "SELECT grouping(d.procedure_code), d.procedure_code,"
    "       count(*) FILTER (WHERE g.level = 1), count(*) FILTER (WHERE g.level = 2),"
    "       count(*) FILTER (WHERE g.level = 3)"
    "  FROM rating g JOIN dossier d ON d.id = g.dossier_id"
    " WHERE g.rated_at >= to_timestamp($1::bigint) AND g.rated_at < to_timestamp($2::bigint)"
    "   AND ($3::text = '' OR d.ward_code = $3::text)"
    "   AND ($4::text = '' OR d.procedure_code = $4::text)"
    " GROUP BY GROUPING SETS ((), (d.procedure_code))"};

static const mc_stmt_t stmt_report_begin = {"report_begin", false, 0,
    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"};
static const mc_stmt_t stmt_report_now = {"report_now", false, 0,
    "SELECT extract(epoch FROM now())::bigint"};
static const mc_stmt_t stmt_report_end = {"report_end", false, 0, "COMMIT"};

/* open dossiers past `before`, with the step that holds each (the lowest open or dead one) */
static const mc_stmt_t stmt_overdue = {"report_overdue", false, 3,
    "SELECT d.code, d.ward_code, d.procedure_code, d.state,"
    "       extract(epoch FROM d.received_at)::bigint, extract(epoch FROM d.due_at)::bigint,"
    "       coalesce(d.due_at > d.late_notified_due, false),"
    "       c.agency, c.step, c.steps_total, c.state, d.payload"
    "  FROM dossier d LEFT JOIN LATERAL ("
    "       SELECT agency, step, steps_total, state FROM agency_case"
    "        WHERE dossier_id = d.id AND state IN (1, 2, 3, 5) ORDER BY step LIMIT 1) c ON true"
    " WHERE d.state IN (1, 2, 3) AND d.due_at < to_timestamp($2::bigint)"
    "   AND ($1::text = '' OR d.ward_code = $1::text)"
    " ORDER BY d.due_at, d.id LIMIT $3::integer + 1"};

/* mc_report_rate - a percentage that never divides by zero */
double mc_report_rate(long part, long whole)
{
    return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

/* cell_long - a count cell (NULL reads 0) */
static long cell_long(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtol(PQgetvalue(res, row, col), NULL, 10);
}

/* row_for - the report row of procedure code, added in order if new; NULL on OOM */
static mc_report_row_t *row_for(mc_report_t *r, const char *code, size_t *cap)
{
    size_t lo = 0, hi = r->n_rows;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(r->rows[mid].procedure_code, code);
        if (c == 0)
            return &r->rows[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (r->n_rows == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        mc_report_row_t *n = realloc(r->rows, ncap * sizeof *n);
        if (!n)
            return NULL;
        r->rows = n;
        *cap = ncap;
    }
    memmove(&r->rows[lo + 1], &r->rows[lo], (r->n_rows - lo) * sizeof *r->rows);
    memset(&r->rows[lo], 0, sizeof r->rows[lo]);
    snprintf(r->rows[lo].procedure_code, sizeof r->rows[lo].procedure_code, "%s", code);
    r->n_rows++;
    return &r->rows[lo];
}

/* counts_of - the total (grouping flag in column 0 set) or the procedure in column 1; NULL on OOM */
static mc_report_counts_t *counts_of(mc_report_t *r, const PGresult *res, int i, size_t *cap)
{
    if (PQgetvalue(res, i, 0)[0] != '0')
        return &r->total;
    mc_report_row_t *row = row_for(r, PQgetvalue(res, i, 1), cap);
    return row ? &row->counts : NULL;
}

/* month_for - the month entry of "YYYY-MM", NULL when outside the period */
static mc_report_month_t *month_for(mc_report_t *r, const char *ym)
{
    int y = 0, m = 0;
    if (sscanf(ym, "%4d-%2d", &y, &m) != 2)
        return NULL;
    for (size_t i = 0; i < r->n_months; i++)
        if (r->months[i].year == y && r->months[i].month == m)
            return &r->months[i];
    return NULL;
}

/* fill_main - counters from the main row of one grouping set */
static void fill_main(mc_report_counts_t *c, const PGresult *res, int i)
{
    c->carried_over = cell_long(res, i, 6);
    c->received_direct = cell_long(res, i, 7);
    c->received_online = cell_long(res, i, 8);
    c->received_postal = cell_long(res, i, 9);
    c->resolved_early = cell_long(res, i, 10);
    c->resolved_on_time = cell_long(res, i, 11);
    c->resolved_late = cell_long(res, i, 12);
    c->late_reappointed = cell_long(res, i, 13);
    c->late_reappointed_kept = cell_long(res, i, 14);
    c->open_in_time = cell_long(res, i, 15);
    c->open_overdue = cell_long(res, i, 16);
    c->refused = cell_long(res, i, 17);
    c->withdrawn = cell_long(res, i, 18);
}

/* finish_counts - the sums, from their parts */
static void finish_counts(mc_report_counts_t *c)
{
    c->received_new = c->received_direct + c->received_online + c->received_postal;
    c->received_total = c->carried_over + c->received_new;
    c->resolved_total = c->resolved_early + c->resolved_on_time + c->resolved_late;
    c->open_total = c->open_in_time + c->open_overdue;
    c->rating_total = c->rating_very_satisfied + c->rating_satisfied + c->rating_not_satisfied;
}

/* query - run a report statement, expecting rows */
static mc_store_rc_t query(mc_store_t *store, const mc_stmt_t *stmt, const char *const *p,
                           PGresult **out, mc_err_t *err)
{
    PGresult *res = mc_store_exec(store, stmt, p, NULL, NULL, false);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        mc_store_rc_t rc = mc_store_classify(store, store->main, res, stmt->name, err);
        PQclear(res);
        return rc;
    }
    *out = res;
    return MC_STORE_OK;
}

/* out_of_memory - give up a half-read result */
static mc_store_rc_t out_of_memory(PGresult *res, mc_err_t *err)
{
    PQclear(res);
    mc_err_add(err, "store: report: out of memory");
    return MC_STORE_FAILED;
}

/* read_all - the three queries into r (inside the snapshot) */
static mc_store_rc_t read_all(mc_store_t *store, const char *const *p, mc_report_t *r,
                              mc_err_t *err)
{
    size_t cap = 0;
    PGresult *res = NULL;
    mc_store_rc_t rc = query(store, &stmt_report_now, NULL, &res, err);
    if (rc != MC_STORE_OK)
        return rc;
    r->generated_at = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);

    if ((rc = query(store, &stmt_report_main, p, &res, err)) != MC_STORE_OK)
        return rc;
    for (int i = 0; i < PQntuples(res); i++) {
        bool by_proc = PQgetvalue(res, i, 0)[0] == '0';
        bool by_rmonth = PQgetvalue(res, i, 1)[0] == '0';
        bool by_cmonth = PQgetvalue(res, i, 2)[0] == '0';
        if (by_proc) {
            mc_report_row_t *row = row_for(r, PQgetvalue(res, i, 3), &cap);
            if (!row)
                return out_of_memory(res, err);
            fill_main(&row->counts, res, i);
        } else if (by_rmonth || by_cmonth) {
            int col = by_rmonth ? 4 : 5;
            if (PQgetisnull(res, i, col))
                continue; /* the rows that were not received / resolved in the period */
            mc_report_month_t *m = month_for(r, PQgetvalue(res, i, col));
            if (!m)
                continue; /* cannot happen: both months lie in the period */
            if (by_rmonth) {
                m->received_direct = cell_long(res, i, 7);
                m->received_online = cell_long(res, i, 8);
                m->received_postal = cell_long(res, i, 9);
            } else {
                m->resolved_in_time = cell_long(res, i, 10) + cell_long(res, i, 11);
                m->resolved_late = cell_long(res, i, 12);
            }
        } else {
            fill_main(&r->total, res, i);
        }
    }
    PQclear(res);

    if ((rc = query(store, &stmt_report_supplements, p, &res, err)) != MC_STORE_OK)
        return rc;
    for (int i = 0; i < PQntuples(res); i++) {
        mc_report_counts_t *c = counts_of(r, res, i, &cap);
        if (!c)
            return out_of_memory(res, err);
        c->supplement_requested = cell_long(res, i, 2);
    }
    PQclear(res);

    if ((rc = query(store, &stmt_report_ratings, p, &res, err)) != MC_STORE_OK)
        return rc;
    for (int i = 0; i < PQntuples(res); i++) {
        mc_report_counts_t *c = counts_of(r, res, i, &cap);
        if (!c)
            return out_of_memory(res, err);
        c->rating_very_satisfied = cell_long(res, i, 2);
        c->rating_satisfied = cell_long(res, i, 3);
        c->rating_not_satisfied = cell_long(res, i, 4);
    }
    PQclear(res);

    finish_counts(&r->total);
    for (size_t i = 0; i < r->n_rows; i++)
        finish_counts(&r->rows[i].counts);
    return MC_STORE_OK;
}

/* mc_store_report - the report for q, in one snapshot */
mc_store_rc_t mc_store_report(mc_store_t *store, const mc_report_query_t *q, mc_report_t **out,
                              mc_err_t *err)
{
    int64_t days_from = mc_instant_of(q->from, 0) / 86400;
    int64_t days_to = mc_instant_of(q->to, 0) / 86400;
    if (days_to < days_from || days_to - days_from + 1 > MC_REPORT_MAX_DAYS) {
        mc_err_add(err, "store: report: the period must run forward and span at most %d days",
                   MC_REPORT_MAX_DAYS);
        return MC_STORE_FAILED;
    }
    mc_report_t *r = calloc(1, sizeof *r);
    if (!r) {
        mc_err_add(err, "store: report: out of memory");
        return MC_STORE_FAILED;
    }
    r->from = q->from;
    r->to = q->to;
    snprintf(r->ward, sizeof r->ward, "%s", q->ward ? q->ward : "");
    snprintf(r->procedure, sizeof r->procedure, "%s", q->procedure ? q->procedure : "");
    r->start = mc_instant_of(q->from, 0);
    r->end = mc_instant_of(q->to, 0) + 86400;
    /* every month the period touches, so the chart shows empty months too */
    r->n_months = (size_t)((q->to.year - q->from.year) * 12 + q->to.month - q->from.month + 1);
    r->months = calloc(r->n_months, sizeof *r->months);
    if (!r->months) {
        mc_report_destroy(&r);
        mc_err_add(err, "store: report: out of memory");
        return MC_STORE_FAILED;
    }
    for (size_t i = 0; i < r->n_months; i++) {
        int m0 = q->from.month - 1 + (int)i;
        r->months[i].year = q->from.year + m0 / 12;
        r->months[i].month = m0 % 12 + 1;
    }

    char start[24], end[24], tz[16];
    snprintf(start, sizeof start, "%" PRId64, r->start);
    snprintf(end, sizeof end, "%" PRId64, r->end);
    snprintf(tz, sizeof tz, "%d", MC_TZ_OFFSET_SECONDS);
    const char *p[5] = {start, end, r->ward, r->procedure, tz};

    mc_store_rc_t rc = mc_store_connect(store, err);
    if (rc == MC_STORE_OK) {
        PGresult *res = mc_store_exec(store, &stmt_report_begin, NULL, NULL, NULL, true);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = mc_store_classify(store, store->main, res, "report_begin", err);
        PQclear(res);
    }
    if (rc == MC_STORE_OK) {
        rc = read_all(store, p, r, err);
        /* read-only: COMMIT and ROLLBACK are the same; COMMIT also reports a broken link */
        PGresult *res = mc_store_exec(store, &stmt_report_end, NULL, NULL, NULL, false);
        if (rc == MC_STORE_OK && PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = mc_store_classify(store, store->main, res, "report_end", err);
        PQclear(res);
    }
    if (rc != MC_STORE_OK) {
        mc_report_destroy(&r);
        return rc;
    }
    *out = r;
    return MC_STORE_OK;
}

/* mc_report_destroy - free and NULL */
void mc_report_destroy(mc_report_t **report)
{
    if (!report || !*report)
        return;
    free((*report)->rows);
    free((*report)->months);
    free(*report);
    *report = NULL;
}

/* mc_store_overdue - open dossiers due before `before`, most overdue first */
mc_store_rc_t mc_store_overdue(mc_store_t *store, const char *ward, int64_t before, int limit,
                               mc_overdue_list_t *out, mc_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (limit < 1 || limit > 100000) {
        mc_err_add(err, "store: overdue: limit %d outside 1..100000", limit);
        return MC_STORE_FAILED;
    }
    mc_store_rc_t rc = mc_store_connect(store, err);
    if (rc != MC_STORE_OK)
        return rc;
    char b[24], l[16];
    snprintf(b, sizeof b, "%" PRId64, before);
    snprintf(l, sizeof l, "%d", limit);
    const char *p[3] = {ward ? ward : "", b, l};
    PGresult *res = mc_store_exec(store, &stmt_overdue, p, NULL, NULL, true);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = mc_store_classify(store, store->main, res, "report_overdue", err);
        PQclear(res);
        return rc;
    }
    int n = PQntuples(res);
    if (n > limit) {
        out->truncated = true;
        n = limit;
    }
    out->items = calloc(n ? (size_t)n : 1, sizeof *out->items);
    if (!out->items) {
        PQclear(res);
        mc_err_add(err, "store: overdue: out of memory");
        return MC_STORE_FAILED;
    }
    for (int i = 0; i < n; i++) {
        mc_overdue_item_t *it = &out->items[i];
        mc_store_copy_text(it->code, sizeof it->code, res, i, 0);
        mc_store_copy_text(it->ward_code, sizeof it->ward_code, res, i, 1);
        mc_store_copy_text(it->procedure_code, sizeof it->procedure_code, res, i, 2);
        it->state = atoi(PQgetvalue(res, i, 3));
        it->received_at = strtoll(PQgetvalue(res, i, 4), NULL, 10);
        it->due_at = strtoll(PQgetvalue(res, i, 5), NULL, 10);
        it->reappointed = PQgetvalue(res, i, 6)[0] == 't';
        if (PQgetisnull(res, i, 7)) {
            snprintf(it->where, sizeof it->where, "router");
            it->case_state = -1;
        } else {
            mc_store_copy_text(it->where, sizeof it->where, res, i, 7);
            it->step = atoi(PQgetvalue(res, i, 8));
            it->steps_total = atoi(PQgetvalue(res, i, 9));
            it->case_state = atoi(PQgetvalue(res, i, 10));
        }
        if (mc_store_unescape(res, i, 11, &it->payload, &it->payload_len) != 0) {
            out->n_items = (size_t)i;
            PQclear(res);
            mc_overdue_list_clear(out);
            mc_err_add(err, "store: overdue: out of memory");
            return MC_STORE_FAILED;
        }
        out->n_items = (size_t)i + 1;
    }
    PQclear(res);
    return MC_STORE_OK;
}

/* mc_overdue_list_clear - free the items */
void mc_overdue_list_clear(mc_overdue_list_t *list)
{
    for (size_t i = 0; i < list->n_items; i++)
        free(list->items[i].payload);
    free(list->items);
    memset(list, 0, sizeof *list);
}
