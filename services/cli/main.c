/*
 * motcua - the command-line tool of the one-stop intake service.
 *
 * Contract: `motcua [-c FILE] COMMAND [ARGS]` runs one command and exits
 * with its status (docs/cli.md lists them). This file only reads the
 * global options, dispatches, and owns the few helpers every command uses
 * for arguments and configuration; it is the only place that exits.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mc_log.h"
#include "mc_transport.h"

static const char usage_text[] =
    "usage: motcua [-c FILE] [-k KEYFILE] COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  submit FILE.yaml [--json]   hand in a dossier, print the receipt\n"
    "  status CODE [--secret S] [--json]\n"
    "                              where is the dossier with this code\n"
    "  supplement FILE.yaml [--secret S]\n"
    "                              hand in the documents a dossier waits for\n"
    "  withdraw CODE --id ID [--reason TEXT] [--secret S]\n"
    "                              withdraw a dossier (before its result is ready)\n"
    "  rate CODE [--secret S] --level L --id ID [--comment TEXT]\n"
    "                              rate the service once the result is ready\n"
    "  migrate                     bring the database schema up to date\n"
    "  config check [FILE]         load the configuration and report problems\n"
    "  load --rate R --count N     generate load against the intake daemon\n"
    "  keygen NAME [--dir D]       make a CURVE keypair (NAME.key secret, NAME.pub)\n"
    "  deadletters [--json]        cases agencies never acknowledged\n"
    "  requeue CASE_ID             send a dead letter or an acked case again\n"
    "  report --quarter 2025-Q3 [--ward CODE] [--format table|csv|json|svg]\n"
    "                              the period's figures: received, on time, late, ratings\n"
    "  overdue [--ward CODE] [--days-left N]\n"
    "                              open dossiers past (or near) their due date\n"
    "  queues [--json] [--idle]    the pipeline's backlog per stage and agency;\n"
    "                              --idle: exit 0 when nothing is in flight\n"
    "  form KIND CODE [--format text|html]\n                              print a form (receipt, supplement, refusal, apology, stop, control)\n"
    "  form register WARD [--from D] [--to D] [--format text|html]\n                              the ward's register of dossiers (Mẫu 07)\n"
    "\n"
    "options:\n"
    "  -c, --config FILE           configuration (default: $MOTCUA_CONFIG,\n"
    "                              /etc/motcua/motcua.yaml, config/motcua.yaml)\n"
    "  -k, --key FILE              this client's CURVE secret key for intake\n"
    "                              (default: client.key_file)\n"
    "  -h, --help                  this text; `motcua COMMAND --help` for a command\n";

/* cli_opt_value - match one option that takes a value */
int cli_opt_value(const cli_ctx_t *ctx, int argc, char **argv, int *i, const char *lng,
                  const char *shrt, const char **value)
{
    const char *arg = argv[*i];
    size_t n = strlen(lng);
    if (strncmp(arg, lng, n) == 0 && arg[n] == '=') {
        *value = arg + n + 1;
        return 1;
    }
    if (strcmp(arg, lng) != 0 && !(shrt && strcmp(arg, shrt) == 0))
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: option %s needs a value\n", ctx->progname, arg);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

/* cli_parse_args - -c, --help, --json and positionals for simple commands */
int cli_parse_args(cli_ctx_t *ctx, int argc, char **argv, const char *name, const char *usage,
                   bool *json, const char **args, int max, int *n_args)
{
    *n_args = 0;
    for (int i = 0; i < argc; i++) {
        const char *value = NULL;
        int m = cli_opt_value(ctx, argc, argv, &i, "--config", "-c", &value);
        if (m < 0)
            return cli_usage_error(ctx, usage, "%s: bad option", name);
        if (m > 0) {
            ctx->config_path = value;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return CLI_EX_HELP;
        } else if (json && strcmp(argv[i], "--json") == 0) {
            *json = true;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error(ctx, usage, "%s: unknown option %s", name, argv[i]);
        } else if (*n_args >= max) {
            return cli_usage_error(ctx, usage, "%s: unexpected argument %s", name, argv[i]);
        } else {
            args[(*n_args)++] = argv[i];
        }
    }
    return CLI_EX_OK;
}

/* cli_parse_opts - -c, --help, --json, value options and one positional */
int cli_parse_opts(cli_ctx_t *ctx, int argc, char **argv, const char *name, const char *usage,
                   const cli_opt_t *opts, size_t n_opts, bool *json, const char **positional)
{
    for (int i = 0; i < argc; i++) {
        const char *value = NULL;
        int m = cli_opt_value(ctx, argc, argv, &i, "--config", "-c", &value);
        if (m > 0)
            ctx->config_path = value;
        for (size_t k = 0; k < n_opts && m == 0; k++)
            if ((m = cli_opt_value(ctx, argc, argv, &i, opts[k].name, NULL, &value)) > 0)
                *opts[k].value = value;
        if (m < 0)
            return cli_usage_error(ctx, usage, "%s: %s needs a value", name, argv[i]);
        if (m > 0)
            continue;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return CLI_EX_HELP;
        }
        if (json && strcmp(argv[i], "--json") == 0)
            *json = true;
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error(ctx, usage, "%s: unknown option %s", name, argv[i]);
        else if (!positional || *positional)
            return cli_usage_error(ctx, usage, "%s: unexpected argument %s", name, argv[i]);
        else
            *positional = argv[i];
    }
    return CLI_EX_OK;
}

/* cli_usage_error - complain about the command line, show the usage */
int cli_usage_error(const cli_ctx_t *ctx, const char *usage, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", ctx->progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", usage);
    return CLI_EX_USAGE;
}

/* cli_print_err - every message of err on stderr */
void cli_print_err(const cli_ctx_t *ctx, const mc_err_t *err)
{
    const char *p = err->text;
    int shown = 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(stderr, "%s: %.*s\n", ctx->progname, len, p);
        shown++;
        p += len + (nl ? 1 : 0);
    }
    /* mc_err_t has a fixed buffer: say so when messages did not fit */
    if (err->count > shown)
        fprintf(stderr, "%s: ... and %d more\n", ctx->progname, err->count - shown);
    if (shown == 0 && err->count == 0)
        fprintf(stderr, "%s: failed (no details)\n", ctx->progname);
}

/* cli_load_config - load the configuration or explain why not */
int cli_load_config(const cli_ctx_t *ctx, mc_cfg_t **cfg)
{
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_cfg_load(ctx->config_path, cfg, &err) < 0) {
        cli_print_err(ctx, &err);
        fprintf(stderr, "%s: configuration %s does not load\n", ctx->progname, ctx->config_path);
        return CLI_EX_CONFIG;
    }
    return CLI_EX_OK;
}

/* cli_load_config_as - the configuration, connecting as program's role */
int cli_load_config_as(const cli_ctx_t *ctx, const char *program, mc_cfg_t **cfg)
{
    int status = cli_load_config(ctx, cfg);
    if (status != CLI_EX_OK)
        return status;
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_cfg_use_role(*cfg, program, &err) < 0) {
        cli_print_err(ctx, &err);
        mc_cfg_destroy(cfg);
        return CLI_EX_CONFIG;
    }
    return CLI_EX_OK;
}

/* main - read global options, run one command, exit with its status */
int main(int argc, char **argv)
{
    cli_ctx_t ctx = { "motcua", NULL, NULL };
    mc_log_init("motcua", MC_LOG_WARNING);

    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *value = NULL;
        int m = cli_opt_value(&ctx, argc, argv, &i, "--config", "-c", &value);
        int k = m == 0 ? cli_opt_value(&ctx, argc, argv, &i, "--key", "-k", &value) : 0;
        if (m < 0 || k < 0) {
            fputs(usage_text, stderr);
            return CLI_EX_USAGE;
        }
        if (m > 0) {
            ctx.config_path = value;
        } else if (k > 0) {
            ctx.key_path = value;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage_text, stdout);
            return CLI_EX_OK;
        } else {
            fprintf(stderr, "motcua: unknown option %s\n%s", argv[i], usage_text);
            return CLI_EX_USAGE;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "motcua: no command\n%s", usage_text);
        return CLI_EX_USAGE;
    }
    if (!ctx.config_path)
        ctx.config_path = mc_cfg_default_path();

    static const struct {
        const char *name;
        int (*run)(cli_ctx_t *, int, char **);
    } commands[] = {
        { "submit", cli_submit },   { "status", cli_status }, { "migrate", cli_migrate },
        { "config", cli_config },   { "load", cli_load },
        { "keygen", cli_keygen }, { "deadletters", cli_deadletters }, { "requeue", cli_requeue },
        { "supplement", cli_supplement }, { "withdraw", cli_withdraw },
        { "rate", cli_rate },       { "report", cli_report },   { "overdue", cli_overdue },
        { "queues", cli_queues },   { "form", cli_form },
    };
    const char *name = argv[i];
    if (strcmp(name, "help") == 0) {
        fputs(usage_text, stdout);
        return CLI_EX_OK;
    }
    for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++) {
        if (strcmp(name, commands[c].name) == 0) {
            int status = commands[c].run(&ctx, argc - i - 1, argv + i + 1);
            fflush(stdout);
            /* the context is made lazily by the commands that talk ZeroMQ;
             * terminating it here lets their queued frames go first */
            mc_transport_term();
            if (ferror(stdout)) {
                fprintf(stderr, "motcua: cannot write to standard output\n");
                return status == CLI_EX_OK ? CLI_EX_FAIL : status;
            }
            exit(status);
        }
    }
    fprintf(stderr, "motcua: unknown command '%s'\n%s", name, usage_text);
    return CLI_EX_USAGE;
}
