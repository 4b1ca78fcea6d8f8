/*
 * mc_cli - the command-line programs' shared plumbing (mc_cli.h): option
 * parsing by getopt_long, configuration loading, error printing, and the
 * main loop of a program with commands.
 *
 * Contract: nothing here exits; every function returns an exit status or
 * prints and returns. getopt_long is reset (optind = 0) before each parse,
 * so a program may parse its global options and then a command's.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_cli.h"
#include "mc_json.h"
#include "mc_log.h"
#include "mc_transport.h"
#include "mc_version.h"

/* getopt_long codes of the options every command takes besides its own */
enum {
    OPT_CONNECT = 255, /* --connect E */
    OPT_JSON  = 256, /* --json */
    OPT_VALUE = 257  /* opts[k] is OPT_VALUE + k */
};

/* mc_cli_usage_error - complain about the command line, show the usage */
int mc_cli_usage_error(const mc_cli_ctx_t *ctx, const char *usage, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", ctx->progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", usage);
    return MC_CLI_EX_USAGE;
}

/* add_connect - one more --connect endpoint; -1 when there are too many */
static int add_connect(mc_cli_ctx_t *ctx, const char *endpoint)
{
    if (ctx->n_connect >= MC_CFG_CONNECT_MAX)
        return -1;
    ctx->connect[ctx->n_connect++] = endpoint;
    return 0;
}

/* mc_cli_intake_connect - --connect, else intake.connect */
const char *const *mc_cli_intake_connect(const mc_cli_ctx_t *ctx, const mc_cfg_t *cfg, size_t *n)
{
    if (ctx->n_connect > 0) {
        *n = ctx->n_connect;
        return ctx->connect;
    }
    *n = cfg->intake.n_connect;
    return (const char *const *)cfg->intake.connect;
}

/* parse - the one getopt_long loop behind mc_cli_parse_args and _opts */
static int parse(mc_cli_ctx_t *ctx, int argc, char **argv, const char *name, const char *usage,
                 const mc_cli_opt_t *opts, size_t n_opts, bool *json, const char **args, int max,
                 int *n_args)
{
    struct option lo[MC_CLI_MAX_OPTS + 6];
    size_t n = 0;
    if (n_opts > MC_CLI_MAX_OPTS)
        return mc_cli_usage_error(ctx, usage, "%s: too many options declared", name);
    lo[n++] = (struct option){"config", required_argument, NULL, 'c'};
    lo[n++] = (struct option){"key", required_argument, NULL, 'k'};
    lo[n++] = (struct option){"help", no_argument, NULL, 'h'};
    lo[n++] = (struct option){"connect", required_argument, NULL, OPT_CONNECT};
    if (json)
        lo[n++] = (struct option){"json", no_argument, NULL, OPT_JSON};
    for (size_t k = 0; k < n_opts; k++)
        lo[n++] = (struct option){opts[k].name + 2, required_argument, NULL, OPT_VALUE + (int)k};
    lo[n] = (struct option){NULL, 0, NULL, 0};
    char shorts[8 + 2 * MC_CLI_MAX_OPTS] = ":c:k:h";
    size_t ns = strlen(shorts);
    for (size_t k = 0; k < n_opts; k++)
        if (opts[k].shrt) {
            shorts[ns++] = opts[k].shrt;
            shorts[ns++] = ':';
        }
    shorts[ns] = '\0';

    /* getopt wants the program name first and permutes what it is given:
     * work on a copy so the caller's argv stays as it was */
    char **v = malloc(((size_t)argc + 2) * sizeof *v);
    if (!v) {
        fprintf(stderr, "%s: %s: out of memory\n", ctx->progname, name);
        return MC_CLI_EX_FAIL;
    }
    v[0] = (char *)name;
    memcpy(v + 1, argv, (size_t)argc * sizeof *v);
    v[argc + 1] = NULL;
    int status = MC_CLI_EX_OK, c;
    optind = 0; /* glibc: start afresh, whatever was parsed before */
    opterr = 0; /* our messages, with the command's usage */
    while (status == MC_CLI_EX_OK && (c = getopt_long(argc + 1, v, shorts, lo, NULL)) != -1) {
        for (size_t k = 0; k < n_opts; k++)
            if (opts[k].shrt && c == opts[k].shrt)
                c = OPT_VALUE + (int)k; /* -d VALUE is --dir VALUE */
        if (c == 'c') {
            ctx->config_path = optarg;
        } else if (c == 'k') {
            ctx->key_path = optarg;
        } else if (c == OPT_CONNECT) {
            if (add_connect(ctx, optarg) < 0)
                status = mc_cli_usage_error(ctx, usage, "%s: --connect: at most %d endpoints",
                                            name, MC_CFG_CONNECT_MAX);
        } else if (c == 'h') {
            fputs(usage, stdout);
            status = MC_CLI_EX_HELP;
        } else if (c == OPT_JSON) {
            *json = true;
        } else if (c >= OPT_VALUE && c < OPT_VALUE + (int)n_opts) {
            *opts[c - OPT_VALUE].value = optarg;
        } else if (c == ':') {
            status = mc_cli_usage_error(ctx, usage, "%s: %s needs a value", name, v[optind - 1]);
        } else if (optopt && optopt < OPT_JSON) {
            status = mc_cli_usage_error(ctx, usage, "%s: unknown option -%c", name, optopt);
        } else {
            status = mc_cli_usage_error(ctx, usage, "%s: unknown option %s", name, v[optind - 1]);
        }
    }
    *n_args = 0;
    for (int i = optind; status == MC_CLI_EX_OK && i <= argc; i++) {
        if (*n_args >= max)
            status = mc_cli_usage_error(ctx, usage, "%s: unexpected argument %s", name, v[i]);
        else
            args[(*n_args)++] = v[i];
    }
    free(v);
    return status;
}

/* mc_cli_parse_args - -c, -k, --help, --json and positionals for simple commands */
int mc_cli_parse_args(mc_cli_ctx_t *ctx, int argc, char **argv, const char *name, const char *usage,
                      bool *json, const char **args, int max, int *n_args)
{
    return parse(ctx, argc, argv, name, usage, NULL, 0, json, args, max, n_args);
}

/* mc_cli_parse_opts - -c, -k, --help, --json, value options and one positional */
int mc_cli_parse_opts(mc_cli_ctx_t *ctx, int argc, char **argv, const char *name, const char *usage,
                      const mc_cli_opt_t *opts, size_t n_opts, bool *json, const char **positional)
{
    const char *args[1] = {NULL};
    int n_args = 0;
    int status = parse(ctx, argc, argv, name, usage, opts, n_opts, json, args, positional ? 1 : 0,
                       &n_args);
    if (status == MC_CLI_EX_OK && positional && n_args == 1)
        *positional = args[0];
    return status;
}

/* mc_cli_print_err - every message of err on stderr */
void mc_cli_print_err(const mc_cli_ctx_t *ctx, const mc_err_t *err)
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

/* mc_cli_load_config - load the configuration or explain why not */
int mc_cli_load_config(const mc_cli_ctx_t *ctx, mc_cfg_t **cfg)
{
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_cfg_load(ctx->config_path, cfg, &err) < 0) {
        mc_cli_print_err(ctx, &err);
        fprintf(stderr, "%s: configuration %s does not load\n", ctx->progname, ctx->config_path);
        return MC_CLI_EX_CONFIG;
    }
    return MC_CLI_EX_OK;
}

/* mc_cli_load_config_as - the configuration, connecting as program's role */
int mc_cli_load_config_as(const mc_cli_ctx_t *ctx, const char *program, mc_cfg_t **cfg)
{
    int status = mc_cli_load_config(ctx, cfg);
    if (status != MC_CLI_EX_OK)
        return status;
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_cfg_use_role(*cfg, program, &err) < 0) {
        mc_cli_print_err(ctx, &err);
        mc_cfg_destroy(cfg);
        return MC_CLI_EX_CONFIG;
    }
    return MC_CLI_EX_OK;
}

/* mc_cli_json_string - text as a JSON string literal (mc_json's escaping) */
void mc_cli_json_string(FILE *out, const char *text)
{
    (void)mc_json_fputs(out, text); /* a full stdout shows at the final fflush/exit status */
}

/* ctx_init - the context every program starts from: its name from argv[0] */
static void ctx_init(mc_cli_ctx_t *ctx, const char *argv0)
{
    const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
    ctx->progname = argv0 && *argv0 ? (slash ? slash + 1 : argv0) : "motcua";
    ctx->config_path = NULL;
    ctx->key_path = NULL;
    ctx->n_connect = 0;
    ctx->argv0 = argv0 ? argv0 : "";
    mc_log_init(ctx->progname, MC_LOG_WARNING);
}

/* finish - a command's status, after its output is out and ZeroMQ is done */
static int finish(const mc_cli_ctx_t *ctx, int status)
{
    fflush(stdout);
    /* the context is made lazily by the commands that talk ZeroMQ;
     * terminating it here lets their queued frames go first */
    mc_transport_term();
    if (ferror(stdout)) {
        fprintf(stderr, "%s: cannot write to standard output\n", ctx->progname);
        return status == MC_CLI_EX_OK ? MC_CLI_EX_FAIL : status;
    }
    return status;
}

/* mc_cli_main - global options, one command, its status */
int mc_cli_main(int argc, char **argv, const char *usage, const mc_cli_command_t *commands,
                size_t n_commands, mc_cli_other_fn other)
{
    mc_cli_ctx_t ctx;
    ctx_init(&ctx, argc > 0 ? argv[0] : NULL);
    static const struct option lo[] = {{"config", required_argument, NULL, 'c'},
                                       {"key", required_argument, NULL, 'k'},
                                       {"help", no_argument, NULL, 'h'},
                                       {"version", no_argument, NULL, 'V'},
                                       {"connect", required_argument, NULL, OPT_CONNECT},
                                       {NULL, 0, NULL, 0}};
    int c;
    optind = 0;
    opterr = 0;
    /* '+': stop at the command; what follows is the command's */
    while ((c = getopt_long(argc, argv, "+:c:k:h", lo, NULL)) != -1) {
        if (c == 'c') {
            ctx.config_path = optarg;
        } else if (c == 'k') {
            ctx.key_path = optarg;
        } else if (c == OPT_CONNECT) {
            if (add_connect(&ctx, optarg) < 0) {
                fprintf(stderr, "%s: --connect: at most %d endpoints\n", ctx.progname,
                        MC_CFG_CONNECT_MAX);
                return MC_CLI_EX_USAGE;
            }
        } else if (c == 'h') {
            fputs(usage, stdout);
            return MC_CLI_EX_OK;
        } else if (c == 'V') {
            return finish(&ctx, mc_version_print(ctx.progname));
        } else if (c == ':') {
            fputs(usage, stderr);
            return MC_CLI_EX_USAGE;
        } else {
            fprintf(stderr, "%s: unknown option %s\n%s", ctx.progname, argv[optind - 1], usage);
            return MC_CLI_EX_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "%s: no command\n%s", ctx.progname, usage);
        return MC_CLI_EX_USAGE;
    }
    if (!ctx.config_path)
        ctx.config_path = mc_cfg_default_path();
    const char *name = argv[optind];
    if (strcmp(name, "help") == 0) {
        fputs(usage, stdout);
        return MC_CLI_EX_OK;
    }
    int rest = argc - optind - 1;
    char **rest_v = argv + optind + 1;
    for (size_t k = 0; k < n_commands; k++)
        if (strcmp(name, commands[k].name) == 0)
            return finish(&ctx, commands[k].run(&ctx, rest, rest_v));
    int status = other ? other(&ctx, name, rest, rest_v) : MC_CLI_NOT_MINE;
    if (status != MC_CLI_NOT_MINE)
        return finish(&ctx, status);
    fprintf(stderr, "%s: unknown command '%s'\n%s", ctx.progname, name, usage);
    return MC_CLI_EX_USAGE;
}

/* mc_cli_main_one - the program is its one command */
int mc_cli_main_one(int argc, char **argv, int (*run)(mc_cli_ctx_t *ctx, int argc, char **argv))
{
    mc_cli_ctx_t ctx;
    ctx_init(&ctx, argc > 0 ? argv[0] : NULL);
    ctx.config_path = mc_cfg_default_path();
    if (mc_version_asked(argc, argv))
        return finish(&ctx, mc_version_print(ctx.progname));
    return finish(&ctx, run(&ctx, argc > 0 ? argc - 1 : 0, argc > 0 ? argv + 1 : argv));
}
