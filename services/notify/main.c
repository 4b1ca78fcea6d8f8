/*
 * motcua-notify - tell applicants what happened to their dossier.
 *
 * Usage: motcua-notify [-c FILE] [--check] [--help]
 * Reads the configuration and notifications.yaml (strictly: a bad
 * placeholder stops the start), reads the channels' secrets, tells systemd
 * READY=1 (Type=notify), sends due notifications until SIGTERM/SIGINT,
 * finishes the batch in hand, tells systemd STOPPING=1 and exits 0.
 * Several instances may run against one database (see notify.h). SIGHUP
 * reloads the templates (notifications.yaml, checked as strictly as at
 * start), the catalog, wards and log.level.
 * Signals and exit codes: mc_daemon.h.
 */
#include <stdio.h>

#include <curl/curl.h>

#include "mc_daemon.h"
#include "notify.h"

/* what notify holds while it runs */
typedef struct notify_daemon {
    notify_channels_t *channels; /* sms, email, spool */
    notify_t          *notify;   /* the loop's state */
    bool               curl;     /* curl_global_init succeeded */
} notify_daemon_t;

/* load - notifications.yaml */
static int load(mc_daemon_t *d, mc_err_t *err, const char **file)
{
    notify_templates_t *templates = NULL;
    *file = d->cfg->notifications_path;
    if (notify_templates_load(d->cfg->notifications_path, &templates, err) != 0)
        return -1;
    notify_templates_set_sms_ascii(templates, d->cfg->notify.sms_ascii);
    d->files = templates;
    return 0;
}

/* start - curl, the channels (their secrets), the subscriptions, the loop */
static int start(mc_daemon_t *d, mc_err_t *err)
{
    static notify_daemon_t nd;
    const mc_cfg_t *cfg = d->cfg;
    d->app = &nd;
    /* curl's global state before any other thread (ZeroMQ's I/O threads) exists */
    if (!(nd.curl = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)) {
        mc_err_add(err, "curl: cannot initialise");
        return -1;
    }
    if (!(nd.channels = notify_channels_new(&cfg->notify, err)) ||
        !(nd.notify = notify_new(cfg, d->files, nd.channels, err)) ||
        notify_start(nd.notify, d, err) != 0)
        return -1;
    snprintf(d->detail, sizeof d->detail, "sms=%s email=%s poll_ms=%d send_lease_ms=%d",
             notify_sms_enabled(nd.channels) ? "on" : "off",
             notify_email_enabled(nd.channels) ? "on" : "off", cfg->notify.poll_ms,
             cfg->notify.send_lease_ms);
    snprintf(d->status, sizeof d->status, "sending notifications");
    return 0;
}

/* finish - the batch in hand */
static int finish(mc_daemon_t *d)
{
    notify_daemon_t *nd = d->app;
    return notify_finish(nd->notify);
}

/* reload - SIGHUP: notifications.yaml (templates) and motcua.yaml's catalog,
 * wards and retry figures; the channels' URLs, secrets and spool need a restart */
static int reload(mc_daemon_t *d, mc_daemon_t *next, mc_err_t *err)
{
    (void)err;
    notify_daemon_t *nd = d->app;
    notify_reload(nd->notify, next->cfg, next->files);
    return 0;
}

/* unload - notifications.yaml as loaded */
static void unload(mc_daemon_t *d)
{
    notify_templates_t *templates = d->files;
    notify_templates_destroy(&templates);
    d->files = NULL;
}

/* destroy - what start and load made */
static void destroy(mc_daemon_t *d)
{
    notify_daemon_t *nd = d->app;
    notify_templates_t *templates = d->files;
    if (nd) {
        notify_destroy(&nd->notify);
        notify_channels_destroy(&nd->channels);
        if (nd->curl)
            curl_global_cleanup();
    }
    notify_templates_destroy(&templates);
}

int main(int argc, char **argv)
{
    static const mc_daemon_def_t def = {
        .name = "motcua-notify",
        .check_help = "load and check the configuration and templates",
        .load = load,
        .start = start,
        .finish = finish,
        .destroy = destroy,
        .reload = reload,
        .unload = unload,
    };
    return mc_daemon_main(argc, argv, &def);
}
