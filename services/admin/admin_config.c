/*
 * admin_config - the operator's commands: `motcua-admin migrate` (bring the schema
 * up to date) and `motcua-admin config check [FILE]` (would every daemon start
 * with this configuration?).
 *
 * Contract: migrate exits 0 when the database is at the newest embedded
 * schema, 1 otherwise, 78 when the configuration does not load; migrate
 * --status changes nothing and exits 0 when every embedded migration is
 * applied, 10 (MIGRATE_EX_PENDING) when some are pending, 1 when it cannot
 * tell. config
 * check prints every problem it finds and exits 1, or prints a one-line
 * summary and exits 0. It fails on everything a daemon would refuse at
 * start: it runs each daemon's own `--check` (installed beside this
 * program), so a file only one daemon reads (notifications.yaml,
 * agencies.yaml with its key files) is judged by the very code that reads
 * it, and it opens the secret files the daemons open (mode 0600): the
 * cross-file part is mc_cfg_check_files (common/config), which a daemon's
 * --check may call too. An
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

#include "admin.h"
#include "mc_calendar.h"
#include "mc_cfg_check.h"
#include "mc_log.h"
#include "mc_migrations.h"
#include "mc_store.h"

static const char migrate_usage[] =
    "usage: motcua-admin [-c FILE] migrate [--status] [--to VERSION]\n"
    "                    [--lock-timeout MS] [--lock-retries N]\n"
    "  Apply every embedded schema migration the database has not recorded\n"
    "  (with --to, only those up to VERSION). Safe to run again, and from\n"
    "  several hosts at once; no statement timeout; a statement that waits\n"
    "  longer than --lock-timeout (default 2000 ms) for a lock gives up and is\n"
    "  retried after a growing pause, at most --lock-retries times (default 10).\n"
    "  --status: list each embedded migration, applied (when) or pending; change nothing.\n"
    "exit: 0 up to date, 1 failed, 10 migrations pending (--status), 64 usage,\n"
    "      78 bad configuration\n";

static const char config_usage[] =
    "usage: motcua-admin [-c FILE] config check [FILE]\n"
    "  Load the configuration (FILE, else -c, else the default) with every\n"
    "  file it names (catalog, calendar, routing, agencies and their keys,\n"
    "  notification templates, secret files) as the daemons do, and report\n"
    "  every problem found. Warns when intake runs without CURVE on an address\n"
    "  other hosts can reach.\n"
    "exit: 0 ok, 1 problems found, 64 usage\n";

#define MIGRATE_EX_PENDING 10 /* --status: some embedded migration is not applied */

/* migrate_int - option text as an integer in [lo, hi] into *out; false if not one */
static bool migrate_int(const char *text, long lo, long hi, int *out)
{
    char *end = NULL;
    long v = text ? strtol(text, &end, 10) : 0;
    if (!text || !*text || *end || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

/* migrate_status - `migrate --status`: one line per embedded migration */
static int migrate_status(mc_cli_ctx_t *ctx, mc_store_t *store, mc_err_t *err)
{
    mc_store_migration_state_t *states = calloc(mc_migrations_count ? (size_t)mc_migrations_count
                                                                     : 1, sizeof *states);
    if (!states) {
        fprintf(stderr, "%s: migrate: out of memory\n", ctx->progname);
        return MC_CLI_EX_FAIL;
    }
    int pending = 0;
    if (mc_store_migrate_status(store, states, &pending, err) != MC_STORE_OK) {
        free(states);
        return -1;
    }
    for (int i = 0; i < mc_migrations_count; i++)
        printf("%04d  %-28s  %s%s%s\n", states[i].version, states[i].name,
               states[i].applied ? "đã áp dụng" : "chưa áp dụng", states[i].applied ? "  " : "",
               states[i].applied_at);
    printf("migrate: %d/%d đã áp dụng, %d chưa áp dụng\n", mc_migrations_count - pending,
           mc_migrations_count, pending);
    free(states);
    return pending ? MIGRATE_EX_PENDING : MC_CLI_EX_OK;
}

/* admin_migrate - `motcua-admin migrate` */
int admin_migrate(mc_cli_ctx_t *ctx, int argc, char **argv)
{
    /* --status takes no value: taken out before the value options are parsed */
    bool status_only = false;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest) {
        fprintf(stderr, "%s: migrate: out of memory\n", ctx->progname);
        return MC_CLI_EX_FAIL;
    }
    int n_rest = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--status") == 0)
            status_only = true;
        else
            rest[n_rest++] = argv[i];
    }
    const char *to_text = NULL, *lock_text = NULL, *retries_text = NULL;
    const mc_cli_opt_t opts[] = {
        {"--to", &to_text, 0},
        {"--lock-timeout", &lock_text, 0},
        {"--lock-retries", &retries_text, 0},
    };
    int parsed = mc_cli_parse_opts(ctx, n_rest, rest, "migrate", migrate_usage, opts,
                                   sizeof opts / sizeof opts[0], NULL, NULL);
    free(rest);
    if (parsed != MC_CLI_EX_OK)
        return parsed == MC_CLI_EX_HELP ? MC_CLI_EX_OK : parsed;
    mc_store_migrate_opts_t mopts;
    mc_store_migrate_defaults(&mopts);
    if (to_text && !migrate_int(to_text, 1, 9999, &mopts.target))
        return mc_cli_usage_error(ctx, migrate_usage, "migrate: --to must be 1..9999");
    if (lock_text && !migrate_int(lock_text, 1, 600000, &mopts.lock_timeout_ms))
        return mc_cli_usage_error(ctx, migrate_usage, "migrate: --lock-timeout must be 1..600000 ms");
    if (retries_text && !migrate_int(retries_text, 0, 1000, &mopts.lock_retries))
        return mc_cli_usage_error(ctx, migrate_usage, "migrate: --lock-retries must be 0..1000");
    mc_cfg_t *cfg = NULL;
    int status = mc_cli_load_config(ctx, &cfg);
    if (status != MC_CLI_EX_OK)
        return status;

    /* no mc_store_connect(): it prepares statements against tables that
     * an empty database does not have yet; migrate makes its own
     * connection and needs none; its statement timeout is its own (none) */
    mc_store_t *store = mc_store_new(cfg->conninfo, cfg->connect_timeout_s,
                                     cfg->statement_timeout_ms);
    mc_store_set_tcp(store, &cfg->db_tcp);
    if (!store) {
        fprintf(stderr, "%s: migrate: out of memory\n", ctx->progname);
        mc_cfg_destroy(&cfg);
        return MC_CLI_EX_FAIL;
    }
    int applied = 0, version = 0;
    mc_err_t err;
    mc_err_clear(&err);
    mc_store_rc_t rc = MC_STORE_OK;
    /* each migration applied, each lock retry and backfill: a line for the
     * operator (the journal of motcua-migrate.service), at least notices */
    mc_log_set_level(cfg->log_level > MC_LOG_NOTICE ? cfg->log_level : MC_LOG_NOTICE);
    if (status_only) {
        status = migrate_status(ctx, store, &err);
        rc = status < 0 ? MC_STORE_FAILED : MC_STORE_OK;
    } else {
        rc = mc_store_migrate_with(store, &mopts, &applied, &version, &err);
        if (rc == MC_STORE_OK)
            printf("migrate: applied %d, schema version %d\n", applied, version);
        status = MC_CLI_EX_OK;
    }
    if (rc != MC_STORE_OK) {
        char redacted[512];
        mc_cli_print_err(ctx, &err);
        fprintf(stderr, "%s: migrate: failed%s against %s (applied %d before the failure)\n",
                ctx->progname, rc == MC_STORE_UNAVAILABLE ? " (database unreachable)" : "",
                mc_cfg_conninfo_redacted(cfg, redacted, sizeof redacted), applied);
        status = MC_CLI_EX_FAIL;
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
static int daemon_check(mc_cli_ctx_t *ctx, const char *daemon, const char *config)
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

/* admin_config - `motcua-admin config check [FILE]` */
int admin_config(mc_cli_ctx_t *ctx, int argc, char **argv)
{
    const char *sub = NULL, *file = NULL;
    const char *args[2];
    int n_args = 0;
    int parsed = mc_cli_parse_args(ctx, argc, argv, "config", config_usage, NULL, args, 2, &n_args);
    if (parsed != MC_CLI_EX_OK)
        return parsed == MC_CLI_EX_HELP ? MC_CLI_EX_OK : parsed;
    if (n_args > 0)
        sub = args[0];
    if (n_args > 1)
        file = args[1];
    if (!sub)
        return mc_cli_usage_error(ctx, config_usage, "config: no subcommand given");
    if (strcmp(sub, "check") != 0)
        return mc_cli_usage_error(ctx, config_usage, "config: unknown subcommand '%s'", sub);
    if (file)
        ctx->config_path = file;

    mc_cfg_t *cfg = NULL;
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_cfg_load(ctx->config_path, &cfg, &err) < 0) {
        mc_cli_print_err(ctx, &err);
        fprintf(stderr, "%s: config check: %s: %d problem%s\n", ctx->progname, ctx->config_path,
                err.count, err.count == 1 ? "" : "s");
        return MC_CLI_EX_FAIL;
    }
    /* the files only some daemons read, and the secret files (common/config) */
    mc_err_clear(&err);
    int problems = mc_cfg_check_files(cfg, &err);
    if (problems)
        mc_cli_print_err(ctx, &err);
    for (size_t i = 0; i < sizeof checked_daemons / sizeof checked_daemons[0]; i++)
        if (daemon_check(ctx, checked_daemons[i], ctx->config_path) != 0) {
            fprintf(stderr, "%s: config check: %s refuses this configuration\n",
                    ctx->progname, checked_daemons[i]);
            problems++;
        }
    mc_err_t warn;
    mc_err_clear(&warn);
    if (mc_cfg_check_warnings(cfg, &warn) > 0)
        mc_cli_print_err(ctx, &warn);
    if (problems) {
        fprintf(stderr, "%s: config check: %d problem%s\n", ctx->progname, problems,
                problems == 1 ? "" : "s");
        mc_cfg_destroy(&cfg);
        return MC_CLI_EX_FAIL;
    }
    char years[128];
    printf("config ok: %zu wards, %zu procedures, calendar %s\n", cfg->n_wards,
           cfg->catalog ? cfg->catalog->count : 0,
           cfg->calendar ? calendar_years(cfg->calendar, years, sizeof years) : "(none)");
    mc_cfg_destroy(&cfg);
    return MC_CLI_EX_OK;
}
