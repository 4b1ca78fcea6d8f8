/*
 * cli_print - receipts, refusals and status answers as people read them
 * (laid out like the one-stop forms of Thông tư 01/2018/TT-VPCP: Mẫu số 01
 * for the receipt, Mẫu số 03 for the refusal) and as one-line JSON for
 * scripts.
 *
 * Contract: printing never fails the command (stdout errors are noticed
 * once, by mc_cli_main, through ferror). Text from the reply is printed as
 * received; JSON output is always valid JSON whatever bytes the reply
 * holds, because a script must be able to parse a hostile reply too.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mc_calendar.h"
#include "mc_json.h"

#define FORM_WIDTH 76 /* columns of the printed form */

/* ---------------------------------------------------------------------- */
/* names and labels                                                        */
/* ---------------------------------------------------------------------- */

/* cli_reason_label - a short Vietnamese description of a reason */
const char *cli_reason_label(int reason)
{
    switch (reason) {
    case MOTCUA__V1__REASON__REASON_MALFORMED: return "Yêu cầu không đúng cấu trúc";
    case MOTCUA__V1__REASON__REASON_TOO_LARGE: return "Vượt quá giới hạn cho phép";
    case MOTCUA__V1__REASON__REASON_MISSING_FIELD: return "Thiếu thông tin bắt buộc";
    case MOTCUA__V1__REASON__REASON_INVALID_FORMAT: return "Thông tin không đúng định dạng";
    case MOTCUA__V1__REASON__REASON_INVALID_UTF8: return "Văn bản không hợp lệ (UTF-8)";
    case MOTCUA__V1__REASON__REASON_UNKNOWN_PROCEDURE: return "Thủ tục không có trong danh mục";
    case MOTCUA__V1__REASON__REASON_UNKNOWN_WARD:
        return "Phường/xã không thuộc phạm vi tiếp nhận";
    case MOTCUA__V1__REASON__REASON_CHANNEL_NOT_ALLOWED:
        return "Thủ tục không được nộp qua kênh này";
    case MOTCUA__V1__REASON__REASON_MISSING_DOCUMENT: return "Thiếu thành phần hồ sơ";
    case MOTCUA__V1__REASON__REASON_DUPLICATE_SUBMISSION:
        return "Mã nộp hồ sơ đã được dùng cho hồ sơ khác";
    case MOTCUA__V1__REASON__REASON_NOT_FOUND: return "Không tìm thấy hồ sơ";
    case MOTCUA__V1__REASON__REASON_FORBIDDEN: return "Không có quyền thực hiện";
    case MOTCUA__V1__REASON__REASON_UNAVAILABLE: return "Hệ thống tạm thời không sẵn sàng";
    case MOTCUA__V1__REASON__REASON_SHUTTING_DOWN: return "Hệ thống đang tạm dừng";
    case MOTCUA__V1__REASON__REASON_INTERNAL: return "Lỗi nội bộ của hệ thống";
    case MOTCUA__V1__REASON__REASON_WRONG_STATE:
        return "Trạng thái hồ sơ không cho phép yêu cầu này";
    case MOTCUA__V1__REASON__REASON_ALREADY_RATED: return "Hồ sơ đã được đánh giá";
    case MOTCUA__V1__REASON__REASON_SUPPLEMENT_ALREADY_REQUESTED:
        return "Hồ sơ đã được yêu cầu bổ sung một lần";
    default: return "Không rõ lý do";
    }
}

/* cli_state_label - the Vietnamese label of a dossier state */
const char *cli_state_label(int state)
{
    switch (state) {
    case MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_RECEIVED: return "Đã tiếp nhận";
    case MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_ROUTED: return "Đã chuyển bộ phận xử lý";
    case MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_IN_PROGRESS: return "Đang giải quyết";
    case MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_WAITING_SUPPLEMENT:
        return "Chờ bổ sung hồ sơ";
    case MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_RESULT_READY: return "Đã có kết quả";
    case MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_DELIVERED: return "Đã trả kết quả";
    case MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_WITHDRAWN: return "Công dân đã rút hồ sơ";
    case MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_REFUSED: return "Từ chối giải quyết";
    case MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_RETURNED:
        return "Đã trả lại hồ sơ (không bổ sung trong thời hạn)";
    case MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_PENDING_ACCEPTANCE: return "Chờ tiếp nhận";
    default: return "Không xác định";
    }
}

/* cli_channel_label - the Vietnamese name of a channel */
const char *cli_channel_label(int channel)
{
    switch (channel) {
    case MOTCUA__V1__CHANNEL__CHANNEL_DIRECT: return "Trực tiếp";
    case MOTCUA__V1__CHANNEL__CHANNEL_ONLINE: return "Trực tuyến";
    case MOTCUA__V1__CHANNEL__CHANNEL_POSTAL: return "Bưu chính công ích";
    default: return "Không xác định";
    }
}

/* cli_form_label - the Vietnamese name of a document form */
const char *cli_form_label(int form)
{
    switch (form) {
    case MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_ORIGINAL: return "Bản chính";
    case MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_CERTIFIED_COPY: return "Bản sao có chứng thực";
    case MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_ELECTRONIC: return "Bản điện tử";
    default: return "Bản sao"; /* UNSPECIFIED is "treated as an ordinary copy" */
    }
}

/* channel_name - the YAML spelling of a channel, for JSON */
static const char *channel_name(int channel)
{
    switch (channel) {
    case MOTCUA__V1__CHANNEL__CHANNEL_DIRECT: return "direct";
    case MOTCUA__V1__CHANNEL__CHANNEL_ONLINE: return "online";
    case MOTCUA__V1__CHANNEL__CHANNEL_POSTAL: return "postal";
    default: return "unspecified";
    }
}

/* form_name - the YAML spelling of a document form */
static const char *form_name(int form)
{
    switch (form) {
    case MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_ORIGINAL: return "original";
    case MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_CERTIFIED_COPY: return "certified_copy";
    case MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_COPY: return "copy";
    case MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_ELECTRONIC: return "electronic";
    default: return "unspecified";
    }
}

/* ---------------------------------------------------------------------- */
/* text helpers                                                            */
/* ---------------------------------------------------------------------- */

/* or_dash - a placeholder for an empty field, so the form has no holes */
static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

/* columns - display width of UTF-8 text, one column per code point (Vietnamese
 * text arrives precomposed, NFC, so this is right for it) */
static size_t columns(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* center - a line with text centred on the form */
static void center(FILE *out, const char *text)
{
    size_t w = columns(text);
    int pad = w < FORM_WIDTH ? (int)(FORM_WIDTH - w) / 2 : 0;
    fprintf(out, "%*s%s\n", pad, "", text);
}

/* rule - a horizontal line across the form */
static void rule(FILE *out)
{
    for (int i = 0; i < FORM_WIDTH; i++)
        fputc('-', out);
    fputc('\n', out);
}

/* format_vnd - "1.500.000 đồng" (Vietnamese groups thousands with dots) */
static const char *format_vnd(uint64_t amount, char *buf, size_t size)
{
    if (amount == 0) {
        snprintf(buf, size, "Không thu");
        return buf;
    }
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%" PRIu64, amount);
    char grouped[48];
    int g = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            grouped[g++] = '.';
        grouped[g++] = digits[i];
    }
    grouped[g] = '\0';
    snprintf(buf, size, "%s đồng", grouped);
    return buf;
}

/* ---------------------------------------------------------------------- */
/* text output                                                             */
/* ---------------------------------------------------------------------- */

/* cli_print_receipt - the receipt laid out like Mẫu số 01 */
void cli_print_receipt(FILE *out, const Motcua__V1__Receipt *r)
{
    char when[96], due[96], fee[64], line[512];
    rule(out);
    center(out, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM");
    center(out, "Độc lập - Tự do - Hạnh phúc");
    fputc('\n', out);
    center(out, or_dash(r->receiving_unit_name));
    fputc('\n', out);
    bool pending = r->state == MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_PENDING_ACCEPTANCE;
    center(out, pending ? "XÁC NHẬN ĐÃ NHẬN HỒ SƠ TRỰC TUYẾN (CHỜ TIẾP NHẬN)"
                        : "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ");
    snprintf(line, sizeof line, "Mã hồ sơ: %s", or_dash(r->dossier_code));
    center(out, line);
    fputc('\n', out);
    fprintf(out, "Cơ quan tiếp nhận: %s (mã định danh %s)\n", or_dash(r->receiving_unit_name),
            or_dash(r->receiving_unit_code));
    if (r->forward_due_at) { /* boundary-free reception: received here for another ward */
        char fwd[96];
        fprintf(out, "Hồ sơ tiếp nhận không phụ thuộc địa giới hành chính: chuyển đến đơn vị có "
                     "thẩm quyền (mã định danh %s) trước %s; kết quả trả tại nơi ghi ở mục 6\n",
                or_dash(r->competent_unit_code), mc_format_local(r->forward_due_at, fwd, sizeof fwd));
    }
    fprintf(out, "Tiếp nhận hồ sơ của:\n");
    fprintf(out, "  Ông/Bà: %s\n", or_dash(r->applicant_name));
    fprintf(out, "  Địa chỉ: %s\n", or_dash(r->applicant_address));
    fprintf(out, "  Nội dung yêu cầu giải quyết: %s (mã thủ tục %s)\n", or_dash(r->procedure_name),
            or_dash(r->procedure_code));
    fprintf(out, "  Kênh tiếp nhận: %s\n", cli_channel_label(r->channel));
    fprintf(out, "1. Thành phần hồ sơ nộp gồm:\n");
    if (r->n_documents == 0)
        fprintf(out, "   (không có)\n");
    for (size_t i = 0; i < r->n_documents; i++) {
        const Motcua__V1__ReceivedDocument *d = r->documents[i];
        fprintf(out, "   %zu) %s - %s, %02u bản\n", i + 1, or_dash(d->name),
                cli_form_label(d->form), d->copies ? d->copies : 1);
    }
    fprintf(out, "2. Số lượng hồ sơ: %02u\n", r->document_count);
    fprintf(out, "3. Thời gian giải quyết theo quy định: %s\n", or_dash(r->processing_time));
    fprintf(out, "4. Thời gian nhận hồ sơ: %s\n",
            r->received_at ? mc_format_local(r->received_at, when, sizeof when) : "-");
    if (r->due_text && *r->due_text)
        snprintf(due, sizeof due, "%s", r->due_text);
    else if (r->due_at)
        mc_format_local(r->due_at, due, sizeof due);
    else
        snprintf(due, sizeof due, "-");
    if (pending) /* Nghị định 118/2025 Điều 17: the time counts from acceptance */
        fprintf(out, "5. Thời gian trả kết quả: chưa có; hồ sơ chờ tiếp nhận, hạn tiếp nhận %s; "
                     "thời hạn giải quyết tính từ khi tiếp nhận\n", or_dash(r->accept_due_text));
    else
        fprintf(out, "5. Thời gian trả kết quả: %s\n", due);
    fprintf(out, "6. Nơi trả kết quả: %s\n", or_dash(r->delivery));
    fprintf(out, "7. Phí/lệ phí: %s\n", format_vnd(r->fee_vnd, fee, sizeof fee));
    fprintf(out, "Người tiếp nhận: %s\n",
            r->received_by && *r->received_by ? r->received_by : "Hệ thống tiếp nhận trực tuyến");
    fprintf(out, "Bộ phận xử lý: %s\n", or_dash(r->handling_department));
    if (r->secret && *r->secret) /* for the applicant only: follow-ups through the portal */
        fprintf(out, "Mã bí mật của hồ sơ (chỉ người nộp giữ): %s\n", r->secret);
    fprintf(out, "Mã nộp (submission_id): %s\n", or_dash(r->submission_id));
    fputc('\n', out);
    /* literal spacing: printf widths count bytes, not columns */
    fprintf(out, "        NGƯỜI NỘP HỒ SƠ                     NGƯỜI TIẾP NHẬN HỒ SƠ\n");
    rule(out);
}

/* cli_print_rejection - the refusal laid out like Mẫu số 03; missing documents
 * are not a refusal but the one written guidance to complete the dossier (Mẫu số 02) */
void cli_print_rejection(FILE *out, const Motcua__V1__Rejection *j)
{
    char name[64];
    rule(out);
    if (j->retryable) {
        /* a passing failure is not a refusal of the dossier: do not print
         * a form that tells the applicant it was refused */
        center(out, "HỒ SƠ CHƯA ĐƯỢC TIẾP NHẬN - VUI LÒNG GỬI LẠI SAU");
    } else if (j->reason == MOTCUA__V1__REASON__REASON_MISSING_DOCUMENT) {
        center(out, "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ");
    } else {
        center(out, "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ");
    }
    fputc('\n', out);
    fprintf(out, "Lý do: %s - %s\n", mc_cli_reason_name(j->reason, name, sizeof name),
            cli_reason_label(j->reason));
    if (j->field && *j->field)
        fprintf(out, "Thông tin liên quan: %s\n", j->field);
    fprintf(out, "Nội dung: %s\n", or_dash(j->message));
    for (size_t i = 0; i < j->n_missing; i++)
        fprintf(out, "  %zu. %s (mã %s): %s\n", i + 1, or_dash(j->missing[i]->name),
                or_dash(j->missing[i]->document_type), or_dash(j->missing[i]->reason));
    if (j->retryable) {
        fprintf(out, "Hồ sơ chưa được lưu. Gửi lại cùng nội dung và cùng submission_id");
        if (j->retry_after_ms)
            fprintf(out, " sau %u ms", j->retry_after_ms);
        fprintf(out, ".\n");
    } else {
        fprintf(out, "Đề nghị bổ sung, hoàn thiện thông tin nêu trên rồi nộp lại.\n");
    }
    rule(out);
}

/* cli_print_status - state, dates and history of one dossier */
void cli_print_status(FILE *out, const Motcua__V1__DossierStatus *s)
{
    char name[64], when[96], iso[64];
    fprintf(out, "Mã hồ sơ: %s\n", or_dash(s->dossier_code));
    fprintf(out, "Trạng thái: %s (%s)\n", cli_state_label(s->state),
            mc_cli_state_name(s->state, name, sizeof name));
    fprintf(out, "Thủ tục: %s - %s\n", or_dash(s->procedure_code), or_dash(s->procedure_name));
    fprintf(out, "Kênh tiếp nhận: %s\n", cli_channel_label(s->channel));
    if (s->ward_code && *s->ward_code)
        fprintf(out, "Phường/xã: %s\n", s->ward_code);
    if (s->receiving_ward_code && *s->receiving_ward_code) /* boundary-free reception */
        fprintf(out, "Hồ sơ tiếp nhận tại phường/xã %s, chuyển đến phường/xã %s (có thẩm quyền)\n",
                s->receiving_ward_code, or_dash(s->ward_code));
    fprintf(out, "Thời gian nhận hồ sơ: %s\n",
            s->received_at ? mc_format_local(s->received_at, when, sizeof when) : "-");
    if (s->state == MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_PENDING_ACCEPTANCE)
        fprintf(out, "Thời gian hẹn trả kết quả: chưa có (chờ tiếp nhận; tính từ khi tiếp nhận)\n");
    else
        fprintf(out, "Thời gian hẹn trả kết quả: %s\n",
                s->due_at ? mc_format_local(s->due_at, when, sizeof when) : "-");
    fprintf(out, "Quá trình xử lý:\n");
    if (s->n_history == 0)
        fprintf(out, "  (chưa có)\n");
    for (size_t i = 0; i < s->n_history; i++) {
        const Motcua__V1__StatusEvent *e = s->history[i];
        fprintf(out, "  %s  %s  %s", mc_format_iso(e->at, iso, sizeof iso), or_dash(e->kind),
                or_dash(e->actor));
        if (e->detail && *e->detail)
            fprintf(out, "  %s", e->detail);
        fputc('\n', out);
    }
}

/* ---------------------------------------------------------------------- */
/* JSON output                                                             */
/* ---------------------------------------------------------------------- */

/* kv_str - ,"key":"value" (first == 1 leaves out the comma) */
static void kv_str(FILE *out, int first, const char *key, const char *value)
{
    fprintf(out, "%s\"%s\":", first ? "" : ",", key);
    mc_cli_json_string(out, value);
}

/* kv_int - ,"key":number */
static void kv_int(FILE *out, const char *key, int64_t value)
{
    fprintf(out, ",\"%s\":%" PRId64, key, value);
}

/* kv_time - ,"key":seconds,"key_local":"ISO 8601 in Vietnam time" */
static void kv_time(FILE *out, const char *key, int64_t value)
{
    char iso[64], k[64];
    kv_int(out, key, value);
    snprintf(k, sizeof k, "%s_local", key);
    kv_str(out, 0, k, value ? mc_format_iso(value, iso, sizeof iso) : "");
}

/* cli_json_receipt - the receipt as one line of JSON */
void cli_json_receipt(FILE *out, const Motcua__V1__Receipt *r)
{
    char state[64];
    fputc('{', out);
    kv_str(out, 1, "result", "receipt");
    kv_str(out, 0, "dossier_code", r->dossier_code);
    kv_str(out, 0, "submission_id", r->submission_id);
    kv_str(out, 0, "receiving_unit_code", r->receiving_unit_code);
    kv_str(out, 0, "receiving_unit_name", r->receiving_unit_name);
    kv_str(out, 0, "competent_unit_code", r->competent_unit_code);
    kv_time(out, "forward_due_at", r->forward_due_at);
    kv_str(out, 0, "ward_code", r->ward_code);
    kv_str(out, 0, "procedure_code", r->procedure_code);
    kv_str(out, 0, "procedure_name", r->procedure_name);
    kv_str(out, 0, "applicant_name", r->applicant_name);
    kv_str(out, 0, "applicant_address", r->applicant_address);
    kv_str(out, 0, "channel", channel_name(r->channel));
    fputs(",\"documents\":[", out);
    for (size_t i = 0; i < r->n_documents; i++) {
        const Motcua__V1__ReceivedDocument *d = r->documents[i];
        fputs(i ? ",{" : "{", out);
        kv_str(out, 1, "name", d->name);
        kv_str(out, 0, "form", form_name(d->form));
        kv_int(out, "copies", d->copies);
        fputc('}', out);
    }
    fputc(']', out);
    kv_int(out, "document_count", r->document_count);
    kv_str(out, 0, "processing_time", r->processing_time);
    kv_time(out, "received_at", r->received_at);
    kv_time(out, "counted_from", r->counted_from);
    kv_time(out, "due_at", r->due_at);
    kv_str(out, 0, "due_text", r->due_text);
    kv_str(out, 0, "state", mc_cli_state_name(r->state, state, sizeof state));
    kv_time(out, "accept_due_at", r->accept_due_at);
    kv_str(out, 0, "accept_due_text", r->accept_due_text);
    kv_str(out, 0, "delivery", r->delivery);
    kv_str(out, 0, "received_by", r->received_by);
    fprintf(out, ",\"fee_vnd\":%" PRIu64, r->fee_vnd);
    kv_str(out, 0, "handling_department", r->handling_department);
    kv_str(out, 0, "secret", r->secret);
    fputs("}\n", out);
}

/* cli_json_rejection - the rejection as one line of JSON */
void cli_json_rejection(FILE *out, const Motcua__V1__Rejection *j)
{
    char name[64];
    fputc('{', out);
    kv_str(out, 1, "result", "rejection");
    kv_str(out, 0, "reason", mc_cli_reason_name(j->reason, name, sizeof name));
    kv_str(out, 0, "field", j->field);
    kv_str(out, 0, "message", j->message);
    fprintf(out, ",\"retryable\":%s", j->retryable ? "true" : "false");
    kv_int(out, "retry_after_ms", j->retry_after_ms);
    fputs(",\"missing\":[", out);
    for (size_t i = 0; i < j->n_missing; i++) {
        fputs(i ? ",{" : "{", out);
        kv_str(out, 1, "document_type", j->missing[i]->document_type);
        kv_str(out, 0, "name", j->missing[i]->name);
        kv_str(out, 0, "reason", j->missing[i]->reason);
        fputc('}', out);
    }
    fputs("]}\n", out);
}

/* cli_json_status - the status answer as one line of JSON */
void cli_json_status(FILE *out, const Motcua__V1__DossierStatus *s)
{
    char name[64];
    fputc('{', out);
    kv_str(out, 1, "result", "status");
    kv_str(out, 0, "dossier_code", s->dossier_code);
    kv_str(out, 0, "state", mc_cli_state_name(s->state, name, sizeof name));
    kv_str(out, 0, "state_label", cli_state_label(s->state));
    kv_str(out, 0, "procedure_code", s->procedure_code);
    kv_str(out, 0, "procedure_name", s->procedure_name);
    kv_str(out, 0, "channel", channel_name(s->channel));
    kv_str(out, 0, "ward_code", s->ward_code);
    kv_str(out, 0, "receiving_ward_code", s->receiving_ward_code);
    kv_time(out, "received_at", s->received_at);
    kv_time(out, "due_at", s->due_at);
    fputs(",\"history\":[", out);
    for (size_t i = 0; i < s->n_history; i++) {
        const Motcua__V1__StatusEvent *e = s->history[i];
        fputs(i ? ",{" : "{", out);
        fprintf(out, "\"at\":%" PRId64, e->at);
        kv_str(out, 0, "actor", e->actor);
        kv_str(out, 0, "kind", e->kind);
        kv_str(out, 0, "detail", e->detail);
        fputc('}', out);
    }
    fputs("]}\n", out);
}

/* cli_json_error - a failure scripts must see on stdout too */
void cli_json_error(FILE *out, const char *kind, const char *message)
{
    fputc('{', out);
    kv_str(out, 1, "result", kind);
    kv_str(out, 0, "message", message);
    fputs("}\n", out);
}

/* cli_ask - mc_cli_exchange, and the JSON error when no usable reply came */
int cli_ask(const mc_cli_ctx_t *ctx, const mc_cfg_t *cfg,
            const Motcua__V1__IntakeRequest *request, bool json, Motcua__V1__IntakeReply **reply)
{
    int status = mc_cli_exchange(ctx, cfg, request, reply);
    if (status != MC_CLI_EX_OK && json)
        cli_json_error(stdout, status == MC_CLI_EX_RETRY ? "no_reply" : "error",
                       status == MC_CLI_EX_RETRY ? "no reply from the intake daemon"
                                              : "bad reply from the intake daemon");
    return status;
}

/* cli_unexpected - a reply of the wrong kind, told to people and scripts */
int cli_unexpected(const mc_cli_ctx_t *ctx, bool json, const char *what)
{
    fprintf(stderr, "%s: %s\n", ctx->progname, what);
    if (json)
        cli_json_error(stdout, "error", "unexpected reply");
    return MC_CLI_EX_FAIL;
}
