/*
 * it_stats - `motcua stats` and `motcua notifications failed|retry` against
 * the real intake and a throwaway PostgreSQL: six dossiers handed in, then
 * put in several states with cases for agencies A, B and one whose code
 * needs escaping, and one notification failed for good; the table, JSON and
 * Prometheus outputs give the exact counts (by state, by stage, by agency,
 * by age bucket, per channel, per minute); the Prometheus text passes a
 * small parser of the text format here and `promtool check metrics` when
 * promtool is installed; --output writes atomically; retry requeues once
 * and says so the second time; bad arguments exit 64 with a clear message.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mc_test.h"
#include "mc_transport.h"

#define N_DOSSIERS 6

static harness_t H;                 /* cluster + intake */
static long      ID[N_DOSSIERS];    /* dossier ids, in the order handed in */
static long      FAILED_NOTE;       /* the notification failed for good */
static char      ODD_AGENCY[] = "X\"Y\\Z"; /* an agency code with a quote and a backslash */

/* out_has - does the file DIR/name contain text? (text may hold single quotes) */
static int out_has(const char *name, const char *text)
{
    char quoted[1024];
    size_t n = 0;
    for (const char *p = text; *p && n + 5 < sizeof quoted; p++) {
        if (*p == '\'') {
            memcpy(quoted + n, "'\\''", 4);
            n += 4;
        } else {
            quoted[n++] = *p;
        }
    }
    quoted[n] = '\0';
    return harness_run("grep -qF -- '%s' %s/%s", quoted, H.dir, name) == 0;
}

/* exec_ok - one setup statement; 0 or -1 */
static int exec_ok(const char *sql)
{
    PGresult *res = PQexec(harness_db(&H), sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "exec: %s", PQresultErrorMessage(res));
    PQclear(res);
    return ok ? 0 : -1;
}

/* exec_fmt - exec_ok of a printf-built setup statement (ids and fixed codes only) */
static int exec_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int exec_fmt(const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return exec_ok(sql);
}

/* stats - `motcua ARGS` into DIR/motcua.out; its exit status */
static int motcua(const char *args)
{
    return harness_motcua(&H, args);
}

/* --- the Prometheus text format, checked here ------------------------------- */

/* metric_name_ok - [a-zA-Z_:][a-zA-Z0-9_:]*, n bytes */
static bool metric_name_ok(const char *s, size_t n)
{
    if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
            return false;
    return true;
}

/* sample_ok - one sample line of family (labels well formed, a float value); its series into
 * series (name and labels) */
static bool sample_ok(const char *line, const char *family, char *series, size_t size)
{
    size_t n = strcspn(line, "{ ");
    if (!metric_name_ok(line, n) || strlen(family) != n || strncmp(line, family, n) != 0)
        return false;
    const char *p = line + n;
    if (*p == '{') {
        p++;
        while (*p != '}') {
            size_t ln = strcspn(p, "=");
            if (!metric_name_ok(p, ln) || memchr(p, ':', ln) || p[ln] != '=' || p[ln + 1] != '"')
                return false;
            p += ln + 2;
            while (*p != '"') {
                if (*p == '\0' || *p == '\n')
                    return false;
                if (*p == '\\' && p[1] != '\\' && p[1] != '"' && p[1] != 'n')
                    return false;
                p += *p == '\\' ? 2 : 1;
            }
            p++;
            if (*p == ',')
                p++;
            else if (*p != '}')
                return false;
        }
        p++;
    }
    snprintf(series, size, "%.*s", (int)(p - line), line);
    if (*p != ' ')
        return false;
    char *end = NULL;
    strtod(p + 1, &end);
    return end != p + 1 && (*end == '\n' || *end == '\0');
}

/* prom_check - the file at path is valid text exposition: HELP then TYPE once per family,
 * motcua_* names, samples under their family, no series twice; the problems printed */
static int prom_check(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    static char seen[4096][256];
    static char families[256][96];
    int n_seen = 0, n_families = 0, bad = 0, lineno = 0;
    char line[4096], family[96] = "", helped[96] = "";
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n') {
            printf("  prom: line %d: no newline\n", lineno);
            bad++;
            continue;
        }
        char name[96];
        if (sscanf(line, "# HELP %95s ", name) == 1) {
            bool again = false;
            for (int i = 0; i < n_families; i++)
                again = again || strcmp(families[i], name) == 0;
            if (again || strncmp(name, "motcua_", 7) != 0 || n_families == 256) {
                printf("  prom: line %d: HELP of %s again or not motcua_*\n", lineno, name);
                bad++;
            } else {
                snprintf(families[n_families++], sizeof families[0], "%s", name);
            }
            snprintf(helped, sizeof helped, "%s", name);
            family[0] = '\0';
        } else if (sscanf(line, "# TYPE %95s ", name) == 1) {
            if (strcmp(name, helped) != 0 || strcmp(line + 7 + strlen(name), " gauge\n") != 0) {
                printf("  prom: line %d: TYPE not after its HELP or not a gauge\n", lineno);
                bad++;
            }
            snprintf(family, sizeof family, "%s", name);
        } else if (line[0] == '#') {
            printf("  prom: line %d: unexpected comment\n", lineno);
            bad++;
        } else {
            char series[256];
            if (!family[0] || !sample_ok(line, family, series, sizeof series)) {
                printf("  prom: line %d: bad sample: %s", lineno, line);
                bad++;
                continue;
            }
            for (int i = 0; i < n_seen; i++)
                if (strcmp(seen[i], series) == 0) {
                    printf("  prom: line %d: series twice: %s\n", lineno, series);
                    bad++;
                }
            if (n_seen < 4096)
                snprintf(seen[n_seen++], sizeof seen[0], "%s", series);
        }
    }
    fclose(f);
    return bad == 0 && lineno > 0 ? 0 : -1;
}

/* --- tests ------------------------------------------------------------------ */

MC_TEST(prometheus_gives_exact_counts_and_valid_text)
{
    CHECK_INT(motcua("stats --format prometheus"), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/motcua.out", H.dir);
    CHECK_INT(prom_check(path), 0);
    static const char *const want[] = {
        "motcua_dossiers{state=\"received\"} 1\n",
        "motcua_dossiers{state=\"waiting_supplement\"} 1\n",
        "motcua_dossiers{state=\"in_progress\"} 3\n",
        "motcua_dossiers{state=\"result_ready\"} 1\n",
        "motcua_dossiers{state=\"delivered\"} 0\n",
        "motcua_receipts_per_minute{window=\"1m\"} 5\n",
        "motcua_receipts_per_minute{window=\"15m\"} 0.4\n",
        "motcua_results_per_minute{window=\"1m\"} 1\n",
        "motcua_queue_items{stage=\"dossier\",state=\"unrouted\"} 1\n",
        "motcua_queue_items{stage=\"dossier\",state=\"waiting_documents\"} 1\n",
        "motcua_queue_items{stage=\"case\",state=\"queued\"} 1\n",
        "motcua_queue_items{stage=\"case\",state=\"dead\"} 1\n",
        "motcua_queue_items{stage=\"notification\",state=\"pending\"} 5\n",
        "motcua_queue_items{stage=\"notification\",state=\"failed\"} 1\n",
        "motcua_queue_items_by_age{stage=\"case\",state=\"queued\",age=\"1-4h\"} 1\n",
        "motcua_queue_items_by_age{stage=\"case\",state=\"queued\",age=\"0-1m\"} 0\n",
        "motcua_agency_cases{agency=\"A\",state=\"pending\"} 1\n",
        "motcua_agency_cases{agency=\"A\",state=\"awaiting_result\"} 1\n",
        "motcua_agency_cases{agency=\"B\",state=\"in_flight\"} 1\n",
        "motcua_agency_cases{agency=\"B\",state=\"dead\"} 1\n",
        "motcua_agency_cases{agency=\"X\\\"Y\\\\Z\",state=\"paused\"} 1\n",
        "motcua_agency_backlog{agency=\"A\"} 2\n",
        "motcua_agency_backlog{agency=\"B\"} 1\n",
        "motcua_agency_backlog{agency=\"X\\\"Y\\\\Z\"} 0\n",
        "motcua_agency_backlog_by_age{agency=\"A\",age=\"1-4h\"} 1\n",
        "motcua_agency_backlog_by_age{agency=\"A\",age=\"1-5m\"} 1\n",
        "motcua_agency_backlog_by_age{agency=\"A\",age=\">4h\"} 0\n",
        "motcua_dead_letters{agency=\"B\"} 1\n",
        "motcua_dead_letters{agency=\"A\"} 0\n",
        "motcua_notifications{channel=\"sms\",state=\"failed\"} 1\n",
        "motcua_notifications{channel=\"-\",state=\"pending\"} 5\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        FILE *f = fopen(path, "r");
        REQUIRE(f);
        char line[1024];
        bool found = false;
        while (fgets(line, sizeof line, f) && !found)
            found = strcmp(line, want[i]) == 0;
        fclose(f);
        if (!found)
            printf("  missing: %s", want[i]);
        CHECK(found);
    }
    /* A's oldest backlog case is the queued one of two hours ago */
    CHECK(out_has("motcua.out", "motcua_agency_oldest_age_seconds{agency=\"A\"} 72"));
    if (harness_run("command -v promtool >/dev/null 2>&1") != 0)
        printf("  skip: promtool check metrics (promtool not installed: apt-get install prometheus)\n");
    else
        CHECK_INT(harness_run("promtool check metrics <%s", path), 0);
}

MC_TEST(the_format_checks_can_fail)
{
    /* each file breaks one rule: a raw quote in a label, a sample before its TYPE, a series
     * twice, a name outside motcua_*, a value that is no number */
    static const char *const bad[] = {
        "# HELP motcua_x x.\n# TYPE motcua_x gauge\nmotcua_x{a=\"q\"q\"} 1\n",
        "# HELP motcua_x x.\nmotcua_x 1\n# TYPE motcua_x gauge\n",
        "# HELP motcua_x x.\n# TYPE motcua_x gauge\nmotcua_x{a=\"1\"} 1\nmotcua_x{a=\"1\"} 2\n",
        "# HELP other_x x.\n# TYPE other_x gauge\nother_x 1\n",
        "# HELP motcua_x x.\n# TYPE motcua_x gauge\nmotcua_x 1 2 x\n",
    };
    char path[600];
    snprintf(path, sizeof path, "%s/bad.prom", H.dir);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = fopen(path, "w");
        REQUIRE(f);
        fputs(bad[i], f);
        fclose(f);
        CHECK_INT(prom_check(path), -1);
    }
    /* and promtool refuses the first (a quote inside a label value) */
    if (harness_run("command -v promtool >/dev/null 2>&1") == 0) {
        FILE *f = fopen(path, "w");
        REQUIRE(f);
        fputs(bad[0], f);
        fclose(f);
        CHECK(harness_run("promtool check metrics <%s >/dev/null 2>&1", path) != 0);
    }
}

MC_TEST(json_and_table_give_the_same_counts)
{
    CHECK_INT(motcua("stats --format json"), 0);
    CHECK(out_has("motcua.out", "\"dossiers\":{\"received\":1,\"routed\":0,\"in_progress\":3,"
                                "\"waiting_supplement\":1,\"result_ready\":1,"));
    CHECK(out_has("motcua.out", "\"receipts\":{\"last_minute\":5,\"last_15_minutes\":6}"));
    CHECK(out_has("motcua.out", "\"results\":{\"last_minute\":1,\"last_15_minutes\":1}"));
    CHECK(out_has("motcua.out", "{\"agency\":\"A\",\"backlog\":2,\"pending\":1,\"in_flight\":0,"
                                "\"awaiting_result\":1,\"dead_letters\":0,\"paused\":0,"));
    CHECK(out_has("motcua.out", "\"by_age\":{\"0-1m\":0,\"1-5m\":1,\"5-10m\":0,\"10-30m\":0,"
                                "\"30-60m\":0,\"1-4h\":1,\">4h\":0}"));
    CHECK(out_has("motcua.out", "{\"channel\":\"sms\",\"pending\":0,\"failed\":1}"));
    CHECK_INT(harness_run("python3 -m json.tool %s/motcua.out >/dev/null 2>&1 || ! command -v python3"
                          " >/dev/null", H.dir), 0);
    CHECK_INT(motcua("stats"), 0);
    CHECK(out_has("motcua.out", "Hồ sơ theo trạng thái"));
    CHECK(out_has("motcua.out", "sms          chờ gửi 0, thất bại 1"));
    CHECK(out_has("motcua.out", "Tiếp nhận: 5 trong phút qua, 6 trong 15 phút qua"));
    CHECK_INT(harness_run("grep -E '^in_progress +đang giải quyết +3$|^  in_progress +đang giải quyết +3$'"
                          " %s/motcua.out >/dev/null", H.dir), 0);
}

MC_TEST(output_file_is_written_whole)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "stats --format prometheus --output %s/node/motcua.prom", H.dir);
    CHECK_INT(harness_run("mkdir -p %s/node", H.dir), 0);
    CHECK_INT(motcua(cmd), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/node/motcua.prom", H.dir);
    CHECK_INT(prom_check(path), 0);
    CHECK_INT(harness_run("test \"$(ls %s/node)\" = motcua.prom", H.dir), 0); /* no temp file left */
    CHECK_INT(harness_run("test \"$(stat -c %%a %s)\" = 644", path), 0);
    snprintf(cmd, sizeof cmd, "stats --output %s/missing/dir/motcua.prom", H.dir);
    CHECK_INT(motcua(cmd), 1);
}

MC_TEST(failed_notifications_are_listed_without_personal_data)
{
    CHECK_INT(motcua("notifications failed"), 0);
    char id[32];
    snprintf(id, sizeof id, "%ld", FAILED_NOTE);
    CHECK(out_has("motcua.out", id));
    CHECK(out_has("motcua.out", "http 500"));
    CHECK(out_has("motcua.out", "sms"));
    CHECK(!out_has("motcua.out", "0912345678"));
    CHECK(!out_has("motcua.out", "minh.tran@example.vn"));
    CHECK(!out_has("motcua.out", "Trần Văn Minh"));
    CHECK(!out_has("motcua.out", "sms: http")); /* the class, without the channel prefix */
    CHECK_INT(motcua("notifications failed --format json"), 0);
    CHECK(out_has("motcua.out", "\"count\":1,"));
    CHECK(out_has("motcua.out", "\"channel\":\"sms\",\"attempts\":3,\"error_class\":\"http 500\""));
    CHECK_INT(motcua("notifications failed --channel email --format json"), 0);
    CHECK(out_has("motcua.out", "{\"count\":0,\"failed\":[]}"));
}

MC_TEST(retry_requeues_once_then_says_there_is_nothing_to_do)
{
    char args[96];
    snprintf(args, sizeof args, "notifications retry %ld", FAILED_NOTE);
    CHECK_INT(motcua(args), 0);
    CHECK(out_has("motcua.out", "requeued"));
    char id[32];
    snprintf(id, sizeof id, "%ld", FAILED_NOTE);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification WHERE id = $1::bigint"
                                " AND state = 0 AND attempts = 0", id), 1);
    CHECK_INT(motcua(args), 0);
    CHECK(out_has("motcua.out", "nothing to do"));
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification WHERE state = 2", NULL), 0);
    CHECK_INT(motcua("notifications retry 987654321"), 2);
    CHECK(out_has("motcua.out", "no such notification"));
    /* two failed again, --all-failed takes both, a second time none */
    REQUIRE(exec_fmt("UPDATE notification SET state = 2, attempts = 4 WHERE dossier_id IN (%ld, %ld)",
                     ID[0], ID[1]) == 0);
    CHECK_INT(motcua("notifications retry --all-failed"), 0);
    CHECK(out_has("motcua.out", "2 notification(s) requeued"));
    CHECK_INT(motcua("notifications retry --all-failed"), 0);
    CHECK(out_has("motcua.out", "0 notification(s) requeued"));
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification WHERE state = 2", NULL), 0);
}

MC_TEST(bad_arguments_exit_64_with_a_clear_message)
{
    CHECK_INT(motcua("stats --format xml"), 64);
    CHECK(out_has("motcua.out", "stats: unknown format"));
    CHECK(out_has("motcua.out", "xml' (table, json or prometheus)"));
    CHECK_INT(motcua("notifications failed --format prometheus"), 64);
    CHECK(out_has("motcua.out", "prometheus' (table, json)"));
    CHECK_INT(motcua("stats --frobnicate"), 64);
    CHECK_INT(motcua("stats extra"), 64);
    CHECK_INT(motcua("notifications"), 64);
    CHECK(out_has("motcua.out", "say failed or retry"));
    CHECK_INT(motcua("notifications retry"), 64);
    CHECK_INT(motcua("notifications retry abc"), 64);
    CHECK(out_has("motcua.out", "abc' is not a notification ID"));
    CHECK_INT(motcua("notifications retry 5 --all-failed"), 64);
    CHECK_INT(motcua("stats --help"), 0);
    CHECK(out_has("motcua.out", "--output FILE"));
}

/* hand_in - N_DOSSIERS dossiers through intake; their ids into ID */
static int hand_in(void)
{
    for (int i = 0; i < N_DOSSIERS; i++) {
        harness_dossier_t d;
        char sid[64];
        snprintf(sid, sizeof sid, "it-stats-%04d", i);
        harness_dossier_init(&d, sid);
        Motcua__V1__IntakeReply *r = NULL;
        if (harness_request(&H, &d.request, 10000, &r) != 0 ||
            r->body_case != MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT) {
            if (r)
                motcua__v1__intake_reply__free_unpacked(r, NULL);
            return -1;
        }
        motcua__v1__intake_reply__free_unpacked(r, NULL);
    }
    PGresult *res = PQexec(harness_db(&H), "SELECT id FROM dossier ORDER BY id");
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == N_DOSSIERS;
    for (int i = 0; ok && i < N_DOSSIERS; i++)
        ID[i] = strtol(PQgetvalue(res, i, 0), NULL, 10);
    PQclear(res);
    return ok ? 0 : -1;
}

/* shape - the states the tests count: dossier 0 unrouted, 1 waiting for documents, 2..4 in
 * progress with cases (A queued 2 h ago, A acked 3 min ago, B sent, B dead, the odd agency
 * paused), 5 with its result a moment ago and received 7 minutes ago; dossier 0's notice
 * failed for good on sms after 3 attempts */
static int shape(void)
{
    if (exec_fmt("UPDATE dossier SET state = 4 WHERE id = %ld", ID[1]) != 0 ||
        exec_fmt("UPDATE dossier SET state = 3, department = 'D' WHERE id IN (%ld, %ld, %ld)",
                 ID[2], ID[3], ID[4]) != 0 ||
        exec_fmt("UPDATE dossier SET state = 5, department = 'D', result_at = now(),"
                 " received_at = now() - interval '7 minutes' WHERE id = %ld", ID[5]) != 0)
        return -1;
    const struct {
        int         dossier, step, state;
        const char *agency, *age;
    } cases[] = {
        {2, 1, 1, "A", "2 hours"}, {3, 1, 3, "A", "3 minutes"}, {4, 1, 2, "B", "10 seconds"},
        {2, 2, 5, "B", "1 day"},   {3, 2, 7, NULL, "5 hours"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char agency[32];
        PQescapeStringConn(harness_db(&H), agency, cases[i].agency ? cases[i].agency : ODD_AGENCY,
                           strlen(cases[i].agency ? cases[i].agency : ODD_AGENCY), NULL);
        if (exec_fmt("INSERT INTO agency_case (case_id, dossier_id, step, steps_total, agency, state,"
                     " updated_at) VALUES ('c%zu', %ld, %d, 2, '%s', %d, now() - interval '%s')",
                     i, ID[cases[i].dossier], cases[i].step, agency, cases[i].state, cases[i].age) != 0)
            return -1;
    }
    if (exec_fmt("UPDATE notification SET state = 2, attempts = 3, channel = 'sms',"
                 " last_error = 'sms: http 500' WHERE dossier_id = %ld", ID[0]) != 0 ||
        exec_fmt("INSERT INTO notification_attempt (notification_id, channel, ok, error, finished_at)"
                 " SELECT id, 'sms', false, 'sms: http 500', now() FROM notification"
                 " WHERE dossier_id = %ld", ID[0]) != 0)
        return -1;
    char id[32];
    snprintf(id, sizeof id, "%ld", ID[0]);
    FAILED_NOTE = harness_count(&H, "SELECT id FROM notification WHERE dossier_id = $1::bigint", id);
    return FAILED_NOTE > 0 && harness_count(&H, "SELECT count(*) FROM notification", NULL) ==
                                  N_DOSSIERS ? 0 : -1;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *failed = harness_setup(&H, "stats", 1) != 0 ? "harness"
                         : harness_start_intake(&H) != 0    ? "intake"
                         : hand_in() != 0                   ? "hand in"
                         : shape() != 0                     ? "states"
                                                            : NULL;
    if (failed) {
        printf("  FAIL setup: %s\n", failed);
        mc_test_failed++;
    } else {
        /* the per-minute figures count receipts of the last minute: these run first */
        mc_test_run(prometheus_gives_exact_counts_and_valid_text);
        mc_test_run(json_and_table_give_the_same_counts);
        mc_test_run(output_file_is_written_whole);
        mc_test_run(the_format_checks_can_fail);
        mc_test_run(failed_notifications_are_listed_without_personal_data);
        mc_test_run(retry_requeues_once_then_says_there_is_nothing_to_do);
        mc_test_run(bad_arguments_exit_64_with_a_clear_message);
    }
    mc_transport_term();
    harness_teardown(&H);
    return mc_test_done("it_stats");
}
