/*
 * cli_submit - `motcua submit FILE.yaml [--json]`: hand one dossier to the
 * intake daemon and print the receipt or the refusal.
 *
 * Contract: the file is checked for structure only (cli_dossier_yaml.h);
 * the daemon judges the content. A file without submission_id gets a fresh
 * random one, printed on stderr, because the protocol's safe retry needs
 * the same id again: the user can paste it into the file and resend
 * without ever creating a second dossier. Exit status: 0 receipt, 2
 * refused, 3 refused for a passing reason or no reply (retry), 65 bad
 * file, 64 usage, 78 bad configuration, 1 anything else.
 *
 * Also home of cli_exchange(), the one request/reply round trip that
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
#include "cli_dossier_yaml.h"
#include "mc_curve.h"
#include "mc_transport.h"

static const char submit_usage[] =
    "usage: motcua [-c FILE] submit FILE.yaml [--json]\n"
    "  Hand in the dossier described by FILE.yaml (format: docs/cli.md) and print\n"
    "  the receipt (giấy tiếp nhận hồ sơ và hẹn trả kết quả) or the refusal.\n"
    "  --json   print one line of JSON instead of the form\n"
    "exit: 0 receipt, 2 refused, 3 retry later (no reply or temporary refusal),\n"
    "      64 usage, 65 bad file, 78 bad configuration, 1 other error\n";

/* cli_rejection_status - 3 for a rejection worth retrying, else 2 */
int cli_rejection_status(const Motcua__V1__Rejection *rejection)
{
    switch (rejection->reason) {
    case MOTCUA__V1__REASON__REASON_UNAVAILABLE:
    case MOTCUA__V1__REASON__REASON_SHUTTING_DOWN:
    case MOTCUA__V1__REASON__REASON_INTERNAL:
        return CLI_EX_RETRY;
    default:
        /* trust the flag too: a newer server may add retryable reasons */
        return rejection->retryable ? CLI_EX_RETRY : CLI_EX_REJECTED;
    }
}

/* cli_client_endpoint - the endpoint to connect to for the one the daemon
 * binds: a wildcard bind address (tcp with host "*" or 0.0.0.0) is
 * not connectable, and a CLI reading the daemon's own config runs beside it */
const char *cli_client_endpoint(const char *bind, char *buf, size_t size)
{
    static const char *const wild[] = { "tcp://*:", "tcp://0.0.0.0:" };
    for (size_t i = 0; i < sizeof wild / sizeof wild[0]; i++) {
        size_t n = strlen(wild[i]);
        if (strncmp(bind, wild[i], n) == 0) {
            snprintf(buf, size, "tcp://127.0.0.1:%s", bind + n);
            return buf;
        }
    }
    return bind;
}

/* cli_intake_keys - our secret key and intake's public key, unless plain text */
int cli_intake_keys(const cli_ctx_t *ctx, const mc_cfg_t *cfg, mc_transport_keys_t *keys,
                    const mc_transport_keys_t **keys_out)
{
    *keys_out = NULL;
    if (cfg->intake.plaintext)
        return CLI_EX_OK;
    const char *key_file = ctx->key_path ? ctx->key_path : cfg->client.key_file;
    if (!key_file || !*key_file) {
        fprintf(stderr,
                "%s: intake needs this client's CURVE key: give --key FILE or set "
                "client.key_file (motcua keygen NAME makes one; intake's clients.yaml must "
                "list NAME.pub)\n", ctx->progname);
        return CLI_EX_CONFIG;
    }
    char server_pub[4096];
    if (cfg->client.server_public_key_file[0]) {
        snprintf(server_pub, sizeof server_pub, "%s", cfg->client.server_public_key_file);
    } else {
        size_t n = strlen(cfg->intake.server_key_file);
        bool dot_key = n >= 4 && strcmp(cfg->intake.server_key_file + n - 4, ".key") == 0;
        snprintf(server_pub, sizeof server_pub, "%.*s.pub", (int)(dot_key ? n - 4 : n),
                 cfg->intake.server_key_file);
    }
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_curve_client_keys(key_file, server_pub, keys, &err) != 0) {
        cli_print_err(ctx, &err);
        return CLI_EX_CONFIG;
    }
    *keys_out = keys;
    return CLI_EX_OK;
}

/* cli_exchange - one request, one reply, with the configured retries */
int cli_exchange(const cli_ctx_t *ctx, const mc_cfg_t *cfg,
                 const Motcua__V1__IntakeRequest *request, Motcua__V1__IntakeReply **reply)
{
    *reply = NULL;
    mc_transport_keys_t keys;
    const mc_transport_keys_t *as = NULL;
    int krc = cli_intake_keys(ctx, cfg, &keys, &as);
    if (krc != CLI_EX_OK)
        return krc;
    size_t len = motcua__v1__intake_request__get_packed_size(request);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        fprintf(stderr, "%s: out of memory\n", ctx->progname);
        return CLI_EX_FAIL;
    }
    motcua__v1__intake_request__pack(request, buf);

    char ep[512];
    const char *endpoint = cli_client_endpoint(cfg->intake.endpoint, ep, sizeof ep);
    void *raw = NULL;
    size_t raw_len = 0;
    mc_err_t err;
    mc_err_clear(&err);
    int rc = mc_transport_request_as(endpoint, as, buf, len, cfg->client.timeout_ms,
                                     cfg->client.retries, CLI_MAX_REPLY_BYTES, &raw, &raw_len,
                                     &err);
    explicit_bzero(&keys, sizeof keys);
    free(buf);
    if (rc < 0) {
        cli_print_err(ctx, &err);
        return CLI_EX_RETRY;
    }
    *reply = motcua__v1__intake_reply__unpack(NULL, raw_len, raw);
    free(raw);
    if (!*reply) {
        fprintf(stderr, "%s: the reply from %s is not an IntakeReply (%zu bytes)\n",
                ctx->progname, endpoint, raw_len);
        return CLI_EX_FAIL;
    }
    return CLI_EX_OK;
}

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
int cli_submit(cli_ctx_t *ctx, int argc, char **argv)
{
    const char *file = NULL;
    bool json = false;
    const char *args[1];
    int n_args = 0;
    int parsed = cli_parse_args(ctx, argc, argv, "submit", submit_usage, &json, args, 1, &n_args);
    if (parsed != CLI_EX_OK)
        return parsed == CLI_EX_HELP ? CLI_EX_OK : parsed;
    if (n_args == 1)
        file = args[0];
    if (!file)
        return cli_usage_error(ctx, submit_usage, "submit: no dossier file given");

    mc_cfg_t *cfg = NULL;
    int status = cli_load_config(ctx, &cfg);
    if (status != CLI_EX_OK)
        return status;

    Motcua__V1__SubmitDossier *submit = NULL;
    Motcua__V1__IntakeReply *reply = NULL;
    mc_err_t err;
    mc_err_clear(&err);
    if (cli_dossier_from_yaml(file, &submit, &err) < 0) {
        cli_print_err(ctx, &err);
        status = CLI_EX_DATAERR;
        goto done;
    }
    if (!submit->submission_id || !*submit->submission_id) {
        char sid[64];
        char *copy = NULL;
        if (random_submission_id(sid, sizeof sid) < 0 || !(copy = strdup(sid))) {
            fprintf(stderr, "%s: cannot make a submission id: %s\n", ctx->progname,
                    strerror(errno));
            status = CLI_EX_FAIL;
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
    status = cli_exchange(ctx, cfg, &request, &reply);
    if (status != CLI_EX_OK) {
        if (json)
            cli_json_error(stdout, status == CLI_EX_RETRY ? "no_reply" : "error",
                           status == CLI_EX_RETRY ? "no reply from the intake daemon"
                                                  : "bad reply from the intake daemon");
        goto done;
    }
    switch (reply->body_case) {
    case MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT:
        if (json)
            cli_json_receipt(stdout, reply->receipt);
        else
            cli_print_receipt(stdout, reply->receipt);
        status = CLI_EX_OK;
        break;
    case MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION:
        if (json)
            cli_json_rejection(stdout, reply->rejection);
        else
            cli_print_rejection(stdout, reply->rejection);
        status = cli_rejection_status(reply->rejection);
        break;
    default:
        fprintf(stderr, "%s: the daemon answered a submission with neither receipt nor rejection\n",
                ctx->progname);
        if (json)
            cli_json_error(stdout, "error", "unexpected reply");
        status = CLI_EX_FAIL;
        break;
    }
done:
    if (reply)
        motcua__v1__intake_reply__free_unpacked(reply, NULL);
    cli_dossier_free(&submit);
    mc_cfg_destroy(&cfg);
    return status;
}
