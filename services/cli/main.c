/*
 * motcua - the applicant's and clerk's client of the one-stop intake
 * service: submit, status, supplement, withdraw, rate, form.
 *
 * Contract: `motcua [-c FILE] [-k KEYFILE] COMMAND [ARGS]` runs one command
 * and exits with its status (docs/cli.md lists them). The commands that
 * moved to their own programs (as Postfix splits postqueue, postsuper and
 * postconf) still work under their old names: motcua execs
 * motcua-admin/-report/-load from its own directory (else PATH) with -c/-k
 * and the rest of the command line, under the name "motcua" so messages
 * read as before. This file only declares the commands and forwards; the
 * loop is mc_cli_main (common/cli).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

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
    "  form KIND CODE [--format text|html]\n                              print a form (receipt, supplement, refusal, apology, stop, control)\n"
    "  form register WARD [--from D] [--to D] [--format text|html]\n                              the ward's register of dossiers (Mẫu 07)\n"
    "\n"
    "the operator's commands run motcua-admin (migrate, config check, keygen, token,\n"
    "deadletters, requeue, overdue, queues, stats, notifications, retention), `report`\n"
    "runs motcua-report and `load` runs motcua-load: `motcua COMMAND ...` is the\n"
    "same as `motcua-PROGRAM ...` (see their --help)\n"
    "\n"
    "options:\n"
    "  -c, --config FILE           configuration (default: $MOTCUA_CONFIG,\n"
    "                              /etc/motcua/motcua.yaml, config/motcua.yaml)\n"
    "  -k, --key FILE              this client's CURVE secret key for intake\n"
    "                              (default: client.key_file)\n"
    "      --connect ENDPOINT      an intake instance to use (repeatable; replaces\n"
    "                              intake.connect): a request with no reply goes again,\n"
    "                              the same bytes, to the next one\n"
    "  -h, --help                  this text; `motcua COMMAND --help` for a command\n"
    "      --version               print the version, then exit\n";

/* a command that lives in another program */
typedef struct moved {
    const char *name;    /* "migrate" */
    const char *program; /* "motcua-admin" */
    bool        keep;    /* pass the command name on (the program has several commands) */
} moved_t;

static const moved_t moved[] = {
    {"migrate", "motcua-admin", true},  {"config", "motcua-admin", true},
    {"keygen", "motcua-admin", true},   {"deadletters", "motcua-admin", true},
    {"requeue", "motcua-admin", true},  {"overdue", "motcua-admin", true},
    {"queues", "motcua-admin", true},   {"stats", "motcua-admin", true},
    {"notifications", "motcua-admin", true}, {"report", "motcua-report", false},
    {"retention", "motcua-admin", true}, {"token", "motcua-admin", true},
    {"staff-passwd", "motcua-admin", true},
    {"load", "motcua-load", false},
};

/* forward - exec the program a moved command lives in: `PROGRAM -c FILE
 * [-k KEY] [NAME] ARGS`, from argv[0]'s directory, else from PATH */
static int forward(mc_cli_ctx_t *ctx, const char *name, int argc, char **argv)
{
    const moved_t *m = NULL;
    for (size_t k = 0; k < sizeof moved / sizeof moved[0] && !m; k++)
        if (strcmp(moved[k].name, name) == 0)
            m = &moved[k];
    if (!m)
        return MC_CLI_NOT_MINE;
    char **v = malloc(((size_t)argc + 7 + 2 * ctx->n_connect) * sizeof *v);
    if (!v) {
        fprintf(stderr, "%s: %s: out of memory\n", ctx->progname, name);
        return MC_CLI_EX_FAIL;
    }
    int n = 0;
    v[n++] = (char *)ctx->progname; /* its messages say "motcua", as before the split */
    v[n++] = "-c";
    v[n++] = (char *)ctx->config_path;
    if (ctx->key_path) {
        v[n++] = "-k";
        v[n++] = (char *)ctx->key_path;
    }
    for (size_t i = 0; i < ctx->n_connect; i++) {
        v[n++] = "--connect";
        v[n++] = (char *)ctx->connect[i];
    }
    if (m->keep)
        v[n++] = (char *)name;
    for (int i = 0; i < argc; i++)
        v[n++] = argv[i];
    v[n] = NULL;
    fflush(NULL);
    const char *slash = strrchr(ctx->argv0, '/');
    if (slash) {
        char path[4096];
        int len = snprintf(path, sizeof path, "%.*s/%s", (int)(slash - ctx->argv0), ctx->argv0,
                           m->program);
        if (len > 0 && (size_t)len < sizeof path)
            execv(path, v);
    }
    execvp(m->program, v);
    fprintf(stderr, "%s: %s: cannot run %s: %s\n", ctx->progname, name, m->program,
            strerror(errno));
    free(v);
    return MC_CLI_EX_FAIL;
}

/* main - the client's commands, the moved ones forwarded */
int main(int argc, char **argv)
{
    static const mc_cli_command_t commands[] = {
        {"submit", cli_submit},         {"status", cli_status}, {"supplement", cli_supplement},
        {"withdraw", cli_withdraw},     {"rate", cli_rate},     {"form", cli_form},
    };
    return mc_cli_main(argc, argv, usage_text, commands, sizeof commands / sizeof commands[0],
                       forward);
}
