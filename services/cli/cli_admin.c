/*
 * cli_admin - the operator's commands: `motcua migrate` (bring the schema
 * up to date) and `motcua config check [FILE]` (would every daemon start
 * with this configuration?).
 *
 * Contract: migrate exits 0 when the database is at the newest embedded
 * schema, 1 otherwise, 78 when the configuration does not load. config
 * check prints every problem it finds and exits 1, or prints a one-line
 * summary and exits 0. It fails on everything a daemon would refuse at
 * start: it runs each daemon's own `--check` (installed beside this
 * program), so a file only one daemon reads (notifications.yaml,
 * agencies.yaml with its key files) is judged by the very code that reads
 * it, and it opens the secret files the daemons open (mode 0600). An
 * events endpoint other hosts could reach fails the load (mc_cfg). It warns
 * (exit still 0) about intake without CURVE (intake.plaintext) bound on an
 * address other hosts can reach. Neither command prints a password: conninfo is shown only
 * redacted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "cli.h"
#include "mc_agencies.h"
#include "mc_routing.h"
#include "mc_calendar.h"
#include "mc_curve.h"
#include "mc_store.h"

static const char migrate_usage[] =
    "usage: motcua [-c FILE] migrate\n"
    "  Apply every embedded schema migration newer than the database's version.\n"
    "  Safe to run again, and from several hosts at once.\n"
    "exit: 0 up to date, 1 failed, 64 usage, 78 bad configuration\n";

static const char config_usage[] =
    "usage: motcua [-c FILE] config check [FILE]\n"
    "  Load the configuration (FILE, else -c, else the default) with every\n"
    "  file it names (catalog, calendar, routing, agencies and their keys,\n"
    "  notification templates, secret files) as the daemons do, and report\n"
    "  every problem found. Warns when intake runs without CURVE on an address\n"
    "  other hosts can reach.\n"
    "exit: 0 ok, 1 problems found, 64 usage\n";

/* cli_migrate - `motcua migrate` */
int cli_migrate(cli_ctx_t *ctx, int argc, char **argv)
{
    const char *args[1];
    int n_args = 0;
    int parsed = cli_parse_args(ctx, argc, argv, "migrate", migrate_usage, NULL, args, 0, &n_args);
    if (parsed != CLI_EX_OK)
        return parsed == CLI_EX_HELP ? CLI_EX_OK : parsed;
    mc_cfg_t *cfg = NULL;
    int status = cli_load_config(ctx, &cfg);
    if (status != CLI_EX_OK)
        return status;

    /* no mc_store_connect(): it prepares statements against tables that
     * an empty database does not have yet; migrate makes its own
     * connection and needs none */
    mc_store_t *store = mc_store_new(cfg->conninfo, cfg->connect_timeout_s,
                                     cfg->statement_timeout_ms);
    if (!store) {
        fprintf(stderr, "%s: migrate: out of memory\n", ctx->progname);
        mc_cfg_destroy(&cfg);
        return CLI_EX_FAIL;
    }
    int applied = 0, version = 0;
    mc_err_t err;
    mc_err_clear(&err);
    mc_store_rc_t rc = mc_store_migrate(store, &applied, &version, &err);
    if (rc == MC_STORE_OK) {
        printf("migrate: applied %d, schema version %d\n", applied, version);
        status = CLI_EX_OK;
    } else {
        char redacted[512];
        cli_print_err(ctx, &err);
        fprintf(stderr, "%s: migrate: failed%s against %s (applied %d before the failure)\n",
                ctx->progname, rc == MC_STORE_UNAVAILABLE ? " (database unreachable)" : "",
                mc_cfg_conninfo_redacted(cfg, redacted, sizeof redacted), applied);
        status = CLI_EX_FAIL;
    }
    mc_store_destroy(&store);
    mc_cfg_destroy(&cfg);
    return status;
}

/* calendar_years - "2025-2026" or "2024, 2026-2027": the years the calendar
 * describes, found by asking it (the API has no list, and a due date past
 * them fails, so the operator must see them) */
static const char *calendar_years(const mc_calendar_t *cal, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    int start = 0;
    for (int y = 1900; y <= 2201; y++) {
        mc_date_t d = { y, 6, 15 };
        bool in = y <= 2200 && mc_calendar_covers(cal, d);
        if (in && !start) {
            start = y;
        } else if (!in && start) {
            int n = start == y - 1
                        ? snprintf(buf + used, size - used, "%s%d", used ? ", " : "", start)
                        : snprintf(buf + used, size - used, "%s%d-%d", used ? ", " : "", start,
                                   y - 1);
            if (n < 0 || (size_t)n >= size - used)
                break; /* truncated; what fits is still true */
            used += (size_t)n;
            start = 0;
        }
    }
    if (used == 0)
        snprintf(buf, size, "(no years)");
    return buf;
}

/* the daemons whose own start-up checks config check runs */
static const char *const checked_daemons[] = {"motcua-intake", "motcua-router",
                                              "motcua-lienthong", "motcua-notify"};

/* daemon_check - run `<this program's directory>/<daemon> -c config --check`:
 * the daemon's own validation (notify's templates, lienthong's agencies and
 * keys, ...). Its problems go to our stderr, its "config ok" is dropped.
 * Returns 0 when it accepted the configuration. */
static int daemon_check(cli_ctx_t *ctx, const char *daemon, const char *config)
{
    char self[4096], path[4200];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        fprintf(stderr, "%s: config check: cannot find the %s program: %s\n", ctx->progname,
                daemon, strerror(errno));
        return -1;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    snprintf(path, sizeof path, "%.*s/%s", slash ? (int)(slash - self) : 1, slash ? self : ".",
             daemon);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "%s: config check: fork: %s\n", ctx->progname, strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDOUT_FILENO);
        execl(path, daemon, "-c", config, "--check", (char *)NULL);
        fprintf(stderr, "%s: config check: cannot run %s: %s\n", ctx->progname, path,
                strerror(errno));
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* warn_open_binds - a plain-TCP bind others can reach: anyone there may
 * submit without a key. intake with CURVE (its client registry) and
 * lienthong (always CURVE) are fine on any address; the events endpoints
 * never get here (mc_cfg_load refuses them off this host). */
static void warn_open_binds(cli_ctx_t *ctx, const mc_cfg_t *cfg)
{
    if (cfg->intake.plaintext && !mc_cfg_endpoint_is_local(cfg->intake.endpoint))
        fprintf(stderr, "%s: config check: warning: intake.endpoint %s is reachable from other "
                "hosts without CURVE (intake.plaintext: true): bind it to 127.0.0.1 or ipc://, "
                "or turn CURVE on\n", ctx->progname, cfg->intake.endpoint);
}

/* check_secret - can the secret file be opened as a daemon would (mode 0600)? */
static int check_secret(cli_ctx_t *ctx, const char *path, const char *what)
{
    mc_err_t err;
    mc_err_clear(&err);
    FILE *f = mc_cfg_open_secret(path, what, &err);
    if (!f) {
        cli_print_err(ctx, &err);
        return 1;
    }
    fclose(f);
    return 0;
}

/* check_secrets - every secret file the configuration names, as its daemon opens it */
static int check_secrets(cli_ctx_t *ctx, const mc_cfg_t *cfg)
{
    int problems = 0;
    char key[MC_CURVE_KEY_LEN + 1];
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_curve_read_secret_key(cfg->lienthong.server_key_file, key, &err) != 0) {
        cli_print_err(ctx, &err);
        problems++;
    }
    explicit_bzero(key, sizeof key);
    if (cfg->notify.sms_url[0] && cfg->notify.sms_token_file[0])
        problems += check_secret(ctx, cfg->notify.sms_token_file, "sms token");
    if (cfg->notify.smtp_url[0] && cfg->notify.smtp_user[0])
        problems += check_secret(ctx, cfg->notify.smtp_password_file, "smtp password");
    return problems;
}

/* cli_config - `motcua config check [FILE]` */
int cli_config(cli_ctx_t *ctx, int argc, char **argv)
{
    const char *sub = NULL, *file = NULL;
    const char *args[2];
    int n_args = 0;
    int parsed = cli_parse_args(ctx, argc, argv, "config", config_usage, NULL, args, 2, &n_args);
    if (parsed != CLI_EX_OK)
        return parsed == CLI_EX_HELP ? CLI_EX_OK : parsed;
    if (n_args > 0)
        sub = args[0];
    if (n_args > 1)
        file = args[1];
    if (!sub)
        return cli_usage_error(ctx, config_usage, "config: no subcommand given");
    if (strcmp(sub, "check") != 0)
        return cli_usage_error(ctx, config_usage, "config: unknown subcommand '%s'", sub);
    if (file)
        ctx->config_path = file;

    mc_cfg_t *cfg = NULL;
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_cfg_load(ctx->config_path, &cfg, &err) < 0) {
        cli_print_err(ctx, &err);
        fprintf(stderr, "%s: config check: %s: %d problem%s\n", ctx->progname, ctx->config_path,
                err.count, err.count == 1 ? "" : "s");
        return CLI_EX_FAIL;
    }
    /* the files only some daemons read: a desk or agency that no agency entry
     * answers for would leave its dossiers waiting forever, so say it here */
    mc_routing_t *routing = NULL;
    int problems = 0;
    if (mc_routing_load(cfg->routing_path, cfg, &routing, &err) < 0) {
        cli_print_err(ctx, &err);
        problems = err.count;
    }
    mc_agencies_t *agencies = NULL;
    mc_err_t agency_err;
    mc_err_clear(&agency_err);
    if (mc_agencies_load(cfg->agencies_path, &agencies, &agency_err) < 0) {
        /* lienthong refuses to start on it (its --check below says so too) */
        cli_print_err(ctx, &agency_err);
        problems += agency_err.count;
    } else if (routing) {
        for (size_t i = 0; i < cfg->catalog->count; i++) {
            const mc_procedure_t *proc = &cfg->catalog->procedures[i];
            for (size_t w = 0; w < cfg->n_wards; w++) {
                mc_route_t r = mc_routing_lookup(routing, proc, cfg->wards[w].code);
                if (!mc_agencies_find(agencies, r.department)) {
                    fprintf(stderr, "%s: %s: desk '%s' (procedure %s, ward %s) has no entry\n",
                            ctx->progname, cfg->agencies_path, r.department, proc->code,
                            cfg->wards[w].code);
                    problems++;
                }
            }
            for (size_t k = 0; k < proc->n_steps; k++)
                if (!mc_agencies_find(agencies, proc->steps[k].agency)) {
                    fprintf(stderr, "%s: %s: agency '%s' (procedure %s, step %zu) has no entry\n",
                            ctx->progname, cfg->agencies_path, proc->steps[k].agency, proc->code,
                            k + 2);
                    problems++;
                }
        }
    }
    mc_agencies_destroy(&agencies);
    mc_routing_destroy(&routing);
    problems += check_secrets(ctx, cfg);
    for (size_t i = 0; i < sizeof checked_daemons / sizeof checked_daemons[0]; i++)
        if (daemon_check(ctx, checked_daemons[i], ctx->config_path) != 0) {
            fprintf(stderr, "%s: config check: %s refuses this configuration\n",
                    ctx->progname, checked_daemons[i]);
            problems++;
        }
    warn_open_binds(ctx, cfg);
    if (problems) {
        fprintf(stderr, "%s: config check: %d problem%s\n", ctx->progname, problems,
                problems == 1 ? "" : "s");
        mc_cfg_destroy(&cfg);
        return CLI_EX_FAIL;
    }
    char years[128];
    printf("config ok: %zu wards, %zu procedures, calendar %s\n", cfg->n_wards,
           cfg->catalog ? cfg->catalog->count : 0,
           cfg->calendar ? calendar_years(cfg->calendar, years, sizeof years) : "(none)");
    mc_cfg_destroy(&cfg);
    return CLI_EX_OK;
}
