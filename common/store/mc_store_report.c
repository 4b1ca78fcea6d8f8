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
 * receipt, each month of result. Requests for more documents, refused
 * second requests, apologies, lateness without apology (events, by time),
 * what a ward received for others (receiving_ward) and ratings come from
 * their own small queries; all run in one REPEATABLE READ snapshot. The dossiers open at the end (a few percent
 * of a closed period's) cost one index probe each into dossier_history
 * (migration 0008), so a closed period's report never changes.
 */
#include "mc_store_report.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_store_int.h"

/*
 * The dossiers a period sees, each put in exactly one class by the SQL
 * function mc_report_class (migration 0019, where each class and its rule
 * are written; docs/reports.md): resolved_early, resolved_on_time,
 * resolved_late, late_reappointed_kept, late_reappointed_late, withdrawn,
 * refused, returned_unsupplemented, open_in_time, open_overdue. The C side
 * numbers them by CLASS_NAMES (class_of) and folds them (fold_class).
 * A dossier open at the period's end is classed by its columns as they were
 * at the end: its first dossier_history row from the end on (the values a
 * later change replaced), or the row itself when nothing changed since (a
 * dossier closed before the end cannot change any more; the probe is not
 * even made for it). Changes after the end (a withdrawal, a supplement, a
 * second apology, a result) therefore cannot move a closed period's figures.
 * Online acceptance (0013, Nghị định 118/2025 Điều 17) adds a second class
 * per dossier, acc: 1 accepted in the period within its deadline, 2 after
 * it, 3 still pending acceptance at the end with its deadline passed before
 * the end (judged as it stood at the end, below), 0 none of these.
 * Then one hash aggregation counts (procedure, channel, fresh, class, acc),
 * (month of receipt, channel) and (month of result, class): a count per
 * group rather than a dozen FILTERed aggregates per row, which is what
 * keeps a province-wide quarter fast. The C side folds the groups.
 * $1 start, $2 end (epoch s), $3 ward or '', $4 procedure or '',
 * $5 local offset (s), $6 the month starts of the period (timestamptz[]).
 */
static const mc_stmt_t stmt_report_main = {"report_main", 6,
    "WITH r AS ("
    "  SELECT id, procedure_code, channel, state, received_at, closed_at, result_at, due_at,"
    "         counted_from, late_notified_due, paused_at, accepted_at, accept_due_at FROM dossier"
    "   WHERE received_at >= to_timestamp($1::bigint) AND received_at < to_timestamp($2::bigint)"
    "     AND ($3::text = '' OR ward_code = $3::text)"
    "     AND ($4::text = '' OR procedure_code = $4::text)"
    "  UNION ALL"
    "  SELECT id, procedure_code, channel, state, received_at, closed_at, result_at, due_at,"
    "         counted_from, late_notified_due, paused_at, accepted_at, accept_due_at FROM dossier"
    "   WHERE tstzrange(received_at, closed_at, '[]') @> to_timestamp($1::bigint)"
    /* "<>", not "<": the containment already implies "<="; a "<" would lure the
     * planner into ANDing a bitmap of every earlier receipt */
    "     AND received_at <> to_timestamp($1::bigint)"
    "     AND ($3::text = '' OR ward_code = $3::text)"
    "     AND ($4::text = '' OR procedure_code = $4::text)),"
    " a AS ("
    "  SELECT r.id, r.procedure_code, r.channel, r.received_at, r.closed_at, r.result_at,"
    "         r.accepted_at, r.accept_due_at,"
    "         CASE WHEN h.id IS NULL THEN r.state ELSE h.state END AS state,"
    "         CASE WHEN h.id IS NULL THEN r.counted_from ELSE h.counted_from END AS counted_from,"
    "         CASE WHEN h.id IS NULL THEN r.due_at ELSE h.due_at END AS due_at,"
    "         CASE WHEN h.id IS NULL THEN r.late_notified_due ELSE h.late_notified_due END"
    "           AS late_notified_due,"
    "         CASE WHEN h.id IS NULL THEN r.paused_at ELSE h.paused_at END AS paused_at"
    "    FROM r LEFT JOIN LATERAL ("
    "         SELECT id, state, counted_from, due_at, late_notified_due, paused_at"
    "           FROM dossier_history"
    "          WHERE (r.closed_at IS NULL OR r.closed_at >= to_timestamp($2::bigint))"
    "            AND dossier_id = r.id AND until >= to_timestamp($2::bigint)"
    "          ORDER BY until, id LIMIT 1) h ON true),"
    " c AS ("
    "  SELECT id, procedure_code, channel, state, received_at, due_at, counted_from,"
    "         late_notified_due, paused_at, closed_at, result_at, accepted_at, accept_due_at,"
    "         coalesce(result_at, closed_at) AS done_at,"
    "         received_at >= to_timestamp($1::bigint) AS fresh,"
    "         closed_at >= to_timestamp($1::bigint) AND closed_at < to_timestamp($2::bigint) AS closed_in"
    "    FROM a),"
    " k AS ("
    "  SELECT procedure_code, channel, fresh,"
    /* the class (migration 0019, docs/reports.md), inlined by the planner */
    "         mc_report_class(state, closed_at, result_at, due_at, counted_from,"
    "                         late_notified_due, paused_at, to_timestamp($1::bigint),"
    "                         to_timestamp($2::bigint), now(), $5::integer) AS cls,"
    "         CASE WHEN accepted_at >= to_timestamp($1::bigint)"
    "               AND accepted_at < to_timestamp($2::bigint) THEN"
    "                CASE WHEN accepted_at <= accept_due_at THEN 1 ELSE 2 END"
    "              WHEN state = " MC_SQL(MC_DOSSIER_PENDING_ACCEPTANCE) " THEN"
    /* pending at the end: its deadline as it stood then. accept_due_at moves
     * only when a supplement brings the dossier back from WAITING_SUPPLEMENT
     * (4); when that happened after the end, the deadline at the end is gone
     * and the router's `acceptance_overdue` flag before the end decides */
    "                CASE WHEN NOT EXISTS (SELECT 1 FROM dossier_history h"
    "                       WHERE h.dossier_id = c.id AND h.until >= to_timestamp($2::bigint)"
    "                         AND h.state = " MC_SQL(MC_DOSSIER_WAITING_SUPPLEMENT) ")"
    "                     THEN CASE WHEN accept_due_at < least(to_timestamp($2::bigint), now())"
    "                               THEN 3 ELSE 0 END"
    "                     WHEN EXISTS (SELECT 1 FROM dossier_event e WHERE e.dossier_id = c.id"
    "                       AND e.kind = 'acceptance_overdue' AND e.at < to_timestamp($2::bigint))"
    "                     THEN 3 ELSE 0 END"
    "              ELSE 0 END AS acc,"
    "         CASE WHEN fresh THEN width_bucket(received_at, $6::timestamptz[]) END AS rmonth,"
    "         CASE WHEN closed_in AND state IN (" MC_SQL_DOSSIER_WITH_RESULT ")"
    "              THEN width_bucket(done_at, $6::timestamptz[]) END AS cmonth"
    "    FROM c)"
    " SELECT grouping(procedure_code), grouping(rmonth), grouping(cmonth),"
    "        procedure_code, channel, fresh, cls, rmonth, cmonth, count(*), acc"
    "   FROM k GROUP BY GROUPING SETS ((procedure_code, channel, fresh, cls, acc),"
    "                                  (rmonth, channel), (cmonth, cls))"};

/*
 * Dossiers asked for more documents in the period (once each, however often
 * asked), and ratings given in the period. Each event or rating looks its
 * dossier up by primary key in a subquery: a quarter has tens of thousands
 * of them, and a join would tempt the planner into scanning every dossier.
 */
static const mc_stmt_t stmt_report_supplements = {"report_supplements", 4,
    "SELECT grouping(p), p, count(*) FROM ("
    "  SELECT (SELECT d.procedure_code FROM dossier d WHERE d.id = e.dossier_id"
    "            AND ($3::text = '' OR d.ward_code = $3::text)"
    "            AND ($4::text = '' OR d.procedure_code = $4::text)) AS p"
    "    FROM (SELECT DISTINCT dossier_id FROM dossier_event"
    "           WHERE kind = 'supplement_requested' AND at >= to_timestamp($1::bigint)"
    "             AND at < to_timestamp($2::bigint)) e) x"
    " WHERE p IS NOT NULL GROUP BY GROUPING SETS ((), (p))"};

/* second requests for documents refused in the period: one per refused
 * answer (step and revision are in the detail; the agency's resends of the
 * same refused answer count once) */
static const mc_stmt_t stmt_report_supplement_refused = {"report_supplement_refused", 4,
    "SELECT grouping(p), p, count(*) FROM ("
    "  SELECT (SELECT d.procedure_code FROM dossier d WHERE d.id = e.dossier_id"
    "            AND ($3::text = '' OR d.ward_code = $3::text)"
    "            AND ($4::text = '' OR d.procedure_code = $4::text)) AS p"
    "    FROM (SELECT DISTINCT dossier_id, detail FROM dossier_event"
    "           WHERE kind = 'supplement_refused' AND at >= to_timestamp($1::bigint)"
    "             AND at < to_timestamp($2::bigint)) e) x"
    " WHERE p IS NOT NULL GROUP BY GROUPING SETS ((), (p))"};

static const mc_stmt_t stmt_report_ratings = {"report_ratings", 4,
    "SELECT grouping(p), p, count(*) FILTER (WHERE level = 1),"
    "       count(*) FILTER (WHERE level = 2), count(*) FILTER (WHERE level = 3) FROM ("
    "  SELECT g.level, (SELECT d.procedure_code FROM dossier d WHERE d.id = g.dossier_id"
    "            AND ($3::text = '' OR d.ward_code = $3::text)"
    "            AND ($4::text = '' OR d.procedure_code = $4::text)) AS p"
    "    FROM rating g WHERE g.rated_at >= to_timestamp($1::bigint)"
    "     AND g.rated_at < to_timestamp($2::bigint)) x"
    " WHERE p IS NOT NULL GROUP BY GROUPING SETS ((), (p))"};

/*
 * Apologies with a new appointment (Mẫu 04) issued in the period: one row
 * each (the extension is granted once per dossier), with the due date it
 * replaced from the apology notice (`old_due`, written in the same
 * transaction as the event); the C side judges the timing with the calendar.
 */
static const mc_stmt_t stmt_report_apologies = {"report_apologies", 4,
    "SELECT d.procedure_code, extract(epoch FROM e.at)::bigint,"
    "       (SELECT (n.data->>'old_due')::bigint FROM notification n"
    "         WHERE n.dedupe_key = d.code || '/apology')"
    "  FROM dossier_event e JOIN dossier d ON d.id = e.dossier_id"
    " WHERE e.kind = 'apology' AND e.at >= to_timestamp($1::bigint)"
    "   AND e.at < to_timestamp($2::bigint)"
    "   AND ($3::text = '' OR d.ward_code = $3::text)"
    "   AND ($4::text = '' OR d.procedure_code = $4::text)"};

/* dossiers that became late in the period (the router's `late` event, once
 * per due date) with no apology before: quá hạn không có văn bản xin lỗi */
static const mc_stmt_t stmt_report_late_unapologised = {"report_late_unapologised", 4,
    "SELECT grouping(p), p, count(*) FROM ("
    "  SELECT (SELECT d.procedure_code FROM dossier d WHERE d.id = e.dossier_id"
    "            AND ($3::text = '' OR d.ward_code = $3::text)"
    "            AND ($4::text = '' OR d.procedure_code = $4::text)) AS p"
    "    FROM (SELECT DISTINCT l.dossier_id FROM dossier_event l"
    "           WHERE l.kind = 'late' AND l.at >= to_timestamp($1::bigint)"
    "             AND l.at < to_timestamp($2::bigint)"
    "             AND NOT EXISTS (SELECT 1 FROM dossier_event a WHERE a.dossier_id = l.dossier_id"
    "                               AND a.kind = 'apology' AND a.at <= l.at)) e) x"
    " WHERE p IS NOT NULL GROUP BY GROUPING SETS ((), (p))"};

/*
 * Boundary-free reception (0016, Điều 20): dossiers received in the period
 * at the ward $3 (the RECEIVING ward; every receiving ward for '') for
 * another ward, and how their forwarding stood at the end: forwarded before
 * the end in time or late, or not forwarded by the end with the deadline
 * passed (unless closed before the deadline, a withdrawal: nothing left to
 * forward). forwarded_at and forward_due_at never change once written.
 */
static const mc_stmt_t stmt_report_forwarding = {"report_forwarding", 4,
    "SELECT grouping(procedure_code), procedure_code, count(*),"
    "       count(*) FILTER (WHERE forwarded_at < to_timestamp($2::bigint)"
    "                          AND forwarded_at <= forward_due_at),"
    "       count(*) FILTER (WHERE forwarded_at < to_timestamp($2::bigint)"
    "                          AND forwarded_at > forward_due_at),"
    "       count(*) FILTER (WHERE (forwarded_at IS NULL OR forwarded_at >= to_timestamp($2::bigint))"
    "                          AND forward_due_at < least(to_timestamp($2::bigint), now())"
    "                          AND (closed_at IS NULL OR closed_at > forward_due_at))"
    "  FROM dossier"
    " WHERE receiving_ward IS NOT NULL AND ($3::text = '' OR receiving_ward = $3::text)"
    "   AND ($4::text = '' OR procedure_code = $4::text)"
    "   AND received_at >= to_timestamp($1::bigint) AND received_at < to_timestamp($2::bigint)"
    " GROUP BY GROUPING SETS ((), (procedure_code))"};

/* JIT compiling the expressions costs more than it saves on queries of this size, and
 * the grouping needs a few MB to hash in memory instead of sorting on disk */
static const mc_stmt_t stmt_report_nojit = {"report_nojit", 0,
    "SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)"};
static const mc_stmt_t stmt_report_now = {"report_now", 0,
    "SELECT extract(epoch FROM now())::bigint"};

/* open dossiers past `before` or warned (due_soon) and not extended, with the step that
 * holds each (the lowest open or dead one) */
static const mc_stmt_t stmt_overdue = {"report_overdue", 3,
    "SELECT d.code, d.ward_code, d.procedure_code, d.state,"
    "       extract(epoch FROM d.received_at)::bigint, extract(epoch FROM d.due)::bigint,"
    "       coalesce(d.due_at > d.late_notified_due, false),"
    "       c.agency, c.step, c.steps_total, c.state, d.payload,"
    "       d.warned_due = d.due_at AND d.extended_at IS NULL, d.extended_at IS NOT NULL,"
    "       coalesce(extract(epoch FROM d.apology_at)::bigint, 0),"
    "       coalesce(d.receiving_ward, ''),"
    "       coalesce(extract(epoch FROM d.forward_due_at)::bigint, 0), d.forwarded_at IS NOT NULL"
    "  FROM (SELECT *, CASE WHEN state = " MC_SQL(MC_DOSSIER_PENDING_ACCEPTANCE) " THEN accept_due_at"
    "                       WHEN receiving_ward IS NOT NULL AND forwarded_at IS NULL"
    "                       THEN least(due_at, forward_due_at) ELSE due_at END AS due FROM dossier"
    "         WHERE (state IN (" MC_SQL_DOSSIER_RUNNING ") AND (due_at < to_timestamp($2::bigint)"
    "                OR (warned_due = due_at AND extended_at IS NULL)"
    "                OR (receiving_ward IS NOT NULL AND forwarded_at IS NULL"
    "                    AND forward_due_at < to_timestamp($2::bigint))))"
    "            OR (state = " MC_SQL(MC_DOSSIER_PENDING_ACCEPTANCE) " AND accept_due_at < to_timestamp($2::bigint))) d"
    "  LEFT JOIN LATERAL ("
    "       SELECT agency, step, steps_total, state FROM agency_case"
    "        WHERE dossier_id = d.id AND state IN (" MC_SQL(MC_CASE_QUEUED) ", " MC_SQL(MC_CASE_SENT) ", " MC_SQL(MC_CASE_ACKED) ", " MC_SQL(MC_CASE_DEAD) ") ORDER BY step LIMIT 1) c ON true"
    " WHERE ($1::text = '' OR d.ward_code = $1::text OR d.receiving_ward = $1::text)"
    " ORDER BY d.due, d.id LIMIT $3::integer + 1"};
/* (state 9 PENDING_ACCEPTANCE: listed by its acceptance deadline, Nghị định 118/2025 Điều 17) */

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

/* the class names of mc_report_class (migration 0019), by the number fold_class folds */
static const char *const CLASS_NAMES[] = {
    NULL,                    /* 0: no class (closed before the period) */
    "resolved_early",        /* 1 */
    "resolved_on_time",      /* 2 */
    "resolved_late",         /* 3 */
    "late_reappointed_kept", /* 4: late, re-appointed, resolved by the new appointment */
    "late_reappointed_late", /* 5: late, re-appointed, late again */
    "withdrawn",             /* 6 */
    "refused",               /* 7 */
    "open_in_time",          /* 8 */
    "open_overdue",          /* 9 */
    "returned_unsupplemented", /* 10 */
};

/* class_of - the number of the class named in cell (row, col); 0 when NULL or unknown */
static int class_of(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return 0;
    const char *name = PQgetvalue(res, row, col);
    for (int i = 1; i < (int)(sizeof CLASS_NAMES / sizeof *CLASS_NAMES); i++)
        if (strcmp(name, CLASS_NAMES[i]) == 0)
            return i;
    return 0;
}

/* fold_class - n dossiers of procedure/channel/fresh/class into c */
static void fold_class(mc_report_counts_t *c, int channel, bool fresh, int cls, long n)
{
    if (!fresh)
        c->carried_over += n;
    else if (channel == 1)
        c->received_direct += n;
    else if (channel == 2)
        c->received_online += n;
    else
        c->received_postal += n;
    switch (cls) {
    case 1: c->resolved_early += n; break;
    case 2: c->resolved_on_time += n; break;
    case 3: c->resolved_late += n; break;
    case 4: c->resolved_late += n; c->late_reappointed += n; c->late_reappointed_kept += n; break;
    case 5: c->resolved_late += n; c->late_reappointed += n; break;
    case 6: c->withdrawn += n; break;
    case 7: c->refused += n; break;
    case 8: c->open_in_time += n; break;
    case 9: c->open_overdue += n; break;
    case 10: c->returned_unsupplemented += n; break;
    default: break; /* 0: cannot happen for a dossier the period sees */
    }
}

/* fold_acceptance - n dossiers of acceptance class acc (stmt_report_main) into c */
static void fold_acceptance(mc_report_counts_t *c, int acc, long n)
{
    switch (acc) {
    case 1: c->accepted_in_time += n; break;
    case 2: c->accepted_late += n; break;
    case 3: c->acceptance_overdue += n; break;
    default: break; /* 0: not accepted in the period, not pending past its deadline at the end */
    }
}

/* fold_month - a (month, channel) or (month, class) group into the chart's months */
static void fold_month(mc_report_t *r, int month, int channel, int cls, long n)
{
    if (month < 1 || (size_t)month > r->n_months)
        return; /* cannot happen: both months lie in the period */
    mc_report_month_t *m = &r->months[month - 1];
    if (channel == 1)
        m->received_direct += n;
    else if (channel == 2)
        m->received_online += n;
    else if (channel == 3)
        m->received_postal += n;
    else if (cls == 1 || cls == 2)
        m->resolved_in_time += n;
    else if (cls >= 3 && cls <= 5)
        m->resolved_late += n;
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

/* read_event_counts - a (total / procedure, count) query into the counter at
 * offset in mc_report_counts_t */
static mc_store_rc_t read_event_counts(mc_store_t *store, const mc_stmt_t *stmt,
                                       const char *const *p, mc_report_t *r, size_t *cap,
                                       size_t offset, mc_err_t *err)
{
    PGresult *res = NULL;
    mc_store_rc_t rc = query(store, stmt, p, &res, err);
    if (rc != MC_STORE_OK)
        return rc;
    for (int i = 0; i < PQntuples(res); i++) {
        mc_report_counts_t *c = counts_of(r, res, i, cap);
        if (!c)
            return out_of_memory(res, err);
        *(long *)((char *)c + offset) = cell_long(res, i, 2);
    }
    PQclear(res);
    return MC_STORE_OK;
}

/* apology_in_time - issued at `at`, at least days working days before old_due
 * (the hub's own rule, lienthong decide_extension); false when unknown */
static bool apology_in_time(const mc_report_query_t *q, int64_t at, int64_t old_due)
{
    int64_t counted = 0, latest = 0;
    mc_err_t err;
    mc_err_clear(&err);
    return q->calendar && old_due > 0 &&
           mc_calendar_due(q->calendar, at, q->apology_before_days, MC_TIME_WORKING_DAYS,
                           24 * 60, &counted, &latest, &err) == 0 &&
           latest <= old_due;
}

/* read_apologies - the period's apologies, each judged in time or not, into r */
static mc_store_rc_t read_apologies(mc_store_t *store, const mc_report_query_t *q,
                                    const char *const *p, mc_report_t *r, size_t *cap,
                                    mc_err_t *err)
{
    PGresult *res = NULL;
    mc_store_rc_t rc = query(store, &stmt_report_apologies, p, &res, err);
    if (rc != MC_STORE_OK)
        return rc;
    for (int i = 0; i < PQntuples(res); i++) {
        mc_report_row_t *row = row_for(r, PQgetvalue(res, i, 0), cap);
        if (!row)
            return out_of_memory(res, err);
        int64_t at = strtoll(PQgetvalue(res, i, 1), NULL, 10);
        int64_t old_due = PQgetisnull(res, i, 2) ? 0 : strtoll(PQgetvalue(res, i, 2), NULL, 10);
        long in_time = apology_in_time(q, at, old_due) ? 1 : 0;
        row->counts.apologies++;
        r->total.apologies++;
        row->counts.apologies_in_time += in_time;
        r->total.apologies_in_time += in_time;
    }
    PQclear(res);
    return MC_STORE_OK;
}

/* read_forwarding - what the (receiving) ward received for other wards, into r */
static mc_store_rc_t read_forwarding(mc_store_t *store, const char *const *p, mc_report_t *r,
                                     size_t *cap, mc_err_t *err)
{
    PGresult *res = NULL;
    mc_store_rc_t rc = query(store, &stmt_report_forwarding, p, &res, err);
    if (rc != MC_STORE_OK)
        return rc;
    for (int i = 0; i < PQntuples(res); i++) {
        long n = cell_long(res, i, 2);
        if (n == 0)
            continue; /* the empty total: no row to create */
        mc_report_counts_t *c = counts_of(r, res, i, cap);
        if (!c)
            return out_of_memory(res, err);
        c->forward_received = n;
        c->forwarded_in_time = cell_long(res, i, 3);
        c->forwarded_late = cell_long(res, i, 4);
        c->forward_overdue = cell_long(res, i, 5);
        c->forward_pending = n - c->forwarded_in_time - c->forwarded_late - c->forward_overdue;
    }
    PQclear(res);
    return MC_STORE_OK;
}

/* read_all - the queries into r (inside the snapshot) */
static mc_store_rc_t read_all(mc_store_t *store, const mc_report_query_t *q,
                              const char *const *p, mc_report_t *r, mc_err_t *err)
{
    size_t cap = 0;
    PGresult *res = NULL;
    PGresult *set = mc_store_exec(store, &stmt_report_nojit, NULL, NULL, NULL, false);
    mc_store_rc_t rc = PQresultStatus(set) == PGRES_TUPLES_OK
                           ? MC_STORE_OK
                           : mc_store_classify(store, store->main, set, "report_nojit", err);
    PQclear(set);
    if (rc != MC_STORE_OK)
        return rc;
    rc = query(store, &stmt_report_now, NULL, &res, err);
    if (rc != MC_STORE_OK)
        return rc;
    r->generated_at = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);

    if ((rc = query(store, &stmt_report_main, p, &res, err)) != MC_STORE_OK)
        return rc;
    for (int i = 0; i < PQntuples(res); i++) {
        long n = cell_long(res, i, 9);
        int channel = PQgetisnull(res, i, 4) ? 0 : atoi(PQgetvalue(res, i, 4));
        int cls = class_of(res, i, 6);
        if (PQgetvalue(res, i, 0)[0] == '0') { /* (procedure, channel, fresh, class) */
            mc_report_row_t *row = row_for(r, PQgetvalue(res, i, 3), &cap);
            if (!row)
                return out_of_memory(res, err);
            bool fresh = PQgetvalue(res, i, 5)[0] == 't';
            int acc = PQgetisnull(res, i, 10) ? 0 : atoi(PQgetvalue(res, i, 10));
            fold_class(&row->counts, channel, fresh, cls, n);
            fold_class(&r->total, channel, fresh, cls, n);
            fold_acceptance(&row->counts, acc, n);
            fold_acceptance(&r->total, acc, n);
        } else if (PQgetvalue(res, i, 1)[0] == '0') { /* (month of receipt, channel) */
            if (!PQgetisnull(res, i, 7))
                fold_month(r, atoi(PQgetvalue(res, i, 7)), channel, 0, n);
        } else if (!PQgetisnull(res, i, 8)) {         /* (month of result, class) */
            fold_month(r, atoi(PQgetvalue(res, i, 8)), 0, cls, n);
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

    if ((rc = read_event_counts(store, &stmt_report_supplement_refused, p, r, &cap,
                                offsetof(mc_report_counts_t, supplement_refused), err)) !=
        MC_STORE_OK)
        return rc;

    if ((rc = read_event_counts(store, &stmt_report_late_unapologised, p, r, &cap,
                                offsetof(mc_report_counts_t, late_without_apology), err)) !=
        MC_STORE_OK)
        return rc;
    if ((rc = read_apologies(store, q, p, r, &cap, err)) != MC_STORE_OK)
        return rc;
    if ((rc = read_forwarding(store, p, r, &cap, err)) != MC_STORE_OK)
        return rc;

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

/* what read_report reads: the queries of q with parameters p into r */
typedef struct report_read {
    const mc_report_query_t *q; /* the query */
    const char *const       *p; /* stmt_report_main's parameters */
    mc_report_t             *r; /* filled */
} report_read_t;

/* read_report - read_all (inside the snapshot) */
static mc_store_rc_t read_report(mc_store_t *store, void *arg, mc_err_t *err)
{
    report_read_t *rr = arg;
    return read_all(store, rr->q, rr->p, rr->r, err);
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
    /* the month starts as a timestamptz[] literal: the first is the period's start */
    char *months = malloc(r->n_months * 40 + 8);
    if (!months) {
        mc_report_destroy(&r);
        mc_err_add(err, "store: report: out of memory");
        return MC_STORE_FAILED;
    }
    size_t used = 0;
    months[used++] = '{';
    for (size_t i = 0; i < r->n_months; i++) {
        char iso[40];
        mc_date_t first = {r->months[i].year, r->months[i].month, 1};
        int64_t t = i == 0 ? r->start : mc_instant_of(first, 0);
        used += (size_t)snprintf(months + used, 40, "%s%s", i ? "," : "",
                                 mc_format_iso(t, iso, sizeof iso));
    }
    months[used++] = '}';
    months[used] = '\0';
    const char *p[6] = {start, end, r->ward, r->procedure, tz, months};

    report_read_t read = {q, p, r};
    mc_store_rc_t rc = mc_store_snapshot(store, read_report, &read, err);
    free(months);
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
        it->due_soon = PQgetvalue(res, i, 12)[0] == 't';
        it->extended = PQgetvalue(res, i, 13)[0] == 't';
        it->apology_at = strtoll(PQgetvalue(res, i, 14), NULL, 10);
        mc_store_copy_text(it->receiving_ward, sizeof it->receiving_ward, res, i, 15);
        it->forward_due_at = strtoll(PQgetvalue(res, i, 16), NULL, 10);
        it->forwarded = PQgetvalue(res, i, 17)[0] == 't';
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
