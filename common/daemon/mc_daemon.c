/*
 * mc_daemon - the daemon skeleton: command line, configuration, signals,
 * sd_notify and the loop (see mc_daemon.h).
 */
#include "mc_daemon.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <systemd/sd-daemon.h>

#include "mc_log.h"
#include "mc_time.h"
#include "mc_transport.h"
#include "mc_version.h"

/* usage - the daemon's help to f */
static void usage(const mc_daemon_def_t *def, FILE *f)
{
    fprintf(f,
            "usage: %s [-c FILE] [--check]\n"
            "  -c, --config FILE  configuration (default: $MOTCUA_CONFIG, /etc/motcua/motcua.yaml,\n"
            "                     or config/motcua.yaml)%s%s\n"
            "      --check        %s, then exit\n"
            "  -h, --help         this text\n"
            "      --version      print the version, then exit\n"
            "Signals: SIGTERM or SIGINT stop after the work in hand; SIGHUP reloads the\n"
            "configuration (what a restart needs is kept and logged; an invalid one is not applied).\n"
            "Environment: MOTCUA_DATABASE overrides database.conninfo.\n",
            def->name, def->more_help ? "; " : "", def->more_help ? def->more_help : "",
            def->check_help ? def->check_help : "load and check the configuration");
}

/* parse_args - [-c FILE] [--check] [--help] [--version]: MC_DAEMON_CONTINUE, or 0 (help,
 * version) / 64 */
static int parse_args(const mc_daemon_def_t *def, int argc, char **argv, const char **config,
                      bool *check_only)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    *config = NULL;
    *check_only = false;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': *config = optarg; break;
        case 'k': *check_only = true; break;
        case 'h': usage(def, stdout); return 0;
        case 'V': return mc_version_print(def->name);
        default: usage(def, stderr); return 64;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", def->name, argv[optind]);
        usage(def, stderr);
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

/* load_config - logging, libsodium and configuration; 0, 71 or 78 */
static int load_config(const char *name, const char *config, mc_cfg_t **cfg)
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

/* mc_daemon_signal_fd - signals as a descriptor; must run before any thread starts */
int mc_daemon_signal_fd(void)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK); /* read until EAGAIN */
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

/* notify_now - one datagram to $NOTIFY_SOCKET with MSG_DONTWAIT; 0 sent, 1
 * dropped or no socket, -1 error (see mc_daemon_status) */
static int notify_now(const char *msg)
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

/* mc_daemon_status - a STATUS line, never blocking */
int mc_daemon_status(const char *fmt, ...)
{
    char msg[512];
    int n = snprintf(msg, sizeof msg, "STATUS=");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    return notify_now(msg);
}

/* mc_daemon_backoff_ms - doubling from initial_ms, capped at max_ms */
int mc_daemon_backoff_ms(int initial_ms, int max_ms, int attempts)
{
    int64_t delay = initial_ms > 0 ? initial_ms : 1;
    for (int i = 1; i < attempts && delay < max_ms; i++)
        delay *= 2;
    return (int)(delay < max_ms ? delay : max_ms);
}

/* mc_daemon_signal_read_hup - every pending signal: TERM/INT begin the stop
 * (once), HUP sets *hup when asked for, the rest are logged and ignored */
bool mc_daemon_signal_read_hup(int fd, bool *stopping, bool *hup)
{
    bool began = false;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGHUP && hup) {
            *hup = true;
            continue;
        }
        if (si.ssi_signo != SIGTERM && si.ssi_signo != SIGINT) {
            mc_log(MC_LOG_INFO, "signal_ignored", "signal=%u", si.ssi_signo);
            continue;
        }
        if (*stopping)
            continue;
        *stopping = began = true;
        mc_log(MC_LOG_NOTICE, "stopping", "signal=%u", si.ssi_signo);
    }
    return began;
}

/* mc_daemon_signal_read - HUP ignored (motcua-agency) */
bool mc_daemon_signal_read(int fd, bool *stopping)
{
    return mc_daemon_signal_read_hup(fd, stopping, NULL);
}

static int on_reload(mc_loop_t *loop, void *arg);

/* read_signals - pending signals; the first TERM/INT stops the daemon, a HUP
 * schedules a reload for when the running handler has returned */
static void read_signals(mc_daemon_t *d)
{
    bool hup = false;
    bool began = mc_daemon_signal_read_hup(d->stop_fd, &d->stopping, &hup);
    if (hup && !d->stopping && !d->reload_due) {
        d->reload_due = true;
        if (mc_loop_after(d->loop, 0, on_reload, d) < 0) {
            d->reload_due = false;
            mc_log(MC_LOG_ERR, "reload_failed", "reason=\"no timer left\"");
        }
    }
    if (!began)
        return;
    if (d->def->stop)
        d->def->stop(d);
    else
        mc_loop_stop(d->loop, 0);
}

/* on_signal - mc_loop_fn of the signalfd */
static int on_signal(mc_loop_t *loop, void *arg)
{
    (void)loop;
    read_signals(arg);
    return 0;
}

static int64_t watchdog_ms;   /* half $WATCHDOG_USEC in ms, 0: no watchdog (the loop's thread) */
static int64_t watchdog_last; /* monotonic ms of the last WATCHDOG=1 */

/* watchdog_ping - WATCHDOG=1 when systemd asked for it; never blocking */
static void watchdog_ping(void)
{
    if (watchdog_ms <= 0)
        return;
    watchdog_last = mc_time_mono_ms();
    notify_now("WATCHDOG=1");
}

/* mc_daemon_keepalive - a ping when one is due */
void mc_daemon_keepalive(void)
{
    if (watchdog_ms > 0 && mc_time_mono_ms() - watchdog_last >= watchdog_ms)
        watchdog_ping();
}

/* mc_daemon_stopping - pending signals read at once (the signalfd is
 * non-blocking), and a keepalive when one is due */
bool mc_daemon_stopping(mc_daemon_t *d)
{
    mc_daemon_keepalive();
    read_signals(d);
    return d->stopping;
}

/* on_watchdog - mc_loop_fn: WATCHDOG=1, never blocking */
static int on_watchdog(mc_loop_t *loop, void *arg)
{
    (void)loop;
    (void)arg;
    watchdog_ping();
    return 0;
}

/* a key that only a restart applies: kept as it runs when a reload finds it changed */
typedef struct restart_key {
    const char *key;    /* "lienthong.endpoint"; its section is the daemon it concerns */
    size_t      offset; /* in mc_cfg_t */
    bool        text;   /* char * (else int) */
} restart_key_t;

#define RESTART_TEXT(k, f) {k, offsetof(mc_cfg_t, f), true}
#define RESTART_INT(k, f)  {k, offsetof(mc_cfg_t, f), false}

static const restart_key_t restart_keys[] = {
    RESTART_TEXT("database.conninfo", conninfo),
    RESTART_INT("database.connect_timeout_s", connect_timeout_s),
    RESTART_INT("database.statement_timeout_ms", statement_timeout_ms),
    RESTART_INT("log.summary_ms", log_summary_ms),
    RESTART_TEXT("intake.endpoint", intake.endpoint),
    RESTART_TEXT("intake.events_endpoint", intake.events_endpoint),
    RESTART_TEXT("intake.server_key_file", intake.server_key_file),
    RESTART_INT("intake.workers", intake.workers),
    RESTART_INT("intake.reconnect_ms", intake.reconnect_ms),
    RESTART_TEXT("events.key_file", events.key_file),
    RESTART_TEXT("router.events_endpoint", router.events_endpoint),
    RESTART_INT("router.poll_ms", router.poll_ms),
    RESTART_INT("router.deadline_scan_ms", router.deadline_scan_ms),
    RESTART_TEXT("lienthong.endpoint", lienthong.endpoint),
    RESTART_TEXT("lienthong.events_endpoint", lienthong.events_endpoint),
    RESTART_TEXT("lienthong.server_key_file", lienthong.server_key_file),
    RESTART_INT("lienthong.heartbeat_ms", lienthong.heartbeat_ms),
    RESTART_INT("lienthong.poll_ms", lienthong.poll_ms),
    RESTART_TEXT("notify.spool_dir", notify.spool_dir),
    RESTART_TEXT("notify.sms_url", notify.sms_url),
    RESTART_TEXT("notify.sms_token_file", notify.sms_token_file),
    RESTART_TEXT("notify.smtp_url", notify.smtp_url),
    RESTART_TEXT("notify.smtp_from", notify.smtp_from),
    RESTART_TEXT("notify.smtp_user", notify.smtp_user),
    RESTART_TEXT("notify.smtp_password_file", notify.smtp_password_file),
    RESTART_INT("notify.poll_ms", notify.poll_ms),
    RESTART_TEXT("portal.url", portal.url),
    RESTART_TEXT("portal.token_file", portal.token_file),
    RESTART_INT("portal.poll_ms", portal.poll_ms),
};

/* concerns - is key (database.*, log.* or <daemon>.*) one this daemon runs with? */
static bool concerns(const char *key, const char *name)
{
    const char *own = strncmp(name, "motcua-", 7) == 0 ? name + 7 : name;
    size_t n = strcspn(key, ".");
    return (n == 8 && strncmp(key, "database", 8) == 0) || (n == 3 && strncmp(key, "log", 3) == 0) ||
           (strlen(own) == n && strncmp(key, own, n) == 0);
}

/* keep_restart_keys - next gets run's values of the keys a restart applies
 * (strings swapped, so each mc_cfg_t still frees what it holds, and a second
 * call swaps them back); with log, every one that differed and concerns this
 * daemon is logged once */
static void keep_restart_keys(const char *name, mc_cfg_t *run, mc_cfg_t *next, bool log)
{
    for (size_t i = 0; i < sizeof restart_keys / sizeof restart_keys[0]; i++) {
        const restart_key_t *k = &restart_keys[i];
        char *a = (char *)run + k->offset, *b = (char *)next + k->offset;
        bool differs;
        if (k->text) {
            char **sa = (char **)(void *)a, **sb = (char **)(void *)b;
            differs = strcmp(*sa ? *sa : "", *sb ? *sb : "") != 0;
            char *t = *sa; /* each mc_cfg_t still frees the string it holds */
            *sa = *sb;
            *sb = t;
        } else {
            int *ia = (int *)(void *)a, *ib = (int *)(void *)b;
            differs = *ia != *ib;
            *ib = *ia;
        }
        if (log && differs && concerns(k->key, name))
            mc_log(MC_LOG_NOTICE, "reload_ignored", "key=%s reason=restart_needed", k->key);
    }
}

/* unload_next - free what a reload loaded and did not keep */
static void unload_next(mc_daemon_t *next)
{
    if (next->files && next->def->unload)
        next->def->unload(next);
    mc_cfg_destroy(&next->cfg);
}

/* reload_failed - one line with the first problem; nothing changed */
static void reload_failed(const char *file, const mc_err_t *err)
{
    char first[300], reason[340];
    mc_log(MC_LOG_ERR, "reload_failed", "file=%s reason=%s kept=old", file,
           mc_log_quote(mc_err_first(err, first, sizeof first), reason, sizeof reason));
}

/* mc_daemon_keep_cfg - exchange: the skeleton's swap after the hook puts them back */
void mc_daemon_keep_cfg(mc_daemon_t *d, mc_daemon_t *next)
{
    keep_restart_keys(d->def->name, d->cfg, next->cfg, false); /* each its own strings again */
    mc_cfg_t *t = d->cfg;
    d->cfg = next->cfg;
    next->cfg = t;
}

/* reload - SIGHUP: the new configuration loaded, checked, swapped in (or not), old freed after */
static void reload(mc_daemon_t *d)
{
    char msg[96];
    snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%lld",
             (long long)mc_time_mono_ms() * 1000LL);
    notify_now(msg);
    mc_log(MC_LOG_NOTICE, "reloading", "config=%s", d->config_path);
    mc_daemon_t next = {.def = d->def, .loop = d->loop, .stop_fd = -1,
                        .config_path = d->config_path};
    mc_err_t err;
    mc_err_clear(&err);
    const char *file = d->config_path;
    /* a daemon that cannot take new files (no reload, no unload) reloads log.level only */
    bool files = d->def->reload && d->def->unload;
    if (mc_cfg_load(d->config_path, &next.cfg, &err) != 0 ||
        mc_cfg_use_role(next.cfg, d->def->name, &err) != 0 ||
        (files && d->def->load && d->def->load(&next, &err, &file) != 0) ||
        (files && d->def->check && d->def->check(&next, &err, &file) != 0)) {
        reload_failed(file, &err);
        unload_next(&next);
        notify_now("READY=1");
        return;
    }
    keep_restart_keys(d->def->name, d->cfg, next.cfg, true);
    mc_log_level_t level = next.cfg->log_level;
    if (!files) {
        mc_daemon_keep_cfg(d, &next); /* log.level only: the running configuration stays */
    } else if (d->def->reload(d, &next, &err) != 0) {
        keep_restart_keys(d->def->name, d->cfg, next.cfg, false); /* each its own strings */
        reload_failed(file, &err);
        unload_next(&next);
        notify_now("READY=1");
        return;
    }
    /* the running state points at next's now: the old ones are freed after the swap */
    mc_cfg_t *cfg = d->cfg;
    d->cfg = next.cfg;
    next.cfg = cfg;
    if (files) {
        void *old = d->files;
        d->files = next.files;
        next.files = old;
    }
    unload_next(&next);
    mc_log_set_level(level);
    mc_log(MC_LOG_NOTICE, "reloaded", "files=%s log_level=%d", files ? "yes" : "no",
           (int)level);
    notify_now("READY=1");
}

/* on_reload - mc_loop_fn: the reload a SIGHUP asked for, between two handlers */
static int on_reload(mc_loop_t *loop, void *arg)
{
    (void)loop;
    mc_daemon_t *d = arg;
    d->reload_due = false;
    if (!d->stopping)
        reload(d);
    return 0;
}

static _Atomic long counts[MC_COUNTERS]; /* since the last summary, any thread */
static long          totals[MC_COUNTERS]; /* since start (the loop's thread): STATUS */
static _Atomic long  waiting_now = -1;    /* mc_daemon_set_waiting; -1 never set: not shown */
static _Atomic long  store_down_at;       /* wall seconds the store went down, 0 up */

/* mc_daemon_count - one counter up */
void mc_daemon_count(mc_daemon_counter_t which, long n)
{
    if (which >= 0 && which < MC_COUNTERS)
        atomic_fetch_add(&counts[which], n);
}

/* mc_daemon_set_waiting - the backlog now */
void mc_daemon_set_waiting(long waiting)
{
    atomic_store(&waiting_now, waiting);
}

/* mc_daemon_store_down - remember since when (the first down) or forget */
void mc_daemon_store_down(bool down)
{
    if (!down) {
        atomic_store(&store_down_at, 0);
        return;
    }
    long none = 0;
    atomic_compare_exchange_strong(&store_down_at, &none, (long)time(NULL));
}

/* status_now - STATUS= from the totals: "ready: ..." or "store down since ..." */
static void status_now(void)
{
    long waiting = atomic_load(&waiting_now), down = atomic_load(&store_down_at);
    if (down) {
        time_t t = (time_t)down;
        struct tm tm;
        char at[16] = "?";
        if (localtime_r(&t, &tm))
            strftime(at, sizeof at, "%H:%M:%S", &tm);
        if (waiting >= 0)
            mc_daemon_status("store down since %s, %ld waiting", at, waiting);
        else
            mc_daemon_status("store down since %s", at);
        return;
    }
    char tail[40] = "";
    if (waiting >= 0)
        snprintf(tail, sizeof tail, ", %ld waiting", waiting);
    mc_daemon_status("ready: %ld received, %ld routed, %ld sent, %ld errors%s",
                     totals[MC_COUNT_RECEIVED], totals[MC_COUNT_ROUTED], totals[MC_COUNT_SENT],
                     totals[MC_COUNT_ERRORS], tail);
}

/* summary - the counts since the last summary, one line, and STATUS */
static void summary(void)
{
    long c[MC_COUNTERS];
    for (int i = 0; i < MC_COUNTERS; i++) {
        c[i] = atomic_exchange(&counts[i], 0);
        if (i == MC_COUNT_ERRORS) /* every WARNING-or-worse line is a problem counted */
            c[i] += mc_log_take_problems();
        totals[i] += c[i];
    }
    long waiting = atomic_load(&waiting_now);
    char w[24] = "-"; /* "-": this daemon does not know its backlog */
    if (waiting >= 0)
        snprintf(w, sizeof w, "%ld", waiting);
    mc_log(MC_LOG_INFO, "summary", "received=%ld routed=%ld sent=%ld errors=%ld waiting=%s",
           c[MC_COUNT_RECEIVED], c[MC_COUNT_ROUTED], c[MC_COUNT_SENT], c[MC_COUNT_ERRORS], w);
    status_now();
}

/* on_summary - mc_loop_fn of the summary timer */
static int on_summary(mc_loop_t *loop, void *arg)
{
    (void)loop;
    (void)arg;
    summary();
    return 0;
}

/* log_start_failed - one line with the first problem of err */
static void log_start_failed(const mc_err_t *err)
{
    mc_log_error(MC_LOG_ERR, "start_failed", err, NULL);
}

/* serve - signals, start, READY, the loop, STOPPING; the exit status */
static int serve(mc_daemon_t *d)
{
    mc_err_t err;
    mc_err_clear(&err);
    /* before any thread starts: every thread inherits the blocked mask */
    if ((d->stop_fd = mc_daemon_signal_fd()) < 0) {
        mc_log(MC_LOG_ERR, "start_failed", "what=signalfd");
        return 69;
    }
    if (!(d->loop = mc_loop_new()) || mc_loop_add_fd(d->loop, d->stop_fd, on_signal, d) != 0) {
        mc_log(MC_LOG_ERR, "start_failed", "what=loop");
        return 69;
    }
    if (d->def->start(d, &err) != 0) {
        log_start_failed(&err);
        return 69;
    }
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000 &&
        mc_loop_every(d->loop, 0, (int64_t)(usec / 2000), on_watchdog, d) < 0) {
        mc_log(MC_LOG_ERR, "start_failed", "what=watchdog");
        return 69;
    }
    watchdog_ms = (int64_t)(usec / 2000);
    if (mc_loop_every(d->loop, d->cfg->log_summary_ms, d->cfg->log_summary_ms, on_summary,
                      d) < 0) {
        mc_log(MC_LOG_ERR, "start_failed", "what=summary");
        return 69;
    }
    /* the endpoints as bound: a `*` port in the configuration is reported as the one we got */
    char endpoint[300] = "", events[300] = "";
    if (d->endpoint)
        mc_daemon_bound(d->endpoint, endpoint, sizeof endpoint);
    if (d->events)
        mc_daemon_bound(d->events, events, sizeof events);
    char fields[900];
    size_t n = 0;
    fields[0] = '\0';
    if (d->endpoint)
        n += (size_t)snprintf(fields + n, sizeof fields - n, "endpoint=%s ", endpoint);
    if (d->events && n < sizeof fields)
        n += (size_t)snprintf(fields + n, sizeof fields - n, "events=%s ", events);
    if (d->detail[0] && n < sizeof fields)
        snprintf(fields + n, sizeof fields - n, "%s ", d->detail);
    mc_log(MC_LOG_NOTICE, "started", "%sversion=%s pid=%d", fields, mc_version(), (int)getpid());
    const char *reported = d->endpoint ? endpoint : d->events ? events : NULL;
    mc_daemon_ready(d->status, reported, reported ? d->def->role : NULL,
                    d->events ? events : NULL);
    int rc = mc_loop_run(d->loop);
    if (d->def->finish && d->def->finish(d) != 0)
        rc = -1;
    summary(); /* what the last minute did, before the stop */
    sd_notify(0, "STOPPING=1");
    return rc == 0 ? 0 : 1;
}

/* mc_daemon_main - arguments, configuration, then serve */
int mc_daemon_main(int argc, char **argv, const mc_daemon_def_t *def)
{
    const char *config = NULL;
    bool check_only = false;
    int status = parse_args(def, argc, argv, &config, &check_only);
    if (status != MC_DAEMON_CONTINUE)
        return status;
    mc_daemon_t d = {.def = def, .stop_fd = -1, .config_path = config};
    if ((status = load_config(def->name, config, &d.cfg)) != 0)
        return status;
    mc_err_t err;
    mc_err_clear(&err);
    const char *file = config;
    if ((def->load && def->load(&d, &err, &file) != 0) ||
        (check_only && def->check && def->check(&d, &err, &file) != 0)) {
        mc_daemon_config_error(file, &err);
        status = 78;
    } else if (check_only) {
        printf("config ok%s\n", d.check_note);
        status = 0;
    } else {
        status = serve(&d);
    }
    if (def->destroy)
        def->destroy(&d);
    mc_transport_term();
    if (!check_only && status <= 1)
        mc_log(MC_LOG_NOTICE, "stopped", "clean=%s", status == 0 ? "yes" : "no");
    mc_loop_destroy(&d.loop);
    if (d.stop_fd >= 0)
        close(d.stop_fd);
    mc_cfg_destroy(&d.cfg);
    return status;
}
