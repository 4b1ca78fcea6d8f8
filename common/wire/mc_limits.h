/*
 * mc_limits - the sizes of motcua's identifiers, in one place: what the
 * wire contract (the .proto files in proto/motcua/v1/), the configuration loaders and the
 * validators accept, and so what every buffer that holds one must hold.
 *
 * Contract: a *_LEN is the longest value accepted, in bytes, without the
 * NUL; a buffer for it is declared `char x[MC_..._LEN + 1]`. The checks that
 * enforce a limit use the same macro, so a value that passed validation is
 * never cut short when it is copied (a silent truncation would be a
 * different identifier). MC_I64_TEXT sizes the decimal text of an int64_t,
 * the form in which the store passes integers as parameters.
 */
#ifndef MC_LIMITS_H
#define MC_LIMITS_H

#define MC_AGENCY_CODE_LEN    64 /* agency or desk code: A-Z, 0-9, _ (agencies.yaml, agency.proto) */
#define MC_WARD_CODE_LEN      32 /* ward code (dossier.proto ward_code, clients.yaml, routing.yaml) */
#define MC_PROCEDURE_CODE_LEN 32 /* procedure code (dossier.proto procedure_code, procedures.yaml) */
#define MC_DOSSIER_CODE_LEN   63 /* dossier code <unit id>-<YYMMDD>-<NNNN> (mc_code) */
#define MC_CODE_MAX           (MC_DOSSIER_CODE_LEN + 1) /* a dossier code buffer */
#define MC_CASE_ID_LEN        95 /* case_id "<dossier code>/<step>" (agency.proto: 1..95 bytes) */
#define MC_SESSION_LEN        64 /* an agency's session (agency.proto rule 6: 16..64 bytes) */
#define MC_I64_TEXT           24 /* "-9223372036854775808" and its NUL, rounded up */
#define MC_INT_TEXT           16 /* "-2147483648" and its NUL, rounded up */

#endif
