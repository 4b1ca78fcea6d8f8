/*
 * cli - declarations shared by the files of the `motcua` command-line tool,
 * and by nothing else.
 *
 * Contract: every command is a function `int cli_NAME(cli_ctx_t *, argc,
 * argv)` that receives the arguments after its own name, parses them
 * itself, and returns the process exit status (CLI_EX_*); main.c only
 * dispatches and turns the status into exit(). Commands write results to
 * stdout and diagnostics to stderr. Nothing here exits or aborts.
 */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mc_cfg.h"
#include "mc_err.h"
#include "mc_transport.h"
#include "motcua/v1/dossier.pb-c.h"
#include "motcua/v1/intake.pb-c.h"

/* exit statuses; 64.. follow sysexits.h so shell scripts can tell usage
 * mistakes and bad input apart from a refused dossier */
#define CLI_EX_OK        0  /* done: receipt issued, status found, ... */
#define CLI_EX_FAIL      1  /* anything else went wrong */
#define CLI_EX_REJECTED  2  /* the daemon refused the request; resending it unchanged will not help */
#define CLI_EX_RETRY     3  /* refused for a passing reason, or no reply: retry later */
#define CLI_EX_USAGE     64 /* EX_USAGE: bad command line */
#define CLI_EX_DATAERR   65 /* EX_DATAERR: the dossier file is not acceptable */
#define CLI_EX_CONFIG    78 /* EX_CONFIG: the configuration does not load */
#define CLI_EX_HELP      -1 /* internal: usage was printed on request, exit 0 */

/* the biggest reply the CLI accepts: a status with 200 history lines fits
 * many times over, and a hostile endpoint cannot make us allocate more */
#define CLI_MAX_REPLY_BYTES (4u * 1024u * 1024u)

/* state shared by main.c and the commands */
typedef struct cli_ctx {
    const char *progname;    /* argv[0]'s base name, for messages */
    const char *config_path; /* -c / --config, else mc_cfg_default_path() */
    const char *key_path;    /* -k / --key: our CURVE secret key for intake, else client.key_file */
} cli_ctx_t;

/* --- main.c: argument helpers --------------------------------------------- */

/*
 * cli_opt_value - does argv[*i] name the option `lng` (or `shrt`, may be
 * NULL)? Accepts "--opt VALUE", "--opt=VALUE" and "-o VALUE". Returns 1 and
 * sets *value (advancing *i past a separate value) when it does, 0 when
 * argv[*i] is another argument, -1 (message on stderr) when the value is
 * missing.
 */
int cli_opt_value(const cli_ctx_t *ctx, int argc, char **argv, int *i, const char *lng,
                  const char *shrt, const char **value);

/* cli_usage_error - print "prog CMD: what" and the command's usage to stderr; returns CLI_EX_USAGE */
int cli_usage_error(const cli_ctx_t *ctx, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * cli_parse_args - the argument loop shared by the simple commands: -c/--config,
 * -h/--help, --json (only when json is not NULL), and up to max positional
 * arguments into args[] (*n_args of them). Returns CLI_EX_OK to go on,
 * CLI_EX_HELP after printing usage to stdout, or CLI_EX_USAGE after an error.
 */
int cli_parse_args(cli_ctx_t *ctx, int argc, char **argv, const char *name, const char *usage,
                   bool *json, const char **args, int max, int *n_args);

/* one option that takes a value ("--name VALUE", "--name=VALUE"), stored in *value */
typedef struct cli_opt {
    const char  *name;  /* "--ward" */
    const char **value; /* where the value goes (left alone when the option is absent) */
} cli_opt_t;

/*
 * cli_parse_opts - the argument loop of commands with value options:
 * -c/--config, -h/--help, --json (only when json is not NULL), the options
 * in opts, and at most one positional argument (only when positional is not
 * NULL). Returns CLI_EX_OK to go on, CLI_EX_HELP after printing usage to
 * stdout, or CLI_EX_USAGE after an error.
 */
int cli_parse_opts(cli_ctx_t *ctx, int argc, char **argv, const char *name, const char *usage,
                   const cli_opt_t *opts, size_t n_opts, bool *json, const char **positional);

/* cli_load_config - load ctx->config_path; on failure print every error and return CLI_EX_CONFIG */
int cli_load_config(const cli_ctx_t *ctx, mc_cfg_t **cfg);

/* cli_load_config_as - cli_load_config, then connect as program's database
 * role (mc_cfg_use_role): "motcua-report" for the read-only commands */
int cli_load_config_as(const cli_ctx_t *ctx, const char *program, mc_cfg_t **cfg);

/* the read-only commands' database role (docs/store.md, "Roles") */
#define CLI_READER "motcua-report"

/* cli_print_err - print every line of err to stderr, each prefixed with "prog: " */
void cli_print_err(const cli_ctx_t *ctx, const mc_err_t *err);

/* --- commands ------------------------------------------------------------ */

/* cli_submit - `motcua submit FILE.yaml [--json]` */
int cli_submit(cli_ctx_t *ctx, int argc, char **argv);

/* cli_status - `motcua status CODE [--json]` */
int cli_status(cli_ctx_t *ctx, int argc, char **argv);

/* cli_migrate - `motcua migrate` */
int cli_migrate(cli_ctx_t *ctx, int argc, char **argv);

/* cli_config - `motcua config check [FILE]` */
int cli_config(cli_ctx_t *ctx, int argc, char **argv);

/* cli_load - `motcua load --rate R --count N ...` */
int cli_load(cli_ctx_t *ctx, int argc, char **argv);

/* cli_supplement - `motcua supplement FILE.yaml [--json]` (cli_followup.c) */
int cli_supplement(cli_ctx_t *ctx, int argc, char **argv);

/* cli_withdraw - `motcua withdraw CODE --id SUBMISSION_ID [--reason TEXT] [--json]` (cli_followup.c) */
int cli_withdraw(cli_ctx_t *ctx, int argc, char **argv);

/* cli_rate - `motcua rate CODE --token T --level L --id SUBMISSION_ID [--comment TEXT] [--json]` (cli_followup.c) */
int cli_rate(cli_ctx_t *ctx, int argc, char **argv);

/* cli_keygen - `motcua keygen NAME [--dir D]` (cli_agency.c) */
int cli_keygen(cli_ctx_t *ctx, int argc, char **argv);

/* cli_deadletters - `motcua deadletters [--json]` (cli_agency.c) */
int cli_deadletters(cli_ctx_t *ctx, int argc, char **argv);

/* cli_requeue - `motcua requeue CASE_ID` (cli_agency.c) */
int cli_requeue(cli_ctx_t *ctx, int argc, char **argv);

/* cli_report - `motcua report --quarter Q | --from D --to D [--ward W] [--format F]` (cli_report.c) */
int cli_report(cli_ctx_t *ctx, int argc, char **argv);

/* cli_overdue - `motcua overdue [--ward W] [--days-left N] [--format table|csv|json]` (cli_overdue.c) */
int cli_overdue(cli_ctx_t *ctx, int argc, char **argv);

/* cli_borderless_mark - boundary-free reception (cli_borderless.c): for a
 * dossier received at receiving_ward ("" = at its competent ward_code: the
 * mark is ""), "chuyển đến <ward>" seen from view_ward = the receiving ward,
 * "tiếp nhận tại <ward>" from another, both for view_ward NULL or "", with
 * whether it was forwarded (overdue when forward_due_at has passed) */
const char *cli_borderless_mark(const mc_cfg_t *cfg, const char *view_ward,
                                const char *ward_code, const char *receiving_ward,
                                int64_t forward_due_at, bool forwarded, char *buf, size_t size);

/* cli_queues - `motcua queues [--json] [--idle]` (cli_queues.c) */
int cli_queues(cli_ctx_t *ctx, int argc, char **argv);

/* cli_form - `motcua form KIND CODE [--format text|html]` (cli_forms.c) */
int cli_form(cli_ctx_t *ctx, int argc, char **argv);

/* --- cli_submit.c: one exchange with the intake daemon ------------------- */

/*
 * cli_exchange - pack request, send it to cfg's intake endpoint with the
 * configured timeout and retries, and unpack the reply into *reply (free
 * with motcua__v1__intake_reply__free_unpacked). Returns CLI_EX_OK, or
 * CLI_EX_RETRY when no reply came, or CLI_EX_FAIL; messages on stderr.
 */
int cli_exchange(const cli_ctx_t *ctx, const mc_cfg_t *cfg,
                 const Motcua__V1__IntakeRequest *request, Motcua__V1__IntakeReply **reply);

/*
 * cli_intake_keys - the keys to talk to intake: *keys_out is NULL with
 * intake.plaintext, else keys filled from ctx->key_path (or client.key_file)
 * and intake's public key (client.server_public_key_file, else
 * intake.server_key_file with .key replaced by .pub). CLI_EX_OK, or
 * CLI_EX_CONFIG with the problem on stderr.
 */
int cli_intake_keys(const cli_ctx_t *ctx, const mc_cfg_t *cfg, mc_transport_keys_t *keys,
                    const mc_transport_keys_t **keys_out);

/* cli_client_endpoint - cfg's intake endpoint made connectable (a wildcard
 * bind address becomes 127.0.0.1); returns bind itself or buf */
const char *cli_client_endpoint(const char *bind, char *buf, size_t size);

/* cli_rejection_status - the exit status a Rejection maps to (2 or 3) */
int cli_rejection_status(const Motcua__V1__Rejection *rejection);

/* --- cli_print.c: what people and scripts read --------------------------- */

/* cli_reason_name - "INVALID_FORMAT" for REASON_INVALID_FORMAT; "UNKNOWN(n)" style never NULL */
const char *cli_reason_name(int reason, char *buf, size_t size);

/* cli_reason_label - a short Vietnamese description of a reason */
const char *cli_reason_label(int reason);

/* cli_state_name - "RECEIVED" for DOSSIER_STATE_RECEIVED */
const char *cli_state_name(int state, char *buf, size_t size);

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

/* cli_json_string - write text as a JSON string literal (quotes included), by mc_json;
 * invalid UTF-8 becomes U+FFFD so the output is always valid JSON */
void cli_json_string(FILE *out, const char *text);

#endif
