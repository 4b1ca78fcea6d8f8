/*
 * motcua-router - route received dossiers to their desk and watch deadlines.
 *
 * Usage: motcua-router [-c FILE] [--check] [--help]
 * Reads the configuration and routing.yaml, connects to the store and the
 * events endpoints, tells systemd READY=1 (Type=notify), routes and scans
 * until SIGTERM/SIGINT, tells systemd STOPPING=1 and exits 0. A batch in
 * progress is one transaction: stopping between batches loses nothing.
 * Exit codes: 0 clean stop, 64 usage, 78 bad configuration, 69 cannot
 * start, 1 unclean stop.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "mc_cfg.h"
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
        fprintf(stderr, "motcua-router: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 64;
    }
    mc_log_init("motcua-router", MC_LOG_INFO);
    if (!config)
        config = mc_cfg_default_path();
    mc_err_t err;
    mc_err_clear(&err);
    mc_cfg_t *cfg = NULL;
    mc_routing_t *routing = NULL;
    if (mc_cfg_load(config, &cfg, &err) != 0 ||
        mc_routing_load(cfg->routing_path, cfg, &routing, &err) != 0) {
        fprintf(stderr, "%s", err.text);
        mc_log(MC_LOG_ERR, "config_invalid", "file=%s errors=%d", config, err.count);
        mc_cfg_destroy(&cfg);
        return 78;
    }
    mc_log_set_level(cfg->log_level);
    if (check_only) {
        printf("config ok\n");
        mc_routing_destroy(&routing);
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
    mc_log(MC_LOG_NOTICE, "started", "events=%s poll_ms=%d batch=%d deadline_scan_ms=%d pid=%d",
           cfg->router.events_endpoint, cfg->router.poll_ms, cfg->router.batch,
           cfg->router.deadline_scan_ms, (int)getpid());
    sd_notifyf(0, "READY=1\nSTATUS=routing, batch %d\nMAINPID=%d", cfg->router.batch,
               (int)getpid());
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
