/*
 * it_forms - `motcua form KIND CODE` against a real PostgreSQL and the real
 * intake daemon: two dossiers are submitted through intake (so the stored
 * receipt and payload are intake's own), then their pipeline history
 * (routing, agency cases with results, events, a re-appointment) is
 * written into the store directly as test data, which is much quicker than
 * running router, lienthong and agencies to the same end. Each form must
 * carry the fields docs/forms.md lists, and HTML must escape what it prints
 * (the applicant's name holds "<script>").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mc_states.h"
#include "harness.h"
#include "mc_calendar.h"
#include "mc_cfg.h"
#include "mc_test.h"
#include "motcua/v1/agency.pb-c.h"

static harness_t H;             /* the cluster and intake */
static mc_cfg_t *CFG;           /* the generated configuration: ward names */
static char CODE_A[64];         /* refused at step 2, late, re-appointed */
static char CODE_B[64];         /* waiting for documents */
static char CODE_C[64];         /* withdrawn by the applicant */
static char CODE_D[64];         /* returned: not supplemented in time */
static int64_t RECEIVED_A;      /* dossier A's received_at */

#define EVIL_NAME "Lê <script>alert(1)</script> Thị Hoa"
#define EVIL_NAME_HTML "Lê &lt;script&gt;alert(1)&lt;/script&gt; Thị Hoa"

/* out_has - does the last CLI output contain text? */
static int out_has(const char *text)
{
    char path[600];
    snprintf(path, sizeof path, "%s/motcua.out", H.dir);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, text) != NULL;
}

/* exec_sql - one statement with text parameters (bytea in binary when lens[i] > 0) */
static int exec_sql(const char *sql, int n, const char *const *p, const int *lens)
{
    int fmts[16] = {0};
    if (n < 0 || n > (int)(sizeof fmts / sizeof fmts[0])) {
        printf("  sql: %d parameters, at most 16\n", n);
        return -1;
    }
    for (int i = 0; lens && i < n; i++)
        fmts[i] = lens[i] > 0;
    PGresult *res = PQexecParams(H.db, sql, n, NULL, p, lens, fmts, 0);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok)
        printf("  sql: %s", PQerrorMessage(H.db));
    PQclear(res);
    return ok ? 0 : -1;
}

/* submit - one dossier through intake; its code into code */
static int submit(const char *submission_id, char *code, size_t size)
{
    harness_dossier_t d;
    harness_dossier_init(&d, submission_id);
    Motcua__V1__IntakeReply *reply = NULL;
    if (harness_request(&H, &d.request, 5000, &reply) != 0)
        return -1;
    int ok = reply->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT;
    if (ok)
        snprintf(code, size, "%s", reply->receipt->dossier_code);
    else if (reply->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION)
        printf("  refused: %s %s\n", harness_reason_name(reply->rejection->reason),
               reply->rejection->field);
    motcua__v1__intake_reply__free_unpacked(reply, NULL);
    return ok ? 0 : -1;
}

/* set_evil_name - give dossier A's stored applicant a name that needs escaping */
static int set_evil_name(void)
{
    harness_dossier_t d;
    harness_dossier_init(&d, "it-forms-000a");
    d.person.full_name = (char *)EVIL_NAME;
    size_t len = motcua__v1__dossier__get_packed_size(&d.dossier);
    uint8_t *buf = malloc(len);
    if (!buf)
        return -1;
    motcua__v1__dossier__pack(&d.dossier, buf);
    const char *p[2] = {(const char *)buf, CODE_A};
    int lens[2] = {(int)len, 0};
    int rc = exec_sql("UPDATE dossier SET payload = $1 WHERE code = $2", 2, p, lens);
    free(buf);
    return rc;
}

/* add_case - one agency step of a dossier with its result (outcome < 0: none) */
static int add_case(const char *code, int step, int steps, const char *agency, int state,
                    int64_t due, int64_t done, int outcome, const Motcua__V1__CaseResult *r)
{
    char s_step[8], s_steps[8], s_state[8], s_due[24], s_done[24], s_out[8], case_id[96];
    snprintf(case_id, sizeof case_id, "%s/%d", code, step);
    snprintf(s_step, sizeof s_step, "%d", step);
    snprintf(s_steps, sizeof s_steps, "%d", steps);
    snprintf(s_state, sizeof s_state, "%d", state);
    snprintf(s_due, sizeof s_due, "%lld", (long long)due);
    snprintf(s_done, sizeof s_done, "%lld", (long long)(done ? done : due));
    snprintf(s_out, sizeof s_out, "%d", outcome);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (r) {
        len = motcua__v1__case_result__get_packed_size(r);
        if (!(buf = malloc(len)))
            return -1;
        motcua__v1__case_result__pack(r, buf);
    }
    const char *p[10] = {case_id, code, s_step, s_steps, agency, s_state, s_due, s_done,
                         outcome >= 0 ? s_out : NULL, (const char *)buf};
    int lens[10] = {0, 0, 0, 0, 0, 0, 0, 0, 0, (int)len};
    int rc = exec_sql("INSERT INTO agency_case (case_id, dossier_id, step, steps_total, agency,"
                      " task, state, due_at, updated_at, outcome, result)"
                      " SELECT $1, id, $3::smallint, $4::smallint, $5, 'thẩm định hồ sơ',"
                      " $6::smallint, to_timestamp($7::bigint), to_timestamp($8::bigint),"
                      " $9::smallint, $10 FROM dossier WHERE code = $2",
                      10, p, lens);
    free(buf);
    return rc;
}

/* add_event - one history line */
static int add_event(const char *code, int64_t at, const char *actor, const char *kind,
                     const char *detail)
{
    char s_at[24];
    snprintf(s_at, sizeof s_at, "%lld", (long long)at);
    const char *p[5] = {code, s_at, actor, kind, detail};
    return exec_sql("INSERT INTO dossier_event (dossier_id, at, actor, kind, detail)"
                    " SELECT id, to_timestamp($2::bigint), $3, $4, $5 FROM dossier WHERE code = $1",
                    5, p, NULL);
}

/* history - the pipeline's story for both dossiers, written as the daemons would */
static int history(void)
{
    const char *p[1] = {CODE_A};
    PGresult *res = PQexecParams(H.db, "SELECT extract(epoch FROM received_at)::bigint FROM dossier"
                                       " WHERE code = $1", 1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        PQclear(res);
        return -1;
    }
    RECEIVED_A = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    int64_t t = RECEIVED_A;
    Motcua__V1__CaseResult ok = MOTCUA__V1__CASE_RESULT__INIT;
    ok.outcome = MOTCUA__V1__OUTCOME__OUTCOME_APPROVED;
    Motcua__V1__CaseResult no = MOTCUA__V1__CASE_RESULT__INIT;
    no.outcome = MOTCUA__V1__OUTCOME__OUTCOME_REJECTED;
    no.reason = (char *)"Giấy tờ <không hợp lệ> & hết hạn";
    Motcua__V1__MissingDocument miss = MOTCUA__V1__MISSING_DOCUMENT__INIT;
    miss.name = (char *)"Bản sao giấy chứng sinh";
    miss.reason = (char *)"bản chụp mờ, không đọc được";
    Motcua__V1__MissingDocument *misses[1] = {&miss};
    Motcua__V1__CaseResult more = MOTCUA__V1__CASE_RESULT__INIT;
    more.outcome = MOTCUA__V1__OUTCOME__OUTCOME_NEEDS_DOCUMENTS;
    more.n_missing = 1;
    more.missing = misses;
    char new_due[24];
    snprintf(new_due, sizeof new_due, "%lld", (long long)(t + 5 * 86400));
    const char *pa[2] = {CODE_A, new_due};
    const char *pb[1] = {CODE_B};
    if (exec_sql("UPDATE dossier SET department = 'TUPHAP', state = " MC_SQL(MC_DOSSIER_IN_PROGRESS) " WHERE code = $1", 1, pa, NULL) ||
        add_event(CODE_A, t + 60, "router", "routed", "TUPHAP: Bộ phận Tư pháp - Hộ tịch") ||
        add_event(CODE_A, t + 120, "lienthong", "sent_to_agency", "bước 1/2 gửi CONGAN_PHUONG: x") ||
        add_case(CODE_A, 1, 2, "CONGAN_PHUONG", MC_CASE_DONE, t + 86400, t + 3600,
                 MC_OUTCOME_APPROVED, &ok) ||
        add_event(CODE_A, t + 3600, "CONGAN_PHUONG", "step_done", "bước 1/2: xong") ||
        add_event(CODE_A, t + 3700, "lienthong", "sent_to_agency", "bước 2/2 gửi THUE_KHUVUC: x") ||
        add_case(CODE_A, 2, 2, "THUE_KHUVUC", MC_CASE_DONE, t + 2 * 86400, t + 3 * 86400,
                 MC_OUTCOME_REJECTED, &no) ||
        add_event(CODE_A, t + 2 * 86400 + 60, "router", "late", "hẹn lại") ||
        exec_sql("UPDATE dossier SET due_at = to_timestamp($2::bigint), late_notified_due = due_at"
                 " WHERE code = $1", 2, pa, NULL) ||
        add_event(CODE_A, t + 3 * 86400, "THUE_KHUVUC", "refused", "bước 2/2: từ chối") ||
        exec_sql("UPDATE dossier SET state = " MC_SQL(MC_DOSSIER_REFUSED) " WHERE code = $1", 1, pa, NULL) ||
        exec_sql("UPDATE dossier SET department = 'TUPHAP', state = " MC_SQL(MC_DOSSIER_WAITING_SUPPLEMENT) ", paused_at = now()"
                 " WHERE code = $1", 1, pb, NULL) ||
        add_event(CODE_B, t + 200, "lienthong", "sent_to_agency", "bước 1/1 gửi CONGAN_PHUONG: x") ||
        add_case(CODE_B, 1, 1, "CONGAN_PHUONG", MC_CASE_PAUSED, t + 86400, 0,
                 MC_OUTCOME_NEEDS_DOCUMENTS, &more) ||
        add_event(CODE_B, t + 900, "CONGAN_PHUONG", "supplement_requested", "bước 1/1"))
        return -1;
    return 0;
}

/* stopped - dossier C withdrawn (as intake's withdrawal writes it), D returned
 * (the `returned` event of the supplement deadline, docs/store.md) */
static int stopped(void)
{
    int64_t t = RECEIVED_A;
    const char *pc[1] = {CODE_C};
    if (exec_sql("UPDATE dossier SET state = " MC_SQL(MC_DOSSIER_WITHDRAWN) " WHERE code = $1", 1, pc, NULL) ||
        add_event(CODE_C, t + 300, "HARNESS_COUNTER", "withdrawn", "chuyển nơi cư trú") ||
        add_event(CODE_D, t + 400, "router", "returned", "quá hạn bổ sung"))
        return -1;
    return 0;
}

/* form - run `motcua form KIND CODE --format F`; its exit status */
static int form(const char *kind, const char *code, const char *format)
{
    char args[256];
    snprintf(args, sizeof args, "form %s '%s' --format %s", kind, code, format);
    return harness_motcua(&H, args);
}

/* unit_name - the configured one-stop unit of ward 00229 */
static const char *unit_name(void)
{
    const mc_ward_t *w = mc_cfg_ward(CFG, "00229");
    return w ? w->unit_name : "?";
}

MC_TEST(receipt_carries_code_applicant_unit_and_due_date)
{
    char due[96];
    const char *p[1] = {CODE_B};
    PGresult *res = PQexecParams(H.db, "SELECT extract(epoch FROM due_at)::bigint FROM dossier"
                                       " WHERE code = $1", 1, NULL, p, NULL, NULL, 0);
    REQUIRE(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1);
    mc_format_local(strtoll(PQgetvalue(res, 0, 0), NULL, 10), due, sizeof due);
    PQclear(res);
    CHECK_INT(form("receipt", CODE_B, "text"), 0);
    CHECK(out_has("Mẫu số 01"));
    CHECK(out_has("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"));
    CHECK(out_has(CODE_B));
    CHECK(out_has("Trần Văn Minh"));
    CHECK(out_has(unit_name()));
    CHECK(out_has("Phường Kim Liên"));
    CHECK(out_has(due));
    CHECK(!out_has("001085012345")); /* the citizen ID is not on the receipt */
}

MC_TEST(html_escapes_the_applicant_and_is_one_a4_page)
{
    CHECK_INT(form("receipt", CODE_A, "html"), 0);
    CHECK(out_has("<!DOCTYPE html>"));
    CHECK(out_has("size: A4"));
    CHECK(out_has(EVIL_NAME_HTML));
    CHECK(!out_has("<script>"));
    CHECK(!out_has("http://") && !out_has("https://") && !out_has("<link"));
    CHECK(out_has(CODE_A));
}

MC_TEST(control_sheet_lists_every_handover_on_time_or_late)
{
    CHECK_INT(form("control", CODE_A, "text"), 0);
    CHECK(out_has("Mẫu số 06"));
    CHECK(out_has("PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ"));
    CHECK(out_has(CODE_A));
    CHECK(out_has("Giao: Người nộp hồ sơ → Nhận: " ));
    CHECK(out_has("Nhận: TUPHAP"));
    CHECK(out_has("Nhận: CONGAN_PHUONG (bước 1/2)"));
    CHECK(out_has("Nhận: THUE_KHUVUC (bước 2/2)"));
    CHECK(out_has("| Trước hạn |"));   /* step 1: done the day it was sent, due the next day */
    CHECK(out_has("| Quá hạn |"));     /* step 2: done a day after its due date */
    CHECK(out_has("Từ chối giải quyết"));
    char sent[96];
    mc_format_local(RECEIVED_A + 3700, sent, sizeof sent);
    CHECK(out_has(sent));
    CHECK_INT(form("control", CODE_A, "html"), 0);
    CHECK(out_has("<table class=\"grid\">"));
    CHECK(out_has(EVIL_NAME_HTML));
    CHECK(!out_has("<script>"));
}

MC_TEST(refusal_and_apology_carry_reason_and_new_appointment)
{
    CHECK_INT(form("refusal", CODE_A, "html"), 0);
    CHECK(out_has("PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ"));
    CHECK(out_has("Giấy tờ &lt;không hợp lệ&gt; &amp; hết hạn"));
    CHECK(out_has("THUE_KHUVUC"));
    CHECK_INT(form("apology", CODE_A, "text"), 0);
    CHECK(out_has("Mẫu số 04"));
    char due[96];
    mc_format_local(RECEIVED_A + 5 * 86400, due, sizeof due);
    CHECK(out_has(due));
    CHECK(out_has("bước 2/2 tại THUE_KHUVUC"));
}

MC_TEST(supplement_lists_missing_documents)
{
    CHECK_INT(form("supplement", CODE_B, "text"), 0);
    CHECK(out_has("PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ"));
    CHECK(out_has("Bản sao giấy chứng sinh"));
    CHECK(out_has("bản chụp mờ, không đọc được"));
    CHECK(out_has("CONGAN_PHUONG"));
}

MC_TEST(stop_notice_for_withdrawn_and_returned_dossiers)
{
    CHECK_INT(form("stop", CODE_C, "text"), 0);
    CHECK(out_has("Mẫu số 05"));
    CHECK(out_has("THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ"));
    CHECK(out_has(CODE_C));
    CHECK(out_has("Theo đề nghị rút hồ sơ của người nộp: chuyển nơi cư trú"));
    CHECK(out_has("Giấy tờ trả lại người nộp:"));
    CHECK(out_has("Giấy chứng sinh"));
    CHECK(out_has("Số lượng giấy tờ trả lại: 03"));
    char at[96];
    mc_format_local(RECEIVED_A + 300, at, sizeof at);
    CHECK(out_has(at));
    CHECK_INT(form("stop", CODE_D, "html"), 0);
    CHECK(out_has("không được bổ sung, hoàn thiện trong thời hạn"));
    CHECK(out_has("quá hạn bổ sung"));
    CHECK(out_has("size: A4;"));
    CHECK_INT(form("stop", CODE_B, "text"), 2); /* still open */
    CHECK(out_has("không bị dừng giải quyết"));
}

/* reg - run `motcua form register WARD --from F --to T --format FMT` */
static int reg(const char *ward, const char *from, const char *to, const char *format)
{
    char args[256];
    snprintf(args, sizeof args, "form register %s --from %s --to %s --format %s", ward, from, to,
             format);
    return harness_motcua(&H, args);
}

MC_TEST(register_lists_the_wards_dossiers_of_the_period)
{
    char from[16], to[16], routed[40], line[96];
    mc_date_t a = mc_date_of(RECEIVED_A, NULL), now = mc_date_of((int64_t)time(NULL), NULL);
    snprintf(from, sizeof from, "%04d-%02d-%02d", a.year, a.month, a.day);
    snprintf(to, sizeof to, "%04d-%02d-%02d", now.year, now.month, now.day);
    int minute = 0;
    mc_date_t r = mc_date_of(RECEIVED_A + 60, &minute);
    snprintf(routed, sizeof routed, "%02d/%02d/%04d %02d:%02d", r.day, r.month, r.year,
             minute / 60, minute % 60);
    CHECK_INT(reg("00229", from, to, "text"), 0);
    CHECK(out_has("Mẫu số 07"));
    CHECK(out_has("SỔ THEO DÕI HỒ SƠ"));
    CHECK(out_has("Tổng số hồ sơ: 4"));
    CHECK(out_has(CODE_A) && out_has(CODE_B) && out_has(CODE_C) && out_has(CODE_D));
    CHECK(out_has("Đăng ký khai sinh"));
    CHECK(out_has("Trần Văn Minh"));
    CHECK(out_has(routed));                      /* A: routed at t + 60 */
    CHECK(out_has("| Từ chối giải quyết"));      /* A's state */
    CHECK(out_has("| Công dân đã rút hồ sơ"));   /* C's */
    snprintf(line, sizeof line, "1 | %s |", CODE_A); /* oldest first */
    CHECK(out_has(line));
    CHECK(!out_has("001085012345") && !out_has("0912345678")); /* no ID, no phone */
    CHECK_INT(reg("00229", from, to, "html"), 0);
    CHECK(out_has("size: A4 landscape"));
    CHECK(out_has(EVIL_NAME_HTML));
    CHECK(!out_has("<script>"));
    /* another ward, an empty period, bad input */
    CHECK_INT(reg("00220", from, to, "text"), 0);
    CHECK(out_has("Tổng số hồ sơ: 0"));
    CHECK(!out_has(CODE_A));
    CHECK_INT(reg("00229", "2025-01-01", "2025-01-31", "text"), 0);
    CHECK(out_has("Tổng số hồ sơ: 0"));
    CHECK_INT(reg("00229", to, "2025-01-01", "text"), 64);
    CHECK_INT(reg("99999", from, to, "text"), 64);
    CHECK_INT(reg("00229", "2025-02-30", to, "text"), 64);
}

MC_TEST(apology_for_an_extension_carries_reason_old_and_new_appointment_and_its_date)
{
    /* what motcua-lienthong stores when it grants an agency's ExtensionRequest (0014) */
    char code[64], old_due[24], new_due[24], letter[24];
    REQUIRE(submit("it-forms-000c", code, sizeof code) == 0);
    int64_t t = RECEIVED_A;
    snprintf(old_due, sizeof old_due, "%lld", (long long)(t + 7 * 86400));
    snprintf(new_due, sizeof new_due, "%lld", (long long)(t + 12 * 86400));
    snprintf(letter, sizeof letter, "%lld", (long long)(t + 5 * 86400));
    const char *reason = "Cần thêm thời gian xác minh <hồ sơ>";
    const char *p[5] = {code, new_due, letter, reason, old_due};
    REQUIRE(exec_sql("UPDATE dossier SET state = " MC_SQL(MC_DOSSIER_IN_PROGRESS) ", due_at = to_timestamp($2::bigint),"
                     " extended_at = to_timestamp($3::bigint), apology_at = to_timestamp($3::bigint),"
                     " extension_reason = $4, warned_due = to_timestamp($5::bigint) WHERE code = $1",
                     5, p, NULL) == 0);
    REQUIRE(exec_sql("INSERT INTO notification (dossier_id, kind, dedupe_key, data)"
                     " SELECT id, 'apology', code || '/apology', jsonb_build_object('reason', $4::text,"
                     " 'old_due', $5::bigint, 'new_due', $2::bigint)"
                     " FROM dossier WHERE code = $1 AND $3::text <> ''", 5, p, NULL) == 0);
    CHECK_INT(form("apology", code, "text"), 0);
    CHECK(out_has("Mẫu số 04"));
    CHECK(out_has("VĂN BẢN XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"));
    CHECK(out_has(reason));
    char text[96];
    mc_format_local(t + 7 * 86400, text, sizeof text);
    CHECK(out_has(text)); /* the old appointment */
    mc_format_local(t + 12 * 86400, text, sizeof text);
    CHECK(out_has(text)); /* the new one */
    mc_format_local(t + 5 * 86400, text, sizeof text);
    CHECK(out_has(text)); /* the letter's date */
    mc_date_t d = mc_date_of(t + 5 * 86400, NULL);
    snprintf(text, sizeof text, "ngày %02d tháng %02d năm %04d", d.day, d.month, d.year);
    CHECK(out_has(text));
    CHECK(out_has("Hẹn lại ngày trả kết quả"));
    CHECK_INT(form("apology", code, "html"), 0);
    CHECK(out_has("Cần thêm thời gian xác minh &lt;hồ sơ&gt;"));
}

MC_TEST(forms_that_do_not_apply_and_bad_input)
{
    CHECK_INT(form("refusal", CODE_B, "text"), 2);
    CHECK(out_has("không bị từ chối"));
    CHECK_INT(form("apology", CODE_B, "text"), 2);
    CHECK_INT(form("supplement", CODE_A, "text"), 2);
    CHECK_INT(form("receipt", "000.22.29.H26-990101-9999", "text"), 65);
    CHECK_INT(form("nosuch", CODE_A, "text"), 64);
    CHECK_INT(form("receipt", CODE_A, "pdf"), 64);
    CHECK_INT(harness_motcua(&H, "form receipt"), 64);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    mc_err_t err;
    mc_err_clear(&err);
    const char *failed = harness_setup(&H, "it_forms", 2) != 0        ? "harness"
                         : harness_start_intake(&H) != 0              ? "intake"
                         : mc_cfg_load(H.config, &CFG, &err) != 0     ? "config"
                         : submit("it-forms-000a", CODE_A, sizeof CODE_A)   ? "submit a"
                         : submit("it-forms-000b", CODE_B, sizeof CODE_B)   ? "submit b"
                         : submit("it-forms-000c", CODE_C, sizeof CODE_C)   ? "submit c"
                         : submit("it-forms-000d", CODE_D, sizeof CODE_D)   ? "submit d"
                         : set_evil_name() != 0                       ? "payload"
                         : history() != 0                             ? "history"
                         : stopped() != 0                             ? "stopped"
                                                                      : NULL;
    if (failed) {
        printf("not ok - setup: %s %s\n", failed, err.text);
        mc_cfg_destroy(&CFG);
        harness_teardown(&H);
        printf("it_forms: 0 passed, 1 failed\n");
        return 1;
    }
    mc_test_run(receipt_carries_code_applicant_unit_and_due_date);
    mc_test_run(html_escapes_the_applicant_and_is_one_a4_page);
    mc_test_run(control_sheet_lists_every_handover_on_time_or_late);
    mc_test_run(refusal_and_apology_carry_reason_and_new_appointment);
    mc_test_run(supplement_lists_missing_documents);
    mc_test_run(stop_notice_for_withdrawn_and_returned_dossiers);
    mc_test_run(register_lists_the_wards_dossiers_of_the_period);
    mc_test_run(apology_for_an_extension_carries_reason_old_and_new_appointment_and_its_date);
    mc_test_run(forms_that_do_not_apply_and_bad_input);
    mc_cfg_destroy(&CFG);
    harness_teardown(&H);
    mc_transport_term();
    return mc_test_done("it_forms");
}
