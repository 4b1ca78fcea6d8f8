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
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <curl/curl.h>
#include <systemd/sd-daemon.h>

#include "mc_cfg.h"
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
    int check_only = 0;
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'k': check_only = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 64;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "motcua-notify: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 64;
    }
    mc_log_init("motcua-notify", MC_LOG_INFO);
    if (!config)
        config = mc_cfg_default_path();
    mc_err_t err;
    mc_err_clear(&err);
    mc_cfg_t *cfg = NULL;
    if (mc_cfg_load(config, &cfg, &err) != 0) {
        fprintf(stderr, "%s", err.text);
        mc_log(MC_LOG_ERR, "config_invalid", "file=%s errors=%d", config, err.count);
        return 78;
    }
    mc_log_set_level(cfg->log_level);
    notify_templates_t *templates = NULL;
    if (notify_templates_load(cfg->notifications_path, &templates, &err) != 0) {
        fprintf(stderr, "%s", err.text);
        mc_log(MC_LOG_ERR, "config_invalid", "file=%s errors=%d", cfg->notifications_path,
               err.count);
        mc_cfg_destroy(&cfg);
        return 78;
    }
    if (check_only) {
        printf("config ok\n");
        notify_templates_destroy(&templates);
        mc_cfg_destroy(&cfg);
        return 0;
    }

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    int stop_fd = signalfd(-1, &mask, SFD_CLOEXEC);
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
    sd_notifyf(0, "READY=1\nSTATUS=sending notifications\nMAINPID=%d", (int)getpid());
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
