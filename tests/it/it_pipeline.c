/*
 * it_pipeline - the whole pipeline of issue 3, end to end, everything real:
 * a throwaway PostgreSQL, motcua-intake, motcua-router, motcua-lienthong
 * (CURVE keys generated in the test directory), one motcua-agency process
 * per agency listed in config/agencies.yaml (the ward's desks are step 1 of
 * every dossier) and motcua-notify spooling into the test directory.
 *
 * The repository's routing.yaml and agencies.yaml are copied beside the
 * generated motcua.yaml (their default place), so the test runs the
 * shipped routing and agency list: a desk missing from agencies.yaml shows
 * up here as dossiers that never finish.
 *
 * 1. 1,000 generated dossiers (`motcua load`, all 7 procedures, both wards)
 *    with every agency approving: all reach RESULT_READY; inter-agency
 *    dossiers visit their agencies in step order; each has one `received`
 *    and one `result_ready` notice, both sent (one spool file per id); the
 *    online ones were accepted by their desk first (step 0, the `submitted`
 *    notice, the due date counted from acceptance).
 * 2. An agency asks for documents: WAITING_SUPPLEMENT, one notice; the
 *    applicant supplements (`motcua supplement`): IN_PROGRESS, the clock
 *    restarts (docs/pipeline.md), then RESULT_READY.
 * 3. A withdrawal while step 2's agency is offline: WITHDRAWN, later steps
 *    cancelled, and the agency never sees the case after it reconnects.
 * 4. Everything stops cleanly; then every daemon starts again while
 *    PostgreSQL is down, says READY, and once PostgreSQL is back a dossier
 *    goes all the way through (intake and lienthong on the ports they
 *    reported the first time, written into the configuration by the harness).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mc_states.h"
#include "harness.h"
#include "mc_agencies.h"
#include "mc_calendar.h"
#include "mc_catalog.h"
#include "mc_cfg.h"
#include "mc_test.h"
#include "mc_transport.h"

#define MAX_AGENCIES 32
#define N_LOAD       1000

static harness_t H;            /* cluster and intake */
static mc_cfg_t *CFG;          /* the test's configuration (catalog, calendar) */
static char      keys[400];    /* DIR/keys */
static pid_t     router_pid, hub_pid, notify_pid;
static int       n_agencies;
static char      agency_code[MAX_AGENCIES][64]; /* from agencies.yaml, in file order */
static pid_t     agency_pid[MAX_AGENCIES];
static int       agency_runs[MAX_AGENCIES];     /* starts so far: names each run's log */

/* print_rows - every row of a query, tab-separated and indented (diagnostics) */
static void print_rows(const char *title, const char *sql, const char *param)
{
    const char *p[1] = {param};
    PGresult *res = PQexecParams(harness_db(&H), sql, param ? 1 : 0, NULL, p, NULL, NULL, 0);
    printf("  %s\n", title);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        printf("    query failed: %s", PQresultErrorMessage(res));
    } else {
        for (int r = 0; r < PQntuples(res); r++) {
            printf("   ");
            for (int c = 0; c < PQnfields(res); c++)
                printf(" %s", PQgetvalue(res, r, c));
            printf("\n");
        }
    }
    PQclear(res);
}

/* log_has - does DIR/log (a shell glob allowed) contain text? */
static bool log_has(const char *log, const char *text)
{
    return harness_run("grep -qF -- '%s' %s/%s 2>/dev/null", text, H.dir, log) == 0;
}

/* agency_index - position of code in the agency table, -1 if absent */
static int agency_index(const char *code)
{
    for (int i = 0; i < n_agencies; i++)
        if (strcmp(agency_code[i], code) == 0)
            return i;
    return -1;
}

/* start_agency - motcua-agency for agency i with outcomes spec; log agency-CODE-RUN.log */
static pid_t start_agency(int i, const char *outcomes)
{
    char key[500], server[500], log[128];
    snprintf(key, sizeof key, "%s/%s.key", keys, agency_code[i]);
    snprintf(server, sizeof server, "%s/lienthong.pub", keys);
    snprintf(log, sizeof log, "agency-%s-%d.log", agency_code[i], ++agency_runs[i]);
    const char *args[] = {"-c", H.config, "--agency", agency_code[i], "--key", key,
                          "--server-key", server, "--delay-ms", "2", "--credit", "200",
                          "--outcomes", outcomes, NULL};
    agency_pid[i] = harness_spawn(&H, "motcua-agency", log, args);
    return agency_pid[i];
}

/* stop_agency - SIGTERM agency i; its exit status */
static int stop_agency(int i)
{
    int st = harness_stop_daemon(agency_pid[i], SIGTERM);
    agency_pid[i] = 0;
    return st;
}

/* agency_connected - wait until agency i's current run logged event=connected */
static bool agency_connected(int i, int ms)
{
    char log[128];
    snprintf(log, sizeof log, "agency-%s-%d.log", agency_code[i], agency_runs[i]);
    long long deadline = harness_now_ms() + ms;
    while (harness_now_ms() < deadline) {
        if (log_has(log, "event=connected"))
            return true;
        usleep(50000);
    }
    return false;
}

/* submit - hand a dossier to intake; its code into code (64 bytes); 0 on a receipt */
static int submit(harness_dossier_t *d, char *code)
{
    Motcua__V1__IntakeReply *r = NULL;
    if (harness_request(&H, &d->request, 10000, &r) != 0)
        return -1;
    int ok = r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT;
    if (ok)
        snprintf(code, 64, "%s", r->receipt->dossier_code);
    else if (r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION)
        printf("  submit refused: %s %s\n", harness_reason_name(r->rejection->reason),
               r->rejection->field);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    return ok ? 0 : -1;
}

/* spool_has - DIR/spool/<id>.txt exists */
static bool spool_has(const char *id)
{
    char path[400];
    snprintf(path, sizeof path, "%s/spool/%s.txt", H.dir, id);
    return access(path, F_OK) == 0;
}

/* spool_missing - how many notifications selected by sql (ids) have no spool file; -1 on error */
static long spool_missing(const char *sql, const char *param)
{
    const char *p[1] = {param};
    PGresult *res = PQexecParams(harness_db(&H), sql, param ? 1 : 0, NULL, p, NULL, NULL, 0);
    long missing = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        missing = 0;
        for (int r = 0; r < PQntuples(res); r++)
            if (!spool_has(PQgetvalue(res, r, 0))) {
                if (missing < 5)
                    printf("  no spool file for notification %s\n", PQgetvalue(res, r, 0));
                missing++;
            }
    }
    PQclear(res);
    return missing;
}

/*
 * probe_through - hand in d and wait (30 s) until it is RESULT_READY. A test
 * asserting that something did NOT happen (a case not sent, a dossier not
 * moved) asserts after a probe: a dossier handed in later went all the way
 * through the same daemons and agencies, so they got past the point where
 * the unwanted thing would have happened. 0 when it got there.
 */
static int probe_through(harness_dossier_t *d)
{
    char code[64];
    if (submit(d, code) != 0)
        return -1;
    return harness_wait_count(&H, "SELECT state FROM dossier WHERE code = $1", code, MC_DOSSIER_RESULT_READY, 30000) ==
                   MC_DOSSIER_RESULT_READY
               ? 0 : -1;
}

/* stop_all - every agency, notify, lienthong, router and intake, SIGTERM; 0 if each exited 0 */
static int stop_all(void)
{
    int bad = 0;
    for (int i = 0; i < n_agencies; i++)
        if (agency_pid[i] > 0)
            bad += stop_agency(i) != 0;
    bad += harness_stop_daemon(notify_pid, SIGTERM) != 0;
    bad += harness_stop_daemon(hub_pid, SIGTERM) != 0;
    bad += harness_stop_daemon(router_pid, SIGTERM) != 0;
    notify_pid = hub_pid = router_pid = 0;
    bad += harness_signal_intake(&H, SIGTERM) != 0;
    return bad ? -1 : 0;
}

/* --- tests ---------------------------------------------------------------- */

/* the load generator's dossiers */
#define LOAD " d.submission_id LIKE 'load-%'"
#define LOAD_FMT " d.submission_id LIKE 'load-%%'" /* the same inside a printf format */

MC_TEST(thousand_dossiers_reach_result_ready_through_every_agency)
{
    long long t0 = harness_now_ms();
    int st = harness_motcua(&H, "load --rate 0 --count 1000 --clients 16");
    harness_run("sed 's/^/    /' %s/motcua.out | tail -n 3", H.dir);
    CHECK_INT(st, 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier d WHERE" LOAD, NULL), N_LOAD);
    CHECK_INT(harness_count(&H, "SELECT count(DISTINCT procedure_code) FROM dossier d WHERE" LOAD,
                            NULL), 7);
    CHECK_INT(harness_count(&H, "SELECT count(DISTINCT ward_code) FROM dossier d WHERE" LOAD, NULL), 2);
    long long t_in = harness_now_ms();
    long ready = harness_wait_count(&H, "SELECT count(*) FROM dossier d WHERE" LOAD " AND state = " MC_SQL(MC_DOSSIER_RESULT_READY), NULL,
                            N_LOAD, 120000);
    long long t_ready = harness_now_ms();
    printf("  submitted in %.1f s; %ld RESULT_READY after %.1f s more\n", (t_in - t0) / 1000.0,
           ready, (t_ready - t_in) / 1000.0);
    CHECK_INT(ready, N_LOAD);
    if (ready != N_LOAD) {
        print_rows("dossiers by procedure, ward, department, state:",
                   "SELECT procedure_code, ward_code, coalesce(department, '-'), state, count(*)"
                   " FROM dossier d WHERE" LOAD " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4", NULL);
        print_rows("cases not done, by agency, step, state:",
                   "SELECT c.agency, c.step, c.state, count(*) FROM agency_case c JOIN dossier d"
                   " ON d.id = c.dossier_id WHERE" LOAD " AND c.state <> " MC_SQL(MC_CASE_DONE) " GROUP BY 1, 2, 3"
                   " ORDER BY 1, 2, 3", NULL);
    }
    /* every case of every dossier done and approved, nothing dead or resent for good */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case c JOIN dossier d"
                            " ON d.id = c.dossier_id WHERE" LOAD " AND (c.state <> " MC_SQL(MC_CASE_DONE) " OR c.outcome <> " MC_SQL(MC_OUTCOME_APPROVED) ")",
                            NULL), 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier d WHERE" LOAD " AND result_at IS NULL",
                            NULL), 0);
    /* plans: step 1 is the desk routing.yaml names (ward override included) */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case c JOIN dossier d"
                            " ON d.id = c.dossier_id WHERE" LOAD " AND c.step = 1"
                            " AND c.agency <> d.department", NULL), 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier d WHERE" LOAD " AND procedure_code ="
                            " '2.000815' AND ward_code = '00220' AND department <> 'TU_PHAP_CHUNG_THUC'",
                            NULL), 0);
    /* inter-agency dossiers: the plan, the order of step_done events and of first sends */
    static const struct {
        const char *procedure, *chain;
        int steps;
    } inter[] = {{"2.000986", "TU_PHAP,UBND_XA_TUPHAP,CONG_AN_XA,BHXH", 4},
                 {"1.013978", "DIA_CHINH,VPDK_DAT_DAI,THUE", 3}};
    for (size_t k = 0; k < sizeof inter / sizeof inter[0]; k++) {
        const char *proc = inter[k].procedure;
        long n = harness_count(&H, "SELECT count(*) FROM dossier d WHERE" LOAD
                               " AND procedure_code = $1", proc);
        CHECK(n >= N_LOAD / 7);
        char sql[1200];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM dossier d WHERE" LOAD_FMT " AND d.procedure_code = $1 AND"
                 " (SELECT string_agg(c.agency, ',' ORDER BY c.step) FROM agency_case c"
                 "  WHERE c.dossier_id = d.id AND c.step >= 1) IS DISTINCT FROM '%s'",
                 inter[k].chain); /* step 0: an online dossier's acceptance by the desk */
        CHECK_INT(harness_count(&H, sql, proc), 0);
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM dossier d WHERE" LOAD_FMT " AND d.procedure_code = $1 AND"
                 " (SELECT string_agg(e.actor, ',' ORDER BY e.id) FROM dossier_event e"
                 "  WHERE e.dossier_id = d.id AND e.kind = 'step_done') IS DISTINCT FROM '%s'",
                 inter[k].chain);
        CHECK_INT(harness_count(&H, sql, proc), 0);
        /* one first send per step, and one for the acceptance of an online dossier */
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM dossier d WHERE" LOAD_FMT " AND d.procedure_code = $1 AND"
                 " (SELECT count(*) FROM dossier_event e WHERE e.dossier_id = d.id"
                 "  AND e.kind = 'sent_to_agency') <> %d + (d.channel = 2)::int", inter[k].steps);
        CHECK_INT(harness_count(&H, sql, proc), 0);
        /* step k+1 was first sent after step k was done (event ids are commit order per dossier) */
        CHECK_INT(harness_count(&H,
                                "SELECT count(*) FROM dossier_event s JOIN dossier d ON d.id = s.dossier_id"
                                " WHERE" LOAD " AND d.procedure_code = $1 AND s.kind = 'sent_to_agency'"
                                " AND split_part(split_part(s.detail, ' ', 2), '/', 1)::int > 1"
                                " AND NOT EXISTS (SELECT 1 FROM dossier_event p WHERE p.dossier_id = d.id"
                                "  AND p.kind = 'step_done' AND p.id < s.id"
                                "  AND split_part(split_part(p.detail, ' ', 2), '/', 1)::int ="
                                "      split_part(split_part(s.detail, ' ', 2), '/', 1)::int - 1)",
                                proc), 0);
        /* the result came from the last agency */
        const char *last = strrchr(inter[k].chain, ',') + 1;
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM dossier d WHERE" LOAD_FMT " AND d.procedure_code = $1 AND"
                 " (SELECT count(*) FROM dossier_event e WHERE e.dossier_id = d.id"
                 "  AND e.kind = 'result_ready' AND e.actor = '%s') <> 1", last);
        CHECK_INT(harness_count(&H, sql, proc), 0);
    }
    /* BHXH, last of four, was shown the three earlier results each time */
    long bhxh = harness_count(&H, "SELECT count(*) FROM dossier d WHERE" LOAD
                              " AND procedure_code = '2.000986'", NULL);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "test $(cat %s/agency-BHXH-*.log | grep 'event=case_received'"
                              " | grep -c 'step=4/4 previous=3') -eq %ld", H.dir, bhxh);
    CHECK_INT(harness_run("%s", cmd), 0);

    /* online dossiers: accepted by their desk (step 0) before routing, with the
     * submitted notice first and the due date counted from the acceptance */
    long online = harness_count(&H, "SELECT count(*) FROM dossier d WHERE" LOAD " AND channel = 2",
                                NULL);
    CHECK(online > 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier d WHERE" LOAD " AND channel = 2 AND"
                            " (accepted_at IS NULL OR counted_from < accepted_at OR NOT EXISTS"
                            "  (SELECT 1 FROM agency_case c WHERE c.dossier_id = d.id AND c.step = 0"
                            "   AND c.agency = d.department AND c.state = " MC_SQL(MC_CASE_DONE) " AND c.outcome = " MC_SQL(MC_OUTCOME_APPROVED) ")"
                            "  OR (SELECT count(*) FROM notification n WHERE n.dossier_id = d.id"
                            "   AND n.kind = 'submitted') <> 1)", NULL), 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case c JOIN dossier d ON d.id ="
                            " c.dossier_id WHERE" LOAD " AND c.step = 0 AND d.channel <> 2", NULL), 0);

    /* notices: exactly one received and one result_ready per dossier, both sent */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier d WHERE" LOAD " AND"
                            " ((SELECT count(*) FROM notification n WHERE n.dossier_id = d.id"
                            "   AND n.kind = 'received') <> 1 OR"
                            "  (SELECT count(*) FROM notification n WHERE n.dossier_id = d.id"
                            "   AND n.kind = 'result_ready') <> 1)", NULL), 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification n JOIN dossier d"
                            " ON d.id = n.dossier_id WHERE" LOAD, NULL), 2 * N_LOAD + online);
    long sent = harness_wait_count(&H, "SELECT count(*) FROM notification n JOIN dossier d ON d.id = n.dossier_id"
                           " WHERE" LOAD " AND n.state = " MC_SQL(MC_NOTIFICATION_SENT) " AND n.sent_at IS NOT NULL", NULL,
                           2 * N_LOAD + online, 60000);
    printf("  all notices sent %.1f s after the last result\n", (harness_now_ms() - t_ready) / 1000.0);
    CHECK_INT(sent, 2 * N_LOAD + online);
    if (sent != 2 * N_LOAD + online)
        print_rows("notifications by kind, state:",
                   "SELECT n.kind, n.state, count(*), max(n.last_error) FROM notification n"
                   " JOIN dossier d ON d.id = n.dossier_id WHERE" LOAD " GROUP BY 1, 2", NULL);
    CHECK_INT(spool_missing("SELECT n.id FROM notification n JOIN dossier d ON d.id = n.dossier_id"
                            " WHERE" LOAD, NULL), 0);
    /* one spool file per notice, no strays */
    snprintf(cmd, sizeof cmd, "test $(ls %s/spool | grep -c '^[0-9]*\\.txt$') -eq"
                              " $(ls %s/spool | wc -l)", H.dir, H.dir);
    CHECK_INT(harness_run("%s", cmd), 0);
    /* sent exactly once: one successful spool attempt per notice */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification n JOIN dossier d ON d.id = n.dossier_id"
                            " WHERE" LOAD " AND (SELECT count(*) FROM notification_attempt a"
                            " WHERE a.notification_id = n.id AND a.channel = 'spool' AND a.ok) <> 1",
                            NULL), 0);
    /* the daemons are all still up */
    CHECK(kill(router_pid, 0) == 0 && kill(hub_pid, 0) == 0 && kill(notify_pid, 0) == 0 &&
          kill(H.intake_pid, 0) == 0);
}

/* a dossier for procedure 1.009469 (Đăng ký nội quy lao động, VAN_HOA_XA_HOI, 7 working days) */
static void noi_quy_dossier(harness_dossier_t *d, const char *sid)
{
    harness_dossier_init(d, sid);
    d->dossier.procedure_code = (char *)"1.009469";
    d->docs[0].document_type = (char *)"VAN_BAN_DE_NGHI";
    d->docs[0].name = (char *)"Văn bản đề nghị đăng ký nội quy lao động";
    d->docs[1].document_type = (char *)"NOI_QUY_LAO_DONG";
    d->docs[1].name = (char *)"Nội quy lao động";
    d->docs[2].document_type = (char *)"VAN_BAN_GOP_Y_CONG_DOAN";
    d->docs[2].name = (char *)"Văn bản góp ý của tổ chức đại diện người lao động";
    d->docs[2].form = MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_COPY;
}

MC_TEST(needs_documents_then_supplement_restarts_the_clock)
{
    const char *desk = "VAN_HOA_XA_HOI";
    int a = agency_index(desk);
    REQUIRE(a >= 0);
    CHECK_INT(stop_agency(a), 0);
    REQUIRE(start_agency(a, "needs_documents=100") > 0);
    REQUIRE(agency_connected(a, 10000));
    harness_dossier_t d;
    noi_quy_dossier(&d, "pl-supp-0001");
    char code[64], case_id[96];
    REQUIRE(submit(&d, code) == 0);
    snprintf(case_id, sizeof case_id, "%s/1", code);
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM dossier WHERE code = $1 AND state = " MC_SQL(MC_DOSSIER_WAITING_SUPPLEMENT)
                         " AND paused_at IS NOT NULL", code, 1, 20000), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE code = $1"
                            " AND department = 'VAN_HOA_XA_HOI'", code), 1);
    CHECK_INT(harness_count(&H, "SELECT state FROM agency_case WHERE case_id = $1", case_id), MC_CASE_PAUSED);
    const char *supp_sent = "SELECT count(*) FROM notification n JOIN dossier d ON d.id = n.dossier_id"
                            " WHERE d.code = $1 AND n.kind = 'supplement_requested' AND n.state = " MC_SQL(MC_NOTIFICATION_SENT);
    CHECK_INT(harness_wait_count(&H, supp_sent, code, 1, 10000), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification n JOIN dossier d ON d.id = n.dossier_id"
                            " WHERE d.code = $1 AND n.kind = 'supplement_requested'", code), 1);
    CHECK_INT(harness_count(&H, "SELECT jsonb_array_length(n.data->'missing') FROM notification n"
                            " JOIN dossier d ON d.id = n.dossier_id"
                            " WHERE d.code = $1 AND n.kind = 'supplement_requested'", code), 1);
    CHECK_INT(spool_missing("SELECT n.id FROM notification n JOIN dossier d ON d.id = n.dossier_id"
                            " WHERE d.code = $1 AND n.kind = 'supplement_requested'", code), 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification_attempt a JOIN notification n"
                            " ON n.id = a.notification_id JOIN dossier d ON d.id = n.dossier_id"
                            " WHERE d.code = $1 AND n.kind = 'supplement_requested' AND a.ok", code), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id ="
                            " e.dossier_id WHERE d.code = $1 AND e.kind = 'supplement_requested'"
                            " AND e.actor = 'VAN_HOA_XA_HOI'", code), 1);

    /* the desk now approves */
    CHECK_INT(stop_agency(a), 0);
    REQUIRE(start_agency(a, "approved=100") > 0);
    REQUIRE(agency_connected(a, 10000));
    /* a later dossier at the same desk is answered: the reconnected desk has
     * had its chance to (wrongly) take the paused case up again */
    harness_dossier_t probe;
    noi_quy_dossier(&probe, "pl-probe-0001");
    CHECK(probe_through(&probe) == 0);
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", code), MC_DOSSIER_WAITING_SUPPLEMENT); /* still paused */

    /*
     * The applicant comes back three days later: the receipt's clock
     * (counted_from, due_at) is moved back three days, as if the dossier had
     * waited that long (due dates only change across working days, and this
     * test takes seconds). The due date stays in the future, so the router's
     * deadline scan has nothing to say. The supplement must recompute both
     * from its own time (docs/pipeline.md "Supplements and the due date").
     */
    long shifted = harness_count(&H, "UPDATE dossier SET counted_from = counted_from - interval '3 days',"
                                 " due_at = due_at - interval '3 days' WHERE code = $1 AND state = " MC_SQL(MC_DOSSIER_WAITING_SUPPLEMENT)
                                 " RETURNING extract(epoch FROM due_at)::bigint", code);
    REQUIRE(shifted > (long)time(NULL));
    char path[400], args[600];
    snprintf(path, sizeof path, "%s/supplement.yaml", H.dir);
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fprintf(f, "submission_id: \"pl-supp-sid-0001\"\ndossier_code: \"%s\"\n"
               "note: \"Bổ sung giấy tờ theo yêu cầu\"\n"
               "documents:\n  - {type: GIAY_TO_BO_SUNG, name: \"Giấy tờ chứng minh nơi cư trú\","
               " media_type: application/pdf, size: 2048, sha256: \"%064d\","
               " uri: \"https://dvc.example.vn/files/bo-sung.pdf\", form: original, copies: 1}\n",
            code, 42);
    fclose(f);
    snprintf(args, sizeof args, "supplement %s --json", path);
    CHECK_INT(harness_motcua(&H, args), 0);
    CHECK(log_has("motcua.out", "\"state\":\"IN_PROGRESS\""));
    CHECK_INT(harness_wait_count(&H, "SELECT state FROM dossier WHERE code = $1", code, MC_DOSSIER_RESULT_READY, 20000), MC_DOSSIER_RESULT_READY);

    /* IN_PROGRESS came before RESULT_READY: supplemented, sent again, done */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event s JOIN dossier d ON d.id = s.dossier_id"
                            " JOIN dossier_event r ON r.dossier_id = d.id AND r.kind = 'result_ready'"
                            " JOIN dossier_event p ON p.dossier_id = d.id AND p.kind = 'supplement_requested'"
                            " WHERE d.code = $1 AND s.kind = 'supplemented' AND s.actor = 'HARNESS_COUNTER'"
                            " AND p.id < s.id AND s.id < r.id", code), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case WHERE case_id = $1 AND state = " MC_SQL(MC_CASE_DONE)
                            " AND outcome = " MC_SQL(MC_OUTCOME_APPROVED), case_id), 1);
    char log[128];
    snprintf(log, sizeof log, "agency-%s-%d.log", desk, agency_runs[a]);
    char line[200];
    snprintf(line, sizeof line, "case=%s attempt=1", case_id);
    CHECK(log_has(log, line)); /* queued again with attempts 0, delivered afresh */

    /* the due date: mc_calendar_due(supplement time, 7 working days) */
    long at = harness_count(&H, "SELECT extract(epoch FROM e.at)::bigint FROM dossier_event e"
                            " JOIN dossier d ON d.id = e.dossier_id WHERE d.code = $1"
                            " AND e.kind = 'supplemented'", code);
    REQUIRE(at > 0);
    long due = harness_count(&H, "SELECT extract(epoch FROM due_at)::bigint FROM dossier"
                             " WHERE code = $1", code);
    long counted = harness_count(&H, "SELECT extract(epoch FROM counted_from)::bigint FROM dossier"
                                 " WHERE code = $1", code);
    CHECK(due != shifted);
    const mc_procedure_t *p = mc_catalog_find(CFG->catalog, "1.009469");
    REQUIRE(p);
    bool match = false;
    for (long t = at - 1; t <= at + 1 && !match; t++) {
        int64_t cf = 0, du = 0;
        REQUIRE(mc_calendar_due(CFG->calendar, t, p->processing_time, p->time_unit,
                                p->cutoff_minutes, &cf, &du, NULL) == 0);
        match = du == due && cf == counted;
    }
    CHECK(match);
    if (!match)
        printf("  supplemented at %ld: due_at %ld counted_from %ld (shifted due %ld)\n", at, due,
               counted, shifted);
    CHECK_INT(harness_count(&H, "SELECT extract(epoch FROM due_at)::bigint FROM agency_case"
                            " WHERE case_id = $1", case_id), due);
    /* the supplement notice went exactly once; the result notice too */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification n JOIN dossier d ON d.id = n.dossier_id"
                            " WHERE d.code = $1 AND n.kind = 'supplement_requested'", code), 1);
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM notification n JOIN dossier d ON d.id = n.dossier_id"
                         " WHERE d.code = $1 AND n.kind = 'result_ready' AND n.state = " MC_SQL(MC_NOTIFICATION_SENT), code, 1,
                         10000), 1);
    CHECK_INT(spool_missing("SELECT n.id FROM notification n JOIN dossier d ON d.id = n.dossier_id"
                            " WHERE d.code = $1", code), 0);
}

/* a dossier for procedure 1.013978 (DIA_CHINH -> VPDK_DAT_DAI -> THUE) */
static void dat_dai_dossier(harness_dossier_t *d, const char *sid)
{
    harness_dossier_init(d, sid);
    d->dossier.procedure_code = (char *)"1.013978";
    d->docs[0].document_type = (char *)"DON_DANG_KY";
    d->docs[0].name = (char *)"Đơn đăng ký đất đai, tài sản gắn liền với đất";
    d->docs[1].document_type = (char *)"GIAY_TO_NGUON_GOC_DAT";
    d->docs[1].name = (char *)"Giấy tờ về nguồn gốc đất";
    d->docs[1].form = MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_COPY;
    d->dossier.n_documents = 2;
}

MC_TEST(withdraw_while_waiting_for_step_two_cancels_the_rest)
{
    int second = agency_index("VPDK_DAT_DAI");
    REQUIRE(second >= 0);
    CHECK_INT(stop_agency(second), 0);
    harness_dossier_t d;
    dat_dai_dossier(&d, "pl-wd-0001");
    char code[64];
    REQUIRE(submit(&d, code) == 0);
    /* step 1 done at the desk, step 2 queued for nobody */
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM agency_case c JOIN dossier d ON d.id = c.dossier_id"
                         " WHERE d.code = $1 AND ((c.step = 1 AND c.state = " MC_SQL(MC_CASE_DONE) ") OR (c.step = 2 AND"
                         " c.state = " MC_SQL(MC_CASE_QUEUED) ") OR (c.step = 3 AND c.state = " MC_SQL(MC_CASE_PLANNED) "))", code, 3, 20000), 3);
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", code), MC_DOSSIER_IN_PROGRESS);
    /* a later dossier through the hub: it got past queueing step 2 with its agency away */
    harness_dossier_t probe;
    noi_quy_dossier(&probe, "pl-probe-0002");
    CHECK(probe_through(&probe) == 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case c JOIN dossier d ON d.id = c.dossier_id"
                            " WHERE d.code = $1 AND c.step = 2 AND c.state = " MC_SQL(MC_CASE_QUEUED) " AND c.attempts = 0", code), 1);
    char args[300];
    snprintf(args, sizeof args, "withdraw %s --id pl-wd-sid-0001 --reason 'Không còn nhu cầu'", code);
    CHECK_INT(harness_motcua(&H, args), 0);
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", code), MC_DOSSIER_WITHDRAWN);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case c JOIN dossier d ON d.id = c.dossier_id"
                            " WHERE d.code = $1 AND c.step > 1 AND c.state = " MC_SQL(MC_CASE_CANCELLED), code), 2);
    CHECK_INT(harness_count(&H, "SELECT state FROM agency_case WHERE case_id = $1 || '/1'", code), MC_CASE_DONE);
    /* the agency comes back: it must never get the cancelled case */
    REQUIRE(start_agency(second, "approved=100") > 0);
    CHECK(agency_connected(second, 10000));
    /* a later land dossier goes through the same agencies: whatever the hub
     * would have (wrongly) sent them of the cancelled steps went before it */
    dat_dai_dossier(&probe, "pl-probe-0003");
    CHECK(probe_through(&probe) == 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case c JOIN dossier d ON d.id = c.dossier_id"
                            " WHERE d.code = $1 AND c.step > 1 AND c.state = " MC_SQL(MC_CASE_CANCELLED) " AND c.attempts = 0", code), 2);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id = e.dossier_id"
                            " WHERE d.code = $1 AND e.kind = 'sent_to_agency'", code), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id = e.dossier_id"
                            " WHERE d.code = $1 AND e.kind IN ('step_done', 'result_ready')"
                            " AND e.actor <> 'DIA_CHINH'", code), 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id = e.dossier_id"
                            " WHERE d.code = $1 AND e.kind = 'withdrawn'", code), 1);
    CHECK(!log_has("agency-VPDK_DAT_DAI-*.log", code));
    CHECK(!log_has("agency-THUE-*.log", code));
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", code), MC_DOSSIER_WITHDRAWN);
    /* the withdrawal notice went out; the reason stays out of the history */
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM notification n JOIN dossier d ON d.id = n.dossier_id"
                         " WHERE d.code = $1 AND n.kind = 'withdrawn' AND n.state = " MC_SQL(MC_NOTIFICATION_SENT), code, 1, 10000), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id = e.dossier_id"
                            " WHERE d.code = $1 AND e.detail LIKE '%nhu cầu%'", code), 0);
}

MC_TEST(everything_stops_cleanly)
{
    /* every notice is sent before notify stops (the last ones are seconds old) */
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM notification WHERE state <> " MC_SQL(MC_NOTIFICATION_SENT), NULL, 0,
                                 20000), 0);
    CHECK_INT(stop_all(), 0);
    /* nothing dead-lettered or lost along the way */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case WHERE state = " MC_SQL(MC_CASE_DEAD), NULL), 0);
}

MC_TEST(every_daemon_starts_with_postgres_down_and_catches_up)
{
    /* PostgreSQL down (a reboot where the database comes up last): each daemon
     * still starts and says READY, and waits for the store as it does at run
     * time (README, "PostgreSQL down") */
    REQUIRE(harness_pg_stop(&H) == 0);
    REQUIRE(harness_start_intake(&H) == 0);
    REQUIRE((router_pid = harness_start_daemon(&H, "router", NULL, "router-2.log")) > 0);
    REQUIRE((hub_pid = harness_start_daemon(&H, "lienthong", NULL, "lienthong-2.log")) > 0);
    REQUIRE((notify_pid = harness_start_daemon(&H, "notify", NULL, "notify-2.log")) > 0);
    /* router and hub try the store before READY: they said it was not there */
    CHECK(log_has("router-2.log", "event=store_unavailable"));
    CHECK(log_has("lienthong-2.log", "event=store_failed what=connect"));
    for (int i = 0; i < n_agencies; i++)
        REQUIRE(start_agency(i, "approved=100") > 0);
    for (int i = 0; i < n_agencies; i++)
        CHECK(agency_connected(i, 10000));
    REQUIRE(harness_pg_start(&H) == 0);
    /* intake answers "unavailable, retry" until its next reconnect: retry as a client would */
    harness_dossier_t d;
    harness_dossier_init(&d, "pl-pgdown-0001");
    char code[64] = "";
    long long deadline = harness_now_ms() + 20000;
    while (submit(&d, code) != 0 && harness_now_ms() < deadline)
        usleep(100000);
    REQUIRE(code[0]);
    /* routed, through the desk, result ready, both notices sent: every daemon caught up */
    CHECK_INT(harness_wait_count(&H, "SELECT state FROM dossier WHERE code = $1", code, MC_DOSSIER_RESULT_READY, 30000), MC_DOSSIER_RESULT_READY);
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM notification n JOIN dossier d"
                                 " ON d.id = n.dossier_id WHERE d.code = $1 AND n.state = " MC_SQL(MC_NOTIFICATION_SENT)
                                 " AND n.kind IN ('received', 'result_ready')", code, 2, 20000), 2);
    CHECK_INT(stop_all(), 0);
}

/* --- setup ---------------------------------------------------------------- */

/* setup - config, keys, every daemon, every agency */
static int setup(void)
{
    if (harness_setup(&H, "pipeline", 4) != 0)
        return -1;
    if (harness_pipeline_setup(&H, 500, 64, agency_code, MAX_AGENCIES, &n_agencies) != 0)
        return -1;
    snprintf(keys, sizeof keys, "%s/keys", H.dir);
    char path[400];
    snprintf(path, sizeof path, "%s/agencies.yaml", H.dir);
    /* the list we start agencies from is the one lienthong accepts */
    mc_err_t err;
    mc_err_clear(&err);
    mc_agencies_t *ag = NULL;
    if (mc_agencies_load(path, &ag, &err) != 0) {
        printf("  %s", err.text);
        return -1;
    }
    int same = ag->count == (size_t)n_agencies;
    for (int i = 0; same && i < n_agencies; i++)
        same = strcmp(ag->items[i].code, agency_code[i]) == 0;
    mc_agencies_destroy(&ag);
    if (!same)
        return -1;
    if (mc_cfg_load(H.config, &CFG, &err) != 0) {
        printf("  %s", err.text);
        return -1;
    }
    printf("  %d agencies:", n_agencies);
    for (int i = 0; i < n_agencies; i++)
        printf(" %s", agency_code[i]);
    printf("\n");
    if (harness_start_intake(&H) != 0)
        return -1;
    if ((router_pid = harness_start_daemon(&H, "router", NULL, "router.log")) <= 0)
        return -1;
    if ((hub_pid = harness_start_daemon(&H, "lienthong", NULL, "lienthong.log")) <= 0)
        return -1;
    if ((notify_pid = harness_start_daemon(&H, "notify", NULL, "notify.log")) <= 0)
        return -1;
    for (int i = 0; i < n_agencies; i++)
        if (start_agency(i, "approved=100") <= 0)
            return -1;
    for (int i = 0; i < n_agencies; i++)
        if (!agency_connected(i, 10000)) {
            printf("  agency %s did not connect\n", agency_code[i]);
            return -1;
        }
    return 0;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    long long t0 = harness_now_ms();
    if (setup() != 0) {
        printf("  FAIL setup\n");
        harness_run("tail -n 20 %s/*.log %s/motcua.out >&2 2>/dev/null", H.dir, H.dir);
        mc_test_failed++;
    } else {
        mc_test_run(thousand_dossiers_reach_result_ready_through_every_agency);
        mc_test_run(needs_documents_then_supplement_restarts_the_clock);
        mc_test_run(withdraw_while_waiting_for_step_two_cancels_the_rest);
        mc_test_run(everything_stops_cleanly);
        mc_test_run(every_daemon_starts_with_postgres_down_and_catches_up);
    }
    for (int i = 0; i < n_agencies; i++)
        if (agency_pid[i] > 0)
            harness_stop_daemon(agency_pid[i], SIGKILL);
    if (notify_pid > 0)
        harness_stop_daemon(notify_pid, SIGKILL);
    if (hub_pid > 0)
        harness_stop_daemon(hub_pid, SIGKILL);
    if (router_pid > 0)
        harness_stop_daemon(router_pid, SIGKILL);
    mc_cfg_destroy(&CFG);
    mc_transport_term();
    if (mc_test_failed)
        harness_run("grep -hE '^<[0-4]>' %s/*.log 2>/dev/null | head -n 20", H.dir);
    harness_teardown(&H);
    printf("  it_pipeline took %.1f s\n", (harness_now_ms() - t0) / 1000.0);
    return mc_test_done("it_pipeline");
}
