/*
 * it_borderless - boundary-free reception (issue 12 point 4; Nghị định
 * 118/2025 Điều 14 khoản 2, Điều 20, Điều 28 khoản 2) over the real daemons:
 * a throwaway PostgreSQL, motcua-intake, motcua-router, motcua-lienthong and
 * one simulated desk (TU_PHAP_CHUNG_THUC, the chứng thực desk of ward 00220).
 *
 * Three wards are served: Kim Liên (00229, "ward A") and Văn Miếu - Quốc Tử
 * Giám (00220, "ward B") in Hà Nội, and Kinh Bắc (27001) in another province.
 * Each has a counter client acting for it alone (keys made here, added to the
 * harness's clients.yaml). The checks: A's counter receives for B → the code
 * carries B's unit, the receipt names A as receiving and B as competent with
 * a forwarding deadline; A's and B's clients may query it, the other
 * province's may not (the very bytes of a code never issued); another
 * province cannot be received for; it is routed to B's desk and forwarded
 * when that desk acks; an unforwarded dossier past its deadline gets one
 * forward_overdue; the lists and the report show it for both wards.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mc_states.h"
#include "harness.h"
#include "mc_curve.h"
#include "mc_test.h"
#include "mc_transport.h"

#define MAX_AGENCIES 32
#define WARD_A "00229"
#define WARD_B "00220"
#define WARD_X "27001" /* another province */
#define UNIT_A "000.22.29.H26"
#define UNIT_B "000.22.20.H26"

/* the third ward, in another province, served by the same installation */
#define WARD_X_YAML                                                                        \
    "wards:\n  - {code: \"" WARD_X "\", name: \"Phường Kinh Bắc\", province: \"Tỉnh Bắc Ninh\","   \
    " unit_id: \"000.27.01.H27\", unit_name: \"Bộ phận Một cửa UBND phường Kinh Bắc\","          \
    " address: \"Kinh Bắc, Bắc Ninh\"}\n"

enum { CLIENT_A, CLIENT_B, CLIENT_X, N_CLIENTS };
static const char *const client_code[N_CLIENTS] = {"BL_QUAY_" WARD_A, "BL_QUAY_" WARD_B, "BL_QUAY_" WARD_X};
static const char *const client_ward[N_CLIENTS] = {WARD_A, WARD_B, WARD_X};

static harness_t           H;
static mc_transport_keys_t client_keys[N_CLIENTS];
static pid_t               router_pid, hub_pid, desk_pid;
static int                 n_agencies;
static char                agency_code[MAX_AGENCIES][64];
static char                forwarded_code[64]; /* A's receipt for B, from the first test */

/* add_clients - a keypair and a clients.yaml entry per ward counter */
static int add_clients(void)
{
    char dir[400], path[400];
    snprintf(dir, sizeof dir, "%s/keys", H.dir);
    snprintf(path, sizeof path, "%s/clients.yaml", H.dir);
    FILE *f = fopen(path, "a");
    if (!f)
        return -1;
    mc_err_t err;
    mc_err_clear(&err);
    for (int i = 0; i < N_CLIENTS; i++) {
        char key_path[500];
        snprintf(key_path, sizeof key_path, "%s/%s.key", dir, client_code[i]);
        if (mc_curve_write_keys(dir, client_code[i], client_keys[i].public_key, &err) != 0 ||
            mc_curve_read_key(key_path, client_keys[i].secret_key, &err) != 0)
            break;
        memcpy(client_keys[i].server_public, H.keys[HARNESS_COUNTER].server_public,
               sizeof client_keys[i].server_public);
        fprintf(f, "  - {code: %s, name: \"%s\", role: counter, wards: [\"%s\"],"
                   " public_key_file: keys/%s.pub}\n",
                client_code[i], client_code[i], client_ward[i], client_code[i]);
    }
    return fclose(f) == 0 && err.count == 0 ? 0 : -1;
}

/* request_raw - one request as client who; reply bytes malloc'd */
static int request_raw(int who, const Motcua__V1__IntakeRequest *req, uint8_t **bytes,
                       size_t *len)
{
    size_t n = motcua__v1__intake_request__get_packed_size(req);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return -1;
    motcua__v1__intake_request__pack(req, buf);
    mc_err_t err;
    mc_err_clear(&err);
    void *r = NULL;
    int rc = mc_transport_request_as(H.endpoint, &client_keys[who], buf, n, 10000, 0, 16 << 20,
                                     &r, len, &err);
    free(buf);
    *bytes = r;
    return rc;
}

/* request - as request_raw, unpacked (free with motcua__v1__intake_reply__free_unpacked) */
static Motcua__V1__IntakeReply *request(int who, const Motcua__V1__IntakeRequest *req)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (request_raw(who, req, &bytes, &len) != 0)
        return NULL;
    Motcua__V1__IntakeReply *r = motcua__v1__intake_reply__unpack(NULL, len, bytes);
    free(bytes);
    return r;
}

/* counter_dossier - a birth registration at the counter, competent ward B,
 * received at `receiving` ("" = none given) */
static void counter_dossier(harness_dossier_t *d, const char *sid, const char *receiving)
{
    harness_dossier_init(d, sid);
    d->dossier.ward_code = (char *)WARD_B;
    d->dossier.channel = MOTCUA__V1__CHANNEL__CHANNEL_DIRECT;
    d->submit.received_by = (char *)"Nguyễn Thị Lan";
    d->submit.receiving_ward_code = (char *)receiving;
}

/* status_request - a StatusQuery for code */
static Motcua__V1__IntakeRequest status_request(Motcua__V1__StatusQuery *q, const char *code)
{
    Motcua__V1__StatusQuery init = MOTCUA__V1__STATUS_QUERY__INIT;
    *q = init;
    q->dossier_code = (char *)code;
    Motcua__V1__IntakeRequest req = MOTCUA__V1__INTAKE_REQUEST__INIT;
    req.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_STATUS;
    req.status = q;
    return req;
}

/* same_reply - both requests answered, byte for byte the same */
static bool same_reply(int who1, const Motcua__V1__IntakeRequest *r1, int who2,
                       const Motcua__V1__IntakeRequest *r2)
{
    uint8_t *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    bool same = request_raw(who1, r1, &a, &la) == 0 && request_raw(who2, r2, &b, &lb) == 0 &&
                la == lb && memcmp(a, b, la) == 0;
    free(a);
    free(b);
    return same;
}

/* is_forbidden - the reply is a REASON_FORBIDDEN rejection on field */
static bool is_forbidden(const Motcua__V1__IntakeReply *r, const char *field)
{
    return r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION &&
           r->rejection->reason == MOTCUA__V1__REASON__REASON_FORBIDDEN &&
           strcmp(r->rejection->field, field) == 0;
}

/* cli_output - run `motcua ARGS`; its output, or NULL unless it exited 0 */
static const char *cli_output(const char *args)
{
    static char buf[1 << 16];
    if (harness_motcua(&H, args) != 0)
        return NULL;
    char path[400];
    snprintf(path, sizeof path, "%s/motcua.out", H.dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* cli_output_has - `motcua ARGS` exits 0 and its output holds text */
static bool cli_output_has(const char *args, const char *text)
{
    const char *out = cli_output(args);
    if (out && strstr(out, text))
        return true;
    printf("  `motcua %s` lacks \"%s\":\n%s\n", args, text, out ? out : "(failed)");
    return false;
}

/* cli_output_lacks - `motcua ARGS` exits 0 and its output does not hold text */
static bool cli_output_lacks(const char *args, const char *text)
{
    const char *out = cli_output(args);
    return out && !strstr(out, text);
}

/* --- tests ---------------------------------------------------------------- */

MC_TEST(ward_a_receives_for_ward_b_coded_for_the_competent_unit)
{
    harness_dossier_t d;
    counter_dossier(&d, "bl-forward-0001", WARD_A);
    d.dossier.procedure_code = (char *)"2.000815"; /* chứng thực: ward B has its own desk */
    static const char *const types[2] = {"BAN_CHINH", "BAN_SAO"};
    for (int i = 0; i < 2; i++)
        d.docs[i].document_type = (char *)types[i];
    d.dossier.n_documents = 2;
    Motcua__V1__IntakeReply *r = request(CLIENT_A, &d.request);
    REQUIRE(r);
    if (r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION)
        printf("  refused: %s %s %s\n", harness_reason_name(r->rejection->reason),
               r->rejection->field, r->rejection->message);
    REQUIRE(r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT);
    const Motcua__V1__Receipt *rc = r->receipt;
    snprintf(forwarded_code, sizeof forwarded_code, "%s", rc->dossier_code);
    CHECK(strncmp(rc->dossier_code, UNIT_B "-", strlen(UNIT_B) + 1) == 0);
    CHECK_STR(rc->receiving_unit_code, UNIT_A);
    CHECK_STR(rc->receiving_unit_name, "Điểm Phục vụ hành chính công phường Kim Liên - Trung tâm Phục vụ hành chính công thành phố Hà Nội");
    CHECK_STR(rc->competent_unit_code, UNIT_B);
    CHECK_STR(rc->ward_code, WARD_B);
    CHECK(rc->forward_due_at > rc->received_at);
    CHECK(strstr(rc->delivery, "Văn Miếu") != NULL); /* the result comes back from B */
    motcua__v1__intake_reply__free_unpacked(r, NULL);

    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE code = $1 AND ward_code = '"
                            WARD_B "' AND unit_id = '" UNIT_B "' AND receiving_ward = '" WARD_A
                            "' AND forward_due_at IS NOT NULL AND forwarded_at IS NULL",
                            forwarded_code), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d"
                            " ON d.id = e.dossier_id WHERE d.code = $1 AND e.kind = 'forward_due'",
                            forwarded_code), 1);
    /* the counter is B's unit's: the next dossier B receives itself continues it */
    harness_dossier_t own;
    counter_dossier(&own, "bl-own-b-0001", "");
    r = request(CLIENT_B, &own.request);
    REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT);
    CHECK(strncmp(r->receipt->dossier_code, UNIT_B "-", strlen(UNIT_B) + 1) == 0);
    CHECK_STR(r->receipt->receiving_unit_code, UNIT_B);
    CHECK_STR(r->receipt->competent_unit_code, UNIT_B);
    CHECK_INT(r->receipt->forward_due_at, 0);
    CHECK_INT(harness_count(&H, "SELECT seq FROM dossier WHERE code = $1", r->receipt->dossier_code),
              harness_count(&H, "SELECT seq FROM dossier WHERE code = $1", forwarded_code) + 1);
    motcua__v1__intake_reply__free_unpacked(r, NULL);

    /* a retry gets the same receipt and no second dossier */
    r = request(CLIENT_A, &d.request);
    REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT);
    CHECK_STR(r->receipt->dossier_code, forwarded_code);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE receiving_ward IS NOT NULL",
                            NULL), 1);
    /* the printed receipt (Mẫu 01) names the point that received it and the competent unit */
    char args[160];
    snprintf(args, sizeof args, "form receipt %s", forwarded_code);
    const char *out = cli_output(args);
    REQUIRE(out);
    CHECK(strstr(out, "Cơ quan tiếp nhận: Điểm Phục vụ hành chính công phường Kim Liên") != NULL);
    CHECK(strstr(out, "(mã định danh " UNIT_A ")") != NULL);
    CHECK(strstr(out, "Cơ quan có thẩm quyền giải quyết:") != NULL);
    CHECK(strstr(out, "(mã định danh " UNIT_B ")") != NULL);
}

MC_TEST(both_wards_see_it_another_province_does_not)
{
    REQUIRE(forwarded_code[0]);
    Motcua__V1__StatusQuery q;
    Motcua__V1__IntakeRequest req = status_request(&q, forwarded_code);
    for (int who = CLIENT_A; who <= CLIENT_B; who++) {
        Motcua__V1__IntakeReply *r = request(who, &req);
        REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_STATUS);
        CHECK_STR(r->status->ward_code, WARD_B);
        CHECK_STR(r->status->receiving_ward_code, WARD_A);
        CHECK(r->status->n_history >= 2); /* a counter sees the history: received, forward_due */
        motcua__v1__intake_reply__free_unpacked(r, NULL);
    }
    Motcua__V1__IntakeReply *r = request(CLIENT_X, &req);
    CHECK(is_forbidden(r, "dossier_code"));
    if (r)
        motcua__v1__intake_reply__free_unpacked(r, NULL);
    /* the very bytes a code never issued gets */
    Motcua__V1__StatusQuery q2;
    Motcua__V1__IntakeRequest never = status_request(&q2, UNIT_B "-200101-9999");
    CHECK(same_reply(CLIENT_X, &req, CLIENT_X, &never));

    /* follow-ups too: A's counter rating it before the result is told the
     * state (so it passed the ward check), X's counter is forbidden */
    Motcua__V1__RateService rate = MOTCUA__V1__RATE_SERVICE__INIT;
    rate.submission_id = (char *)"bl-rate-a-0001";
    rate.dossier_code = forwarded_code;
    rate.level = MOTCUA__V1__SATISFACTION__SATISFACTION_SATISFIED;
    Motcua__V1__IntakeRequest rreq = MOTCUA__V1__INTAKE_REQUEST__INIT;
    rreq.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_RATE;
    rreq.rate = &rate;
    r = request(CLIENT_A, &rreq);
    REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION);
    CHECK_INT(r->rejection->reason, MOTCUA__V1__REASON__REASON_WRONG_STATE);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    rate.submission_id = (char *)"bl-rate-x-0001";
    r = request(CLIENT_X, &rreq);
    CHECK(is_forbidden(r, "dossier_code"));
    if (r)
        motcua__v1__intake_reply__free_unpacked(r, NULL);
}

MC_TEST(another_province_cannot_be_received_for)
{
    /* X's counter receiving for B (Hà Nội): forbidden, the same bytes as X's
     * counter submitting for B directly, and nothing stored */
    harness_dossier_t d, plain;
    counter_dossier(&d, "bl-province-0001", WARD_X);
    counter_dossier(&plain, "bl-province-0001", "");
    Motcua__V1__IntakeReply *r = request(CLIENT_X, &d.request);
    CHECK(is_forbidden(r, "dossier.ward_code"));
    if (r)
        motcua__v1__intake_reply__free_unpacked(r, NULL);
    CHECK(same_reply(CLIENT_X, &d.request, CLIENT_X, &plain.request));
    /* A's counter cannot claim to be B's (receiving at B is B's own
     * submission), nor receive at X, nor receive for X */
    counter_dossier(&d, "bl-province-0002", WARD_B);
    r = request(CLIENT_A, &d.request);
    CHECK(is_forbidden(r, "dossier.ward_code"));
    if (r)
        motcua__v1__intake_reply__free_unpacked(r, NULL);
    counter_dossier(&d, "bl-province-0004", WARD_X);
    r = request(CLIENT_A, &d.request);
    CHECK(is_forbidden(r, "receiving_ward_code"));
    if (r)
        motcua__v1__intake_reply__free_unpacked(r, NULL);
    counter_dossier(&d, "bl-province-0003", WARD_A);
    d.dossier.ward_code = (char *)WARD_X;
    r = request(CLIENT_A, &d.request);
    CHECK(is_forbidden(r, "dossier.ward_code"));
    if (r)
        motcua__v1__intake_reply__free_unpacked(r, NULL);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE submission_id LIKE"
                            " 'bl-province-%'", NULL), 0);
}

MC_TEST(routed_to_b_desk_and_forwarded_when_it_acks)
{
    REQUIRE(forwarded_code[0]);
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM dossier WHERE code = $1"
                                 " AND department = 'TU_PHAP_CHUNG_THUC'", forwarded_code, 1,
                                 20000), 1);
    int desk = -1;
    for (int i = 0; i < n_agencies; i++)
        if (strcmp(agency_code[i], "TU_PHAP_CHUNG_THUC") == 0)
            desk = i;
    REQUIRE(desk >= 0);
    char key[500], server[500];
    snprintf(key, sizeof key, "%s/keys/%s.key", H.dir, agency_code[desk]);
    snprintf(server, sizeof server, "%s/keys/lienthong.pub", H.dir);
    const char *args[] = {"-c", H.config, "--agency", agency_code[desk], "--key", key,
                          "--server-key", server, "--delay-ms", "2", "--outcomes",
                          "approved=100", NULL};
    desk_pid = harness_spawn(&H, "motcua-agency", "agency-desk.log", args);
    REQUIRE(desk_pid > 0);
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM dossier WHERE code = $1"
                                 " AND forwarded_at IS NOT NULL", forwarded_code, 1, 30000), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d"
                            " ON d.id = e.dossier_id WHERE d.code = $1 AND e.kind = 'forwarded'"
                            " AND e.actor = 'TU_PHAP_CHUNG_THUC'", forwarded_code), 1);
    /* the result comes, and forwarding stays recorded once */
    CHECK_INT(harness_wait_count(&H, "SELECT state FROM dossier WHERE code = $1", forwarded_code,
                                 MC_DOSSIER_RESULT_READY, 30000), MC_DOSSIER_RESULT_READY);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d"
                            " ON d.id = e.dossier_id WHERE d.code = $1 AND e.kind = 'forwarded'",
                            forwarded_code), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE code = $1"
                            " AND forward_overdue_at IS NULL", forwarded_code), 1);
}

/* overdue_submit - A receives a birth registration for B (desk TU_PHAP, never
 * started: it is not forwarded) and its deadline is moved into the past */
static int overdue_submit(const char *sid, char *code)
{
    harness_dossier_t d;
    counter_dossier(&d, sid, WARD_A);
    Motcua__V1__IntakeReply *r = request(CLIENT_A, &d.request);
    int ok = r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT;
    if (ok)
        snprintf(code, 64, "%s", r->receipt->dossier_code);
    if (r)
        motcua__v1__intake_reply__free_unpacked(r, NULL);
    if (!ok)
        return -1;
    const char *p[1] = {code};
    PGresult *res = PQexecParams(harness_db(&H),
                                 "UPDATE dossier SET forward_due_at = now() - interval '1 hour'"
                                 " WHERE code = $1", 1, NULL, p, NULL, NULL, 0);
    ok = PQresultStatus(res) == PGRES_COMMAND_OK && atoi(PQcmdTuples(res)) == 1;
    PQclear(res);
    return ok ? 0 : -1;
}

MC_TEST(unforwarded_past_deadline_gets_forward_overdue_once)
{
    char first[64], second[64];
    REQUIRE(overdue_submit("bl-overdue-0001", first) == 0);
    const char *count_sql = "SELECT count(*) FROM dossier_event e JOIN dossier d"
                            " ON d.id = e.dossier_id WHERE d.code = $1"
                            " AND e.kind = 'forward_overdue' AND e.actor = 'router'";
    CHECK_INT(harness_wait_count(&H, count_sql, first, 1, 20000), 1);
    /* a later dossier's mark proves later scans ran: the first stays at one */
    REQUIRE(overdue_submit("bl-overdue-0002", second) == 0);
    CHECK_INT(harness_wait_count(&H, count_sql, second, 1, 20000), 1);
    CHECK_INT(harness_count(&H, count_sql, first), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE code = $1"
                            " AND forward_overdue_at IS NOT NULL AND forwarded_at IS NULL", first),
              1);
}

MC_TEST(lists_and_report_show_it_for_both_wards)
{
    REQUIRE(forwarded_code[0]);
    /* the overdue forwardings in the receiving ward's and the competent ward's lists */
    CHECK(cli_output_has("overdue --ward " WARD_A, "chuyển đến Phường Văn Miếu"));
    CHECK(cli_output_has("overdue --ward " WARD_A, "quá hạn chuyển"));
    CHECK(cli_output_has("overdue --ward " WARD_B, "tiếp nhận tại Phường Kim Liên"));
    CHECK(cli_output_lacks("overdue --ward " WARD_X, "Kim Liên"));
    char args[200];
    snprintf(args, sizeof args, "status %s", forwarded_code);
    CHECK(cli_output_has(args, "tiếp nhận tại"));
    /* the quarter: A received 3 for B, 1 forwarded in time, 2 not (overdue) */
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    snprintf(args, sizeof args, "report --ward %s --quarter %d-Q%d", WARD_A, tm.tm_year + 1900,
             tm.tm_mon / 3 + 1);
    CHECK(cli_output_has(args, "tiếp nhận hộ, chuyển đi"));
    CHECK(cli_output_has(args, "3 hồ sơ\n  chuyển đúng hạn: 1; chuyển quá hạn: 0;"
                               " chưa chuyển, đã quá hạn: 2"));
    /* the same figure in JSON and CSV (issue 12 point 8), from the report's snapshot */
    snprintf(args, sizeof args, "report --ward %s --quarter %d-Q%d --format json", WARD_A,
             tm.tm_year + 1900, tm.tm_mon / 3 + 1);
    CHECK(cli_output_has(args, "\"forwarding\":{\"received\":3,\"in_time\":1,\"late\":0,"
                               "\"overdue\":2,\"pending\":0}"));
    snprintf(args, sizeof args, "report --ward %s --quarter %d-Q%d --format csv", WARD_A,
             tm.tm_year + 1900, tm.tm_mon / 3 + 1);
    CHECK(cli_output_has(args, ",3,1,0,2,0\r"));
    /* the competent ward has no such figure: the dossiers count as its own */
    snprintf(args, sizeof args, "report --ward %s --quarter %d-Q%d", WARD_B, tm.tm_year + 1900,
             tm.tm_mon / 3 + 1);
    CHECK(cli_output_lacks(args, "tiếp nhận hộ"));
}

MC_TEST(everything_stops_cleanly)
{
    CHECK_INT(harness_stop_daemon(desk_pid, SIGTERM), 0);
    CHECK_INT(harness_stop_daemon(hub_pid, SIGTERM), 0);
    CHECK_INT(harness_stop_daemon(router_pid, SIGTERM), 0);
    CHECK_INT(harness_signal_intake(&H, SIGTERM), 0);
    desk_pid = hub_pid = router_pid = 0;
}

/* setup - three wards, a counter client each, the pipeline with a quick deadline scan */
static int setup(void)
{
    if (harness_setup(&H, "borderless", 2) != 0 ||
        harness_pipeline_setup(&H, 300, 16, agency_code, MAX_AGENCIES, &n_agencies) != 0 ||
        harness_config_copy(&H, H.config, "deadline_scan_ms: 60000", "deadline_scan_ms: 300") != 0 ||
        harness_config_copy(&H, H.config, "wards:\n", WARD_X_YAML) != 0 || add_clients() != 0)
        return -1;
    if (harness_start_intake(&H) != 0)
        return -1;
    if ((router_pid = harness_start_daemon(&H, "router", NULL, "router.log")) <= 0 ||
        (hub_pid = harness_start_daemon(&H, "lienthong", NULL, "lienthong.log")) <= 0)
        return -1;
    return 0;
}

int main(void)
{
    if (setup() != 0) {
        fprintf(stderr, "it_borderless: setup failed\n");
        harness_teardown(&H);
        return 1;
    }
    mc_test_run(ward_a_receives_for_ward_b_coded_for_the_competent_unit);
    mc_test_run(both_wards_see_it_another_province_does_not);
    mc_test_run(another_province_cannot_be_received_for);
    mc_test_run(routed_to_b_desk_and_forwarded_when_it_acks);
    mc_test_run(unforwarded_past_deadline_gets_forward_overdue_once);
    mc_test_run(lists_and_report_show_it_for_both_wards);
    mc_test_run(everything_stops_cleanly);
    harness_teardown(&H);
    return mc_test_done("it_borderless");
}
