/*
 * mc_states - the names of every state the store keeps, in one place.
 *
 * Contract:
 *   * Every stored state column has one family here: dossier.state
 *     (motcua.v1.DossierState), agency_case.state, agency_case.outcome
 *     (motcua.v1.Outcome), notification.state and portal_outbox.state.
 *     (notification_attempt has no state column: mc_attempt_state_t in
 *     mc_store_notify.h names what its ok/finished_at columns mean.)
 *     Migration 0018_named_states.sql gives the same names to the columns
 *     (COMMENT ON) and bounds them (CHECK).
 *   * Each number is written ONCE, as a digit macro `<NAME>_` (e.g.
 *     MC_DOSSIER_RECEIVED_ 1). The enum constant <NAME> and its SQL spelling
 *     MC_SQL(<NAME>) are both made of it, so C and SQL cannot disagree.
 *   * The two families that exist on the wire are tied to the generated
 *     protobuf-c enums by static asserts: changing a number in the .proto
 *     without changing it here fails the build.
 *   * SQL statements in C name states with MC_SQL(name), which the compiler
 *     joins into the statement's string literal ("... WHERE state = "
 *     MC_SQL(MC_DOSSIER_RECEIVED) " AND ..." is the text "... state = 1 AND").
 *     The statement stays one constant, parameterised string: nothing is
 *     built at run time, and the SQL text is byte for byte what a literal
 *     number gave (partial index predicates still match). The MC_SQL_*
 *     lists name the sets several statements share. A misspelt name is not
 *     a compile error but SQL text ("MC_DOSSIER_RECIEVED_") that PostgreSQL
 *     refuses when the statement is prepared, i.e. in every test.
 *   * In the migrations (plain SQL, no preprocessor) a number is followed
 *     by its name in a comment; the CHECK constraints of 0018 bound each
 *     column to the numbers below.
 *   * Order means nothing except where a comment says so: compare states by
 *     name or by set, never by "<" (the old "state < 5" of the open
 *     dossiers is spelt MC_SQL_DOSSIER_OPEN_BELOW, kept for its index).
 */
#ifndef MC_STATES_H
#define MC_STATES_H

#include "motcua/v1/agency.pb-c.h"
#include "motcua/v1/dossier.pb-c.h"

/* MC_SQL - a state's number as an SQL literal: MC_SQL(MC_CASE_SENT) is "2" */
#define MC_SQL(name)     MC_SQL_NUM_(name##_)
#define MC_SQL_NUM_(num) MC_SQL_STR_(num)
#define MC_SQL_STR_(num) #num

/* --- dossier.state = motcua.v1.DossierState ------------------------------ */
#define MC_DOSSIER_RECEIVED_           1
#define MC_DOSSIER_ROUTED_             2
#define MC_DOSSIER_IN_PROGRESS_        3
#define MC_DOSSIER_WAITING_SUPPLEMENT_ 4
#define MC_DOSSIER_RESULT_READY_       5
#define MC_DOSSIER_DELIVERED_          6
#define MC_DOSSIER_WITHDRAWN_          7
#define MC_DOSSIER_REFUSED_            8
#define MC_DOSSIER_PENDING_ACCEPTANCE_ 9
#define MC_DOSSIER_RETURNED_           10

typedef enum mc_dossier_state {
    MC_DOSSIER_RECEIVED           = MC_DOSSIER_RECEIVED_,           /* đã tiếp nhận: waits for a desk */
    MC_DOSSIER_ROUTED             = MC_DOSSIER_ROUTED_,             /* a desk holds it, step 1 not acked */
    MC_DOSSIER_IN_PROGRESS        = MC_DOSSIER_IN_PROGRESS_,        /* đang giải quyết */
    MC_DOSSIER_WAITING_SUPPLEMENT = MC_DOSSIER_WAITING_SUPPLEMENT_, /* chờ bổ sung: clock stopped */
    MC_DOSSIER_RESULT_READY       = MC_DOSSIER_RESULT_READY_,       /* có kết quả (closed) */
    MC_DOSSIER_DELIVERED          = MC_DOSSIER_DELIVERED_,          /* đã trả kết quả (closed) */
    MC_DOSSIER_WITHDRAWN          = MC_DOSSIER_WITHDRAWN_,          /* công dân rút hồ sơ (closed) */
    MC_DOSSIER_REFUSED            = MC_DOSSIER_REFUSED_,            /* từ chối giải quyết (closed) */
    MC_DOSSIER_PENDING_ACCEPTANCE = MC_DOSSIER_PENDING_ACCEPTANCE_, /* chờ tiếp nhận: online, not accepted */
    MC_DOSSIER_RETURNED           = MC_DOSSIER_RETURNED_,           /* trả lại: supplement never came (closed) */
} mc_dossier_state_t;

/* the processing states: the clock runs, a step may be open */
#define MC_SQL_DOSSIER_RUNNING \
    MC_SQL(MC_DOSSIER_RECEIVED) ", " MC_SQL(MC_DOSSIER_ROUTED) ", " MC_SQL(MC_DOSSIER_IN_PROGRESS)
/* the closed states with a result for the applicant */
#define MC_SQL_DOSSIER_WITH_RESULT MC_SQL(MC_DOSSIER_RESULT_READY) ", " MC_SQL(MC_DOSSIER_DELIVERED)
/* "state < this" = RECEIVED..WAITING_SUPPLEMENT, the spelling of migration
 * 0001's dossier_due_idx predicate (statements that use the index keep it) */
#define MC_SQL_DOSSIER_OPEN_BELOW MC_SQL(MC_DOSSIER_RESULT_READY)

_Static_assert(MC_DOSSIER_RECEIVED_ == MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_RECEIVED, "DossierState");
_Static_assert(MC_DOSSIER_ROUTED_ == MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_ROUTED, "DossierState");
_Static_assert(MC_DOSSIER_IN_PROGRESS_ == MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_IN_PROGRESS,
               "DossierState");
_Static_assert(MC_DOSSIER_WAITING_SUPPLEMENT_ ==
                   MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_WAITING_SUPPLEMENT, "DossierState");
_Static_assert(MC_DOSSIER_RESULT_READY_ == MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_RESULT_READY,
               "DossierState");
_Static_assert(MC_DOSSIER_DELIVERED_ == MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_DELIVERED,
               "DossierState");
_Static_assert(MC_DOSSIER_WITHDRAWN_ == MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_WITHDRAWN,
               "DossierState");
_Static_assert(MC_DOSSIER_REFUSED_ == MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_REFUSED, "DossierState");
_Static_assert(MC_DOSSIER_PENDING_ACCEPTANCE_ ==
                   MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_PENDING_ACCEPTANCE, "DossierState");
_Static_assert(MC_DOSSIER_RETURNED_ == MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_RETURNED, "DossierState");

/* --- agency_case.state (store only; mc_store_cases.h, docs/pipeline.md) --- */
#define MC_CASE_PLANNED_   0
#define MC_CASE_QUEUED_    1
#define MC_CASE_SENT_      2
#define MC_CASE_ACKED_     3
#define MC_CASE_DONE_      4
#define MC_CASE_DEAD_      5
#define MC_CASE_CANCELLED_ 6
#define MC_CASE_PAUSED_    7

typedef enum mc_case_state {
    MC_CASE_PLANNED   = MC_CASE_PLANNED_,   /* an earlier step is not done */
    MC_CASE_QUEUED    = MC_CASE_QUEUED_,    /* ready to send */
    MC_CASE_SENT      = MC_CASE_SENT_,      /* waiting for the ack */
    MC_CASE_ACKED     = MC_CASE_ACKED_,     /* waiting for the result */
    MC_CASE_DONE      = MC_CASE_DONE_,      /* answered (approved or rejected) */
    MC_CASE_DEAD      = MC_CASE_DEAD_,      /* dead letter: sent max_attempts times without an ack */
    MC_CASE_CANCELLED = MC_CASE_CANCELLED_, /* withdrawn, refused or returned dossier */
    MC_CASE_PAUSED    = MC_CASE_PAUSED_,    /* waiting for the applicant's supplement */
} mc_case_state_t;

/* the cases an agency owes work on (migration 0004's agency_case_open_due_idx) */
#define MC_SQL_CASE_OPEN \
    MC_SQL(MC_CASE_QUEUED) ", " MC_SQL(MC_CASE_SENT) ", " MC_SQL(MC_CASE_ACKED)

/* --- agency_case.outcome = motcua.v1.Outcome (NULL until answered) ------- */
#define MC_OUTCOME_APPROVED_        1
#define MC_OUTCOME_REJECTED_        2
#define MC_OUTCOME_NEEDS_DOCUMENTS_ 3

typedef enum mc_outcome {
    MC_OUTCOME_APPROVED        = MC_OUTCOME_APPROVED_,        /* the step is done */
    MC_OUTCOME_REJECTED        = MC_OUTCOME_REJECTED_,        /* từ chối: the dossier ends */
    MC_OUTCOME_NEEDS_DOCUMENTS = MC_OUTCOME_NEEDS_DOCUMENTS_, /* the applicant must add documents */
} mc_outcome_t;

_Static_assert(MC_OUTCOME_APPROVED_ == MOTCUA__V1__OUTCOME__OUTCOME_APPROVED, "Outcome");
_Static_assert(MC_OUTCOME_REJECTED_ == MOTCUA__V1__OUTCOME__OUTCOME_REJECTED, "Outcome");
_Static_assert(MC_OUTCOME_NEEDS_DOCUMENTS_ == MOTCUA__V1__OUTCOME__OUTCOME_NEEDS_DOCUMENTS, "Outcome");

/* --- notification.state (mc_store_notify.h) ------------------------------ */
#define MC_NOTIFICATION_PENDING_ 0
#define MC_NOTIFICATION_SENT_    1
#define MC_NOTIFICATION_FAILED_  2

typedef enum mc_notification_state {
    MC_NOTIFICATION_PENDING = MC_NOTIFICATION_PENDING_, /* to send, maybe after a backoff */
    MC_NOTIFICATION_SENT    = MC_NOTIFICATION_SENT_,    /* a channel took it */
    MC_NOTIFICATION_FAILED  = MC_NOTIFICATION_FAILED_,  /* failed for good: max attempts spent */
} mc_notification_state_t;

/* --- portal_outbox.state (mc_store_portal.h) ----------------------------- */
#define MC_OUTBOX_PENDING_ 0
#define MC_OUTBOX_ACKED_   1

typedef enum mc_outbox_state {
    MC_OUTBOX_PENDING = MC_OUTBOX_PENDING_, /* to post to the national portal */
    MC_OUTBOX_ACKED   = MC_OUTBOX_ACKED_,   /* the portal answered 2xx */
} mc_outbox_state_t;

#endif
