/*
 * cli_admin - the operator's commands: `motcua migrate` (bring the schema
 * up to date) and `motcua config check [FILE]` (does the configuration
 * load?).
 *
 * Contract: migrate exits 0 when the database is at the newest embedded
 * schema, 1 otherwise, 78 when the configuration does not load. config
 * check prints every problem it finds and exits 1, or prints a one-line
 * summary and exits 0. Neither prints a password: conninfo is shown only
 * redacted.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mc_agencies.h"
#include "mc_routing.h"
#include "mc_calendar.h"
#include "mc_store.h"

static const char migrate_usage[] =
    "usage: motcua [-c FILE] migrate\n"
    "  Apply every embedded schema migration newer than the database's version.\n"
    "  Safe to run again, and from several hosts at once.\n"
    "exit: 0 up to date, 1 failed, 64 usage, 78 bad configuration\n";

static const char config_usage[] =
    "usage: motcua [-c FILE] config check [FILE]\n"
    "  Load the configuration (FILE, else -c, else the default) with its\n"
    "  procedure catalog and calendar, and report every problem found.\n"
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
        /* key files are made at install time (motcua keygen): report, don't fail */
        char line[512];
        fprintf(stderr, "%s: config check: warning: %s not checked: %s\n", ctx->progname,
                cfg->agencies_path, mc_err_first(&agency_err, line, sizeof line));
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
