/*
 * it_acceptance - online dossiers wait for the desk's acceptance (issue 12
 * point 1, Nghị định 118/2025 Điều 17 khoản 2-3; docs/rules.md "Online
 * acceptance"), end to end over the real daemons: a throwaway PostgreSQL,
 * motcua-intake, motcua-router, motcua-lienthong, motcua-notify and the
 * desk played by motcua-agency (TU_PHAP, the desk of procedure 1.001193,
 * which has no partner steps), started per test with the outcome it needs.
 *
 * 1. An online dossier: the Receipt says PENDING_ACCEPTANCE, no due date,
 *    accept_due_at = 8 working hours later; a replay is byte for byte the
 *    same; the router gives it the acceptance case "<code>/0" for the desk;
 *    the desk accepts it: RECEIVED with a due date counted from acceptance,
 *    the received notice, routed, result.
 * 2. The desk asks for more: WAITING_SUPPLEMENT; the applicant supplements:
 *    PENDING_ACCEPTANCE again with a new deadline and a new revision of the
 *    acceptance case; the desk accepts: result.
 * 3. The desk refuses: REFUSED with the refusal notice.
 * 4. Nobody answers: past accept_due_at (moved into the past by SQL) the
 *    router flags it once (`acceptance_overdue`), `motcua overdue` lists it,
 *    `motcua queues` counts it; a withdrawal cancels the acceptance case.
 * 5. A counter (direct) dossier is unchanged: RECEIVED with its due date.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mc_states.h"
#include "harness.h"
#include "mc_calendar.h"
#include "mc_catalog.h"
#include "mc_cfg.h"
#include "mc_test.h"
#include "mc_transport.h"

#define DESK      "TU_PHAP"  /* the desk of 1.001193 in config/routing.yaml */
#define PROCEDURE "1.001193" /* khai sinh: desk only, 0 working days */
#define MAX_AGENCIES 32

static harness_t H;              /* cluster and intake */
static mc_cfg_t *CFG;            /* the test's configuration (catalog, calendar) */
static char      keys[400];      /* DIR/keys */
static pid_t     router_pid, hub_pid, notify_pid, desk_pid;
static int       desk_runs;      /* desk starts so far: names each run's log */

/* log_has - does DIR/log contain text? */
static bool log_has(const char *log, const char *text)
{
    return harness_run("grep -qF -- '%s' %s/%s 2>/dev/null", text, H.dir, log) == 0;
}

/* start_desk - motcua-agency as the desk with outcomes; waits for its connection */
static int start_desk(const char *outcomes)
{
    char key[500], server[500], log[128];
    snprintf(key, sizeof key, "%s/%s.key", keys, DESK);
    snprintf(server, sizeof server, "%s/lienthong.pub", keys);
    snprintf(log, sizeof log, "desk-%d.log", ++desk_runs);
    const char *args[] = {"-c", H.config, "--agency", DESK, "--key", key, "--server-key", server,
                          "--delay-ms", "2", "--outcomes", outcomes, NULL};
    desk_pid = harness_spawn(&H, "motcua-agency", log, args);
    if (desk_pid <= 0)
        return -1;
    long long deadline = harness_now_ms() + 10000;
    while (harness_now_ms() < deadline) {
        if (log_has(log, "event=connected"))
            return 0;
        usleep(50000);
    }
    return -1;
}

/* stop_desk - SIGTERM the desk; its exit status */
static int stop_desk(void)
{
    int st = desk_pid > 0 ? harness_stop_daemon(desk_pid, SIGTERM) : 0;
    desk_pid = 0;
    return st;
}

/* online - a valid online dossier (the harness's, channel online) */
static void online(harness_dossier_t *d, const char *sid)
{
    harness_dossier_init(d, sid);
    d->dossier.channel = MOTCUA__V1__CHANNEL__CHANNEL_ONLINE;
}

/* submit - hand d to intake; *out gets the reply (free it), 0 on a receipt */
static int submit(harness_dossier_t *d, Motcua__V1__IntakeReply **out)
{
    *out = NULL;
    if (harness_request(&H, &d->request, 10000, out) != 0)
        return -1;
    return (*out)->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT ? 0 : -1;
}

/* submit_code - hand d in, keep only its code (64 bytes); 0 on a receipt */
static int submit_code(harness_dossier_t *d, char *code)
{
    Motcua__V1__IntakeReply *r = NULL;
    int rc = submit(d, &r);
    if (rc == 0)
        snprintf(code, 64, "%s", r->receipt->dossier_code);
    if (r)
        motcua__v1__intake_reply__free_unpacked(r, NULL);
    return rc;
}

/* events - how many events of kind the dossier has */
static long events(const char *code, const char *kind)
{
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id ="
                              " e.dossier_id WHERE d.code = $1 AND e.kind = '%s'", kind);
    return harness_count(&H, sql, code);
}

/* notices - how many notifications of kind the dossier has */
static long notices(const char *code, const char *kind)
{
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM notification n JOIN dossier d ON d.id ="
                              " n.dossier_id WHERE d.code = $1 AND n.kind = '%s'", kind);
    return harness_count(&H, sql, code);
}

/* epoch - an epoch-seconds column of the dossier (0 when NULL) */
static long epoch(const char *code, const char *column)
{
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT coalesce(extract(epoch FROM %s)::bigint, 0) FROM dossier"
                              " WHERE code = $1", column);
    return harness_count(&H, sql, code);
}

/* accepted_in_order - the dossier was accepted, and its processing time counts
 * from the acceptance by the procedure's rule (mc_calendar_due at accepted_at) */
static bool accepted_in_order(const char *code)
{
    long accepted = epoch(code, "accepted_at"), counted = epoch(code, "counted_from");
    long due = epoch(code, "due_at");
    const mc_procedure_t *p = mc_catalog_find(CFG->catalog, PROCEDURE);
    int64_t cf = 0, du = 0;
    if (!p || accepted <= 0 || mc_calendar_due(CFG->calendar, accepted, p->processing_time,
                                               p->time_unit, p->cutoff_minutes, &cf, &du, NULL) != 0)
        return false;
    if (counted < accepted || cf != counted || du != due) {
        printf("  %s: accepted %ld counted_from %ld due %ld, expected %lld / %lld\n", code, accepted,
               counted, due, (long long)cf, (long long)du);
        return false;
    }
    return true;
}

/* write_supplement - DIR/supplement-<sid>.yaml for code; its path in path (400 bytes) */
static int write_supplement(const char *code, const char *sid, char *path)
{
    snprintf(path, 400, "%s/supplement-%s.yaml", H.dir, sid);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "submission_id: \"%s\"\ndossier_code: \"%s\"\n"
               "documents:\n  - {type: GIAY_TO_BO_SUNG, name: \"Giấy chứng sinh bản chính\","
               " media_type: application/pdf, size: 2048, sha256: \"%064d\","
               " uri: \"https://dvc.example.vn/files/bo-sung.pdf\", form: original, copies: 1}\n",
            sid, code, 7);
    return fclose(f) == 0 ? 0 : -1;
}

/* --- tests ---------------------------------------------------------------- */

MC_TEST(online_dossier_is_accepted_and_its_time_counts_from_acceptance)
{
    harness_dossier_t d;
    online(&d, "acc-ok-0001");
    Motcua__V1__IntakeReply *r = NULL;
    int64_t before = (int64_t)time(NULL);
    REQUIRE(submit(&d, &r) == 0);
    const Motcua__V1__Receipt *rc = r->receipt;
    char code[64];
    snprintf(code, sizeof code, "%s", rc->dossier_code);
    CHECK_INT(rc->state, MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_PENDING_ACCEPTANCE);
    CHECK_INT(rc->due_at, 0);
    CHECK_INT(rc->counted_from, 0);
    CHECK_STR(rc->due_text, "");
    CHECK(rc->accept_due_text && rc->accept_due_text[0]);
    CHECK(rc->secret && strlen(rc->secret) == 36);
    /* 8 working hours from the receipt, by the calendar */
    int64_t cf = 0, due8 = 0;
    REQUIRE(mc_calendar_due(CFG->calendar, rc->received_at, 8, MC_TIME_WORKING_HOURS, -1, &cf, &due8,
                            NULL) == 0);
    CHECK_INT(rc->accept_due_at, due8);
    CHECK(rc->accept_due_at > before);
    /* the replay is the same bytes */
    size_t n1 = motcua__v1__intake_reply__get_packed_size(r);
    uint8_t *b1 = malloc(n1);
    REQUIRE(b1);
    motcua__v1__intake_reply__pack(r, b1);
    Motcua__V1__IntakeReply *again = NULL;
    CHECK(submit(&d, &again) == 0);
    if (again) {
        size_t n2 = motcua__v1__intake_reply__get_packed_size(again);
        uint8_t *b2 = malloc(n2);
        if (b2) {
            motcua__v1__intake_reply__pack(again, b2);
            CHECK(n1 == n2 && memcmp(b1, b2, n1) == 0);
        }
        free(b2);
        motcua__v1__intake_reply__free_unpacked(again, NULL);
    }
    free(b1);
    motcua__v1__intake_reply__free_unpacked(r, NULL);

    /* stored pending: no due date, the first event and notice are `submitted` */
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", code), MC_DOSSIER_PENDING_ACCEPTANCE);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE code = $1 AND due_at IS NULL"
                            " AND counted_from IS NULL AND accepted_at IS NULL", code), 1);
    CHECK_INT(epoch(code, "accept_due_at"), due8);
    CHECK_INT(events(code, "submitted"), 1);
    CHECK_INT(events(code, "received"), 0);
    CHECK_INT(notices(code, "submitted"), 1);
    CHECK_INT(notices(code, "received"), 0);
    /* the submitted notice went out with the deadline and the secret */
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM notification n JOIN dossier d ON d.id ="
                                 " n.dossier_id WHERE d.code = $1 AND n.kind = 'submitted'"
                                 " AND n.state = " MC_SQL(MC_NOTIFICATION_SENT), code, 1, 15000), 1);
    CHECK_INT(harness_run("grep -qF 'chờ tiếp nhận' $(grep -lF '%s' %s/spool/*.txt)", code, H.dir), 0);

    /* the router gives it the acceptance case for the desk, due at the deadline */
    char case_id[96];
    snprintf(case_id, sizeof case_id, "%s/0", code);
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM agency_case WHERE case_id = $1"
                                 " AND step = 0 AND agency = '" DESK "' AND state IN (" MC_SQL_CASE_OPEN ")",
                                 case_id, 1, 15000), 1);
    CHECK_INT(harness_count(&H, "SELECT extract(epoch FROM due_at)::bigint FROM agency_case"
                            " WHERE case_id = $1", case_id), due8);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case c JOIN dossier d ON d.id ="
                            " c.dossier_id WHERE d.code = $1", code), 1); /* not routed yet */

    /* the desk accepts: RECEIVED from then on, routed, decided */
    REQUIRE(start_desk("approved=100") == 0);
    CHECK_INT(harness_wait_count(&H, "SELECT state FROM dossier WHERE code = $1", code, MC_DOSSIER_RESULT_READY, 20000), MC_DOSSIER_RESULT_READY);
    CHECK(accepted_in_order(code));
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case WHERE case_id = $1 AND state = " MC_SQL(MC_CASE_DONE)
                            " AND outcome = " MC_SQL(MC_OUTCOME_APPROVED), case_id), 1);
    char line[200];
    snprintf(line, sizeof line, "case=%s attempt=1 revision=1 step=0/0", case_id);
    CHECK(log_has("desk-1.log", line));
    CHECK(log_has("desk-1.log", "kind=acceptance"));
    CHECK_INT(events(code, "accepted"), 1);
    CHECK_INT(events(code, "routed"), 1);
    /* history order: submitted < accepted < routed < result_ready */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier d"
                            " JOIN dossier_event s ON s.dossier_id = d.id AND s.kind = 'submitted'"
                            " JOIN dossier_event a ON a.dossier_id = d.id AND a.kind = 'accepted'"
                            " JOIN dossier_event t ON t.dossier_id = d.id AND t.kind = 'routed'"
                            " JOIN dossier_event x ON x.dossier_id = d.id AND x.kind = 'result_ready'"
                            " WHERE d.code = $1 AND s.id < a.id AND a.id < t.id AND t.id < x.id",
                            code), 1);
    /* the receipt notice with the due date came at acceptance */
    CHECK_INT(notices(code, "received"), 1);
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM notification n JOIN dossier d ON d.id ="
                                 " n.dossier_id WHERE d.code = $1 AND n.kind = 'received'"
                                 " AND n.state = " MC_SQL(MC_NOTIFICATION_SENT), code, 1, 15000), 1);
    /* the processing step 1 is the desk's, due at the dossier's due date */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case c JOIN dossier d ON d.id ="
                            " c.dossier_id WHERE d.code = $1 AND c.step = 1 AND c.due_at = d.due_at"
                            " AND c.agency = '" DESK "'", code), 1);
    /* the status query shows the due date now */
    char args[200];
    snprintf(args, sizeof args, "status %s --json", code);
    CHECK_INT(harness_motcua(&H, args), 0);
    CHECK(log_has("motcua.out", "RESULT_READY"));
}

MC_TEST(desk_asks_for_more_then_the_supplement_comes_back_for_acceptance)
{
    CHECK_INT(stop_desk(), 0);
    REQUIRE(start_desk("needs_documents=100") == 0);
    harness_dossier_t d;
    online(&d, "acc-more-0001");
    char code[64], case_id[96];
    REQUIRE(submit_code(&d, code) == 0);
    snprintf(case_id, sizeof case_id, "%s/0", code);
    CHECK_INT(harness_wait_count(&H, "SELECT state FROM dossier WHERE code = $1", code, MC_DOSSIER_WAITING_SUPPLEMENT, 20000), MC_DOSSIER_WAITING_SUPPLEMENT);
    CHECK_INT(harness_count(&H, "SELECT state FROM agency_case WHERE case_id = $1", case_id), MC_CASE_PAUSED);
    CHECK_INT(events(code, "supplement_requested"), 1);
    CHECK_INT(notices(code, "supplement_requested"), 1);
    CHECK_INT(epoch(code, "due_at"), 0);
    CHECK_INT(stop_desk(), 0);

    /* the applicant supplements: pending again, a new deadline from now */
    char path[400], args[600];
    REQUIRE(write_supplement(code, "acc-more-supp-0001", path) == 0);
    int64_t supp_at = (int64_t)time(NULL);
    snprintf(args, sizeof args, "supplement %s --json", path);
    CHECK_INT(harness_motcua(&H, args), 0);
    CHECK(log_has("motcua.out", "\"state\":\"PENDING_ACCEPTANCE\""));
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", code), MC_DOSSIER_PENDING_ACCEPTANCE);
    CHECK_INT(epoch(code, "due_at"), 0);
    long accept_due = epoch(code, "accept_due_at");
    bool match = false;
    for (int64_t t = supp_at - 1; t <= supp_at + 2 && !match; t++) {
        int64_t cf = 0, du = 0;
        REQUIRE(mc_calendar_due(CFG->calendar, t, 8, MC_TIME_WORKING_HOURS, -1, &cf, &du, NULL) == 0);
        match = du == accept_due;
    }
    CHECK(match);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case WHERE case_id = $1 AND state = " MC_SQL(MC_CASE_QUEUED)
                            " AND revision = 2 AND attempts = 0", case_id), 1);
    CHECK_INT(harness_count(&H, "SELECT extract(epoch FROM due_at)::bigint FROM agency_case"
                            " WHERE case_id = $1", case_id), accept_due);

    /* the desk looks again and accepts it */
    REQUIRE(start_desk("approved=100") == 0);
    CHECK_INT(harness_wait_count(&H, "SELECT state FROM dossier WHERE code = $1", code, MC_DOSSIER_RESULT_READY, 20000), MC_DOSSIER_RESULT_READY);
    CHECK(accepted_in_order(code));
    CHECK(epoch(code, "accepted_at") >= supp_at);
    char line[200];
    snprintf(line, sizeof line, "case=%s attempt=1 revision=2", case_id);
    CHECK(log_has("desk-3.log", line));
    CHECK_INT(events(code, "accepted"), 1);
    CHECK_INT(notices(code, "received"), 1);
}

MC_TEST(desk_refuses_an_online_dossier)
{
    CHECK_INT(stop_desk(), 0);
    REQUIRE(start_desk("rejected=100") == 0);
    harness_dossier_t d;
    online(&d, "acc-no-0001");
    char code[64];
    REQUIRE(submit_code(&d, code) == 0);
    CHECK_INT(harness_wait_count(&H, "SELECT state FROM dossier WHERE code = $1", code, MC_DOSSIER_REFUSED, 20000), MC_DOSSIER_REFUSED);
    CHECK_INT(events(code, "refused"), 1);
    CHECK_INT(events(code, "accepted"), 0);
    CHECK_INT(notices(code, "refused"), 1);
    CHECK_INT(notices(code, "received"), 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case c JOIN dossier d ON d.id ="
                            " c.dossier_id WHERE d.code = $1", code), 1); /* never routed */
    CHECK_INT(stop_desk(), 0);
}

MC_TEST(unanswered_dossier_is_flagged_once_and_listed_then_withdrawn)
{
    /* the desk is offline: nobody answers */
    harness_dossier_t d, later;
    online(&d, "acc-late-0001");
    online(&later, "acc-late-0002");
    char code[64], code2[64], case_id[96];
    REQUIRE(submit_code(&d, code) == 0);
    snprintf(case_id, sizeof case_id, "%s/0", code);
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM agency_case WHERE case_id = $1",
                                 case_id, 1, 15000), 1);
    CHECK_INT(harness_count(&H, "UPDATE dossier SET accept_due_at = now() - interval '1 hour'"
                            " WHERE code = $1 AND state = " MC_SQL(MC_DOSSIER_PENDING_ACCEPTANCE) " RETURNING 1", code), 1);
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON"
                                 " d.id = e.dossier_id WHERE d.code = $1 AND e.kind ="
                                 " 'acceptance_overdue'", code, 1, 15000), 1);
    /* a second one flagged by a later scan: the first is not flagged again */
    REQUIRE(submit_code(&later, code2) == 0);
    CHECK_INT(harness_count(&H, "UPDATE dossier SET accept_due_at = now() - interval '1 hour'"
                            " WHERE code = $1 AND state = " MC_SQL(MC_DOSSIER_PENDING_ACCEPTANCE) " RETURNING 1", code2), 1);
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON"
                                 " d.id = e.dossier_id WHERE d.code = $1 AND e.kind ="
                                 " 'acceptance_overdue'", code2, 1, 15000), 1);
    CHECK_INT(events(code, "acceptance_overdue"), 1);
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", code), MC_DOSSIER_PENDING_ACCEPTANCE);

    /* the desk's lists */
    CHECK_INT(harness_motcua(&H, "overdue"), 0);
    CHECK(log_has("motcua.out", code));
    CHECK(log_has("motcua.out", "chờ tiếp nhận quá 8 giờ làm việc"));
    CHECK_INT(harness_motcua(&H, "queues"), 0);
    CHECK(log_has("motcua.out", "chờ tiếp nhận"));
    char args[200];
    snprintf(args, sizeof args, "form receipt %s", code);
    CHECK_INT(harness_motcua(&H, args), 0);
    CHECK(log_has("motcua.out", "chờ tiếp nhận"));
    /* today's report (issue 12 point 8): both pending past their 8 hours; those the desk
     * accepted earlier in this run, every one within them */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE state = " MC_SQL(MC_DOSSIER_PENDING_ACCEPTANCE)
                            " AND accept_due_at < now()", NULL), 2);
    long accepted = harness_count(&H, "SELECT count(*) FROM dossier WHERE accepted_at IS NOT NULL"
                                  " AND accepted_at <= accept_due_at", NULL);
    CHECK(accepted >= 1);
    mc_date_t today = mc_date_of((int64_t)time(NULL), NULL);
    snprintf(args, sizeof args, "report --from %04d-%02d-%02d --to %04d-%02d-%02d --format json",
             today.year, today.month, today.day, today.year, today.month, today.day);
    CHECK_INT(harness_motcua(&H, args), 0);
    char want[120];
    snprintf(want, sizeof want, "\"acceptance\":{\"in_time\":%ld,\"late\":0,\"pending_overdue\":2,"
             "\"in_time_rate\":100.00}", accepted);
    CHECK(log_has("motcua.out", want));

    /* withdrawn while pending: the acceptance case is cancelled */
    snprintf(args, sizeof args, "withdraw %s --id acc-late-wd-0001", code);
    CHECK_INT(harness_motcua(&H, args), 0);
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", code), MC_DOSSIER_WITHDRAWN);
    CHECK_INT(harness_count(&H, "SELECT state FROM agency_case WHERE case_id = $1", case_id), MC_CASE_CANCELLED);
}

MC_TEST(direct_dossier_is_received_at_the_counter_as_before)
{
    harness_dossier_t d;
    harness_dossier_init(&d, "acc-direct-0001");
    d.dossier.channel = MOTCUA__V1__CHANNEL__CHANNEL_DIRECT;
    Motcua__V1__IntakeReply *r = NULL;
    REQUIRE(submit(&d, &r) == 0);
    char code[64];
    snprintf(code, sizeof code, "%s", r->receipt->dossier_code);
    CHECK_INT(r->receipt->state, MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_RECEIVED);
    CHECK(r->receipt->due_at > 0);
    CHECK(r->receipt->due_text && r->receipt->due_text[0]);
    CHECK_INT(r->receipt->accept_due_at, 0);
    CHECK_STR(r->receipt->accept_due_text, "");
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    CHECK_INT(events(code, "received"), 1);
    CHECK_INT(events(code, "submitted"), 0);
    CHECK_INT(notices(code, "received"), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE code = $1"
                            " AND accept_due_at IS NULL AND accepted_at IS NULL", code), 1);
    /* routed at once (no desk needed for that), with no acceptance case */
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM dossier WHERE code = $1 AND state = " MC_SQL(MC_DOSSIER_ROUTED),
                                 code, 1, 15000), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case c JOIN dossier d ON d.id ="
                            " c.dossier_id WHERE d.code = $1 AND c.step = 0", code), 0);
}

static int setup(void)
{
    if (harness_setup(&H, "acceptance", 2) != 0)
        return -1;
    char codes[MAX_AGENCIES][64];
    int n = 0;
    if (harness_pipeline_setup(&H, 200, 32, codes, MAX_AGENCIES, &n) != 0)
        return -1;
    /* the deadline scan every 200 ms: the overdue test waits for it */
    if (harness_run("sed -i 's/deadline_scan_ms: 60000/deadline_scan_ms: 200/' %s", H.config) != 0)
        return -1;
    snprintf(keys, sizeof keys, "%s/keys", H.dir);
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_cfg_load(H.config, &CFG, &err) != 0) {
        printf("  %s", err.text);
        return -1;
    }
    if (harness_start_intake(&H) != 0)
        return -1;
    if ((router_pid = harness_start_daemon(&H, "router", NULL, "router.log")) <= 0)
        return -1;
    if ((hub_pid = harness_start_daemon(&H, "lienthong", NULL, "lienthong.log")) <= 0)
        return -1;
    if ((notify_pid = harness_start_daemon(&H, "notify", NULL, "notify.log")) <= 0)
        return -1;
    return 0;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (setup() != 0) {
        printf("  FAIL setup\n");
        harness_run("tail -n 20 %s/*.log >&2 2>/dev/null", H.dir);
        mc_test_failed++;
    } else {
        mc_test_run(online_dossier_is_accepted_and_its_time_counts_from_acceptance);
        mc_test_run(desk_asks_for_more_then_the_supplement_comes_back_for_acceptance);
        mc_test_run(desk_refuses_an_online_dossier);
        mc_test_run(unanswered_dossier_is_flagged_once_and_listed_then_withdrawn);
        mc_test_run(direct_dossier_is_received_at_the_counter_as_before);
    }
    if (desk_pid > 0)
        harness_stop_daemon(desk_pid, SIGKILL);
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
    return mc_test_done("it_acceptance");
}
