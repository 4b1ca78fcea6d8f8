/*
 * motcua-gateway - the web door (issue 15): a REST API over intake's
 * exchange, the citizen pages and the ward dashboard, over HTTP.
 *
 * Usage: motcua-gateway [-c FILE] [--check] [--help]
 * Reads the configuration and clients.yaml (the bearer tokens), listens on
 * gateway.listen, tells systemd READY=1 (Type=notify) and serves until
 * SIGTERM/SIGINT; then stops accepting, finishes the requests in hand,
 * tells systemd STOPPING=1 and exits 0. The gateway keeps no state: several
 * instances may run behind one load balancer. docs/gateway.md.
 * Signals and exit codes: mc_daemon.h.
 */
#include <stdio.h>

#include "gateway.h"
#include "mc_log.h"

/* load - clients.yaml: the tokens, roles and wards */
static int load(mc_daemon_t *d, mc_err_t *err, const char **file)
{
    mc_clients_t *clients = NULL;
    *file = d->cfg->clients_path;
    if (!d->cfg->clients_path) {
        mc_err_add(err, "files.clients: the gateway needs clients.yaml (the bearer tokens)");
        return -1;
    }
    if (mc_clients_load(d->cfg->clients_path, &clients, err) != 0)
        return -1;
    d->files = clients;
    return 0;
}

/* public_client_ok - gateway.public_client names a client that may be acted for */
static bool public_client_ok(const mc_daemon_t *d)
{
    const mc_client_t *c = mc_clients_find(d->files, d->cfg->gateway.public_client);
    return c && c->role != MC_CLIENT_GATEWAY;
}

/* check - --check: the client the pages act as exists */
static int check(mc_daemon_t *d, mc_err_t *err, const char **file)
{
    *file = d->cfg->clients_path;
    if (public_client_ok(d))
        return 0;
    mc_err_add(err, "gateway.public_client %s: not a counter or portal client of clients.yaml",
               d->cfg->gateway.public_client);
    return -1;
}

/* start - the routes, then the server */
static int start(mc_daemon_t *d, mc_err_t *err)
{
    static gw_t *gw;
    const mc_cfg_t *cfg = d->cfg;
    if (!public_client_ok(d)) /* only the pages and token-less catalog requests need it */
        mc_log(MC_LOG_WARNING, "public_client_unknown", "client=%s", cfg->gateway.public_client);
    if (!(gw = gw_new(cfg, d->files, err)))
        return -1;
    d->app = gw;
    if (gw_api_register(gw, err) != 0 || gw_pages_register(gw, err) != 0 ||
        gw_start(gw, err) != 0)
        return -1;
    snprintf(d->detail, sizeof d->detail,
             "listen=%s port=%d tls=%s max_connections=%d per_ip_connections=%d rate_per_s=%d "
             "burst=%d", cfg->gateway.listen, gw_port(gw),
             cfg->gateway.tls_cert_file[0] ? "on" : "off", cfg->gateway.max_connections,
             cfg->gateway.per_ip_connections, cfg->gateway.rate_per_s, cfg->gateway.burst);
    snprintf(d->status, sizeof d->status, "serving http port %d", gw_port(gw));
    return 0;
}

/* finish - the requests in hand */
static int finish(mc_daemon_t *d)
{
    gw_stop(d->app);
    return 0;
}

/* unload - clients.yaml as loaded */
static void unload(mc_daemon_t *d)
{
    mc_clients_t *clients = d->files;
    mc_clients_destroy(&clients);
    d->files = NULL;
}

/* destroy - the server, the pages' state, clients.yaml */
static void destroy(mc_daemon_t *d)
{
    gw_t *gw = d->app;
    if (gw) {
        gw_stop(gw);
        gw_pages_destroy(gw);
        gw_destroy(&gw);
        d->app = NULL;
    }
    unload(d);
}

int main(int argc, char **argv)
{
    static const mc_daemon_def_t def = {
        .name = "motcua-gateway",
        .check_help = "load and check the configuration and clients.yaml",
        .load = load,
        .check = check,
        .start = start,
        .finish = finish,
        .destroy = destroy,
        .unload = unload,
    };
    return mc_daemon_main(argc, argv, &def);
}
