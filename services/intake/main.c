/*
 * motcua-intake - receive dossiers from ward offices and the portal.
 *
 * Usage: motcua-intake [-c FILE] [--check] [--help]
 * Reads the configuration and the client registry (files.clients; not with
 * intake.plaintext, which is warned about at every start), binds
 * intake.endpoint as a CURVE server (intake.server_key_file), starts its workers, tells
 * systemd READY=1 (Type=notify) with the endpoint it got (X_MOTCUA_ENDPOINT,
 * X_MOTCUA_INTAKE_ENDPOINT, X_MOTCUA_EVENTS_ENDPOINT: a `*` port shows as
 * the real one), serves until SIGTERM/SIGINT, then stops taking work,
 * finishes what is in flight (intake_server_stop), tells systemd STOPPING=1
 * and exits 0. SIGHUP reloads the client registry (files.clients: who may
 * connect, with which key, for which wards), the catalog, calendar, wards,
 * limits and log.level; the endpoints, keys, workers and database need a
 * restart (logged as reload_ignored). Signals and exit codes: mc_daemon.h.
 */
#include <stdio.h>

#include "intake.h"
#include "mc_clients.h"
#include "mc_daemon.h"
#include "mc_log.h"

/* load - the client registry: every key that may connect, and what for */
static int load(mc_daemon_t *d, mc_err_t *err, const char **file)
{
    mc_clients_t *clients = NULL;
    if (d->cfg->intake.plaintext)
        return 0;
    *file = d->cfg->clients_path;
    if (mc_clients_load(d->cfg->clients_path, &clients, err) != 0 ||
        mc_clients_check_wards(clients, d->cfg, err) != 0) {
        mc_clients_destroy(&clients);
        return -1;
    }
    d->files = clients;
    return 0;
}

/* start - the broker, its workers and its sockets on the loop */
static int start(mc_daemon_t *d, mc_err_t *err)
{
    const mc_cfg_t *cfg = d->cfg;
    if (cfg->intake.plaintext) /* at every start, so nobody forgets it is on */
        mc_log(MC_LOG_WARNING, "plaintext_mode",
               "what=\"intake.plaintext is on: no encryption, no client authentication; "
               "for local development only\"");
    intake_server_t *server = intake_server_new(cfg, d->files, err);
    d->app = server;
    if (!server || intake_server_start(server, d->loop, err) != 0)
        return -1;
    d->endpoint = cfg->intake.endpoint;
    d->events = cfg->intake.events_endpoint;
    snprintf(d->detail, sizeof d->detail, "workers=%d", cfg->intake.workers);
    snprintf(d->status, sizeof d->status, "serving with %d workers", cfg->intake.workers);
    return 0;
}

/* stop - SIGTERM/SIGINT: drain */
static void stop(mc_daemon_t *d)
{
    intake_server_stop(d->app);
}

/* reload - SIGHUP: the client registry (keys and what each may do) and
 * motcua.yaml's catalog, calendar, wards and limits; its restart-only keys
 * (endpoints, workers, database) keep their running values (the skeleton) */
static int reload(mc_daemon_t *d, mc_daemon_t *next, mc_err_t *err)
{
    return intake_server_reload(d->app, next->cfg, d->cfg->intake.plaintext ? NULL : next->files,
                                err);
}

/* unload - the client registry as loaded */
static void unload(mc_daemon_t *d)
{
    mc_clients_t *clients = d->files;
    mc_clients_destroy(&clients);
    d->files = NULL;
}

/* destroy - workers and sockets, then the registry */
static void destroy(mc_daemon_t *d)
{
    intake_server_t *server = d->app;
    mc_clients_t *clients = d->files;
    intake_server_destroy(&server);
    mc_clients_destroy(&clients);
}

int main(int argc, char **argv)
{
    static const mc_daemon_def_t def = {
        .name = "motcua-intake",
        .role = "intake",
        .load = load,
        .start = start,
        .stop = stop,
        .destroy = destroy,
        .reload = reload,
        .unload = unload,
    };
    return mc_daemon_main(argc, argv, &def);
}
