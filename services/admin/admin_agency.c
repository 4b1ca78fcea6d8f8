/*
 * admin_agency - the operator's commands for the inter-agency exchange:
 *   motcua-admin keygen NAME [--dir D]    a CURVE keypair: D/NAME.key (secret, 0600), D/NAME.pub
 *   motcua-admin token NAME               a new HTTP bearer token (printed once) and its token_sha256
 *   motcua-admin deadletters [--json]     cases parked after lienthong.max_attempts sends
 *   motcua-admin requeue CASE_ID          a dead letter (attempts 0) or an acked case back to the queue
 *
 * Contract: keygen needs no configuration and never prints the secret key;
 * it refuses to overwrite existing files. token needs no configuration and
 * writes no file: the token is printed once, clients.yaml keeps its hash. deadletters and requeue read and
 * write the store directly (each change with its event, in one
 * transaction). Exit: 0 done, 1 failed, 2 requeue: neither dead nor acked,
 * 64 usage, 78 bad configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin.h"
#include "mc_calendar.h"
#include "mc_clients.h"
#include "mc_curve.h"
#include "mc_store.h"
#include "mc_store_cases.h"
#include "mc_limits.h"

static const char keygen_usage[] =
    "usage: motcua-admin keygen NAME [--dir D]\n"
    "  Make a CURVE keypair for motcua-lienthong or an agency: D/NAME.key (the\n"
    "  secret key, mode 0600) and D/NAME.pub (the public key to register in\n"
    "  agencies.yaml or hand to agencies). D defaults to the current directory.\n"
    "exit: 0 written, 1 failed (existing files are never overwritten), 64 usage\n";

static const char token_usage[] =
    "usage: motcua-admin token NAME\n"
    "  Make a new random HTTP bearer token for the client NAME of clients.yaml\n"
    "  (motcua-gateway: `Authorization: Bearer <token>`). The token is printed\n"
    "  once: give it to the client; add the token_sha256 line to NAME's entry\n"
    "  in clients.yaml and reload intake and the gateway (SIGHUP).\n"
    "exit: 0 printed, 1 failed, 64 usage\n";

static const char dead_usage[] =
    "usage: motcua-admin [-c FILE] deadletters [--json]\n"
    "  List the cases parked as dead letters (sent lienthong.max_attempts times\n"
    "  without an ack). `motcua-admin requeue CASE_ID` sends one again.\n"
    "exit: 0 listed, 1 failed, 64 usage, 78 bad configuration\n";

static const char requeue_usage[] =
    "usage: motcua-admin [-c FILE] requeue CASE_ID\n"
    "  Put a case back in its agency's queue:\n"
    "  - a dead letter (sent lienthong.max_attempts times without an ack) with\n"
    "    attempts 0;\n"
    "  - an acked case the agency has not answered (it may have lost it): the\n"
    "    lease of the agency's session ends now, and the case is offered again\n"
    "    with the same case_id and revision and a higher attempt (the agency\n"
    "    dedupes on case_id and revision, so this is safe).\n"
    "exit: 0 requeued, 2 neither a dead letter nor acked, 1 failed, 64 usage,\n"
    "      78 bad configuration\n";

/* name_ok - a key name that is a plain file name */
static bool name_ok(const char *name)
{
    if (!*name || strlen(name) > 64 || name[0] == '.' || name[0] == '-')
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.'))
            return false;
    return true;
}

/* admin_keygen - `motcua-admin keygen NAME [--dir D]` */
int admin_keygen(mc_cli_ctx_t *ctx, int argc, char **argv)
{
    const char *name = NULL, *dir = ".";
    const mc_cli_opt_t opts[] = {{"--dir", &dir, 'd'}};
    int parsed = mc_cli_parse_opts(ctx, argc, argv, "keygen", keygen_usage, opts, 1, NULL, &name);
    if (parsed != MC_CLI_EX_OK)
        return parsed == MC_CLI_EX_HELP ? MC_CLI_EX_OK : parsed;
    if (!name || !name_ok(name))
        return mc_cli_usage_error(ctx, keygen_usage, "keygen: NAME must be 1..64 of A-Z a-z 0-9 _ - .");
    mkdir(dir, 0755); /* an existing directory is fine; a real failure shows below */
    mc_err_t err;
    mc_err_clear(&err);
    char pub[MC_CURVE_KEY_LEN + 1];
    if (mc_curve_write_keys(dir, name, pub, &err) != 0) {
        mc_cli_print_err(ctx, &err);
        return MC_CLI_EX_FAIL;
    }
    printf("secret key: %s/%s.key (mode 0600, keep it private)\n", dir, name);
    printf("public key: %s/%s.pub\n", dir, name);
    printf("public_key: \"%s\"\n", pub);
    return MC_CLI_EX_OK;
}

/* admin_token - `motcua-admin token NAME` */
int admin_token(mc_cli_ctx_t *ctx, int argc, char **argv)
{
    const char *name = NULL;
    int parsed = mc_cli_parse_opts(ctx, argc, argv, "token", token_usage, NULL, 0, NULL, &name);
    if (parsed != MC_CLI_EX_OK)
        return parsed == MC_CLI_EX_HELP ? MC_CLI_EX_OK : parsed;
    if (!name || !name_ok(name))
        return mc_cli_usage_error(ctx, token_usage, "token: NAME must be 1..64 of A-Z a-z 0-9 _ - .");
    char token[MC_TOKEN_NEW_LEN + 1], hash[65];
    if (mc_clients_token_new(token, hash) != 0) {
        fprintf(stderr, "motcua-admin: token: cannot make a random token\n");
        return MC_CLI_EX_FAIL;
    }
    printf("token: %s (shown once: give it to %s, keep it nowhere else)\n", token, name);
    printf("token_sha256: \"%s\"\n", hash);
    explicit_bzero(token, sizeof token);
    return MC_CLI_EX_OK;
}

/* open_store - configuration and a connected store as program's database
 * role (NULL: the configured identity), or an exit status */
static int open_store(mc_cli_ctx_t *ctx, const char *program, mc_cfg_t **cfg, mc_store_t **store)
{
    int status = program ? mc_cli_load_config_as(ctx, program, cfg) : mc_cli_load_config(ctx, cfg);
    if (status != MC_CLI_EX_OK)
        return status;
    *store = mc_store_new((*cfg)->conninfo, (*cfg)->connect_timeout_s,
                          (*cfg)->statement_timeout_ms);
    mc_store_set_tcp(*store, &(*cfg)->db_tcp);
    if (!*store) {
        mc_cfg_destroy(cfg);
        return MC_CLI_EX_FAIL;
    }
    return MC_CLI_EX_OK;
}

/* admin_deadletters - `motcua-admin deadletters [--json]` */
int admin_deadletters(mc_cli_ctx_t *ctx, int argc, char **argv)
{
    bool json = false;
    const char *args[1];
    int n_args = 0;
    int parsed = mc_cli_parse_args(ctx, argc, argv, "deadletters", dead_usage, &json, args, 0, &n_args);
    if (parsed != MC_CLI_EX_OK)
        return parsed == MC_CLI_EX_HELP ? MC_CLI_EX_OK : parsed;
    mc_cfg_t *cfg = NULL;
    mc_store_t *store = NULL;
    int status = open_store(ctx, MC_CLI_READER, &cfg, &store);
    if (status != MC_CLI_EX_OK)
        return status;
    mc_dead_case_t *list = NULL;
    size_t n = 0;
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_store_cases_dead(store, 10000, &list, &n, &err) != MC_STORE_OK) {
        mc_cli_print_err(ctx, &err);
        status = MC_CLI_EX_FAIL;
    } else if (json) {
        printf("{\"count\":%zu,\"dead_letters\":[", n);
        for (size_t i = 0; i < n; i++) {
            printf("%s{\"case_id\":", i ? "," : "");
            mc_cli_json_string(stdout, list[i].case_id);
            printf(",\"dossier_code\":");
            mc_cli_json_string(stdout, list[i].dossier_code);
            printf(",\"agency\":");
            mc_cli_json_string(stdout, list[i].agency);
            char iso[40];
            printf(",\"step\":%d,\"steps_total\":%d,\"attempts\":%d,\"since\":\"%s\"}",
                   list[i].step, list[i].steps_total, list[i].attempts,
                   mc_format_iso(list[i].since, iso, sizeof iso));
        }
        printf("]}\n");
    } else if (n == 0) {
        printf("Không có hồ sơ nào bị treo (no dead letters).\n");
    } else {
        printf("%-32s %-18s %-9s %-8s %s\n", "CASE_ID", "AGENCY", "STEP", "ATTEMPTS", "SINCE");
        for (size_t i = 0; i < n; i++) {
            char iso[40], step[16];
            snprintf(step, sizeof step, "%d/%d", list[i].step, list[i].steps_total);
            printf("%-32s %-18s %-9s %-8d %s\n", list[i].case_id, list[i].agency, step,
                   list[i].attempts, mc_format_iso(list[i].since, iso, sizeof iso));
        }
        printf("%zu dead letter(s); `motcua-admin requeue CASE_ID` sends one again.\n", n);
    }
    free(list);
    mc_store_destroy(&store);
    mc_cfg_destroy(&cfg);
    return status;
}

/* admin_requeue - `motcua-admin requeue CASE_ID` */
int admin_requeue(mc_cli_ctx_t *ctx, int argc, char **argv)
{
    const char *args[1];
    int n_args = 0;
    int parsed = mc_cli_parse_args(ctx, argc, argv, "requeue", requeue_usage, NULL, args, 1, &n_args);
    if (parsed != MC_CLI_EX_OK)
        return parsed == MC_CLI_EX_HELP ? MC_CLI_EX_OK : parsed;
    if (n_args != 1 || !*args[0] || strlen(args[0]) > 95)
        return mc_cli_usage_error(ctx, requeue_usage, "requeue: give one CASE_ID");
    mc_cfg_t *cfg = NULL;
    mc_store_t *store = NULL;
    int status = open_store(ctx, NULL, &cfg, &store);
    if (status != MC_CLI_EX_OK)
        return status;
    mc_err_t err;
    mc_err_clear(&err);
    char agency[MC_AGENCY_CODE_LEN + 1] = "";
    int was = 0;
    mc_store_rc_t rc = mc_store_cases_requeue(store, args[0], agency, &was, &err);
    if (rc == MC_STORE_OK) {
        printf("requeued %s for %s (%s)\n", args[0], agency,
               was == MC_CASE_DEAD ? "dead letter, attempts 0" : "taken back from the agency");
    } else if (rc == MC_STORE_NOT_FOUND) {
        fprintf(stderr, "%s: requeue: %s is neither a dead letter nor an acked case\n",
                ctx->progname, args[0]);
        status = MC_CLI_EX_REJECTED;
    } else {
        mc_cli_print_err(ctx, &err);
        status = MC_CLI_EX_FAIL;
    }
    mc_store_destroy(&store);
    mc_cfg_destroy(&cfg);
    return status;
}
