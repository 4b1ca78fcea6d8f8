/*
 * mc_daemon - what every motcua daemon does before its own work: the
 * command line ([-c FILE] [--check] [--help]), the configuration, and the
 * signals that stop it.
 *
 * Contract: nothing here exits; each function returns what main() should
 * do. Signals (TERM, INT, HUP) are blocked in every thread and delivered
 * through a descriptor the daemon polls beside its sockets, so a stop
 * request is handled between two units of work, never inside one.
 */
#ifndef MC_DAEMON_H
#define MC_DAEMON_H

#include <stdbool.h>
#include <stdio.h>

#include "mc_cfg.h"
#include "mc_err.h"

#define MC_DAEMON_CONTINUE -1 /* mc_daemon_args: go on starting */

/*
 * mc_daemon_args - parse the daemon's command line. Returns
 * MC_DAEMON_CONTINUE with *config (default mc_cfg_default_path()) and
 * *check_only set, or an exit status: 0 after --help, 64 on a usage error.
 * usage prints the daemon's help to the given stream.
 */
int mc_daemon_args(const char *name, void (*usage)(FILE *), int argc, char **argv,
                   const char **config, bool *check_only);

/* mc_daemon_config - start logging as name, initialise libsodium (SHA-256 of
 * requests) and load the configuration; 0, 71 (EX_OSERR) if libsodium cannot
 * start, or 78 (EX_CONFIG) after printing and logging every problem */
int mc_daemon_config(const char *name, const char *config, mc_cfg_t **cfg);

/* mc_daemon_config_error - print every problem of file and log one line */
void mc_daemon_config_error(const char *file, const mc_err_t *err);

/* mc_daemon_stop_fd - block TERM/INT/HUP everywhere, ignore PIPE; a signalfd or -1 */
int mc_daemon_stop_fd(void);

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
