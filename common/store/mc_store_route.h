/*
 * mc_store_route - the store's side of the pipeline after intake: routing
 * dossiers to their desk with the whole plan of steps, the deadline scans
 * (late notices and the one re-appointment; the return of dossiers whose
 * supplement deadline passed). The applicant's follow-up requests through
 * intake (supplement, withdraw, rate) are in mc_store_followup.h.
 *
 * Contract (docs/pipeline.md is the design this implements):
 *   * Every call is one transaction (or, for the batches, one transaction
 *     for the whole batch) on the store's main connection, synchronous
 *     commit. What it returns OK for is committed.
 *   * Work is claimed with SELECT ... FOR UPDATE SKIP LOCKED inside the
 *     transaction that changes it, so several routers at once never route
 *     a dossier twice and never send two late notices for one due date.
 *   * The store decides nothing about the business: a callback supplied by
 *     the daemon sees each claimed row while its lock is held and says what
 *     to write (the plan, the new appointment, the reply). The callbacks
 *     must not call the store.
 *   * Return codes as in mc_store.h. On any failure the transaction is
 *     rolled back; nothing of it is kept.
 */
#ifndef MC_STORE_ROUTE_H
#define MC_STORE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_err.h"
#include "mc_store.h"
#include "mc_limits.h"

/* --- routing ------------------------------------------------------------- */

/* a RECEIVED dossier claimed for routing */
typedef struct mc_route_claim {
    int64_t id;                                        /* dossier.id */
    char    code[MC_CODE_MAX];                         /* dossier code */
    char    ward_code[MC_WARD_CODE_LEN + 1];           /* receiving ward */
    char    procedure_code[MC_PROCEDURE_CODE_LEN + 1]; /* catalog code */
    int64_t due_at;                                    /* the receipt's due date */
} mc_route_claim_t;

/* one step of a dossier's plan */
typedef struct mc_plan_step {
    const char *agency;     /* desk or agency code */
    const char *task;       /* what it does, "" if nothing to say */
    int         time_limit; /* the step's own limit */
    int         time_unit;  /* mc_time_unit_t */
} mc_plan_step_t;

/* what the router decided for one claim; pointers must stay valid until
 * the decide callback is called again or the batch call returns */
typedef struct mc_route_plan {
    const char           *department;   /* handling desk: dossier.department, agency of step 1 */
    const char           *detail;       /* `routed` event detail, no personal data */
    const mc_plan_step_t *steps;        /* steps[0] is step 1 (the desk), then partner steps */
    size_t                n_steps;      /* >= 1 */
    int64_t               first_due_at; /* due date of step 1 (queued now) */
} mc_route_plan_t;

/* decide a plan; return 0 to route, -1 to leave the dossier RECEIVED (logged by the caller) */
typedef int (*mc_route_decide_fn)(void *arg, const mc_route_claim_t *claim, mc_route_plan_t *plan);

/*
 * mc_store_route_batch - claim up to limit RECEIVED dossiers (oldest first,
 * skipping rows another transaction holds) and route each one decide
 * accepts: state ROUTED, department, `routed` event (actor "router"), and
 * every agency_case row of the plan: case_id "<code>/<step>", step 1 state
 * 1 queued with first_due_at, the others state 0 planned. One transaction.
 * *claimed counts rows locked, *routed those routed.
 */
mc_store_rc_t mc_store_route_batch(mc_store_t *store, int limit, mc_route_decide_fn decide,
                                   void *arg, int *claimed, int *routed, mc_err_t *err);

/* --- online acceptance (Nghị định 118/2025 Điều 17) ------------------------ */

/*
 * mc_store_acceptance_case_batch - claim up to limit PENDING_ACCEPTANCE
 * dossiers that have no acceptance case yet (oldest first, SKIP LOCKED) and
 * for each one decide accepts write its acceptance case: case_id
 * "<code>/0", step 0, steps_total 0, agency = plan->department, task =
 * plan->steps[0].task, the step's limit, state 1 queued, due_at =
 * plan->first_due_at (the dossier's accept_due_at, handed to decide as
 * claim->due_at). The dossier row is not changed. One transaction;
 * *claimed counts rows locked, *created the cases written.
 */
mc_store_rc_t mc_store_acceptance_case_batch(mc_store_t *store, int limit,
                                             mc_route_decide_fn decide, void *arg, int *claimed,
                                             int *created, mc_err_t *err);

/* a pending online dossier past its acceptance deadline */
typedef struct mc_accept_claim {
    int64_t id;                             /* dossier.id */
    char    code[MC_CODE_MAX];              /* dossier code */
    int64_t accept_due_at;                  /* the deadline that passed */
    char    agency[MC_AGENCY_CODE_LEN + 1]; /* the desk holding its acceptance case, "" if none yet */
} mc_accept_claim_t;

/* decide the `acceptance_overdue` detail; 0 to record, -1 to leave it for the next scan */
typedef int (*mc_accept_decide_fn)(void *arg, const mc_accept_claim_t *claim,
                                   const char **detail);

/*
 * mc_store_acceptance_batch - claim up to limit PENDING_ACCEPTANCE dossiers
 * whose accept_due_at has passed and that have no `acceptance_overdue`
 * event yet, and record one (actor "router", decide's detail) for each one
 * decide accepts: once per dossier. One transaction; *marked counts them.
 */
mc_store_rc_t mc_store_acceptance_batch(mc_store_t *store, int limit, mc_accept_decide_fn decide,
                                        void *arg, int *marked, mc_err_t *err);

/* --- deadlines ----------------------------------------------------------- */

/* an agency step past its own due date, claimed by the step-overdue scan */
typedef struct mc_step_overdue_claim {
    int64_t case_id;                        /* agency_case.id */
    int64_t dossier_id;                     /* dossier.id */
    char    code[MC_CODE_MAX];              /* dossier code */
    int     step;                           /* 1-based (0: an acceptance case) */
    int     steps_total;                    /* the plan's steps */
    char    agency[MC_AGENCY_CODE_LEN + 1]; /* who holds the step */
    int64_t due_at;                         /* the step's own due date that passed */
} mc_step_overdue_claim_t;

/* decide; set *detail (no personal data) and return 0 to record, -1 to leave the step for
 * the next scan */
typedef int (*mc_step_overdue_decide_fn)(void *arg, const mc_step_overdue_claim_t *claim,
                                         const char **detail);

/*
 * mc_store_step_overdue_batch - claim up to limit open agency steps
 * (queued, sent, acked) whose own due_at has passed and that were not yet
 * reported for that due date, oldest due first, and for each one decide
 * accepts: a `step_overdue` event (actor "router") with decide's detail and
 * the date remembered (overdue_noted_due), in one transaction, so a repeat
 * is a no-op. The applicant's late notice stays per dossier
 * (mc_store_late_batch). *marked = steps reported.
 */
mc_store_rc_t mc_store_step_overdue_batch(mc_store_t *store, int limit,
                                          mc_step_overdue_decide_fn decide, void *arg,
                                          int *marked, mc_err_t *err);

/* an overdue dossier claimed by the deadline scan */
typedef struct mc_late_claim {
    int64_t id;                                        /* dossier.id */
    char    code[MC_CODE_MAX];                         /* dossier code */
    char    procedure_code[MC_PROCEDURE_CODE_LEN + 1]; /* catalog code */
    int     state;                                     /* RECEIVED, ROUTED or IN_PROGRESS */
    int64_t due_at;                                    /* the due date that passed */
    bool    reappointed;                               /* a late notice was sent before */
    bool    apologized;                                /* the apology with a new date went out before (apology_at) */
} mc_late_claim_t;

/* what to record for one overdue dossier */
typedef struct mc_late_decision {
    int64_t     new_due_at; /* the new appointment, or 0 for none */
    const char *detail;     /* `late` event detail, no personal data */
} mc_late_decision_t;

/* decide; return 0 to record, -1 to leave the dossier for the next scan */
typedef int (*mc_late_decide_fn)(void *arg, const mc_late_claim_t *claim,
                                  mc_late_decision_t *decision);

/*
 * mc_store_late_batch - claim up to limit dossiers in RECEIVED, ROUTED or
 * IN_PROGRESS whose due_at has passed and whose late_notified_due is not
 * that due_at, and for each one decide accepts: late_notified_due = the due
 * date that passed, due_at = new_due_at when one is given, a `late` event
 * (actor "router") and a `late` notification with dedupe key
 * "<code>/late/<epoch of the due date that passed>" and data {due_at,
 * new_due_at, apology (bool: an apology went out before), reason (the
 * event detail)}. One transaction; *marked counts the dossiers recorded.
 */
mc_store_rc_t mc_store_late_batch(mc_store_t *store, int limit, mc_late_decide_fn decide,
                                  void *arg, int *marked, mc_err_t *err);

/* --- supplements not made in time (0015_supplement_once) ------------------ */

/* a WAITING_SUPPLEMENT dossier whose supplement_due_at has passed */
typedef struct mc_unsupplemented_claim {
    int64_t id;                                        /* dossier.id */
    char    code[MC_CODE_MAX];                         /* dossier code */
    char    procedure_code[MC_PROCEDURE_CODE_LEN + 1]; /* catalog code */
    int64_t supplement_due_at;                         /* the deadline that passed (epoch s) */
} mc_unsupplemented_claim_t;

/* what to record for one returned dossier */
typedef struct mc_unsupplemented_decision {
    const char *detail; /* `returned` event detail, no personal data */
} mc_unsupplemented_decision_t;

/* decide; return 0 to return the dossier, -1 to leave it for the next scan */
typedef int (*mc_unsupplemented_decide_fn)(void *arg, const mc_unsupplemented_claim_t *claim,
                                           mc_unsupplemented_decision_t *decision);

/*
 * mc_store_unsupplemented_batch - claim up to limit dossiers in
 * WAITING_SUPPLEMENT whose supplement_due_at has passed (FOR UPDATE SKIP
 * LOCKED, oldest deadline first) and for each one decide accepts: state
 * RETURNED (10), returned_at = now(), its open steps (planned, queued, sent,
 * acked, paused) cancelled through mc_cases_return (as a withdrawal cancels
 * them), a `returned` event (actor "router") and a `returned` notification
 * with dedupe key "<code>/returned" and data {supplement_due}. One
 * transaction; *returned counts the dossiers returned. A supplement that
 * commits first takes the dossier out of WAITING_SUPPLEMENT, so it is not
 * claimed; one that comes after finds RETURNED (REASON_WRONG_STATE).
 */
mc_store_rc_t mc_store_unsupplemented_batch(mc_store_t *store, int limit,
                                            mc_unsupplemented_decide_fn decide, void *arg,
                                            int *returned, mc_err_t *err);

/* a dossier received at another ward that has not reached its competent unit in time */
typedef struct mc_forwarding_claim {
    int64_t id;                                   /* dossier.id */
    char    code[MC_CODE_MAX];                    /* dossier code */
    char    ward_code[MC_WARD_CODE_LEN + 1];      /* the competent ward */
    char    receiving_ward[MC_WARD_CODE_LEN + 1]; /* the ward that received it */
    int64_t forward_due_at;                       /* the forwarding deadline that passed */
} mc_forwarding_claim_t;

/* what to record for it */
typedef struct mc_forwarding_decision {
    const char *detail; /* `forward_overdue` event detail, no personal data */
} mc_forwarding_decision_t;

/* decide; return 0 to record, -1 to leave the dossier for the next scan */
typedef int (*mc_forwarding_decide_fn)(void *arg, const mc_forwarding_claim_t *claim,
                                       mc_forwarding_decision_t *decision);

/*
 * mc_store_forwarding_batch - boundary-free reception (migration 0016):
 * claim up to limit open dossiers (RECEIVED, ROUTED, IN_PROGRESS,
 * WAITING_SUPPLEMENT) received at another ward whose forward_due_at has
 * passed with no forwarded_at and no forward_overdue_at yet, and for each one
 * decide accepts: forward_overdue_at = now and a `forward_overdue` event
 * (actor "router"): once per dossier. One transaction; *marked counts them.
 */
mc_store_rc_t mc_store_forwarding_batch(mc_store_t *store, int limit,
                                        mc_forwarding_decide_fn decide, void *arg, int *marked,
                                        mc_err_t *err);

#endif
