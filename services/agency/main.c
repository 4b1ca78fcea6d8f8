/*
 * motcua-agency - the reference partner-agency client and simulator.
 *
 * Usage: motcua-agency [-c FILE] --agency CODE --key FILE.key --server-key FILE.pub
 *                      [--delay-ms N] [--outcomes approved=90,rejected=5,needs_documents=5]
 *                      [--credit N] [--count N] [--drop-first-ack] [--endpoint E]
 *                      [--state-dir DIR] [--extend-days N] [--extend-hold-ms N]
 * (agency_args.c). Connects to lienthong.connect (or --endpoint, repeatable) as a CURVE
 * client with the secret key in --key, and serves until SIGTERM/SIGINT or
 * until --count results have been answered. The signals mean what they mean
 * in every daemon (mc_daemon.h, docs/operations.md): SIGTERM and SIGINT stop
 * after the frame in hand with `event=stopped clean=yes`, SIGHUP is logged
 * (`signal_ignored`) and does not stop. With --state-dir the cases it took
 * survive a crash (agency.h: the journal); without it a warning is logged.
 * Exit codes: 0 done, 64 usage, 78 bad configuration or keys, or the state
 * directory unusable or in use by another motcua-agency, 1 error.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agency.h"
#include "mc_daemon.h"
#include "mc_log.h"
#include "mc_transport.h"
#include "mc_version.h"

/* open_journal - the state directory's journal, or NULL with the memory-only warning; 0 or 78 */
static int open_journal(const char *state_dir, agency_journal_t **journal)
{
    if (!state_dir) {
        mc_log(MC_LOG_WARNING, "memory_only",
               "reason=\"no --state-dir: acked cases are lost if this process dies\"");
        return 0;
    }
    mc_err_t err;
    mc_err_clear(&err);
    if (agency_journal_open(state_dir, journal, &err) == AGENCY_JOURNAL_OK)
        return 0;
    char line[600];
    fprintf(stderr, "motcua-agency: %s\n", mc_err_first(&err, line, sizeof line));
    return 78;
}

int main(int argc, char **argv)
{
    if (mc_version_asked(argc, argv))
        return mc_version_print("motcua-agency");
    agency_args_t a;
    int status = agency_args_parse(argc, argv, &a);
    if (status != AGENCY_ARGS_CONTINUE)
        return status;
    mc_log_init("motcua-agency", MC_LOG_INFO);
    if ((status = agency_args_load(&a)) != AGENCY_ARGS_CONTINUE)
        return status;
    const agency_opts_t *o = &a.opts;
    agency_journal_t *journal = NULL;
    int signal_fd = -1, rc = -1;
    if ((status = open_journal(a.state_dir, &journal)) == 0 &&
        (signal_fd = mc_daemon_signal_fd()) >= 0) { /* before the first socket's threads */
        mc_log(MC_LOG_NOTICE, "started", "agency=%s endpoint=%s hubs=%zu credit=%u delay_ms=%d durable=%s"
               " extend_days=%d extend_hold_ms=%d version=%s pid=%d", o->agency, o->endpoints[0],
               o->n_endpoints, o->credit, o->delay_ms, journal ? "yes" : "no", o->extend_days, o->extend_hold_ms,
               mc_version(), (int)getpid());
        rc = agency_run(o, journal, signal_fd);
    }
    agency_journal_close(&journal);
    explicit_bzero(a.opts.secret_key, sizeof a.opts.secret_key);
    mc_transport_term();
    if (signal_fd >= 0)
        close(signal_fd);
    if (status != 0)
        return status;
    mc_log(MC_LOG_NOTICE, "stopped", "clean=%s", rc == 0 ? "yes" : "no");
    return rc == 0 ? 0 : 1;
}
