/*
 * mc_event - the dossier history's words: every kind of dossier_event by
 * name, and the Vietnamese detail text of each event a daemon decides.
 *
 * Contract:
 *   * mc_event_kind_t names every kind the store holds; mc_event_kind_name
 *     gives the stored string (dossier_event.kind), never anything else.
 *   * One function per detail text, `mc_event_<kind>(buf, size, ...)`:
 *     it writes the text into buf (snprintf: always NUL-terminated, cut at
 *     size) and returns buf. The texts are the history's (and the portal's
 *     and the forms') evidence: a change of a text is a change of
 *     behaviour, caught by tests/unit/test_decide.c. Details carry step
 *     numbers, agency and ward codes and dates, never personal data.
 *   * Dates are local time (Asia/Ho_Chi_Minh) in mc_format_local's form
 *     ("HH giờ MM phút, ngày DD/MM/YYYY") unless a function says otherwise.
 *   * Some kinds are written by SQL: the migrations' functions (received,
 *     submitted, forward_due with intake's texts, forwarded with its own;
 *     migrations are history and stay) and the store's set-based
 *     statements in mc_store_cases.c
 *     (sent_to_agency, agency_received, not_held, lease_expired,
 *     dead_letter, requeued), whose texts are format() templates from here
 *     (mc_event_sql_format). Nothing here allocates or does I/O.
 */
#ifndef MC_EVENT_H
#define MC_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MC_EVENT_DETAIL_MAX 512 /* a buffer every mc_event text fits in */

/* every dossier_event.kind */
typedef enum mc_event_kind {
    MC_EVENT_RECEIVED,            /* SQL mc_create_dossier (0001..0016); text from intake */
    MC_EVENT_SUBMITTED,           /* SQL mc_create_dossier (0013): an online dossier waits for acceptance */
    MC_EVENT_FORWARD_DUE,         /* SQL mc_create_dossier (0016); text from intake */
    MC_EVENT_FORWARDED,           /* SQL trigger of 0016_boundary_free (its text there) */
    MC_EVENT_ROUTED,              /* router: the plan of steps (mc_event_routed) */
    MC_EVENT_SENT_TO_AGENCY,      /* store SQL stmt_claim (mc_store_cases.c): first send of a case */
    MC_EVENT_AGENCY_RECEIVED,     /* store SQL stmt_ack: the agency acked */
    MC_EVENT_NOT_HELD,            /* store SQL stmt_resync: the agency no longer holds it */
    MC_EVENT_LEASE_EXPIRED,       /* store SQL stmt_expire: the lease ran out */
    MC_EVENT_DEAD_LETTER,         /* store SQL stmt_dead: no ack after max sends */
    MC_EVENT_REQUEUED,            /* store SQL stmt_requeue: the operator took it back */
    MC_EVENT_ACCEPTED,            /* lienthong: an online dossier accepted (mc_event_accepted) */
    MC_EVENT_STEP_DONE,           /* lienthong: a step approved (mc_event_step_done) */
    MC_EVENT_RESULT_READY,        /* lienthong: the last step approved (mc_event_result_ready) */
    MC_EVENT_REFUSED,             /* lienthong: a step rejected (mc_event_refused) */
    MC_EVENT_SUPPLEMENT_REQUESTED, /* lienthong: the one supplement request */
    MC_EVENT_SUPPLEMENT_REFUSED,  /* lienthong: a second request refused */
    MC_EVENT_SUPPLEMENTED,        /* intake: the applicant supplemented */
    MC_EVENT_RETURNED,            /* router: not supplemented in time (mc_event_returned) */
    MC_EVENT_WITHDRAWN,           /* intake: the applicant withdrew */
    MC_EVENT_RATED,               /* intake: the applicant rated */
    MC_EVENT_LATE,                /* router: the dossier's due date passed */
    MC_EVENT_DUE_SOON,            /* router: the due date comes near */
    MC_EVENT_EXTENDED,            /* lienthong: an extension accepted */
    MC_EVENT_EXTENSION_REFUSED,   /* lienthong: an extension refused */
    MC_EVENT_APOLOGY,             /* lienthong: the apology (Mẫu 04) with the new date */
    MC_EVENT_ACCEPTANCE_OVERDUE,  /* router: an online dossier not accepted in time */
    MC_EVENT_FORWARD_OVERDUE,     /* router: a dossier not forwarded in time */
    MC_EVENT_STEP_OVERDUE,        /* router: an agency's step past its own due date */
    MC_EVENT_KIND_COUNT           /* not a kind: how many there are */
} mc_event_kind_t;

/* mc_event_kind_name - the stored string of kind ("routed", ...), "?" if out of range */
const char *mc_event_kind_name(mc_event_kind_t kind);

/* mc_event_kind_of - the kind whose stored string is name; -1 if none */
int mc_event_kind_of(const char *name);

/* --- the store's set-based statements (common/store/mc_store_cases.c) ----- */

/*
 * mc_event_sql_format - for a kind the store writes for many rows in one
 * statement, the detail as a PostgreSQL format() template the store binds
 * as a parameter, its %s arguments in this order:
 *   SENT_TO_AGENCY:   step, steps_total, agency, the task's first 60 characters
 *   AGENCY_RECEIVED:  step, steps_total
 *   NOT_HELD:         step, steps_total
 *   LEASE_EXPIRED:    step, steps_total, agency
 *   DEAD_LETTER:      step, steps_total, agency, sends
 *   REQUEUED:         step, steps_total, agency (a dead letter sent again;
 *                     mc_event_sql_requeued_held for an acked case taken back)
 * NULL for any other kind.
 */
const char *mc_event_sql_format(mc_event_kind_t kind);

/* mc_event_sql_requeued_held - REQUEUED of an acked case taken back from its agency
 * (arguments as REQUEUED) */
const char *mc_event_sql_requeued_held(void);

/* --- router (services/router/router_plan.c) ------------------------------ */

/* mc_event_routed - "<desk>: <desk name>" */
const char *mc_event_routed(char *buf, size_t size, const char *department,
                            const char *department_name);

/* mc_event_late - the late notice: apologized (re-appointed once) or not, with the due date */
const char *mc_event_late(char *buf, size_t size, int64_t due_at, bool apologized);

/* mc_event_returned - returned: not supplemented by supplement_due_at */
const char *mc_event_returned(char *buf, size_t size, int64_t supplement_due_at);

/* mc_event_due_soon - the warning before due_at; extended: no second extension */
const char *mc_event_due_soon(char *buf, size_t size, int64_t due_at, bool extended);

/* mc_event_acceptance_overdue - not accepted within hours working hours (due
 * accept_due_at); agency, when not empty, the desk that holds it */
const char *mc_event_acceptance_overdue(char *buf, size_t size, int hours, int64_t accept_due_at,
                                        const char *agency);

/* mc_event_forward_overdue - not forwarded from receiving_ward to ward_code by forward_due_at */
const char *mc_event_forward_overdue(char *buf, size_t size, const char *receiving_ward,
                                     const char *ward_code, int64_t forward_due_at);

/* mc_event_step_overdue - step/steps_total at agency past its due_at; the date
 * as "HH:MM DD/MM/YYYY" (the form of the SQL it replaced) */
const char *mc_event_step_overdue(char *buf, size_t size, int step, int steps_total,
                                  const char *agency, int64_t due_at);

/* --- lienthong: results (services/lienthong/lienthong_decide.c) ----------- */

/* mc_event_accepted - agency accepted an online dossier, result due at due_at */
const char *mc_event_accepted(char *buf, size_t size, const char *agency, int64_t due_at);

/* mc_event_step_done - step/steps_total approved by agency */
const char *mc_event_step_done(char *buf, size_t size, int step, int steps_total,
                               const char *agency);

/* mc_event_result_ready - the last step (step/steps_total) approved by agency */
const char *mc_event_result_ready(char *buf, size_t size, int step, int steps_total,
                                  const char *agency);

/* mc_event_refused - step/steps_total rejected by agency */
const char *mc_event_refused(char *buf, size_t size, int step, int steps_total,
                             const char *agency);

/* mc_event_supplement_requested - agency asks for n_missing documents at step/steps_total */
const char *mc_event_supplement_requested(char *buf, size_t size, int step, int steps_total,
                                          const char *agency, size_t n_missing);

/* mc_event_supplement_refused - a second request by agency at step/steps_total,
 * round revision, refused */
const char *mc_event_supplement_refused(char *buf, size_t size, int step, int steps_total,
                                        int revision, const char *agency);

/* --- lienthong: extensions (services/lienthong/lienthong_hub.c) ----------- */

/* mc_event_extended - agency's extension of step accepted: old and new due dates */
const char *mc_event_extended(char *buf, size_t size, const char *agency, int step,
                              int64_t old_due, int64_t new_due);

/* mc_event_apology - the apology (Mẫu 04) with the old and new due dates */
const char *mc_event_apology(char *buf, size_t size, int64_t old_due, int64_t new_due);

/* mc_event_extension_refused - agency's extension refused, why */
const char *mc_event_extension_refused(char *buf, size_t size, const char *agency,
                                       const char *why);

/* --- intake: follow-ups (services/intake/intake_followup.c) --------------- */

/* mc_event_supplemented_pending - n documents supplemented to an online
 * dossier, which waits for acceptance until accept_due_at */
const char *mc_event_supplemented_pending(char *buf, size_t size, size_t n_documents,
                                          int64_t accept_due_at);

/* mc_event_supplemented - n documents supplemented; the new due date */
const char *mc_event_supplemented(char *buf, size_t size, size_t n_documents, int64_t due_at);

/* mc_event_withdrawn - the applicant withdrew */
const char *mc_event_withdrawn(char *buf, size_t size);

/* mc_event_rated - the applicant's rating, by its level's words (never the comment) */
const char *mc_event_rated(char *buf, size_t size, const char *level_text);

#endif
