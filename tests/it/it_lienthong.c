/*
 * it_lienthong - motcua-lienthong and motcua-agency against a real
 * PostgreSQL, real CURVE sockets and real processes.
 *
 * One cluster, one intake and one lienthong for the program. Dossiers come
 * in through motcua-intake; route_like_router() then writes what
 * motcua-router will write (docs/pipeline.md: ROUTED, department, `routed`
 * event, every agency_case of the plan) so these tests do not depend on the
 * router; replace it with starting motcua-router when that exists.
 * Agencies are motcua-agency processes, or a raw CURVE client in the test
 * where the test must misbehave (never ack, answer twice, spoof).
 * Timings are short (heartbeat 300 ms, ack timeout 700 ms, 3 attempts,
 * lease 3 s). The session tests (issue 8) are written as the faults they
 * guard against: the hub killed under a connected agency, an agency that
 * dies holding acked cases, a resync that forgets a case, an operator
 * taking a case back.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>
#include <zmq.h>

#include "mc_states.h"
#include "mc_store_cases.h"
#include "harness.h"
#include "mc_calendar.h"
#include "mc_catalog.h"
#include "mc_curve.h"
#include "mc_test.h"
#include "mc_transport.h"
#include "motcua/v1/agency.pb-c.h"

static harness_t     H;           /* cluster, intake */
static pid_t         hub_pid;     /* motcua-lienthong */
static char          hub_endpoint[64];
static char          keys[400];   /* DIR/keys */
static mc_catalog_t *catalog;     /* the repo's procedures, for the plans */

static const char *const agency_codes[] = {"TU_PHAP", "UBND_XA_TUPHAP", "CONG_AN_XA", "BHXH", NULL};

/* exec_sql - a statement with up to 4 text parameters; 0 on success */
static int exec_sql(const char *sql, int n, const char *const *params)
{
    PGresult *res = PQexecParams(harness_db(&H), sql, n, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "sql failed: %s", PQresultErrorMessage(res));
    PQclear(res);
    return ok ? 0 : -1;
}

/*
 * route_like_router - what motcua-router does for one RECEIVED dossier
 * (docs/pipeline.md): state ROUTED, department, `routed` event, step 1 for
 * the department queued, the partner steps planned. Kept apart so it can
 * be replaced by the real router.
 */
static int route_like_router(const char *code)
{
    PGresult *res = PQexecParams(harness_db(&H), "SELECT procedure_code FROM dossier WHERE code = $1",
                                 1, NULL, (const char *const[]){code}, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        PQclear(res);
        return -1;
    }
    const mc_procedure_t *p = mc_catalog_find(catalog, PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!p)
        return -1;
    int total = 1 + (int)p->n_steps;
    char total_text[16];
    snprintf(total_text, sizeof total_text, "%d", total);
    if (exec_sql("BEGIN", 0, NULL) != 0)
        return -1;
    /* an online dossier (2.000986 is online only) as its desk's acceptance leaves it
     * (it_acceptance walks the real acceptance): RECEIVED, counted from now */
    int rc = exec_sql("UPDATE dossier SET state = " MC_SQL(MC_DOSSIER_RECEIVED) ", accepted_at = now(), counted_from = now(),"
                      " due_at = now() + interval '7 days' WHERE code = $1 AND state = " MC_SQL(MC_DOSSIER_PENDING_ACCEPTANCE), 1,
                      (const char *const[]){code});
    rc |= exec_sql("UPDATE dossier SET state = " MC_SQL(MC_DOSSIER_ROUTED) ", department = $2 WHERE code = $1 AND state = " MC_SQL(MC_DOSSIER_RECEIVED), 2,
                      (const char *const[]){code, p->department});
    rc |= exec_sql("INSERT INTO dossier_event (dossier_id, at, actor, kind, detail)"
                   " SELECT id, now(), 'router', 'routed', $2 FROM dossier WHERE code = $1", 2,
                   (const char *const[]){code, p->department});
    for (int step = 1; step <= total; step++) {
        char case_id[96], step_text[16], limit[16], unit[16];
        snprintf(case_id, sizeof case_id, "%s/%d", code, step);
        snprintf(step_text, sizeof step_text, "%d", step);
        const mc_agency_step_t *s = step > 1 ? &p->steps[step - 2] : NULL;
        snprintf(limit, sizeof limit, "%d", s ? s->time_limit : p->processing_time);
        snprintf(unit, sizeof unit, "%d", s ? (int)s->time_unit : (int)p->time_unit);
        const char *params[8] = {case_id, code, step_text, total_text,
                                 s ? s->agency : p->department, s ? s->task : "Tiếp nhận, xử lý",
                                 limit, unit};
        rc |= exec_sql("INSERT INTO agency_case (case_id, dossier_id, step, steps_total, agency, task,"
                       " state, time_limit, time_unit, due_at)"
                       " SELECT $1, id, $3::smallint, $4::smallint, $5, $6,"
                       " CASE WHEN $3::integer = 1 THEN 1 ELSE 0 END, $7::integer, $8::smallint,"
                       " CASE WHEN $3::integer = 1 THEN now() + interval '1 day' END"
                       " FROM dossier WHERE code = $2", 8, params);
    }
    rc |= exec_sql(rc ? "ROLLBACK" : "COMMIT", 0, NULL);
    return rc ? -1 : 0;
}

/* submit - hand a dossier to intake; the code into code (64 bytes); 0 on a receipt */
static int submit(harness_dossier_t *d, char *code)
{
    Motcua__V1__IntakeReply *r = NULL;
    if (harness_request(&H, &d->request, 10000, &r) != 0)
        return -1;
    int ok = r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT;
    if (ok)
        snprintf(code, 64, "%s", r->receipt->dossier_code);
    else
        fprintf(stderr, "submit refused: %s\n", harness_reason_name(r->rejection->reason));
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    return ok ? 0 : -1;
}

/* new_routed - a routed birth registration (one step, TU_PHAP) */
static int new_routed(const char *submission_id, char *code)
{
    harness_dossier_t d;
    harness_dossier_init(&d, submission_id);
    if (submit(&d, code) != 0)
        return -1;
    return route_like_router(code);
}

/* start_agency - motcua-agency for code with its key; extra options NULL-terminated */
static pid_t start_agency(const char *code, const char *key_name, const char *log, const char *a1,
                          const char *a2, const char *a3, const char *a4)
{
    char key[500], server[500];
    snprintf(key, sizeof key, "%s/%s.key", keys, key_name);
    snprintf(server, sizeof server, "%s/lienthong.pub", keys);
    const char *args[] = {"-c", H.config, "--agency", code, "--key", key, "--server-key", server,
                          "--delay-ms", "50", a1, a2, a3, a4, NULL};
    return harness_spawn(&H, "motcua-agency", log, args);
}

/* log_has - does DIR/log contain text? */
static bool log_has(const char *log, const char *text)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "grep -qF -- '%s' %s/%s", text, H.dir, log);
    return system(cmd) == 0;
}

/* wait_log - log_has, polled until true or ms pass */
static bool wait_log(const char *log, const char *text, int ms)
{
    int64_t deadline = harness_now_ms() + ms;
    while (!log_has(log, text)) {
        if (harness_now_ms() >= deadline)
            return false;
        usleep(50000);
    }
    return true;
}

/* --- a raw CURVE client, for agencies that misbehave on purpose -------------- */

/* raw_socket - a CURVE DEALER in ctx as agency key_name, with routing id rid
 * (NULL: ZeroMQ picks one), as an agency's own software may set it */
static void *raw_socket_as(void *ctx, const char *key_name, const char *rid, bool once);

/* raw_socket - a DEALER as agency key_name (optional routing id) in ctx */
static void *raw_socket(void *ctx, const char *key_name, const char *rid)
{
    return raw_socket_as(ctx, key_name, rid, false);
}

/* raw_socket_as - the same; once: never reconnect after the hub cuts it */
static void *raw_socket_as(void *ctx, const char *key_name, const char *rid, bool once)
{
    char path[500], secret[41], pub[41], server[41];
    mc_err_t err;
    mc_err_clear(&err);
    snprintf(path, sizeof path, "%s/%s.key", keys, key_name);
    if (mc_curve_read_key(path, secret, &err) != 0 || mc_curve_public_of(secret, pub, &err) != 0)
        return NULL;
    snprintf(path, sizeof path, "%s/lienthong.pub", keys);
    if (mc_curve_read_key(path, server, &err) != 0)
        return NULL;
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0;
    if (!s || zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server, 40) != 0 ||
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 40) != 0 ||
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, secret, 40) != 0 ||
        (rid && zmq_setsockopt(s, ZMQ_ROUTING_ID, rid, strlen(rid)) != 0) ||
        (once && zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &(int){-1}, sizeof(int)) != 0) ||
        zmq_connect(s, hub_endpoint) != 0) {
        if (s)
            zmq_close(s);
        return NULL;
    }
    return s;
}

/* raw_connect - a DEALER as agency key_name */
static void *raw_connect(const char *key_name)
{
    return raw_socket(mc_transport_ctx(), key_name, NULL);
}

/* raw_send - one AgencyToHub */
static void raw_send(void *s, const Motcua__V1__AgencyToHub *m)
{
    size_t n = motcua__v1__agency_to_hub__get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    motcua__v1__agency_to_hub__pack(m, buf);
    zmq_send(s, buf, n, 0);
    free(buf);
}

static uint64_t raw_epoch; /* the hub epoch in the last Heartbeat or Hello a raw client got */

/* raw_resync - Ready{resync, credit, session, holding: case_ids at revision 1} */
static void raw_resync(void *s, uint32_t credit, const char *session, const char *const *held,
                       size_t n_held)
{
    Motcua__V1__HeldCase cases[8], *ptrs[8];
    for (size_t i = 0; i < n_held && i < 8; i++) {
        motcua__v1__held_case__init(&cases[i]);
        cases[i].case_id = (char *)held[i];
        cases[i].revision = 1;
        ptrs[i] = &cases[i];
    }
    Motcua__V1__Ready r = MOTCUA__V1__READY__INIT;
    r.credit = credit;
    r.session = (char *)session;
    r.resync = 1;
    r.hub_epoch = raw_epoch;
    r.n_holding = n_held < 8 ? n_held : 8;
    r.holding = ptrs;
    Motcua__V1__AgencyToHub m = MOTCUA__V1__AGENCY_TO_HUB__INIT;
    m.body_case = MOTCUA__V1__AGENCY_TO_HUB__BODY_READY;
    m.ready = &r;
    raw_send(s, &m);
}

/* raw_ready - Ready{credit}: a plain one, as older clients send */
static void raw_ready(void *s, uint32_t credit)
{
    Motcua__V1__Ready r = MOTCUA__V1__READY__INIT;
    r.credit = credit;
    Motcua__V1__AgencyToHub m = MOTCUA__V1__AGENCY_TO_HUB__INIT;
    m.body_case = MOTCUA__V1__AGENCY_TO_HUB__BODY_READY;
    m.ready = &r;
    raw_send(s, &m);
}

/* raw_heartbeat - Heartbeat */
static void raw_heartbeat(void *s)
{
    Motcua__V1__Heartbeat hb = MOTCUA__V1__HEARTBEAT__INIT;
    Motcua__V1__AgencyToHub m = MOTCUA__V1__AGENCY_TO_HUB__INIT;
    m.body_case = MOTCUA__V1__AGENCY_TO_HUB__BODY_HEARTBEAT;
    m.heartbeat = &hb;
    raw_send(s, &m);
}

/* raw_ack - CaseAck */
static void raw_ack(void *s, const char *case_id)
{
    Motcua__V1__CaseAck a = MOTCUA__V1__CASE_ACK__INIT;
    a.case_id = (char *)case_id;
    Motcua__V1__AgencyToHub m = MOTCUA__V1__AGENCY_TO_HUB__INIT;
    m.body_case = MOTCUA__V1__AGENCY_TO_HUB__BODY_ACK;
    m.ack = &a;
    raw_send(s, &m);
}

/* raw_result - CaseResult with outcome (and a reason when rejected) */
static void raw_result(void *s, const char *case_id, Motcua__V1__Outcome outcome, const char *reason)
{
    Motcua__V1__CaseResult r = MOTCUA__V1__CASE_RESULT__INIT;
    r.case_id = (char *)case_id;
    r.outcome = outcome;
    r.reason = (char *)(reason ? reason : "");
    r.handled_by = (char *)"it_lienthong";
    Motcua__V1__AgencyToHub m = MOTCUA__V1__AGENCY_TO_HUB__INIT;
    m.body_case = MOTCUA__V1__AGENCY_TO_HUB__BODY_RESULT;
    m.result = &r;
    raw_send(s, &m);
}

/* raw_frame - the next frame that is not a heartbeat, nor a Hello unless
 * want_hello (heartbeating back meanwhile; raw_epoch follows the hub); NULL on timeout */
static Motcua__V1__HubToAgency *raw_frame(void *s, int ms, bool want_hello)
{
    int64_t deadline = harness_now_ms() + ms, beat = 0;
    while (harness_now_ms() < deadline) {
        if (harness_now_ms() - beat >= 100) {
            raw_heartbeat(s);
            beat = harness_now_ms();
        }
        zmq_pollitem_t item = {s, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 50) <= 0)
            continue;
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, s, 0) < 0) {
            zmq_msg_close(&msg);
            continue;
        }
        Motcua__V1__HubToAgency *m =
            motcua__v1__hub_to_agency__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
        zmq_msg_close(&msg);
        if (m && m->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_HEARTBEAT)
            raw_epoch = m->heartbeat->epoch;
        if (m && m->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_HELLO)
            raw_epoch = m->hello->epoch;
        if (m && m->body_case != MOTCUA__V1__HUB_TO_AGENCY__BODY_HEARTBEAT &&
            (want_hello || m->body_case != MOTCUA__V1__HUB_TO_AGENCY__BODY_HELLO))
            return m;
        if (m)
            motcua__v1__hub_to_agency__free_unpacked(m, NULL);
    }
    return NULL;
}

/* raw_next - the next frame that is neither a heartbeat nor a Hello; NULL on timeout */
static Motcua__V1__HubToAgency *raw_next(void *s, int ms)
{
    return raw_frame(s, ms, false);
}

/* raw_take_case - the next frame must be case_id (attempt into *attempt); acks it if ack */
static bool raw_take_case(void *s, const char *case_id, int *attempt, bool ack)
{
    Motcua__V1__HubToAgency *m = raw_next(s, 8000);
    bool ok = m && m->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_CASE &&
              strcmp(m->case_->case_id, case_id) == 0 && m->case_->revision == 1;
    if (!ok)
        fprintf(stderr, "  expected case %s, got %s\n", case_id,
                !m ? "nothing" : m->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_CASE
                                     ? m->case_->case_id : "another frame");
    if (ok && attempt)
        *attempt = (int)m->case_->attempt;
    if (m)
        motcua__v1__hub_to_agency__free_unpacked(m, NULL);
    if (ok && ack)
        raw_ack(s, case_id);
    return ok;
}

/* raw_finish - approve case_id and wait for the ResultAck: leaves nothing open */
static bool raw_finish(void *s, const char *case_id)
{
    raw_result(s, case_id, MOTCUA__V1__OUTCOME__OUTCOME_APPROVED, NULL);
    Motcua__V1__HubToAgency *m = raw_next(s, 5000);
    bool ok = m && m->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_RESULT_ACK &&
              m->result_ack->accepted;
    if (m)
        motcua__v1__hub_to_agency__free_unpacked(m, NULL);
    return ok;
}

/* acked_by - 1 when case_id is acked (state 3) under session, 0 if not, -1 on error */
static long acked_by(const char *case_id, const char *session)
{
    PGresult *res = PQexecParams(harness_db(&H), "SELECT count(*) FROM agency_case WHERE"
                                 " case_id = $1 AND state = " MC_SQL(MC_CASE_ACKED) " AND lease_session = $2",
                                 2, NULL, (const char *const[]){case_id, session}, NULL, NULL, 0);
    long n = PQresultStatus(res) == PGRES_TUPLES_OK ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    PQclear(res);
    return n;
}

/* wait_acked_by - acked_by polled until 1 or ms pass */
static bool wait_acked_by(const char *case_id, const char *session, int ms)
{
    int64_t deadline = harness_now_ms() + ms;
    while (acked_by(case_id, session) != 1) {
        if (harness_now_ms() >= deadline)
            return false;
        usleep(20000);
    }
    return true;
}

/* routed_and_held - a new routed dossier (case_id: 96 bytes) whose case a raw
 * TU_PHAP client of session took and acked; that client, or NULL */
static void *routed_and_held(const char *submission_id, const char *session, char *case_id)
{
    char code[64];
    if (new_routed(submission_id, code) != 0)
        return NULL;
    snprintf(case_id, 96, "%s/1", code);
    void *s = raw_connect("TU_PHAP");
    if (!s)
        return NULL;
    raw_resync(s, 1, session, NULL, 0);
    if (!raw_take_case(s, case_id, NULL, true) || !wait_acked_by(case_id, session, 5000))
        mc_transport_close(&s);
    return s;
}

/* events - how many events of kind the dossier of case_id has */
static long events(const char *case_id, const char *kind)
{
    PGresult *res = PQexecParams(harness_db(&H), "SELECT count(*) FROM dossier_event e JOIN"
                                 " agency_case c ON c.dossier_id = e.dossier_id"
                                 " WHERE c.case_id = $1 AND e.kind = $2",
                                 2, NULL, (const char *const[]){case_id, kind}, NULL, NULL, 0);
    long n = PQresultStatus(res) == PGRES_TUPLES_OK ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    PQclear(res);
    return n;
}

/* --- tests ---------------------------------------------------------------- */

/* new_inter_agency - a routed 2.000986 dossier (the desk + 3 partners, online only) */
static int new_inter_agency(const char *submission_id, char *code)
{
    harness_dossier_t d;
    harness_dossier_init(&d, submission_id);
    d.dossier.procedure_code = (char *)"2.000986";
    d.dossier.channel = MOTCUA__V1__CHANNEL__CHANNEL_ONLINE; /* online only */
    d.docs[0].document_type = (char *)"TO_KHAI_LIEN_THONG";
    d.docs[0].name = (char *)"Tờ khai điện tử liên thông";
    d.dossier.n_documents = 2;
    if (submit(&d, code) != 0)
        return -1;
    return route_like_router(code);
}

MC_TEST(inter_agency_dossier_visits_agencies_in_order)
{
    char code[64];
    REQUIRE(new_inter_agency("lt-order-0001", code) == 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case c JOIN dossier d ON d.id = c.dossier_id"
                            " WHERE d.code = $1", code), 4);
    pid_t pids[4];
    char log[64];
    for (int i = 0; i < 4; i++) {
        snprintf(log, sizeof log, "agency-order-%s.log", agency_codes[i]);
        pids[i] = start_agency(agency_codes[i], agency_codes[i], log, "--outcomes", "approved=100",
                               NULL, NULL);
    }
    CHECK_INT(harness_wait_count(&H, "SELECT state FROM dossier WHERE code = $1", code, MC_DOSSIER_RESULT_READY, 20000), MC_DOSSIER_RESULT_READY);
    for (int i = 0; i < 4; i++)
        harness_stop_daemon(pids[i], SIGTERM);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case c JOIN dossier d ON d.id = c.dossier_id"
                            " WHERE d.code = $1 AND c.state = " MC_SQL(MC_CASE_DONE) " AND c.outcome = " MC_SQL(MC_OUTCOME_APPROVED), code), 4);
    /* step_done events come from the four agencies in the plan's order */
    PGresult *res = PQexecParams(harness_db(&H),
                                 "SELECT e.actor FROM dossier_event e JOIN dossier d ON d.id = e.dossier_id"
                                 " WHERE d.code = $1 AND e.kind = 'step_done' ORDER BY e.id",
                                 1, NULL, (const char *const[]){code}, NULL, NULL, 0);
    REQUIRE(PQresultStatus(res) == PGRES_TUPLES_OK);
    CHECK_INT(PQntuples(res), 4);
    for (int i = 0; i < 4 && i < PQntuples(res); i++)
        CHECK_STR(PQgetvalue(res, i, 0), agency_codes[i]);
    PQclear(res);
    /* every step was sent once, after the previous one was done */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id = e.dossier_id"
                            " WHERE d.code = $1 AND e.kind = 'sent_to_agency'", code), 4);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event s JOIN dossier d ON d.id = s.dossier_id"
                            " JOIN dossier_event p ON p.dossier_id = d.id AND p.kind = 'step_done'"
                            " WHERE d.code = $1 AND s.kind = 'sent_to_agency' AND s.detail LIKE 'bước 2/%'"
                            " AND p.actor = 'TU_PHAP' AND p.id < s.id", code), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id = e.dossier_id"
                            " WHERE d.code = $1 AND e.kind = 'result_ready' AND e.actor = 'BHXH'", code), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification n JOIN dossier d ON d.id = n.dossier_id"
                            " WHERE d.code = $1 AND n.kind = 'result_ready'", code), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE code = $1 AND result_at IS NOT NULL",
                            code), 1);
    /* the last agency saw the three earlier results */
    CHECK(log_has("agency-order-BHXH.log", "step=4/4 previous=3"));
    /* the timeline through `motcua status` names the agencies */
    char args[128];
    snprintf(args, sizeof args, "status %s", code);
    CHECK_INT(harness_motcua(&H, args), 0);
    CHECK(log_has("motcua.out", "step_done") || log_has("motcua.out", "BHXH"));
}

MC_TEST(offline_agency_gets_its_cases_on_reconnect)
{
    char a[64], b[64];
    REQUIRE(new_routed("lt-offline-0001", a) == 0);
    REQUIRE(new_routed("lt-offline-0002", b) == 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case WHERE case_id IN ($1 || '/1')"
                            " AND state = " MC_SQL(MC_CASE_QUEUED) " AND attempts = 0", a), 1);
    pid_t pid = start_agency("TU_PHAP", "TU_PHAP", "agency-offline.log", "--outcomes", "approved=100",
                             "--count", "2");
    CHECK_INT(harness_wait_exit(&pid, 15000), 0);
    if (pid)
        harness_stop_daemon(pid, SIGKILL);
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", a), MC_DOSSIER_RESULT_READY);
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", b), MC_DOSSIER_RESULT_READY);
    /* each went out once, to the agency: nothing was sent into the void meanwhile */
    CHECK_INT(harness_count(&H, "SELECT attempts FROM agency_case WHERE case_id = $1 || '/1'", a), 1);
    CHECK_INT(harness_count(&H, "SELECT attempts FROM agency_case WHERE case_id = $1 || '/1'", b), 1);
}

MC_TEST(unacked_case_is_redelivered_with_the_same_case_id)
{
    char code[64], line[160];
    REQUIRE(new_routed("lt-redeliver-0001", code) == 0);
    char key[500], server[500];
    snprintf(key, sizeof key, "%s/TU_PHAP.key", keys);
    snprintf(server, sizeof server, "%s/lienthong.pub", keys);
    const char *args[] = {"-c", H.config, "--agency", "TU_PHAP", "--key", key, "--server-key", server,
                          "--delay-ms", "50", "--outcomes", "approved=100", "--count", "1",
                          "--drop-first-ack", NULL};
    pid_t pid = harness_spawn(&H, "motcua-agency", "agency-drop.log", args);
    CHECK_INT(harness_wait_exit(&pid, 15000), 0);
    if (pid)
        harness_stop_daemon(pid, SIGKILL);
    snprintf(line, sizeof line, "case_dropped case=%s/1 attempt=1", code);
    CHECK(log_has("agency-drop.log", line));
    snprintf(line, sizeof line, "case_received case=%s/1 attempt=2", code);
    CHECK(log_has("agency-drop.log", line));
    char case_id[96];
    snprintf(case_id, sizeof case_id, "%s/1", code);
    /* at least the dropped delivery and the one acked: on a loaded machine the ack of
     * attempt 2 may miss the 700 ms ack timeout too, and a third send is then correct
     * (at-least-once); what must hold is one answer and one step in the timeline */
    CHECK(harness_count(&H, "SELECT attempts FROM agency_case WHERE case_id = $1", case_id) >= 2);
    CHECK_INT(harness_count(&H, "SELECT state FROM agency_case WHERE case_id = $1", case_id), MC_CASE_DONE);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id = e.dossier_id"
                            " WHERE d.code = $1 AND e.kind = 'step_done'", code), 1);
    /* sent_to_agency once: a resend is not a new step in the timeline */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id = e.dossier_id"
                            " WHERE d.code = $1 AND e.kind = 'sent_to_agency'", code), 1);
}

/* claim_steps - one store claim for agency CLAIM_ORDER (limit, 3 attempts at
 * most): the claimed steps into steps (their attempt into attempts), *dead the
 * dead letters; the number claimed, -1 on a store error */
static int claim_steps(mc_store_t *store, int limit, int *steps, int *attempts, int *dead)
{
    /* an hour: the claimed cases must not fall due again between the test's
     * claims, however slowly a loaded machine runs them (with 1 s they did) */
    static const int64_t resend_ms[] = {3600000};
    mc_case_t *cases = NULL;
    size_t n = 0;
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_store_cases_claim(store, "CLAIM_ORDER", limit, resend_ms, 1, 3, &cases, &n, dead,
                             &err) != MC_STORE_OK) {
        char why[256];
        fprintf(stderr, "claim: %s\n", mc_err_first(&err, why, sizeof why));
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        steps[i] = cases[i].step;
        attempts[i] = cases[i].attempt;
    }
    mc_cases_free(&cases, n);
    return (int)n;
}

/* the case claim (0020_hot_claims: candidates from the queued and due-sent
 * index ranges) returns what the plain `queued OR due sent ORDER BY id`
 * did: the oldest claimable first, queued and resends mixed, never a held,
 * not yet due or dead one. CLAIM_ORDER has no connection: only the test claims */
MC_TEST(claim_takes_the_oldest_queued_or_due_cases_and_nothing_else)
{
    char code[64];
    REQUIRE(new_routed("lt-claim-order-0001", code) == 0);
    /* its step 1 becomes CLAIM_ORDER's and held, so no later test's TU_PHAP gets it */
    REQUIRE(harness_count(&H, "WITH u AS (UPDATE agency_case SET agency = 'CLAIM_ORDER', state = "
                          MC_SQL(MC_CASE_ACKED) " WHERE case_id = $1 || '/1' AND state = "
                          MC_SQL(MC_CASE_QUEUED) " AND attempts = 0 RETURNING 1) SELECT count(*) FROM u",
                          code) == 1);
    /* steps 2..9 in id order: state, attempts, next attempt from now */
    REQUIRE(exec_sql("INSERT INTO agency_case (case_id, dossier_id, step, steps_total, agency, task,"
                     " state, attempts, next_attempt_at)"
                     " SELECT $1 || '/' || v.s, d.id, v.s, 9, 'CLAIM_ORDER', 'kiểm tra', v.st, v.a,"
                     " now() + v.due FROM dossier d, (VALUES"
                     " (2, " MC_SQL(MC_CASE_ACKED) ", 1, NULL::interval),"
                     " (3, " MC_SQL(MC_CASE_SENT) ", 1, interval '-1 second'),"
                     " (4, " MC_SQL(MC_CASE_ACKED) ", 1, NULL),"
                     " (5, " MC_SQL(MC_CASE_QUEUED) ", 0, NULL),"
                     " (6, " MC_SQL(MC_CASE_SENT) ", 1, interval '1 hour'),"
                     " (7, " MC_SQL(MC_CASE_SENT) ", 3, interval '-1 second'),"
                     " (8, " MC_SQL(MC_CASE_QUEUED) ", 0, NULL),"
                     " (9, " MC_SQL(MC_CASE_QUEUED) ", 0, NULL)) AS v(s, st, a, due)"
                     " WHERE d.code = $1 ORDER BY v.s", 1, (const char *const[]){code}) == 0);
    mc_store_t *store = mc_store_new(H.conninfo, 5, 10000);
    REQUIRE(store != NULL);
    int steps[10] = {0}, attempts[10] = {0}, dead = 0;
    CHECK_INT(claim_steps(store, 2, steps, attempts, &dead), 2);
    CHECK_INT(dead, 1); /* step 7: its 3 attempts are spent */
    CHECK_INT(steps[0], 3); /* a resend, older than the queued step 5 */
    CHECK_INT(attempts[0], 2);
    CHECK_INT(steps[1], 5);
    CHECK_INT(attempts[1], 1);
    CHECK_INT(claim_steps(store, 10, steps, attempts, &dead), 2);
    CHECK_INT(dead, 0);
    CHECK_INT(steps[0], 8);
    CHECK_INT(steps[1], 9);
    CHECK_INT(claim_steps(store, 10, steps, attempts, &dead), 0); /* step 6 is not due yet */
    mc_store_destroy(&store);
    CHECK(store == NULL);
    const char *q = "SELECT string_agg(c.step || ':' || c.state || ':' || c.attempts, ',' ORDER BY c.step)"
                    " FROM agency_case c JOIN dossier d ON d.id = c.dossier_id WHERE d.code = $1"
                    " AND c.agency = 'CLAIM_ORDER'";
    PGresult *res = PQexecParams(harness_db(&H), q, 1, NULL, (const char *const[]){code}, NULL, NULL, 0);
    REQUIRE(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1);
    CHECK_STR(PQgetvalue(res, 0, 0), "1:3:0,2:3:1,3:2:2,4:3:1,5:2:1,6:2:1,7:5:3,8:2:1,9:2:1");
    PQclear(res);
    /* a first send is a step in the timeline, a resend is not */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id = e.dossier_id"
                            " WHERE d.code = $1 AND e.kind = 'sent_to_agency'"
                            " AND e.detail LIKE '%CLAIM_ORDER%'", code), 3);
}

MC_TEST(unknown_key_gets_nothing)
{
    char code[64], case_id[96];
    REQUIRE(new_routed("lt-intruder-0001", code) == 0);
    snprintf(case_id, sizeof case_id, "%s/1", code);
    /* a key nobody registered, claiming to be TU_PHAP */
    pid_t pid = start_agency("TU_PHAP", "INTRUDER", "agency-intruder.log", "--outcomes",
                             "approved=100", NULL, NULL);
    CHECK(wait_log("lienthong.log", "agency_refused", 10000)); /* the handshake failed */
    harness_stop_daemon(pid, SIGTERM);
    CHECK(!log_has("agency-intruder.log", "case_received"));
    CHECK_INT(harness_count(&H, "SELECT attempts FROM agency_case WHERE case_id = $1", case_id), 0);
    /* the real desk then takes it */
    pid = start_agency("TU_PHAP", "TU_PHAP", "agency-after-intruder.log", "--outcomes",
                       "approved=100", "--count", "1");
    CHECK_INT(harness_wait_exit(&pid, 15000), 0);
    if (pid)
        harness_stop_daemon(pid, SIGKILL);
    CHECK_INT(harness_count(&H, "SELECT state FROM agency_case WHERE case_id = $1", case_id), MC_CASE_DONE);
}

MC_TEST(agency_never_gets_nor_answers_another_agencys_case)
{
    char code[64], case_id[96];
    REQUIRE(new_routed("lt-other-0001", code) == 0);
    snprintf(case_id, sizeof case_id, "%s/1", code);
    long events = harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d"
                                " ON d.id = e.dossier_id WHERE d.code = $1", code);
    void *s = raw_connect("BHXH");
    REQUIRE(s);
    raw_ready(s, 10);
    Motcua__V1__HubToAgency *m = raw_next(s, 1200);
    CHECK(m == NULL); /* BHXH has nothing; TU_PHAP's case is not offered */
    if (m)
        motcua__v1__hub_to_agency__free_unpacked(m, NULL);
    /* acking and answering TU_PHAP's case as BHXH is refused as if it did
     * not exist (issue 9: no answer tells a partner which codes exist) */
    raw_ack(s, case_id);
    m = raw_next(s, 3000);
    REQUIRE(m && m->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_REFUSAL);
    CHECK_INT(m->refusal->reason, MOTCUA__V1__REASON__REASON_NOT_FOUND);
    motcua__v1__hub_to_agency__free_unpacked(m, NULL);
    raw_result(s, case_id, MOTCUA__V1__OUTCOME__OUTCOME_REJECTED, "giả mạo");
    m = raw_next(s, 3000);
    REQUIRE(m && m->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_REFUSAL);
    CHECK_INT(m->refusal->reason, MOTCUA__V1__REASON__REASON_NOT_FOUND);
    motcua__v1__hub_to_agency__free_unpacked(m, NULL);
    /* malformed frames: a Refusal, never a crash */
    zmq_send(s, "\xff\xff\xff garbage", 12, 0);
    m = raw_next(s, 3000);
    REQUIRE(m && m->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_REFUSAL);
    CHECK_INT(m->refusal->reason, MOTCUA__V1__REASON__REASON_MALFORMED);
    motcua__v1__hub_to_agency__free_unpacked(m, NULL);
    zmq_send(s, "a", 1, ZMQ_SNDMORE);
    zmq_send(s, "b", 1, 0);
    m = raw_next(s, 3000);
    REQUIRE(m && m->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_REFUSAL);
    motcua__v1__hub_to_agency__free_unpacked(m, NULL);
    raw_result(s, "", MOTCUA__V1__OUTCOME__OUTCOME_APPROVED, NULL);
    m = raw_next(s, 3000);
    REQUIRE(m && m->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_REFUSAL);
    CHECK_INT(m->refusal->reason, MOTCUA__V1__REASON__REASON_MALFORMED);
    motcua__v1__hub_to_agency__free_unpacked(m, NULL);
    mc_transport_close(&s);
    CHECK_INT(harness_count(&H, "SELECT state FROM agency_case WHERE case_id = $1", case_id), MC_CASE_QUEUED);
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", code), MC_DOSSIER_ROUTED);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d"
                            " ON d.id = e.dossier_id WHERE d.code = $1", code), events);
    CHECK(kill(hub_pid, 0) == 0);
    /* TU_PHAP takes it */
    pid_t pid = start_agency("TU_PHAP", "TU_PHAP", "agency-after-other.log", "--outcomes",
                             "approved=100", "--count", "1");
    CHECK_INT(harness_wait_exit(&pid, 15000), 0);
    if (pid)
        harness_stop_daemon(pid, SIGKILL);
}

MC_TEST(dead_letter_after_max_attempts_and_requeue)
{
    char code[64], case_id[96];
    REQUIRE(new_routed("lt-dead-0001", code) == 0);
    snprintf(case_id, sizeof case_id, "%s/1", code);
    /* a desk that takes cases and never acks them */
    void *s = raw_connect("TU_PHAP");
    REQUIRE(s);
    raw_ready(s, 10);
    int seen[8] = {0}, n = 0;
    int64_t deadline = harness_now_ms() + 15000;
    while (harness_now_ms() < deadline && harness_count(&H, "SELECT state FROM agency_case WHERE case_id = $1",
                                                case_id) != MC_CASE_DEAD) {
        Motcua__V1__HubToAgency *m = raw_next(s, 300);
        if (m && m->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_CASE && n < 8) {
            CHECK_STR(m->case_->case_id, case_id);
            seen[n++] = (int)m->case_->attempt;
        }
        if (m)
            motcua__v1__hub_to_agency__free_unpacked(m, NULL);
    }
    mc_transport_close(&s);
    /* max_attempts: 3. Every send this desk got counts up to the last attempt; an
     * earlier attempt may have gone to the previous test's session of the same agency
     * while the hub had not yet seen it leave (at-least-once: that send is one attempt) */
    CHECK(n >= 1 && n <= 3);
    for (int i = 1; i < n; i++)
        CHECK(seen[i] > seen[i - 1]);
    CHECK_INT(n > 0 ? seen[n - 1] : 0, 3);
    CHECK_INT(harness_count(&H, "SELECT attempts FROM agency_case WHERE case_id = $1", case_id), 3);
    CHECK_INT(harness_count(&H, "SELECT state FROM agency_case WHERE case_id = $1", case_id), MC_CASE_DEAD);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id = e.dossier_id"
                            " WHERE d.code = $1 AND e.kind = 'dead_letter'", code), 1);
    CHECK_INT(harness_motcua(&H, "deadletters --json"), 0);
    CHECK(log_has("motcua.out", case_id));
    char args[160];
    snprintf(args, sizeof args, "requeue %s", case_id);
    CHECK_INT(harness_motcua(&H, args), 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case WHERE case_id = $1 AND state = " MC_SQL(MC_CASE_QUEUED)
                            " AND attempts = 0", case_id), 1);
    CHECK_INT(harness_motcua(&H, args), 2); /* no longer a dead letter */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id = e.dossier_id"
                            " WHERE d.code = $1 AND e.kind = 'requeued' AND e.actor = 'operator'", code), 1);
    pid_t pid = start_agency("TU_PHAP", "TU_PHAP", "agency-after-dead.log", "--outcomes",
                             "approved=100", "--count", "1");
    CHECK_INT(harness_wait_exit(&pid, 15000), 0);
    if (pid)
        harness_stop_daemon(pid, SIGKILL);
    CHECK_INT(harness_count(&H, "SELECT state FROM agency_case WHERE case_id = $1", case_id), MC_CASE_DONE);
}

MC_TEST(results_are_idempotent_per_case)
{
    char code[64], case_id[96];
    REQUIRE(new_routed("lt-idem-0001", code) == 0);
    snprintf(case_id, sizeof case_id, "%s/1", code);
    void *s = raw_connect("TU_PHAP");
    REQUIRE(s);
    raw_ready(s, 1);
    Motcua__V1__HubToAgency *m = raw_next(s, 5000);
    REQUIRE(m && m->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_CASE);
    CHECK_STR(m->case_->case_id, case_id);
    CHECK_STR(m->case_->dossier_code, code);
    CHECK(m->case_->dossier && m->case_->dossier->n_documents == 3);
    motcua__v1__hub_to_agency__free_unpacked(m, NULL);
    raw_ack(s, case_id);
    raw_result(s, case_id, MOTCUA__V1__OUTCOME__OUTCOME_NEEDS_DOCUMENTS, NULL);
    m = raw_next(s, 3000); /* needs_documents without the list is malformed */
    REQUIRE(m && m->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_REFUSAL);
    motcua__v1__hub_to_agency__free_unpacked(m, NULL);
    raw_result(s, case_id, MOTCUA__V1__OUTCOME__OUTCOME_APPROVED, NULL);
    m = raw_next(s, 3000);
    REQUIRE(m && m->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_RESULT_ACK);
    CHECK(m->result_ack->accepted);
    motcua__v1__hub_to_agency__free_unpacked(m, NULL);
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", code), MC_DOSSIER_RESULT_READY);
    long events = harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d"
                                " ON d.id = e.dossier_id WHERE d.code = $1", code);
    /* the same result again: accepted, nothing new */
    raw_result(s, case_id, MOTCUA__V1__OUTCOME__OUTCOME_APPROVED, NULL);
    m = raw_next(s, 3000);
    REQUIRE(m && m->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_RESULT_ACK);
    CHECK(m->result_ack->accepted);
    motcua__v1__hub_to_agency__free_unpacked(m, NULL);
    /* a different result: refused, nothing changes */
    raw_result(s, case_id, MOTCUA__V1__OUTCOME__OUTCOME_REJECTED, "đổi ý");
    m = raw_next(s, 3000);
    REQUIRE(m && m->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_RESULT_ACK);
    CHECK(!m->result_ack->accepted);
    motcua__v1__hub_to_agency__free_unpacked(m, NULL);
    mc_transport_close(&s);
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", code), MC_DOSSIER_RESULT_READY);
    CHECK_INT(harness_count(&H, "SELECT outcome FROM agency_case WHERE case_id = $1", case_id), MC_OUTCOME_APPROVED);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d"
                            " ON d.id = e.dossier_id WHERE d.code = $1", code), events);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification n JOIN dossier d ON d.id = n.dossier_id"
                            " WHERE d.code = $1 AND n.kind = 'result_ready'", code), 1);
}

MC_TEST(rejection_and_supplement_requests_end_or_pause_the_dossier)
{
    char code[64], case_id[96];
    REQUIRE(new_routed("lt-reject-0001", code) == 0);
    snprintf(case_id, sizeof case_id, "%s/1", code);
    pid_t pid = start_agency("TU_PHAP", "TU_PHAP", "agency-reject.log", "--outcomes", "rejected=100",
                             "--count", "1");
    CHECK_INT(harness_wait_exit(&pid, 15000), 0);
    if (pid)
        harness_stop_daemon(pid, SIGKILL);
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", code), MC_DOSSIER_REFUSED);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification n JOIN dossier d ON d.id = n.dossier_id"
                            " WHERE d.code = $1 AND n.kind = 'refused' AND n.data->>'reason' <> ''", code), 1);
    REQUIRE(new_routed("lt-needs-0001", code) == 0);
    snprintf(case_id, sizeof case_id, "%s/1", code);
    pid = start_agency("TU_PHAP", "TU_PHAP", "agency-needs.log", "--outcomes", "needs_documents=100",
                       "--count", "1");
    CHECK_INT(harness_wait_exit(&pid, 15000), 0);
    if (pid)
        harness_stop_daemon(pid, SIGKILL);
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1 AND paused_at IS NOT NULL", code), MC_DOSSIER_WAITING_SUPPLEMENT);
    CHECK_INT(harness_count(&H, "SELECT state FROM agency_case WHERE case_id = $1", case_id), MC_CASE_PAUSED);
    CHECK_INT(harness_count(&H, "SELECT jsonb_array_length(n.data->'missing') FROM notification n"
                            " JOIN dossier d ON d.id = n.dossier_id"
                            " WHERE d.code = $1 AND n.kind = 'supplement_requested'", code), 1);
}

MC_TEST(resync_reoffers_what_is_not_held_and_keeps_what_is)
{
    char a[64], b[64], case_a[96], case_b[96];
    const char *session = "it-resync-0000000000000001";
    REQUIRE(new_routed("lt-resync-0001", a) == 0);
    REQUIRE(new_routed("lt-resync-0002", b) == 0);
    snprintf(case_a, sizeof case_a, "%s/1", a);
    snprintf(case_b, sizeof case_b, "%s/1", b);
    void *s = raw_connect("TU_PHAP");
    REQUIRE(s);
    raw_resync(s, 2, session, NULL, 0); /* a first resync Ready gets no Hello */
    REQUIRE(raw_take_case(s, case_a, NULL, true));
    REQUIRE(raw_take_case(s, case_b, NULL, true));
    CHECK(wait_acked_by(case_a, session, 5000));
    CHECK(wait_acked_by(case_b, session, 5000));
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_session WHERE session = $1"
                            " AND ready AND agency = 'TU_PHAP' AND lease_until > now()", session), 1);
    /* the agency lost b (say its disk did): a resync listing only a */
    raw_resync(s, 0, session, (const char *const[]){case_a}, 1);
    CHECK_INT(harness_wait_count(&H, "SELECT state FROM agency_case WHERE case_id = $1", case_b, MC_CASE_QUEUED,
                                 5000), MC_CASE_QUEUED);
    CHECK_INT(events(case_b, "not_held"), 1);
    CHECK_INT(acked_by(case_a, session), 1); /* kept: no re-offer */
    CHECK_INT(events(case_a, "not_held"), 0);
    /* credit again: b comes back at once, same case_id and revision, next attempt */
    raw_resync(s, 1, session, (const char *const[]){case_a}, 1);
    int attempt = 0;
    CHECK(raw_take_case(s, case_b, &attempt, true));
    CHECK_INT(attempt, 2);
    CHECK(wait_acked_by(case_b, session, 5000));
    CHECK(raw_finish(s, case_a));
    CHECK(raw_finish(s, case_b));
    CHECK_INT(harness_count(&H, "SELECT attempts FROM agency_case WHERE case_id = $1", case_a), 1);
    mc_transport_close(&s);
}

MC_TEST(acked_cases_of_a_silent_session_go_to_another_connection_after_the_lease)
{
    char case_id[96];
    const char *dying = "it-lease-dying-000000000001", *next = "it-lease-next-0000000000001";
    void *s = routed_and_held("lt-lease-0001", dying, case_id);
    REQUIRE(s);
    int64_t acked_at = harness_now_ms();
    /* the agency dies: its socket stays open but says nothing more */
    void *t = raw_connect("TU_PHAP");
    REQUIRE(t);
    raw_resync(t, 1, next, NULL, 0);
    int attempt = 0;
    CHECK(raw_take_case(t, case_id, &attempt, true)); /* within lease_ms (3 s) + a scan */
    CHECK(harness_now_ms() - acked_at >= 2000);        /* and not before the lease ran out */
    CHECK_INT(attempt, 2);
    CHECK_INT(events(case_id, "lease_expired"), 1);
    CHECK(wait_acked_by(case_id, next, 5000));
    CHECK(raw_finish(t, case_id));
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_session WHERE session = $1"
                            " AND NOT connected", dying), 1);
    mc_transport_close(&t);
    mc_transport_close(&s);
}

MC_TEST(requeue_takes_an_acked_case_back)
{
    char case_id[96], args[160];
    const char *session = "it-requeue-000000000000001";
    void *s = routed_and_held("lt-requeue-0001", session, case_id);
    REQUIRE(s);
    snprintf(args, sizeof args, "requeue %s", case_id);
    CHECK_INT(harness_motcua(&H, args), 0);
    CHECK(log_has("motcua.out", "taken back"));
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case WHERE case_id = $1 AND state = " MC_SQL(MC_CASE_QUEUED)
                            " AND lease_session IS NULL AND attempts = 1", case_id), 1);
    CHECK_INT(events(case_id, "requeued"), 1);
    raw_ready(s, 1); /* the same agency gets it again, next attempt */
    int attempt = 0;
    CHECK(raw_take_case(s, case_id, &attempt, true));
    CHECK_INT(attempt, 2);
    CHECK(wait_acked_by(case_id, session, 5000));
    CHECK(raw_finish(s, case_id));
    CHECK_INT(harness_motcua(&H, args), 2); /* answered: neither dead nor acked */
    mc_transport_close(&s);
}

MC_TEST(hub_killed_under_a_connected_agency_resyncs_without_an_agency_restart)
{
    char b[64], case_a[96], case_b[96];
    const char *session = "it-hubkill-000000000000001";
    void *s = routed_and_held("lt-hubkill-0001", session, case_a);
    REQUIRE(s);
    uint64_t before = raw_epoch;
    CHECK(before != 0);
    /* kill -9 and start again; the DEALER stays and ZeroMQ reconnects it silently */
    CHECK_INT(harness_stop_daemon(hub_pid, SIGKILL), 128 + SIGKILL);
    hub_pid = harness_start_daemon(&H, "lienthong", NULL, "lienthong.log");
    REQUIRE(hub_pid > 0);
    REQUIRE(new_routed("lt-hubkill-0002", b) == 0);
    snprintf(case_b, sizeof case_b, "%s/1", b);
    /* the agency only heartbeats: the new hub must ask it to resync */
    Motcua__V1__HubToAgency *m = raw_frame(s, 10000, true);
    REQUIRE(m && m->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_HELLO);
    CHECK(m->hello->resync_requested);
    CHECK(m->hello->epoch != 0 && m->hello->epoch != before);
    CHECK_INT(m->hello->heartbeat_ms, 300);
    CHECK_INT(m->hello->lease_ms, 3000);
    motcua__v1__hub_to_agency__free_unpacked(m, NULL);
    int64_t hello_at = harness_now_ms();
    raw_resync(s, 1, session, (const char *const[]){case_a}, 1);
    int attempt = 0;
    CHECK(raw_take_case(s, case_b, &attempt, true)); /* work flows again */
    CHECK(harness_now_ms() - hello_at < 5 * 300 + 2000);
    CHECK_INT(attempt, 1);
    CHECK_INT(acked_by(case_a, session), 1); /* what it held stays with it */
    CHECK_INT(harness_count(&H, "SELECT attempts FROM agency_case WHERE case_id = $1", case_a), 1);
    CHECK(wait_acked_by(case_b, session, 5000));
    CHECK(raw_finish(s, case_a));
    CHECK(raw_finish(s, case_b));
    mc_transport_close(&s);
}

/* --- issue 9: every door authenticated (written as the attacks) ------------ */

/* a Refusal as received */
typedef struct refusal {
    bool got;           /* the next frame was a Refusal */
    int  reason;        /* its reason */
    char case_id[128];  /* its case_id */
    char message[300];  /* its message */
} refusal_t;

/* raw_refusal - the next frame (heartbeats and Hellos skipped), as a Refusal */
static refusal_t raw_refusal(void *s, int ms)
{
    refusal_t r = {0};
    Motcua__V1__HubToAgency *m = raw_next(s, ms);
    if (m && m->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_REFUSAL) {
        r.got = true;
        r.reason = (int)m->refusal->reason;
        snprintf(r.case_id, sizeof r.case_id, "%s", m->refusal->case_id);
        snprintf(r.message, sizeof r.message, "%s", m->refusal->message);
    } else {
        fprintf(stderr, "  expected a refusal, got %s\n", m ? "another frame" : "nothing");
    }
    if (m)
        motcua__v1__hub_to_agency__free_unpacked(m, NULL);
    return r;
}

/* result_frame - a packed AgencyToHub{result} (malloc'd, *n bytes): rejected, or needs missing */
static uint8_t *result_frame(const char *case_id, const char *reason, uint32_t revision,
                             Motcua__V1__MissingDocument *missing, size_t *n)
{
    Motcua__V1__CaseResult r = MOTCUA__V1__CASE_RESULT__INIT;
    r.case_id = (char *)case_id;
    r.outcome = missing ? MOTCUA__V1__OUTCOME__OUTCOME_NEEDS_DOCUMENTS
                        : MOTCUA__V1__OUTCOME__OUTCOME_REJECTED;
    r.reason = (char *)reason;
    r.revision = revision;
    r.n_missing = missing ? 1 : 0;
    r.missing = missing ? &missing : NULL;
    Motcua__V1__AgencyToHub m = MOTCUA__V1__AGENCY_TO_HUB__INIT;
    m.body_case = MOTCUA__V1__AGENCY_TO_HUB__BODY_RESULT;
    m.result = &r;
    *n = motcua__v1__agency_to_hub__get_packed_size(&m);
    uint8_t *buf = malloc(*n);
    if (buf)
        motcua__v1__agency_to_hub__pack(&m, buf);
    return buf;
}

/* send_refused - send n bytes; the Refusal they got */
static refusal_t send_refused(void *s, uint8_t *buf, size_t n)
{
    if (buf)
        zmq_send(s, buf, n, 0);
    free(buf);
    return raw_refusal(s, 3000);
}

/* new_case - a routed dossier (code: 64 bytes) and its step 1 (case_id: 96 bytes) */
static int new_case(const char *submission_id, char *code, char *case_id)
{
    if (new_routed(submission_id, code) != 0)
        return -1;
    snprintf(case_id, 96, "%s/1", code);
    return 0;
}

/* take_and_finish - s resyncs (credit 1) under session, takes case_id, acks and approves it */
static bool take_and_finish(void *s, const char *session, const char *case_id)
{
    raw_resync(s, 1, session, NULL, 0);
    return raw_take_case(s, case_id, NULL, true) && raw_finish(s, case_id);
}

/* case_state - agency_case.state of case_id, -1 if none */
static long case_state(const char *case_id)
{
    return harness_count(&H, "SELECT state FROM agency_case WHERE case_id = $1", case_id);
}

MC_TEST(routing_id_takeover_gets_nothing_and_answers_nothing)
{
    /* A (TU_PHAP) sets its own routing id, says Ready and disconnects */
    void *a = raw_socket(mc_transport_ctx(), "TU_PHAP", "desk-7");
    REQUIRE(a);
    raw_ready(a, 5);
    Motcua__V1__HubToAgency *m = raw_frame(a, 5000, true);
    CHECK(m && m->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_HELLO); /* the hub knows A */
    if (m)
        motcua__v1__hub_to_agency__free_unpacked(m, NULL);
    mc_transport_close(&a);
    /* B (BHXH) connects with the same routing id: it is another peer. While
     * the ROUTER still has A's connection it ignores a second one with the
     * same routing id, so B tries again, as an attacker would */
    void *b = NULL;
    m = NULL;
    for (int attempt = 0; attempt < 10 && !m; attempt++) {
        mc_transport_close(&b);
        b = raw_socket(mc_transport_ctx(), "BHXH", "desk-7");
        REQUIRE(b);
        m = raw_frame(b, 1500, true);
    }
    CHECK(m && m->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_HELLO);
    if (m)
        motcua__v1__hub_to_agency__free_unpacked(m, NULL);
    char code[64], case_id[96];
    REQUIRE(new_case("lt-takeover-0001", code, case_id) == 0);
    m = raw_next(b, 1500); /* B heartbeats meanwhile: A's case is offered now if ever */
    CHECK(m == NULL || m->body_case != MOTCUA__V1__HUB_TO_AGENCY__BODY_CASE);
    if (m)
        motcua__v1__hub_to_agency__free_unpacked(m, NULL);
    CHECK_INT(case_state(case_id), MC_CASE_QUEUED); /* still queued: nobody was sent it */
    /* B's REJECTED for A's case is refused and recorded nowhere */
    raw_result(b, case_id, MOTCUA__V1__OUTCOME__OUTCOME_REJECTED, "giả mạo");
    refusal_t r = raw_refusal(b, 3000);
    CHECK(r.got && r.reason == MOTCUA__V1__REASON__REASON_NOT_FOUND);
    mc_transport_close(&b);
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", code), MC_DOSSIER_ROUTED);
    CHECK_INT(events(case_id, "refused"), 0);
    CHECK(log_has("lienthong.log", "event=routing_id_reused agency=BHXH was=TU_PHAP") ||
              log_has("lienthong.log", "event=agency_gone agency=TU_PHAP why=closed"));
    /* A's case is still A's */
    a = raw_socket(mc_transport_ctx(), "TU_PHAP", "desk-7");
    REQUIRE(a);
    CHECK(take_and_finish(a, "takeover-session-0001", case_id));
    mc_transport_close(&a);
    CHECK_INT(case_state(case_id), MC_CASE_DONE);
}

MC_TEST(unknown_fields_nul_and_bad_utf8_are_refused_with_the_field_path)
{
    char code[64], case_id[96];
    REQUIRE(new_case("lt-strict-0001", code, case_id) == 0);
    void *s = raw_connect("TU_PHAP");
    REQUIRE(s);
    raw_resync(s, 0, "strict-session-00001", NULL, 0); /* takes nothing */
    size_t n;
    uint8_t *buf;
    /* an unknown field, nested: protobuf-c would keep and forward it */
    Motcua__V1__MissingDocument doc = MOTCUA__V1__MISSING_DOCUMENT__INIT;
    doc.name = (char *)"Giấy khai sinh";
    ProtobufCMessageUnknownField extra = {.tag = 7, .wire_type = PROTOBUF_C_WIRE_TYPE_VARINT,
                                          .len = 1, .data = (uint8_t *)"\x2a"};
    doc.base.n_unknown_fields = 1;
    doc.base.unknown_fields = &extra;
    buf = result_frame(case_id, "", 1, &doc, &n);
    refusal_t r = send_refused(s, buf, n);
    CHECK(r.got && r.reason == MOTCUA__V1__REASON__REASON_MALFORMED);
    CHECK_STR(r.message, "AgencyToHub.result.missing[0]: unknown field 7");
    /* an unknown field at the top */
    buf = result_frame(case_id, "lý do", 1, NULL, &n);
    uint8_t *more = buf ? realloc(buf, n + 2) : NULL;
    REQUIRE(more);
    memcpy(more + n, "\x38\x01", 2);
    r = send_refused(s, more, n + 2);
    CHECK_STR(r.message, "AgencyToHub: unknown field 7");
    /* a NUL inside the reason (protobuf-c would cut it after our checks) */
    buf = result_frame(case_id, "từ chối#bí mật", 1, NULL, &n);
    REQUIRE(buf);
    uint8_t *hash = memchr(buf, '#', n);
    REQUIRE(hash);
    *hash = 0;
    r = send_refused(s, buf, n);
    CHECK_STR(r.message, "AgencyToHub.result.reason: contains a NUL byte");
    /* bad UTF-8 in the case_id: not echoed, not sent to PostgreSQL */
    buf = result_frame("HS\xc3\x28/1", "lý do", 1, NULL, &n);
    r = send_refused(s, buf, n);
    CHECK(r.got && r.reason == MOTCUA__V1__REASON__REASON_MALFORMED);
    CHECK_STR(r.case_id, "");
    CHECK_STR(r.message, "AgencyToHub.result.case_id: not valid UTF-8 (6 bytes)");
    CHECK(!log_has("lienthong.log", "HS\xc3\x28"));
    CHECK_INT(case_state(case_id), MC_CASE_QUEUED);
    CHECK_INT(events(case_id, "refused"), 0);
    CHECK(kill(hub_pid, 0) == 0);
    /* the case is untouched: it is taken and answered as usual */
    CHECK(take_and_finish(s, "strict-session-00001", case_id));
    mc_transport_close(&s);
}

MC_TEST(one_answer_for_unknown_not_yours_and_never_sent)
{
    char mine[64], theirs[64], mine_id[96], theirs_id[96];
    REQUIRE(new_routed("lt-answer-0001", mine) == 0);   /* TU_PHAP's, never sent */
    REQUIRE(new_routed("lt-answer-0002", theirs) == 0); /* TU_PHAP's too: BHXH asks */
    snprintf(mine_id, sizeof mine_id, "%s/1", mine);
    snprintf(theirs_id, sizeof theirs_id, "%s/1", theirs);
    void *t = raw_connect("TU_PHAP");
    void *b = raw_connect("BHXH");
    REQUIRE(t && b);
    raw_resync(t, 0, "answer-session-00001", NULL, 0); /* credit 0: nothing is sent to it */
    raw_resync(b, 0, "answer-session-00002", NULL, 0);
    raw_result(t, mine_id, MOTCUA__V1__OUTCOME__OUTCOME_APPROVED, NULL);
    refusal_t never_sent = raw_refusal(t, 3000);
    raw_result(b, theirs_id, MOTCUA__V1__OUTCOME__OUTCOME_APPROVED, NULL);
    refusal_t not_yours = raw_refusal(b, 3000);
    raw_result(b, "HS-KHONG-CO/1", MOTCUA__V1__OUTCOME__OUTCOME_APPROVED, NULL);
    refusal_t unknown = raw_refusal(b, 3000);
    raw_ack(b, theirs_id);
    refusal_t ack_not_yours = raw_refusal(b, 3000);
    raw_ack(b, "HS-KHONG-CO/1");
    refusal_t ack_unknown = raw_refusal(b, 3000);
    CHECK(never_sent.got && not_yours.got && unknown.got && ack_not_yours.got && ack_unknown.got);
    refusal_t *all[] = {&never_sent, &not_yours, &ack_not_yours, &ack_unknown};
    for (size_t i = 0; i < 4; i++) {
        CHECK_INT(all[i]->reason, unknown.reason);
        CHECK_STR(all[i]->message, unknown.message);
    }
    CHECK_INT(unknown.reason, MOTCUA__V1__REASON__REASON_NOT_FOUND);
    CHECK_INT(case_state(mine_id), MC_CASE_QUEUED);
    CHECK_INT(case_state(theirs_id), MC_CASE_QUEUED);
    /* once it was sent, the same result is accepted */
    raw_resync(t, 1, "answer-session-00001", NULL, 0);
    CHECK(raw_take_case(t, mine_id, NULL, true));
    CHECK(raw_finish(t, mine_id));
    raw_ready(t, 1);
    CHECK(raw_take_case(t, theirs_id, NULL, true));
    CHECK(raw_finish(t, theirs_id));
    mc_transport_close(&t);
    mc_transport_close(&b);
}

MC_TEST(revision_4294967295_is_refused_not_read_as_1)
{
    char code[64], case_id[96];
    REQUIRE(new_case("lt-revision-0001", code, case_id) == 0);
    void *s = raw_connect("TU_PHAP");
    REQUIRE(s);
    raw_resync(s, 1, "revision-session-0001", NULL, 0);
    CHECK(raw_take_case(s, case_id, NULL, true));
    REQUIRE(wait_acked_by(case_id, "revision-session-0001", 5000));
    size_t n;
    uint8_t *buf = result_frame(case_id, "lý do", 4294967295u, NULL, &n);
    refusal_t r = send_refused(s, buf, n);
    CHECK(r.got && r.reason == MOTCUA__V1__REASON__REASON_MALFORMED);
    CHECK_STR(r.message, "revision out of range");
    /* a revision the case never had is a round never sent */
    buf = result_frame(case_id, "lý do", 2, NULL, &n);
    r = send_refused(s, buf, n);
    CHECK(r.got && r.reason == MOTCUA__V1__REASON__REASON_NOT_FOUND);
    CHECK_INT(case_state(case_id), MC_CASE_ACKED); /* still acked, nothing recorded */
    CHECK_INT(events(case_id, "refused"), 0);
    CHECK(raw_finish(s, case_id));
    mc_transport_close(&s);
}

/* vm_rss_kb - VmRSS of pid in kB, -1 if unknown */
static long vm_rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

/* shell_number - the number a shell command prints, -1 if none */
static long shell_number(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    long n = -1;
    if (p && fscanf(p, "%ld", &n) != 1)
        n = -1;
    if (p)
        pclose(p);
    return n;
}

/* open_fds - how many descriptors pid has open */
static long open_fds(pid_t pid)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ls /proc/%d/fd | wc -l", (int)pid);
    return shell_number(cmd);
}

#define FLOOD 2100 /* connections under one key: more than the hub's 64 per agency, x32 */

MC_TEST(one_key_flooding_connections_locks_nobody_else_out)
{
    void *ctx = zmq_ctx_new();
    REQUIRE(ctx);
    zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, FLOOD + 16);
    static void *flood[FLOOD];
    long rss_before = vm_rss_kb(hub_pid), fds_before = open_fds(hub_pid);
    int64_t started = harness_now_ms();
    int opened = 0;
    for (int i = 0; i < FLOOD; i++) {
        char rid[32];
        snprintf(rid, sizeof rid, "flood-%d", i);
        /* an attacker's sockets would reconnect; these do not, so that what
         * the hub keeps open after cutting them can be counted */
        flood[i] = raw_socket_as(ctx, "CONG_AN_XA", i % 2 ? rid : NULL, true);
        if (flood[i]) {
            raw_heartbeat(flood[i]);
            opened++;
        }
    }
    CHECK_INT(opened, FLOOD);
    /* every connection is up at the hub (a socket each) and through its
     * CURVE handshake (ZAP logs each one): the flood is all there */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "grep -c 'event=agency_authenticated agency=CONG_AN_XA' %s/lienthong.log",
             H.dir);
    int64_t deadline = harness_now_ms() + 180000;
    long fds_peak = 0;
    while (shell_number(cmd) < FLOOD && harness_now_ms() < deadline) {
        long now_fds = open_fds(hub_pid);
        fds_peak = now_fds > fds_peak ? now_fds : fds_peak;
        usleep(200000);
    }
    CHECK(shell_number(cmd) >= FLOOD);
    /* bounded: the hub cuts every connection of the key beyond its 64 peers
     * (and any that stays silent), so what it holds open comes back down to
     * about 64 connections whatever the flood */
    long fds_after = open_fds(hub_pid);
    while (fds_after > fds_before + 64 + 32 && harness_now_ms() < deadline) {
        usleep(200000);
        fds_after = open_fds(hub_pid);
    }
    CHECK(fds_after <= fds_before + 64 + 32);
    CHECK(wait_log("lienthong.log", "event=connections_cut", 20000));
    CHECK(wait_log("lienthong.log", "event=frame_dropped agency=CONG_AN_XA reason=agency_limit",
                   20000));
    /* (no second round: the connections beyond the limit are cut, and a
     * DEALER without reconnect would block on them) */
    long rss_flood = vm_rss_kb(hub_pid);
    /* another agency still gets its case and its result is accepted */
    char code[64], case_id[96];
    REQUIRE(new_case("lt-flood-0001", code, case_id) == 0);
    void *s = raw_connect("TU_PHAP");
    REQUIRE(s);
    CHECK(take_and_finish(s, "flood-session-000001", case_id));
    mc_transport_close(&s);
    CHECK_INT(case_state(case_id), MC_CASE_DONE);
    long seconds = (harness_now_ms() - started) / 1000;
    snprintf(cmd, sizeof cmd, "grep -c 'event=frame_dropped agency=CONG_AN_XA' %s/lienthong.log",
             H.dir);
    long lines = shell_number(cmd);
    CHECK(lines >= 1 && lines <= seconds / 10 + 2); /* one line per 10 s, with a count */
    CHECK(!log_has("lienthong.log", "event=frame_dropped agency=TU_PHAP"));
    for (int i = 0; i < FLOOD; i++)
        if (flood[i])
            zmq_close(flood[i]);
    zmq_ctx_term(ctx);
    printf("  # hub VmRSS: %ld kB before, %ld kB after %d connections of one key; open fds:"
           " %ld before, %ld at the peak, %ld after the cuts; %ld s, %ld frame_dropped lines\n",
           rss_before, rss_flood, FLOOD, fds_before, fds_peak, fds_after, seconds, lines);
    CHECK(rss_flood > 0 && rss_flood - rss_before < 200 * 1024); /* < 200 MB for 2,100 connections */
    CHECK(kill(hub_pid, 0) == 0);
}

/* --- issue 12.2: DueSoon, the extension and the apology (agency.proto rule 8) --- */

/* extension_send - an ExtensionRequest for case_id; the next ExtensionAck (NULL on timeout) */
static Motcua__V1__ExtensionAck *extension_send(void *s, const char *case_id, int64_t new_due_at,
                                                const char *reason)
{
    Motcua__V1__ExtensionRequest x = MOTCUA__V1__EXTENSION_REQUEST__INIT;
    x.case_id = (char *)case_id;
    x.revision = 1;
    x.new_due_at = new_due_at;
    x.reason = (char *)reason;
    Motcua__V1__AgencyToHub m = MOTCUA__V1__AGENCY_TO_HUB__INIT;
    m.body_case = MOTCUA__V1__AGENCY_TO_HUB__BODY_EXTENSION;
    m.extension = &x;
    raw_send(s, &m);
    int64_t deadline = harness_now_ms() + 5000;
    while (harness_now_ms() < deadline) {
        Motcua__V1__HubToAgency *f = raw_next(s, 1000);
        if (f && f->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_EXTENSION_ACK) {
            Motcua__V1__ExtensionAck *a = f->extension_ack;
            f->extension_ack = NULL;
            motcua__v1__hub_to_agency__free_unpacked(f, NULL);
            return a;
        }
        if (f)
            motcua__v1__hub_to_agency__free_unpacked(f, NULL);
    }
    return NULL;
}

/* dossier_due - the dossier's due_at of case_id, epoch seconds */
static long dossier_due(const char *case_id)
{
    return harness_count(&H, "SELECT extract(epoch FROM d.due_at)::bigint FROM dossier d"
                         " JOIN agency_case c ON c.dossier_id = d.id WHERE c.case_id = $1", case_id);
}

/* set_due - move the dossier of case_id to be due in `interval`; 0 on success */
static int set_due(const char *case_id, const char *interval)
{
    return exec_sql("UPDATE dossier SET due_at = date_trunc('second', now()) + $2::interval"
                    " WHERE id = (SELECT dossier_id FROM agency_case WHERE case_id = $1)",
                    2, (const char *const[]){case_id, interval});
}

/* raw_due_soon - the next DueSoon for case_id on s (other frames skipped); NULL after ms */
static Motcua__V1__HubToAgency *raw_due_soon(void *s, const char *case_id, int ms)
{
    for (int64_t end = harness_now_ms() + ms; harness_now_ms() < end;) {
        Motcua__V1__HubToAgency *f = raw_next(s, 500);
        if (f && f->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_DUE_SOON &&
            strcmp(f->due_soon->case_id, case_id) == 0)
            return f;
        if (f)
            motcua__v1__hub_to_agency__free_unpacked(f, NULL);
    }
    return NULL;
}

/* got_due_soon - did a DueSoon for case_id reach s within ms? */
static bool got_due_soon(void *s, const char *case_id, int ms)
{
    Motcua__V1__HubToAgency *f = raw_due_soon(s, case_id, ms);
    if (f)
        motcua__v1__hub_to_agency__free_unpacked(f, NULL);
    return f != NULL;
}

/* warn_like_router - what the router's due_soon scan leaves for lienthong (it_router
 * tests the scan): with warned, the dossier's warned_due = due_at too; 0 on success */
static int warn_like_router(const char *case_id, bool warned)
{
    if (warned && exec_sql("UPDATE dossier SET warned_due = due_at WHERE id ="
                           " (SELECT dossier_id FROM agency_case WHERE case_id = $1)", 1,
                           (const char *const[]){case_id}) != 0)
        return -1;
    return exec_sql("UPDATE agency_case SET warn_pending = true WHERE case_id = $1", 1,
                    (const char *const[]){case_id});
}

MC_TEST(due_soon_reaches_the_holder_and_the_extension_is_granted_once)
{
    char case_id[96];
    void *s = routed_and_held("lt-ext-0001", "ext-session-0001-aaaaaaaa", case_id);
    REQUIRE(s);
    REQUIRE(set_due(case_id, "10 days") == 0);
    REQUIRE(warn_like_router(case_id, false) == 0);
    Motcua__V1__HubToAgency *f = raw_due_soon(s, case_id, 5000);
    REQUIRE(f);
    CHECK(strcmp(f->due_soon->case_id, case_id) == 0);
    CHECK_INT(f->due_soon->dossier_due_at, dossier_due(case_id));
    CHECK(strstr(f->due_soon->message, "gia hạn") != NULL);
    motcua__v1__hub_to_agency__free_unpacked(f, NULL);
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM agency_case WHERE case_id = $1"
                                 " AND NOT warn_pending", case_id, 1, 5000), 1);

    long old_due = dossier_due(case_id);
    const char *reason = "Chờ kết quả xác minh của cơ quan công an";
    Motcua__V1__ExtensionAck *a = extension_send(s, case_id, old_due + 3 * 86400, reason);
    REQUIRE(a);
    CHECK(a->accepted);
    CHECK(a->new_due_at >= old_due + 3 * 86400);
    int64_t kept = a->new_due_at;
    motcua__v1__extension_ack__free_unpacked(a, NULL);
    CHECK_INT(dossier_due(case_id), kept);
    CHECK_INT(harness_count(&H, "SELECT extract(epoch FROM due_at)::bigint FROM agency_case"
                            " WHERE case_id = $1", case_id), kept);
    CHECK_INT(events(case_id, "extended"), 1);
    CHECK_INT(events(case_id, "apology"), 1);
    char sql[400];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM notification n JOIN agency_case c"
             " ON c.dossier_id = n.dossier_id WHERE c.case_id = $1 AND n.kind = 'apology'"
             " AND n.data->>'reason' = 'Chờ kết quả xác minh của cơ quan công an'"
             " AND n.data->>'old_due' = '%ld' AND n.data->>'new_due' = '%ld'", old_due, (long)kept);
    CHECK_INT(harness_count(&H, sql, case_id), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier d JOIN agency_case c ON"
                            " c.dossier_id = d.id WHERE c.case_id = $1 AND d.extended_at IS NOT NULL"
                            " AND d.apology_at IS NOT NULL AND d.extension_reason IS NOT NULL",
                            case_id), 1);

    /* the same request again: the same answer, nothing written twice */
    a = extension_send(s, case_id, old_due + 3 * 86400, reason);
    REQUIRE(a);
    CHECK(a->accepted);
    CHECK_INT(a->new_due_at, kept);
    motcua__v1__extension_ack__free_unpacked(a, NULL);
    CHECK_INT(events(case_id, "extended"), 1);

    /* a second proposal: re-appointment at most once */
    a = extension_send(s, case_id, kept + 5 * 86400, "Cần thêm thời gian");
    REQUIRE(a);
    CHECK(!a->accepted);
    CHECK_INT(a->code, MOTCUA__V1__REASON__REASON_WRONG_STATE);
    motcua__v1__extension_ack__free_unpacked(a, NULL);
    CHECK_INT(dossier_due(case_id), kept);
    CHECK_INT(events(case_id, "extension_refused"), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification n JOIN agency_case c"
                            " ON c.dossier_id = n.dossier_id WHERE c.case_id = $1"
                            " AND n.kind = 'apology'", case_id), 1);
    /* the report of today (issue 12 point 8): the one apology, sent in time (the hub
     * granted it at least one working day before the due date it replaced) */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event WHERE kind = 'apology'", NULL), 1);
    mc_date_t today = mc_date_of((int64_t)time(NULL), NULL);
    char args[200];
    snprintf(args, sizeof args, "report --from %04d-%02d-%02d --to %04d-%02d-%02d --format json",
             today.year, today.month, today.day, today.year, today.month, today.day);
    CHECK_INT(harness_motcua(&H, args), 0);
    CHECK_INT(harness_run("grep -q '\"apologies\":{\"issued\":1,\"in_time\":1}' %s/motcua.out",
                          H.dir), 0);
    CHECK(raw_finish(s, case_id));
    mc_transport_close(&s);
}

MC_TEST(due_soon_comes_again_after_a_resync_and_periodically_until_answered)
{
    char case_id[96], line[200];
    const char *session = "ext-session-0004-dddddddd";
    void *s = routed_and_held("lt-ext-0004", session, case_id);
    REQUIRE(s);
    REQUIRE(set_due(case_id, "10 days") == 0);
    REQUIRE(warn_like_router(case_id, true) == 0);
    CHECK(got_due_soon(s, case_id, 5000));
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM agency_case WHERE case_id = $1"
                                 " AND NOT warn_pending", case_id, 1, 5000), 1);
    /* the agency goes away without proposing (the frame lost, or it died before
     * storing a proposal); its next connection resyncs holding the case */
    mc_transport_close(&s);
    s = raw_connect("TU_PHAP");
    REQUIRE(s);
    const char *held[] = {case_id};
    raw_resync(s, 0, session, held, 1);
    CHECK(got_due_soon(s, case_id, 5000));
    snprintf(line, sizeof line, "event=due_soon_resent case=%s agency=TU_PHAP why=resync", case_id);
    CHECK(wait_log("lienthong.log", line, 5000));
    /* and, with no resync, again within 15 heartbeats (300 ms here) */
    CHECK(got_due_soon(s, case_id, 15000));
    snprintf(line, sizeof line, "event=due_soon_resent case=%s agency=TU_PHAP why=period", case_id);
    CHECK(wait_log("lienthong.log", line, 5000));
    /* a restarted agency (a new session) that holds it is warned at its resync too */
    mc_transport_close(&s);
    s = raw_connect("TU_PHAP");
    REQUIRE(s);
    const char *session2 = "ext-session-0004-eeeeeeee";
    raw_resync(s, 0, session2, held, 1);
    CHECK(wait_acked_by(case_id, session2, 5000));
    CHECK(got_due_soon(s, case_id, 5000));
    /* once the proposal is answered, no DueSoon any more: after this resync the
     * next frame is the ResultAck of the result sent behind it */
    Motcua__V1__ExtensionAck *a = extension_send(s, case_id, dossier_due(case_id) + 3 * 86400,
                                                 "Chờ kết quả xác minh");
    REQUIRE(a);
    CHECK(a->accepted);
    motcua__v1__extension_ack__free_unpacked(a, NULL);
    raw_resync(s, 0, session2, held, 1);
    CHECK(raw_finish(s, case_id));
    CHECK_INT(events(case_id, "extended"), 1);
    mc_transport_close(&s);
}

MC_TEST(extension_too_close_to_the_due_date_is_refused)
{
    char case_id[96];
    void *s = routed_and_held("lt-ext-0002", "ext-session-0002-bbbbbbbb", case_id);
    REQUIRE(s);
    REQUIRE(set_due(case_id, "2 hours") == 0);
    long due = dossier_due(case_id);
    Motcua__V1__ExtensionAck *a = extension_send(s, case_id, due + 5 * 86400, "Chưa kịp xác minh");
    REQUIRE(a);
    CHECK(!a->accepted);
    CHECK_INT(a->code, MOTCUA__V1__REASON__REASON_WRONG_STATE);
    CHECK(strstr(a->reason, "xin lỗi") != NULL);
    motcua__v1__extension_ack__free_unpacked(a, NULL);
    CHECK_INT(dossier_due(case_id), due);
    CHECK_INT(events(case_id, "extension_refused"), 1);
    CHECK_INT(events(case_id, "extended"), 0);
    /* a date not after the due date, on another dossier far from it: refused as such */
    char case2[96];
    void *s2 = routed_and_held("lt-ext-0003", "ext-session-0003-cccccccc", case2);
    REQUIRE(s2);
    REQUIRE(set_due(case2, "10 days") == 0);
    a = extension_send(s2, case2, dossier_due(case2) - 86400, "Lùi ngày");
    REQUIRE(a);
    CHECK(!a->accepted);
    CHECK_INT(a->code, MOTCUA__V1__REASON__REASON_INVALID_FORMAT);
    motcua__v1__extension_ack__free_unpacked(a, NULL);
    /* an empty reason is malformed: a Refusal, nothing recorded */
    Motcua__V1__ExtensionRequest x = MOTCUA__V1__EXTENSION_REQUEST__INIT;
    x.case_id = case2;
    x.new_due_at = dossier_due(case2) + 86400;
    x.reason = "";
    Motcua__V1__AgencyToHub m = MOTCUA__V1__AGENCY_TO_HUB__INIT;
    m.body_case = MOTCUA__V1__AGENCY_TO_HUB__BODY_EXTENSION;
    m.extension = &x;
    raw_send(s2, &m);
    refusal_t r = raw_refusal(s2, 5000);
    CHECK_INT(r.reason, MOTCUA__V1__REASON__REASON_MALFORMED);
    CHECK_INT(events(case2, "extension_refused"), 1);
    CHECK(raw_finish(s, case_id));
    CHECK(raw_finish(s2, case2));
    mc_transport_close(&s);
    mc_transport_close(&s2);
}

/* journal_lines - lines of the agency journal in dir that start with prefix, -1 if unreadable */
static int journal_lines(const char *dir, const char *prefix)
{
    char path[600], line[300];
    snprintf(path, sizeof path, "%s/journal", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strncmp(line, prefix, strlen(prefix)) == 0;
    fclose(f);
    return n;
}

/* journal_append_line - one journal line (agency.h format) with its CRC-32; 0 on success */
static int journal_append_line(const char *dir, const char *body)
{
    char path[600];
    snprintf(path, sizeof path, "%s/journal", dir);
    FILE *f = fopen(path, "a");
    if (!f)
        return -1;
    unsigned long crc = crc32(0L, (const unsigned char *)body, (unsigned)strlen(body));
    int ok = fprintf(f, "%s %08lx\n", body, crc) > 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* CASE_IN_STATE - SQL counting case_id ($1) in agency_case.state st (harness_wait_count) */
#define CASE_IN_STATE(st) "SELECT count(*) FROM agency_case WHERE case_id = $1 AND state = " #st

MC_TEST(agency_with_extend_days_proposes_once_and_the_apology_comes_before_the_result)
{
    char code[64], case_id[96], dir[500], log[64] = "agency-extend-1.log";
    REQUIRE(new_routed("lt-ext-agency-0001", code) == 0);
    snprintf(case_id, sizeof case_id, "%s/1", code);
    snprintf(dir, sizeof dir, "%s/state-extend", H.dir);
    pid_t a = start_agency("TU_PHAP", "TU_PHAP", log, "--extend-days", "3", "--state-dir", dir);
    REQUIRE(a > 0);
    REQUIRE(harness_wait_count(&H, CASE_IN_STATE(3), case_id, 1, 10000) == 1);
    /* due in 10 days, flagged as the router's due_soon scan leaves it */
    REQUIRE(set_due(case_id, "10 days") == 0);
    long old_due = dossier_due(case_id);
    REQUIRE(warn_like_router(case_id, false) == 0);
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM dossier_event e JOIN agency_case c"
                                 " ON c.dossier_id = e.dossier_id WHERE c.case_id = $1"
                                 " AND e.kind = 'extended'", case_id, 1, 10000), 1);
    CHECK(dossier_due(case_id) >= old_due + 3 * 86400);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification n JOIN agency_case c"
                            " ON c.dossier_id = n.dossier_id WHERE c.case_id = $1"
                            " AND n.kind = 'apology' AND n.data->>'reason' ="
                            " 'Cần thêm thời gian xác minh hồ sơ'", case_id), 1);
    /* the exact proposal is journaled once */
    char prefix[200];
    snprintf(prefix, sizeof prefix, "E %s 1 %ld ", case_id, old_due + 3 * 86400);
    CHECK_INT(journal_lines(dir, prefix), 1);
    CHECK(wait_log(log, "event=extension_ack", 5000));
    CHECK(log_has(log, "accepted=yes"));
    /* then the case is answered: after the extension */
    CHECK_INT(harness_wait_count(&H, CASE_IN_STATE(4), case_id, 1, 10000), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case c JOIN dossier d"
                            " ON d.id = c.dossier_id WHERE c.case_id = $1"
                            " AND c.updated_at >= d.extended_at", case_id), 1);
    CHECK_INT(events(case_id, "extension_refused"), 0);

    /* a restart resends the journaled proposal, never another: the agency dies
     * holding a second case, its journal says it proposed a date, the restart
     * sends exactly that one (and a later DueSoon does not change it) */
    char code2[64], case2[96];
    REQUIRE(new_routed("lt-ext-agency-0002", code2) == 0);
    snprintf(case2, sizeof case2, "%s/1", code2);
    REQUIRE(harness_wait_count(&H, CASE_IN_STATE(3), case2, 1, 10000) == 1);
    CHECK_INT(harness_stop_daemon(a, SIGKILL), 128 + SIGKILL);
    REQUIRE(set_due(case2, "10 days") == 0);
    long due2 = dossier_due(case2);
    char body[200];
    snprintf(body, sizeof body, "E %s 1 %ld", case2, due2 + 5 * 86400);
    REQUIRE(journal_append_line(dir, body) == 0);
    REQUIRE(warn_like_router(case2, false) == 0);
    a = start_agency("TU_PHAP", "TU_PHAP", "agency-extend-2.log", "--extend-days", "3",
                     "--state-dir", dir);
    REQUIRE(a > 0);
    CHECK_INT(harness_wait_count(&H, CASE_IN_STATE(4), case2, 1, 15000), 1);
    CHECK_INT(events(case2, "extended"), 1);
    CHECK_INT(events(case2, "extension_refused"), 0);
    CHECK(dossier_due(case2) >= due2 + 5 * 86400);
    CHECK(dossier_due(case2) < due2 + 9 * 86400); /* +5 rounded up to a working day's end */
    snprintf(prefix, sizeof prefix, "E %s 1 ", case2);
    CHECK_INT(journal_lines(dir, prefix), 1);
    CHECK_INT(harness_stop_daemon(a, SIGTERM), 0);
}

/* extended_once - the dossier of case_id was extended once, by at least days, never refused,
 * with one apology, and dir's journal proposed it once */
static void extended_once(const char *case_id, long old_due, int days, const char *dir)
{
    CHECK_INT(events(case_id, "extended"), 1);
    CHECK_INT(events(case_id, "extension_refused"), 0);
    CHECK(dossier_due(case_id) >= old_due + days * 86400);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification n JOIN agency_case c"
                            " ON c.dossier_id = n.dossier_id WHERE c.case_id = $1"
                            " AND n.kind = 'apology'", case_id), 1);
    char prefix[200];
    snprintf(prefix, sizeof prefix, "E %s 1 %ld ", case_id, old_due + days * 86400);
    CHECK_INT(journal_lines(dir, prefix), 1);
}

MC_TEST(agency_killed_after_a_due_soon_still_extends_once_and_answers)
{
    char code[64], case_id[96], dir[500], line[200];
    REQUIRE(new_routed("lt-ext-agency-0003", code) == 0);
    snprintf(case_id, sizeof case_id, "%s/1", code);
    snprintf(dir, sizeof dir, "%s/state-extend-kill", H.dir);
    pid_t a = start_agency("TU_PHAP", "TU_PHAP", "agency-extend-3.log", "--extend-days", "3",
                           "--state-dir", dir);
    REQUIRE(a > 0);
    REQUIRE(harness_wait_count(&H, CASE_IN_STATE(3), case_id, 1, 10000) == 1);
    REQUIRE(set_due(case_id, "10 days") == 0);
    long old_due = dossier_due(case_id);
    REQUIRE(warn_like_router(case_id, true) == 0);
    /* killed as soon as it says it got the DueSoon: it may or may not have
     * journaled its proposal by then; both must end the same way */
    snprintf(line, sizeof line, "event=due_soon_received case=%s", case_id);
    CHECK(wait_log("agency-extend-3.log", line, 10000));
    CHECK_INT(harness_stop_daemon(a, SIGKILL), 128 + SIGKILL);
    char prefix[200];
    snprintf(prefix, sizeof prefix, "E %s ", case_id);
    printf("    (killed %s its proposal was journaled)\n",
           journal_lines(dir, prefix) > 0 ? "after" : "before");

    /* deterministic: a second case whose DueSoon is lost with the process, which
     * was stopped before it came (so nothing can be journaled) and then killed */
    char code2[64], case2[96];
    a = start_agency("TU_PHAP", "TU_PHAP", "agency-extend-4.log", "--extend-days", "3",
                     "--state-dir", dir);
    REQUIRE(a > 0);
    REQUIRE(new_routed("lt-ext-agency-0004", code2) == 0);
    snprintf(case2, sizeof case2, "%s/1", code2);
    REQUIRE(harness_wait_count(&H, CASE_IN_STATE(3), case2, 1, 10000) == 1);
    CHECK_INT(harness_wait_count(&H, CASE_IN_STATE(4), case_id, 1, 15000), 1);
    extended_once(case_id, old_due, 3, dir);
    REQUIRE(kill(a, SIGSTOP) == 0);
    REQUIRE(set_due(case2, "10 days") == 0);
    long due2 = dossier_due(case2);
    REQUIRE(warn_like_router(case2, true) == 0);
    /* the frame left (into the stopped process's socket) unless the hub found the
     * agency silent first, on a very loaded machine: then it goes at the restart */
    bool left = harness_wait_count(&H, "SELECT count(*) FROM agency_case WHERE case_id = $1"
                                   " AND NOT warn_pending", case2, 1, 5000) == 1;
    CHECK_INT(harness_stop_daemon(a, SIGKILL), 128 + SIGKILL);
    snprintf(prefix, sizeof prefix, "E %s ", case2);
    CHECK_INT(journal_lines(dir, prefix), 0);
    a = start_agency("TU_PHAP", "TU_PHAP", "agency-extend-5.log", "--extend-days", "3",
                     "--state-dir", dir);
    REQUIRE(a > 0);
    CHECK_INT(harness_wait_count(&H, CASE_IN_STATE(4), case2, 1, 15000), 1);
    extended_once(case2, due2, 3, dir);
    snprintf(line, sizeof line, "event=due_soon_resent case=%s agency=TU_PHAP why=resync", case2);
    if (left)
        CHECK(log_has("lienthong.log", line));
    else
        printf("    (the DueSoon did not leave before the kill: sent at the restart)\n");
    CHECK_INT(events(case_id, "extended"), 1);
    CHECK_INT(harness_stop_daemon(a, SIGTERM), 0);
}

MC_TEST(agency_with_extend_days_answers_a_case_never_warned_after_the_hold)
{
    char code[64], case_id[96], line[200];
    REQUIRE(new_routed("lt-ext-agency-0005", code) == 0);
    snprintf(case_id, sizeof case_id, "%s/1", code);
    pid_t a = start_agency("TU_PHAP", "TU_PHAP", "agency-extend-6.log", "--extend-days", "3",
                           "--extend-hold-ms", "1500");
    REQUIRE(a > 0);
    CHECK_INT(harness_wait_count(&H, CASE_IN_STATE(4), case_id, 1, 15000), 1);
    snprintf(line, sizeof line, "event=extension_hold_expired case=%s", case_id);
    CHECK(log_has("agency-extend-6.log", line));
    CHECK_INT(events(case_id, "extended"), 0);
    /* not before the hold: its result came at least 1.5 s after the case was first sent */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event r JOIN agency_case c"
                            " ON c.dossier_id = r.dossier_id WHERE c.case_id = $1"
                            " AND r.kind = 'step_done' AND r.at >= (SELECT min(s.at)"
                            " + interval '1.5 seconds' FROM dossier_event s WHERE"
                            " s.dossier_id = c.dossier_id AND s.kind = 'sent_to_agency')",
                            case_id), 1);
    CHECK_INT(harness_stop_daemon(a, SIGTERM), 0);
}

/* write_agencies - DIR/agencies.yaml: the setup's agencies, then extra lines, renamed into
 * place (a reload never reads half a file) */
static int write_agencies(const char *extra)
{
    char path[400], tmp[420];
    snprintf(path, sizeof path, "%s/agencies.yaml", H.dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "agencies:\n");
    for (int i = 0; agency_codes[i]; i++)
        fprintf(f, "  - {code: %s, name: \"%s\", kind: %s, public_key_file: keys/%s.pub}\n",
                agency_codes[i], agency_codes[i], i ? "partner" : "department", agency_codes[i]);
    fputs(extra, f);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

/* count_log - lines of DIR/log holding text */
static long count_log(const char *log, const char *text)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "grep -cF -- '%s' %s/%s", text, H.dir, log);
    FILE *p = popen(cmd, "r");
    long n = -1;
    if (p) {
        if (fscanf(p, "%ld", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

/* wait_log_count - DIR/log holds text at least want times, polled until ms pass */
static bool wait_log_count(const char *log, const char *text, long want, int ms)
{
    int64_t deadline = harness_now_ms() + ms;
    while (count_log(log, text) < want) {
        if (harness_now_ms() >= deadline)
            return false;
        usleep(20000);
    }
    return true;
}

MC_TEST(sighup_adds_a_partner_that_gets_its_case_and_keeps_cases_in_flight)
{
    /* a case for SO_Y_TE, a partner agencies.yaml does not list yet */
    char code[64], new_case_id[96], held[96];
    REQUIRE(new_case("lt-reload-0001", code, new_case_id) == 0);
    REQUIRE(exec_sql("UPDATE agency_case SET agency = 'SO_Y_TE' WHERE case_id = $1", 1,
                     (const char *const[]){new_case_id}) == 0);
    /* a TU_PHAP case in flight across the reload: taken and acked, not answered yet */
    void *tuphap = routed_and_held("lt-reload-0002", "reload-tuphap-session-1", held);
    REQUIRE(tuphap != NULL);
    long reloads = count_log("lienthong.log", "event=reloaded");
    REQUIRE(write_agencies("  - {code: SO_Y_TE, name: \"Sở Y tế\", kind: partner,"
                           " public_key_file: keys/SO_Y_TE.pub}\n") == 0);
    CHECK(kill(hub_pid, SIGHUP) == 0);
    CHECK(wait_log_count("lienthong.log", "event=reloaded", reloads + 1, 10000));
    CHECK(log_has("lienthong.log", "event=agencies_reloaded agencies=5 kept=4 new=1 peers_dropped=0"));
    CHECK(waitpid(hub_pid, NULL, WNOHANG) == 0); /* still running */
    /* the new partner connects with its key and gets its case */
    void *soyte = raw_connect("SO_Y_TE");
    REQUIRE(soyte != NULL);
    CHECK(take_and_finish(soyte, "reload-soyte-session-01", new_case_id));
    CHECK_INT(case_state(new_case_id), MC_CASE_DONE);
    /* the case in flight for TU_PHAP is answered on the same connection */
    CHECK(raw_finish(tuphap, held));
    CHECK_INT(case_state(held), MC_CASE_DONE);
    mc_transport_close(&soyte);
    mc_transport_close(&tuphap);
}

MC_TEST(sighup_with_an_invalid_agencies_file_keeps_the_old_one)
{
    long failed = count_log("lienthong.log", "event=reload_failed");
    /* SO_Y_TE's key file does not exist: the file does not load */
    REQUIRE(write_agencies("  - {code: SO_Y_TE, name: \"Sở Y tế\", kind: partner,"
                           " public_key_file: keys/SO_Y_TE.pub}\n"
                           "  - {code: KHONG_CO, name: \"Không có\", kind: partner,"
                           " public_key_file: keys/KHONG_CO.pub}\n") == 0);
    CHECK(kill(hub_pid, SIGHUP) == 0);
    CHECK(wait_log_count("lienthong.log", "event=reload_failed", failed + 1, 10000));
    CHECK(log_has("lienthong.log", "kept=old"));
    CHECK(waitpid(hub_pid, NULL, WNOHANG) == 0);
    /* the old table still serves: SO_Y_TE (added by the last good reload) gets a new case */
    char code[64], case_id[96];
    REQUIRE(new_case("lt-reload-0003", code, case_id) == 0);
    REQUIRE(exec_sql("UPDATE agency_case SET agency = 'SO_Y_TE' WHERE case_id = $1", 1,
                     (const char *const[]){case_id}) == 0);
    void *soyte = raw_connect("SO_Y_TE");
    REQUIRE(soyte != NULL);
    CHECK(take_and_finish(soyte, "reload-soyte-session-02", case_id));
    mc_transport_close(&soyte);
    /* the file back as it was for the tests after this one */
    CHECK(write_agencies("  - {code: SO_Y_TE, name: \"Sở Y tế\", kind: partner,"
                         " public_key_file: keys/SO_Y_TE.pub}\n") == 0);
}

MC_TEST(sighup_removing_a_partner_ends_its_connection)
{
    long up = count_log("lienthong.log", "agency=SO_Y_TE connected=yes ready=yes");
    long refused = count_log("lienthong.log", "event=agency_refused");
    void *soyte = raw_connect("SO_Y_TE");
    REQUIRE(soyte != NULL);
    raw_resync(soyte, 1, "reload-soyte-session-03", NULL, 0);
    CHECK(wait_log_count("lienthong.log", "agency=SO_Y_TE connected=yes ready=yes", up + 1, 10000));
    REQUIRE(write_agencies("") == 0); /* SO_Y_TE no longer listed */
    CHECK(kill(hub_pid, SIGHUP) == 0);
    CHECK(wait_log("lienthong.log", "agencies=4 kept=4 new=0 peers_dropped=1", 10000));
    /* its connection was ended: ZeroMQ reconnects it, and ZAP refuses the key now */
    CHECK(wait_log_count("lienthong.log", "event=agency_refused", refused + 1, 10000));
    mc_transport_close(&soyte);
}

/* --- issue 11 point 3: latency tolerance ------------------------------------ */

/* slow_config - PATH: the generated config with the store reached through the
 * delay line on proxy_port and 1 s heartbeats (agencies reconnect after 3 s of
 * silence; the first batch prepares its statements one round trip each) */
static int slow_config(const char *path, int proxy_port)
{
    char from[400], to[64], tmp[sizeof H.config], saved[sizeof H.config];
    snprintf(from, sizeof from, "host=%s/pg port=%d ", H.dir, H.pg_port);
    snprintf(to, sizeof to, "host=127.0.0.1 port=%d ", proxy_port);
    snprintf(tmp, sizeof tmp, "%.400s.tmp", path);
    if (harness_config_copy(&H, tmp, from, to) != 0)
        return -1;
    memcpy(saved, H.config, sizeof saved); /* harness_config_copy reads H.config */
    snprintf(H.config, sizeof H.config, "%s", tmp);
    int rc = harness_config_copy(&H, path, "heartbeat_ms: 300", "heartbeat_ms: 1000");
    memcpy(H.config, saved, sizeof saved);
    return rc;
}

/* the hub with its PostgreSQL 20 ms away each way (bench/delayproxy: 40 ms
 * per round trip): the dossiers still go through all four agencies, and no
 * agency ever finds the hub silent and reconnects (the hub heartbeats
 * between its store calls; every pass costs a few round trips, not one per
 * case or agency) */
MC_TEST(hub_with_its_store_20ms_away_finishes_dossiers_and_is_never_silent)
{
    enum { N = 6 };
    int proxy_port = harness_free_port(H.pg_port);
    REQUIRE(proxy_port > 0);
    char listen[16], target[16], cfg[400];
    snprintf(listen, sizeof listen, "%d", proxy_port);
    snprintf(target, sizeof target, "%d", H.pg_port);
    pid_t proxy = harness_spawn(&H, "../bench/delayproxy", "delayproxy.log",
                                (const char *const[]){listen, target, "20", NULL});
    REQUIRE(proxy > 0);
    REQUIRE(wait_log("delayproxy.log", "event=started", 10000));
    snprintf(cfg, sizeof cfg, "%.300s/motcua-slow.yaml", H.dir);
    REQUIRE(slow_config(cfg, proxy_port) == 0);
    CHECK_INT(harness_stop_daemon(hub_pid, SIGTERM), 0);
    hub_pid = harness_start_daemon(&H, "lienthong", cfg, "lienthong-slow.log");
    REQUIRE(hub_pid > 0);
    char codes[N][64], sub[32], log[64], saved[sizeof H.config];
    for (int i = 0; i < N; i++) {
        snprintf(sub, sizeof sub, "lt-slow-%04d", i);
        REQUIRE(new_inter_agency(sub, codes[i]) == 0);
    }
    memcpy(saved, H.config, sizeof saved); /* the agencies read the 1 s heartbeat too */
    snprintf(H.config, sizeof H.config, "%s", cfg);
    pid_t pids[4];
    for (int i = 0; i < 4; i++) {
        snprintf(log, sizeof log, "agency-slow-%s.log", agency_codes[i]);
        pids[i] = start_agency(agency_codes[i], agency_codes[i], log, "--outcomes", "approved=100",
                               NULL, NULL);
    }
    memcpy(H.config, saved, sizeof saved);
    for (int i = 0; i < N; i++)
        CHECK_INT(harness_wait_count(&H, "SELECT state FROM dossier WHERE code = $1", codes[i],
                                     MC_DOSSIER_RESULT_READY, 60000), MC_DOSSIER_RESULT_READY);
    for (int i = 0; i < 4; i++) {
        CHECK_INT(harness_stop_daemon(pids[i], SIGTERM), 0);
        snprintf(log, sizeof log, "agency-slow-%s.log", agency_codes[i]);
        CHECK_INT(count_log(log, "event=hub_silent"), 0);
        CHECK_INT(count_log(log, "why=connect"), 1); /* one connection, never another */
    }
    CHECK_INT(harness_stop_daemon(hub_pid, SIGTERM), 0);
    hub_pid = 0;
    CHECK(log_has("lienthong-slow.log", "event=stopped clean=yes"));
    CHECK_INT(harness_stop_daemon(proxy, SIGTERM), 0);
    CHECK(log_has("delayproxy.log", "event=stopped connections=1 ")); /* the hub's store went through it */
    hub_pid = harness_start_daemon(&H, "lienthong", NULL, "lienthong.log"); /* for the tests after */
    REQUIRE(hub_pid > 0);
}

MC_TEST(sigterm_stops_cleanly)
{
    CHECK_INT(harness_stop_daemon(hub_pid, SIGTERM), 0);
    hub_pid = 0;
    CHECK(log_has("lienthong.log", "event=stopped clean=yes"));
}

/* setup - keys, agencies.yaml, config, intake and lienthong */
/* take_cases - s (credit for them all, session) takes and acks the n cases ids[]; how many */
static int take_cases(void *s, const char *session, char ids[][96], int n)
{
    bool got[16] = {false};
    int seen = 0;
    raw_resync(s, (uint32_t)n, session, NULL, 0);
    int64_t deadline = harness_now_ms() + 20000;
    while (seen < n && n <= 16 && harness_now_ms() < deadline) {
        Motcua__V1__HubToAgency *m = raw_next(s, 2000);
        for (int i = 0; m && m->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_CASE && i < n; i++) {
            if (!got[i] && strcmp(m->case_->case_id, ids[i]) == 0) {
                got[i] = true;
                seen++;
                raw_ack(s, ids[i]);
            }
        }
        if (m)
            motcua__v1__hub_to_agency__free_unpacked(m, NULL);
    }
    for (int i = 0; i < n && seen == n; i++)
        if (!wait_acked_by(ids[i], session, 5000))
            return i;
    return seen;
}

/* the answers a burst of results got */
typedef struct burst_answers {
    int  accepted[8]; /* ResultAck accepted, per case */
    int  refused[8];  /* ResultAck not accepted, per case */
    bool malformed;   /* the Refusal of the malformed one came */
    bool unknown;     /* the Refusal of the unknown case came */
} burst_answers_t;

/* burst_collect - read answers for n cases (ids) until want frames came or 10 s passed */
static void burst_collect(void *s, char ids[][96], int n, const char *unknown, int want,
                          burst_answers_t *a)
{
    int64_t deadline = harness_now_ms() + 10000;
    for (int got = 0; got < want && harness_now_ms() < deadline;) {
        Motcua__V1__HubToAgency *m = raw_next(s, 2000);
        if (m && m->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_RESULT_ACK) {
            for (int i = 0; i < n; i++)
                if (strcmp(m->result_ack->case_id, ids[i]) == 0) {
                    (m->result_ack->accepted ? a->accepted : a->refused)[i]++;
                    got++;
                }
        } else if (m && m->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_REFUSAL) {
            if (m->refusal->reason == MOTCUA__V1__REASON__REASON_MALFORMED)
                a->malformed = true;
            if (m->refusal->reason == MOTCUA__V1__REASON__REASON_NOT_FOUND &&
                strcmp(m->refusal->case_id, unknown) == 0)
                a->unknown = true;
            got++;
        }
        if (m)
            motcua__v1__hub_to_agency__free_unpacked(m, NULL);
    }
}

/* issue 11: the hub applies what arrives together in one transaction; each
 * result is still judged alone: applied once (its resend in the same burst is
 * a duplicate, a different answer after it a conflict), acked after the commit,
 * and a malformed result and one for an unknown case among them are refused
 * alone without costing the others anything */
MC_TEST(results_arriving_together_are_applied_once_each_and_a_bad_one_is_refused_alone)
{
    enum { N = 6 };
    char codes[N][64], ids[N][96], unknown[100];
    for (int i = 0; i < N; i++) {
        char sub[32];
        snprintf(sub, sizeof sub, "lt-burst-%04d", i);
        REQUIRE(new_case(sub, codes[i], ids[i]) == 0);
    }
    snprintf(unknown, sizeof unknown, "%s/9", codes[0]); /* its dossier is in the burst too */
    void *s = raw_connect("TU_PHAP");
    REQUIRE(s);
    REQUIRE(take_cases(s, "it-lienthong-burst-session", ids, N) == N);
    /* the burst: every frame sent before any answer is read */
    for (int i = 0; i < N; i++) {
        raw_result(s, ids[i], MOTCUA__V1__OUTCOME__OUTCOME_APPROVED, NULL);
        if (i == N / 2) {
            raw_result(s, ids[i], MOTCUA__V1__OUTCOME__OUTCOME_UNSPECIFIED, NULL); /* malformed */
            raw_result(s, unknown, MOTCUA__V1__OUTCOME__OUTCOME_APPROVED, NULL);
        }
    }
    for (int i = 0; i < N; i++) /* the agency resends them all: duplicates */
        raw_result(s, ids[i], MOTCUA__V1__OUTCOME__OUTCOME_APPROVED, NULL);
    raw_result(s, ids[1], MOTCUA__V1__OUTCOME__OUTCOME_REJECTED, "đổi ý"); /* a conflict */
    burst_answers_t a = {0};
    burst_collect(s, ids, N, unknown, 2 * N + 3, &a);
    mc_transport_close(&s);
    CHECK(a.malformed);
    CHECK(a.unknown);
    for (int i = 0; i < N; i++) {
        CHECK_INT(a.accepted[i], 2);
        CHECK_INT(a.refused[i], i == 1 ? 1 : 0);
        CHECK_INT(case_state(ids[i]), MC_CASE_DONE);
        CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", codes[i]),
                  MC_DOSSIER_RESULT_READY);
        CHECK_INT(events(ids[i], "result_ready"), 1); /* applied once */
        CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification n JOIN dossier d ON"
                                " d.id = n.dossier_id WHERE d.code = $1 AND n.kind = 'result_ready'",
                                codes[i]), 1);
    }
}

static int setup(void)
{
    if (harness_setup(&H, "lienthong", 2) != 0)
        return -1;
    snprintf(keys, sizeof keys, "%s/keys", H.dir);
    const char *names[] = {"lienthong", "TU_PHAP", "UBND_XA_TUPHAP", "CONG_AN_XA", "BHXH", "INTRUDER",
                           "SO_Y_TE", NULL};
    for (int i = 0; names[i]; i++) {
        char args[600];
        snprintf(args, sizeof args, "keygen %s --dir %s", names[i], keys);
        if (harness_motcua(&H, args) != 0)
            return -1;
    }
    if (write_agencies("") != 0)
        return -1;
    int p1 = harness_free_port(H.pg_port), p2 = harness_free_port(p1);
    snprintf(hub_endpoint, sizeof hub_endpoint, "tcp://127.0.0.1:%d", p1);
    harness_config_append(&H,
                          "lienthong:\n  endpoint: \"%s\"\n  events_endpoint: \"tcp://127.0.0.1:%d\"\n"
                          "  server_key_file: keys/lienthong.key\n  heartbeat_ms: 300\n"
                          "  ack_timeout_ms: 700\n  max_attempts: 3\n  window_max: 8\n  poll_ms: 100\n"
                          "  lease_ms: 3000\n",
                          hub_endpoint, p2);
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_catalog_load("config/procedures.yaml", &catalog, &err) != 0)
        return -1;
    if (harness_start_intake(&H) != 0)
        return -1;
    hub_pid = harness_start_daemon(&H, "lienthong", NULL, "lienthong.log");
    return hub_pid > 0 ? 0 : -1;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (setup() != 0) {
        printf("  FAIL setup\n");
        harness_run("cat %s/lienthong.log %s/motcua.out >&2 2>/dev/null", H.dir, H.dir);
        mc_test_failed++;
    } else {
        mc_test_run(inter_agency_dossier_visits_agencies_in_order);
        mc_test_run(offline_agency_gets_its_cases_on_reconnect);
        mc_test_run(unacked_case_is_redelivered_with_the_same_case_id);
        mc_test_run(claim_takes_the_oldest_queued_or_due_cases_and_nothing_else);
        mc_test_run(unknown_key_gets_nothing);
        mc_test_run(agency_never_gets_nor_answers_another_agencys_case);
        mc_test_run(dead_letter_after_max_attempts_and_requeue);
        mc_test_run(results_are_idempotent_per_case);
        mc_test_run(results_arriving_together_are_applied_once_each_and_a_bad_one_is_refused_alone);
        mc_test_run(rejection_and_supplement_requests_end_or_pause_the_dossier);
        mc_test_run(resync_reoffers_what_is_not_held_and_keeps_what_is);
        mc_test_run(acked_cases_of_a_silent_session_go_to_another_connection_after_the_lease);
        mc_test_run(requeue_takes_an_acked_case_back);
        mc_test_run(hub_killed_under_a_connected_agency_resyncs_without_an_agency_restart);
        mc_test_run(hub_with_its_store_20ms_away_finishes_dossiers_and_is_never_silent);
        mc_test_run(routing_id_takeover_gets_nothing_and_answers_nothing);
        mc_test_run(unknown_fields_nul_and_bad_utf8_are_refused_with_the_field_path);
        mc_test_run(one_answer_for_unknown_not_yours_and_never_sent);
        mc_test_run(revision_4294967295_is_refused_not_read_as_1);
        mc_test_run(one_key_flooding_connections_locks_nobody_else_out);
        mc_test_run(due_soon_reaches_the_holder_and_the_extension_is_granted_once);
        mc_test_run(extension_too_close_to_the_due_date_is_refused);
        mc_test_run(agency_with_extend_days_proposes_once_and_the_apology_comes_before_the_result);
        mc_test_run(due_soon_comes_again_after_a_resync_and_periodically_until_answered);
        mc_test_run(agency_killed_after_a_due_soon_still_extends_once_and_answers);
        mc_test_run(agency_with_extend_days_answers_a_case_never_warned_after_the_hold);
        mc_test_run(sighup_adds_a_partner_that_gets_its_case_and_keeps_cases_in_flight);
        mc_test_run(sighup_with_an_invalid_agencies_file_keeps_the_old_one);
        mc_test_run(sighup_removing_a_partner_ends_its_connection);
        mc_test_run(sigterm_stops_cleanly);
    }
    if (hub_pid > 0)
        harness_stop_daemon(hub_pid, SIGKILL);
    mc_catalog_destroy(&catalog);
    mc_transport_term();
    harness_teardown(&H);
    return mc_test_done("it_lienthong");
}
