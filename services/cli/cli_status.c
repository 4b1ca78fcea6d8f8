/*
 * cli_status - `motcua status CODE [--secret S] [--json]`: ask the intake daemon where
 * a dossier is (tra cứu hồ sơ) and print its state and history.
 *
 * Contract: exit 0 when the dossier was found, 2 when the daemon says
 * NOT_FOUND (or refuses the query for another lasting reason), 3 when no
 * reply came or the refusal is temporary, 64 usage, 78 bad configuration,
 * 1 anything else.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char status_usage[] =
    "usage: motcua [-c FILE] status CODE [--secret S] [--json]\n"
    "  Print the state, dates and history of the dossier with this code\n"
    "  (mã hồ sơ, as printed on the receipt).\n"
    "  --secret S  the dossier's secret (from the receipt): a portal client needs it for the history\n"
    "  --json   print one line of JSON instead\n"
    "exit: 0 found, 2 not found or refused, 3 retry later, 64 usage,\n"
    "      78 bad configuration, 1 other error\n";

/* cli_status - `motcua status CODE [--secret S] [--json]` */
int cli_status(mc_cli_ctx_t *ctx, int argc, char **argv)
{
    const char *code = NULL, *secret = "";
    bool json = false;
    const mc_cli_opt_t opts[] = {{"--secret", &secret, 0}};
    int parsed = mc_cli_parse_opts(ctx, argc, argv, "status", status_usage, opts, 1, &json, &code);
    if (parsed != MC_CLI_EX_OK)
        return parsed == MC_CLI_EX_HELP ? MC_CLI_EX_OK : parsed;
    if (!code || !*code)
        return mc_cli_usage_error(ctx, status_usage, "status: no dossier code given");

    mc_cfg_t *cfg = NULL;
    int status = mc_cli_load_config(ctx, &cfg);
    if (status != MC_CLI_EX_OK)
        return status;

    Motcua__V1__StatusQuery query = MOTCUA__V1__STATUS_QUERY__INIT;
    query.dossier_code = (char *)code; /* only read by pack */
    query.secret = (char *)secret;
    Motcua__V1__IntakeRequest request = MOTCUA__V1__INTAKE_REQUEST__INIT;
    request.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_STATUS;
    request.status = &query;

    Motcua__V1__IntakeReply *reply = NULL;
    status = cli_ask(ctx, cfg, &request, json, &reply);
    if (status != MC_CLI_EX_OK)
        goto done;
    char name[64];
    switch (reply->body_case) {
    case MOTCUA__V1__INTAKE_REPLY__BODY_STATUS:
        if (json)
            cli_json_status(stdout, reply->status);
        else
            cli_print_status(stdout, reply->status);
        status = MC_CLI_EX_OK;
        break;
    case MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION: {
        const Motcua__V1__Rejection *j = reply->rejection;
        status = mc_cli_rejection_status(j);
        if (json) {
            cli_json_rejection(stdout, j);
        } else if (j->reason == MOTCUA__V1__REASON__REASON_NOT_FOUND) {
            printf("Không tìm thấy hồ sơ có mã %s.\n", code);
        } else {
            /* not a refused dossier, so not the refusal form: one line */
            printf("Không tra cứu được hồ sơ %s: %s - %s%s%s%s%s\n", code,
                   mc_cli_reason_name(j->reason, name, sizeof name), cli_reason_label(j->reason),
                   j->field && *j->field ? " (" : "", j->field && *j->field ? j->field : "",
                   j->field && *j->field ? ")" : "", status == MC_CLI_EX_RETRY ? "; thử lại sau" : "");
            if (j->message && *j->message)
                printf("%s\n", j->message);
        }
        break;
    }
    default:
        status = cli_unexpected(ctx, json, "the daemon answered a status query with no status");
        break;
    }
done:
    if (reply)
        motcua__v1__intake_reply__free_unpacked(reply, NULL);
    mc_cfg_destroy(&cfg);
    return status;
}
