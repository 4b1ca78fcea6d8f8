/*
 * mc_daemon - command line, configuration and stop signals shared by the
 * daemons (see mc_daemon.h).
 */
#include "mc_daemon.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>
#include <systemd/sd-daemon.h>

#include "mc_log.h"
#include "mc_transport.h"

/* mc_daemon_args - [-c FILE] [--check] [--help] */
int mc_daemon_args(const char *name, void (*usage)(FILE *), int argc, char **argv,
                   const char **config, bool *check_only)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *config = NULL;
    *check_only = false;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': *config = optarg; break;
        case 'k': *check_only = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 64;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", name, argv[optind]);
        usage(stderr);
        return 64;
    }
    if (!*config)
        *config = mc_cfg_default_path();
    return MC_DAEMON_CONTINUE;
}

/* mc_daemon_config_error - every problem on stderr, one log line */
void mc_daemon_config_error(const char *file, const mc_err_t *err)
{
    fprintf(stderr, "%s", err->text);
    mc_log(MC_LOG_ERR, "config_invalid", "file=%s errors=%d", file, err->count);
}

/* mc_daemon_config - logging, libsodium and configuration */
int mc_daemon_config(const char *name, const char *config, mc_cfg_t **cfg)
{
    mc_log_init(name, MC_LOG_INFO);
    /* libsodium (request fingerprints) before any thread: -1 only if it cannot start */
    if (sodium_init() < 0) {
        mc_log(MC_LOG_ERR, "startup_failed", "what=sodium_init");
        return 71; /* EX_OSERR */
    }
    mc_err_t err;
    mc_err_clear(&err);
    /* the daemon's own database role and application_name (docs/store.md) */
    if (mc_cfg_load(config, cfg, &err) != 0 || mc_cfg_use_role(*cfg, name, &err) != 0) {
        mc_daemon_config_error(config, &err);
        mc_cfg_destroy(cfg);
        return 78;
    }
    mc_log_set_level((*cfg)->log_level);
    return 0;
}

/* mc_daemon_stop_fd - signals as a descriptor; must run before any thread starts */
int mc_daemon_stop_fd(void)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &mask, SFD_CLOEXEC);
}

/* mc_daemon_bound - the real endpoint of a configured bind */
const char *mc_daemon_bound(const char *configured, char *buf, size_t size)
{
    if (mc_transport_bound(configured, buf, size) != 0)
        snprintf(buf, size, "%s", configured ? configured : "");
    return buf;
}

/* mc_daemon_ready - READY=1 with the status and the endpoints, one datagram */
void mc_daemon_ready(const char *status, const char *endpoint, const char *name,
                     const char *events)
{
    char msg[1400];
    size_t n = 0;
    n += (size_t)snprintf(msg + n, sizeof msg - n, "READY=1\nSTATUS=%s", status);
    if (endpoint && n < sizeof msg)
        n += (size_t)snprintf(msg + n, sizeof msg - n, " endpoint=%s", endpoint);
    if (n < sizeof msg)
        n += (size_t)snprintf(msg + n, sizeof msg - n, "\nMAINPID=%d", (int)getpid());
    if (endpoint && n < sizeof msg)
        n += (size_t)snprintf(msg + n, sizeof msg - n, "\nX_MOTCUA_ENDPOINT=%s", endpoint);
    if (endpoint && name && n < sizeof msg) {
        /* the variable name in capitals: X_MOTCUA_INTAKE_ENDPOINT */
        char upper[32];
        size_t i = 0;
        for (; name[i] && i + 1 < sizeof upper; i++)
            upper[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 'a' + 'A' : name[i]);
        upper[i] = '\0';
        n += (size_t)snprintf(msg + n, sizeof msg - n, "\nX_MOTCUA_%s_ENDPOINT=%s", upper,
                              endpoint);
    }
    if (events && n < sizeof msg)
        n += (size_t)snprintf(msg + n, sizeof msg - n, "\nX_MOTCUA_EVENTS_ENDPOINT=%s", events);
    if (n >= sizeof msg) { /* cannot happen with endpoints of at most 256 bytes */
        mc_log(MC_LOG_ERR, "invariant_broken", "what=ready_message_too_long");
        sd_notifyf(0, "READY=1\nMAINPID=%d", (int)getpid());
        return;
    }
    sd_notify(0, msg);
}

/* mc_daemon_status - a STATUS line with MSG_DONTWAIT (see the header) */
int mc_daemon_status(const char *fmt, ...)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path)
        return 1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if (len >= sizeof sa.sun_path || (path[0] != '/' && path[0] != '@'))
        return -1;
    memcpy(sa.sun_path, path, len);
    if (path[0] == '@')
        sa.sun_path[0] = '\0'; /* abstract namespace, as sd_notify reads it */
    char msg[512];
    int n = snprintf(msg, sizeof msg, "STATUS=");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    ssize_t sent = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&sa,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
    int saved = errno;
    close(fd);
    if (sent >= 0)
        return 0;
    return saved == EAGAIN || saved == EWOULDBLOCK ? 1 : -1;
}

/* mc_daemon_backoff_ms - doubling from initial_ms, capped at max_ms */
int mc_daemon_backoff_ms(int initial_ms, int max_ms, int attempts)
{
    int64_t delay = initial_ms > 0 ? initial_ms : 1;
    for (int i = 1; i < attempts && delay < max_ms; i++)
        delay *= 2;
    return (int)(delay < max_ms ? delay : max_ms);
}
