/*
 * motcua-notify - tell applicants what happened to their dossier.
 *
 * Usage: motcua-notify [-c FILE] [--check] [--help]
 * Reads the configuration and notifications.yaml (strictly: a bad
 * placeholder stops the start), reads the channels' secrets, tells systemd
 * READY=1 (Type=notify), sends due notifications until SIGTERM/SIGINT,
 * finishes the message in hand, tells systemd STOPPING=1 and exits 0.
 * Several instances may run against one database (see notify.h).
 * Exit codes: 0 clean stop, 64 usage, 78 bad configuration or templates,
 * 69 cannot start, 1 unclean stop.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <systemd/sd-daemon.h>

#include "mc_cfg.h"
#include "mc_daemon.h"
#include "mc_log.h"
#include "mc_transport.h"
#include "notify.h"

/* usage - print help to f */
static void usage(FILE *f)
{
    fprintf(f,
            "usage: motcua-notify [-c FILE] [--check]\n"
            "  -c, --config FILE  configuration (default: $MOTCUA_CONFIG, /etc/motcua/motcua.yaml,\n"
            "                     or config/motcua.yaml)\n"
            "      --check        load and check the configuration and templates, then exit\n"
            "  -h, --help         this text\n"
            "Environment: MOTCUA_DATABASE overrides database.conninfo.\n");
}

/* log_start_error - one line for a failed start, first message only */
static void log_start_error(const char *what, const mc_err_t *err)
{
    char line[300], quoted[340];
    mc_log(MC_LOG_ERR, "start_failed", "what=%s error=%s", what,
           mc_log_quote(mc_err_first(err, line, sizeof line), quoted, sizeof quoted));
}

int main(int argc, char **argv)
{
    const char *config = NULL;
    bool check_only = false;
    int status = mc_daemon_args("motcua-notify", usage, argc, argv, &config, &check_only);
    if (status != MC_DAEMON_CONTINUE)
        return status;
    mc_err_t err;
    mc_err_clear(&err);
    mc_cfg_t *cfg = NULL;
    if ((status = mc_daemon_config("motcua-notify", config, &cfg)) != 0)
        return status;
    notify_templates_t *templates = NULL;
    if (notify_templates_load(cfg->notifications_path, &templates, &err) != 0) {
        mc_daemon_config_error(cfg->notifications_path, &err);
        mc_cfg_destroy(&cfg);
        return 78;
    }
    if (check_only) {
        printf("config ok\n");
        notify_templates_destroy(&templates);
        mc_cfg_destroy(&cfg);
        return 0;
    }

    /* before any thread starts: workers inherit the blocked mask */
    int stop_fd = mc_daemon_stop_fd();
    /* curl's global state before any other thread (ZeroMQ's I/O threads) exists */
    if (stop_fd < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        mc_log(MC_LOG_ERR, "start_failed", "what=%s", stop_fd < 0 ? "signalfd" : "curl");
        if (stop_fd >= 0)
            close(stop_fd);
        notify_templates_destroy(&templates);
        mc_cfg_destroy(&cfg);
        return 69;
    }
    int rc = 69;
    notify_t *notify = NULL;
    notify_channels_t *channels = notify_channels_new(&cfg->notify, &err);
    if (!channels) {
        log_start_error("channels", &err);
        goto out;
    }
    notify = notify_new(cfg, templates, channels, &err);
    if (!notify) {
        log_start_error("subscribe", &err);
        goto out;
    }
    mc_log(MC_LOG_NOTICE, "started", "sms=%s email=%s poll_ms=%d pid=%d",
           notify_sms_enabled(channels) ? "on" : "off",
           notify_email_enabled(channels) ? "on" : "off", cfg->notify.poll_ms, (int)getpid());
    mc_daemon_ready("sending notifications", NULL, NULL, NULL);
    rc = notify_run(notify, stop_fd) == 0 ? 0 : 1;
    sd_notify(0, "STOPPING=1");
    mc_log(MC_LOG_NOTICE, "stopped", "clean=%s", rc == 0 ? "yes" : "no");
out:
    notify_destroy(&notify);
    notify_channels_destroy(&channels);
    mc_transport_term();
    curl_global_cleanup();
    close(stop_fd);
    notify_templates_destroy(&templates);
    mc_cfg_destroy(&cfg);
    return rc;
}
