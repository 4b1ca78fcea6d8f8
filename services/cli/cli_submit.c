/*
 * cli_submit - `motcua submit FILE.yaml [--json]`: hand one dossier to the
 * intake daemon and print the receipt or the refusal.
 *
 * Contract: the file is checked for structure only (mc_cli_dossier.h);
 * the daemon judges the content. A file without submission_id gets a fresh
 * random one, printed on stderr, because the protocol's safe retry needs
 * the same id again: the user can paste it into the file and resend
 * without ever creating a second dossier. Exit status: 0 receipt, 2
 * refused, 3 refused for a passing reason or no reply (retry), 65 bad
 * file, 64 usage, 78 bad configuration, 1 anything else.
 *
 * Also home of mc_cli_exchange(), the one request/reply round trip that
 * `submit` and `status` share.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mc_cli_dossier.h"
#include "mc_curve.h"
#include "mc_transport.h"

static const char submit_usage[] =
    "usage: motcua [-c FILE] submit FILE.yaml [--json]\n"
    "  Hand in the dossier described by FILE.yaml (format: docs/cli.md) and print\n"
    "  the receipt (giấy tiếp nhận hồ sơ và hẹn trả kết quả) or the refusal.\n"
    "  --json   print one line of JSON instead of the form\n"
    "exit: 0 receipt, 2 refused, 3 retry later (no reply or temporary refusal),\n"
    "      64 usage, 65 bad file, 78 bad configuration, 1 other error\n";

/* random_submission_id - "cli-" and 32 hex digits from the kernel's CSPRNG:
 * an idempotency key must not collide with anyone else's */
static int random_submission_id(char *buf, size_t size)
{
    unsigned char bytes[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t got = 0;
    while (got < sizeof bytes) {
        ssize_t n = read(fd, bytes + got, sizeof bytes - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            return -1;
        }
        got += (size_t)n;
    }
    close(fd);
    int used = snprintf(buf, size, "cli-");
    for (size_t i = 0; i < sizeof bytes && used > 0 && (size_t)used + 2 < size; i++)
        used += snprintf(buf + used, size - (size_t)used, "%02x", bytes[i]);
    return (size_t)used == 4 + 2 * sizeof bytes ? 0 : -1;
}

/* cli_submit - `motcua submit FILE.yaml [--json]` */
int cli_submit(mc_cli_ctx_t *ctx, int argc, char **argv)
{
    const char *file = NULL;
    bool json = false;
    const char *args[1];
    int n_args = 0;
    int parsed = mc_cli_parse_args(ctx, argc, argv, "submit", submit_usage, &json, args, 1, &n_args);
    if (parsed != MC_CLI_EX_OK)
        return parsed == MC_CLI_EX_HELP ? MC_CLI_EX_OK : parsed;
    if (n_args == 1)
        file = args[0];
    if (!file)
        return mc_cli_usage_error(ctx, submit_usage, "submit: no dossier file given");

    mc_cfg_t *cfg = NULL;
    int status = mc_cli_load_config(ctx, &cfg);
    if (status != MC_CLI_EX_OK)
        return status;

    Motcua__V1__SubmitDossier *submit = NULL;
    Motcua__V1__IntakeReply *reply = NULL;
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_cli_dossier_from_yaml(file, &submit, &err) < 0) {
        mc_cli_print_err(ctx, &err);
        status = MC_CLI_EX_DATAERR;
        goto done;
    }
    if (!submit->submission_id || !*submit->submission_id) {
        char sid[64];
        char *copy = NULL;
        if (random_submission_id(sid, sizeof sid) < 0 || !(copy = strdup(sid))) {
            fprintf(stderr, "%s: cannot make a submission id: %s\n", ctx->progname,
                    strerror(errno));
            status = MC_CLI_EX_FAIL;
            goto done;
        }
        /* "" is either protobuf-c's shared one or ours (submission_id: "") */
        if (submit->submission_id && submit->submission_id != protobuf_c_empty_string)
            free(submit->submission_id);
        submit->submission_id = copy;
        fprintf(stderr,
                "%s: %s has no submission_id; using %s\n"
                "%s: to retry without risk of a second dossier, add  submission_id: \"%s\"  to the file\n",
                ctx->progname, file, sid, ctx->progname, sid);
    }

    Motcua__V1__IntakeRequest request = MOTCUA__V1__INTAKE_REQUEST__INIT;
    request.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_SUBMIT;
    request.submit = submit;
    status = cli_ask(ctx, cfg, &request, json, &reply);
    if (status != MC_CLI_EX_OK)
        goto done;
    switch (reply->body_case) {
    case MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT:
        if (json)
            cli_json_receipt(stdout, reply->receipt);
        else
            cli_print_receipt(stdout, reply->receipt);
        status = MC_CLI_EX_OK;
        break;
    case MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION:
        if (json)
            cli_json_rejection(stdout, reply->rejection);
        else
            cli_print_rejection(stdout, reply->rejection);
        status = mc_cli_rejection_status(reply->rejection);
        break;
    default:
        status = cli_unexpected(ctx, json, "the daemon answered a submission with neither receipt nor rejection");
        break;
    }
done:
    if (reply)
        motcua__v1__intake_reply__free_unpacked(reply, NULL);
    mc_cli_dossier_free(&submit);
    mc_cfg_destroy(&cfg);
    return status;
}
