/*
 * cli_followup - `motcua supplement FILE.yaml [--secret S]`, `motcua
 * withdraw CODE --id SUBMISSION_ID [--reason TEXT] [--secret S]` and
 * `motcua rate CODE [--secret S | --token S] --level L --id SUBMISSION_ID
 * [--comment TEXT]`: the applicant's
 * follow-ups on a dossier already received (proto: SupplementDossier,
 * WithdrawDossier, RateService).
 *
 * Contract: the supplement file is checked for structure only, like a
 * dossier file (docs/cli.md); the daemon judges the content. Both commands
 * need a submission_id the user keeps (in the file, or --id), because a
 * safe retry must reuse it; the CLI never invents one here, so a repeated
 * command is always a retry and never a second supplement. Exit status:
 * 0 acknowledged, 2 refused, 3 retry later (no reply or temporary refusal),
 * 64 usage (including an unknown --level), 65 bad file, 78 bad
 * configuration, 1 anything else. The dossier's secret (Receipt.secret,
 * also the rating link's token) is only sent, never printed; a ward's
 * counter client may leave it out (the applicant is present in person),
 * a portal client needs it: intake decides, not the CLI.
 *
 *     submission_id: "kl-bs-0001"          required, 8..64 [A-Za-z0-9._:-]
 *     dossier_code: "000.22.29.H26-251001-0001"
 *     note: "..."                          optional
 *     documents:                           as in a dossier file
 *       - {type, name, media_type, size, sha256, uri, form, copies}
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mc_cli_dossier.h"
#include "mc_calendar.h"
#include "mc_yaml.h"

static const char supplement_usage[] =
    "usage: motcua [-c FILE] supplement FILE.yaml [--secret S] [--json]\n"
    "  Hand in the documents a dossier waits for (bổ sung hồ sơ), as described by\n"
    "  FILE.yaml (submission_id, dossier_code, note, documents: docs/cli.md), and\n"
    "  print the new due date. Resending the same file is a safe retry.\n"
    "  --secret S  the dossier's secret (from the receipt); a ward's counter client\n"
    "              may leave it out, a portal client needs it\n"
    "exit: 0 accepted, 2 refused, 3 retry later, 64 usage, 65 bad file,\n"
    "      78 bad configuration, 1 other error\n";

static const char withdraw_usage[] =
    "usage: motcua [-c FILE] withdraw CODE --id SUBMISSION_ID [--reason TEXT] [--secret S]\n"
    "                              [--json]\n"
    "  Withdraw the dossier with this code (rút hồ sơ). SUBMISSION_ID (8..64 of\n"
    "  A-Z a-z 0-9 . _ : -) makes a resend a safe retry: keep it.\n"
    "  --secret S  the dossier's secret (from the receipt); a ward's counter client\n"
    "              may leave it out, a portal client needs it\n"
    "exit: 0 withdrawn, 2 refused (e.g. the result is ready), 3 retry later,\n"
    "      64 usage, 78 bad configuration, 1 other error\n";

static const char rate_usage[] =
    "usage: motcua [-c FILE] rate CODE [--secret S] --level LEVEL --id SUBMISSION_ID\n"
    "                          [--comment TEXT] [--json]\n"
    "  Rate how the dossier with this code was handled (đánh giá mức độ hài lòng),\n"
    "  once its result is ready or it was refused. S is the dossier's secret: on\n"
    "  the receipt, or the t= value of the link in the result notice (--token S\n"
    "  is the same); a ward's counter client may leave it out, a portal client\n"
    "  needs it. LEVEL is very_satisfied (rất hài lòng),\n"
    "  satisfied (hài lòng) or not_satisfied (không hài lòng). SUBMISSION_ID\n"
    "  (8..64 of A-Z a-z 0-9 . _ : -) makes a resend a safe retry: keep it.\n"
    "exit: 0 recorded, 2 refused (e.g. ALREADY_RATED, FORBIDDEN), 3 retry later,\n"
    "      64 usage, 78 bad configuration, 1 other error\n";

/* free_supplement - free what read_supplement built (our allocation layout) */
static void free_supplement(Motcua__V1__SupplementDossier *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_documents; i++)
        mc_cli_document_free(s->documents[i]);
    free(s->documents);
    free(s->submission_id);
    free(s->dossier_code);
    free(s->note);
    free(s);
}

/* text - an optional string, "" when absent (never NULL, so pack is happy) */
static int text(const mc_yaml_node_t *map, const char *key, char **out, mc_err_t *err)
{
    if (mc_yaml_get_string(map, key, false, MC_YAML_MAX_SCALAR, out, err) < 0)
        return -1;
    if (!*out && !(*out = strdup(""))) {
        mc_err_add(err, "out of memory");
        return -1;
    }
    return 0;
}

/* read_supplement - the supplement file into a new SupplementDossier */
static int read_supplement(const char *path, Motcua__V1__SupplementDossier **out, mc_err_t *err)
{
    *out = NULL;
    mc_yaml_doc_t *doc = NULL;
    if (mc_yaml_load_file(path, &doc, err) < 0)
        return -1;
    const mc_yaml_node_t *root = mc_yaml_root(doc);
    static const char *const keys[] = {"submission_id", "dossier_code", "note", "documents", NULL};
    static const char *const required[] = {"submission_id", "dossier_code", "documents", NULL};
    Motcua__V1__SupplementDossier *s = calloc(1, sizeof *s);
    int rc = -1;
    if (!s) {
        mc_err_add(err, "out of memory");
        goto done;
    }
    motcua__v1__supplement_dossier__init(s);
    s->submission_id = s->dossier_code = s->note = NULL;
    if (mc_yaml_check_keys(root, "supplement", keys, required, err) < 0)
        goto done;
    rc = 0;
    rc |= text(root, "submission_id", &s->submission_id, err);
    rc |= text(root, "dossier_code", &s->dossier_code, err);
    rc |= text(root, "note", &s->note, err);
    const mc_yaml_node_t *seq = mc_yaml_get(root, "documents");
    if (mc_yaml_expect(seq, MC_YAML_SEQUENCE, "documents", err) < 0) {
        rc = -1;
    } else if (seq->count > 0) {
        s->documents = calloc(seq->count, sizeof *s->documents);
        if (!s->documents) {
            mc_err_add(err, "out of memory");
            rc = -1;
        }
        for (size_t i = 0; s->documents && i < seq->count; i++) {
            Motcua__V1__DocumentRef *d = mc_cli_document_from_yaml(seq->items[i], "documents", i, err);
            if (!d)
                rc = -1; /* keep going: report every bad document at once */
            else
                s->documents[s->n_documents++] = d;
        }
    }
done:
    mc_yaml_destroy(&doc);
    if (rc != 0) {
        free_supplement(s);
        return -1;
    }
    *out = s;
    return 0;
}

/* print_ack - the acknowledgement for people or as one JSON line */
static void print_ack(const Motcua__V1__Acknowledgement *a, bool json)
{
    char state[64];
    if (json) {
        printf("{\"result\":\"ack\",\"dossier_code\":");
        mc_cli_json_string(stdout, a->dossier_code);
        printf(",\"state\":\"%s\",\"due_at\":%lld,\"due_text\":",
               mc_cli_state_name(a->state, state, sizeof state), (long long)a->due_at);
        mc_cli_json_string(stdout, a->due_text);
        printf(",\"message\":");
        mc_cli_json_string(stdout, a->message);
        printf("}\n");
        return;
    }
    printf("Mã hồ sơ:        %s\n", a->dossier_code);
    printf("Trạng thái:      %s\n", cli_state_label(a->state));
    if (a->due_at > 0)
        printf("Hẹn trả kết quả: %s\n", a->due_text);
    if (a->message && *a->message)
        printf("%s\n", a->message);
}

/* answer - print the reply and map it to the exit status */
static int answer(const mc_cli_ctx_t *ctx, const Motcua__V1__IntakeReply *reply, bool json)
{
    char name[64];
    switch (reply->body_case) {
    case MOTCUA__V1__INTAKE_REPLY__BODY_ACK:
        print_ack(reply->ack, json);
        return MC_CLI_EX_OK;
    case MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION: {
        const Motcua__V1__Rejection *j = reply->rejection;
        int status = mc_cli_rejection_status(j);
        if (json) {
            cli_json_rejection(stdout, j);
        } else {
            printf("Không thực hiện được: %s%s%s%s%s\n", mc_cli_reason_name(j->reason, name, sizeof name),
                   j->field && *j->field ? " (" : "", j->field && *j->field ? j->field : "",
                   j->field && *j->field ? ")" : "", status == MC_CLI_EX_RETRY ? "; thử lại sau" : "");
            if (j->message && *j->message)
                printf("%s\n", j->message);
        }
        return status;
    }
    default:
        return cli_unexpected(ctx, json, "unexpected reply from the intake daemon");
    }
}

/* exchange - send, print, status */
static int exchange(mc_cli_ctx_t *ctx, const mc_cfg_t *cfg, const Motcua__V1__IntakeRequest *req,
                    bool json)
{
    Motcua__V1__IntakeReply *reply = NULL;
    int status = cli_ask(ctx, cfg, req, json, &reply);
    if (status != MC_CLI_EX_OK)
        return status;
    status = answer(ctx, reply, json);
    motcua__v1__intake_reply__free_unpacked(reply, NULL);
    return status;
}

/* cli_supplement - `motcua supplement FILE.yaml [--secret S] [--json]` */
int cli_supplement(mc_cli_ctx_t *ctx, int argc, char **argv)
{
    const char *path = NULL, *secret = "";
    bool json = false;
    const mc_cli_opt_t opts[] = {{"--secret", &secret, 0}};
    int parsed = mc_cli_parse_opts(ctx, argc, argv, "supplement", supplement_usage, opts,
                                sizeof opts / sizeof opts[0], &json, &path);
    if (parsed != MC_CLI_EX_OK)
        return parsed == MC_CLI_EX_HELP ? MC_CLI_EX_OK : parsed;
    if (!path || !*path)
        return mc_cli_usage_error(ctx, supplement_usage, "supplement: no file given");
    mc_cfg_t *cfg = NULL;
    int status = mc_cli_load_config(ctx, &cfg);
    if (status != MC_CLI_EX_OK)
        return status;
    Motcua__V1__SupplementDossier *s = NULL;
    mc_err_t err;
    mc_err_clear(&err);
    if (read_supplement(path, &s, &err) < 0) {
        mc_cli_print_err(ctx, &err);
        mc_cfg_destroy(&cfg);
        return MC_CLI_EX_DATAERR;
    }
    Motcua__V1__IntakeRequest req = MOTCUA__V1__INTAKE_REQUEST__INIT;
    req.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_SUPPLEMENT;
    req.supplement = s;
    s->secret = (char *)secret; /* "" from a ward's counter client: the applicant is present */
    status = exchange(ctx, cfg, &req, json);
    s->secret = NULL; /* not ours to free */
    free_supplement(s);
    mc_cfg_destroy(&cfg);
    return status;
}

/* cli_withdraw - `motcua withdraw CODE --id SUBMISSION_ID [--reason TEXT] [--secret S] [--json]` */
int cli_withdraw(mc_cli_ctx_t *ctx, int argc, char **argv)
{
    const char *code = NULL, *id = NULL, *reason = "", *secret = "";
    bool json = false;
    const mc_cli_opt_t opts[] = {{"--id", &id, 0}, {"--reason", &reason, 0}, {"--secret", &secret, 0}};
    int parsed = mc_cli_parse_opts(ctx, argc, argv, "withdraw", withdraw_usage, opts,
                                sizeof opts / sizeof opts[0], &json, &code);
    if (parsed != MC_CLI_EX_OK)
        return parsed == MC_CLI_EX_HELP ? MC_CLI_EX_OK : parsed;
    if (!code || !*code)
        return mc_cli_usage_error(ctx, withdraw_usage, "withdraw: no dossier code given");
    if (!id || !*id)
        return mc_cli_usage_error(ctx, withdraw_usage, "withdraw: --id SUBMISSION_ID is required");
    mc_cfg_t *cfg = NULL;
    int status = mc_cli_load_config(ctx, &cfg);
    if (status != MC_CLI_EX_OK)
        return status;
    Motcua__V1__WithdrawDossier w = MOTCUA__V1__WITHDRAW_DOSSIER__INIT;
    w.submission_id = (char *)id; /* only read by pack */
    w.dossier_code = (char *)code;
    w.reason = (char *)reason;
    w.secret = (char *)secret; /* "" from a ward's counter client: the applicant is present */
    Motcua__V1__IntakeRequest req = MOTCUA__V1__INTAKE_REQUEST__INIT;
    req.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_WITHDRAW;
    req.withdraw = &w;
    status = exchange(ctx, cfg, &req, json);
    mc_cfg_destroy(&cfg);
    return status;
}

/* rate_level - the --level word as a Satisfaction value, 0 when unknown */
static int rate_level(const char *word)
{
    static const struct {
        const char *word;
        int         level;
    } levels[] = {
        {"very_satisfied", MOTCUA__V1__SATISFACTION__SATISFACTION_VERY_SATISFIED},
        {"satisfied", MOTCUA__V1__SATISFACTION__SATISFACTION_SATISFIED},
        {"not_satisfied", MOTCUA__V1__SATISFACTION__SATISFACTION_NOT_SATISFIED},
    };
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (strcmp(word, levels[i].word) == 0)
            return levels[i].level;
    return 0;
}

/* cli_rate - `motcua rate CODE [--secret S] --level L --id SUBMISSION_ID [--comment TEXT] [--json]` */
int cli_rate(mc_cli_ctx_t *ctx, int argc, char **argv)
{
    const char *code = NULL, *id = NULL, *token = "", *secret = "", *level_word = NULL;
    const char *comment = "";
    bool json = false;
    const mc_cli_opt_t opts[] = {{"--id", &id, 0},           {"--token", &token, 0},
                              {"--secret", &secret, 0},   {"--level", &level_word, 0},
                              {"--comment", &comment, 0}};
    int parsed = mc_cli_parse_opts(ctx, argc, argv, "rate", rate_usage, opts,
                                sizeof opts / sizeof opts[0], &json, &code);
    if (parsed != MC_CLI_EX_OK)
        return parsed == MC_CLI_EX_HELP ? MC_CLI_EX_OK : parsed;
    if (!code || !*code)
        return mc_cli_usage_error(ctx, rate_usage, "rate: no dossier code given");
    if (*token && *secret && strcmp(token, secret) != 0) /* never echo either */
        return mc_cli_usage_error(ctx, rate_usage, "rate: --token and --secret differ; give one");
    if (!*token) /* none: a ward's counter client rates for the applicant present */
        token = secret;
    if (!level_word)
        return mc_cli_usage_error(ctx, rate_usage, "rate: --level LEVEL is required");
    int level = rate_level(level_word);
    if (level == 0) /* the word is the user's, not a secret: safe to echo */
        return mc_cli_usage_error(ctx, rate_usage,
                               "rate: --level must be very_satisfied, satisfied or not_satisfied,"
                               " not '%s'", level_word);
    if (!id || !*id)
        return mc_cli_usage_error(ctx, rate_usage, "rate: --id SUBMISSION_ID is required");
    mc_cfg_t *cfg = NULL;
    int status = mc_cli_load_config(ctx, &cfg);
    if (status != MC_CLI_EX_OK)
        return status;
    Motcua__V1__RateService r = MOTCUA__V1__RATE_SERVICE__INIT;
    r.submission_id = (char *)id; /* only read by pack */
    r.dossier_code = (char *)code;
    r.token = (char *)token; /* "" only works from the ward's counter client */
    r.level = (Motcua__V1__Satisfaction)level;
    r.comment = (char *)comment;
    Motcua__V1__IntakeRequest req = MOTCUA__V1__INTAKE_REQUEST__INIT;
    req.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_RATE;
    req.rate = &r;
    status = exchange(ctx, cfg, &req, json);
    mc_cfg_destroy(&cfg);
    return status;
}
