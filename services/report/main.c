/*
 * motcua-report - the periodic report on the handling of administrative
 * procedures (received / resolved early, on time, late / still open, per
 * channel and per procedure, satisfaction) for a ward or the whole store,
 * as a terminal table, CSV, JSON or an SVG chart.
 *
 * Contract: `motcua-report [-c FILE] (--quarter Q | --from D --to D)
 * [--ward W] [--procedure P] [--format F]`; `motcua report ...` forwards
 * here. This file is the arguments and one call: the engine is
 * common/report (mc_report_run), the figures come from mc_store_report,
 * read as the read-only role motcua-report. Exit statuses: 0 done, 1 store
 * failure, 64 bad command line, 78 configuration.
 */
#include <stdio.h>

#include "mc_cli.h"
#include "mc_report.h"

static const char report_usage[] =
    "usage: motcua-report [-c FILE] (--quarter YYYY-QN | --from YYYY-MM-DD --to YYYY-MM-DD)\n"
    "                     [--ward CODE] [--procedure CODE] [--format table|csv|json|svg]\n"
    "  The figures of a period (both days included, local time): received per channel,\n"
    "  resolved early / on time / late, still open, per procedure, satisfaction.\n"
    "  --ward       one ward (a code from the configuration's wards); default: all\n"
    "  --procedure  one procedure (a code from procedures.yaml); default: all\n"
    "  --format     table (default, Vietnamese), csv, json (stable keys), svg (a chart)\n"
    "  The rules are in docs/reports.md. `motcua report ...` is the same.\n";

/* report options as given */
typedef struct report_args {
    const char *from;      /* --from */
    const char *to;        /* --to */
    const char *quarter;   /* --quarter */
    const char *ward;      /* --ward */
    const char *procedure; /* --procedure */
    const char *format;    /* --format */
} report_args_t;

/* report - the command line into one mc_report_run */
static int report(mc_cli_ctx_t *ctx, int argc, char **argv)
{
    report_args_t a = {0};
    const mc_cli_opt_t opts[] = {{"--from", &a.from, 0},   {"--to", &a.to, 0},
                                 {"--quarter", &a.quarter, 0}, {"--ward", &a.ward, 0},
                                 {"--procedure", &a.procedure, 0}, {"--format", &a.format, 0}};
    int status = mc_cli_parse_opts(ctx, argc, argv, "report", report_usage, opts,
                                   sizeof opts / sizeof opts[0], NULL, NULL);
    if (status != MC_CLI_EX_OK)
        return status == MC_CLI_EX_HELP ? MC_CLI_EX_OK : status;
    mc_report_request_t req = {0};
    if (mc_report_format_parse(a.format ? a.format : "table", &req.format) != 0)
        return mc_cli_usage_error(ctx, report_usage, "report: --format must be table, csv, json or svg");
    mc_err_t err;
    mc_err_clear(&err);
    char why[256];
    if (mc_report_period(a.quarter, a.from, a.to, &req.from, &req.to, &err) != 0)
        return mc_cli_usage_error(ctx, report_usage, "%s", mc_err_first(&err, why, sizeof why));
    req.ward = a.ward;
    req.procedure = a.procedure;

    mc_cfg_t *cfg = NULL;
    if ((status = mc_cli_load_config_as(ctx, MC_CLI_READER, &cfg)) != MC_CLI_EX_OK)
        return status;
    mc_report_rc_t rc = mc_report_run(cfg, &req, stdout, &err);
    mc_cfg_destroy(&cfg);
    if (rc == MC_REPORT_RUN_BAD)
        return mc_cli_usage_error(ctx, report_usage, "%s", mc_err_first(&err, why, sizeof why));
    status = rc == MC_REPORT_RUN_OK ? MC_CLI_EX_OK : MC_CLI_EX_FAIL;
    if (rc == MC_REPORT_RUN_FAILED && err.count)
        mc_cli_print_err(ctx, &err);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: report: could not write the output\n", ctx->progname);
        status = MC_CLI_EX_FAIL;
    }
    return status;
}

/* main - one report */
int main(int argc, char **argv)
{
    return mc_cli_main_one(argc, argv, report);
}
