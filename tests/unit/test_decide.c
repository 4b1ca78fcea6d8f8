/*
 * test_decide - the daemons' decide functions that the store only writes:
 * notify's retry policy (services/notify/notify_decide.c), lienthong's
 * resend delays and its judgement of an agency's result
 * (services/lienthong/lienthong_decide.c), and the history's texts
 * (common/wire/mc_event.c). Pure functions: no store, no sockets; the
 * shipped configuration (config/motcua.yaml) gives the calendar and catalog.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lienthong.h"
#include "mc_event.h"
#include "mc_test.h"
#include "notify.h"

#define MONDAY_9H   1772416800 /* 2026-03-02 09:00 Asia/Ho_Chi_Minh, a working Monday */
#define FRIDAY_1730 1774002600 /* 2026-03-20 17:30 Asia/Ho_Chi_Minh */
#define PROCEDURE   "1.001193" /* a procedure of config/procedures.yaml */

/* notify_cfg - the notify section with the three retry keys */
static mc_cfg_notify_t notify_cfg(int initial_ms, int max_ms, int max_attempts)
{
    mc_cfg_notify_t c = {0};
    c.retry_initial_ms = initial_ms;
    c.retry_max_ms = max_ms;
    c.max_attempts = max_attempts;
    return c;
}

MC_TEST(test_notify_backoff_doubles_and_caps)
{
    mc_cfg_notify_t c = notify_cfg(1000, 60000, 10);
    CHECK_INT(notify_backoff_ms(&c, 1), 1000);
    CHECK_INT(notify_backoff_ms(&c, 2), 2000);
    CHECK_INT(notify_backoff_ms(&c, 3), 4000);
    CHECK_INT(notify_backoff_ms(&c, 6), 32000);
    CHECK_INT(notify_backoff_ms(&c, 7), 60000); /* 64000 capped */
    CHECK_INT(notify_backoff_ms(&c, 1000), 60000); /* no overflow however many */
    mc_cfg_notify_t odd = notify_cfg(0, 5, 3);   /* initial <= 0 counts as 1 */
    CHECK_INT(notify_backoff_ms(&odd, 1), 1);
    CHECK_INT(notify_backoff_ms(&odd, 3), 4);
    CHECK_INT(notify_backoff_ms(&odd, 4), 5);
    mc_cfg_notify_t low = notify_cfg(500, 200, 3); /* ceiling below the first */
    CHECK_INT(notify_backoff_ms(&low, 1), 200);
}

MC_TEST(test_notify_decide_retry_gives_up_at_max_attempts)
{
    mc_cfg_notify_t c = notify_cfg(1000, 60000, 3);
    mc_notice_retry_t v = notify_decide_retry(&c, 1);
    CHECK(!v.give_up);
    CHECK_INT(v.delay_ms, 1000);
    v = notify_decide_retry(&c, 2);
    CHECK(!v.give_up);
    CHECK_INT(v.delay_ms, 2000);
    v = notify_decide_retry(&c, 3);
    CHECK(v.give_up);
    v = notify_decide_retry(&c, 4); /* a lost attempt past the limit */
    CHECK(v.give_up);
    /* asked at claim with the attempts so far: 0 never gives up */
    v = notify_decide_retry(&c, 0);
    CHECK(!v.give_up);
}

MC_TEST(test_lienthong_resend_delay_doubles_to_64x)
{
    CHECK_INT(lienthong_resend_delay_ms(250, 1), 250);
    CHECK_INT(lienthong_resend_delay_ms(250, 2), 500);
    CHECK_INT(lienthong_resend_delay_ms(250, 7), 250 * 64);
    CHECK_INT(lienthong_resend_delay_ms(250, 8), 250 * 64);
    CHECK_INT(lienthong_resend_delay_ms(250, 1000), 250 * 64);
    CHECK_INT(lienthong_resend_delay_ms(250, 0), 250);
    /* a large timeout does not overflow: 64-bit */
    CHECK_INT(lienthong_resend_delay_ms(INT32_MAX, 7), (int64_t)INT32_MAX * 64);
}

MC_TEST(test_lienthong_resend_table_matches_the_rule)
{
    int64_t table[LIENTHONG_RESEND_STEPS];
    lienthong_resend_delays(1000, table);
    /* what the store binds: entry i for the (i+1)-th send, the last for any later one
     * (the former SQL: ack_timeout_ms << least(attempts before the send, 6)) */
    for (int attempt = 1; attempt <= 20; attempt++) {
        int i = attempt - 1 < LIENTHONG_RESEND_STEPS ? attempt - 1 : LIENTHONG_RESEND_STEPS - 1;
        int before = attempt - 1;
        CHECK_INT(table[i], (int64_t)1000 << (before < 6 ? before : 6));
        CHECK_INT(table[i], lienthong_resend_delay_ms(1000, attempt));
    }
}

static mc_cfg_t *CFG; /* config/motcua.yaml, loaded by main */

/* claim - an accepted result of agency "SO_TP" at step/total, outcome */
static mc_result_claim_t claim(int step, int total, int outcome)
{
    mc_result_claim_t c = {0};
    c.agency = "SO_TP";
    c.dossier_code = "000.00.12.H26-260302-0001";
    c.procedure_code = PROCEDURE;
    c.dossier_state = MC_DOSSIER_IN_PROGRESS;
    c.step = step;
    c.steps_total = total;
    c.revision = 1;
    c.outcome = outcome;
    c.now = MONDAY_9H;
    return c;
}

/* calendar_due - what mc_calendar_due says, for comparing plans with the rule */
static int64_t calendar_due(int64_t at, int amount, mc_time_unit_t unit, int cutoff)
{
    int64_t counted = 0, due = 0;
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_calendar_due(CFG->calendar, at, amount, unit, cutoff, &counted, &due, &err) != 0)
        return -1;
    return due;
}

MC_TEST(test_result_approved_next_step_is_queued_with_its_limit)
{
    REQUIRE(CFG);
    lienthong_result_ctx_t x = {.cfg = CFG};
    mc_result_claim_t c = claim(1, 2, MC_OUTCOME_APPROVED);
    c.has_next = true;
    c.next_agency = "CA_PHUONG";
    c.next_time_limit = 3;
    c.next_time_unit = MC_TIME_WORKING_DAYS;
    mc_result_plan_t p;
    REQUIRE(lienthong_decide_result(&x, &c, &p) == 0);
    CHECK(!p.refuse);
    CHECK_INT(p.case_state, MC_CASE_DONE);
    CHECK_INT(p.dossier_state, 0); /* the dossier goes on */
    CHECK(p.queue_next);
    CHECK_INT(p.next_due_at, calendar_due(MONDAY_9H, 3, MC_TIME_WORKING_DAYS, -1));
    CHECK(p.next_due_at > MONDAY_9H);
    CHECK_STR(p.before.kind, "step_done");
    CHECK_STR(p.before.detail, "bước 1/2: SO_TP đã giải quyết xong");
    CHECK(!p.event.kind);
    CHECK(!p.notice_kind);
    CHECK(!p.cancel_later);
    /* a limit in working hours counts in hours */
    c.next_time_unit = MC_TIME_WORKING_HOURS;
    REQUIRE(lienthong_decide_result(&x, &c, &p) == 0);
    CHECK_INT(p.next_due_at, calendar_due(MONDAY_9H, 3, MC_TIME_WORKING_HOURS, -1));
}

MC_TEST(test_result_approved_last_step_makes_the_result_ready)
{
    REQUIRE(CFG);
    lienthong_result_ctx_t x = {.cfg = CFG};
    mc_result_claim_t c = claim(2, 2, MC_OUTCOME_APPROVED);
    mc_result_plan_t p;
    REQUIRE(lienthong_decide_result(&x, &c, &p) == 0);
    CHECK_INT(p.case_state, MC_CASE_DONE);
    CHECK_INT(p.dossier_state, MC_DOSSIER_RESULT_READY);
    CHECK(!p.queue_next);
    CHECK_STR(p.before.kind, "step_done");
    CHECK_STR(p.before.detail, "bước 2/2: SO_TP đã giải quyết xong");
    CHECK_STR(p.event.kind, "result_ready");
    CHECK_STR(p.event.detail, "có kết quả giải quyết (bước cuối 2/2, SO_TP)");
    CHECK_STR(p.notice_kind, "result_ready");
    CHECK_STR(p.notice_dedupe, "000.00.12.H26-260302-0001/result_ready");
    CHECK_STR(p.notice_data, "{\"agency\":\"SO_TP\"}");
}

MC_TEST(test_result_rejected_ends_the_dossier_at_any_step)
{
    REQUIRE(CFG);
    lienthong_result_ctx_t x = {.cfg = CFG};
    for (int step = 0; step <= 2; step++) { /* acceptance, a middle step, the last */
        mc_result_claim_t c = claim(step, step ? 2 : 0, MC_OUTCOME_REJECTED);
        c.reason = "Thiếu \"chữ ký\"";
        mc_result_plan_t p;
        REQUIRE(lienthong_decide_result(&x, &c, &p) == 0);
        CHECK_INT(p.case_state, MC_CASE_DONE);
        CHECK_INT(p.dossier_state, MC_DOSSIER_REFUSED);
        CHECK(p.cancel_later);
        CHECK(!p.queue_next);
        CHECK(!p.before.kind);
        CHECK_STR(p.event.kind, "refused");
        char want[128];
        snprintf(want, sizeof want, "bước %d/%d: SO_TP từ chối giải quyết", step, step ? 2 : 0);
        CHECK_STR(p.event.detail, want);
        CHECK_STR(p.notice_kind, "refused");
        CHECK_STR(p.notice_dedupe, "000.00.12.H26-260302-0001/refused");
        CHECK_STR(p.notice_data, "{\"agency\":\"SO_TP\",\"reason\":\"Thiếu \\\"chữ ký\\\"\"}");
    }
    mc_result_claim_t c = claim(1, 1, MC_OUTCOME_REJECTED); /* no reason: "" */
    mc_result_plan_t p;
    REQUIRE(lienthong_decide_result(&x, &c, &p) == 0);
    CHECK_STR(p.notice_data, "{\"agency\":\"SO_TP\",\"reason\":\"\"}");
}

MC_TEST(test_result_needs_documents_the_one_request)
{
    REQUIRE(CFG);
    lienthong_result_ctx_t x = {.cfg = CFG};
    mc_case_missing_t missing[2] = {{"A", "Giấy chứng sinh", "bản sao mờ"}, {"B", "Tờ khai", ""}};
    for (int step = 0; step <= 2; step++) { /* acceptance, a middle step, the last */
        mc_result_claim_t c = claim(step, step ? 2 : 0, MC_OUTCOME_NEEDS_DOCUMENTS);
        c.missing = missing;
        c.n_missing = 2;
        c.supplement_events = 1; /* a request before 0015: the notice is the second */
        mc_result_plan_t p;
        REQUIRE(lienthong_decide_result(&x, &c, &p) == 0);
        CHECK(!p.refuse);
        CHECK_INT(p.case_state, MC_CASE_PAUSED);
        CHECK_INT(p.dossier_state, MC_DOSSIER_WAITING_SUPPLEMENT);
        int64_t due = calendar_due(MONDAY_9H, CFG->rules.supplement_days, MC_TIME_WORKING_DAYS, -1);
        CHECK_INT(p.supplement_due_at, due);
        CHECK(!p.cancel_later);
        CHECK(!p.queue_next);
        CHECK_STR(p.event.kind, "supplement_requested");
        char want[256];
        snprintf(want, sizeof want, "bước %d/%d: SO_TP yêu cầu bổ sung 2 giấy tờ", step,
                 step ? 2 : 0);
        CHECK_STR(p.event.detail, want);
        CHECK_STR(p.notice_kind, "supplement_requested");
        CHECK_STR(p.notice_dedupe, "000.00.12.H26-260302-0001/supplement_requested/2");
        snprintf(want, sizeof want,
                 "{\"supplement_due\":%lld,\"agency\":\"SO_TP\",\"missing\":"
                 "[\"Giấy chứng sinh: bản sao mờ\",\"Tờ khai\"]}", (long long)due);
        CHECK_STR(p.notice_data, want);
    }
}

MC_TEST(test_result_needs_documents_too_long_points_to_the_form)
{
    REQUIRE(CFG);
    static lienthong_result_ctx_t x;
    x.cfg = CFG;
    static char reason[1000];
    memset(reason, 'x', sizeof reason - 1);
    mc_case_missing_t missing[20];
    for (int i = 0; i < 20; i++)
        missing[i] = (mc_case_missing_t){"A", "Giấy", reason};
    mc_result_claim_t c = claim(1, 1, MC_OUTCOME_NEEDS_DOCUMENTS);
    c.missing = missing;
    c.n_missing = 20;
    mc_result_plan_t p;
    REQUIRE(lienthong_decide_result(&x, &c, &p) == 0);
    char want[160];
    snprintf(want, sizeof want,
             "{\"supplement_due\":%lld,\"missing\":\"xem phiếu yêu cầu bổ sung\"}",
             (long long)p.supplement_due_at);
    CHECK_STR(p.notice_data, want);
    CHECK_STR(p.notice_dedupe, "000.00.12.H26-260302-0001/supplement_requested/1");
}

MC_TEST(test_result_second_supplement_request_is_refused)
{
    REQUIRE(CFG);
    lienthong_result_ctx_t x = {.cfg = CFG};
    for (int step = 0; step <= 2; step++) {
        mc_result_claim_t c = claim(step, step ? 2 : 0, MC_OUTCOME_NEEDS_DOCUMENTS);
        c.supplement_requests = 1;
        c.revision = 2;
        mc_result_plan_t p;
        REQUIRE(lienthong_decide_result(&x, &c, &p) == 0);
        CHECK(p.refuse);
        CHECK_INT(p.dossier_state, 0);
        CHECK(!p.notice_kind);
        CHECK_STR(p.event.kind, "supplement_refused");
        char want[300];
        snprintf(want, sizeof want,
                 "bước %d/%d (lượt 2): SO_TP yêu cầu bổ sung lần hai, không chấp nhận"
                 " (hồ sơ đã được yêu cầu bổ sung một lần); chờ cơ quan trả lời lại",
                 step, step ? 2 : 0);
        CHECK_STR(p.event.detail, want);
    }
    /* after the one request the agency may still approve or reject */
    mc_result_claim_t c = claim(1, 1, MC_OUTCOME_APPROVED);
    c.supplement_requests = 1;
    mc_result_plan_t p;
    REQUIRE(lienthong_decide_result(&x, &c, &p) == 0);
    CHECK(!p.refuse);
    CHECK_INT(p.dossier_state, MC_DOSSIER_RESULT_READY);
}

MC_TEST(test_result_acceptance_counts_from_now)
{
    REQUIRE(CFG);
    lienthong_result_ctx_t x = {.cfg = CFG};
    mc_result_claim_t c = claim(0, 0, MC_OUTCOME_APPROVED);
    c.dossier_state = MC_DOSSIER_PENDING_ACCEPTANCE;
    mc_result_plan_t p;
    REQUIRE(lienthong_decide_result(&x, &c, &p) == 0);
    const mc_procedure_t *proc = mc_catalog_find(CFG->catalog, PROCEDURE);
    REQUIRE(proc);
    CHECK_INT(p.case_state, MC_CASE_DONE);
    CHECK_INT(p.dossier_state, MC_DOSSIER_RECEIVED);
    CHECK_INT(p.accepted_at, MONDAY_9H);
    CHECK_INT(p.due_at, calendar_due(MONDAY_9H, proc->processing_time, proc->time_unit,
                                     proc->cutoff_minutes));
    CHECK(p.counted_from >= MONDAY_9H && p.due_at > p.counted_from);
    CHECK(!p.queue_next && !p.cancel_later && !p.before.kind);
    CHECK_STR(p.event.kind, "accepted");
    char want[200], when[80];
    snprintf(want, sizeof want, "SO_TP tiếp nhận hồ sơ trực tuyến; hẹn trả kết quả %s",
             mc_format_local(p.due_at, when, sizeof when));
    CHECK_STR(p.event.detail, want);
    CHECK_STR(p.notice_kind, "received");
    CHECK_STR(p.notice_dedupe, "000.00.12.H26-260302-0001/received");
    CHECK_STR(p.notice_data, "{}");
    /* an unknown procedure: not decided, nothing stored */
    c.procedure_code = "0.000000";
    CHECK(lienthong_decide_result(&x, &c, &p) == -1);
}

MC_TEST(test_event_kinds_are_the_stored_strings)
{
    CHECK_STR(mc_event_kind_name(MC_EVENT_ROUTED), "routed");
    CHECK_STR(mc_event_kind_name(MC_EVENT_SUPPLEMENT_REFUSED), "supplement_refused");
    CHECK_STR(mc_event_kind_name(MC_EVENT_STEP_OVERDUE), "step_overdue");
    CHECK_STR(mc_event_kind_name(MC_EVENT_KIND_COUNT), "?");
    for (int k = 0; k < MC_EVENT_KIND_COUNT; k++) { /* every kind named, once */
        CHECK(strcmp(mc_event_kind_name((mc_event_kind_t)k), "?") != 0);
        CHECK_INT(mc_event_kind_of(mc_event_kind_name((mc_event_kind_t)k)), k);
    }
    CHECK_INT(mc_event_kind_of("nothing"), -1);
    /* the store's set-based kinds: format() templates starting "bước <step>/<total>" (the
     * forms count a step's events by that prefix, mc_store_forms.c) */
    const mc_event_kind_t set_based[] = {MC_EVENT_SENT_TO_AGENCY, MC_EVENT_AGENCY_RECEIVED,
                                         MC_EVENT_NOT_HELD, MC_EVENT_LEASE_EXPIRED,
                                         MC_EVENT_DEAD_LETTER, MC_EVENT_REQUEUED};
    for (size_t i = 0; i < sizeof set_based / sizeof set_based[0]; i++) {
        const char *t = mc_event_sql_format(set_based[i]);
        CHECK(t && strncmp(t, "bước %s/%s", strlen("bước %s/%s")) == 0);
    }
    CHECK_STR(mc_event_sql_format(MC_EVENT_DEAD_LETTER), "bước %s/%s %s: không xác nhận sau %s lần gửi");
    CHECK_STR(mc_event_sql_requeued_held(), "bước %s/%s %s: thu hồi từ cơ quan đang giữ, gửi lại");
    CHECK(!mc_event_sql_format(MC_EVENT_ROUTED));
}

MC_TEST(test_event_texts_router)
{
    char b[MC_EVENT_DETAIL_MAX];
    CHECK_STR(mc_event_routed(b, sizeof b, "MC_P1", "Bộ phận Một cửa"), "MC_P1: Bộ phận Một cửa");
    CHECK_STR(mc_event_late(b, sizeof b, MONDAY_9H, false),
              "Quá hạn không có văn bản xin lỗi trước hạn (hạn 09 giờ 00 phút, ngày 02/03/2026)");
    CHECK_STR(mc_event_late(b, sizeof b, MONDAY_9H, true),
              "Quá hạn sau khi đã xin lỗi và hẹn lại (hạn 09 giờ 00 phút, ngày 02/03/2026);"
              " không hẹn lại lần thứ hai");
    CHECK_STR(mc_event_returned(b, sizeof b, FRIDAY_1730),
              "Trả lại hồ sơ: không bổ sung trong thời hạn (hạn bổ sung 17 giờ 30 phút, ngày "
              "20/03/2026)");
    CHECK_STR(mc_event_due_soon(b, sizeof b, MONDAY_9H, false),
              "Sắp quá hạn: hạn trả kết quả 09 giờ 00 phút, ngày 02/03/2026; nếu không kịp, cơ quan"
              " giải quyết đề xuất gia hạn để gửi văn bản xin lỗi trước hạn");
    CHECK_STR(mc_event_due_soon(b, sizeof b, MONDAY_9H, true),
              "Sắp quá hạn: hạn trả kết quả 09 giờ 00 phút, ngày 02/03/2026; nếu không kịp, cơ quan"
              " giải quyết đề xuất gia hạn để gửi văn bản xin lỗi trước hạn (đã hẹn lại một lần,"
              " không gia hạn thêm)");
    CHECK_STR(mc_event_acceptance_overdue(b, sizeof b, 8, MONDAY_9H, "MC_P1"),
              "Chờ tiếp nhận quá 8 giờ làm việc (hạn 09 giờ 00 phút, ngày 02/03/2026); bộ phận MC_P1");
    CHECK_STR(mc_event_acceptance_overdue(b, sizeof b, 8, MONDAY_9H, ""),
              "Chờ tiếp nhận quá 8 giờ làm việc (hạn 09 giờ 00 phút, ngày 02/03/2026)");
    CHECK_STR(mc_event_forward_overdue(b, sizeof b, "26734", "26737", MONDAY_9H),
              "Quá hạn chuyển hồ sơ từ phường 26734 đến phường 26737 (hạn 09 giờ 00 phút, ngày "
              "02/03/2026)");
    /* the SQL it replaced: to_char(due_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'HH24:MI DD/MM/YYYY') */
    CHECK_STR(mc_event_step_overdue(b, sizeof b, 2, 3, "CA_PHUONG", FRIDAY_1730 + 59),
              "bước 2/3 tại CA_PHUONG quá hạn xử lý (17:30 20/03/2026)");
}

MC_TEST(test_event_texts_lienthong_and_intake)
{
    char b[MC_EVENT_DETAIL_MAX];
    CHECK_STR(mc_event_step_done(b, sizeof b, 1, 2, "SO_TP"), "bước 1/2: SO_TP đã giải quyết xong");
    CHECK_STR(mc_event_result_ready(b, sizeof b, 2, 2, "SO_TP"),
              "có kết quả giải quyết (bước cuối 2/2, SO_TP)");
    CHECK_STR(mc_event_refused(b, sizeof b, 1, 2, "SO_TP"), "bước 1/2: SO_TP từ chối giải quyết");
    CHECK_STR(mc_event_supplement_requested(b, sizeof b, 1, 2, "SO_TP", 3),
              "bước 1/2: SO_TP yêu cầu bổ sung 3 giấy tờ");
    CHECK_STR(mc_event_accepted(b, sizeof b, "MC_P1", FRIDAY_1730),
              "MC_P1 tiếp nhận hồ sơ trực tuyến; hẹn trả kết quả 17 giờ 30 phút, ngày 20/03/2026");
    CHECK_STR(mc_event_extended(b, sizeof b, "SO_TP", 2, MONDAY_9H, FRIDAY_1730),
              "SO_TP đề xuất gia hạn bước 2: hẹn cũ 09 giờ 00 phút, ngày 02/03/2026, hẹn mới 17 giờ"
              " 30 phút, ngày 20/03/2026");
    CHECK_STR(mc_event_apology(b, sizeof b, MONDAY_9H, FRIDAY_1730),
              "Văn bản xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04): hẹn cũ 09 giờ 00 phút, ngày "
              "02/03/2026, hẹn mới 17 giờ 30 phút, ngày 20/03/2026");
    CHECK_STR(mc_event_extension_refused(b, sizeof b, "SO_TP", "lý do"),
              "Từ chối đề xuất gia hạn của SO_TP: lý do");
    CHECK_STR(mc_event_supplemented_pending(b, sizeof b, 2, MONDAY_9H),
              "Bổ sung 2 giấy tờ; chờ tiếp nhận đến 09 giờ 00 phút, ngày 02/03/2026");
    CHECK_STR(mc_event_supplemented(b, sizeof b, 1, FRIDAY_1730),
              "Bổ sung 1 giấy tờ; hẹn trả mới 17 giờ 30 phút, ngày 20/03/2026");
    CHECK_STR(mc_event_withdrawn(b, sizeof b), "Người nộp rút hồ sơ");
    CHECK_STR(mc_event_rated(b, sizeof b, "Hài lòng"), "Người nộp đánh giá: Hài lòng");
    /* a small buffer is cut, never overrun */
    char small[8];
    CHECK_STR(mc_event_withdrawn(small, sizeof small), "Ngườ"); /* 7 bytes and the NUL */
}

int main(void)
{
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_cfg_load("config/motcua.yaml", &CFG, &err) < 0)
        printf("  config/motcua.yaml: %s", err.text);
    mc_test_run(test_notify_backoff_doubles_and_caps);
    mc_test_run(test_notify_decide_retry_gives_up_at_max_attempts);
    mc_test_run(test_lienthong_resend_delay_doubles_to_64x);
    mc_test_run(test_lienthong_resend_table_matches_the_rule);
    mc_test_run(test_result_approved_next_step_is_queued_with_its_limit);
    mc_test_run(test_result_approved_last_step_makes_the_result_ready);
    mc_test_run(test_result_rejected_ends_the_dossier_at_any_step);
    mc_test_run(test_result_needs_documents_the_one_request);
    mc_test_run(test_result_needs_documents_too_long_points_to_the_form);
    mc_test_run(test_result_second_supplement_request_is_refused);
    mc_test_run(test_result_acceptance_counts_from_now);
    mc_test_run(test_event_kinds_are_the_stored_strings);
    mc_test_run(test_event_texts_router);
    mc_test_run(test_event_texts_lienthong_and_intake);
    mc_cfg_destroy(&CFG);
    return mc_test_done("test_decide");
}
