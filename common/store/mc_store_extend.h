/*
 * mc_store_extend - the store's side of the warning before lateness, the
 * agency's extension proposal and the apology (Nghị định 118/2025 Điều 19
 * khoản 6; docs/rules.md "Warning before lateness and the apology",
 * agency.proto rule 8; migration 0014).
 *
 * Contract:
 *   * The store claims, locks and writes; the daemon decides through the
 *     callbacks, which see the locked rows and must not call the store.
 *   * Every call is one transaction on the store's main connection; what
 *     it returns OK for is committed. On any failure it is rolled back.
 *   * The due_soon scan claims with FOR UPDATE SKIP LOCKED, so several
 *     routers never warn twice for one due date (warned_due).
 *   * An extension answer is stored with its request's fingerprint in
 *     idempotency_key (scope "extension:<agency>", key "<case_id>/<revision>/
 *     <sha256 hex>"), so the same request always gets the same ExtensionAck
 *     bytes; answers about the case's state (not acked, closed, another
 *     revision) are not stored: the same request may succeed later.
 */
#ifndef MC_STORE_EXTEND_H
#define MC_STORE_EXTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_err.h"
#include "mc_store.h"
#include "mc_store_cases.h"
#include "mc_limits.h"

/* --- the warning (router) --------------------------------------------------- */

/* an open dossier claimed by the due_soon scan */
typedef struct mc_due_soon_claim {
    int64_t id;                                        /* dossier.id */
    char    code[MC_CODE_MAX];                         /* dossier code */
    char    procedure_code[MC_PROCEDURE_CODE_LEN + 1]; /* catalog code */
    int     state;                                     /* ROUTED or IN_PROGRESS (a RECEIVED dossier has no step to warn yet) */
    int64_t due_at;                                    /* the due date that comes near */
    bool    extended;                                  /* re-appointed once already */
} mc_due_soon_claim_t;

/* decide the event detail (no personal data) in *detail; 0 to record, -1 to skip */
typedef int (*mc_due_soon_decide_fn)(void *arg, const mc_due_soon_claim_t *claim,
                                     const char **detail);

/*
 * mc_store_due_soon_batch - claim up to limit dossiers in ROUTED or
 * IN_PROGRESS (FOR NO KEY UPDATE SKIP LOCKED; a RECEIVED dossier has no step
 * to flag yet) whose due_at lies in (now, horizon] and whose warned_due
 * is not that due_at; for each one decide accepts: warned_due = due_at, a
 * `due_soon` event (actor "router"), and warn_pending on its open steps
 * (queued, sent, acked) so lienthong tells their agency. One transaction;
 * *marked counts the dossiers recorded.
 */
mc_store_rc_t mc_store_due_soon_batch(mc_store_t *store, int limit, int64_t horizon,
                                      mc_due_soon_decide_fn decide, void *arg, int *marked,
                                      mc_err_t *err);

/* --- DueSoon to the agency (lienthong) --------------------------------------- */

/* an acked case whose agency is still to be warned */
typedef struct mc_case_warning {
    char    case_id[MC_CASE_ID_LEN + 1]; /* the case */
    int     revision;                    /* its current revision */
    int64_t due_at;                      /* the step's own deadline, 0 if none */
    int64_t dossier_due_at;              /* the date promised to the applicant */
    char    session[MC_SESSION_LEN + 1]; /* lease_session: the session that holds it, "" if none */
    int64_t id;                          /* agency_case.id: the cursor of mc_store_cases_rewarnings */
} mc_case_warning_t;

/* one agency's part of a warnings read (mc_store_cases_warnings, _rewarnings) */
typedef struct mc_warn_req {
    const char        *agency;   /* whose cases */
    const char        *session;  /* rewarnings: that session's cases only; NULL or "": any */
    int64_t            after_id; /* rewarnings: cases with agency_case.id > after_id only */
    mc_case_warning_t *out;      /* the caller's array of max entries */
    size_t             max;      /* its size */
    size_t             n;        /* out: entries filled (0 for every req on a failure) */
} mc_warn_req_t;

/*
 * mc_store_cases_warnings - for every req, up to max acked cases of its
 * agency with warn_pending, oldest first. Reads only; ONE round trip for
 * all the reqs (pipelined), however many agencies.
 */
mc_store_rc_t mc_store_cases_warnings(mc_store_t *store, mc_warn_req_t *reqs, size_t n_reqs,
                                      mc_err_t *err);

/* mc_store_cases_warned - clear warn_pending of the n case_ids (their DueSoon went out),
 * in ONE round trip */
mc_store_rc_t mc_store_cases_warned(mc_store_t *store, const char *const *case_ids, size_t n,
                                    mc_err_t *err);

/*
 * mc_store_cases_rewarnings - the cases whose DueSoon must go again (agency
 * .proto rule 8: after a resync Ready, and every few heartbeats): for every
 * req, up to max cases of its agency, acked (held) under its session (any
 * session when none), with id > after_id, oldest first, not flagged
 * warn_pending (those go first anyway), whose dossier is RECEIVED, ROUTED or
 * IN_PROGRESS, was warned for its current due date (warned_due = due_at), is
 * not due yet, was never extended (extended_at IS NULL), and whose
 * ExtensionRequest for this case and revision has no stored answer
 * (idempotency_key scope "extension:<agency>", key "<case_id>/<revision>/...").
 * Reads only, ONE round trip for all the reqs: the warning is derived from
 * the store, so a lost frame or a dead daemon on either side never loses it.
 */
mc_store_rc_t mc_store_cases_rewarnings(mc_store_t *store, mc_warn_req_t *reqs, size_t n_reqs,
                                        mc_err_t *err);

/* --- the extension (lienthong) ----------------------------------------------- */

/* the case and dossier an ExtensionRequest is about, locked while decide looks */
typedef struct mc_extension_row {
    int64_t dossier_id;        /* dossier.id */
    char    code[MC_CODE_MAX]; /* dossier code */
    int     dossier_state;     /* motcua.v1.DossierState */
    int64_t due_at;            /* the dossier's due date now */
    bool    extended;          /* extended_at is set: re-appointed once already */
    int     step;              /* the case's step */
} mc_extension_row_t;

/* what decide wants: accept (new date) or refuse; the answer is stored with the key */
typedef struct mc_extension_change {
    bool           accepted;     /* true: extend and apologise */
    int64_t        new_due_at;   /* accepted: the new date (already rounded) */
    const uint8_t *response;     /* the serialized HubToAgency{extension_ack} */
    size_t         response_len; /* bytes in response */
    const char    *detail;       /* event detail: `extended`/`extension_refused`, no personal data */
    const char    *apology;      /* accepted: `apology` event detail */
} mc_extension_change_t;

/* decide: 0 with *change filled, -1 error (nothing written) */
typedef int (*mc_extension_decide_fn)(void *arg, const mc_extension_row_t *row,
                                      mc_extension_change_t *change);

/* one ExtensionRequest from an agency */
typedef struct mc_extension_req {
    const char            *agency;         /* from ZAP */
    const char            *case_id;        /* ExtensionRequest.case_id (checked printable) */
    int                    revision;       /* ExtensionRequest.revision, 0 read as 1 */
    const char            *reason;         /* the agency's reason (checked 1..2000 UTF-8) */
    const uint8_t         *request_sha256; /* 32 bytes: fingerprint of the request */
    mc_extension_decide_fn decide;         /* the business rule */
    void                  *arg;            /* for decide */
} mc_extension_req_t;

/*
 * mc_store_extension - one ExtensionRequest in one transaction. If the
 * request's key is stored: *verdict DUPLICATE and the stored answer in
 * *existing. Else lock the case and its dossier: no such case UNKNOWN,
 * another agency's NOT_YOURS, another revision STALE, queued or sent (offered
 * again, not acked yet: its lease ran out) NOT_SENT, otherwise not acked
 * CLOSED (nothing written, nothing stored); else decide, and write:
 *   accepted: dossier due_at = new, extended_at = apology_at = now(),
 *     extension_reason; the case's due_at = new; events `extended` (actor:
 *     the agency) and `apology` (actor "lienthong"); notification `apology`
 *     (dedupe "<code>/apology", data {reason, old_due, new_due}); verdict
 *     ACCEPTED;
 *   refused: event `extension_refused` (actor: the agency); verdict CONFLICT;
 * and the key with decide's answer. *notified = an apology was queued.
 */
mc_store_rc_t mc_store_extension(mc_store_t *store, const mc_extension_req_t *req,
                                 mc_stored_response_t *existing, mc_case_verdict_t *verdict,
                                 bool *notified, mc_err_t *err);

#endif
