/*
 * motcua-router - route received dossiers to their desk and watch deadlines.
 *
 * Usage: motcua-router [-c FILE] [--check] [--help]
 * Reads the configuration and routing.yaml, connects to the store and the
 * events endpoints, tells systemd READY=1 (Type=notify; X_MOTCUA_ENDPOINT and
 * X_MOTCUA_EVENTS_ENDPOINT are its events endpoint as bound), routes and scans
 * until SIGTERM/SIGINT, tells systemd STOPPING=1 and exits 0. A batch in
 * progress is one transaction: stopping between batches loses nothing.
 * Exit codes: 0 clean stop, 64 usage, 78 bad configuration, 69 cannot
 * start, 1 unclean stop.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "mc_cfg.h"
#include "mc_daemon.h"
#include "mc_log.h"
#include "mc_routing.h"
#include "mc_transport.h"
#include "router.h"

/* usage - print help to f */
static void usage(FILE *f)
{
    fprintf(f,
            "usage: motcua-router [-c FILE] [--check]\n"
            "  -c, --config FILE  configuration (default: $MOTCUA_CONFIG, /etc/motcua/motcua.yaml,\n"
            "                     or config/motcua.yaml); routing from its files.routing\n"
            "      --check        load and check the configuration and routing, then exit\n"
            "  -h, --help         this text\n"
            "Environment: MOTCUA_DATABASE overrides database.conninfo.\n");
}

int main(int argc, char **argv)
{
    const char *config = NULL;
    bool check_only = false;
    int status = mc_daemon_args("motcua-router", usage, argc, argv, &config, &check_only);
    if (status != MC_DAEMON_CONTINUE)
        return status;
    mc_err_t err;
    mc_err_clear(&err);
    mc_cfg_t *cfg = NULL;
    mc_routing_t *routing = NULL;
    if ((status = mc_daemon_config("motcua-router", config, &cfg)) != 0)
        return status;
    if (mc_routing_load(cfg->routing_path, cfg, &routing, &err) != 0) {
        mc_daemon_config_error(cfg->routing_path, &err);
        mc_cfg_destroy(&cfg);
        return 78;
    }
    if (check_only) {
        printf("config ok\n");
        mc_routing_destroy(&routing);
        mc_cfg_destroy(&cfg);
        return 0;
    }

    /* before any thread starts: workers inherit the blocked mask */
    int stop_fd = mc_daemon_stop_fd();
    int rc = 69;
    router_t *router = NULL;
    if (stop_fd < 0) {
        mc_log(MC_LOG_ERR, "start_failed", "what=signalfd");
        goto out;
    }
    router = router_new(cfg, routing, &err);
    if (!router) {
        char line[300], quoted[340];
        mc_log(MC_LOG_ERR, "start_failed", "error=%s",
               mc_log_quote(mc_err_first(&err, line, sizeof line), quoted, sizeof quoted));
        goto out;
    }
    /* its one bind, the events it publishes, as bound (a `*` port shows as the real one) */
    char events[300], ready[64];
    mc_daemon_bound(cfg->router.events_endpoint, events, sizeof events);
    mc_log(MC_LOG_NOTICE, "started", "events=%s poll_ms=%d batch=%d deadline_scan_ms=%d pid=%d",
           events, cfg->router.poll_ms, cfg->router.batch, cfg->router.deadline_scan_ms,
           (int)getpid());
    snprintf(ready, sizeof ready, "routing, batch %d", cfg->router.batch);
    mc_daemon_ready(ready, events, "router", events);
    rc = router_run(router, stop_fd) == 0 ? 0 : 1;
    sd_notify(0, "STOPPING=1");
    mc_log(MC_LOG_NOTICE, "stopped", "clean=%s", rc == 0 ? "yes" : "no");
out:
    router_destroy(&router);
    mc_transport_term();
    if (stop_fd >= 0)
        close(stop_fd);
    mc_routing_destroy(&routing);
    mc_cfg_destroy(&cfg);
    return rc;
}
