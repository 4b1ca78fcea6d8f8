/*
 * it_report_class - the report's classes (migration 0019 mc_report_class,
 * docs/reports.md "What is counted, and how") called directly on a real
 * PostgreSQL, one dossier's columns at a time: every class, and the edges
 * (a result at the first instant of the due day and exactly at the due time,
 * a re-appointment kept to the second, withdrawn at the period's first
 * instant, closed exactly at its end, open past the end, a period not yet
 * ended, the clock stopped while waiting for documents). it_report judges
 * the same function through whole reports; this test pins each rule alone.
 * Also: the report role may execute the function, a daemon's role may not,
 * and the planner inlines it into a query (no function call per row).
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "mc_states.h"
#include "mc_test.h"

static harness_t H; /* the cluster (migrated) */

/* the third quarter of 2025, local time (UTC+7), ended long before "now" */
#define Q_START "2025-07-01 00:00:00+07"
#define Q_END   "2025-10-01 00:00:00+07"
#define LATER   "2026-01-15 09:00:00+07"

/* a dossier's columns as they stood at the end (NULL: SQL NULL) */
typedef struct {
    int         state;      /* dossier.state (mc_dossier_state_t) */
    const char *closed_at;  /* closed_at */
    const char *result_at;  /* result_at */
    const char *due_at;     /* due_at in force */
    const char *counted;    /* counted_from */
    const char *late_due;   /* late_notified_due (the apologised date) */
    const char *paused_at;  /* paused_at */
} cols_t;

static const char *const CLASS_SQL =
    "SELECT mc_report_class($1::smallint, $2::timestamptz, $3::timestamptz, $4::timestamptz,"
    " $5::timestamptz, $6::timestamptz, $7::timestamptz, $8::timestamptz, $9::timestamptz,"
    " $10::timestamptz, 25200)";

/* class_at - the class of c in [Q_START, Q_END) judged at now; "NULL", or "ERROR: ..." */
static const char *class_at(const cols_t *c, const char *now, char *buf, size_t size)
{
    char state[8];
    snprintf(state, sizeof state, "%d", c->state);
    const char *p[10] = {state, c->closed_at, c->result_at, c->due_at, c->counted,
                         c->late_due, c->paused_at, Q_START, Q_END, now};
    PGresult *res = PQexecParams(harness_db(&H), CLASS_SQL, 10, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        snprintf(buf, size, "ERROR: %s", PQresultErrorMessage(res));
    else
        snprintf(buf, size, "%s", PQgetisnull(res, 0, 0) ? "NULL" : PQgetvalue(res, 0, 0));
    PQclear(res);
    return buf;
}

/* class_of - class_at, judged long after the period */
static const char *class_of(const cols_t *c, char *buf, size_t size)
{
    return class_at(c, LATER, buf, size);
}

#define DUE     "2025-08-12 17:00:00+07" /* the due time: 17:00 of the last working day */
#define COUNTED "2025-08-01 08:00:00+07"

MC_TEST(resolved_early_on_time_and_late)
{
    char b[512];
    cols_t c = {MC_DOSSIER_RESULT_READY, "2025-08-11 16:00:00+07", "2025-08-11 16:00:00+07",
                DUE, COUNTED, NULL, NULL};
    CHECK_STR(class_of(&c, b, sizeof b), "resolved_early");
    c.result_at = "2025-08-11 23:59:59+07"; /* the last second before the due day */
    CHECK_STR(class_of(&c, b, sizeof b), "resolved_early");
    c.result_at = "2025-08-12 00:00:00+07"; /* the due day's first instant: on time */
    CHECK_STR(class_of(&c, b, sizeof b), "resolved_on_time");
    c.result_at = DUE; /* exactly at the due time: on time */
    c.state = MC_DOSSIER_DELIVERED;
    CHECK_STR(class_of(&c, b, sizeof b), "resolved_on_time");
    c.result_at = "2025-08-12 17:00:01+07"; /* one second after */
    CHECK_STR(class_of(&c, b, sizeof b), "resolved_late");
    /* no result_at: the closing time counts */
    c.result_at = NULL;
    c.closed_at = "2025-08-13 08:00:00+07";
    CHECK_STR(class_of(&c, b, sizeof b), "resolved_late");
}

MC_TEST(apologised_dossiers_are_late_whatever_the_result_time)
{
    char b[512];
    /* a late notice for the due date, no new appointment (due_at unchanged) */
    cols_t c = {MC_DOSSIER_RESULT_READY, "2025-08-10 10:00:00+07", "2025-08-10 10:00:00+07",
                DUE, COUNTED, DUE, NULL};
    CHECK_STR(class_of(&c, b, sizeof b), "resolved_late");
    /* re-appointed (Mẫu 04): the new date kept, to the second */
    c.due_at = "2025-08-19 17:00:00+07";
    c.result_at = c.closed_at = "2025-08-19 17:00:00+07";
    CHECK_STR(class_of(&c, b, sizeof b), "late_reappointed_kept");
    c.result_at = c.closed_at = "2025-08-19 17:00:01+07";
    CHECK_STR(class_of(&c, b, sizeof b), "late_reappointed_late");
    /* a notice of an earlier count (before counted_from, e.g. before a supplement) is no apology */
    c.late_due = "2025-07-20 17:00:00+07";
    c.result_at = c.closed_at = "2025-08-15 10:00:00+07";
    CHECK_STR(class_of(&c, b, sizeof b), "resolved_early");
}

MC_TEST(withdrawn_refused_returned_in_the_period)
{
    char b[512];
    cols_t c = {MC_DOSSIER_WITHDRAWN, Q_START, NULL, DUE, COUNTED, NULL, NULL};
    CHECK_STR(class_of(&c, b, sizeof b), "withdrawn"); /* at the period's first instant */
    c.state = MC_DOSSIER_REFUSED;
    c.closed_at = "2025-09-30 23:59:59+07";
    CHECK_STR(class_of(&c, b, sizeof b), "refused");
    c.state = MC_DOSSIER_RETURNED;
    c.paused_at = "2025-08-01 09:00:00+07";
    CHECK_STR(class_of(&c, b, sizeof b), "returned_unsupplemented");
    /* closed before the period: not in it */
    c.closed_at = "2025-06-30 23:59:59+07";
    CHECK_STR(class_of(&c, b, sizeof b), "NULL");
    c.state = MC_DOSSIER_RESULT_READY;
    CHECK_STR(class_of(&c, b, sizeof b), "NULL");
}

MC_TEST(open_at_the_end_judged_as_it_stood)
{
    char b[512];
    /* open, due before the end: overdue */
    cols_t c = {MC_DOSSIER_IN_PROGRESS, NULL, NULL, "2025-09-30 17:00:00+07", COUNTED, NULL,
                NULL};
    CHECK_STR(class_of(&c, b, sizeof b), "open_overdue");
    /* due after the end: in time, even though it is past due now */
    c.due_at = "2025-10-02 17:00:00+07";
    CHECK_STR(class_of(&c, b, sizeof b), "open_in_time");
    /* closed exactly at the end (as it stood at the end: in progress): still open then */
    c.closed_at = Q_END;
    c.due_at = "2025-09-29 17:00:00+07";
    CHECK_STR(class_of(&c, b, sizeof b), "open_overdue");
    c.closed_at = NULL;
    /* apologised before the end, new date after it: overdue */
    c.late_due = "2025-09-29 17:00:00+07";
    c.counted = COUNTED;
    c.due_at = "2025-10-06 17:00:00+07";
    CHECK_STR(class_of(&c, b, sizeof b), "open_overdue");
    /* the apologised date after the end: not yet */
    c.late_due = "2025-10-01 17:00:00+07";
    CHECK_STR(class_of(&c, b, sizeof b), "open_in_time");
    /* waiting for documents since before the end: the clock is stopped */
    cols_t w = {MC_DOSSIER_WAITING_SUPPLEMENT, NULL, NULL, "2025-08-20 17:00:00+07", COUNTED, NULL,
                "2025-08-15 10:00:00+07"};
    CHECK_STR(class_of(&w, b, sizeof b), "open_in_time");
    /* paused only at the end itself: judged by its due date */
    w.paused_at = Q_END;
    CHECK_STR(class_of(&w, b, sizeof b), "open_overdue");
    /* pending acceptance: no due date has run out yet */
    cols_t p = {MC_DOSSIER_PENDING_ACCEPTANCE, NULL, NULL, "2025-10-20 17:00:00+07", COUNTED,
                NULL, NULL};
    CHECK_STR(class_of(&p, b, sizeof b), "open_in_time");
}

MC_TEST(a_period_not_ended_is_judged_at_now)
{
    char b[512];
    cols_t c = {MC_DOSSIER_ROUTED, NULL, NULL, "2025-09-20 17:00:00+07", COUNTED, NULL, NULL};
    CHECK_STR(class_at(&c, "2025-09-15 10:00:00+07", b, sizeof b), "open_in_time");
    CHECK_STR(class_at(&c, "2025-09-20 17:00:00+07", b, sizeof b), "open_in_time"); /* due now */
    CHECK_STR(class_at(&c, "2025-09-20 17:00:01+07", b, sizeof b), "open_overdue");
}

MC_TEST(the_report_role_executes_it_and_others_do_not)
{
    PGconn *db = harness_db(&H);
    char b[512];
    cols_t c = {MC_DOSSIER_WITHDRAWN, "2025-08-01 10:00:00+07", NULL, DUE, COUNTED, NULL, NULL};
    PQclear(PQexec(db, "SET ROLE motcua_report"));
    CHECK_STR(class_of(&c, b, sizeof b), "withdrawn");
    PQclear(PQexec(db, "SET ROLE motcua_intake"));
    CHECK(strstr(class_of(&c, b, sizeof b), "permission denied") != NULL);
    PQclear(PQexec(db, "RESET ROLE"));
}

MC_TEST(the_planner_inlines_it)
{
    /* a function call per row would show its name in the plan; inlined, the CASE shows */
    PGresult *res = PQexec(harness_db(&H),
                           "EXPLAIN (VERBOSE, COSTS OFF) SELECT mc_report_class(state, closed_at,"
                           " result_at, due_at, counted_from, late_notified_due, paused_at,"
                           " now() - interval '1 day', now(), now(), 25200) FROM dossier");
    REQUIRE(PQresultStatus(res) == PGRES_TUPLES_OK);
    bool called = false, inlined = false;
    for (int i = 0; i < PQntuples(res); i++) {
        called |= strstr(PQgetvalue(res, i, 0), "mc_report_class") != NULL;
        inlined |= strstr(PQgetvalue(res, i, 0), "CASE") != NULL;
    }
    PQclear(res);
    CHECK(!called);
    CHECK(inlined);
}

int main(void)
{
    if (harness_setup(&H, "it_report_class", 1) != 0)
        return mc_test_done("it_report_class (setup failed)");
    mc_test_run(resolved_early_on_time_and_late);
    mc_test_run(apologised_dossiers_are_late_whatever_the_result_time);
    mc_test_run(withdrawn_refused_returned_in_the_period);
    mc_test_run(open_at_the_end_judged_as_it_stood);
    mc_test_run(a_period_not_ended_is_judged_at_now);
    mc_test_run(the_report_role_executes_it_and_others_do_not);
    mc_test_run(the_planner_inlines_it);
    harness_teardown(&H);
    return mc_test_done("it_report_class");
}
