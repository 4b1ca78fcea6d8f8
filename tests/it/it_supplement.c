/*
 * it_supplement - one supplement request per dossier, then closure (issue 12
 * point 3; docs/rules.md "One supplement request, then return"), end to end
 * with everything real: a throwaway PostgreSQL, motcua-intake, -router
 * (deadline scan every 300 ms), -lienthong, -notify spooling into the test
 * directory, and motcua-agency for the desk TU_PHAP and the three partner
 * agencies of the inter-agency birth procedure 2.000986, every one of them
 * asking for documents on every case (--outcomes needs_documents=100).
 *
 * 1. The desk asks for documents: WAITING_SUPPLEMENT, supplement_requests 1,
 *    supplement_due_at = 15 working days (mc_calendar) from the request, the
 *    notice carries it and its spool file prints the date.
 * 2. After the supplement every further NEEDS_DOCUMENTS (the desk's new
 *    revision, then each partner step) is refused with ResultAck.code
 *    REASON_SUPPLEMENT_ALREADY_REQUESTED: only a `supplement_refused` event;
 *    each agency re-decides (APPROVED) and the dossier reaches RESULT_READY,
 *    asked once.
 * 3. A dossier waiting past supplement_due_at (moved back by SQL) is
 *    RETURNED by the router: returned_at, its cases cancelled, one `returned`
 *    event and notice; a late supplement and a withdrawal are WRONG_STATE.
 * 4. `motcua report` counts it as returned_unsupplemented, not open and not
 *    in time, and counts the refused second requests.
 * 5. At the counter, a dossier missing two required documents gets one
 *    Rejection listing both in Rejection.missing (the Mẫu 02 guidance).
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
#include "mc_cfg.h"
#include "mc_test.h"
#include "mc_transport.h"

#define MAX_AGENCIES 32

static harness_t H;
static mc_cfg_t *CFG;       /* the test's configuration (calendar) */
static char      keys[400]; /* DIR/keys */
static int       n_agencies;
static char      agency_code[MAX_AGENCIES][64];
static pid_t     agency_pid[MAX_AGENCIES];
static char      chain_code[64];    /* the 2.000986 dossier of tests 1-2 */
static char      returned_code[64]; /* the 1.001193 dossier of test 3 */

/* the agencies every dossier here meets: the desk, then 2.000986's partners */
static const char *const AGENCIES[] = {"TU_PHAP", "UBND_XA_TUPHAP", "CONG_AN_XA", "BHXH"};
#define N_USED (sizeof AGENCIES / sizeof AGENCIES[0])

/* start_agency - motcua-agency for code asking for documents on every case; waits for connected */
static int start_agency(const char *code)
{
    int i = 0;
    while (i < n_agencies && strcmp(agency_code[i], code) != 0)
        i++;
    if (i == n_agencies)
        return -1;
    char key[500], server[500], log[128];
    snprintf(key, sizeof key, "%s/%s.key", keys, code);
    snprintf(server, sizeof server, "%s/lienthong.pub", keys);
    snprintf(log, sizeof log, "agency-%s.log", code);
    const char *args[] = {"-c", H.config, "--agency", code, "--key", key, "--server-key", server,
                          "--delay-ms", "2", "--credit", "50", "--outcomes",
                          "needs_documents=100", NULL};
    agency_pid[i] = harness_spawn(&H, "motcua-agency", log, args);
    if (agency_pid[i] <= 0)
        return -1;
    long long deadline = harness_now_ms() + 10000;
    while (harness_now_ms() < deadline) {
        if (harness_run("grep -q event=connected %s/%s", H.dir, log) == 0)
            return 0;
        usleep(50000);
    }
    return -1;
}

/* reply_of - send req as the ward's counter; the reply (free it), NULL on timeout */
static Motcua__V1__IntakeReply *reply_of(const Motcua__V1__IntakeRequest *req)
{
    Motcua__V1__IntakeReply *r = NULL;
    return harness_request(&H, req, 10000, &r) == 0 ? r : NULL;
}

/* submit - hand d in through its channel (the harness's default: the counter); its
 * code into code; 0 on a receipt */
static int submit(harness_dossier_t *d, char *code)
{
    Motcua__V1__IntakeReply *r = reply_of(&d->request);
    int ok = r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT;
    if (ok)
        snprintf(code, 64, "%s", r->receipt->dossier_code);
    else if (r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION)
        printf("  submit refused: %s %s\n", harness_reason_name(r->rejection->reason),
               r->rejection->field);
    if (r)
        motcua__v1__intake_reply__free_unpacked(r, NULL);
    return ok ? 0 : -1;
}

/* follow_up - a supplement (one document) or a withdrawal of code from the
 * counter; the Rejection's reason, or 0 for an Acknowledgement, -1 on no reply */
static int follow_up(const char *code, const char *sid, bool supplement)
{
    static uint8_t sha[32];
    memset(sha, 0x5a, sizeof sha);
    Motcua__V1__DocumentRef doc = MOTCUA__V1__DOCUMENT_REF__INIT;
    doc.document_type = (char *)"GIAY_TO_BO_SUNG";
    doc.name = (char *)"Giấy tờ chứng minh nơi cư trú";
    doc.media_type = (char *)"application/pdf";
    doc.size_bytes = 2048;
    doc.sha256.data = sha;
    doc.sha256.len = sizeof sha;
    doc.uri = (char *)"https://dvc.example.vn/files/bo-sung.pdf";
    doc.form = MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_ORIGINAL;
    doc.copies = 1;
    Motcua__V1__DocumentRef *docs[1] = {&doc};
    Motcua__V1__SupplementDossier s = MOTCUA__V1__SUPPLEMENT_DOSSIER__INIT;
    s.submission_id = (char *)sid;
    s.dossier_code = (char *)code;
    s.n_documents = 1;
    s.documents = docs;
    Motcua__V1__WithdrawDossier w = MOTCUA__V1__WITHDRAW_DOSSIER__INIT;
    w.submission_id = (char *)sid;
    w.dossier_code = (char *)code;
    Motcua__V1__IntakeRequest req = MOTCUA__V1__INTAKE_REQUEST__INIT;
    if (supplement) {
        req.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_SUPPLEMENT;
        req.supplement = &s;
    } else {
        req.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_WITHDRAW;
        req.withdraw = &w;
    }
    Motcua__V1__IntakeReply *r = reply_of(&req);
    if (!r)
        return -1;
    int reason = r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_ACK ? 0
                 : r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION
                     ? (int)r->rejection->reason
                     : -1;
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    return reason;
}

/* spool_of - does the spool file of the notice id_sql selects (one id, $1 = code) contain text? */
static bool spool_of(const char *id_sql, const char *code, const char *text)
{
    long id = harness_count(&H, id_sql, code);
    return id > 0 && harness_run("grep -qF -- '%s' %s/spool/%ld.txt", text, H.dir, id) == 0;
}

/* notices - how many notifications of kind code has (the kind is a constant of this file) */
static long notices(const char *code, const char *kind_sql)
{
    return harness_count(&H, kind_sql, code);
}

#define SUPP_NOTICES "SELECT count(*) FROM notification n JOIN dossier d ON d.id = n.dossier_id" \
                     " WHERE d.code = $1 AND n.kind = 'supplement_requested'"
#define SUPP_NOTICE_ID "SELECT n.id FROM notification n JOIN dossier d ON d.id = n.dossier_id" \
                       " WHERE d.code = $1 AND n.kind = 'supplement_requested'"
#define RETURNED_NOTICE_ID "SELECT n.id FROM notification n JOIN dossier d ON d.id ="     \
                           " n.dossier_id WHERE d.code = $1 AND n.kind = 'returned'"
#define RETURNED_NOTICES "SELECT count(*) FROM notification n JOIN dossier d ON d.id ="    \
                         " n.dossier_id WHERE d.code = $1 AND n.kind = 'returned'"

/* --- tests ---------------------------------------------------------------- */

MC_TEST(first_request_tells_the_deadline)
{
    harness_dossier_t d;
    harness_dossier_init(&d, "supp-chain-0001");
    d.dossier.procedure_code = (char *)"2.000986";
    /* online only (QĐ 296/QĐ-VPCP): the desk's acceptance (step 0) is the first to ask */
    d.dossier.channel = MOTCUA__V1__CHANNEL__CHANNEL_ONLINE;
    d.docs[0].document_type = (char *)"TO_KHAI_LIEN_THONG";
    d.docs[0].name = (char *)"Tờ khai điện tử liên thông";
    d.dossier.n_documents = 2;
    REQUIRE(submit(&d, chain_code) == 0);
    CHECK_INT(harness_wait_count(&H, "SELECT state FROM dossier WHERE code = $1", chain_code, MC_DOSSIER_WAITING_SUPPLEMENT,
                                 20000), MC_DOSSIER_WAITING_SUPPLEMENT);
    CHECK_INT(harness_count(&H, "SELECT supplement_requests FROM dossier WHERE code = $1",
                            chain_code), 1);
    /* the deadline: 15 working days from the request, by the calendar */
    long at = harness_count(&H, "SELECT extract(epoch FROM e.at)::bigint FROM dossier_event e"
                            " JOIN dossier d ON d.id = e.dossier_id WHERE d.code = $1"
                            " AND e.kind = 'supplement_requested'", chain_code);
    long due = harness_count(&H, "SELECT extract(epoch FROM supplement_due_at)::bigint FROM dossier"
                             " WHERE code = $1", chain_code);
    REQUIRE(at > 0 && due > at);
    bool match = false;
    for (long t = at - 2; t <= at + 1 && !match; t++) {
        int64_t counted = 0, want = 0;
        REQUIRE(mc_calendar_due(CFG->calendar, t, CFG->rules.supplement_days,
                                MC_TIME_WORKING_DAYS, -1, &counted, &want, NULL) == 0);
        match = want == due;
    }
    CHECK(match);
    CHECK_INT(CFG->rules.supplement_days, 15);
    /* the notice carries it and tells it */
    CHECK_INT(harness_count(&H, "SELECT (n.data->>'supplement_due')::bigint FROM notification n"
                            " JOIN dossier d ON d.id = n.dossier_id WHERE d.code = $1"
                            " AND n.kind = 'supplement_requested'", chain_code), due);
    CHECK_INT(harness_wait_count(&H, SUPP_NOTICES " AND n.state = " MC_SQL(MC_NOTIFICATION_SENT), chain_code, 1, 15000), 1);
    mc_date_t day = mc_date_of(due, NULL);
    char text[64];
    snprintf(text, sizeof text, "đến hết ngày %02d/%02d/%04d", day.day, day.month, day.year);
    CHECK(spool_of(SUPP_NOTICE_ID, chain_code, text));
}

MC_TEST(second_request_is_refused_and_answered_again)
{
    REQUIRE(chain_code[0]);
    CHECK_INT(follow_up(chain_code, "supp-chain-sup-0001", true), 0);
    /* every later step asks again and is refused; each agency answers again */
    long state = harness_wait_count(&H, "SELECT state FROM dossier WHERE code = $1", chain_code, MC_DOSSIER_RESULT_READY,
                                    40000);
    CHECK_INT(state, MC_DOSSIER_RESULT_READY);
    if (state != MC_DOSSIER_RESULT_READY)
        harness_run("grep -h 'supplement\\|redecided' %s/*.log | tail -n 20", H.dir);
    /* asked once: one request, one notice, the counter unchanged */
    CHECK_INT(harness_count(&H, "SELECT supplement_requests FROM dossier WHERE code = $1",
                            chain_code), 1);
    CHECK_INT(notices(chain_code, SUPP_NOTICES), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d"
                            " ON d.id = e.dossier_id WHERE d.code = $1"
                            " AND e.kind = 'supplement_requested'", chain_code), 1);
    /* refused five times: the acceptance's second revision, the desk's step and the
     * three partner steps */
    CHECK_INT(harness_count(&H, "SELECT count(DISTINCT e.detail) FROM dossier_event e JOIN dossier d"
                            " ON d.id = e.dossier_id WHERE d.code = $1"
                            " AND e.kind = 'supplement_refused'", chain_code), 5);
    /* then answered APPROVED: the acceptance and every step done and approved */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case c JOIN dossier d"
                            " ON d.id = c.dossier_id WHERE d.code = $1 AND c.state = " MC_SQL(MC_CASE_DONE)
                            " AND c.outcome = " MC_SQL(MC_OUTCOME_APPROVED), chain_code), 5);
    for (size_t i = 0; i < N_USED; i++) {
        char grep[600];
        snprintf(grep, sizeof grep, "grep -q 'event=case_redecided.*reason=supplement_already_requested'"
                                    " %s/agency-%s.log", H.dir, AGENCIES[i]);
        CHECK_INT(harness_run("%s", grep), 0);
    }
    CHECK_INT(harness_run("grep -q 'event=supplement_refused' %s/lienthong.log", H.dir), 0);
}

MC_TEST(unsupplemented_dossier_is_returned_once)
{
    harness_dossier_t d;
    harness_dossier_init(&d, "supp-ret-0001");
    REQUIRE(submit(&d, returned_code) == 0);
    CHECK_INT(harness_wait_count(&H, "SELECT state FROM dossier WHERE code = $1", returned_code, MC_DOSSIER_WAITING_SUPPLEMENT,
                                 20000), MC_DOSSIER_WAITING_SUPPLEMENT);
    CHECK_INT(harness_wait_count(&H, SUPP_NOTICES " AND n.state = " MC_SQL(MC_NOTIFICATION_SENT), returned_code, 1, 15000), 1);
    /* the applicant never comes: the deadline is moved into the past */
    CHECK_INT(harness_count(&H, "WITH u AS (UPDATE dossier SET supplement_due_at = now()"
                            " - interval '1 minute' WHERE code = $1 AND state = " MC_SQL(MC_DOSSIER_WAITING_SUPPLEMENT) " RETURNING 1)"
                            " SELECT count(*) FROM u", returned_code), 1);
    CHECK_INT(harness_wait_count(&H, "SELECT state FROM dossier WHERE code = $1", returned_code, MC_DOSSIER_RETURNED,
                                 15000), MC_DOSSIER_RETURNED);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE code = $1"
                            " AND returned_at IS NOT NULL AND closed_at IS NOT NULL", returned_code), 1);
    /* its steps cancelled, as a withdrawal cancels them */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case c JOIN dossier d"
                            " ON d.id = c.dossier_id WHERE d.code = $1 AND c.state <> " MC_SQL(MC_CASE_CANCELLED),
                            returned_code), 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d"
                            " ON d.id = e.dossier_id WHERE d.code = $1 AND e.kind = 'returned'"
                            " AND e.actor = 'router'", returned_code), 1);
    CHECK_INT(harness_wait_count(&H, RETURNED_NOTICES " AND n.state = " MC_SQL(MC_NOTIFICATION_SENT), returned_code, 1, 15000), 1);
    CHECK(spool_of(RETURNED_NOTICE_ID, returned_code, "được trả lại do không bổ sung trong thời hạn"));
    /* final: a late supplement and a withdrawal are refused, nothing changes */
    CHECK_INT(follow_up(returned_code, "supp-ret-late-0001", true),
              MOTCUA__V1__REASON__REASON_WRONG_STATE);
    CHECK_INT(follow_up(returned_code, "supp-ret-wd-0001", false),
              MOTCUA__V1__REASON__REASON_WRONG_STATE);
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", returned_code), MC_DOSSIER_RETURNED);
    /* the Mẫu 02 form prints the deadline the applicant had */
    char args[200];
    snprintf(args, sizeof args, "form supplement '%s' --format text", returned_code);
    CHECK_INT(harness_motcua(&H, args), 0);
    CHECK_INT(harness_run("grep -q 'Thời hạn bổ sung' %s/motcua.out", H.dir), 0);
    /* notified once (the dedupe key "<code>/returned"; a RETURNED dossier is never claimed again) */
    CHECK_INT(notices(returned_code, RETURNED_NOTICES), 1);
    CHECK_INT(harness_run("test $(grep -c 'event=returned code=%s' %s/router.log) -eq 1",
                          returned_code, H.dir), 0);
}

MC_TEST(report_counts_returned_apart_and_refused_requests)
{
    time_t now = time(NULL);
    mc_date_t today = mc_date_of((int64_t)now, NULL);
    char args[200];
    snprintf(args, sizeof args, "report --from %04d-%02d-%02d --to %04d-%02d-%02d --format json",
             today.year, today.month, today.day, today.year, today.month, today.day);
    REQUIRE(harness_motcua(&H, args) == 0);
    /* the first COUNTS of the document is the total */
    CHECK_INT(harness_run("grep -q '\"returned_unsupplemented\":1,\"supplement_refused\":5' %s/motcua.out",
                          H.dir), 0);
    /* neither open nor resolved: the chain dossier is the one resolved, nothing is open */
    CHECK_INT(harness_run("grep -q '\"open\":{\"in_time\":0,\"overdue\":0,\"total\":0}' %s/motcua.out",
                          H.dir), 0);
    CHECK_INT(harness_run("grep -q '\"resolved\":{\"early\":1,' %s/motcua.out", H.dir), 0);
    snprintf(args, sizeof args, "report --from %04d-%02d-%02d --to %04d-%02d-%02d --format csv",
             today.year, today.month, today.day, today.year, today.month, today.day);
    REQUIRE(harness_motcua(&H, args) == 0);
    CHECK_INT(harness_run("grep -q 'satisfied_share,returned_unsupplemented,supplement_refused'"
                          " %s/motcua.out", H.dir), 0);
    CHECK_INT(harness_run("grep -Eq '^total(,[^,]*){27},1,5,' %s/motcua.out", H.dir), 0);
    snprintf(args, sizeof args, "report --from %04d-%02d-%02d --to %04d-%02d-%02d",
             today.year, today.month, today.day, today.year, today.month, today.day);
    REQUIRE(harness_motcua(&H, args) == 0);
    CHECK_INT(harness_run("grep -q 'Trả lại do không bổ sung' %s/motcua.out", H.dir), 0);
}

MC_TEST(counter_guidance_lists_every_missing_document)
{
    harness_dossier_t d;
    harness_dossier_init(&d, "supp-missing-0001");
    /* labour rules without the two required documents (the birth documents are not theirs) */
    d.dossier.procedure_code = (char *)"1.009469";
    Motcua__V1__IntakeReply *r = reply_of(&d.request);
    REQUIRE(r);
    REQUIRE(r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION);
    CHECK_INT(r->rejection->reason, MOTCUA__V1__REASON__REASON_MISSING_DOCUMENT);
    CHECK_INT(r->rejection->retryable, 0);
    CHECK_INT(r->rejection->n_missing, 2);
    if (r->rejection->n_missing == 2) {
        CHECK(strcmp(r->rejection->missing[0]->document_type, "VAN_BAN_DE_NGHI") == 0);
        CHECK(strcmp(r->rejection->missing[1]->document_type, "NOI_QUY_LAO_DONG") == 0);
        CHECK(r->rejection->missing[1]->name && strstr(r->rejection->missing[1]->name, "Nội quy"));
    }
    CHECK(strstr(r->rejection->message, "Thiếu 2 giấy tờ bắt buộc") != NULL);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE submission_id = $1",
                            "supp-missing-0001"), 0);
}

/* the daemons this test starts besides intake, in start order */
static const char *const DAEMONS[] = {"router", "lienthong", "notify"};
#define N_DAEMONS (sizeof DAEMONS / sizeof DAEMONS[0])
static pid_t daemon_pid[N_DAEMONS];

/* setup - config (deadline scan every 300 ms), keys, intake and DAEMONS, the four agencies */
static int setup(void)
{
    if (harness_setup(&H, "supplement", 2) != 0 ||
        harness_pipeline_setup(&H, 200, 16, agency_code, MAX_AGENCIES, &n_agencies) != 0)
        return -1;
    snprintf(keys, sizeof keys, "%s/keys", H.dir);
    mc_err_t err;
    mc_err_clear(&err);
    if (harness_config_copy(&H, H.config, "  deadline_scan_ms: 60000\n",
                            "  deadline_scan_ms: 300\n") != 0 ||
        mc_cfg_load(H.config, &CFG, &err) != 0 || harness_start_intake(&H) != 0)
        return -1;
    for (size_t i = 0; i < N_DAEMONS; i++) {
        char log[64];
        snprintf(log, sizeof log, "%s.log", DAEMONS[i]);
        if ((daemon_pid[i] = harness_start_daemon(&H, DAEMONS[i], NULL, log)) <= 0)
            return -1;
    }
    for (size_t i = 0; i < N_USED; i++)
        if (start_agency(AGENCIES[i]) != 0)
            return -1;
    return 0;
}

/* kill_all - every agency, then DAEMONS in reverse order (intake goes with the harness) */
static void kill_all(void)
{
    for (int i = 0; i < n_agencies; i++)
        if (agency_pid[i] > 0)
            harness_stop_daemon(agency_pid[i], SIGKILL);
    for (size_t i = N_DAEMONS; i-- > 0;)
        if (daemon_pid[i] > 0)
            harness_stop_daemon(daemon_pid[i], SIGKILL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    long long t0 = harness_now_ms();
    if (setup() == 0) {
        mc_test_run(first_request_tells_the_deadline);
        mc_test_run(second_request_is_refused_and_answered_again);
        mc_test_run(unsupplemented_dossier_is_returned_once);
        mc_test_run(report_counts_returned_apart_and_refused_requests);
        mc_test_run(counter_guidance_lists_every_missing_document);
    } else {
        printf("  FAIL setup\n");
        harness_run("tail -n 20 %s/*.log >&2 2>/dev/null", H.dir);
        mc_test_failed++;
    }
    kill_all();
    mc_cfg_destroy(&CFG);
    mc_transport_term();
    if (mc_test_failed) /* the daemons' errors, for whoever reads the failure */
        harness_run("grep -hE 'level=(err|warning)' %s/*.log 2>/dev/null | head -n 20", H.dir);
    harness_teardown(&H);
    printf("  it_supplement took %.1f s\n", (harness_now_ms() - t0) / 1000.0);
    return mc_test_done("it_supplement");
}
