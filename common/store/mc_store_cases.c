/*
 * mc_store_cases - agency cases: claim, ack, result, dead letters
 * (contract in mc_store_cases.h).
 *
 * The simple transitions (claim, ack, dead letter, requeue, and the session
 * calls: resync, renew (which also marks the sessions it no longer lists
 * disconnected), lease expiry) are each ONE statement whose data-modifying
 * CTEs change the case and append the event
 * together: a statement is atomic, so they need no explicit transaction.
 * Recording a result branches on what is stored, so it is an explicit
 * BEGIN ... COMMIT holding the case and its dossier locked: the store judges
 * only the verdict (identity, revision, idempotency); what an accepted
 * result does is the daemon's (mc_result_decide_fn, lienthong_decide.c
 * lienthong_decide_result), written here as planned. Acks and results go
 * in batches (mc_store_cases_batch; mc_store_cases_result is a batch of
 * one): one transaction, libpq pipeline mode, two round trips per "wave"
 * (locks and reads, then writes; COMMIT with the last), whatever the
 * number of items, so PostgreSQL's latency is paid per batch, not per
 * message.
 * The resend delays are the daemon's (bound as a bigint[]), not decided here.
 */
#include "mc_store_cases.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "mc_event.h"
#include "mc_log.h"
#include "mc_store_int.h"
#include "mc_limits.h"

static const mc_stmt_t stmt_dead = {"cases_dead", 3,
     "WITH c AS (SELECT id FROM agency_case WHERE agency = $1 AND state = " MC_SQL(MC_CASE_SENT)
     "   AND next_attempt_at <= now() AND attempts >= $2::integer FOR UPDATE SKIP LOCKED),"
     " d AS (UPDATE agency_case a SET state = " MC_SQL(MC_CASE_DEAD) ", updated_at = now() FROM c WHERE a.id = c.id"
     "   RETURNING a.dossier_id, a.step, a.steps_total, a.attempts),"
     " e AS (INSERT INTO dossier_event (dossier_id, at, actor, kind, detail)"
     "   SELECT d.dossier_id, now(), 'lienthong', 'dead_letter',"
     "   format($3::text, d.step, d.steps_total, $1::text, d.attempts) FROM d)"
     " SELECT count(*) FROM d"};
/* $1 agency, $2 limit, $3 resend delays (ms), $4 max attempts, $5 event text.
 * The candidates are the $2 oldest of each claimable range, read from the
 * indexes that hold only those rows (0020_hot_claims: agency_case_queued_idx,
 * agency_case_sent_idx), never from the agency's held cases; the oldest $2
 * of them are locked, the predicate checked again on each locked row (a
 * case acked or dead-lettered meanwhile is not sent); sent cases at $4
 * attempts are stmt_dead's */
static const mc_stmt_t stmt_claim = {"cases_claim", 5,
     "WITH q AS (SELECT id FROM agency_case WHERE agency = $1 AND state = " MC_SQL(MC_CASE_QUEUED)
     "   ORDER BY id LIMIT $2::integer),"
     " r AS (SELECT id FROM agency_case WHERE agency = $1 AND state = " MC_SQL(MC_CASE_SENT)
     "   AND next_attempt_at <= now() AND attempts < $4::integer ORDER BY id LIMIT $2::integer),"
     " c AS (SELECT id FROM agency_case WHERE id = ANY (ARRAY(SELECT id FROM q UNION ALL"
     "   SELECT id FROM r)) AND agency = $1 AND (state = " MC_SQL(MC_CASE_QUEUED) " OR (state = "
     MC_SQL(MC_CASE_SENT) " AND next_attempt_at <= now() AND attempts < $4::integer))"
     "   ORDER BY id LIMIT $2::integer FOR UPDATE SKIP LOCKED),"
     " u AS (UPDATE agency_case a SET state = " MC_SQL(MC_CASE_SENT) ", attempts = a.attempts + 1,"
     "   next_attempt_at = now() + interval '1 millisecond' * coalesce(($3::bigint[])[a.attempts + 1],"
     "     ($3::bigint[])[cardinality($3::bigint[])]),"
     "   updated_at = now() FROM c WHERE a.id = c.id"
     "   RETURNING a.id, a.dossier_id, a.case_id, a.step, a.steps_total, a.task, a.attempts,"
     "   a.due_at, a.revision),"
     " e AS (INSERT INTO dossier_event (dossier_id, at, actor, kind, detail)"
     "   SELECT u.dossier_id, now(), 'lienthong', 'sent_to_agency',"
     "   format($5::text, u.step, u.steps_total, $1::text, left(u.task, 60)) FROM u"
     "   WHERE u.attempts = 1)"
     " SELECT u.id, u.dossier_id, u.case_id, u.step, u.steps_total, u.task, u.attempts,"
     "   coalesce(extract(epoch FROM u.due_at)::bigint, 0), d.code, d.procedure_code,"
     "   CASE WHEN p.step IS NULL OR p.step = min(p.step) OVER (PARTITION BY u.id)"
     "   THEN d.payload END, u.revision,"
     "   p.step, p.agency, coalesce(p.outcome, 0), p.result"
     " FROM u JOIN dossier d ON d.id = u.dossier_id"
     " LEFT JOIN agency_case p ON p.dossier_id = u.dossier_id AND p.step BETWEEN 1 AND u.step - 1"
     "   AND p.state = " MC_SQL(MC_CASE_DONE)
     " ORDER BY u.id, p.step"};
/* the lease part the session statements share: make the session or renew
 * it (lease_until never moves back), never another agency's session;
 * ready_etc is the new value of ready and any further assignments */
#define SESSION_UPSERT(session, agency, epoch, lease_ms, ready)                                 \
    "INSERT INTO agency_session (session, agency, hub_epoch, ready, lease_until)"               \
    " SELECT " session ", " agency ", " epoch "::bigint, " ready ","                             \
    " now() + interval '1 millisecond' * " lease_ms "::integer"
#define SESSION_ON_CONFLICT(ready_etc)                                                           \
    " ON CONFLICT (session) DO UPDATE SET hub_epoch = EXCLUDED.hub_epoch, connected = true,"     \
    " ready = " ready_etc ", seen_at = now(),"                                                       \
    " lease_until = greatest(agency_session.lease_until, EXCLUDED.lease_until)"                 \
    " WHERE agency_session.agency = EXCLUDED.agency"

/* $1 case_id, $2 agency, $3 session, $4 hub epoch, $5 lease_ms, $6 revision (0 = current).
 * sent (2), dead (5) or queued again after a lease ran out (1, attempts > 0)
 * → acked (3); acked under another session → this one (no event) */
static const mc_stmt_t stmt_ack = {"cases_ack", 7,
     "WITH c AS (SELECT id, agency, state, revision, attempts, lease_session FROM agency_case"
     "   WHERE case_id = $1 FOR UPDATE),"
     " a AS (UPDATE agency_case k SET state = " MC_SQL(MC_CASE_ACKED) ", lease_session = $3,"
     "   updated_at = CASE WHEN c.state = " MC_SQL(MC_CASE_ACKED) " THEN k.updated_at ELSE now() END FROM c"
     "   WHERE k.id = c.id AND c.agency = $2 AND ($6::integer = 0 OR $6::integer = c.revision)"
     "   AND (c.state IN (" MC_SQL(MC_CASE_SENT) ", " MC_SQL(MC_CASE_DEAD) ") OR (c.state = " MC_SQL(MC_CASE_QUEUED) " AND c.attempts > 0)"
     "     OR (c.state = " MC_SQL(MC_CASE_ACKED) " AND c.lease_session IS DISTINCT FROM $3))"
     "   RETURNING k.dossier_id, k.step, k.steps_total, c.state AS was),"
     " s AS (" SESSION_UPSERT("$3", "$2", "$4", "$5", "false") " FROM a"
     SESSION_ON_CONFLICT("agency_session.ready") "),"
     " p AS (UPDATE dossier SET state = " MC_SQL(MC_DOSSIER_IN_PROGRESS) " FROM a WHERE dossier.id = a.dossier_id"
     "   AND a.step = 1 AND a.was <> " MC_SQL(MC_CASE_ACKED) " AND dossier.state = " MC_SQL(MC_DOSSIER_ROUTED) " RETURNING dossier.id),"
     " e AS (INSERT INTO dossier_event (dossier_id, at, actor, kind, detail)"
     "   SELECT a.dossier_id, now(), $2, 'agency_received', format($7::text, a.step,"
     "   a.steps_total) FROM a WHERE a.was <> " MC_SQL(MC_CASE_ACKED) ")"
     " SELECT c.agency, c.state, c.revision, (SELECT count(*) FROM a WHERE a.was <> " MC_SQL(MC_CASE_ACKED) "),"
     "   (SELECT count(*) FROM p) FROM c"};
/* $1 agency, $2 session, $3 hub epoch, $4 lease_ms, $5 held case_ids, $6 their revisions.
 * Nothing changes unless the session is this agency's (s has a row). */
static const mc_stmt_t stmt_resync = {"sessions_resync", 7,
     "WITH s AS (" SESSION_UPSERT("$2", "$1", "$3", "$4", "true")
     SESSION_ON_CONFLICT("true") " RETURNING 1),"
     " h AS (SELECT DISTINCT u.case_id, greatest(u.revision, 1) AS revision"
     "   FROM unnest($5::text[], $6::integer[]) AS u(case_id, revision)),"
     " r AS (UPDATE agency_case k SET state = " MC_SQL(MC_CASE_QUEUED) ", lease_session = NULL, next_attempt_at = NULL,"
     "   updated_at = now() WHERE k.state = " MC_SQL(MC_CASE_ACKED) " AND k.lease_session = $2 AND k.agency = $1"
     "   AND EXISTS (SELECT 1 FROM s)"
     "   AND NOT EXISTS (SELECT 1 FROM h WHERE h.case_id = k.case_id AND h.revision = k.revision)"
     "   RETURNING k.dossier_id, k.step, k.steps_total),"
     " t AS (UPDATE agency_case k SET lease_session = $2 FROM h"
     "   WHERE k.case_id = h.case_id AND k.revision = h.revision AND k.state = " MC_SQL(MC_CASE_ACKED)
     "   AND k.agency = $1 AND k.lease_session IS DISTINCT FROM $2 AND EXISTS (SELECT 1 FROM s)"
     "   RETURNING k.id),"
     " e AS (INSERT INTO dossier_event (dossier_id, at, actor, kind, detail)"
     "   SELECT r.dossier_id, now(), $1, 'not_held', format($7::text, r.step, r.steps_total)"
     "   FROM r)"
     " SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM r),"
     "   (SELECT count(*) FROM agency_case k JOIN h ON h.case_id = k.case_id"
     "    AND h.revision = k.revision WHERE k.state = " MC_SQL(MC_CASE_ACKED) " AND k.agency = $1)"};
/* $1 hub epoch, $2 lease_ms, $3 sessions, $4 agencies, $5 ready, $6 credit, $7 in_flight */
static const mc_stmt_t stmt_renew = {"sessions_renew", 7,
     "WITH u AS (SELECT x.session, min(x.agency) AS agency, bool_or(x.ready) AS ready,"
     "   least(sum(x.credit), 1000000)::integer AS credit,"
     "   least(sum(x.in_flight), 1000000)::integer AS in_flight"
     "   FROM unnest($3::text[], $4::text[], $5::boolean[], $6::integer[], $7::integer[])"
     "   AS x(session, agency, ready, credit, in_flight)"
     "   GROUP BY x.session HAVING count(DISTINCT x.agency) = 1),"
     " r AS (INSERT INTO agency_session (session, agency, hub_epoch, ready, credit, in_flight,"
     "   lease_until) SELECT u.session, u.agency, $1::bigint, u.ready, u.credit, u.in_flight,"
     "   now() + interval '1 millisecond' * $2::integer FROM u"
     SESSION_ON_CONFLICT("EXCLUDED.ready, credit = EXCLUDED.credit, in_flight = EXCLUDED.in_flight")
     " RETURNING 1),"
     " d AS (UPDATE agency_session SET connected = false, ready = false, credit = 0, in_flight = 0"
     "   WHERE connected AND ((hub_epoch = $1::bigint AND session <> ALL ($3::text[]))"
     "   OR lease_until < now()) RETURNING 1)"
     " SELECT (SELECT count(*) FROM r), (SELECT count(*) FROM d)"};
/* $1 limit: acked (3) cases whose lease ran out → queued (1) */
static const mc_stmt_t stmt_expire = {"sessions_expire", 2,
     "WITH x AS (SELECT c.id FROM agency_case c LEFT JOIN agency_session s"
     "   ON s.session = c.lease_session AND s.agency = c.agency"
     "   WHERE c.state = " MC_SQL(MC_CASE_ACKED) " AND (s.session IS NULL OR s.lease_until < now())"
     "   ORDER BY c.id LIMIT $1::integer FOR UPDATE OF c SKIP LOCKED),"
     " u AS (UPDATE agency_case a SET state = " MC_SQL(MC_CASE_QUEUED) ", lease_session = NULL, next_attempt_at = NULL,"
     "   updated_at = now() FROM x WHERE a.id = x.id"
     "   RETURNING a.dossier_id, a.step, a.steps_total, a.agency),"
     " e AS (INSERT INTO dossier_event (dossier_id, at, actor, kind, detail)"
     "   SELECT u.dossier_id, now(), 'lienthong', 'lease_expired',"
     "   format($2::text, u.step, u.steps_total, u.agency) FROM u),"
     " g AS (DELETE FROM agency_session WHERE lease_until < now() - interval '1 day')"
     " SELECT count(*) FROM u"};
/* the dossier first: intake's withdraw and supplement lock the dossier and
 * then its cases, so taking them in the other order here could deadlock */
static const mc_stmt_t stmt_lock_dossier_of = {"cases_lock_dossier", 1,
     "SELECT d.id FROM dossier d WHERE d.id = (SELECT dossier_id FROM agency_case"
     " WHERE case_id = $1) FOR NO KEY UPDATE"};
static const mc_stmt_t stmt_lock_case = {"cases_lock", 1,
     "SELECT c.id, c.agency, c.state, c.step, c.steps_total, coalesce(c.outcome, 0), c.result,"
     " c.dossier_id, d.code, d.state, c.revision, c.attempts, d.supplement_requests,"
     " d.procedure_code"
     " FROM agency_case c JOIN dossier d ON d.id = c.dossier_id"
     " WHERE c.case_id = $1 FOR NO KEY UPDATE OF c, d"};
static const mc_stmt_t stmt_set_case = {"cases_set", 4,
     "UPDATE agency_case SET state = $2::smallint, outcome = $3::smallint, result = $4,"
     " next_attempt_at = NULL, updated_at = now() WHERE id = $1::bigint"};
static const mc_stmt_t stmt_event = {"cases_event", 4,
     "INSERT INTO dossier_event (dossier_id, at, actor, kind, detail)"
     " VALUES ($1::bigint, now(), $2, $3, $4)"};
/* $1 case_id: the step after it (none after the last), locked */
static const mc_stmt_t stmt_next_step_of = {"cases_next_step_of", 1,
     "SELECT n.id, n.agency, n.time_limit, n.time_unit, n.state FROM agency_case c"
     " JOIN agency_case n ON n.dossier_id = c.dossier_id AND n.step = c.step + 1"
     " WHERE c.case_id = $1 AND c.step < c.steps_total FOR UPDATE OF n"};
static const mc_stmt_t stmt_queue_step = {"cases_queue_step", 2,
     "UPDATE agency_case SET state = " MC_SQL(MC_CASE_QUEUED) ", attempts = 0, next_attempt_at = NULL,"
     " due_at = to_timestamp($2::bigint), updated_at = now() WHERE id = $1::bigint AND state = " MC_SQL(MC_CASE_PLANNED)};
static const mc_stmt_t stmt_dossier_progress = {"cases_dossier_progress", 1,
     "UPDATE dossier SET state = " MC_SQL(MC_DOSSIER_IN_PROGRESS) " WHERE id = $1::bigint AND state = " MC_SQL(MC_DOSSIER_ROUTED)};
static const mc_stmt_t stmt_dossier_ready = {"cases_dossier_ready", 1,
     "UPDATE dossier SET state = " MC_SQL(MC_DOSSIER_RESULT_READY) ", result_at = now() WHERE id = $1::bigint"};
static const mc_stmt_t stmt_dossier_refused = {"cases_dossier_refused", 1,
     "UPDATE dossier SET state = " MC_SQL(MC_DOSSIER_REFUSED) " WHERE id = $1::bigint"};
/* $2: the applicant's deadline for the one supplement (0015_supplement_once) */
static const mc_stmt_t stmt_dossier_paused = {"cases_dossier_paused", 2,
     "UPDATE dossier SET state = " MC_SQL(MC_DOSSIER_WAITING_SUPPLEMENT) ", paused_at = now(),"
     " supplement_requests = supplement_requests + 1, supplement_due_at = to_timestamp($2::bigint)"
     " WHERE id = $1::bigint"};
/* $1 dossier, $2 accepted at, $3 counted from, $4 due: only a pending one (9) becomes RECEIVED (1) */
static const mc_stmt_t stmt_dossier_accepted = {"cases_dossier_accepted", 4,
     "UPDATE dossier SET state = " MC_SQL(MC_DOSSIER_RECEIVED) ", accepted_at = to_timestamp($2::bigint),"
     " counted_from = to_timestamp($3::bigint), due_at = to_timestamp($4::bigint)"
     " WHERE id = $1::bigint AND state = " MC_SQL(MC_DOSSIER_PENDING_ACCEPTANCE)};
static const mc_stmt_t stmt_cancel_later = {"cases_cancel_later", 2,
     "UPDATE agency_case SET state = " MC_SQL(MC_CASE_CANCELLED) ", next_attempt_at = NULL, updated_at = now()"
     " WHERE dossier_id = $1::bigint AND step > $2::integer AND state IN (" MC_SQL(MC_CASE_PLANNED) ", " MC_SQL(MC_CASE_QUEUED) ", " MC_SQL(MC_CASE_SENT) ", " MC_SQL(MC_CASE_ACKED) ", " MC_SQL(MC_CASE_PAUSED) ")"};
static const mc_stmt_t stmt_notify = {"cases_notify", 4,
     "INSERT INTO notification (dossier_id, kind, dedupe_key, data)"
     " VALUES ($1::bigint, $2, $3, $4::jsonb) ON CONFLICT (dedupe_key) DO NOTHING"};
/* $1 case_id, $2 kind: the events of kind of the case's dossier (dedupe numbering) */
static const mc_stmt_t stmt_count_events_of = {"cases_count_events_of", 2,
     "SELECT count(*) FROM dossier_event WHERE dossier_id ="
     " (SELECT dossier_id FROM agency_case WHERE case_id = $1) AND kind = $2"};
static const mc_stmt_t stmt_dead_list = {"cases_dead_list", 1,
     "SELECT c.case_id, d.code, c.agency, c.step, c.steps_total, c.attempts,"
     " extract(epoch FROM c.updated_at)::bigint FROM agency_case c"
     " JOIN dossier d ON d.id = c.dossier_id WHERE c.state = " MC_SQL(MC_CASE_DEAD)
     " ORDER BY c.updated_at, c.id LIMIT $1::integer"};
/* $1 case_id: dead (5) → queued (1), attempts 0; acked (3) → queued, attempts kept */
static const mc_stmt_t stmt_requeue = {"cases_requeue", 3,
     "WITH c AS (SELECT id, state FROM agency_case WHERE case_id = $1 AND state IN (" MC_SQL(MC_CASE_ACKED) ", " MC_SQL(MC_CASE_DEAD) ")"
     "   FOR UPDATE),"
     " r AS (UPDATE agency_case k SET state = " MC_SQL(MC_CASE_QUEUED) ","
     "   attempts = CASE WHEN c.state = " MC_SQL(MC_CASE_DEAD) " THEN 0 ELSE k.attempts END, next_attempt_at = NULL,"
     "   lease_session = NULL, updated_at = now() FROM c WHERE k.id = c.id"
     "   RETURNING k.dossier_id, k.step, k.steps_total, k.agency, c.state AS was),"
     " e AS (INSERT INTO dossier_event (dossier_id, at, actor, kind, detail)"
     "   SELECT r.dossier_id, now(), 'operator', 'requeued', format(CASE WHEN r.was = "
     MC_SQL(MC_CASE_DEAD) " THEN $2::text ELSE $3::text END, r.step, r.steps_total, r.agency)"
     "   FROM r)"
     " SELECT agency, was FROM r"};

/* mc_case_verdict_name - for logs and replies */
const char *mc_case_verdict_name(mc_case_verdict_t verdict)
{
    switch (verdict) {
    case MC_VERDICT_ACCEPTED: return "accepted";
    case MC_VERDICT_DUPLICATE: return "duplicate";
    case MC_VERDICT_CONFLICT: return "already answered differently";
    case MC_VERDICT_UNKNOWN: return "unknown case";
    case MC_VERDICT_NOT_YOURS: return "not yours";
    case MC_VERDICT_CLOSED: return "case closed or not sent";
    case MC_VERDICT_STALE: return "another revision";
    case MC_VERDICT_NOT_SENT: return "not sent";
    case MC_VERDICT_SUPPLEMENT_REFUSED: return "supplement already requested";
    }
    return "?";
}

/* tuples_ok - a result with rows, else classify (and PQclear) it */
static mc_store_rc_t tuples_ok(mc_store_t *store, PGresult *res, const char *what, mc_err_t *err)
{
    if (res && PQresultStatus(res) == PGRES_TUPLES_OK)
        return MC_STORE_OK;
    mc_store_rc_t rc = mc_store_classify(store, store->main, res, what, err);
    PQclear(res);
    return rc;
}

/* mc_cases_free - free claimed cases */
void mc_cases_free(mc_case_t **cases, size_t n)
{
    if (!cases || !*cases)
        return;
    for (size_t i = 0; i < n; i++) {
        mc_case_t *c = &(*cases)[i];
        free(c->task);
        free(c->payload);
        for (size_t j = 0; j < c->n_previous; j++)
            free(c->previous[j].result);
        free(c->previous);
    }
    free(*cases);
    *cases = NULL;
}

/* take - the next pipelined result into *res when it is want (the caller clears it), else
 * cleared and NULL; its outcome */
static mc_store_rc_t take(mc_store_t *store, ExecStatusType want, const char *what,
                          PGresult **res, mc_err_t *err)
{
    *res = mc_store_pipe_result(store);
    mc_store_rc_t rc = mc_store_pipe_ok(store, *res, want, what, err);
    if (rc != MC_STORE_OK) {
        PQclear(*res);
        *res = NULL;
    }
    return rc;
}

/* take_into - take, then read(res, arg) when it came (-1 from read: out of memory,
 * FAILED); the first failure is kept in *first */
static void take_into(mc_store_t *store, ExecStatusType want, const char *what,
                      int (*read)(const PGresult *, void *), void *arg, mc_store_rc_t *first,
                      mc_err_t *err)
{
    PGresult *res = NULL;
    mc_store_rc_t rc = take(store, want, what, &res, err);
    if (rc == MC_STORE_OK && read && read(res, arg) != 0) {
        mc_err_add(err, "store: %s: out of memory", what);
        rc = MC_STORE_FAILED;
    }
    PQclear(res);
    if (*first == MC_STORE_OK)
        *first = rc;
}

/* pipe_finish - read the round trip's sync point: rc, or the lost connection's failure */
static mc_store_rc_t pipe_finish(mc_store_t *store, mc_store_rc_t rc, const char *what,
                                 mc_err_t *err)
{
    if (!mc_store_pipe_end(store) && rc == MC_STORE_OK)
        rc = mc_store_classify(store, store->main, NULL, what, err);
    return rc;
}

/* read_previous - stmt_claim's row i as an answered earlier step of c (its
 * columns 12..15, NULL step: none); -1 out of memory */
static int read_previous(const PGresult *res, int i, mc_case_t *c)
{
    if (PQgetisnull(res, i, 12))
        return 0;
    mc_case_prev_t *pr = &c->previous[c->n_previous];
    pr->step = atoi(PQgetvalue(res, i, 12));
    mc_store_copy_text(pr->agency, sizeof pr->agency, res, i, 13);
    pr->outcome = atoi(PQgetvalue(res, i, 14));
    if (!PQgetisnull(res, i, 15) && mc_store_unescape(res, i, 15, &pr->result, &pr->result_len) != 0)
        return -1;
    c->n_previous++;
    return 0;
}

/* where read_claimed puts the cases */
typedef struct claimed {
    mc_case_t **cases; /* malloc'd array */
    size_t     *n;     /* entries */
} claimed_t;

/* read_count_int - a count(*) row into an int */
static int read_count_int(const PGresult *res, void *arg)
{
    *(int *)arg = PQntuples(res) == 1 ? atoi(PQgetvalue(res, 0, 0)) : 0;
    return 0;
}

/* read_claimed - stmt_claim's rows as cases (arg: a claimed_t): one row per case and
 * earlier step answered, a case's rows together, oldest step first; -1 out of memory */
static int read_claimed(const PGresult *res, void *arg)
{
    mc_case_t **cases = ((claimed_t *)arg)->cases;
    size_t *n = ((claimed_t *)arg)->n;
    int rows = PQntuples(res);
    *cases = NULL;
    *n = 0;
    if (rows == 0)
        return 0;
    mc_case_t *out = calloc((size_t)rows, sizeof *out);
    if (!out)
        return -1;
    size_t got = 0;
    for (int i = 0; i < rows; i++) {
        int64_t id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        if (got > 0 && out[got - 1].id == id) { /* one more earlier step of the same case */
            if (read_previous(res, i, &out[got - 1]) != 0) {
                mc_cases_free(&out, got);
                return -1;
            }
            continue;
        }
        mc_case_t *c = &out[got++];
        c->id = id;
        c->dossier_id = strtoll(PQgetvalue(res, i, 1), NULL, 10);
        mc_store_copy_text(c->case_id, sizeof c->case_id, res, i, 2);
        c->step = atoi(PQgetvalue(res, i, 3));
        c->steps_total = atoi(PQgetvalue(res, i, 4));
        c->task = strdup(PQgetvalue(res, i, 5));
        c->attempt = atoi(PQgetvalue(res, i, 6));
        c->revision = atoi(PQgetvalue(res, i, 11));
        c->due_at = strtoll(PQgetvalue(res, i, 7), NULL, 10);
        mc_store_copy_text(c->dossier_code, sizeof c->dossier_code, res, i, 8);
        mc_store_copy_text(c->procedure_code, sizeof c->procedure_code, res, i, 9);
        int same = 1; /* its rows: one per earlier step answered, at least one */
        while (i + same < rows && strtoll(PQgetvalue(res, i + same, 0), NULL, 10) == id)
            same++;
        c->previous = PQgetisnull(res, i, 12) ? NULL : calloc((size_t)same, sizeof *c->previous);
        if (!c->task || (!PQgetisnull(res, i, 12) && !c->previous) ||
            mc_store_unescape(res, i, 10, &c->payload, &c->payload_len) != 0 ||
            read_previous(res, i, c) != 0) {
            mc_cases_free(&out, got);
            return -1;
        }
    }
    *cases = out;
    *n = got;
    return 0;
}

/* the text parameters every claim of a round shares */
typedef struct claim_params {
    char max[16];                                       /* max_attempts */
    char resend[MC_CASES_MAX_RESEND_STEPS * 22 + 3];    /* the delays, a bigint[] literal */
} claim_params_t;

/* claim_round - for each req stmt_dead and (limit > 0) stmt_claim, in one round trip and
 * one implicit transaction (the pipeline's sync ends it) */
static mc_store_rc_t claim_round(mc_store_t *store, mc_claim_req_t *reqs, size_t n_reqs,
                                 const claim_params_t *cp, mc_err_t *err)
{
    bool sent = true;
    for (size_t r = 0; r < n_reqs && sent; r++) {
        char limit_text[16];
        snprintf(limit_text, sizeof limit_text, "%d", reqs[r].limit);
        const char *pd[3] = {reqs[r].agency, cp->max, mc_event_sql_format(MC_EVENT_DEAD_LETTER)};
        const char *pc[5] = {reqs[r].agency, limit_text, cp->resend, cp->max,
                             mc_event_sql_format(MC_EVENT_SENT_TO_AGENCY)};
        sent = mc_store_pipe_send(store, &stmt_dead, pd, NULL, NULL) == 0 &&
               (reqs[r].limit <= 0 || mc_store_pipe_send(store, &stmt_claim, pc, NULL, NULL) == 0);
    }
    if (!sent || mc_store_pipe_sync(store) != 0)
        return mc_store_classify(store, store->main, NULL, "cases_claim", err);
    mc_store_rc_t rc = MC_STORE_OK;
    for (size_t r = 0; r < n_reqs; r++) {
        claimed_t got = {&reqs[r].cases, &reqs[r].n};
        take_into(store, PGRES_TUPLES_OK, "cases_dead", read_count_int, &reqs[r].dead, &rc, err);
        if (reqs[r].limit > 0)
            take_into(store, PGRES_TUPLES_OK, "cases_claim", read_claimed, &got, &rc, err);
    }
    return pipe_finish(store, rc, "cases_claim sync", err);
}

/* claim_reqs_clear - every req back to nothing claimed (cases freed) */
static void claim_reqs_clear(mc_claim_req_t *reqs, size_t n_reqs)
{
    for (size_t r = 0; r < n_reqs; r++) {
        mc_cases_free(&reqs[r].cases, reqs[r].n);
        reqs[r].n = 0;
        reqs[r].dead = 0;
    }
}

/* mc_store_cases_claim_many - every agency's dead letters and claim in one round trip */
mc_store_rc_t mc_store_cases_claim_many(mc_store_t *store, mc_claim_req_t *reqs, size_t n_reqs,
                                        const int64_t *resend_ms, size_t n_resend,
                                        int max_attempts, mc_err_t *err)
{
    for (size_t r = 0; r < n_reqs; r++)
        reqs[r] = (mc_claim_req_t){.agency = reqs[r].agency, .limit = reqs[r].limit};
    if (n_resend < 1 || n_resend > MC_CASES_MAX_RESEND_STEPS) {
        mc_err_add(err, "store: cases_claim: %zu resend delays (1..%d)", n_resend,
                   MC_CASES_MAX_RESEND_STEPS);
        return MC_STORE_FAILED;
    }
    if (n_reqs == 0)
        return MC_STORE_OK;
    claim_params_t cp;
    snprintf(cp.max, sizeof cp.max, "%d", max_attempts);
    /* the daemon's delays as a bigint[] literal "{d1,d2,...}": one parameter */
    size_t used = 0;
    for (size_t i = 0; i < n_resend; i++)
        used += (size_t)snprintf(cp.resend + used, sizeof cp.resend - used, "%c%" PRId64,
                                 i ? ',' : '{', resend_ms[i]);
    snprintf(cp.resend + used, sizeof cp.resend - used, "}");
    /* not retried on a lost connection: a commit we did not hear about would
     * be repeated as a second send; the ack timeout covers that case anyway */
    const mc_stmt_t *stmts[] = {&stmt_dead, &stmt_claim};
    mc_store_rc_t rc = mc_store_pipe_open(store, stmts, sizeof stmts / sizeof stmts[0], err);
    /* the claimed cases come with their earlier steps' results (one row per
     * step: no second round trip); a failure after the claim leaves the
     * cases marked sent: without this send they go again at their ack
     * timeout, so nothing is lost */
    if (rc == MC_STORE_OK)
        rc = claim_round(store, reqs, n_reqs, &cp, err);
    rc = mc_store_pipe_close(store, rc, err);
    if (rc != MC_STORE_OK)
        claim_reqs_clear(reqs, n_reqs);
    return rc;
}

/* mc_store_cases_claim - one agency's claim: a claim_many of one */
mc_store_rc_t mc_store_cases_claim(mc_store_t *store, const char *agency, int limit,
                                   const int64_t *resend_ms, size_t n_resend, int max_attempts,
                                   mc_case_t **cases, size_t *n, int *dead, mc_err_t *err)
{
    mc_claim_req_t req = {.agency = agency, .limit = limit};
    mc_store_rc_t rc = mc_store_cases_claim_many(store, &req, 1, resend_ms, n_resend,
                                                 max_attempts, err);
    *cases = req.cases;
    *n = req.n;
    *dead = req.dead;
    return rc;
}

/* session_params - the text parameters that name who: session, agency, epoch, lease */
typedef struct session_params {
    char epoch[24]; /* hub_epoch as a signed bigint */
    char lease[16]; /* lease_ms */
} session_params_t;

/* session_params_fill - format who's numbers */
static void session_params_fill(const mc_session_ref_t *who, session_params_t *sp)
{
    snprintf(sp->epoch, sizeof sp->epoch, "%" PRId64, who->hub_epoch);
    snprintf(sp->lease, sizeof sp->lease, "%d", who->lease_ms);
}

/* the parameters of stmt_ack for one ack */
typedef struct ack_params {
    session_params_t sp;      /* who's numbers */
    char             rev[16]; /* the revision */
    const char      *p[7];    /* the parameters */
} ack_params_t;

/* ack_params_fill - stmt_ack's parameters for who's ack of case_id, revision */
static void ack_params_fill(ack_params_t *a, const mc_session_ref_t *who, const char *case_id,
                            uint32_t revision)
{
    session_params_fill(who, &a->sp);
    snprintf(a->rev, sizeof a->rev, "%" PRIu32, revision);
    const char *p[7] = {case_id, who->agency, who->session, a->sp.epoch, a->sp.lease, a->rev,
                        mc_event_sql_format(MC_EVENT_AGENCY_RECEIVED)};
    memcpy(a->p, p, sizeof p);
}

/* ack_verdict - what stmt_ack's row says of an ack by agency for revision */
static mc_case_verdict_t ack_verdict(const PGresult *res, const char *agency, uint32_t revision)
{
    if (PQntuples(res) != 1)
        return MC_VERDICT_UNKNOWN;
    int state = atoi(PQgetvalue(res, 0, 1));
    if (strcmp(PQgetvalue(res, 0, 0), agency) != 0)
        return MC_VERDICT_NOT_YOURS;
    if (revision != 0 && (long)revision != atol(PQgetvalue(res, 0, 2)))
        return MC_VERDICT_STALE;
    if (atoi(PQgetvalue(res, 0, 3)) == 1)
        return MC_VERDICT_ACCEPTED;
    if (state == MC_CASE_PLANNED || state == MC_CASE_CANCELLED)
        return MC_VERDICT_CLOSED;
    return MC_VERDICT_DUPLICATE;
}

/* mc_store_cases_ack - sent → acked under who's session: one statement */
mc_store_rc_t mc_store_cases_ack(mc_store_t *store, const mc_session_ref_t *who,
                                 const char *case_id, uint32_t revision,
                                 mc_case_verdict_t *verdict, mc_err_t *err)
{
    *verdict = MC_VERDICT_UNKNOWN;
    mc_store_rc_t rc = mc_store_connect(store, err);
    if (rc != MC_STORE_OK)
        return rc;
    if (revision > INT32_MAX) {
        *verdict = MC_VERDICT_STALE; /* no case has such a revision */
        return MC_STORE_OK;
    }
    ack_params_t a;
    ack_params_fill(&a, who, case_id, revision);
    PGresult *res = mc_store_exec(store, &stmt_ack, a.p, NULL, NULL, true); /* repeat = no-op */
    if ((rc = tuples_ok(store, res, "cases_ack", err)) != MC_STORE_OK)
        return rc;
    *verdict = ack_verdict(res, who->agency, revision);
    PQclear(res);
    return MC_STORE_OK;
}

/* text_array - a PostgreSQL array literal being built: {"a","b"} */
typedef struct text_array {
    char  *text; /* malloc'd, NUL-terminated */
    size_t used; /* bytes before the NUL */
    size_t cap;  /* bytes allocated */
    bool   oom;  /* an allocation failed: the literal is unusable */
} text_array_t;

/* array_put - append n bytes */
static void array_put(text_array_t *a, const char *s, size_t n)
{
    if (a->oom)
        return;
    if (a->used + n + 2 > a->cap) {
        size_t cap = a->cap ? a->cap : 256;
        while (a->used + n + 2 > cap)
            cap *= 2;
        char *grown = realloc(a->text, cap);
        if (!grown) {
            a->oom = true;
            return;
        }
        a->text = grown;
        a->cap = cap;
    }
    memcpy(a->text + a->used, s, n);
    a->used += n;
    a->text[a->used] = '\0';
}

/* array_item - append one element: a double-quoted string (NULL: an unquoted word
 * such as a number or t/f), with the comma before all but the first */
static void array_item(text_array_t *a, const char *quoted, const char *word)
{
    array_put(a, a->used > 1 ? "," : "", a->used > 1 ? 1 : 0);
    if (!quoted) {
        array_put(a, word, strlen(word));
        return;
    }
    array_put(a, "\"", 1);
    for (const char *c = quoted; *c; c++) {
        if (*c == '"' || *c == '\\')
            array_put(a, "\\", 1);
        array_put(a, c, 1);
    }
    array_put(a, "\"", 1);
}

/* array_open - start a literal with "{" */
static void array_open(text_array_t *a)
{
    memset(a, 0, sizeof *a);
    array_put(a, "{", 1);
}

/* array_close - end a literal with "}"; false (and freed) if out of memory */
static bool array_close(text_array_t *a)
{
    array_put(a, "}", 1);
    if (a->oom) {
        free(a->text);
        a->text = NULL;
    }
    return !a->oom;
}

/* int_item - append an integer element */
static void int_item(text_array_t *a, long long v)
{
    char word[24];
    snprintf(word, sizeof word, "%lld", v);
    array_item(a, NULL, word);
}

/* mc_store_sessions_resync - a resync Ready: re-offer what is not held, keep what is */
mc_store_rc_t mc_store_sessions_resync(mc_store_t *store, const mc_session_ref_t *who,
                                       const mc_held_case_t *held, size_t n_held, int *reoffered,
                                       int *kept, mc_err_t *err)
{
    *reoffered = *kept = 0;
    mc_store_rc_t rc = mc_store_connect(store, err);
    if (rc != MC_STORE_OK)
        return rc;
    text_array_t ids, revs;
    array_open(&ids);
    array_open(&revs);
    for (size_t i = 0; i < n_held; i++) {
        array_item(&ids, held[i].case_id, NULL);
        int_item(&revs, held[i].revision);
    }
    bool ok_ids = array_close(&ids), ok_revs = array_close(&revs);
    if (!ok_ids || !ok_revs) {
        free(ids.text);
        free(revs.text);
        mc_err_add(err, "store: out of memory");
        return MC_STORE_FAILED;
    }
    session_params_t sp;
    session_params_fill(who, &sp);
    const char *p[7] = {who->agency, who->session, sp.epoch,  sp.lease, ids.text, revs.text,
                        mc_event_sql_format(MC_EVENT_NOT_HELD)};
    /* repeating it after a lost commit finds nothing left to change: safe */
    PGresult *res = mc_store_exec(store, &stmt_resync, p, NULL, NULL, true);
    free(ids.text);
    free(revs.text);
    if ((rc = tuples_ok(store, res, "sessions_resync", err)) != MC_STORE_OK)
        return rc;
    bool ours = atoi(PQgetvalue(res, 0, 0)) == 1;
    *reoffered = atoi(PQgetvalue(res, 0, 1));
    *kept = atoi(PQgetvalue(res, 0, 2));
    PQclear(res);
    return ours ? MC_STORE_OK : MC_STORE_EXISTS;
}

/* mc_store_sessions_renew - renew every live session in one statement */
mc_store_rc_t mc_store_sessions_renew(mc_store_t *store, int64_t hub_epoch, int lease_ms,
                                      const mc_session_state_t *live, size_t n, mc_err_t *err)
{
    mc_store_rc_t rc = mc_store_connect(store, err);
    if (rc != MC_STORE_OK)
        return rc;
    text_array_t a[5]; /* sessions, agencies, ready, credit, in_flight */
    for (int k = 0; k < 5; k++)
        array_open(&a[k]);
    for (size_t i = 0; i < n; i++) {
        array_item(&a[0], live[i].session, NULL);
        array_item(&a[1], live[i].agency, NULL);
        array_item(&a[2], NULL, live[i].ready ? "t" : "f");
        int_item(&a[3], live[i].credit);
        int_item(&a[4], live[i].in_flight);
    }
    bool ok = true;
    for (int k = 0; k < 5; k++)
        ok = array_close(&a[k]) && ok;
    mc_session_ref_t who = {.hub_epoch = hub_epoch, .lease_ms = lease_ms};
    session_params_t sp;
    session_params_fill(&who, &sp);
    const char *p[7] = {sp.epoch, sp.lease, a[0].text, a[1].text, a[2].text, a[3].text, a[4].text};
    PGresult *res = ok ? mc_store_exec(store, &stmt_renew, p, NULL, NULL, true) : NULL;
    for (int k = 0; k < 5; k++)
        free(a[k].text);
    if (!ok) {
        mc_err_add(err, "store: out of memory");
        return MC_STORE_FAILED;
    }
    if ((rc = tuples_ok(store, res, "sessions_renew", err)) != MC_STORE_OK)
        return rc;
    PQclear(res);
    return MC_STORE_OK;
}

/* mc_store_sessions_expire - acked cases of lapsed sessions back to queued */
mc_store_rc_t mc_store_sessions_expire(mc_store_t *store, int limit, int *expired, mc_err_t *err)
{
    *expired = 0;
    mc_store_rc_t rc = mc_store_connect(store, err);
    if (rc != MC_STORE_OK)
        return rc;
    char limit_text[16];
    snprintf(limit_text, sizeof limit_text, "%d", limit > 0 ? limit : 1);
    const char *p[2] = {limit_text, mc_event_sql_format(MC_EVENT_LEASE_EXPIRED)};
    PGresult *res = mc_store_exec(store, &stmt_expire, p, NULL, NULL, true); /* repeat = no-op */
    if ((rc = tuples_ok(store, res, "sessions_expire", err)) != MC_STORE_OK)
        return rc;
    *expired = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return MC_STORE_OK;
}

/* case_row - what the result transaction reads about the locked case */
typedef struct case_row {
    char     id[MC_I64_TEXT];                           /* agency_case.id */
    char     agency[MC_AGENCY_CODE_LEN + 1];            /* the case's agency */
    int      state;                                     /* mc_case_state_t */
    int      step;                                      /* 0 acceptance, 1.. processing */
    int      steps_total;                               /* the plan's steps */
    int      outcome;                                   /* the stored answer's outcome, 0 if none */
    uint8_t *result;                                    /* the stored answer, malloc'd, NULL if none */
    size_t   result_len;                                /* bytes in result */
    char     dossier_id[MC_I64_TEXT];                   /* dossier.id */
    int      dossier_state;                             /* mc_dossier_state_t as locked */
    int      revision;                                  /* the round the agency must answer */
    int      attempts;                                  /* sends in this round */
    int      supplement_requests;                       /* dossier.supplement_requests: requests accepted so far */
    char     procedure_code[MC_PROCEDURE_CODE_LEN + 1]; /* the dossier's procedure */
} case_row_t;

/* next_step - the step after the answered one, locked with it */
typedef struct next_step {
    bool found;                          /* the dossier has step + 1 */
    char id[MC_I64_TEXT];                /* its agency_case.id */
    char agency[MC_AGENCY_CODE_LEN + 1]; /* its agency */
    int  time_limit;                     /* its limit */
    int  time_unit;                      /* mc_time_unit_t of the limit */
} next_step_t;

/* one result's state during one attempt of a batch */
typedef struct result_work {
    case_row_t       row;   /* the locked case (row.result malloc'd) */
    bool             found; /* the case exists */
    long             asked; /* `supplement_requested` events of its dossier (notice numbering) */
    next_step_t      next;  /* step + 1, locked with it */
    mc_result_plan_t plan;  /* the daemon's plan (ACCEPTED and decided) */
    bool             write; /* the plan, or a refusal's event, is written in its wave */
    int              wave;  /* 0, or 1 + the wave of the last earlier result of its dossier */
} result_work_t;

/* every statement a batch may queue: prepared before its pipeline opens */
static const mc_stmt_t *const batch_stmts[] = {
    &stmt_ack, &stmt_lock_dossier_of, &stmt_lock_case, &stmt_count_events_of, &stmt_next_step_of,
    &stmt_set_case, &stmt_event, &stmt_queue_step, &stmt_dossier_progress, &stmt_dossier_ready,
    &stmt_dossier_refused, &stmt_dossier_paused, &stmt_dossier_accepted, &stmt_cancel_later,
    &stmt_notify};

/* read_case_row - stmt_lock_case's row (none: the case is unknown) into a result_work_t */
static int read_case_row(const PGresult *res, void *arg)
{
    result_work_t *w = arg;
    case_row_t *row = &w->row;
    if (PQntuples(res) != 1)
        return 0; /* unknown */
    w->found = true;
    mc_store_copy_text(row->id, sizeof row->id, res, 0, 0);
    mc_store_copy_text(row->agency, sizeof row->agency, res, 0, 1);
    row->state = atoi(PQgetvalue(res, 0, 2));
    row->step = atoi(PQgetvalue(res, 0, 3));
    row->steps_total = atoi(PQgetvalue(res, 0, 4));
    row->outcome = atoi(PQgetvalue(res, 0, 5));
    mc_store_copy_text(row->dossier_id, sizeof row->dossier_id, res, 0, 7);
    row->dossier_state = atoi(PQgetvalue(res, 0, 9));
    row->revision = atoi(PQgetvalue(res, 0, 10));
    row->attempts = atoi(PQgetvalue(res, 0, 11));
    row->supplement_requests = atoi(PQgetvalue(res, 0, 12));
    mc_store_copy_text(row->procedure_code, sizeof row->procedure_code, res, 0, 13);
    if (!PQgetisnull(res, 0, 6) && mc_store_unescape(res, 0, 6, &row->result, &row->result_len) != 0)
        return -1; /* never judged without the stored answer */
    return 0;
}

/* read_dossier_code - column 8 of stmt_lock_case: the dossier's code (out's) */
static void read_dossier_code(const PGresult *res, mc_case_result_out_t *out)
{
    if (PQntuples(res) == 1)
        mc_store_copy_text(out->dossier_code, sizeof out->dossier_code, res, 0, 8);
}

/* read_locked - stmt_lock_case's row: the case and its dossier's code */
static int read_locked(const PGresult *res, void *arg)
{
    mc_case_result_item_t *item = ((void **)arg)[0];
    read_dossier_code(res, &item->out);
    return read_case_row(res, ((void **)arg)[1]);
}

/* read_count - a count(*) row into a long */
static int read_count(const PGresult *res, void *arg)
{
    *(long *)arg = PQntuples(res) == 1 ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    return 0;
}

/* read_next - stmt_next_step_of's row, if the plan has a next step */
static int read_next(const PGresult *res, void *arg)
{
    next_step_t *next = arg;
    memset(next, 0, sizeof *next);
    if (PQntuples(res) != 1)
        return 0; /* the last step */
    next->found = true;
    mc_store_copy_text(next->id, sizeof next->id, res, 0, 0);
    mc_store_copy_text(next->agency, sizeof next->agency, res, 0, 1);
    next->time_limit = atoi(PQgetvalue(res, 0, 2));
    next->time_unit = atoi(PQgetvalue(res, 0, 3));
    return 0;
}

/* judge - the store's verdict on an answer to the locked case (identity, revision,
 * idempotency); the daemon judges only what an ACCEPTED one does */
static mc_case_verdict_t judge(const case_row_t *row, const mc_case_result_t *in)
{
    bool same = row->result && row->result_len == in->result_len && row->outcome == in->outcome &&
                memcmp(row->result, in->result, in->result_len) == 0;
    int answers = in->revision > 0 ? in->revision : 1;
    if (strcmp(row->agency, in->agency) != 0)
        return MC_VERDICT_NOT_YOURS;
    if (answers > row->revision)
        return MC_VERDICT_NOT_SENT; /* a round the case never had */
    if (answers != row->revision)
        return MC_VERDICT_CLOSED; /* an answer to an earlier round: that round is over */
    if (row->state == MC_CASE_PLANNED || (row->state == MC_CASE_QUEUED && row->attempts == 0))
        return MC_VERDICT_NOT_SENT; /* this round never left the hub */
    if (same)
        return MC_VERDICT_DUPLICATE; /* a resend, even after a resume */
    if (row->state == MC_CASE_DONE || row->state == MC_CASE_PAUSED)
        return MC_VERDICT_CONFLICT;
    if (row->state == MC_CASE_CANCELLED)
        return MC_VERDICT_CLOSED;
    return MC_VERDICT_ACCEPTED;
}

/* item_fail - a result the batch goes on without: nothing of it is written */
static void item_fail(mc_case_result_item_t *item, result_work_t *w, const char *why,
                      mc_err_t *err)
{
    item->rc = MC_STORE_FAILED;
    item->out.verdict = MC_VERDICT_UNKNOWN;
    w->write = false;
    mc_err_add(err, "store: the result for dossier %s %s", item->out.dossier_code, why);
}

/* settle - the verdict of a result whose reads came, and for an ACCEPTED one
 * the daemon's plan (in->decide; no I/O) */
static void settle(mc_case_result_item_t *item, result_work_t *w, mc_err_t *err)
{
    const mc_case_result_t *in = &item->in;
    mc_case_result_out_t *out = &item->out;
    if (!w->found)
        return; /* UNKNOWN */
    out->dossier_state = w->row.dossier_state;
    out->verdict = judge(&w->row, in);
    if (out->verdict == MC_VERDICT_NOT_YOURS || out->verdict == MC_VERDICT_NOT_SENT)
        memset(out->dossier_code, 0, sizeof out->dossier_code); /* not theirs to know */
    if (out->verdict != MC_VERDICT_ACCEPTED)
        return;
    const case_row_t *row = &w->row;
    mc_result_claim_t claim = {
        .agency = in->agency, .dossier_code = out->dossier_code,
        .procedure_code = row->procedure_code, .dossier_state = row->dossier_state,
        .supplement_requests = row->supplement_requests, .supplement_events = w->asked,
        .step = row->step, .steps_total = row->steps_total, .revision = row->revision,
        .outcome = in->outcome, .reason = in->reason, .missing = in->missing,
        .n_missing = in->n_missing, .has_next = w->next.found, .next_agency = w->next.agency,
        .next_time_limit = w->next.time_limit, .next_time_unit = w->next.time_unit,
        .now = (int64_t)time(NULL),
    };
    memset(&w->plan, 0, sizeof w->plan);
    if (!in->decide || in->decide(in->decide_arg, &claim, &w->plan) != 0) {
        item_fail(item, w, "was not decided", err);
        return;
    }
    if (w->plan.refuse) { /* the answer is refused: its event only, the case stays */
        out->verdict = MC_VERDICT_SUPPLEMENT_REFUSED;
        w->write = w->plan.event.kind != NULL;
        return;
    }
    if (w->plan.queue_next && !w->next.found) {
        item_fail(item, w, "has no next step to queue", err);
        return;
    }
    w->write = true;
}

/* put - queue one write of the batch, counted in *queued; false if it could not be */
static bool put(mc_store_t *store, const mc_stmt_t *stmt, const char *const *params,
                const int *lens, const int *fmts, int *queued)
{
    if (mc_store_pipe_send(store, stmt, params, lens, fmts) != 0)
        return false;
    (*queued)++;
    return true;
}

/* put_event - queue one dossier_event (actor: the agency) */
static bool put_event(mc_store_t *store, const char *dossier_id, const char *actor,
                      const mc_result_event_t *e, int *queued)
{
    const char *p[4] = {dossier_id, actor, e->kind, e->detail};
    return !e->kind || put(store, &stmt_event, p, NULL, NULL, queued);
}

/* put_dossier - the dossier's next state as the plan gives it */
static bool put_dossier(mc_store_t *store, const case_row_t *row, const mc_result_plan_t *plan,
                        mc_case_result_out_t *out, int *queued)
{
    char a[24], b[24], c[24];
    const char *pd[4] = {row->dossier_id, NULL, NULL, NULL};
    const mc_stmt_t *stmt = NULL;
    switch (plan->dossier_state) {
    case 0:
        return true;
    case MC_DOSSIER_RESULT_READY:
        stmt = &stmt_dossier_ready;
        break;
    case MC_DOSSIER_REFUSED:
        stmt = &stmt_dossier_refused;
        break;
    case MC_DOSSIER_WAITING_SUPPLEMENT:
        stmt = &stmt_dossier_paused;
        pd[1] = mc_store_i64(a, sizeof a, plan->supplement_due_at);
        out->supplement_due_at = plan->supplement_due_at;
        break;
    case MC_DOSSIER_RECEIVED:
        stmt = &stmt_dossier_accepted;
        pd[1] = mc_store_i64(a, sizeof a, plan->accepted_at);
        pd[2] = mc_store_i64(b, sizeof b, plan->counted_from);
        pd[3] = mc_store_i64(c, sizeof c, plan->due_at);
        out->accepted = true;
        break;
    default:
        return false; /* a plan with another dossier state: the batch fails */
    }
    out->dossier_state = plan->dossier_state;
    return put(store, stmt, pd, NULL, NULL, queued);
}

/* put_plan - an accepted result's plan (or a refused one's event), queued in this order:
 * the case, `before`, the later steps cancelled, the dossier, `event`, the next step, the
 * notice */
static bool put_plan(mc_store_t *store, const mc_case_result_t *in, const result_work_t *w,
                     mc_case_result_out_t *out, int *queued)
{
    const case_row_t *row = &w->row;
    const mc_result_plan_t *plan = &w->plan;
    const char *did = row->dossier_id;
    if (plan->refuse)
        return put_event(store, did, in->agency, &plan->event, queued);
    char state_text[8], outcome_text[8], step_text[16], due_text[24];
    snprintf(state_text, sizeof state_text, "%d", plan->case_state);
    snprintf(outcome_text, sizeof outcome_text, "%d", in->outcome);
    snprintf(step_text, sizeof step_text, "%d", row->step);
    const char *pc[4] = {row->id, state_text, outcome_text, (const char *)in->result};
    int lens[4] = {0, 0, 0, (int)in->result_len}, fmts[4] = {0, 0, 0, 1};
    const char *pd[1] = {did}, *pl[2] = {did, step_text};
    const char *pq[2] = {w->next.id, mc_store_i64(due_text, sizeof due_text, plan->next_due_at)};
    const char *pn[4] = {did, plan->notice_kind, plan->notice_dedupe,
                         plan->notice_data ? plan->notice_data : "{}"};
    out->dossier_state =
        row->dossier_state == MC_DOSSIER_ROUTED ? MC_DOSSIER_IN_PROGRESS : row->dossier_state;
    bool ok = put(store, &stmt_set_case, pc, lens, fmts, queued) &&
              put(store, &stmt_dossier_progress, pd, NULL, NULL, queued) &&
              put_event(store, did, in->agency, &plan->before, queued) &&
              (!plan->cancel_later || put(store, &stmt_cancel_later, pl, NULL, NULL, queued)) &&
              put_dossier(store, row, plan, out, queued) &&
              put_event(store, did, in->agency, &plan->event, queued) &&
              (!plan->queue_next || put(store, &stmt_queue_step, pq, NULL, NULL, queued)) &&
              (!plan->notice_kind || put(store, &stmt_notify, pn, NULL, NULL, queued));
    if (ok && plan->queue_next)
        snprintf(out->next_agency, sizeof out->next_agency, "%s", w->next.agency);
    out->notified = ok && plan->notice_kind;
    return ok;
}

/* read_ack - stmt_ack's row into its mc_case_ack_item_t */
static int read_ack(const PGresult *res, void *arg)
{
    mc_case_ack_item_t *a = arg;
    a->verdict = ack_verdict(res, a->who.agency, a->revision);
    return 0;
}

/* a batch being run: its items and their state */
typedef struct batch {
    mc_case_ack_item_t    *acks;      /* acks, judged in wave 0 */
    size_t                 n_acks;    /* entries in acks */
    mc_case_result_item_t *results;   /* results, each in its wave */
    size_t                 n_results; /* entries in results */
    result_work_t         *work;      /* one per result */
    int                    waves;     /* read/write round trip pairs */
} batch_t;

/* dossier_len - the dossier part of a case_id ("<code>/<step>": up to the last '/') */
static size_t dossier_len(const char *case_id)
{
    const char *slash = strrchr(case_id, '/');
    return slash ? (size_t)(slash - case_id) : strlen(case_id);
}

/* assign_waves - each result's wave: after every earlier result of its dossier */
static void assign_waves(batch_t *b)
{
    b->waves = 1;
    for (size_t i = 0; i < b->n_results; i++) {
        const char *ci = b->results[i].in.case_id;
        size_t li = dossier_len(ci);
        b->work[i].wave = 0;
        for (size_t j = 0; j < i; j++) {
            const char *cj = b->results[j].in.case_id;
            if (dossier_len(cj) == li && memcmp(ci, cj, li) == 0 &&
                b->work[j].wave >= b->work[i].wave)
                b->work[i].wave = b->work[j].wave + 1;
        }
        if (b->work[i].wave + 1 > b->waves)
            b->waves = b->work[i].wave + 1;
    }
}

/* read_round - one round trip: (wave 0) BEGIN and every ack; every result of wave w
 * locked and read (dossier, case, supplement requests, next step); COMMIT too when
 * commit (a batch of acks alone). Then each result of the wave settled. */
static mc_store_rc_t read_round(mc_store_t *store, batch_t *b, int w, bool commit,
                                mc_err_t *err)
{
    bool sent = w > 0 || mc_store_pipe_begin(store) == 0;
    ack_params_t ap;
    for (size_t i = 0; w == 0 && i < b->n_acks && sent; i++) {
        ack_params_fill(&ap, &b->acks[i].who, b->acks[i].case_id, b->acks[i].revision);
        sent = mc_store_pipe_send(store, &stmt_ack, ap.p, NULL, NULL) == 0;
    }
    for (size_t i = 0; i < b->n_results && sent; i++) {
        if (b->work[i].wave != w)
            continue;
        const char *p[2] = {b->results[i].in.case_id, "supplement_requested"};
        sent = mc_store_pipe_send(store, &stmt_lock_dossier_of, p, NULL, NULL) == 0 &&
               mc_store_pipe_send(store, &stmt_lock_case, p, NULL, NULL) == 0 &&
               mc_store_pipe_send(store, &stmt_count_events_of, p, NULL, NULL) == 0 &&
               mc_store_pipe_send(store, &stmt_next_step_of, p, NULL, NULL) == 0;
    }
    if (sent && commit)
        sent = mc_store_pipe_commit(store) == 0;
    if (!sent || mc_store_pipe_sync(store) != 0)
        return mc_store_classify(store, store->main, NULL, "cases_batch", err);
    mc_store_rc_t rc = MC_STORE_OK;
    if (w == 0)
        take_into(store, PGRES_COMMAND_OK, "begin", NULL, NULL, &rc, err);
    for (size_t i = 0; w == 0 && i < b->n_acks; i++)
        take_into(store, PGRES_TUPLES_OK, "cases_ack", read_ack, &b->acks[i], &rc, err);
    for (size_t i = 0; i < b->n_results; i++) {
        result_work_t *wk = &b->work[i];
        if (wk->wave != w)
            continue;
        void *locked[2] = {&b->results[i], wk};
        take_into(store, PGRES_TUPLES_OK, "cases_lock_dossier", NULL, NULL, &rc, err);
        take_into(store, PGRES_TUPLES_OK, "cases_lock", read_locked, locked, &rc, err);
        take_into(store, PGRES_TUPLES_OK, "cases_count_events", read_count, &wk->asked, &rc, err);
        take_into(store, PGRES_TUPLES_OK, "cases_next_step", read_next, &wk->next, &rc, err);
    }
    if (commit)
        take_into(store, PGRES_COMMAND_OK, "commit", NULL, NULL, &rc, err);
    rc = pipe_finish(store, rc, "cases_batch sync", err);
    for (size_t i = 0; i < b->n_results && rc == MC_STORE_OK; i++)
        if (b->work[i].wave == w)
            settle(&b->results[i], &b->work[i], err);
    return rc;
}

/* write_round - one round trip: every planned write of wave w, and COMMIT when commit */
static mc_store_rc_t write_round(mc_store_t *store, batch_t *b, int w, bool commit,
                                 mc_err_t *err)
{
    int queued = 0;
    bool sent = true;
    for (size_t i = 0; i < b->n_results && sent; i++)
        if (b->work[i].wave == w && b->work[i].write)
            sent = put_plan(store, &b->results[i].in, &b->work[i], &b->results[i].out, &queued);
    if (sent && commit)
        sent = mc_store_pipe_commit(store) == 0;
    if (sent && queued == 0 && !commit)
        return MC_STORE_OK;
    if (!sent || mc_store_pipe_sync(store) != 0)
        return mc_store_classify(store, store->main, NULL, "cases_batch writes", err);
    mc_store_rc_t rc = MC_STORE_OK;
    for (int i = 0; i < queued; i++)
        take_into(store, PGRES_COMMAND_OK, "cases_write", NULL, NULL, &rc, err);
    if (commit) /* only its answer says the batch is durable */
        take_into(store, PGRES_COMMAND_OK, "commit", NULL, NULL, &rc, err);
    return pipe_finish(store, rc, "cases_batch sync", err);
}

/* items_reset - every item back to "not judged": verdict UNKNOWN, rc */
static void items_reset(batch_t *b, mc_store_rc_t rc)
{
    for (size_t i = 0; i < b->n_acks; i++) {
        b->acks[i].verdict = MC_VERDICT_UNKNOWN;
        b->acks[i].rc = rc;
    }
    for (size_t i = 0; i < b->n_results; i++) {
        memset(&b->results[i].out, 0, sizeof b->results[i].out);
        b->results[i].out.verdict = MC_VERDICT_UNKNOWN;
        b->results[i].rc = rc;
    }
}

/* batch_once - one attempt: every item judged and written in one transaction, or
 * nothing (every item then has the failure) */
static mc_store_rc_t batch_once(mc_store_t *store, mc_case_ack_item_t *acks, size_t n_acks,
                                mc_case_result_item_t *results, size_t n_results, mc_err_t *err)
{
    batch_t b = {.acks = acks, .n_acks = n_acks, .results = results, .n_results = n_results};
    b.work = calloc(n_results + 1, sizeof *b.work);
    if (!b.work) {
        mc_err_add(err, "store: out of memory");
        return MC_STORE_FAILED;
    }
    items_reset(&b, MC_STORE_OK);
    assign_waves(&b);
    mc_store_rc_t rc = mc_store_pipe_open(store, batch_stmts,
                                          sizeof batch_stmts / sizeof batch_stmts[0], err);
    for (int w = 0; w < b.waves && rc == MC_STORE_OK; w++) {
        bool last = w == b.waves - 1;
        rc = read_round(store, &b, w, last && n_results == 0, err);
        if (rc == MC_STORE_OK && n_results > 0)
            rc = write_round(store, &b, w, last, err);
    }
    rc = mc_store_pipe_close(store, rc, err);
    if (rc != MC_STORE_OK) {
        mc_store_rollback(store);
        items_reset(&b, rc);
    }
    for (size_t i = 0; i < n_results; i++)
        free(b.work[i].row.result);
    free(b.work);
    return rc;
}

/* mc_store_cases_batch - one transaction for all; each alone when one fails it */
mc_store_rc_t mc_store_cases_batch(mc_store_t *store, mc_case_ack_item_t *acks, size_t n_acks,
                                   mc_case_result_item_t *results, size_t n_results,
                                   mc_err_t *err)
{
    if (n_acks + n_results == 0)
        return MC_STORE_OK;
    mc_store_rc_t rc = batch_once(store, acks, n_acks, results, n_results, err);
    if (rc == MC_STORE_UNAVAILABLE && !(err && err->code == MC_ERR_UNKNOWN_COMMIT)) {
        /* an idle connection that died, or a deadlock victim: once more. Safe
         * even if the first COMMIT went through unseen: every item is then a
         * DUPLICATE, answered the same way. Not after an unknown commit: like
         * "unavailable", the agency's resend answers it (mc_store.h) */
        mc_err_t again;
        mc_err_clear(&again);
        rc = batch_once(store, acks, n_acks, results, n_results, &again);
        if (rc == MC_STORE_OK)
            mc_err_clear(err);
    }
    if (rc == MC_STORE_OK || rc == MC_STORE_UNAVAILABLE || n_acks + n_results == 1)
        return rc;
    /* one item failed and took the batch with it: each alone, so it fails alone */
    mc_log_error(MC_LOG_WARNING, "store_batch_split", err, "acks=%zu results=%zu", n_acks,
                 n_results);
    for (size_t i = 0; i < n_acks; i++) {
        mc_err_t one;
        mc_err_clear(&one);
        batch_once(store, &acks[i], 1, NULL, 0, &one);
    }
    for (size_t i = 0; i < n_results; i++) {
        mc_err_t one;
        mc_err_clear(&one);
        batch_once(store, NULL, 0, &results[i], 1, &one);
    }
    return MC_STORE_OK;
}

/* mc_store_cases_result - a batch of one result */
mc_store_rc_t mc_store_cases_result(mc_store_t *store, const mc_case_result_t *in,
                                    mc_case_result_out_t *out, mc_err_t *err)
{
    mc_case_result_item_t item = {.in = *in};
    mc_store_rc_t rc = mc_store_cases_batch(store, NULL, 0, &item, 1, err);
    *out = item.out;
    return rc == MC_STORE_OK ? item.rc : rc;
}

/* mc_store_cases_dead - the dead letters */
mc_store_rc_t mc_store_cases_dead(mc_store_t *store, int max, mc_dead_case_t **list, size_t *n,
                                  mc_err_t *err)
{
    *list = NULL;
    *n = 0;
    mc_store_rc_t rc = mc_store_connect(store, err);
    if (rc != MC_STORE_OK)
        return rc;
    char max_text[16];
    snprintf(max_text, sizeof max_text, "%d", max > 0 ? max : 1);
    const char *p[1] = {max_text};
    PGresult *res = mc_store_exec(store, &stmt_dead_list, p, NULL, NULL, true);
    if ((rc = tuples_ok(store, res, "cases_dead_list", err)) != MC_STORE_OK)
        return rc;
    int rows = PQntuples(res);
    mc_dead_case_t *out = calloc(rows ? (size_t)rows : 1, sizeof *out);
    if (!out) {
        PQclear(res);
        mc_err_add(err, "store: out of memory");
        return MC_STORE_FAILED;
    }
    for (int i = 0; i < rows; i++) {
        mc_store_copy_text(out[i].case_id, sizeof out[i].case_id, res, i, 0);
        mc_store_copy_text(out[i].dossier_code, sizeof out[i].dossier_code, res, i, 1);
        mc_store_copy_text(out[i].agency, sizeof out[i].agency, res, i, 2);
        out[i].step = atoi(PQgetvalue(res, i, 3));
        out[i].steps_total = atoi(PQgetvalue(res, i, 4));
        out[i].attempts = atoi(PQgetvalue(res, i, 5));
        out[i].since = strtoll(PQgetvalue(res, i, 6), NULL, 10);
    }
    PQclear(res);
    *list = out;
    *n = (size_t)rows;
    return MC_STORE_OK;
}

/* mc_store_cases_requeue - dead or acked → queued */
mc_store_rc_t mc_store_cases_requeue(mc_store_t *store, const char *case_id, char *agency,
                                     int *was_state, mc_err_t *err)
{
    mc_store_rc_t rc = mc_store_connect(store, err);
    if (rc != MC_STORE_OK)
        return rc;
    const char *p[3] = {case_id, mc_event_sql_format(MC_EVENT_REQUEUED),
                        mc_event_sql_requeued_held()};
    PGresult *res = mc_store_exec(store, &stmt_requeue, p, NULL, NULL, true); /* repeat = no-op */
    if ((rc = tuples_ok(store, res, "cases_requeue", err)) != MC_STORE_OK)
        return rc;
    rc = PQntuples(res) == 1 ? MC_STORE_OK : MC_STORE_NOT_FOUND;
    if (rc == MC_STORE_OK && agency)
        mc_store_copy_text(agency, 68, res, 0, 0);
    if (rc == MC_STORE_OK && was_state)
        *was_state = atoi(PQgetvalue(res, 0, 1));
    PQclear(res);
    return rc;
}
