/*
 * mc_store_queues - the pipeline's backlog (contract in mc_store_queues.h).
 *
 * One statement reads the three stages as (stage, holder, state, count,
 * oldest age) rows; the state numbers are the tables' own (dossier.state,
 * agency_case.state, notification.state) and are turned into
 * mc_queue_state_t here, so the SQL stays a plain aggregation. The session
 * table comes with a later migration: its presence is checked in the same
 * snapshot and the session statement is prepared only when it is there.
 */
#include "mc_store_queues.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_store_int.h"

/* not a stored state: a notification whose last attempt is still open
 * (stmt_queues names it beside notification.state's own, mc_states.h) */
#define NOTE_SENDING_ 3
enum { NOTE_SENDING = NOTE_SENDING_ };


/*
 * Columns: stage (0 dossier, 1 case, 2 notification), holder, the table's
 * state, tried (notifications: attempts > 0), count, oldest age (s), now
 * (epoch s), agency_session exists. A notification's holder is the channel
 * of its last attempt that did not succeed ("-" before the first); while
 * that attempt is still open (migration 0007: ok and finished_at NULL) the
 * line's state is 3, "being sent". Age: dossiers since
 * received, cases since their last change, notifications since created.
 * The last row (stage -1) is always there and carries now and the table
 * check even when nothing is queued.
 */
static const mc_stmt_t stmt_queues = {"queues_lines", 0,
    "SELECT 0, '', state, false, count(*), extract(epoch FROM now() - min(received_at))::bigint"
    "  FROM dossier WHERE state IN (" MC_SQL(MC_DOSSIER_RECEIVED) ", " MC_SQL(MC_DOSSIER_WAITING_SUPPLEMENT) ") AND (state <> " MC_SQL(MC_DOSSIER_RECEIVED) " OR department IS NULL)"
    " GROUP BY state"
    " UNION ALL "
    "SELECT 0, coalesce(c.agency, ''), 9, false, count(*),"
    "       extract(epoch FROM now() - min(d.received_at))::bigint"
    "  FROM dossier d LEFT JOIN agency_case c ON c.dossier_id = d.id AND c.step = 0"
    " WHERE d.state = " MC_SQL(MC_DOSSIER_PENDING_ACCEPTANCE) " GROUP BY 2"
    " UNION ALL "
    "SELECT 1, agency, state, false, count(*), extract(epoch FROM now() - min(updated_at))::bigint"
    "  FROM agency_case WHERE state IN (" MC_SQL(MC_CASE_QUEUED) ", " MC_SQL(MC_CASE_SENT) ", " MC_SQL(MC_CASE_ACKED) ", " MC_SQL(MC_CASE_DEAD) ", " MC_SQL(MC_CASE_PAUSED) ") GROUP BY agency, state"
    " UNION ALL "
    "SELECT 2, coalesce(f.channel, '-'), CASE WHEN f.running THEN " MC_SQL(NOTE_SENDING) " ELSE n.state END,"
    "       n.attempts > 0, count(*), extract(epoch FROM now() - min(n.created_at))::bigint"
    "  FROM notification n LEFT JOIN LATERAL ("
    /* in flight: the last channel of sending (0022); else the latest attempt not ok */
    "       SELECT substring(n.sending FROM '[^,]*$') AS channel, true AS running"
    "        WHERE n.sending IS NOT NULL"
    "       UNION ALL"
    "       (SELECT a.channel, a.ok IS NULL AND a.finished_at IS NULL AS running"
    "         FROM notification_attempt a"
    "        WHERE a.notification_id = n.id AND a.ok IS NOT TRUE ORDER BY a.id DESC LIMIT 1)"
    "       LIMIT 1) f"
    "    ON true"
    " WHERE n.state <> " MC_SQL(MC_NOTIFICATION_SENT) " GROUP BY 2, 3, 4"
    " UNION ALL "
    "SELECT -1, '', 0, to_regclass('agency_session') IS NOT NULL, 0,"
    "       extract(epoch FROM now())::bigint"
    " ORDER BY 1, 2, 3, 4"};

/* the hub's sessions (migration 0006); text casts keep this reader loose about column types */
static const mc_stmt_t stmt_sessions = {"queues_sessions", 0,
    "SELECT session::text, agency::text, coalesce(hub_epoch::text, ''), connected::text,"
    "       ready::text, coalesce(credit, 0)::bigint, coalesce(in_flight, 0)::bigint,"
    "       coalesce(extract(epoch FROM now() - seen_at)::bigint, -1),"
    "       (extract(epoch FROM lease_until - now()) * 1000)::bigint"
    "  FROM agency_session ORDER BY agency, started_at, session"};

/* mc_queue_state_name - stable names */
const char *mc_queue_state_name(mc_queue_state_t state)
{
    static const char *const names[MC_QUEUE_STATES] = {
        "unrouted", "waiting_documents", "queued", "sent", "acked", "paused", "dead",
        "pending", "retrying", "sending", "failed", "pending_acceptance"};
    return (int)state >= 0 && state < MC_QUEUE_STATES ? names[state] : "?";
}

/* mc_queue_stage_name - stable names */
const char *mc_queue_stage_name(mc_queue_stage_t stage)
{
    switch (stage) {
    case MC_QUEUE_DOSSIER: return "dossier";
    case MC_QUEUE_CASE: return "case";
    case MC_QUEUE_NOTIFICATION: return "notification";
    }
    return "?";
}

/* line_state - the table's state number as a queue state; false for states we do not list */
static bool line_state(mc_queue_stage_t stage, int state, bool tried, mc_queue_state_t *out)
{
    if (stage == MC_QUEUE_DOSSIER) {
        *out = state == MC_DOSSIER_RECEIVED             ? MC_QUEUE_UNROUTED
               : state == MC_DOSSIER_PENDING_ACCEPTANCE ? MC_QUEUE_PENDING_ACCEPTANCE
                                                     : MC_QUEUE_WAITING_DOCS;
        return state == MC_DOSSIER_RECEIVED || state == MC_DOSSIER_WAITING_SUPPLEMENT ||
               state == MC_DOSSIER_PENDING_ACCEPTANCE;
    }
    if (stage == MC_QUEUE_CASE) {
        switch (state) {
        case MC_CASE_QUEUED: *out = MC_QUEUE_QUEUED; return true;
        case MC_CASE_SENT: *out = MC_QUEUE_SENT; return true;
        case MC_CASE_ACKED: *out = MC_QUEUE_ACKED; return true;
        case MC_CASE_DEAD: *out = MC_QUEUE_DEAD; return true;
        case MC_CASE_PAUSED: *out = MC_QUEUE_PAUSED; return true;
        default: return false;
        }
    }
    if (state == MC_NOTIFICATION_SENT)
        return false;
    if (state == MC_NOTIFICATION_PENDING)
        *out = tried ? MC_QUEUE_RETRYING : MC_QUEUE_PENDING;
    else if (state == MC_NOTIFICATION_FAILED)
        *out = MC_QUEUE_FAILED;
    else
        *out = MC_QUEUE_SENDING; /* NOTE_SENDING, or a newer state between pending and done */
    return true;
}

/* moves_on_its_own - does a line in this state count as in flight? */
static bool moves_on_its_own(mc_queue_state_t state)
{
    switch (state) {
    case MC_QUEUE_UNROUTED:
    case MC_QUEUE_PENDING_ACCEPTANCE: /* the desk's turn: it answers within 8 working hours */
    case MC_QUEUE_QUEUED:
    case MC_QUEUE_SENT:
    case MC_QUEUE_ACKED:
    case MC_QUEUE_PENDING:
    case MC_QUEUE_RETRYING:
    case MC_QUEUE_SENDING:
        return true;
    default:
        return false;
    }
}

/* read_lines - the backlog lines into q; *sessions_table set from the marker row */
static mc_store_rc_t read_lines(mc_store_t *store, mc_queues_t *q, bool *sessions_table,
                                mc_err_t *err)
{
    PGresult *res = mc_store_exec(store, &stmt_queues, NULL, NULL, NULL, false);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        mc_store_rc_t rc = mc_store_classify(store, store->main, res, "queues_lines", err);
        PQclear(res);
        return rc;
    }
    int n = PQntuples(res);
    q->lines = calloc(n ? (size_t)n : 1, sizeof *q->lines);
    if (!q->lines) {
        PQclear(res);
        mc_err_add(err, "store: queues: out of memory");
        return MC_STORE_FAILED;
    }
    for (int i = 0; i < n; i++) {
        int stage = atoi(PQgetvalue(res, i, 0));
        bool flag = PQgetvalue(res, i, 3)[0] == 't';
        if (stage < 0) {
            *sessions_table = flag;
            q->taken_at = strtoll(PQgetvalue(res, i, 5), NULL, 10);
            continue;
        }
        mc_queue_line_t *l = &q->lines[q->n_lines];
        l->stage = (mc_queue_stage_t)stage;
        if (!line_state(l->stage, atoi(PQgetvalue(res, i, 2)), flag, &l->state))
            continue;
        mc_store_copy_text(l->holder, sizeof l->holder, res, i, 1);
        l->count = strtol(PQgetvalue(res, i, 4), NULL, 10);
        l->oldest_age_s = strtoll(PQgetvalue(res, i, 5), NULL, 10);
        l->in_flight = moves_on_its_own(l->state);
        if (l->in_flight)
            q->in_flight += l->count;
        q->n_lines++;
    }
    PQclear(res);
    return MC_STORE_OK;
}

/* read_sessions - the hub's sessions into q */
static mc_store_rc_t read_sessions(mc_store_t *store, mc_queues_t *q, mc_err_t *err)
{
    PGresult *res = mc_store_exec(store, &stmt_sessions, NULL, NULL, NULL, false);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        mc_store_rc_t rc = mc_store_classify(store, store->main, res, "queues_sessions", err);
        PQclear(res);
        return rc;
    }
    int n = PQntuples(res);
    q->sessions = calloc(n ? (size_t)n : 1, sizeof *q->sessions);
    if (!q->sessions) {
        PQclear(res);
        mc_err_add(err, "store: queues: out of memory");
        return MC_STORE_FAILED;
    }
    for (int i = 0; i < n; i++) {
        mc_queue_session_t *s = &q->sessions[i];
        mc_store_copy_text(s->session, sizeof s->session, res, i, 0);
        mc_store_copy_text(s->agency, sizeof s->agency, res, i, 1);
        s->hub_epoch = strtoll(PQgetvalue(res, i, 2), NULL, 10);
        s->connected = PQgetvalue(res, i, 3)[0] == 't';
        s->ready = PQgetvalue(res, i, 4)[0] == 't';
        s->credit = strtol(PQgetvalue(res, i, 5), NULL, 10);
        s->in_flight = strtol(PQgetvalue(res, i, 6), NULL, 10);
        s->seen_age_s = strtoll(PQgetvalue(res, i, 7), NULL, 10);
        s->has_lease = !PQgetisnull(res, i, 8);
        s->lease_left_ms = s->has_lease ? strtoll(PQgetvalue(res, i, 8), NULL, 10) : 0;
    }
    q->n_sessions = (size_t)n;
    PQclear(res);
    return MC_STORE_OK;
}

/* read_queues - the lines and, when the table exists, the sessions into q (inside the snapshot) */
static mc_store_rc_t read_queues(mc_store_t *store, void *arg, mc_err_t *err)
{
    mc_queues_t *q = arg;
    bool sessions_table = false;
    mc_store_rc_t rc = read_lines(store, q, &sessions_table, err);
    q->has_sessions = sessions_table;
    if (rc == MC_STORE_OK && sessions_table)
        rc = read_sessions(store, q, err);
    return rc;
}

/* mc_store_queues - the backlog in one snapshot */
mc_store_rc_t mc_store_queues(mc_store_t *store, mc_queues_t **out, mc_err_t *err)
{
    *out = NULL;
    mc_queues_t *q = calloc(1, sizeof *q);
    if (!q) {
        mc_err_add(err, "store: queues: out of memory");
        return MC_STORE_FAILED;
    }
    mc_store_rc_t rc = mc_store_snapshot(store, read_queues, q, err);
    if (rc != MC_STORE_OK) {
        mc_queues_destroy(&q);
        return rc;
    }
    *out = q;
    return MC_STORE_OK;
}

/* mc_queues_destroy - free and NULL */
void mc_queues_destroy(mc_queues_t **queues)
{
    if (!queues || !*queues)
        return;
    free((*queues)->lines);
    free((*queues)->sessions);
    free(*queues);
    *queues = NULL;
}
