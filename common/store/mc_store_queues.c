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
 * state, tried (notifications: attempts > 0), count, oldest age (s), then
 * the count in each age bucket (MC_QUEUE_AGE_BUCKETS columns, bounds 1, 5,
 * 10, 30, 60, 240 minutes); the marker row carries now (epoch s) as its
 * oldest age and whether agency_session exists as its tried. A
 * notification's holder is the channel of its last attempt that did not
 * succeed ("-" before the first); while that attempt is still open
 * (migration 0007: ok and finished_at NULL) the line's state is 3, "being
 * sent". Age: dossiers since received, cases since their last change,
 * notifications since created. The last row (stage -1) is always there and
 * carries now and the table check even when nothing is queued.
 *
 * Indexes: each branch names its states one by one (state = a OR state =
 * b), so the planner takes each from its partial index by a BitmapOr:
 * dossier_state_idx for dossiers, agency_case_{queued,sent,acked}_idx
 * (0020) and agency_case_parked_idx (0022) for cases, notification_due_idx
 * (0020) and notification_failed_idx (0022) for notifications. Neither the
 * dossiers nor the cases done are read (docs/operations.md, "Monitoring").
 */
static const mc_stmt_t stmt_queues = {"queues_lines", 0,
    "WITH items AS ("
    "SELECT 0 AS stage, ''::text AS holder, state::integer AS state, false AS tried,"
    "       received_at AS since"
    "  FROM dossier WHERE (state = " MC_SQL(MC_DOSSIER_RECEIVED) " AND department IS NULL)"
    "    OR state = " MC_SQL(MC_DOSSIER_WAITING_SUPPLEMENT)
    " UNION ALL "
    "SELECT 0, coalesce(c.agency, ''), 9, false, d.received_at"
    "  FROM dossier d LEFT JOIN agency_case c ON c.dossier_id = d.id AND c.step = 0"
    " WHERE d.state = " MC_SQL(MC_DOSSIER_PENDING_ACCEPTANCE)
    " UNION ALL "
    "SELECT 1, agency, state, false, updated_at"
    "  FROM agency_case WHERE state = " MC_SQL(MC_CASE_QUEUED) " OR state = " MC_SQL(MC_CASE_SENT)
    "    OR state = " MC_SQL(MC_CASE_ACKED) " OR state = " MC_SQL(MC_CASE_DEAD)
    "    OR state = " MC_SQL(MC_CASE_PAUSED)
    " UNION ALL "
    "SELECT 2, coalesce(f.channel, '-'), CASE WHEN f.running THEN " MC_SQL(NOTE_SENDING) " ELSE n.state END,"
    "       n.attempts > 0, n.created_at"
    "  FROM notification n LEFT JOIN LATERAL ("
    /* in flight: the last channel of sending (0021); else the latest attempt not ok */
    "       SELECT substring(n.sending FROM '[^,]*$') AS channel, true AS running"
    "        WHERE n.sending IS NOT NULL"
    "       UNION ALL"
    "       (SELECT a.channel, a.ok IS NULL AND a.finished_at IS NULL AS running"
    "         FROM notification_attempt a"
    "        WHERE a.notification_id = n.id AND a.ok IS NOT TRUE ORDER BY a.id DESC LIMIT 1)"
    "       LIMIT 1) f"
    "    ON true"
    " WHERE n.state = " MC_SQL(MC_NOTIFICATION_PENDING) " OR n.state = " MC_SQL(MC_NOTIFICATION_FAILED)
    "), aged AS (SELECT stage, holder, state, tried, extract(epoch FROM now() - since) AS age FROM items)"
    " SELECT stage, holder, state, tried, count(*), max(age)::bigint,"
    "        count(*) FILTER (WHERE age < 60), count(*) FILTER (WHERE age >= 60 AND age < 300),"
    "        count(*) FILTER (WHERE age >= 300 AND age < 600),"
    "        count(*) FILTER (WHERE age >= 600 AND age < 1800),"
    "        count(*) FILTER (WHERE age >= 1800 AND age < 3600),"
    "        count(*) FILTER (WHERE age >= 3600 AND age < 14400), count(*) FILTER (WHERE age >= 14400)"
    "   FROM aged GROUP BY 1, 2, 3, 4"
    " UNION ALL "
    "SELECT -1, '', 0, to_regclass('agency_session') IS NOT NULL, 0,"
    "       extract(epoch FROM now())::bigint, 0, 0, 0, 0, 0, 0, 0"
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

/* mc_queue_age_bucket_name - the buckets of stmt_queues, in its order */
const char *mc_queue_age_bucket_name(int bucket)
{
    static const char *const names[MC_QUEUE_AGE_BUCKETS] = {"0-1m",   "1-5m", "5-10m", "10-30m",
                                                            "30-60m", "1-4h", ">4h"};
    return bucket >= 0 && bucket < MC_QUEUE_AGE_BUCKETS ? names[bucket] : "?";
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
        for (int b = 0; b < MC_QUEUE_AGE_BUCKETS; b++)
            l->by_age[b] = strtol(PQgetvalue(res, i, 6 + b), NULL, 10);
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

/* mc_store_queues_read - the lines and, when the table exists, the sessions into q (inside
 * the snapshot) */
mc_store_rc_t mc_store_queues_read(mc_store_t *store, void *arg, mc_err_t *err)
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
    mc_store_rc_t rc = mc_store_snapshot(store, mc_store_queues_read, q, err);
    if (rc != MC_STORE_OK) {
        mc_queues_destroy(&q);
        return rc;
    }
    *out = q;
    return MC_STORE_OK;
}

/* mc_queues_clear - free the lists of q (not q) */
void mc_queues_clear(mc_queues_t *q)
{
    free(q->lines);
    free(q->sessions);
    q->lines = NULL;
    q->sessions = NULL;
    q->n_lines = q->n_sessions = 0;
}

/* mc_queues_destroy - free and NULL */
void mc_queues_destroy(mc_queues_t **queues)
{
    if (!queues || !*queues)
        return;
    mc_queues_clear(*queues);
    free(*queues);
    *queues = NULL;
}

/* --- notifications failed for good ------------------------------------------ */

/* the failed ones (notification_failed_idx), each with its last failed attempt; $1 a channel
 * or '' for all, $2 the most rows */
static const mc_stmt_t stmt_failed_list = {"queues_failed_list", 2,
    "SELECT n.id, d.code, n.kind, coalesce(a.channel, n.channel, '-'), n.attempts,"
    "       coalesce(a.error, ''), extract(epoch FROM coalesce(a.at, n.created_at))::bigint"
    "  FROM notification n JOIN dossier d ON d.id = n.dossier_id"
    "  LEFT JOIN LATERAL (SELECT t.channel, t.error, coalesce(t.finished_at, t.at) AS at"
    "                       FROM notification_attempt t"
    "                      WHERE t.notification_id = n.id AND t.ok IS NOT TRUE"
    "                      ORDER BY t.id DESC LIMIT 1) a ON true"
    " WHERE n.state = " MC_SQL(MC_NOTIFICATION_FAILED)
    "   AND ($1 = '' OR coalesce(a.channel, n.channel, '-') = $1)"
    " ORDER BY n.id LIMIT $2::bigint"};

/* the ones asked ($1 '{id,...}'), failed ones back to pending: one row per id asked, in its
 * order, with whether it was requeued now and its state before (NULL: no such id) */
static const mc_stmt_t stmt_retry_ids = {"queues_retry_ids", 1,
    "WITH r AS (UPDATE notification SET state = " MC_SQL(MC_NOTIFICATION_PENDING) ", attempts = 0,"
    "           next_attempt_at = now()"
    "           WHERE id = ANY($1::bigint[]) AND state = " MC_SQL(MC_NOTIFICATION_FAILED) " RETURNING id)"
    " SELECT w.id, r.id IS NOT NULL, n.state"
    "   FROM unnest($1::bigint[]) WITH ORDINALITY w(id, o)"
    "   LEFT JOIN r ON r.id = w.id LEFT JOIN notification n ON n.id = w.id ORDER BY w.o"};

/* every failed one back to pending: the ids requeued */
static const mc_stmt_t stmt_retry_all = {"queues_retry_all", 0,
    "UPDATE notification SET state = " MC_SQL(MC_NOTIFICATION_PENDING) ", attempts = 0,"
    " next_attempt_at = now() WHERE state = " MC_SQL(MC_NOTIFICATION_FAILED) " RETURNING id"};

/* error_class - an attempt's error without the "channel: " its channel put first and without
 * details after '(' or ';' (curl's texts, "http 500", strerror: never personal data) */
static void error_class(char *dst, size_t size, const char *error, const char *channel)
{
    size_t cl = strlen(channel);
    if (cl && strncmp(error, channel, cl) == 0 && error[cl] == ':' && error[cl + 1] == ' ')
        error += cl + 2;
    size_t n = strcspn(error, "(;\n");
    while (n > 0 && error[n - 1] == ' ')
        n--;
    if (n >= size)
        n = size - 1;
    while (n > 0 && ((unsigned char)error[n] & 0xC0) == 0x80) /* never cut a UTF-8 sequence */
        n--;
    memcpy(dst, error, n);
    dst[n] = '\0';
}

/* rows_ok - a statement's rows, or its failure classified into err (res cleared) */
static mc_store_rc_t rows_ok(mc_store_t *store, PGresult *res, const char *what, mc_err_t *err)
{
    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        return MC_STORE_OK;
    mc_store_rc_t rc = mc_store_classify(store, store->main, res, what, err);
    PQclear(res);
    return rc;
}

/* mc_store_notifications_failed - the failed ones, oldest first */
mc_store_rc_t mc_store_notifications_failed(mc_store_t *store, const char *channel, size_t max,
                                            mc_failed_notice_t **out, size_t *n, mc_err_t *err)
{
    *out = NULL;
    *n = 0;
    mc_store_rc_t rc = mc_store_connect(store, err);
    if (rc != MC_STORE_OK)
        return rc;
    char limit[MC_I64_TEXT];
    const char *p[2] = {channel ? channel : "", mc_store_i64(limit, sizeof limit, (int64_t)max)};
    PGresult *res = mc_store_exec(store, &stmt_failed_list, p, NULL, NULL, true);
    if ((rc = rows_ok(store, res, "notifications_failed", err)) != MC_STORE_OK)
        return rc;
    int rows = PQntuples(res);
    mc_failed_notice_t *list = calloc(rows ? (size_t)rows : 1, sizeof *list);
    if (!list) {
        PQclear(res);
        mc_err_add(err, "store: notifications failed: out of memory");
        return MC_STORE_FAILED;
    }
    for (int i = 0; i < rows; i++) {
        mc_failed_notice_t *f = &list[i];
        f->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        mc_store_copy_text(f->dossier_code, sizeof f->dossier_code, res, i, 1);
        mc_store_copy_text(f->kind, sizeof f->kind, res, i, 2);
        mc_store_copy_text(f->channel, sizeof f->channel, res, i, 3);
        f->attempts = atoi(PQgetvalue(res, i, 4));
        error_class(f->error_class, sizeof f->error_class, PQgetvalue(res, i, 5), f->channel);
        f->failed_at = strtoll(PQgetvalue(res, i, 6), NULL, 10);
    }
    PQclear(res);
    *out = list;
    *n = (size_t)rows;
    return MC_STORE_OK;
}

/* mc_store_notifications_retry - failed ones back to pending; a repeat changes nothing */
mc_store_rc_t mc_store_notifications_retry(mc_store_t *store, const int64_t *ids, size_t n_ids,
                                           bool all_failed, mc_failed_retry_t **out,
                                           size_t *n_out, mc_err_t *err)
{
    *out = NULL;
    *n_out = 0;
    mc_store_rc_t rc = mc_store_connect(store, err);
    if (rc != MC_STORE_OK)
        return rc;
    char *array = all_failed ? NULL : mc_store_id_array(ids, n_ids);
    if (!all_failed && !array) {
        mc_err_add(err, "store: notifications retry: out of memory");
        return MC_STORE_FAILED;
    }
    const char *p[1] = {array};
    /* one statement, and only failed rows change: repeating it after a lost answer is safe */
    PGresult *res = all_failed ? mc_store_exec(store, &stmt_retry_all, NULL, NULL, NULL, true)
                               : mc_store_exec(store, &stmt_retry_ids, p, NULL, NULL, true);
    free(array);
    if ((rc = rows_ok(store, res, "notifications_retry", err)) != MC_STORE_OK)
        return rc;
    int rows = PQntuples(res);
    mc_failed_retry_t *list = calloc(rows ? (size_t)rows : 1, sizeof *list);
    if (!list) {
        PQclear(res);
        mc_err_add(err, "store: notifications retry: out of memory");
        return MC_STORE_FAILED;
    }
    for (int i = 0; i < rows; i++) {
        list[i].id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        if (all_failed || PQgetvalue(res, i, 1)[0] == 't')
            list[i].outcome = MC_RETRY_REQUEUED;
        else
            list[i].outcome = PQgetisnull(res, i, 2) ? MC_RETRY_UNKNOWN : MC_RETRY_NOT_FAILED;
    }
    PQclear(res);
    *out = list;
    *n_out = (size_t)rows;
    return MC_STORE_OK;
}
