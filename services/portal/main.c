/*
 * motcua-portal - synchronise dossier status and results with the national
 * public-service portal (Nghị định 118/2025 Art. 17, 22, 27(2)(d)).
 *
 * Usage: motcua-portal [-c FILE] [--check] [--help]
 * Reads the configuration and the portal token, tells systemd READY=1
 * (Type=notify), pushes the outbox until SIGTERM/SIGINT, finishes the push
 * in hand, tells systemd STOPPING=1 and exits 0. With portal.url "" it only
 * waits for the stop (synchronisation off; the outbox keeps the events).
 * Several instances may run against one database (see portal.h).
 * Exit codes: 0 clean stop, 64 usage, 78 bad configuration, 69 cannot
 * start, 1 unclean stop.
 */
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include <curl/curl.h>
#include <systemd/sd-daemon.h>

#include "mc_cfg.h"
#include "mc_daemon.h"
#include "mc_log.h"
#include "portal.h"

/* usage - print help to f */
static void usage(FILE *f)
{
    fprintf(f,
            "usage: motcua-portal [-c FILE] [--check]\n"
            "  -c, --config FILE  configuration (default: $MOTCUA_CONFIG, /etc/motcua/motcua.yaml,\n"
            "                     or config/motcua.yaml)\n"
            "      --check        load and check the configuration and the token file, then exit\n"
            "  -h, --help         this text\n"
            "Environment: MOTCUA_DATABASE overrides database.conninfo.\n");
}

/* start - the token and the pusher; 0, or 69 with one log line */
static int start(const mc_cfg_t *cfg, portal_http_t **http, portal_t **portal)
{
    mc_err_t err;
    mc_err_clear(&err);
    /* curl's global state before any other thread exists (there is none here) */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        mc_log(MC_LOG_ERR, "start_failed", "what=curl");
        return 69;
    }
    *http = portal_http_new(&cfg->portal, &err);
    if (*http)
        *portal = portal_new(cfg, *http, &err);
    if (*http && *portal)
        return 0;
    char line[300], quoted[340];
    mc_log(MC_LOG_ERR, "start_failed", "what=%s error=%s", *http ? "pusher" : "token",
           mc_log_quote(mc_err_first(&err, line, sizeof line), quoted, sizeof quoted));
    return 69;
}

int main(int argc, char **argv)
{
    const char *config = NULL;
    bool check_only = false;
    int status = mc_daemon_args("motcua-portal", usage, argc, argv, &config, &check_only);
    if (status != MC_DAEMON_CONTINUE)
        return status;
    mc_cfg_t *cfg = NULL;
    if ((status = mc_daemon_config("motcua-portal", config, &cfg)) != 0)
        return status;
    bool on = cfg->portal.url[0] != '\0';
    if (check_only) {
        mc_err_t err;
        mc_err_clear(&err);
        portal_http_t *http = on ? portal_http_new(&cfg->portal, &err) : NULL;
        if (on && !http) {
            mc_daemon_config_error(cfg->portal.token_file, &err);
            mc_cfg_destroy(&cfg);
            return 78;
        }
        portal_http_destroy(&http);
        printf("config ok\n");
        mc_cfg_destroy(&cfg);
        return 0;
    }

    /* before any thread starts: every thread inherits the blocked mask */
    int stop_fd = mc_daemon_stop_fd();
    portal_http_t *http = NULL;
    portal_t *portal = NULL;
    int rc = 0;
    if (stop_fd < 0) {
        mc_log(MC_LOG_ERR, "start_failed", "what=signalfd");
        rc = 69;
    } else if (on) {
        rc = start(cfg, &http, &portal);
    }
    if (rc == 0) {
        /* the URL may carry a path the operator considers private: only on/off is logged */
        mc_log(MC_LOG_NOTICE, "started", "portal=%s token=%s poll_ms=%d batch=%d send_lease_ms=%d pid=%d",
               on ? "on" : "off", cfg->portal.token_file[0] ? "yes" : "no", cfg->portal.poll_ms,
               cfg->portal.batch, cfg->portal.send_lease_ms, (int)getpid());
        mc_daemon_ready(on ? "pushing to the portal" : "portal synchronisation off", NULL, NULL, NULL);
        if (on)
            rc = portal_run(portal, stop_fd) == 0 ? 0 : 1;
        else
            while (!portal_wait_stop(stop_fd, -1)) {
            }
        sd_notify(0, "STOPPING=1");
        mc_log(MC_LOG_NOTICE, "stopped", "clean=%s", rc == 0 ? "yes" : "no");
    }
    portal_destroy(&portal);
    portal_http_destroy(&http);
    if (on && stop_fd >= 0)
        curl_global_cleanup(); /* reference-counted: a no-op if start() did not get that far */
    if (stop_fd >= 0)
        close(stop_fd);
    mc_cfg_destroy(&cfg);
    return rc;
}
