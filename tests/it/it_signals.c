/*
 * it_signals - the one meaning of the signals in every daemon (mc_daemon.h,
 * docs/operations.md): SIGHUP does not stop a daemon, it reloads (bracketed
 * by RELOADING=1 with MONOTONIC_USEC and READY=1 on NOTIFY_SOCKET, as
 * systemd reads them; an invalid configuration is logged `reload_failed` and
 * changes nothing), SIGTERM stops it with exit status 0 and
 * `event=stopped clean=yes` as its last line, SIGINT likewise. A daemon at
 * log.level info writes no per-dossier line but its summary with the
 * counts; a reload to debug brings them back.
 * Real daemons, real PostgreSQL; every wait is a bounded poll of a condition.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
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

/* wait_log_count - DIR/log holds at least n lines with text, polled until true or ms pass */
static bool wait_log_count(const char *log, const char *text, int n, int ms)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "test $(grep -cF -- '%s' %s/%s) -ge %d", text, H.dir, log, n);
    int64_t deadline = harness_now_ms() + ms;
    while (system(cmd) != 0) {
        if (harness_now_ms() >= deadline)
            return false;
        usleep(20000);
    }
    return true;
}

/* wait_log - DIR/log contains text, polled until true or ms pass */
static bool wait_log(const char *log, const char *text, int ms)
{
    return wait_log_count(log, text, 1, ms);
}

/* alive - has pid not exited? (reaps it if it has) */
static bool alive(pid_t pid)
{
    int st;
    return waitpid(pid, &st, WNOHANG) == 0;
}

/* wait_notify - read NOTIFY_SOCKET until a datagram holding text comes, or
 * ms pass; the datagram into got */
static bool wait_notify(const char *text, int ms, char *got, size_t size)
{
    int64_t deadline = harness_now_ms() + ms;
    got[0] = '\0';
    while (harness_now_ms() < deadline) {
        struct pollfd p = {H.notify_fd, POLLIN, 0};
        if (poll(&p, 1, 100) != 1)
            continue;
        ssize_t n = recv(H.notify_fd, got, size - 1, 0);
        if (n <= 0)
            continue;
        got[n] = '\0';
        if (strstr(got, text))
            return true;
    }
    return false;
}

/* hup_then_stop - start NAME, HUP it (it reloads and goes on: RELOADING=1
 * then READY=1), then stop it with sig */
static void hup_then_stop(const char *name, int sig)
{
    char log[64], msg[2048];
    snprintf(log, sizeof log, "%s-signals.log", name);
    pid_t pid = harness_start_daemon(&H, name, NULL, log);
    REQUIRE(pid > 0);
    CHECK(kill(pid, SIGHUP) == 0);
    CHECK(wait_notify("RELOADING=1", 10000, msg, sizeof msg));
    CHECK(strstr(msg, "MONOTONIC_USEC=") != NULL); /* systemd >= 253 needs it in the same datagram */
    CHECK(wait_notify("READY=1", 10000, msg, sizeof msg));
    CHECK(wait_log(log, "event=reloaded", 10000));
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

MC_TEST(router_hup_with_an_invalid_routing_keeps_the_old_one_and_serves)
{
    char msg[2048];
    pid_t pid = harness_start_daemon(&H, "router", NULL, "router-invalid.log");
    REQUIRE(pid > 0);
    REQUIRE(harness_run("cp %s/routing.yaml %s/routing.good && echo 'routes: [' > %s/routing.yaml",
                        H.dir, H.dir, H.dir) == 0);
    CHECK(kill(pid, SIGHUP) == 0);
    CHECK(wait_notify("RELOADING=1", 10000, msg, sizeof msg));
    CHECK(wait_notify("READY=1", 10000, msg, sizeof msg)); /* a failed reload is over too */
    CHECK(wait_log("router-invalid.log", "event=reload_failed file=", 10000));
    CHECK(wait_log("router-invalid.log", "kept=old", 0));
    CHECK(!wait_log("router-invalid.log", "event=reloaded", 0));
    CHECK(alive(pid));
    REQUIRE(harness_run("mv %s/routing.good %s/routing.yaml", H.dir, H.dir) == 0);
    CHECK_INT(harness_stop_daemon(pid, SIGTERM), 0);
    CHECK(last_line_has("router-invalid.log", "event=stopped clean=yes"));
}

/* submit_as - one valid dossier through intake as client who; true on a receipt */
static bool submit_as(harness_client_t who, const char *submission_id, int timeout_ms)
{
    harness_dossier_t d;
    harness_dossier_init(&d, submission_id);
    Motcua__V1__IntakeReply *r = NULL;
    if (harness_request_as(&H, who, &d.request, timeout_ms, &r) != 0)
        return false;
    bool ok = r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT;
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    return ok;
}

/* submit_one - one valid dossier as the counter client; true on a receipt */
static bool submit_one(const char *submission_id)
{
    return submit_as(HARNESS_COUNTER, submission_id, 10000);
}

MC_TEST(intake_hup_admits_a_client_added_to_the_registry)
{
    pid_t pid = harness_start_daemon(&H, "intake", NULL, "intake-clients.log");
    REQUIRE(pid > 0);
    /* not registered: the handshake is refused (its request gets no answer) */
    CHECK(!submit_as(HARNESS_STRANGER, "sig-clients-0001", 500));
    CHECK(wait_log("intake-clients.log", "event=client_refused", 10000));
    REQUIRE(harness_run("cp %s/clients.yaml %s/clients.good && echo '  - {code: STRANGER,"
                        " name: \"Quầy mới\", role: counter, wards: [\"00229\"],"
                        " public_key_file: keys/STRANGER.pub}' >> %s/clients.yaml",
                        H.dir, H.dir, H.dir) == 0);
    CHECK(kill(pid, SIGHUP) == 0);
    /* the harness's registry (HARNESS_N_CLIENTS keys but the stranger's, and the
     * token-only HARNESS_WEB) plus the stranger */
    char reloaded[64];
    snprintf(reloaded, sizeof reloaded, "event=clients_reloaded clients=%d", HARNESS_N_CLIENTS + 1);
    CHECK(wait_log("intake-clients.log", reloaded, 10000));
    CHECK(wait_log("intake-clients.log", "event=reloaded", 10000));
    CHECK(submit_as(HARNESS_STRANGER, "sig-clients-0002", 10000));
    CHECK(submit_one("sig-clients-0003")); /* the others still served */
    REQUIRE(harness_run("mv %s/clients.good %s/clients.yaml", H.dir, H.dir) == 0);
    CHECK_INT(harness_stop_daemon(pid, SIGTERM), 0);
    CHECK(last_line_has("intake-clients.log", "event=stopped clean=yes"));
}

/* intake reloads the catalog: a procedure taken out of procedures.yaml is
 * refused from the next request on, and served again once it is back; the
 * process, its clients and its endpoint stay (no restart) */
MC_TEST(intake_hup_reloads_the_catalog)
{
    char config[400], procs[400], from[600], to[600];
    snprintf(procs, sizeof procs, "%s/procedures-reload.yaml", H.dir);
    REQUIRE(harness_run("cp config/procedures.yaml %s", procs) == 0);
    snprintf(config, sizeof config, "%s/catalog.yaml", H.dir);
    snprintf(from, sizeof from, "procedures: %s/config/procedures.yaml", H.repo);
    snprintf(to, sizeof to, "procedures: %s", procs);
    REQUIRE(harness_config_copy(&H, config, from, to) == 0);
    pid_t pid = harness_start_daemon(&H, "intake", config, "intake-catalog.log");
    REQUIRE(pid > 0);
    CHECK(submit_one("sig-catalog-0001"));
    /* the procedure of the test dossier renamed away: unknown from now on */
    REQUIRE(harness_run("sed -i 's/code: \"1.001193\"/code: \"9.999193\"/' %s", procs) == 0);
    CHECK(kill(pid, SIGHUP) == 0);
    CHECK(wait_log("intake-catalog.log", "event=reloaded", 10000));
    CHECK(!submit_one("sig-catalog-0002"));
    REQUIRE(harness_run("sed -i 's/code: \"9.999193\"/code: \"1.001193\"/' %s", procs) == 0);
    CHECK(kill(pid, SIGHUP) == 0);
    CHECK(wait_log_count("intake-catalog.log", "event=reloaded", 2, 10000));
    CHECK(submit_one("sig-catalog-0003"));
    CHECK(alive(pid));
    CHECK_INT(harness_stop_daemon(pid, SIGTERM), 0);
    CHECK(last_line_has("intake-catalog.log", "event=stopped clean=yes"));
}

MC_TEST(info_level_logs_the_summary_not_each_dossier_and_a_reload_brings_debug)
{
    char config[400], msg[2048];
    snprintf(config, sizeof config, "%s/summary.yaml", H.dir);
    REQUIRE(harness_config_copy(&H, config, "log:\n  level: info\n",
                                "log:\n  level: info\n  summary_ms: 300\n") == 0);
    pid_t pid = harness_start_daemon(&H, "intake", config, "intake-summary.log");
    REQUIRE(pid > 0);
    CHECK(submit_one("sig-summary-0001"));
    CHECK(wait_log("intake-summary.log", "event=summary received=1 ", 10000));
    CHECK(!wait_log("intake-summary.log", "event=receipt", 0)); /* per dossier: debug */
    /* log.level is reloaded: debug brings the per-dossier lines back */
    REQUIRE(harness_run("sed -i 's/level: info/level: debug/' %s", config) == 0);
    CHECK(kill(pid, SIGHUP) == 0);
    CHECK(wait_notify("READY=1", 10000, msg, sizeof msg));
    CHECK(wait_log("intake-summary.log", "event=reloaded", 10000));
    CHECK(submit_one("sig-summary-0002"));
    CHECK(wait_log("intake-summary.log", "event=receipt", 10000));
    CHECK_INT(harness_stop_daemon(pid, SIGTERM), 0);
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
        mc_test_run(router_hup_with_an_invalid_routing_keeps_the_old_one_and_serves);
        mc_test_run(intake_hup_admits_a_client_added_to_the_registry);
        mc_test_run(intake_hup_reloads_the_catalog);
        mc_test_run(info_level_logs_the_summary_not_each_dossier_and_a_reload_brings_debug);
    } else {
        printf("  FAIL setup\n");
        mc_test_failed++;
    }
    mc_transport_term();
    harness_teardown(&H);
    return mc_test_done("it_signals");
}
