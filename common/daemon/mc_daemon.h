/*
 * mc_daemon - the skeleton of every motcua daemon (after Postfix's
 * trigger_server_main): a daemon's main() is its definition (name, files,
 * handlers) and one call, mc_daemon_main(), which owns
 *   - the command line: [-c FILE] [--check] [-h|--help] (getopt_long);
 *   - the configuration (motcua.yaml, then the daemon's own files through
 *     def->load, and def->check for --check);
 *   - logging (mc_log as the program's name), libsodium;
 *   - the signals, with one meaning in every daemon (docs/operations.md):
 *       SIGTERM, SIGINT  stop gracefully: the unit of work in hand is
 *                        finished and committed (def->stop may drain
 *                        longer), then exit 0 after `event=stopped clean=yes`;
 *       SIGHUP           reload (does NOT stop): RELOADING=1 with
 *                        MONOTONIC_USEC, motcua.yaml read again with the
 *                        daemon's files (def->load, def->check), the keys
 *                        that need a restart kept as they run (each that
 *                        differs logged `reload_ignored key=...`), then
 *                        def->reload swaps the new configuration in and the
 *                        old one is freed after it (def->unload, then the
 *                        old mc_cfg_t); log.level always applies. A
 *                        configuration that fails to load or check, or that
 *                        def->reload refuses, changes nothing: one line
 *                        `reload_failed reason=...`. Then READY=1. Without
 *                        def->reload only log.level is reloaded. The reload
 *                        runs as a loop timer, between two handlers, so
 *                        nothing in hand ever sees its configuration change;
 *       SIGPIPE          ignored.
 *     They are blocked in every thread and read from a signalfd that the
 *     loop watches, so a stop is handled between two units of work.
 *   - sd_notify: READY=1 with the bound endpoints (mc_daemon_ready), STATUS,
 *     WATCHDOG=1 every half $WATCHDOG_USEC from the loop when systemd asks
 *     for it (and from mc_daemon_keepalive / mc_daemon_stopping, which a
 *     long run of work calls between its units, when one is due: a slow but
 *     working store does not starve it), RELOADING=1 / READY=1 around a
 *     reload, STOPPING=1 on the way out;
 *   - a summary every log.summary_ms (a minute) and at the stop: `event=summary
 *     received=.. routed=.. sent=.. errors=.. waiting=..` (INFO) from the
 *     counters the daemon keeps (mc_daemon_count: counts since the last
 *     summary; waiting as it is now), and STATUS= kept current from them
 *     ("ready: ..." or, while mc_daemon_store_down says so, "store down
 *     since HH:MM:SS, N waiting");
 *   - the loop (mc_loop), on which def->start registers the daemon's
 *     sockets, fds and timers; the event bus is mc_events.
 * Exit statuses: 0 clean stop (and --help, --check), 64 usage, 78 bad
 * configuration, 69 cannot start, 71 libsodium cannot start, 1 unclean stop.
 *
 * Contract: nothing here exits; each function returns what main() should
 * do, and mc_daemon_main returns the exit status.
 */
#ifndef MC_DAEMON_H
#define MC_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mc_cfg.h"
#include "mc_err.h"
#include "mc_loop.h"

#define MC_DAEMON_CONTINUE -1 /* mc_daemon_args: go on starting */

typedef struct mc_daemon mc_daemon_t;

/*
 * What a daemon is, for mc_daemon_main. Hooks return 0, or -1 with err set
 * (load and check also name the file they were reading in *file). Any hook
 * may be NULL except start.
 */
typedef struct mc_daemon_def {
    const char *name;       /* program: "motcua-router" (log ident, database role) */
    const char *role;       /* READY's X_MOTCUA_<ROLE>_ENDPOINT ("router"), NULL: none */
    const char *check_help; /* --help's text for --check: "load and check ..." */
    const char *more_help;  /* --help's extra line after --config's, NULL: none */
    int  (*load)(mc_daemon_t *d, mc_err_t *err, const char **file);  /* own files (78) */
    int  (*check)(mc_daemon_t *d, mc_err_t *err, const char **file); /* --check only (78) */
    int  (*start)(mc_daemon_t *d, mc_err_t *err); /* state, sockets, loop handlers (69) */
    void (*stop)(mc_daemon_t *d);    /* SIGTERM/INT: NULL stops the loop at once; else the
                                        daemon drains and calls mc_loop_stop itself */
    int  (*finish)(mc_daemon_t *d);  /* after the loop: settle the work in hand; -1 unclean */
    void (*destroy)(mc_daemon_t *d); /* free what load and start made (also after a failure) */
    int  (*reload)(mc_daemon_t *d, mc_daemon_t *next, mc_err_t *err); /* SIGHUP: next->cfg and
                                        next->files are loaded and checked; point the running
                                        state at them (0) or change nothing (-1). NULL: only
                                        log.level reloads */
    void (*unload)(mc_daemon_t *d);  /* free what load made (d->files), NULL it: the old files
                                        after a reload, the new ones after a failed one */
} mc_daemon_def_t;

/* what a daemon counts for its minute summary (the names of the summary's fields) */
typedef enum mc_daemon_counter {
    MC_COUNT_RECEIVED, /* work taken in (dossiers received, cases claimed, results read) */
    MC_COUNT_ROUTED,   /* work passed on (dossiers routed, cases sent) */
    MC_COUNT_SENT,     /* messages out (notifications, results committed, pushes) */
    MC_COUNT_ERRORS,   /* failures beyond the lines logged at WARNING or worse (those
                          are counted by mc_log and added to the summary's errors) */
    MC_COUNTERS        /* how many */
} mc_daemon_counter_t;

/* one running daemon, as its hooks see it */
struct mc_daemon {
    const mc_daemon_def_t *def;    /* what it is */
    mc_cfg_t              *cfg;    /* motcua.yaml */
    mc_loop_t             *loop;   /* its loop (NULL before start) */
    void                  *files;  /* what load made (the daemon's type) */
    void                  *app;    /* what start made (the daemon's type) */
    const char            *endpoint; /* start: the configured endpoint READY reports, or NULL */
    const char            *events;   /* start: the configured events endpoint, or NULL */
    char                   status[64];      /* start: READY's STATUS text */
    char                   detail[256];     /* start: the `started` line's own fields */
    char                   check_note[64];  /* load/check: said after "config ok" */
    bool                   stopping;        /* SIGTERM or SIGINT came */
    int                    stop_fd;         /* the signalfd */
    const char            *config_path;     /* motcua.yaml as given: what SIGHUP reads again */
    bool                   reload_due;      /* a SIGHUP came: reload after this handler */
};

/* mc_daemon_keepalive - WATCHDOG=1 if one is due (half $WATCHDOG_USEC since
 * the last), never blocking; for a handler that runs many store calls in a
 * row (a backlog drained batch after batch): each call is bounded by
 * database.statement_timeout_ms, the run is not, and a loop that works must
 * not look hung. Cheap when nothing is due or no watchdog is asked for. */
void mc_daemon_keepalive(void);

/* mc_daemon_keep_cfg - in a reload hook: the daemon keeps running on the
 * motcua.yaml it started with (threads hold it) and takes only next's files;
 * next's configuration is freed after the hook instead (log.level still applies) */
void mc_daemon_keep_cfg(mc_daemon_t *d, mc_daemon_t *next);

/* The counters are the process's (one daemon per process), so any module or
 * thread counts without holding the mc_daemon_t. */

/* mc_daemon_count - add n to a counter of the minute summary (thread-safe) */
void mc_daemon_count(mc_daemon_counter_t which, long n);

/* mc_daemon_set_waiting - the work waiting now, for the summary and STATUS
 * (lienthong: cases sent and not yet acknowledged); never set, the summary
 * says waiting=- and STATUS leaves it out */
void mc_daemon_set_waiting(long waiting);

/* mc_daemon_store_down - the store went down (true: STATUS says since when)
 * or came back (false); only the first of several downs is kept */
void mc_daemon_store_down(bool down);

/* mc_daemon_main - run the daemon def describes; returns the exit status */
int mc_daemon_main(int argc, char **argv, const mc_daemon_def_t *def);

/* mc_daemon_stopping - read pending signals without waiting (for a handler
 * in a long run of work); true once SIGTERM or SIGINT came. Also sends
 * WATCHDOG=1 when one is due, so call it between units of a long run. A
 * SIGHUP read here is reloaded when the handler returns (never in the middle
 * of its work: the running state is only swapped between two handlers). */
bool mc_daemon_stopping(mc_daemon_t *d);

/*
 * mc_daemon_signal_fd - the signals' one meaning for a program that runs
 * its own command line (motcua-agency): SIGTERM, SIGINT and SIGHUP blocked
 * in this thread and every thread it starts, SIGPIPE ignored, and a
 * non-blocking signalfd of the three, or -1. Call before any thread starts
 * (before the first ZeroMQ socket); watch it on the loop.
 */
int mc_daemon_signal_fd(void);

/*
 * mc_daemon_signal_read - read every pending signal of fd (mc_daemon_signal_fd):
 * SIGHUP and any other are logged `signal_ignored`; the first SIGTERM or
 * SIGINT is logged `stopping` and sets *stopping. True when this call set it
 * (the caller then stops its loop).
 */
bool mc_daemon_signal_read(int fd, bool *stopping);

/* mc_daemon_signal_read_hup - the same, but a SIGHUP sets *hup (not logged)
 * instead of being ignored; hup NULL: mc_daemon_signal_read */
bool mc_daemon_signal_read_hup(int fd, bool *stopping, bool *hup);

/* mc_daemon_config_error - print every problem of file and log one line */
void mc_daemon_config_error(const char *file, const mc_err_t *err);

/*
 * mc_daemon_bound - the endpoint a bind of the configured endpoint really
 * got (mc_transport_bound: `tcp://127.0.0.1:*` becomes the port the kernel
 * chose), or configured itself if it was not bound. Returns buf.
 */
const char *mc_daemon_bound(const char *configured, char *buf, size_t size);

/*
 * mc_daemon_ready - tell systemd (sd_notify) the daemon serves:
 *     READY=1
 *     STATUS=<status>[ endpoint=<endpoint>]
 *     MAINPID=<pid>
 *     X_MOTCUA_ENDPOINT=<endpoint>              when endpoint is not NULL
 *     X_MOTCUA_<NAME>_ENDPOINT=<endpoint>       when name is not NULL too
 *     X_MOTCUA_EVENTS_ENDPOINT=<events>         when events is not NULL
 * endpoint and events are the bound ones (mc_daemon_bound), so whoever
 * started the daemon with a `*` port learns the real one. A failed notify
 * (no NOTIFY_SOCKET) is not an error.
 */
void mc_daemon_ready(const char *status, const char *endpoint, const char *name,
                     const char *events);

/*
 * mc_daemon_status - "STATUS=<text>" to $NOTIFY_SOCKET without ever
 * blocking: sd_notify() sends on a blocking datagram socket, so a
 * supervisor that does not read (a full queue) would stall the daemon's
 * loop. A status that cannot leave at once is dropped (it is advisory; the
 * next one replaces it). Returns 0 sent, 1 dropped or no socket, -1 error.
 */
int mc_daemon_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * mc_daemon_backoff_ms - the wait before retrying after the attempts-th
 * failure: initial_ms (1 when <= 0) doubled for each earlier failure, never
 * above max_ms. One formula for every daemon's retries (notify's deliveries,
 * portal's pushes); each daemon decides with its own keys.
 */
int mc_daemon_backoff_ms(int initial_ms, int max_ms, int attempts);

#endif
