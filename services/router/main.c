/*
 * motcua-router - route received dossiers to their desk and watch deadlines.
 *
 * Usage: motcua-router [-c FILE] [--check] [--help]
 * Reads the configuration and routing.yaml, connects to the store and the
 * events endpoints, tells systemd READY=1 (Type=notify; X_MOTCUA_ENDPOINT,
 * X_MOTCUA_ROUTER_ENDPOINT and X_MOTCUA_EVENTS_ENDPOINT are its events
 * endpoint as bound), routes and scans until SIGTERM/SIGINT, tells systemd
 * STOPPING=1 and exits 0. A batch in progress is one transaction: stopping
 * between batches loses nothing. SIGHUP reloads routing.yaml, the catalog,
 * the calendar, the rules and log.level between two passes (poll and scan
 * intervals and endpoints need a restart). Signals and exit codes: mc_daemon.h.
 */
#include <stdio.h>

#include "mc_daemon.h"
#include "mc_routing.h"
#include "router.h"

/* load - routing.yaml */
static int load(mc_daemon_t *d, mc_err_t *err, const char **file)
{
    mc_routing_t *routing = NULL;
    *file = d->cfg->routing_path;
    if (mc_routing_load(d->cfg->routing_path, d->cfg, &routing, err) != 0)
        return -1;
    d->files = routing;
    return 0;
}

/* start - the router on the loop; its one bind is the events it publishes */
static int start(mc_daemon_t *d, mc_err_t *err)
{
    const mc_cfg_t *cfg = d->cfg;
    router_t *r = router_new(cfg, d->files, err);
    d->app = r;
    if (!r || router_start(r, d->loop, err) != 0)
        return -1;
    d->events = cfg->router.events_endpoint;
    snprintf(d->detail, sizeof d->detail, "poll_ms=%d batch=%d deadline_scan_ms=%d",
             cfg->router.poll_ms, cfg->router.batch, cfg->router.deadline_scan_ms);
    snprintf(d->status, sizeof d->status, "routing, batch %d", cfg->router.batch);
    return 0;
}

/* reload - SIGHUP: routing, catalog, calendar and rules from now on (between
 * two passes: a batch is one handler, never cut by a reload) */
static int reload(mc_daemon_t *d, mc_daemon_t *next, mc_err_t *err)
{
    (void)err;
    router_t *r = d->app;
    r->cfg = next->cfg;
    r->routing = next->files;
    snprintf(d->status, sizeof d->status, "routing, batch %d", next->cfg->router.batch);
    return 0;
}

/* unload - routing.yaml as loaded */
static void unload(mc_daemon_t *d)
{
    mc_routing_t *routing = d->files;
    mc_routing_destroy(&routing);
    d->files = NULL;
}

/* destroy - the router, then the routing table it reads */
static void destroy(mc_daemon_t *d)
{
    router_t *r = d->app;
    mc_routing_t *routing = d->files;
    router_destroy(&r);
    mc_routing_destroy(&routing);
}

int main(int argc, char **argv)
{
    static const mc_daemon_def_t def = {
        .name = "motcua-router",
        .role = "router",
        .check_help = "load and check the configuration and routing",
        .more_help = "routing from its files.routing",
        .load = load,
        .start = start,
        .destroy = destroy,
        .reload = reload,
        .unload = unload,
    };
    return mc_daemon_main(argc, argv, &def);
}
