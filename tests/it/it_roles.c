/*
 * it_roles - least privilege and secrets (issue 9, parts 6 and 7), against
 * a real PostgreSQL and the real daemons.
 *
 * One cluster for the program; the harness gives every daemon its own login
 * role (motcua-intake, ...), a member of the group role migration 0009 made.
 * The checks: each daemon's sessions carry its login role and its
 * application_name; a write outside a role's grants is refused by the
 * server, even after RESET ROLE; a login that is not a member of the role
 * cannot connect as that daemon; a secret file open to others stops the
 * daemon that reads it with the reason; intake cannot touch agency cases
 * but through the two transition functions (migration 0010); the CLI's
 * read-only commands run as motcua_report; `motcua config check` fails on
 * everything a daemon would refuse (an events endpoint off this host among
 * them) and warns on an open bind of intake without CURVE.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mc_states.h"
#include "harness.h"
#include "mc_cfg.h"
#include "mc_test.h"

static harness_t H;          /* the shared cluster */
static char      codes[32][64]; /* agency codes of the shipped agencies.yaml */
static int       n_codes;    /* entries in codes */

/* out_has - does DIR/motcua.out (or another file of DIR) contain text? */
static bool file_has(const char *name, const char *text)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", H.dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, text) != NULL;
}

/* connect_as - a connection made exactly as program's store makes it
 * (mc_cfg_use_role on the generated configuration), with login overriding
 * database.login.<program> when not NULL; NULL if the server refused */
static PGconn *connect_as(const char *program, const char *login, char *why, size_t size)
{
    mc_cfg_t *cfg = NULL;
    mc_err_t err;
    mc_err_clear(&err);
    why[0] = '\0';
    if (mc_cfg_load(H.config, &cfg, &err) != 0) {
        snprintf(why, size, "config: %.400s", err.text);
        return NULL;
    }
    static const char *const keys[MC_DB_PROGRAMS] = {"intake", "router", "lienthong",
                                                     "notify", "report", "portal"};
    if (login) {
        for (int i = 0; i < MC_DB_PROGRAMS; i++)
            if (strcmp(program + strlen("motcua-"), keys[i]) == 0) {
                free(cfg->login[i]);
                cfg->login[i] = strdup(login);
            }
    }
    PGconn *conn = NULL;
    if (mc_cfg_use_role(cfg, program, &err) != 0) {
        snprintf(why, size, "use_role: %.400s", err.text);
    } else {
        conn = PQconnectdb(cfg->conninfo);
        if (PQstatus(conn) != CONNECTION_OK) {
            snprintf(why, size, "%s", PQerrorMessage(conn));
            PQfinish(conn);
            conn = NULL;
        }
    }
    mc_cfg_destroy(&cfg);
    return conn;
}

/* sqlstate_of - run sql on conn; its SQLSTATE ("00000" when it worked) */
static const char *sqlstate_of(PGconn *conn, const char *sql, char *buf, size_t size)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    snprintf(buf, size, "%s", st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? "00000"
                              : state ? state : "?");
    PQclear(res);
    return buf;
}

#define DENIED "42501" /* insufficient_privilege */

MC_TEST(migration_made_nologin_group_roles)
{
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM pg_roles WHERE rolname IN"
                                " ('motcua_intake', 'motcua_router', 'motcua_lienthong',"
                                " 'motcua_notify', 'motcua_report') AND NOT rolcanlogin"
                                " AND NOT rolsuper AND NOT rolcreaterole", NULL), 5);
    /* a second migrate (another database of the cluster, or a rerun) is fine */
    CHECK_INT(harness_motcua(&H, "migrate"), 0);
    /* nobody but the owner creates in the schema */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'motcua%'"
                                " AND has_schema_privilege(oid, 'public', 'CREATE')", NULL), 0);
}

MC_TEST(every_daemon_runs_as_its_role_with_its_application_name)
{
    pid_t router = harness_start_daemon(&H, "router", NULL, "router.log");
    pid_t lienthong = harness_start_daemon(&H, "lienthong", NULL, "lienthong.log");
    pid_t notify = harness_start_daemon(&H, "notify", NULL, "notify.log");
    REQUIRE(router > 0 && lienthong > 0 && notify > 0);
    static const char *const names[] = {"intake", "router", "lienthong", "notify"};
    for (int i = 0; i < 4; i++) {
        char app[64], sql[400];
        snprintf(app, sizeof app, "motcua-%s", names[i]);
        /* each has connected (intake's workers at start, the others' first poll) */
        snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1"
                                  " AND usename = $1 AND pg_has_role(usename, 'motcua_%s', 'MEMBER')",
                 names[i]);
        long n = harness_wait_count(&H, sql, app, 1, 10000);
        if (n < 1)
            printf("  FAIL %s: no session as its role\n", app), mc_test_current_bad++;
        /* and none of its sessions under another user */
        CHECK_INT(harness_count(&H, "SELECT count(*) FROM pg_stat_activity"
                                    " WHERE application_name = $1 AND usename <> $1", app), 0);
    }
    CHECK_INT(harness_stop_daemon(router, SIGTERM), 0);
    CHECK_INT(harness_stop_daemon(lienthong, SIGTERM), 0);
    CHECK_INT(harness_stop_daemon(notify, SIGTERM), 0);
}

MC_TEST(writes_outside_a_roles_grants_are_refused)
{
    char why[512], st[16];
    /* a dossier to aim at */
    harness_dossier_t d;
    harness_dossier_init(&d, "roles-0001");
    Motcua__V1__IntakeReply *reply = NULL;
    REQUIRE(harness_request(&H, &d.request, 5000, &reply) == 0);
    motcua__v1__intake_reply__free_unpacked(reply, NULL);

    PGconn *notify = connect_as("motcua-notify", NULL, why, sizeof why);
    REQUIRE(notify);
    CHECK_STR(sqlstate_of(notify, "UPDATE dossier SET state = " MC_SQL(MC_DOSSIER_RECEIVED), st, sizeof st), DENIED);
    CHECK_STR(sqlstate_of(notify, "SELECT * FROM idempotency_key", st, sizeof st), DENIED);
    CHECK_STR(sqlstate_of(notify, "INSERT INTO dossier_event (dossier_id, at, actor, kind)"
                                  " SELECT id, now(), 'x', 'x' FROM notification LIMIT 1", st,
                          sizeof st), DENIED);
    /* what it needs still works */
    CHECK_STR(sqlstate_of(notify, "SELECT code, payload FROM dossier", st, sizeof st), "00000");
    /* RESET ROLE goes back to the login role, which has nothing of its own */
    CHECK_STR(sqlstate_of(notify, "RESET ROLE", st, sizeof st), "00000");
    CHECK_STR(sqlstate_of(notify, "UPDATE dossier SET state = " MC_SQL(MC_DOSSIER_RECEIVED), st, sizeof st), DENIED);
    PQfinish(notify);

    PGconn *intake = connect_as("motcua-intake", NULL, why, sizeof why);
    REQUIRE(intake);
    CHECK_STR(sqlstate_of(intake, "INSERT INTO agency_case (case_id, dossier_id, step, steps_total,"
                                  " agency) SELECT code || '/9', id, 1, 1, 'X' FROM dossier", st,
                          sizeof st), DENIED);
    CHECK_STR(sqlstate_of(intake, "UPDATE agency_case SET agency = 'X'", st, sizeof st), DENIED);
    /* not even the transitions of a supplement or withdrawal (migration 0010),
     * nor a read: its status answer comes from dossier and dossier_event */
    CHECK_STR(sqlstate_of(intake, "UPDATE agency_case SET state = " MC_SQL(MC_CASE_CANCELLED), st, sizeof st), DENIED);
    CHECK_STR(sqlstate_of(intake, "SELECT count(*) FROM agency_case", st, sizeof st), DENIED);
    CHECK_STR(sqlstate_of(intake, "SELECT state FROM agency_case", st, sizeof st), DENIED);
    /* the functions change only a withdrawn dossier's open steps, a
     * supplemented dossier's paused ones: this dossier is neither */
    PGresult *res = PQexec(intake, "SELECT mc_cases_cancel(id) + mc_cases_resume(id, now())"
                                   " FROM dossier WHERE code IS NOT NULL LIMIT 1");
    CHECK(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
          strcmp(PQgetvalue(res, 0, 0), "0") == 0);
    PQclear(res);
    CHECK_STR(sqlstate_of(intake, "DELETE FROM dossier", st, sizeof st), DENIED);
    CHECK_STR(sqlstate_of(intake, "INSERT INTO dossier_history (dossier_id, until, state,"
                                  " counted_from, due_at) SELECT id, now(), 1, now(), now()"
                                  " FROM dossier", st, sizeof st), DENIED);
    CHECK_STR(sqlstate_of(intake, "CREATE TABLE intruder (x int)", st, sizeof st), DENIED);
    PQfinish(intake);

    PGconn *router = connect_as("motcua-router", NULL, why, sizeof why);
    REQUIRE(router);
    CHECK_STR(sqlstate_of(router, "UPDATE dossier SET payload = ''", st, sizeof st), DENIED);
    CHECK_STR(sqlstate_of(router, "UPDATE notification SET state = " MC_SQL(MC_NOTIFICATION_SENT), st, sizeof st), DENIED);
    CHECK_STR(sqlstate_of(router, "SELECT * FROM mc_reserve_code('a', 'b', 'c', current_date)",
                          st, sizeof st), DENIED);
    CHECK_STR(sqlstate_of(router, "SELECT mc_cases_cancel(1)", st, sizeof st), DENIED);
    PQfinish(router);

    PGconn *lienthong = connect_as("motcua-lienthong", NULL, why, sizeof why);
    REQUIRE(lienthong);
    CHECK_STR(sqlstate_of(lienthong, "UPDATE dossier SET payload = ''", st, sizeof st), DENIED);
    CHECK_STR(sqlstate_of(lienthong, "INSERT INTO rating (dossier_id, level) SELECT id, 1"
                                     " FROM dossier", st, sizeof st), DENIED);
    PQfinish(lienthong);
}

MC_TEST(the_report_role_only_reads)
{
    PGconn *db = harness_db(&H);
    REQUIRE(db);
    PQclear(PQexec(db, "CREATE ROLE reporter LOGIN IN ROLE motcua_report"));
    char conninfo[700], st[16];
    snprintf(conninfo, sizeof conninfo, "%s user=reporter options='-c role=motcua_report'",
             H.conninfo);
    /* the later user= wins over the harness's user=postgres */
    PGconn *r = PQconnectdb(conninfo);
    REQUIRE(PQstatus(r) == CONNECTION_OK);
    CHECK_STR(sqlstate_of(r, "SELECT count(*) FROM dossier_history", st, sizeof st), "00000");
    CHECK_STR(sqlstate_of(r, "SELECT count(*) FROM idempotency_key", st, sizeof st), DENIED);
    CHECK_STR(sqlstate_of(r, "UPDATE dossier SET state = state", st, sizeof st), DENIED);
    CHECK_STR(sqlstate_of(r, "DELETE FROM rating", st, sizeof st), DENIED);
    PQfinish(r);
}

/* report_status - exit status of `motcua report` (this year, JSON) with config */
static int report_status(const char *config)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "-c %s report --from 2026-01-01 --to 2026-12-31 --format json",
             config);
    return harness_motcua(&H, cmd);
}

MC_TEST(the_cli_reads_as_the_report_role)
{
    PGconn *db = harness_db(&H);
    REQUIRE(db);
    CHECK_INT(report_status(H.config), 0);
    /* the harness logs the CLI in as a superuser: only the role taken at
     * connect (motcua_report) can make a grant it lacks matter */
    PQclear(PQexec(db, "REVOKE SELECT ON dossier FROM motcua_report"));
    CHECK_INT(report_status(H.config), 1);
    CHECK(file_has("motcua.out", "permission denied"));
    CHECK_INT(harness_motcua(&H, "overdue"), 1);
    PQclear(PQexec(db, "GRANT SELECT ON dossier TO motcua_report"));
    CHECK_INT(report_status(H.config), 0);
    CHECK_INT(harness_motcua(&H, "overdue"), 0);
    CHECK_INT(harness_motcua(&H, "queues"), 0);
    CHECK_INT(harness_motcua(&H, "deadletters"), 0);
    /* database.login.report names its login; one outside the group is refused */
    PQclear(PQexec(db, "CREATE ROLE outsider LOGIN"));
    char cfg[600];
    snprintf(cfg, sizeof cfg, "%s/report-login.yaml", H.dir);
    REQUIRE(harness_config_copy(&H, cfg, "notify: \"user=motcua-notify\"",
                                "notify: \"user=motcua-notify\", report: \"user=outsider\"") == 0);
    CHECK_INT(report_status(cfg), 1);
    CHECK(file_has("motcua.out", "permission denied to set"));
}

MC_TEST(a_login_outside_the_group_cannot_take_the_role)
{
    PGconn *db = harness_db(&H);
    REQUIRE(db);
    PQclear(PQexec(db, "CREATE ROLE stranger LOGIN"));
    char why[512];
    PGconn *c = connect_as("motcua-notify", "user=stranger", why, sizeof why);
    CHECK(c == NULL);
    CHECK(strstr(why, "permission denied") != NULL);
    if (c)
        PQfinish(c);
}

/* chmod_file - chmod DIR/name */
static int chmod_file(const char *name, mode_t mode)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", H.dir, name);
    return chmod(path, mode);
}

MC_TEST(a_secret_key_open_to_others_stops_lienthong)
{
    REQUIRE(chmod_file("keys/lienthong.key", 0640) == 0);
    const char *args[] = {"-c", H.config, NULL};
    pid_t pid = harness_spawn(&H, "motcua-lienthong", "lienthong-refused.log", args);
    REQUIRE(pid > 0);
    CHECK(harness_wait_exit(&pid, 10000) > 0);
    CHECK(file_has("lienthong-refused.log", "lienthong.key: CURVE secret key is open to its group"));
    /* config check says it too */
    CHECK_INT(harness_motcua(&H, "config check"), 1);
    CHECK(file_has("motcua.out", "chmod 600"));
    REQUIRE(chmod_file("keys/lienthong.key", 0600) == 0);
    CHECK_INT(harness_motcua(&H, "config check"), 0);
    CHECK(file_has("motcua.out", "config ok"));
}

MC_TEST(an_sms_token_open_to_others_stops_notify)
{
    char token[600], cfg[600], to[800];
    snprintf(token, sizeof token, "%s/sms.token", H.dir);
    FILE *f = fopen(token, "w");
    REQUIRE(f);
    fprintf(f, "bí-mật\n");
    fclose(f);
    REQUIRE(chmod(token, 0644) == 0);
    snprintf(cfg, sizeof cfg, "%s/sms.yaml", H.dir);
    snprintf(to, sizeof to, "sms_url: \"http://127.0.0.1:9/sms\"\n  sms_token_file: \"%s\"", token);
    REQUIRE(harness_config_copy(&H, cfg, "sms_url: \"\"", to) == 0);
    const char *args[] = {"-c", cfg, NULL};
    pid_t pid = harness_spawn(&H, "motcua-notify", "notify-refused.log", args);
    REQUIRE(pid > 0);
    CHECK(harness_wait_exit(&pid, 10000) > 0);
    CHECK(file_has("notify-refused.log", "sms token is open to everyone (mode 0644)"));
    char cmd[700];
    snprintf(cmd, sizeof cmd, "-c %s config check", cfg);
    CHECK_INT(harness_motcua(&H, cmd), 1);
    CHECK(file_has("motcua.out", "sms.token: sms token is open to everyone"));
    REQUIRE(chmod(token, 0600) == 0);
    CHECK_INT(harness_motcua(&H, cmd), 0);
}

/* check_refuses - config check of the generated config with FROM replaced by
 * TO in file (DIR/name, written back afterwards) fails and says expect */
static void check_refuses(const char *name, const char *from, const char *to, const char *expect)
{
    char path[600], saved[700];
    snprintf(path, sizeof path, "%s/%s", H.dir, name);
    snprintf(saved, sizeof saved, "%s.saved", path);
    REQUIRE(harness_run("cp %s %s && sed -i 's|%s|%s|' %s", path, saved, from, to, path) == 0);
    int st = harness_motcua(&H, "config check");
    if (st != 1 || !file_has("motcua.out", expect)) {
        printf("  FAIL %s with '%s': exit %d, expected 1 and '%s'\n", name, to, st, expect);
        harness_run("cat %s/motcua.out", H.dir);
        mc_test_current_bad++;
    }
    REQUIRE(harness_run("mv %s %s", saved, path) == 0);
}

MC_TEST(config_check_fails_on_what_a_daemon_refuses)
{
    CHECK_INT(harness_motcua(&H, "config check"), 0);
    /* agencies.yaml naming a key file that is not there (lienthong refuses) */
    check_refuses("agencies.yaml", "keys/THUE.pub", "keys/NONE.pub", "NONE.pub");
    /* notifications.yaml with an unknown placeholder (notify refuses) */
    REQUIRE(harness_run("cp config/notifications.yaml %s/notifications.yaml", H.dir) == 0);
    char to[600];
    snprintf(to, sizeof to, "notifications: %s/notifications.yaml", H.dir);
    char from[600];
    snprintf(from, sizeof from, "notifications: %s/config/notifications.yaml", H.repo);
    REQUIRE(harness_run("sed -i 's|%s|%s|' %s", from, to, H.config) == 0);
    check_refuses("notifications.yaml", "{code}", "{no_such_value}", "motcua-notify refuses");
    /* routing.yaml naming an unknown procedure (router refuses) */
    check_refuses("routing.yaml", "procedure: \"", "procedure: \"9.999", "routing.yaml");
    /* the catalog (every daemon refuses) */
    check_refuses("motcua.yaml", "procedures: ", "procedures: /nonexistent/", "/nonexistent/");
    CHECK_INT(harness_motcua(&H, "config check"), 0);
}

MC_TEST(config_check_refuses_an_events_endpoint_off_this_host)
{
    static const char *const names[] = {"intake-events", "router-events", "lienthong-events"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char from[200];
        snprintf(from, sizeof from, "ipc://[^\"]*/%s", names[i]);
        check_refuses("motcua.yaml", from, "tcp://0.0.0.0:5599", "set events.key_file");
    }
    /* a loopback address stays on this host: accepted */
    char cfg[600], cmd[700];
    snprintf(cfg, sizeof cfg, "%s/loopback.yaml", H.dir);
    REQUIRE(harness_config_copy(&H, cfg, "events_endpoint: \"ipc://",
                                "events_endpoint: \"tcp://127.0.0.1:5599\"\n  #") == 0);
    snprintf(cmd, sizeof cmd, "-c %s config check", cfg);
    CHECK_INT(harness_motcua(&H, cmd), 0);
}

MC_TEST(config_check_warns_on_an_open_bind_without_curve)
{
    char cfg[600], cmd[700];
    /* CURVE on (the harness's intake): any address is fine */
    snprintf(cfg, sizeof cfg, "%s/open.yaml", H.dir);
    /* (with a connect list: a wildcard bind without one is its own warning, it_failover) */
    REQUIRE(harness_config_copy(&H, cfg, "endpoint: \"",
                                "connect: [\"tcp://127.0.0.1:5555\"]\n"
                                "  endpoint: \"tcp://0.0.0.0:5555\"\n  #") == 0);
    snprintf(cmd, sizeof cmd, "-c %s config check", cfg);
    CHECK_INT(harness_motcua(&H, cmd), 0);
    CHECK(!file_has("motcua.out", "warning"));
    /* plaintext: a warning, still exit 0 */
    snprintf(cfg, sizeof cfg, "%s/open-plain.yaml", H.dir);
    REQUIRE(harness_config_copy(&H, cfg, "endpoint: \"",
                                "plaintext: true\n  endpoint: \"tcp://0.0.0.0:5555\"\n  #") == 0);
    snprintf(cmd, sizeof cmd, "-c %s config check", cfg);
    CHECK_INT(harness_motcua(&H, cmd), 0);
    CHECK(file_has("motcua.out", "warning: intake.endpoint tcp://0.0.0.0:5555 is reachable from "
                                 "other hosts without CURVE"));
    CHECK_INT(harness_motcua(&H, "config check"), 0);
    CHECK(!file_has("motcua.out", "warning"));
}

int main(void)
{
    if (harness_setup(&H, "roles", 2) != 0 ||
        harness_pipeline_setup(&H, 200, 16, codes, 32, &n_codes) != 0 ||
        harness_start_intake(&H) != 0) {
        printf("it_roles: setup failed\n");
        harness_teardown(&H);
        printf("it_roles: 0 passed, 1 failed\n");
        return 1;
    }
    mc_test_run(migration_made_nologin_group_roles);
    mc_test_run(every_daemon_runs_as_its_role_with_its_application_name);
    mc_test_run(writes_outside_a_roles_grants_are_refused);
    mc_test_run(the_report_role_only_reads);
    mc_test_run(the_cli_reads_as_the_report_role);
    mc_test_run(a_login_outside_the_group_cannot_take_the_role);
    mc_test_run(a_secret_key_open_to_others_stops_lienthong);
    mc_test_run(an_sms_token_open_to_others_stops_notify);
    mc_test_run(config_check_fails_on_what_a_daemon_refuses);
    mc_test_run(config_check_refuses_an_events_endpoint_off_this_host);
    mc_test_run(config_check_warns_on_an_open_bind_without_curve);
    harness_teardown(&H);
    return mc_test_done("it_roles");
}
