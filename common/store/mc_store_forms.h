/*
 * mc_store_forms - everything the printed forms of Thông tư 03/2025/TT-VPCP
 * (docs/forms.md) carry about one dossier, read from the store.
 *
 * Contract:
 *   * mc_store_form_data() reads, in one REPEATABLE READ READ ONLY
 *     snapshot, the dossier row (with its payload, which holds the
 *     applicant), the receipt reply intake stored for it (the exact
 *     IntakeReply bytes, so a reprinted Mẫu 01 is the one handed out), its
 *     events in order and its agency cases by step with their results. It
 *     changes nothing.
 *   * The step's handover times are the store's own: `sent_at` is the first
 *     sent_to_agency event of the step, `done_at` the case's last update
 *     once it is done (state 4); 0 when there is none.
 *   * NOT_FOUND when no dossier has the code. Never logs parameters (the
 *     payload holds personal data; the code is not personal but is not
 *     needed in logs either).
 *   * mc_store_form_register() reads the register (Mẫu số 07, Sổ theo dõi hồ
 *     sơ) of one ward: the dossiers it received in [from, to), oldest first,
 *     at most `limit` of them (`*more` says there were others), each with
 *     its handover times, in one read-only statement. Changes nothing.
 */
#ifndef MC_STORE_FORMS_H
#define MC_STORE_FORMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_err.h"
#include "mc_store.h"
#include "mc_limits.h"

/* at most this many events are read: a dossier's history is far shorter */
#define MC_FORM_MAX_EVENTS 500

/* agency_case.state values the forms read (migration 0002) */
typedef enum mc_form_case_state {
    MC_FORM_CASE_PLANNED   = 0, /* an earlier step is not done */
    MC_FORM_CASE_QUEUED    = 1, /* ready to send */
    MC_FORM_CASE_SENT      = 2, /* sent, not acknowledged */
    MC_FORM_CASE_ACKED     = 3, /* acknowledged, result awaited */
    MC_FORM_CASE_DONE      = 4, /* answered */
    MC_FORM_CASE_DEAD      = 5, /* dead letter */
    MC_FORM_CASE_CANCELLED = 6, /* withdrawn / refused */
    MC_FORM_CASE_PAUSED    = 7, /* waiting for the applicant's documents */
} mc_form_case_state_t;

/* one line of the dossier's history: at, actor, kind, detail (no personal data) */
typedef mc_store_event_t mc_form_event_t;

/* one agency step */
typedef struct mc_form_case {
    int                  step;                           /* 1.. */
    int                  steps_total;                    /* steps of the dossier */
    char                 agency[MC_AGENCY_CODE_LEN + 1]; /* agency or desk code */
    char                 task[128];                      /* what the step does */
    mc_form_case_state_t state;                          /* where it is */
    int                  outcome;                        /* motcua.v1.Outcome once answered, else -1 */
    int64_t              due_at;                         /* the step's own due date, 0 before it was queued */
    int64_t              sent_at;                        /* handed to the agency (first sent_to_agency), 0 if never */
    int64_t              done_at;                        /* answered (state done), 0 otherwise */
    uint8_t             *result;                         /* serialized motcua.v1.CaseResult, NULL before an answer */
    size_t               result_len;                     /* bytes in result */
} mc_form_case_t;

/* everything about one dossier */
typedef struct mc_form_data {
    char             code[MC_CODE_MAX];                         /* mã hồ sơ as stored */
    char             ward_code[MC_WARD_CODE_LEN + 1];           /* receiving ward */
    char             unit_id[64];                               /* its one-stop unit's mã định danh */
    char             procedure_code[MC_PROCEDURE_CODE_LEN + 1]; /* catalog code */
    char             department[64];                            /* handling desk, "" before routing */
    char             submission_id[128];                        /* the submitter's id */
    int              state;                                     /* motcua.v1.DossierState */
    int              channel;                                   /* motcua.v1.Channel */
    int64_t          received_at;                               /* epoch s */
    int64_t          counted_from;                              /* the clock's start */
    int64_t          due_at;                                    /* the due date in force */
    int64_t          result_at;                                 /* result ready, 0 if not */
    int64_t          closed_at;                                 /* closed (result, refusal, withdrawal), 0 if open */
    int64_t          late_notified_due;                         /* the due date an apology was sent for, 0 if none */
    uint8_t         *payload;                                   /* serialized motcua.v1.Dossier as accepted */
    size_t           payload_len;                               /* bytes in payload */
    uint8_t         *reply;                                     /* serialized IntakeReply (the receipt), NULL if not kept */
    size_t           reply_len;                                 /* bytes in reply */
    mc_form_event_t *events;                                    /* oldest first */
    size_t           n_events;                                  /* entries in events */
    mc_form_case_t  *cases;                                     /* by step */
    size_t           n_cases;                                   /* entries in cases */
    int64_t          taken_at;                                  /* when the snapshot was taken (epoch s) */
    int64_t          supplement_due_at;                         /* the one supplement request's deadline, 0 if never asked (0015) */
    int64_t          extended_at;                               /* the one extension was granted, 0 if never (0014) */
    char             extension_reason[2048];                    /* the agency's reason, as on the apology */
    int64_t          apology_at;                                /* the apology (Mẫu 04) was issued, 0 if none */
    int64_t          extension_old_due;                         /* the appointment before the extension, 0 if unknown */
    int64_t          extension_new_due;                         /* the appointment it set, 0 if unknown */
} mc_form_data_t;

/* one line of the register (Sổ theo dõi hồ sơ) */
typedef struct mc_form_register_row {
    char     code[MC_CODE_MAX];                         /* mã hồ sơ */
    char     procedure_code[MC_PROCEDURE_CODE_LEN + 1]; /* catalog code */
    char     department[64];                            /* handling desk, "" before routing */
    int      state;                                     /* motcua.v1.DossierState */
    int64_t  received_at;                               /* nhận hồ sơ */
    int64_t  due_at;                                    /* hẹn trả kết quả (in force) */
    int64_t  routed_at;                                 /* chuyển hồ sơ đến bộ phận giải quyết: first `routed` event, 0 if none */
    int64_t  result_at;                                 /* nhận kết quả từ bộ phận giải quyết, 0 if none */
    int64_t  delivered_at;                              /* trả kết quả: first `delivered` event, 0 if none */
    int64_t  closed_at;                                 /* closed for any reason, 0 if open */
    uint8_t *payload;                                   /* serialized motcua.v1.Dossier (the applicant) */
    size_t   payload_len;                               /* bytes in payload */
} mc_form_register_row_t;

/* mc_store_form_register - ward's dossiers received in [from, to) (epoch s),
 * at most limit (1..10000); *rows (free with mc_form_register_destroy) and
 * *n set on OK, *more true when more dossiers matched */
mc_store_rc_t mc_store_form_register(mc_store_t *store, const char *ward, int64_t from, int64_t to,
                                     int limit, mc_form_register_row_t **rows, size_t *n,
                                     bool *more, mc_err_t *err);

/* mc_form_register_destroy - free n rows and NULL the caller's pointer */
void mc_form_register_destroy(mc_form_register_row_t **rows, size_t n);

/* mc_store_form_data - the dossier with this code in one snapshot; *out set on OK */
mc_store_rc_t mc_store_form_data(mc_store_t *store, const char *code, mc_form_data_t **out,
                                 mc_err_t *err);

/* mc_form_data_destroy - free and NULL the caller's pointer */
void mc_form_data_destroy(mc_form_data_t **data);

#endif
