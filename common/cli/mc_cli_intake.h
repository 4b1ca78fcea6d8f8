/*
 * mc_cli_intake - a command-line program's side of the intake protocol
 * (motcua's client commands, motcua-load): one request/reply exchange, the
 * CURVE keys and the endpoint to reach intake, the exit status of a
 * refusal, the proto names of reasons and states.
 *
 * Contract: messages on stderr prefixed with ctx->progname; returns exit
 * statuses (MC_CLI_EX_*); nothing exits.
 */
#ifndef MC_CLI_INTAKE_H
#define MC_CLI_INTAKE_H

#include <stddef.h>

#include "mc_cfg.h"
#include "mc_cli.h"
#include "mc_transport.h"
#include "motcua/v1/dossier.pb-c.h"
#include "motcua/v1/intake.pb-c.h"

/* the biggest reply a program accepts: a status with 200 history lines fits
 * many times over, and a hostile endpoint cannot make us allocate more */
#define MC_CLI_MAX_REPLY_BYTES (4u * 1024u * 1024u)

/*
 * mc_cli_exchange - pack request, send it to the intake endpoints (--connect,
 * else intake.connect) with the configured timeout and retries, each retry
 * the same bytes to the next endpoint (mc_transport_request_any: failover,
 * safe because every intake request is idempotent), and unpack the reply into *reply (free
 * with motcua__v1__intake_reply__free_unpacked). Returns MC_CLI_EX_OK, or
 * MC_CLI_EX_RETRY when no reply came, or MC_CLI_EX_FAIL; messages on stderr.
 */
int mc_cli_exchange(const mc_cli_ctx_t *ctx, const mc_cfg_t *cfg,
                    const Motcua__V1__IntakeRequest *request, Motcua__V1__IntakeReply **reply);

/* mc_cli_exchange_as - mc_cli_exchange with keys already loaded
 * (mc_cli_intake_keys; NULL: plain text): for a daemon that sends many
 * requests (the gateway) and reads its key files once, at start */
int mc_cli_exchange_as(const mc_cli_ctx_t *ctx, const mc_cfg_t *cfg,
                       const mc_transport_keys_t *as, const Motcua__V1__IntakeRequest *request,
                       Motcua__V1__IntakeReply **reply);

/*
 * mc_cli_intake_keys - the keys to talk to intake: *keys_out is NULL with
 * intake.plaintext, else keys filled from ctx->key_path (or client.key_file)
 * and intake's public key (client.server_public_key_file, else
 * intake.server_key_file with .key replaced by .pub). MC_CLI_EX_OK, or
 * MC_CLI_EX_CONFIG with the problem on stderr.
 */
int mc_cli_intake_keys(const mc_cli_ctx_t *ctx, const mc_cfg_t *cfg, mc_transport_keys_t *keys,
                       const mc_transport_keys_t **keys_out);

/* mc_cli_rejection_status - the exit status a Rejection maps to (2 or 3) */
int mc_cli_rejection_status(const Motcua__V1__Rejection *rejection);

/* mc_cli_reason_name - "INVALID_FORMAT" for REASON_INVALID_FORMAT; a number for an unknown value, never NULL */
const char *mc_cli_reason_name(int reason, char *buf, size_t size);

/* mc_cli_state_name - "RECEIVED" for DOSSIER_STATE_RECEIVED */
const char *mc_cli_state_name(int state, char *buf, size_t size);

#endif
