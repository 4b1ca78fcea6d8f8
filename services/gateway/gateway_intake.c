/*
 * gateway_intake - the gateway's side of the intake exchange: one
 * IntakeRequest per HTTP request, sent with the gateway's own CURVE key
 * (gateway.key_file; clients.yaml gives it role `gateway`) and
 * IntakeRequest.on_behalf_of = the calling client's code, so intake applies
 * that client's role and wards.
 *
 * Contract (gateway.h): the exchange is the motcua CLI's (mc_cli_exchange_as,
 * with the keys gw_new read once:
 * intake.connect's endpoints in turn, client.timeout_ms, client.retries; a
 * retry is the same request, so idempotent); blocking, on the calling
 * connection's thread. Its messages go to stderr (the journal).
 */
#include "gateway_int.h"
#include "mc_cli_intake.h"

/* gw_intake_keys - read the gateway's CURVE key and intake's public key once,
 * at start (not per request); 0, or -1 with err set (the details on stderr) */
int gw_intake_keys(gw_t *gw, mc_err_t *err)
{
    mc_cli_ctx_t ctx = {.progname = "motcua-gateway",
                        .config_path = gw->cfg->path,
                        .key_path = gw->cfg->gateway.key_file};
    if (mc_cli_intake_keys(&ctx, gw->cfg, &gw->intake_keys, &gw->intake_as) != MC_CLI_EX_OK) {
        mc_err_add(err, "gateway: cannot read the CURVE keys to reach intake (gateway.key_file "
                        "%s, intake's public key)", gw->cfg->gateway.key_file);
        return -1;
    }
    return 0;
}

/* gw_intake_exchange - request on behalf of a client, its reply */
int gw_intake_exchange(gw_t *gw, const char *on_behalf_of, Motcua__V1__IntakeRequest *request,
                       Motcua__V1__IntakeReply **reply)
{
    const mc_cfg_t *cfg = gw->cfg;
    mc_cli_ctx_t ctx = {
        .progname = "motcua-gateway",
        .config_path = cfg->path,
        .key_path = cfg->gateway.key_file,
    };
    request->on_behalf_of = (char *)on_behalf_of;
    int rc = mc_cli_exchange_as(&ctx, cfg, gw->intake_as, request, reply) == MC_CLI_EX_OK ? 0 : -1;
    request->on_behalf_of = (char *)protobuf_c_empty_string; /* the caller's message again */
    if (rc == 0)
        mc_daemon_count(MC_COUNT_ROUTED, 1); /* the summary: requests intake answered */
    return rc;
}
