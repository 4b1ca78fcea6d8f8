/*
 * mc_store_cases - the store's side of the inter-agency exchange: the
 * agency_case rows (one step of one dossier for one agency), their
 * transitions, and the dead letters (docs/pipeline.md is the contract).
 *
 * Contract:
 *   * Every state change is written together with its dossier_event (and,
 *     where the contract says so, its notification row) in ONE transaction:
 *     either a single statement (data-modifying CTEs) or BEGIN..COMMIT on
 *     the store's main connection, synchronous commit.
 *   * Claiming uses SELECT ... FOR UPDATE SKIP LOCKED, so two lienthong
 *     instances never send the same case at the same moment.
 *   * Identity comes from the caller (the ZAP user id), never from the
 *     frame: every call that an agency triggers takes its agency code and
 *     changes nothing when the case belongs to another agency.
 *   * A result is idempotent per case: the same result again is accepted
 *     without change; a different one after the case was answered is
 *     refused.
 *   * Leases (agency.proto rule 7): an acked case names the session that
 *     acked it (agency_case.lease_session); it stays acked while that
 *     session's agency_session.lease_until lies ahead, and the lease scan
 *     (mc_store_sessions_expire) queues it again once it has passed. The
 *     store only records and compares times; the hub decides when to renew.
 *   * Event actors: "lienthong" for sends, dead letters and lease expiry,
 *     the agency code for what the agency did, "operator" for requeues. Details carry step
 *     numbers and agency codes, never personal data.
 *   * Batches (mc_store_cases_batch): the acks and results of one hub poll
 *     are judged one by one as above but committed together, in one
 *     transaction of a few pipelined round trips; mc_store_cases_result is
 *     a batch of one.
 *   * Same return convention as mc_store.h.
 */
#ifndef MC_STORE_CASES_H
#define MC_STORE_CASES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_err.h"
#include "mc_states.h"
#include "mc_store.h"
#include "mc_limits.h"

/* agency_case.state: mc_case_state_t in mc_states.h */

/* the result of an earlier step, handed to the next agency */
typedef struct mc_case_prev {
    int      step;                           /* 1-based */
    char     agency[MC_AGENCY_CODE_LEN + 1]; /* who answered */
    int      outcome;                        /* motcua.v1.Outcome */
    uint8_t *result;                         /* malloc'd serialized CaseResult, may be NULL */
    size_t   result_len;                     /* bytes in result */
} mc_case_prev_t;

/* one case claimed for sending */
typedef struct mc_case {
    int64_t         id;                          /* agency_case.id */
    int64_t         dossier_id;                  /* dossier.id */
    char            case_id[MC_CASE_ID_LEN + 1]; /* "<dossier code>/<step>", stable across resends */
    char            dossier_code[MC_CODE_MAX];
    char            procedure_code[MC_PROCEDURE_CODE_LEN + 1];
    int             step;                        /* 0 = acceptance of an online dossier, 1.. = processing steps */
    int             steps_total;
    int             attempt;                     /* this send's number: 1, 2, ... */
    int             revision;                    /* 1, +1 per resume after a supplement: new work */
    char           *task;                        /* malloc'd: what the agency must do */
    int64_t         due_at;                      /* the step's deadline, 0 if none */
    uint8_t        *payload;                     /* malloc'd serialized motcua.v1.Dossier */
    size_t          payload_len;
    mc_case_prev_t *previous;                    /* earlier steps' results, in order */
    size_t          n_previous;
} mc_case_t;

#define MC_CASES_MAX_RESEND_STEPS 64 /* most entries of mc_store_cases_claim's resend_ms */

/* mc_cases_free - free n claimed cases and NULL the caller's pointer */
void mc_cases_free(mc_case_t **cases, size_t n);

/*
 * mc_store_cases_claim - for agency: first park as dead letters the sent
 * cases whose ack time ran out after max_attempts sends (`dead_letter`
 * event each; count in *dead), then claim up to limit cases that are
 * queued or due for a resend, oldest first, and mark them sent: attempts+1,
 * next_attempt_at = now + resend_ms[attempts - 1] (this send's number;
 * resend_ms[n_resend - 1] for any later send), `sent_to_agency` event on
 * the first send. The delays are the daemon's rule (lienthong_decide.c
 * lienthong_resend_delays); the store only writes them. 1 <= n_resend <=
 * MC_CASES_MAX_RESEND_STEPS. *cases (free with mc_cases_free) gets *n cases.
 */
mc_store_rc_t mc_store_cases_claim(mc_store_t *store, const char *agency, int limit,
                                   const int64_t *resend_ms, size_t n_resend, int max_attempts,
                                   mc_case_t **cases, size_t *n, int *dead, mc_err_t *err);

/* one agency's claim in mc_store_cases_claim_many */
typedef struct mc_claim_req {
    const char *agency; /* whose cases */
    int         limit;  /* at most this many; 0: the dead-letter pass only */
    mc_case_t  *cases;  /* out: the claimed cases (free with mc_cases_free) */
    size_t      n;      /* out: entries in cases */
    int         dead;   /* out: cases parked as dead letters */
} mc_claim_req_t;

/*
 * mc_store_cases_claim_many - mc_store_cases_claim for several agencies at
 * once, in ONE round trip (libpq pipeline: every dead-letter pass and claim
 * in one implicit transaction; each claim returns its cases with the
 * earlier steps' results joined in). All or nothing: on a failure no req
 * has cases.
 */
mc_store_rc_t mc_store_cases_claim_many(mc_store_t *store, mc_claim_req_t *reqs, size_t n_reqs,
                                        const int64_t *resend_ms, size_t n_resend,
                                        int max_attempts, mc_err_t *err);

/* what the store decided about an agency's ack or result */
typedef enum mc_case_verdict {
    MC_VERDICT_ACCEPTED  = 0, /* stored; the transitions are done */
    MC_VERDICT_DUPLICATE = 1, /* the same again: accepted, nothing changed */
    MC_VERDICT_CONFLICT  = 2, /* answered differently before: refused */
    MC_VERDICT_UNKNOWN   = 3, /* no such case: refused */
    MC_VERDICT_NOT_YOURS = 4, /* another agency's case: refused, nothing changed */
    MC_VERDICT_CLOSED    = 5, /* cancelled, or never sent: refused */
    MC_VERDICT_STALE     = 6, /* an ack for another revision: nothing changed, nothing answered */
    MC_VERDICT_NOT_SENT  = 7, /* a result for a round never sent to the agency: refused */
    MC_VERDICT_SUPPLEMENT_REFUSED = 8, /* a second NEEDS_DOCUMENTS for the dossier: refused, only
                                        * a `supplement_refused` event stored; answer again */
} mc_case_verdict_t;

/* mc_case_verdict_name - "accepted", "duplicate", ... for logs and replies */
const char *mc_case_verdict_name(mc_case_verdict_t verdict);

/* an agency session (agency.proto rule 6) as the hub names it in store calls */
typedef struct mc_session_ref {
    const char *agency;    /* agency code from the ZAP user id */
    const char *session;   /* Ready.session, or the hub's own per-connection id */
    int64_t     hub_epoch; /* this hub's epoch (uint64 bits) */
    int         lease_ms;  /* lienthong.lease_ms: how long the lease lasts from now */
} mc_session_ref_t;

/*
 * mc_store_cases_ack - who (agency, session) has the case: sent, dead, or
 * queued again after a lease ran out (attempts > 0) → acked with an
 * `agency_received` event, lease_session = who->session, and the session's
 * lease renewed (the row made if new); on step 1 a ROUTED dossier becomes
 * IN_PROGRESS. revision is CaseAck.revision: 0 means the case's current
 * one; any other value that is not the current revision changes nothing
 * (STALE). An ack for an already acked case is a DUPLICATE that moves its
 * lease to who->session; for an answered case a DUPLICATE that changes
 * nothing.
 */
mc_store_rc_t mc_store_cases_ack(mc_store_t *store, const mc_session_ref_t *who,
                                 const char *case_id, uint32_t revision,
                                 mc_case_verdict_t *verdict, mc_err_t *err);

/* one case an agency says it holds (HeldCase) */
typedef struct mc_held_case {
    const char *case_id;  /* HeldCase.case_id */
    uint32_t    revision; /* HeldCase.revision (0 is read as 1) */
} mc_held_case_t;

/*
 * mc_store_sessions_resync - a resync Ready from who, in one transaction:
 * the session's row is made or renewed (connected, ready); who's agency's
 * cases acked under who->session and not in held (same case_id and
 * revision) go back to queued with a `not_held` event (actor: the agency),
 * so the next claim offers them again with a higher attempt; acked cases of
 * who's agency that are in held move to who->session. Held cases that are
 * not acked (done, cancelled, another agency's, unknown) are ignored.
 * *reoffered and *kept get the counts.
 */
mc_store_rc_t mc_store_sessions_resync(mc_store_t *store, const mc_session_ref_t *who,
                                       const mc_held_case_t *held, size_t n_held, int *reoffered,
                                       int *kept, mc_err_t *err);

/* one live session as the hub sees it, for mc_store_sessions_renew */
typedef struct mc_session_state {
    const char *agency;    /* agency code */
    const char *session;   /* its session */
    bool        ready;     /* said Ready on a live connection */
    int         credit;    /* credit the hub counts */
    int         in_flight; /* cases sent, not acked */
} mc_session_state_t;

/*
 * mc_store_sessions_renew - one statement for every live session of this
 * hub: each listed session is made or renewed (connected, ready, credit,
 * in_flight, hub_epoch, seen_at = now, lease_until = now + lease_ms;
 * several entries of one session are summed); sessions of this hub_epoch
 * that are not listed are marked not connected (their lease runs on), and
 * so are sessions of any hub whose lease ran out (a hub killed with its
 * sessions still marked connected: another instance clears them).
 * A session that belongs to another agency is left alone.
 */
mc_store_rc_t mc_store_sessions_renew(mc_store_t *store, int64_t hub_epoch, int lease_ms,
                                      const mc_session_state_t *live, size_t n, mc_err_t *err);

/*
 * mc_store_sessions_expire - up to limit acked cases whose lease ran out
 * (their session's lease_until has passed, or the session is missing,
 * belongs to another agency, or lease_session is NULL) go back to queued,
 * lease_session NULL, with a `lease_expired` event (actor lienthong); the
 * next claim sends them again with the same case_id and revision and a
 * higher attempt. Sessions whose lease ran out a day ago are deleted.
 * *expired gets the count.
 */
mc_store_rc_t mc_store_sessions_expire(mc_store_t *store, int limit, int *expired, mc_err_t *err);

/* one missing document of a NEEDS_DOCUMENTS result (for the notification) */
typedef struct mc_case_missing {
    const char *document_type;
    const char *name;
    const char *reason;
} mc_case_missing_t;

/*
 * What the store reads, under the lock of the case and its dossier, for the
 * daemon to judge an agency's accepted result (the verdict was ACCEPTED:
 * identity, revision and idempotency are the store's). Pointers live for
 * the call only.
 */
typedef struct mc_result_claim {
    const char              *agency;              /* who answered (the ZAP user id) */
    const char              *dossier_code;        /* the dossier's code */
    const char              *procedure_code;      /* its procedure (catalog code) */
    int                      dossier_state;       /* mc_dossier_state_t as locked (ROUTED is written
                                                   * IN_PROGRESS before the plan) */
    int                      supplement_requests; /* dossier.supplement_requests: requests made so far */
    long                     supplement_events;   /* `supplement_requested` events so far (notice numbering) */
    int                      step;                /* 0 = acceptance of an online dossier, 1.. processing */
    int                      steps_total;         /* the plan's steps (0 for an acceptance case) */
    int                      revision;            /* the round answered */
    int                      outcome;             /* mc_outcome_t of the answer */
    const char              *reason;              /* REJECTED: the agency's reason */
    const mc_case_missing_t *missing;             /* NEEDS_DOCUMENTS: what is missing */
    size_t                   n_missing;           /* entries in missing */
    bool                     has_next;            /* a step step+1 exists */
    const char              *next_agency;         /* has_next: its agency */
    int                      next_time_limit;     /* has_next: its time limit */
    int                      next_time_unit;      /* has_next: mc_time_unit_t of the limit */
    int64_t                  now;                 /* the moment of the lock (epoch seconds) */
} mc_result_claim_t;

/* one dossier_event of a result plan (actor: the agency) */
typedef struct mc_result_event {
    const char *kind;   /* dossier_event.kind (mc_event_kind_name), NULL for none */
    const char *detail; /* its detail (an mc_event text) */
} mc_result_event_t;

/*
 * What the store writes for an accepted result, as given, in the result's
 * transaction, in this order: the case, `before`, the later steps cancelled,
 * the dossier, `event`, the next step queued, the notice.
 * A ROUTED dossier becomes IN_PROGRESS whatever the plan says.
 */
typedef struct mc_result_plan {
    bool        refuse;             /* a refused answer (second NEEDS_DOCUMENTS): only the event is
                                     * written, the case stays; verdict SUPPLEMENT_REFUSED */
    int         case_state;         /* mc_case_state_t of the answered case: DONE or PAUSED */
    int         dossier_state;      /* the dossier's next state: RESULT_READY, REFUSED,
                                     * WAITING_SUPPLEMENT, RECEIVED, or 0 to leave it */
    bool        cancel_later;       /* the later steps are cancelled */
    int64_t     supplement_due_at;  /* WAITING_SUPPLEMENT: the applicant's deadline */
    int64_t     accepted_at;        /* RECEIVED: when it was accepted */
    int64_t     counted_from;       /* RECEIVED: the processing time counts from */
    int64_t     due_at;             /* RECEIVED: the result is due at */
    bool        queue_next;         /* step+1 is queued (it must exist: claim->has_next) */
    int64_t     next_due_at;        /* queue_next: the next step's due date */
    mc_result_event_t before;       /* written before the dossier's new state (kind NULL: none) */
    mc_result_event_t event;        /* written after it (kind NULL: none); the only write of a
                                     * refused answer */
    const char *notice_kind;        /* notification.kind, NULL for none */
    const char *notice_dedupe;      /* its dedupe key */
    const char *notice_data;        /* its data, a JSON object */
} mc_result_plan_t;

/* decide an accepted result; return 0 to write plan, -1 to fail the call (nothing stored).
 * No I/O but logs; never calls the store. */
typedef int (*mc_result_decide_fn)(void *arg, const mc_result_claim_t *claim,
                                   mc_result_plan_t *plan);

/* an agency's result for a case */
typedef struct mc_case_result {
    const char              *agency;     /* from the ZAP user id */
    const char              *case_id;
    int                      outcome;    /* motcua.v1.Outcome: 1 approved, 2 rejected, 3 needs documents */
    const uint8_t           *result;     /* the serialized CaseResult, stored as received */
    size_t                   result_len;
    const char              *reason;     /* REJECTED: the reason (notification data only) */
    const mc_case_missing_t *missing;    /* NEEDS_DOCUMENTS: what is missing */
    size_t                   n_missing;
    int                      revision;   /* CaseResult.revision (0 = 1) */
    mc_result_decide_fn      decide;     /* the daemon's judgement (lienthong_decide_result) */
    void                    *decide_arg; /* for decide */
} mc_case_result_t;

/* what recording a result did */
typedef struct mc_case_result_out {
    mc_case_verdict_t verdict;
    char              dossier_code[MC_CODE_MAX];           /* when the case exists */
    char              next_agency[MC_AGENCY_CODE_LEN + 1]; /* non-empty: the next step was queued for it */
    int               dossier_state;                       /* motcua.v1.DossierState after the call */
    bool              notified;                            /* a notification row was queued */
    int64_t           supplement_due_at;                   /* NEEDS_DOCUMENTS accepted: the applicant's deadline, else 0 */
    bool              accepted;                            /* an online dossier was accepted: it waits for routing */
} mc_case_result_out_t;

/*
 * mc_store_cases_result - record a result, in one transaction: lock the
 * dossier and the case, judge the verdict (below), and for an ACCEPTED one
 * read a mc_result_claim_t, call in->decide and write its plan. The
 * transitions of docs/pipeline.md as lienthong_decide_result plans them:
 *   APPROVED, not last: case done, `step_done`, next step planned → queued
 *     with its due_at (mc_calendar_due from now);
 *   APPROVED, last: case done, `step_done`, dossier RESULT_READY, result_at,
 *     `result_ready` event + notification;
 *   REJECTED: case done, dossier REFUSED, later steps cancelled, `refused`
 *     event + notification (data: reason);
 *   NEEDS_DOCUMENTS, the dossier's first request (supplement_requests 0):
 *     case paused, dossier WAITING_SUPPLEMENT, paused_at, supplement_requests
 *     + 1, supplement_due_at = mc_calendar_due(now, rules.supplement_days
 *     working days), `supplement_requested` event + notification (data: the
 *     missing list, supplement_due = that deadline in epoch seconds);
 *   NEEDS_DOCUMENTS when the dossier was asked once already: verdict
 *     SUPPLEMENT_REFUSED, nothing changes but a `supplement_refused` event
 *     (committed); the case stays as it was (acked, same revision, no
 *     result), so the agency's next APPROVED or REJECTED is ACCEPTED.
 *   APPROVED acceptance case (step 0, dossier PENDING_ACCEPTANCE): case
 *     done, dossier RECEIVED with accepted_at = now and counted_from /
 *     due_at the procedure's time from now, `accepted` event, `received` notification
 *     ("<code>/received"); out->accepted. REJECTED and NEEDS_DOCUMENTS of an
 *     acceptance case are the transitions above (REFUSED, WAITING_SUPPLEMENT).
 * Steps: 0 is the acceptance case of an online dossier, 1..n the processing.
 * A ROUTED dossier becomes IN_PROGRESS first. Results are accepted for sent,
 * acked and dead cases (the agency evidently has it) and for a case queued
 * again after it was sent in this revision (attempts > 0). NOT_SENT: the
 * case was never sent in the revision answered (planned, queued with no
 * attempt yet, or a revision above the case's): the agency cannot know it.
 * NOT_YOURS: another agency's case. CLOSED: an earlier revision, or cancelled.
 */
mc_store_rc_t mc_store_cases_result(mc_store_t *store, const mc_case_result_t *in,
                                    mc_case_result_out_t *out, mc_err_t *err);

/* one agency's ack in a batch (mc_store_cases_batch) */
typedef struct mc_case_ack_item {
    mc_session_ref_t  who;      /* who acked (the connection's agency and session) */
    const char       *case_id;  /* CaseAck.case_id */
    uint32_t          revision; /* CaseAck.revision (0 = the current one) */
    mc_case_verdict_t verdict;  /* out: as mc_store_cases_ack decides it */
    mc_store_rc_t     rc;       /* out: OK (verdict holds), or this ack's failure (not stored) */
} mc_case_ack_item_t;

/* one agency's result in a batch (mc_store_cases_batch) */
typedef struct mc_case_result_item {
    mc_case_result_t     in;  /* the result; in.decide_arg is this item's own */
    mc_case_result_out_t out; /* out: as mc_store_cases_result fills it */
    mc_store_rc_t        rc;  /* out: OK (out holds), or this result's failure (nothing of it
                               * stored, out.verdict UNKNOWN; the others unaffected) */
} mc_case_result_item_t;

/*
 * mc_store_cases_batch - the acks and results an agency poll brought, in ONE
 * transaction (one commit, one WAL flush) and few round trips (libpq
 * pipeline mode: BEGIN, every ack and every result's locks and reads in
 * one; every accepted result's writes and COMMIT in the next). Each item is
 * judged exactly as mc_store_cases_ack / mc_store_cases_result judge it
 * (unknown, not yours, stale, not sent, closed, duplicate, conflict,
 * accepted, supplement refused), acks first, then results in their order;
 * a result whose dossier (case_id up to its last '/') an earlier result of
 * the batch also answers is read after that one's writes (a second "wave"
 * in the same transaction), so two answers of one case or dossier never
 * both see the state before either. A result the daemon cannot decide
 * (decide -1) gets rc FAILED and writes nothing; the rest go on. If a
 * statement fails (the whole transaction is then lost), the batch is tried
 * once more on UNAVAILABLE (safe: a commit that went through unseen makes
 * every item a DUPLICATE), and on FAILED each item again alone, so a bad
 * one fails alone. Returns OK when every item has its own rc (each OK or
 * its failure), else the failure that left every item with it (nothing
 * stored). Verdicts are final only after this returns OK: answers go out
 * after it, never before.
 */
mc_store_rc_t mc_store_cases_batch(mc_store_t *store, mc_case_ack_item_t *acks, size_t n_acks,
                                   mc_case_result_item_t *results, size_t n_results,
                                   mc_err_t *err);

/* one dead letter, for the operator */
typedef struct mc_dead_case {
    char    case_id[MC_CASE_ID_LEN + 1];
    char    dossier_code[MC_CODE_MAX];
    char    agency[MC_AGENCY_CODE_LEN + 1];
    int     step;
    int     steps_total;
    int     attempts;
    int64_t since; /* when it was parked */
} mc_dead_case_t;

/* mc_store_cases_dead - up to max dead letters, oldest first (*list malloc'd, free()) */
mc_store_rc_t mc_store_cases_dead(mc_store_t *store, int max, mc_dead_case_t **list, size_t *n,
                                  mc_err_t *err);

/*
 * mc_store_cases_requeue - an operator takes a case back, with a `requeued`
 * event (actor operator): a dead letter → queued with attempts 0; an acked
 * case → queued with its attempts kept and lease_session NULL (the agency
 * that held it is offered it again, same case_id and revision, higher
 * attempt, and its dedupe makes that safe). NOT_FOUND unless case_id is
 * dead or acked. *agency (68 bytes, may be NULL) gets its agency,
 * *was_state (may be NULL) MC_CASE_DEAD or MC_CASE_ACKED.
 */
mc_store_rc_t mc_store_cases_requeue(mc_store_t *store, const char *case_id, char *agency,
                                     int *was_state, mc_err_t *err);

#endif
