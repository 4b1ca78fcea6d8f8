/*
 * mc_event - the kinds of dossier_event and their detail texts (contract
 * in mc_event.h). The texts are byte for byte those the daemons wrote
 * before they came here; tests/unit/test_decide.c holds them.
 */
#include "mc_event.h"

#include <stdio.h>
#include <string.h>

#include "mc_calendar.h"

/* the stored strings, in mc_event_kind_t's order */
static const char *const kind_names[MC_EVENT_KIND_COUNT] = {
    [MC_EVENT_RECEIVED] = "received",
    [MC_EVENT_SUBMITTED] = "submitted",
    [MC_EVENT_FORWARD_DUE] = "forward_due",
    [MC_EVENT_FORWARDED] = "forwarded",
    [MC_EVENT_ROUTED] = "routed",
    [MC_EVENT_SENT_TO_AGENCY] = "sent_to_agency",
    [MC_EVENT_AGENCY_RECEIVED] = "agency_received",
    [MC_EVENT_NOT_HELD] = "not_held",
    [MC_EVENT_LEASE_EXPIRED] = "lease_expired",
    [MC_EVENT_DEAD_LETTER] = "dead_letter",
    [MC_EVENT_REQUEUED] = "requeued",
    [MC_EVENT_ACCEPTED] = "accepted",
    [MC_EVENT_STEP_DONE] = "step_done",
    [MC_EVENT_RESULT_READY] = "result_ready",
    [MC_EVENT_REFUSED] = "refused",
    [MC_EVENT_SUPPLEMENT_REQUESTED] = "supplement_requested",
    [MC_EVENT_SUPPLEMENT_REFUSED] = "supplement_refused",
    [MC_EVENT_SUPPLEMENTED] = "supplemented",
    [MC_EVENT_RETURNED] = "returned",
    [MC_EVENT_WITHDRAWN] = "withdrawn",
    [MC_EVENT_RATED] = "rated",
    [MC_EVENT_LATE] = "late",
    [MC_EVENT_DUE_SOON] = "due_soon",
    [MC_EVENT_EXTENDED] = "extended",
    [MC_EVENT_EXTENSION_REFUSED] = "extension_refused",
    [MC_EVENT_APOLOGY] = "apology",
    [MC_EVENT_ACCEPTANCE_OVERDUE] = "acceptance_overdue",
    [MC_EVENT_FORWARD_OVERDUE] = "forward_overdue",
    [MC_EVENT_STEP_OVERDUE] = "step_overdue",
};

/* mc_event_kind_name - the stored string */
const char *mc_event_kind_name(mc_event_kind_t kind)
{
    if ((int)kind < 0 || kind >= MC_EVENT_KIND_COUNT || !kind_names[kind])
        return "?";
    return kind_names[kind];
}

/* mc_event_kind_of - the kind of a stored string */
int mc_event_kind_of(const char *name)
{
    for (int k = 0; name && k < MC_EVENT_KIND_COUNT; k++)
        if (kind_names[k] && strcmp(kind_names[k], name) == 0)
            return k;
    return -1;
}

/* mc_event_sql_format - the store's format() templates */
const char *mc_event_sql_format(mc_event_kind_t kind)
{
    switch (kind) {
    case MC_EVENT_SENT_TO_AGENCY: return "bước %s/%s gửi %s: %s";
    case MC_EVENT_AGENCY_RECEIVED: return "bước %s/%s: đã nhận hồ sơ";
    case MC_EVENT_NOT_HELD: return "bước %s/%s: cơ quan không còn giữ hồ sơ, gửi lại";
    case MC_EVENT_LEASE_EXPIRED:
        return "bước %s/%s %s: cơ quan im lặng quá thời hạn giữ hồ sơ, gửi lại";
    case MC_EVENT_DEAD_LETTER: return "bước %s/%s %s: không xác nhận sau %s lần gửi";
    case MC_EVENT_REQUEUED: return "bước %s/%s %s: gửi lại";
    default: return NULL;
    }
}

/* mc_event_sql_requeued_held - an acked case taken back */
const char *mc_event_sql_requeued_held(void)
{
    return "bước %s/%s %s: thu hồi từ cơ quan đang giữ, gửi lại";
}

/* local - a date in mc_format_local's form, into a buffer of the caller's */
#define LOCAL_DATE_MAX 80
static const char *local(int64_t instant, char out[LOCAL_DATE_MAX])
{
    return mc_format_local(instant, out, LOCAL_DATE_MAX);
}

/* mc_event_routed - the desk that handles the dossier */
const char *mc_event_routed(char *buf, size_t size, const char *department,
                            const char *department_name)
{
    snprintf(buf, size, "%s: %s", department, department_name);
    return buf;
}

/* mc_event_late - once per due date; the law re-appoints only through the apology */
const char *mc_event_late(char *buf, size_t size, int64_t due_at, bool apologized)
{
    char due[LOCAL_DATE_MAX];
    local(due_at, due);
    if (apologized)
        snprintf(buf, size,
                 "Quá hạn sau khi đã xin lỗi và hẹn lại (hạn %s); không hẹn lại lần thứ hai", due);
    else
        snprintf(buf, size, "Quá hạn không có văn bản xin lỗi trước hạn (hạn %s)", due);
    return buf;
}

/* mc_event_returned - the supplement deadline passed */
const char *mc_event_returned(char *buf, size_t size, int64_t supplement_due_at)
{
    char due[LOCAL_DATE_MAX];
    snprintf(buf, size, "Trả lại hồ sơ: không bổ sung trong thời hạn (hạn bổ sung %s)",
             local(supplement_due_at, due));
    return buf;
}

/* mc_event_due_soon - the warning, with what the agency may still do */
const char *mc_event_due_soon(char *buf, size_t size, int64_t due_at, bool extended)
{
    char due[LOCAL_DATE_MAX];
    snprintf(buf, size,
             "Sắp quá hạn: hạn trả kết quả %s; nếu không kịp, cơ quan giải quyết đề xuất "
             "gia hạn để gửi văn bản xin lỗi trước hạn%s",
             local(due_at, due), extended ? " (đã hẹn lại một lần, không gia hạn thêm)" : "");
    return buf;
}

/* mc_event_acceptance_overdue - the flag of a dossier waiting too long for acceptance */
const char *mc_event_acceptance_overdue(char *buf, size_t size, int hours, int64_t accept_due_at,
                                        const char *agency)
{
    char due[LOCAL_DATE_MAX];
    const char *a = agency ? agency : "";
    snprintf(buf, size, "Chờ tiếp nhận quá %d giờ làm việc (hạn %s)%s%s", hours,
             local(accept_due_at, due), a[0] ? "; bộ phận " : "", a);
    return buf;
}

/* mc_event_forward_overdue - both wards named */
const char *mc_event_forward_overdue(char *buf, size_t size, const char *receiving_ward,
                                     const char *ward_code, int64_t forward_due_at)
{
    char due[LOCAL_DATE_MAX];
    snprintf(buf, size, "Quá hạn chuyển hồ sơ từ phường %s đến phường %s (hạn %s)",
             receiving_ward, ward_code, local(forward_due_at, due));
    return buf;
}

/* mc_event_step_overdue - "bước N/M tại X quá hạn xử lý (HH:MM DD/MM/YYYY)" */
const char *mc_event_step_overdue(char *buf, size_t size, int step, int steps_total,
                                  const char *agency, int64_t due_at)
{
    char iso[40]; /* "YYYY-MM-DDTHH:MM:SS+07:00": local time, the SQL's to_char in Asia/Ho_Chi_Minh */
    mc_format_iso(due_at, iso, sizeof iso);
    snprintf(buf, size, "bước %d/%d tại %s quá hạn xử lý (%.5s %.2s/%.2s/%.4s)", step,
             steps_total, agency, iso + 11, iso + 8, iso + 5, iso);
    return buf;
}

/* mc_event_accepted - the desk accepted an online dossier */
const char *mc_event_accepted(char *buf, size_t size, const char *agency, int64_t due_at)
{
    char due[LOCAL_DATE_MAX];
    snprintf(buf, size, "%s tiếp nhận hồ sơ trực tuyến; hẹn trả kết quả %s", agency,
             local(due_at, due));
    return buf;
}

/* step_by - "bước <step>/<total>: <agency> <what>", the answers' common form */
static const char *step_by(char *buf, size_t size, int step, int steps_total, const char *agency,
                           const char *what)
{
    snprintf(buf, size, "bước %d/%d: %s %s", step, steps_total, agency, what);
    return buf;
}

/* mc_event_step_done - a step approved */
const char *mc_event_step_done(char *buf, size_t size, int step, int steps_total,
                               const char *agency)
{
    return step_by(buf, size, step, steps_total, agency, "đã giải quyết xong");
}

/* mc_event_result_ready - the last step approved */
const char *mc_event_result_ready(char *buf, size_t size, int step, int steps_total,
                                  const char *agency)
{
    snprintf(buf, size, "có kết quả giải quyết (bước cuối %d/%d, %s)", step, steps_total, agency);
    return buf;
}

/* mc_event_refused - a step rejected */
const char *mc_event_refused(char *buf, size_t size, int step, int steps_total,
                             const char *agency)
{
    return step_by(buf, size, step, steps_total, agency, "từ chối giải quyết");
}

/* mc_event_supplement_requested - the one request, with how many documents */
const char *mc_event_supplement_requested(char *buf, size_t size, int step, int steps_total,
                                          const char *agency, size_t n_missing)
{
    snprintf(buf, size, "bước %d/%d: %s yêu cầu bổ sung %zu giấy tờ", step, steps_total, agency,
             n_missing);
    return buf;
}

/* mc_event_supplement_refused - a second request, refused */
const char *mc_event_supplement_refused(char *buf, size_t size, int step, int steps_total,
                                        int revision, const char *agency)
{
    snprintf(buf, size,
             "bước %d/%d (lượt %d): %s yêu cầu bổ sung lần hai, không chấp nhận"
             " (hồ sơ đã được yêu cầu bổ sung một lần); chờ cơ quan trả lời lại",
             step, steps_total, revision, agency);
    return buf;
}

/* mc_event_extended - an extension accepted */
const char *mc_event_extended(char *buf, size_t size, const char *agency, int step,
                              int64_t old_due, int64_t new_due)
{
    char old_text[LOCAL_DATE_MAX], new_text[LOCAL_DATE_MAX];
    snprintf(buf, size, "%s đề xuất gia hạn bước %d: hẹn cũ %s, hẹn mới %s", agency, step,
             local(old_due, old_text), local(new_due, new_text));
    return buf;
}

/* mc_event_apology - the apology's history line */
const char *mc_event_apology(char *buf, size_t size, int64_t old_due, int64_t new_due)
{
    char old_text[LOCAL_DATE_MAX], new_text[LOCAL_DATE_MAX];
    snprintf(buf, size,
             "Văn bản xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04): hẹn cũ %s, hẹn mới %s",
             local(old_due, old_text), local(new_due, new_text));
    return buf;
}

/* mc_event_extension_refused - an extension refused, with the reason */
const char *mc_event_extension_refused(char *buf, size_t size, const char *agency,
                                       const char *why)
{
    snprintf(buf, size, "Từ chối đề xuất gia hạn của %s: %s", agency, why);
    return buf;
}

/* mc_event_supplemented_pending - an online dossier supplemented: acceptance again */
const char *mc_event_supplemented_pending(char *buf, size_t size, size_t n_documents,
                                          int64_t accept_due_at)
{
    char due[LOCAL_DATE_MAX];
    snprintf(buf, size, "Bổ sung %zu giấy tờ; chờ tiếp nhận đến %s", n_documents,
             local(accept_due_at, due));
    return buf;
}

/* mc_event_supplemented - supplemented: the clock restarts */
const char *mc_event_supplemented(char *buf, size_t size, size_t n_documents, int64_t due_at)
{
    char due[LOCAL_DATE_MAX];
    snprintf(buf, size, "Bổ sung %zu giấy tờ; hẹn trả mới %s", n_documents, local(due_at, due));
    return buf;
}

/* mc_event_withdrawn - withdrawn by the applicant */
const char *mc_event_withdrawn(char *buf, size_t size)
{
    snprintf(buf, size, "Người nộp rút hồ sơ");
    return buf;
}

/* mc_event_rated - the level only: the comment stays in the rating row */
const char *mc_event_rated(char *buf, size_t size, const char *level_text)
{
    snprintf(buf, size, "Người nộp đánh giá: %s", level_text);
    return buf;
}
