/*
 * motcua-intake - receive dossiers from ward offices and the portal.
 *
 * Usage: motcua-intake [-c FILE] [--check] [--help]
 * Reads the configuration and the client registry (files.clients; not with
 * intake.plaintext, which is warned about at every start), binds
 * intake.endpoint as a CURVE server (intake.server_key_file), starts its workers, tells
 * systemd READY=1 (Type=notify) with the endpoint it got (X_MOTCUA_ENDPOINT,
 * X_MOTCUA_INTAKE_ENDPOINT, X_MOTCUA_EVENTS_ENDPOINT: a `*` port shows as
 * the real one), serves until SIGTERM/SIGINT, then stops
 * taking work, finishes what is in flight, tells systemd STOPPING=1 and
 * exits 0. Exit codes: 0 clean stop, 64 usage, 78 bad configuration,
 * 69 cannot bind / start, 1 unclean stop.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "intake.h"
#include "mc_cfg.h"
#include "mc_clients.h"
#include "mc_daemon.h"
#include "mc_log.h"
#include "mc_transport.h"

/* usage - print help to f */
static void usage(FILE *f)
{
    fprintf(f,
            "usage: motcua-intake [-c FILE] [--check]\n"
            "  -c, --config FILE  configuration (default: $MOTCUA_CONFIG, /etc/motcua/motcua.yaml,\n"
            "                     or config/motcua.yaml)\n"
            "      --check        load and check the configuration, then exit\n"
            "  -h, --help         this text\n"
            "Environment: MOTCUA_DATABASE overrides database.conninfo.\n");
}

int main(int argc, char **argv)
{
    const char *config = NULL;
    bool check_only = false;
    int status = mc_daemon_args("motcua-intake", usage, argc, argv, &config, &check_only);
    if (status != MC_DAEMON_CONTINUE)
        return status;
    mc_err_t err;
    mc_err_clear(&err);
    mc_cfg_t *cfg = NULL;
    if ((status = mc_daemon_config("motcua-intake", config, &cfg)) != 0)
        return status;
    /* the client registry: every key that may connect, and what for */
    mc_clients_t *clients = NULL;
    if (!cfg->intake.plaintext && (mc_clients_load(cfg->clients_path, &clients, &err) != 0 ||
                                   mc_clients_check_wards(clients, cfg, &err) != 0)) {
        mc_daemon_config_error(cfg->clients_path, &err);
        mc_clients_destroy(&clients);
        mc_cfg_destroy(&cfg);
        return 78;
    }
    if (check_only) {
        printf("config ok\n");
        mc_clients_destroy(&clients);
        mc_cfg_destroy(&cfg);
        return 0;
    }
    if (cfg->intake.plaintext) /* at every start, so nobody forgets it is on */
        mc_log(MC_LOG_WARNING, "plaintext_mode",
               "what=\"intake.plaintext is on: no encryption, no client authentication; "
               "for local development only\"");

    /* signals arrive through a descriptor the broker polls; block them in
     * every thread (workers inherit the mask) before any thread starts */
    /* before any thread starts: workers inherit the blocked mask */
    int stop_fd = mc_daemon_stop_fd();
    if (stop_fd < 0) {
        mc_log(MC_LOG_ERR, "start_failed", "what=signalfd");
        mc_clients_destroy(&clients);
        mc_cfg_destroy(&cfg);
        return 69;
    }

    intake_server_t *server = intake_server_new(cfg, clients, &err);
    if (!server) {
        char line[300], quoted[340];
        mc_log(MC_LOG_ERR, "start_failed", "error=%s",
               mc_log_quote(mc_err_first(&err, line, sizeof line), quoted, sizeof quoted));
        close(stop_fd);
        mc_clients_destroy(&clients);
        mc_cfg_destroy(&cfg);
        return 69;
    }
    /* the endpoints as bound: a `*` port in the configuration is reported as the one we got */
    char endpoint[300], events[300];
    mc_daemon_bound(cfg->intake.endpoint, endpoint, sizeof endpoint);
    mc_daemon_bound(cfg->intake.events_endpoint, events, sizeof events);
    mc_log(MC_LOG_NOTICE, "started", "endpoint=%s events=%s workers=%d pid=%d", endpoint, events,
           cfg->intake.workers, (int)getpid());
    char ready[64];
    snprintf(ready, sizeof ready, "serving with %d workers", cfg->intake.workers);
    mc_daemon_ready(ready, endpoint, "intake", events);

    int rc = intake_server_run(server, stop_fd);
    sd_notify(0, "STOPPING=1");
    intake_server_destroy(&server);
    mc_transport_term();
    close(stop_fd);
    mc_log(MC_LOG_NOTICE, "stopped", "clean=%s", rc == 0 ? "yes" : "no");
    mc_clients_destroy(&clients);
    mc_cfg_destroy(&cfg);
    return rc == 0 ? 0 : 1;
}
