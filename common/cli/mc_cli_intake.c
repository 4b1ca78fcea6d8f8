/*
 * mc_cli_intake - a command-line program's side of the intake protocol:
 * the one request/reply round trip (motcua submit, status, supplement,
 * withdraw, rate), the CURVE keys and endpoint to reach intake (also
 * motcua-load), the exit status a refusal maps to, and the proto names of
 * reasons and states.
 *
 * Contract: every failure is a message on stderr and an exit status
 * (MC_CLI_EX_*); nothing exits. A reply bigger than MC_CLI_MAX_REPLY_BYTES
 * is refused unread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_cli_intake.h"
#include "mc_curve.h"
#include "mc_transport.h"

/* enum_name - the proto name of an enum value without its prefix */
static const char *enum_name(const ProtobufCEnumDescriptor *desc, const char *prefix, int value,
                             char *buf, size_t size)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(desc, value);
    size_t n = strlen(prefix);
    if (v && strncmp(v->name, prefix, n) == 0)
        snprintf(buf, size, "%s", v->name + n);
    else
        snprintf(buf, size, "%d", value); /* a newer server's value: show the number */
    return buf;
}

/* mc_cli_reason_name - "INVALID_FORMAT" for REASON_INVALID_FORMAT */
const char *mc_cli_reason_name(int reason, char *buf, size_t size)
{
    return enum_name(&motcua__v1__reason__descriptor, "REASON_", reason, buf, size);
}

/* mc_cli_state_name - "RECEIVED" for DOSSIER_STATE_RECEIVED */
const char *mc_cli_state_name(int state, char *buf, size_t size)
{
    return enum_name(&motcua__v1__dossier_state__descriptor, "DOSSIER_STATE_", state, buf, size);
}

/* mc_cli_rejection_status - 3 for a rejection worth retrying, else 2 */
int mc_cli_rejection_status(const Motcua__V1__Rejection *rejection)
{
    switch (rejection->reason) {
    case MOTCUA__V1__REASON__REASON_UNAVAILABLE:
    case MOTCUA__V1__REASON__REASON_SHUTTING_DOWN:
    case MOTCUA__V1__REASON__REASON_INTERNAL:
        return MC_CLI_EX_RETRY;
    default:
        /* trust the flag too: a newer server may add retryable reasons */
        return rejection->retryable ? MC_CLI_EX_RETRY : MC_CLI_EX_REJECTED;
    }
}

/* mc_cli_intake_keys - our secret key and intake's public key, unless plain text */
int mc_cli_intake_keys(const mc_cli_ctx_t *ctx, const mc_cfg_t *cfg, mc_transport_keys_t *keys,
                    const mc_transport_keys_t **keys_out)
{
    *keys_out = NULL;
    if (cfg->intake.plaintext)
        return MC_CLI_EX_OK;
    const char *key_file = ctx->key_path ? ctx->key_path : cfg->client.key_file;
    if (!key_file || !*key_file) {
        fprintf(stderr,
                "%s: intake needs this client's CURVE key: give --key FILE or set "
                "client.key_file (motcua keygen NAME makes one; intake's clients.yaml must "
                "list NAME.pub)\n", ctx->progname);
        return MC_CLI_EX_CONFIG;
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
        mc_cli_print_err(ctx, &err);
        return MC_CLI_EX_CONFIG;
    }
    *keys_out = keys;
    return MC_CLI_EX_OK;
}

/* mc_cli_exchange - one request, one reply, with the configured retries */
int mc_cli_exchange(const mc_cli_ctx_t *ctx, const mc_cfg_t *cfg,
                 const Motcua__V1__IntakeRequest *request, Motcua__V1__IntakeReply **reply)
{
    *reply = NULL;
    mc_transport_keys_t keys;
    const mc_transport_keys_t *as = NULL;
    int krc = mc_cli_intake_keys(ctx, cfg, &keys, &as);
    if (krc != MC_CLI_EX_OK)
        return krc;
    int rc = mc_cli_exchange_as(ctx, cfg, as, request, reply);
    explicit_bzero(&keys, sizeof keys);
    return rc;
}

/* mc_cli_exchange_as - one exchange with the keys given */
int mc_cli_exchange_as(const mc_cli_ctx_t *ctx, const mc_cfg_t *cfg,
                       const mc_transport_keys_t *as, const Motcua__V1__IntakeRequest *request,
                       Motcua__V1__IntakeReply **reply)
{
    *reply = NULL;
    size_t len = motcua__v1__intake_request__get_packed_size(request);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        fprintf(stderr, "%s: out of memory\n", ctx->progname);
        return MC_CLI_EX_FAIL;
    }
    motcua__v1__intake_request__pack(request, buf);

    size_t n_endpoints = 0, next = 0;
    const char *const *endpoints = mc_cli_intake_connect(ctx, cfg, &n_endpoints);
    void *raw = NULL;
    size_t raw_len = 0;
    mc_err_t err;
    mc_err_clear(&err);
    /* no reply: the same bytes to the next instance (every request is idempotent) */
    int rc = mc_transport_request_any(endpoints, n_endpoints, &next, as, buf, len,
                                      cfg->client.timeout_ms, cfg->client.retries,
                                      MC_CLI_MAX_REPLY_BYTES, &raw, &raw_len, &err);
    const char *endpoint = endpoints[next % n_endpoints];
    free(buf);
    if (rc < 0) {
        mc_cli_print_err(ctx, &err);
        return MC_CLI_EX_RETRY;
    }
    *reply = motcua__v1__intake_reply__unpack(NULL, raw_len, raw);
    free(raw);
    if (!*reply) {
        fprintf(stderr, "%s: the reply from %s is not an IntakeReply (%zu bytes)\n",
                ctx->progname, endpoint, raw_len);
        return MC_CLI_EX_FAIL;
    }
    return MC_CLI_EX_OK;
}
