/*
 * mc_store_followup - the store's side of the applicant's follow-up requests
 * through intake: supplement, withdraw and rate (Nghị định 118/2025 Điều 19;
 * docs/pipeline.md). intake's decide_supplement / decide_withdraw /
 * decide_rate (services/intake/intake_followup.c) judge; this writes.
 *
 * Contract:
 *   * One call is one transaction on the store's main connection, synchronous
 *     commit. What it returns OK for is committed, with its idempotency key
 *     and stored reply, so a retried request gets the same answer.
 *   * The dossier row is locked (FOR NO KEY UPDATE) while the daemon's decide
 *     callback looks at it; the callback decides everything and must not call
 *     the store.
 *   * Return codes as in mc_store.h. On any failure the transaction is rolled
 *     back; nothing of it is kept.
 */
#ifndef MC_STORE_FOLLOWUP_H
#define MC_STORE_FOLLOWUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_err.h"
#include "mc_store.h"
#include "mc_limits.h"

typedef enum mc_followup_kind {
    MC_FOLLOWUP_SUPPLEMENT = 1, /* WAITING_SUPPLEMENT -> IN_PROGRESS */
    MC_FOLLOWUP_WITHDRAW   = 2, /* open -> WITHDRAWN */
    MC_FOLLOWUP_RATE       = 3, /* the applicant's rating; the state does not change */
} mc_followup_kind_t;

/* the dossier a follow-up is about, locked while decide looks at it */
typedef struct mc_followup_row {
    int64_t        id;                                        /* dossier.id */
    char           code[MC_CODE_MAX];                         /* dossier code */
    char           ward_code[MC_WARD_CODE_LEN + 1];           /* the competent ward (it received it too unless receiving_ward says otherwise) */
    char           procedure_code[MC_PROCEDURE_CODE_LEN + 1]; /* catalog code */
    int            state;                                     /* motcua.v1.DossierState */
    int64_t        due_at;                                    /* current due date */
    const uint8_t *payload;                                   /* stored serialized Dossier */
    size_t         payload_len;                               /* bytes in payload */
    char           rating_token[40];                          /* dossier.rating_token as lowercase UUID text (a secret: never log it) */
    bool           rated;                                     /* a rating row exists for the dossier */
    bool           unaccepted;                                /* online and not accepted yet (accept_due_at set, accepted_at NULL) */
    char           receiving_ward[MC_WARD_CODE_LEN + 1];      /* boundary-free reception: the ward that received it, "" when ward_code did */
} mc_followup_row_t;

/* what decide wants written (supplement uses payload and dates, rate level and comment) */
typedef struct mc_followup_change {
    const uint8_t *response;     /* serialized reply, stored with the key */
    size_t         response_len; /* bytes in response */
    const uint8_t *payload;      /* supplement: the new serialized Dossier */
    size_t         payload_len;  /* bytes in payload */
    int64_t        counted_from; /* supplement: when the time runs again */
    int64_t        due_at;       /* supplement: the new due date */
    int64_t        accept_due_at; /* supplement of an unaccepted dossier: the new acceptance deadline
                                   * (then counted_from and due_at are 0 and the dossier goes back to
                                   * PENDING_ACCEPTANCE, its acceptance case resumed) */
    const char    *detail;       /* event detail, no personal data */
    const char    *actor;        /* event actor: the intake client that asked; NULL = "intake" */
    const char    *reason;       /* withdraw: the applicant's reason, kept in the notification, "" if none */
    int            level;        /* rate: 1..3 (motcua.v1.Satisfaction) */
    const char    *comment;      /* rate: the applicant's comment, kept in the rating row only, "" if none */
} mc_followup_change_t;

/* decide: 0 write the change, 1 refuse (nothing is written; the caller has its answer), -1 error */
typedef int (*mc_followup_decide_fn)(void *arg, const mc_followup_row_t *row,
                                     mc_followup_change_t *change);

/* one follow-up request */
typedef struct mc_followup {
    mc_followup_kind_t    kind;           /* supplement, withdraw or rate */
    const char           *scope;          /* "supplement:<ward>", "withdraw:<ward>" or "rate:<ward>" */
    const char           *key;            /* the client's submission_id */
    const uint8_t        *request_sha256; /* 32 bytes: hash of the request */
    const char           *code;           /* the dossier code */
    mc_followup_decide_fn decide;         /* the business rule */
    void                 *arg;            /* for decide */
} mc_followup_t;

/*
 * mc_store_followup - one follow-up in one transaction: if (scope, key) is
 * known, EXISTS with the stored reply in *existing (before or after locking
 * the dossier, so a concurrent retry also finds it); NOT_FOUND when no
 * dossier has the code; otherwise lock the dossier row, call decide, and
 * unless it refuses (*refused = true, OK, nothing written) write:
 *   supplement: payload, state IN_PROGRESS, paused_at NULL, counted_from,
 *     due_at; paused cases (7) -> queued (1), attempts 0, due_at; event
 *     `supplemented`; with accept_due_at instead: state PENDING_ACCEPTANCE,
 *     accept_due_at, no counted_from/due_at, the paused acceptance case
 *     queued as a new revision due at accept_due_at;
 *   withdraw: state WITHDRAWN; open cases (0,1,2,3,7) -> cancelled (6);
 *     event `withdrawn`; notification `withdrawn` ("<code>/withdrawn");
 *   rate: the `rating` row (level, comment); event `rated` (actor "intake",
 *     decide's detail: never the comment); the dossier row is not changed;
 * and the idempotency key with the reply, all in the transaction. decide
 * sees row->rating_token and row->rated read under the lock, so two ratings
 * under different keys serialise on the dossier row and the second one
 * finds rated = true.
 */
mc_store_rc_t mc_store_followup(mc_store_t *store, const mc_followup_t *req,
                                mc_stored_response_t *existing, bool *refused, mc_err_t *err);

#endif
