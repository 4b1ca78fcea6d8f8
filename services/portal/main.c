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
 * Signals and exit codes: mc_daemon.h.
 */
#include <stdio.h>

#include <curl/curl.h>

#include "mc_daemon.h"
#include "portal.h"

/* what portal holds while it runs */
typedef struct portal_daemon {
    portal_http_t *http;   /* the token and the HTTP client */
    portal_t      *portal; /* the pusher */
    bool           curl;   /* curl_global_init succeeded */
} portal_daemon_t;

/* check - the token file, when synchronisation is on */
static int check(mc_daemon_t *d, mc_err_t *err, const char **file)
{
    if (!d->cfg->portal.url[0])
        return 0;
    *file = d->cfg->portal.token_file;
    portal_http_t *http = portal_http_new(&d->cfg->portal, err);
    int rc = http ? 0 : -1;
    portal_http_destroy(&http);
    return rc;
}

/* start - the token and the pusher on the loop; nothing when portal.url is "" */
static int start(mc_daemon_t *d, mc_err_t *err)
{
    static portal_daemon_t pd;
    const mc_cfg_t *cfg = d->cfg;
    bool on = cfg->portal.url[0] != '\0';
    d->app = &pd;
    /* the URL may carry a path the operator considers private: only on/off is logged */
    snprintf(d->detail, sizeof d->detail,
             "portal=%s token=%s poll_ms=%d batch=%d send_lease_ms=%d", on ? "on" : "off",
             cfg->portal.token_file[0] ? "yes" : "no", cfg->portal.poll_ms, cfg->portal.batch,
             cfg->portal.send_lease_ms);
    snprintf(d->status, sizeof d->status, "%s",
             on ? "pushing to the portal" : "portal synchronisation off");
    if (!on)
        return 0;
    /* curl's global state before any other thread exists (there is none here) */
    if (!(pd.curl = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)) {
        mc_err_add(err, "curl: cannot initialise");
        return -1;
    }
    if (!(pd.http = portal_http_new(&cfg->portal, err)) ||
        !(pd.portal = portal_new(cfg, pd.http, err)) || portal_start(pd.portal, d, err) != 0)
        return -1;
    return 0;
}

/* finish - the batch in hand */
static int finish(mc_daemon_t *d)
{
    portal_daemon_t *pd = d->app;
    return pd->portal ? portal_finish(pd->portal) : 0;
}

/* destroy - what start made */
static void destroy(mc_daemon_t *d)
{
    portal_daemon_t *pd = d->app;
    if (!pd)
        return;
    portal_destroy(&pd->portal);
    portal_http_destroy(&pd->http);
    if (pd->curl)
        curl_global_cleanup();
}

int main(int argc, char **argv)
{
    static const mc_daemon_def_t def = {
        .name = "motcua-portal",
        .check_help = "load and check the configuration and the token file",
        .check = check,
        .start = start,
        .finish = finish,
        .destroy = destroy,
    };
    return mc_daemon_main(argc, argv, &def);
}
