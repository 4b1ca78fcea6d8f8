/*
 * it_router - motcua-router and intake's follow-ups against a real
 * PostgreSQL over real ZeroMQ: routing exactly once with two routers, the
 * plan rows, per-ward overrides, the deadline scan, supplements and
 * withdrawals (docs/pipeline.md).
 *
 * One cluster, one intake and two routers for the whole program. The
 * routers poll the store only every 30 s, so a dossier routed within a few
 * seconds proves the PipelineEvent path (intake PUB -> router SUB) too.
 * States the lienthong daemon would set (WAITING_SUPPLEMENT, a paused case,
 * RESULT_READY) are set with SQL.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "mc_states.h"
#include "harness.h"
#include "mc_calendar.h"
#include "mc_cfg.h"
#include "mc_test.h"
#include "mc_transport.h"
#include "motcua/internal/v1/pipeline.pb-c.h"

static harness_t H;        /* the shared cluster and intake */
static mc_cfg_t *CFG;      /* the test's configuration, for calendar and catalog */
static pid_t router_a, router_b;
static char intake_events[320]; /* intake.events_endpoint of the test */

/* rewrite_config - the generated config plus a router section, and routing.yaml */
static int rewrite_config(void)
{
    /* intake's events endpoint is the harness's (ipc://DIR/intake-events) */
    snprintf(intake_events, sizeof intake_events, "ipc://%s/intake-events", H.dir);
    if (harness_config_append(&H, "router:\n  events_endpoint: \"ipc://%s/router-events\"\n"
                                  "  poll_ms: 30000\n  batch: 10\n  deadline_scan_ms: 200\n",
                              H.dir) != 0)
        return -1;
    /* routing.yaml beside the config (files.routing's default): Văn Miếu
     * has its own civil-status desk */
    char path[400];
    snprintf(path, sizeof path, "%s/routing.yaml", H.dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs("procedures:\n"
          "  - procedure: \"1.001193\"\n"
          "    department: TU_PHAP\n"
          "    department_name: \"Công chức Tư pháp - Hộ tịch\"\n"
          "    wards:\n"
          "      - {ward: \"00220\", department: VM_HO_TICH, department_name: \"Bàn hộ tịch Văn Miếu\"}\n",
          f);
    return fclose(f);
}

/* start_router - motcua-router logging to DIR/NAME.log; its pid once it said READY=1, or -1 */
static pid_t start_router(const char *name)
{
    char log[128];
    snprintf(log, sizeof log, "%s.log", name);
    return harness_start_daemon(&H, "router", NULL, log);
}

/* stop_router - SIGTERM, reap; its exit status (128+sig if killed) */
static int stop_router(pid_t pid)
{
    return harness_stop_daemon(pid, SIGTERM);
}

/* submit_code - submit d, copy the receipt's code into code; 0 or -1 */
static int submit_code(harness_dossier_t *d, char *code, size_t size)
{
    Motcua__V1__IntakeReply *r = NULL;
    if (harness_request(&H, &d->request, 10000, &r) != 0)
        return -1;
    int rc = -1;
    if (r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT) {
        snprintf(code, size, "%s", r->receipt->dossier_code);
        rc = 0;
    } else if (r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION) {
        printf("  rejected: %s %s\n", harness_reason_name(r->rejection->reason),
               r->rejection->field);
    }
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    return rc;
}

/* routed_khai_sinh - a fresh birth registration, routed; 0 or -1 */
static int routed_khai_sinh(const char *sid, char *code, size_t size)
{
    harness_dossier_t d;
    harness_dossier_init(&d, sid);
    if (submit_code(&d, code, size) != 0)
        return -1;
    return harness_wait_count(&H, "SELECT count(*) FROM dossier WHERE code = $1 AND state = " MC_SQL(MC_DOSSIER_ROUTED), code, 1,
                      10000) == 1 ? 0 : -1;
}

/* request_bytes - pack req, send, raw reply (malloc'd); 0 or -1 */
static int request_bytes(const Motcua__V1__IntakeRequest *req, uint8_t **reply, size_t *len)
{
    size_t n = motcua__v1__intake_request__get_packed_size(req);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return -1;
    motcua__v1__intake_request__pack(req, buf);
    int rc = harness_request_raw(&H, buf, n, 10000, reply, len);
    free(buf);
    return rc;
}

/* exec_sql - run one statement with one parameter; 0 when it worked */
static int exec_sql(const char *sql, const char *param)
{
    const char *p[1] = {param};
    PGresult *res = PQexecParams(harness_db(&H), sql, 1, NULL, p, NULL, NULL, 0);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok)
        printf("  sql failed: %s", PQresultErrorMessage(res));
    PQclear(res);
    return ok ? 0 : -1;
}

/* received_event_seen - wait up to ms for sub to deliver code's DOSSIER_RECEIVED event */
static bool received_event_seen(void *sub, const char *code, int ms)
{
    long long deadline = harness_now_ms() + ms;
    while (harness_now_ms() < deadline) {
        zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 100) <= 0)
            continue;
        uint8_t buf[512];
        int n = zmq_recv(sub, buf, sizeof buf, 0);
        if (n <= 0 || (size_t)n > sizeof buf)
            continue;
        Motcua__Internal__V1__PipelineEvent *ev = motcua__internal__v1__pipeline_event__unpack(NULL, (size_t)n, buf);
        bool match = ev && ev->kind == MOTCUA__INTERNAL__V1__PIPELINE_EVENT__KIND__KIND_DOSSIER_RECEIVED &&
                     strcmp(ev->dossier_code, code) == 0;
        if (ev)
            motcua__internal__v1__pipeline_event__free_unpacked(ev, NULL);
        if (match)
            return true;
    }
    return false;
}

MC_TEST(intake_publishes_received_event)
{
    void *sub = mc_transport_connect(ZMQ_SUB, intake_events, NULL, &(mc_err_t){0});
    REQUIRE(sub);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
    /* a SUB misses what is published before its subscription reaches the
     * publisher, and nothing says when that is: hand in dossiers until one's
     * event arrives (bounded). A publisher that never publishes fails. */
    bool seen = false;
    long long deadline = harness_now_ms() + 15000;
    for (int i = 1; !seen && harness_now_ms() < deadline; i++) {
        harness_dossier_t d;
        char sid[64], code[64];
        snprintf(sid, sizeof sid, "rt-event-%04d", i);
        harness_dossier_init(&d, sid);
        REQUIRE(submit_code(&d, code, sizeof code) == 0);
        seen = received_event_seen(sub, code, 1000);
    }
    CHECK(seen);
    mc_transport_close(&sub);
}

MC_TEST(two_routers_route_each_dossier_exactly_once)
{
    enum { N = 300 };
    char sid[64], code[64];
    int ok = 0;
    for (int i = 0; i < N; i++) {
        if (i == N / 2) { /* half wait in the store, half arrive while both routers run */
            router_b = start_router("router-b");
            CHECK(router_b > 0);
        }
        harness_dossier_t d;
        snprintf(sid, sizeof sid, "rt-many-%04d", i);
        harness_dossier_init(&d, sid);
        ok += submit_code(&d, code, sizeof code) == 0;
    }
    CHECK_INT(ok, N);
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM dossier WHERE submission_id LIKE 'rt-many-%'"
                         " AND state = " MC_SQL(MC_DOSSIER_ROUTED), NULL, N, 30000), N);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d"
                            " ON d.id = e.dossier_id WHERE d.submission_id LIKE 'rt-many-%'"
                            " AND e.kind = 'routed'", NULL), N);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM (SELECT e.dossier_id FROM dossier_event e"
                            " JOIN dossier d ON d.id = e.dossier_id WHERE d.submission_id LIKE"
                            " 'rt-many-%' AND e.kind = 'routed' GROUP BY 1 HAVING count(*) > 1) x",
                            NULL), 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case c JOIN dossier d"
                            " ON d.id = c.dossier_id WHERE d.submission_id LIKE 'rt-many-%'"
                            " AND c.step = 1 AND c.state = " MC_SQL(MC_CASE_QUEUED) " AND c.agency = 'TU_PHAP'"
                            " AND c.case_id = d.code || '/1' AND c.due_at = d.due_at", NULL), N);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE submission_id LIKE 'rt-many-%'"
                            " AND department = 'TU_PHAP'", NULL), N);
}

MC_TEST(plan_rows_match_catalog_steps)
{
    harness_dossier_t d;
    harness_dossier_init(&d, "rt-plan-0001");
    /* a procedure with partner steps that the counter may receive (the inter-agency
     * group 2.000986 is online only, and an online dossier waits for its acceptance) */
    d.dossier.procedure_code = (char *)"1.013978";
    d.docs[0].document_type = (char *)"DON_DANG_KY";
    d.docs[1].document_type = (char *)"GIAY_TO_NGUON_GOC_DAT";
    d.dossier.n_documents = 2;
    char code[64];
    REQUIRE(submit_code(&d, code, sizeof code) == 0);
    long long t0 = harness_now_ms();
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM dossier WHERE code = $1 AND state = " MC_SQL(MC_DOSSIER_ROUTED), code, 1,
                         10000), 1);
    CHECK(harness_now_ms() - t0 < 10000); /* the event woke a router: poll_ms is 30 s */
    const mc_procedure_t *p = mc_catalog_find(CFG->catalog, "1.013978");
    REQUIRE(p && p->n_steps == 2);
    const char *const params[1] = {code};
    PGresult *res = PQexecParams(harness_db(&H),
                                 "SELECT c.case_id, c.step, c.steps_total, c.agency, c.task,"
                                 " c.state, c.time_limit, c.time_unit, c.due_at = d.due_at,"
                                 " c.due_at IS NULL FROM agency_case c JOIN dossier d"
                                 " ON d.id = c.dossier_id WHERE d.code = $1 ORDER BY c.step",
                                 1, NULL, params, NULL, NULL, 0);
    REQUIRE(PQresultStatus(res) == PGRES_TUPLES_OK);
    CHECK_INT(PQntuples(res), 3);
    for (int i = 0; i < PQntuples(res) && i < 3; i++) {
        char want_id[96];
        snprintf(want_id, sizeof want_id, "%s/%d", code, i + 1);
        CHECK_STR(PQgetvalue(res, i, 0), want_id);
        CHECK_INT(atoi(PQgetvalue(res, i, 1)), i + 1);
        CHECK_INT(atoi(PQgetvalue(res, i, 2)), 3);
        if (i == 0) {
            CHECK_STR(PQgetvalue(res, i, 3), "DIA_CHINH");
            CHECK_INT(atoi(PQgetvalue(res, i, 5)), 1);
            CHECK_INT(atoi(PQgetvalue(res, i, 6)), p->processing_time);
            CHECK_STR(PQgetvalue(res, i, 8), "t");
        } else {
            const mc_agency_step_t *s = &p->steps[i - 1];
            CHECK_STR(PQgetvalue(res, i, 3), s->agency);
            CHECK_STR(PQgetvalue(res, i, 4), s->task);
            CHECK_INT(atoi(PQgetvalue(res, i, 5)), 0);
            CHECK_INT(atoi(PQgetvalue(res, i, 6)), s->time_limit);
            CHECK_INT(atoi(PQgetvalue(res, i, 7)), (int)s->time_unit);
            CHECK_STR(PQgetvalue(res, i, 9), "t");
        }
    }
    PQclear(res);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id ="
                            " e.dossier_id WHERE d.code = $1 AND e.kind = 'routed'"
                            " AND e.actor = 'router' AND e.detail LIKE 'DIA_CHINH%'", code), 1);
}

MC_TEST(ward_override_applies)
{
    harness_dossier_t d;
    harness_dossier_init(&d, "rt-ward-0001");
    d.dossier.ward_code = (char *)"00220";
    char code[64];
    REQUIRE(submit_code(&d, code, sizeof code) == 0);
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM dossier WHERE code = $1 AND state = " MC_SQL(MC_DOSSIER_ROUTED)
                         " AND department = 'VM_HO_TICH'", code, 1, 10000), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case c JOIN dossier d ON d.id ="
                            " c.dossier_id WHERE d.code = $1 AND c.step = 1"
                            " AND c.agency = 'VM_HO_TICH'", code), 1);
    /* the other ward keeps the general desk */
    harness_dossier_init(&d, "rt-ward-0002");
    REQUIRE(submit_code(&d, code, sizeof code) == 0);
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM dossier WHERE code = $1 AND state = " MC_SQL(MC_DOSSIER_ROUTED)
                         " AND department = 'TU_PHAP'", code, 1, 10000), 1);
}

/*
 * later_scan_done - proof that the router's deadline scan ran again: a fresh
 * routed dossier is made overdue (its step 1 when step, else the dossier)
 * and its report awaited. The scan that reports it read the store after
 * this call began, so whatever it would have reported twice for dossiers
 * checked before, it has reported by then: a test asserting that something
 * did NOT happen asserts after this, not after a sleep. 0 when the report came.
 */
static int later_scan_done(const char *sid, bool step)
{
    char code[64];
    if (routed_khai_sinh(sid, code, sizeof code) != 0)
        return -1;
    const char *overdue = step ? "WITH u AS (UPDATE agency_case c SET due_at = now() - interval '1 hour'"
                                 " FROM dossier d WHERE d.id = c.dossier_id AND d.code = $1"
                                 " AND c.step = 1 RETURNING 1) SELECT count(*) FROM u"
                               : "WITH u AS (UPDATE dossier SET due_at = now() - interval '1 hour'"
                                 " WHERE code = $1 RETURNING 1) SELECT count(*) FROM u";
    if (harness_count(&H, overdue, code) != 1)
        return -1;
    const char *reported = step ? "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id ="
                                  " e.dossier_id WHERE d.code = $1 AND e.kind = 'step_overdue'"
                                : "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id ="
                                  " e.dossier_id WHERE d.code = $1 AND e.kind = 'late'";
    return harness_wait_count(&H, reported, code, 1, 10000) == 1 ? 0 : -1;
}

MC_TEST(overdue_agency_step_is_reported_once_per_due_date)
{
    char code[64];
    REQUIRE(routed_khai_sinh("rt-step-late-0001", code, sizeof code) == 0);
    const char *events = "SELECT count(*) FROM dossier_event e JOIN dossier d"
                         " ON d.id = e.dossier_id WHERE d.code = $1 AND e.kind = 'step_overdue'";
    CHECK_INT(harness_count(&H, events, code), 0);
    /* step 1's own limit passes (the dossier's does not) */
    CHECK(harness_count(&H, "WITH u AS (UPDATE agency_case c SET due_at = now() - interval '1 hour'"
                        " FROM dossier d WHERE d.id = c.dossier_id AND d.code = $1 AND c.step = 1"
                        " RETURNING 1) SELECT count(*) FROM u", code) == 1);
    CHECK_INT(harness_wait_count(&H, events, code, 1, 5000), 1);
    /* a later scan (a later dossier's report): still one report for that due date */
    CHECK(later_scan_done("rt-step-late-mark1", true) == 0);
    CHECK_INT(harness_count(&H, events, code), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d"
                            " ON d.id = e.dossier_id WHERE d.code = $1 AND e.kind = 'late'", code), 0);
    /* a new due date that passes again is a new report */
    CHECK(harness_count(&H, "WITH u AS (UPDATE agency_case c SET due_at = now() - interval '10 minutes'"
                        " FROM dossier d WHERE d.id = c.dossier_id AND d.code = $1 AND c.step = 1"
                        " RETURNING 1) SELECT count(*) FROM u", code) == 1);
    CHECK_INT(harness_wait_count(&H, events, code, 2, 5000), 2);
}

MC_TEST(deadline_scan_once_per_due_date_never_reappoints)
{
    char code[64];
    REQUIRE(routed_khai_sinh("rt-late-0001", code, sizeof code) == 0);
    long old_due = harness_count(&H, "UPDATE dossier SET due_at = date_trunc('second', now())"
                                 " - interval '1 hour' WHERE code = $1"
                                 " RETURNING extract(epoch FROM due_at)::bigint", code);
    REQUIRE(old_due > 0);
    const char *late_events = "SELECT count(*) FROM dossier_event e JOIN dossier d"
                              " ON d.id = e.dossier_id WHERE d.code = $1 AND e.kind = 'late'";
    const char *late_notes = "SELECT count(*) FROM notification n JOIN dossier d"
                             " ON d.id = n.dossier_id WHERE d.code = $1 AND n.kind = 'late'";
    CHECK_INT(harness_wait_count(&H, late_events, code, 1, 5000), 1);
    CHECK_INT(harness_count(&H, late_notes, code), 1);
    char key[128];
    snprintf(key, sizeof key, "%s/late/%ld", code, old_due);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification WHERE dedupe_key = $1", key), 1);
    CHECK_INT(harness_count(&H, "SELECT extract(epoch FROM late_notified_due)::bigint FROM dossier"
                            " WHERE code = $1", code), old_due);
    /* no re-appointment after the fact (issue 12: only the apology before the
     * due date re-appoints): the date stays, the notice has none and says
     * the dossier is late without apology */
    CHECK_INT(harness_count(&H, "SELECT extract(epoch FROM due_at)::bigint FROM dossier"
                            " WHERE code = $1", code), old_due);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification WHERE dedupe_key = $1"
                            " AND data->'new_due_at' = 'null'::jsonb"
                            " AND data->'apology' = 'false'::jsonb", key), 1);
    /* a later scan (a later dossier's report): nothing new */
    CHECK(later_scan_done("rt-late-mark1", false) == 0);
    CHECK_INT(harness_count(&H, late_events, code), 1);
    CHECK_INT(harness_count(&H, late_notes, code), 1);

    /* another due date passes (a supplement's, say): one more notice, no new date */
    long second_due = harness_count(&H, "UPDATE dossier SET due_at = date_trunc('second', now())"
                                    " - interval '10 minutes' WHERE code = $1"
                                    " RETURNING extract(epoch FROM due_at)::bigint", code);
    REQUIRE(second_due > 0);
    CHECK_INT(harness_wait_count(&H, late_events, code, 2, 5000), 2);
    CHECK_INT(harness_count(&H, late_notes, code), 2);
    CHECK(later_scan_done("rt-late-mark2", false) == 0);
    CHECK_INT(harness_count(&H, late_events, code), 2);
    CHECK_INT(harness_count(&H, "SELECT extract(epoch FROM due_at)::bigint FROM dossier"
                            " WHERE code = $1", code), second_due);
    CHECK_INT(harness_count(&H, "SELECT extract(epoch FROM late_notified_due)::bigint FROM dossier"
                            " WHERE code = $1", code), second_due);
}

/* issue 12.2: the warning before lateness, then late with or without an apology */
MC_TEST(due_soon_warns_once_then_late_says_whether_an_apology_went_out)
{
    char code[64], other[64];
    REQUIRE(routed_khai_sinh("rt-soon-0001", code, sizeof code) == 0);
    REQUIRE(routed_khai_sinh("rt-soon-0002", other, sizeof other) == 0);
    /* due in an hour: within any warn_before_days (>= 1 working day) */
    long due = harness_count(&H, "UPDATE dossier SET due_at = date_trunc('second', now())"
                             " + interval '1 hour' WHERE code = $1"
                             " RETURNING extract(epoch FROM due_at)::bigint", code);
    REQUIRE(due > 0);
    const char *soon = "SELECT count(*) FROM dossier_event e JOIN dossier d"
                       " ON d.id = e.dossier_id WHERE d.code = $1 AND e.kind = 'due_soon'";
    /* (a khai sinh dossier is due within two working days from the start, so
     * it may have been warned for its first date already: once per due date) */
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM dossier WHERE code = $1"
                                 " AND warned_due = due_at", code, 1, 5000), 1);
    long warned = harness_count(&H, soon, code);
    CHECK(warned >= 1);
    /* the open step is flagged for lienthong's DueSoon */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case c JOIN dossier d ON"
                            " d.id = c.dossier_id WHERE d.code = $1 AND c.step = 1"
                            " AND c.warn_pending", code), 1);
    CHECK(later_scan_done("rt-soon-mark1", false) == 0);
    CHECK_INT(harness_count(&H, soon, code), warned); /* once per due date */

    /* the date passes without an apology: late without apology, no new date */
    REQUIRE(harness_count(&H, "UPDATE dossier SET due_at = date_trunc('second', now())"
                          " - interval '1 minute' WHERE code = $1 RETURNING 1", code) == 1);
    const char *late = "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id = e.dossier_id"
                       " WHERE d.code = $1 AND e.kind = 'late'";
    CHECK_INT(harness_wait_count(&H, late, code, 1, 5000), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON"
                            " d.id = e.dossier_id WHERE d.code = $1 AND e.kind = 'late'"
                            " AND e.detail LIKE '%không có văn bản xin lỗi%'", code), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification n JOIN dossier d ON"
                            " d.id = n.dossier_id WHERE d.code = $1 AND n.kind = 'late'"
                            " AND n.data->'apology' = 'false'::jsonb", code), 1);

    /* the other one was extended with an apology (as lienthong writes it), then is late */
    REQUIRE(harness_count(&H, "UPDATE dossier SET due_at = date_trunc('second', now())"
                          " - interval '1 minute', extended_at = now(), apology_at = now(),"
                          " extension_reason = 'x' WHERE code = $1 RETURNING 1", other) == 1);
    CHECK_INT(harness_wait_count(&H, late, other, 1, 5000), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON"
                            " d.id = e.dossier_id WHERE d.code = $1 AND e.kind = 'late'"
                            " AND e.detail LIKE '%sau khi đã xin lỗi%'", other), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification n JOIN dossier d ON"
                            " d.id = n.dossier_id WHERE d.code = $1 AND n.kind = 'late'"
                            " AND n.data->'apology' = 'true'::jsonb", other), 1);
}

/* supplement_request - a SupplementDossier with one document */
typedef struct supp {
    Motcua__V1__SupplementDossier s;
    Motcua__V1__DocumentRef       doc;
    Motcua__V1__DocumentRef      *docs[1];
    uint8_t                       sha[32];
    Motcua__V1__IntakeRequest     req;
} supp_t;

/* supp_init - fill s for code with submission id sid */
static void supp_init(supp_t *s, const char *sid, const char *code)
{
    memset(s, 0, sizeof *s);
    Motcua__V1__DocumentRef doc = MOTCUA__V1__DOCUMENT_REF__INIT;
    doc.document_type = (char *)"GIAY_CHUNG_SINH";
    doc.name = (char *)"Giấy chứng sinh (bản rõ)";
    doc.media_type = (char *)"application/pdf";
    doc.size_bytes = 123456;
    memset(s->sha, 0x5c, sizeof s->sha);
    doc.sha256.data = s->sha;
    doc.sha256.len = 32;
    doc.uri = (char *)"https://dvc.example.vn/files/bo-sung.pdf";
    doc.form = MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_ORIGINAL;
    s->doc = doc;
    s->docs[0] = &s->doc;
    Motcua__V1__SupplementDossier sd = MOTCUA__V1__SUPPLEMENT_DOSSIER__INIT;
    sd.submission_id = (char *)sid;
    sd.dossier_code = (char *)code;
    sd.n_documents = 1;
    sd.documents = s->docs;
    sd.note = (char *)"Bổ sung giấy chứng sinh rõ nét";
    s->s = sd;
    Motcua__V1__IntakeRequest req = MOTCUA__V1__INTAKE_REQUEST__INIT;
    req.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_SUPPLEMENT;
    req.supplement = &s->s;
    s->req = req;
}

/* reply_of - unpack raw bytes (NULL on garbage) */
static Motcua__V1__IntakeReply *reply_of(const uint8_t *b, size_t n)
{
    return motcua__v1__intake_reply__unpack(NULL, n, b);
}

MC_TEST(supplement_resumes_and_restarts_the_clock)
{
    char code[64];
    REQUIRE(routed_khai_sinh("rt-supp-0001", code, sizeof code) == 0);
    supp_t s;
    supp_init(&s, "rt-supp-sid-0001", code);
    /* not waiting for documents: refused, nothing stored */
    Motcua__V1__IntakeReply *r = NULL;
    REQUIRE(harness_request(&H, &s.req, 10000, &r) == 0);
    CHECK(r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION &&
          r->rejection->reason == MOTCUA__V1__REASON__REASON_WRONG_STATE);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM idempotency_key WHERE key = $1",
                            "rt-supp-sid-0001"), 0);

    /* what lienthong does on NEEDS_DOCUMENTS */
    REQUIRE(exec_sql("UPDATE dossier SET state = " MC_SQL(MC_DOSSIER_WAITING_SUPPLEMENT) ", paused_at = now() WHERE code = $1", code) == 0);
    REQUIRE(exec_sql("UPDATE agency_case SET state = " MC_SQL(MC_CASE_PAUSED) ", attempts = 3 WHERE case_id = $1 || '/1'",
                     code) == 0);
    time_t before = time(NULL);
    uint8_t *first = NULL, *second = NULL;
    size_t first_len = 0, second_len = 0;
    REQUIRE(request_bytes(&s.req, &first, &first_len) == 0);
    time_t after = time(NULL);
    r = reply_of(first, first_len);
    REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_ACK);
    CHECK_STR(r->ack->dossier_code, code);
    CHECK_INT(r->ack->state, MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_IN_PROGRESS);
    /* the documented rule: mc_calendar_due(now, the procedure's time) */
    const mc_procedure_t *p = mc_catalog_find(CFG->catalog, "1.001193");
    REQUIRE(p);
    int64_t cf1, due1, cf2, due2;
    REQUIRE(mc_calendar_due(CFG->calendar, before, p->processing_time, p->time_unit,
                            p->cutoff_minutes, &cf1, &due1, NULL) == 0);
    REQUIRE(mc_calendar_due(CFG->calendar, after, p->processing_time, p->time_unit,
                            p->cutoff_minutes, &cf2, &due2, NULL) == 0);
    CHECK(r->ack->due_at == due1 || r->ack->due_at == due2);
    long due = (long)r->ack->due_at;
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE code = $1 AND state = " MC_SQL(MC_DOSSIER_IN_PROGRESS)
                            " AND paused_at IS NULL", code), 1);
    CHECK_INT(harness_count(&H, "SELECT extract(epoch FROM due_at)::bigint FROM dossier"
                            " WHERE code = $1", code), due);
    long counted = harness_count(&H, "SELECT extract(epoch FROM counted_from)::bigint FROM dossier"
                                 " WHERE code = $1", code);
    CHECK(counted == cf1 || counted == cf2);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case WHERE case_id = $1 || '/1'"
                            " AND state = " MC_SQL(MC_CASE_QUEUED) " AND attempts = 0", code), 1);
    CHECK_INT(harness_count(&H, "SELECT extract(epoch FROM due_at)::bigint FROM agency_case"
                            " WHERE case_id = $1 || '/1'", code), due);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id ="
                            " e.dossier_id WHERE d.code = $1 AND e.kind = 'supplemented'", code), 1);
    /* the payload now holds the old documents and the new one */
    const char *const pc[1] = {code};
    PGresult *res = PQexecParams(harness_db(&H), "SELECT payload FROM dossier WHERE code = $1", 1,
                                 NULL, pc, NULL, NULL, 1);
    REQUIRE(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1);
    Motcua__V1__Dossier *stored = motcua__v1__dossier__unpack(
        NULL, (size_t)PQgetlength(res, 0, 0), (const uint8_t *)PQgetvalue(res, 0, 0));
    PQclear(res);
    REQUIRE(stored);
    CHECK_INT(stored->n_documents, 4);
    if (stored->n_documents == 4)
        CHECK_STR(stored->documents[3]->name, "Giấy chứng sinh (bản rõ)");
    motcua__v1__dossier__free_unpacked(stored, NULL);

    /* a retry: the same bytes, nothing new (the clock moves on first, so a
     * rebuilt answer would show a later time) */
    CHECK(harness_wait_next_second() == 0);
    REQUIRE(request_bytes(&s.req, &second, &second_len) == 0);
    CHECK(first_len == second_len && memcmp(first, second, first_len) == 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id ="
                            " e.dossier_id WHERE d.code = $1 AND e.kind = 'supplemented'", code), 1);
    free(first);
    free(second);
    /* the same id for another request */
    s.s.note = (char *)"Một ghi chú khác";
    REQUIRE(harness_request(&H, &s.req, 10000, &r) == 0);
    CHECK(r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION &&
          r->rejection->reason == MOTCUA__V1__REASON__REASON_DUPLICATE_SUBMISSION);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    /* the CLI: a supplement file for another paused dossier; resending it is a retry */
    char other[64], path[400], args[500];
    REQUIRE(routed_khai_sinh("rt-supp-0002", other, sizeof other) == 0);
    REQUIRE(exec_sql("UPDATE dossier SET state = " MC_SQL(MC_DOSSIER_WAITING_SUPPLEMENT) ", paused_at = now() WHERE code = $1", other) == 0);
    snprintf(path, sizeof path, "%s/supplement.yaml", H.dir);
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fprintf(f, "submission_id: \"rt-supp-cli-0001\"\ndossier_code: \"%s\"\nnote: \"bổ sung\"\n"
               "documents:\n  - {type: GIAY_CHUNG_SINH, name: \"Giấy chứng sinh\","
               " media_type: application/pdf, size: 1000, sha256: \"%064d\","
               " uri: \"https://dvc.example.vn/f.pdf\", form: original, copies: 1}\n", other, 7);
    fclose(f);
    snprintf(args, sizeof args, "supplement %s", path);
    CHECK_INT(harness_motcua(&H, args), 0);
    CHECK_INT(harness_motcua(&H, args), 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id ="
                            " e.dossier_id WHERE d.code = $1 AND e.kind = 'supplemented'", other), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE code = $1 AND state = " MC_SQL(MC_DOSSIER_IN_PROGRESS), other), 1);
    /* an unknown dossier */
    supp_init(&s, "rt-supp-sid-0002", "000.22.29.H26-990101-9999");
    REQUIRE(harness_request(&H, &s.req, 10000, &r) == 0);
    CHECK(r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION &&
          r->rejection->reason == MOTCUA__V1__REASON__REASON_NOT_FOUND);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
}

MC_TEST(withdraw_cancels_open_cases_until_result_ready)
{
    char code[64];
    REQUIRE(routed_khai_sinh("rt-wd-0001", code, sizeof code) == 0);
    Motcua__V1__WithdrawDossier w = MOTCUA__V1__WITHDRAW_DOSSIER__INIT;
    w.submission_id = (char *)"rt-wd-sid-0001";
    w.dossier_code = code;
    w.reason = (char *)"Đã nộp nhầm thủ tục";
    Motcua__V1__IntakeRequest req = MOTCUA__V1__INTAKE_REQUEST__INIT;
    req.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_WITHDRAW;
    req.withdraw = &w;
    uint8_t *first = NULL, *second = NULL;
    size_t first_len = 0, second_len = 0;
    REQUIRE(request_bytes(&req, &first, &first_len) == 0);
    Motcua__V1__IntakeReply *r = reply_of(first, first_len);
    REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_ACK);
    CHECK_INT(r->ack->state, MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_WITHDRAWN);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE code = $1 AND state = " MC_SQL(MC_DOSSIER_WITHDRAWN), code), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case c JOIN dossier d ON d.id ="
                            " c.dossier_id WHERE d.code = $1 AND c.state <> " MC_SQL(MC_CASE_CANCELLED), code), 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id ="
                            " e.dossier_id WHERE d.code = $1 AND e.kind = 'withdrawn'", code), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification n JOIN dossier d ON d.id ="
                            " n.dossier_id WHERE d.code = $1 AND n.kind = 'withdrawn'", code), 1);
    REQUIRE(request_bytes(&req, &second, &second_len) == 0);
    CHECK(first_len == second_len && memcmp(first, second, first_len) == 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id ="
                            " e.dossier_id WHERE d.code = $1 AND e.kind = 'withdrawn'", code), 1);
    free(first);
    free(second);

    /* once the result is ready it is too late */
    char ready[64];
    REQUIRE(routed_khai_sinh("rt-wd-0002", ready, sizeof ready) == 0);
    REQUIRE(exec_sql("UPDATE dossier SET state = " MC_SQL(MC_DOSSIER_RESULT_READY) ", result_at = now() WHERE code = $1", ready) == 0);
    w.submission_id = (char *)"rt-wd-sid-0002";
    w.dossier_code = ready;
    REQUIRE(harness_request(&H, &req, 10000, &r) == 0);
    CHECK(r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION &&
          r->rejection->reason == MOTCUA__V1__REASON__REASON_WRONG_STATE);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE code = $1 AND state = " MC_SQL(MC_DOSSIER_RESULT_READY), ready), 1);

    /* the CLI: exit 0 withdrawn, 2 refused */
    char third[64], args[256];
    REQUIRE(routed_khai_sinh("rt-wd-0003", third, sizeof third) == 0);
    snprintf(args, sizeof args, "withdraw %s --id rt-wd-cli-0003 --reason 'không cần nữa'", third);
    CHECK_INT(harness_motcua(&H, args), 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE code = $1 AND state = " MC_SQL(MC_DOSSIER_WITHDRAWN), third), 1);
    snprintf(args, sizeof args, "withdraw %s --id rt-wd-cli-0004", ready);
    CHECK_INT(harness_motcua(&H, args), 2);
}

int main(void)
{
    if (harness_setup(&H, "router", 4) != 0 || rewrite_config() != 0) {
        printf("it_router: setup failed\n");
        harness_teardown(&H);
        printf("it_router: 0 passed, 1 failed\n");
        return 1;
    }
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_cfg_load(H.config, &CFG, &err) != 0 || harness_start_intake(&H) != 0 ||
        (router_a = start_router("router-a")) <= 0) {
        printf("it_router: start failed\n%s", err.text);
        mc_cfg_destroy(&CFG);
        harness_teardown(&H);
        printf("it_router: 0 passed, 1 failed\n");
        return 1;
    }
    mc_test_run(intake_publishes_received_event);
    mc_test_run(two_routers_route_each_dossier_exactly_once);
    mc_test_run(plan_rows_match_catalog_steps);
    mc_test_run(ward_override_applies);
    mc_test_run(deadline_scan_once_per_due_date_never_reappoints);
    mc_test_run(due_soon_warns_once_then_late_says_whether_an_apology_went_out);
    mc_test_run(overdue_agency_step_is_reported_once_per_due_date);
    mc_test_run(supplement_resumes_and_restarts_the_clock);
    mc_test_run(withdraw_cancels_open_cases_until_result_ready);
    /* both routers stop cleanly on SIGTERM */
    int a = stop_router(router_a);
    int b = router_b > 0 ? stop_router(router_b) : 0;
    if (a != 0 || b != 0)
        printf("  FAIL routers stopped with %d and %d\n", a, b);
    /* both instances took part in two_routers_route_each_dossier_exactly_once (printed, not
     * asserted: the split is up to timing); a routed dossier is a debug line, counted in
     * the summaries, the last one at the stop */
    harness_run("for r in a b; do printf '  router %%s routed %%s\\n' $r $(grep -o"
                " 'event=summary.* routed=[0-9]*' %s/router-$r.log | sed 's/.*routed=//'"
                " | awk '{s += $1} END {print s + 0}'); done", H.dir);
    mc_cfg_destroy(&CFG);
    mc_transport_term();
    harness_teardown(&H);
    int rc = mc_test_done("it_router");
    return (a != 0 || b != 0) ? 1 : rc;
}
