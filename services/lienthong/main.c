/*
 * motcua-lienthong - the inter-agency exchange (liên thông): sends each
 * step of each dossier to the agency that handles it over CURVE-encrypted
 * ZeroMQ, and records their acks and results in the store.
 *
 * Usage: motcua-lienthong [-c FILE] [--check] [--help]
 * Reads the configuration and config/agencies.yaml (files.agencies), binds
 * lienthong.endpoint (CURVE server, key lienthong.server_key_file) and
 * lienthong.events_endpoint, tells systemd READY=1 (Type=notify) with the
 * endpoints it got (X_MOTCUA_ENDPOINT, X_MOTCUA_LIENTHONG_ENDPOINT,
 * X_MOTCUA_EVENTS_ENDPOINT: a `*` port shows as the real one), serves
 * until SIGTERM/SIGINT, tells systemd STOPPING=1 and exits 0.
 * Exit codes: 0 clean stop, 64 usage, 78 bad configuration or agencies,
 * 69 cannot bind / start, 1 unclean stop.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "lienthong.h"
#include "mc_agencies.h"
#include "mc_cfg.h"
#include "mc_daemon.h"
#include "mc_log.h"
#include "mc_transport.h"

/* usage - print help to f */
static void usage(FILE *f)
{
    fprintf(f,
            "usage: motcua-lienthong [-c FILE] [--check]\n"
            "  -c, --config FILE  configuration (default: $MOTCUA_CONFIG, /etc/motcua/motcua.yaml,\n"
            "                     or config/motcua.yaml)\n"
            "      --check        load and check the configuration and agencies, then exit\n"
            "  -h, --help         this text\n"
            "Environment: MOTCUA_DATABASE overrides database.conninfo.\n");
}

/* log_err - the first message of err as a start_failed/config_invalid line */
static void log_err(const char *event, const mc_err_t *err)
{
    char line[300], quoted[340];
    mc_log(MC_LOG_ERR, event, "error=%s",
           mc_log_quote(mc_err_first(err, line, sizeof line), quoted, sizeof quoted));
}

int main(int argc, char **argv)
{
    const char *config = NULL;
    bool check_only = false;
    int status = mc_daemon_args("motcua-lienthong", usage, argc, argv, &config, &check_only);
    if (status != MC_DAEMON_CONTINUE)
        return status;
    mc_err_t err;
    mc_err_clear(&err);
    mc_cfg_t *cfg = NULL;
    if ((status = mc_daemon_config("motcua-lienthong", config, &cfg)) != 0)
        return status;
    mc_agencies_t *agencies = NULL;
    if (mc_agencies_load(cfg->agencies_path, &agencies, &err) != 0) {
        mc_daemon_config_error(cfg->agencies_path, &err);
        mc_cfg_destroy(&cfg);
        return 78;
    }
    if (check_only) {
        printf("config ok: %zu agencies\n", agencies->count);
        mc_agencies_destroy(&agencies);
        mc_cfg_destroy(&cfg);
        return 0;
    }

    /* before any thread starts: workers inherit the blocked mask */
    int stop_fd = mc_daemon_stop_fd();
    if (stop_fd < 0) {
        mc_log(MC_LOG_ERR, "start_failed", "what=signalfd");
        mc_agencies_destroy(&agencies);
        mc_cfg_destroy(&cfg);
        return 69;
    }
    lienthong_hub_t *hub = lienthong_hub_new(cfg, agencies, &err);
    if (!hub) {
        log_err("start_failed", &err);
        mc_transport_term();
        close(stop_fd);
        mc_agencies_destroy(&agencies);
        mc_cfg_destroy(&cfg);
        return 69;
    }
    /* the endpoints as bound: a `*` port in the configuration is reported as the one we got */
    char endpoint[300], events[300], ready[64];
    mc_daemon_bound(cfg->lienthong.endpoint, endpoint, sizeof endpoint);
    mc_daemon_bound(cfg->lienthong.events_endpoint, events, sizeof events);
    mc_log(MC_LOG_NOTICE, "started", "endpoint=%s events=%s pid=%d", endpoint, events,
           (int)getpid());
    snprintf(ready, sizeof ready, "serving %zu agencies", agencies->count);
    mc_daemon_ready(ready, endpoint, "lienthong", events);

    int rc = lienthong_hub_run(hub, stop_fd);
    sd_notify(0, "STOPPING=1");
    lienthong_hub_destroy(&hub);
    mc_transport_term();
    close(stop_fd);
    mc_log(MC_LOG_NOTICE, "stopped", "clean=%s", rc == 0 ? "yes" : "no");
    mc_agencies_destroy(&agencies);
    mc_cfg_destroy(&cfg);
    return rc == 0 ? 0 : 1;
}
