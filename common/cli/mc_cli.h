/*
 * mc_cli - what the command-line programs share (motcua, motcua-admin,
 * motcua-report, motcua-load): the context, the exit statuses, option
 * parsing by getopt_long, loading the configuration, printing errors, and
 * the main loop that reads the global options and dispatches a command.
 *
 * Contract: every command is a function `int cmd(mc_cli_ctx_t *, argc,
 * argv)` that receives the arguments after its own name, parses them with
 * mc_cli_parse_args/_opts (getopt_long), and returns the process exit
 * status (MC_CLI_EX_*); mc_cli_main/mc_cli_main_one turn it into main's
 * return value. Commands write results to stdout and diagnostics to stderr
 * prefixed with ctx->progname. Nothing here exits or aborts.
 */
#ifndef MC_CLI_H
#define MC_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "mc_cfg.h"
#include "mc_err.h"

/* exit statuses; 64.. follow sysexits.h so shell scripts can tell usage
 * mistakes and bad input apart from a refused dossier */
#define MC_CLI_EX_OK        0  /* done: receipt issued, status found, ... */
#define MC_CLI_EX_FAIL      1  /* anything else went wrong */
#define MC_CLI_EX_REJECTED  2  /* the daemon refused the request; resending it unchanged will not help */
#define MC_CLI_EX_RETRY     3  /* refused for a passing reason, or no reply: retry later */
#define MC_CLI_EX_USAGE     64 /* EX_USAGE: bad command line */
#define MC_CLI_EX_DATAERR   65 /* EX_DATAERR: the dossier file is not acceptable */
#define MC_CLI_EX_CONFIG    78 /* EX_CONFIG: the configuration does not load */
#define MC_CLI_EX_HELP      -1 /* internal: usage was printed on request, exit 0 */

/* the read-only commands' database role (docs/store.md, "Roles") */
#define MC_CLI_READER "motcua-report"

/* state shared by the main loop and the commands */
typedef struct mc_cli_ctx {
    const char *progname;    /* argv[0]'s base name, for messages ("motcua" when motcua forwarded) */
    const char *config_path; /* -c / --config, else mc_cfg_default_path() */
    const char *key_path;    /* -k / --key: our CURVE secret key for intake, else client.key_file */
    const char *argv0;       /* argv[0] as given: where the sibling programs are */
    const char *connect[MC_CFG_CONNECT_MAX]; /* --connect E (repeatable): intake endpoints replacing intake.connect */
    size_t      n_connect;   /* entries in connect (0: intake.connect) */
} mc_cli_ctx_t;

/* one option that takes a value ("--name VALUE", "--name=VALUE"), stored in *value */
typedef struct mc_cli_opt {
    const char  *name;  /* "--ward" */
    const char **value; /* where the value goes (left alone when the option is absent) */
    char         shrt;  /* its one-letter form ('d' for -d), 0 for none */
} mc_cli_opt_t;

/* the most value options one command may declare */
#define MC_CLI_MAX_OPTS 16

/* one command of a program */
typedef struct mc_cli_command {
    const char *name;                                   /* "submit" */
    int (*run)(mc_cli_ctx_t *ctx, int argc, char **argv); /* its arguments after the name */
} mc_cli_command_t;

/*
 * mc_cli_other_fn - a program's hook for a command name not in its table
 * (motcua forwards moved commands to their programs); returns an exit
 * status, or MC_CLI_NOT_MINE to report an unknown command.
 */
typedef int (*mc_cli_other_fn)(mc_cli_ctx_t *ctx, const char *name, int argc, char **argv);
#define MC_CLI_NOT_MINE (-2)

/* mc_cli_usage_error - print "prog CMD: what" and the command's usage to stderr; returns MC_CLI_EX_USAGE */
int mc_cli_usage_error(const mc_cli_ctx_t *ctx, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * mc_cli_parse_args - getopt_long over a simple command's arguments:
 * -c/--config, -k/--key, --connect (repeatable), -h/--help, --json (only when json is not NULL),
 * and up to max positional arguments (anywhere) into args[] (*n_args of
 * them). Returns MC_CLI_EX_OK to go on, MC_CLI_EX_HELP after printing usage
 * to stdout, or MC_CLI_EX_USAGE after an error.
 */
int mc_cli_parse_args(mc_cli_ctx_t *ctx, int argc, char **argv, const char *name, const char *usage,
                      bool *json, const char **args, int max, int *n_args);

/*
 * mc_cli_parse_opts - mc_cli_parse_args for commands with value options
 * (at most MC_CLI_MAX_OPTS of them, each "--name VALUE" or "--name=VALUE")
 * and at most one positional argument (only when positional is not NULL).
 */
int mc_cli_parse_opts(mc_cli_ctx_t *ctx, int argc, char **argv, const char *name, const char *usage,
                      const mc_cli_opt_t *opts, size_t n_opts, bool *json, const char **positional);

/* mc_cli_load_config - load ctx->config_path; on failure print every error and return MC_CLI_EX_CONFIG */
int mc_cli_load_config(const mc_cli_ctx_t *ctx, mc_cfg_t **cfg);

/* mc_cli_load_config_as - mc_cli_load_config, then connect as program's database
 * role (mc_cfg_use_role): MC_CLI_READER for the read-only commands */
int mc_cli_load_config_as(const mc_cli_ctx_t *ctx, const char *program, mc_cfg_t **cfg);

/* mc_cli_intake_connect - the intake endpoints a client tries, in turn: --connect's
 * when given, else intake.connect; *n gets their number (>= 1) */
const char *const *mc_cli_intake_connect(const mc_cli_ctx_t *ctx, const mc_cfg_t *cfg, size_t *n);

/* mc_cli_print_err - print every line of err to stderr, each prefixed with "prog: " */
void mc_cli_print_err(const mc_cli_ctx_t *ctx, const mc_err_t *err);

/* mc_cli_json_string - write text as a JSON string literal (quotes included), by mc_json;
 * invalid UTF-8 becomes U+FFFD so the output is always valid JSON */
void mc_cli_json_string(FILE *out, const char *text);

/*
 * mc_cli_main - a program with commands: `PROG [-c FILE] [-k KEYFILE]
 * COMMAND [ARGS]`. Reads the global options (getopt_long, stopping at the
 * command), runs the command from commands[] (or other, which may be
 * NULL), flushes stdout and ends the ZeroMQ context. Returns the exit
 * status for main to return; usage goes to stdout for -h/--help/help.
 */
int mc_cli_main(int argc, char **argv, const char *usage, const mc_cli_command_t *commands,
                size_t n_commands, mc_cli_other_fn other);

/*
 * mc_cli_main_one - a program that is one command (motcua-report,
 * motcua-load): every argument goes to run, which parses -c/-k/-h itself.
 * Same ending as mc_cli_main.
 */
int mc_cli_main_one(int argc, char **argv, int (*run)(mc_cli_ctx_t *ctx, int argc, char **argv));

#endif
