/*
 * it_signals - the one meaning of the signals in every daemon (mc_daemon.h,
 * docs/operations.md): SIGHUP does not stop a daemon (it is logged as
 * signal_ignored and the daemon keeps serving), SIGTERM stops it with exit
 * status 0 and `event=stopped clean=yes` as its last line, SIGINT likewise.
 * Real daemons, real PostgreSQL; every wait is a bounded poll of a condition.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "mc_test.h"
#include "mc_transport.h"

static harness_t H;

/* last_line_has - does the last line of DIR/log contain text? */
static bool last_line_has(const char *log, const char *text)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "tail -n 1 %s/%s | grep -qF -- '%s'", H.dir, log, text);
    return system(cmd) == 0;
}

/* wait_log - DIR/log contains text, polled until true or ms pass */
static bool wait_log(const char *log, const char *text, int ms)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "grep -qF -- '%s' %s/%s", text, H.dir, log);
    int64_t deadline = harness_now_ms() + ms;
    while (system(cmd) != 0) {
        if (harness_now_ms() >= deadline)
            return false;
        usleep(20000);
    }
    return true;
}

/* alive - has pid not exited? (reaps it if it has) */
static bool alive(pid_t pid)
{
    int st;
    return waitpid(pid, &st, WNOHANG) == 0;
}

/* hup_then_stop - start NAME, HUP it (it goes on), then stop it with sig */
static void hup_then_stop(const char *name, int sig)
{
    char log[64];
    snprintf(log, sizeof log, "%s-signals.log", name);
    pid_t pid = harness_start_daemon(&H, name, NULL, log);
    REQUIRE(pid > 0);
    CHECK(kill(pid, SIGHUP) == 0);
    CHECK(wait_log(log, "event=signal_ignored signal=1", 10000));
    CHECK(alive(pid));
    CHECK(!wait_log(log, "event=stopping", 0)); /* HUP began no stop */
    CHECK_INT(harness_stop_daemon(pid, sig), 0);
    CHECK(wait_log(log, "event=stopping signal=", 1000));
    CHECK(last_line_has(log, "event=stopped clean=yes"));
}

MC_TEST(router_hup_goes_on_term_stops_cleanly)
{
    hup_then_stop("router", SIGTERM);
}

MC_TEST(notify_hup_goes_on_term_stops_cleanly)
{
    hup_then_stop("notify", SIGTERM);
}

MC_TEST(portal_hup_goes_on_int_stops_cleanly)
{
    hup_then_stop("portal", SIGINT);
}

MC_TEST(intake_hup_goes_on_term_stops_cleanly)
{
    hup_then_stop("intake", SIGTERM);
}

/* setup - harness, a router section and the routing table */
static int setup(void)
{
    if (harness_setup(&H, "signals", 2) != 0 ||
        harness_config_append(&H, "router:\n  events_endpoint: \"ipc://%s/router-events\"\n",
                              H.dir) != 0)
        return -1;
    /* the shipped routing table, beside the config (files.routing's default) */
    return harness_run("cp config/routing.yaml %s/routing.yaml", H.dir);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (setup() == 0) {
        mc_test_run(router_hup_goes_on_term_stops_cleanly);
        mc_test_run(notify_hup_goes_on_term_stops_cleanly);
        mc_test_run(portal_hup_goes_on_int_stops_cleanly);
        mc_test_run(intake_hup_goes_on_term_stops_cleanly);
    } else {
        printf("  FAIL setup\n");
        mc_test_failed++;
    }
    mc_transport_term();
    harness_teardown(&H);
    return mc_test_done("it_signals");
}
