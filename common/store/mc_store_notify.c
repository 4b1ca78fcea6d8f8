/*
 * mc_store_notify - the notification queue (contract in mc_store_notify.h).
 *
 * Two short transactions per batch of notifications and none across a
 * send: the claim (lock up to a batch with SKIP LOCKED; per row ONE update
 * that counts the attempt, names its channels in flight in sending and
 * leases the row by moving next_attempt_at past the sends) and the record
 * (per row one attempt row per try, with its outcome, and one update that
 * decides and clears sending; rows locked in id order). The lease, not a
 * held row lock, is what keeps a second notify instance off a message
 * being sent; a crash costs a resend under the same message ids once the
 * lease runs out, and sending says which channels were left not knowing
 * (written as lost attempt rows by the claim that finds them). Retry and give-up are the
 * daemon's verdicts (mc_notice_retry_t), written as given.
 * Notification states in SQL: 0 pending, 1 sent, 2 failed for good
 * (migration 0002); attempt states: mc_attempt_state_t (migration 0007).
 */
#include "mc_store_notify.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "mc_store_int.h"
#include "mc_limits.h"

#define NOTIFY_MAX_ERROR 500 /* bytes of last_error / attempt error kept */

/* the channels of notification n that succeeded, in the order they first
 * did ("spool,sms"): what notification.channel reports once sent */
#define DONE_CHANNELS                                                                       \
    "(SELECT coalesce(string_agg(s.channel, ',' ORDER BY s.first), '') FROM"                \
    " (SELECT a.channel, min(a.id) AS first FROM notification_attempt a"                  \
    "   WHERE a.notification_id = n.id AND a.ok GROUP BY a.channel) s)"

/* the lock is taken in the CTE alone: FOR UPDATE cannot sit beside the
 * aggregates that flatten data and earlier attempts; the CTE reads the first
 * $1 entries of notification_due_idx (next_attempt_at, id) WHERE pending
 * (0020_hot_claims), not every due row */
static const mc_stmt_t stmt_claim = {"notify_claim", 1,
     "WITH c AS (SELECT id FROM notification WHERE state = " MC_SQL(MC_NOTIFICATION_PENDING)
     "           AND next_attempt_at <= now()"
     "           ORDER BY next_attempt_at, id LIMIT $1::integer FOR UPDATE SKIP LOCKED)"
     " SELECT n.id, n.kind, n.attempts, d.code, d.procedure_code, d.ward_code,"
     "  extract(epoch FROM d.due_at)::bigint, d.payload,"
     "  CASE jsonb_typeof(n.data->'missing')"
     "   WHEN 'array' THEN (SELECT coalesce(string_agg(x, '; '), '')"
     "                       FROM jsonb_array_elements_text(n.data->'missing') x)"
     "   ELSE coalesce(n.data->>'missing', '') END,"
     "  coalesce(n.data->>'reason', ''),"
     "  coalesce(n.data->>'new_due', ''),"
     "  " DONE_CHANNELS ","
     "  coalesce(n.sending, '') /* in flight: left by a claim whose lease ran out (0021) */,"
     "  d.rating_token::text,"
     "  coalesce(n.data->>'supplement_due', ''),"
     "  coalesce(n.data->>'old_due', ''),"
     "  coalesce((n.data->>'accept_due_at')::bigint, 0)"
     " FROM c JOIN notification n ON n.id = c.id JOIN dossier d ON d.id = n.dossier_id"
     " ORDER BY n.next_attempt_at, n.id"};
/* a claimed row is due, so the channels it has in flight ($2, its sending)
 * belong to a lease that ran out: one lost attempt row each (0007's state) */
static const mc_stmt_t stmt_lost = {"notify_lost", 2,
     "INSERT INTO notification_attempt (notification_id, channel, ok, finished_at, error)"
     " SELECT $1::bigint, c, NULL, now(), 'outcome unknown: not recorded before the send lease ran out'"
     " FROM unnest(string_to_array($2, ',')) c"};
/* the attempt counted, the lease, and the channels in flight: one row write,
 * no attempt row before the send (0021); now() is when the attempt started */
static const mc_stmt_t stmt_lease = {"notify_lease", 3,
     "UPDATE notification SET attempts = attempts + 1,"
     " next_attempt_at = now() + $2::integer * interval '1 millisecond', sending = nullif($3, '')"
     " WHERE id = $1::bigint AND state = " MC_SQL(MC_NOTIFICATION_PENDING) " RETURNING attempts, now()::text"};
/* one try's outcome, written once; a late outcome of an overtaken claim is
 * written too and counts (DONE_CHANNELS) */
static const mc_stmt_t stmt_add_try = {"notify_add_try", 5,
     "INSERT INTO notification_attempt (notification_id, channel, ok, error, at, finished_at)"
     " VALUES ($1::bigint, $2, $3::boolean, $4, coalesce($5::timestamptz, now()), now())"};
static const mc_stmt_t stmt_lock = {"notify_lock", 1,
     "SELECT n.state, n.attempts, " DONE_CHANNELS
     " FROM notification n WHERE n.id = $1::bigint FOR UPDATE"};
static const mc_stmt_t stmt_sent = {"notify_sent", 2,
     "UPDATE notification SET state = " MC_SQL(MC_NOTIFICATION_SENT) ", channel = $2,"
     " sent_at = now(), last_error = NULL, sending = NULL WHERE id = $1::bigint"};
static const mc_stmt_t stmt_retry = {"notify_retry", 4,
     "UPDATE notification SET"
     " next_attempt_at = now() + $2::integer * interval '1 millisecond',"
     " last_error = $3, channel = nullif($4, ''), sending = NULL WHERE id = $1::bigint"};
static const mc_stmt_t stmt_failed = {"notify_failed", 3,
     "UPDATE notification SET state = " MC_SQL(MC_NOTIFICATION_FAILED) ", last_error = $2,"
     " channel = nullif($3, ''), sending = NULL WHERE id = $1::bigint"};

/* mc_notice_clear - free and zero */
void mc_notice_clear(mc_notice_t *notice)
{
    if (!notice)
        return;
    free(notice->payload);
    free(notice->missing);
    free(notice->reason);
    free(notice->new_due);
    free(notice->old_due);
    memset(notice, 0, sizeof *notice);
}

/* mc_store_notify_claim - BEGIN and lock due notifications */
mc_store_rc_t mc_store_notify_claim(mc_store_t *store, int max, mc_notice_t *notices,
                                    int *count, mc_err_t *err)
{
    *count = 0;
    char max_text[16];
    snprintf(max_text, sizeof max_text, "%d", max > 0 ? max : 1);
    const char *p[1] = {max_text};
    PGresult *res = NULL;
    mc_store_rc_t rc = mc_store_claim_begin(store, &stmt_claim, p, &res, err);
    if (rc != MC_STORE_OK)
        return rc;
    int n = PQntuples(res);
    for (int i = 0; i < n && i < max; i++) {
        mc_notice_t *m = &notices[i];
        memset(m, 0, sizeof *m);
        m->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        mc_store_copy_text(m->kind, sizeof m->kind, res, i, 1);
        m->attempts = atoi(PQgetvalue(res, i, 2));
        mc_store_copy_text(m->code, sizeof m->code, res, i, 3);
        mc_store_copy_text(m->procedure_code, sizeof m->procedure_code, res, i, 4);
        mc_store_copy_text(m->ward_code, sizeof m->ward_code, res, i, 5);
        m->due_at = PQgetisnull(res, i, 6) ? 0 : strtoll(PQgetvalue(res, i, 6), NULL, 10);
        m->missing = strdup(PQgetvalue(res, i, 8));
        m->reason = strdup(PQgetvalue(res, i, 9));
        m->new_due = strdup(PQgetvalue(res, i, 10));
        m->old_due = strdup(PQgetvalue(res, i, 15));
        mc_store_copy_text(m->done_channels, sizeof m->done_channels, res, i, 11);
        mc_store_copy_text(m->unknown_channels, sizeof m->unknown_channels, res, i, 12);
        mc_store_copy_text(m->rating_token, sizeof m->rating_token, res, i, 13);
        mc_store_copy_text(m->supplement_due, sizeof m->supplement_due, res, i, 14);
        m->accept_due_at = strtoll(PQgetvalue(res, i, 16), NULL, 10);
        if (mc_store_unescape(res, i, 7, &m->payload, &m->payload_len) != 0 || !m->missing ||
            !m->reason || !m->new_due || !m->old_due) {
            for (int j = 0; j <= i; j++)
                mc_notice_clear(&notices[j]);
            PQclear(res);
            mc_store_rollback(store);
            mc_err_add(err, "store: notify_claim: out of memory");
            return MC_STORE_FAILED;
        }
        (*count)++;
    }
    PQclear(res);
    return MC_STORE_OK;
}

/* list_has - is name one of the comma-separated items of list? */
static bool list_has(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == len && strncmp(p, name, n) == 0)
            return true;
        p = comma ? comma + 1 : p + n;
    }
    return false;
}

/* exec_update - run one write statement of the open transaction */
static mc_store_rc_t exec_update(mc_store_t *store, const mc_stmt_t *stmt,
                                 const char *const *params, mc_err_t *err)
{
    PGresult *res = mc_store_exec(store, stmt, params, NULL, NULL, false);
    mc_store_rc_t rc = MC_STORE_OK;
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = mc_store_classify(store, store->main, res, stmt->name, err);
    PQclear(res);
    return rc;
}

/* exec_row - run a statement of the open transaction that returns one row
 * (*res, PQclear it); MC_STORE_NOT_FOUND when it returned none */
static mc_store_rc_t exec_row(mc_store_t *store, const mc_stmt_t *stmt,
                              const char *const *params, PGresult **res, mc_err_t *err)
{
    *res = mc_store_exec(store, stmt, params, NULL, NULL, false);
    if (PQresultStatus(*res) != PGRES_TUPLES_OK) {
        mc_store_rc_t rc = mc_store_classify(store, store->main, *res, stmt->name, err);
        PQclear(*res);
        *res = NULL;
        return rc;
    }
    if (PQntuples(*res) != 1) {
        PQclear(*res);
        *res = NULL;
        return MC_STORE_NOT_FOUND;
    }
    return MC_STORE_OK;
}

/* mc_store_notify_start - record lost attempts; count, lease and name the channels in flight */
mc_store_rc_t mc_store_notify_start(mc_store_t *store, mc_notice_t *notice,
                                    mc_notice_try_t *tries, size_t n_tries, int lease_ms,
                                    const mc_notice_retry_t *if_lost,
                                    mc_notice_outcome_t *outcome, mc_err_t *err)
{
    char id_text[MC_I64_TEXT], lease_text[16];
    snprintf(id_text, sizeof id_text, "%" PRId64, notice->id);
    snprintf(lease_text, sizeof lease_text, "%d", lease_ms);
    const char *p_lost[2] = {id_text, notice->unknown_channels};
    mc_store_rc_t rc = MC_STORE_OK;
    /* the claim read what is in flight (unknown_channels): nothing there, nothing lost */
    if (notice->unknown_channels[0] && (rc = exec_update(store, &stmt_lost, p_lost, err)) != MC_STORE_OK)
        return rc;
    if (if_lost->give_up && notice->unknown_channels[0]) {
        /* the last allowed attempt was lost: it counted (the daemon's verdict) */
        *outcome = MC_NOTICE_FAILED;
        const char *p[3] = {id_text,
                            "the last attempt was lost (crash before its outcome was recorded)"
                            " and max_attempts is reached",
                            notice->done_channels};
        return exec_update(store, &stmt_failed, p, err);
    }
    char sending[sizeof notice->done_channels] = "";
    for (size_t i = 0; i < n_tries; i++) {
        size_t used = strlen(sending);
        snprintf(sending + used, sizeof sending - used, "%s%s", used ? "," : "", tries[i].channel);
    }
    PGresult *res = NULL;
    const char *p_lease[3] = {id_text, lease_text, sending};
    if ((rc = exec_row(store, &stmt_lease, p_lease, &res, err)) != MC_STORE_OK) {
        if (rc == MC_STORE_NOT_FOUND)
            mc_err_add(err, "store: notify_lease: notification %" PRId64 " is not pending", notice->id);
        return rc == MC_STORE_NOT_FOUND ? MC_STORE_FAILED : rc;
    }
    notice->attempts = atoi(PQgetvalue(res, 0, 0));
    snprintf(notice->started_at, sizeof notice->started_at, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    for (size_t i = 0; i < n_tries; i++)
        tries[i].state = MC_ATTEMPT_IN_PROGRESS;
    *outcome = MC_NOTICE_SENDING;
    return MC_STORE_OK;
}

/* mc_store_notify_end - COMMIT or ROLLBACK the claim's transaction */
mc_store_rc_t mc_store_notify_end(mc_store_t *store, bool ok, mc_err_t *err)
{
    if (!store->main)
        return MC_STORE_UNAVAILABLE; /* the connection went: the server rolled back */
    if (!ok) {
        mc_store_rollback(store);
        return MC_STORE_OK;
    }
    return mc_store_commit(store, err);
}

/* all_done - has every channel of wanted succeeded (is it in done)? */
static bool all_done(const char *wanted, const char *done)
{
    for (const char *p = wanted; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), p);
        if (!list_has(done, name))
            return false;
        p = comma ? comma + 1 : p + n;
    }
    return true;
}

/* record_in_tx - the outcomes and the decision, inside the record's transaction */
static mc_store_rc_t record_in_tx(mc_store_t *store, const mc_notice_t *notice,
                                  const mc_notice_try_t *tries, size_t n_tries,
                                  const char *wanted, const mc_notice_retry_t *if_unsent,
                                  mc_notice_outcome_t *outcome, mc_err_t *err)
{
    char id_text[MC_I64_TEXT];
    snprintf(id_text, sizeof id_text, "%" PRId64, notice->id);
    char last_error[4 * (NOTIFY_MAX_ERROR + 32)] = "";
    mc_store_rc_t rc;
    for (size_t i = 0; i < n_tries; i++) {
        const mc_notice_try_t *t = &tries[i];
        if (t->state != MC_ATTEMPT_OK && t->state != MC_ATTEMPT_FAILED)
            continue; /* not sent after all: no row; unless all is done the decision retries it */
        bool ok = t->state == MC_ATTEMPT_OK;
        char error[NOTIFY_MAX_ERROR + 1];
        snprintf(error, sizeof error, "%s", t->error ? t->error : "failed");
        const char *p[5] = {id_text, t->channel, ok ? "true" : "false", ok ? NULL : error,
                            notice->started_at[0] ? notice->started_at : NULL};
        if ((rc = exec_update(store, &stmt_add_try, p, err)) != MC_STORE_OK)
            return rc;
        if (!ok) {
            size_t used = strlen(last_error);
            int w = snprintf(last_error + used, sizeof last_error - used, "%s%s: %s",
                             used ? "; " : "", t->channel, error);
            (void)w; /* truncation is fine: the first errors are the useful ones */
        }
    }
    /* decide on what the store holds now: a late success of an older,
     * overtaken claim counts as much as this one's */
    PGresult *res = NULL;
    const char *p_id[1] = {id_text};
    if ((rc = exec_row(store, &stmt_lock, p_id, &res, err)) != MC_STORE_OK) {
        if (rc != MC_STORE_NOT_FOUND)
            return rc;
        /* deleted meanwhile: nothing is left to decide, and failing here
         * would hold back the rest of the batch for good */
        *outcome = MC_NOTICE_OVERTAKEN;
        return MC_STORE_OK;
    }
    bool ours = atoi(PQgetvalue(res, 0, 0)) == 0 /* pending */ &&
                atoi(PQgetvalue(res, 0, 1)) == notice->attempts;
    char done[128];
    snprintf(done, sizeof done, "%s", PQgetvalue(res, 0, 2));
    PQclear(res);
    if (!ours) {
        *outcome = MC_NOTICE_OVERTAKEN;
        return MC_STORE_OK;
    }
    if (all_done(wanted, done)) {
        *outcome = MC_NOTICE_SENT;
        const char *p[2] = {id_text, done};
        return exec_update(store, &stmt_sent, p, err);
    }
    if (last_error[0] == '\0')
        snprintf(last_error, sizeof last_error, "not every channel was tried");
    if (if_unsent->give_up) {
        *outcome = MC_NOTICE_FAILED;
        const char *p[3] = {id_text, last_error, done};
        return exec_update(store, &stmt_failed, p, err);
    }
    *outcome = MC_NOTICE_RETRY;
    char delay_text[16];
    snprintf(delay_text, sizeof delay_text, "%d", if_unsent->delay_ms);
    const char *p[4] = {id_text, delay_text, last_error, done};
    return exec_update(store, &stmt_retry, p, err);
}

/* by_id - qsort order of record items: by notification id */
static int by_id(const void *a, const void *b)
{
    int64_t x = (*(mc_notice_record_t *const *)a)->notice->id;
    int64_t y = (*(mc_notice_record_t *const *)b)->notice->id;
    return (x > y) - (x < y);
}

/* mc_store_notify_record_batch - BEGIN, every item's outcomes and decision in id order, COMMIT */
mc_store_rc_t mc_store_notify_record_batch(mc_store_t *store, mc_notice_record_t *items,
                                           size_t n, mc_err_t *err)
{
    mc_notice_record_t **order = malloc((n ? n : 1) * sizeof *order);
    if (!order) {
        mc_err_add(err, "store: notify_record: out of memory");
        return MC_STORE_FAILED;
    }
    /* rows are locked in id order, whatever order they were claimed in: two
     * instances recording overlapping batches (an overtaken claim) then wait
     * for each other instead of deadlocking */
    for (size_t i = 0; i < n; i++)
        order[i] = &items[i];
    qsort(order, n, sizeof *order, by_id);
    mc_store_rc_t rc = mc_store_begin(store, MC_TX_WRITE, err);
    if (rc != MC_STORE_OK) {
        free(order);
        return rc;
    }
    for (size_t i = 0; rc == MC_STORE_OK && i < n; i++) {
        mc_notice_record_t *r = order[i];
        rc = record_in_tx(store, r->notice, r->tries, r->n_tries, r->wanted, &r->if_unsent,
                          &r->outcome, err);
    }
    free(order);
    mc_store_rc_t end = mc_store_notify_end(store, rc == MC_STORE_OK, err);
    return rc != MC_STORE_OK ? rc : end;
}

/* mc_store_notify_record - one notice: a batch of one */
mc_store_rc_t mc_store_notify_record(mc_store_t *store, const mc_notice_t *notice,
                                     const mc_notice_try_t *tries, size_t n_tries,
                                     const char *wanted, const mc_notice_retry_t *if_unsent,
                                     mc_notice_outcome_t *outcome, mc_err_t *err)
{
    mc_notice_record_t item = {notice, tries, n_tries, wanted, *if_unsent, MC_NOTICE_RETRY};
    mc_store_rc_t rc = mc_store_notify_record_batch(store, &item, 1, err);
    *outcome = item.outcome;
    return rc;
}
