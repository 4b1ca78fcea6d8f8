/*
 * cli - declarations shared by the files of `motcua`, the applicant's and
 * clerk's client (submit, status, supplement, withdraw, rate, form), and by
 * nothing else. The operator's commands are motcua-admin's
 * (services/admin), the report motcua-report's (services/report), the load
 * generator motcua-load's (services/load); motcua forwards those command
 * names to them (main.c).
 *
 * Contract: every command is a function `int cli_NAME(mc_cli_ctx_t *,
 * argc, argv)` that receives the arguments after its own name, parses them
 * itself (mc_cli_parse_*), and returns the process exit status
 * (MC_CLI_EX_*). Commands write results to stdout and diagnostics to
 * stderr. Nothing here exits or aborts.
 */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mc_cfg.h"
#include "mc_cli.h"
#include "mc_cli_intake.h"
#include "mc_err.h"
#include "motcua/v1/dossier.pb-c.h"
#include "motcua/v1/intake.pb-c.h"

/* --- commands ------------------------------------------------------------ */

/* cli_submit - `motcua submit FILE.yaml [--json]` */
int cli_submit(mc_cli_ctx_t *ctx, int argc, char **argv);

/* cli_status - `motcua status CODE [--json]` */
int cli_status(mc_cli_ctx_t *ctx, int argc, char **argv);

/* cli_supplement - `motcua supplement FILE.yaml [--json]` (cli_followup.c) */
int cli_supplement(mc_cli_ctx_t *ctx, int argc, char **argv);

/* cli_withdraw - `motcua withdraw CODE --id SUBMISSION_ID [--reason TEXT] [--json]` (cli_followup.c) */
int cli_withdraw(mc_cli_ctx_t *ctx, int argc, char **argv);

/* cli_rate - `motcua rate CODE --token T --level L --id SUBMISSION_ID [--comment TEXT] [--json]` (cli_followup.c) */
int cli_rate(mc_cli_ctx_t *ctx, int argc, char **argv);

/* cli_form - `motcua form KIND CODE [--format text|html]` (cli_forms.c) */
int cli_form(mc_cli_ctx_t *ctx, int argc, char **argv);

/* --- cli_print.c: what people and scripts read --------------------------- */

/* cli_reason_label - a short Vietnamese description of a reason */
const char *cli_reason_label(int reason);

/* cli_state_label - the Vietnamese label of a dossier state ("Đã tiếp nhận") */
const char *cli_state_label(int state);

/* cli_channel_label - "Trực tiếp", "Trực tuyến", "Bưu chính công ích" */
const char *cli_channel_label(int channel);

/* cli_form_label - "Bản chính", "Bản sao có chứng thực", ... */
const char *cli_form_label(int form);

/* cli_print_receipt - the receipt laid out like Mẫu số 01 */
void cli_print_receipt(FILE *out, const Motcua__V1__Receipt *receipt);

/* cli_print_rejection - the refusal laid out like Mẫu số 03 */
void cli_print_rejection(FILE *out, const Motcua__V1__Rejection *rejection);

/* cli_print_status - state, dates and history of one dossier */
void cli_print_status(FILE *out, const Motcua__V1__DossierStatus *status);

/* cli_json_receipt / _rejection / _status - the same as one line of JSON */
void cli_json_receipt(FILE *out, const Motcua__V1__Receipt *receipt);
void cli_json_rejection(FILE *out, const Motcua__V1__Rejection *rejection);
void cli_json_status(FILE *out, const Motcua__V1__DossierStatus *status);

/* cli_json_error - {"result":"KIND","message":"..."} for failures scripts must see */
void cli_json_error(FILE *out, const char *kind, const char *message);

/* cli_ask - one request/reply round trip with intake (mc_cli_exchange); when
 * no usable reply came, the JSON error scripts read (with --json). Returns
 * the exit status; *reply is set only with MC_CLI_EX_OK. */
int cli_ask(const mc_cli_ctx_t *ctx, const mc_cfg_t *cfg,
            const Motcua__V1__IntakeRequest *request, bool json, Motcua__V1__IntakeReply **reply);

/* cli_unexpected - a reply of a kind this command does not take: what on
 * stderr, the JSON error (with --json); returns MC_CLI_EX_FAIL */
int cli_unexpected(const mc_cli_ctx_t *ctx, bool json, const char *what);

#endif
