/*
 * mc_validate - is an untrusted request acceptable?
 *
 * Contract: pure functions, no I/O, no logging. Each check of a whole
 * request stops at the first problem and describes it as a machine reason
 * (motcua.v1.Reason), the dotted path of the field, and a Vietnamese
 * message for people. Bounds are the ones documented in proto/ comments.
 */
#ifndef MC_VALIDATE_H
#define MC_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "mc_cfg.h"
#include "motcua/v1/dossier.pb-c.h"
#include "motcua/v1/intake.pb-c.h"

#define MC_MAX_DOCUMENTS_HARD 200 /* absolute bound whatever the config says */

#define MC_PROBLEM_MAX_MISSING 64 /* required documents one problem lists (Rejection.missing) */

typedef struct mc_problem {
    Motcua__V1__Reason reason;     /* machine-readable */
    char               field[128]; /* e.g. "dossier.applicant.phone" */
    char               message[512]; /* Vietnamese, for people */
    const mc_document_req_t *missing[MC_PROBLEM_MAX_MISSING]; /* MISSING_DOCUMENT: every required
                                                                * document absent (into the catalog) */
    size_t             n_missing;  /* entries in missing; 0 for any other problem */
} mc_problem_t;

/* mc_problem_set - fill a problem (printf-style message, no missing list) and return -1 */
int mc_problem_set(mc_problem_t *problem, Motcua__V1__Reason reason, const char *field,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* mc_valid_utf8 - strict UTF-8 (no overlongs, surrogates, > U+10FFFF, NUL) */
bool mc_valid_utf8(const char *text, size_t length);

/* mc_valid_citizen_id - 12 digits; province code 001..096; century/sex digit 0..9 */
bool mc_valid_citizen_id(const char *text);

/* mc_valid_phone - "0" or "+84", then 9 digits (mobile) or 10 digits starting 2 (landline) */
bool mc_valid_phone(const char *text);

/* mc_valid_email - local@domain.tld, <= 254 bytes, printable ASCII, one '@' */
bool mc_valid_email(const char *text);

/* mc_valid_enterprise_code - 10 digits, or 10 digits '-' 3 digits */
bool mc_valid_enterprise_code(const char *text);

/* mc_valid_submission_id - 8..64 bytes of [A-Za-z0-9._:-] */
bool mc_valid_submission_id(const char *text);

/* mc_valid_media_type - type/subtype, token characters, <= 127 bytes */
bool mc_valid_media_type(const char *text);

/* mc_valid_uri - 1..2048 printable ASCII without spaces, with a scheme */
bool mc_valid_uri(const char *text);

/* mc_validate_document - one DocumentRef, named "<list>[i].<field>" in problems */
int mc_validate_document(const Motcua__V1__DocumentRef *d, const char *list, size_t i,
                         mc_problem_t *problem);

/*
 * mc_validate_submit - check a SubmitDossier against the configuration
 * (ward served, procedure known, channel allowed, required documents,
 * formats, bounds, UTF-8). On failure fills problem and returns -1. For
 * REASON_MISSING_DOCUMENT problem->missing lists EVERY required document
 * absent, so the counter's guidance (Mẫu 02) is given once.
 * On success *procedure and *ward point into cfg.
 */
int mc_validate_submit(const Motcua__V1__SubmitDossier *submit, const mc_cfg_t *cfg,
                       const mc_procedure_t **procedure, const mc_ward_t **ward,
                       mc_problem_t *problem);

/*
 * mc_validate_catalog_query - a CatalogQuery: *procedure = the one asked
 * for, or NULL for every procedure (empty procedure_code); -1 with problem
 * (REASON_TOO_LARGE, REASON_UNKNOWN_PROCEDURE, field "catalog.procedure_code").
 */
int mc_validate_catalog_query(const Motcua__V1__CatalogQuery *query, const mc_cfg_t *cfg,
                              const mc_procedure_t **procedure, mc_problem_t *problem);

#endif
