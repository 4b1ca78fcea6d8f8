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
 * until SIGTERM/SIGINT, tells systemd STOPPING=1 and exits 0. SIGHUP
 * reloads agencies.yaml (partners and their keys), the catalog, calendar and
 * log level (lienthong_hub_reload); endpoints and keys of its own need a restart.
 * Signals and exit codes: mc_daemon.h (78 also for bad agencies).
 */
#include <stdio.h>

#include "lienthong.h"
#include "mc_agencies.h"
#include "mc_daemon.h"

/* load - agencies.yaml */
static int load(mc_daemon_t *d, mc_err_t *err, const char **file)
{
    mc_agencies_t *agencies = NULL;
    *file = d->cfg->agencies_path;
    if (mc_agencies_load(d->cfg->agencies_path, &agencies, err) != 0)
        return -1;
    d->files = agencies;
    snprintf(d->check_note, sizeof d->check_note, ": %zu agencies", agencies->count);
    return 0;
}

/* start - the hub on the loop */
static int start(mc_daemon_t *d, mc_err_t *err)
{
    mc_agencies_t *agencies = d->files;
    lienthong_hub_t *hub = lienthong_hub_new(d->cfg, agencies, err);
    d->app = hub;
    if (!hub || lienthong_hub_start(hub, d->loop, err) != 0)
        return -1;
    d->endpoint = d->cfg->lienthong.endpoint;
    d->events = d->cfg->lienthong.events_endpoint;
    snprintf(d->status, sizeof d->status, "serving %zu agencies", agencies->count);
    return 0;
}

/* reload - SIGHUP: the hub serves the new configuration and agencies */
static int reload(mc_daemon_t *d, mc_daemon_t *next, mc_err_t *err)
{
    mc_agencies_t *agencies = next->files;
    if (lienthong_hub_reload(d->app, next->cfg, agencies, err) != 0)
        return -1;
    snprintf(d->status, sizeof d->status, "serving %zu agencies", agencies->count);
    return 0;
}

/* unload - agencies.yaml as loaded */
static void unload(mc_daemon_t *d)
{
    mc_agencies_t *agencies = d->files;
    mc_agencies_destroy(&agencies);
    d->files = NULL;
}

/* destroy - the hub, then the agencies it serves */
static void destroy(mc_daemon_t *d)
{
    lienthong_hub_t *hub = d->app;
    mc_agencies_t *agencies = d->files;
    lienthong_hub_destroy(&hub);
    mc_agencies_destroy(&agencies);
}

int main(int argc, char **argv)
{
    static const mc_daemon_def_t def = {
        .name = "motcua-lienthong",
        .role = "lienthong",
        .check_help = "load and check the configuration and agencies",
        .load = load,
        .start = start,
        .destroy = destroy,
        .reload = reload,
        .unload = unload,
    };
    return mc_daemon_main(argc, argv, &def);
}
